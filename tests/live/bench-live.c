/* bench-live.c — live ingest benchmark over a real loopback mosquitto:
 * telemetry messages per second ingested into twin state at QoS 0 and
 * QoS 1 (emulator → broker → adapter queue → FtCore), against the broker's
 * own delivery rate to mosquitto_sub (the named alternative) for the same
 * stream; and publish-to-state latency p50/p99 for 10,000 vehicles at 1 Hz
 * (sent_us in the payload, measured on the twin thread after apply).
 * Prints medians of repeated runs. `--smoke` is a seconds-long check.
 */
#include "ft-live.h"
#include "live-broker.h"

#include <stdio.h>
#include <string.h>
#include <stdlib.h>

#define PFX "ft/bench"

static gboolean smoke;
static guint n_vehicles = 10000;
static guint n_messages = 200000;
static guint repeats = 3;
static double latency_s = 20;
static gboolean direct_only;

static FtTime
wall (void)
{
  return g_get_real_time () / 1000;
}

static int
cmp_double (const void *a, const void *b)
{
  double x = *(const double *) a, y = *(const double *) b;
  return x < y ? -1 : x > y;
}

static const char *
load_avg (void)
{
  static char buf[64];
  g_autofree char *text = NULL;
  if (!g_file_get_contents ("/proc/loadavg", &text, NULL, NULL))
    return "?";
  g_strlcpy (buf, text, sizeof buf);
  char *sp = strchr (buf, ' ');
  if (sp && (sp = strchr (sp + 1, ' ')) && (sp = strchr (sp + 1, ' ')))
    *sp = '\0';
  return buf;
}

