/* ft-stats.c — paired comparisons, Holm, CUPED and power for experiments.
 * Distributions come from GSL (t quantiles and tails, normal quantiles); the
 * bootstrap draws from a gsl_rng seeded by the caller.
 */
#include "ft-stats.h"

#include <gsl/gsl_cdf.h>
#include <gsl/gsl_rng.h>
#include <math.h>
#include <stdlib.h>

G_DEFINE_QUARK (ft-stats-error-quark, ft_stats_error)

void
ft_stats_mean_sd (const double *x, guint n, double *mean, double *sd)
{
  double m = 0, s = 0;
  for (guint i = 0; i < n; i++)
    m += x[i];
  m = n ? m / n : 0;
  for (guint i = 0; i < n; i++)
    s += (x[i] - m) * (x[i] - m);
  if (mean)
    *mean = m;
  if (sd)
    *sd = n > 1 ? sqrt (s / (n - 1)) : 0;
}

double
ft_stats_t_quantile (double p, double df)
{
  return gsl_cdf_tdist_Pinv (p, df);
}

static int
cmp_double (const void *a, const void *b)
{
  double x = *(const double *) a, y = *(const double *) b;
  return (x > y) - (x < y);
}

/* Quantile of sorted v (type 7, R's default). */
static double
quantile_sorted (const double *v, guint n, double q)
{
  double h = (n - 1) * q;
  guint lo = (guint) floor (h);
  guint hi = MIN (lo + 1, n - 1);
  return v[lo] + (h - lo) * (v[hi] - v[lo]);
}

void
ft_stats_bootstrap_mean (const double *x, guint n, guint B, guint64 seed, double alpha,
                         double *lo, double *hi)
{
  g_return_if_fail (x != NULL && n > 0 && B > 0);
  gsl_rng *r = gsl_rng_alloc (gsl_rng_mt19937);
  gsl_rng_set (r, (unsigned long) seed);
  double *means = g_new (double, B);
  for (guint b = 0; b < B; b++)
    {
      double s = 0;
      for (guint i = 0; i < n; i++)
        s += x[gsl_rng_uniform_int (r, n)];
      means[b] = s / n;
    }
  qsort (means, B, sizeof *means, cmp_double);
  *lo = quantile_sorted (means, B, alpha / 2);
  *hi = quantile_sorted (means, B, 1 - alpha / 2);
  g_free (means);
  gsl_rng_free (r);
}

gboolean
ft_stats_paired (const double *treatment, const double *control, guint n, double alpha, guint B,
                 guint64 seed, FtStatsPaired *out, GError **error)
{
  g_return_val_if_fail (treatment != NULL && control != NULL && out != NULL, FALSE);
  g_return_val_if_fail (alpha > 0 && alpha < 1, FALSE);
  if (n < 2)
    {
      g_set_error (error, FT_STATS_ERROR, FT_STATS_ERROR_INPUT,
                   "a paired comparison needs at least 2 pairs (got %u)", n);
      return FALSE;
    }
  g_autofree double *d = g_new (double, n);
  for (guint i = 0; i < n; i++)
    {
      if (!isfinite (treatment[i]) || !isfinite (control[i]))
        {
          g_set_error (error, FT_STATS_ERROR, FT_STATS_ERROR_INPUT,
                       "pair %u holds a value that is not a finite number", i);
          return FALSE;
        }
      d[i] = treatment[i] - control[i];
    }
  FtStatsPaired r = { .n = n, .df = n - 1 };
  ft_stats_mean_sd (d, n, &r.mean, &r.sd);
  ft_stats_mean_sd (control, n, &r.control_mean, NULL);
  r.se = r.sd / sqrt (n);
  double tq = gsl_cdf_tdist_Pinv (1 - alpha / 2, r.df);
  if (r.se > 0)
    {
      r.t = r.mean / r.se;
      r.p = 2 * gsl_cdf_tdist_Q (fabs (r.t), r.df);
      r.cohen_dz = r.mean / r.sd;
    }
  else
    {
      /* every difference equal: no variance to test against */
      r.t = r.mean == 0 ? 0 : copysign (INFINITY, r.mean);
      r.p = r.mean == 0 ? 1 : 0;
      r.cohen_dz = r.mean == 0 ? 0 : copysign (INFINITY, r.mean);
    }
  r.t_lo = r.mean - tq * r.se;
  r.t_hi = r.mean + tq * r.se;
  ft_stats_bootstrap_mean (d, n, B ? B : 2000, seed, alpha, &r.boot_lo, &r.boot_hi);
  *out = r;
  return TRUE;
}

