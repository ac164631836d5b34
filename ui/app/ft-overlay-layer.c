/* ft-overlay-layer.c — zones, geofences, heat, staff and lost demand.
 * Zone outlines are projected to mercator once per city; per frame only the
 * affine map transform is applied, so a few hundred polygons stay cheap.
 */
#include "ft-overlay-layer.h"
#include "ft-vehicle-layer.h"

#include <math.h>

typedef struct {
  GArray *pts;       /* (mx, my) doubles, rings separated by NaN */
  FtBBox  bbox;
  gboolean holes;    /* more than one ring (the sea cut out of a zone) */
} ProjPoly;

struct _FtOverlayLayer {
  ShumateLayer parent_instance;
  const FtCity *city;
  FtFrame  *frame;
  guint     flags;
  GArray   *zones;       /* ProjPoly per zone */
  GArray   *fences;      /* ProjPoly per no-parking geofence */
  double    marker[2];
  guint     n_lost_drawn;
  int       highlight;    /* the rider's vehicle, or -1 */
  double   *zone_values;  /* a value per zone, 0..1 (dashboard, prices, forecast), or NULL */
  guint     n_zone_values;
  double    value_rgb[3];
  guint     n_prices_drawn, n_offers_drawn;
};

G_DEFINE_FINAL_TYPE (FtOverlayLayer, ft_overlay_layer, SHUMATE_TYPE_LAYER)

static void
proj_poly_clear (gpointer p)
{
  ProjPoly *pp = p;
  g_clear_pointer (&pp->pts, g_array_unref);
}

static ProjPoly
project (const FtMultiPolygon *mp)
{
  ProjPoly pp = { g_array_new (FALSE, FALSE, sizeof (double)), mp->bbox, mp->n_polys > 1 };
  for (guint p = 0; p < mp->n_polys; p++)
    for (guint r = 0; r < mp->polys[p].n_rings; r++)
      {
        const FtRing *ring = &mp->polys[p].rings[r];
        pp.holes |= r > 0;
        for (guint i = 0; i < ring->n; i++)
          {
            double xy[2];
            ft_mercator_from_latlon (ring->pts[i], &xy[0], &xy[1]);
            g_array_append_vals (pp.pts, xy, 2);
          }
        double sep[2] = { NAN, NAN };
        g_array_append_vals (pp.pts, sep, 2);
      }
  return pp;
}

static void
path_poly (cairo_t *cr, const FtMapXform *xf, const ProjPoly *pp)
{
  const double *d = (const double *) pp->pts->data;
  gboolean start = TRUE;
  for (guint i = 0; i + 1 < pp->pts->len; i += 2)
    {
      if (isnan (d[i]))
        {
          cairo_close_path (cr);
          start = TRUE;
          continue;
        }
      double x, y;
      ft_map_xform_apply (xf, d[i], d[i + 1], &x, &y);
      if (start)
        cairo_move_to (cr, x, y);
      else
        cairo_line_to (cr, x, y);
      start = FALSE;
    }
}

static void
heat_colour (double h, double *r, double *g, double *b)
{
  /* light yellow → orange → deep red */
  h = CLAMP (h, 0, 1);
  *r = 1.0;
  *g = 0.92 - 0.75 * h;
  *b = 0.45 - 0.40 * h;
}

