/* ft-drift.h — drift monitoring for shadow models: the population
 * stability index (PSI) of an input feature between a reference sample
 * (what the model was trained on) and a recent one, and the two-sample
 * Kolmogorov-Smirnov test on residuals (GSL has none: the statistic and its
 * asymptotic p-value from the Kolmogorov distribution are written here).
 *
 * Levels: PSI at or above `warn` (default 0.1) warns and at or above `act`
 * (0.25) acts (the usual reading: below 0.1 stable, 0.1-0.25 a shift to
 * watch, above 0.25 a different population). The KS statistic D uses the
 * same two thresholds and must also be significant (p < 0.05 to warn,
 * p < 0.01 to act), so a large D from a handful of values does not act.
 */
#pragma once

#include "ft-common.h"

G_BEGIN_DECLS

#define FT_DRIFT_ERROR (ft_drift_error_quark ())
GQuark ft_drift_error_quark (void);
typedef enum {
  FT_DRIFT_ERROR_EMPTY,     /* a sample is empty */
  FT_DRIFT_ERROR_INVALID,   /* NaN or Inf in a sample, bad thresholds */
} FtDriftError;

typedef enum { FT_DRIFT_PSI = 0, FT_DRIFT_KS = 1 } FtDriftTest;
typedef enum { FT_DRIFT_NONE = 0, FT_DRIFT_WARN = 1, FT_DRIFT_ACT = 2 } FtDriftLevel;

typedef struct {
  double warn;   /* 0.1 */
  double act;    /* 0.25 */
} FtDriftThresholds;

void         ft_drift_thresholds_init (FtDriftThresholds *t);
/* 0 < warn <= act, both finite. */
gboolean     ft_drift_thresholds_check (const FtDriftThresholds *t, GError **error);
const char  *ft_drift_level_name (FtDriftLevel level);   /* "none", "warn", "act" */

/* PSI = sum over bins (a_i - e_i) ln(a_i / e_i), bins at the reference's
 * quantiles (n_bins of equal reference mass, 10 typically; ties merge
 * bins), bin shares floored at 1e-4. Refuses empty samples and NaN/Inf,
 * naming the sample and the index. */
gboolean     ft_drift_psi (const double *reference, gsize n_ref, const double *recent,
                           gsize n_recent, guint n_bins, double *psi, GError **error);
/* Two-sample KS: D = sup |F_a - F_b|, p from the Kolmogorov distribution at
 * (sqrt(ne) + 0.12 + 0.11 / sqrt(ne)) D, ne = na nb / (na + nb). */
gboolean     ft_drift_ks (const double *a, gsize na, const double *b, gsize nb, double *d,
                          double *p, GError **error);
/* The same of samples already in ascending order (no copy, no sort). */
gboolean     ft_drift_ks_sorted (const double *a, gsize na, const double *b, gsize nb, double *d,
                                 double *p, GError **error);
/* Q_KS(lambda) = 2 sum_{k>=1} (-1)^(k-1) exp(-2 k^2 lambda^2): the
 * probability that the Kolmogorov statistic exceeds lambda. */
double       ft_drift_kolmogorov_q (double lambda);
FtDriftLevel ft_drift_psi_level (const FtDriftThresholds *t, double psi);
FtDriftLevel ft_drift_ks_level  (const FtDriftThresholds *t, double d, double p);

G_END_DECLS
