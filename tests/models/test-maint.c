/* test-maint.c — predictive maintenance: the Weibull fit recovering known
 * parameters from censored synthetic data, C-index and AUC on hand-made
 * cases, XGBoost beating a constant, the feature builder on a log written
 * by the fleet itself (faults and repairs as they show in the log), blobs
 * round-tripping, and bad input refused with a clear error and nothing
 * changed.
 */
#include "ft-config.h"
#include "ft-fleet.h"
#include "ft-maint.h"
#include "ft-maint-private.h"
#include "ft-ops.h"

#include <check.h>
#include <stdio.h>
#include <math.h>
#include <string.h>
#include <gsl/gsl_errno.h>
#include <gsl/gsl_randist.h>
#include <gsl/gsl_rng.h>

#define ck_assert_error(e, dom, code)                                                  \
  ck_assert_msg ((e) != NULL && g_error_matches ((e), (dom), (code)),                  \
                 "expected error code %d, got: %s", (int) (code), (e) ? (e)->message : "none")

static gsl_rng *
rng_new (unsigned long seed)
{
  gsl_rng *r = gsl_rng_alloc (gsl_rng_mt19937);
  gsl_rng_set (r, seed);
  return r;
}

/* ---- Weibull ---------------------------------------------------------------- */

/* n rows with x ~ N(0, 1), T from H(t | x) = (t / lambda)^k exp(beta x)
 * (so (T / lambda)^k exp(beta x) ~ Exp(1)), censored at C ~ U(0, cmax). */
static void
weibull_sample (gsl_rng *r, guint n, double k, double lambda, double beta, double cmax,
                double *x, double *t, gboolean *ev)
{
  for (guint i = 0; i < n; i++)
    {
      x[i] = gsl_ran_gaussian (r, 1.0);
      double T = lambda * pow (gsl_ran_exponential (r, 1.0) * exp (-beta * x[i]), 1.0 / k);
      double C = gsl_rng_uniform_pos (r) * cmax;
      t[i] = MIN (T, C);
      ev[i] = T <= C;
    }
}

/* The MLE is asymptotically normal with the inverse observed information
 * as covariance: each estimate should lie within 4 of its standard errors
 * of the truth (a 6e-5 two-sided chance per parameter of failing by bad
 * luck; the seed is fixed, so the test is deterministic). The standard
 * errors themselves must be small (n = 4000 with ~60% events), so the
 * tolerance is tight: under 0.04 on log k and log lambda, 0.04 on beta. */
START_TEST (test_weibull_recovers_parameters)
{
  const guint n = 4000;
  const double k = 1.5, lambda = 50.0, beta = 0.7;
  g_autofree double *x = g_new (double, n), *t = g_new (double, n);
  g_autofree gboolean *ev = g_new (gboolean, n);
  gsl_rng *r = rng_new (12);
  weibull_sample (r, n, k, lambda, beta, 150.0, x, t, ev);
  gsl_rng_free (r);
  guint events = 0;
  for (guint i = 0; i < n; i++)
    events += ev[i];
  ck_assert_msg (events > n / 3 && events < n, "censoring share off: %u events", events);

  double th[3] = { 0 }, se[3];
  g_autoptr (GError) e = NULL;
  ck_assert_msg (ft_maint_weibull_mle (x, n, 1, t, ev, 0.0, 500, th, se, &e), "%s", e ? e->message : "");
  const double truth[3] = { log (k), log (lambda), beta };
  for (guint j = 0; j < 3; j++)
    {
      ck_assert_msg (isfinite (se[j]) && se[j] > 0 && se[j] < 0.04, "se[%u] = %g", j, se[j]);
      ck_assert_msg (fabs (th[j] - truth[j]) < 4 * se[j], "theta[%u] = %g, truth %g, se %g", j, th[j],
                     truth[j], se[j]);
    }
  /* and it is not the start: exponential with no covariate is far off */
  ck_assert (fabs (th[0]) > 10 * se[0]);
  ck_assert (fabs (th[2]) > 10 * se[2]);
}
END_TEST

/* Newton's method (the fit's solver) and BFGS (its fallback, the solver
 * it replaced) reach the same optimum within BFGS's tolerance: three
 * covariates, a ridge, heavy censoring. */
START_TEST (test_weibull_newton_matches_bfgs)
{
  const guint n = 3000, p = 3;
  g_autofree double *x1 = g_new (double, n), *X = g_new (double, n * p), *t = g_new (double, n);
  g_autofree gboolean *ev = g_new (gboolean, n);
  gsl_rng *r = rng_new (31);
  weibull_sample (r, n, 0.8, 200.0, -0.4, 100.0, x1, t, ev);
  for (guint i = 0; i < n; i++)
    {
      X[i * p] = x1[i];
      X[i * p + 1] = gsl_ran_gaussian (r, 1.0);
      X[i * p + 2] = 0.5 * x1[i] + gsl_ran_gaussian (r, 0.5);
    }
  gsl_rng_free (r);
  double a[2 + 3] = { 0 }, b[2 + 3] = { 0 };
  g_autoptr (GError) e = NULL;
  /* Newton alone (no fallback), in a handful of steps */
  ck_assert_msg (ft_maint_weibull_mle_newton (X, n, p, t, ev, 1e-3, 15, 1e-9, a, &e), "%s", e ? e->message : "");
  ck_assert_msg (ft_maint_weibull_mle_bfgs (X, n, p, t, ev, 1e-3, 500, 1e-9, b, &e), "%s", e ? e->message : "");
  for (guint j = 0; j < 2 + p; j++)
    ck_assert_msg (fabs (a[j] - b[j]) < 1e-5, "theta[%u]: Newton %.9f, BFGS %.9f", j, a[j], b[j]);
  ck_assert (fabs (a[0] - log (0.8)) < 0.1);   /* and not the start */
}
END_TEST

START_TEST (test_weibull_refuses_bad_input)
{
  double x[3] = { 0, 1, 2 }, t[3] = { 1, 2, 3 };
  gboolean ev[3] = { TRUE, FALSE, TRUE }, none[3] = { FALSE, FALSE, FALSE };
  double th[3] = { 0.1, 0.2, 0.3 };
  g_autoptr (GError) e = NULL;
  ck_assert (!ft_maint_weibull_mle (x, 3, 1, t, none, 0, 100, th, NULL, &e));
  ck_assert_error (e, FT_MAINT_ERROR, FT_MAINT_ERROR_NO_FAULTS);
  g_clear_error (&e);
  x[1] = NAN;
  ck_assert (!ft_maint_weibull_mle (x, 3, 1, t, ev, 0, 100, th, NULL, &e));
  ck_assert_error (e, FT_MAINT_ERROR, FT_MAINT_ERROR_INVALID);
  ck_assert (strstr (e->message, "row 1") != NULL);
  g_clear_error (&e);
  x[1] = 1;
  t[2] = 0;
  ck_assert (!ft_maint_weibull_mle (x, 3, 1, t, ev, 0, 100, th, NULL, &e));
  ck_assert_error (e, FT_MAINT_ERROR, FT_MAINT_ERROR_INVALID);
  /* nothing changed */
  ck_assert (th[0] == 0.1 && th[1] == 0.2 && th[2] == 0.3);
}
END_TEST

/* ---- scores ------------------------------------------------------------------- */

START_TEST (test_auc_exact)
{
  const double s1[] = { 0.1, 0.4, 0.35, 0.8 };
  const gboolean y1[] = { FALSE, FALSE, TRUE, TRUE };
  ck_assert_double_eq_tol (ft_maint_auc (s1, y1, 4), 0.75, 1e-12);
  const double s2[] = { 0.5, 0.5, 0.2 };
  const gboolean y2[] = { TRUE, FALSE, FALSE };
  /* positive vs (0.5 tie: 1/2) and (0.2: 1) = 1.5 / 2 */
  ck_assert_double_eq_tol (ft_maint_auc (s2, y2, 3), 0.75, 1e-12);
  const gboolean one[] = { TRUE, TRUE, TRUE };
  ck_assert (isnan (ft_maint_auc (s2, one, 3)));
}
END_TEST

/* Many scores (the radix path) with ties, negatives and both zeros: the
 * AUC is the share of positive-negative pairs ranked right (ties half). */
