/* ft-window-actions.c — FtWindow's actions: play, step and speed, the
 * low-battery selection and dispatch, the rider view's find, reserve,
 * unlock and end (on the simulated or the live core), screenshots, and the
 * file actions (scenario editor, open, OpenStreetMap import, compare runs).
 */
#include "ft-window-private.h"

/* ---------------------------------------------------------------- actions */

void
ft_window_play_action (GtkWidget *widget, const char *name, GVariant *param)
{
  FtWindow *self = FT_WINDOW (widget);
  if (self->live_mode)
    return;
  if (ft_session_get_finished (self->session))
    {
      /* Play at the end runs the scenario again from the start. */
      g_autoptr(GError) error = NULL;
      if (!ft_session_restart (self->session, &error))
        {
          ft_window_show_toast (self, error->message, TRUE);
          return;
        }
      ft_window_reload_map (self);
      ft_session_play (self->session);
    }
  else if (ft_session_get_playing (self->session))
    ft_session_pause (self->session);
  else
    ft_session_play (self->session);
  ft_window_update_labels (self);
}

void
ft_window_step_action (GtkWidget *widget, const char *name, GVariant *param)
{
  FtWindow *self = FT_WINDOW (widget);
  if (!self->live_mode && !ft_session_get_finished (self->session))
    ft_session_step (self->session);
}

void
ft_window_zoom_action (GtkWidget *widget, const char *name, GVariant *param)
{
  FtWindow *self = FT_WINDOW (widget);
  double z = shumate_viewport_get_zoom_level (self->viewport) + (g_str_equal (name, "win.zoom-in") ? 1 : -1);
  z = CLAMP (z, shumate_viewport_get_min_zoom_level (self->viewport), shumate_viewport_get_max_zoom_level (self->viewport));
  shumate_viewport_set_zoom_level (self->viewport, z);
}

/* The city's bounding box in view, centred. */
void
ft_window_fit_city_action (GtkWidget *widget, const char *name, GVariant *param)
{
  FtWindow *self = FT_WINDOW (widget);
  const FtCity *city = ft_session_get_city (self->session);
  if (city == NULL)
    return;
  double x0, y0, x1, y1;
  ft_mercator_from_latlon ((FtLatLon) { city->bbox.max_lat, city->bbox.min_lon }, &x0, &y0);
  ft_mercator_from_latlon ((FtLatLon) { city->bbox.min_lat, city->bbox.max_lon }, &x1, &y1);
  int w = MAX (gtk_widget_get_width (GTK_WIDGET (self->map)), 200);
  int h = MAX (gtk_widget_get_height (GTK_WIDGET (self->map)), 200);
  double dx = MAX (x1 - x0, 1e-9), dy = MAX (y1 - y0, 1e-9);
  double z = floor (MIN (log2 (w / (256.0 * dx)), log2 (h / (256.0 * dy))) * 4) / 4;
  z = CLAMP (z, shumate_viewport_get_min_zoom_level (self->viewport), shumate_viewport_get_max_zoom_level (self->viewport));
  FtLatLon c = ft_mercator_to_latlon ((x0 + x1) / 2, (y0 + y1) / 2);
  shumate_viewport_set_zoom_level (self->viewport, z);
  shumate_location_set_location (SHUMATE_LOCATION (self->viewport), c.lat, c.lon);
}

void
ft_window_close_on_escape (GtkWindow *window)
{
  GtkEventController *sc = gtk_shortcut_controller_new ();
  gtk_shortcut_controller_add_shortcut (GTK_SHORTCUT_CONTROLLER (sc),
                                        gtk_shortcut_new (gtk_keyval_trigger_new (GDK_KEY_Escape, 0),
                                                          gtk_named_action_new ("window.close")));
  gtk_widget_add_controller (GTK_WIDGET (window), sc);
}

