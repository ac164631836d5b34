/* ft-analytics.c — the incremental build: events after the high-water mark
 * are read in seq order, one batch per transaction, and folded into
 * per-batch deltas (zone x hour, vehicle x day, bins, riders, staff
 * shifts); each batch adds its deltas to the stored rows, writes the state
 * that spans batches (each vehicle's state, zone and flags since the last
 * event folded in; each staff member's open shift) and moves the mark, in
 * one transaction. Time is accounted in integer milliseconds split at hour
 * and local-day boundaries, so any split of the log gives the same sums.
 */
#include "ft-analytics-private.h"

#include <math.h>
#include <string.h>

#include "ft-common.h"
#include "ft-event.h"
#include "ft-fleet.h"
#include "ft-ops.h"

G_DEFINE_QUARK (ft-analytics-error-quark, ft_analytics_error)

#define HOUR_MS      ((gint64) 3600000)
#define DAY_MS       (24 * HOUR_MS)
#define WEEK_MS      (7 * DAY_MS)
/* Vehicle time is not accounted across a jump of the log's time larger
 * than this (a twin down for weeks, a damaged time stamp). */
#define MAX_JUMP_MS  (31 * DAY_MS)
/* A staff member idle this long has ended a shift. */
#define SHIFT_GAP_MS (3 * HOUR_MS)
#define DEFAULT_BATCH 262144u

/* Trip bins: distance in 250 m steps up to 20 km, duration in minutes up
 * to 2 h, state of charge in 5 % steps; the last bin holds the rest. */
#define DIST_BIN_M   250
#define DIST_BINS    80
#define DUR_BINS     120
#define SOC_BIN      500
#define SOC_BINS     20
enum { BIN_DIST, BIN_DUR, BIN_SOC, N_BINS_METRICS };
static const char *const bin_metric[N_BINS_METRICS] = { "distance_250m", "duration_min", "soc_5pct" };

enum { VF_LOW = 1, VF_FAULT = 2, VF_POS = 4 };

typedef struct { gint64 a, b; } Key2;

typedef struct {
  Key2   k;
  gint64 requests, served, lost[4], trips_ended, revenue, present_ms, on_trip_ms,
         available_ms, low_ms, soc_sum, soc_n;
} ZoneHour;

typedef struct {
  Key2   k;
  gint64 trips, metres, trip_s, revenue, on_trip_ms, downtime_ms, fault_ms, swaps, faults;
} VehDay;

typedef struct {
  Key2   k;
  gint64 n;
} Count2;

typedef struct {
  gint8    state;      /* FtVehicleState, -1 before its first event */
  guint8   flags;
  gint32   zone;
  gint32   trip_zone;
  gint64   since;      /* accounted up to here */
  gint64   trip_t0;
  gint64   trip_m;     /* metres moved on this trip (telemetry) */
  double   lat, lon;
  /* caches into this batch's tables, reset per batch */
  ZoneHour *zh;
  VehDay   *vd;
} Veh;

typedef struct {
  gint64 shift_start, last_t;
  double lat, lon;
  gboolean has_pos, open, dirty;
  gint   row;        /* index into the batch's shift rows, -1 none */
} Staff;

typedef struct {
  gint64 staff, shift_start, last_t, tasks, swaps, rebalances, repairs, deploys, metres;
} ShiftRow;

typedef struct {
  gint64 first_t, first_week, trips;   /* trips: this batch's */
} Rider;

typedef struct {
  sqlite3                 *db;
  const FtAnalyticsZoning *z;
  gint64                   off_ms;        /* utc offset - monday_ms: local = t + off_ms */
  GArray                  *veh;           /* Veh */
  GHashTable              *staff;         /* gint64* -> Staff* */
  GHashTable              *riders;        /* gint64* -> Rider* (whole build) */
  GHashTable              *zh, *vd, *bins, *rider_week;   /* Key2* -> row (batch) */
  GArray                  *shifts;        /* ShiftRow (batch) */
  gint64                   first_t, last_t;
  sqlite3_stmt            *rider_q;
} Build;

static guint
key2_hash (gconstpointer p)
{
  const Key2 *k = p;
  guint64 h = (guint64) k->a * 0x9E3779B97F4A7C15ull ^ ((guint64) k->b + 0x632BE59BD9B4E019ull);
  return (guint) (h ^ (h >> 29));
}

static gboolean
key2_equal (gconstpointer a, gconstpointer b)
{
  const Key2 *x = a, *y = b;
  return x->a == y->a && x->b == y->b;
}

static gpointer
row_get (GHashTable *h, gint64 a, gint64 b, gsize size)
{
  Key2 k = { a, b };
  gpointer r = g_hash_table_lookup (h, &k);
  if (r == NULL)
    {
      r = g_malloc0 (size);
      *(Key2 *) r = k;
      g_hash_table_insert (h, r, r);
    }
  return r;
}

static inline gint64
floor_div (gint64 a, gint64 b)
{
  gint64 q = a / b;
  return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q;
}

gboolean
ft_analytics_sql_fail (sqlite3 *db, GError **error, const char *doing)
{
  const char *file = sqlite3_db_filename (db, "main");
  g_set_error (error, FT_ANALYTICS_ERROR, FT_ANALYTICS_ERROR_SQL, "%s: %s: %s",
               file && *file ? file : "database", doing, sqlite3_errmsg (db));
  return FALSE;
}

gboolean
ft_analytics_exec (sqlite3 *db, const char *sql, GError **error, const char *doing)
{
  if (sqlite3_exec (db, sql, NULL, NULL, NULL) != SQLITE_OK)
    return ft_analytics_sql_fail (db, error, doing);
  return TRUE;
}

