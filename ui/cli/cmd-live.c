/* cmd-live.c — `fleet-twin-cli emulate` runs a simulator scenario and
 * publishes its vehicles and staff as live MQTT telemetry (obeying and
 * acking the commands it receives, and carrying out staff task assignments
 * in the simulated world, reporting accepted / in_progress / done); `fleet-twin-cli live` attaches the twin
 * headless to a broker, ingests, persists through the FtCore store and
 * prints status. Both speak src/live/MQTT-CONTRACT.md.
 */
#include "ft-config.h"
#include "ft-cli.h"
#include "ft-data.h"
#include "ft-live.h"
#include "ft-serve.h"
#include "ft-sim-world.h"

#include <stdio.h>
#include <string.h>
#include <signal.h>
#include <termios.h>
#include <unistd.h>

/* The one flag a signal handler may set (SIGINT/SIGTERM: stop cleanly). */
static volatile sig_atomic_t stop_requested;

static void
on_signal (int sig)
{
  stop_requested = 1;
}

static void
install_signals (void)
{
  stop_requested = 0;
  signal (SIGINT, on_signal);
  signal (SIGTERM, on_signal);
}

static FtTime
wall_ms (void)
{
  return g_get_real_time () / 1000;
}

typedef struct {
  char  *broker, *prefix, *ca, *cert, *key, *user, *pass, *pass_file, *client_id;
  int    protocol, qos;
} BrokerOpts;

static void
broker_opts_clear (BrokerOpts *b)
{
  g_free (b->broker); g_free (b->prefix); g_free (b->ca); g_free (b->cert);
  g_free (b->key); g_free (b->user); g_free (b->pass_file); g_free (b->client_id);
  if (b->pass)
    memset (b->pass, 0, strlen (b->pass));
  g_free (b->pass);
}

static void
add_broker_entries (GOptionContext *ctx, BrokerOpts *b)
{
  GOptionEntry entries[] = {
    { "broker", 'b', 0, G_OPTION_ARG_STRING, &b->broker, "Broker URL (mqtt://host:port, mqtts://…)", "URL" },
    { "prefix", 'p', 0, G_OPTION_ARG_STRING, &b->prefix, "Fleet topic prefix (default ft)", "P" },
    { "ca", 0, 0, G_OPTION_ARG_FILENAME, &b->ca, "CA file for mqtts://", "FILE" },
    { "cert", 0, 0, G_OPTION_ARG_FILENAME, &b->cert, "Client certificate (PEM)", "FILE" },
    { "key", 0, 0, G_OPTION_ARG_FILENAME, &b->key, "Client key (PEM)", "FILE" },
    { "username", 'u', 0, G_OPTION_ARG_STRING, &b->user, "MQTT username", "NAME" },
    { "password-file", 0, 0, G_OPTION_ARG_FILENAME, &b->pass_file,
      "Read the MQTT password from the first line of FILE (else FT_MQTT_PASSWORD, else a prompt "
      "on a terminal)", "FILE" },
    /* refused: a password on the command line is visible to every user in ps */
    { "password", 'P', G_OPTION_FLAG_HIDDEN, G_OPTION_ARG_STRING, &b->pass, NULL, NULL },
    { "client-id", 0, 0, G_OPTION_ARG_STRING, &b->client_id,
      "MQTT client id (live: names the broker session that keeps messages while the twin is "
      "away; default fleet-twin-<hash of host name and --db path>)", "ID" },
    { "protocol", 0, 0, G_OPTION_ARG_INT, &b->protocol, "MQTT protocol: 3 (3.1.1, default) or 5", "N" },
    { "qos", 0, 0, G_OPTION_ARG_INT, &b->qos, "QoS for telemetry (0 or 1, default 1)", "N" },
    { NULL }
  };
  GOptionGroup *g = g_option_group_new ("broker", "Broker options", "Show broker options", NULL, NULL);
  g_option_group_add_entries (g, entries);
  g_option_context_add_group (ctx, g);
}

/* Read a password with the terminal's echo off. NULL if stdin is no terminal. */
static char *
prompt_password (const char *user, const char *url)
{
  if (!isatty (STDIN_FILENO))
    return NULL;
  g_autofree char *shown = ft_live_url_redact (url);
  fprintf (stderr, "MQTT password for %s at %s: ", user, shown);
  fflush (stderr);
  struct termios old, quiet;
  gboolean restore = tcgetattr (STDIN_FILENO, &old) == 0;
  if (restore)
    {
      quiet = old;
      quiet.c_lflag &= ~(tcflag_t) ECHO;
      tcsetattr (STDIN_FILENO, TCSAFLUSH, &quiet);
    }
  char buf[512];
  char *line = fgets (buf, sizeof buf, stdin);
  if (restore)
    tcsetattr (STDIN_FILENO, TCSAFLUSH, &old);
  fprintf (stderr, "\n");
  if (line == NULL)
    return NULL;
  buf[strcspn (buf, "\r\n")] = '\0';
  char *pw = g_strdup (buf);
  memset (buf, 0, sizeof buf);
  return pw;
}

/* The password comes from --password-file, FT_MQTT_PASSWORD or a prompt on a
 * terminal (when a user name is given); never from the command line. */
static gboolean
fill_config (FtLiveConfig *cfg, const BrokerOpts *b, const char *prog)
{
  ft_live_config_init (cfg);
  if (b->pass)
    {
      fprintf (stderr, "%s: --password/-P is not accepted: a password on the command line is "
                       "visible to every user (ps). Use --password-file FILE, the FT_MQTT_PASSWORD "
                       "environment variable, or type it at the prompt (with --username on a terminal)\n",
               prog);
      return FALSE;
    }
  cfg->url = g_strdup (b->broker);
  cfg->prefix = g_strdup (b->prefix ? b->prefix : "ft");
  cfg->client_id = g_strdup (b->client_id);
  cfg->ca_file = g_strdup (b->ca);
  cfg->cert_file = g_strdup (b->cert);
  cfg->key_file = g_strdup (b->key);
  cfg->username = g_strdup (b->user);
  if (b->pass_file)
    {
      g_autofree char *text = NULL;
      g_autoptr(GError) e = NULL;
      if (!g_file_get_contents (b->pass_file, &text, NULL, &e))
        {
          fprintf (stderr, "%s: --password-file: %s\n", prog, e->message);
          return FALSE;
        }
      text[strcspn (text, "\r\n")] = '\0';
      cfg->password = g_strdup (text);
      memset (text, 0, strlen (text));
    }
  else if (g_getenv ("FT_MQTT_PASSWORD"))
    cfg->password = g_strdup (g_getenv ("FT_MQTT_PASSWORD"));
  else if (b->user)
    cfg->password = prompt_password (b->user, b->broker);
  if (b->broker && strchr (b->broker, '@'))
    {
      FtLiveUrl u;
      if (ft_live_parse_url (b->broker, &u, NULL) && u.password)
        fprintf (stderr, "%s: warning: the broker URL holds a password, which other users can see "
                         "(ps); prefer --password-file or FT_MQTT_PASSWORD\n", prog);
      ft_live_url_clear (&u);
    }
  cfg->protocol = b->protocol ? b->protocol : 3;
  cfg->qos = b->qos;
  return TRUE;
}

static FtSimScenario *
load_scenario (const char *name, GError **error)
{
  if (g_strcmp0 (name, "default") == 0)
    return ft_sim_scenario_new_default ();
  static const char *const exts[] = { "", ".scenario", ".ini", ".conf", NULL };
  g_autofree char *p = ft_data_find_named ("scenarios", name, exts, "scenario", error);
  return p ? ft_sim_scenario_load (p, error) : NULL;
}

static const char *
kind_name (guint8 kind)
{
  switch (kind)
    {
    case FT_KIND_BIKE:  return "bike";
    case FT_KIND_MOPED: return "moped";
    default:            return "scooter";
    }
}

