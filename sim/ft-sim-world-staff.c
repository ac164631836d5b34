/* ft-sim-world-staff.c — depots and packs (chargers, the queue of packs
 * waiting, charged packs to load) and field staff on shifts: vans driven
 * from depots to tasks (battery swaps, rebalancing, collection for repair)
 * and back, one event per leg or service step.
 */
#include "ft-sim-world-private.h"

/* ------------------------------------------------------------ depots and packs */

static void on_charged (FtSimEngine *e, gpointer data, guint64 arg);

/* Charge pack p by up to wh and count the energy it took (the cost model's
 * energy and pack wear). */
static void
charge_pack (FtSimWorld *w, guint p, double wh, FtTime now)
{
  const FtPack *pk = ft_fleet_get_pack (w->core->fleet, p);
  double before = pk->cycles * pk->capacity_wh + pk->throughput_wh;
  ft_fleet_charge_pack (w->core->fleet, p, wh, now);
  pk = ft_fleet_get_pack (w->core->fleet, p);
  w->energy_wh += pk->cycles * pk->capacity_wh + pk->throughput_wh - before;
}

static void
depot_start_charging (FtSimWorld *w, guint d)
{
  Depot *dp = &w->depots[d];
  while (dp->charging < dp->chargers && !g_queue_is_empty (&dp->waiting))
    {
      guint p = GPOINTER_TO_UINT (g_queue_pop_head (&dp->waiting)) - 1;
      const FtPack *pk = ft_fleet_get_pack (w->core->fleet, p);
      double need = 1.0 - pk->soc;
      FtTime dur = (FtTime) (need * w->sc->charge_hours_full * FT_HOUR) + FT_MINUTE;
      dp->charging++;
      ft_sim_engine_schedule_in (w->engine, dur, PRIO_SYSTEM, on_charged, w, ((guint64) d << 32) | p);
    }
}

static void
on_charged (FtSimEngine *e, gpointer data, guint64 arg)
{
  FtSimWorld *w = data;
  guint d = (guint) (arg >> 32), p = (guint) (arg & 0xffffffffu);
  Depot *dp = &w->depots[d];
  const FtPack *pk = ft_fleet_get_pack (w->core->fleet, p);
  charge_pack (w, p, (1.0 - pk->soc) * pk->capacity_wh * MAX (pk->health, 0.01) + 1.0, ft_sim_engine_now (e));
  w->k.packs_charged++;
  dp->charging--;
  g_array_append_val (dp->charged, p);
  depot_start_charging (w, d);
}

guint
ft_sim_world_van_count_charged (FtSimWorld *w, Staff *s)
{
  guint n = 0;
  for (guint i = 0; i < s->van_packs->len; i++)
    if (ft_fleet_get_pack (w->core->fleet, g_array_index (s->van_packs, guint, i))->soc >= 0.9)
      n++;
  return n;
}

/* Unload depleted packs for charging, load charged ones up to capacity. */
static void
depot_visit (FtSimWorld *w, Staff *s, FtTime now)
{
  Depot *dp = &w->depots[s->depot];
  FtFleet *f = w->core->fleet;
  g_autoptr (GError) e = NULL;
  for (guint i = 0; i < s->van_packs->len;)
    {
      guint p = g_array_index (s->van_packs, guint, i);
      if (ft_fleet_get_pack (f, p)->soc < 0.9)
        {
          if (!ft_fleet_move_pack (f, p, FT_PACK_AT_DEPOT, (gint32) s->depot, now, &e))
            {
              ft_sim_world_sim_error (w, "unload pack", e);
              g_clear_error (&e);
              i++;
              continue;
            }
          g_array_remove_index_fast (s->van_packs, i);
          g_queue_push_tail (&dp->waiting, GUINT_TO_POINTER (p + 1));
        }
      else
        i++;
    }
  depot_start_charging (w, s->depot);
  while (s->van_packs->len < w->sc->van_capacity_packs && dp->charged->len > 0)
    {
      guint p = g_array_index (dp->charged, guint, dp->charged->len - 1);
      g_array_set_size (dp->charged, dp->charged->len - 1);
      if (!ft_fleet_move_pack (f, p, FT_PACK_IN_VAN, (gint32) s->van, now, &e))
        {
          ft_sim_world_sim_error (w, "load pack", e);
          g_clear_error (&e);
          continue;
        }
      g_array_append_val (s->van_packs, p);
    }
}

