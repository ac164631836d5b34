/* ft-maint-weibull.c — the survival model of predictive maintenance: a
 * Weibull proportional-hazards model H(t | x) = (t / lambda)^k exp(x . beta)
 * of the time from an observation to the next fault, right-censored, fitted
 * by maximum likelihood (GSL BFGS with the analytic gradient; standard
 * errors from the analytic observed information). The model standardises
 * log1p of every feature on the training rows and leaves out features that
 * were constant there. Every GSL status is checked.
 */
#include "ft-config.h"
#include "ft-maint-private.h"

#include <float.h>
#include <string.h>
#include <math.h>
#include <gsl/gsl_blas.h>
#include <gsl/gsl_errno.h>
#include <gsl/gsl_linalg.h>
#include <gsl/gsl_multimin.h>

#define EXP_CAP 700.0

typedef struct {
  const double   *X;
  const double   *time;
  double         *log_time;
  const gboolean *event;
  guint           n, p;
  double          ridge;
  /* the last point evaluated with its gradient: BFGS's line search asks
   * for f and then the gradient at the same point, and one pass over the
   * rows gives both (the same arithmetic as two passes, so the same fit) */
  double         *at, *at_g, at_f;
  gboolean        at_valid;
  /* each row's w and z at the point nll_eval saw last (wz_at): Newton's
   * information is asked at the point its line search accepted, so it
   * reads them instead of computing them again (the same values) */
  double         *wz, *wz_at;
  gboolean        wz_valid;
} Data;

/* Mean negative log-likelihood (+ ridge/2 |beta|^2) and its gradient. */
static void
nll_eval (const gsl_vector *th, Data *d, double *f, gsl_vector *g)
{
  guint p = d->p;
  double a = gsl_vector_get (th, 0), b = gsl_vector_get (th, 1);
  for (guint j = 0; j < 2 + p; j++)
    d->wz_at[j] = gsl_vector_get (th, j);
  double k = exp (CLAMP (a, -EXP_CAP, EXP_CAP));
  double sum = 0, ga = 0, gb = 0;
  double gbeta[p > 0 ? p : 1], beta[p > 0 ? p : 1];
  memset (gbeta, 0, sizeof gbeta);
  for (guint j = 0; j < p; j++)
    beta[j] = gsl_vector_get (th, 2 + j);
  for (guint i = 0; i < d->n; i++)
    {
      const double *x = d->X + (gsize) i * p;
      double eta = 0;
      for (guint j = 0; j < p; j++)
        eta += x[j] * beta[j];
      double lt = d->log_time[i];
      double w = k * (lt - b);
      double z = exp (MIN (w + eta, EXP_CAP));
      d->wz[2 * i] = w;
      d->wz[2 * i + 1] = z;
      double di = d->event[i] ? 1.0 : 0.0;
      sum += di * (a + w - lt + eta) - z;
      ga += di * (1.0 + w) - z * w;
      gb += -di * k + z * k;
      if (g)
        for (guint j = 0; j < p; j++)
          gbeta[j] += (di - z) * x[j];
    }
  d->wz_valid = TRUE;
  double inv = 1.0 / d->n;
  if (f)
    {
      double pen = 0;
      for (guint j = 0; j < p; j++)
        pen += gsl_vector_get (th, 2 + j) * gsl_vector_get (th, 2 + j);
      *f = -sum * inv + 0.5 * d->ridge * pen;
    }
  if (g)
    {
      gsl_vector_set (g, 0, -ga * inv);
      gsl_vector_set (g, 1, -gb * inv);
      for (guint j = 0; j < p; j++)
        gsl_vector_set (g, 2 + j, -gbeta[j] * inv + d->ridge * gsl_vector_get (th, 2 + j));
    }
}

