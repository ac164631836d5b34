/* ft-forecast-xgb.c — the gradient-boosted rung: XGBoost (C API,
 * objective count:poisson, histogram trees) correcting the historical mean,
 * which is each row's base margin (log scale), on the shared feature rows:
 * hour of day, day type, the zone's mean, the cell's historical mean, lags
 * of 1, 2, 3, 24 and 168 h and their anomalies (missing where the lead does
 * not allow them), the lead, and recent activity before the origin. One
 * booster serves every lead: each training hour appears once per lead class
 * with that class's lags. Every return code is checked (XGBGetLastError
 * names the failure) and every handle freed.
 */
#include "ft-config.h"
#include "ft-forecast-private.h"

#include <math.h>
#include <xgboost/c_api.h>

typedef struct {
  FtMeanModel  *mean;
  BoosterHandle booster;
  guint         n_zones, horizon;
} XgbState;

static void
xgb_state_free (gpointer p)
{
  XgbState *x = p;
  ft_mean_model_free (x->mean);
  if (x->booster)
    XGBoosterFree (x->booster);
  g_free (x);
}

static gboolean
xgb_check (int rc, const char *what, GError **error)
{
  if (rc == 0)
    return TRUE;
  g_set_error (error, FT_FORECAST_ERROR, FT_FORECAST_ERROR_XGBOOST, "XGBoost %s failed: %s", what,
               XGBGetLastError ());
  return FALSE;
}

/* Hour of week, day of week and zone are left out (missing to XGBoost):
 * with three weeks of data they let the trees memorise single days; the
 * baseline, the margin the trees correct, already carries them. */
static void
to_float_row (const double *f, float *out)
{
  for (int j = 0; j < FT_N_FEATURES; j++)
    out[j] = isnan (f[j]) || (j == FT_F_HOW || j == FT_F_DOW || j == FT_F_ZONE) ? NAN : (float) f[j];
}

static gpointer
xgb_fit (const FtForecastParams *p, const FtDemandSeries *s, guint start, guint end, GError **error)
{
  guint Z = s->n_zones;
  guint first = MAX (start, FT_FEATURE_HISTORY);
  if (first >= end)
    {
      g_set_error (error, FT_FORECAST_ERROR, FT_FORECAST_ERROR_WINDOW,
                   "XGBoost needs a day (%d h) of history before its training rows: "
                   "training window hours [%u, %u) has none past hour %d",
                   FT_FEATURE_HISTORY, start, end, FT_FEATURE_HISTORY);
      return NULL;
    }
  XgbState *x = g_new0 (XgbState, 1);
  x->mean = ft_mean_model_fit (s, start, end, 0, 0, p->mean_shrink_weeks);
  x->n_zones = Z;
  x->horizon = p->horizon;
  guint n_cls = ft_lead_class (p->horizon);
  bst_ulong n_rows = (bst_ulong) (end - first) * Z * n_cls;
  g_autofree float *X = g_new (float, n_rows * FT_N_FEATURES);
  g_autofree float *y = g_new (float, n_rows);
  g_autofree float *margin = g_new (float, n_rows);
  FtTrainingFeatures tf;
  ft_training_features_init (&tf, s, start, end, p->mean_shrink_weeks);
  double f[FT_N_FEATURES];
  bst_ulong i = 0;
  for (guint c = 1; c <= n_cls; c++)
    for (guint t = first; t < end; t++)
      for (guint z = 0; z < Z; z++, i++)
        {
          ft_feature_row (ft_training_features_for (&tf, t), z, t, ft_training_lead (c, z, t, p->horizon), f);
          to_float_row (f, X + i * FT_N_FEATURES);
          y[i] = (float) ft_demand_series_demand (s, z, t);
          margin[i] = (float) log (MAX (f[FT_F_BASELINE], 0.02));
        }
  ft_training_features_clear (&tf);

  DMatrixHandle dm = NULL;
  gboolean ok = xgb_check (XGDMatrixCreateFromMat (X, n_rows, FT_N_FEATURES, NAN, &dm),
                           "creating the training matrix", error)
    && xgb_check (XGDMatrixSetFloatInfo (dm, "label", y, n_rows), "setting labels", error)
    && xgb_check (XGDMatrixSetFloatInfo (dm, "base_margin", margin, n_rows), "setting margins", error)
    && xgb_check (XGBoosterCreate (&dm, 1, &x->booster), "creating the booster", error);
  char buf[32];
  struct { const char *k; const char *v; } params[] = {
    { "objective", "count:poisson" },
    { "tree_method", "hist" },
    { "verbosity", "0" },
    { "seed", "0" },
    { "subsample", "0.8" },
    { "colsample_bytree", "0.9" },
    { "min_child_weight", "20" },
    { "lambda", "1" },
  };
  for (guint k = 0; ok && k < G_N_ELEMENTS (params); k++)
    ok = xgb_check (XGBoosterSetParam (x->booster, params[k].k, params[k].v), params[k].k, error);
  if (ok)
    {
      g_snprintf (buf, sizeof buf, "%u", p->xgb_max_depth);
      ok = xgb_check (XGBoosterSetParam (x->booster, "max_depth", buf), "max_depth", error);
    }
  if (ok)
    {
      g_ascii_dtostr (buf, sizeof buf, p->xgb_eta);
      ok = xgb_check (XGBoosterSetParam (x->booster, "eta", buf), "eta", error);
    }
  if (ok && p->xgb_nthread > 0)
    {
      g_snprintf (buf, sizeof buf, "%u", p->xgb_nthread);
      ok = xgb_check (XGBoosterSetParam (x->booster, "nthread", buf), "nthread", error);
    }
  for (guint r = 0; ok && r < p->xgb_rounds; r++)
    ok = xgb_check (XGBoosterUpdateOneIter (x->booster, (int) r, dm), "training", error);
  if (dm)
    XGDMatrixFree (dm);
  if (!ok)
    {
      xgb_state_free (x);
      return NULL;
    }
  return x;
}

