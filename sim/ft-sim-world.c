/* ft-sim-world.c — the simulated world around one FtCore.
 *
 * Riders arrive by a non-homogeneous Poisson process (thinning against the
 * peak hourly rate of the city's demand profile) — or, when a demand trace
 * is given, exactly at the trace's requests, in order, from its origin to
 * its destination (no stretching of short hops) — pick the nearest vehicle
 * with range through ft_booking_find, reserve, walk, unlock, ride and end
 * through booking (which prices and captures through payments). Vehicles
 * move only at trip start/end (positions in between are interpolated for
 * snapshots), drain their pack per km, go non_operational on battery_low
 * or on a fault drawn from a wear-dependent hazard. Rules create ops tasks
 * (swap, rebalance, collect); field staff on shifts drive vans from depots
 * and execute them; depleted packs charge at depots with limited chargers.
 * Nothing here is ticked per vehicle: events are arrivals, unlocks, trip
 * ends, staff legs, charger completions and a few periodic rules.
 *
 * This file holds the shared helpers, the periodic rules, running,
 * snapshots and dispatch; riders, staff, setup and KPIs have their own
 * files (ft-sim-world-*.c) around ft-sim-world-private.h.
 */
#include "ft-sim-world-private.h"
#include "ft-rebalance.h"

/* ------------------------------------------------------------ helpers */

void
ft_sim_world_sim_error (FtSimWorld *w, const char *what, const GError *e)
{
  w->sim_errors++;
  if (w->sim_errors <= 20)
    g_warning ("sim: %s: %s", what, e ? e->message : "failed");
}

/* What booking would offer vehicle v for (see rent_m): booking's own
 * test (find_visit in src/booking) short of the trip's range. */
static double
rent_range_m (FtSimWorld *w, guint v)
{
  FtFleet *f = w->core->fleet;
  const FtVehicle *veh = ft_fleet_get_vehicle (f, v);
  if (veh->booking < 0 && veh->pack >= 0
      && ft_fleet_soc (f, v) >= ft_vehicle_type_default (veh->kind)->low_soc)
    return ft_fleet_range_m (f, v);
  return -INFINITY;
}

/* Bring vehicle v's entries in the world's indexes up to date. */
void
ft_sim_world_vsync (FtSimWorld *w, guint v)
{
  const FtVehicle *veh = ft_fleet_get_vehicle (w->core->fleet, v);
  gboolean want_avail = veh->state == FT_STATE_AVAILABLE;
  gboolean want_low = (w->veh[v].flags & VF_LOW) != 0;
  w->rent_m[v] = want_avail ? rent_range_m (w, v) : -INFINITY;
  if (want_low)
    {
      if (ft_grid_index_has (w->low_ix, v))
        ft_grid_index_move (w->low_ix, v, veh->pos);
      else
        ft_grid_index_insert (w->low_ix, v, veh->pos);
    }
  else if (ft_grid_index_has (w->low_ix, v))
    ft_grid_index_remove (w->low_ix, v);
}

/* Half the cell size of the fleet's index of available vehicles, and twice
 * the first radius of the widening search the rider's scan once made (its
 * last radius still bounds where a vehicle short of range counts as a
 * battery loss): 50 m for 1,000 vehicles, shrinking with the square root
 * of the fleet, down to 10 m. */
double
ft_sim_world_cell_m (const FtSimWorld *w)
{
  return CLAMP (50.0 * sqrt (1000.0 / MAX (w->nv, 1u)), 10.0, 50.0);
}

FtLatLon
ft_sim_world_random_point_in_zone (FtSimWorld *w, guint z, gsl_rng *r)
{
  const FtZone *zone = &w->city->zones[z];
  const FtBBox *bb = &w->zone_bbox[z];
  for (int i = 0; i < 60; i++)
    {
      FtLatLon p = { bb->min_lat + ft_sim_rng_draw (r) * (bb->max_lat - bb->min_lat),
                     bb->min_lon + ft_sim_rng_draw (r) * (bb->max_lon - bb->min_lon) };
      if (ft_city_zone_contains (w->city, z, p))
        return p;
    }
  /* a zone the sea cuts into a crescent may have its centroid at sea:
   * then the street node nearest to it */
  if (!ft_multipolygon_contains (zone->area, zone->centroid) && w->city->graph.n_nodes > 0)
    return w->city->graph.nodes[ft_city_nearest_node (w->city, zone->centroid)];
  return zone->centroid;
}

gboolean
ft_sim_world_parking_ok (FtSimWorld *w, FtLatLon p, guint kind)
{
  if (!w->sc->geofence_parking || w->core->geofences == NULL)
    return TRUE;
  FtZoneRules r = ft_geofences_rules_at (w->core->geofences, p, kind, NULL);
  return r.ride_end_allowed;
}

