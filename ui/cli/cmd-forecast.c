/* cmd-forecast.c — `fleet-twin-cli forecast backtest SOURCE`: import a trip
 * file, count trip starts per zone and hour on the hexagonal zones the
 * project builds from trips, fit the forecast ladder (historical mean, Poisson
 * GLM, XGBoost) on a training window and score it by a rolling-origin
 * backtest over the last days; prints RMSE, MAE and Poisson deviance per
 * model with the ratio to the baseline, and can write every prediction as CSV
 * and one zone's forecast against actual as a PNG chart.
 */
#include "ft-config.h"
#include "ft-cli.h"
#include "ft-demand-fit.h"
#include "ft-file.h"
#include "ft-forecast.h"
#include "ft-forecast-plot.h"

#include <math.h>
#include <stdio.h>
#include <string.h>
#include <gsl/gsl_errno.h>

#define CSV_HEADER "model,zone,hour,origin,lead,predicted,actual\n"

static gboolean
csv_is_own (const char *path)
{
  char buf[sizeof CSV_HEADER] = { 0 };
  FILE *f = fopen (path, "rb");
  if (f == NULL)
    return FALSE;
  size_t n = fread (buf, 1, sizeof CSV_HEADER - 1, f);
  fclose (f);
  return n == sizeof CSV_HEADER - 1 && memcmp (buf, CSV_HEADER, n) == 0;
}

typedef struct {
  const FtDemandSeries *s;
  GString *csv;
  int      plot_zone;
  guint    plot_start;         /* first hour of the plotted window */
  double  *plot[FT_N_FORECAST_KINDS];  /* [hour - plot_start], NaN until set */
} RowSink;

static void
hour_label (const FtDemandSeries *s, guint h, char *buf, gsize len)
{
  g_autoptr(GDateTime) dt = g_date_time_new_from_unix_utc ((s->t0 + (FtTime) h * FT_HOUR) / 1000);
  g_autofree char *txt = g_date_time_format (dt, "%Y-%m-%dT%H:%M");
  g_strlcpy (buf, txt, len);
}

static void
on_row (FtForecastKind kind, guint zone, guint hour, guint origin, guint lead, double predicted,
        double actual, gpointer user_data)
{
  RowSink *sink = user_data;
  if (sink->csv)
    {
      char h[32], o[32];
      hour_label (sink->s, hour, h, sizeof h);
      hour_label (sink->s, origin, o, sizeof o);
      g_string_append_printf (sink->csv, "%s,%s,%s,%s,%u,%.4f,%g\n", ft_forecast_kind_name (kind),
                              sink->s->zone_ids[zone], h, o, lead, predicted, actual);
    }
  /* The chart shows each hour's earliest forecast (the longest lead). */
  if ((int) zone == sink->plot_zone && sink->plot[kind] && isnan (sink->plot[kind][hour - sink->plot_start]))
    sink->plot[kind][hour - sink->plot_start] = predicted;
}

static int
zone_of (const FtCity *city, FtLatLon p)
{
  for (guint z = 0; z < city->n_zones; z++)
    {
      const FtMultiPolygon *mp = city->zones[z].area;
      if (mp && ft_bbox_contains (&mp->bbox, p) && ft_multipolygon_contains (mp, p))
        return (int) z;
    }
  return -1;
}

static gboolean
write_text_output (const char *target, const char *text, gsize len, FtOutputOwnFunc is_own,
                   gboolean force, GError **error)
{
  g_autoptr(FtOutput) out = ft_output_begin (target, FT_OUTPUT_FILE, is_own, force, error);
  if (out == NULL || !g_file_set_contents (ft_output_get_path (out), text, (gssize) len, error))
    return FALSE;
  return ft_output_commit (g_steal_pointer (&out), error);
}

static int
fail (const char *msg)
{
  fprintf (stderr, "fleet-twin-cli forecast: %s\n", msg);
  return 1;
}

static int
usage_error (const char *msg)
{
  fprintf (stderr, "fleet-twin-cli forecast backtest: %s\n", msg);
  return 2;
}

