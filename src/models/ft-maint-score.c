/* ft-maint-score.c — how predictive maintenance is scored: ROC AUC,
 * Harrell's C (O(n log n) with a Fenwick tree), Brier per horizon, the daily
 * top-k list (precision, recall, lead time of the faults it named before
 * they happened) and the time-split backtest that trains on the start of a
 * log and scores its last days.
 */
#include "ft-config.h"
#include "ft-maint-private.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

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

/* The order of cmp_ranked for r[i].i == i (ties keep their order): an LSD
 * radix sort on the keys' bits, mapped so that unsigned order is the
 * order of the doubles (the shadow's scores sort tens of thousands of
 * predictions; qsort's calls cost ten times more). Keys NaN fall back to
 * qsort. */
static void
sort_ranked (Ranked *r, guint n)
{
  if (n < 256)
    {
      qsort (r, n, sizeof (Ranked), cmp_ranked);
      return;
    }
  g_autofree guint64 *k = g_new (guint64, 2 * (gsize) n);
  g_autofree Ranked *tmp = g_new (Ranked, n);
  guint64 *kt = k + n;
  for (guint i = 0; i < n; i++)
    {
      if (isnan (r[i].key))
        {
          qsort (r, n, sizeof (Ranked), cmp_ranked);
          return;
        }
      double d = r[i].key == 0 ? 0.0 : r[i].key;   /* -0 sorts with 0 */
      guint64 b;
      memcpy (&b, &d, sizeof b);
      k[i] = b >> 63 ? ~b : b | G_GUINT64_CONSTANT (0x8000000000000000);
    }
  Ranked *src = r, *dst = tmp;
  guint64 *ks = k, *kd = kt;
  for (guint shift = 0; shift < 64; shift += 8)
    {
      guint cnt[257] = { 0 };
      for (guint i = 0; i < n; i++)
        cnt[((ks[i] >> shift) & 0xff) + 1]++;
      if (cnt[((ks[0] >> shift) & 0xff) + 1] == n)
        continue;   /* every key has this byte */
      for (guint b = 0; b < 256; b++)
        cnt[b + 1] += cnt[b];
      for (guint i = 0; i < n; i++)
        {
          guint at = cnt[(ks[i] >> shift) & 0xff]++;
          dst[at] = src[i];
          kd[at] = ks[i];
        }
      Ranked *t = src;
      src = dst;
      dst = t;
      guint64 *u = ks;
      ks = kd;
      kd = u;
    }
  if (src != r)
    memcpy (r, src, sizeof (Ranked) * n);
}

/* The unsigned key whose order is that of the doubles (-0 with 0). */
static inline guint64
order_key (double d)
{
  d = d == 0 ? 0.0 : d;
  guint64 b;
  memcpy (&b, &d, sizeof b);
  return b >> 63 ? ~b : b | G_GUINT64_CONSTANT (0x8000000000000000);
}

/* LSD radix sort of k (n keys, tmp as long), 11 bits at a time (six
 * passes); a digit every key shares (the sign and most of the exponent
 * of probabilities) is skipped. The six digits' counts are taken in one
 * read of the keys (a pass's keys have the same digits in any order). */
#define RADIX_BITS 11
#define RADIX_PASSES ((64 + RADIX_BITS - 1) / RADIX_BITS)
static void
radix_keys (guint64 *k, guint64 *tmp, guint n)
{
  guint64 *src = k, *dst = tmp;
  const guint64 mask = (1u << RADIX_BITS) - 1;
  const gsize stride = (1u << RADIX_BITS) + 1;
  if (n < 2)
    return;
  g_autofree guint *cnts = g_new0 (guint, stride * RADIX_PASSES);
  for (guint i = 0; i < n; i++)
    {
      guint64 key = src[i];
      for (guint d = 0; d < RADIX_PASSES; d++)
        cnts[d * stride + ((key >> (d * RADIX_BITS)) & mask) + 1]++;
    }
  for (guint d = 0; d < RADIX_PASSES; d++)
    {
      guint shift = d * RADIX_BITS;
      guint *cnt = cnts + d * stride;
      if (cnt[((src[0] >> shift) & mask) + 1] == n)
        continue;
      for (guint b = 0; b < (1u << RADIX_BITS); b++)
        cnt[b + 1] += cnt[b];
      for (guint i = 0; i < n; i++)
        dst[cnt[(src[i] >> shift) & mask]++] = src[i];
      guint64 *t = src;
      src = dst;
      dst = t;
    }
  if (src != k)
    memcpy (k, src, sizeof (guint64) * n);
}

/* The rank sum of the positives (ranks 1..n by score, ties their mean)
 * from the two classes' keys sorted apart (keys only, no index to carry)
 * and walked together: a key's rank is (scores below it + scores at or
 * below it + 1) / 2, a multiple of 1/2, so the sum is exact and the same
 * as the full sort's. FALSE (nothing computed) when a score is NaN. */
static gboolean
rank_sum_by_class (const double *score, const gboolean *label, guint n, guint npos, double *rank_sum)
{
  g_autofree guint64 *k = g_new (guint64, 2 * (gsize) MAX (n, 1));
  guint64 *kp = k, *kn = k + npos, *tmp = k + n;
  guint a = 0, b = 0;
  for (guint i = 0; i < n; i++)
    {
      if (isnan (score[i]))
        return FALSE;
      if (label[i])
        kp[a++] = order_key (score[i]);
      else
        kn[b++] = order_key (score[i]);
    }
  guint nneg = n - npos;
  radix_keys (kp, tmp, npos);
  radix_keys (kn, tmp, nneg);
  double sum = 0;
  guint before = 0;
  a = b = 0;
  while (a < npos)
    {
      guint64 key = b < nneg && kn[b] < kp[a] ? kn[b] : kp[a];
      guint cp = 0, cn = 0;
      while (a < npos && kp[a] == key)
        a++, cp++;
      while (b < nneg && kn[b] == key)
        b++, cn++;
      guint after = before + cp + cn;
      if (cp)
        sum += cp * ((before + 1 + after) / 2.0);
      before = after;
    }
  *rank_sum = sum;
  return TRUE;
}

double
ft_maint_auc (const double *score, const gboolean *label, guint n)
{
  {
    guint npos = 0;
    for (guint i = 0; i < n; i++)
      npos += label[i] != FALSE;
    double rs;
    if (npos > 0 && npos < n && rank_sum_by_class (score, label, n, npos, &rs))
      {
        double pos = npos, neg = n - npos;
        return (rs - pos * (pos + 1) / 2.0) / (pos * neg);
      }
  }
  g_autofree Ranked *r = g_new (Ranked, MAX (n, 1));
  double pos = 0, neg = 0, rank_sum = 0;
  for (guint i = 0; i < n; i++)
    r[i] = (Ranked) { score[i], i };
  sort_ranked (r, n);
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
      qsort (lead, s->caught, sizeof (double), ft_maint_cmp_double);
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
