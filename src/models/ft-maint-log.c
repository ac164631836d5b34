/* ft-maint-log.c — the feature builder of predictive maintenance: keeps the
 * events of a log that tell usage, charging, faults, repairs and
 * inspections (a done `inspect` task is a service) per vehicle
 * (in memory, compact), replays them to turn the log into (vehicle,
 * observation time) rows with features and the time to the next fault, and
 * keeps a running state so shadow mode can score every vehicle "now"
 * without a replay. Reads a run or live database read-only (SQLite).
 */
#include "ft-config.h"
#include "ft-maint-private.h"

#include <math.h>
#include <sqlite3.h>
#include <string.h>

/* The MDS event types the builder reads (FtVehicleEventType in src/fleet;
 * models sit beside fleet, not above it, so the numbers are mirrored here
 * and held to the enum by the unit test). */
enum {
  VEV_AGENCY_DROP_OFF = 0,
  VEV_MAINTENANCE = 10,
  VEV_MAINTENANCE_PICK_UP = 11,
  VEV_MAINTENANCE_END = 12,
  VEV_PROVIDER_DROP_OFF = 15,
  PACK_IN_VEHICLE = 0,
  STATE_AVAILABLE = 0,
  TASK_INSPECT = 4,          /* FT_TASK_INSPECT (src/ops): a preventive service */
  MAX_VEHICLES = 1u << 22,
};

typedef struct {
  FtTime  t;
  gint32  v;
  guint16 kind;
  guint16 pad;
  gint64  a, b, amount;
} MEv;

typedef struct {
  FtTime t;
  double cum_km;
} TripMark;

typedef struct {
  gboolean seen, faulted, picked_up, available;
  int      kind;
  FtTime   first_t, service_t, last_trip_t;
  double   km, km_at_service;
  double   ride_min, ride_min_at_service;
  double   trips, trips_at_service;
  double   cycles, cycles_at_service;
  double   last_soc;          /* < 0: unknown */
  double   prior_faults;
  guint32  last_fault_codes;
  double   km_base;           /* the odometer when the log began */
  double   warnings, warnings_at_service;
  double   warn_level;        /* warnings fading with a day's time constant, at warn_t */
  FtTime   warn_t;
  TripMark *marks;            /* in time order (a plain vector: one is added per trip) */
  guint    n_marks, cap_marks;
  guint    hint[2];           /* cum_km_at's last answers a day and a week back */
} Acc;

struct _FtMaintLog {
  GArray *ev;                 /* MEv kept, time order */
  GArray *fault_t;            /* FtTime of every fault, time order */
  GArray *fault_v;            /* guint32: the vehicle of each of them */
  GArray *live;               /* Acc per vehicle: state after every event added */
  guint   n_faults;
  FtTime  start, end;
  gboolean any;
  /* running mode (ft_maint_log_keep_records): ev stays empty */
  gboolean records;
  FtTime   rec_origin, rec_step, rec_next;   /* rec_next: next grid time to record */
  gboolean rec_started;                     /* rec_next is set */
  GArray  *rec;                             /* FtMaintRow without outcome, time order */
  gboolean rec_fresh;                       /* no event added since rec's last rows */
};

G_DEFINE_QUARK (ft-maint-error-quark, ft_maint_error)

static const char *const feature_names[FT_MAINT_N_FEATURES] = {
  [FT_MF_KM_SINCE_SERVICE] = "km_since_service",
  [FT_MF_RIDE_MIN_SINCE_SERVICE] = "ride_min_since_service",
  [FT_MF_TRIPS_SINCE_SERVICE] = "trips_since_service",
  [FT_MF_HOURS_SINCE_SERVICE] = "hours_since_service",
  [FT_MF_CHARGE_CYCLES] = "charge_cycles",
  [FT_MF_AGE_DAYS] = "age_days",
  [FT_MF_ODOMETER_KM] = "odometer_km",
  [FT_MF_KM_LAST_24H] = "km_last_24h",
  [FT_MF_KM_PER_DAY_7D] = "km_per_day_7d",
  [FT_MF_PRIOR_FAULTS] = "prior_faults",
  [FT_MF_ERROR_CODES] = "error_codes",
  [FT_MF_HOURS_SINCE_TRIP] = "hours_since_trip",
  [FT_MF_AVAILABLE] = "available",
  [FT_MF_KIND_BIKE] = "kind_bike",
  [FT_MF_KIND_MOPED] = "kind_moped",
  [FT_MF_WARNINGS_24H] = "warnings_24h",
  [FT_MF_WARNINGS_SINCE_SERVICE] = "warnings_since_service",
};