START_TEST (test_auc_matches_pairs)
{
  guint n = 3000;
  g_autofree double *s = g_new (double, n);
  g_autofree gboolean *y = g_new (gboolean, n);
  gsl_rng *r = rng_new (77);
  for (guint i = 0; i < n; i++)
    {
      s[i] = i % 7 == 0 ? (i % 2 ? 0.0 : -0.0) : floor (gsl_rng_uniform (r) * 200) / 100 - 0.5;
      y[i] = gsl_rng_uniform (r) < 0.2 + 0.3 * (s[i] > 0.5);
    }
  gsl_rng_free (r);
  double good = 0, pairs = 0;
  for (guint i = 0; i < n; i++)
    for (guint j = 0; j < n; j++)
      if (y[i] && !y[j])
        {
          pairs++;
          good += s[i] > s[j] ? 1 : s[i] == s[j] ? 0.5 : 0;
        }
  ck_assert_double_eq_tol (ft_maint_auc (s, y, n), good / pairs, 1e-12);
  /* the labels swapped: the positives are now the larger class */
  for (guint i = 0; i < n; i++)
    y[i] = !y[i];
  good = pairs = 0;
  for (guint i = 0; i < n; i++)
    for (guint j = 0; j < n; j++)
      if (y[i] && !y[j])
        {
          pairs++;
          good += s[i] > s[j] ? 1 : s[i] == s[j] ? 0.5 : 0;
        }
  ck_assert_double_eq_tol (ft_maint_auc (s, y, n), good / pairs, 1e-12);
}
END_TEST

START_TEST (test_c_index_exact)
{
  /* every comparable pair concordant */
  const double t1[] = { 2, 4, 6, 8 };
  const gboolean e1[] = { TRUE, FALSE, TRUE, TRUE };
  const double r1[] = { 0.9, 0.5, 0.5, 0.1 };
  ck_assert_double_eq_tol (ft_maint_c_index (r1, t1, e1, 4), 1.0, 1e-12);
  /* pairs (0,1) discordant, (0,2) tied risk (1/2), (0,3) discordant,
   * (2,3) discordant; the censored row 1 starts no pair: 0.5 / 4 */
  const double r2[] = { 0.5, 0.9, 0.5, 0.7 };
  ck_assert_double_eq_tol (ft_maint_c_index (r2, t1, e1, 4), 0.125, 1e-12);
  /* tied times are not comparable: only (0,2) and (1,2), both discordant */
  const double t3[] = { 1, 1, 2 };
  const gboolean e3[] = { TRUE, TRUE, FALSE };
  const double r3[] = { 1, 2, 3 };
  ck_assert_double_eq_tol (ft_maint_c_index (r3, t3, e3, 3), 0.0, 1e-12);
  const gboolean none[] = { FALSE, FALSE, FALSE };
  ck_assert (isnan (ft_maint_c_index (r3, t3, none, 3)));
}
END_TEST

/* The O(n log n) C-index against the O(n^2) definition, with many ties. */
START_TEST (test_c_index_matches_brute_force)
{
  const guint n = 600;
  g_autofree double *t = g_new (double, n), *r = g_new (double, n);
  g_autofree gboolean *e = g_new (gboolean, n);
  gsl_rng *g = rng_new (3);
  for (guint i = 0; i < n; i++)
    {
      t[i] = gsl_rng_uniform_int (g, 50);
      r[i] = gsl_rng_uniform_int (g, 20);
      e[i] = gsl_rng_uniform (g) < 0.4;
    }
  gsl_rng_free (g);
  double conc = 0, pairs = 0;
  for (guint i = 0; i < n; i++)
    for (guint j = 0; j < n; j++)
      if (e[i] && t[i] < t[j])
        {
          pairs++;
          conc += r[i] > r[j] ? 1.0 : r[i] == r[j] ? 0.5 : 0.0;
        }
  ck_assert_double_eq_tol (ft_maint_c_index (r, t, e, n), conc / pairs, 1e-12);
}
END_TEST

/* ---- models on synthetic rows ------------------------------------------------ */

/* Rows whose fault hazard per hour grows with km_last_24h (and nothing
 * else); every row followed for 200 h. */
static GArray *
synthetic_rows (guint n, unsigned long seed)
{
  GArray *rows = g_array_new (FALSE, TRUE, sizeof (FtMaintRow));
  gsl_rng *r = rng_new (seed);
  for (guint i = 0; i < n; i++)
    {
      FtMaintRow row = { .vehicle = i, .t = (FtTime) i * FT_HOUR };
      for (guint j = 0; j < FT_MAINT_N_FEATURES; j++)
        row.x[j] = gsl_rng_uniform (r) * 10;
      row.x[FT_MF_KIND_BIKE] = row.x[FT_MF_KIND_MOPED] = 0;
      double km = gsl_ran_exponential (r, 15.0);
      row.x[FT_MF_KM_LAST_24H] = km;
      double rate = 0.0004 * (1.0 + km);          /* per hour */
      double T = gsl_ran_exponential (r, 1.0 / rate);
      row.follow_h = 200.0;
      row.fault = T <= row.follow_h;
      row.time_h = row.fault ? MAX (T, 1e-3) : row.follow_h;
      g_array_append_val (rows, row);
    }
  gsl_rng_free (r);
  return rows;
}

/* Several horizons at once give exactly what one horizon at a time gives,
 * for every model; a bad horizon is refused. */
START_TEST (test_predict_multi)
{
  g_autoptr (GArray) train = synthetic_rows (2000, 5);
  g_autoptr (GArray) test = synthetic_rows (300, 6);
  const FtMaintRow *r = (const FtMaintRow *) test->data;
  guint n = test->len;
  FtMaintParams prm;
  ft_maint_params_init (&prm);
  prm.xgb_rounds = 10;
  prm.xgb_nthread = 1;
  for (guint k = 0; k < FT_N_MAINT_KINDS; k++)
    {
      g_autoptr (GError) e = NULL;
      g_autoptr (FtMaintModel) m = ft_maint_model_fit (k, &prm, (FtMaintRow *) train->data, train->len, &e);
      ck_assert_msg (m != NULL, "%s", e ? e->message : "");
      double h[2] = { 24, 168 };
      g_autofree double *multi = g_new (double, 2 * n);
      g_autofree double *one = g_new (double, n);
      ck_assert_msg (ft_maint_model_predict_multi (m, r, n, h, 2, multi, &e), "%s", e ? e->message : "");
      for (guint q = 0; q < 2; q++)
        {
          ck_assert (ft_maint_model_predict (m, r, n, h[q], one, &e));
          ck_assert_msg (memcmp (one, multi + (gsize) q * n, sizeof (double) * n) == 0, "%s horizon %g differs",
                         ft_maint_kind_name (k), h[q]);
        }
      double bad[2] = { 24, NAN };
      ck_assert (!ft_maint_model_predict_multi (m, r, n, bad, 2, multi, &e));
      ck_assert_error (e, FT_MAINT_ERROR, FT_MAINT_ERROR_INVALID);
    }
}
END_TEST

/* Through a memo, every model gives what it gives without one, bit for
 * bit: on rows seen for the first time, on the same vehicles again with
 * some features moved (and a vehicle beyond any seen), and for another
 * model through the same memo. */
