/* ft-forecast-private.h — what the forecast models share inside
 * src/models: the forecaster's table of operations, the historical-mean
 * model (the baseline, also a feature of the models above it), and the
 * feature rows the GLM and XGBoost are trained and queried on.
 */
#pragma once

#include "ft-forecast.h"

G_BEGIN_DECLS

/* A model blob, read with bounds checks: a short or damaged blob is an
 * error naming the byte offset, never an over-read. */
typedef struct {
  const guint8 *p;
  gsize         len, at;
  gboolean      bad;
} FtBlobReader;

void     ft_blob_put_u32    (GByteArray *b, guint32 v);
void     ft_blob_put_f64    (GByteArray *b, double v);
void     ft_blob_put_f64s   (GByteArray *b, const double *v, gsize n);
guint32  ft_blob_get_u32    (FtBlobReader *r);
double   ft_blob_get_f64    (FtBlobReader *r);
/* n doubles into a new array (NULL and r->bad set when short). */
double  *ft_blob_get_f64s   (FtBlobReader *r, gsize n);
const guint8 *ft_blob_get_bytes (FtBlobReader *r, gsize n);

typedef struct {
  gpointer (*fit)     (const FtForecastParams *p, const FtDemandSeries *s, guint start, guint end,
                       GError **error);
  gboolean (*predict) (gpointer state, const FtDemandSeries *s, guint origin, guint horizon,
                       double *out, GError **error);
  void     (*free)    (gpointer state);
  void     (*save)    (gpointer state, GByteArray *out);
  gpointer (*load)    (FtBlobReader *r, GError **error);   /* NULL: error set */
  /* fit starting from a fitted state of the same kind (may be NULL: not
   * supported, fit is used) */
  gpointer (*fit_warm) (const FtForecastParams *p, const FtDemandSeries *s, guint start, guint end,
                        gconstpointer warm, GError **error);
  /* predict only the leads k + 1 with want[k] set, NaN for the others
   * (may be NULL: predict computes them all) */
  gboolean (*predict_leads) (gpointer state, const FtDemandSeries *s, guint origin, guint horizon,
                             const gboolean *want, double *out, GError **error);
} FtForecastOps;

struct _FtForecaster {
  FtForecastKind      kind;
  FtForecastParams    params;
  const FtForecastOps *ops;
  gpointer            state;     /* NULL until fitted */
};

extern const FtForecastOps ft_forecast_mean_ops;
extern const FtForecastOps ft_forecast_glm_ops;
guint ft_forecast_glm_iterations (gconstpointer state);
extern const FtForecastOps ft_forecast_xgb_ops;

/* A deep copy (counts, availability, zone names, holidays). */
FtDemandSeries *ft_demand_series_copy (const FtDemandSeries *s);

/* ---- the historical mean ------------------------------------------------ */

typedef struct {
  guint   n_zones;
  double  shrink;        /* prior weight in weeks */
  double *sum_how;       /* [z * 168 + how] */
  double *n_how;
  double *sum_hd;        /* [z * 48 + daytype * 24 + hod] */
  double *n_hd;
  double *zone_mean;     /* [z] */
  guint   start, end;    /* the training window */
  double *expect;        /* [z * 168 + how]: ft_mean_model_expect, tabled once (features read it per row) */
  double *log_expect;    /* [z * 168 + how]: log (MAX (expect, 0.02)), the GLM's offset */
} FtMeanModel;

/* Fits on hours [start, end) except [skip_start, skip_end) (equal: none). */
FtMeanModel *ft_mean_model_fit     (const FtDemandSeries *s, guint start, guint end,
                                    guint skip_start, guint skip_end, double shrink);
/* Expected count of zone z at hour-of-week how (a table look-up). */
static inline double
ft_mean_model_expect (const FtMeanModel *m, guint z, guint how)
{
  return m->expect[(gsize) z * 168 + how];
}
/* log (MAX (expected count, 0.02)): the GLM's offset, tabled with it. */
static inline double
ft_mean_model_log_expect (const FtMeanModel *m, guint z, guint how)
{
  return m->log_expect[(gsize) z * 168 + how];
}
void         ft_mean_model_free    (FtMeanModel *m);
void         ft_mean_model_save    (const FtMeanModel *m, GByteArray *out);
/* NULL with r->bad set on a short or inconsistent blob. */
FtMeanModel *ft_mean_model_load    (FtBlobReader *r);

/* ---- features ----------------------------------------------------------- */

/* Hours of history a feature row needs before its target hour (a day:
 * lag 24 and the day before the origin; last week's lag is missing, NaN,
 * before hour 168). */
