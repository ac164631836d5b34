/* ft-wall-source.c — the wallboard's three sources: a scenario simulated in
 * place, a run database replayed from its event log, and a live twin
 * followed over MQTT. Each keeps what it needs and fills an FtWallScene.
 */
#include "ft-wall-source.h"
#include "ft-config.h"
#include "ft-data.h"
#include "ft-file.h"
#include "ft-live.h"
#include "ft-sim-world.h"
#include "ft-tiles.h"

#include <sqlite3.h>
#include <string.h>

/* ---- shared --------------------------------------------------------------- */

typedef struct {
  FtLatLon pos;
  guint8   state, kind, low, fault;
  gboolean known;
} RVeh;

typedef struct {
  FtLatLon pos, target;
  gboolean has_pos, has_target;
  gint64   task;
  /* on the way to target: from `from` at t_from, there at t_arrive */
  FtLatLon from;
  FtTime   t_from, t_arrive;
  gboolean moving;
} RVan;

/* A replayed van drives at this speed over the straight line times a
 * detour factor (the log keeps where it was sent and when the task was
 * done, not the path), and never arrives after the task was done. */
#define REPLAY_VAN_SPEED_MPS  (25.0 / 3.6)
#define REPLAY_VAN_DETOUR     1.3

struct _FtWallSource {
  FtWallSourceKind kind;
  char            *spec;
  char            *tiles_path;
  char            *label;
  FtTime           start, end, now;
  /* scenario */
  FtSimScenario   *sc;
  FtSimWorld      *world;
  guint64          faults_seen, lost_seen;
  /* run database */
  sqlite3         *db;
  sqlite3_stmt    *ev;
  sqlite3_stmt    *done_at;      /* when a task was done (look-ahead for vans) */
  gint64           last_seq;
  GArray          *veh;          /* RVeh by vehicle index */
  char           **names;        /* vehicle names by index (NULL-terminated) */
  guint            n_names;
  GHashTable      *open_tasks;   /* task id → vehicle (GINT_TO_POINTER (v + 1)) */
  GHashTable      *vans;         /* staff account → RVan* */
  guint64          served, lost;
  gint64           revenue;
  gint64           day;
  /* live */
  FtCore          *core;
  FtLive          *live;
  FtLiveConnState  conn;
  char            *conn_detail;
  gboolean         conn_changed;
};

char *
ft_wall_find_demo_tiles (void)
{
  const char *env = g_getenv ("FT_DEMO_TILES");
  if (env && *env)
    return g_strdup (env);   /* named explicitly: a missing file is reported, not skipped */
  return ft_data_find ("demo-city.mbtiles");
}

static guint8
layer_for (guint state, gboolean low, gboolean fault)
{
  if (fault || state == FT_STATE_NON_OPERATIONAL || state == FT_STATE_UNKNOWN)
    return FT_WALL_LAYER_DOWN;
  if (state == FT_STATE_RESERVED || state == FT_STATE_ON_TRIP)
    return FT_WALL_LAYER_BUSY;
  if (low)
    return FT_WALL_LAYER_LOW;
  return FT_WALL_LAYER_AVAILABLE;
}

static void
push_vehicle (FtWallScene *scene, FtLatLon pos, guint8 layer, guint8 kind)
{
  FtWallVehicle v = { 0 };
  ft_wall_project (pos, &v.mx, &v.my);
  v.layer = layer;
  v.kind = kind;
  g_array_append_val (scene->vehicles, v);
}

static void
push_van (FtWallScene *scene, FtLatLon pos, const FtLatLon *target)
{
  FtWallVan v = { 0 };
  ft_wall_project (pos, &v.mx, &v.my);
  if (target)
    {
      ft_wall_project (*target, &v.tx, &v.ty);
      v.has_target = TRUE;
    }
  g_array_append_val (scene->vans, v);
}

/* ---- scenario ------------------------------------------------------------- */

