/* ft-analytics-export.c — reading the aggregates: each exportable table is
 * one SELECT over the an_* rows (ratios computed here, never stored), written
 * as CSV or JSON, and the KPI set, computed from the aggregates only so that
 * a live database and a simulated run yield the same keys.
 */
#include "ft-analytics-private.h"

#include <math.h>
#include <string.h>

#define HOUR_MS ((gint64) 3600000)
#define DAY_MS  (24 * HOUR_MS)

typedef struct {
  const char *name;
  const char *sql;        /* ?1, ?2: window from, to (ms, half open) */
  gboolean    windowed;
  const char *about;
} TableDef;

/* Time of a local day / week start: t = day * DAY + monday_ms - offset. */
#define DAY_START "(day * 86400000 + (SELECT value FROM an_meta WHERE key = 'monday_ms')" \
                  " - (SELECT value FROM an_meta WHERE key = 'utc_offset_min') * 60000)"

static const TableDef tables[] = {
  { "zone_hour",
    "SELECT h.zone, coalesce(z.name, 'outside') AS zone_name, h.hour,"
    " h.hour * 3600000 AS hour_start_ms, requests, served,"
    " lost_no_vehicle + lost_low_battery + lost_price + lost_refused AS lost,"
    " lost_no_vehicle, lost_low_battery, lost_price, lost_refused, trips_ended, revenue_minor,"
    " present_ms / 3600000.0 AS vehicle_hours,"
    " CASE WHEN present_ms > 0 THEN on_trip_ms * 1.0 / present_ms END AS utilisation,"
    " CASE WHEN present_ms > 0 THEN available_ms * 1.0 / present_ms END AS availability,"
    " CASE WHEN present_ms > 0 THEN battery_low_ms * 1.0 / present_ms END AS battery_low_share,"
    " CASE WHEN soc_n > 0 THEN soc_sum / 10000.0 / soc_n END AS mean_soc, soc_n AS soc_readings"
    " FROM an_zone_hour h LEFT JOIN an_zone z ON z.zone = h.zone"
    " WHERE h.hour * 3600000 >= ?1 AND h.hour * 3600000 < ?2 ORDER BY h.hour, h.zone",
    TRUE, "requests, served, lost by reason, revenue, utilisation, availability, battery per zone and hour" },
  { "vehicle_day",
    "SELECT d.vehicle, coalesce(v.name, '') AS vehicle_name, d.day, " DAY_START " AS day_start_ms,"
    " trips, metres / 1000.0 AS km, trip_s / 60.0 AS trip_minutes, revenue_minor,"
    " on_trip_ms / 3600000.0 AS on_trip_hours, downtime_ms / 3600000.0 AS downtime_hours,"
    " fault_ms / 3600000.0 AS fault_hours, swaps, faults"
    " FROM an_vehicle_day d LEFT JOIN vehicles v ON v.idx = d.vehicle"
    " WHERE " DAY_START " >= ?1 AND " DAY_START " < ?2 ORDER BY d.day, d.vehicle",
    TRUE, "trips, km, revenue, downtime, swaps, faults per vehicle and day" },
  { "trip_bins",
    "SELECT metric, bin, n FROM an_trip_bins ORDER BY metric, bin",
    FALSE, "trip distance (250 m), duration (min) and state-of-charge (5 %) histograms" },
  { "cohorts",
    "WITH c AS (SELECT first_week, count(*) AS n FROM an_rider GROUP BY first_week)"
    " SELECT r.first_week AS cohort_week, w.week, w.week - r.first_week AS weeks_since_first,"
    " c.n AS cohort_riders, count(*) AS active_riders, sum(w.trips) AS trips,"
    " count(*) * 1.0 / c.n AS retention"
    " FROM an_rider_week w JOIN an_rider r ON r.rider = w.rider JOIN c ON c.first_week = r.first_week"
    " GROUP BY r.first_week, w.week ORDER BY r.first_week, w.week",
    FALSE, "riders by week of first trip: active riders and retention per later week" },
  { "riders",
    "SELECT w.week, count(*) AS active_riders, sum(r.first_week = w.week) AS new_riders,"
    " sum(r.first_week < w.week) AS returning_riders, sum(w.trips) AS trips,"
    " sum(w.trips) * 1.0 / count(*) AS trips_per_rider"
    " FROM an_rider_week w JOIN an_rider r ON r.rider = w.rider GROUP BY w.week ORDER BY w.week",
    FALSE, "new and returning riders and trips per rider by week" },
  { "staff_shift",
    "SELECT s.staff, coalesce(a.id, '') AS staff_id, coalesce(a.display_name, '') AS staff_name,"
    " shift_start AS shift_start_ms,"
    " last_t AS shift_end_ms, (last_t - shift_start) / 60000.0 AS minutes, tasks, swaps,"
    " rebalances, repairs, deploys, metres / 1000.0 AS km"
    " FROM an_staff_shift s LEFT JOIN accounts a ON a.idx = s.staff"
    " WHERE shift_start >= ?1 AND shift_start < ?2 ORDER BY shift_start, s.staff",
    TRUE, "tasks, km and minutes per staff member and shift" },
  { "kpis", NULL, FALSE, "the KPI set" },
};