START_TEST (test_predict_memo)
{
  g_autoptr (GArray) train = synthetic_rows (2000, 5);
  g_autoptr (GArray) train2 = synthetic_rows (2000, 7);
  g_autoptr (GArray) test = synthetic_rows (300, 6);
  FtMaintRow *r = (FtMaintRow *) test->data;
  guint n = test->len;
  for (guint i = 0; i < n; i++)
    r[i].vehicle = i % 200;   /* some vehicles twice in a call */
  FtMaintParams prm;
  ft_maint_params_init (&prm);
  prm.xgb_rounds = 10;
  prm.xgb_nthread = 1;
  double h[2] = { 24, 168 };
  g_autofree double *with = g_new (double, 2 * n);
  g_autofree double *without = g_new (double, 2 * n);
  for (guint k = 0; k < FT_N_MAINT_KINDS; k++)
    {
      g_autoptr (GError) e = NULL;
      g_autoptr (FtMaintModel) m = ft_maint_model_fit (k, &prm, (FtMaintRow *) train->data, train->len, &e);
      g_autoptr (FtMaintModel) m2 = ft_maint_model_fit (k, &prm, (FtMaintRow *) train2->data, train2->len, &e);
      ck_assert_msg (m != NULL && m2 != NULL, "%s", e ? e->message : "");
      g_autoptr (FtMaintMemo) memo = ft_maint_memo_new ();
      for (guint round = 0; round < 4; round++)
        {
          if (round == 1 || round == 3)
            for (guint i = 0; i < n; i += 3)
              {
                r[i].x[FT_MF_HOURS_SINCE_SERVICE] += 6;
                r[i].x[FT_MF_KM_SINCE_SERVICE] += 1.5 * (i % 2);
                r[i].x[FT_MF_TRIPS_SINCE_SERVICE] = 0;
              }
          if (round == 3)
            r[n - 1].vehicle = 1000;
          const FtMaintModel *mm = round == 2 ? m2 : m;
          ck_assert_msg (ft_maint_model_predict_multi_memo (mm, memo, r, n, h, 2, FALSE, with, &e), "%s",
                         e ? e->message : "");
          ck_assert (ft_maint_model_predict_multi (mm, r, n, h, 2, without, &e));
          ck_assert_msg (memcmp (with, without, sizeof (double) * 2 * n) == 0, "%s round %u differs",
                         ft_maint_kind_name (k), round);
        }
      r[0].x[FT_MF_ODOMETER_KM] = NAN;
      ck_assert (!ft_maint_model_predict_multi_memo (m, memo, r, n, h, 2, FALSE, with, &e));
      ck_assert_error (e, FT_MAINT_ERROR, FT_MAINT_ERROR_INVALID);
      r[0].x[FT_MF_ODOMETER_KM] = 100;
    }
}
END_TEST

START_TEST (test_xgb_beats_constant)
{
  g_autoptr (GArray) train = synthetic_rows (6000, 1);
  g_autoptr (GArray) test = synthetic_rows (3000, 2);
  FtMaintParams p;
  ft_maint_params_init (&p);
  p.xgb_nthread = 1;
  g_autoptr (GError) e = NULL;
  g_autoptr (FtMaintModel) m = ft_maint_model_fit (FT_MAINT_XGB, &p, (FtMaintRow *) train->data, train->len, &e);
  ck_assert_msg (m != NULL, "%s", e ? e->message : "");
  /* the constant: the training share of faults within 24 h */
  double base = 0;
  for (guint i = 0; i < train->len; i++)
    base += g_array_index (train, FtMaintRow, i).fault && g_array_index (train, FtMaintRow, i).time_h <= 24;
  base /= train->len;
  g_autofree double *pr = g_new (double, test->len);
  g_autofree gboolean *y = g_new (gboolean, test->len);
  ck_assert (ft_maint_model_predict (m, (FtMaintRow *) test->data, test->len, 24, pr, &e));
  double b_model = 0, b_const = 0;
  for (guint i = 0; i < test->len; i++)
    {
      const FtMaintRow *r = &g_array_index (test, FtMaintRow, i);
      y[i] = r->fault && r->time_h <= 24;
      b_model += (pr[i] - y[i]) * (pr[i] - y[i]);
      b_const += (base - y[i]) * (base - y[i]);
    }
  double auc = ft_maint_auc (pr, y, test->len);
  ck_assert_msg (b_model < b_const && auc > 0.65, "Brier %g vs constant %g, AUC %g", b_model / test->len,
                 b_const / test->len, auc);
  /* the 7-day booster exists (every row is followed 200 h) and ranks too */
  ck_assert (ft_maint_model_predict (m, (FtMaintRow *) test->data, test->len, 168, pr, &e));
  for (guint i = 0; i < test->len; i++)
    {
      const FtMaintRow *r = &g_array_index (test, FtMaintRow, i);
      y[i] = r->fault && r->time_h <= 168;
    }
  ck_assert_double_gt (ft_maint_auc (pr, y, test->len), 0.65);
  /* only trained horizons */
  ck_assert (!ft_maint_model_predict (m, (FtMaintRow *) test->data, 1, 48, pr, &e));
  ck_assert_error (e, FT_MAINT_ERROR, FT_MAINT_ERROR_INVALID);
}
END_TEST

START_TEST (test_weibull_model_ranks_synthetic)
{
  g_autoptr (GArray) train = synthetic_rows (6000, 1);
  g_autoptr (GArray) test = synthetic_rows (3000, 2);
  g_autoptr (GError) e = NULL;
  g_autoptr (FtMaintModel) m = ft_maint_model_fit (FT_MAINT_WEIBULL, NULL, (FtMaintRow *) train->data,
                                                   train->len, &e);
  ck_assert_msg (m != NULL, "%s", e ? e->message : "");
  double k, lambda, beta[FT_MAINT_N_FEATURES];
  ck_assert (ft_maint_model_weibull (m, &k, &lambda, beta));
  /* constant hazard in truth: shape near 1; km_last_24h the strong effect */
  ck_assert_msg (fabs (k - 1.0) < 0.15, "shape %g", k);
  for (guint j = 0; j < FT_MAINT_N_FEATURES; j++)
    if (j != FT_MF_KM_LAST_24H)
      ck_assert_msg (fabs (beta[j]) < 0.5 * beta[FT_MF_KM_LAST_24H], "beta[%s] %g vs %g",
                     ft_maint_feature_name (j), beta[j], beta[FT_MF_KM_LAST_24H]);
  ck_assert (beta[FT_MF_KIND_BIKE] == 0);   /* constant in training: left out */
}
END_TEST

START_TEST (test_blob_round_trip)
{
  g_autoptr (GArray) train = synthetic_rows (3000, 5);
  FtMaintParams p;
  ft_maint_params_init (&p);
  p.xgb_rounds = 30;
  p.xgb_nthread = 1;
  for (guint k = 0; k < FT_N_MAINT_KINDS; k++)
    {
      g_autoptr (GError) e = NULL;
      g_autoptr (FtMaintModel) m = ft_maint_model_fit (k, &p, (FtMaintRow *) train->data, 200 + 1000 * k, &e);
      ck_assert_msg (m != NULL, "%s: %s", ft_maint_kind_name (k), e ? e->message : "");
      g_autoptr (GBytes) blob = ft_maint_model_to_blob (m, &e);
      ck_assert (blob != NULL);
      g_autoptr (FtMaintModel) back = ft_maint_model_from_blob (blob, &e);
      ck_assert_msg (back != NULL, "%s", e ? e->message : "");
      ck_assert_int_eq (ft_maint_model_get_kind (back), k);
      double a[50], b[50];
      for (guint h = 0; h < FT_MAINT_N_HORIZONS; h++)
        {
          ck_assert (ft_maint_model_predict (m, (FtMaintRow *) train->data, 50, ft_maint_horizons_h[h], a, &e));
          ck_assert (ft_maint_model_predict (back, (FtMaintRow *) train->data, 50, ft_maint_horizons_h[h], b, &e));
          for (guint i = 0; i < 50; i++)
            ck_assert_msg (a[i] == b[i] && a[i] >= 0 && a[i] <= 1, "%s h%u row %u: %g vs %g",
                           ft_maint_kind_name (k), h, i, a[i], b[i]);
        }
    }
}
END_TEST

START_TEST (test_blob_refused)
{
  g_autoptr (GArray) train = synthetic_rows (2000, 6);
  g_autoptr (GError) e = NULL;
  g_autoptr (FtMaintModel) m = ft_maint_model_fit (FT_MAINT_WEIBULL, NULL, (FtMaintRow *) train->data,
                                                   train->len, &e);
  ck_assert (m != NULL);
  g_autoptr (GBytes) blob = ft_maint_model_to_blob (m, &e);
  gsize len;
  const guint8 *d = g_bytes_get_data (blob, &len);
  /* one flipped bit in the payload: the checksum catches it */
  g_autofree guint8 *bad = g_memdup2 (d, len);
  bad[30] ^= 0x10;
  g_autoptr (GBytes) b1 = g_bytes_new (bad, len);
  ck_assert (ft_maint_model_from_blob (b1, &e) == NULL);
  ck_assert_error (e, FT_MAINT_ERROR, FT_MAINT_ERROR_BLOB);
  ck_assert (strstr (e->message, "SHA-256") != NULL);
  g_clear_error (&e);
  /* truncated anywhere */
  for (gsize cut = 0; cut < len; cut += 7)
    {
      g_autoptr (GBytes) b2 = g_bytes_new (d, cut);
      ck_assert (ft_maint_model_from_blob (b2, &e) == NULL);
      ck_assert_error (e, FT_MAINT_ERROR, FT_MAINT_ERROR_BLOB);
      g_clear_error (&e);
    }
  /* another format */
  g_autoptr (GBytes) b3 = g_bytes_new_static ("{\"learner\": {}}", 15);
  ck_assert (ft_maint_model_from_blob (b3, &e) == NULL);
  ck_assert_error (e, FT_MAINT_ERROR, FT_MAINT_ERROR_BLOB);
}
END_TEST

