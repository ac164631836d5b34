/* cmd-analytics.c — `fleet-twin-cli analytics build DB` folds a run or live
 * database's event log into its aggregate tables (incrementally), and
 * `analytics export DB --table T --format csv|json` writes one of them.
 * Zones come from the run's scenario (recorded in its meta), or from
 * --scenario / --city for a live database; the zoning glue lives here so
 * that src/analytics knows no city. The report command shares it.
 */
#include "ft-config.h"
#include "ft-cli.h"
#include "ft-data.h"
#include "ft-analytics.h"
#include "ft-file.h"
#include "ft-sim-world.h"
#include "ft-store.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

struct _FtCliZoning {
  FtAnalyticsZoning z;
  FtCity          *city;          /* owned, or the world's */
  FtSimWorld      *world;         /* kept when the city came from a recipe */
  char           **names;
  char            *signature;
  char            *title;
  gboolean         live;
};

static int
zone_at_city (double lat, double lon, gpointer data)
{
  return ft_city_zone_at (data, (FtLatLon) { lat, lon });
}

void
ft_cli_zoning_free (FtCliZoning *cz)
{
  if (cz == NULL)
    return;
  if (cz->world)
    ft_sim_world_free (cz->world);
  else if (cz->city)
    ft_city_free (cz->city);
  g_strfreev (cz->names);
  g_free (cz->signature);
  g_free (cz->title);
  g_free (cz);
}

const FtAnalyticsZoning *
ft_cli_zoning_get (FtCliZoning *cz)
{
  return &cz->z;
}

const char *
ft_cli_zoning_title (FtCliZoning *cz)
{
  return cz->title;
}

gboolean
ft_cli_zoning_is_live (FtCliZoning *cz)
{
  return cz->live;
}

static FtSimScenario *
find_scenario (const char *name, GError **error)
{
  if (g_strcmp0 (name, "default") == 0)
    return ft_sim_scenario_new_default ();
  static const char *const exts[] = { "", ".scenario", NULL };
  g_autofree char *p = ft_data_find_named ("scenarios", name, exts, "scenario", error);
  return p ? ft_sim_scenario_load (p, error) : NULL;
}

/* The city of a scenario: Demo City, a pack folder, or a recipe (built
 * through a world, which then owns it). */
static gboolean
city_of_scenario (FtCliZoning *cz, const FtSimScenario *sc, GError **error)
{
  if (sc->city_osm || sc->city_trips)
    {
      cz->world = ft_sim_world_new (sc, NULL, NULL, error);
      if (cz->world == NULL)
        return FALSE;
      cz->city = (FtCity *) ft_sim_world_get_city (cz->world);
      return TRUE;
    }
  if (sc->city == NULL || g_strcmp0 (sc->city, "demo") == 0)
    cz->city = ft_city_new_demo ();
  else
    {
      g_autofree char *dir = NULL;
      if (g_path_is_absolute (sc->city) || sc->path == NULL)
        dir = g_strdup (sc->city);
      else
        {
          g_autofree char *base = g_path_get_dirname (sc->path);
          dir = g_build_filename (base, sc->city, NULL);
        }
      cz->city = ft_city_load (dir, error);
    }
  return cz->city != NULL;
}

