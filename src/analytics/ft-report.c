/* ft-report.c — the report: reads the aggregates into chart series
 * (utilisation and revenue by hour and by zone, trip length and duration,
 * time of day, repeat riders, battery, faults and downtime, staff), draws
 * them on A4 landscape PDF pages with ft-chart, and writes each chart as a
 * PNG and each table as a CSV into a folder beside the PDF.
 */
#include "ft-report.h"
#include "ft-analytics-private.h"
#include "ft-chart.h"
#include "ft-file.h"

#include <cairo-pdf.h>
#include <glib/gstdio.h>
#include <math.h>
#include <string.h>

#define HOUR_MS ((gint64) 3600000)
#define DAY_MS  (24 * HOUR_MS)
#define PAGE_W 842.0
#define PAGE_H 595.0
#define MARGIN 28.0
#define HEAD   34.0

typedef struct {
  sqlite3      *db;
  GPtrArray    *keep;      /* arrays the charts point into */
  const char   *dir;
  cairo_t      *cr;
  guint         page;
  const FtReportInfo *info;
  char         *currency;
  gint64        off_ms;    /* local = t + off_ms */
  GError      **error;
  gboolean      failed;
} Report;

static double *
new_values (Report *r, guint n)
{
  double *v = g_new (double, MAX (n, 1));
  for (guint i = 0; i < MAX (n, 1); i++)
    v[i] = NAN;
  g_ptr_array_add (r->keep, v);
  return v;
}

static char **
new_labels (Report *r, guint n)
{
  return g_new0 (char *, n + 1);   /* the caller frees it with free_labels */
}

static void
free_labels (char **l)
{
  g_strfreev (l);
}

static void
page_begin (Report *r, const char *heading)
{
  cairo_t *cr = r->cr;
  r->page++;
  cairo_set_source_rgb (cr, 1, 1, 1);
  cairo_paint (cr);
  cairo_select_font_face (cr, "DejaVu Sans", CAIRO_FONT_SLANT_NORMAL, CAIRO_FONT_WEIGHT_BOLD);
  cairo_set_font_size (cr, 15);
  cairo_set_source_rgb (cr, 0.1, 0.2, 0.4);
  cairo_move_to (cr, MARGIN, MARGIN + 4);
  cairo_show_text (cr, heading);
  cairo_select_font_face (cr, "DejaVu Sans", CAIRO_FONT_SLANT_NORMAL, CAIRO_FONT_WEIGHT_NORMAL);
  cairo_set_font_size (cr, 8.5);
  cairo_set_source_rgb (cr, 0.4, 0.4, 0.4);
  g_autofree char *foot = g_strdup_printf ("%s — page %u of %d", r->info->title ? r->info->title : "Fleet Twin",
                                           r->page, FT_REPORT_N_PAGES);
  cairo_text_extents_t te;
  cairo_text_extents (cr, foot, &te);
  cairo_move_to (cr, PAGE_W - MARGIN - te.x_advance, PAGE_H - 12);
  cairo_show_text (cr, foot);
  cairo_set_source_rgb (cr, 0.75, 0.8, 0.9);
  cairo_set_line_width (cr, 1);
  cairo_move_to (cr, MARGIN, MARGIN + 12);
  cairo_line_to (cr, PAGE_W - MARGIN, MARGIN + 12);
  cairo_stroke (cr);
}

static void
page_end (Report *r)
{
  cairo_show_page (r->cr);
  g_ptr_array_set_size (r->keep, 0);
}

/* Draws chart in slot (0 = top half / whole page, 1 = bottom half) and
 * writes it as DIR/NAME.png. */
static void
place_chart (Report *r, const FtChart *c, const char *name, int slot, int n_slots)
{
  double h = (PAGE_H - MARGIN - HEAD - 22) / n_slots;
  double y = MARGIN + HEAD - 10 + slot * h;
  cairo_save (r->cr);
  cairo_translate (r->cr, MARGIN, y);
  ft_chart_draw (r->cr, PAGE_W - 2 * MARGIN, h - 6, c);
  cairo_restore (r->cr);
  if (r->dir && !r->failed)
    {
      g_autofree char *png = g_strdup_printf ("%s.png", name);
      g_autofree char *path = g_build_filename (r->dir, png, NULL);
      if (!ft_chart_write_png (c, 1200, 560, path, r->error))
        r->failed = TRUE;
    }
}

static void
place_table (Report *r, const char *title, const char *const *header, guint n_cols,
             GPtrArray *cells, int slot, int n_slots)
{
  double h = (PAGE_H - MARGIN - HEAD - 22) / n_slots;
  double y = MARGIN + HEAD - 6 + slot * h;
  cairo_save (r->cr);
  cairo_translate (r->cr, MARGIN, y);
  ft_chart_draw_table (r->cr, PAGE_W - 2 * MARGIN, h - 6, title, header, n_cols,
                       (const char *const *) cells->pdata, cells->len / n_cols);
  cairo_restore (r->cr);
}

