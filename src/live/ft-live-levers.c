/* ft-live-levers.c — the rider levers in live mode: the simulator's
 * pricing policy and relocation incentives (src/pricing/ft-levers.h), run
 * by the twin's housekeeping at the configured intervals from live state
 * (vehicles available per zone, and the expected demand: the caller's
 * function, else the shadow forecast when one is attached and has a
 * forecast, else the trips seen starting in each zone over the last hour),
 * applied as a planner through the core's role-checked calls. The lever
 * state (multipliers, protected zones, the emergency flag, open offers and
 * when the next rounds are due) is kept in the store's meta table under
 * FT_LIVE_LEVERS_META and put back by ft_live_set_levers on a restart; the
 * restored prices go out on the price topic before any new interval runs.
 */
#include "ft-live-private.h"

#include <math.h>
#include <string.h>

struct _FtLiveLevers {
  FtLiveLeversConfig cfg;
  guint     planner;
  FtTime    next_price, next_offers;
  gboolean  hold_for_publish;   /* restored prices not yet on the topic */
  guint64   persisted_seq;      /* FT_EV_PRICE_CHANGED count when last kept */
  gboolean  persist_failed;
  guint64   n_intervals, n_rounds;
  FtLiveStarts starts;          /* trips seen starting over the last hour */
};

typedef struct {
  FtTime t;
  guint  zone;
} StartRec;

#define SCAN_EVERY FT_SECOND

void
ft_live_starts_init (FtLiveStarts *st)
{
  memset (st, 0, sizeof *st);
  st->starts = g_array_new (FALSE, FALSE, sizeof (StartRec));
  st->last_scan = G_MININT64;
}

void
ft_live_starts_clear (FtLiveStarts *st)
{
  g_clear_pointer (&st->prev_state, g_free);
  g_clear_pointer (&st->starts, g_array_unref);
  st->n_prev = 0;
}

void
ft_live_levers_config_init (FtLiveLeversConfig *c)
{
  g_return_if_fail (c != NULL);
  memset (c, 0, sizeof *c);
  ft_lever_policy_init (&c->policy);
  ft_dyn_guards_init (&c->guards);
  ft_incentive_rules_init (&c->rules);
}

void
ft_live_levers_free (FtLiveLevers *lv)
{
  if (lv == NULL)
    return;
  g_free ((gpointer) lv->cfg.protected_zones);
  ft_live_starts_clear (&lv->starts);
  g_free (lv);
}

static gboolean
persist (FtLive *live, FtLiveLevers *lv, GError **error)
{
  FtCore *core = live->core;
  lv->persisted_seq = ft_event_log_count (core->log, FT_EV_PRICE_CHANGED);
  if (core->store == NULL)
    return TRUE;
  g_autoptr (FtLeverState) st = ft_lever_state_capture (core->dyn, core->incentives, lv->next_price,
                                                        lv->next_offers);
  g_autofree char *json = ft_lever_state_to_json (st);
  return ft_store_put_meta (core->store, FT_LIVE_LEVERS_META, json, error);
}

