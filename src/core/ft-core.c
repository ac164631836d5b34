/* ft-core.c — wires the real modules together: one event log shared by
 * fleet, accounts, ledger, payments (simulated card provider) and booking,
 * plus pricing, geofences and the task queue; optionally a SQLite store that loads the
 * persisted state and commits the log in batches. ft_core_check runs every
 * module's invariant checker.
 */
#include "ft-core.h"

#include <math.h>
#include <string.h>

void
ft_core_config_init (FtCoreConfig *cfg)
{
  g_return_if_fail (cfg != NULL);
  memset (cfg, 0, sizeof *cfg);
  g_strlcpy (cfg->currency, "EUR", sizeof cfg->currency);
  cfg->seed = 1;
  cfg->card_decline_rate = 0.02;
  cfg->card_latency_min_ms = 150;
  cfg->card_latency_max_ms = 900;
  cfg->auto_topup_minor = 2000;
  ft_booking_config_init (&cfg->booking);
}

static FtPricing *
default_pricing (const char *currency)
{
  FtPricing *p = ft_pricing_new ();
  g_autoptr(FtPricingPlan) plan = ft_pricing_plan_new_simple ("default", currency, 100, 25.0, 0.0);
  g_autoptr(GError) err = NULL;

  if (!ft_pricing_add_plan (p, plan, &err))
    g_critical ("default pricing plan refused: %s", err->message);
  return p;
}

FtCore *
ft_core_new (const FtCoreConfig *cfg, FtGeofences *geofences, FtPricing *pricing)
{
  FtCore *core = g_new0 (FtCore, 1);
  FtBookingDeps deps;
  FtPayProvider card;

  if (cfg)
    core->config = *cfg;
  else
    ft_core_config_init (&core->config);
  if (core->config.currency[0] == '\0')
    g_strlcpy (core->config.currency, "EUR", sizeof core->config.currency);
  if (core->config.booking.seed == 0 || core->config.booking.seed == 0x5eed)
    core->config.booking.seed = ft_mix64 (core->config.seed ^ 0xb00c);

  core->log = ft_event_log_new ();
  core->fleet = ft_fleet_new (ft_mix64 (core->config.seed ^ 0xf1ee7), core->log);
  core->accounts = ft_accounts_new (ft_mix64 (core->config.seed ^ 0xacc7), core->log);
  core->ledger = ft_ledger_new (core->config.currency, core->log);
  card = ft_sim_card_provider_new (ft_mix64 (core->config.seed ^ 0xca4d),
                                   core->config.card_decline_rate,
                                   core->config.card_latency_min_ms,
                                   core->config.card_latency_max_ms);
  core->payments = ft_payments_new (core->ledger, card);
  ft_payments_set_auto_topup (core->payments, core->config.auto_topup_minor);
  core->pricing = pricing ? pricing : default_pricing (core->config.currency);
  ft_pricing_set_sealed (core->pricing, TRUE);   /* changes: ft_core_put_pricing_plan & co. */
  if (geofences)
    core->geofences = geofences;
  else
    {
      FtZoneRules all = ft_zone_rules_all_allowed ();
      core->geofences = ft_geofences_new ();
      ft_geofences_set_global_rules (core->geofences, &all);
    }

  memset (&deps, 0, sizeof deps);
  deps.fleet = core->fleet;
  deps.accounts = core->accounts;
  deps.pricing = core->pricing;
  deps.payments = core->payments;
  deps.geofences = core->geofences;
  deps.log = core->log;
  core->booking = ft_booking_new (&deps, &core->config.booking);
  core->ops = ft_ops_new (core->fleet, core->accounts, core->log);
  return core;
}

void
ft_core_free (FtCore *core)
{
  if (!core)
    return;
  if (core->store)
    ft_store_close (core->store);
  ft_ops_free (core->ops);
  ft_booking_free (core->booking);
  ft_payments_free (core->payments);
  ft_ledger_free (core->ledger);
  ft_pricing_free (core->pricing);
  ft_geofences_free (core->geofences);
  ft_accounts_free (core->accounts);
  ft_fleet_free (core->fleet);
  ft_event_log_free (core->log);
  ft_dyn_pricing_free (core->dyn);
  ft_incentives_free (core->incentives);
  g_free (core);
}

FtStoreTargets
ft_core_store_targets (FtCore *core)
{
  FtStoreTargets t;

  memset (&t, 0, sizeof t);
  g_return_val_if_fail (core != NULL, t);
  t.log = core->log;
  t.fleet = core->fleet;
  t.accounts = core->accounts;
  t.ledger = core->ledger;
  t.payments = core->payments;
  t.booking = core->booking;
  t.ops = core->ops;
  return t;
}

