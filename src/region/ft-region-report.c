/* ft-region-report.c — the launch checklist of a region, as text and as a
 * PDF (cairo; the charts and tables of src/analytics/ft-chart): a summary
 * page with every data check, then the fleet sweep, the demand by hour of
 * day and the suggested depot sites.
 */
#include "ft-config.h"
#include "ft-region.h"

#include <cairo-pdf.h>
#include <math.h>
#include <string.h>
#include "ft-chart.h"

static const FtRegionSweepPoint *
recommended (const FtRegionReport *r)
{
  return r->recommended >= 0 && (guint) r->recommended < r->n_sweep ? &r->sweep[r->recommended] : NULL;
}

char *
ft_region_report_text (const FtRegionReport *r)
{
  g_return_val_if_fail (r != NULL, NULL);
  GString *s = g_string_new (NULL);
  guint counts[3];
  ft_region_report_counts (r, counts);
  g_string_append_printf (s, "Launch checklist: %s\n", r->name);
  g_string_append_printf (s, "time zone %s (%s)\n", r->time_zone ? r->time_zone : "-",
                          r->time_zone_source ? r->time_zone_source : "-");
  g_string_append_printf (s, "checks: %u pass, %u warn, %u fail\n\n", counts[0], counts[1], counts[2]);
  g_string_append_printf (s, "operating area        %.2f km², %u zones, %u street nodes\n", r->area_km2,
                          r->n_zones, r->n_nodes);
  g_string_append_printf (s, "street coverage       %.1f %% within 150 m of a street\n", 100 * r->coverage);
  g_string_append_printf (s, "demand                %.0f requests a day%s\n", r->requests_per_day,
                          r->demand_moved ? " (pattern moved from trips elsewhere)" : "");
  const FtRegionSweepPoint *p = recommended (r);
  if (p)
    g_string_append_printf (s, "recommended fleet     %u vehicles, %u field staff (serves %.0f %%)\n",
                            p->vehicles, p->staff, 100 * p->served_share);
  g_string_append_printf (s, "trips per vehicle-day %.2f expected\n", r->trips_per_vehicle_day);
  if (r->snapshot_vehicles)
    g_string_append_printf (s, "snapshot              %u vehicles, %u left out (far outside)\n",
                            r->snapshot_vehicles, r->snapshot_left_out);
  if (r->n_sweep)
    {
      g_string_append (s, "\nfleet sweep (one simulated day each)\n  vehicles  staff  requests  served  trips/vehicle-day\n");
      for (guint i = 0; i < r->n_sweep; i++)
        g_string_append_printf (s, "  %8u  %5u  %8.0f  %5.1f%%  %6.2f%s\n", r->sweep[i].vehicles,
                                r->sweep[i].staff, r->sweep[i].requested_per_day,
                                100 * r->sweep[i].served_share, r->sweep[i].trips_per_vehicle_day,
                                (gint) i == r->recommended ? "   <- recommended" : "");
    }
  if (r->n_depots)
    {
      g_string_append (s, "\nsuggested depot sites (weighted k-medoids over zone demand)\n");
      for (guint i = 0; i < r->n_depots; i++)
        g_string_append_printf (s, "  depot-%u  %.5f, %.5f  %.0f %% of demand nearest\n", i + 1,
                                r->depots[i].lat, r->depots[i].lon, 100 * r->depot_share[i]);
    }
  g_string_append (s, "\ndata checks\n");
  for (guint i = 0; i < r->checks->len; i++)
    {
      const FtRegionCheck *c = &g_array_index (r->checks, FtRegionCheck, i);
      g_string_append_printf (s, "  [%s] %s: %s\n", ft_region_verdict_name (c->verdict), c->name, c->reason);
    }
  return g_string_free (s, FALSE);
}

/* Text wrapped to width (points) at the current font; returns the height used. */
static double
draw_wrapped (cairo_t *cr, double x, double y, double width, const char *text, double line_h)
{
  g_auto(GStrv) words = g_strsplit (text, " ", -1);
  GString *line = g_string_new (NULL);
  double y0 = y;
  for (guint i = 0; words[i]; i++)
    {
      g_autofree char *cand = line->len ? g_strdup_printf ("%s %s", line->str, words[i]) : g_strdup (words[i]);
      cairo_text_extents_t ext;
      cairo_text_extents (cr, cand, &ext);
      if (ext.x_advance > width && line->len)
        {
          cairo_move_to (cr, x, y);
          cairo_show_text (cr, line->str);
          y += line_h;
          g_string_assign (line, words[i]);
        }
      else
        g_string_assign (line, cand);
    }
  if (line->len)
    {
      cairo_move_to (cr, x, y);
      cairo_show_text (cr, line->str);
      y += line_h;
    }
  g_string_free (line, TRUE);
  return y - y0;
}