gboolean
ft_analytics_has_table (sqlite3 *db, const char *name)
{
  g_autoptr (sqlite3_stmt) st = NULL;
  if (sqlite3_prepare_v2 (db, "SELECT 1 FROM sqlite_schema WHERE type = 'table' AND name = ?",
                          -1, &st, NULL) != SQLITE_OK)
    return FALSE;
  sqlite3_bind_text (st, 1, name, -1, SQLITE_STATIC);
  return sqlite3_step (st) == SQLITE_ROW;
}

char *
ft_analytics_dup_meta (sqlite3 *db, const char *key)
{
  g_autoptr (sqlite3_stmt) st = NULL;
  if (!ft_analytics_has_table (db, "an_meta") ||
      sqlite3_prepare_v2 (db, "SELECT value FROM an_meta WHERE key = ?", -1, &st, NULL) != SQLITE_OK)
    return NULL;
  sqlite3_bind_text (st, 1, key, -1, SQLITE_STATIC);
  if (sqlite3_step (st) != SQLITE_ROW)
    return NULL;
  return g_strdup ((const char *) sqlite3_column_text (st, 0));
}

gboolean
ft_analytics_is_built (sqlite3 *db)
{
  g_autofree char *hwm = ft_analytics_dup_meta (db, "high_water_seq");
  return hwm != NULL;
}

/* ------------------------------------------------------------- folding */

static int
zone_of (Build *b, double lat, double lon)
{
  if (b->z->zone_at == NULL)
    return 0;
  int z = b->z->zone_at (lat, lon, b->z->user_data);
  return (z >= 0 && (guint) z < b->z->n_zones) ? z : -1;
}

static Veh *
veh_get (Build *b, gint32 vi)
{
  if (vi < 0)
    return NULL;
  if ((guint) vi >= b->veh->len)
    {
      guint old = b->veh->len;
      g_array_set_size (b->veh, (guint) vi + 1);
      for (guint i = old; i < b->veh->len; i++)
        {
          Veh *v = &g_array_index (b->veh, Veh, i);
          memset (v, 0, sizeof *v);
          v->state = -1;
          v->zone = v->trip_zone = -1;
          v->trip_t0 = -1;
        }
    }
  return &g_array_index (b->veh, Veh, vi);
}

static ZoneHour *
zh_get (Build *b, gint64 zone, gint64 hour)
{
  return row_get (b->zh, zone, hour, sizeof (ZoneHour));
}

static VehDay *
vd_get (Build *b, gint64 vi, gint64 day)
{
  return row_get (b->vd, vi, day, sizeof (VehDay));
}

static inline gint64
day_of (Build *b, gint64 t)
{
  return floor_div (t + b->off_ms, DAY_MS);
}

static inline gint64
week_of (Build *b, gint64 t)
{
  return floor_div (t + b->off_ms, WEEK_MS);
}

static void
bin_add (Build *b, int metric, gint64 bin, gint64 cap)
{
  Count2 *c = row_get (b->bins, metric, CLAMP (bin, 0, cap), sizeof (Count2));
  c->n++;
}

/* Accounts vehicle vi's time from its `since` up to t under its current
 * state, zone and flags, split at hour and local-day boundaries. */
static void
account (Build *b, gint64 vi, Veh *v, gint64 t)
{
  if (v->state < 0 || t <= v->since)
    {
      if (t > v->since)
        v->since = t;
      return;
    }
  gint64 a = v->since;
  while (a < t)
    {
      gint64 hour = floor_div (a, HOUR_MS);
      gint64 day = day_of (b, a);
      gint64 next_h = (hour + 1) * HOUR_MS;
      gint64 next_d = (day + 1) * DAY_MS - b->off_ms;
      gint64 e = MIN (t, MIN (next_h, next_d));
      gint64 ms = e - a;
      ZoneHour *zh = v->zh;
      if (zh == NULL || zh->k.a != v->zone || zh->k.b != hour)
        zh = v->zh = zh_get (b, v->zone, hour);
      VehDay *vd = v->vd;
      if (vd == NULL || vd->k.b != day)
        vd = v->vd = vd_get (b, vi, day);
      zh->present_ms += ms;
      switch (v->state)
        {
        case FT_STATE_ON_TRIP:
          zh->on_trip_ms += ms;
          vd->on_trip_ms += ms;
          break;
        case FT_STATE_AVAILABLE:
          zh->available_ms += ms;
          break;
        case FT_STATE_RESERVED:
          break;
        default:
          vd->downtime_ms += ms;
          break;
        }
      if (v->flags & VF_LOW)
        zh->low_ms += ms;
      if (v->flags & VF_FAULT)
        vd->fault_ms += ms;
      a = e;
    }
  v->since = t;
}

static void
veh_move (Build *b, gint64 vi, Veh *v, gint64 t, double lat, double lon)
{
  if (!isfinite (lat) || !isfinite (lon) || (lat == 0 && lon == 0))
    return;
  int z = zone_of (b, lat, lon);
  if (v->state == FT_STATE_ON_TRIP && (v->flags & VF_POS))
    v->trip_m += llround (ft_distance_m ((FtLatLon) { v->lat, v->lon }, (FtLatLon) { lat, lon }));
  if (z != v->zone)
    {
      account (b, vi, v, t);
      v->zone = z;
    }
  v->lat = lat;
  v->lon = lon;
  v->flags |= VF_POS;
}

static void
request_at (Build *b, gint64 t, double lat, double lon, int lost_reason)
{
  ZoneHour *zh = zh_get (b, zone_of (b, lat, lon), floor_div (t, HOUR_MS));
  zh->requests++;
  if (lost_reason < 0)
    zh->served++;
  else if (lost_reason < 4)
    zh->lost[lost_reason]++;
}

