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
/* What the dashboard reads: the session's run, the live connection's
 * database (the main window in Live mode), or a database file opened. */
typedef enum { FT_DASH_SOURCE_RUN = 0, FT_DASH_SOURCE_LIVE, FT_DASH_SOURCE_FILE } FtDashSource;

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
/* Reads a database file (a run's or a live twin's; "Open Database…") from
 * now on, with the zones of the city on the map, and refreshes. A path
 * that is not a Fleet Twin database is refused (the status says why) and
 * the source is unchanged. */
gboolean           ft_dashboard_window_open_database (FtDashboardWindow *self, const char *path, GError **error);
/* Back to the session: its run, or the live connection in Live mode. */
void               ft_dashboard_window_use_session (FtDashboardWindow *self);
FtDashSource       ft_dashboard_window_get_source  (FtDashboardWindow *self);
/* Writes the report (PDF and the folder beside it) at path; blocks until
 * written. The file chooser of "Export Report…" ends here. */
gboolean           ft_dashboard_window_export_report (FtDashboardWindow *self, const char *path, guint *n_pages,
                                                      GError **error);

G_END_DECLS
