/* ft-chart.c — bar, stacked-bar and line charts and tables on a cairo_t:
 * a nice-number y axis with grid and units, category labels thinned (and
 * turned) when crowded, a legend above the plot, a title.
 */
#include "ft-chart.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define FONT "DejaVu Sans"

static const double palette[][3] = {
  { 0.12, 0.47, 0.71 }, { 1.00, 0.50, 0.05 }, { 0.17, 0.63, 0.17 }, { 0.84, 0.15, 0.16 },
  { 0.58, 0.40, 0.74 }, { 0.55, 0.34, 0.29 }, { 0.89, 0.47, 0.76 }, { 0.50, 0.50, 0.50 },
};

void
ft_chart_palette (guint i, double rgb[3])
{
  memcpy (rgb, palette[i % G_N_ELEMENTS (palette)], sizeof (double) * 3);
}

static void
series_rgb (const FtChart *c, guint s, double rgb[3])
{
  const double *p = c->series[s].rgb;
  if (p[0] == 0 && p[1] == 0 && p[2] == 0)
    ft_chart_palette (c->style == FT_CHART_INTERVALS ? s / 3 : s, rgb);
  else
    memcpy (rgb, p, sizeof (double) * 3);
}

static double
nice_step (double range, int target)
{
  double raw = range / MAX (target, 1);
  if (!(raw > 0))
    return 1;
  double mag = pow (10, floor (log10 (raw)));
  double n = raw / mag;
  return (n < 1.5 ? 1 : n < 3 ? 2 : n < 7 ? 5 : 10) * mag;
}

static void
fmt_tick (char *buf, gsize len, double v, double step, gboolean percent)
{
  if (fabs (v) < step * 1e-6)   /* a tick at zero reached by float steps: no "-0" */
    v = 0;
  if (percent)
    {
      g_snprintf (buf, len, step * 100 < 1 ? "%.1f %%" : "%.0f %%", v * 100);
      return;
    }
  double a = fabs (v);
  if (a >= 1e6)
    g_snprintf (buf, len, "%.*fM", step >= 1e6 ? 0 : 1, v / 1e6);
  else if (a >= 1e4)
    g_snprintf (buf, len, "%.*fk", step >= 1e3 ? 0 : 1, v / 1e3);
  else if (step >= 1)
    g_snprintf (buf, len, "%.0f", v);
  else if (step >= 0.1)
    g_snprintf (buf, len, "%.1f", v);
  else
    g_snprintf (buf, len, "%.2f", v);
}

static void
text_at (cairo_t *cr, double x, double y, const char *s, double align_x, double align_y)
{
  cairo_text_extents_t te;
  cairo_text_extents (cr, s, &te);
  cairo_move_to (cr, x - te.x_advance * align_x, y - (te.y_bearing + te.height * align_y) );
  cairo_show_text (cr, s);
}

static double
text_w (cairo_t *cr, const char *s)
{
  cairo_text_extents_t te;
  cairo_text_extents (cr, s, &te);
  return te.x_advance;
}

