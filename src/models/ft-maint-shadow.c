/* ft-maint-shadow.c — predictive maintenance in shadow mode (see the
 * header): the running FtMaintLog fed by the event log, open predictions
 * resolved by the faults that follow them, the champion trained, judged on
 * a held-back window and promoted, every vehicle in service scored at the
 * cadence, and the scores kept up to date.
 */
#include "ft-config.h"
#include "ft-maint-shadow.h"
#include "ft-registry.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

typedef struct {
  guint32 v;
  guint8  hz;          /* horizon index */
  guint8  listed;      /* on the list of its tick (short horizon only) */
  guint8  done;        /* resolved by a fault before its horizon ended */
  FtTime  issued;
  double  p, pb;       /* model, baseline */
} Open;

typedef struct {
  double p, pb;
  gboolean y;
} Done;

typedef struct _FitJob FitJob;
static void fit_job_free (FitJob *j);

struct _FtMaintShadow {
  FtMaintShadowConfig cfg;
  char          *city;
  FtEventLog    *log;
  guint          listener;
  FtStore       *store;
  FtTime         t0, next_tick, last_fit;
  FtTime         grid;                     /* the log's records: every grid ms from t0 */
  FtMaintLog    *mlog;
  FtMaintModel  *champion, *baseline;
  gint64         champion_id, local_ids;
  GArray        *open[FT_MAINT_N_HORIZONS];  /* Open per horizon, issue order, from open_head */
  guint          open_head[FT_MAINT_N_HORIZONS];
  FtTime         resolved_at;              /* the last resolve (G_MININT64: none) */
  GArray        *done[FT_MAINT_N_HORIZONS];  /* Done */
  GPtrArray     *vfaults;                  /* per vehicle: GArray of FtTime, or NULL */
  guint          fault_cursor;             /* faults of mlog taken so far */
  GArray        *listed_at;                /* FtTime per vehicle: first listed since service, or -1 */
  GArray        *lead;                     /* double: lead of each caught fault */
  GArray        *risk;                     /* FtMaintRisk per vehicle (at = -1: none) */
  GArray        *now_rows;                 /* FtMaintRow: every vehicle at the last tick (reused) */
  FtMaintMemo   *memo;                     /* the champion's per-vehicle terms between ticks */
  FtTime         first_list;               /* -1: no list yet */
  double         hits, listed, positives;
  FtMaintShadowScores sc;
  FtShadowCost   cost;
  gboolean       measure;                  /* read the CPU clock (ft_maint_shadow_measure_cost) */
  FitJob        *job;                      /* a fit under way (NULL: none) */
  gint          *abort;                    /* ft_maint_shadow_set_abort, or NULL */
};

double
ft_shadow_cpu_now (void)
{
  struct timespec ts;
  if (clock_gettime (CLOCK_THREAD_CPUTIME_ID, &ts) != 0)
    return 0;
  return (double) ts.tv_sec + ts.tv_nsec * 1e-9;
}

static gpointer
fit_worker_run (gpointer data)
{
  FtFitWorker *w = data;
  double c0 = ft_shadow_cpu_now ();
  for (guint t = 0; t < w->delay_ms && !ft_fit_worker_cancelled (w); t += 10)
    g_usleep (10000);
  w->fn (w->data);
  w->cpu_s = ft_shadow_cpu_now () - c0;
  return NULL;
}

void
ft_fit_worker_start (FtFitWorker *w, const char *name, gboolean threaded,
                     gpointer (*fn) (gpointer data), gpointer data)
{
  w->fn = fn;
  w->data = data;
  w->thread = threaded ? g_thread_try_new (name, fit_worker_run, w, NULL) : NULL;
  if (w->thread == NULL)
    fit_worker_run (w);   /* no lag (or no thread to be had): here */
}

gboolean
ft_fit_worker_cancelled (FtFitWorker *w)
{
  return g_atomic_int_get (&w->cancel) != 0 || (w->abort && g_atomic_int_get (w->abort) != 0);
}

void
ft_fit_worker_join (FtFitWorker *w, double *wait_s, double *worker_s)
{
  if (w->thread == NULL)
    return;
  gint64 w0 = g_get_monotonic_time ();
  g_thread_join (g_steal_pointer (&w->thread));
  *wait_s += (g_get_monotonic_time () - w0) / 1e6;
  *worker_s += w->cpu_s;
}

void
ft_fit_worker_stop (FtFitWorker *w)
{
  if (w->thread == NULL)
    return;
  g_atomic_int_set (&w->cancel, 1);
  g_thread_join (g_steal_pointer (&w->thread));
}

/* The thread's CPU time when costs are measured, else 0. */
static inline double
cpu (const FtMaintShadow *ms)
{
  return ms->measure ? ft_shadow_cpu_now () : 0;
}

/* Adds the CPU time since `since` to *part, less the store writes made
 * meanwhile (counted in store_s). */
static void
charge (const FtMaintShadow *ms, FtShadowCost *c, double *part, double since, double store_since)
{
  if (ms->measure)
    *part += ft_shadow_cpu_now () - since - (c->store_s - store_since);
}

void
ft_maint_shadow_set_abort (FtMaintShadow *ms, gint *flag)
{
  g_return_if_fail (ms != NULL);
  ms->abort = flag;
}

void
ft_maint_shadow_measure_cost (FtMaintShadow *ms, gboolean on)
{
  g_return_if_fail (ms != NULL);
  ms->measure = on;
}

void
ft_maint_shadow_cost (const FtMaintShadow *ms, FtShadowCost *out)
{
  g_return_if_fail (ms != NULL && out != NULL);
  *out = ms->cost;
}

