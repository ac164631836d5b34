/* cmd-serve.c — `fleet-twin-cli serve SOURCE` serves MDS 2.0, GBFS 3.0,
 * Prometheus metrics and a health check over HTTP (src/serve), and
 * `fleet-twin-cli mds export SOURCE --out DIR` writes the MDS documents as
 * files. SOURCE is a run or live database (opened read-only; beside a
 * running `live` new commits show through WAL) or a scenario, which is
 * simulated into a temporary database at --speed while it is served: the
 * simulation thread hands GBFS snapshots and gauges to the server, which
 * reads MDS from the database like any other.
 */
#include "ft-config.h"
#include "ft-cli.h"
#include "ft-file.h"
#include "ft-serve.h"
#include "ft-sim-world.h"
#include "ft-store.h"

#include <glib-unix.h>
#include <glib/gstdio.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>

/* The simulated week starts on Monday 2024-01-01 00:00 local time (as in
 * `gbfs export`). */
static gint64
sim_origin_ms (const FtCity *city)
{
  return G_GINT64_CONSTANT (1704067200000) - (gint64) city->utc_offset_min * 60000;
}

static gboolean
is_store_file (const char *path)
{
  guint32 id = 0;
  return ft_output_sqlite_app_id (path, &id) && id == FT_OUTPUT_STORE_APP_ID;
}

/* ---- a served simulation -------------------------------------------------- */

typedef struct {
  FtSimWorld *world;
  FtServe    *serve;
  FtGbfsExportInfo info;
  char       *gbfs_base;
  gint64      origin_ms;
  double      speed;
  volatile gint stop;
  GError     *error;
  guint8      id_key[32];
  char       *system_id;
} SimRun;

static void
publish (SimRun *r)
{
  FtCore *core = ft_sim_world_get_core (r->world);
  FtTime now = ft_sim_world_now (r->world);
  FtGbfsExportInfo info = r->info;
  guint n = 0;
  info.epoch_s = (r->origin_ms + now) / 1000;
  info.base_url = r->gbfs_base;
  info.id_key = r->id_key;
  info.id_key_len = sizeof r->id_key;
  info.ttl_s = 10;
  g_autofree FtGbfsVehicleView *views = ft_gbfs_core_views (core, &n);
  g_autoptr(GError) e = NULL;
  GHashTable *docs = ft_gbfs_build (&info, views, n, core->pricing, core->geofences, &e);
  if (docs)
    ft_serve_set_gbfs (r->serve, docs);
  FtMetrics *m = ft_serve_get_metrics (r->serve);
  FtSimKpis k;
  ft_sim_world_kpis (r->world, &k);
  ft_metrics_gauge_set (m, "fleet_twin_sim_speed", "Simulated seconds per wall-clock second", NULL, r->speed);
  ft_metrics_gauge_set (m, "fleet_twin_sim_time_seconds", "Simulated time since the run's start", NULL,
                        (double) now / 1000.0);
  ft_metrics_gauge_set (m, "fleet_twin_sim_trips_requested", "Trip requests so far (simulation)", NULL,
                        (double) k.trips_requested);
  ft_metrics_gauge_set (m, "fleet_twin_sim_trips_served", "Trips served so far (simulation)", NULL,
                        (double) k.trips_served);
  ft_metrics_gauge_set (m, "fleet_twin_sim_trips_lost", "Trip requests lost so far (simulation)", NULL,
                        (double) k.trips_lost);
  ft_metrics_gauge_set (m, "fleet_twin_sim_revenue_minor", "Revenue so far, minor units (simulation)", NULL,
                        (double) k.revenue_minor);
  ft_metrics_gauge_set (m, "fleet_twin_sim_utilisation", "Share of vehicle time on trip (simulation)", NULL,
                        k.utilisation);
  ft_metrics_gauge_set (m, "fleet_twin_sim_pending_events", "Events queued in the simulation engine", NULL,
                        (double) ft_sim_engine_n_pending (ft_sim_world_get_engine (r->world)));
  if (core->store)
    {
      ft_metrics_gauge_set (m, "fleet_twin_store_commits", "Store commits (group commits) so far", NULL,
                            (double) ft_store_n_commits (core->store));
      ft_metrics_gauge_set (m, "fleet_twin_store_pending_events", "Domain events waiting for the next commit",
                            NULL, (double) ft_event_log_n_pending (core->log));
    }
}

