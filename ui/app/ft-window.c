/* ft-window.c — see ft-window.h. Actions are in ft-window-actions.c, live
 * mode in ft-window-live.c, the struct they share in ft-window-private.h.
 *
 * Per frame (a tick callback on the map) the window polls the session for
 * a new FtFrame and hands it to the vehicle and overlay layers; labels and
 * charts refresh at most four times a second. Clicks pick a vehicle (then a
 * van, then a zone) for the inspector, Ctrl+click and Shift+drag build the
 * dispatch selection, and a plain click elsewhere marks a point (rebalance
 * target or rider destination).
 */
#include "ft-window-private.h"

G_DEFINE_FINAL_TYPE (FtWindow, ft_window, GTK_TYPE_APPLICATION_WINDOW)

const double ft_window_speeds[6] = { 1, 10, 60, 600, 3600, 0 };
extern gint64 ft_app_start_time;   /* set by main(); 0 if unknown */
gint64 ft_app_start_time;

/* The frame the map shows: the live fleet in Live mode, else the simulation. */
FtFrame *
ft_window_current_frame (FtWindow *self)
{
  if (self->live_mode)
    return ft_live_session_get_frame (self->live);
  return ft_session_get_frame (self->session);
}

/* ------------------------------------------------------------- helpers */

void
ft_window_update_labels (FtWindow *self)
{
  ft_window_update_live_page (self);
  FtFrame *f = ft_window_current_frame (self);
  if (f == NULL)
    return;
  if (self->live_mode)
    {
      g_autoptr(GDateTime) dt = g_date_time_new_from_unix_utc (f->now / 1000);
      g_autofree char *clock = dt ? g_date_time_format (dt, "Live %H:%M:%S UTC") : NULL;
      gtk_label_set_label (GTK_LABEL (self->clock_label), clock ? clock : "Live");
      guint avail = 0;
      for (guint i = 0; i < f->n_vehicles; i++)
        avail += f->vehicles[i].state == FT_STATE_AVAILABLE;
      g_autofree char *summary = g_strdup_printf (
          "<b>%u live vehicles</b> · %u available\nOn trip %.1f %%\nBattery available %.1f %%\n"
          "Staff reporting %u",
          f->n_vehicles, avail, f->kpi.utilisation * 100, f->kpi.battery_available * 100, f->n_staff);
      gtk_label_set_markup (GTK_LABEL (self->kpi_summary), summary);
      return;
    }
  g_autofree char *clock = NULL;
  if (ft_session_get_finished (self->session))
    {
      /* The end is 24:00 of the last day, not Monday 00:00 of the next. */
      FtTime end = ft_session_get_end_time (self->session);
      g_autofree char *t = ft_time_format (end);
      if (end > 0 && end % FT_DAY == 0)
        clock = g_strdup_printf ("Ended · day %" G_GINT64_FORMAT " 24:00", end / FT_DAY);
      else
        clock = g_strdup_printf ("Ended · day %" G_GINT64_FORMAT " · %s", end / FT_DAY + 1, t);
    }
  else
    {
      g_autofree char *t = ft_time_format (f->now);
      clock = g_strdup_printf ("Day %" G_GINT64_FORMAT " · %s", f->now / FT_DAY + 1, t);
    }
  gtk_label_set_label (GTK_LABEL (self->clock_label), clock);
  g_autofree char *rev = ft_money_format (f->kpi.revenue_minor, f->kpi.currency[0] ? f->kpi.currency : "EUR");
  g_autofree char *summary = g_strdup_printf (
      "<b>%u vehicles</b> · utilisation %.1f %%\n"
      "Trips served %u · lost %u\nRevenue %s\n"
      "Battery-unavailable now %.1f %% · over the run %.1f %%\n"
      "Tasks open %u · done %u",
      f->n_vehicles, f->kpi.utilisation * 100, f->kpi.trips_served, f->kpi.trips_lost, rev,
      (1 - f->kpi.battery_available) * 100, f->kpi.battery_unavailable_run * 100,
      f->kpi.tasks_open, f->kpi.tasks_done);
  gtk_label_set_markup (GTK_LABEL (self->kpi_summary), summary);
  GArray *hist = ft_session_get_history (self->session);
  for (guint i = 0; i < G_N_ELEMENTS (self->charts); i++)
    ft_kpi_chart_set_history (FT_KPI_CHART (self->charts[i]), hist);
  /* the levers' charts only when the run has them */
  gboolean levers = f->zone_price != NULL || f->zone_offer != NULL;
  for (guint i = 4; i < FT_WINDOW_N_CHARTS; i++)
    gtk_widget_set_visible (self->charts[i], levers && (i == 4 || f->zone_offer != NULL));
  guint nsel = ft_vehicle_layer_get_n_selected (self->vehicles);
  g_autofree char *sel = nsel ? g_strdup_printf ("%u vehicles selected", nsel)
                              : g_strdup ("No vehicles selected");
  gtk_label_set_label (GTK_LABEL (self->selection_label), sel);
  guint64 key = ((guint64) f->kpi.tasks_open << 32) | f->kpi.tasks_done;
  if (key != self->tasks_key && g_strcmp0 (ft_window_get_page (self), "dispatch") == 0)
    ft_window_refresh_tasks (self);
}

static const char *
task_kind_name (FtTaskKind k)
{
  static const char *const names[] = { "Swap", "Rebalance", "Collect", "Deploy" };
  return (guint) k < G_N_ELEMENTS (names) ? names[k] : "Task";
}

static const char *
task_state_name (FtTaskState s)
{
  static const char *const names[] = { "open", "assigned", "in progress", "done", "cancelled" };
  return (guint) s < G_N_ELEMENTS (names) ? names[s] : "?";
}

static void
on_task_button (GtkButton *b, FtWindow *self)
{
  gint64 id = GPOINTER_TO_SIZE (g_object_get_data (G_OBJECT (b), "task")) - 1;
  gboolean cancel = g_object_get_data (G_OBJECT (b), "cancel") != NULL;
  g_autoptr(GError) error = NULL;
  gint32 staff = (gint32) gtk_drop_down_get_selected (GTK_DROP_DOWN (self->staff_dropdown)) - 1;
  gboolean ok;
  if (cancel)
    ok = ft_session_cancel_task (self->session, id, &error);
  else if (staff < 0)
    {
      g_set_error (&error, FT_SIM_ERROR, FT_SIM_ERROR_INVALID,
                   "choose a staff member above (Assign to …) to reassign task %" G_GINT64_FORMAT " to", id);
      ok = FALSE;
    }
  else
    ok = ft_session_reassign_task (self->session, id, (guint) staff, &error);
  g_autofree char *msg = ok ? g_strdup_printf ("Task %" G_GINT64_FORMAT " %s.", id,
                                               cancel ? "cancelled" : "reassigned")
                            : g_strdup (error->message);
  gtk_label_set_label (GTK_LABEL (self->dispatch_status), msg);
  ft_window_refresh_tasks (self);
}

static GtkWidget *
task_button (FtWindow *self, const char *label, const char *what, gint64 id, gboolean cancel)
{
  GtkWidget *b = gtk_button_new_with_label (label);
  gtk_widget_add_css_class (b, "flat");
  g_object_set_data (G_OBJECT (b), "task", GSIZE_TO_POINTER ((gsize) id + 1));
  if (cancel)
    g_object_set_data (G_OBJECT (b), "cancel", GINT_TO_POINTER (1));
  g_autofree char *acc = g_strdup_printf ("%s task %" G_GINT64_FORMAT, what, id);
  gtk_accessible_update_property (GTK_ACCESSIBLE (b), GTK_ACCESSIBLE_PROPERTY_LABEL, acc, -1);
  gtk_widget_set_tooltip_text (b, acc);
  g_signal_connect (b, "clicked", G_CALLBACK (on_task_button), self);
  return b;
}

/* The Dispatch page's task list: status, kind, priority, assignee, age,
 * with Cancel and Reassign (to the staff member chosen above). */
