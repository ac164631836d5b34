/* ft-sim-world-riders.c — riders: arrivals (Poisson with thinning, or the
 * requests of a demand trace in order), finding a vehicle with range,
 * reserving, walking, unlocking, riding and ending through booking, and
 * the trips the world loses (no vehicle, low battery, price, refused).
 */
#include "ft-sim-world-private.h"

#include <gsl/gsl_randist.h>

/* ------------------------------------------------------------ riders */

double
ft_sim_world_default_price_response (const FtPriceBreakdown *q, const FtTripQuote *trip, gpointer data)
{
  FtSimWorld *w = data;
  /* the plan price (the dynamic multiplier has its own response: the
   * elasticity in ft_sim_world_elastic_accepts) */
  double total = q->dynamic_multiplier > 0 ? (double) q->total / q->dynamic_multiplier : (double) q->total;
  double rel = total / w->sc->reference_price_minor - 1.0;
  if (rel <= 0)
    return 1.0;
  return CLAMP (1.0 - w->sc->price_sensitivity * rel, 0.0, 1.0);
}

guint
ft_sim_world_hour_of_week (FtTime t)
{
  return (guint) ((t / FT_HOUR) % 168);
}

typedef struct {
  FtSimWorld *w;
  double      need_m;     /* range the trip needs, as booking computes it */
  double      best_m;     /* distance of the nearest vehicle booking would offer */
  gboolean    low;        /* a parked vehicle was near but lacked charge/range */
  const double *rent_m;   /* the world's cache of booking's test (w->rent_m) */
} ScanCtx;

/* Over parked available vehicles: the same eligibility test as booking,
 * through the range the world caches for each (-INFINITY when booking
 * would not offer the vehicle at all). A vehicle turned down is one short
 * of charge or range (low): when the search finds none, it has asked
 * about every available vehicle within its radius. */
static gboolean
rentable (guint id, gpointer ud)
{
  ScanCtx *cx = ud;
  if (cx->rent_m[id] >= cx->need_m)
    return TRUE;
  cx->low = TRUE;
  return FALSE;
}

static gboolean
low_visit (guint id, FtLatLon pos, double d, gpointer ud)
{
  ScanCtx *cx = ud;
  if (cx->rent_m[id] < cx->need_m)
    {
      cx->low = TRUE;
      return FALSE;
    }
  return TRUE;
}

static gboolean
any_visit (guint id, FtLatLon pos, double d, gpointer ud)
{
  *(gboolean *) ud = TRUE;
  return FALSE;
}

/* Find the nearest vehicle for a rider at `at` that booking offers.
 * The fleet's index of available vehicles, searched ring by ring outward
 * for the nearest one booking would offer (by the world's cache of its
 * test, w->rent_m), gives the vehicle ft_booking_find would list first;
 * booking confirms it (ft_booking_offer) or, if it disagrees, searches the
 * whole radius itself. If nothing qualifies, a vehicle flagged
 * low or an available one short of range within the radius a search
 * widening from half a cell by doubling would have ended at (the walking
 * radius when none qualifies) makes it a battery loss. Returns the count
 * booking found. */