static sqlite3_stmt *
q (Report *r, const char *sql)
{
  sqlite3_stmt *st = NULL;
  if (sqlite3_prepare_v2 (r->db, sql, -1, &st, NULL) != SQLITE_OK)
    {
      if (!r->failed)
        ft_analytics_sql_fail (r->db, r->error, "reading the aggregates for the report");
      r->failed = TRUE;
      sqlite3_finalize (st);
      return NULL;
    }
  return st;
}

static gint64
meta_i64 (Report *r, const char *key, gint64 dflt)
{
  g_autofree char *v = ft_analytics_dup_meta (r->db, key);
  return v ? g_ascii_strtoll (v, NULL, 10) : dflt;
}

static const char *
hour_label (Report *r, gint64 hour_abs, char *buf, gsize len, gboolean with_day)
{
  gint64 local = hour_abs * HOUR_MS + r->off_ms;
  gint64 day = local >= 0 ? local / DAY_MS : (local - DAY_MS + 1) / DAY_MS;
  gint64 hod = (local - day * DAY_MS) / HOUR_MS;
  static const char *dow[] = { "Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun" };
  if (with_day)
    g_snprintf (buf, len, "%s %02d:00", dow[((day % 7) + 7) % 7], (int) hod);
  else
    g_snprintf (buf, len, "%02d", (int) hod);
  return buf;
}

static char *
money (Report *r, double minor)
{
  return g_strdup_printf ("%.2f %s", minor / 100.0, r->currency);
}

/* ---------------------------------------------------------------- pages */

static void
page_title (Report *r, const GArray *kpis)
{
  cairo_t *cr = r->cr;
  page_begin (r, "Fleet Twin run report");
  cairo_select_font_face (cr, "DejaVu Sans", CAIRO_FONT_SLANT_NORMAL, CAIRO_FONT_WEIGHT_BOLD);
  cairo_set_font_size (cr, 22);
  cairo_set_source_rgb (cr, 0.1, 0.1, 0.1);
  cairo_move_to (cr, MARGIN, MARGIN + 52);
  cairo_show_text (cr, r->info->title ? r->info->title : "Fleet Twin run");
  cairo_select_font_face (cr, "DejaVu Sans", CAIRO_FONT_SLANT_NORMAL, CAIRO_FONT_WEIGHT_NORMAL);
  cairo_set_font_size (cr, 10);
  gint64 first = meta_i64 (r, "first_t", 0), last = meta_i64 (r, "last_t", 0);
  g_autofree char *zoning = ft_analytics_dup_meta (r->db, "zoning");
  g_autofree char *l1 = g_strdup_printf ("%s: %s", r->info->kind ? r->info->kind : "run",
                                         r->info->source ? r->info->source : "");
  g_autofree char *l2 = NULL;
  if (first > 1000000000000LL)   /* Unix time (live) */
    {
      g_autoptr (GDateTime) a = g_date_time_new_from_unix_utc (first / 1000);
      g_autoptr (GDateTime) b = g_date_time_new_from_unix_utc (last / 1000);
      g_autofree char *sa = g_date_time_format (a, "%Y-%m-%d %H:%M UTC");
      g_autofree char *sb = g_date_time_format (b, "%Y-%m-%d %H:%M UTC");
      l2 = g_strdup_printf ("events from %s to %s", sa, sb);
    }
  else
    l2 = g_strdup_printf ("events from day %.2f to day %.2f of the run (simulated time from Monday 00:00)",
                          (double) first / DAY_MS, (double) last / DAY_MS);
  g_autofree char *l3 = g_strdup_printf ("zones: %s; aggregates built up to event %" G_GINT64_FORMAT,
                                         zoning ? zoning : "?", meta_i64 (r, "high_water_seq", 0));
  const char *lines[] = { l1, l2, l3 };
  for (guint i = 0; i < G_N_ELEMENTS (lines); i++)
    {
      cairo_move_to (cr, MARGIN, MARGIN + 74 + i * 14);
      cairo_show_text (cr, lines[i]);
    }
  /* KPI table in three columns */
  GPtrArray *cells[3];
  for (int c = 0; c < 3; c++)
    cells[c] = g_ptr_array_new_with_free_func (g_free);
  guint per = (kpis->len + 2) / 3;
  for (guint i = 0; i < kpis->len; i++)
    {
      const FtAnalyticsKpi *k = &g_array_index (kpis, FtAnalyticsKpi, i);
      char *val;
      if (!isfinite (k->value))
        val = g_strdup ("–");
      else if (g_str_has_suffix (k->key, "_minor"))
        val = money (r, k->value);
      else if (strstr (k->key, "share") || strcmp (k->key, "utilisation") == 0 ||
               strcmp (k->key, "availability") == 0 || strcmp (k->key, "mean_soc") == 0)
        val = g_strdup_printf ("%.1f %%", 100 * k->value);
      else if (k->value == floor (k->value) && fabs (k->value) < 1e15)
        val = g_strdup_printf ("%.0f%s%s", k->value, *k->unit ? " " : "", k->unit);
      else
        val = g_strdup_printf ("%.2f%s%s", k->value, *k->unit ? " " : "", k->unit);
      GPtrArray *col = cells[MIN (i / per, 2u)];
      g_ptr_array_add (col, g_strdup (k->key));
      g_ptr_array_add (col, val);
    }
  static const char *const header[] = { "KPI", "value" };
  double cw = (PAGE_W - 2 * MARGIN) / 3;
  for (int c = 0; c < 3; c++)
    {
      cairo_save (cr);
      cairo_translate (cr, MARGIN + c * cw, MARGIN + 120);
      ft_chart_draw_table (cr, cw - 12, PAGE_H - MARGIN - 150, c == 0 ? "Key performance indicators" : " ",
                           header, 2, (const char *const *) cells[c]->pdata, cells[c]->len / 2);
      cairo_restore (cr);
      g_ptr_array_unref (cells[c]);
    }
  page_end (r);
}

