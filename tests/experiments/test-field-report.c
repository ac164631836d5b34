/* test-field-report.c — a field design's bias against the whole-fleet
 * truth as the report and the app's Experiments page show it
 * (ft_exp_report_field, ft_exp_field_bias_describe): the 95 % t intervals
 * of the truth and of the estimate against a t table, the verdict at the
 * two-standard-error line on both sides, and the words naming the design,
 * the numbers and what they mean.
 */
#include "ft-exp-report.h"

#include <check.h>
#include <glib/gstdio.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define NEAR(a, b, tol) ck_assert_msg (fabs ((a) - (b)) <= (tol), "%s = %.9g, expected %.9g", #a, (double) (a), (double) (b))

static char *tmp;

static void
setup (void)
{
  tmp = g_dir_make_tmp ("ft-field-report-XXXXXX", NULL);
  ck_assert (tmp != NULL);
}

static void
teardown (void)
{
  g_autofree char *cmd = g_strdup_printf ("rm -rf '%s'", tmp);
  ck_assert (system (cmd) == 0);
  g_clear_pointer (&tmp, g_free);
}

/* A results file with n replications of control c (100 each), variant t
 * (100 + truth[i]) and the rider design's estimates est[i]; its one bias row. */
static FtExpFieldBias *
bias_of (const char *file, const double *truth, const double *est, guint n, GPtrArray **keep)
{
  g_autoptr (GError) error = NULL;
  const char *names[] = { "c", "t" }, *ov[] = { "", "" };
  FtExpIdentity id = { .name = "k", .hash = "h", .design = "rider", .control = "c", .metrics = "trips_served",
                       .replications = n, .file_text = "", .n_variants = 2, .variant_names = names,
                       .variant_overrides = ov };
  g_autofree char *path = g_build_filename (tmp, file, NULL);
  g_autoptr (FtExpResults) r = ft_exp_results_create (path, &id, &error);
  ck_assert_msg (r != NULL, "%s", error ? error->message : "");
  for (guint i = 0; i < n; i++)
    {
      ck_assert (ft_exp_results_add_value (r, i, "c", "trips_served", 100, NAN, &error));
      ck_assert (ft_exp_results_add_value (r, i, "t", "trips_served", 100 + truth[i], NAN, &error));
      FtExpFieldRow row = { .design = "rider", .replication = i, .variant = "t", .metric = "trips_served",
                            .estimate = est[i], .control = 1, .treated = 2, .control_units = 5, .treated_units = 5 };
      ck_assert (ft_exp_results_add_field (r, &row, &error));
    }
  *keep = ft_exp_report_field (r, &error);
  ck_assert_msg (*keep != NULL, "%s", error ? error->message : "");
  ck_assert_uint_eq ((*keep)->len, 1);
  return (*keep)->pdata[0];
}

/* Truth 10, 20, 30 and estimates 14, 20, 35 (errors 4, 0, 5): bias 3 with
 * standard error sqrt (7/3) = 1.528, just inside two standard errors. */
START_TEST (t_intervals_and_no_bias)
{
  const double truth[] = { 10, 20, 30 }, est[] = { 14, 20, 35 };
  g_autoptr (GPtrArray) keep = NULL;
  FtExpFieldBias *b = bias_of ("a.db", truth, est, 3, &keep);
  /* t(0.975, 2) = 4.303 from a t table; truth sd 10, estimate sd sqrt(117) */
  double h_truth = 4.302653 * 10 / sqrt (3), h_est = 4.302653 * sqrt (117) / sqrt (3);
  NEAR (b->truth_lo, 20 - h_truth, 1e-4);
  NEAR (b->truth_hi, 20 + h_truth, 1e-4);
  NEAR (b->est_lo, 23 - h_est, 1e-4);
  NEAR (b->est_hi, 23 + h_est, 1e-4);
  ck_assert_int_eq (b->verdict, FT_EXP_FIELD_NO_BIAS);
  g_autofree char *words = ft_exp_field_bias_describe (b);
  printf ("%s\n", words);
  ck_assert (strstr (words, "rider design (t, trips_served): it estimates") != NULL);
  ck_assert (strstr (words, "at +23 on average") != NULL);
  ck_assert (strstr (words, "truth is +20; bias +3 (+15 % of the truth)") != NULL);
  ck_assert (strstr (words, "no bias is shown at 3 replications") != NULL);
  ck_assert (strstr (words, "rmse 3.697") != NULL);
}
END_TEST

/* Estimates 15, 25, 35 (always 5 above the truth, no spread): biased,
 * reading higher; 6, 16, 22: biased, reading lower. */
START_TEST (t_biased)
{
  const double truth[] = { 10, 20, 30 }, est[] = { 15, 25, 35 };
  g_autoptr (GPtrArray) keep = NULL;
  FtExpFieldBias *b = bias_of ("b.db", truth, est, 3, &keep);
  NEAR (b->bias, 5, 1e-12);
  NEAR (b->bias_se, 0, 1e-12);
  ck_assert_int_eq (b->verdict, FT_EXP_FIELD_BIASED);
  g_autofree char *words = ft_exp_field_bias_describe (b);
  printf ("%s\n", words);
  ck_assert (strstr (words, "is biased here (it reads higher than the truth)") != NULL);
  /* below the truth: 6, 16, 22 (errors -4, -4, -8: bias -5.33, se 1.33) */
  const double low[] = { 6, 16, 22 };
  g_autoptr (GPtrArray) keep2 = NULL;
  b = bias_of ("c.db", truth, low, 3, &keep2);
  ck_assert_int_eq (b->verdict, FT_EXP_FIELD_BIASED);
  g_free (words);
  words = ft_exp_field_bias_describe (b);
  ck_assert (strstr (words, "reads lower than the truth") != NULL);
}
END_TEST

/* One replication: no standard error, no interval, and the words say so. */
START_TEST (t_one_replication)
{
  const double truth[] = { 10 }, est[] = { 40 };
  g_autoptr (GPtrArray) keep = NULL;
  FtExpFieldBias *b = bias_of ("d.db", truth, est, 1, &keep);
  ck_assert_int_eq (b->verdict, FT_EXP_FIELD_TOO_FEW);
  ck_assert (isnan (b->est_lo) && isnan (b->truth_hi));
  g_autofree char *words = ft_exp_field_bias_describe (b);
  ck_assert (strstr (words, "one replication cannot tell a bias from chance") != NULL);
  ck_assert (strstr (words, "biased here") == NULL);
}
END_TEST

int
main (void)
{
  Suite *s = suite_create ("field-report");
  TCase *tc = tcase_create ("bias");
  tcase_add_checked_fixture (tc, setup, teardown);
  tcase_add_test (tc, t_intervals_and_no_bias);
  tcase_add_test (tc, t_biased);
  tcase_add_test (tc, t_one_replication);
  suite_add_tcase (s, tc);
  SRunner *sr = srunner_create (s);
  srunner_run_all (sr, CK_NORMAL);
  int failed = srunner_ntests_failed (sr);
  srunner_free (sr);
  return failed ? 1 : 0;
}
