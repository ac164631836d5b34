/* ft-maint.h — predictive maintenance: per vehicle, the probability of a
 * fault within the next h hours (24 h and 7 days), from what an operator
 * really has: the domain event log of a run or live database. The models
 * never see the simulator's fault process (faults_per_1000km, wear): only
 * the events below.
 *
 * What the log shows. A fault is FT_EV_VEHICLE_FAULT with fault codes that
 * become non-zero (ft_fleet_set_faults logs it; live telemetry carries
 * `fault_codes`), or, in logs written before that event existed, an MDS
 * `maintenance` state event (FT_EV_VEHICLE_STATE, a = FT_VEV_MAINTENANCE),
 * which the simulator applies only on a fault. The vehicle is out of the risk
 * set from its fault until its service ends (codes cleared, or
 * `maintenance_end`, or the drop-off after a `maintenance_pick_up`). Usage
 * comes from FT_EV_BOOKING_ENDED (a = seconds, b = metres) and
 * FT_EV_VEHICLE_MOVED (odometer: a vehicle's first reading, before any km
 * is known, is where its odometer stood when the log began, not km ridden),
 * charge cycles from packs put into the vehicle (FT_EV_PACK_MOVED) and SOC
 * drops in FT_EV_TELEMETRY, warning codes (a vehicle in service reporting
 * a brake or motor code) from FT_EV_VEHICLE_WARNING. Pack health is not in
 * the log (pack events carry no health), so it is not a feature.
 *
 * Flow: feed events into an FtMaintLog (a whole database with
 * ft_maint_log_read_db, or one by one from an FtEventLog listener in shadow
 * mode), build feature rows (vehicle, observation time, features, time to
 * the next fault censored at a given moment), fit a model on rows and
 * predict P(fault within h hours) for other rows. Models save to and load
 * from a blob with a SHA-256 trailer, so a registry can store them.
 */
#pragma once

#include "ft-common.h"
#include "ft-event.h"

G_BEGIN_DECLS

#define FT_MAINT_ERROR (ft_maint_error_quark ())
GQuark ft_maint_error_quark (void);
typedef enum {
  FT_MAINT_ERROR_EMPTY,       /* no vehicles or no rows */
  FT_MAINT_ERROR_NO_FAULTS,   /* no fault in the training rows: nothing to learn */
  FT_MAINT_ERROR_INVALID,     /* NaN/Inf feature, negative time, bad argument */
  FT_MAINT_ERROR_WINDOW,      /* window outside the data */
  FT_MAINT_ERROR_NUMERIC,     /* the fit failed (GSL status) */
  FT_MAINT_ERROR_XGBOOST,     /* XGBoost reported an error */
  FT_MAINT_ERROR_BLOB,        /* not a model blob, truncated, or checksum mismatch */
  FT_MAINT_ERROR_IO,          /* the database could not be read */
} FtMaintError;

/* ---- features ----------------------------------------------------------- */

/* "Service" is the end of the last repair, a done `inspect` task
 * (FT_EV_TASK_DONE with a = FT_TASK_INSPECT: a preventive service on the
 * street), or the vehicle's first event. */
typedef enum {
  FT_MF_KM_SINCE_SERVICE = 0,
  FT_MF_RIDE_MIN_SINCE_SERVICE,
  FT_MF_TRIPS_SINCE_SERVICE,
  FT_MF_HOURS_SINCE_SERVICE,
  FT_MF_CHARGE_CYCLES,          /* packs put in + full-equivalent SOC drops since service */
  FT_MF_AGE_DAYS,               /* since the vehicle's first event */
  FT_MF_ODOMETER_KM,
  FT_MF_KM_LAST_24H,
  FT_MF_KM_PER_DAY_7D,          /* km in the last 7 days (or since first seen) per day */
  FT_MF_PRIOR_FAULTS,
  FT_MF_ERROR_CODES,            /* fault codes of the last fault (popcount) */
  FT_MF_HOURS_SINCE_TRIP,       /* since the last trip ended (or first seen) */
  FT_MF_AVAILABLE,              /* 0/1: the last MDS state is `available` */
  FT_MF_KIND_BIKE,              /* 0/1; scooter is the reference */
  FT_MF_KIND_MOPED,
  FT_MF_WARNINGS_24H,           /* warning codes (FT_EV_VEHICLE_WARNING), each
                                 * fading with a 24 h time constant */
  FT_MF_WARNINGS_SINCE_SERVICE,
  FT_MAINT_N_FEATURES
} FtMaintFeature;

