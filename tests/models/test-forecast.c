/* test-forecast.c — the demand-forecast ladder: the baseline's mean on a
 * hand-made case, the Poisson GLM recovering known coefficients, XGBoost
 * learning an hour effect, forecasts that never read the hours they
 * predict, and bad input refused with a clear error and nothing changed.
 */
#include "ft-config.h"
#include "ft-forecast.h"
#include "ft-forecast-private.h"

#include <check.h>
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <gsl/gsl_errno.h>
#include <gsl/gsl_randist.h>
#include <gsl/gsl_rng.h>

#define ck_assert_error(e, dom, code)                                                  \
  ck_assert_msg ((e) != NULL && g_error_matches ((e), (dom), (code)),                  \
                 "expected error code %d, got: %s", (int) (code), (e) ? (e)->message : "none")

/* 2020-01-06 00:00 (a Monday), naive local ms */
#define MONDAY ((FtTime) 1578268800000)

static gsl_rng *
rng_new (unsigned long seed)
{
  gsl_rng *r = gsl_rng_alloc (gsl_rng_mt19937);
  gsl_rng_set (r, seed);
  return r;
}

/* Poisson counts for n_zones x n_hours with rate(z, hour of day). */
static FtDemandSeries *
synthetic (guint n_zones, guint n_hours, double (*rate) (guint z, guint hod), unsigned long seed)
{
  g_autofree double *c = g_new (double, n_zones * n_hours);
  gsl_rng *r = rng_new (seed);
  for (guint z = 0; z < n_zones; z++)
    for (guint h = 0; h < n_hours; h++)
      c[z * n_hours + h] = gsl_ran_poisson (r, rate (z, h % 24));
  gsl_rng_free (r);
  g_autoptr(GError) error = NULL;
  FtDemandSeries *s = ft_demand_series_new (n_zones, n_hours, MONDAY, c, &error);
  ck_assert_msg (s != NULL, "%s", error ? error->message : "");
  return s;
}

static double
peaky (guint z, guint hod)
{
  gboolean peak = (hod >= 7 && hod <= 9) || (hod >= 17 && hod <= 19);
  return (1 + z) * (peak ? 8.0 : 0.5);
}

/* ---- the baseline ------------------------------------------------------- */

START_TEST (test_mean_exact)
{
  /* Three weeks, two zones. Zone 0 has 2, 4 and 6 trips on the three
   * Mondays 08:00 and nothing else; zone 1 has one trip every hour. */
  guint H = 3 * 168;
  g_autofree double *c = g_new0 (double, 2 * H);
  for (guint w = 0; w < 3; w++)
    c[w * 168 + 8] = 2.0 * (w + 1);
  for (guint h = 0; h < H; h++)
    c[H + h] = 1;
  g_autoptr(GError) error = NULL;
  g_autoptr(FtDemandSeries) s = ft_demand_series_new (2, H, MONDAY, c, &error);
  ck_assert_msg (s != NULL, "%s", error ? error->message : "");
  ck_assert_uint_eq (ft_demand_series_how (s, 0), 0);
  ck_assert_uint_eq (ft_demand_series_how (s, 5 * 24 + 3), 5 * 24 + 3);   /* Saturday 03:00 */

  FtForecastParams p;
  ft_forecast_params_init (&p);
  p.mean_shrink_weeks = 0;   /* the plain mean */
  g_autoptr(FtForecaster) plain = ft_forecaster_new (FT_FORECAST_MEAN, &p);
  ck_assert (ft_forecaster_fit (plain, s, 0, H, &error));
  double out[2 * 24];
  /* Forecast the Monday after the data (hour H is a Monday 00:00). */
  ck_assert (ft_forecaster_predict (plain, s, H, 24, out, &error));
  ck_assert_double_eq_tol (out[8], (2 + 4 + 6) / 3.0, 1e-12);
  ck_assert_double_eq_tol (out[9], 0, 1e-12);
  ck_assert_double_eq_tol (out[24 + 8], 1, 1e-12);

  /* Shrunk with k = 2 weeks towards the zone's weekday 08:00 mean: 12 trips
   * over 15 weekday 08:00 hours = 0.8; (12 + 2 * 0.8) / (3 + 2) = 2.72. */
  p.mean_shrink_weeks = 2;
  g_autoptr(FtForecaster) shrunk = ft_forecaster_new (FT_FORECAST_MEAN, &p);
  ck_assert (ft_forecaster_fit (shrunk, s, 0, H, &error));
  ck_assert (ft_forecaster_predict (shrunk, s, H, 24, out, &error));
  ck_assert_double_eq_tol (out[8], 2.72, 1e-12);
  /* Tuesday 08:00 of the same zone: (0 + 2 * 0.8) / (3 + 2) = 0.32 (the
   * Tuesday of the last week: the mean reads no hour of the series). */
  ck_assert (ft_forecaster_predict (shrunk, s, H - 168 + 24, 24, out, &error));
  ck_assert_double_eq_tol (out[8], 0.32, 1e-12);
  ck_assert_double_eq_tol (out[24 + 8], 1, 1e-12);
}
END_TEST

