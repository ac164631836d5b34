/* ft-vehicle-layer.c — all vehicles in one raster. The layer stamps a small
 * dot per vehicle (3, 5 or 7 px by zoom level, outlined from zoom 14) into a
 * CPU pixel buffer the size of the widget and appends that buffer as ONE
 * node: a cairo node painting the buffer when the window uses the cairo
 * renderer (no per-frame texture copy), a GdkMemoryTexture otherwise.
 *
 * Per-frame cost is kept off the hot path:
 *  - buffers are a ring of three cairo image surfaces reused across frames;
 *    only the rectangle dotted last time is cleared, never the whole buffer;
 *  - a re-raster happens only when the data (frame, selection) or the
 *    geometry (zoom, rotation, size) changed, at most max-raster-hz times a
 *    second (30 by default); in between, the last raster is drawn translated
 *    by the viewport's pan, so panning and the tile layer stay at display
 *    rate while vehicle motion updates at ≤30 Hz;
 *  - a frame held back by the rate limit is drawn from a one-shot tick, so
 *    the last frame always shows.
 */
#include "ft-vehicle-layer.h"

#include <math.h>
#include <string.h>

#define N_RASTERS 3

typedef struct {
  cairo_surface_t *surf;     /* ARGB32, widget size; NULL until first use */
  int x0, y0, x1, y1;        /* rectangle holding dots (x1 < x0: clean) */
} Raster;

struct _FtVehicleLayer {
  ShumateLayer parent_instance;
  FtFrame   *frame;
  guint8    *selected;       /* per vehicle, sized n_sel */
  guint      n_sel_alloc;
  guint      n_selected;
  guint      n_drawn;
  double     band[4];
  gulong     vp_handlers[4];
  /* raster cache */
  Raster     rasters[N_RASTERS];
  int        cur;            /* ring slot of the raster on screen, -1: none */
  int        rw, rh;         /* size of the ring's surfaces */
  FtMapXform raster_xf;      /* projection the current raster was made with */
  int        raster_r;
  gint64     raster_time;    /* µs, monotonic */
  guint      data_gen, raster_gen;
  gboolean   force;          /* next snapshot re-rasters regardless of rate */
  double     max_hz;         /* ≤0: re-raster on every change */
  guint      pending_tick;
  guint      n_rasters;      /* statistics for the benchmark */
  gint64     raster_us;
};

G_DEFINE_FINAL_TYPE (FtVehicleLayer, ft_vehicle_layer, SHUMATE_TYPE_LAYER)

