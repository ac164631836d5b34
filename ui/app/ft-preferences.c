/* ft-preferences.c — see ft-preferences.h. */
#include "ft-preferences.h"

struct _FtPreferences {
  GtkWindow parent_instance;
  GtkWidget *online_switch;
  GtkWidget *dark_switch;
  GtkWidget *speed_spin;
};

G_DEFINE_FINAL_TYPE (FtPreferences, ft_preferences, GTK_TYPE_WINDOW)

static void
ft_preferences_class_init (FtPreferencesClass *klass)
{
  GtkWidgetClass *wc = GTK_WIDGET_CLASS (klass);
  gtk_widget_class_set_template_from_resource (wc, "/org/mobilitycorp/FleetTwin/ft-preferences.ui");
  gtk_widget_class_bind_template_child (wc, FtPreferences, online_switch);
  gtk_widget_class_bind_template_child (wc, FtPreferences, dark_switch);
  gtk_widget_class_bind_template_child (wc, FtPreferences, speed_spin);
}

static void
ft_preferences_init (FtPreferences *self)
{
  gtk_widget_init_template (GTK_WIDGET (self));
}

FtPreferences *
ft_preferences_new (GtkWindow *parent, GSettings *settings)
{
  FtPreferences *self = g_object_new (FT_TYPE_PREFERENCES, "transient-for", parent, NULL);
  if (settings)
    {
      g_settings_bind (settings, "online-tiles", self->online_switch, "active", G_SETTINGS_BIND_DEFAULT);
      g_settings_bind (settings, "dark-style", self->dark_switch, "active", G_SETTINGS_BIND_DEFAULT);
      g_settings_bind (settings, "speed-index", self->speed_spin, "value", G_SETTINGS_BIND_DEFAULT);
    }
  else
    gtk_widget_set_sensitive (GTK_WIDGET (self), FALSE);
  return self;
}