static void
trip_done (Build *b, gint64 vi, Veh *v, gint64 t, gint64 price, gint64 secs, gint64 metres,
           double lat, double lon)
{
  gboolean started = v->trip_t0 >= 0;
  gint64 zone = started ? v->trip_zone : zone_of (b, lat, lon);
  ZoneHour *zh = zh_get (b, zone, floor_div (started ? v->trip_t0 : t, HOUR_MS));
  zh->trips_ended++;
  zh->revenue += price;
  VehDay *vd = vd_get (b, vi, day_of (b, t));
  vd->metres += metres;
  vd->trip_s += secs;
  vd->revenue += price;
  bin_add (b, BIN_DIST, metres / DIST_BIN_M, DIST_BINS);
  bin_add (b, BIN_DUR, secs / 60, DUR_BINS);
}

static gboolean
rider_trip (Build *b, gint64 rider, gint64 t, GError **error)
{
  Rider *r = g_hash_table_lookup (b->riders, &rider);
  if (r == NULL)
    {
      r = g_new0 (Rider, 1);
      sqlite3_reset (b->rider_q);
      sqlite3_bind_int64 (b->rider_q, 1, rider);
      int rc = sqlite3_step (b->rider_q);
      if (rc == SQLITE_ROW)
        {
          r->first_t = sqlite3_column_int64 (b->rider_q, 0);
          r->first_week = sqlite3_column_int64 (b->rider_q, 1);
        }
      else if (rc == SQLITE_DONE)
        {
          r->first_t = t;
          r->first_week = week_of (b, t);
        }
      else
        {
          g_free (r);
          return ft_analytics_sql_fail (b->db, error, "reading a rider's first trip");
        }
      gint64 *k = g_new (gint64, 1);
      *k = rider;
      g_hash_table_insert (b->riders, k, r);
    }
  r->trips++;
  Count2 *w = row_get (b->rider_week, rider, week_of (b, t), sizeof (Count2));
  w->n++;
  return TRUE;
}

static Staff *
staff_get (Build *b, gint64 id)
{
  Staff *s = g_hash_table_lookup (b->staff, &id);
  if (s == NULL)
    {
      s = g_new0 (Staff, 1);
      s->row = -1;
      gint64 *k = g_new (gint64, 1);
      *k = id;
      g_hash_table_insert (b->staff, k, s);
    }
  return s;
}

static ShiftRow *
staff_active (Build *b, gint64 id, gint64 t, gboolean has_pos, double lat, double lon)
{
  Staff *s = staff_get (b, id);
  if (!s->open || t - s->last_t > SHIFT_GAP_MS)
    {
      s->open = TRUE;
      s->shift_start = s->last_t = t;
      s->has_pos = FALSE;
      s->row = -1;
    }
  if (s->row < 0)
    {
      ShiftRow r = { .staff = id, .shift_start = s->shift_start, .last_t = s->last_t };
      g_array_append_val (b->shifts, r);
      s->row = (gint) b->shifts->len - 1;
    }
  ShiftRow *row = &g_array_index (b->shifts, ShiftRow, s->row);
  if (has_pos && isfinite (lat) && isfinite (lon) && !(lat == 0 && lon == 0))
    {
      if (s->has_pos)
        row->metres += llround (ft_distance_m ((FtLatLon) { s->lat, s->lon }, (FtLatLon) { lat, lon }));
      s->lat = lat;
      s->lon = lon;
      s->has_pos = TRUE;
    }
  s->last_t = MAX (s->last_t, t);
  row->last_t = MAX (row->last_t, s->last_t);
  s->dirty = TRUE;
  return row;
}

