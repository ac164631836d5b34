/* ft-live-ops.c — the same operations live: the twin proposes tasks from
 * live state (low battery → swap, a fault → collect, parked where parking
 * is not allowed → rebalance), values and ranks them (src/ops), waits for a
 * dispatcher's approval (or an auto-approve a dispatcher switched on),
 * hands approved tasks to on-shift staff and sends each an ordered stop
 * list through the outbox. Progress from staff (started, done, skipped)
 * re-plans; a started stop stays first and is never taken away.
 */
#include "ft-live-private.h"
#include "ft-ops-value.h"
#include "ft-ops-plan.h"
#include "ft-rebalance.h"

#include <string.h>

#define SHIFT_UNKNOWN (12 * FT_HOUR)   /* a van that did not say when its shift ends */

void
ft_live_ops_config_init (FtLiveOpsConfig *c)
{
  g_return_if_fail (c != NULL);
  memset (c, 0, sizeof *c);
  c->propose = FALSE;
  c->every = 10 * FT_SECOND;
  c->low_battery = 0.25;
  c->full_battery = 0.95;
  c->max_stops = 8;
  c->van_packs = 6;
  c->staff_fresh = 10 * FT_MINUTE;
  c->horizon = 4 * FT_HOUR;
  c->cooldown = 15 * FT_MINUTE;
  c->requests_per_hour = 1.5;
  c->vehicles_nearby = 2;
  c->revenue_per_trip = 2.5;
  c->battery_per_trip = 0.08;
  c->fault_cost = 15;
  c->cost_per_staff_minute = 0.5;
  c->cost_per_van_km = 0.3;
  c->van_kph = 20;
  c->plan_iterations = 300;
  c->plan_horizon = FT_HOUR;
  c->plan_limit_ms = 100;
  c->inspect_risk = 0.3;
  c->reinspect_after = 3 * FT_DAY;
  c->rebalance_km = 2.5;
}

void
ft_live_ops_init (FtLive *live)
{
  FtLiveOpsState *o = &live->lops;
  ft_live_ops_config_init (&o->cfg);
  o->auto_by = -1;
  o->last_scan = G_MININT64;
  o->last_replan = G_MININT64;
  o->plans = g_array_new (FALSE, TRUE, sizeof (StaffPlan));
  o->skipped = g_hash_table_new_full (g_int64_hash, g_int64_equal, g_free, NULL);
  o->done_at = g_hash_table_new_full (g_int64_hash, g_int64_equal, g_free, g_free);
  o->inspected = g_hash_table_new_full (g_int64_hash, g_int64_equal, g_free, g_free);
  ft_live_starts_init (&o->starts);
}

void
ft_live_ops_clear (FtLive *live)
{
  g_clear_pointer (&live->lops.plans, g_array_unref);
  g_clear_pointer (&live->lops.skipped, g_hash_table_unref);
  g_clear_pointer (&live->lops.done_at, g_hash_table_unref);
  g_clear_pointer (&live->lops.inspected, g_hash_table_unref);
  ft_live_starts_clear (&live->lops.starts);
}

static gboolean
bad_field (GError **error, const char *name, double x, double lo, double hi)
{
  if (isfinite (x) && x >= lo && x <= hi)
    return FALSE;
  g_set_error (error, FT_LIVE_ERROR, FT_LIVE_ERROR_MALFORMED,
               "live operations: %s is %g; it must lie in [%g, %g]", name, x, lo, hi);
  return TRUE;
}

gboolean
ft_live_set_ops_config (FtLive *live, const FtLiveOpsConfig *c, GError **error)
{
  g_return_val_if_fail (live != NULL && c != NULL, FALSE);
  if (bad_field (error, "every (ms)", (double) c->every, 1, 86400e3)
      || bad_field (error, "low_battery", c->low_battery, 0, 1)
      || bad_field (error, "full_battery", c->full_battery, c->low_battery, 1)
      || bad_field (error, "max_stops", c->max_stops, 1, FT_LIVE_MAX_STOPS)
      || bad_field (error, "van_packs", c->van_packs, 0, 1000)
      || bad_field (error, "staff_fresh (ms)", (double) c->staff_fresh, 1, 86400e3)
      || bad_field (error, "horizon (ms)", (double) c->horizon, FT_MINUTE, 86400e3)
      || bad_field (error, "cooldown (ms)", (double) c->cooldown, 0, 86400e3)
      || bad_field (error, "requests_per_hour", c->requests_per_hour, 0, 1e6)
      || bad_field (error, "vehicles_nearby", c->vehicles_nearby, 0, 1e6)
      || bad_field (error, "revenue_per_trip", c->revenue_per_trip, 0, 1e6)
      || bad_field (error, "battery_per_trip", c->battery_per_trip, 1e-6, 1)
      || bad_field (error, "fault_cost", c->fault_cost, 0, 1e9)
      || bad_field (error, "cost_per_staff_minute", c->cost_per_staff_minute, 0, 1e6)
      || bad_field (error, "cost_per_van_km", c->cost_per_van_km, 0, 1e6)
      || bad_field (error, "van_kph", c->van_kph, 1, 200)
      || bad_field (error, "plan_iterations", c->plan_iterations, 1, 1e6)
      || bad_field (error, "plan_limit_ms", c->plan_limit_ms, 0, 60e3)
      || bad_field (error, "plan_horizon (ms)", (double) c->plan_horizon, 5 * 60e3, 86400e3)
      || bad_field (error, "inspect_risk", c->inspect_risk, 0, 2)
      || bad_field (error, "reinspect_after (ms)", (double) c->reinspect_after, 0, 365 * 86400e3)
      || bad_field (error, "rebalance_km", c->rebalance_km, 0.01, 1000)
      || bad_field (error, "utc_offset_min", c->utc_offset_min, -14 * 60, 14 * 60))
    return FALSE;
  if (c->n_zones > 0 && (c->locate == NULL || c->centre == NULL))
    {
      g_set_error (error, FT_LIVE_ERROR, FT_LIVE_ERROR_MALFORMED,
                   "live operations: %u zones need a locate function and their centres", c->n_zones);
      return FALSE;
    }
  for (guint z = 0; z < c->n_zones; z++)
    if (!isfinite (c->centre[z].lat) || !isfinite (c->centre[z].lon))
      {
        g_set_error (error, FT_LIVE_ERROR, FT_LIVE_ERROR_MALFORMED,
                     "live operations: the centre of zone %u is not a position", z);
        return FALSE;
      }
  live->lops.cfg = *c;
  live->lops.said_no_zones = live->lops.said_travel = FALSE;
  return TRUE;
}

const FtLiveOpsConfig *
ft_live_get_ops_config (FtLive *live)
{
  g_return_val_if_fail (live != NULL, NULL);
  return &live->lops.cfg;
}

static StaffPlan *
plan_for (FtLive *live, guint staff)
{
  if (live->lops.plans->len < live->staff->len)
    g_array_set_size (live->lops.plans, live->staff->len);
  return &g_array_index (live->lops.plans, StaffPlan, staff);
}

/* ------------------------------------------------------------ approval */

static gboolean
check_dispatch (FtLive *live, gint32 by, const char *what, GError **error)
{
  g_autoptr(GError) local = NULL;
  FtAccounts *acc = live->core->accounts;
  if (by < 0 || acc == NULL || (guint) by >= ft_accounts_n (acc) ||
      !ft_accounts_can (acc, (guint) by, FT_PERM_DISPATCH, &local))
    {
      g_set_error (error, FT_OPS_ERROR, FT_OPS_ERROR_PERMISSION,
                   "account %d may not %s: %s", by, what,
                   local ? local->message : "only a dispatcher or an admin may");
      return FALSE;
    }
  return TRUE;
}

