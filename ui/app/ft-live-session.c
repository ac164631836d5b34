/* ft-live-session.c — the live twin thread and the hand-over of frames.
 *
 * The worker owns an FtCore and the FtLive adapter bound to it. It waits on
 * the adapter's queue (at most 50 ms), runs queued jobs, drains the queue
 * with the wall clock as `now` (which also retries and expires commands),
 * and about ten times a second publishes an FtFrame built from the core's
 * fleet, a copy of the command table, the status line and the connection
 * state. The worker's lock (ft-worker.c) guards only those hand-over
 * fields and the job queue. With a record folder the core is attached to
 * a database there and committed as the CLI's live twin does
 * (ft_core_maybe_commit after each drain), so the Dashboard reads it.
 */
#include "ft-live-session.h"
#include "ft-worker.h"

#include <errno.h>
#include <glib/gstdio.h>
#include <math.h>
#include <unistd.h>

/* A live job as the worker runs it: fn with the core, the adapter and the
 * loop's wall-clock now (a LoopCtx is the worker's target). */
typedef struct {
  FtLiveSessionJob fn;
  gpointer         data;
  GDestroyNotify   destroy;   /* async jobs: frees data */
} Job;

static void
job_free (gpointer p)
{
  Job *job = p;
  if (job->destroy)
    job->destroy (job->data);
  g_free (job);
}

typedef struct {
  FtLiveSession *self;
  FtTime         now;
} LoopCtx;

typedef struct {
  FtLiveTelemetry t;
  gint64          received;   /* wall ms, 0 = never */
} LastTelemetry;

struct _FtLiveSession {
  GObject parent_instance;

  /* owned by the worker while it runs */
  FtCore  *core;
  FtLive  *live;
  FtOps   *ops;                /* tasks the dispatcher creates in live mode */
  gint     dispatcher;         /* the app's dispatcher account, -1 until first use */
  GArray  *telemetry;          /* LastTelemetry per vehicle */
  FtWorker *worker;
  char    *url;
  char    *record_dir;         /* main thread */
  char    *store_path;         /* the connection's database, or NULL */
  guint    n_recorded;

  /* guarded by the worker's lock */
  FtFrame *pending;
  GArray  *pending_cmds;       /* FtLiveCommand */
  GArray  *pending_cmd_names;  /* char[16] per command: the vehicle's code */
  GArray  *pending_assigns;    /* FtLiveAssignment */
  char    *pending_status;
  FtLiveConnState w_state;
  char    *w_error;
  guint    w_state_seq;

  /* main thread */
  FtFrame *frame;
  GArray  *cmds;
  GArray  *cmd_names;
  GArray  *assigns;
  char    *status;
  FtLiveConnState state;
  char    *error;
  guint    state_seq;
};

G_DEFINE_FINAL_TYPE (FtLiveSession, ft_live_session, G_TYPE_OBJECT)

enum { SIGNAL_STATE_CHANGED, SIGNAL_FRAME_CHANGED, N_SIGNALS };
static guint signals[N_SIGNALS];

static FtTime
wall_ms (void)
{
  return g_get_real_time () / 1000;
}

/* ------------------------------------------------------------ worker side */

static void
on_state (FtLive *live, FtLiveConnState state, const char *detail, gpointer user_data)
{
  FtLiveSession *self = user_data;
  ft_worker_lock (self->worker);
  self->w_state = state;
  g_free (self->w_error);
  self->w_error = detail && *detail ? g_strdup (detail) : NULL;
  self->w_state_seq++;
  ft_worker_unlock (self->worker);
}

static void
on_telemetry (FtLive *live, guint vehicle, const FtLiveTelemetry *t, gpointer user_data)
{
  FtLiveSession *self = user_data;
  if (vehicle >= self->telemetry->len)
    g_array_set_size (self->telemetry, vehicle + 1);
  LastTelemetry *lt = &g_array_index (self->telemetry, LastTelemetry, vehicle);
  lt->t = *t;
  lt->received = wall_ms ();
}

