/* ft-tile-source.c — MBTiles-backed ShumateDataSource. Reads are done on the
 * main thread (an indexed SQLite lookup of a few kilobytes takes well under
 * a millisecond) and the `received-data` signal is emitted there too, which
 * ShumateRasterRenderer needs before it shows a tile. Tiles outside the
 * baked area get a plain land-coloured tile so the map never shows holes.
 * Under the cairo renderer the map source is FtTileMapSource below (tiles
 * decoded once into cairo surfaces), otherwise a ShumateRasterRenderer.
 */
#include "ft-tile-source.h"
#include "ft-tiles.h"

#include <cairo.h>
#include <string.h>

struct _FtTileSource {
  ShumateDataSource parent_instance;
  FtTiles *tiles;
  char    *path;
  int      min_zoom, max_zoom;
  guint64  n_served, n_missing;
  GBytes  *blank;
};

G_DEFINE_FINAL_TYPE (FtTileSource, ft_tile_source, SHUMATE_TYPE_DATA_SOURCE)

static cairo_status_t
blank_write_cb (void *closure, const unsigned char *data, unsigned int length)
{
  g_byte_array_append (closure, data, length);
  return CAIRO_STATUS_SUCCESS;
}

/* A plain tile of the baker's land colour. */
static GBytes *
make_blank_png (void)
{
  cairo_surface_t *s = cairo_image_surface_create (CAIRO_FORMAT_RGB24, FT_TILES_SIZE, FT_TILES_SIZE);
  cairo_t *cr = cairo_create (s);
  cairo_set_source_rgb (cr, 0.949, 0.937, 0.914);
  cairo_paint (cr);
  cairo_destroy (cr);
  GByteArray *buf = g_byte_array_new ();
  cairo_surface_write_to_png_stream (s, blank_write_cb, buf);
  cairo_surface_destroy (s);
  return g_byte_array_free_to_bytes (buf);
}

static void
ft_tile_source_get_tile_data_async (ShumateDataSource *source, int x, int y, int zoom,
                                    GCancellable *cancellable, GAsyncReadyCallback callback,
                                    gpointer user_data)
{
  FtTileSource *self = FT_TILE_SOURCE (source);
  g_autoptr(GTask) task = g_task_new (self, cancellable, callback, user_data);
  g_task_set_source_tag (task, ft_tile_source_get_tile_data_async);

  GBytes *bytes = ft_tiles_get (self->tiles, zoom, x, y);
  if (bytes)
    self->n_served++;
  else
    {
      self->n_missing++;
      bytes = g_bytes_ref (self->blank);
    }
  g_signal_emit_by_name (self, "received-data", x, y, zoom, bytes);
  g_task_return_pointer (task, bytes, (GDestroyNotify) g_bytes_unref);
}

static GBytes *
ft_tile_source_get_tile_data_finish (ShumateDataSource *source, GAsyncResult *result, GError **error)
{
  return g_task_propagate_pointer (G_TASK (result), error);
}

static void
ft_tile_source_finalize (GObject *object)
{
  FtTileSource *self = FT_TILE_SOURCE (object);
  ft_tiles_free (self->tiles);
  g_free (self->path);
  g_bytes_unref (self->blank);
  G_OBJECT_CLASS (ft_tile_source_parent_class)->finalize (object);
}

static void
ft_tile_source_class_init (FtTileSourceClass *klass)
{
  ShumateDataSourceClass *ds = SHUMATE_DATA_SOURCE_CLASS (klass);
  G_OBJECT_CLASS (klass)->finalize = ft_tile_source_finalize;
  ds->get_tile_data_async = ft_tile_source_get_tile_data_async;
  ds->get_tile_data_finish = ft_tile_source_get_tile_data_finish;
}

static void
ft_tile_source_init (FtTileSource *self)
{
  self->blank = make_blank_png ();
}

FtTileSource *
ft_tile_source_new (const char *mbtiles_path, GError **error)
{
  g_return_val_if_fail (mbtiles_path != NULL, NULL);
  FtTiles *t = ft_tiles_open (mbtiles_path, error);
  if (t == NULL)
    return NULL;
  FtTileSource *self = g_object_new (FT_TYPE_TILE_SOURCE, NULL);
  self->tiles = t;
  self->path = g_strdup (mbtiles_path);
  self->min_zoom = ft_tiles_get_min_zoom (t);
  self->max_zoom = ft_tiles_get_max_zoom (t);
  return self;
}

const char *
ft_tile_source_get_path (FtTileSource *self)
{
  return self->path;
}

int
ft_tile_source_get_min_zoom (FtTileSource *self)
{
  return self->min_zoom;
}

int
ft_tile_source_get_max_zoom (FtTileSource *self)
{
  return self->max_zoom;
}

