/* ft-screenshot.c — widget → GskRenderer → texture → pixels. */
#include "ft-screenshot.h"

GdkTexture *
ft_screenshot_widget (GtkWidget *widget)
{
  g_return_val_if_fail (GTK_IS_WIDGET (widget), NULL);
  GtkNative *native = gtk_widget_get_native (widget);
  if (native == NULL || !gtk_widget_get_mapped (widget))
    return NULL;
  GskRenderer *renderer = gtk_native_get_renderer (native);
  int w = gtk_widget_get_width (widget), h = gtk_widget_get_height (widget);
  if (renderer == NULL || w <= 0 || h <= 0)
    return NULL;
  GtkSnapshot *snap = gtk_snapshot_new ();
  GdkPaintable *paintable = gtk_widget_paintable_new (widget);
  gdk_paintable_snapshot (paintable, snap, w, h);
  g_object_unref (paintable);
  g_autoptr(GskRenderNode) node = gtk_snapshot_free_to_node (snap);
  if (node == NULL)
    return NULL;
  return gsk_renderer_render_texture (renderer, node, &GRAPHENE_RECT_INIT (0, 0, w, h));
}

static guint8 *
download (GdkTexture *tex, gsize *stride)
{
  int w = gdk_texture_get_width (tex), h = gdk_texture_get_height (tex);
  *stride = (gsize) w * 4;
  guint8 *d = g_malloc ((gsize) h * *stride);
  gdk_texture_download (tex, d, *stride);   /* Cairo ARGB32 premultiplied, native endian */
  return d;
}

void
ft_screenshot_stats (GdkTexture *tex, int x, int y, int w, int h, FtPixelStats *out)
{
  int tw = gdk_texture_get_width (tex), th = gdk_texture_get_height (tex);
  if (w <= 0 || h <= 0)
    {
      x = 0; y = 0; w = tw; h = th;
    }
  int x0 = CLAMP (x, 0, tw), y0 = CLAMP (y, 0, th);
  int x1 = CLAMP (x + w, 0, tw), y1 = CLAMP (y + h, 0, th);
  gsize stride;
  g_autofree guint8 *d = download (tex, &stride);
  g_autoptr(GHashTable) counts = g_hash_table_new (NULL, NULL);
  guint top = 0, transparent = 0;
  for (int yy = y0; yy < y1; yy++)
    for (int xx = x0; xx < x1; xx++)
      {
        guint32 p = *(guint32 *) (d + yy * stride + xx * 4);
        if ((p >> 24) < 16)
          transparent++;
        gpointer key = GUINT_TO_POINTER ((p & 0xffffff) + 1);
        guint c = GPOINTER_TO_UINT (g_hash_table_lookup (counts, key)) + 1;
        if (g_hash_table_size (counts) < 65536 || c > 1)
          g_hash_table_insert (counts, key, GUINT_TO_POINTER (c));
        top = MAX (top, c);
      }
  guint n = (guint) MAX ((x1 - x0) * (y1 - y0), 1);
  out->width = (guint) (x1 - x0);
  out->height = (guint) (y1 - y0);
  out->n_colours = g_hash_table_size (counts);
  out->top_share = (double) top / n;
  out->n_transparent = transparent;
}

guint
ft_screenshot_count_rgb (GdkTexture *tex, const guint32 *rgb, guint n)
{
  gsize stride;
  g_autofree guint8 *d = download (tex, &stride);
  int w = gdk_texture_get_width (tex), h = gdk_texture_get_height (tex);
  guint count = 0;
  for (int y = 0; y < h; y++)
    for (int x = 0; x < w; x++)
      {
        guint32 p = *(guint32 *) (d + y * stride + x * 4) & 0xffffff;
        for (guint i = 0; i < n; i++)
          if (p == rgb[i])
            {
              count++;
              break;
            }
      }
  return count;
}
