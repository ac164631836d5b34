/* test-live-app.c — the desktop app in Live mode under Xvfb, in process,
 * against a real mosquitto on a free loopback port (tests/live/live-broker.c).
 *
 * live-unlock: an in-process emulator (ft_live_emu_*, on its own thread)
 *   publishes 12 vehicles around Demo City's centre; the window is switched
 *   to Live with the broker in GSettings; the vehicles must appear in the
 *   live frame and as vehicle-coloured pixels on the map, the inspector must
 *   show the last telemetry, and an Unlock from the Live page must be
 *   published, obeyed by the emulator and acknowledged in the commands list.
 *   A screenshot goes to $FT_SHOTS_DIR/live-mode.png. Then the emulator
 *   stops answering: a lock is resent and shows "retried (attempt 2)"; once
 *   it answers again the lock is acked after the retry. Dispatch assigns
 *   swap tasks to a van over <prefix>/staff/<id>/tasks; the emulated crew
 *   app acks and accepts them and the app's assignment table shows it.
 * tls-refused: a TLS broker with a password file; a wrong password shows
 *   "refused" with the broker's reason, the right one (memory only) connects.
 */
#include "ft-config.h"
#include "ft-test-app.h"
#include "ft-application.h"
#include "ft-screenshot.h"
#include "ft-window.h"
#include "ft-broker-dialog.h"
#include "ft-dashboard-window.h"
#include "live-broker.h"

#include <check.h>
#include <glib/gstdio.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#define PFX "ft/uitest"
#define N_EMU 12

static FtWindow *
start_app (FtApplication **app_out)
{
  gtk_init ();
  FtApplication *app = ft_application_new ();
  g_autoptr(GError) error = NULL;
  ck_assert_msg (g_application_register (G_APPLICATION (app), NULL, &error), "%s", error ? error->message : "");
  g_autofree char *p = g_build_filename (FT_SOURCE_DIR, "scenarios", "demo-city-phase1.scenario", NULL);
  FtSimScenario *sc = ft_sim_scenario_load (p, &error);
  ck_assert_msg (sc != NULL, "%s", error ? error->message : "");
  g_autoptr(FtSession) session = ft_session_new ();
  ck_assert_msg (ft_session_load (session, sc, NULL, &error), "%s", error ? error->message : "");
  FtWindow *win = ft_window_new (GTK_APPLICATION (app), session);
  gtk_window_set_default_size (GTK_WINDOW (win), 1280, 800);
  gtk_window_present (GTK_WINDOW (win));
  *app_out = app;
  return win;
}

/* ---------------------------------------------------------------- emulator */

typedef struct {
  FtLiveEmu        *emu;
  FtLiveEmuVehicle  v[N_EMU];
  FtLiveEmuStaff    staff[2];
  gint              stop;
  gint              hold;     /* drop commands unanswered (device out of reach) */
  gint              obeyed;
  gint              tasks_acked;
  gint              trips;    /* vehicles 0..3 ride: trip_start, then trip_end 250 m on */
  gint              n_trips;  /* trips ended */
} Emu;

static gpointer
emu_thread (gpointer data)
{
  Emu *e = data;
  FtTime now = g_get_real_time () / 1000;
  ft_live_emu_announce (e->emu, e->v, N_EMU, now);
  while (!g_atomic_int_get (&e->stop))
    {
      now = g_get_real_time () / 1000;
      ft_live_emu_publish (e->emu, e->v, N_EMU, now, -1);
      ft_live_emu_publish_staff (e->emu, e->staff, G_N_ELEMENTS (e->staff), now);
      for (guint i = 0; i < 4 && g_atomic_int_get (&e->trips); i++)
        {
          FtLiveEmuVehicle *v = &e->v[i];
          gboolean riding = g_str_equal (v->state, "on_trip");
          if (riding)
            {
              v->pos.lat += (i % 2 ? -1 : 1) * 250.0 / 111320.0;
              g_strlcpy (v->state, "available", sizeof v->state);
            }
          else
            g_strlcpy (v->state, "on_trip", sizeof v->state);
          if (ft_live_emu_publish_event (e->emu, v, riding ? "trip_end" : "trip_start", now) && riding)
            g_atomic_int_inc (&e->n_trips);
        }
      guint nc = 0;
      g_autofree FtLiveEmuCommand *cmds = ft_live_emu_poll (e->emu, &nc);
      for (guint i = 0; i < nc && !g_atomic_int_get (&e->hold); i++)
        if (ft_live_emu_obey (e->emu, e->v, N_EMU, &cmds[i], now))
          g_atomic_int_inc (&e->obeyed);
      /* task assignments: ack, then report the crew on its way */
      guint nt = 0;
      g_autofree FtLiveEmuTask *tasks = ft_live_emu_poll_tasks (e->emu, &nt);
      for (guint i = 0; i < nt && !g_atomic_int_get (&e->hold); i++)
        if (ft_live_emu_ack_task (e->emu, &tasks[i], "ok", NULL, now) &&
            ft_live_emu_task_status (e->emu, tasks[i].staff_id, tasks[i].task, "accepted", NULL, now))
          g_atomic_int_inc (&e->tasks_acked);
      g_usleep (200000);
    }
  ft_live_emu_stop (e->emu, e->v, N_EMU, g_get_real_time () / 1000);
  return NULL;
}

