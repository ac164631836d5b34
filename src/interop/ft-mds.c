/* ft-mds.c — MDS 2.0 provider documents from a store file, read
 * incrementally from its append-only event log and indexed by UTC hour.
 * See ft-mds.h.
 */
#include "ft-config.h"
#include "ft-mds.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <sqlite3.h>
#include <string.h>
#include "ft-file.h"

G_DEFINE_QUARK (ft-mds-error-quark, ft_mds_error)

/* One vehicle state change or telemetry point, as read from the log. */
typedef struct {
  gint64  seq;
  gint64  t;           /* stored time */
  gint64  booking;     /* the trip it belongs to, -1 */
  gint32  vehicle;
  guint8  evtype;      /* FtVehicleEventType (events) */
  guint8  state;       /* FtVehicleState (events) */
  gint16  battery;     /* percent, -1 unknown */
  double  lat, lon;
} Rec;

typedef struct {
  gint64 booking;
  gint64 t;            /* end */
} TripRec;

/* An hour's items as text, built once and sliced into pages: a past hour
 * only ever grows (late records are appended), and a grown hour is rebuilt. */
typedef struct {
  GString *text;       /* every item of the hour, each followed by ',' */
  GArray  *ends;       /* guint32 per index position: where its text ends */
  guint    n_items;    /* index length it was built from */
} HourCache;

#define MAX_CACHED_HOURS 512

static void
hour_cache_free (HourCache *c)
{
  g_string_free (c->text, TRUE);
  g_array_unref (c->ends);
  g_free (c);
}

typedef struct {
  char   device_id[37];
  guint8 kind;
  gint64 cur_booking;  /* open booking, -1 */
  gint64 last_trip;    /* latest ended booking, -1 */
  gint64 last_event;   /* index into events, -1 */
  gint64 last_telem;   /* index into telemetry, -1 */
  gint16 battery;
} VehInfo;

struct _FtMds {
  sqlite3 *db;
  char    *path;
  char    *provider_id;
  char    *currency;
  gint64   origin;
  gboolean origin_pending;             /* AUTO on an empty store: decided by the first event */
  gint64   data_version;
  guint64  last_seq;
  GArray  *events, *telemetry, *trips;   /* Rec, Rec, TripRec */
  GArray  *vehicles;                     /* VehInfo */
  GHashTable *hours[3];                  /* hour (stored ms) -> GArray of guint32 */
  GHashTable *cache[3];                  /* hour (stored ms) -> HourCache */
  FtMdsStats stats;
  gint64   first_t, newest_t;
  gboolean any;
  sqlite3_stmt *st_events, *st_trip, *st_vehicles;
};

static gboolean
sql_fail (FtMds *m, GError **error, const char *what)
{
  g_set_error (error, FT_MDS_ERROR, FT_MDS_ERROR_SQL, "%s: %s: %s", m->path, what,
               sqlite3_errmsg (m->db));
  return FALSE;
}

static gboolean
query_int64 (FtMds *m, const char *sql, gint64 *out)
{
  sqlite3_stmt *st = NULL;
  gboolean ok = FALSE;
  if (sqlite3_prepare_v2 (m->db, sql, -1, &st, NULL) == SQLITE_OK && sqlite3_step (st) == SQLITE_ROW)
    {
      *out = sqlite3_column_int64 (st, 0);
      ok = TRUE;
    }
  sqlite3_finalize (st);
  return ok;
}

/* 2018-01-01, MDS's earliest timestamp: a store past it holds epoch ms;
 * before it, a simulated run counting from Monday 2024-01-01 00:00. */
static gint64
origin_for (gint64 t)
{
  return t >= G_GINT64_CONSTANT (1514764800000) ? 0 : G_GINT64_CONSTANT (1704067200000);
}

void
ft_mds_free (FtMds *m)
{
  if (m == NULL)
    return;
  sqlite3_finalize (m->st_events);
  sqlite3_finalize (m->st_trip);
  sqlite3_finalize (m->st_vehicles);
  if (m->db)
    sqlite3_close (m->db);
  for (guint i = 0; i < G_N_ELEMENTS (m->hours); i++)
    {
      if (m->hours[i])
        g_hash_table_unref (m->hours[i]);
      if (m->cache[i])
        g_hash_table_unref (m->cache[i]);
    }
  if (m->events)
    g_array_unref (m->events);
  if (m->telemetry)
    g_array_unref (m->telemetry);
  if (m->trips)
    g_array_unref (m->trips);
  if (m->vehicles)
    g_array_unref (m->vehicles);
  g_free (m->path);
  g_free (m->provider_id);
  g_free (m->currency);
  g_free (m);
}