START_TEST (test_holidays_count_as_sundays)
{
  g_autoptr(FtDemandSeries) s = synthetic (1, 2 * 168, peaky, 2);
  ck_assert_uint_eq (ft_demand_series_how (s, 168 + 9), 9);          /* Monday 09:00 */
  FtTime day = MONDAY + 7 * FT_DAY + 15 * FT_HOUR;                    /* any hour of it */
  ft_demand_series_set_holidays (s, &day, 1);
  ck_assert_uint_eq (ft_demand_series_how (s, 168 + 9), 6 * 24 + 9); /* a Sunday's 09:00 */
  ck_assert_uint_eq (ft_demand_series_how (s, 9), 9);                /* the Monday before */
  ck_assert_uint_eq (ft_demand_series_how (s, 168 + 24 + 9), 24 + 9);
  ft_demand_series_set_holidays (s, NULL, 0);
  ck_assert_uint_eq (ft_demand_series_how (s, 168 + 9), 9);
}
END_TEST

START_TEST (test_deviance)
{
  ck_assert_double_eq_tol (ft_poisson_deviance (0, 2), 4, 1e-12);
  ck_assert_double_eq_tol (ft_poisson_deviance (3, 3), 0, 1e-12);
  ck_assert_double_eq_tol (ft_poisson_deviance (2, 1), 2 * (2 * log (2) - 1), 1e-12);
}
END_TEST

/* ---- the GLM ------------------------------------------------------------ */

START_TEST (test_glm_recovers_coefficients)
{
  /* log mu = 0.5 + 0.3 x1 - 0.7 x2 + 0.2 x3, x1 ~ N(0, 1), x2 ~ Bernoulli(0.4),
   * x3 ~ U(0, 2); 20,000 rows drawn with seed 12. The maximum-likelihood
   * standard errors are about 1 / sqrt(n E[mu x^2]), 0.005 to 0.01 here, so
   * a tolerance of 0.04 is four or more standard errors: a correct fit
   * passes for any seed, a wrong weight or working response misses by far
   * more (an unweighted least-squares fit of log(y + 1) misses x2 by 0.2). */
  const guint n = 20000, w = 4;
  const double truth[4] = { 0.5, 0.3, -0.7, 0.2 };
  g_autofree int *idx = g_new (int, n * w);
  g_autofree double *val = g_new (double, n * w);
  g_autofree double *y = g_new (double, n);
  gsl_rng *r = rng_new (12);
  for (guint i = 0; i < n; i++)
    {
      double x[4] = { 1, gsl_ran_gaussian (r, 1), gsl_rng_uniform (r) < 0.4, 2 * gsl_rng_uniform (r) };
      double eta = 0;
      for (guint j = 0; j < w; j++)
        {
          idx[i * w + j] = (int) j;
          val[i * w + j] = x[j];
          eta += truth[j] * x[j];
        }
      y[i] = gsl_ran_poisson (r, exp (eta));
    }
  gsl_rng_free (r);
  double beta[4] = { 0 };
  guint iters = 0;
  g_autoptr(GError) error = NULL;
  ck_assert_msg (ft_poisson_glm_fit (idx, val, w, n, 4, y, NULL, 0, NULL, 50, beta, &iters, &error),
                 "%s", error ? error->message : "");
  for (guint j = 0; j < 4; j++)
    ck_assert_msg (fabs (beta[j] - truth[j]) < 0.04, "beta[%u] = %g, truth %g", j, beta[j], truth[j]);
  ck_assert_uint_lt (iters, 30);

  /* A strong L2 penalty pulls the slopes towards zero, not the intercept. */
  double ridge[4] = { 0 };
  ck_assert (ft_poisson_glm_fit (idx, val, w, n, 4, y, NULL, 1e6, NULL, 50, ridge, NULL, &error));
  for (guint j = 1; j < 4; j++)
    ck_assert_msg (fabs (ridge[j]) < 0.05 * fabs (truth[j]) + 0.01, "ridge[%u] = %g", j, ridge[j]);
  ck_assert (fabs (ridge[0]) > 0.3);
}
END_TEST