START_TEST (test_fit_refuses_bad_rows)
{
  g_autoptr (GArray) rows = synthetic_rows (500, 7);
  FtMaintRow *r = (FtMaintRow *) rows->data;
  for (guint k = 0; k < FT_N_MAINT_KINDS; k++)
    {
      g_autoptr (GError) e = NULL;
      ck_assert (ft_maint_model_fit (k, NULL, r, 0, &e) == NULL);
      ck_assert_error (e, FT_MAINT_ERROR, FT_MAINT_ERROR_EMPTY);
      g_clear_error (&e);
      double keep = r[10].x[FT_MF_KM_SINCE_SERVICE];
      r[10].x[FT_MF_KM_SINCE_SERVICE] = k == 1 ? INFINITY : NAN;
      ck_assert (ft_maint_model_fit (k, NULL, r, rows->len, &e) == NULL);
      ck_assert_error (e, FT_MAINT_ERROR, FT_MAINT_ERROR_INVALID);
      ck_assert_msg (strstr (e->message, "km_since_service") && strstr (e->message, "vehicle 10"), "%s",
                     e->message);
      g_clear_error (&e);
      r[10].x[FT_MF_KM_SINCE_SERVICE] = keep;
    }
  /* no fault at all in the training rows */
  g_autoptr (GArray) quiet = g_array_copy (rows);
  for (guint i = 0; i < quiet->len; i++)
    g_array_index (quiet, FtMaintRow, i).fault = FALSE;
  for (guint k = 0; k < FT_N_MAINT_KINDS; k++)
    {
      g_autoptr (GError) e = NULL;
      ck_assert (ft_maint_model_fit (k, NULL, (FtMaintRow *) quiet->data, quiet->len, &e) == NULL);
      ck_assert_error (e, FT_MAINT_ERROR, FT_MAINT_ERROR_NO_FAULTS);
    }
  /* predicting a NaN row: refused, the output untouched */
  g_autoptr (GError) e = NULL;
  g_autoptr (FtMaintModel) m = ft_maint_model_fit (FT_MAINT_WEIBULL, NULL, r, rows->len, &e);
  ck_assert (m != NULL);
  double out[3] = { -1, -1, -1 };
  r[1].x[FT_MF_AGE_DAYS] = NAN;
  ck_assert (!ft_maint_model_predict (m, r, 3, 24, out, &e));
  ck_assert_error (e, FT_MAINT_ERROR, FT_MAINT_ERROR_INVALID);
  ck_assert (out[0] == -1 && out[1] == -1 && out[2] == -1);
}
END_TEST

/* ---- the feature builder on a log written by the fleet ---------------------- */

static void
drain_into (FtEventLog *ev, FtMaintLog *log)
{
  guint n;
  const FtEvent *e = ft_event_log_pending (ev, &n);
  for (guint i = 0; i < n; i++)
    {
      g_autoptr (GError) err = NULL;
      ck_assert_msg (ft_maint_log_add (log, &e[i], &err), "%s", err ? err->message : "");
    }
  ft_event_log_drain (ev);
}

/* Vehicle 0: two trips, a fault at 10 h (codes set, then the MDS
 * `maintenance` event as the simulator applies it), picked up, repaired at
 * 20 h (codes cleared, dropped off), one more trip. Vehicle 1: never faults. */
START_TEST (test_builder_on_fleet_log)
{
  FtEventLog *ev = ft_event_log_new ();
  FtFleet *f = ft_fleet_new (1, ev);
  FtLatLon p = { 52.0, 13.0 };
  ft_fleet_add_vehicle (f, FT_KIND_SCOOTER, p, NULL, 0);
  ft_fleet_add_vehicle (f, FT_KIND_MOPED, p, NULL, 0);
  g_autoptr (FtMaintLog) log = ft_maint_log_new ();
  drain_into (ev, log);
  FtEvent trip = ft_event_init (FT_EV_BOOKING_ENDED, 2 * FT_HOUR);
  trip.vehicle = 0, trip.a = 600, trip.b = 3000;
  ft_event_log_append (ev, &trip);
  trip.t = 5 * FT_HOUR, trip.a = 1200, trip.b = 5000;
  ft_event_log_append (ev, &trip);
  trip.vehicle = 1, trip.t = 6 * FT_HOUR, trip.a = 300, trip.b = 1000;
  ft_event_log_append (ev, &trip);
  ft_fleet_report_faults (f, 0, 0x4, 10 * FT_HOUR);
  ck_assert (ft_fleet_apply_event (f, 0, FT_VEV_MAINTENANCE, 10 * FT_HOUR, NULL));
  ck_assert (ft_fleet_apply_event (f, 0, FT_VEV_MAINTENANCE_PICK_UP, 12 * FT_HOUR, NULL));
  ft_fleet_report_faults (f, 0, 0, 20 * FT_HOUR);
  ck_assert (ft_fleet_apply_event (f, 0, FT_VEV_PROVIDER_DROP_OFF, 20 * FT_HOUR, NULL));
  trip.vehicle = 0, trip.t = 22 * FT_HOUR, trip.a = 900, trip.b = 2000;
  ft_event_log_append (ev, &trip);
  /* the fault shows in the log as its own event, with its codes */
  ck_assert_uint_eq (ft_event_log_count (ev, FT_EV_VEHICLE_FAULT), 2);
  drain_into (ev, log);
  ck_assert_uint_eq (ft_maint_log_n_vehicles (log), 2);
  ck_assert_uint_eq (ft_maint_log_n_faults (log), 1);

  g_autoptr (GError) e = NULL;
  g_autoptr (GArray) rows = ft_maint_log_rows (log, 4 * FT_HOUR, 24 * FT_HOUR, 4 * FT_HOUR, 24 * FT_HOUR, &e);
  ck_assert_msg (rows != NULL, "%s", e ? e->message : "");
  /* times 4, 8, 12, 16, 20: vehicle 0 is out of service at 12 and 16 */
  guint n0 = 0, n1 = 0;
  for (guint i = 0; i < rows->len; i++)
    {
      const FtMaintRow *r = &g_array_index (rows, FtMaintRow, i);
      if (r->vehicle == 1)
        {
          n1++;
          ck_assert (!r->fault);
          ck_assert_double_eq_tol (r->time_h, (24 * FT_HOUR - r->t) / (double) FT_HOUR, 1e-9);
          ck_assert (r->x[FT_MF_KIND_MOPED] == 1 && r->x[FT_MF_KIND_BIKE] == 0);
          continue;
        }
      n0++;
      ck_assert (r->t != 12 * FT_HOUR && r->t != 16 * FT_HOUR);
      if (r->t == 4 * FT_HOUR)
        {
          /* one trip before 4 h: features read only the past */
          ck_assert_double_eq_tol (r->x[FT_MF_KM_SINCE_SERVICE], 3.0, 1e-9);
          ck_assert_double_eq_tol (r->x[FT_MF_RIDE_MIN_SINCE_SERVICE], 10.0, 1e-9);
          ck_assert_double_eq_tol (r->x[FT_MF_TRIPS_SINCE_SERVICE], 1.0, 1e-9);
          ck_assert (r->fault);
          ck_assert_double_eq_tol (r->time_h, 6.0, 1e-9);
        }
      if (r->t == 8 * FT_HOUR)
        {
          ck_assert_double_eq_tol (r->x[FT_MF_HOURS_SINCE_TRIP], 3.0, 1e-9);
          ck_assert_double_eq_tol (r->x[FT_MF_KM_SINCE_SERVICE], 8.0, 1e-9);
          ck_assert_double_eq_tol (r->x[FT_MF_KM_LAST_24H], 8.0, 1e-9);
          ck_assert_double_eq_tol (r->x[FT_MF_PRIOR_FAULTS], 0.0, 1e-9);
          ck_assert_double_eq_tol (r->time_h, 2.0, 1e-9);
        }
      if (r->t == 20 * FT_HOUR)
        {
          /* serviced at 20 h (the events of that instant are not yet read:
           * the vehicle is still faulted then, so no row) */
          ck_abort_msg ("vehicle 0 listed at 20 h while its repair is logged at 20 h");
        }
    }
  ck_assert_uint_eq (n1, 5);
  ck_assert_uint_eq (n0, 2);
  /* after the repair: counters since service restart, history stays */
  g_autoptr (GArray) now = ft_maint_log_rows_now (log, 23 * FT_HOUR, &e);
  ck_assert_uint_eq (now->len, 2);
  const FtMaintRow *r0 = &g_array_index (now, FtMaintRow, 0);
  ck_assert_uint_eq (r0->vehicle, 0);
  ck_assert_double_eq_tol (r0->x[FT_MF_KM_SINCE_SERVICE], 2.0, 1e-9);
  ck_assert_double_eq_tol (r0->x[FT_MF_ODOMETER_KM], 10.0, 1e-9);
  ck_assert_double_eq_tol (r0->x[FT_MF_HOURS_SINCE_SERVICE], 3.0, 1e-9);
  ck_assert_double_eq_tol (r0->x[FT_MF_PRIOR_FAULTS], 1.0, 1e-9);
  ck_assert_double_eq_tol (r0->x[FT_MF_ERROR_CODES], 1.0, 1e-9);
  ck_assert_double_eq_tol (r0->x[FT_MF_HOURS_SINCE_TRIP], 1.0, 1e-9);
  ck_assert (r0->x[FT_MF_AVAILABLE] == 1);   /* dropped off after the repair */
  /* the same moment by replay (now before the last event) agrees */
  g_autoptr (GArray) again = ft_maint_log_rows (log, 23 * FT_HOUR, 23 * FT_HOUR + 1, FT_HOUR, 24 * FT_HOUR, &e);
  ck_assert_uint_eq (again->len, 2);
  ck_assert (memcmp (g_array_index (again, FtMaintRow, 0).x, r0->x, sizeof r0->x) == 0);

  /* events out of order are refused and change nothing */
  FtEvent old = ft_event_init (FT_EV_BOOKING_ENDED, FT_HOUR);
  old.vehicle = 1;
  ck_assert (!ft_maint_log_add (log, &old, &e));
  ck_assert_error (e, FT_MAINT_ERROR, FT_MAINT_ERROR_INVALID);
  ck_assert_uint_eq (ft_maint_log_end (log), 22 * FT_HOUR);
  ft_fleet_free (f);
  ft_event_log_free (ev);
}
END_TEST