static void
ft_overlay_layer_snapshot (GtkWidget *widget, GtkSnapshot *snapshot)
{
  FtOverlayLayer *self = FT_OVERLAY_LAYER (widget);
  ShumateViewport *vp = shumate_layer_get_viewport (SHUMATE_LAYER (self));
  int w = gtk_widget_get_width (widget), h = gtk_widget_get_height (widget);
  if (w <= 0 || h <= 0 || self->flags == 0)
    return;
  FtMapXform xf;
  ft_map_xform_init (&xf, vp, widget);
  cairo_t *cr = gtk_snapshot_append_cairo (snapshot, &GRAPHENE_RECT_INIT (0, 0, w, h));
  cairo_set_line_join (cr, CAIRO_LINE_JOIN_ROUND);
  /* a zone's holes (the sea cut out of it) stay unfilled whatever their winding */
  cairo_set_fill_rule (cr, CAIRO_FILL_RULE_EVEN_ODD);

  if ((self->flags & (FT_OVERLAY_ZONES | FT_OVERLAY_HEAT)) && self->zones)
    for (guint z = 0; z < self->zones->len; z++)
      {
        ProjPoly *pp = &g_array_index (self->zones, ProjPoly, z);
        cairo_new_path (cr);
        path_poly (cr, &xf, pp);
        if ((self->flags & FT_OVERLAY_HEAT) && self->frame && self->frame->zone_heat && z < self->frame->n_zones)
          {
            double r, g, b;
            heat_colour (self->frame->zone_heat[z], &r, &g, &b);
            /* translucent, so the streets stay readable under it */
            cairo_set_source_rgba (cr, r, g, b, 0.06 + 0.26 * self->frame->zone_heat[z]);
            cairo_fill_preserve (cr);
          }
        if (self->flags & FT_OVERLAY_ZONES)
          {
            cairo_set_source_rgba (cr, 0.2, 0.3, 0.6, 0.55);
            cairo_set_line_width (cr, 1.0);
            if (pp->holes)
              {
                /* outline only what is left of the zone: not across the sea */
                cairo_save (cr);
                cairo_clip_preserve (cr);
                cairo_set_line_width (cr, 2.0);   /* half of it inside the clip */
                cairo_stroke (cr);
                cairo_restore (cr);
              }
            else
              cairo_stroke (cr);
          }
        cairo_new_path (cr);
      }

  /* A value per zone (the dashboard's measure, the price multiplier, the
   * forecast error): the more, the stronger the colour. */
  if (self->zone_values && self->zones)
    for (guint z = 0; z < self->zones->len && z < self->n_zone_values; z++)
      {
        double v = self->zone_values[z];
        if (!isfinite (v))
          continue;
        ProjPoly *pp = &g_array_index (self->zones, ProjPoly, z);
        cairo_new_path (cr);
        path_poly (cr, &xf, pp);
        cairo_set_source_rgba (cr, self->value_rgb[0], self->value_rgb[1], self->value_rgb[2],
                               0.08 + 0.5 * CLAMP (v, 0, 1));
        cairo_fill (cr);
      }

  /* Prices: a zone's multiplier above 1 tints it purple (full at the cap)
   * and, where the zone is big enough on screen, writes it ("×1.3"). */
  self->n_prices_drawn = 0;
  if ((self->flags & FT_OVERLAY_PRICES) && self->zones && self->frame && self->frame->zone_price)
    {
      double span = MAX (self->frame->price_cap - 1.0, 0.1);
      cairo_select_font_face (cr, "Sans", CAIRO_FONT_SLANT_NORMAL, CAIRO_FONT_WEIGHT_BOLD);
      cairo_set_font_size (cr, 11);
      for (guint z = 0; z < self->zones->len && z < self->frame->n_zones; z++)
        {
          double m = self->frame->zone_price[z];
          ProjPoly *pp = &g_array_index (self->zones, ProjPoly, z);
          cairo_new_path (cr);
          path_poly (cr, &xf, pp);
          cairo_set_source_rgba (cr, 0.45, 0.1, 0.65, 0.04 + 0.45 * CLAMP ((m - 1.0) / span, 0, 1));
          cairo_fill (cr);
          double x0, y0, x1, y1, cx, cy;
          ft_mercator_from_latlon ((FtLatLon) { pp->bbox.max_lat, pp->bbox.min_lon }, &cx, &cy);
          ft_map_xform_apply (&xf, cx, cy, &x0, &y0);
          ft_mercator_from_latlon ((FtLatLon) { pp->bbox.min_lat, pp->bbox.max_lon }, &cx, &cy);
          ft_map_xform_apply (&xf, cx, cy, &x1, &y1);
          if (x1 - x0 < 36 || x1 < 0 || x0 > w || y1 < 0 || y0 > h)
            continue;
          char label[16];
          g_snprintf (label, sizeof label, "×%.1f", m);
          cairo_text_extents_t te;
          cairo_text_extents (cr, label, &te);
          double tx = (x0 + x1) / 2 - te.width / 2, ty = (y0 + y1) / 2 + te.height / 2;
          cairo_set_source_rgba (cr, 1, 1, 1, 0.85);
          cairo_rectangle (cr, tx - 2, ty - te.height - 2, te.width + 4, te.height + 4);
          cairo_fill (cr);
          cairo_set_source_rgb (cr, 0.35, 0.05, 0.5);
          cairo_move_to (cr, tx, ty);
          cairo_show_text (cr, label);
          self->n_prices_drawn++;
        }
      cairo_new_path (cr);
    }
  /* Offers: green outline where starting a trip is rewarded, magenta where
   * ending one is. */
  self->n_offers_drawn = 0;
  if ((self->flags & FT_OVERLAY_OFFERS) && self->zones && self->frame && self->frame->zone_offer)
    for (guint z = 0; z < self->zones->len && z < self->frame->n_zones; z++)
      {
        guint8 o = self->frame->zone_offer[z];
        if (o == 0)
          continue;
        ProjPoly *pp = &g_array_index (self->zones, ProjPoly, z);
        cairo_new_path (cr);
        path_poly (cr, &xf, pp);
        if (o & FT_FRAME_OFFER_START)
          cairo_set_source_rgba (cr, 0.1, 0.6, 0.2, 0.9);
        else
          cairo_set_source_rgba (cr, 0.8, 0.1, 0.6, 0.9);
        cairo_set_line_width (cr, 3.0);
        double dash[2] = { 8, 4 };
        cairo_set_dash (cr, dash, 2, 0);
        cairo_stroke (cr);
        cairo_set_dash (cr, NULL, 0, 0);
        self->n_offers_drawn++;
      }

  if ((self->flags & FT_OVERLAY_GEOFENCES) && self->fences)
    for (guint z = 0; z < self->fences->len; z++)
      {
        ProjPoly *pp = &g_array_index (self->fences, ProjPoly, z);
        cairo_new_path (cr);
        path_poly (cr, &xf, pp);
        cairo_set_source_rgba (cr, 0.85, 0.1, 0.1, 0.15);
        cairo_fill_preserve (cr);
        cairo_set_source_rgba (cr, 0.75, 0.1, 0.1, 0.8);
        double dash[2] = { 4, 3 };
        cairo_set_dash (cr, dash, 2, 0);
        cairo_set_line_width (cr, 1.5);
        cairo_stroke (cr);
        cairo_set_dash (cr, NULL, 0, 0);
      }

  self->n_lost_drawn = 0;
  if ((self->flags & FT_OVERLAY_LOST) && self->frame)
    {
      /* recent losses dark, older ones fading; faded-out ones not drawn */
      cairo_set_line_width (cr, 1.5);
      for (guint i = 0; i < self->frame->n_lost; i++)
        {
          double x, y;
          double age = self->frame->lost_age ? self->frame->lost_age[i] : 0;
          if (age >= 1)
            continue;
          ft_map_xform_apply (&xf, self->frame->lost[2 * i], self->frame->lost[2 * i + 1], &x, &y);
          if (x < -4 || y < -4 || x > w + 4 || y > h + 4)
            continue;
          cairo_set_source_rgba (cr, 0.1, 0.1, 0.1, 0.8 * (1 - age));
          cairo_move_to (cr, x - 3, y - 3);
          cairo_line_to (cr, x + 3, y + 3);
          cairo_move_to (cr, x + 3, y - 3);
          cairo_line_to (cr, x - 3, y + 3);
          cairo_stroke (cr);
          self->n_lost_drawn++;
        }
    }

  if (self->frame && self->highlight >= 0 && (guint) self->highlight < self->frame->n_vehicles)
    {
      /* the rider's vehicle: a ring the dot sits in */
      double x, y;
      const FtFrameVehicle *fv = &self->frame->vehicles[self->highlight];
      ft_map_xform_apply (&xf, fv->mx, fv->my, &x, &y);
      cairo_new_path (cr);
      cairo_arc (cr, x, y, 11, 0, 2 * G_PI);
      cairo_set_source_rgba (cr, 1, 1, 1, 0.9);
      cairo_set_line_width (cr, 5);
      cairo_stroke_preserve (cr);
      cairo_set_source_rgba (cr, 0.9, 0.3, 0.0, 1);
      cairo_set_line_width (cr, 3);
      cairo_stroke (cr);
    }

  if ((self->flags & FT_OVERLAY_STAFF) && self->frame)
    for (guint i = 0; i < self->frame->n_staff; i++)
      {
        const FtFrameStaff *s = &self->frame->staff[i];
        double x, y;
        ft_map_xform_apply (&xf, s->mx, s->my, &x, &y);
        if (!isnan (s->tx))
          {
            double tx, ty;
            ft_map_xform_apply (&xf, s->tx, s->ty, &tx, &ty);
            cairo_set_source_rgba (cr, 0.0, 0.45, 0.75, 0.85);
            cairo_set_line_width (cr, 2);
            double dash[2] = { 6, 4 };
            cairo_set_dash (cr, dash, 2, 0);
            cairo_move_to (cr, x, y);
            cairo_line_to (cr, tx, ty);
            cairo_stroke (cr);
            cairo_set_dash (cr, NULL, 0, 0);
            cairo_arc (cr, tx, ty, 5, 0, 2 * G_PI);
            cairo_set_source_rgba (cr, 0.0, 0.45, 0.75, 0.9);
            cairo_stroke (cr);
          }
        /* the van: a rounded square with a white outline */
        cairo_new_path (cr);
        cairo_rectangle (cr, x - 6, y - 6, 12, 12);
        cairo_set_source_rgb (cr, s->busy ? 0.0 : 0.35, s->busy ? 0.45 : 0.55, s->busy ? 0.75 : 0.65);
        cairo_fill_preserve (cr);
        cairo_set_source_rgb (cr, 1, 1, 1);
        cairo_set_line_width (cr, 2);
        cairo_stroke (cr);
      }

  if (!isnan (self->marker[0]))
    {
      double x, y;
      ft_map_xform_apply (&xf, self->marker[0], self->marker[1], &x, &y);
      cairo_new_path (cr);
      cairo_move_to (cr, x, y);
      cairo_line_to (cr, x - 7, y - 16);
      cairo_arc (cr, x, y - 18, 7, G_PI, 0);
      cairo_close_path (cr);
      cairo_set_source_rgb (cr, 0.88, 0.11, 0.14);
      cairo_fill_preserve (cr);
      cairo_set_source_rgb (cr, 1, 1, 1);
      cairo_set_line_width (cr, 1.5);
      cairo_stroke (cr);
    }
  cairo_destroy (cr);
}

