/* test-compare.c — issue 16 in the app: Compare Runs, under Xvfb, in
 * process. Two short Demo City scenarios (300 and 450 scooters) run to
 * their end through the window, a third run is stopped early, and Compare
 * Runs shows the runs by their default names ("scenario · seed · time"),
 * compares only the finished ones (the stopped run named apart with where
 * it stopped), flags the other scenario, colours each difference by the
 * KPI's better direction (checked against the runs' own KPIs), and with
 * real clicks: includes the stopped run (marked, its length flagged),
 * takes another baseline, renames a run (an empty name refused, named in
 * the window), removes a run, and exports the comparison as CSV (a file
 * that is not one refused). Screenshots at 1280x720: compare-runs.png,
 * compare-runs-partial.png.
 */
#include "ft-config.h"
#include "ft-test-app.h"
#include "ft-application.h"
#include "ft-results-view.h"
#include "ft-window.h"
#include "ft-file.h"

#include <check.h>
#include <glib/gstdio.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#define SCENARIO(name, scooters)                                                                  \
  "[scenario]\nname=" name "\ncity=demo\ndays=0.05\nseed=7\n"                                    \
  "[fleet]\nscooters=" scooters "\nbikes=0\nmopeds=0\ninitial_soc_min=0.3\ninitial_soc_max=0.9\n" \
  "[demand]\nrequests_per_day=3000\n"                                                             \
  "[staff]\nfield_staff=3\ndispatchers=1\nshift_hours=12\nshift_starts=00:00\n"

static char *
write_tmp (const char *dir, const char *name, const char *text)
{
  char *path = g_build_filename (dir, name, NULL);
  ck_assert (g_file_set_contents (path, text, -1, NULL));
  return path;
}

/* Plays the loaded run as fast as possible to its end. */
static void
play_to_end (FtWindow *win, FtSession *session)
{
  ft_session_set_speed (session, 0);
  ck_assert (gtk_widget_activate_action (GTK_WIDGET (win), "win.play", NULL));
  gint64 until = g_get_monotonic_time () + 180 * G_USEC_PER_SEC;
  while (!ft_session_get_finished (session) && g_get_monotonic_time () < until)
    ft_test_app_spin (0.05);
  ck_assert_msg (ft_session_get_finished (session), "the run did not reach its end in 180 s");
}

static const FtRun *
kept (FtSession *session, guint id)
{
  const FtRun *r = ft_run_find (ft_session_get_archive (session), id);
  ck_assert_msg (r != NULL, "run %u is not kept", id);
  return r;
}

static gboolean
contains (const char *hay, const char *needle)
{
  gboolean ok = strstr (hay, needle) != NULL;
  if (!ok)
    printf ("missing \"%s\" in:\n%s\n", needle, hay);
  return ok;
}

static guint
compared (FtResultsView *v, guint i)
{
  GArray *a = ft_results_view_get_compared (v);
  return i < a->len ? g_array_index (a, guint, i) : 0;
}

/* The colour of a difference follows the KPI's direction: checked from
 * the runs' KPIs here, not through ft-run.c. */
static void
check_colour (FtResultsView *v, guint id, const char *kpi, double delta, gboolean higher_better)
{
  GtkWidget *l = ft_results_view_get_diff_label (v, id, kpi);
  ck_assert_msg (l != NULL, "no difference shown for %s of run %u", kpi, id);
  const char *text = gtk_label_get_text (GTK_LABEL (l));
  printf ("run %u %s: %s (delta %g)\n", id, kpi, text, delta);
  if (delta == 0)
    {
      ck_assert_str_eq (text, "=");
      return;
    }
  gboolean better = (delta > 0) == higher_better;
  ck_assert_msg (gtk_widget_has_css_class (l, better ? "ft-better" : "ft-worse"), "%s of run %u: \"%s\" not coloured %s",
                 kpi, id, text, better ? "better" : "worse");
  ck_assert_msg (text[0] == (delta > 0 ? '+' : '-'), "%s: \"%s\" has the wrong sign", kpi, text);
  ck_assert_msg (strstr (text, " %)") != NULL || strstr (text, "(new)") != NULL, "%s: no percentage in \"%s\"", kpi,
                 text);
}

