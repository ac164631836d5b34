/* ft-core.h — the real modules wired together: one event log, fleet,
 * accounts, ledger and payments, pricing, geofences, booking and the
 * fleet-operations task queue, and an optional SQLite store. The simulator, the desktop app, live mode and the
 * CLI all drive the same FtCore; it never knows which world feeds it.
 */
#pragma once

#include "ft-booking.h"
#include "ft-ops.h"
#include "ft-store.h"
#include "ft-dynamic-pricing.h"
#include "ft-incentives.h"
#include "ft-levers.h"

G_BEGIN_DECLS

typedef struct {
  char            currency[4];      /* default "EUR" */
  guint64         seed;             /* ids, simulated card provider */
  double          card_decline_rate;/* simulated provider; default 0.02 */
  guint           card_latency_min_ms, card_latency_max_ms; /* default 150..900 */
  gint64          auto_topup_minor; /* default 2000 */
  FtBookingConfig booking;
} FtCoreConfig;

typedef struct {
  FtEventLog  *log;
  FtFleet     *fleet;
  FtAccounts  *accounts;
  FtLedger    *ledger;
  FtPayments  *payments;
  FtPricing   *pricing;
  FtGeofences *geofences;   /* owned */
  FtBooking   *booking;
  FtOps       *ops;         /* staff tasks (the world or live mode drives them) */
  FtStore     *store;       /* NULL unless attached */
  FtDynPricing *dyn;        /* per-zone dynamic multipliers, NULL until enabled */
  FtDynHook    dyn_hook;
  FtIncentives *incentives; /* relocation offers and rules, NULL until enabled */
  FtCoreConfig config;
} FtCore;

void      ft_core_config_init  (FtCoreConfig *cfg);
/* geofences and pricing may be NULL (all allowed / default simple plan);
 * ownership of both passes to the core. */
FtCore   *ft_core_new          (const FtCoreConfig *cfg, FtGeofences *geofences, FtPricing *pricing);
void      ft_core_free         (FtCore *core);
/* Open (creating or migrating) a SQLite file; loads its state if it has any. */
gboolean  ft_core_attach_store (FtCore *core, const char *path, const FtStoreConfig *cfg,
                                GError **error);
/* Commit what is pending, then close the store (the core keeps its state). */
gboolean  ft_core_detach_store (FtCore *core, GError **error);
FtStoreTargets ft_core_store_targets (FtCore *core);
gboolean  ft_core_commit       (FtCore *core, GError **error);   /* no-op without store */
/* Commit with `extra` in the same transaction (ft_store_commit_with);
 * without a store, `extra` is not run and this fails. */
gboolean  ft_core_commit_with  (FtCore *core, FtStoreExtraFunc extra, gpointer data,
                                GError **error);
gboolean  ft_core_maybe_commit (FtCore *core, FtTime now, GError **error);
/* All invariants: fleet, accounts, ledger/payments, booking, tasks. */
gboolean  ft_core_check        (FtCore *core, GError **error);

/* Price changes while the core runs: `by` must hold FT_PERM_PLAN (planner
 * or admin; FT_ACCOUNTS_ERROR_PERMISSION otherwise, nothing changed); each
 * change is logged as FT_EV_PRICE_CHANGED. The pricing a core owns refuses
 * direct changes (see ft_pricing_set_sealed). */
typedef enum {
  FT_PRICE_CHANGE_PLAN = 1,
  FT_PRICE_CHANGE_ZONE,
  FT_PRICE_CHANGE_DYNAMIC,
  FT_PRICE_CHANGE_DYNAMIC_ZONE,   /* ref = zone index, amount = its new multiplier */
  FT_PRICE_CHANGE_EMERGENCY,      /* amount = the cap in force (1e-4), b = 1 declared / 0 lifted */
  FT_PRICE_CHANGE_PROTECTED,      /* ref = zone, b = 1 protected / 0 not */
  FT_PRICE_CHANGE_OFFERS,         /* incentive offers replaced; b = how many */
} FtPriceChange;

gboolean  ft_core_put_pricing_plan    (FtCore *core, guint by, const FtPricingPlan *plan, FtTime now,
                                       GError **error);
gboolean  ft_core_set_zone_multiplier (FtCore *core, guint by, const char *zone_id, double multiplier,
                                       FtTime now, GError **error);
gboolean  ft_core_set_dynamic_pricing (FtCore *core, guint by, FtDynamicPriceFunc fn, gpointer user_data,
                                       double floor, double cap, FtTime now, GError **error);
/* Dynamic pricing per zone (FtDynPricing owned by the core, installed as
 * the pricing's dynamic hook with its floor and cap). `locate` maps a
 * trip's start to a zone index (-1: none). All of these need FT_PERM_PLAN
 * and log FT_EV_PRICE_CHANGED; the guard rails hold whatever is proposed. */
gboolean  ft_core_enable_dynamic_zones (FtCore *core, guint by, guint n_zones, const FtDynGuards *guards,
                                        FtDynZoneLocator locate, gpointer locate_data, FtTime now,
                                        GError **error);
/* One proposal per zone; each goes through the guards, each change is
 * logged (ref = zone). *n_changed (nullable) gets how many changed. */
gboolean  ft_core_apply_zone_prices   (FtCore *core, guint by, const double *proposed, FtTime now,
                                       guint *n_changed, GError **error);
gboolean  ft_core_set_price_emergency (FtCore *core, guint by, gboolean on, FtTime now, GError **error);
gboolean  ft_core_set_price_protected (FtCore *core, guint by, guint zone, gboolean protected_,
                                       FtTime now, GError **error);

/* Relocation incentives: rules (checked) and n zones; offers replaced by
 * a planner; a finished trip's reward evaluated by the rules and, when
 * earned, credited to the rider's wallet from expense:incentives. */
gboolean  ft_core_enable_incentives   (FtCore *core, guint by, guint n_zones, const FtIncentiveRules *rules,
                                       FtTime now, GError **error);
gboolean  ft_core_set_incentive_offers(FtCore *core, guint by, const gboolean *start, const gboolean *end,
                                       FtTime now, GError **error);
/* Put back the lever state of an earlier run (a restart of the live
 * twin): protected zones, the emergency flag, the multipliers (through
 * ft_dyn_pricing_restore_zone: inside the rails, not held back by the
 * maximum change) and the open offers. Needs FT_PERM_PLAN, dynamic zones
 * enabled when the state has multipliers other than 1 and incentives
 * enabled when it has offers, with the state's number of zones; refused
 * with nothing changed otherwise. Each change is logged. */
gboolean  ft_core_restore_levers      (FtCore *core, guint by, const FtLeverState *state, FtTime now,
                                       GError **error);
/* The reward for ended booking `booking` (start/end zones and the offers
 * shown when it was booked); *amount gets what was paid (0 if none).
 * Returns the verdict; FT_N_INCENTIVE_VERDICTS with an error if the
 * booking is not an ended one or the payment failed. */
FtIncentiveVerdict ft_core_reward_trip (FtCore *core, gint64 booking, gint from_zone, gint to_zone,
                                        gboolean start_shown, gboolean end_shown, FtTime now,
                                        gint64 *amount, GError **error);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (FtCore, ft_core_free)

G_END_DECLS