const char *
ft_maint_feature_name (FtMaintFeature f)
{
  return (guint) f < FT_MAINT_N_FEATURES ? feature_names[f] : "unknown";
}

/* ---- per-vehicle state ---------------------------------------------------- */

static void
acc_clear (gpointer p)
{
  Acc *a = p;
  g_free (a->marks);
}

static GArray *
accs_new (void)
{
  GArray *a = g_array_new (FALSE, TRUE, sizeof (Acc));
  g_array_set_clear_func (a, acc_clear);
  return a;
}

static Acc *
acc_get (GArray *accs, guint v)
{
  if (v >= accs->len)
    g_array_set_size (accs, v + 1);
  Acc *a = &g_array_index (accs, Acc, v);
  if (a->cap_marks == 0)
    {
      a->cap_marks = 16;
      a->marks = g_new (TripMark, a->cap_marks);
      a->last_soc = -1;
    }
  return a;
}

static void
acc_see (Acc *a, FtTime t)
{
  if (!a->seen)
    {
      a->seen = TRUE;
      a->available = TRUE;   /* vehicles are added available */
      a->first_t = a->service_t = a->last_trip_t = t;
    }
}

static void
acc_add_km (Acc *a, FtTime t, double km)
{
  a->km += km;
  if (a->n_marks == a->cap_marks)
    {
      a->cap_marks *= 2;
      a->marks = g_renew (TripMark, a->marks, a->cap_marks);
    }
  a->marks[a->n_marks++] = (TripMark) { t, a->km };
}

static void
acc_service (Acc *a, FtTime t)
{
  a->faulted = a->picked_up = FALSE;
  a->service_t = t;
  a->km_at_service = a->km;
  a->ride_min_at_service = a->ride_min;
  a->trips_at_service = a->trips;
  a->cycles_at_service = a->cycles;
  a->warnings_at_service = a->warnings;
}

static double
warn_level_at (const Acc *a, FtTime t)
{
  return a->warn_level > 0 && t > a->warn_t ? a->warn_level * exp (-(double) (t - a->warn_t) / FT_DAY)
                                            : a->warn_level;
}

/* Applies one event; returns TRUE if it is a fault (the vehicle leaves the
 * risk set). Inlined: the listener calls it for every event it keeps. */
static inline __attribute__ ((always_inline)) gboolean
acc_apply (Acc *a, const MEv *e)
{
  acc_see (a, e->t);
  switch (e->kind)
    {
    case FT_EV_VEHICLE_ADDED:
      a->kind = (int) e->a;
      return FALSE;
    case FT_EV_BOOKING_ENDED:
      a->trips += 1;
      a->last_trip_t = e->t;
      a->ride_min += MAX (e->a, 0) / 60.0;
      acc_add_km (a, e->t, MAX (e->b, 0) / 1000.0);
      return FALSE;
    case FT_EV_VEHICLE_MOVED:
      if (a->n_marks == 0 && a->km == 0 && e->amount > 0)
        {
          /* the first reading: where the odometer stood, not km ridden */
          a->km = a->km_at_service = a->km_base = e->amount / 1000.0;
          return FALSE;
        }
      if (e->amount / 1000.0 > a->km + 1e-9)
        acc_add_km (a, e->t, e->amount / 1000.0 - a->km);
      return FALSE;
    case FT_EV_VEHICLE_WARNING:
      a->warn_level = warn_level_at (a, e->t) + 1;
      a->warn_t = e->t;
      a->warnings += 1;
      return FALSE;
    case FT_EV_PACK_MOVED:
      a->cycles += 1;
      a->last_soc = -1;
      return FALSE;
    case FT_EV_TELEMETRY:
      {
        double soc = e->amount / 1e4;
        if (a->last_soc >= 0 && soc < a->last_soc)
          a->cycles += a->last_soc - soc;
        a->last_soc = soc;
        return FALSE;
      }
    case FT_EV_VEHICLE_FAULT:
      if (e->amount != 0 && !a->faulted)
        {
          a->faulted = TRUE;
          a->prior_faults += 1;
          a->last_fault_codes = (guint32) e->amount;
          return TRUE;
        }
      if (e->amount == 0 && a->faulted)
        acc_service (a, e->t);
      return FALSE;
    case FT_EV_VEHICLE_STATE:
      a->available = e->b == STATE_AVAILABLE;
      if (e->a == VEV_MAINTENANCE && !a->faulted)
        {
          /* logs written before FT_EV_VEHICLE_FAULT existed */
          a->faulted = TRUE;
          a->prior_faults += 1;
          a->last_fault_codes = 0;
          return TRUE;
        }
      if (a->faulted && e->a == VEV_MAINTENANCE_PICK_UP)
        a->picked_up = TRUE;
      else if (a->faulted && (e->a == VEV_MAINTENANCE_END ||
                              (a->picked_up && (e->a == VEV_PROVIDER_DROP_OFF ||
                                                e->a == VEV_AGENCY_DROP_OFF))))
        acc_service (a, e->t);
      return FALSE;
    case FT_EV_TASK_DONE:
      /* an inspection serviced it on the street (a faulted vehicle waits
       * for its repair) */
      if (e->a == TASK_INSPECT && !a->faulted)
        acc_service (a, e->t);
      return FALSE;
    default:
      return FALSE;
    }
}

