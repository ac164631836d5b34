/* ft-application.c — see ft-application.h. */
#include "ft-application.h"
#include "ft-config.h"
#include "ft-data.h"
#include "ft-preferences.h"
#include "ft-session.h"
#include "ft-vehicle-layer.h"
#include "ft-window.h"

struct _FtApplication {
  GtkApplication parent_instance;
  GSettings *settings;
  char      *scenario_path;
};

G_DEFINE_FINAL_TYPE (FtApplication, ft_application, GTK_TYPE_APPLICATION)

static void
apply_dark (FtApplication *self)
{
  gboolean dark = self->settings && g_settings_get_boolean (self->settings, "dark-style");
  g_object_set (gtk_settings_get_default (), "gtk-application-prefer-dark-theme", dark, NULL);
}

static void
on_dark_changed (GSettings *s, const char *key, FtApplication *self)
{
  apply_dark (self);
}

static FtSimScenario *
start_scenario (FtApplication *self, GError **error)
{
  if (self->scenario_path)
    return ft_sim_scenario_load (self->scenario_path, error);
  g_autofree char *p = ft_data_find ("scenarios/demo-city-phase1.scenario");
  if (p)
    return ft_sim_scenario_load (p, error);
  return ft_sim_scenario_new_default ();
}

static void
ft_application_activate (GApplication *app)
{
  FtApplication *self = FT_APPLICATION (app);
  GtkWindow *win = gtk_application_get_active_window (GTK_APPLICATION (app));
  if (win)
    {
      gtk_window_present (win);
      return;
    }
  g_autoptr(GError) error = NULL;
  g_autoptr(FtSession) session = ft_session_new ();
  /* Runs are recorded so the Dashboard and Export Report can read them. */
  g_autofree char *runs = g_build_filename (g_get_user_cache_dir (), "fleet-twin", "runs", NULL);
  ft_session_set_record_dir (session, runs);
  FtSimScenario *sc = start_scenario (self, &error);
  if (sc == NULL || !ft_session_load (session, sc, NULL, &error))
    {
      g_printerr ("fleet-twin: cannot start the scenario: %s\n", error ? error->message : "?");
      g_application_quit (app);
      return;
    }
  FtWindow *w = ft_window_new (GTK_APPLICATION (app), session);
  gtk_window_present (GTK_WINDOW (w));
  ft_window_welcome (w);
}

static void
ft_application_open (GApplication *app, GFile **files, int n_files, const char *hint)
{
  FtApplication *self = FT_APPLICATION (app);
  if (n_files > 0)
    {
      g_free (self->scenario_path);
      self->scenario_path = g_file_get_path (files[0]);
    }
  ft_application_activate (app);
}

static void
quit_action (GSimpleAction *a, GVariant *p, gpointer app)
{
  GList *wins = gtk_application_get_windows (GTK_APPLICATION (app));
  for (GList *l = wins; l; )
    {
      GList *next = l->next;
      gtk_window_destroy (l->data);
      l = next;
    }
  g_application_quit (app);
}

static void
preferences_action (GSimpleAction *a, GVariant *p, gpointer app)
{
  FtApplication *self = app;
  FtPreferences *prefs = ft_preferences_new (gtk_application_get_active_window (GTK_APPLICATION (app)),
                                             self->settings);
  GtkEventController *sc = gtk_shortcut_controller_new ();
  gtk_shortcut_controller_add_shortcut (GTK_SHORTCUT_CONTROLLER (sc),
                                        gtk_shortcut_new (gtk_keyval_trigger_new (GDK_KEY_Escape, 0),
                                                          gtk_named_action_new ("window.close")));
  gtk_widget_add_controller (GTK_WIDGET (prefs), sc);
  gtk_window_present (GTK_WINDOW (prefs));
}

