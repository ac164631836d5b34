/* ft-vehicle-layer.c — all vehicles in one texture. Each snapshot clears a
 * pixel buffer the size of the widget, stamps a small dot per vehicle (3, 5
 * or 7 px by zoom level, outlined from zoom 14), wraps the buffer in a
 * GdkMemoryTexture and appends that single texture. Buffers come from a
 * small pool and return to it when GTK drops the texture, so a frame never
 * overwrites pixels the renderer may still be uploading.
 */
#include "ft-vehicle-layer.h"

#include <math.h>
#include <string.h>

struct _FtVehicleLayer {
  ShumateLayer parent_instance;
  FtFrame   *frame;
  guint8    *selected;       /* per vehicle, sized n_sel */
  guint      n_sel_alloc;
  guint      n_selected;
  guint      n_drawn;
  double     band[4];
  GPtrArray *pool;           /* free pixel buffers of pool_size bytes */
  gsize      pool_size;
  gulong     vp_handlers[4];
};

G_DEFINE_FINAL_TYPE (FtVehicleLayer, ft_vehicle_layer, SHUMATE_TYPE_LAYER)

typedef struct {
  FtVehicleLayer *layer;   /* weak: NULL once the layer is gone */
  guint8         *buf;
  gsize           size;
} PoolBuf;

static void
pool_release (gpointer data)
{
  PoolBuf *pb = data;
  if (pb->layer && pb->size == pb->layer->pool_size && pb->layer->pool->len < 3)
    {
      g_ptr_array_add (pb->layer->pool, pb->buf);
      g_object_remove_weak_pointer (G_OBJECT (pb->layer), (gpointer *) &pb->layer);
    }
  else
    {
      if (pb->layer)
        g_object_remove_weak_pointer (G_OBJECT (pb->layer), (gpointer *) &pb->layer);
      g_free (pb->buf);
    }
  g_free (pb);
}

void
ft_map_xform_init (FtMapXform *xf, ShumateViewport *vp, GtkWidget *widget)
{
  double zoom = shumate_viewport_get_zoom_level (vp);
  ShumateMapSource *src = shumate_viewport_get_reference_map_source (vp);
  double tile = src ? shumate_map_source_get_tile_size (src) : 256.0;
  FtLatLon c = { shumate_location_get_latitude (SHUMATE_LOCATION (vp)),
                 shumate_location_get_longitude (SHUMATE_LOCATION (vp)) };
  ft_mercator_from_latlon (c, &xf->cmx, &xf->cmy);
  xf->scale = tile * pow (2.0, zoom);
  xf->w2 = gtk_widget_get_width (widget) / 2.0;
  xf->h2 = gtk_widget_get_height (widget) / 2.0;
  double r = shumate_viewport_get_rotation (vp);
  xf->cos_r = cos (r);
  xf->sin_r = sin (r);
}

void
ft_map_xform_invert (const FtMapXform *xf, double x, double y, double *mx, double *my)
{
  double dx = x - xf->w2, dy = y - xf->h2;
  double ux = dx * xf->cos_r + dy * xf->sin_r;
  double uy = -dx * xf->sin_r + dy * xf->cos_r;
  *mx = xf->cmx + ux / xf->scale;
  *my = xf->cmy + uy / xf->scale;
}

static inline void
stamp (guint32 *px, int w, int h, int cx, int cy, int r, guint32 fill, guint32 edge)
{
  int x0 = MAX (cx - r, 0), x1 = MIN (cx + r, w - 1);
  int y0 = MAX (cy - r, 0), y1 = MIN (cy + r, h - 1);
  for (int y = y0; y <= y1; y++)
    {
      guint32 *row = px + (gsize) y * w;
      int dy = y - cy;
      for (int x = x0; x <= x1; x++)
        {
          int dx = x - cx;
          int d2 = dx * dx + dy * dy;
          if (r >= 2 && d2 > r * r + 1)
            continue;                          /* round the corners */
          row[x] = (r >= 2 && d2 >= (r - 1) * (r - 1) + 1) ? edge : fill;
        }
    }
}

