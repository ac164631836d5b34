/* ft-forecast.c — demand series, the forecaster interface that dispatches
 * to the models, the feature rows the GLM and XGBoost share, Poisson
 * deviance, and the rolling-origin backtest that scores every model only
 * on hours it was not trained on.
 */
#include "ft-config.h"
#include "ft-forecast-private.h"

#include <math.h>
#include <string.h>

G_DEFINE_QUARK (ft-forecast-error-quark, ft_forecast_error)

/* ---- series ------------------------------------------------------------ */

static char **
zone_names (guint n_zones, const char *const *ids)
{
  char **names = g_new0 (char *, n_zones + 1);
  for (guint z = 0; z < n_zones; z++)
    names[z] = ids && ids[z] ? g_strdup (ids[z]) : g_strdup_printf ("zone-%u", z);
  return names;
}

static gboolean
check_counts (const double *v, guint n_zones, guint n_hours, const char *what, double max,
              GError **error)
{
  for (guint z = 0; z < n_zones; z++)
    for (guint h = 0; h < n_hours; h++)
      {
        double x = v[(gsize) z * n_hours + h];
        if (!isfinite (x) || x < 0 || x > max)
          {
            g_set_error (error, FT_FORECAST_ERROR, FT_FORECAST_ERROR_INVALID,
                         "%s of zone %u at hour %u is %g: must be finite and in [0, %g]",
                         what, z, h, x, max);
            return FALSE;
          }
      }
  return TRUE;
}

FtDemandSeries *
ft_demand_series_new (guint n_zones, guint n_hours, FtTime t0, const double *count, GError **error)
{
  g_return_val_if_fail (count != NULL || n_zones == 0 || n_hours == 0, NULL);
  if (n_zones == 0 || n_hours == 0)
    {
      g_set_error (error, FT_FORECAST_ERROR, FT_FORECAST_ERROR_EMPTY,
                   "demand series is empty (%u zones, %u hours)", n_zones, n_hours);
      return NULL;
    }
  if (t0 % FT_HOUR != 0)
    {
      g_set_error (error, FT_FORECAST_ERROR, FT_FORECAST_ERROR_INVALID,
                   "demand series must start on a whole hour");
      return NULL;
    }
  if (!check_counts (count, n_zones, n_hours, "trip count", G_MAXDOUBLE, error))
    return NULL;
  FtDemandSeries *s = g_new0 (FtDemandSeries, 1);
  s->n_zones = n_zones;
  s->n_hours = n_hours;
  s->t0 = t0;
  s->count = g_memdup2 (count, sizeof (double) * n_zones * n_hours);
  s->zone_ids = zone_names (n_zones, NULL);
  return s;
}

FtDemandSeries *
ft_demand_series_from_events (guint n_zones, const char *const *zone_ids, const FtTime *t,
                              const int *zone, guint n, GError **error)
{
  g_return_val_if_fail (n == 0 || (t != NULL && zone != NULL), NULL);
  if (n_zones == 0)
    {
      g_set_error (error, FT_FORECAST_ERROR, FT_FORECAST_ERROR_EMPTY, "no zones to count trips in");
      return NULL;
    }
  FtTime lo = G_MAXINT64, hi = G_MININT64;
  guint inside = 0;
  for (guint i = 0; i < n; i++)
    {
      if (zone[i] >= (int) n_zones)
        {
          g_set_error (error, FT_FORECAST_ERROR, FT_FORECAST_ERROR_INVALID,
                       "trip %u is in zone %d but there are only %u zones", i, zone[i], n_zones);
          return NULL;
        }
      if (zone[i] < 0)
        continue;
      lo = MIN (lo, t[i]);
      hi = MAX (hi, t[i]);
      inside++;
    }
  if (inside == 0)
    {
      g_set_error (error, FT_FORECAST_ERROR, FT_FORECAST_ERROR_EMPTY,
                   "no trip starts inside any of the %u zones", n_zones);
      return NULL;
    }
  FtTime t0 = lo - (((lo % FT_HOUR) + FT_HOUR) % FT_HOUR);
  gint64 n_hours = (hi - t0) / FT_HOUR + 1;
  if (n_hours > 24 * 366 * 5)
    {
      g_set_error (error, FT_FORECAST_ERROR, FT_FORECAST_ERROR_INVALID,
                   "trips span %" G_GINT64_FORMAT " hours: more than five years", n_hours);
      return NULL;
    }
  FtDemandSeries *s = g_new0 (FtDemandSeries, 1);
  s->n_zones = n_zones;
  s->n_hours = (guint) n_hours;
  s->t0 = t0;
  s->count = g_new0 (double, (gsize) n_zones * s->n_hours);
  for (guint i = 0; i < n; i++)
    if (zone[i] >= 0)
      s->count[(gsize) zone[i] * s->n_hours + (guint) ((t[i] - t0) / FT_HOUR)] += 1;
  s->zone_ids = zone_names (n_zones, zone_ids);
  return s;
}

