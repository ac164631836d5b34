/* cmd-import.c — `fleet-twin-cli import-osm FILE --name NAME --out DIR`:
 * builds a city pack from an OpenStreetMap PBF extract (src/city/ft-osm.c),
 * bakes its map tiles (src/city/ft-tiles.c) and writes the pack atomically,
 * with a progress bar on a terminal. A bad or truncated file is refused and
 * leaves nothing behind.
 */
#include "ft-config.h"
#include "ft-cli.h"
#include "ft-city.h"
#include "ft-tiles.h"
#include "ft-file.h"

#include <stdio.h>
#include <string.h>
#include <glib/gstdio.h>

static void
import_progress (double fraction, gpointer data)
{
  ft_cli_progress ("reading OpenStreetMap", fraction);
}

static gboolean
tiles_progress (double fraction, gpointer data)
{
  ft_cli_progress ("baking tiles", fraction);
  return TRUE;
}

int
ft_cli_import_osm (int argc, char **argv)
{
  g_autofree char *name = NULL, *out = NULL;
  gboolean no_tiles = FALSE, force = FALSE;
  int zmin = 12, zmax = 17, utc = FT_UTC_OFFSET_ESTIMATE;
  GOptionEntry entries[] = {
    { "name", 'n', 0, G_OPTION_ARG_STRING, &name, "City name (required)", "NAME" },
    { "out", 'o', 0, G_OPTION_ARG_FILENAME, &out, "City pack folder to write (required)", "DIR" },
    { "utc-offset-min", 0, 0, G_OPTION_ARG_INT, &utc, "Local time offset from UTC in minutes (default: estimated)", "MIN" },
    { "force", 0, 0, G_OPTION_ARG_NONE, &force, "Replace --out even when it is not a city pack", NULL },
    { "no-tiles", 0, 0, G_OPTION_ARG_NONE, &no_tiles, "Do not bake map tiles", NULL },
    { "zmin", 0, 0, G_OPTION_ARG_INT, &zmin, "Lowest tile zoom (default 12)", "Z" },
    { "zmax", 0, 0, G_OPTION_ARG_INT, &zmax, "Highest tile zoom (default 17)", "Z" },
    { NULL }
  };
  g_autoptr(GOptionContext) ctx = g_option_context_new ("FILE.osm.pbf — build a city pack from OpenStreetMap");
  g_option_context_set_description (ctx,
    "Streets for bikes and scooters become the road graph (largest connected piece);\n"
    "the operating area is their convex hull grown by 100 m; demand zones are hexagons;\n"
    "depots are placed by k-means; parks and pedestrian areas become no-parking\n"
    "geofences. The pack is written to a temporary folder beside --out and moved\n"
    "into place when complete; a folder that is not a city pack is refused unless --force.");
  g_option_context_add_main_entries (ctx, entries, NULL);
  g_autoptr(GError) error = NULL;
  if (!g_option_context_parse (ctx, &argc, &argv, &error))
    {
      fprintf (stderr, "%s: %s\n", argv[0], error->message);
      return 2;
    }
  if (argc != 2 || name == NULL || out == NULL)
    {
      fprintf (stderr, "%s: usage: %s FILE.osm.pbf --name NAME --out DIR (see --help)\n", argv[0], argv[0]);
      return 2;
    }
  /* Everything is written into one folder beside --out (tiles included) and
   * moved into place when complete; a killed import leaves a folder that the
   * next import of the same --out sweeps away. */
  g_autoptr(FtOutput) output = ft_output_begin (out, FT_OUTPUT_DIR, ft_city_pack_is_own, force, &error);
  if (output == NULL)
    {
      fprintf (stderr, "%s: %s\n", argv[0], error->message);
      return 1;
    }
  gint64 t0 = g_get_monotonic_time ();
  FtOsmStats stats = { 0 };
  g_autoptr(FtCity) city = ft_city_import_osm_full (argv[1], name, utc, import_progress, NULL, &stats, &error);
  ft_cli_progress_done ();
  if (city == NULL)
    {
      fprintf (stderr, "%s: %s\n", argv[0], error->message);
      return 1;
    }
  double t_import = (g_get_monotonic_time () - t0) / 1e6;
  double t_tiles = 0;
  if (!no_tiles)
    {
      gint64 t1 = g_get_monotonic_time ();
      g_autofree char *tiles = g_build_filename (ft_output_get_path (output), "tiles.mbtiles", NULL);
      if (!ft_tiles_bake (city, tiles, zmin, zmax, FALSE, tiles_progress, NULL, &error))
        {
          ft_cli_progress_done ();
          fprintf (stderr, "%s: baking tiles: %s\n", argv[0], error->message);
          return 1;
        }
      ft_cli_progress_done ();
      g_free (city->tiles_path);
      city->tiles_path = g_steal_pointer (&tiles);
      t_tiles = (g_get_monotonic_time () - t1) / 1e6;
    }
  if (!ft_city_write_pack (city, ft_output_get_path (output), &error) ||
      !ft_output_commit (g_steal_pointer (&output), &error))
    {
      fprintf (stderr, "%s: %s\n", argv[0], error->message);
      return 1;
    }
  printf ("read %u OSM nodes, %u ways (%u streets for bikes); %u street nodes, largest connected "
          "piece %.2f%% of them kept; %u node references outside the extract; "
          "%u park/pedestrian areas, %u water areas\n",
          stats.osm_nodes, stats.osm_ways, stats.road_ways, stats.street_nodes,
          100 * stats.largest_share, stats.refs_outside, stats.parks, stats.water_areas);
  printf ("wrote %s (%s): %u road nodes, %u directed edges, %u zones, %u depots, %u geofences; "
          "import %.2f s%s", out, city->name, city->graph.n_nodes, city->graph.n_edges, city->n_zones,
          city->n_depots, ft_geofences_n_zones (city->geofences), t_import, no_tiles ? "\n" : "");
  if (!no_tiles)
    printf (", tiles z%d-%d %.2f s\n", zmin, zmax, t_tiles);
  return 0;
}