static guint
find_vehicle (FtSimWorld *w, FtLatLon at, double trip_m, FtFindResult *res, guint max,
              FtSimLostReason *why)
{
  FtBooking *b = w->core->booking;
  double maxr = w->sc->max_walk_m;
  ScanCtx c = { w, trip_m * (1.0 + w->core->config.booking.range_margin), G_MAXDOUBLE, FALSE, w->rent_m };
  FtFleet *f = w->core->fleet;
  gint64 near = ft_fleet_nearest_available (f, at, maxr, rentable, &c, &c.best_m);
  if (near >= 0)
    {
      /* booking's own find would list it first: the nearest it offers,
       * ties to the lowest index, the same distance */
      if (ft_booking_offer (b, (guint) near, c.best_m, trip_m, 0, &res[0]))
        return 1;
      /* disagreement: ask booking over the whole radius */
      guint n = ft_booking_find (b, at, maxr, trip_m, 0, res, max);
      if (n > 0)
        return n;
      /* an available vehicle short of range within the radius a search
       * widening from half a cell by doubling would have ended at */
      double r = MIN (ft_sim_world_cell_m (w) / 2.0, maxr);
      while (!(c.best_m <= r || r >= maxr))
        r = MIN (r * 2.0, maxr);
      c.low = FALSE;
      ft_fleet_visit_near_available (f, at, r, low_visit, &c);
    }
  /* else (the usual loss) that radius is the walking radius, and the
   * search, finding none, has asked rentable about every available
   * vehicle within it: c.low says whether one was short of range */
  gboolean low = c.low;
  if (!low)
    ft_grid_index_visit (w->low_ix, at, maxr, any_visit, &low);
  *why = low ? FT_SIM_LOST_LOW_BATTERY : FT_SIM_LOST_NO_VEHICLE;
  return 0;
}

static gint32
pick_rider (FtSimWorld *w)
{
  for (guint k = 0; k < w->n_riders; k++)
    {
      guint r = w->riders[w->rider_next];
      w->rider_next = (w->rider_next + 1) % w->n_riders;
      if (ft_booking_open_for (w->core->booking, r) < 0)
        return (gint32) r;
    }
  return -1;
}

static void on_unlock (FtSimEngine *e, gpointer data, guint64 v);
static void on_trip_end (FtSimEngine *e, gpointer data, guint64 v);
static void issue_request (FtSimWorld *w, FtSimEngine *e, FtTime now, FtLatLon o, FtLatLon d, double straight);
static void issue_request_armed (FtSimWorld *w, FtSimEngine *e, FtTime now, FtLatLon o, FtLatLon d,
                                 double straight);

/* Trace replay: request `arg` of the trace, then the next one (same time
 * and priority keep the trace's order through the engine's sequence). */
void
ft_sim_world_on_trace_request (FtSimEngine *e, gpointer data, guint64 arg)
{
  FtSimWorld *w = data;
  guint i = (guint) arg;
  FtTime now = ft_sim_engine_now (e);
  if (i + 1 < w->n_trace && w->trace[i + 1].t < w->end)
    ft_sim_engine_schedule (e, w->trace[i + 1].t, PRIO_ARRIVAL, ft_sim_world_on_trace_request, w, i + 1);
  w->k.trips_requested++;
  issue_request (w, e, now, w->trace[i].from, w->trace[i].to, -1.0);
}

/* One candidate of the homogeneous process at `now`: kept with
 * probability lambda(t) / lambda_max (thinning), then a request. */