void
ft_window_speed_action (GtkWidget *widget, const char *name, GVariant *param)
{
  FtWindow *self = FT_WINDOW (widget);
  int d = g_str_equal (name, "win.faster") ? 1 : -1;
  int i = (int) gtk_drop_down_get_selected (GTK_DROP_DOWN (self->speed_dropdown)) + d;
  gtk_drop_down_set_selected (GTK_DROP_DOWN (self->speed_dropdown), CLAMP (i, 0, (int) G_N_ELEMENTS (ft_window_speeds) - 1));
}

guint
ft_window_select_low_battery (FtWindow *self)
{
  FtFrame *f = ft_window_current_frame (self);
  if (f == NULL)
    return 0;
  int w = gtk_widget_get_width (GTK_WIDGET (self->vehicles)), h = gtk_widget_get_height (GTK_WIDGET (self->vehicles));
  guint added = 0;
  for (guint i = 0; i < f->n_vehicles; i++)
    {
      if (f->vehicles[i].dot != FT_DOT_AVAILABLE_LOW)
        continue;
      double x, y;
      ft_vehicle_layer_vehicle_coords (self->vehicles, i, &x, &y);
      if (x < 0 || y < 0 || x >= w || y >= h)
        continue;
      ft_vehicle_layer_toggle (self->vehicles, i);
      added++;
    }
  ft_window_update_labels (self);
  return added;
}

void
ft_window_select_low_action (GtkWidget *widget, const char *name, GVariant *param)
{
  FtWindow *self = FT_WINDOW (widget);
  ft_vehicle_layer_clear_selection (self->vehicles);
  guint n = ft_window_select_low_battery (self);
  g_autofree char *msg = g_strdup_printf ("Selected %u low-battery vehicles in view.", n);
  gtk_label_set_label (GTK_LABEL (self->dispatch_status), msg);
}

void
ft_window_clear_selection_action (GtkWidget *widget, const char *name, GVariant *param)
{
  FtWindow *self = FT_WINDOW (widget);
  ft_vehicle_layer_clear_selection (self->vehicles);
  ft_window_update_labels (self);
}

guint
ft_window_dispatch_selection (FtWindow *self, guint kind, gint32 staff, GError **error)
{
  return ft_window_dispatch_selection_checked (self, kind, staff, NULL, error);
}

guint
ft_window_dispatch_selection_checked (FtWindow *self, guint kind, gint32 staff, char **warnings, GError **error)
{
  g_autoptr(GArray) sel = ft_vehicle_layer_dup_selection (self->vehicles);
  if (sel->len == 0)
    {
      g_set_error (error, FT_SIM_ERROR, FT_SIM_ERROR_INVALID,
                   "no vehicles are selected: Ctrl+click vehicles or Shift+drag a rectangle first");
      return 0;
    }
  FtLatLon target = { 0, 0 };
  if (!isnan (self->marker_mx))
    target = ft_mercator_to_latlon (self->marker_mx, self->marker_my);
  return ft_session_dispatch_checked (self->session, kind, (const guint *) sel->data, sel->len, target, staff,
                                      warnings, error);
}

