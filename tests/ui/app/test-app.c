/* test-app.c — the desktop app under Xvfb, in process.
 *
 * demo-hour: the app starts on Demo City with the Phase 1 scenario, runs a
 *   simulated hour, and a screenshot (widget → GskRenderer → texture → PNG)
 *   must show map tiles (many colours, no transparent holes), vehicles
 *   (pixels in the vehicle colours) and a visible, drawn KPI panel.
 * dispatch-swap: low-battery vehicles are selected on the map, swap tasks
 *   are created through the dispatch path, and simulated staff complete
 *   them: battery up, task done, TASK_DONE events logged.
 * scenario-roundtrip: the editor's writer output parses back identically.
 * The PNGs go to $FT_SHOTS_DIR (default: the current directory).
 */
#include "ft-config.h"
#include "ft-test-app.h"
#include "ft-application.h"
#include "ft-scenario-editor.h"
#include "ft-screenshot.h"
#include "ft-window.h"

#include <check.h>
#include <glib/gstdio.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

static FtWindow *
start_app (FtApplication **app_out, FtSimScenario *sc)
{
  gtk_init ();
  FtApplication *app = ft_application_new ();
  g_autoptr(GError) error = NULL;
  ck_assert_msg (g_application_register (G_APPLICATION (app), NULL, &error), "%s",
                 error ? error->message : "");
  g_autoptr(FtSession) session = ft_session_new ();
  gint64 t0 = g_get_monotonic_time ();
  ck_assert_msg (ft_session_load (session, sc, NULL, &error), "%s", error ? error->message : "");
  printf ("session load (city, world, first snapshot): %.0f ms\n", (g_get_monotonic_time () - t0) / 1000.0);
  ck_assert_msg (ft_session_get_tiles_path (session) != NULL, "Demo City tiles were not found (build data/demo-city.mbtiles)");
  FtWindow *win = ft_window_new (GTK_APPLICATION (app), session);
  gtk_window_set_default_size (GTK_WINDOW (win), 1280, 800);
  gtk_window_present (GTK_WINDOW (win));
  *app_out = app;
  return win;
}

/* Waits until the map shows tiles everywhere; returns ms waited or -1. */
static double
wait_for_map (FtWindow *win, double timeout_s)
{
  gint64 t0 = g_get_monotonic_time ();
  while ((g_get_monotonic_time () - t0) < timeout_s * G_USEC_PER_SEC)
    {
      ft_test_app_spin (0.05);
      g_autoptr(GdkTexture) shot = ft_screenshot_widget (GTK_WIDGET (ft_window_get_map (win)));
      if (shot == NULL)
        continue;
      FtPixelStats st;
      ft_screenshot_stats (shot, 0, 0, 0, 0, &st);
      if (st.n_transparent < st.width * st.height / 200 && st.n_colours > 20)
        return (g_get_monotonic_time () - t0) / 1000.0;
    }
  return -1;
}

static double
mean_luma (GdkTexture *tex)
{
  int w = gdk_texture_get_width (tex), h = gdk_texture_get_height (tex);
  g_autofree guint8 *d = g_malloc ((gsize) w * h * 4);
  gdk_texture_download (tex, d, (gsize) w * 4);
  double sum = 0;
  for (gsize i = 0; i < (gsize) w * h; i++)
    {
      guint32 p = ((guint32 *) d)[i];
      sum += 0.299 * ((p >> 16) & 0xff) + 0.587 * ((p >> 8) & 0xff) + 0.114 * (p & 0xff);
    }
  return sum / ((double) w * h);
}

static FtSimScenario *
load_phase1 (void)
{
  g_autofree char *p = g_build_filename (FT_SOURCE_DIR, "scenarios", "demo-city-phase1.scenario", NULL);
  g_autoptr(GError) error = NULL;
  FtSimScenario *sc = ft_sim_scenario_load (p, &error);
  ck_assert_msg (sc != NULL, "%s", error ? error->message : "");
  return sc;
}