static void
on_viewport_changed (GObject *obj, GParamSpec *pspec, gpointer data)
{
  gtk_widget_queue_draw (GTK_WIDGET (data));
}

static void
ft_overlay_layer_constructed (GObject *object)
{
  G_OBJECT_CLASS (ft_overlay_layer_parent_class)->constructed (object);
  ShumateViewport *vp = shumate_layer_get_viewport (SHUMATE_LAYER (object));
  const char *props[] = { "notify::zoom-level", "notify::latitude", "notify::longitude", "notify::rotation" };
  for (guint i = 0; i < G_N_ELEMENTS (props); i++)
    g_signal_connect_object (vp, props[i], G_CALLBACK (on_viewport_changed), object, 0);
}

static void
ft_overlay_layer_finalize (GObject *object)
{
  FtOverlayLayer *self = FT_OVERLAY_LAYER (object);
  g_clear_pointer (&self->frame, ft_frame_unref);
  g_clear_pointer (&self->zones, g_array_unref);
  g_clear_pointer (&self->fences, g_array_unref);
  g_free (self->zone_values);
  G_OBJECT_CLASS (ft_overlay_layer_parent_class)->finalize (object);
}

static void
ft_overlay_layer_class_init (FtOverlayLayerClass *klass)
{
  G_OBJECT_CLASS (klass)->constructed = ft_overlay_layer_constructed;
  G_OBJECT_CLASS (klass)->finalize = ft_overlay_layer_finalize;
  GTK_WIDGET_CLASS (klass)->snapshot = ft_overlay_layer_snapshot;
}