static void
approve_waiting (FtLive *live, FtTime now)
{
  FtOps *ops = live->ops;
  guint n = ft_ops_n (ops);
  for (guint i = 0; i < n; i++)
    {
      const FtTask *t = ft_ops_get (ops, i);
      if (t->state == FT_TASK_OPEN && t->approval == FT_TASK_PROPOSED &&
          ft_ops_approve (ops, i, -1, now, NULL))
        live->stats.approved++;
    }
  live->lops.replan_due = TRUE;
}

gboolean
ft_live_set_auto_approve (FtLive *live, gboolean on, gint32 by, FtTime now, GError **error)
{
  g_return_val_if_fail (live != NULL, FALSE);
  if (!check_dispatch (live, by, on ? "switch auto-approve on" : "switch auto-approve off", error))
    return FALSE;
  live->lops.auto_approve = on;
  live->lops.auto_by = on ? by : -1;
  g_message ("live: auto-approve of proposed tasks switched %s by account %d", on ? "on" : "off", by);
  if (on && live->ops)
    approve_waiting (live, now);
  return TRUE;
}

gboolean
ft_live_get_auto_approve (FtLive *live, gint32 *by_out)
{
  g_return_val_if_fail (live != NULL, FALSE);
  if (by_out)
    *by_out = live->lops.auto_by;
  return live->lops.auto_approve;
}

static gboolean
need_ops (FtLive *live, GError **error)
{
  if (live->ops)
    return TRUE;
  g_set_error (error, FT_LIVE_ERROR, FT_LIVE_ERROR_NO_TASK_QUEUE,
               "live mode has no task queue attached (ft_live_set_ops)");
  return FALSE;
}

gboolean
ft_live_approve (FtLive *live, gint64 task, gint32 by, FtTime now, GError **error)
{
  g_return_val_if_fail (live != NULL, FALSE);
  if (!need_ops (live, error) || !check_dispatch (live, by, "approve tasks", error) ||
      !ft_ops_approve (live->ops, task, by, now, error))
    return FALSE;
  live->stats.approved++;
  live->lops.replan_due = TRUE;
  return TRUE;
}

gboolean
ft_live_reassign (FtLive *live, gint64 task, guint staff, gint32 by, FtTime now, GError **error)
{
  g_return_val_if_fail (live != NULL, FALSE);
  if (!need_ops (live, error) || !check_dispatch (live, by, "reassign tasks", error))
    return FALSE;
  if (staff >= live->staff->len || g_array_index (live->staff, FtLiveStaff, staff).account < 0)
    {
      g_set_error (error, FT_LIVE_ERROR, FT_LIVE_ERROR_UNKNOWN_STAFF,
                   "no live staff member with index %u and an account to reassign to", staff);
      return FALSE;
    }
  const FtTask *t = ft_ops_get (live->ops, task);
  if (t && t->state == FT_TASK_IN_PROGRESS)
    {
      g_set_error (error, FT_OPS_ERROR, FT_OPS_ERROR_WRONG_STATE,
                   "task %" G_GINT64_FORMAT " is started; a started stop is never taken away",
                   task);
      return FALSE;
    }
  guint account = (guint) g_array_index (live->staff, FtLiveStaff, staff).account;
  if (!ft_ops_assign (live->ops, task, account, by, now, error))
    return FALSE;
  live->lops.replan_due = TRUE;
  return TRUE;
}

gboolean
ft_live_cancel (FtLive *live, gint64 task, gint32 by, FtTime now, GError **error)
{
  g_return_val_if_fail (live != NULL, FALSE);
  if (!need_ops (live, error) || !check_dispatch (live, by, "cancel tasks", error) ||
      !ft_ops_cancel (live->ops, task, by, now, error))
    return FALSE;
  live->lops.replan_due = TRUE;
  return TRUE;
}

/* ------------------------------------------------------------ proposals */

/* On shift: a field-work account heard from recently, with a position,
 * whose shift (if they said when it ends) has not ended. */
static gboolean
on_shift (FtLive *live, const FtLiveStaff *s, FtTime now)
{
  return s->account >= 0 && isfinite (s->pos.lat) && s->last_ts >= 0 &&
         now - s->last_ts <= live->lops.cfg.staff_fresh && (s->shift_end < 0 || s->shift_end > now) &&
         ft_accounts_can (live->core->accounts, (guint) s->account, FT_PERM_FIELD_WORK, NULL);
}

static double
service_minutes (FtTaskKind k)
{
  switch (k)
    {
    case FT_TASK_BATTERY_SWAP:   return 4;
    case FT_TASK_REBALANCE:      return 8;
    case FT_TASK_COLLECT_REPAIR: return 6;
    default:                     return 8;
    }
}

/* Road distance from a straight line (a city's detour factor). */
static double
road_m (FtLatLon a, FtLatLon b)
{
  return ft_distance_fast_m (a, b) * 1.3;
}

static gboolean
has_target (const FtTask *t)
{
  return t->target.lat != 0 || t->target.lon != 0;
}

/* Where the staff goes first: the vehicle, else the task's target. */
static FtLatLon
task_pos (FtLive *live, const FtTask *t)
{
  if (t->vehicle >= 0 && (guint) t->vehicle < ft_fleet_n_vehicles (live->core->fleet))
    return ft_fleet_get_vehicle (live->core->fleet, (guint) t->vehicle)->pos;
  if (has_target (t))
    return t->target;
  return (FtLatLon) { NAN, NAN };
}

/* "UTC", "UTC+1", "UTC-3:30": the zone the reasons' times are in. */
static void
tz_label (int off_min, char *buf, gsize n)
{
  if (off_min == 0)
    g_strlcpy (buf, "UTC", n);
  else if (off_min % 60 == 0)
    g_snprintf (buf, n, "UTC%+d", off_min / 60);
  else
    g_snprintf (buf, n, "UTC%c%d:%02d", off_min < 0 ? '-' : '+', ABS (off_min) / 60, ABS (off_min) % 60);
}

/* P(fault within the short horizon) of a vehicle now, and that horizon:
 * the caller's function, else the attached shadow's maintenance model. */
static gboolean
vehicle_risk (FtLive *live, guint v, double *p, double *horizon_h)
{
  const FtLiveOpsConfig *c = &live->lops.cfg;
  if (c->risk)
    return c->risk (v, p, horizon_h, c->risk_data) && isfinite (*p);
  FtMaintShadow *ms = live->shadow ? ft_shadow_get_maint (live->shadow) : NULL;
  FtMaintRisk r;
  if (ms == NULL || !ft_maint_shadow_risk (ms, v, &r) || !isfinite (r.p[0]))
    return FALSE;
  *p = r.p[0];
  *horizon_h = ft_maint_shadow_get_config (ms)->horizons_h[0];
  return TRUE;
}

/* Requests expected in zone z over the hour from t: the caller's function,
 * else the shadow's forecast, else the trips seen starting there over the
 * last hour (seen[z]). */
static double
zone_demand (FtLive *live, const double *seen, guint z, FtTime t)
{
  const FtLiveOpsConfig *c = &live->lops.cfg;
  double r;
  if (c->demand != NULL && isfinite (r = c->demand (z, t, c->demand_data)))
    return MAX (r, 0.0);
  if (live->shadow != NULL && ft_shadow_forecast (live->shadow, z, t, &r) && isfinite (r))
    return MAX (r, 0.0);
  return seen ? seen[z] : 0.0;
}