static double
median (double *v, guint n)
{
  qsort (v, n, sizeof *v, cmp_double);
  return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

static FtLiveEmuVehicle *
make_fleet (guint n)
{
  FtLiveEmuVehicle *v = g_new0 (FtLiveEmuVehicle, n);
  for (guint i = 0; i < n; i++)
    {
      ft_uuid_from_words (ft_mix64 (i + 1), ft_mix64 (i + 0x9e37), v[i].device_id);
      g_strlcpy (v[i].kind, "scooter", sizeof v[i].kind);
      v[i].pos = (FtLatLon) { 52.4 + (i % 100) * 0.002, 13.2 + (i / 100) * 0.002 };
      v[i].battery_pct = 50 + i % 50;
      g_strlcpy (v[i].state, "available", sizeof v[i].state);
      v[i].locked = TRUE;
    }
  return v;
}

static FtLiveConfig
config_for (LiveBroker *b, const char *client, int qos)
{
  FtLiveConfig cfg;
  ft_live_config_init (&cfg);
  cfg.url = live_broker_url (b);
  cfg.prefix = g_strdup (PFX);
  cfg.client_id = g_strdup (client);
  cfg.qos = qos;
  cfg.announce_status = FALSE;
  cfg.silent_after = FT_HOUR;
  cfg.unknown = FT_LIVE_UNKNOWN_REGISTER;      /* the benchmark's fleet provisions itself */
  cfg.provision_per_minute = G_MAXUINT;
  return cfg;
}

/* ------------------------------------------------------------ publisher */

typedef struct {
  FtLiveEmu        *emu;
  FtLiveEmuVehicle *fleet;
  guint             n_vehicles;
  guint             n_messages;
  int               qos;
  FtTime            base_ts;
  double            rate_hz;     /* 0: as fast as possible; else per vehicle */
  double            seconds;     /* paced mode duration */
  gint64            t_start, t_end;
  guint64           published;
  gint              done;        /* atomic */
} PubJob;

static gpointer
publisher (gpointer data)
{
  PubJob *j = data;
  j->t_start = g_get_monotonic_time ();
  if (j->rate_hz <= 0)
    {
      for (guint k = 0; k < j->n_messages; k++)
        {
          guint v = k % j->n_vehicles;
          FtTime ts = j->base_ts + 1 + k / j->n_vehicles;
          j->published += ft_live_emu_publish_one (j->emu, &j->fleet[v], ts, -1, j->qos);
        }
    }
  else
    {
      /* each vehicle once per 1/rate s, spread evenly over the period */
      double per_sec = j->n_vehicles * j->rate_hz;
      guint64 total = (guint64) (per_sec * j->seconds);
      for (guint64 k = 0; k < total; k++)
        {
          gint64 due = j->t_start + (gint64) (k * 1e6 / per_sec);
          gint64 now = g_get_monotonic_time ();
          if (due > now + 200)
            g_usleep (due - now);
          guint v = (guint) (k % j->n_vehicles);
          j->fleet[v].pos.lat += 1e-6;
          j->published += ft_live_emu_publish_one (j->emu, &j->fleet[v], wall (), 0, j->qos);
        }
    }
  j->t_end = g_get_monotonic_time ();
  g_atomic_int_set (&j->done, 1);
  return NULL;
}

/* ------------------------------------------------------- twin ingest run */

typedef struct {
  double *lat_ms;
  guint   n, cap;
} LatAcc;

static void
on_telemetry (FtLive *live, guint vehicle, const FtLiveTelemetry *t, gpointer data)
{
  LatAcc *a = data;
  if (t->sent_us < 0 || a->n >= a->cap)
    return;
  a->lat_ms[a->n++] = (g_get_real_time () - t->sent_us) / 1000.0;
}

typedef struct {
  FtCore *core;
  FtLive *live;
} Twin;

static gboolean
twin_open (Twin *tw, LiveBroker *b, int qos, GError **error)
{
  FtCoreConfig cc;
  ft_core_config_init (&cc);
  tw->core = ft_core_new (&cc, NULL, NULL);
  ft_event_log_set_retain (tw->core->log, FALSE);   /* no store attached: count only */
  FtLiveConfig cfg = config_for (b, "bench-twin", qos);
  tw->live = ft_live_new (tw->core, &cfg, error);
  ft_live_config_clear (&cfg);
  return tw->live && ft_live_connect_sync (tw->live, 5000, error);
}

static void
twin_close (Twin *tw)
{
  if (tw->live)
    {
      ft_live_stop (tw->live);
      ft_live_free (tw->live);
    }
  ft_core_free (tw->core);
}

/* Pump until `target` telemetry messages are in state or 3 s pass without
 * progress. Returns the monotonic time of the last applied batch. */
static gint64
pump (Twin *tw, guint64 target)
{
  gint64 last = g_get_monotonic_time ();
  guint64 seen = ft_live_get_stats (tw->live)->telemetry;
  while (ft_live_get_stats (tw->live)->telemetry < target)
    {
      ft_live_wait (tw->live, 50);
      if (ft_live_process (tw->live, wall (), 0) > 0)
        {
          guint64 now_seen = ft_live_get_stats (tw->live)->telemetry;
          if (now_seen != seen)
            {
              seen = now_seen;
              last = g_get_monotonic_time ();
            }
        }
      else if (g_get_monotonic_time () - last > 3 * G_USEC_PER_SEC)
        break;
    }
  return last;
}

static FtLiveEmu *
emu_open (LiveBroker *b, int qos, GError **error)
{
  FtLiveConfig cfg = config_for (b, "bench-emu", qos);
  FtLiveEmu *emu = ft_live_emu_new (&cfg, error);
  ft_live_config_clear (&cfg);
  if (emu && !ft_live_emu_connect (emu, 5000, error))
    {
      ft_live_emu_free (emu);
      return NULL;
    }
  return emu;
}

/* One throughput run: twin ingest rate in msg/s (and loss). */
static double
run_twin_throughput (LiveBroker *b, int qos, FtLiveEmuVehicle *fleet, double *loss_out,
                     double *pub_rate_out)
{
  g_autoptr(GError) error = NULL;
  Twin tw = { 0 };
  if (!twin_open (&tw, b, qos, &error))
    g_error ("twin: %s", error->message);
  FtLiveEmu *emu = emu_open (b, qos, &error);
  if (emu == NULL)
    g_error ("emulator: %s", error->message);
  g_usleep (200000);
  /* warm-up: register the fleet */
  FtTime base = wall ();
  for (guint i = 0; i < n_vehicles; i++)
    ft_live_emu_publish_one (emu, &fleet[i], base, -1, 1);
  pump (&tw, n_vehicles);
  guint64 before = ft_live_get_stats (tw.live)->telemetry;

  PubJob j = { .emu = emu, .fleet = fleet, .n_vehicles = n_vehicles, .n_messages = n_messages, .qos = qos, .base_ts = base };
  GThread *th = g_thread_new ("publisher", publisher, &j);
  gint64 last = pump (&tw, before + n_messages);
  g_thread_join (th);
  guint64 got = ft_live_get_stats (tw.live)->telemetry - before;
  double secs = (last - j.t_start) / 1e6;
  *loss_out = 1.0 - (double) got / n_messages;
  *pub_rate_out = j.published / ((j.t_end - j.t_start) / 1e6);
  g_autoptr(GError) cerr = NULL;
  if (!ft_core_check (tw.core, &cerr))
    g_error ("state invalid after the run: %s", cerr->message);
  ft_live_emu_free (emu);
  twin_close (&tw);
  return got / secs;
}

/* The named alternative: the broker delivering the same stream to
 * mosquitto_sub (which only counts and prints to /dev/null). */
static double
run_broker_throughput (LiveBroker *b, int qos, FtLiveEmuVehicle *fleet)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *port = g_strdup_printf ("%d", b->port);
  g_autofree char *count = g_strdup_printf ("%u", n_messages);
  g_autofree char *q = g_strdup_printf ("%d", qos);
  g_autoptr(GSubprocess) sub = g_subprocess_new (G_SUBPROCESS_FLAGS_STDOUT_SILENCE, &error,
                                                 "mosquitto_sub", "-h", "127.0.0.1", "-p", port,
                                                 "-q", q, "-C", count, "-W", "60",
                                                 "-t", PFX "/vehicles/+/telemetry", NULL);
  if (sub == NULL)
    g_error ("mosquitto_sub: %s", error->message);
  FtLiveEmu *emu = emu_open (b, qos, &error);
  if (emu == NULL)
    g_error ("emulator: %s", error->message);
  g_usleep (300000);
  PubJob j = { .emu = emu, .fleet = fleet, .n_vehicles = n_vehicles, .n_messages = n_messages, .qos = qos, .base_ts = wall () };
  GThread *th = g_thread_new ("publisher", publisher, &j);
  g_subprocess_wait (sub, NULL, NULL);
  gint64 end = g_get_monotonic_time ();
  g_thread_join (th);
  ft_live_emu_free (emu);
  return n_messages / ((end - j.t_start) / 1e6);
}

