/* test-registry.c — the model registry and its parts: the Kolmogorov
 * distribution and the two-sample KS test against known values, PSI on
 * hand-made cases, forecast blobs that load back to the same predictions
 * and refuse damage, the registry in a store file (restart, champion,
 * checksum, a version that does not exist), predictions and their scores,
 * demand read from a store's event log, and shadow mode on a synthetic log.
 */
#include "ft-config.h"
#include "ft-drift.h"
#include "ft-registry.h"
#include "ft-registry-shadow.h"
#include "ft-store-models.h"
#include "ft-test.h"

#include <check.h>
#include <glib/gstdio.h>
#include <math.h>
#include <sqlite3.h>
#include <stdio.h>
#include <string.h>
#include <gsl/gsl_randist.h>
#include <gsl/gsl_rng.h>

#define ck_assert_error(e, dom, code)                                                  \
  ck_assert_msg ((e) != NULL && g_error_matches ((e), (dom), (code)),                  \
                 "expected error code %d, got: %s", (int) (code), (e) ? (e)->message : "none")

/* 2020-01-06 00:00 (a Monday) */
#define MONDAY ((FtTime) 1578268800000)

/* ---- KS and PSI --------------------------------------------------------- */

/* The other series of the Kolmogorov distribution (Jacobi theta):
 * P(K <= x) = sqrt(2 pi) / x sum_k exp(-(2k - 1)^2 pi^2 / (8 x^2)). */
static double
kolmogorov_cdf_theta (double x)
{
  double s = 0;
  for (int k = 1; k < 50; k++)
    s += exp (-(2.0 * k - 1) * (2.0 * k - 1) * M_PI * M_PI / (8 * x * x));
  return sqrt (2 * M_PI) / x * s;
}

START_TEST (test_kolmogorov_known)
{
  /* the classic critical values: 10%, 5% and 1% */
  ck_assert_double_eq_tol (ft_drift_kolmogorov_q (1.2238), 0.10, 1e-4);
  ck_assert_double_eq_tol (ft_drift_kolmogorov_q (1.3581), 0.05, 1e-4);
  ck_assert_double_eq_tol (ft_drift_kolmogorov_q (1.6276), 0.01, 1e-4);
  /* against the theta series over a range */
  for (double x = 0.3; x < 3.0; x += 0.1)
    ck_assert_double_eq_tol (ft_drift_kolmogorov_q (x), 1 - kolmogorov_cdf_theta (x), 1e-9);
  ck_assert_double_eq (ft_drift_kolmogorov_q (0), 1.0);
}
END_TEST

START_TEST (test_ks_two_sample)
{
  const double a[] = { 1, 2, 3, 4 }, b[] = { 3, 4, 5, 6 };
  double d, p;
  g_autoptr(GError) error = NULL;
  ck_assert (ft_drift_ks (a, 4, b, 4, &d, &p, &error));
  ck_assert_double_eq_tol (d, 0.5, 1e-12);
  double en = sqrt (2.0);
  ck_assert_double_eq_tol (p, ft_drift_kolmogorov_q ((en + 0.12 + 0.11 / en) * 0.5), 1e-12);
  /* disjoint samples: D = 1; identical: D = 0, p = 1 */
  const double c[] = { 10, 11, 12 };
  ck_assert (ft_drift_ks (a, 4, c, 3, &d, &p, NULL));
  ck_assert_double_eq_tol (d, 1.0, 1e-12);
  ck_assert (ft_drift_ks (a, 4, a, 4, &d, &p, NULL));
  ck_assert_double_eq_tol (d, 0.0, 1e-12);
  ck_assert_double_eq_tol (p, 1.0, 1e-12);
  /* ties across the samples: a = {0,0,1,1}, b = {0,1,1,1}: D = 1/4 */
  const double t1[] = { 0, 0, 1, 1 }, t2[] = { 0, 1, 1, 1 };
  ck_assert (ft_drift_ks (t1, 4, t2, 4, &d, NULL, NULL));
  ck_assert_double_eq_tol (d, 0.25, 1e-12);
  /* samples already sorted: the same statistic, bit for bit */
  double d2, p2;
  ck_assert (ft_drift_ks_sorted (t1, 4, t2, 4, &d2, NULL, NULL));
  ck_assert (d2 == d);
  const double u[] = { -1.5, -0.25, 0, 0, 0.5, 2, 2, 7 }, w[] = { -3, -0.25, 0.5, 0.5, 9 };
  ck_assert (ft_drift_ks (w, 5, u, 8, &d, &p, NULL));
  ck_assert (ft_drift_ks_sorted (w, 5, u, 8, &d2, &p2, NULL));
  ck_assert (d2 == d && p2 == p);
  const double bad[] = { 0, NAN };
  ck_assert (!ft_drift_ks_sorted (u, 8, bad, 2, &d2, NULL, NULL));
}
END_TEST

START_TEST (test_ks_large_samples)
{
  /* Same normal law: not significant; shifted by one sd: D near
   * 2 Phi(0.5) - 1 = 0.3829 and p tiny. */
  gsl_rng *r = gsl_rng_alloc (gsl_rng_mt19937);
  gsl_rng_set (r, 7);
  enum { N = 4000 };
  g_autofree double *x = g_new (double, N), *y = g_new (double, N), *z = g_new (double, N);
  for (int i = 0; i < N; i++)
    {
      x[i] = gsl_ran_gaussian (r, 1);
      y[i] = gsl_ran_gaussian (r, 1);
      z[i] = gsl_ran_gaussian (r, 1) + 1;
    }
  gsl_rng_free (r);
  double d, p;
  ck_assert (ft_drift_ks (x, N, y, N, &d, &p, NULL));
  ck_assert_msg (p > 0.01 && d < 0.04, "D %g p %g", d, p);
  ck_assert (ft_drift_ks (x, N, z, N, &d, &p, NULL));
  ck_assert_double_eq_tol (d, 0.3829, 0.03);
  ck_assert (p < 1e-12);
  FtDriftThresholds t;
  ft_drift_thresholds_init (&t);
  ck_assert_int_eq (ft_drift_ks_level (&t, d, p), FT_DRIFT_ACT);
  ck_assert_int_eq (ft_drift_ks_level (&t, 0.3, 0.2), FT_DRIFT_NONE);   /* large D, not significant */
  ck_assert_int_eq (ft_drift_ks_level (&t, 0.12, 0.01), FT_DRIFT_WARN);
}
END_TEST