START_TEST (test_glm_refuses_nan)
{
  int idx[6] = { 0, 1, 0, 1, 0, 1 };
  double val[6] = { 1, 0.5, 1, NAN, 1, 2 };
  double y[3] = { 1, 2, 3 };
  double beta[2] = { 0.25, -0.5 };
  g_autoptr(GError) error = NULL;
  ck_assert (!ft_poisson_glm_fit (idx, val, 2, 3, 2, y, NULL, 1, NULL, 20, beta, NULL, &error));
  ck_assert_error (error, FT_FORECAST_ERROR, FT_FORECAST_ERROR_INVALID);
  ck_assert_msg (strstr (error->message, "row 1") != NULL, "%s", error->message);
  ck_assert (beta[0] == 0.25 && beta[1] == -0.5);   /* unchanged */
  g_clear_error (&error);
  val[3] = INFINITY;
  ck_assert (!ft_poisson_glm_fit (idx, val, 2, 3, 2, y, NULL, 1, NULL, 20, beta, NULL, &error));
  ck_assert_error (error, FT_FORECAST_ERROR, FT_FORECAST_ERROR_INVALID);
  g_clear_error (&error);
  val[3] = 1;
  y[2] = NAN;
  ck_assert (!ft_poisson_glm_fit (idx, val, 2, 3, 2, y, NULL, 1, NULL, 20, beta, NULL, &error));
  ck_assert_error (error, FT_FORECAST_ERROR, FT_FORECAST_ERROR_INVALID);
  ck_assert (beta[0] == 0.25 && beta[1] == -0.5);
}
END_TEST

/* ---- the models on synthetic series ------------------------------------- */

static double
rmse_vs (const FtDemandSeries *s, guint origin, guint horizon, const double *pred)
{
  double se = 0;
  for (guint z = 0; z < s->n_zones; z++)
    for (guint k = 0; k < horizon; k++)
      {
        double d = pred[z * horizon + k] - s->count[z * s->n_hours + origin + k];
        se += d * d;
      }
  return sqrt (se / (s->n_zones * horizon));
}

START_TEST (test_xgb_beats_constant)
{
  /* Five weeks of three zones with peaks of 8x(zone+1) trips at 07-09 and
   * 17-19 and 0.5x(zone+1) otherwise. Fitted on four weeks, XGBoost must
   * beat the training mean as a constant on the fifth by a wide margin. */
  g_autoptr(FtDemandSeries) s = synthetic (3, 5 * 168, peaky, 7);
  FtForecastParams p;
  ft_forecast_params_init (&p);
  p.xgb_rounds = 60;
  p.xgb_nthread = 1;
  g_autoptr(FtForecaster) f = ft_forecaster_new (FT_FORECAST_XGB, &p);
  g_autoptr(GError) error = NULL;
  guint train_end = 4 * 168;
  ck_assert_msg (ft_forecaster_fit (f, s, 0, train_end, &error), "%s", error ? error->message : "");
  double total = 0;
  for (guint z = 0; z < 3; z++)
    for (guint h = 0; h < train_end; h++)
      total += s->count[z * s->n_hours + h];
  double constant = total / (3 * train_end);
  double se_x = 0, se_c = 0;
  for (guint day = 0; day < 7; day++)
    {
      guint origin = train_end + day * 24;
      double pred[3 * 24], flat[3 * 24];
      ck_assert (ft_forecaster_predict (f, s, origin, 24, pred, &error));
      for (guint i = 0; i < 3 * 24; i++)
        flat[i] = constant;
      se_x += pow (rmse_vs (s, origin, 24, pred), 2);
      se_c += pow (rmse_vs (s, origin, 24, flat), 2);
    }
  double rx = sqrt (se_x / 7), rc = sqrt (se_c / 7);
  ck_assert_msg (rx < 0.6 * rc, "XGBoost RMSE %g, constant %g", rx, rc);
}
END_TEST