/* Nearest point (rings of 75 m, 12 directions) where parking is allowed. */
FtLatLon
ft_sim_world_nearest_parking (FtSimWorld *w, FtLatLon p, guint kind, double *dist_out)
{
  for (int ring = 1; ring <= 40; ring++)
    {
      double rad = 75.0 * ring;
      for (int k = 0; k < 12; k++)
        {
          /* cos and sin of k * (G_PI / 6.0), from setup */
          FtLatLon q = ft_latlon_offset (p, rad * w->park_cos[k], rad * w->park_sin[k]);
          if (ft_sim_world_parking_ok (w, q, kind))
            {
              *dist_out = rad;
              return q;
            }
        }
    }
  *dist_out = 0;
  return w->city->center;
}

double
ft_sim_world_route_m (FtSimWorld *w, FtLatLon a, FtLatLon b)
{
  return ft_sim_world_route_from_m (w, a, b, ft_distance_fast_m (a, b));
}

/* The same, given d0 = ft_distance_fast_m (a, b), which the caller has. */
double
ft_sim_world_route_from_m (FtSimWorld *w, FtLatLon a, FtLatLon b, double d0)
{
  if (w->router != NULL && d0 > 50)
    {
      double d = ft_router_distance (w->router, a, b);
      if (d >= 0)
        return MAX (d, d0);
    }
  return d0 * w->sc->detour_factor;
}

void
ft_sim_world_lost_push (FtSimWorld *w, FtLatLon p, FtSimLostReason reason, FtTime now)
{
  w->k.trips_lost++;
  w->k.lost[reason]++;
  ft_sim_world_field_count (w, w->field_unit, FIELD_LOST, 1);
  FtEvent ev = ft_event_init (FT_EV_RIDER_LOST, now);
  ev.lat = p.lat;
  ev.lon = p.lon;
  ev.a = reason;
  ft_event_log_append (w->core->log, &ev);
  if (w->lost_cap == 0)
    return;
  guint i = (w->lost_head + w->lost_n) % w->lost_cap;
  if (w->lost_n == w->lost_cap)
    w->lost_head = (w->lost_head + 1) % w->lost_cap;
  else
    w->lost_n++;
  w->lost[i] = (FtSimLostPoint) { p, now, (guint8) reason };
}

gboolean
ft_sim_world_apply_vev (FtSimWorld *w, guint v, FtVehicleEventType ev, FtTime now)
{
  g_autoptr (GError) e = NULL;
  gboolean ok = ft_fleet_apply_event (w->core->fleet, v, ev, now, &e);
  if (!ok)
    ft_sim_world_sim_error (w, "vehicle event", e);
  ft_sim_world_vsync (w, v);
  return ok;
}

void
ft_sim_world_low_resolved (FtSimWorld *w, guint v, FtTime now)
{
  VehSim *vs = &w->veh[v];
  if (vs->flags & VF_LOW)
    {
      w->low_ms += (double) (now - vs->low_since);
      vs->flags &= ~VF_LOW;
    }
  ft_sim_world_vsync (w, v);
}

void
ft_sim_world_make_task (FtSimWorld *w, FtTaskKind kind, guint v, FtLatLon target, gint32 zone, gint prio, FtTime now)
{
  if (ft_ops_open_for (w->ops, v, kind) >= 0)
    {
      /* a swap's vehicle that has just gone flat: its task is urgent now */
      if (kind == FT_TASK_BATTERY_SWAP && (w->veh[v].flags & VF_LOW) && w->veh[v].low_since == now)
        ft_sim_world_route_soon (w, now);
      return;
    }
  g_autoptr (GError) e = NULL;
  if (ft_ops_create (w->ops, kind, (gint32) v, target, zone, prio, -1, now, &e) < 0)
    ft_sim_world_sim_error (w, "create task", e);
  else
    {
      w->k.tasks_created++;
      if (kind == FT_TASK_REBALANCE)
        w->n_rebalance_open++;
      if (kind == FT_TASK_BATTERY_SWAP)
        ft_sim_world_route_soon (w, now);
    }
}

/* ------------------------------------------------------------ rules */

/* Phase 3 rebalancing: surplus and shortfall as the rule measures them,
 * moves chosen by the transport LP (src/ops/ft-rebalance.c) on the value
 * model's terms: a vehicle moved from i to j gains the trips j would lose
 * running short over the next three hours and loses those i would
 * (ft_task_value_shortfall with requests and arrivals), at the revenue of a
 * trip, minus the van's km between the centroids (the staff's minutes are
 * paid either way, as in ft_task_value_pays); moves longer than max_km are
 * not made. Every vehicle into j counts the same gain, up to j's
 * shortfall. The LP maximises sum (G - cost_ij) with a constant G, so the
 * cost of a move is G - its net value, which is >= 0. */
