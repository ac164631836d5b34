/* ft-registry-shadow.c — shadow mode (see the header): requests counted
 * per zone and hour from the event log, the champion and the baseline
 * predicting at each cadence point, actuals filled in and scored, drift
 * measured, candidates retrained, evaluated and promoted or not.
 */
#include "ft-config.h"
#include "ft-registry-shadow.h"
#include "ft-fleet.h"
#include "ft-forecast-private.h"
#include "ft-shadow-async.h"

#include <math.h>
#include <string.h>

#define DRIFT_COOLDOWN_H 24
#define REFERENCE_H (7 * 24)     /* drift: the last day against the week before it */
#define REFERENCE_MIN_H 48
/* The hours before the origin a tick's series holds (window_of): what the
 * drift check (the last day and the week before it) and the forecasters'
 * features (lags up to 168 h, the zone's and the city's last 24 h) read,
 * so the drift statistics and the predictions are those of the whole
 * history (tests/models/test-registry holds them to it), at a constant
 * cost per tick instead of one that grows with the run. */
#define WINDOW_H (REFERENCE_H + 24)
#define WS_RING REFERENCE_H      /* a window's sums are read for 7 days */

typedef struct {
  guint  z, target_h, lead;
  guint  seq;           /* the forecast it is of (predict's count) */
  double pred, base;
} Pending;

typedef struct {
  guint  h, z;
  double pred, y;
} Resid;

typedef struct {
  double se, base_se;
  guint64 n;
} DayScore;

typedef struct {
  guint  z, q;          /* zone, quarter hour since t0 */
  FtTime issued;
  double pred, base;
} Quarter;

#define FT_QUARTER (15 * FT_MINUTE)

typedef struct _FitJob FitJob;
static void fit_job_free (FitJob *j);

struct _FtShadow {
  FtShadowConfig cfg;
  char          *city;
  FtZoning      *zoning;
  FtEventLog    *log;
  guint          listener;
  FtStore       *store;
  FtTime         t0;
  GArray        *count;        /* double [h * Z + z] */
  GArray        *count15;      /* double [q * Z + z]: the same by quarter hour */
  double        *qshare;       /* [z * 4 + i]: within-hour profile, NULL before the first fit */
  GArray        *pending15;    /* Quarter */
  guint          last_q;       /* quarter last forecast (G_MAXUINT: none) */
  double         se15, ae15, base_se15, base_ae15;
  guint          n_hours;      /* hours held in count */
  FtTime         next_tick;
  FtForecaster  *champion;
  gint64         champion_id;
  FtForecaster  *baseline;     /* historical mean, scheduled fits only */
  guint          last_fit_h, last_drift_fit_h;
  guint          drift_at;     /* hour drift acted, a retrain pending (0: none) */
  guint          last_origin;
  guint          filled_to;    /* hours below this have their actuals filled */
  /* Pending per stored horizon, in issue order from pending_head: the
   * due ones are a prefix of each, scored in issue order (forecast,
   * horizon, zone) as one list of them all was */
  GArray        *pending[FT_SHADOW_MAX_HORIZONS];
  guint          pending_head[FT_SHADOW_MAX_HORIZONS];
  guint          pending_seq;  /* forecasts issued */
  GArray        *recent;       /* Resid: lead-1 predictions with their actuals */
  FtDriftLevel   logged[2];
  GArray        *days;         /* DayScore */
  double         se, ae, base_se, base_ae;
  FtShadowScores sc;
  gint64         local_ids;
  FtMaintShadow *maint;        /* predictive maintenance, or NULL */
  FtMaintLog    *mlog;         /* its log, fed by on_event_both (borrowed), or NULL */
  double        *latest;       /* the last forecast: [z * latest_n + k] for hour latest_origin + k */
  double        *latest_base;  /* the baseline's, the same way */
  guint          latest_origin, latest_n;
  /* the leads a tick does not store are NaN in latest until asked for
   * (ft_shadow_forecast computes them then, from the same window) */
  gboolean       latest_partial;
  guint          latest_w0;
  const FtForecaster *latest_model;
  FtShadowCost   cost;         /* the forecast's; the maintenance shadow keeps its own */
  gboolean       measure;      /* read the thread's CPU clock (ft_shadow_measure_cost) */
  /* the drift check's sums of lead-1 residuals per zone over the 24
   * hours before an end hour e, [max (e - 24, 0), e): slot e % WS_RING
   * holds e's (ws_end[slot] == e). The windows of a check are those of
   * the checks 24, 48, ... hours before (the same sums, in the same order) */
  double        *ws_y, *ws_mu;  /* [slot * Z + z] */
  guint         *ws_n;
  double        *ws_v;          /* [slot * Z + k]: the window's residuals (window_residuals), sorted */
  guint         *ws_nv;
  guint         *ws_end;        /* G_MAXUINT: empty */
  /* the drift check's PSI sums per zone: requests of hours [psi_rs,
   * psi_re) and [psi_re, psi_h), moved by the hours since the last check
   * (whole numbers: the sums are exact in any order); psi_ok cleared by a
   * late event */
  double        *psi_ref, *psi_rec;
  guint          psi_rs, psi_re, psi_h;
  gboolean       psi_ok;
  FtDemandSeries *win;         /* what a tick reads (window_of), its storage reused */
  guint          win_w0;       /* its first hour (valid while win_ok) */
  gboolean       win_ok;       /* no count in it changed since it was copied */
  FitJob        *job;          /* a fit under way (NULL: none) */
  /* Asynchronous serving (ft_shadow_start_async): the consumer thread
   * applies the events and ticks; the simulator's thread keeps its own
   * copy of when the next ticks are (a_next_f, a_next_m) */
  FtShadowAsync *async;
  FtTime         a_next_f, a_next_m;
  GMutex         store_lock;   /* the consumer's ticks against the caller's commits */
  gint           abort;        /* atomic: set by ft_shadow_free, every fit stops (FtFitWorker.abort) */
};

/* Before any read of the shadow's state from outside: the consumer has
 * applied everything handed to it (its error, if any, waits for the
 * caller's next tick or sync). */
static inline void
settle (const FtShadow *sh)
{
  if (sh->async)
    ft_shadow_async_sync (sh->async, NULL);
}

/* The thread's CPU time when costs are measured, else 0 (a clock read is
 * a system call: several microseconds each on a virtual machine). */
static inline double
cpu (const FtShadow *sh)
{
  return sh->measure ? ft_shadow_cpu_now () : 0;
}

/* Adds the CPU time since `since` to *part, less the store writes made
 * meanwhile (counted in store_s). */
static void
charge (const FtShadow *sh, FtShadowCost *c, double *part, double since, double store_since)
{
  if (sh->measure)
    *part += ft_shadow_cpu_now () - since - (c->store_s - store_since);
}

void
ft_shadow_config_init (FtShadowConfig *c)
{
  memset (c, 0, sizeof *c);
  c->forecast = FALSE;
  c->kind = FT_FORECAST_GLM;
  c->cadence_min = 60;
  c->horizons[0] = 1;
  c->horizons[1] = 3;
  c->horizons[2] = 6;
  c->horizons[3] = 24;
  c->n_horizons = 4;
  c->quarter_hour = TRUE;
  c->training_days = 7;
  c->first_fit_days = 3;
  c->retrain_days = 7;
  c->drift_train_days = 3;
  c->holdout_hours = 24;
  c->min_gain = 0.02;
  c->retrain_on_drift = TRUE;
  c->train_lag_min = 60;
  ft_drift_thresholds_init (&c->drift);
  c->city = "demo";
  c->how_offset = 0;
  ft_forecast_params_init (&c->params);
  ft_maint_shadow_config_init (&c->maint);
}

gboolean
ft_shadow_config_check (const FtShadowConfig *c, GError **error)
{
  const char *bad = NULL;
  if (!isfinite (c->cadence_min) || c->cadence_min < 1 || c->cadence_min > 24 * 60)
    bad = "cadence_min (1 to 1440)";
  else if (c->n_horizons < 1 || c->n_horizons > FT_SHADOW_MAX_HORIZONS)
    bad = "horizons (1 to 8 of them)";
  else if (!isfinite (c->training_days) || c->training_days < 2 || c->training_days > 366)
    bad = "training_days (2 to 366)";
  else if (!isfinite (c->first_fit_days) || c->first_fit_days < 2 || c->first_fit_days > 366)
    bad = "first_fit_days (2 to 366)";
  else if (!isfinite (c->retrain_days) || c->retrain_days < 0 || c->retrain_days > 366)
    bad = "retrain_days (0 to 366)";
  else if (!isfinite (c->drift_train_days) || c->drift_train_days < 2 || c->drift_train_days > 366)
    bad = "drift_train_days (2 to 366)";
  else if (c->holdout_hours < 1 || c->holdout_hours > 24 * 14)
    bad = "holdout_hours (1 to 336)";
  else if (!isfinite (c->min_gain) || c->min_gain < 0 || c->min_gain >= 1)
    bad = "min_gain (0 to 1)";
  else if (!isfinite (c->train_lag_min) || c->train_lag_min < 0 || c->train_lag_min > 7 * 24 * 60)
    bad = "train_lag_min (0 to 10080)";
  for (guint i = 0; !bad && i < c->n_horizons; i++)
    if (c->horizons[i] < 1 || c->horizons[i] > FT_FORECAST_MAX_HORIZON)
      bad = "horizons (each 1 to 24 hours)";
  if (bad)
    {
      g_set_error (error, FT_REGISTRY_ERROR, FT_REGISTRY_ERROR_INVALID,
                   "shadow mode: %s is out of range", bad);
      return FALSE;
    }
  if (c->maint.enabled && !ft_maint_shadow_config_check (&c->maint, error))
    return FALSE;
  return ft_drift_thresholds_check (&c->drift, error);
}

