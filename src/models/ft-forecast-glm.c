/* ft-forecast-glm.c — the Poisson GLM rung: log E[trips] = log(historical
 * mean of the cell) (an offset) + intercept + hour-of-week effect +
 * hour-of-day x day-type effect + zone effect + coefficients on the
 * anomalies the lead allows (log((5 + count) / (5 + mean)) of lags 1, 2, 3,
 * 24 and 168 h), on the zone's and the city's anomaly over the 24 h and the
 * city's over the 3 h before the origin, and on the log mean itself (so its
 * weight may move from 1). L2 penalty on everything but the intercept; the
 * hour-of-week, day-type and zone effects, which the offset already carries,
 * ten times harder. Training rows read the mean fitted without their week.
 * One coefficient vector per lead class (1, 2, 3, 4-6, 7-12, 13-24 h).
 * Fitted by IRLS with step halving: each step solves (X'WX + lambda P) beta
 * = X'Wz by a Cholesky factorisation that skips zeros, the intercept
 * ordered last so the hour-of-week and hour-of-day dummies (one of each a
 * row) are eliminated without fill-in (about a tenth of a dense
 * factorisation's work), the design kept sparse (13 entries a row) so
 * X'WX costs rows x 169.
 */
#include "ft-config.h"
#include "ft-forecast-private.h"

#include <math.h>
#include <string.h>

/* ---- the IRLS core ------------------------------------------------------ */

static double
row_eta (const int *idx, const double *val, guint width, const double *beta)
{
  double e = 0;
  for (guint j = 0; j < width; j++)
    if (idx[j] >= 0)
      e += val[j] * beta[idx[j]];
  return e;
}

/* Penalised objective: deviance / 2 + lambda / 2 * |beta[1..]|^2; each
 * row's linear predictor and mean into eta_out and mu_out (the next IRLS
 * step reads them instead of computing them again). */
static double
objective (const int *idx, const double *val, guint width, guint n_rows, guint n_cols,
           const double *y, const double *ylogy, const double *offset, double lambda, const double *pen,
           const double *beta, double *eta_out, double *mu_out)
{
  double dev = 0;
  for (guint i = 0; i < n_rows; i++)
    {
      double eta = CLAMP ((offset ? offset[i] : 0)
                          + row_eta (idx + (gsize) i * width, val + (gsize) i * width, width, beta),
                          -30, 30);
      double mu = exp (eta);
      eta_out[i] = eta;
      mu_out[i] = mu;
      /* ft_poisson_deviance (y, mu) with log (y / mu) = log y - eta: no
       * logarithm per row and step (the floor of mu aside) */
      dev += mu >= 1e-9 ? 2 * (ylogy[i] - y[i] * eta - (y[i] - mu)) : ft_poisson_deviance (y[i], mu);
    }
  double penalty = 0;
  for (guint c = 0; c < n_cols; c++)
    penalty += (pen ? pen[c] : c > 0) * beta[c] * beta[c];
  return dev / 2 + lambda / 2 * penalty;
}

/* Column c's place in the system: the intercept (column 0, in every row)
 * last, so the columns before it that no row shares (the hour-of-week
 * dummies: one per row) stay without fill-in and their elimination costs
 * only the rows they touch. */
static inline guint
perm (guint c, guint n_cols)
{
  return c == 0 ? n_cols - 1 : c - 1;
}

/* In-place Cholesky factorisation A = L L' of the lower triangle of the
 * n x n row-major A (nothing above the diagonal is read), by columns,
 * skipping the zeros of each column (a sparse design's normal equations
 * keep most of them): far fewer operations than a dense factorisation
 * when the dummy columns come first. FALSE when A is not positive
 * definite. col and nz are scratch of n each. */