static void
rebalance_by_plan (FtSimWorld *w, const guint *avail, const double *want, GPtrArray *by_zone,
                   guint budget, FtTime now)
{
  guint nz = w->nz;
  const FtVehicle *vs = ft_fleet_vehicles (w->core->fleet);
  g_autofree guint *sup = g_new0 (guint, nz);
  g_autofree guint *dem = g_new0 (guint, nz);
  guint n_sup = 0, n_dem = 0;
  for (guint z = 0; z < nz; z++)
    {
      double gap = want[z] * 0.7 - avail[z];
      double sur = avail[z] - want[z] * w->sc->rebalance_surplus_ratio;
      GArray *cand = g_ptr_array_index (by_zone, z);
      if (gap >= 1)
        dem[z] = (guint) gap, n_dem++;
      if (sur >= 1)
        sup[z] = MIN ((guint) sur, cand->len), n_sup += sup[z] > 0;
    }
  if (n_sup == 0 || n_dem == 0 || budget == 0)
    return;
  const FtTime end = now + 3 * FT_HOUR;
  const double rev = ft_sim_world_trip_revenue (w, FT_KIND_SCOOTER);
  const double per_km = w->sc->cost_van_per_km_minor / 100.0 * w->sc->detour_factor;
  g_autofree double *gain = g_new0 (double, nz);
  g_autofree double *loss = g_new0 (double, nz);
  double top = 0;
  for (guint z = 0; z < nz; z++)
    {
      if (dem[z] > 0)
        top = MAX (top, gain[z] = rev * ft_sim_world_zone_short (w, z, avail[z], now, end));
      if (sup[z] > 0 && avail[z] > 0)
        loss[z] = rev * ft_sim_world_zone_short (w, z, avail[z] - 1.0, now, end);
    }
  g_autofree double *cost = g_new (double, (gsize) nz * nz);
  for (guint i = 0; i < nz; i++)
    for (guint j = 0; j < nz; j++)
      {
        double c = 0;
        if (sup[i] > 0 && dem[j] > 0)
          {
            double km = ft_distance_fast_m (w->city->zones[i].centroid, w->city->zones[j].centroid) / 1000.0;
            c = km > w->sc->rebalance_max_km ? top + 1.0 : top - gain[j] + loss[i] + km * per_km;
          }
        cost[(gsize) i * nz + j] = c;
      }
  g_autoptr (GArray) moves = g_array_new (FALSE, FALSE, sizeof (FtRebalanceMove));
  g_autoptr (GError) e = NULL;
  if (!ft_rebalance_plan (nz, sup, dem, cost, top, budget, moves, NULL, &e))
    {
      ft_sim_world_sim_error (w, "rebalance plan", e);
      return;
    }
  for (guint k = 0; k < moves->len; k++)
    {
      const FtRebalanceMove *m = &g_array_index (moves, FtRebalanceMove, k);
      GArray *cand = g_ptr_array_index (by_zone, m->from);
      for (guint c = 0; c < m->count && cand->len > 0; c++)
        {
          guint v = g_array_index (cand, guint, cand->len - 1);
          g_array_set_size (cand, cand->len - 1);
          FtLatLon target = ft_sim_world_random_point_in_zone (w, m->to, w->r_rebalance);
          for (int tries = 0; tries < 5 && !ft_sim_world_parking_ok (w, target, vs[v].kind); tries++)
            target = ft_sim_world_random_point_in_zone (w, m->to, w->r_rebalance);
          ft_sim_world_make_task (w, FT_TASK_REBALANCE, v, target, (gint) m->to, 3, now);
        }
    }
}