gboolean
ft_demand_series_set_availability (FtDemandSeries *s, const double *available, GError **error)
{
  g_return_val_if_fail (s != NULL && available != NULL, FALSE);
  if (!check_counts (available, s->n_zones, s->n_hours, "availability", 1.0, error))
    return FALSE;
  g_free (s->available);
  s->available = g_memdup2 (available, sizeof (double) * s->n_zones * s->n_hours);
  return TRUE;
}

/* ft_demand_series_demand, inlined where features read it per row */
static inline double
demand_at (const FtDemandSeries *s, guint z, guint h)
{
  gsize i = (gsize) z * s->n_hours + h;
  if (s->available == NULL)
    return s->count[i];
  return s->count[i] / MAX (s->available[i], 0.25);
}

double
ft_demand_series_demand (const FtDemandSeries *s, guint z, guint h)
{
  return demand_at (s, z, h);
}

FtDemandSeries *
ft_demand_series_copy (const FtDemandSeries *s)
{
  FtDemandSeries *c = g_new0 (FtDemandSeries, 1);
  gsize n = (gsize) s->n_zones * s->n_hours;
  c->n_zones = s->n_zones;
  c->n_hours = s->n_hours;
  c->t0 = s->t0;
  c->count = g_memdup2 (s->count, sizeof (double) * n);
  c->available = s->available ? g_memdup2 (s->available, sizeof (double) * n) : NULL;
  c->zone_ids = g_strdupv (s->zone_ids);
  if (s->holidays)
    {
      c->holidays = g_hash_table_new_full (g_int64_hash, g_int64_equal, g_free, NULL);
      GHashTableIter it;
      gpointer key;
      g_hash_table_iter_init (&it, s->holidays);
      while (g_hash_table_iter_next (&it, &key, NULL))
        g_hash_table_add (c->holidays, g_memdup2 (key, sizeof (gint64)));
    }
  return c;
}

void
ft_demand_series_free (FtDemandSeries *s)
{
  if (s == NULL)
    return;
  g_free (s->count);
  g_free (s->available);
  g_strfreev (s->zone_ids);
  g_clear_pointer (&s->holidays, g_hash_table_unref);
  g_free (s);
}

void
ft_demand_series_set_holidays (FtDemandSeries *s, const FtTime *days, guint n)
{
  g_clear_pointer (&s->holidays, g_hash_table_unref);
  if (n == 0)
    return;
  GHashTable *t = g_hash_table_new_full (g_int64_hash, g_int64_equal, g_free, NULL);
  for (guint i = 0; i < n; i++)
    {
      gint64 *d = g_new (gint64, 1);
      *d = days[i] >= 0 ? days[i] / FT_DAY : (days[i] - FT_DAY + 1) / FT_DAY;
      g_hash_table_add (t, d);
    }
  s->holidays = t;
}

guint
ft_demand_series_how (const FtDemandSeries *s, guint h)
{
  /* 1970-01-01 was a Thursday: Monday-based day 3. */
  gint64 hour = s->t0 / FT_HOUR + h;
  guint how = (guint) (((hour + 72) % 168 + 168) % 168);
  if (s->holidays)
    {
      gint64 day = hour >= 0 ? hour / 24 : (hour - 23) / 24;
      if (g_hash_table_contains (s->holidays, &day))
        return 6 * 24 + how % 24;
    }
  return how;
}

/* ---- forecasters -------------------------------------------------------- */

void
ft_forecast_params_init (FtForecastParams *p)
{
  *p = (FtForecastParams) {
    .mean_shrink_weeks = 2.0,
    .glm_lambda = 10.0,
    .glm_max_iter = 50,
    .xgb_rounds = 200,
    .xgb_max_depth = 4,
    .xgb_eta = 0.05,
    .xgb_nthread = 0,
    .horizon = FT_FORECAST_MAX_HORIZON,
  };
}

