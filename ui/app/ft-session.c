/* ft-session.c — the twin thread and the hand-over of frames.
 *
 * The worker owns the FtSimWorld. It sleeps while paused; when playing it
 * runs slices (simulated time = speed × wall time, or 5-minute slices as
 * fast as possible), turns each snapshot into an FtFrame (projection and
 * colour classes done here, off the UI thread) and parks it in `pending`.
 * The UI takes the newest pending frame once per frame; the worker's lock
 * (ft-worker.c) guards only that pointer swap and the command fields,
 * never the world.
 */
#include "ft-session.h"
#include "ft-config.h"
#include "ft-data.h"
#include "ft-worker.h"
#include "ft-ops-value.h"

#include <errno.h>
#include <glib/gstdio.h>
#include <math.h>
#include <unistd.h>

/* A session job as the worker runs it: fn with the world. */
typedef struct {
  FtSessionJob   fn;
  gpointer       data;
  GDestroyNotify destroy;
} Job;

struct _FtSession {
  GObject parent_instance;

  FtSimScenario *scenario;
  FtSimWorld    *world;          /* owned by the worker while it runs */
  char          *tiles_path;
  FtWorker      *worker;
  char          *record_dir;     /* runs are recorded here (NULL: not recorded) */
  char          *store_path;     /* this run's database, or NULL */
  guint          n_recorded;

  /* guarded by the worker's lock */
  gboolean playing, step_pending;
  FtTime   run_to;               /* -1 = none */
  double   speed;                /* sim s per wall s; 0 = max */
  FtFrame *pending;
  FtSimKpis pending_kpis;
  GArray  *pending_samples;      /* FtKpiSample, one per simulated minute */
  FtTime   last_sample_w;        /* worker's */
  FtTime   world_now;            /* as of the last slice */
  gboolean finished_w;           /* the world reached the scenario's end */

  /* main thread */
  FtFrame   *frame;
  FtSimKpis  kpis;
  GArray    *history;
  FtRoleView role;
  GPtrArray *archive;            /* FtRun*, kept runs */
  guint      n_runs;             /* ids given so far */
  guint      run_id;             /* the current run's */
  char      *run_name;
  gint64     run_started;        /* Unix seconds */
  guint      baseline;
  gboolean   playing_ui;
  gboolean   finished;
  FtTime     end_time;
};

G_DEFINE_FINAL_TYPE (FtSession, ft_session, G_TYPE_OBJECT)

enum { PROP_0, PROP_PLAYING, PROP_SPEED, PROP_ROLE, PROP_TIME, PROP_FINISHED, N_PROPS };
static GParamSpec *properties[N_PROPS];
enum { SIGNAL_FRAME_CHANGED, SIGNAL_LOADED, SIGNAL_RUNS_CHANGED, N_SIGNALS };
static guint signals[N_SIGNALS];

/* ------------------------------------------------------------ worker side */

static FtLatLon
task_where (FtCore *core, const FtTask *t)
{
  if (t->target.lat != 0 || t->target.lon != 0)
    return t->target;
  if (t->vehicle >= 0 && (guint) t->vehicle < ft_fleet_n_vehicles (core->fleet))
    return ft_fleet_get_vehicle (core->fleet, (guint) t->vehicle)->pos;
  return (FtLatLon) { NAN, NAN };
}

typedef struct {
  gint64 id;
  gint   staff;
  gint   rank;      /* 0 current / started, 1 assigned */
  FtTime at;
} StopKey;

static gint
cmp_stop_key (gconstpointer a, gconstpointer b)
{
  const StopKey *x = a, *y = b;
  if (x->staff != y->staff)
    return x->staff - y->staff;
  if (x->rank != y->rank)
    return x->rank - y->rank;
  if (x->at != y->at)
    return x->at < y->at ? -1 : 1;
  return x->id < y->id ? -1 : x->id > y->id;
}

/* Each van's stops: its current task, then the rest assigned to it in the
 * order they were assigned (the route planner's order once vans follow
 * one). */
static GArray *
staff_stops (FtSimWorld *w, const FtSimSnapshot *snap)
{
  FtOps *ops = ft_sim_world_get_ops (w);
  g_autoptr(GHashTable) by_account = g_hash_table_new (NULL, NULL);
  for (guint i = 0; i < snap->n_staff; i++)
    g_hash_table_insert (by_account, GUINT_TO_POINTER (snap->staff[i].account + 1), GUINT_TO_POINTER (i + 1));
  GArray *keys = g_array_new (FALSE, FALSE, sizeof (StopKey));
  guint n = ft_ops_n (ops);
  for (guint id = 0; id < n; id++)
    {
      const FtTask *t = ft_ops_get (ops, id);
      if ((t->state != FT_TASK_ASSIGNED && t->state != FT_TASK_IN_PROGRESS) || t->staff < 0)
        continue;
      gpointer si = g_hash_table_lookup (by_account, GUINT_TO_POINTER ((guint) t->staff + 1));
      if (si == NULL)
        continue;
      guint s = GPOINTER_TO_UINT (si) - 1;
      StopKey k = { id, (gint) s, (t->state == FT_TASK_IN_PROGRESS || snap->staff[s].task == (gint64) id) ? 0 : 1,
                    t->assigned_at };
      g_array_append_val (keys, k);
    }
  g_array_sort (keys, cmp_stop_key);
  return keys;
}

static void
frame_stops (FtSimWorld *w, const FtSimSnapshot *snap, FtFrame *f)
{
  FtCore *core = ft_sim_world_get_core (w);
  FtOps *ops = ft_sim_world_get_ops (w);
  g_autoptr(GArray) keys = staff_stops (w, snap);
  for (guint i = 0; i < keys->len;)
    {
      guint j = i;
      gint s = g_array_index (keys, StopKey, i).staff;
      while (j < keys->len && g_array_index (keys, StopKey, j).staff == s)
        j++;
      FtFrameStaff *fs = &f->staff[s];
      fs->stops = g_new (double, 2 * (j - i));
      for (guint k = i; k < j; k++)
        {
          const StopKey *key = &g_array_index (keys, StopKey, k);
          FtLatLon p = task_where (core, ft_ops_get (ops, key->id));
          if (!isfinite (p.lat))
            continue;
          ft_mercator_from_latlon (p, &fs->stops[2 * fs->n_stops], &fs->stops[2 * fs->n_stops + 1]);
          fs->n_started += key->rank == 0 && fs->n_started == fs->n_stops;
          fs->n_stops++;
        }
      fs->n_tasks = fs->n_stops;
      i = j;
    }
}