void
ft_sim_world_on_rebalance_rule (FtSimEngine *e, gpointer data, guint64 arg)
{
  FtSimWorld *w = data;
  FtTime now = ft_sim_engine_now (e);
  FtTime next = now + (FtTime) (w->sc->rebalance_interval_min * FT_MINUTE);
  if (next < w->end)
    ft_sim_engine_schedule (e, next, PRIO_SYSTEM, ft_sim_world_on_rebalance_rule, w, 0);
  if (!w->sc->rebalancing || w->n_rebalance_open >= w->sc->rebalance_max_open)
    return;
  guint nz = w->nz;
  g_autofree guint *avail = g_new0 (guint, nz);
  g_autofree double *want = g_new0 (double, nz);
  const FtVehicle *vs = ft_fleet_vehicles (w->core->fleet);
  guint total = 0;
  g_autofree guint *movable = g_new (guint, MAX (w->nv, 1u));
  for (guint v = 0; v < w->nv; v++)
    if (vs[v].state == FT_STATE_AVAILABLE && !(w->veh[v].flags & (VF_RESERVED | VF_TRIP))
        && w->veh[v].zone >= 0 && ft_ops_open_for (w->ops, v, FT_TASK_REBALANCE) < 0)
      {
        avail[w->veh[v].zone]++;
        movable[total++] = v;
      }
  /* each zone's vehicles in index order, written into arrays of their
   * final size rather than appended one by one */
  g_autoptr (GPtrArray) by_zone = g_ptr_array_new_with_free_func ((GDestroyNotify) g_array_unref);
  g_autofree guint *fill = g_new0 (guint, MAX (nz, 1u));
  for (guint z = 0; z < nz; z++)
    {
      GArray *a = g_array_sized_new (FALSE, FALSE, sizeof (guint), avail[z]);
      g_array_set_size (a, avail[z]);
      g_ptr_array_add (by_zone, a);
    }
  for (guint i = 0; i < total; i++)
    {
      guint v = movable[i], z = (guint) w->veh[v].zone;
      g_array_index ((GArray *) g_ptr_array_index (by_zone, z), guint, fill[z]++) = v;
    }
  double dsum = 0;
  for (guint z = 0; z < nz; z++)
    {
      for (guint k = 0; k < 3; k++)
        want[z] += ft_sim_world_expected_requests (w, z, now + (FtTime) k * FT_HOUR);
      dsum += want[z];
    }
  if (dsum <= 0 || total == 0)
    return;
  for (guint z = 0; z < nz; z++)
    want[z] = want[z] / dsum * total;
  guint budget = w->sc->rebalance_max_open - w->n_rebalance_open;
  if (w->sc->rebalance_lp)
    {
      rebalance_by_plan (w, avail, want, by_zone, budget, now);
      return;
    }
  /* deficit zones in order of need; pull from the largest surplus */
  for (guint round = 0; round < budget; round++)
    {
      gint dz = -1, sz = -1;
      double worst = 0, most = 0;
      for (guint z = 0; z < nz; z++)
        {
          double gap = want[z] * 0.7 - avail[z];
          if (gap >= 1 && gap > worst)
            worst = gap, dz = (gint) z;
          double sur = avail[z] - want[z] * w->sc->rebalance_surplus_ratio;
          GArray *cand = g_ptr_array_index (by_zone, z);
          if (sur >= 1 && sur > most && cand->len > 0)
            most = sur, sz = (gint) z;
        }
      if (dz < 0 || sz < 0)
        break;
      GArray *cand = g_ptr_array_index (by_zone, sz);
      guint v = g_array_index (cand, guint, cand->len - 1);
      g_array_set_size (cand, cand->len - 1);
      FtLatLon target = ft_sim_world_random_point_in_zone (w, (guint) dz, w->r_rebalance);
      for (int tries = 0; tries < 5 && !ft_sim_world_parking_ok (w, target, vs[v].kind); tries++)
        target = ft_sim_world_random_point_in_zone (w, (guint) dz, w->r_rebalance);
      ft_sim_world_make_task (w, FT_TASK_REBALANCE, v, target, dz, 3, now);
      avail[sz]--;
      avail[dz]++;
    }
}

static gint64 dispatch_apply (FtSimWorld *w, const Command *c, GError **error);

void
ft_sim_world_on_minute (FtSimEngine *e, gpointer data, guint64 arg)
{
  FtSimWorld *w = data;
  FtTime now = ft_sim_engine_now (e);
  if (now + FT_MINUTE < w->end)
    ft_sim_engine_schedule (e, now + FT_MINUTE, PRIO_SYSTEM, ft_sim_world_on_minute, w, 0);
  g_mutex_lock (&w->cmd_lock);
  g_autoptr (GArray) cmds = w->cmds;
  w->cmds = g_array_new (FALSE, FALSE, sizeof (Command));
  g_mutex_unlock (&w->cmd_lock);
  for (guint i = 0; i < cmds->len; i++)
    {
      g_autoptr (GError) err = NULL;
      if (dispatch_apply (w, &g_array_index (cmds, Command, i), &err) < 0)
        {
          w->n_cmd_errors++;
          g_message ("dispatch refused: %s", err->message);
        }
    }
  if (ft_booking_next_expiry (w->core->booking) <= now
      && ft_booking_expire (w->core->booking, now) > 0)
    for (guint v = 0; v < w->nv; v++)
      ft_sim_world_vsync (w, v);
}

/* Shadow mode at its cadence: the models see the log, nothing acts on them. */
void
ft_sim_world_on_shadow (FtSimEngine *e, gpointer data, guint64 arg)
{
  FtSimWorld *w = data;
  FtTime now = ft_sim_engine_now (e);
  g_autoptr (GError) err = NULL;
  if (!ft_shadow_tick (w->shadow, now, &err))
    ft_sim_world_sim_error (w, "shadow mode", err);
  FtTime next = ft_shadow_next_tick (w->shadow);
  if (next > now && next < w->end)
    ft_sim_engine_schedule (e, next, PRIO_SYSTEM, ft_sim_world_on_shadow, w, 0);
}

/* ------------------------------------------------------------ running */