/* Shadow mode: a listener keeps the log current; "now" needs no replay and
 * agrees with one. */
START_TEST (test_builder_listener)
{
  FtEventLog *ev = ft_event_log_new ();
  ft_event_log_set_retain (ev, FALSE);
  FtFleet *f = ft_fleet_new (1, ev);
  g_autoptr (FtMaintLog) log = ft_maint_log_new ();
  guint id = ft_event_log_add_listener (ev, ft_maint_log_listener, log);
  FtLatLon p = { 52.0, 13.0 };
  for (guint v = 0; v < 3; v++)
    ft_fleet_add_vehicle (f, FT_KIND_SCOOTER, p, NULL, 0);
  FtEvent trip = ft_event_init (FT_EV_BOOKING_ENDED, FT_HOUR);
  trip.vehicle = 2, trip.a = 600, trip.b = 4000;
  ft_event_log_append (ev, &trip);
  ft_fleet_report_faults (f, 1, 1, 2 * FT_HOUR);
  ck_assert_uint_eq (ft_maint_log_n_vehicles (log), 3);
  ck_assert_uint_eq (ft_maint_log_n_faults (log), 1);
  g_autoptr (GError) e = NULL;
  g_autoptr (GArray) now = ft_maint_log_rows_now (log, 3 * FT_HOUR, &e);
  ck_assert_uint_eq (now->len, 2);   /* vehicle 1 is faulted */
  ck_assert_uint_eq (g_array_index (now, FtMaintRow, 1).vehicle, 2);
  ck_assert_double_eq_tol (g_array_index (now, FtMaintRow, 1).x[FT_MF_KM_LAST_24H], 4.0, 1e-9);
  g_autoptr (GArray) replay = ft_maint_log_rows (log, 3 * FT_HOUR, 3 * FT_HOUR + 1, FT_HOUR, 4 * FT_HOUR, &e);
  ck_assert_uint_eq (replay->len, 2);
  ck_assert (memcmp (g_array_index (replay, FtMaintRow, 1).x, g_array_index (now, FtMaintRow, 1).x,
                     sizeof (double) * FT_MAINT_N_FEATURES) == 0);
  ft_event_log_remove_listener (ev, id);
  ft_fleet_free (f);
  ft_event_log_free (ev);
}
END_TEST

/* A done inspection (an `inspect` task, FT_EV_TASK_DONE from src/ops) is
 * a service: counters since service restart, the history stays; a done
 * swap is not, nor an inspection cancelled. The same by replay and from a
 * stored log. */
START_TEST (test_builder_inspection_is_service)
{
  FtEventLog *ev = ft_event_log_new ();
  FtFleet *f = ft_fleet_new (1, ev);
  FtAccounts *acc = ft_accounts_new (1, ev);
  FtOps *ops = ft_ops_new (f, acc, ev);
  g_autoptr (FtMaintLog) log = ft_maint_log_new ();
  FtLatLon p = { 52.0, 13.0 };
  ft_fleet_add_vehicle (f, FT_KIND_SCOOTER, p, NULL, 0);
  ft_fleet_add_vehicle (f, FT_KIND_SCOOTER, p, NULL, 0);
  gint staff = ft_accounts_create (acc, FT_ROLE_FIELD, "F", NULL, 0, NULL);
  FtEvent trip = ft_event_init (FT_EV_BOOKING_ENDED, FT_HOUR);
  trip.a = 600, trip.b = 4000;
  for (guint v = 0; v < 2; v++)
    {
      trip.vehicle = (gint32) v;
      ft_event_log_append (ev, &trip);
    }
  /* vehicle 0 inspected at 3 h, vehicle 1 swapped at 3 h */
  FtTaskKind kinds[2] = { FT_TASK_INSPECT, FT_TASK_BATTERY_SWAP };
  gint64 id[2];
  for (guint v = 0; v < 2; v++)
    {
      id[v] = ft_ops_create (ops, kinds[v], (gint32) v, p, -1, 4, -1, 2 * FT_HOUR, NULL);
      ck_assert (id[v] >= 0);
      ck_assert (ft_ops_assign (ops, id[v], (guint) staff, -1, 2 * FT_HOUR, NULL));
    }
  for (guint v = 0; v < 2; v++)
    ck_assert (ft_ops_start (ops, id[v], (guint) staff, 3 * FT_HOUR - 600 * FT_SECOND, NULL));
  for (guint v = 0; v < 2; v++)
    ck_assert (ft_ops_complete (ops, id[v], (guint) staff, 3 * FT_HOUR, NULL));
  /* an inspection of vehicle 1 cancelled: no service */
  gint64 c = ft_ops_create (ops, FT_TASK_INSPECT, 1, p, -1, 4, -1, 3 * FT_HOUR, NULL);
  ck_assert (ft_ops_cancel (ops, c, -1, 3 * FT_HOUR, NULL));
  trip.t = 4 * FT_HOUR, trip.b = 2000;
  for (guint v = 0; v < 2; v++)
    {
      trip.vehicle = (gint32) v;
      ft_event_log_append (ev, &trip);
    }
  drain_into (ev, log);
  g_autoptr (GError) e = NULL;
  g_autoptr (GArray) now = ft_maint_log_rows_now (log, 5 * FT_HOUR, &e);
  ck_assert_msg (now != NULL, "%s", e ? e->message : "");
  ck_assert_uint_eq (now->len, 2);
  const FtMaintRow *r0 = &g_array_index (now, FtMaintRow, 0), *r1 = &g_array_index (now, FtMaintRow, 1);
  ck_assert_double_eq_tol (r0->x[FT_MF_KM_SINCE_SERVICE], 2.0, 1e-9);
  ck_assert_double_eq_tol (r0->x[FT_MF_TRIPS_SINCE_SERVICE], 1.0, 1e-9);
  ck_assert_double_eq_tol (r0->x[FT_MF_HOURS_SINCE_SERVICE], 2.0, 1e-9);
  ck_assert_double_eq_tol (r0->x[FT_MF_ODOMETER_KM], 6.0, 1e-9);
  ck_assert_double_eq_tol (r0->x[FT_MF_PRIOR_FAULTS], 0.0, 1e-9);
  ck_assert_double_eq_tol (r1->x[FT_MF_KM_SINCE_SERVICE], 6.0, 1e-9);
  ck_assert_double_eq_tol (r1->x[FT_MF_TRIPS_SINCE_SERVICE], 2.0, 1e-9);
  /* replay agrees */
  g_autoptr (GArray) again = ft_maint_log_rows (log, 5 * FT_HOUR, 5 * FT_HOUR + 1, FT_HOUR, 6 * FT_HOUR, &e);
  ck_assert_uint_eq (again->len, 2);
  ck_assert (memcmp (g_array_index (again, FtMaintRow, 0).x, r0->x, sizeof r0->x) == 0);
  ft_ops_free (ops);
  ft_accounts_free (acc);
  ft_fleet_free (f);
  ft_event_log_free (ev);
}
END_TEST

