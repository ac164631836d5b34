/* ft-sim-world-ops.c — Phase 3 operations in the simulated world (issue
 * 13): open tasks valued by src/ops (ft_task_value_estimate, from the
 * sim's expected demand and the maintenance model's risk) and picked by
 * value per staff minute ([rules] task_order=value); maintenance alerts
 * from a model fitted on the world's own event log (src/models/ft-maint,
 * never the simulator's fault parameters) that open inspection tasks and
 * may take a vehicle out of service; and van routes planned by src/ops
 * (ft_ops_plan_routes) every cycle and whenever a van runs out of stops
 * ([rules] van_routes), which the staff loop (-staff.c) drives stop by stop.
 */
#include "ft-sim-world-private.h"
#include "ft-ops-plan.h"
#include "ft-maint.h"

#define REALERT_AFTER (3 * FT_DAY)   /* an inspected vehicle is not alerted again before */

/* ------------------------------------------------------------ values */

static double
sim_travel (FtLatLon a, FtLatLon b, double *metres, gpointer data)
{
  FtSimWorld *w = data;
  *metres = ft_distance_fast_m (a, b) * w->sc->detour_factor;
  return *metres / (w->sc->van_speed_kph / 3.6) + 60.0;   /* as staff_travel drives it */
}

static double
service_min (FtSimWorld *w, FtTaskKind k)
{
  switch (k)
    {
    case FT_TASK_BATTERY_SWAP: return w->sc->swap_service_min;
    case FT_TASK_REBALANCE: return w->sc->rebalance_service_min;
    case FT_TASK_COLLECT_REPAIR: return w->sc->collect_service_min;
    case FT_TASK_INSPECT: return w->sc->inspect_service_min;
    case FT_TASK_DEPLOY:
    default: return 5.0;
    }
}

/* Available vehicles per zone, counted once per simulated instant. */
static const guint *
avail_by_zone (FtSimWorld *w, FtTime now)
{
  if (w->ops_avail && w->ops_avail_t == now)
    return w->ops_avail;
  if (!w->ops_avail)
    w->ops_avail = g_new0 (guint, MAX (w->nz, 1));
  memset (w->ops_avail, 0, sizeof (guint) * MAX (w->nz, 1));
  w->ops_avail_total = 0;
  const FtVehicle *vs = ft_fleet_vehicles (w->core->fleet);
  for (guint v = 0; v < w->nv; v++)
    if (vs[v].state == FT_STATE_AVAILABLE && !(w->veh[v].flags & (VF_RESERVED | VF_TRIP)) && w->veh[v].zone >= 0)
      {
        w->ops_avail[w->veh[v].zone]++;
        w->ops_avail_total++;
      }
  w->ops_avail_t = now;
  return w->ops_avail;
}

/* The end of a task's value horizon: three hours, but what is left undone
 * when the last shift ends waits for the next one, so a horizon that
 * reaches past the staff's cover runs on to three hours into the next
 * shift (a vehicle left flat at 21:00 misses the morning peak too). */
FtTime
ft_sim_world_value_horizon (FtSimWorld *w, FtTime now)
{
  const FtTime len = (FtTime) (w->sc->shift_hours * FT_HOUR), want = now + 3 * FT_HOUR;
  if (w->n_staff == 0 || len <= 0)
    return want;
  /* walk to the end of the cover that contains now (shifts may chain) */
  FtTime t = now;
  for (guint step = 0; step < 4 * w->n_staff + 4; step++)
    {
      FtTime end = -1;
      for (guint i = 0; i < w->n_staff; i++)
        {
          FtTime st = (FtTime) (w->staff[i].shift_start_h * FT_HOUR);
          FtTime day = t - ((t % FT_DAY) + FT_DAY) % FT_DAY;
          for (int back = 1; back >= 0; back--)   /* yesterday's shift may run past midnight */
            {
              FtTime s0 = day - back * FT_DAY + st;
              if (s0 <= t && t < s0 + len)
                end = MAX (end, s0 + len);
            }
        }
      if (end < 0 || end == t)
        break;
      t = end;
    }
  if (want <= t)
    return want;
  FtTime next = G_MAXINT64;
  for (guint i = 0; i < w->n_staff; i++)
    {
      FtTime st = (FtTime) (w->staff[i].shift_start_h * FT_HOUR);
      FtTime day = t - ((t % FT_DAY) + FT_DAY) % FT_DAY;
      FtTime s0 = day + st < t ? day + FT_DAY + st : day + st;
      next = MIN (next, s0);
    }
  return MAX (want, MIN (next + 3 * FT_HOUR, now + FT_DAY));
}

