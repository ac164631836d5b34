/* ft-ops-value.h — what a candidate task is worth over the next hours: the
 * vehicle-hours it puts back on offer (a flat, faulty or suspended vehicle
 * is an asset earning nothing; an available one is asked for trips at the
 * expected rate per available vehicle-hour, as a Poisson process, until its
 * charge runs out), the trips the zone would lose when it runs short
 * (Poisson requests and arrivals from the caller's forecast), faults avoided (the
 * maintenance model's risk x the cost of a fault), minus staff minutes and
 * van km at the caller's cost rates. The queue ranks open tasks by value per
 * staff minute (ft_ops_rank_open) and keeps a reason string per task for the
 * app. Pure arithmetic: the caller (simulator or live mode) supplies demand,
 * utilisation and risk, so src/ knows nothing of the simulator.
 */
#pragma once

#include "ft-ops.h"

G_BEGIN_DECLS

typedef struct {
  FtTaskKind kind;
  FtTime     now;
  FtTime     horizon_end;        /* value is counted over [now, horizon_end) */
  /* demand where the vehicle is (swap, collect) or where it is taken
   * (rebalance, deploy): requests expected over the horizon, and the
   * rentable vehicles there that share them (not counting this one) */
  double     expected_requests;
  double     vehicles_there;
  /* rebalance only: the zone the vehicle leaves (0, 0 for deploy) */
  double     source_expected_requests;
  double     source_vehicles;    /* counting this one */
  double     battery;            /* the vehicle's charge, 0..1 */
  double     battery_per_trip;   /* charge a mean trip uses, > 0 */
  double     min_battery;        /* below it the vehicle is not offered */
  double     revenue_per_trip;   /* major units */
  double     fault_risk;         /* P(fault within the horizon), 0..1; 0 without a model */
  double     fault_cost;         /* cost of a fault in the field */
  double     staff_minutes;      /* travel + service, > 0 */
  double     detour_minutes;     /* shown in the reason */
  double     van_km;
  double     cost_per_staff_minute;
  double     cost_per_van_km;
  /* Each of these may be left 0 (unknown): */
  /* what an available vehicle earns, in trips per available vehicle-hour:
   * the forecast's requests per available vehicle over the horizon, or the
   * recent utilisation; 0: the zone's share, expected_requests / hours /
   * (vehicles_there + 1) */
  double     trips_per_vehicle_hour;
  /* not rentable now for a reason other than its charge (a fault, a
   * suspension until inspected) */
  gboolean   out_of_service;
  /* collect: hours from the collection until the vehicle is back on
   * offer, charged (the repair time) */
  double     back_in_service_hours;
  /* the city's offset from UTC (now is UTC); the reason shows local time.
   * The simulator's clock is already local: it passes 0. */
  int        utc_offset_min;
  /* vehicles expected to arrive (trips ending) over the horizon where the
   * vehicle is or is taken, and at a rebalance's source: a zone that
   * receives vehicles runs short later; 0: none counted */
  double     expected_arrivals;
  double     source_expected_arrivals;
  /* the zone's name printed after each time ("18:00 UTC+1"); NULL: none */
  const char *tz_label;
} FtTaskValueInput;

typedef struct {
  double trips_saved;            /* max(vehicle_hours x trips per vehicle-hour, shortfall) for a
                                  * vehicle put on offer; the target's shortfall minus the
                                  * source's for a rebalance */
  double revenue_saved;
  double faults_avoided;
  double cost;
  double value;                  /* revenue_saved + faults_avoided * fault_cost - cost */
  double staff_minutes;
  double value_per_minute;       /* value / staff_minutes */
  char   reason[128];            /* "frees 1 vehicle for ~3.1 h, saves ~2.4 trips before 18:00,
                                  * 9 min detour" */
  double staff_cost;             /* staff_minutes at the staff rate (within cost) */
  double vehicle_hours;          /* rentable vehicle-hours gained before the horizon (< 0: lost) */
  double shortfall;              /* P(the zone runs short of vehicles before the horizon without it) */
} FtTaskValue;

/* Trips a vehicle with this charge can serve before it drops under
 * min_battery (continuous, >= 0). */
double   ft_task_value_trips_on_charge (double battery, double min_battery, double battery_per_trip);

/* P(N >= k) for N ~ Poisson(mean): the chance that more than k - 1
 * requests come. 1 for k <= 0. */
double   ft_task_value_poisson_tail (double mean, double k);
/* P(N - M >= k) for independent N ~ Poisson(requests), M ~ Poisson(arrivals):
 * the chance that a zone with k - 1 vehicles runs short. */
double   ft_task_value_shortfall    (double requests, double arrivals, double k);
/* E[min(N, c)] for N ~ Poisson(mean): the trips a vehicle on offer serves
 * when it is asked `mean` times and its charge lasts c trips (continuous c;
 * trips_per_hour x the expected hours it stays on offer). */
double   ft_task_value_served       (double mean, double c);

/* Estimate the value of one candidate task. Refuses (FT_OPS_ERROR_INVALID,
 * naming the field) negative or non-finite inputs, a charge outside 0..1, a
 * risk outside 0..1, battery_per_trip or staff_minutes not positive, an
 * offset beyond +-18 h, and a horizon that ends before now; *out is
 * untouched then. */
gboolean ft_task_value_estimate (const FtTaskValueInput *in, FtTaskValue *out, GError **error);

/* Whether a task is worth a van's time on shift: it earns more than its
 * van km and does not lose trips (value + staff_cost > 0). A shift's staff
 * minutes are paid whether used or not, so ranking by value per minute
 * spends them on the best tasks, and a task that does not pay its own
 * staff minutes still beats an idle van. */
gboolean ft_task_value_pays (const FtTaskValue *v);

/* Store a task's value (replacing any); FALSE with FT_OPS_ERROR_NO_SUCH_TASK. */
gboolean           ft_ops_set_value  (FtOps *ops, gint64 task, const FtTaskValue *value,
                                      GError **error);
/* The stored value of a task, or NULL if none was set. */
const FtTaskValue *ft_ops_get_value  (const FtOps *ops, gint64 task);
/* Open (unassigned) tasks into `out` (cleared, gint64 ids): valued tasks
 * first, by value per staff minute (highest first, ties oldest first), then
 * tasks with no value, oldest first. */
void               ft_ops_rank_open  (const FtOps *ops, GArray *out);

G_END_DECLS
