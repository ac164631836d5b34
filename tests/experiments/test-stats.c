/* test-stats.c — the experiment statistics against known answers: t
 * quantiles from published tables, Student's sleep data (R's paired
 * t.test), R's p.adjust Holm example, the paired-t sample sizes of pwr,
 * CUPED on data with a known slope, a Pareto front by hand; and, on
 * synthetic null data, the coverage of the t and bootstrap intervals and
 * the family-wise error of Holm at about their nominal rates.
 */
#include "ft-stats.h"

#include <check.h>
#include <gsl/gsl_randist.h>
#include <gsl/gsl_rng.h>
#include <math.h>
#include <string.h>

#define NEAR(a, b, tol) ck_assert_msg (fabs ((a) - (b)) <= (tol), "%s = %.9g, expected %.9g", #a, (double) (a), (double) (b))

START_TEST (t_quantiles)
{
  /* two-sided 95 % critical values from any t table */
  NEAR (ft_stats_t_quantile (0.975, 9), 2.262157, 1e-6);
  NEAR (ft_stats_t_quantile (0.975, 30), 2.042272, 1e-6);
  NEAR (ft_stats_t_quantile (0.95, 4), 2.131847, 1e-6);
  NEAR (ft_stats_t_quantile (0.995, 1), 63.656741, 1e-5);
}
END_TEST

/* Student (1908) sleep data, R: t.test(extra ~ group, data = sleep, paired = TRUE)
 * t = -4.0621, df = 9, p-value = 0.002833, 95 % CI -2.4598858 -0.7001142,
 * mean difference -1.58. */
static const double sleep1[] = { 0.7, -1.6, -0.2, -1.2, -0.1, 3.4, 3.7, 0.8, 0.0, 2.0 };
static const double sleep2[] = { 1.9, 0.8, 1.1, 0.1, -0.1, 4.4, 5.5, 1.6, 4.6, 3.4 };

START_TEST (t_paired_sleep)
{
  FtStatsPaired p;
  g_autoptr (GError) error = NULL;
  ck_assert (ft_stats_paired (sleep1, sleep2, 10, 0.05, 2000, 1, &p, &error));
  NEAR (p.mean, -1.58, 1e-12);
  NEAR (p.t, -4.0621, 5e-5);
  NEAR (p.df, 9, 0);
  NEAR (p.p, 0.002833, 5e-7);
  NEAR (p.t_lo, -2.4598858, 1e-6);
  NEAR (p.t_hi, -0.7001142, 1e-6);
  /* Cohen's d_z = mean / sd of differences; sd = 1.229995 (R: sd(diff)) */
  NEAR (p.sd, 1.2299955, 1e-6);
  NEAR (p.cohen_dz, -1.58 / 1.2299955, 1e-6);
  /* the bootstrap interval is the same for the same seed, brackets the
   * mean and lies near the t interval */
  FtStatsPaired q;
  ck_assert (ft_stats_paired (sleep1, sleep2, 10, 0.05, 2000, 1, &q, &error));
  ck_assert (p.boot_lo == q.boot_lo && p.boot_hi == q.boot_hi);
  ck_assert (p.boot_lo < p.mean && p.mean < p.boot_hi);
  ck_assert (p.boot_lo > -2.6 && p.boot_hi < -0.6);
  /* bad input */
  ck_assert (!ft_stats_paired (sleep1, sleep2, 1, 0.05, 100, 1, &q, &error));
  ck_assert (g_error_matches (error, FT_STATS_ERROR, FT_STATS_ERROR_INPUT));
  g_clear_error (&error);
  double bad[2] = { 1, NAN };
  ck_assert (!ft_stats_paired (bad, sleep2, 2, 0.05, 100, 1, &q, &error));
  ck_assert (strstr (error->message, "pair 1") != NULL);
}
END_TEST

