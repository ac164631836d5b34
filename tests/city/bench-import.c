/* bench-import.c — OpenStreetMap import time (median of runs) and, unless
 * --no-tiles, tile-baking time for zooms 12-17 of the imported city, on
 * Monaco from the shared data by default.
 *   bench-import [FILE.osm.pbf] [--runs R] [--no-tiles]
 */
#include "ft-config.h"
#include "ft-test.h"
#include "ft-city.h"
#include "ft-tiles.h"

#include <stdio.h>
#include <string.h>
#include <glib/gstdio.h>

int
main (int argc, char **argv)
{
  int runs = 3;
  gboolean no_tiles = FALSE;
  GOptionEntry entries[] = {
    { "runs", 'r', 0, G_OPTION_ARG_INT, &runs, "Import runs; the median is printed (default 3)", "R" },
    { "no-tiles", 0, 0, G_OPTION_ARG_NONE, &no_tiles, "Skip the tile bake", NULL },
    { NULL }
  };
  g_autoptr(GOptionContext) ctx = g_option_context_new ("[FILE.osm.pbf] — OSM import and tile-baking time");
  g_option_context_add_main_entries (ctx, entries, NULL);
  g_autoptr(GError) error = NULL;
  if (!g_option_context_parse (ctx, &argc, &argv, &error) || runs < 1)
    {
      fprintf (stderr, "%s\n", error ? error->message : "bad arguments");
      return 2;
    }
  g_autofree char *def = ft_test_shared_path ("osm/monaco.osm.pbf");
  const char *pbf = argc > 1 ? argv[1] : def;
  double *t = g_new (double, runs);
  FtCity *city = NULL;
  FtOsmStats st = { 0 };
  for (int r = 0; r < runs; r++)
    {
      ft_city_free (city);
      gint64 t0 = g_get_monotonic_time ();
      city = ft_city_import_osm_full (pbf, "bench", FT_UTC_OFFSET_ESTIMATE, NULL, NULL, &st, &error);
      t[r] = (g_get_monotonic_time () - t0) / 1e6;
      if (city == NULL)
        {
          fprintf (stderr, "%s\n", error->message);
          g_free (t);
          return 1;
        }
    }
  qsort (t, runs, sizeof (double), ft_test_cmp_double);
  printf ("%s: %u OSM nodes, %u ways -> %u street nodes (largest piece %.2f%%), graph %u nodes, %u edges\n",
          pbf, st.osm_nodes, st.osm_ways, st.street_nodes, 100 * st.largest_share,
          city->graph.n_nodes, city->graph.n_edges);
  printf ("import: median %.3f s over %d runs (min %.3f, max %.3f)\n", t[runs / 2], runs, t[0], t[runs - 1]);
  if (!no_tiles)
    {
      g_autofree char *tmp = g_dir_make_tmp ("ft-bench-import-XXXXXX", NULL);
      g_autofree char *out = g_build_filename (tmp, "tiles.mbtiles", NULL);
      gint64 t0 = g_get_monotonic_time ();
      if (!ft_tiles_bake (city, out, 12, 17, FALSE, NULL, NULL, &error))
        {
          fprintf (stderr, "tiles: %s\n", error->message);
          return 1;
        }
      double tb = (g_get_monotonic_time () - t0) / 1e6;
      guint n = 0;
      g_autoptr(FtTiles) tiles = ft_tiles_open (out, NULL);
      for (int z = 12; tiles && z <= 17; z++)
        n += ft_tiles_count (tiles, z);
      printf ("tiles z12-17: %u tiles in %.2f s (%.0f tiles/s)\n", n, tb, n / tb);
      g_unlink (out);
      g_rmdir (tmp);
    }
  ft_city_free (city);
  g_free (t);
  return 0;
}