/* A vehicle that joins the log with km on its odometer (a fleet of mixed
 * age, a live vehicle first seen mid-life): its first reading is where the
 * odometer stood, not km ridden in the last day or since service. */
static void
add_event (FtMaintLog *log, FtEventKind kind, guint v, FtTime t, gint32 a, gint64 b, gint64 amount)
{
  FtEvent e = ft_event_init (kind, t);
  e.vehicle = (gint32) v;
  e.a = a, e.b = b, e.amount = amount;
  g_autoptr (GError) error = NULL;
  ck_assert_msg (ft_maint_log_add (log, &e, &error), "%s", error ? error->message : "");
}

START_TEST (test_builder_first_odometer_reading)
{
  g_autoptr (FtMaintLog) log = ft_maint_log_new ();
  add_event (log, FT_EV_VEHICLE_ADDED, 0, 0, FT_KIND_SCOOTER, 0, 0);
  add_event (log, FT_EV_VEHICLE_MOVED, 0, 0, 0, 0, 3000000);        /* 3000 km on it */
  add_event (log, FT_EV_BOOKING_ENDED, 0, 2 * FT_HOUR, 600, 4000, 0);
  add_event (log, FT_EV_VEHICLE_MOVED, 0, 30 * FT_HOUR, 0, 0, 3005000);
  g_autoptr (GError) e = NULL;
  g_autoptr (GArray) rows = ft_maint_log_rows (log, FT_HOUR, 32 * FT_HOUR, 3 * FT_HOUR, 32 * FT_HOUR, &e);
  ck_assert_msg (rows != NULL, "%s", e ? e->message : "");
  const FtMaintRow *r = &g_array_index (rows, FtMaintRow, 0);   /* 1 h */
  ck_assert_double_eq_tol (r->x[FT_MF_ODOMETER_KM], 3000.0, 1e-9);
  ck_assert_double_eq_tol (r->x[FT_MF_KM_SINCE_SERVICE], 0.0, 1e-9);
  ck_assert_double_eq_tol (r->x[FT_MF_KM_LAST_24H], 0.0, 1e-9);
  r = &g_array_index (rows, FtMaintRow, 1);                     /* 4 h: one 4 km trip */
  ck_assert_double_eq_tol (r->x[FT_MF_KM_SINCE_SERVICE], 4.0, 1e-9);
  ck_assert_double_eq_tol (r->x[FT_MF_KM_LAST_24H], 4.0, 1e-9);
  ck_assert_double_eq_tol (r->x[FT_MF_KM_PER_DAY_7D], 4.0, 1e-9);
  r = &g_array_index (rows, FtMaintRow, rows->len - 1);         /* 31 h: 1 km more by odometer */
  ck_assert_double_eq_tol (r->x[FT_MF_ODOMETER_KM], 3005.0, 1e-9);
  ck_assert_double_eq_tol (r->x[FT_MF_KM_SINCE_SERVICE], 5.0, 1e-9);
  ck_assert_double_eq_tol (r->x[FT_MF_KM_LAST_24H], 1.0, 1e-9);
}
END_TEST

/* Warning codes (FT_EV_VEHICLE_WARNING) keep the vehicle in the risk set
 * and show as a count since service and a count fading over a day. */
START_TEST (test_builder_warnings)
{
  g_autoptr (FtMaintLog) log = ft_maint_log_new ();
  add_event (log, FT_EV_VEHICLE_ADDED, 0, 0, FT_KIND_SCOOTER, 0, 0);
  add_event (log, FT_EV_VEHICLE_ADDED, 1, 0, FT_KIND_SCOOTER, 0, 0);
  add_event (log, FT_EV_VEHICLE_WARNING, 0, 10 * FT_HOUR, 1, 0, 0);
  add_event (log, FT_EV_VEHICLE_WARNING, 0, 34 * FT_HOUR, 2, 0, 0);
  g_autoptr (GError) e = NULL;
  g_autoptr (GArray) rows = ft_maint_log_rows_now (log, 34 * FT_HOUR, &e);
  ck_assert_msg (rows != NULL, "%s", e ? e->message : "");
  ck_assert_uint_eq (rows->len, 2);   /* a warning is not a fault */
  const FtMaintRow *r0 = &g_array_index (rows, FtMaintRow, 0), *r1 = &g_array_index (rows, FtMaintRow, 1);
  ck_assert_double_eq_tol (r0->x[FT_MF_WARNINGS_SINCE_SERVICE], 2.0, 1e-9);
  ck_assert_double_eq_tol (r0->x[FT_MF_WARNINGS_24H], 1.0 + exp (-1.0), 1e-9);
  ck_assert_double_eq_tol (r1->x[FT_MF_WARNINGS_SINCE_SERVICE], 0.0, 1e-9);
  ck_assert_double_eq_tol (r1->x[FT_MF_WARNINGS_24H], 0.0, 1e-9);
  ck_assert_uint_eq (ft_maint_log_n_faults (log), 0);
  /* a day later the fading count has lost e */
  g_autoptr (GArray) later = ft_maint_log_rows (log, 58 * FT_HOUR, 59 * FT_HOUR, FT_HOUR, 60 * FT_HOUR, &e);
  ck_assert_double_eq_tol (g_array_index (later, FtMaintRow, 0).x[FT_MF_WARNINGS_24H], (1.0 + exp (-1.0)) * exp (-1.0), 1e-9);
  /* a repair clears the count since service */
  add_event (log, FT_EV_VEHICLE_FAULT, 0, 60 * FT_HOUR, 0, 0, 1);
  add_event (log, FT_EV_VEHICLE_FAULT, 0, 70 * FT_HOUR, 0, 1, 0);
  g_autoptr (GArray) after = ft_maint_log_rows_now (log, 71 * FT_HOUR, &e);
  ck_assert_double_eq_tol (g_array_index (after, FtMaintRow, 0).x[FT_MF_WARNINGS_SINCE_SERVICE], 0.0, 1e-9);
}
END_TEST

/* A log written before FT_EV_VEHICLE_FAULT existed: the MDS `maintenance`
 * event alone marks the fault, the drop-off after the pick-up the repair. */
