/* test-support.c — issue 17 in the desktop app, under Xvfb, in process.
 *
 * chat-and-review: on Demo City the Ride page's rider, by an available
 *   scooter, talks to the support chat (src/assist) through real
 *   clicks (XTEST): a question answered from the rider's state, a message
 *   too long to take (a clear answer, not a crash), a damage report with an
 *   attached photo (a real photo of ../shared/data/photos with synthetic
 *   damage) confirmed with the Yes button, and a request for a person (a
 *   staff hand-off). The Damage Reviews window then lists the photo with
 *   its regions and the hand-off; Confirm Damage as the dispatcher takes
 *   the vehicle out of service and opens a repair task.
 * chat-position-and-scroll (issue 17's leftovers): at 1280x720 the rider
 *   marks where they stand beside an available vehicle and asks for a
 *   vehicle nearby: the answer is from "your position" and names one within
 *   a few metres (the app passes the marked point to src/assist); after
 *   each answer the newest message is on screen, inside the chat's list and
 *   inside the Ride page, which scrolls to it.
 * Screenshots: support-chat.png (the Ride page), review-queue.png, and
 * chat-<size>[-dark].png at 1280x720 and 2560x1440.
 */
#include "ft-config.h"
#include "ft-test-app.h"
#include "ft-application.h"
#include "ft-chat-panel.h"
#include "ft-review-window.h"
#include "ft-region-dialog.h"
#include "ft-inspect.h"
#include "ft-window.h"

#include <check.h>
#include <glib/gstdio.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

static GtkWidget *
find_button (GtkWidget *root, const char *label)
{
  if (GTK_IS_BUTTON (root) && g_strcmp0 (gtk_button_get_label (GTK_BUTTON (root)), label) == 0)
    return root;
  for (GtkWidget *c = gtk_widget_get_first_child (root); c; c = gtk_widget_get_next_sibling (c))
    {
      GtkWidget *w = find_button (c, label);
      if (w)
        return w;
    }
  return NULL;
}

static GtkWidget *
find_entry (GtkWidget *root)
{
  if (GTK_IS_ENTRY (root))
    return root;
  for (GtkWidget *c = gtk_widget_get_first_child (root); c; c = gtk_widget_get_next_sibling (c))
    {
      GtkWidget *w = find_entry (c);
      if (w)
        return w;
    }
  return NULL;
}

/* Waits for the chat's answer to the message just sent. */
static void
wait_answer (FtChatPanel *chat, guint n_before)
{
  gint64 until = g_get_monotonic_time () + 60 * G_USEC_PER_SEC;
  while ((ft_chat_panel_is_busy (chat) || ft_chat_panel_get_n_messages (chat) < n_before + 2) &&
         g_get_monotonic_time () < until)
    ft_test_app_spin (0.05);
  ck_assert_msg (!ft_chat_panel_is_busy (chat), "no answer in 60 s");
  printf ("assistant (%s): %s\n", ft_chat_panel_get_last_intent (chat), ft_chat_panel_get_last_answer (chat));
}

/* Types text into the chat's entry and clicks Send. */
static void
say (FtChatPanel *chat, const char *text)
{
  GtkWidget *entry = find_entry (GTK_WIDGET (chat));
  GtkWidget *send = find_button (GTK_WIDGET (chat), "_Send");
  ck_assert (entry && send);
  guint n = ft_chat_panel_get_n_messages (chat);
  gtk_editable_set_text (GTK_EDITABLE (entry), text);
  printf ("rider: %s\n", text);
  ft_test_app_press (send);
  wait_answer (chat, n);
}