START_TEST (t_holm)
{
  /* R: p.adjust(c(0.01, 0.04, 0.03, 0.005), "holm") = 0.03 0.06 0.06 0.02 */
  const double p[] = { 0.01, 0.04, 0.03, 0.005 };
  double adj[4];
  ft_stats_holm (p, 4, adj);
  NEAR (adj[0], 0.03, 1e-12);
  NEAR (adj[1], 0.06, 1e-12);
  NEAR (adj[2], 0.06, 1e-12);
  NEAR (adj[3], 0.02, 1e-12);
  /* capped at 1: p.adjust(c(0.5, 0.6), "holm") = 1 1 */
  const double q[] = { 0.5, 0.6 };
  ft_stats_holm (q, 2, adj);
  NEAR (adj[0], 1, 0);
  NEAR (adj[1], 1, 0);
}
END_TEST

START_TEST (t_power)
{
  /* pwr::pwr.t.test(d = 0.5, power = 0.8, sig.level = 0.05, type = "paired"):
   * n = 33.37 -> 34 pairs; d = 1: n = 9.94 -> 10; d = 0.2: n = 198.15 -> 199 */
  ck_assert_uint_eq (ft_stats_n_for_power (1.0, 0.5, 0.05, 0.8), 34);
  ck_assert_uint_eq (ft_stats_n_for_power (2.0, 2.0, 0.05, 0.8), 10);
  ck_assert_uint_eq (ft_stats_n_for_power (1.0, 0.2, 0.05, 0.8), 199);
  ck_assert_uint_eq (ft_stats_n_for_power (1.0, 0.0, 0.05, 0.8), 0);
  ck_assert_uint_eq (ft_stats_n_for_power (0.0, 1.0, 0.05, 0.8), 2);
}
END_TEST

START_TEST (t_cuped)
{
  /* y = 1 + 2 x exactly: theta = 2 and every adjusted value is mean(y) */
  const double x[] = { 1, 2, 3, 4, 5 }, y[] = { 3, 5, 7, 9, 11 };
  double adj[5];
  NEAR (ft_stats_cuped (y, x, 5, adj), 2.0, 1e-12);
  for (guint i = 0; i < 5; i++)
    NEAR (adj[i], 7.0, 1e-12);
  /* theta = cov / var computed here independently on noisy data; the
   * adjusted mean equals the raw mean and the variance does not grow */
  gsl_rng *r = gsl_rng_alloc (gsl_rng_mt19937);
  gsl_rng_set (r, 5);
  double xs[200], ys[200], ad[200];
  double mx = 0, my = 0;
  for (guint i = 0; i < 200; i++)
    {
      xs[i] = gsl_ran_gaussian (r, 1);
      ys[i] = 0.7 * xs[i] + gsl_ran_gaussian (r, 0.5);
      mx += xs[i] / 200;
      my += ys[i] / 200;
    }
  double sxy = 0, sxx = 0;
  for (guint i = 0; i < 200; i++)
    {
      sxy += (xs[i] - mx) * (ys[i] - my);
      sxx += (xs[i] - mx) * (xs[i] - mx);
    }
  NEAR (ft_stats_cuped (ys, xs, 200, ad), sxy / sxx, 1e-12);
  double ma, sa, sy;
  ft_stats_mean_sd (ad, 200, &ma, &sa);
  ft_stats_mean_sd (ys, 200, NULL, &sy);
  NEAR (ma, my, 1e-12);
  ck_assert (sa < 0.6 * sy);
  gsl_rng_free (r);
}
END_TEST

START_TEST (t_pareto)
{
  /* cost (lower better) against service (higher better) */
  const double cost[] = { 10, 12, 11, 15, 9, 12 }, svc[] = { 0.80, 0.90, 0.78, 0.95, 0.70, 0.85 };
  gboolean front[6];
  ft_stats_pareto_front (cost, svc, 6, FALSE, TRUE, front);
  /* (11, .78) is beaten by (10, .80); (12, .85) by (12, .90) */
  const gboolean want[] = { TRUE, TRUE, FALSE, TRUE, TRUE, FALSE };
  for (guint i = 0; i < 6; i++)
    ck_assert_msg (front[i] == want[i], "point %u", i);
}
END_TEST

