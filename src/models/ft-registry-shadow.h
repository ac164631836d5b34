/* ft-registry-shadow.h — shadow mode: models running beside the twin on
 * what its event log shows, their predictions stored and scored, nothing
 * acting on them. The same object runs in the simulator (virtual time) and
 * in live mode (wall time): the caller gives it the event log, the zones
 * and, optionally, a store, and calls ft_shadow_tick as time passes.
 *
 * At each tick (every cadence minutes): predictions whose target hour has
 * passed get their actual (requests counted from the log, see
 * ft-registry.h) and are scored, model and baseline alike; the first fit
 * waits for first_fit_days of history; a candidate is retrained on a
 * schedule (every retrain_days, on the last training_days) or on drift
 * (on the last drift_train_days), evaluated on the last holdout_hours
 * (held back from its training) against the champion on the same hours,
 * and promoted only when its RMSE is lower by min_gain; the decision and
 * its numbers go to the store (model_decisions) and the log
 * (FT_EV_MODEL_DECISION). Drift is checked at every tick, the last 24 h
 * against the week before them (once two days are there): PSI of the
 * input "zone" (each zone's share of the requests), and KS of the served
 * forecast's daily residual per zone (sum of actual - predicted at lead 1
 * over the day, divided by the square root of the predicted sum: about
 * N(0, 1) when the model is right) over the last 24 h against the seven
 * days before (see ft-drift.h for the levels); a level change is an
 * FT_EV_MODEL_DRIFT event, and the act level triggers a retrain once
 * holdout_hours have passed since (they are its held-back window: the
 * candidate learns up to the change and is judged on what came after),
 * at most one per 24 h.
 *
 * The baseline the model is scored against is the historical mean by zone
 * and hour of week, refitted with each scheduled fit only (not on drift).
 *
 * The next 15 minutes (quarter_hour): at each tick, the quarter hour that
 * starts at or after it is forecast as the champion's forecast of its hour
 * times the zone's within-hour profile (its share of the hour's requests
 * in that quarter over the training window, with one request's worth of
 * even prior per quarter, refitted with each scheduled fit), stored as
 * horizon 0 with target_t the quarter's start, filled and scored when the
 * quarter has passed, against the baseline's hour split evenly.
 */
#pragma once

#include "ft-registry.h"
#include "ft-drift.h"
#include "ft-maint-shadow.h"
#include "ft-shadow-async.h"

G_BEGIN_DECLS

#define FT_SHADOW_MAX_HORIZONS 8

typedef struct {
  gboolean       forecast;            /* run the demand forecast (FALSE: shadow does nothing) */
  FtForecastKind kind;                /* FT_FORECAST_GLM */
  double         cadence_min;         /* 60 */
  guint          horizons[FT_SHADOW_MAX_HORIZONS];   /* leads stored, hours: 1, 3, 6, 24 */
  guint          n_horizons;
  gboolean       quarter_hour;        /* TRUE: also the next 15 minutes (stored as horizon 0):
                                       * the hourly forecast split by the zone's
                                       * within-hour profile */
  double         training_days;       /* 7 */
  double         first_fit_days;      /* 3 */
  double         retrain_days;        /* 7; 0: only on drift */
  double         drift_train_days;    /* 3 */
  guint          holdout_hours;       /* 12 */
  double         min_gain;            /* 0.02 */
  gboolean       retrain_on_drift;    /* TRUE */
  /* Fits run on a worker thread from a copy of the series; the result
   * (the decision, the new champion and baseline) is taken at the first
   * tick at or after the fit's start + train_lag_min, the ticking thread
   * waiting there if the fit has not finished (the same results on any
   * machine). 60 (one default cadence); 0: at the tick it starts. */
  double         train_lag_min;
  guint          train_delay_ms;      /* 0; tests: the worker sleeps this long first */
  FtDriftThresholds drift;            /* 0.1 / 0.25 */
  const char    *city;                /* "demo" (copied) */
  FtTime         how_offset;          /* added to times for the hour of week (the
                                       * simulator's 0 is a Monday: 4 days) */
  FtForecastParams params;
  FtMaintShadowConfig maint;          /* predictive maintenance (maint.enabled
                                       * FALSE: off); its city is the shadow's */
} FtShadowConfig;

