/* bench-live-ops.c — operations on live state without a broker: one
 * proposal scan (ft_live_propose: every vehicle checked, proposals valued,
 * open tasks re-valued) and one re-plan (ft_live_replan: approved tasks
 * dispatched, every staff member's stop list built and queued in the
 * outbox) at N vehicles and S staff, fed through the ingest path. Prints
 * the median and the worst of R repetitions (thread CPU time) and the
 * load. `--smoke` is a seconds-long check.
 *
 *   bench-live-ops [--vehicles 10000] [--staff 50] [--repeats 7] [--smoke]
 */
#include "ft-live.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define T0 ((FtTime) 1700000000000)

static double
cpu_ms (void)
{
  struct timespec ts;
  clock_gettime (CLOCK_THREAD_CPUTIME_ID, &ts);
  return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static int
cmp_double (const void *a, const void *b)
{
  double x = *(const double *) a, y = *(const double *) b;
  return x < y ? -1 : x > y;
}

static void
feed (FtLive *live, const char *topic, const char *payload, FtTime now)
{
  g_autoptr(GError) error = NULL;
  if (!ft_live_ingest (live, topic, payload, strlen (payload), now, &error))
    g_error ("%s: %s", topic, error->message);
}

int
main (int argc, char **argv)
{
  guint n_veh = 10000, n_staff = 50, repeats = 7;
  gboolean smoke = FALSE;
  for (int i = 1; i < argc; i++)
    {
      if (strcmp (argv[i], "--smoke") == 0)
        smoke = TRUE;
      else if (strcmp (argv[i], "--vehicles") == 0 && i + 1 < argc)
        n_veh = (guint) atoi (argv[++i]);
      else if (strcmp (argv[i], "--staff") == 0 && i + 1 < argc)
        n_staff = (guint) atoi (argv[++i]);
      else if (strcmp (argv[i], "--repeats") == 0 && i + 1 < argc)
        repeats = (guint) atoi (argv[++i]);
      else
        {
          fprintf (stderr, "usage: %s [--vehicles N] [--staff S] [--repeats R] [--smoke]\n", argv[0]);
          return 2;
        }
    }
  if (smoke)
    n_veh = 500, n_staff = 5, repeats = 2;
  if (n_veh < 1 || n_staff < 1 || repeats < 1)
    {
      fprintf (stderr, "%s: --vehicles, --staff and --repeats must be positive\n", argv[0]);
      return 2;
    }
  FtCoreConfig cc;
  ft_core_config_init (&cc);
  FtCore *core = ft_core_new (&cc, NULL, NULL);
  ft_event_log_set_retain (core->log, FALSE);
  FtLiveConfig cfg;
  ft_live_config_init (&cfg);
  cfg.prefix = g_strdup ("ft/bench");
  cfg.unknown = FT_LIVE_UNKNOWN_REGISTER;
  cfg.provision_per_minute = 1000000;
  g_autoptr(GError) error = NULL;
  FtLive *live = ft_live_new (core, &cfg, &error);
  ft_live_config_clear (&cfg);
  if (live == NULL)
    g_error ("%s", error->message);
  ft_live_set_ops (live, core->ops);
  FtLiveOpsConfig oc;
  ft_live_ops_config_init (&oc);
  oc.propose = TRUE;
  ft_live_set_ops_config (live, &oc, NULL);
  GRand *r = g_rand_new_with_seed (13);
  /* a city of 10 x 10 km; a quarter of the fleet under 25 % */
  for (guint i = 0; i < n_veh; i++)
    {
      char dev[37], topic[96], payload[256];
      ft_uuid_from_words (0x1234 + i, 0x9876ull << 20 | i, dev);
      g_snprintf (topic, sizeof topic, "ft/bench/vehicles/%s/telemetry", dev);
      g_snprintf (payload, sizeof payload,
                  "{\"timestamp\":%" G_GINT64_FORMAT ",\"lat\":%.6f,\"lon\":%.6f,\"battery_pct\":%.1f,"
                  "\"vehicle_state\":\"available\"%s}", T0, 52.45 + g_rand_double (r) * 0.09,
                  13.30 + g_rand_double (r) * 0.15, g_rand_double_range (r, 5, 100),
                  i % 97 == 0 ? ",\"fault_codes\":[2]" : "");
      feed (live, topic, payload, T0);
    }
  for (guint s = 0; s < n_staff; s++)
    {
      char topic[96], payload[160];
      g_snprintf (topic, sizeof topic, "ft/bench/staff/van-%u/position", s);
      g_snprintf (payload, sizeof payload, "{\"timestamp\":%" G_GINT64_FORMAT ",\"lat\":%.6f,\"lon\":%.6f}", T0,
                  52.45 + g_rand_double (r) * 0.09, 13.30 + g_rand_double (r) * 0.15);
      feed (live, topic, payload, T0);
    }
  gint disp = ft_accounts_create (core->accounts, FT_ROLE_DISPATCHER, "bench", NULL, T0, NULL);
  g_autofree double *scan = g_new (double, repeats), *plan = g_new (double, repeats);
  guint proposed = 0;
  for (guint k = 0; k < repeats; k++)
    {
      FtTime now = T0 + (k + 1) * 1000;
      double c0 = cpu_ms ();
      proposed += ft_live_propose (live, now);
      double c1 = cpu_ms ();
      if (k == 0 && !ft_live_set_auto_approve (live, TRUE, disp, now, &error))
        g_error ("%s", error->message);
      double c2 = cpu_ms ();
      ft_live_replan (live, now);
      double c3 = cpu_ms ();
      scan[k] = c1 - c0;
      plan[k] = c3 - c2;
    }
  if (!ft_live_check (live, &error) || !ft_ops_check (core->ops, &error))
    g_error ("%s", error->message);
  guint on_lists = 0;
  for (guint s = 0; s < ft_live_n_staff (live); s++)
    {
      const FtLiveStopList *l = ft_live_get_stop_list (live, s);
      on_lists += l ? l->n_stops : 0;
    }
  qsort (scan, repeats, sizeof *scan, cmp_double);
  qsort (plan, repeats, sizeof *plan, cmp_double);
  double load[3] = { 0 };
  if (getloadavg (load, 3) < 0)
    load[0] = -1;
  printf ("live ops: %u vehicles, %u staff, %u proposed, %u stops on lists, %u open\n", n_veh, n_staff,
          proposed, on_lists, ft_ops_count_state (core->ops, FT_TASK_OPEN));
  printf ("proposal scan: median %.2f ms, max %.2f ms CPU; re-plan: median %.2f ms, max %.2f ms CPU "
          "(%u repeats, load %.1f)\n", scan[repeats / 2], scan[repeats - 1], plan[repeats / 2],
          plan[repeats - 1], repeats, load[0]);
  g_rand_free (r);
  ft_live_free (live);
  ft_core_free (core);
  return 0;
}