static FtFrame *
build_frame (FtSimWorld *w)
{
  g_autoptr(FtSimSnapshot) snap = ft_sim_world_snapshot (w);
  const FtCity *city = ft_sim_world_get_city (w);
  FtFrame *f = ft_frame_new (snap->n_vehicles, snap->n_staff);
  f->now = snap->t;
  for (guint i = 0; i < snap->n_vehicles; i++)
    {
      const FtSimVehicleSnap *v = &snap->vehicles[i];
      FtFrameVehicle *fv = &f->vehicles[i];
      ft_mercator_from_latlon (v->pos, &fv->mx, &fv->my);
      fv->state = v->state;
      fv->kind = v->kind;
      fv->soc_pct = (guint8) CLAMP (lround (v->soc * 100.0), 0, 100);
      fv->dot = ft_dot_classify (v->state, v->soc);
      if (v->flags & FT_SIM_VFLAG_IN_VAN)
        fv->dot = FT_DOT_OTHER;
    }
  for (guint i = 0; i < snap->n_staff; i++)
    {
      const FtSimStaffSnap *s = &snap->staff[i];
      FtFrameStaff *fs = &f->staff[i];
      ft_mercator_from_latlon (s->pos, &fs->mx, &fs->my);
      fs->busy = s->activity == FT_SIM_STAFF_TRAVEL || s->activity == FT_SIM_STAFF_SERVICE;
      if (s->activity == FT_SIM_STAFF_TRAVEL || s->task >= 0)
        ft_mercator_from_latlon (s->target, &fs->tx, &fs->ty);
      else
        fs->tx = fs->ty = NAN;
      fs->packs = s->packs_charged;
      fs->n_tasks = s->task >= 0 ? 1 : 0;
      g_snprintf (fs->name, sizeof fs->name, "Staff %u", i + 1);
    }
  frame_stops (w, snap, f);
  f->n_lost = snap->n_lost;
  f->lost = g_new (double, 2 * MAX (snap->n_lost, 1));
  f->lost_age = g_new (float, MAX (snap->n_lost, 1));
  for (guint i = 0; i < snap->n_lost; i++)
    {
      ft_mercator_from_latlon (snap->lost[i].pos, &f->lost[2 * i], &f->lost[2 * i + 1]);
      /* lost-demand marks fade out over FT_FRAME_LOST_FADE of simulated time */
      f->lost_age[i] = (float) CLAMP ((double) (snap->t - snap->lost[i].t) / FT_FRAME_LOST_FADE, 0, 1);
    }
  if (city && city->n_zones > 0 && city->demand.rate && city->demand.n_zones == city->n_zones)
    {
      guint h = (guint) ((snap->t / FT_HOUR) % 168);
      f->n_zones = city->n_zones;
      f->zone_heat = g_new0 (float, city->n_zones);
      double mx = 0;
      for (guint z = 0; z < city->n_zones; z++)
        mx = MAX (mx, city->demand.rate[z * 168 + h] / MAX (city->zones[z].area_km2, 0.05));
      for (guint z = 0; z < city->n_zones && mx > 0; z++)
        f->zone_heat[z] = (float) (city->demand.rate[z * 168 + h] / MAX (city->zones[z].area_km2, 0.05) / mx);
    }
  /* Rider levers: the multiplier each zone charges now and the offers. */
  FtCore *core = ft_sim_world_get_core (w);
  if (city && city->n_zones > 0 && core->dyn && ft_dyn_pricing_n_zones (core->dyn) == city->n_zones)
    {
      f->n_zones = city->n_zones;
      f->zone_price = g_new (float, city->n_zones);
      for (guint z = 0; z < city->n_zones; z++)
        f->zone_price[z] = (float) ft_dyn_pricing_get (core->dyn, z);
      f->price_cap = (float) ft_dyn_pricing_guards (core->dyn)->cap;
    }
  if (city && city->n_zones > 0 && core->incentives && ft_incentives_n_zones (core->incentives) == city->n_zones)
    {
      f->n_zones = city->n_zones;
      f->zone_offer = g_new0 (guint8, city->n_zones);
      for (guint z = 0; z < city->n_zones; z++)
        f->zone_offer[z] = (ft_incentives_start_offered (core->incentives, (gint) z) ? FT_FRAME_OFFER_START : 0)
                         | (ft_incentives_end_offered (core->incentives, (gint) z) ? FT_FRAME_OFFER_END : 0);
    }
  const FtSimKpis *k = &snap->kpis;
  f->kpi.incentive_cost_minor = k->incentive_cost_minor;
  f->kpi.incentive_moves = (guint) k->incentive_moves;
  f->kpi.utilisation = k->utilisation;
  f->kpi.trips_served = (guint) k->trips_served;
  f->kpi.trips_lost = (guint) k->trips_lost;
  f->kpi.revenue_minor = k->revenue_minor;
  memcpy (f->kpi.currency, k->currency, 4);
  /* The KPI report's definition: a vehicle is battery-unavailable while
   * the model flags it low (below its type's low_soc), whatever its state. */
  guint low = 0;
  for (guint i = 0; i < snap->n_vehicles; i++)
    if (snap->vehicles[i].flags & FT_SIM_VFLAG_LOW)
      low++;
  f->kpi.battery_available = snap->n_vehicles ? 1.0 - (double) low / snap->n_vehicles : 0;
  f->kpi.battery_unavailable_run = k->battery_unavailable_share;
  f->kpi.tasks_done = (guint) k->tasks_done;
  f->kpi.tasks_open = (guint) (k->tasks_created - k->tasks_done);
  return f;
}

static void
publish (FtSession *self, FtSimWorld *w)
{
  FtFrame *f = build_frame (w);
  FtSimKpis k;
  ft_sim_world_kpis (w, &k);
  ft_worker_lock (self->worker);
  if (self->last_sample_w < 0 || f->now >= self->last_sample_w + FT_MINUTE)
    {
      FtKpiSample s = {
        .t = f->now,
        .utilisation = f->kpi.utilisation,
        .trips_served = f->kpi.trips_served,
        .trips_lost = f->kpi.trips_lost,
        .revenue = f->kpi.revenue_minor / 100.0,
        .battery_available = f->kpi.battery_available,
        .revenue_per_vehicle = f->n_vehicles ? f->kpi.revenue_minor / 100.0 / f->n_vehicles : 0,
        .incentive_cost = f->kpi.incentive_cost_minor / 100.0,
        .incentive_moves = f->kpi.incentive_moves,
      };
      g_array_append_val (self->pending_samples, s);
      self->last_sample_w = f->now;
    }
  g_clear_pointer (&self->pending, ft_frame_unref);
  self->pending = f;
  self->pending_kpis = k;
  self->world_now = ft_sim_world_now (w);
  self->finished_w = self->world_now >= ft_sim_world_end_time (w);
  ft_worker_unlock (self->worker);
}