/* Cumulative km at the last mark at or before t. The marks up to t are
 * found from *hint, the count the last question of this kind found (rows
 * come in time order, so it moves by a mark or two), or by bisection when
 * that is far; *hint is set to the count. */
static double
cum_km_at (const Acc *a, FtTime t, guint *hint)
{
  guint at = MIN (*hint, a->n_marks), steps = 0;
  while (at > 0 && a->marks[at - 1].t > t && steps++ < 4)
    at--;
  while (at < a->n_marks && a->marks[at].t <= t && steps++ < 4)
    at++;
  if ((at == 0 || a->marks[at - 1].t <= t) && (at == a->n_marks || a->marks[at].t > t))
    {
      *hint = at;
      return at == 0 ? a->km_base : a->marks[at - 1].cum_km;
    }
  guint lo = 0, hi = a->n_marks;
  while (lo < hi)
    {
      guint mid = (lo + hi) / 2;
      if (a->marks[mid].t <= t)
        lo = mid + 1;
      else
        hi = mid;
    }
  *hint = lo;
  return lo == 0 ? a->km_base : a->marks[lo - 1].cum_km;
}

static void
acc_features (Acc *a, FtTime now, double *x)
{
  double age_h = MAX (0.0, (double) (now - a->first_t) / FT_HOUR);
  x[FT_MF_KM_SINCE_SERVICE] = a->km - a->km_at_service;
  x[FT_MF_RIDE_MIN_SINCE_SERVICE] = a->ride_min - a->ride_min_at_service;
  x[FT_MF_TRIPS_SINCE_SERVICE] = a->trips - a->trips_at_service;
  x[FT_MF_HOURS_SINCE_SERVICE] = MAX (0.0, (double) (now - a->service_t) / FT_HOUR);
  x[FT_MF_CHARGE_CYCLES] = a->cycles - a->cycles_at_service;
  x[FT_MF_AGE_DAYS] = age_h / 24.0;
  x[FT_MF_ODOMETER_KM] = a->km;
  x[FT_MF_KM_LAST_24H] = a->km - cum_km_at (a, now - FT_DAY, &a->hint[0]);
  x[FT_MF_KM_PER_DAY_7D] = (a->km - cum_km_at (a, now - 7 * FT_DAY, &a->hint[1])) / CLAMP (age_h / 24.0, 1.0, 7.0);
  x[FT_MF_PRIOR_FAULTS] = a->prior_faults;
  x[FT_MF_ERROR_CODES] = (double) __builtin_popcount (a->last_fault_codes);
  x[FT_MF_HOURS_SINCE_TRIP] = MAX (0.0, (double) (now - a->last_trip_t) / FT_HOUR);
  x[FT_MF_AVAILABLE] = a->available;
  x[FT_MF_KIND_BIKE] = a->kind == 1;
  x[FT_MF_KIND_MOPED] = a->kind == 2;
  x[FT_MF_WARNINGS_24H] = warn_level_at (a, now);
  x[FT_MF_WARNINGS_SINCE_SERVICE] = a->warnings - a->warnings_at_service;
}

/* ---- the log -------------------------------------------------------------- */

FtMaintLog *
ft_maint_log_new (void)
{
  FtMaintLog *log = g_new0 (FtMaintLog, 1);
  log->ev = g_array_new (FALSE, FALSE, sizeof (MEv));
  log->fault_t = g_array_new (FALSE, FALSE, sizeof (FtTime));
  log->fault_v = g_array_new (FALSE, FALSE, sizeof (guint32));
  log->live = accs_new ();
  log->rec = g_array_new (FALSE, FALSE, sizeof (FtMaintRow));
  return log;
}

