/* test-experiments.c — issue 16 in the app: the Experiments page, under
 * Xvfb, in process, driven with real clicks (XTEST).
 *
 * experiments: a bad variant is refused naming the key; a small whole-
 *   fleet experiment runs in the background with progress and draws each
 *   variant against the control; Cancel stops after the cell under way.
 * field-designs: with Rider, Zone and Switchback ticked, a variant the
 *   designs cannot split is refused naming the key and the design; then
 *   dynamic pricing on against off (2 replications of 0.1 days) runs each
 *   design's world beside the whole-fleet truth, and the Field Designs
 *   page shows each design's estimate, bias with its standard error, sd
 *   and rmse — the very numbers of ft_exp_report_field on the run's
 *   results file (the CLI report's) —, an interval chart of the estimates
 *   against the truth and the report's words.
 * window-sizes: the Experiments window and the other windows (main,
 *   Compare Runs, Dashboard, Damage Reviews, Shadow Models) open within a
 *   1366x720 screen less a panel (688 px), and cannot be forced taller.
 * Screenshots: experiments.png, experiments-field.png and
 * experiments-field-table.png (1280x720, scrolled to the table),
 * experiments-field-default.png (its default size), experiments-field-1024.png,
 * experiments-1366x720.png,
 * and window-<name>.png for each window (main included) at its default size.
 */
#include "ft-config.h"
#include "ft-test-app.h"
#include "ft-experiments-window.h"
#include "ft-exp-report.h"
#include "ft-dashboard-window.h"
#include "ft-results-view.h"
#include "ft-review-window.h"
#include "ft-shadow-window.h"
#include "ft-window.h"

#include <check.h>
#include <glib/gstdio.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

/* A 1366x720 screen less a top panel of 32 px. */
#define SCREEN_W 1366
#define SCREEN_H 688

static FtExperimentsWindow *
open_experiments (FtWindow *win)
{
  ck_assert (gtk_widget_activate_action (GTK_WIDGET (win), "win.experiments", NULL));
  FtExperimentsWindow *ew = (FtExperimentsWindow *) ft_test_app_find_window (FT_TYPE_EXPERIMENTS_WINDOW);
  ck_assert_msg (ew != NULL, "win.experiments opened no window");
  return ew;
}

static void
wait_run (FtExperimentsWindow *ew, double seconds)
{
  gint64 until = g_get_monotonic_time () + (gint64) (seconds * G_USEC_PER_SEC);
  while (ft_experiments_window_is_running (ew) && g_get_monotonic_time () < until)
    ft_test_app_spin (0.1);
  ck_assert_msg (!ft_experiments_window_is_running (ew), "the experiment still runs after %.0f s", seconds);
}

/* Issue 16 in the app: the Experiments page refuses a bad variant naming
 * the key, runs a small experiment in the background with progress and
 * draws each variant against the control. */