static void
arrival_candidate (FtSimWorld *w, FtSimEngine *e, FtTime now)
{
  if (!(now >= w->how_from && now < w->how_to))
    {
      w->how_h = ft_sim_world_hour_of_week (now);
      /* t / FT_HOUR, and so the hour, is the same over the whole hour
       * (from 0 on, where division rounds down) */
      w->how_from = now >= 0 ? now / FT_HOUR * FT_HOUR : now;
      w->how_to = now >= 0 ? w->how_from + FT_HOUR : now;
    }
  guint h = w->how_h;
  gboolean shifted = w->zone_w_shift != NULL && now >= w->shift_t;
  const double *hour_total = shifted ? w->hour_total_shift : w->hour_total;
  const double *zone_w = shifted ? w->zone_w_shift : w->zone_w;
  const double *zone_cum = shifted ? w->zone_cum_shift : w->zone_cum;
  /* thinning: accept with probability lambda(t) / lambda_max */
  if (ft_sim_rng_draw (w->r_arrival) * w->lambda_max >= hour_total[h])
    return;

  guint oz = ft_sim_rng_discrete_cum (w->r_arrival, &zone_w[h * w->nz], zone_cum ? &zone_cum[h * w->nz] : NULL,
                                      w->nz, hour_total[h]);
  FtLatLon o = ft_sim_world_random_point_in_zone (w, oz, w->r_place);
  guint band = ft_demand_band_of_hour (h);
  const double *row = &w->city->demand.dest[((gsize) band * w->nz + oz) * w->nz];
  const double *row_cum = w->dest_cum ? &w->dest_cum[((gsize) band * w->nz + oz) * w->nz] : NULL;
  double rs = w->dest_sum[band * w->nz + oz];
  FtLatLon d = o;
  double straight = 0;
  for (int tries = 0; tries < 4; tries++)
    {
      guint dz = rs > 0 ? ft_sim_rng_discrete_cum (w->r_arrival, row, row_cum, w->nz, rs) : oz;
      d = ft_sim_world_random_point_in_zone (w, dz, w->r_place);
      straight = ft_distance_fast_m (o, d);
      if (straight >= w->sc->min_trip_m)
        break;
    }
  if (straight < w->sc->min_trip_m)
    {
      /* short hop: push the destination out to the minimum trip length */
      double a = ft_sim_rng_draw (w->r_place) * 2 * G_PI;
      d = ft_latlon_offset (o, w->sc->min_trip_m * cos (a), w->sc->min_trip_m * sin (a));
      straight = -1.0;   /* not d's */
    }
  w->k.trips_requested++;
  issue_request (w, e, now, o, d, straight);
}

/* The arrival candidates, one after another: each draws the gap to the
 * next first, and the next runs here at once when nothing else comes
 * before it (ft_sim_engine_take_next: most candidates are thinned away),
 * else it is scheduled; the order of events and draws is the same. */
void
ft_sim_world_on_arrival (FtSimEngine *e, gpointer data, guint64 arg)
{
  FtSimWorld *w = data;
  FtTime now = ft_sim_engine_now (e);
  for (;;)
    {
      /* next candidate of the homogeneous process at the peak rate */
      double gap_h = ft_sim_rng_exponential (w->r_arrival, 1.0 / w->lambda_max);
      FtTime next = now + MAX ((FtTime) 1, (FtTime) (gap_h * FT_HOUR));
      arrival_candidate (w, e, now);
      if (next >= w->end)
        return;
      if (!ft_sim_engine_take_next (e, next, PRIO_ARRIVAL))
        {
          ft_sim_engine_schedule_lane (e, next, PRIO_ARRIVAL, ft_sim_world_on_arrival, w, 0);
          return;
        }
      now = next;
    }
}

/* One trip request from o to d at `now`: the rider walks to the nearest
 * vehicle with range, sees the price, reserves, walks, unlocks and rides.
 * straight is ft_distance_fast_m (o, d) when the caller has it, else
 * negative. */
static void
issue_request (FtSimWorld *w, FtSimEngine *e, FtTime now, FtLatLon o, FtLatLon d, double straight)
{
  if (w->request_fn)
    w->request_fn (now, o, d, w->request_data);
  /* a field design: the request's arm from its unit */
  if (w->field != NULL)
    ft_sim_world_field_request (w, o, now);
  issue_request_armed (w, e, now, o, d, straight);
  w->field_arm = -1;
  w->field_unit = -1;
}