static gboolean
cholesky_sparse (double *A, guint n, double *col, guint *nz)
{
  for (guint j = 0; j < n; j++)
    {
      double d = A[(gsize) j * n + j];
      if (!(d > 0) || !isfinite (d))
        return FALSE;
      double ljj = sqrt (d);
      A[(gsize) j * n + j] = ljj;
      guint m = 0;
      for (guint i = j + 1; i < n; i++)
        {
          double v = A[(gsize) i * n + j];
          if (v != 0)
            {
              v /= ljj;
              A[(gsize) i * n + j] = v;
              col[m] = v;
              nz[m++] = i;
            }
        }
      /* the rank-one update of what is left, on its nonzero rows only */
      for (guint a = 0; a < m; a++)
        {
          double *row = A + (gsize) nz[a] * n;
          double ca = col[a];
          for (guint b = 0; b <= a; b++)
            row[nz[b]] -= ca * col[b];
        }
    }
  return TRUE;
}

/* Solves L L' x = b with the factor of cholesky_sparse; x may be b. */
static void
cholesky_solve (const double *L, guint n, const double *b, double *x)
{
  for (guint i = 0; i < n; i++)
    {
      double v = b[i];
      const double *row = L + (gsize) i * n;
      for (guint k = 0; k < i; k++)
        v -= row[k] * x[k];
      x[i] = v / row[i];
    }
  for (guint i = n; i-- > 0;)
    {
      double v = x[i];
      for (guint k = i + 1; k < n; k++)
        v -= L[(gsize) k * n + i] * x[k];
      x[i] = v / L[(gsize) i * n + i];
    }
}

#define DECREMENT_TOL 2e-6