START_TEST (test_experiments)
{
  g_autoptr(GError) error = NULL;
  FtTestApp *fx = ft_test_app_start (NULL, NULL, 0, 0);
  FtWindow *win = fx->win;

  FtExperimentsWindow *ew = open_experiments (win);
  g_autofree char *text = ft_experiments_window_dup_text (ew);
  ck_assert_msg (strstr (text, "demo-city-phase1.scenario") != NULL, "the base is not the open scenario:\n%s", text);

  /* Bad input: an unknown key, then a value the scenario refuses. */
  ck_assert (!ft_experiments_window_add_override (ew, "more", "fleet.wings", "3", &error));
  printf ("unknown key: %s\n", error->message);
  ck_assert (strstr (error->message, "fleet.wings") != NULL);
  g_clear_error (&error);
  ck_assert_uint_eq (ft_experiments_window_get_n_variants (ew), 1);
  ck_assert (ft_experiments_window_add_override (ew, "more", "fleet.scooters", "lots", &error));
  ck_assert (!ft_experiments_window_run (ew));
  printf ("bad value: %s\n", ft_experiments_window_get_status (ew));
  ck_assert (strstr (ft_experiments_window_get_status (ew), "scooters") != NULL);
  ck_assert (!ft_experiments_window_is_running (ew));
  ft_test_app_focus (GTK_WINDOW (ew));
  ft_test_app_press (ft_test_app_find_button (GTK_WIDGET (ew), "_Remove Variants"));
  ck_assert_uint_eq (ft_experiments_window_get_n_variants (ew), 1);

  /* A small experiment: 2 replications x 2 variants of 0.02 days. */
  ck_assert (ft_experiments_window_add_override (ew, "more scooters", "fleet.scooters", "1400", &error));
  ft_experiments_window_set_replications (ew, 2);
  ft_experiments_window_set_days (ew, 0.02);
  gint64 t0 = g_get_monotonic_time ();
  ft_test_app_press (ft_test_app_find_button (GTK_WIDGET (ew), "R_un"));
  ck_assert_msg (ft_experiments_window_is_running (ew), "%s", ft_experiments_window_get_status (ew));
  gint64 until = g_get_monotonic_time () + 300 * G_USEC_PER_SEC;
  while (ft_experiments_window_is_running (ew) && g_get_monotonic_time () < until)
    ft_test_app_spin (0.1);
  printf ("experiment: %s (%.1f s)\n", ft_experiments_window_get_status (ew),
          (g_get_monotonic_time () - t0) / 1e6);
  ck_assert (!ft_experiments_window_is_running (ew));
  ck_assert (ft_experiments_window_get_progress (ew) == 1.0);
  /* 1 variant x 5 metrics, less any metric the report could not compare */
  ck_assert_uint_ge (ft_experiments_window_get_n_results (ew), 1);
  ck_assert_uint_le (ft_experiments_window_get_n_results (ew), 5);
  /* the intervals in words too, each metric named */
  printf ("results:\n%s\n", ft_experiments_window_get_results_text (ew));
  ck_assert (strstr (ft_experiments_window_get_results_text (ew), "more scooters · trips_served: ") != NULL);
  ck_assert (strstr (ft_experiments_window_get_results_text (ew), "95 % t interval") != NULL);
  gtk_window_set_default_size (GTK_WINDOW (ew), 1280, 720);
  ft_test_app_spin (0.3);
  g_autoptr(GdkTexture) shot = ft_test_app_shot (GTK_WIDGET (ew), "experiments.png");
  g_clear_object (&shot);

  /* Cancel stops after the cell under way and compares nothing. */
  ft_experiments_window_set_replications (ew, 6);
  ft_test_app_press (ft_test_app_find_button (GTK_WIDGET (ew), "R_un"));
  ck_assert (ft_experiments_window_is_running (ew));
  ft_test_app_press (ft_test_app_find_button (GTK_WIDGET (ew), "_Cancel"));
  until = g_get_monotonic_time () + 120 * G_USEC_PER_SEC;
  while (ft_experiments_window_is_running (ew) && g_get_monotonic_time () < until)
    ft_test_app_spin (0.1);
  printf ("cancelled: %s\n", ft_experiments_window_get_status (ew));
  ck_assert (!ft_experiments_window_is_running (ew));
  ck_assert (strstr (ft_experiments_window_get_status (ew), "Cancelled after ") != NULL);
  ck_assert (strstr (ft_experiments_window_get_status (ew), " of 12 cells") != NULL);
  ck_assert (ft_experiments_window_get_progress (ew) < 1.0);
  gtk_window_destroy (GTK_WINDOW (ew));
  ft_test_app_finish (fx);
}
END_TEST


#define FIELD_BASE                                                                                 \
  "[scenario]\nname=Field base\ncity=demo\ndays=1\nseed=11\n"                                      \
  "[fleet]\nscooters=300\nbikes=0\nmopeds=0\ninitial_soc_min=0.4\ninitial_soc_max=0.9\n"           \
  "[demand]\nrequests_per_day=6000\n"                                                              \
  "[staff]\nfield_staff=3\ndispatchers=1\nshift_hours=12\nshift_starts=00:00\n"