static char *
run_job (gpointer target, gpointer data)
{
  Job *job = data;
  return job->fn (target, job->data);
}

static void
job_free (gpointer data)
{
  Job *job = data;
  if (job->destroy)
    job->destroy (job->data);
  g_free (job);
}

static void
worker_loop (FtWorker *worker, gpointer data)
{
  FtSession *self = data;
  FtSimWorld *w = self->world;
  gint64 last_wall = g_get_monotonic_time ();

  publish (self, w);
  for (;;)
    {
      ft_worker_lock (worker);
      while (!ft_worker_quit_requested (worker) && !self->playing && !self->step_pending &&
             self->run_to < 0 && !ft_worker_has_jobs (worker))
        {
          ft_worker_wait (worker);
          last_wall = g_get_monotonic_time ();
        }
      if (ft_worker_quit_requested (worker))
        {
          ft_worker_unlock (worker);
          break;
        }
      gboolean playing = self->playing, step = self->step_pending;
      FtTime run_to = self->run_to;
      double speed = self->speed;
      self->step_pending = FALSE;
      ft_worker_unlock (worker);

      gboolean did_jobs = ft_worker_run_jobs (worker, w) > 0;

      FtTime now = ft_sim_world_now (w), end = ft_sim_world_end_time (w);
      FtTime target = now;
      gint64 wall = g_get_monotonic_time ();
      if (run_to >= 0)
        target = MIN (run_to, now + 5 * FT_MINUTE);
      else if (step)
        target = now + FT_MINUTE;
      else if (playing)
        {
          if (speed <= 0)
            target = now + 5 * FT_MINUTE;
          else
            target = now + MIN ((FtTime) ((wall - last_wall) / 1000.0 * speed), 15 * FT_MINUTE);
        }
      last_wall = wall;
      target = MIN (target, end);
      gboolean advanced = FALSE;
      if (target > now)
        {
          g_autoptr(GError) error = NULL;
          if (!ft_sim_world_run_until (w, target, &error))
            g_warning ("simulation stopped: %s", error->message);
          advanced = TRUE;
        }
      now = ft_sim_world_now (w);
      ft_worker_lock (worker);
      if (self->run_to >= 0 && now >= self->run_to)
        self->run_to = -1;
      if (now >= end)
        {
          self->playing = FALSE;
          self->run_to = -1;
        }
      gboolean fast = self->run_to >= 0 || (self->playing && self->speed <= 0);
      gboolean keep_playing = self->playing;
      ft_worker_unlock (worker);
      if (advanced || did_jobs)
        publish (self, w);
      if (keep_playing && !fast)
        g_usleep (33000);   /* ~30 slices per wall second */
    }
}

/* ------------------------------------------------------------- main side */

static void
ft_session_stop_worker (FtSession *self)
{
  ft_worker_stop (self->worker);   /* jobs never run complete as cancelled */
}

/* A recorded run's database goes with its run (the next load, or the end
 * of the session); reports exported from it stay. */
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
ft_session_finalize (GObject *object)
{
  FtSession *self = FT_SESSION (object);
  ft_session_stop_worker (self);
  g_clear_pointer (&self->worker, ft_worker_free);
  g_clear_pointer (&self->world, ft_sim_world_free);
  remove_store (self->store_path);
  g_free (self->store_path);
  g_free (self->record_dir);
  g_clear_pointer (&self->scenario, ft_sim_scenario_free);
  g_clear_pointer (&self->pending, ft_frame_unref);
  g_clear_pointer (&self->frame, ft_frame_unref);
  g_free (self->tiles_path);
  g_array_unref (self->history);
  g_array_unref (self->pending_samples);
  g_ptr_array_unref (self->archive);
  g_free (self->run_name);
  G_OBJECT_CLASS (ft_session_parent_class)->finalize (object);
}

