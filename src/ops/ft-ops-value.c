/* ft-ops-value.c — the expected value of a candidate task over a horizon.
 * Two views of the same trips, and the larger counts:
 * - the vehicle as an asset: a vehicle on offer is asked for trips at the
 *   caller's rate per available vehicle-hour (a Poisson process) and serves
 *   them until its charge runs out: E[min(N, trips on charge)] before the
 *   horizon; a flat, faulty or suspended one serves none. A swap, a deploy,
 *   an inspection that ends a suspension or a repair (after the collection
 *   and the repair time) changes those trips, and the hours on offer with
 *   them (trips / rate);
 * - the zone running short: with N ~ Poisson(requests) leaving and M ~
 *   Poisson(arrivals) arriving and n other vehicles there, one more vehicle
 *   serves a request that would otherwise be lost with P(N - M >= n + 1) (a
 *   vehicle serves one trip from the zone: the trip takes it elsewhere). A
 *   rebalance gains that at the target and loses P(N - M >= n) at the
 *   source (n counting it); its hours on offer do not change.
 * Faults avoided are the maintenance model's risk; costs are staff minutes
 * and van km at the caller's rates.
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

double
ft_task_value_poisson_tail (double mean, double k)
{
  double kk = ceil (k);
  if (!(mean > 0))
    return kk <= 0 ? 1.0 : 0.0;
  if (kk <= 0)
    return 1.0;
  double sd = sqrt (mean);
  if (kk > mean + 12 * sd + 30)
    return 0.0;
  /* sum the smaller side in log space: the terms from kk up, or 1 minus
   * those below kk */
  double lm = log (mean), sum = 0;
  if (kk >= mean)
    {
      for (double j = kk; j < kk + 12 * sd + 60; j++)
        {
          double term = exp (j * lm - mean - lgamma (j + 1));
          sum += term;
          if (term < 1e-16 * sum)
            break;
        }
      return CLAMP (sum, 0.0, 1.0);
    }
  double lo = MAX (0.0, floor (mean - 12 * sd - 30));
  for (double j = kk - 1; j >= lo; j--)
    {
      double term = exp (j * lm - mean - lgamma (j + 1));
      sum += term;
      if (term < 1e-16 * sum)
        break;
    }
  return CLAMP (1.0 - sum, 0.0, 1.0);
}

/* log P(X = j) for X ~ Poisson(mean > 0) */
static double
log_pmf (double mean, double j)
{
  return j * log (mean) - mean - lgamma (j + 1);
}

double
ft_task_value_shortfall (double requests, double arrivals, double k)
{
  double kk = ceil (k);
  if (!(arrivals > 0))
    return ft_task_value_poisson_tail (requests, kk);
  /* sum over the arrivals m of P(M = m) P(N >= k + m) */
  double sd = sqrt (arrivals), sum = 0;
  double lo = MAX (0.0, floor (arrivals - 12 * sd - 30)), hi = ceil (arrivals + 12 * sd + 30);
  for (double m = lo; m <= hi; m++)
    {
      double tail = ft_task_value_poisson_tail (requests, kk + m);
      if (tail <= 0)
        break;   /* every larger m adds nothing either */
      sum += exp (log_pmf (arrivals, m)) * tail;
    }
  return CLAMP (sum, 0.0, 1.0);
}

double
ft_task_value_served (double mean, double c)
{
  if (!(mean > 0) || !(c > 0))
    return 0.0;
  if (c > mean + 12 * sqrt (mean) + 30)
    return mean;   /* the charge outlasts every likely request */
  /* E[min(N, c)] = c - E[(c - N)+] = c - sum over j < c of P(N = j) (c - j) */
  double short_of = 0;
  for (double j = 0; j < c; j++)
    short_of += exp (log_pmf (mean, j)) * (c - j);
  return CLAMP (c - short_of, 0.0, MIN (mean, c));
}