static gboolean
scenario_open (FtWallSource *src, const FtWallSourceOptions *opt, GError **error)
{
  src->sc = ft_sim_scenario_load (src->spec, error);
  if (src->sc == NULL)
    return FALSE;
  if (opt && opt->days > 0)
    src->sc->days = opt->days;
  FtSimWorldOptions wo = { NULL, 4000, NULL, 0 };
  src->world = ft_sim_world_new (src->sc, NULL, &wo, error);
  if (src->world == NULL)
    return FALSE;
  src->start = 0;
  src->end = ft_sim_world_end_time (src->world);
  const FtCity *city = ft_sim_world_get_city (src->world);
  if (city->tiles_path && g_file_test (city->tiles_path, G_FILE_TEST_IS_REGULAR))
    src->tiles_path = g_strdup (city->tiles_path);
  else if (g_strcmp0 (src->sc->city, "demo") == 0 && src->sc->city_osm == NULL && src->sc->city_trips == NULL)
    src->tiles_path = ft_wall_find_demo_tiles ();
  g_autofree char *base = g_path_get_basename (src->spec);
  src->label = g_strdup_printf ("simulating %s", base);
  return TRUE;
}

static void
scenario_fill (FtWallSource *src, FtWallScene *scene, gboolean full)
{
  FtSimKpis k;
  ft_sim_world_kpis (src->world, &k);
  g_strlcpy (scene->currency, k.currency, sizeof scene->currency);
  scene->service_level = k.trips_requested ? (double) k.trips_served / k.trips_requested : -1;
  FtOps *ops = ft_sim_world_get_ops (src->world);
  scene->open_tasks = ft_ops_count_state (ops, FT_TASK_OPEN) + ft_ops_count_state (ops, FT_TASK_ASSIGNED)
                      + ft_ops_count_state (ops, FT_TASK_IN_PROGRESS);
  ft_wall_scene_set_revenue_total (scene, src->now, k.revenue_minor);
  if (k.faults > src->faults_seen)
    {
      guint64 n = k.faults - src->faults_seen;
      ft_wall_scene_alert (scene, FT_WALL_ALERT_MAINTENANCE, src->now,
                           "Maintenance: %" G_GUINT64_FORMAT " new vehicle fault%s (%" G_GUINT64_FORMAT
                           " since the start, %" G_GUINT64_FORMAT " repairs collected)",
                           n, n == 1 ? "" : "s", k.faults, k.collections);
      src->faults_seen = k.faults;
    }

  g_autoptr (FtSimSnapshot) snap = ft_sim_world_snapshot (src->world);
  /* lost requests: the newest ones in the snapshot's ring, oldest first */
  guint64 new_lost = k.trips_lost - src->lost_seen;
  src->lost_seen = k.trips_lost;
  guint from = new_lost < snap->n_lost ? snap->n_lost - (guint) new_lost : 0;
  for (guint i = from; i < snap->n_lost; i++)
    ft_wall_scene_note_lost (scene, snap->lost[i].t, 1);
  if (new_lost > snap->n_lost)   /* more than the ring kept: count them now */
    ft_wall_scene_note_lost (scene, src->now, (guint) (new_lost - snap->n_lost));

  guint low = 0, counted = 0;
  if (full)
    g_array_set_size (scene->vehicles, 0);
  for (guint i = 0; i < snap->n_vehicles; i++)
    {
      const FtSimVehicleSnap *v = &snap->vehicles[i];
      if ((v->flags & FT_SIM_VFLAG_IN_VAN) || v->state == FT_STATE_REMOVED || v->state == FT_STATE_ELSEWHERE)
        continue;
      counted++;
      if (v->flags & FT_SIM_VFLAG_LOW)
        low++;
      if (full)
        push_vehicle (scene, v->pos, layer_for (v->state, v->flags & FT_SIM_VFLAG_LOW, v->flags & FT_SIM_VFLAG_FAULT),
                      v->kind);
    }
  scene->battery_available = counted ? 1.0 - (double) low / counted : -1;
  if (full)
    {
      g_array_set_size (scene->vans, 0);
      for (guint i = 0; i < snap->n_staff; i++)
        {
          const FtSimStaffSnap *s = &snap->staff[i];
          if (s->activity == FT_SIM_STAFF_OFF)
            continue;
          gboolean moving = s->activity == FT_SIM_STAFF_TRAVEL;
          push_van (scene, s->pos, moving ? &s->target : NULL);
        }
    }
}

static gboolean
scenario_update (FtWallSource *src, FtTime t, FtWallScene *scene, GError **error)
{
  t = MIN (t, src->end);
  /* step through sample times and midnights so the charts get their
   * history and the day's revenue its exact base even across long jumps */
  while (src->now < t)
    {
      FtTime next = MIN (t, (src->now / FT_WALL_SAMPLE_EVERY + 1) * FT_WALL_SAMPLE_EVERY);
      if (!ft_sim_world_run_until (src->world, next, error))
        return FALSE;
      src->now = next;
      scene->t = next;
      scenario_fill (src, scene, next == t);
      ft_wall_scene_sample (scene);
    }
  if (scene->vehicles->len == 0 && scene->t == src->now)
    scenario_fill (src, scene, TRUE);
  scene->t = src->now;
  return TRUE;
}

