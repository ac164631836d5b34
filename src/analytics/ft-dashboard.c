/* ft-dashboard.c — the dashboard's reads of the aggregates through a
 * filter (run days, zone, vehicle kind) and its charts. Run days count
 * local days from the first hour with data, as the report's "day N" does.
 * The trip bins, riders and battery bins hold no time or zone, so they
 * always show the whole run (their notes say so).
 */
#include "ft-dashboard.h"
#include "ft-analytics-private.h"
#include "ft-chart.h"

#include <math.h>
#include <string.h>

#define HOUR_MS ((gint64) 3600000)
#define DAY_MS  (24 * HOUR_MS)
#define MAX_DAYS 400u
#define MAX_STAFF 60u

static gint64
floor_div (gint64 a, gint64 b)
{
  return a >= 0 ? a / b : -((-a + b - 1) / b);
}

static sqlite3_stmt *
prep (sqlite3 *db, const char *sql, GError **error)
{
  sqlite3_stmt *st = NULL;
  if (sqlite3_prepare_v2 (db, sql, -1, &st, NULL) != SQLITE_OK)
    {
      ft_analytics_sql_fail (db, error, "reading the dashboard");
      return NULL;
    }
  return st;
}

static char *
meta (sqlite3 *db, const char *key)
{
  return ft_analytics_dup_meta (db, key);
}

static gint64
meta_i64 (sqlite3 *db, const char *key, gint64 dflt)
{
  g_autofree char *v = meta (db, key);
  return v ? g_ascii_strtoll (v, NULL, 10) : dflt;
}

void
ft_dashboard_free (FtDashboard *d)
{
  if (d == NULL)
    return;
  g_free (d->currency);
  g_strfreev (d->zone_names);
  g_free (d->zone_util);
  g_free (d->zone_revenue);
  g_free (d->downtime_h);
  g_free (d->fault_h);
  g_free (d->faults);
  g_strfreev (d->staff_names);
  g_free (d->staff_swaps);
  g_free (d->staff_rebalances);
  g_free (d->staff_other);
  g_free (d->staff_km);
  g_free (d);
}

static void
read_bins (sqlite3 *db, const char *metric, double *v, guint n)
{
  for (guint i = 0; i < n; i++)
    v[i] = 0;
  sqlite3_stmt *st = NULL;
  if (sqlite3_prepare_v2 (db, "SELECT bin, n FROM an_trip_bins WHERE metric = ?", -1, &st, NULL) != SQLITE_OK)
    return;
  sqlite3_bind_text (st, 1, metric, -1, SQLITE_STATIC);
  while (sqlite3_step (st) == SQLITE_ROW)
    {
      gint64 b = sqlite3_column_int64 (st, 0);
      if (b >= 0)
        v[MIN ((guint64) b, (guint64) n - 1)] += sqlite3_column_double (st, 1);
    }
  sqlite3_finalize (st);
}