static guint
max_horizon (const FtShadow *sh)
{
  guint m = 1;
  for (guint i = 0; i < sh->cfg.n_horizons; i++)
    m = MAX (m, sh->cfg.horizons[i]);
  return m;
}

static void
grow (FtShadow *sh, guint hours)
{
  if (hours <= sh->n_hours)
    return;
  g_array_set_size (sh->count, (gsize) hours * sh->zoning->n);   /* zero-filled */
  g_array_set_size (sh->count15, (gsize) hours * 4 * sh->zoning->n);
  sh->n_hours = hours;
}

static void
on_event (const FtEvent *ev, gpointer data)
{
  FtShadow *sh = data;
  /* a request: a reservation, a lost rider, or a trip the twin did not
   * book (live devices report trips the booking module never saw) */
  if (ev->kind != FT_EV_BOOKING_RESERVED && ev->kind != FT_EV_RIDER_LOST
      && !(ev->kind == FT_EV_VEHICLE_STATE && ev->b == FT_STATE_ON_TRIP && ev->ref < 0))
    return;
  if (ev->t < sh->t0)
    return;
  int z = ft_zoning_zone_of (sh->zoning, ev->lat, ev->lon);
  if (z < 0)
    return;
  gint64 h = (ev->t - sh->t0) / FT_HOUR;
  if (h > 24 * 366 * 5)
    return;
  grow (sh, (guint) h + 1);
  if (sh->win && (guint) h < sh->win_w0 + sh->win->n_hours)
    sh->win_ok = FALSE;   /* a late event (live mode): copy the window afresh */
  if ((guint) h < sh->psi_h)
    sh->psi_ok = FALSE;   /* and sum the drift check's hours afresh */
  g_array_index (sh->count, double, (gsize) h * sh->zoning->n + (guint) z) += 1;
  g_array_index (sh->count15, double, (gsize) ((ev->t - sh->t0) / FT_QUARTER) * sh->zoning->n + (guint) z) += 1;
}

/* Both shadows' listener: the maintenance log's events, then the
 * forecast's (one call per event where two listeners took half the
 * events twice). */
static void
on_event_both (const FtEvent *ev, gpointer data)
{
  FtShadow *sh = data;
  if (FT_MAINT_LOG_KINDS >> ev->kind & 1)
    ft_maint_log_listener (ev, sh->mlog);
  on_event (ev, data);
}

FtShadow *
ft_shadow_new (const FtShadowConfig *cfg, const FtZoning *zoning, FtEventLog *log, FtStore *store,
               FtTime t0, GError **error)
{
  g_return_val_if_fail (cfg != NULL && zoning != NULL && log != NULL, NULL);
  if (!ft_shadow_config_check (cfg, error))
    return NULL;
  if (t0 % FT_HOUR != 0 || (t0 + cfg->how_offset) % FT_HOUR != 0)
    {
      g_set_error (error, FT_REGISTRY_ERROR, FT_REGISTRY_ERROR_INVALID,
                   "shadow mode must start on a whole hour");
      return NULL;
    }
  FtZoning *zcopy = ft_zoning_new (zoning->n, (const char *const *) zoning->ids, zoning->lat,
                                   zoning->lon, error);
  if (!zcopy)
    return NULL;
  zcopy->max_m = zoning->max_m;
  if (store)
    {
      g_autofree char *json = ft_zoning_to_json (zcopy);
      if (!ft_store_put_meta (store, "models.zoning", json, error)
          || !ft_store_put_meta (store, "models.city", cfg->city ? cfg->city : "demo", error))
        {
          ft_zoning_free (zcopy);
          return NULL;
        }
      g_autofree char *off = g_strdup_printf ("%" G_GINT64_FORMAT, cfg->how_offset);
      if (!ft_store_put_meta (store, "models.how_offset", off, error))
        {
          ft_zoning_free (zcopy);
          return NULL;
        }
    }
  FtShadow *sh = g_new0 (FtShadow, 1);
  sh->cfg = *cfg;
  sh->city = g_strdup (cfg->city ? cfg->city : "demo");
  sh->cfg.city = sh->city;
  /* The GLM fits the lead classes of the horizons stored (and of the
   * quarter hour's hour) with the model; the others, which only
   * ft_shadow_forecast may ask for, when first asked (Demo City: 4 of 6
   * classes, a third of the fit). */
  sh->cfg.params.glm_eager_classes = 0;
  for (guint i = 0; i < cfg->n_horizons; i++)
    sh->cfg.params.glm_eager_classes |= 1u << (ft_lead_class (cfg->horizons[i]) - 1);
  if (cfg->quarter_hour)
    sh->cfg.params.glm_eager_classes |= 1u << (ft_lead_class (1) - 1)
                                        | (fmod (cfg->cadence_min, 60) != 0 ? 1u << (ft_lead_class (2) - 1) : 0);
  sh->zoning = zcopy;
  sh->log = log;
  sh->store = store;
  sh->t0 = t0;
  sh->count = g_array_new (FALSE, TRUE, sizeof (double));
  sh->count15 = g_array_new (FALSE, TRUE, sizeof (double));
  sh->pending15 = g_array_new (FALSE, FALSE, sizeof (Quarter));
  sh->last_q = G_MAXUINT;
  for (guint i = 0; i < FT_SHADOW_MAX_HORIZONS; i++)
    sh->pending[i] = g_array_new (FALSE, FALSE, sizeof (Pending));
  sh->recent = g_array_new (FALSE, FALSE, sizeof (Resid));
  sh->days = g_array_new (FALSE, TRUE, sizeof (DayScore));
  g_mutex_init (&sh->store_lock);
  sh->next_tick = t0;
  sh->last_origin = G_MAXUINT;
  sh->sc.enabled = cfg->forecast;
  if (cfg->maint.enabled)
    {
      FtMaintShadowConfig mc = cfg->maint;
      mc.city = sh->city;
      sh->maint = ft_maint_shadow_new (&mc, log, store, t0, error);
      if (sh->maint == NULL)
        {
          ft_shadow_free (sh);
          return NULL;
        }
    }
  guint64 kinds = FT_EV_BIT (FT_EV_BOOKING_RESERVED) | FT_EV_BIT (FT_EV_RIDER_LOST) | FT_EV_BIT (FT_EV_VEHICLE_STATE);
  if (cfg->forecast && sh->maint)
    {
      sh->mlog = ft_maint_shadow_take_listener (sh->maint);
      sh->listener = ft_event_log_add_listener_for (log, kinds | FT_MAINT_LOG_KINDS, on_event_both, sh);
    }
  else if (cfg->forecast)
    sh->listener = ft_event_log_add_listener_for (log, kinds, on_event, sh);
  return sh;
}

void
ft_shadow_free (FtShadow *sh)
{
  if (sh == NULL)
    return;
  /* a fit the consumer may be joining stops at its next step, then the
   * consumer after its block */
  g_atomic_int_set (&sh->abort, 1);
  ft_shadow_async_free (sh->async);
  if (sh->listener)
    ft_event_log_remove_listener (sh->log, sh->listener);
  fit_job_free (sh->job);   /* first: its worker reads the champion */
  ft_zoning_free (sh->zoning);
  g_array_unref (sh->count);
  g_array_unref (sh->count15);
  g_array_unref (sh->pending15);
  g_free (sh->qshare);
  for (guint i = 0; i < FT_SHADOW_MAX_HORIZONS; i++)
    g_array_unref (sh->pending[i]);
  g_array_unref (sh->recent);
  g_array_unref (sh->days);
  ft_forecaster_free (sh->champion);
  ft_forecaster_free (sh->baseline);
  ft_maint_shadow_free (sh->maint);
  g_free (sh->latest);
  g_free (sh->latest_base);
  ft_demand_series_free (sh->win);
  g_free (sh->psi_ref);
  g_free (sh->psi_rec);
  g_free (sh->ws_v);
  g_free (sh->ws_nv);
  g_free (sh->ws_y);
  g_free (sh->ws_mu);
  g_free (sh->ws_n);
  g_free (sh->ws_end);
  g_free (sh->city);
  g_mutex_clear (&sh->store_lock);
  g_free (sh);
}

/* The leads of the latest forecast a tick skipped, from the window it
 * read (still the shadow's: a tick rewrites it only for a new origin,
 * with the same hours for the same one). FALSE when the champion or the
 * window has changed since (not after a tick that forecast). */
static gboolean
fill_latest (FtShadow *sh)
{
  guint Z = sh->zoning->n, n = sh->latest_n;
  if (sh->champion == NULL || sh->champion != sh->latest_model || sh->win == NULL
      || sh->win->n_hours != sh->latest_origin - sh->latest_w0
      || sh->win->t0 != sh->t0 + sh->cfg.how_offset + (FtTime) sh->latest_w0 * FT_HOUR)
    return FALSE;
  g_autofree double *out = g_new (double, (gsize) Z * n);
  g_autoptr(GError) local = NULL;
  if (!ft_forecaster_predict (sh->champion, sh->win, sh->latest_origin - sh->latest_w0, n, out, &local))
    {
      g_warning ("shadow mode: forecast at hour %u failed: %s", sh->latest_origin, local->message);
      return FALSE;
    }
  memcpy (sh->latest, out, sizeof (double) * Z * n);
  sh->latest_partial = FALSE;
  return TRUE;
}