/* ---- run database ------------------------------------------------------------ */

static RVeh *
rveh (FtWallSource *src, gint64 v)
{
  if (v < 0 || v > 10000000)
    return NULL;
  if ((guint) v >= src->veh->len)
    g_array_set_size (src->veh, (guint) v + 1);
  return &g_array_index (src->veh, RVeh, v);
}

static const char *
veh_name (FtWallSource *src, gint64 v, char *buf, gsize len)
{
  if (v >= 0 && (guint64) v < src->n_names && src->names[v])
    return src->names[v];
  g_snprintf (buf, len, "vehicle %" G_GINT64_FORMAT, v);
  return buf;
}

/* Where a van on its way is at time t: along the straight line from where
 * it set out, at the pace that brings it there at t_arrive. */
static FtLatLon
rvan_where (const RVan *van, FtTime t)
{
  if (!van->moving)
    return van->pos;
  if (t >= van->t_arrive || van->t_arrive <= van->t_from)
    return van->target;
  double f = t <= van->t_from ? 0.0 : (double) (t - van->t_from) / (double) (van->t_arrive - van->t_from);
  FtLatLon p = { van->from.lat + f * (van->target.lat - van->from.lat),
                 van->from.lon + f * (van->target.lon - van->from.lon) };
  return p;
}

/* When task `ref` was done after event `seq`, or -1 (not in the log). */
static FtTime
rundb_task_done_at (FtWallSource *src, gint64 seq, gint64 ref)
{
  if (src->done_at == NULL)
    return -1;
  sqlite3_reset (src->done_at);
  sqlite3_bind_int64 (src->done_at, 1, seq);
  sqlite3_bind_int (src->done_at, 2, FT_EV_TASK_DONE);
  sqlite3_bind_int64 (src->done_at, 3, ref);
  FtTime t = sqlite3_step (src->done_at) == SQLITE_ROW ? sqlite3_column_int64 (src->done_at, 0) : -1;
  sqlite3_reset (src->done_at);
  return t;
}

static RVan *
rvan (FtWallSource *src, gint64 staff)
{
  RVan *v = g_hash_table_lookup (src->vans, GINT_TO_POINTER ((int) staff));
  if (v == NULL)
    {
      v = g_new0 (RVan, 1);
      v->task = -1;
      g_hash_table_insert (src->vans, GINT_TO_POINTER ((int) staff), v);
    }
  return v;
}

/* Demo City's tiles if they cover where the run's vehicles were added
 * (the run database does not say reliably which city it ran: the scenario
 * path it keeps is relative to wherever it was run). */
static char *
rundb_demo_tiles (sqlite3 *db)
{
  g_autofree char *tiles = ft_wall_find_demo_tiles ();
  if (tiles == NULL)
    return NULL;
  g_autoptr (FtTiles) t = ft_tiles_open (tiles, NULL);
  FtBBox bb;
  if (t == NULL || !ft_tiles_get_bounds (t, &bb))
    return NULL;
  sqlite3_stmt *st = NULL;
  gboolean inside = FALSE;
  if (sqlite3_prepare_v2 (db, "SELECT min(lat), max(lat), min(lon), max(lon), count(*) FROM events WHERE kind = ?",
                          -1, &st, NULL) == SQLITE_OK)
    {
      sqlite3_bind_int (st, 1, FT_EV_VEHICLE_ADDED);
      if (sqlite3_step (st) == SQLITE_ROW && sqlite3_column_int64 (st, 4) > 0)
        {
          double m = 0.01;   /* a margin for vehicles placed at the edge */
          inside = sqlite3_column_double (st, 0) >= bb.min_lat - m && sqlite3_column_double (st, 1) <= bb.max_lat + m
                   && sqlite3_column_double (st, 2) >= bb.min_lon - m && sqlite3_column_double (st, 3) <= bb.max_lon + m;
        }
    }
  sqlite3_finalize (st);
  return inside ? g_steal_pointer (&tiles) : NULL;
}