/* ------------------------------------------------------------ staff */

/* Is the staff member's current work for battery swaps (a swap task, or
 * a trip to the depot or loading there)? The cost per swap counts it. */
static gboolean
on_swap_work (FtSimWorld *w, Staff *s)
{
  if (s->going_home)
    return FALSE;
  if (s->to_depot || s->activity == FT_SIM_STAFF_AT_DEPOT)
    return w->sc->battery_swaps;
  const FtTask *t = s->task >= 0 ? ft_ops_get (w->ops, s->task) : NULL;
  return t != NULL && t->kind == FT_TASK_BATTERY_SWAP;
}

static void
staff_schedule (FtSimWorld *w, Staff *s, FtTime t, guint what)
{
  FtTime now = ft_sim_engine_now (w->engine);
  if ((what == SEV_ARRIVE || what == SEV_SERVICE_DONE || (what == SEV_POLL && s->activity == FT_SIM_STAFF_AT_DEPOT))
      && t > now && on_swap_work (w, s))
    w->swap_staff_ms += (double) (t - now);
  if (s->pending)
    ft_sim_engine_cancel (w->engine, s->pending);
  s->busy_until = t;
  s->pending = ft_sim_engine_schedule (w->engine, t, PRIO_STAFF, ft_sim_world_on_staff_event, w,
                                       ((guint64) what << 32) | s->index);
}

static void
staff_travel (FtSimWorld *w, Staff *s, FtLatLon to, FtTime now)
{
  double m = ft_distance_fast_m (s->pos, to) * w->sc->detour_factor;
  w->staff_m += m;
  if (on_swap_work (w, s))
    w->swap_m += m;
  s->from = s->pos;
  s->target = to;
  s->leg_t0 = now;
  s->leg_t1 = now + (FtTime) (m / (w->sc->van_speed_kph / 3.6) * 1000.0) + FT_MINUTE;
  s->activity = FT_SIM_STAFF_TRAVEL;
  staff_schedule (w, s, s->leg_t1, SEV_ARRIVE);
}

static void
staff_go_depot (FtSimWorld *w, Staff *s, FtTime now)
{
  s->to_depot = TRUE;
  staff_travel (w, s, w->depots[s->depot].pos, now);
}

static void
task_release (FtSimWorld *w, Staff *s, FtTime now)
{
  if (s->task < 0)
    return;
  g_autoptr (GError) e = NULL;
  const FtTask *t = ft_ops_get (w->ops, s->task);
  if (t && (t->state == FT_TASK_ASSIGNED || t->state == FT_TASK_IN_PROGRESS)
      && !ft_ops_unassign (w->ops, s->task, now, &e))
    ft_sim_world_sim_error (w, "unassign task", e);
  s->task = -1;
  s->phase = 0;
}

static void
task_done (FtSimWorld *w, Staff *s, FtTime now)
{
  g_autoptr (GError) e = NULL;
  const FtTask *t = ft_ops_get (w->ops, s->task);
  if (t->kind == FT_TASK_REBALANCE)
    w->n_rebalance_open--;
  if (!ft_ops_complete (w->ops, s->task, s->account, now, &e))
    ft_sim_world_sim_error (w, "complete task", e);
  else
    w->k.tasks_done++;
  s->task = -1;
  s->phase = 0;
}

static void
task_drop (FtSimWorld *w, Staff *s, FtTime now)
{
  /* the task no longer makes sense (vehicle fixed, moved, taken) */
  g_autoptr (GError) e = NULL;
  const FtTask *t = ft_ops_get (w->ops, s->task);
  if (t->kind == FT_TASK_REBALANCE)
    w->n_rebalance_open--;
  if (!ft_ops_cancel (w->ops, s->task, -1, now, &e))
    ft_sim_world_sim_error (w, "cancel task", e);
  s->task = -1;
  s->phase = 0;
}

static gboolean
vehicle_busy (FtSimWorld *w, guint v)
{
  return (w->veh[v].flags & (VF_TRIP | VF_RESERVED | VF_IN_VAN)) != 0;
}