/* ---------------------------------------------------------------- emulate */

/* A task the twin assigned, injected into the simulated world. */
typedef struct {
  char    staff_id[40];
  gint64  twin_task, sim_task;
  int     reported;       /* 1 accepted, 2 in_progress, 3 done / failed */
  gboolean on_list;       /* came on a stop list: progress on stops/v1/progress */
} EmuJob;

static gint64 inject_task (FtSimWorld *w, gint acct, gint32 veh, const FtLiveEmuTask *x,
                           char *why_out, gsize why_len);

/* Obey a task assignment: map the staff member to the sim's account and the
 * vehicle to the sim's index, then dispatch it in the world (or hand the
 * world's own open task of that kind to this staff member). Acks it and
 * reports "accepted"; progress follows in report_jobs. */
static void
obey_task (FtLiveEmu *emu, FtSimWorld *w, const FtLiveEmuStaff *staff, const guint32 *staff_acct,
           guint ns, const FtLiveEmuVehicle *recs, guint n, GArray *jobs, const FtLiveEmuTask *x)
{
  FtTime now = wall_ms ();
  for (guint j = 0; j < jobs->len; j++)
    {
      EmuJob *job = &g_array_index (jobs, EmuJob, j);
      if (job->twin_task == x->task && strcmp (job->staff_id, x->staff_id) == 0)
        {
          ft_live_emu_ack_task (emu, x, "ok", NULL, now);   /* a resend: same answer */
          return;
        }
    }
  if (now > x->expires)
    {
      ft_live_emu_ack_task (emu, x, "expired", NULL, now);
      return;
    }
  gint acct = -1;
  for (guint i = 0; i < ns; i++)
    if (strcmp (staff[i].id, x->staff_id) == 0)
      acct = (gint) staff_acct[i];
  gint32 veh = -1;
  for (guint i = 0; x->device_id[0] && i < n; i++)
    if (strcmp (recs[i].device_id, x->device_id) == 0)
      veh = (gint32) i;
  char why[160];
  gint64 sim_task = inject_task (w, acct, veh, x, why, sizeof why);
  if (sim_task < 0)
    {
      ft_live_emu_ack_task (emu, x, "failed", why, now);
      return;
    }
  ft_live_emu_ack_task (emu, x, "ok", NULL, now);
  ft_live_emu_task_status (emu, x->staff_id, x->task, "accepted", NULL, now);
  EmuJob job = { { 0 }, x->task, sim_task, 1, FALSE };
  g_strlcpy (job.staff_id, x->staff_id, sizeof job.staff_id);
  g_array_append_val (jobs, job);
}

/* Put the twin's task into the simulated world for sim account acct;
 * returns the sim's task or -1 with the reason in why_out. */
static gint64
inject_task (FtSimWorld *w, gint acct, gint32 veh, const FtLiveEmuTask *x, char *why_out, gsize why_len)
{
  const char *why = NULL;
  g_autoptr(GError) e = NULL;
  gint64 sim_task = -1;
  gint32 by = ft_sim_world_dispatcher (w);
  FtOps *ops = ft_sim_world_get_ops (w);
  if (acct < 0)
    why = "no such staff member in the emulated crew";
  else if (x->device_id[0] && veh < 0)
    why = "no such vehicle in the emulated fleet";
  else if (by < 0)
    why = "the emulated scenario has no dispatcher";
  else
    {
      gint64 existing = veh >= 0 ? ft_ops_open_for (ops, (guint) veh, x->kind) : -1;
      if (existing >= 0)
        {
          const FtTask *t = ft_ops_get (ops, existing);
          if (t->state == FT_TASK_OPEN &&
              ft_ops_assign (ops, existing, (guint) acct, by, ft_sim_world_now (w), &e))
            sim_task = existing;
          else
            why = e ? e->message : "the vehicle's task of that kind is already being worked";
        }
      else
        {
          FtLatLon target = { 0, 0 };
          if (isfinite (x->target.lat) && isfinite (x->target.lon) &&
              (x->kind == FT_TASK_REBALANCE || x->kind == FT_TASK_DEPLOY))
            target = x->target;
          sim_task = ft_sim_world_dispatch (w, x->kind, veh, target, x->priority, (guint) by, acct, &e);
          if (sim_task < 0)
            why = e->message;
        }
    }
  if (sim_task < 0)
    g_strlcpy (why_out, why ? why : "refused", why_len);   /* e is freed on return */
  return sim_task;
}

/* Obey a stop list: every stop not yet worked goes into the simulated
 * world like an assignment (the sim's staff work their queue); the list is
 * acked, and a stop that cannot be carried out is reported skipped. */
static void
obey_stops (FtLiveEmu *emu, FtSimWorld *w, const FtLiveEmuStaff *staff, const guint32 *staff_acct,
            guint ns, const FtLiveEmuVehicle *recs, guint n, GArray *jobs, const FtLiveEmuStops *l)
{
  FtTime now = wall_ms ();
  if (now > l->expires)
    {
      ft_live_emu_ack_stops (emu, l, "expired", NULL, now);
      return;
    }
  gint acct = -1;
  for (guint i = 0; i < ns; i++)
    if (strcmp (staff[i].id, l->staff_id) == 0)
      acct = (gint) staff_acct[i];
  if (acct < 0)
    {
      ft_live_emu_ack_stops (emu, l, "failed", "no such staff member in the emulated crew", now);
      return;
    }
  ft_live_emu_ack_stops (emu, l, "ok", NULL, now);
  for (guint k = 0; k < l->n; k++)
    {
      gboolean known = FALSE;
      for (guint j = 0; j < jobs->len && !known; j++)
        {
          const EmuJob *job = &g_array_index (jobs, EmuJob, j);
          known = job->twin_task == l->task[k] && strcmp (job->staff_id, l->staff_id) == 0;
        }
      if (known)
        continue;
      FtLiveEmuTask x = { { 0 } };
      g_strlcpy (x.command_id, l->command_id, sizeof x.command_id);
      g_strlcpy (x.staff_id, l->staff_id, sizeof x.staff_id);
      x.task = l->task[k];
      x.kind = l->kind[k];
      g_strlcpy (x.device_id, l->device_id[k], sizeof x.device_id);
      x.target = l->target[k];
      x.priority = 5;
      x.expires = l->expires;
      gint32 veh = -1;
      for (guint i = 0; x.device_id[0] && i < n; i++)
        if (strcmp (recs[i].device_id, x.device_id) == 0)
          veh = (gint32) i;
      char why[160];
      gint64 sim_task = inject_task (w, acct, veh, &x, why, sizeof why);
      if (sim_task < 0)
        {
          ft_live_emu_stop_progress (emu, l->staff_id, x.task, "skipped", why, now);
          continue;
        }
      EmuJob job = { { 0 }, x.task, sim_task, 1, TRUE };
      g_strlcpy (job.staff_id, l->staff_id, sizeof job.staff_id);
      g_array_append_val (jobs, job);
    }
}