static gboolean forecast_at (FtShadow *sh, guint z, FtTime t, double *requests);

gboolean
ft_shadow_forecast (FtShadow *sh, guint z, FtTime t, double *requests)
{
  g_return_val_if_fail (sh != NULL && requests != NULL, FALSE);
  settle (sh);
  return forecast_at (sh, z, t, requests);
}

/* ft_shadow_forecast on the ticking thread. */
static gboolean
forecast_at (FtShadow *sh, guint z, FtTime t, double *requests)
{
  if (sh->latest == NULL || z >= sh->zoning->n || t < sh->t0)
    return FALSE;
  gint64 h = (t - sh->t0) / FT_HOUR;
  if (h < (gint64) sh->latest_origin || h >= (gint64) sh->latest_origin + sh->latest_n)
    return FALSE;
  gsize at = (gsize) z * sh->latest_n + (guint) (h - sh->latest_origin);
  if (isnan (sh->latest[at]) && sh->latest_partial && !fill_latest (sh))
    return FALSE;
  *requests = sh->latest[at];
  return TRUE;
}

gboolean
ft_shadow_observed (const FtShadow *sh, guint z, FtTime t, FtTime now, double *requests)
{
  g_return_val_if_fail (sh != NULL && requests != NULL, FALSE);
  settle (sh);
  if (z >= sh->zoning->n || t < sh->t0 || now < sh->t0)
    return FALSE;
  gint64 h = (t - sh->t0) / FT_HOUR;
  if (h >= (now - sh->t0) / FT_HOUR)
    return FALSE;    /* not over yet */
  *requests = h < (gint64) sh->n_hours ? g_array_index (sh->count, double, (gsize) h * sh->zoning->n + z) : 0;
  return TRUE;
}

FtTime
ft_shadow_next_tick (const FtShadow *sh)
{
  if (sh->async)
    return ft_shadow_async_stopped (sh->async) ? G_MAXINT64 : MIN (sh->a_next_f, sh->a_next_m);
  FtTime t = sh->cfg.forecast ? sh->next_tick : G_MAXINT64;
  if (sh->maint)
    t = MIN (t, ft_maint_shadow_next_tick (sh->maint));
  return t;
}

FtMaintShadow *
ft_shadow_get_maint (const FtShadow *sh)
{
  g_return_val_if_fail (sh != NULL, NULL);
  settle (sh);   /* the caller reads it next */
  return sh->maint;
}

/* The requests of hours [from, H) as a demand series (zone-major), its
 * clock starting at hour `from`. */
static FtDemandSeries *
series_from (FtShadow *sh, guint from, guint H)
{
  guint Z = sh->zoning->n, n = H - from;
  grow (sh, H);
  g_autofree double *m = g_new (double, (gsize) Z * n);
  const double *c = (const double *) sh->count->data;
  for (guint h = from; h < H; h++)
    for (guint z = 0; z < Z; z++)
      m[(gsize) z * n + (h - from)] = c[(gsize) h * Z + z];
  FtDemandSeries *s = ft_demand_series_new (Z, n, sh->t0 + sh->cfg.how_offset + (FtTime) from * FT_HOUR, m, NULL);
  if (s)
    for (guint z = 0; z < Z; z++)
      {
        g_free (s->zone_ids[z]);
        s->zone_ids[z] = g_strdup (sh->zoning->ids[z]);
      }
  return s;
}

/* The requests of hours [0, H): what a fit reads. */
static FtDemandSeries *
series_of (FtShadow *sh, guint H)
{
  return series_from (sh, 0, H);
}

/* What a tick reads (drift, predictions): the last WINDOW_H hours before
 * H, from hour *w0, in a series the shadow keeps (borrowed; rewritten
 * at the next tick). XGBoost's features sum from the series' start (a
 * window would round them differently): it reads the whole history, in a
 * series returned in *owned. */
static const FtDemandSeries *
window_of (FtShadow *sh, guint H, guint *w0, FtDemandSeries **owned)
{
  *owned = NULL;
  if (sh->cfg.kind == FT_FORECAST_XGB)
    {
      *w0 = 0;
      return *owned = series_from (sh, 0, H);
    }
  guint Z = sh->zoning->n;
  *w0 = H > WINDOW_H ? H - WINDOW_H : 0;
  guint n = H - *w0;
  grow (sh, H);
  if (sh->win == NULL)
    {
      g_autofree double *zero = g_new0 (double, (gsize) Z * WINDOW_H);
      sh->win = ft_demand_series_new (Z, WINDOW_H, 0, zero, NULL);
      for (guint z = 0; z < Z; z++)
        {
          g_free (sh->win->zone_ids[z]);
          sh->win->zone_ids[z] = g_strdup (sh->zoning->ids[z]);
        }
    }
  /* counts are whole numbers >= 0 by construction: nothing to check */
  FtDemandSeries *s = sh->win;
  const double *c = (const double *) sh->count->data;
  /* The window of the tick before, as long as the same length, is this
   * one moved by the hours since: those are moved, the new ones copied
   * (counts of past hours change only with a late event, which clears
   * win_ok) */
  guint keep = sh->win_ok && s->n_hours == n && *w0 >= sh->win_w0 && *w0 - sh->win_w0 < n ? n - (*w0 - sh->win_w0) : 0;
  if (keep > 0 && keep < n)
    for (guint z = 0; z < Z; z++)
      memmove (s->count + (gsize) z * n, s->count + (gsize) z * n + (n - keep), sizeof (double) * keep);
  /* The window of the first week grows from the same first hour: each
   * zone's hours move to the longer rows (the last zone first), and only
   * the new hours are copied */
  if (sh->win_ok && *w0 == sh->win_w0 && s->n_hours < n && s->n_hours > 0)
    {
      keep = s->n_hours;
      for (guint z = Z; z-- > 1;)
        memmove (s->count + (gsize) z * n, s->count + (gsize) z * keep, sizeof (double) * keep);
    }
  s->n_hours = n;
  s->t0 = sh->t0 + sh->cfg.how_offset + (FtTime) *w0 * FT_HOUR;
  for (guint h = keep; h < n; h++)
    for (guint z = 0; z < Z; z++)
      s->count[(gsize) z * n + h] = c[(gsize) (*w0 + h) * Z + z];
  sh->win_w0 = *w0;
  sh->win_ok = TRUE;
  return s;
}

static gint64
next_local_id (FtShadow *sh)
{
  return ++sh->local_ids;
}

static void
log_event (FtShadow *sh, FtEventKind kind, FtTime now, gint64 ref, gint32 a, gint64 b, double amount)
{
  FtEvent ev = ft_event_init (kind, now);
  ev.ref = ref;
  ev.a = a;
  ev.b = b;
  ev.amount = isfinite (amount) ? (gint64) llround (CLAMP (amount, -1e12, 1e12) * 1e4) : -1;
  if (sh->async)
    ft_shadow_async_emit (sh->async, &ev);   /* the simulator's thread appends it at its next tick */
  else
    ft_event_log_append (sh->log, &ev);
}

static char *
metrics_json (const char *reason, double rmse, double mae, double champ_rmse, double mean_rmse, guint n)
{
  char a[G_ASCII_DTOSTR_BUF_SIZE], b[G_ASCII_DTOSTR_BUF_SIZE], c[G_ASCII_DTOSTR_BUF_SIZE];
  char d[G_ASCII_DTOSTR_BUF_SIZE];
  return g_strdup_printf ("{\"reason\": \"%s\", \"holdout_rmse\": %s, \"holdout_mae\": %s, "
                          "\"champion_holdout_rmse\": %s, \"baseline_holdout_rmse\": %s, "
                          "\"holdout_zone_hours\": %u}", reason,
                          isfinite (rmse) ? g_ascii_formatd (a, sizeof a, "%.6g", rmse) : "null",
                          isfinite (mae) ? g_ascii_formatd (b, sizeof b, "%.6g", mae) : "null",
                          isfinite (champ_rmse) ? g_ascii_formatd (c, sizeof c, "%.6g", champ_rmse) : "null",
                          isfinite (mean_rmse) ? g_ascii_formatd (d, sizeof d, "%.6g", mean_rmse) : "null", n);
}

/* A fit under way on a worker thread. Its input is its own: the series
 * of every hour so far, copied at its start (the shadow goes on counting
 * in its own); the champion it starts from and is judged against stays
 * the shadow's, which nothing replaces before the job is taken (the
 * GLM's lazily fitted lead classes are locked: ft-forecast-glm.c). */