START_TEST (test_psi_known)
{
  enum { N = 1000 };
  g_autofree double *ref = g_new (double, N), *rec = g_new (double, N);
  for (int i = 0; i < N; i++)
    ref[i] = i;
  double psi;
  g_autoptr(GError) error = NULL;
  ck_assert (ft_drift_psi (ref, N, ref, N, 10, &psi, &error));
  ck_assert_double_eq_tol (psi, 0.0, 1e-12);
  /* everything in the first decile: one bin at 1, nine floored at 1e-4 */
  for (int i = 0; i < N; i++)
    rec[i] = i % 100;
  ck_assert (ft_drift_psi (ref, N, rec, N, 10, &psi, NULL));
  double want = (1 - 0.1) * log (1 / 0.1) + 9 * (1e-4 - 0.1) * log (1e-4 / 0.1);
  ck_assert_double_eq_tol (psi, want, 1e-9);
  /* half the mass moved from the top decile... into the bottom one:
   * shares 0.15 and 0.05 in two bins */
  for (int i = 0; i < N; i++)
    rec[i] = i >= 950 ? i - 950 : i;
  ck_assert (ft_drift_psi (ref, N, rec, N, 10, &psi, NULL));
  want = (0.15 - 0.1) * log (1.5) + (0.05 - 0.1) * log (0.5);
  ck_assert_double_eq_tol (psi, want, 1e-9);
  FtDriftThresholds t;
  ft_drift_thresholds_init (&t);
  ck_assert_int_eq (ft_drift_psi_level (&t, 0.05), FT_DRIFT_NONE);
  ck_assert_int_eq (ft_drift_psi_level (&t, 0.1), FT_DRIFT_WARN);
  ck_assert_int_eq (ft_drift_psi_level (&t, 0.25), FT_DRIFT_ACT);
}
END_TEST

START_TEST (test_drift_bad_input)
{
  const double ok[] = { 1, 2, 3 }, bad[] = { 1, NAN, 3 }, inf[] = { INFINITY, 2, 3 };
  double v = 42, p;
  g_autoptr(GError) error = NULL;
  ck_assert (!ft_drift_psi (ok, 3, bad, 3, 10, &v, &error));
  ck_assert_error (error, FT_DRIFT_ERROR, FT_DRIFT_ERROR_INVALID);
  ck_assert_ptr_nonnull (strstr (error->message, "value 1 of the recent sample"));
  ck_assert_double_eq (v, 42);
  g_clear_error (&error);
  ck_assert (!ft_drift_ks (inf, 3, ok, 3, &v, &p, &error));
  ck_assert_error (error, FT_DRIFT_ERROR, FT_DRIFT_ERROR_INVALID);
  g_clear_error (&error);
  ck_assert (!ft_drift_psi (ok, 0, ok, 3, 10, &v, &error));
  ck_assert_error (error, FT_DRIFT_ERROR, FT_DRIFT_ERROR_EMPTY);
  g_clear_error (&error);
  FtDriftThresholds t = { 0.3, 0.2 };
  ck_assert (!ft_drift_thresholds_check (&t, &error));
  ck_assert_error (error, FT_DRIFT_ERROR, FT_DRIFT_ERROR_INVALID);
}
END_TEST

/* ---- forecast blobs ----------------------------------------------------- */

static FtDemandSeries *
synthetic (guint n_zones, guint n_hours, unsigned long seed)
{
  g_autofree double *c = g_new (double, n_zones * n_hours);
  gsl_rng *r = gsl_rng_alloc (gsl_rng_mt19937);
  gsl_rng_set (r, seed);
  for (guint z = 0; z < n_zones; z++)
    for (guint h = 0; h < n_hours; h++)
      {
        guint hod = h % 24;
        gboolean peak = (hod >= 7 && hod <= 9) || (hod >= 17 && hod <= 19);
        c[z * n_hours + h] = gsl_ran_poisson (r, (1 + z) * (peak ? 8.0 : 1.0));
      }
  gsl_rng_free (r);
  FtDemandSeries *s = ft_demand_series_new (n_zones, n_hours, MONDAY, c, NULL);
  ck_assert_ptr_nonnull (s);
  return s;
}

static FtForecaster *
fitted (FtForecastKind kind, const FtDemandSeries *s)
{
  FtForecastParams p;
  ft_forecast_params_init (&p);
  p.xgb_rounds = 20;
  p.xgb_nthread = 1;
  FtForecaster *f = ft_forecaster_new (kind, &p);
  g_autoptr(GError) error = NULL;
  ck_assert_msg (ft_forecaster_fit (f, s, 0, s->n_hours - 24, &error), "%s", error ? error->message : "");
  return f;
}

START_TEST (test_blob_roundtrip)
{
  g_autoptr(FtDemandSeries) s = synthetic (3, 24 * 10, 1);
  FtForecastKind kind = (FtForecastKind) _i;
  g_autoptr(FtForecaster) f = fitted (kind, s);
  g_autoptr(GError) error = NULL;
  g_autoptr(GBytes) blob = ft_forecaster_save (f, &error);
  ck_assert_ptr_nonnull (blob);
  g_autoptr(FtForecaster) g = ft_forecaster_load (blob, &error);
  ck_assert_msg (g != NULL, "%s", error ? error->message : "");
  ck_assert_int_eq (ft_forecaster_get_kind (g), kind);
  double a[3 * 24], b[3 * 24];
  ck_assert (ft_forecaster_predict (f, s, s->n_hours - 24, 24, a, NULL));
  ck_assert (ft_forecaster_predict (g, s, s->n_hours - 24, 24, b, NULL));
  for (int i = 0; i < 3 * 24; i++)
    ck_assert_double_eq_tol (a[i], b[i], 1e-6 * MAX (1, fabs (a[i])));
  /* every truncation is refused, never read past */
  gsize len;
  const guint8 *data = g_bytes_get_data (blob, &len);
  for (gsize cut = 0; cut < len; cut += MAX (len / 37, 1))
    {
      g_autoptr(GBytes) part = g_bytes_new (data, cut);
      g_autoptr(GError) e2 = NULL;
      g_autoptr(FtForecaster) h = ft_forecaster_load (part, &e2);
      ck_assert_ptr_null (h);
      ck_assert_error (e2, FT_FORECAST_ERROR, FT_FORECAST_ERROR_IO);
    }
  /* an unfitted model has nothing to save */
  g_autoptr(FtForecaster) empty = ft_forecaster_new (kind, NULL);
  g_clear_error (&error);
  ck_assert_ptr_null (ft_forecaster_save (empty, &error));
  ck_assert_error (error, FT_FORECAST_ERROR, FT_FORECAST_ERROR_NOT_FITTED);
}
END_TEST

START_TEST (test_blob_damaged_values)
{
  /* a mean model blob whose counts were overwritten with NaN */
  g_autoptr(FtDemandSeries) s = synthetic (2, 24 * 8, 2);
  g_autoptr(FtForecaster) f = fitted (FT_FORECAST_MEAN, s);
  g_autoptr(GBytes) blob = ft_forecaster_save (f, NULL);
  gsize len = 0;
  const guint8 *data = g_bytes_get_data (blob, &len);
  g_autofree guint8 *copy = g_memdup2 (data, len);
  double nan = NAN;
  memcpy (copy + len - 8, &nan, 8);   /* the last zone mean */
  g_autoptr(GBytes) bad = g_bytes_new (copy, len);
  g_autoptr(GError) error = NULL;
  ck_assert_ptr_null (ft_forecaster_load (bad, &error));
  ck_assert_error (error, FT_FORECAST_ERROR, FT_FORECAST_ERROR_IO);
  ck_assert_ptr_nonnull (strstr (error->message, "damaged"));
}
END_TEST

