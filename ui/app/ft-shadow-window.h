/* ft-shadow-window.h — the shadow models' results (issue 12), labelled as
 * shadow: nothing acts on them. The demand forecast against what happened,
 * hour by hour for a chosen zone and summed per zone over the last day (a
 * chart each), the forecast error per zone on the main map, and the
 * model's running scores against the historical-mean baseline.
 */
#pragma once

#include <gtk/gtk.h>
#include "ft-window.h"

G_BEGIN_DECLS

#define FT_TYPE_SHADOW_WINDOW (ft_shadow_window_get_type ())
G_DECLARE_FINAL_TYPE (FtShadowWindow, ft_shadow_window, FT, SHADOW_WINDOW, GtkWindow)

#define FT_SHADOW_WINDOW_HOURS 48

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

G_END_DECLS
