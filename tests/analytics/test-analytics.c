/* test-analytics.c — the analytics build and exports (src/analytics):
 * an incremental build (half the log, then the rest; or many small
 * batches) gives every aggregate table exactly as a from-scratch build; a
 * second build with nothing new changes nothing; the aggregates agree with
 * the simulator's own KPIs; bad input (unknown table or format, a window
 * outside the data, other zones, no aggregates yet) is refused naming it and
 * changes nothing; the report has its pages.
 */
#include "ft-config.h"
#include "ft-analytics.h"
#include "ft-chart.h"
#include "ft-report.h"
#include "ft-sim-world.h"
#include "ft-store.h"
#include "ft-test.h"

#include <check.h>
#include <json-glib/json-glib.h>
#include <glib/gstdio.h>
#include <math.h>
#include <string.h>

static char *tmp_dir;
static char *run_db;        /* a half-day Demo City run, made once */
static guint64 run_events;
static FtCity *city;

static int
zone_at (double lat, double lon, gpointer data)
{
  return ft_city_zone_at (data, (FtLatLon) { lat, lon });
}

static FtAnalyticsZoning
zoning (const char *signature)
{
  FtAnalyticsZoning z = { .n_zones = city->n_zones, .zone_at = zone_at, .user_data = city,
                          .signature = signature, .currency = "EUR" };
  return z;
}

static void
make_run (void)
{
  tmp_dir = g_dir_make_tmp ("ft-analytics-XXXXXX", NULL);
  run_db = g_build_filename (tmp_dir, "run.db", NULL);
  g_autoptr (GError) error = NULL;
  g_autofree char *path = ft_test_source_path ("scenarios/demo-city-phase1.scenario");
  g_autoptr (FtSimScenario) sc = ft_sim_scenario_load (path, &error);
  g_assert_no_error (error);
  sc->days = 0.6;
  city = ft_city_new_demo ();
  FtSimWorldOptions opt = { .store_path = run_db };
  FtSimWorld *w = ft_sim_world_new (sc, city, &opt, &error);
  g_assert_no_error (error);
  g_assert_true (ft_sim_world_run (w, NULL, NULL, &error));
  g_assert_true (ft_sim_world_finish (w, &error));
  g_assert_no_error (error);
  FtSimKpis k;
  ft_sim_world_kpis (w, &k);
  run_events = k.domain_events;
  ft_sim_world_free (w);
}

static void
suite_setup (void)
{
  if (run_db == NULL)
    make_run ();
}

static char *
copy_db (const char *name)
{
  char *dst = g_build_filename (tmp_dir, name, NULL);
  g_autofree char *data = NULL;
  gsize len = 0;
  g_assert_true (g_file_get_contents (run_db, &data, &len, NULL));
  g_assert_true (g_file_set_contents (dst, data, (gssize) len, NULL));
  g_autofree char *wal = g_strconcat (dst, "-wal", NULL);
  g_remove (wal);
  return dst;
}

static FtStore *
open_store (const char *path)
{
  g_autoptr (GError) error = NULL;
  FtStore *s = ft_store_open (path, NULL, &error);
  g_assert_no_error (error);
  return s;
}

static void
build (FtStore *s, const char *sig, guint batch, guint64 upto)
{
  g_autoptr (GError) error = NULL;
  FtAnalyticsZoning z = zoning (sig);
  FtAnalyticsBuildOptions o = { .batch_events = batch, .stop_after_seq = upto };
  FtAnalyticsBuildStats st;
  gboolean ok = ft_analytics_build (ft_store_get_db (s), &z, &o, &st, &error);
  g_assert_no_error (error);
  ck_assert (ok);
}