static gpointer
sim_thread (gpointer data)
{
  SimRun *r = data;
  FtTime end = ft_sim_world_end_time (r->world);
  FtSimEngine *engine = ft_sim_world_get_engine (r->world);
  FtCore *core = ft_sim_world_get_core (r->world);
  /* Publish about once a wall second. */
  FtTime chunk = r->speed > 0 ? MAX ((FtTime) (r->speed * 1000), 1000) : FT_HOUR;

  ft_sim_engine_set_speed (engine, r->speed);
  publish (r);
  while (!g_atomic_int_get (&r->stop) && ft_sim_world_now (r->world) < end)
    {
      FtTime t = MIN (ft_sim_world_now (r->world) + chunk, end);
      gboolean reached = FALSE;
      gint64 c0 = g_get_monotonic_time ();
      if (!ft_sim_world_run_paced (r->world, t, &reached, &r->error))
        break;
      /* What the run holds back for its batch window goes to the file now,
       * so the feeds never lag the simulation by more than a chunk. */
      if (core->store)
        {
          FtStoreTargets tg = { core->log, core->fleet, core->accounts, core->ledger, core->payments,
                                core->booking, core->ops };
          gint64 s0 = g_get_monotonic_time ();
          if (!ft_store_commit (core->store, &tg, &r->error))
            break;
          ft_metrics_observe (ft_serve_get_metrics (r->serve), "fleet_twin_store_commit_seconds",
                              "Time of a store commit from the served simulation", NULL,
                              (double) (g_get_monotonic_time () - s0) / 1e6);
        }
      (void) c0;
      publish (r);
    }
  if (r->error == NULL && !g_atomic_int_get (&r->stop))
    {
      ft_sim_world_finish (r->world, &r->error);
      publish (r);
      g_log_structured ("ft-cli", G_LOG_LEVEL_MESSAGE, "MESSAGE",
                        "the simulation reached its end; still serving its final state");
    }
  if (r->error)
    g_log_structured ("ft-cli", G_LOG_LEVEL_WARNING, "MESSAGE", "the simulation stopped: %s",
                      r->error->message);
  return NULL;
}

static gboolean
on_quit (gpointer data)
{
  g_main_loop_quit (data);
  return G_SOURCE_REMOVE;
}