static const char *const kind_names[FT_N_FORECAST_KINDS] = { "mean", "glm", "xgboost" };

const char *
ft_forecast_kind_name (FtForecastKind kind)
{
  return kind < FT_N_FORECAST_KINDS ? kind_names[kind] : "unknown";
}

gboolean
ft_forecast_kind_from_name (const char *name, FtForecastKind *kind)
{
  for (int k = 0; k < FT_N_FORECAST_KINDS; k++)
    if (g_strcmp0 (name, kind_names[k]) == 0 || (k == FT_FORECAST_XGB && g_strcmp0 (name, "xgb") == 0))
      {
        *kind = (FtForecastKind) k;
        return TRUE;
      }
  return FALSE;
}

FtForecaster *
ft_forecaster_new (FtForecastKind kind, const FtForecastParams *params)
{
  g_return_val_if_fail (kind < FT_N_FORECAST_KINDS, NULL);
  FtForecaster *f = g_new0 (FtForecaster, 1);
  f->kind = kind;
  if (params)
    f->params = *params;
  else
    ft_forecast_params_init (&f->params);
  f->ops = kind == FT_FORECAST_MEAN ? &ft_forecast_mean_ops
         : kind == FT_FORECAST_GLM ? &ft_forecast_glm_ops : &ft_forecast_xgb_ops;
  return f;
}

FtForecastKind
ft_forecaster_get_kind (const FtForecaster *f)
{
  return f->kind;
}

static gboolean
check_params (const FtForecastParams *p, GError **error)
{
  if (!isfinite (p->mean_shrink_weeks) || p->mean_shrink_weeks < 0 || !isfinite (p->glm_lambda)
      || p->glm_lambda < 0 || !isfinite (p->xgb_eta) || p->xgb_eta <= 0 || p->xgb_eta > 1
      || p->horizon < 1 || p->horizon > FT_FORECAST_MAX_HORIZON || p->glm_max_iter < 1
      || p->xgb_rounds < 1 || p->xgb_max_depth < 1)
    {
      g_set_error (error, FT_FORECAST_ERROR, FT_FORECAST_ERROR_INVALID,
                   "forecast parameters out of range (shrink %g, lambda %g, eta %g, horizon %u)",
                   p->mean_shrink_weeks, p->glm_lambda, p->xgb_eta, p->horizon);
      return FALSE;
    }
  return TRUE;
}

gboolean
ft_forecaster_fit (FtForecaster *f, const FtDemandSeries *s, guint train_start, guint train_end,
                   GError **error)
{
  return ft_forecaster_fit_warm (f, NULL, s, train_start, train_end, error);
}

guint
ft_forecaster_get_fit_iterations (const FtForecaster *f)
{
  g_return_val_if_fail (f != NULL, 0);
  return f->kind == FT_FORECAST_GLM ? ft_forecast_glm_iterations (f->state) : 0;
}

gboolean
ft_forecaster_fit_warm (FtForecaster *f, const FtForecaster *warm, const FtDemandSeries *s,
                        guint train_start, guint train_end, GError **error)
{
  g_return_val_if_fail (f != NULL && s != NULL, FALSE);
  if (!check_params (&f->params, error))
    return FALSE;
  if (train_start >= train_end || train_end > s->n_hours)
    {
      g_set_error (error, FT_FORECAST_ERROR, FT_FORECAST_ERROR_WINDOW,
                   "training window hours [%u, %u) is empty or longer than the data (%u hours)",
                   train_start, train_end, s->n_hours);
      return FALSE;
    }
  double total = 0;
  for (guint z = 0; z < s->n_zones; z++)
    for (guint h = train_start; h < train_end; h++)
      total += s->count[(gsize) z * s->n_hours + h];
  if (total <= 0)
    {
      g_set_error (error, FT_FORECAST_ERROR, FT_FORECAST_ERROR_EMPTY,
                   "no trips in the training window (hours %u to %u, %u zone%s): nothing to learn",
                   train_start, train_end, s->n_zones, s->n_zones == 1 ? "" : "s");
      return FALSE;
    }
  gpointer state = warm && warm->state && warm->kind == f->kind && f->ops->fit_warm
                     ? f->ops->fit_warm (&f->params, s, train_start, train_end, warm->state, error)
                     : f->ops->fit (&f->params, s, train_start, train_end, error);
  if (state == NULL)
    return FALSE;
  if (f->state)
    f->ops->free (f->state);
  f->state = state;
  return TRUE;
}