static void
page_by_hour (Report *r)
{
  page_begin (r, "Utilisation and revenue by hour");
  sqlite3_stmt *st = q (r, "SELECT hour, sum(on_trip_ms), sum(present_ms), sum(revenue_minor),"
                           " sum(available_ms) FROM an_zone_hour GROUP BY hour ORDER BY hour");
  if (st == NULL)
    return;
  g_autoptr (GArray) rows = g_array_new (FALSE, FALSE, sizeof (double) * 5);
  while (sqlite3_step (st) == SQLITE_ROW)
    {
      double v[5];
      for (int i = 0; i < 5; i++)
        v[i] = sqlite3_column_double (st, i);
      g_array_append_vals (rows, v, 1);
    }
  sqlite3_finalize (st);
  guint n = 0;
  double h0 = rows->len ? ((double *) rows->data)[0] : 0;
  if (rows->len)
    n = (guint) (((double *) rows->data)[(rows->len - 1) * 5] - h0) + 1;
  n = MIN (n, 24u * 400);
  double *util = new_values (r, n), *avail = new_values (r, n), *rev = new_values (r, n);
  char **lab = new_labels (r, n);
  for (guint i = 0; i < rows->len; i++)
    {
      double *v = &((double *) rows->data)[i * 5];
      guint k = (guint) (v[0] - h0);
      if (k >= n)
        continue;
      util[k] = v[2] > 0 ? v[1] / v[2] : NAN;
      avail[k] = v[2] > 0 ? v[4] / v[2] : NAN;
      rev[k] = v[3] / 100.0;
    }
  for (guint i = 0; i < n; i++)
    {
      char buf[32];
      lab[i] = g_strdup (hour_label (r, (gint64) h0 + i, buf, sizeof buf, TRUE));
      if (!isfinite (rev[i]))
        rev[i] = 0;
    }
  FtChartSeries su[] = { { "utilisation (time on trip)", util, { 0 } },
                         { "availability (time available)", avail, { 0 } } };
  FtChart c1 = { .title = "Utilisation by hour", .x_label = "hour (local time)",
                 .y_label = "share of vehicle time (%)", .categories = (const char *const *) lab,
                 .n = n, .series = su, .n_series = 2, .style = FT_CHART_LINES, .y_percent = TRUE };
  place_chart (r, &c1, "utilisation-by-hour", 0, 2);
  g_autofree char *ylab = g_strdup_printf ("revenue (%s)", r->currency);
  FtChartSeries sr[] = { { "revenue of trips started in the hour", rev, { 0.17, 0.63, 0.17 } } };
  FtChart c2 = { .title = "Revenue by hour", .x_label = "hour (local time)", .y_label = ylab,
                 .categories = (const char *const *) lab, .n = n, .series = sr, .n_series = 1,
                 .style = FT_CHART_BARS };
  place_chart (r, &c2, "revenue-by-hour", 1, 2);
  free_labels (lab);
  page_end (r);
}

static void
page_by_zone (Report *r)
{
  page_begin (r, "Utilisation and revenue by zone");
  sqlite3_stmt *st = q (r, "SELECT coalesce(z.name, 'outside'), sum(on_trip_ms), sum(present_ms),"
                           " sum(revenue_minor), sum(requests), sum(served) FROM an_zone_hour h"
                           " LEFT JOIN an_zone z ON z.zone = h.zone GROUP BY h.zone"
                           " ORDER BY sum(revenue_minor) DESC, h.zone LIMIT 40");
  if (st == NULL)
    return;
  guint n = 0, cap = 40;
  double *util = new_values (r, cap), *rev = new_values (r, cap), *served = new_values (r, cap);
  char **lab = new_labels (r, cap);
  while (sqlite3_step (st) == SQLITE_ROW && n < cap)
    {
      lab[n] = g_strdup ((const char *) sqlite3_column_text (st, 0));
      double pres = sqlite3_column_double (st, 2);
      util[n] = pres > 0 ? sqlite3_column_double (st, 1) / pres : NAN;
      rev[n] = sqlite3_column_double (st, 3) / 100.0;
      double req = sqlite3_column_double (st, 4);
      served[n] = req > 0 ? sqlite3_column_double (st, 5) / req : NAN;
      n++;
    }
  sqlite3_finalize (st);
  g_autofree char *ylab = g_strdup_printf ("revenue (%s)", r->currency);
  FtChartSeries sr[] = { { "revenue", rev, { 0.17, 0.63, 0.17 } } };
  FtChart c1 = { .title = "Revenue by zone (the 40 zones with most revenue)", .x_label = "zone",
                 .y_label = ylab, .categories = (const char *const *) lab, .n = n, .series = sr,
                 .n_series = 1, .style = FT_CHART_BARS };
  place_chart (r, &c1, "revenue-by-zone", 0, 2);
  FtChartSeries su[] = { { "time on trip of the vehicles standing in the zone", util, { 0 } } };
  FtChart c2 = { .title = "Utilisation by zone (same zones)", .x_label = "zone",
                 .y_label = "utilisation (%)", .categories = (const char *const *) lab, .n = n,
                 .series = su, .n_series = 1, .style = FT_CHART_BARS, .y_percent = TRUE,
                 .note = "requests served and lost per zone: the zone table (page 8) and zone_hour.csv" };
  place_chart (r, &c2, "utilisation-by-zone", 1, 2);
  free_labels (lab);
  page_end (r);
}