/* The group commit, never inside one of the shadow consumer's store
 * writes (ft_shadow_lock_store: a no-op when the shadow runs inline). */
static gboolean
commit (FtSimWorld *w, GError **error)
{
  ft_shadow_lock_store (w->shadow);
  gboolean ok = ft_core_commit (w->core, error);
  ft_shadow_unlock_store (w->shadow);
  return ok;
}

/* At the run's end, the shadow's events of its last ticks enter the log
 * (asynchronous shadow mode; nothing inline), stamped with the end. */
static void
shadow_at_end (FtSimWorld *w)
{
  if (w->shadow == NULL || ft_sim_engine_now (w->engine) < w->end)
    return;
  g_autoptr (GError) err = NULL;
  if (!ft_shadow_publish (w->shadow, w->end, &err))
    ft_sim_world_sim_error (w, "shadow mode", err);
}

gboolean
ft_sim_world_run_until (FtSimWorld *w, FtTime t, GError **error)
{
  g_return_val_if_fail (w != NULL, FALSE);
  t = MIN (t, w->end);
  while (ft_sim_engine_now (w->engine) < t)
    {
      FtTime slice = MIN (t, ft_sim_engine_now (w->engine) + 15 * FT_MINUTE);
      ft_sim_engine_run_until (w->engine, slice);
      if (w->core->store && ft_sim_engine_now (w->engine) - w->last_commit >= 15 * FT_MINUTE)
        {
          if (!commit (w, error))
            return FALSE;
          w->last_commit = ft_sim_engine_now (w->engine);
        }
    }
  shadow_at_end (w);
  return TRUE;
}

gboolean
ft_sim_world_run_paced (FtSimWorld *w, FtTime t, gboolean *reached, GError **error)
{
  g_return_val_if_fail (w != NULL, FALSE);
  t = MIN (t, w->end);
  gboolean done = TRUE;
  while (ft_sim_engine_now (w->engine) < t)
    {
      FtTime slice = MIN (t, ft_sim_engine_now (w->engine) + 15 * FT_MINUTE);
      if (!ft_sim_engine_run_paced (w->engine, slice))
        {
          done = FALSE;          /* stopped from outside */
          break;
        }
      if (w->core->store && ft_sim_engine_now (w->engine) - w->last_commit >= 15 * FT_MINUTE)
        {
          if (!commit (w, error))
            return FALSE;
          w->last_commit = ft_sim_engine_now (w->engine);
        }
    }
  shadow_at_end (w);
  if (reached)
    *reached = done;
  return TRUE;
}

gboolean
ft_sim_world_run (FtSimWorld *w, void (*progress) (double, gpointer), gpointer user_data,
                  GError **error)
{
  g_return_val_if_fail (w != NULL, FALSE);
  FtTime step = MAX (w->end / 200, FT_MINUTE);
  for (FtTime t = ft_sim_world_now (w) + step;; t += step)
    {
      FtTime until = MIN (t, w->end);
      if (!ft_sim_world_run_until (w, until, error))
        return FALSE;
      if (progress)
        progress ((double) until / (double) MAX (w->end, 1), user_data);
      if (until >= w->end)
        break;
    }
  return TRUE;
}

FtTime
ft_sim_world_end_time (const FtSimWorld *w)
{
  return w->end;
}

FtTime
ft_sim_world_now (const FtSimWorld *w)
{
  return ft_sim_engine_now (w->engine);
}

gboolean
ft_sim_world_finish (FtSimWorld *w, GError **error)
{
  g_return_val_if_fail (w != NULL, FALSE);
  if (w->shadow)
    {
      /* a run stopped before its end: the shadow's last events now */
      g_autoptr (GError) err = NULL;
      if (!ft_shadow_publish (w->shadow, ft_sim_world_now (w), &err))
        ft_sim_world_sim_error (w, "shadow mode", err);
    }
  if (w->core->store == NULL)
    return TRUE;
  if (!ft_core_commit (w->core, error))   /* the consumer is idle: synced above */
    return FALSE;
  FtStoreTargets t = ft_core_store_targets (w->core);
  if (!ft_store_save_all (w->core->store, &t, error))
    return FALSE;
  FtSimKpis k;
  ft_sim_world_kpis (w, &k);
  g_autofree char *json = ft_sim_kpis_to_json (&k, w->sc);
  g_autofree char *seed = g_strdup_printf ("%" G_GUINT64_FORMAT, w->sc->seed);
  g_autofree char *days = g_strdup_printf ("%g", w->sc->days);
  return ft_store_put_meta (w->core->store, "kpis", json, error)
         && ft_store_put_meta (w->core->store, "scenario", w->sc->name ? w->sc->name : "", error)
         && ft_store_put_meta (w->core->store, "scenario_path", w->sc->path ? w->sc->path : "", error)
         && ft_store_put_meta (w->core->store, "seed", seed, error)
         && ft_store_put_meta (w->core->store, "days", days, error);
}