const char *ft_maint_feature_name (FtMaintFeature f);   /* "km_since_service" … */

typedef struct {
  guint32  vehicle;        /* dense vehicle index from the log */
  FtTime   t;              /* observation time: features use events before t only */
  double   x[FT_MAINT_N_FEATURES];
  double   time_h;         /* hours from t to the next fault, or to censoring */
  gboolean fault;          /* TRUE: a fault at t + time_h; FALSE: censored there */
  double   follow_h;       /* hours from t to the censoring moment: the outcome
                            * "fault within h" is known iff follow_h >= h or
                            * a fault came within h */
} FtMaintRow;

/* ---- the log the features are built from ------------------------------- */

typedef struct _FtMaintLog FtMaintLog;

FtMaintLog *ft_maint_log_new       (void);
void        ft_maint_log_free      (FtMaintLog *log);
/* Takes any event and keeps what the features need. Events must come in
 * time order (as an FtEventLog delivers them); an older one is refused. */
gboolean    ft_maint_log_add       (FtMaintLog *log, const FtEvent *ev, GError **error);
/* An FtEventListener: ft_event_log_add_listener (core_log,
 * ft_maint_log_listener, maint_log) keeps a log current as events happen
 * (shadow mode); an event out of time order is skipped with a warning. */
void        ft_maint_log_listener  (const FtEvent *ev, gpointer maint_log);
/* The kinds of event the log reads (the listener's filter for
 * ft_event_log_add_listener_for: the others would only be checked for
 * their time order). */
#define FT_MAINT_LOG_KINDS                                                                              \
  (FT_EV_BIT (FT_EV_VEHICLE_ADDED) | FT_EV_BIT (FT_EV_VEHICLE_STATE) | FT_EV_BIT (FT_EV_VEHICLE_MOVED)   \
   | FT_EV_BIT (FT_EV_VEHICLE_FAULT) | FT_EV_BIT (FT_EV_TELEMETRY) | FT_EV_BIT (FT_EV_BOOKING_ENDED)     \
   | FT_EV_BIT (FT_EV_VEHICLE_WARNING) | FT_EV_BIT (FT_EV_PACK_MOVED) | FT_EV_BIT (FT_EV_TASK_DONE))
/* Reads the event table of a run or live database (read only, nothing in
 * it is changed). Refuses a file that is not such a database or has no vehicle. */
FtMaintLog *ft_maint_log_read_db   (const char *path, GError **error);
guint       ft_maint_log_n_vehicles (const FtMaintLog *log);
guint       ft_maint_log_n_faults  (const FtMaintLog *log);
FtTime      ft_maint_log_start     (const FtMaintLog *log);   /* first event */
FtTime      ft_maint_log_end       (const FtMaintLog *log);   /* last event */
/* Fault times (ms) of the log in order; n_out gets the count. */
const FtTime *ft_maint_log_faults  (const FtMaintLog *log, guint *n_out);
/* The vehicle of each of those faults, in the same order. */
const guint32 *ft_maint_log_fault_vehicles (const FtMaintLog *log, guint *n_out);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (FtMaintLog, ft_maint_log_free)

/* Rows at from, from + step, … (< to) for every vehicle in service then
 * (seen, not faulted). The outcome is the next fault at or before censor_at,
 * else censored at censor_at (censor_at >= to; pass the end of a training
 * window so no row sees past it). Refuses an empty window and no vehicles. */
GArray     *ft_maint_log_rows      (const FtMaintLog *log, FtTime from, FtTime to, FtTime step,
                                    FtTime censor_at, GError **error);
/* Shadow mode: one row per vehicle in service at `now` from the events
 * added so far (time_h = 0, fault = FALSE: the outcome is not known yet).
 * Cheap when now is at or after the last event added. */
GArray     *ft_maint_log_rows_now  (const FtMaintLog *log, FtTime now, GError **error);
/* The same into rows (emptied first; its storage is reused, so a caller
 * that asks at every tick allocates nothing). FALSE when no vehicle. */
gboolean    ft_maint_log_rows_now_into (const FtMaintLog *log, FtTime now, GArray *rows, GError **error);
/* The same rows read in place: *rows_out, *n_out of them, borrowed from
 * the log's records when it just recorded this time (a shadow tick on its
 * grid; valid until the log next changes), else those filled into rows as
 * ft_maint_log_rows_now_into does. FALSE when no vehicle. */