static double
requests_until (FtSimWorld *w, gint32 z, FtTime now, FtTime end)
{
  if (z < 0 || (guint) z >= w->nz)
    return 0;
  double d = 0;
  for (FtTime t = now; t < end; t += FT_HOUR)
    d += ft_sim_world_expected_requests (w, (guint) z, t) * MIN (1.0, (double) (end - t) / FT_HOUR);
  return d;
}

/* Trips expected to end in zone z in the hour of week `how`: every zone's
 * expected requests that hour times the city's destination weights (the
 * demand profile's, as riders choose), once per zone and hour. */
static double
arrivals_in_hour (FtSimWorld *w, guint z, guint how)
{
  const guint nz = w->nz;
  if (!w->ops_inflow)
    {
      w->ops_inflow = g_new (double, (gsize) 168 * nz);
      for (gsize i = 0; i < (gsize) 168 * nz; i++)
        w->ops_inflow[i] = -1;
    }
  double *slot = &w->ops_inflow[(gsize) how * nz + z];
  if (*slot >= 0)
    return *slot;
  const double *dest = w->city->demand.dest;
  guint band = ft_demand_band_of_hour (how);
  double a = 0;
  for (guint from = 0; from < nz; from++)
    {
      double rs = w->dest_sum[band * nz + from];
      double share = dest && rs > 0 ? dest[((gsize) band * nz + from) * nz + z] / rs : (from == z ? 1.0 : 0.0);
      if (share > 0)
        a += w->zone_w[(gsize) how * nz + from] * share;
    }
  *slot = a;
  return a;
}

static double
arrivals_until (FtSimWorld *w, gint32 z, FtTime now, FtTime end)
{
  if (z < 0 || (guint) z >= w->nz)
    return 0;
  double a = 0;
  for (FtTime t = now; t < end; t += FT_HOUR)
    a += arrivals_in_hour (w, (guint) z, ft_sim_world_hour_of_week (t)) * MIN (1.0, (double) (end - t) / FT_HOUR);
  return a;
}

/* What an available vehicle earns over the value horizon, in trips per
 * vehicle-hour: the forecast's requests in the whole city over the
 * horizon per available vehicle and hour (a vehicle's hours are the
 * fleet's: a trip takes it from zone to zone), once per instant. */
static double
trips_per_vehicle_hour (FtSimWorld *w, FtTime now, FtTime horizon)
{
  if (w->ops_util_t == now && w->ops_util > 0)
    return w->ops_util;
  avail_by_zone (w, now);
  double d = 0;
  for (guint z = 0; z < w->nz; z++)
    d += requests_until (w, (gint32) z, now, horizon);
  double hours = (double) (horizon - now) / FT_HOUR;
  w->ops_util = hours > 0 ? d / (hours * MAX (w->ops_avail_total, 1u)) : 0;
  w->ops_util_t = now;
  return w->ops_util;
}

double
ft_sim_world_trip_revenue (FtSimWorld *w, FtVehicleKind kind)
{
  const FtSimScenario *sc = w->sc;
  double trip_km = w->k.trips_completed > 0 ? w->trip_sum_m / 1000.0 / (double) w->k.trips_completed : 2.5;
  return (sc->unlock_minor + sc->per_min_minor[MIN ((guint) kind, 2u)] * 12.0 + sc->per_km_minor * trip_km) / 100.0;
}

double
ft_sim_world_zone_short (FtSimWorld *w, guint z, double vehicles, FtTime now, FtTime end)
{
  return ft_task_value_shortfall (requests_until (w, (gint32) z, now, end), arrivals_until (w, (gint32) z, now, end),
                                  vehicles + 1.0);
}