/* Both at th, from the cache when th is the point evaluated last. */
static void
nll_fdf (const gsl_vector *th, void *params, double *f, gsl_vector *g)
{
  Data *d = params;
  guint dim = 2 + d->p;
  gboolean hit = d->at_valid;
  for (guint j = 0; hit && j < dim; j++)
    hit = gsl_vector_get (th, j) == d->at[j];
  if (!hit)
    {
      gsl_vector_view gv = gsl_vector_view_array (d->at_g, dim);
      nll_eval (th, d, &d->at_f, &gv.vector);
      for (guint j = 0; j < dim; j++)
        d->at[j] = gsl_vector_get (th, j);
      d->at_valid = TRUE;
    }
  if (f)
    *f = d->at_f;
  if (g)
    for (guint j = 0; j < dim; j++)
      gsl_vector_set (g, j, d->at_g[j]);
}

static double
nll_f (const gsl_vector *th, void *params)
{
  double f;
  nll_fdf (th, params, &f, NULL);
  return f;
}

static void
nll_df (const gsl_vector *th, void *params, gsl_vector *g)
{
  nll_fdf (th, params, NULL, g);
}

/* Two doubles at once (GCC's vector extension: SSE2 on x86-64, NEON on
 * arm64), each lane the same IEEE product and difference as a scalar. */
typedef double FtV2 __attribute__ ((vector_size (16), aligned (8), may_alias));

/* Observed information (minus the Hessian of the log-likelihood, summed). */
static void
information (const Data *d, const double *th, gsl_matrix *I)
{
  guint p = d->p;
  double k = exp (th[0]), b = th[1];
  /* nll_eval's w and z when it saw th last (its k is this one unless
   * clamped) */
  gboolean cached = d->wz_valid && fabs (th[0]) <= EXP_CAP
                    && memcmp (d->wz_at, th, sizeof (double) * (2 + p)) == 0;
  gsl_matrix_set_zero (I);
  /* the upper triangle in place (a gsl_matrix_ptr call per entry and row
   * cost more than the arithmetic), the logs of the times read */
  double *m = I->data;
  gsize tda = I->tda;
  /* the row's features and -z x[j] in locals the compiler knows the
   * matrix does not alias (the same products in the same order, so the
   * same sums) */
  double xs[p > 0 ? p : 1], zx[p > 0 ? p : 1];
  for (guint i = 0; i < d->n; i++)
    {
      const double *x = d->X + (gsize) i * p;
      double w, z;
      memcpy (xs, x, sizeof (double) * p);
      if (cached)
        {
          w = d->wz[2 * i];
          z = d->wz[2 * i + 1];
        }
      else
        {
          double eta = 0;
          for (guint j = 0; j < p; j++)
            eta += x[j] * th[2 + j];
          w = k * (d->log_time[i] - b);
          z = exp (MIN (w + eta, EXP_CAP));
        }
      double di = d->event[i] ? 1.0 : 0.0;
      /* Hessian of ll_i */
      double haa = di * w - z * w * (w + 1.0);
      double hab = -di * k + k * z * (w + 1.0);
      double hbb = -k * k * z;
      m[0] -= haa;
      m[1] -= hab;
      m[tda + 1] -= hbb;
      /* (-z w) x[j], (k z) x[j] and (-z) x[j], two j at a time */
      double cw = -z * w, kz = k * z;
      FtV2 vcw = { cw, cw }, vkz = { kz, kz }, vz = { -z, -z };
      guint j = 0;
      for (; j + 2 <= p; j += 2)
        {
          FtV2 xv = *(const FtV2 *) (xs + j);
          *(FtV2 *) (m + 2 + j) -= vcw * xv;
          *(FtV2 *) (m + tda + 2 + j) -= vkz * xv;
          *(FtV2 *) (zx + j) = vz * xv;
        }
      for (; j < p; j++)
        {
          m[2 + j] -= cw * xs[j];
          m[tda + 2 + j] -= kz * xs[j];
          zx[j] = -z * xs[j];
        }
      /* the beta block's upper triangle two rows and two columns at a
       * time, each x pair loaded once for both rows (the entry below the
       * diagonal the second row also gets is overwritten below) */
      for (j = 0; j < p; j += 2)
        {
          double *r0 = m + (2 + j) * tda + 2;
          double a0 = zx[j];
          if (j + 1 == p)
            {
              r0[j] -= a0 * xs[j];
              break;
            }
          double *r1 = r0 + tda, a1 = zx[j + 1];
          FtV2 va0 = { a0, a0 }, va1 = { a1, a1 };
          guint l = j;
          for (; l + 2 <= p; l += 2)
            {
              FtV2 xv = *(const FtV2 *) (xs + l);
              *(FtV2 *) (r0 + l) -= va0 * xv;
              *(FtV2 *) (r1 + l) -= va1 * xv;
            }
          if (l < p)
            {
              r0[l] -= a0 * xs[l];
              r1[l] -= a1 * xs[l];
            }
        }
    }
  for (guint r = 0; r < 2 + p; r++)
    for (guint c = r + 1; c < 2 + p; c++)
      gsl_matrix_set (I, c, r, gsl_matrix_get (I, r, c));
}