struct _FitJob {
  /* in */
  FtDemandSeries *s;           /* hours [0, H) */
  guint          H, hold, win, eval_h;
  const char    *reason;       /* "initial", "schedule" or "drift" (static) */
  FtForecastKind kind;
  FtForecastParams params;
  double         min_gain;     /* a candidate's promotion bar */
  const FtForecaster *champion;   /* borrowed, NULL for the first fit */
  gboolean       baseline_due; /* refit the baseline on the last base_win hours */
  guint          base_win;
  double        *qshare;       /* the within-hour profiles, computed at the start (or NULL) */
  gboolean       skip_model;   /* too few hours to hold some back: the baseline only */
  gboolean       save_all;     /* a store is attached: fit every lead class (the blob holds them) */
  FtTime         join_at;
  /* out */
  FtForecaster  *cand, *baseline;
  char          *warning;      /* logged at the join; cand NULL then */
  double         c_rmse, c_mae, k_rmse, m_rmse;
  guint          n, fits, fs, fe, ts, hs, iters;
  gboolean       promote;
  FtFitWorker    worker;
};

/* ft_shadow_free (or ft_maint_shadow_free) is waiting: the result will
 * not be taken, the worker skips what is left. */
static gboolean
cancelled (FitJob *j)
{
  return ft_fit_worker_cancelled (&j->worker);
}

static void
fit_job_free (FitJob *j)
{
  if (j == NULL)
    return;
  ft_fit_worker_stop (&j->worker);   /* a run stopped mid-fit */
  ft_demand_series_free (j->s);
  g_free (j->qshare);
  ft_forecaster_free (j->cand);
  ft_forecaster_free (j->baseline);
  g_free (j->warning);
  g_free (j);
}
G_DEFINE_AUTOPTR_CLEANUP_FUNC (FitJob, fit_job_free)

/* The worker's part, reading only the job: train a candidate on win hours
 * before the held-back window, score it and the champion on that window
 * (and the historical mean, for the record), and, when it wins (or is
 * the first), refit it on the whole window. */
static void
fit_model (FitJob *j)
{
  const FtDemandSeries *s = j->s;
  guint H = j->H, he = H, hs = H - j->hold, ts = hs > j->win ? hs - j->win : 0;
  j->hs = hs;
  j->ts = ts;
  g_autoptr(FtForecaster) cand = ft_forecaster_new (j->kind, &j->params);
  g_autoptr(GError) local = NULL;
  double c_rmse = NAN, c_mae = NAN, k_rmse = INFINITY, k_mae = NAN;
  guint n = 0;
  /* The first fit has no champion to beat: it is promoted whatever its
   * held-back score, so it is fitted once, on the whole window, and its
   * record has no held-back score (null): the hours after it score it.
   * Fitting it first without the held-back hours only to record a score
   * cost as much as the fit itself (Demo City: half the forecast's
   * training CPU over 14 days). */
  gboolean initial = j->champion == NULL;
  if (!initial)
    {
      j->fits++;
      /* from the champion's fit: the same optimum in fewer iterations */
      if (!ft_forecaster_fit_warm (cand, j->champion, s, ts, hs, &local)
          || !ft_registry_evaluate (cand, s, hs, he, j->eval_h, 1, &c_rmse, &c_mae, &n, &local))
        {
          j->warning = g_strdup_printf ("shadow mode: %s retrain of the %s forecast failed: %s", j->reason,
                                        ft_forecast_kind_name (j->kind), local->message);
          return;
        }
      j->iters += ft_forecaster_get_fit_iterations (cand);
      if (cancelled (j))
        return;
      /* the champion predicts every lead here: a lead class it left out
       * is fitted now (under its lock) */
      if (!ft_registry_evaluate ((FtForecaster *) j->champion, s, hs, he, j->eval_h, 1, &k_rmse, &k_mae, NULL,
                                 &local))
        {
          g_warning ("shadow mode: scoring the champion failed: %s", local->message);
          g_clear_error (&local);
          k_rmse = INFINITY;
        }
    }
  gboolean promote = initial || c_rmse < k_rmse * (1.0 - j->min_gain);
  /* Chosen: refit on the whole window up to now, the held-back hours
   * included, as the baseline is fitted. A model fitted without its last
   * day forecast a week without one weekday in its mean (Demo City's
   * first fit: no Sunday), and fits short of whole weeks misread the
   * weekly cycle. The held-back score above stays the one of record. */
  guint fs = ts, fe = hs;
  if (cancelled (j))
    return;
  if (promote)
    {
      fs = H > j->win ? H - j->win : 0;
      g_autoptr(FtForecaster) full = ft_forecaster_new (j->kind, &j->params);
      g_autoptr(GError) refit_error = NULL;
      j->fits++;
      if (ft_forecaster_fit_warm (full, initial ? NULL : cand, s, fs, he, &refit_error))
        {
          j->iters += ft_forecaster_get_fit_iterations (full);
          ft_forecaster_free (cand);
          cand = g_steal_pointer (&full);
          fe = he;
        }
      else if (initial)
        {
          j->warning = g_strdup_printf ("shadow mode: %s fit of the %s forecast on hours [%u, %u) failed: %s",
                                        j->reason, ft_forecast_kind_name (j->kind), fs, he, refit_error->message);
          return;
        }
      else
        {
          g_warning ("shadow mode: refitting the chosen %s forecast on hours [%u, %u) failed: %s",
                     ft_forecast_kind_name (j->kind), fs, he, refit_error->message);
          fs = ts;
        }
    }
  /* the historical mean on the same window, for the record */
  g_autoptr(FtForecaster) mm = ft_forecaster_new (FT_FORECAST_MEAN, &j->params);
  double m_rmse = NAN, m_mae = NAN;
  if (!initial && ft_forecaster_fit (mm, s, ts, hs, NULL))
    ft_registry_evaluate (mm, s, hs, he, j->eval_h, 1, &m_rmse, &m_mae, NULL, NULL);
  if (j->save_all)
    {
      /* the store saves every lead class: fitted here, not at the join */
      g_autoptr(GBytes) blob = ft_forecaster_save (cand, NULL);
    }
  j->c_rmse = c_rmse;
  j->c_mae = c_mae;
  j->k_rmse = k_rmse;
  j->m_rmse = m_rmse;
  j->n = n;
  j->fs = fs;
  j->fe = fe;
  j->promote = promote;
  j->cand = g_steal_pointer (&cand);
}

static gpointer
fit_job_run (gpointer data)
{
  FitJob *j = data;
  if (j->baseline_due)
    {
      FtForecaster *b = ft_forecaster_new (FT_FORECAST_MEAN, &j->params);
      if (ft_forecaster_fit (b, j->s, j->H > j->base_win ? j->H - j->base_win : 0, j->H, NULL))
        j->baseline = b;
      else
        ft_forecaster_free (b);
    }
  if (!j->skip_model && !cancelled (j))
    fit_model (j);
  return NULL;
}

/* Takes the finished fit (waiting for it if need be): the new baseline,
 * the decision (stored, logged, and the candidate promoted when it won).
 * FALSE only on a store error. */
static gboolean
finish_fit (FtShadow *sh, FtTime now, GError **error)
{
  g_autoptr(FitJob) j = g_steal_pointer (&sh->job);
  ft_fit_worker_join (&j->worker, &sh->cost.train_wait_s, &sh->cost.train_worker_s);
  if (ft_fit_worker_cancelled (&j->worker))
    return TRUE;   /* the shadow is being freed: nothing is taken */
  sh->sc.fits += j->fits;
  sh->cost.fit_iterations += j->iters;
  if (j->baseline_due)
    {
      if (j->qshare)
        {
          g_free (sh->qshare);
          sh->qshare = g_steal_pointer (&j->qshare);
        }
      if (j->baseline)
        {
          ft_forecaster_free (sh->baseline);
          sh->baseline = g_steal_pointer (&j->baseline);
        }
    }
  if (j->cand == NULL)
    {
      if (j->warning)
        g_warning ("%s", j->warning);
      return TRUE;   /* no model fitted (too few hours, or failed) */
    }
  gboolean initial = j->champion == NULL, promote = j->promote;
  double c_rmse = j->c_rmse, k_rmse = j->k_rmse, m_rmse = j->m_rmse;
  const char *reason = j->reason;
  gint64 id = 0;
  g_autofree char *metrics = metrics_json (reason, c_rmse, j->c_mae, k_rmse, m_rmse, j->n);
  if (sh->store)
    {
      FtRegistryEntry e = {
        .city = sh->city, .created = now,
        .train_start = sh->t0 + (FtTime) j->fs * FT_HOUR,
        .train_end = sh->t0 + (FtTime) j->fe * FT_HOUR,
        .zoning = sh->zoning, .metrics_json = metrics, .status = "candidate",
      };
      double c0 = cpu (sh);
      id = ft_registry_put_forecast (sh->store, j->cand, &e, error);
      if (id == 0)
        {
          sh->cost.store_s += cpu (sh) - c0;
          return FALSE;
        }
      FtStoreDecision d = {
        .t = now, .kind = ft_model_kind_name (ft_model_kind_for_forecast (sh->cfg.kind)),
        .city = sh->city, .champion = sh->champion_id, .candidate = id,
        .champion_score = k_rmse, .candidate_score = c_rmse, .promoted = promote, .reason = reason,
      };
      gboolean ok = ft_store_decision_put (sh->store, &d, error)
                    && (!promote || ft_registry_promote (sh->store, id, error));
      sh->cost.store_s += cpu (sh) - c0;
      if (!ok)
        return FALSE;
    }
  else
    id = next_local_id (sh);
  g_debug ("shadow %s retrain at hour %u on [%u, %u), taken at %" G_GINT64_FORMAT " ms: candidate %.3f, "
           "champion %.3f, mean %.3f -> %s (%u fits, %u IRLS iterations, worker CPU %.3f s)", reason, j->H,
           initial ? j->fs : j->ts, initial ? j->fe : j->hs, now, c_rmse, k_rmse, m_rmse,
           promote ? "promoted" : "kept", j->fits, j->iters, j->worker.cpu_s);
  log_event (sh, FT_EV_MODEL_DECISION, now, id, promote, sh->champion_id,
             isfinite (k_rmse) && k_rmse > 0 ? c_rmse / k_rmse : 0);
  if (g_strcmp0 (reason, "initial") != 0)
    sh->sc.retrains++;
  if (!promote)
    return TRUE;
  sh->sc.promotions++;
  ft_forecaster_free (sh->champion);
  sh->champion = g_steal_pointer (&j->cand);
  sh->champion_id = id;
  sh->sc.champion = id;
  g_strlcpy (sh->sc.model, ft_model_kind_name (ft_model_kind_for_forecast (sh->cfg.kind)),
             sizeof sh->sc.model);
  return TRUE;
}