int
ft_cli_serve (int argc, char **argv)
{
  g_autofree char *listen = NULL, *tokens_path = NULL, *tls_cert = NULL, *tls_key = NULL, *log_json = NULL;
  double speed = 60, days = 0;
  gint64 seed = -1;
  GOptionEntry entries[] = {
    { "listen", 'l', 0, G_OPTION_ARG_STRING, &listen,
      "Address to listen on (default 127.0.0.1:8080; port 0 picks a free one)", "HOST:PORT" },
    { "tokens", 't', 0, G_OPTION_ARG_FILENAME, &tokens_path,
      "Bearer tokens for the MDS endpoints, one \"AGENCY TOKEN\" per line", "FILE" },
    { "tls-cert", 0, 0, G_OPTION_ARG_FILENAME, &tls_cert, "TLS certificate (PEM)", "FILE" },
    { "tls-key", 0, 0, G_OPTION_ARG_FILENAME, &tls_key, "TLS private key (PEM)", "FILE" },
    { "speed", 0, 0, G_OPTION_ARG_DOUBLE, &speed,
      "Scenario: simulated seconds per wall second (default 60; 0 as fast as possible)", "X" },
    { "days", 'd', 0, G_OPTION_ARG_DOUBLE, &days, "Scenario: simulated days (overrides the scenario)", "N" },
    { "seed", 's', 0, G_OPTION_ARG_INT64, &seed, "Scenario: master seed", "S" },
    { "log-json", 0, 0, G_OPTION_ARG_FILENAME, &log_json, "Append structured logs as JSON lines to FILE", "FILE" },
    { NULL }
  };
  g_autoptr(GOptionContext) ctx = g_option_context_new ("SOURCE — serve MDS, GBFS and metrics of a scenario or database");
  g_option_context_add_main_entries (ctx, entries, NULL);
  g_autoptr(GError) error = NULL;
  if (!g_option_context_parse (ctx, &argc, &argv, &error))
    {
      fprintf (stderr, "%s: %s\n", argv[0], error->message);
      return 2;
    }
  if (argc != 2)
    {
      fprintf (stderr, "%s: give one SOURCE: a scenario file or a run / live database\n", argv[0]);
      return 2;
    }
  if (!(speed >= 0 && speed <= 1e7) || !(days >= 0 && days <= 3660))
    {
      fprintf (stderr, "%s: --speed must be 0 to 10000000 and --days 0 to 3660\n", argv[0]);
      return 2;
    }
  g_autofree char *host = NULL;
  guint port = 0;
  if (!ft_serve_parse_listen (listen ? listen : "127.0.0.1:8080", &host, &port, &error))
    {
      fprintf (stderr, "%s: %s\n", argv[0], error->message);
      return 2;
    }
  g_autoptr(GHashTable) tokens = NULL;
  if (tokens_path)
    {
      g_autofree char *text = NULL;
      gsize len = 0;
      if (!ft_file_read (tokens_path, 1024 * 1024, &text, &len, &error)
          || (tokens = ft_serve_parse_tokens (text, len, tokens_path, &error)) == NULL)
        {
          fprintf (stderr, "%s: %s\n", argv[0], error->message);
          return 2;
        }
    }
  if (log_json && !ft_serve_log_json_open (log_json, &error))
    {
      fprintf (stderr, "%s: %s\n", argv[0], error->message);
      return 2;
    }

  const char *source = argv[1];
  g_autoptr(FtSimScenario) sc = NULL;
  g_autoptr(FtSimWorld) world = NULL;
  g_autofree char *tmpdir = NULL, *db = NULL;
  gint64 origin = FT_MDS_ORIGIN_AUTO;
  FtServeConfig cfg = { .host = host, .port = port, .tokens = tokens, .tls_cert = tls_cert,
                        .tls_key = tls_key, .source_label = source };
  cfg.gbfs.system_id = "fleet-twin";
  cfg.gbfs.name = "Fleet Twin";
  g_autofree char *sys = NULL;

  if (is_store_file (source))
    db = g_strdup (source);
  else
    {
      sc = ft_sim_scenario_load (source, &error);
      if (sc == NULL)
        {
          fprintf (stderr, "%s: %s is neither a Fleet Twin database nor a scenario: %s\n", argv[0], source,
                   error->message);
          return 2;
        }
      if (days > 0)
        sc->days = days;
      if (seed >= 0)
        sc->seed = (guint64) seed;
      tmpdir = g_dir_make_tmp ("fleet-twin-serve-XXXXXX", &error);
      if (tmpdir == NULL)
        {
          fprintf (stderr, "%s: %s\n", argv[0], error->message);
          return 1;
        }
      db = g_build_filename (tmpdir, "run.db", NULL);
      FtSimWorldOptions opt = { .store_path = db };
      world = ft_sim_world_new (sc, NULL, &opt, &error);
      if (world == NULL)
        {
          fprintf (stderr, "%s: %s\n", argv[0], error->message);
          ft_file_remove_tree (tmpdir, NULL);
          return 1;
        }
      const FtCity *city = ft_sim_world_get_city (world);
      FtCore *core = ft_sim_world_get_core (world);
      origin = sim_origin_ms (city);
      g_autofree char *o = g_strdup_printf ("%" G_GINT64_FORMAT, origin);
      FtStoreTargets tg = { core->log, core->fleet, core->accounts, core->ledger, core->payments,
                            core->booking, core->ops };
      if (!ft_store_put_meta (core->store, "time_origin_ms", o, &error)
          || !ft_store_commit (core->store, &tg, &error))
        {
          fprintf (stderr, "%s: %s\n", argv[0], error->message);
          world = (ft_sim_world_free (world), NULL);
          ft_file_remove_tree (tmpdir, NULL);
          return 1;
        }
      sys = g_strdup_printf ("fleet-twin-%s", city->id);
      cfg.gbfs.system_id = sys;
      cfg.gbfs.name = city->name;
    }

  FtMdsConfig mcfg = { NULL, origin, NULL };
  g_autoptr(FtMds) mds = ft_mds_open (db, &mcfg, &error);
  g_autoptr(FtServe) serve = mds ? ft_serve_new (mds, &cfg, &error) : NULL;
  if (serve == NULL)
    {
      gboolean usage = g_error_matches (error, FT_SERVE_ERROR, FT_SERVE_ERROR_BIND)
                       || g_error_matches (error, FT_SERVE_ERROR, FT_SERVE_ERROR_LISTEN)
                       || g_error_matches (error, FT_SERVE_ERROR, FT_SERVE_ERROR_TLS);
      fprintf (stderr, "%s: %s\n", argv[0], error->message);
      g_clear_pointer (&mds, ft_mds_free);
      g_clear_pointer (&world, ft_sim_world_free);
      if (tmpdir)
        ft_file_remove_tree (tmpdir, NULL);
      return usage ? 2 : 1;
    }
  if (tokens == NULL)
    g_log_structured ("ft-cli", G_LOG_LEVEL_MESSAGE, "MESSAGE",
                      "no --tokens: the MDS endpoints are open to anyone who can reach %s (loopback)", host);

  g_autoptr(GMainLoop) loop = g_main_loop_new (NULL, FALSE);
  g_unix_signal_add (SIGINT, on_quit, loop);
  g_unix_signal_add (SIGTERM, on_quit, loop);
  SimRun run = { 0 };
  GThread *thread = NULL;
  if (world)
    {
      run.world = world;
      run.serve = serve;
      run.info = cfg.gbfs;
      run.gbfs_base = ft_serve_dup_gbfs_base (serve);
      run.origin_ms = origin;
      run.speed = speed;
      for (guint i = 0; i < sizeof run.id_key; i += 4)
        {
          guint32 x = g_random_int ();
          memcpy (run.id_key + i, &x, 4);
        }
      thread = g_thread_new ("ft-serve-sim", sim_thread, &run);
    }
  printf ("serving %s on %s (MDS /trips /events/historical /telemetry /vehicles /vehicles/status; "
          "GBFS /gbfs/gbfs.json /manifest.json; /metrics /health)\n", source, ft_serve_get_base_url (serve));
  fflush (stdout);
  g_main_loop_run (loop);

  if (thread)
    {
      g_atomic_int_set (&run.stop, 1);
      ft_sim_engine_stop (ft_sim_world_get_engine (world));
      g_thread_join (thread);
      g_free (run.gbfs_base);
      g_clear_error (&run.error);
    }
  g_clear_pointer (&serve, ft_serve_free);
  g_clear_pointer (&mds, ft_mds_free);
  g_clear_pointer (&world, ft_sim_world_free);
  if (tmpdir)
    ft_file_remove_tree (tmpdir, NULL);
  fprintf (stderr, "%s: stopped\n", argv[0]);
  return 0;
}