/* The reference photo and a copy with synthetic damage, in dir. */
static void
make_photos (const char *dir, char **reference, char **damaged)
{
  const char *shared = g_getenv ("FT_SHARED_DATA_DIR");
  ck_assert_msg (shared != NULL, "FT_SHARED_DATA_DIR is not set");
  *reference = g_build_filename (shared, "photos", "escooter_18.jpg", NULL);
  g_autoptr(GError) error = NULL;
  g_autoptr(FtInspectImage) ref = ft_inspect_image_load (*reference, &error);
  ck_assert_msg (ref != NULL, "%s", error ? error->message : "");
  int box[4];
  g_autoptr(FtInspectImage) bad = ft_inspect_synth_damage (ref, FT_DAMAGE_BROKEN, 7, box, &error);
  ck_assert_msg (bad != NULL, "%s", error ? error->message : "");
  g_autoptr(GBytes) jpeg = ft_inspect_image_encode (bad, 90, &error);
  ck_assert_msg (jpeg != NULL, "%s", error ? error->message : "");
  *damaged = g_build_filename (dir, "trip-photo.jpg", NULL);
  gsize len;
  const char *data = g_bytes_get_data (jpeg, &len);
  ck_assert (g_file_set_contents (*damaged, data, (gssize) len, &error));
  printf ("photo: %s with a broken part at %d,%d %dx%d\n", *damaged, box[0], box[1], box[2], box[3]);
}

static GtkWidget *
find_list_box (GtkWidget *root)
{
  if (GTK_IS_LIST_BOX (root))
    return root;
  for (GtkWidget *c = gtk_widget_get_first_child (root); c; c = gtk_widget_get_next_sibling (c))
    {
      GtkWidget *w = find_list_box (c);
      if (w)
        return w;
    }
  return NULL;
}

/* The newest message's bottom edge lies inside every scrolled window that
 * holds it, and inside the window: it is on screen. */
static void
assert_newest_visible (FtChatPanel *chat, GtkWidget *win, const char *after)
{
  GtkWidget *last = gtk_widget_get_last_child (find_list_box (GTK_WIDGET (chat)));
  ck_assert (last != NULL);
  graphene_rect_t r;
  ck_assert (gtk_widget_compute_bounds (last, win, &r));
  double bottom = r.origin.y + r.size.height;
  for (GtkWidget *p = gtk_widget_get_parent (last); p && p != win; p = gtk_widget_get_parent (p))
    if (GTK_IS_SCROLLED_WINDOW (p))
      {
        graphene_rect_t b;
        ck_assert (gtk_widget_compute_bounds (p, win, &b));
        GtkAdjustment *adj = gtk_scrolled_window_get_vadjustment (GTK_SCROLLED_WINDOW (p));
        printf ("  %s: y %.0f..%.0f, scrolled %.0f of %.0f (page %.0f); newest message ends at y %.0f\n",
                G_OBJECT_TYPE_NAME (p), b.origin.y, b.origin.y + b.size.height, gtk_adjustment_get_value (adj),
                gtk_adjustment_get_upper (adj), gtk_adjustment_get_page_size (adj), bottom);
        ck_assert_msg (bottom >= b.origin.y + 4 && bottom <= b.origin.y + b.size.height + 1,
                       "after \"%s\" the newest message (bottom at y %.0f) is outside a scrolled "
                       "window (%s, y %.0f..%.0f)", after, bottom, G_OBJECT_TYPE_NAME (p), b.origin.y,
                       b.origin.y + b.size.height);
      }
  ck_assert_msg (bottom <= gtk_widget_get_height (win), "after \"%s\" the newest message is below the window", after);
}