START_TEST (test_demo_hour)
{
  gint64 t_start = g_get_monotonic_time ();
  FtApplication *app;
  FtWindow *win = start_app (&app, load_phase1 ());
  FtSession *session = ft_window_get_session (win);
  double map_ms = wait_for_map (win, 20);
  ck_assert_msg (map_ms >= 0, "the map never showed tiles everywhere");
  printf ("window presented to map drawn: %.0f ms\n", map_ms);
  printf ("start-up to a drawn map: %.0f ms (session + window + tiles)\n",
          (g_get_monotonic_time () - t_start) / 1000.0);

  ft_session_run_to (session, FT_HOUR);
  gint64 deadline = g_get_monotonic_time () + 240 * G_USEC_PER_SEC;
  while (ft_session_get_time (session) < FT_HOUR && g_get_monotonic_time () < deadline)
    ft_test_app_spin (0.05);
  ck_assert_msg (ft_session_get_time (session) >= FT_HOUR, "simulation stalled at %" G_GINT64_FORMAT " ms",
                 ft_session_get_time (session));
  ft_test_app_spin (0.6);   /* labels and charts refresh at 4 Hz */
  ck_assert (wait_for_map (win, 10) >= 0);

  g_autoptr(GdkTexture) shot = ft_screenshot_widget (GTK_WIDGET (win));
  ck_assert (shot != NULL);
  g_autofree char *path = ft_test_app_shot_path ("app-demo-city-1h.png");
  ck_assert (gdk_texture_save_to_png (shot, path));
  printf ("screenshot: %s (%dx%d)\n", path, gdk_texture_get_width (shot), gdk_texture_get_height (shot));

  /* Tiles: the map area is not blank and not one colour. */
  g_autoptr(GdkTexture) map_shot = ft_screenshot_widget (GTK_WIDGET (ft_window_get_map (win)));
  FtPixelStats st;
  ft_screenshot_stats (map_shot, 0, 0, 0, 0, &st);
  printf ("map: %ux%u, %u colours, top colour %.1f %%, %u transparent\n", st.width, st.height,
          st.n_colours, st.top_share * 100, st.n_transparent);
  ck_assert_msg (st.n_colours > 20 && st.top_share < 0.95 && st.n_transparent < st.width * st.height / 200,
                 "the map looks blank");

  /* Vehicles: pixels in the vehicle colours, and the layer says it drew some. */
  guint vpx = ft_screenshot_count_rgb (map_shot, ft_dot_rgb, FT_N_DOTS);
  guint drawn = ft_vehicle_layer_get_n_drawn (ft_window_get_vehicle_layer (win));
  printf ("vehicles: %u drawn by the layer, %u vehicle-coloured pixels\n", drawn, vpx);
  ck_assert_msg (drawn > 0 && vpx > 0, "no vehicle is drawn");

  /* KPI panel: mapped, sized, and its charts drew something. */
  GtkWidget *kpi = ft_window_get_kpi_panel (win);
  ck_assert (gtk_widget_get_mapped (kpi));
  ck_assert (gtk_widget_get_width (kpi) > 100 && gtk_widget_get_height (kpi) > 200);
  g_autoptr(GdkTexture) kpi_shot = ft_screenshot_widget (kpi);
  FtPixelStats ks;
  ft_screenshot_stats (kpi_shot, 0, 0, 0, 0, &ks);
  ck_assert_msg (ks.n_colours > 10, "the KPI panel is empty");
  /* The dark style: the KPI panel must get darker. */
  double light = mean_luma (shot);
  g_object_set (gtk_settings_get_default (), "gtk-application-prefer-dark-theme", TRUE, NULL);
  ft_test_app_spin (0.5);
  g_autoptr(GdkTexture) dark_shot = ft_test_app_shot (GTK_WIDGET (win), "app-demo-city-1h-dark.png");
  double dark = mean_luma (dark_shot);
  printf ("window mean luma: light %.0f, dark %.0f\n", light, dark);
  ck_assert_msg (dark < light - 25, "the dark style did not apply");
  g_object_set (gtk_settings_get_default (), "gtk-application-prefer-dark-theme", FALSE, NULL);

  GArray *hist = ft_session_get_history (session);
  ck_assert_msg (hist->len >= 10, "only %u KPI samples", hist->len);
  const FtSimKpis *k = ft_session_get_kpis (session);
  printf ("after 1 h: %" G_GUINT64_FORMAT " trips requested, %" G_GUINT64_FORMAT " served, %" G_GUINT64_FORMAT " lost\n",
          k->trips_requested, k->trips_served, k->trips_lost);
  ft_test_app_stop (app, win);
}
END_TEST