/* ---- mds export ------------------------------------------------------------- */

int
ft_cli_mds (int argc, char **argv)
{
  g_autofree char *out = NULL;
  gboolean force = FALSE;
  double days = 0;
  gint64 seed = -1;
  GOptionEntry entries[] = {
    { "out", 'o', 0, G_OPTION_ARG_FILENAME, &out, "Folder to write (replaced when complete)", "DIR" },
    { "force", 0, 0, G_OPTION_ARG_NONE, &force, "Replace --out even when it is not an earlier export", NULL },
    { "days", 'd', 0, G_OPTION_ARG_DOUBLE, &days, "Scenario: simulated days (overrides the scenario)", "N" },
    { "seed", 's', 0, G_OPTION_ARG_INT64, &seed, "Scenario: master seed", "S" },
    { NULL }
  };
  g_autoptr(GOptionContext) ctx = g_option_context_new ("export SOURCE --out DIR — MDS 2.0 provider files");
  g_option_context_add_main_entries (ctx, entries, NULL);
  g_autoptr(GError) error = NULL;
  if (!g_option_context_parse (ctx, &argc, &argv, &error))
    {
      fprintf (stderr, "%s: %s\n", argv[0], error->message);
      return 2;
    }
  if (argc != 3 || strcmp (argv[1], "export") != 0 || out == NULL)
    {
      fprintf (stderr, "usage: fleet-twin-cli mds export SOURCE --out DIR  (SOURCE: a run / live database "
                       "or a scenario)\n");
      return 2;
    }
  if (!(days >= 0 && days <= 3660))
    {
      fprintf (stderr, "%s: --days must be between 0 and 3660\n", argv[0]);
      return 2;
    }
  const char *source = argv[2];
  g_autofree char *tmpdir = NULL, *db = NULL;
  gint64 origin = FT_MDS_ORIGIN_AUTO;
  if (is_store_file (source))
    db = g_strdup (source);
  else
    {
      g_autoptr(FtSimScenario) sc = ft_sim_scenario_load (source, &error);
      if (sc == NULL)
        {
          fprintf (stderr, "%s: %s is neither a Fleet Twin database nor a scenario: %s\n", argv[0], source,
                   error->message);
          return 2;
        }
      if (days > 0)
        sc->days = days;
      if (seed >= 0)
        sc->seed = (guint64) seed;
      tmpdir = g_dir_make_tmp ("fleet-twin-mds-XXXXXX", &error);
      db = tmpdir ? g_build_filename (tmpdir, "run.db", NULL) : NULL;
      FtSimWorldOptions opt = { .store_path = db };
      g_autoptr(FtSimWorld) w = tmpdir ? ft_sim_world_new (sc, NULL, &opt, &error) : NULL;
      if (w == NULL || !ft_sim_world_run (w, NULL, NULL, &error) || !ft_sim_world_finish (w, &error))
        {
          fprintf (stderr, "%s: %s\n", argv[0], error->message);
          if (tmpdir)
            ft_file_remove_tree (tmpdir, NULL);
          return 1;
        }
      origin = sim_origin_ms (ft_sim_world_get_city (w));
    }
  FtMdsConfig cfg = { NULL, origin, NULL };
  guint n = 0;
  g_autoptr(FtMds) mds = ft_mds_open (db, &cfg, &error);
  gboolean ok = mds && ft_mds_export (mds, out, force, &n, &error);
  g_clear_pointer (&mds, ft_mds_free);
  if (tmpdir)
    ft_file_remove_tree (tmpdir, NULL);
  if (!ok)
    {
      fprintf (stderr, "%s: %s\n", argv[0], error->message);
      return 1;
    }
  printf ("wrote %u MDS files to %s\n", n, out);
  return 0;
}