/* Scheduler noise probe: how late a 1 ms sleep wakes up while the run
 * goes on. A loaded machine shows up here, not only in the twin. */
typedef struct {
  gint    stop;
  double *late_ms;
  guint   n, cap;
} Jitter;

static gpointer
jitter_probe (gpointer data)
{
  Jitter *j = data;
  while (!g_atomic_int_get (&j->stop) && j->n < j->cap)
    {
      gint64 t0 = g_get_monotonic_time ();
      g_usleep (1000);
      j->late_ms[j->n++] = (g_get_monotonic_time () - t0 - 1000) / 1000.0;
    }
  return NULL;
}

static double jitter_p99_last;

static void
run_latency (LiveBroker *b, int qos, FtLiveEmuVehicle *fleet, double *p50, double *p99,
             double *pmax, guint *n_out)
{
  Jitter jit = { 0, NULL, 0, 200000 };
  jit.late_ms = g_new (double, jit.cap);
  g_autoptr(GError) error = NULL;
  Twin tw = { 0 };
  if (!twin_open (&tw, b, qos, &error))
    g_error ("twin: %s", error->message);
  FtLiveEmu *emu = emu_open (b, qos, &error);
  if (emu == NULL)
    g_error ("emulator: %s", error->message);
  g_usleep (200000);
  FtTime base = wall () - 1000;
  for (guint i = 0; i < n_vehicles; i++)
    ft_live_emu_publish_one (emu, &fleet[i], base, -1, 1);
  pump (&tw, n_vehicles);
  guint64 before = ft_live_get_stats (tw.live)->telemetry;
  LatAcc acc = { NULL, 0, (guint) (n_vehicles * latency_s) + 16 };
  acc.lat_ms = g_new (double, acc.cap);
  ft_live_set_telemetry_func (tw.live, on_telemetry, &acc);
  PubJob j = { .emu = emu, .fleet = fleet, .n_vehicles = n_vehicles, .qos = qos, .rate_hz = 1.0, .seconds = latency_s };
  GThread *th = g_thread_new ("publisher", publisher, &j);
  GThread *jt = g_thread_new ("jitter", jitter_probe, &jit);
  /* the twin loop a live deployment runs: wait briefly, drain, apply */
  while (!g_atomic_int_get (&j.done))
    {
      ft_live_wait (tw.live, 2);
      ft_live_process (tw.live, wall (), 0);
    }
  g_thread_join (th);
  g_atomic_int_set (&jit.stop, 1);
  g_thread_join (jt);
  qsort (jit.late_ms, jit.n, sizeof (double), cmp_double);
  jitter_p99_last = jit.n ? jit.late_ms[(guint) (jit.n * 0.99)] : NAN;
  g_free (jit.late_ms);
  pump (&tw, before + j.published);
  ft_live_set_telemetry_func (tw.live, NULL, NULL);
  qsort (acc.lat_ms, acc.n, sizeof (double), cmp_double);
  *n_out = acc.n;
  *p50 = acc.n ? acc.lat_ms[acc.n / 2] : NAN;
  *p99 = acc.n ? acc.lat_ms[(guint) (acc.n * 0.99)] : NAN;
  *pmax = acc.n ? acc.lat_ms[acc.n - 1] : NAN;
  g_free (acc.lat_ms);
  ft_live_emu_free (emu);
  twin_close (&tw);
}