START_TEST (test_builder_on_old_log)
{
  FtEventLog *ev = ft_event_log_new ();
  FtFleet *f = ft_fleet_new (1, ev);
  FtLatLon p = { 52.0, 13.0 };
  ft_fleet_add_vehicle (f, FT_KIND_BIKE, p, NULL, 0);
  ck_assert (ft_fleet_apply_event (f, 0, FT_VEV_MAINTENANCE, 3 * FT_HOUR, NULL));
  ck_assert (ft_fleet_apply_event (f, 0, FT_VEV_MAINTENANCE_PICK_UP, 4 * FT_HOUR, NULL));
  ck_assert (ft_fleet_apply_event (f, 0, FT_VEV_PROVIDER_DROP_OFF, 9 * FT_HOUR, NULL));
  g_autoptr (FtMaintLog) log = ft_maint_log_new ();
  drain_into (ev, log);
  ck_assert_uint_eq (ft_maint_log_n_faults (log), 1);
  g_autoptr (GError) e = NULL;
  g_autoptr (GArray) rows = ft_maint_log_rows (log, FT_HOUR, 12 * FT_HOUR, FT_HOUR, 12 * FT_HOUR, &e);
  /* in service at 1, 2, 3 (the fault at 3 h not yet read) and 10, 11 */
  ck_assert_uint_eq (rows->len, 5);
  ck_assert (g_array_index (rows, FtMaintRow, 0).fault);
  ck_assert_double_eq_tol (g_array_index (rows, FtMaintRow, 0).time_h, 2.0, 1e-9);
  ck_assert (!g_array_index (rows, FtMaintRow, 4).fault);
  ck_assert (g_array_index (rows, FtMaintRow, 0).x[FT_MF_KIND_BIKE] == 1);
  ft_fleet_free (f);
  ft_event_log_free (ev);
}
END_TEST

/* ---- backtest ------------------------------------------------------------------- */

/* A synthetic fleet log over `days`: each vehicle rides trips of random
 * length; a fault after each trip with probability growing with km since
 * service; repaired 8 h later. */
static FtMaintLog *
synthetic_log_rec (guint n_veh, guint days, double fault_per_km, unsigned long seed, FtTime rec_step,
                   FtTime rec_from);

static FtMaintLog *
synthetic_log (guint n_veh, guint days, double fault_per_km, unsigned long seed)
{
  return synthetic_log_rec (n_veh, days, fault_per_km, seed, 0, 0);
}

/* The same, the log recording rows every rec_step (> 0) from the time
 * rec_from on (its events before then replayed as a history). */
static FtMaintLog *
synthetic_log_rec (guint n_veh, guint days, double fault_per_km, unsigned long seed, FtTime rec_step,
                   FtTime rec_from)
{
  FtMaintLog *log = ft_maint_log_new ();
  if (rec_step > 0 && rec_from <= 0)
    ck_assert (ft_maint_log_keep_records (log, 0, rec_step, NULL));
  gsl_rng *r = rng_new (seed);
  for (guint v = 0; v < n_veh; v++)
    {
      FtEvent a = ft_event_init (FT_EV_VEHICLE_ADDED, 0);
      a.vehicle = (gint32) v;
      ck_assert (ft_maint_log_add (log, &a, NULL));
    }
  g_autofree double *since = g_new0 (double, n_veh);
  g_autofree FtTime *down_until = g_new0 (FtTime, n_veh);
  for (FtTime t = 10 * FT_MINUTE; t < (FtTime) days * FT_DAY; t += 10 * FT_MINUTE)
    for (guint v = 0; v < n_veh; v++)
      {
        if (rec_step > 0 && rec_from > 0 && t >= rec_from && v == 0)
          {
            ck_assert (ft_maint_log_keep_records (log, 0, rec_step, NULL));
            rec_from = 0;
          }
        if (down_until[v] > 0 && t >= down_until[v])
          {
            FtEvent c = ft_event_init (FT_EV_VEHICLE_FAULT, t);
            c.vehicle = (gint32) v;
            c.amount = 0;
            c.b = 1;
            ck_assert (ft_maint_log_add (log, &c, NULL));
            down_until[v] = 0;
            since[v] = 0;
          }
        if (down_until[v] > 0 || gsl_rng_uniform (r) > 0.02 * (1 + v % 3))
          continue;
        double m = 500 + gsl_rng_uniform (r) * 3000;
        FtEvent b = ft_event_init (FT_EV_BOOKING_ENDED, t);
        b.vehicle = (gint32) v;
        b.a = (gint32) (m / 4);
        b.b = (gint64) m;
        ck_assert (ft_maint_log_add (log, &b, NULL));
        since[v] += m / 1000;
        if (gsl_rng_uniform (r) < fault_per_km * m / 1000 * (1 + since[v] / 5))
          {
            FtEvent fe = ft_event_init (FT_EV_VEHICLE_FAULT, t);
            fe.vehicle = (gint32) v;
            fe.amount = 1;
            ck_assert (ft_maint_log_add (log, &fe, NULL));
            down_until[v] = t + 8 * FT_HOUR;
          }
      }
  gsl_rng_free (r);
  return log;
}

START_TEST (test_backtest_scores)
{
  g_autoptr (FtMaintLog) log = synthetic_log (150, 10, 0.005, 4);
  ck_assert_uint_gt (ft_maint_log_n_faults (log), 50);
  FtMaintBacktestSpec spec;
  ft_maint_backtest_spec_init (&spec);
  spec.test_days = 3;
  spec.top_k = 5;
  spec.params.xgb_rounds = 40;
  spec.params.xgb_nthread = 1;
  FtMaintKind kinds[] = { FT_MAINT_BASELINE, FT_MAINT_WEIBULL, FT_MAINT_XGB };
  FtMaintScore s[3];
  double fit[3];
  g_autoptr (GError) e = NULL;
  ck_assert_msg (ft_maint_backtest (log, &spec, kinds, 3, s, fit, NULL, &e), "%s", e ? e->message : "");
  for (guint q = 0; q < 3; q++)
    {
      fprintf (stderr, "%s: AUC %.3f C %.3f P@k %.3f faults %u caught %u\n", ft_maint_kind_name (kinds[q]),
               s[q].auc[0], s[q].c_index, s[q].precision_at_k, s[q].faults, s[q].caught);
      ck_assert_uint_eq (s[q].k, 5);
      ck_assert_uint_eq (s[q].lists, 3);   /* each test day's list, followed 24 h */
      ck_assert (s[q].faults > 0 && s[q].caught <= s[q].faults);
      ck_assert (s[q].precision_at_k >= 0 && s[q].precision_at_k <= 1);
      ck_assert (s[q].n_eval[0] > 0 && s[q].n_eval[1] == 0);   /* 3 test days: no 7-day outcome */
      ck_assert (isnan (s[q].auc[1]));
      /* km since service drives the truth here: every model ranks well */
      ck_assert_msg (s[q].auc[0] > 0.6 && s[q].c_index > 0.6, "%s: AUC %g C %g", ft_maint_kind_name (kinds[q]),
                     s[q].auc[0], s[q].c_index);
      ck_assert (s[q].caught == 0 || (s[q].lead_median_h >= 0 && s[q].lead_median_h <= 24 * 3));
    }
}
END_TEST

/* A log that records rows on a grid (shadow mode) gives exactly the rows a
 * replay of every event gives, recording from the start or from a history
 * replayed mid-way; windows off its grid are refused. */
