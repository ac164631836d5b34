/* bench-forecast.c — how long the forecast models take on a city-month
 * (the shared Citi Bike Jersey City January 2020 file, zones of --hex
 * metres): median training time per model over --reps fits on the whole
 * month, and the median time to predict every zone for the next 24 hours
 * (predictions per second), in wall time and in the thread's CPU time
 * (what one core spends, whatever else the machine runs). XGBoost runs on
 * one thread. Targets (one core): GLM fit < 2 s, XGBoost fit < 10 s, a
 * city's zones < 5 ms.
 *   bench-forecast [--hex M] [--reps N] [TRIPS.csv]
 */
#include "ft-config.h"
#include "ft-test.h"
#include "ft-demand-fit.h"
#include "ft-forecast.h"

#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <gsl/gsl_errno.h>

static double
cpu_now (void)
{
  struct timespec ts;
  clock_gettime (CLOCK_THREAD_CPUTIME_ID, &ts);
  return (double) ts.tv_sec + ts.tv_nsec * 1e-9;
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

int
main (int argc, char **argv)
{
  gsl_set_error_handler_off ();
  double hex_m = 400;
  int reps = 5, pred_reps = 200;
  g_autofree char *path = NULL;
  for (int i = 1; i < argc; i++)
    {
      if (g_str_equal (argv[i], "--hex") && i + 1 < argc)
        hex_m = g_ascii_strtod (argv[++i], NULL);
      else if (g_str_equal (argv[i], "--reps") && i + 1 < argc)
        reps = atoi (argv[++i]);
      else
        path = g_strdup (argv[i]);
    }
  if (reps < 1 || !(hex_m >= 50))
    {
      fprintf (stderr, "usage: bench-forecast [--hex M] [--reps N] [TRIPS.csv]\n");
      return 2;
    }
  if (path == NULL)
    path = ft_test_shared_path ("trips/JC-202001-citibike-tripdata.csv");
  g_autoptr(GError) error = NULL;
  g_autoptr(FtTripSet) trips = ft_trips_load (path, &error);
  g_autoptr(FtCity) city = trips ? ft_city_from_trips (trips, "bench", hex_m, &error) : NULL;
  if (city == NULL)
    {
      fprintf (stderr, "bench-forecast: %s\n", error->message);
      return 1;
    }
  g_autofree FtTime *t = g_new (FtTime, trips->n_trips);
  g_autofree int *zone = g_new (int, trips->n_trips);
  for (guint i = 0; i < trips->n_trips; i++)
    {
      t[i] = trips->trips[i].start;
      zone[i] = zone_of (city, trips->trips[i].from);
    }
  g_autoptr(FtDemandSeries) s = ft_demand_series_from_events (city->n_zones, NULL, t, zone,
                                                              trips->n_trips, &error);
  if (s == NULL)
    {
      fprintf (stderr, "bench-forecast: %s\n", error->message);
      return 1;
    }
  printf ("city-month: %u zones of %.0f m x %u hours (%u trips), fits on all of it, XGBoost nthread=1\n",
          s->n_zones, hex_m, s->n_hours, trips->n_trips);
  printf ("%-8s %12s %12s %18s %18s %16s\n", "model", "fit s (med)", "fit CPU s", "24 h x zones ms",
          "24 h x zones CPU ms", "predictions/s");
  FtForecastParams p;
  ft_forecast_params_init (&p);
  p.xgb_nthread = 1;
  g_autofree double *out = g_new (double, (gsize) s->n_zones * 24);
  g_autofree double *fit = g_new (double, reps);
  g_autofree double *pred = g_new (double, pred_reps);
  g_autofree double *fit_cpu = g_new (double, reps);
  g_autofree double *pred_cpu = g_new (double, pred_reps);
  for (int k = 0; k < FT_N_FORECAST_KINDS; k++)
    {
      g_autoptr(FtForecaster) f = ft_forecaster_new ((FtForecastKind) k, &p);
      for (int r = 0; r < reps; r++)
        {
          gint64 t0 = g_get_monotonic_time ();
          double c0 = cpu_now ();
          if (!ft_forecaster_fit (f, s, 0, s->n_hours, &error))
            {
              fprintf (stderr, "bench-forecast: %s\n", error->message);
              return 1;
            }
          fit[r] = (g_get_monotonic_time () - t0) / 1e6;
          fit_cpu[r] = cpu_now () - c0;
        }
      for (int r = 0; r < pred_reps; r++)
        {
          guint origin = s->n_hours - 24 - (guint) (r % 48);
          gint64 t0 = g_get_monotonic_time ();
          double c0 = cpu_now ();
          if (!ft_forecaster_predict (f, s, origin, 24, out, &error))
            {
              fprintf (stderr, "bench-forecast: %s\n", error->message);
              return 1;
            }
          pred[r] = (g_get_monotonic_time () - t0) / 1e3;
          pred_cpu[r] = (cpu_now () - c0) * 1e3;
        }
      double fit_med = ft_test_median (fit, (guint) reps);
      double pred_med = ft_test_median (pred, (guint) pred_reps);
      double pred_cpu_med = ft_test_median (pred_cpu, (guint) pred_reps);
      printf ("%-8s %12.3f %12.3f %18.3f %18.3f %16.0f\n", ft_forecast_kind_name ((FtForecastKind) k), fit_med,
              ft_test_median (fit_cpu, (guint) reps), pred_med, pred_cpu_med,
              s->n_zones * 24 / (pred_cpu_med / 1e3));
    }
  return 0;
}