void
ft_maint_shadow_config_init (FtMaintShadowConfig *c)
{
  g_return_if_fail (c != NULL);
  memset (c, 0, sizeof *c);
  c->enabled = FALSE;
  c->kind = FT_MAINT_WEIBULL;
  c->cadence_min = 360;
  for (guint h = 0; h < FT_MAINT_N_HORIZONS; h++)
    c->horizons_h[h] = ft_maint_horizons_h[h];
  c->training_days = 7;
  c->first_fit_days = 4;
  c->retrain_days = 7;
  c->holdout_days = 1;
  c->step_hours = 12;
  c->top_k = 0;
  c->top_k_frac = 0.02;
  /* Brier scores at a fault rate of a few per cent a day differ by well
   * under 2 % between fits: a larger bar would keep the first champion,
   * fitted on a day or two, for weeks (measured on a 14-day Demo City run) */
  c->min_gain = 0.005;
  c->train_lag_min = 360;
  c->city = "demo";
  ft_maint_params_init (&c->params);
  /* refitted every week and judged on a held-back day: a looser optimum
   * (half the BFGS iterations) changes the Brier score in the 5th digit */
  c->params.grad_tol = 1e-5;
}

gboolean
ft_maint_shadow_config_check (const FtMaintShadowConfig *c, GError **error)
{
  g_return_val_if_fail (c != NULL, FALSE);
  const char *bad = NULL;
  if ((guint) c->kind >= FT_N_MAINT_KINDS)
    bad = "maint_model (baseline, weibull or xgb)";
  else if (!isfinite (c->cadence_min) || c->cadence_min < 1 || c->cadence_min > 24 * 60)
    bad = "maint_cadence_min (1 to 1440)";
  else if (!isfinite (c->horizons_h[0]) || !isfinite (c->horizons_h[1]) || c->horizons_h[0] < 1
           || c->horizons_h[1] <= c->horizons_h[0] || c->horizons_h[1] > 24 * 30)
    bad = "maint_horizons (two, in hours, 1 <= short < long <= 720)";
  else if (c->kind == FT_MAINT_XGB && (c->horizons_h[0] != ft_maint_horizons_h[0]
                                      || c->horizons_h[1] != ft_maint_horizons_h[1]))
    bad = "maint_horizons (the xgb model answers 24 and 168 h only)";
  else if (!isfinite (c->training_days) || c->training_days < 1 || c->training_days > 366)
    bad = "maint_training_days (1 to 366)";
  else if (!isfinite (c->first_fit_days) || c->first_fit_days < 1 || c->first_fit_days > 366)
    bad = "maint_first_fit_days (1 to 366)";
  else if (!isfinite (c->retrain_days) || c->retrain_days < 0 || c->retrain_days > 366)
    bad = "maint_retrain_days (0 to 366)";
  else if (!isfinite (c->holdout_days) || c->holdout_days < 0 || c->holdout_days > 30)
    bad = "maint_holdout_days (0 to 30)";
  else if (c->step_hours < 1 || c->step_hours > 24)
    bad = "maint_step_hours (1 to 24)";
  else if (!isfinite (c->top_k_frac) || c->top_k_frac <= 0 || c->top_k_frac > 1)
    bad = "maint_top_k_frac (0 to 1)";
  else if (!isfinite (c->min_gain) || c->min_gain < 0 || c->min_gain >= 1)
    bad = "maint_min_gain (0 to 1)";
  else if (!isfinite (c->train_lag_min) || c->train_lag_min < 0 || c->train_lag_min > 7 * 24 * 60)
    bad = "maint_train_lag_min (0 to 10080)";
  if (bad)
    {
      g_set_error (error, FT_MAINT_ERROR, FT_MAINT_ERROR_INVALID, "maintenance shadow mode: %s is out of range",
                   bad);
      return FALSE;
    }
  return TRUE;
}

static void
free_times (gpointer p)
{
  if (p)
    g_array_unref (p);
}

/* The first time of the records' grid at or after t. */
static FtTime
grid_up (const FtMaintShadow *ms, FtTime t)
{
  FtTime d = t - ms->t0;
  FtTime k = d >= 0 ? (d + ms->grid - 1) / ms->grid : -((-d) / ms->grid);
  return ms->t0 + k * ms->grid;
}