static FtFrame *
build_frame (FtLiveSession *self, FtTime now)
{
  FtFleet *fleet = self->core->fleet;
  guint n = ft_fleet_n_vehicles (fleet), ns = ft_live_n_staff (self->live);
  FtFrame *f = ft_frame_new (n, ns);
  f->now = now;
  guint on_trip = 0, rentable = 0;
  for (guint i = 0; i < n; i++)
    {
      const FtVehicle *v = ft_fleet_get_vehicle (fleet, i);
      FtFrameVehicle *fv = &f->vehicles[i];
      double soc = ft_fleet_soc (fleet, i);
      ft_mercator_from_latlon (v->pos, &fv->mx, &fv->my);
      fv->state = v->state;
      fv->kind = v->kind;
      fv->soc_pct = (guint8) CLAMP (lround (soc * 100.0), 0, 100);
      fv->dot = ft_dot_classify (v->state, soc);
      on_trip += v->state == FT_STATE_ON_TRIP;
      rentable += v->state == FT_STATE_AVAILABLE && soc >= 0.2;
    }
  for (guint i = 0; i < ns; i++)
    {
      const FtLiveStaff *s = ft_live_get_staff (self->live, i);
      FtFrameStaff *fs = &f->staff[i];
      ft_mercator_from_latlon (s->pos, &fs->mx, &fs->my);
      fs->tx = fs->ty = NAN;
      fs->busy = g_str_equal (s->task_status, "assigned") || g_str_equal (s->task_status, "started");
      fs->n_tasks = s->task_id[0] ? 1 : 0;
      g_strlcpy (fs->name, s->id, sizeof fs->name);
    }
  f->kpi.utilisation = n ? (double) on_trip / n : 0;
  f->kpi.battery_available = n ? (double) rentable / n : 0;
  memcpy (f->kpi.currency, "EUR", 4);
  return f;
}

static void
publish (FtLiveSession *self, FtTime now)
{
  FtFrame *f = build_frame (self, now);
  guint nc = 0;
  const FtLiveCommand *c = ft_live_get_commands (self->live, &nc);
  GArray *cmds = g_array_sized_new (FALSE, FALSE, sizeof (FtLiveCommand), nc);
  g_array_append_vals (cmds, c, nc);
  /* The code people read on the vehicle ("FT-0042"), per command. */
  GArray *names = g_array_sized_new (FALSE, TRUE, FT_LIVE_SESSION_NAME_LEN, nc);
  g_array_set_size (names, nc);
  for (guint i = 0; i < nc; i++)
    {
      char *dst = &g_array_index (names, char, (gsize) i * FT_LIVE_SESSION_NAME_LEN);
      if (c[i].vehicle < ft_fleet_n_vehicles (self->core->fleet))
        g_strlcpy (dst, ft_fleet_get_vehicle (self->core->fleet, c[i].vehicle)->name, FT_LIVE_SESSION_NAME_LEN);
    }
  guint na = 0;
  const FtLiveAssignment *as = ft_live_get_assignments (self->live, &na);
  GArray *assigns = g_array_sized_new (FALSE, FALSE, sizeof (FtLiveAssignment), na);
  g_array_append_vals (assigns, as, na);
  char *status = ft_live_dup_status_line (self->live, now);
  ft_worker_lock (self->worker);
  g_clear_pointer (&self->pending, ft_frame_unref);
  self->pending = f;
  g_clear_pointer (&self->pending_cmds, g_array_unref);
  self->pending_cmds = cmds;
  g_clear_pointer (&self->pending_cmd_names, g_array_unref);
  self->pending_cmd_names = names;
  g_clear_pointer (&self->pending_assigns, g_array_unref);
  self->pending_assigns = assigns;
  g_free (self->pending_status);
  self->pending_status = status;
  ft_worker_unlock (self->worker);
}

static char *
run_job (gpointer target, gpointer data)
{
  LoopCtx *ctx = target;
  Job *job = data;
  return job->fn (ctx->self->core, ctx->self->live, ctx->now, job->data);
}