START_TEST (test_compare_runs)
{
  g_autofree char *tmp = g_dir_make_tmp ("ft-test-compare-XXXXXX", NULL);
  g_autofree char *path_a = write_tmp (tmp, "a.scenario", SCENARIO ("Compare A", "300"));
  g_autofree char *path_b = write_tmp (tmp, "b.scenario", SCENARIO ("Compare B", "450"));
  FtTestApp *fx = ft_test_app_start (path_a, NULL, 0, 0);
  FtWindow *win = fx->win;
  FtSession *session = fx->session;
  g_autoptr(GError) error = NULL;

  /* Run 1: A to its end; run 2: B to its end; run 3: A stopped at 00:25;
   * run 4: B loaded, not played (nothing to compare). */
  gint64 t0 = g_get_monotonic_time ();
  play_to_end (win, session);
  ck_assert_msg (ft_window_open_path (win, path_b, FALSE, &error), "%s", error ? error->message : "");
  play_to_end (win, session);
  ck_assert (ft_window_open_path (win, path_a, FALSE, &error));
  ft_session_run_to (session, 25 * FT_MINUTE);
  gint64 until = g_get_monotonic_time () + 60 * G_USEC_PER_SEC;
  while (ft_session_get_time (session) < 25 * FT_MINUTE && g_get_monotonic_time () < until)
    ft_test_app_spin (0.05);
  ft_test_app_spin (0.3);
  ck_assert (ft_window_open_path (win, path_b, FALSE, &error));
  printf ("three runs: %.1f s\n", (g_get_monotonic_time () - t0) / 1e6);
  GPtrArray *arch = ft_session_get_archive (session);
  ck_assert_uint_eq (arch->len, 3);
  const FtRun *a = kept (session, 1), *b = kept (session, 2), *s = kept (session, 3);
  ck_assert (a->finished && b->finished && !s->finished);
  ck_assert (g_str_has_prefix (a->name, "Compare A · seed 7 · "));
  ck_assert (g_str_has_prefix (b->name, "Compare B · seed 7 · "));
  ck_assert_int_eq (s->kpis.sim_time, 25 * FT_MINUTE);
  ck_assert_uint_eq (b->kpis.n_vehicles, 450);

  FtResultsView *cmp = ft_results_view_new (GTK_WINDOW (win), session);
  gtk_window_set_default_size (GTK_WINDOW (cmp), 1280, 720);
  gtk_window_present (GTK_WINDOW (cmp));
  ft_test_app_spin (0.5);

  /* Only the finished runs, against the first; the stopped one named apart. */
  g_autofree char *text = ft_results_view_dup_text (cmp);
  ck_assert_uint_eq (ft_results_view_get_compared (cmp)->len, 2);
  ck_assert_uint_eq (compared (cmp, 0), 1);
  ck_assert_uint_eq (compared (cmp, 1), 2);
  ck_assert_uint_eq (ft_results_view_get_baseline (cmp), 1);
  ck_assert (contains (text, a->name));
  ck_assert (contains (text, b->name));
  g_autofree char *apart = g_strdup_printf ("Not compared (not finished): %s (stopped at 00:25 of 01:12)", s->name);
  ck_assert (contains (text, apart));
  ck_assert (contains (text, "⚠ unlike the baseline: other scenario (Compare B)"));
  ck_assert (strstr (text, "Run 1") == NULL);
  ck_assert (ft_results_view_get_name_label (cmp, 3) == NULL);
  check_colour (cmp, 2, "trips_served", (double) b->kpis.trips_served - (double) a->kpis.trips_served, TRUE);
  check_colour (cmp, 2, "trips_lost", (double) b->kpis.trips_lost - (double) a->kpis.trips_lost, FALSE);
  check_colour (cmp, 2, "revenue_minor", (double) (b->kpis.revenue_minor - a->kpis.revenue_minor), TRUE);
  check_colour (cmp, 2, "staff_km", b->kpis.staff_km - a->kpis.staff_km, FALSE);
  GtkWidget *fleet = ft_results_view_get_diff_label (cmp, 2, "vehicles");
  ck_assert_str_eq (gtk_label_get_text (GTK_LABEL (fleet)), "+150 (+50.0 %)");
  ck_assert (!gtk_widget_has_css_class (fleet, "ft-better") && !gtk_widget_has_css_class (fleet, "ft-worse"));
  ft_test_app_shot (GTK_WIDGET (cmp), "compare-runs.png");

  /* Include the stopped run: marked where it stopped, its length flagged. */
  ft_test_app_focus (GTK_WINDOW (cmp));
  ft_test_app_press (ft_test_app_find_check (GTK_WIDGET (cmp), "_Include runs stopped early"));
  g_free (text);
  text = ft_results_view_dup_text (cmp);
  ck_assert_uint_eq (ft_results_view_get_compared (cmp)->len, 3);
  ck_assert (contains (text, "stopped at 00:25 of 01:12 · seed 7"));
  ck_assert (contains (text, "other scenario") && contains (text, "0.02 days against 0.05"));
  ck_assert (strstr (text, "Not compared") == NULL);

  /* Another baseline: the differences turn round. */
  ft_test_app_press (ft_results_view_get_button (cmp, 2, "baseline"));
  ck_assert_uint_eq (ft_results_view_get_baseline (cmp), 2);
  ck_assert_uint_eq (ft_session_get_baseline (session), 2);
  ck_assert (ft_results_view_get_diff_label (cmp, 2, "trips_served") == NULL);
  check_colour (cmp, 1, "trips_served", (double) a->kpis.trips_served - (double) b->kpis.trips_served, TRUE);
  check_colour (cmp, 1, "trips_lost", (double) a->kpis.trips_lost - (double) b->kpis.trips_lost, FALSE);

  /* Rename run 1 in place; an empty name is refused and said. */
  GtkWidget *name = ft_results_view_get_name_label (cmp, 1);
  gtk_widget_grab_focus (name);
  gtk_editable_set_text (GTK_EDITABLE (name), "  small fleet ");
  ft_test_app_spin (0.1);
  ft_test_app_key (GDK_KEY_Return, 0);
  ft_test_app_spin (0.3);
  ck_assert_str_eq (kept (session, 1)->name, "small fleet");
  g_free (text);
  text = ft_results_view_dup_text (cmp);
  ck_assert (contains (text, "against the baseline, Compare B"));
  ck_assert_str_eq (gtk_editable_get_text (GTK_EDITABLE (ft_results_view_get_name_label (cmp, 1))), "small fleet");
  name = ft_results_view_get_name_label (cmp, 1);
  gtk_editable_set_text (GTK_EDITABLE (name), "   ");
  ft_test_app_key (GDK_KEY_Return, 0);
  ft_test_app_spin (0.3);
  printf ("empty name: %s\n", ft_results_view_get_status (cmp));
  ck_assert (contains (ft_results_view_get_status (cmp), "cannot be empty"));
  ck_assert_str_eq (kept (session, 1)->name, "small fleet");
  ck_assert_str_eq (gtk_editable_get_text (GTK_EDITABLE (ft_results_view_get_name_label (cmp, 1))), "small fleet");
  /* a name another run has is refused too */
  gtk_editable_set_text (GTK_EDITABLE (name), b->name);
  ft_test_app_key (GDK_KEY_Return, 0);
  ft_test_app_spin (0.3);
  printf ("taken name: %s\n", ft_results_view_get_status (cmp));
  ck_assert (contains (ft_results_view_get_status (cmp), "another run is named"));
  ck_assert_str_eq (kept (session, 1)->name, "small fleet");
  ck_assert (!ft_session_rename_run (session, 99, "x", &error));
  g_clear_error (&error);
  ft_test_app_shot (GTK_WIDGET (cmp), "compare-runs-partial.png");

  /* Export what is shown; a file that is not a comparison is left alone. */
  g_autofree char *csv = g_build_filename (tmp, "comparison.csv", NULL);
  ck_assert_msg (ft_results_view_export_csv (cmp, csv, &error), "%s", error ? error->message : "");
  g_autofree char *body = NULL;
  ck_assert (g_file_get_contents (csv, &body, NULL, NULL));
  g_auto(GStrv) lines = g_strsplit (body, "\n", -1);
  guint n_rows;
  ft_run_rows (&n_rows);
  ck_assert_uint_eq (g_strv_length (lines), 1 + 3 * n_rows + 1);
  ck_assert (contains (body, "1,\"small fleet\",\"Compare A\""));
  ck_assert (contains (body, ",trips_served,") && contains (body, ",baseline\n"));
  g_autofree char *notes = write_tmp (tmp, "notes.csv", "mine\n");
  ck_assert (!ft_results_view_export_csv (cmp, notes, &error));
  ck_assert (g_error_matches (error, FT_FILE_ERROR, FT_FILE_ERROR_NOT_OURS));
  g_clear_error (&error);
  g_autofree char *mine = NULL;
  ck_assert (g_file_get_contents (notes, &mine, NULL, NULL));
  ck_assert_str_eq (mine, "mine\n");

  /* Remove the stopped run. */
  ft_test_app_press (ft_results_view_get_button (cmp, 3, "remove"));
  ck_assert_uint_eq (arch->len, 2);
  ck_assert (ft_run_find (arch, 3) == NULL);
  ck_assert_uint_eq (ft_results_view_get_compared (cmp)->len, 2);
  ft_test_app_spin (1.0);

  gtk_window_destroy (GTK_WINDOW (cmp));
  ft_test_app_finish (fx);
  g_unlink (csv);
  g_unlink (notes);
  g_unlink (path_a);
  g_unlink (path_b);
  ck_assert_int_eq (g_rmdir (tmp), 0);
}
END_TEST

int
main (void)
{
  setvbuf (stdout, NULL, _IOLBF, 0);   /* keep what a failed test printed */
  Suite *s = suite_create ("compare");
  TCase *tc = tcase_create ("compare-runs");
  tcase_set_timeout (tc, 600);
  tcase_add_test (tc, test_compare_runs);
  suite_add_tcase (s, tc);
  SRunner *sr = srunner_create (s);
  srunner_run_all (sr, CK_NORMAL);
  int failed = srunner_ntests_failed (sr);
  srunner_free (sr);
  return failed ? 1 : 0;
}
