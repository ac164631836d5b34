/* ft-forecast-plot.h — forecast against actual for one zone as a PNG
 * chart (cairo): trips per hour on the y axis, local time on the x axis with
 * a tick each day, the actual as grey bars and one line per model, a legend.
 */
#pragma once

#include "ft-forecast.h"

G_BEGIN_DECLS

typedef struct {
  const char   *label;     /* legend text */
  const double *values;    /* n_hours values; NaN = no forecast */
} FtPlotLine;

/* Draws hours t0 .. t0 + n_hours - 1 (t0 naive local ms, whole hour) and
 * writes the PNG to path (the caller decides where: see FtOutput). */
gboolean ft_forecast_plot_png (const char *path, const char *title, FtTime t0, guint n_hours,
                               const double *actual, const FtPlotLine *lines, guint n_lines,
                               GError **error);

G_END_DECLS
