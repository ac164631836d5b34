/* ft-maint.c — predictive maintenance, the parts every model shares: the
 * model interface (fit, predict, a blob with a SHA-256 trailer), the blob
 * helpers and the check that rows are finite. The models live in
 * ft-maint-baseline.c, ft-maint-weibull.c and ft-maint-xgb.c, the scores and
 * the backtest in ft-maint-score.c, the feature builder in ft-maint-log.c.
 */
#include "ft-config.h"
#include "ft-maint-private.h"

#include <math.h>
#include <string.h>

const double ft_maint_horizons_h[FT_MAINT_N_HORIZONS] = { 24.0, 168.0 };

static const char *const kind_names[FT_N_MAINT_KINDS] = { "baseline", "weibull", "xgb" };

static const FtMaintOps *const kind_ops[FT_N_MAINT_KINDS] = {
  &ft_maint_baseline_ops, &ft_maint_weibull_ops, &ft_maint_xgb_ops,
};

#define BLOB_MAGIC "FTMAINT\x01"
#define BLOB_VERSION 2u   /* 2: the warning-code features */
#define SHA_LEN 32u
#define HEADER_LEN (8u + 4u + 4u + 4u)

void
ft_maint_params_init (FtMaintParams *p)
{
  g_return_if_fail (p != NULL);
  *p = (FtMaintParams) { .ridge = 1e-3, .max_iter = 500, .grad_tol = 1e-7, .xgb_rounds = 100, .xgb_max_depth = 4,
                         .xgb_eta = 0.05, .xgb_nthread = 0 };
}

const char *
ft_maint_kind_name (FtMaintKind kind)
{
  return (guint) kind < FT_N_MAINT_KINDS ? kind_names[kind] : "unknown";
}

gboolean
ft_maint_kind_from_name (const char *name, FtMaintKind *kind)
{
  for (guint k = 0; name && k < FT_N_MAINT_KINDS; k++)
    if (g_ascii_strcasecmp (name, kind_names[k]) == 0)
      {
        if (kind)
          *kind = (FtMaintKind) k;
        return TRUE;
      }
  return FALSE;
}

/* ---- blob helpers --------------------------------------------------------- */

void
ft_maint_put_u32 (GByteArray *out, guint32 v)
{
  guint32 le = GUINT32_TO_LE (v);
  g_byte_array_append (out, (const guint8 *) &le, 4);
}

void
ft_maint_put_f64 (GByteArray *out, double v)
{
  guint64 bits;
  memcpy (&bits, &v, 8);
  bits = GUINT64_TO_LE (bits);
  g_byte_array_append (out, (const guint8 *) &bits, 8);
}

gboolean
ft_maint_get_u32 (FtMaintReader *r, guint32 *v, GError **error)
{
  if (r->left < 4)
    {
      g_set_error (error, FT_MAINT_ERROR, FT_MAINT_ERROR_BLOB, "model blob is truncated");
      return FALSE;
    }
  guint32 le;
  memcpy (&le, r->p, 4);
  *v = GUINT32_FROM_LE (le);
  r->p += 4;
  r->left -= 4;
  return TRUE;
}

gboolean
ft_maint_get_f64 (FtMaintReader *r, double *v, GError **error)
{
  if (r->left < 8)
    {
      g_set_error (error, FT_MAINT_ERROR, FT_MAINT_ERROR_BLOB, "model blob is truncated");
      return FALSE;
    }
  guint64 bits;
  memcpy (&bits, r->p, 8);
  bits = GUINT64_FROM_LE (bits);
  memcpy (v, &bits, 8);
  r->p += 8;
  r->left -= 8;
  return TRUE;
}

int
ft_maint_cmp_double (gconstpointer a, gconstpointer b)
{
  double x = *(const double *) a, y = *(const double *) b;
  return (x > y) - (x < y);
}

gboolean
ft_maint_rows_finite (const FtMaintRow *rows, guint n, GError **error)
{
  /* x * 0 is 0 for a finite x and NaN otherwise: one pass of
   * multiply-adds two features at a time finds out whether any is not
   * finite, and only then the loop below says which (the maintenance
   * shadow checks every vehicle's row twice a tick: a test per feature
   * was a tenth of its predictions' cost) */
  typedef double V2 __attribute__ ((vector_size (16), aligned (8)));
  V2 any = { 0, 0 };
  double last = 0;
  for (guint i = 0; i < n; i++)
    {
      const double *x = rows[i].x;
      guint j = 0;
      for (; j + 2 <= FT_MAINT_N_FEATURES; j += 2)
        any += *(const V2 *) (x + j) * 0.0;
      for (; j < FT_MAINT_N_FEATURES; j++)
        last += x[j] * 0.0;
    }
  if (any[0] == 0 && any[1] == 0 && last == 0)
    return TRUE;
  for (guint i = 0; i < n; i++)
    for (guint j = 0; j < FT_MAINT_N_FEATURES; j++)
      if (!isfinite (rows[i].x[j]))
        {
          g_set_error (error, FT_MAINT_ERROR, FT_MAINT_ERROR_INVALID,
                       "row %u (vehicle %u at %" G_GINT64_FORMAT " ms): feature %s is %g", i,
                       rows[i].vehicle, rows[i].t, ft_maint_feature_name ((FtMaintFeature) j), rows[i].x[j]);
          return FALSE;
        }
  return TRUE;
}