void
ft_window_refresh_tasks (FtWindow *self)
{
  GtkWidget *child;
  while ((child = gtk_widget_get_first_child (self->tasks_box)))
    gtk_box_remove (GTK_BOX (self->tasks_box), child);
  FtFrame *f = ft_window_current_frame (self);
  self->tasks_key = f ? ((guint64) f->kpi.tasks_open << 32) | f->kpi.tasks_done : 0;
  if (self->live_mode)
    return;
  g_autoptr(GArray) tasks = ft_session_dup_tasks (self->session, 30);
  FtTime now = ft_session_get_time (self->session);
  if (tasks->len == 0)
    {
      GtkWidget *l = gtk_label_new ("No unfinished tasks.");
      gtk_label_set_xalign (GTK_LABEL (l), 0);
      gtk_widget_add_css_class (l, "dim-label");
      gtk_box_append (GTK_BOX (self->tasks_box), l);
    }
  for (guint i = 0; i < tasks->len; i++)
    {
      const FtSessionTask *t = &g_array_index (tasks, FtSessionTask, i);
      g_autofree char *who = t->staff >= 0 ? g_strdup_printf ("Staff %d", t->staff + 1) : g_strdup ("queue");
      g_autofree char *text = g_strdup_printf ("#%" G_GINT64_FORMAT " %s %s\nP%d · %s · %s · %" G_GINT64_FORMAT " min",
                                               t->id, task_kind_name (t->kind), t->vehicle, t->priority, who,
                                               task_state_name (t->state), MAX (now - t->created, 0) / FT_MINUTE);
      GtkWidget *row = gtk_box_new (GTK_ORIENTATION_HORIZONTAL, 2);
      gtk_widget_add_css_class (row, "task-row");
      GtkWidget *l = gtk_label_new (text);
      gtk_label_set_xalign (GTK_LABEL (l), 0);
      gtk_widget_set_hexpand (l, TRUE);
      gtk_widget_set_tooltip_text (l, text);
      gtk_box_append (GTK_BOX (row), l);
      gboolean busy = t->state == FT_TASK_IN_PROGRESS;
      gtk_widget_set_valign (l, GTK_ALIGN_CENTER);
      GtkWidget *re = task_button (self, "Reassign", "Reassign to the chosen staff member", t->id, FALSE);
      GtkWidget *ca = task_button (self, "Cancel", "Cancel", t->id, TRUE);
      gtk_widget_set_sensitive (re, !busy);
      gtk_widget_set_sensitive (ca, !busy);
      gtk_box_append (GTK_BOX (row), re);
      gtk_box_append (GTK_BOX (row), ca);
      gtk_box_append (GTK_BOX (self->tasks_box), row);
    }
}

char *
ft_window_dup_tasks_text (FtWindow *self)
{
  GString *s = g_string_new (NULL);
  for (GtkWidget *row = gtk_widget_get_first_child (self->tasks_box); row; row = gtk_widget_get_next_sibling (row))
    {
      GtkWidget *l = GTK_IS_LABEL (row) ? row : gtk_widget_get_first_child (row);
      g_string_append_printf (s, "%s\n", gtk_label_get_text (GTK_LABEL (l)));
    }
  return g_string_free (s, FALSE);
}

void
ft_window_set_dispatch_staff (FtWindow *self, gint32 staff)
{
  gtk_drop_down_set_selected (GTK_DROP_DOWN (self->staff_dropdown), (guint) (staff + 1));
}

/* Follows the session's playing and finished properties (bound, not polled). */
void
ft_window_update_play_button (FtWindow *self)
{
  const char *icon, *tip;
  if (ft_session_get_finished (self->session))
    icon = "view-refresh-symbolic", tip = "The run has ended: restart it (Space)";
  else if (ft_session_get_playing (self->session))
    icon = "media-playback-pause-symbolic", tip = "Pause (Space)";
  else
    icon = "media-playback-start-symbolic", tip = "Play (Space)";
  gtk_button_set_icon_name (GTK_BUTTON (self->play_button), icon);
  gtk_widget_set_tooltip_text (self->play_button, tip);
  gtk_accessible_update_property (GTK_ACCESSIBLE (self->play_button), GTK_ACCESSIBLE_PROPERTY_LABEL, tip, -1);
}

/* The rider's buttons follow the flow's state and the marked point. */
void
ft_window_update_rider_actions (FtWindow *self)
{
  gboolean has_point = !isnan (self->marker_mx);
  static const char *const names[] = { "win.rider-find", "win.rider-reserve", "win.rider-unlock", "win.rider-end" };
  for (guint i = 0; i < G_N_ELEMENTS (names); i++)
    gtk_widget_action_set_enabled (GTK_WIDGET (self), names[i], ft_rider_flow_can (self->rider, i, has_point));
  ft_overlay_layer_set_highlight (self->overlay, ft_rider_flow_get_vehicle (self->rider));
  /* the chat asks from where the rider stands: the marked point, unless
   * it is where a ride goes (then the assistant knows the vehicle) */
  if (self->chat_panel)
    {
      FtLatLon at;
      gboolean stands = has_point && ft_rider_flow_get_state (self->rider) != FT_RIDER_RIDING;
      if (stands)
        at = ft_mercator_to_latlon (self->marker_mx, self->marker_my);
      ft_chat_panel_set_position (FT_CHAT_PANEL (self->chat_panel), stands ? &at : NULL);
    }
}

static void
on_rider_state (FtWindow *self)
{
  self->hold_warned = FALSE;
  ft_window_update_rider_actions (self);
}

static void
on_playing_changed (FtSession *session, GParamSpec *pspec, FtWindow *self)
{
  ft_window_update_play_button (self);
}

static void
on_finished_changed (FtSession *session, GParamSpec *pspec, FtWindow *self)
{
  ft_window_update_play_button (self);
  ft_window_update_labels (self);
  if (ft_session_get_finished (session))
    {
      const FtSimScenario *sc = ft_session_get_scenario (session);
      g_autofree char *msg = g_strdup_printf ("The run reached the end of its %g simulated day%s. "
                                              "Press Play to run it again, or open Compare Runs.",
                                              sc ? sc->days : 1, sc && sc->days == 1 ? "" : "s");
      ft_window_show_toast (self, msg, FALSE);
    }
}

/* A new scenario or city: what the last one said no longer applies. */
static void
on_session_loaded (FtSession *session, FtWindow *self)
{
  if (self->toast_revealer)
    gtk_revealer_set_reveal_child (GTK_REVEALER (self->toast_revealer), FALSE);
  gtk_label_set_label (GTK_LABEL (self->inspector_label), "Click a vehicle, van or zone on the map.");
  ft_rider_flow_reset (self->rider);
  if (self->chat_panel)
    ft_chat_panel_clear (FT_CHAT_PANEL (self->chat_panel));
  ft_window_update_play_button (self);
}

/* ---------------------------------------------------------------- toasts */

static gboolean
toast_expired (gpointer data)
{
  FtWindow *self = data;
  self->toast_timeout = 0;
  gtk_revealer_set_reveal_child (GTK_REVEALER (self->toast_revealer), FALSE);
  return G_SOURCE_REMOVE;
}

void
ft_window_show_toast (FtWindow *self, const char *message, gboolean is_error)
{
  g_return_if_fail (FT_IS_WINDOW (self));
  g_clear_handle_id (&self->toast_timeout, g_source_remove);
  gtk_label_set_label (GTK_LABEL (self->toast_label), message);
  self->toast_is_error = is_error;
  GtkWidget *box = gtk_revealer_get_child (GTK_REVEALER (self->toast_revealer));
  if (is_error)
    gtk_widget_add_css_class (box, "error-toast");
  else
    gtk_widget_remove_css_class (box, "error-toast");
  gtk_revealer_set_reveal_child (GTK_REVEALER (self->toast_revealer), TRUE);
  if (!is_error)
    self->toast_timeout = g_timeout_add_seconds (MAX (8, (guint) strlen (message) / 12), toast_expired, self);
}

const char *
ft_window_get_toast (FtWindow *self)
{
  if (!gtk_revealer_get_reveal_child (GTK_REVEALER (self->toast_revealer)))
    return NULL;
  return gtk_label_get_label (GTK_LABEL (self->toast_label));
}

gboolean
ft_window_get_toast_is_error (FtWindow *self)
{
  return ft_window_get_toast (self) != NULL && self->toast_is_error;
}

