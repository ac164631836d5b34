/* ft-window-private.h — what the files of FtWindow share: the instance
 * struct and the helpers and action callbacks one file defines and another
 * uses. ft-window.c holds the frame poll, the map input and the lifecycle;
 * ft-window-actions.c the simulation, dispatch, rider and file actions;
 * ft-window-live.c live mode (the Live page, broker settings, commands).
 */
#pragma once

#include "ft-window.h"
#include "ft-kpi-chart.h"
#include "ft-screenshot.h"
#include "ft-tile-source.h"
#include "ft-tiles.h"
#include "ft-scenario-editor.h"
#include "ft-results-view.h"
#include "ft-dashboard-window.h"
#include "ft-shadow-window.h"
#include "ft-rider-flow.h"
#include "ft-chat-panel.h"
#include "ft-review-window.h"
#include "ft-experiments-window.h"
#include "ft-region-dialog.h"
#include "ft-rider-data-dialog.h"
#include "ft-import-dialog.h"
#include "ft-broker-dialog.h"
#include "ft-file.h"

#include <math.h>
#include <string.h>

G_BEGIN_DECLS

/* KPI charts: four always, three for the rider levers. */
#define FT_WINDOW_N_CHARTS 7

struct _FtWindow {
  GtkApplicationWindow parent_instance;

  /* template */
  GtkWidget *play_button;
  GtkWidget *speed_dropdown;
  GtkWidget *clock_label;
  GtkWidget *title_label;
  GtkWidget *role_dropdown;
  GtkWidget *map_overlay;
  GtkWidget *legend_box;
  GtkWidget *legend_expander;     /* folds on a short map */
  gboolean   legend_user_set;     /* the user opened or closed it */
  GtkWidget *side_stack;
  GtkWidget *kpi_box;
  GtkWidget *kpi_summary;
  GtkWidget *inspector_label;
  GtkWidget *selection_label;
  GtkWidget *task_dropdown;
  GtkWidget *staff_dropdown;
  GtkWidget *dispatch_status;
  GtkWidget *rider_label;
  GtkWidget *rider_box;
  GtkWidget *chat_panel;          /* FtChatPanel, on the Ride page */
  GtkWidget *layers_box;
  GtkWidget *mode_dropdown;
  GtkWidget *live_state_label;
  GtkWidget *live_header_label;   /* connection state in the header bar */
  GtkWidget *live_command_status;
  GtkWidget *live_commands_label;
  GtkWidget *sidebar;
  GtkWidget *page_tabs;
  GtkWidget *tasks_box;
  guint64    tasks_key;      /* counts the task list was built for */

  /* toasts: messages over the map, where the user looks */
  GtkWidget *toast_revealer;
  GtkWidget *toast_label;
  guint      toast_timeout;
  gboolean   toast_is_error;

  FtSession       *session;
  ShumateMap      *map;
  ShumateViewport *viewport;
  ShumateMapLayer *tile_layer;
  FtTileSource    *tiles;
  ShumateMapSource *offline_source;
  ShumateMapSourceRegistry *registry;
  FtOverlayLayer  *overlay;
  FtVehicleLayer  *vehicles;
  GtkWidget       *charts[FT_WINDOW_N_CHARTS];
  gboolean         online;
  gint64           last_labels;
  double           first_map_ms;
  double           drag_x, drag_y;
  gboolean         banding;         /* a Shift+drag selection is under way */
  gint64           band_end_us;     /* when the last one ended */
  double           marker_mx, marker_my;
  GSettings       *settings;
  guint            poll_id;

  /* live mode */
  FtLiveSession   *live;
  gboolean         live_mode;
  gboolean         live_centered;
  char            *live_password;   /* memory only, never stored */
  gint             inspected;       /* vehicle last clicked, -1 none */
  guint            staff_listed;    /* staff in the dispatch drop-down */

  /* rider view: the flow is the model; the window shows it */
  FtRiderFlow *rider;
  gboolean     hold_warned;
  gboolean     advancing;    /* a ride step is queued on the twin thread */
};

/* Simulation speeds of the speed drop-down, sim s per wall s (0 = max). */
extern const double ft_window_speeds[6];

/* ft-window.c */
FtFrame *ft_window_current_frame       (FtWindow *self);
void     ft_window_update_labels       (FtWindow *self);
void     ft_window_fill_staff_dropdown (FtWindow *self);
void     ft_window_show_markup         (GtkWidget *label, const char *markup);
void     ft_window_update_play_button  (FtWindow *self);
void     ft_window_update_rider_actions (FtWindow *self);
void     ft_window_refresh_tasks       (FtWindow *self);
void     ft_window_fit_legend          (FtWindow *self);

/* ft-window-actions.c */
void ft_window_play_action            (GtkWidget *widget, const char *name, GVariant *param);
void ft_window_step_action            (GtkWidget *widget, const char *name, GVariant *param);
void ft_window_speed_action           (GtkWidget *widget, const char *name, GVariant *param);
void ft_window_select_low_action      (GtkWidget *widget, const char *name, GVariant *param);
void ft_window_clear_selection_action (GtkWidget *widget, const char *name, GVariant *param);
void ft_window_dispatch_action        (GtkWidget *widget, const char *name, GVariant *param);
void ft_window_rider_action           (GtkWidget *widget, const char *name, GVariant *param);
void ft_window_screenshot_action      (GtkWidget *widget, const char *name, GVariant *param);
void ft_window_edit_scenario_action   (GtkWidget *widget, const char *name, GVariant *param);
void ft_window_open_action            (GtkWidget *widget, const char *name, GVariant *param);
void ft_window_compare_action         (GtkWidget *widget, const char *name, GVariant *param);
void ft_window_dashboard_action       (GtkWidget *widget, const char *name, GVariant *param);
void ft_window_new_region_action      (GtkWidget *widget, const char *name, GVariant *param);
void ft_window_experiments_action     (GtkWidget *widget, const char *name, GVariant *param);
void ft_window_review_action          (GtkWidget *widget, const char *name, GVariant *param);
void ft_window_rider_data_action      (GtkWidget *widget, const char *name, GVariant *param);
void ft_window_shadow_action          (GtkWidget *widget, const char *name, GVariant *param);
void ft_window_import_osm_action      (GtkWidget *widget, const char *name, GVariant *param);
void ft_window_zoom_action            (GtkWidget *widget, const char *name, GVariant *param);
void ft_window_fit_city_action        (GtkWidget *widget, const char *name, GVariant *param);
/* Escape closes window (secondary windows: editor, results, dialogs). */
void ft_window_close_on_escape        (GtkWindow *window);

/* ft-window-live.c */
void ft_window_update_live_page       (FtWindow *self);
void ft_window_broker_settings_action (GtkWidget *widget, const char *name, GVariant *param);
void ft_window_live_reconnect_action  (GtkWidget *widget, const char *name, GVariant *param);
void ft_window_live_command_action    (GtkWidget *widget, const char *name, GVariant *param);
void ft_window_on_live_state_changed  (FtLiveSession *live, FtWindow *self);
void ft_window_update_live_header     (FtWindow *self);
void ft_window_on_mode_changed        (GObject *dd, GParamSpec *pspec, FtWindow *self);

G_END_DECLS