gboolean
ft_live_set_levers (FtLive *live, const FtLiveLeversConfig *cfg, guint planner, FtTime now, GError **error)
{
  g_return_val_if_fail (live != NULL && cfg != NULL, FALSE);
  g_return_val_if_fail (cfg->locate != NULL, FALSE);
  FtCore *core = live->core;
  /* everything that can be refused is checked before anything changes */
  if (!ft_accounts_can (core->accounts, planner, FT_PERM_PLAN, error))
    return FALSE;
  if (cfg->n_zones == 0)
    {
      g_set_error (error, FT_LIVE_ERROR, FT_LIVE_ERROR_LEVERS, "pricing and incentives need at least one zone");
      return FALSE;
    }
  if (live->levers != NULL || core->dyn != NULL || core->incentives != NULL)
    {
      g_set_error (error, FT_LIVE_ERROR, FT_LIVE_ERROR_LEVERS, "the levers are already set on this twin");
      return FALSE;
    }
  gboolean pricing = cfg->policy.policy != FT_DYN_POLICY_OFF;
  g_autoptr (GError) e = NULL;
  if (!ft_lever_policy_check (&cfg->policy, &e) || (pricing && !ft_dyn_guards_check (&cfg->guards, &e))
      || (cfg->incentives && !ft_incentive_rules_check (&cfg->rules, &e)))
    {
      g_set_error (error, FT_LIVE_ERROR, FT_LIVE_ERROR_LEVERS, "levers: %s", e->message);
      return FALSE;
    }
  for (guint i = 0; i < cfg->n_protected; i++)
    if (cfg->protected_zones[i] >= cfg->n_zones)
      {
        g_set_error (error, FT_LIVE_ERROR, FT_LIVE_ERROR_LEVERS,
                     "protected zone %u does not exist (the zones are 0 to %u)", cfg->protected_zones[i],
                     cfg->n_zones - 1);
        return FALSE;
      }
  g_autoptr (FtLeverState) kept = NULL;
  if (core->store != NULL)
    {
      g_autofree char *text = ft_store_dup_meta (core->store, FT_LIVE_LEVERS_META);
      if (text != NULL)
        {
          kept = ft_lever_state_from_json (text, -1, "store meta " FT_LIVE_LEVERS_META, &e);
          if (kept == NULL)
            {
              g_set_error (error, FT_LIVE_ERROR, FT_LIVE_ERROR_LEVERS, "%s", e->message);
              return FALSE;
            }
          if (kept->n_zones != cfg->n_zones)
            {
              g_set_error (error, FT_LIVE_ERROR, FT_LIVE_ERROR_LEVERS,
                           "the store's kept prices (meta %s) are for %u zones, the city has %u: use the "
                           "city they were made for, or another --db", FT_LIVE_LEVERS_META, kept->n_zones,
                           cfg->n_zones);
              return FALSE;
            }
          if (!pricing)
            {
              /* prices are not run: what was kept of them is not put back */
              for (guint z = 0; z < kept->n_zones; z++)
                kept->multiplier[z] = 1.0, kept->protected_[z] = FALSE;
              kept->emergency = FALSE;
            }
          if (!cfg->incentives)
            kept->has_offers = FALSE;
        }
    }
  if (pricing && !ft_core_enable_dynamic_zones (core, planner, cfg->n_zones, &cfg->guards, cfg->locate,
                                                cfg->locate_data, now, error))
    return FALSE;
  if (cfg->incentives && !ft_core_enable_incentives (core, planner, cfg->n_zones, &cfg->rules, now, error))
    return FALSE;
  guint64 before = ft_event_log_count (core->log, FT_EV_PRICE_CHANGED);
  if (kept != NULL && !ft_core_restore_levers (core, planner, kept, now, error))
    return FALSE;
  for (guint i = 0; pricing && i < cfg->n_protected; i++)
    if (!ft_core_set_price_protected (core, planner, cfg->protected_zones[i], TRUE, now, error))
      return FALSE;
  FtLiveLevers *lv = g_new0 (FtLiveLevers, 1);
  lv->cfg = *cfg;
  lv->cfg.protected_zones = g_memdup2 (cfg->protected_zones, sizeof (guint) * cfg->n_protected);
  lv->planner = planner;
  ft_live_starts_init (&lv->starts);
  /* a kept schedule goes on where it was; a new one starts at once */
  lv->next_price = kept != NULL && kept->next_price >= 0 ? kept->next_price : now;
  lv->next_offers = kept != NULL && kept->next_offers >= 0 ? kept->next_offers : now;
  lv->hold_for_publish = kept != NULL && ft_event_log_count (core->log, FT_EV_PRICE_CHANGED) != before;
  live->levers = lv;
  if (!persist (live, lv, &e))
    {
      g_warning ("live: keeping the lever state: %s", e->message);
      lv->persist_failed = TRUE;
    }
  return TRUE;
}

/* Trips seen starting since the last scan, by zone; drops starts older than an hour. */
void
ft_live_starts_scan (FtLiveStarts *st, FtLive *live, FtDynZoneLocator locate, gpointer data, guint n_zones,
                     FtTime now)
{
  if (st->last_scan != G_MININT64 && now - st->last_scan < SCAN_EVERY)
    return;
  st->last_scan = now;
  FtFleet *f = live->core->fleet;
  guint nv = ft_fleet_n_vehicles (f);
  const FtVehicle *vs = ft_fleet_vehicles (f);
  if (nv > st->n_prev)
    {
      st->prev_state = g_realloc_n (st->prev_state, nv, 1);
      for (guint v = st->n_prev; v < nv; v++)
        st->prev_state[v] = vs[v].state;
      st->n_prev = nv;
    }
  for (guint v = 0; v < nv; v++)
    {
      if (vs[v].state == FT_STATE_ON_TRIP && st->prev_state[v] != FT_STATE_ON_TRIP)
        {
          gint z = locate (vs[v].pos, data);
          if (z >= 0 && (guint) z < n_zones)
            {
              StartRec r = { now, (guint) z };
              g_array_append_val (st->starts, r);
            }
        }
      st->prev_state[v] = vs[v].state;
    }
  guint drop = 0;
  while (drop < st->starts->len && g_array_index (st->starts, StartRec, drop).t <= now - FT_HOUR)
    drop++;
  if (drop > 0)
    g_array_remove_range (st->starts, 0, drop);
}

void
ft_live_starts_count (const FtLiveStarts *st, guint n_zones, double *seen)
{
  memset (seen, 0, sizeof (double) * n_zones);
  for (guint i = 0; i < st->starts->len; i++)
    {
      guint z = g_array_index (st->starts, StartRec, i).zone;
      if (z < n_zones)
        seen[z] += 1.0;
    }
}