static gboolean
xgb_predict (gpointer state, const FtDemandSeries *s, guint origin, guint horizon, double *out,
             GError **error)
{
  XgbState *x = state;
  if (x->n_zones != s->n_zones)
    {
      g_set_error (error, FT_FORECAST_ERROR, FT_FORECAST_ERROR_INVALID,
                   "model fitted for %u zones, series has %u", x->n_zones, s->n_zones);
      return FALSE;
    }
  if (origin < FT_FEATURE_HISTORY)
    {
      g_set_error (error, FT_FORECAST_ERROR, FT_FORECAST_ERROR_WINDOW,
                   "XGBoost needs a day (%d h) of history before the origin (hour %u)",
                   FT_FEATURE_HISTORY, origin);
      return FALSE;
    }
  guint Z = s->n_zones;
  bst_ulong n_rows = (bst_ulong) Z * horizon;
  g_autofree float *X = g_new (float, n_rows * FT_N_FEATURES);
  g_autofree float *margin = g_new (float, n_rows);
  FtFeatureContext ctx;
  ft_feature_context_init (&ctx, s, x->mean);
  double f[FT_N_FEATURES];
  for (guint z = 0; z < Z; z++)
    for (guint k = 0; k < horizon; k++)
      {
        ft_feature_row (&ctx, z, origin + k, k + 1, f);
        to_float_row (f, X + ((bst_ulong) z * horizon + k) * FT_N_FEATURES);
        margin[(bst_ulong) z * horizon + k] = (float) log (MAX (f[FT_F_BASELINE], 0.02));
      }
  ft_feature_context_clear (&ctx);
  DMatrixHandle dm = NULL;
  bst_ulong len = 0;
  const float *res = NULL;
  gboolean ok = xgb_check (XGDMatrixCreateFromMat (X, n_rows, FT_N_FEATURES, NAN, &dm),
                           "creating the prediction matrix", error)
    && xgb_check (XGDMatrixSetFloatInfo (dm, "base_margin", margin, n_rows), "setting margins", error)
    && xgb_check (XGBoosterPredict (x->booster, dm, 0, 0, 0, &len, &res), "predicting", error);
  if (ok && len != n_rows)
    {
      g_set_error (error, FT_FORECAST_ERROR, FT_FORECAST_ERROR_XGBOOST,
                   "XGBoost returned %" G_GUINT64_FORMAT " predictions for %" G_GUINT64_FORMAT " rows",
                   (guint64) len, (guint64) n_rows);
      ok = FALSE;
    }
  for (bst_ulong i = 0; ok && i < n_rows; i++)
    out[i] = res[i];
  if (dm)
    XGDMatrixFree (dm);
  return ok;
}

static void
xgb_save (gpointer state, GByteArray *out)
{
  XgbState *x = state;
  ft_mean_model_save (x->mean, out);
  ft_blob_put_u32 (out, x->n_zones);
  ft_blob_put_u32 (out, x->horizon);
  bst_ulong len = 0;
  const char *buf = NULL;
  /* A booster that was fitted saves; if XGBoost refuses, the blob records
   * an empty model and loading it fails with a clear error. */
  if (XGBoosterSaveModelToBuffer (x->booster, "{\"format\": \"ubj\"}", &len, &buf) != 0)
    len = 0;
  ft_blob_put_u32 (out, (guint32) len);
  if (len > 0)
    g_byte_array_append (out, (const guint8 *) buf, (guint) len);
}

static gpointer
xgb_load (FtBlobReader *r, GError **error)
{
  XgbState *x = g_new0 (XgbState, 1);
  x->mean = ft_mean_model_load (r);
  x->n_zones = ft_blob_get_u32 (r);
  x->horizon = ft_blob_get_u32 (r);
  guint32 len = ft_blob_get_u32 (r);
  const guint8 *buf = ft_blob_get_bytes (r, len);
  if (r->bad || x->mean == NULL || x->n_zones != x->mean->n_zones || len == 0 || x->horizon < 1
      || x->horizon > FT_FORECAST_MAX_HORIZON)
    {
      r->bad = TRUE;
      g_set_error (error, FT_FORECAST_ERROR, FT_FORECAST_ERROR_IO, "XGBoost model header damaged");
      xgb_state_free (x);
      return NULL;
    }
  if (!xgb_check (XGBoosterCreate (NULL, 0, &x->booster), "creating a booster", error)
      || !xgb_check (XGBoosterLoadModelFromBuffer (x->booster, buf, len), "loading the model", error))
    {
      r->bad = TRUE;
      xgb_state_free (x);
      return NULL;
    }
  return x;
}

const FtForecastOps ft_forecast_xgb_ops = { xgb_fit, xgb_predict, xgb_state_free, xgb_save, xgb_load };