/* ------------------------------------------------------------ snapshots */

void
ft_sim_snapshot_free (FtSimSnapshot *s)
{
  if (s == NULL)
    return;
  g_free (s->vehicles);
  g_free (s->staff);
  g_free (s->lost);
  g_free (s);
}

static FtLatLon
lerp (FtLatLon a, FtLatLon b, double f)
{
  f = CLAMP (f, 0.0, 1.0);
  return (FtLatLon) { a.lat + (b.lat - a.lat) * f, a.lon + (b.lon - a.lon) * f };
}

FtSimSnapshot *
ft_sim_world_snapshot (FtSimWorld *w)
{
  g_return_val_if_fail (w != NULL, NULL);
  FtTime now = ft_sim_world_now (w);
  FtSimSnapshot *s = g_new0 (FtSimSnapshot, 1);
  s->t = now;
  s->n_vehicles = w->nv;
  s->vehicles = g_new (FtSimVehicleSnap, w->nv);
  const FtVehicle *vs = ft_fleet_vehicles (w->core->fleet);
  for (guint v = 0; v < w->nv; v++)
    {
      FtSimVehicleSnap *o = &s->vehicles[v];
      const VehSim *x = &w->veh[v];
      o->pos = vs[v].pos;
      if (x->flags & VF_TRIP && x->t1 > x->t0)
        o->pos = lerp (x->from, x->to, (double) (now - x->t0) / (double) (x->t1 - x->t0));
      o->state = (guint8) vs[v].state;
      o->kind = (guint8) vs[v].kind;
      o->flags = x->flags & (FT_SIM_VFLAG_LOW | FT_SIM_VFLAG_FAULT | FT_SIM_VFLAG_IN_VAN);
      o->pad = 0;
      o->soc = (float) ft_fleet_soc (w->core->fleet, v);
    }
  s->n_staff = w->n_staff;
  s->staff = g_new0 (FtSimStaffSnap, MAX (w->n_staff, 1));
  for (guint i = 0; i < w->n_staff; i++)
    {
      Staff *st = &w->staff[i];
      FtSimStaffSnap *o = &s->staff[i];
      o->account = st->account;
      o->activity = (guint8) st->activity;
      o->pos = st->pos;
      if (st->activity == FT_SIM_STAFF_TRAVEL && st->leg_t1 > st->leg_t0)
        o->pos = lerp (st->from, st->target, (double) (now - st->leg_t0) / (double) (st->leg_t1 - st->leg_t0));
      o->from = st->from;
      o->target = st->target;
      o->task = st->task;
      o->packs_charged = ft_sim_world_van_count_charged (w, st);
      o->packs_depleted = st->van_packs->len - o->packs_charged;
    }
  s->n_lost = w->lost_n;
  s->lost = g_new (FtSimLostPoint, MAX (w->lost_n, 1));
  for (guint i = 0; i < w->lost_n; i++)
    s->lost[i] = w->lost[(w->lost_head + i) % w->lost_cap];
  ft_sim_world_kpis (w, &s->kpis);
  return s;
}

/* ------------------------------------------------------------ dispatch */

static gint64
dispatch_apply (FtSimWorld *w, const Command *c, GError **error)
{
  FtTime now = ft_sim_world_now (w);
  if (c->vehicle >= (gint32) w->nv)
    {
      g_set_error (error, FT_SIM_ERROR, FT_SIM_ERROR_INVALID, "no vehicle with index %d", c->vehicle);
      return -1;
    }
  gint32 staff_i = -1;
  if (c->staff >= 0)
    {
      for (guint i = 0; i < w->n_staff; i++)
        if (w->staff[i].account == (guint) c->staff)
          staff_i = (gint32) i;
      if (staff_i < 0)
        {
          g_set_error (error, FT_SIM_ERROR, FT_SIM_ERROR_INVALID,
                       "account %d is not one of this world's field staff", c->staff);
          return -1;
        }
      /* check the assignment is allowed before creating anything */
      g_autoptr (GError) pe = NULL;
      if (!ft_accounts_can (w->core->accounts, (guint) c->staff, FT_PERM_FIELD_WORK, &pe))
        {
          g_set_error (error, FT_OPS_ERROR, FT_OPS_ERROR_PERMISSION, "%s", pe->message);
          return -1;
        }
    }
  gint32 zone = ft_city_zone_at (w->city, c->target);
  gint64 id = ft_ops_create (w->ops, c->kind, c->vehicle, c->target, zone, c->priority,
                             (gint32) c->by, now, error);
  if (id < 0)
    return -1;
  w->k.tasks_created++;
  if (c->kind == FT_TASK_REBALANCE)
    w->n_rebalance_open++;
  if (staff_i >= 0)
    {
      if (!ft_ops_assign (w->ops, id, (guint) c->staff, (gint32) c->by, now, error))
        return -1;
      Staff *s = &w->staff[staff_i];
      g_array_append_val (s->queue, id);
      if (s->on_shift && s->task < 0 && s->activity == FT_SIM_STAFF_IDLE)
        ft_sim_world_staff_next (w, s);
    }
  return id;
}

