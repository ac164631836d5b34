/* ft-application.h — the fleet-twin GtkApplication (org.mobilitycorp.FleetTwin):
 * app actions (quit, preferences, about), keyboard accelerators, the dark
 * style preference, and one window per activation on the start scenario
 * (Demo City Phase 1 unless a .scenario file is given).
 */
#pragma once

#include <gtk/gtk.h>

G_BEGIN_DECLS

#define FT_APP_ID "org.mobilitycorp.FleetTwin"
#define FT_TYPE_APPLICATION (ft_application_get_type ())
G_DECLARE_FINAL_TYPE (FtApplication, ft_application, FT, APPLICATION, GtkApplication)

FtApplication *ft_application_new (void);
/* GSettings for the app, or NULL when the schema is not installed. */
GSettings     *ft_application_get_settings (FtApplication *self);

G_END_DECLS
