/* ft-stats.h — the statistics of experiments (issue 16), pure functions on
 * arrays: paired differences with t and bootstrap intervals, p-values with
 * Holm's correction, Cohen's d for paired samples, CUPED with a pre-period
 * covariate, and the replications needed for a chosen power. GSL gives the
 * distributions. Nothing here knows the simulator or a database.
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* One paired comparison: d[i] = treatment[i] - control[i]. */
typedef struct {
  guint  n;
  double mean, sd;          /* of the differences (sd with n - 1) */
  double se;
  double t, df, p;          /* two-sided one-sample t test of mean 0 */
  double t_lo, t_hi;        /* t interval at 1 - alpha */
  double boot_lo, boot_hi;  /* percentile bootstrap interval at 1 - alpha */
  double cohen_dz;          /* mean / sd (Cohen's d for paired samples) */
  double control_mean;      /* for a relative change */
} FtStatsPaired;

/* Mean and sample standard deviation (n - 1; 0 when n < 2). */
void     ft_stats_mean_sd      (const double *x, guint n, double *mean, double *sd);
/* The t quantile with df degrees of freedom (gsl_cdf_tdist_Pinv). */
double   ft_stats_t_quantile   (double p, double df);
/* Percentile bootstrap of the mean of x: B resamples drawn with a gsl_rng
 * seeded with seed (so the interval is the same every time). */
void     ft_stats_bootstrap_mean (const double *x, guint n, guint B, guint64 seed, double alpha,
                                  double *lo, double *hi);
/* Everything above for treatment - control (n >= 2). FALSE with an error
 * when n < 2 or a value is not finite. */
gboolean ft_stats_paired       (const double *treatment, const double *control, guint n,
                                double alpha, guint B, guint64 seed, FtStatsPaired *out,
                                GError **error);
/* Holm's step-down adjustment of m p-values (adj may be p). */
void     ft_stats_holm         (const double *p, guint m, double *adj);
/* CUPED: y - theta (x - mean x), theta = cov(y, x) / var(x) (0 when x does
 * not vary). Writes the adjusted values to y_adj and returns theta. */
double   ft_stats_cuped        (const double *y, const double *x, guint n, double *y_adj);
/* Replications (pairs) needed so a two-sided paired t test at alpha has the
 * given power against a mean difference mde when the differences have
 * standard deviation sd: the least n >= 2 with
 * n >= ((t_{1-alpha/2,n-1} + t_{power,n-1}) sd / mde)^2. 0 on bad input;
 * G_MAXUINT when more than 10^7 would be needed. */
guint    ft_stats_n_for_power  (double sd, double mde, double alpha, double power);

/* Pareto front of n points (x[i], y[i]): front[i] is TRUE when no other
 * point is at least as good on both and better on one; "good" is higher
 * or lower per axis. NaN points are never on the front. */
void     ft_stats_pareto_front (const double *x, const double *y, guint n, gboolean x_higher_better,
                                gboolean y_higher_better, gboolean *front);

#define FT_STATS_ERROR (ft_stats_error_quark ())
GQuark ft_stats_error_quark (void);
typedef enum { FT_STATS_ERROR_INPUT } FtStatsError;

G_END_DECLS