/* ---- the registry in a store -------------------------------------------- */

typedef struct {
  char *dir, *path;
} TmpDb;

static void
tmp_db (TmpDb *t)
{
  t->dir = g_dir_make_tmp ("ft-registry-XXXXXX", NULL);
  t->path = g_build_filename (t->dir, "run.db", NULL);
}

static void
tmp_db_clear (TmpDb *t)
{
  ft_test_rm_rf (t->dir);
  g_free (t->dir);
  g_free (t->path);
}

static FtZoning *
three_zones (void)
{
  const char *ids[] = { "north", "centre", "south" };
  const double lat[] = { 54.22, 54.20, 54.18 }, lon[] = { 3.2, 3.2, 3.2 };
  FtZoning *z = ft_zoning_new (3, ids, lat, lon, NULL);
  ck_assert_ptr_nonnull (z);
  return z;
}

static gint64
put (FtStore *s, const FtForecaster *f, const char *city, const char *trained, GError **error)
{
  g_autoptr(FtZoning) z = three_zones ();
  FtRegistryEntry e = { .city = city, .trained_city = trained, .created = 1000, .train_start = 0,
                        .train_end = 10 * FT_DAY, .zoning = z, .metrics_json = "{\"holdout_rmse\": 1.5}" };
  return ft_registry_put_forecast (s, f, &e, error);
}

START_TEST (test_registry_survives_restart)
{
  TmpDb t;
  tmp_db (&t);
  g_autoptr(FtDemandSeries) s = synthetic (3, 24 * 10, 3);
  g_autoptr(FtForecaster) f = fitted (FT_FORECAST_GLM, s);
  double want[3 * 6];
  ck_assert (ft_forecaster_predict (f, s, s->n_hours - 6, 6, want, NULL));
  gint64 v1, v2;
  {
    g_autoptr(GError) error = NULL;
    g_autoptr(FtStore) st = ft_store_open (t.path, NULL, &error);
    ck_assert_ptr_nonnull (st);
    v1 = put (st, f, "demo-city", NULL, &error);
    v2 = put (st, f, "demo-city", NULL, &error);
    ck_assert_int_gt (v1, 0);
    ck_assert_int_gt (v2, v1);
    ck_assert (ft_registry_promote (st, v1, &error));
    ck_assert_int_eq (ft_registry_champion (st, FT_MODEL_FORECAST_GLM, "demo-city", NULL), v1);
    /* a new champion retires the old one: one champion per kind and city */
    ck_assert (ft_registry_promote (st, v2, &error));
    ck_assert_int_eq (ft_registry_champion (st, FT_MODEL_FORECAST_GLM, "demo-city", NULL), v2);
    ck_assert_int_eq (ft_registry_champion (st, FT_MODEL_FORECAST_GLM, "helsinki", NULL), 0);
    ck_assert_int_eq (put (st, f, "helsinki", "demo-city", &error), 3);
  }
  /* reopened: versions, statuses and blobs are there */
  g_autoptr(GError) error = NULL;
  g_autoptr(FtStore) st = ft_store_open (t.path, NULL, &error);
  ck_assert_ptr_nonnull (st);
  g_autoptr(GPtrArray) all = ft_store_model_list (st, NULL, NULL, &error);
  ck_assert_uint_eq (all->len, 3);
  const FtStoreModel *m1 = g_ptr_array_index (all, 0), *m3 = g_ptr_array_index (all, 2);
  ck_assert_str_eq (m1->status, "retired");
  ck_assert_str_eq (((FtStoreModel *) g_ptr_array_index (all, 1))->status, "active");
  ck_assert_str_eq (m1->kind, "forecast-glm");
  ck_assert_str_eq (ft_registry_origin_label (m1), "local");
  ck_assert_str_eq (ft_registry_origin_label (m3), "transferred");
  ck_assert_str_eq (m3->trained_city, "demo-city");
  ck_assert_ptr_nonnull (strstr (m1->metrics, "holdout_rmse"));
  ck_assert_int_eq (ft_registry_champion (st, FT_MODEL_FORECAST_GLM, "demo-city", NULL), v2);
  g_autoptr(FtStoreModel) meta = NULL;
  g_autoptr(FtForecaster) g = ft_registry_load_forecast (st, v2, &meta, &error);
  ck_assert_msg (g != NULL, "%s", error ? error->message : "");
  ck_assert_int_eq (meta->train_end, 10 * FT_DAY);
  g_autoptr(FtZoning) zoning = NULL;
  {
    const char *zj = strstr (meta->features, "\"zoning\": ");
    ck_assert_ptr_nonnull (zj);
    g_autofree char *inner = g_strndup (zj + 10, strlen (zj + 10) - 1);
    zoning = ft_zoning_from_json (inner, &error);
    ck_assert_msg (zoning != NULL, "%s", error ? error->message : "");
    ck_assert_uint_eq (zoning->n, 3);
    ck_assert_str_eq (zoning->ids[1], "centre");
  }
  double got[3 * 6];
  ck_assert (ft_forecaster_predict (g, s, s->n_hours - 6, 6, got, NULL));
  for (int i = 0; i < 3 * 6; i++)
    ck_assert_double_eq_tol (got[i], want[i], 1e-9 * MAX (1, fabs (want[i])));
  tmp_db_clear (&t);
}
END_TEST

START_TEST (test_registry_checksum_refused)
{
  TmpDb t;
  tmp_db (&t);
  g_autoptr(FtDemandSeries) s = synthetic (3, 24 * 8, 4);
  g_autoptr(FtForecaster) f = fitted (FT_FORECAST_MEAN, s);
  g_autoptr(GError) error = NULL;
  g_autoptr(FtStore) st = ft_store_open (t.path, NULL, &error);
  gint64 v = put (st, f, "demo-city", NULL, &error);
  ck_assert_int_gt (v, 0);
  /* flip one byte of the stored blob behind the registry's back */
  sqlite3 *db = ft_store_get_db (st);
  ck_assert_int_eq (sqlite3_exec (db, "UPDATE model_versions SET blob = "
                                      "CAST(substr(blob, 1, 20) || X'FF' || substr(blob, 22) AS BLOB)",
                                  NULL, NULL, NULL), SQLITE_OK);
  g_autoptr(FtStoreModel) m = ft_store_model_get (st, v, &error);
  ck_assert_ptr_null (m);
  ck_assert_error (error, FT_STORE_ERROR, FT_STORE_ERROR_CORRUPT);
  ck_assert_ptr_nonnull (strstr (error->message, "SHA-256"));
  g_clear_error (&error);
  g_autoptr(FtForecaster) g = ft_registry_load_forecast (st, v, NULL, &error);
  ck_assert_ptr_null (g);
  ck_assert_error (error, FT_STORE_ERROR, FT_STORE_ERROR_CORRUPT);
  tmp_db_clear (&t);
}
END_TEST