FtCliZoning *
ft_cli_zoning_new (const char *db_path, const char *scenario, const char *city_dir, GError **error)
{
  g_autoptr (GError) e = NULL;
  g_autofree char *sc_name = ft_store_read_meta (db_path, "scenario", &e);
  if (e)
    {
      g_propagate_error (error, g_steal_pointer (&e));
      return NULL;
    }
  g_autofree char *sc_path = ft_store_read_meta (db_path, "scenario_path", NULL);
  FtCliZoning *cz = g_new0 (FtCliZoning, 1);
  cz->live = sc_name == NULL;
  if (city_dir)
    {
      cz->city = g_strcmp0 (city_dir, "demo") == 0 ? ft_city_new_demo () : ft_city_load (city_dir, error);
      if (cz->city == NULL)
        goto fail;
    }
  else if (scenario || (sc_path && *sc_path) || (sc_name && !sc_path))
    {
      g_autoptr (GError) se = NULL;
      g_autoptr (FtSimScenario) sc = find_scenario (scenario ? scenario : (sc_path && *sc_path) ? sc_path
                                                    : "default", &se);
      if (sc == NULL)
        {
          g_set_error (error, G_FILE_ERROR, G_FILE_ERROR_NOENT,
                       "%s: the zones come from the run's scenario, but %s; give --scenario FILE "
                       "or --city DIR|demo", db_path, se->message);
          goto fail;
        }
      if (!city_of_scenario (cz, sc, error))
        goto fail;
      if (sc_name == NULL && sc->name)
        cz->title = g_strdup_printf ("Live database (zones of %s)", sc->name);
    }
  if (cz->title == NULL)
    cz->title = g_strdup (sc_name && *sc_name ? sc_name : "Live database");
  if (cz->city)
    {
      cz->names = g_new0 (char *, cz->city->n_zones + 1);
      for (guint i = 0; i < cz->city->n_zones; i++)
        cz->names[i] = g_strdup (cz->city->zones[i].name ? cz->city->zones[i].name
                                 : cz->city->zones[i].id ? cz->city->zones[i].id : "");
      cz->signature = g_strdup_printf ("%s (%u zones)", cz->city->name ? cz->city->name : "city",
                                       cz->city->n_zones);
      cz->z.n_zones = cz->city->n_zones;
      cz->z.zone_names = (const char *const *) cz->names;
      cz->z.zone_at = zone_at_city;
      cz->z.user_data = cz->city;
      cz->z.currency = cz->city->currency[0] ? cz->city->currency : NULL;
    }
  else
    {
      /* a live database and no city: one zone for everything */
      static const char *const one[] = { "all", NULL };
      cz->signature = g_strdup ("one zone (no city given)");
      cz->z.n_zones = 1;
      cz->z.zone_names = one;
    }
  cz->z.signature = cz->signature;
  /* simulated time counts from Monday 00:00 local; live is Unix time in UTC */
  cz->z.monday_ms = cz->live ? 4 * 86400000LL : 0;
  cz->z.utc_offset_min = cz->live && cz->city ? cz->city->utc_offset_min : 0;
  return cz;
fail:
  ft_cli_zoning_free (cz);
  return NULL;
}

/* The database must exist, be a regular file and a Fleet Twin store. */
gboolean
ft_cli_analytics_check_db (const char *path, GError **error)
{
  struct stat st;
  if (stat (path, &st) != 0)
    {
      g_set_error (error, G_FILE_ERROR, g_file_error_from_errno (errno), "%s: %s", path, g_strerror (errno));
      return FALSE;
    }
  if (!S_ISREG (st.st_mode))
    {
      g_set_error (error, FT_FILE_ERROR, FT_FILE_ERROR_NOT_REGULAR, "%s is not a regular file", path);
      return FALSE;
    }
  if (!ft_output_is_ft_sqlite (path))
    {
      g_set_error (error, FT_FILE_ERROR, FT_FILE_ERROR_NOT_OURS,
                   "%s is not a Fleet Twin database; analytics write only into the project's own "
                   "run and live databases", path);
      return FALSE;
    }
  return TRUE;
}

gboolean
ft_cli_analytics_build (const char *path, FtCliZoning *cz, const FtAnalyticsBuildOptions *opt,
                        FtAnalyticsBuildStats *stats, GError **error)
{
  if (!ft_cli_analytics_check_db (path, error))
    return FALSE;
  g_autoptr (FtStore) store = ft_store_open (path, NULL, error);   /* migrates to schema 6 */
  if (store == NULL)
    return FALSE;
  return ft_analytics_build (ft_store_get_db (store), ft_cli_zoning_get (cz), opt, stats, error);
}

static int
usage (GOptionContext *ctx, const char *msg)
{
  fprintf (stderr, "fleet-twin-cli analytics: %s\n", msg);
  if (ctx)
    {
      g_autofree char *help = g_option_context_get_help (ctx, TRUE, NULL);
      fprintf (stderr, "%s", help);
    }
  return 2;
}

