/* ft-chart.h — charts drawn on any cairo_t at a given size: bars (grouped
 * or stacked) and lines over labelled categories, with axes, units, tick
 * labels, a title and a legend; and a plain table. The report draws them on
 * PDF pages and PNG files; the app's dashboard can draw them in a
 * GtkDrawingArea. Nothing here reads data: callers pass the series.
 */
#pragma once

#include <cairo.h>
#include <glib.h>

G_BEGIN_DECLS

typedef enum {
  FT_CHART_BARS,       /* one bar per series, side by side */
  FT_CHART_STACKED,    /* series stacked in one bar */
  FT_CHART_LINES,      /* one line per series */
  FT_CHART_INTERVALS,  /* series in triples (estimate, low, high): a dot and
                        * a whisker per category and triple; the triple's
                        * first series names it in the legend */
} FtChartStyle;

typedef struct {
  const char   *name;            /* legend label */
  const double *values;          /* n values; NaN = no value */
  double        rgb[3];          /* 0..1; all zero = the palette's */
} FtChartSeries;

typedef struct {
  const char          *title;
  const char          *x_label;       /* axis title with unit, e.g. "hour of day" */
  const char          *y_label;       /* e.g. "revenue (EUR)" */
  const char *const   *categories;    /* n x labels, or NULL: 0 … n-1 */
  guint                n;
  const FtChartSeries *series;
  guint                n_series;
  FtChartStyle         style;
  gboolean             y_percent;     /* values are shares 0..1, ticks show % */
  double               y_max;         /* 0: from the data */
  const char          *note;          /* small text under the plot, or NULL */
} FtChart;

/* Draws the chart into the rectangle (0, 0, width, height) of cr (white
 * background). A chart with nothing to show (n == 0, every value zero or NaN) says so. */
void ft_chart_draw (cairo_t *cr, double width, double height, const FtChart *chart);

/* A table: a header row and n_rows rows of n_cols cells (row-major), numbers
 * right-aligned (cells that parse as numbers), columns sized to fit. */
void ft_chart_draw_table (cairo_t *cr, double width, double height, const char *title,
                          const char *const *header, guint n_cols,
                          const char *const *cells, guint n_rows);

/* The palette colour i (wraps). */
void ft_chart_palette (guint i, double rgb[3]);

/* Draws the chart on a new width x height PNG at path. */
gboolean ft_chart_write_png (const FtChart *chart, int width, int height,
                             const char *path, GError **error);

G_END_DECLS