static gboolean
fold (Build *b, const FtEvent *e, GError **error)
{
  if (e->vehicle >= FT_ANALYTICS_MAX_VEHICLES)
    {
      const char *file = sqlite3_db_filename (b->db, "main");
      g_set_error (error, FT_ANALYTICS_ERROR, FT_ANALYTICS_ERROR_DATA,
                   "%s: event %" G_GUINT64_FORMAT " (%s) names vehicle %d; more than %d vehicles "
                   "is not a fleet the analytics fold (is the file damaged?)",
                   file && *file ? file : "database", e->seq, ft_event_kind_name (e->kind),
                   e->vehicle, FT_ANALYTICS_MAX_VEHICLES);
      return FALSE;
    }
  Veh *v = veh_get (b, e->vehicle);
  gint64 vi = e->vehicle;

  if (b->first_t == G_MININT64)
    b->first_t = e->t;
  if (b->last_t != G_MININT64 && e->t > b->last_t + MAX_JUMP_MS)
    {
      /* The log jumps ahead (a twin that was down for weeks, a damaged
       * time): account everyone up to the last event, then skip the gap.
       * last_t is an event time both a full and an incremental build
       * reach, so the rows do not depend on where builds cut the log. */
      for (guint i = 0; i < b->veh->len; i++)
        {
          Veh *w = &g_array_index (b->veh, Veh, i);
          account (b, i, w, b->last_t);
          if (w->state >= 0)
            w->since = e->t;
        }
    }
  b->last_t = MAX (b->last_t, e->t);
  switch ((FtEventKind) e->kind)
    {
    case FT_EV_VEHICLE_ADDED:
      if (v == NULL)
        break;
      if (v->state < 0)
        {
          v->state = FT_STATE_AVAILABLE;
          v->since = e->t;
        }
      veh_move (b, vi, v, e->t, e->lat, e->lon);
      break;
    case FT_EV_VEHICLE_STATE:
      {
        if (v == NULL || e->b < 0 || e->b >= FT_N_STATES)
          break;
        if (v->state < 0)
          {
            v->state = (gint8) e->b;
            v->since = e->t;
          }
        veh_move (b, vi, v, e->t, e->lat, e->lon);
        account (b, vi, v, e->t);
        switch (e->a)
          {
          case FT_VEV_BATTERY_LOW:
            v->flags |= VF_LOW;
            break;
          case FT_VEV_MAINTENANCE:
          case FT_VEV_MAINTENANCE_PICK_UP:
            if (!(v->flags & VF_FAULT))
              vd_get (b, vi, day_of (b, e->t))->faults++;
            v->flags |= VF_FAULT;
            break;
          case FT_VEV_TRIP_START:
            v->trip_t0 = e->t;
            v->trip_zone = v->zone;
            v->trip_m = 0;
            if (e->ref < 0)    /* a trip without a booking (live): served here */
              request_at (b, e->t, e->lat, e->lon, -1);
            break;
          case FT_VEV_TRIP_END:
            vd_get (b, vi, day_of (b, e->t))->trips++;
            if (e->ref < 0 && v->trip_t0 >= 0)   /* no BOOKING_ENDED will follow */
              trip_done (b, vi, v, e->t, 0, (e->t - v->trip_t0) / 1000, v->trip_m, e->lat, e->lon);
            break;
          default:
            break;
          }
        v->state = (gint8) e->b;
        if (e->b == FT_STATE_AVAILABLE || e->b == FT_STATE_ON_TRIP)
          v->flags &= (guint8) ~(VF_LOW | VF_FAULT);
        break;
      }
    case FT_EV_VEHICLE_MOVED:
      if (v)
        veh_move (b, vi, v, e->t, e->lat, e->lon);
      break;
    case FT_EV_VEHICLE_FAULT:
      /* fault codes reported (live telemetry, the simulator): a new code on
       * a vehicle not already faulty is a fault; none left ends it. The
       * maintenance state the simulator also sets counts no second time. */
      if (v == NULL || v->state < 0)
        break;
      veh_move (b, vi, v, e->t, e->lat, e->lon);
      account (b, vi, v, e->t);
      if ((e->amount & ~e->b) != 0 && !(v->flags & VF_FAULT))
        {
          vd_get (b, vi, day_of (b, e->t))->faults++;
          v->flags |= VF_FAULT;
        }
      else if (e->amount == 0)
        v->flags &= (guint8) ~VF_FAULT;
      break;
    case FT_EV_TELEMETRY:
      if (v == NULL)
        break;
      veh_move (b, vi, v, e->t, e->lat, e->lon);
      if (e->amount >= 0 && e->amount <= 10000)
        {
          ZoneHour *zh = zh_get (b, v->zone, floor_div (e->t, HOUR_MS));
          zh->soc_sum += e->amount;
          zh->soc_n++;
          bin_add (b, BIN_SOC, e->amount / SOC_BIN, SOC_BINS);
        }
      break;
    case FT_EV_BOOKING_UNLOCKED:
      request_at (b, e->t, e->lat, e->lon, -1);
      if (e->account >= 0 && !rider_trip (b, e->account, e->t, error))
        return FALSE;
      break;
    case FT_EV_BOOKING_ENDED:
      if (v == NULL)
        break;
      trip_done (b, vi, v, e->t, e->amount, MAX (e->a, 0), MAX (e->b, 0), e->lat, e->lon);
      veh_move (b, vi, v, e->t, e->lat, e->lon);
      break;
    case FT_EV_RIDER_LOST:
      request_at (b, e->t, e->lat, e->lon, CLAMP (e->a, 0, 1000));
      break;
    case FT_EV_TASK_ASSIGNED:
      if (e->account >= 0)
        staff_active (b, e->account, e->t, FALSE, 0, 0);
      break;
    case FT_EV_TASK_DONE:
      {
        if (e->account >= 0)
          {
            ShiftRow *r = staff_active (b, e->account, e->t, TRUE, e->lat, e->lon);
            r->tasks++;
            switch (e->a)
              {
              case FT_TASK_BATTERY_SWAP: r->swaps++; break;
              case FT_TASK_REBALANCE: r->rebalances++; break;
              case FT_TASK_COLLECT_REPAIR: r->repairs++; break;
              case FT_TASK_DEPLOY: r->deploys++; break;
              default: break;
              }
          }
        if (e->a == FT_TASK_BATTERY_SWAP && v != NULL)
          vd_get (b, vi, day_of (b, e->t))->swaps++;
        break;
      }
    case FT_EV_STAFF_MOVED:
      if (e->account >= 0)
        staff_active (b, e->account, e->t, TRUE, e->lat, e->lon);
      break;
    default:
      break;
    }
  return TRUE;
}

/* ------------------------------------------------------------ state I/O */

static gboolean
load_state (Build *b, GError **error)
{
  g_autoptr (sqlite3_stmt) st = NULL;
  if (sqlite3_prepare_v2 (b->db, "SELECT vehicle, state, zone, since, lat, lon, flags, trip_t0,"
                          " trip_zone, trip_m FROM an_vehicle_open ORDER BY vehicle",
                          -1, &st, NULL) != SQLITE_OK)
    return ft_analytics_sql_fail (b->db, error, "reading the vehicles' open state");
  int rc;
  while ((rc = sqlite3_step (st)) == SQLITE_ROW)
    {
      gint64 vi = sqlite3_column_int64 (st, 0);
      if (vi < 0 || vi >= FT_ANALYTICS_MAX_VEHICLES)
        continue;
      Veh *v = veh_get (b, (gint32) vi);
      v->state = (gint8) sqlite3_column_int (st, 1);
      v->zone = sqlite3_column_int (st, 2);
      v->since = sqlite3_column_int64 (st, 3);
      v->lat = sqlite3_column_double (st, 4);
      v->lon = sqlite3_column_double (st, 5);
      v->flags = (guint8) sqlite3_column_int (st, 6);
      v->trip_t0 = sqlite3_column_int64 (st, 7);
      v->trip_zone = sqlite3_column_int (st, 8);
      v->trip_m = sqlite3_column_int64 (st, 9);
    }
  if (rc != SQLITE_DONE)
    return ft_analytics_sql_fail (b->db, error, "reading the vehicles' open state");
  g_clear_pointer (&st, sqlite3_finalize);
  if (sqlite3_prepare_v2 (b->db, "SELECT staff, shift_start, last_t, lat, lon FROM an_staff_open",
                          -1, &st, NULL) != SQLITE_OK)
    return ft_analytics_sql_fail (b->db, error, "reading the staff's open shifts");
  while ((rc = sqlite3_step (st)) == SQLITE_ROW)
    {
      Staff *s = staff_get (b, sqlite3_column_int64 (st, 0));
      s->open = TRUE;
      s->shift_start = sqlite3_column_int64 (st, 1);
      s->last_t = sqlite3_column_int64 (st, 2);
      s->lat = sqlite3_column_double (st, 3);
      s->lon = sqlite3_column_double (st, 4);
      s->has_pos = sqlite3_column_type (st, 3) != SQLITE_NULL && !(s->lat == 0 && s->lon == 0);
    }
  if (rc != SQLITE_DONE)
    return ft_analytics_sql_fail (b->db, error, "reading the staff's open shifts");
  return TRUE;
}