/* The text of cell (row, col) is the library's number for that row. */
static void
check_cell (FtExperimentsWindow *ew, guint row, guint col, const char *fmt, double v)
{
  g_autofree char *want = g_strdup_printf (fmt, v);
  const char *got = ft_experiments_window_get_field_cell (ew, row, col);
  ck_assert_msg (got != NULL, "no cell %u,%u", row, col);
  ck_assert_msg (g_str_equal (got, want), "row %u column %u shows \"%s\", the report has \"%s\"", row, col, got,
                 want);
}

/* Every wrapping label on screen ends inside each scrolled window that
 * holds it (so its text wraps to the pane, not beyond its edge). */
static guint
assert_wrapped_inside (GtkWidget *root, GtkWidget *win)
{
  guint n = 0;
  if (GTK_IS_LABEL (root) && gtk_label_get_wrap (GTK_LABEL (root)) && gtk_widget_get_mapped (root)
      && *gtk_label_get_text (GTK_LABEL (root)))
    {
      graphene_rect_t r;
      ck_assert (gtk_widget_compute_bounds (root, win, &r));
      for (GtkWidget *p = gtk_widget_get_parent (root); p && p != win; p = gtk_widget_get_parent (p))
        if (GTK_IS_SCROLLED_WINDOW (p))
          {
            graphene_rect_t b;
            ck_assert (gtk_widget_compute_bounds (p, win, &b));
            ck_assert_msg (r.origin.x + r.size.width <= b.origin.x + b.size.width + 1,
                           "\"%.40s…\" runs to x %.0f, past its pane's edge at x %.0f",
                           gtk_label_get_text (GTK_LABEL (root)), r.origin.x + r.size.width,
                           b.origin.x + b.size.width);
          }
      n++;
    }
  for (GtkWidget *c = gtk_widget_get_first_child (root); c; c = gtk_widget_get_next_sibling (c))
    n += assert_wrapped_inside (c, win);
  return n;
}

/* Scrolls every mapped vertical scroller under root to its end, as a
 * person reading down the page would. */
static void
scroll_to_end (GtkWidget *root)
{
  if (GTK_IS_SCROLLED_WINDOW (root) && gtk_widget_get_mapped (root))
    {
      GtkAdjustment *a = gtk_scrolled_window_get_vadjustment (GTK_SCROLLED_WINDOW (root));
      gtk_adjustment_set_value (a, gtk_adjustment_get_upper (a) - gtk_adjustment_get_page_size (a));
    }
  for (GtkWidget *c = gtk_widget_get_first_child (root); c; c = gtk_widget_get_next_sibling (c))
    scroll_to_end (c);
}