/* Fills values from an_trip_bins metric, bins 0..n-1 (the last holds the rest). */
static void
read_bins (Report *r, const char *metric, double *v, guint n)
{
  for (guint i = 0; i < n; i++)
    v[i] = 0;
  sqlite3_stmt *st = q (r, "SELECT bin, n FROM an_trip_bins WHERE metric = ?");
  if (st == NULL)
    return;
  sqlite3_bind_text (st, 1, metric, -1, SQLITE_STATIC);
  while (sqlite3_step (st) == SQLITE_ROW)
    {
      gint64 b = sqlite3_column_int64 (st, 0);
      if (b >= 0)
        v[MIN ((guint) b, n - 1)] += sqlite3_column_double (st, 1);
    }
  sqlite3_finalize (st);
}

static void
page_trips (Report *r)
{
  page_begin (r, "Rider behaviour: trip length and duration");
  guint nd = 41, nt = 61;     /* 0–10 km in 250 m, 0–60 min */
  double *dist = new_values (r, 81), *dur = new_values (r, 121);
  read_bins (r, "distance_250m", dist, 81);
  read_bins (r, "duration_min", dur, 121);
  for (guint i = nd; i < 81; i++)
    dist[nd - 1] += dist[i];
  for (guint i = nt; i < 121; i++)
    dur[nt - 1] += dur[i];
  char **ld = new_labels (r, nd), **lt = new_labels (r, nt);
  for (guint i = 0; i < nd; i++)
    ld[i] = i == nd - 1 ? g_strdup ("10+") : g_strdup_printf ("%.2g", i * 0.25);
  for (guint i = 0; i < nt; i++)
    lt[i] = i == nt - 1 ? g_strdup ("60+") : g_strdup_printf ("%u", i);
  FtChartSeries s1[] = { { "trips", dist, { 0 } } };
  FtChart c1 = { .title = "Trip length distribution", .x_label = "trip length (km; each bar a 250 m bin from its label)",
                 .y_label = "trips", .categories = (const char *const *) ld, .n = nd,
                 .series = s1, .n_series = 1, .style = FT_CHART_BARS };
  place_chart (r, &c1, "trip-length", 0, 2);
  FtChartSeries s2[] = { { "trips", dur, { 1.0, 0.5, 0.05 } } };
  FtChart c2 = { .title = "Trip duration distribution", .x_label = "trip duration (min; each bar a 1 min bin from its label)",
                 .y_label = "trips", .categories = (const char *const *) lt, .n = nt,
                 .series = s2, .n_series = 1, .style = FT_CHART_BARS };
  place_chart (r, &c2, "trip-duration", 1, 2);
  free_labels (ld);
  free_labels (lt);
  page_end (r);
}