void
ft_maint_log_free (FtMaintLog *log)
{
  if (log == NULL)
    return;
  g_array_unref (log->ev);
  g_array_unref (log->fault_t);
  g_array_unref (log->fault_v);
  g_array_unref (log->live);
  g_array_unref (log->rec);
  g_free (log);
}

/* The vehicle an event is about, or -1 if the builder does not need it. */
static gint32
event_vehicle (const FtEvent *ev)
{
  switch (ev->kind)
    {
    case FT_EV_VEHICLE_ADDED:
    case FT_EV_VEHICLE_STATE:
    case FT_EV_VEHICLE_MOVED:
    case FT_EV_VEHICLE_FAULT:
    case FT_EV_TELEMETRY:
    case FT_EV_BOOKING_ENDED:
    case FT_EV_VEHICLE_WARNING:
      return ev->vehicle;
    case FT_EV_PACK_MOVED:
      return ev->a == PACK_IN_VEHICLE && ev->b >= 0 && ev->b < G_MAXINT32 ? (gint32) ev->b : -1;
    case FT_EV_TASK_DONE:
      return ev->a == TASK_INSPECT ? ev->vehicle : -1;
    default:
      return -1;
    }
}

/* ft_maint_log_add with the event's vehicle (event_vehicle) known. */
/* Applies an event to its vehicle's running state; a fault is noted. */
static inline void
apply_live (FtMaintLog *log, const MEv *m, gint32 v)
{
  if (acc_apply (acc_get (log->live, (guint) v), m))
    {
      guint32 fv = (guint32) v;
      g_array_append_val (log->fault_t, m->t);
      g_array_append_val (log->fault_v, fv);
      log->n_faults++;
    }
}

static gboolean
log_add (FtMaintLog *log, const FtEvent *ev, gint32 v, GError **error)
{
  if (log->any && ev->t < log->end)
    {
      g_set_error (error, FT_MAINT_ERROR, FT_MAINT_ERROR_INVALID,
                   "event %" G_GUINT64_FORMAT " (%s) at %" G_GINT64_FORMAT " ms is older than the last "
                   "one added (%" G_GINT64_FORMAT " ms): events must come in time order",
                   ev->seq, ft_event_kind_name ((FtEventKind) ev->kind), ev->t, log->end);
      return FALSE;
    }
  if (v < 0)
    return TRUE;
  if ((guint) v >= MAX_VEHICLES)
    {
      g_set_error (error, FT_MAINT_ERROR, FT_MAINT_ERROR_INVALID,
                   "event %" G_GUINT64_FORMAT " (%s) names vehicle %d: more than %u vehicles",
                   ev->seq, ft_event_kind_name ((FtEventKind) ev->kind), v, (guint) MAX_VEHICLES);
      return FALSE;
    }
  MEv m = { ev->t, v, ev->kind, 0, ev->a, ev->b, ev->amount };
  if (log->records)
    {
      /* the grid times at or before it see the state without it */
      if (!log->rec_started || ev->t >= log->rec_next)
        ft_maint_log_record_to (log, ev->t);
    }
  else
    g_array_append_val (log->ev, m);
  if (!log->any)
    log->start = ev->t;
  log->any = TRUE;
  log->end = ev->t;
  log->rec_fresh = FALSE;
  apply_live (log, &m, v);
  return TRUE;
}

gboolean
ft_maint_log_add (FtMaintLog *log, const FtEvent *ev, GError **error)
{
  g_return_val_if_fail (log != NULL && ev != NULL, FALSE);
  return log_add (log, ev, event_vehicle (ev), error);
}

static G_GNUC_NO_INLINE void
listener_add (FtMaintLog *log, const FtEvent *ev, gint32 v)
{
  GError *error = NULL;
  if (!log_add (log, ev, v, &error))
    {
      g_warning ("predictive maintenance: %s", error->message);
      g_error_free (error);
    }
}

void
ft_maint_log_listener (const FtEvent *ev, gpointer maint_log)
{
  FtMaintLog *log = maint_log;
  /* most events (payments, bookings, staff) tell the builder nothing:
   * leave early unless log_add would refuse them */
  gint32 v = event_vehicle (ev);
  if (v < 0 && !(log->any && ev->t < log->end))
    return;
  /* the common case of a recording log, in time order, no grid time
   * passed: what log_add does then, without its checks and calls */
  if (v >= 0 && (guint) v < MAX_VEHICLES && log->records && log->rec_started && log->any
      && ev->t >= log->end && ev->t < log->rec_next)
    {
      MEv m = { ev->t, v, ev->kind, 0, ev->a, ev->b, ev->amount };
      log->end = ev->t;
      log->rec_fresh = FALSE;
      apply_live (log, &m, v);
      return;
    }
  listener_add (log, ev, v);
}