/* Value one open task for a van at `from` and store it on the queue. */
static void
value_task (FtSimWorld *w, gint64 id, FtLatLon from, FtTime now)
{
  const FtTask *t = ft_ops_get (w->ops, id);
  if (!t || t->vehicle < 0)
    return;
  FtFleet *f = w->core->fleet;
  guint v = (guint) t->vehicle;
  const FtVehicle *veh = ft_fleet_get_vehicle (f, v);
  const FtVehicleType *vt = ft_vehicle_type_default (veh->kind);
  const guint *avail = avail_by_zone (w, now);
  const FtSimScenario *sc = w->sc;
  double m = 0, drive_s = sim_travel (from, veh->pos, &m, w);
  double km = m / 1000.0, minutes = drive_s / 60.0 + service_min (w, t->kind);
  if (t->kind == FT_TASK_REBALANCE && (t->target.lat != 0 || t->target.lon != 0))
    {
      double m2;
      minutes += sim_travel (veh->pos, t->target, &m2, w) / 60.0;
      km += m2 / 1000.0;
    }
  double pack_wh = veh->pack >= 0 ? ft_fleet_get_pack (f, (guint) veh->pack)->capacity_wh : 500.0;
  double trip_km = w->k.trips_completed > 0 ? w->trip_sum_m / 1000.0 / (double) w->k.trips_completed : 2.5;
  double per_trip = CLAMP (vt->wh_per_km * trip_km / MAX (pack_wh, 1.0), 1e-4, 1.0);
  double revenue = ft_sim_world_trip_revenue (w, veh->kind);
  gint32 z = w->veh[v].zone, tz = t->kind == FT_TASK_REBALANCE ? t->target_zone : z;
  FtTime horizon = ft_sim_world_value_horizon (w, now);
  gboolean self_offered = veh->state == FT_STATE_AVAILABLE && !(w->veh[v].flags & (VF_RESERVED | VF_TRIP));
  FtTaskValueInput in = {
    .kind = t->kind,
    .now = now,
    .horizon_end = horizon,
    .expected_requests = requests_until (w, tz, now, horizon),
    /* the others there: a swapped vehicle that is on offer counts itself */
    .vehicles_there = tz >= 0 && (guint) tz < w->nz
                      ? avail[tz] - (tz == z && t->kind != FT_TASK_REBALANCE && self_offered && avail[tz] > 0 ? 1 : 0)
                      : 0,
    .source_expected_requests = t->kind == FT_TASK_REBALANCE ? requests_until (w, z, now, horizon) : 0,
    .source_vehicles = t->kind == FT_TASK_REBALANCE && z >= 0 && (guint) z < w->nz ? avail[z] : 0,
    .battery = CLAMP (ft_fleet_soc (f, v), 0.0, 1.0),
    .battery_per_trip = per_trip,
    .min_battery = CLAMP (vt->low_soc, 0.0, 1.0),
    .revenue_per_trip = revenue,
    /* a faulted vehicle's fault has happened: collecting it avoids the rest
     * of it; else the model's risk (0 without a model) */
    .fault_risk = (w->veh[v].flags & VF_FAULT) ? 1.0 : (w->risk ? CLAMP (w->risk[v], 0.0, 1.0) : 0.0),
    .fault_cost = revenue * 5.0,
    .staff_minutes = MAX (minutes, 0.1),
    .detour_minutes = drive_s / 60.0,
    .van_km = km,
    .cost_per_staff_minute = sc->cost_staff_hourly_minor / 100.0 / 60.0,
    .cost_per_van_km = sc->cost_van_per_km_minor / 100.0,
    .trips_per_vehicle_hour = trips_per_vehicle_hour (w, now, horizon),
    /* off offer for a reason a pack does not cure */
    .out_of_service = (w->veh[v].flags & (VF_FAULT | VF_SUSPENDED)) != 0,
    .back_in_service_hours = t->kind == FT_TASK_COLLECT_REPAIR ? sc->repair_hours : 0,
    /* the simulator's clock is the city's wall clock (demand and shifts
     * are read from it; the city's utc_offset_min does not move it) */
    .utc_offset_min = 0,
    .expected_arrivals = arrivals_until (w, tz, now, horizon),
    .source_expected_arrivals = t->kind == FT_TASK_REBALANCE ? arrivals_until (w, z, now, horizon) : 0,
  };
  FtTaskValue val;
  g_autoptr (GError) e = NULL;
  if (!ft_task_value_estimate (&in, &val, &e) || !ft_ops_set_value (w->ops, id, &val, &e))
    ft_sim_world_sim_error (w, "value task", e);
}