static gboolean
step_done (sqlite3 *db, sqlite3_stmt *st, GError **error, const char *doing)
{
  int rc = sqlite3_step (st);
  sqlite3_reset (st);
  if (rc != SQLITE_DONE)
    return ft_analytics_sql_fail (db, error, doing);
  return TRUE;
}

static gboolean
prep (sqlite3 *db, const char *sql, sqlite3_stmt **st, GError **error)
{
  if (sqlite3_prepare_v2 (db, sql, -1, st, NULL) != SQLITE_OK)
    return ft_analytics_sql_fail (db, error, "preparing the analytics writes");
  return TRUE;
}

static gboolean
put_meta (Build *b, const char *key, const char *value, GError **error)
{
  g_autoptr (sqlite3_stmt) st = NULL;
  if (!prep (b->db, "INSERT OR REPLACE INTO an_meta (key, value) VALUES (?, ?)", &st, error))
    return FALSE;
  sqlite3_bind_text (st, 1, key, -1, SQLITE_STATIC);
  sqlite3_bind_text (st, 2, value, -1, SQLITE_TRANSIENT);
  return step_done (b->db, st, error, "recording the analytics state");
}

static gboolean
put_meta_i64 (Build *b, const char *key, gint64 v, GError **error)
{
  char buf[32];
  g_snprintf (buf, sizeof buf, "%" G_GINT64_FORMAT, v);
  return put_meta (b, key, buf, error);
}