START_TEST (test_forecasts_never_read_the_future)
{
  /* What a model predicts from origin o must not change when the hours
   * from o on change: those are what it forecasts. */
  g_autoptr(FtDemandSeries) s = synthetic (2, 4 * 168, peaky, 3);
  g_autoptr(FtDemandSeries) t = synthetic (2, 4 * 168, peaky, 3);
  guint origin = 3 * 168 + 30;
  for (guint z = 0; z < 2; z++)
    for (guint h = origin; h < t->n_hours; h++)
      t->count[z * t->n_hours + h] = 100;   /* a future nobody could know */
  FtForecastParams p;
  ft_forecast_params_init (&p);
  p.xgb_rounds = 20;
  p.xgb_nthread = 1;
  for (int k = 0; k < FT_N_FORECAST_KINDS; k++)
    {
      g_autoptr(FtForecaster) f = ft_forecaster_new ((FtForecastKind) k, &p);
      g_autoptr(GError) error = NULL;
      ck_assert_msg (ft_forecaster_fit (f, s, 0, 3 * 168, &error), "%s", error ? error->message : "");
      double a[2 * 24], b[2 * 24];
      ck_assert (ft_forecaster_predict (f, s, origin, 24, a, &error));
      ck_assert (ft_forecaster_predict (f, t, origin, 24, b, &error));
      for (guint i = 0; i < 2 * 24; i++)
        ck_assert_msg (a[i] == b[i], "%s reads hour >= origin (%g vs %g)",
                       ft_forecast_kind_name ((FtForecastKind) k), a[i], b[i]);
      /* ... while the hour just before the origin does count (for the GLM,
       * whose lag terms are never exactly zero; trees split on a lag only
       * where it tells something, and here it does not). */
      if (k == FT_FORECAST_GLM)
        {
          for (guint z = 0; z < 2; z++)
            t->count[z * t->n_hours + origin - 1] = 60;
          ck_assert (ft_forecaster_predict (f, t, origin, 24, b, &error));
          ck_assert_msg (a[0] != b[0], "%s ignores the last hour", ft_forecast_kind_name ((FtForecastKind) k));
          for (guint z = 0; z < 2; z++)
            t->count[z * t->n_hours + origin - 1] = s->count[z * s->n_hours + origin - 1];
        }
    }
}
END_TEST

START_TEST (test_training_rows_do_not_see_their_target)
{
  /* A training row's features (baseline, anomalies, recent activity) come
   * from a mean fitted without the row's week, so its own count cannot leak
   * into them, as it cannot at forecast time. */
  g_autoptr(FtDemandSeries) s = synthetic (2, 4 * 168, peaky, 8);
  guint start = 0, end = 4 * 168;
  double a[FT_N_FEATURES], b[FT_N_FEATURES];
  guint rows[3] = { 168 + 8, 2 * 168 + 50, 4 * 168 - 1 };
  for (guint i = 0; i < 3; i++)
    {
      guint t = rows[i];
      FtTrainingFeatures tf;
      ft_training_features_init (&tf, s, start, end, 2.0);
      ft_feature_row (ft_training_features_for (&tf, t), 1, t, 1, a);
      ft_training_features_clear (&tf);
      double old = s->count[1 * s->n_hours + t];
      s->count[1 * s->n_hours + t] = old + 50;
      ft_training_features_init (&tf, s, start, end, 2.0);
      ft_feature_row (ft_training_features_for (&tf, t), 1, t, 1, b);
      ft_training_features_clear (&tf);
      s->count[1 * s->n_hours + t] = old;
      for (int j = 0; j < FT_N_FEATURES; j++)
        ck_assert_msg ((isnan (a[j]) && isnan (b[j])) || a[j] == b[j],
                       "feature %d of hour %u moves with its own count: %g -> %g", j, t, a[j], b[j]);
    }
}
END_TEST

START_TEST (test_short_window_rows_do_not_see_their_target)
{
  /* Shadow mode trains on a week or less (six days before its held-back
   * day): one fold would be the in-sample mean, whose cell holds a third
   * of the row's own count (shrunk with two weeks of prior), so the GLM
   * learned to trust its offset and lags far more than a forecast can
   * (14-day Demo City shadow run: GLM RMSE 3.02 against the mean's 2.54).
   * Under two weeks the folds are days. */
  g_autoptr(FtDemandSeries) s = synthetic (2, 8 * 24, peaky, 9);
  guint ends[2] = { 168, 144 };
  guint rows[3] = { 30, 100, 143 };
  double a[FT_N_FEATURES], b[FT_N_FEATURES];
  for (guint e = 0; e < 2; e++)
    for (guint i = 0; i < 3; i++)
      {
        guint t = rows[i];
        FtTrainingFeatures tf;
        ft_training_features_init (&tf, s, 0, ends[e], 2.0);
        ft_feature_row (ft_training_features_for (&tf, t), 1, t, 1, a);
        ft_training_features_clear (&tf);
        double old = s->count[1 * s->n_hours + t];
        s->count[1 * s->n_hours + t] = old + 50;
        ft_training_features_init (&tf, s, 0, ends[e], 2.0);
        ft_feature_row (ft_training_features_for (&tf, t), 1, t, 1, b);
        ft_training_features_clear (&tf);
        s->count[1 * s->n_hours + t] = old;
        for (int j = 0; j < FT_N_FEATURES; j++)
          ck_assert_msg ((isnan (a[j]) && isnan (b[j])) || a[j] == b[j],
                         "window [0, %u): feature %d of hour %u moves with its own count: %g -> %g",
                         ends[e], j, t, a[j], b[j]);
      }
}
END_TEST