gint64
ft_sim_world_pick_by_value (FtSimWorld *w, Staff *s, guint32 mask)
{
  FtTime now = ft_sim_engine_now (w->engine);
  g_autoptr (GArray) ids = g_array_new (FALSE, FALSE, sizeof (gint64));
  ft_ops_list_open (w->ops, ids);
  for (guint i = 0; i < ids->len; i++)
    value_task (w, g_array_index (ids, gint64, i), s->pos, now);
  ft_ops_rank_open (w->ops, ids);
  for (guint i = 0; i < ids->len; i++)
    {
      const FtTask *t = ft_ops_get (w->ops, g_array_index (ids, gint64, i));
      const FtTaskValue *tv = ft_ops_get_value (w->ops, t->id);
      if (tv && !ft_task_value_pays (tv))
        break;   /* nothing left that pays: the standing rule decides */
      if (mask == 0 || (mask & (1u << t->kind)))
        return t->id;
    }
  /* Work the model does not value (a flat vehicle in a zone with enough
   * others, say) still waits: highest priority, then nearest. */
  return ft_ops_count_state (w->ops, FT_TASK_OPEN) > 256 ? ft_ops_best_open_near (w->ops, s->pos, 750.0, mask)
                                                         : ft_ops_best_open (w->ops, s->pos, mask);
}

/* ------------------------------------------------------------ routes */

static guint32
route_kinds (FtSimWorld *w)
{
  guint32 mask = 1u << FT_TASK_DEPLOY | 1u << FT_TASK_INSPECT;
  if (w->sc->battery_swaps)
    mask |= 1u << FT_TASK_BATTERY_SWAP;
  if (w->sc->rebalancing)
    mask |= 1u << FT_TASK_REBALANCE;
  if (w->sc->fault_collection)
    mask |= 1u << FT_TASK_COLLECT_REPAIR;
  return mask;
}

/* Back to open: the tasks of a van's route that it has not started. */
void
ft_sim_world_route_release (FtSimWorld *w, Staff *s, FtTime now)
{
  for (guint i = 0; i < s->route->len; i++)
    {
      gint64 id = g_array_index (s->route, gint64, i);
      const FtTask *t = ft_ops_get (w->ops, id);
      g_autoptr (GError) e = NULL;
      if (t && t->state == FT_TASK_ASSIGNED && t->staff == (gint32) s->account
          && !ft_ops_unassign (w->ops, id, now, &e))
        ft_sim_world_sim_error (w, "release route", e);
    }
  g_array_set_size (s->route, 0);
}

/* Where and when a van is free of what it is doing now. */
static void
van_free_at (FtSimWorld *w, Staff *s, FtTime now, FtLatLon *pos, FtTime *at, int *packs)
{
  *pos = s->pos;
  /* an idle van only waits for its next poll: a route wakes it */
  *at = s->task < 0 && s->activity == FT_SIM_STAFF_IDLE ? now : MAX (now, s->busy_until);
  *packs = (int) ft_sim_world_van_count_charged (w, s);
  if (s->to_depot)
    {
      *pos = w->depots[s->depot].pos;
      *at += 10 * FT_MINUTE;
      *packs = (int) w->sc->van_capacity_packs;   /* about what it will load */
      return;
    }
  const FtTask *t = s->task >= 0 ? ft_ops_get (w->ops, s->task) : NULL;
  if (!t)
    return;
  if (t->kind == FT_TASK_BATTERY_SWAP)
    *packs = MAX (*packs - 1, 0);
  if (s->activity != FT_SIM_STAFF_TRAVEL)
    return;   /* in service: done at busy_until, where it is */
  *pos = s->target;
  if (t->kind == FT_TASK_REBALANCE && s->phase == 0)
    {
      double m;
      *at += (FtTime) (sim_travel (s->target, t->target, &m, w) * 1000.0);
      *pos = t->target;
    }
  *at += (FtTime) (service_min (w, t->kind) * FT_MINUTE);
}