static void
ft_session_get_property (GObject *object, guint prop_id, GValue *value, GParamSpec *pspec)
{
  FtSession *self = FT_SESSION (object);
  switch (prop_id)
    {
    case PROP_PLAYING: g_value_set_boolean (value, ft_session_get_playing (self)); break;
    case PROP_SPEED:   g_value_set_double (value, self->speed); break;
    case PROP_ROLE:    g_value_set_int (value, self->role); break;
    case PROP_TIME:    g_value_set_int64 (value, ft_session_get_time (self)); break;
    case PROP_FINISHED: g_value_set_boolean (value, self->finished); break;
    default: G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
ft_session_set_property (GObject *object, guint prop_id, const GValue *value, GParamSpec *pspec)
{
  FtSession *self = FT_SESSION (object);
  switch (prop_id)
    {
    case PROP_PLAYING:
      if (g_value_get_boolean (value))
        ft_session_play (self);
      else
        ft_session_pause (self);
      break;
    case PROP_SPEED: ft_session_set_speed (self, g_value_get_double (value)); break;
    case PROP_ROLE:  ft_session_set_role (self, g_value_get_int (value)); break;
    default: G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
ft_session_class_init (FtSessionClass *klass)
{
  GObjectClass *oc = G_OBJECT_CLASS (klass);
  oc->finalize = ft_session_finalize;
  oc->get_property = ft_session_get_property;
  oc->set_property = ft_session_set_property;
  properties[PROP_PLAYING] = g_param_spec_boolean ("playing", NULL, NULL, FALSE,
                                                   G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  properties[PROP_SPEED] = g_param_spec_double ("speed", NULL, NULL, 0, 1e7, 60,
                                                G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  properties[PROP_ROLE] = g_param_spec_int ("role", NULL, NULL, 0, FT_ROLE_VIEW_RIDER, FT_ROLE_VIEW_DISPATCHER,
                                            G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  properties[PROP_TIME] = g_param_spec_int64 ("time", NULL, NULL, 0, G_MAXINT64, 0,
                                              G_PARAM_READABLE | G_PARAM_STATIC_STRINGS);
  properties[PROP_FINISHED] = g_param_spec_boolean ("finished", NULL, NULL, FALSE,
                                                    G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  g_object_class_install_properties (oc, N_PROPS, properties);
  signals[SIGNAL_FRAME_CHANGED] = g_signal_new ("frame-changed", G_TYPE_FROM_CLASS (klass),
                                                G_SIGNAL_RUN_LAST, 0, NULL, NULL, NULL, G_TYPE_NONE, 0);
  signals[SIGNAL_LOADED] = g_signal_new ("loaded", G_TYPE_FROM_CLASS (klass),
                                         G_SIGNAL_RUN_LAST, 0, NULL, NULL, NULL, G_TYPE_NONE, 0);
  signals[SIGNAL_RUNS_CHANGED] = g_signal_new ("runs-changed", G_TYPE_FROM_CLASS (klass),
                                               G_SIGNAL_RUN_LAST, 0, NULL, NULL, NULL, G_TYPE_NONE, 0);
}

static void
ft_session_init (FtSession *self)
{
  self->worker = ft_worker_new ();
  self->run_to = -1;
  self->speed = 60;
  self->history = g_array_new (FALSE, FALSE, sizeof (FtKpiSample));
  self->pending_samples = g_array_new (FALSE, FALSE, sizeof (FtKpiSample));
  self->last_sample_w = -1;
  self->archive = g_ptr_array_new_with_free_func ((GDestroyNotify) ft_run_free);
  self->role = FT_ROLE_VIEW_DISPATCHER;
}

FtSession *
ft_session_new (void)
{
  return g_object_new (FT_TYPE_SESSION, NULL);
}

static char *
find_demo_tiles (void)
{
  const char *env = g_getenv ("FT_DEMO_TILES");
  if (env && g_file_test (env, G_FILE_TEST_IS_REGULAR))
    return g_strdup (env);
  return ft_data_find ("demo-city.mbtiles");
}

gboolean
ft_session_load (FtSession *self, FtSimScenario *sc, const char *tiles_path, GError **error)
{
  g_return_val_if_fail (FT_IS_SESSION (self), FALSE);
  g_return_val_if_fail (sc != NULL, FALSE);

  FtSimWorldOptions opt = { NULL, 2000 };
  opt.shadow_inline = TRUE;   /* paced, and its views read the shadow from the main loop */
  g_autofree char *store_path = NULL;
  if (self->record_dir)
    {
      if (g_mkdir_with_parents (self->record_dir, 0700) != 0)
        {
          g_set_error (error, G_FILE_ERROR, g_file_error_from_errno (errno), "%s: cannot create the folder "
                       "for run databases: %s", self->record_dir, g_strerror (errno));
          ft_sim_scenario_free (sc);
          return FALSE;
        }
      g_autofree char *name = g_strdup_printf ("run-%d-%u.db", (int) getpid (), ++self->n_recorded);
      store_path = g_build_filename (self->record_dir, name, NULL);
      remove_store (store_path);   /* a dead process's leftover with our pid */
      opt.store_path = store_path;
    }
  FtSimWorld *w = ft_sim_world_new (sc, NULL, &opt, error);
  if (w == NULL)
    {
      remove_store (store_path);
      ft_sim_scenario_free (sc);
      return FALSE;
    }
  ft_session_stop_worker (self);
  if (self->world && self->frame)
    ft_session_archive_run (self);
  g_clear_pointer (&self->world, ft_sim_world_free);
  remove_store (self->store_path);
  g_free (self->store_path);
  self->store_path = g_steal_pointer (&store_path);
  g_clear_pointer (&self->scenario, ft_sim_scenario_free);
  g_clear_pointer (&self->pending, ft_frame_unref);
  g_clear_pointer (&self->frame, ft_frame_unref);
  g_array_set_size (self->history, 0);
  g_array_set_size (self->pending_samples, 0);
  self->last_sample_w = -1;
  self->world = w;
  self->scenario = sc;
  self->run_id = ++self->n_runs;
  self->run_started = g_get_real_time () / G_USEC_PER_SEC;
  g_free (self->run_name);
  g_autofree char *name = ft_run_default_name (sc->name, sc->seed, self->run_started);
  self->run_name = ft_run_unique_name (self->archive, name);   /* two runs in one minute */
  self->playing = self->step_pending = FALSE;
  self->playing_ui = FALSE;
  self->run_to = -1;
  self->finished_w = FALSE;
  self->end_time = ft_sim_world_end_time (w);
  gboolean was_finished = self->finished;
  self->finished = FALSE;

  g_free (self->tiles_path);
  const FtCity *city = ft_sim_world_get_city (w);
  if (tiles_path)
    self->tiles_path = g_strdup (tiles_path);
  else if (city->tiles_path && g_file_test (city->tiles_path, G_FILE_TEST_IS_REGULAR))
    self->tiles_path = g_strdup (city->tiles_path);
  else
    self->tiles_path = find_demo_tiles ();

  ft_worker_start (self->worker, "ft-twin", worker_loop, self);
  /* Wait for the first frame so the map has something to draw at once. */
  gint64 until = g_get_monotonic_time () + 2 * G_USEC_PER_SEC;
  while (g_get_monotonic_time () < until)
    {
      ft_worker_lock (self->worker);
      gboolean have = self->pending != NULL;
      ft_worker_unlock (self->worker);
      if (have)
        break;
      g_usleep (1000);
    }
  ft_session_poll (self);
  g_signal_emit (self, signals[SIGNAL_LOADED], 0);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_PLAYING]);
  if (was_finished)
    g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_FINISHED]);
  return TRUE;
}

void
ft_session_set_record_dir (FtSession *self, const char *dir)
{
  g_return_if_fail (FT_IS_SESSION (self));
  g_free (self->record_dir);
  self->record_dir = g_strdup (dir);
}

const char *
ft_session_get_record_dir (FtSession *self)
{
  g_return_val_if_fail (FT_IS_SESSION (self), NULL);
  return self->record_dir;
}

const char *
ft_session_get_store_path (FtSession *self)
{
  g_return_val_if_fail (FT_IS_SESSION (self), NULL);
  return self->store_path;
}

gboolean
ft_session_restart (FtSession *self, GError **error)
{
  g_return_val_if_fail (FT_IS_SESSION (self), FALSE);
  g_return_val_if_fail (self->scenario != NULL, FALSE);
  g_autofree char *tiles = g_strdup (self->tiles_path);   /* load replaces it */
  return ft_session_load (self, ft_sim_scenario_copy (self->scenario), tiles, error);
}

/* The start of the busiest hour of the first day in the city's demand
 * profile, less half an hour (07:30 when the city has no profile). */
FtTime
ft_session_get_busy_start (FtSession *self)
{
  const FtCity *city = ft_session_get_city (self);
  if (city == NULL || city->demand.rate == NULL || city->demand.n_zones == 0)
    return 7 * FT_HOUR + 30 * FT_MINUTE;
  guint best = 8;
  double best_rate = -1;
  for (guint h = 5; h < 22; h++)
    {
      double r = 0;
      for (guint z = 0; z < city->demand.n_zones; z++)
        r += city->demand.rate[z * 168 + h];
      if (r > best_rate)
        best_rate = r, best = h;
    }
  FtTime t = best * FT_HOUR - 30 * FT_MINUTE;
  return MIN (t, self->end_time);
}

gboolean
ft_session_get_finished (FtSession *self)
{
  return self->finished;
}

FtTime
ft_session_get_end_time (FtSession *self)
{
  return self->end_time;
}

gboolean
ft_session_is_loaded (FtSession *self)
{
  return self->world != NULL;
}

const FtSimScenario *
ft_session_get_scenario (FtSession *self)
{
  return self->scenario;
}

const FtCity *
ft_session_get_city (FtSession *self)
{
  /* The city is immutable after the world is built: safe to read here. */
  return self->world ? ft_sim_world_get_city (self->world) : NULL;
}

const char *
ft_session_get_tiles_path (FtSession *self)
{
  return self->tiles_path;
}

static void
set_flags (FtSession *self, int playing, gboolean step, FtTime run_to)
{
  ft_worker_lock (self->worker);
  if (playing >= 0)
    self->playing = playing;
  if (step)
    self->step_pending = TRUE;
  if (run_to >= 0)
    self->run_to = run_to;
  ft_worker_wake (self->worker);
  ft_worker_unlock (self->worker);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_PLAYING]);
}

void
ft_session_play (FtSession *self)
{
  set_flags (self, TRUE, FALSE, -1);
}

void
ft_session_pause (FtSession *self)
{
  set_flags (self, FALSE, FALSE, -1);
}

gboolean
ft_session_get_playing (FtSession *self)
{
  ft_worker_lock (self->worker);
  gboolean p = self->playing || self->run_to >= 0;
  ft_worker_unlock (self->worker);
  return p;
}

void
ft_session_step (FtSession *self)
{
  set_flags (self, FALSE, TRUE, -1);
}

void
ft_session_set_speed (FtSession *self, double speed)
{
  ft_worker_lock (self->worker);
  self->speed = MAX (speed, 0);
  ft_worker_wake (self->worker);
  ft_worker_unlock (self->worker);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_SPEED]);
}