static void
page_summary (cairo_t *cr, const FtRegionReport *r, double W, double H)
{
  guint counts[3];
  ft_region_report_counts (r, counts);
  cairo_set_source_rgb (cr, 1, 1, 1);
  cairo_paint (cr);
  cairo_set_source_rgb (cr, 0.1, 0.1, 0.1);
  cairo_select_font_face (cr, "Sans", CAIRO_FONT_SLANT_NORMAL, CAIRO_FONT_WEIGHT_BOLD);
  cairo_set_font_size (cr, 20);
  g_autofree char *title = g_strdup_printf ("Launch checklist: %s", r->name);
  cairo_move_to (cr, 40, 50);
  cairo_show_text (cr, title);
  cairo_select_font_face (cr, "Sans", CAIRO_FONT_SLANT_NORMAL, CAIRO_FONT_WEIGHT_NORMAL);
  cairo_set_font_size (cr, 10);
  const FtRegionSweepPoint *p = recommended (r);
  g_autofree char *l1 = g_strdup_printf ("Time zone %s (%s).  Checks: %u pass, %u warn, %u fail.",
                                         r->time_zone, r->time_zone_source, counts[0], counts[1], counts[2]);
  g_autofree char *l2 = g_strdup_printf ("Operating area %.2f km², %u zones, %u street nodes; %.1f %% within "
                                         "150 m of a street.", r->area_km2, r->n_zones, r->n_nodes,
                                         100 * r->coverage);
  g_autofree char *l3 = p
    ? g_strdup_printf ("Demand %.0f requests a day%s. Recommended: %u vehicles, %u field staff (%.0f %% "
                       "served); %.2f trips per vehicle and day expected.", r->requests_per_day,
                       r->demand_moved ? " (pattern moved from trips elsewhere)" : "", p->vehicles,
                       p->staff, 100 * p->served_share, r->trips_per_vehicle_day)
    : g_strdup_printf ("Demand %.0f requests a day; %.2f trips per vehicle and day expected (no sweep).",
                       r->requests_per_day, r->trips_per_vehicle_day);
  double y = 75;
  y += draw_wrapped (cr, 40, y, W - 80, l1, 14);
  y += draw_wrapped (cr, 40, y, W - 80, l2, 14);
  y += draw_wrapped (cr, 40, y, W - 80, l3, 14);
  y += 12;
  cairo_select_font_face (cr, "Sans", CAIRO_FONT_SLANT_NORMAL, CAIRO_FONT_WEIGHT_BOLD);
  cairo_set_font_size (cr, 13);
  cairo_move_to (cr, 40, y);
  cairo_show_text (cr, "Data checks");
  y += 20;
  for (guint i = 0; i < r->checks->len && y < H - 40; i++)
    {
      const FtRegionCheck *c = &g_array_index (r->checks, FtRegionCheck, i);
      static const double col[3][3] = { { 0.13, 0.55, 0.13 }, { 0.85, 0.55, 0.0 }, { 0.8, 0.1, 0.1 } };
      cairo_set_source_rgb (cr, col[c->verdict][0], col[c->verdict][1], col[c->verdict][2]);
      cairo_rectangle (cr, 40, y - 10, 38, 14);
      cairo_fill (cr);
      cairo_set_source_rgb (cr, 1, 1, 1);
      cairo_select_font_face (cr, "Sans", CAIRO_FONT_SLANT_NORMAL, CAIRO_FONT_WEIGHT_BOLD);
      cairo_set_font_size (cr, 9);
      cairo_move_to (cr, 45, y + 1);
      cairo_show_text (cr, ft_region_verdict_name (c->verdict));
      cairo_set_source_rgb (cr, 0.1, 0.1, 0.1);
      cairo_set_font_size (cr, 10);
      cairo_move_to (cr, 88, y + 1);
      cairo_show_text (cr, c->name);
      cairo_select_font_face (cr, "Sans", CAIRO_FONT_SLANT_NORMAL, CAIRO_FONT_WEIGHT_NORMAL);
      cairo_set_font_size (cr, 9);
      y += 14;
      y += draw_wrapped (cr, 88, y, W - 128, c->reason, 12) + 8;
    }
}