/* Adds the batch's deltas to the stored rows and writes the open state. */
static gboolean
write_batch (Build *b, guint64 hwm, guint64 n_events, GError **error)
{
  g_autoptr (sqlite3_stmt) zh = NULL;
  g_autoptr (sqlite3_stmt) vd = NULL;
  g_autoptr (sqlite3_stmt) bins = NULL;
  g_autoptr (sqlite3_stmt) rider = NULL;
  g_autoptr (sqlite3_stmt) rw = NULL;
  g_autoptr (sqlite3_stmt) sh = NULL;
  g_autoptr (sqlite3_stmt) vo = NULL;
  g_autoptr (sqlite3_stmt) so = NULL;
  GHashTableIter it;
  gpointer key, val;

  if (!prep (b->db, "INSERT INTO an_zone_hour VALUES (?1,?2,?3,?4,?5,?6,?7,?8,?9,?10,?11,?12,?13,?14,?15,?16)"
             " ON CONFLICT (zone, hour) DO UPDATE SET requests = requests + ?3, served = served + ?4,"
             " lost_no_vehicle = lost_no_vehicle + ?5, lost_low_battery = lost_low_battery + ?6,"
             " lost_price = lost_price + ?7, lost_refused = lost_refused + ?8,"
             " trips_ended = trips_ended + ?9, revenue_minor = revenue_minor + ?10,"
             " present_ms = present_ms + ?11, on_trip_ms = on_trip_ms + ?12,"
             " available_ms = available_ms + ?13, battery_low_ms = battery_low_ms + ?14,"
             " soc_sum = soc_sum + ?15, soc_n = soc_n + ?16", &zh, error) ||
      !prep (b->db, "INSERT INTO an_vehicle_day VALUES (?1,?2,?3,?4,?5,?6,?7,?8,?9,?10,?11)"
             " ON CONFLICT (vehicle, day) DO UPDATE SET trips = trips + ?3, metres = metres + ?4,"
             " trip_s = trip_s + ?5, revenue_minor = revenue_minor + ?6,"
             " on_trip_ms = on_trip_ms + ?7, downtime_ms = downtime_ms + ?8,"
             " fault_ms = fault_ms + ?9, swaps = swaps + ?10, faults = faults + ?11", &vd, error) ||
      !prep (b->db, "INSERT INTO an_trip_bins VALUES (?1, ?2, ?3)"
             " ON CONFLICT (metric, bin) DO UPDATE SET n = n + ?3", &bins, error) ||
      !prep (b->db, "INSERT INTO an_rider VALUES (?1, ?2, ?3, ?4)"
             " ON CONFLICT (rider) DO UPDATE SET trips = trips + ?4", &rider, error) ||
      !prep (b->db, "INSERT INTO an_rider_week VALUES (?1, ?2, ?3)"
             " ON CONFLICT (rider, week) DO UPDATE SET trips = trips + ?3", &rw, error) ||
      !prep (b->db, "INSERT INTO an_staff_shift VALUES (?1,?2,?3,?4,?5,?6,?7,?8,?9)"
             " ON CONFLICT (staff, shift_start) DO UPDATE SET last_t = max(last_t, ?3),"
             " tasks = tasks + ?4, swaps = swaps + ?5, rebalances = rebalances + ?6,"
             " repairs = repairs + ?7, deploys = deploys + ?8, metres = metres + ?9", &sh, error) ||
      !prep (b->db, "INSERT OR REPLACE INTO an_vehicle_open VALUES (?1,?2,?3,?4,?5,?6,?7,?8,?9,?10)",
             &vo, error) ||
      !prep (b->db, "INSERT OR REPLACE INTO an_staff_open VALUES (?1, ?2, ?3, ?4, ?5)", &so, error))
    return FALSE;

  g_hash_table_iter_init (&it, b->zh);
  while (g_hash_table_iter_next (&it, &key, &val))
    {
      const ZoneHour *r = val;
      const gint64 vals[] = { r->k.a, r->k.b, r->requests, r->served, r->lost[0], r->lost[1],
                              r->lost[2], r->lost[3], r->trips_ended, r->revenue, r->present_ms,
                              r->on_trip_ms, r->available_ms, r->low_ms, r->soc_sum, r->soc_n };
      for (guint i = 0; i < G_N_ELEMENTS (vals); i++)
        sqlite3_bind_int64 (zh, (int) i + 1, vals[i]);
      if (!step_done (b->db, zh, error, "writing zone x hour"))
        return FALSE;
    }
  g_hash_table_iter_init (&it, b->vd);
  while (g_hash_table_iter_next (&it, &key, &val))
    {
      const VehDay *r = val;
      const gint64 vals[] = { r->k.a, r->k.b, r->trips, r->metres, r->trip_s, r->revenue,
                              r->on_trip_ms, r->downtime_ms, r->fault_ms, r->swaps, r->faults };
      for (guint i = 0; i < G_N_ELEMENTS (vals); i++)
        sqlite3_bind_int64 (vd, (int) i + 1, vals[i]);
      if (!step_done (b->db, vd, error, "writing vehicle x day"))
        return FALSE;
    }
  g_hash_table_iter_init (&it, b->bins);
  while (g_hash_table_iter_next (&it, &key, &val))
    {
      const Count2 *r = val;
      sqlite3_bind_text (bins, 1, bin_metric[r->k.a], -1, SQLITE_STATIC);
      sqlite3_bind_int64 (bins, 2, r->k.b);
      sqlite3_bind_int64 (bins, 3, r->n);
      if (!step_done (b->db, bins, error, "writing trip bins"))
        return FALSE;
    }
  g_hash_table_iter_init (&it, b->riders);
  while (g_hash_table_iter_next (&it, &key, &val))
    {
      Rider *r = val;
      if (r->trips == 0)
        continue;
      sqlite3_bind_int64 (rider, 1, *(gint64 *) key);
      sqlite3_bind_int64 (rider, 2, r->first_t);
      sqlite3_bind_int64 (rider, 3, r->first_week);
      sqlite3_bind_int64 (rider, 4, r->trips);
      if (!step_done (b->db, rider, error, "writing riders"))
        return FALSE;
    }
  g_hash_table_iter_init (&it, b->rider_week);
  while (g_hash_table_iter_next (&it, &key, &val))
    {
      const Count2 *r = val;
      sqlite3_bind_int64 (rw, 1, r->k.a);
      sqlite3_bind_int64 (rw, 2, r->k.b);
      sqlite3_bind_int64 (rw, 3, r->n);
      if (!step_done (b->db, rw, error, "writing rider weeks"))
        return FALSE;
    }
  for (guint i = 0; i < b->shifts->len; i++)
    {
      const ShiftRow *r = &g_array_index (b->shifts, ShiftRow, i);
      const gint64 vals[] = { r->staff, r->shift_start, r->last_t, r->tasks, r->swaps,
                              r->rebalances, r->repairs, r->deploys, r->metres };
      for (guint j = 0; j < G_N_ELEMENTS (vals); j++)
        sqlite3_bind_int64 (sh, (int) j + 1, vals[j]);
      if (!step_done (b->db, sh, error, "writing staff shifts"))
        return FALSE;
    }
  for (guint i = 0; i < b->veh->len; i++)
    {
      const Veh *v = &g_array_index (b->veh, Veh, i);
      if (v->state < 0)
        continue;
      sqlite3_bind_int64 (vo, 1, i);
      sqlite3_bind_int (vo, 2, v->state);
      sqlite3_bind_int (vo, 3, v->zone);
      sqlite3_bind_int64 (vo, 4, v->since);
      sqlite3_bind_double (vo, 5, v->lat);
      sqlite3_bind_double (vo, 6, v->lon);
      sqlite3_bind_int (vo, 7, v->flags);
      sqlite3_bind_int64 (vo, 8, v->trip_t0);
      sqlite3_bind_int (vo, 9, v->trip_zone);
      sqlite3_bind_int64 (vo, 10, v->trip_m);
      if (!step_done (b->db, vo, error, "writing the vehicles' open state"))
        return FALSE;
    }
  g_hash_table_iter_init (&it, b->staff);
  while (g_hash_table_iter_next (&it, &key, &val))
    {
      Staff *s = val;
      if (!s->dirty)
        continue;
      sqlite3_bind_int64 (so, 1, *(gint64 *) key);
      sqlite3_bind_int64 (so, 2, s->shift_start);
      sqlite3_bind_int64 (so, 3, s->last_t);
      sqlite3_bind_double (so, 4, s->has_pos ? s->lat : 0);
      sqlite3_bind_double (so, 5, s->has_pos ? s->lon : 0);
      if (!step_done (b->db, so, error, "writing the staff's open shifts"))
        return FALSE;
    }
  g_autofree char *old_n = ft_analytics_dup_meta (b->db, "events_folded");
  g_autofree char *old_first = ft_analytics_dup_meta (b->db, "first_t");
  return put_meta_i64 (b, "high_water_seq", (gint64) hwm, error) &&
         put_meta_i64 (b, "events_folded", (old_n ? g_ascii_strtoll (old_n, NULL, 10) : 0) + (gint64) n_events, error) &&
         (old_first != NULL || b->first_t == G_MININT64 || put_meta_i64 (b, "first_t", b->first_t, error)) &&
         (b->last_t == G_MININT64 || put_meta_i64 (b, "last_t", b->last_t, error));
}