/* Every row of every aggregate table, as text. */
static char *
dump (FtStore *s)
{
  static const char *const sql[] = {
    "SELECT * FROM an_zone_hour ORDER BY zone, hour",
    "SELECT * FROM an_vehicle_day ORDER BY vehicle, day",
    "SELECT * FROM an_trip_bins ORDER BY metric, bin",
    "SELECT * FROM an_rider ORDER BY rider",
    "SELECT * FROM an_rider_week ORDER BY rider, week",
    "SELECT * FROM an_staff_shift ORDER BY staff, shift_start",
    "SELECT * FROM an_vehicle_open ORDER BY vehicle",
    "SELECT * FROM an_staff_open ORDER BY staff",
    "SELECT * FROM an_zone ORDER BY zone",
    "SELECT * FROM an_meta ORDER BY key",
  };
  GString *out = g_string_new (NULL);
  sqlite3 *db = ft_store_get_db (s);
  for (guint i = 0; i < G_N_ELEMENTS (sql); i++)
    {
      sqlite3_stmt *st = NULL;
      ck_assert_int_eq (sqlite3_prepare_v2 (db, sql[i], -1, &st, NULL), SQLITE_OK);
      guint rows = 0;
      while (sqlite3_step (st) == SQLITE_ROW)
        {
          for (int c = 0; c < sqlite3_column_count (st); c++)
            g_string_append_printf (out, "%s|", (const char *) sqlite3_column_text (st, c));
          g_string_append_c (out, '\n');
          rows++;
        }
      sqlite3_finalize (st);
      g_string_append_printf (out, "== %s: %u rows\n", sql[i], rows);
    }
  return g_string_free (out, FALSE);
}

static gint64
count (FtStore *s, const char *sql)
{
  sqlite3_stmt *st = NULL;
  ck_assert_int_eq (sqlite3_prepare_v2 (ft_store_get_db (s), sql, -1, &st, NULL), SQLITE_OK);
  ck_assert_int_eq (sqlite3_step (st), SQLITE_ROW);
  gint64 v = sqlite3_column_int64 (st, 0);
  sqlite3_finalize (st);
  return v;
}

/* The first line that differs, for the failure message. */
static char *
first_diff (const char *a, const char *b)
{
  g_auto (GStrv) la = g_strsplit (a, "\n", -1);
  g_auto (GStrv) lb = g_strsplit (b, "\n", -1);
  for (guint i = 0; la[i] || lb[i]; i++)
    if (la[i] == NULL || lb[i] == NULL || strcmp (la[i], lb[i]) != 0)
      return g_strdup_printf ("line %u: '%s' vs '%s'", i + 1, la[i] ? la[i] : "(end)", lb[i] ? lb[i] : "(end)");
  return g_strdup ("none");
}

static void
assert_same (const char *a, const char *b, const char *what)
{
  if (strcmp (a, b) != 0)
    {
      g_autofree char *d = first_diff (a, b);
      ck_abort_msg ("%s differs from the full build at %s", what, d);
    }
}

START_TEST (test_incremental_equals_full)
{
  g_autofree char *full_p = copy_db ("full.db");
  g_autofree char *half_p = copy_db ("half.db");
  g_autofree char *small_p = copy_db ("small.db");
  g_autoptr (FtStore) full = open_store (full_p);
  g_autoptr (FtStore) half = open_store (half_p);
  g_autoptr (FtStore) small = open_store (small_p);
  guint64 n = ft_store_last_seq (full);
  ck_assert_uint_gt (n, 10000);

  build (full, "demo", 0, 0);
  /* half the log, then the rest (an odd cut, mid-hour, mid-trip) */
  build (half, "demo", 0, n / 2 + 7);
  ck_assert_int_eq (count (half, "SELECT value FROM an_meta WHERE key = 'high_water_seq'"), (gint64) (n / 2 + 7));
  build (half, "demo", 0, 0);
  /* many small batches, each its own transaction */
  build (small, "demo", 997, 0);

  g_autofree char *a = dump (full);
  g_autofree char *b = dump (half);
  g_autofree char *c = dump (small);
  ck_assert_int_gt (count (full, "SELECT count(*) FROM an_zone_hour"), 100);
  ck_assert_int_gt (count (full, "SELECT count(*) FROM an_staff_shift"), 0);
  ck_assert_int_gt (count (full, "SELECT count(*) FROM an_rider"), 100);
  assert_same (a, b, "half + rest");
  assert_same (a, c, "997-event batches");

  /* a build with nothing new changes nothing */
  build (full, "demo", 0, 0);
  g_autofree char *again = dump (full);
  assert_same (a, again, "a second build with no new events");
}
END_TEST

/* The aggregates reproduce the simulator's own counters where the two
 * measure the same thing. */