void
ft_chart_draw (cairo_t *cr, double W, double H, const FtChart *c)
{
  g_return_if_fail (cr != NULL && c != NULL);
  cairo_save (cr);
  cairo_rectangle (cr, 0, 0, W, H);
  cairo_clip (cr);
  cairo_set_source_rgb (cr, 1, 1, 1);
  cairo_paint (cr);
  cairo_select_font_face (cr, FONT, CAIRO_FONT_SLANT_NORMAL, CAIRO_FONT_WEIGHT_NORMAL);
  double fs = CLAMP (H / 32.0, 7.0, 13.0);

  /* title */
  cairo_set_source_rgb (cr, 0.1, 0.1, 0.1);
  cairo_select_font_face (cr, FONT, CAIRO_FONT_SLANT_NORMAL, CAIRO_FONT_WEIGHT_BOLD);
  cairo_set_font_size (cr, fs * 1.3);
  if (c->title)
    {
      /* a title wider than the chart is set smaller (down to 0.8 of the
       * text size) rather than cut at both edges */
      double tw = text_w (cr, c->title), room = W - 2 * fs;
      if (tw > room && tw > 0)
        cairo_set_font_size (cr, MAX (fs * 1.3 * room / tw, fs * 0.8));
      text_at (cr, W / 2, fs * 1.4, c->title, 0.5, 0.5);
    }
  cairo_select_font_face (cr, FONT, CAIRO_FONT_SLANT_NORMAL, CAIRO_FONT_WEIGHT_NORMAL);
  cairo_set_font_size (cr, fs);

  /* data range */
  double ymax = 0, ymin = 0;
  gboolean any = FALSE;
  for (guint i = 0; i < c->n; i++)
    {
      double stack = 0;
      for (guint s = 0; s < c->n_series; s++)
        {
          double v = c->series[s].values[i];
          if (!isfinite (v))
            continue;
          any |= v != 0;
          if (c->style == FT_CHART_STACKED)
            stack += MAX (v, 0);
          else
            {
              ymax = MAX (ymax, v);
              ymin = MIN (ymin, v);
            }
        }
      ymax = MAX (ymax, stack);
    }
  if (c->y_max > 0)
    ymax = c->y_max;
  if (ymax <= ymin)
    ymax = ymin + (c->y_percent ? 1 : 1);
  double step = nice_step (ymax - ymin, 5);
  ymax = ceil (ymax / step - 1e-9) * step;
  ymin = floor (ymin / step + 1e-9) * step;

  /* legend row under the title */
  double legend_y = fs * 3.1, lx = 0;
  gboolean legend = c->n_series > 1 || (c->n_series == 1 && c->series[0].name);
  double legend_w = 0;
  for (guint s = 0; legend && s < c->n_series; s++)
    if (c->style != FT_CHART_INTERVALS || s % 3 == 0)
      legend_w += fs * 1.6 + text_w (cr, c->series[s].name ? c->series[s].name : "") + fs * 1.5;
  lx = MAX (fs, (W - legend_w) / 2);
  for (guint s = 0; legend && s < c->n_series; s++)
    {
      if (c->style == FT_CHART_INTERVALS && s % 3 != 0)
        continue;
      double rgb[3];
      series_rgb (c, s, rgb);
      cairo_set_source_rgb (cr, rgb[0], rgb[1], rgb[2]);
      if (c->style == FT_CHART_LINES)
        {
          cairo_set_line_width (cr, 2.5);
          cairo_move_to (cr, lx, legend_y);
          cairo_line_to (cr, lx + fs * 1.2, legend_y);
          cairo_stroke (cr);
        }
      else
        {
          cairo_rectangle (cr, lx, legend_y - fs * 0.45, fs * 1.2, fs * 0.9);
          cairo_fill (cr);
        }
      cairo_set_source_rgb (cr, 0.15, 0.15, 0.15);
      const char *name = c->series[s].name ? c->series[s].name : "";
      text_at (cr, lx + fs * 1.6, legend_y, name, 0, 0.5);
      lx += fs * 1.6 + text_w (cr, name) + fs * 1.5;
    }

  /* plot area: room for y tick labels, axis titles and x labels */
  char buf[64];
  double tick_w = 0;
  for (double v = ymin; v <= ymax + step * 1e-6; v += step)
    {
      fmt_tick (buf, sizeof buf, v, step, c->y_percent);
      tick_w = MAX (tick_w, text_w (cr, buf));
    }
  /* x labels: thin them to fit, turn them when long */
  double max_lab = 0;
  for (guint i = 0; i < c->n && c->categories; i++)
    max_lab = MAX (max_lab, text_w (cr, c->categories[i] ? c->categories[i] : ""));
  if (c->categories == NULL)
    {
      g_snprintf (buf, sizeof buf, "%u", c->n);
      max_lab = text_w (cr, buf);
    }
  double ml = fs * 2.4 + tick_w + fs * 0.6, mr = fs * 1.5;
  double mt = legend ? fs * 4.6 : fs * 3.2;
  double pw = W - ml - mr;
  double slot = c->n ? pw / c->n : pw;
  gboolean turn = max_lab + fs * 0.6 > slot && max_lab > fs * 3.5;
  double lab_h = turn ? MIN (max_lab, H * 0.28) + fs * 0.3 : fs * 1.4;
  double mb = lab_h + fs * 2.6 + (c->note ? fs * 1.5 : 0);
  double ph = H - mt - mb;
  if (ph < fs * 3 || pw < fs * 3)
    {
      cairo_restore (cr);
      return;
    }
  guint every = 1;
  double need = (turn ? fs * 1.3 : max_lab + fs * 0.8);
  while (slot * every < need && every < c->n)
    every++;
  if (every > 1)   /* thin to a round stride */
    {
      static const guint nice[] = { 2, 3, 4, 5, 6, 8, 10, 12, 24, 48, 50, 100, 168, 200, 500, 1000 };
      for (guint k = 0; k < G_N_ELEMENTS (nice); k++)
        if (nice[k] >= every)
          {
            every = nice[k];
            break;
          }
    }

#define PX(i) (ml + slot * (i))
#define PY(v) (mt + ph * (1 - ((v) - ymin) / (ymax - ymin)))
  /* grid + y ticks */
  cairo_set_line_width (cr, 0.6);
  for (double v = ymin; v <= ymax + step * 1e-6; v += step)
    {
      cairo_set_source_rgb (cr, 0.87, 0.87, 0.87);
      cairo_move_to (cr, ml, PY (v));
      cairo_line_to (cr, ml + pw, PY (v));
      cairo_stroke (cr);
      cairo_set_source_rgb (cr, 0.25, 0.25, 0.25);
      fmt_tick (buf, sizeof buf, v, step, c->y_percent);
      text_at (cr, ml - fs * 0.4, PY (v), buf, 1, 0.5);
    }

  if (!any)
    {
      cairo_set_source_rgb (cr, 0.45, 0.45, 0.45);
      cairo_set_font_size (cr, fs * 1.2);
      text_at (cr, ml + pw / 2, mt + ph / 2, "nothing to show: every value is zero or missing", 0.5, 0.5);
      cairo_set_font_size (cr, fs);
    }
  else if (c->style == FT_CHART_INTERVALS)
    {
      /* zero line, then per category one whisker per (estimate, low, high)
       * triple side by side, with a dot at the estimate */
      if (ymin < 0 && ymax > 0)
        {
          cairo_set_source_rgb (cr, 0.3, 0.3, 0.3);
          cairo_set_line_width (cr, 1.2);
          cairo_move_to (cr, ml, PY (0));
          cairo_line_to (cr, ml + pw, PY (0));
          cairo_stroke (cr);
        }
      guint nt = c->n_series / 3;
      for (guint i = 0; i < c->n; i++)
        for (guint t = 0; t < nt; t++)
          {
            double e = c->series[3 * t].values[i], lo = c->series[3 * t + 1].values[i],
                   hi = c->series[3 * t + 2].values[i];
            if (!isfinite (e))
              continue;
            double rgb[3];
            series_rgb (c, 3 * t, rgb);
            cairo_set_source_rgb (cr, rgb[0], rgb[1], rgb[2]);
            double x = PX (i) + slot * (t + 1) / (nt + 1), cap = MIN (slot / (nt + 1) * 0.35, fs);
            if (isfinite (lo) && isfinite (hi))
              {
                double y0 = PY (CLAMP (lo, ymin, ymax)), y1 = PY (CLAMP (hi, ymin, ymax));
                cairo_set_line_width (cr, 1.8);
                cairo_move_to (cr, x, y0);
                cairo_line_to (cr, x, y1);
                cairo_move_to (cr, x - cap, y0);
                cairo_line_to (cr, x + cap, y0);
                cairo_move_to (cr, x - cap, y1);
                cairo_line_to (cr, x + cap, y1);
                cairo_stroke (cr);
              }
            cairo_arc (cr, x, PY (CLAMP (e, ymin, ymax)), 3.2, 0, 2 * G_PI);
            cairo_fill (cr);
          }
    }
  else if (c->style == FT_CHART_LINES)
    {
      for (guint s = 0; s < c->n_series; s++)
        {
          double rgb[3];
          series_rgb (c, s, rgb);
          cairo_set_source_rgb (cr, rgb[0], rgb[1], rgb[2]);
          cairo_set_line_width (cr, c->n > 200 ? 1.2 : 2.0);
          gboolean pen = FALSE;
          for (guint i = 0; i < c->n; i++)
            {
              double v = c->series[s].values[i];
              if (!isfinite (v))
                {
                  pen = FALSE;
                  continue;
                }
              double x = PX (i) + slot / 2, y = PY (CLAMP (v, ymin, ymax));
              if (pen)
                cairo_line_to (cr, x, y);
              else
                cairo_move_to (cr, x, y);
              pen = TRUE;
            }
          cairo_stroke (cr);
          if (c->n <= 40)
            for (guint i = 0; i < c->n; i++)
              {
                double v = c->series[s].values[i];
                if (!isfinite (v))
                  continue;
                cairo_arc (cr, PX (i) + slot / 2, PY (CLAMP (v, ymin, ymax)), 2.2, 0, 2 * G_PI);
                cairo_fill (cr);
              }
        }
    }
  else
    {
      double gap = slot > 6 ? slot * 0.18 : 0;
      for (guint i = 0; i < c->n; i++)
        {
          double base = 0;
          for (guint s = 0; s < c->n_series; s++)
            {
              double v = c->series[s].values[i];
              if (!isfinite (v))
                continue;
              double rgb[3];
              series_rgb (c, s, rgb);
              cairo_set_source_rgb (cr, rgb[0], rgb[1], rgb[2]);
              double x, w, y0, y1;
              if (c->style == FT_CHART_STACKED)
                {
                  x = PX (i) + gap / 2;
                  w = slot - gap;
                  y0 = PY (base);
                  base += MAX (v, 0);
                  y1 = PY (MIN (base, ymax));
                }
              else
                {
                  w = (slot - gap) / c->n_series;
                  x = PX (i) + gap / 2 + w * s;
                  y0 = PY (MAX (0, ymin));
                  y1 = PY (CLAMP (v, ymin, ymax));
                }
              cairo_rectangle (cr, x, MIN (y0, y1), MAX (w, 0.5), fabs (y0 - y1));
              cairo_fill (cr);
            }
        }
    }

  /* axes */
  cairo_set_source_rgb (cr, 0.2, 0.2, 0.2);
  cairo_set_line_width (cr, 1);
  cairo_move_to (cr, ml, mt);
  cairo_line_to (cr, ml, mt + ph);
  cairo_line_to (cr, ml + pw, mt + ph);
  cairo_stroke (cr);

  /* x labels */
  for (guint i = 0; i < c->n; i += every)
    {
      const char *lab = c->categories ? c->categories[i] : NULL;
      char nb[16];
      if (lab == NULL)
        {
          g_snprintf (nb, sizeof nb, "%u", i);
          lab = nb;
        }
      double x = PX (i) + slot / 2;
      cairo_move_to (cr, x, mt + ph);
      cairo_line_to (cr, x, mt + ph + fs * 0.3);
      cairo_stroke (cr);
      if (turn)
        {
          g_autofree char *cut = g_strdup (lab);
          glong len = g_utf8_strlen (lab, -1);
          for (glong k = len - 1; k > 2 && text_w (cr, cut) > lab_h - fs * 0.3; k--)
            {
              /* k characters: the start and the end (where names differ) around an ellipsis */
              g_autofree char *head = g_utf8_substring (lab, 0, k / 2);
              g_autofree char *tail = g_utf8_substring (lab, len - (k - k / 2), len);
              g_free (cut);
              cut = g_strconcat (head, "…", tail, NULL);
            }
          cairo_save (cr);
          cairo_translate (cr, x, mt + ph + fs * 0.5);
          cairo_rotate (cr, -G_PI / 2);
          text_at (cr, 0, 0, cut, 1, 0.5);
          cairo_restore (cr);
        }
      else
        text_at (cr, x, mt + ph + fs * 0.5, lab, 0.5, 0);
    }

  /* axis titles */
  cairo_set_source_rgb (cr, 0.1, 0.1, 0.1);
  if (c->x_label)
    text_at (cr, ml + pw / 2, mt + ph + lab_h + fs * 1.1, c->x_label, 0.5, 0);
  if (c->y_label)
    {
      cairo_save (cr);
      cairo_translate (cr, fs * 0.9, mt + ph / 2);
      cairo_rotate (cr, -G_PI / 2);
      text_at (cr, 0, 0, c->y_label, 0.5, 0.5);
      cairo_restore (cr);
    }
  if (c->note)
    {
      cairo_set_source_rgb (cr, 0.4, 0.4, 0.4);
      cairo_set_font_size (cr, fs * 0.85);
      text_at (cr, ml, H - fs * 0.6, c->note, 0, 1);
    }
#undef PX
#undef PY
  cairo_restore (cr);
}