static void
emu_init (Emu *e, const char *url, FtLatLon centre)
{
  FtLiveConfig cfg;
  ft_live_config_init (&cfg);
  cfg.url = g_strdup (url);
  cfg.prefix = g_strdup (PFX);
  cfg.client_id = g_strdup ("ui-test-emulator");
  g_autoptr(GError) error = NULL;
  e->emu = ft_live_emu_new (&cfg, &error);
  ft_live_config_clear (&cfg);
  ck_assert_msg (e->emu != NULL, "%s", error ? error->message : "");
  ck_assert_msg (ft_live_emu_connect (e->emu, 10000, &error), "%s", error ? error->message : "");
  for (guint i = 0; i < N_EMU; i++)
    {
      FtLiveEmuVehicle *v = &e->v[i];
      g_autofree char *uuid = g_uuid_string_random ();
      g_strlcpy (v->device_id, uuid, sizeof v->device_id);
      g_strlcpy (v->kind, i % 3 == 0 ? "bike" : "scooter", sizeof v->kind);
      double a = 2 * G_PI * i / N_EMU, r = 0.002 + 0.0008 * (i % 4);
      v->pos.lat = centre.lat + r * cos (a);
      v->pos.lon = centre.lon + 1.6 * r * sin (a);
      v->battery_pct = 15 + 7 * i;
      g_strlcpy (v->state, "available", sizeof v->state);
      v->locked = TRUE;
    }
  for (guint i = 0; i < G_N_ELEMENTS (e->staff); i++)
    {
      FtLiveEmuStaff *st = &e->staff[i];
      g_snprintf (st->id, sizeof st->id, "van-%u", i + 1);
      st->pos.lat = centre.lat - 0.003;
      st->pos.lon = centre.lon + (i ? 0.004 : -0.004);
      g_strlcpy (st->task_id, i ? "route-7" : "", sizeof st->task_id);   /* the crew app's own label */
      g_strlcpy (st->task_status, i ? "started" : "", sizeof st->task_status);
    }
}

/* ------------------------------------------------------------------ tests */