/* Report the progress of injected tasks as the simulated staff work them. */
static void
report_jobs (FtLiveEmu *emu, FtSimWorld *w, GArray *jobs, FtTime now)
{
  FtOps *ops = ft_sim_world_get_ops (w);
  for (guint j = 0; j < jobs->len; )
    {
      EmuJob *job = &g_array_index (jobs, EmuJob, j);
      const FtTask *t = ft_ops_get (ops, job->sim_task);
      if (t && (t->state == FT_TASK_IN_PROGRESS || t->state == FT_TASK_DONE) && job->reported < 2)
        {
          if (job->on_list)
            ft_live_emu_stop_progress (emu, job->staff_id, job->twin_task, "started", NULL, now);
          else
            ft_live_emu_task_status (emu, job->staff_id, job->twin_task, "in_progress", NULL, now);
          job->reported = 2;
        }
      if (t && t->state == FT_TASK_DONE)
        {
          if (job->on_list)
            ft_live_emu_stop_progress (emu, job->staff_id, job->twin_task, "done", NULL, now + 1);
          else
            ft_live_emu_task_status (emu, job->staff_id, job->twin_task, "done", NULL, now);
          job->reported = 3;
        }
      else if (t == NULL || t->state == FT_TASK_CANCELLED || t->state == FT_TASK_OPEN)
        {
          const char *why = t && t->state == FT_TASK_OPEN ? "staff went off shift" : "task cancelled";
          if (job->on_list)
            ft_live_emu_stop_progress (emu, job->staff_id, job->twin_task, "skipped", why, now);
          else
            ft_live_emu_task_status (emu, job->staff_id, job->twin_task, "failed", why, now);
          job->reported = 3;
        }
      if (job->reported == 3)
        g_array_remove_index (jobs, j);
      else
        j++;
    }
}

static gboolean
job_for_sim_task (GArray *jobs, gint64 sim_task)
{
  for (guint j = 0; j < jobs->len; j++)
    if (g_array_index (jobs, EmuJob, j).sim_task == sim_task)
      return TRUE;
  return FALSE;
}

int
ft_cli_emulate (int argc, char **argv)
{
  BrokerOpts b = { 0 };
  b.qos = 1;
  double rate = 1.0, speed = 1.0, duration = 0, start_hour = 7.0;
  GOptionEntry entries[] = {
    { "rate", 'r', 0, G_OPTION_ARG_DOUBLE, &rate, "Telemetry per vehicle per second (default 1)", "HZ" },
    { "speed", 's', 0, G_OPTION_ARG_DOUBLE, &speed, "Simulated seconds per wall second (default 1)", "X" },
    { "duration", 'd', 0, G_OPTION_ARG_DOUBLE, &duration, "Stop after this many wall seconds (default: until Ctrl-C)", "S" },
    { "start-hour", 0, 0, G_OPTION_ARG_DOUBLE, &start_hour, "Simulated hour of Monday to start at (default 7)", "H" },
    { NULL }
  };
  g_autoptr(GOptionContext) ctx = g_option_context_new ("SCENARIO — publish a simulated fleet over MQTT");
  g_option_context_add_main_entries (ctx, entries, NULL);
  add_broker_entries (ctx, &b);
  g_autoptr(GError) error = NULL;
  if (!g_option_context_parse (ctx, &argc, &argv, &error) || argc != 2 || b.broker == NULL)
    {
      fprintf (stderr, "%s: %s\nUsage: %s SCENARIO --broker URL --prefix P [--rate HZ] [--speed X] [--duration S]\n",
               argv[0], error ? error->message : "need a SCENARIO and --broker", argv[0]);
      broker_opts_clear (&b);
      return 2;
    }
  /* written so that NaN fails every test */
  if (!(rate > 0 && rate <= 100) || !(speed > 0 && speed <= 10000) || !(duration >= 0 && duration <= 1e9) ||
      !(start_hour >= 0 && start_hour < 24 * 7))
    {
      fprintf (stderr, "%s: --rate must be in (0, 100], --speed in (0, 10000], --duration >= 0\n", argv[0]);
      broker_opts_clear (&b);
      return 2;
    }
  FtLiveConfig cfg;
  if (!fill_config (&cfg, &b, argv[0]))
    {
      broker_opts_clear (&b);
      ft_live_config_clear (&cfg);
      return 2;
    }
  broker_opts_clear (&b);
  g_autofree char *shown_url = ft_live_url_redact (cfg.url);
  int status = 1;
  g_autoptr(FtSimScenario) sc = load_scenario (argv[1], &error);
  FtSimWorld *w = NULL;
  FtLiveEmu *emu = NULL;
  FtLiveEmuVehicle *recs = NULL;
  FtLiveEmuStaff *staff = NULL;
  guint32 *staff_acct = NULL;
  g_autoptr(GArray) jobs = g_array_new (FALSE, TRUE, sizeof (EmuJob));
  guint n = 0, ns = 0;
  if (sc == NULL)
    goto out;
  FtSimWorldOptions wopt = { .shadow_inline = TRUE };   /* live mode keeps shadow mode inline */
  w = ft_sim_world_new (sc, NULL, &wopt, &error);
  if (w == NULL || !ft_sim_world_run_until (w, (FtTime) (start_hour * FT_HOUR), &error))
    goto out;
  emu = ft_live_emu_new (&cfg, &error);
  if (emu == NULL || !ft_live_emu_connect (emu, 10000, &error))
    goto out;

  FtCore *core = ft_sim_world_get_core (w);
  n = ft_fleet_n_vehicles (core->fleet);
  recs = g_new0 (FtLiveEmuVehicle, MAX (n, 1));
  guint8 *prev_state = g_new0 (guint8, MAX (n, 1));
  {
    g_autoptr(FtSimSnapshot) snap = ft_sim_world_snapshot (w);
    for (guint i = 0; i < n; i++)
      {
        const FtVehicle *v = ft_fleet_get_vehicle (core->fleet, i);
        g_strlcpy (recs[i].device_id, v->device_id, sizeof recs[i].device_id);
        g_strlcpy (recs[i].kind, kind_name (v->kind), sizeof recs[i].kind);
        recs[i].pos = i < snap->n_vehicles ? snap->vehicles[i].pos : v->pos;
        recs[i].battery_pct = ft_fleet_soc (core->fleet, i) * 100.0;
        g_strlcpy (recs[i].state, ft_vehicle_state_name (v->state), sizeof recs[i].state);
        recs[i].locked = v->state != FT_STATE_ON_TRIP;
        recs[i].odometer_m = v->odometer_m;
        prev_state[i] = v->state;
      }
    ns = snap->n_staff;
    staff = g_new0 (FtLiveEmuStaff, MAX (ns, 1));
    staff_acct = g_new0 (guint32, MAX (ns, 1));
    for (guint i = 0; i < ns; i++)
      {
        staff_acct[i] = snap->staff[i].account;
        const FtAccount *a = ft_accounts_get (core->accounts, snap->staff[i].account);
        g_strlcpy (staff[i].id, a ? a->id : "unknown", sizeof staff[i].id);
      }
  }
  FtTime now = wall_ms ();
  ft_live_emu_announce (emu, recs, n, now);
  printf ("emulating %u vehicles and %u staff from '%s' on %s prefix %s at %.2f Hz, speed x%.1f\n",
          n, ns, argv[1], shown_url, cfg.prefix, rate, speed);
  fflush (stdout);

  install_signals ();
  gint64 t0 = g_get_monotonic_time ();
  gint64 period_us = (gint64) (1e6 / rate);
  FtTime sim_t = ft_sim_world_now (w);
  guint64 commands = 0, events = 0;
  gint64 next_print = t0 + 10 * G_USEC_PER_SEC;
  for (guint64 k = 1; !stop_requested; k++)
    {
      gint64 due = t0 + (gint64) k * period_us;
      /* obey commands while waiting for the next tick */
      for (;;)
        {
          guint nc = 0;
          g_autofree FtLiveEmuCommand *cmds = ft_live_emu_poll (emu, &nc);
          for (guint i = 0; i < nc; i++)
            ft_live_emu_obey (emu, recs, n, &cmds[i], wall_ms ());
          commands += nc;
          guint nt = 0;
          g_autofree FtLiveEmuTask *tasks = ft_live_emu_poll_tasks (emu, &nt);
          for (guint i = 0; i < nt; i++)
            obey_task (emu, w, staff, staff_acct, ns, recs, n, jobs, &tasks[i]);
          commands += nt;
          guint nl = 0;
          g_autofree FtLiveEmuStops *lists = ft_live_emu_poll_stops (emu, &nl);
          for (guint i = 0; i < nl; i++)
            obey_stops (emu, w, staff, staff_acct, ns, recs, n, jobs, &lists[i]);
          commands += nl;
          gint64 left = due - g_get_monotonic_time ();
          if (left <= 0 || stop_requested)
            break;
          g_usleep (MIN (left, 20000));
        }
      if (duration > 0 && g_get_monotonic_time () - t0 >= (gint64) (duration * 1e6))
        break;
      FtTime dt_sim = (FtTime) (speed * 1000.0 / rate);
      sim_t += dt_sim;
      if (!ft_sim_world_run_until (w, sim_t, &error))
        break;
      g_autoptr(FtSimSnapshot) snap = ft_sim_world_snapshot (w);
      now = wall_ms ();
      guint nv = MIN (n, snap->n_vehicles);
      for (guint i = 0; i < nv; i++)
        {
          const FtSimVehicleSnap *s = &snap->vehicles[i];
          const FtVehicle *v = ft_fleet_get_vehicle (core->fleet, i);
          double moved = ft_distance_fast_m (recs[i].pos, s->pos);
          recs[i].speed_mps = dt_sim > 0 ? moved / (dt_sim / 1000.0) : 0;
          if (recs[i].speed_mps > 40)
            recs[i].speed_mps = 0;   /* a van moved it, not a ride */
          recs[i].pos = s->pos;
          recs[i].battery_pct = CLAMP (s->soc * 100.0, 0.0, 100.0);
          recs[i].odometer_m = v->odometer_m;
          recs[i].fault_codes = v->fault_codes;
          if (s->state != prev_state[i])
            {
              g_strlcpy (recs[i].state, ft_vehicle_state_name (s->state), sizeof recs[i].state);
              recs[i].locked = s->state != FT_STATE_ON_TRIP;
              ft_live_emu_publish_event (emu, &recs[i], ft_vehicle_event_name (v->last_event), now);
              prev_state[i] = s->state;
              events++;
            }
        }
      ft_live_emu_publish (emu, recs, n, now, 0);
      for (guint i = 0; i < MIN (ns, snap->n_staff); i++)
        {
          staff[i].pos = snap->staff[i].pos;
          if (snap->staff[i].task >= 0 && job_for_sim_task (jobs, snap->staff[i].task))
            staff[i].task_id[0] = '\0';   /* reported under the twin's id by report_jobs */
          else if (snap->staff[i].task >= 0)
            {
              g_snprintf (staff[i].task_id, sizeof staff[i].task_id, "%" G_GINT64_FORMAT,
                          snap->staff[i].task);
              g_strlcpy (staff[i].task_status, "assigned", sizeof staff[i].task_status);
            }
          else if (staff[i].task_id[0])
            g_strlcpy (staff[i].task_status, "done", sizeof staff[i].task_status);
        }
      ft_live_emu_publish_staff (emu, staff, ns, now);
      report_jobs (emu, w, jobs, now);
      for (guint i = 0; i < ns; i++)
        if (g_strcmp0 (staff[i].task_status, "done") == 0)
          staff[i].task_id[0] = '\0';
      if (g_get_monotonic_time () >= next_print)
        {
          g_autofree char *tf = ft_time_format (sim_t);
          printf ("%s · %s · %" G_GUINT64_FORMAT " messages, %" G_GUINT64_FORMAT " events, %"
                  G_GUINT64_FORMAT " commands obeyed\n",
                  tf, ft_live_conn_state_name (ft_live_emu_get_conn_state (emu)),
                  ft_live_emu_n_published (emu), events, commands);
          fflush (stdout);
          next_print += 10 * G_USEC_PER_SEC;
        }
    }
  g_free (prev_state);
  ft_live_emu_stop (emu, recs, n, wall_ms ());
  printf ("emulator done: %" G_GUINT64_FORMAT " messages, %" G_GUINT64_FORMAT " events, %"
          G_GUINT64_FORMAT " commands obeyed\n", ft_live_emu_n_published (emu), events, commands);
  status = error ? 1 : 0;

out:
  if (error)
    fprintf (stderr, "%s: %s\n", argv[0], error->message);
  g_free (recs);
  g_free (staff);
  g_free (staff_acct);
  if (emu)
    ft_live_emu_free (emu);
  if (w)
    ft_sim_world_free (w);
  ft_live_config_clear (&cfg);
  return status;
}