static void
ft_overlay_layer_init (FtOverlayLayer *self)
{
  self->flags = FT_OVERLAY_ZONES | FT_OVERLAY_GEOFENCES | FT_OVERLAY_STAFF | FT_OVERLAY_LOST;
  self->marker[0] = self->marker[1] = NAN;
  self->highlight = -1;
  gtk_widget_set_can_target (GTK_WIDGET (self), FALSE);
}

FtOverlayLayer *
ft_overlay_layer_new (ShumateViewport *viewport)
{
  return g_object_new (FT_TYPE_OVERLAY_LAYER, "viewport", viewport, NULL);
}

void
ft_overlay_layer_set_city (FtOverlayLayer *self, const FtCity *city)
{
  g_clear_pointer (&self->zones, g_array_unref);
  g_clear_pointer (&self->fences, g_array_unref);
  self->city = city;
  if (city)
    {
      self->zones = g_array_new (FALSE, FALSE, sizeof (ProjPoly));
      g_array_set_clear_func (self->zones, proj_poly_clear);
      for (guint z = 0; z < city->n_zones; z++)
        {
          ProjPoly pp = project (city->zones[z].area);
          g_array_append_val (self->zones, pp);
        }
      self->fences = g_array_new (FALSE, FALSE, sizeof (ProjPoly));
      g_array_set_clear_func (self->fences, proj_poly_clear);
      if (city->geofences)
        for (guint i = 0; i < ft_geofences_n_zones (city->geofences); i++)
          {
            const FtGeofenceZone *gz = ft_geofences_get (city->geofences, i);
            if (gz->rules.ride_end_allowed)
              continue;
            ProjPoly pp = project (gz->area);
            g_array_append_val (self->fences, pp);
          }
    }
  gtk_widget_queue_draw (GTK_WIDGET (self));
}

