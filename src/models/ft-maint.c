/* ft-maint.c — predictive maintenance, the parts every model shares: the
 * model interface (fit, predict, blob with a SHA-256 trailer), the naive
 * baseline (the fault rate per hour by km since service, the ranking an
 * operator would use without a model), the scores (precision and recall at
 * top-k, ROC AUC, Harrell's C, Brier, lead time) and the time-split backtest.
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
#define BLOB_VERSION 1u
#define SHA_LEN 32u
#define HEADER_LEN (8u + 4u + 4u + 4u)

void
ft_maint_params_init (FtMaintParams *p)
{
  g_return_if_fail (p != NULL);
  *p = (FtMaintParams) { .ridge = 1e-3, .max_iter = 500, .xgb_rounds = 100, .xgb_max_depth = 4,
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

gboolean
ft_maint_rows_finite (const FtMaintRow *rows, guint n, GError **error)
{
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

/* ---- the baseline ----------------------------------------------------------- */

/* Faults per hour of exposure by km since service (10 bins at the training
 * deciles), made non-decreasing in km and interpolated inside a bin, so the
 * ranking is the naive one (more km since service, more risk) and the
 * probability 1 - exp(-rate h) is calibrated on the training window. */
#define N_BINS 10

typedef struct {
  double edge[N_BINS + 1];   /* km; edge[0] = 0 */
  double rate[N_BINS];       /* per hour */
} Base;

static int
cmp_double (gconstpointer a, gconstpointer b)
{
  double x = *(const double *) a, y = *(const double *) b;
  return (x > y) - (x < y);
}