gboolean
ft_forecaster_predict (FtForecaster *f, const FtDemandSeries *s, guint origin, guint horizon,
                       double *out, GError **error)
{
  return ft_forecaster_predict_leads (f, s, origin, horizon, NULL, out, error);
}

gboolean
ft_forecaster_predict_leads (FtForecaster *f, const FtDemandSeries *s, guint origin, guint horizon,
                             const gboolean *want, double *out, GError **error)
{
  g_return_val_if_fail (f != NULL && s != NULL && out != NULL, FALSE);
  if (f->state == NULL)
    {
      g_set_error (error, FT_FORECAST_ERROR, FT_FORECAST_ERROR_NOT_FITTED,
                   "the %s model has not been fitted", ft_forecast_kind_name (f->kind));
      return FALSE;
    }
  if (horizon < 1 || horizon > f->params.horizon)
    {
      g_set_error (error, FT_FORECAST_ERROR, FT_FORECAST_ERROR_INVALID,
                   "horizon %u is outside 1..%u, the horizons the %s model was fitted for",
                   horizon, f->params.horizon, ft_forecast_kind_name (f->kind));
      return FALSE;
    }
  if (origin > s->n_hours)
    {
      g_set_error (error, FT_FORECAST_ERROR, FT_FORECAST_ERROR_WINDOW,
                   "forecast origin hour %u is past the data (%u hours)", origin, s->n_hours);
      return FALSE;
    }
  if (want && f->ops->predict_leads)
    return f->ops->predict_leads (f->state, s, origin, horizon, want, out, error);
  return f->ops->predict (f->state, s, origin, horizon, out, error);
}

/* ---- blobs -------------------------------------------------------------- */

void
ft_blob_put_u32 (GByteArray *b, guint32 v)
{
  guint32 le = GUINT32_TO_LE (v);
  g_byte_array_append (b, (const guint8 *) &le, 4);
}

void
ft_blob_put_f64 (GByteArray *b, double v)
{
  guint64 u;
  memcpy (&u, &v, 8);
  u = GUINT64_TO_LE (u);
  g_byte_array_append (b, (const guint8 *) &u, 8);
}

void
ft_blob_put_f64s (GByteArray *b, const double *v, gsize n)
{
  for (gsize i = 0; i < n; i++)
    ft_blob_put_f64 (b, v[i]);
}

const guint8 *
ft_blob_get_bytes (FtBlobReader *r, gsize n)
{
  if (r->bad || n > r->len - r->at)
    {
      r->bad = TRUE;
      return NULL;
    }
  const guint8 *p = r->p + r->at;
  r->at += n;
  return p;
}

guint32
ft_blob_get_u32 (FtBlobReader *r)
{
  const guint8 *p = ft_blob_get_bytes (r, 4);
  guint32 v = 0;
  if (p)
    memcpy (&v, p, 4);
  return GUINT32_FROM_LE (v);
}

double
ft_blob_get_f64 (FtBlobReader *r)
{
  const guint8 *p = ft_blob_get_bytes (r, 8);
  guint64 u = 0;
  double v;
  if (p)
    memcpy (&u, p, 8);
  u = GUINT64_FROM_LE (u);
  memcpy (&v, &u, 8);
  return v;
}

double *
ft_blob_get_f64s (FtBlobReader *r, gsize n)
{
  if (r->bad || n > (r->len - r->at) / 8)
    {
      r->bad = TRUE;
      return NULL;
    }
  double *v = g_new (double, MAX (n, 1));
  for (gsize i = 0; i < n; i++)
    v[i] = ft_blob_get_f64 (r);
  return v;
}

#define BLOB_MAGIC 0x43465446u   /* "FTFC" little-endian */
#define BLOB_FORMAT 1

const FtForecastParams *
ft_forecaster_get_params (const FtForecaster *f)
{
  return &f->params;
}