/* Requests expected in zone z during the hour that holds t (a rate per hour). */
static double
demand_in_hour (FtLive *live, FtLiveLevers *lv, const double *seen, guint z, FtTime t)
{
  if (lv->cfg.demand != NULL)
    {
      double r = lv->cfg.demand (z, t, lv->cfg.demand_data);
      if (isfinite (r))
        return MAX (r, 0.0);
    }
  double r;
  if (live->shadow != NULL && ft_shadow_forecast (live->shadow, z, t, &r) && isfinite (r))
    return MAX (r, 0.0);
  return seen[z];
}

static void
count_available (FtLive *live, FtLiveLevers *lv, guint *avail)
{
  memset (avail, 0, sizeof (guint) * lv->cfg.n_zones);
  FtFleet *f = live->core->fleet;
  guint nv = ft_fleet_n_vehicles (f);
  const FtVehicle *vs = ft_fleet_vehicles (f);
  for (guint v = 0; v < nv; v++)
    if (vs[v].state == FT_STATE_AVAILABLE)
      {
        gint z = lv->cfg.locate (vs[v].pos, lv->cfg.locate_data);
        if (z >= 0 && (guint) z < lv->cfg.n_zones)
          avail[z]++;
      }
}

void
ft_live_levers_tick (FtLive *live, FtTime now)
{
  FtLiveLevers *lv = live->levers;
  if (lv == NULL)
    return;
  FtCore *core = live->core;
  ft_live_starts_scan (&lv->starts, live, lv->cfg.locate, lv->cfg.locate_data, lv->cfg.n_zones, now);
  /* the restored prices are published (on the connection) before the policy moves them */
  if (lv->hold_for_publish && !live->prices_published)
    return;
  lv->hold_for_publish = FALSE;
  gboolean price_due = core->dyn != NULL && now >= lv->next_price;
  gboolean offers_due = core->incentives != NULL && now >= lv->next_offers;
  gboolean changed = FALSE;
  if (price_due || offers_due)
    {
      guint nz = lv->cfg.n_zones;
      g_autofree double *seen = g_new0 (double, nz);
      ft_live_starts_count (&lv->starts, nz, seen);
      g_autofree guint *avail = g_new0 (guint, nz);
      count_available (live, lv, avail);
      g_autoptr (GError) e = NULL;
      if (price_due)
        {
          g_autofree double *expected = g_new (double, nz);
          g_autofree double *prop = g_new (double, nz);
          for (guint z = 0; z < nz; z++)
            expected[z] = ft_levers_next_hour (demand_in_hour (live, lv, seen, z, now),
                                               demand_in_hour (live, lv, seen, z, now + FT_HOUR), now);
          ft_levers_propose (&lv->cfg.policy, core->dyn, expected, avail, prop);
          if (!ft_core_apply_zone_prices (core, lv->planner, prop, now, NULL, &e))
            g_warning ("live: pricing interval: %s", e->message);
          g_clear_error (&e);
          lv->n_intervals++;
          /* the next one an interval on, skipping any missed while away */
          FtTime iv = ft_dyn_pricing_guards (core->dyn)->interval;
          lv->next_price += ((now - lv->next_price) / iv + 1) * iv;
          changed = TRUE;
        }
      if (offers_due)
        {
          g_autofree double *want = g_new0 (double, nz);
          g_autofree gboolean *start = g_new0 (gboolean, nz);
          g_autofree gboolean *end = g_new0 (gboolean, nz);
          /* the same horizon as the simulator: the next 3 hours' demand */
          for (guint z = 0; z < nz; z++)
            for (guint k = 0; k < 3; k++)
              want[z] += demand_in_hour (live, lv, seen, z, now + (FtTime) k * FT_HOUR);
          ft_levers_offers (&lv->cfg.policy, nz, want, avail, start, end);
          if (!ft_core_set_incentive_offers (core, lv->planner, start, end, now, &e))
            g_warning ("live: incentive offers: %s", e->message);
          g_clear_error (&e);
          lv->n_rounds++;
          FtTime iv = ft_incentives_rules (core->incentives)->recompute;
          lv->next_offers += ((now - lv->next_offers) / iv + 1) * iv;
          changed = TRUE;
        }
    }
  if (changed || lv->persisted_seq != ft_event_log_count (core->log, FT_EV_PRICE_CHANGED))
    {
      g_autoptr (GError) e = NULL;
      if (!persist (live, lv, &e) && !lv->persist_failed)
        {
          lv->persist_failed = TRUE;
          g_warning ("live: keeping the lever state: %s (further failures are not reported)", e->message);
        }
    }
}

guint64
ft_live_n_price_intervals (FtLive *live)
{
  g_return_val_if_fail (live != NULL, 0);
  return live->levers ? live->levers->n_intervals : 0;
}

guint64
ft_live_n_offer_rounds (FtLive *live)
{
  g_return_val_if_fail (live != NULL, 0);
  return live->levers ? live->levers->n_rounds : 0;
}