/* Pick the charged pack in the van best matching the vehicle's pack size. */
static gint
van_pick_pack (FtSimWorld *w, Staff *s, double capacity)
{
  gint best = -1;
  for (guint i = 0; i < s->van_packs->len; i++)
    {
      const FtPack *pk = ft_fleet_get_pack (w->core->fleet, g_array_index (s->van_packs, guint, i));
      if (pk->soc < 0.9)
        continue;
      if (best < 0 || fabs (pk->capacity_wh - capacity) < 0.5)
        {
          best = (gint) i;
          if (fabs (pk->capacity_wh - capacity) < 0.5)
            break;
        }
    }
  return best;
}

static void on_repaired (FtSimEngine *e, gpointer data, guint64 v);

static void
staff_arrive (FtSimWorld *w, Staff *s, FtTime now)
{
  s->pos = s->target;
  FtFleet *f = w->core->fleet;
  if (s->to_depot)
    {
      s->to_depot = FALSE;
      s->activity = FT_SIM_STAFF_AT_DEPOT;
      depot_visit (w, s, now);
      if (s->going_home || now >= s->shift_end)
        {
          s->on_shift = FALSE;
          s->going_home = FALSE;
          s->activity = FT_SIM_STAFF_OFF;
          w->staff_ms += (double) (now - s->shift_t0);
          return;
        }
      staff_schedule (w, s, now + 10 * FT_MINUTE, SEV_POLL);  /* loading time */
      return;
    }
  if (s->task < 0)
    {
      ft_sim_world_staff_next (w, s);
      return;
    }
  const FtTask *t = ft_ops_get (w->ops, s->task);
  g_autoptr (GError) e = NULL;
  guint v = (guint) t->vehicle;
  switch (t->kind)
    {
    case FT_TASK_BATTERY_SWAP:
      {
        const FtVehicle *veh = ft_fleet_get_vehicle (f, v);
        if (vehicle_busy (w, v) || veh->pack < 0)
          {
            /* someone rode off with it: leave the task for later */
            task_release (w, s, now);
            ft_sim_world_staff_next (w, s);
            return;
          }
        if (!ft_ops_start (w->ops, s->task, s->account, now, &e))
          ft_sim_world_sim_error (w, "start swap", e);
        s->activity = FT_SIM_STAFF_SERVICE;
        staff_schedule (w, s, now + (FtTime) (w->sc->swap_service_min * FT_MINUTE), SEV_SERVICE_DONE);
        return;
      }
    case FT_TASK_REBALANCE:
      if (s->phase == 0)
        {
          const FtVehicle *veh = ft_fleet_get_vehicle (f, v);
          if (vehicle_busy (w, v) || veh->state != FT_STATE_AVAILABLE)
            {
              task_drop (w, s, now);
              ft_sim_world_staff_next (w, s);
              return;
            }
          if (!ft_ops_start (w->ops, s->task, s->account, now, &e))
            ft_sim_world_sim_error (w, "start rebalance", e);
          if (ft_sim_world_apply_vev (w, v, FT_VEV_REBALANCE_PICK_UP, now))
            {
              w->veh[v].flags |= VF_IN_VAN;
              s->carrying = (gint32) v;
            }
          s->phase = 1;
          staff_travel (w, s, t->target, now);
          return;
        }
      s->activity = FT_SIM_STAFF_SERVICE;
      staff_schedule (w, s, now + (FtTime) (w->sc->rebalance_service_min * FT_MINUTE), SEV_SERVICE_DONE);
      return;
    case FT_TASK_COLLECT_REPAIR:
      {
        const FtVehicle *veh = ft_fleet_get_vehicle (f, v);
        if (vehicle_busy (w, v) || veh->state != FT_STATE_NON_OPERATIONAL || !(w->veh[v].flags & VF_FAULT))
          {
            task_drop (w, s, now);
            ft_sim_world_staff_next (w, s);
            return;
          }
        if (!ft_ops_start (w->ops, s->task, s->account, now, &e))
          ft_sim_world_sim_error (w, "start collect", e);
        s->activity = FT_SIM_STAFF_SERVICE;
        staff_schedule (w, s, now + (FtTime) (w->sc->collect_service_min * FT_MINUTE), SEV_SERVICE_DONE);
        return;
      }
    case FT_TASK_INSPECT:
      {
        if (vehicle_busy (w, v))
          {
            /* on a ride (not taken out of service): later */
            task_release (w, s, now);
            ft_sim_world_staff_next (w, s);
            return;
          }
        if (w->veh[v].flags & VF_FAULT)
          {
            /* it failed before we got there: collection's job now */
            ft_sim_world_alert_clear (w, v, now);
            task_drop (w, s, now);
            ft_sim_world_staff_next (w, s);
            return;
          }
        if (!ft_ops_start (w->ops, s->task, s->account, now, &e))
          ft_sim_world_sim_error (w, "start inspection", e);
        s->activity = FT_SIM_STAFF_SERVICE;
        staff_schedule (w, s, now + (FtTime) (w->sc->inspect_service_min * FT_MINUTE), SEV_SERVICE_DONE);
        return;
      }
    case FT_TASK_DEPLOY:
    default:
      if (!ft_ops_start (w->ops, s->task, s->account, now, &e))
        ft_sim_world_sim_error (w, "start task", e);
      s->activity = FT_SIM_STAFF_SERVICE;
      staff_schedule (w, s, now + 5 * FT_MINUTE, SEV_SERVICE_DONE);
      return;
    }
}