/* ---- the model interface -------------------------------------------------- */

FtMaintModel *
ft_maint_model_fit (FtMaintKind kind, const FtMaintParams *params, const FtMaintRow *rows, guint n,
                    GError **error)
{
  g_return_val_if_fail ((guint) kind < FT_N_MAINT_KINDS, NULL);
  g_return_val_if_fail (rows != NULL || n == 0, NULL);
  FtMaintParams def;
  if (params == NULL)
    {
      ft_maint_params_init (&def);
      params = &def;
    }
  if (n == 0)
    {
      g_set_error (error, FT_MAINT_ERROR, FT_MAINT_ERROR_EMPTY, "%s: no training rows (no vehicle in service)",
                   kind_names[kind]);
      return NULL;
    }
  if (!ft_maint_rows_finite (rows, n, error))
    {
      g_prefix_error (error, "%s: ", kind_names[kind]);
      return NULL;
    }
  guint faults = 0;
  for (guint i = 0; i < n; i++)
    {
      if (!isfinite (rows[i].time_h) || rows[i].time_h <= 0)
        {
          g_set_error (error, FT_MAINT_ERROR, FT_MAINT_ERROR_INVALID,
                       "%s: row %u (vehicle %u) has time to fault %g h (must be > 0)",
                       kind_names[kind], i, rows[i].vehicle, rows[i].time_h);
          return NULL;
        }
      faults += rows[i].fault != FALSE;
    }
  if (faults == 0)
    {
      g_set_error (error, FT_MAINT_ERROR, FT_MAINT_ERROR_NO_FAULTS,
                   "%s: none of the %u training rows is followed by a fault in the training window",
                   kind_names[kind], n);
      return NULL;
    }
  gpointer st = kind_ops[kind]->fit (params, rows, n, error);
  if (st == NULL)
    return NULL;
  FtMaintModel *m = g_new0 (FtMaintModel, 1);
  m->kind = kind;
  m->ops = kind_ops[kind];
  m->state = st;
  return m;
}

FtMaintKind
ft_maint_model_get_kind (const FtMaintModel *m)
{
  g_return_val_if_fail (m != NULL, FT_MAINT_BASELINE);
  return m->kind;
}

gboolean
ft_maint_model_predict (const FtMaintModel *m, const FtMaintRow *rows, guint n, double horizon_h,
                        double *p_out, GError **error)
{
  g_return_val_if_fail (m != NULL && (n == 0 || (rows != NULL && p_out != NULL)), FALSE);
  if (!isfinite (horizon_h) || horizon_h <= 0)
    {
      g_set_error (error, FT_MAINT_ERROR, FT_MAINT_ERROR_INVALID, "horizon %g h must be > 0", horizon_h);
      return FALSE;
    }
  if (!ft_maint_rows_finite (rows, n, error))
    return FALSE;
  return m->ops->predict (m->state, rows, n, horizon_h, p_out, error);
}

gboolean
ft_maint_model_predict_multi (const FtMaintModel *m, const FtMaintRow *rows, guint n, const double *horizons_h,
                              guint nh, double *p_out, GError **error)
{
  return ft_maint_model_predict_multi_memo (m, NULL, rows, n, horizons_h, nh, FALSE, p_out, error);
}

FtMaintMemo *
ft_maint_memo_new (void)
{
  return g_new0 (FtMaintMemo, 1);
}

void
ft_maint_memo_free (FtMaintMemo *memo)
{
  if (memo == NULL)
    return;
  g_free (memo->slot);
  g_free (memo);
}

gboolean
ft_maint_model_predict_multi_memo (const FtMaintModel *m, FtMaintMemo *memo, const FtMaintRow *rows, guint n,
                                   const double *horizons_h, guint nh, gboolean checked, double *p_out,
                                   GError **error)
{
  g_return_val_if_fail (m != NULL && (nh == 0 || horizons_h != NULL), FALSE);
  g_return_val_if_fail (n == 0 || nh == 0 || (rows != NULL && p_out != NULL), FALSE);
  for (guint q = 0; q < nh; q++)
    if (!isfinite (horizons_h[q]) || horizons_h[q] <= 0)
      {
        g_set_error (error, FT_MAINT_ERROR, FT_MAINT_ERROR_INVALID, "horizon %g h must be > 0", horizons_h[q]);
        return FALSE;
      }
  if (!checked && !ft_maint_rows_finite (rows, n, error))
    return FALSE;
  if (memo && m->ops->predict_memo)
    return m->ops->predict_memo (m->state, memo, rows, n, horizons_h, nh, p_out, error);
  if (m->ops->predict_multi)
    return m->ops->predict_multi (m->state, rows, n, horizons_h, nh, p_out, error);
  for (guint q = 0; q < nh; q++)
    if (!m->ops->predict (m->state, rows, n, horizons_h[q], p_out + (gsize) q * n, error))
      return FALSE;
  return TRUE;
}