/* The zones' within-hour profiles over hours [from, H): [z * 4 + i]. */
static double *
profile_of (FtShadow *sh, guint from, guint H)
{
  guint Z = sh->zoning->n;
  double *qshare = g_new (double, (gsize) Z * 4);
  for (guint z = 0; z < Z; z++)
    {
      double n[4] = { 0 }, tot = 0;
      for (guint h = from; h < H; h++)
        for (guint i = 0; i < 4; i++)
          {
            double c = g_array_index (sh->count15, double, ((gsize) h * 4 + i) * Z + z);
            n[i] += c;
            tot += c;
          }
      for (guint i = 0; i < 4; i++)
        qshare[z * 4 + i] = (n[i] + 0.25) / (tot + 1.0);
    }
  return qshare;
}

static gboolean
score_due (FtShadow *sh, guint H, GError **error)
{
  guint Z = sh->zoning->n, nh = sh->cfg.n_horizons;
  for (;;)
    {
      /* the earliest forecast's block (Z predictions of one horizon)
       * that is due, the first horizon on a tie */
      guint best = G_MAXUINT, best_seq = 0;
      for (guint i = 0; i < nh; i++)
        {
          GArray *q = sh->pending[i];
          if (sh->pending_head[i] >= q->len)
            continue;
          const Pending *p = &g_array_index (q, Pending, sh->pending_head[i]);
          if (p->target_h < H && (best == G_MAXUINT || p->seq < best_seq))
            {
              best = i;
              best_seq = p->seq;
            }
        }
      if (best == G_MAXUINT)
        break;
      GArray *q = sh->pending[best];
      const Pending *ps = (const Pending *) q->data;
      guint i = sh->pending_head[best], end = i;
      while (end < q->len && ps[end].seq == best_seq)
        end++;
      Resid *res = NULL;
      if (ps[i].lead == 1)
        {
          guint at = sh->recent->len;
          g_array_set_size (sh->recent, at + (end - i));
          res = (Resid *) sh->recent->data + at;
        }
      guint day = ps[i].target_h / 24;
      if (day >= sh->days->len)
        g_array_set_size (sh->days, day + 1);
      DayScore *d = &g_array_index (sh->days, DayScore, day);
      for (; i < end; i++)
        {
          const Pending *p = &ps[i];
          double y = g_array_index (sh->count, double, (gsize) p->target_h * Z + p->z);
          double e = p->pred - y, eb = p->base - y;
          sh->se += e * e;
          sh->ae += fabs (e);
          sh->base_se += eb * eb;
          sh->base_ae += fabs (eb);
          sh->sc.scored++;
          d->se += e * e;
          d->base_se += eb * eb;
          d->n++;
          if (res)
            *res++ = (Resid) { p->target_h, p->z, p->pred, y };
        }
      sh->pending_head[best] = end;
      /* what was scored leaves in batches (moving what stays costs) */
      if (end >= q->len / 2)
        {
          g_array_remove_range (q, 0, end);
          sh->pending_head[best] = 0;
        }
    }
  /* residuals older than the drift windows leave */
  guint drop = 0;
  while (drop < sh->recent->len && g_array_index (sh->recent, Resid, drop).h + 24 + REFERENCE_H < H)
    drop++;
  if (drop)
    g_array_remove_range (sh->recent, 0, drop);
  if (sh->store && sh->filled_to < H && sh->sc.predictions > 0)
    {
      guint from = sh->filled_to, n = (H - from) * Z;
      g_autofree const char **targets = g_new (const char *, n);
      g_autofree FtTime *tt = g_new (FtTime, n);
      g_autofree double *y = g_new (double, n);
      guint i = 0;
      for (guint h = from; h < H; h++)
        for (guint z = 0; z < Z; z++, i++)
          {
            targets[i] = sh->zoning->ids[z];
            tt[i] = sh->t0 + (FtTime) h * FT_HOUR;
            y[i] = g_array_index (sh->count, double, (gsize) h * Z + z);
          }
      double c0 = cpu (sh);
      gboolean ok = ft_store_predictions_fill (sh->store, targets, tt, y, n, error);
      sh->cost.store_s += cpu (sh) - c0;
      if (!ok)
        return FALSE;
    }
  sh->filled_to = H;
  return TRUE;
}

/* The lead-1 residuals of hours [lo, hi) summed per zone, in the order
 * they were scored (recent is in hour order): sy, smu and cnt zeroed
 * and filled. */
static void
residual_sums (const FtShadow *sh, guint lo, guint hi, double *sy, double *smu, guint *cnt)
{
  guint Z = sh->zoning->n;
  memset (sy, 0, sizeof (double) * Z);
  memset (smu, 0, sizeof (double) * Z);
  memset (cnt, 0, sizeof (guint) * Z);
  const Resid *r = (const Resid *) sh->recent->data;
  guint i = 0, n = sh->recent->len, top = n;
  while (i < top)
    {
      guint mid = (i + top) / 2;
      if (r[mid].h < lo)
        i = mid + 1;
      else
        top = mid;
    }
  for (; i < n && r[i].h < hi; i++)
    {
      sy[r[i].z] += r[i].y;
      smu[r[i].z] += r[i].pred;
      cnt[r[i].z]++;
    }
}

/* A window's residual per zone (of the zones with 12 or more hours),
 * taken against the window's own city level (see check_drift), into v
 * in ascending order; returns how many. */
static guint
window_residuals (const double *sy, const double *smu, const guint *cnt, guint Z, double *v)
{
  double ty = 0, tm = 0;
  for (guint z = 0; z < Z; z++)
    if (cnt[z] >= 12)
      {
        ty += sy[z];
        tm += smu[z];
      }
  double level = tm > 0 && ty > 0 ? ty / tm : 1.0;
  guint n = 0;
  for (guint z = 0; z < Z; z++)
    if (cnt[z] >= 12)
      {
        double m = level * smu[z];
        double x = (sy[z] - m) / sqrt (MAX (m, 1.0));
        guint at = n++;
        while (at > 0 && v[at - 1] > x)
          {
            v[at] = v[at - 1];
            at--;
          }
        v[at] = x;
      }
  return n;
}

/* The sums of the 24 hours before hour e and their residuals (kept:
 * every residual of them was scored when e came, and none is added
 * later). */
static guint
window_slot (FtShadow *sh, guint e)
{
  guint Z = sh->zoning->n;
  if (sh->ws_end == NULL)
    {
      sh->ws_y = g_new (double, (gsize) WS_RING * Z);
      sh->ws_mu = g_new (double, (gsize) WS_RING * Z);
      sh->ws_n = g_new (guint, (gsize) WS_RING * Z);
      sh->ws_v = g_new (double, (gsize) WS_RING * Z);
      sh->ws_nv = g_new (guint, WS_RING);
      sh->ws_end = g_new (guint, WS_RING);
      for (guint i = 0; i < WS_RING; i++)
        sh->ws_end[i] = G_MAXUINT;
    }
  guint slot = e % WS_RING;
  if (sh->ws_end[slot] != e)
    {
      gsize at = (gsize) slot * Z;
      residual_sums (sh, e > 24 ? e - 24 : 0, e, sh->ws_y + at, sh->ws_mu + at, sh->ws_n + at);
      sh->ws_nv[slot] = window_residuals (sh->ws_y + at, sh->ws_mu + at, sh->ws_n + at, Z, sh->ws_v + at);
      sh->ws_end[slot] = e;
    }
  return slot;
}

/* Merges sorted x[0..nx) and y[0..ny) into out. */
static void
merge_sorted (const double *x, guint nx, const double *y, guint ny, double *out)
{
  guint i = 0, j = 0, k = 0;
  while (i < nx && j < ny)
    out[k++] = y[j] < x[i] ? y[j++] : x[i++];
  while (i < nx)
    out[k++] = x[i++];
  while (j < ny)
    out[k++] = y[j++];
}

/* PSI and KS, the last day against the week before it; returns the
 * highest level and logs level changes. */