static void
worker_loop (FtWorker *worker, gpointer data)
{
  FtLiveSession *self = data;
  FtTime last_publish = 0;
  guint64 last_received = G_MAXUINT64;
  for (;;)
    {
      ft_live_wait (self->live, 50);
      ft_worker_lock (worker);
      gboolean quit = ft_worker_quit_requested (worker);
      ft_worker_unlock (worker);

      LoopCtx ctx = { self, wall_ms () };
      FtTime now = ctx.now;
      gboolean did_jobs = ft_worker_run_jobs (worker, &ctx) > 0;
      if (quit)
        break;
      ft_live_process (self->live, now, 0);
      if (self->core->store)
        {
          g_autoptr(GError) ce = NULL;
          if (!ft_core_maybe_commit (self->core, now, &ce))
            g_warning ("live database %s: %s", self->store_path, ce->message);
        }
      const FtLiveStats *st = ft_live_get_stats (self->live);
      if (did_jobs || now - last_publish >= 100 || (st->received != last_received && now - last_publish >= 33))
        {
          publish (self, now);
          last_publish = now;
          last_received = st->received;
        }
    }
}

/* ------------------------------------------------------------- main side */

void
ft_live_session_stop (FtLiveSession *self)
{
  g_return_if_fail (FT_IS_LIVE_SESSION (self));
  ft_worker_stop (self->worker);
  if (self->live)
    ft_live_stop (self->live);
  if (self->core && self->core->store)
    {
      g_autoptr(GError) ce = NULL;
      if (!ft_core_commit (self->core, &ce))
        g_warning ("live database %s: %s", self->store_path, ce->message);
    }
  g_clear_pointer (&self->live, ft_live_free);
  self->ops = NULL;   /* the core's */
  g_clear_pointer (&self->core, ft_core_free);
  g_array_set_size (self->telemetry, 0);
  ft_worker_lock (self->worker);
  self->w_state = FT_LIVE_DISCONNECTED;
  self->w_state_seq++;
  ft_worker_unlock (self->worker);
}

/* A connection's database and its WAL files (removed with the next
 * connection or the session). */
static void
remove_store (const char *path)
{
  if (path == NULL)
    return;
  static const char *const ext[] = { "", "-wal", "-shm", "-journal" };
  for (guint i = 0; i < G_N_ELEMENTS (ext); i++)
    {
      g_autofree char *p = g_strconcat (path, ext[i], NULL);
      g_unlink (p);
    }
}

static void
ft_live_session_finalize (GObject *object)
{
  FtLiveSession *self = FT_LIVE_SESSION (object);
  ft_live_session_stop (self);
  remove_store (self->store_path);
  g_free (self->store_path);
  g_free (self->record_dir);
  g_clear_pointer (&self->pending, ft_frame_unref);
  g_clear_pointer (&self->frame, ft_frame_unref);
  g_clear_pointer (&self->pending_cmds, g_array_unref);
  g_clear_pointer (&self->pending_cmd_names, g_array_unref);
  g_clear_pointer (&self->cmds, g_array_unref);
  g_clear_pointer (&self->cmd_names, g_array_unref);
  g_clear_pointer (&self->pending_assigns, g_array_unref);
  g_clear_pointer (&self->assigns, g_array_unref);
  g_array_unref (self->telemetry);
  g_free (self->pending_status);
  g_free (self->status);
  g_free (self->w_error);
  g_free (self->error);
  g_free (self->url);
  ft_worker_free (self->worker);
  G_OBJECT_CLASS (ft_live_session_parent_class)->finalize (object);
}

static void
ft_live_session_class_init (FtLiveSessionClass *klass)
{
  GObjectClass *oc = G_OBJECT_CLASS (klass);
  oc->finalize = ft_live_session_finalize;
  signals[SIGNAL_STATE_CHANGED] = g_signal_new ("state-changed", G_TYPE_FROM_CLASS (klass),
                                                G_SIGNAL_RUN_LAST, 0, NULL, NULL, NULL, G_TYPE_NONE, 0);
  signals[SIGNAL_FRAME_CHANGED] = g_signal_new ("frame-changed", G_TYPE_FROM_CLASS (klass),
                                                G_SIGNAL_RUN_LAST, 0, NULL, NULL, NULL, G_TYPE_NONE, 0);
}

