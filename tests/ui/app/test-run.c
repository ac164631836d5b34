/* test-run.c — Compare Runs' rules (ui/app/ft-run.c) without a display:
 * default names, refused names, progress labels, which runs are compared,
 * what makes runs unlike, differences with the better direction per KPI,
 * and the CSV written through FtOutput.
 */
#include "ft-run.h"
#include "ft-file.h"

#include <check.h>
#include <glib/gstdio.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

/* A finished one-day Demo City run with round figures. */
static FtRun *
make_run (guint id, const char *name, gboolean finished)
{
  FtRun *r = g_new0 (FtRun, 1);
  r->id = id;
  r->name = g_strdup (name);
  r->scenario = g_strdup ("Demo City Phase 1 MVP launch");
  r->city = g_strdup ("Demo City");
  r->seed = 7;
  r->started = 1796479500;   /* 2026-12-05 14:05 UTC */
  r->end_time = 24 * FT_HOUR;
  r->days_planned = 1;
  r->finished = finished;
  r->kpis.sim_time = finished ? r->end_time : 9 * FT_HOUR + 40 * FT_MINUTE;
  r->kpis.days = (double) r->kpis.sim_time / (24 * FT_HOUR);
  r->kpis.n_vehicles = 1000;
  r->kpis.trips_requested = 5000;
  r->kpis.trips_served = 4000;
  r->kpis.trips_lost = 1000;
  r->kpis.revenue_minor = 1000000;
  r->kpis.staff_km = 250;
  strcpy (r->kpis.currency, "EUR");
  return r;
}

static const FtRunRow *
row (const char *kpi)
{
  guint n;
  const FtRunRow *rows = ft_run_rows (&n);
  for (guint i = 0; i < n; i++)
    if (strcmp (rows[i].kpi, kpi) == 0)
      return &rows[i];
  ck_abort_msg ("no row %s", kpi);
  return NULL;
}

START_TEST (test_names)
{
  g_autofree char *n = ft_run_default_name ("demo-city-phase3", 7, 1796479500);
  ck_assert_str_eq (n, "demo-city-phase3 · seed 7 · 14:05");
  g_autofree char *u = ft_run_default_name (NULL, 1, 1796479500);
  ck_assert (g_str_has_prefix (u, "Unnamed scenario · seed 1"));

  g_autoptr(GError) error = NULL;
  g_autofree char *ok = ft_run_check_name ("  more scooters  ", &error);
  ck_assert_str_eq (ok, "more scooters");
  const char *bad[] = { "", "   ", "two\nlines", "tab\there" };
  for (guint i = 0; i < G_N_ELEMENTS (bad); i++)
    {
      ck_assert_msg (ft_run_check_name (bad[i], &error) == NULL, "accepted \"%s\"", bad[i]);
      ck_assert (error != NULL);
      g_clear_error (&error);
    }
  /* two runs started in the same minute get told apart */
  g_autoptr(GPtrArray) runs = g_ptr_array_new_with_free_func ((GDestroyNotify) ft_run_free);
  g_autofree char *u1 = ft_run_unique_name (runs, "A · seed 7 · 14:05");
  ck_assert_str_eq (u1, "A · seed 7 · 14:05");
  g_ptr_array_add (runs, make_run (1, "A · seed 7 · 14:05", TRUE));
  g_autofree char *u2 = ft_run_unique_name (runs, "A · seed 7 · 14:05");
  ck_assert_str_eq (u2, "A · seed 7 · 14:05 (2)");
  g_ptr_array_add (runs, make_run (2, u2, TRUE));
  g_autofree char *u3 = ft_run_unique_name (runs, "A · seed 7 · 14:05");
  ck_assert_str_eq (u3, "A · seed 7 · 14:05 (3)");

  g_autofree char *longname = g_strnfill (121, 'x');
  ck_assert (ft_run_check_name (longname, &error) == NULL);
  ck_assert_msg (strstr (error->message, "121") != NULL, "%s", error->message);
}
END_TEST

START_TEST (test_progress)
{
  g_autoptr(FtRun) done = make_run (1, "a", TRUE);
  g_autoptr(FtRun) stopped = make_run (2, "b", FALSE);
  g_autofree char *p1 = ft_run_dup_progress (done);
  g_autofree char *p2 = ft_run_dup_progress (stopped);
  ck_assert_str_eq (p1, "finished");
  ck_assert_str_eq (p2, "stopped at 09:40 of 24:00");
  stopped->current = TRUE;
  stopped->end_time = 2 * FT_HOUR + 24 * FT_MINUTE;   /* 0.1 days */
  stopped->kpis.sim_time = 29 * FT_MINUTE;
  g_autofree char *p3 = ft_run_dup_progress (stopped);
  ck_assert_str_eq (p3, "running: 00:29 of 02:24");
  stopped->current = FALSE;
  stopped->end_time = 7 * 24 * FT_HOUR;
  stopped->days_planned = 7;
  stopped->kpis.sim_time = 24 * FT_HOUR + 9 * FT_HOUR + 40 * FT_MINUTE;
  g_autofree char *p4 = ft_run_dup_progress (stopped);
  ck_assert_str_eq (p4, "stopped at day 2 09:40 of 7 days");
}
END_TEST

