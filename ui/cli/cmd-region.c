/* cmd-region.c — `fleet-twin-cli region launch`: the region launch
 * playbook (src/region) from the command line, with the fleet sweep run
 * here on the simulator (src/ never sees sim/); `region init`,
 * `retention` and `report`: a region's data folder, its retention job and
 * the cross-region report from aggregates (src/region/ft-region-data.h).
 */
#include "ft-config.h"
#include "ft-cli.h"
#include "ft-region.h"
#include "ft-region-data.h"
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

static int
region_init (int argc, char **argv)
{
  g_autofree char *name = NULL, *jur = NULL;
  GOptionEntry entries[] = {
    { "name", 'n', 0, G_OPTION_ARG_STRING, &name, "Region name (default: the folder's name)", "NAME" },
    { "jurisdiction", 'j', 0, G_OPTION_ARG_STRING, &jur, "Data-protection law: GDPR, UK-GDPR, DPDP, CCPA, LGPD (required)", "LAW" },
    { NULL }
  };
  g_autoptr(GOptionContext) ctx = g_option_context_new ("DIR — make DIR a region's data folder");
  g_autoptr(GError) error = NULL;
  g_autofree char *base = NULL;

  g_option_context_add_main_entries (ctx, entries, NULL);
  g_option_context_set_description (ctx,
    "Writes DIR/region.ini (name, jurisdiction, the jurisdiction's retention defaults)\n"
    "and DIR/data/, where the region's stores live. A DIR that already belongs to\n"
    "another region is refused.\n");
  if (!g_option_context_parse (ctx, &argc, &argv, &error))
    {
      fprintf (stderr, "%s: %s\n", argv[0], error->message);
      return 2;
    }
  if (argc != 2 || jur == NULL)
    {
      fprintf (stderr, "usage: fleet-twin-cli region init DIR --jurisdiction LAW [--name NAME]\n");
      return 2;
    }
  base = g_path_get_basename (argv[1]);
  if (!ft_region_policy_init (argv[1], name ? name : base, jur, &error))
    {
      fprintf (stderr, "%s: %s\n", argv[0], error->message);
      return 1;
    }
  printf ("region %s (%s): %s/region.ini, stores in %s/data/\n", name ? name : base, jur,
          argv[1], argv[1]);
  return 0;
}

static int
region_retention (int argc, char **argv)
{
  g_autofree char *now_s = NULL;
  GOptionEntry entries[] = {
    { "now", 0, 0, G_OPTION_ARG_STRING, &now_s, "The time to apply the policy at: ms in the stores' clock or ISO 8601 (default: now)", "T" },
    { NULL }
  };
  g_autoptr(GOptionContext) ctx = g_option_context_new ("DIR — apply the region's retention policy");
  g_autoptr(GError) error = NULL;
  g_auto(FtRegionPolicy) p = { 0 };
  gint64 now = 0;
  GArray *res;
  guint i;

  g_option_context_add_main_entries (ctx, entries, NULL);
  g_option_context_set_description (ctx,
    "Deletes raw telemetry older than [retention] telemetry_days and coarsens trip\n"
    "positions older than coarsen_days to a coarsen_m grid, in every store of\n"
    "DIR/data, one transaction per store; logs the counts in each store's\n"
    "retention_log. Running it again changes nothing.\n");
  if (!g_option_context_parse (ctx, &argc, &argv, &error))
    {
      fprintf (stderr, "%s: %s\n", argv[0], error->message);
      return 2;
    }
  if (argc != 2)
    {
      fprintf (stderr, "usage: fleet-twin-cli region retention DIR [--now T]\n");
      return 2;
    }
  if (!ft_cli_parse_time (now_s, &now, &error) || !ft_region_policy_load (argv[1], &p, &error) ||
      (res = ft_region_retention (argv[1], now, &error)) == NULL)
    {
      fprintf (stderr, "%s: %s\n", argv[0], error->message);
      return 1;
    }
  printf ("region %s (%s): telemetry kept %d days, positions coarsened to %g m after %d days\n",
          p.name, p.jurisdiction, p.telemetry_days, p.coarsen_m, p.coarsen_days);
  for (i = 0; i < res->len; i++)
    {
      FtRetentionResult *r = &g_array_index (res, FtRetentionResult, i);
      printf ("%s: removed %" G_GINT64_FORMAT " telemetry events; coarsened %" G_GINT64_FORMAT
              " events and %" G_GINT64_FORMAT " bookings\n", r->store, r->telemetry_removed,
              r->events_coarsened, r->bookings_coarsened);
    }
  if (res->len == 0)
    printf ("no stores in %s/data\n", argv[1]);
  ft_retention_results_free (res);
  return 0;
}

static int
region_report (int argc, char **argv)
{
  gboolean json = FALSE;
  GOptionEntry entries[] = {
    { "json", 0, 0, G_OPTION_ARG_NONE, &json, "JSON instead of a table", NULL },
    { NULL }
  };
  g_autoptr(GOptionContext) ctx = g_option_context_new ("DIR... — compare regions from their aggregates");
  g_autoptr(GError) error = NULL;
  g_autofree char *text = NULL;

  g_option_context_add_main_entries (ctx, entries, NULL);
  g_option_context_set_description (ctx,
    "Reads only each store's aggregate tables (an_*, from `analytics build`) and\n"
    "meta: nothing about a person leaves its region.\n");
  if (!g_option_context_parse (ctx, &argc, &argv, &error))
    {
      fprintf (stderr, "%s: %s\n", argv[0], error->message);
      return 2;
    }
  if (argc < 2)
    {
      fprintf (stderr, "usage: fleet-twin-cli region report DIR... [--json]\n");
      return 2;
    }
  text = ft_region_report_aggregates ((const char *const *) argv + 1, json, &error);
  if (text == NULL)
    {
      fprintf (stderr, "%s: %s\n", argv[0], error->message);
      return 1;
    }
  fputs (text, stdout);
  return 0;
}

int
ft_cli_region (int argc, char **argv)
{
  static const struct { const char *name, *prog; int (*fn) (int, char **); } subs[] = {
    { "launch", "fleet-twin-cli region launch", region_launch },
    { "init", "fleet-twin-cli region init", region_init },
    { "retention", "fleet-twin-cli region retention", region_retention },
    { "report", "fleet-twin-cli region report", region_report },
  };
  guint i;

  for (i = 0; argc >= 2 && i < G_N_ELEMENTS (subs); i++)
    if (strcmp (argv[1], subs[i].name) == 0)
      {
        argv[1] = (char *) subs[i].prog;
        return subs[i].fn (argc - 1, argv + 1);
      }
  fprintf (stderr, "usage: fleet-twin-cli region launch --osm FILE --out DIR [options]\n"
                   "       fleet-twin-cli region init DIR --jurisdiction LAW [--name NAME]\n"
                   "       fleet-twin-cli region retention DIR [--now T]\n"
                   "       fleet-twin-cli region report DIR... [--json]\n");
  return 2;
}