START_TEST (test_matches_simulator)
{
  g_autofree char *p = copy_db ("kpi.db");
  g_autoptr (FtStore) s = open_store (p);
  build (s, "demo", 0, 0);
  g_autofree char *sim = ft_store_dup_meta (s, "kpis");
  g_autoptr (GError) error = NULL;
  g_autoptr (GArray) k = ft_analytics_kpis (ft_store_get_db (s), &error);
  g_assert_no_error (error);
  g_autoptr (GHashTable) h = g_hash_table_new (g_str_hash, g_str_equal);
  for (guint i = 0; i < k->len; i++)
    {
      FtAnalyticsKpi *x = &g_array_index (k, FtAnalyticsKpi, i);
      g_hash_table_insert (h, (gpointer) x->key, &x->value);
    }
  static const char *const same[] = { "trips_lost", "lost_no_vehicle", "lost_low_battery",
                                      "lost_price", "lost_refused", "revenue_minor", "faults",
                                      "battery_swaps" };
  for (guint i = 0; i < G_N_ELEMENTS (same); i++)
    {
      g_autofree char *pat = g_strdup_printf ("\"%s\": ", same[i]);
      const char *at = strstr (sim, pat);
      ck_assert_msg (at != NULL, "simulator KPI %s missing", same[i]);
      double want = g_ascii_strtod (at + strlen (pat), NULL);
      double *got = g_hash_table_lookup (h, same[i]);
      ck_assert_msg (got && *got == want, "%s: analytics %g, simulator %g", same[i], got ? *got : NAN, want);
    }
  /* served: the simulator counts a reservation, analytics an unlock; the
   * few reservations still open at the end make the difference */
  const char *at = strstr (sim, "\"trips_served\": ");
  double served = g_ascii_strtod (at + strlen ("\"trips_served\": "), NULL);
  double *got = g_hash_table_lookup (h, "trips_served");
  ck_assert_msg (*got <= served && *got >= served - 20, "served %g vs %g", *got, served);
  at = strstr (sim, "\"mean_trip_km\": ");
  double km = g_ascii_strtod (at + strlen ("\"mean_trip_km\": "), NULL);
  ck_assert_double_eq_tol (*(double *) g_hash_table_lookup (h, "mean_trip_km"), km, 0.01);
}
END_TEST

START_TEST (test_bad_input)
{
  g_autofree char *p = copy_db ("bad.db");
  g_autoptr (FtStore) s = open_store (p);
  sqlite3 *db = ft_store_get_db (s);
  g_autoptr (GString) out = g_string_new (NULL);
  g_autoptr (GError) error = NULL;

  /* nothing built yet */
  ck_assert (!ft_analytics_export (db, "zone_hour", FT_ANALYTICS_CSV, NULL, out, &error));
  g_assert_error (error, FT_ANALYTICS_ERROR, FT_ANALYTICS_ERROR_NOT_BUILT);
  ck_assert_ptr_nonnull (strstr (error->message, "analytics build"));
  g_clear_error (&error);
  ck_assert_ptr_null (ft_analytics_kpis (db, &error));
  g_clear_error (&error);

  build (s, "demo", 0, 0);
  g_autofree char *before = dump (s);
  ck_assert (!ft_analytics_export (db, "zone_hours", FT_ANALYTICS_CSV, NULL, out, &error));
  g_assert_error (error, FT_ANALYTICS_ERROR, FT_ANALYTICS_ERROR_USAGE);
  ck_assert_ptr_nonnull (strstr (error->message, "'zone_hours'"));
  ck_assert_ptr_nonnull (strstr (error->message, "vehicle_day"));
  g_clear_error (&error);
  FtAnalyticsFormat f;
  ck_assert (!ft_analytics_format_from_name ("xml", &f));
  ck_assert (ft_analytics_format_from_name ("json", &f) && f == FT_ANALYTICS_JSON);

  /* windows: outside the data, empty, on a table without time */
  FtAnalyticsWindow far = { 400LL * 86400000, 401LL * 86400000 };
  ck_assert (!ft_analytics_export (db, "zone_hour", FT_ANALYTICS_CSV, &far, out, &error));
  g_assert_error (error, FT_ANALYTICS_ERROR, FT_ANALYTICS_ERROR_USAGE);
  ck_assert_ptr_nonnull (strstr (error->message, "outside the built data"));
  g_clear_error (&error);
  FtAnalyticsWindow empty = { 7200000, 3600000 };
  ck_assert (!ft_analytics_export (db, "zone_hour", FT_ANALYTICS_CSV, &empty, out, &error));
  g_assert_error (error, FT_ANALYTICS_ERROR, FT_ANALYTICS_ERROR_USAGE);
  g_clear_error (&error);
  FtAnalyticsWindow some = { 0, 3600000 };
  ck_assert (!ft_analytics_export (db, "cohorts", FT_ANALYTICS_CSV, &some, out, &error));
  g_assert_error (error, FT_ANALYTICS_ERROR, FT_ANALYTICS_ERROR_USAGE);
  g_clear_error (&error);
  ck_assert_uint_eq (out->len, 0);

  /* a window inside: only those hours */
  FtAnalyticsWindow eight = { 8 * 3600000LL, 9 * 3600000LL };
  ck_assert (ft_analytics_export (db, "zone_hour", FT_ANALYTICS_CSV, &eight, out, &error));
  g_auto (GStrv) lines = g_strsplit (out->str, "\n", -1);
  ck_assert_uint_gt (g_strv_length (lines), 3);
  for (guint i = 1; lines[i] && *lines[i]; i++)
    {
      g_auto (GStrv) cols = g_strsplit (lines[i], ",", -1);
      ck_assert_str_eq (cols[2], "8");
    }

  /* other zones: refused, nothing changed */
  FtAnalyticsZoning z = zoning ("another city");
  ck_assert (!ft_analytics_build (db, &z, NULL, NULL, &error));
  g_assert_error (error, FT_ANALYTICS_ERROR, FT_ANALYTICS_ERROR_ZONING);
  ck_assert_ptr_nonnull (strstr (error->message, "another city"));
  g_clear_error (&error);
  g_autofree char *after = dump (s);
  assert_same (before, after, "the aggregates after refused input");
}
END_TEST