const char *const *
ft_analytics_table_names (void)
{
  static const char *names[G_N_ELEMENTS (tables) + 1];
  for (guint i = 0; i < G_N_ELEMENTS (tables); i++)
    names[i] = tables[i].name;
  return names;
}

gboolean
ft_analytics_format_from_name (const char *name, FtAnalyticsFormat *out)
{
  if (g_strcmp0 (name, "csv") == 0)
    *out = FT_ANALYTICS_CSV;
  else if (g_strcmp0 (name, "json") == 0)
    *out = FT_ANALYTICS_JSON;
  else
    return FALSE;
  return TRUE;
}

static void
append_double (GString *out, double v, gboolean json)
{
  char buf[G_ASCII_DTOSTR_BUF_SIZE];
  if (!isfinite (v))
    g_string_append (out, json ? "null" : "");
  else
    g_string_append (out, g_ascii_formatd (buf, sizeof buf, "%.10g", v));
}

static void
append_text (GString *out, const char *s, gboolean json)
{
  if (json)
    {
      g_string_append_c (out, '"');
      for (const unsigned char *p = (const unsigned char *) s; *p; p++)
        {
          if (*p == '"' || *p == '\\')
            g_string_append_printf (out, "\\%c", *p);
          else if (*p < 0x20)
            g_string_append_printf (out, "\\u%04x", *p);
          else
            g_string_append_c (out, (char) *p);
        }
      g_string_append_c (out, '"');
    }
  else if (strpbrk (s, ",\"\r\n") != NULL)
    {
      g_string_append_c (out, '"');
      for (const char *p = s; *p; p++)
        {
          if (*p == '"')
            g_string_append_c (out, '"');
          g_string_append_c (out, *p);
        }
      g_string_append_c (out, '"');
    }
  else
    g_string_append (out, s);
}

static gboolean
write_rows (sqlite3 *db, sqlite3_stmt *st, FtAnalyticsFormat fmt, GString *out, GError **error)
{
  gboolean json = fmt == FT_ANALYTICS_JSON;
  int nc = sqlite3_column_count (st), rc;
  guint rows = 0;
  if (json)
    g_string_append (out, "[");
  else
    {
      for (int c = 0; c < nc; c++)
        {
          if (c)
            g_string_append_c (out, ',');
          append_text (out, sqlite3_column_name (st, c), FALSE);
        }
      g_string_append_c (out, '\n');
    }
  while ((rc = sqlite3_step (st)) == SQLITE_ROW)
    {
      if (json)
        g_string_append (out, rows ? ",\n {" : "\n {");
      for (int c = 0; c < nc; c++)
        {
          if (json)
            {
              if (c)
                g_string_append (out, ", ");
              append_text (out, sqlite3_column_name (st, c), TRUE);
              g_string_append (out, ": ");
            }
          else if (c)
            g_string_append_c (out, ',');
          switch (sqlite3_column_type (st, c))
            {
            case SQLITE_INTEGER:
              g_string_append_printf (out, "%" G_GINT64_FORMAT, (gint64) sqlite3_column_int64 (st, c));
              break;
            case SQLITE_FLOAT:
              append_double (out, sqlite3_column_double (st, c), json);
              break;
            case SQLITE_NULL:
              g_string_append (out, json ? "null" : "");
              break;
            default:
              append_text (out, (const char *) sqlite3_column_text (st, c), json);
              break;
            }
        }
      if (json)
        g_string_append (out, "}");
      else
        g_string_append_c (out, '\n');
      rows++;
    }
  if (rc != SQLITE_DONE)
    return ft_analytics_sql_fail (db, error, "reading the aggregates");
  if (json)
    g_string_append (out, rows ? "\n]\n" : "]\n");
  return TRUE;
}