/* Value a task now: the nearest on-shift staff member's detour; demand
 * flat from the config, or the zones' where a rebalance names a zone;
 * fault risk from the maintenance model for an inspection. */
static void
value_task (FtLive *live, const FtTask *t, FtTime now)
{
  const FtLiveOpsConfig *c = &live->lops.cfg;
  FtLatLon p = task_pos (live, t);
  double best_m = 3000;                 /* nobody on shift: a typical 3 km */
  for (guint i = 0; i < live->staff->len && isfinite (p.lat); i++)
    {
      const FtLiveStaff *s = &g_array_index (live->staff, FtLiveStaff, i);
      if (on_shift (live, s, now))
        best_m = MIN (best_m, road_m (s->pos, p));
    }
  double travel = best_m / 1000.0 / c->van_kph * 60.0;
  double hours = (double) c->horizon / FT_HOUR;
  FtTaskValueInput in = { 0 };
  in.kind = t->kind;
  in.now = now;
  in.horizon_end = now + c->horizon;
  in.expected_requests = c->requests_per_hour * hours;
  in.vehicles_there = c->vehicles_nearby;
  in.battery = 1.0;
  in.min_battery = 0.1;
  if (t->vehicle >= 0)
    {
      const FtVehicle *v = ft_fleet_get_vehicle (live->core->fleet, (guint) t->vehicle);
      in.battery = CLAMP (ft_fleet_soc (live->core->fleet, (guint) t->vehicle), 0.0, 1.0);
      in.min_battery = CLAMP (ft_vehicle_type_default (v->kind)->low_soc, 0.0, 1.0);
    }
  double risk = 0, risk_h = 0;
  gboolean has_risk = FALSE;
  if (t->kind == FT_TASK_REBALANCE)
    {
      /* parked where it may not be: it earns nothing there */
      in.source_expected_requests = 0;
      in.source_vehicles = 1;
      if (t->target_zone >= 0 && (guint) t->target_zone < c->n_zones && t->vehicle >= 0)
        {
          /* a surplus move: the two zones' own demand over the horizon */
          g_autofree double *seen = g_new0 (double, c->n_zones);
          ft_live_starts_count (&live->lops.starts, c->n_zones, seen);
          FtLatLon from = ft_fleet_get_vehicle (live->core->fleet, (guint) t->vehicle)->pos;
          gint zs = c->locate (from, c->locate_data);
          in.expected_requests = zone_demand (live, seen, (guint) t->target_zone, now) * hours;
          in.vehicles_there = 0;
          if (zs >= 0 && (guint) zs < c->n_zones)
            {
              in.source_expected_requests = zone_demand (live, seen, (guint) zs, now) * hours;
              in.source_vehicles = 1;
              const FtVehicle *vs = ft_fleet_vehicles (live->core->fleet);
              for (guint v = 0; v < ft_fleet_n_vehicles (live->core->fleet); v++)
                if (vs[v].state == FT_STATE_AVAILABLE)
                  {
                    gint z = c->locate (vs[v].pos, c->locate_data);
                    in.vehicles_there += z == t->target_zone;
                    in.source_vehicles += z == zs && v != (guint) t->vehicle;
                  }
            }
        }
    }
  in.battery_per_trip = c->battery_per_trip;
  in.revenue_per_trip = c->revenue_per_trip;
  in.fault_risk = t->kind == FT_TASK_COLLECT_REPAIR ? 1.0 : 0.0;
  if (t->kind == FT_TASK_INSPECT && t->vehicle >= 0 &&
      (has_risk = vehicle_risk (live, (guint) t->vehicle, &risk, &risk_h)))
    in.fault_risk = CLAMP (risk, 0.0, 1.0);
  in.fault_cost = c->fault_cost;
  in.staff_minutes = travel + service_minutes (t->kind);
  in.detour_minutes = travel;
  in.van_km = best_m / 1000.0;
  in.cost_per_staff_minute = c->cost_per_staff_minute;
  in.cost_per_van_km = c->cost_per_van_km;
  char tz[16];
  tz_label (c->utc_offset_min, tz, sizeof tz);
  in.utc_offset_min = c->utc_offset_min;
  in.tz_label = tz;
  FtTaskValue v;
  g_autoptr(GError) err = NULL;
  if (!ft_task_value_estimate (&in, &v, &err))
    {
      g_warning ("live: task %" G_GINT64_FORMAT " not valued: %s", t->id, err->message);
      return;
    }
  if (has_risk)
    {
      /* the model's own figure first: "P(fault 24 h) 0.31: avoids …" */
      char why[sizeof v.reason];
      g_snprintf (why, sizeof why, "P(fault %.0f h) %.2f: %s", risk_h, risk, v.reason);
      g_strlcpy (v.reason, why, sizeof v.reason);
    }
  ft_ops_set_value (live->ops, t->id, &v, NULL);
}

static gint64
propose_to (FtLive *live, FtTaskKind kind, guint v, FtLatLon target, gint32 zone, gint priority,
            FtTime now, guint *n)
{
  if (ft_ops_open_for (live->ops, v, kind) >= 0)
    return -1;
  /* just done: the vehicle's next report may still be from before */
  gint64 key = ((gint64) v << 3) | kind;
  const gint64 *done = g_hash_table_lookup (live->lops.done_at, &key);
  if (done && now - *done < live->lops.cfg.cooldown)
    return -1;
  g_autoptr(GError) err = NULL;
  gint64 id = ft_ops_propose (live->ops, kind, (gint32) v, target, zone, priority, now, &err);
  if (id < 0)
    {
      g_warning ("live: no %s proposal for vehicle %u: %s", ft_task_kind_name (kind), v,
                 err->message);
      return -1;
    }
  (*n)++;
  live->stats.proposed++;
  value_task (live, ft_ops_get (live->ops, id), now);
  if (live->lops.auto_approve && ft_ops_approve (live->ops, id, -1, now, NULL))
    live->stats.approved++;
  return id;
}

static void
propose_one (FtLive *live, FtTaskKind kind, guint v, gint priority, FtTime now, guint *n)
{
  propose_to (live, kind, v, (FtLatLon) { 0, 0 }, -1, priority, now, n);
}

/* Inspections from the maintenance model's risk: once per vehicle over
 * the threshold, not again within reinspect_after (done or not). */
static void
propose_inspections (FtLive *live, FtTime now, guint *n)
{
  const FtLiveOpsConfig *c = &live->lops.cfg;
  if (c->inspect_risk > 1)
    return;
  FtFleet *fleet = live->core->fleet;
  for (guint v = 0; v < ft_fleet_n_vehicles (fleet); v++)
    {
      const FtVehicle *veh = ft_fleet_get_vehicle (fleet, v);
      double p, h;
      if (veh->state == FT_STATE_ON_TRIP || veh->state == FT_STATE_RESERVED ||
          veh->state == FT_STATE_REMOVED || veh->state == FT_STATE_ELSEWHERE ||
          veh->fault_codes != 0 || !vehicle_risk (live, v, &p, &h) || p < c->inspect_risk)
        continue;
      gint64 key = v;
      const gint64 *at = g_hash_table_lookup (live->lops.inspected, &key);
      if (at && now - *at < c->reinspect_after)
        continue;
      gint64 id = propose_to (live, FT_TASK_INSPECT, v, (FtLatLon) { 0, 0 }, -1, 2, now, n);
      if (id < 0)
        continue;
      gint64 *k = g_new (gint64, 1), *t = g_new (gint64, 1);
      *k = v;
      *t = now;
      g_hash_table_replace (live->lops.inspected, k, t);
      g_message ("live: inspection of %s proposed (task %" G_GINT64_FORMAT "): %s", veh->name, id,
                 ft_ops_get_value (live->ops, id) ? ft_ops_get_value (live->ops, id)->reason : "");
    }
}