static FtDriftLevel
check_drift (FtShadow *sh, const FtDemandSeries *s, guint w0, guint H, FtTime now)
{
  FtDriftLevel worst = FT_DRIFT_NONE;
  guint Z = sh->zoning->n;
  if (H < 24 + REFERENCE_MIN_H)
    return worst;
  guint rs = H - 24 > REFERENCE_H ? H - 24 - REFERENCE_H : 0, re = H - 24;
  g_assert (rs >= w0 && w0 + s->n_hours == H);
  /* PSI of the input "zone": each zone's share of the requests */
  g_autofree double *ref_own = NULL, *rec_own = NULL;
  double *ref, *rec, tr = 0, tc = 0;
  if (s->available == NULL)
    {
      /* the shadow's own counts (the window is a copy of them), read in
       * place: the sums of the last check moved by the hours since (a
       * count is a whole number, so each sum is exact and the same as
       * one over every hour) */
      const double *c = (const double *) sh->count->data;
      if (sh->psi_ref == NULL)
        {
          sh->psi_ref = g_new (double, Z);
          sh->psi_rec = g_new (double, Z);
        }
      ref = sh->psi_ref;
      rec = sh->psi_rec;
      if (!sh->psi_ok || rs < sh->psi_rs || re < sh->psi_re || H < sh->psi_h || rs > sh->psi_re
          || re > sh->psi_h)
        {
          memset (ref, 0, sizeof (double) * Z);
          memset (rec, 0, sizeof (double) * Z);
          sh->psi_rs = sh->psi_re = sh->psi_h = rs;
        }
      /* rec: hours [psi_re, psi_h) to [re, H); ref: [psi_rs, psi_re) to [rs, re) */
      for (guint h = sh->psi_h; h < H; h++)
        for (guint z = 0; z < Z; z++)
          rec[z] += c[(gsize) h * Z + z];
      for (guint h = sh->psi_re; h < re; h++)
        for (guint z = 0; z < Z; z++)
          {
            rec[z] -= c[(gsize) h * Z + z];
            ref[z] += c[(gsize) h * Z + z];
          }
      for (guint h = sh->psi_rs; h < rs; h++)
        for (guint z = 0; z < Z; z++)
          ref[z] -= c[(gsize) h * Z + z];
      sh->psi_rs = rs;
      sh->psi_re = re;
      sh->psi_h = H;
      sh->psi_ok = TRUE;
    }
  else
    {
      ref = ref_own = g_new0 (double, Z);
      rec = rec_own = g_new0 (double, Z);
      for (guint z = 0; z < Z; z++)
        {
          for (guint h = rs; h < re; h++)
            ref[z] += ft_demand_series_demand (s, z, h - w0);
          for (guint h = re; h < H; h++)
            rec[z] += ft_demand_series_demand (s, z, h - w0);
        }
    }
  for (guint z = 0; z < Z; z++)
    {
      tr += ref[z];
      tc += rec[z];
    }
  if (tr > 0 && tc > 0)
    {
      double psi = 0;
      for (guint z = 0; z < Z; z++)
        {
          double e = MAX (ref[z] / tr, 1e-4), q = MAX (rec[z] / tc, 1e-4);
          psi += (q - e) * log (q / e);
        }
      sh->sc.last_psi = psi;
      FtDriftLevel l = ft_drift_psi_level (&sh->cfg.drift, psi);
      if (l != sh->logged[FT_DRIFT_PSI])
        log_event (sh, FT_EV_MODEL_DRIFT, now, sh->champion_id, FT_DRIFT_PSI, l, psi);
      sh->logged[FT_DRIFT_PSI] = l;
      worst = MAX (worst, l);
    }
  /* residual of each zone over each day: window 0 is the last 24 h,
   * windows 1..7 the week before. Each day's residuals are taken against
   * the day's own city level (the predictions scaled by the day's actual
   * over predicted total): a city-wide error of the day (a weekday the
   * model reads badly, a model fitted on three days) moves every zone of
   * the day at once, so its zones are no independent sample, and the KS
   * test read it as drift (Demo City: 14 "act" levels in 14 days with no
   * shift, KS p down to 1e-6). What is left is a change in how demand
   * spreads over the zones, the shift the retrain can learn from; a
   * city-wide shift is still seen as the error the scores report.
   * Window w holds hours [H - 24 (w + 1), H - 24 w), the last one
   * without its first hour (kept as the residuals were read before). */
  guint nw = 1 + REFERENCE_H / 24;
  /* the samples in ascending order: each day's residuals sorted once,
   * the week's merged */
  g_autofree double *a = g_new (double, (gsize) (nw - 1) * Z), *tmp = g_new (double, (gsize) (nw - 1) * Z);
  g_autofree double *ly = g_new (double, Z), *lmu = g_new (double, Z), *lv = g_new (double, Z);
  g_autofree guint *lcnt = g_new (guint, Z);
  guint na = 0, nb;
  guint s0 = window_slot (sh, H);
  const double *b = sh->ws_v + (gsize) s0 * Z;
  nb = sh->ws_nv[s0];
  for (guint w = 1; w < nw; w++)
    {
      guint e = H > 24 * w ? H - 24 * w : 0, nv;
      const double *v;
      if (w + 1 < nw)
        {
          guint slot = window_slot (sh, e);
          v = sh->ws_v + (gsize) slot * Z;
          nv = sh->ws_nv[slot];
        }
      else
        {
          residual_sums (sh, H > nw * 24 - 1 ? H - (nw * 24 - 1) : 0, e, ly, lmu, lcnt);
          nv = window_residuals (ly, lmu, lcnt, Z, lv);
          v = lv;
        }
      merge_sorted (a, na, v, nv, tmp);
      na += nv;
      double *t = a;
      a = tmp;
      tmp = t;
    }
  double d, p;
  if (na >= 2 * Z && nb >= Z / 2 && ft_drift_ks_sorted (a, na, b, nb, &d, &p, NULL))
    {
      sh->sc.last_ks_d = d;
      sh->sc.last_ks_p = p;
      FtDriftLevel l = ft_drift_ks_level (&sh->cfg.drift, d, p);
      if (l != sh->logged[FT_DRIFT_KS])
        log_event (sh, FT_EV_MODEL_DRIFT, now, sh->champion_id, FT_DRIFT_KS, l, d);
      sh->logged[FT_DRIFT_KS] = l;
      worst = MAX (worst, l);
    }
  g_debug ("shadow drift at hour %u: PSI %.3f, KS D %.3f p %.2g (%u / %u residuals) -> %s", H,
           sh->sc.last_psi, sh->sc.last_ks_d, sh->sc.last_ks_p, na, nb, ft_drift_level_name (worst));
  if (worst == FT_DRIFT_WARN)
    sh->sc.drift_warnings++;
  else if (worst == FT_DRIFT_ACT)
    sh->sc.drift_actions++;
  return worst;
}

static gboolean
predict (FtShadow *sh, const FtDemandSeries *s, guint w0, guint H, FtTime now, GError **error)
{
  guint Z = sh->zoning->n, hmax = max_horizon (sh);
  g_autofree double *out = g_new (double, (gsize) Z * hmax);
  g_autofree double *base = g_new (double, (gsize) Z * hmax);
  g_autoptr(GError) local = NULL;
  /* Only the leads stored are computed now (4 of 24 rows of features by
   * default): the others, which only ft_shadow_forecast reads, when it
   * asks. Not when the window is not the shadow's own (XGBoost's). */
  g_autofree gboolean *want = NULL;
  if (s == sh->win)
    {
      want = g_new0 (gboolean, hmax);
      for (guint i = 0; i < sh->cfg.n_horizons; i++)
        want[sh->cfg.horizons[i] - 1] = TRUE;
      /* and the hour of the next quarter, which predict_quarter splits */
      guint qh = (guint) ((now - sh->t0 + FT_QUARTER - 1) / FT_QUARTER) / 4;
      if (sh->cfg.quarter_hour && qh >= H && qh - H < hmax)
        want[qh - H] = TRUE;
    }
  if (!ft_forecaster_predict_leads (sh->champion, s, H - w0, hmax, want, out, &local)
      || !ft_forecaster_predict (sh->baseline, s, H - w0, hmax, base, &local))
    {
      g_warning ("shadow mode: forecast at hour %u failed: %s", H, local->message);
      return TRUE;
    }
  /* the forecast becomes the latest (no copy) */
  g_free (sh->latest);
  g_free (sh->latest_base);
  const double *po = sh->latest = g_steal_pointer (&out);
  const double *pb = sh->latest_base = g_steal_pointer (&base);
  sh->latest_origin = H;
  sh->latest_n = hmax;
  sh->latest_partial = want != NULL;
  sh->latest_w0 = w0;
  sh->latest_model = sh->champion;
  g_autofree FtStorePrediction *rows = sh->store ? g_new0 (FtStorePrediction, (gsize) Z * sh->cfg.n_horizons) : NULL;
  guint n = 0, seq = sh->pending_seq++;
  for (guint i = 0; i < sh->cfg.n_horizons; i++)
    {
      guint lead = sh->cfg.horizons[i];
      GArray *q = sh->pending[i];
      guint at = q->len;
      g_array_set_size (q, at + Z);
      for (guint z = 0; z < Z; z++)
        {
          Pending p = { z, H + lead - 1, lead, seq, po[z * hmax + lead - 1], pb[z * hmax + lead - 1] };
          g_array_index (q, Pending, at + z) = p;
          sh->sc.predictions++;
          if (rows)
            {
              FtStorePrediction *r = &rows[n++];
              r->version = sh->champion_id;
              g_strlcpy (r->target, sh->zoning->ids[z], sizeof r->target);
              r->horizon = lead;
              r->issued_at = now;
              r->target_t = sh->t0 + (FtTime) p.target_h * FT_HOUR;
              r->predicted = p.pred;
              r->baseline = p.base;
            }
        }
    }
  double c0 = cpu (sh);
  gboolean ok = !rows || ft_store_predictions_put (sh->store, rows, n, error);
  sh->cost.store_s += cpu (sh) - c0;
  return ok;
}

