/* test-app.c — the desktop app under Xvfb, in process.
 *
 * demo-hour: the app starts on Demo City with the Phase 1 scenario, runs a
 *   simulated hour, and a screenshot (widget → GskRenderer → texture → PNG)
 *   must show map tiles (many colours, no transparent holes), vehicles
 *   (pixels in the vehicle colours) and a visible, drawn KPI panel.
 * dispatch-swap: low-battery vehicles are selected on the map, swap tasks
 *   are created through the dispatch path, and simulated staff complete
 *   them: battery up, task done, TASK_DONE events logged.
 * clicks-and-keys, messages-and-end, sizing, scenario-roundtrip: issue 19
 *   (the app as its users need it), driven with real clicks and keys
 *   through XTEST: clicks inspect and selecting is explicit (1, 9); Space,
 *   Ctrl+Right, Tab to the map, Escape (10); errors as toasts cleared by the
 *   next load (3); the battery figure (2); Save Screenshot (4); the end of a
 *   run (5); window sizing with screenshots at 1280x720 and 2560x1440, light
 *   and dark (11); the scenario format round trip of every shipped scenario
 *   through the writer and the editor (7).
 * The PNGs go to $FT_SHOTS_DIR (default: the current directory).
 */
#include "ft-config.h"
#include "ft-test-app.h"
#include "ft-application.h"
#include "ft-scenario-editor.h"
#include "ft-results-view.h"
#include "ft-dashboard-window.h"
#include "ft-report.h"
#include "ft-kpi-chart.h"
#include "ft-shadow-window.h"
#include "ft-screenshot.h"
#include "ft-window.h"

#include <check.h>
#include <glib/gstdio.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

static FtWindow *start_app_sized (FtApplication **app_out, FtSimScenario *sc, int w, int h);
static guint count_visible_charts (FtWindow *win);

static FtWindow *
start_app (FtApplication **app_out, FtSimScenario *sc)
{
  return start_app_sized (app_out, sc, 1280, 800);
}

static FtWindow *
start_app_sized (FtApplication **app_out, FtSimScenario *sc, int width, int height)
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
  gtk_window_set_default_size (GTK_WINDOW (win), width, height);
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
  /* Keep what the map looked like for whoever reads the failure. */
  g_autoptr(GdkTexture) shot = ft_screenshot_widget (GTK_WIDGET (win));
  if (shot)
    {
      g_autofree char *path = ft_test_app_shot_path ("map-never-drawn.png");
      gdk_texture_save_to_png (shot, path);
      printf ("the map was never drawn whole: see %s\n", path);
    }
  return -1;
}

/* Waits until `w` can be snapshotted (mapped, allocated and drawn since
 * its last change); milliseconds waited, or -1 after timeout_s. */