gboolean
ft_poisson_glm_fit (const int *idx, const double *val, guint width, guint n_rows, guint n_cols,
                    const double *y, const double *offset, double lambda, const double *pen,
                    guint max_iter, double *beta, guint *iters, GError **error)
{
  g_return_val_if_fail (idx != NULL && val != NULL && y != NULL && beta != NULL, FALSE);
  if (n_rows == 0 || n_cols == 0 || width == 0)
    {
      g_set_error (error, FT_FORECAST_ERROR, FT_FORECAST_ERROR_EMPTY,
                   "GLM design is empty (%u rows, %u columns)", n_rows, n_cols);
      return FALSE;
    }
  if (!isfinite (lambda) || lambda < 0)
    {
      g_set_error (error, FT_FORECAST_ERROR, FT_FORECAST_ERROR_INVALID,
                   "GLM penalty %g must be finite and >= 0", lambda);
      return FALSE;
    }
  for (guint i = 0; i < n_rows; i++)
    {
      if (offset && !isfinite (offset[i]))
        {
          g_set_error (error, FT_FORECAST_ERROR, FT_FORECAST_ERROR_INVALID,
                       "GLM offset of row %u is %g: must be finite", i, offset[i]);
          return FALSE;
        }
      if (!isfinite (y[i]) || y[i] < 0)
        {
          g_set_error (error, FT_FORECAST_ERROR, FT_FORECAST_ERROR_INVALID,
                       "GLM response of row %u is %g: must be a finite count >= 0", i, y[i]);
          return FALSE;
        }
      for (guint j = 0; j < width; j++)
        {
          gsize k = (gsize) i * width + j;
          if (idx[k] >= (int) n_cols || (idx[k] >= 0 && !isfinite (val[k])))
            {
              g_set_error (error, FT_FORECAST_ERROR, FT_FORECAST_ERROR_INVALID,
                           "GLM feature %u of row %u is %g in column %d: must be finite, "
                           "column below %u", j, i, val[k], idx[k], n_cols);
              return FALSE;
            }
        }
    }
  for (guint c = 0; c < n_cols; c++)
    if (!isfinite (beta[c]) || (pen && (!isfinite (pen[c]) || pen[c] < 0)))
      {
        g_set_error (error, FT_FORECAST_ERROR, FT_FORECAST_ERROR_INVALID,
                     "GLM start coefficient or penalty weight %u is not finite (or < 0)", c);
        return FALSE;
      }

  g_autofree double *b = g_memdup2 (beta, sizeof (double) * n_cols);
  g_autofree double *step = g_new (double, n_cols);
  g_autofree double *A = g_new (double, (gsize) n_cols * n_cols);
  g_autofree double *rhs = g_new (double, n_cols);
  g_autofree double *sol = g_new (double, n_cols);
  g_autofree double *scratch = g_new (double, n_cols);
  g_autofree guint *nz = g_new (guint, n_cols);
  g_autofree double *trial = g_new (double, n_cols);
  /* eta and mu of the rows at b (cur) and at a trial step (next) */
  g_autofree double *rows_buf = g_new (double, (gsize) 4 * n_rows);
  /* Each row's entries in system (perm ()) order, once: the normal
   * equations' lower triangle is then, for each entry, the entries up to
   * it (no index tests in the inner loop, half the pairs of a row). */
  g_autofree guint *sp = g_new (guint, (gsize) n_rows * width);
  g_autofree double *sv = g_new (double, (gsize) n_rows * width);
  g_autofree guint *sn = g_new (guint, n_rows);
  g_autofree guint *srun = g_new (guint, n_rows);   /* entries from here on sit in consecutive columns */
  for (guint i = 0; i < n_rows; i++)
    {
      const int *ri = idx + (gsize) i * width;
      const double *rv = val + (gsize) i * width;
      guint *pi = sp + (gsize) i * width, m = 0;
      double *pv = sv + (gsize) i * width;
      for (guint j = 0; j < width; j++)
        {
          if (ri[j] < 0)
            continue;
          guint p = perm ((guint) ri[j], n_cols), at = m;
          while (at > 0 && pi[at - 1] > p)
            at--;
          if (at > 0 && pi[at - 1] == p)
            {
              pv[at - 1] += rv[j];   /* a column named twice in a row: one entry, their sum */
              continue;
            }
          for (guint q = m; q > at; q--)
            {
              pi[q] = pi[q - 1];
              pv[q] = pv[q - 1];
            }
          pi[at] = p;
          pv[at] = rv[j];
          m++;
        }
      sn[i] = m;
      guint run = m > 0 ? m - 1 : 0;
      while (run > 0 && pi[run - 1] + 1 == pi[run])
        run--;
      srun[i] = run;
    }
  double *eta_cur = rows_buf, *mu_cur = rows_buf + n_rows;
  double *eta_next = rows_buf + 2 * (gsize) n_rows, *mu_next = rows_buf + 3 * (gsize) n_rows;
  gboolean converged = FALSE;
  g_autofree double *ylogy = g_new (double, n_rows);
  for (guint i = 0; i < n_rows; i++)
    ylogy[i] = y[i] > 0 ? y[i] * log (y[i]) : 0;
  double obj = objective (idx, val, width, n_rows, n_cols, y, ylogy, offset, lambda, pen, b, eta_cur, mu_cur);
  guint it;
  for (it = 0; it < max_iter && !converged; it++)
    {
      memset (A, 0, sizeof (double) * n_cols * n_cols);
      memset (rhs, 0, sizeof (double) * n_cols);
      /* A tiny ridge keeps A positive definite when a column is empty and
       * not penalised. The system is in perm () order; only its lower
       * triangle is summed (the factorisation reads nothing else). */
      for (guint c = 0; c < n_cols; c++)
        A[(gsize) perm (c, n_cols) * n_cols + perm (c, n_cols)] = lambda * (pen ? pen[c] : c > 0) + 1e-9;
      for (guint i = 0; i < n_rows; i++)
        {
          const guint *pi = sp + (gsize) i * width;
          const double *pv = sv + (gsize) i * width;
          double off = offset ? offset[i] : 0;
          double eta = eta_cur[i], mu = mu_cur[i];
          double w = MAX (mu, 1e-10);
          double zr = eta - off + (y[i] - mu) / w;
          guint run = srun[i];
          for (guint j = 0, m = sn[i]; j < m; j++)
            {
              guint pj = pi[j];
              double wv = w * pv[j];
              rhs[pj] += wv * zr;
              double *arow = A + (gsize) pj * n_cols;
              guint scattered = MIN (j + 1, run);
              for (guint k = 0; k < scattered; k++)
                arow[pi[k]] += wv * pv[k];
              /* the consecutive columns (the lags, anomalies and intercept
               * of this design) as one dense stretch */
              if (j >= run)
                {
                  double *restrict dst = arow + pi[run];
                  const double *restrict src = pv + run;
                  for (guint k = 0; k <= j - run; k++)
                    dst[k] += wv * src[k];
                }
            }
        }
      if (!cholesky_sparse (A, n_cols, scratch, nz))
        {
          g_set_error (error, FT_FORECAST_ERROR, FT_FORECAST_ERROR_NUMERIC,
                       "GLM iteration %u: Cholesky solve failed: the system is not positive definite", it + 1);
          return FALSE;
        }
      cholesky_solve (A, n_cols, rhs, sol);
      for (guint c = 0; c < n_cols; c++)
        {
          step[c] = sol[perm (c, n_cols)] - b[c];
          if (!isfinite (step[c]))
            {
              g_set_error (error, FT_FORECAST_ERROR, FT_FORECAST_ERROR_NUMERIC,
                           "GLM iteration %u: coefficient %u is not finite", it + 1, c);
              return FALSE;
            }
        }
      /* A full step this small ends the fit whatever the deviance says (a
       * change of 1e-8 moves it by far less than the 1e-12 it may worsen
       * by): taken without a pass over the rows to evaluate it. */
      double full_step = 0;
      for (guint c = 0; c < n_cols; c++)
        {
          trial[c] = b[c] + step[c];
          full_step = MAX (full_step, fabs (trial[c] - b[c]) / (1 + fabs (b[c])));
        }
      if (full_step < 1e-8)
        {
          memcpy (b, trial, sizeof (double) * n_cols);
          converged = TRUE;
          continue;
        }
      /* The full step's predicted decrease of the objective, half the
       * Newton decrement s'As = |L's|^2 (A factored in place, s in the
       * system's order): below DECREMENT_TOL of the objective, Newton's
       * quadratic convergence leaves of order 1e-12 of it after the step
       * (measured: 1e-6 before it, 1e-12 after), what the test below
       * waited a whole iteration to see. Taken without evaluating it. */
      double dec = 0;
      for (guint k = 0; k < n_cols; k++)
        scratch[k] = 0;
      for (guint k = 0; k < n_cols; k++)
        {
          double sk = step[k == n_cols - 1 ? 0 : k + 1];
          const double *row = A + (gsize) k * n_cols;
          for (guint i = 0; i <= k; i++)
            scratch[i] += row[i] * sk;
        }
      for (guint k = 0; k < n_cols; k++)
        dec += scratch[k] * scratch[k];
      if (dec / 2 < DECREMENT_TOL * (1 + fabs (obj)))
        {
          memcpy (b, trial, sizeof (double) * n_cols);
          converged = TRUE;
          continue;
        }
      /* Newton step, halved while it makes the penalised deviance worse. */
      double t = 1, new_obj = obj;
      for (int half = 0; half < 20; half++, t /= 2)
        {
          for (guint c = 0; c < n_cols; c++)
            trial[c] = b[c] + t * step[c];
          new_obj = objective (idx, val, width, n_rows, n_cols, y, ylogy, offset, lambda, pen, trial, eta_next,
                               mu_next);
          if (new_obj <= obj + 1e-12 * (1 + fabs (obj)))
            break;
        }
      double max_step = 0;
      for (guint c = 0; c < n_cols; c++)
        max_step = MAX (max_step, fabs (trial[c] - b[c]) / (1 + fabs (b[c])));
      memcpy (b, trial, sizeof (double) * n_cols);
      double *t_eta = eta_cur, *t_mu = mu_cur;   /* b is the last trial: its rows are next's */
      eta_cur = eta_next;
      mu_cur = mu_next;
      eta_next = t_eta;
      mu_next = t_mu;
      converged = max_step < 1e-8 || fabs (obj - new_obj) < 1e-12 * (1 + fabs (obj));
      obj = new_obj;
    }
  if (!converged)
    {
      g_set_error (error, FT_FORECAST_ERROR, FT_FORECAST_ERROR_NUMERIC,
                   "GLM did not converge in %u iterations", max_iter);
      return FALSE;
    }
  memcpy (beta, b, sizeof (double) * n_cols);
  if (iters)
    *iters = it;
  return TRUE;
}