START_TEST (test_field_designs)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *tmp = g_dir_make_tmp ("ft-field-app-XXXXXX", &error);
  ck_assert (tmp != NULL);
  g_autofree char *base = g_build_filename (tmp, "field-base.scenario", NULL);
  ck_assert (g_file_set_contents (base, FIELD_BASE, -1, &error));
  FtTestApp *fx = ft_test_app_start (NULL, NULL, 0, 0);
  FtExperimentsWindow *ew = open_experiments (fx->win);
  ft_experiments_window_set_base (ew, base);
  ft_experiments_window_set_replications (ew, 2);
  ft_experiments_window_set_days (ew, 0.1);
  ft_experiments_window_set_slice_min (ew, 30);
  ft_test_app_focus (GTK_WINDOW (ew));

  /* The three designs ticked as a person would. */
  const char *boxes[] = { "R_ider", "_Zone", "S_witchback" };
  for (guint i = 0; i < G_N_ELEMENTS (boxes); i++)
    {
      GtkWidget *b = ft_test_app_find_check (GTK_WIDGET (ew), boxes[i]);
      ck_assert_msg (b != NULL, "no %s check box", boxes[i]);
      ft_test_app_press (b);
      ck_assert_msg (gtk_check_button_get_active (GTK_CHECK_BUTTON (b)), "%s is not ticked", boxes[i]);
    }
  g_autofree char *text = ft_experiments_window_dup_text (ew);
  ck_assert_msg (strstr (text, "design=rider, zone, switchback\n") != NULL, "%s", text);
  ck_assert_msg (strstr (text, "[field]\nslice_min=30\n") != NULL, "%s", text);

  /* A variant no design can split: refused, naming the key and the design. */
  ck_assert (ft_experiments_window_add_override (ew, "bigger", "fleet.scooters", "400", &error));
  ck_assert (!ft_experiments_window_run (ew));
  printf ("cannot split: %s\n", ft_experiments_window_get_status (ew));
  ck_assert (strstr (ft_experiments_window_get_status (ew), "fleet.scooters") != NULL);
  ck_assert (strstr (ft_experiments_window_get_status (ew), "rider design") != NULL);
  ck_assert (!ft_experiments_window_is_running (ew));
  ck_assert_uint_eq (ft_experiments_window_get_n_field_rows (ew), 0);
  ft_test_app_press (ft_test_app_find_button (GTK_WIDGET (ew), "_Remove Variants"));

  /* Dynamic pricing on against off: 2 x (2 variants + 3 design worlds). */
  ck_assert (ft_experiments_window_add_override (ew, "pricing on", "dynamic_pricing.policy", "utilisation", &error));
  gint64 t0 = g_get_monotonic_time ();
  ft_test_app_press (ft_test_app_find_button (GTK_WIDGET (ew), "R_un"));
  ck_assert_msg (ft_experiments_window_is_running (ew), "%s", ft_experiments_window_get_status (ew));
  ck_assert (strstr (ft_experiments_window_get_status (ew), "10 cells") != NULL);
  wait_run (ew, 300);
  printf ("field experiment: %s (%.1f s)\n", ft_experiments_window_get_status (ew),
          (g_get_monotonic_time () - t0) / 1e6);
  ck_assert (ft_experiments_window_get_progress (ew) == 1.0);
  ck_assert_str_eq (ft_experiments_window_get_page (ew), "field");

  /* The table is the report's: the same rows, the same numbers. */
  g_autoptr(FtExpResults) r = ft_exp_results_open (ft_experiments_window_get_results_path (ew), &error);
  ck_assert_msg (r != NULL, "%s", error ? error->message : "");
  g_autoptr(GPtrArray) fb = ft_exp_report_field (r, &error);
  ck_assert_msg (fb != NULL, "%s", error ? error->message : "");
  /* 3 designs x 1 treated variant x the 4 metrics a design measures */
  ck_assert_uint_eq (fb->len, 3 * 4);
  ck_assert_uint_eq (ft_experiments_window_get_n_field_rows (ew), fb->len);
  for (guint i = 0; i < fb->len; i++)
    {
      const FtExpFieldBias *b = fb->pdata[i];
      ck_assert_str_eq (ft_experiments_window_get_field_cell (ew, i, 0), b->design);
      ck_assert_str_eq (b->variant, "pricing on");
      ck_assert_str_eq (ft_experiments_window_get_field_cell (ew, i, 1), b->metric);
      ck_assert_uint_eq (b->n, 2);
      check_cell (ew, i, 2, "%.0f", b->n);
      check_cell (ew, i, 3, "%+.4g", b->truth_mean);
      check_cell (ew, i, 4, "%+.4g", b->est_mean);
      check_cell (ew, i, 5, "%.4g", b->est_sd);
      check_cell (ew, i, 6, "%+.4g", b->bias);
      check_cell (ew, i, 7, "%.4g", b->bias_se);
      check_cell (ew, i, 8, "%.4g", b->rmse);
      ck_assert (isfinite (b->truth_mean) && isfinite (b->est_mean) && isfinite (b->rmse));
      const char *verdict = ft_experiments_window_get_field_cell (ew, i, 9);
      ck_assert_str_eq (verdict, b->verdict == FT_EXP_FIELD_BIASED ? "biased" : "no bias shown");
      printf ("%-10s %-14s truth %+9.4g estimate %+9.4g bias %+9.4g se %8.4g rmse %8.4g %s\n", b->design, b->metric,
              b->truth_mean, b->est_mean, b->bias, b->bias_se, b->rmse, verdict);
    }

  /* In words, for the metric shown; another metric on request. */
  const char *words = ft_experiments_window_get_field_text (ew);
  printf ("words:\n%s\n", words);
  ck_assert (strstr (words, "Truth: the whole-fleet effect") != NULL);
  ck_assert (strstr (words, "rider design (pricing on, trips_requested)") != NULL);
  ck_assert (strstr (words, "switchback design (pricing on, trips_requested)") != NULL);
  ck_assert (strstr (words, "revenue_minor") == NULL);
  ck_assert (ft_experiments_window_set_field_metric (ew, "revenue_minor"));
  ck_assert (!ft_experiments_window_set_field_metric (ew, "staff_hours"));   /* no design measures it */
  words = ft_experiments_window_get_field_text (ew);
  for (guint i = 0; i < fb->len; i++)
    {
      const FtExpFieldBias *b = fb->pdata[i];
      if (!g_str_equal (b->metric, "revenue_minor"))
        continue;
      g_autofree char *say = ft_exp_field_bias_describe (b);
      ck_assert_msg (strstr (words, say) != NULL, "the page does not say \"%s\"", say);
    }
  ft_test_app_spin (0.3);
  g_autoptr(GdkTexture) shot = ft_test_app_shot (GTK_WIDGET (ew), "experiments-field-default.png");
  g_clear_object (&shot);
  ck_assert_uint_ge (assert_wrapped_inside (GTK_WIDGET (ew), GTK_WIDGET (ew)), 3);
  /* narrower than the table: the words still wrap to the pane (the table scrolls sideways) */
  gtk_window_set_default_size (GTK_WINDOW (ew), 1024, 640);
  ft_test_app_spin (0.5);
  shot = ft_test_app_shot (GTK_WIDGET (ew), "experiments-field-1024.png");
  g_clear_object (&shot);
  assert_wrapped_inside (GTK_WIDGET (ew), GTK_WIDGET (ew));
  gtk_window_set_default_size (GTK_WINDOW (ew), 1280, 720);
  ft_test_app_spin (0.5);
  shot = ft_test_app_shot (GTK_WIDGET (ew), "experiments-field.png");
  g_clear_object (&shot);
  assert_wrapped_inside (GTK_WIDGET (ew), GTK_WIDGET (ew));
  scroll_to_end (GTK_WIDGET (ew));
  ft_test_app_spin (0.3);
  shot = ft_test_app_shot (GTK_WIDGET (ew), "experiments-field-table.png");
  g_clear_object (&shot);
  gtk_window_set_default_size (GTK_WINDOW (ew), SCREEN_W, 720);
  ft_test_app_spin (0.5);
  shot = ft_test_app_shot (GTK_WIDGET (ew), "experiments-1366x720.png");
  ck_assert_int_le (gdk_texture_get_height (shot), 720);
  g_clear_object (&shot);

  /* The whole-fleet comparison is still there on its page. */
  ft_experiments_window_set_page (ew, "control");
  ck_assert (strstr (ft_experiments_window_get_results_text (ew), "pricing on · trips_served: ") != NULL);

  gtk_window_destroy (GTK_WINDOW (ew));
  ft_test_app_finish (fx);
  g_unlink (base);
  ck_assert_int_eq (g_rmdir (tmp), 0);
}
END_TEST