guint64
ft_tile_source_get_n_served (FtTileSource *self)
{
  return self->n_served;
}

guint64
ft_tile_source_get_n_missing (FtTileSource *self)
{
  return self->n_missing;
}

/* ---- cairo-renderer path ---------------------------------------------
 * ShumateRasterRenderer turns each tile into an RGB GdkTexture; GTK 4.8's
 * cairo renderer then converts and copies every visible tile, RGB → BGRA,
 * on EVERY frame (perf: ~15 % of the frame in that loop, plus page faults).
 * Under the cairo renderer the tiles are instead decoded once into cairo
 * image surfaces and drawn by a paintable that appends a cairo node painting
 * that surface: pixman composites straight from it, nothing is converted or
 * copied per frame. libshumate only calls gdk_paintable_snapshot on a tile's
 * paintable, so any GdkPaintable will do. */

#define FT_TYPE_TILE_PAINTABLE (ft_tile_paintable_get_type ())
G_DECLARE_FINAL_TYPE (FtTilePaintable, ft_tile_paintable, FT, TILE_PAINTABLE, GObject)

struct _FtTilePaintable {
  GObject          parent_instance;
  cairo_surface_t *surf;
};

static void ft_tile_paintable_iface_init (GdkPaintableInterface *iface);
G_DEFINE_FINAL_TYPE_WITH_CODE (FtTilePaintable, ft_tile_paintable, G_TYPE_OBJECT,
                               G_IMPLEMENT_INTERFACE (GDK_TYPE_PAINTABLE, ft_tile_paintable_iface_init))

static void
ft_tile_paintable_snapshot (GdkPaintable *paintable, GdkSnapshot *snapshot, double width, double height)
{
  FtTilePaintable *self = FT_TILE_PAINTABLE (paintable);
  int sw = cairo_image_surface_get_width (self->surf), sh = cairo_image_surface_get_height (self->surf);
  if (width <= 0 || height <= 0 || sw <= 0 || sh <= 0)
    return;
  cairo_t *cr = gtk_snapshot_append_cairo (GTK_SNAPSHOT (snapshot), &GRAPHENE_RECT_INIT (0, 0, width, height));
  cairo_scale (cr, width / sw, height / sh);
  cairo_set_source_surface (cr, self->surf, 0, 0);
  cairo_pattern_set_filter (cairo_get_source (cr), CAIRO_FILTER_BILINEAR);
  cairo_paint (cr);
  cairo_destroy (cr);
}

static int
ft_tile_paintable_get_intrinsic_width (GdkPaintable *paintable)
{
  return cairo_image_surface_get_width (FT_TILE_PAINTABLE (paintable)->surf);
}

static int
ft_tile_paintable_get_intrinsic_height (GdkPaintable *paintable)
{
  return cairo_image_surface_get_height (FT_TILE_PAINTABLE (paintable)->surf);
}

static GdkPaintableFlags
ft_tile_paintable_get_flags (GdkPaintable *paintable)
{
  return GDK_PAINTABLE_STATIC_SIZE | GDK_PAINTABLE_STATIC_CONTENTS;
}

static void
ft_tile_paintable_iface_init (GdkPaintableInterface *iface)
{
  iface->snapshot = ft_tile_paintable_snapshot;
  iface->get_intrinsic_width = ft_tile_paintable_get_intrinsic_width;
  iface->get_intrinsic_height = ft_tile_paintable_get_intrinsic_height;
  iface->get_flags = ft_tile_paintable_get_flags;
}

static void
ft_tile_paintable_finalize (GObject *object)
{
  g_clear_pointer (&FT_TILE_PAINTABLE (object)->surf, cairo_surface_destroy);
  G_OBJECT_CLASS (ft_tile_paintable_parent_class)->finalize (object);
}

static void
ft_tile_paintable_class_init (FtTilePaintableClass *klass)
{
  G_OBJECT_CLASS (klass)->finalize = ft_tile_paintable_finalize;
}

static void
ft_tile_paintable_init (FtTilePaintable *self)
{
}

typedef struct {
  const guint8 *data;
  gsize         len, pos;
} PngReader;

static cairo_status_t
png_read_cb (void *closure, unsigned char *data, unsigned int length)
{
  PngReader *r = closure;
  if (r->pos + length > r->len)
    return CAIRO_STATUS_READ_ERROR;
  memcpy (data, r->data + r->pos, length);
  r->pos += length;
  return CAIRO_STATUS_SUCCESS;
}

#define FT_TYPE_TILE_MAP_SOURCE (ft_tile_map_source_get_type ())
G_DECLARE_FINAL_TYPE (FtTileMapSource, ft_tile_map_source, FT, TILE_MAP_SOURCE, ShumateMapSource)

struct _FtTileMapSource {
  ShumateMapSource parent_instance;
  FtTileSource    *tiles;
  cairo_surface_t *blank;
};