GBytes *
ft_forecaster_save (const FtForecaster *f, GError **error)
{
  g_return_val_if_fail (f != NULL, NULL);
  if (f->state == NULL)
    {
      g_set_error (error, FT_FORECAST_ERROR, FT_FORECAST_ERROR_NOT_FITTED,
                   "the %s model has not been fitted: nothing to save", ft_forecast_kind_name (f->kind));
      return NULL;
    }
  GByteArray *b = g_byte_array_new ();
  ft_blob_put_u32 (b, BLOB_MAGIC);
  ft_blob_put_u32 (b, BLOB_FORMAT);
  ft_blob_put_u32 (b, f->kind);
  const FtForecastParams *p = &f->params;
  ft_blob_put_f64 (b, p->mean_shrink_weeks);
  ft_blob_put_f64 (b, p->glm_lambda);
  ft_blob_put_u32 (b, p->glm_max_iter);
  ft_blob_put_u32 (b, p->xgb_rounds);
  ft_blob_put_u32 (b, p->xgb_max_depth);
  ft_blob_put_f64 (b, p->xgb_eta);
  ft_blob_put_u32 (b, p->xgb_nthread);
  ft_blob_put_u32 (b, p->horizon);
  f->ops->save (f->state, b);
  return g_byte_array_free_to_bytes (b);
}

FtForecaster *
ft_forecaster_load (GBytes *blob, GError **error)
{
  g_return_val_if_fail (blob != NULL, NULL);
  gsize len = 0;
  FtBlobReader r = { g_bytes_get_data (blob, &len), 0, 0, FALSE };
  r.len = len;
  guint32 magic = ft_blob_get_u32 (&r), format = ft_blob_get_u32 (&r), kind = ft_blob_get_u32 (&r);
  if (r.bad || magic != BLOB_MAGIC || format != BLOB_FORMAT || kind >= FT_N_FORECAST_KINDS)
    {
      g_set_error (error, FT_FORECAST_ERROR, FT_FORECAST_ERROR_IO,
                   "not a Fleet Twin forecast model blob (%" G_GSIZE_FORMAT " bytes; "
                   "magic %08x, format %u, kind %u)", len, magic, format, kind);
      return NULL;
    }
  FtForecastParams p;
  p.mean_shrink_weeks = ft_blob_get_f64 (&r);
  p.glm_lambda = ft_blob_get_f64 (&r);
  p.glm_max_iter = ft_blob_get_u32 (&r);
  p.xgb_rounds = ft_blob_get_u32 (&r);
  p.xgb_max_depth = ft_blob_get_u32 (&r);
  p.xgb_eta = ft_blob_get_f64 (&r);
  p.xgb_nthread = ft_blob_get_u32 (&r);
  p.horizon = ft_blob_get_u32 (&r);
  p.glm_eager_classes = 0;
  g_autoptr(GError) local = NULL;
  if (r.bad || !check_params (&p, &local))
    {
      g_set_error (error, FT_FORECAST_ERROR, FT_FORECAST_ERROR_IO,
                   "forecast model blob: parameters damaged at byte %" G_GSIZE_FORMAT "%s%s",
                   r.at, local ? ": " : "", local ? local->message : "");
      return NULL;
    }
  g_autoptr(FtForecaster) f = ft_forecaster_new ((FtForecastKind) kind, &p);
  f->state = f->ops->load (&r, &local);
  if (f->state == NULL || r.bad || r.at != r.len)
    {
      g_set_error (error, FT_FORECAST_ERROR, FT_FORECAST_ERROR_IO,
                   "%s model blob damaged at byte %" G_GSIZE_FORMAT " of %" G_GSIZE_FORMAT "%s%s",
                   ft_forecast_kind_name (f->kind), r.at, r.len, local ? ": " : "",
                   local ? local->message : "");
      return NULL;
    }
  return g_steal_pointer (&f);
}

void
ft_forecaster_free (FtForecaster *f)
{
  if (f == NULL)
    return;
  if (f->state)
    f->ops->free (f->state);
  g_free (f);
}

/* ---- features ----------------------------------------------------------- */

static inline guint
ctx_how (const FtFeatureContext *c, guint h)
{
  return h - c->how_from < c->how_n ? c->how[h - c->how_from] : ft_demand_series_how (c->s, h);
}

static double
base_at (const FtFeatureContext *c, guint z, guint h)
{
  return ft_mean_model_expect (c->mean, z, ctx_how (c, h));
}

void
ft_feature_context_init (FtFeatureContext *c, const FtDemandSeries *s, const FtMeanModel *mean)
{
  ft_feature_context_init_from (c, s, mean, 0);
}