const char *
ft_map_choose_renderer (void)
{
  const char *cur = g_getenv ("GSK_RENDERER");
  if (cur == NULL || *cur == '\0')
    {
      gboolean gpu = FALSE;
      GDir *d = g_dir_open ("/dev/dri", 0, NULL);
      if (d)
        {
          const char *n;
          while ((n = g_dir_read_name (d)) != NULL)
            if (g_str_has_prefix (n, "renderD"))
              gpu = TRUE;
          g_dir_close (d);
        }
      if (g_getenv ("LIBGL_ALWAYS_SOFTWARE") != NULL)
        gpu = FALSE;
      if (!gpu)
        g_setenv ("GSK_RENDERER", "cairo", FALSE);
    }
  cur = g_getenv ("GSK_RENDERER");
  return cur && *cur ? cur : "default (GL)";
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

/* A ring slot free for writing: its surface is the right size and no
 * texture still holds it (a texture keeps a reference until GTK drops it). */
static Raster *
take_raster (FtVehicleLayer *self, int w, int h)
{
  if (w != self->rw || h != self->rh)
    {
      for (int i = 0; i < N_RASTERS; i++)
        g_clear_pointer (&self->rasters[i].surf, cairo_surface_destroy);
      self->rw = w;
      self->rh = h;
      self->cur = -1;
    }
  int slot = (self->cur + 1) % N_RASTERS;
  Raster *ra = &self->rasters[slot];
  if (ra->surf && cairo_surface_get_reference_count (ra->surf) > 1)
    g_clear_pointer (&ra->surf, cairo_surface_destroy);   /* still uploaded from: leave it */
  if (ra->surf == NULL)
    {
      ra->surf = cairo_image_surface_create (CAIRO_FORMAT_ARGB32, w, h);
      ra->x0 = 0;
      ra->y0 = 0;
      ra->x1 = -1;
      ra->y1 = -1;
    }
  /* Detaches any cairo snapshot of the old contents before we write. */
  cairo_surface_flush (ra->surf);
  int stride = cairo_image_surface_get_stride (ra->surf);
  guint8 *data = cairo_image_surface_get_data (ra->surf);
  for (int y = ra->y0; y <= ra->y1; y++)
    memset (data + (gsize) y * stride + (gsize) ra->x0 * 4, 0, (gsize) (ra->x1 - ra->x0 + 1) * 4);
  ra->x0 = 0;
  ra->y0 = 0;
  ra->x1 = -1;
  ra->y1 = -1;
  self->cur = slot;
  return ra;
}

static void
raster_vehicles (FtVehicleLayer *self, const FtMapXform *xf, double zoom, int w, int h)
{
  gint64 t0 = g_get_monotonic_time ();
  Raster *ra = take_raster (self, w, h);
  int stride = cairo_image_surface_get_stride (ra->surf);
  guint32 *px = (guint32 *) cairo_image_surface_get_data (ra->surf);
  int r = zoom < 13.5 ? 1 : zoom < 15.5 ? 2 : 3;

  guint32 fill[FT_N_DOTS], edge[FT_N_DOTS];
  for (int i = 0; i < FT_N_DOTS; i++)
    {
      guint32 c = ft_dot_rgb[i];
      fill[i] = 0xff000000u | c;
      guint32 rr = ((c >> 16) & 0xff) * 6 / 10, gg = ((c >> 8) & 0xff) * 6 / 10, bb = (c & 0xff) * 6 / 10;
      edge[i] = 0xff000000u | (rr << 16) | (gg << 8) | bb;
    }

  guint drawn = 0;
  int bx0 = w, by0 = h, bx1 = -1, by1 = -1;   /* bounds of what was stamped */
  if (self->frame)
    {
      const FtFrameVehicle *v = self->frame->vehicles;
      guint n = self->frame->n_vehicles;
      gboolean have_sel = self->n_selected > 0 && self->n_sel_alloc >= n;
      g_assert (stride == w * 4);
      for (guint i = 0; i < n; i++)
        {
          double x, y;
          ft_map_xform_apply (xf, v[i].mx, v[i].my, &x, &y);
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
    }
  if (drawn > 0)
    {
      int pad = r + 3;   /* selection rings included */
      ra->x0 = MAX (bx0 - pad, 0);
      ra->y0 = MAX (by0 - pad, 0);
      ra->x1 = MIN (bx1 + pad, w - 1);
      ra->y1 = MIN (by1 + pad, h - 1);
    }
  cairo_surface_mark_dirty (ra->surf);
  self->n_drawn = drawn;
  self->raster_xf = *xf;
  self->raster_r = r;
  self->raster_gen = self->data_gen;
  self->raster_time = g_get_monotonic_time ();
  self->force = FALSE;
  self->n_rasters++;
  self->raster_us += self->raster_time - t0;
}

static void
texture_bytes_free (gpointer data)
{
  cairo_surface_destroy (data);
}

static gboolean
pending_tick_cb (GtkWidget *widget, GdkFrameClock *clock, gpointer data)
{
  FtVehicleLayer *self = FT_VEHICLE_LAYER (widget);
  self->pending_tick = 0;
  gtk_widget_queue_draw (widget);
  return G_SOURCE_REMOVE;
}

static void
ft_vehicle_layer_snapshot (GtkWidget *widget, GtkSnapshot *snapshot)
{
  FtVehicleLayer *self = FT_VEHICLE_LAYER (widget);
  ShumateViewport *vp = shumate_layer_get_viewport (SHUMATE_LAYER (self));
  int w = gtk_widget_get_width (widget), h = gtk_widget_get_height (widget);

  if (self->frame == NULL || vp == NULL || w <= 0 || h <= 0)
    {
      self->n_drawn = 0;
      self->cur = -1;
    }
  else
    {
      FtMapXform xf;
      ft_map_xform_init (&xf, vp, widget);
      double zoom = shumate_viewport_get_zoom_level (vp);
      gint64 now = g_get_monotonic_time ();
      const FtMapXform *rx = &self->raster_xf;
      gboolean same_geometry = self->cur >= 0 && w == self->rw && h == self->rh &&
                               xf.scale == rx->scale && xf.cos_r == rx->cos_r && xf.sin_r == rx->sin_r;
      gboolean moved = !same_geometry || xf.cmx != rx->cmx || xf.cmy != rx->cmy;
      gboolean stale = self->data_gen != self->raster_gen || moved;
      /* 4 ms of slack so a 60 Hz display re-rasters on every other frame. */
      gint64 min_gap = self->max_hz > 0 ? (gint64) (1e6 / self->max_hz) - 4000 : 0;
      if (!same_geometry || self->force || (stale && now - self->raster_time >= min_gap))
        raster_vehicles (self, &xf, zoom, w, h);
      else if (stale && self->pending_tick == 0)
        self->pending_tick = gtk_widget_add_tick_callback (widget, pending_tick_cb, NULL, NULL);

      Raster *ra = &self->rasters[self->cur];
      if (ra->x1 >= ra->x0)
        {
          /* Where the raster's reference point is now: pans are a translation. */
          double ox, oy;
          ft_map_xform_apply (&xf, rx->cmx, rx->cmy, &ox, &oy);
          ox = nearbyint (ox - xf.w2);   /* whole pixels: no resampling blur */
          oy = nearbyint (oy - xf.h2);
          int tw = ra->x1 - ra->x0 + 1, th = ra->y1 - ra->y0 + 1;
          GtkNative *native = gtk_widget_get_native (widget);
          GskRenderer *renderer = native ? gtk_native_get_renderer (native) : NULL;
          gtk_snapshot_save (snapshot);
          gtk_snapshot_translate (snapshot, &GRAPHENE_POINT_INIT ((float) ox, (float) oy));
          if (renderer && GSK_IS_CAIRO_RENDERER (renderer))
            {
              cairo_t *cr = gtk_snapshot_append_cairo (snapshot, &GRAPHENE_RECT_INIT (ra->x0, ra->y0, tw, th));
              cairo_set_source_surface (cr, ra->surf, 0, 0);
              cairo_rectangle (cr, ra->x0, ra->y0, tw, th);
              cairo_fill (cr);
              cairo_destroy (cr);
            }
          else
            {
              int stride = cairo_image_surface_get_stride (ra->surf);
              gsize offset = (gsize) ra->y0 * stride + (gsize) ra->x0 * 4;
              gsize len = (gsize) (th - 1) * stride + (gsize) tw * 4;
              g_autoptr(GBytes) bytes = g_bytes_new_with_free_func (
                  cairo_image_surface_get_data (ra->surf) + offset, len,
                  texture_bytes_free, cairo_surface_reference (ra->surf));
              g_autoptr(GdkTexture) tex = gdk_memory_texture_new (tw, th, GDK_MEMORY_DEFAULT, bytes, stride);
              gtk_snapshot_append_texture (snapshot, tex, &GRAPHENE_RECT_INIT (ra->x0, ra->y0, tw, th));
            }
          gtk_snapshot_restore (snapshot);
        }
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
ft_vehicle_layer_dispose (GObject *object)
{
  FtVehicleLayer *self = FT_VEHICLE_LAYER (object);
  if (self->pending_tick)
    {
      gtk_widget_remove_tick_callback (GTK_WIDGET (self), self->pending_tick);
      self->pending_tick = 0;
    }
  G_OBJECT_CLASS (ft_vehicle_layer_parent_class)->dispose (object);
}

static void
ft_vehicle_layer_finalize (GObject *object)
{
  FtVehicleLayer *self = FT_VEHICLE_LAYER (object);
  g_clear_pointer (&self->frame, ft_frame_unref);
  g_free (self->selected);
  for (int i = 0; i < N_RASTERS; i++)
    g_clear_pointer (&self->rasters[i].surf, cairo_surface_destroy);
  G_OBJECT_CLASS (ft_vehicle_layer_parent_class)->finalize (object);
}

static void
ft_vehicle_layer_class_init (FtVehicleLayerClass *klass)
{
  G_OBJECT_CLASS (klass)->constructed = ft_vehicle_layer_constructed;
  G_OBJECT_CLASS (klass)->dispose = ft_vehicle_layer_dispose;
  G_OBJECT_CLASS (klass)->finalize = ft_vehicle_layer_finalize;
  GTK_WIDGET_CLASS (klass)->snapshot = ft_vehicle_layer_snapshot;
}

static void
ft_vehicle_layer_init (FtVehicleLayer *self)
{
  self->cur = -1;
  self->max_hz = 30;
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
  self->data_gen++;
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
  self->data_gen++;
  self->force = TRUE;
  gtk_widget_queue_draw (GTK_WIDGET (self));
}

void
ft_vehicle_layer_toggle (FtVehicleLayer *self, guint v)
{
  if (v >= self->n_sel_alloc)
    return;
  self->selected[v] = !self->selected[v];
  self->n_selected += self->selected[v] ? 1 : -1;
  self->data_gen++;
  self->force = TRUE;
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
  self->data_gen++;
  self->force = TRUE;
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

void
ft_vehicle_layer_set_max_raster_hz (FtVehicleLayer *self, double hz)
{
  g_return_if_fail (FT_IS_VEHICLE_LAYER (self));
  self->max_hz = hz;
  gtk_widget_queue_draw (GTK_WIDGET (self));
}

void
ft_vehicle_layer_get_raster_stats (FtVehicleLayer *self, guint *n_rasters, double *mean_ms)
{
  g_return_if_fail (FT_IS_VEHICLE_LAYER (self));
  if (n_rasters)
    *n_rasters = self->n_rasters;
  if (mean_ms)
    *mean_ms = self->n_rasters ? self->raster_us / 1000.0 / self->n_rasters : 0;
}

void
ft_vehicle_layer_reset_raster_stats (FtVehicleLayer *self)
{
  g_return_if_fail (FT_IS_VEHICLE_LAYER (self));
  self->n_rasters = 0;
  self->raster_us = 0;
}
