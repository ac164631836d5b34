/* ft-maint-xgb.c — the gradient-boosted model of predictive maintenance:
 * XGBoost (C API, binary:logistic, histogram trees), one booster per
 * horizon (24 h, 7 days) on the raw features. A row is a training example
 * for horizon h when it was followed for h hours (its label: a fault within
 * h or not); rows nearer the end of the training window are left out for
 * that horizon. A horizon whose known rows hold no fault or no non-fault (a
 * short training window for 7 days) is answered from the 24 h booster as
 * 1 - (1 - p24)^(h / 24) and says so in its flag. Every return code is
 * checked (XGBGetLastError names the failure) and every handle freed.
 */
#include "ft-config.h"
#include "ft-maint-private.h"

#include <math.h>
#include <xgboost/c_api.h>

typedef struct {
  BoosterHandle b[FT_MAINT_N_HORIZONS];   /* NULL: derived from horizon 0 */
} Xgb;

static void
xgb_free (gpointer p)
{
  Xgb *x = p;
  if (x == NULL)
    return;
  for (guint h = 0; h < FT_MAINT_N_HORIZONS; h++)
    if (x->b[h])
      XGBoosterFree (x->b[h]);
  g_free (x);
}

static gboolean
check (int rc, const char *what, GError **error)
{
  if (rc == 0)
    return TRUE;
  g_set_error (error, FT_MAINT_ERROR, FT_MAINT_ERROR_XGBOOST, "XGBoost %s failed: %s", what,
               XGBGetLastError ());
  return FALSE;
}

static float *
to_matrix (const FtMaintRow *rows, guint n, const guint *idx, guint m)
{
  float *X = g_new (float, (gsize) MAX (m, 1) * FT_MAINT_N_FEATURES);
  for (guint r = 0; r < m; r++)
    for (guint j = 0; j < FT_MAINT_N_FEATURES; j++)
      X[(gsize) r * FT_MAINT_N_FEATURES + j] = (float) rows[idx ? idx[r] : r].x[j];
  (void) n;
  return X;
}

static BoosterHandle
train_one (const FtMaintParams *p, const float *X, const float *y, guint m, double prevalence,
           GError **error)
{
  DMatrixHandle dm = NULL;
  BoosterHandle b = NULL;
  char buf[G_ASCII_DTOSTR_BUF_SIZE];
  gboolean ok = check (XGDMatrixCreateFromMat (X, m, FT_MAINT_N_FEATURES, NAN, &dm), "creating the matrix", error)
    && check (XGDMatrixSetFloatInfo (dm, "label", y, m), "setting labels", error)
    && check (XGBoosterCreate (&dm, 1, &b), "creating the booster", error)
    && check (XGBoosterSetParam (b, "objective", "binary:logistic"), "objective", error)
    && check (XGBoosterSetParam (b, "tree_method", "hist"), "tree_method", error)
    && check (XGBoosterSetParam (b, "min_child_weight", "5"), "min_child_weight", error)
    && check (XGBoosterSetParam (b, "subsample", "0.8"), "subsample", error)
    && check (XGBoosterSetParam (b, "seed", "1"), "seed", error)
    && check (XGBoosterSetParam (b, "verbosity", "0"), "verbosity", error)
    /* start from the fault rate, so few rounds are already calibrated */
    && check (XGBoosterSetParam (b, "base_score", g_ascii_dtostr (buf, sizeof buf, prevalence)),
              "base_score", error);
  if (ok)
    {
      g_snprintf (buf, sizeof buf, "%u", p->xgb_max_depth);
      ok = check (XGBoosterSetParam (b, "max_depth", buf), "max_depth", error);
    }
  if (ok)
    ok = check (XGBoosterSetParam (b, "eta", g_ascii_dtostr (buf, sizeof buf, p->xgb_eta)), "eta", error);
  if (ok && p->xgb_nthread > 0)
    {
      g_snprintf (buf, sizeof buf, "%u", p->xgb_nthread);
      ok = check (XGBoosterSetParam (b, "nthread", buf), "nthread", error);
    }
  for (guint r = 0; ok && r < p->xgb_rounds; r++)
    ok = check (XGBoosterUpdateOneIter (b, (int) r, dm), "training", error);
  if (dm)
    XGDMatrixFree (dm);
  if (!ok && b)
    {
      XGBoosterFree (b);
      b = NULL;
    }
  return b;
}

static gpointer
xgb_fit (const FtMaintParams *p, const FtMaintRow *rows, guint n, GError **error)
{
  Xgb *x = g_new0 (Xgb, 1);
  g_autofree guint *idx = g_new (guint, n);
  g_autofree float *y = g_new (float, n);
  for (guint h = 0; h < FT_MAINT_N_HORIZONS; h++)
    {
      double H = ft_maint_horizons_h[h];
      guint m = 0, pos = 0;
      for (guint i = 0; i < n; i++)
        {
          gboolean yes = rows[i].fault && rows[i].time_h <= H;
          if (rows[i].follow_h < H)
            continue;   /* horizon not followed to its end: leave out (keeping
                         * its faults alone would inflate the fault rate) */
          idx[m] = i;
          y[m++] = yes;
          pos += yes;
        }
      if (pos == 0 || pos == m)
        {
          if (h == 0)
            {
              g_set_error (error, FT_MAINT_ERROR, FT_MAINT_ERROR_NO_FAULTS,
                           "XGBoost: of %u rows whose %g h outcome is known, %u end in a fault: "
                           "nothing to learn", m, H, pos);
              xgb_free (x);
              return NULL;
            }
          continue;   /* derived from horizon 0 */
        }
      g_autofree float *X = to_matrix (rows, n, idx, m);
      x->b[h] = train_one (p, X, y, m, (double) pos / m, error);
      if (x->b[h] == NULL)
        {
          xgb_free (x);
          return NULL;
        }
    }
  return x;
}