FtMaintShadow *
ft_maint_shadow_new (const FtMaintShadowConfig *cfg, FtEventLog *log, FtStore *store, FtTime t0,
                     GError **error)
{
  g_return_val_if_fail (cfg != NULL && log != NULL, NULL);
  if (!ft_maint_shadow_config_check (cfg, error))
    return NULL;
  FtMaintShadow *ms = g_new0 (FtMaintShadow, 1);
  ms->cfg = *cfg;
  ms->city = g_strdup (cfg->city ? cfg->city : "demo");
  ms->cfg.city = ms->city;
  ms->cfg.history_db = NULL;
  ms->log = log;
  ms->store = store;
  ms->t0 = t0;
  ms->next_tick = t0;
  ms->last_fit = G_MININT64;
  ms->first_list = -1;
  if (cfg->history_db)
    {
      g_autoptr (GError) local = NULL;
      ms->mlog = ft_maint_log_read_db (cfg->history_db, &local);
      if (ms->mlog == NULL && !g_error_matches (local, FT_MAINT_ERROR, FT_MAINT_ERROR_EMPTY))
        {
          g_propagate_prefixed_error (error, g_steal_pointer (&local), "maintenance shadow history: ");
          g_free (ms->city);
          g_free (ms);
          return NULL;
        }
    }
  if (ms->mlog == NULL)
    ms->mlog = ft_maint_log_new ();
  /* the log records the features of every vehicle on the grid the fits
   * read (rows every step_hours from t0), instead of keeping every event
   * and replaying them at each fit */
  ms->grid = (FtTime) cfg->step_hours * FT_HOUR;
  if (!ft_maint_log_keep_records (ms->mlog, t0, ms->grid, error))
    {
      ft_maint_log_free (ms->mlog);
      g_free (ms->city);
      g_free (ms);
      return NULL;
    }
  for (guint h = 0; h < FT_MAINT_N_HORIZONS; h++)
    {
      ms->open[h] = g_array_new (FALSE, FALSE, sizeof (Open));
      ms->done[h] = g_array_new (FALSE, FALSE, sizeof (Done));
    }
  ms->resolved_at = G_MININT64;
  ms->vfaults = g_ptr_array_new_with_free_func (free_times);
  ms->listed_at = g_array_new (FALSE, FALSE, sizeof (FtTime));
  ms->lead = g_array_new (FALSE, FALSE, sizeof (double));
  ms->risk = g_array_new (FALSE, FALSE, sizeof (FtMaintRisk));
  ms->now_rows = g_array_new (FALSE, FALSE, sizeof (FtMaintRow));
  ms->memo = ft_maint_memo_new ();
  ms->sc.enabled = cfg->enabled;
  if (cfg->enabled)
    {
      guint n = 0;
      const FtEvent *pending = ft_event_log_pending (log, &n);
      for (guint i = 0; i < n; i++)
        ft_maint_log_listener (&pending[i], ms->mlog);
      ms->listener = ft_event_log_add_listener_for (log, FT_MAINT_LOG_KINDS, ft_maint_log_listener, ms->mlog);
    }
  return ms;
}

void
ft_maint_shadow_free (FtMaintShadow *ms)
{
  if (ms == NULL)
    return;
  if (ms->listener)
    ft_event_log_remove_listener (ms->log, ms->listener);
  fit_job_free (ms->job);   /* first: its worker reads the champion */
  ft_maint_log_free (ms->mlog);
  ft_maint_model_free (ms->champion);
  ft_maint_model_free (ms->baseline);
  for (guint h = 0; h < FT_MAINT_N_HORIZONS; h++)
    {
      g_array_unref (ms->open[h]);
      g_array_unref (ms->done[h]);
    }
  g_ptr_array_unref (ms->vfaults);
  g_array_unref (ms->listed_at);
  g_array_unref (ms->lead);
  g_array_unref (ms->risk);
  g_array_unref (ms->now_rows);
  ft_maint_memo_free (ms->memo);
  g_free (ms->city);
  g_free (ms);
}

FtMaintLog *
ft_maint_shadow_take_listener (FtMaintShadow *ms)
{
  g_return_val_if_fail (ms != NULL, NULL);
  if (ms->listener)
    ft_event_log_remove_listener (ms->log, ms->listener);
  ms->listener = 0;
  return ms->mlog;
}

FtTime
ft_maint_shadow_next_tick (const FtMaintShadow *ms)
{
  g_return_val_if_fail (ms != NULL, G_MAXINT64);
  return ms->cfg.enabled ? ms->next_tick : G_MAXINT64;
}

const FtMaintShadowConfig *
ft_maint_shadow_get_config (const FtMaintShadow *ms)
{
  g_return_val_if_fail (ms != NULL, NULL);
  return &ms->cfg;
}

/* The fleet names vehicles "FT-%04u" of their index (ft-fleet.h); the
 * predictions' target uses the same name. */
static void
vehicle_target (guint v, char *buf, gsize n)
{
  g_snprintf (buf, n, "FT-%04u", v);
}

static FtTime *
listed_at (FtMaintShadow *ms, guint v)
{
  while (ms->listed_at->len <= v)
    {
      FtTime none = -1;
      g_array_append_val (ms->listed_at, none);
    }
  return &g_array_index (ms->listed_at, FtTime, v);
}

/* First fault of v at or after t, or G_MAXINT64. */
static FtTime
next_fault (const FtMaintShadow *ms, guint v, FtTime t)
{
  if (v >= ms->vfaults->len || g_ptr_array_index (ms->vfaults, v) == NULL)
    return G_MAXINT64;
  GArray *a = g_ptr_array_index (ms->vfaults, v);
  if (a->len == 0 || g_array_index (a, FtTime, a->len - 1) < t)
    return G_MAXINT64;   /* most open predictions: no fault since */
  guint lo = 0, hi = a->len;
  while (lo < hi)
    {
      guint mid = (lo + hi) / 2;
      if (g_array_index (a, FtTime, mid) < t)
        lo = mid + 1;
      else
        hi = mid;
    }
  return lo < a->len ? g_array_index (a, FtTime, lo) : G_MAXINT64;
}

/* Faults added to the log since the last tick: per-vehicle fault times,
 * and lead times of those the lists warned of. */
static void
take_faults (FtMaintShadow *ms)
{
  guint n = 0;
  const FtTime *ft = ft_maint_log_faults (ms->mlog, &n);
  const guint32 *fv = ft_maint_log_fault_vehicles (ms->mlog, NULL);
  for (; ms->fault_cursor < n; ms->fault_cursor++)
    {
      guint v = fv[ms->fault_cursor];
      FtTime t = ft[ms->fault_cursor];
      if (v >= ms->vfaults->len)
        g_ptr_array_set_size (ms->vfaults, v + 1);
      if (g_ptr_array_index (ms->vfaults, v) == NULL)
        g_ptr_array_index (ms->vfaults, v) = g_array_new (FALSE, FALSE, sizeof (FtTime));
      g_array_append_val ((GArray *) g_ptr_array_index (ms->vfaults, v), t);
      FtTime *la = listed_at (ms, v);
      if (ms->first_list >= 0 && t >= ms->first_list)
        {
          ms->sc.faults++;
          if (*la >= 0)
            {
              double lead = (double) (t - *la) / FT_HOUR;
              g_array_append_val (ms->lead, lead);
              ms->sc.caught++;
            }
        }
      *la = -1;   /* a new episode starts at the next service */
    }
}

