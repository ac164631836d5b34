/* ft-vehicle-layer.h — a ShumateLayer drawing every vehicle of a frame as a
 * coloured dot (state and battery) into one CPU raster: one widget and one
 * render node for the whole fleet, not a widget per vehicle. Re-rasters at
 * most max-raster-hz times a second (default 30); pans in between translate
 * the last raster. Also picks vehicles under the pointer and keeps the
 * dispatch selection.
 */
#pragma once

#include <shumate/shumate.h>
#include "ft-frame.h"

G_BEGIN_DECLS

#define FT_TYPE_VEHICLE_LAYER (ft_vehicle_layer_get_type ())
G_DECLARE_FINAL_TYPE (FtVehicleLayer, ft_vehicle_layer, FT, VEHICLE_LAYER, ShumateLayer)

FtVehicleLayer *ft_vehicle_layer_new        (ShumateViewport *viewport);
void            ft_vehicle_layer_set_frame  (FtVehicleLayer *self, FtFrame *frame);
FtFrame        *ft_vehicle_layer_get_frame  (FtVehicleLayer *self);
/* Vehicles drawn inside the widget in the last snapshot. */
guint           ft_vehicle_layer_get_n_drawn (FtVehicleLayer *self);
/* Widget coordinates of a vehicle; FALSE without a frame. */
gboolean        ft_vehicle_layer_vehicle_coords (FtVehicleLayer *self, guint v, double *x, double *y);
/* Nearest vehicle within radius px of (x, y), or -1. */
int             ft_vehicle_layer_pick       (FtVehicleLayer *self, double x, double y, double radius);
/* Selection (dispatch). */
void            ft_vehicle_layer_clear_selection (FtVehicleLayer *self);
void            ft_vehicle_layer_toggle     (FtVehicleLayer *self, guint v);
/* Selects every vehicle inside the widget rectangle; returns how many were added. */
guint           ft_vehicle_layer_select_rect (FtVehicleLayer *self, double x0, double y0,
                                              double x1, double y1);
/* Sorted indices of selected vehicles (caller frees). */
GArray         *ft_vehicle_layer_dup_selection (FtVehicleLayer *self);
guint           ft_vehicle_layer_get_n_selected (FtVehicleLayer *self);
/* Rubber band rectangle to draw (widget coords), or width 0 to hide. */
void            ft_vehicle_layer_set_band   (FtVehicleLayer *self, double x0, double y0,
                                             double x1, double y1);

/* Re-raster at most hz times a second (≤ 0: on every change). */
void            ft_vehicle_layer_set_max_raster_hz (FtVehicleLayer *self, double hz);
/* Rasters made (since the last reset) and their mean CPU time. */
void            ft_vehicle_layer_get_raster_stats (FtVehicleLayer *self, guint *n_rasters, double *mean_ms);
void            ft_vehicle_layer_reset_raster_stats (FtVehicleLayer *self);

/* Picks the GSK renderer before the first window is realised: when
 * GSK_RENDERER is unset and there is no GPU render node (/dev/dri/renderD*,
 * e.g. under Xvfb) it sets GSK_RENDERER=cairo, which measured far faster
 * than GL on llvmpipe (see tests/ui/app/bench-render.c). Returns the choice. */
const char     *ft_map_choose_renderer (void);

/* Projection used by all Fleet Twin layers: normalised mercator → widget. */
typedef struct {
  double cmx, cmy, scale, w2, h2, cos_r, sin_r;
} FtMapXform;
void ft_map_xform_init (FtMapXform *xf, ShumateViewport *vp, GtkWidget *widget);
static inline void
ft_map_xform_apply (const FtMapXform *xf, double mx, double my, double *x, double *y)
{
  double dx = (mx - xf->cmx) * xf->scale, dy = (my - xf->cmy) * xf->scale;
  *x = dx * xf->cos_r - dy * xf->sin_r + xf->w2;
  *y = dx * xf->sin_r + dy * xf->cos_r + xf->h2;
}
void ft_map_xform_invert (const FtMapXform *xf, double x, double y, double *mx, double *my);

G_END_DECLS