/* ------------------------------------------------------------------- live */

static void
print_state (FtLive *live, FtLiveConnState state, const char *detail, gpointer user_data)
{
  printf ("[%s]%s%s\n", ft_live_conn_state_name (state), detail ? " " : "", detail ? detail : "");
  fflush (stdout);
}

/* Shadow mode for live: the demand forecast on the zones of a city pack
 * (Demo City by default), hour 0 the current hour, wall time, and
 * predictive maintenance for every vehicle. */
static FtShadow *
live_shadow_new (FtCore *core, const char *city_dir, const char *db, FtTime now, GError **error)
{
  g_autoptr (FtCity) city = city_dir && g_strcmp0 (city_dir, "demo") != 0
                              ? ft_city_load (city_dir, error) : ft_city_generate_demo (NULL, error);
  if (city == NULL)
    return NULL;
  g_autofree double *lat = g_new (double, city->n_zones), *lon = g_new (double, city->n_zones);
  g_autofree const char **ids = g_new0 (const char *, city->n_zones + 1);
  for (guint z = 0; z < city->n_zones; z++)
    {
      ids[z] = city->zones[z].id;
      lat[z] = city->zones[z].centroid.lat;
      lon[z] = city->zones[z].centroid.lon;
    }
  g_autoptr (FtZoning) zoning = ft_zoning_new (city->n_zones, ids, lat, lon, error);
  if (zoning == NULL)
    return NULL;
  zoning->max_m = 5000;
  FtShadowConfig sc;
  ft_shadow_config_init (&sc);
  sc.forecast = TRUE;
  sc.city = city->id;
  sc.params.xgb_nthread = 1;
  /* predictive maintenance beside it, on the store's history and what
   * comes in */
  sc.maint.enabled = TRUE;
  sc.maint.history_db = db;
  sc.maint.params.xgb_nthread = 1;
  return ft_shadow_new (&sc, zoning, core->log, core->store, now - now % FT_HOUR, error);
}

/* ---- live metrics ------------------------------------------------------------ */

/* What `live --metrics` exposes beside the store-derived series of the feed
 * server: the ingest path's counters (as deltas of FtLiveStats, so they stay
 * monotonic), queue depths, connection state, commit latency and command
 * round trips (issue to device ack). */
typedef struct {
  FtLiveStats prev;
  FtTime      rtt_mark;   /* newest command close already observed */
} LiveMetrics;