/* Resolves o with outcome y: scored, and its actual queued for the store. */
static void
resolve_one (FtMaintShadow *ms, const Open *o, gboolean y, Done *slot, GPtrArray *targets, GArray *issued,
             GArray *hors, GArray *ys)
{
  *slot = (Done) { o->p, o->pb, y };
  if (o->hz == 0)
    {
      ms->positives += y;
      ms->listed += o->listed;
      ms->hits += o->listed && y;
    }
  if (ms->store)
    {
      char name[40];
      vehicle_target (o->v, name, sizeof name);
      g_ptr_array_add (targets, g_strdup (name));
      guint hh = (guint) llround (ms->cfg.horizons_h[o->hz]);
      double yy = y;
      g_array_append_val (issued, o->issued);
      g_array_append_val (hors, hh);
      g_array_append_val (ys, yy);
    }
}

/* Open predictions whose outcome is now known; their actuals to the store.
 * Without a rescan of every open prediction: per horizon they are in
 * issue order, so those whose horizon has ended are a prefix; of the rest
 * only those of a vehicle with a fault at or after the last resolve can
 * have met one (a fault before it resolved them then). Each horizon's
 * predictions are resolved in issue order, as a full scan would. */
static gboolean
resolve (FtMaintShadow *ms, FtTime now, GError **error)
{
  g_autoptr (GPtrArray) targets = g_ptr_array_new_with_free_func (g_free);
  g_autoptr (GArray) issued = g_array_new (FALSE, FALSE, sizeof (FtTime));
  g_autoptr (GArray) hors = g_array_new (FALSE, FALSE, sizeof (guint));
  g_autoptr (GArray) ys = g_array_new (FALSE, FALSE, sizeof (double));
  /* the vehicles that may have met a fault since the last resolve */
  guint nf = 0, n_suspects = 0;
  const FtTime *ft = ft_maint_log_faults (ms->mlog, &nf);
  const guint32 *fv = ft_maint_log_fault_vehicles (ms->mlog, NULL);
  guint first_new = nf;
  while (first_new > 0 && ft[first_new - 1] >= ms->resolved_at)
    first_new--;
  /* in vehicle order, once each */
  g_autofree guint32 *sus = g_new (guint32, MAX (nf - first_new, 1));
  for (guint i = first_new; i < nf; i++)
    {
      guint at = n_suspects;
      while (at > 0 && sus[at - 1] > fv[i])
        at--;
      if (at > 0 && sus[at - 1] == fv[i])
        continue;
      memmove (sus + at + 1, sus + at, sizeof (guint32) * (n_suspects - at));
      sus[at] = fv[i];
      n_suspects++;
    }
  for (guint h = 0; h < FT_MAINT_N_HORIZONS; h++)
    {
      GArray *a = ms->open[h];
      Open *o = (Open *) a->data;
      FtTime hor_ms = (FtTime) llround (ms->cfg.horizons_h[h] * FT_HOUR);
      guint i = ms->open_head[h];
      /* room for every open one, the length set to those resolved after */
      GArray *dn = ms->done[h];
      guint dlen = dn->len;
      g_array_set_size (dn, dlen + (a->len - i));
      Done *dd = (Done *) dn->data;
      for (; i < a->len && o[i].issued + hor_ms <= now; i++)
        if (!o[i].done)
          resolve_one (ms, &o[i], next_fault (ms, o[i].v, o[i].issued) < o[i].issued + hor_ms, &dd[dlen++],
                       targets, issued, hors, ys);
      ms->open_head[h] = i;
      /* the rest are blocks of one tick each (one issue time), in
       * vehicle order: each suspect looked up in each block, in the
       * order a scan of every open prediction met them */
      for (guint b = i; n_suspects && b < a->len;)
        {
          guint lo = b, hi = a->len;
          while (lo < hi)
            {
              guint mid = lo + (hi - lo) / 2;
              if (o[mid].issued <= o[b].issued)
                lo = mid + 1;
              else
                hi = mid;
            }
          guint bend = lo, from = b;
          for (guint k = 0; k < n_suspects && from < bend; k++)
            {
              lo = from;
              hi = bend;
              while (lo < hi)
                {
                  guint mid = lo + (hi - lo) / 2;
                  if (o[mid].v < sus[k])
                    lo = mid + 1;
                  else
                    hi = mid;
                }
              from = lo;
              if (lo < bend && o[lo].v == sus[k] && !o[lo].done && next_fault (ms, o[lo].v, o[lo].issued) <= now)
                {
                  /* before its horizon ends (that is later than now) */
                  o[lo].done = 1;
                  resolve_one (ms, &o[lo], TRUE, &dd[dlen++], targets, issued, hors, ys);
                }
            }
          b = bend;
        }
      g_array_set_size (dn, dlen);
      /* what has ended leaves in batches (moving what stays costs) */
      if (ms->open_head[h] > 0 && ms->open_head[h] >= a->len / 2)
        {
          g_array_remove_range (a, 0, ms->open_head[h]);
          ms->open_head[h] = 0;
        }
    }
  ms->resolved_at = now;
  double c0 = cpu (ms);
  gboolean ok = !ms->store || !targets->len
                || ft_store_predictions_fill_issued (ms->store, (const char *const *) targets->pdata,
                                                     (const FtTime *) issued->data, (const guint *) hors->data,
                                                     (const double *) ys->data, targets->len, error);
  ms->cost.store_s += cpu (ms) - c0;
  return ok;
}