START_TEST (test_chat_position)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *tmp = g_dir_make_tmp ("ft-chat-XXXXXX", &error);
  ck_assert (tmp != NULL);
  FtTestApp *fx = ft_test_app_start (NULL, tmp, 1280, 720);
  FtWindow *win = fx->win;
  FtSession *session = fx->session;
  ft_window_set_page (win, "rider");
  ft_test_app_spin (1.0);
  ft_test_app_focus (GTK_WINDOW (win));
  FtChatPanel *chat = FT_CHAT_PANEL (ft_window_get_chat_panel (win));
  ck_assert (chat != NULL && gtk_widget_get_mapped (GTK_WIDGET (chat)));
  ft_session_set_role (session, FT_ROLE_VIEW_RIDER);

  /* The rider stands 20 m north of an available vehicle. */
  FtFrame *f = ft_session_get_frame (session);
  int pick = -1;
  for (guint i = 0; i < f->n_vehicles && pick < 0; i++)
    if (f->vehicles[i].dot == FT_DOT_AVAILABLE_HIGH)
      pick = (int) i;
  ck_assert (pick >= 0);
  FtLatLon at = ft_mercator_to_latlon (f->vehicles[pick].mx, f->vehicles[pick].my);
  at.lat += 20.0 / 111320.0;
  ft_window_set_marker (win, at);
  FtLatLon sent;
  ck_assert (ft_chat_panel_get_position (chat, &sent));
  ck_assert (fabs (sent.lat - at.lat) < 1e-7 && fabs (sent.lon - at.lon) < 1e-7);

  say (chat, "find me a vehicle nearby");
  ck_assert_str_eq (ft_chat_panel_get_last_intent (chat), "find_vehicle");
  const char *ans = ft_chat_panel_get_last_answer (chat);
  ck_assert_msg (strstr (ans, "Nearest available to your position: ") != NULL, "%s", ans);
  /* the first one named stands within a few metres of the rider */
  const char *paren = strstr (ans, ") ");
  ck_assert (paren != NULL);
  double first_m = g_ascii_strtod (paren + 2, NULL);
  printf ("first vehicle named: %.0f m from the rider\n", first_m);
  ck_assert_msg (first_m <= 60, "the nearest vehicle named is %.0f m away: %s", first_m, ans);
  ft_test_app_spin (0.5);
  assert_newest_visible (chat, GTK_WIDGET (win), "find me a vehicle nearby");

  /* A conversation longer than the panel: the newest answer stays in view. */
  const char *more[] = { "what does a ride cost", "where can I park", "how do I unlock a scooter",
                         "is there a discount for students", "what is my balance" };
  for (guint i = 0; i < G_N_ELEMENTS (more); i++)
    {
      say (chat, more[i]);
      ft_test_app_spin (0.5);
      assert_newest_visible (chat, GTK_WIDGET (win), more[i]);
    }
  g_autoptr(GdkTexture) shot = ft_test_app_shot (GTK_WIDGET (win), "chat-1280x720.png");
  g_clear_object (&shot);
  g_object_set (gtk_settings_get_default (), "gtk-application-prefer-dark-theme", TRUE, NULL);
  ft_test_app_spin (0.5);
  shot = ft_test_app_shot (GTK_WIDGET (win), "chat-1280x720-dark.png");
  g_clear_object (&shot);
  gtk_window_set_default_size (GTK_WINDOW (win), 2560, 1440);
  ft_test_app_spin (1.0);
  say (chat, "find a vehicle near me");
  ft_test_app_spin (0.5);
  assert_newest_visible (chat, GTK_WIDGET (win), "find a vehicle near me");
  shot = ft_test_app_shot (GTK_WIDGET (win), "chat-2560x1440-dark.png");
  g_clear_object (&shot);
  g_object_set (gtk_settings_get_default (), "gtk-application-prefer-dark-theme", FALSE, NULL);
  ft_test_app_spin (0.5);
  shot = ft_test_app_shot (GTK_WIDGET (win), "chat-2560x1440.png");
  g_clear_object (&shot);

  ft_test_app_finish (fx);
  g_autofree char *cmd = g_strdup_printf ("rm -rf '%s'", tmp);
  ck_assert (system (cmd) == 0);
}
END_TEST