void
ft_feature_context_init_from (FtFeatureContext *c, const FtDemandSeries *s, const FtMeanModel *mean,
                              guint from)
{
  guint H = s->n_hours;
  from = MIN (from, H);
  c->s = s;
  c->mean = mean;
  /* only [from, H] is filled (sums from `from` on): a forecast from one
   * origin reads the day before it, not the whole history */
  c->cum_zone = g_new (double, (gsize) s->n_zones * (H + 1));
  c->cum_zbase = g_new (double, (gsize) s->n_zones * (H + 1));
  c->cum_city = g_new (double, H + 1);
  c->cum_base = g_new (double, H + 1);
  /* The memos are marked unknown (NaN) only where rows from `from` on
   * read them: a lag reaches at most 168 h before its origin, the recent
   * anomalies are those of the origins (>= from) */
  gsize n_anom = (gsize) s->n_zones * H, n_zo = (gsize) s->n_zones * (H + 1);
  guint lag_from = from > 168 ? from - 168 : 0;
  c->anom = g_new (double, n_anom);
  c->recent_zone = g_new (double, n_zo);
  if (lag_from == 0)
    {
      double *an = c->anom;   /* a local pointer: the loop is vectorised */
      for (gsize i = 0; i < n_anom; i++)
        an[i] = NAN;
    }
  else
    for (guint z = 0; z < s->n_zones; z++)
      {
        double *an = c->anom + (gsize) z * H + lag_from;
        for (guint i = 0; i < H - lag_from; i++)
          an[i] = NAN;
      }
  for (guint z = 0; z < s->n_zones; z++)
    {
      double *rz = c->recent_zone + (gsize) z * (H + 1) + from;
      for (guint i = 0; i <= H - from; i++)
        rz[i] = NAN;
    }
  /* the hours rows read: lags from lag_from, targets up to a day past H */
  c->how_from = lag_from;
  c->how_n = H - lag_from + FT_FORECAST_MAX_HORIZON;
  c->how = g_new (guint, c->how_n);
  if (s->holidays == NULL)
    {
      /* without holidays the hours of the week just go round */
      guint w = ft_demand_series_how (s, lag_from);
      for (guint i = 0; i < c->how_n; i++)
        {
          c->how[i] = w;
          w = w == 167 ? 0 : w + 1;
        }
    }
  else
    for (guint i = 0; i < c->how_n; i++)
      c->how[i] = ft_demand_series_how (s, lag_from + i);
  c->recent_city = g_new (double, (gsize) 2 * (H + 1));
  double *rcity = c->recent_city;
  for (gsize i = (gsize) 2 * from; i < (gsize) 2 * (H + 1); i++)
    rcity[i] = NAN;
  /* the hours [from, H) are in the how table (from >= how_from) */
  const guint *how = c->how + (from - c->how_from);
  for (guint z = 0; z < s->n_zones; z++)
    {
      double *cz = c->cum_zone + (gsize) z * (H + 1);
      double *cb = c->cum_zbase + (gsize) z * (H + 1);
      const double *ex = mean->expect + (gsize) z * 168;
      cz[from] = cb[from] = 0;
      if (s->available == NULL)
        {
          const double *cnt = s->count + (gsize) z * H;
          for (guint h = from; h < H; h++)
            {
              cz[h + 1] = cz[h] + cnt[h];
              cb[h + 1] = cb[h] + ex[how[h - from]];
            }
        }
      else
        for (guint h = from; h < H; h++)
          {
            cz[h + 1] = cz[h] + demand_at (s, z, h);
            cb[h + 1] = cb[h] + ex[how[h - from]];
          }
    }
  c->cum_city[from] = c->cum_base[from] = 0;
  for (guint h = from; h < H; h++)
    {
      double a = 0, b = 0;
      for (guint z = 0; z < s->n_zones; z++)
        {
          gsize i = (gsize) z * (H + 1) + h;
          a += c->cum_zone[i + 1] - c->cum_zone[i];
          b += c->cum_zbase[i + 1] - c->cum_zbase[i];
        }
      c->cum_city[h + 1] = c->cum_city[h] + a;
      c->cum_base[h + 1] = c->cum_base[h] + b;
    }
}

void
ft_feature_context_clear (FtFeatureContext *c)
{
  g_clear_pointer (&c->cum_zone, g_free);
  g_clear_pointer (&c->cum_city, g_free);
  g_clear_pointer (&c->cum_base, g_free);
  g_clear_pointer (&c->cum_zbase, g_free);
  g_clear_pointer (&c->anom, g_free);
  g_clear_pointer (&c->recent_zone, g_free);
  g_clear_pointer (&c->recent_city, g_free);
  g_clear_pointer (&c->how, g_free);
}

static const guint class_first[FT_N_LEAD_CLASSES + 1] = { 1, 2, 3, 4, 7, 13, 25 };

