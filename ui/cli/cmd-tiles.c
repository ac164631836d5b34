/* cmd-tiles.c — `fleet-twin-cli city bake-tiles`: render a city pack's
 * streets, water, parks and (optionally) zones into an MBTiles file with the
 * tile baker in src/city/ft-tiles.c, with a progress bar on a terminal.
 */
#include "ft-config.h"
#include "ft-cli.h"
#include "ft-tiles.h"

#include <stdio.h>

static gboolean
bake_progress (double fraction, gpointer data)
{
  ft_cli_progress ("baking tiles", fraction);
  return TRUE;
}

int
ft_cli_city_bake_tiles (int argc, char **argv)
{
  g_autofree char *out = NULL, *params = NULL;
  int zmin = 12, zmax = 17;
  gboolean zones = FALSE, demo = FALSE, force = FALSE;
  GOptionEntry entries[] = {
    { "force",  0,   0, G_OPTION_ARG_NONE,     &force,  "Replace --out even when it is not Fleet Twin's tiles", NULL },
    { "out",    'o', 0, G_OPTION_ARG_FILENAME, &out,    "MBTiles file to write (default: PACK/tiles.mbtiles)", "FILE" },
    { "zmin",   0,   0, G_OPTION_ARG_INT,      &zmin,   "Lowest zoom (default 12)", "Z" },
    { "zmax",   0,   0, G_OPTION_ARG_INT,      &zmax,   "Highest zoom (default 17)", "Z" },
    { "zones",  0,   0, G_OPTION_ARG_NONE,     &zones,  "Draw demand zones and no-parking geofences", NULL },
    { "demo",   0,   0, G_OPTION_ARG_NONE,     &demo,   "Bake Demo City instead of a pack folder", NULL },
    { "params", 0,   0, G_OPTION_ARG_FILENAME, &params, "Demo City parameter file (with --demo)", "INI" },
    { NULL }
  };
  g_autoptr(GOptionContext) ctx = g_option_context_new ("[PACK_DIR] — bake offline map tiles");
  g_autoptr(GError) error = NULL;
  g_option_context_add_main_entries (ctx, entries, NULL);
  if (!g_option_context_parse (ctx, &argc, &argv, &error))
    {
      fprintf (stderr, "%s: %s\n", argv[0], error->message);
      return 2;
    }
  if ((!demo && argc != 2) || (demo && argc != 1))
    {
      fprintf (stderr, "%s: give one city pack folder, or --demo\n", argv[0]);
      return 2;
    }

  g_autoptr(FtCity) city = NULL;
  if (demo)
    city = params ? ft_city_generate_demo (params, &error) : ft_city_new_demo ();
  else
    city = ft_city_load (argv[1], &error);
  if (city == NULL)
    {
      fprintf (stderr, "%s: %s\n", argv[0], error ? error->message : "cannot build the city");
      return 1;
    }
  if (out == NULL)
    {
      if (demo)
        {
          fprintf (stderr, "%s: --demo needs --out FILE\n", argv[0]);
          return 2;
        }
      out = g_build_filename (argv[1], "tiles.mbtiles", NULL);
    }

  gint64 t0 = g_get_monotonic_time ();
  FtTilesExtras extras = { .force = force };
  if (!ft_tiles_bake_full (city, &extras, out, zmin, zmax, zones, bake_progress, NULL, &error))
    {
      ft_cli_progress_done ();
      fprintf (stderr, "%s: %s\n", argv[0], error->message);
      return 1;
    }
  ft_cli_progress_done ();
  g_autoptr(FtTiles) t = ft_tiles_open (out, &error);
  guint n = 0;
  for (int z = zmin; t && z <= zmax; z++)
    n += ft_tiles_count (t, z);
  printf ("%s: %u tiles, zooms %d-%d, %.2f s\n", out, n, zmin, zmax,
          (g_get_monotonic_time () - t0) / 1e6);
  return 0;
}