/* Opens a window through its action and checks it fits the screen at its
 * default size, and that its content does not ask for more. */
static void
check_fits (FtWindow *win, const char *action, GType type, const char *name)
{
  ck_assert (gtk_widget_activate_action (GTK_WIDGET (win), action, NULL));
  GtkWidget *w = ft_test_app_find_window (type);
  ck_assert_msg (w != NULL, "%s opened no window", action);
  ft_test_app_spin (0.5);
  int dw = 0, dh = 0, min_h = 0, min_w = 0;
  gtk_window_get_default_size (GTK_WINDOW (w), &dw, &dh);
  gtk_widget_measure (w, GTK_ORIENTATION_VERTICAL, -1, &min_h, NULL, NULL, NULL);
  gtk_widget_measure (w, GTK_ORIENTATION_HORIZONTAL, -1, &min_w, NULL, NULL, NULL);
  g_autofree char *file = g_strdup_printf ("window-%s.png", name);
  g_autoptr(GdkTexture) shot = ft_test_app_shot (w, file);
  printf ("%-12s default %dx%d, minimum %dx%d, on screen %dx%d\n", name, dw, dh, min_w, min_h,
          gdk_texture_get_width (shot), gdk_texture_get_height (shot));
  ck_assert_msg (dw <= SCREEN_W && dh <= SCREEN_H, "%s: default size %dx%d is larger than %dx%d", name, dw, dh,
                 SCREEN_W, SCREEN_H);
  ck_assert_msg (min_w <= SCREEN_W && min_h <= SCREEN_H, "%s: its content needs %dx%d, more than %dx%d", name,
                 min_w, min_h, SCREEN_W, SCREEN_H);
  ck_assert_msg (gdk_texture_get_height (shot) <= SCREEN_H, "%s is %d px tall on screen", name,
                 gdk_texture_get_height (shot));
  if (w != GTK_WIDGET (win))
    gtk_window_destroy (GTK_WINDOW (w));
  ft_test_app_spin (0.2);
}