gboolean
ft_task_value_pays (const FtTaskValue *v)
{
  g_return_val_if_fail (v != NULL, FALSE);
  return v->value + v->staff_cost > 0;
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

/* What a vehicle on offer for `hours` with `trips` on its charge serves at
 * u trips an hour: *served trips and *on hours on offer (expected). */
static void
offer (double trips, double u, double hours, double *served, double *on)
{
  *served = *on = 0;
  if (trips <= 0 || hours <= 0)
    return;
  if (!(u > 0))
    {
      *on = hours;   /* nobody asks: it stays on offer, serving nothing */
      return;
    }
  *served = ft_task_value_served (u * hours, trips);
  *on = *served / u;
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
      || !check_field ("cost_per_van_km", in->cost_per_van_km, 0, big, error)
      || !check_field ("trips_per_vehicle_hour", in->trips_per_vehicle_hour, 0, big, error)
      || !check_field ("back_in_service_hours", in->back_in_service_hours, 0, big, error)
      || !check_field ("utc_offset_min", in->utc_offset_min, -18 * 60, 18 * 60, error)
      || !check_field ("expected_arrivals", in->expected_arrivals, 0, big, error)
      || !check_field ("source_expected_arrivals", in->source_expected_arrivals, 0, big, error))
    return FALSE;

  const FtTaskKind k = in->kind;
  double cap = ft_task_value_trips_on_charge (in->battery, in->min_battery, in->battery_per_trip);
  double cap_full = ft_task_value_trips_on_charge (1.0, in->min_battery, in->battery_per_trip);
  double span_h = (double) (in->horizon_end - in->now) / FT_HOUR;
  /* the task is done staff_minutes from now: what it changes counts from then */
  double h = MAX (0.0, span_h - in->staff_minutes / 60.0);
  double rate = span_h > 0 ? in->expected_requests / span_h : 0;   /* requests per hour there */
  double u = in->trips_per_vehicle_hour > 0 ? in->trips_per_vehicle_hour
                                            : rate / (in->vehicles_there + 1.0);
  /* trips served and hours on offer before the horizon, without the task
   * and with it */
  gboolean on_offer = !in->out_of_service && cap > 0 && k != FT_TASK_DEPLOY;
  double s0 = 0, h0 = 0, s1, h1;
  if (on_offer)
    offer (cap, u, h, &s0, &h0);
  s1 = s0, h1 = h0;
  switch (k)
    {
    case FT_TASK_BATTERY_SWAP:
      if (in->out_of_service)
        s1 = h1 = 0;
      else
        offer (cap_full, u, h, &s1, &h1);
      break;
    case FT_TASK_DEPLOY:
    case FT_TASK_INSPECT:   /* ends a suspension; the charge is what it is */
      offer (cap, u, h, &s1, &h1);
      break;
    case FT_TASK_COLLECT_REPAIR:
      offer (cap_full, u, h - in->back_in_service_hours, &s1, &h1);
      break;
    case FT_TASK_REBALANCE:
    default:
      break;
    }

  double trips = 0, faults = 0, shortfall = 0, vh = h1 - h0;
  /* requests and arrivals there once the task is done */
  double frac = span_h > 0 ? h / span_h : 0;
  double mean_left = in->expected_requests * frac, arr_left = in->expected_arrivals * frac;
  switch (k)
    {
    case FT_TASK_REBALANCE:
      {
        double can = MIN (1.0, cap);   /* a vehicle that cannot make a trip serves none */
        shortfall = ft_task_value_shortfall (mean_left, arr_left, in->vehicles_there + 1.0);
        double src_loss = in->source_vehicles >= 1.0
                          ? ft_task_value_shortfall (in->source_expected_requests * frac,
                                                     in->source_expected_arrivals * frac, in->source_vehicles)
                          : 0;
        trips = can * (shortfall - src_loss);
        break;
      }
    case FT_TASK_BATTERY_SWAP:
    case FT_TASK_DEPLOY:
    case FT_TASK_INSPECT:
      /* put on offer where it stands: the zone's shortfall counts too */
      if (h0 <= 0 && h1 > 0)
        shortfall = ft_task_value_shortfall (mean_left, arr_left, in->vehicles_there + 1.0);
      trips = MAX (s1 - s0, shortfall);
      break;
    case FT_TASK_COLLECT_REPAIR:
    default:
      trips = s1 - s0;   /* back at the depot, not in its zone */
      break;
    }
  if (k == FT_TASK_COLLECT_REPAIR || k == FT_TASK_INSPECT)
    faults = in->fault_risk;

  FtTaskValue v = { 0 };
  v.trips_saved = trips;
  v.revenue_saved = trips * in->revenue_per_trip;
  v.faults_avoided = faults;
  v.staff_cost = in->staff_minutes * in->cost_per_staff_minute;
  v.cost = v.staff_cost + in->van_km * in->cost_per_van_km;
  v.value = v.revenue_saved + faults * in->fault_cost - v.cost;
  v.staff_minutes = in->staff_minutes;
  v.value_per_minute = v.value / in->staff_minutes;
  v.vehicle_hours = vh;
  v.shortfall = shortfall;

  FtTime local = in->horizon_end + (FtTime) in->utc_offset_min * FT_MINUTE;
  FtTime tod = ((local % FT_DAY) + FT_DAY) % FT_DAY;
  int hh = (int) (tod / FT_HOUR), mm = (int) ((tod % FT_HOUR) / FT_MINUTE);
  char hours[48] = "", risk[40] = "";
  if (vh >= 0.05)
    snprintf (hours, sizeof hours, "frees 1 vehicle for ~%.1f h, ", vh);
  else if (vh <= -0.05)
    snprintf (hours, sizeof hours, "takes 1 vehicle off for ~%.1f h, ", -vh);
  if (k == FT_TASK_COLLECT_REPAIR || k == FT_TASK_INSPECT)
    snprintf (risk, sizeof risk, "avoids ~%.0f%% fault risk, ", 100.0 * faults);
  const char *sp = in->tz_label ? " " : "", *tz = in->tz_label ? in->tz_label : "";
  snprintf (v.reason, sizeof v.reason, "%s%s%s ~%.1f trips before %02d:%02d%s%s, %.0f min detour", risk, hours,
            trips >= 0 ? "saves" : "loses", fabs (trips), hh, mm, sp, tz, in->detour_minutes);
  *out = v;
  return TRUE;
}