static void
page_time_of_day (Report *r)
{
  page_begin (r, "Rider behaviour: time of day and repeat riders");
  double *served = new_values (r, 24), *lost = new_values (r, 24);
  for (guint i = 0; i < 24; i++)
    served[i] = lost[i] = 0;
  sqlite3_stmt *st = q (r, "SELECT hour, sum(served), sum(requests) - sum(served)"
                           " FROM an_zone_hour GROUP BY hour");
  if (st == NULL)
    return;
  gint64 days_seen = 0, last_day = G_MININT64;
  while (sqlite3_step (st) == SQLITE_ROW)
    {
      gint64 local = sqlite3_column_int64 (st, 0) * HOUR_MS + r->off_ms;
      gint64 day = local >= 0 ? local / DAY_MS : (local - DAY_MS + 1) / DAY_MS;
      guint hod = (guint) ((local - day * DAY_MS) / HOUR_MS);
      if (day != last_day)
        days_seen++, last_day = day;
      served[hod] += sqlite3_column_double (st, 1);
      lost[hod] += sqlite3_column_double (st, 2);
    }
  sqlite3_finalize (st);
  for (guint i = 0; i < 24; i++)
    {
      served[i] /= MAX (days_seen, 1);
      lost[i] /= MAX (days_seen, 1);
    }
  char **lab = new_labels (r, 24);
  for (guint i = 0; i < 24; i++)
    lab[i] = g_strdup_printf ("%02u", i);
  FtChartSeries s1[] = { { "served", served, { 0.12, 0.47, 0.71 } },
                         { "lost", lost, { 0.84, 0.15, 0.16 } } };
  g_autofree char *note = g_strdup_printf ("mean over the %" G_GINT64_FORMAT " days with data (local days)", days_seen);
  FtChart c1 = { .title = "Trip requests by time of day", .x_label = "hour of day (local time)",
                 .y_label = "requests per day", .categories = (const char *const *) lab, .n = 24,
                 .series = s1, .n_series = 2, .style = FT_CHART_STACKED, .note = note };
  place_chart (r, &c1, "time-of-day", 0, 2);

  /* trips per rider */
  static const char *const buckets[] = { "1", "2", "3", "4", "5", "6–10", "11–20", "21+" };
  double *riders = new_values (r, 8), *trips = new_values (r, 8);
  for (guint i = 0; i < 8; i++)
    riders[i] = trips[i] = 0;
  st = q (r, "SELECT trips, count(*) FROM an_rider GROUP BY trips");
  if (st == NULL)
    return;
  while (sqlite3_step (st) == SQLITE_ROW)
    {
      gint64 t = sqlite3_column_int64 (st, 0);
      guint b = t <= 5 ? (guint) MAX (t, 1) - 1 : t <= 10 ? 5 : t <= 20 ? 6 : 7;
      riders[b] += sqlite3_column_double (st, 1);
      trips[b] += sqlite3_column_double (st, 1) * (double) t;
    }
  sqlite3_finalize (st);
  FtChartSeries s2[] = { { "riders", riders, { 0.58, 0.40, 0.74 } },
                         { "their trips", trips, { 0.55, 0.34, 0.29 } } };
  FtChart c2 = { .title = "Repeat riders: riders by number of trips", .x_label = "trips per rider",
                 .y_label = "riders / trips", .categories = buckets, .n = 8, .series = s2,
                 .n_series = 2, .style = FT_CHART_BARS };
  place_chart (r, &c2, "repeat-riders", 1, 2);
  free_labels (lab);
  page_end (r);
}

static void
page_fleet_health (Report *r)
{
  page_begin (r, "Fleet health: battery, faults and downtime");
  double *soc = new_values (r, 21);
  read_bins (r, "soc_5pct", soc, 21);
  double total = 0;
  for (guint i = 0; i < 21; i++)
    total += soc[i];
  const char *what = "telemetry readings";
  if (total == 0 && ft_analytics_has_table (r->db, "packs"))
    {
      /* no telemetry (a simulated run): the packs' state of charge at the end */
      what = "battery packs at the end of the run";
      sqlite3_stmt *st = q (r, "SELECT min(20, max(0, CAST(soc * 20 AS INTEGER))), count(*) FROM packs GROUP BY 1");
      if (st == NULL)
        return;
      while (sqlite3_step (st) == SQLITE_ROW)
        soc[sqlite3_column_int (st, 0)] += sqlite3_column_double (st, 1);
      sqlite3_finalize (st);
    }
  soc[19] += soc[20];
  char **lab = new_labels (r, 20);
  for (guint i = 0; i < 20; i++)
    lab[i] = g_strdup_printf ("%u–%u", i * 5, i * 5 + 5);
  FtChartSeries s1[] = { { what, soc, { 0.17, 0.63, 0.17 } } };
  FtChart c1 = { .title = "Battery state of charge", .x_label = "state of charge (%, 5 % bins)",
                 .y_label = "count", .categories = (const char *const *) lab, .n = 20, .series = s1,
                 .n_series = 1, .style = FT_CHART_BARS };
  place_chart (r, &c1, "battery", 0, 2);

  sqlite3_stmt *st = q (r, "SELECT day, sum(faults), sum(downtime_ms) / 3600000.0,"
                           " sum(fault_ms) / 3600000.0 FROM an_vehicle_day GROUP BY day ORDER BY day");
  if (st == NULL)
    return;
  guint cap = 400, n = 0;
  double *faults = new_values (r, cap), *down = new_values (r, cap), *fh = new_values (r, cap);
  char **dl = new_labels (r, cap);
  while (sqlite3_step (st) == SQLITE_ROW && n < cap)
    {
      dl[n] = NULL;
      faults[n] = sqlite3_column_double (st, 1);
      down[n] = sqlite3_column_double (st, 2);
      fh[n] = sqlite3_column_double (st, 3);
      n++;
    }
  sqlite3_finalize (st);
  /* days as 1-based run days */
  for (guint i = 0; i < n; i++)
    dl[i] = g_strdup_printf ("day %u", i + 1);
  double fsum = 0;
  for (guint i = 0; i < n; i++)
    fsum += faults[i];
  g_autofree char *note = g_strdup_printf ("%.0f faults reported in all; downtime = vehicle time not "
                                           "available, reserved or on a trip (battery low, repair, "
                                           "in a van)", fsum);
  FtChartSeries s2[] = { { "downtime (vehicle-hours)", down, { 0.50, 0.50, 0.50 } },
                         { "of which with a fault", fh, { 0.84, 0.15, 0.16 } } };
  FtChart c2 = { .title = "Faults and downtime per day", .x_label = "day of the run",
                 .y_label = "vehicle-hours", .categories = (const char *const *) dl, .n = n,
                 .series = s2, .n_series = 2, .style = FT_CHART_BARS, .note = note };
  place_chart (r, &c2, "downtime", 1, 2);
  free_labels (lab);
  free_labels (dl);
  page_end (r);
}

