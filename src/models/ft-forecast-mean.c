/* ft-forecast-mean.c — the baseline: historical mean trips by zone and hour
 * of week over the training window. A cell seen in n weeks is shrunk
 * towards the zone's mean for the same hour of day and day type with a
 * prior weight of k weeks: (sum + k * m_hd) / (n + k), so a cell with one
 * week leans on the 5 (or 2) similar days around it and a cell with many
 * weeks keeps its own mean. k = 0 gives the plain mean.
 */
#include "ft-config.h"
#include "ft-forecast-private.h"

#include <math.h>

static void table_expect (FtMeanModel *m);

FtMeanModel *
ft_mean_model_fit (const FtDemandSeries *s, guint start, guint end, guint skip_start,
                   guint skip_end, double shrink)
{
  guint Z = s->n_zones;
  FtMeanModel *m = g_new0 (FtMeanModel, 1);
  m->n_zones = Z;
  m->shrink = shrink;
  m->start = start;
  m->end = end;
  m->sum_how = g_new0 (double, (gsize) Z * 168);
  m->n_how = g_new0 (double, (gsize) Z * 168);
  m->sum_hd = g_new0 (double, (gsize) Z * 48);
  m->n_hd = g_new0 (double, (gsize) Z * 48);
  m->zone_mean = g_new0 (double, Z);
  guint n_used = 0;
  for (guint h = start; h < end; h++)
    {
      if (h >= skip_start && h < skip_end)
        continue;
      n_used++;
      guint how = ft_demand_series_how (s, h);
      guint hd = (how / 24 >= 5) * 24 + how % 24;
      for (guint z = 0; z < Z; z++)
        {
          double y = ft_demand_series_demand (s, z, h);
          m->sum_how[z * 168 + how] += y;
          m->n_how[z * 168 + how] += 1;
          m->sum_hd[z * 48 + hd] += y;
          m->n_hd[z * 48 + hd] += 1;
          m->zone_mean[z] += y;
        }
    }
  for (guint z = 0; z < Z; z++)
    m->zone_mean[z] /= MAX (n_used, 1);
  table_expect (m);
  return m;
}

static double
expect_of (const FtMeanModel *m, guint z, guint how)
{
  guint hd = (how / 24 >= 5) * 24 + how % 24;
  double sum = m->sum_how[z * 168 + how], n = m->n_how[z * 168 + how];
  double sum_hd = m->sum_hd[z * 48 + hd], n_hd = m->n_hd[z * 48 + hd];
  double m_hd = n_hd > 0 ? sum_hd / n_hd : m->zone_mean[z];
  if (n + m->shrink <= 0)
    return m_hd;
  return (sum + m->shrink * m_hd) / (n + m->shrink);
}

/* The expectations of every cell and their logs, once: the features of a
 * fit read them for every row, several times. */
static void
table_expect (FtMeanModel *m)
{
  gsize n = (gsize) m->n_zones * 168;
  m->expect = g_new (double, n);
  m->log_expect = g_new (double, n);
  for (guint z = 0; z < m->n_zones; z++)
    for (guint how = 0; how < 168; how++)
      {
        gsize i = (gsize) z * 168 + how;
        m->expect[i] = expect_of (m, z, how);
        m->log_expect[i] = log (MAX (m->expect[i], 0.02));
      }
}

void
ft_mean_model_free (FtMeanModel *m)
{
  if (m == NULL)
    return;
  g_free (m->sum_how);
  g_free (m->n_how);
  g_free (m->sum_hd);
  g_free (m->n_hd);
  g_free (m->zone_mean);
  g_free (m->expect);
  g_free (m->log_expect);
  g_free (m);
}

void
ft_mean_model_save (const FtMeanModel *m, GByteArray *out)
{
  guint Z = m->n_zones;
  ft_blob_put_u32 (out, Z);
  ft_blob_put_f64 (out, m->shrink);
  ft_blob_put_u32 (out, m->start);
  ft_blob_put_u32 (out, m->end);
  ft_blob_put_f64s (out, m->sum_how, (gsize) Z * 168);
  ft_blob_put_f64s (out, m->n_how, (gsize) Z * 168);
  ft_blob_put_f64s (out, m->sum_hd, (gsize) Z * 48);
  ft_blob_put_f64s (out, m->n_hd, (gsize) Z * 48);
  ft_blob_put_f64s (out, m->zone_mean, Z);
}

static gboolean
all_finite (const double *v, gsize n)
{
  for (gsize i = 0; i < n; i++)
    if (!isfinite (v[i]) || v[i] < 0)
      return FALSE;
  return TRUE;
}

FtMeanModel *
ft_mean_model_load (FtBlobReader *r)
{
  guint Z = ft_blob_get_u32 (r);
  if (r->bad || Z == 0 || Z > (r->len - r->at) / (8 * 433))
    {
      r->bad = TRUE;
      return NULL;
    }
  FtMeanModel *m = g_new0 (FtMeanModel, 1);
  m->n_zones = Z;
  m->shrink = ft_blob_get_f64 (r);
  m->start = ft_blob_get_u32 (r);
  m->end = ft_blob_get_u32 (r);
  m->sum_how = ft_blob_get_f64s (r, (gsize) Z * 168);
  m->n_how = ft_blob_get_f64s (r, (gsize) Z * 168);
  m->sum_hd = ft_blob_get_f64s (r, (gsize) Z * 48);
  m->n_hd = ft_blob_get_f64s (r, (gsize) Z * 48);
  m->zone_mean = ft_blob_get_f64s (r, Z);
  if (r->bad || !isfinite (m->shrink) || m->shrink < 0
      || !all_finite (m->sum_how, (gsize) Z * 168) || !all_finite (m->n_how, (gsize) Z * 168)
      || !all_finite (m->sum_hd, (gsize) Z * 48) || !all_finite (m->n_hd, (gsize) Z * 48)
      || !all_finite (m->zone_mean, Z))
    {
      r->bad = TRUE;
      ft_mean_model_free (m);
      return NULL;
    }
  table_expect (m);
  return m;
}

static void
mean_save (gpointer state, GByteArray *out)
{
  ft_mean_model_save (state, out);
}

static gpointer
mean_load (FtBlobReader *r, GError **error)
{
  return ft_mean_model_load (r);
}

static gpointer
mean_fit (const FtForecastParams *p, const FtDemandSeries *s, guint start, guint end, GError **error)
{
  return ft_mean_model_fit (s, start, end, 0, 0, p->mean_shrink_weeks);
}

static gboolean
mean_predict (gpointer state, const FtDemandSeries *s, guint origin, guint horizon, double *out,
              GError **error)
{
  FtMeanModel *m = state;
  if (m->n_zones != s->n_zones)
    {
      g_set_error (error, FT_FORECAST_ERROR, FT_FORECAST_ERROR_INVALID,
                   "model fitted for %u zones, series has %u", m->n_zones, s->n_zones);
      return FALSE;
    }
  /* the hour of week of each lead once, not once per zone */
  g_autofree guint *how = g_new (guint, MAX (horizon, 1));
  for (guint k = 0; k < horizon; k++)
    how[k] = ft_demand_series_how (s, origin + k);
  for (guint z = 0; z < s->n_zones; z++)
    for (guint k = 0; k < horizon; k++)
      out[z * horizon + k] = ft_mean_model_expect (m, z, how[k]);
  return TRUE;
}

const FtForecastOps ft_forecast_mean_ops = {
  mean_fit, mean_predict, (void (*) (gpointer)) ft_mean_model_free, mean_save, mean_load,
};