/* Solves A x = b for the symmetric n x n A (row-major; overwritten by its
 * Cholesky factor) plus mu on the diagonal. FALSE when that is not
 * positive definite (found here, not by GSL, whose error handler may
 * abort the program). */
static gboolean
chol_solve (const double *A, guint n, double mu, const double *b, double *x, double *L)
{
  for (guint i = 0; i < n; i++)
    for (guint j = 0; j <= i; j++)
      {
        double v = A[i * n + j] + (i == j ? mu : 0);
        for (guint k = 0; k < j; k++)
          v -= L[i * n + k] * L[j * n + k];
        if (i == j)
          {
            if (!(v > 0) || !isfinite (v))
              return FALSE;
            L[i * n + i] = sqrt (v);
          }
        else
          L[i * n + j] = v / L[j * n + j];
      }
  for (guint i = 0; i < n; i++)
    {
      double v = b[i];
      for (guint k = 0; k < i; k++)
        v -= L[i * n + k] * x[k];
      x[i] = v / L[i * n + i];
    }
  for (guint i = n; i-- > 0;)
    {
      double v = x[i];
      for (guint k = i + 1; k < n; k++)
        v -= L[k * n + i] * x[k];
      x[i] = v / L[i * n + i];
    }
  return TRUE;
}

/* Newton's method on the mean negative log-likelihood from x (dim
 * values; the optimum on success): each step solves with the analytic
 * information (over n, plus the ridge), damped when that is not positive
 * definite, and backtracks until the objective falls enough. The
 * likelihood is smooth and its information exact, so it needs a handful
 * of iterations where BFGS needs fifty, each a pass over the rows. FALSE
 * when it does not reach grad_tol in max_iter steps (the caller falls
 * back to BFGS). */
static gboolean
newton_mle (Data *d, double *x, guint max_iter, double grad_tol, guint *iters)
{
  guint dim = 2 + d->p;
  gsl_vector_view xv = gsl_vector_view_array (x, dim);
  g_autofree double *buf = g_new (double, 4 * dim);
  gsl_vector_view g = gsl_vector_view_array (buf, dim), step = gsl_vector_view_array (buf + dim, dim);
  gsl_vector_view trial = gsl_vector_view_array (buf + 2 * dim, dim), g2 = gsl_vector_view_array (buf + 3 * dim, dim);
  gsl_matrix *H = gsl_matrix_alloc (dim, dim);
  g_autofree double *L = g_new (double, (gsize) dim * dim);
  double f;
  nll_eval (&xv.vector, d, &f, &g.vector);
  gboolean ok = FALSE;
  guint it;
  for (it = 0; it < max_iter && isfinite (f); it++)
    {
      if (gsl_blas_dnrm2 (&g.vector) < grad_tol)
        {
          ok = TRUE;
          break;
        }
      information (d, x, H);
      gsl_matrix_scale (H, 1.0 / d->n);
      for (guint j = 2; j < dim; j++)
        *gsl_matrix_ptr (H, j, j) += d->ridge;
      /* damped (H + mu I) until positive definite */
      double mu = 0;
      gboolean solved = FALSE;
      for (int tries = 0; tries < 12 && !solved; tries++)
        {
          solved = chol_solve (H->data, dim, mu, buf, buf + dim, L);
          mu = mu > 0 ? mu * 10 : 1e-8;
        }
      if (!solved)
        break;
      gsl_vector_scale (&step.vector, -1);
      double slope;
      gsl_blas_ddot (&g.vector, &step.vector, &slope);
      if (!(slope < 0))
        break;
      /* near the optimum the decrease is below f's rounding: allow that */
      double t = 1, f2 = INFINITY, slack = 8 * DBL_EPSILON * fabs (f);
      for (int half = 0; half < 40; half++, t /= 2)
        {
          gsl_vector_memcpy (&trial.vector, &xv.vector);
          gsl_blas_daxpy (t, &step.vector, &trial.vector);
          nll_eval (&trial.vector, d, &f2, &g2.vector);
          if (isfinite (f2) && f2 <= f + 1e-4 * t * slope + slack)
            break;
        }
      if (!(isfinite (f2) && f2 <= f + 1e-4 * t * slope + slack))
        break;
      gsl_vector_memcpy (&xv.vector, &trial.vector);
      gsl_vector_memcpy (&g.vector, &g2.vector);
      f = f2;
    }
  gsl_matrix_free (H);
  if (iters)
    *iters = it;
  return ok;
}