START_TEST (test_backtest_shape)
{
  g_autoptr(FtDemandSeries) s = synthetic (2, 4 * 168, peaky, 5);
  FtBacktestSpec spec = { .train_hours = 2 * 168, .test_hours = 48, .horizon = 6, .origin_every = 24 };
  FtForecastKind kinds[2] = { FT_FORECAST_MEAN, FT_FORECAST_GLM };
  FtForecastScore scores[2];
  g_autoptr(GError) error = NULL;
  ck_assert_msg (ft_forecast_backtest (s, &spec, NULL, kinds, 2, scores, NULL, NULL, NULL, &error),
                 "%s", error ? error->message : "");
  /* 2 origins x 6 hours x 2 zones per model */
  ck_assert_uint_eq (scores[0].n, 24);
  ck_assert_uint_eq (scores[1].n, 24);
  for (int k = 0; k < 2; k++)
    ck_assert (isfinite (scores[k].rmse) && scores[k].rmse > 0 && scores[k].mae <= scores[k].rmse);
}
END_TEST

/* A GLM refitted from a champion (shadow mode's candidates) reaches the
 * same fit as one from scratch: warm starts change the path, not the
 * optimum. */
START_TEST (test_glm_warm_start_same_fit)
{
  g_autoptr(FtDemandSeries) s = synthetic (3, 4 * 168, peaky, 9);
  g_autoptr(GError) error = NULL;
  FtForecastParams p;
  ft_forecast_params_init (&p);
  p.horizon = 6;
  g_autoptr(FtForecaster) champ = ft_forecaster_new (FT_FORECAST_GLM, &p);
  ck_assert_msg (ft_forecaster_fit (champ, s, 24, 2 * 168, &error), "%s", error ? error->message : "");
  g_autoptr(FtForecaster) cold = ft_forecaster_new (FT_FORECAST_GLM, &p);
  g_autoptr(FtForecaster) warm = ft_forecaster_new (FT_FORECAST_GLM, &p);
  ck_assert (ft_forecaster_fit (cold, s, 168, 3 * 168, &error));
  ck_assert (ft_forecaster_fit_warm (warm, champ, s, 168, 3 * 168, &error));
  double a[3 * 6], b[3 * 6], c[3 * 6];
  ck_assert (ft_forecaster_predict (cold, s, 3 * 168 + 5, 6, a, &error));
  ck_assert (ft_forecaster_predict (warm, s, 3 * 168 + 5, 6, b, &error));
  ck_assert (ft_forecaster_predict (champ, s, 3 * 168 + 5, 6, c, &error));
  gboolean differs = FALSE;
  for (guint i = 0; i < 3 * 6; i++)
    {
      ck_assert_msg (fabs (a[i] - b[i]) <= 1e-6 * (1 + fabs (a[i])), "cell %u: cold %.9g, warm %.9g", i, a[i], b[i]);
      differs |= fabs (a[i] - c[i]) > 1e-3 * (1 + fabs (a[i]));
    }
  ck_assert_msg (differs, "the champion's own forecast should differ (another window)");
  /* the iterations are counted (what the bench reports) */
  guint it_cold = ft_forecaster_get_fit_iterations (cold), it_warm = ft_forecaster_get_fit_iterations (warm);
  printf ("GLM refit: %u IRLS iterations from scratch, %u from the champion\n", it_cold, it_warm);
  ck_assert_uint_ge (it_cold, 4);   /* at least one per lead class (horizon 6: four classes) */
  ck_assert_uint_ge (it_warm, 4);
  /* a warm start of another kind is ignored: the mean fits as ever */
  g_autoptr(FtForecaster) mean = ft_forecaster_new (FT_FORECAST_MEAN, &p);
  ck_assert (ft_forecaster_fit_warm (mean, champ, s, 168, 3 * 168, &error));
  ck_assert_uint_eq (ft_forecaster_get_fit_iterations (mean), 0);
}
END_TEST

/* Shadow mode stores a few leads of each forecast: the GLM computes only
 * those asked for (NaN elsewhere), each bit for bit as a whole forecast
 * gives it; a model that cannot skip (the mean) computes them all. */