/* ---- the forecaster ----------------------------------------------------- */

#define COL_HOW   1
#define COL_HD    (COL_HOW + 168)
#define COL_ZONE  (COL_HD + 48)
enum { X_ANOM1, X_ANOM2, X_ANOM3, X_ANOM24, X_ANOM168, X_RECENT_ZONE, X_RECENT_CITY24,
       X_RECENT_CITY3, X_BASELINE, N_X };
#define WIDTH     (4 + N_X)
#define DUMMY_PENALTY 10.0

typedef struct {
  FtMeanModel *mean;
  guint        n_zones, n_cols, horizon;
  double      *beta[FT_N_LEAD_CLASSES];  /* per lead class (NULL beyond the horizon, or not yet fitted) */
  guint        iters;                    /* IRLS iterations of the fit (0 when loaded) */
  /* What a class left out of the fit (glm_eager_classes) is fitted from
   * when first needed: the training series and window, the parameters.
   * NULL when every class was fitted (or the model was loaded). */
  FtDemandSeries   *train;
  guint             train_start, train_end;
  FtForecastParams  params;
  /* need_class: shadow mode's champion is read by the ticking thread and,
   * judged against a candidate, by a fit's worker; the first to need a
   * class left out fits it (the same whichever), the other waits */
  GMutex            lock;
} GlmState;