static void
staff_service_done (FtSimWorld *w, Staff *s, FtTime now)
{
  FtFleet *f = w->core->fleet;
  const FtTask *t = ft_ops_get (w->ops, s->task);
  g_autoptr (GError) e = NULL;
  guint v = (guint) t->vehicle;
  switch (t->kind)
    {
    case FT_TASK_BATTERY_SWAP:
      {
        const FtVehicle *veh = ft_fleet_get_vehicle (f, v);
        if (vehicle_busy (w, v))
          {
            task_release (w, s, now);
            break;
          }
        gint i = van_pick_pack (w, s, ft_fleet_get_pack (f, (guint) veh->pack)->capacity_wh);
        if (i < 0)
          {
            task_release (w, s, now);
            break;
          }
        guint fresh = g_array_index (s->van_packs, guint, i);
        guint old = (guint) veh->pack;
        if (!ft_fleet_swap_pack (f, v, fresh, s->van, now, &e))
          {
            ft_sim_world_sim_error (w, "swap pack", e);
            task_release (w, s, now);
            break;
          }
        g_array_index (s->van_packs, guint, i) = old;
        w->k.battery_swaps++;
        VehSim *vs = &w->veh[v];
        gboolean was_low = (vs->flags & VF_LOW) != 0;
        ft_sim_world_low_resolved (w, v, now);
        veh = ft_fleet_get_vehicle (f, v);
        if (was_low && !(vs->flags & (VF_FAULT | VF_SUSPENDED)) && veh->state == FT_STATE_NON_OPERATIONAL)
          ft_sim_world_apply_vev (w, v, FT_VEV_BATTERY_CHARGED, now);
        task_done (w, s, now);
        break;
      }
    case FT_TASK_REBALANCE:
      if (s->carrying >= 0)
        {
          ft_fleet_set_position (f, v, t->target, 0, now, TRUE);
          ft_sim_world_apply_vev (w, v, FT_VEV_PROVIDER_DROP_OFF, now);
          w->veh[v].flags &= ~VF_IN_VAN;
          w->veh[v].zone = ft_city_zone_at (w->city, t->target);
          s->carrying = -1;
          w->k.rebalances++;
        }
      task_done (w, s, now);
      break;
    case FT_TASK_COLLECT_REPAIR:
      if (ft_sim_world_apply_vev (w, v, FT_VEV_MAINTENANCE_PICK_UP, now))
        {
          w->veh[v].flags |= VF_IN_VAN;
          w->k.collections++;
          /* the van drops it at its depot's workshop; back after repair */
          ft_sim_engine_schedule (w->engine, now + (FtTime) (w->sc->repair_hours * FT_HOUR), PRIO_SYSTEM,
                                  on_repaired, w, ((guint64) s->depot << 32) | v);
        }
      task_done (w, s, now);
      break;
    case FT_TASK_INSPECT:
      ft_sim_world_inspected (w, v, now);
      task_done (w, s, now);
      break;
    case FT_TASK_DEPLOY:
    default:
      task_done (w, s, now);
      break;
    }
  ft_sim_world_staff_next (w, s);
}

