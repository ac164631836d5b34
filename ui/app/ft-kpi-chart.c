/* ft-kpi-chart.c — see ft-kpi-chart.h. The y axis runs from 0 to the
 * series maximum (rounded up); the x axis spans the history so far. */
#include "ft-kpi-chart.h"
#include "ft-session.h"

#include <math.h>

struct _FtKpiChart {
  GtkWidget parent_instance;
  char     *title;
  char     *unit;
  int       field, field2;
  double    scale;
  GArray   *history;
};

G_DEFINE_FINAL_TYPE (FtKpiChart, ft_kpi_chart, GTK_TYPE_WIDGET)

static double
sample_value (const FtKpiSample *s, int field, double scale)
{
  return *(const double *) ((const guint8 *) s + field) * scale;
}

static void
ft_kpi_chart_snapshot (GtkWidget *widget, GtkSnapshot *snapshot)
{
  FtKpiChart *self = FT_KPI_CHART (widget);
  int w = gtk_widget_get_width (widget), h = gtk_widget_get_height (widget);
  if (w <= 0 || h <= 0)
    return;
  GdkRGBA fg;
  gtk_style_context_get_color (gtk_widget_get_style_context (widget), &fg);
  cairo_t *cr = gtk_snapshot_append_cairo (snapshot, &GRAPHENE_RECT_INIT (0, 0, w, h));

  double left = 6, top = 18, right = w - 6, bottom = h - 4;
  cairo_set_source_rgba (cr, fg.red, fg.green, fg.blue, 0.08);
  cairo_rectangle (cr, left, top, right - left, bottom - top);
  cairo_fill (cr);

  guint n = self->history ? self->history->len : 0;
  double vmax = 0, last = 0, last2 = 0;
  for (guint i = 0; i < n; i++)
    {
      const FtKpiSample *s = &g_array_index (self->history, FtKpiSample, i);
      vmax = MAX (vmax, sample_value (s, self->field, self->scale));
      if (self->field2 >= 0)
        vmax = MAX (vmax, sample_value (s, self->field2, self->scale));
    }
  if (n > 0)
    {
      const FtKpiSample *s = &g_array_index (self->history, FtKpiSample, n - 1);
      last = sample_value (s, self->field, self->scale);
      if (self->field2 >= 0)
        last2 = sample_value (s, self->field2, self->scale);
    }
  if (vmax <= 0)
    vmax = 1;
  double mag = pow (10, floor (log10 (vmax)));
  vmax = ceil (vmax / mag) * mag;

  cairo_select_font_face (cr, "Sans", CAIRO_FONT_SLANT_NORMAL, CAIRO_FONT_WEIGHT_NORMAL);
  cairo_set_font_size (cr, 11);
  cairo_set_source_rgba (cr, fg.red, fg.green, fg.blue, 0.9);
  cairo_move_to (cr, left, 12);
  g_autofree char *label = self->field2 >= 0
    ? g_strdup_printf ("%s: %.0f / %.0f%s", self->title, last, last2, self->unit)
    : g_strdup_printf ("%s: %.1f%s", self->title, last, self->unit);
  cairo_show_text (cr, label);
  g_autofree char *maxl = g_strdup_printf ("%g", vmax);
  cairo_text_extents_t ext;
  cairo_text_extents (cr, maxl, &ext);
  cairo_set_source_rgba (cr, fg.red, fg.green, fg.blue, 0.5);
  cairo_move_to (cr, right - ext.width - 2, top + 11);
  cairo_show_text (cr, maxl);

  static const double colours[2][3] = { { 0.21, 0.52, 0.89 }, { 0.88, 0.11, 0.14 } };
  int fields[2] = { self->field, self->field2 };
  if (n >= 2)
    {
      FtTime t0 = g_array_index (self->history, FtKpiSample, 0).t;
      FtTime t1 = g_array_index (self->history, FtKpiSample, n - 1).t;
      double span = MAX ((double) (t1 - t0), 1.0);
      for (int k = 0; k < 2; k++)
        {
          if (fields[k] < 0)
            continue;
          cairo_new_path (cr);
          /* at most one point per pixel column */
          guint stride = MAX (n / (guint) MAX (right - left, 1), 1);
          for (guint i = 0; i < n; i += stride)
            {
              const FtKpiSample *s = &g_array_index (self->history, FtKpiSample, i);
              double x = left + (s->t - t0) / span * (right - left);
              double y = bottom - sample_value (s, fields[k], self->scale) / vmax * (bottom - top);
              cairo_line_to (cr, x, y);
            }
          const FtKpiSample *s = &g_array_index (self->history, FtKpiSample, n - 1);
          cairo_line_to (cr, right, bottom - sample_value (s, fields[k], self->scale) / vmax * (bottom - top));
          cairo_set_source_rgb (cr, colours[k][0], colours[k][1], colours[k][2]);
          cairo_set_line_width (cr, 2);
          cairo_stroke (cr);
        }
    }
  cairo_destroy (cr);
}

static void
ft_kpi_chart_measure (GtkWidget *widget, GtkOrientation o, int for_size, int *min, int *nat,
                      int *min_b, int *nat_b)
{
  *min = o == GTK_ORIENTATION_HORIZONTAL ? 160 : 70;
  *nat = o == GTK_ORIENTATION_HORIZONTAL ? 280 : 90;
}

static void
ft_kpi_chart_finalize (GObject *object)
{
  FtKpiChart *self = FT_KPI_CHART (object);
  g_free (self->title);
  g_free (self->unit);
  g_clear_pointer (&self->history, g_array_unref);
  G_OBJECT_CLASS (ft_kpi_chart_parent_class)->finalize (object);
}

static void
ft_kpi_chart_class_init (FtKpiChartClass *klass)
{
  G_OBJECT_CLASS (klass)->finalize = ft_kpi_chart_finalize;
  GTK_WIDGET_CLASS (klass)->snapshot = ft_kpi_chart_snapshot;
  GTK_WIDGET_CLASS (klass)->measure = ft_kpi_chart_measure;
  gtk_widget_class_set_css_name (GTK_WIDGET_CLASS (klass), "kpichart");
}

static void
ft_kpi_chart_init (FtKpiChart *self)
{
  self->title = g_strdup ("");
  self->unit = g_strdup ("");
  self->field = G_STRUCT_OFFSET (FtKpiSample, utilisation);
  self->field2 = -1;
  self->scale = 1;
}

GtkWidget *
ft_kpi_chart_new (void)
{
  return g_object_new (FT_TYPE_KPI_CHART, NULL);
}

void
ft_kpi_chart_set_series (FtKpiChart *self, const char *title, int field, int field2,
                         const char *unit, double scale)
{
  g_free (self->title);
  g_free (self->unit);
  self->title = g_strdup (title);
  self->unit = g_strdup (unit ? unit : "");
  self->field = field;
  self->field2 = field2;
  self->scale = scale;
  gtk_widget_queue_draw (GTK_WIDGET (self));
}

void
ft_kpi_chart_set_history (FtKpiChart *self, GArray *history)
{
  if (history)
    g_array_ref (history);
  g_clear_pointer (&self->history, g_array_unref);
  self->history = history;
  gtk_widget_queue_draw (GTK_WIDGET (self));
}
