/* test-rider-data.c — issue 21 in the desktop app, under Xvfb, in process:
 * "Rider Data…" on the database of a Demo City run. A field worker may not
 * erase a rider (refused, nothing changed); a dispatcher exports the
 * rider's data to a file (the rider's trips, nobody else's account); the
 * rider erases their own data through the confirmation dialog, clicked
 * through the X server; the file then holds no name for them, the audit
 * log has both requests, the run's memory agrees and the run goes on.
 * Screenshot: rider-data.png.
 */
#include "ft-config.h"
#include "ft-test-app.h"
#include "ft-application.h"
#include "ft-rider-data-dialog.h"
#include "ft-sim-world.h"
#include "ft-window.h"

#include <check.h>
#include <json-glib/json-glib.h>
#include <sqlite3.h>
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

static GtkWindow *
find_toplevel (GType type)
{
  GtkWindow *found = NULL;
  GList *tops = gtk_window_list_toplevels ();
  for (GList *l = tops; l; l = l->next)
    if (G_TYPE_CHECK_INSTANCE_TYPE (l->data, type) && gtk_widget_get_visible (l->data))
      found = l->data;
  g_list_free (tops);
  return found;
}

typedef struct { gint rider, dispatcher, field; guint rider_trips; gboolean erased; } Who;

static char *
who_job (FtSimWorld *world, gpointer data)
{
  Who *w = data;
  FtAccounts *a = ft_sim_world_get_core (world)->accounts;
  w->rider = w->dispatcher = w->field = -1;
  for (guint i = 0; i < ft_accounts_n (a); i++)
    {
      const FtAccount *acc = ft_accounts_get (a, i);
      if (w->rider < 0 && (acc->roles & FT_ROLE_RIDER) && acc->trips >= 1 && !acc->erased)
        {
          w->rider = (gint) i;
          w->rider_trips = acc->trips;
        }
      if (w->dispatcher < 0 && (acc->roles & FT_ROLE_DISPATCHER))
        w->dispatcher = (gint) i;
      if (w->field < 0 && (acc->roles & FT_ROLE_FIELD))
        w->field = (gint) i;
    }
  return g_strdup ("ok");
}

static char *
erased_job (FtSimWorld *world, gpointer data)
{
  Who *w = data;
  const FtAccount *acc = ft_accounts_get (ft_sim_world_get_core (world)->accounts, (guint) w->rider);
  w->erased = acc->erased && acc->display_name == NULL;
  return g_strdup ("ok");
}