static void
on_repaired (FtSimEngine *e, gpointer data, guint64 arg)
{
  FtSimWorld *w = data;
  guint v = (guint) (arg & 0xffffffffu), d = (guint) (arg >> 32);
  FtTime now = ft_sim_engine_now (e);
  FtFleet *f = w->core->fleet;
  VehSim *vs = &w->veh[v];
  ft_fleet_report_faults (f, v, 0, now);
  vs->damage = 0;
  const FtVehicle *veh = ft_fleet_get_vehicle (f, v);
  if (veh->pack >= 0)
    {
      const FtPack *pk = ft_fleet_get_pack (f, (guint) veh->pack);
      charge_pack (w, (guint) veh->pack, (1.0 - pk->soc) * pk->capacity_wh * MAX (pk->health, 0.01) + 1.0, now);
    }
  ft_sim_world_low_resolved (w, v, now);
  /* out on the street next to the depot */
  FtLatLon p = ft_latlon_offset (w->depots[d].pos, (double) (v % 7) * 8.0, (double) (v % 5) * 8.0);
  ft_fleet_set_position (f, v, p, 0, now, TRUE);
  ft_sim_world_apply_vev (w, v, FT_VEV_PROVIDER_DROP_OFF, now);
  ft_fleet_add_wear (f, v, -veh->wear * 0.5);
  vs->flags &= ~(VF_FAULT | VF_IN_VAN | VF_DEFECT);
  vs->zone = ft_city_zone_at (w->city, p);
  w->fault_ms += (double) (now - vs->fault_since);
}

