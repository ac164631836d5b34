/* ft-ops-value.c — the expected value of a candidate task over a horizon.
 * A vehicle serves at most the trips its charge allows; the trips a zone
 * serves with n vehicles of capacity c each and demand D are min(D, n c).
 * A swap raises this vehicle's capacity within its share of the zone's
 * demand; a rebalance moves one vehicle's capacity from the source zone to
 * the target (deploy: from the depot); a collection for repair avoids the
 * fault the maintenance model expects. Cost is staff minutes and van km.
 */
#include "ft-ops-value.h"

#include <math.h>
#include <stdio.h>

double
ft_task_value_trips_on_charge (double battery, double min_battery, double battery_per_trip)
{
  if (!(battery_per_trip > 0) || battery <= min_battery)
    return 0.0;
  return (battery - min_battery) / battery_per_trip;
}

/* trips served in a zone with demand d by n vehicles that serve c each */
static double
served (double d, double n, double c)
{
  return MIN (d, n * c);
}

static gboolean
check_field (const char *name, double x, double lo, double hi, GError **error)
{
  if (!isfinite (x) || x < lo || x > hi)
    {
      g_set_error (error, FT_OPS_ERROR, FT_OPS_ERROR_INVALID,
                   "task value: %s is %g; it must lie in [%g, %g]", name, x, lo, hi);
      return FALSE;
    }
  return TRUE;
}

gboolean
ft_task_value_estimate (const FtTaskValueInput *in, FtTaskValue *out, GError **error)
{
  g_return_val_if_fail (in != NULL && out != NULL, FALSE);
  const double big = G_MAXDOUBLE;
  if ((guint) in->kind >= FT_N_TASK_KINDS)
    {
      g_set_error (error, FT_OPS_ERROR, FT_OPS_ERROR_INVALID, "task value: unknown task kind %d",
                   (int) in->kind);
      return FALSE;
    }
  if (in->horizon_end < in->now)
    {
      g_set_error (error, FT_OPS_ERROR, FT_OPS_ERROR_INVALID,
                   "task value: horizon_end %" G_GINT64_FORMAT " is before now %" G_GINT64_FORMAT,
                   in->horizon_end, in->now);
      return FALSE;
    }
  if (!check_field ("expected_requests", in->expected_requests, 0, big, error)
      || !check_field ("vehicles_there", in->vehicles_there, 0, big, error)
      || !check_field ("source_expected_requests", in->source_expected_requests, 0, big, error)
      || !check_field ("source_vehicles", in->source_vehicles, 0, big, error)
      || !check_field ("battery", in->battery, 0, 1, error)
      || !check_field ("min_battery", in->min_battery, 0, 1, error)
      || !check_field ("battery_per_trip", in->battery_per_trip, G_MINDOUBLE, 1, error)
      || !check_field ("revenue_per_trip", in->revenue_per_trip, 0, big, error)
      || !check_field ("fault_risk", in->fault_risk, 0, 1, error)
      || !check_field ("fault_cost", in->fault_cost, 0, big, error)
      || !check_field ("staff_minutes", in->staff_minutes, G_MINDOUBLE, big, error)
      || !check_field ("detour_minutes", in->detour_minutes, 0, big, error)
      || !check_field ("van_km", in->van_km, 0, big, error)
      || !check_field ("cost_per_staff_minute", in->cost_per_staff_minute, 0, big, error)
      || !check_field ("cost_per_van_km", in->cost_per_van_km, 0, big, error))
    return FALSE;

  double cap = ft_task_value_trips_on_charge (in->battery, in->min_battery, in->battery_per_trip);
  double cap_full = ft_task_value_trips_on_charge (1.0, in->min_battery, in->battery_per_trip);
  double trips = 0, faults = 0;
  switch (in->kind)
    {
    case FT_TASK_BATTERY_SWAP:
      {
        /* this vehicle's share of the zone's demand */
        double share = in->expected_requests / (in->vehicles_there + 1.0);
        trips = MIN (share, cap_full) - MIN (share, cap);
        break;
      }
    case FT_TASK_REBALANCE:
    case FT_TASK_DEPLOY:
      {
        double gain = served (in->expected_requests, in->vehicles_there + 1.0, cap)
                      - served (in->expected_requests, in->vehicles_there, cap);
        double loss = 0;
        if (in->kind == FT_TASK_REBALANCE && in->source_vehicles >= 1.0)
          loss = served (in->source_expected_requests, in->source_vehicles, cap)
                 - served (in->source_expected_requests, in->source_vehicles - 1.0, cap);
        trips = gain - loss;
        break;
      }
    case FT_TASK_COLLECT_REPAIR:
    case FT_TASK_INSPECT:
      faults = in->fault_risk;
      break;
    default:
      g_assert_not_reached ();
    }

  FtTaskValue v = { 0 };
  v.trips_saved = trips;
  v.revenue_saved = trips * in->revenue_per_trip;
  v.faults_avoided = faults;
  v.cost = in->staff_minutes * in->cost_per_staff_minute + in->van_km * in->cost_per_van_km;
  v.value = v.revenue_saved + faults * in->fault_cost - v.cost;
  v.staff_minutes = in->staff_minutes;
  v.value_per_minute = v.value / in->staff_minutes;

  FtTime local = in->horizon_end + (FtTime) in->utc_offset_min * FT_MINUTE;
  FtTime tod = ((local % FT_DAY) + FT_DAY) % FT_DAY;
  int hh = (int) (tod / FT_HOUR), mm = (int) ((tod % FT_HOUR) / FT_MINUTE);
  const char *sp = in->tz_label ? " " : "", *tz = in->tz_label ? in->tz_label : "";
  if (in->kind == FT_TASK_COLLECT_REPAIR || in->kind == FT_TASK_INSPECT)
    snprintf (v.reason, sizeof v.reason, "avoids ~%.0f%% fault risk before %02d:%02d%s%s, %.0f min detour",
              100.0 * faults, hh, mm, sp, tz, in->detour_minutes);
  else
    snprintf (v.reason, sizeof v.reason, "%s ~%.1f trips before %02d:%02d%s%s, %.0f min detour",
              trips >= 0 ? "saves" : "loses", fabs (trips), hh, mm, sp, tz, in->detour_minutes);
  *out = v;
  return TRUE;
}
