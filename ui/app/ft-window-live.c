/* ft-window-live.c — FtWindow in live mode: the Live page (connection
 * state, commands newest first), switching between the simulation and the
 * live fleet, the broker settings and reconnect, and commands to a vehicle.
 */
#include "ft-window-private.h"

/* --------------------------------------------------------------- live mode */

void
ft_window_update_live_page (FtWindow *self)
{
  if (!self->live_mode)
    {
      gtk_label_set_label (GTK_LABEL (self->live_state_label),
                           "Simulation mode. Switch to Live in the header bar to attach to a fleet's MQTT telemetry.");
      return;
    }
  FtLiveConnState st = ft_live_session_get_state (self->live);
  const char *err = ft_live_session_get_error (self->live);
  const char *status = ft_live_session_get_status (self->live);
  const char *url = ft_live_session_get_url (self->live);
  static const char *colours[] = { "#777777", "#b07000", "#1a8f1a", "#b07000", "#c01c28" };
  g_autofree char *markup = g_markup_printf_escaped (
      "<b>Live</b> · <span foreground=\"%s\"><b>%s</b></span>\n%s%s%s%s%s",
      colours[MIN ((guint) st, G_N_ELEMENTS (colours) - 1)], ft_live_conn_state_name (st),
      url ? url : "no broker configured", err && st != FT_LIVE_CONNECTED ? "\n" : "",
      err && st != FT_LIVE_CONNECTED ? err : "", status ? "\n" : "", status ? status : "");
  gtk_label_set_markup (GTK_LABEL (self->live_state_label), markup);

  guint n = 0;
  const FtLiveCommand *c = ft_live_session_get_commands (self->live, &n);
  FtFrame *f = ft_live_session_get_frame (self->live);
  GString *s = g_string_new (NULL);
  /* Newest first, at most 60. */
  for (guint k = 0; k < n && k < 60; k++)
    {
      const FtLiveCommand *cmd = &c[n - 1 - k];
      g_autofree char *state = ft_live_session_command_status (cmd);
      g_autoptr(GDateTime) dt = g_date_time_new_from_unix_utc (cmd->issued / 1000);
      g_autofree char *at = dt ? g_date_time_format (dt, "%H:%M:%S") : g_strdup ("?");
      const char *colour = cmd->state == FT_CMD_ACKED ? "#1a8f1a"
                         : cmd->state == FT_CMD_FAILED || cmd->state == FT_CMD_EXPIRED ? "#c01c28"
                         : cmd->attempts > 1 ? "#b07000" : "#555555";
      /* By the code on the vehicle; the device id only when it has none. */
      const char *code = ft_live_session_get_command_vehicle (self->live, n - 1 - k);
      g_autofree char *dev = g_strndup (cmd->device_id, 8);
      g_autofree char *who = code[0] ? g_strdup (code) : g_strdup_printf ("%s…", dev);
      g_autofree char *line = g_markup_printf_escaped (
          "%s <b>%s</b> %s <span foreground=\"%s\">%s</span>\n", at, ft_live_command_name (cmd->kind),
          who, colour, state);
      g_string_append (s, line);
    }
  (void) f;
  if (n == 0)
    g_string_append (s, "No commands yet.");

  /* Staff task assignments: the message's state, then the crew's progress. */
  guint na = 0;
  const FtLiveAssignment *as = ft_live_session_get_assignments (self->live, &na);
  if (na > 0)
    g_string_append (s, "\n<b>Staff tasks</b>\n");
  for (guint k = 0; k < na && k < 30; k++)
    {
      const FtLiveAssignment *a = &as[na - 1 - k];
      g_autofree char *state = ft_live_session_assignment_status (a);
      g_autoptr(GDateTime) dt = g_date_time_new_from_unix_utc (a->issued / 1000);
      g_autofree char *at = dt ? g_date_time_format (dt, "%H:%M:%S") : g_strdup ("?");
      const char *colour = g_strcmp0 (a->progress, "done") == 0 ? "#1a8f1a"
                         : a->state == FT_CMD_FAILED || a->state == FT_CMD_EXPIRED
                           || g_strcmp0 (a->progress, "failed") == 0 ? "#c01c28"
                         : a->attempts > 1 ? "#b07000" : "#555555";
      g_autofree char *line = g_markup_printf_escaped (
          "%s task %" G_GINT64_FORMAT " → %s <span foreground=\"%s\">%s</span>\n", at, a->task,
          a->staff_id, colour, state);
      g_string_append (s, line);
    }
  gtk_label_set_markup (GTK_LABEL (self->live_commands_label), s->str);
  g_string_free (s, TRUE);
}