static gboolean
predict_one (BoosterHandle b, const FtMaintRow *rows, guint n, double *out, GError **error)
{
  g_autofree float *X = to_matrix (rows, n, NULL, n);
  DMatrixHandle dm = NULL;
  bst_ulong len = 0;
  const float *res = NULL;
  gboolean ok = check (XGDMatrixCreateFromMat (X, n, FT_MAINT_N_FEATURES, NAN, &dm), "creating the matrix", error)
    && check (XGBoosterPredict (b, dm, 0, 0, 0, &len, &res), "predicting", error);
  if (ok && len != n)
    {
      g_set_error (error, FT_MAINT_ERROR, FT_MAINT_ERROR_XGBOOST,
                   "XGBoost returned %" G_GUINT64_FORMAT " predictions for %u rows", (guint64) len, n);
      ok = FALSE;
    }
  for (guint i = 0; ok && i < n; i++)
    out[i] = res[i];
  if (dm)
    XGDMatrixFree (dm);
  return ok;
}

static gboolean
xgb_predict (gconstpointer state, const FtMaintRow *rows, guint n, double h, double *p_out,
             GError **error)
{
  const Xgb *x = state;
  guint k = FT_MAINT_N_HORIZONS;
  for (guint j = 0; j < FT_MAINT_N_HORIZONS; j++)
    if (fabs (h - ft_maint_horizons_h[j]) < 1e-9)
      k = j;
  if (k == FT_MAINT_N_HORIZONS)
    {
      g_set_error (error, FT_MAINT_ERROR, FT_MAINT_ERROR_INVALID,
                   "XGBoost was trained for horizons of 24 and 168 hours, not %g", h);
      return FALSE;
    }
  if (n == 0)
    return TRUE;
  if (x->b[k])
    return predict_one (x->b[k], rows, n, p_out, error);
  if (!predict_one (x->b[0], rows, n, p_out, error))
    return FALSE;
  for (guint i = 0; i < n; i++)
    p_out[i] = -expm1 (h / ft_maint_horizons_h[0] * log1p (-MIN (p_out[i], 1.0 - 1e-12)));
  return TRUE;
}

static gboolean
xgb_save (gconstpointer state, GByteArray *out, GError **error)
{
  const Xgb *x = state;
  for (guint h = 0; h < FT_MAINT_N_HORIZONS; h++)
    {
      if (x->b[h] == NULL)
        {
          ft_maint_put_u32 (out, 0);
          continue;
        }
      bst_ulong len = 0;
      const char *buf = NULL;
      if (!check (XGBoosterSaveModelToBuffer (x->b[h], "{\"format\": \"ubj\"}", &len, &buf), "saving", error))
        return FALSE;
      if (len == 0 || len >= G_MAXUINT32)
        {
          g_set_error (error, FT_MAINT_ERROR, FT_MAINT_ERROR_XGBOOST, "XGBoost saved %" G_GUINT64_FORMAT " bytes",
                       (guint64) len);
          return FALSE;
        }
      ft_maint_put_u32 (out, (guint32) len);
      g_byte_array_append (out, (const guint8 *) buf, (guint) len);
    }
  return TRUE;
}

static gpointer
xgb_load (const guint8 *data, gsize len, GError **error)
{
  FtMaintReader r = { data, len };
  Xgb *x = g_new0 (Xgb, 1);
  for (guint h = 0; h < FT_MAINT_N_HORIZONS; h++)
    {
      guint32 n;
      if (!ft_maint_get_u32 (&r, &n, error))
        goto fail;
      if (n == 0)
        {
          if (h == 0)
            {
              g_set_error (error, FT_MAINT_ERROR, FT_MAINT_ERROR_BLOB, "XGBoost blob has no 24 h booster");
              goto fail;
            }
          continue;
        }
      if (n > r.left)
        {
          g_set_error (error, FT_MAINT_ERROR, FT_MAINT_ERROR_BLOB,
                       "XGBoost blob is truncated (booster of %u bytes, %zu left)", n, r.left);
          goto fail;
        }
      if (!check (XGBoosterCreate (NULL, 0, &x->b[h]), "creating the booster", error) ||
          !check (XGBoosterLoadModelFromBuffer (x->b[h], r.p, n), "loading", error))
        goto fail;
      r.p += n;
      r.left -= n;
    }
  if (r.left != 0)
    {
      g_set_error (error, FT_MAINT_ERROR, FT_MAINT_ERROR_BLOB, "XGBoost blob has %zu bytes too many", r.left);
      goto fail;
    }
  return x;
fail:
  xgb_free (x);
  return NULL;
}

const FtMaintOps ft_maint_xgb_ops = { xgb_fit, xgb_predict, xgb_save, xgb_load, xgb_free };