G_DEFINE_FINAL_TYPE (FtTileMapSource, ft_tile_map_source, SHUMATE_TYPE_MAP_SOURCE)

static void
ft_tile_map_source_fill_tile_async (ShumateMapSource *source, ShumateTile *tile, GCancellable *cancellable,
                                    GAsyncReadyCallback callback, gpointer user_data)
{
  FtTileMapSource *self = FT_TILE_MAP_SOURCE (source);
  g_autoptr(GTask) task = g_task_new (self, cancellable, callback, user_data);
  g_task_set_source_tag (task, ft_tile_map_source_fill_tile_async);
  FtTileSource *ts = self->tiles;
  g_autoptr(GBytes) bytes = ft_tiles_get (ts->tiles, (int) shumate_tile_get_zoom_level (tile),
                                          (int) shumate_tile_get_x (tile), (int) shumate_tile_get_y (tile));
  cairo_surface_t *surf = NULL;
  if (bytes)
    {
      ts->n_served++;
      PngReader r = { NULL, 0, 0 };
      r.data = g_bytes_get_data (bytes, &r.len);
      surf = cairo_image_surface_create_from_png_stream (png_read_cb, &r);
      if (cairo_surface_status (surf) != CAIRO_STATUS_SUCCESS)
        {
          g_warning ("%s: tile z%u/%u/%u is not a PNG cairo can read (%s)", ts->path,
                     shumate_tile_get_zoom_level (tile), shumate_tile_get_x (tile), shumate_tile_get_y (tile),
                     cairo_status_to_string (cairo_surface_status (surf)));
          g_clear_pointer (&surf, cairo_surface_destroy);
        }
    }
  else
    ts->n_missing++;
  if (surf == NULL)
    surf = cairo_surface_reference (self->blank);
  FtTilePaintable *p = g_object_new (FT_TYPE_TILE_PAINTABLE, NULL);
  p->surf = surf;
  shumate_tile_set_paintable (tile, GDK_PAINTABLE (p));
  g_object_unref (p);
  shumate_tile_set_state (tile, SHUMATE_STATE_DONE);
  g_task_return_boolean (task, TRUE);
}

static gboolean
ft_tile_map_source_fill_tile_finish (ShumateMapSource *source, GAsyncResult *result, GError **error)
{
  return g_task_propagate_boolean (G_TASK (result), error);
}

static void
ft_tile_map_source_finalize (GObject *object)
{
  FtTileMapSource *self = FT_TILE_MAP_SOURCE (object);
  g_clear_object (&self->tiles);
  g_clear_pointer (&self->blank, cairo_surface_destroy);
  G_OBJECT_CLASS (ft_tile_map_source_parent_class)->finalize (object);
}

static void
ft_tile_map_source_class_init (FtTileMapSourceClass *klass)
{
  G_OBJECT_CLASS (klass)->finalize = ft_tile_map_source_finalize;
  SHUMATE_MAP_SOURCE_CLASS (klass)->fill_tile_async = ft_tile_map_source_fill_tile_async;
  SHUMATE_MAP_SOURCE_CLASS (klass)->fill_tile_finish = ft_tile_map_source_fill_tile_finish;
}

static void
ft_tile_map_source_init (FtTileMapSource *self)
{
  self->blank = cairo_image_surface_create (CAIRO_FORMAT_RGB24, FT_TILES_SIZE, FT_TILES_SIZE);
  cairo_t *cr = cairo_create (self->blank);
  cairo_set_source_rgb (cr, 0.949, 0.937, 0.914);
  cairo_paint (cr);
  cairo_destroy (cr);
}

ShumateMapSource *
ft_tile_source_create_map_source (FtTileSource *self)
{
  const char *r = g_getenv ("GSK_RENDERER");
  if (r && g_str_equal (r, "cairo"))
    {
      FtTileMapSource *ms = g_object_new (FT_TYPE_TILE_MAP_SOURCE,
                                          "id", "fleet-twin-offline", "name", "Fleet Twin offline tiles",
                                          "license", "Fleet Twin", "min-zoom-level", 0,
                                          "max-zoom-level", self->max_zoom, "tile-size", FT_TILES_SIZE,
                                          "projection", SHUMATE_MAP_PROJECTION_MERCATOR, NULL);
      ms->tiles = g_object_ref (self);
      return SHUMATE_MAP_SOURCE (ms);
    }
  return SHUMATE_MAP_SOURCE (shumate_raster_renderer_new_full (
      "fleet-twin-offline", "Fleet Twin offline tiles", "Fleet Twin", NULL,
      0, self->max_zoom, FT_TILES_SIZE,
      SHUMATE_MAP_PROJECTION_MERCATOR, SHUMATE_DATA_SOURCE (self)));
}