/* Surplus rebalancing: zones with more available vehicles than the
 * requests they expect over the next hour give their surplus to
 * neighbours expecting more than they have, by the transport plan
 * (ft_rebalance_plan). Moves already proposed count as made. */
static void
propose_rebalancing (FtLive *live, FtTime now, guint *n)
{
  const FtLiveOpsConfig *c = &live->lops.cfg;
  guint nz = c->n_zones;
  if (nz == 0)
    {
      if (!live->lops.said_no_zones)
        g_message ("live: no zones (no city pack): no surplus rebalancing, only vehicles parked "
                   "where parking is not allowed are moved");
      live->lops.said_no_zones = TRUE;
      return;
    }
  FtFleet *fleet = live->core->fleet;
  const FtVehicle *vs = ft_fleet_vehicles (fleet);
  guint nv = ft_fleet_n_vehicles (fleet);
  g_autofree double *seen = g_new0 (double, nz);
  ft_live_starts_count (&live->lops.starts, nz, seen);
  g_autofree gint *zone_of = g_new (gint, MAX (nv, 1));
  g_autofree double *avail = g_new0 (double, nz);
  for (guint v = 0; v < nv; v++)
    {
      gint z = c->locate (vs[v].pos, c->locate_data);
      zone_of[v] = z >= 0 && (guint) z < nz ? z : -1;
      if (zone_of[v] >= 0 && vs[v].state == FT_STATE_AVAILABLE)
        avail[zone_of[v]] += 1;
    }
  /* moves already under way (proposed, approved or started) */
  guint nt = ft_ops_n (live->ops);
  for (guint i = 0; i < nt; i++)
    {
      const FtTask *t = ft_ops_get (live->ops, i);
      if (t->kind != FT_TASK_REBALANCE || t->state >= FT_TASK_DONE || t->vehicle < 0 ||
          (guint) t->vehicle >= nv || t->target_zone < 0 || (guint) t->target_zone >= nz)
        continue;
      if (zone_of[t->vehicle] >= 0 && vs[t->vehicle].state == FT_STATE_AVAILABLE)
        avail[zone_of[t->vehicle]] -= 1;
      avail[t->target_zone] += 1;
    }
  g_autofree guint *surplus = g_new0 (guint, nz), *shortfall = g_new0 (guint, nz);
  gboolean any_s = FALSE, any_d = FALSE;
  for (guint z = 0; z < nz; z++)
    {
      double want = ceil (zone_demand (live, seen, z, now));
      if (avail[z] > want)
        surplus[z] = (guint) (avail[z] - want), any_s = TRUE;
      else if (avail[z] < want)
        shortfall[z] = (guint) (want - avail[z]), any_d = TRUE;
    }
  if (!any_s || !any_d)
    return;
  /* a vehicle delivered is worth a trip; a move costs its van km; zones
   * further apart than rebalance_km are no neighbours (never worth it) */
  double benefit = c->revenue_per_trip;
  g_autofree double *cost = g_new (double, (gsize) nz * nz);
  for (guint i = 0; i < nz; i++)
    for (guint j = 0; j < nz; j++)
      {
        double km = road_m (c->centre[i], c->centre[j]) / 1000.0;
        cost[(gsize) i * nz + j] = i == j ? 0
                                   : ft_distance_fast_m (c->centre[i], c->centre[j]) > c->rebalance_km * 1000
                                   ? benefit + 1 : MIN (km * c->cost_per_van_km, benefit + 1);
      }
  g_autoptr(GArray) moves = g_array_new (FALSE, FALSE, sizeof (FtRebalanceMove));
  g_autoptr(GError) err = NULL;
  if (!ft_rebalance_plan (nz, surplus, shortfall, cost, benefit, 0, moves, NULL, &err))
    {
      g_warning ("live: rebalancing plan: %s", err->message);
      return;
    }
  for (guint m = 0; m < moves->len; m++)
    {
      const FtRebalanceMove *mv = &g_array_index (moves, FtRebalanceMove, m);
      guint left = mv->count;
      /* the best-charged available vehicles of the source zone with no task */
      while (left > 0)
        {
          gint best = -1;
          for (guint v = 0; v < nv; v++)
            if (zone_of[v] == (gint) mv->from && vs[v].state == FT_STATE_AVAILABLE &&
                vs[v].fault_codes == 0 && ft_ops_open_for (live->ops, v, FT_TASK_REBALANCE) < 0 &&
                ft_ops_open_for (live->ops, v, FT_TASK_BATTERY_SWAP) < 0 &&
                (best < 0 || ft_fleet_soc (fleet, v) > ft_fleet_soc (fleet, (guint) best)))
              best = (gint) v;
          if (best < 0)
            break;
          gint64 id = propose_to (live, FT_TASK_REBALANCE, (guint) best, c->centre[mv->to], (gint32) mv->to,
                                  1, now, n);
          if (id < 0)
            break;
          g_message ("live: rebalance of %s proposed (task %" G_GINT64_FORMAT "): zone %u has %u more "
                     "than it expects, zone %u %u fewer", vs[best].name, id, mv->from, surplus[mv->from],
                     mv->to, shortfall[mv->to]);
          left--;
        }
    }
}

guint
ft_live_propose (FtLive *live, FtTime now)
{
  g_return_val_if_fail (live != NULL, 0);
  if (live->ops == NULL)
    return 0;
  const FtLiveOpsConfig *c = &live->lops.cfg;
  FtFleet *fleet = live->core->fleet;
  FtGeofences *geo = live->core->geofences;
  guint n = 0;
  live->lops.last_scan = now;
  for (guint v = 0; v < ft_fleet_n_vehicles (fleet); v++)
    {
      const FtVehicle *veh = ft_fleet_get_vehicle (fleet, v);
      if (veh->state == FT_STATE_ON_TRIP || veh->state == FT_STATE_RESERVED ||
          veh->state == FT_STATE_REMOVED || veh->state == FT_STATE_ELSEWHERE)
        continue;
      double soc = ft_fleet_soc (fleet, v);
      if (veh->fault_codes != 0)
        propose_one (live, FT_TASK_COLLECT_REPAIR, v, 3, now, &n);
      else if (veh->pack >= 0 && soc < c->low_battery && veh->state != FT_STATE_UNKNOWN)
        propose_one (live, FT_TASK_BATTERY_SWAP, v, 2, now, &n);
      if (geo && veh->state == FT_STATE_AVAILABLE)
        {
          int zone = -1;
          FtZoneRules r = ft_geofences_rules_at (geo, veh->pos, veh->kind, &zone);
          if (!r.ride_end_allowed)
            propose_one (live, FT_TASK_REBALANCE, v, 1, now, &n);
        }
    }
  propose_inspections (live, now, &n);
  propose_rebalancing (live, now, &n);
  /* no swap at full charge: a swap not yet started for a vehicle charged
   * since (a rider's charger, a report that was wrong) is cancelled */
  guint nt = ft_ops_n (live->ops);
  for (guint i = 0; i < nt; i++)
    {
      const FtTask *t = ft_ops_get (live->ops, i);
      if (t->state >= FT_TASK_DONE)
        continue;
      if (t->kind == FT_TASK_BATTERY_SWAP && t->state != FT_TASK_IN_PROGRESS && t->vehicle >= 0 &&
          ft_fleet_soc (fleet, (guint) t->vehicle) >= c->full_battery)
        {
          const FtVehicle *veh = ft_fleet_get_vehicle (fleet, (guint) t->vehicle);
          if (ft_ops_cancel (live->ops, i, -1, now, NULL))
            {
              g_message ("live: swap task %u for %s cancelled: battery at %.0f%% (no swap at %.0f%%)",
                         i, veh->name, 100 * ft_fleet_soc (fleet, (guint) t->vehicle),
                         100 * c->full_battery);
              live->stats.swaps_cancelled_full++;
              live->lops.replan_due = TRUE;
            }
          continue;
        }
      if (t->state == FT_TASK_OPEN)
        value_task (live, t, now);       /* the horizon and the staff moved on */
    }
  if (n > 0 && live->lops.auto_approve)
    live->lops.replan_due = TRUE;
  return n;
}