FtDashboard *
ft_dashboard_query (sqlite3 *db, const FtDashFilter *f, GError **error)
{
  g_return_val_if_fail (db != NULL && f != NULL, NULL);
  if (!ft_analytics_is_built (db))
    {
      g_set_error (error, FT_ANALYTICS_ERROR, FT_ANALYTICS_ERROR_NOT_BUILT,
                   "the database holds no analytics yet: build them first");
      return NULL;
    }
  g_autoptr (FtDashboard) d = g_new0 (FtDashboard, 1);
  d->currency = meta (db, "currency");
  if (d->currency == NULL)
    d->currency = g_strdup ("minor units ÷ 100");
  gint64 off = meta_i64 (db, "utc_offset_min", 0) * 60000 - meta_i64 (db, "monday_ms", 0);

  /* zones */
  {
    g_autoptr (sqlite3_stmt) st = prep (db, "SELECT coalesce(max(zone) + 1, 0) FROM an_zone", error);
    if (st == NULL)
      return NULL;
    d->n_zones = sqlite3_step (st) == SQLITE_ROW ? (guint) MAX (sqlite3_column_int64 (st, 0), 0) : 0;
  }
  d->zone_names = g_new0 (char *, d->n_zones + 1);
  for (guint i = 0; i < d->n_zones; i++)
    d->zone_names[i] = g_strdup_printf ("zone %u", i);
  {
    g_autoptr (sqlite3_stmt) st = prep (db, "SELECT zone, name FROM an_zone", error);
    if (st == NULL)
      return NULL;
    while (sqlite3_step (st) == SQLITE_ROW)
      {
        gint64 z = sqlite3_column_int64 (st, 0);
        if (z >= 0 && (guint64) z < d->n_zones && sqlite3_column_text (st, 1))
          {
            g_free (d->zone_names[z]);
            d->zone_names[z] = g_strdup ((const char *) sqlite3_column_text (st, 1));
          }
      }
  }
  if (f->zone >= 0 && (guint) f->zone >= d->n_zones)
    {
      g_set_error (error, FT_ANALYTICS_ERROR, FT_ANALYTICS_ERROR_USAGE,
                   "zone %d is not in the zoning (%u zones)", f->zone, d->n_zones);
      return NULL;
    }

  /* the span of run days */
  gint64 h_min = 0, h_max = -1;
  {
    g_autoptr (sqlite3_stmt) st = prep (db, "SELECT min(hour), max(hour) FROM an_zone_hour", error);
    if (st == NULL)
      return NULL;
    if (sqlite3_step (st) == SQLITE_ROW && sqlite3_column_type (st, 0) != SQLITE_NULL)
      {
        h_min = sqlite3_column_int64 (st, 0);
        h_max = sqlite3_column_int64 (st, 1);
      }
  }
  gint64 first_day = floor_div (h_min * HOUR_MS + off, DAY_MS);
  d->n_days = h_max >= h_min ? (guint) MIN (floor_div (h_max * HOUR_MS + off, DAY_MS) - first_day + 1,
                                            (gint64) MAX_DAYS) : 0;
  int from = f->from_day < 0 ? 0 : f->from_day;
  int to = f->to_day < 0 ? (int) d->n_days - 1 : f->to_day;
  if (d->n_days > 0 && ((guint) from >= d->n_days || from > to))
    {
      g_set_error (error, FT_ANALYTICS_ERROR, FT_ANALYTICS_ERROR_USAGE,
                   "days %d to %d are outside the data (days 1 to %u)", from + 1, to + 1, d->n_days);
      return NULL;
    }
  to = MIN (to, (int) d->n_days - 1);
  d->days_in_filter = d->n_days ? (guint) (to - from + 1) : 0;
  /* hour bounds of the filter, in the table's hours */
  gint64 h0 = floor_div ((first_day + from) * DAY_MS - off, HOUR_MS);
  gint64 h1 = floor_div ((first_day + to + 1) * DAY_MS - off, HOUR_MS);

  /* by hour of day */
  double pres[24] = { 0 }, ontrip[24] = { 0 }, avail[24] = { 0 };
  {
    g_autoptr (sqlite3_stmt) st = prep (db,
        "SELECT hour, sum(on_trip_ms), sum(present_ms), sum(available_ms), sum(revenue_minor),"
        " sum(served), sum(requests) - sum(served) FROM an_zone_hour"
        " WHERE hour >= ?1 AND hour < ?2 AND (?3 < 0 OR zone = ?3) GROUP BY hour", error);
    if (st == NULL)
      return NULL;
    sqlite3_bind_int64 (st, 1, h0);
    sqlite3_bind_int64 (st, 2, h1);
    sqlite3_bind_int (st, 3, f->zone);
    while (sqlite3_step (st) == SQLITE_ROW)
      {
        gint64 local = sqlite3_column_int64 (st, 0) * HOUR_MS + off;
        guint hod = (guint) (floor_div (local, HOUR_MS) - floor_div (local, DAY_MS) * 24);
        ontrip[hod] += sqlite3_column_double (st, 1);
        pres[hod] += sqlite3_column_double (st, 2);
        avail[hod] += sqlite3_column_double (st, 3);
        d->revenue_hod[hod] += sqlite3_column_double (st, 4) / 100.0;
        d->served_hod[hod] += sqlite3_column_double (st, 5);
        d->lost_hod[hod] += sqlite3_column_double (st, 6);
      }
  }
  double all_pres = 0, all_on = 0;
  double days = MAX (d->days_in_filter, 1u);
  for (guint i = 0; i < 24; i++)
    {
      d->util_hod[i] = pres[i] > 0 ? ontrip[i] / pres[i] : NAN;
      d->avail_hod[i] = pres[i] > 0 ? avail[i] / pres[i] : NAN;
      d->total_revenue += d->revenue_hod[i];
      d->total_served += d->served_hod[i];
      d->total_lost += d->lost_hod[i];
      d->revenue_hod[i] /= days;
      d->served_hod[i] /= days;
      d->lost_hod[i] /= days;
      all_pres += pres[i];
      all_on += ontrip[i];
    }
  d->mean_util = all_pres > 0 ? all_on / all_pres : NAN;

  /* by zone */
  d->zone_util = g_new (double, MAX (d->n_zones, 1));
  d->zone_revenue = g_new0 (double, MAX (d->n_zones, 1));
  for (guint i = 0; i < d->n_zones; i++)
    d->zone_util[i] = NAN;
  {
    g_autoptr (sqlite3_stmt) st = prep (db,
        "SELECT zone, sum(on_trip_ms), sum(present_ms), sum(revenue_minor) FROM an_zone_hour"
        " WHERE hour >= ?1 AND hour < ?2 GROUP BY zone", error);
    if (st == NULL)
      return NULL;
    sqlite3_bind_int64 (st, 1, h0);
    sqlite3_bind_int64 (st, 2, h1);
    while (sqlite3_step (st) == SQLITE_ROW)
      {
        gint64 z = sqlite3_column_int64 (st, 0);
        if (z < 0 || (guint64) z >= d->n_zones)
          continue;
        double p = sqlite3_column_double (st, 2);
        d->zone_util[z] = p > 0 ? sqlite3_column_double (st, 1) / p : NAN;
        d->zone_revenue[z] = sqlite3_column_double (st, 3) / 100.0;
      }
  }

  /* trips and riders: the whole run */
  double km[81], mins[121];
  read_bins (db, "distance_250m", km, 81);
  read_bins (db, "duration_min", mins, 121);
  for (guint i = 0; i < FT_DASH_KM_BINS; i++)
    d->trip_km[i] = km[i];
  for (guint i = FT_DASH_KM_BINS; i < 81; i++)
    d->trip_km[FT_DASH_KM_BINS - 1] += km[i];
  for (guint i = 0; i < FT_DASH_MIN_BINS; i++)
    d->trip_min[i] = mins[i];
  for (guint i = FT_DASH_MIN_BINS; i < 121; i++)
    d->trip_min[FT_DASH_MIN_BINS - 1] += mins[i];
  {
    g_autoptr (sqlite3_stmt) st = prep (db, "SELECT trips, count(*) FROM an_rider GROUP BY trips", error);
    if (st == NULL)
      return NULL;
    while (sqlite3_step (st) == SQLITE_ROW)
      {
        gint64 t = sqlite3_column_int64 (st, 0);
        guint b = t <= 5 ? (guint) MAX (t, 1) - 1 : t <= 10 ? 5 : t <= 20 ? 6 : 7;
        d->riders_by_trips[b] += sqlite3_column_double (st, 1);
        d->trips_by_riders[b] += sqlite3_column_double (st, 1) * (double) t;
      }
  }

  /* battery: telemetry bins, else the packs now */
  double soc[21];
  read_bins (db, "soc_5pct", soc, 21);
  double total = 0;
  for (guint i = 0; i < 21; i++)
    total += soc[i];
  d->soc_what = "telemetry readings";
  if (total == 0 && ft_analytics_has_table (db, "packs"))
    {
      d->soc_what = "battery packs now";
      g_autoptr (sqlite3_stmt) st = prep (db,
          "SELECT min(20, max(0, CAST(soc * 20 AS INTEGER))), count(*) FROM packs GROUP BY 1", error);
      if (st == NULL)
        return NULL;
      while (sqlite3_step (st) == SQLITE_ROW)
        soc[sqlite3_column_int (st, 0)] += sqlite3_column_double (st, 1);
    }
  for (guint i = 0; i < 20; i++)
    d->soc[i] = soc[i];
  d->soc[19] += soc[20];

  /* fleet health per day, by kind */
  d->n_fleet_days = d->days_in_filter;
  d->downtime_h = g_new0 (double, MAX (d->n_fleet_days, 1));
  d->fault_h = g_new0 (double, MAX (d->n_fleet_days, 1));
  d->faults = g_new0 (double, MAX (d->n_fleet_days, 1));
  {
    gboolean has_vehicles = ft_analytics_has_table (db, "vehicles");
    const char *sql = has_vehicles
      ? "SELECT d.day, sum(d.faults), sum(d.downtime_ms) / 3600000.0, sum(d.fault_ms) / 3600000.0"
        " FROM an_vehicle_day d LEFT JOIN vehicles v ON v.idx = d.vehicle"
        " WHERE d.day >= ?1 AND d.day <= ?2 AND (?3 < 0 OR v.kind = ?3) GROUP BY d.day"
      : "SELECT day, sum(faults), sum(downtime_ms) / 3600000.0, sum(fault_ms) / 3600000.0"
        " FROM an_vehicle_day WHERE day >= ?1 AND day <= ?2 AND ?3 < 0 GROUP BY day";
    g_autoptr (sqlite3_stmt) st = prep (db, sql, error);
    if (st == NULL)
      return NULL;
    sqlite3_bind_int64 (st, 1, first_day + from);
    sqlite3_bind_int64 (st, 2, first_day + to);
    sqlite3_bind_int (st, 3, f->kind);
    while (sqlite3_step (st) == SQLITE_ROW)
      {
        gint64 k = sqlite3_column_int64 (st, 0) - first_day - from;
        if (k < 0 || (guint64) k >= d->n_fleet_days)
          continue;
        d->faults[k] = sqlite3_column_double (st, 1);
        d->downtime_h[k] = sqlite3_column_double (st, 2);
        d->fault_h[k] = sqlite3_column_double (st, 3);
      }
  }

  /* staff: shifts starting in the filter's days */
  d->staff_names = g_new0 (char *, MAX_STAFF + 1);
  d->staff_swaps = g_new0 (double, MAX_STAFF);
  d->staff_rebalances = g_new0 (double, MAX_STAFF);
  d->staff_other = g_new0 (double, MAX_STAFF);
  d->staff_km = g_new0 (double, MAX_STAFF);
  {
    gboolean has_accounts = ft_analytics_has_table (db, "accounts");
    const char *sql = has_accounts
      ? "SELECT coalesce(nullif(a.display_name, ''), a.id, 'staff ' || s.staff), sum(swaps), sum(rebalances),"
        " sum(repairs) + sum(deploys), sum(metres) / 1000.0 FROM an_staff_shift s"
        " LEFT JOIN accounts a ON a.idx = s.staff WHERE s.shift_start >= ?1 AND s.shift_start < ?2"
        " GROUP BY s.staff ORDER BY s.staff LIMIT 60"
      : "SELECT 'staff ' || staff, sum(swaps), sum(rebalances), sum(repairs) + sum(deploys),"
        " sum(metres) / 1000.0 FROM an_staff_shift WHERE shift_start >= ?1 AND shift_start < ?2"
        " GROUP BY staff ORDER BY staff LIMIT 60";
    g_autoptr (sqlite3_stmt) st = prep (db, sql, error);
    if (st == NULL)
      return NULL;
    sqlite3_bind_int64 (st, 1, h0 * HOUR_MS);
    sqlite3_bind_int64 (st, 2, h1 * HOUR_MS);
    while (sqlite3_step (st) == SQLITE_ROW && d->n_staff < MAX_STAFF)
      {
        guint i = d->n_staff++;
        const char *name = (const char *) sqlite3_column_text (st, 0);
        d->staff_names[i] = g_strdup (name ? name : "");
        d->staff_swaps[i] = sqlite3_column_double (st, 1);
        d->staff_rebalances[i] = sqlite3_column_double (st, 2);
        d->staff_other[i] = sqlite3_column_double (st, 3);
        d->staff_km[i] = sqlite3_column_double (st, 4);
      }
  }
  return g_steal_pointer (&d);
}