static void
on_toast_close (GtkButton *b, FtWindow *self)
{
  g_clear_handle_id (&self->toast_timeout, g_source_remove);
  gtk_revealer_set_reveal_child (GTK_REVEALER (self->toast_revealer), FALSE);
}

static void
build_toast (FtWindow *self)
{
  self->toast_revealer = gtk_revealer_new ();
  gtk_revealer_set_transition_type (GTK_REVEALER (self->toast_revealer), GTK_REVEALER_TRANSITION_TYPE_SLIDE_DOWN);
  gtk_widget_set_halign (self->toast_revealer, GTK_ALIGN_CENTER);
  gtk_widget_set_valign (self->toast_revealer, GTK_ALIGN_START);
  gtk_widget_set_margin_top (self->toast_revealer, 10);
  gtk_widget_set_margin_start (self->toast_revealer, 60);
  gtk_widget_set_margin_end (self->toast_revealer, 60);
  GtkWidget *box = gtk_box_new (GTK_ORIENTATION_HORIZONTAL, 8);
  gtk_widget_add_css_class (box, "toast");
  gtk_widget_add_css_class (box, "osd");
  self->toast_label = gtk_label_new (NULL);
  gtk_label_set_wrap (GTK_LABEL (self->toast_label), TRUE);
  gtk_label_set_max_width_chars (GTK_LABEL (self->toast_label), 70);
  gtk_label_set_selectable (GTK_LABEL (self->toast_label), TRUE);
  gtk_label_set_xalign (GTK_LABEL (self->toast_label), 0);
  gtk_box_append (GTK_BOX (box), self->toast_label);
  GtkWidget *close = gtk_button_new_from_icon_name ("window-close-symbolic");
  gtk_widget_add_css_class (close, "flat");
  gtk_widget_set_valign (close, GTK_ALIGN_CENTER);
  gtk_widget_set_tooltip_text (close, "Dismiss");
  gtk_accessible_update_property (GTK_ACCESSIBLE (close), GTK_ACCESSIBLE_PROPERTY_LABEL, "Dismiss the message", -1);
  g_signal_connect (close, "clicked", G_CALLBACK (on_toast_close), self);
  gtk_box_append (GTK_BOX (box), close);
  gtk_revealer_set_child (GTK_REVEALER (self->toast_revealer), box);
  gtk_overlay_add_overlay (GTK_OVERLAY (self->map_overlay), self->toast_revealer);
}

/* The rider's reservation: a warning before it runs out, a message when
 * the core ended it. */
static void
watch_reservation (FtWindow *self, const FtFrame *f)
{
  if (ft_rider_flow_get_state (self->rider) != FT_RIDER_RESERVED)
    return;
  FtTime until = ft_rider_flow_get_hold_until (self->rider);
  if (ft_rider_flow_observe (self->rider, f))
    {
      g_autofree char *t = ft_time_format (until);
      g_autofree char *msg = g_strdup_printf ("Your reservation ran out at %s: the vehicle is free again. "
                                              "Reserve again, and unlock it before the hold ends.", t);
      ft_window_show_markup (self->rider_label, msg);
      ft_window_show_toast (self, msg, FALSE);
      return;
    }
  if (!self->hold_warned && until - f->now <= 3 * FT_MINUTE)
    {
      self->hold_warned = TRUE;
      g_autofree char *t = ft_time_format (until);
      g_autofree char *msg = g_strdup_printf ("Your reservation ends at %s: unlock the vehicle now.", t);
      ft_window_show_toast (self, msg, FALSE);
    }
}

/* The rider's ride to the marked point: each new frame moves the vehicle
 * along its route on the twin thread; on arrival the receipt shows. */
static char *
advance_job (FtSimWorld *w, gpointer data)
{
  return ft_rider_flow_advance (data, ft_sim_world_get_core (w), ft_sim_world_now (w));
}

static void
advance_done (GObject *source, GAsyncResult *res, gpointer user_data)
{
  g_autoptr(FtWindow) self = user_data;
  self->advancing = FALSE;
  g_autofree char *r = ft_session_run_job_finish (FT_SESSION (source), res, NULL);
  if (r == NULL || self->rider == NULL)
    return;
  ft_rider_flow_commit (self->rider);
  ft_window_show_markup (self->rider_label, r);
  if (strstr (r, "Receipt"))
    ft_window_show_toast (self, "You arrived: the trip has ended (receipt on the Ride page).", FALSE);
}

static void
follow_ride (FtWindow *self)
{
  if (self->advancing || ft_rider_flow_get_state (self->rider) != FT_RIDER_RIDING ||
      !ft_rider_flow_is_riding_to (self->rider))
    return;
  self->advancing = TRUE;
  ft_session_run_job_async (self->session, advance_job, g_object_ref (self->rider), g_object_unref, NULL,
                            advance_done, g_object_ref (self));
}

/* Polls the session ~30 times a second from a low-priority timeout rather
 * than a frame-clock tick: a permanent tick keeps the frame clock running
 * and, when frames run over budget, starves libshumate's idle-time tile
 * loading. Redraws are queued only when a new frame arrived. */
static gboolean
on_poll (gpointer data)
{
  FtWindow *self = data;
  if (self->live_mode)
    {
      if (ft_live_session_poll (self->live))
        {
          FtFrame *f = ft_live_session_get_frame (self->live);
          ft_vehicle_layer_set_frame (self->vehicles, f);
          ft_overlay_layer_set_frame (self->overlay, f);
          if (f->n_staff != self->staff_listed)
            ft_window_fill_staff_dropdown (self);
          if (!self->live_centered && f->n_vehicles > 0)
            {
              /* Centre once on the live fleet (it may be anywhere). */
              double mx = 0, my = 0;
              for (guint i = 0; i < f->n_vehicles; i++)
                {
                  mx += f->vehicles[i].mx;
                  my += f->vehicles[i].my;
                }
              FtLatLon c = ft_mercator_to_latlon (mx / f->n_vehicles, my / f->n_vehicles);
              shumate_location_set_location (SHUMATE_LOCATION (self->viewport), c.lat, c.lon);
              self->live_centered = TRUE;
            }
        }
    }
  else if (ft_session_poll (self->session))
    {
      FtFrame *f = ft_session_get_frame (self->session);
      ft_vehicle_layer_set_frame (self->vehicles, f);
      ft_overlay_layer_set_frame (self->overlay, f);
      watch_reservation (self, f);
      follow_ride (self);
    }
  gint64 now = g_get_monotonic_time ();
  if (now - self->last_labels > 250000)
    {
      self->last_labels = now;
      ft_window_fit_legend (self);
      ft_window_update_labels (self);
    }
  if (self->first_map_ms < 0 && self->tiles && ft_tile_source_get_n_served (self->tiles) > 0 &&
      ft_app_start_time > 0)
    self->first_map_ms = (now - ft_app_start_time) / 1000.0;
  return G_SOURCE_CONTINUE;
}

/* The legend folds to its title on a short map (a 720 px laptop screen),
 * where it would cover the map's lower-left corner, and opens on a tall
 * one; once the user opens or closes it, their choice stays. */
#define FT_LEGEND_OPEN_MIN_HEIGHT 900

static void
on_legend_activate (GtkExpander *exp, FtWindow *self)
{
  self->legend_user_set = TRUE;
}

void
ft_window_fit_legend (FtWindow *self)
{
  if (self->legend_expander == NULL || self->legend_user_set)
    return;
  int h = gtk_widget_get_height (self->map_overlay);
  if (h <= 0)
    return;
  gboolean open = h >= FT_LEGEND_OPEN_MIN_HEIGHT;
  if (gtk_expander_get_expanded (GTK_EXPANDER (self->legend_expander)) != open)
    gtk_expander_set_expanded (GTK_EXPANDER (self->legend_expander), open);
}