gint64
ft_sim_world_dispatch (FtSimWorld *w, FtTaskKind kind, gint32 vehicle, FtLatLon target,
                       gint priority, guint by, gint32 staff, GError **error)
{
  g_return_val_if_fail (w != NULL, -1);
  Command c = { kind, vehicle, target, priority, by, staff };
  return dispatch_apply (w, &c, error);
}

void
ft_sim_world_post_dispatch (FtSimWorld *w, FtTaskKind kind, gint32 vehicle, FtLatLon target,
                            gint priority, guint by, gint32 staff)
{
  g_return_if_fail (w != NULL);
  Command c = { kind, vehicle, target, priority, by, staff };
  g_mutex_lock (&w->cmd_lock);
  g_array_append_val (w->cmds, c);
  g_mutex_unlock (&w->cmd_lock);
}

guint
ft_sim_world_n_dispatch_errors (FtSimWorld *w)
{
  return w->n_cmd_errors;
}

void
ft_sim_world_set_price_response (FtSimWorld *w, FtSimPriceResponse fn, gpointer user_data)
{
  g_return_if_fail (w != NULL);
  w->price_fn = fn ? fn : ft_sim_world_default_price_response;
  w->price_data = fn ? user_data : w;
}

FtCore *ft_sim_world_get_core (FtSimWorld *w) { return w->core; }
FtOps *ft_sim_world_get_ops (FtSimWorld *w) { return w->ops; }
const FtCity *ft_sim_world_get_city (FtSimWorld *w) { return w->city; }
FtSimEngine *ft_sim_world_get_engine (FtSimWorld *w) { return w->engine; }
FtShadow *ft_sim_world_get_shadow (FtSimWorld *w) { return w->shadow; }
const FtSimScenario *ft_sim_world_get_scenario (FtSimWorld *w) { return w->sc; }
gint32 ft_sim_world_dispatcher (FtSimWorld *w) { return w->dispatcher; }
guint ft_sim_world_n_staff (FtSimWorld *w) { return w->n_staff; }

guint
ft_sim_world_staff_account (FtSimWorld *w, guint i)
{
  g_return_val_if_fail (w != NULL && i < w->n_staff, 0);
  return w->staff[i].account;
}

guint64
ft_sim_world_n_errors (FtSimWorld *w)
{
  return w->sim_errors;
}

gboolean
ft_sim_world_check (FtSimWorld *w, GError **error)
{
  g_return_val_if_fail (w != NULL, FALSE);
  if (!ft_core_check (w->core, error) || !ft_ops_check (w->ops, error))
    return FALSE;
  const FtVehicle *vs = ft_fleet_vehicles (w->core->fleet);
  for (guint v = 0; v < w->nv; v++)
    {
      const VehSim *x = &w->veh[v];
      guint places = ((x->flags & VF_TRIP) ? 1 : 0) + ((x->flags & VF_IN_VAN) ? 1 : 0);
      if (places > 1)
        {
          g_set_error (error, FT_SIM_ERROR, FT_SIM_ERROR_INVALID, "%s is both on a trip and in a van", vs[v].name);
          return FALSE;
        }
      gboolean on_trip = vs[v].state == FT_STATE_ON_TRIP;
      if (on_trip != ((x->flags & VF_TRIP) != 0))
        {
          g_set_error (error, FT_SIM_ERROR, FT_SIM_ERROR_INVALID, "%s is %s but the world %s riding it",
                       vs[v].name, ft_vehicle_state_name (vs[v].state), on_trip ? "is not" : "is");
          return FALSE;
        }
      if (((x->flags & VF_LOW) != 0) != ft_grid_index_has (w->low_ix, v))
        {
          g_set_error (error, FT_SIM_ERROR, FT_SIM_ERROR_INVALID,
                       "%s (%s): the world's vehicle indexes disagree with the fleet",
                       vs[v].name, ft_vehicle_state_name (vs[v].state));
          return FALSE;
        }
      if (vs[v].state == FT_STATE_AVAILABLE && w->rent_m[v] != rent_range_m (w, v))
        {
          g_set_error (error, FT_SIM_ERROR, FT_SIM_ERROR_INVALID,
                       "%s: the world's cached range %.1f m is not the fleet's %.1f m (a change without ft_sim_world_vsync)",
                       vs[v].name, w->rent_m[v], rent_range_m (w, v));
          return FALSE;
        }
      if ((x->flags & VF_IN_VAN) && vs[v].state != FT_STATE_REMOVED)
        {
          g_set_error (error, FT_SIM_ERROR, FT_SIM_ERROR_INVALID, "%s is in a van but %s",
                       vs[v].name, ft_vehicle_state_name (vs[v].state));
          return FALSE;
        }
    }
  if (w->sim_errors > 0)
    {
      g_set_error (error, FT_SIM_ERROR, FT_SIM_ERROR_INVALID,
                   "%" G_GUINT64_FORMAT " module calls were refused during the run (see warnings)",
                   w->sim_errors);
      return FALSE;
    }
  return TRUE;
}

