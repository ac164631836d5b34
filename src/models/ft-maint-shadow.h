/* ft-maint-shadow.h — predictive maintenance in shadow mode: beside the
 * twin, at its cadence, P(fault within the short and the long horizon) for
 * every vehicle in service, from the running FtMaintLog state (what the
 * event log shows, never the simulator's fault process), each prediction
 * stored and, once known, its actual (1: a fault came within the horizon,
 * 0: the horizon passed without one). Nothing acts on them.
 *
 * At each tick: faults since the last tick resolve the open predictions of
 * their vehicle; predictions whose horizon has passed resolve to 0; the
 * model trains (first after first_fit_days, then every retrain_days) on
 * rows every step_hours of the last training_days before a held-back
 * window of holdout_days, censored at its start, and is judged on rows of
 * the held-back window by the Brier score at the short horizon against the
 * champion (promoted when lower by min_gain; the first fit always is,
 * and with holdout_days = 0 every fit replaces the champion);
 * versions go to the registry (kind maint-weibull, maint-xgb or
 * maint-baseline), decisions to model_decisions. Then every vehicle in
 * service is scored, and the top k by the short horizon make a list (what
 * staff would work through).
 *
 * Scores, continuously over the resolved predictions: Brier and ROC AUC
 * per horizon, for the model and for the naive baseline (fault rate by km
 * since service, refitted with each fit); precision and recall at k over
 * the lists (a listed vehicle is a hit when it faults within the short
 * horizon; recall over every vehicle that did); lead time: for each fault,
 * the hours since the vehicle was first listed after its last service
 * (caught), or not caught.
 */
#pragma once

#include "ft-maint.h"
#include "ft-store.h"

G_BEGIN_DECLS

typedef struct {
  gboolean    enabled;          /* FALSE: nothing runs */
  FtMaintKind kind;             /* FT_MAINT_WEIBULL */
  double      cadence_min;      /* 360 */
  double      horizons_h[FT_MAINT_N_HORIZONS];   /* 24, 168 (XGBoost: only these) */
  double      training_days;    /* 7 */
  double      first_fit_days;   /* 4 */
  double      retrain_days;     /* 7 */
  double      holdout_days;     /* 1 */
  guint       step_hours;       /* 12: training rows every step (6 doubled the fit's cost, the rows of one
                                 * vehicle 6 h apart tell much the same) */
  guint       top_k;            /* list length; 0: top_k_frac of the vehicles in service */
  double      top_k_frac;       /* 0.02 */
  double      min_gain;         /* 0.005: Brier lower by this share to promote */
  /* A fit runs on a worker thread from a copy of its rows; its result (the
   * decision, the new champion) is taken at the first tick at or after
   * its start + train_lag_min, the ticking thread waiting there if the
   * fit has not finished, so runs do not depend on the machine's speed.
   * 360 (one default cadence); 0: at the tick it starts, as a plain call. */
  double      train_lag_min;
  guint       train_delay_ms;   /* 0; tests: the worker sleeps this long first */
  const char *city;             /* "demo" (copied) */
  const char *history_db;       /* NULL; else a run or live database whose event
                                 * log is read first (live mode: the twin's own
                                 * store, so km since service and the rest reach
                                 * back before this session); one without a
                                 * vehicle yet is an empty history */
  FtMaintParams params;
} FtMaintShadowConfig;

void     ft_maint_shadow_config_init  (FtMaintShadowConfig *c);
/* Refuses out-of-range values, naming the key. */
gboolean ft_maint_shadow_config_check (const FtMaintShadowConfig *c, GError **error);

typedef struct {
  gboolean enabled;
  char     model[32];           /* "maint-weibull" …, "" before the first fit */
  gint64   champion;            /* version (store id, or a local number) */
  guint    fits, promotions;
  guint    vehicles;            /* scored at the last tick */
  guint64  predictions;         /* issued, every horizon */
  guint64  scored[FT_MAINT_N_HORIZONS];   /* resolved */
  double   brier[FT_MAINT_N_HORIZONS], auc[FT_MAINT_N_HORIZONS];   /* NAN: none yet */
  double   base_brier[FT_MAINT_N_HORIZONS], base_auc[FT_MAINT_N_HORIZONS];
  guint    k, lists;            /* list length at the last tick, lists made */
  double   precision_at_k, recall_at_k;   /* NAN: none resolved */
  guint    faults, caught;      /* faults since the first list; of those, listed before */
  double   lead_median_h, lead_mean_h;    /* over the caught ones (NAN: none) */
} FtMaintShadowScores;

/* One vehicle's risk at the last tick. */
typedef struct {
  guint  vehicle;               /* dense vehicle index of the log */
  FtTime at;                    /* when it was predicted */
  double p[FT_MAINT_N_HORIZONS];            /* short, long horizon */
  double km_since_service;
  gboolean listed;              /* in the last top-k list */
} FtMaintRisk;

