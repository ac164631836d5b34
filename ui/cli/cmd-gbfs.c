/* cmd-gbfs.c — `fleet-twin-cli gbfs`: inspect a GBFS 2.3/3.0 feed, and
 * export the twin's state as a GBFS 3.0 feed (from an imported feed, or
 * from a scenario run stopped at a chosen moment).
 */
#include "ft-config.h"
#include "ft-cli.h"
#include "ft-gbfs.h"
#include "ft-sim-world.h"

#include <stdio.h>
#include <string.h>

static int
gbfs_info (int argc, char **argv)
{
  g_autoptr(GOptionContext) ctx = g_option_context_new ("PATH — summarise a GBFS feed (folder or file)");
  g_autoptr(GError) error = NULL;
  if (!g_option_context_parse (ctx, &argc, &argv, &error) || argc != 2)
    {
      fprintf (stderr, "%s\n", error ? error->message : "usage: fleet-twin-cli gbfs info PATH");
      return 2;
    }
  g_autoptr(FtGbfsFeed) feed = ft_gbfs_load (argv[1], &error);
  if (feed == NULL)
    {
      fprintf (stderr, "fleet-twin-cli gbfs: %s\n", error->message);
      return 1;
    }
  guint per_kind[FT_N_KINDS] = { 0 };
  for (guint i = 0; i < feed->n_vehicles; i++)
    per_kind[feed->vehicles[i].kind]++;
  printf ("feed:          %s\n", feed->vehicles_file);
  printf ("version:       %s\n", feed->version);
  printf ("system:        %s (%s)\n", feed->system_name ? feed->system_name : "?",
          feed->system_id ? feed->system_id : "?");
  printf ("vehicles:      %u (reserved %u, disabled %u)\n", feed->n_vehicles, feed->n_reserved,
          feed->n_disabled);
  for (int k = 0; k < FT_N_KINDS; k++)
    if (per_kind[k])
      printf ("  %-12s %u\n", ft_vehicle_kind_id ((FtVehicleKind) k), per_kind[k]);
  printf ("stations:      %u\n", feed->n_stations);
  printf ("pricing plans: %u\n", feed->pricing ? ft_pricing_n_plans (feed->pricing) : 0);
  printf ("geofences:     %u zones\n", feed->geofences ? ft_geofences_n_zones (feed->geofences) : 0);
  return 0;
}

/* Run a scenario to `t` and export the twin's state at that moment. */
static int
export_scenario (const char *path, FtTime t, gint64 seed, FtGbfsExportInfo *info, const char *out)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(FtSimScenario) sc = ft_sim_scenario_load (path, &error);
  if (sc == NULL)
    {
      fprintf (stderr, "fleet-twin-cli gbfs export: %s\n", error->message);
      return 1;
    }
  if (seed >= 0)
    sc->seed = (guint64) seed;
  /* a vehicle's public id follows its latest ended trip, which summary
   * records would not keep (they keep open bookings only) */
  sc->summary_records = FALSE;
  if ((double) t > sc->days * (double) FT_DAY)
    {
      g_autofree char *when = ft_time_format (t);
      fprintf (stderr, "fleet-twin-cli gbfs export: --at %s is after the end of %s (%g days)\n", when, path,
               sc->days);
      return 2;
    }
  g_autoptr(FtSimWorld) w = ft_sim_world_new (sc, NULL, NULL, &error);
  if (w == NULL || !ft_sim_world_run_until (w, t, &error))
    {
      fprintf (stderr, "fleet-twin-cli gbfs export: %s\n", error->message);
      return 1;
    }
  const FtCity *city = ft_sim_world_get_city (w);
  g_autofree char *sys = g_strdup_printf ("fleet-twin-%s", city->id);
  if (strcmp (info->system_id, "fleet-twin") == 0)
    info->system_id = sys;
  info->name = city->name;
  /* The simulated week starts on Monday 2024-01-01 00:00 local time. */
  info->epoch_s = 1704067200 + t / 1000 - (gint64) city->utc_offset_min * 60;
  FtCore *core = ft_sim_world_get_core (w);
  if (!ft_gbfs_export (core, info, out, &error))
    {
      fprintf (stderr, "fleet-twin-cli gbfs export: %s\n", error->message);
      return 1;
    }
  g_autofree char *when = ft_time_format (t);
  printf ("wrote GBFS 3.0 feed of %s at %s (%u vehicles in the fleet) to %s\n", city->name, when,
          ft_fleet_n_vehicles (core->fleet), out);
  return 0;
}

/* [D:]HH:MM, each part a plain number in range: day 0-3660, hour 0-23 with a
 * day (or up to the same span without one), minute 0-59. */
static gboolean
parse_clock (const char *s, FtTime *out)
{
  g_auto(GStrv) parts = g_strsplit (s, ":", -1);
  guint n = g_strv_length (parts);
  if (n != 2 && n != 3)
    return FALSE;
  guint64 v[3] = { 0, 0, 0 };
  const guint64 max[3] = { 3660, n == 3 ? 23 : 3661 * 24 - 1, 59 };
  for (guint i = 0; i < n; i++)
    {
      guint slot = n == 3 ? i : i + 1;
      if (!g_ascii_string_to_unsigned (parts[i], 10, 0, max[slot], &v[slot], NULL))
        return FALSE;
    }
  *out = (FtTime) v[0] * FT_DAY + (FtTime) v[1] * FT_HOUR + (FtTime) v[2] * FT_MINUTE;
  return TRUE;
}