START_TEST (test_exports_and_kpis)
{
  g_autofree char *p = copy_db ("exp.db");
  g_autoptr (FtStore) s = open_store (p);
  build (s, "demo", 0, 0);
  sqlite3 *db = ft_store_get_db (s);
  for (const char *const *t = ft_analytics_table_names (); *t; t++)
    for (int f = 0; f < 2; f++)
      {
        g_autoptr (GString) out = g_string_new (NULL);
        g_autoptr (GError) error = NULL;
        ck_assert_msg (ft_analytics_export (db, *t, f ? FT_ANALYTICS_JSON : FT_ANALYTICS_CSV, NULL, out, &error),
                       "%s: %s", *t, error ? error->message : "");
        ck_assert_uint_gt (out->len, 10);
        if (f)
          {
            g_autoptr (JsonParser) jp = json_parser_new ();
            ck_assert_msg (json_parser_load_from_data (jp, out->str, (gssize) out->len, NULL),
                           "%s is not JSON", *t);
          }
      }
  /* the KPI set: always the same keys, finite where the data measures them */
  g_autoptr (GError) error = NULL;
  g_autoptr (GArray) k = ft_analytics_kpis (db, &error);
  ck_assert_uint_eq (k->len, 35);
  for (guint i = 0; i < k->len; i++)
    {
      FtAnalyticsKpi *x = &g_array_index (k, FtAnalyticsKpi, i);
      if (strcmp (x->key, "mean_soc") != 0)
        ck_assert_msg (isfinite (x->value), "%s is not finite", x->key);
    }
  ck_assert_str_eq (g_array_index (k, FtAnalyticsKpi, 0).key, "days");
}
END_TEST

START_TEST (test_report_pages)
{
  g_autofree char *p = copy_db ("rep.db");
  g_autoptr (FtStore) s = open_store (p);
  build (s, "demo", 0, 0);
  g_autofree char *pdf = g_build_filename (tmp_dir, "r.pdf", NULL);
  g_autofree char *dir = g_build_filename (tmp_dir, "r", NULL);
  g_mkdir (dir, 0755);
  FtReportInfo info = { .title = "test run", .source = p, .kind = "simulated run" };
  guint pages = 0;
  g_autoptr (GError) error = NULL;
  ck_assert (ft_report_write (ft_store_get_db (s), &info, pdf, dir, &pages, &error));
  g_assert_no_error (error);
  ck_assert_uint_eq (pages, FT_REPORT_N_PAGES);
  g_autofree char *data = NULL;
  gsize len = 0;
  ck_assert (g_file_get_contents (pdf, &data, &len, NULL));
  ck_assert (len > 10000 && memcmp (data, "%PDF-", 5) == 0);
  static const char *const files[] = { "utilisation-by-hour.png", "revenue-by-zone.png",
                                       "trip-length.png", "battery.png", "staff-tasks.png",
                                       "zone_hour.csv", "kpis.csv", "cohorts.csv" };
  for (guint i = 0; i < G_N_ELEMENTS (files); i++)
    {
      g_autofree char *f = g_build_filename (dir, files[i], NULL);
      ck_assert_msg (g_file_test (f, G_FILE_TEST_IS_REGULAR), "%s missing", files[i]);
    }
}
END_TEST