void     ft_shadow_config_init  (FtShadowConfig *c);
/* Refuses out-of-range values, naming the key. */
gboolean ft_shadow_config_check (const FtShadowConfig *c, GError **error);

typedef struct {
  gboolean enabled;
  char     model[32];          /* kind of the champion, "" before the first fit */
  gint64   champion;           /* its version (store id, or a local number without a store) */
  guint64  predictions;        /* issued */
  guint64  scored;             /* with an actual */
  double   rmse, mae;          /* over the scored ones, every horizon */
  double   base_rmse, base_mae;
  /* the next 15 minutes (quarter_hour): the hourly forecast times the
   * zone's share of the hour in that quarter, against the historical mean
   * split evenly; NAN before one is scored */
  guint64  scored_15min;
  double   rmse_15min, mae_15min, base_rmse_15min, base_mae_15min;
  guint    fits, retrains, promotions, drift_warnings, drift_actions;
  double   last_psi, last_ks_d, last_ks_p;
} FtShadowScores;

typedef struct _FtShadow FtShadow;

/* zoning and config are copied; log and store are borrowed and must
 * outlive the shadow (store may be NULL: versions are kept in memory and
 * numbered locally). t0: start of hour 0 in the caller's clock (whole
 * hour). With a store the zoning and the city are recorded in its meta
 * (models.zoning, models.city). */
FtShadow *ft_shadow_new        (const FtShadowConfig *cfg, const FtZoning *zoning, FtEventLog *log,
                                FtStore *store, FtTime t0, GError **error);
void      ft_shadow_free       (FtShadow *sh);
/* Does what is due at `now` (nothing before the next cadence point). A
 * store error is returned; a model that fails to fit is logged as a
 * warning and the champion stays. */
gboolean  ft_shadow_tick       (FtShadow *sh, FtTime now, GError **error);
/* The earlier of the forecast's and the maintenance model's next tick. */
FtTime    ft_shadow_next_tick  (const FtShadow *sh);
/* The maintenance shadow (ft-maint-shadow.h), NULL when it is off. */
FtMaintShadow *ft_shadow_get_maint (const FtShadow *sh);
void      ft_shadow_scores     (const FtShadow *sh, FtShadowScores *out);
/* Whether the ticks read the thread's CPU clock to count what each part
 * costs (off by default: a clock read is a system call, and the reads cost
 * a tenth of what they measure). On or off, the shadow models compute the
 * same. */
void      ft_shadow_measure_cost (FtShadow *sh, gboolean on);
/* What the forecast and the maintenance model have cost the ticking
 * thread so far (FtShadowCost, ft-maint-shadow.h; the seconds only while
 * measured, ft_shadow_measure_cost); maint is zeroed when that is off.
 * Either may be NULL. */
void      ft_shadow_cost       (const FtShadow *sh, FtShadowCost *forecast, FtShadowCost *maint);
/* Daily scores by the target hour's day (day 0 holds hours 0..23). */
guint     ft_shadow_n_days     (const FtShadow *sh);
gboolean  ft_shadow_day_score  (const FtShadow *sh, guint day, double *rmse, double *base_rmse,
                                guint64 *n);
/* Forecast against actual for the app (lead-1 forecasts, requests per
 * zone): sums per zone (pred and actual, n_zones of the zoning each) over
 * the last `hours` scored hours. Returns the hours covered, 0 when nothing
 * is scored yet. */
guint     ft_shadow_zone_recent (const FtShadow *sh, guint hours, double *pred, double *actual);
/* The same hour by hour for one zone: pred and actual hold `hours` values,
 * oldest first, ending at the last scored hour (NaN where nothing was
 * scored). Returns the index of the last scored hour + 1, 0 when none. */