guint
ft_maint_log_n_vehicles (const FtMaintLog *log)
{
  g_return_val_if_fail (log != NULL, 0);
  guint n = 0;
  for (guint v = 0; v < log->live->len; v++)
    n += g_array_index (log->live, Acc, v).seen;
  return n;
}

guint
ft_maint_log_n_faults (const FtMaintLog *log)
{
  g_return_val_if_fail (log != NULL, 0);
  return log->n_faults;
}

FtTime
ft_maint_log_start (const FtMaintLog *log)
{
  g_return_val_if_fail (log != NULL, 0);
  return log->start;
}

FtTime
ft_maint_log_end (const FtMaintLog *log)
{
  g_return_val_if_fail (log != NULL, 0);
  return log->end;
}

const FtTime *
ft_maint_log_faults (const FtMaintLog *log, guint *n_out)
{
  g_return_val_if_fail (log != NULL, NULL);
  if (n_out)
    *n_out = log->fault_t->len;
  return (const FtTime *) log->fault_t->data;
}

const guint32 *
ft_maint_log_fault_vehicles (const FtMaintLog *log, guint *n_out)
{
  g_return_val_if_fail (log != NULL, NULL);
  if (n_out)
    *n_out = log->fault_v->len;
  return (const guint32 *) log->fault_v->data;
}

/* ---- reading a database --------------------------------------------------- */

static int
cmp_event_time (gconstpointer a, gconstpointer b)
{
  FtTime x = ((const FtEvent *) a)->t, y = ((const FtEvent *) b)->t;
  return (x > y) - (x < y);
}

FtMaintLog *
ft_maint_log_read_db (const char *path, GError **error)
{
  g_return_val_if_fail (path != NULL, NULL);
  if (!g_file_test (path, G_FILE_TEST_IS_REGULAR))
    {
      g_set_error (error, FT_MAINT_ERROR, FT_MAINT_ERROR_IO, "%s: no such file", path);
      return NULL;
    }
  sqlite3 *db = NULL;
  sqlite3_stmt *st = NULL;
  int rc = sqlite3_open_v2 (path, &db, SQLITE_OPEN_READONLY, NULL);
  if (rc == SQLITE_OK)
    rc = sqlite3_prepare_v2 (db,
                             "SELECT seq, t, kind, vehicle, a, b, amount FROM events "
                             "WHERE kind IN (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9) ORDER BY seq",
                             -1, &st, NULL);
  if (rc != SQLITE_OK)
    {
      g_set_error (error, FT_MAINT_ERROR, FT_MAINT_ERROR_IO,
                   "%s is not a run or live database with an event table (%s); "
                   "give a file written by 'fleet-twin-cli run --out'",
                   path, db ? sqlite3_errmsg (db) : "cannot open");
      sqlite3_finalize (st);
      sqlite3_close (db);
      return NULL;
    }
  const int kinds[] = { FT_EV_VEHICLE_ADDED, FT_EV_VEHICLE_STATE, FT_EV_VEHICLE_MOVED,
                        FT_EV_VEHICLE_FAULT, FT_EV_TELEMETRY, FT_EV_BOOKING_ENDED, FT_EV_PACK_MOVED,
                        FT_EV_TASK_DONE, FT_EV_VEHICLE_WARNING };
  for (guint i = 0; i < G_N_ELEMENTS (kinds); i++)
    sqlite3_bind_int (st, (int) i + 1, kinds[i]);
  g_autoptr (FtMaintLog) log = ft_maint_log_new ();
  g_autoptr (GArray) evs = g_array_new (FALSE, FALSE, sizeof (FtEvent));
  while ((rc = sqlite3_step (st)) == SQLITE_ROW)
    {
      FtEvent ev = ft_event_init ((FtEventKind) sqlite3_column_int (st, 2), sqlite3_column_int64 (st, 1));
      ev.seq = (guint64) sqlite3_column_int64 (st, 0);
      gint64 v = sqlite3_column_int64 (st, 3);
      ev.vehicle = v >= G_MININT32 && v <= G_MAXINT32 ? (gint32) v : G_MAXINT32;
      ev.a = (gint32) CLAMP (sqlite3_column_int64 (st, 4), G_MININT32, G_MAXINT32);
      ev.b = sqlite3_column_int64 (st, 5);
      ev.amount = sqlite3_column_int64 (st, 6);
      g_array_append_val (evs, ev);
    }
  gboolean ok = rc == SQLITE_DONE;
  if (!ok)
    g_set_error (error, FT_MAINT_ERROR, FT_MAINT_ERROR_IO, "%s: reading the event table failed: %s",
                 path, sqlite3_errmsg (db));
  sqlite3_finalize (st);
  sqlite3_close (db);
  if (!ok)
    return NULL;
  /* seq order is time order within a run; a file that was appended to by
   * a later live session keeps it too. Sort stably by time to be sure. */
  FtEvent *e = (FtEvent *) evs->data;
  gboolean sorted = TRUE;
  for (guint i = 1; i < evs->len && sorted; i++)
    sorted = e[i].t >= e[i - 1].t;
  if (!sorted)
    {
      g_array_sort (evs, cmp_event_time);   /* stable since GLib 2.32 */
      e = (FtEvent *) evs->data;
    }
  for (guint i = 0; i < evs->len; i++)
    if (!ft_maint_log_add (log, &e[i], error))
      {
        g_prefix_error (error, "%s: ", path);
        return NULL;
      }
  if (ft_maint_log_n_vehicles (log) == 0)
    {
      g_set_error (error, FT_MAINT_ERROR, FT_MAINT_ERROR_EMPTY, "%s: the event log shows no vehicle", path);
      return NULL;
    }
  return g_steal_pointer (&log);
}

