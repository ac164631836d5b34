/* ft-exp-report.h — an experiment's report from its results database:
 * every treatment variant against the control on every metric (paired
 * differences over replications with t and bootstrap intervals, p-values
 * Holm-corrected across the metrics of a variant, Cohen's d_z, CUPED on the
 * control's pre-period value, replications needed for a power), as text and
 * as a PDF with interval charts (src/analytics ft-chart); with field
 * designs, each design's bias and spread against the whole-fleet truth.
 */
#pragma once

#include "ft-exp-results.h"
#include "ft-stats.h"
#include <cairo.h>

G_BEGIN_DECLS

typedef struct {
  double  alpha;       /* 0.05 */
  double  power;       /* 0.8 */
  double  mde;         /* minimum detectable effect, relative to the control mean (0.02 = 2 %) */
  guint   bootstrap;   /* resamples (2000) */
  guint64 seed;        /* of the bootstrap (fixed: the same report every time) */
} FtExpReportOptions;

#define FT_EXP_REPORT_OPTIONS_INIT { 0.05, 0.8, 0.02, 2000, 16 }

typedef struct {
  char          *variant;
  char          *metric;
  FtStatsPaired  st;
  double         p_holm;
  gboolean       has_cuped;     /* pre-period values present */
  double         theta, cuped_mean, cuped_lo, cuped_hi, cuped_sd;
  double         var_reduction; /* 1 - var(adjusted) / var(raw) */
  guint          n_power;       /* replications for power at mde (raw differences) */
  guint          n_power_cuped;
} FtExpComparison;

void       ft_exp_comparison_free (FtExpComparison *c);
/* Comparisons in (variant, metric) order; replications missing a value in
 * either arm are left out (and counted in st.n). */
GPtrArray *ft_exp_report_compare (FtExpResults *r, const FtExpReportOptions *opt, GError **error);
char      *ft_exp_report_text    (FtExpResults *r, GPtrArray *cmp, const FtExpReportOptions *opt);
gboolean   ft_exp_report_pdf     (FtExpResults *r, GPtrArray *cmp, const FtExpReportOptions *opt,
                                  const char *path, GError **error);

/* A field design against the whole-fleet truth: over the replications
 * where both exist, the design's estimate and the truth (the crn paired
 * difference, variant - control, of the same metric), the bias (mean of
 * estimate - truth) with its standard error, the estimate's sd and the
 * root mean square error; the 95 % t intervals of the truth's and the
 * estimate's means (NaN below two replications), and the verdict: biased
 * when the bias's 95 % t interval (n - 1 degrees of freedom) excludes zero. */
typedef enum {
  FT_EXP_FIELD_TOO_FEW,    /* fewer than two replications: no standard error */
  FT_EXP_FIELD_NO_BIAS,    /* the bias's 95 % t interval covers zero */
  FT_EXP_FIELD_BIASED,     /* the bias's 95 % t interval excludes zero */
} FtExpFieldVerdict;

typedef struct {
  char   *design, *variant, *metric;
  guint   n;
  double  truth_mean, truth_sd;
  double  est_mean, est_sd;
  double  bias, bias_se, rmse;
  double  truth_lo, truth_hi, est_lo, est_hi;
  FtExpFieldVerdict verdict;
} FtExpFieldBias;

void       ft_exp_field_bias_free (FtExpFieldBias *b);
/* In (design, variant, metric) order; empty without field rows. */
GPtrArray *ft_exp_report_field   (FtExpResults *r, GError **error);
/* What one row means, in a sentence (the report's and the app's words). */
char      *ft_exp_field_bias_describe (const FtExpFieldBias *b);
/* The field designs' chart for one metric: each design's estimate
 * against the whole-fleet truth, mean and 95 % t interval (the app's and
 * the PDF report's). Rows of field (ft_exp_report_field) of other metrics
 * are skipped; with none, a chart titled empty_title. */
void       ft_exp_field_chart_draw (cairo_t *cr, double width, double height, GPtrArray *field,
                                    const char *metric, const char *empty_title);

/* A sweep's Pareto view: each variant's mean of x_metric against y_metric
 * over replications (with a t interval of y), the front marked; as text,
 * and as a PDF page (pdf NULL: none). */
char      *ft_exp_report_pareto  (FtExpResults *r, const char *x_metric, gboolean x_higher_better,
                                  const char *y_metric, gboolean y_higher_better, double alpha,
                                  const char *pdf, GError **error);

G_END_DECLS