/* ------------------------------------------------------------ stop lists */

static double
task_value_of (FtLive *live, gint64 id)
{
  const FtTaskValue *v = ft_ops_get_value (live->ops, id);
  return v ? v->value_per_minute : -G_MAXDOUBLE;
}

typedef struct {
  FtLive          *live;
  const StaffPlan *plan;          /* what the staff member was last sent */
} StopOrder;

static guint
sent_index (const StaffPlan *pl, gint64 id)
{
  for (guint i = 0; pl && i < pl->n_sent; i++)
    if (pl->sent[i] == id)
      return i;
  return G_MAXUINT;
}

/* started first (oldest start first), then in the order last sent (the
 * running route), then value per staff minute, highest first, ties
 * oldest task first. */
static gint
cmp_stop (gconstpointer a, gconstpointer b, gpointer data)
{
  const StopOrder *so = data;
  FtLive *live = so->live;
  const FtTask *x = ft_ops_get (live->ops, *(const gint64 *) a);
  const FtTask *y = ft_ops_get (live->ops, *(const gint64 *) b);
  gboolean sx = x->state == FT_TASK_IN_PROGRESS, sy = y->state == FT_TASK_IN_PROGRESS;
  if (sx != sy)
    return sx ? -1 : 1;
  if (sx)
    return x->started_at < y->started_at ? -1 : x->started_at > y->started_at ? 1
         : (x->id < y->id ? -1 : x->id > y->id);
  guint ix = sent_index (so->plan, x->id), iy = sent_index (so->plan, y->id);
  if (ix != iy)
    return ix < iy ? -1 : 1;
  double vx = task_value_of (live, x->id), vy = task_value_of (live, y->id);
  if (vx != vy)
    return vx > vy ? -1 : 1;
  return x->id < y->id ? -1 : x->id > y->id;
}

static gint
staff_of_account (FtLive *live, gint32 account)
{
  for (guint i = 0; i < live->staff->len; i++)
    if (g_array_index (live->staff, FtLiveStaff, i).account == account)
      return (gint) i;
  return -1;
}

/* The tasks on each staff member's list, in stop order. */
static GPtrArray *
lists_by_staff (FtLive *live)
{
  GPtrArray *lists = g_ptr_array_new_with_free_func ((GDestroyNotify) g_array_unref);
  for (guint i = 0; i < live->staff->len; i++)
    g_ptr_array_add (lists, g_array_new (FALSE, FALSE, sizeof (gint64)));
  guint nt = ft_ops_n (live->ops);
  for (guint i = 0; i < nt; i++)
    {
      const FtTask *t = ft_ops_get (live->ops, i);
      if (t->state != FT_TASK_ASSIGNED && t->state != FT_TASK_IN_PROGRESS)
        continue;
      gint s = staff_of_account (live, t->staff);
      if (s >= 0)
        {
          gint64 id = i;
          g_array_append_val (lists->pdata[s], id);
        }
    }
  for (guint i = 0; i < lists->len; i++)
    {
      StopOrder so = { live, plan_for (live, i) };
      g_array_sort_with_data (lists->pdata[i], cmp_stop, &so);
    }
  return lists;
}

/* Straight line × 1.3 at the configured speed, when no router is given. */
static double
straight_travel (FtLatLon a, FtLatLon b, double *metres, gpointer data)
{
  FtLive *live = data;
  *metres = road_m (a, b);
  return *metres / (live->lops.cfg.van_kph / 3.6);
}

/* Approved tasks only: a dispatcher's own task waits for their assignment
 * (ft_live_assign_task, ft_live_reassign), a proposal for its approval. */
static gboolean
approved_only (const FtTask *t, gpointer data)
{
  return t->approval == FT_TASK_APPROVED;
}

static guint
swaps_in (FtLive *live, GArray *tasks)
{
  guint n = 0;
  for (guint q = 0; q < tasks->len; q++)
    n += ft_ops_get (live->ops, g_array_index (tasks, gint64, q))->kind == FT_TASK_BATTERY_SWAP;
  return n;
}

static gboolean
skipped_by (FtLive *live, gint64 id, gint32 account)
{
  gpointer sk = g_hash_table_lookup (live->lops.skipped, &id);
  return sk != NULL && GPOINTER_TO_INT (sk) - 1 == account;
}

/* The VRPTW planner (ft_ops_plan_routes) on live state: every on-shift
 * staff member is a van at their reported position, now, with the packs
 * and shift end of their record; their running list is its route (kept
 * whole, or with cfg.reshuffle only its started stops); approved open
 * tasks are inserted. A task a staff
 * member skipped is never planned for them again: it goes to the nearest
 * other van with room, or waits. Lists are cut at max_stops. On return
 * lists[s] / etas[s] hold the planned vans' stops and ETAs. */
