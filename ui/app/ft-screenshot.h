/* ft-screenshot.h — in-process screenshots: render a widget through its
 * native's GskRenderer into a texture, save it as PNG and count pixels, for
 * the UI test, the benchmark's start-up probe and the "Save screenshot" action.
 */
#pragma once

#include <gtk/gtk.h>

G_BEGIN_DECLS

/* Renders widget (must be mapped) to a texture, or NULL. */
GdkTexture *ft_screenshot_widget (GtkWidget *widget);

typedef struct {
  guint  width, height;
  guint  n_colours;        /* distinct RGB values (capped at 65536) */
  double top_share;        /* share of the most frequent colour */
  guint  n_transparent;    /* alpha < 16 */
} FtPixelStats;

/* Pixel statistics over the rectangle (clipped); w or h <= 0 = whole texture. */
void   ft_screenshot_stats  (GdkTexture *tex, int x, int y, int w, int h, FtPixelStats *out);
/* Number of pixels whose RGB is exactly one of rgb[0..n-1]. */
guint  ft_screenshot_count_rgb (GdkTexture *tex, const guint32 *rgb, guint n);

G_END_DECLS