static void
about_action (GSimpleAction *a, GVariant *p, gpointer app)
{
  const char *authors[] = { "Fleet Twin contributors", NULL };
  gtk_show_about_dialog (gtk_application_get_active_window (GTK_APPLICATION (app)),
                         "program-name", "Fleet Twin",
                         "logo-icon-name", FT_APP_ID,
                         "version", FT_VERSION,
                         "comments", "Digital twin of a shared-micromobility operator",
                         "license-type", GTK_LICENSE_GPL_3_0,
                         "authors", authors,
                         NULL);
}

static void
ft_application_startup (GApplication *app)
{
  FtApplication *self = FT_APPLICATION (app);
  G_APPLICATION_CLASS (ft_application_parent_class)->startup (app);

  GSettingsSchemaSource *src = g_settings_schema_source_get_default ();
  g_autoptr(GSettingsSchema) schema = src ? g_settings_schema_source_lookup (src, FT_APP_ID, TRUE) : NULL;
  if (schema)
    {
      self->settings = g_settings_new (FT_APP_ID);
      g_signal_connect (self->settings, "changed::dark-style", G_CALLBACK (on_dark_changed), self);
    }
  apply_dark (self);

  static const GActionEntry entries[] = {
    { "quit", quit_action, NULL, NULL, NULL },
    { "preferences", preferences_action, NULL, NULL, NULL },
    { "about", about_action, NULL, NULL, NULL },
  };
  g_action_map_add_action_entries (G_ACTION_MAP (app), entries, G_N_ELEMENTS (entries), app);
  const char *quit[] = { "<Control>q", NULL };
  const char *prefs[] = { "<Control>comma", NULL };
  gtk_application_set_accels_for_action (GTK_APPLICATION (app), "app.quit", quit);
  gtk_application_set_accels_for_action (GTK_APPLICATION (app), "app.preferences", prefs);
  /* Application accelerators are handled before the focused widget sees the
   * key, so Space plays and pauses even when a button has the focus. */
  const char *play[] = { "space", NULL };
  const char *step[] = { "<Control>Right", NULL };
  gtk_application_set_accels_for_action (GTK_APPLICATION (app), "win.play", play);
  gtk_application_set_accels_for_action (GTK_APPLICATION (app), "win.step", step);

  GtkCssProvider *css = gtk_css_provider_new ();
  gtk_css_provider_load_from_resource (css, "/org/mobilitycorp/FleetTwin/style.css");
  gtk_style_context_add_provider_for_display (gdk_display_get_default (), GTK_STYLE_PROVIDER (css),
                                              GTK_STYLE_PROVIDER_PRIORITY_APPLICATION);
  g_object_unref (css);
  gtk_window_set_default_icon_name (FT_APP_ID);
}

static void
ft_application_finalize (GObject *object)
{
  FtApplication *self = FT_APPLICATION (object);
  g_clear_object (&self->settings);
  g_free (self->scenario_path);
  G_OBJECT_CLASS (ft_application_parent_class)->finalize (object);
}

static void
ft_application_class_init (FtApplicationClass *klass)
{
  G_OBJECT_CLASS (klass)->finalize = ft_application_finalize;
  G_APPLICATION_CLASS (klass)->activate = ft_application_activate;
  G_APPLICATION_CLASS (klass)->open = ft_application_open;
  G_APPLICATION_CLASS (klass)->startup = ft_application_startup;
}

static void
ft_application_init (FtApplication *self)
{
  /* Before any window exists: GSK reads GSK_RENDERER once, at the first renderer. */
  ft_map_choose_renderer ();
}

FtApplication *
ft_application_new (void)
{
  return g_object_new (FT_TYPE_APPLICATION, "application-id", FT_APP_ID,
                       "flags", G_APPLICATION_HANDLES_OPEN | G_APPLICATION_NON_UNIQUE,
                       "resource-base-path", "/org/mobilitycorp/FleetTwin", NULL);
}

GSettings *
ft_application_get_settings (FtApplication *self)
{
  return self->settings;
}