START_TEST (test_select)
{
  g_autoptr(GPtrArray) runs = g_ptr_array_new_with_free_func ((GDestroyNotify) ft_run_free);
  g_ptr_array_add (runs, make_run (1, "a", TRUE));
  g_ptr_array_add (runs, make_run (2, "b", FALSE));
  g_ptr_array_add (runs, make_run (3, "c", TRUE));
  GPtrArray *out = NULL;
  g_autoptr(GPtrArray) shown = ft_run_select (runs, FALSE, &out);
  ck_assert_uint_eq (shown->len, 2);
  ck_assert_uint_eq (((FtRun *) shown->pdata[0])->id, 1);
  ck_assert_uint_eq (((FtRun *) shown->pdata[1])->id, 3);
  ck_assert_uint_eq (out->len, 1);
  ck_assert_uint_eq (((FtRun *) out->pdata[0])->id, 2);
  g_ptr_array_unref (out);
  g_autoptr(GPtrArray) all = ft_run_select (runs, TRUE, NULL);
  ck_assert_uint_eq (all->len, 3);
  ck_assert (ft_run_find (runs, 2) == runs->pdata[1]);
  ck_assert (ft_run_find (runs, 9) == NULL);
}
END_TEST

START_TEST (test_mismatch)
{
  g_autoptr(FtRun) a = make_run (1, "a", TRUE);
  g_autoptr(FtRun) b = make_run (2, "b", TRUE);
  ck_assert_uint_eq (ft_run_mismatch (a, b), 0);
  ck_assert (ft_run_mismatch_text (a, b) == NULL);
  b->seed = 8;   /* another seed is what replications are: alike */
  ck_assert_uint_eq (ft_run_mismatch (a, b), 0);
  g_free (b->city);
  b->city = g_strdup ("Jersey City");
  ck_assert_uint_eq (ft_run_mismatch (a, b), FT_RUN_OTHER_CITY);
  g_free (b->scenario);
  b->scenario = g_strdup ("Jersey City replay");
  b->kpis.sim_time /= 2;
  b->kpis.days /= 2;
  strcpy (b->kpis.currency, "USD");
  ck_assert_uint_eq (ft_run_mismatch (a, b),
                     FT_RUN_OTHER_CITY | FT_RUN_OTHER_SCENARIO | FT_RUN_OTHER_LENGTH | FT_RUN_OTHER_CURRENCY);
  g_autofree char *t = ft_run_mismatch_text (a, b);
  ck_assert_str_eq (t, "other scenario (Jersey City replay) · other city (Jersey City) · 0.50 days against 1.00 · "
                       "USD, baseline in EUR");
}
END_TEST

START_TEST (test_diff)
{
  g_autoptr(FtRun) a = make_run (1, "a", TRUE);
  g_autoptr(FtRun) b = make_run (2, "b", TRUE);
  b->kpis.revenue_minor = 1100000;     /* +10 %: better */
  b->kpis.trips_lost = 1200;           /* +20 %: worse */
  b->kpis.staff_km = 200;              /* -20 %: better (lower is) */
  b->kpis.trips_requested = 5500;      /* demand: context, no verdict */
  b->kpis.trips_served = 4001;         /* +0.025 %: the same */
  FtRunDiff d;
  ft_run_diff (row ("revenue_minor"), a, b, &d);
  ck_assert_double_eq_tol (d.base, 10000, 1e-9);
  ck_assert_double_eq_tol (d.value, 11000, 1e-9);
  ck_assert_double_eq_tol (d.abs, 1000, 1e-9);
  ck_assert_double_eq_tol (d.pct, 10, 1e-9);
  ck_assert_int_eq (d.verdict, FT_RUN_BETTER);
  ft_run_diff (row ("trips_lost"), a, b, &d);
  ck_assert_double_eq_tol (d.pct, 20, 1e-9);
  ck_assert_int_eq (d.verdict, FT_RUN_WORSE);
  ft_run_diff (row ("staff_km"), a, b, &d);
  ck_assert_double_eq_tol (d.abs, -50, 1e-9);
  ck_assert_int_eq (d.verdict, FT_RUN_BETTER);
  ft_run_diff (row ("trips_requested"), a, b, &d);
  ck_assert_int_eq (d.verdict, FT_RUN_CHANGED);
  ft_run_diff (row ("trips_served"), a, b, &d);
  ck_assert_int_eq (d.verdict, FT_RUN_SAME);
  ft_run_diff (row ("service_level"), a, a, &d);
  ck_assert_double_eq_tol (d.value, 80, 1e-9);
  ck_assert_int_eq (d.verdict, FT_RUN_SAME);
  /* against zero: no percentage, still a verdict */
  ft_run_diff (row ("battery_swaps"), a, b, &d);
  ck_assert_int_eq (d.verdict, FT_RUN_SAME);
  b->kpis.battery_swaps = 3;
  ft_run_diff (row ("battery_swaps"), a, b, &d);
  ck_assert (isnan (d.pct));
  ck_assert_double_eq_tol (d.abs, 3, 1e-9);
  ck_assert_int_eq (d.verdict, FT_RUN_WORSE);
  /* money in another currency is not compared; counts still are */
  strcpy (b->kpis.currency, "USD");
  ft_run_diff (row ("revenue_minor"), a, b, &d);
  ck_assert_int_eq (d.verdict, FT_RUN_NOT_COMPARED);
  ck_assert (isnan (d.abs));
  ft_run_diff (row ("trips_lost"), a, b, &d);
  ck_assert_int_eq (d.verdict, FT_RUN_WORSE);
}
END_TEST

