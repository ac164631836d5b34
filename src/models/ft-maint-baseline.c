/* ft-maint-baseline.c — the naive baseline of predictive maintenance: the
 * fault rate per hour of exposure by km since service, the ranking an
 * operator would use without a model, calibrated on the training window so
 * its probabilities can be scored too.
 */
#include "ft-config.h"
#include "ft-maint-private.h"

#include <math.h>
#include <stdlib.h>

/* Faults per hour of exposure by km since service (10 bins at the training
 * deciles), made non-decreasing in km and interpolated inside a bin, so the
 * ranking is the naive one (more km since service, more risk) and the
 * probability 1 - exp(-rate h) is calibrated on the training window. */
#define N_BINS 10

typedef struct {
  double edge[N_BINS + 1];   /* km; edge[0] = 0 */
  double rate[N_BINS];       /* per hour */
} Base;


static gpointer
base_fit (const FtMaintParams *p, const FtMaintRow *rows, guint n, GError **error)
{
  (void) p;
  (void) error;
  Base *b = g_new0 (Base, 1);
  g_autofree double *km = g_new (double, n);
  for (guint i = 0; i < n; i++)
    km[i] = rows[i].x[FT_MF_KM_SINCE_SERVICE];
  qsort (km, n, sizeof (double), ft_maint_cmp_double);
  for (guint k = 1; k < N_BINS; k++)
    b->edge[k] = MAX (km[(gsize) k * n / N_BINS], b->edge[k - 1]);
  b->edge[N_BINS] = MAX (km[n - 1], b->edge[N_BINS - 1]) + 1e-9;
  double ev[N_BINS] = { 0 }, ex[N_BINS] = { 0 };
  for (guint i = 0; i < n; i++)
    {
      double x = rows[i].x[FT_MF_KM_SINCE_SERVICE];
      guint k = 0;
      while (k + 1 < N_BINS && x >= b->edge[k + 1])
        k++;
      ev[k] += rows[i].fault;
      ex[k] += rows[i].time_h;
    }
  double tot_ev = 0, tot_ex = 0;
  for (guint k = 0; k < N_BINS; k++)
    tot_ev += ev[k], tot_ex += ex[k];
  double prior = tot_ev / tot_ex;
  for (guint k = 0; k < N_BINS; k++)
    {
      /* one hundred hours of prior exposure at the overall rate */
      b->rate[k] = (ev[k] + prior * 100.0) / (ex[k] + 100.0);
      if (k > 0)
        b->rate[k] = MAX (b->rate[k], b->rate[k - 1]);
    }
  return b;
}

static double
base_rate (const Base *b, double x)
{
  guint k = 0;
  while (k + 1 < N_BINS && x >= b->edge[k + 1])
    k++;
  double lo = b->edge[k], hi = b->edge[k + 1];
  double f = hi > lo ? CLAMP ((x - lo) / (hi - lo), 0.0, 1.0) : 0.0;
  double next = k + 1 < N_BINS ? b->rate[k + 1] : b->rate[k] * 1.0001;
  return b->rate[k] + f * (next - b->rate[k]) + 1e-12 * x;   /* strictly increasing in km */
}

static gboolean
base_predict (gconstpointer state, const FtMaintRow *rows, guint n, double h, double *p_out, GError **error)
{
  (void) error;
  for (guint i = 0; i < n; i++)
    p_out[i] = -expm1 (-base_rate (state, rows[i].x[FT_MF_KM_SINCE_SERVICE]) * h);
  return TRUE;
}

/* The same per horizon, each row's rate found once. */
static gboolean
base_predict_multi (gconstpointer state, const FtMaintRow *rows, guint n, const double *h, guint nh,
                    double *p_out, GError **error)
{
  (void) error;
  for (guint i = 0; i < n; i++)
    {
      double rate = base_rate (state, rows[i].x[FT_MF_KM_SINCE_SERVICE]);
      for (guint q = 0; q < nh; q++)
        p_out[(gsize) q * n + i] = -expm1 (-rate * h[q]);
    }
  return TRUE;
}

static gboolean
base_save (gconstpointer state, GByteArray *out, GError **error)
{
  const Base *b = state;
  (void) error;
  ft_maint_put_u32 (out, N_BINS);
  for (guint k = 0; k <= N_BINS; k++)
    ft_maint_put_f64 (out, b->edge[k]);
  for (guint k = 0; k < N_BINS; k++)
    ft_maint_put_f64 (out, b->rate[k]);
  return TRUE;
}

static gpointer
base_load (const guint8 *data, gsize len, GError **error)
{
  FtMaintReader r = { data, len };
  g_autofree Base *b = g_new0 (Base, 1);
  guint32 nb;
  if (!ft_maint_get_u32 (&r, &nb, error))
    return NULL;
  if (nb != N_BINS)
    {
      g_set_error (error, FT_MAINT_ERROR, FT_MAINT_ERROR_BLOB, "baseline blob has %u bins, not %u", nb, N_BINS);
      return NULL;
    }
  for (guint k = 0; k <= N_BINS; k++)
    if (!ft_maint_get_f64 (&r, &b->edge[k], error))
      return NULL;
  for (guint k = 0; k < N_BINS; k++)
    if (!ft_maint_get_f64 (&r, &b->rate[k], error))
      return NULL;
  for (guint k = 0; k < N_BINS; k++)
    if (!isfinite (b->rate[k]) || b->rate[k] < 0 || !isfinite (b->edge[k + 1]) || b->edge[k + 1] < b->edge[k])
      {
        g_set_error (error, FT_MAINT_ERROR, FT_MAINT_ERROR_BLOB, "baseline blob holds an invalid bin %u", k);
        return NULL;
      }
  if (r.left != 0)
    {
      g_set_error (error, FT_MAINT_ERROR, FT_MAINT_ERROR_BLOB, "baseline blob has %zu bytes too many", r.left);
      return NULL;
    }
  return g_steal_pointer (&b);
}

const FtMaintOps ft_maint_baseline_ops = { base_fit, base_predict, base_save, base_load, g_free, base_predict_multi };