START_TEST (test_window_sizes)
{
  FtTestApp *fx = ft_test_app_start (NULL, NULL, 0, 0);
  int dw = 0, dh = 0, min_h = 0;
  gtk_window_get_default_size (GTK_WINDOW (fx->win), &dw, &dh);
  gtk_widget_measure (GTK_WIDGET (fx->win), GTK_ORIENTATION_VERTICAL, -1, &min_h, NULL, NULL, NULL);
  printf ("main         default %dx%d, minimum height %d\n", dw, dh, min_h);
  ck_assert_msg (dw <= SCREEN_W && dh <= SCREEN_H, "the main window's default size %dx%d", dw, dh);
  ck_assert_msg (min_h <= SCREEN_H, "the main window needs %d px", min_h);
  ft_test_app_spin (1.0);
  g_autoptr(GdkTexture) shot = ft_test_app_shot (GTK_WIDGET (fx->win), "window-main.png");
  ck_assert_int_le (gdk_texture_get_height (shot), SCREEN_H);
  check_fits (fx->win, "win.experiments", FT_TYPE_EXPERIMENTS_WINDOW, "experiments");
  check_fits (fx->win, "win.compare-runs", FT_TYPE_RESULTS_VIEW, "compare-runs");
  check_fits (fx->win, "win.dashboard", FT_TYPE_DASHBOARD_WINDOW, "dashboard");
  check_fits (fx->win, "win.review-queue", FT_TYPE_REVIEW_WINDOW, "review-queue");
  check_fits (fx->win, "win.shadow-models", FT_TYPE_SHADOW_WINDOW, "shadow-models");
  ft_test_app_finish (fx);
}
END_TEST

int
main (void)
{
  setvbuf (stdout, NULL, _IOLBF, 0);   /* keep what a failed test printed */
  Suite *s = suite_create ("experiments");
  TCase *tc = tcase_create ("experiments");
  tcase_set_timeout (tc, 400);
  tcase_add_test (tc, test_experiments);
  suite_add_tcase (s, tc);
  tc = tcase_create ("field-designs");
  tcase_set_timeout (tc, 400);
  tcase_add_test (tc, test_field_designs);
  suite_add_tcase (s, tc);
  tc = tcase_create ("window-sizes");
  tcase_set_timeout (tc, 120);
  tcase_add_test (tc, test_window_sizes);
  suite_add_tcase (s, tc);
  SRunner *sr = srunner_create (s);
  srunner_run_all (sr, CK_NORMAL);
  int failed = srunner_ntests_failed (sr);
  srunner_free (sr);
  return failed ? 1 : 0;
}