/* The staff member working on task, or NULL. */
static Staff *
staff_on_task (FtSimWorld *w, gint64 task)
{
  for (guint i = 0; i < w->n_staff; i++)
    if (w->staff[i].task == task)
      return &w->staff[i];
  return NULL;
}

gboolean
ft_sim_world_cancel_task (FtSimWorld *w, gint64 task, guint by, GError **error)
{
  g_return_val_if_fail (w != NULL, FALSE);
  const FtTask *t = ft_ops_get (w->ops, task);
  if (t == NULL)
    {
      g_set_error (error, FT_OPS_ERROR, FT_OPS_ERROR_NO_SUCH_TASK, "no task %" G_GINT64_FORMAT, task);
      return FALSE;
    }
  if (t->state == FT_TASK_IN_PROGRESS)
    {
      g_set_error (error, FT_OPS_ERROR, FT_OPS_ERROR_WRONG_STATE,
                   "task %" G_GINT64_FORMAT " is being done right now; it cannot be cancelled", task);
      return FALSE;
    }
  FtTaskKind kind = t->kind;
  if (!ft_ops_cancel (w->ops, task, (gint32) by, ft_sim_world_now (w), error))
    return FALSE;
  if (kind == FT_TASK_REBALANCE)
    w->n_rebalance_open--;
  Staff *s = staff_on_task (w, task);
  if (s)
    {
      s->task = -1;   /* on the way: it takes its next task on arrival */
      s->phase = 0;
    }
  return TRUE;
}

gboolean
ft_sim_world_reassign_task (FtSimWorld *w, gint64 task, guint staff_index, guint by, GError **error)
{
  g_return_val_if_fail (w != NULL, FALSE);
  if (staff_index >= w->n_staff)
    {
      g_set_error (error, FT_SIM_ERROR, FT_SIM_ERROR_INVALID, "no field staff member %u", staff_index + 1);
      return FALSE;
    }
  const FtTask *t = ft_ops_get (w->ops, task);
  if (t == NULL)
    {
      g_set_error (error, FT_OPS_ERROR, FT_OPS_ERROR_NO_SUCH_TASK, "no task %" G_GINT64_FORMAT, task);
      return FALSE;
    }
  if (t->state == FT_TASK_IN_PROGRESS)
    {
      g_set_error (error, FT_OPS_ERROR, FT_OPS_ERROR_WRONG_STATE,
                   "task %" G_GINT64_FORMAT " is being done right now; it cannot be reassigned", task);
      return FALSE;
    }
  Staff *to = &w->staff[staff_index];
  FtTime now = ft_sim_world_now (w);
  if (!ft_ops_assign (w->ops, task, to->account, (gint32) by, now, error))
    return FALSE;
  Staff *from = staff_on_task (w, task);
  if (from && from != to)
    {
      from->task = -1;
      from->phase = 0;
    }
  g_array_append_val (to->queue, task);
  if (to->on_shift && to->task < 0 && to->activity == FT_SIM_STAFF_IDLE)
    ft_sim_world_staff_next (w, to);
  return TRUE;
}

gboolean
ft_sim_world_staff_on_shift (FtSimWorld *w, guint staff_index)
{
  g_return_val_if_fail (w != NULL && staff_index < w->n_staff, FALSE);
  return w->staff[staff_index].on_shift;
}

gboolean
ft_sim_world_region_sweep (const char *scenario_path, guint vehicles, guint staff, FtRegionSweepPoint *out,
                           gpointer user_data, GError **error)
{
  (void) user_data;
  g_autoptr (FtSimScenario) sc = ft_sim_scenario_load (scenario_path, error);
  if (sc == NULL)
    return FALSE;
  sc->scooters = vehicles;
  sc->bikes = sc->mopeds = 0;
  sc->field_staff = staff;
  g_autoptr (FtSimWorld) w = ft_sim_world_new (sc, NULL, NULL, error);
  if (w == NULL || !ft_sim_world_run (w, NULL, NULL, error))
    return FALSE;
  FtSimKpis k;
  ft_sim_world_kpis (w, &k);
  double days = MAX (sc->days, 1e-9);
  out->requested_per_day = k.trips_requested / days;
  out->served_share = k.trips_requested ? (double) k.trips_served / k.trips_requested : 0;
  out->trips_per_vehicle_day = k.trips_completed / days / MAX (vehicles, 1u);
  return TRUE;
}