static void
ft_live_session_init (FtLiveSession *self)
{
  self->worker = ft_worker_new ();
  self->telemetry = g_array_new (FALSE, TRUE, sizeof (LastTelemetry));
  self->cmds = g_array_new (FALSE, FALSE, sizeof (FtLiveCommand));
  self->cmd_names = g_array_new (FALSE, TRUE, FT_LIVE_SESSION_NAME_LEN);
  self->assigns = g_array_new (FALSE, FALSE, sizeof (FtLiveAssignment));
}

FtLiveSession *
ft_live_session_new (void)
{
  return g_object_new (FT_TYPE_LIVE_SESSION, NULL);
}

gboolean
ft_live_session_start (FtLiveSession *self, const FtLiveConfig *cfg, GError **error)
{
  g_return_val_if_fail (FT_IS_LIVE_SESSION (self), FALSE);
  g_return_val_if_fail (cfg != NULL, FALSE);
  ft_live_session_stop (self);

  FtCoreConfig ccfg;
  ft_core_config_init (&ccfg);
  FtCore *core = ft_core_new (&ccfg, NULL, NULL);
  remove_store (self->store_path);
  g_clear_pointer (&self->store_path, g_free);
  if (self->record_dir)
    {
      if (g_mkdir_with_parents (self->record_dir, 0700) != 0)
        {
          g_set_error (error, G_FILE_ERROR, g_file_error_from_errno (errno), "%s: cannot create the folder "
                       "for live databases: %s", self->record_dir, g_strerror (errno));
          ft_core_free (core);
          return FALSE;
        }
      g_autofree char *name = g_strdup_printf ("live-%d-%u.db", (int) getpid (), ++self->n_recorded);
      g_autofree char *path = g_build_filename (self->record_dir, name, NULL);
      remove_store (path);   /* a dead process's leftover with our pid */
      if (!ft_core_attach_store (core, path, NULL, error))
        {
          ft_core_free (core);
          remove_store (path);
          return FALSE;
        }
      self->store_path = g_steal_pointer (&path);
    }
  /* The app's live view starts from an empty, unstored fleet: it shows what
   * the broker carries, so it provisions the vehicles and staff it hears
   * (in memory only, at most 6000 new ones a minute). `fleet-twin-cli live`,
   * which stores them, refuses unknown ids unless told otherwise. */
  FtLiveConfig view_cfg = *cfg;              /* ft_live_new copies the strings */
  view_cfg.unknown = FT_LIVE_UNKNOWN_REGISTER;
  view_cfg.provision_per_minute = MAX (cfg->provision_per_minute, 6000);
  FtLive *live = ft_live_new (core, &view_cfg, error);
  if (live == NULL)
    {
      ft_core_free (core);
      return FALSE;
    }
  ft_live_set_state_func (live, on_state, self);
  ft_live_set_telemetry_func (live, on_telemetry, self);
  if (!ft_live_start (live, error))
    {
      ft_live_free (live);
      ft_core_free (core);
      return FALSE;
    }
  self->core = core;
  self->live = live;
  self->ops = core->ops;   /* borrowed from the core */
  ft_live_set_ops (live, self->ops);   /* staff task acks and progress move these tasks */
  self->dispatcher = -1;
  g_free (self->url);
  self->url = ft_live_url_redact (cfg->url);   /* shown: never the password */
  g_clear_pointer (&self->frame, ft_frame_unref);
  g_array_set_size (self->cmds, 0);
  g_array_set_size (self->cmd_names, 0);
  g_array_set_size (self->assigns, 0);
  ft_worker_lock (self->worker);
  self->w_state = FT_LIVE_CONNECTING;
  g_clear_pointer (&self->w_error, g_free);
  self->w_state_seq++;
  ft_worker_unlock (self->worker);
  ft_worker_start (self->worker, "ft-live-twin", worker_loop, self);
  return TRUE;
}