/* The ingest path alone (no broker, no network thread): what the twin
 * thread can apply per second. */
static double
run_direct (FtLiveEmuVehicle *fleet)
{
  FtCoreConfig cc;
  ft_core_config_init (&cc);
  FtCore *core = ft_core_new (&cc, NULL, NULL);
  ft_event_log_set_retain (core->log, FALSE);
  FtLiveConfig cfg;
  ft_live_config_init (&cfg);
  cfg.prefix = g_strdup (PFX);
  cfg.silent_after = FT_HOUR;
  cfg.unknown = FT_LIVE_UNKNOWN_REGISTER;
  cfg.provision_per_minute = G_MAXUINT;
  FtLive *live = ft_live_new (core, &cfg, NULL);
  ft_live_config_clear (&cfg);
  guint n = n_messages;
  char **topics = g_new (char *, n_vehicles);
  char **payloads = g_new (char *, n);
  FtTime base = wall ();
  for (guint i = 0; i < n_vehicles; i++)
    topics[i] = g_strdup_printf (PFX "/vehicles/%s/telemetry", fleet[i].device_id);
  for (guint k = 0; k < n; k++)
    {
      const FtLiveEmuVehicle *v = &fleet[k % n_vehicles];
      char lat[G_ASCII_DTOSTR_BUF_SIZE], lon[G_ASCII_DTOSTR_BUF_SIZE];
      g_ascii_formatd (lat, sizeof lat, "%.7f", v->pos.lat + (k / n_vehicles) * 1e-6);
      g_ascii_formatd (lon, sizeof lon, "%.7f", v->pos.lon);
      payloads[k] = g_strdup_printf ("{\"device_id\":\"%s\",\"timestamp\":%" G_GINT64_FORMAT
                                     ",\"lat\":%s,\"lon\":%s,\"battery_pct\":%.1f,\"speed\":3.20,"
                                     "\"odometer_m\":1000,\"vehicle_state\":\"available\","
                                     "\"lock_state\":\"locked\",\"vehicle_type\":\"scooter\","
                                     "\"fault_codes\":[],\"sent_us\":-1}",
                                     v->device_id, base + 1 + k / n_vehicles, lat, lon, v->battery_pct);
    }
  gint64 t0 = g_get_monotonic_time ();
  for (guint k = 0; k < n; k++)
    ft_live_ingest (live, topics[k % n_vehicles], payloads[k], strlen (payloads[k]), base + 5, NULL);
  gint64 t1 = g_get_monotonic_time ();
  if (ft_live_get_stats (live)->telemetry != n)
    g_error ("direct ingest applied %" G_GUINT64_FORMAT " of %u", ft_live_get_stats (live)->telemetry, n);
  for (guint k = 0; k < n; k++)
    g_free (payloads[k]);
  for (guint i = 0; i < n_vehicles; i++)
    g_free (topics[i]);
  g_free (payloads);
  g_free (topics);
  ft_live_free (live);
  ft_core_free (core);
  return n / ((t1 - t0) / 1e6);
}