static const char *dispatch_scenario =
  "[scenario]\nname=Dispatch test\ncity=demo\ndays=1\nseed=7\n"
  "[fleet]\nscooters=300\nbikes=0\nmopeds=0\ninitial_soc_min=0.05\ninitial_soc_max=0.4\n"
  "[demand]\nrequests_per_day=300\n"
  "[staff]\nfield_staff=6\ndispatchers=1\nshift_hours=12\nshift_starts=00:00\n"
  "[rules]\nswap_threshold_soc=0.0\n"
  "[features]\nrebalancing=false\nfault_collection=false\n";

typedef struct {
  GArray  *vehicles;     /* in */
  guint    done, open, other;
  double   min_soc;
  guint64  task_done_events, swap_events;
  gint32   dispatcher;
} Audit;

static char *
audit_job (FtSimWorld *w, gpointer data)
{
  Audit *a = data;
  FtCore *core = ft_sim_world_get_core (w);
  FtOps *ops = ft_sim_world_get_ops (w);
  a->dispatcher = ft_sim_world_dispatcher (w);
  a->done = a->open = a->other = 0;
  a->min_soc = 1;
  for (guint i = 0; i < a->vehicles->len; i++)
    {
      guint v = g_array_index (a->vehicles, guint, i);
      gboolean found = FALSE;
      for (guint t = 0; t < ft_ops_n (ops); t++)
        {
          const FtTask *task = ft_ops_get (ops, t);
          if (task->vehicle != (gint32) v || task->kind != FT_TASK_BATTERY_SWAP || task->created_by != a->dispatcher)
            continue;
          found = TRUE;
          if (task->state == FT_TASK_DONE)
            a->done++;
          else if (task->state == FT_TASK_CANCELLED)
            a->other++;
          else
            a->open++;
        }
      if (found)
        a->min_soc = MIN (a->min_soc, ft_fleet_soc (core->fleet, v));
    }
  a->task_done_events = ft_event_log_count (core->log, FT_EV_TASK_DONE);
  return NULL;
}

START_TEST (test_dispatch_swap)
{
  g_autoptr(GError) error = NULL;
  FtSimScenario *sc = ft_sim_scenario_parse (dispatch_scenario, -1, "dispatch test", &error);
  ck_assert_msg (sc != NULL, "%s", error ? error->message : "");
  FtApplication *app;
  FtWindow *win = start_app (&app, sc);
  FtSession *session = ft_window_get_session (win);
  ck_assert (wait_for_map (win, 20) >= 0);
  ShumateViewport *vp = shumate_map_get_viewport (ft_window_get_map (win));
  shumate_viewport_set_zoom_level (vp, 13);   /* the whole city in view */
  ft_test_app_spin (0.3);

  /* Only staff roles may dispatch. */
  ft_session_set_role (session, FT_ROLE_VIEW_RIDER);
  FtVehicleLayer *layer = ft_window_get_vehicle_layer (win);
  guint n_sel = ft_window_select_low_battery (win);
  ck_assert_msg (n_sel >= 3, "only %u low-battery vehicles in view", n_sel);
  ck_assert_uint_eq (ft_window_dispatch_selection (win, FT_TASK_BATTERY_SWAP, -1, &error), 0);
  ck_assert (error != NULL && strstr (error->message, "staff roles") != NULL);
  g_clear_error (&error);

  ft_session_set_role (session, FT_ROLE_VIEW_DISPATCHER);
  g_autoptr(GArray) sel = ft_vehicle_layer_dup_selection (layer);
  guint created = ft_window_dispatch_selection (win, FT_TASK_BATTERY_SWAP, -1, &error);
  printf ("dispatch: %u selected, %u swap tasks created%s%s\n", sel->len, created,
          error ? "; refused: " : "", error ? error->message : "");
  ck_assert_msg (created >= 3, "only %u tasks created", created);
  g_clear_error (&error);

  Audit a = { sel, 0 };
  g_free (ft_session_run_job_sync (session, audit_job, &a));
  guint64 done_before = a.task_done_events;
  ck_assert_uint_eq (a.open, created);

  /* Staff work through the queue. */
  FtTime until = ft_session_get_time (session);
  for (int h = 0; h < 12 && a.done < created; h++)
    {
      until += FT_HOUR;
      ft_session_run_to (session, until);
      gint64 deadline = g_get_monotonic_time () + 120 * G_USEC_PER_SEC;
      while (ft_session_get_time (session) < until && g_get_monotonic_time () < deadline)
        ft_test_app_spin (0.05);
      g_free (ft_session_run_job_sync (session, audit_job, &a));
    }
  printf ("after %.1f h: %u done, %u open, %u cancelled; lowest battery of those vehicles %.0f %%; "
          "TASK_DONE events %" G_GUINT64_FORMAT " -> %" G_GUINT64_FORMAT "\n",
          ft_session_get_time (session) / 3600000.0, a.done, a.open, a.other, a.min_soc * 100,
          done_before, a.task_done_events);
  ck_assert_uint_eq (a.done, created);
  ck_assert (a.min_soc > 0.5);
  ck_assert (a.task_done_events >= done_before + created);

  ft_test_app_spin (0.5);
  g_autoptr(GdkTexture) shot = ft_test_app_shot (GTK_WIDGET (win), "app-dispatch-after.png");
  ft_test_app_stop (app, win);
}
END_TEST