void
ft_window_dispatch_action (GtkWidget *widget, const char *name, GVariant *param)
{
  FtWindow *self = FT_WINDOW (widget);
  static const guint kinds[] = { FT_TASK_BATTERY_SWAP, FT_TASK_REBALANCE, FT_TASK_COLLECT_REPAIR };
  if (self->live_mode)
    {
      g_autoptr(GArray) sel = ft_vehicle_layer_dup_selection (self->vehicles);
      if (!ft_session_can_dispatch (self->session))
        {
          gtk_label_set_label (GTK_LABEL (self->dispatch_status),
                               "Only staff roles can dispatch: switch the role to Dispatcher.");
          return;
        }
      if (sel->len == 0)
        {
          gtk_label_set_label (GTK_LABEL (self->dispatch_status),
                               "No vehicles are selected: Ctrl+click vehicles or Shift+drag a rectangle first.");
          return;
        }
      guint kk = gtk_drop_down_get_selected (GTK_DROP_DOWN (self->task_dropdown));
      gint st = (gint) gtk_drop_down_get_selected (GTK_DROP_DOWN (self->staff_dropdown)) - 1;
      FtLatLon target = { 0, 0 };
      if (!isnan (self->marker_mx))
        target = ft_mercator_to_latlon (self->marker_mx, self->marker_my);
      g_autoptr(GError) error = NULL;
      guint published = 0;
      guint n = ft_live_session_dispatch (self->live, kinds[MIN (kk, 2)], (const guint *) sel->data, sel->len,
                                          target, st, &published, &error);
      g_autofree char *msg = g_strdup_printf ("%u live tasks created%s, %u locate commands published "
                                              "(see the Live page). %s", n,
                                              st >= 0 ? " and assigned" : "", published,
                                              error ? error->message : "");
      gtk_label_set_label (GTK_LABEL (self->dispatch_status), msg);
      if (n > 0)
        ft_vehicle_layer_clear_selection (self->vehicles);
      ft_window_update_live_page (self);
      return;
    }
  guint k = gtk_drop_down_get_selected (GTK_DROP_DOWN (self->task_dropdown));
  gint32 staff = (gint32) gtk_drop_down_get_selected (GTK_DROP_DOWN (self->staff_dropdown)) - 1;
  if (k == 1 && isnan (self->marker_mx))
    {
      gtk_label_set_label (GTK_LABEL (self->dispatch_status),
                           "Click the map where the vehicles should go first.");
      return;
    }
  g_autoptr(GError) error = NULL;
  g_autofree char *warnings = NULL;
  guint n = ft_window_dispatch_selection_checked (self, kinds[MIN (k, 2)], staff, &warnings, &error);
  g_autofree char *msg = g_strdup_printf ("%u tasks created.%s%s%s%s", n, error ? " " : "", error ? error->message : "",
                                          warnings ? " " : "", warnings ? warnings : "");
  gtk_label_set_label (GTK_LABEL (self->dispatch_status), msg);
  if (warnings)
    ft_window_show_toast (self, warnings, FALSE);
  if (n > 0)
    ft_vehicle_layer_clear_selection (self->vehicles);
  ft_window_refresh_tasks (self);
}

/* Rider view: the flow (ft-rider-flow.c) runs every step on the twin
 * thread through the real modules; the window shows its answer. */

typedef struct {
  FtRiderFlow *flow;
  FtRiderStep  step;
  FtLatLon     at;
} RiderJob;

static char *
rider_job (FtSimWorld *w, gpointer data)
{
  RiderJob *j = data;
  return ft_rider_flow_run (j->flow, j->step, ft_sim_world_get_core (w), ft_sim_world_get_city (w),
                            ft_sim_world_now (w), j->at);
}

/* Live mode: the same steps on the live core; the adapter publishes the
 * unlock and lock commands that booking unlock and end imply. */
static char *
rider_live_job (FtCore *core, FtLive *live, FtTime now, gpointer data)
{
  RiderJob *j = data;
  return ft_rider_flow_run (j->flow, j->step, core, NULL, now, j->at);
}