/* ---- rows ----------------------------------------------------------------- */

/* Next fault of vehicle v at or after t among the per-vehicle fault times
 * (sorted), or G_MAXINT64. */
static FtTime
next_fault (GPtrArray *faults, guint v, FtTime t)
{
  if (v >= faults->len || g_ptr_array_index (faults, v) == NULL)
    return G_MAXINT64;
  GArray *a = g_ptr_array_index (faults, v);
  guint lo = 0, hi = a->len;
  while (lo < hi)
    {
      guint mid = (lo + hi) / 2;
      if (g_array_index (a, FtTime, mid) < t)
        lo = mid + 1;
      else
        hi = mid;
    }
  return lo < a->len ? g_array_index (a, FtTime, lo) : G_MAXINT64;
}

static void
emit_rows (GArray *accs, FtTime t, GPtrArray *faults, FtTime censor_at, GArray *rows)
{
  Acc *acc = (Acc *) accs->data;
  guint n = 0, at = rows->len;
  for (guint v = 0; v < accs->len; v++)
    n += acc[v].seen && !acc[v].faulted;
  /* grown once and written in place (an append per row copied the rows
   * array as it grew, a tenth of the maintenance shadow's cost) */
  g_array_set_size (rows, at + n);
  FtMaintRow *out = (FtMaintRow *) rows->data + at;
  for (guint v = 0; v < accs->len; v++)
    {
      Acc *a = &acc[v];
      if (!a->seen || a->faulted)
        continue;
      FtMaintRow *r = out++;
      memset (r, 0, sizeof *r);
      r->vehicle = v;
      r->t = t;
      acc_features (a, t, r->x);
      if (faults)
        {
          FtTime f = next_fault (faults, v, t);
          r->fault = f <= censor_at;
          r->time_h = (double) ((r->fault ? f : censor_at) - t) / FT_HOUR;
          r->time_h = MAX (r->time_h, 1e-3);   /* a fault in the same millisecond */
          r->follow_h = (double) (censor_at - t) / FT_HOUR;
        }
    }
}

static void
free_times (gpointer p)
{
  if (p)
    g_array_unref (p);
}

/* floor division for grid arithmetic (times may be negative) */
static gint64
div_floor (gint64 a, gint64 b)
{
  gint64 q = a / b;
  return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q;
}

/* First grid time at or after t. */
static FtTime
grid_ceil (const FtMaintLog *log, FtTime t)
{
  gint64 k = div_floor (t - log->rec_origin + log->rec_step - 1, log->rec_step);
  return log->rec_origin + k * log->rec_step;
}

/* The recorded rows of grid times from, from + step, … (< to), with their
 * outcome. */