enum { NEWTON_THEN_BFGS, BFGS_ONLY, NEWTON_ONLY };
static gboolean weibull_mle (const double *X, guint n, guint p, const double *time, const gboolean *event,
                             double ridge, guint max_iter, double grad_tol, int method, double *theta,
                             double *se, GError **error);

gboolean
ft_maint_weibull_mle (const double *X, guint n, guint p, const double *time, const gboolean *event,
                      double ridge, guint max_iter, double *theta, double *se, GError **error)
{
  return weibull_mle (X, n, p, time, event, ridge, max_iter, 1e-7, NEWTON_THEN_BFGS, theta, se, error);
}

gboolean
ft_maint_weibull_mle_bfgs (const double *X, guint n, guint p, const double *time, const gboolean *event,
                           double ridge, guint max_iter, double grad_tol, double *theta, GError **error)
{
  return weibull_mle (X, n, p, time, event, ridge, max_iter, grad_tol, BFGS_ONLY, theta, NULL, error);
}

gboolean
ft_maint_weibull_mle_newton (const double *X, guint n, guint p, const double *time, const gboolean *event,
                             double ridge, guint max_iter, double grad_tol, double *theta, GError **error)
{
  return weibull_mle (X, n, p, time, event, ridge, max_iter, grad_tol, NEWTON_ONLY, theta, NULL, error);
}