double
ft_session_get_speed (FtSession *self)
{
  return self->speed;
}

void
ft_session_run_to (FtSession *self, FtTime t)
{
  set_flags (self, -1, FALSE, t);
}

gboolean
ft_session_poll (FtSession *self)
{
  ft_worker_lock (self->worker);
  FtFrame *f = g_steal_pointer (&self->pending);
  FtSimKpis k = self->pending_kpis;
  gboolean playing = self->playing || self->run_to >= 0;
  gboolean finished = self->finished_w;
  if (self->pending_samples->len > 0)
    {
      g_array_append_vals (self->history, self->pending_samples->data, self->pending_samples->len);
      g_array_set_size (self->pending_samples, 0);
    }
  ft_worker_unlock (self->worker);
  if (playing != self->playing_ui)
    {
      self->playing_ui = playing;
      g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_PLAYING]);
    }
  if (finished != self->finished)
    {
      self->finished = finished;
      g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_FINISHED]);
    }
  if (f == NULL)
    return FALSE;
  g_clear_pointer (&self->frame, ft_frame_unref);
  self->frame = f;
  self->kpis = k;
  g_signal_emit (self, signals[SIGNAL_FRAME_CHANGED], 0);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_TIME]);
  return TRUE;
}

FtFrame *
ft_session_get_frame (FtSession *self)
{
  return self->frame;
}

FtTime
ft_session_get_time (FtSession *self)
{
  return self->frame ? self->frame->now : 0;
}

const FtSimKpis *
ft_session_get_kpis (FtSession *self)
{
  return &self->kpis;
}

GArray *
ft_session_get_history (FtSession *self)
{
  return self->history;
}

FtRoleView
ft_session_get_role (FtSession *self)
{
  return self->role;
}

void
ft_session_set_role (FtSession *self, FtRoleView role)
{
  if (self->role == role)
    return;
  self->role = role;
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_ROLE]);
}

gboolean
ft_session_can_dispatch (FtSession *self)
{
  return self->role == FT_ROLE_VIEW_DISPATCHER || self->role == FT_ROLE_VIEW_PLANNER;
}

void
ft_session_run_job_async (FtSession *self, FtSessionJob fn, gpointer data, GDestroyNotify destroy,
                          GCancellable *cancellable, GAsyncReadyCallback callback,
                          gpointer user_data)
{
  g_return_if_fail (FT_IS_SESSION (self));
  g_return_if_fail (fn != NULL);
  Job *job = g_new0 (Job, 1);
  job->fn = fn;
  job->data = data;
  job->destroy = destroy;
  ft_worker_run_async (self->worker, self, run_job, job, job_free, cancellable, callback, user_data);
}

char *
ft_session_run_job_finish (FtSession *self, GAsyncResult *result, GError **error)
{
  g_return_val_if_fail (FT_IS_SESSION (self), NULL);
  return ft_worker_run_finish (result, error);
}

char *
ft_session_run_job_sync (FtSession *self, FtSessionJob fn, gpointer data)
{
  g_return_val_if_fail (FT_IS_SESSION (self), NULL);
  g_return_val_if_fail (ft_worker_is_running (self->worker), NULL);
  Job job = { .fn = fn, .data = data };
  return ft_worker_run_sync (self->worker, run_job, &job);
}

/* ------------------------------------------------------------- dispatch */

typedef struct {
  guint     kind;
  guint    *vehicles;
  guint     n;
  FtLatLon  target;
  gint32    staff;
  guint     created;
  GString  *errors;
  GString  *warnings;
} DispatchJob;

/* A battery this full needs no swap: swapping it wastes a charged pack. */
#define SWAP_FULL_SOC 0.95