static void
build_legend (FtWindow *self)
{
  GtkWidget *child;
  while ((child = gtk_widget_get_first_child (self->legend_box)))
    gtk_box_remove (GTK_BOX (self->legend_box), child);
  self->legend_expander = gtk_expander_new ("Legend");
  gtk_expander_set_expanded (GTK_EXPANDER (self->legend_expander), FALSE);
  gtk_accessible_update_property (GTK_ACCESSIBLE (self->legend_expander), GTK_ACCESSIBLE_PROPERTY_LABEL,
                                  "Map legend", -1);
  g_signal_connect (self->legend_expander, "activate", G_CALLBACK (on_legend_activate), self);
  GtkWidget *rows = gtk_box_new (GTK_ORIENTATION_VERTICAL, 0);
  gtk_expander_set_child (GTK_EXPANDER (self->legend_expander), rows);
  gtk_box_append (GTK_BOX (self->legend_box), self->legend_expander);
  for (int i = 0; i < FT_N_DOTS; i++)
    {
      g_autofree char *markup = g_markup_printf_escaped ("<span foreground=\"#%06x\">●</span> %s", ft_dot_rgb[i],
                                                         ft_dot_label (i));
      GtkWidget *l = gtk_label_new (NULL);
      gtk_label_set_markup (GTK_LABEL (l), markup);
      gtk_label_set_xalign (GTK_LABEL (l), 0);
      gtk_box_append (GTK_BOX (rows), l);
    }
  const char *extra[] = {
    "<span foreground=\"#0073bf\">■</span> Staff van (dashes: leg to its target)",
    "<span foreground=\"#1a1a1a\">✕</span> Lost demand",
    "<span foreground=\"#ff7f0e\">▆</span> Demand heat (zones)",
    "<span foreground=\"#d91a1a\">▨</span> No-parking geofence",
  };
  for (guint i = 0; i < G_N_ELEMENTS (extra); i++)
    {
      GtkWidget *l = gtk_label_new (NULL);
      gtk_label_set_markup (GTK_LABEL (l), extra[i]);
      gtk_label_set_xalign (GTK_LABEL (l), 0);
      gtk_box_append (GTK_BOX (rows), l);
    }
}

void
ft_window_fill_staff_dropdown (FtWindow *self)
{
  GtkStringList *list = gtk_string_list_new (NULL);
  gtk_string_list_append (list, "Leave in the queue");
  FtFrame *f = ft_window_current_frame (self);
  self->staff_listed = f ? f->n_staff : 0;
  for (guint i = 0; f && i < f->n_staff; i++)
    {
      g_autofree char *s = g_strdup_printf ("Assign to %s", f->staff[i].name);
      gtk_string_list_append (list, s);
    }
  gtk_drop_down_set_model (GTK_DROP_DOWN (self->staff_dropdown), G_LIST_MODEL (list));
  g_object_unref (list);
}

static void
set_tile_source (FtWindow *self, ShumateMapSource *src)
{
  if (self->tile_layer)
    shumate_map_remove_layer (self->map, SHUMATE_LAYER (self->tile_layer));
  self->tile_layer = NULL;
  if (src == NULL)
    return;
  shumate_viewport_set_reference_map_source (self->viewport, src);
  self->tile_layer = shumate_map_layer_new (src, self->viewport);
  shumate_map_insert_layer_behind (self->map, SHUMATE_LAYER (self->tile_layer), SHUMATE_LAYER (self->overlay));
  /* ShumateMapLayer loads tiles on viewport changes: nudge it. */
  double lat = shumate_location_get_latitude (SHUMATE_LOCATION (self->viewport));
  double lon = shumate_location_get_longitude (SHUMATE_LOCATION (self->viewport));
  shumate_location_set_location (SHUMATE_LOCATION (self->viewport), lat + 1e-9, lon);
}

void
ft_window_set_online_tiles (FtWindow *self, gboolean online)
{
  self->online = online;
  if (online)
    {
      if (self->registry == NULL)
        self->registry = shumate_map_source_registry_new_with_defaults ();
      ShumateMapSource *osm = shumate_map_source_registry_get_by_id (self->registry, SHUMATE_MAP_SOURCE_OSM_MAPNIK);
      set_tile_source (self, osm);
      shumate_viewport_set_max_zoom_level (self->viewport, 19);
    }
  else
    {
      set_tile_source (self, self->offline_source);
      shumate_viewport_set_max_zoom_level (self->viewport, self->tiles ? ft_tile_source_get_max_zoom (self->tiles) : 19);
    }
}

void
ft_window_reload_map (FtWindow *self)
{
  const FtCity *city = ft_session_get_city (self->session);
  g_clear_object (&self->offline_source);
  g_clear_object (&self->tiles);
  const char *path = ft_session_get_tiles_path (self->session);
  if (path)
    {
      g_autoptr(GError) error = NULL;
      self->tiles = ft_tile_source_new (path, &error);
      if (self->tiles == NULL)
        g_warning ("offline tiles: %s", error->message);
      else
        self->offline_source = ft_tile_source_create_map_source (self->tiles);
    }
  gboolean online = self->online || self->offline_source == NULL;
  ft_window_set_online_tiles (self, online);
  ft_overlay_layer_set_city (self->overlay, city);
  if (city)
    {
      shumate_viewport_set_zoom_level (self->viewport, 14);
      shumate_location_set_location (SHUMATE_LOCATION (self->viewport), city->center.lat, city->center.lon);
      const FtSimScenario *sc = ft_session_get_scenario (self->session);
      g_autofree char *title = g_strdup_printf ("%s — %s", sc && sc->name ? sc->name : "Scenario",
                                                city->name ? city->name : city->id);
      gtk_label_set_label (GTK_LABEL (self->title_label), title);
    }
  FtFrame *f = ft_window_current_frame (self);
  ft_vehicle_layer_set_frame (self->vehicles, f);
  ft_overlay_layer_set_frame (self->overlay, f);
  ft_window_fill_staff_dropdown (self);
  ft_window_update_labels (self);
}

/* ------------------------------------------------------------ map input */

void
ft_window_show_markup (GtkWidget *label, const char *markup)
{
  gtk_label_set_markup (GTK_LABEL (label), markup ? markup : "");
}

/* Clicks inspect. Selecting for dispatch is explicit (Ctrl+click, Shift+
 * drag, Select Low Battery), and so is marking a point: the rider marks
 * where they stand or go on the Ride page, a dispatcher the rebalance
 * target while the Dispatch page is open. A plain click never changes the
 * selection and shows what it hit on the Inspect page. */
static void
on_click_released (GtkGestureClick *gesture, int n_press, double x, double y, FtWindow *self)
{
  GdkModifierType mods = gtk_event_controller_get_current_event_state (GTK_EVENT_CONTROLLER (gesture));
  /* the release that ends a Shift+drag selection is not a click */
  if (self->banding || g_get_monotonic_time () - self->band_end_us < 300000)
    return;
  gtk_widget_grab_focus (GTK_WIDGET (self->map));
  int v = ft_vehicle_layer_pick (self->vehicles, x, y, 7);
  int s = ft_overlay_layer_pick_staff (self->overlay, x, y, 8);
  if ((mods & GDK_CONTROL_MASK) && v >= 0)
    {
      ft_vehicle_layer_toggle (self->vehicles, (guint) v);
      gtk_stack_set_visible_child_name (GTK_STACK (self->side_stack), "dispatch");
      ft_window_update_labels (self);
      return;
    }
  FtMapXform xf;
  ft_map_xform_init (&xf, self->viewport, GTK_WIDGET (self->vehicles));
  double mx, my;
  ft_map_xform_invert (&xf, x, y, &mx, &my);

  const char *page = gtk_stack_get_visible_child_name (GTK_STACK (self->side_stack));
  gboolean rider = ft_session_get_role (self->session) == FT_ROLE_VIEW_RIDER || g_strcmp0 (page, "rider") == 0;
  if (rider || g_strcmp0 (page, "dispatch") == 0)
    {
      self->marker_mx = mx;
      self->marker_my = my;
      ft_overlay_layer_set_marker (self->overlay, mx, my);
      ft_window_update_rider_actions (self);
      if (rider)
        {
          gtk_stack_set_visible_child_name (GTK_STACK (self->side_stack), "rider");
          return;
        }
    }
  /* A van at work stands on the vehicle it serves: the van wins when the
   * click is nearer to it. */
  if (s >= 0 && v >= 0)
    {
      double vx, vy;
      ft_vehicle_layer_vehicle_coords (self->vehicles, (guint) v, &vx, &vy);
      if (ft_overlay_layer_staff_distance (self->overlay, (guint) s, x, y) <= hypot (vx - x, vy - y) + 2)
        v = -1;
    }
  g_autofree char *d = NULL;
  if (v >= 0)
    {
      self->inspected = v;
      d = self->live_mode ? ft_live_session_describe_vehicle (self->live, (guint) v)
                          : ft_session_describe_vehicle (self->session, (guint) v);
    }
  else if (s >= 0)
    d = self->live_mode ? ft_live_session_describe_staff (self->live, (guint) s)
                        : ft_session_describe_staff (self->session, (guint) s);
  else
    {
      const FtCity *city = ft_session_get_city (self->session);
      if (city && !self->live_mode)
        {
          int z = ft_city_zone_at (city, ft_mercator_to_latlon (mx, my));
          d = ft_session_describe_zone (self->session, z);
          if (d == NULL)
            d = g_strdup ("Outside every zone.");
        }
    }
  if (d == NULL)
    return;
  ft_window_show_markup (self->inspector_label, d);
  if (g_strcmp0 (page, "dispatch") != 0 || v >= 0 || s >= 0)
    gtk_stack_set_visible_child_name (GTK_STACK (self->side_stack), "inspector");
}

