/* ft-dynamic-pricing.h — a multiplier on the plan per zone and interval,
 * chosen by a policy and held inside guard rails that this module enforces:
 * a floor and a cap (default cap 1.5x), a maximum change per interval, an
 * emergency cap the city can declare (default 1.0: no surge in an
 * emergency), and protected zones whose price never moves off 1.0.
 * Two policies propose multipliers: a utilisation baseline in 0.1x steps
 * (as FleetPy's UtilizationBasedDP: measure, and step fares up or down when
 * utilisation over- or undershoots a threshold) and an optimiser that uses
 * forecast demand, available supply and a constant-elasticity rider price
 * response to pick the multiplier maximising a stated objective.
 * Zones are plain indices; the caller maps positions to zones.
 */
#pragma once

#include "ft-pricing.h"

G_BEGIN_DECLS

typedef enum {
  FT_DYN_POLICY_OFF = 0,
  FT_DYN_POLICY_UTILISATION,     /* baseline: utilisation steps of `step` */
  FT_DYN_POLICY_OPTIMISE,        /* forecast demand x supply x elasticity */
} FtDynPolicy;

typedef enum {
  FT_DYN_OBJECTIVE_REVENUE = 0,  /* expected fares */
  FT_DYN_OBJECTIVE_TRIPS,        /* expected trips served */
  FT_DYN_OBJECTIVE_MARGIN,       /* fares - cost per trip, subject to the service-level floor */
} FtDynObjective;

typedef struct {
  double floor;                  /* lowest multiplier; default 1.0 */
  double cap;                    /* highest; default 1.5 */
  double step;                   /* multipliers are multiples of it; default 0.1 */
  double max_change;             /* largest change per interval; default 0.2 */
  double emergency_cap;          /* the cap while an emergency is declared; default 1.0 */
  FtTime interval;               /* how often prices are set; default 15 min */
} FtDynGuards;

void         ft_dyn_guards_init      (FtDynGuards *g);
/* Refuses floor > cap, a cap or floor outside (0, 10], a step or maximum
 * change <= 0, an emergency cap outside [floor, cap] or an interval < 1 s;
 * the message names the field ("floor 1.6 is above cap 1.5"). */
gboolean     ft_dyn_guards_check     (const FtDynGuards *g, GError **error);

const char  *ft_dyn_policy_name      (FtDynPolicy p);
gboolean     ft_dyn_policy_parse     (const char *s, FtDynPolicy *out);
const char  *ft_dyn_objective_name   (FtDynObjective o);
gboolean     ft_dyn_objective_parse  (const char *s, FtDynObjective *out);

typedef struct _FtDynPricing FtDynPricing;

/* All zones start at 1.0 (or the floor if that is above 1). */
FtDynPricing *ft_dyn_pricing_new     (guint n_zones, const FtDynGuards *g, GError **error);
void          ft_dyn_pricing_free    (FtDynPricing *dp);
guint         ft_dyn_pricing_n_zones (const FtDynPricing *dp);
const FtDynGuards *ft_dyn_pricing_guards (const FtDynPricing *dp);
void          ft_dyn_pricing_set_protected (FtDynPricing *dp, guint zone, gboolean protected_);
gboolean      ft_dyn_pricing_is_protected  (const FtDynPricing *dp, guint zone);
/* Declaring an emergency clamps every zone to the emergency cap at once
 * (a drop, so the maximum change does not hold it back). */
void          ft_dyn_pricing_set_emergency (FtDynPricing *dp, gboolean on);
gboolean      ft_dyn_pricing_emergency     (const FtDynPricing *dp);
/* The current multiplier of a zone (1.0 for a zone out of range). */
double        ft_dyn_pricing_get     (const FtDynPricing *dp, guint zone);
/* What zone z would get if `proposed` were applied now: rounded to the
 * step, at most max_change from the current value, inside [floor, cap] and
 * under the emergency cap; 1.0 in a protected zone. NaN keeps the current. */
double        ft_dyn_pricing_guard   (const FtDynPricing *dp, guint zone, double proposed);
/* Apply one proposal per zone through the guards. Returns how many zones
 * changed; their indices go to changed_out (n_zones long) if non-NULL. */
guint         ft_dyn_pricing_apply   (FtDynPricing *dp, const double *proposed, guint *changed_out);
/* Apply one zone. TRUE if it changed. */
gboolean      ft_dyn_pricing_apply_zone (FtDynPricing *dp, guint zone, double proposed);
/* Put back a multiplier kept from an earlier run (a restart): rounded to
 * the step and held inside [floor, cap], the emergency cap and protection
 * like any value, but not limited by the maximum change (the value was
 * reached interval by interval before). TRUE if it changed. */
gboolean      ft_dyn_pricing_restore_zone (FtDynPricing *dp, guint zone, double value);
/* Counts since creation: intervals applied and zone changes. */
guint64       ft_dyn_pricing_n_changes (const FtDynPricing *dp);

/* Baseline (FleetPy-style utilisation steps): utilisation = demand
 * expected in the next interval / vehicles available (demand with no
 * vehicles counts as saturated). Above `high` the multiplier steps up by
 * one step, below `low` it steps down by one, else it stays. */
double        ft_dyn_propose_utilisation (double current, double expected_demand, double available,
                                          double low, double high, double step);

/* Optimiser inputs for one zone and interval. */
typedef struct {
  double expected_demand;        /* requests at the plan price (multiplier 1) */
  double available;              /* vehicles that can serve them */
  double elasticity;             /* < 0: demand(m) = demand x m^elasticity */
  double fare_minor;             /* mean fare at the plan price */
  double cost_per_trip_minor;    /* margin objective */
  double service_floor;          /* margin objective: served / demand(1.0) >= this */
} FtDynZoneInput;

/* The multiplier on the step grid inside [lo, hi] maximising the objective
 * for expected trips served = min(demand x m^e, available): revenue
 * m x fare x served, trips served (ties to the lower price), or margin
 * (m x fare - cost) x served among multipliers whose served / demand(1)
 * meets the service floor (if none does: the most served, then the best
 * margin, which prices scarce vehicles without losing trips). Discounts
 * (m < 1) do not raise demand above the plan-price demand here: the
 * simulator's request stream is generated at the plan price. */
double        ft_dyn_optimise        (const FtDynZoneInput *in, FtDynObjective objective,
                                      double lo, double hi, double step);

/* An FtDynamicPriceFunc over an FtDynPricing: the zone of `start` from
 * `locate` (-1: outside every zone, multiplier 1). */
typedef gint (*FtDynZoneLocator) (FtLatLon at, gpointer user_data);
typedef struct {
  FtDynPricing    *dp;
  FtDynZoneLocator locate;
  gpointer         locate_data;
} FtDynHook;
double        ft_dyn_pricing_hook    (FtLatLon start, FtTime at, guint vehicle_kind, gpointer hook);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (FtDynPricing, ft_dyn_pricing_free)

G_END_DECLS