static void
batch_reset (Build *b)
{
  g_hash_table_remove_all (b->zh);
  g_hash_table_remove_all (b->vd);
  g_hash_table_remove_all (b->bins);
  g_hash_table_remove_all (b->rider_week);
  g_array_set_size (b->shifts, 0);
  for (guint i = 0; i < b->veh->len; i++)
    {
      Veh *v = &g_array_index (b->veh, Veh, i);
      v->zh = NULL;
      v->vd = NULL;
    }
  GHashTableIter it;
  gpointer key, val;
  g_hash_table_iter_init (&it, b->riders);
  while (g_hash_table_iter_next (&it, &key, &val))
    ((Rider *) val)->trips = 0;
  g_hash_table_iter_init (&it, b->staff);
  while (g_hash_table_iter_next (&it, &key, &val))
    {
      ((Staff *) val)->row = -1;
      ((Staff *) val)->dirty = FALSE;
    }
}

static const char *const an_tables[] = {
  "an_meta", "an_zone", "an_zone_hour", "an_vehicle_day", "an_trip_bins", "an_rider",
  "an_rider_week", "an_staff_shift", "an_vehicle_open", "an_staff_open",
};

/* First transaction's prologue: zoning checks, clearing on rebuild, the
 * zone names and the time base. */
static gboolean
begin_first (Build *b, gboolean rebuild, GError **error)
{
  const FtAnalyticsZoning *z = b->z;
  if (rebuild)
    for (guint i = 0; i < G_N_ELEMENTS (an_tables); i++)
      {
        g_autofree char *sql = g_strdup_printf ("DELETE FROM %s", an_tables[i]);   /* names from this file */
        if (!ft_analytics_exec (b->db, sql, error, "clearing the aggregates"))
          return FALSE;
      }
  g_autoptr (sqlite3_stmt) st = NULL;
  if (!prep (b->db, "INSERT OR REPLACE INTO an_zone (zone, name) VALUES (?, ?)", &st, error))
    return FALSE;
  for (guint i = 0; i < z->n_zones; i++)
    {
      g_autofree char *fallback = g_strdup_printf ("zone %u", i);
      sqlite3_bind_int (st, 1, (int) i);
      sqlite3_bind_text (st, 2, z->zone_names && z->zone_names[i] ? z->zone_names[i] : fallback,
                         -1, SQLITE_TRANSIENT);
      if (!step_done (b->db, st, error, "writing the zone names"))
        return FALSE;
    }
  return put_meta (b, "zoning", z->signature ? z->signature : "", error) &&
         put_meta_i64 (b, "n_zones", z->n_zones, error) &&
         put_meta_i64 (b, "monday_ms", z->monday_ms, error) &&
         put_meta_i64 (b, "utc_offset_min", z->utc_offset_min, error) &&
         (z->currency == NULL || put_meta (b, "currency", z->currency, error));
}

