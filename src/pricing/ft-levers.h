/* ft-levers.h — the rider-lever policy that the simulator and the live
 * twin both run: every pricing interval, one proposed multiplier per zone
 * from the expected demand of the next hour and the vehicles available
 * (the utilisation baseline or the optimiser of ft-dynamic-pricing.h), and
 * every incentive round, the relocation offers from supply against the
 * demand-weighted share of the next hours' demand. The callers gather the
 * inputs (their clock, their fleet, their forecast) and apply the results
 * through the core's role-checked calls; the guard rails stay in
 * FtDynPricing. The state worth keeping across a restart (multipliers,
 * protected zones, the emergency flag, open offers) is written and read
 * here as one small JSON document.
 */
#pragma once

#include "ft-dynamic-pricing.h"
#include "ft-incentives.h"

G_BEGIN_DECLS

typedef struct {
  FtDynPolicy    policy;            /* OFF: no proposals */
  FtDynObjective objective;
  double util_low, util_high;       /* baseline thresholds (demand / available) */
  double elasticity;                /* optimiser: fleet-mean price elasticity, <= 0 */
  double fare_minor;                /* optimiser: mean fare at the plan price */
  double cost_per_trip_minor;       /* margin objective */
  double service_floor;             /* margin objective */
  double surplus_ratio;             /* start offers: available > target x this */
  double shortfall_ratio;           /* end offers: available < target x this */
} FtLeverPolicy;

/* Defaults of the simulator's scenario keys: utilisation 0.5 / 1.0,
 * elasticity -0.35, fare 300 minor units, margin cost 150, floor 0.95,
 * surplus 1.5, shortfall 0.6; policy utilisation, objective revenue. */
void     ft_lever_policy_init  (FtLeverPolicy *p);
/* Refuses thresholds out of order or negative, a positive elasticity, a
 * fare or cost below 0, a service floor outside [0, 1] and ratios <= 0,
 * naming the field ("util_low 2 is above util_high 1"). */
gboolean ft_lever_policy_check (const FtLeverPolicy *p, GError **error);

/* Requests expected over the next hour at `now` from the hourly rates of
 * the hour that holds now and the hour after (the remaining fraction of
 * this hour, the rest from the next). */
double   ft_levers_next_hour   (double this_hour, double next_hour, FtTime now);

/* One proposal per zone of dp from expected[z] (next hour's requests) and
 * avail[z] (vehicles that can serve them); proposed gets n_zones values to
 * hand to ft_core_apply_zone_prices. */
void     ft_levers_propose     (const FtLeverPolicy *p, const FtDynPricing *dp, const double *expected,
                                const guint *avail, double *proposed);

/* Offers: want[z] the demand expected over the next few hours, avail[z]
 * the vehicles parked there; a zone's target is its share of want times
 * all available vehicles. start[z]: at least 2 vehicles and more than
 * target x surplus_ratio; end[z]: a target of at least 1 vehicle and fewer
 * than target x shortfall_ratio. Nothing is offered when want sums to 0. */
void     ft_levers_offers      (const FtLeverPolicy *p, guint n_zones, const double *want,
                                const guint *avail, gboolean *start, gboolean *end);

/* The persistent lever state. */
typedef struct {
  guint     n_zones;
  double   *multiplier;             /* n_zones */
  gboolean *protected_;             /* n_zones */
  gboolean  emergency;
  gboolean  has_offers;             /* incentives were on */
  gboolean *start, *end;            /* n_zones each (all FALSE without offers) */
  FtTime    next_price;             /* when the next interval is due (-1 unknown) */
  FtTime    next_offers;
} FtLeverState;

FtLeverState *ft_lever_state_new   (guint n_zones);
void          ft_lever_state_free  (FtLeverState *s);
/* The state of a core's levers (dp and inc may each be NULL). */
FtLeverState *ft_lever_state_capture (const FtDynPricing *dp, const FtIncentives *inc,
                                      FtTime next_price, FtTime next_offers);
char         *ft_lever_state_to_json   (const FtLeverState *s);
/* Parses and checks a document from ft_lever_state_to_json: a version,
 * zones with finite multipliers in (0, 10], offers naming zones that
 * exist. `what` names the source in errors ("store meta ft.live.levers"). */
FtLeverState *ft_lever_state_from_json (const char *text, gssize len, const char *what, GError **error);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (FtLeverState, ft_lever_state_free)

G_END_DECLS