guint
ft_forecast_glm_iterations (gconstpointer state)
{
  return state ? ((const GlmState *) state)->iters : 0;
}

static void
glm_state_free (gpointer p)
{
  GlmState *g = p;
  ft_mean_model_free (g->mean);
  for (int c = 0; c < FT_N_LEAD_CLASSES; c++)
    g_free (g->beta[c]);
  ft_demand_series_free (g->train);
  g_mutex_clear (&g->lock);
  g_free (g);
}

/* One sparse design row from a feature row. */
static void
design_row (const double *f, guint z, double log_base, int *ri, double *rv)
{
  guint how = (guint) f[FT_F_HOW];
  guint hd = (guint) f[FT_F_DAYTYPE] * 24 + (guint) f[FT_F_HOD];
  ri[0] = 0;              rv[0] = 1;
  ri[1] = COL_HOW + how;  rv[1] = 1;
  ri[2] = COL_HD + hd;    rv[2] = 1;
  ri[3] = COL_ZONE + z;   rv[3] = 1;
  for (int i = 0; i < 5; i++)
    {
      double v = f[FT_F_ANOM1 + i];
      rv[4 + X_ANOM1 + i] = isnan (v) ? 0 : v;
    }
  rv[4 + X_RECENT_ZONE] = f[FT_F_RECENT_ZONE];
  rv[4 + X_RECENT_CITY24] = f[FT_F_RECENT_CITY24];
  rv[4 + X_RECENT_CITY3] = f[FT_F_RECENT_CITY3];
  rv[4 + X_BASELINE] = log_base;   /* log (MAX (f[FT_F_BASELINE], 0.02)), tabled by the mean */
}

static void
design_index (int *ri, guint n_zones)
{
  for (int i = 0; i < N_X; i++)
    ri[4 + i] = (int) (COL_ZONE + n_zones + i);
}

static gboolean
eager (const GlmState *g, guint c)
{
  return g->params.glm_eager_classes == 0 || (g->params.glm_eager_classes & (1u << (c - 1)));
}

/* Fits lead class c by IRLS on the training rows of s, starting from
 * start (NULL: zero). */