static double
brier_of (const FtMaintModel *m, const FtMaintRow *rows, guint n, double H, GError **error)
{
  g_autofree double *p = g_new (double, MAX (n, 1));
  if (!ft_maint_model_predict (m, rows, n, H, p, error))
    return NAN;
  double s = 0;
  guint k = 0;
  for (guint i = 0; i < n; i++)
    {
      if (rows[i].follow_h < H && !(rows[i].fault && rows[i].time_h <= H))
        continue;   /* outcome not known in the window */
      double y = rows[i].fault && rows[i].time_h <= H;
      s += (p[i] - y) * (p[i] - y);
      k++;
    }
  return k ? s / k : NAN;
}

static char *
metrics_json (double cand, double champ, double base, guint n_train, guint n_eval)
{
  char a[G_ASCII_DTOSTR_BUF_SIZE], b[G_ASCII_DTOSTR_BUF_SIZE], c[G_ASCII_DTOSTR_BUF_SIZE];
  return g_strdup_printf ("{\"holdout_brier_short\": %s, \"champion_holdout_brier_short\": %s, "
                          "\"baseline_holdout_brier_short\": %s, \"train_rows\": %u, \"holdout_rows\": %u}",
                          isfinite (cand) ? g_ascii_formatd (a, sizeof a, "%.6g", cand) : "null",
                          isfinite (champ) ? g_ascii_formatd (b, sizeof b, "%.6g", champ) : "null",
                          isfinite (base) ? g_ascii_formatd (c, sizeof c, "%.6g", base) : "null", n_train, n_eval);
}

/* A fit under way on a worker thread: its input is the job's own (rows
 * copied from the log's records), the champion it is judged against is
 * the shadow's, which nothing changes before the job is taken (a fitted
 * FtMaintModel is only read by predictions). */