static const char *const hod_labels[24] = {
  "00", "01", "02", "03", "04", "05", "06", "07", "08", "09", "10", "11",
  "12", "13", "14", "15", "16", "17", "18", "19", "20", "21", "22", "23",
};

const char *
ft_dashboard_section (FtDashChart which)
{
  switch (which)
    {
    case FT_DASH_UTIL_HOUR: case FT_DASH_REVENUE_HOUR: case FT_DASH_REVENUE_ZONE: case FT_DASH_UTIL_ZONE:
      return "Utilisation and revenue";
    case FT_DASH_TIME_OF_DAY: case FT_DASH_REPEAT_RIDERS: case FT_DASH_TRIP_LENGTH: case FT_DASH_TRIP_DURATION:
      return "Riders";
    case FT_DASH_BATTERY: case FT_DASH_DOWNTIME:
      return "Fleet health";
    case FT_DASH_STAFF: case FT_DASH_N_CHARTS:
      break;
    }
  return "Staff";
}

void
ft_dashboard_draw (const FtDashboard *d, FtDashChart which, cairo_t *cr, double width, double height)
{
  g_return_if_fail (d != NULL && cr != NULL);
  g_autofree char *money = g_strdup_printf ("revenue (%s)", d->currency);
  g_autofree char *money_day = g_strdup_printf ("revenue per day (%s)", d->currency);
  g_autofree char *days_note = g_strdup_printf ("%u of %u days", d->days_in_filter, d->n_days);
  FtChart c = { 0 };
  switch (which)
    {
    case FT_DASH_UTIL_HOUR:
      {
        FtChartSeries s[] = { { "on a trip", d->util_hod, { 0 } }, { "available", d->avail_hod, { 0 } } };
        c = (FtChart) { .title = "Utilisation by hour of day", .x_label = "hour of day (local)",
                        .y_label = "share of vehicle time (%)", .categories = hod_labels, .n = 24,
                        .series = s, .n_series = 2, .style = FT_CHART_LINES, .y_percent = TRUE,
                        .y_max = 1.0, .note = days_note };
        ft_chart_draw (cr, width, height, &c);
        return;
      }
    case FT_DASH_REVENUE_HOUR:
      {
        FtChartSeries s[] = { { "revenue of trips started in the hour", d->revenue_hod, { 0.17, 0.63, 0.17 } } };
        c = (FtChart) { .title = "Revenue by hour of day", .x_label = "hour of day (local)", .y_label = money_day,
                        .categories = hod_labels, .n = 24, .series = s, .n_series = 1, .style = FT_CHART_BARS,
                        .note = days_note };
        ft_chart_draw (cr, width, height, &c);
        return;
      }
    case FT_DASH_REVENUE_ZONE:
    case FT_DASH_UTIL_ZONE:
      {
        /* the 20 zones with most revenue */
        guint n = MIN (d->n_zones, 20u);
        g_autofree guint *order = g_new (guint, MAX (d->n_zones, 1));
        for (guint i = 0; i < d->n_zones; i++)
          order[i] = i;
        for (guint i = 0; i < n; i++)
          for (guint j = i + 1; j < d->n_zones; j++)
            if (d->zone_revenue[order[j]] > d->zone_revenue[order[i]])
              {
                guint t = order[i]; order[i] = order[j]; order[j] = t;
              }
        g_autofree double *v = g_new (double, MAX (n, 1));
        g_autofree const char **lab = g_new0 (const char *, n + 1);
        for (guint i = 0; i < n; i++)
          {
            v[i] = which == FT_DASH_REVENUE_ZONE ? d->zone_revenue[order[i]] : d->zone_util[order[i]];
            lab[i] = d->zone_names[order[i]];
          }
        FtChartSeries s[] = { { which == FT_DASH_REVENUE_ZONE ? "revenue" : "time on trip", v,
                                { which == FT_DASH_REVENUE_ZONE ? 0.17 : 0.12, which == FT_DASH_REVENUE_ZONE ? 0.63 : 0.47,
                                  which == FT_DASH_REVENUE_ZONE ? 0.17 : 0.71 } } };
        c = (FtChart) { .title = which == FT_DASH_REVENUE_ZONE ? "Revenue by zone (top 20)" : "Utilisation by zone (same zones)",
                        .x_label = "zone", .y_label = which == FT_DASH_REVENUE_ZONE ? money : "utilisation (%)",
                        .categories = lab, .n = n, .series = s, .n_series = 1, .style = FT_CHART_BARS,
                        .y_percent = which == FT_DASH_UTIL_ZONE, .note = days_note };
        ft_chart_draw (cr, width, height, &c);
        return;
      }
    case FT_DASH_TIME_OF_DAY:
      {
        FtChartSeries s[] = { { "served", d->served_hod, { 0.12, 0.47, 0.71 } },
                              { "lost", d->lost_hod, { 0.84, 0.15, 0.16 } } };
        c = (FtChart) { .title = "Trip requests by time of day", .x_label = "hour of day (local)",
                        .y_label = "requests per day", .categories = hod_labels, .n = 24, .series = s,
                        .n_series = 2, .style = FT_CHART_STACKED, .note = days_note };
        ft_chart_draw (cr, width, height, &c);
        return;
      }
    case FT_DASH_REPEAT_RIDERS:
      {
        static const char *const buckets[] = { "1", "2", "3", "4", "5", "6–10", "11–20", "21+" };
        FtChartSeries s[] = { { "riders", d->riders_by_trips, { 0.58, 0.40, 0.74 } },
                              { "their trips", d->trips_by_riders, { 0.55, 0.34, 0.29 } } };
        c = (FtChart) { .title = "Repeat riders", .x_label = "trips per rider", .y_label = "riders / trips",
                        .categories = buckets, .n = 8, .series = s, .n_series = 2, .style = FT_CHART_BARS,
                        .note = "whole run" };
        ft_chart_draw (cr, width, height, &c);
        return;
      }
    case FT_DASH_TRIP_LENGTH:
    case FT_DASH_TRIP_DURATION:
      {
        gboolean km = which == FT_DASH_TRIP_LENGTH;
        guint n = km ? FT_DASH_KM_BINS : FT_DASH_MIN_BINS;
        g_auto (GStrv) lab = g_new0 (char *, n + 1);
        for (guint i = 0; i < n; i++)
          lab[i] = i == n - 1 ? g_strdup (km ? "10+" : "60+")
                   : km ? g_strdup_printf ("%.2g", i * 0.25) : g_strdup_printf ("%u", i);
        FtChartSeries s[] = { { "trips", km ? d->trip_km : d->trip_min, { km ? 0.12 : 1.0, km ? 0.47 : 0.5, km ? 0.71 : 0.05 } } };
        c = (FtChart) { .title = km ? "Trip length" : "Trip duration",
                        .x_label = km ? "trip length (km, 250 m bins)" : "trip duration (min)", .y_label = "trips",
                        .categories = (const char *const *) lab, .n = n, .series = s, .n_series = 1,
                        .style = FT_CHART_BARS, .note = "whole run" };
        ft_chart_draw (cr, width, height, &c);
        return;
      }
    case FT_DASH_BATTERY:
      {
        g_auto (GStrv) lab = g_new0 (char *, 21);
        for (guint i = 0; i < 20; i++)
          lab[i] = g_strdup_printf ("%u", i * 5);
        FtChartSeries s[] = { { d->soc_what, d->soc, { 0.17, 0.63, 0.17 } } };
        c = (FtChart) { .title = "Battery state of charge", .x_label = "state of charge (%, 5 % bins from the label)",
                        .y_label = "count", .categories = (const char *const *) lab, .n = 20, .series = s,
                        .n_series = 1, .style = FT_CHART_BARS };
        ft_chart_draw (cr, width, height, &c);
        return;
      }
    case FT_DASH_DOWNTIME:
      {
        g_auto (GStrv) lab = g_new0 (char *, d->n_fleet_days + 1);
        for (guint i = 0; i < d->n_fleet_days; i++)
          lab[i] = g_strdup_printf ("%u", i + 1);
        double nf = 0;
        for (guint i = 0; i < d->n_fleet_days; i++)
          nf += d->faults[i];
        g_autofree char *note = g_strdup_printf ("%.0f faults; downtime: not available, reserved or on a trip", nf);
        FtChartSeries s[] = { { "downtime", d->downtime_h, { 0.5, 0.5, 0.5 } },
                              { "with a fault", d->fault_h, { 0.84, 0.15, 0.16 } } };
        c = (FtChart) { .title = "Faults and downtime per day", .x_label = "day of the run",
                        .y_label = "vehicle-hours", .categories = (const char *const *) lab, .n = d->n_fleet_days,
                        .series = s, .n_series = 2, .style = FT_CHART_BARS, .note = note };
        ft_chart_draw (cr, width, height, &c);
        return;
      }
    case FT_DASH_STAFF:
    case FT_DASH_N_CHARTS:
      {
        FtChartSeries s[] = { { "battery swaps", d->staff_swaps, { 0 } },
                              { "rebalancing moves", d->staff_rebalances, { 0 } },
                              { "repairs and deployments", d->staff_other, { 0 } } };
        c = (FtChart) { .title = "Tasks done per staff member", .x_label = "staff member", .y_label = "tasks",
                        .categories = (const char *const *) d->staff_names, .n = d->n_staff, .series = s,
                        .n_series = 3, .style = FT_CHART_STACKED, .note = days_note };
        ft_chart_draw (cr, width, height, &c);
        return;
      }
    }
}