static void
page_charts (cairo_t *cr, const FtRegionReport *r, double W, double H)
{
  cairo_set_source_rgb (cr, 1, 1, 1);
  cairo_paint (cr);
  double half = (H - 60) / 2;
  /* the sweep */
  if (r->n_sweep)
    {
      g_autofree char **cats = g_new0 (char *, r->n_sweep + 1);
      g_autofree double *served = g_new (double, r->n_sweep);
      g_autofree double *tpv = g_new (double, r->n_sweep);
      for (guint i = 0; i < r->n_sweep; i++)
        {
          cats[i] = g_strdup_printf ("%u veh / %u staff", r->sweep[i].vehicles, r->sweep[i].staff);
          served[i] = r->sweep[i].served_share;
          tpv[i] = r->sweep[i].trips_per_vehicle_day;
        }
      FtChartSeries s1 = { "requests served", served, { 0, 0, 0 } };
      g_autofree char *note = g_strdup_printf ("One simulated day per size; recommended: %u vehicles.",
                                               recommended (r) ? recommended (r)->vehicles : 0);
      FtChart c = { .title = "Fleet sweep: share of requests served", .x_label = "fleet size",
                    .y_label = "served", .categories = (const char *const *) cats, .n = r->n_sweep,
                    .series = &s1, .n_series = 1, .style = FT_CHART_BARS, .y_percent = TRUE,
                    .y_max = 1.0, .note = note };
      cairo_save (cr);
      cairo_translate (cr, 30, 30);
      ft_chart_draw (cr, (W - 60) / 2 - 5, half - 10, &c);
      cairo_restore (cr);
      FtChartSeries s2 = { "trips per vehicle-day", tpv, { 0, 0, 0 } };
      FtChart c2 = { .title = "Trips per vehicle and day", .x_label = "fleet size",
                     .y_label = "trips / vehicle / day", .categories = (const char *const *) cats,
                     .n = r->n_sweep, .series = &s2, .n_series = 1, .style = FT_CHART_BARS };
      cairo_save (cr);
      cairo_translate (cr, 30 + (W - 60) / 2 + 5, 30);
      ft_chart_draw (cr, (W - 60) / 2 - 5, half - 10, &c2);
      cairo_restore (cr);
      for (guint i = 0; i < r->n_sweep; i++)
        g_free (cats[i]);
    }
  /* demand by hour of day */
  static const char *hours[24] = { "0", "1", "2", "3", "4", "5", "6", "7", "8", "9", "10", "11", "12",
                                   "13", "14", "15", "16", "17", "18", "19", "20", "21", "22", "23" };
  FtChartSeries s3 = { "requests", r->hourly, { 0, 0, 0 } };
  FtChart c3 = { .title = "Expected requests by hour of day (mean day)", .x_label = "hour of day (local)",
                 .y_label = "requests per hour", .categories = hours, .n = 24, .series = &s3,
                 .n_series = 1, .style = FT_CHART_LINES,
                 .note = r->demand_moved ? "Pattern moved from trip data of another city." : NULL };
  cairo_save (cr);
  cairo_translate (cr, 30, 30 + half);
  ft_chart_draw (cr, (W - 60) / 2 - 5, half - 10, &c3);
  cairo_restore (cr);
  /* depots */
  if (r->n_depots)
    {
      const char *hdr[] = { "depot", "latitude", "longitude", "demand nearest" };
      g_autofree char **cells = g_new0 (char *, r->n_depots * 4 + 1);
      for (guint i = 0; i < r->n_depots; i++)
        {
          cells[i * 4] = g_strdup_printf ("depot-%u", i + 1);
          cells[i * 4 + 1] = g_strdup_printf ("%.5f", r->depots[i].lat);
          cells[i * 4 + 2] = g_strdup_printf ("%.5f", r->depots[i].lon);
          cells[i * 4 + 3] = g_strdup_printf ("%.0f %%", 100 * r->depot_share[i]);
        }
      cairo_save (cr);
      cairo_translate (cr, 30 + (W - 60) / 2 + 5, 30 + half);
      ft_chart_draw_table (cr, (W - 60) / 2 - 5, half - 10, "Suggested depot sites (k-medoids over demand)",
                           hdr, 4, (const char *const *) cells, r->n_depots);
      cairo_restore (cr);
      for (guint i = 0; i < r->n_depots * 4; i++)
        g_free (cells[i]);
    }
}

gboolean
ft_region_report_pdf (const FtRegionReport *r, const char *path, GError **error)
{
  g_return_val_if_fail (r != NULL && path != NULL, FALSE);
  const double W = 595, H = 842;   /* A4 portrait, points */
  cairo_surface_t *surf = cairo_pdf_surface_create (path, W, H);
  if (cairo_surface_status (surf) != CAIRO_STATUS_SUCCESS)
    {
      g_set_error (error, FT_REGION_ERROR, FT_REGION_ERROR_OUTPUT, "%s: %s", path,
                   cairo_status_to_string (cairo_surface_status (surf)));
      cairo_surface_destroy (surf);
      return FALSE;
    }
  cairo_t *cr = cairo_create (surf);
  page_summary (cr, r, W, H);
  cairo_show_page (cr);
  cairo_pdf_surface_set_size (surf, H, W);   /* charts: landscape */
  page_charts (cr, r, H, W);
  cairo_show_page (cr);
  cairo_status_t st = cairo_status (cr);
  cairo_destroy (cr);
  cairo_surface_finish (surf);
  if (st == CAIRO_STATUS_SUCCESS)
    st = cairo_surface_status (surf);
  cairo_surface_destroy (surf);
  if (st != CAIRO_STATUS_SUCCESS)
    {
      g_set_error (error, FT_REGION_ERROR, FT_REGION_ERROR_OUTPUT, "%s: %s", path, cairo_status_to_string (st));
      return FALSE;
    }
  return TRUE;
}