static gboolean
fit_class (GlmState *g, const FtDemandSeries *s, guint start, guint end, const FtTrainingFeatures *tf, guint c,
           const double *from, GError **error)
{
  guint Z = g->n_zones;
  guint first = MAX (start, FT_FEATURE_HISTORY);
  guint n_rows = (end - first) * Z;
  g_autofree int *idx = g_new (int, (gsize) n_rows * WIDTH);
  g_autofree double *val = g_new (double, (gsize) n_rows * WIDTH);
  g_autofree double *y = g_new (double, n_rows);
  double f[FT_N_FEATURES];
  g_autofree double *offset = g_new (double, n_rows);
  /* The hour-of-week, hour-of-day x day-type and zone effects correct the
   * baseline (the offset), which already carries them: penalised harder
   * (x DUMMY_PENALTY) than the lag and anomaly terms. */
  g_autofree double *pen = g_new (double, g->n_cols);
  for (guint k = 0; k < g->n_cols; k++)
    pen[k] = k == 0 ? 0 : k < COL_ZONE + Z ? DUMMY_PENALTY : 1;
  guint i = 0;
  for (guint t = first; t < end; t++)
    for (guint z = 0; z < Z; z++, i++)
      {
        guint lead = ft_training_lead (c, z, t, g->horizon);
        const FtFeatureContext *ctx = ft_training_features_for (tf, t);
        ft_feature_row (ctx, z, t, lead, f);
        design_row (f, z, ft_mean_model_log_expect (ctx->mean, z, (guint) f[FT_F_HOW]),
                    idx + (gsize) i * WIDTH, val + (gsize) i * WIDTH);
        design_index (idx + (gsize) i * WIDTH, Z);
        y[i] = ft_demand_series_demand (s, z, t);
        offset[i] = val[(gsize) i * WIDTH + 4 + X_BASELINE];
      }
  double *beta = g_new0 (double, g->n_cols);
  if (from)
    memcpy (beta, from, sizeof (double) * g->n_cols);
  g_autoptr(GError) local = NULL;
  guint it = 0;
  gboolean ok = ft_poisson_glm_fit (idx, val, WIDTH, n_rows, g->n_cols, y, offset, g->params.glm_lambda, pen,
                                    g->params.glm_max_iter, beta, &it, &local);
  g->iters += it;
  if (!ok)
    {
      g_free (beta);
      g_propagate_prefixed_error (error, g_steal_pointer (&local), "GLM for lead class %u: ", c);
      return FALSE;
    }
  g_free (g->beta[c - 1]);
  g->beta[c - 1] = beta;
  return TRUE;
}

/* Fits every lead class by IRLS (or those of p->glm_eager_classes, the
 * others when first needed). A class starts from the nearest fitted
 * class before it: the classes differ only in which lags they may read,
 * so their fits are close (measured, a better start than the champion's
 * own class fitted on another window); the first from warm's coefficients
 * (a champion on the same zones) or from zero. The same optimum, in fewer
 * iterations. */
