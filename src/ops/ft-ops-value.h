/* ft-ops-value.h — what a candidate task is worth: trips and revenue saved
 * over the next hours (from the expected demand the caller reads from its
 * forecast, and the vehicle's charge), faults avoided (from the maintenance
 * model's risk), minus staff minutes and van km. The queue ranks open tasks
 * by value per staff minute (ft_ops_rank_open) and keeps a reason string per
 * task for the app. Pure arithmetic: the caller (simulator or live mode)
 * supplies demand and risk, so src/ knows nothing of the simulator.
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
  /* the reason's clock: minutes east of UTC (default 0) and the zone's
   * name printed after the time ("18:00 UTC+1"; NULL: none printed) */
  int         utc_offset_min;
  const char *tz_label;
} FtTaskValueInput;

typedef struct {
  double trips_saved;
  double revenue_saved;
  double faults_avoided;
  double cost;
  double value;                  /* revenue_saved + faults_avoided * fault_cost - cost */
  double staff_minutes;
  double value_per_minute;       /* value / staff_minutes */
  char   reason[128];            /* "saves ~2.4 trips before 18:00, 9 min detour" */
} FtTaskValue;

/* Trips a vehicle with this charge can serve before it drops under
 * min_battery (continuous, >= 0). */
double   ft_task_value_trips_on_charge (double battery, double min_battery, double battery_per_trip);

/* Estimate the value of one candidate task. Refuses (FT_OPS_ERROR_INVALID,
 * naming the field) negative or non-finite inputs, a charge outside 0..1, a
 * risk outside 0..1, battery_per_trip or staff_minutes not positive, and a
 * horizon that ends before now; *out is untouched then. */
gboolean ft_task_value_estimate (const FtTaskValueInput *in, FtTaskValue *out, GError **error);

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
