/* bench-maint.c — how long predictive maintenance takes on a run database
 * (make one with `fleet-twin-cli run scenarios/demo-city-phase1.scenario
 * --days 14 --out run.db`: 1000 vehicles, 14 days): the median time to read
 * the log, to build the training rows (every 6 h over all but the last 4
 * days), to fit each model, and to score the whole fleet "now" (shadow
 * mode: features from the running state plus P(24 h) and P(7 d) for every
 * vehicle), with predictions per second. XGBoost runs on one thread.
 * Target (one core): the whole fleet in under 5 ms.
 *   bench-maint [--reps N] RUN.db
 */
#include "ft-config.h"
#include "ft-test.h"
#include "ft-maint.h"

#include <stdio.h>
#include <stdlib.h>
#include <gsl/gsl_errno.h>

static double
now_s (void)
{
  return g_get_monotonic_time () / 1e6;
}

int
main (int argc, char **argv)
{
  gsl_set_error_handler_off ();
  int reps = 5, pred_reps = 200;
  const char *path = NULL;
  for (int i = 1; i < argc; i++)
    {
      if (g_str_equal (argv[i], "--reps") && i + 1 < argc)
        reps = atoi (argv[++i]);
      else
        path = argv[i];
    }
  if (reps < 1 || path == NULL)
    {
      fprintf (stderr, "usage: bench-maint [--reps N] RUN.db\n");
      return 2;
    }
  g_autoptr (GError) error = NULL;
  g_autofree double *t_read = g_new (double, reps);
  g_autoptr (FtMaintLog) log = NULL;
  for (int r = 0; r < reps; r++)
    {
      double t0 = now_s ();
      g_clear_pointer (&log, ft_maint_log_free);
      log = ft_maint_log_read_db (path, &error);
      if (log == NULL)
        {
          fprintf (stderr, "bench-maint: %s\n", error->message);
          return 1;
        }
      t_read[r] = now_s () - t0;
    }
  FtTime end = ft_maint_log_end (log), start = ft_maint_log_start (log);
  FtTime test_start = end - 4 * FT_DAY;
  if (test_start <= start)
    {
      fprintf (stderr, "bench-maint: %s covers less than 4 days\n", path);
      return 1;
    }
  FtTime step = 6 * FT_HOUR;
  FtTime first = test_start - ((test_start - start) / step) * step;
  g_autofree double *t_rows = g_new (double, reps);
  g_autoptr (GArray) rows = NULL;
  for (int r = 0; r < reps; r++)
    {
      double t0 = now_s ();
      g_clear_pointer (&rows, g_array_unref);
      rows = ft_maint_log_rows (log, first, test_start, step, test_start, &error);
      t_rows[r] = now_s () - t0;
      if (rows == NULL)
        {
          fprintf (stderr, "bench-maint: %s\n", error->message);
          return 1;
        }
    }
  printf ("%s: %u vehicles, %u faults, %.1f days; %u training rows\n", path, ft_maint_log_n_vehicles (log),
          ft_maint_log_n_faults (log), (double) (end - start) / FT_DAY, rows->len);
  printf ("read the log        median %8.3f s\n", ft_test_median (t_read, reps));
  printf ("build training rows median %8.3f s\n", ft_test_median (t_rows, reps));

  FtMaintParams p;
  ft_maint_params_init (&p);
  p.xgb_nthread = 1;
  for (guint k = 0; k < FT_N_MAINT_KINDS; k++)
    {
      g_autofree double *t_fit = g_new (double, reps);
      g_autoptr (FtMaintModel) m = NULL;
      for (int r = 0; r < reps; r++)
        {
          double t0 = now_s ();
          g_clear_pointer (&m, ft_maint_model_free);
          m = ft_maint_model_fit (k, &p, (const FtMaintRow *) rows->data, rows->len, &error);
          t_fit[r] = now_s () - t0;
          if (m == NULL)
            {
              fprintf (stderr, "bench-maint: %s\n", error->message);
              return 1;
            }
        }
      /* shadow mode: every vehicle in service now, both horizons */
      g_autofree double *t_pred = g_new (double, pred_reps);
      guint n = 0;
      for (int r = 0; r < pred_reps; r++)
        {
          double t0 = now_s ();
          g_autoptr (GArray) fleet = ft_maint_log_rows_now (log, end, &error);
          g_autofree double *out = g_new (double, MAX (fleet->len, 1));
          for (guint h = 0; h < FT_MAINT_N_HORIZONS; h++)
            if (!ft_maint_model_predict (m, (const FtMaintRow *) fleet->data, fleet->len, ft_maint_horizons_h[h],
                                         out, &error))
              {
                fprintf (stderr, "bench-maint: %s\n", error->message);
                return 1;
              }
          t_pred[r] = now_s () - t0;
          n = fleet->len;
        }
      double fit = ft_test_median (t_fit, reps), pred = ft_test_median (t_pred, pred_reps);
      printf ("%-8s fit median %8.3f s   whole fleet (%u vehicles, 2 horizons) median %7.3f ms   "
              "%.0f predictions/s\n", ft_maint_kind_name (k), fit, n, pred * 1e3, 2.0 * n / pred);
      if (k == FT_MAINT_WEIBULL)
        {
          double shape, scale, beta[FT_MAINT_N_FEATURES];
          ft_maint_model_weibull (m, &shape, &scale, beta);
          printf ("         shape %.3f scale %.1f h;", shape, scale);
          for (guint j = 0; j < FT_MAINT_N_FEATURES; j++)
            printf (" %s %+.3f", ft_maint_feature_name (j), beta[j]);
          printf ("\n");
        }
    }
  return 0;
}