static gpointer
glm_fit_warm (const FtForecastParams *p, const FtDemandSeries *s, guint start, guint end, gconstpointer warm_state,
              GError **error)
{
  const GlmState *warm = warm_state;
  guint Z = s->n_zones;
  guint first = MAX (start, FT_FEATURE_HISTORY);
  if (first >= end)
    {
      g_set_error (error, FT_FORECAST_ERROR, FT_FORECAST_ERROR_WINDOW,
                   "the GLM needs a day (%d h) of history before its training rows: "
                   "training window hours [%u, %u) has none past hour %d",
                   FT_FEATURE_HISTORY, start, end, FT_FEATURE_HISTORY);
      return NULL;
    }
  GlmState *g = g_new0 (GlmState, 1);
  g_mutex_init (&g->lock);
  g->mean = ft_mean_model_fit (s, start, end, 0, 0, p->mean_shrink_weeks);
  g->n_zones = Z;
  g->n_cols = COL_ZONE + Z + N_X;
  g->horizon = p->horizon;
  g->params = *p;
  guint n_classes = ft_lead_class (p->horizon);
  gboolean all = TRUE;
  for (guint c = 1; c <= n_classes; c++)
    all &= eager (g, c);
  if (all)
    g->params.glm_eager_classes = 0;
  FtTrainingFeatures tf;
  ft_training_features_init (&tf, s, start, end, p->mean_shrink_weeks);
  gboolean ok = TRUE;
  const double *from = NULL;
  if (warm && warm->n_cols == g->n_cols && warm->n_zones == Z)
    {
      /* a class, once fitted, never changes: its pointer is read locked */
      g_mutex_lock ((GMutex *) &warm->lock);
      from = warm->beta[0];
      g_mutex_unlock ((GMutex *) &warm->lock);
    }
  for (guint c = 1; c <= n_classes && ok; c++)
    if (eager (g, c))
      {
        ok = fit_class (g, s, start, end, &tf, c, from, error);
        from = g->beta[c - 1];
      }
  ft_training_features_clear (&tf);
  if (!ok)
    {
      glm_state_free (g);
      return NULL;
    }
  if (!all)
    {
      g->train = ft_demand_series_copy (s);
      g->train_start = start;
      g->train_end = end;
    }
  return g;
}

static gpointer
glm_fit (const FtForecastParams *p, const FtDemandSeries *s, guint start, guint end, GError **error)
{
  return glm_fit_warm (p, s, start, end, NULL, error);
}

/* Class c when it was left out of the fit: fitted now, on the same rows,
 * from the nearest eager class before it (after it when none is). */
static gboolean need_class_locked (GlmState *g, guint c, GError **error);

static gboolean
need_class (GlmState *g, guint c, GError **error)
{
  g_mutex_lock (&g->lock);
  gboolean ok = need_class_locked (g, c, error);
  g_mutex_unlock (&g->lock);
  return ok;
}

static gboolean
need_class_locked (GlmState *g, guint c, GError **error)
{
  if (g->beta[c - 1])
    return TRUE;
  g_return_val_if_fail (g->train != NULL, FALSE);
  const double *from = NULL;
  for (guint b = c - 1; b >= 1 && !from; b--)
    if (eager (g, b))
      from = g->beta[b - 1];
  for (guint b = c + 1; b <= FT_N_LEAD_CLASSES && !from; b++)
    if (eager (g, b))
      from = g->beta[b - 1];
  FtTrainingFeatures tf;
  ft_training_features_init (&tf, g->train, g->train_start, g->train_end, g->params.mean_shrink_weeks);
  gboolean ok = fit_class (g, g->train, g->train_start, g->train_end, &tf, c, from, error);
  ft_training_features_clear (&tf);
  return ok;
}

static gboolean
glm_predict_leads (gpointer state, const FtDemandSeries *s, guint origin, guint horizon, const gboolean *want,
                   double *out, GError **error)
{
  GlmState *g = state;
  if (g->n_zones != s->n_zones)
    {
      g_set_error (error, FT_FORECAST_ERROR, FT_FORECAST_ERROR_INVALID,
                   "model fitted for %u zones, series has %u", g->n_zones, s->n_zones);
      return FALSE;
    }
  if (origin < FT_FEATURE_HISTORY)
    {
      g_set_error (error, FT_FORECAST_ERROR, FT_FORECAST_ERROR_WINDOW,
                   "the GLM needs a day (%d h) of history before the origin (hour %u)",
                   FT_FEATURE_HISTORY, origin);
      return FALSE;
    }
  for (guint k = 0; k < horizon; k++)
    if ((!want || want[k]) && !need_class (g, ft_lead_class (k + 1), error))
      return FALSE;
  FtFeatureContext ctx;
  /* every row reads the 24 hours before the origin (origin >= 24 here) */
  ft_feature_context_init_from (&ctx, s, g->mean, origin - 24);
  double f[FT_N_FEATURES];
  int ri[WIDTH];
  double rv[WIDTH];
  for (guint k = 0; k < horizon; k++)
    {
      if (want && !want[k])
        {
          for (guint z = 0; z < s->n_zones; z++)
            out[z * horizon + k] = NAN;
          continue;
        }
      guint t = origin + k;
      const double *beta = g->beta[ft_lead_class (k + 1) - 1];
      for (guint z = 0; z < s->n_zones; z++)
        {
          ft_feature_row (&ctx, z, t, k + 1, f);
          design_row (f, z, ft_mean_model_log_expect (g->mean, z, (guint) f[FT_F_HOW]), ri, rv);
          design_index (ri, s->n_zones);
          out[z * horizon + k] = exp (CLAMP (rv[4 + X_BASELINE] + row_eta (ri, rv, WIDTH, beta), -30, 30));
        }
    }
  ft_feature_context_clear (&ctx);
  return TRUE;
}