#define FT_FEATURE_HISTORY 24

/* Anomalies are log((k + actual) / (k + the baseline's expectation)) of
 * the hours they name (k = FT_ANOMALY_PRIOR trips), so "yesterday was slow" reads the same on a Monday
 * after a Sunday as mid-week. Unknown lags (lead > lag) are NaN. */
#define FT_ANOMALY_PRIOR 5.0

enum {
  FT_F_HOD = 0, FT_F_DOW, FT_F_DAYTYPE, FT_F_HOW, FT_F_ZONE, FT_F_ZONE_MEAN, FT_F_BASELINE,
  FT_F_LAG1, FT_F_LAG2, FT_F_LAG3, FT_F_LAG24, FT_F_LAG168,
  FT_F_ANOM1, FT_F_ANOM2, FT_F_ANOM3, FT_F_ANOM24, FT_F_ANOM168,
  FT_F_LEAD,
  FT_F_RECENT_ZONE,    /* anomaly of the zone's 24 h before the origin */
  FT_F_RECENT_CITY24,  /* anomaly of the city's 24 h before the origin */
  FT_F_RECENT_CITY3,   /* anomaly of the city's 3 h before the origin */
  FT_N_FEATURES
};

/* Prefix sums of a series for the recent-activity features. */
typedef struct {
  const FtDemandSeries *s;
  const FtMeanModel    *mean;
  double *cum_zone;     /* [z * (n_hours + 1) + h]: demand of zone z in hours [0, h) */
  double *cum_city;     /* [h] */
  double *cum_base;     /* [h]: the baseline's city expectation in hours [0, h) */
  double *cum_zbase;    /* [z * (n_hours + 1) + h]: the baseline's for zone z */
  /* Memos, NaN until first read (no anomaly is NaN): the rows of every
   * lead and lead class read the same hours and origins again. */
  double *anom;         /* [z * n_hours + h]: anomaly of zone z's hour h */
  double *recent_zone;  /* [z * (n_hours + 1) + o]: zone z's anomaly over the 24 h before origin o */
  double *recent_city;  /* [o * 2 + 0 / 1]: the city's over the 24 h / 3 h before origin o */
  /* ft_demand_series_how of hours [how_from, how_from + how_n), tabled
   * once (a row and every zone's sums read it per hour) */
  guint  *how;
  guint   how_from, how_n;
} FtFeatureContext;

void ft_feature_context_init  (FtFeatureContext *c, const FtDemandSeries *s, const FtMeanModel *mean);
/* The same, with the sums filled only for hours [from, n_hours]: enough
 * for forecasts from origins >= from + 24. */
void ft_feature_context_init_from (FtFeatureContext *c, const FtDemandSeries *s, const FtMeanModel *mean,
                                   guint from);
void ft_feature_context_clear (FtFeatureContext *c);
/* Features of zone z, target hour t, forecast from origin = t - lead + 1
 * (lead >= 1). Unknown lags are NaN. Needs t >= FT_FEATURE_HISTORY. */
void ft_feature_row (const FtFeatureContext *c, guint z, guint t, guint lead, double *f);

/* Training rows must not see their own target through the baseline (nor
 * through the anomalies measured against it), or the models learn a
 * relation that is gone at forecast time. The training window is cut into
 * weeks; rows of week w read features from a historical mean fitted without
 * week w, as a forecast reads them from a mean fitted without the test
 * hours. A window shorter than two weeks is cut into days instead (a
 * single in-sample fold would let every row see a third of its own target
 * through the baseline: the GLM then trusts its offset and lags far more
 * than a forecast can; see the unit test "training rows never read their
 * own hour"). */
typedef struct {
  guint             start, n_folds, fold_h;
  FtMeanModel     **means;
  FtFeatureContext *ctx;
} FtTrainingFeatures;

void ft_training_features_init  (FtTrainingFeatures *tf, const FtDemandSeries *s, guint start,
                                 guint end, double shrink);
const FtFeatureContext *ft_training_features_for (const FtTrainingFeatures *tf, guint t);
void ft_training_features_clear (FtTrainingFeatures *tf);
/* Lead classes a model is fitted for: leads 1, 2, 3, 4-6, 7-12 and 13-24
 * (classes 1 to 6): what a lag or an anomaly says about the hour ahead
 * fades with the lead. */
#define FT_N_LEAD_CLASSES 6
guint ft_lead_class (guint lead);
/* The lead a training row of class cls stands for: spread over the class's
 * leads (up to the horizon) by zone and hour. */
guint ft_training_lead (guint cls, guint z, guint t, guint horizon);

G_END_DECLS