guint
ft_lead_class (guint lead)
{
  guint c = 1;
  while (c < FT_N_LEAD_CLASSES && lead >= class_first[c])
    c++;
  return c;
}

guint
ft_training_lead (guint cls, guint z, guint t, guint horizon)
{
  guint lo = class_first[cls - 1], hi = MIN (class_first[cls] - 1, horizon);
  if (hi <= lo)
    return lo;
  return lo + (t * 7u + z * 13u) % (hi - lo + 1);
}

/* log((k + actual) / (k + expected)): k trips of prior on both sides, so a
 * quiet night hour with 0 trips where 2 were expected says little and a
 * peak with 30 where 60 were expected says a lot. */
static double
anomaly (double actual, double expected)
{
  const double k = FT_ANOMALY_PRIOR;
  return log ((k + actual) / (k + expected));
}

void
ft_feature_row (const FtFeatureContext *c, guint z, guint t, guint lead, double *f)
{
  /* what the stores to f would make the compiler read again (the build
   * has no strict aliasing), read once */
  const FtDemandSeries *s = c->s;
  const FtMeanModel *mean = c->mean;
  guint n_hours = s->n_hours;
  double *anom = c->anom + (gsize) z * n_hours;
  g_assert (t >= FT_FEATURE_HISTORY && lead >= 1 && t + 1 >= lead && t + 1 - lead <= n_hours);
  guint how = ctx_how (c, t);
  guint hod = how % 24, dow = how / 24;
  f[FT_F_HOD] = hod;
  f[FT_F_DOW] = dow;
  f[FT_F_DAYTYPE] = dow >= 5;
  f[FT_F_HOW] = how;
  f[FT_F_ZONE] = z;
  f[FT_F_ZONE_MEAN] = mean->zone_mean[z];
  f[FT_F_BASELINE] = ft_mean_model_expect (mean, z, how);
  static const guint lags[5] = { 1, 2, 3, 24, 168 };
  for (int i = 0; i < 5; i++)
    {
      if (lags[i] < lead || lags[i] > t)
        {
          f[FT_F_LAG1 + i] = f[FT_F_ANOM1 + i] = NAN;
          continue;
        }
      guint h = t - lags[i];
      double y = demand_at (s, z, h);
      f[FT_F_LAG1 + i] = y;
      double *a = &anom[h];
      if (isnan (*a))
        *a = anomaly (y, base_at (c, z, h));
      f[FT_F_ANOM1 + i] = *a;
    }
  f[FT_F_LEAD] = lead;
  guint origin = t + 1 - lead;
  guint H1 = s->n_hours + 1;
  gsize zi = (gsize) z * H1;
  double *rz = &c->recent_zone[zi + origin], *rc = &c->recent_city[(gsize) origin * 2];
  if (isnan (*rz))
    {
      guint from24 = origin >= 24 ? origin - 24 : 0;
      *rz = anomaly (c->cum_zone[zi + origin] - c->cum_zone[zi + from24],
                     c->cum_zbase[zi + origin] - c->cum_zbase[zi + from24]);
    }
  if (isnan (rc[0]))
    {
      guint from24 = origin >= 24 ? origin - 24 : 0, from3 = origin >= 3 ? origin - 3 : 0;
      rc[0] = anomaly (c->cum_city[origin] - c->cum_city[from24], c->cum_base[origin] - c->cum_base[from24]);
      rc[1] = anomaly (c->cum_city[origin] - c->cum_city[from3], c->cum_base[origin] - c->cum_base[from3]);
    }
  f[FT_F_RECENT_ZONE] = *rz;
  f[FT_F_RECENT_CITY24] = rc[0];
  f[FT_F_RECENT_CITY3] = rc[1];
}

void
ft_training_features_init (FtTrainingFeatures *tf, const FtDemandSeries *s, guint start, guint end,
                           double shrink)
{
  /* weeks as folds from two weeks of training on, days below that: a
   * row must never read a mean fitted on its own hour */
  tf->start = start;
  tf->fold_h = end - start >= 2 * 168 ? 168 : 24;
  tf->n_folds = MAX ((end - start) / tf->fold_h, 1u);
  tf->means = g_new0 (FtMeanModel *, tf->n_folds);
  tf->ctx = g_new0 (FtFeatureContext, tf->n_folds);
  for (guint w = 0; w < tf->n_folds; w++)
    {
      guint a = start + tf->fold_h * w, b = w + 1 == tf->n_folds ? end : a + tf->fold_h;
      if (tf->n_folds == 1)
        a = b = 0;   /* under two days: nothing to hold out from */
      tf->means[w] = ft_mean_model_fit (s, start, end, a, b, shrink);
      ft_feature_context_init (&tf->ctx[w], s, tf->means[w]);
    }
}