/* Quarters that have passed get their actual, are scored and filled in. */
static gboolean
score_quarters (FtShadow *sh, FtTime now, GError **error)
{
  guint Z = sh->zoning->n, done_q = (guint) ((now - sh->t0) / FT_QUARTER), keep = 0;
  g_autoptr (GPtrArray) targets = g_ptr_array_new ();
  g_autoptr (GArray) issued = g_array_new (FALSE, FALSE, sizeof (FtTime));
  g_autoptr (GArray) ys = g_array_new (FALSE, FALSE, sizeof (double));
  for (guint i = 0; i < sh->pending15->len; i++)
    {
      Quarter p = g_array_index (sh->pending15, Quarter, i);
      if (p.q >= done_q)
        {
          g_array_index (sh->pending15, Quarter, keep++) = p;
          continue;
        }
      gsize at = (gsize) p.q * Z + p.z;
      double y = at < sh->count15->len ? g_array_index (sh->count15, double, at) : 0;
      double e = p.pred - y, eb = p.base - y;
      sh->se15 += e * e;
      sh->ae15 += fabs (e);
      sh->base_se15 += eb * eb;
      sh->base_ae15 += fabs (eb);
      sh->sc.scored_15min++;
      if (sh->store)
        {
          g_ptr_array_add (targets, sh->zoning->ids[p.z]);
          g_array_append_val (issued, p.issued);
          g_array_append_val (ys, y);
        }
    }
  g_array_set_size (sh->pending15, keep);
  if (sh->store && targets->len)
    {
      g_autofree guint *zero = g_new0 (guint, targets->len);
      double c0 = cpu (sh);
      gboolean ok = ft_store_predictions_fill_issued (sh->store, (const char *const *) targets->pdata,
                                                      (const FtTime *) issued->data, zero,
                                                      (const double *) ys->data, targets->len, error);
      sh->cost.store_s += cpu (sh) - c0;
      if (!ok)
        return FALSE;
    }
  return TRUE;
}

/* The quarter hour that starts at or after now, from the latest forecast
 * of its hour and the zone's profile. */
static gboolean
predict_quarter (FtShadow *sh, FtTime now, GError **error)
{
  if (sh->qshare == NULL || sh->baseline == NULL || sh->latest == NULL)
    return TRUE;
  guint Z = sh->zoning->n;
  guint q = (guint) ((now - sh->t0 + FT_QUARTER - 1) / FT_QUARTER);
  if (q == sh->last_q)
    return TRUE;
  FtTime qt = sh->t0 + (FtTime) q * FT_QUARTER;
  double hourly;
  if (!forecast_at (sh, 0, qt, &hourly))
    return TRUE;   /* its hour is not forecast */
  guint h = q / 4;
  sh->last_q = q;
  g_autofree FtStorePrediction *rows = sh->store ? g_new0 (FtStorePrediction, Z) : NULL;
  for (guint z = 0; z < Z; z++)
    {
      double hz = 0;
      forecast_at (sh, z, qt, &hz);
      double bz = sh->latest_base[(gsize) z * sh->latest_n + (h - sh->latest_origin)];
      Quarter p = { z, q, now, hz * sh->qshare[z * 4 + q % 4], bz / 4 };
      g_array_append_val (sh->pending15, p);
      sh->sc.predictions++;
      if (rows)
        {
          FtStorePrediction *r = &rows[z];
          r->version = sh->champion_id;
          g_strlcpy (r->target, sh->zoning->ids[z], sizeof r->target);
          r->horizon = 0;
          r->issued_at = now;
          r->target_t = qt;
          r->predicted = p.pred;
          r->baseline = p.base;
        }
    }
  double c0 = cpu (sh);
  gboolean ok = !rows || ft_store_predictions_put (sh->store, rows, Z, error);
  sh->cost.store_s += cpu (sh) - c0;
  return ok;
}

static gboolean forecast_tick (FtShadow *sh, FtTime now, GError **error);

/* What a tick does, inline or on the consumer. */
static gboolean
tick_now (gpointer data, FtTime now, GError **error)
{
  FtShadow *sh = data;
  if (sh->maint && !ft_maint_shadow_tick (sh->maint, now, error))
    return FALSE;
  return forecast_tick (sh, now, error);
}

/* when a tick at now moves a next tick (as forecast_tick and
 * ft_maint_shadow_tick move theirs) */
static void
advance (FtTime *next, double cadence_min, FtTime now)
{
  if (now < *next)
    return;
  FtTime step = (FtTime) (cadence_min * 60000.0);
  while (*next <= now)
    *next += step;
}

gboolean
ft_shadow_tick (FtShadow *sh, FtTime now, GError **error)
{
  g_return_val_if_fail (sh != NULL, FALSE);
  if (sh->async == NULL)
    return tick_now (sh, now, error);
  if (sh->cfg.forecast)
    advance (&sh->a_next_f, sh->cfg.cadence_min, now);
  if (sh->maint)
    advance (&sh->a_next_m, sh->cfg.maint.cadence_min, now);
  return ft_shadow_async_tick (sh->async, now, error);
}

/* The consumer's share of an event: what the inline listeners do. */
static void
async_event (const FtEvent *ev, gpointer data)
{
  FtShadow *sh = data;
  if (sh->mlog && (FT_MAINT_LOG_KINDS >> ev->kind & 1))
    ft_maint_log_listener (ev, sh->mlog);
  if (sh->cfg.forecast)
    on_event (ev, data);
}

gboolean
ft_shadow_start_async (FtShadow *sh, guint consumer_delay_us)
{
  g_return_val_if_fail (sh != NULL && sh->async == NULL, FALSE);
  g_return_val_if_fail (sh->cost.ticks == 0, FALSE);
  guint64 kinds = 0;
  if (sh->cfg.forecast)
    kinds |= FT_EV_BIT (FT_EV_BOOKING_RESERVED) | FT_EV_BIT (FT_EV_RIDER_LOST) | FT_EV_BIT (FT_EV_VEHICLE_STATE);
  if (sh->maint && ft_maint_shadow_get_config (sh->maint)->enabled)
    kinds |= FT_MAINT_LOG_KINDS;
  if (kinds == 0)
    return FALSE;   /* nothing listens, nothing ticks */
  sh->a_next_f = sh->cfg.forecast ? sh->next_tick : G_MAXINT64;
  sh->a_next_m = sh->maint ? ft_maint_shadow_next_tick (sh->maint) : G_MAXINT64;
  sh->async = ft_shadow_async_new (sh->log, kinds, async_event, tick_now, sh, sh->store ? &sh->store_lock : NULL,
                                   consumer_delay_us);
  if (sh->async == NULL)
    return FALSE;   /* no thread: inline, as it was */
  if (sh->listener)
    ft_event_log_remove_listener (sh->log, sh->listener);
  sh->listener = 0;
  if (sh->maint && sh->mlog == NULL)
    sh->mlog = ft_maint_shadow_take_listener (sh->maint);
  if (sh->maint)
    ft_maint_shadow_set_abort (sh->maint, &sh->abort);
  return TRUE;
}

gboolean
ft_shadow_is_async (const FtShadow *sh)
{
  g_return_val_if_fail (sh != NULL, FALSE);
  return sh->async != NULL;
}

gboolean
ft_shadow_sync (FtShadow *sh, GError **error)
{
  g_return_val_if_fail (sh != NULL, FALSE);
  return sh->async == NULL || ft_shadow_async_sync (sh->async, error);
}

gboolean
ft_shadow_publish (FtShadow *sh, FtTime now, GError **error)
{
  g_return_val_if_fail (sh != NULL, FALSE);
  return sh->async == NULL || ft_shadow_async_publish (sh->async, now, error);
}

void
ft_shadow_lock_store (FtShadow *sh)
{
  if (sh && sh->async && sh->store)
    g_mutex_lock (&sh->store_lock);
}

void
ft_shadow_unlock_store (FtShadow *sh)
{
  if (sh && sh->async && sh->store)
    g_mutex_unlock (&sh->store_lock);
}

gboolean
ft_shadow_consumer_cost (const FtShadow *sh, FtShadowAsyncCost *out)
{
  g_return_val_if_fail (sh != NULL && out != NULL, FALSE);
  memset (out, 0, sizeof *out);
  if (sh->async == NULL)
    return FALSE;
  settle (sh);
  ft_shadow_async_cost (sh->async, out);
  return TRUE;
}

/* Starts what is due at hour H: the first fit, a scheduled refit (with
 * the baseline's), or a retrain on drift, on the whole history, on a
 * worker thread (lag 0: here); takes a fit started before once its lag
 * has passed. FALSE only on a store error. */