void
ft_overlay_layer_set_frame (FtOverlayLayer *self, FtFrame *frame)
{
  if (frame)
    ft_frame_ref (frame);
  g_clear_pointer (&self->frame, ft_frame_unref);
  self->frame = frame;
  gtk_widget_queue_draw (GTK_WIDGET (self));
}

void
ft_overlay_layer_set_flags (FtOverlayLayer *self, guint flags)
{
  self->flags = flags;
  gtk_widget_queue_draw (GTK_WIDGET (self));
}

guint
ft_overlay_layer_get_flags (FtOverlayLayer *self)
{
  return self->flags;
}

int
ft_overlay_layer_pick_staff (FtOverlayLayer *self, double x, double y, double radius)
{
  if (self->frame == NULL)
    return -1;
  FtMapXform xf;
  ft_map_xform_init (&xf, shumate_layer_get_viewport (SHUMATE_LAYER (self)), GTK_WIDGET (self));
  for (guint i = 0; i < self->frame->n_staff; i++)
    {
      double sx, sy;
      ft_map_xform_apply (&xf, self->frame->staff[i].mx, self->frame->staff[i].my, &sx, &sy);
      if (fabs (sx - x) <= radius && fabs (sy - y) <= radius)
        return (int) i;
    }
  return -1;
}

void
ft_overlay_layer_set_marker (FtOverlayLayer *self, double mx, double my)
{
  self->marker[0] = mx;
  self->marker[1] = my;
  gtk_widget_queue_draw (GTK_WIDGET (self));
}

double
ft_overlay_layer_staff_distance (FtOverlayLayer *self, guint s, double x, double y)
{
  if (self->frame == NULL || s >= self->frame->n_staff)
    return INFINITY;
  FtMapXform xf;
  ft_map_xform_init (&xf, shumate_layer_get_viewport (SHUMATE_LAYER (self)), GTK_WIDGET (self));
  double sx, sy;
  ft_map_xform_apply (&xf, self->frame->staff[s].mx, self->frame->staff[s].my, &sx, &sy);
  return hypot (sx - x, sy - y);
}

guint
ft_overlay_layer_get_n_lost_drawn (FtOverlayLayer *self)
{
  return self->n_lost_drawn;
}

void
ft_overlay_layer_set_highlight (FtOverlayLayer *self, int v)
{
  if (self->highlight == v)
    return;
  self->highlight = v;
  gtk_widget_queue_draw (GTK_WIDGET (self));
}

int
ft_overlay_layer_get_highlight (FtOverlayLayer *self)
{
  return self->highlight;
}

void
ft_overlay_layer_set_zone_values (FtOverlayLayer *self, const double *values, guint n, const double rgb[3])
{
  g_return_if_fail (FT_IS_OVERLAY_LAYER (self));
  g_clear_pointer (&self->zone_values, g_free);
  self->n_zone_values = 0;
  if (values && n > 0)
    {
      self->zone_values = g_memdup2 (values, n * sizeof (double));
      self->n_zone_values = n;
      for (int i = 0; i < 3; i++)
        self->value_rgb[i] = rgb ? rgb[i] : 0.2;
    }
  gtk_widget_queue_draw (GTK_WIDGET (self));
}

guint
ft_overlay_layer_get_n_zone_values (FtOverlayLayer *self)
{
  g_return_val_if_fail (FT_IS_OVERLAY_LAYER (self), 0);
  return self->n_zone_values;
}

guint
ft_overlay_layer_get_n_prices_drawn (FtOverlayLayer *self)
{
  return self->n_prices_drawn;
}

guint
ft_overlay_layer_get_n_offers_drawn (FtOverlayLayer *self)
{
  return self->n_offers_drawn;
}
