/* ft-window.h — Fleet Twin's main window: the live map with its layers,
 * simulation controls in the header bar, and the KPI, inspector, dispatch,
 * rider and layer pages. Thin over FtSession: it shows frames and turns
 * clicks into session commands.
 */
#pragma once

#include <gtk/gtk.h>
#include <shumate/shumate.h>
#include "ft-session.h"
#include "ft-vehicle-layer.h"
#include "ft-overlay-layer.h"
#include "ft-live-session.h"
#include "ft-rider-flow.h"

G_BEGIN_DECLS

#define FT_TYPE_WINDOW (ft_window_get_type ())
G_DECLARE_FINAL_TYPE (FtWindow, ft_window, FT, WINDOW, GtkApplicationWindow)

FtWindow       *ft_window_new               (GtkApplication *app, FtSession *session);
FtSession      *ft_window_get_session       (FtWindow *self);
ShumateMap     *ft_window_get_map           (FtWindow *self);
FtVehicleLayer *ft_window_get_vehicle_layer (FtWindow *self);
FtOverlayLayer *ft_window_get_overlay_layer (FtWindow *self);
GtkWidget      *ft_window_get_kpi_panel     (FtWindow *self);
/* Rebuilds the map for the session's current city and tiles. */
void            ft_window_reload_map        (FtWindow *self);
void            ft_window_set_online_tiles  (FtWindow *self, gboolean online);
/* Selects available vehicles below 20 % battery inside the visible map. */
guint           ft_window_select_low_battery (FtWindow *self);
/* Creates tasks (FtTaskKind) for the selection; staff -1 = queue. */
guint           ft_window_dispatch_selection (FtWindow *self, guint kind, gint32 staff, GError **error);
/* Same; *warnings gets what was skipped or needs attention (or NULL). */
guint           ft_window_dispatch_selection_checked (FtWindow *self, guint kind, gint32 staff,
                                                      char **warnings, GError **error);
/* The Dispatch page's task list as text (a line per task) and the staff
 * member tasks are assigned to (-1 = leave in the queue). */
char           *ft_window_dup_tasks_text    (FtWindow *self);
void            ft_window_set_dispatch_staff (FtWindow *self, gint32 staff);
const char     *ft_window_get_dispatch_status (FtWindow *self);
/* Marks a point as a click would (rebalance target, rider position/destination). */
void            ft_window_set_marker        (FtWindow *self, FtLatLon p);
/* The rider flow the Ride page shows (state, vehicle). */
FtRiderFlow    *ft_window_get_rider_flow    (FtWindow *self);
/* Text of the rider page (status, receipt). */
const char     *ft_window_get_rider_text    (FtWindow *self);
/* Live mode: the map shows the live fleet of an MQTT broker configured in
 * GSettings (Broker Settings…); switching back stops the connection. */
void            ft_window_set_live_mode     (FtWindow *self, gboolean live);
gboolean        ft_window_get_live_mode     (FtWindow *self);
FtLiveSession  *ft_window_get_live_session  (FtWindow *self);
/* The broker password, kept in memory only (NULL clears it). */
void            ft_window_set_live_password (FtWindow *self, const char *password);
/* (Re)connects with the current settings. */
gboolean        ft_window_live_connect      (FtWindow *self, GError **error);
/* Publishes kind for the selection, or else the inspected vehicle. Returns
 * the number of commands published. */
guint           ft_window_live_command      (FtWindow *self, FtLiveCommandKind kind, GError **error);
/* Shows vehicle v in the inspector as a click on it would. */
void            ft_window_inspect_vehicle   (FtWindow *self, guint v);
const char     *ft_window_get_inspector_text (FtWindow *self);
/* Text of the Live page's connection label (state, broker, error, status). */
const char     *ft_window_get_live_state_text (FtWindow *self);
/* The header bar's live connection state (plain text), NULL when hidden. */
const char     *ft_window_get_live_header_text (FtWindow *self);
/* The Live page's command list (plain text). */
const char     *ft_window_get_live_commands_text (FtWindow *self);
/* A message over the map (errors stay until dismissed or the next load;
 * others hide after a few seconds); the text shown, or NULL when hidden. */
void            ft_window_show_toast        (FtWindow *self, const char *message, gboolean is_error);
const char     *ft_window_get_toast         (FtWindow *self);
gboolean        ft_window_get_toast_is_error (FtWindow *self);
/* Opens a scenario file (or, city TRUE, a city pack folder) as the Open
 * menu items do; an error is shown as a toast and returned. */
gboolean        ft_window_open_path         (FtWindow *self, const char *path, gboolean city, GError **error);
/* Writes a PNG of the window's content (map and panels) through FtOutput;
 * an existing file that is not a PNG is refused. */
gboolean        ft_window_save_screenshot   (FtWindow *self, const char *path, GError **error);
/* Name of the sidebar page shown (kpis, inspector, dispatch, rider, live, layers). */
void            ft_window_set_page          (FtWindow *self, const char *page);
const char     *ft_window_get_page          (FtWindow *self);
/* The map legend's overlay box (folded to its title on a short map). */
GtkWidget      *ft_window_get_legend        (FtWindow *self);
GtkWidget      *ft_window_get_sidebar       (FtWindow *self);
/* The marked point (rebalance target, rider position), FALSE if none. */
gboolean        ft_window_get_marker        (FtWindow *self, FtLatLon *p);
const char     *ft_window_get_kpi_text      (FtWindow *self);
const char     *ft_window_get_clock_text    (FtWindow *self);
/* The first minute: runs the simulation to a busy hour of the first day
 * (ft_session_get_busy_start), so the charts have a history and the map
 * shows riders, and says in a toast what the screen is and what to do. */
void            ft_window_welcome           (FtWindow *self);
/* Milliseconds from process start to the first frame with map tiles. */
double          ft_window_get_first_map_ms  (FtWindow *self);

G_END_DECLS
