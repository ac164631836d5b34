/* ft-preferences.h — the preferences window: online OpenStreetMap tiles,
 * dark style and the starting simulation speed, stored in GSettings. */
#pragma once

#include <gtk/gtk.h>

G_BEGIN_DECLS

#define FT_TYPE_PREFERENCES (ft_preferences_get_type ())
G_DECLARE_FINAL_TYPE (FtPreferences, ft_preferences, FT, PREFERENCES, GtkWindow)

FtPreferences *ft_preferences_new (GtkWindow *parent, GSettings *settings);

G_END_DECLS