static gboolean
is_number (const char *s)
{
  if (s == NULL || *s == '\0')
    return FALSE;
  char *end = NULL;
  g_ascii_strtod (s, &end);
  return end && (*end == '\0' || *end == ' ' || *end == '%');
}

void
ft_chart_draw_table (cairo_t *cr, double W, double H, const char *title,
                     const char *const *header, guint n_cols,
                     const char *const *cells, guint n_rows)
{
  g_return_if_fail (cr != NULL && header != NULL && (cells != NULL || n_rows == 0));
  cairo_save (cr);
  cairo_rectangle (cr, 0, 0, W, H);
  cairo_clip (cr);
  cairo_set_source_rgb (cr, 1, 1, 1);
  cairo_paint (cr);
  double fs = 9;
  double row_h = fs * 1.55, top = 0;
  if (title)
    {
      cairo_select_font_face (cr, FONT, CAIRO_FONT_SLANT_NORMAL, CAIRO_FONT_WEIGHT_BOLD);
      cairo_set_font_size (cr, fs * 1.4);
      cairo_set_source_rgb (cr, 0.1, 0.1, 0.1);
      text_at (cr, 0, fs * 1.2, title, 0, 0.5);
      top = fs * 2.6;
    }
  guint fit = (guint) MAX (0, floor ((H - top) / row_h) - 1);
  guint rows = MIN (n_rows, fit);
  if (rows < n_rows && rows > 0)   /* keep a line for "… more rows" */
    rows--;
  g_autofree double *cw = g_new0 (double, n_cols);
  cairo_set_font_size (cr, fs);
  for (guint c = 0; c < n_cols; c++)
    {
      cairo_select_font_face (cr, FONT, CAIRO_FONT_SLANT_NORMAL, CAIRO_FONT_WEIGHT_BOLD);
      cw[c] = text_w (cr, header[c]);
      cairo_select_font_face (cr, FONT, CAIRO_FONT_SLANT_NORMAL, CAIRO_FONT_WEIGHT_NORMAL);
      for (guint r = 0; r < rows; r++)
        cw[c] = MAX (cw[c], text_w (cr, cells[r * n_cols + c] ? cells[r * n_cols + c] : ""));
    }
  double total = 0, pad = fs * 1.4;
  for (guint c = 0; c < n_cols; c++)
    total += cw[c] + pad;
  double scale = total > W ? W / total : 1;
  double y = top + row_h;
  for (guint r = 0; r <= rows; r++)
    {
      if (r == 0)
        {
          cairo_set_source_rgb (cr, 0.90, 0.92, 0.96);
          cairo_rectangle (cr, 0, y - row_h * 0.78, MIN (total, W), row_h);
          cairo_fill (cr);
        }
      else if (r % 2 == 0)
        {
          cairo_set_source_rgb (cr, 0.965, 0.965, 0.965);
          cairo_rectangle (cr, 0, y - row_h * 0.78, MIN (total, W), row_h);
          cairo_fill (cr);
        }
      cairo_select_font_face (cr, FONT, CAIRO_FONT_SLANT_NORMAL,
                              r == 0 ? CAIRO_FONT_WEIGHT_BOLD : CAIRO_FONT_WEIGHT_NORMAL);
      cairo_set_font_size (cr, fs * scale);
      cairo_set_source_rgb (cr, 0.1, 0.1, 0.1);
      double x = pad * scale / 2;
      for (guint c = 0; c < n_cols; c++)
        {
          const char *s = r == 0 ? header[c] : cells[(r - 1) * n_cols + c];
          s = s ? s : "";
          gboolean right = r > 0 ? is_number (s) : (rows > 0 && is_number (cells[c]));
          cairo_move_to (cr, right ? x + cw[c] * scale - text_w (cr, s) : x, y);
          cairo_show_text (cr, s);
          x += (cw[c] + pad) * scale;
        }
      y += row_h;
    }
  if (rows < n_rows)
    {
      g_autofree char *more = g_strdup_printf ("… and %u more rows (see the CSV tables)", n_rows - rows);
      cairo_set_source_rgb (cr, 0.4, 0.4, 0.4);
      cairo_move_to (cr, 0, y);
      cairo_show_text (cr, more);
    }
  cairo_restore (cr);
}

gboolean
ft_chart_write_png (const FtChart *chart, int width, int height, const char *path, GError **error)
{
  cairo_surface_t *s = cairo_image_surface_create (CAIRO_FORMAT_RGB24, width, height);
  cairo_t *cr = cairo_create (s);
  ft_chart_draw (cr, width, height, chart);
  cairo_destroy (cr);
  cairo_status_t st = cairo_surface_write_to_png (s, path);
  cairo_surface_destroy (s);
  if (st != CAIRO_STATUS_SUCCESS)
    {
      g_set_error (error, G_FILE_ERROR, G_FILE_ERROR_IO, "%s: cannot write the PNG: %s",
                   path, cairo_status_to_string (st));
      return FALSE;
    }
  return TRUE;
}