int
main (int argc, char **argv)
{
  for (int i = 1; i < argc; i++)
    {
      if (strcmp (argv[i], "--smoke") == 0)
        smoke = TRUE;
      else if (strcmp (argv[i], "--direct-only") == 0)
        direct_only = TRUE;
      else if (strcmp (argv[i], "--vehicles") == 0 && i + 1 < argc)
        n_vehicles = (guint) atoi (argv[++i]);
      else if (strcmp (argv[i], "--messages") == 0 && i + 1 < argc)
        n_messages = (guint) atoi (argv[++i]);
      else if (strcmp (argv[i], "--repeats") == 0 && i + 1 < argc)
        repeats = (guint) atoi (argv[++i]);
      else if (strcmp (argv[i], "--latency-seconds") == 0 && i + 1 < argc)
        latency_s = atof (argv[++i]);
      else
        {
          fprintf (stderr, "usage: %s [--smoke] [--vehicles N] [--messages M] [--repeats R] "
                           "[--latency-seconds S]\n", argv[0]);
          return 2;
        }
    }
  if (smoke)
    {
      n_vehicles = 500;
      n_messages = 5000;
      repeats = 1;
      latency_s = 2;
    }
  g_autoptr(GError) error = NULL;
  LiveBroker *b = live_broker_start (&error);
  if (b == NULL)
    {
      fprintf (stderr, "cannot start mosquitto: %s\n", error->message);
      return 1;
    }
  printf ("bench-live: mosquitto on 127.0.0.1:%d, %u vehicles, %u messages per run, "
          "median of %u runs, %u CPUs, load average %s\n", b->port, n_vehicles, n_messages, repeats,
          g_get_num_processors (), load_avg ());
  g_autofree FtLiveEmuVehicle *fleet = make_fleet (n_vehicles);
  int status = 0;
  {
    g_autofree double *d = g_new (double, repeats);
    for (guint r = 0; r < repeats; r++)
      d[r] = run_direct (fleet);
    printf ("ingest path alone (parse + apply, no broker): %9.0f msg/s\n", median (d, repeats));
    fflush (stdout);
  }
  if (direct_only)
    {
      live_broker_free (b);
      return 0;
    }
  for (int qos = 0; qos <= 1; qos++)
    {
      g_autofree double *twin = g_new (double, repeats);
      g_autofree double *broker = g_new (double, repeats);
      g_autofree double *loss = g_new (double, repeats);
      g_autofree double *pub = g_new (double, repeats);
      for (guint r = 0; r < repeats; r++)
        {
          broker[r] = run_broker_throughput (b, qos, fleet);
          twin[r] = run_twin_throughput (b, qos, fleet, &loss[r], &pub[r]);
        }
      double mt = median (twin, repeats), mb = median (broker, repeats);
      double ml = median (loss, repeats), mp = median (pub, repeats);
      printf ("QoS %d  twin ingest into state: %9.0f msg/s (loss %.2f%%)  |  broker → mosquitto_sub: "
              "%9.0f msg/s  |  ratio twin/broker %.2f  |  publisher %9.0f msg/s\n",
              qos, mt, ml * 100, mb, mt / mb, mp);
      fflush (stdout);
      if (qos == 0 && !smoke && mt < 100000)
        printf ("  below the 100,000 msg/s QoS 0 target\n");
    }
  for (int qos = 0; qos <= 1; qos++)
    {
      g_autofree double *p50 = g_new (double, repeats);
      g_autofree double *p99 = g_new (double, repeats);
      g_autofree double *pmax = g_new (double, repeats);
      g_autofree double *jit = g_new (double, repeats);
      guint n = 0;
      for (guint r = 0; r < repeats; r++)
        {
          run_latency (b, qos, fleet, &p50[r], &p99[r], &pmax[r], &n);
          jit[r] = jitter_p99_last;
        }
      double m99 = median (p99, repeats);
      printf ("latency publish→state, %u vehicles × 1 Hz, QoS %d, %.0f s (%u samples in the last run): "
              "p50 %.2f ms, p99 %.2f ms, max %.2f ms (medians of %u runs)\n",
              n_vehicles, qos, latency_s, n, median (p50, repeats), m99, median (pmax, repeats), repeats);
      printf ("  scheduler noise in the same runs: a 1 ms sleep wakes up late by p99 %.2f ms (median); "
              "load average now %s\n", median (jit, repeats), load_avg ());
      fflush (stdout);
      if (!smoke && !(m99 < 20))
        printf ("  p99 above the 20 ms target\n");
      if (smoke && n == 0)
        status = 1;
    }
  live_broker_free (b);
  return status;
}