gboolean
ft_live_session_is_running (FtLiveSession *self)
{
  return ft_worker_is_running (self->worker);
}

gboolean
ft_live_session_poll (FtLiveSession *self)
{
  g_return_val_if_fail (FT_IS_LIVE_SESSION (self), FALSE);
  ft_worker_lock (self->worker);
  FtFrame *f = g_steal_pointer (&self->pending);
  GArray *cmds = g_steal_pointer (&self->pending_cmds);
  GArray *names = g_steal_pointer (&self->pending_cmd_names);
  GArray *assigns = g_steal_pointer (&self->pending_assigns);
  char *status = g_steal_pointer (&self->pending_status);
  gboolean state_changed = self->w_state_seq != self->state_seq;
  if (state_changed)
    {
      self->state_seq = self->w_state_seq;
      self->state = self->w_state;
      g_free (self->error);
      self->error = g_strdup (self->w_error);
    }
  ft_worker_unlock (self->worker);
  if (cmds)
    {
      g_array_unref (self->cmds);
      self->cmds = cmds;
      g_array_unref (self->cmd_names);
      self->cmd_names = names;
    }
  if (assigns)
    {
      g_array_unref (self->assigns);
      self->assigns = assigns;
    }
  if (status)
    {
      g_free (self->status);
      self->status = status;
    }
  if (state_changed)
    g_signal_emit (self, signals[SIGNAL_STATE_CHANGED], 0);
  if (f == NULL)
    return FALSE;
  g_clear_pointer (&self->frame, ft_frame_unref);
  self->frame = f;
  g_signal_emit (self, signals[SIGNAL_FRAME_CHANGED], 0);
  return TRUE;
}

FtFrame *
ft_live_session_get_frame (FtLiveSession *self)
{
  return self->frame;
}

FtLiveConnState
ft_live_session_get_state (FtLiveSession *self)
{
  return self->state;
}

const char *
ft_live_session_get_error (FtLiveSession *self)
{
  return self->error;
}

const char *
ft_live_session_get_status (FtLiveSession *self)
{
  return self->status;
}

const char *
ft_live_session_get_url (FtLiveSession *self)
{
  return self->url;
}

const FtLiveCommand *
ft_live_session_get_commands (FtLiveSession *self, guint *n_out)
{
  *n_out = self->cmds->len;
  return (const FtLiveCommand *) self->cmds->data;
}

const char *
ft_live_session_get_command_vehicle (FtLiveSession *self, guint i)
{
  g_return_val_if_fail (FT_IS_LIVE_SESSION (self), "");
  if (i >= self->cmd_names->len)
    return "";
  return &g_array_index (self->cmd_names, char, (gsize) i * FT_LIVE_SESSION_NAME_LEN);
}

const FtLiveAssignment *
ft_live_session_get_assignments (FtLiveSession *self, guint *n_out)
{
  *n_out = self->assigns->len;
  return (const FtLiveAssignment *) self->assigns->data;
}

char *
ft_live_session_assignment_status (const FtLiveAssignment *a)
{
  FtLiveCommand c = { 0 };
  c.state = a->state;
  c.attempts = a->attempts;
  g_strlcpy (c.detail, a->detail, sizeof c.detail);
  g_autofree char *msg = ft_live_session_command_status (&c);
  if (a->progress[0] == '\0')
    return g_steal_pointer (&msg);
  return g_strdup_printf ("%s · %s", msg, a->progress);
}

char *
ft_live_session_command_status (const FtLiveCommand *c)
{
  switch (c->state)
    {
    case FT_CMD_QUEUED:
      return g_strdup ("pending (not yet published)");
    case FT_CMD_SENT:
      return c->attempts > 1 ? g_strdup_printf ("retried (attempt %u)", c->attempts) : g_strdup ("pending");
    case FT_CMD_ACKED:
      return g_strdup (c->attempts > 1 ? "acked after retry" : "acked");
    case FT_CMD_FAILED:
      return g_strdup_printf ("failed: %s", c->detail[0] ? c->detail : "refused by the device");
    case FT_CMD_EXPIRED:
      return g_strdup_printf ("expired after %u attempt%s", c->attempts, c->attempts == 1 ? "" : "s");
    }
  return g_strdup ("?");
}

