/* ft-forecast.h — demand forecasting: trip requests per zone and hour, for
 * horizons of 1 to 24 hours, by a ladder of models behind one interface
 * (fit on a training window, predict a zone x hour matrix from an origin).
 *
 * How demand is estimated. Served trips undercount demand wherever no
 * vehicle was near. An FtDemandSeries holds trips started per zone and hour;
 * where the caller also knows availability (the fraction of the hour in
 * which a vehicle was within reach, from a simulation or live telemetry), the
 * demand estimate is trips / max(availability, 0.25), so an hour with a
 * quarter of its time covered counts at most four times its trips. Imported
 * trip files (the Citi Bike file) carry no lost-demand or availability
 * record: there the series is served trips, a lower bound on demand, and the
 * models forecast that.
 *
 * The ladder, each scored against the one below it:
 *  1. FT_FORECAST_MEAN: historical mean by zone and hour of week over the
 *     training window, shrunk to the zone's mean for the same hour of day
 *     and day type when a cell has few weeks.
 *  2. FT_FORECAST_GLM: Poisson GLM (log link) with L2 regularisation,
 *     fitted by iteratively reweighted least squares (GSL Cholesky), on hour
 *     of week, hour of day x day type, zone effects and recent lags.
 *  3. FT_FORECAST_XGB: gradient-boosted trees (XGBoost C API,
 *     objective count:poisson) on the same features.
 *
 * Lags at forecast time: for a target hour `lead` hours after the origin,
 * lag L (hours) is known only when L >= lead. Lags of 1, 2 and 3 hours are
 * used where the lead allows; 24 (same hour yesterday) always (horizons are
 * at most 24 h) and 168 (last week) where the data reach back that far.
 * Models are trained for lead classes 1, 2, 3, 4-6, 7-12 and 13-24 h so the
 * features they see in training are those they get.
 *
 * Hours are naive local time (as the trip files give them): hour index i of
 * a series covers [t0 + i h, t0 + (i + 1) h).
 */
#pragma once

#include "ft-common.h"

G_BEGIN_DECLS

#define FT_FORECAST_ERROR (ft_forecast_error_quark ())
GQuark ft_forecast_error_quark (void);
typedef enum {
  FT_FORECAST_ERROR_EMPTY,        /* no hours, no zones or no trips */
  FT_FORECAST_ERROR_INVALID,      /* NaN, Inf or negative value; bad argument */
  FT_FORECAST_ERROR_WINDOW,       /* window outside the data */
  FT_FORECAST_ERROR_NUMERIC,      /* the fit failed (GSL status) */
  FT_FORECAST_ERROR_XGBOOST,      /* XGBoost reported an error */
  FT_FORECAST_ERROR_NOT_FITTED,
  FT_FORECAST_ERROR_IO,
} FtForecastError;

#define FT_FORECAST_MAX_HORIZON 24

/* ---- series ------------------------------------------------------------ */

typedef struct {
  guint   n_zones;
  guint   n_hours;
  FtTime  t0;          /* start of hour 0 (naive local ms, whole hour) */
  double *count;       /* [z * n_hours + h]: trips started (>= 0, finite) */
  double *available;   /* NULL, or [z * n_hours + h] in [0, 1] */
  char  **zone_ids;    /* n_zones names (NULL-terminated) */
  GHashTable *holidays; /* NULL, or local day numbers (t / FT_DAY) that count as Sundays */
} FtDemandSeries;

/* Counts events (start time, zone index; zone < 0 = outside every zone,
 * skipped) into hours from the hour holding the first event to the hour
 * holding the last. Refuses no zones, no events inside a zone, and a zone
 * index out of range. zone_ids may be NULL ("zone-N" names). */
FtDemandSeries *ft_demand_series_from_events (guint n_zones, const char *const *zone_ids,
                                              const FtTime *t, const int *zone, guint n,
                                              GError **error);