/* What each hour until a route stop's service costs ([rules]
 * route_wait_weight x the vehicle's earnings an hour on offer): only a
 * vehicle off offer now that the task puts back (a flat one's swap, a
 * suspended one's inspection, a broken one's collection) earns nothing
 * while it waits; the rate is the larger of what an available vehicle
 * earns an hour (the forecast's trips per available vehicle-hour x a
 * trip's revenue) and what the task's value counts per hour it frees. */
static gboolean
route_vehicle_waits (FtSimWorld *w, const FtTask *t)
{
  if (t->vehicle < 0 || (guint) t->vehicle >= ft_fleet_n_vehicles (w->core->fleet))
    return FALSE;
  guint flags = w->veh[t->vehicle].flags;
  switch (t->kind)
    {
    case FT_TASK_BATTERY_SWAP:
      return (flags & VF_LOW) && !(flags & (VF_FAULT | VF_SUSPENDED));   /* flat: off offer */
    case FT_TASK_INSPECT:
      return (flags & VF_SUSPENDED) != 0;
    case FT_TASK_COLLECT_REPAIR:
      return (flags & VF_FAULT) != 0;
    default:
      return FALSE;
    }
}

static double
route_wait_cost (const FtTask *t, gpointer data)
{
  FtSimWorld *w = data;
  if (!route_vehicle_waits (w, t))
    return 0;
  const FtVehicle *veh = ft_fleet_get_vehicle (w->core->fleet, (guint) t->vehicle);
  FtTime now = ft_sim_engine_now (w->engine);
  double rate = trips_per_vehicle_hour (w, now, ft_sim_world_value_horizon (w, now))
                * ft_sim_world_trip_revenue (w, veh->kind);
  const FtTaskValue *tv = ft_ops_get_value (w->ops, t->id);
  if (tv && tv->vehicle_hours > 0.05 && isfinite (tv->revenue_saved))
    rate = MAX (rate, tv->revenue_saved / tv->vehicle_hours);
  return w->sc->route_wait_weight * MAX (rate, 0.0);
}

/* [rules] route_flat_first: a task that alone keeps its vehicle off offer
 * (a flat one's swap, a suspended one's inspection) goes at the head of a
 * route, before any other; a broken vehicle's collection does not (it is
 * off offer for the repair either way). */
static gboolean
route_urgent (const FtTask *t, gpointer data)
{
  FtSimWorld *w = data;
  if (t->kind == FT_TASK_BATTERY_SWAP && w->sc->route_urgent_soc > 0 && t->vehicle >= 0
      && (guint) t->vehicle < w->nv && !(w->veh[t->vehicle].flags & (VF_FAULT | VF_SUSPENDED))
      && ft_fleet_soc (w->core->fleet, (guint) t->vehicle) < w->sc->route_urgent_soc)
    return TRUE;   /* about to go flat */
  return t->kind != FT_TASK_COLLECT_REPAIR && route_vehicle_waits (w, t);
}

gboolean
ft_sim_world_route_urgent (FtSimWorld *w, const FtTask *task)
{
  g_return_val_if_fail (w != NULL && task != NULL, FALSE);
  return w->sc->route_flat_first && route_urgent (task, w);
}