static char *
dispatch_job (FtSimWorld *w, gpointer data)
{
  DispatchJob *d = data;
  gint32 by = ft_sim_world_dispatcher (w);
  gint32 staff_account = -1;
  if (d->staff >= 0 && (guint) d->staff < ft_sim_world_n_staff (w))
    {
      staff_account = (gint32) ft_sim_world_staff_account (w, (guint) d->staff);
      if (!ft_sim_world_staff_on_shift (w, (guint) d->staff))
        g_string_append_printf (d->warnings, "Staff %d is off shift: the tasks wait until the next shift starts. ",
                                d->staff + 1);
    }
  FtCore *core = ft_sim_world_get_core (w);
  guint full = 0;
  for (guint i = 0; i < d->n; i++)
    {
      g_autoptr(GError) error = NULL;
      if (by < 0)
        {
          g_string_append (d->errors, "this scenario has no dispatcher account; add dispatchers=1 under [staff]\n");
          break;
        }
      if (d->kind == FT_TASK_BATTERY_SWAP && d->vehicles[i] < ft_fleet_n_vehicles (core->fleet) &&
          ft_fleet_soc (core->fleet, d->vehicles[i]) >= SWAP_FULL_SOC)
        {
          full++;
          continue;
        }
      if (ft_sim_world_dispatch (w, d->kind, (gint32) d->vehicles[i], d->target, 5, (guint) by,
                                 staff_account, &error) >= 0)
        d->created++;
      else
        g_string_append_printf (d->errors, "%s\n", error->message);
    }
  if (full > 0)
    g_string_append_printf (d->warnings, "%u vehicle%s at %.0f %% battery or more skipped: no swap needed. ",
                            full, full == 1 ? "" : "s", SWAP_FULL_SOC * 100);
  return NULL;
}

guint
ft_session_dispatch (FtSession *self, guint kind, const guint *vehicles, guint n,
                     FtLatLon target, gint32 staff, GError **error)
{
  return ft_session_dispatch_checked (self, kind, vehicles, n, target, staff, NULL, error);
}

guint
ft_session_dispatch_checked (FtSession *self, guint kind, const guint *vehicles, guint n,
                             FtLatLon target, gint32 staff, char **warnings, GError **error)
{
  g_return_val_if_fail (FT_IS_SESSION (self), 0);
  if (!ft_session_can_dispatch (self))
    {
      g_set_error (error, FT_SIM_ERROR, FT_SIM_ERROR_INVALID,
                   "only staff roles can dispatch: switch the role to Dispatcher");
      return 0;
    }
  if (!ft_worker_is_running (self->worker))
    {
      g_set_error (error, FT_SIM_ERROR, FT_SIM_ERROR_INVALID, "no scenario is loaded");
      return 0;
    }
  DispatchJob d = { kind, g_memdup2 (vehicles, sizeof (guint) * MAX (n, 1)), n, target, staff, 0,
                    g_string_new (NULL), g_string_new (NULL) };
  g_free (ft_session_run_job_sync (self, dispatch_job, &d));
  if (d.errors->len > 0 && d.created < n)
    g_set_error (error, FT_SIM_ERROR, FT_SIM_ERROR_INVALID, "%u of %u tasks refused: %s",
                 n - d.created, n, d.errors->str);
  g_string_free (d.errors, TRUE);
  if (warnings)
    *warnings = d.warnings->len ? g_strstrip (g_string_free (d.warnings, FALSE)) : (g_string_free (d.warnings, TRUE), NULL);
  else
    g_string_free (d.warnings, TRUE);
  g_free (d.vehicles);
  return d.created;
}

/* ------------------------------------------------------------ inspector */

typedef struct { guint index; int zone; } Query;

static char *
fmt_time (FtTime t)
{
  if (t < 0)
    return g_strdup ("—");
  return ft_time_format (t);
}

static char *
describe_vehicle_job (FtSimWorld *w, gpointer data)
{
  Query *q = data;
  FtCore *core = ft_sim_world_get_core (w);
  FtOps *ops = ft_sim_world_get_ops (w);
  if (q->index >= ft_fleet_n_vehicles (core->fleet))
    return g_strdup ("No such vehicle.");
  const FtVehicle *v = ft_fleet_get_vehicle (core->fleet, q->index);
  GString *s = g_string_new (NULL);
  g_autofree char *since = fmt_time (v->state_since);
  g_string_append_printf (s, "<b>%s</b> · %s\n", v->name, ft_vehicle_kind_id (v->kind));
  g_string_append_printf (s, "State: %s since %s\nLast event: %s\n", ft_vehicle_state_name (v->state),
                          since, ft_vehicle_event_name (v->last_event));
  g_string_append_printf (s, "Battery: %.0f %% · range %.1f km\n", ft_fleet_soc (core->fleet, q->index) * 100,
                          ft_fleet_range_m (core->fleet, q->index) / 1000.0);
  if (v->pack >= 0)
    {
      const FtPack *p = ft_fleet_get_pack (core->fleet, (guint) v->pack);
      g_string_append_printf (s, "Pack: %s · health %.0f %% · %u cycles\n", p->id, p->health * 100, p->cycles);
    }
  g_string_append_printf (s, "Odometer: %.1f km · wear %.2f\nDevice: %s\n", v->odometer_m / 1000.0, v->wear, v->device_id);
  if (v->booking >= 0)
    {
      const FtBookingRec *b = ft_booking_get (core->booking, v->booking);
      if (b)
        {
          g_autofree char *at = fmt_time (b->unlocked_at >= 0 ? b->unlocked_at : b->reserved_at);
          g_string_append_printf (s, "Booking %" G_GINT64_FORMAT ": %s since %s · rider %u\n", b->id,
                                  ft_booking_state_name (b->state), at, b->rider);
          char trip_id[37];
          if (ft_booking_trip_id (core->booking, v->booking, trip_id))
            g_string_append_printf (s, "Trip: %s\n", trip_id);
        }
    }
  for (guint k = 0; k < FT_N_TASK_KINDS; k++)
    {
      gint64 t = ft_ops_open_for (ops, q->index, k);
      if (t >= 0)
        {
          const FtTask *task = ft_ops_get (ops, t);
          g_string_append_printf (s, "Task %" G_GINT64_FORMAT ": %s, %s%s\n", t, ft_task_kind_name (task->kind),
                                  ft_task_state_name (task->state), task->staff >= 0 ? " (assigned)" : "");
        }
    }
  return g_string_free (s, FALSE);
}