static void
issue_request_armed (FtSimWorld *w, FtSimEngine *e, FtTime now, FtLatLon o, FtLatLon d, double straight)
{
  double trip_m = straight >= 0 ? ft_sim_world_route_from_m (w, o, d, straight) : ft_sim_world_route_m (w, o, d);

  FtFindResult res[8];
  FtSimLostReason why = FT_SIM_LOST_NO_VEHICLE;
  guint n = find_vehicle (w, o, trip_m, res, 4, &why);
  if (n == 0)
    {
      ft_sim_world_lost_push (w, o, why, now);
      return;
    }
  /* relocation offers: a vehicle in a surplus zone a little further on,
   * a shortfall zone near the destination */
  gboolean start_shown = FALSE, end_shown = FALSE;
  gboolean incentives = w->core->incentives != NULL && ft_sim_world_field_lever (w, FIELD_LEVER_INCENTIVES);
  if (incentives)
    {
      FtFindResult more[8];
      guint n2 = ft_booking_find (w->core->booking, o, w->sc->max_walk_m, trip_m, 0, more, 8);
      if (n2 > 0)
        {
          memcpy (res, more, sizeof (FtFindResult) * n2);
          n = n2;
        }
      guint k = ft_sim_world_pick_start (w, res, n, &start_shown);
      if (k > 0)
        res[0] = res[k];
    }
  guint v = res[0].vehicle;
  const FtVehicle *veh = ft_fleet_get_vehicle (w->core->fleet, v);
  const FtVehicleType *vt = ft_vehicle_type_default (veh->kind);

  if (w->sc->price_response && w->price_fn != NULL)
    {
      FtTripQuote q = { .minutes = trip_m / (vt->cruise_speed_kph / 3.6) / 60.0,
                        .km = trip_m / 1000.0, .start = veh->pos, .end = d, .at = now,
                        .vehicle_kind = veh->kind };
      FtPriceBreakdown pb;
      g_autoptr (GError) pe = NULL;
      if (ft_pricing_quote (w->core->pricing, &q, &pb, &pe))
        {
          double p = w->price_fn (&pb, &q, w->price_data);
          gboolean go = ft_sim_rng_draw (w->r_price) < p;
          if (!ft_sim_world_elastic_accepts (w, &pb, veh->kind))
            go = FALSE;
          if (!go)
            {
              ft_sim_world_lost_push (w, o, FT_SIM_LOST_PRICE, now);
              return;
            }
        }
      else
        ft_sim_world_sim_error (w, "price quote", pe);
    }

  gint32 rider = pick_rider (w);
  if (rider < 0)
    {
      ft_sim_world_lost_push (w, o, FT_SIM_LOST_REFUSED, now);
      return;
    }
  if (incentives)
    {
      FtLatLon d2 = ft_sim_world_pick_end (w, d, veh->kind, &end_shown);
      if (d2.lat != d.lat || d2.lon != d.lon)
        {
          d = d2;
          trip_m = ft_sim_world_route_m (w, veh->pos, d);
        }
    }
  g_autoptr (GError) err = NULL;
  gint64 bk = ft_booking_reserve (w->core->booking, (guint) rider, v, now, &err);
  if (bk < 0)
    {
      ft_sim_world_lost_push (w, o, FT_SIM_LOST_REFUSED, now);
      return;
    }
  ft_sim_world_vsync (w, v);
  VehSim *vs = &w->veh[v];
  /* served from the moment the rider holds a vehicle, so that at any time
   * requested = served + lost (a refused unlock moves it to lost) */
  w->k.trips_served++;
  ft_sim_world_field_count (w, w->field_unit, FIELD_SERVED, 1);
  vs->field_arm = w->field_arm;
  vs->field_unit = w->field_unit;
  w->walk_sum_m += res[0].walk_m;
  vs->flags |= VF_RESERVED;
  vs->booking = bk;
  vs->rider = (guint32) rider;
  vs->from = veh->pos;
  vs->to = d;
  vs->trip_m = trip_m;
  vs->walk_m = res[0].walk_m;
  vs->start_shown = start_shown;
  vs->end_shown = end_shown;
  FtTime walk = (FtTime) (res[0].walk_m / w->sc->walk_speed_mps * 1000.0);
  ft_sim_engine_schedule (e, now + walk, PRIO_TRIP, on_unlock, w, v);
}