static gboolean
glm_predict (gpointer state, const FtDemandSeries *s, guint origin, guint horizon, double *out,
             GError **error)
{
  return glm_predict_leads (state, s, origin, horizon, NULL, out, error);
}

static void
glm_save (gpointer state, GByteArray *out)
{
  GlmState *g = state;
  /* a saved model holds every class of its horizon */
  for (guint c = 1; c <= ft_lead_class (g->horizon); c++)
    {
      g_autoptr(GError) local = NULL;
      if (!need_class (g, c, &local))
        {
          /* the same rows fitted before: not expected to fail; the
           * nearest class stands in */
          g_warning ("GLM: fitting lead class %u to save it failed: %s", c, local->message);
          for (guint b = 1; b <= FT_N_LEAD_CLASSES && !g->beta[c - 1]; b++)
            if (g->beta[b - 1])
              g->beta[c - 1] = g_memdup2 (g->beta[b - 1], sizeof (double) * g->n_cols);
        }
    }
  ft_mean_model_save (g->mean, out);
  ft_blob_put_u32 (out, g->n_zones);
  ft_blob_put_u32 (out, g->n_cols);
  ft_blob_put_u32 (out, g->horizon);
  for (int c = 0; c < FT_N_LEAD_CLASSES; c++)
    {
      ft_blob_put_u32 (out, g->beta[c] != NULL);
      if (g->beta[c])
        ft_blob_put_f64s (out, g->beta[c], g->n_cols);
    }
}

static gpointer
glm_load (FtBlobReader *r, GError **error)
{
  GlmState *g = g_new0 (GlmState, 1);
  g_mutex_init (&g->lock);
  g->mean = ft_mean_model_load (r);
  g->n_zones = ft_blob_get_u32 (r);
  g->n_cols = ft_blob_get_u32 (r);
  g->horizon = ft_blob_get_u32 (r);
  if (r->bad || g->mean == NULL || g->n_zones != g->mean->n_zones
      || g->n_cols != COL_ZONE + g->n_zones + N_X || g->horizon < 1
      || g->horizon > FT_FORECAST_MAX_HORIZON)
    goto bad;
  for (guint c = 0; c < FT_N_LEAD_CLASSES; c++)
    {
      guint32 present = ft_blob_get_u32 (r);
      if (r->bad || present > 1 || (present != 0) != (c < ft_lead_class (g->horizon)))
        goto bad;
      if (present)
        {
          g->beta[c] = ft_blob_get_f64s (r, g->n_cols);
          for (guint j = 0; g->beta[c] && j < g->n_cols; j++)
            if (!isfinite (g->beta[c][j]))
              goto bad;
        }
      if (r->bad)
        goto bad;
    }
  return g;
bad:
  r->bad = TRUE;
  g_set_error (error, FT_FORECAST_ERROR, FT_FORECAST_ERROR_IO, "GLM coefficients damaged");
  glm_state_free (g);
  return NULL;
}

const FtForecastOps ft_forecast_glm_ops = { glm_fit, glm_predict, glm_state_free, glm_save, glm_load,
                                            glm_fit_warm, glm_predict_leads };