char *
ft_session_describe_vehicle (FtSession *self, guint v)
{
  Query q = { v, -1 };
  return ft_worker_is_running (self->worker) ? ft_session_run_job_sync (self, describe_vehicle_job, &q) : NULL;
}

static char *
describe_staff_job (FtSimWorld *w, gpointer data)
{
  Query *q = data;
  g_autoptr(FtSimSnapshot) snap = ft_sim_world_snapshot (w);
  if (q->index >= snap->n_staff)
    return g_strdup ("No such staff member.");
  const FtSimStaffSnap *st = &snap->staff[q->index];
  static const char *acts[] = { "off shift", "idle", "driving", "servicing a vehicle", "at a depot" };
  GString *s = g_string_new (NULL);
  g_string_append_printf (s, "<b>Staff %u</b> · account %u\n", q->index + 1, st->account);
  g_string_append_printf (s, "Activity: %s\n", st->activity < G_N_ELEMENTS (acts) ? acts[st->activity] : "?");
  g_string_append_printf (s, "Van: %u charged, %u depleted packs\n", st->packs_charged, st->packs_depleted);
  if (st->task >= 0)
    {
      const FtTask *t = ft_ops_get (ft_sim_world_get_ops (w), st->task);
      if (t)
        g_string_append_printf (s, "Task %" G_GINT64_FORMAT ": %s (%s), vehicle %d\n", t->id,
                                ft_task_kind_name (t->kind), ft_task_state_name (t->state), t->vehicle);
    }
  return g_string_free (s, FALSE);
}

char *
ft_session_describe_staff (FtSession *self, guint s)
{
  Query q = { s, -1 };
  return ft_worker_is_running (self->worker) ? ft_session_run_job_sync (self, describe_staff_job, &q) : NULL;
}

char *
ft_session_describe_zone (FtSession *self, int zone)
{
  const FtCity *city = ft_session_get_city (self);
  if (city == NULL || zone < 0 || (guint) zone >= city->n_zones)
    return NULL;
  const FtZone *z = &city->zones[zone];
  GString *s = g_string_new (NULL);
  g_string_append_printf (s, "<b>%s</b> · %s\n", z->name, ft_zone_kind_name (z->kind));
  g_string_append_printf (s, "Area: %.2f km² · price ×%.2f\n", z->area_km2, z->pricing_multiplier);
  if (self->frame && self->frame->zone_heat && (guint) zone < self->frame->n_zones)
    {
      guint h = (guint) ((self->frame->now / FT_HOUR) % 168);
      g_string_append_printf (s, "Demand now: %.1f requests/h (relative heat %.0f %%)\n",
                              city->demand.rate[zone * 168 + h], self->frame->zone_heat[zone] * 100);
    }
  if (self->frame)
    {
      guint avail = 0, total = 0;
      for (guint i = 0; i < self->frame->n_vehicles; i++)
        {
          FtLatLon p = ft_mercator_to_latlon (self->frame->vehicles[i].mx, self->frame->vehicles[i].my);
          if (ft_bbox_contains (&z->area->bbox, p) && ft_multipolygon_contains (z->area, p))
            {
              total++;
              avail += self->frame->vehicles[i].state == FT_STATE_AVAILABLE;
            }
        }
      g_string_append_printf (s, "Vehicles here: %u (%u available)\n", total, avail);
    }
  return g_string_free (s, FALSE);
}

FtRun *
ft_session_dup_current_run (FtSession *self)
{
  g_return_val_if_fail (FT_IS_SESSION (self), NULL);
  if (self->frame == NULL || self->scenario == NULL)
    return NULL;
  FtRun *run = g_new0 (FtRun, 1);
  run->id = self->run_id;
  run->name = g_strdup (self->run_name);
  run->scenario = g_strdup (self->scenario->name ? self->scenario->name : "Unnamed scenario");
  const FtCity *city = self->world ? ft_sim_world_get_city (self->world) : NULL;
  run->city = g_strdup (city && city->name ? city->name : self->scenario->city);
  run->seed = self->scenario->seed;
  run->started = self->run_started;
  run->kpis = self->kpis;
  run->end_time = self->end_time;
  run->days_planned = self->scenario->days;
  run->finished = self->finished;
  run->current = TRUE;
  return run;
}

void
ft_session_archive_run (FtSession *self)
{
  g_return_if_fail (FT_IS_SESSION (self));
  FtRun *run = ft_session_dup_current_run (self);
  if (run == NULL)
    return;
  if (run->kpis.sim_time <= 0 || ft_run_find (self->archive, run->id))
    {
      ft_run_free (run);   /* never played, or kept already: nothing to add */
      return;
    }
  run->current = FALSE;
  g_ptr_array_add (self->archive, run);
  g_signal_emit (self, signals[SIGNAL_RUNS_CHANGED], 0);
}

gboolean
ft_session_remove_run (FtSession *self, guint id)
{
  g_return_val_if_fail (FT_IS_SESSION (self), FALSE);
  for (guint i = 0; i < self->archive->len; i++)
    if (((FtRun *) self->archive->pdata[i])->id == id)
      {
        g_ptr_array_remove_index (self->archive, i);
        if (self->baseline == id)
          self->baseline = 0;
        g_signal_emit (self, signals[SIGNAL_RUNS_CHANGED], 0);
        return TRUE;
      }
  return FALSE;
}

gboolean
ft_session_rename_run (FtSession *self, guint id, const char *name, GError **error)
{
  g_return_val_if_fail (FT_IS_SESSION (self), FALSE);
  FtRun *kept = (FtRun *) ft_run_find (self->archive, id);
  if (kept == NULL && (id == 0 || id != self->run_id || self->scenario == NULL))
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND, "run %u: no such run (removed?)", id);
      return FALSE;
    }
  g_autofree char *checked = ft_run_check_name (name, error);
  if (checked == NULL)
    return FALSE;
  const char *own = kept ? kept->name : self->run_name;
  gboolean taken = id != self->run_id && self->scenario && g_strcmp0 (self->run_name, checked) == 0;
  for (guint i = 0; i < self->archive->len && !taken; i++)
    {
      const FtRun *r = self->archive->pdata[i];
      taken = r->id != id && g_strcmp0 (r->name, checked) == 0;
    }
  if (taken && g_strcmp0 (own, checked) != 0)
    {
      g_set_error (error, FT_RUN_ERROR, FT_RUN_ERROR_TAKEN, "another run is named \"%s\"", checked);
      return FALSE;
    }
  char **slot = kept ? &kept->name : &self->run_name;
  g_free (*slot);
  *slot = g_steal_pointer (&checked);
  g_signal_emit (self, signals[SIGNAL_RUNS_CHANGED], 0);
  return TRUE;
}