START_TEST (test_csv)
{
  g_autoptr(GPtrArray) runs = g_ptr_array_new_with_free_func ((GDestroyNotify) ft_run_free);
  g_ptr_array_add (runs, make_run (1, "baseline, \"A\"", TRUE));
  FtRun *b = make_run (2, "=cmd()", TRUE);
  b->kpis.revenue_minor = 1100000;
  g_ptr_array_add (runs, b);
  g_autofree char *csv = ft_run_comparison_csv (runs, runs->pdata[0]);
  g_auto(GStrv) lines = g_strsplit (csv, "\n", -1);
  guint n_rows;
  ft_run_rows (&n_rows);
  ck_assert_uint_eq (g_strv_length (lines), 1 + 2 * n_rows + 1);   /* header, rows, "" after the last \n */
  ck_assert (g_str_has_prefix (lines[0], "run_id,run_name,"));
  ck_assert_msg (strstr (csv, "1,\"baseline, \"\"A\"\"\",") != NULL, "%s", lines[1]);
  ck_assert_msg (strstr (csv, "2,\"'=cmd()\",") != NULL, "a name read as a formula:\n%s", csv);
  ck_assert_msg (strstr (csv, ",revenue_minor,\"Revenue (EUR)\",11000,10000,1000,10,better\n") != NULL, "%s", csv);
  ck_assert_msg (strstr (csv, ",revenue_minor,\"Revenue (EUR)\",10000,10000,0,0,baseline\n") != NULL, "%s", csv);

  g_autofree char *dir = g_dir_make_tmp ("ft-test-run-XXXXXX", NULL);
  g_autofree char *path = g_build_filename (dir, "cmp.csv", NULL);
  g_autoptr(GError) error = NULL;
  ck_assert_msg (ft_run_write_csv (path, runs, runs->pdata[0], FALSE, &error), "%s", error ? error->message : "");
  g_autofree char *back = NULL;
  ck_assert (g_file_get_contents (path, &back, NULL, NULL));
  ck_assert_str_eq (back, csv);
  /* our own CSV is replaced; a file that is not one is left alone */
  ck_assert (ft_run_write_csv (path, runs, NULL, FALSE, &error));
  g_autofree char *other = g_build_filename (dir, "notes.csv", NULL);
  ck_assert (g_file_set_contents (other, "my,notes\n", -1, NULL));
  ck_assert (!ft_run_write_csv (other, runs, NULL, FALSE, &error));
  ck_assert (g_error_matches (error, FT_FILE_ERROR, FT_FILE_ERROR_NOT_OURS));
  ck_assert_msg (strstr (error->message, "notes.csv") != NULL, "%s", error->message);
  g_clear_error (&error);
  g_autofree char *kept = NULL;
  ck_assert (g_file_get_contents (other, &kept, NULL, NULL));
  ck_assert_str_eq (kept, "my,notes\n");
  g_unlink (path);
  g_unlink (other);
  ck_assert_int_eq (g_rmdir (dir), 0);
}
END_TEST

int
main (void)
{
  g_setenv ("TZ", "UTC", TRUE);
  Suite *s = suite_create ("run-compare");
  TCase *tc = tcase_create ("names");
  tcase_add_test (tc, test_names);
  tcase_add_test (tc, test_progress);
  suite_add_tcase (s, tc);
  tc = tcase_create ("comparison");
  tcase_add_test (tc, test_select);
  tcase_add_test (tc, test_mismatch);
  tcase_add_test (tc, test_diff);
  suite_add_tcase (s, tc);
  tc = tcase_create ("csv");
  tcase_add_test (tc, test_csv);
  suite_add_tcase (s, tc);
  SRunner *sr = srunner_create (s);
  srunner_run_all (sr, CK_NORMAL);
  int failed = srunner_ntests_failed (sr);
  srunner_free (sr);
  return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