void
ft_window_rider_action (GtkWidget *widget, const char *name, GVariant *param)
{
  FtWindow *self = FT_WINDOW (widget);
  RiderJob j = { self->rider, FT_RIDER_FIND, { 0, 0 } };
  if (g_str_equal (name, "win.rider-reserve"))
    j.step = FT_RIDER_RESERVE;
  else if (g_str_equal (name, "win.rider-unlock"))
    j.step = FT_RIDER_UNLOCK;
  else if (g_str_equal (name, "win.rider-end"))
    j.step = FT_RIDER_END;
  if (!ft_rider_flow_can (self->rider, j.step, !isnan (self->marker_mx)))
    {
      ft_window_show_markup (self->rider_label, isnan (self->marker_mx) ? "Click the map to mark a point first."
                                                                         : "That step does not apply now.");
      return;
    }
  if (!isnan (self->marker_mx))
    j.at = ft_mercator_to_latlon (self->marker_mx, self->marker_my);
  g_autofree char *r = NULL;
  if (self->live_mode)
    {
      r = ft_live_session_run_job_sync (self->live, rider_live_job, &j);
      if (r == NULL)
        r = g_strdup ("Live mode is not connected: open Broker Settings on the Live page.");
    }
  else
    r = ft_session_run_job_sync (self->session, rider_job, &j);
  ft_rider_flow_commit (self->rider);
  if (j.step == FT_RIDER_RESERVE && ft_rider_flow_get_state (self->rider) == FT_RIDER_RESERVED && !self->live_mode)
    {
      /* A hold lasts minutes of simulated time: at 600x it would run out in
       * seconds. Slow down to 10x and say so. */
      guint i = gtk_drop_down_get_selected (GTK_DROP_DOWN (self->speed_dropdown));
      if (i >= G_N_ELEMENTS (ft_window_speeds) || ft_window_speeds[i] <= 0 || ft_window_speeds[i] > 10)
        {
          gtk_drop_down_set_selected (GTK_DROP_DOWN (self->speed_dropdown), 1);
          char *more = g_strdup_printf ("%s\nSpeed set to 10× so the hold does not run out at once.", r);
          g_free (r);
          r = more;
        }
    }
  ft_window_show_markup (self->rider_label, r);
}

static gboolean
is_png (const char *path)
{
  static const guint8 magic[8] = { 0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n' };
  g_autofree char *data = NULL;
  gsize len = 0;
  return ft_file_read (path, 256 * 1024 * 1024, &data, &len, NULL) && len >= 8 && memcmp (data, magic, 8) == 0;
}

gboolean
ft_window_save_screenshot (FtWindow *self, const char *path, GError **error)
{
  g_return_val_if_fail (FT_IS_WINDOW (self) && path != NULL, FALSE);
  /* The window's content: map and sidebar, without the header bar. */
  GtkWidget *content = gtk_window_get_child (GTK_WINDOW (self));
  g_autoptr(GdkTexture) tex = ft_screenshot_widget (content);
  if (tex == NULL)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_FAILED, "%s: the window is not drawn yet, nothing to save", path);
      return FALSE;
    }
  g_autoptr(GError) local = NULL;
  g_autoptr(FtOutput) out = ft_output_begin (path, FT_OUTPUT_FILE, is_png, FALSE, &local);
  if (out == NULL)
    {
      if (g_error_matches (local, FT_FILE_ERROR, FT_FILE_ERROR_NOT_OURS))
        g_set_error (error, FT_FILE_ERROR, FT_FILE_ERROR_NOT_OURS,
                     "%s exists and is not a PNG image: it was left as it was; choose another name", path);
      else
        g_propagate_error (error, g_steal_pointer (&local));
      return FALSE;
    }
  if (!gdk_texture_save_to_png (tex, ft_output_get_path (out)))
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_FAILED, "%s: cannot write the PNG", path);
      return FALSE;
    }
  return ft_output_commit (g_steal_pointer (&out), error);
}

static void
on_screenshot_response (GtkNativeDialog *dialog, int response, FtWindow *self)
{
  if (response == GTK_RESPONSE_ACCEPT)
    {
      g_autoptr(GFile) file = gtk_file_chooser_get_file (GTK_FILE_CHOOSER (dialog));
      g_autofree char *path = g_file_get_path (file);
      g_autoptr(GError) error = NULL;
      if (path && ft_window_save_screenshot (self, path, &error))
        {
          g_autofree char *msg = g_strdup_printf ("Screenshot saved to %s", path);
          ft_window_show_toast (self, msg, FALSE);
        }
      else
        ft_window_show_toast (self, error ? error->message : "Cannot save there: not a local file", TRUE);
    }
  g_object_unref (dialog);
}