static void
plan_routes (FtLive *live, GPtrArray *lists, GPtrArray *etas, FtTime now)
{
  const FtLiveOpsConfig *c = &live->lops.cfg;
  FtOps *ops = live->ops;
  guint ns = live->staff->len;
  g_autofree FtOpsVan *vans = g_new0 (FtOpsVan, MAX (ns, 1));
  g_autofree guint *who = g_new0 (guint, MAX (ns, 1));
  guint n = 0;
  for (guint s = 0; s < ns && n < FT_VRPTW_MAX_VEHICLES; s++)
    {
      const FtLiveStaff *st = &g_array_index (live->staff, FtLiveStaff, s);
      if (!on_shift (live, st, now))
        continue;
      /* (a shift that is over is no shift: they keep what they have, nothing new) */
      FtTime end = st->shift_end >= 0 ? st->shift_end : now + SHIFT_UNKNOWN;
      GArray *l = lists->pdata[s];
      guint started = 0, started_swaps = 0;
      while (started < l->len &&
             ft_ops_get (ops, g_array_index (l, gint64, started))->state == FT_TASK_IN_PROGRESS)
        started_swaps += ft_ops_get (ops, g_array_index (l, gint64, started++))->kind == FT_TASK_BATTERY_SWAP;
      int packs = st->packs >= 0 ? st->packs : (int) c->van_packs;
      packs = MAX (packs, (int) started_swaps);      /* a started swap has its pack */
      /* fewer packs than the swaps on its list (the van said so since):
       * the last ones not started go back, for another van */
      for (guint i = l->len; i > started && swaps_in (live, l) > (guint) packs; i--)
        {
          gint64 id = g_array_index (l, gint64, i - 1);
          if (ft_ops_get (ops, id)->kind == FT_TASK_BATTERY_SWAP && ft_ops_unassign (ops, id, now, NULL))
            g_array_remove_index (l, i - 1);
        }
      FtOpsVan *v = &vans[n];
      v->staff = (guint) st->account;
      v->pos = st->pos;
      v->at = now;
      v->shift_end = end;
      v->depot = st->pos;
      v->packs = packs;
      v->route = (const gint64 *) l->data;
      v->n_route = l->len;
      v->n_started = c->reshuffle ? started : l->len;   /* kept as they are */
      who[n++] = s;
    }
  if (n == 0)
    return;
  if (!live->lops.said_travel)
    {
      if (c->travel)
        g_message ("live: stop lists planned by the route planner, travel times from %s",
                   c->travel_name ? c->travel_name : "the caller's router");
      else
        g_message ("live: stop lists planned by the route planner, travel straight-line x1.3 at %.0f km/h "
                   "(no city router)", c->van_kph);
      live->lops.said_travel = TRUE;
    }
  FtOpsPlanParams p;
  ft_ops_plan_params_init (&p);
  p.now = now;
  for (guint k = 0; k < FT_N_TASK_KINDS; k++)
    p.service_s[k] = service_minutes ((FtTaskKind) k) * 60.0;
  p.max_tasks = c->max_stops * n;
  p.by_value = TRUE;
  p.horizon = c->plan_horizon;
  p.travel = c->travel ? c->travel : straight_travel;
  p.user_data = c->travel ? c->travel_data : live;
  p.accept = approved_only;
  p.search.max_iterations = c->plan_iterations;
  p.search.time_limit_ms = c->plan_limit_ms;
  p.search.cpu_clock = TRUE;
  p.search.seed = 1;                   /* the same state plans the same routes */
  g_autoptr(GError) err = NULL;
  g_autoptr(FtOpsPlan) plan = ft_ops_plan_routes (ops, vans, n, &p, &err);
  if (plan == NULL)
    {
      g_warning ("live: route planning failed, lists stay as they are: %s", err->message);
      return;
    }
  /* skipped stops off their skipper's route, then each route cut at max_stops */
  g_autoptr(GArray) moved = g_array_new (FALSE, FALSE, sizeof (gint64));
  for (guint k = 0; k < n; k++)
    {
      FtOpsRoute *r = &plan->routes[k];
      gint32 account = g_array_index (live->staff, FtLiveStaff, who[k]).account;
      for (guint i = r->n_started; i < r->tasks->len;)
        {
          gint64 id = g_array_index (r->tasks, gint64, i);
          if (skipped_by (live, id, account))
            {
              g_array_append_val (moved, id);
              g_array_remove_index (r->tasks, i);
              g_array_remove_index (r->eta, i);
            }
          else
            i++;
        }
      guint keep = MAX (c->max_stops, r->n_started);
      if (r->tasks->len > keep)
        {
          g_array_set_size (r->tasks, keep);
          g_array_set_size (r->eta, keep);
        }
    }
  for (guint m = 0; m < moved->len; m++)
    {
      gint64 id = g_array_index (moved, gint64, m);
      const FtTask *t = ft_ops_get (ops, id);
      FtLatLon at = task_pos (live, t);
      gint best = -1;
      double best_d = G_MAXDOUBLE;
      for (guint k = 0; k < n; k++)
        {
          FtOpsRoute *r = &plan->routes[k];
          if (r->tasks->len >= c->max_stops ||
              skipped_by (live, id, g_array_index (live->staff, FtLiveStaff, who[k]).account) ||
              (t->kind == FT_TASK_BATTERY_SWAP && swaps_in (live, r->tasks) >= (guint) vans[k].packs))
            continue;
          /* from the end of what they have already */
          FtLatLon from = vans[k].pos;
          if (r->tasks->len > 0)
            {
              FtLatLon q = task_pos (live, ft_ops_get (ops, g_array_index (r->tasks, gint64, r->tasks->len - 1)));
              if (isfinite (q.lat))
                from = q;
            }
          double d = isfinite (at.lat) ? road_m (from, at) : 0;
          if (d < best_d)
            best = (gint) k, best_d = d;
        }
      if (best < 0)
        continue;                      /* waits, open */
      FtTime no_eta = -1;
      g_array_append_val (plan->routes[best].tasks, id);
      g_array_append_val (plan->routes[best].eta, no_eta);
    }
  if (!ft_ops_plan_apply (ops, vans, n, plan, now, &err))
    {
      g_warning ("live: route plan not applied: %s", err->message);
      return;
    }
  for (guint k = 0; k < n; k++)
    {
      GArray *l = lists->pdata[who[k]];
      g_array_set_size (l, 0);
      g_array_append_vals (l, plan->routes[k].tasks->data, plan->routes[k].tasks->len);
      GArray *e = g_array_new (FALSE, FALSE, sizeof (FtTime));
      g_array_append_vals (e, plan->routes[k].eta->data, plan->routes[k].eta->len);
      if (etas->pdata[who[k]])
        g_array_unref (etas->pdata[who[k]]);
      etas->pdata[who[k]] = e;
    }
}

/* One stop; eta < 0: driven from the previous one at the configured speed. */
static void
fill_stop (FtLive *live, FtLiveStop *stop, const FtTask *t, FtLatLon *at, FtTime *clock, FtTime eta)
{
  stop->task = t->id;
  stop->kind = t->kind;
  stop->vehicle = t->vehicle;
  if (t->vehicle >= 0)
    g_strlcpy (stop->device_id, ft_fleet_get_vehicle (live->core->fleet, (guint) t->vehicle)->device_id,
               sizeof stop->device_id);
  stop->pos = task_pos (live, t);
  stop->drop = (t->kind == FT_TASK_REBALANCE || t->kind == FT_TASK_DEPLOY) && has_target (t) && t->vehicle >= 0
               ? t->target : (FtLatLon) { NAN, NAN };
  stop->started = t->state == FT_TASK_IN_PROGRESS;
  if (eta >= 0)
    *clock = eta;
  else if (isfinite (at->lat) && isfinite (stop->pos.lat))
    *clock += (FtTime) (road_m (*at, stop->pos) / 1000.0 / live->lops.cfg.van_kph * FT_HOUR);
  stop->eta = *clock;
  *clock += (FtTime) (service_minutes (t->kind) * FT_MINUTE);
  if (isfinite (stop->drop.lat))
    {
      *clock += (FtTime) (road_m (stop->pos, stop->drop) / 1000.0 / live->lops.cfg.van_kph * FT_HOUR);
      *at = stop->drop;
    }
  else if (isfinite (stop->pos.lat))
    *at = stop->pos;
  const FtTaskValue *v = ft_ops_get_value (live->ops, t->id);
  stop->value = v ? v->value : NAN;
  g_strlcpy (stop->reason, v ? v->reason : "", sizeof stop->reason);
}

