/* ft-drift.c — PSI with quantile bins, the two-sample Kolmogorov-Smirnov
 * statistic and its asymptotic p-value, and the levels they map to.
 */
#include "ft-config.h"
#include "ft-drift.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

G_DEFINE_QUARK (ft-drift-error-quark, ft_drift_error)

void
ft_drift_thresholds_init (FtDriftThresholds *t)
{
  t->warn = 0.1;
  t->act = 0.25;
}

gboolean
ft_drift_thresholds_check (const FtDriftThresholds *t, GError **error)
{
  if (!isfinite (t->warn) || !isfinite (t->act) || t->warn <= 0 || t->act < t->warn)
    {
      g_set_error (error, FT_DRIFT_ERROR, FT_DRIFT_ERROR_INVALID,
                   "drift thresholds warn %g and act %g: need 0 < warn <= act", t->warn, t->act);
      return FALSE;
    }
  return TRUE;
}

const char *
ft_drift_level_name (FtDriftLevel level)
{
  return level == FT_DRIFT_ACT ? "act" : level == FT_DRIFT_WARN ? "warn" : "none";
}

static gboolean
check_sample (const double *v, gsize n, const char *what, GError **error)
{
  if (n == 0)
    {
      g_set_error (error, FT_DRIFT_ERROR, FT_DRIFT_ERROR_EMPTY, "the %s sample is empty", what);
      return FALSE;
    }
  for (gsize i = 0; i < n; i++)
    if (!isfinite (v[i]))
      {
        g_set_error (error, FT_DRIFT_ERROR, FT_DRIFT_ERROR_INVALID,
                     "value %" G_GSIZE_FORMAT " of the %s sample is %g: drift needs finite values",
                     i, what, v[i]);
        return FALSE;
      }
  return TRUE;
}

static int
cmp_double (const void *a, const void *b)
{
  double x = *(const double *) a, y = *(const double *) b;
  return (x > y) - (x < y);
}

static double *
sorted_copy (const double *v, gsize n)
{
  double *s = g_memdup2 (v, n * sizeof *v);
  qsort (s, n, sizeof *s, cmp_double);
  return s;
}

/* Index of the first element > x in sorted s (upper bound). */
static gsize
upper_bound (const double *s, gsize n, double x)
{
  gsize lo = 0, hi = n;
  while (lo < hi)
    {
      gsize mid = lo + (hi - lo) / 2;
      if (s[mid] <= x)
        lo = mid + 1;
      else
        hi = mid;
    }
  return lo;
}

gboolean
ft_drift_psi (const double *reference, gsize n_ref, const double *recent, gsize n_recent,
              guint n_bins, double *psi, GError **error)
{
  g_return_val_if_fail (psi != NULL && n_bins >= 2, FALSE);
  if (!check_sample (reference, n_ref, "reference", error)
      || !check_sample (recent, n_recent, "recent", error))
    return FALSE;
  g_autofree double *ref = sorted_copy (reference, n_ref);
  g_autofree double *rec = sorted_copy (recent, n_recent);
  /* bin edges: reference quantiles k / n_bins (the largest value of the
   * first k / n_bins of the sorted reference), duplicates dropped */
  g_autofree double *edge = g_new (double, n_bins);
  guint n_edges = 0;
  for (guint k = 1; k < n_bins; k++)
    {
      gsize at = (gsize) ceil ((double) k * n_ref / n_bins);
      double q = ref[CLAMP (at, 1, n_ref) - 1];
      if (n_edges == 0 || q > edge[n_edges - 1])
        edge[n_edges++] = q;
    }
  double sum = 0, lo_e = 0, lo_a = 0;
  for (guint b = 0; b <= n_edges; b++)
    {
      /* bin b: (edge[b-1], edge[b]]; the last bin is open above */
      double up_e = b < n_edges ? (double) upper_bound (ref, n_ref, edge[b]) : (double) n_ref;
      double up_a = b < n_edges ? (double) upper_bound (rec, n_recent, edge[b]) : (double) n_recent;
      double e = MAX ((up_e - lo_e) / n_ref, 1e-4);
      double a = MAX ((up_a - lo_a) / n_recent, 1e-4);
      sum += (a - e) * log (a / e);
      lo_e = up_e;
      lo_a = up_a;
    }
  *psi = sum;
  return TRUE;
}

double
ft_drift_kolmogorov_q (double lambda)
{
  if (lambda < 1e-3)
    return 1.0;
  double sum = 0, sign = 1;
  for (int k = 1; k <= 100; k++)
    {
      double term = sign * exp (-2.0 * k * k * lambda * lambda);
      sum += term;
      if (fabs (term) <= 1e-10 * fabs (sum) || fabs (term) <= 1e-300)
        return CLAMP (2.0 * sum, 0.0, 1.0);
      sign = -sign;
    }
  return 1.0;   /* no convergence: lambda tiny, the statistic says nothing */
}

/* D and p of two sorted samples. */
static void
ks_sorted (const double *x, gsize na, const double *y, gsize nb, double *d, double *p)
{
  gsize i = 0, j = 0;
  double dmax = 0;
  while (i < na && j < nb)
    {
      double v = MIN (x[i], y[j]);
      while (i < na && x[i] <= v)
        i++;
      while (j < nb && y[j] <= v)
        j++;
      dmax = MAX (dmax, fabs ((double) i / na - (double) j / nb));
    }
  *d = dmax;
  if (p)
    {
      double ne = (double) na * nb / (na + nb), en = sqrt (ne);
      *p = ft_drift_kolmogorov_q ((en + 0.12 + 0.11 / en) * dmax);
    }
}

gboolean
ft_drift_ks (const double *a, gsize na, const double *b, gsize nb, double *d, double *p,
             GError **error)
{
  g_return_val_if_fail (d != NULL, FALSE);
  if (!check_sample (a, na, "first", error) || !check_sample (b, nb, "second", error))
    return FALSE;
  g_autofree double *x = sorted_copy (a, na);
  g_autofree double *y = sorted_copy (b, nb);
  ks_sorted (x, na, y, nb, d, p);
  return TRUE;
}

gboolean
ft_drift_ks_sorted (const double *a, gsize na, const double *b, gsize nb, double *d, double *p,
                    GError **error)
{
  g_return_val_if_fail (d != NULL, FALSE);
  if (!check_sample (a, na, "first", error) || !check_sample (b, nb, "second", error))
    return FALSE;
  for (gsize i = 1; i < na; i++)
    g_return_val_if_fail (a[i - 1] <= a[i], FALSE);
  for (gsize i = 1; i < nb; i++)
    g_return_val_if_fail (b[i - 1] <= b[i], FALSE);
  ks_sorted (a, na, b, nb, d, p);
  return TRUE;
}

FtDriftLevel
ft_drift_psi_level (const FtDriftThresholds *t, double psi)
{
  return psi >= t->act ? FT_DRIFT_ACT : psi >= t->warn ? FT_DRIFT_WARN : FT_DRIFT_NONE;
}

FtDriftLevel
ft_drift_ks_level (const FtDriftThresholds *t, double d, double p)
{
  if (d >= t->act && p < 0.01)
    return FT_DRIFT_ACT;
  if (d >= t->warn && p < 0.05)
    return FT_DRIFT_WARN;
  return FT_DRIFT_NONE;
}