/* Null experiments on synthetic data: both arms from the same
 * distribution, so the true difference is 0. Over many experiments the
 * 95 % t interval must cover 0 in 95 % of them (binomial sd 0.49 % for
 * 2000: the band is 4 sd), the bootstrap interval at about that rate, and
 * Holm must hold the chance of any false finding among 4 metrics near 5 %
 * (uncorrected it is 1 - 0.95^4 = 18.5 %). */
START_TEST (t_null_coverage)
{
  gsl_rng *r = gsl_rng_alloc (gsl_rng_mt19937);
  gsl_rng_set (r, 20260101);
  guint trials = 2000, n = 10, cover = 0;
  double a[30], b[30];
  for (guint t = 0; t < trials; t++)
    {
      for (guint i = 0; i < n; i++)
        {
          double common = gsl_ran_gaussian (r, 3);   /* the replication's shared noise (CRN) */
          a[i] = common + gsl_ran_gaussian (r, 1);
          b[i] = common + gsl_ran_gaussian (r, 1);
        }
      FtStatsPaired p;
      ck_assert (ft_stats_paired (a, b, n, 0.05, 100, t, &p, NULL));
      cover += p.t_lo <= 0 && 0 <= p.t_hi;
    }
  double rate = (double) cover / trials;
  ck_assert_msg (rate > 0.9305 && rate < 0.9695, "t coverage %.4f", rate);

  /* bootstrap: n = 30, 400 experiments (sd 1.1 %); the percentile
   * interval runs a little short at small n */
  guint bcover = 0;
  for (guint t = 0; t < 400; t++)
    {
      for (guint i = 0; i < 30; i++)
        {
          a[i] = gsl_ran_exponential (r, 1);
          b[i] = gsl_ran_exponential (r, 1);
        }
      FtStatsPaired p;
      ck_assert (ft_stats_paired (a, b, 30, 0.05, 1000, t, &p, NULL));
      bcover += p.boot_lo <= 0 && 0 <= p.boot_hi;
    }
  double brate = bcover / 400.0;
  ck_assert_msg (brate > 0.905 && brate < 0.985, "bootstrap coverage %.4f", brate);

  /* Holm across 4 null metrics: family-wise error */
  guint any_raw = 0, any_holm = 0;
  for (guint t = 0; t < 2000; t++)
    {
      double p[4], adj[4];
      for (guint m = 0; m < 4; m++)
        {
          for (guint i = 0; i < n; i++)
            {
              a[i] = gsl_ran_gaussian (r, 1);
              b[i] = gsl_ran_gaussian (r, 1);
            }
          FtStatsPaired s;
          ck_assert (ft_stats_paired (a, b, n, 0.05, 100, t, &s, NULL));
          p[m] = s.p;
        }
      ft_stats_holm (p, 4, adj);
      gboolean raw = FALSE, holm = FALSE;
      for (guint m = 0; m < 4; m++)
        {
          raw |= p[m] < 0.05;
          holm |= adj[m] < 0.05;
        }
      any_raw += raw;
      any_holm += holm;
    }
  double fw = any_holm / 2000.0, fw_raw = any_raw / 2000.0;
  ck_assert_msg (fw < 0.0697 && fw > 0.02, "Holm family-wise error %.4f", fw);
  ck_assert_msg (fw_raw > 0.15, "uncorrected family-wise error %.4f", fw_raw);
  gsl_rng_free (r);
}
END_TEST

int
main (void)
{
  Suite *s = suite_create ("stats");
  TCase *tc = tcase_create ("known answers");
  tcase_add_test (tc, t_quantiles);
  tcase_add_test (tc, t_paired_sleep);
  tcase_add_test (tc, t_holm);
  tcase_add_test (tc, t_power);
  tcase_add_test (tc, t_cuped);
  tcase_add_test (tc, t_pareto);
  suite_add_tcase (s, tc);
  TCase *tn = tcase_create ("null coverage");
  tcase_add_test (tn, t_null_coverage);
  suite_add_tcase (s, tn);
  SRunner *sr = srunner_create (s);
  srunner_run_all (sr, CK_NORMAL);
  int failed = srunner_ntests_failed (sr);
  srunner_free (sr);
  return failed ? 1 : 0;
}