static void
on_drag_begin (GtkGestureDrag *gesture, double x, double y, FtWindow *self)
{
  GdkModifierType mods = gtk_event_controller_get_current_event_state (GTK_EVENT_CONTROLLER (gesture));
  if (!(mods & GDK_SHIFT_MASK))
    {
      gtk_gesture_set_state (GTK_GESTURE (gesture), GTK_EVENT_SEQUENCE_DENIED);
      return;
    }
  gtk_gesture_set_state (GTK_GESTURE (gesture), GTK_EVENT_SEQUENCE_CLAIMED);
  self->banding = TRUE;
  self->drag_x = x;
  self->drag_y = y;
}

static void
on_drag_update (GtkGestureDrag *gesture, double dx, double dy, FtWindow *self)
{
  if (self->banding)
    ft_vehicle_layer_set_band (self->vehicles, self->drag_x, self->drag_y, self->drag_x + dx, self->drag_y + dy);
}

/* Also runs when a plain press was denied above: only a Shift+drag that
 * began selects (it used to end every plain click on the Dispatch page). */
static void
on_drag_end (GtkGestureDrag *gesture, double dx, double dy, FtWindow *self)
{
  if (!self->banding)
    return;
  self->banding = FALSE;
  self->band_end_us = g_get_monotonic_time ();
  ft_vehicle_layer_set_band (self->vehicles, 0, 0, 0, 0);
  ft_vehicle_layer_select_rect (self->vehicles, self->drag_x, self->drag_y, self->drag_x + dx, self->drag_y + dy);
  gtk_stack_set_visible_child_name (GTK_STACK (self->side_stack), "dispatch");
  ft_window_update_labels (self);
}

/* ------------------------------------------------------------ page tabs */

static void
on_tab_toggled (GtkToggleButton *b, FtWindow *self)
{
  if (gtk_toggle_button_get_active (b))
    gtk_stack_set_visible_child_name (GTK_STACK (self->side_stack), g_object_get_data (G_OBJECT (b), "page"));
}

static void
on_page_changed (GtkStack *stack, GParamSpec *pspec, FtWindow *self)
{
  const char *name = gtk_stack_get_visible_child_name (stack);
  if (g_strcmp0 (name, "dispatch") == 0 && self->session)
    ft_window_refresh_tasks (self);
  for (GtkWidget *b = gtk_widget_get_first_child (self->page_tabs); b; b = gtk_widget_get_next_sibling (b))
    if (g_strcmp0 (g_object_get_data (G_OBJECT (b), "page"), name) == 0)
      gtk_toggle_button_set_active (GTK_TOGGLE_BUTTON (b), TRUE);
}

/* One labelled toggle per page of the sidebar stack, Alt+1… to switch. */
static void
build_page_tabs (FtWindow *self)
{
  GtkSelectionModel *pages = gtk_stack_get_pages (GTK_STACK (self->side_stack));
  GtkWidget *first = NULL;
  guint n = g_list_model_get_n_items (G_LIST_MODEL (pages));
  for (guint i = 0; i < n; i++)
    {
      g_autoptr(GObject) item = g_list_model_get_item (G_LIST_MODEL (pages), i);
      GtkStackPage *page = GTK_STACK_PAGE (item);
      GtkWidget *b = gtk_toggle_button_new_with_label (gtk_stack_page_get_title (page));
      g_object_set_data_full (G_OBJECT (b), "page", g_strdup (gtk_stack_page_get_name (page)), g_free);
      g_autofree char *tip = g_strdup_printf ("%s page (Alt+%u)", gtk_stack_page_get_title (page), i + 1);
      gtk_widget_set_tooltip_text (b, tip);
      if (first)
        gtk_toggle_button_set_group (GTK_TOGGLE_BUTTON (b), GTK_TOGGLE_BUTTON (first));
      else
        first = b;
      g_signal_connect (b, "toggled", G_CALLBACK (on_tab_toggled), self);
      gtk_box_append (GTK_BOX (self->page_tabs), b);
      if (i < 9)
        {
          GtkEventController *sc = gtk_shortcut_controller_new ();
          gtk_shortcut_controller_set_scope (GTK_SHORTCUT_CONTROLLER (sc), GTK_SHORTCUT_SCOPE_MANAGED);
          gtk_shortcut_controller_add_shortcut (GTK_SHORTCUT_CONTROLLER (sc),
              gtk_shortcut_new (gtk_keyval_trigger_new (GDK_KEY_1 + i, GDK_ALT_MASK), g_object_ref (gtk_activate_action_get ())));
          gtk_widget_add_controller (b, sc);
        }
    }
  g_object_unref (pages);
  g_signal_connect (self->side_stack, "notify::visible-child-name", G_CALLBACK (on_page_changed), self);
  on_page_changed (GTK_STACK (self->side_stack), NULL, self);
}

/* ------------------------------------------------------ map keyboard */

static gboolean
on_map_key (GtkEventControllerKey *controller, guint keyval, guint keycode, GdkModifierType mods, FtWindow *self)
{
  if (mods & (GDK_CONTROL_MASK | GDK_ALT_MASK))
    return FALSE;
  double dx = 0, dy = 0;
  switch (keyval)
    {
    case GDK_KEY_Left:  case GDK_KEY_KP_Left:  dx = -1; break;
    case GDK_KEY_Right: case GDK_KEY_KP_Right: dx = 1; break;
    case GDK_KEY_Up:    case GDK_KEY_KP_Up:    dy = -1; break;
    case GDK_KEY_Down:  case GDK_KEY_KP_Down:  dy = 1; break;
    case GDK_KEY_plus: case GDK_KEY_equal: case GDK_KEY_KP_Add:
      gtk_widget_activate_action (GTK_WIDGET (self), "win.zoom-in", NULL);
      return TRUE;
    case GDK_KEY_minus: case GDK_KEY_KP_Subtract:
      gtk_widget_activate_action (GTK_WIDGET (self), "win.zoom-out", NULL);
      return TRUE;
    case GDK_KEY_0: case GDK_KEY_KP_0:
      gtk_widget_activate_action (GTK_WIDGET (self), "win.fit-city", NULL);
      return TRUE;
    default:
      return FALSE;
    }
  /* a quarter of the view per press */
  FtMapXform xf;
  ft_map_xform_init (&xf, self->viewport, GTK_WIDGET (self->vehicles));
  int w = gtk_widget_get_width (GTK_WIDGET (self->vehicles)), h = gtk_widget_get_height (GTK_WIDGET (self->vehicles));
  double mx, my;
  ft_map_xform_invert (&xf, w / 2.0 + dx * w / 4.0, h / 2.0 + dy * h / 4.0, &mx, &my);
  FtLatLon c = ft_mercator_to_latlon (mx, my);
  shumate_location_set_location (SHUMATE_LOCATION (self->viewport), c.lat, c.lon);
  return TRUE;
}