START_TEST (test_registry_missing_version)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(FtStore) st = ft_store_open (":memory:", NULL, &error);
  ck_assert_ptr_nonnull (st);
  ck_assert (!ft_registry_promote (st, 7, &error));
  ck_assert_error (error, FT_STORE_ERROR, FT_STORE_ERROR_NOT_FOUND);
  ck_assert_ptr_nonnull (strstr (error->message, "no model version 7"));
  g_clear_error (&error);
  ck_assert (!ft_registry_retire (st, 7, &error));
  ck_assert_error (error, FT_STORE_ERROR, FT_STORE_ERROR_NOT_FOUND);
  g_clear_error (&error);
  ck_assert_ptr_null (ft_store_model_get (st, 7, &error));
  ck_assert_error (error, FT_STORE_ERROR, FT_STORE_ERROR_NOT_FOUND);
  g_clear_error (&error);
  ck_assert (!ft_store_model_set_metrics (st, 7, "{}", &error));
  ck_assert_error (error, FT_STORE_ERROR, FT_STORE_ERROR_NOT_FOUND);
  g_clear_error (&error);
  ck_assert (!ft_store_model_set_status (st, 1, "champion", &error));   /* not a status */
  g_autoptr(GPtrArray) none = ft_store_model_list (st, NULL, NULL, NULL);
  ck_assert_uint_eq (none->len, 0);
}
END_TEST

START_TEST (test_predictions_scores)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(FtStore) st = ft_store_open (":memory:", NULL, &error);
  g_autoptr(FtDemandSeries) s = synthetic (3, 24 * 8, 5);
  g_autoptr(FtForecaster) f = fitted (FT_FORECAST_MEAN, s);
  gint64 v = put (st, f, "demo-city", NULL, &error);
  FtStorePrediction p[3] = {
    { v, "north", 1, 0, FT_HOUR, 2.0, 1.0 },
    { v, "north", 2, 0, 2 * FT_HOUR, 4.0, 3.0 },
    { v, "south", 1, 0, FT_HOUR, 1.0, NAN },
  };
  ck_assert (ft_store_predictions_put (st, p, 3, &error));
  const char *targets[] = { "north", "south" };
  const FtTime tt[] = { FT_HOUR, FT_HOUR };
  const double actual[] = { 3.0, 1.0 };
  ck_assert (ft_store_predictions_fill (st, targets, tt, actual, 2, &error));
  FtStorePredictionScore sc;
  ck_assert (ft_store_prediction_score (st, v, &sc, &error));
  ck_assert_uint_eq (sc.n, 2);    /* north at 2 h has no actual yet */
  ck_assert_double_eq_tol (sc.rmse, sqrt ((1.0 + 0.0) / 2), 1e-12);
  ck_assert_double_eq_tol (sc.mae, 0.5, 1e-12);
  ck_assert_double_eq_tol (sc.base_rmse, 2.0, 1e-12);   /* only north has a baseline */
  /* a NaN prediction refuses the whole batch: nothing half-written */
  FtStorePrediction q[2] = { { v, "north", 3, 0, 3 * FT_HOUR, 1.0, 1.0 },
                             { v, "south", 3, 0, 3 * FT_HOUR, NAN, 1.0 } };
  ck_assert (!ft_store_predictions_put (st, q, 2, &error));
  ck_assert_ptr_nonnull (strstr (error->message, "not stored"));
  ck_assert_uint_eq (ft_store_predictions_count (st, FALSE), 3);
  /* a 15-minute prediction (horizon 0) of the same target and start is
   * filled by its own call, never by the hour's, and stays out of the
   * hourly scores */
  FtStorePrediction qp = { v, "south", 0, 0, 2 * FT_HOUR, 0.5, 0.25 };
  ck_assert (ft_store_predictions_put (st, &qp, 1, &error));
  const char *south[] = { "south" };
  const FtTime t2[] = { 2 * FT_HOUR }, at0[] = { 0 };
  const double hour_actual[] = { 8.0 }, quarter_actual[] = { 1.0 };
  const guint h0[] = { 0 };
  ck_assert (ft_store_predictions_fill (st, south, t2, hour_actual, 1, &error));
  ck_assert (ft_store_prediction_score (st, v, &sc, &error));
  ck_assert_uint_eq (sc.n, 2);
  ck_assert_uint_eq (ft_store_predictions_count (st, TRUE), 2);
  ck_assert (ft_store_predictions_fill_issued (st, south, at0, h0, quarter_actual, 1, &error));
  ck_assert_uint_eq (ft_store_predictions_count (st, TRUE), 3);
  ck_assert (ft_store_prediction_score (st, v, &sc, &error));
  ck_assert_uint_eq (sc.n, 2);
}
END_TEST

/* ---- demand from a store's log ------------------------------------------ */

static void
insert_event (sqlite3 *db, gint64 seq, FtTime t, int kind, double lat, double lon)
{
  sqlite3_stmt *st;
  ck_assert_int_eq (sqlite3_prepare_v2 (db, "INSERT INTO events VALUES (?, ?, ?, -1, -1, -1, 0, 0, 0, ?, ?)",
                                        -1, &st, NULL), SQLITE_OK);
  sqlite3_bind_int64 (st, 1, seq);
  sqlite3_bind_int64 (st, 2, t);
  sqlite3_bind_int (st, 3, kind);
  sqlite3_bind_double (st, 4, lat);
  sqlite3_bind_double (st, 5, lon);
  ck_assert_int_eq (sqlite3_step (st), SQLITE_DONE);
  sqlite3_finalize (st);
}

START_TEST (test_demand_from_store)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(FtStore) st = ft_store_open (":memory:", NULL, &error);
  /* empty log: refused */
  ck_assert_ptr_null (ft_registry_demand_from_store (st, NULL, 500, NULL, &error));
  ck_assert_error (error, FT_REGISTRY_ERROR, FT_REGISTRY_ERROR_EMPTY);
  g_clear_error (&error);
  sqlite3 *db = ft_store_get_db (st);
  /* two requests in the north zone in hour 0, a lost rider in the south in
   * hour 2, a booking end (not a request) in between */
  insert_event (db, 1, 10 * FT_MINUTE, FT_EV_BOOKING_RESERVED, 54.2201, 3.2);
  insert_event (db, 2, 20 * FT_MINUTE, FT_EV_BOOKING_RESERVED, 54.2199, 3.2001);
  insert_event (db, 3, 30 * FT_MINUTE, FT_EV_BOOKING_ENDED, 54.18, 3.2);
  insert_event (db, 4, 2 * FT_HOUR + 5, FT_EV_RIDER_LOST, 54.1801, 3.2);
  g_autoptr(FtZoning) z = three_zones ();
  g_autoptr(FtDemandSeries) s = ft_registry_demand_from_store (st, z, 500, NULL, &error);
  ck_assert_msg (s != NULL, "%s", error ? error->message : "");
  ck_assert_uint_eq (s->n_zones, 3);
  ck_assert_uint_eq (s->n_hours, 3);
  ck_assert_double_eq (s->count[0 * 3 + 0], 2);
  ck_assert_double_eq (s->count[2 * 3 + 2], 1);
  ck_assert_double_eq (s->count[2 * 3 + 0], 0);
  /* a grid when no zoning is given or recorded */
  g_autoptr(FtZoning) grid = NULL;
  g_autoptr(FtDemandSeries) g = ft_registry_demand_from_store (st, NULL, 500, &grid, &error);
  ck_assert_ptr_nonnull (g);
  ck_assert_uint_eq (grid->n, 2);
  /* a request at an impossible position (SQLite keeps no NaN): refused,
   * naming the event */
  insert_event (db, 5, 3 * FT_HOUR, FT_EV_RIDER_LOST, 540.2, 3.2);
  ck_assert_ptr_null (ft_registry_demand_from_store (st, z, 500, NULL, &error));
  ck_assert_error (error, FT_REGISTRY_ERROR, FT_REGISTRY_ERROR_INVALID);
  ck_assert_ptr_nonnull (strstr (error->message, "event 5"));
}
END_TEST

