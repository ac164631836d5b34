/* ft-broker-dialog.c — see ft-broker-dialog.h. Built in code: a grid of
 * entries bound to GSettings, a password entry that is not, the live
 * operations switches (propose, auto-approve), and Connect. */
#include "ft-broker-dialog.h"

struct _FtBrokerDialog {
  GtkWindow  parent_instance;
  GSettings *settings;
  GtkWidget *url, *prefix, *username, *password, *ca, *cert, *key, *version;
  GtkWidget *propose, *auto_approve;
};

G_DEFINE_FINAL_TYPE (FtBrokerDialog, ft_broker_dialog, GTK_TYPE_WINDOW)

enum { SIGNAL_APPLY, N_SIGNALS };
static guint signals[N_SIGNALS];

static void
ft_broker_dialog_finalize (GObject *object)
{
  FtBrokerDialog *self = FT_BROKER_DIALOG (object);
  g_clear_object (&self->settings);
  G_OBJECT_CLASS (ft_broker_dialog_parent_class)->finalize (object);
}

static void
ft_broker_dialog_class_init (FtBrokerDialogClass *klass)
{
  G_OBJECT_CLASS (klass)->finalize = ft_broker_dialog_finalize;
  signals[SIGNAL_APPLY] = g_signal_new ("apply", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0,
                                        NULL, NULL, NULL, G_TYPE_NONE, 1, G_TYPE_STRING);
}

static GtkWidget *
add_row (GtkGrid *grid, int row, const char *label, GtkWidget *w, const char *tip)
{
  GtkWidget *l = gtk_label_new (label);
  gtk_label_set_xalign (GTK_LABEL (l), 1);
  gtk_widget_set_hexpand (w, TRUE);
  if (tip)
    gtk_widget_set_tooltip_text (w, tip);
  gtk_grid_attach (grid, l, 0, row, 1, 1);
  gtk_grid_attach (grid, w, 1, row, 1, 1);
  return w;
}

static void
on_connect (GtkButton *b, FtBrokerDialog *self)
{
  if (self->settings)
    g_settings_set_string (self->settings, "live-mqtt-version",
                           gtk_drop_down_get_selected (GTK_DROP_DOWN (self->version)) == 1 ? "5" : "3.1.1");
  const char *pw = gtk_editable_get_text (GTK_EDITABLE (self->password));
  g_signal_emit (self, signals[SIGNAL_APPLY], 0, pw);
  gtk_window_close (GTK_WINDOW (self));
}

static void
ft_broker_dialog_init (FtBrokerDialog *self)
{
  gtk_window_set_title (GTK_WINDOW (self), "Live Broker");
  gtk_window_set_default_size (GTK_WINDOW (self), 520, -1);
  gtk_window_set_modal (GTK_WINDOW (self), TRUE);
  GtkWidget *box = gtk_box_new (GTK_ORIENTATION_VERTICAL, 10);
  gtk_widget_set_margin_start (box, 14);
  gtk_widget_set_margin_end (box, 14);
  gtk_widget_set_margin_top (box, 14);
  gtk_widget_set_margin_bottom (box, 14);
  GtkGrid *grid = GTK_GRID (gtk_grid_new ());
  gtk_grid_set_row_spacing (grid, 6);
  gtk_grid_set_column_spacing (grid, 10);
  self->url = add_row (grid, 0, "Broker URL", gtk_entry_new (), "mqtt://host:1883 or mqtts://host:8883");
  self->prefix = add_row (grid, 1, "Fleet prefix", gtk_entry_new (), "Topic prefix, e.g. mobilitycorp/berlin");
  self->username = add_row (grid, 2, "User name", gtk_entry_new (), NULL);
  self->password = add_row (grid, 3, "Password", gtk_password_entry_new (),
                            "Kept in memory for this session only; never stored");
  gtk_password_entry_set_show_peek_icon (GTK_PASSWORD_ENTRY (self->password), TRUE);
  self->ca = add_row (grid, 4, "CA file", gtk_entry_new (), "PEM CA bundle for mqtts (empty: system default)");
  self->cert = add_row (grid, 5, "Client certificate", gtk_entry_new (), "PEM file (optional)");
  self->key = add_row (grid, 6, "Client key", gtk_entry_new (), "PEM file (optional)");
  const char *versions[] = { "MQTT 3.1.1", "MQTT 5", NULL };
  self->version = add_row (grid, 7, "Protocol", gtk_drop_down_new_from_strings (versions), NULL);
  self->propose = add_row (grid, 8, "Operations",
                           gtk_check_button_new_with_label ("Propose tasks from live state"),
                           "Battery swaps, collections and rebalancing proposed from what the fleet "
                           "reports, valued and ranked; a dispatcher approves them");
  self->auto_approve = add_row (grid, 9, "",
                                gtk_check_button_new_with_label ("Approve proposals automatically"),
                                "Only a dispatcher may switch this on: the role is checked when connecting");
  g_object_bind_property (self->propose, "active", self->auto_approve, "sensitive", G_BINDING_SYNC_CREATE);
  gtk_box_append (GTK_BOX (box), GTK_WIDGET (grid));
  GtkWidget *note = gtk_label_new ("The password is kept in memory for this session only "
                                   "(no keyring support is built in); everything else is saved.");
  gtk_label_set_wrap (GTK_LABEL (note), TRUE);
  gtk_label_set_xalign (GTK_LABEL (note), 0);
  gtk_widget_add_css_class (note, "dim-label");
  gtk_box_append (GTK_BOX (box), note);
  GtkWidget *btn = gtk_button_new_with_mnemonic ("_Connect");
  gtk_widget_add_css_class (btn, "suggested-action");
  gtk_widget_set_halign (btn, GTK_ALIGN_END);
  g_signal_connect (btn, "clicked", G_CALLBACK (on_connect), self);
  gtk_box_append (GTK_BOX (box), btn);
  gtk_window_set_child (GTK_WINDOW (self), box);
}