static gboolean
weibull_mle (const double *X, guint n, guint p, const double *time, const gboolean *event,
             double ridge, guint max_iter, double grad_tol, int method, double *theta, double *se,
             GError **error)
{
  g_return_val_if_fail ((X != NULL || p == 0) && time != NULL && event != NULL && theta != NULL, FALSE);
  guint n_ev = 0;
  double sum_t = 0;
  if (n == 0)
    {
      g_set_error (error, FT_MAINT_ERROR, FT_MAINT_ERROR_EMPTY, "Weibull fit: no rows");
      return FALSE;
    }
  for (guint i = 0; i < n; i++)
    {
      if (!isfinite (time[i]) || time[i] <= 0)
        {
          g_set_error (error, FT_MAINT_ERROR, FT_MAINT_ERROR_INVALID,
                       "Weibull fit: row %u has time %g (must be finite and > 0)", i, time[i]);
          return FALSE;
        }
      for (guint j = 0; j < p; j++)
        if (!isfinite (X[(gsize) i * p + j]))
          {
            g_set_error (error, FT_MAINT_ERROR, FT_MAINT_ERROR_INVALID,
                         "Weibull fit: row %u, column %u is %g", i, j, X[(gsize) i * p + j]);
            return FALSE;
          }
      n_ev += event[i] != FALSE;
      sum_t += time[i];
    }
  if (n_ev == 0)
    {
      g_set_error (error, FT_MAINT_ERROR, FT_MAINT_ERROR_NO_FAULTS,
                   "Weibull fit: none of the %u rows ends in a fault", n);
      return FALSE;
    }
  if (!isfinite (ridge) || ridge < 0)
    {
      g_set_error (error, FT_MAINT_ERROR, FT_MAINT_ERROR_INVALID, "Weibull fit: ridge %g must be >= 0", ridge);
      return FALSE;
    }

  g_autofree double *log_time = g_new (double, n);
  for (guint i = 0; i < n; i++)
    log_time[i] = log (time[i]);
  guint dim = 2 + p;
  g_autofree double *at = g_new (double, 2 * dim);
  g_autofree double *wz = g_new (double, (gsize) 2 * n + dim);
  Data d = { X, time, log_time, event, n, p, ridge, at, at + dim, 0, FALSE, wz, wz + 2 * (gsize) n, FALSE };
  gsl_multimin_function_fdf fn = { nll_f, nll_df, nll_fdf, dim, &d };
  gsl_vector *x0 = gsl_vector_alloc (dim);
  gboolean zero = TRUE;
  for (guint j = 0; j < dim; j++)
    {
      gsl_vector_set (x0, j, theta[j]);
      zero &= theta[j] == 0;
    }
  if (zero)   /* exponential MLE of the scale */
    gsl_vector_set (x0, 1, log (sum_t / n_ev));
  double est[dim];
  for (guint j = 0; j < dim; j++)
    est[j] = gsl_vector_get (x0, j);
  guint nit = 0;
  if (method != BFGS_ONLY && newton_mle (&d, est, max_iter, grad_tol, &nit))
    {
      gsl_vector_free (x0);
      goto done;
    }
  if (method == NEWTON_ONLY)
    {
      g_set_error (error, FT_MAINT_ERROR, FT_MAINT_ERROR_NUMERIC,
                   "Weibull fit: Newton's method did not converge in %u steps", nit);
      gsl_vector_free (x0);
      return FALSE;
    }
  g_debug ("Weibull fit: Newton stopped after %u steps; BFGS from the start", nit);
  gsl_multimin_fdfminimizer *m = gsl_multimin_fdfminimizer_alloc (gsl_multimin_fdfminimizer_vector_bfgs2, dim);
  int status = gsl_multimin_fdfminimizer_set (m, &fn, x0, 0.1, 0.1);
  guint it = 0;
  double gnorm = INFINITY;
  while (status == GSL_SUCCESS && it < max_iter)
    {
      it++;
      status = gsl_multimin_fdfminimizer_iterate (m);
      gnorm = gsl_blas_dnrm2 (gsl_multimin_fdfminimizer_gradient (m));
      if (status == GSL_SUCCESS && gnorm < grad_tol)
        break;
    }
  gnorm = gsl_blas_dnrm2 (gsl_multimin_fdfminimizer_gradient (m));
  /* BFGS stops with ENOPROG when the line search cannot improve: at the
   * optimum to machine precision. Accept that when the gradient is small. */
  gboolean ok = isfinite (m->f) && gnorm < 1e-4 &&
                (status == GSL_SUCCESS || status == GSL_ENOPROG);
  if (!ok)
    {
      g_set_error (error, FT_MAINT_ERROR, FT_MAINT_ERROR_NUMERIC,
                   "Weibull fit did not converge after %u iterations (GSL: %s; gradient norm %g)",
                   it, gsl_strerror (status), gnorm);
      gsl_multimin_fdfminimizer_free (m);
      gsl_vector_free (x0);
      return FALSE;
    }
  for (guint j = 0; j < dim; j++)
    est[j] = gsl_vector_get (gsl_multimin_fdfminimizer_x (m), j);
  gsl_multimin_fdfminimizer_free (m);
  gsl_vector_free (x0);

done:
  if (se)
    {
      gsl_matrix *I = gsl_matrix_alloc (dim, dim);
      information (&d, est, I);
      for (guint j = 2; j < dim; j++)
        *gsl_matrix_ptr (I, j, j) += ridge * n;
      int st = gsl_linalg_cholesky_decomp1 (I);
      if (st == GSL_SUCCESS)
        st = gsl_linalg_cholesky_invert (I);
      for (guint j = 0; j < dim; j++)
        se[j] = st == GSL_SUCCESS && gsl_matrix_get (I, j, j) > 0 ? sqrt (gsl_matrix_get (I, j, j)) : NAN;
      gsl_matrix_free (I);
    }
  memcpy (theta, est, sizeof est);
  return TRUE;
}