static void
ft_vehicle_layer_snapshot (GtkWidget *widget, GtkSnapshot *snapshot)
{
  FtVehicleLayer *self = FT_VEHICLE_LAYER (widget);
  ShumateViewport *vp = shumate_layer_get_viewport (SHUMATE_LAYER (self));
  int w = gtk_widget_get_width (widget), h = gtk_widget_get_height (widget);

  self->n_drawn = 0;
  if (self->frame == NULL || vp == NULL || w <= 0 || h <= 0)
    return;

  gsize size = (gsize) w * h * 4;
  if (size != self->pool_size)
    {
      g_ptr_array_set_size (self->pool, 0);
      self->pool_size = size;
    }
  guint8 *buf = self->pool->len > 0 ? g_ptr_array_steal_index_fast (self->pool, self->pool->len - 1)
                                    : g_malloc (size);
  memset (buf, 0, size);
  guint32 *px = (guint32 *) buf;

  FtMapXform xf;
  ft_map_xform_init (&xf, vp, widget);
  double zoom = shumate_viewport_get_zoom_level (vp);
  int r = zoom < 13.5 ? 1 : zoom < 15.5 ? 2 : 3;

  guint32 fill[FT_N_DOTS], edge[FT_N_DOTS];
  for (int i = 0; i < FT_N_DOTS; i++)
    {
      guint32 c = ft_dot_rgb[i];
      fill[i] = 0xff000000u | c;
      guint32 rr = ((c >> 16) & 0xff) * 6 / 10, gg = ((c >> 8) & 0xff) * 6 / 10, bb = (c & 0xff) * 6 / 10;
      edge[i] = 0xff000000u | (rr << 16) | (gg << 8) | bb;
    }

  const FtFrameVehicle *v = self->frame->vehicles;
  guint n = self->frame->n_vehicles, drawn = 0;
  int bx0 = w, by0 = h, bx1 = -1, by1 = -1;   /* bounds of what was stamped */
  gboolean have_sel = self->n_selected > 0 && self->n_sel_alloc >= n;
  for (guint i = 0; i < n; i++)
    {
      double x, y;
      ft_map_xform_apply (&xf, v[i].mx, v[i].my, &x, &y);
      if (x < -r || y < -r || x >= w + r || y >= h + r)
        continue;
      int ix = (int) x, iy = (int) y;
      guint d = v[i].dot < FT_N_DOTS ? v[i].dot : FT_DOT_OTHER;
      if (have_sel && self->selected[i])
        stamp (px, w, h, ix, iy, r + 2, 0xffffffffu, 0xff000000u);
      stamp (px, w, h, ix, iy, r, fill[d], edge[d]);
      bx0 = MIN (bx0, ix);
      by0 = MIN (by0, iy);
      bx1 = MAX (bx1, ix);
      by1 = MAX (by1, iy);
      drawn++;
    }
  self->n_drawn = drawn;
  /* Upload only the rows and columns that hold dots (selection rings included). */
  int pad = r + 3;
  bx0 = MAX (bx0 - pad, 0);
  by0 = MAX (by0 - pad, 0);
  bx1 = MIN (bx1 + pad, w - 1);
  by1 = MIN (by1 + pad, h - 1);

  PoolBuf *pb = g_new0 (PoolBuf, 1);
  pb->layer = self;
  pb->buf = buf;
  pb->size = size;
  g_object_add_weak_pointer (G_OBJECT (self), (gpointer *) &pb->layer);
  g_autoptr(GBytes) bytes = g_bytes_new_with_free_func (buf, size, pool_release, pb);
  if (drawn > 0)
    {
      gsize offset = ((gsize) by0 * w + bx0) * 4;
      int tw = bx1 - bx0 + 1, th = by1 - by0 + 1;
      g_autoptr(GBytes) sub = g_bytes_new_from_bytes (bytes, offset, size - offset);
      g_autoptr(GdkTexture) tex = gdk_memory_texture_new (tw, th, GDK_MEMORY_DEFAULT, sub, (gsize) w * 4);
      gtk_snapshot_append_texture (snapshot, tex, &GRAPHENE_RECT_INIT (bx0, by0, tw, th));
    }

  if (self->band[2] != self->band[0] && self->band[3] != self->band[1])
    {
      graphene_rect_t rc = GRAPHENE_RECT_INIT (MIN (self->band[0], self->band[2]),
                                               MIN (self->band[1], self->band[3]),
                                               fabs (self->band[2] - self->band[0]),
                                               fabs (self->band[3] - self->band[1]));
      GdkRGBA fillc = { 0.2, 0.5, 0.9, 0.15 }, line = { 0.2, 0.5, 0.9, 0.9 };
      gtk_snapshot_append_color (snapshot, &fillc, &rc);
      GskRoundedRect rr;
      gsk_rounded_rect_init_from_rect (&rr, &rc, 0);
      float bw[4] = { 1, 1, 1, 1 };
      GdkRGBA bc[4] = { line, line, line, line };
      gtk_snapshot_append_border (snapshot, &rr, bw, bc);
    }
}