static int
cmd_build (int argc, char **argv)
{
  g_autofree char *scenario = NULL, *city = NULL;
  gboolean rebuild = FALSE, quiet = FALSE;
  gint batch = 0;
  gint64 upto = 0;
  GOptionEntry entries[] = {
    { "scenario", 0, 0, G_OPTION_ARG_FILENAME, &scenario,
      "Scenario whose city gives the zones (default: the run's own; for a live database)", "FILE" },
    { "city", 0, 0, G_OPTION_ARG_FILENAME, &city, "City pack folder (or 'demo') giving the zones", "DIR" },
    { "rebuild", 0, 0, G_OPTION_ARG_NONE, &rebuild, "Drop the aggregates and fold the whole log again", NULL },
    { "batch", 0, 0, G_OPTION_ARG_INT, &batch, "Events per transaction (default 262144)", "N" },
    { "upto", 0, 0, G_OPTION_ARG_INT64, &upto, "Fold events up to this seq only", "SEQ" },
    { "quiet", 'q', 0, G_OPTION_ARG_NONE, &quiet, "Print nothing on success", NULL },
    { NULL }
  };
  g_autoptr (GOptionContext) ctx = g_option_context_new ("DB — fold the event log into the aggregate tables");
  g_option_context_add_main_entries (ctx, entries, NULL);
  g_autoptr (GError) error = NULL;
  if (!g_option_context_parse (ctx, &argc, &argv, &error))
    return usage (NULL, error->message);
  if (argc != 2)
    return usage (ctx, "give one database");
  if (batch < 0)
    return usage (NULL, "--batch must be positive");
  if (upto < 0)
    return usage (NULL, "--upto must be a positive event seq");
  if (scenario && city)
    return usage (NULL, "give --scenario or --city, not both");
  if (!ft_cli_analytics_check_db (argv[1], &error))
    {
      fprintf (stderr, "fleet-twin-cli analytics build: %s\n", error->message);
      return 1;
    }
  FtCliZoning *cz = ft_cli_zoning_new (argv[1], scenario, city, &error);
  if (cz == NULL)
    {
      fprintf (stderr, "fleet-twin-cli analytics build: %s\n", error->message);
      return 1;
    }
  FtAnalyticsBuildOptions opt = { .batch_events = (guint) batch, .rebuild = rebuild,
                                  .stop_after_seq = (guint64) upto };
  FtAnalyticsBuildStats st;
  gboolean ok = ft_cli_analytics_build (argv[1], cz, &opt, &st, &error);
  g_autofree char *sig = g_strdup (cz->signature);
  ft_cli_zoning_free (cz);
  if (!ok)
    {
      fprintf (stderr, "fleet-twin-cli analytics build: %s\n", error->message);
      return error->domain == FT_ANALYTICS_ERROR && error->code == FT_ANALYTICS_ERROR_ZONING ? 2 : 1;
    }
  if (!quiet)
    printf ("%s: folded %" G_GUINT64_FORMAT " events (seq %" G_GUINT64_FORMAT " to %" G_GUINT64_FORMAT
            ") in %" G_GUINT64_FORMAT " batches, %.2f s (%.0f events/s); zones: %s\n",
            argv[1], st.events_read, st.first_seq, st.last_seq, st.batches, st.seconds,
            st.seconds > 0 ? st.events_read / st.seconds : 0.0, sig);
  return 0;
}

/* "90m", "36h", "2d", "1500ms", "3600s" or a bare number of ms. */
static gboolean
parse_time (const char *opt, const char *s, gint64 *out, GError **error)
{
  char *end = NULL;
  errno = 0;
  gint64 v = g_ascii_strtoll (s, &end, 10);
  gint64 unit = 1;
  if (end == s || errno != 0)
    goto bad;
  if (*end == '\0' || strcmp (end, "ms") == 0)
    unit = 1;
  else if (strcmp (end, "s") == 0)
    unit = 1000;
  else if (strcmp (end, "m") == 0 || strcmp (end, "min") == 0)
    unit = 60000;
  else if (strcmp (end, "h") == 0)
    unit = 3600000;
  else if (strcmp (end, "d") == 0)
    unit = 86400000;
  else
    goto bad;
  if (v > G_MAXINT64 / unit || v < G_MININT64 / unit)
    goto bad;
  *out = v * unit;
  return TRUE;
bad:
  g_set_error (error, FT_ANALYTICS_ERROR, FT_ANALYTICS_ERROR_USAGE,
               "%s '%s' is not a time: give a whole number with a unit ms, s, m, h or d "
               "(event time: ms since the run's Monday 00:00, or Unix ms for a live database)",
               opt, s);
  return FALSE;
}

static gboolean
export_is_own (const char *path)
{
  static const char *const heads[] = {
    "zone,zone_name,", "vehicle,vehicle_name,", "metric,bin,", "cohort_week,week,",
    "week,active_riders,", "staff,staff_id,", "key,value,unit", "[\n {\"zone\"",
    "[\n {\"vehicle\"", "[\n {\"metric\"", "[\n {\"cohort_week\"", "[\n {\"week\"",
    "[\n {\"staff\"", "[]", "{\n  \"days\"",
  };
  char buf[32] = { 0 };
  FILE *f = fopen (path, "rb");
  if (f == NULL)
    return FALSE;
  size_t n = fread (buf, 1, sizeof buf - 1, f);
  fclose (f);
  for (guint i = 0; i < G_N_ELEMENTS (heads); i++)
    if (n >= strlen (heads[i]) && memcmp (buf, heads[i], strlen (heads[i])) == 0)
      return TRUE;
  return FALSE;
}