static GtkWidget *
map_button (const char *icon, const char *action, const char *label)
{
  GtkWidget *b = gtk_button_new_from_icon_name (icon);
  gtk_actionable_set_action_name (GTK_ACTIONABLE (b), action);
  gtk_widget_set_tooltip_text (b, label);
  gtk_accessible_update_property (GTK_ACCESSIBLE (b), GTK_ACCESSIBLE_PROPERTY_LABEL, label, -1);
  return b;
}

/* Zoom in, zoom out and fit the city, top right over the map. */
static void
build_map_buttons (FtWindow *self)
{
  GtkWidget *box = gtk_box_new (GTK_ORIENTATION_VERTICAL, 0);
  gtk_widget_add_css_class (box, "linked");
  gtk_widget_add_css_class (box, "map-buttons");
  gtk_widget_set_halign (box, GTK_ALIGN_END);
  gtk_widget_set_valign (box, GTK_ALIGN_START);
  gtk_widget_set_margin_top (box, 10);
  gtk_widget_set_margin_end (box, 10);
  gtk_box_append (GTK_BOX (box), map_button ("zoom-in-symbolic", "win.zoom-in", "Zoom in (+)"));
  gtk_box_append (GTK_BOX (box), map_button ("zoom-out-symbolic", "win.zoom-out", "Zoom out (-)"));
  gtk_box_append (GTK_BOX (box), map_button ("zoom-fit-best-symbolic", "win.fit-city", "Fit the city in view (Ctrl+0)"));
  gtk_overlay_add_overlay (GTK_OVERLAY (self->map_overlay), box);
}

/* ------------------------------------------------------------ lifecycle */

static void
on_speed_changed (GObject *dd, GParamSpec *pspec, FtWindow *self)
{
  guint i = gtk_drop_down_get_selected (GTK_DROP_DOWN (dd));
  if (i < G_N_ELEMENTS (ft_window_speeds))
    ft_session_set_speed (self->session, ft_window_speeds[i]);
}

static void
on_role_changed (GObject *dd, GParamSpec *pspec, FtWindow *self)
{
  FtRoleView role = gtk_drop_down_get_selected (GTK_DROP_DOWN (dd));
  ft_session_set_role (self->session, role);
  gboolean can = ft_session_can_dispatch (self->session);
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "win.dispatch", can);
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "win.select-low-battery", can);
  if (role == FT_ROLE_VIEW_RIDER)
    gtk_stack_set_visible_child_name (GTK_STACK (self->side_stack), "rider");
  else if (can)
    gtk_stack_set_visible_child_name (GTK_STACK (self->side_stack), "kpis");
  gtk_label_set_label (GTK_LABEL (self->dispatch_status),
                       can ? "" : "Only dispatchers and planners can create tasks.");
}

static void
on_layer_toggled (GtkCheckButton *b, FtWindow *self)
{
  guint bit = GPOINTER_TO_UINT (g_object_get_data (G_OBJECT (b), "bit"));
  gboolean on = gtk_check_button_get_active (b);
  if (bit == 0)
    gtk_widget_set_visible (GTK_WIDGET (self->vehicles), on);
  else if (bit == 0x100)
    ft_window_set_online_tiles (self, on);
  else
    {
      guint flags = ft_overlay_layer_get_flags (self->overlay);
      ft_overlay_layer_set_flags (self->overlay, on ? flags | bit : flags & ~bit);
    }
}

static void
build_layers_page (FtWindow *self)
{
  struct { const char *label; guint bit; gboolean on; } items[] = {
    { "Vehicles", 0, TRUE },
    { "Demand zones", FT_OVERLAY_ZONES, TRUE },
    { "Geofences (no parking)", FT_OVERLAY_GEOFENCES, TRUE },
    { "Demand heat", FT_OVERLAY_HEAT, FALSE },
    { "Staff vans and routes", FT_OVERLAY_STAFF, TRUE },
    { "Lost demand", FT_OVERLAY_LOST, TRUE },
    { "Prices (dynamic multiplier per zone)", FT_OVERLAY_PRICES, FALSE },
    { "Relocation offers (green: start, magenta: end)", FT_OVERLAY_OFFERS, FALSE },
    { "Online OpenStreetMap tiles", 0x100, FALSE },
  };
  guint flags = 0;
  for (guint i = 0; i < G_N_ELEMENTS (items); i++)
    {
      GtkWidget *b = gtk_check_button_new_with_label (items[i].label);
      gtk_check_button_set_active (GTK_CHECK_BUTTON (b), items[i].on);
      g_object_set_data (G_OBJECT (b), "bit", GUINT_TO_POINTER (items[i].bit));
      g_signal_connect (b, "toggled", G_CALLBACK (on_layer_toggled), self);
      gtk_box_append (GTK_BOX (self->layers_box), b);
      if (items[i].on && items[i].bit && items[i].bit != 0x100)
        flags |= items[i].bit;
      if (items[i].bit == 0x100 && self->settings)
        g_settings_bind (self->settings, "online-tiles", b, "active", G_SETTINGS_BIND_DEFAULT);
    }
  ft_overlay_layer_set_flags (self->overlay, flags);
}

static void
ft_window_dispose (GObject *object)
{
  FtWindow *self = FT_WINDOW (object);
  if (self->session)
    ft_session_pause (self->session);
  if (self->live)
    ft_live_session_stop (self->live);
  g_clear_handle_id (&self->poll_id, g_source_remove);
  g_clear_handle_id (&self->toast_timeout, g_source_remove);
  gtk_widget_dispose_template (GTK_WIDGET (self), FT_TYPE_WINDOW);
  G_OBJECT_CLASS (ft_window_parent_class)->dispose (object);
}

static void
ft_window_finalize (GObject *object)
{
  FtWindow *self = FT_WINDOW (object);
  g_clear_object (&self->offline_source);
  g_clear_object (&self->tiles);
  g_clear_object (&self->registry);
  g_clear_object (&self->session);
  g_clear_object (&self->settings);
  g_clear_object (&self->live);
  g_clear_object (&self->rider);
  ft_window_set_live_password (self, NULL);
  G_OBJECT_CLASS (ft_window_parent_class)->finalize (object);
}