/* Save Screenshot…: asks where, then writes a PNG of the map and panels. */
void
ft_window_screenshot_action (GtkWidget *widget, const char *name, GVariant *param)
{
  FtWindow *self = FT_WINDOW (widget);
  GtkFileChooserNative *fc = gtk_file_chooser_native_new ("Save Screenshot", GTK_WINDOW (self),
                                                          GTK_FILE_CHOOSER_ACTION_SAVE, "_Save", NULL);
  GtkFileFilter *filter = gtk_file_filter_new ();
  gtk_file_filter_set_name (filter, "PNG images");
  gtk_file_filter_add_pattern (filter, "*.png");
  gtk_file_chooser_add_filter (GTK_FILE_CHOOSER (fc), filter);
  g_object_unref (filter);
  g_autoptr(GDateTime) now = g_date_time_new_now_local ();
  g_autofree char *stamp = g_date_time_format (now, "fleet-twin-%Y%m%d-%H%M%S.png");
  gtk_file_chooser_set_current_name (GTK_FILE_CHOOSER (fc), stamp);
  g_signal_connect (fc, "response", G_CALLBACK (on_screenshot_response), self);
  gtk_native_dialog_show (GTK_NATIVE_DIALOG (fc));
}

static void
scenario_loaded_cb (FtScenarioEditor *editor, FtWindow *self)
{
  ft_window_reload_map (self);
}

void
ft_window_edit_scenario_action (GtkWidget *widget, const char *name, GVariant *param)
{
  FtWindow *self = FT_WINDOW (widget);
  FtScenarioEditor *ed = ft_scenario_editor_new (GTK_WINDOW (self), self->session);
  ft_window_close_on_escape (GTK_WINDOW (ed));
  g_signal_connect_object (ed, "applied", G_CALLBACK (scenario_loaded_cb), self, 0);
  gtk_window_present (GTK_WINDOW (ed));
}

FtSimScenario *
ft_window_scenario_for_city (const FtSimScenario *cur, const char *dir)
{
  FtSimScenario *sc = cur ? ft_sim_scenario_copy (cur) : ft_sim_scenario_new_default ();
  g_free (sc->city);
  sc->city = g_strdup (dir);
  g_clear_pointer (&sc->city_osm, g_free);
  g_clear_pointer (&sc->city_trips, g_free);
  g_clear_pointer (&sc->city_name, g_free);
  g_clear_pointer (&sc->trace, g_free);
  /* another city's fleet snapshot would be placed (or refused) here */
  g_clear_pointer (&sc->fleet_gbfs, g_free);
  sc->city_requests_per_day = 0;
  return sc;
}

gboolean
ft_window_open_path (FtWindow *self, const char *path, gboolean city, GError **error)
{
  g_return_val_if_fail (FT_IS_WINDOW (self) && path != NULL, FALSE);
  g_autoptr(GError) local = NULL;
  FtSimScenario *sc = NULL;
  if (city)
    sc = ft_window_scenario_for_city (ft_session_get_scenario (self->session), path);
  else
    sc = ft_sim_scenario_load (path, &local);
  if (sc == NULL || !ft_session_load (self->session, sc, NULL, &local))
    {
      /* the message names the file already when it comes from reading it */
      g_autofree char *msg = strstr (local->message, path) ? g_strdup (local->message)
                                                          : g_strdup_printf ("%s: %s", path, local->message);
      ft_window_show_toast (self, msg, TRUE);
      g_propagate_error (error, g_steal_pointer (&local));
      return FALSE;
    }
  ft_window_reload_map (self);
  return TRUE;
}

static void
on_open_response (GtkNativeDialog *dialog, int response, FtWindow *self)
{
  if (response == GTK_RESPONSE_ACCEPT)
    {
      g_autoptr(GFile) file = gtk_file_chooser_get_file (GTK_FILE_CHOOSER (dialog));
      g_autofree char *path = g_file_get_path (file);
      gboolean is_city = GPOINTER_TO_INT (g_object_get_data (G_OBJECT (dialog), "city"));
      if (path)
        ft_window_open_path (self, path, is_city, NULL);
      else
        ft_window_show_toast (self, "Only local files can be opened.", TRUE);
    }
  g_object_unref (dialog);
}