void
ft_live_session_set_record_dir (FtLiveSession *self, const char *dir)
{
  g_return_if_fail (FT_IS_LIVE_SESSION (self));
  g_free (self->record_dir);
  self->record_dir = g_strdup (dir);
}

const char *
ft_live_session_get_store_path (FtLiveSession *self)
{
  g_return_val_if_fail (FT_IS_LIVE_SESSION (self), NULL);
  return self->store_path;
}

void
ft_live_session_run_job_async (FtLiveSession *self, FtLiveSessionJob fn, gpointer data, GDestroyNotify free,
                               GCancellable *cancellable, GAsyncReadyCallback callback, gpointer user_data)
{
  g_return_if_fail (FT_IS_LIVE_SESSION (self));
  g_return_if_fail (fn != NULL);
  Job *job = g_new0 (Job, 1);
  job->fn = fn;
  job->data = data;
  job->destroy = free;
  ft_worker_run_async (self->worker, self, run_job, job, job_free, cancellable, callback, user_data);
}

char *
ft_live_session_run_job_finish (FtLiveSession *self, GAsyncResult *result, GError **error)
{
  g_return_val_if_fail (FT_IS_LIVE_SESSION (self), NULL);
  return ft_worker_run_finish (result, error);
}

char *
ft_live_session_run_job_sync (FtLiveSession *self, FtLiveSessionJob fn, gpointer data)
{
  g_return_val_if_fail (FT_IS_LIVE_SESSION (self), NULL);
  Job job = { .fn = fn, .data = data };
  return ft_worker_run_sync (self->worker, run_job, &job);
}

typedef struct {
  guint             vehicle;
  FtLiveCommandKind kind;
  GError           *error;
} CommandJob;

static char *
command_job (FtCore *core, FtLive *live, FtTime now, gpointer data)
{
  CommandJob *j = data;
  const char *id = ft_live_send_command (live, j->vehicle, j->kind, now, 0, &j->error);
  return g_strdup (id);
}

char *
ft_live_session_send_command (FtLiveSession *self, guint vehicle, FtLiveCommandKind kind, GError **error)
{
  g_return_val_if_fail (FT_IS_LIVE_SESSION (self), NULL);
  g_return_val_if_fail (kind < FT_N_CMDS, NULL);
  if (!ft_worker_is_running (self->worker))
    {
      g_set_error (error, FT_LIVE_ERROR, FT_LIVE_ERROR_NOT_CONNECTED,
                   "live mode is off: switch the window to Live and connect to a broker first");
      return NULL;
    }
  CommandJob j = { vehicle, kind, NULL };
  char *id = ft_live_session_run_job_sync (self, command_job, &j);
  if (j.error)
    g_propagate_error (error, j.error);
  return id;
}

typedef struct {
  FtLiveSession *self;
  guint          vehicle;
} DescribeJob;