static void
on_viewport_changed (GObject *obj, GParamSpec *pspec, gpointer data)
{
  gtk_widget_queue_draw (GTK_WIDGET (data));
}

static void
ft_vehicle_layer_constructed (GObject *object)
{
  FtVehicleLayer *self = FT_VEHICLE_LAYER (object);
  G_OBJECT_CLASS (ft_vehicle_layer_parent_class)->constructed (object);
  ShumateViewport *vp = shumate_layer_get_viewport (SHUMATE_LAYER (self));
  const char *props[] = { "notify::zoom-level", "notify::latitude", "notify::longitude", "notify::rotation" };
  for (guint i = 0; i < G_N_ELEMENTS (props); i++)
    self->vp_handlers[i] = g_signal_connect_object (vp, props[i], G_CALLBACK (on_viewport_changed), self, 0);
}

static void
ft_vehicle_layer_finalize (GObject *object)
{
  FtVehicleLayer *self = FT_VEHICLE_LAYER (object);
  g_clear_pointer (&self->frame, ft_frame_unref);
  g_free (self->selected);
  g_ptr_array_unref (self->pool);
  G_OBJECT_CLASS (ft_vehicle_layer_parent_class)->finalize (object);
}

static void
ft_vehicle_layer_class_init (FtVehicleLayerClass *klass)
{
  G_OBJECT_CLASS (klass)->constructed = ft_vehicle_layer_constructed;
  G_OBJECT_CLASS (klass)->finalize = ft_vehicle_layer_finalize;
  GTK_WIDGET_CLASS (klass)->snapshot = ft_vehicle_layer_snapshot;
}

static void
ft_vehicle_layer_init (FtVehicleLayer *self)
{
  self->pool = g_ptr_array_new_with_free_func (g_free);
  gtk_widget_set_can_target (GTK_WIDGET (self), FALSE);
}

FtVehicleLayer *
ft_vehicle_layer_new (ShumateViewport *viewport)
{
  return g_object_new (FT_TYPE_VEHICLE_LAYER, "viewport", viewport, NULL);
}

void
ft_vehicle_layer_set_frame (FtVehicleLayer *self, FtFrame *frame)
{
  g_return_if_fail (FT_IS_VEHICLE_LAYER (self));
  if (frame)
    ft_frame_ref (frame);
  g_clear_pointer (&self->frame, ft_frame_unref);
  self->frame = frame;
  if (frame && frame->n_vehicles > self->n_sel_alloc)
    {
      self->selected = g_realloc (self->selected, frame->n_vehicles);
      memset (self->selected + self->n_sel_alloc, 0, frame->n_vehicles - self->n_sel_alloc);
      self->n_sel_alloc = frame->n_vehicles;
    }
  gtk_widget_queue_draw (GTK_WIDGET (self));
}