const FtFeatureContext *
ft_training_features_for (const FtTrainingFeatures *tf, guint t)
{
  guint w = t >= tf->start ? (t - tf->start) / tf->fold_h : 0;
  return &tf->ctx[MIN (w, tf->n_folds - 1)];
}

void
ft_training_features_clear (FtTrainingFeatures *tf)
{
  for (guint w = 0; w < tf->n_folds; w++)
    {
      ft_feature_context_clear (&tf->ctx[w]);
      ft_mean_model_free (tf->means[w]);
    }
  g_clear_pointer (&tf->ctx, g_free);
  g_clear_pointer (&tf->means, g_free);
}

/* ---- scoring ------------------------------------------------------------ */

double
ft_poisson_deviance (double y, double mu)
{
  mu = MAX (mu, 1e-9);
  double t = y > 0 ? y * log (y / mu) : 0;
  return 2 * (t - (y - mu));
}

gboolean
ft_forecast_backtest (const FtDemandSeries *s, const FtBacktestSpec *spec,
                      const FtForecastParams *params, const FtForecastKind *kinds, guint n_kinds,
                      FtForecastScore *scores, double *fit_seconds, FtBacktestRowFunc row,
                      gpointer user_data, GError **error)
{
  g_return_val_if_fail (s != NULL && spec != NULL && kinds != NULL && scores != NULL, FALSE);
  if (spec->horizon < 1 || spec->horizon > FT_FORECAST_MAX_HORIZON || spec->origin_every < 1
      || spec->test_hours < 1 || spec->train_hours < 1)
    {
      g_set_error (error, FT_FORECAST_ERROR, FT_FORECAST_ERROR_INVALID,
                   "backtest needs a horizon of 1 to %d hours, origins at least an hour apart "
                   "and non-empty windows (horizon %u, every %u, train %u h, test %u h)",
                   FT_FORECAST_MAX_HORIZON, spec->horizon, spec->origin_every,
                   spec->train_hours, spec->test_hours);
      return FALSE;
    }
  if ((guint64) spec->train_hours + spec->test_hours > s->n_hours)
    {
      g_set_error (error, FT_FORECAST_ERROR, FT_FORECAST_ERROR_WINDOW,
                   "training (%u h) and test (%u h) windows are longer than the data (%u h, %.1f days)",
                   spec->train_hours, spec->test_hours, s->n_hours, s->n_hours / 24.0);
      return FALSE;
    }
  FtForecastParams p;
  if (params)
    p = *params;
  else
    ft_forecast_params_init (&p);
  p.horizon = spec->horizon;
  guint test_start = s->n_hours - spec->test_hours;
  guint train_start = test_start - spec->train_hours;
  guint Z = s->n_zones, H = spec->horizon;
  g_autofree double *pred = g_new (double, (gsize) Z * H);

  for (guint k = 0; k < n_kinds; k++)
    {
      g_autoptr(FtForecaster) f = ft_forecaster_new (kinds[k], &p);
      gint64 t_fit = g_get_monotonic_time ();
      if (!ft_forecaster_fit (f, s, train_start, test_start, error))
        return FALSE;
      if (fit_seconds)
        fit_seconds[k] = (g_get_monotonic_time () - t_fit) / 1e6;
      double se = 0, ae = 0, dev = 0;
      guint n = 0;
      for (guint origin = test_start; origin < s->n_hours; origin += spec->origin_every)
        {
          if (!ft_forecaster_predict (f, s, origin, H, pred, error))
            return FALSE;
          for (guint z = 0; z < Z; z++)
            for (guint j = 0; j < H && origin + j < s->n_hours; j++)
              {
                double mu = pred[(gsize) z * H + j];
                double y = ft_demand_series_demand (s, z, origin + j);
                se += (mu - y) * (mu - y);
                ae += fabs (mu - y);
                dev += ft_poisson_deviance (y, mu);
                n++;
                if (row)
                  row (kinds[k], z, origin + j, origin, j + 1, mu, y, user_data);
              }
        }
      scores[k] = (FtForecastScore) { sqrt (se / n), ae / n, dev / n, n };
    }
  return TRUE;
}