static void
on_unlock (FtSimEngine *e, gpointer data, guint64 arg)
{
  FtSimWorld *w = data;
  guint v = (guint) arg;
  VehSim *vs = &w->veh[v];
  FtTime now = ft_sim_engine_now (e);
  g_autoptr (GError) err = NULL;
  /* what the unlock reads, loaded together rather than one miss at a time */
  ft_booking_prefetch (w->core->booking, vs->booking, vs->rider);
  ft_fleet_prefetch (w->core->fleet, v);
  vs->flags &= ~VF_RESERVED;
  if (!ft_booking_unlock (w->core->booking, vs->booking, vs->rider, now, &err))
    {
      g_autoptr (GError) e2 = NULL;
      const FtBookingRec *rec = ft_booking_get (w->core->booking, vs->booking);
      if (rec && rec->state == FT_BK_RESERVED
          && !ft_booking_cancel (w->core->booking, vs->booking, vs->rider, now, &e2))
        ft_sim_world_sim_error (w, "cancel after refused unlock", e2);
      ft_sim_world_vsync (w, v);
      ft_sim_world_support_contact (w, vs->rider, FT_SIM_PROBLEM_UNLOCK, now);
      vs->booking = -1;
      w->k.trips_served--;
      w->walk_sum_m -= vs->walk_m;
      ft_sim_world_field_count (w, vs->field_unit, FIELD_SERVED, -1);
      w->field_unit = vs->field_unit;
      ft_sim_world_lost_push (w, vs->from, FT_SIM_LOST_REFUSED, now);
      w->field_unit = -1;
      return;
    }
  const FtVehicle *veh = ft_fleet_get_vehicle (w->core->fleet, v);
  const FtVehicleType *vt = ft_vehicle_type_default (veh->kind);
  vs->flags |= VF_TRIP;
  vs->drained_m = 0;
  vs->t0 = now;
  /* geofences: speed caps slow the ride; a zone that may not be ridden
   * through stops it at its edge, where the rider ends the trip */
  FtPathRules pr;
  ft_booking_plan_ride (w->core->booking, v, veh->pos, vs->to, vt->cruise_speed_kph, &pr);
  double straight_m = pr.len_m;   /* ft_distance_m (veh->pos, vs->to) */
  double slow = straight_m > 1.0 ? pr.ride_s / (straight_m / (vt->cruise_speed_kph / 3.6)) : 1.0;
  if (pr.blocked && straight_m > 1.0)
    {
      vs->trip_m *= pr.stop_m / straight_m;
      vs->to = pr.stop_at;
    }
  vs->t1 = now + (FtTime) (vs->trip_m / (vt->cruise_speed_kph / 3.6) * MAX (slow, 1.0) * 1000.0);
  ft_sim_engine_schedule (e, vs->t1, PRIO_TRIP, on_trip_end, w, v);
}

/* Damage from vandalism (per trip) and wear (per km, growing with wear),
 * and the rider's end-of-trip photo, which carries the vehicle's damage as
 * a label (no image is rendered): the check flags it with the scenario's
 * photo_recall (photo_false_alarm when undamaged); staff confirm a flagged
 * damage, which takes the vehicle out of service for collection and
 * repair, or dismiss a false alarm. Damage the check missed stays on the
 * vehicle, and the next rider's photo carries it again. */
static void
damage_and_photo (FtSimWorld *w, guint v, double km, FtTime now)
{
  VehSim *vs = &w->veh[v];
  const FtVehicle *veh = ft_fleet_get_vehicle (w->core->fleet, v);
  double hazard = w->sc->damage_per_1000_trips / 1000.0
                  + w->sc->damage_per_1000km / 1000.0 * km * (1.0 + w->sc->wear_hazard_factor * veh->wear);
  if (ft_sim_rng_draw (w->r_damage) < 1.0 - exp (-hazard) && vs->damage == 0)
    {
      vs->damage = (guint8) (1 + gsl_rng_uniform_int (w->r_damage, 4));
      w->k.damage_events++;
    }
  w->k.photos_checked++;
  double p_flag = vs->damage ? w->sc->photo_recall : w->sc->photo_false_alarm;
  if (ft_sim_rng_draw (w->r_damage) >= p_flag)
    {
      if (vs->damage)
        w->k.damage_missed++;
      return;
    }
  w->k.damage_reviews++;
  if (vs->damage == 0)
    {
      w->k.damage_dismissed++;
      return;
    }
  w->k.damage_confirmed++;
  if (!(vs->flags & VF_FAULT) && ft_sim_world_apply_vev (w, v, FT_VEV_MAINTENANCE, now))
    {
      vs->flags |= VF_FAULT;
      vs->fault_since = now;
      if (w->sc->fault_collection)
        ft_sim_world_make_task (w, FT_TASK_COLLECT_REPAIR, v, veh->pos, vs->zone, 8, now);
    }
}