static gpointer
base_fit (const FtMaintParams *p, const FtMaintRow *rows, guint n, GError **error)
{
  (void) p;
  (void) error;
  Base *b = g_new0 (Base, 1);
  g_autofree double *km = g_new (double, n);
  for (guint i = 0; i < n; i++)
    km[i] = rows[i].x[FT_MF_KM_SINCE_SERVICE];
  qsort (km, n, sizeof (double), cmp_double);
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

const FtMaintOps ft_maint_baseline_ops = { base_fit, base_predict, base_save, base_load, g_free };

/* ---- scores ------------------------------------------------------------------ */

typedef struct {
  double key;
  guint  i;
} Ranked;

static int
cmp_ranked (gconstpointer a, gconstpointer b)
{
  const Ranked *x = a, *y = b;
  if (x->key != y->key)
    return x->key < y->key ? -1 : 1;
  return (x->i > y->i) - (x->i < y->i);
}

double
ft_maint_auc (const double *score, const gboolean *label, guint n)
{
  g_autofree Ranked *r = g_new (Ranked, MAX (n, 1));
  double pos = 0, neg = 0, rank_sum = 0;
  for (guint i = 0; i < n; i++)
    r[i] = (Ranked) { score[i], i };
  qsort (r, n, sizeof (Ranked), cmp_ranked);
  for (guint i = 0; i < n;)
    {
      guint j = i;
      while (j < n && r[j].key == r[i].key)
        j++;
      double mid = (i + 1 + j) / 2.0;   /* average of ranks i+1 .. j */
      for (guint q = i; q < j; q++)
        if (label[r[q].i])
          rank_sum += mid;
      i = j;
    }
  for (guint i = 0; i < n; i++)
    {
      pos += label[i] != FALSE;
      neg += label[i] == FALSE;
    }
  if (pos == 0 || neg == 0)
    return NAN;
  return (rank_sum - pos * (pos + 1) / 2.0) / (pos * neg);
}

/* Fenwick tree of counts over risk ranks 1..n. */
static void
fen_add (guint *t, guint n, guint i)
{
  for (; i <= n; i += i & -i)
    t[i]++;
}

static guint64
fen_sum (const guint *t, guint i)
{
  guint64 s = 0;
  for (; i > 0; i -= i & -i)
    s += t[i];
  return s;
}

double
ft_maint_c_index (const double *risk, const double *time, const gboolean *event, guint n)
{
  if (n < 2)
    return NAN;
  /* dense ranks of risk */
  g_autofree Ranked *byrisk = g_new (Ranked, n);
  g_autofree guint *rank = g_new (guint, n);
  for (guint i = 0; i < n; i++)
    byrisk[i] = (Ranked) { risk[i], i };
  qsort (byrisk, n, sizeof (Ranked), cmp_ranked);
  guint nr = 0;
  for (guint i = 0; i < n; i++)
    {
      if (i == 0 || byrisk[i].key != byrisk[i - 1].key)
        nr++;
      rank[byrisk[i].i] = nr;
    }
  g_autofree Ranked *bytime = g_new (Ranked, n);
  for (guint i = 0; i < n; i++)
    bytime[i] = (Ranked) { time[i], i };
  qsort (bytime, n, sizeof (Ranked), cmp_ranked);
  g_autofree guint *fen = g_new0 (guint, nr + 1);
  double conc = 0, pairs = 0;
  guint64 inserted = 0;
  /* from the longest time down: rows inserted have a strictly longer time */
  for (gint hi = (gint) n - 1; hi >= 0;)
    {
      gint lo = hi;
      while (lo > 0 && bytime[lo - 1].key == bytime[hi].key)
        lo--;
      for (gint q = lo; q <= hi; q++)
        {
          guint i = bytime[q].i;
          if (!event[i])
            continue;
          guint64 below = fen_sum (fen, rank[i] - 1);
          guint64 same = fen_sum (fen, rank[i]) - below;
          conc += below + 0.5 * same;
          pairs += inserted;
        }
      for (gint q = lo; q <= hi; q++)
        {
          fen_add (fen, nr, rank[bytime[q].i]);
          inserted++;
        }
      hi = lo - 1;
    }
  return pairs > 0 ? conc / pairs : NAN;
}

void
ft_maint_backtest_spec_init (FtMaintBacktestSpec *spec)
{
  g_return_if_fail (spec != NULL);
  *spec = (FtMaintBacktestSpec) { .train_days = 0, .test_days = 4, .top_k = 0, .top_k_frac = 0.02,
                                  .step_hours = 6 };
  ft_maint_params_init (&spec->params);
}

typedef struct {
  guint32 v;
  FtTime  fault_t;
  FtTime  first_listed;   /* G_MAXINT64: never */
} Episode;

static void
score_rows (const FtMaintRow *rows, guint n, double *const p[FT_MAINT_N_HORIZONS], FtTime test_start,
            guint k, FtMaintScore *s)
{
  memset (s, 0, sizeof *s);
  s->k = k;
  g_autofree gboolean *y = g_new (gboolean, MAX (n, 1));
  g_autofree double *sc = g_new (double, MAX (n, 1));
  for (guint h = 0; h < FT_MAINT_N_HORIZONS; h++)
    {
      double H = ft_maint_horizons_h[h], brier = 0;
      guint m = 0;
      for (guint i = 0; i < n; i++)
        {
          gboolean yes = rows[i].fault && rows[i].time_h <= H;
          if (rows[i].follow_h < H)
            continue;
          y[m] = yes;
          sc[m++] = p[h][i];
          brier += (p[h][i] - yes) * (p[h][i] - yes);
        }
      s->n_eval[h] = m;
      s->auc[h] = m ? ft_maint_auc (sc, y, m) : NAN;
      s->brier[h] = m ? brier / m : NAN;
    }
  {
    g_autofree double *t = g_new (double, MAX (n, 1));
    for (guint i = 0; i < n; i++)
      {
        t[i] = rows[i].time_h;
        y[i] = rows[i].fault;
      }
    s->c_index = ft_maint_c_index (p[0], t, y, n);
  }

  /* fault episodes (vehicle, fault time) seen by the test rows */
  g_autoptr (GHashTable) ep_index = g_hash_table_new (g_int64_hash, g_int64_equal);
  g_autoptr (GArray) eps = g_array_new (FALSE, FALSE, sizeof (Episode));
  g_autofree gint64 *keys = g_new (gint64, MAX (n, 1));
  for (guint i = 0; i < n; i++)
    {
      keys[i] = -1;
      if (!rows[i].fault)
        continue;
      FtTime f = rows[i].t + (FtTime) llround (rows[i].time_h * FT_HOUR);
      keys[i] = ((f - test_start) << 22) | rows[i].vehicle;
      if (!g_hash_table_contains (ep_index, &keys[i]))
        {
          Episode e = { rows[i].vehicle, f, G_MAXINT64 };
          g_array_append_val (eps, e);
          g_hash_table_insert (ep_index, &keys[i], GUINT_TO_POINTER (eps->len));
        }
    }
  s->faults = eps->len;

  /* daily lists: rows observed at test_start + d days, ranked by p24 */
  double hits = 0, listed = 0, positives = 0;
  g_autofree Ranked *day = g_new (Ranked, MAX (n, 1));
  for (guint i = 0; i < n;)
    {
      FtTime T = rows[i].t;
      guint j = i;
      while (j < n && rows[j].t == T)
        j++;
      /* a list every day at the test start's time of day, if its day is
       * inside the log */
      if ((T - test_start) % FT_DAY == 0 && rows[i].follow_h >= 24.0)
        {
          guint m = 0;
          for (guint q = i; q < j; q++)
            day[m++] = (Ranked) { -p[0][q], q };   /* highest risk first; ties by row */
          qsort (day, m, sizeof (Ranked), cmp_ranked);
          guint kk = MIN (k, m);
          for (guint q = i; q < j; q++)
            positives += rows[q].fault && rows[q].time_h <= 24.0;
          for (guint r = 0; r < kk; r++)
            {
              const FtMaintRow *row = &rows[day[r].i];
              hits += row->fault && row->time_h <= 24.0;
              if (row->fault)
                {
                  guint e = GPOINTER_TO_UINT (g_hash_table_lookup (ep_index, &keys[day[r].i]));
                  Episode *ep = &g_array_index (eps, Episode, e - 1);
                  ep->first_listed = MIN (ep->first_listed, T);
                }
            }
          listed += kk;
          s->lists++;
        }
      i = j;
    }
  s->precision_at_k = listed > 0 ? hits / listed : NAN;
  s->recall_at_k = positives > 0 ? hits / positives : NAN;
  g_autofree double *lead = g_new (double, MAX (eps->len, 1));
  double sum = 0;
  for (guint e = 0; e < eps->len; e++)
    {
      const Episode *ep = &g_array_index (eps, Episode, e);
      if (ep->first_listed == G_MAXINT64)
        continue;
      lead[s->caught] = (double) (ep->fault_t - ep->first_listed) / FT_HOUR;
      sum += lead[s->caught++];
    }
  if (s->caught)
    {
      qsort (lead, s->caught, sizeof (double), cmp_double);
      s->lead_median_h = s->caught % 2 ? lead[s->caught / 2]
                                       : 0.5 * (lead[s->caught / 2 - 1] + lead[s->caught / 2]);
      s->lead_mean_h = sum / s->caught;
    }
  else
    s->lead_median_h = s->lead_mean_h = NAN;
}

gboolean
ft_maint_backtest (const FtMaintLog *log, const FtMaintBacktestSpec *spec, const FtMaintKind *kinds,
                   guint n_kinds, FtMaintScore *scores, double *fit_seconds, double *predict_seconds,
                   GError **error)
{
  g_return_val_if_fail (log != NULL && spec != NULL && (n_kinds == 0 || (kinds && scores)), FALSE);
  FtTime start = ft_maint_log_start (log), end = ft_maint_log_end (log);
  guint nv = ft_maint_log_n_vehicles (log);
  if (nv == 0)
    {
      g_set_error (error, FT_MAINT_ERROR, FT_MAINT_ERROR_EMPTY, "the event log shows no vehicle");
      return FALSE;
    }
  if (spec->step_hours < 1 || spec->step_hours > 24 || 24 % spec->step_hours != 0)
    {
      g_set_error (error, FT_MAINT_ERROR, FT_MAINT_ERROR_INVALID,
                   "step of %u h must divide a day (1, 2, 3, 4, 6, 8, 12 or 24)", spec->step_hours);
      return FALSE;
    }
  if (spec->test_days < 1)
    {
      g_set_error (error, FT_MAINT_ERROR, FT_MAINT_ERROR_INVALID, "the test window needs at least a day");
      return FALSE;
    }
  double span_days = (double) (end - start) / FT_DAY;
  FtTime test_start = end - (FtTime) spec->test_days * FT_DAY;
  FtTime train_start = spec->train_days ? test_start - (FtTime) spec->train_days * FT_DAY : start;
  if (test_start <= start || train_start < start)
    {
      g_set_error (error, FT_MAINT_ERROR, FT_MAINT_ERROR_WINDOW,
                   "a %u-day training and %u-day test window need more than the %.2f days the log covers",
                   spec->train_days, spec->test_days, span_days);
      return FALSE;
    }
  FtTime step = (FtTime) spec->step_hours * FT_HOUR;
  /* training rows on the step grid counted back from the test start */
  FtTime first = test_start - ((test_start - train_start) / step) * step;
  g_autoptr (GArray) train = ft_maint_log_rows (log, first, test_start, step, test_start, error);
  if (train == NULL)
    return FALSE;
  g_autoptr (GArray) test = ft_maint_log_rows (log, test_start, end, step, end, error);
  if (test == NULL)
    return FALSE;
  if (test->len == 0)
    {
      g_set_error (error, FT_MAINT_ERROR, FT_MAINT_ERROR_EMPTY, "no vehicle in service in the test window");
      return FALSE;
    }
  guint k = spec->top_k ? spec->top_k : MAX (1u, (guint) ceil (spec->top_k_frac * nv));
  g_autofree double *p24 = g_new (double, test->len);
  g_autofree double *p168 = g_new (double, test->len);
  double *p[FT_MAINT_N_HORIZONS] = { p24, p168 };
  for (guint q = 0; q < n_kinds; q++)
    {
      gint64 t0 = g_get_monotonic_time ();
      g_autoptr (FtMaintModel) m = ft_maint_model_fit (kinds[q], &spec->params, (const FtMaintRow *) train->data,
                                                       train->len, error);
      if (m == NULL)
        {
          g_prefix_error (error, "training window of %u rows: ", train->len);
          return FALSE;
        }
      gint64 t1 = g_get_monotonic_time ();
      for (guint h = 0; h < FT_MAINT_N_HORIZONS; h++)
        if (!ft_maint_model_predict (m, (const FtMaintRow *) test->data, test->len, ft_maint_horizons_h[h],
                                     p[h], error))
          return FALSE;
      gint64 t2 = g_get_monotonic_time ();
      if (fit_seconds)
        fit_seconds[q] = (t1 - t0) / 1e6;
      if (predict_seconds)
        predict_seconds[q] = (t2 - t1) / 1e6;
      score_rows ((const FtMaintRow *) test->data, test->len, p, test_start, k, &scores[q]);
    }
  return TRUE;
}