static void
page_staff (Report *r)
{
  page_begin (r, "Staff productivity");
  sqlite3_stmt *st = q (r, "SELECT coalesce(nullif(a.display_name, ''), a.id, 'staff ' || s.staff), sum(swaps), sum(rebalances),"
                           " sum(repairs) + sum(deploys), sum(last_t - shift_start) / 3600000.0,"
                           " sum(metres) / 1000.0, count(*)"
                           " FROM an_staff_shift s LEFT JOIN accounts a ON a.idx = s.staff"
                           " GROUP BY s.staff ORDER BY s.staff LIMIT 60");
  if (st == NULL)
    return;
  guint cap = 60, n = 0;
  double *sw = new_values (r, cap), *rb = new_values (r, cap), *ot = new_values (r, cap),
         *tph = new_values (r, cap), *km = new_values (r, cap);
  char **lab = new_labels (r, cap);
  while (sqlite3_step (st) == SQLITE_ROW && n < cap)
    {
      const char *id = (const char *) sqlite3_column_text (st, 0);
      lab[n] = g_strdup (id ? id : "");
      sw[n] = sqlite3_column_double (st, 1);
      rb[n] = sqlite3_column_double (st, 2);
      ot[n] = sqlite3_column_double (st, 3);
      double h = sqlite3_column_double (st, 4);
      tph[n] = h > 0 ? (sw[n] + rb[n] + ot[n]) / h : NAN;
      km[n] = sqlite3_column_double (st, 5);
      n++;
    }
  sqlite3_finalize (st);
  FtChartSeries s1[] = { { "battery swaps", sw, { 0 } }, { "rebalancing moves", rb, { 0 } },
                         { "repairs and deployments", ot, { 0 } } };
  const char *t1 = n == cap ? "Tasks done per staff member (the first 60; all in staff_shift.csv)"
                            : "Tasks done per staff member";
  FtChart c1 = { .title = t1, .x_label = "staff member",
                 .y_label = "tasks", .categories = (const char *const *) lab, .n = n,
                 .series = s1, .n_series = 3, .style = FT_CHART_STACKED };
  place_chart (r, &c1, "staff-tasks", 0, 2);
  FtChartSeries s2[] = { { "tasks per hour on shift", tph, { 0.12, 0.47, 0.71 } },
                         { "km per hour on shift", km, { 1.0, 0.5, 0.05 } } };
  st = q (r, "SELECT sum(last_t - shift_start) / 3600000.0 FROM an_staff_shift GROUP BY staff ORDER BY staff LIMIT 60");
  if (st == NULL)
    return;
  for (guint i = 0; i < n && sqlite3_step (st) == SQLITE_ROW; i++)
    {
      double h = sqlite3_column_double (st, 0);
      km[i] = h > 0 ? km[i] / h : NAN;
    }
  sqlite3_finalize (st);
  FtChart c2 = { .title = "Productivity per staff member", .x_label = "staff member",
                 .y_label = "tasks per hour, km per hour", .categories = (const char *const *) lab, .n = n,
                 .series = s2, .n_series = 2, .style = FT_CHART_BARS,
                 .note = "shift = a run of a staff member's task events with no gap over 3 h; "
                         "km = straight lines between the places of finished tasks" };
  place_chart (r, &c2, "staff-productivity", 1, 2);
  free_labels (lab);
  page_end (r);
}

static void
page_zone_table (Report *r)
{
  page_begin (r, "Table: zones");
  sqlite3_stmt *st = q (r, "SELECT coalesce(z.name, 'outside'), sum(requests), sum(served),"
                           " sum(requests) - sum(served), sum(revenue_minor),"
                           " sum(on_trip_ms) * 1.0 / max(1, sum(present_ms)),"
                           " sum(available_ms) * 1.0 / max(1, sum(present_ms)),"
                           " sum(present_ms) / 3600000.0"
                           " FROM an_zone_hour h LEFT JOIN an_zone z ON z.zone = h.zone"
                           " GROUP BY h.zone ORDER BY sum(requests) DESC, h.zone");
  if (st == NULL)
    return;
  g_autoptr (GPtrArray) cells = g_ptr_array_new_with_free_func (g_free);
  while (sqlite3_step (st) == SQLITE_ROW)
    {
      g_ptr_array_add (cells, g_strdup ((const char *) sqlite3_column_text (st, 0)));
      for (int c = 1; c <= 3; c++)
        g_ptr_array_add (cells, g_strdup_printf ("%" G_GINT64_FORMAT, (gint64) sqlite3_column_int64 (st, c)));
      g_ptr_array_add (cells, g_strdup_printf ("%.2f", sqlite3_column_double (st, 4) / 100.0));
      g_ptr_array_add (cells, g_strdup_printf ("%.1f %%", 100 * sqlite3_column_double (st, 5)));
      g_ptr_array_add (cells, g_strdup_printf ("%.1f %%", 100 * sqlite3_column_double (st, 6)));
      g_ptr_array_add (cells, g_strdup_printf ("%.0f", sqlite3_column_double (st, 7)));
    }
  sqlite3_finalize (st);
  g_autofree char *rev = g_strdup_printf ("revenue (%s)", r->currency);
  const char *const header[] = { "zone", "requests", "served", "lost", rev, "utilisation",
                                 "availability", "vehicle-hours" };
  place_table (r, "Zones by requests", header, 8, cells, 0, 1);
  page_end (r);
}