static int
cmd_export (int argc, char **argv)
{
  g_autofree char *table = NULL, *format = NULL, *out = NULL, *from = NULL, *to = NULL;
  gboolean force = FALSE;
  GOptionEntry entries[] = {
    { "table", 't', 0, G_OPTION_ARG_STRING, &table,
      "zone_hour, vehicle_day, trip_bins, cohorts, riders, staff_shift or kpis", "T" },
    { "format", 'f', 0, G_OPTION_ARG_STRING, &format, "csv or json", "F" },
    { "out", 'o', 0, G_OPTION_ARG_FILENAME, &out, "Write to this file (default: standard output)", "FILE" },
    { "force", 0, 0, G_OPTION_ARG_NONE, &force, "Replace --out even when it is not an earlier export", NULL },
    { "from", 0, 0, G_OPTION_ARG_STRING, &from, "Only rows from this event time (e.g. 24h, 2d)", "TIME" },
    { "to", 0, 0, G_OPTION_ARG_STRING, &to, "Only rows before this event time", "TIME" },
    { NULL }
  };
  g_autoptr (GOptionContext) ctx = g_option_context_new ("DB — write one aggregate table as CSV or JSON");
  g_option_context_add_main_entries (ctx, entries, NULL);
  g_autoptr (GError) error = NULL;
  if (!g_option_context_parse (ctx, &argc, &argv, &error))
    return usage (NULL, error->message);
  if (argc != 2)
    return usage (ctx, "give one database");
  if (table == NULL || format == NULL)
    return usage (NULL, "give --table T and --format csv|json");
  FtAnalyticsFormat fmt;
  if (!ft_analytics_format_from_name (format, &fmt))
    {
      g_autofree char *m = g_strdup_printf ("unknown format '%s' (known: csv, json)", format);
      return usage (NULL, m);
    }
  gboolean known = FALSE;
  for (const char *const *n = ft_analytics_table_names (); *n; n++)
    known |= strcmp (*n, table) == 0;
  if (!known)
    {
      g_autofree char *names = g_strjoinv (", ", (char **) ft_analytics_table_names ());
      g_autofree char *m = g_strdup_printf ("unknown table '%s' (known: %s)", table, names);
      return usage (NULL, m);
    }
  FtAnalyticsWindow win = { G_MININT64, G_MAXINT64 };
  if ((from && !parse_time ("--from", from, &win.from, &error)) ||
      (to && !parse_time ("--to", to, &win.to, &error)))
    return usage (NULL, error->message);
  if (!ft_cli_analytics_check_db (argv[1], &error))
    {
      fprintf (stderr, "fleet-twin-cli analytics export: %s\n", error->message);
      return 1;
    }
  sqlite3 *db = NULL;
  if (sqlite3_open_v2 (argv[1], &db, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK)
    {
      fprintf (stderr, "fleet-twin-cli analytics export: %s: %s\n", argv[1], sqlite3_errmsg (db));
      sqlite3_close (db);
      return 1;
    }
  g_autoptr (GString) text = g_string_new (NULL);
  gboolean ok = ft_analytics_export (db, table, fmt, &win, text, &error);
  sqlite3_close (db);
  if (!ok)
    {
      fprintf (stderr, "fleet-twin-cli analytics export: %s\n", error->message);
      return error->domain == FT_ANALYTICS_ERROR && error->code == FT_ANALYTICS_ERROR_USAGE ? 2 : 1;
    }
  if (out == NULL)
    {
      fwrite (text->str, 1, text->len, stdout);
      return 0;
    }
  g_autoptr (FtOutput) o = ft_output_begin (out, FT_OUTPUT_FILE, export_is_own, force, &error);
  if (o == NULL || !g_file_set_contents (ft_output_get_path (o), text->str, (gssize) text->len, &error) ||
      !ft_output_commit (g_steal_pointer (&o), &error))
    {
      fprintf (stderr, "fleet-twin-cli analytics export: %s\n", error->message);
      return 1;
    }
  return 0;
}

int
ft_cli_analytics (int argc, char **argv)
{
  if (argc < 2 || strcmp (argv[1], "--help") == 0 || strcmp (argv[1], "-h") == 0)
    {
      fprintf (argc < 2 ? stderr : stdout,
               "Usage: fleet-twin-cli analytics build DB [--scenario FILE | --city DIR] [--rebuild]\n"
               "       fleet-twin-cli analytics export DB --table T --format csv|json [--out FILE]"
               " [--from TIME] [--to TIME]\n");
      return argc < 2 ? 2 : 0;
    }
  g_autofree char *name = g_strdup_printf ("%s %s", argv[0], argv[1]);
  char *saved = argv[1];
  argv[1] = name;
  int rc;
  if (strcmp (saved, "build") == 0)
    rc = cmd_build (argc - 1, argv + 1);
  else if (strcmp (saved, "export") == 0)
    rc = cmd_export (argc - 1, argv + 1);
  else
    {
      fprintf (stderr, "fleet-twin-cli analytics: unknown subcommand '%s' (build, export)\n", saved);
      rc = 2;
    }
  argv[1] = saved;
  return rc;
}