/* The vehicle reports a fault: out of service, and collected for repair
 * where the scenario does that. */
static void
fault_now (FtSimWorld *w, guint v, FtTime now)
{
  VehSim *vs = &w->veh[v];
  FtFleet *fleet = w->core->fleet;
  w->k.faults++;
  ft_fleet_report_faults (fleet, v, 1u, now);
  if (ft_sim_world_apply_vev (w, v, FT_VEV_MAINTENANCE, now))
    {
      vs->flags |= VF_FAULT;
      vs->fault_since = now;
      if (w->sc->fault_collection)
        ft_sim_world_make_task (w, FT_TASK_COLLECT_REPAIR, v, ft_fleet_get_vehicle (fleet, v)->pos,
                                vs->zone, 8, now);
    }
}

/* A warning code in the vehicle's telemetry (brake, motor temperature,
 * controller): logged, the vehicle stays in service. */
static void
raise_warning (FtSimWorld *w, guint v, FtTime now)
{
  const FtVehicle *veh = ft_fleet_get_vehicle (w->core->fleet, v);
  FtEvent ev = ft_event_init (FT_EV_VEHICLE_WARNING, now);
  ev.vehicle = (gint32) v;
  ev.lat = veh->pos.lat;
  ev.lon = veh->pos.lon;
  ev.a = 1 + (gint32) gsl_rng_uniform_int (w->r_defect, 3);
  ft_event_log_append (w->core->log, &ev);
}

/* A ride on a developing defect: warning codes at the scenario's rate (at
 * most one a ride) and, when its km are used up, the fault. */
static void
defect_ride (FtSimWorld *w, guint v, double km, double wear, FtTime now)
{
  VehSim *vs = &w->veh[v];
  double rate = w->sc->defect_warnings_per_100km / 100.0 + w->sc->wear_warnings_per_1000km / 1000.0 * wear;
  if (rate > 0 && ft_sim_rng_draw (w->r_defect) < -expm1 (-rate * km))
    raise_warning (w, v, now);
  vs->defect_left_km -= (float) km;
  if (vs->defect_left_km <= 0)
    {
      vs->flags &= (guint8) ~VF_DEFECT;
      fault_now (w, v, now);
    }
}