static void
page_staff_table (Report *r)
{
  page_begin (r, "Table: staff shifts and vehicles");
  sqlite3_stmt *st = q (r, "SELECT coalesce(nullif(a.display_name, ''), a.id, 'staff ' || s.staff), count(*), sum(tasks),"
                           " sum(swaps), sum(rebalances), sum(repairs), sum(deploys),"
                           " sum(metres) / 1000.0, sum(last_t - shift_start) / 60000.0"
                           " FROM an_staff_shift s LEFT JOIN accounts a ON a.idx = s.staff"
                           " GROUP BY s.staff ORDER BY sum(tasks) DESC, s.staff");
  if (st == NULL)
    return;
  g_autoptr (GPtrArray) cells = g_ptr_array_new_with_free_func (g_free);
  while (sqlite3_step (st) == SQLITE_ROW)
    {
      g_ptr_array_add (cells, g_strdup ((const char *) sqlite3_column_text (st, 0)));
      for (int c = 1; c <= 6; c++)
        g_ptr_array_add (cells, g_strdup_printf ("%" G_GINT64_FORMAT, (gint64) sqlite3_column_int64 (st, c)));
      g_ptr_array_add (cells, g_strdup_printf ("%.1f", sqlite3_column_double (st, 7)));
      g_ptr_array_add (cells, g_strdup_printf ("%.0f", sqlite3_column_double (st, 8)));
    }
  sqlite3_finalize (st);
  const char *const header[] = { "staff", "shifts", "tasks", "swaps", "rebalances", "repairs",
                                 "deploys", "km", "minutes" };
  place_table (r, "Staff by tasks done", header, 9, cells, 0, 2);

  st = q (r, "SELECT coalesce(v.name, 'vehicle ' || d.vehicle), sum(trips), sum(metres) / 1000.0,"
             " sum(revenue_minor), sum(downtime_ms) / 3600000.0, sum(faults), sum(swaps)"
             " FROM an_vehicle_day d LEFT JOIN vehicles v ON v.idx = d.vehicle"
             " GROUP BY d.vehicle ORDER BY sum(downtime_ms) DESC, d.vehicle LIMIT 200");
  if (st == NULL)
    return;
  g_autoptr (GPtrArray) vc = g_ptr_array_new_with_free_func (g_free);
  while (sqlite3_step (st) == SQLITE_ROW)
    {
      g_ptr_array_add (vc, g_strdup ((const char *) sqlite3_column_text (st, 0)));
      g_ptr_array_add (vc, g_strdup_printf ("%" G_GINT64_FORMAT, (gint64) sqlite3_column_int64 (st, 1)));
      g_ptr_array_add (vc, g_strdup_printf ("%.1f", sqlite3_column_double (st, 2)));
      g_ptr_array_add (vc, g_strdup_printf ("%.2f", sqlite3_column_double (st, 3) / 100.0));
      g_ptr_array_add (vc, g_strdup_printf ("%.1f", sqlite3_column_double (st, 4)));
      g_ptr_array_add (vc, g_strdup_printf ("%" G_GINT64_FORMAT, (gint64) sqlite3_column_int64 (st, 5)));
      g_ptr_array_add (vc, g_strdup_printf ("%" G_GINT64_FORMAT, (gint64) sqlite3_column_int64 (st, 6)));
    }
  sqlite3_finalize (st);
  g_autofree char *rev = g_strdup_printf ("revenue (%s)", r->currency);
  const char *const vh[] = { "vehicle", "trips", "km", rev, "downtime (h)", "faults", "swaps" };
  place_table (r, "Vehicles with the most downtime", vh, 7, vc, 1, 2);
  page_end (r);
}

static gboolean
write_csvs (Report *r)
{
  const char *const *names = ft_analytics_table_names ();
  for (guint i = 0; names[i]; i++)
    {
      g_autoptr (GString) s = g_string_new (NULL);
      if (!ft_analytics_export (r->db, names[i], FT_ANALYTICS_CSV, NULL, s, r->error))
        return FALSE;
      g_autofree char *file = g_strdup_printf ("%s.csv", names[i]);
      g_autofree char *path = g_build_filename (r->dir, file, NULL);
      if (!g_file_set_contents (path, s->str, (gssize) s->len, r->error))
        return FALSE;
    }
  return TRUE;
}