START_TEST (test_builder_records)
{
  g_autoptr (FtMaintLog) plain = synthetic_log (60, 6, 0.005, 11);
  ck_assert_uint_gt (ft_maint_log_n_faults (plain), 10);
  FtTime starts[] = { 0, 3 * FT_DAY + 7 * FT_HOUR };
  for (guint k = 0; k < G_N_ELEMENTS (starts); k++)
    {
      g_autoptr (FtMaintLog) rec = synthetic_log_rec (60, 6, 0.005, 11, 6 * FT_HOUR, starts[k]);
      ft_maint_log_record_to (rec, 6 * FT_DAY);
      ck_assert_uint_eq (ft_maint_log_n_faults (rec), ft_maint_log_n_faults (plain));
      FtTime win[][4] = { { FT_DAY, 5 * FT_DAY, 12 * FT_HOUR, 5 * FT_DAY },
                          { 0, 6 * FT_DAY, 6 * FT_HOUR, 6 * FT_DAY },
                          { 4 * FT_DAY + 6 * FT_HOUR, 6 * FT_DAY, 18 * FT_HOUR, 6 * FT_DAY } };
      for (guint w = 0; w < G_N_ELEMENTS (win); w++)
        {
          g_autoptr (GError) e = NULL;
          g_autoptr (GArray) a = ft_maint_log_rows (plain, win[w][0], win[w][1], win[w][2], win[w][3], &e);
          g_autoptr (GArray) b = ft_maint_log_rows (rec, win[w][0], win[w][1], win[w][2], win[w][3], &e);
          ck_assert_msg (a && b, "%s", e ? e->message : "");
          ck_assert_uint_gt (a->len, 0);
          ck_assert_uint_eq (a->len, b->len);
          for (guint i = 0; i < a->len; i++)
            ck_assert_msg (memcmp (&g_array_index (a, FtMaintRow, i), &g_array_index (b, FtMaintRow, i),
                                   sizeof (FtMaintRow)) == 0, "start %u window %u row %u differs", k, w, i);
        }
      g_autoptr (GError) e = NULL;
      g_autoptr (GArray) na = ft_maint_log_rows_now (plain, 6 * FT_DAY, &e);
      g_autoptr (GArray) nb = ft_maint_log_rows_now (rec, 6 * FT_DAY, &e);
      ck_assert (na && nb && na->len == nb->len);
      ck_assert (memcmp (na->data, nb->data, sizeof (FtMaintRow) * na->len) == 0);
      /* read in place: the records just made, not a copy (the scratch
       * array left empty), and the same rows; a replay fills the array */
      g_autoptr (GArray) scratch = g_array_new (FALSE, FALSE, sizeof (FtMaintRow));
      const FtMaintRow *in_place;
      guint n_in_place;
      ck_assert (ft_maint_log_rows_now_get (rec, 6 * FT_DAY, scratch, &in_place, &n_in_place, &e));
      ck_assert_uint_eq (scratch->len, 0);
      ck_assert_uint_eq (n_in_place, na->len);
      ck_assert (memcmp (na->data, in_place, sizeof (FtMaintRow) * na->len) == 0);
      ck_assert (ft_maint_log_rows_now_get (plain, 6 * FT_DAY, scratch, &in_place, &n_in_place, &e));
      ck_assert (n_in_place == na->len && scratch->len == na->len && in_place == (const FtMaintRow *) scratch->data);
      ck_assert (memcmp (na->data, in_place, sizeof (FtMaintRow) * na->len) == 0);
      /* off the grid: refused, naming it */
      ck_assert (ft_maint_log_rows (rec, FT_HOUR, FT_DAY, 6 * FT_HOUR, FT_DAY, &e) == NULL);
      ck_assert_error (e, FT_MAINT_ERROR, FT_MAINT_ERROR_INVALID);
      ck_assert_msg (strstr (e->message, "grid") != NULL, "%s", e->message);
      g_clear_error (&e);
      ck_assert (ft_maint_log_rows (rec, 0, FT_DAY, 4 * FT_HOUR, FT_DAY, &e) == NULL);
      ck_assert_error (e, FT_MAINT_ERROR, FT_MAINT_ERROR_INVALID);
      g_clear_error (&e);
      /* records before a time dropped: the rows after it stay the same */
      ft_maint_log_drop_records (rec, 2 * FT_DAY);
      g_autoptr (GArray) a = ft_maint_log_rows (plain, 2 * FT_DAY, 5 * FT_DAY, 12 * FT_HOUR, 5 * FT_DAY, &e);
      g_autoptr (GArray) b = ft_maint_log_rows (rec, 2 * FT_DAY, 5 * FT_DAY, 12 * FT_HOUR, 5 * FT_DAY, &e);
      ck_assert (a && b && a->len == b->len);
      ck_assert (memcmp (a->data, b->data, sizeof (FtMaintRow) * a->len) == 0);
    }
}
END_TEST

START_TEST (test_backtest_refuses)
{
  g_autoptr (GError) e = NULL;
  FtMaintBacktestSpec spec;
  ft_maint_backtest_spec_init (&spec);
  FtMaintKind kinds[] = { FT_MAINT_WEIBULL };
  FtMaintScore s[1];
  /* no vehicles */
  g_autoptr (FtMaintLog) empty = ft_maint_log_new ();
  ck_assert (!ft_maint_backtest (empty, &spec, kinds, 1, s, NULL, NULL, &e));
  ck_assert_error (e, FT_MAINT_ERROR, FT_MAINT_ERROR_EMPTY);
  g_clear_error (&e);
  ck_assert (ft_maint_log_rows (empty, 0, FT_DAY, FT_HOUR, FT_DAY, &e) == NULL);
  ck_assert_error (e, FT_MAINT_ERROR, FT_MAINT_ERROR_EMPTY);
  g_clear_error (&e);
  /* train window longer than the data */
  g_autoptr (FtMaintLog) log = synthetic_log (40, 6, 0.01, 9);
  spec.test_days = 2;
  spec.train_days = 5;
  ck_assert (!ft_maint_backtest (log, &spec, kinds, 1, s, NULL, NULL, &e));
  ck_assert_error (e, FT_MAINT_ERROR, FT_MAINT_ERROR_WINDOW);
  ck_assert (strstr (e->message, "5-day training") != NULL);
  g_clear_error (&e);
  spec.train_days = 0;
  spec.test_days = 7;
  ck_assert (!ft_maint_backtest (log, &spec, kinds, 1, s, NULL, NULL, &e));
  ck_assert_error (e, FT_MAINT_ERROR, FT_MAINT_ERROR_WINDOW);
  g_clear_error (&e);
  /* no fault in the training window */
  g_autoptr (FtMaintLog) quiet = synthetic_log (40, 6, 0.0, 9);
  spec.test_days = 2;
  ck_assert (!ft_maint_backtest (quiet, &spec, kinds, 1, s, NULL, NULL, &e));
  ck_assert_error (e, FT_MAINT_ERROR, FT_MAINT_ERROR_NO_FAULTS);
  g_clear_error (&e);
  /* a database that is not one */
  ck_assert (ft_maint_log_read_db ("/nonexistent/run.db", &e) == NULL);
  ck_assert_error (e, FT_MAINT_ERROR, FT_MAINT_ERROR_IO);
}
END_TEST

static Suite *
maint_suite (void)
{
  Suite *s = suite_create ("maint");
  TCase *w = tcase_create ("weibull");
  tcase_set_timeout (w, 120);
  tcase_add_test (w, test_weibull_recovers_parameters);
  tcase_add_test (w, test_weibull_refuses_bad_input);
  suite_add_tcase (s, w);
  TCase *sc = tcase_create ("scores");
  tcase_add_test (sc, test_auc_exact);
  tcase_add_test (sc, test_c_index_exact);
  tcase_add_test (sc, test_c_index_matches_brute_force);
  suite_add_tcase (s, sc);
  TCase *m = tcase_create ("models");
  tcase_set_timeout (m, 300);
  tcase_add_test (m, test_xgb_beats_constant);
  tcase_add_test (m, test_weibull_model_ranks_synthetic);
  tcase_add_test (m, test_blob_round_trip);
  tcase_add_test (m, test_predict_multi);
  tcase_add_test (m, test_predict_memo);
  tcase_add_test (m, test_auc_matches_pairs);
  tcase_add_test (m, test_weibull_newton_matches_bfgs);
  tcase_add_test (m, test_backtest_scores);
  suite_add_tcase (s, m);
  TCase *b = tcase_create ("builder");
  tcase_add_test (b, test_builder_on_fleet_log);
  tcase_add_test (b, test_builder_on_old_log);
  tcase_add_test (b, test_builder_listener);
  tcase_add_test (b, test_builder_records);
  tcase_add_test (b, test_builder_inspection_is_service);
  tcase_add_test (b, test_builder_first_odometer_reading);
  tcase_add_test (b, test_builder_warnings);
  suite_add_tcase (s, b);
  TCase *bad = tcase_create ("bad-input");
  tcase_set_timeout (bad, 300);
  tcase_add_test (bad, test_blob_refused);
  tcase_add_test (bad, test_fit_refuses_bad_rows);
  tcase_add_test (bad, test_backtest_refuses);
  suite_add_tcase (s, bad);
  return s;
}

int
main (void)
{
  gsl_set_error_handler_off ();
  SRunner *sr = srunner_create (maint_suite ());
  srunner_run_all (sr, CK_NORMAL);
  int failed = srunner_ntests_failed (sr);
  srunner_free (sr);
  return failed == 0 ? 0 : 1;
}