static const char *
db_name (sqlite3 *db)
{
  const char *f = sqlite3_db_filename (db, "main");
  return f && *f ? f : "database";
}

static gboolean
need_built (sqlite3 *db, GError **error)
{
  if (!ft_analytics_is_built (db))
    {
      g_set_error (error, FT_ANALYTICS_ERROR, FT_ANALYTICS_ERROR_NOT_BUILT,
                   "%s holds no analytics yet; run `fleet-twin-cli analytics build %s` first",
                   db_name (db), db_name (db));
      return FALSE;
    }
  return TRUE;
}

gboolean
ft_analytics_export (sqlite3 *db, const char *table, FtAnalyticsFormat fmt,
                     const FtAnalyticsWindow *win, GString *out, GError **error)
{
  g_return_val_if_fail (db != NULL && table != NULL && out != NULL, FALSE);
  const TableDef *def = NULL;
  for (guint i = 0; i < G_N_ELEMENTS (tables); i++)
    if (strcmp (tables[i].name, table) == 0)
      def = &tables[i];
  if (def == NULL)
    {
      g_autofree char *known = g_strjoinv (", ", (char **) ft_analytics_table_names ());
      g_set_error (error, FT_ANALYTICS_ERROR, FT_ANALYTICS_ERROR_USAGE,
                   "unknown table '%s' (known: %s)", table, known);
      return FALSE;
    }
  gboolean windowed = win && (win->from != G_MININT64 || win->to != G_MAXINT64);
  if (windowed && !def->windowed)
    {
      g_set_error (error, FT_ANALYTICS_ERROR, FT_ANALYTICS_ERROR_USAGE,
                   "table '%s' has no time column; --from/--to apply to zone_hour, "
                   "vehicle_day and staff_shift", table);
      return FALSE;
    }
  if (windowed && win->from >= win->to)
    {
      g_set_error (error, FT_ANALYTICS_ERROR, FT_ANALYTICS_ERROR_USAGE,
                   "time window is empty: from %" G_GINT64_FORMAT " ms is not before to %"
                   G_GINT64_FORMAT " ms", win->from, win->to);
      return FALSE;
    }
  if (!need_built (db, error))
    return FALSE;
  if (windowed)
    {
      g_autofree char *f = ft_analytics_dup_meta (db, "first_t");
      g_autofree char *l = ft_analytics_dup_meta (db, "last_t");
      gint64 first = f ? g_ascii_strtoll (f, NULL, 10) : 0, last = l ? g_ascii_strtoll (l, NULL, 10) : 0;
      /* the data covers the hours and days around [first, last] */
      gint64 lo = (first / DAY_MS - 1) * DAY_MS, hi = (last / DAY_MS + 2) * DAY_MS;
      if (win->to <= lo || win->from >= hi)
        {
          g_set_error (error, FT_ANALYTICS_ERROR, FT_ANALYTICS_ERROR_USAGE,
                       "time window [%" G_GINT64_FORMAT ", %" G_GINT64_FORMAT ") ms is outside the "
                       "built data of %s, which covers %" G_GINT64_FORMAT " to %" G_GINT64_FORMAT " ms",
                       win->from, win->to, db_name (db), first, last);
          return FALSE;
        }
    }
  if (def->sql == NULL)     /* kpis */
    {
      g_autoptr (GArray) k = ft_analytics_kpis (db, error);
      if (k == NULL)
        return FALSE;
      if (fmt == FT_ANALYTICS_JSON)
        {
          g_autofree char *j = ft_analytics_kpis_json (k);
          g_string_append (out, j);
          g_string_append_c (out, '\n');
          return TRUE;
        }
      g_string_append (out, "key,value,unit\n");
      for (guint i = 0; i < k->len; i++)
        {
          const FtAnalyticsKpi *p = &g_array_index (k, FtAnalyticsKpi, i);
          g_string_append_printf (out, "%s,", p->key);
          append_double (out, p->value, FALSE);
          g_string_append_printf (out, ",%s\n", p->unit);
        }
      return TRUE;
    }
  g_autoptr (sqlite3_stmt) st = NULL;
  if (sqlite3_prepare_v2 (db, def->sql, -1, &st, NULL) != SQLITE_OK)
    return ft_analytics_sql_fail (db, error, "preparing an export");
  if (def->windowed)
    {
      sqlite3_bind_int64 (st, 1, win ? win->from : G_MININT64);
      sqlite3_bind_int64 (st, 2, win ? win->to : G_MAXINT64);
    }
  return write_rows (db, st, fmt, out, error);
}

