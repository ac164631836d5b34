/* ft-tile-source.c — MBTiles-backed ShumateDataSource. Reads are done on the
 * main thread (an indexed SQLite lookup of a few kilobytes takes well under
 * a millisecond) and the `received-data` signal is emitted there too, which
 * ShumateRasterRenderer needs before it shows a tile. Tiles outside the
 * baked area get a plain land-coloured tile so the map never shows holes.
 */
#include "ft-tile-source.h"
#include "ft-tiles.h"

#include <cairo.h>

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

ShumateMapSource *
ft_tile_source_create_map_source (FtTileSource *self)
{
  return SHUMATE_MAP_SOURCE (shumate_raster_renderer_new_full (
      "fleet-twin-offline", "Fleet Twin offline tiles", "Fleet Twin", NULL,
      0, self->max_zoom, FT_TILES_SIZE,
      SHUMATE_MAP_PROJECTION_MERCATOR, SHUMATE_DATA_SOURCE (self)));
}