void
ft_sim_world_plan_routes (FtSimWorld *w, FtTime now)
{
  w->last_plan = now;
  g_autofree FtOpsVan *vans = g_new0 (FtOpsVan, MAX (w->n_staff, 1));
  g_autofree Staff **who = g_new0 (Staff *, MAX (w->n_staff, 1));
  guint n = 0;
  for (guint i = 0; i < w->n_staff; i++)
    {
      Staff *s = &w->staff[i];
      if (!s->on_shift || s->going_home)
        {
          ft_sim_world_route_release (w, s, now);
          continue;
        }
      /* keep only what is still this van's to do */
      for (guint k = 0; k < s->route->len;)
        {
          const FtTask *t = ft_ops_get (w->ops, g_array_index (s->route, gint64, k));
          if (t && t->state == FT_TASK_ASSIGNED && t->staff == (gint32) s->account)
            k++;
          else
            g_array_remove_index (s->route, k);
        }
      FtOpsVan *v = &vans[n];
      van_free_at (w, s, now, &v->pos, &v->at, &v->packs);
      v->staff = s->account;
      v->shift_end = s->shift_end - 15 * FT_MINUTE;
      v->depot = w->depots[s->depot].pos;
      if (v->at >= v->shift_end)
        {
          ft_sim_world_route_release (w, s, now);
          continue;
        }
      v->route = (const gint64 *) s->route->data;
      v->n_route = s->route->len;
      v->n_started = 0;   /* the task a van is on is not in its route */
      who[n++] = s;
    }
  if (n == 0)
    return;
  gboolean by_value = g_strcmp0 (w->sc->task_order, "value") == 0;
  if (by_value)
    {
      g_autoptr (GArray) ids = g_array_new (FALSE, FALSE, sizeof (gint64));
      ft_ops_list_open (w->ops, ids);
      for (guint i = 0; i < ids->len; i++)
        {
          /* from the van nearest to it */
          const FtTask *t = ft_ops_get (w->ops, g_array_index (ids, gint64, i));
          FtLatLon at = t->vehicle >= 0 ? ft_fleet_get_vehicle (w->core->fleet, (guint) t->vehicle)->pos : t->target;
          guint best = 0;
          double bd = G_MAXDOUBLE;
          for (guint k = 0; k < n; k++)
            {
              double d = ft_distance_fast_m (vans[k].pos, at);
              if (d < bd)
                bd = d, best = k;
            }
          value_task (w, t->id, vans[best].pos, now);
        }
    }
  FtOpsPlanParams p;
  ft_ops_plan_params_init (&p);
  p.now = now;
  for (guint k = 0; k < FT_N_TASK_KINDS; k++)
    p.service_s[k] = service_min (w, (FtTaskKind) k) * 60.0;
  p.max_tasks = w->sc->route_tasks_per_van * n;
  p.horizon = (FtTime) (w->sc->route_horizon_min * FT_MINUTE);
  p.by_value = by_value;
  p.kind_mask = route_kinds (w);
  p.travel = sim_travel;
  if (w->sc->route_wait_weight > 0)
    {
      p.wait_cost = route_wait_cost;
      p.cost_per_km = w->sc->cost_van_per_km_minor / 100.0;
    }
  if (w->sc->route_flat_first)
    p.urgent = route_urgent;
  p.user_data = w;
  p.search.max_iterations = w->sc->route_iterations;
  p.search.seed = w->sc->seed * 1000003u + (guint64) (now / FT_MINUTE);
  g_autoptr (GError) e = NULL;
  g_autoptr (FtOpsPlan) plan = ft_ops_plan_routes (w->ops, vans, n, &p, &e);
  if (!plan)
    {
      ft_sim_world_sim_error (w, "plan routes", e);
      return;
    }
  for (guint i = 0; i < plan->dropped->len; i++)
    {
      const FtTask *t = ft_ops_get (w->ops, g_array_index (plan->dropped, gint64, i));
      if (t->kind == FT_TASK_REBALANCE && t->state != FT_TASK_DONE && t->state != FT_TASK_CANCELLED)
        w->n_rebalance_open--;
    }
  if (!ft_ops_plan_apply (w->ops, vans, n, plan, now, &e))
    {
      ft_sim_world_sim_error (w, "apply route plan", e);
      return;
    }
  w->k.route_plans++;
  for (guint k = 0; k < n; k++)
    {
      GArray *r = who[k]->route;
      g_array_set_size (r, 0);
      g_array_append_vals (r, plan->routes[k].tasks->data, plan->routes[k].tasks->len);
    }
}