guint
ft_session_get_baseline (FtSession *self)
{
  g_return_val_if_fail (FT_IS_SESSION (self), 0);
  return self->baseline;
}

void
ft_session_set_baseline (FtSession *self, guint id)
{
  g_return_if_fail (FT_IS_SESSION (self));
  if (self->baseline == id)
    return;
  self->baseline = id;
  g_signal_emit (self, signals[SIGNAL_RUNS_CHANGED], 0);
}

GPtrArray *
ft_session_get_archive (FtSession *self)
{
  return self->archive;
}

/* ---------------------------------------------------------- task list */

typedef struct {
  GArray  *out;
  guint    max;
} TasksJob;

static char *
tasks_job (FtSimWorld *w, gpointer data)
{
  TasksJob *j = data;
  FtOps *ops = ft_sim_world_get_ops (w);
  FtCore *core = ft_sim_world_get_core (w);
  g_autoptr(FtSimSnapshot) snap = ft_sim_world_snapshot (w);
  g_autoptr(GArray) keys = staff_stops (w, snap);
  /* swaps per van against the packs it carries */
  g_autofree guint *swaps = g_new0 (guint, MAX (snap->n_staff, 1));
  for (guint k = 0; k < keys->len; k++)
    {
      const StopKey *key = &g_array_index (keys, StopKey, k);
      swaps[key->staff] += ft_ops_get (ops, key->id)->kind == FT_TASK_BATTERY_SWAP;
    }
  for (gint64 id = (gint64) ft_ops_n (ops) - 1; id >= 0 && j->out->len < j->max; id--)
    {
      const FtTask *t = ft_ops_get (ops, id);
      if (t == NULL || t->state == FT_TASK_DONE || t->state == FT_TASK_CANCELLED)
        continue;
      FtSessionTask st = { .id = t->id, .kind = t->kind, .state = t->state, .priority = t->priority,
                           .staff = -1, .created = t->created, .approval = t->approval, .eta = -1,
                           .battery = NAN };
      if (t->vehicle >= 0 && (guint) t->vehicle < ft_fleet_n_vehicles (core->fleet))
        {
          g_strlcpy (st.vehicle, ft_fleet_get_vehicle (core->fleet, (guint) t->vehicle)->name, sizeof st.vehicle);
          st.battery = ft_fleet_soc (core->fleet, (guint) t->vehicle);
        }
      const FtTaskValue *v = ft_ops_get_value (ops, id);
      if (v)
        {
          st.has_value = TRUE;
          st.value = v->value;
          g_strlcpy (st.reason, v->reason, sizeof st.reason);
        }
      for (guint i = 0; i < snap->n_staff && t->staff >= 0; i++)
        if (snap->staff[i].account == (guint32) t->staff)
          st.staff = (gint32) i;
      if (st.staff >= 0)
        {
          const FtSimStaffSnap *ss = &snap->staff[st.staff];
          g_snprintf (st.assignee, sizeof st.assignee, "Staff %d", st.staff + 1);
          if (!ft_sim_world_staff_on_shift (w, (guint) st.staff))
            st.warnings |= FT_TASK_WARN_OFF_SHIFT;
          if (t->kind == FT_TASK_BATTERY_SWAP && swaps[st.staff] > ss->packs_charged)
            st.warnings |= FT_TASK_WARN_VAN_FULL;
          for (guint k = 0, pos = 0; k < keys->len; k++)
            {
              const StopKey *key = &g_array_index (keys, StopKey, k);
              if (key->staff != st.staff)
                continue;
              pos++;
              if (key->id == id)
                st.stop = (gint) pos;
            }
          /* the current task: straight-line road distance at van speed */
          FtLatLon p = task_where (core, t);
          if (ss->task == id && isfinite (p.lat))
            st.eta = snap->t + (FtTime) (ft_distance_m (ss->pos, p) * 1.3 / 1000.0 / 20.0 * FT_HOUR);
        }
      if (t->kind == FT_TASK_BATTERY_SWAP && st.battery >= 0.95)
        st.warnings |= FT_TASK_WARN_FULL_BATTERY;
      g_array_append_val (j->out, st);
    }
  return NULL;
}

GArray *
ft_session_dup_tasks (FtSession *self, guint max)
{
  g_return_val_if_fail (FT_IS_SESSION (self), NULL);
  TasksJob j = { g_array_new (FALSE, FALSE, sizeof (FtSessionTask)), max };
  if (ft_worker_is_running (self->worker))
    g_free (ft_session_run_job_sync (self, tasks_job, &j));
  return j.out;
}

typedef struct {
  gint64   task;
  gint32   staff;      /* -1: cancel */
  GError  *error;
} TaskEditJob;

static char *
task_edit_job (FtSimWorld *w, gpointer data)
{
  TaskEditJob *j = data;
  gint32 by = ft_sim_world_dispatcher (w);
  if (by < 0)
    g_set_error (&j->error, FT_SIM_ERROR, FT_SIM_ERROR_INVALID,
                 "this scenario has no dispatcher account; add dispatchers=1 under [staff]");
  else if (j->staff < 0)
    ft_sim_world_cancel_task (w, j->task, (guint) by, &j->error);
  else
    ft_sim_world_reassign_task (w, j->task, (guint) j->staff, (guint) by, &j->error);
  return NULL;
}

static gboolean
task_edit (FtSession *self, gint64 task, gint32 staff, GError **error)
{
  if (!ft_session_can_dispatch (self))
    {
      g_set_error (error, FT_SIM_ERROR, FT_SIM_ERROR_INVALID,
                   "only staff roles can change tasks: switch the role to Dispatcher");
      return FALSE;
    }
  TaskEditJob j = { task, staff, NULL };
  g_free (ft_session_run_job_sync (self, task_edit_job, &j));
  if (j.error)
    {
      g_propagate_error (error, j.error);
      return FALSE;
    }
  return TRUE;
}

gboolean
ft_session_cancel_task (FtSession *self, gint64 task, GError **error)
{
  return task_edit (self, task, -1, error);
}

gboolean
ft_session_reassign_task (FtSession *self, gint64 task, guint staff, GError **error)
{
  return task_edit (self, task, (gint32) staff, error);
}
