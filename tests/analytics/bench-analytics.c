/* bench-analytics.c — the analytics build rate: folds a run database's
 * whole event log (a rebuild each time, Demo City zones) --runs times and
 * prints the median wall time, the median CPU time of this process (user +
 * system: what one core spends, whatever else the machine is doing) and
 * events per second of wall time. Without a DB it makes a
 * short Demo City run first (--smoke: a tiny one, one run).
 *
 *   bench-analytics [--runs N] [--batch N] [DB]
 *
 * The figure (a 7-day 10,000-vehicle run) is measured on a release
 * build with the database README.md describes how to make.
 */
#include "ft-config.h"
#include "ft-analytics.h"
#include "ft-sim-world.h"
#include "ft-store.h"
#include "ft-test.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

static double
cpu_seconds (void)
{
  struct rusage ru;
  getrusage (RUSAGE_SELF, &ru);
  return ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 + ru.ru_stime.tv_sec + ru.ru_stime.tv_usec / 1e6;
}

static int
zone_at (double lat, double lon, gpointer data)
{
  return ft_city_zone_at (data, (FtLatLon) { lat, lon });
}

int
main (int argc, char **argv)
{
  gboolean smoke = FALSE;
  gint runs = 5, batch = 0;
  GOptionEntry entries[] = {
    { "smoke", 0, 0, G_OPTION_ARG_NONE, &smoke, "A tiny run, one build (CI)", NULL },
    { "runs", 'n', 0, G_OPTION_ARG_INT, &runs, "Builds to time (default 5)", "N" },
    { "batch", 0, 0, G_OPTION_ARG_INT, &batch, "Events per transaction", "N" },
    { NULL }
  };
  g_autoptr (GOptionContext) ctx = g_option_context_new ("[DB] — analytics build rate");
  g_option_context_add_main_entries (ctx, entries, NULL);
  g_autoptr (GError) error = NULL;
  if (!g_option_context_parse (ctx, &argc, &argv, &error) || runs < 1 || batch < 0)
    {
      fprintf (stderr, "bench-analytics: %s\n", error ? error->message : "--runs and --batch must be positive");
      return 2;
    }
  g_autoptr (FtCity) city = ft_city_new_demo ();
  g_autofree char *tmp = NULL;
  g_autofree char *db_path = NULL;
  if (argc >= 2)
    db_path = g_strdup (argv[1]);
  else
    {
      tmp = g_dir_make_tmp ("ft-bench-analytics-XXXXXX", NULL);
      db_path = g_build_filename (tmp, "run.db", NULL);
      g_autofree char *sp = ft_test_source_path ("scenarios/demo-city-phase1.scenario");
      g_autoptr (FtSimScenario) sc = ft_sim_scenario_load (sp, &error);
      if (sc == NULL)
        {
          fprintf (stderr, "bench-analytics: %s\n", error->message);
          return 1;
        }
      sc->days = smoke ? 0.1 : 1;
      FtSimWorldOptions opt = { .store_path = db_path };
      FtSimWorld *w = ft_sim_world_new (sc, city, &opt, &error);
      if (w == NULL || !ft_sim_world_run (w, NULL, NULL, &error) || !ft_sim_world_finish (w, &error))
        {
          fprintf (stderr, "bench-analytics: %s\n", error->message);
          return 1;
        }
      ft_sim_world_free (w);
      if (smoke)
        runs = 1;
    }
  g_autoptr (FtStore) s = ft_store_open (db_path, NULL, &error);
  if (s == NULL)
    {
      fprintf (stderr, "bench-analytics: %s\n", error->message);
      return 1;
    }
  FtAnalyticsZoning z = { .n_zones = city->n_zones, .zone_at = zone_at, .user_data = city,
                          .signature = "bench: Demo City", .currency = "EUR" };
  g_autofree double *secs = g_new (double, runs);
  g_autofree double *rate = g_new (double, runs);
  g_autofree double *cpu = g_new (double, runs);
  guint64 events = 0;
  for (gint i = 0; i < runs; i++)
    {
      FtAnalyticsBuildOptions o = { .rebuild = TRUE, .batch_events = (guint) batch };
      FtAnalyticsBuildStats st;
      double c0 = cpu_seconds ();
      if (!ft_analytics_build (ft_store_get_db (s), &z, &o, &st, &error))
        {
          fprintf (stderr, "bench-analytics: %s\n", error->message);
          return 1;
        }
      cpu[i] = cpu_seconds () - c0;
      secs[i] = st.seconds;
      rate[i] = st.events_read / MAX (st.seconds, 1e-9);
      events = st.events_read;
      printf ("run %d: %" G_GUINT64_FORMAT " events in %.3f s wall, %.3f s CPU (%.0f events/s, %"
              G_GUINT64_FORMAT " batches)\n", i + 1, st.events_read, st.seconds, cpu[i], rate[i], st.batches);
    }
  double med_s = ft_test_median (secs, (guint) runs);
  double med_r = ft_test_median (rate, (guint) runs);
  double med_c = ft_test_median (cpu, (guint) runs);
  printf ("analytics build: %" G_GUINT64_FORMAT " events, median over %d runs: %.3f s wall, %.3f s CPU, "
          "%.0f events/s (wall), %.0f events/s (CPU)\n",
          events, runs, med_s, med_c, med_r, events / MAX (med_c, 1e-9));
  g_clear_pointer (&s, ft_store_close);
  if (tmp)
    ft_test_rm_rf (tmp);
  return 0;
}