FtFrame *
ft_vehicle_layer_get_frame (FtVehicleLayer *self)
{
  return self->frame;
}

guint
ft_vehicle_layer_get_n_drawn (FtVehicleLayer *self)
{
  return self->n_drawn;
}

gboolean
ft_vehicle_layer_vehicle_coords (FtVehicleLayer *self, guint v, double *x, double *y)
{
  if (self->frame == NULL || v >= self->frame->n_vehicles)
    return FALSE;
  FtMapXform xf;
  ft_map_xform_init (&xf, shumate_layer_get_viewport (SHUMATE_LAYER (self)), GTK_WIDGET (self));
  ft_map_xform_apply (&xf, self->frame->vehicles[v].mx, self->frame->vehicles[v].my, x, y);
  return TRUE;
}

int
ft_vehicle_layer_pick (FtVehicleLayer *self, double x, double y, double radius)
{
  if (self->frame == NULL)
    return -1;
  FtMapXform xf;
  ft_map_xform_init (&xf, shumate_layer_get_viewport (SHUMATE_LAYER (self)), GTK_WIDGET (self));
  int best = -1;
  double best_d2 = radius * radius;
  for (guint i = 0; i < self->frame->n_vehicles; i++)
    {
      double vx, vy;
      ft_map_xform_apply (&xf, self->frame->vehicles[i].mx, self->frame->vehicles[i].my, &vx, &vy);
      double d2 = (vx - x) * (vx - x) + (vy - y) * (vy - y);
      if (d2 <= best_d2)
        {
          best_d2 = d2;
          best = (int) i;
        }
    }
  return best;
}

void
ft_vehicle_layer_clear_selection (FtVehicleLayer *self)
{
  if (self->selected)
    memset (self->selected, 0, self->n_sel_alloc);
  self->n_selected = 0;
  gtk_widget_queue_draw (GTK_WIDGET (self));
}

void
ft_vehicle_layer_toggle (FtVehicleLayer *self, guint v)
{
  if (v >= self->n_sel_alloc)
    return;
  self->selected[v] = !self->selected[v];
  self->n_selected += self->selected[v] ? 1 : -1;
  gtk_widget_queue_draw (GTK_WIDGET (self));
}

guint
ft_vehicle_layer_select_rect (FtVehicleLayer *self, double x0, double y0, double x1, double y1)
{
  if (self->frame == NULL)
    return 0;
  FtMapXform xf;
  ft_map_xform_init (&xf, shumate_layer_get_viewport (SHUMATE_LAYER (self)), GTK_WIDGET (self));
  double ax = MIN (x0, x1), bx = MAX (x0, x1), ay = MIN (y0, y1), by = MAX (y0, y1);
  guint added = 0;
  for (guint i = 0; i < self->frame->n_vehicles && i < self->n_sel_alloc; i++)
    {
      double vx, vy;
      ft_map_xform_apply (&xf, self->frame->vehicles[i].mx, self->frame->vehicles[i].my, &vx, &vy);
      if (vx >= ax && vx <= bx && vy >= ay && vy <= by && !self->selected[i])
        {
          self->selected[i] = 1;
          added++;
        }
    }
  self->n_selected += added;
  gtk_widget_queue_draw (GTK_WIDGET (self));
  return added;
}

GArray *
ft_vehicle_layer_dup_selection (FtVehicleLayer *self)
{
  GArray *a = g_array_new (FALSE, FALSE, sizeof (guint));
  for (guint i = 0; i < self->n_sel_alloc; i++)
    if (self->selected[i])
      g_array_append_val (a, i);
  return a;
}

guint
ft_vehicle_layer_get_n_selected (FtVehicleLayer *self)
{
  return self->n_selected;
}

void
ft_vehicle_layer_set_band (FtVehicleLayer *self, double x0, double y0, double x1, double y1)
{
  self->band[0] = x0;
  self->band[1] = y0;
  self->band[2] = x1;
  self->band[3] = y1;
  gtk_widget_queue_draw (GTK_WIDGET (self));
}