START_TEST (test_predict_leads)
{
  g_autoptr(FtDemandSeries) s = synthetic (3, 3 * 168, peaky, 5);
  g_autoptr(GError) error = NULL;
  FtForecastParams p;
  ft_forecast_params_init (&p);
  gboolean want[24] = { FALSE };
  want[0] = want[2] = want[5] = want[23] = TRUE;
  for (int kind = 0; kind < 2; kind++)
    {
      g_autoptr(FtForecaster) f = ft_forecaster_new (kind ? FT_FORECAST_MEAN : FT_FORECAST_GLM, &p);
      ck_assert_msg (ft_forecaster_fit (f, s, 0, 2 * 168, &error), "%s", error ? error->message : "");
      double all[3 * 24], some[3 * 24];
      ck_assert (ft_forecaster_predict (f, s, 2 * 168 + 7, 24, all, &error));
      ck_assert (ft_forecaster_predict_leads (f, s, 2 * 168 + 7, 24, want, some, &error));
      for (guint z = 0; z < 3; z++)
        for (guint k = 0; k < 24; k++)
          {
            double a = all[z * 24 + k], b = some[z * 24 + k];
            if (want[k] || kind == 1)
              ck_assert_msg (memcmp (&a, &b, sizeof a) == 0, "zone %u lead %u: %.17g, alone %.17g", z, k + 1, a, b);
            else
              ck_assert_msg (isnan (b), "zone %u lead %u not asked for, computed %g", z, k + 1, b);
          }
      /* out of range as ft_forecaster_predict */
      ck_assert (!ft_forecaster_predict_leads (f, s, 2 * 168 + 7, 25, want, some, &error));
      g_clear_error (&error);
    }
}
END_TEST

/* Shadow mode fits the lead classes of the horizons it stores
 * (glm_eager_classes); the others are fitted when a forecast or a save
 * first needs them, from the same rows: every lead then close to a fit of
 * all classes (the same optimum from other starts), and the model the
 * same whichever asked first. */
START_TEST (test_glm_eager_classes)
{
  g_autoptr(FtDemandSeries) s = synthetic (3, 3 * 168, peaky, 11);
  g_autoptr(GError) error = NULL;
  FtForecastParams p;
  ft_forecast_params_init (&p);
  g_autoptr(FtForecaster) full = ft_forecaster_new (FT_FORECAST_GLM, &p);
  ck_assert_msg (ft_forecaster_fit (full, s, 0, 2 * 168, &error), "%s", error ? error->message : "");
  /* leads 1, 3, 6 and 24: classes 1, 3, 4 and 6 */
  p.glm_eager_classes = 1u << 0 | 1u << 2 | 1u << 3 | 1u << 5;
  g_autoptr(FtForecaster) lazy = ft_forecaster_new (FT_FORECAST_GLM, &p);
  g_autoptr(FtForecaster) saved = ft_forecaster_new (FT_FORECAST_GLM, &p);
  ck_assert (ft_forecaster_fit (lazy, s, 0, 2 * 168, &error));
  ck_assert (ft_forecaster_fit (saved, s, 0, 2 * 168, &error));
  guint it_full = ft_forecaster_get_fit_iterations (full), it_lazy = ft_forecaster_get_fit_iterations (lazy);
  ck_assert_uint_lt (it_lazy, it_full);
  gboolean want[24] = { FALSE };
  want[0] = want[2] = want[5] = want[23] = TRUE;
  double a[3 * 24], b[3 * 24], c[3 * 24];
  guint origin = 2 * 168 + 7;
  ck_assert (ft_forecaster_predict_leads (lazy, s, origin, 24, want, b, &error));
  ck_assert_uint_eq (ft_forecaster_get_fit_iterations (lazy), it_lazy);   /* nothing more fitted */
  ck_assert (ft_forecaster_predict (full, s, origin, 24, a, &error));
  ck_assert (ft_forecaster_predict (lazy, s, origin, 24, b, &error));
  ck_assert_uint_gt (ft_forecaster_get_fit_iterations (lazy), it_lazy);   /* classes 2 and 5 now */
  for (guint i = 0; i < 3 * 24; i++)
    ck_assert_msg (isfinite (b[i]) && fabs (a[i] - b[i]) <= 1e-4 * (1 + a[i]), "zone %u lead %u: all classes %.9g, "
                   "lazily %.9g", i / 24, i % 24 + 1, a[i], b[i]);
  /* a save fits what is missing: the blob holds every class, as fitted
   * when a forecast asked first */
  g_autoptr(GBytes) blob = ft_forecaster_save (saved, &error);
  ck_assert_msg (blob != NULL, "%s", error ? error->message : "");
  g_autoptr(FtForecaster) loaded = ft_forecaster_load (blob, &error);
  ck_assert_msg (loaded != NULL, "%s", error ? error->message : "");
  ck_assert (ft_forecaster_predict (loaded, s, origin, 24, c, &error));
  ck_assert (memcmp (b, c, sizeof b) == 0);
}
END_TEST

/* ---- bad input ---------------------------------------------------------- */