static void
live_metrics_update (LiveMetrics *lm, FtMetrics *m, FtLive *live)
{
  const FtLiveStats *st = ft_live_get_stats (live);
  static const struct { const char *label; gsize off; } counters[] = {
    { "received", G_STRUCT_OFFSET (FtLiveStats, received) },
    { "applied", G_STRUCT_OFFSET (FtLiveStats, applied) },
    { "stale", G_STRUCT_OFFSET (FtLiveStats, stale) },
    { "duplicate", G_STRUCT_OFFSET (FtLiveStats, duplicates) },
    { "malformed", G_STRUCT_OFFSET (FtLiveStats, malformed) },
    { "unknown_refused", G_STRUCT_OFFSET (FtLiveStats, unknown_refused) },
  };
  for (guint i = 0; i < G_N_ELEMENTS (counters); i++)
    {
      guint64 now = G_STRUCT_MEMBER (guint64, st, counters[i].off);
      guint64 was = G_STRUCT_MEMBER (guint64, &lm->prev, counters[i].off);
      g_autofree char *l = g_strdup_printf ("outcome=\"%s\"", counters[i].label);
      ft_metrics_counter_add (m, "fleet_twin_live_messages_total", "MQTT messages ingested, by outcome", l,
                              (double) (now - was));
    }
  static const struct { const char *label; gsize off; } cmds[] = {
    { "sent", G_STRUCT_OFFSET (FtLiveStats, commands_sent) },
    { "acked", G_STRUCT_OFFSET (FtLiveStats, commands_acked) },
    { "failed", G_STRUCT_OFFSET (FtLiveStats, commands_failed) },
    { "expired", G_STRUCT_OFFSET (FtLiveStats, commands_expired) },
    { "retried", G_STRUCT_OFFSET (FtLiveStats, command_retries) },
  };
  for (guint i = 0; i < G_N_ELEMENTS (cmds); i++)
    {
      guint64 now = G_STRUCT_MEMBER (guint64, st, cmds[i].off);
      guint64 was = G_STRUCT_MEMBER (guint64, &lm->prev, cmds[i].off);
      g_autofree char *l = g_strdup_printf ("outcome=\"%s\"", cmds[i].label);
      ft_metrics_counter_add (m, "fleet_twin_live_commands_total", "Vehicle commands, by outcome", l,
                              (double) (now - was));
    }
  ft_metrics_counter_add (m, "fleet_twin_live_connects_total", "MQTT connections made", NULL,
                          (double) (st->connects - lm->prev.connects));
  ft_metrics_counter_add (m, "fleet_twin_live_disconnects_total", "MQTT connections lost", NULL,
                          (double) (st->disconnects - lm->prev.disconnects));
  lm->prev = *st;
  ft_metrics_gauge_set (m, "fleet_twin_live_queue_depth",
                        "Messages received by the network thread and not yet applied", NULL,
                        (double) ft_live_queue_length (live));
  ft_metrics_gauge_set (m, "fleet_twin_live_queue_high_water", "Deepest the ingest queue has been", NULL,
                        (double) st->queue_high_water);
  ft_metrics_gauge_set (m, "fleet_twin_live_open_commands", "Commands and task assignments awaiting an ack",
                        NULL, (double) (ft_live_n_open_commands (live) + ft_live_n_open_assignments (live)));
  ft_metrics_gauge_set (m, "fleet_twin_live_connected", "1 while connected to the broker", NULL,
                        ft_live_get_conn_state (live) == FT_LIVE_CONNECTED ? 1 : 0);
  guint n = 0;
  const FtLiveCommand *c = ft_live_get_commands (live, &n);
  FtTime mark = lm->rtt_mark;
  for (guint i = 0; i < n; i++)
    if (c[i].state == FT_CMD_ACKED && c[i].closed > lm->rtt_mark)
      {
        ft_metrics_observe (m, "fleet_twin_live_command_rtt_seconds",
                            "Command round trip: issued to the device's ack", NULL,
                            (double) (c[i].closed - c[i].issued) / 1000.0);
        mark = MAX (mark, c[i].closed);
      }
  lm->rtt_mark = mark;
}

/* ---- live rider levers -------------------------------------------------------- */

typedef struct {
  char    *pricing, *objective, *planner, *protected_zones, *emergency;
  gboolean incentives;
  double   interval_min, floor, cap, max_change, incentive_every_min;
} LeverOpts;

static void
lever_opts_clear (LeverOpts *o)
{
  g_free (o->pricing); g_free (o->objective); g_free (o->planner);
  g_free (o->protected_zones); g_free (o->emergency);
}

static gint
city_locate (FtLatLon at, gpointer data)
{
  return ft_city_zone_at (data, at);
}

static FtCity *
load_zone_city (const char *city_dir, GError **error)
{
  return city_dir && g_strcmp0 (city_dir, "demo") != 0 ? ft_city_load (city_dir, error)
                                                       : ft_city_generate_demo (NULL, error);
}

/* The option strings, checked before anything is opened or created. */
static gboolean
lever_opts_parse (const LeverOpts *o, FtLeverPolicy *p, GError **error)
{
  const char *pol = o->pricing ? o->pricing : "off";
  if (g_strcmp0 (pol, "baseline") == 0)
    pol = "utilisation";
  else if (g_strcmp0 (pol, "optimiser") == 0 || g_strcmp0 (pol, "optimizer") == 0)
    pol = "optimise";
  if (!ft_dyn_policy_parse (pol, &p->policy))
    {
      g_set_error (error, FT_LIVE_ERROR, FT_LIVE_ERROR_LEVERS,
                   "--pricing '%s' is not a policy (off, baseline or optimiser)", o->pricing);
      return FALSE;
    }
  if (o->objective && !ft_dyn_objective_parse (o->objective, &p->objective))
    {
      g_set_error (error, FT_LIVE_ERROR, FT_LIVE_ERROR_LEVERS,
                   "--objective '%s' is not an objective (revenue, trips or margin)", o->objective);
      return FALSE;
    }
  if (o->planner == NULL)
    {
      g_set_error (error, FT_LIVE_ERROR, FT_LIVE_ERROR_LEVERS,
                   "--pricing and --incentives need --planner ID: an account in the --db store with "
                   "the planner (or admin) role, as whom prices change");
      return FALSE;
    }
  if (o->emergency && !(g_strcmp0 (o->emergency, "on") == 0 || g_strcmp0 (o->emergency, "off") == 0))
    {
      g_set_error (error, FT_LIVE_ERROR, FT_LIVE_ERROR_LEVERS, "--emergency '%s': use on or off", o->emergency);
      return FALSE;
    }
  if (o->emergency && p->policy == FT_DYN_POLICY_OFF)
    {
      g_set_error (error, FT_LIVE_ERROR, FT_LIVE_ERROR_LEVERS, "--emergency needs --pricing");
      return FALSE;
    }
  return TRUE;
}

/* --propose on a city pack: its zones, their centres, its road router for
 * the stop lists' travel times and its clock for the reasons. */
typedef struct {
  FtCity   *city;       /* borrowed */
  FtRouter *router;
  FtLatLon *centre;
  double    kph;
} OpsCity;

static double
ops_city_travel (FtLatLon a, FtLatLon b, double *metres, gpointer data)
{
  OpsCity *oc = data;
  double m = ft_router_distance (oc->router, a, b);
  if (!(m >= 0))
    m = ft_distance_fast_m (a, b) * 1.3;   /* unreachable on the graph: straight line */
  *metres = m;
  return m / (oc->kph / 3.6);
}

static void
ops_city_clear (OpsCity *oc)
{
  g_clear_pointer (&oc->router, ft_router_free);
  g_clear_pointer (&oc->centre, g_free);
}

static void
ops_city_setup (OpsCity *oc, FtCity *city, FtLiveOpsConfig *c)
{
  oc->city = city;
  oc->router = ft_router_new (city);
  oc->kph = c->van_kph;
  oc->centre = g_new (FtLatLon, MAX (city->n_zones, 1));
  for (guint z = 0; z < city->n_zones; z++)
    oc->centre[z] = city->zones[z].centroid;
  c->n_zones = city->n_zones;
  c->locate = city_locate;
  c->locate_data = city;
  c->centre = oc->centre;
  /* a re-plan asks for every pair of stops: the road router answers from
   * its all-pairs table on graphs of up to 4096 core nodes; on larger ones
   * (A* per pair) the planner uses the straight line and says so */
  if (ft_router_get_use_table (oc->router) && ft_router_n_core_nodes (oc->router) <= 4096)
    {
      c->travel = ops_city_travel;
      c->travel_data = oc;
      c->travel_name = city->id;
    }
  c->utc_offset_min = city->utc_offset_min;
}