void
ft_maint_model_free (FtMaintModel *m)
{
  if (m == NULL)
    return;
  m->ops->free (m->state);
  g_free (m);
}

GBytes *
ft_maint_model_to_blob (const FtMaintModel *m, GError **error)
{
  g_return_val_if_fail (m != NULL, NULL);
  GByteArray *out = g_byte_array_new ();
  g_byte_array_append (out, (const guint8 *) BLOB_MAGIC, 8);
  ft_maint_put_u32 (out, BLOB_VERSION);
  ft_maint_put_u32 (out, m->kind);
  ft_maint_put_u32 (out, 0);   /* payload length, patched below */
  if (!m->ops->save (m->state, out, error))
    {
      g_byte_array_unref (out);
      return NULL;
    }
  guint32 plen = GUINT32_TO_LE (out->len - HEADER_LEN);
  memcpy (out->data + 16, &plen, 4);
  guint8 sha[SHA_LEN];
  gsize sha_len = SHA_LEN;
  GChecksum *c = g_checksum_new (G_CHECKSUM_SHA256);
  g_checksum_update (c, out->data, out->len);
  g_checksum_get_digest (c, sha, &sha_len);
  g_checksum_free (c);
  g_byte_array_append (out, sha, SHA_LEN);
  return g_byte_array_free_to_bytes (out);
}

FtMaintModel *
ft_maint_model_from_blob (GBytes *blob, GError **error)
{
  g_return_val_if_fail (blob != NULL, NULL);
  gsize len;
  const guint8 *d = g_bytes_get_data (blob, &len);
  if (len < 8 || memcmp (d, BLOB_MAGIC, 8) != 0)
    {
      g_set_error (error, FT_MAINT_ERROR, FT_MAINT_ERROR_BLOB, "not a maintenance model blob (bad magic)");
      return NULL;
    }
  if (len < HEADER_LEN + SHA_LEN)
    {
      g_set_error (error, FT_MAINT_ERROR, FT_MAINT_ERROR_BLOB,
                   "maintenance model blob is truncated (%zu bytes, header and checksum need %u)",
                   len, HEADER_LEN + SHA_LEN);
      return NULL;
    }
  FtMaintReader r = { d + 8, HEADER_LEN - 8 };
  guint32 version, kind, plen;
  ft_maint_get_u32 (&r, &version, NULL);
  ft_maint_get_u32 (&r, &kind, NULL);
  ft_maint_get_u32 (&r, &plen, NULL);
  if ((guint64) HEADER_LEN + plen + SHA_LEN != len)
    {
      g_set_error (error, FT_MAINT_ERROR, FT_MAINT_ERROR_BLOB,
                   "maintenance model blob is truncated or padded (%zu bytes; its header says %u)",
                   len, HEADER_LEN + plen + SHA_LEN);
      return NULL;
    }
  guint8 sha[SHA_LEN];
  gsize sha_len = SHA_LEN;
  GChecksum *c = g_checksum_new (G_CHECKSUM_SHA256);
  g_checksum_update (c, d, len - SHA_LEN);
  g_checksum_get_digest (c, sha, &sha_len);
  g_checksum_free (c);
  if (memcmp (sha, d + len - SHA_LEN, SHA_LEN) != 0)
    {
      g_set_error (error, FT_MAINT_ERROR, FT_MAINT_ERROR_BLOB,
                   "maintenance model blob fails its SHA-256 checksum (corrupted)");
      return NULL;
    }
  if (version != BLOB_VERSION || kind >= FT_N_MAINT_KINDS)
    {
      g_set_error (error, FT_MAINT_ERROR, FT_MAINT_ERROR_BLOB,
                   "maintenance model blob has version %u and kind %u (this build reads version %u, "
                   "kinds 0..%u)", version, kind, BLOB_VERSION, FT_N_MAINT_KINDS - 1);
      return NULL;
    }
  gpointer st = kind_ops[kind]->load (d + HEADER_LEN, plen, error);
  if (st == NULL)
    return NULL;
  FtMaintModel *m = g_new0 (FtMaintModel, 1);
  m->kind = (FtMaintKind) kind;
  m->ops = kind_ops[kind];
  m->state = st;
  return m;
}