START_TEST (test_refuse_empty)
{
  g_autoptr(GError) error = NULL;
  ck_assert (ft_demand_series_new (0, 10, MONDAY, NULL, &error) == NULL);
  ck_assert_error (error, FT_FORECAST_ERROR, FT_FORECAST_ERROR_EMPTY);
  g_clear_error (&error);
  ck_assert (ft_demand_series_from_events (3, NULL, NULL, NULL, 0, &error) == NULL);
  ck_assert_error (error, FT_FORECAST_ERROR, FT_FORECAST_ERROR_EMPTY);
  g_clear_error (&error);
  /* trips that all fall outside every zone */
  FtTime t[2] = { MONDAY, MONDAY + FT_HOUR };
  int z[2] = { -1, -1 };
  ck_assert (ft_demand_series_from_events (3, NULL, t, z, 2, &error) == NULL);
  ck_assert_error (error, FT_FORECAST_ERROR, FT_FORECAST_ERROR_EMPTY);
  ck_assert_msg (strstr (error->message, "3 zones") != NULL, "%s", error->message);
  g_clear_error (&error);
  int bad[2] = { 0, 5 };
  ck_assert (ft_demand_series_from_events (3, NULL, t, bad, 2, &error) == NULL);
  ck_assert_error (error, FT_FORECAST_ERROR, FT_FORECAST_ERROR_INVALID);
}
END_TEST

START_TEST (test_refuse_zone_without_trips)
{
  /* One zone that never had a trip: nothing to learn, and a model fitted
   * before keeps its forecasts. */
  g_autofree double *zero = g_new0 (double, 3 * 168);
  g_autoptr(GError) error = NULL;
  g_autoptr(FtDemandSeries) empty = ft_demand_series_new (1, 3 * 168, MONDAY, zero, &error);
  ck_assert (empty != NULL);
  g_autoptr(FtDemandSeries) good = synthetic (1, 3 * 168, peaky, 9);
  for (int k = 0; k < FT_N_FORECAST_KINDS; k++)
    {
      FtForecastParams p;
      ft_forecast_params_init (&p);
      p.xgb_rounds = 10;
      p.xgb_nthread = 1;
      g_autoptr(FtForecaster) f = ft_forecaster_new ((FtForecastKind) k, &p);
      ck_assert (!ft_forecaster_fit (f, empty, 0, 3 * 168, &error));
      ck_assert_error (error, FT_FORECAST_ERROR, FT_FORECAST_ERROR_EMPTY);
      ck_assert_msg (strstr (error->message, "no trips") != NULL, "%s", error->message);
      g_clear_error (&error);
      double out[24];
      ck_assert (!ft_forecaster_predict (f, good, 2 * 168, 24, out, &error));
      ck_assert_error (error, FT_FORECAST_ERROR, FT_FORECAST_ERROR_NOT_FITTED);
      g_clear_error (&error);

      ck_assert (ft_forecaster_fit (f, good, 0, 2 * 168, &error));
      double before[24], after[24];
      ck_assert (ft_forecaster_predict (f, good, 2 * 168, 24, before, &error));
      ck_assert (!ft_forecaster_fit (f, empty, 0, 3 * 168, &error));
      g_clear_error (&error);
      ck_assert (ft_forecaster_predict (f, good, 2 * 168, 24, after, &error));
      ck_assert (memcmp (before, after, sizeof before) == 0);
    }
}
END_TEST

START_TEST (test_refuse_nan_inf)
{
  g_autofree double *c = g_new0 (double, 2 * 200);
  c[1 * 200 + 17] = NAN;
  g_autoptr(GError) error = NULL;
  ck_assert (ft_demand_series_new (2, 200, MONDAY, c, &error) == NULL);
  ck_assert_error (error, FT_FORECAST_ERROR, FT_FORECAST_ERROR_INVALID);
  ck_assert_msg (strstr (error->message, "zone 1 at hour 17") != NULL, "%s", error->message);
  g_clear_error (&error);
  c[1 * 200 + 17] = INFINITY;
  ck_assert (ft_demand_series_new (2, 200, MONDAY, c, &error) == NULL);
  ck_assert_error (error, FT_FORECAST_ERROR, FT_FORECAST_ERROR_INVALID);
  g_clear_error (&error);
  c[1 * 200 + 17] = -1;
  ck_assert (ft_demand_series_new (2, 200, MONDAY, c, &error) == NULL);
  ck_assert_error (error, FT_FORECAST_ERROR, FT_FORECAST_ERROR_INVALID);
  g_clear_error (&error);

  /* availability: NaN or outside [0, 1] refused, the series unchanged */
  c[1 * 200 + 17] = 4;
  g_autoptr(FtDemandSeries) s = ft_demand_series_new (2, 200, MONDAY, c, &error);
  ck_assert (s != NULL);
  g_autofree double *a = g_new (double, 2 * 200);
  for (guint i = 0; i < 400; i++)
    a[i] = 1;
  a[3] = NAN;
  ck_assert (!ft_demand_series_set_availability (s, a, &error));
  ck_assert_error (error, FT_FORECAST_ERROR, FT_FORECAST_ERROR_INVALID);
  ck_assert (s->available == NULL);
  g_clear_error (&error);
  a[3] = 1.5;
  ck_assert (!ft_demand_series_set_availability (s, a, &error));
  ck_assert (s->available == NULL);
  g_clear_error (&error);
  /* and the correction where availability is known */
  a[3] = 1;
  a[1 * 200 + 17] = 0.5;
  ck_assert (ft_demand_series_set_availability (s, a, &error));
  ck_assert_double_eq_tol (ft_demand_series_demand (s, 1, 17), 8, 1e-12);
  a[1 * 200 + 17] = 0.1;   /* floored at a quarter: at most 4x */
  ck_assert (ft_demand_series_set_availability (s, a, &error));
  ck_assert_double_eq_tol (ft_demand_series_demand (s, 1, 17), 16, 1e-12);
}
END_TEST