static gint64
query_int (const char *path, const char *sql)
{
  sqlite3 *db = NULL;
  sqlite3_stmt *st = NULL;
  gint64 v = -1;
  ck_assert_int_eq (sqlite3_open_v2 (path, &db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
  ck_assert_msg (sqlite3_prepare_v2 (db, sql, -1, &st, NULL) == SQLITE_OK, "%s", sqlite3_errmsg (db));
  if (sqlite3_step (st) == SQLITE_ROW)
    v = sqlite3_column_int64 (st, 0);
  sqlite3_finalize (st);
  sqlite3_close (db);
  return v;
}

static void
run_to (FtSession *session, FtTime t)
{
  ft_session_run_to (session, t);
  gint64 deadline = g_get_monotonic_time () + 240 * G_USEC_PER_SEC;
  while (ft_session_get_time (session) < t && g_get_monotonic_time () < deadline)
    ft_test_app_spin (0.05);
  ck_assert_msg (ft_session_get_time (session) >= t, "the run stalled");
}

START_TEST (test_rider_data)
{
  gtk_init ();
  FtApplication *app = ft_application_new ();
  g_autoptr(GError) error = NULL;
  ck_assert (g_application_register (G_APPLICATION (app), NULL, &error));
  g_autofree char *tmp = g_dir_make_tmp ("ft-rider-data-XXXXXX", &error);
  ck_assert (tmp != NULL);
  g_autoptr(FtSession) session = ft_session_new ();
  ft_session_set_record_dir (session, tmp);
  g_autofree char *p = g_build_filename (FT_SOURCE_DIR, "scenarios", "demo-city-phase1.scenario", NULL);
  FtSimScenario *sc = ft_sim_scenario_load (p, &error);
  ck_assert_msg (sc != NULL, "%s", error ? error->message : "");
  ck_assert_msg (ft_session_load (session, sc, NULL, &error), "%s", error ? error->message : "");
  FtWindow *win = ft_window_new (GTK_APPLICATION (app), session);
  gtk_window_set_default_size (GTK_WINDOW (win), 1280, 860);
  gtk_window_present (GTK_WINDOW (win));
  ft_test_app_spin (1.0);
  run_to (session, 3 * FT_HOUR);
  const char *store = ft_session_get_store_path (session);
  ck_assert (store != NULL);

  Who who;
  g_free (ft_session_run_job_sync (session, who_job, &who));
  ck_assert_msg (who.rider >= 0 && who.dispatcher >= 0 && who.field >= 0, "rider %d dispatcher %d field %d",
                 who.rider, who.dispatcher, who.field);
  g_autofree char *rider = g_strdup_printf ("#%d", who.rider);
  g_autofree char *dispatcher = g_strdup_printf ("#%d", who.dispatcher);
  g_autofree char *field = g_strdup_printf ("#%d", who.field);
  printf ("rider %s with %u trips; dispatcher %s; field staff %s\n", rider, who.rider_trips, dispatcher, field);

  ck_assert (gtk_widget_activate_action (GTK_WIDGET (win), "win.rider-data", NULL));
  ft_test_app_spin (0.3);
  FtRiderDataDialog *dlg = (FtRiderDataDialog *) find_toplevel (FT_TYPE_RIDER_DATA_DIALOG);
  ck_assert_msg (dlg != NULL, "win.rider-data opened no dialog");

  /* A field worker may not erase a rider. */
  ft_rider_data_dialog_set_accounts (dlg, rider, field);
  ck_assert (!ft_rider_data_dialog_erase (dlg, &error));
  printf ("as field staff: %s\n", ft_rider_data_dialog_get_status (dlg));
  ck_assert (strstr (ft_rider_data_dialog_get_status (dlg), "may not erase") != NULL);
  g_clear_error (&error);
  g_autofree char *q_name = g_strdup_printf ("SELECT count(*) FROM accounts WHERE idx = %d AND display_name IS NOT NULL",
                                             who.rider);
  ck_assert_int_eq (query_int (store, q_name), 1);

  /* A dispatcher exports the rider's data. */
  g_autofree char *out = g_build_filename (tmp, "rider.json", NULL);
  ft_rider_data_dialog_set_accounts (dlg, rider, dispatcher);
  ck_assert_msg (ft_rider_data_dialog_export_to (dlg, out, &error), "%s", error ? error->message : "");
  printf ("as the dispatcher: %s\n", ft_rider_data_dialog_get_status (dlg));
  g_autoptr(JsonParser) jp = json_parser_new ();
  ck_assert (json_parser_load_from_file (jp, out, &error));
  JsonObject *o = json_node_get_object (json_parser_get_root (jp));
  JsonArray *trips = json_object_get_array_member (o, "trips");
  ck_assert_uint_ge (json_array_get_length (trips), who.rider_trips);
  for (guint i = 0; i < json_array_get_length (trips); i++)
    ck_assert_int_eq (json_object_get_int_member (json_array_get_object_element (trips, i), "rider"), who.rider);
  ck_assert_uint_eq (json_array_get_length (json_object_get_array_member (o, "account")), 1);

  /* The rider erases their own data: Erase… and the confirmation's Erase, clicked. */
  ft_rider_data_dialog_set_accounts (dlg, rider, rider);
  ft_test_app_focus (GTK_WINDOW (dlg));
  GtkWidget *erase = find_button (GTK_WIDGET (dlg), "E_rase…");
  ck_assert (erase != NULL);
  ft_test_app_click (erase, gtk_widget_get_width (erase) / 2.0, gtk_widget_get_height (erase) / 2.0, 0);
  ft_test_app_spin (0.5);
  G_GNUC_BEGIN_IGNORE_DEPRECATIONS
  GtkWindow *confirm = find_toplevel (GTK_TYPE_MESSAGE_DIALOG);
  G_GNUC_END_IGNORE_DEPRECATIONS
  ck_assert_msg (confirm != NULL, "Erase… asked for no confirmation");
  g_autoptr(GdkTexture) shot = ft_test_app_shot (GTK_WIDGET (confirm), "rider-data-confirm.png");
  g_clear_object (&shot);
  ft_test_app_focus (confirm);
  GtkWidget *yes = find_button (GTK_WIDGET (confirm), "_Erase");
  ck_assert (yes != NULL);
  ft_test_app_click (yes, gtk_widget_get_width (yes) / 2.0, gtk_widget_get_height (yes) / 2.0, 0);
  gint64 until = g_get_monotonic_time () + 30 * G_USEC_PER_SEC;
  while (strstr (ft_rider_data_dialog_get_status (dlg), "Erased") == NULL && g_get_monotonic_time () < until)
    ft_test_app_spin (0.1);
  printf ("as the rider: %s\n", ft_rider_data_dialog_get_status (dlg));
  ck_assert (strstr (ft_rider_data_dialog_get_status (dlg), "Erased") != NULL);
  shot = ft_test_app_shot (GTK_WIDGET (dlg), "rider-data.png");
  g_clear_object (&shot);

  /* The file, the audit log and the run's memory agree; the run goes on. */
  ck_assert_int_eq (query_int (store, q_name), 0);
  ck_assert_int_eq (query_int (store, "SELECT count(*) FROM rights_audit"), 2);
  g_free (ft_session_run_job_sync (session, erased_job, &who));
  ck_assert (who.erased);
  run_to (session, 4 * FT_HOUR);
  g_free (ft_session_run_job_sync (session, erased_job, &who));
  ck_assert (who.erased);
  ck_assert_int_eq (query_int (store, q_name), 0);
  /* the run's core logged the erasure in its own numbering */
  g_autofree char *q_ev = g_strdup_printf ("SELECT count(*) FROM events WHERE kind = %d AND account = %d",
                                           FT_EV_ACCOUNT_ERASED, who.rider);
  ck_assert_int_eq (query_int (store, q_ev), 1);

  gtk_window_destroy (GTK_WINDOW (dlg));
  ft_test_app_stop (app, win);
  g_autofree char *cmd = g_strdup_printf ("rm -rf '%s'", tmp);
  ck_assert (system (cmd) == 0);
}
END_TEST

int
main (void)
{
  setvbuf (stdout, NULL, _IOLBF, 0);
  Suite *s = suite_create ("rider-data");
  TCase *tc = tcase_create ("rider-data");
  tcase_set_timeout (tc, 600);
  tcase_add_test (tc, test_rider_data);
  suite_add_tcase (s, tc);
  SRunner *sr = srunner_create (s);
  srunner_run_all (sr, CK_NORMAL);
  int failed = srunner_ntests_failed (sr);
  srunner_free (sr);
  return failed ? 1 : 0;
}