static void
ft_window_class_init (FtWindowClass *klass)
{
  GObjectClass *oc = G_OBJECT_CLASS (klass);
  GtkWidgetClass *wc = GTK_WIDGET_CLASS (klass);
  oc->dispose = ft_window_dispose;
  oc->finalize = ft_window_finalize;

  gtk_widget_class_set_template_from_resource (wc, "/org/mobilitycorp/FleetTwin/ft-window.ui");
  gtk_widget_class_bind_template_child (wc, FtWindow, play_button);
  gtk_widget_class_bind_template_child (wc, FtWindow, speed_dropdown);
  gtk_widget_class_bind_template_child (wc, FtWindow, clock_label);
  gtk_widget_class_bind_template_child (wc, FtWindow, title_label);
  gtk_widget_class_bind_template_child (wc, FtWindow, role_dropdown);
  gtk_widget_class_bind_template_child (wc, FtWindow, map_overlay);
  gtk_widget_class_bind_template_child (wc, FtWindow, legend_box);
  gtk_widget_class_bind_template_child (wc, FtWindow, side_stack);
  gtk_widget_class_bind_template_child (wc, FtWindow, kpi_box);
  gtk_widget_class_bind_template_child (wc, FtWindow, kpi_summary);
  gtk_widget_class_bind_template_child (wc, FtWindow, inspector_label);
  gtk_widget_class_bind_template_child (wc, FtWindow, selection_label);
  gtk_widget_class_bind_template_child (wc, FtWindow, task_dropdown);
  gtk_widget_class_bind_template_child (wc, FtWindow, staff_dropdown);
  gtk_widget_class_bind_template_child (wc, FtWindow, dispatch_status);
  gtk_widget_class_bind_template_child (wc, FtWindow, rider_label);
  gtk_widget_class_bind_template_child (wc, FtWindow, rider_box);
  gtk_widget_class_bind_template_child (wc, FtWindow, layers_box);
  gtk_widget_class_bind_template_child (wc, FtWindow, mode_dropdown);
  gtk_widget_class_bind_template_child (wc, FtWindow, live_state_label);
  gtk_widget_class_bind_template_child (wc, FtWindow, live_header_label);
  gtk_widget_class_bind_template_child (wc, FtWindow, live_command_status);
  gtk_widget_class_bind_template_child (wc, FtWindow, live_commands_label);
  gtk_widget_class_bind_template_child (wc, FtWindow, sidebar);
  gtk_widget_class_bind_template_child (wc, FtWindow, page_tabs);
  gtk_widget_class_bind_template_child (wc, FtWindow, tasks_box);

  gtk_widget_class_install_action (wc, "win.play", NULL, ft_window_play_action);
  gtk_widget_class_install_action (wc, "win.step", NULL, ft_window_step_action);
  gtk_widget_class_install_action (wc, "win.faster", NULL, ft_window_speed_action);
  gtk_widget_class_install_action (wc, "win.slower", NULL, ft_window_speed_action);
  gtk_widget_class_install_action (wc, "win.select-low-battery", NULL, ft_window_select_low_action);
  gtk_widget_class_install_action (wc, "win.clear-selection", NULL, ft_window_clear_selection_action);
  gtk_widget_class_install_action (wc, "win.dispatch", NULL, ft_window_dispatch_action);
  gtk_widget_class_install_action (wc, "win.rider-find", NULL, ft_window_rider_action);
  gtk_widget_class_install_action (wc, "win.rider-reserve", NULL, ft_window_rider_action);
  gtk_widget_class_install_action (wc, "win.rider-unlock", NULL, ft_window_rider_action);
  gtk_widget_class_install_action (wc, "win.rider-end", NULL, ft_window_rider_action);
  gtk_widget_class_install_action (wc, "win.screenshot", NULL, ft_window_screenshot_action);
  gtk_widget_class_install_action (wc, "win.edit-scenario", NULL, ft_window_edit_scenario_action);
  gtk_widget_class_install_action (wc, "win.open-scenario", NULL, ft_window_open_action);
  gtk_widget_class_install_action (wc, "win.open-city", NULL, ft_window_open_action);
  gtk_widget_class_install_action (wc, "win.compare-runs", NULL, ft_window_compare_action);
  gtk_widget_class_install_action (wc, "win.dashboard", NULL, ft_window_dashboard_action);
  gtk_widget_class_install_action (wc, "win.review-queue", NULL, ft_window_review_action);
  gtk_widget_class_install_action (wc, "win.rider-data", NULL, ft_window_rider_data_action);
  gtk_widget_class_install_action (wc, "win.experiments", NULL, ft_window_experiments_action);
  gtk_widget_class_install_action (wc, "win.new-region", NULL, ft_window_new_region_action);
  gtk_widget_class_install_action (wc, "win.shadow-models", NULL, ft_window_shadow_action);
  gtk_widget_class_install_action (wc, "win.import-osm", NULL, ft_window_import_osm_action);
  gtk_widget_class_install_action (wc, "win.broker-settings", NULL, ft_window_broker_settings_action);
  gtk_widget_class_install_action (wc, "win.live-reconnect", NULL, ft_window_live_reconnect_action);
  gtk_widget_class_install_action (wc, "win.live-command", "s", ft_window_live_command_action);

  gtk_widget_class_install_action (wc, "win.zoom-in", NULL, ft_window_zoom_action);
  gtk_widget_class_install_action (wc, "win.zoom-out", NULL, ft_window_zoom_action);
  gtk_widget_class_install_action (wc, "win.fit-city", NULL, ft_window_fit_city_action);
  /* Space (play/pause) and Ctrl+Right (step) are application accelerators
   * (ft-application.c): those run before the focused widget sees the key,
   * so Space no longer presses whatever button has the focus. */
  gtk_widget_class_add_binding_action (wc, GDK_KEY_plus, GDK_CONTROL_MASK, "win.faster", NULL);
  gtk_widget_class_add_binding_action (wc, GDK_KEY_equal, GDK_CONTROL_MASK, "win.faster", NULL);
  gtk_widget_class_add_binding_action (wc, GDK_KEY_minus, GDK_CONTROL_MASK, "win.slower", NULL);
  gtk_widget_class_add_binding_action (wc, GDK_KEY_o, GDK_CONTROL_MASK, "win.open-scenario", NULL);
  gtk_widget_class_add_binding_action (wc, GDK_KEY_e, GDK_CONTROL_MASK, "win.edit-scenario", NULL);
  gtk_widget_class_add_binding_action (wc, GDK_KEY_d, GDK_CONTROL_MASK, "win.dispatch", NULL);
  gtk_widget_class_add_binding_action (wc, GDK_KEY_l, GDK_CONTROL_MASK, "win.select-low-battery", NULL);
  gtk_widget_class_add_binding_action (wc, GDK_KEY_Escape, 0, "win.clear-selection", NULL);
  gtk_widget_class_add_binding_action (wc, GDK_KEY_0, GDK_CONTROL_MASK, "win.fit-city", NULL);
  gtk_widget_class_add_binding_action (wc, GDK_KEY_r, GDK_CONTROL_MASK, "win.compare-runs", NULL);
  gtk_widget_class_add_binding_action (wc, GDK_KEY_d, GDK_CONTROL_MASK, "win.dashboard", NULL);
  gtk_widget_class_add_binding_action (wc, GDK_KEY_m, GDK_CONTROL_MASK, "win.shadow-models", NULL);
}

static void
ft_window_init (FtWindow *self)
{
  gtk_widget_init_template (GTK_WIDGET (self));
  self->first_map_ms = -1;
  self->marker_mx = self->marker_my = NAN;
  self->rider = ft_rider_flow_new ();
  g_signal_connect_object (self->rider, "notify::state", G_CALLBACK (on_rider_state), self, G_CONNECT_SWAPPED);
  self->inspected = -1;
  self->live = ft_live_session_new ();
  g_signal_connect_object (self->live, "state-changed", G_CALLBACK (ft_window_on_live_state_changed), self, 0);

  GSettingsSchemaSource *src = g_settings_schema_source_get_default ();
  g_autoptr(GSettingsSchema) schema = src ? g_settings_schema_source_lookup (src, "org.mobilitycorp.FleetTwin", TRUE) : NULL;
  if (schema)
    self->settings = g_settings_new ("org.mobilitycorp.FleetTwin");

  self->map = shumate_map_new ();
  self->viewport = shumate_map_get_viewport (self->map);
  shumate_viewport_set_min_zoom_level (self->viewport, 11);
  shumate_map_set_animate_zoom (self->map, FALSE);
  gtk_widget_set_hexpand (GTK_WIDGET (self->map), TRUE);
  gtk_widget_set_vexpand (GTK_WIDGET (self->map), TRUE);
  self->overlay = ft_overlay_layer_new (self->viewport);
  self->vehicles = ft_vehicle_layer_new (self->viewport);
  shumate_map_add_layer (self->map, SHUMATE_LAYER (self->overlay));
  shumate_map_add_layer (self->map, SHUMATE_LAYER (self->vehicles));
  gtk_overlay_set_child (GTK_OVERLAY (self->map_overlay), GTK_WIDGET (self->map));
  /* The map is reachable by Tab; arrows pan, + and - zoom, 0 fits the city. */
  gtk_widget_set_focusable (GTK_WIDGET (self->map), TRUE);
  gtk_accessible_update_property (GTK_ACCESSIBLE (self->map), GTK_ACCESSIBLE_PROPERTY_LABEL,
                                  "Map of the city: vehicles, staff vans and zones", -1);
  GtkEventController *keys = gtk_event_controller_key_new ();
  g_signal_connect (keys, "key-pressed", G_CALLBACK (on_map_key), self);
  gtk_widget_add_controller (GTK_WIDGET (self->map), keys);
  build_map_buttons (self);
  build_toast (self);
  build_page_tabs (self);
  GtkWidget *scale = GTK_WIDGET (shumate_scale_new (self->viewport));
  gtk_widget_set_halign (scale, GTK_ALIGN_END);
  gtk_widget_set_valign (scale, GTK_ALIGN_END);
  gtk_overlay_add_overlay (GTK_OVERLAY (self->map_overlay), scale);

  GtkGesture *click = gtk_gesture_click_new ();
  gtk_event_controller_set_propagation_phase (GTK_EVENT_CONTROLLER (click), GTK_PHASE_CAPTURE);
  g_signal_connect (click, "released", G_CALLBACK (on_click_released), self);
  gtk_widget_add_controller (GTK_WIDGET (self->map), GTK_EVENT_CONTROLLER (click));
  GtkGesture *drag = gtk_gesture_drag_new ();
  gtk_event_controller_set_propagation_phase (GTK_EVENT_CONTROLLER (drag), GTK_PHASE_CAPTURE);
  g_signal_connect (drag, "drag-begin", G_CALLBACK (on_drag_begin), self);
  g_signal_connect (drag, "drag-update", G_CALLBACK (on_drag_update), self);
  g_signal_connect (drag, "drag-end", G_CALLBACK (on_drag_end), self);
  gtk_widget_add_controller (GTK_WIDGET (self->map), GTK_EVENT_CONTROLLER (drag));

  struct { const char *title; int f1, f2; const char *unit; double scale; } charts[FT_WINDOW_N_CHARTS] = {
    { "Utilisation", G_STRUCT_OFFSET (FtKpiSample, utilisation), -1, " %", 100 },
    { "Trips served / lost", G_STRUCT_OFFSET (FtKpiSample, trips_served), G_STRUCT_OFFSET (FtKpiSample, trips_lost), "", 1 },
    { "Revenue", G_STRUCT_OFFSET (FtKpiSample, revenue), -1, "", 1 },
    { "Battery availability", G_STRUCT_OFFSET (FtKpiSample, battery_available), -1, " %", 100 },
    /* the rider levers' charts, shown when the scenario has the levers on */
    { "Revenue per vehicle", G_STRUCT_OFFSET (FtKpiSample, revenue_per_vehicle), -1, "", 1 },
    { "Incentive spend", G_STRUCT_OFFSET (FtKpiSample, incentive_cost), -1, "", 1 },
    { "Moves earned (riders who took an offer)", G_STRUCT_OFFSET (FtKpiSample, incentive_moves), -1, "", 1 },
  };
  for (guint i = 0; i < FT_WINDOW_N_CHARTS; i++)
    {
      self->charts[i] = ft_kpi_chart_new ();
      ft_kpi_chart_set_series (FT_KPI_CHART (self->charts[i]), charts[i].title, charts[i].f1, charts[i].f2,
                               charts[i].unit, charts[i].scale);
      gtk_box_append (GTK_BOX (self->kpi_box), self->charts[i]);
    }
  build_legend (self);
  build_layers_page (self);
  gtk_drop_down_set_selected (GTK_DROP_DOWN (self->speed_dropdown), 2);
  gtk_drop_down_set_selected (GTK_DROP_DOWN (self->role_dropdown), FT_ROLE_VIEW_DISPATCHER);
  g_signal_connect (self->speed_dropdown, "notify::selected", G_CALLBACK (on_speed_changed), self);
  g_signal_connect (self->role_dropdown, "notify::selected", G_CALLBACK (on_role_changed), self);
  g_signal_connect (self->mode_dropdown, "notify::selected", G_CALLBACK (ft_window_on_mode_changed), self);
  self->poll_id = g_timeout_add_full (G_PRIORITY_DEFAULT_IDLE, 33, on_poll, self, NULL);
}