struct _FitJob {
  /* in */
  GArray       *train, *eval;      /* FtMaintRow; eval NULL: no held-back window */
  FtMaintKind   kind;
  FtMaintParams params;
  const FtMaintModel *champion;    /* borrowed, NULL for the first fit */
  double        H;                 /* the short horizon */
  FtTime        start, hold_start, join_at;
  /* out */
  FtMaintModel *cand, *base;
  GError       *error;
  double        c_brier, k_brier, b_brier;
  FtFitWorker   worker;
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
  g_clear_pointer (&j->train, g_array_unref);
  g_clear_pointer (&j->eval, g_array_unref);
  ft_maint_model_free (j->cand);
  ft_maint_model_free (j->base);
  g_clear_error (&j->error);
  g_free (j);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC (FitJob, fit_job_free)

/* The worker's part: fit the candidate and the baseline, score them and
 * the champion on the held-back rows. Reads only the job. */
static gpointer
fit_job_run (gpointer data)
{
  FitJob *j = data;
  const FtMaintRow *r = (const FtMaintRow *) j->train->data;
  if (!cancelled (j))
    j->cand = ft_maint_model_fit (j->kind, &j->params, r, j->train->len, &j->error);
  if (j->cand && !cancelled (j))
    j->base = ft_maint_model_fit (FT_MAINT_BASELINE, &j->params, r, j->train->len, &j->error);
  j->c_brier = j->k_brier = j->b_brier = NAN;
  if (j->cand && j->base && j->eval && j->eval->len && !cancelled (j))
    {
      const FtMaintRow *e = (const FtMaintRow *) j->eval->data;
      j->c_brier = brier_of (j->cand, e, j->eval->len, j->H, NULL);
      j->b_brier = brier_of (j->base, e, j->eval->len, j->H, NULL);
      if (j->champion)
        j->k_brier = brier_of (j->champion, e, j->eval->len, j->H, NULL);
    }
  return NULL;
}

/* Copies the rows a fit reads (a training window before the held-back
 * one, and that one) and starts the fit on a worker thread; with no lag,
 * runs it here. */
static void
start_fit (FtMaintShadow *ms, FtTime now)
{
  FtTime step = (FtTime) ms->cfg.step_hours * FT_HOUR;
  /* on the grid of the log's records (with the default cadence, step and
   * whole days, they are already) */
  FtTime hold_start = grid_up (ms, now - (FtTime) llround (ms->cfg.holdout_days * FT_DAY));
  FtTime start = grid_up (ms, MAX (hold_start - (FtTime) llround (ms->cfg.training_days * FT_DAY),
                                   ft_maint_log_start (ms->mlog)));
  g_autoptr (GError) local = NULL;
  if (hold_start - start < step || ft_maint_log_n_vehicles (ms->mlog) == 0)
    return;
  ms->last_fit = now;
  FitJob *j = g_new0 (FitJob, 1);
  j->train = ft_maint_log_rows (ms->mlog, start, hold_start, step, hold_start, &local);
  if (j->train == NULL)
    {
      if (g_error_matches (local, FT_MAINT_ERROR, FT_MAINT_ERROR_NO_FAULTS)
          || g_error_matches (local, FT_MAINT_ERROR, FT_MAINT_ERROR_EMPTY))
        g_debug ("maintenance shadow: no fit at %" G_GINT64_FORMAT " ms: %s", now, local->message);
      else
        g_warning ("maintenance shadow: training the %s model failed: %s", ft_maint_kind_name (ms->cfg.kind),
                   local->message);
      fit_job_free (j);
      return;
    }
  if (now - hold_start >= step)
    j->eval = ft_maint_log_rows (ms->mlog, hold_start, now, step, now, NULL);
  j->kind = ms->cfg.kind;
  j->params = ms->cfg.params;
  j->champion = ms->champion;
  j->H = ms->cfg.horizons_h[0];
  j->start = start;
  j->hold_start = hold_start;
  j->join_at = now + (FtTime) llround (ms->cfg.train_lag_min * FT_MINUTE);
  j->worker.delay_ms = ms->cfg.train_delay_ms;
  j->worker.abort = ms->abort;
  ms->job = j;
  ft_fit_worker_start (&j->worker, "ft-maint-fit", j->join_at > now, fit_job_run, j);
}

/* Takes the finished fit (waiting for it if need be): the decision,
 * logged and stored now, promotes the candidate when it beat the
 * champion. FALSE only on a store error. */
static gboolean
finish_fit (FtMaintShadow *ms, FtTime now, GError **error)
{
  g_autoptr (FitJob) j = g_steal_pointer (&ms->job);
  ft_fit_worker_join (&j->worker, &ms->cost.train_wait_s, &ms->cost.train_worker_s);
  if (ft_fit_worker_cancelled (&j->worker))
    return TRUE;   /* the shadow is being freed: nothing is taken */
  if (!j->cand || !j->base)
    {
      if (g_error_matches (j->error, FT_MAINT_ERROR, FT_MAINT_ERROR_NO_FAULTS)
          || g_error_matches (j->error, FT_MAINT_ERROR, FT_MAINT_ERROR_EMPTY))
        {
          /* without a champion the next tick tries again */
          g_debug ("maintenance shadow: no fit at %" G_GINT64_FORMAT " ms: %s", now, j->error->message);
        }
      else
        g_warning ("maintenance shadow: training the %s model failed: %s", ft_maint_kind_name (j->kind),
                   j->error ? j->error->message : "?");
      return TRUE;
    }
  ms->sc.fits++;
  double c_brier = j->c_brier, k_brier = j->k_brier, b_brier = j->b_brier;
  guint n_eval = j->eval ? j->eval->len : 0;
  /* no champion: promote; a candidate that cannot be judged does not
   * replace one */
  gboolean promote = ms->champion == NULL || ms->cfg.holdout_days == 0
                     || (isfinite (c_brier) && (!isfinite (k_brier) || c_brier < k_brier * (1.0 - ms->cfg.min_gain)));
  gint64 id;
  const char *reason = ms->champion ? "schedule" : "initial";
  if (ms->store)
    {
      double c0 = cpu (ms);
      g_autofree char *metrics = metrics_json (c_brier, k_brier, b_brier, j->train->len, n_eval);
      FtRegistryEntry e = { .city = ms->city, .created = now, .train_start = j->start, .train_end = j->hold_start,
                            .metrics_json = metrics, .status = "candidate" };
      id = ft_registry_put_maint (ms->store, j->cand, &ms->cfg.params, &e, error);
      if (id == 0)
        {
          ms->cost.store_s += cpu (ms) - c0;
          return FALSE;
        }
      FtStoreDecision d = {
        .t = now, .kind = ft_model_kind_name (ft_model_kind_for_maint (ms->cfg.kind)), .city = ms->city,
        .champion = ms->champion_id, .candidate = id, .champion_score = k_brier, .candidate_score = c_brier,
        .promoted = promote, .reason = reason,
      };
      gboolean ok = ft_store_decision_put (ms->store, &d, error)
                    && (!promote || ft_registry_promote (ms->store, id, error));
      ms->cost.store_s += cpu (ms) - c0;
      if (!ok)
        return FALSE;
    }
  else
    id = ++ms->local_ids;
  g_debug ("maintenance shadow %s fit at %" G_GINT64_FORMAT " ms on %u rows, taken at %" G_GINT64_FORMAT
           " ms: Brier %.4f, champion %.4f, baseline %.4f -> %s", reason, ms->last_fit, j->train->len, now,
           c_brier, k_brier, b_brier, promote ? "promoted" : "kept");
  ft_maint_model_free (ms->baseline);
  ms->baseline = g_steal_pointer (&j->base);
  if (!promote)
    return TRUE;
  ms->sc.promotions++;
  ft_maint_model_free (ms->champion);
  ms->champion = g_steal_pointer (&j->cand);
  ms->champion_id = id;
  ms->sc.champion = id;
  g_strlcpy (ms->sc.model, ft_model_kind_name (ft_model_kind_for_maint (ms->cfg.kind)), sizeof ms->sc.model);
  return TRUE;
}

typedef struct {
  double p;
  guint  i;
} Ranked;

static int
cmp_ranked (const void *a, const void *b)
{
  const Ranked *x = a, *y = b;
  if (x->p != y->p)
    return x->p > y->p ? -1 : 1;
  return (x->i > y->i) - (x->i < y->i);
}

/* Every vehicle in service now: predictions stored and opened, the list. */
static gboolean
predict (FtMaintShadow *ms, FtTime now, GError **error)
{
  g_autoptr (GError) local = NULL;
  /* the rows in place (the log's records of this time, not a copy) */
  const FtMaintRow *r;
  guint n;
  if (!ft_maint_log_rows_now_get (ms->mlog, now, ms->now_rows, &r, &n, &local))
    return TRUE;   /* no vehicle yet */
  g_autofree double *p = g_new (double, (gsize) MAX (n, 1) * FT_MAINT_N_HORIZONS);
  g_autofree double *pb = g_new (double, (gsize) MAX (n, 1) * FT_MAINT_N_HORIZONS);
  /* the champion through the memo (a vehicle's unchanged features are
   * not transformed again), the baseline on the rows it checked */
  if (!ft_maint_model_predict_multi_memo (ms->champion, ms->memo, r, n, ms->cfg.horizons_h, FT_MAINT_N_HORIZONS,
                                          FALSE, p, &local)
      || !ft_maint_model_predict_multi_memo (ms->baseline, NULL, r, n, ms->cfg.horizons_h, FT_MAINT_N_HORIZONS,
                                             TRUE, pb, &local))
    {
      g_warning ("maintenance shadow: predicting at %" G_GINT64_FORMAT " ms failed: %s", now, local->message);
      return TRUE;
    }
  guint k = ms->cfg.top_k ? ms->cfg.top_k : MAX (1u, (guint) ceil (ms->cfg.top_k_frac * n));
  k = MIN (k, n);
  /* the k first in cmp_ranked's order (highest risk, then index): a
   * sorted list of k, each vehicle tested against its last (a sort of
   * all of them cost a tenth of the tick) */
  g_autofree Ranked *rank = g_new (Ranked, MAX (k, 1));
  guint nr = 0;
  for (guint i = 0; i < n; i++)
    {
      Ranked x = { p[i], i };
      if (nr == k && (k == 0 || cmp_ranked (&x, &rank[k - 1]) >= 0))
        continue;
      guint at = nr < k ? nr++ : k - 1;
      while (at > 0 && cmp_ranked (&x, &rank[at - 1]) < 0)
        {
          rank[at] = rank[at - 1];
          at--;
        }
      rank[at] = x;
    }
  g_autofree gboolean *listed = g_new0 (gboolean, MAX (n, 1));
  for (guint j = 0; j < nr; j++)
    listed[rank[j].i] = TRUE;
  /* the risk table is of this tick only */
  for (guint v = 0; v < ms->risk->len; v++)
    g_array_index (ms->risk, FtMaintRisk, v).at = -1;
  g_autofree FtStorePrediction *st = ms->store ? g_new0 (FtStorePrediction, (gsize) MAX (n, 1) * FT_MAINT_N_HORIZONS)
                                               : NULL;
  guint m = 0;
  /* the open arrays grown once (an append per prediction copied each
   * through a call) */
  Open *op[FT_MAINT_N_HORIZONS];
  for (guint h = 0; h < FT_MAINT_N_HORIZONS; h++)
    {
      guint at = ms->open[h]->len;
      g_array_set_size (ms->open[h], at + n);
      op[h] = (Open *) ms->open[h]->data + at;
    }
  for (guint i = 0; i < n; i++)
    {
      guint v = r[i].vehicle;
      if (listed[i])
        {
          FtTime *la = listed_at (ms, v);
          if (*la < 0)
            *la = now;
        }
      if (v >= ms->risk->len)
        {
          guint old = ms->risk->len;
          g_array_set_size (ms->risk, v + 1);
          for (guint q = old; q <= v; q++)
            g_array_index (ms->risk, FtMaintRisk, q).at = -1;
        }
      FtMaintRisk *rk = &g_array_index (ms->risk, FtMaintRisk, v);
      rk->vehicle = v;
      rk->at = now;
      rk->km_since_service = r[i].x[FT_MF_KM_SINCE_SERVICE];
      rk->listed = listed[i];
      for (guint h = 0; h < FT_MAINT_N_HORIZONS; h++)
        {
          double ph = p[(gsize) h * n + i], pbh = pb[(gsize) h * n + i];
          rk->p[h] = ph;
          op[h][i] = (Open) { v, (guint8) h, (guint8) (h == 0 && listed[i]), 0, now, ph, pbh };
          ms->sc.predictions++;
          if (st)
            {
              FtStorePrediction *sp = &st[m++];
              sp->version = ms->champion_id;
              vehicle_target (v, sp->target, sizeof sp->target);
              sp->horizon = (guint) llround (ms->cfg.horizons_h[h]);
              sp->issued_at = now;
              sp->target_t = now + (FtTime) llround (ms->cfg.horizons_h[h] * FT_HOUR);
              sp->predicted = ph;
              sp->baseline = pbh;
            }
        }
    }
  if (ms->first_list < 0)
    ms->first_list = now;
  ms->sc.lists++;
  ms->sc.k = k;
  ms->sc.vehicles = n;
  double c0 = cpu (ms);
  gboolean ok = !st || !m || ft_store_predictions_put (ms->store, st, m, error);
  ms->cost.store_s += cpu (ms) - c0;
  return ok;
}

static int
cmp_double (const void *a, const void *b)
{
  double x = *(const double *) a, y = *(const double *) b;
  return (x > y) - (x < y);
}

/* Brier, AUC, precision, recall and lead over what is resolved: computed
 * when asked (the KPIs at the end, the app on refresh), not at every tick,
 * since the AUC sorts every resolved prediction. */
static void
compute_scores (const FtMaintShadow *ms, FtMaintShadowScores *sc)
{
  for (guint h = 0; h < FT_MAINT_N_HORIZONS; h++)
    {
      GArray *d = ms->done[h];
      guint n = d->len;
      sc->scored[h] = n;
      if (n == 0)
        {
          sc->brier[h] = sc->auc[h] = sc->base_brier[h] = sc->base_auc[h] = NAN;
          continue;
        }
      g_autofree double *p = g_new (double, n), *pb = g_new (double, n);
      g_autofree gboolean *y = g_new (gboolean, n);
      double s = 0, sb = 0;
      for (guint i = 0; i < n; i++)
        {
          const Done *x = &g_array_index (d, Done, i);
          p[i] = x->p;
          pb[i] = x->pb;
          y[i] = x->y;
          s += (x->p - x->y) * (x->p - x->y);
          sb += (x->pb - x->y) * (x->pb - x->y);
        }
      sc->brier[h] = s / n;
      sc->base_brier[h] = sb / n;
      sc->auc[h] = ft_maint_auc (p, y, n);
      sc->base_auc[h] = ft_maint_auc (pb, y, n);
    }
  sc->precision_at_k = ms->listed > 0 ? ms->hits / ms->listed : NAN;
  sc->recall_at_k = ms->positives > 0 ? ms->hits / ms->positives : NAN;
  guint c = ms->lead->len;
  if (c)
    {
      g_autofree double *l = g_memdup2 (ms->lead->data, sizeof (double) * c);
      qsort (l, c, sizeof (double), cmp_double);
      double sum = 0;
      for (guint i = 0; i < c; i++)
        sum += l[i];
      sc->lead_median_h = c % 2 ? l[c / 2] : 0.5 * (l[c / 2 - 1] + l[c / 2]);
      sc->lead_mean_h = sum / c;
    }
  else
    sc->lead_median_h = sc->lead_mean_h = NAN;
}

gboolean
ft_maint_shadow_tick (FtMaintShadow *ms, FtTime now, GError **error)
{
  g_return_val_if_fail (ms != NULL, FALSE);
  if (!ms->cfg.enabled || now < ms->next_tick)
    return TRUE;
  FtTime step = (FtTime) (ms->cfg.cadence_min * FT_MINUTE);
  while (ms->next_tick <= now)
    ms->next_tick += step;
  ms->cost.ticks++;
  double c0 = cpu (ms), s0 = ms->cost.store_s;
  ft_maint_log_record_to (ms->mlog, now);
  /* what no fit can read any more: before its training window */
  ft_maint_log_drop_records (ms->mlog, now - (FtTime) llround ((ms->cfg.training_days + ms->cfg.holdout_days) * FT_DAY)
                                           - 2 * ms->grid);
  take_faults (ms);
  gboolean ok = resolve (ms, now, error);
  charge (ms, &ms->cost, &ms->cost.score_s, c0, s0);
  if (!ok)
    return FALSE;
  /* a fit started at an earlier tick: its result is taken at the first
   * tick at or after its lag, whatever the worker's speed */
  if (ms->job && now >= ms->job->join_at)
    {
      c0 = cpu (ms);
      s0 = ms->cost.store_s;
      ok = finish_fit (ms, now, error);
      charge (ms, &ms->cost, &ms->cost.train_s, c0, s0);
      if (!ok)
        return FALSE;
    }
  /* history from a database counts as days seen */
  FtTime seen_from = ft_maint_log_n_vehicles (ms->mlog) ? MIN (ms->t0, ft_maint_log_start (ms->mlog)) : ms->t0;
  gboolean due = ms->job == NULL
                 && (ms->champion == NULL
                       ? now - seen_from >= (FtTime) llround (ms->cfg.first_fit_days * FT_DAY)
                       : ms->cfg.retrain_days > 0 && now - ms->last_fit >= (FtTime) llround (ms->cfg.retrain_days * FT_DAY));
  if (due)
    {
      c0 = cpu (ms);
      s0 = ms->cost.store_s;
      start_fit (ms, now);
      ms->cost.fits++;
      ok = ms->job == NULL || ms->job->join_at > now || finish_fit (ms, now, error);
      charge (ms, &ms->cost, &ms->cost.train_s, c0, s0);
      if (!ok)
        return FALSE;
    }
  if (ms->champion && ms->baseline)
    {
      c0 = cpu (ms);
      s0 = ms->cost.store_s;
      ok = predict (ms, now, error);
      charge (ms, &ms->cost, &ms->cost.predict_s, c0, s0);
      if (!ok)
        return FALSE;
    }
  return TRUE;
}

void
ft_maint_shadow_scores (const FtMaintShadow *ms, FtMaintShadowScores *out)
{
  g_return_if_fail (ms != NULL && out != NULL);
  *out = ms->sc;
  compute_scores (ms, out);
}

gboolean
ft_maint_shadow_risk (const FtMaintShadow *ms, guint vehicle, FtMaintRisk *out)
{
  g_return_val_if_fail (ms != NULL && out != NULL, FALSE);
  if (vehicle >= ms->risk->len || g_array_index (ms->risk, FtMaintRisk, vehicle).at < 0)
    return FALSE;
  *out = g_array_index (ms->risk, FtMaintRisk, vehicle);
  return TRUE;
}

guint
ft_maint_shadow_top (const FtMaintShadow *ms, guint n, FtMaintRisk *out)
{
  g_return_val_if_fail (ms != NULL && (n == 0 || out != NULL), 0);
  guint m = 0;
  g_autofree Ranked *rank = g_new (Ranked, MAX (ms->risk->len, 1));
  for (guint v = 0; v < ms->risk->len; v++)
    if (g_array_index (ms->risk, FtMaintRisk, v).at >= 0)
      rank[m++] = (Ranked) { g_array_index (ms->risk, FtMaintRisk, v).p[0], v };
  qsort (rank, m, sizeof (Ranked), cmp_ranked);
  m = MIN (m, n);
  for (guint i = 0; i < m; i++)
    out[i] = g_array_index (ms->risk, FtMaintRisk, rank[i].i);
  return m;
}