/* --pricing / --incentives: the simulator's policy on the zones of `city`,
 * as the planner account --planner names (it must hold the plan
 * permission); the lever state is kept in the --db store. Returns FALSE
 * with an error naming the option. */
static gboolean
live_levers_setup (FtLive *live, FtCore *core, const LeverOpts *o, FtCity *city, GError **error)
{
  FtLiveLeversConfig lc;
  ft_live_levers_config_init (&lc);
  if (!lever_opts_parse (o, &lc.policy, error))
    return FALSE;
  guint planner = 0;
  if (!ft_accounts_lookup_id (core->accounts, o->planner, &planner))
    {
      g_set_error (error, FT_LIVE_ERROR, FT_LIVE_ERROR_LEVERS, "--planner '%s': no such account in the store",
                   o->planner);
      return FALSE;
    }
  if (o->interval_min > 0)
    lc.guards.interval = (FtTime) (o->interval_min * FT_MINUTE);
  if (o->floor > 0)
    lc.guards.floor = o->floor;
  if (o->cap > 0)
    {
      lc.guards.cap = o->cap;
      lc.guards.emergency_cap = MIN (lc.guards.emergency_cap, o->cap);
    }
  if (o->max_change > 0)
    lc.guards.max_change = o->max_change;
  lc.guards.emergency_cap = MAX (lc.guards.emergency_cap, lc.guards.floor);
  if (o->incentive_every_min > 0)
    lc.rules.recompute = (FtTime) (o->incentive_every_min * FT_MINUTE);
  lc.incentives = o->incentives;
  lc.n_zones = city->n_zones;
  lc.locate = city_locate;
  lc.locate_data = city;
  g_autoptr (GArray) prot = g_array_new (FALSE, FALSE, sizeof (guint));
  if (o->protected_zones && *o->protected_zones)
    {
      g_auto (GStrv) parts = g_strsplit (o->protected_zones, ",", -1);
      for (guint i = 0; parts[i]; i++)
        {
          guint64 z = 0;
          g_strstrip (parts[i]);
          if (!g_ascii_string_to_unsigned (parts[i], 10, 0, G_MAXUINT, &z, NULL) || z >= city->n_zones)
            {
              g_set_error (error, FT_LIVE_ERROR, FT_LIVE_ERROR_LEVERS,
                           "--protected-zones: zone '%s' does not exist (the city has zones 0 to %u)", parts[i],
                           city->n_zones - 1);
              return FALSE;
            }
          guint zz = (guint) z;
          g_array_append_val (prot, zz);
        }
    }
  lc.protected_zones = (const guint *) prot->data;
  lc.n_protected = prot->len;
  gboolean emergency = g_strcmp0 (o->emergency, "on") == 0;
  FtTime now = wall_ms ();
  if (!ft_live_set_levers (live, &lc, planner, now, error))
    return FALSE;
  if (o->emergency && !ft_core_set_price_emergency (core, planner, emergency, now, error))
    return FALSE;
  printf ("live: pricing %s%s%s, incentives %s, on %u zones of %s as %s\n", ft_dyn_policy_name (lc.policy.policy),
          lc.policy.policy == FT_DYN_POLICY_OPTIMISE ? " for " : "",
          lc.policy.policy == FT_DYN_POLICY_OPTIMISE ? ft_dyn_objective_name (lc.policy.objective) : "",
          lc.incentives ? "on" : "off", city->n_zones, city->id, o->planner);
  return TRUE;
}