static void
on_trip_end (FtSimEngine *e, gpointer data, guint64 arg)
{
  FtSimWorld *w = data;
  guint v = (guint) arg;
  VehSim *vs = &w->veh[v];
  FtTime now = ft_sim_engine_now (e);
  FtFleet *fleet = w->core->fleet;
  /* what the end reads, loaded together rather than one miss at a time */
  ft_booking_prefetch (w->core->booking, vs->booking, vs->rider);
  ft_fleet_prefetch (fleet, v);
  const FtVehicle *veh = ft_fleet_get_vehicle (fleet, v);
  const FtVehicleType *vt = ft_vehicle_type_default (veh->kind);

  /* the ride used energy along the way (only the part not drained yet,
   * when the rider had to ride on) */
  ft_fleet_drain (fleet, v, (vs->trip_m - vs->drained_m) / 1000.0 * vt->wh_per_km);
  vs->drained_m = vs->trip_m;
  FtPriceBreakdown pb_end;
  {
    g_autoptr (GError) err = NULL;
    if (!ft_booking_end (w->core->booking, vs->booking, vs->rider, vs->to, vs->trip_m, now, &pb_end, &err))
      {
        if (!g_error_matches (err, FT_BOOKING_ERROR, FT_BOOKING_ERROR_NO_PARKING))
          {
            ft_sim_world_sim_error (w, "end trip", err);
            return;
          }
        /* parking not allowed here: the rider rides on to the nearest
         * spot where it is, and tries again */
        w->k.end_refusals++;
        ft_sim_world_support_contact (w, vs->rider, FT_SIM_PROBLEM_PARKING, now);
        double extra = 0;
        FtLatLon q = ft_sim_world_nearest_parking (w, vs->to, veh->kind, &extra);
        extra = MAX (extra, 25.0) * w->sc->detour_factor;
        vs->to = q;
        vs->trip_m += extra;
        vs->t1 = now + (FtTime) (extra / (vt->cruise_speed_kph / 3.6) * 1000.0) + 1;
        ft_sim_engine_schedule (e, vs->t1, PRIO_TRIP, on_trip_end, w, v);
        return;
      }
  }
  ft_sim_world_vsync (w, v);
  ft_sim_world_reward_trip (w, vs->booking, vs->from, vs->to, vs->start_shown, vs->end_shown, now);
  w->dyn_mult_sum += pb_end.dynamic_multiplier;
  ft_sim_world_field_count (w, vs->field_unit, FIELD_REVENUE, (double) pb_end.total);
  w->k.trips_completed++;
  ft_sim_world_support_contact (w, vs->rider, FT_SIM_PROBLEM_CHARGE, now);
  w->trip_sum_m += vs->trip_m;
  w->ride_ms += (double) (now - vs->t0);
  vs->flags &= ~VF_TRIP;
  vs->booking = -1;
  vs->zone = ft_city_zone_at (w->city, vs->to);
  double km = vs->trip_m / 1000.0;
  ft_fleet_add_wear (fleet, v, km * w->sc->wear_per_km);
  veh = ft_fleet_get_vehicle (fleet, v);

  /* faults from a wear-dependent hazard per km: at once, or through a
   * defect that warns before it faults */
  if (vs->flags & VF_DEFECT)
    defect_ride (w, v, km, veh->wear, now);
  else if (w->sc->wear_warnings_per_1000km > 0
           && ft_sim_rng_draw (w->r_defect) < -expm1 (-w->sc->wear_warnings_per_1000km / 1000.0 * km * veh->wear))
    raise_warning (w, v, now);
  double hazard = w->sc->faults_per_1000km / 1000.0 * km * (1.0 + w->sc->wear_hazard_factor * veh->wear);
  if (ft_sim_rng_draw (w->r_fault) < 1.0 - exp (-hazard))
    {
      if (w->sc->defect_km <= 0)
        fault_now (w, v, now);
      else if (!(vs->flags & (VF_DEFECT | VF_FAULT)))
        {
          vs->flags |= VF_DEFECT;
          vs->defect_left_km = (float) gsl_ran_exponential (w->r_defect, w->sc->defect_km);
        }
    }
  if (w->sc->damage_per_1000_trips > 0 || w->sc->damage_per_1000km > 0)
    damage_and_photo (w, v, km, now);
  double soc = ft_fleet_soc (fleet, v);
  if (soc < vt->low_soc && !(vs->flags & VF_LOW))
    {
      vs->flags |= VF_LOW;
      vs->low_since = now;
      veh = ft_fleet_get_vehicle (fleet, v);
      if (veh->state == FT_STATE_AVAILABLE)
        ft_sim_world_apply_vev (w, v, FT_VEV_BATTERY_LOW, now);
      ft_sim_world_vsync (w, v);
    }
  if (w->sc->battery_swaps && !(vs->flags & VF_FAULT) && soc < MAX (w->sc->swap_threshold_soc, vt->low_soc))
    ft_sim_world_make_task (w, FT_TASK_BATTERY_SWAP, v, veh->pos, vs->zone, (vs->flags & VF_LOW) ? 10 : 5, now);
}