/* The header bar's connection state: shown in live mode on every page, so
 * a lost connection is seen wherever the user is. */
void
ft_window_update_live_header (FtWindow *self)
{
  gtk_widget_set_visible (self->live_header_label, self->live_mode);
  if (!self->live_mode)
    return;
  FtLiveConnState st = ft_live_session_get_state (self->live);
  static const char *colours[] = { "#777777", "#b07000", "#1a8f1a", "#b07000", "#c01c28" };
  const char *what = st == FT_LIVE_CONNECTED ? "connected"
                   : st == FT_LIVE_RECONNECTING ? "connection lost, retrying"
                   : st == FT_LIVE_REFUSED ? "connection refused"
                   : ft_live_conn_state_name (st);
  g_autofree char *markup = g_markup_printf_escaped ("<span foreground=\"%s\"><b>●</b></span> Live: %s",
                                                     colours[MIN ((guint) st, G_N_ELEMENTS (colours) - 1)], what);
  gtk_label_set_markup (GTK_LABEL (self->live_header_label), markup);
  const char *err = ft_live_session_get_error (self->live);
  gtk_widget_set_tooltip_text (self->live_header_label, err && st != FT_LIVE_CONNECTED ? err
                               : "Live connection to the broker");
}

const char *
ft_window_get_live_header_text (FtWindow *self)
{
  return gtk_widget_get_visible (self->live_header_label)
         ? gtk_label_get_text (GTK_LABEL (self->live_header_label)) : NULL;
}

void
ft_window_on_live_state_changed (FtLiveSession *live, FtWindow *self)
{
  ft_window_update_live_page (self);
  ft_window_update_live_header (self);
  if (!self->live_mode)
    return;
  /* A lost or refused connection shows over the map, not only on the Live page. */
  FtLiveConnState st = ft_live_session_get_state (live);
  const char *err = ft_live_session_get_error (live);
  const char *url = ft_live_session_get_url (live);
  if (st == FT_LIVE_RECONNECTING || st == FT_LIVE_REFUSED)
    {
      g_autofree char *msg = g_strdup_printf ("Live connection to %s %s%s%s", url ? url : "the broker",
                                              st == FT_LIVE_REFUSED ? "refused" : "is down, retrying",
                                              err ? ": " : ".", err ? err : "");
      ft_window_show_toast (self, msg, TRUE);
    }
  else if (st == FT_LIVE_CONNECTED && ft_window_get_toast_is_error (self))
    {
      g_autofree char *msg = g_strdup_printf ("Live: connected to %s.", url ? url : "the broker");
      ft_window_show_toast (self, msg, FALSE);
    }
}