static void
on_route_cycle (FtSimEngine *e, gpointer data, guint64 arg)
{
  FtSimWorld *w = data;
  FtTime now = ft_sim_engine_now (e);
  FtTime next = now + (FtTime) (w->sc->route_interval_min * FT_MINUTE);
  if (next < w->end)
    ft_sim_engine_schedule (e, next, PRIO_SYSTEM, on_route_cycle, w, 0);
  if (w->last_plan != now)
    ft_sim_world_plan_routes (w, now);
  /* vans waiting for work get it now */
  for (guint i = 0; i < w->n_staff; i++)
    {
      Staff *s = &w->staff[i];
      if (s->on_shift && s->task < 0 && !s->going_home && !s->to_depot && s->route->len > 0
          && s->activity == FT_SIM_STAFF_IDLE)
        ft_sim_world_staff_next (w, s);
    }
}

/* A swap task was created, or its vehicle has just gone flat ([rules]
 * route_at_once): plan at once (once per instant) rather than at the next
 * cycle, so the task is in a route before the vans' next decisions. */
static void
on_route_soon (FtSimEngine *e, gpointer data, guint64 arg)
{
  FtSimWorld *w = data;
  FtTime now = ft_sim_engine_now (e);
  w->plan_soon = FALSE;
  if (w->last_plan != now)
    ft_sim_world_plan_routes (w, now);
  for (guint i = 0; i < w->n_staff; i++)
    {
      Staff *s = &w->staff[i];
      if (s->on_shift && s->task < 0 && !s->going_home && !s->to_depot && s->route->len > 0
          && s->activity == FT_SIM_STAFF_IDLE)
        ft_sim_world_staff_next (w, s);
    }
}

void
ft_sim_world_route_soon (FtSimWorld *w, FtTime now)
{
  if (!w->sc->van_routes || !w->sc->route_at_once || w->plan_soon || w->last_plan == now)
    return;
  w->plan_soon = TRUE;
  ft_sim_engine_schedule (w->engine, now, PRIO_SYSTEM, on_route_soon, w, 0);
}

/* ------------------------------------------------------------ maintenance alerts */

static void
on_maint_alerts (FtSimEngine *e, gpointer data, guint64 arg)
{
  FtSimWorld *w = data;
  FtTime now = ft_sim_engine_now (e);
  FtTime step = (FtTime) (w->sc->inspect_every_h * FT_HOUR);
  if (now + step < w->end)
    ft_sim_engine_schedule (e, now + step, PRIO_SYSTEM, on_maint_alerts, w, 0);
  FtMaintLog *log = w->maint_log;
  FtTime start = ft_maint_log_start (log);
  if (ft_maint_log_n_faults (log) < 3 || now - start < 2 * FT_HOUR)
    return;   /* nothing to learn from yet */
  g_autoptr (GError) err = NULL;
  FtMaintKind kind = FT_MAINT_WEIBULL;
  ft_maint_kind_from_name (w->sc->maint_model, &kind);
  FtTime row_step = MAX ((now - start) / 8, FT_HOUR);
  g_autoptr (GArray) rows = ft_maint_log_rows (log, start, now, row_step, now, &err);
  if (!rows)
    {
      g_debug ("maintenance alerts: %s", err->message);
      return;
    }
  FtMaintParams mp;
  ft_maint_params_init (&mp);
  g_autoptr (FtMaintModel) model = ft_maint_model_fit (kind, &mp, (const FtMaintRow *) rows->data, rows->len, &err);
  if (!model)
    {
      g_debug ("maintenance alerts: %s", err->message);   /* too few faults in the window */
      return;
    }
  g_autoptr (GArray) cur = ft_maint_log_rows_now (log, now, &err);
  if (!cur)
    {
      g_debug ("maintenance alerts: %s", err->message);
      return;
    }
  g_autofree double *risk = g_new (double, MAX (cur->len, 1));
  if (!ft_maint_model_predict (model, (const FtMaintRow *) cur->data, cur->len, w->sc->inspect_horizon_h, risk, &err))
    {
      ft_sim_world_sim_error (w, "maintenance model", err);
      return;
    }
  w->k.maint_fits++;
  FtFleet *f = w->core->fleet;
  for (guint i = 0; i < cur->len; i++)
    {
      guint v = g_array_index (cur, FtMaintRow, i).vehicle;
      if (v >= w->nv || !isfinite (risk[i]))
        continue;
      w->risk[v] = risk[i];
      VehSim *vs = &w->veh[v];
      if (risk[i] < w->sc->inspect_risk || (vs->flags & (VF_FAULT | VF_IN_VAN | VF_ALERT))
          || (w->inspected_at[v] > 0 && now - w->inspected_at[v] < REALERT_AFTER)
          || ft_ops_open_for (w->ops, v, FT_TASK_INSPECT) >= 0
          || ft_ops_open_for (w->ops, v, FT_TASK_COLLECT_REPAIR) >= 0)
        continue;
      const FtVehicle *veh = ft_fleet_get_vehicle (f, v);
      ft_sim_world_make_task (w, FT_TASK_INSPECT, v, veh->pos, vs->zone, 4, now);
      w->k.maint_alerts++;
      vs->flags |= VF_ALERT;
      /* out of service until inspected: system_suspend, not maintenance
       * (the model would read that as a fault) */
      if (w->sc->inspect_out_of_service && veh->state == FT_STATE_AVAILABLE
          && !(vs->flags & (VF_TRIP | VF_RESERVED)))
        {
          if (ft_sim_world_apply_vev (w, v, FT_VEV_SYSTEM_SUSPEND, now))
            vs->flags |= VF_SUSPENDED;
        }
    }
}