/* ------------------------------------------------------------------ KPIs */

static gboolean
query_row (sqlite3 *db, const char *sql, double *vals, int n, GError **error)
{
  g_autoptr (sqlite3_stmt) st = NULL;
  if (sqlite3_prepare_v2 (db, sql, -1, &st, NULL) != SQLITE_OK)
    return ft_analytics_sql_fail (db, error, "computing the KPIs");
  int rc = sqlite3_step (st);
  if (rc != SQLITE_ROW)
    return ft_analytics_sql_fail (db, error, "computing the KPIs");
  for (int i = 0; i < n; i++)
    vals[i] = sqlite3_column_type (st, i) == SQLITE_NULL ? 0 : sqlite3_column_double (st, i);
  return TRUE;
}

static double
ratio (double a, double b)
{
  return b > 0 ? a / b : 0;
}

GArray *
ft_analytics_kpis (sqlite3 *db, GError **error)
{
  g_return_val_if_fail (db != NULL, NULL);
  double zh[16], vd[8], veh[1], rd[3], ret[1], st[4];
  if (!need_built (db, error) ||
      !query_row (db, "SELECT sum(requests), sum(served), sum(lost_no_vehicle), sum(lost_low_battery),"
                  " sum(lost_price), sum(lost_refused), sum(trips_ended), sum(revenue_minor),"
                  " sum(present_ms), sum(on_trip_ms), sum(available_ms), sum(battery_low_ms),"
                  " sum(soc_sum), sum(soc_n) FROM an_zone_hour", zh, 14, error) ||
      !query_row (db, "SELECT sum(trips), sum(metres), sum(trip_s), sum(downtime_ms), sum(fault_ms),"
                  " sum(swaps), sum(faults) FROM an_vehicle_day", vd, 7, error) ||
      !query_row (db, "SELECT count(*) FROM an_vehicle_open", veh, 1, error) ||
      !query_row (db, "SELECT count(*), sum(trips), sum(trips >= 2) FROM an_rider", rd, 3, error) ||
      !query_row (db, "SELECT count(DISTINCT w.rider) FROM an_rider_week w JOIN an_rider r"
                  " ON r.rider = w.rider WHERE w.week > r.first_week", ret, 1, error) ||
      !query_row (db, "SELECT count(*), sum(tasks), sum(metres), sum(last_t - shift_start)"
                  " FROM an_staff_shift", st, 4, error))
    return NULL;
  g_autofree char *f = ft_analytics_dup_meta (db, "first_t");
  g_autofree char *l = ft_analytics_dup_meta (db, "last_t");
  g_autofree char *hw = ft_analytics_dup_meta (db, "high_water_seq");
  double ne[1] = { 0 };
  {
    /* the events of the log up to the mark (all kinds, not only those folded) */
    g_autoptr (sqlite3_stmt) cs = NULL;
    if (sqlite3_prepare_v2 (db, "SELECT count(*) FROM events WHERE seq <= ?", -1, &cs, NULL) != SQLITE_OK)
      {
        ft_analytics_sql_fail (db, error, "computing the KPIs");
        return NULL;
      }
    sqlite3_bind_int64 (cs, 1, hw ? g_ascii_strtoll (hw, NULL, 10) : 0);
    if (sqlite3_step (cs) == SQLITE_ROW)
      ne[0] = sqlite3_column_double (cs, 0);
  }
  double days = (f && l) ? (double) (g_ascii_strtoll (l, NULL, 10) - g_ascii_strtoll (f, NULL, 10)) / DAY_MS : 0;
  double lost = zh[2] + zh[3] + zh[4] + zh[5];
  double vdays = zh[8] / DAY_MS;
  double trips = vd[0];
  const FtAnalyticsKpi k[] = {
    { "days", days, "d" },
    { "vehicles", veh[0], "" },
    { "events", ne[0], "" },
    { "trips_requested", zh[0], "" },
    { "trips_served", zh[1], "" },
    { "trips_lost", lost, "" },
    { "lost_no_vehicle", zh[2], "" },
    { "lost_low_battery", zh[3], "" },
    { "lost_price", zh[4], "" },
    { "lost_refused", zh[5], "" },
    { "served_share", ratio (zh[1], zh[0]), "" },
    { "trips_completed", trips, "" },
    { "trips_per_vehicle_day", ratio (trips, vdays), "1/d" },
    { "utilisation", ratio (zh[9], zh[8]), "" },
    { "availability", ratio (zh[10], zh[8]), "" },
    { "mean_trip_km", ratio (vd[1] / 1000.0, trips), "km" },
    { "mean_trip_min", ratio (vd[2] / 60.0, trips), "min" },
    { "revenue_minor", zh[7], "minor" },
    { "revenue_per_vehicle_day_minor", ratio (zh[7], vdays), "minor/d" },
    { "revenue_per_trip_minor", ratio (zh[7], zh[6]), "minor" },
    { "battery_low_share", ratio (zh[11], zh[8]), "" },
    { "mean_soc", zh[13] > 0 ? zh[12] / 10000.0 / zh[13] : NAN, "" },
    { "faults", vd[6], "" },
    { "fault_hours", vd[4] / HOUR_MS, "h" },
    { "downtime_hours", vd[3] / HOUR_MS, "h" },
    { "battery_swaps", vd[5], "" },
    { "riders", rd[0], "" },
    { "returning_riders", ret[0], "" },
    { "trips_per_rider", ratio (rd[1], rd[0]), "" },
    { "repeat_rider_share", ratio (rd[2], rd[0]), "" },
    { "staff_shifts", st[0], "" },
    { "staff_tasks", st[1], "" },
    { "staff_km", st[2] / 1000.0, "km" },
    { "staff_hours", st[3] / HOUR_MS, "h" },
    { "tasks_per_staff_hour", ratio (st[1], st[3] / HOUR_MS), "1/h" },
  };
  GArray *a = g_array_sized_new (FALSE, FALSE, sizeof (FtAnalyticsKpi), G_N_ELEMENTS (k));
  g_array_append_vals (a, k, G_N_ELEMENTS (k));
  return a;
}

char *
ft_analytics_kpis_json (const GArray *kpis)
{
  g_return_val_if_fail (kpis != NULL, NULL);
  GString *s = g_string_new ("{");
  for (guint i = 0; i < kpis->len; i++)
    {
      const FtAnalyticsKpi *k = &g_array_index (kpis, FtAnalyticsKpi, i);
      g_string_append_printf (s, "%s\n  \"%s\": ", i ? "," : "", k->key);
      append_double (s, k->value, TRUE);
    }
  g_string_append (s, "\n}");
  return g_string_free (s, FALSE);
}