static void
rider (FtWindow *win, const char *action, const char *expect)
{
  ck_assert (gtk_widget_activate_action (GTK_WIDGET (win), action, NULL));
  const char *text = ft_window_get_rider_text (win);
  printf ("%s: %s\n", action, text);
  ck_assert_msg (strstr (text, expect) != NULL, "%s: expected “%s” in “%s”", action, expect, text);
}

START_TEST (test_rider_view)
{
  FtApplication *app;
  FtWindow *win = start_app (&app, load_phase1 ());
  FtSession *session = ft_window_get_session (win);
  ck_assert (wait_for_map (win, 20) >= 0);
  ft_session_set_role (session, FT_ROLE_VIEW_RIDER);
  /* Stand next to an available vehicle with a good battery. */
  FtFrame *f = ft_session_get_frame (session);
  int pick = -1;
  for (guint i = 0; i < f->n_vehicles && pick < 0; i++)
    if (f->vehicles[i].dot == FT_DOT_AVAILABLE_HIGH)
      pick = (int) i;
  ck_assert (pick >= 0);
  FtLatLon here = ft_mercator_to_latlon (f->vehicles[pick].mx, f->vehicles[pick].my);
  ft_window_set_marker (win, here);
  rider (win, "win.rider-find", "walk");
  rider (win, "win.rider-reserve", "Reserved");
  rider (win, "win.rider-unlock", "Unlocked");
  ft_session_run_to (session, ft_session_get_time (session) + 12 * FT_MINUTE);
  FtTime until = ft_session_get_time (session) + 12 * FT_MINUTE;
  gint64 deadline = g_get_monotonic_time () + 60 * G_USEC_PER_SEC;
  while (ft_session_get_time (session) < until - FT_MINUTE && g_get_monotonic_time () < deadline)
    ft_test_app_spin (0.05);
  /* Ride about 1.2 km north-east and end there. */
  FtLatLon there = { here.lat + 0.007, here.lon + 0.008 };
  ft_window_set_marker (win, there);
  ck_assert (gtk_widget_activate_action (GTK_WIDGET (win), "win.rider-end", NULL));
  const char *receipt = ft_window_get_rider_text (win);
  printf ("receipt: %s\n", receipt);
  if (strstr (receipt, "Cannot end here") != NULL)
    {
      /* A no-parking zone: try a few other spots like a rider would. */
      for (int k = 1; k <= 6 && strstr (ft_window_get_rider_text (win), "Receipt") == NULL; k++)
        {
          FtLatLon p = { here.lat + 0.002 * k, here.lon - 0.003 * k };
          ft_window_set_marker (win, p);
          gtk_widget_activate_action (GTK_WIDGET (win), "win.rider-end", NULL);
        }
      receipt = ft_window_get_rider_text (win);
    }
  ck_assert_msg (strstr (receipt, "Receipt") && strstr (receipt, "Total"), "no receipt: %s", receipt);
  ft_test_app_stop (app, win);
}
END_TEST