static int
backtest (int argc, char **argv)
{
  int train_days = 21, test_days = 7, horizon = 24, every = 24, rounds = 200, threads = 1, depth = 4;
  double hex_m = 400;
  g_autofree char *csv = NULL, *png = NULL, *plot_zone = NULL, *models = NULL, *holidays = NULL;
  gboolean force = FALSE;
  GOptionEntry entries[] = {
    { "train-days", 0, 0, G_OPTION_ARG_INT, &train_days, "Days in the training window (default 21)", "N" },
    { "test-days", 0, 0, G_OPTION_ARG_INT, &test_days, "Days at the end of the data to test on (default 7)", "N" },
    { "hex", 0, 0, G_OPTION_ARG_DOUBLE, &hex_m, "Zone hexagon size in metres, centre to corner (default 400)", "M" },
    { "horizon", 0, 0, G_OPTION_ARG_INT, &horizon, "Forecast horizon in hours, 1 to 24 (default 24)", "H" },
    { "origin-every", 0, 0, G_OPTION_ARG_INT, &every, "Hours between forecast origins (default 24)", "H" },
    { "models", 0, 0, G_OPTION_ARG_STRING, &models, "Models to score, comma-separated: mean,glm,xgboost (default all; mean is always scored)", "LIST" },
    { "holidays", 0, 0, G_OPTION_ARG_STRING, &holidays, "Public holidays, counted as Sundays: YYYY-MM-DD,…", "DATES" },
    { "rounds", 0, 0, G_OPTION_ARG_INT, &rounds, "XGBoost boosting rounds (default 200)", "N" },
    { "depth", 0, 0, G_OPTION_ARG_INT, &depth, "XGBoost tree depth (default 4)", "N" },
    { "threads", 0, 0, G_OPTION_ARG_INT, &threads, "XGBoost threads (default 1; 0: XGBoost's choice)", "N" },
    { "csv", 0, 0, G_OPTION_ARG_FILENAME, &csv, "Write every prediction (model, zone, hour, origin, lead, predicted, actual)", "FILE" },
    { "plot-zone", 0, 0, G_OPTION_ARG_STRING, &plot_zone, "Zone id to chart (default: the busiest)", "ZONE" },
    { "png", 0, 0, G_OPTION_ARG_FILENAME, &png, "Draw forecast vs actual for the chart's zone", "FILE" },
    { "force", 0, 0, G_OPTION_ARG_NONE, &force, "Replace an existing --png or a CSV this command did not write", NULL },
    { NULL }
  };
  g_autoptr(GOptionContext) ctx = g_option_context_new ("SOURCE — rolling-origin backtest of the demand forecasts");
  g_option_context_add_main_entries (ctx, entries, NULL);
  g_option_context_set_description (ctx,
    "SOURCE is a trip file fleet-twin-cli import-trips reads (Citi Bike CSV, MDS trips JSON).\n"
    "Trips are counted per hexagonal zone of their start point and hour; served trips\n"
    "are a lower bound on demand (the file records no lost demand).\n"
    "Each model is fitted once on the training window just before the test window\n"
    "(the last --test-days of the data) and scored only on test hours.\n");
  g_autoptr(GError) error = NULL;
  if (!g_option_context_parse (ctx, &argc, &argv, &error))
    return usage_error (error->message);
  if (argc != 2)
    return usage_error ("usage: fleet-twin-cli forecast backtest SOURCE [--train-days N] [--test-days N] "
                        "[--hex M] [--horizon H] [--csv FILE] [--plot-zone Z --png FILE]");
  if (train_days < 1 || train_days > 3650)
    return usage_error ("--train-days must be 1 to 3650");
  if (test_days < 1 || test_days > 3650)
    return usage_error ("--test-days must be 1 to 3650");
  if (!isfinite (hex_m) || hex_m < 50 || hex_m > 10000)
    return usage_error ("--hex must be 50 to 10000 metres");
  if (horizon < 1 || horizon > FT_FORECAST_MAX_HORIZON)
    return usage_error ("--horizon must be 1 to 24 hours");
  if (every < 1 || every > 24 * 365)
    return usage_error ("--origin-every must be at least 1 hour");
  if (rounds < 1 || rounds > 100000)
    return usage_error ("--rounds must be 1 to 100000");
  if (depth < 1 || depth > 16)
    return usage_error ("--depth must be 1 to 16");
  if (threads < 0 || threads > 1024)
    return usage_error ("--threads must be 0 to 1024");
  if (plot_zone && !png)
    return usage_error ("--plot-zone needs --png FILE");

  FtForecastKind kinds[FT_N_FORECAST_KINDS] = { FT_FORECAST_MEAN };
  guint n_kinds = 1;
  if (models == NULL)
    models = g_strdup ("glm,xgboost");
  g_auto(GStrv) names = g_strsplit (models, ",", -1);
  for (guint i = 0; names[i]; i++)
    {
      FtForecastKind k;
      if (!ft_forecast_kind_from_name (g_strstrip (names[i]), &k))
        {
          g_autofree char *m = g_strdup_printf ("--models: unknown model '%s' (mean, glm, xgboost)", names[i]);
          return usage_error (m);
        }
      gboolean seen = FALSE;
      for (guint j = 0; j < n_kinds; j++)
        seen |= kinds[j] == k;
      if (!seen)
        kinds[n_kinds++] = k;
    }

  g_autoptr(GArray) holiday_days = g_array_new (FALSE, FALSE, sizeof (FtTime));
  if (holidays)
    {
      g_auto(GStrv) dates = g_strsplit (holidays, ",", -1);
      for (guint i = 0; dates[i]; i++)
        {
          g_autofree char *txt = g_strdup_printf ("%s 12:00:00", g_strstrip (dates[i]));
          FtTime day;
          if (strlen (dates[i]) != 10 || !ft_trips_parse_time (txt, &day))
            {
              g_autofree char *m = g_strdup_printf ("--holidays: '%s' is not a date YYYY-MM-DD", dates[i]);
              return usage_error (m);
            }
          g_array_append_val (holiday_days, day);
        }
    }

  gsl_set_error_handler_off ();
  const char *source = argv[1];
  g_autoptr(FtTripSet) trips = ft_trips_load (source, &error);
  if (trips == NULL)
    return fail (error->message);
  g_autoptr(FtCity) city = ft_city_from_trips (trips, "forecast zones", hex_m, &error);
  if (city == NULL)
    return fail (error->message);
  g_autofree FtTime *t = g_new (FtTime, MAX (trips->n_trips, 1));
  g_autofree int *zone = g_new (int, MAX (trips->n_trips, 1));
  g_autofree const char **ids = g_new0 (const char *, city->n_zones + 1);
  for (guint z = 0; z < city->n_zones; z++)
    ids[z] = city->zones[z].id;
  for (guint i = 0; i < trips->n_trips; i++)
    {
      t[i] = trips->trips[i].start;
      zone[i] = zone_of (city, trips->trips[i].from);
    }
  g_autoptr(FtDemandSeries) s = ft_demand_series_from_events (city->n_zones, ids, t, zone,
                                                              trips->n_trips, &error);
  if (s == NULL)
    {
      g_prefix_error (&error, "%s: ", source);
      return fail (error->message);
    }
  ft_demand_series_set_holidays (s, (const FtTime *) holiday_days->data, holiday_days->len);
  guint zones_with_trips = 0;
  double total = 0;
  int busiest = 0;
  double busiest_n = -1;
  for (guint z = 0; z < s->n_zones; z++)
    {
      double n = 0;
      for (guint h = 0; h < s->n_hours; h++)
        n += s->count[(gsize) z * s->n_hours + h];
      zones_with_trips += n > 0;
      total += n;
      if (n > busiest_n)
        busiest_n = n, busiest = (int) z;
    }
  printf ("%s: %u trips in %u zones of %.0f m (%u with trip starts), %u hours (%.1f days)\n",
          source, (guint) total, s->n_zones, hex_m, zones_with_trips, s->n_hours, s->n_hours / 24.0);

  RowSink sink = { .s = s, .plot_zone = -1 };
  if (png)
    {
      sink.plot_zone = busiest;
      if (plot_zone)
        {
          sink.plot_zone = -1;
          for (guint z = 0; z < s->n_zones; z++)
            if (g_strcmp0 (s->zone_ids[z], plot_zone) == 0)
              sink.plot_zone = (int) z;
          if (sink.plot_zone < 0)
            {
              g_autofree char *m = g_strdup_printf ("--plot-zone: no zone '%s' (zones are hex-0 to hex-%u)",
                                                    plot_zone, s->n_zones - 1);
              return usage_error (m);
            }
        }
    }
  FtBacktestSpec spec = { (guint) train_days * 24, (guint) test_days * 24, (guint) horizon, (guint) every };
  if ((guint64) spec.train_hours + spec.test_hours > s->n_hours)
    {
      g_autofree char *m = g_strdup_printf ("%s: %d training and %d test days are longer than the data "
                                            "(%.1f days)", source, train_days, test_days, s->n_hours / 24.0);
      return fail (m);
    }
  sink.plot_start = s->n_hours - spec.test_hours;
  for (guint k = 0; png && k < n_kinds; k++)
    {
      sink.plot[kinds[k]] = g_new (double, spec.test_hours);
      for (guint h = 0; h < spec.test_hours; h++)
        sink.plot[kinds[k]][h] = NAN;
    }
  if (csv)
    sink.csv = g_string_new (CSV_HEADER);

  FtForecastParams params;
  ft_forecast_params_init (&params);
  params.xgb_rounds = (guint) rounds;
  params.xgb_nthread = (guint) threads;
  params.xgb_max_depth = (guint) depth;
  FtForecastScore scores[FT_N_FORECAST_KINDS];
  double fit_s[FT_N_FORECAST_KINDS];
  gboolean ok = ft_forecast_backtest (s, &spec, &params, kinds, n_kinds, scores, fit_s, on_row, &sink, &error);
  int rc = 0;
  if (!ok)
    rc = fail (error->message);
  else
    {
      char a[32], b[32];
      hour_label (s, s->n_hours - spec.test_hours - spec.train_hours, a, sizeof a);
      hour_label (s, s->n_hours - spec.test_hours, b, sizeof b);
      printf ("train %s to %s (%d days), test %d days from %s; horizon %d h, origin every %d h\n",
              a, b, train_days, test_days, b, horizon, every);
      printf ("%-8s %8s %8s %10s %10s %9s %9s %8s\n", "model", "RMSE", "MAE", "deviance",
              "zone-hours", "RMSE/mean", "MAE/mean", "fit s");
      for (guint k = 0; k < n_kinds; k++)
        printf ("%-8s %8.4f %8.4f %10.4f %10u %9.3f %9.3f %8.2f\n", ft_forecast_kind_name (kinds[k]),
                scores[k].rmse, scores[k].mae, scores[k].deviance, scores[k].n,
                scores[k].rmse / scores[0].rmse, scores[k].mae / scores[0].mae, fit_s[k]);
    }
  if (ok && csv)
    {
      if (!write_text_output (csv, sink.csv->str, sink.csv->len, csv_is_own, force, &error))
        rc = fail (error->message);
      else
        printf ("predictions written to %s\n", csv);
    }
  if (ok && rc == 0 && png)
    {
      FtPlotLine lines[FT_N_FORECAST_KINDS];
      g_autofree double *actual = g_new (double, spec.test_hours);
      for (guint h = 0; h < spec.test_hours; h++)
        actual[h] = ft_demand_series_demand (s, (guint) sink.plot_zone, sink.plot_start + h);
      for (guint k = 0; k < n_kinds; k++)
        lines[k] = (FtPlotLine) { ft_forecast_kind_name (kinds[k]), sink.plot[kinds[k]] };
      g_autofree char *title = g_strdup_printf ("Zone %s: trips started per hour, forecast (horizon %d h) vs actual",
                                                s->zone_ids[sink.plot_zone], horizon);
      g_autoptr(FtOutput) out = ft_output_begin (png, FT_OUTPUT_FILE, NULL, force, &error);
      if (out == NULL
          || !ft_forecast_plot_png (ft_output_get_path (out), title, s->t0 + (FtTime) sink.plot_start * FT_HOUR,
                                    spec.test_hours, actual, lines, n_kinds, &error)
          || !ft_output_commit (g_steal_pointer (&out), &error))
        rc = fail (error->message);
      else
        printf ("chart of zone %s written to %s\n", s->zone_ids[sink.plot_zone], png);
    }
  for (int k = 0; k < FT_N_FORECAST_KINDS; k++)
    g_free (sink.plot[k]);
  if (sink.csv)
    g_string_free (sink.csv, TRUE);
  return rc;
}

int
ft_cli_forecast (int argc, char **argv)
{
  if (argc >= 2 && strcmp (argv[1], "backtest") == 0)
    {
      g_autofree char *prog = g_strdup_printf ("%s backtest", argv[0]);
      argv[1] = prog;
      return backtest (argc - 1, argv + 1);
    }
  fprintf (stderr, "usage: fleet-twin-cli forecast backtest SOURCE [OPTIONS…]\n"
                   "Run 'fleet-twin-cli forecast backtest --help' for the options.\n");
  return 2;
}