/* A title wider than the chart is set smaller, not cut at both edges (the
 * app's Experiments page drew "…or: each design's…" at 1024 px): the
 * outer columns of the title band stay white. */
START_TEST (test_chart_long_title)
{
  const int W = 400, H = 300;
  cairo_surface_t *surf = cairo_image_surface_create (CAIRO_FORMAT_RGB24, W, H);
  cairo_t *cr = cairo_create (surf);
  double v[2] = { 1, 2 };
  FtChartSeries s1[] = { { "x", v, { 0 } } };
  FtChart c = { .title = "revenue_minor: each design's estimate against the whole-fleet truth (mean and interval)",
                .n = 2, .series = s1, .n_series = 1, .style = FT_CHART_BARS };
  ft_chart_draw (cr, W, H, &c);
  cairo_surface_flush (surf);
  const unsigned char *px = cairo_image_surface_get_data (surf);
  int stride = cairo_image_surface_get_stride (surf);
  double fs = CLAMP (H / 32.0, 7.0, 13.0);
  guint dark = 0;
  for (int y = 0; y < (int) (fs * 2.6); y++)
    for (int x = 0; x < W; x++)
      if (x < 6 || x >= W - 6)
        {
          guint32 p = *(const guint32 *) (px + y * stride + 4 * x);
          dark += ((p >> 16) & 0xff) < 128 && ((p >> 8) & 0xff) < 128 && (p & 0xff) < 128;
        }
  ck_assert_msg (dark == 0, "%u dark pixels at the title's ends: the title is cut", dark);
  cairo_destroy (cr);
  cairo_surface_destroy (surf);
}
END_TEST

/* A chart with no finite value and one with a single category draw without
 * trouble (the dashboard shows empty runs too). */
START_TEST (test_chart_edges)
{
  cairo_surface_t *surf = cairo_image_surface_create (CAIRO_FORMAT_RGB24, 300, 200);
  cairo_t *cr = cairo_create (surf);
  double nan1[1] = { NAN }, one[1] = { 5 };
  FtChartSeries s1[] = { { "x", nan1, { 0 } } }, s2[] = { { NULL, one, { 0 } } };
  FtChart c = { .title = "empty", .n = 1, .series = s1, .n_series = 1, .style = FT_CHART_LINES };
  ft_chart_draw (cr, 300, 200, &c);
  c.series = s2;
  c.style = FT_CHART_STACKED;
  ft_chart_draw (cr, 300, 200, &c);
  c.n = 0;
  ft_chart_draw (cr, 20, 10, &c);     /* too small to plot: draws the title only */
  ck_assert_int_eq (cairo_status (cr), CAIRO_STATUS_SUCCESS);
  cairo_destroy (cr);
  cairo_surface_destroy (surf);
}
END_TEST

/* Damaged or extreme logs: a vehicle index no fleet has is refused naming
 * the event, and nothing of its batch stays; a time stamp far ahead (a twin
 * down for weeks, or garbage) neither hangs the build nor makes an
 * incremental build differ from a full one. */
static void
append_event (FtStore *s, gint64 dt_ms, int kind, gint64 vehicle, int a, gint64 b)
{
  sqlite3 *db = ft_store_get_db (s);
  sqlite3_stmt *st = NULL;
  ck_assert_int_eq (sqlite3_prepare_v2 (db, "INSERT INTO events SELECT max(seq) + 1, max(t) + ?, ?, ?, -1, -1, ?, ?, 0,"
                                        " 52.52, 13.40 FROM events", -1, &st, NULL), SQLITE_OK);
  sqlite3_bind_int64 (st, 1, dt_ms);
  sqlite3_bind_int (st, 2, kind);
  sqlite3_bind_int64 (st, 3, vehicle);
  sqlite3_bind_int (st, 4, a);
  sqlite3_bind_int64 (st, 5, b);
  ck_assert_int_eq (sqlite3_step (st), SQLITE_DONE);
  sqlite3_finalize (st);
}