START_TEST (test_zoning_bad_input)
{
  const char *ids[] = { "a", "b" };
  const double lat[] = { 54.2, NAN }, lon[] = { 3.2, 3.2 };
  g_autoptr(GError) error = NULL;
  ck_assert_ptr_null (ft_zoning_new (2, ids, lat, lon, &error));
  ck_assert_error (error, FT_REGISTRY_ERROR, FT_REGISTRY_ERROR_INVALID);
  ck_assert_ptr_nonnull (strstr (error->message, "zone 1 (b)"));
  g_clear_error (&error);
  ck_assert_ptr_null (ft_zoning_new (0, ids, lat, lon, &error));
  ck_assert_error (error, FT_REGISTRY_ERROR, FT_REGISTRY_ERROR_EMPTY);
  g_clear_error (&error);
  ck_assert_ptr_null (ft_zoning_from_json ("{\"zones\": [{\"id\": \"a\", \"lat\": \"x\", \"lon\": 1}]}", &error));
  ck_assert_msg (error && strstr (error->message, "zoning zone 0") && strstr (error->message, "lat"),
                 "%s", error ? error->message : "no error");
}
END_TEST

/* What ft_zoning_zone_of answered before its grid: the nearest centre
 * within max_m by a scan of every centre, the last of equal distances. */
static int
zone_of_scan (const FtZoning *z, double lat, double lon)
{
  if (!isfinite (lat) || !isfinite (lon))
    return -1;
  double kx = cos (lat * G_PI / 180.0) * 111320.0, best_d2 = z->max_m * z->max_m;
  int best = -1;
  for (guint i = 0; i < z->n; i++)
    {
      double dy = (lat - z->lat[i]) * 111320.0, dx = (lon - z->lon[i]) * kx;
      if (dx * dx + dy * dy <= best_d2)
        {
          best_d2 = dx * dx + dy * dy;
          best = (int) i;
        }
    }
  return best;
}

START_TEST (test_zoning_grid_lookup)
{
  gsl_rng *r = gsl_rng_alloc (gsl_rng_mt19937);
  gsl_rng_set (r, 7);
  /* clustered and scattered centres, a regular lattice (equal distances:
   * ties), duplicates, and a single centre */
  for (guint layout = 0; layout < 4; layout++)
    {
      guint n = layout == 3 ? 1 : 60;
      g_autofree double *lat = g_new (double, n), *lon = g_new (double, n);
      for (guint i = 0; i < n; i++)
        if (layout == 0)
          {
            lat[i] = 40.70 + gsl_rng_uniform (r) * 0.1;
            lon[i] = -74.05 + gsl_rng_uniform (r) * 0.1;
          }
        else if (layout == 1)
          {
            guint c = i % 3;   /* three clusters far apart */
            lat[i] = 40.7 + c * 0.5 + gsl_ran_gaussian (r, 0.003);
            lon[i] = -74.0 + c * 0.3 + gsl_ran_gaussian (r, 0.003);
          }
        else
          {
            lat[i] = 54.2 + (i % 10) * 0.01;   /* 10 x 6 lattice (and its copy in layout 3) */
            lon[i] = 3.2 + (i / 10 % 6) * 0.01;
          }
      if (layout == 2)
        lat[59] = lat[58], lon[59] = lon[58];   /* a duplicate centre: the later one wins */
      g_autoptr (FtZoning) z = ft_zoning_new (n, NULL, lat, lon, NULL);
      ck_assert_ptr_nonnull (z);
      for (guint m = 0; m < 3; m++)
        {
          z->max_m = m == 0 ? 2000 : m == 1 ? 300 : 1e7;
          for (guint k = 0; k < 4000; k++)
            {
              double qlat, qlon;
              guint i = k % n;
              if (k % 4 == 0)
                {
                  /* on a centre, or halfway between two (exact ties) */
                  guint j = (k / 4) % n;
                  qlat = (lat[i] + lat[j]) / 2;
                  qlon = (lon[i] + lon[j]) / 2;
                }
              else
                {
                  double spread = k % 4 == 1 ? 0.02 : k % 4 == 2 ? 0.3 : 3;   /* near, around, far outside */
                  qlat = lat[i] + (gsl_rng_uniform (r) - 0.5) * spread;
                  qlon = lon[i] + (gsl_rng_uniform (r) - 0.5) * spread;
                }
              ck_assert_int_eq (ft_zoning_zone_of (z, qlat, qlon), zone_of_scan (z, qlat, qlon));
            }
        }
      ck_assert_int_eq (ft_zoning_zone_of (z, NAN, lon[0]), -1);
      ck_assert_int_eq (ft_zoning_zone_of (z, lat[0], INFINITY), -1);
      z->max_m = 2000;
      ck_assert_int_eq (ft_zoning_zone_of (z, -60, 100), -1);
    }
  gsl_rng_free (r);
}
END_TEST

/* ---- shadow mode on a synthetic log ------------------------------------- */

/* Requests from three zones; zone 0's demand triples from day `shift`. */
static void
feed_hour (FtEventLog *log, gsl_rng *r, guint h, guint shift_day)
{
  static const double lat[] = { 54.22, 54.20, 54.18 };
  guint hod = h % 24;
  gboolean peak = (hod >= 7 && hod <= 9) || (hod >= 17 && hod <= 19);
  for (guint z = 0; z < 3; z++)
    {
      double rate = (2 + 2 * z) * (peak ? 4.0 : 1.0) * (z == 0 && shift_day && h >= shift_day * 24 ? 3 : 1);
      guint n = gsl_ran_poisson (r, rate);
      for (guint i = 0; i < n; i++)
        {
          FtEvent ev = ft_event_init (i % 4 ? FT_EV_BOOKING_RESERVED : FT_EV_RIDER_LOST,
                                      (FtTime) h * FT_HOUR + (FtTime) i * 1000);
          ev.lat = lat[z];
          ev.lon = 3.2;
          ft_event_log_append (log, &ev);
        }
    }
}