FtWindow *
ft_window_new (GtkApplication *app, FtSession *session)
{
  FtWindow *self = g_object_new (FT_TYPE_WINDOW, "application", app, NULL);
  self->session = g_object_ref (session);
  /* live connections are recorded where runs are, for the Dashboard */
  ft_live_session_set_record_dir (self->live, ft_session_get_record_dir (session));
  g_signal_connect_object (session, "notify::playing", G_CALLBACK (on_playing_changed), self, 0);
  g_signal_connect_object (session, "notify::finished", G_CALLBACK (on_finished_changed), self, 0);
  g_signal_connect_object (session, "loaded", G_CALLBACK (on_session_loaded), self, 0);
  ft_window_update_play_button (self);
  self->chat_panel = ft_chat_panel_new (session, self->rider);
  gtk_box_append (GTK_BOX (self->rider_box), self->chat_panel);
  if (self->settings)
    {
      self->online = g_settings_get_boolean (self->settings, "online-tiles");
      gtk_drop_down_set_selected (GTK_DROP_DOWN (self->speed_dropdown),
                                  MIN (g_settings_get_uint (self->settings, "speed-index"), G_N_ELEMENTS (ft_window_speeds) - 1));
      g_settings_bind (self->settings, "speed-index", self->speed_dropdown, "selected", G_SETTINGS_BIND_DEFAULT);
    }
  ft_session_set_speed (session, ft_window_speeds[gtk_drop_down_get_selected (GTK_DROP_DOWN (self->speed_dropdown))]);
  ft_window_reload_map (self);
  ft_window_update_rider_actions (self);
  return self;
}

FtSession *
ft_window_get_session (FtWindow *self)
{
  return self->session;
}

ShumateMap *
ft_window_get_map (FtWindow *self)
{
  return self->map;
}

FtVehicleLayer *
ft_window_get_vehicle_layer (FtWindow *self)
{
  return self->vehicles;
}

FtOverlayLayer *
ft_window_get_overlay_layer (FtWindow *self)
{
  return self->overlay;
}

GtkWidget *
ft_window_get_kpi_panel (FtWindow *self)
{
  return self->kpi_box;
}

double
ft_window_get_first_map_ms (FtWindow *self)
{
  return self->first_map_ms;
}

void
ft_window_set_marker (FtWindow *self, FtLatLon p)
{
  ft_mercator_from_latlon (p, &self->marker_mx, &self->marker_my);
  ft_overlay_layer_set_marker (self->overlay, self->marker_mx, self->marker_my);
  ft_window_update_rider_actions (self);
}

FtRiderFlow *
ft_window_get_rider_flow (FtWindow *self)
{
  return self->rider;
}

GtkWidget *
ft_window_get_chat_panel (FtWindow *self)
{
  return self->chat_panel;
}

const char *
ft_window_get_rider_text (FtWindow *self)
{
  return gtk_label_get_text (GTK_LABEL (self->rider_label));
}

const char *
ft_window_get_page (FtWindow *self)
{
  return gtk_stack_get_visible_child_name (GTK_STACK (self->side_stack));
}

void
ft_window_set_page (FtWindow *self, const char *page)
{
  g_return_if_fail (FT_IS_WINDOW (self));
  gtk_stack_set_visible_child_name (GTK_STACK (self->side_stack), page);
}

GtkWidget *
ft_window_get_legend (FtWindow *self)
{
  return self->legend_box;
}

GtkWidget *
ft_window_get_sidebar (FtWindow *self)
{
  return self->sidebar;
}

gboolean
ft_window_get_marker (FtWindow *self, FtLatLon *p)
{
  if (isnan (self->marker_mx))
    return FALSE;
  if (p)
    *p = ft_mercator_to_latlon (self->marker_mx, self->marker_my);
  return TRUE;
}

const char *
ft_window_get_kpi_text (FtWindow *self)
{
  return gtk_label_get_text (GTK_LABEL (self->kpi_summary));
}

const char *
ft_window_get_clock_text (FtWindow *self)
{
  return gtk_label_get_text (GTK_LABEL (self->clock_label));
}

void
ft_window_welcome (FtWindow *self)
{
  g_return_if_fail (FT_IS_WINDOW (self));
  FtTime busy = ft_session_get_busy_start (self->session);
  if (ft_session_get_time (self->session) < busy)
    ft_session_run_to (self->session, busy);
  const FtSimScenario *sc = ft_session_get_scenario (self->session);
  const FtCity *city = ft_session_get_city (self->session);
  g_autofree char *at = ft_time_format (busy);
  g_autofree char *msg = g_strdup_printf (
      "Welcome to Fleet Twin: %s in %s, fast-forwarded to %s, the busy hour. "
      "Space plays and pauses; click a vehicle, van or zone to inspect it; Ctrl+click or "
      "Shift+drag selects vehicles for dispatch; the tabs on the right hold the figures.",
      sc && sc->name ? sc->name : "a scenario", city && city->name ? city->name : "the city", at);
  ft_window_show_toast (self, msg, FALSE);
}

const char *
ft_window_get_dispatch_status (FtWindow *self)
{
  return gtk_label_get_text (GTK_LABEL (self->dispatch_status));
}