START_TEST (test_live_unlock)
{
  if (!live_have_tools ())
    {
      printf ("SKIP: mosquitto, mosquitto_passwd or openssl not installed\n");
      return;
    }
  g_autoptr(GError) error = NULL;
  LiveBroker *b = live_broker_start (&error);
  ck_assert_msg (b != NULL, "%s", error ? error->message : "");
  g_autofree char *url = live_broker_url (b);

  FtApplication *app;
  FtWindow *win = start_app (&app);
  FtLatLon centre = ft_session_get_city (ft_window_get_session (win))->center;

  Emu e = { 0 };
  emu_init (&e, url, centre);
  GThread *th = g_thread_new ("emu", emu_thread, &e);

  g_autoptr(GSettings) settings = g_settings_new ("org.mobilitycorp.FleetTwin");
  g_settings_set_string (settings, "live-url", url);
  g_settings_set_string (settings, "live-prefix", PFX);
  g_settings_set_string (settings, "live-mqtt-version", "5");
  ft_window_set_live_mode (win, TRUE);
  ck_assert (ft_window_get_live_mode (win));
  FtLiveSession *live = ft_window_get_live_session (win);

  gint64 t0 = g_get_monotonic_time ();
  FtFrame *f = NULL;
  while (g_get_monotonic_time () - t0 < 20 * G_USEC_PER_SEC)
    {
      ft_test_app_spin (0.1);
      f = ft_live_session_get_frame (live);
      if (ft_live_session_get_state (live) == FT_LIVE_CONNECTED && f && f->n_vehicles == N_EMU &&
          f->n_staff == 2)
        break;
    }
  ck_assert_msg (ft_live_session_get_state (live) == FT_LIVE_CONNECTED, "state %s: %s",
                 ft_live_conn_state_name (ft_live_session_get_state (live)),
                 ft_live_session_get_error (live) ? ft_live_session_get_error (live) : "");
  ck_assert_msg (f && f->n_vehicles == N_EMU, "%u live vehicles, want %u", f ? f->n_vehicles : 0, N_EMU);
  ck_assert_msg (f->n_staff == 2, "%u live staff, want 2", f->n_staff);
  g_autofree char *staff_text = ft_live_session_describe_staff (live, 1);
  ck_assert_msg (strstr (staff_text, "van-") && strstr (staff_text, "Task:"), "staff: %s", staff_text);
  printf ("live: connected and %u vehicles in the frame after %.0f ms\n", f->n_vehicles,
          (g_get_monotonic_time () - t0) / 1000.0);
  for (guint i = 0; i < f->n_vehicles; i++)
    {
      FtLatLon p = ft_mercator_to_latlon (f->vehicles[i].mx, f->vehicles[i].my);
      ck_assert_msg (fabs (p.lat - centre.lat) < 0.01 && fabs (p.lon - centre.lon) < 0.02,
                     "vehicle %u at %f,%f", i, p.lat, p.lon);
    }
  ft_test_app_spin (1.0);   /* tiles and a few frames */

  /* Vehicles drawn on the map: pixels in the vehicle colours. */
  g_autoptr(GdkTexture) map_shot = ft_screenshot_widget (GTK_WIDGET (ft_window_get_map (win)));
  ck_assert (map_shot != NULL);
  guint vehicle_px = ft_screenshot_count_rgb (map_shot, ft_dot_rgb, FT_N_DOTS);
  printf ("live: %u vehicle-coloured pixels on the map\n", vehicle_px);
  /* Each dot has a few pixels of its exact class colour (the rest is
   * outline and antialiasing); the simulated fleet is not drawn any more. */
  ck_assert_uint_ge (vehicle_px, N_EMU * 3);
  ck_assert_uint_lt (vehicle_px, N_EMU * 200);

  /* Inspector: last telemetry of vehicle 0. */
  ft_window_inspect_vehicle (win, 0);
  const char *insp = ft_window_get_inspector_text (win);
  ck_assert_msg (strstr (insp, "Last telemetry") && strstr (insp, "Battery"), "inspector: %s", insp);

  /* Unlock from the Live page. */
  ck_assert (gtk_widget_activate_action (GTK_WIDGET (win), "win.live-command", "s", "unlock"));
  guint n = 0;
  const FtLiveCommand *c = NULL;
  gboolean acked = FALSE;
  t0 = g_get_monotonic_time ();
  while (!acked && g_get_monotonic_time () - t0 < 15 * G_USEC_PER_SEC)
    {
      ft_test_app_spin (0.1);
      c = ft_live_session_get_commands (live, &n);
      acked = n == 1 && c[0].state == FT_CMD_ACKED;
    }
  ck_assert_msg (n == 1, "%u commands", n);
  g_autofree char *st = ft_live_session_command_status (&c[0]);
  ck_assert_msg (acked, "unlock is %s", st);
  ck_assert_int_eq (c[0].kind, FT_CMD_UNLOCK);
  printf ("live: unlock %s %s after %.0f ms\n", c[0].id, st, (g_get_monotonic_time () - t0) / 1000.0);
  g_autofree char *device = g_strdup (c[0].device_id);
  ft_test_app_spin (0.6);   /* labels refresh at most 4 times a second */
  /* Issue 19 item 12: commands are listed by the code people read on the
   * vehicle, not by the device id. */
  const char *code = ft_live_session_get_command_vehicle (live, 0);
  const char *listed = ft_window_get_live_commands_text (win);
  g_autofree char *dev8 = g_strndup (device, 8);
  printf ("live: command list \"%.60s\"\n", listed);
  ck_assert_msg (g_str_has_prefix (code, "FT-"), "command vehicle code '%s'", code);
  ck_assert_msg (strstr (listed, code) && !strstr (listed, dev8), "commands listed as: %s", listed);
  ft_window_inspect_vehicle (win, 0);
  insp = ft_window_get_inspector_text (win);
  ck_assert_msg (strstr (insp, "unlock: acked"), "inspector: %s", insp);

  g_autofree char *path = ft_test_app_shot_path ("live-mode.png");
  g_autoptr(GdkTexture) shot = ft_test_app_shot (GTK_WIDGET (win), "live-mode.png");
  printf ("screenshot: %s\n", path);

  /* Retries show: the device does not answer, the twin resends after 3 s. */
  g_atomic_int_set (&e.hold, 1);
  ck_assert (gtk_widget_activate_action (GTK_WIDGET (win), "win.live-command", "s", "lock"));
  t0 = g_get_monotonic_time ();
  gboolean retried = FALSE;
  while (!retried && g_get_monotonic_time () - t0 < 10 * G_USEC_PER_SEC)
    {
      ft_test_app_spin (0.1);
      c = ft_live_session_get_commands (live, &n);
      retried = n == 2 && c[1].state == FT_CMD_SENT && c[1].attempts >= 2;
    }
  ck_assert_msg (retried, "lock not retried (%u commands)", n);
  ft_window_inspect_vehicle (win, 0);
  insp = ft_window_get_inspector_text (win);
  ck_assert_msg (strstr (insp, "lock: retried (attempt"), "inspector: %s", insp);
  printf ("live: lock retried after %.0f ms\n", (g_get_monotonic_time () - t0) / 1000.0);
  /* The device comes back before the screenshot: a command is published
   * three times, 3 s apart, and a window screenshot under load can take
   * longer than the time left before the last one. */
  g_atomic_int_set (&e.hold, 0);
  g_autoptr(GdkTexture) rshot = ft_test_app_shot (GTK_WIDGET (win), "live-retry.png");
  acked = FALSE;
  while (!acked && g_get_monotonic_time () - t0 < 20 * G_USEC_PER_SEC)
    {
      ft_test_app_spin (0.1);
      c = ft_live_session_get_commands (live, &n);
      acked = n == 2 && c[1].state == FT_CMD_ACKED;
    }
  ck_assert_msg (acked, "lock not acked after the device came back (%u commands, last %s, attempts %u)", n,
                 n ? ft_live_session_command_status (&c[n - 1]) : "-", n ? c[n - 1].attempts : 0);
  g_autofree char *st2 = ft_live_session_command_status (&c[1]);
  ck_assert_str_eq (st2, "acked after retry");

  /* How the other closing states read (the adapter's expiry itself is
   * tested in tests/live). */
  FtLiveCommand fake = c[1];
  fake.state = FT_CMD_EXPIRED;
  fake.attempts = 3;
  g_autofree char *st3 = ft_live_session_command_status (&fake);
  ck_assert_str_eq (st3, "expired after 3 attempts");
  fake.state = FT_CMD_FAILED;
  g_strlcpy (fake.detail, "battery compartment open", sizeof fake.detail);
  g_autofree char *st4 = ft_live_session_command_status (&fake);
  ck_assert_str_eq (st4, "failed: battery compartment open");

  /* Rider view on the live core: reserve the vehicle nearest a marked
   * point and unlock it; booking's unlock makes the adapter publish an
   * unlock command, which the device acks. */
  FtFrame *lf = ft_live_session_get_frame (live);
  FtLatLon at = ft_mercator_to_latlon (lf->vehicles[3].mx, lf->vehicles[3].my);
  ft_window_set_marker (win, at);
  ck_assert (gtk_widget_activate_action (GTK_WIDGET (win), "win.rider-reserve", NULL));
  ck_assert_msg (strstr (ft_window_get_rider_text (win), "Reserved"), "rider: %s", ft_window_get_rider_text (win));
  ck_assert (gtk_widget_activate_action (GTK_WIDGET (win), "win.rider-unlock", NULL));
  ck_assert_msg (strstr (ft_window_get_rider_text (win), "Unlocked"), "rider: %s", ft_window_get_rider_text (win));
  acked = FALSE;
  t0 = g_get_monotonic_time ();
  while (!acked && g_get_monotonic_time () - t0 < 10 * G_USEC_PER_SEC)
    {
      ft_test_app_spin (0.1);
      c = ft_live_session_get_commands (live, &n);
      acked = n == 3 && c[2].kind == FT_CMD_UNLOCK && c[2].state == FT_CMD_ACKED;
    }
  ck_assert_msg (acked, "rider unlock: %u commands", n);
  printf ("live: rider reserve + unlock published %s, acked\n", c[2].id);
  g_autofree char *rider_device = g_strdup (c[2].device_id);

  /* Dispatch in live mode: a swap task for two selected vehicles, assigned
   * to the second van; each vehicle gets a locate command, acked. */
  ft_vehicle_layer_clear_selection (ft_window_get_vehicle_layer (win));
  ft_vehicle_layer_toggle (ft_window_get_vehicle_layer (win), 5);
  ft_vehicle_layer_toggle (ft_window_get_vehicle_layer (win), 6);
  guint published = 0;
  g_clear_error (&error);
  const guint two[] = { 5, 6 };
  guint created = ft_live_session_dispatch (live, FT_TASK_BATTERY_SWAP, two, 2, centre, 1, &published, &error);
  ck_assert_msg (created == 2 && published == 2, "created %u published %u: %s", created, published,
                 error ? error->message : "");
  ck_assert_uint_eq (ft_live_session_count_tasks (live, FT_TASK_ASSIGNED), 2);
  /* The same through the Dispatch page refuses duplicates, naming them. */
  ck_assert (gtk_widget_activate_action (GTK_WIDGET (win), "win.dispatch", NULL));
  acked = FALSE;
  t0 = g_get_monotonic_time ();
  while (!acked && g_get_monotonic_time () - t0 < 10 * G_USEC_PER_SEC)
    {
      ft_test_app_spin (0.1);
      c = ft_live_session_get_commands (live, &n);
      acked = n == 5 && c[3].kind == FT_CMD_LOCATE && c[3].state == FT_CMD_ACKED &&
              c[4].kind == FT_CMD_LOCATE && c[4].state == FT_CMD_ACKED;
    }
  ck_assert_msg (acked, "dispatch locate commands not acked (%u commands)", n);
  /* the assignments went to van-2 over MQTT; its app acked and accepted them */
  acked = FALSE;
  t0 = g_get_monotonic_time ();
  guint na = 0;
  const FtLiveAssignment *as = NULL;
  while (!acked && g_get_monotonic_time () - t0 < 10 * G_USEC_PER_SEC)
    {
      ft_test_app_spin (0.1);
      as = ft_live_session_get_assignments (live, &na);
      acked = na == 2 && as[0].state == FT_CMD_ACKED && as[1].state == FT_CMD_ACKED &&
              g_str_equal (as[1].progress, "accepted");
    }
  ck_assert_msg (acked, "dispatch assignments not acked (%u assignments)", na);
  ck_assert_str_eq (as[0].staff_id, "van-2");
  ck_assert_int_eq (as[0].kind, FT_TASK_BATTERY_SWAP);
  g_autofree char *ast = ft_live_session_assignment_status (&as[1]);
  ck_assert_str_eq (ast, "acked · accepted");
  ck_assert_int_ge (g_atomic_int_get (&e.tasks_acked), 2);
  printf ("live: dispatch created %u assigned tasks and 2 acked locate commands\n", created);
  g_clear_error (&error);
  /* The Live page lists the staff tasks with their state and progress. */
  ft_test_app_spin (0.6);
  /* (the helper waits for the window to be drawn: a relayout can leave
   * it without a frame for a moment) */
  g_autoptr(GdkTexture) tshot = ft_test_app_shot (GTK_WIDGET (win), "live-tasks.png");

  /* The broker goes away: the page shows reconnecting with the adapter's
   * reason; it comes back and the twin reconnects by itself. */
  /* Issue 19 item 12: the lost connection shows in the header bar whatever
   * page the user is on (here KPIs, not Live). */
  ck_assert_msg (ft_window_get_live_header_text (win) && strstr (ft_window_get_live_header_text (win), "connected"),
                 "header: %s", ft_window_get_live_header_text (win));
  ft_window_set_page (win, "kpis");
  live_broker_kill (b);
  t0 = g_get_monotonic_time ();
  while (g_get_monotonic_time () - t0 < 10 * G_USEC_PER_SEC &&
         ft_live_session_get_state (live) != FT_LIVE_RECONNECTING)
    ft_test_app_spin (0.05);
  ck_assert_msg (ft_live_session_get_state (live) == FT_LIVE_RECONNECTING, "state %s",
                 ft_live_conn_state_name (ft_live_session_get_state (live)));
  ft_test_app_spin (0.3);
  const char *lt = ft_window_get_live_state_text (win);
  ck_assert_msg (strstr (lt, "reconnecting"), "live page: %s", lt);
  const char *why = ft_live_session_get_error (live);
  ck_assert_msg (why && strstr (lt, why), "the page does not show the adapter's error: %s", lt);
  printf ("live: broker killed → %s\n", lt);
  const char *head = ft_window_get_live_header_text (win);
  printf ("live: header \"%s\" on page %s\n", head, ft_window_get_page (win));
  ck_assert_str_eq (ft_window_get_page (win), "kpis");
  ck_assert_msg (head && strstr (head, "lost"), "the header does not show the lost connection: %s", head);
  ck_assert (gtk_widget_get_mapped (GTK_WIDGET (win)));
  ck_assert_msg (live_broker_restart (b, &error), "%s", error ? error->message : "");
  t0 = g_get_monotonic_time ();
  while (g_get_monotonic_time () - t0 < 40 * G_USEC_PER_SEC &&
         ft_live_session_get_state (live) != FT_LIVE_CONNECTED)
    ft_test_app_spin (0.1);
  ck_assert_msg (ft_live_session_get_state (live) == FT_LIVE_CONNECTED, "state %s after restart",
                 ft_live_conn_state_name (ft_live_session_get_state (live)));
  printf ("live: reconnected %.0f ms after the broker restarted\n", (g_get_monotonic_time () - t0) / 1000.0);

  /* The broker dialog opens with the stored settings. */
  ck_assert (gtk_widget_activate_action (GTK_WIDGET (win), "win.broker-settings", NULL));
  ft_test_app_spin (0.3);
  GListModel *tops = gtk_window_get_toplevels ();
  gboolean dialog = FALSE;
  for (guint i = 0; i < g_list_model_get_n_items (tops); i++)
    {
      g_autoptr(GObject) w = g_list_model_get_item (tops, i);
      if (FT_IS_BROKER_DIALOG (w))
        {
          dialog = TRUE;
          g_autoptr(GdkTexture) dshot = ft_screenshot_widget (GTK_WIDGET (w));
          g_autofree char *dpath = ft_test_app_shot_path ("live-broker-dialog.png");
          ck_assert (dshot && gdk_texture_save_to_png (dshot, dpath));
          gtk_window_destroy (GTK_WINDOW (w));
        }
    }
  ck_assert (dialog);

  /* A command for a vehicle the twin does not know is refused cleanly. */
  g_clear_error (&error);
  ck_assert (ft_live_session_send_command (live, 9999, FT_CMD_LOCK, &error) == NULL);
  ck_assert (error != NULL);
  g_clear_error (&error);

  /* Back to Simulation: the connection closes, commands need Live mode. */
  ft_window_set_live_mode (win, FALSE);
  ck_assert (!ft_live_session_is_running (live));
  ck_assert_uint_eq (ft_window_live_command (win, FT_CMD_LOCK, &error), 0);
  ck_assert (error != NULL);

  g_atomic_int_set (&e.stop, 1);
  g_thread_join (th);
  ck_assert_int_ge (g_atomic_int_get (&e.obeyed), 2);
  gboolean found = FALSE;
  for (guint i = 0; i < N_EMU; i++)
    if (g_str_equal (e.v[i].device_id, device))
      {
        found = TRUE;
        ck_assert_msg (e.v[i].locked, "the emulated vehicle was not locked again");
      }
  ck_assert (found);
  found = FALSE;
  for (guint i = 0; i < N_EMU; i++)
    if (g_str_equal (e.v[i].device_id, rider_device))
      {
        found = TRUE;
        ck_assert_msg (!e.v[i].locked, "the rider's vehicle is still locked");
      }
  ck_assert (found);
  ft_live_emu_free (e.emu);
  ft_test_app_stop (app, win);
  live_broker_free (b);
}
END_TEST