static void
send_list (FtLive *live, guint s, GArray *l, GArray *etas, FtTime now)
{
  const FtLiveStaff *st = &g_array_index (live->staff, FtLiveStaff, s);
  StaffPlan *pl = plan_for (live, s);
  guint n = MIN (l->len, FT_LIVE_MAX_STOPS);
  gboolean same = pl->ever_sent && pl->n_sent == n;
  for (guint i = 0; same && i < n; i++)
    {
      gint64 id = g_array_index (l, gint64, i);
      same = pl->sent[i] == id &&
             pl->sent_started[i] == (ft_ops_get (live->ops, id)->state == FT_TASK_IN_PROGRESS);
    }
  if (same)
    return;
  if (n == 0 && !pl->ever_sent)
    return;                       /* nothing to say to someone never sent anything */
  FtLiveStopList *list = g_new0 (FtLiveStopList, 1);
  g_snprintf (list->id, sizeof list->id, "stops-%s-%" G_GUINT64_FORMAT, live->id_tag,
              ++live->outbox.next_id[FT_OUT_STOPS]);
  list->staff = s;
  g_strlcpy (list->staff_id, st->id, sizeof list->staff_id);
  FtLatLon at = st->pos;
  FtTime clock = now;
  for (guint i = 0; i < n; i++)
    {
      gint64 id = g_array_index (l, gint64, i);
      FtTime eta = etas && i < etas->len ? g_array_index (etas, FtTime, i) : -1;
      fill_stop (live, &list->stops[i], ft_ops_get (live->ops, id), &at, &clock, eta);
      pl->sent[i] = id;
      pl->sent_started[i] = list->stops[i].started;
    }
  list->n_stops = n;
  list->issued = now;
  list->expires = now + live->cfg.command_ttl;
  pl->n_sent = n;
  pl->ever_sent = TRUE;
  FtOutItem x = { .kind = FT_OUT_STOPS };
  x.u.l = list;
  FtOutItem *it = ft_live_outbox_add (live, &x, now);
  g_strlcpy (pl->newest_id, it->u.l->id, sizeof pl->newest_id);
}

static void
free_etas (gpointer p)
{
  if (p)
    g_array_unref (p);
}

void
ft_live_replan (FtLive *live, FtTime now)
{
  g_return_if_fail (live != NULL);
  if (live->ops == NULL)
    return;
  live->lops.replan_due = FALSE;
  live->lops.last_replan = now;
  g_autoptr(GPtrArray) lists = lists_by_staff (live);
  g_autoptr(GPtrArray) etas = g_ptr_array_new_with_free_func (free_etas);
  g_ptr_array_set_size (etas, (gint) live->staff->len);
  plan_routes (live, lists, etas, now);
  for (guint s = 0; s < live->staff->len; s++)
    send_list (live, s, lists->pdata[s], etas->pdata[s], now);
}

void
ft_live_ops_tick (FtLive *live, FtTime now)
{
  if (live->ops == NULL)
    return;
  FtLiveOpsState *o = &live->lops;
  if (o->cfg.propose && o->cfg.n_zones > 0)
    ft_live_starts_scan (&o->starts, live, o->cfg.locate, o->cfg.locate_data, o->cfg.n_zones, now);
  if (o->cfg.propose && (o->last_scan == G_MININT64 || now - o->last_scan >= o->cfg.every))
    ft_live_propose (live, now);
  /* stop lists are re-planned after progress, a dispatcher's approval,
   * reassignment or cancellation, and every scan period while operations
   * on live state are on (staff coming on shift, moving, tasks re-valued) */
  if (o->replan_due ||
      (o->cfg.propose && (o->last_replan == G_MININT64 || now - o->last_replan >= o->cfg.every)))
    ft_live_replan (live, now);
}

const FtLiveStopList *
ft_live_get_stop_list (FtLive *live, guint staff)
{
  g_return_val_if_fail (live != NULL, NULL);
  if (staff >= live->lops.plans->len)
    return NULL;
  StaffPlan *pl = &g_array_index (live->lops.plans, StaffPlan, staff);
  if (pl->newest_id[0] == '\0')
    return NULL;
  FtOutItem *it = ft_live_outbox_lookup (live, FT_OUT_STOPS, pl->newest_id);
  return it ? it->u.l : NULL;
}

void
ft_live_release_stops (FtLive *live, FtOutItem *it, FtTime now)
{
  const FtLiveStopList *l = it->u.l;
  if (live->ops == NULL || l->staff >= live->staff->len)
    return;
  /* only the newest list speaks for the staff member */
  StaffPlan *pl = plan_for (live, l->staff);
  if (strcmp (pl->newest_id, l->id) != 0)
    return;
  gint account = g_array_index (live->staff, FtLiveStaff, l->staff).account;
  for (guint i = 0; i < l->n_stops; i++)
    {
      const FtTask *t = ft_ops_get (live->ops, l->stops[i].task);
      if (t && t->state == FT_TASK_ASSIGNED && t->staff == account)
        ft_ops_unassign (live->ops, t->id, now, NULL);
    }
  pl->ever_sent = FALSE;          /* what they hold is unknown: send afresh */
  pl->n_sent = 0;
  live->lops.replan_due = TRUE;
}

/* ------------------------------------------------------------ ingest */

static gboolean
refuse_stop (FtLive *live, FtTime now, const char *topic, GError **error, const char *fmt, ...)
  G_GNUC_PRINTF (5, 6);

static gboolean
refuse_stop (FtLive *live, FtTime now, const char *topic, GError **error, const char *fmt, ...)
{
  va_list ap;
  va_start (ap, fmt);
  g_autofree char *why = g_strdup_vprintf (fmt, ap);
  va_end (ap);
  live->stats.task_refused++;
  return ft_live_refuse (live, now, topic, error, why);
}

static gboolean
known_staff (FtLive *live, const char *id, guint *si)
{
  gpointer idx = g_hash_table_lookup (live->staff_index, id);
  if (idx == NULL)
    return FALSE;
  *si = GPOINTER_TO_UINT (idx) - 1;
  return TRUE;
}

gboolean
ft_live_ingest_stops_ack (FtLive *live, const char *topic, const char *id, const Fields *o,
                          FtTime now, GError **error)
{
  gboolean bad = FALSE;
  const char *cid = ft_live_fields_string (o, "command_id", &bad);
  if (bad || cid == NULL)
    return refuse_stop (live, now, topic, error, "stop list ack: field command_id must be a string");
  const char *result = ft_live_fields_string (o, "result", &bad);
  if (bad || result == NULL)
    return refuse_stop (live, now, topic, error, "stop list ack: field result must be a string");
  const char *reason = ft_live_fields_string (o, "reason", &bad);
  if (bad)
    return refuse_stop (live, now, topic, error, "stop list ack: field reason must be a string");
  FtLiveCommandState st;
  if (!ft_live_ack_result (result, &st))
    return refuse_stop (live, now, topic, error,
                        "stop list ack: field result must be ok, failed or expired");
  FtOutItem *it = ft_live_outbox_lookup (live, FT_OUT_STOPS, cid);
  if (it == NULL)
    return refuse_stop (live, now, topic, error,
                        "stop list ack: field command_id names no stop list of the twin");
  if (strcmp (it->u.l->staff_id, id) != 0)
    return refuse_stop (live, now, topic, error,
                        "stop list ack: field command_id names a list sent to another staff member");
  /* only the newest list speaks for the staff member: an ack of an older
   * version changes nothing (its stops may be on the newer one) */
  const StaffPlan *pl = it->u.l->staff < live->lops.plans->len
                        ? &g_array_index (live->lops.plans, StaffPlan, it->u.l->staff) : NULL;
  if (pl == NULL || strcmp (pl->newest_id, cid) != 0)
    return refuse_stop (live, now, topic, error,
                        "stop list ack: field command_id names %s, a stale list (the newest is %s)", cid,
                        pl && pl->newest_id[0] ? pl->newest_id : "none");
  live->stats.acks++;
  if (it->u.l->state != FT_CMD_SENT && it->u.l->state != FT_CMD_QUEUED)
    {
      live->stats.duplicates++;
      return TRUE;
    }
  ft_live_outbox_close (live, it, st, st == FT_CMD_ACKED ? NULL : (reason ? reason : result), now);
  if (st != FT_CMD_ACKED)
    ft_live_release_stops (live, it, now);
  live->stats.applied++;
  return TRUE;
}