START_TEST (test_shadow_synthetic)
{
  FtEventLog *log = ft_event_log_new ();
  ft_event_log_set_retain (log, FALSE);
  g_autoptr(FtZoning) z = three_zones ();
  FtShadowConfig cfg;
  ft_shadow_config_init (&cfg);
  cfg.forecast = TRUE;
  cfg.first_fit_days = 3;
  cfg.retrain_days = 0;
  g_autoptr(GError) error = NULL;
  FtShadow *sh = ft_shadow_new (&cfg, z, log, NULL, 0, &error);
  ck_assert_msg (sh != NULL, "%s", error ? error->message : "");
  gsl_rng *r = gsl_rng_alloc (gsl_rng_mt19937);
  gsl_rng_set (r, 11);
  guint64 drift_before = 0;
  for (guint h = 0; h < 24 * 14; h++)
    {
      feed_hour (log, r, h, 8);
      ck_assert (ft_shadow_tick (sh, (FtTime) (h + 1) * FT_HOUR, &error));
      if (h + 1 == 8 * 24)
        drift_before = ft_event_log_count (log, FT_EV_MODEL_DRIFT);
    }
  gsl_rng_free (r);
  FtShadowScores sc;
  ft_shadow_scores (sh, &sc);
  ck_assert_str_eq (sc.model, "forecast-glm");
  ck_assert_uint_gt (sc.scored, 1000);
  ck_assert (isfinite (sc.rmse) && sc.rmse > 0);
  ck_assert (isfinite (sc.base_rmse) && sc.base_rmse > 0);
  /* the shift is seen as drift and answered by a promoted retrain */
  ck_assert_uint_gt (ft_event_log_count (log, FT_EV_MODEL_DRIFT), drift_before);
  ck_assert_uint_ge (sc.drift_actions, 1);
  ck_assert_uint_ge (sc.promotions, 2);   /* the first fit and at least one retrain */
  ck_assert_uint_ge (ft_event_log_count (log, FT_EV_MODEL_DECISION), 2);
  double first, last, base_last;
  ck_assert (ft_shadow_day_score (sh, 8, &first, NULL, NULL));
  ck_assert (ft_shadow_day_score (sh, 13, &last, &base_last, NULL));
  ck_assert_msg (last < first, "error after the shift %.3f, at the end %.3f", first, last);
  /* the next 15 minutes: every request comes in the first seconds of its
   * hour, so the within-hour profile puts the hour in quarter 0 and beats
   * the hour split evenly by far */
  printf ("15 min: %" G_GUINT64_FORMAT " scored, RMSE %.3f against the even split's %.3f\n", sc.scored_15min,
          sc.rmse_15min, sc.base_rmse_15min);
  ck_assert_uint_gt (sc.scored_15min, 3 * 24 * 9);
  ck_assert (isfinite (sc.rmse_15min) && isfinite (sc.base_rmse_15min));
  ck_assert_msg (sc.rmse_15min < 0.7 * sc.base_rmse_15min, "15 min RMSE %.3f, even split %.3f", sc.rmse_15min,
                 sc.base_rmse_15min);
  ft_shadow_free (sh);
  ft_event_log_free (log);
}
END_TEST

static void
on_decision (const FtEvent *ev, gpointer data)
{
  GArray *times = data;
  g_array_append_val (times, ev->t);
}

/* A fit runs on a worker and its result is taken at the first tick at or
 * after its start + the lag, not before (the worker slowed on purpose:
 * it is waited for there), the decision logged then; with no lag it is
 * taken at the tick it starts. */
START_TEST (test_shadow_lag)
{
  static const double lags[] = { 150, 0 };
  for (guint k = 0; k < G_N_ELEMENTS (lags); k++)
    {
      FtEventLog *log = ft_event_log_new ();
      ft_event_log_set_retain (log, FALSE);
      g_autoptr(GArray) times = g_array_new (FALSE, FALSE, sizeof (FtTime));
      ft_event_log_add_listener_for (log, FT_EV_BIT (FT_EV_MODEL_DECISION), on_decision, times);
      g_autoptr(FtZoning) z = three_zones ();
      FtShadowConfig cfg;
      ft_shadow_config_init (&cfg);
      cfg.forecast = TRUE;
      cfg.first_fit_days = 3;
      cfg.retrain_days = 1;
      cfg.retrain_on_drift = FALSE;
      cfg.train_lag_min = lags[k];
      cfg.train_delay_ms = 100;
      g_autoptr(GError) error = NULL;
      FtShadow *sh = ft_shadow_new (&cfg, z, log, NULL, 0, &error);
      ck_assert_msg (sh != NULL, "%s", error ? error->message : "");
      gsl_rng *r = gsl_rng_alloc (gsl_rng_mt19937);
      gsl_rng_set (r, 5);
      guint first_model_h = 0;
      for (guint h = 0; h + 1 < 24 * 5; h++)   /* ticks to hour 119 */
        {
          feed_hour (log, r, h, 0);
          ck_assert (ft_shadow_tick (sh, (FtTime) (h + 1) * FT_HOUR, &error));
          FtShadowScores sc;
          ft_shadow_scores (sh, &sc);
          if (first_model_h == 0 && sc.model[0])
            first_model_h = h + 1;
        }
      gsl_rng_free (r);
      /* fits start at hours 72 and 96 (daily), taken 3 ticks (150 min
       * rounded up to the hourly ticks) later, or at once */
      guint after = lags[k] > 0 ? 3 : 0;
      ck_assert_uint_eq (first_model_h, 72 + after);
      ck_assert_uint_eq (times->len, 2);
      ck_assert_int_eq (g_array_index (times, FtTime, 0), (FtTime) (72 + after) * FT_HOUR);
      ck_assert_int_eq (g_array_index (times, FtTime, 1), (FtTime) (96 + after) * FT_HOUR);
      ft_shadow_free (sh);
      ft_event_log_free (log);
    }
}
END_TEST

/* Drift's calibration. N_CAL zones whose demand is stationary but for a
 * city-wide factor per day (weather, an event: every zone's count up or
 * down together, what the forecast misses on its own day), and from day
 * `shift_day` (0: never) the first third of the zones doubled. */
#define N_CAL 12

static FtZoning *
cal_zones (void)
{
  double lat[N_CAL], lon[N_CAL];
  for (guint z = 0; z < N_CAL; z++)
    {
      lat[z] = 54.30 - 0.02 * z;
      lon[z] = 3.2;
    }
  FtZoning *zn = ft_zoning_new (N_CAL, NULL, lat, lon, NULL);
  ck_assert_ptr_nonnull (zn);
  return zn;
}