/* The secondary windows open (and close) without warnings. */
START_TEST (test_dialogs)
{
  FtApplication *app;
  FtWindow *win = start_app (&app, load_phase1 ());
  ck_assert (wait_for_map (win, 20) >= 0);
  const char *actions[] = { "win.show-help-overlay", "win.edit-scenario", "win.compare-runs", "app.preferences" };
  const char *names[] = { "shortcuts", "scenario-editor", "compare-runs", "preferences" };
  for (guint i = 0; i < G_N_ELEMENTS (actions); i++)
    {
      GList *before = gtk_window_list_toplevels ();
      guint n0 = g_list_length (before);
      g_list_free (before);
      ck_assert_msg (gtk_widget_activate_action (GTK_WIDGET (win), actions[i], NULL), "%s", actions[i]);
      ft_test_app_spin (0.4);
      GList *after = gtk_window_list_toplevels ();
      GtkWidget *opened = NULL;
      for (GList *l = after; l; l = l->next)
        if (l->data != (gpointer) win && gtk_widget_get_visible (l->data))
          opened = l->data;
      ck_assert_msg (opened != NULL && g_list_length (after) >= n0, "%s opened no window", actions[i]);
      g_autoptr(GdkTexture) shot = ft_screenshot_widget (opened);
      if (shot)
        {
          g_autofree char *file = g_strdup_printf ("app-%s.png", names[i]);
          g_autofree char *path = ft_test_app_shot_path (file);
          gdk_texture_save_to_png (shot, path);
        }
      gtk_window_destroy (GTK_WINDOW (opened));
      g_list_free (after);
      ft_test_app_spin (0.1);
    }
  ft_test_app_stop (app, win);
}
END_TEST

START_TEST (test_scenario_roundtrip)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(FtSimScenario) sc = load_phase1 ();
  sc->scooters = 1234;
  sc->per_min_minor[2] = 41;
  sc->rebalancing = FALSE;
  g_autofree char *text = ft_scenario_to_text (sc);
  g_autoptr(FtSimScenario) back = ft_sim_scenario_parse (text, -1, "written", &error);
  ck_assert_msg (back != NULL, "%s\n%s", error ? error->message : "", text);
  ck_assert_uint_eq (back->scooters, 1234);
  ck_assert_double_eq (back->per_min_minor[2], 41);
  ck_assert (!back->rebalancing);
  ck_assert_uint_eq (back->n_shift_starts, sc->n_shift_starts);
  ck_assert_str_eq (back->name, sc->name);
  g_autofree char *again = ft_scenario_to_text (back);
  ck_assert_str_eq (again, text);

  g_autofree char *dir = g_dir_make_tmp ("ft-scn-XXXXXX", NULL);
  g_autofree char *path = g_build_filename (dir, "x.scenario", NULL);
  ck_assert (ft_scenario_save (sc, path, &error));
  g_autoptr(FtSimScenario) loaded = ft_sim_scenario_load (path, &error);
  ck_assert (loaded != NULL && loaded->scooters == 1234);
  g_unlink (path);
  g_rmdir (dir);
}
END_TEST

int
main (void)
{
  Suite *s = suite_create ("app");
  TCase *tc = tcase_create ("demo-hour");
  tcase_add_test (tc, test_demo_hour);
  tcase_set_timeout (tc, 300);
  suite_add_tcase (s, tc);
  tc = tcase_create ("dispatch-swap");
  tcase_add_test (tc, test_dispatch_swap);
  tcase_set_timeout (tc, 600);
  suite_add_tcase (s, tc);
  tc = tcase_create ("rider-view");
  tcase_add_test (tc, test_rider_view);
  tcase_set_timeout (tc, 300);
  suite_add_tcase (s, tc);
  tc = tcase_create ("dialogs");
  tcase_add_test (tc, test_dialogs);
  tcase_set_timeout (tc, 120);
  suite_add_tcase (s, tc);
  tc = tcase_create ("scenario-roundtrip");
  tcase_add_test (tc, test_scenario_roundtrip);
  suite_add_tcase (s, tc);
  SRunner *sr = srunner_create (s);
  srunner_run_all (sr, CK_NORMAL);
  int failed = srunner_ntests_failed (sr);
  srunner_free (sr);
  return failed == 0 ? 0 : 1;
}
