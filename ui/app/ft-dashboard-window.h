/* ft-dashboard-window.h — the Dashboard (issue 15): utilisation and
 * revenue by hour and zone (charts and a map layer), rider behaviour,
 * fleet health and staff productivity from the analytics aggregates of the
 * current run's database, filtered by run days, zone and vehicle kind; and
 * "Export Report…", the same PDF as `fleet-twin-cli report`.
 */
#pragma once

#include <gtk/gtk.h>
#include "ft-window.h"
#include "ft-dashboard.h"

G_BEGIN_DECLS

#define FT_TYPE_DASHBOARD_WINDOW (ft_dashboard_window_get_type ())
G_DECLARE_FINAL_TYPE (FtDashboardWindow, ft_dashboard_window, FT, DASHBOARD_WINDOW, GtkWindow)

typedef enum { FT_DASH_MAP_NONE = 0, FT_DASH_MAP_UTILISATION, FT_DASH_MAP_REVENUE } FtDashMapLayer;

/* A dashboard over the run of parent's session; it refreshes at once. */
FtDashboardWindow *ft_dashboard_window_new (FtWindow *parent);
/* Reads the aggregates again with the filter the controls show (brings
 * them up to date first); "refreshed" is emitted when done. */
void               ft_dashboard_window_refresh   (FtDashboardWindow *self);
gboolean           ft_dashboard_window_is_busy   (FtDashboardWindow *self);
/* The data last read, or NULL (then the status says why). */
const FtDashboard *ft_dashboard_window_get_data  (FtDashboardWindow *self);
const char        *ft_dashboard_window_get_status (FtDashboardWindow *self);
/* Sets the controls to f and refreshes. */
void               ft_dashboard_window_set_filter (FtDashboardWindow *self, const FtDashFilter *f);
/* Colours the main window's zones by a dashboard measure. */
void               ft_dashboard_window_set_map_layer (FtDashboardWindow *self, FtDashMapLayer layer);
/* Writes the report (PDF and the folder beside it) at path; blocks until
 * written. The file chooser of "Export Report…" ends here. */
gboolean           ft_dashboard_window_export_report (FtDashboardWindow *self, const char *path, guint *n_pages,
                                                      GError **error);

G_END_DECLS