START_TEST (test_damaged_events)
{
  g_autofree char *p = copy_db ("jump.db");
  g_autofree char *q = NULL;
  {
    g_autoptr (FtStore) s = open_store (p);
    /* forty days later, then an absurd time */
    append_event (s, 40LL * 86400000, FT_EV_VEHICLE_STATE, 3, FT_VEV_MAINTENANCE, FT_STATE_NON_OPERATIONAL);
    append_event (s, 3600000, FT_EV_VEHICLE_STATE, 4, FT_VEV_MAINTENANCE, FT_STATE_NON_OPERATIONAL);
    append_event (s, G_MAXINT64 / 4, FT_EV_VEHICLE_MOVED, 5, 0, 0);
  }
  q = copy_db ("jump-half.db");
  {
    g_autofree char *src = g_strdup (p);
    g_autofree char *data = NULL;
    gsize len = 0;
    g_assert_true (g_file_get_contents (src, &data, &len, NULL));
    g_assert_true (g_file_set_contents (q, data, (gssize) len, NULL));
  }
  g_autoptr (FtStore) full = open_store (p);
  g_autoptr (FtStore) half = open_store (q);
  guint64 n = ft_store_last_seq (full);
  gint64 t0 = g_get_monotonic_time ();
  build (full, "demo", 0, 0);
  ck_assert_msg (g_get_monotonic_time () - t0 < 60 * G_USEC_PER_SEC, "the build took minutes");
  build (half, "demo", 1000, n - 3);     /* cut just before the jump */
  build (half, "demo", 1000, 0);
  g_autofree char *a = dump (full);
  g_autofree char *b = dump (half);
  assert_same (a, b, "a log with a time jump built in two parts");
  /* vehicle 3's downtime is not accounted over the 40 days */
  ck_assert_int_lt (count (full, "SELECT sum(downtime_ms) FROM an_vehicle_day WHERE vehicle = 3"),
                    31LL * 86400000);

  /* a vehicle index beyond any fleet: refused, the aggregates as they were */
  append_event (full, 1000, FT_EV_VEHICLE_STATE, 1 << 30, FT_VEV_MAINTENANCE, FT_STATE_NON_OPERATIONAL);
  g_autoptr (GError) error = NULL;
  FtAnalyticsZoning z = zoning ("demo");
  ck_assert (!ft_analytics_build (ft_store_get_db (full), &z, NULL, NULL, &error));
  g_assert_error (error, FT_ANALYTICS_ERROR, FT_ANALYTICS_ERROR_DATA);
  g_autofree char *seq = g_strdup_printf ("event %" G_GUINT64_FORMAT " ", n + 1);
  ck_assert_msg (strstr (error->message, seq) && strstr (error->message, "1073741824"), "%s", error->message);
  g_autofree char *after = dump (full);
  assert_same (a, after, "the aggregates after a refused event");
}
END_TEST

/* A first build that sees no event of a kind it folds (a live database just
 * started: only accounts so far) records no time span; the span starts at
 * the first vehicle event a later build folds. */
START_TEST (test_first_build_sees_nothing)
{
  g_autofree char *p = g_build_filename (tmp_dir, "fresh.db", NULL);
  g_autoptr (FtStore) s = open_store (p);
  sqlite3 *db = ft_store_get_db (s);
  ck_assert_int_eq (sqlite3_exec (db, "INSERT INTO events VALUES (1, 1764900000000, 8, -1, 0, -1, 1, 0, 0, 0, 0)",
                                  NULL, NULL, NULL), SQLITE_OK);
  build (s, "demo", 0, 0);
  g_autofree char *first0 = ft_analytics_dup_meta (db, "first_t");
  ck_assert_ptr_null (first0);
  append_event (s, 60000, FT_EV_VEHICLE_ADDED, 0, 0, 0);
  append_event (s, 3600000, FT_EV_VEHICLE_STATE, 0, FT_VEV_MAINTENANCE, FT_STATE_NON_OPERATIONAL);
  build (s, "demo", 0, 0);
  g_autofree char *first = ft_analytics_dup_meta (db, "first_t");
  g_autofree char *last = ft_analytics_dup_meta (db, "last_t");
  ck_assert_str_eq (first, "1764900060000");
  ck_assert_str_eq (last, "1764903660000");
  g_autoptr (GError) error = NULL;
  g_autoptr (GArray) k = ft_analytics_kpis (db, &error);
  ck_assert_double_eq_tol (g_array_index (k, FtAnalyticsKpi, 0).value, 1.0 / 24, 1e-9);
  ck_assert_double_eq (g_array_index (k, FtAnalyticsKpi, 2).value, 3);    /* events */
}
END_TEST

