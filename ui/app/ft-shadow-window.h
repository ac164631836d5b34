/* ft-shadow-window.h — the shadow models' results (issue 12), labelled as
 * shadow: nothing acts on them. The demand forecast against what happened,
 * hour by hour for a chosen zone and summed per zone over the last day (a
 * chart each), the forecast error per zone on the main map, and the
 * model's running scores against the historical-mean baseline; the
 * predictive-maintenance shadow's scores and its list of the vehicles most
 * at risk of a fault (P within 24 h and 7 days, km since service), a row
 * selecting its vehicle on the map.
 */
#pragma once

#include <gtk/gtk.h>
#include "ft-window.h"

G_BEGIN_DECLS

#define FT_TYPE_SHADOW_WINDOW (ft_shadow_window_get_type ())
G_DECLARE_FINAL_TYPE (FtShadowWindow, ft_shadow_window, FT, SHADOW_WINDOW, GtkWindow)

#define FT_SHADOW_WINDOW_HOURS 48
#define FT_SHADOW_WINDOW_RISKS 15

typedef struct {
  guint  vehicle;
  char   code[16];              /* "FT-0042" */
  double p24, p7d;              /* the model's short and long horizons */
  double km_since_service;
} FtShadowWindowRisk;

FtShadowWindow *ft_shadow_window_new     (FtWindow *parent);
/* Reads the shadow results again (blocks until the twin thread answers). */
void            ft_shadow_window_refresh (FtShadowWindow *self);
/* "SHADOW · glm · RMSE … vs baseline …", or why there is nothing. */
const char     *ft_shadow_window_get_status (FtShadowWindow *self);
/* Hours of lead-1 forecasts scored in the per-zone sums (0: none yet). */
guint           ft_shadow_window_get_hours   (FtShadowWindow *self);
/* Sums of forecast and actual requests per zone over those hours. */
const double   *ft_shadow_window_get_zone_forecast (FtShadowWindow *self, guint *n_zones);
const double   *ft_shadow_window_get_zone_actual   (FtShadowWindow *self, guint *n_zones);
void            ft_shadow_window_set_zone (FtShadowWindow *self, guint zone);
/* "SHADOW maintenance · …", or why there is nothing. */
const char     *ft_shadow_window_get_maint_status (FtShadowWindow *self);
/* The risk list, highest first (at most FT_SHADOW_WINDOW_RISKS). */
const FtShadowWindowRisk *ft_shadow_window_get_risks (FtShadowWindow *self, guint *n);
/* Selects row i's vehicle on the main map and shows it in the inspector
 * (what activating the row does). */
void            ft_shadow_window_select_risk (FtShadowWindow *self, guint i);

G_END_DECLS