void
ft_stats_holm (const double *p, guint m, double *adj)
{
  g_return_if_fail (p != NULL && adj != NULL);
  if (m == 0)
    return;
  g_autofree guint *order = g_new (guint, m);
  g_autofree double *in = g_memdup2 (p, sizeof (double) * m);
  for (guint i = 0; i < m; i++)
    order[i] = i;
  /* insertion sort by p (m is the number of metrics: small), stable */
  for (guint i = 1; i < m; i++)
    for (guint j = i; j > 0 && in[order[j]] < in[order[j - 1]]; j--)
      {
        guint t = order[j];
        order[j] = order[j - 1];
        order[j - 1] = t;
      }
  double run = 0;
  for (guint k = 0; k < m; k++)
    {
      double v = MIN (1.0, (m - k) * in[order[k]]);
      run = MAX (run, v);
      adj[order[k]] = run;
    }
}

double
ft_stats_cuped (const double *y, const double *x, guint n, double *y_adj)
{
  g_return_val_if_fail (y != NULL && x != NULL && y_adj != NULL, 0);
  double my, mx, sxy = 0, sxx = 0;
  ft_stats_mean_sd (y, n, &my, NULL);
  ft_stats_mean_sd (x, n, &mx, NULL);
  for (guint i = 0; i < n; i++)
    {
      sxy += (y[i] - my) * (x[i] - mx);
      sxx += (x[i] - mx) * (x[i] - mx);
    }
  double theta = sxx > 0 ? sxy / sxx : 0;
  for (guint i = 0; i < n; i++)
    y_adj[i] = y[i] - theta * (x[i] - mx);
  return theta;
}

guint
ft_stats_n_for_power (double sd, double mde, double alpha, double power)
{
  if (!(sd >= 0) || !(fabs (mde) > 0) || !(alpha > 0 && alpha < 1) || !(power > 0 && power < 1))
    return 0;
  if (sd == 0)
    return 2;
  double ratio = sd / fabs (mde);
  /* start from the normal approximation, then walk up with t quantiles */
  double z = gsl_cdf_ugaussian_Pinv (1 - alpha / 2) + gsl_cdf_ugaussian_Pinv (power);
  double n0 = floor (z * z * ratio * ratio);
  guint n = (guint) MAX (2.0, MIN (n0, 1e7));
  for (; n <= 10000000u; n++)
    {
      double q = gsl_cdf_tdist_Pinv (1 - alpha / 2, n - 1) + gsl_cdf_tdist_Pinv (power, n - 1);
      if (n >= q * q * ratio * ratio)
        return n;
    }
  return G_MAXUINT;
}

void
ft_stats_pareto_front (const double *x, const double *y, guint n, gboolean x_higher_better,
                       gboolean y_higher_better, gboolean *front)
{
  g_return_if_fail (n == 0 || (x != NULL && y != NULL && front != NULL));
  double sx = x_higher_better ? 1 : -1, sy = y_higher_better ? 1 : -1;
  for (guint i = 0; i < n; i++)
    {
      front[i] = isfinite (x[i]) && isfinite (y[i]);
      for (guint j = 0; front[i] && j < n; j++)
        {
          if (j == i || !isfinite (x[j]) || !isfinite (y[j]))
            continue;
          double dx = sx * (x[j] - x[i]), dy = sy * (y[j] - y[i]);
          if (dx >= 0 && dy >= 0 && (dx > 0 || dy > 0))
            front[i] = FALSE;
        }
    }
}