gboolean
ft_analytics_build (sqlite3 *db, const FtAnalyticsZoning *z, const FtAnalyticsBuildOptions *opt,
                    FtAnalyticsBuildStats *stats, GError **error)
{
  g_return_val_if_fail (db != NULL && z != NULL, FALSE);
  FtAnalyticsBuildOptions o = { 0 };
  if (opt)
    o = *opt;
  if (o.batch_events == 0)
    o.batch_events = DEFAULT_BATCH;
  gint64 t0 = g_get_monotonic_time ();
  FtAnalyticsBuildStats s = { 0 };

  if (!ft_analytics_has_table (db, "an_meta") || !ft_analytics_has_table (db, "events"))
    {
      const char *file = sqlite3_db_filename (db, "main");
      g_set_error (error, FT_ANALYTICS_ERROR, FT_ANALYTICS_ERROR_NOT_BUILT,
                   "%s has no event log or no analytics tables (schema 6); open it with "
                   "the store first", file && *file ? file : "database");
      return FALSE;
    }
  g_autofree char *zoning = ft_analytics_dup_meta (db, "zoning");
  g_autofree char *hwm_s = ft_analytics_dup_meta (db, "high_water_seq");
  if (!o.rebuild && zoning != NULL && g_strcmp0 (zoning, z->signature ? z->signature : "") != 0)
    {
      const char *file = sqlite3_db_filename (db, "main");
      g_set_error (error, FT_ANALYTICS_ERROR, FT_ANALYTICS_ERROR_ZONING,
                   "%s: the analytics were built with the zones of '%s', not '%s'; "
                   "rebuild them (--rebuild) to change zones",
                   file && *file ? file : "database", zoning, z->signature ? z->signature : "");
      return FALSE;
    }
  g_autofree char *mon = ft_analytics_dup_meta (db, "monday_ms");
  g_autofree char *off = ft_analytics_dup_meta (db, "utc_offset_min");
  Build b = { .db = db, .z = z, .first_t = G_MININT64, .last_t = G_MININT64 };
  gint64 monday = z->monday_ms, offset = z->utc_offset_min;
  if (!o.rebuild && mon && off)     /* the time base stays the first build's */
    {
      monday = g_ascii_strtoll (mon, NULL, 10);
      offset = g_ascii_strtoll (off, NULL, 10);
    }
  b.off_ms = offset * 60000 - monday;
  b.veh = g_array_new (FALSE, TRUE, sizeof (Veh));
  b.staff = g_hash_table_new_full (g_int64_hash, g_int64_equal, g_free, g_free);
  b.riders = g_hash_table_new_full (g_int64_hash, g_int64_equal, g_free, g_free);
  b.zh = g_hash_table_new_full (key2_hash, key2_equal, NULL, g_free);
  b.vd = g_hash_table_new_full (key2_hash, key2_equal, NULL, g_free);
  b.bins = g_hash_table_new_full (key2_hash, key2_equal, NULL, g_free);
  b.rider_week = g_hash_table_new_full (key2_hash, key2_equal, NULL, g_free);
  b.shifts = g_array_new (FALSE, TRUE, sizeof (ShiftRow));
  g_autoptr (sqlite3_stmt) ev = NULL;
  gboolean ok = FALSE, first = TRUE, in_tx = FALSE;
  guint64 hwm = (hwm_s && !o.rebuild) ? g_ascii_strtoull (hwm_s, NULL, 10) : 0;
  s.first_seq = hwm;

  /* Only the kinds fold() reads are fetched; the numbers come from the
   * enum, not from data. The scan stops at the last event present now:
   * events a live writer commits meanwhile are left for the next build. */
  static const FtEventKind folded[] = {
    FT_EV_VEHICLE_ADDED, FT_EV_VEHICLE_STATE, FT_EV_VEHICLE_MOVED, FT_EV_TELEMETRY,
    FT_EV_BOOKING_UNLOCKED, FT_EV_BOOKING_ENDED, FT_EV_RIDER_LOST, FT_EV_TASK_ASSIGNED,
    FT_EV_TASK_DONE, FT_EV_STAFF_MOVED, FT_EV_VEHICLE_FAULT };
  g_autoptr (GString) sql = g_string_new ("SELECT seq, t, kind, vehicle, account, ref, a, b, amount,"
                                          " lat, lon FROM events WHERE seq > ?1 AND seq <= ?2"
                                          " AND kind IN (");
  for (guint i = 0; i < G_N_ELEMENTS (folded); i++)
    g_string_append_printf (sql, "%s%d", i ? ", " : "", (int) folded[i]);
  g_string_append (sql, ") ORDER BY seq LIMIT ?3");
  guint64 bound = 0;
  {
    g_autoptr (sqlite3_stmt) mx = NULL;
    if (!prep (db, "SELECT coalesce(max(seq), 0) FROM events", &mx, error))
      goto out;
    if (sqlite3_step (mx) != SQLITE_ROW)
      {
        ft_analytics_sql_fail (db, error, "reading the event log");
        goto out;
      }
    bound = (guint64) sqlite3_column_int64 (mx, 0);
    if (o.stop_after_seq)
      bound = MIN (bound, o.stop_after_seq);
  }
  if ((!o.rebuild && !load_state (&b, error)) ||
      !prep (db, sql->str, &ev, error) ||
      !prep (db, "SELECT first_t, first_week FROM an_rider WHERE rider = ?", &b.rider_q, error))
    goto out;
  if (!o.rebuild)
    {
      g_autofree char *ft = ft_analytics_dup_meta (db, "first_t");
      g_autofree char *lt = ft_analytics_dup_meta (db, "last_t");
      if (ft)
        b.first_t = g_ascii_strtoll (ft, NULL, 10);
      if (lt)
        b.last_t = g_ascii_strtoll (lt, NULL, 10);
    }

  for (;;)
    {
      guint n = 0;
      guint64 last_seq = hwm;
      if (!ft_analytics_exec (db, "BEGIN IMMEDIATE", error, "starting an analytics batch"))
        goto out;
      in_tx = TRUE;
      if (first && (hwm_s == NULL || o.rebuild) && !begin_first (&b, o.rebuild, error))
        goto out;
      sqlite3_reset (ev);
      sqlite3_bind_int64 (ev, 1, (gint64) hwm);
      sqlite3_bind_int64 (ev, 2, (gint64) bound);
      sqlite3_bind_int64 (ev, 3, o.batch_events);
      int rc;
      while ((rc = sqlite3_step (ev)) == SQLITE_ROW)
        {
          FtEvent e = {
            .seq = (guint64) sqlite3_column_int64 (ev, 0), .t = sqlite3_column_int64 (ev, 1),
            .kind = (guint16) sqlite3_column_int (ev, 2), .vehicle = sqlite3_column_int (ev, 3),
            .account = sqlite3_column_int (ev, 4), .ref = sqlite3_column_int64 (ev, 5),
            .a = sqlite3_column_int (ev, 6), .b = sqlite3_column_int64 (ev, 7),
            .amount = sqlite3_column_int64 (ev, 8), .lat = sqlite3_column_double (ev, 9),
            .lon = sqlite3_column_double (ev, 10) };
          if (!fold (&b, &e, error))
            goto out;
          last_seq = e.seq;
          n++;
        }
      if (rc != SQLITE_DONE)
        {
          ft_analytics_sql_fail (db, error, "reading the event log");
          goto out;
        }
      /* a short batch scanned everything up to the bound */
      if (n < o.batch_events)
        last_seq = MAX (hwm, bound);
      if (n == 0 && last_seq == hwm && !first)
        {
          ft_analytics_exec (db, "ROLLBACK", NULL, "");
          in_tx = FALSE;
          break;
        }
      /* everything is accounted up to the last event folded in */
      if (n > 0)
        for (guint i = 0; i < b.veh->len; i++)
          {
            Veh *v = &g_array_index (b.veh, Veh, i);
            account (&b, i, v, b.last_t);
          }
      if (n > 0 || first || last_seq != hwm)
        {
          if (!write_batch (&b, last_seq, n, error) ||
              !ft_analytics_exec (db, "COMMIT", error, "committing an analytics batch"))
            goto out;
        }
      in_tx = FALSE;
      first = FALSE;
      hwm = last_seq;
      s.events_read += n;
      if (n > 0)
        s.batches++;
      batch_reset (&b);
      if (n < o.batch_events)
        break;
    }
  ok = TRUE;
out:
  if (in_tx)
    ft_analytics_exec (db, "ROLLBACK", NULL, "");
  sqlite3_finalize (b.rider_q);
  g_array_free (b.veh, TRUE);
  g_array_free (b.shifts, TRUE);
  g_hash_table_destroy (b.staff);
  g_hash_table_destroy (b.riders);
  g_hash_table_destroy (b.zh);
  g_hash_table_destroy (b.vd);
  g_hash_table_destroy (b.bins);
  g_hash_table_destroy (b.rider_week);
  s.last_seq = hwm;
  s.seconds = (double) (g_get_monotonic_time () - t0) / 1e6;
  if (stats)
    *stats = s;
  return ok;
}