/* ---- the model ------------------------------------------------------------ */

#define TX_LUT 256

typedef struct {
  double   mean[FT_MAINT_N_FEATURES], sd[FT_MAINT_N_FEATURES];  /* of log1p(x); sd 0: left out */
  double   theta[2 + FT_MAINT_N_FEATURES];                       /* log k, log lambda, beta (active) */
  double   lut[TX_LUT];                                          /* log1p (n) (not saved) */
} Weib;

static void
weib_lut (Weib *w)
{
  for (guint n = 0; n < TX_LUT; n++)
    w->lut[n] = log1p ((double) n);
}

/* log1p (MAX (x, 0)), without the call for the zeros and the small whole
 * numbers (most counts and flags of a vehicle): the same values, tabled */
static inline double
tx (const Weib *w, double x)
{
  if (!(x > 0))
    return 0.0;
  if (x < TX_LUT && (double) (int) x == x)
    return w->lut[(int) x];
  return log1p (x);
}

static gpointer
weib_fit (const FtMaintParams *prm, const FtMaintRow *rows, guint n, GError **error)
{
  Weib *w = g_new0 (Weib, 1);
  weib_lut (w);
  guint P = FT_MAINT_N_FEATURES;
  /* log1p of every feature once (three passes read it) */
  g_autofree double *T = g_new (double, (gsize) MAX (n, 1) * P);
  for (guint i = 0; i < n; i++)
    for (guint j = 0; j < P; j++)
      T[(gsize) i * P + j] = tx (w, rows[i].x[j]);
  for (guint j = 0; j < P; j++)
    {
      double s = 0, ss = 0;
      for (guint i = 0; i < n; i++)
        s += T[(gsize) i * P + j];
      double mu = s / n;
      for (guint i = 0; i < n; i++)
        ss += (T[(gsize) i * P + j] - mu) * (T[(gsize) i * P + j] - mu);
      w->mean[j] = mu;
      w->sd[j] = n > 1 ? sqrt (ss / (n - 1)) : 0;
      if (w->sd[j] < 1e-9)
        w->sd[j] = 0;
    }
  guint act[FT_MAINT_N_FEATURES], p = 0;
  for (guint j = 0; j < P; j++)
    if (w->sd[j] > 0)
      act[p++] = j;
  double *X = g_new (double, (gsize) n * MAX (p, 1));
  double *t = g_new (double, n);
  gboolean *ev = g_new (gboolean, n);
  for (guint i = 0; i < n; i++)
    {
      for (guint c = 0; c < p; c++)
        X[(gsize) i * p + c] = (T[(gsize) i * P + act[c]] - w->mean[act[c]]) / w->sd[act[c]];
      t[i] = rows[i].time_h;
      ev[i] = rows[i].fault;
    }
  double th[2 + FT_MAINT_N_FEATURES] = { 0 };
  double tol = prm->grad_tol > 0 && prm->grad_tol < 1e-4 ? prm->grad_tol : 1e-7;
  gboolean ok = weibull_mle (X, n, p, t, ev, prm->ridge, prm->max_iter, tol, NEWTON_THEN_BFGS, th, NULL, error);
  g_free (X);
  g_free (t);
  g_free (ev);
  if (!ok)
    {
      g_free (w);
      return NULL;
    }
  w->theta[0] = th[0];
  w->theta[1] = th[1];
  for (guint c = 0; c < p; c++)
    w->theta[2 + act[c]] = th[2 + c];
  return w;
}