START_TEST (test_chat_and_review)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *tmp = g_dir_make_tmp ("ft-support-XXXXXX", &error);
  ck_assert (tmp != NULL);
  FtTestApp *fx = ft_test_app_start (NULL, tmp, 1280, 860);   /* recording: the run's store */
  FtWindow *win = fx->win;
  FtSession *session = fx->session;
  ft_window_set_page (win, "rider");
  ft_test_app_spin (1.0);
  ft_test_app_focus (GTK_WINDOW (win));
  FtChatPanel *chat = FT_CHAT_PANEL (ft_window_get_chat_panel (win));
  ck_assert (chat != NULL && gtk_widget_get_mapped (GTK_WIDGET (chat)));

  /* The rider stands by an available scooter (a damage report on a vehicle
   * on a trip cannot take it out of service until the trip ends). */
  ft_session_set_role (session, FT_ROLE_VIEW_RIDER);
  FtFrame *f = ft_session_get_frame (session);
  int pick = -1;
  for (guint i = 0; i < f->n_vehicles && pick < 0; i++)
    if (f->vehicles[i].dot == FT_DOT_AVAILABLE_HIGH)
      pick = (int) i;
  ck_assert (pick >= 0);
  gint32 vehicle = pick;
  g_autofree char *code = g_strdup_printf ("FT-%04d", pick);
  g_autofree char *about = ft_session_describe_vehicle (session, (guint) pick);
  ck_assert_msg (strstr (about, code) != NULL, "vehicle %d is not %s: %s", pick, code, about);

  /* A question answered from the rider's own state. */
  g_autofree char *q1 = g_strdup_printf ("how far can I go with the battery of %s?", code);
  say (chat, q1);
  ck_assert_str_eq (ft_chat_panel_get_last_intent (chat), "battery_range");
  ck_assert (strstr (ft_chat_panel_get_last_answer (chat), "km") != NULL);

  /* Too long a message: a clear answer in the chat, nothing proposed. */
  g_autofree char *huge = g_strnfill (5000, 'a');
  guint n = ft_chat_panel_get_n_messages (chat);
  ft_chat_panel_send (chat, huge);
  wait_answer (chat, n);
  ck_assert (strstr (ft_chat_panel_get_last_answer (chat), "could not be answered") != NULL);
  ck_assert_int_eq (ft_chat_panel_get_pending (chat), FT_ASSIST_ACTION_NONE);

  /* A damage report with a photo: proposed, then confirmed with Yes. */
  g_autofree char *reference = NULL, *photo = NULL;
  make_photos (tmp, &reference, &photo);
  ft_chat_panel_attach_photo (chat, photo, reference);
  g_autofree char *q2 = g_strdup_printf ("scooter %s is damaged, the brake lever is broken", code);
  say (chat, q2);
  ck_assert_str_eq (ft_chat_panel_get_last_intent (chat), "report_damage");
  ck_assert_int_eq (ft_chat_panel_get_pending (chat), FT_ASSIST_ACTION_REPORT_DAMAGE);
  GtkWidget *yes = find_button (GTK_WIDGET (chat), "_Yes, Do It");
  ck_assert (yes != NULL);
  ft_test_app_spin (0.2);
  n = ft_chat_panel_get_n_messages (chat);
  ft_test_app_press (yes);
  wait_answer (chat, n);
  ck_assert_int_eq (ft_chat_panel_get_done (chat), FT_ASSIST_ACTION_REPORT_DAMAGE);
  ck_assert_int_eq (ft_chat_panel_get_pending (chat), FT_ASSIST_ACTION_NONE);
  ck_assert (!gtk_widget_get_visible (gtk_widget_get_parent (yes)));

  /* Something only a person can do: a hand-off for the dispatchers. */
  say (chat, "I want to talk to a human agent please");
  ck_assert_str_eq (ft_chat_panel_get_last_intent (chat), "human_agent");
  ft_test_app_spin (0.3);
  g_autoptr(GdkTexture) shot = ft_test_app_shot (GTK_WIDGET (win), "support-chat.png");
  g_clear_object (&shot);

  /* The staff review queue. */
  ck_assert (gtk_widget_activate_action (GTK_WIDGET (win), "win.review-queue", NULL));
  FtReviewWindow *rw = (FtReviewWindow *) ft_test_app_find_window (FT_TYPE_REVIEW_WINDOW);
  ck_assert_msg (rw != NULL, "win.review-queue opened no window");
  printf ("review queue: %u open, %u hand-offs, %u regions on the first photo\n",
          ft_review_window_get_n_reviews (rw), ft_review_window_get_n_handoffs (rw),
          ft_review_window_get_n_regions (rw));
  ck_assert_uint_eq (ft_review_window_get_n_reviews (rw), 1);
  ck_assert_int_ge (ft_review_window_get_selected (rw), 0);
  ck_assert_uint_ge (ft_review_window_get_n_regions (rw), 1);
  ck_assert_uint_ge (ft_review_window_get_n_handoffs (rw), 1);
  shot = ft_test_app_shot (GTK_WIDGET (rw), "review-queue.png");
  g_clear_object (&shot);
  ft_test_app_focus (GTK_WINDOW (rw));
  GtkWidget *confirm = find_button (GTK_WIDGET (rw), "_Confirm Damage");
  ck_assert (confirm != NULL);

  /* A rider cannot decide; the dispatcher can. */
  ft_test_app_press (confirm);
  printf ("as the rider: %s\n", ft_review_window_get_status (rw));
  ck_assert (strstr (ft_review_window_get_status (rw), "Dispatcher") != NULL);
  ck_assert_uint_eq (ft_review_window_get_n_reviews (rw), 1);
  ft_session_set_role (session, FT_ROLE_VIEW_DISPATCHER);
  ft_test_app_press (confirm);
  printf ("as the dispatcher: %s\n", ft_review_window_get_status (rw));
  ck_assert_msg (strstr (ft_review_window_get_status (rw), "out of service") != NULL, "%s",
                 ft_review_window_get_status (rw));
  ck_assert_uint_eq (ft_review_window_get_n_reviews (rw), 0);
  g_autofree char *desc = ft_session_describe_vehicle (session, (guint) vehicle);
  printf ("vehicle: %s\n", desc);
  g_autoptr(GArray) tasks = ft_session_dup_tasks (session, 50);
  gboolean repair = FALSE;
  for (guint i = 0; i < tasks->len; i++)
    {
      const FtSessionTask *t = &g_array_index (tasks, FtSessionTask, i);
      if (t->kind == FT_TASK_COLLECT_REPAIR)
        repair = TRUE;
    }
  ck_assert_msg (repair, "no collect-for-repair task after the confirmation");

  /* The dispatcher closes the hand-off. */
  guint handoffs = ft_review_window_get_n_handoffs (rw);
  GtkWidget *close = find_button (GTK_WIDGET (rw), "Close");
  ck_assert (close != NULL);
  ft_test_app_press (close);
  printf ("hand-off: %s\n", ft_review_window_get_status (rw));
  ck_assert_uint_eq (ft_review_window_get_n_handoffs (rw), handoffs - 1);

  gtk_window_destroy (GTK_WINDOW (rw));
  ft_test_app_finish (fx);
  g_autofree char *cmd = g_strdup_printf ("rm -rf '%s'", tmp);
  ck_assert (system (cmd) == 0);
}
END_TEST