void
ft_window_open_action (GtkWidget *widget, const char *name, GVariant *param)
{
  FtWindow *self = FT_WINDOW (widget);
  gboolean city = g_str_equal (name, "win.open-city");
  GtkFileChooserNative *fc = gtk_file_chooser_native_new (
      city ? "Open City Pack" : "Open Scenario", GTK_WINDOW (self),
      city ? GTK_FILE_CHOOSER_ACTION_SELECT_FOLDER : GTK_FILE_CHOOSER_ACTION_OPEN, NULL, NULL);
  if (!city)
    {
      GtkFileFilter *filter = gtk_file_filter_new ();
      gtk_file_filter_set_name (filter, "Scenarios");
      gtk_file_filter_add_pattern (filter, "*.scenario");
      gtk_file_chooser_add_filter (GTK_FILE_CHOOSER (fc), filter);
      g_object_unref (filter);
    }
  g_object_set_data (G_OBJECT (fc), "city", GINT_TO_POINTER (city));
  g_signal_connect (fc, "response", G_CALLBACK (on_open_response), self);
  gtk_native_dialog_show (GTK_NATIVE_DIALOG (fc));
}

static void
on_imported (FtImportDialog *dlg, const char *dir, FtWindow *self)
{
  g_autoptr(GError) error = NULL;
  FtSimScenario *sc = ft_sim_scenario_copy (ft_session_get_scenario (self->session));
  g_free (sc->city);
  sc->city = g_strdup (dir);
  g_clear_pointer (&sc->fleet_gbfs, g_free);   /* the snapshot was of the city before */
  if (!ft_session_load (self->session, sc, NULL, &error))
    ft_window_show_toast (self, error->message, TRUE);
  else
    ft_window_reload_map (self);
}

static void
on_import_response (GtkNativeDialog *dialog, int response, FtWindow *self)
{
  if (response == GTK_RESPONSE_ACCEPT)
    {
      g_autoptr(GFile) file = gtk_file_chooser_get_file (GTK_FILE_CHOOSER (dialog));
      g_autofree char *path = g_file_get_path (file);
      g_autofree char *base = g_path_get_basename (path);
      char *dot = strchr (base, '.');
      if (dot)
        *dot = '\0';
      g_autofree char *out = g_build_filename (g_get_user_data_dir (), "fleet-twin", "cities", base, NULL);
      g_autofree char *parent = g_path_get_dirname (out);
      g_mkdir_with_parents (parent, 0755);
      FtImportDialog *dlg = ft_import_dialog_new (GTK_WINDOW (self), path, out);
      ft_window_close_on_escape (GTK_WINDOW (dlg));
      g_signal_connect_object (dlg, "imported", G_CALLBACK (on_imported), self, 0);
      gtk_window_present (GTK_WINDOW (dlg));
    }
  g_object_unref (dialog);
}

void
ft_window_import_osm_action (GtkWidget *widget, const char *name, GVariant *param)
{
  FtWindow *self = FT_WINDOW (widget);
  GtkFileChooserNative *fc = gtk_file_chooser_native_new ("Import OpenStreetMap Extract", GTK_WINDOW (self),
                                                          GTK_FILE_CHOOSER_ACTION_OPEN, NULL, NULL);
  GtkFileFilter *filter = gtk_file_filter_new ();
  gtk_file_filter_set_name (filter, "OpenStreetMap PBF");
  gtk_file_filter_add_pattern (filter, "*.osm.pbf");
  gtk_file_chooser_add_filter (GTK_FILE_CHOOSER (fc), filter);
  g_object_unref (filter);
  g_signal_connect (fc, "response", G_CALLBACK (on_import_response), self);
  gtk_native_dialog_show (GTK_NATIVE_DIALOG (fc));
}