int
ft_cli_live (int argc, char **argv)
{
  BrokerOpts b = { 0 };
  b.qos = 1;
  char *db = NULL;
  double duration = 0, status_every = 5, silent_after = 60;
  gboolean refuse_unknown = FALSE, provision_unknown = FALSE, shadow_on = FALSE;
  int provision_rate = 60;
  char *shadow_city = NULL;
  char *metrics_listen = NULL;
  gboolean propose = FALSE, auto_approve = FALSE;
  char *as_account = NULL;
  double inspect_risk = -1;
  LeverOpts lo = { 0 };
  GOptionEntry lever_entries[] = {
    { "pricing", 0, 0, G_OPTION_ARG_STRING, &lo.pricing,
      "Dynamic zone prices: off (default), baseline (utilisation steps) or optimiser (forecast demand, "
      "supply and elasticity), the simulator's policy", "POLICY" },
    { "objective", 0, 0, G_OPTION_ARG_STRING, &lo.objective,
      "With --pricing optimiser: revenue (default), trips or margin", "OBJ" },
    { "incentives", 0, 0, G_OPTION_ARG_NONE, &lo.incentives,
      "Relocation offers (start in a surplus zone, end in a shortfall zone), recomputed from live state", NULL },
    { "planner", 0, 0, G_OPTION_ARG_STRING, &lo.planner,
      "Account id (planner or admin role) as whom prices and offers change", "ID" },
    { "city", 0, 0, G_OPTION_ARG_FILENAME, &shadow_city,
      "City pack whose zones pricing, offers and the forecast use (default: demo)", "DIR" },
    { "price-interval", 0, 0, G_OPTION_ARG_DOUBLE, &lo.interval_min, "Minutes between pricing intervals (default 15)", "MIN" },
    { "price-floor", 0, 0, G_OPTION_ARG_DOUBLE, &lo.floor, "Lowest multiplier (default 1.0)", "X" },
    { "price-cap", 0, 0, G_OPTION_ARG_DOUBLE, &lo.cap, "Highest multiplier (default 1.5)", "X" },
    { "max-change", 0, 0, G_OPTION_ARG_DOUBLE, &lo.max_change, "Largest change per interval (default 0.2)", "X" },
    { "protected-zones", 0, 0, G_OPTION_ARG_STRING, &lo.protected_zones,
      "Zone indices whose price never moves (comma separated)", "LIST" },
    { "emergency", 0, 0, G_OPTION_ARG_STRING, &lo.emergency,
      "Declare (on) or lift (off) the city's emergency: no surge (default: as kept in the store)", "on|off" },
    { "incentive-every", 0, 0, G_OPTION_ARG_DOUBLE, &lo.incentive_every_min,
      "Minutes between offer rounds (default 15)", "MIN" },
    { NULL }
  };
  GOptionEntry entries[] = {
    { "db", 0, 0, G_OPTION_ARG_FILENAME, &db, "SQLite file to persist into (created if missing)", "FILE" },
    { "duration", 'd', 0, G_OPTION_ARG_DOUBLE, &duration, "Stop after this many seconds (default: until Ctrl-C)", "S" },
    { "status-every", 0, 0, G_OPTION_ARG_DOUBLE, &status_every, "Print status every S seconds (default 5)", "S" },
    { "silent-after", 0, 0, G_OPTION_ARG_DOUBLE, &silent_after, "Vehicle silent this long becomes unknown (default 60)", "S" },
    { "provision-unknown", 0, 0, G_OPTION_ARG_NONE, &provision_unknown,
      "Provision vehicles (UUID ids) and field-staff accounts the twin does not know, "
      "rate-limited (default: refuse them)", NULL },
    { "provision-rate", 0, 0, G_OPTION_ARG_INT, &provision_rate,
      "With --provision-unknown: at most N new vehicles and staff a minute (default 60)", "N" },
    { "refuse-unknown", 0, G_OPTION_FLAG_HIDDEN, G_OPTION_ARG_NONE, &refuse_unknown,
      "Refuse unknown vehicles and staff (the default)", NULL },
    { "shadow", 0, 0, G_OPTION_ARG_NONE, &shadow_on,
      "Run the demand forecast and predictive maintenance in shadow mode on live state "
      "(predictions stored and scored, nothing acts on them)", NULL },
    { "shadow-city", 0, 0, G_OPTION_ARG_FILENAME, &shadow_city,
      "With --shadow: city pack whose zones the forecast uses (default: demo)", "DIR" },
    { "metrics", 0, 0, G_OPTION_ARG_STRING, &metrics_listen,
      "Serve Prometheus /metrics (ingest, queues, commits, command round trips), /health and the feeds "
      "of the live database on HOST:PORT (loopback only)", "HOST:PORT" },
    { "propose", 0, 0, G_OPTION_ARG_NONE, &propose,
      "Propose tasks from live state (low battery: swap, fault: collect, parked where parking "
      "is not allowed: rebalance), valued and ranked; approved ones go to on-shift staff as "
      "stop lists", NULL },
    { "auto-approve", 0, 0, G_OPTION_ARG_NONE, &auto_approve,
      "With --propose: approve every proposal at once, as the dispatcher or admin --as names", NULL },
    { "inspect-risk", 0, 0, G_OPTION_ARG_DOUBLE, &inspect_risk,
      "With --propose and --shadow: propose an inspection for a vehicle whose P(fault within the "
      "maintenance model's short horizon) is at least P (default 0.3; above 1: none)", "P" },
    { "as", 0, 0, G_OPTION_ARG_STRING, &as_account,
      "The account (id or e-mail) switching --auto-approve on: must be a dispatcher or admin", "ACCOUNT" },
    { NULL }
  };
  g_autoptr(GOptionContext) ctx = g_option_context_new ("— attach to live MQTT telemetry, ingest and persist");
  g_option_context_add_main_entries (ctx, entries, NULL);
  {
    GOptionGroup *g = g_option_group_new ("levers", "Rider levers: dynamic prices and relocation incentives",
                                          "Show rider-lever options", NULL, NULL);
    g_option_group_add_entries (g, lever_entries);
    g_option_context_add_group (ctx, g);
  }
  add_broker_entries (ctx, &b);
  g_autoptr(GError) error = NULL;
  if (!g_option_context_parse (ctx, &argc, &argv, &error) || argc != 1 || b.broker == NULL || db == NULL)
    {
      fprintf (stderr, "%s: %s\nUsage: %s --broker URL --prefix P --db FILE [--duration S]\n", argv[0],
               error ? error->message : "need --broker and --db", argv[0]);
      broker_opts_clear (&b);
      g_free (db);
      g_free (metrics_listen);
      g_free (shadow_city);
      g_free (as_account);
      lever_opts_clear (&lo);
      return 2;
    }
  /* written so that NaN fails every test */
  if (!(duration >= 0 && duration <= 1e9) || !(status_every >= 0.1 && status_every <= 86400) ||
      !(silent_after > 0 && silent_after <= 86400))
    {
      fprintf (stderr, "%s: --duration must be in [0, 1e9] s, --status-every in [0.1, 86400] s, "
               "--silent-after in (0, 86400] s\n", argv[0]);
      broker_opts_clear (&b);
      g_free (db);
      g_free (metrics_listen);
      g_free (shadow_city);
      g_free (as_account);
      lever_opts_clear (&lo);
      return 2;
    }
  if ((auto_approve && (!propose || as_account == NULL)) || (as_account && !auto_approve) ||
      (inspect_risk != -1 && (!propose || !(inspect_risk >= 0 && inspect_risk <= 2))))
    {
      fprintf (stderr, "%s: --auto-approve needs --propose and --as ACCOUNT (a dispatcher or admin); "
               "--as is only for --auto-approve; --inspect-risk needs --propose and a P in [0, 2]\n", argv[0]);
      broker_opts_clear (&b);
      g_free (db);
      g_free (metrics_listen);
      g_free (shadow_city);
      g_free (as_account);
      lever_opts_clear (&lo);
      return 2;
    }
  if (refuse_unknown && provision_unknown)
    {
      fprintf (stderr, "%s: --refuse-unknown and --provision-unknown contradict each other\n", argv[0]);
      broker_opts_clear (&b);
      g_free (db);
      g_free (metrics_listen);
      g_free (shadow_city);
      g_free (as_account);
      lever_opts_clear (&lo);
      return 2;
    }
  if (provision_rate < 1 || provision_rate > 1000000)
    {
      fprintf (stderr, "%s: --provision-rate must be in 1..1000000 (new vehicles and staff a minute)\n",
               argv[0]);
      broker_opts_clear (&b);
      g_free (db);
      g_free (metrics_listen);
      g_free (shadow_city);
      g_free (as_account);
      lever_opts_clear (&lo);
      return 2;
    }
  gboolean levers_on = (lo.pricing != NULL && g_strcmp0 (lo.pricing, "off") != 0) || lo.incentives;
  /* written so that NaN fails every test; 0 = the default */
  if (!(lo.interval_min == 0 || (lo.interval_min >= 1.0 / 60 && lo.interval_min <= 1440)) ||
      !(lo.incentive_every_min == 0 || (lo.incentive_every_min >= 1 && lo.incentive_every_min <= 1440)) ||
      !(lo.floor >= 0 && lo.floor <= 10) || !(lo.cap >= 0 && lo.cap <= 10) ||
      !(lo.max_change >= 0 && lo.max_change <= 10) ||
      (!levers_on && (lo.objective || lo.planner || lo.protected_zones || lo.emergency || lo.interval_min > 0 ||
                      lo.floor > 0 || lo.cap > 0 || lo.max_change > 0 || lo.incentive_every_min > 0)))
    {
      fprintf (stderr, "%s: --price-interval must be in [1/60, 1440] min, --incentive-every in [1, 1440] min, "
               "--price-floor/--price-cap/--max-change in (0, 10]; the pricing options need --pricing or "
               "--incentives\n", argv[0]);
      broker_opts_clear (&b);
      g_free (db);
      g_free (metrics_listen);
      g_free (shadow_city);
      g_free (as_account);
      lever_opts_clear (&lo);
      return 2;
    }
  if (levers_on)
    {
      FtLeverPolicy pol;
      ft_lever_policy_init (&pol);
      if (!lever_opts_parse (&lo, &pol, &error))
        {
          fprintf (stderr, "%s: %s\n", argv[0], error->message);
          broker_opts_clear (&b);
          lever_opts_clear (&lo);
          g_free (db);
          g_free (metrics_listen);
          g_free (shadow_city);
          g_free (as_account);
          return 2;
        }
    }
  FtLiveConfig cfg;
  if (!fill_config (&cfg, &b, argv[0]))
    {
      broker_opts_clear (&b);
      lever_opts_clear (&lo);
      ft_live_config_clear (&cfg);
      g_free (db);
      g_free (metrics_listen);
      g_free (shadow_city);
      g_free (as_account);
      return 2;
    }
  broker_opts_clear (&b);
  if (cfg.client_id == NULL)
    {
      /* a fixed id per twin (host and database file), so a restart finds the
       * persistent session and the QoS 1 messages queued in the meantime */
      g_autofree char *abs = g_canonicalize_filename (db, NULL);
      g_autofree char *key = g_strdup_printf ("%s:%s", g_get_host_name (), abs);
      g_autofree char *sum = g_compute_checksum_for_string (G_CHECKSUM_SHA256, key, -1);
      cfg.client_id = g_strdup_printf ("fleet-twin-%.12s", sum);
    }
  cfg.unknown = provision_unknown ? FT_LIVE_UNKNOWN_REGISTER : FT_LIVE_UNKNOWN_REFUSE;
  cfg.provision_per_minute = (guint) provision_rate;
  cfg.silent_after = (FtTime) (silent_after * 1000);
  int status = 1;

  FtCoreConfig ccfg;
  ft_core_config_init (&ccfg);
  FtCore *core = ft_core_new (&ccfg, NULL, NULL);
  FtLive *live = NULL;
  FtShadow *shadow = NULL;
  FtCity *zone_city = NULL;
  OpsCity ops_city = { 0 };
  FtMds *mds = NULL;
  FtServe *serve = NULL;
  LiveMetrics lm = { 0 };
  /* Task queue for staff task updates arriving over MQTT (events logged;
   * the store keeps the tasks, so a restart finds them again). */
  FtOps *ops = core->ops;
  if (!ft_core_attach_store (core, db, NULL, &error))
    goto out;
  live = ft_live_new (core, &cfg, &error);
  if (live == NULL)
    goto out;
  ft_live_set_ops (live, ops);
  if (propose)
    {
      FtLiveOpsConfig oc;
      ft_live_ops_config_init (&oc);
      oc.propose = TRUE;
      if (inspect_risk >= 0)
        oc.inspect_risk = inspect_risk;
      /* a city pack (--city, --shadow-city, or the demo city a shadow or
       * the levers run on) gives zones, a router and a clock */
      if (shadow_city || shadow_on || levers_on)
        {
          if ((zone_city = load_zone_city (shadow_city, &error)) == NULL)
            goto out;
          ops_city_setup (&ops_city, zone_city, &oc);
          printf ("live: operations on %u zones of %s, travel %s, times in UTC%+.1f h\n",
                  zone_city->n_zones, zone_city->id,
                  oc.travel ? "by its roads" : "straight-line (its road graph is too big for a table)",
                  zone_city->utc_offset_min / 60.0);
        }
      else
        printf ("live: operations without a city pack: no zones (no surplus rebalancing), straight-line "
                "travel, times in UTC\n");
      if (!ft_live_set_ops_config (live, &oc, &error))
        goto out;
      if (auto_approve)
        {
          guint acc;
          if (!ft_accounts_lookup_id (core->accounts, as_account, &acc) &&
              !ft_accounts_lookup_email (core->accounts, as_account, &acc))
            {
              g_set_error (&error, FT_LIVE_ERROR, FT_LIVE_ERROR_UNKNOWN_STAFF,
                           "--as %s: no such account in %s", as_account, db);
              goto out;
            }
          if (!ft_live_set_auto_approve (live, TRUE, (gint32) acc, wall_ms (), &error))
            goto out;
        }
      printf ("live: proposing tasks from live state%s\n", auto_approve ? ", auto-approved" : "");
    }
  if (shadow_on)
    {
      shadow = live_shadow_new (core, shadow_city, db, wall_ms (), &error);
      if (shadow == NULL)
        goto out;
      ft_live_set_shadow (live, shadow);
    }
  if (levers_on)
    {
      if (zone_city == NULL && (zone_city = load_zone_city (shadow_city, &error)) == NULL)
        goto out;
      if (!live_levers_setup (live, core, &lo, zone_city, &error))
        goto out;
    }
  ft_live_set_state_func (live, print_state, NULL);
  if (metrics_listen)
    {
      g_autofree char *host = NULL;
      guint port = 0;
      if (!ft_serve_parse_listen (metrics_listen, &host, &port, &error))
        goto out;
      /* the store file exists once attached; MDS reads it read-only */
      if (!ft_core_commit (core, &error))
        goto out;
      FtMdsConfig mcfg = { NULL, FT_MDS_ORIGIN_AUTO, NULL };
      if ((mds = ft_mds_open (db, &mcfg, &error)) == NULL)
        goto out;
      FtServeConfig scfg = { 0 };
      scfg.host = host;
      scfg.port = port;
      scfg.source_label = "live";
      scfg.gbfs.system_id = "fleet-twin-live";
      scfg.gbfs.name = "Fleet Twin (live)";
      if ((serve = ft_serve_new (mds, &scfg, &error)) == NULL)
        goto out;
      printf ("live: metrics on %smetrics\n", ft_serve_get_base_url (serve));
      live_metrics_update (&lm, ft_serve_get_metrics (serve), live);
    }
  {
    g_autofree char *shown = ft_live_url_redact (cfg.url);
    printf ("live: %s prefix %s client %s → %s (%u vehicles loaded)\n", shown, cfg.prefix,
            cfg.client_id, db, ft_fleet_n_vehicles (core->fleet));
  }
  if (!ft_live_connect_sync (live, 10000, &error))
    {
      /* refused credentials, TLS verification: final, exit non-zero */
      if (g_error_matches (error, FT_LIVE_ERROR, FT_LIVE_ERROR_REFUSED) ||
          g_error_matches (error, FT_LIVE_ERROR, FT_LIVE_ERROR_TLS))
        goto out;
      /* unreachable for now: keep trying in the background */
      fprintf (stderr, "%s: %s; retrying with back-off\n", argv[0], error->message);
      g_clear_error (&error);
    }
  install_signals ();
  gint64 t0 = g_get_monotonic_time ();
  gint64 next_status = t0 + (gint64) (status_every * 1e6);
  while (!stop_requested)
    {
      if (duration > 0 && g_get_monotonic_time () - t0 >= (gint64) (duration * 1e6))
        break;
      ft_live_wait (live, 100);
      FtTime now = wall_ms ();
      ft_live_process (live, now, 0);
      guint64 commits = core->store ? ft_store_n_commits (core->store) : 0;
      gint64 c0 = g_get_monotonic_time ();
      if (!ft_core_maybe_commit (core, now, &error))
        goto out;
      if (serve)
        {
          FtMetrics *m = ft_serve_get_metrics (serve);
          if (core->store && ft_store_n_commits (core->store) != commits)
            ft_metrics_observe (m, "fleet_twin_live_commit_seconds", "Time to commit a batch to the store",
                                NULL, (double) (g_get_monotonic_time () - c0) / 1e6);
          live_metrics_update (&lm, m, live);
          while (g_main_context_iteration (NULL, FALSE))
            ;
        }
      if (ft_live_get_conn_state (live) == FT_LIVE_REFUSED)
        {
          g_set_error (&error, FT_LIVE_ERROR, FT_LIVE_ERROR_REFUSED, "%s",
                       ft_live_get_last_error (live));
          goto out;
        }
      if (g_get_monotonic_time () >= next_status)
        {
          g_autofree char *line = ft_live_dup_status_line (live, now);
          printf ("%s\n", line);
          fflush (stdout);
          next_status += (gint64) (status_every * 1e6);
        }
    }
  ft_live_stop (live);
  {
    /* everything received, then what downsampling held back: the file ends
     * with the last reported positions, not the last logged ones */
    FtTime end = wall_ms ();
    ft_live_process (live, end, 0);
    ft_live_flush (live, end);
  }
  if (!ft_core_commit (core, &error))
    goto out;
  {
    g_autofree char *line = ft_live_dup_status_line (live, wall_ms ());
    printf ("final: %s\n", line);
  }
  if (!ft_core_check (core, &error))
    goto out;
  if (ft_live_get_stats (live)->connects == 0)
    {
      g_autofree char *shown = ft_live_url_redact (cfg.url);
      const char *why = ft_live_get_last_error (live);
      g_set_error (&error, FT_LIVE_ERROR, FT_LIVE_ERROR_CONNECT, "never connected to %s%s%s",
                   shown, why ? ": " : "", why ? why : "");
      goto out;
    }
  status = 0;

out:
  if (error)
    fprintf (stderr, "%s: %s\n", argv[0], error->message);
  if (serve)
    ft_serve_free (serve);
  if (mds)
    ft_mds_free (mds);
  if (live)
    ft_live_free (live);
  ft_shadow_free (shadow);
  ft_core_free (core);
  ops_city_clear (&ops_city);
  if (zone_city)
    ft_city_free (zone_city);
  ft_live_config_clear (&cfg);
  lever_opts_clear (&lo);
  g_free (db);
  g_free (shadow_city);
  g_free (metrics_listen);
  g_free (as_account);
  return status;
}