static void
feed_cal_hour (FtEventLog *log, gsl_rng *r, guint h, const double *day_factor, guint shift_day)
{
  guint hod = h % 24;
  gboolean peak = (hod >= 7 && hod <= 9) || (hod >= 17 && hod <= 19);
  for (guint z = 0; z < N_CAL; z++)
    {
      double rate = (1 + z % 4) * (peak ? 3.0 : 1.0) * day_factor[h / 24]
                    * (shift_day && h >= shift_day * 24 && z < N_CAL / 3 ? 2 : 1);
      guint n = gsl_ran_poisson (r, rate);
      for (guint i = 0; i < n; i++)
        {
          FtEvent ev = ft_event_init (FT_EV_BOOKING_RESERVED, (FtTime) h * FT_HOUR + (FtTime) i * 1000);
          ev.lat = 54.30 - 0.02 * z;
          ev.lon = 3.2;
          ft_event_log_append (log, &ev);
        }
    }
}

/* Hours at which drift acted over 14 days, the first fit on day 3, no
 * scheduled refit (so every hour from day 6 on is checked). */
static guint
cal_run (guint seed, guint shift_day, guint *first_act_h)
{
  FtEventLog *log = ft_event_log_new ();
  ft_event_log_set_retain (log, FALSE);
  g_autoptr(FtZoning) z = cal_zones ();
  FtShadowConfig cfg;
  ft_shadow_config_init (&cfg);
  cfg.forecast = TRUE;
  cfg.first_fit_days = 3;
  cfg.retrain_days = 0;
  cfg.quarter_hour = FALSE;
  g_autoptr(GError) error = NULL;
  FtShadow *sh = ft_shadow_new (&cfg, z, log, NULL, 0, &error);
  ck_assert_msg (sh != NULL, "%s", error ? error->message : "");
  gsl_rng *r = gsl_rng_alloc (gsl_rng_mt19937);
  gsl_rng_set (r, seed);
  double day_factor[14];
  for (guint d = 0; d < 14; d++)
    day_factor[d] = 0.75 + 0.5 * gsl_rng_uniform (r);   /* +-25% a day, the whole city */
  guint acts = 0;
  *first_act_h = 0;
  for (guint h = 0; h < 24 * 14; h++)
    {
      feed_cal_hour (log, r, h, day_factor, shift_day);
      ck_assert (ft_shadow_tick (sh, (FtTime) (h + 1) * FT_HOUR, &error));
      FtShadowScores sc;
      ft_shadow_scores (sh, &sc);
      if (sc.drift_actions > acts && *first_act_h == 0 && (!shift_day || h >= shift_day * 24))
        *first_act_h = h + 1;
      acts = sc.drift_actions;
    }
  gsl_rng_free (r);
  ft_shadow_free (sh);
  ft_event_log_free (log);
  return acts;
}

/* A city-wide day-to-day swing is no drift: every zone moves together,
 * and the KS test of the zones' residuals took the day's zones for
 * independent values (Demo City acted 14 times in 14 days with no shift,
 * and retrained for nothing). Against the day's own level no seed acts;
 * a third of the zones doubling is still acted on within a day and a half. */
START_TEST (test_drift_calibrated)
{
  guint quiet_acts = 0, first;
  for (guint seed = 1; seed <= 3; seed++)
    quiet_acts += cal_run (seed, 0, &first);
  ck_assert_msg (quiet_acts == 0, "no shift, drift acted at %u hours over 3 runs", quiet_acts);
  guint acts = cal_run (1, 9, &first);
  ck_assert_uint_gt (acts, 0);
  ck_assert_msg (first > 9 * 24 && first <= 9 * 24 + 36, "shift at hour %u, first act at %u", 9 * 24, first);
}
END_TEST

/* Stationary demand whose zones keep different weekday and weekend
 * profiles (a commuter zone, a mixed one, a leisure one). */
static void
feed_week_hour (FtEventLog *log, gsl_rng *r, guint h)
{
  static const double lat[] = { 54.22, 54.20, 54.18 };
  guint hod = h % 24, dow = (h / 24 + 3) % 7;   /* hour 0 is a Thursday */
  gboolean weekend = dow >= 5, peak = (hod >= 7 && hod <= 9) || (hod >= 17 && hod <= 19);
  gboolean midday = hod >= 11 && hod <= 17, night = hod < 6;
  double rate[3] = {
    weekend ? (midday ? 2 : 0.5) : (peak ? 12 : night ? 0.3 : 2),
    weekend ? (midday ? 5 : 1) : (peak ? 6 : night ? 0.5 : 3),
    weekend ? (midday ? 10 : night ? 1 : 3) : (midday ? 4 : night ? 0.3 : 1.5),
  };
  for (guint z = 0; z < 3; z++)
    {
      guint n = gsl_ran_poisson (r, rate[z]);
      for (guint i = 0; i < n; i++)
        {
          FtEvent ev = ft_event_init (i % 4 ? FT_EV_BOOKING_RESERVED : FT_EV_RIDER_LOST,
                                      (FtTime) h * FT_HOUR + (FtTime) i * 1000);
          ev.lat = lat[z];
          ev.lon = 3.2;
          ft_event_log_append (log, &ev);
        }
    }
}

/* The 14-day Demo City shadow run scored the GLM worse than the mean it is
 * built on (RMSE 3.02 against 2.54): its training rows read an in-sample
 * mean (a week is one fold) and its first fit, six days before the
 * held-back one, never saw one weekday. Stationary demand with weekly
 * profiles in three zones is the hard case: nothing is left to learn
 * beyond the mean, so every term the GLM fits is noise. Before the fix it
 * lost 10.3 % to the mean over the second week; now 4.6 % (on Demo City,
 * with more zones, it is within 0.3 % of the mean or better on three
 * seeds). */
START_TEST (test_shadow_glm_not_worse_than_mean)
{
  FtEventLog *log = ft_event_log_new ();
  ft_event_log_set_retain (log, FALSE);
  g_autoptr(FtZoning) z = three_zones ();
  FtShadowConfig cfg;
  ft_shadow_config_init (&cfg);
  cfg.forecast = TRUE;
  cfg.first_fit_days = 7;
  cfg.training_days = 7;
  cfg.retrain_on_drift = FALSE;
  g_autoptr(GError) error = NULL;
  FtShadow *sh = ft_shadow_new (&cfg, z, log, NULL, 0, &error);
  ck_assert_msg (sh != NULL, "%s", error ? error->message : "");
  gsl_rng *r = gsl_rng_alloc (gsl_rng_mt19937);
  gsl_rng_set (r, 5);
  for (guint h = 0; h < 24 * 14; h++)
    {
      feed_week_hour (log, r, h);
      ck_assert (ft_shadow_tick (sh, (FtTime) (h + 1) * FT_HOUR, &error));
    }
  gsl_rng_free (r);
  FtShadowScores sc;
  ft_shadow_scores (sh, &sc);
  printf ("stationary weekly demand: GLM RMSE %.3f, mean %.3f (%" G_GUINT64_FORMAT " scored)\n", sc.rmse,
          sc.base_rmse, sc.scored);
  ck_assert_uint_gt (sc.scored, 1000);
  ck_assert_msg (sc.rmse <= 1.06 * sc.base_rmse, "GLM RMSE %.3f, mean %.3f", sc.rmse, sc.base_rmse);
  ft_shadow_free (sh);
  ft_event_log_free (log);
}
END_TEST