static char *
describe_job (FtCore *core, FtLive *live, FtTime now, gpointer data)
{
  DescribeJob *d = data;
  if (d->vehicle >= ft_fleet_n_vehicles (core->fleet))
    return g_strdup ("No such vehicle.");
  const FtVehicle *v = ft_fleet_get_vehicle (core->fleet, d->vehicle);
  GString *s = g_string_new (NULL);
  g_autofree char *name = g_markup_escape_text (v->name, -1);
  g_string_append_printf (s, "<b>%s</b> · %s · <i>live</i>\n", name, ft_vehicle_kind_id (v->kind));
  g_string_append_printf (s, "Device: %s\n", v->device_id);
  g_string_append_printf (s, "State: %s\n", ft_vehicle_state_name (v->state));
  int locked = ft_live_vehicle_locked (live, d->vehicle);
  g_string_append_printf (s, "Lock: %s\n", locked < 0 ? "unknown" : locked ? "locked" : "unlocked");
  g_string_append_printf (s, "Battery: %.0f %% · range %.1f km\n", ft_fleet_soc (core->fleet, d->vehicle) * 100,
                          ft_fleet_range_m (core->fleet, d->vehicle) / 1000.0);
  FtLiveSession *self = d->self;
  if (d->vehicle < self->telemetry->len &&
      g_array_index (self->telemetry, LastTelemetry, d->vehicle).received > 0)
    {
      const LastTelemetry *lt = &g_array_index (self->telemetry, LastTelemetry, d->vehicle);
      const FtLiveTelemetry *t = &lt->t;
      g_autoptr(GDateTime) dt = g_date_time_new_from_unix_utc (t->timestamp / 1000);
      g_autofree char *ts = dt ? g_date_time_format (dt, "%H:%M:%S UTC") : g_strdup ("?");
      g_string_append_printf (s, "\n<b>Last telemetry</b> (%s, %.1f s ago)\n", ts, (now - lt->received) / 1000.0);
      if (!isnan (t->pos.lat))
        g_string_append_printf (s, "Position: %.6f, %.6f\n", t->pos.lat, t->pos.lon);
      if (!isnan (t->battery_pct))
        g_string_append_printf (s, "Battery: %.1f %%\n", t->battery_pct);
      if (!isnan (t->range_m))
        g_string_append_printf (s, "Range: %.1f km\n", t->range_m / 1000.0);
      if (!isnan (t->speed_mps))
        g_string_append_printf (s, "Speed: %.1f m/s\n", t->speed_mps);
      if (!isnan (t->odometer_m))
        g_string_append_printf (s, "Odometer: %.1f km\n", t->odometer_m / 1000.0);
      if (t->locked >= 0)
        g_string_append_printf (s, "Lock: %s\n", t->locked ? "locked" : "unlocked");
    }
  else
    g_string_append (s, "\nNo telemetry received yet.\n");
  guint nc = 0;
  const FtLiveCommand *c = ft_live_get_commands (live, &nc);
  gboolean header = FALSE;
  for (guint i = 0; i < nc; i++)
    if (c[i].vehicle == d->vehicle)
      {
        if (!header)
          g_string_append (s, "\n<b>Commands</b>\n");
        header = TRUE;
        g_autofree char *st = ft_live_session_command_status (&c[i]);
        g_autofree char *esc = g_markup_escape_text (st, -1);
        g_string_append_printf (s, "%s: %s\n", ft_live_command_name (c[i].kind), esc);
      }
  return g_string_free (s, FALSE);
}

char *
ft_live_session_describe_vehicle (FtLiveSession *self, guint vehicle)
{
  DescribeJob d = { self, vehicle };
  return ft_live_session_run_job_sync (self, describe_job, &d);
}

static char *
describe_staff_job (FtCore *core, FtLive *live, FtTime now, gpointer data)
{
  guint i = *(guint *) data;
  if (i >= ft_live_n_staff (live))
    return g_strdup ("No such staff member.");
  const FtLiveStaff *st = ft_live_get_staff (live, i);
  g_autoptr(GDateTime) dt = g_date_time_new_from_unix_utc (st->last_ts / 1000);
  g_autofree char *ts = dt ? g_date_time_format (dt, "%H:%M:%S UTC") : g_strdup ("?");
  return g_markup_printf_escaped ("<b>%s</b> · field staff · <i>live</i>\n"
                                  "Position: %.6f, %.6f (reported %s, %.1f s ago)\n"
                                  "Task: %s %s\n",
                                  st->id, st->pos.lat, st->pos.lon, ts, (now - st->last_ts) / 1000.0,
                                  st->task_id[0] ? st->task_id : "none",
                                  st->task_status[0] ? st->task_status : "");
}

char *
ft_live_session_describe_staff (FtLiveSession *self, guint staff)
{
  return ft_live_session_run_job_sync (self, describe_staff_job, &staff);
}