static gboolean
rundb_open (FtWallSource *src, GError **error)
{
  const char *path = src->spec;
  if (!g_file_test (path, G_FILE_TEST_EXISTS))
    {
      g_set_error (error, FT_WALL_ERROR, FT_WALL_ERROR_SOURCE,
                   "run database “%s” does not exist (a source is a .scenario file, a run database from "
                   "`fleet-twin-cli run --out`, or an mqtt:// broker URL)", path);
      return FALSE;
    }
  if (!g_file_test (path, G_FILE_TEST_IS_REGULAR))
    {
      g_set_error (error, FT_WALL_ERROR, FT_WALL_ERROR_SOURCE,
                   "run database “%s” is not a regular file", path);
      return FALSE;
    }
  guint32 app_id = 0;
  if (!ft_output_sqlite_app_id (path, &app_id))
    {
      g_set_error (error, FT_WALL_ERROR, FT_WALL_ERROR_SOURCE,
                   "run database “%s” cannot be read: it is not an SQLite file (unreadable, damaged or "
                   "something else)", path);
      return FALSE;
    }
  if (app_id != FT_OUTPUT_STORE_APP_ID)
    {
      g_set_error (error, FT_WALL_ERROR, FT_WALL_ERROR_SOURCE,
                   "run database “%s” cannot be read: it is an SQLite file of another program, "
                   "not a Fleet Twin run database", path);
      return FALSE;
    }
  if (sqlite3_open_v2 (path, &src->db, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK)
    {
      g_set_error (error, FT_WALL_ERROR, FT_WALL_ERROR_SOURCE, "cannot open run database “%s”: %s", path,
                   src->db ? sqlite3_errmsg (src->db) : "out of memory");
      return FALSE;
    }
  sqlite3_busy_timeout (src->db, 2000);
  sqlite3_stmt *st = NULL;
  if (sqlite3_prepare_v2 (src->db, "SELECT coalesce(max(t), 0) FROM events", -1, &st, NULL) != SQLITE_OK ||
      sqlite3_step (st) != SQLITE_ROW)
    {
      g_set_error (error, FT_WALL_ERROR, FT_WALL_ERROR_SOURCE, "run database “%s” cannot be read: %s", path,
                   sqlite3_errmsg (src->db));
      sqlite3_finalize (st);
      return FALSE;
    }
  src->end = sqlite3_column_int64 (st, 0);
  sqlite3_finalize (st);
  if (sqlite3_prepare_v2 (src->db, "SELECT idx, name FROM vehicles ORDER BY idx", -1, &st, NULL) == SQLITE_OK)
    {
      GPtrArray *names = g_ptr_array_new ();
      while (sqlite3_step (st) == SQLITE_ROW)
        {
          gint64 idx = sqlite3_column_int64 (st, 0);
          if (idx < 0 || idx > 10000000)
            continue;
          while (names->len <= (guint) idx)
            g_ptr_array_add (names, NULL);
          g_free (names->pdata[idx]);
          names->pdata[idx] = g_strdup ((const char *) sqlite3_column_text (st, 1));
        }
      src->n_names = names->len;
      g_ptr_array_add (names, NULL);
      src->names = (char **) g_ptr_array_free (names, FALSE);
    }
  sqlite3_finalize (st);
  if (sqlite3_prepare_v2 (src->db,
                          "SELECT seq, t, kind, vehicle, account, ref, a, b, amount, lat, lon FROM events "
                          "WHERE seq > ?1 AND t <= ?2 ORDER BY seq LIMIT 20000", -1, &src->ev, NULL) != SQLITE_OK)
    {
      g_set_error (error, FT_WALL_ERROR, FT_WALL_ERROR_SOURCE, "run database “%s” has no usable event log: %s",
                   path, sqlite3_errmsg (src->db));
      return FALSE;
    }
  /* no index on ref: a failed prepare only means vans jump, not an error */
  if (sqlite3_prepare_v2 (src->db, "SELECT t FROM events WHERE seq > ?1 AND kind = ?2 AND ref = ?3 "
                          "ORDER BY seq LIMIT 1", -1, &src->done_at, NULL) != SQLITE_OK)
    src->done_at = NULL;
  src->veh = g_array_new (FALSE, TRUE, sizeof (RVeh));
  src->open_tasks = g_hash_table_new (g_direct_hash, g_direct_equal);
  src->vans = g_hash_table_new_full (g_direct_hash, g_direct_equal, NULL, g_free);
  src->day = 0;
  /* the map: Demo City's tiles when the run's vehicles stand inside them */
  src->tiles_path = rundb_demo_tiles (src->db);
  g_autofree char *base = g_path_get_basename (path);
  src->label = g_strdup_printf ("replaying %s", base);
  return TRUE;
}

static void
rundb_kpis (FtWallSource *src, FtWallScene *scene)
{
  guint low = 0, counted = 0;
  for (guint i = 0; i < src->veh->len; i++)
    {
      const RVeh *v = &g_array_index (src->veh, RVeh, i);
      if (!v->known || v->state == FT_STATE_REMOVED || v->state == FT_STATE_ELSEWHERE)
        continue;
      counted++;
      low += v->low != 0;
    }
  scene->battery_available = counted ? 1.0 - (double) low / counted : -1;
  scene->service_level = src->served + src->lost ? (double) src->served / (src->served + src->lost) : -1;
  scene->open_tasks = g_hash_table_size (src->open_tasks);
}

static void
rundb_event (FtWallSource *src, FtWallScene *scene, sqlite3_stmt *st)
{
  FtTime t = sqlite3_column_int64 (st, 1);
  int kind = sqlite3_column_int (st, 2);
  gint64 vehicle = sqlite3_column_int64 (st, 3), account = sqlite3_column_int64 (st, 4);
  gint64 ref = sqlite3_column_int64 (st, 5), a = sqlite3_column_int64 (st, 6), b = sqlite3_column_int64 (st, 7);
  gint64 amount = sqlite3_column_int64 (st, 8);
  FtLatLon pos = { sqlite3_column_double (st, 9), sqlite3_column_double (st, 10) };
  gboolean has_pos = pos.lat != 0 || pos.lon != 0;
  char nb[32];
  RVeh *v;
  switch (kind)
    {
    case FT_EV_VEHICLE_ADDED:
      if ((v = rveh (src, vehicle)))
        {
          v->known = TRUE;
          v->pos = pos;
          v->kind = (guint8) CLAMP (a, 0, FT_N_KINDS - 1);
          v->state = FT_STATE_AVAILABLE;
        }
      break;
    case FT_EV_VEHICLE_STATE:
      if ((v = rveh (src, vehicle)))
        {
          v->state = (guint8) CLAMP (b, 0, FT_N_STATES - 1);
          if (has_pos)
            v->pos = pos;
          if (a == FT_VEV_BATTERY_LOW)
            v->low = 1;
          else if (a == FT_VEV_BATTERY_CHARGED)
            v->low = 0;
        }
      break;
    case FT_EV_VEHICLE_MOVED:
    case FT_EV_TELEMETRY:
    case FT_EV_BOOKING_ENDED:
      if ((v = rveh (src, vehicle)) && has_pos)
        v->pos = pos;
      if (kind == FT_EV_BOOKING_ENDED)
        src->revenue += amount;
      break;
    case FT_EV_BOOKING_UNLOCKED:
      src->served++;
      break;
    case FT_EV_RIDER_LOST:
      src->lost++;
      ft_wall_scene_note_lost (scene, t, 1);
      break;
    case FT_EV_VEHICLE_FAULT:
      if ((v = rveh (src, vehicle)))
        {
          v->fault = amount != 0;
          if (amount != 0 && b == 0)
            ft_wall_scene_alert (scene, FT_WALL_ALERT_MAINTENANCE, t, "Maintenance: %s reports a fault (codes 0x%" G_GINT64_MODIFIER "x)",
                                 veh_name (src, vehicle, nb, sizeof nb), amount);
        }
      break;
    case FT_EV_TASK_CREATED:
      g_hash_table_insert (src->open_tasks, GINT_TO_POINTER ((int) ref), GINT_TO_POINTER ((int) vehicle + 2));
      if (a == FT_TASK_COLLECT_REPAIR)
        ft_wall_scene_alert (scene, FT_WALL_ALERT_MAINTENANCE, t, "Maintenance: collect %s for repair",
                             veh_name (src, vehicle, nb, sizeof nb));
      break;
    case FT_EV_TASK_ASSIGNED:
      if (account >= 0)
        {
          RVan *van = rvan (src, account);
          van->task = ref;
          if (has_pos)
            {
              FtLatLon here = van->has_pos ? rvan_where (van, t) : pos;
              van->target = pos;
              van->has_target = TRUE;
              van->from = here;
              van->t_from = t;
              van->t_arrive = t + (FtTime) (ft_distance_m (here, pos) * REPLAY_VAN_DETOUR
                                            / REPLAY_VAN_SPEED_MPS * 1000.0);
              gint64 seq = sqlite3_column_int64 (st, 0);
              FtTime done = rundb_task_done_at (src, seq, ref);
              if (done >= t && done < van->t_arrive)
                van->t_arrive = done;
              van->moving = TRUE;
            }
        }
      break;
    case FT_EV_TASK_DONE:
    case FT_EV_TASK_CANCELLED:
      g_hash_table_remove (src->open_tasks, GINT_TO_POINTER ((int) ref));
      if (account >= 0)
        {
          RVan *van = rvan (src, account);
          if (van->task == ref && van->moving)
            {
              /* a cancelled task leaves the van where it had got to */
              van->pos = rvan_where (van, t);
              van->has_pos = TRUE;
              van->moving = FALSE;
            }
          if (kind == FT_EV_TASK_DONE && has_pos)
            {
              van->pos = pos;
              van->has_pos = TRUE;
            }
          if (van->task == ref)
            {
              van->task = -1;
              van->has_target = FALSE;
            }
        }
      break;
    case FT_EV_STAFF_MOVED:
      if (account >= 0 && has_pos)
        {
          RVan *van = rvan (src, account);
          van->pos = pos;
          van->has_pos = TRUE;
          if (van->moving)
            {
              van->from = pos;
              van->t_from = t;
            }
        }
      break;
    default:
      break;
    }
}

static gboolean
rundb_update (FtWallSource *src, FtTime t, FtWallScene *scene, GError **error)
{
  t = MIN (t, src->end);
  for (;;)
    {
      sqlite3_reset (src->ev);
      sqlite3_bind_int64 (src->ev, 1, src->last_seq);
      sqlite3_bind_int64 (src->ev, 2, t);
      guint n = 0;
      int rc;
      while ((rc = sqlite3_step (src->ev)) == SQLITE_ROW)
        {
          FtTime et = sqlite3_column_int64 (src->ev, 1);
          /* KPI samples and the day's revenue at the boundaries they belong to */
          while ((src->now / FT_WALL_SAMPLE_EVERY + 1) * FT_WALL_SAMPLE_EVERY <= et)
            {
              src->now = (src->now / FT_WALL_SAMPLE_EVERY + 1) * FT_WALL_SAMPLE_EVERY;
              scene->t = src->now;
              ft_wall_scene_set_revenue_total (scene, src->now, src->revenue);
              rundb_kpis (src, scene);
              ft_wall_scene_sample (scene);
            }
          rundb_event (src, scene, src->ev);
          src->last_seq = sqlite3_column_int64 (src->ev, 0);
          n++;
        }
      if (rc != SQLITE_DONE)
        {
          g_set_error (error, FT_WALL_ERROR, FT_WALL_ERROR_SOURCE, "run database “%s”: reading the event log failed: %s",
                       src->spec, sqlite3_errmsg (src->db));
          sqlite3_reset (src->ev);
          return FALSE;
        }
      if (n < 20000)
        break;
    }
  sqlite3_reset (src->ev);
  src->now = MAX (src->now, t);
  scene->t = src->now;
  ft_wall_scene_set_revenue_total (scene, src->now, src->revenue);
  rundb_kpis (src, scene);
  ft_wall_scene_sample (scene);
  g_array_set_size (scene->vehicles, 0);
  for (guint i = 0; i < src->veh->len; i++)
    {
      const RVeh *v = &g_array_index (src->veh, RVeh, i);
      if (!v->known || v->state == FT_STATE_REMOVED || v->state == FT_STATE_ELSEWHERE)
        continue;
      push_vehicle (scene, v->pos, layer_for (v->state, v->low, v->fault), v->kind);
    }
  g_array_set_size (scene->vans, 0);
  GHashTableIter it;
  gpointer value;
  g_hash_table_iter_init (&it, src->vans);
  while (g_hash_table_iter_next (&it, NULL, &value))
    {
      RVan *van = value;
      if (van->moving && van->has_target)
        push_van (scene, rvan_where (van, src->now), &van->target);
      else if (van->has_pos)
        push_van (scene, van->pos, van->has_target ? &van->target : NULL);
      else if (van->has_target)
        push_van (scene, van->target, NULL);
    }
  return TRUE;
}

/* ---- live ------------------------------------------------------------------- */

static void
live_state_cb (FtLive *live, FtLiveConnState state, const char *detail, gpointer user_data)
{
  FtWallSource *src = user_data;
  src->conn = state;
  g_free (src->conn_detail);
  src->conn_detail = g_strdup (detail);
  src->conn_changed = TRUE;
}

/* Live time on the scene's clock: ms since this week's Monday 00:00, local. */
static FtTime
live_now (void)
{
  g_autoptr (GDateTime) now = g_date_time_new_now_local ();
  return (FtTime) (g_date_time_get_day_of_week (now) - 1) * FT_DAY
         + (FtTime) g_date_time_get_hour (now) * FT_HOUR + (FtTime) g_date_time_get_minute (now) * FT_MINUTE
         + (FtTime) (g_date_time_get_seconds (now) * 1000);
}

static gboolean
live_open (FtWallSource *src, const FtWallSourceOptions *opt, GError **error)
{
  FtLiveConfig cfg;
  ft_live_config_init (&cfg);
  g_free (cfg.url);
  cfg.url = g_strdup (src->spec);
  g_free (cfg.prefix);
  cfg.prefix = g_strdup (opt && opt->prefix ? opt->prefix : "ft/demo");
  /* read-only: no commands, no retained status, nothing kept at the broker */
  cfg.auto_commands = FALSE;
  cfg.announce_status = FALSE;
  cfg.clean_session = TRUE;
  /* vehicles it hears about join this private, in-memory core only */
  cfg.unknown = FT_LIVE_UNKNOWN_REGISTER;
  cfg.provision_per_minute = 1000000;
  FtCoreConfig ccfg;
  ft_core_config_init (&ccfg);
  src->core = ft_core_new (&ccfg, NULL, NULL);
  src->live = ft_live_new (src->core, &cfg, error);
  g_autofree char *shown = ft_live_url_redact (src->spec);
  if (src->live == NULL)
    {
      ft_live_config_clear (&cfg);
      g_prefix_error (error, "live twin %s: ", shown);
      return FALSE;
    }
  ft_live_set_ops (src->live, src->core->ops);
  ft_live_set_state_func (src->live, live_state_cb, src);
  guint timeout = opt && opt->connect_timeout_ms ? opt->connect_timeout_ms : 5000;
  if (!ft_live_connect_sync (src->live, timeout, error))
    {
      g_prefix_error (error, "live twin %s: ", shown);
      ft_live_config_clear (&cfg);
      return FALSE;
    }
  src->conn = FT_LIVE_CONNECTED;
  src->start = live_now ();
  src->end = G_MAXINT64;
  src->tiles_path = ft_wall_find_demo_tiles ();
  src->label = g_strdup_printf ("live %s (%s)", shown, cfg.prefix);
  ft_live_config_clear (&cfg);
  return TRUE;
}

static gboolean
live_update (FtWallSource *src, FtWallScene *scene, GError **error)
{
  FtTime now = live_now ();
  FtTime wall = g_get_real_time () / 1000;
  ft_live_process (src->live, wall, 0);
  ft_live_tick (src->live, wall);
  src->now = now;
  scene->t = now;
  FtLiveConnState st = ft_live_get_conn_state (src->live);
  if (src->conn_changed || st != src->conn)
    {
      src->conn_changed = FALSE;
      src->conn = st;
      if (st != FT_LIVE_CONNECTED)
        ft_wall_scene_alert (scene, FT_WALL_ALERT_BROKER, now, "Broker disconnected (%s)%s%s",
                             ft_live_conn_state_name (st), src->conn_detail ? ": " : "",
                             src->conn_detail ? src->conn_detail : "");
      else
        ft_wall_scene_alert (scene, FT_WALL_ALERT_INFO, now, "Broker connected again");
    }
  if (st != FT_LIVE_CONNECTED)
    {
      const char *why = ft_live_get_last_error (src->live);
      g_autofree char *msg = g_strdup_printf ("Broker disconnected (%s)%s%s — showing the last known positions",
                                              ft_live_conn_state_name (st), why ? ": " : "", why ? why : "");
      ft_wall_scene_set_status (scene, msg);
    }
  else
    ft_wall_scene_set_status (scene, NULL);

  FtFleet *fleet = src->core->fleet;
  guint n = ft_fleet_n_vehicles (fleet), low = 0, counted = 0;
  g_array_set_size (scene->vehicles, 0);
  for (guint i = 0; i < n; i++)
    {
      const FtVehicle *v = ft_fleet_get_vehicle (fleet, i);
      if (v->state == FT_STATE_REMOVED || v->state == FT_STATE_ELSEWHERE)
        continue;
      gboolean is_low = ft_fleet_soc (fleet, i) < ft_vehicle_type_default (v->kind)->low_soc;
      counted++;
      low += is_low;
      push_vehicle (scene, v->pos, layer_for (v->state, is_low, FALSE), v->kind);
    }
  g_array_set_size (scene->vans, 0);
  for (guint i = 0; i < ft_live_n_staff (src->live); i++)
    {
      const FtLiveStaff *s = ft_live_get_staff (src->live, i);
      if (s->pos.lat != 0 || s->pos.lon != 0)
        push_van (scene, s->pos, NULL);
    }
  scene->battery_available = counted ? 1.0 - (double) low / counted : -1;
  scene->service_level = -1;    /* a live twin hears no lost requests */
  FtOps *ops = src->core->ops;
  scene->open_tasks = ft_ops_count_state (ops, FT_TASK_OPEN) + ft_ops_count_state (ops, FT_TASK_ASSIGNED)
                      + ft_ops_count_state (ops, FT_TASK_IN_PROGRESS);
  ft_wall_scene_set_revenue_total (scene, now, ft_ledger_total (src->core->ledger, FT_LACC_REVENUE));
  ft_wall_scene_sample (scene);
  return TRUE;
}

/* ---- public --------------------------------------------------------------------- */

FtWallSource *
ft_wall_source_open (const char *spec, const FtWallSourceOptions *opt, GError **error)
{
  g_return_val_if_fail (spec != NULL, NULL);
  g_autoptr (FtWallSource) src = g_new0 (FtWallSource, 1);
  src->spec = g_strdup (spec);
  gboolean ok;
  if (g_str_has_prefix (spec, "mqtt://") || g_str_has_prefix (spec, "mqtts://"))
    {
      src->kind = FT_WALL_SOURCE_LIVE;
      ok = live_open (src, opt, error);
    }
  else if (g_str_has_suffix (spec, ".scenario"))
    {
      src->kind = FT_WALL_SOURCE_SCENARIO;
      ok = scenario_open (src, opt, error);
    }
  else
    {
      src->kind = FT_WALL_SOURCE_RUNDB;
      ok = rundb_open (src, error);
    }
  if (!ok)
    return NULL;
  src->now = src->start;
  return g_steal_pointer (&src);
}

void
ft_wall_source_free (FtWallSource *src)
{
  if (src == NULL)
    return;
  if (src->live)
    {
      ft_live_stop (src->live);
      ft_live_free (src->live);
    }
  if (src->core)
    ft_core_free (src->core);
  g_free (src->conn_detail);
  if (src->world)
    ft_sim_world_free (src->world);
  if (src->sc)
    ft_sim_scenario_free (src->sc);
  sqlite3_finalize (src->ev);
  sqlite3_finalize (src->done_at);
  if (src->db)
    sqlite3_close (src->db);
  if (src->veh)
    g_array_unref (src->veh);
  g_strfreev (src->names);
  if (src->open_tasks)
    g_hash_table_unref (src->open_tasks);
  if (src->vans)
    g_hash_table_unref (src->vans);
  g_free (src->tiles_path);
  g_free (src->label);
  g_free (src->spec);
  g_free (src);
}

FtWallSourceKind ft_wall_source_get_kind (FtWallSource *src) { return src->kind; }
FtTime ft_wall_source_start_time (FtWallSource *src) { return src->start; }
FtTime ft_wall_source_end_time (FtWallSource *src) { return src->end; }
const char *ft_wall_source_get_tiles_path (FtWallSource *src) { return src->tiles_path; }

gboolean
ft_wall_source_update (FtWallSource *src, FtTime t, FtWallScene *scene, GError **error)
{
  g_return_val_if_fail (src != NULL && scene != NULL, FALSE);
  if (scene->source_label == NULL)
    scene->source_label = g_strdup (src->label);
  switch (src->kind)
    {
    case FT_WALL_SOURCE_SCENARIO:
      return scenario_update (src, t, scene, error);
    case FT_WALL_SOURCE_RUNDB:
      return rundb_update (src, t, scene, error);
    case FT_WALL_SOURCE_LIVE:
    default:
      return live_update (src, scene, error);
    }
}