gboolean
ft_window_live_connect (FtWindow *self, GError **error)
{
  FtLiveConfig cfg;
  ft_live_config_init (&cfg);
  ft_broker_settings_to_config (self->settings, self->live_password, &cfg);
  if (cfg.url == NULL || cfg.prefix == NULL)
    {
      g_set_error (error, FT_LIVE_ERROR, FT_LIVE_ERROR_URL,
                   "no broker configured: open Broker Settings on the Live page");
      ft_live_config_clear (&cfg);
      return FALSE;
    }
  self->live_centered = FALSE;
  ft_rider_flow_reset (self->rider);
  self->inspected = -1;
  gboolean ok = ft_live_session_start (self->live, &cfg, error);
  ft_live_config_clear (&cfg);
  if (ok && self->settings && g_settings_get_boolean (self->settings, "live-propose"))
    {
      /* auto-approve as the role picked in the header: only a dispatcher may */
      g_autoptr(GError) local = NULL;
      gboolean auto_on = g_settings_get_boolean (self->settings, "live-auto-approve");
      if (!ft_live_session_set_operations (self->live, TRUE, auto_on, ft_session_get_role (self->session), &local))
        {
          g_autofree char *msg = g_strdup_printf ("Auto-approve stays off: %s", local->message);
          ft_live_session_set_operations (self->live, TRUE, FALSE, ft_session_get_role (self->session), NULL);
          ft_window_show_toast (self, msg, TRUE);
        }
    }
  return ok;
}

void
ft_window_set_live_mode (FtWindow *self, gboolean live)
{
  g_return_if_fail (FT_IS_WINDOW (self));
  live = !!live;
  if (gtk_drop_down_get_selected (GTK_DROP_DOWN (self->mode_dropdown)) != (guint) live)
    {
      gtk_drop_down_set_selected (GTK_DROP_DOWN (self->mode_dropdown), live);   /* comes back here */
      return;
    }
  if (self->live_mode == live)
    return;
  self->live_mode = live;
  self->inspected = -1;
  ft_rider_flow_reset (self->rider);
  ft_vehicle_layer_clear_selection (self->vehicles);
  /* Live time is wall time: no play, step or speed. */
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "win.play", !live);
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "win.step", !live);
  gtk_widget_set_sensitive (self->speed_dropdown, !live);
  if (live)
    {
      ft_session_pause (self->session);
      gtk_stack_set_visible_child_name (GTK_STACK (self->side_stack), "live");
      g_autoptr(GError) error = NULL;
      if (!ft_window_live_connect (self, &error))
        {
          gtk_label_set_label (GTK_LABEL (self->live_command_status), error->message);
          ft_window_show_toast (self, error->message, TRUE);
        }
      else
        gtk_label_set_label (GTK_LABEL (self->live_command_status), "");
    }
  else
    ft_live_session_stop (self->live);
  ft_window_update_live_header (self);
  FtFrame *f = ft_window_current_frame (self);
  ft_vehicle_layer_set_frame (self->vehicles, f);
  ft_overlay_layer_set_frame (self->overlay, f);
  if (!live)
    ft_window_reload_map (self);
  else
    {
      ft_window_fill_staff_dropdown (self);
      ft_window_update_labels (self);
    }
}

gboolean
ft_window_get_live_mode (FtWindow *self)
{
  return self->live_mode;
}

FtLiveSession *
ft_window_get_live_session (FtWindow *self)
{
  return self->live;
}

void
ft_window_set_live_password (FtWindow *self, const char *password)
{
  if (self->live_password)
    memset (self->live_password, 0, strlen (self->live_password));
  g_free (self->live_password);
  self->live_password = password && *password ? g_strdup (password) : NULL;
}

void
ft_window_on_mode_changed (GObject *dd, GParamSpec *pspec, FtWindow *self)
{
  ft_window_set_live_mode (self, gtk_drop_down_get_selected (GTK_DROP_DOWN (dd)) == 1);
}

static void
on_broker_apply (FtBrokerDialog *dlg, const char *password, FtWindow *self)
{
  ft_window_set_live_password (self, password);
  if (!self->live_mode)
    {
      ft_window_set_live_mode (self, TRUE);
      return;
    }
  g_autoptr(GError) error = NULL;
  if (!ft_window_live_connect (self, &error))
    gtk_label_set_label (GTK_LABEL (self->live_command_status), error->message);
  ft_window_update_labels (self);
}