guint     ft_shadow_zone_hours  (const FtShadow *sh, guint zone, guint hours, double *pred, double *actual);
guint     ft_shadow_n_zones     (const FtShadow *sh);
/* What Phase 3 acts on. The champion's latest forecast of the requests in
 * zone z during the hour that contains t (the caller's clock): FALSE before
 * the first forecast, or when that hour is before the forecast's origin or
 * beyond its longest horizon. A tick computes only the leads it stores;
 * the first call for another computes the rest of that forecast (the
 * same values a tick would have), hence the non-const shadow. */
gboolean  ft_shadow_forecast   (FtShadow *sh, guint z, FtTime t, double *requests);
/* Requests counted from the log in zone z during the hour that contains t,
 * FALSE when that hour is not yet complete or before t0. */
gboolean  ft_shadow_observed   (const FtShadow *sh, guint z, FtTime t, FtTime now, double *requests);

/* Asynchronous serving (ft-shadow-async.h). From this call on, the
 * shadow's listeners and ticks run on one consumer thread of its own: the
 * calling thread (the one that appends to the log and ticks) only copies
 * the events the shadow reads into blocks, and ft_shadow_tick puts a tick
 * marker into the stream; the consumer applies both in stream order, so
 * every prediction, score, decision and stored row is the inline path's.
 * The fit workers are the consumer's (it ticks them). Call it before the
 * first tick, on the thread that will tick; only a caller that never acts
 * on the models should (the simulator without act_on_forecast; live mode
 * and the app stay inline). FALSE (nothing changed) when there is
 * nothing to serve or no thread to be had.
 *
 * In async mode:
 * - the shadow's own events (FT_EV_MODEL_DECISION, FT_EV_MODEL_DRIFT) do
 *   not enter the log at the tick that made them: ft_shadow_tick first
 *   waits for the consumer to finish the tick before (usually done) and
 *   appends that tick's events stamped with its own `now`, before its
 *   marker; those of the last ticks are appended by ft_shadow_publish
 *   (the simulator: at the run's end). Their seq and t are therefore one
 *   tick later than inline; nothing else changes.
 * - every reader below (scores, costs, day scores, zone series, forecast,
 *   observed, the maintenance shadow through ft_shadow_get_maint) first
 *   waits until the consumer has applied what was handed to it; call them
 *   on the ticking thread (or while it is stopped).
 * - a tick that fails stops the shadow: the error (naming the tick's
 *   time) is returned by the next ft_shadow_tick or ft_shadow_sync, once;
 *   after it the shadow ticks no more (ft_shadow_next_tick: G_MAXINT64).
 * - with a store, the consumer holds a lock around each tick (its store
 *   writes); the caller's own writes to the same store (the simulator's
 *   group commits) go between ft_shadow_lock_store and _unlock (no-ops
 *   inline), so no two transactions interleave.
 * - ft_shadow_free stops the fit workers at their next step (one the
 *   consumer is joining included: nothing of it is taken), then the
 *   consumer after its current block (the queued rest is dropped). */
gboolean  ft_shadow_start_async (FtShadow *sh, guint consumer_delay_us);
gboolean  ft_shadow_is_async   (const FtShadow *sh);
/* Waits until the consumer has applied everything handed to it; FALSE
 * with its error when it failed (once). TRUE at once inline. */
gboolean  ft_shadow_sync       (FtShadow *sh, GError **error);
/* ft_shadow_sync, then the shadow's events not yet in the log are
 * appended, stamped now (async only). */
gboolean  ft_shadow_publish    (FtShadow *sh, FtTime now, GError **error);
void      ft_shadow_lock_store   (FtShadow *sh);
void      ft_shadow_unlock_store (FtShadow *sh);
/* The consumer thread's CPU seconds and the ticking thread's waits for it;
 * FALSE (zeroed) inline. */
gboolean  ft_shadow_consumer_cost (const FtShadow *sh, FtShadowAsyncCost *out);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (FtShadow, ft_shadow_free)

G_END_DECLS