static double
wait_for_drawn (GtkWidget *w, double timeout_s)
{
  gint64 t0 = g_get_monotonic_time ();
  while ((g_get_monotonic_time () - t0) < timeout_s * G_USEC_PER_SEC)
    {
      g_autoptr(GdkTexture) shot = ft_screenshot_widget (w);
      if (shot != NULL)
        return (g_get_monotonic_time () - t0) / 1000.0;
      ft_test_app_spin (0.05);
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
  ck_assert_uint_eq (count_visible_charts (win), 4);   /* the levers' charts only with the levers on */
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

static GtkWidget *find_by_action (GtkWidget *root, const char *action);

/* Issue 19 item 13: which rider buttons are enabled (1 = sensitive). */
static void
assert_rider_buttons (FtWindow *win, int find, int reserve, int unlock, int end)
{
  const char *names[] = { "win.rider-find", "win.rider-reserve", "win.rider-unlock", "win.rider-end" };
  int want[] = { find, reserve, unlock, end };
  for (guint i = 0; i < 4; i++)
    {
      GtkWidget *b = find_by_action (GTK_WIDGET (win), names[i]);
      ck_assert (b != NULL);
      ck_assert_msg (gtk_widget_get_sensitive (b) == want[i], "%s: sensitive %d, expected %d", names[i],
                     gtk_widget_get_sensitive (b), want[i]);
    }
}

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
  assert_rider_buttons (win, 0, 0, 0, 0);   /* nothing marked yet */
  ft_window_set_marker (win, here);
  assert_rider_buttons (win, 1, 1, 0, 0);
  rider (win, "win.rider-find", "walk");
  ft_session_set_speed (session, 600);
  rider (win, "win.rider-reserve", "Reserved");
  FtRiderFlow *flow = ft_window_get_rider_flow (win);
  ck_assert_int_eq (ft_rider_flow_get_state (flow), FT_RIDER_RESERVED);
  assert_rider_buttons (win, 0, 0, 1, 0);
  /* the rider's vehicle is highlighted; the hold is not left to run out at 600x */
  ck_assert_int_ge (ft_rider_flow_get_vehicle (flow), 0);
  ck_assert_int_eq (ft_overlay_layer_get_highlight (ft_window_get_overlay_layer (win)), ft_rider_flow_get_vehicle (flow));
  ck_assert_msg (ft_session_get_speed (session) <= 10, "speed %.0f with a reservation", ft_session_get_speed (session));
  ck_assert (strstr (ft_window_get_rider_text (win), "Speed set to 10") != NULL);
  rider (win, "win.rider-unlock", "Unlocked");
  assert_rider_buttons (win, 0, 0, 0, 1);
  ft_session_run_to (session, ft_session_get_time (session) + 12 * FT_MINUTE);
  FtTime until = ft_session_get_time (session) + 12 * FT_MINUTE;
  gint64 deadline = g_get_monotonic_time () + 60 * G_USEC_PER_SEC;
  while (ft_session_get_time (session) < until - FT_MINUTE && g_get_monotonic_time () < deadline)
    ft_test_app_spin (0.05);
  /* Ride about 1.2 km north-east and end there. */
  FtLatLon there = { here.lat + 0.007, here.lon + 0.008 };
  ft_window_set_marker (win, there);
  /* 13: the ride animates along the route: End rides there as simulated
   * time passes, the vehicle moving, and the trip ends on arrival. */
  gint32 rv = ft_rider_flow_get_vehicle (flow);
  double full = ft_distance_m (here, there), mid_max = 0;
  ck_assert (gtk_widget_activate_action (GTK_WIDGET (win), "win.rider-end", NULL));
  printf ("end: %s\n", ft_window_get_rider_text (win));
  ck_assert_msg (strstr (ft_window_get_rider_text (win), "Riding to"), "%s", ft_window_get_rider_text (win));
  for (int k = 0; k <= 6 && strstr (ft_window_get_rider_text (win), "Receipt") == NULL; k++)
    {
      if (k > 0)
        {
          /* A no-parking zone: try a few other spots like a rider would. */
          FtLatLon p = { here.lat + 0.002 * k, here.lon - 0.003 * k };
          ft_window_set_marker (win, p);
          gtk_widget_activate_action (GTK_WIDGET (win), "win.rider-end", NULL);
        }
      ft_session_play (session);
      deadline = g_get_monotonic_time () + 60 * G_USEC_PER_SEC;
      while (ft_rider_flow_is_riding_to (flow) && g_get_monotonic_time () < deadline)
        {
          ft_test_app_spin (0.05);
          FtFrame *rf = ft_session_get_frame (session);
          double dd = ft_distance_m (here, ft_mercator_to_latlon (rf->vehicles[rv].mx, rf->vehicles[rv].my));
          if (k == 0 && dd < full - 30)
            mid_max = MAX (mid_max, dd);
        }
      ft_session_pause (session);
      ft_test_app_spin (0.2);
    }
  printf ("ride: seen %.0f m along a %.0f m straight-line trip before arriving\n", mid_max, full);
  ck_assert_msg (mid_max > 100, "the vehicle never moved between start and destination");
  const char *receipt = ft_window_get_rider_text (win);
  printf ("receipt: %s\n", receipt);
  ck_assert_msg (strstr (receipt, "Receipt") && strstr (receipt, "Total"), "no receipt: %s", receipt);
  ck_assert_int_eq (ft_rider_flow_get_state (flow), FT_RIDER_IDLE);
  ck_assert_int_eq (ft_overlay_layer_get_highlight (ft_window_get_overlay_layer (win)), -1);

  /* A reservation left alone runs out, with a warning first and a message after. */
  ft_window_set_marker (win, here);
  rider (win, "win.rider-reserve", "Reserved");
  FtTime hold = ft_rider_flow_get_hold_until (flow);
  ft_session_run_to (session, hold + 2 * FT_MINUTE);
  deadline = g_get_monotonic_time () + 60 * G_USEC_PER_SEC;
  gboolean warned = FALSE;
  while (ft_rider_flow_get_state (flow) == FT_RIDER_RESERVED && g_get_monotonic_time () < deadline)
    {
      ft_test_app_spin (0.02);
      warned |= ft_window_get_toast (win) && strstr (ft_window_get_toast (win), "unlock the vehicle now");
    }
  ft_test_app_spin (0.3);
  printf ("reservation left alone: warned %d; %s\n", warned, ft_window_get_rider_text (win));
  ck_assert_int_eq (ft_rider_flow_get_state (flow), FT_RIDER_IDLE);
  ck_assert (strstr (ft_window_get_rider_text (win), "ran out") != NULL);
  assert_rider_buttons (win, 1, 1, 0, 0);
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

/* Issue 19 item 7: one definition of the scenario format. Every shipped
 * scenario goes through the writer and through the editor (every key a
 * field) and reads back equal, keeping its comments and its city; bad
 * input is refused with a message naming the key. */
static void
assert_comments_kept (const char *orig, const char *written, const char *name)
{
  g_auto(GStrv) lines = g_strsplit (orig, "\n", -1);
  for (guint i = 0; lines[i]; i++)
    {
      g_strstrip (lines[i]);
      if (lines[i][0] == '#')
        ck_assert_msg (strstr (written, lines[i]) != NULL, "%s: comment dropped: %s", name, lines[i]);
    }
}

START_TEST (test_scenario_roundtrip)
{
  gtk_init ();
  g_autoptr(GError) error = NULL;
  g_autofree char *sdir = g_build_filename (FT_SOURCE_DIR, "scenarios", NULL);
  g_autoptr(GDir) d = g_dir_open (sdir, 0, &error);
  ck_assert_msg (d != NULL, "%s", error ? error->message : "");
  g_autoptr(FtSession) session = ft_session_new ();
  FtScenarioEditor *ed = ft_scenario_editor_new (NULL, session);
  g_object_ref_sink (ed);
  guint n_keys = 0;
  ft_sim_scenario_keys (&n_keys);
  ck_assert_uint_ge (n_keys, 55);
  ck_assert_uint_eq (ft_scenario_editor_get_n_fields (ed), n_keys);
  g_autofree char *tmp = g_dir_make_tmp ("ft-scn-XXXXXX", NULL);
  guint n_files = 0;
  const char *name;
  while ((name = g_dir_read_name (d)))
    {
      if (!g_str_has_suffix (name, ".scenario"))
        continue;
      n_files++;
      g_autofree char *path = g_build_filename (sdir, name, NULL);
      g_autoptr(FtSimScenario) sc = ft_sim_scenario_load (path, &error);
      ck_assert_msg (sc != NULL, "%s", error ? error->message : "");
      /* The writer alone. */
      g_autofree char *text = ft_sim_scenario_to_text (sc);
      g_autoptr(FtSimScenario) back = ft_sim_scenario_parse (text, -1, name, &error);
      ck_assert_msg (back != NULL, "%s: %s\n%s", name, error ? error->message : "", text);
      ck_assert_msg (ft_sim_scenario_equal (sc, back), "%s does not read back equal:\n%s", name, text);
      assert_comments_kept (sc->text, text, name);
      /* Through the editor's fields and Save. */
      ft_scenario_editor_set_scenario (ed, sc);
      g_autoptr(FtSimScenario) edited = ft_scenario_editor_dup_scenario (ed, &error);
      ck_assert_msg (edited != NULL, "%s: %s", name, error ? error->message : "");
      ck_assert_msg (ft_sim_scenario_equal (sc, edited), "%s: the editor changed it", name);
      g_autofree char *out = g_build_filename (tmp, name, NULL);
      ck_assert_msg (ft_scenario_editor_save_to (ed, out, &error), "%s", error ? error->message : "");
      g_autoptr(FtSimScenario) loaded = ft_sim_scenario_load (out, &error);
      ck_assert_msg (loaded != NULL, "%s: %s", name, error ? error->message : "");
      ck_assert_msg (ft_sim_scenario_equal (sc, loaded), "%s: saved by the editor, it reads back different", name);
      ck_assert_str_eq (loaded->city, sc->city);
      ck_assert_str_eq (loaded->city_trips ? loaded->city_trips : "", sc->city_trips ? sc->city_trips : "");
      ck_assert_str_eq (loaded->trace ? loaded->trace : "", sc->trace ? sc->trace : "");
      assert_comments_kept (sc->text, loaded->text, name);
      printf ("scenario %s: written, edited and saved, reads back equal (%u keys)\n", name, n_keys);
      g_unlink (out);
    }
  ck_assert_uint_ge (n_files, 6);

  /* An edit lands in the file, in place, the rest untouched. */
  g_autoptr(FtSimScenario) p1 = load_phase1 ();
  ft_scenario_editor_set_scenario (ed, p1);
  gtk_editable_set_text (GTK_EDITABLE (ft_scenario_editor_get_field (ed, "fleet", "bikes")), "777");
  gtk_editable_set_text (GTK_EDITABLE (ft_scenario_editor_get_field (ed, "staff", "shift_starts")), "07:30, 15:00");
  g_autofree char *out = g_build_filename (tmp, "edited.scenario", NULL);
  ck_assert_msg (ft_scenario_editor_save_to (ed, out, &error), "%s", error ? error->message : "");
  g_autoptr(FtSimScenario) e = ft_sim_scenario_load (out, &error);
  ck_assert (e != NULL && e->bikes == 777 && e->n_shift_starts == 2 && e->shift_starts_h[0] == 7.5);
  e->bikes = p1->bikes;
  e->shift_starts_h[0] = p1->shift_starts_h[0];
  e->shift_starts_h[1] = p1->shift_starts_h[1];
  ck_assert (ft_sim_scenario_equal (e, p1));
  g_unlink (out);

  /* Bad input is refused with the key named; nothing is written. */
  ft_scenario_editor_set_scenario (ed, p1);
  GtkWidget *days = ft_scenario_editor_get_field (ed, "scenario", "days");
  gtk_editable_set_text (GTK_EDITABLE (days), "abc");
  g_autoptr(FtSimScenario) bad = ft_scenario_editor_dup_scenario (ed, &error);
  ck_assert (bad == NULL && error != NULL);
  printf ("days = abc: %s\n", error->message);
  ck_assert (strstr (error->message, "[scenario] days") && strstr (error->message, "'abc' is not a number"));
  ck_assert (gtk_widget_has_css_class (days, "error"));
  ck_assert (!ft_scenario_editor_save_to (ed, out, NULL));
  ck_assert (!g_file_test (out, G_FILE_TEST_EXISTS));
  g_clear_error (&error);
  gtk_editable_set_text (GTK_EDITABLE (days), "1");
  for (const char *const *k = (const char *const[]) { "scooters", "bikes", "mopeds", NULL }; *k; k++)
    gtk_editable_set_text (GTK_EDITABLE (ft_scenario_editor_get_field (ed, "fleet", *k)), "0");
  bad = ft_scenario_editor_dup_scenario (ed, &error);
  ck_assert (bad == NULL && error != NULL);
  printf ("empty fleet: %s\n", error->message);
  ck_assert (strstr (error->message, "[fleet]") && strstr (error->message, "fleet is empty"));
  g_clear_error (&error);
  gtk_editable_set_text (GTK_EDITABLE (ft_scenario_editor_get_field (ed, "fleet", "bikes")), "10");
  gtk_editable_set_text (GTK_EDITABLE (ft_scenario_editor_get_field (ed, "pricing", "currency")), "euro");
  bad = ft_scenario_editor_dup_scenario (ed, &error);
  ck_assert (bad == NULL && strstr (error->message, "[pricing] currency"));
  g_clear_error (&error);

  gtk_window_destroy (GTK_WINDOW (ed));
  g_object_unref (ed);
  g_rmdir (tmp);
}
END_TEST

/* ---------------------------------------------------------- issue 19 */

/* A small, quick scenario with many low batteries: 2.4 simulated hours. */
static const char *short_scenario =
  "[scenario]\nname=Short run\ncity=demo\ndays=0.1\nseed=11\n"
  "[fleet]\nscooters=300\nbikes=0\nmopeds=0\ninitial_soc_min=0.05\ninitial_soc_max=0.6\n"
  "[demand]\nrequests_per_day=2000\n"
  "[staff]\nfield_staff=4\ndispatchers=1\nshift_hours=12\nshift_starts=00:00\n";

static FtSimScenario *
load_short (void)
{
  g_autoptr(GError) error = NULL;
  FtSimScenario *sc = ft_sim_scenario_parse (short_scenario, -1, "short", &error);
  ck_assert_msg (sc != NULL, "%s", error ? error->message : "");
  return sc;
}

static GtkWidget *
find_by_action (GtkWidget *root, const char *action)
{
  if (GTK_IS_ACTIONABLE (root) && g_strcmp0 (gtk_actionable_get_action_name (GTK_ACTIONABLE (root)), action) == 0)
    return root;
  for (GtkWidget *c = gtk_widget_get_first_child (root); c; c = gtk_widget_get_next_sibling (c))
    {
      GtkWidget *w = find_by_action (c, action);
      if (w)
        return w;
    }
  return NULL;
}

static GtkWidget *
find_button_labelled (GtkWidget *root, const char *label)
{
  if (GTK_IS_BUTTON (root) && g_strcmp0 (gtk_button_get_label (GTK_BUTTON (root)), label) == 0 &&
      gtk_widget_get_mapped (root))
    return root;
  for (GtkWidget *c = gtk_widget_get_first_child (root); c; c = gtk_widget_get_next_sibling (c))
    {
      GtkWidget *w = find_button_labelled (c, label);
      if (w)
        return w;
    }
  return NULL;
}

/* A vehicle near the middle of the map that a click there picks. */
static int
vehicle_in_view (FtWindow *win, double *x, double *y)
{
  FtVehicleLayer *layer = ft_window_get_vehicle_layer (win);
  FtFrame *f = ft_session_get_frame (ft_window_get_session (win));
  int w = gtk_widget_get_width (GTK_WIDGET (layer)), h = gtk_widget_get_height (GTK_WIDGET (layer));
  for (guint i = 0; f && i < f->n_vehicles; i++)
    {
      if (!ft_vehicle_layer_vehicle_coords (layer, i, x, y))
        continue;
      if (*x < 0.3 * w || *x > 0.7 * w || *y < 0.3 * h || *y > 0.7 * h)
        continue;
      if (ft_vehicle_layer_pick (layer, *x, *y, 7) == (int) i &&
          ft_overlay_layer_pick_staff (ft_window_get_overlay_layer (win), *x, *y, 12) < 0)
        return (int) i;
    }
  return -1;
}

/* A spot in the middle of the map with no vehicle or van near it. */
static void
empty_spot (FtWindow *win, double *x, double *y)
{
  FtVehicleLayer *layer = ft_window_get_vehicle_layer (win);
  int w = gtk_widget_get_width (GTK_WIDGET (layer)), h = gtk_widget_get_height (GTK_WIDGET (layer));
  for (int gy = 0; gy < 20; gy++)
    for (int gx = 0; gx < 20; gx++)
      {
        *x = w * (0.3 + 0.4 * gx / 19.0);
        *y = h * (0.3 + 0.4 * gy / 19.0);
        if (ft_vehicle_layer_pick (layer, *x, *y, 14) < 0 &&
            ft_overlay_layer_pick_staff (ft_window_get_overlay_layer (win), *x, *y, 14) < 0)
          return;
      }
  ck_abort_msg ("no empty spot on the map");
}

/* Items 1, 9 and 10: real clicks and keys (XTEST) through GTK's gestures
 * and shortcuts. */
START_TEST (test_clicks_and_keys)
{
  FtApplication *app;
  FtWindow *win = start_app (&app, load_short ());
  FtSession *session = ft_window_get_session (win);
  ck_assert (wait_for_map (win, 20) >= 0);
  ft_test_app_focus (GTK_WINDOW (win));
  ck_assert_msg (gtk_window_is_active (GTK_WINDOW (win)), "the window never got the keyboard focus");
  FtVehicleLayer *layer = ft_window_get_vehicle_layer (win);
  GtkWidget *map = GTK_WIDGET (ft_window_get_map (win));
  ft_session_set_role (session, FT_ROLE_VIEW_DISPATCHER);
  ck_assert_str_eq (ft_window_get_page (win), "kpis");

  /* 1: a plain click on a vehicle inspects it, and selects nothing. */
  double vx, vy;
  int v = vehicle_in_view (win, &vx, &vy);
  ck_assert_msg (v >= 0, "no vehicle to click in view");
  ft_test_app_click (GTK_WIDGET (layer), vx, vy, 0);
  printf ("plain click on vehicle %d: page %s, %u selected, inspector: %.60s\n", v, ft_window_get_page (win),
          ft_vehicle_layer_get_n_selected (layer), ft_window_get_inspector_text (win));
  ck_assert_str_eq (ft_window_get_page (win), "inspector");
  ck_assert_uint_eq (ft_vehicle_layer_get_n_selected (layer), 0);
  ck_assert_msg (strstr (ft_window_get_inspector_text (win), "Click a vehicle") == NULL, "nothing was inspected");
  /* a plain click on the map outside vehicles inspects the zone, marks nothing */
  double ex, ey;
  empty_spot (win, &ex, &ey);
  ft_test_app_click (GTK_WIDGET (layer), ex, ey, 0);
  ck_assert_str_eq (ft_window_get_page (win), "inspector");
  ck_assert (!ft_window_get_marker (win, NULL));

  /* Selecting is explicit: Ctrl+click adds the vehicle and opens Dispatch. */
  ft_test_app_click (GTK_WIDGET (layer), vx, vy, GDK_CONTROL_MASK);
  ck_assert_uint_eq (ft_vehicle_layer_get_n_selected (layer), 1);
  ck_assert_str_eq (ft_window_get_page (win), "dispatch");
  /* On the Dispatch page a click on the map marks the rebalance target. */
  ft_test_app_click (GTK_WIDGET (layer), ex, ey, 0);
  FtLatLon target;
  ck_assert (ft_window_get_marker (win, &target));
  ck_assert_uint_eq (ft_vehicle_layer_get_n_selected (layer), 1);

  /* 9: Shift+drag selects a rectangle and leaves the target where it was. */
  int w = gtk_widget_get_width (GTK_WIDGET (layer)), h = gtk_widget_get_height (GTK_WIDGET (layer));
  ft_test_app_drag (GTK_WIDGET (layer), 0.35 * w, 0.35 * h, 0.65 * w, 0.65 * h, GDK_SHIFT_MASK);
  guint nsel = ft_vehicle_layer_get_n_selected (layer);
  FtLatLon after;
  ck_assert (ft_window_get_marker (win, &after));
  printf ("shift+drag: %u selected; target moved %.1f m\n", nsel, ft_distance_m (target, after));
  ck_assert_uint_gt (nsel, 1);
  ck_assert_msg (ft_distance_m (target, after) < 1, "the drag moved the rebalance target");
  ck_assert_str_eq (ft_window_get_page (win), "dispatch");

  /* The rider marks where they stand with a click, and stays on Ride. The
   * window ignores a release within 300 ms of a Shift+drag's end (it is the
   * drag's own), so wait that out first. */
  ft_test_app_spin (0.4);
  ft_session_set_role (session, FT_ROLE_VIEW_RIDER);
  ft_test_app_click (GTK_WIDGET (layer), vx, vy, 0);
  FtLatLon stand;
  ck_assert (ft_window_get_marker (win, &stand));
  ck_assert_str_eq (ft_window_get_page (win), "rider");
  ck_assert_msg (ft_distance_m (stand, target) > 1, "the rider's click did not mark where they stand");
  ft_session_set_role (session, FT_ROLE_VIEW_DISPATCHER);

  /* 10: Space plays and pauses even while a button has the focus (here
   * Select Low Battery, which Space used to press). */
  gtk_widget_activate_action (GTK_WIDGET (win), "win.clear-selection", NULL);
  GtkWidget *low = find_by_action (GTK_WIDGET (win), "win.select-low-battery");
  ck_assert (low != NULL);
  ck_assert (gtk_widget_grab_focus (low));
  ck_assert (!ft_session_get_playing (session));
  ft_test_app_key (GDK_KEY_space, 0);
  printf ("space with a button focused: playing %d, %u selected\n", ft_session_get_playing (session),
          ft_vehicle_layer_get_n_selected (layer));
  ck_assert_msg (ft_session_get_playing (session), "Space did not start the simulation");
  ck_assert_uint_eq (ft_vehicle_layer_get_n_selected (layer), 0);
  ft_test_app_key (GDK_KEY_space, 0);
  ck_assert (!ft_session_get_playing (session));
  /* Ctrl+Right steps one simulated minute. */
  ft_test_app_spin (0.3);
  FtTime t0 = ft_session_get_time (session);
  ft_test_app_key (GDK_KEY_Right, GDK_CONTROL_MASK);
  gint64 until = g_get_monotonic_time () + 5 * G_USEC_PER_SEC;
  while (ft_session_get_time (session) < t0 + FT_MINUTE && g_get_monotonic_time () < until)
    ft_test_app_spin (0.05);
  printf ("ctrl+right: %" G_GINT64_FORMAT " -> %" G_GINT64_FORMAT " ms\n", t0, ft_session_get_time (session));
  ck_assert_int_eq (ft_session_get_time (session), t0 + FT_MINUTE);
  /* The map is reached with Tab, and zooms with the keyboard. */
  gboolean reached = FALSE;
  for (int i = 0; i < 40 && !reached; i++)
    {
      ft_test_app_key (GDK_KEY_Tab, 0);
      reached = gtk_widget_has_focus (map);
    }
  ck_assert_msg (reached, "Tab never reached the map");
  ShumateViewport *vp = shumate_map_get_viewport (ft_window_get_map (win));
  double z0 = shumate_viewport_get_zoom_level (vp);
  ft_test_app_key (GDK_KEY_equal, 0);
  printf ("map focused by Tab; '=' zooms %.1f -> %.1f\n", z0, shumate_viewport_get_zoom_level (vp));
  ck_assert (shumate_viewport_get_zoom_level (vp) > z0);
  /* Escape closes a secondary window. */
  ck_assert (gtk_widget_activate_action (GTK_WIDGET (win), "win.compare-runs", NULL));
  ft_test_app_spin (0.3);
  GtkWindow *cmp = NULL;
  GList *tops = gtk_window_list_toplevels ();
  for (GList *l = tops; l; l = l->next)
    if (l->data != (gpointer) win && gtk_widget_get_visible (l->data))
      cmp = l->data;
  g_list_free (tops);
  ck_assert (cmp != NULL);
  g_object_ref (cmp);
  ft_test_app_focus (cmp);
  ft_test_app_key (GDK_KEY_Escape, 0);
  ck_assert_msg (!gtk_widget_get_visible (GTK_WIDGET (cmp)), "Escape did not close Compare Runs");
  g_object_unref (cmp);

  /* 9: a van at work can be clicked: run until one is busy, put it in the
   * middle of the map, click it, and the inspector describes that van. */
  ft_test_app_focus (GTK_WINDOW (win));
  FtTime t_van = ft_session_get_time (session);
  int busy = -1;
  FtLatLon vp_at = { 0, 0 };
  for (int step = 1; step <= 24 && busy < 0; step++)
    {
      ft_session_run_to (session, t_van + step * 5 * FT_MINUTE);
      until = g_get_monotonic_time () + 30 * G_USEC_PER_SEC;
      while (ft_session_get_time (session) < t_van + step * 5 * FT_MINUTE && g_get_monotonic_time () < until)
        ft_test_app_spin (0.05);
      FtFrame *vf = ft_session_get_frame (session);   /* borrowed until the next poll */
      for (guint i = 0; i < vf->n_staff && busy < 0; i++)
        if (vf->staff[i].busy && !isnan (vf->staff[i].tx))
          {
            busy = (int) i;
            vp_at = ft_mercator_to_latlon (vf->staff[i].mx, vf->staff[i].my);
          }
    }
  ck_assert_msg (busy >= 0, "no van went to work");
  shumate_map_center_on (ft_window_get_map (win), vp_at.lat, vp_at.lon);
  ft_test_app_spin (0.4);
  double sx, sy;
  shumate_viewport_location_to_widget_coords (vp, GTK_WIDGET (layer), vp_at.lat, vp_at.lon, &sx, &sy);
  ft_window_set_page (win, "kpis");
  ft_test_app_click (GTK_WIDGET (layer), sx, sy, 0);
  g_autofree char *want = g_strdup_printf ("Staff %d", busy + 1);
  printf ("click on busy van %d at %.0f,%.0f: page %s, inspector: %.60s\n", busy, sx, sy,
          ft_window_get_page (win), ft_window_get_inspector_text (win));
  ck_assert_str_eq (ft_window_get_page (win), "inspector");
  ck_assert_msg (strstr (ft_window_get_inspector_text (win), want), "the van was not inspected: %s",
                 ft_window_get_inspector_text (win));
  ft_test_app_stop (app, win);
}
END_TEST

/* Item 8: the Dispatch page lists tasks (kind, vehicle, priority, assignee,
 * state, age) with Cancel and Reassign; swaps of full batteries and
 * assignments to staff off shift come with warnings. */
static const char *tasks_scenario =
  "[scenario]\nname=Tasks\ncity=demo\ndays=1\nseed=5\n"
  "[fleet]\nscooters=300\nbikes=0\nmopeds=0\ninitial_soc_min=0.05\ninitial_soc_max=1.0\n"
  "[demand]\nrequests_per_day=300\n"
  "[staff]\nfield_staff=3\ndispatchers=1\nshift_hours=8\nshift_starts=06:00\n"
  "[rules]\nswap_threshold_soc=0.0\n[features]\nrebalancing=false\nfault_collection=false\n";

START_TEST (test_dispatch_tasks)
{
  g_autoptr(GError) error = NULL;
  FtSimScenario *sc = ft_sim_scenario_parse (tasks_scenario, -1, "tasks", &error);
  ck_assert_msg (sc != NULL, "%s", error ? error->message : "");
  FtApplication *app;
  FtWindow *win = start_app (&app, sc);
  FtSession *session = ft_window_get_session (win);
  ck_assert (wait_for_map (win, 20) >= 0);
  FtVehicleLayer *layer = ft_window_get_vehicle_layer (win);
  int w = gtk_widget_get_width (GTK_WIDGET (layer)), h = gtk_widget_get_height (GTK_WIDGET (layer));
  guint nsel = ft_vehicle_layer_select_rect (layer, 0.25 * w, 0.25 * h, 0.75 * w, 0.75 * h);
  ck_assert_uint_ge (nsel, 10);
  /* Staff 1 is off shift at midnight (shifts start at 06:00). */
  ft_window_set_dispatch_staff (win, 0);
  ft_session_set_role (session, FT_ROLE_VIEW_DISPATCHER);
  ck_assert (gtk_widget_activate_action (GTK_WIDGET (win), "win.dispatch", NULL));
  GtkWidget *page = find_button_labelled (GTK_WIDGET (win), "Dispatch");
  ck_assert (page != NULL);
  gtk_widget_activate (page);
  ft_test_app_spin (0.6);
  const char *toast = ft_window_get_toast (win);
  printf ("dispatch of %u selected: toast \"%s\"\n", nsel, toast ? toast : "");
  ck_assert (toast && strstr (toast, "off shift") && strstr (toast, "no swap needed"));
  g_autoptr(GArray) tasks = ft_session_dup_tasks (session, 1000);
  ck_assert_uint_gt (tasks->len, 0);
  ck_assert_uint_lt (tasks->len, nsel);   /* the full ones were skipped */
  g_autofree char *list = ft_window_dup_tasks_text (win);
  printf ("task list:\n%.200s\n", list);
  ck_assert (strstr (list, "Swap") && strstr (list, "Staff 1") && strstr (list, "assigned") && strstr (list, "P5"));
  ft_test_app_shot (GTK_WIDGET (win), "app-dispatch-tasks.png");
  /* Cancel the newest task from its row. */
  ft_test_app_spin (0.3);
  GtkWidget *cancel = find_button_labelled (GTK_WIDGET (win), "Cancel");
  ck_assert_msg (cancel != NULL, "no Cancel button on page %s", ft_window_get_page (win));
  gint64 newest = g_array_index (tasks, FtSessionTask, 0).id;
  printf ("cancel button: %s, sensitive %d\n", gtk_widget_get_tooltip_text (cancel), gtk_widget_get_sensitive (cancel));
  g_signal_emit_by_name (cancel, "clicked");
  ft_test_app_spin (0.2);
  g_autoptr(GArray) after = ft_session_dup_tasks (session, 1000);
  ck_assert_uint_eq (after->len, tasks->len - 1);
  ck_assert (g_array_index (after, FtSessionTask, 0).id != newest);
  /* Reassign the next one to Staff 2. */
  ft_window_set_dispatch_staff (win, 1);
  GtkWidget *re = find_button_labelled (GTK_WIDGET (win), "Reassign");
  g_signal_emit_by_name (re, "clicked");
  ft_test_app_spin (0.2);
  g_autoptr(GArray) moved = ft_session_dup_tasks (session, 1000);
  printf ("after cancel and reassign: %u tasks, newest on staff %d; status: %s\n", moved->len,
          g_array_index (moved, FtSessionTask, 0).staff + 1, ft_window_get_dispatch_status (win));
  ck_assert_int_eq (g_array_index (moved, FtSessionTask, 0).staff, 1);
  ft_test_app_stop (app, win);
}
END_TEST

/* Item 12: the broker dialog's default prefix is the README's and the
 * emulator's ("ft"); a connection that fails shows over the map. */
START_TEST (test_live_errors)
{
  FtApplication *app;
  FtWindow *win = start_app (&app, load_short ());
  ck_assert (wait_for_map (win, 20) >= 0);
  g_autoptr(GSettings) settings = g_settings_new ("org.mobilitycorp.FleetTwin");
  g_autofree char *prefix = g_settings_get_string (settings, "live-prefix");
  ck_assert_str_eq (prefix, "ft");
  /* nothing listens on port 9 */
  g_settings_set_string (settings, "live-url", "mqtt://127.0.0.1:9");
  ft_window_set_live_mode (win, TRUE);
  gint64 until = g_get_monotonic_time () + 20 * G_USEC_PER_SEC;
  while (!ft_window_get_toast_is_error (win) && g_get_monotonic_time () < until)
    ft_test_app_spin (0.05);
  printf ("live, no broker: page %s, toast \"%s\"\n", ft_window_get_page (win), ft_window_get_toast (win));
  ck_assert (ft_window_get_toast_is_error (win));
  ck_assert (strstr (ft_window_get_toast (win), "127.0.0.1:9") != NULL);
  ft_window_set_live_mode (win, FALSE);
  ft_test_app_stop (app, win);
}
END_TEST

static char *
write_tmp (const char *dir, const char *name, const char *data, gssize len)
{
  char *p = g_build_filename (dir, name, NULL);
  ck_assert (g_file_set_contents (p, data, len, NULL));
  return p;
}

/* Items 3, 5, 2 and 4: errors where the user looks, the end of a run, the
 * battery figure and Save Screenshot. */
START_TEST (test_messages_and_end)
{
  FtApplication *app;
  FtWindow *win = start_app (&app, load_short ());
  FtSession *session = ft_window_get_session (win);
  ck_assert (wait_for_map (win, 20) >= 0);
  g_autoptr(GError) error = NULL;
  g_autofree char *tmp = g_dir_make_tmp ("ft-app-XXXXXX", NULL);

  /* 3: a binary file, then a bad scenario: each error shows as a toast over
   * the map naming its file; the next load clears it. */
  static const char junk[] = { 0x7f, 'E', 'L', 'F', 0, 1, 2, (char) 0xff, (char) 0xfe, 0 };
  g_autofree char *bin = write_tmp (tmp, "binary.scenario", junk, sizeof junk);
  ck_assert (!ft_window_open_path (win, bin, FALSE, &error));
  g_clear_error (&error);
  printf ("toast: %s\n", ft_window_get_toast (win));
  ck_assert (ft_window_get_toast (win) != NULL && ft_window_get_toast_is_error (win));
  ck_assert (strstr (ft_window_get_toast (win), "binary.scenario") != NULL);
  ck_assert (strstr (ft_window_get_toast (win), "binary data") != NULL);
  g_autofree char *bad = write_tmp (tmp, "typo.scenario", "[fleet]\nscoters=5\n", -1);
  ck_assert (!ft_window_open_path (win, bad, FALSE, &error));
  g_clear_error (&error);
  printf ("toast: %s\n", ft_window_get_toast (win));
  ck_assert (strstr (ft_window_get_toast (win), "typo.scenario") && strstr (ft_window_get_toast (win), "scoters"));
  ck_assert (strstr (ft_window_get_toast (win), "binary.scenario") == NULL);
  g_autofree char *good = write_tmp (tmp, "good.scenario", short_scenario, -1);
  ck_assert_msg (ft_window_open_path (win, good, FALSE, &error), "%s", error ? error->message : "");
  ck_assert_msg (ft_window_get_toast (win) == NULL, "the old error stayed: %s", ft_window_get_toast (win));
  ck_assert (wait_for_map (win, 20) >= 0);

  /* 2: the sidebar's battery figure is the KPI report's: the share of
   * vehicles the model flags low, now and over the run. */
  FtFrame *f = ft_session_get_frame (session);
  ck_assert_msg (f->kpi.battery_available < 0.95, "battery available %.3f with many low batteries",
                 f->kpi.battery_available);
  ft_session_run_to (session, 30 * FT_MINUTE);
  gint64 until = g_get_monotonic_time () + 60 * G_USEC_PER_SEC;
  while (ft_session_get_time (session) < 30 * FT_MINUTE && g_get_monotonic_time () < until)
    ft_test_app_spin (0.05);
  ft_test_app_spin (0.6);
  const FtSimKpis *k = ft_session_get_kpis (session);
  f = ft_session_get_frame (session);
  g_autofree char *now_txt = g_strdup_printf ("now %.1f %%", (1 - f->kpi.battery_available) * 100);
  g_autofree char *run_txt = g_strdup_printf ("run %.1f %%", k->battery_unavailable_share * 100);
  printf ("sidebar: %s\nKPI report battery_unavailable_share %.4f\n", ft_window_get_kpi_text (win),
          k->battery_unavailable_share);
  ck_assert (k->battery_unavailable_share > 0.05);
  ck_assert_msg (strstr (ft_window_get_kpi_text (win), now_txt) && strstr (ft_window_get_kpi_text (win), run_txt),
                 "sidebar \"%s\" lacks \"%s\" / \"%s\"", ft_window_get_kpi_text (win), now_txt, run_txt);

  /* Loading again keeps the half-finished run for Compare Runs. */
  ck_assert (ft_window_open_path (win, good, FALSE, NULL));
  ck_assert (wait_for_map (win, 20) >= 0);

  /* 4: Save Screenshot writes a PNG of the map and panels, once the
   * window's content has been drawn since the load (the map can be whole
   * a frame before the panels are, on a loaded machine). */
  g_autofree char *png = g_build_filename (tmp, "shot.png", NULL);
  ck_assert_msg (wait_for_drawn (gtk_window_get_child (GTK_WINDOW (win)), 20) >= 0,
                 "the window's content was never drawn after the load");
  ck_assert_msg (ft_window_save_screenshot (win, png, &error), "%s", error ? error->message : "");
  GStatBuf st;
  ck_assert (g_stat (png, &st) == 0);
  g_autoptr(GdkTexture) back = gdk_texture_new_from_filename (png, &error);
  ck_assert_msg (back != NULL, "%s", error ? error->message : "");
  printf ("screenshot: %" G_GINT64_FORMAT " bytes, %dx%d\n", (gint64) st.st_size,
          gdk_texture_get_width (back), gdk_texture_get_height (back));
  ck_assert_int_gt (st.st_size, 20000);
  ck_assert_int_ge (gdk_texture_get_width (back), 1000);
  g_autofree char *notpng = write_tmp (tmp, "notes.png", "my notes", -1);
  ck_assert (!ft_window_save_screenshot (win, notpng, &error));
  printf ("over a non-PNG: %s\n", error->message);
  ck_assert (strstr (error->message, "not a PNG") != NULL);
  g_clear_error (&error);
  g_autofree char *kept = NULL;
  ck_assert (g_file_get_contents (notpng, &kept, NULL, NULL) && strcmp (kept, "my notes") == 0);
  /* the menu item asks where to save */
  GList *before = gtk_window_list_toplevels ();
  guint n_before = g_list_length (before);
  g_list_free (before);
  ck_assert (gtk_widget_activate_action (GTK_WIDGET (win), "win.screenshot", NULL));
  ft_test_app_spin (0.5);
  GList *after = gtk_window_list_toplevels ();
  GtkWidget *chooser = NULL;
  for (GList *l = after; l; l = l->next)
    if (GTK_IS_FILE_CHOOSER (l->data) && gtk_widget_get_visible (l->data))
      chooser = l->data;
  ck_assert_msg (chooser != NULL && g_list_length (after) > n_before, "Save Screenshot opened no file chooser");
  g_list_free (after);
  gtk_dialog_response (GTK_DIALOG (chooser), GTK_RESPONSE_CANCEL);
  ft_test_app_spin (0.2);

  /* 5: the end of the run: the clock stops at the end, a message says so,
   * and Play starts the run again. */
  ft_session_set_speed (session, 0);
  ck_assert (gtk_widget_activate_action (GTK_WIDGET (win), "win.play", NULL));
  until = g_get_monotonic_time () + 120 * G_USEC_PER_SEC;
  while (!ft_session_get_finished (session) && g_get_monotonic_time () < until)
    ft_test_app_spin (0.05);
  ft_test_app_spin (0.5);
  printf ("end: t %" G_GINT64_FORMAT " of %" G_GINT64_FORMAT " ms, clock \"%s\", toast \"%s\"\n",
          ft_session_get_time (session), ft_session_get_end_time (session), ft_window_get_clock_text (win),
          ft_window_get_toast (win));
  ck_assert (ft_session_get_finished (session));
  ck_assert (!ft_session_get_playing (session));
  ck_assert_int_eq (ft_session_get_time (session), ft_session_get_end_time (session));
  ck_assert (strstr (ft_window_get_clock_text (win), "Ended") != NULL);
  ck_assert (strstr (ft_window_get_clock_text (win), "Mon 00:00") == NULL);
  ck_assert (strstr (ft_window_get_clock_text (win), "02:24") != NULL);   /* 0.1 days */
  ck_assert (ft_window_get_toast (win) && strstr (ft_window_get_toast (win), "end of its"));
  ft_test_app_shot (GTK_WIDGET (win), "app-run-ended.png");
  /* At full speed the restarted 0.1-day run can reach its end again within
   * the spin below (it did under a loaded suite); play it at 60x. */
  ft_session_set_speed (session, 60);
  ck_assert (gtk_widget_activate_action (GTK_WIDGET (win), "win.play", NULL));
  ft_test_app_spin (0.3);
  printf ("play after the end: t %" G_GINT64_FORMAT " ms, playing %d, %u archived runs\n",
          ft_session_get_time (session), ft_session_get_playing (session), ft_session_get_archive (session)->len);
  ck_assert (!ft_session_get_finished (session));
  ck_assert (ft_session_get_time (session) < ft_session_get_end_time (session));
  ck_assert (ft_session_get_playing (session));
  ft_session_pause (session);

  /* 6: Compare Runs names the runs, compares the finished one and names
   * the run stopped early apart (tests/ui/app/test-compare.c goes further). */
  GPtrArray *arch = ft_session_get_archive (session);
  ck_assert_uint_eq (arch->len, 2);
  FtResultsView *cmp = ft_results_view_new (GTK_WINDOW (win), session);
  gtk_window_present (GTK_WINDOW (cmp));
  ft_test_app_spin (0.3);
  ft_test_app_shot (GTK_WIDGET (cmp), "app-compare-runs.png");
  g_autofree char *table = ft_results_view_dup_text (cmp);
  printf ("compare runs: %s\n", table);
  ck_assert (strstr (table, "Short run · seed 11 · ") != NULL);
  ck_assert (strstr (table, "Not compared (not finished)") != NULL);
  ck_assert (strstr (table, "stopped at 00:30 of 02:24") != NULL);
  ck_assert (strstr (table, "Run 1") == NULL);
  ck_assert_uint_eq (ft_results_view_get_compared (cmp)->len, 1);
  ft_results_view_set_include_partial (cmp, TRUE);
  ck_assert_uint_eq (ft_results_view_get_compared (cmp)->len, 3);   /* and the current run */
  g_free (table);
  table = ft_results_view_dup_text (cmp);
  ck_assert (strstr (table, "vs baseline") != NULL && strstr (table, " %)") != NULL);
  ck_assert (strstr (table, "current · running: ") != NULL);
  ck_assert (ft_session_remove_run (session, ((FtRun *) arch->pdata[0])->id));
  ck_assert_uint_eq (arch->len, 1);
  g_free (table);
  table = ft_results_view_dup_text (cmp);
  ck_assert (strstr (table, "stopped at 00:30 of 02:24") == NULL);
  gtk_window_destroy (GTK_WINDOW (cmp));

  g_unlink (bin); g_unlink (bad); g_unlink (good); g_unlink (png); g_unlink (notpng);
  g_rmdir (tmp);
  ft_test_app_stop (app, win);
}
END_TEST

/* Item 11: the map takes the space; the sidebar keeps its width, fits and
 * scrolls. Screenshots at 1280x720 and 2560x1440, light and dark. */
static void
check_size (FtWindow *win, int width, int height, const char *tag)
{
  ck_assert (wait_for_map (win, 20) >= 0);
  ft_test_app_spin (0.5);
  GtkWidget *side = ft_window_get_sidebar (win);
  GtkWidget *map = GTK_WIDGET (ft_window_get_map (win));
  graphene_rect_t sb, mb;
  ck_assert (gtk_widget_compute_bounds (side, GTK_WIDGET (win), &sb));
  ck_assert (gtk_widget_compute_bounds (map, GTK_WIDGET (win), &mb));
  int ww = gtk_widget_get_width (GTK_WIDGET (win)), wh = gtk_widget_get_height (GTK_WIDGET (win));
  for (GtkWidget *c = gtk_widget_get_first_child (side); c; c = gtk_widget_get_next_sibling (c))
    {
      int cmin = 0, cnat = 0;
      gtk_widget_measure (c, GTK_ORIENTATION_HORIZONTAL, -1, &cmin, &cnat, NULL, NULL);
      printf ("  sidebar child %s: min %d, natural %d\n", G_OBJECT_TYPE_NAME (c), cmin, cnat);
    }
  printf ("%s: window %dx%d, map %.0fx%.0f, sidebar %.0fx%.0f at x %.0f\n", tag, ww, wh, mb.size.width,
          mb.size.height, sb.size.width, sb.size.height, sb.origin.x);
  ck_assert_int_le (ww, width + 2);
  ck_assert_int_le (wh, height + 2);
  ck_assert_msg (sb.origin.x + sb.size.width <= ww + 1, "the sidebar is cut off");
  ck_assert_msg (sb.size.width <= 440, "the sidebar took the space (%.0f px)", sb.size.width);
  ck_assert_msg (mb.size.width >= ww - 460, "the map did not take the space");
  /* The legend: folded to its title on a short map, so it covers little
   * of the map's corner; open on a tall one. */
  graphene_rect_t lb;
  ck_assert (gtk_widget_compute_bounds (ft_window_get_legend (win), GTK_WIDGET (win), &lb));
  double legend_share = lb.size.width * lb.size.height / (mb.size.width * mb.size.height);
  printf ("%s: legend %.0fx%.0f, %.1f %% of the map\n", tag, lb.size.width, lb.size.height, legend_share * 100);
  if (height <= 800)
    ck_assert_msg (legend_share < 0.01, "the legend covers %.1f %% of the map", legend_share * 100);
  else
    ck_assert_msg (lb.size.height > 150, "the legend is folded on a %d px tall window", height);
  g_autofree char *light = g_strdup_printf ("app-%s-light.png", tag);
  g_autofree char *dark = g_strdup_printf ("app-%s-dark.png", tag);
  g_autoptr(GdkTexture) l = ft_test_app_shot (GTK_WIDGET (win), light);
  g_object_set (gtk_settings_get_default (), "gtk-application-prefer-dark-theme", TRUE, NULL);
  ft_test_app_spin (0.5);
  g_autoptr(GdkTexture) d = ft_test_app_shot (GTK_WIDGET (win), dark);
  g_object_set (gtk_settings_get_default (), "gtk-application-prefer-dark-theme", FALSE, NULL);
  ft_test_app_spin (0.2);
}

START_TEST (test_sizing)
{
  FtApplication *app;
  FtWindow *win = start_app_sized (&app, load_phase1 (), 1280, 720);
  FtSession *session = ft_window_get_session (win);
  int minw = 0, minh = 0;
  gtk_widget_measure (GTK_WIDGET (win), GTK_ORIENTATION_HORIZONTAL, -1, &minw, NULL, NULL, NULL);
  gtk_widget_measure (GTK_WIDGET (win), GTK_ORIENTATION_VERTICAL, 1280, &minh, NULL, NULL, NULL);
  printf ("window minimum %dx%d\n", minw, minh);
  ck_assert_int_le (minw, 1024);
  ck_assert_int_le (minh, 600);
  /* 14: the first minute starts at a busy hour with seeded charts, a
   * welcome, labelled tabs and fading lost-demand marks. */
  ck_assert_int_eq (ft_session_get_time (session), 0);
  ft_window_welcome (win);
  FtTime busy = ft_session_get_busy_start (session);
  gint64 until = g_get_monotonic_time () + 120 * G_USEC_PER_SEC;
  while (ft_session_get_time (session) < busy && g_get_monotonic_time () < until)
    ft_test_app_spin (0.05);
  ft_test_app_spin (0.6);
  g_autofree char *at = ft_time_format (ft_session_get_time (session));
  printf ("welcome: at %s, %u chart samples, toast \"%.60s…\"\n", at, ft_session_get_history (session)->len,
          ft_window_get_toast (win));
  ck_assert_int_ge (busy, 5 * FT_HOUR);
  ck_assert_int_eq (ft_session_get_time (session), busy);
  ck_assert_uint_ge (ft_session_get_history (session)->len, 60);
  ck_assert (ft_window_get_toast (win) && strstr (ft_window_get_toast (win), "Welcome"));
  for (const char *const *t = (const char *const[]) { "KPIs", "Inspect", "Dispatch", "Ride", NULL }; *t; t++)
    ck_assert_msg (find_button_labelled (GTK_WIDGET (win), *t) != NULL, "no tab labelled %s", *t);
  FtFrame *f = ft_session_get_frame (session);
  guint drawn = ft_overlay_layer_get_n_lost_drawn (ft_window_get_overlay_layer (win));
  guint faded = 0;
  for (guint i = 0; i < f->n_lost; i++)
    faded += f->lost_age && f->lost_age[i] >= 1;
  printf ("lost demand: %u marks kept, %u faded out, %u drawn\n", f->n_lost, faded, drawn);
  ck_assert_uint_gt (faded, 0);
  ck_assert_uint_le (drawn, f->n_lost - faded);
  check_size (win, 1280, 720, "1280x720");
  double side_small = gtk_widget_get_width (ft_window_get_sidebar (win));
  /* The same session in a big window. */
  FtWindow *big = ft_window_new (GTK_APPLICATION (app), session);
  gtk_window_set_default_size (GTK_WINDOW (big), 2560, 1440);
  gtk_window_present (GTK_WINDOW (big));
  check_size (big, 2560, 1440, "2560x1440");
  double side_big = gtk_widget_get_width (ft_window_get_sidebar (big));
  ck_assert_msg (fabs (side_big - side_small) < 40, "the sidebar grew from %.0f to %.0f px", side_small, side_big);
  gtk_window_destroy (GTK_WINDOW (big));
  ft_test_app_stop (app, win);
}
END_TEST


static guint
count_visible_charts (FtWindow *win)
{
  guint n = 0;
  for (GtkWidget *c = gtk_widget_get_first_child (ft_window_get_kpi_panel (win)); c; c = gtk_widget_get_next_sibling (c))
    if (FT_IS_KPI_CHART (c) && gtk_widget_get_visible (c))
      n++;
  return n;
}

/* Issue 14 in the app: the price layer (multiplier per zone), the current
 * offers, the rider's price and offer before booking, and the levers' KPI
 * charts (revenue per vehicle, incentive spend, moves earned). */
START_TEST (test_levers)
{
  g_autofree char *p = g_build_filename (FT_SOURCE_DIR, "scenarios", "demo-city-levers.scenario", NULL);
  g_autoptr(GError) error = NULL;
  FtSimScenario *sc = ft_sim_scenario_load (p, &error);
  ck_assert_msg (sc != NULL, "%s", error ? error->message : "");
  FtApplication *app;
  FtWindow *win = start_app_sized (&app, sc, 1280, 720);
  FtSession *session = ft_window_get_session (win);
  ck_assert (wait_for_map (win, 20) >= 0);
  ft_session_run_to (session, 8 * FT_HOUR + 30 * FT_MINUTE);
  gint64 until = g_get_monotonic_time () + 200 * G_USEC_PER_SEC;
  while (ft_session_get_time (session) < 8 * FT_HOUR + 30 * FT_MINUTE && g_get_monotonic_time () < until)
    ft_test_app_spin (0.05);
  ck_assert_int_ge (ft_session_get_time (session), 8 * FT_HOUR + 30 * FT_MINUTE);
  ft_test_app_spin (0.5);
  FtFrame *f = ft_session_get_frame (session);
  ck_assert_msg (f->zone_price != NULL && f->zone_offer != NULL, "the frame carries no prices or offers");
  guint surged = 0, offers = 0;
  float top = 1;
  for (guint z = 0; z < f->n_zones; z++)
    {
      surged += f->zone_price[z] > 1.001f;
      top = MAX (top, f->zone_price[z]);
      offers += f->zone_offer[z] != 0;
      ck_assert (f->zone_price[z] >= 1.0f - 1e-6f && f->zone_price[z] <= f->price_cap + 1e-6f);
    }
  printf ("levers at 08:30: %u of %u zones above x1.0 (top x%.1f, cap x%.1f), %u zones with offers\n", surged,
          f->n_zones, top, f->price_cap, offers);
  ck_assert_uint_gt (surged, 0);
  ck_assert_uint_gt (offers, 0);

  /* The layers, switched on as the Layers page does. */
  FtOverlayLayer *ov = ft_window_get_overlay_layer (win);
  ft_overlay_layer_set_flags (ov, ft_overlay_layer_get_flags (ov) | FT_OVERLAY_PRICES | FT_OVERLAY_OFFERS);
  ft_test_app_spin (0.3);
  g_autoptr(GdkTexture) shot = ft_test_app_shot (GTK_WIDGET (win), "app-levers-1280x720.png");
  printf ("price labels drawn %u, offer zones outlined %u\n", ft_overlay_layer_get_n_prices_drawn (ov),
          ft_overlay_layer_get_n_offers_drawn (ov));
  ck_assert_uint_gt (ft_overlay_layer_get_n_prices_drawn (ov), 0);
  ck_assert_uint_gt (ft_overlay_layer_get_n_offers_drawn (ov), 0);

  /* The levers' charts show with the levers on. */
  ck_assert_uint_eq (count_visible_charts (win), 7);

  /* The rider sees the price (and any offer) before booking. */
  ft_session_set_role (session, FT_ROLE_VIEW_RIDER);
  guint v = 0;
  for (; v < f->n_vehicles && f->vehicles[v].state != FT_STATE_AVAILABLE; v++)
    ;
  ck_assert (v < f->n_vehicles);
  ft_window_set_marker (win, ft_mercator_to_latlon (f->vehicles[v].mx, f->vehicles[v].my));
  ck_assert (gtk_widget_activate_action (GTK_WIDGET (win), "win.rider-find", NULL));
  const char *rt = ft_window_get_rider_text (win);
  printf ("rider find: %.200s\n", rt);
  ck_assert_msg (strstr (rt, "price now:"), "no price before booking: %s", rt);
  ck_assert (gtk_widget_activate_action (GTK_WIDGET (win), "win.rider-reserve", NULL));
  rt = ft_window_get_rider_text (win);
  ck_assert_msg (strstr (rt, "Price fixed now"), "reserve: %s", rt);
  ft_test_app_stop (app, win);
}
END_TEST

/* Issue 12 in the app: the shadow forecast against actual per zone (a
 * chart and a map layer), labelled as shadow. */
static const char *shadow_scenario =
  "[scenario]\nname=Shadow test\ncity=demo\ndays=3\nseed=12\n"
  "[fleet]\nscooters=150\nbikes=0\nmopeds=0\n"
  "[demand]\nrequests_per_day=2500\nrouting=straight\n"
  "[staff]\nfield_staff=2\ndispatchers=1\n"
  "[faults]\nfaults_per_1000km=8\n"
  "[models]\nforecast=true\nforecast_model=mean\ncadence_min=60\nhorizons=1, 3\n"
  "training_days=2\nfirst_fit_days=2\nretrain_days=7\nholdout_hours=6\n"
  "maint=true\nmaint_cadence_min=120\nmaint_first_fit_days=1\nmaint_training_days=1\nmaint_holdout_days=0\n";

START_TEST (test_shadow)
{
  g_autoptr(GError) error = NULL;
  FtSimScenario *sc = ft_sim_scenario_parse (shadow_scenario, -1, "shadow", &error);
  ck_assert_msg (sc != NULL, "%s", error ? error->message : "");
  FtApplication *app;
  FtWindow *win = start_app_sized (&app, sc, 1280, 720);
  FtSession *session = ft_window_get_session (win);
  FtTime to = 2 * FT_DAY + 18 * FT_HOUR;
  ft_session_run_to (session, to);
  gint64 until = g_get_monotonic_time () + 240 * G_USEC_PER_SEC;
  while (ft_session_get_time (session) < to && g_get_monotonic_time () < until)
    ft_test_app_spin (0.05);
  ck_assert_int_ge (ft_session_get_time (session), to);
  ck_assert (gtk_widget_activate_action (GTK_WIDGET (win), "win.shadow-models", NULL));
  FtShadowWindow *sw = NULL;
  GList *tops = gtk_window_list_toplevels ();
  for (GList *l = tops; l; l = l->next)
    if (FT_IS_SHADOW_WINDOW (l->data))
      sw = l->data;
  g_list_free (tops);
  ck_assert_msg (sw != NULL, "win.shadow-models opened nothing");
  printf ("shadow: %s\n", ft_shadow_window_get_status (sw));
  ck_assert_msg (g_str_has_prefix (ft_shadow_window_get_status (sw), "SHADOW"), "not labelled as shadow: %s",
                 ft_shadow_window_get_status (sw));
  guint nz = 0;
  const double *fc = ft_shadow_window_get_zone_forecast (sw, &nz);
  const double *ac = ft_shadow_window_get_zone_actual (sw, &nz);
  double sf = 0, sa = 0;
  for (guint z = 0; z < nz; z++)
    sf += fc[z], sa += ac[z];
  printf ("last %u h: forecast %.0f, actual %.0f requests over %u zones\n", ft_shadow_window_get_hours (sw), sf, sa,
          nz);
  ck_assert_uint_eq (nz, ft_session_get_city (session)->n_zones);
  ck_assert_uint_gt (ft_shadow_window_get_hours (sw), 6);
  ck_assert (sf > 0 && sa > 0);
  ck_assert_uint_eq (ft_overlay_layer_get_n_zone_values (ft_window_get_overlay_layer (win)), nz);
  /* the maintenance-risk list, labelled shadow, highest risk first; a row
   * selects its vehicle on the map and shows it in the inspector */
  printf ("%s\n", ft_shadow_window_get_maint_status (sw));
  ck_assert_msg (g_str_has_prefix (ft_shadow_window_get_maint_status (sw), "SHADOW maintenance · maint-weibull"),
                 "%s", ft_shadow_window_get_maint_status (sw));
  guint nr = 0;
  const FtShadowWindowRisk *risk = ft_shadow_window_get_risks (sw, &nr);
  ck_assert_uint_gt (nr, 5);
  ck_assert_uint_le (nr, FT_SHADOW_WINDOW_RISKS);
  for (guint i = 0; i < nr; i++)
    {
      ck_assert (g_str_has_prefix (risk[i].code, "FT-"));
      ck_assert (risk[i].p24 >= 0 && risk[i].p24 <= risk[i].p7d && risk[i].p7d <= 1);
      ck_assert (risk[i].km_since_service >= 0);
      ck_assert (i == 0 || risk[i - 1].p24 >= risk[i].p24);
    }
  printf ("riskiest: %s P24h %.3f P7d %.3f, %.1f km since service\n", risk[0].code, risk[0].p24, risk[0].p7d,
          risk[0].km_since_service);
  ft_shadow_window_select_risk (sw, 0);
  FtVehicleLayer *vl = ft_window_get_vehicle_layer (win);
  g_autoptr(GArray) sel = ft_vehicle_layer_dup_selection (vl);
  ck_assert_uint_eq (sel->len, 1);
  ck_assert_uint_eq (g_array_index (sel, guint, 0), risk[0].vehicle);
  ck_assert_msg (strstr (ft_window_get_inspector_text (win), risk[0].code) != NULL, "inspector: %s",
                 ft_window_get_inspector_text (win));
  g_autoptr(GdkTexture) shot = ft_test_app_shot (GTK_WIDGET (sw), "app-shadow.png");
  g_autoptr(GdkTexture) mshot = ft_test_app_shot (GTK_WIDGET (win), "app-shadow-map.png");
  gtk_window_destroy (GTK_WINDOW (sw));
  /* the map layer goes with the window */
  ck_assert_uint_eq (ft_overlay_layer_get_n_zone_values (ft_window_get_overlay_layer (win)), 0);
  ft_test_app_stop (app, win);
}
END_TEST

/* Issue 15: the Dashboard over the recorded run (charts, filters, a map
 * layer) and Export Report, the same PDF as `fleet-twin-cli report`. */
static const char *dash_scenario =
  "[scenario]\nname=Dashboard test\ncity=demo\ndays=1\nseed=21\n"
  "[fleet]\nscooters=300\nbikes=0\nmopeds=0\ninitial_soc_min=0.2\ninitial_soc_max=0.9\n"
  "[demand]\nrequests_per_day=3000\n"
  "[staff]\nfield_staff=3\ndispatchers=1\nshift_hours=12\nshift_starts=06:00\n";

static void
rm_tree (const char *path)
{
  if (g_file_test (path, G_FILE_TEST_IS_DIR) && !g_file_test (path, G_FILE_TEST_IS_SYMLINK))
    {
      g_autoptr(GDir) dir = g_dir_open (path, 0, NULL);
      const char *name;
      while (dir && (name = g_dir_read_name (dir)))
        {
          g_autofree char *child = g_build_filename (path, name, NULL);
          rm_tree (child);
        }
      g_rmdir (path);
    }
  else
    g_unlink (path);
}

static void
wait_dashboard (FtDashboardWindow *dw)
{
  gint64 until = g_get_monotonic_time () + 60 * G_USEC_PER_SEC;
  ft_test_app_spin (0.05);
  while (ft_dashboard_window_is_busy (dw) && g_get_monotonic_time () < until)
    ft_test_app_spin (0.05);
  ck_assert_msg (!ft_dashboard_window_is_busy (dw), "the dashboard never finished reading");
}

static double
sum24 (const double *v)
{
  double s = 0;
  for (int i = 0; i < 24; i++)
    s += isfinite (v[i]) ? v[i] : 0;
  return s;
}

START_TEST (test_dashboard)
{
  gtk_init ();
  FtApplication *app = ft_application_new ();
  g_autoptr(GError) error = NULL;
  ck_assert (g_application_register (G_APPLICATION (app), NULL, &error));
  g_autofree char *tmp = g_dir_make_tmp ("ft-dash-XXXXXX", &error);
  ck_assert_msg (tmp != NULL, "%s", error ? error->message : "");
  g_autoptr(FtSession) session = ft_session_new ();
  ft_session_set_record_dir (session, tmp);
  FtSimScenario *sc = ft_sim_scenario_parse (dash_scenario, -1, "dash", &error);
  ck_assert (sc != NULL);
  ck_assert_msg (ft_session_load (session, sc, NULL, &error), "%s", error ? error->message : "");
  g_autofree char *db = g_strdup (ft_session_get_store_path (session));
  ck_assert_msg (db && g_str_has_prefix (db, tmp), "the run is not recorded");
  FtWindow *win = ft_window_new (GTK_APPLICATION (app), session);
  gtk_window_set_default_size (GTK_WINDOW (win), 1280, 720);
  gtk_window_present (GTK_WINDOW (win));
  ft_session_run_to (session, 14 * FT_HOUR);
  gint64 until = g_get_monotonic_time () + 120 * G_USEC_PER_SEC;
  while (ft_session_get_time (session) < 14 * FT_HOUR && g_get_monotonic_time () < until)
    ft_test_app_spin (0.05);
  ck_assert_int_ge (ft_session_get_time (session), 14 * FT_HOUR);

  /* Opened from the window's action. */
  ck_assert (gtk_widget_activate_action (GTK_WIDGET (win), "win.dashboard", NULL));
  FtDashboardWindow *dw = NULL;
  GList *tops = gtk_window_list_toplevels ();
  for (GList *l = tops; l; l = l->next)
    if (FT_IS_DASHBOARD_WINDOW (l->data))
      dw = l->data;
  g_list_free (tops);
  ck_assert_msg (dw != NULL, "win.dashboard opened no dashboard");
  wait_dashboard (dw);
  const FtDashboard *d = ft_dashboard_window_get_data (dw);
  ck_assert_msg (d != NULL, "no data: %s", ft_dashboard_window_get_status (dw));
  const FtSimKpis *k = ft_session_get_kpis (session);
  printf ("dashboard: %s (session: %" G_GUINT64_FORMAT " served, %" G_GUINT64_FORMAT " lost)\n",
          ft_dashboard_window_get_status (dw), k->trips_served, k->trips_lost);
  ck_assert_uint_eq (d->n_days, 1);
  ck_assert_uint_eq (d->n_zones, ft_session_get_city (session)->n_zones);
  /* the aggregates agree with the simulator's own counts (a few trips may
   * still be open or fall in the last uncommitted minutes) */
  ck_assert_msg (fabs (d->total_served - (double) k->trips_served) <= 0.02 * k->trips_served + 5,
                 "dashboard %.0f served, simulator %" G_GUINT64_FORMAT, d->total_served, k->trips_served);
  ck_assert (d->total_revenue > 0 && sum24 (d->served_hod) > 0);
  ck_assert_msg (d->util_hod[9] > 0 && d->util_hod[9] < 1, "utilisation at 09: %f", d->util_hod[9]);
  ck_assert (isnan (d->util_hod[20]));   /* no data after 14:00 */

  /* Filters: one zone, then a kind with no vehicle. */
  int best = 0;
  for (guint z = 1; z < d->n_zones; z++)
    if (d->zone_revenue[z] > d->zone_revenue[best])
      best = z;
  double all_served = d->total_served, all_down = 0;
  for (guint i = 0; i < d->n_fleet_days; i++)
    all_down += d->downtime_h[i];
  FtDashFilter f = { -1, -1, best, -1 };
  ft_dashboard_window_set_filter (dw, &f);
  wait_dashboard (dw);
  d = ft_dashboard_window_get_data (dw);
  ck_assert (d != NULL);
  printf ("zone %d (%s): %.0f of %.0f served\n", best, d->zone_names[best], d->total_served, all_served);
  ck_assert (d->total_served > 0 && d->total_served < all_served);
  f = (FtDashFilter) { -1, -1, -1, FT_KIND_BIKE };
  ft_dashboard_window_set_filter (dw, &f);
  wait_dashboard (dw);
  d = ft_dashboard_window_get_data (dw);
  double bike_down = 0;
  for (guint i = 0; i < d->n_fleet_days; i++)
    bike_down += d->downtime_h[i];
  printf ("downtime: all kinds %.1f vehicle-hours, bikes %.1f\n", all_down, bike_down);
  ck_assert (all_down > 0);
  ck_assert (bike_down == 0);
  /* Days outside the run: the controls keep to the run's days, and the
   * model refuses them with a message naming them. */
  f = (FtDashFilter) { 4, 6, -1, -1 };
  ft_dashboard_window_set_filter (dw, &f);
  wait_dashboard (dw);
  printf ("days 5-7 of a 1-day run in the window: %s\n", ft_dashboard_window_get_status (dw));
  ck_assert (strstr (ft_dashboard_window_get_status (dw), "Days 1 of 1"));
  sqlite3 *h = NULL;
  ck_assert (sqlite3_open_v2 (db, &h, SQLITE_OPEN_READONLY, NULL) == SQLITE_OK);
  FtDashboard *bad = ft_dashboard_query (h, &f, &error);
  ck_assert (bad == NULL && error && strstr (error->message, "outside the data"));
  printf ("the model: %s\n", error->message);
  g_clear_error (&error);
  FtDashFilter bad_zone = { -1, -1, 9999, -1 };
  ck_assert (ft_dashboard_query (h, &bad_zone, &error) == NULL && strstr (error->message, "zone 9999"));
  g_clear_error (&error);
  sqlite3_close (h);
  f = (FtDashFilter) { -1, -1, -1, -1 };
  ft_dashboard_window_set_filter (dw, &f);
  wait_dashboard (dw);
  d = ft_dashboard_window_get_data (dw);

  /* The map heat layer: zones coloured by revenue in the main window. */
  ft_dashboard_window_set_map_layer (dw, FT_DASH_MAP_REVENUE);
  ck_assert_uint_eq (ft_overlay_layer_get_n_zone_values (ft_window_get_overlay_layer (win)), d->n_zones);

  gtk_window_set_default_size (GTK_WINDOW (dw), 1280, 720);
  g_autoptr(GdkTexture) shot = ft_test_app_shot (GTK_WIDGET (dw), "app-dashboard.png");
  FtPixelStats st;
  ft_screenshot_stats (shot, 0, 0, 0, 0, &st);
  printf ("dashboard shot: %ux%u, %u colours\n", st.width, st.height, st.n_colours);
  ck_assert (st.n_colours > 20);
  g_autoptr(GdkTexture) mshot = ft_test_app_shot (GTK_WIDGET (win), "app-dashboard-map.png");

  /* Export Report: the CLI's PDF and folder, through FtOutput. */
  g_autofree char *pdf = g_build_filename (tmp, "report.pdf", NULL);
  guint pages = 0;
  ck_assert_msg (ft_dashboard_window_export_report (dw, pdf, &pages, &error), "%s", error ? error->message : "");
  g_autofree char *head = NULL;
  gsize len = 0;
  ck_assert (g_file_get_contents (pdf, &head, &len, NULL) && len > 1000 && memcmp (head, "%PDF-", 5) == 0);
  g_autofree char *png = g_build_filename (tmp, "report", "revenue-by-hour.png", NULL);
  ck_assert_msg (g_file_test (png, G_FILE_TEST_IS_REGULAR), "no %s", png);
  printf ("export: %s, %u pages, %zu bytes\n", pdf, pages, (size_t) len);
  ck_assert_uint_eq (pages, FT_REPORT_N_PAGES);
  ck_assert (ft_dashboard_window_export_report (dw, pdf, NULL, &error));   /* its own: replaced */
  /* someone else's file is refused and left alone */
  g_autofree char *foreign = g_build_filename (tmp, "notes.pdf", NULL);
  ck_assert (g_file_set_contents (foreign, "my notes", -1, NULL));
  ck_assert (!ft_dashboard_window_export_report (dw, foreign, NULL, &error));
  printf ("foreign target: %s\n", error->message);
  g_clear_error (&error);
  g_autofree char *kept = NULL;
  ck_assert (g_file_get_contents (foreign, &kept, NULL, NULL) && g_str_equal (kept, "my notes"));

  gtk_window_destroy (GTK_WINDOW (dw));
  ft_test_app_stop (app, win);
  /* the run's database goes with the session */
  g_clear_object (&session);
  ck_assert_msg (!g_file_test (db, G_FILE_TEST_EXISTS), "%s was left behind", db);
  rm_tree (tmp);
}
END_TEST

int
main (void)
{
  setvbuf (stdout, NULL, _IOLBF, 0);   /* keep what a failed test printed */
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
  tc = tcase_create ("clicks-and-keys");
  tcase_add_test (tc, test_clicks_and_keys);
  tcase_set_timeout (tc, 180);
  suite_add_tcase (s, tc);
  tc = tcase_create ("dispatch-tasks");
  tcase_add_test (tc, test_dispatch_tasks);
  tcase_set_timeout (tc, 180);
  suite_add_tcase (s, tc);
  tc = tcase_create ("live-errors");
  tcase_add_test (tc, test_live_errors);
  tcase_set_timeout (tc, 120);
  suite_add_tcase (s, tc);
  tc = tcase_create ("messages-and-end");
  tcase_add_test (tc, test_messages_and_end);
  tcase_set_timeout (tc, 240);
  suite_add_tcase (s, tc);
  tc = tcase_create ("first-minute-and-sizing");
  tcase_add_test (tc, test_sizing);
  tcase_set_timeout (tc, 240);
  suite_add_tcase (s, tc);
  tc = tcase_create ("levers");
  tcase_add_test (tc, test_levers);
  tcase_set_timeout (tc, 300);
  suite_add_tcase (s, tc);
  tc = tcase_create ("shadow");
  tcase_add_test (tc, test_shadow);
  tcase_set_timeout (tc, 300);
  suite_add_tcase (s, tc);
  tc = tcase_create ("dashboard");
  tcase_add_test (tc, test_dashboard);
  tcase_set_timeout (tc, 300);
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