typedef struct {
  FtLiveSession *self;
  guint          kind;
  const guint   *vehicles;
  guint          n;
  FtLatLon       target;
  gint           staff;
  guint          created, published;
  GString       *errors;
} DispatchJob;

static char *
dispatch_job (FtCore *core, FtLive *live, FtTime now, gpointer data)
{
  DispatchJob *d = data;
  FtLiveSession *self = d->self;
  g_autoptr(GError) error = NULL;
  if (self->dispatcher < 0)
    {
      self->dispatcher = ft_accounts_create (core->accounts, FT_ROLE_DISPATCHER, "Live dispatcher (app)", NULL,
                                             now, &error);
      if (self->dispatcher < 0)
        {
          g_string_append_printf (d->errors, "cannot create the dispatcher account: %s\n", error->message);
          return NULL;
        }
    }
  gint32 account = -1;
  if (d->staff >= 0 && (guint) d->staff < ft_live_n_staff (live))
    account = ft_live_get_staff (live, (guint) d->staff)->account;
  for (guint i = 0; i < d->n; i++)
    {
      g_clear_error (&error);
      gint64 t = ft_ops_create (self->ops, d->kind, (gint32) d->vehicles[i], d->target, -1, 5,
                                self->dispatcher, now, &error);
      if (t < 0)
        {
          g_string_append_printf (d->errors, "%s\n", error->message);
          continue;
        }
      d->created++;
      /* assigned in the queue and published to the staff member's app */
      if (d->staff >= 0 && (account < 0 ||
          !ft_live_assign_task (live, t, (guint) d->staff, self->dispatcher, now, 0, &error)))
        g_string_append_printf (d->errors, "task %" G_GINT64_FORMAT " stays open: %s\n", t,
                                error ? error->message : "the staff member has no account");
      g_clear_error (&error);
      /* The vehicle reports where it is (and chirps) so the crew finds it. */
      if (ft_live_send_command (live, d->vehicles[i], FT_CMD_LOCATE, now, 0, &error))
        d->published++;
      else
        g_string_append_printf (d->errors, "%s\n", error->message);
    }
  return NULL;
}

guint
ft_live_session_dispatch (FtLiveSession *self, guint kind, const guint *vehicles, guint n,
                          FtLatLon target, gint staff, guint *published, GError **error)
{
  g_return_val_if_fail (FT_IS_LIVE_SESSION (self), 0);
  g_return_val_if_fail (kind < FT_N_TASK_KINDS, 0);
  if (!ft_worker_is_running (self->worker))
    {
      g_set_error (error, FT_LIVE_ERROR, FT_LIVE_ERROR_NOT_CONNECTED,
                   "live mode is off: switch the window to Live and connect to a broker first");
      return 0;
    }
  DispatchJob d = { self, kind, vehicles, n, target, staff, 0, 0, g_string_new (NULL) };
  g_free (ft_live_session_run_job_sync (self, dispatch_job, &d));
  if (d.errors->len > 0)
    g_set_error (error, FT_LIVE_ERROR, FT_LIVE_ERROR_UNKNOWN_VEHICLE, "%s", d.errors->str);
  g_string_free (d.errors, TRUE);
  if (published)
    *published = d.published;
  return d.created;
}

typedef struct {
  FtLiveSession *self;
  guint          counts[FT_N_TASK_STATES];
} TaskCountJob;

static char *
count_tasks_job (FtCore *core, FtLive *live, FtTime now, gpointer data)
{
  TaskCountJob *j = data;
  for (guint s = 0; s < FT_N_TASK_STATES; s++)
    j->counts[s] = ft_ops_count_state (j->self->ops, s);
  return NULL;
}

guint
ft_live_session_count_tasks (FtLiveSession *self, guint state)
{
  g_return_val_if_fail (state < FT_N_TASK_STATES, 0);
  TaskCountJob j = { self, { 0 } };
  g_free (ft_live_session_run_job_sync (self, count_tasks_job, &j));
  return j.counts[state];
}