/* A series from a ready matrix (copied); refuses NaN, Inf and negatives,
 * naming the zone and hour. */
FtDemandSeries *ft_demand_series_new         (guint n_zones, guint n_hours, FtTime t0,
                                              const double *count, GError **error);
/* Availability per zone-hour in [0, 1] (copied); refuses anything else and
 * leaves the series unchanged then. */
gboolean        ft_demand_series_set_availability (FtDemandSeries *s, const double *available,
                                                   GError **error);
/* Public holidays (naive local times within each day, any hour): their
 * hours count as a Sunday's in the hour of week and day type, so a Monday
 * holiday neither drags the Monday mean down nor teaches the models that a
 * quiet day follows a quiet weekend. */
void            ft_demand_series_set_holidays (FtDemandSeries *s, const FtTime *days, guint n);
/* The demand estimate the models are fitted on (see the purpose block). */
double          ft_demand_series_demand      (const FtDemandSeries *s, guint z, guint h);
void            ft_demand_series_free        (FtDemandSeries *s);
/* Hour of week of hour h (0 = Monday 00:00-01:00; a holiday's hours are
 * Sunday's). Day type is how / 24 >= 5: 0 workday, 1 weekend or holiday. */
guint           ft_demand_series_how         (const FtDemandSeries *s, guint h);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (FtDemandSeries, ft_demand_series_free)

/* ---- models ------------------------------------------------------------ */

typedef enum {
  FT_FORECAST_MEAN = 0,
  FT_FORECAST_GLM,
  FT_FORECAST_XGB,
  FT_N_FORECAST_KINDS
} FtForecastKind;

typedef struct {
  double mean_shrink_weeks;  /* baseline: prior weight, in weeks, of the hour-of-day mean (2) */
  double glm_lambda;         /* GLM: L2 penalty (on all but the intercept) (10) */
  guint  glm_max_iter;       /* GLM: IRLS iterations at most (50) */
  guint  xgb_rounds;         /* XGBoost: boosting rounds (200) */
  guint  xgb_max_depth;      /* (4) */
  double xgb_eta;            /* (0.05) */
  guint  xgb_nthread;        /* 0: XGBoost's default */
  guint  horizon;            /* longest horizon the model is fitted for (24) */
  /* GLM: the lead classes (bit c - 1 for class c, ft_lead_class) fitted
   * with the model; the others are fitted from the same training data
   * when a forecast or a save first needs them (0: all, the default).
   * Shadow mode fits the classes of the horizons it stores. Not saved:
   * a saved model holds every class. */
  guint32 glm_eager_classes;
} FtForecastParams;

void ft_forecast_params_init (FtForecastParams *p);

typedef struct _FtForecaster FtForecaster;

const char   *ft_forecast_kind_name (FtForecastKind kind);   /* "mean", "glm", "xgboost" */
gboolean      ft_forecast_kind_from_name (const char *name, FtForecastKind *kind);
FtForecaster *ft_forecaster_new     (FtForecastKind kind, const FtForecastParams *params);
FtForecastKind ft_forecaster_get_kind (const FtForecaster *f);
/* Fits on hours [train_start, train_end) of s (lags may read earlier
 * hours). On failure the forecaster keeps what it had before. */
gboolean      ft_forecaster_fit     (FtForecaster *f, const FtDemandSeries *s,
                                     guint train_start, guint train_end, GError **error);
/* The same, the iterations starting from warm's fit when warm is fitted,
 * of the same kind and on as many zones (the GLM: IRLS from its
 * coefficients; other kinds, or another warm, fit from scratch). Shadow
 * mode refits a candidate from its champion this way. */
/* IRLS iterations the last fit took over every lead class (the GLM; 0 for
 * other kinds and for a loaded model): what a warm start saves. */
guint         ft_forecaster_get_fit_iterations (const FtForecaster *f);
gboolean      ft_forecaster_fit_warm (FtForecaster *f, const FtForecaster *warm, const FtDemandSeries *s,
                                      guint train_start, guint train_end, GError **error);