/* What shadow mode costs the thread that ticks it, in CPU seconds
 * (CLOCK_THREAD_CPUTIME_ID) by part: training (fits, their evaluation on
 * the held-back window, the baseline's refit), prediction, scoring
 * (actuals resolved, drift checked) and store writes (predictions,
 * actuals, versions and decisions; not counted in the other parts). The
 * listeners on the event log are not timed (a clock read per event would
 * cost more than they do). */
typedef struct {
  double train_s, predict_s, score_s, store_s;
  guint  ticks, fits;
  /* the fits' worker threads (their own CPU clocks, read at each fit's
   * start and end; not in train_s, which is the ticking thread's part:
   * copying the training input, taking the result) */
  double train_worker_s;
  /* wall seconds the ticking thread waited at the joins for fits not
   * done (a monotonic clock read around each join) */
  double train_wait_s;
  guint  fit_iterations;   /* the forecast's: the GLM's IRLS iterations over every fit */
} FtShadowCost;

/* The calling thread's CPU time in seconds. */
double ft_shadow_cpu_now (void);

/* A shadow's fit off the ticking thread (the forecast's and the
 * maintenance shadow's jobs each hold one). ft_fit_worker_start runs
 * fn (data) on a new thread, or here when threaded is FALSE or no thread
 * can be had; fn checks ft_fit_worker_cancelled between its steps. */
typedef struct {
  GThread  *thread;
  gpointer (*fn) (gpointer data);
  gpointer  data;
  guint     delay_ms;   /* tests: the worker sleeps this long first */
  gint      cancel;     /* atomic: set by ft_fit_worker_stop */
  gint     *abort;      /* atomic, shared, or NULL: set, the fit stops too (its shadow is being freed) */
  double    cpu_s;      /* the worker's CPU seconds, once it has ended */
} FtFitWorker;

void     ft_fit_worker_start     (FtFitWorker *w, const char *name, gboolean threaded,
                                  gpointer (*fn) (gpointer data), gpointer data);
gboolean ft_fit_worker_cancelled (FtFitWorker *w);
/* Waits for a threaded fit; adds the wall seconds waited to *wait_s and
 * the worker's CPU to *worker_s (an inline fit's CPU is the caller's). */
void     ft_fit_worker_join      (FtFitWorker *w, double *wait_s, double *worker_s);
/* A fit whose result will not be taken: it stops at its next step. */
void     ft_fit_worker_stop      (FtFitWorker *w);

typedef struct _FtMaintShadow FtMaintShadow;

/* Listens on log (borrowed, must outlive it) from now on, and takes the
 * events still pending in it (those appended before, not yet drained).
 * store may be NULL (versions numbered locally, nothing stored). t0: the
 * start of the caller's clock. */
FtMaintShadow *ft_maint_shadow_new       (const FtMaintShadowConfig *cfg, FtEventLog *log, FtStore *store,
                                          FtTime t0, GError **error);
void           ft_maint_shadow_free      (FtMaintShadow *ms);
/* For an owner that listens on the log itself (the forecast shadow: one
 * call per event for both): the shadow's own listener stops, and the
 * owner hands the log every event of FT_MAINT_LOG_KINDS through
 * ft_maint_log_listener (ev, log) with the log this returns (borrowed). */
FtMaintLog    *ft_maint_shadow_take_listener (FtMaintShadow *ms);
/* Does what is due at `now`; a store error is returned, a model that
 * fails to fit is logged (debug when there is no fault yet) and the
 * champion stays. */
gboolean       ft_maint_shadow_tick      (FtMaintShadow *ms, FtTime now, GError **error);
FtTime         ft_maint_shadow_next_tick (const FtMaintShadow *ms);
void           ft_maint_shadow_scores    (const FtMaintShadow *ms, FtMaintShadowScores *out);
/* "Risk per vehicle now" (what Phase 3 reads): the vehicle's risk at the
 * last tick; FALSE before the first prediction, for a vehicle not in
 * service then (faulted, unseen) or unknown. */
gboolean       ft_maint_shadow_risk      (const FtMaintShadow *ms, guint vehicle, FtMaintRisk *out);
/* The n highest-risk vehicles of the last tick by the short horizon
 * (ties by vehicle), into out[n]; returns how many were written. */
guint          ft_maint_shadow_top       (const FtMaintShadow *ms, guint n, FtMaintRisk *out);
const FtMaintShadowConfig *ft_maint_shadow_get_config (const FtMaintShadow *ms);
void           ft_maint_shadow_cost      (const FtMaintShadow *ms, FtShadowCost *out);
/* A flag its fits' workers also stop on (atomic; borrowed, must outlive
 * the shadow): the forecast shadow's, set when it is freed, so a
 * consumer thread joining a fit (ft_shadow_start_async) stops promptly. */
void           ft_maint_shadow_set_abort (FtMaintShadow *ms, gint *flag);
/* Whether ticks read the CPU clock for ft_maint_shadow_cost (off by
 * default; ft_shadow_measure_cost sets it). */
void           ft_maint_shadow_measure_cost (FtMaintShadow *ms, gboolean on);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (FtMaintShadow, ft_maint_shadow_free)

G_END_DECLS
