/* ft-overlay-layer.h — the map's thematic layers drawn with cairo into one
 * node: demand zones and geofences (optionally shaded by demand heat), field
 * staff vans with their current leg and target, each van's route through
 * its ordered stop list (numbered stops), and lost-demand points.
 */
#pragma once

#include <shumate/shumate.h>
#include "ft-frame.h"
#include "ft-city.h"

G_BEGIN_DECLS

#define FT_TYPE_OVERLAY_LAYER (ft_overlay_layer_get_type ())
G_DECLARE_FINAL_TYPE (FtOverlayLayer, ft_overlay_layer, FT, OVERLAY_LAYER, ShumateLayer)

typedef enum {
  FT_OVERLAY_ZONES     = 1 << 0,
  FT_OVERLAY_GEOFENCES = 1 << 1,
  FT_OVERLAY_HEAT      = 1 << 2,
  FT_OVERLAY_STAFF     = 1 << 3,
  FT_OVERLAY_LOST      = 1 << 4,
  FT_OVERLAY_PRICES    = 1 << 5,   /* dynamic price multiplier per zone */
  FT_OVERLAY_OFFERS    = 1 << 6,   /* relocation offers per zone */
} FtOverlayFlags;

FtOverlayLayer *ft_overlay_layer_new       (ShumateViewport *viewport);
void            ft_overlay_layer_set_city  (FtOverlayLayer *self, const FtCity *city);
void            ft_overlay_layer_set_frame (FtOverlayLayer *self, FtFrame *frame);
void            ft_overlay_layer_set_flags (FtOverlayLayer *self, guint flags);
guint           ft_overlay_layer_get_flags (FtOverlayLayer *self);
/* Staff member under (x, y) within radius px, or -1. */
int             ft_overlay_layer_pick_staff (FtOverlayLayer *self, double x, double y, double radius);
/* A ring around vehicle v (the rider's), -1 for none. */
void            ft_overlay_layer_set_highlight (FtOverlayLayer *self, int v);
int             ft_overlay_layer_get_highlight (FtOverlayLayer *self);
/* Lost-demand marks drawn last time (faded-out ones are not). */
guint           ft_overlay_layer_get_n_lost_drawn (FtOverlayLayer *self);
/* Distance in widget pixels from (x, y) to staff member s (INFINITY if none). */
double          ft_overlay_layer_staff_distance (FtOverlayLayer *self, guint s, double x, double y);
/* Colours each zone by a value in 0..1 (n values, copied; NaN leaves a zone
 * clear) in rgb: the dashboard's measure, the price multiplier, the
 * forecast error. NULL clears. */
void            ft_overlay_layer_set_zone_values (FtOverlayLayer *self, const double *values, guint n,
                                                  const double rgb[3]);
guint           ft_overlay_layer_get_n_zone_values (FtOverlayLayer *self);
/* Zones the price and offer layers drew last time (labelled prices, offer outlines). */
guint           ft_overlay_layer_get_n_prices_drawn (FtOverlayLayer *self);
guint           ft_overlay_layer_get_n_offers_drawn (FtOverlayLayer *self);
/* Numbered stops the route layer drew last time (with FT_OVERLAY_STAFF). */
guint           ft_overlay_layer_get_n_stops_drawn (FtOverlayLayer *self);
/* Marks a point (rider destination, rebalance target); NaN hides it. */
void            ft_overlay_layer_set_marker (FtOverlayLayer *self, double mx, double my);

G_END_DECLS