gboolean    ft_maint_log_rows_now_get (const FtMaintLog *log, FtTime now, GArray *rows,
                                       const FtMaintRow **rows_out, guint *n_out, GError **error);

/* Running mode (shadow mode): from this call on the log keeps no events.
 * Instead it records, at every time origin + k * step (k any integer),
 * the features of every vehicle in service then, exactly the rows a
 * replay would give (the events before that time), as the events pass;
 * ft_maint_log_rows answers from those records, without a replay, for
 * windows on that grid (from on it, step a multiple of it; anything else
 * is refused). Events already added (a history read from a database) are
 * replayed into records once and dropped. Records are made when an event
 * at or after their time arrives, or by ft_maint_log_record_to. */
gboolean    ft_maint_log_keep_records (FtMaintLog *log, FtTime origin, FtTime step, GError **error);
/* Records every grid time up to and including now (the events before now
 * must all have been added). */
void        ft_maint_log_record_to    (FtMaintLog *log, FtTime now);
/* Drops the records of grid times before `before` (memory; in batches, so
 * some may stay a while longer). */
void        ft_maint_log_drop_records (FtMaintLog *log, FtTime before);

/* ---- models ------------------------------------------------------------- */

typedef enum {
  FT_MAINT_BASELINE = 0,   /* km since service, binned: the naive ranking */
  FT_MAINT_WEIBULL,        /* Weibull proportional hazards, right-censored MLE */
  FT_MAINT_XGB,            /* XGBoost binary:logistic, one booster per horizon */
  FT_N_MAINT_KINDS
} FtMaintKind;

#define FT_MAINT_N_HORIZONS 2
extern const double ft_maint_horizons_h[FT_MAINT_N_HORIZONS];   /* 24, 168 */

typedef struct {
  double ridge;          /* Weibull: L2 penalty on the coefficients (1e-3) */
  guint  max_iter;       /* Weibull: BFGS iterations at most (500) */
  double grad_tol;       /* Weibull: stop when the gradient norm of the mean
                          * negative log-likelihood is below this (1e-7;
                          * shadow mode 1e-5: half the iterations, Brier
                          * scores equal to 4 digits on Demo City) */
  guint  xgb_rounds;     /* (100) */
  guint  xgb_max_depth;  /* (4) */
  double xgb_eta;        /* (0.05) */
  guint  xgb_nthread;    /* 0: XGBoost's default */
} FtMaintParams;

void        ft_maint_params_init     (FtMaintParams *p);
const char *ft_maint_kind_name       (FtMaintKind kind);    /* "baseline", "weibull", "xgb" */
gboolean    ft_maint_kind_from_name  (const char *name, FtMaintKind *kind);

typedef struct _FtMaintModel FtMaintModel;

/* Fits on rows (their outcomes censored at the end of the training window).
 * Refuses no rows, no fault, NaN/Inf features or times <= 0... */
FtMaintModel *ft_maint_model_fit     (FtMaintKind kind, const FtMaintParams *params,
                                      const FtMaintRow *rows, guint n, GError **error);
FtMaintKind   ft_maint_model_get_kind (const FtMaintModel *m);
/* P(fault within horizon_h hours of each row's t) into p_out[n]. XGBoost
 * answers only the horizons it was trained for (ft_maint_horizons_h); the
 * others any horizon > 0. Refuses NaN/Inf features. */
gboolean      ft_maint_model_predict (const FtMaintModel *m, const FtMaintRow *rows, guint n,
                                      double horizon_h, double *p_out, GError **error);
/* The same for nh horizons at once into p_out[k * n + i] (k: horizon),
 * each value equal to what ft_maint_model_predict gives; the Weibull
 * model's per-row work is done once. */
gboolean      ft_maint_model_predict_multi (const FtMaintModel *m, const FtMaintRow *rows, guint n,
                                            const double *horizons_h, guint nh, double *p_out, GError **error);
/* A memo of a model's per-vehicle work between calls: the Weibull model
 * keeps each vehicle's term of every feature with the value it was
 * computed from, so rows of the same vehicles predicted again (every
 * vehicle at each maintenance tick, most of a night's fleet idle) pay only
 * for the features that moved. Tied to no model: a call with other
 * parameters than the last starts it afresh. */