/* Dashboard: charts and a map layer from the run's analytics (live
 * databases are read with `fleet-twin-cli report`). */
void
ft_window_dashboard_action (GtkWidget *widget, const char *name, GVariant *param)
{
  FtWindow *self = FT_WINDOW (widget);
  /* in Live mode it reads the live connection's database */
  FtDashboardWindow *win = ft_dashboard_window_new (self);
  ft_window_close_on_escape (GTK_WINDOW (win));
  gtk_window_present (GTK_WINDOW (win));
}

/* New Region…: the region launch playbook with its inputs chosen in a
 * dialog (ft-region-dialog.c). */
void
ft_window_new_region_action (GtkWidget *widget, const char *name, GVariant *param)
{
  FtWindow *self = FT_WINDOW (widget);
  FtRegionDialog *dlg = ft_region_dialog_new (self);
  ft_window_close_on_escape (GTK_WINDOW (dlg));
  gtk_window_present (GTK_WINDOW (dlg));
}

/* Experiments: variants of a base scenario run in the background and
 * compared with the control (ft-experiments-window.c). */
void
ft_window_experiments_action (GtkWidget *widget, const char *name, GVariant *param)
{
  FtWindow *self = FT_WINDOW (widget);
  FtExperimentsWindow *win = ft_experiments_window_new (self);
  const FtSimScenario *sc = ft_session_get_scenario (self->session);
  if (sc && sc->path)
    ft_experiments_window_set_base (win, sc->path);
  ft_window_close_on_escape (GTK_WINDOW (win));
  gtk_window_present (GTK_WINDOW (win));
}

/* Damage Reviews: the staff queue of riders' damage photos and the
 * assistant's hand-offs (ft-review-window.c). */
void
ft_window_review_action (GtkWidget *widget, const char *name, GVariant *param)
{
  FtWindow *self = FT_WINDOW (widget);
  if (self->live_mode)
    {
      ft_window_show_toast (self, "Damage reviews are shown for the simulated run; for a live database use "
                            "fleet-twin-cli inspect.", TRUE);
      return;
    }
  FtReviewWindow *win = ft_review_window_new (self);
  ft_window_close_on_escape (GTK_WINDOW (win));
  gtk_window_present (GTK_WINDOW (win));
}

/* Rider Data…: a rider's export or erasure on the run's database. */
void
ft_window_rider_data_action (GtkWidget *widget, const char *name, GVariant *param)
{
  FtWindow *self = FT_WINDOW (widget);
  if (self->live_mode)
    {
      ft_window_show_toast (self, "Rider Data works on the simulated run's database; for a live or "
                            "region database use fleet-twin-cli rider export|erase.", TRUE);
      return;
    }
  FtRiderDataDialog *dlg = ft_rider_data_dialog_new (self);
  ft_window_close_on_escape (GTK_WINDOW (dlg));
  gtk_window_present (GTK_WINDOW (dlg));
}

/* Shadow Models: the demand forecast against actual, labelled as shadow. */
void
ft_window_shadow_action (GtkWidget *widget, const char *name, GVariant *param)
{
  FtWindow *self = FT_WINDOW (widget);
  if (self->live_mode)
    {
      ft_window_show_toast (self, "Shadow results are shown for the simulated run; live shadow mode is "
                            "fleet-twin-cli live --shadow.", TRUE);
      return;
    }
  FtShadowWindow *win = ft_shadow_window_new (self);
  ft_window_close_on_escape (GTK_WINDOW (win));
  gtk_window_present (GTK_WINDOW (win));
}

void
ft_window_compare_action (GtkWidget *widget, const char *name, GVariant *param)
{
  FtWindow *self = FT_WINDOW (widget);
  FtResultsView *win = ft_results_view_new (GTK_WINDOW (self), self->session);
  ft_window_close_on_escape (GTK_WINDOW (win));
  gtk_window_present (GTK_WINDOW (win));
}