void
ft_window_broker_settings_action (GtkWidget *widget, const char *name, GVariant *param)
{
  FtWindow *self = FT_WINDOW (widget);
  FtBrokerDialog *dlg = ft_broker_dialog_new (GTK_WINDOW (self), self->settings, self->live_password);
  ft_window_close_on_escape (GTK_WINDOW (dlg));
  g_signal_connect_object (dlg, "apply", G_CALLBACK (on_broker_apply), self, 0);
  gtk_window_present (GTK_WINDOW (dlg));
}

void
ft_window_live_reconnect_action (GtkWidget *widget, const char *name, GVariant *param)
{
  FtWindow *self = FT_WINDOW (widget);
  if (!self->live_mode)
    {
      ft_window_set_live_mode (self, TRUE);
      return;
    }
  g_autoptr(GError) error = NULL;
  if (!ft_window_live_connect (self, &error))
    gtk_label_set_label (GTK_LABEL (self->live_command_status), error->message);
}

guint
ft_window_live_command (FtWindow *self, FtLiveCommandKind kind, GError **error)
{
  g_return_val_if_fail (FT_IS_WINDOW (self), 0);
  if (!self->live_mode)
    {
      g_set_error (error, FT_LIVE_ERROR, FT_LIVE_ERROR_NOT_CONNECTED,
                   "commands go to real vehicles only in Live mode: switch the header bar to Live");
      return 0;
    }
  g_autoptr(GArray) sel = ft_vehicle_layer_dup_selection (self->vehicles);
  if (sel->len == 0 && self->inspected >= 0)
    {
      guint v = (guint) self->inspected;
      g_array_append_val (sel, v);
    }
  if (sel->len == 0)
    {
      g_set_error (error, FT_LIVE_ERROR, FT_LIVE_ERROR_UNKNOWN_VEHICLE,
                   "no vehicle chosen: click a vehicle on the map (or Ctrl+click several) first");
      return 0;
    }
  guint sent = 0;
  for (guint i = 0; i < sel->len; i++)
    {
      g_autoptr(GError) e = NULL;
      g_autofree char *id = ft_live_session_send_command (self->live, g_array_index (sel, guint, i), kind, &e);
      if (id)
        sent++;
      else if (error && *error == NULL)
        g_propagate_error (error, g_steal_pointer (&e));
    }
  return sent;
}

void
ft_window_inspect_vehicle (FtWindow *self, guint v)
{
  self->inspected = (gint) v;
  g_autofree char *d = self->live_mode ? ft_live_session_describe_vehicle (self->live, v)
                                       : ft_session_describe_vehicle (self->session, v);
  ft_window_show_markup (self->inspector_label, d);
}

const char *
ft_window_get_live_state_text (FtWindow *self)
{
  return gtk_label_get_text (GTK_LABEL (self->live_state_label));
}

const char *
ft_window_get_live_commands_text (FtWindow *self)
{
  return gtk_label_get_text (GTK_LABEL (self->live_commands_label));
}

const char *
ft_window_get_inspector_text (FtWindow *self)
{
  return gtk_label_get_text (GTK_LABEL (self->inspector_label));
}

void
ft_window_live_command_action (GtkWidget *widget, const char *name, GVariant *param)
{
  FtWindow *self = FT_WINDOW (widget);
  FtLiveCommandKind kind;
  if (!ft_live_command_from_name (g_variant_get_string (param, NULL), &kind))
    return;
  g_autoptr(GError) error = NULL;
  guint n = ft_window_live_command (self, kind, &error);
  g_autofree char *msg = error ? g_strdup_printf ("%u %s commands published. %s", n, ft_live_command_name (kind),
                                                  error->message)
                               : g_strdup_printf ("%u %s command%s published; waiting for acks.", n,
                                                  ft_live_command_name (kind), n == 1 ? "" : "s");
  gtk_label_set_label (GTK_LABEL (self->live_command_status), msg);
  if (self->inspected >= 0)
    ft_window_inspect_vehicle (self, (guint) self->inspected);
  ft_window_update_live_page (self);
}