/* Counts feed_hour's requests per zone (its zones lie on their centres)
 * and hour into a GArray of double [h * 3 + z]. */
static void
count_requests (const FtEvent *ev, gpointer data)
{
  static const double lat[] = { 54.22, 54.20, 54.18 };
  GArray *c = data;
  if (ev->kind != FT_EV_BOOKING_RESERVED && ev->kind != FT_EV_RIDER_LOST)
    return;
  guint h = (guint) (ev->t / FT_HOUR);
  if (c->len < (h + 1) * 3)
    g_array_set_size (c, (h + 1) * 3);
  for (guint z = 0; z < 3; z++)
    if (ev->lat == lat[z])
      g_array_index (c, double, h * 3 + z) += 1;
}

/* A tick reads only the last days of the series (a window that the drift
 * check and the features need, for speed): its forecasts are those of the
 * champion on the whole history, to the last bit, at origins past the
 * window, after the first fit and after a scheduled refit. */
START_TEST (test_shadow_window_whole_history)
{
  FtEventLog *log = ft_event_log_new ();
  ft_event_log_set_retain (log, FALSE);
  g_autoptr(FtZoning) z = three_zones ();
  g_autoptr(GError) error = NULL;
  g_autoptr(FtStore) st = ft_store_open (":memory:", NULL, &error);
  ck_assert_ptr_nonnull (st);
  FtShadowConfig cfg;
  ft_shadow_config_init (&cfg);
  cfg.forecast = TRUE;
  cfg.first_fit_days = 3;
  cfg.retrain_days = 7;
  FtShadow *sh = ft_shadow_new (&cfg, z, log, st, 0, &error);
  ck_assert_msg (sh != NULL, "%s", error ? error->message : "");
  g_autoptr(GArray) count = g_array_new (FALSE, TRUE, sizeof (double));
  ft_event_log_add_listener (log, count_requests, count);
  gsl_rng *r = gsl_rng_alloc (gsl_rng_mt19937);
  gsl_rng_set (r, 12);
  guint checked = 0;
  for (guint h = 0; h < 24 * 11; h++)
    {
      feed_hour (log, r, h, 0);
      guint H = h + 1;
      ck_assert (ft_shadow_tick (sh, (FtTime) H * FT_HOUR, &error));
      if (H != 200 && H != 24 * 10 + 5 && H != 24 * 11)
        continue;
      /* the whole history, zone-major */
      g_array_set_size (count, MAX (count->len, H * 3));
      g_autofree double *m = g_new (double, 3 * H);
      for (guint zz = 0; zz < 3; zz++)
        for (guint k = 0; k < H; k++)
          m[zz * H + k] = g_array_index (count, double, k * 3 + zz);
      g_autoptr(FtDemandSeries) s = ft_demand_series_new (3, H, 0, m, &error);
      ck_assert_ptr_nonnull (s);
      gint64 id = ft_registry_champion (st, FT_MODEL_FORECAST_GLM, "demo", &error);
      ck_assert_int_gt (id, 0);
      g_autoptr(FtForecaster) f = ft_registry_load_forecast (st, id, NULL, &error);
      ck_assert_msg (f != NULL, "%s", error ? error->message : "");
      double out[3 * 24];
      ck_assert (ft_forecaster_predict (f, s, H, 24, out, &error));
      for (guint zz = 0; zz < 3; zz++)
        for (guint k = 0; k < 24; k++)
          {
            double got = NAN;
            ck_assert (ft_shadow_forecast (sh, zz, (FtTime) (H + k) * FT_HOUR, &got));
            ck_assert_msg (got == out[zz * 24 + k], "origin %u, zone %u, +%u h: shadow %.17g, whole history %.17g",
                           H, zz, k + 1, got, out[zz * 24 + k]);
          }
      checked++;
    }
  gsl_rng_free (r);
  ck_assert_uint_eq (checked, 3);
  FtShadowScores sc;
  ft_shadow_scores (sh, &sc);
  ck_assert_uint_ge (sc.promotions, 1);
  ck_assert_uint_ge (sc.fits, 2);   /* the first fit and the scheduled one at day 10 */
  ft_shadow_free (sh);
  ft_event_log_free (log);
}
END_TEST

START_TEST (test_shadow_bad_config)
{
  FtEventLog *log = ft_event_log_new ();
  g_autoptr(FtZoning) z = three_zones ();
  FtShadowConfig cfg;
  ft_shadow_config_init (&cfg);
  cfg.forecast = TRUE;
  cfg.cadence_min = NAN;
  g_autoptr(GError) error = NULL;
  ck_assert_ptr_null (ft_shadow_new (&cfg, z, log, NULL, 0, &error));
  ck_assert_ptr_nonnull (strstr (error->message, "cadence_min"));
  g_clear_error (&error);
  ft_shadow_config_init (&cfg);
  cfg.drift.warn = 0.5;
  ck_assert_ptr_null (ft_shadow_new (&cfg, z, log, NULL, 0, &error));
  ck_assert_error (error, FT_DRIFT_ERROR, FT_DRIFT_ERROR_INVALID);
  ft_event_log_free (log);
}
END_TEST

static Suite *
suite (void)
{
  Suite *s = suite_create ("registry");
  TCase *tc = tcase_create ("drift");
  tcase_add_test (tc, test_kolmogorov_known);
  tcase_add_test (tc, test_ks_two_sample);
  tcase_add_test (tc, test_ks_large_samples);
  tcase_add_test (tc, test_psi_known);
  tcase_add_test (tc, test_drift_bad_input);
  suite_add_tcase (s, tc);
  tc = tcase_create ("blobs");
  tcase_add_loop_test (tc, test_blob_roundtrip, 0, FT_N_FORECAST_KINDS);
  tcase_add_test (tc, test_blob_damaged_values);
  suite_add_tcase (s, tc);
  tc = tcase_create ("store");
  tcase_add_test (tc, test_registry_survives_restart);
  tcase_add_test (tc, test_registry_checksum_refused);
  tcase_add_test (tc, test_registry_missing_version);
  tcase_add_test (tc, test_predictions_scores);
  tcase_add_test (tc, test_demand_from_store);
  tcase_add_test (tc, test_zoning_bad_input);
  tcase_add_test (tc, test_zoning_grid_lookup);
  suite_add_tcase (s, tc);
  tc = tcase_create ("shadow");
  tcase_set_timeout (tc, 300);
  tcase_add_test (tc, test_shadow_synthetic);
  tcase_add_test (tc, test_shadow_lag);
  tcase_add_test (tc, test_drift_calibrated);
  tcase_add_test (tc, test_shadow_glm_not_worse_than_mean);
  tcase_add_test (tc, test_shadow_window_whole_history);
  tcase_add_test (tc, test_shadow_bad_config);
  suite_add_tcase (s, tc);
  return s;
}

int
main (void)
{
  SRunner *sr = srunner_create (suite ());
  srunner_run_all (sr, CK_NORMAL);
  int failed = srunner_ntests_failed (sr);
  srunner_free (sr);
  return failed ? 1 : 0;
}
