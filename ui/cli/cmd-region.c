/* cmd-region.c — `fleet-twin-cli region launch`: the region launch
 * playbook (src/region) from the command line, with the fleet sweep run
 * here on the simulator (src/ never sees sim/).
 */
#include "ft-config.h"
#include "ft-cli.h"
#include "ft-region.h"
#include "ft-sim-world.h"

#include <gsl/gsl_errno.h>
#include <stdio.h>
#include <string.h>

static void
on_step (const char *step, gpointer user_data)
{
  fprintf (stderr, "region launch: %s\n", step);
}

static int
region_launch (int argc, char **argv)
{
  g_autofree char *osm = NULL, *trips = NULL, *mapping = NULL, *gbfs = NULL, *policy = NULL;
  g_autofree char *tz = NULL, *out = NULL, *name = NULL;
  double per_day = 0, max_outside = 2000, target = 0.85;
  int zmax = 15, sweep = 4;
  gboolean force = FALSE;
  GOptionEntry entries[] = {
    { "osm", 0, 0, G_OPTION_ARG_FILENAME, &osm, "OpenStreetMap extract (.osm.pbf), required", "FILE" },
    { "trips", 0, 0, G_OPTION_ARG_FILENAME, &trips, "Trip data (CSV or MDS trips JSON)", "FILE" },
    { "mapping", 'm', 0, G_OPTION_ARG_FILENAME, &mapping, "Trip CSV column mapping: a built-in name or a mapping file", "NAME|FILE" },
    { "gbfs", 0, 0, G_OPTION_ARG_FILENAME, &gbfs, "GBFS 2.3/3.0 snapshot (folder or vehicles file)", "PATH" },
    { "policy", 0, 0, G_OPTION_ARG_FILENAME, &policy, "Policy geometry: GeoJSON with zone_type, MDS Geography or GBFS geofencing_zones", "FILE" },
    { "tz", 0, 0, G_OPTION_ARG_STRING, &tz, "Time zone (IANA); default: from the extract's position", "ZONE" },
    { "name", 'n', 0, G_OPTION_ARG_STRING, &name, "Region name (default: the extract's file name)", "NAME" },
    { "requests-per-day", 'r', 0, G_OPTION_ARG_DOUBLE, &per_day, "Scale demand to this many requests a day", "N" },
    { "max-outside", 0, 0, G_OPTION_ARG_DOUBLE, &max_outside, "Leave out snapshot vehicles farther outside the operating area (m, default 2000)", "M" },
    { "target-served", 0, 0, G_OPTION_ARG_DOUBLE, &target, "Share of requests the recommended fleet must serve (default 0.85)", "X" },
    { "sweep", 0, 0, G_OPTION_ARG_INT, &sweep, "Fleet sizes to simulate (0-6, default 4)", "N" },
    { "tiles-zmax", 0, 0, G_OPTION_ARG_INT, &zmax, "Highest tile zoom (12-17; 0: no tiles; default 15)", "Z" },
    { "out", 'o', 0, G_OPTION_ARG_FILENAME, &out, "The region folder to write, required", "DIR" },
    { "force", 0, 0, G_OPTION_ARG_NONE, &force, "Replace an existing folder that is not a region folder", NULL },
    { NULL }
  };
  g_autoptr (GOptionContext) ctx = g_option_context_new ("— build a region folder from raw inputs");
  g_option_context_add_main_entries (ctx, entries, NULL);
  g_option_context_set_description (ctx,
    "Writes OUT/: city/ (pack with tiles), geofences.json, fleet/, models/, launch.scenario,\n"
    "checklist.txt and checklist.pdf. Nothing is written when an input is refused.\n");
  g_autoptr (GError) error = NULL;
  if (!g_option_context_parse (ctx, &argc, &argv, &error))
    {
      fprintf (stderr, "fleet-twin-cli region launch: %s\n", error->message);
      return 2;
    }
  if (osm == NULL || out == NULL || argc > 1 || sweep < 0 || sweep > 6 || (zmax != 0 && (zmax < 12 || zmax > 17)))
    {
      fprintf (stderr, "usage: fleet-twin-cli region launch --osm FILE --out DIR [--trips FILE] "
                       "[--gbfs PATH] [--policy FILE] [--tz ZONE] (see --help)\n");
      return 2;
    }
  gsl_set_error_handler_off ();
  FtRegionInputs in;
  ft_region_inputs_init (&in);
  in.name = name;
  in.osm_path = osm;
  in.trips_path = trips;
  in.trips_mapping = mapping;
  in.gbfs_path = gbfs;
  in.policy_path = policy;
  in.time_zone = tz;
  in.requests_per_day = per_day;
  in.max_outside_m = max_outside;
  in.target_served = target;
  in.sweep_points = (guint) sweep;
  in.tiles_zmax = zmax;
  in.out_dir = out;
  in.force = force;
  g_autoptr (FtRegionReport) r = ft_region_launch (&in, ft_sim_world_region_sweep, on_step, NULL, &error);
  if (r == NULL)
    {
      fprintf (stderr, "fleet-twin-cli region launch: %s\n", error->message);
      return 1;
    }
  g_autofree char *text = ft_region_report_text (r);
  fputs (text, stdout);
  printf ("\nregion folder written to %s (checklist.txt, checklist.pdf)\n", out);
  return 0;
}

int
ft_cli_region (int argc, char **argv)
{
  if (argc >= 2 && strcmp (argv[1], "launch") == 0)
    {
      argv[1] = (char *) "fleet-twin-cli region launch";
      return region_launch (argc - 1, argv + 1);
    }
  fprintf (stderr, "usage: fleet-twin-cli region launch --osm FILE --out DIR [options]\n");
  return 2;
}