void
ft_sim_world_staff_next (FtSimWorld *w, Staff *s)
{
  FtTime now = ft_sim_engine_now (w->engine);
  s->activity = FT_SIM_STAFF_IDLE;
  if (!s->on_shift)
    return;
  double home_m = ft_distance_fast_m (s->pos, w->depots[s->depot].pos) * w->sc->detour_factor;
  FtTime home_t = (FtTime) (home_m / (w->sc->van_speed_kph / 3.6) * 1000.0) + FT_MINUTE;
  if (now + home_t + 15 * FT_MINUTE >= s->shift_end)
    {
      ft_sim_world_route_release (w, s, now);
      s->going_home = TRUE;
      staff_go_depot (w, s, now);
      return;
    }
  guint charged = ft_sim_world_van_count_charged (w, s);
  /* dispatcher-assigned tasks first */
  while (s->queue->len > 0)
    {
      gint64 id = g_array_index (s->queue, gint64, 0);
      g_array_remove_index (s->queue, 0);
      const FtTask *t = ft_ops_get (w->ops, id);
      if (t && t->state == FT_TASK_ASSIGNED && t->staff == (gint32) s->account)
        {
          s->task = id;
          s->phase = 0;
          FtLatLon to = t->vehicle >= 0 ? ft_fleet_get_vehicle (w->core->fleet, (guint) t->vehicle)->pos : t->target;
          staff_travel (w, s, to, now);
          return;
        }
    }
  guint32 mask = 0;
  if (w->sc->battery_swaps && charged > 0)
    mask |= 1u << FT_TASK_BATTERY_SWAP;
  if (w->sc->rebalancing)
    mask |= 1u << FT_TASK_REBALANCE;
  if (w->sc->fault_collection)
    mask |= 1u << FT_TASK_COLLECT_REPAIR;
  mask |= 1u << FT_TASK_DEPLOY | 1u << FT_TASK_INSPECT;
  if (w->sc->battery_swaps && charged == 0 && w->depots[s->depot].charged->len > 0)
    {
      staff_go_depot (w, s, now);
      return;
    }
  if (w->sc->van_routes)
    {
      /* the next stop of the van's route; out of stops, plan again (once
       * per instant: every van's route is re-optimised with it) */
      if (s->route->len == 0 && w->last_plan != now && ft_ops_count_state (w->ops, FT_TASK_OPEN) > 0)
        ft_sim_world_plan_routes (w, now);
      while (s->route->len > 0)
        {
          gint64 rid = g_array_index (s->route, gint64, 0);
          g_array_remove_index (s->route, 0);
          const FtTask *t = ft_ops_get (w->ops, rid);
          if (!t || t->state != FT_TASK_ASSIGNED || t->staff != (gint32) s->account)
            continue;   /* cancelled or reassigned by a dispatcher meanwhile */
          if (t->kind == FT_TASK_BATTERY_SWAP && charged == 0)
            {
              g_autoptr (GError) e = NULL;
              if (!ft_ops_unassign (w->ops, rid, now, &e))
                ft_sim_world_sim_error (w, "unassign task", e);
              continue;
            }
          s->task = rid;
          s->phase = 0;
          FtLatLon to = t->vehicle >= 0 ? ft_fleet_get_vehicle (w->core->fleet, (guint) t->vehicle)->pos : t->target;
          staff_travel (w, s, to, now);
          return;
        }
      if (charged * 3 < w->sc->van_capacity_packs && w->depots[s->depot].charged->len > 0
          && s->van_packs->len > charged)
        {
          staff_go_depot (w, s, now);   /* quiet time: restock */
          return;
        }
      staff_schedule (w, s, now + 10 * FT_MINUTE, SEV_POLL);
      return;
    }
  /* Phase 1: highest priority, then nearest. With a large backlog (big
   * fleets) a global scan per pick gets expensive and the best work is
   * local anyway: then look within 750 m first. Phase 3: the best value
   * per staff minute (ft_ops_rank_open). */
  gint64 id = g_strcmp0 (w->sc->task_order, "value") == 0
              ? ft_sim_world_pick_by_value (w, s, mask)
              : ft_ops_count_state (w->ops, FT_TASK_OPEN) > 256
              ? ft_ops_best_open_near (w->ops, s->pos, 750.0, mask)
              : ft_ops_best_open (w->ops, s->pos, mask);
  if (id < 0)
    {
      if (charged * 3 < w->sc->van_capacity_packs && w->depots[s->depot].charged->len > 0
          && s->van_packs->len > charged)
        {
          staff_go_depot (w, s, now);   /* quiet time: restock */
          return;
        }
      staff_schedule (w, s, now + 10 * FT_MINUTE, SEV_POLL);
      return;
    }
  g_autoptr (GError) e = NULL;
  if (!ft_ops_assign (w->ops, id, s->account, -1, now, &e))
    {
      ft_sim_world_sim_error (w, "assign task", e);
      staff_schedule (w, s, now + 10 * FT_MINUTE, SEV_POLL);
      return;
    }
  s->task = id;
  s->phase = 0;
  const FtTask *t = ft_ops_get (w->ops, id);
  FtLatLon to = t->vehicle >= 0 ? ft_fleet_get_vehicle (w->core->fleet, (guint) t->vehicle)->pos : t->target;
  staff_travel (w, s, to, now);
}

void
ft_sim_world_on_staff_event (FtSimEngine *e, gpointer data, guint64 arg)
{
  FtSimWorld *w = data;
  Staff *s = &w->staff[arg & 0xffffffffu];
  guint what = (guint) (arg >> 32);
  FtTime now = ft_sim_engine_now (e);
  s->pending = 0;
  switch (what)
    {
    case SEV_SHIFT_START:
      {
        /* schedule tomorrow's shift first */
        FtTime next = now + FT_DAY;
        if (next < w->end)
          s->pending = 0, ft_sim_engine_schedule (e, next, PRIO_STAFF, ft_sim_world_on_staff_event, w,
                                                  ((guint64) SEV_SHIFT_START << 32) | s->index);
        if (s->on_shift)
          return;   /* still finishing yesterday (cannot happen with shifts < 24 h) */
        s->on_shift = TRUE;
        s->shift_t0 = now;
        s->shift_end = now + (FtTime) (w->sc->shift_hours * FT_HOUR);
        s->pos = w->depots[s->depot].pos;
        s->activity = FT_SIM_STAFF_AT_DEPOT;
        depot_visit (w, s, now);
        staff_schedule (w, s, now + 10 * FT_MINUTE, SEV_POLL);
        return;
      }
    case SEV_ARRIVE:
      staff_arrive (w, s, now);
      return;
    case SEV_SERVICE_DONE:
      staff_service_done (w, s, now);
      return;
    case SEV_POLL:
    default:
      if (s->task < 0)
        ft_sim_world_staff_next (w, s);
      return;
    }
}