FtBrokerDialog *
ft_broker_dialog_new (GtkWindow *parent, GSettings *settings, const char *password)
{
  FtBrokerDialog *self = g_object_new (FT_TYPE_BROKER_DIALOG, "transient-for", parent, NULL);
  if (settings)
    {
      self->settings = g_object_ref (settings);
      g_settings_bind (settings, "live-url", self->url, "text", G_SETTINGS_BIND_DEFAULT);
      g_settings_bind (settings, "live-prefix", self->prefix, "text", G_SETTINGS_BIND_DEFAULT);
      g_settings_bind (settings, "live-username", self->username, "text", G_SETTINGS_BIND_DEFAULT);
      g_settings_bind (settings, "live-ca-file", self->ca, "text", G_SETTINGS_BIND_DEFAULT);
      g_settings_bind (settings, "live-cert-file", self->cert, "text", G_SETTINGS_BIND_DEFAULT);
      g_settings_bind (settings, "live-key-file", self->key, "text", G_SETTINGS_BIND_DEFAULT);
      g_settings_bind (settings, "live-propose", self->propose, "active", G_SETTINGS_BIND_DEFAULT);
      g_settings_bind (settings, "live-auto-approve", self->auto_approve, "active", G_SETTINGS_BIND_DEFAULT);
      g_autofree char *v = g_settings_get_string (settings, "live-mqtt-version");
      gtk_drop_down_set_selected (GTK_DROP_DOWN (self->version), g_str_equal (v, "5") ? 1 : 0);
    }
  gtk_editable_set_text (GTK_EDITABLE (self->password), password ? password : "");
  return self;
}

static char *
dup_nonempty (GSettings *s, const char *key)
{
  char *v = g_settings_get_string (s, key);
  if (v && *v == '\0')
    g_clear_pointer (&v, g_free);
  return v;
}

void
ft_broker_settings_to_config (GSettings *settings, const char *password, FtLiveConfig *cfg)
{
  g_return_if_fail (cfg != NULL);
  if (settings == NULL)
    return;
  g_free (cfg->url);
  cfg->url = g_settings_get_string (settings, "live-url");
  g_free (cfg->prefix);
  cfg->prefix = g_settings_get_string (settings, "live-prefix");
  g_free (cfg->username);
  cfg->username = dup_nonempty (settings, "live-username");
  g_free (cfg->password);
  cfg->password = password && *password ? g_strdup (password) : NULL;
  g_free (cfg->ca_file);
  cfg->ca_file = dup_nonempty (settings, "live-ca-file");
  g_free (cfg->cert_file);
  cfg->cert_file = dup_nonempty (settings, "live-cert-file");
  g_free (cfg->key_file);
  cfg->key_file = dup_nonempty (settings, "live-key-file");
  g_autofree char *v = g_settings_get_string (settings, "live-mqtt-version");
  cfg->protocol = g_str_equal (v, "5") ? 5 : 3;
}