gboolean
ft_live_ingest_stop_progress (FtLive *live, const char *topic, const char *id, const Fields *o,
                              FtTime now, GError **error)
{
  gboolean bad = FALSE;
  gint64 version = 0;
  if (!ft_live_fields_int64 (o, "version", &version, &bad) || bad)
    return refuse_stop (live, now, topic, error, "stop progress: field version must be the integer %d",
                        FT_LIVE_STOPS_VERSION);
  if (version != FT_LIVE_STOPS_VERSION)
    return refuse_stop (live, now, topic, error,
                        "stop progress: field version is %" G_GINT64_FORMAT "; this twin reads %d",
                        version, FT_LIVE_STOPS_VERSION);
  const char *why = NULL;
  FtTime ts;
  if (!ft_live_read_timestamp (live, o, now, &ts, &why))
    return refuse_stop (live, now, topic, error, "stop progress: field timestamp: %s", why);
  const char *tid = ft_live_fields_string (o, "task_id", &bad);
  if (bad || tid == NULL || !g_str_has_prefix (tid, "task-") || strlen (tid) > 20)
    return refuse_stop (live, now, topic, error,
                        "stop progress: field task_id must be a string \"task-<n>\"");
  gint64 task = -1;
  const char *digits = tid + 5;
  gboolean numeric = *digits != '\0';
  for (const char *p = digits; *p; p++)
    numeric &= g_ascii_isdigit (*p);
  if (!numeric)
    return refuse_stop (live, now, topic, error,
                        "stop progress: field task_id must be a string \"task-<n>\"");
  task = g_ascii_strtoll (digits, NULL, 10);
  const char *status = ft_live_fields_string (o, "status", &bad);
  if (bad || status == NULL ||
      (strcmp (status, "started") != 0 && strcmp (status, "done") != 0 &&
       strcmp (status, "skipped") != 0))
    return refuse_stop (live, now, topic, error,
                        "stop progress: field status must be started, done or skipped");
  const char *reason = ft_live_fields_string (o, "reason", &bad);
  if (bad)
    return refuse_stop (live, now, topic, error, "stop progress: field reason must be a string");
  guint si;
  if (!known_staff (live, id, &si) || g_array_index (live->staff, FtLiveStaff, si).account < 0)
    return refuse_stop (live, now, topic, error,
                        "stop progress: staff_id in the topic is no staff member the twin knows");
  if (live->ops == NULL)
    return refuse_stop (live, now, topic, error, "stop progress: the twin has no task queue");
  const FtTask *t = ft_ops_get (live->ops, task);
  if (t == NULL)
    return refuse_stop (live, now, topic, error,
                        "stop progress: field task_id names %s, a task the twin does not have", tid);
  FtLiveStaff *s = &g_array_index (live->staff, FtLiveStaff, si);
  if ((t->state != FT_TASK_ASSIGNED && t->state != FT_TASK_IN_PROGRESS && t->state != FT_TASK_DONE) ||
      t->staff != s->account)
    return refuse_stop (live, now, topic, error,
                        "stop progress: field task_id names %s, which is not on %s's stop list",
                        tid, s->id);
  if (ts < s->task_ts)
    {
      live->stats.stale++;
      return TRUE;
    }
  g_autoptr(GError) oerr = NULL;
  gboolean ok = TRUE;
  if (strcmp (status, "started") == 0)
    {
      if (t->state != FT_TASK_ASSIGNED)
        {
          live->stats.duplicates++;
          return TRUE;
        }
      ok = ft_ops_start (live->ops, task, (guint) s->account, now, &oerr);
    }
  else if (strcmp (status, "done") == 0)
    {
      if (t->state == FT_TASK_DONE)
        {
          live->stats.duplicates++;
          return TRUE;
        }
      ok = ft_ops_complete (live->ops, task, (guint) s->account, now, &oerr);
      if (ok && t->vehicle >= 0)
        {
          gint64 *key = g_new (gint64, 1), *at = g_new (gint64, 1);
          *key = ((gint64) t->vehicle << 3) | t->kind;
          *at = now;
          g_hash_table_replace (live->lops.done_at, key, at);
        }
    }
  else
    {
      if (t->state == FT_TASK_DONE)
        return refuse_stop (live, now, topic, error,
                            "stop progress: field status is skipped but %s is done", tid);
      ok = ft_ops_unassign (live->ops, task, now, &oerr);
      if (ok)
        {
          gint64 *key = g_new (gint64, 1);
          *key = task;
          g_hash_table_replace (live->lops.skipped, key, GINT_TO_POINTER (s->account + 1));
        }
    }
  if (!ok)
    return refuse_stop (live, now, topic, error, "stop progress refused by the task queue: %s",
                        oerr->message);
  /* progress confirms the newest list arrived */
  StaffPlan *pl = plan_for (live, si);
  FtOutItem *it = pl->newest_id[0] ? ft_live_outbox_lookup (live, FT_OUT_STOPS, pl->newest_id) : NULL;
  if (it && (it->u.l->state == FT_CMD_SENT || it->u.l->state == FT_CMD_QUEUED))
    ft_live_outbox_close (live, it, FT_CMD_ACKED, NULL, now);
  s->task_ts = ts;
  g_strlcpy (s->task_id, tid, sizeof s->task_id);
  g_strlcpy (s->task_status, status, sizeof s->task_status);
  if (reason && strcmp (status, "skipped") == 0)
    g_message ("live: %s skipped %s: %s", s->id, tid, reason);
  live->stats.stop_updates++;
  live->stats.staff++;
  live->stats.applied++;
  live->lops.replan_due = TRUE;
  return TRUE;
}

gboolean
ft_live_ops_check (FtLive *live, GError **error)
{
  if (live->ops == NULL)
    return TRUE;
  for (guint s = 0; s < live->lops.plans->len && s < live->staff->len; s++)
    {
      const StaffPlan *pl = &g_array_index (live->lops.plans, StaffPlan, s);
      guint started_seen = 0;
      for (guint i = 0; i < pl->n_sent; i++)
        {
          /* started stops come first in every list sent */
          if (pl->sent_started[i] && started_seen != i)
            {
              g_set_error (error, FT_LIVE_ERROR, FT_LIVE_ERROR_NO_SUCH_COMMAND,
                           "stop list for %s has a started stop after one not started",
                           g_array_index (live->staff, FtLiveStaff, s).id);
              return FALSE;
            }
          started_seen += pl->sent_started[i];
          if (ft_ops_get (live->ops, pl->sent[i]) == NULL)
            {
              g_set_error (error, FT_LIVE_ERROR, FT_LIVE_ERROR_NO_SUCH_COMMAND,
                           "stop list for %s names task %" G_GINT64_FORMAT " the twin does not have",
                           g_array_index (live->staff, FtLiveStaff, s).id, pl->sent[i]);
              return FALSE;
            }
        }
    }
  return TRUE;
}
