/* ft-forecast-private.h — what the forecast models share inside
 * src/models: the forecaster's table of operations, the historical-mean
 * model (the baseline, also a feature of the models above it), and the
 * feature rows the GLM and XGBoost are trained and queried on.
 */
#pragma once

#include "ft-forecast.h"

G_BEGIN_DECLS

typedef struct {
  gpointer (*fit)     (const FtForecastParams *p, const FtDemandSeries *s, guint start, guint end,
                       GError **error);
  gboolean (*predict) (gpointer state, const FtDemandSeries *s, guint origin, guint horizon,
                       double *out, GError **error);
  void     (*free)    (gpointer state);
} FtForecastOps;

struct _FtForecaster {
  FtForecastKind      kind;
  FtForecastParams    params;
  const FtForecastOps *ops;
  gpointer            state;     /* NULL until fitted */
};

extern const FtForecastOps ft_forecast_mean_ops;
extern const FtForecastOps ft_forecast_glm_ops;
extern const FtForecastOps ft_forecast_xgb_ops;

/* ---- the historical mean ------------------------------------------------ */

typedef struct {
  guint   n_zones;
  double  shrink;        /* prior weight in weeks */
  double *sum_how;       /* [z * 168 + how] */
  double *n_how;
  double *sum_hd;        /* [z * 48 + daytype * 24 + hod] */
  double *n_hd;
  double *zone_mean;     /* [z] */
} FtMeanModel;

FtMeanModel *ft_mean_model_fit     (const FtDemandSeries *s, guint start, guint end, double shrink,
                                    GError **error);
/* Expected count of zone z at hour-of-week how. With leave_out >= 0, the
 * mean as if that one observation (value leave_out) were not in the window. */
double       ft_mean_model_expect  (const FtMeanModel *m, guint z, guint how, double leave_out);
void         ft_mean_model_free    (FtMeanModel *m);

/* ---- features ----------------------------------------------------------- */

/* Hours of history a feature row needs before its target hour (last week). */
#define FT_FEATURE_HISTORY 168

enum {
  FT_F_HOD = 0, FT_F_DOW, FT_F_DAYTYPE, FT_F_HOW, FT_F_ZONE, FT_F_ZONE_MEAN, FT_F_BASELINE,
  FT_F_LAG1, FT_F_LAG2, FT_F_LAG3, FT_F_LAG24, FT_F_LAG168, FT_F_LEAD,
  FT_F_RECENT_ZONE,   /* zone's trips in the 24 h before the origin */
  FT_F_RECENT_RATIO,  /* city's trips in the 24 h before the origin / the baseline's for them */
  FT_N_FEATURES
};

/* Prefix sums of a series for the recent-activity features. */
typedef struct {
  const FtDemandSeries *s;
  const FtMeanModel    *mean;
  double *cum_zone;     /* [z * (n_hours + 1) + h]: demand of zone z in hours [0, h) */
  double *cum_city;     /* [h] */
  double *cum_base;     /* [h]: the baseline's city expectation in hours [0, h) */
} FtFeatureContext;

void ft_feature_context_init  (FtFeatureContext *c, const FtDemandSeries *s, const FtMeanModel *mean);
void ft_feature_context_clear (FtFeatureContext *c);
/* Features of zone z, target hour t, forecast from origin = t - lead + 1
 * (lead >= 1). Unknown lags are NaN. loo: leave the target out of the
 * baseline feature (training rows). Needs t >= FT_FEATURE_HISTORY. */
void ft_feature_row (const FtFeatureContext *c, guint z, guint t, guint lead, gboolean loo,
                     double *f);
/* The lead class a model is fitted for: 1, 2, 3, or 4 for 4 and more. */
static inline guint ft_lead_class (guint lead) { return lead < 4 ? lead : 4; }
/* The lead a training row of class 4 stands for (spread over 4..horizon). */
guint ft_training_lead (guint cls, guint z, guint t, guint horizon);

G_END_DECLS