static gboolean
core_is_empty (FtCore *core)
{
  return ft_fleet_n_vehicles (core->fleet) == 0 && ft_fleet_n_packs (core->fleet) == 0 &&
         ft_accounts_n (core->accounts) == 0 && ft_ledger_n_tx (core->ledger) == 0 &&
         ft_booking_n (core->booking) == 0 && ft_ops_n (core->ops) == 0;
}

gboolean
ft_core_attach_store (FtCore *core, const char *path, const FtStoreConfig *cfg, GError **error)
{
  g_autoptr(FtStore) store = NULL;
  FtStoreTargets t;

  g_return_val_if_fail (core != NULL, FALSE);
  g_return_val_if_fail (path != NULL, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  if (core->store)
    {
      g_set_error (error, FT_STORE_ERROR, FT_STORE_ERROR_OPEN,
                   "cannot attach %s: a store is already attached; detach it first", path);
      return FALSE;
    }
  store = ft_store_open (path, cfg, error);
  if (!store)
    return FALSE;
  t = ft_core_store_targets (core);

  if (core_is_empty (core))
    {
      /* Whatever was persisted becomes the core's state (nothing if fresh). */
      if (!ft_store_load (store, &t, error))
        return FALSE;
      if (!ft_core_check (core, error))
        {
          g_prefix_error (error, "%s loaded but its state is inconsistent: ", path);
          return FALSE;
        }
    }
  else if (ft_store_n_events (store) == 0)
    {
      /* A fresh file for a core that already has state: write it all. */
      if (!ft_store_save_all (store, &t, error) || !ft_store_commit (store, &t, error))
        return FALSE;
    }
  else
    {
      g_set_error (error, FT_STORE_ERROR, FT_STORE_ERROR_OPEN,
                   "cannot attach %s: it already holds %" G_GUINT64_FORMAT " events and this "
                   "core has state of its own; attach it to a fresh core instead",
                   path, ft_store_n_events (store));
      return FALSE;
    }
  core->store = g_steal_pointer (&store);
  return TRUE;
}

gboolean
ft_core_detach_store (FtCore *core, GError **error)
{
  gboolean ok;

  g_return_val_if_fail (core != NULL, FALSE);
  if (!core->store)
    return TRUE;
  ok = ft_core_commit (core, error);
  ft_store_close (core->store);
  core->store = NULL;
  return ok;
}

gboolean
ft_core_commit (FtCore *core, GError **error)
{
  FtStoreTargets t;

  g_return_val_if_fail (core != NULL, FALSE);
  if (!core->store)
    return TRUE;
  t = ft_core_store_targets (core);
  return ft_store_commit (core->store, &t, error);
}

gboolean
ft_core_commit_with (FtCore *core, FtStoreExtraFunc extra, gpointer data, GError **error)
{
  FtStoreTargets t;

  g_return_val_if_fail (core != NULL, FALSE);
  g_return_val_if_fail (core->store != NULL, FALSE);
  t = ft_core_store_targets (core);
  return ft_store_commit_with (core->store, &t, extra, data, error);
}

gboolean
ft_core_maybe_commit (FtCore *core, FtTime now, GError **error)
{
  FtStoreTargets t;

  g_return_val_if_fail (core != NULL, FALSE);
  if (!core->store)
    return TRUE;
  t = ft_core_store_targets (core);
  return ft_store_maybe_commit (core->store, &t, now, NULL, error);
}

gboolean
ft_core_check (FtCore *core, GError **error)
{
  g_return_val_if_fail (core != NULL, FALSE);

  if (!ft_fleet_check (core->fleet, error))
    return FALSE;
  if (!ft_accounts_check (core->accounts, error))
    return FALSE;
  /* ft_payments_check runs ft_ledger_check first */
  if (!ft_payments_check (core->payments, error))
    return FALSE;
  if (!ft_booking_check (core->booking, error))
    return FALSE;
  if (!ft_ops_check (core->ops, error))
    return FALSE;
  return TRUE;
}

/* ---- role-checked price changes ---------------------------------------- */

static void
log_price_change (FtCore *core, guint by, FtPriceChange what, double multiplier, FtTime now)
{
  FtEvent ev = ft_event_init (FT_EV_PRICE_CHANGED, now);
  ev.account = (gint32) by;
  ev.a = (gint32) what;
  ev.amount = isfinite (multiplier) ? (gint64) llround (multiplier * 1e4) : 0;
  ft_event_log_append (core->log, &ev);
}

gboolean
ft_core_put_pricing_plan (FtCore *core, guint by, const FtPricingPlan *plan, FtTime now, GError **error)
{
  g_return_val_if_fail (core != NULL && plan != NULL, FALSE);
  if (!ft_accounts_can (core->accounts, by, FT_PERM_PLAN, error))
    return FALSE;
  ft_pricing_set_sealed (core->pricing, FALSE);
  gboolean ok = ft_pricing_put_plan (core->pricing, plan, error);
  ft_pricing_set_sealed (core->pricing, TRUE);
  if (ok)
    log_price_change (core, by, FT_PRICE_CHANGE_PLAN, 1.0, now);
  return ok;
}

gboolean
ft_core_set_zone_multiplier (FtCore *core, guint by, const char *zone_id, double multiplier, FtTime now,
                             GError **error)
{
  g_return_val_if_fail (core != NULL && zone_id != NULL, FALSE);
  if (!ft_accounts_can (core->accounts, by, FT_PERM_PLAN, error))
    return FALSE;
  ft_pricing_set_sealed (core->pricing, FALSE);
  gboolean ok = ft_pricing_set_zone_multiplier (core->pricing, zone_id, multiplier, error);
  ft_pricing_set_sealed (core->pricing, TRUE);
  if (ok)
    log_price_change (core, by, FT_PRICE_CHANGE_ZONE, multiplier, now);
  return ok;
}

gboolean
ft_core_set_dynamic_pricing (FtCore *core, guint by, FtDynamicPriceFunc fn, gpointer user_data,
                             double floor_, double cap, FtTime now, GError **error)
{
  g_return_val_if_fail (core != NULL, FALSE);
  if (!ft_accounts_can (core->accounts, by, FT_PERM_PLAN, error))
    return FALSE;
  ft_pricing_set_sealed (core->pricing, FALSE);
  gboolean ok = ft_pricing_set_dynamic_checked (core->pricing, fn, user_data, floor_, cap, error);
  ft_pricing_set_sealed (core->pricing, TRUE);
  if (ok)
    log_price_change (core, by, FT_PRICE_CHANGE_DYNAMIC, cap, now);
  return ok;
}

/* ---- dynamic zone prices and incentives --------------------------------- */

static void
log_price_event (FtCore *core, guint by, FtPriceChange what, gint64 ref, double multiplier, gint64 b,
                 FtTime now)
{
  FtEvent ev = ft_event_init (FT_EV_PRICE_CHANGED, now);
  ev.account = (gint32) by;
  ev.a = (gint32) what;
  ev.ref = ref;
  ev.b = b;
  ev.amount = isfinite (multiplier) ? (gint64) llround (multiplier * 1e4) : 0;
  ft_event_log_append (core->log, &ev);
}

gboolean
ft_core_enable_dynamic_zones (FtCore *core, guint by, guint n_zones, const FtDynGuards *guards,
                              FtDynZoneLocator locate, gpointer locate_data, FtTime now, GError **error)
{
  g_return_val_if_fail (core != NULL && locate != NULL, FALSE);
  if (!ft_accounts_can (core->accounts, by, FT_PERM_PLAN, error))
    return FALSE;
  g_autoptr (FtDynPricing) dp = ft_dyn_pricing_new (n_zones, guards, error);
  if (dp == NULL)
    return FALSE;
  const FtDynGuards *g = ft_dyn_pricing_guards (dp);
  FtDynHook old = core->dyn_hook;
  core->dyn_hook = (FtDynHook) { dp, locate, locate_data };
  ft_pricing_set_sealed (core->pricing, FALSE);
  gboolean ok = ft_pricing_set_dynamic_checked (core->pricing, ft_dyn_pricing_hook, &core->dyn_hook,
                                                g->floor, g->cap, error);
  ft_pricing_set_sealed (core->pricing, TRUE);
  if (!ok)
    {
      core->dyn_hook = old;
      return FALSE;
    }
  ft_dyn_pricing_free (core->dyn);
  core->dyn = g_steal_pointer (&dp);
  log_price_change (core, by, FT_PRICE_CHANGE_DYNAMIC, g->cap, now);
  return TRUE;
}

static gboolean
need_dyn (FtCore *core, GError **error)
{
  if (core->dyn != NULL)
    return TRUE;
  g_set_error (error, FT_PRICING_ERROR, FT_PRICING_ERROR_INVALID,
               "dynamic zone pricing is not enabled (ft_core_enable_dynamic_zones)");
  return FALSE;
}

gboolean
ft_core_apply_zone_prices (FtCore *core, guint by, const double *proposed, FtTime now, guint *n_changed,
                           GError **error)
{
  g_return_val_if_fail (core != NULL && proposed != NULL, FALSE);
  if (n_changed != NULL)
    *n_changed = 0;
  if (!ft_accounts_can (core->accounts, by, FT_PERM_PLAN, error) || !need_dyn (core, error))
    return FALSE;
  guint n = ft_dyn_pricing_n_zones (core->dyn);
  g_autofree guint *changed = g_new (guint, MAX (n, 1));
  guint k = ft_dyn_pricing_apply (core->dyn, proposed, changed);
  for (guint i = 0; i < k; i++)
    log_price_event (core, by, FT_PRICE_CHANGE_DYNAMIC_ZONE, changed[i],
                     ft_dyn_pricing_get (core->dyn, changed[i]), 0, now);
  if (n_changed != NULL)
    *n_changed = k;
  return TRUE;
}

gboolean
ft_core_set_price_emergency (FtCore *core, guint by, gboolean on, FtTime now, GError **error)
{
  g_return_val_if_fail (core != NULL, FALSE);
  if (!ft_accounts_can (core->accounts, by, FT_PERM_PLAN, error) || !need_dyn (core, error))
    return FALSE;
  ft_dyn_pricing_set_emergency (core->dyn, on);
  const FtDynGuards *g = ft_dyn_pricing_guards (core->dyn);
  log_price_event (core, by, FT_PRICE_CHANGE_EMERGENCY, -1, on ? g->emergency_cap : g->cap, on ? 1 : 0,
                   now);
  return TRUE;
}

gboolean
ft_core_set_price_protected (FtCore *core, guint by, guint zone, gboolean protected_, FtTime now,
                             GError **error)
{
  g_return_val_if_fail (core != NULL, FALSE);
  if (!ft_accounts_can (core->accounts, by, FT_PERM_PLAN, error) || !need_dyn (core, error))
    return FALSE;
  if (zone >= ft_dyn_pricing_n_zones (core->dyn))
    {
      g_set_error (error, FT_PRICING_ERROR, FT_PRICING_ERROR_INVALID,
                   "zone %u does not exist (there are %u)", zone, ft_dyn_pricing_n_zones (core->dyn));
      return FALSE;
    }
  ft_dyn_pricing_set_protected (core->dyn, zone, protected_);
  log_price_event (core, by, FT_PRICE_CHANGE_PROTECTED, zone, ft_dyn_pricing_get (core->dyn, zone),
                   protected_ ? 1 : 0, now);
  return TRUE;
}

gboolean
ft_core_enable_incentives (FtCore *core, guint by, guint n_zones, const FtIncentiveRules *rules, FtTime now,
                           GError **error)
{
  g_return_val_if_fail (core != NULL, FALSE);
  if (!ft_accounts_can (core->accounts, by, FT_PERM_PLAN, error))
    return FALSE;
  FtIncentives *inc = ft_incentives_new (n_zones, rules, error);
  if (inc == NULL)
    return FALSE;
  ft_incentives_free (core->incentives);
  core->incentives = inc;
  log_price_event (core, by, FT_PRICE_CHANGE_OFFERS, -1, 1.0, 0, now);
  return TRUE;
}

gboolean
ft_core_set_incentive_offers (FtCore *core, guint by, const gboolean *start, const gboolean *end, FtTime now,
                              GError **error)
{
  g_return_val_if_fail (core != NULL, FALSE);
  if (!ft_accounts_can (core->accounts, by, FT_PERM_PLAN, error))
    return FALSE;
  if (core->incentives == NULL)
    {
      g_set_error (error, FT_PRICING_ERROR, FT_PRICING_ERROR_INVALID,
                   "incentives are not enabled (ft_core_enable_incentives)");
      return FALSE;
    }
  ft_incentives_set_offers (core->incentives, start, end);
  log_price_event (core, by, FT_PRICE_CHANGE_OFFERS, -1, 1.0, ft_incentives_n_offers (core->incentives),
                   now);
  return TRUE;
}

gboolean
ft_core_restore_levers (FtCore *core, guint by, const FtLeverState *st, FtTime now, GError **error)
{
  g_return_val_if_fail (core != NULL && st != NULL, FALSE);
  if (!ft_accounts_can (core->accounts, by, FT_PERM_PLAN, error))
    return FALSE;
  gboolean moved = st->emergency;
  for (guint z = 0; z < st->n_zones; z++)
    moved = moved || st->protected_[z] || fabs (st->multiplier[z] - 1.0) > 1e-9;
  if (moved && !need_dyn (core, error))
    return FALSE;
  if (core->dyn != NULL && st->n_zones != ft_dyn_pricing_n_zones (core->dyn))
    {
      g_set_error (error, FT_PRICING_ERROR, FT_PRICING_ERROR_INVALID,
                   "the kept prices are for %u zones, dynamic pricing has %u", st->n_zones,
                   ft_dyn_pricing_n_zones (core->dyn));
      return FALSE;
    }
  if (st->has_offers && core->incentives != NULL && st->n_zones != ft_incentives_n_zones (core->incentives))
    {
      g_set_error (error, FT_PRICING_ERROR, FT_PRICING_ERROR_INVALID,
                   "the kept offers are for %u zones, incentives have %u", st->n_zones,
                   ft_incentives_n_zones (core->incentives));
      return FALSE;
    }
  if (core->dyn != NULL)
    {
      for (guint z = 0; z < st->n_zones; z++)
        if (st->protected_[z] != ft_dyn_pricing_is_protected (core->dyn, z))
          {
            ft_dyn_pricing_set_protected (core->dyn, z, st->protected_[z]);
            log_price_event (core, by, FT_PRICE_CHANGE_PROTECTED, z, ft_dyn_pricing_get (core->dyn, z),
                             st->protected_[z] ? 1 : 0, now);
          }
      if (st->emergency != ft_dyn_pricing_emergency (core->dyn))
        {
          ft_dyn_pricing_set_emergency (core->dyn, st->emergency);
          const FtDynGuards *g = ft_dyn_pricing_guards (core->dyn);
          log_price_event (core, by, FT_PRICE_CHANGE_EMERGENCY, -1, st->emergency ? g->emergency_cap : g->cap,
                           st->emergency ? 1 : 0, now);
        }
      for (guint z = 0; z < st->n_zones; z++)
        if (ft_dyn_pricing_restore_zone (core->dyn, z, st->multiplier[z]))
          log_price_event (core, by, FT_PRICE_CHANGE_DYNAMIC_ZONE, z, ft_dyn_pricing_get (core->dyn, z), 0, now);
    }
  if (st->has_offers && core->incentives != NULL)
    {
      ft_incentives_set_offers (core->incentives, st->start, st->end);
      log_price_event (core, by, FT_PRICE_CHANGE_OFFERS, -1, 1.0, ft_incentives_n_offers (core->incentives),
                       now);
    }
  return TRUE;
}

FtIncentiveVerdict
ft_core_reward_trip (FtCore *core, gint64 booking, gint from_zone, gint to_zone, gboolean start_shown,
                     gboolean end_shown, FtTime now, gint64 *amount, GError **error)
{
  g_return_val_if_fail (core != NULL && amount != NULL, FT_N_INCENTIVE_VERDICTS);
  *amount = 0;
  if (core->incentives == NULL)
    return FT_INCENTIVE_NO_OFFER;
  const FtBookingRec *r = ft_booking_get (core->booking, booking);
  if (r == NULL || r->state != FT_BK_ENDED)
    {
      g_set_error (error, FT_BOOKING_ERROR, FT_BOOKING_ERROR_WRONG_STATE,
                   "booking %" G_GINT64_FORMAT " has not ended; only a finished trip earns a reward",
                   booking);
      return FT_N_INCENTIVE_VERDICTS;
    }
  if (ft_incentives_booking_rewarded (core->incentives, booking))
    return FT_INCENTIVE_ALREADY_PAID;
  gint64 want = 0;
  FtIncentiveVerdict v = ft_incentives_evaluate (core->incentives, r->rider, from_zone, to_zone, r->start,
                                                 r->end, start_shown, end_shown, now, &want);
  if (v != FT_INCENTIVE_REWARDED)
    return v;
  g_autofree char *key = g_strdup_printf ("bk%" G_GINT64_FORMAT "-incentive", booking);
  if (ft_payments_incentive (core->payments, r->rider, want, booking, key, now, error) < 0)
    return FT_N_INCENTIVE_VERDICTS;
  ft_incentives_record (core->incentives, r->rider, from_zone, to_zone, want, now);
  ft_incentives_record_booking (core->incentives, booking);
  *amount = want;
  return v;
}