static int
gbfs_export (int argc, char **argv)
{
  g_autofree char *from = NULL, *out = NULL, *at = NULL, *system_id = NULL, *tz = NULL, *base = NULL;
  gint64 seed = -1;
  gboolean force = FALSE;
  GOptionEntry entries[] = {
    { "force", 0, 0, G_OPTION_ARG_NONE, &force, "Replace --out even when it is not an earlier Fleet Twin export", NULL },
    { "from", 0, 0, G_OPTION_ARG_FILENAME, &from, "Export the fleet of this GBFS feed (folder or file) as GBFS 3.0", "PATH" },
    { "at", 0, 0, G_OPTION_ARG_STRING, &at, "Moment of the scenario run to export, [D:]HH:MM (default 08:00)", "TIME" },
    { "seed", 0, 0, G_OPTION_ARG_INT64, &seed, "Seed for the scenario run", "S" },
    { "out", 'o', 0, G_OPTION_ARG_FILENAME, &out, "Output folder (written beside it and moved into place when complete)", "DIR" },
    { "system-id", 0, 0, G_OPTION_ARG_STRING, &system_id, "GBFS system_id (default fleet-twin)", "ID" },
    { "timezone", 0, 0, G_OPTION_ARG_STRING, &tz, "IANA timezone (default Europe/Amsterdam)", "TZ" },
    { "base-url", 0, 0, G_OPTION_ARG_STRING, &base, "Base URL of the published feed", "URL" },
    { NULL }
  };
  g_autoptr(GOptionContext) ctx = g_option_context_new ("[SCENARIO] — write a GBFS 3.0 feed");
  g_option_context_add_main_entries (ctx, entries, NULL);
  g_autoptr(GError) error = NULL;
  if (!g_option_context_parse (ctx, &argc, &argv, &error))
    {
      fprintf (stderr, "fleet-twin-cli gbfs export: %s\n", error->message);
      return 2;
    }
  if (out == NULL || (from == NULL) == (argc != 2))
    {
      fprintf (stderr, "usage: fleet-twin-cli gbfs export (SCENARIO [--at TIME] | --from PATH) --out DIR\n");
      return 2;
    }

  FtGbfsExportInfo info = {
    .system_id = system_id ? system_id : "fleet-twin",
    .name = "Fleet Twin",
    .timezone = tz ? tz : "Europe/Amsterdam",
    .language = "en",
    .email = "gbfs@example.invalid",
    .base_url = base ? base : "https://example.invalid/gbfs",
    .epoch_s = g_get_real_time () / G_USEC_PER_SEC,
    .force = force,
  };

  if (from)
    {
      g_autoptr(FtGbfsFeed) feed = ft_gbfs_load (from, &error);
      if (feed == NULL)
        {
          fprintf (stderr, "fleet-twin-cli gbfs export: %s\n", error->message);
          return 1;
        }
      FtCoreConfig cfg;
      ft_core_config_init (&cfg);
      g_autoptr(FtCore) core = ft_core_new (&cfg, ft_gbfs_dup_geofences (feed), ft_gbfs_dup_pricing (feed));
      if (ft_gbfs_seed_core (feed, core, 0, &error) < 0)
        {
          fprintf (stderr, "fleet-twin-cli gbfs export: %s\n", error->message);
          return 1;
        }
      if (feed->system_name)
        info.name = feed->system_name;
      if (feed->last_updated > 0)
        info.epoch_s = feed->last_updated;
      if (!ft_gbfs_export (core, &info, out, &error))
        {
          fprintf (stderr, "fleet-twin-cli gbfs export: %s\n", error->message);
          return 1;
        }
      printf ("wrote GBFS 3.0 feed with %u vehicles to %s\n", ft_fleet_n_vehicles (core->fleet), out);
      return 0;
    }

  FtTime t = 8 * FT_HOUR;
  if (at && !parse_clock (at, &t))
    {
      fprintf (stderr, "fleet-twin-cli gbfs export: --at '%s' is not [D:]HH:MM (day 0-3660, hour 0-23, minute 0-59)\n", at);
      return 2;
    }
  return export_scenario (argv[1], t, seed, &info, out);
}

int
ft_cli_gbfs (int argc, char **argv)
{
  if (argc >= 2 && strcmp (argv[1], "info") == 0)
    return gbfs_info (argc - 1, argv + 1);
  if (argc >= 2 && strcmp (argv[1], "export") == 0)
    return gbfs_export (argc - 1, argv + 1);
  fprintf (argc >= 2 && strcmp (argv[1], "--help") == 0 ? stdout : stderr,
           "Usage: fleet-twin-cli gbfs COMMAND\n\n"
           "  info PATH                               summarise a GBFS 2.3/3.0 feed\n"
           "  export --from PATH --out DIR            re-publish a feed's fleet as GBFS 3.0\n"
           "  export SCENARIO --at [D:]HH:MM --out DIR  run a scenario to a moment, export its state\n");
  return argc >= 2 && strcmp (argv[1], "--help") == 0 ? 0 : 2;
}