gboolean
ft_report_write (sqlite3 *db, const FtReportInfo *info, const char *pdf_path, const char *dir,
                 guint *n_pages, GError **error)
{
  g_return_val_if_fail (db != NULL && info != NULL && pdf_path != NULL, FALSE);
  g_autoptr (GArray) kpis = ft_analytics_kpis (db, error);
  if (kpis == NULL)
    return FALSE;
  Report r = { .db = db, .dir = dir, .info = info, .error = error };
  g_autofree char *cur = ft_analytics_dup_meta (db, "currency");
  r.currency = cur ? cur : (char *) "minor units ÷ 100";
  r.off_ms = meta_i64 (&r, "utc_offset_min", 0) * 60000 - meta_i64 (&r, "monday_ms", 0);
  r.keep = g_ptr_array_new_with_free_func (g_free);
  cairo_surface_t *surf = cairo_pdf_surface_create (pdf_path, PAGE_W, PAGE_H);
  if (cairo_surface_status (surf) != CAIRO_STATUS_SUCCESS)
    {
      g_set_error (error, G_FILE_ERROR, G_FILE_ERROR_IO, "%s: cannot write the PDF: %s", pdf_path,
                   cairo_status_to_string (cairo_surface_status (surf)));
      cairo_surface_destroy (surf);
      g_ptr_array_unref (r.keep);
      return FALSE;
    }
  cairo_pdf_surface_set_metadata (surf, CAIRO_PDF_METADATA_TITLE, info->title ? info->title : "Fleet Twin report");
  cairo_pdf_surface_set_metadata (surf, CAIRO_PDF_METADATA_CREATOR, "Fleet Twin");
  r.cr = cairo_create (surf);
  page_title (&r, kpis);
  if (!r.failed) page_by_hour (&r);
  if (!r.failed) page_by_zone (&r);
  if (!r.failed) page_trips (&r);
  if (!r.failed) page_time_of_day (&r);
  if (!r.failed) page_fleet_health (&r);
  if (!r.failed) page_staff (&r);
  if (!r.failed) page_zone_table (&r);
  if (!r.failed) page_staff_table (&r);
  cairo_destroy (r.cr);
  cairo_surface_finish (surf);
  cairo_status_t cs = cairo_surface_status (surf);
  cairo_surface_destroy (surf);
  g_ptr_array_unref (r.keep);
  if (!r.failed && cs != CAIRO_STATUS_SUCCESS)
    {
      g_set_error (error, G_FILE_ERROR, G_FILE_ERROR_IO, "%s: cannot write the PDF: %s", pdf_path,
                   cairo_status_to_string (cs));
      return FALSE;
    }
  if (!r.failed && dir && !write_csvs (&r))
    return FALSE;
  if (n_pages)
    *n_pages = r.page;
  return !r.failed;
}

/* A PDF this module wrote (cairo records the creator in the file). */
static gboolean
pdf_is_own (const char *path)
{
  g_autofree char *data = NULL;
  gsize len = 0;
  if (!ft_file_read (path, 256u << 20, &data, &len, NULL) || len < 5 || memcmp (data, "%PDF-", 5) != 0)
    return FALSE;
  static const char mark[] = "Fleet Twin";
  for (gsize i = 0; i + sizeof mark - 1 <= len; i++)
    if (data[i] == 'F' && memcmp (data + i, mark, sizeof mark - 1) == 0)
      return TRUE;
  return FALSE;
}

gboolean
ft_report_export (sqlite3 *db, const FtReportInfo *info, const char *pdf_path, gboolean force,
                  guint *n_pages, GError **error)
{
  g_return_val_if_fail (db != NULL && info != NULL && pdf_path != NULL, FALSE);
  gsize len = strlen (pdf_path);
  if (!g_str_has_suffix (pdf_path, ".pdf") || len <= 4 || g_str_has_suffix (pdf_path, "/.pdf"))
    {
      g_set_error (error, FT_ANALYTICS_ERROR, FT_ANALYTICS_ERROR_USAGE,
                   "'%s' must name a .pdf file (its charts and tables go in the folder of the same "
                   "name without .pdf)", pdf_path);
      return FALSE;
    }
  g_autofree char *dir = g_strndup (pdf_path, len - 4);
  g_autoptr (FtOutput) dir_out = ft_output_begin (dir, FT_OUTPUT_DIR, ft_output_dir_is_marked, force, error);
  if (dir_out == NULL)
    return FALSE;
  g_autoptr (FtOutput) pdf_out = ft_output_begin (pdf_path, FT_OUTPUT_FILE, pdf_is_own, force, error);
  if (pdf_out == NULL)
    return FALSE;
  if (!ft_report_write (db, info, ft_output_get_path (pdf_out), ft_output_get_path (dir_out), n_pages, error))
    return FALSE;
  return ft_output_commit (g_steal_pointer (&dir_out), error) && ft_output_commit (g_steal_pointer (&pdf_out), error);
}