/* The inspection is done: what wears is serviced (wear halved, as the
 * workshop does) and a developing defect is found and fixed before it
 * faults; a suspended vehicle goes back into service. */
void
ft_sim_world_inspected (FtSimWorld *w, guint v, FtTime now)
{
  FtFleet *f = w->core->fleet;
  const FtVehicle *veh = ft_fleet_get_vehicle (f, v);
  ft_fleet_add_wear (f, v, -veh->wear * 0.5);
  w->veh[v].flags &= (guint8) ~VF_DEFECT;
  w->inspected_at[v] = now;
  w->k.inspections++;
  ft_sim_world_alert_clear (w, v, now);
}

void
ft_sim_world_alert_clear (FtSimWorld *w, guint v, FtTime now)
{
  VehSim *vs = &w->veh[v];
  const FtVehicle *veh = ft_fleet_get_vehicle (w->core->fleet, v);
  if ((vs->flags & VF_SUSPENDED) && veh->state == FT_STATE_NON_OPERATIONAL && !(vs->flags & (VF_FAULT | VF_LOW)))
    ft_sim_world_apply_vev (w, v, FT_VEV_SYSTEM_RESUME, now);
  vs->flags &= ~(VF_ALERT | VF_SUSPENDED);
}

/* ------------------------------------------------------------ setup */

gboolean
ft_sim_world_setup_ops (FtSimWorld *w, GError **error)
{
  const FtSimScenario *sc = w->sc;
  w->risk = g_new0 (double, MAX (w->nv, 1));
  w->inspected_at = g_new0 (FtTime, MAX (w->nv, 1));
  w->last_plan = -1;
  if (sc->inspect_risk > 0)
    {
      w->maint_log = ft_maint_log_new ();
      w->maint_listener = ft_event_log_add_listener_for (w->core->log, FT_MAINT_LOG_KINDS, ft_maint_log_listener, w->maint_log);
      FtTime first = (FtTime) (sc->inspect_every_h * FT_HOUR);
      if (first < w->end)
        ft_sim_engine_schedule (w->engine, first, PRIO_SYSTEM, on_maint_alerts, w, 0);
    }
  if (sc->van_routes)
    {
      FtTime first = (FtTime) (sc->route_interval_min * FT_MINUTE);
      if (first < w->end)
        ft_sim_engine_schedule (w->engine, first, PRIO_SYSTEM, on_route_cycle, w, 0);
    }
  return TRUE;
}

void
ft_sim_world_free_ops (FtSimWorld *w)
{
  if (w->maint_log)
    {
      ft_event_log_remove_listener (w->core->log, w->maint_listener);
      ft_maint_log_free (w->maint_log);
    }
  g_free (w->risk);
  g_free (w->inspected_at);
  g_free (w->ops_avail);
  g_free (w->ops_inflow);
}