static void
wait_region (FtRegionDialog *d, double seconds)
{
  gint64 until = g_get_monotonic_time () + (gint64) (seconds * G_USEC_PER_SEC);
  while (ft_region_dialog_is_running (d) && g_get_monotonic_time () < until)
    ft_test_app_spin (0.1);
  ck_assert_msg (!ft_region_dialog_is_running (d), "the playbook still runs after %.0f s", seconds);
}

/* Issue 21 in the app: New Region… refuses missing and bad inputs, naming
 * them and writing nothing; on the shared Monaco extract it writes the
 * region folder in the background and opens its launch scenario. */
START_TEST (test_new_region)
{
  g_autoptr(GError) error = NULL;
  FtTestApp *fx = ft_test_app_start (NULL, NULL, 0, 0);
  FtWindow *win = fx->win;
  FtSession *session = fx->session;
  ck_assert (gtk_widget_activate_action (GTK_WIDGET (win), "win.new-region", NULL));
  FtRegionDialog *d = (FtRegionDialog *) ft_test_app_find_window (FT_TYPE_REGION_DIALOG);
  ck_assert_msg (d != NULL, "win.new-region opened no dialog");
  g_autofree char *tmp = g_dir_make_tmp ("ft-region-app-XXXXXX", &error);
  g_autofree char *out = g_build_filename (tmp, "monaco", NULL);

  /* Nothing chosen: refused at once. */
  ft_test_app_focus (GTK_WINDOW (d));
  ft_test_app_press (find_button (GTK_WIDGET (d), "_Launch"));
  printf ("no inputs: %s\n", ft_region_dialog_get_status (d));
  ck_assert (strstr (ft_region_dialog_get_status (d), "OpenStreetMap") != NULL);
  ck_assert (!ft_region_dialog_is_running (d));
  /* An extract that does not exist: the playbook names it, nothing written. */
  g_autofree char *nosuch = g_build_filename (tmp, "nosuch.osm.pbf", NULL);
  ft_region_dialog_set_field (d, FT_REGION_FIELD_OSM, nosuch);
  ft_region_dialog_set_field (d, FT_REGION_FIELD_OUT, out);
  ck_assert (ft_region_dialog_launch (d));
  wait_region (d, 60);
  printf ("missing extract: %s\n", ft_region_dialog_get_status (d));
  ck_assert (strstr (ft_region_dialog_get_status (d), "nosuch.osm.pbf") != NULL);
  ck_assert (!ft_region_dialog_succeeded (d));
  ck_assert (!g_file_test (out, G_FILE_TEST_EXISTS));

  /* The shared Monaco extract, no tiles and no sweep (kept short). */
  const char *shared = g_getenv ("FT_SHARED_DATA_DIR");
  ck_assert (shared != NULL);
  g_autofree char *osm = g_build_filename (shared, "osm", "monaco.osm.pbf", NULL);
  ft_region_dialog_set_field (d, FT_REGION_FIELD_OSM, osm);
  ft_region_dialog_set_field (d, FT_REGION_FIELD_TIME_ZONE, "Europe/Monaco");
  ft_region_dialog_set_sweep (d, 0, 0);
  gint64 t0 = g_get_monotonic_time ();
  ck_assert (ft_region_dialog_launch (d));
  ft_test_app_spin (1.0);
  g_autoptr(GdkTexture) shot = ft_test_app_shot (GTK_WIDGET (d), "new-region-running.png");
  g_clear_object (&shot);
  wait_region (d, 240);
  printf ("monaco: %s (%.1f s)\n", ft_region_dialog_get_status (d), (g_get_monotonic_time () - t0) / 1e6);
  ck_assert_msg (ft_region_dialog_succeeded (d), "%s", ft_region_dialog_get_status (d));
  g_autofree char *launch = g_build_filename (out, "launch.scenario", NULL);
  ck_assert (g_file_test (launch, G_FILE_TEST_IS_REGULAR));
  shot = ft_test_app_shot (GTK_WIDGET (d), "new-region-done.png");
  g_clear_object (&shot);
  ft_test_app_press (find_button (GTK_WIDGET (d), "_Open Launch Scenario"));
  ft_test_app_spin (0.5);
  const FtSimScenario *now = ft_session_get_scenario (session);
  printf ("opened: %s\n", now->path ? now->path : "(none)");
  ck_assert (now->path && strstr (now->path, "launch.scenario") != NULL);
  ft_test_app_finish (fx);
  g_autofree char *cmd = g_strdup_printf ("rm -rf '%s'", tmp);
  ck_assert (system (cmd) == 0);
}
END_TEST