/* Predicts hours origin .. origin + horizon - 1 of every zone from what was
 * known before `origin` (hours >= origin are never read). out has
 * n_zones * horizon values, [z * horizon + k]. */
gboolean      ft_forecaster_predict (FtForecaster *f, const FtDemandSeries *s, guint origin,
                                     guint horizon, double *out, GError **error);
/* The same, but only the leads k + 1 (hour origin + k) with want[k] set
 * need be computed: the others are NaN where the model can skip them (the
 * GLM: a row of features each), else computed too. Every value computed
 * is the one ft_forecaster_predict gives, bit for bit. want NULL: all. */
gboolean      ft_forecaster_predict_leads (FtForecaster *f, const FtDemandSeries *s, guint origin,
                                           guint horizon, const gboolean *want, double *out,
                                           GError **error);
void          ft_forecaster_free    (FtForecaster *f);
/* The fitted model as a self-describing blob (kind, parameters, state):
 * NULL with FT_FORECAST_ERROR_NOT_FITTED before a fit. */
GBytes       *ft_forecaster_save    (const FtForecaster *f, GError **error);
/* A forecaster from a blob of ft_forecaster_save; a blob that is short,
 * damaged or of an unknown format is refused (FT_FORECAST_ERROR_IO, naming
 * the byte offset) and nothing is returned. */
FtForecaster *ft_forecaster_load    (GBytes *blob, GError **error);
const FtForecastParams *ft_forecaster_get_params (const FtForecaster *f);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (FtForecaster, ft_forecaster_free)

/* ---- the Poisson GLM core (exposed for tests) --------------------------- */

/* A sparse design: row i has entries idx[i*width + j], val[i*width + j] for
 * j < width (idx < 0: empty). Fits log E[y] = offset + X beta (offset NULL:
 * none) by IRLS with penalty lambda/2 * sum_c pen[c] beta_c^2 (pen NULL:
 * 0 for column 0, the intercept, and 1 for every other).
 * beta (n_cols) is the start on entry (zeros are fine) and the fit on
 * success; unchanged on failure. iters may be NULL. */
gboolean ft_poisson_glm_fit (const int *idx, const double *val, guint width, guint n_rows,
                             guint n_cols, const double *y, const double *offset,
                             double lambda, const double *pen, guint max_iter,
                             double *beta, guint *iters, GError **error);

/* ---- backtest ----------------------------------------------------------- */

typedef struct {
  double rmse, mae, deviance;  /* deviance: mean Poisson deviance per zone-hour */
  guint  n;                    /* zone-hours scored */
} FtForecastScore;

/* Mean Poisson deviance term 2 (y log(y/mu) - (y - mu)); mu floored at 1e-9. */
double ft_poisson_deviance (double y, double mu);

typedef void (*FtBacktestRowFunc) (FtForecastKind kind, guint zone, guint hour, guint origin,
                                   guint lead, double predicted, double actual, gpointer user_data);

typedef struct {
  guint train_hours;   /* the window before the test window */
  guint test_hours;    /* the last test_hours of the series */
  guint horizon;       /* 1..24 */
  guint origin_every;  /* hours between origins (1 or 24 typically) */
} FtBacktestSpec;

/* Fits each model once on [test_start - train_hours, test_start) and rolls
 * origins over the test window; scores only predictions whose target hour is
 * inside the test window. Refuses a window longer than the data. fit_seconds
 * and predict_seconds (may be NULL) get the times per model. */
gboolean ft_forecast_backtest (const FtDemandSeries *s, const FtBacktestSpec *spec,
                               const FtForecastParams *params, const FtForecastKind *kinds,
                               guint n_kinds, FtForecastScore *scores, double *fit_seconds,
                               FtBacktestRowFunc row, gpointer user_data, GError **error);

G_END_DECLS