static GArray *
rows_from_records (const FtMaintLog *log, FtTime from, FtTime to, FtTime step, FtTime censor_at,
                   GPtrArray *faults, GError **error)
{
  if ((from - log->rec_origin) % log->rec_step != 0 || step % log->rec_step != 0)
    {
      g_set_error (error, FT_MAINT_ERROR, FT_MAINT_ERROR_INVALID,
                   "rows from %" G_GINT64_FORMAT " ms every %" G_GINT64_FORMAT " ms are not on the grid the "
                   "log records (every %" G_GINT64_FORMAT " ms from %" G_GINT64_FORMAT " ms)",
                   from, step, log->rec_step, log->rec_origin);
      return NULL;
    }
  const FtMaintRow *r = (const FtMaintRow *) log->rec->data;
  guint lo = 0, hi = log->rec->len;
  while (lo < hi)
    {
      guint mid = (lo + hi) / 2;
      if (r[mid].t < from)
        lo = mid + 1;
      else
        hi = mid;
    }
  guint end = lo, n = 0;
  for (; end < log->rec->len && r[end].t < to; end++)
    n += (r[end].t - from) % step == 0;
  GArray *rows = g_array_sized_new (FALSE, FALSE, sizeof (FtMaintRow), MAX (n, 1));
  g_array_set_size (rows, n);
  FtMaintRow *out = (FtMaintRow *) rows->data;
  for (guint i = lo; i < end; i++)
    {
      if ((r[i].t - from) % step != 0)
        continue;
      FtMaintRow *row = out++;
      *row = r[i];
      FtTime f = next_fault (faults, row->vehicle, row->t);
      row->fault = f <= censor_at;
      row->time_h = (double) ((row->fault ? f : censor_at) - row->t) / FT_HOUR;
      row->time_h = MAX (row->time_h, 1e-3);
      row->follow_h = (double) (censor_at - row->t) / FT_HOUR;
    }
  return rows;
}

void
ft_maint_log_record_to (FtMaintLog *log, FtTime now)
{
  g_return_if_fail (log != NULL);
  if (!log->records)
    return;
  if (!log->rec_started)
    {
      log->rec_next = grid_ceil (log, now);
      log->rec_started = TRUE;
    }
  for (; log->rec_next <= now; log->rec_next += log->rec_step)
    {
      emit_rows (log->live, log->rec_next, NULL, 0, log->rec);
      log->rec_fresh = TRUE;
    }
}

void
ft_maint_log_drop_records (FtMaintLog *log, FtTime before)
{
  g_return_if_fail (log != NULL);
  guint n = 0, hi = log->rec->len;
  while (n < hi)
    {
      guint mid = (n + hi) / 2;
      if (g_array_index (log->rec, FtMaintRow, mid).t < before)
        n = mid + 1;
      else
        hi = mid;
    }
  /* in batches: moving what stays costs about as much as recording it */
  if (n > 0 && n >= log->rec->len / 4)
    g_array_remove_range (log->rec, 0, n);
}

gboolean
ft_maint_log_keep_records (FtMaintLog *log, FtTime origin, FtTime step, GError **error)
{
  g_return_val_if_fail (log != NULL, FALSE);
  if (step <= 0 || log->records)
    {
      g_set_error (error, FT_MAINT_ERROR, FT_MAINT_ERROR_INVALID,
                   log->records ? "the log already records rows" : "records need a step > 0 (got %" G_GINT64_FORMAT " ms)",
                   step);
      return FALSE;
    }
  log->rec_origin = origin;
  log->rec_step = step;
  if (log->ev->len)
    {
      /* the history: replayed into records at the grid times up to its
       * last event (later ones may still see events at that time) */
      g_autoptr (GArray) accs = accs_new ();
      guint i = 0;
      FtTime t = grid_ceil (log, log->start);
      for (; t <= log->end; t += step)
        {
          for (; i < log->ev->len && g_array_index (log->ev, MEv, i).t < t; i++)
            {
              const MEv *e = &g_array_index (log->ev, MEv, i);
              acc_apply (acc_get (accs, (guint) e->v), e);
            }
          emit_rows (accs, t, NULL, 0, log->rec);
        }
      log->rec_next = t;
      log->rec_started = TRUE;
      g_array_set_size (log->ev, 0);
    }
  log->records = TRUE;
  return TRUE;
}