/* Issue 15's leftover: the Dashboard on the live connection's database
 * (the app records it where runs go), written by the emulator's telemetry
 * and trips; then the same file opened with Open Database…, a file that is
 * not a Fleet Twin database refused, and the report exported from it. */
START_TEST (test_live_dashboard)
{
  g_autoptr(GError) error = NULL;
  LiveBroker *b = live_broker_start (&error);
  ck_assert_msg (b != NULL, "%s", error ? error->message : "");
  g_autofree char *url = live_broker_url (b);
  g_autofree char *tmp = g_dir_make_tmp ("ft-live-dash-XXXXXX", &error);
  ck_assert (tmp != NULL);

  gtk_init ();
  FtApplication *app = ft_application_new ();
  ck_assert (g_application_register (G_APPLICATION (app), NULL, &error));
  g_autofree char *p = g_build_filename (FT_SOURCE_DIR, "scenarios", "demo-city-phase1.scenario", NULL);
  FtSimScenario *sc = ft_sim_scenario_load (p, &error);
  ck_assert_msg (sc != NULL, "%s", error ? error->message : "");
  g_autoptr(FtSession) session = ft_session_new ();
  ft_session_set_record_dir (session, tmp);   /* as the app does */
  ck_assert_msg (ft_session_load (session, sc, NULL, &error), "%s", error ? error->message : "");
  FtWindow *win = ft_window_new (GTK_APPLICATION (app), session);
  gtk_window_set_default_size (GTK_WINDOW (win), 1280, 720);
  gtk_window_present (GTK_WINDOW (win));
  FtLatLon centre = ft_session_get_city (session)->center;

  Emu e = { 0 };
  emu_init (&e, url, centre);
  g_atomic_int_set (&e.trips, 1);
  GThread *th = g_thread_new ("emu", emu_thread, &e);
  g_autoptr(GSettings) settings = g_settings_new ("org.mobilitycorp.FleetTwin");
  g_settings_set_string (settings, "live-url", url);
  g_settings_set_string (settings, "live-prefix", PFX);
  g_settings_set_string (settings, "live-mqtt-version", "5");
  ft_window_set_live_mode (win, TRUE);
  FtLiveSession *live = ft_window_get_live_session (win);
  gint64 t0 = g_get_monotonic_time ();
  while (g_get_monotonic_time () - t0 < 20 * G_USEC_PER_SEC &&
         !(ft_live_session_get_state (live) == FT_LIVE_CONNECTED && g_atomic_int_get (&e.n_trips) >= 12))
    ft_test_app_spin (0.1);
  ck_assert_msg (ft_live_session_get_state (live) == FT_LIVE_CONNECTED, "not connected: %s",
                 ft_live_session_get_error (live) ? ft_live_session_get_error (live) : "");
  ck_assert_int_ge (g_atomic_int_get (&e.n_trips), 12);
  const char *db = ft_live_session_get_store_path (live);
  ck_assert_msg (db != NULL && g_file_test (db, G_FILE_TEST_IS_REGULAR), "the live connection is not recorded");
  printf ("live database: %s, %d trips published\n", db, g_atomic_int_get (&e.n_trips));
  ft_test_app_spin (0.5);

  /* The Dashboard (Ctrl+D) reads the live database while the twin writes it. */
  ck_assert (gtk_widget_activate_action (GTK_WIDGET (win), "win.dashboard", NULL));
  FtDashboardWindow *dash = NULL;
  GList *tops = gtk_window_list_toplevels ();
  for (GList *l = tops; l; l = l->next)
    if (FT_IS_DASHBOARD_WINDOW (l->data))
      dash = l->data;
  g_list_free (tops);
  ck_assert_msg (dash != NULL, "win.dashboard opened no window");
  gtk_window_set_default_size (GTK_WINDOW (dash), 1280, 720);
  t0 = g_get_monotonic_time ();
  while (ft_dashboard_window_is_busy (dash) && g_get_monotonic_time () - t0 < 60 * G_USEC_PER_SEC)
    ft_test_app_spin (0.05);
  printf ("dashboard (live): %s\n", ft_dashboard_window_get_status (dash));
  ck_assert_int_eq (ft_dashboard_window_get_source (dash), FT_DASH_SOURCE_LIVE);
  const FtDashboard *d = ft_dashboard_window_get_data (dash);
  ck_assert_msg (d != NULL, "no data: %s", ft_dashboard_window_get_status (dash));
  ck_assert_msg (g_str_has_prefix (ft_dashboard_window_get_status (dash), "Live database"), "%s",
                 ft_dashboard_window_get_status (dash));
  ck_assert_msg (d->total_served >= 8, "%.0f live trips served on the dashboard", d->total_served);
  double live_served = d->total_served;
  ft_test_app_spin (0.5);
  g_autoptr(GdkTexture) shot = ft_test_app_shot (GTK_WIDGET (dash), "dashboard-live-1280x720.png");
  g_clear_object (&shot);
  g_object_set (gtk_settings_get_default (), "gtk-application-prefer-dark-theme", TRUE, NULL);
  ft_test_app_spin (0.5);
  shot = ft_test_app_shot (GTK_WIDGET (dash), "dashboard-live-1280x720-dark.png");
  g_clear_object (&shot);
  gtk_window_set_default_size (GTK_WINDOW (dash), 2560, 1440);
  ft_test_app_spin (0.8);
  shot = ft_test_app_shot (GTK_WIDGET (dash), "dashboard-live-2560x1440-dark.png");
  g_clear_object (&shot);
  g_object_set (gtk_settings_get_default (), "gtk-application-prefer-dark-theme", FALSE, NULL);
  ft_test_app_spin (0.5);
  shot = ft_test_app_shot (GTK_WIDGET (dash), "dashboard-live-2560x1440.png");
  g_clear_object (&shot);

  /* The connection ends; the same file, opened from the dashboard. */
  g_atomic_int_set (&e.stop, 1);
  g_thread_join (th);
  ft_window_set_live_mode (win, FALSE);
  g_autofree char *db_copy = g_strdup (db);
  ck_assert (ft_dashboard_window_open_database (dash, db_copy, &error));
  t0 = g_get_monotonic_time ();
  while (ft_dashboard_window_is_busy (dash) && g_get_monotonic_time () - t0 < 60 * G_USEC_PER_SEC)
    ft_test_app_spin (0.05);
  printf ("dashboard (file): %s\n", ft_dashboard_window_get_status (dash));
  ck_assert_int_eq (ft_dashboard_window_get_source (dash), FT_DASH_SOURCE_FILE);
  d = ft_dashboard_window_get_data (dash);
  ck_assert_msg (d != NULL && g_str_has_prefix (ft_dashboard_window_get_status (dash), db_copy), "%s",
                 ft_dashboard_window_get_status (dash));
  ck_assert (d->total_served >= live_served);
  g_autofree char *pdf = g_build_filename (tmp, "live-report.pdf", NULL);
  guint pages = 0;
  ck_assert_msg (ft_dashboard_window_export_report (dash, pdf, &pages, &error), "%s", error ? error->message : "");
  printf ("report from the live database: %u pages\n", pages);
  ck_assert_uint_ge (pages, 1);

  /* Not a Fleet Twin database: refused, said, and nothing changes. */
  g_autofree char *junk = g_build_filename (tmp, "notes.db", NULL);
  ck_assert (g_file_set_contents (junk, "not a database", -1, NULL));
  ck_assert (!ft_dashboard_window_open_database (dash, junk, &error));
  ck_assert (error != NULL && strstr (error->message, junk) && strstr (error->message, "not a Fleet Twin database"));
  g_clear_error (&error);
  ck_assert (strstr (ft_dashboard_window_get_status (dash), "not a Fleet Twin database") != NULL);
  ck_assert_int_eq (ft_dashboard_window_get_source (dash), FT_DASH_SOURCE_FILE);
  ck_assert (ft_dashboard_window_get_data (dash) == d);

  gtk_window_destroy (GTK_WINDOW (dash));
  ft_live_emu_free (e.emu);
  ft_test_app_stop (app, win);
  g_clear_object (&session);
  live_broker_free (b);
  g_autofree char *cmd = g_strdup_printf ("rm -rf '%s'", tmp);
  ck_assert (system (cmd) == 0);
}
END_TEST