static gboolean
fit_due (FtShadow *sh, guint H, FtTime now, GError **error)
{
  if (sh->job && now < sh->job->join_at)
    return TRUE;
  if (sh->job && !finish_fit (sh, now, error))
    return FALSE;
  gboolean first = sh->champion == NULL && H >= (guint) (sh->cfg.first_fit_days * 24);
  gboolean scheduled = sh->champion != NULL && sh->cfg.retrain_days > 0
                       && H - sh->last_fit_h >= (guint) (sh->cfg.retrain_days * 24);
  gboolean drift = sh->champion != NULL && !scheduled && sh->drift_at > 0
                   && H >= sh->drift_at + sh->cfg.holdout_hours;
  if (!first && !scheduled && !drift)
    return TRUE;
  FtDemandSeries *s = series_of (sh, H);
  if (s == NULL)
    return TRUE;
  double window_days;
  if (first || scheduled)
    {
      sh->last_fit_h = H;
      window_days = sh->cfg.training_days;
    }
  else
    {
      sh->drift_at = 0;
      sh->last_drift_fit_h = H;
      window_days = sh->cfg.drift_train_days;
    }
  guint hold = sh->cfg.holdout_hours;
  gboolean baseline_due = first || scheduled;
  if (H < hold + 48 && !baseline_due)
    {
      ft_demand_series_free (s);
      return TRUE;   /* too short to hold hours back */
    }
  FitJob *j = g_new0 (FitJob, 1);
  j->s = s;
  j->H = H;
  j->hold = hold;
  j->win = (guint) (window_days * 24);
  j->eval_h = MIN (max_horizon (sh), hold);
  j->reason = first ? "initial" : scheduled ? "schedule" : "drift";
  j->kind = sh->cfg.kind;
  j->params = sh->cfg.params;
  j->min_gain = sh->cfg.min_gain;
  j->champion = sh->champion;
  j->save_all = sh->store != NULL;
  j->worker.delay_ms = sh->cfg.train_delay_ms;
  j->worker.abort = &sh->abort;
  j->join_at = now + (FtTime) llround (sh->cfg.train_lag_min * FT_MINUTE);
  if (baseline_due)
    {
      j->baseline_due = TRUE;
      j->base_win = (guint) (sh->cfg.training_days * 24);
      j->qshare = profile_of (sh, H > j->base_win ? H - j->base_win : 0, H);
    }
  j->skip_model = H < hold + 48;   /* the baseline only */
  sh->job = j;
  ft_fit_worker_start (&j->worker, "ft-shadow-fit", j->join_at > now, fit_job_run, j);
  return j->join_at > now || finish_fit (sh, now, error);
}

static gboolean
forecast_tick (FtShadow *sh, FtTime now, GError **error)
{
  if (!sh->cfg.forecast || now < sh->next_tick)
    return TRUE;
  FtTime step = (FtTime) (sh->cfg.cadence_min * 60000.0);
  while (sh->next_tick <= now)
    sh->next_tick += step;
  if (now < sh->t0 + FT_HOUR)
    return TRUE;
  sh->cost.ticks++;
  double c0 = cpu (sh), s0 = sh->cost.store_s;
  guint H = (guint) ((now - sh->t0) / FT_HOUR), w0 = 0;
  g_autoptr(FtDemandSeries) owned = NULL;
  const FtDemandSeries *s = window_of (sh, H, &w0, &owned);
  /* quarters first: their actuals are filled by (target, issued_at,
   * horizon 0) before the hours' by (target, target_t) */
  gboolean ok = (!sh->cfg.quarter_hour || score_quarters (sh, now, error)) && (!s || score_due (sh, H, error));
  /* Drift acted: the hours from then on are the held-back window, so
   * the candidate is trained up to the change and judged on what came
   * after it. Checked between scheduled fits only. */
  gboolean scheduled = sh->champion == NULL
                       || (sh->cfg.retrain_days > 0 && H - sh->last_fit_h >= (guint) (sh->cfg.retrain_days * 24));
  if (ok && s && !scheduled)
    {
      FtDriftLevel l = check_drift (sh, s, w0, H, now);
      if (l == FT_DRIFT_ACT && sh->cfg.retrain_on_drift && sh->drift_at == 0
          && (sh->last_drift_fit_h == 0 || H - sh->last_drift_fit_h >= DRIFT_COOLDOWN_H))
        sh->drift_at = H;
    }
  charge (sh, &sh->cost, &sh->cost.score_s, c0, s0);
  if (!ok || !s)
    return ok;
  c0 = cpu (sh);
  s0 = sh->cost.store_s;
  guint fits = sh->sc.fits;
  ok = fit_due (sh, H, now, error);
  charge (sh, &sh->cost, &sh->cost.train_s, c0, s0);
  sh->cost.fits += sh->sc.fits - fits;
  if (!ok)
    return FALSE;
  if (sh->champion == NULL)
    return TRUE;
  c0 = cpu (sh);
  s0 = sh->cost.store_s;
  if (sh->baseline && H != sh->last_origin)
    {
      sh->last_origin = H;
      ok = predict (sh, s, w0, H, now, error);
    }
  if (ok && sh->cfg.quarter_hour)
    ok = predict_quarter (sh, now, error);
  charge (sh, &sh->cost, &sh->cost.predict_s, c0, s0);
  return ok;
}

void
ft_shadow_measure_cost (FtShadow *sh, gboolean on)
{
  g_return_if_fail (sh != NULL);
  settle (sh);   /* the consumer reads it */
  sh->measure = on;
  if (sh->maint)
    ft_maint_shadow_measure_cost (sh->maint, on);
}

void
ft_shadow_cost (const FtShadow *sh, FtShadowCost *forecast, FtShadowCost *maint)
{
  g_return_if_fail (sh != NULL);
  settle (sh);
  if (forecast)
    *forecast = sh->cost;
  if (maint)
    {
      memset (maint, 0, sizeof *maint);
      if (sh->maint)
        ft_maint_shadow_cost (sh->maint, maint);
    }
}

void
ft_shadow_scores (const FtShadow *sh, FtShadowScores *out)
{
  settle (sh);
  *out = sh->sc;
  double n = MAX ((double) sh->sc.scored, 1.0);
  out->rmse = sqrt (sh->se / n);
  out->mae = sh->ae / n;
  out->base_rmse = sqrt (sh->base_se / n);
  out->base_mae = sh->base_ae / n;
  double n15 = (double) sh->sc.scored_15min;
  out->rmse_15min = n15 > 0 ? sqrt (sh->se15 / n15) : NAN;
  out->mae_15min = n15 > 0 ? sh->ae15 / n15 : NAN;
  out->base_rmse_15min = n15 > 0 ? sqrt (sh->base_se15 / n15) : NAN;
  out->base_mae_15min = n15 > 0 ? sh->base_ae15 / n15 : NAN;
}

guint
ft_shadow_n_days (const FtShadow *sh)
{
  settle (sh);
  return sh->days->len;
}

gboolean
ft_shadow_day_score (const FtShadow *sh, guint day, double *rmse, double *base_rmse, guint64 *n)
{
  settle (sh);
  if (day >= sh->days->len)
    return FALSE;
  const DayScore *d = &g_array_index (sh->days, DayScore, day);
  if (rmse)
    *rmse = d->n ? sqrt (d->se / d->n) : NAN;
  if (base_rmse)
    *base_rmse = d->n ? sqrt (d->base_se / d->n) : NAN;
  if (n)
    *n = d->n;
  return d->n > 0;
}

guint
ft_shadow_n_zones (const FtShadow *sh)
{
  g_return_val_if_fail (sh != NULL, 0);
  return sh->zoning->n;
}

/* The hour after the last scored lead-1 forecast, 0 when none. */
static guint
last_scored_end (const FtShadow *sh)
{
  guint end = 0;
  for (guint i = 0; i < sh->recent->len; i++)
    end = MAX (end, g_array_index (sh->recent, Resid, i).h + 1);
  return end;
}

guint
ft_shadow_zone_recent (const FtShadow *sh, guint hours, double *pred, double *actual)
{
  g_return_val_if_fail (sh != NULL && pred != NULL && actual != NULL, 0);
  settle (sh);
  guint Z = sh->zoning->n;
  for (guint z = 0; z < Z; z++)
    pred[z] = actual[z] = 0;
  guint end = last_scored_end (sh);
  if (end == 0)
    return 0;
  guint from = end > hours ? end - hours : 0, first = end;
  for (guint i = 0; i < sh->recent->len; i++)
    {
      const Resid *r = &g_array_index (sh->recent, Resid, i);
      if (r->h >= from && r->h < end && r->z < Z)
        {
          pred[r->z] += r->pred;
          actual[r->z] += r->y;
          first = MIN (first, r->h);
        }
    }
  return end - first;   /* the hours that hold scored forecasts */
}

guint
ft_shadow_zone_hours (const FtShadow *sh, guint zone, guint hours, double *pred, double *actual)
{
  g_return_val_if_fail (sh != NULL && pred != NULL && actual != NULL, 0);
  settle (sh);
  for (guint i = 0; i < hours; i++)
    pred[i] = actual[i] = NAN;
  guint end = last_scored_end (sh);
  if (end == 0 || zone >= sh->zoning->n)
    return 0;
  for (guint i = 0; i < sh->recent->len; i++)
    {
      const Resid *r = &g_array_index (sh->recent, Resid, i);
      if (r->z != zone || r->h + hours < end)
        continue;
      guint k = hours - (end - r->h);
      pred[k] = r->pred;
      actual[k] = r->y;
    }
  return end;
}
