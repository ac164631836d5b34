/* ft-forecast-plot.c — the forecast-vs-actual chart of one zone: axes with
 * units, a tick and label per day, the actual trips as bars, one coloured
 * line per model, a legend; written as PNG with cairo.
 */
#include "ft-config.h"
#include "ft-forecast-plot.h"

#include <cairo.h>
#include <math.h>

static double
nice_step (double range, int target_ticks)
{
  double raw = range / MAX (target_ticks, 1);
  double mag = pow (10, floor (log10 (raw)));
  double n = raw / mag;
  return (n < 1.5 ? 1 : n < 3 ? 2 : n < 7 ? 5 : 10) * mag;
}

gboolean
ft_forecast_plot_png (const char *path, const char *title, FtTime t0, guint n_hours,
                      const double *actual, const FtPlotLine *lines, guint n_lines, GError **error)
{
  g_return_val_if_fail (path != NULL && actual != NULL && (lines != NULL || n_lines == 0), FALSE);
  if (n_hours == 0)
    {
      g_set_error (error, FT_FORECAST_ERROR, FT_FORECAST_ERROR_EMPTY, "nothing to plot: no hours");
      return FALSE;
    }
  const int W = 1400, Hh = 520, ml = 80, mr = 30, mt = 50, mb = 70;
  const double pw = W - ml - mr, ph = Hh - mt - mb;
  double ymax = 1;
  for (guint h = 0; h < n_hours; h++)
    {
      if (isfinite (actual[h]))
        ymax = MAX (ymax, actual[h]);
      for (guint l = 0; l < n_lines; l++)
        if (isfinite (lines[l].values[h]))
          ymax = MAX (ymax, lines[l].values[h]);
    }
  double ystep = nice_step (ymax, 6);
  ymax = ceil (ymax / ystep) * ystep;

  cairo_surface_t *surf = cairo_image_surface_create (CAIRO_FORMAT_RGB24, W, Hh);
  cairo_t *cr = cairo_create (surf);
  cairo_set_source_rgb (cr, 1, 1, 1);
  cairo_paint (cr);
  cairo_select_font_face (cr, "DejaVu Sans", CAIRO_FONT_SLANT_NORMAL, CAIRO_FONT_WEIGHT_NORMAL);

#define X(h) (ml + pw * (h) / n_hours)
#define Y(v) (mt + ph * (1 - (v) / ymax))
  /* grid and y ticks */
  cairo_set_font_size (cr, 12);
  for (double v = 0; v <= ymax + 1e-9; v += ystep)
    {
      cairo_set_source_rgb (cr, 0.88, 0.88, 0.88);
      cairo_set_line_width (cr, 1);
      cairo_move_to (cr, ml, Y (v));
      cairo_line_to (cr, ml + pw, Y (v));
      cairo_stroke (cr);
      char lab[32];
      g_snprintf (lab, sizeof lab, "%g", v);
      cairo_text_extents_t e;
      cairo_text_extents (cr, lab, &e);
      cairo_set_source_rgb (cr, 0.2, 0.2, 0.2);
      cairo_move_to (cr, ml - 8 - e.width, Y (v) + e.height / 2);
      cairo_show_text (cr, lab);
    }
  /* actual as bars */
  cairo_set_source_rgb (cr, 0.72, 0.72, 0.72);
  for (guint h = 0; h < n_hours; h++)
    if (isfinite (actual[h]) && actual[h] > 0)
      {
        cairo_rectangle (cr, X (h) + 0.5, Y (actual[h]), MAX (pw / n_hours - 1, 1), Y (0) - Y (actual[h]));
        cairo_fill (cr);
      }
  /* day ticks (hours are naive local: format them as UTC) */
  for (guint h = 0; h <= n_hours; h++)
    {
      FtTime t = t0 + (FtTime) h * FT_HOUR;
      if (t % FT_DAY != 0)
        continue;
      cairo_set_source_rgb (cr, 0.6, 0.6, 0.6);
      cairo_set_line_width (cr, 1);
      cairo_move_to (cr, X (h), mt);
      cairo_line_to (cr, X (h), mt + ph + 6);
      cairo_stroke (cr);
      if (h == n_hours)
        continue;
      g_autoptr(GDateTime) dt = g_date_time_new_from_unix_utc (t / 1000);
      g_autofree char *lab = g_date_time_format (dt, "%a %d %b");
      cairo_set_source_rgb (cr, 0.2, 0.2, 0.2);
      cairo_move_to (cr, X (h) + 3, mt + ph + 20);
      cairo_show_text (cr, lab);
    }
  /* model lines */
  static const double colours[][3] = {
    { 0.12, 0.47, 0.71 }, { 0.85, 0.37, 0.01 }, { 0.17, 0.63, 0.17 }, { 0.58, 0.40, 0.74 },
  };
  for (guint l = 0; l < n_lines; l++)
    {
      const double *c = colours[l % G_N_ELEMENTS (colours)];
      cairo_set_source_rgb (cr, c[0], c[1], c[2]);
      cairo_set_line_width (cr, 2);
      gboolean pen = FALSE;
      for (guint h = 0; h < n_hours; h++)
        {
          double v = lines[l].values[h];
          if (!isfinite (v))
            {
              pen = FALSE;
              continue;
            }
          if (pen)
            cairo_line_to (cr, X (h + 0.5), Y (v));
          else
            cairo_move_to (cr, X (h + 0.5), Y (v));
          pen = TRUE;
        }
      cairo_stroke (cr);
    }
  /* axes */
  cairo_set_source_rgb (cr, 0, 0, 0);
  cairo_set_line_width (cr, 1.5);
  cairo_move_to (cr, ml, mt);
  cairo_line_to (cr, ml, mt + ph);
  cairo_line_to (cr, ml + pw, mt + ph);
  cairo_stroke (cr);
  cairo_set_font_size (cr, 13);
  cairo_move_to (cr, ml + pw / 2 - 120, Hh - 20);
  cairo_show_text (cr, "local time (tick at 00:00 each day), 1-hour bins");
  cairo_save (cr);
  cairo_move_to (cr, 22, mt + ph / 2 + 80);
  cairo_rotate (cr, -G_PI / 2);
  cairo_show_text (cr, "trips started per hour");
  cairo_restore (cr);
  cairo_set_font_size (cr, 16);
  cairo_move_to (cr, ml, 30);
  cairo_show_text (cr, title ? title : "forecast vs actual");
  /* legend */
  cairo_set_font_size (cr, 12);
  double lx = ml + pw - 200, ly = mt + 10;
  cairo_set_source_rgba (cr, 1, 1, 1, 0.9);
  cairo_rectangle (cr, lx - 10, ly - 8, 205, 22 * (n_lines + 1) + 6);
  cairo_fill (cr);
  cairo_set_source_rgb (cr, 0.72, 0.72, 0.72);
  cairo_rectangle (cr, lx, ly, 24, 10);
  cairo_fill (cr);
  cairo_set_source_rgb (cr, 0, 0, 0);
  cairo_move_to (cr, lx + 32, ly + 10);
  cairo_show_text (cr, "actual trips");
  for (guint l = 0; l < n_lines; l++)
    {
      const double *c = colours[l % G_N_ELEMENTS (colours)];
      double yy = ly + 22 * (l + 1) + 5;
      cairo_set_source_rgb (cr, c[0], c[1], c[2]);
      cairo_set_line_width (cr, 2);
      cairo_move_to (cr, lx, yy);
      cairo_line_to (cr, lx + 24, yy);
      cairo_stroke (cr);
      cairo_set_source_rgb (cr, 0, 0, 0);
      cairo_move_to (cr, lx + 32, yy + 4);
      cairo_show_text (cr, lines[l].label);
    }
#undef X
#undef Y
  cairo_destroy (cr);
  cairo_status_t st = cairo_surface_write_to_png (surf, path);
  cairo_surface_destroy (surf);
  if (st != CAIRO_STATUS_SUCCESS)
    {
      g_set_error (error, FT_FORECAST_ERROR, FT_FORECAST_ERROR_IO, "cannot write chart %s: %s",
                   path, cairo_status_to_string (st));
      return FALSE;
    }
  return TRUE;
}