static gboolean
weib_predict (gconstpointer state, const FtMaintRow *rows, guint n, double h, double *p_out,
              GError **error)
{
  const Weib *w = state;
  (void) error;
  double k = exp (w->theta[0]);
  double base = k * (log (h) - w->theta[1]);
  for (guint i = 0; i < n; i++)
    {
      double eta = 0;
      for (guint j = 0; j < FT_MAINT_N_FEATURES; j++)
        if (w->sd[j] > 0)
          eta += w->theta[2 + j] * (tx (w, rows[i].x[j]) - w->mean[j]) / w->sd[j];
      p_out[i] = -expm1 (-exp (MIN (base + eta, EXP_CAP)));
    }
  return TRUE;
}

static gboolean
weib_save (gconstpointer state, GByteArray *out, GError **error)
{
  const Weib *w = state;
  (void) error;
  ft_maint_put_u32 (out, FT_MAINT_N_FEATURES);
  for (guint j = 0; j < FT_MAINT_N_FEATURES; j++)
    {
      ft_maint_put_f64 (out, w->mean[j]);
      ft_maint_put_f64 (out, w->sd[j]);
    }
  for (guint j = 0; j < 2 + FT_MAINT_N_FEATURES; j++)
    ft_maint_put_f64 (out, w->theta[j]);
  return TRUE;
}

static gpointer
weib_load (const guint8 *data, gsize len, GError **error)
{
  FtMaintReader r = { data, len };
  guint32 nf;
  g_autofree Weib *w = g_new0 (Weib, 1);
  weib_lut (w);
  if (!ft_maint_get_u32 (&r, &nf, error))
    return NULL;
  if (nf != FT_MAINT_N_FEATURES)
    {
      g_set_error (error, FT_MAINT_ERROR, FT_MAINT_ERROR_BLOB,
                   "Weibull blob has %u features; this build has %u", nf, (guint) FT_MAINT_N_FEATURES);
      return NULL;
    }
  for (guint j = 0; j < FT_MAINT_N_FEATURES; j++)
    if (!ft_maint_get_f64 (&r, &w->mean[j], error) || !ft_maint_get_f64 (&r, &w->sd[j], error))
      return NULL;
  for (guint j = 0; j < 2 + FT_MAINT_N_FEATURES; j++)
    if (!ft_maint_get_f64 (&r, &w->theta[j], error))
      return NULL;
  for (guint j = 0; j < 2 + FT_MAINT_N_FEATURES; j++)
    if (!isfinite (w->theta[j]) || (j < FT_MAINT_N_FEATURES && (!isfinite (w->mean[j]) || !(w->sd[j] >= 0))))
      {
        g_set_error (error, FT_MAINT_ERROR, FT_MAINT_ERROR_BLOB, "Weibull blob holds a non-finite parameter");
        return NULL;
      }
  if (r.left != 0)
    {
      g_set_error (error, FT_MAINT_ERROR, FT_MAINT_ERROR_BLOB, "Weibull blob has %zu bytes too many", r.left);
      return NULL;
    }
  return g_steal_pointer (&w);
}

gboolean
ft_maint_model_weibull (const FtMaintModel *m, double *shape, double *scale, double *beta)
{
  g_return_val_if_fail (m != NULL, FALSE);
  if (m->kind != FT_MAINT_WEIBULL)
    return FALSE;
  const Weib *w = m->state;
  if (shape)
    *shape = exp (w->theta[0]);
  if (scale)
    *scale = exp (w->theta[1]);
  if (beta)
    for (guint j = 0; j < FT_MAINT_N_FEATURES; j++)
      beta[j] = w->sd[j] > 0 ? w->theta[2 + j] : 0;
  return TRUE;
}

/* What every row of a multi-horizon prediction shares: each horizon's
 * k (log h - log lambda) into base, and the features the fit kept (the
 * others add nothing) into act; returns their count. */
static guint
weib_multi_prepare (const Weib *w, const double *h, guint nh, double *base, guint *act)
{
  double k = exp (w->theta[0]);
  for (guint q = 0; q < nh; q++)
    base[q] = k * (log (h[q]) - w->theta[1]);
  guint na = 0;
  for (guint j = 0; j < FT_MAINT_N_FEATURES; j++)
    if (w->sd[j] > 0)
      act[na++] = j;
  return na;
}