START_TEST (test_refuse_window_longer_than_data)
{
  g_autoptr(FtDemandSeries) s = synthetic (2, 300, peaky, 4);
  g_autoptr(GError) error = NULL;
  for (int k = 0; k < FT_N_FORECAST_KINDS; k++)
    {
      g_autoptr(FtForecaster) f = ft_forecaster_new ((FtForecastKind) k, NULL);
      ck_assert (!ft_forecaster_fit (f, s, 0, 301, &error));
      ck_assert_error (error, FT_FORECAST_ERROR, FT_FORECAST_ERROR_WINDOW);
      ck_assert_msg (strstr (error->message, "longer than the data (300 hours)") != NULL, "%s", error->message);
      g_clear_error (&error);
    }
  FtBacktestSpec spec = { .train_hours = 250, .test_hours = 51, .horizon = 24, .origin_every = 24 };
  FtForecastKind kinds[1] = { FT_FORECAST_MEAN };
  FtForecastScore score;
  ck_assert (!ft_forecast_backtest (s, &spec, NULL, kinds, 1, &score, NULL, NULL, NULL, &error));
  ck_assert_error (error, FT_FORECAST_ERROR, FT_FORECAST_ERROR_WINDOW);
  g_clear_error (&error);
  /* the GLM and XGBoost need a day of history before their first row */
  g_autoptr(FtForecaster) glm = ft_forecaster_new (FT_FORECAST_GLM, NULL);
  ck_assert (!ft_forecaster_fit (glm, s, 0, 20, &error));
  ck_assert_error (error, FT_FORECAST_ERROR, FT_FORECAST_ERROR_WINDOW);
  ck_assert_msg (strstr (error->message, "a day (24 h) of history") != NULL, "%s", error->message);
}
END_TEST

static Suite *
forecast_suite (void)
{
  Suite *s = suite_create ("forecast");
  TCase *mean = tcase_create ("baseline");
  tcase_add_test (mean, test_mean_exact);
  tcase_add_test (mean, test_deviance);
  tcase_add_test (mean, test_holidays_count_as_sundays);
  suite_add_tcase (s, mean);
  TCase *glm = tcase_create ("glm");
  tcase_add_test (glm, test_glm_recovers_coefficients);
  tcase_add_test (glm, test_glm_refuses_nan);
  tcase_add_test (glm, test_glm_warm_start_same_fit);
  tcase_add_test (glm, test_predict_leads);
  tcase_add_test (glm, test_glm_eager_classes);
  suite_add_tcase (s, glm);
  TCase *models = tcase_create ("models");
  tcase_set_timeout (models, 300);
  tcase_add_test (models, test_xgb_beats_constant);
  tcase_add_test (models, test_forecasts_never_read_the_future);
  tcase_add_test (models, test_training_rows_do_not_see_their_target);
  tcase_add_test (models, test_short_window_rows_do_not_see_their_target);
  tcase_add_test (models, test_backtest_shape);
  suite_add_tcase (s, models);
  TCase *bad = tcase_create ("bad-input");
  tcase_set_timeout (bad, 300);
  tcase_add_test (bad, test_refuse_empty);
  tcase_add_test (bad, test_refuse_zone_without_trips);
  tcase_add_test (bad, test_refuse_nan_inf);
  tcase_add_test (bad, test_refuse_window_longer_than_data);
  suite_add_tcase (s, bad);
  return s;
}

int
main (void)
{
  gsl_set_error_handler_off ();
  SRunner *sr = srunner_create (forecast_suite ());
  srunner_run_all (sr, CK_NORMAL);
  int failed = srunner_ntests_failed (sr);
  srunner_free (sr);
  return failed == 0 ? 0 : 1;
}