/* Issue 21: opening a city pack drops the [fleet] gbfs snapshot of the
 * city before, so another city's vehicles are not placed there. */
START_TEST (test_city_pack_drops_gbfs)
{
  g_autoptr(GError) error = NULL;
  FtSimScenario *sc = ft_sim_scenario_new_default ();
  sc->fleet_gbfs = g_strdup ("/data/gbfs/tier_wolfsburg_2023-08-11");
  FtSimScenario *moved = ft_window_scenario_for_city (sc, "/regions/other-city/city");
  ck_assert_str_eq (moved->city, "/regions/other-city/city");
  ck_assert_msg (moved->fleet_gbfs == NULL, "the scenario keeps [fleet] gbfs=%s", moved->fleet_gbfs);
  ck_assert_str_eq (sc->fleet_gbfs, "/data/gbfs/tier_wolfsburg_2023-08-11");   /* cur untouched */
  ft_sim_scenario_free (moved);
  ft_sim_scenario_free (sc);
}
END_TEST

int
main (void)
{
  setvbuf (stdout, NULL, _IOLBF, 0);   /* keep what a failed test printed */
  Suite *s = suite_create ("support");
  TCase *tc = tcase_create ("chat-and-review");
  tcase_set_timeout (tc, 600);
  tcase_add_test (tc, test_chat_and_review);
  suite_add_tcase (s, tc);
  tc = tcase_create ("chat-position-and-scroll");
  tcase_set_timeout (tc, 300);
  tcase_add_test (tc, test_chat_position);
  suite_add_tcase (s, tc);
  tc = tcase_create ("new-region");
  tcase_set_timeout (tc, 400);
  tcase_add_test (tc, test_new_region);
  suite_add_tcase (s, tc);
  tc = tcase_create ("city-pack-gbfs");
  tcase_add_test (tc, test_city_pack_drops_gbfs);
  suite_add_tcase (s, tc);
  SRunner *sr = srunner_create (s);
  srunner_run_all (sr, CK_NORMAL);
  int failed = srunner_ntests_failed (sr);
  srunner_free (sr);
  return failed ? 1 : 0;
}