START_TEST (test_tls_refused)
{
  if (!live_have_tools ())
    {
      printf ("SKIP: mosquitto, mosquitto_passwd or openssl not installed\n");
      return;
    }
  g_autoptr(GError) error = NULL;
  LiveBroker *b = live_broker_start_tls ("fleet", "s3cret-pass", &error);
  ck_assert_msg (b != NULL, "%s", error ? error->message : "");
  g_autofree char *url = live_broker_url (b);
  g_autofree char *ca = live_broker_path (b, "ca.crt");
  ck_assert (g_str_has_prefix (url, "mqtts://"));

  FtApplication *app;
  FtWindow *win = start_app (&app);
  g_autoptr(GSettings) settings = g_settings_new ("org.mobilitycorp.FleetTwin");
  g_settings_set_string (settings, "live-url", url);
  g_settings_set_string (settings, "live-prefix", PFX);
  g_settings_set_string (settings, "live-username", "fleet");
  g_settings_set_string (settings, "live-ca-file", ca);
  g_settings_set_string (settings, "live-mqtt-version", "3.1.1");
  ft_window_set_live_password (win, "wrong");
  ft_window_set_live_mode (win, TRUE);
  FtLiveSession *live = ft_window_get_live_session (win);
  gint64 t0 = g_get_monotonic_time ();
  while (g_get_monotonic_time () - t0 < 15 * G_USEC_PER_SEC &&
         ft_live_session_get_state (live) != FT_LIVE_REFUSED)
    ft_test_app_spin (0.1);
  ck_assert_msg (ft_live_session_get_state (live) == FT_LIVE_REFUSED, "state %s",
                 ft_live_conn_state_name (ft_live_session_get_state (live)));
  ck_assert (ft_live_session_get_error (live) != NULL);
  printf ("tls: wrong password → refused: %s\n", ft_live_session_get_error (live));
  ft_test_app_spin (0.5);
  g_autoptr(GdkTexture) shot = ft_test_app_shot (GTK_WIDGET (win), "live-refused.png");

  /* The password is not in GSettings; the right one connects. */
  g_autoptr(GSettingsSchema) schema = NULL;
  g_object_get (settings, "settings-schema", &schema, NULL);
  ck_assert (!g_settings_schema_has_key (schema, "live-password"));
  ft_window_set_live_password (win, "s3cret-pass");
  ck_assert (ft_window_live_connect (win, &error));
  t0 = g_get_monotonic_time ();
  while (g_get_monotonic_time () - t0 < 15 * G_USEC_PER_SEC &&
         ft_live_session_get_state (live) != FT_LIVE_CONNECTED)
    ft_test_app_spin (0.1);
  ck_assert_msg (ft_live_session_get_state (live) == FT_LIVE_CONNECTED, "state %s: %s",
                 ft_live_conn_state_name (ft_live_session_get_state (live)),
                 ft_live_session_get_error (live) ? ft_live_session_get_error (live) : "");

  /* A URL the adapter cannot use is an error at once, naming it. */
  g_settings_set_string (settings, "live-url", "http://example.invalid");
  ck_assert (!ft_window_live_connect (win, &error));
  ck_assert (error != NULL);
  printf ("bad url: %s\n", error->message);

  ft_test_app_stop (app, win);
  live_broker_free (b);
}
END_TEST

int
main (void)
{
  setvbuf (stdout, NULL, _IOLBF, 0);   /* keep what a failed test printed */
  /* 77 = skipped for meson: both cases need a broker with TLS and passwords */
  if (!live_have_tools ())
    {
      printf ("SKIP: mosquitto, mosquitto_passwd or openssl not installed\n");
      return 77;
    }
  Suite *s = suite_create ("live-app");
  TCase *tc = tcase_create ("live-unlock");
  tcase_add_test (tc, test_live_unlock);
  tcase_set_timeout (tc, 180);
  suite_add_tcase (s, tc);
  tc = tcase_create ("live-dashboard");
  tcase_add_test (tc, test_live_dashboard);
  tcase_set_timeout (tc, 240);
  suite_add_tcase (s, tc);
  tc = tcase_create ("tls-refused");
  tcase_add_test (tc, test_tls_refused);
  tcase_set_timeout (tc, 120);
  suite_add_tcase (s, tc);
  SRunner *sr = srunner_create (s);
  srunner_run_all (sr, CK_NORMAL);
  int failed = srunner_ntests_failed (sr);
  srunner_free (sr);
  return failed == 0 ? 0 : 1;
}