/* The same as weib_predict per horizon, the linear predictor computed once. */
static gboolean
weib_predict_multi (gconstpointer state, const FtMaintRow *rows, guint n, const double *h, guint nh,
                    double *p_out, GError **error)
{
  const Weib *w = state;
  (void) error;
  double base[nh > 0 ? nh : 1];
  guint act[FT_MAINT_N_FEATURES];
  guint na = weib_multi_prepare (w, h, nh, base, act);
  for (guint i = 0; i < n; i++)
    {
      double eta = 0;
      for (guint a = 0; a < na; a++)
        {
          guint j = act[a];
          eta += w->theta[2 + j] * (tx (w, rows[i].x[j]) - w->mean[j]) / w->sd[j];
        }
      for (guint q = 0; q < nh; q++)
        p_out[(gsize) q * n + i] = -expm1 (-exp (MIN (base[q] + eta, EXP_CAP)));
    }
  return TRUE;
}

/* weib_predict_multi through a memo: a feature's term is taken from the
 * memo when the vehicle's value is the one it was computed from, or from
 * the last row's when the value is that row's (== on
 * finite values: the same bits but for a zero's sign, which tx ignores),
 * so eta sums the same terms in the same order, bit for bit; the memo
 * starts afresh when the parameters differ from its last call's. */
static gboolean
weib_predict_memo (gconstpointer state, FtMaintMemo *memo, const FtMaintRow *rows, guint n, const double *h,
                   guint nh, double *p_out, GError **error)
{
  const Weib *w = state;
  (void) error;
  enum { P = FT_MAINT_N_FEATURES };
  G_STATIC_ASSERT (sizeof memo->key == sizeof w->theta + sizeof w->mean + sizeof w->sd);
  double key[G_N_ELEMENTS (memo->key)];
  memcpy (key, w->theta, sizeof w->theta);
  memcpy (key + G_N_ELEMENTS (w->theta), w->mean, sizeof w->mean);
  memcpy (key + G_N_ELEMENTS (w->theta) + P, w->sd, sizeof w->sd);
  if (!memo->keyed || memcmp (key, memo->key, sizeof key) != 0)
    {
      memcpy (memo->key, key, sizeof key);
      memo->keyed = TRUE;
      for (gsize s = 0; s < (gsize) memo->n_vehicles * P; s++)
        memo->slot[s].x = NAN;
    }
  double base[nh > 0 ? nh : 1];
  guint act[P];
  guint na = weib_multi_prepare (w, h, nh, base, act);
  FtMaintMemoSlot last[P];
  for (guint j = 0; j < P; j++)
    last[j].x = NAN;
  for (guint i = 0; i < n; i++)
    {
      guint v = rows[i].vehicle;
      if (v >= memo->n_vehicles)
        {
          guint nv = MAX (v + 1, memo->n_vehicles * 2);
          memo->slot = g_renew (FtMaintMemoSlot, memo->slot, (gsize) nv * P);
          for (gsize s = (gsize) memo->n_vehicles * P; s < (gsize) nv * P; s++)
            memo->slot[s].x = NAN;
          memo->n_vehicles = nv;
        }
      FtMaintMemoSlot *ms = memo->slot + (gsize) v * P;
      const double *x = rows[i].x;
      double eta = 0;
      for (guint a = 0; a < na; a++)
        {
          guint j = act[a];
          if (x[j] != ms[j].x)
            {
              /* a value the row before had (an idle fleet's age, hours
               * since a first event) costs no transform either */
              if (x[j] != last[j].x)
                {
                  last[j].x = x[j];
                  last[j].term = w->theta[2 + j] * (tx (w, x[j]) - w->mean[j]) / w->sd[j];
                }
              ms[j] = last[j];
            }
          eta += ms[j].term;
        }
      for (guint q = 0; q < nh; q++)
        p_out[(gsize) q * n + i] = -expm1 (-exp (MIN (base[q] + eta, EXP_CAP)));
    }
  return TRUE;
}

const FtMaintOps ft_maint_weibull_ops = { weib_fit, weib_predict, weib_save, weib_load, g_free, weib_predict_multi,
                                          weib_predict_memo };