typedef struct _FtMaintMemo FtMaintMemo;
FtMaintMemo  *ft_maint_memo_new (void);
void          ft_maint_memo_free (FtMaintMemo *memo);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (FtMaintMemo, ft_maint_memo_free)
/* ft_maint_model_predict_multi through a memo (NULL: none), every value
 * bit for bit the same; the rows' features are trusted finite when
 * checked is TRUE (the caller checked them for an earlier model). */
gboolean      ft_maint_model_predict_multi_memo (const FtMaintModel *m, FtMaintMemo *memo, const FtMaintRow *rows,
                                                 guint n, const double *horizons_h, guint nh, gboolean checked,
                                                 double *p_out, GError **error);
/* A self-contained blob: magic, kind, version, payload, SHA-256 of all
 * before it. from_blob refuses a wrong magic, a truncated blob and a
 * checksum mismatch. */
GBytes       *ft_maint_model_to_blob   (const FtMaintModel *m, GError **error);
FtMaintModel *ft_maint_model_from_blob (GBytes *blob, GError **error);
void          ft_maint_model_free      (FtMaintModel *m);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (FtMaintModel, ft_maint_model_free)

/* Weibull parameters: shape k, scale lambda (hours, for a vehicle at the
 * training mean of every feature), beta[FT_MAINT_N_FEATURES] per standard
 * deviation of log1p(feature) (0 for a feature constant in training).
 * FALSE for other kinds. */
gboolean ft_maint_model_weibull (const FtMaintModel *m, double *shape, double *scale, double *beta);

/* ---- the Weibull core (exposed for tests) ------------------------------- */

/* Weibull proportional hazards H(t|x) = (t / lambda)^k exp(x . beta), right
 * censored, by maximum likelihood (GSL BFGS, analytic gradient). X is n x p
 * row-major; theta (2 + p) is log k, log lambda, beta: the start on entry
 * (zeros are fine) and the fit on success, unchanged on failure. se (may be
 * NULL) gets standard errors of theta from the inverse observed information. */
gboolean ft_maint_weibull_mle (const double *X, guint n, guint p, const double *time,
                               const gboolean *event, double ridge, guint max_iter,
                               double *theta, double *se, GError **error);

/* ---- scoring ------------------------------------------------------------ */

/* ROC AUC of score against 0/1 labels (ties count half); NAN if one class
 * is missing. */
double ft_maint_auc     (const double *score, const gboolean *label, guint n);
/* Harrell's C: among pairs where the shorter time is a fault, the share in
 * which it has the higher risk (ties in risk count half); NAN if no pair. */
double ft_maint_c_index (const double *risk, const double *time, const gboolean *event, guint n);

typedef struct {
  double precision_at_k, recall_at_k;  /* daily top-k lists vs faults within 24 h */
  guint  k;                            /* list length per day */
  guint  lists;                        /* daily lists scored */
  double auc[FT_MAINT_N_HORIZONS];     /* NAN where not evaluable */
  double brier[FT_MAINT_N_HORIZONS];
  guint  n_eval[FT_MAINT_N_HORIZONS];  /* rows whose outcome at h is known */
  double c_index;
  guint  faults;                       /* faults in the test window */
  guint  caught;                       /* of those, on a list before they happened */
  double lead_median_h, lead_mean_h;   /* warning before the caught faults */
} FtMaintScore;

typedef struct {
  guint  train_days;      /* 0: everything before the test window */
  guint  test_days;       /* the last days of the log (4) */
  guint  top_k;           /* list length per day; 0: top_k_frac of the fleet */
  double top_k_frac;      /* (0.02) */
  guint  step_hours;      /* hours between observation rows (6); lists are daily */
  FtMaintParams params;
} FtMaintBacktestSpec;

void ft_maint_backtest_spec_init (FtMaintBacktestSpec *spec);

/* Trains each model on the training window (outcomes censored at its end)
 * and scores it on the test window (the last test_days of the log).
 * Refuses a window longer than the data and a training window without a
 * fault. fit_seconds and predict_seconds (may be NULL) get the time per model. */
gboolean ft_maint_backtest (const FtMaintLog *log, const FtMaintBacktestSpec *spec,
                            const FtMaintKind *kinds, guint n_kinds, FtMaintScore *scores,
                            double *fit_seconds, double *predict_seconds, GError **error);

G_END_DECLS