GArray *
ft_maint_log_rows (const FtMaintLog *log, FtTime from, FtTime to, FtTime step, FtTime censor_at,
                   GError **error)
{
  g_return_val_if_fail (log != NULL, NULL);
  if (step <= 0 || to <= from || censor_at < to)
    {
      g_set_error (error, FT_MAINT_ERROR, FT_MAINT_ERROR_INVALID,
                   "rows need step > 0, from < to <= censor_at (got step %" G_GINT64_FORMAT
                   " ms, from %" G_GINT64_FORMAT ", to %" G_GINT64_FORMAT ", censor_at %" G_GINT64_FORMAT ")",
                   step, from, to, censor_at);
      return NULL;
    }
  if (ft_maint_log_n_vehicles (log) == 0)
    {
      g_set_error (error, FT_MAINT_ERROR, FT_MAINT_ERROR_EMPTY, "the event log shows no vehicle");
      return NULL;
    }
  /* fault times per vehicle: those the log found as events were added
   * (a replay would find the same ones) */
  g_autoptr (GPtrArray) faults = g_ptr_array_new_with_free_func (free_times);
  for (guint i = 0; i < log->fault_t->len; i++)
    {
      guint v = g_array_index (log->fault_v, guint32, i);
      if (v >= faults->len)
        g_ptr_array_set_size (faults, v + 1);
      if (g_ptr_array_index (faults, v) == NULL)
        g_ptr_array_index (faults, v) = g_array_new (FALSE, FALSE, sizeof (FtTime));
      g_array_append_val ((GArray *) g_ptr_array_index (faults, v), g_array_index (log->fault_t, FtTime, i));
    }
  if (log->records)
    return rows_from_records (log, from, to, step, censor_at, faults, error);
  g_autoptr (GArray) accs = accs_new ();
  GArray *rows = g_array_new (FALSE, FALSE, sizeof (FtMaintRow));
  guint i = 0;
  for (FtTime t = from; t < to; t += step)
    {
      for (; i < log->ev->len && g_array_index (log->ev, MEv, i).t < t; i++)
        {
          const MEv *e = &g_array_index (log->ev, MEv, i);
          acc_apply (acc_get (accs, (guint) e->v), e);
        }
      emit_rows (accs, t, faults, censor_at, rows);
    }
  return rows;
}

GArray *
ft_maint_log_rows_now (const FtMaintLog *log, FtTime now, GError **error)
{
  g_return_val_if_fail (log != NULL, NULL);
  GArray *rows = g_array_new (FALSE, FALSE, sizeof (FtMaintRow));
  if (!ft_maint_log_rows_now_into (log, now, rows, error))
    g_clear_pointer (&rows, g_array_unref);
  return rows;
}

gboolean
ft_maint_log_rows_now_get (const FtMaintLog *log, FtTime now, GArray *rows, const FtMaintRow **rows_out,
                           guint *n_out, GError **error)
{
  g_return_val_if_fail (log != NULL && rows != NULL && rows_out != NULL && n_out != NULL, FALSE);
  g_array_set_size (rows, 0);
  *rows_out = NULL;
  *n_out = 0;
  if (ft_maint_log_n_vehicles (log) == 0)
    {
      g_set_error (error, FT_MAINT_ERROR, FT_MAINT_ERROR_EMPTY, "the event log shows no vehicle");
      return FALSE;
    }
  if (log->records && log->rec_fresh && log->rec->len > 0
      && g_array_index (log->rec, FtMaintRow, log->rec->len - 1).t == now)
    {
      /* the rows just recorded for this time, of the same state (a shadow
       * tick on the grid records and then asks for them) */
      const FtMaintRow *r = (const FtMaintRow *) log->rec->data;
      guint lo = 0, hi = log->rec->len;
      while (lo < hi)
        {
          guint mid = lo + (hi - lo) / 2;
          if (r[mid].t < now)
            lo = mid + 1;
          else
            hi = mid;
        }
      *rows_out = r + lo;
      *n_out = log->rec->len - lo;
      return TRUE;
    }
  if (now >= log->end || log->records)   /* a log that records keeps no events to replay */
    emit_rows (log->live, now, NULL, 0, rows);
  else
    {
      g_autoptr (GArray) accs = accs_new ();
      for (guint i = 0; i < log->ev->len && g_array_index (log->ev, MEv, i).t <= now; i++)
        {
          const MEv *e = &g_array_index (log->ev, MEv, i);
          acc_apply (acc_get (accs, (guint) e->v), e);
        }
      emit_rows (accs, now, NULL, 0, rows);
    }
  *rows_out = (const FtMaintRow *) rows->data;
  *n_out = rows->len;
  return TRUE;
}

gboolean
ft_maint_log_rows_now_into (const FtMaintLog *log, FtTime now, GArray *rows, GError **error)
{
  g_return_val_if_fail (log != NULL && rows != NULL, FALSE);
  const FtMaintRow *r;
  guint n;
  if (!ft_maint_log_rows_now_get (log, now, rows, &r, &n, error))
    return FALSE;
  if (rows->len != n)   /* borrowed: rows is still empty */
    g_array_append_vals (rows, r, n);
  return TRUE;
}