/* Faults reported as fault codes (live telemetry) count once per fault,
 * also when the simulator's maintenance state comes with them. */
static void
append_fault (FtStore *s, gint64 dt_ms, gint64 codes, gint64 before)
{
  sqlite3_stmt *st = NULL;
  ck_assert_int_eq (sqlite3_prepare_v2 (ft_store_get_db (s), "INSERT INTO events SELECT max(seq) + 1,"
                                        " max(t) + ?, ?, 0, -1, -1, 0, ?, ?, 52.52, 13.40 FROM events",
                                        -1, &st, NULL), SQLITE_OK);
  sqlite3_bind_int64 (st, 1, dt_ms);
  sqlite3_bind_int (st, 2, FT_EV_VEHICLE_FAULT);
  sqlite3_bind_int64 (st, 3, before);
  sqlite3_bind_int64 (st, 4, codes);
  ck_assert_int_eq (sqlite3_step (st), SQLITE_DONE);
  sqlite3_finalize (st);
}

START_TEST (test_fault_codes)
{
  g_autofree char *p = g_build_filename (tmp_dir, "faults.db", NULL);
  g_autoptr (FtStore) s = open_store (p);
  sqlite3 *db = ft_store_get_db (s);
  ck_assert_int_eq (sqlite3_exec (db, "INSERT INTO events VALUES (1, 1000, 1, 0, -1, -1, 0, 0, 0, 52.52, 13.40)",
                                  NULL, NULL, NULL), SQLITE_OK);
  append_fault (s, 60000, 4, 0);          /* a fault */
  append_fault (s, 60000, 6, 4);          /* another code on the same fault */
  append_fault (s, 3600000, 0, 6);        /* cleared after an hour */
  append_fault (s, 60000, 1, 0);          /* a second fault … */
  append_event (s, 0, FT_EV_VEHICLE_STATE, 0, FT_VEV_MAINTENANCE, FT_STATE_NON_OPERATIONAL);  /* … with its state */
  build (s, "demo", 0, 0);
  ck_assert_int_eq (count (s, "SELECT sum(faults) FROM an_vehicle_day"), 2);
  ck_assert_int_eq (count (s, "SELECT sum(fault_ms) FROM an_vehicle_day"), 3660000);
}
END_TEST

static Suite *
analytics_suite (void)
{
  Suite *s = suite_create ("analytics");
  TCase *tc = tcase_create ("build");
  tcase_add_unchecked_fixture (tc, suite_setup, NULL);
  tcase_set_timeout (tc, 600);
  tcase_add_test (tc, test_incremental_equals_full);
  tcase_add_test (tc, test_matches_simulator);
  tcase_add_test (tc, test_bad_input);
  tcase_add_test (tc, test_exports_and_kpis);
  tcase_add_test (tc, test_report_pages);
  tcase_add_test (tc, test_chart_edges);
  tcase_add_test (tc, test_damaged_events);
  tcase_add_test (tc, test_first_build_sees_nothing);
  tcase_add_test (tc, test_fault_codes);
  suite_add_tcase (s, tc);
  TCase *tt = tcase_create ("chart-title");
  tcase_add_test (tt, test_chart_long_title);
  suite_add_tcase (s, tt);
  return s;
}

int
main (void)
{
  SRunner *sr = srunner_create (analytics_suite ());
  srunner_set_fork_status (sr, CK_NOFORK);
  srunner_run_all (sr, CK_NORMAL);
  int failed = srunner_ntests_failed (sr);
  srunner_free (sr);
  if (tmp_dir)
    ft_test_rm_rf (tmp_dir);
  g_free (tmp_dir);
  g_free (run_db);
  if (city)
    ft_city_free (city);
  return failed == 0 ? 0 : 1;
}