FtMds *
ft_mds_open (const char *db_path, const FtMdsConfig *cfg, GError **error)
{
  g_return_val_if_fail (db_path != NULL, NULL);
  g_autoptr(FtMds) m = g_new0 (FtMds, 1);
  FtMdsConfig defaults = { NULL, FT_MDS_ORIGIN_AUTO, NULL };
  if (cfg == NULL)
    cfg = &defaults;
  m->path = g_strdup (db_path);
  m->provider_id = g_strdup (cfg->provider_id ? cfg->provider_id : FT_MDS_PROVIDER_ID);
  m->currency = g_strdup (cfg->currency ? cfg->currency : "EUR");
  m->events = g_array_new (FALSE, FALSE, sizeof (Rec));
  m->telemetry = g_array_new (FALSE, FALSE, sizeof (Rec));
  m->trips = g_array_new (FALSE, FALSE, sizeof (TripRec));
  m->vehicles = g_array_new (FALSE, TRUE, sizeof (VehInfo));
  for (guint i = 0; i < G_N_ELEMENTS (m->hours); i++)
    {
      m->hours[i] = g_hash_table_new_full (g_int64_hash, g_int64_equal, g_free,
                                           (GDestroyNotify) g_array_unref);
      m->cache[i] = g_hash_table_new_full (g_int64_hash, g_int64_equal, g_free,
                                           (GDestroyNotify) hour_cache_free);
    }
  m->data_version = -1;

  if (!g_file_test (db_path, G_FILE_TEST_IS_REGULAR))
    {
      g_set_error (error, FT_MDS_ERROR, FT_MDS_ERROR_OPEN, "%s: no such store file", db_path);
      return NULL;
    }
  if (sqlite3_open_v2 (db_path, &m->db, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK)
    {
      g_set_error (error, FT_MDS_ERROR, FT_MDS_ERROR_OPEN, "%s: cannot open: %s", db_path,
                   m->db ? sqlite3_errmsg (m->db) : "out of memory");
      return NULL;
    }
  sqlite3_busy_timeout (m->db, 2000);
  gint64 app_id = 0, version = 0;
  if (!query_int64 (m, "PRAGMA application_id", &app_id) || app_id != FT_OUTPUT_STORE_APP_ID
      || !query_int64 (m, "PRAGMA user_version", &version) || version < 5)
    {
      g_set_error (error, FT_MDS_ERROR, FT_MDS_ERROR_OPEN,
                   "%s is not a Fleet Twin store of schema version 5 or later "
                   "(give a run or live database)", db_path);
      return NULL;
    }
  if (sqlite3_prepare_v2 (m->db, "SELECT seq, t, kind, vehicle, ref, a, b, amount, lat, lon"
                          " FROM events WHERE seq > ? ORDER BY seq LIMIT 20000", -1,
                          &m->st_events, NULL) != SQLITE_OK
      || sqlite3_prepare_v2 (m->db, "SELECT trip_id, unlocked_at, ended_at, start_lat, start_lon,"
                             " end_lat, end_lon, distance_m, price_minor, paused_ms, vehicle"
                             " FROM bookings WHERE id = ?", -1, &m->st_trip, NULL) != SQLITE_OK
      || sqlite3_prepare_v2 (m->db, "SELECT idx, device_id, kind FROM vehicles WHERE idx >= ?"
                             " ORDER BY idx", -1, &m->st_vehicles, NULL) != SQLITE_OK)
    {
      sql_fail (m, error, "preparing the MDS queries");
      return NULL;
    }
  if (cfg->time_origin_ms != FT_MDS_ORIGIN_AUTO)
    m->origin = cfg->time_origin_ms;
  else
    {
      gint64 origin = 0, max_t = 0;
      sqlite3_stmt *st = NULL;
      gboolean found = FALSE;
      if (sqlite3_prepare_v2 (m->db, "SELECT value FROM meta WHERE key = 'time_origin_ms'", -1, &st,
                              NULL) == SQLITE_OK && sqlite3_step (st) == SQLITE_ROW)
        {
          const char *v = (const char *) sqlite3_column_text (st, 0);
          char *end = NULL;
          origin = v ? g_ascii_strtoll (v, &end, 10) : 0;
          found = v && end && *end == '\0' && end != v;
        }
      sqlite3_finalize (st);
      if (!found)
        {
          gint64 n = 0;
          query_int64 (m, "SELECT coalesce(max(t), 0) FROM events", &max_t);
          query_int64 (m, "SELECT count(*) FROM events", &n);
          origin = origin_for (max_t);
          /* A store without events yet (a live database just created):
           * its first event decides. */
          m->origin_pending = n == 0;
        }
      m->origin = origin;
    }
  if (!ft_mds_refresh (m, NULL, error))
    return NULL;
  return g_steal_pointer (&m);
}

gint64
ft_mds_time_origin (FtMds *m)
{
  return m->origin;
}

static VehInfo *
veh (FtMds *m, gint32 v)
{
  if (v < 0)
    return NULL;
  if ((guint) v >= m->vehicles->len)
    {
      guint old = m->vehicles->len;
      g_array_set_size (m->vehicles, (guint) v + 1);
      for (guint i = old; i < m->vehicles->len; i++)
        {
          VehInfo *vi = &g_array_index (m->vehicles, VehInfo, i);
          vi->cur_booking = vi->last_trip = vi->last_event = vi->last_telem = -1;
          vi->battery = -1;
        }
    }
  return &g_array_index (m->vehicles, VehInfo, v);
}

static void
index_hour (FtMds *m, guint which, gint64 t, guint32 idx)
{
  gint64 hour = t - (((t + m->origin) % FT_MDS_HOUR) + FT_MDS_HOUR) % FT_MDS_HOUR;
  GArray *a = g_hash_table_lookup (m->hours[which], &hour);
  if (a == NULL)
    {
      a = g_array_new (FALSE, FALSE, sizeof (guint32));
      g_hash_table_insert (m->hours[which], g_memdup2 (&hour, sizeof hour), a);
    }
  g_array_append_val (a, idx);
}

static void
take_event (FtMds *m, gint64 seq, gint64 t, int kind, gint32 v, gint64 ref, gint64 a, gint64 b,
            gint64 amount, double lat, double lon)
{
  VehInfo *vi = veh (m, v);
  Rec r = { seq, t, -1, v, 0, 0, -1, lat, lon };

  switch (kind)
    {
    case FT_EV_VEHICLE_STATE:
      if (vi == NULL || a < 0 || a >= FT_N_VEVS || b < 0 || b >= FT_N_STATES)
        return;
      r.evtype = (guint8) a;
      r.state = (guint8) b;
      r.booking = vi->cur_booking;
      r.battery = vi->battery;
      /* The state event carries no position: the vehicle's last known one. */
      if (vi->last_telem >= 0)
        {
          const Rec *p = &g_array_index (m->telemetry, Rec, vi->last_telem);
          r.lat = p->lat;
          r.lon = p->lon;
        }
      else if (vi->last_event >= 0)
        {
          const Rec *p = &g_array_index (m->events, Rec, vi->last_event);
          r.lat = p->lat;
          r.lon = p->lon;
        }
      vi->last_event = m->events->len;
      g_array_append_val (m->events, r);
      index_hour (m, FT_MDS_EVENTS, t, m->events->len - 1);
      m->stats.n_mds_events++;
      break;
    case FT_EV_VEHICLE_ADDED:
      if (vi == NULL)
        return;
      r.evtype = FT_VEV_PROVIDER_DROP_OFF;
      r.state = FT_STATE_AVAILABLE;
      vi->last_event = m->events->len;
      g_array_append_val (m->events, r);
      index_hour (m, FT_MDS_EVENTS, t, m->events->len - 1);
      m->stats.n_mds_events++;
      break;
    case FT_EV_TELEMETRY:
    case FT_EV_VEHICLE_MOVED:
      if (vi == NULL)
        return;
      if (kind == FT_EV_TELEMETRY && amount >= 0 && amount <= 10000)
        vi->battery = (gint16) (amount / 100);
      r.battery = vi->battery;
      r.booking = vi->cur_booking;
      vi->last_telem = m->telemetry->len;
      g_array_append_val (m->telemetry, r);
      index_hour (m, FT_MDS_TELEMETRY, t, m->telemetry->len - 1);
      m->stats.n_telemetry++;
      break;
    case FT_EV_BOOKING_RESERVED:
    case FT_EV_BOOKING_UNLOCKED:
      if (vi == NULL)
        return;
      vi->cur_booking = ref;
      /* The state change (reservation_start, trip_start) is logged just
       * before the booking event: give it its trip. */
      if (vi->last_event >= 0)
        {
          Rec *p = &g_array_index (m->events, Rec, vi->last_event);
          if (p->booking < 0 && p->t == t)
            {
              gint64 hour = p->t - (((p->t + m->origin) % FT_MDS_HOUR) + FT_MDS_HOUR) % FT_MDS_HOUR;
              p->booking = ref;
              g_hash_table_remove (m->cache[FT_MDS_EVENTS], &hour);
            }
        }
      break;
    case FT_EV_BOOKING_ENDED:
      if (vi == NULL)
        return;
      {
        TripRec tr = { ref, t };
        g_array_append_val (m->trips, tr);
        index_hour (m, FT_MDS_TRIPS, t, m->trips->len - 1);
        m->stats.n_trips++;
        m->stats.revenue_minor += amount;
        vi->last_trip = MAX (vi->last_trip, ref);
        /* The trip's end also places the vehicle: a telemetry point. */
        r.booking = ref;
        r.battery = vi->battery;
        vi->last_telem = m->telemetry->len;
        g_array_append_val (m->telemetry, r);
        index_hour (m, FT_MDS_TELEMETRY, t, m->telemetry->len - 1);
        m->stats.n_telemetry++;
      }
      vi->cur_booking = -1;
      break;
    case FT_EV_BOOKING_CANCELLED:
    case FT_EV_BOOKING_EXPIRED:
      if (vi)
        vi->cur_booking = -1;
      break;
    default:
      break;
    }
}

gboolean
ft_mds_refresh (FtMds *m, gboolean *changed, GError **error)
{
  g_return_val_if_fail (m != NULL, FALSE);
  gint64 dv = 0;
  if (changed)
    *changed = FALSE;
  if (!query_int64 (m, "PRAGMA data_version", &dv))
    return sql_fail (m, error, "reading the data version");
  if (dv == m->data_version)
    return TRUE;
  m->data_version = dv;

  /* One read transaction, so vehicles and events agree. */
  if (sqlite3_exec (m->db, "BEGIN", NULL, NULL, NULL) != SQLITE_OK)
    return sql_fail (m, error, "starting a read");
  sqlite3_reset (m->st_vehicles);
  sqlite3_bind_int64 (m->st_vehicles, 1, m->stats.n_vehicles);
  int rc;
  while ((rc = sqlite3_step (m->st_vehicles)) == SQLITE_ROW)
    {
      gint64 idx = sqlite3_column_int64 (m->st_vehicles, 0);
      const char *dev = (const char *) sqlite3_column_text (m->st_vehicles, 1);
      if (idx < 0 || idx > G_MAXINT32)
        continue;
      VehInfo *vi = veh (m, (gint32) idx);
      g_strlcpy (vi->device_id, dev ? dev : "", sizeof vi->device_id);
      vi->kind = (guint8) CLAMP (sqlite3_column_int (m->st_vehicles, 2), 0, FT_N_KINDS - 1);
      m->stats.n_vehicles = MAX (m->stats.n_vehicles, (guint) idx + 1);
    }
  if (rc != SQLITE_DONE)
    {
      sqlite3_exec (m->db, "ROLLBACK", NULL, NULL, NULL);
      return sql_fail (m, error, "reading vehicles");
    }
  guint64 before = m->stats.n_events;
  for (;;)
    {
      guint n = 0;
      sqlite3_reset (m->st_events);
      sqlite3_bind_int64 (m->st_events, 1, (sqlite3_int64) m->last_seq);
      while ((rc = sqlite3_step (m->st_events)) == SQLITE_ROW)
        {
          sqlite3_stmt *st = m->st_events;
          gint64 seq = sqlite3_column_int64 (st, 0), t = sqlite3_column_int64 (st, 1);
          if (m->origin_pending)
            {
              m->origin = origin_for (t);
              m->origin_pending = FALSE;
            }
          take_event (m, seq, t, sqlite3_column_int (st, 2),
                      (gint32) CLAMP (sqlite3_column_int64 (st, 3), -1, G_MAXINT32),
                      sqlite3_column_int64 (st, 4), sqlite3_column_int64 (st, 5),
                      sqlite3_column_int64 (st, 6), sqlite3_column_int64 (st, 7),
                      sqlite3_column_double (st, 8), sqlite3_column_double (st, 9));
          if (!m->any || t < m->first_t)
            m->first_t = t;
          if (!m->any || t > m->newest_t)
            m->newest_t = t;
          m->any = TRUE;
          m->last_seq = (guint64) seq;
          m->stats.n_events++;
          n++;
        }
      if (rc != SQLITE_DONE)
        {
          sqlite3_exec (m->db, "ROLLBACK", NULL, NULL, NULL);
          return sql_fail (m, error, "reading events");
        }
      if (n < 20000)
        break;
    }
  sqlite3_exec (m->db, "COMMIT", NULL, NULL, NULL);
  if (m->stats.n_events != before)
    m->stats.n_refreshes++;
  if (changed)
    *changed = m->stats.n_events != before;
  return TRUE;
}

void
ft_mds_stats (FtMds *m, FtMdsStats *out)
{
  *out = m->stats;
  out->first_ms = m->any ? m->first_t + m->origin : 0;
  out->newest_ms = m->any ? m->newest_t + m->origin : 0;
}

gboolean
ft_mds_count_states (FtMds *m, guint counts[FT_N_STATES], GError **error)
{
  sqlite3_stmt *st = NULL;
  memset (counts, 0, sizeof (guint) * FT_N_STATES);
  if (sqlite3_prepare_v2 (m->db, "SELECT state, count(*) FROM vehicle_state GROUP BY state", -1, &st,
                          NULL) != SQLITE_OK)
    return sql_fail (m, error, "counting vehicle states");
  while (sqlite3_step (st) == SQLITE_ROW)
    {
      int s = sqlite3_column_int (st, 0);
      if (s >= 0 && s < FT_N_STATES)
        counts[s] = (guint) sqlite3_column_int64 (st, 1);
    }
  sqlite3_finalize (st);
  return TRUE;
}

/* ---- hours ------------------------------------------------------------- */

gboolean
ft_mds_parse_hour (const char *text, gint64 *hour_ms)
{
  int y, mo, d, h;
  char tail;
  if (text == NULL || strlen (text) != 13 || text[4] != '-' || text[7] != '-' || text[10] != 'T')
    return FALSE;
  for (int i = 0; i < 13; i++)
    if (i != 4 && i != 7 && i != 10 && !g_ascii_isdigit (text[i]))
      return FALSE;
  if (sscanf (text, "%4d-%2d-%2dT%2d%c", &y, &mo, &d, &h, &tail) != 4)
    return FALSE;
  if (y < 1970 || mo < 1 || mo > 12 || d < 1 || h > 23 || d > g_date_get_days_in_month (mo, y))
    return FALSE;
  g_autoptr(GDateTime) dt = g_date_time_new_utc (y, mo, d, h, 0, 0);
  if (dt == NULL)
    return FALSE;
  *hour_ms = g_date_time_to_unix (dt) * 1000;
  return TRUE;
}

char *
ft_mds_format_hour (gint64 hour_ms)
{
  g_autoptr(GDateTime) dt = g_date_time_new_from_unix_utc (hour_ms / 1000);
  return dt ? g_date_time_format (dt, "%Y-%m-%dT%H") : g_strdup ("?");
}

static gint64
hour_of (FtMds *m, gint64 t_stored)
{
  gint64 e = t_stored + m->origin;
  return e - ((e % FT_MDS_HOUR) + FT_MDS_HOUR) % FT_MDS_HOUR;
}

gboolean
ft_mds_hours (FtMds *m, gint64 *first_hour_ms, gint64 *last_hour_ms)
{
  if (!m->any)
    return FALSE;
  *first_hour_ms = hour_of (m, m->first_t);
  *last_hour_ms = hour_of (m, m->newest_t);
  return TRUE;
}

gboolean
ft_mds_check_hour (FtMds *m, gint64 hour_ms, GError **error)
{
  gint64 first, last;
  if (!ft_mds_hours (m, &first, &last))
    {
      g_set_error (error, FT_MDS_ERROR, FT_MDS_ERROR_RANGE, "the store holds no events yet");
      return FALSE;
    }
  if (hour_ms < first || hour_ms > last)
    {
      g_autofree char *h = ft_mds_format_hour (hour_ms), *f = ft_mds_format_hour (first),
                      *l = ft_mds_format_hour (last);
      g_set_error (error, FT_MDS_ERROR, FT_MDS_ERROR_RANGE,
                   "hour %s is outside the data, which covers %s to %s (UTC)", h, f, l);
      return FALSE;
    }
  return TRUE;
}

/* ---- documents ---------------------------------------------------------- */

const char *
ft_mds_kind_key (FtMdsKind kind)
{
  static const char *const keys[] = { "trips", "events", "telemetry", "vehicles", "vehicles_status" };
  g_return_val_if_fail (kind < FT_MDS_N_KINDS, "?");
  return keys[kind];
}

/* A UUID that names one record of this provider, stable across reads. */
static void
derived_uuid (FtMds *m, const char *what, gint64 n, char out[37])
{
  g_autofree char *msg = g_strdup_printf ("%s/%s/%" G_GINT64_FORMAT, m->provider_id, what, n);
  guint8 digest[32];
  gsize len = sizeof digest;
  g_autoptr(GChecksum) ck = g_checksum_new (G_CHECKSUM_SHA256);
  g_checksum_update (ck, (const guchar *) msg, -1);
  g_checksum_get_digest (ck, digest, &len);
  guint64 hi = 0, lo = 0;
  for (int i = 0; i < 8; i++)
    {
      hi = (hi << 8) | digest[i];
      lo = (lo << 8) | digest[8 + i];
    }
  ft_uuid_from_words (hi, lo, out);
}

/* Documents are written straight into a GString: a page of a thousand
 * trips through JsonBuilder nodes cost more in allocation than everything
 * else in a request. Members end with ','; closing a container takes the
 * last one back. */
static void
j_close (GString *o, char c)
{
  if (o->len > 0 && o->str[o->len - 1] == ',')
    o->str[o->len - 1] = c;
  else
    g_string_append_c (o, c);
  g_string_append_c (o, ',');
}

static void
j_escaped (GString *o, const char *v)
{
  g_autofree char *valid = g_utf8_validate (v, -1, NULL) ? NULL : g_utf8_make_valid (v, -1);
  if (valid)
    v = valid;
  g_string_append_c (o, '"');
  for (const guchar *p = (const guchar *) v; *p; p++)
    {
      if (*p == '"' || *p == '\\')
        {
          g_string_append_c (o, '\\');
          g_string_append_c (o, (char) *p);
        }
      else if (*p < 0x20)
        g_string_append_printf (o, "\\u%04x", *p);
      else
        g_string_append_c (o, (char) *p);
    }
  g_string_append_c (o, '"');
}

static void
j_key (GString *o, const char *key)
{
  g_string_append_c (o, '"');
  g_string_append (o, key);
  g_string_append (o, "\":");
}

static void
add_str (GString *o, const char *key, const char *v)
{
  j_key (o, key);
  j_escaped (o, v);
  g_string_append_c (o, ',');
}

static void
add_int (GString *o, const char *key, gint64 v)
{
  j_key (o, key);
  g_string_append_printf (o, "%" G_GINT64_FORMAT ",", v);
}

static void
add_raw (GString *o, const char *key, const char *json)
{
  j_key (o, key);
  g_string_append (o, json);
  g_string_append_c (o, ',');
}

static void
add_gps (GString *o, const char *key, double lat, double lon)
{
  char a[G_ASCII_DTOSTR_BUF_SIZE], b[G_ASCII_DTOSTR_BUF_SIZE];
  if (!isfinite (lat) || !isfinite (lon))
    lat = lon = 0;
  j_key (o, key);
  g_string_append_printf (o, "{\"lat\":%s,\"lng\":%s},",
                          g_ascii_formatd (a, sizeof a, "%.6f", CLAMP (lat, -90, 90)),
                          g_ascii_formatd (b, sizeof b, "%.6f", CLAMP (lon, -180, 180)));
}

/* The booking's trip id, or FALSE (no trip yet: a reservation). */
static gboolean
trip_id_of (FtMds *m, gint64 booking, char out[37])
{
  gboolean ok = FALSE;
  if (booking < 0)
    return FALSE;
  sqlite3_reset (m->st_trip);
  sqlite3_bind_int64 (m->st_trip, 1, booking);
  if (sqlite3_step (m->st_trip) == SQLITE_ROW)
    {
      const char *id = (const char *) sqlite3_column_text (m->st_trip, 0);
      if (id && ft_uuid_valid (id))
        {
          g_strlcpy (out, id, 37);
          ok = TRUE;
        }
    }
  sqlite3_reset (m->st_trip);
  return ok;
}

static const char *
device_of (FtMds *m, gint32 v)
{
  if (v < 0 || (guint) v >= m->vehicles->len)
    return NULL;
  const char *d = g_array_index (m->vehicles, VehInfo, v).device_id;
  return ft_uuid_valid (d) ? d : NULL;
}

static gboolean
is_trip_event (guint8 e)
{
  return e == FT_VEV_TRIP_START || e == FT_VEV_TRIP_END || e == FT_VEV_TRIP_CANCEL
         || e == FT_VEV_TRIP_ENTER_JURISDICTION || e == FT_VEV_TRIP_LEAVE_JURISDICTION;
}

/* MDS 2.0 micromobility allows each event type only with some states;
 * Fleet Twin's own pause/resume and maintenance_end have no MDS
 * micromobility pair and are published as "unspecified". */
static const char *
mds_event_type (guint8 evtype, guint8 state)
{
  static const struct { guint8 state; guint8 ev; } allowed[] = {
    { FT_STATE_REMOVED, FT_VEV_AGENCY_PICK_UP }, { FT_STATE_REMOVED, FT_VEV_COMMS_RESTORED },
    { FT_STATE_REMOVED, FT_VEV_COMPLIANCE_PICK_UP }, { FT_STATE_REMOVED, FT_VEV_DECOMMISSIONED },
    { FT_STATE_REMOVED, FT_VEV_LOCATED }, { FT_STATE_REMOVED, FT_VEV_MAINTENANCE_PICK_UP },
    { FT_STATE_REMOVED, FT_VEV_REBALANCE_PICK_UP },
    { FT_STATE_AVAILABLE, FT_VEV_AGENCY_DROP_OFF }, { FT_STATE_AVAILABLE, FT_VEV_BATTERY_CHARGED },
    { FT_STATE_AVAILABLE, FT_VEV_COMMS_RESTORED }, { FT_STATE_AVAILABLE, FT_VEV_LOCATED },
    { FT_STATE_AVAILABLE, FT_VEV_MAINTENANCE }, { FT_STATE_AVAILABLE, FT_VEV_ON_HOURS },
    { FT_STATE_AVAILABLE, FT_VEV_PROVIDER_DROP_OFF }, { FT_STATE_AVAILABLE, FT_VEV_RESERVATION_CANCEL },
    { FT_STATE_AVAILABLE, FT_VEV_SYSTEM_RESUME }, { FT_STATE_AVAILABLE, FT_VEV_TRIP_CANCEL },
    { FT_STATE_AVAILABLE, FT_VEV_TRIP_END },
    { FT_STATE_NON_OPERATIONAL, FT_VEV_BATTERY_LOW }, { FT_STATE_NON_OPERATIONAL, FT_VEV_COMMS_RESTORED },
    { FT_STATE_NON_OPERATIONAL, FT_VEV_LOCATED }, { FT_STATE_NON_OPERATIONAL, FT_VEV_MAINTENANCE },
    { FT_STATE_NON_OPERATIONAL, FT_VEV_OFF_HOURS }, { FT_STATE_NON_OPERATIONAL, FT_VEV_SYSTEM_SUSPEND },
    { FT_STATE_RESERVED, FT_VEV_COMMS_RESTORED }, { FT_STATE_RESERVED, FT_VEV_LOCATED },
    { FT_STATE_RESERVED, FT_VEV_RESERVATION_START },
    { FT_STATE_ON_TRIP, FT_VEV_CHANGED_GEOGRAPHIES }, { FT_STATE_ON_TRIP, FT_VEV_COMMS_RESTORED },
    { FT_STATE_ON_TRIP, FT_VEV_LOCATED }, { FT_STATE_ON_TRIP, FT_VEV_TRIP_ENTER_JURISDICTION },
    { FT_STATE_ON_TRIP, FT_VEV_TRIP_START },
    { FT_STATE_ELSEWHERE, FT_VEV_COMMS_RESTORED }, { FT_STATE_ELSEWHERE, FT_VEV_LOCATED },
    { FT_STATE_ELSEWHERE, FT_VEV_TRIP_LEAVE_JURISDICTION },
  };
  for (guint i = 0; i < G_N_ELEMENTS (allowed); i++)
    if (allowed[i].state == state && allowed[i].ev == evtype)
      return ft_vehicle_event_name ((FtVehicleEventType) evtype);
  return "unspecified";
}

static const char *
mds_state (guint8 state)
{
  /* Fleet Twin's "unknown" (comms lost) is MDS's non_contactable. */
  return state == FT_STATE_UNKNOWN ? "non_contactable" : ft_vehicle_state_name ((FtVehicleState) state);
}

static void
add_event (FtMds *m, GString *o, const Rec *r)
{
  char id[37], trip[37];
  const char *dev = device_of (m, r->vehicle);
  const char *evname = r->state == FT_STATE_UNKNOWN ? "comms_lost" : mds_event_type (r->evtype, r->state);
  gboolean has_trip = trip_id_of (m, r->booking, trip);

  /* A trip event whose trip is not known cannot be stated (MDS requires
   * its trip_ids): it goes out as "unspecified". */
  if (is_trip_event (r->evtype) && !has_trip)
    evname = "unspecified";
  derived_uuid (m, "event", r->seq, id);
  g_string_append_c (o, '{');
  add_str (o, "provider_id", m->provider_id);
  add_str (o, "device_id", dev ? dev : "00000000-0000-0000-0000-000000000000");
  add_str (o, "event_id", id);
  add_str (o, "vehicle_state", mds_state (r->state));
  j_key (o, "event_types");
  g_string_append_printf (o, "[\"%s\"],", evname);
  add_int (o, "timestamp", r->t + m->origin);
  add_gps (o, "location", r->lat, r->lon);
  if (r->battery >= 0)
    add_int (o, "battery_percent", r->battery);
  if (has_trip && (r->state == FT_STATE_ON_TRIP || is_trip_event (r->evtype)))
    {
      j_key (o, "trip_ids");
      g_string_append_printf (o, "[\"%s\"],", trip);
    }
  j_close (o, '}');
}

static void
add_telemetry (FtMds *m, GString *o, const Rec *r, const char *what, gint64 n)
{
  char id[37], trip[37];
  const char *dev = device_of (m, r->vehicle);
  gboolean has_trip = trip_id_of (m, r->booking, trip);

  derived_uuid (m, what, n, id);
  g_string_append_c (o, '{');
  add_str (o, "provider_id", m->provider_id);
  add_str (o, "device_id", dev ? dev : "00000000-0000-0000-0000-000000000000");
  add_str (o, "telemetry_id", id);
  add_int (o, "timestamp", r->t + m->origin);
  j_key (o, "trip_ids");
  if (has_trip)
    g_string_append_printf (o, "[\"%s\"],", trip);
  else
    g_string_append (o, "null,");
  add_raw (o, "journey_id", "null");
  add_gps (o, "location", r->lat, r->lon);
  if (r->battery >= 0)
    add_int (o, "battery_percent", r->battery);
  j_close (o, '}');
}

static gboolean
add_trip (FtMds *m, GString *o, gint64 booking)
{
  sqlite3_stmt *st = m->st_trip;
  sqlite3_reset (st);
  sqlite3_bind_int64 (st, 1, booking);
  if (sqlite3_step (st) != SQLITE_ROW)
    {
      sqlite3_reset (st);
      return FALSE;
    }
  const char *trip = (const char *) sqlite3_column_text (st, 0);
  gint64 start = sqlite3_column_int64 (st, 1), end = sqlite3_column_int64 (st, 2);
  gint64 vehicle = sqlite3_column_int64 (st, 10);
  const char *dev = vehicle >= 0 && vehicle <= G_MAXINT32 ? device_of (m, (gint32) vehicle) : NULL;
  if (trip == NULL || !ft_uuid_valid (trip) || dev == NULL || start < 0 || end < start)
    {
      sqlite3_reset (st);
      return FALSE;
    }
  g_string_append_c (o, '{');
  add_str (o, "provider_id", m->provider_id);
  add_str (o, "device_id", dev);
  add_str (o, "trip_id", trip);
  add_raw (o, "trip_type", "[\"rider\"]");
  add_int (o, "start_time", start + m->origin);
  add_int (o, "end_time", end + m->origin);
  add_gps (o, "start_location", sqlite3_column_double (st, 3), sqlite3_column_double (st, 4));
  add_gps (o, "end_location", sqlite3_column_double (st, 5), sqlite3_column_double (st, 6));
  add_int (o, "duration", (end - start) / 1000);
  double d = sqlite3_column_double (st, 7);
  add_int (o, "distance", isfinite (d) && d > 0 && d < 1e12 ? (gint64) llround (d) : 0);
  add_int (o, "actual_cost", MAX (0, sqlite3_column_int64 (st, 8)));
  add_str (o, "currency", m->currency);
  j_close (o, '}');
  sqlite3_reset (st);
  return TRUE;
}

static void
add_vehicle (FtMds *m, GString *o, guint v)
{
  const VehInfo *vi = &g_array_index (m->vehicles, VehInfo, v);
  static const char *const types[] = { "scooter_standing", "bicycle", "moped" };
  g_string_append_c (o, '{');
  add_str (o, "provider_id", m->provider_id);
  add_str (o, "device_id", vi->device_id);
  g_autofree char *name = g_strdup_printf ("FT-%04u", v);
  add_str (o, "vehicle_id", name);
  add_str (o, "vehicle_type", vi->kind < G_N_ELEMENTS (types) ? types[vi->kind] : "other");
  add_raw (o, "propulsion_types", vi->kind == FT_KIND_BIKE ? "[\"electric_assist\"]" : "[\"electric\"]");
  add_int (o, "maximum_speed", (gint64) ft_vehicle_type_default ((FtVehicleKind) vi->kind)->max_speed_kph);
  j_close (o, '}');
}

static void
add_status (FtMds *m, GString *o, guint v)
{
  const VehInfo *vi = &g_array_index (m->vehicles, VehInfo, v);
  g_string_append_c (o, '{');
  add_str (o, "provider_id", m->provider_id);
  add_str (o, "device_id", vi->device_id);
  j_key (o, "last_event");
  const Rec *ev = vi->last_event >= 0 ? &g_array_index (m->events, Rec, vi->last_event) : NULL;
  Rec none = { 0, m->first_t, -1, (gint32) v, FT_VEV_PROVIDER_DROP_OFF, FT_STATE_AVAILABLE, -1, 0, 0 };
  add_event (m, o, ev ? ev : &none);
  j_key (o, "last_telemetry");
  if (vi->last_telem >= 0)
    add_telemetry (m, o, &g_array_index (m->telemetry, Rec, vi->last_telem), "telemetry", vi->last_telem);
  else
    {
      /* No point reported yet: the last event's position stands for one. */
      Rec t = ev ? *ev : none;
      t.booking = ev && ev->state == FT_STATE_ON_TRIP ? ev->booking : -1;
      add_telemetry (m, o, &t, "event-position", t.seq);
    }
  j_close (o, '}');
}

static gboolean
usable_vehicle (FtMds *m, guint v)
{
  return ft_uuid_valid (g_array_index (m->vehicles, VehInfo, v).device_id);
}

/* Appends the page's items (each followed by ','); returns how many. */
static gboolean
page_items (FtMds *m, GString *o, FtMdsKind kind, gint64 hour_ms, gint64 cursor, guint limit, gint64 *next,
            GError **error)
{
  *next = -1;
  if (cursor < 0)
    cursor = 0;
  limit = CLAMP (limit, 1, 10000);
  /* One read transaction for the page: one lock, not one per lookup. */
  gboolean in_tx = sqlite3_exec (m->db, "BEGIN", NULL, NULL, NULL) == SQLITE_OK;
  if (kind == FT_MDS_VEHICLES || kind == FT_MDS_VEHICLES_STATUS)
    {
      guint n = m->stats.n_vehicles, out = 0;
      gint64 i;
      for (i = cursor; i < n && out < limit; i++)
        {
          if (!usable_vehicle (m, (guint) i))
            continue;
          if (kind == FT_MDS_VEHICLES)
            add_vehicle (m, o, (guint) i);
          else
            add_status (m, o, (guint) i);
          out++;
        }
      if (i < n)
        *next = i;
    }
  else
    {
      if (!ft_mds_check_hour (m, hour_ms, error))
        {
          if (in_tx)
            sqlite3_exec (m->db, "COMMIT", NULL, NULL, NULL);
          return FALSE;
        }
      gint64 key = hour_ms - m->origin;
      GArray *idx = g_hash_table_lookup (m->hours[kind], &key);
      guint n = idx ? idx->len : 0, out = 0;
      HourCache *c = g_hash_table_lookup (m->cache[kind], &key);
      if (n > 0 && (c == NULL || c->n_items != n))
        {
          if (c == NULL && g_hash_table_size (m->cache[kind]) >= MAX_CACHED_HOURS)
            g_hash_table_remove_all (m->cache[kind]);
          c = g_new0 (HourCache, 1);
          c->text = g_string_sized_new (n * 420);
          c->ends = g_array_sized_new (FALSE, FALSE, sizeof (guint32), n);
          c->n_items = n;
          for (guint i = 0; i < n; i++)
            {
              guint32 k = g_array_index (idx, guint32, i);
              if (kind == FT_MDS_TRIPS)
                add_trip (m, c->text, g_array_index (m->trips, TripRec, k).booking);
              else if (kind == FT_MDS_EVENTS)
                {
                  const Rec *r = &g_array_index (m->events, Rec, k);
                  if (device_of (m, r->vehicle))
                    add_event (m, c->text, r);
                }
              else
                {
                  const Rec *r = &g_array_index (m->telemetry, Rec, k);
                  if (device_of (m, r->vehicle))
                    add_telemetry (m, c->text, r, "telemetry", k);
                }
              guint32 end = (guint32) c->text->len;
              g_array_append_val (c->ends, end);
            }
          g_hash_table_replace (m->cache[kind], g_memdup2 (&key, sizeof key), c);
        }
      gint64 i;
      guint32 from = 0, to = 0;
      if (c && cursor > 0 && cursor <= n)
        from = to = g_array_index (c->ends, guint32, cursor - 1);
      for (i = cursor; i < n && out < limit; i++)
        {
          guint32 end = g_array_index (c->ends, guint32, i);
          if (end > to)
            out++;     /* a position whose record could not be stated is skipped */
          to = end;
        }
      if (to > from)
        g_string_append_len (o, c->text->str + from, to - from);
      if (i < n)
        *next = i;
    }
  if (in_tx)
    sqlite3_exec (m->db, "COMMIT", NULL, NULL, NULL);
  return TRUE;
}

char *
ft_mds_page (FtMds *m, FtMdsKind kind, gint64 hour_ms, gint64 cursor, guint limit, gint64 *next,
             GError **error)
{
  g_return_val_if_fail (m != NULL && kind < FT_MDS_N_KINDS && next != NULL, NULL);
  GString *o = g_string_new ("[");
  if (!page_items (m, o, kind, hour_ms, cursor, limit, next, error))
    {
      g_string_free (o, TRUE);
      return NULL;
    }
  j_close (o, ']');
  g_string_truncate (o, o->len - 1);
  return g_string_free (o, FALSE);
}

char *
ft_mds_vehicle (FtMds *m, FtMdsKind kind, const char *device_id, GError **error)
{
  g_return_val_if_fail (m != NULL && (kind == FT_MDS_VEHICLES || kind == FT_MDS_VEHICLES_STATUS), NULL);
  if (device_id != NULL && ft_uuid_valid (device_id))
    for (guint v = 0; v < m->stats.n_vehicles && v < m->vehicles->len; v++)
      {
        if (!usable_vehicle (m, v) || g_ascii_strcasecmp (g_array_index (m->vehicles, VehInfo, v).device_id,
                                                          device_id) != 0)
          continue;
        GString *o = g_string_new ("[");
        gboolean in_tx = sqlite3_exec (m->db, "BEGIN", NULL, NULL, NULL) == SQLITE_OK;
        if (kind == FT_MDS_VEHICLES)
          add_vehicle (m, o, v);
        else
          add_status (m, o, v);
        if (in_tx)
          sqlite3_exec (m->db, "COMMIT", NULL, NULL, NULL);
        j_close (o, ']');
        g_string_truncate (o, o->len - 1);
        return g_string_free (o, FALSE);
      }
  g_set_error (error, FT_MDS_ERROR, FT_MDS_ERROR_NOT_FOUND, "no vehicle has device_id %.40s%s",
               device_id ? device_id : "(none)", device_id && strlen (device_id) > 40 ? "…" : "");
  return NULL;
}

char *
ft_mds_recent_events (FtMds *m, gint64 start_ms, gint64 end_ms, gint64 cursor, guint limit, gint64 *next,
                      GError **error)
{
  g_return_val_if_fail (m != NULL && next != NULL, NULL);
  *next = -1;
  if (end_ms <= start_ms)
    {
      g_set_error (error, FT_MDS_ERROR, FT_MDS_ERROR_RANGE,
                   "end_time (%" G_GINT64_FORMAT ") must be after start_time (%" G_GINT64_FORMAT ")",
                   end_ms, start_ms);
      return NULL;
    }
  gint64 now = m->any ? m->newest_t + m->origin : 0;
  if (m->any && start_ms < now - FT_MDS_RECENT_MS)
    {
      gint64 from = now - FT_MDS_RECENT_MS;
      g_autofree char *h = ft_mds_format_hour (from - from % FT_MDS_HOUR);
      g_set_error (error, FT_MDS_ERROR, FT_MDS_ERROR_RANGE,
                   "start_time is more than two weeks before the newest data (%" G_GINT64_FORMAT
                   "); /events/recent serves from %" G_GINT64_FORMAT " on (use /events/historical for "
                   "older hours, e.g. event_time=%s)",
                   now, now - FT_MDS_RECENT_MS, h);
      return NULL;
    }
  if (cursor < 0)
    cursor = 0;
  limit = CLAMP (limit, 1, 10000);
  GString *o = g_string_new ("[");
  gboolean in_tx = sqlite3_exec (m->db, "BEGIN", NULL, NULL, NULL) == SQLITE_OK;
  gint64 seen = 0;
  guint out = 0;
  /* Hours that can hold the window; no data after the newest event. */
  gint64 last = MIN (end_ms - 1, now);
  for (gint64 h = start_ms - (start_ms % FT_MDS_HOUR); m->any && h <= last && *next < 0; h += FT_MDS_HOUR)
    {
      gint64 key = h - m->origin;
      GArray *idx = g_hash_table_lookup (m->hours[FT_MDS_EVENTS], &key);
      for (guint i = 0; idx && i < idx->len; i++)
        {
          const Rec *r = &g_array_index (m->events, Rec, g_array_index (idx, guint32, i));
          gint64 t = r->t + m->origin;
          if (t < start_ms || t >= end_ms || device_of (m, r->vehicle) == NULL)
            continue;
          if (seen++ < cursor)
            continue;
          if (out == limit)
            {
              *next = seen - 1;
              break;
            }
          add_event (m, o, r);
          out++;
        }
    }
  if (in_tx)
    sqlite3_exec (m->db, "COMMIT", NULL, NULL, NULL);
  j_close (o, ']');
  g_string_truncate (o, o->len - 1);
  return g_string_free (o, FALSE);
}

char *
ft_mds_envelope (FtMds *m, FtMdsKind kind, const char *items, const char *next_url)
{
  GString *o = g_string_new ("{");
  add_str (o, "version", FT_MDS_VERSION);
  add_raw (o, ft_mds_kind_key (kind), items);
  j_key (o, "links");
  g_string_append (o, "{\"next\":");
  if (next_url)
    j_escaped (o, next_url);
  else
    g_string_append (o, "null");
  g_string_append (o, "},");
  if (kind == FT_MDS_VEHICLES || kind == FT_MDS_VEHICLES_STATUS)
    {
      add_int (o, "last_updated", MAX (m->any ? m->newest_t + m->origin : 0,
                                       G_GINT64_CONSTANT (1514764800000)));
      add_int (o, "ttl", 0);
    }
  j_close (o, '}');
  g_string_truncate (o, o->len - 1);
  return g_string_free (o, FALSE);
}

char *
ft_mds_error_json (const char *error, const char *description, const char *detail)
{
  GString *o = g_string_new ("{");
  add_str (o, "error", error);
  add_str (o, "error_description", description);
  j_key (o, "error_details");
  g_string_append_c (o, '[');
  j_escaped (o, detail ? detail : description);
  g_string_append (o, "],");
  j_close (o, '}');
  g_string_truncate (o, o->len - 1);
  return g_string_free (o, FALSE);
}

/* ---- GBFS views ---------------------------------------------------------- */

FtGbfsVehicleView *
ft_mds_gbfs_views (FtMds *m, guint *n_out, GError **error)
{
  sqlite3_stmt *st = NULL;
  guint n = m->stats.n_vehicles;
  FtGbfsVehicleView *v = g_new0 (FtGbfsVehicleView, MAX (n, 1));
  guint k = 0;
  if (sqlite3_prepare_v2 (m->db, "SELECT s.idx, s.state, s.lat, s.lon,"
                          " coalesce(p.soc, 0), coalesce(p.capacity_wh * p.health, 0)"
                          " FROM vehicle_state s LEFT JOIN packs p ON p.idx = s.pack AND s.pack >= 0"
                          " ORDER BY s.idx", -1, &st, NULL) != SQLITE_OK)
    {
      g_free (v);
      sql_fail (m, error, "reading vehicle states");
      return NULL;
    }
  while (sqlite3_step (st) == SQLITE_ROW && k < n)
    {
      gint64 idx = sqlite3_column_int64 (st, 0);
      if (idx < 0 || idx >= n || !usable_vehicle (m, (guint) idx))
        continue;
      const VehInfo *vi = &g_array_index (m->vehicles, VehInfo, idx);
      const FtVehicleType *t = ft_vehicle_type_default ((FtVehicleKind) vi->kind);
      double soc = sqlite3_column_double (st, 4), wh = sqlite3_column_double (st, 5);
      v[k].device_id = vi->device_id;
      v[k].trip_epoch = vi->last_trip;
      v[k].kind = (FtVehicleKind) vi->kind;
      v[k].state = (FtVehicleState) CLAMP (sqlite3_column_int (st, 1), 0, FT_N_STATES - 1);
      v[k].pos.lat = sqlite3_column_double (st, 2);
      v[k].pos.lon = sqlite3_column_double (st, 3);
      v[k].soc = soc;
      v[k].range_m = t->wh_per_km > 0 ? soc * wh / t->wh_per_km * 1000.0 : 0;
      k++;
    }
  sqlite3_finalize (st);
  *n_out = k;
  return v;
}

/* ---- export -------------------------------------------------------------- */

static gboolean
write_text (const char *path, const char *text, GError **error)
{
  g_autoptr(GError) e = NULL;
  if (!g_file_set_contents (path, text, -1, &e))
    {
      g_set_error (error, FT_MDS_ERROR, FT_MDS_ERROR_OPEN, "%s: %s", path, e->message);
      return FALSE;
    }
  return TRUE;
}

static gint
cmp_int64 (gconstpointer a, gconstpointer b)
{
  gint64 x = *(const gint64 *) a, y = *(const gint64 *) b;
  return x < y ? -1 : x > y;
}

/* A whole collection (all its pages) as one JSON array. */
static char *
all_items (FtMds *m, FtMdsKind kind, gint64 hour, GError **error)
{
  GString *o = g_string_new ("[");
  gint64 cursor = 0;
  do
    {
      if (!page_items (m, o, kind, hour, cursor, 10000, &cursor, error))
        {
          g_string_free (o, TRUE);
          return NULL;
        }
    }
  while (cursor >= 0);
  j_close (o, ']');
  g_string_truncate (o, o->len - 1);
  return g_string_free (o, FALSE);
}

gboolean
ft_mds_export (FtMds *m, const char *out_dir, gboolean force, guint *n_files, GError **error)
{
  g_autoptr(GError) oerr = NULL;
  g_autoptr(FtOutput) out = ft_output_begin (out_dir, FT_OUTPUT_DIR, ft_output_dir_is_marked, force, &oerr);
  guint files = 0;
  if (out == NULL)
    {
      g_set_error (error, FT_MDS_ERROR, FT_MDS_ERROR_OPEN, "%s", oerr->message);
      return FALSE;
    }
  const char *dir = ft_output_get_path (out);
  for (FtMdsKind kind = 0; kind < FT_MDS_N_KINDS; kind++)
    {
      if (kind == FT_MDS_VEHICLES || kind == FT_MDS_VEHICLES_STATUS)
        {
          g_autofree char *items = all_items (m, kind, 0, error);
          if (items == NULL)
            return FALSE;
          g_autofree char *text = ft_mds_envelope (m, kind, items, NULL);
          g_autofree char *path = g_strdup_printf ("%s/%s.json", dir, ft_mds_kind_key (kind));
          if (!write_text (path, text, error))
            return FALSE;
          files++;
          continue;
        }
      g_autofree char *sub = g_build_filename (dir, ft_mds_kind_key (kind), NULL);
      if (g_mkdir_with_parents (sub, 0755) != 0)
        {
          g_set_error (error, FT_MDS_ERROR, FT_MDS_ERROR_OPEN, "%s: %s", sub, g_strerror (errno));
          return FALSE;
        }
      g_autoptr(GList) keys = g_hash_table_get_keys (m->hours[kind]);
      g_autoptr(GArray) hours = g_array_new (FALSE, FALSE, sizeof (gint64));
      for (GList *l = keys; l; l = l->next)
        {
          gint64 h = *(gint64 *) l->data + m->origin;
          g_array_append_val (hours, h);
        }
      g_array_sort (hours, cmp_int64);
      for (guint i = 0; i < hours->len; i++)
        {
          gint64 h = g_array_index (hours, gint64, i);
          g_autofree char *items = all_items (m, kind, h, error);
          if (items == NULL)
            return FALSE;
          g_autofree char *text = ft_mds_envelope (m, kind, items, NULL);
          g_autofree char *name = ft_mds_format_hour (h);
          g_autofree char *path = g_strdup_printf ("%s/%s.json", sub, name);
          if (!write_text (path, text, error))
            return FALSE;
          files++;
        }
    }
  if (!ft_output_commit (g_steal_pointer (&out), &oerr))
    {
      g_set_error (error, FT_MDS_ERROR, FT_MDS_ERROR_OPEN, "%s", oerr->message);
      return FALSE;
    }
  if (n_files)
    *n_files = files;
  return TRUE;
}
