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
 */
#include "ft-sim-world.h"
#include "ft-city-recipe.h"
#include "ft-demand-fit.h"

#include <errno.h>
#include <glib/gstdio.h>
#include <math.h>
#include <string.h>

/* event priorities: lower runs first at equal times */
enum { PRIO_SYSTEM = -10, PRIO_STAFF = 0, PRIO_TRIP = 5, PRIO_ARRIVAL = 10 };

enum { VF_LOW = FT_SIM_VFLAG_LOW, VF_FAULT = FT_SIM_VFLAG_FAULT, VF_IN_VAN = FT_SIM_VFLAG_IN_VAN,
       VF_TRIP = 8, VF_RESERVED = 16 };

typedef struct {
  guint8   flags;
  gint32   zone;
  FtTime   low_since, fault_since;
  /* current reservation / trip */
  gint64   booking;
  guint32  rider;
  FtTime   t0, t1;
  FtLatLon from, to;
  double   trip_m;
  double   drained_m;
  double   walk_m;
} VehSim;

typedef struct {
  guint    index;
  guint    account;
  guint    van;
  guint    depot;
  double   shift_start_h;
  FtSimStaffActivity activity;
  gboolean on_shift;
  FtTime   shift_t0, shift_end;
  FtLatLon pos, from, target;
  FtTime   leg_t0, leg_t1;
  gint64   task;
  gint     phase;          /* per task kind step */
  gboolean going_home;
  gboolean to_depot;       /* current leg ends at the depot */
  GArray  *queue;          /* dispatcher-assigned task ids (gint64), FIFO */
  GArray  *van_packs;      /* guint pack indices in the van */
  gint32   carrying;       /* vehicle in the van or -1 */
  FtSimHandle pending;     /* the staff member's next event */
} Staff;

typedef struct {
  FtLatLon pos;
  guint    chargers;
  guint    charging;
  GQueue   waiting;        /* pack indices (GUINT_TO_POINTER(p+1)) */
  GArray  *charged;        /* guint pack indices ready to load */
} Depot;

typedef struct {
  FtTaskKind kind; gint32 vehicle; FtLatLon target; gint priority; guint by; gint32 staff;
} Command;

struct _FtSimWorld {
  FtSimScenario *sc;
  FtCity        *city_owned;
  const FtCity  *city;
  FtRouter      *router;
  FtCore        *core;
  FtOps         *ops;
  FtSimEngine   *engine;
  FtSimRng      *rng;
  gsl_rng       *r_arrival, *r_place, *r_price, *r_fault, *r_init, *r_rebalance;
  FtTime         end;
  guint          nv;
  VehSim        *veh;
  Staff         *staff; guint n_staff;
  Depot         *depots; guint n_depots;
  guint         *riders; guint n_riders; guint rider_next;
  gint32         dispatcher;
  /* the world's own indexes: parked available vehicles, and vehicles
   * flagged low, so lookups need not wade through piles of the others */
  FtGridIndex   *avail_ix;
  FtGridIndex   *low_ix;
  /* demand */
  guint          nz;
  double        *hour_total;      /* 168 */
  double        *zone_w;          /* 168 * nz, scaled */
  double         lambda_max;      /* per hour */
  double        *dest_sum;        /* 4 * nz */
  FtBBox        *zone_bbox;
  /* demand trace (replaces Poisson arrivals when n_trace > 0 or has_trace) */
  FtDemandRequest *trace;
  guint          n_trace;
  gboolean       has_trace;
  /* hooks */
  FtSimPriceResponse price_fn;
  gpointer       price_data;
  FtSimRequestFunc request_fn;
  gpointer       request_data;
  /* command queue from other threads */
  GMutex         cmd_lock;
  GArray        *cmds;
  guint          n_cmd_errors;
  /* lost ring */
  FtSimLostPoint *lost; guint lost_cap, lost_head, lost_n;
  /* accounting */
  FtSimKpis      k;
  double         walk_sum_m, trip_sum_m;
  double         ride_ms;
  double         low_ms, fault_ms;
  double         staff_ms, staff_m;
  guint          n_rebalance_open;
  guint64        sim_errors;
  FtTime         last_commit;
};

static const char *lost_names[FT_SIM_N_LOST] = { "no_vehicle", "low_battery", "price", "refused" };

const char *
ft_sim_lost_reason_name (FtSimLostReason r)
{
  return (guint) r < FT_SIM_N_LOST ? lost_names[r] : "unknown";
}

static void sim_error (FtSimWorld *w, const char *what, const GError *e);
static void staff_next (FtSimWorld *w, Staff *s);

/* ------------------------------------------------------------ helpers */

static void
sim_error (FtSimWorld *w, const char *what, const GError *e)
{
  w->sim_errors++;
  if (w->sim_errors <= 20)
    g_warning ("sim: %s: %s", what, e ? e->message : "failed");
}

/* Bring vehicle v's entries in the world's indexes up to date. */
static void
vsync (FtSimWorld *w, guint v)
{
  const FtVehicle *veh = ft_fleet_get_vehicle (w->core->fleet, v);
  gboolean want_avail = veh->state == FT_STATE_AVAILABLE;
  gboolean want_low = (w->veh[v].flags & VF_LOW) != 0;
  if (want_avail)
    {
      if (ft_grid_index_has (w->avail_ix, v))
        ft_grid_index_move (w->avail_ix, v, veh->pos);
      else
        ft_grid_index_insert (w->avail_ix, v, veh->pos);
    }
  else if (ft_grid_index_has (w->avail_ix, v))
    ft_grid_index_remove (w->avail_ix, v);
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

static FtLatLon
random_point_in_zone (FtSimWorld *w, guint z, gsl_rng *r)
{
  const FtZone *zone = &w->city->zones[z];
  const FtBBox *bb = &w->zone_bbox[z];
  for (int i = 0; i < 60; i++)
    {
      FtLatLon p = { bb->min_lat + gsl_rng_uniform (r) * (bb->max_lat - bb->min_lat),
                     bb->min_lon + gsl_rng_uniform (r) * (bb->max_lon - bb->min_lon) };
      if (ft_multipolygon_contains (zone->area, p))
        return p;
    }
  return zone->centroid;
}

static gboolean
parking_ok (FtSimWorld *w, FtLatLon p, guint kind)
{
  if (!w->sc->geofence_parking || w->core->geofences == NULL)
    return TRUE;
  FtZoneRules r = ft_geofences_rules_at (w->core->geofences, p, kind, NULL);
  return r.ride_end_allowed;
}

/* Nearest point (rings of 75 m, 12 directions) where parking is allowed. */
static FtLatLon
nearest_parking (FtSimWorld *w, FtLatLon p, guint kind, double *dist_out)
{
  for (int ring = 1; ring <= 40; ring++)
    {
      double rad = 75.0 * ring;
      for (int k = 0; k < 12; k++)
        {
          double a = k * (G_PI / 6.0);
          FtLatLon q = ft_latlon_offset (p, rad * cos (a), rad * sin (a));
          if (parking_ok (w, q, kind))
            {
              *dist_out = rad;
              return q;
            }
        }
    }
  *dist_out = 0;
  return w->city->center;
}

static double
route_m (FtSimWorld *w, FtLatLon a, FtLatLon b)
{
  double d0 = ft_distance_fast_m (a, b);
  if (w->router != NULL && d0 > 50)
    {
      double d = ft_router_distance (w->router, a, b);
      if (d >= 0)
        return MAX (d, d0);
    }
  return d0 * w->sc->detour_factor;
}

static void
lost_push (FtSimWorld *w, FtLatLon p, FtSimLostReason reason, FtTime now)
{
  w->k.trips_lost++;
  w->k.lost[reason]++;
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

static gboolean
apply_vev (FtSimWorld *w, guint v, FtVehicleEventType ev, FtTime now)
{
  g_autoptr (GError) e = NULL;
  gboolean ok = ft_fleet_apply_event (w->core->fleet, v, ev, now, &e);
  if (!ok)
    sim_error (w, "vehicle event", e);
  vsync (w, v);
  return ok;
}

static void
low_resolved (FtSimWorld *w, guint v, FtTime now)
{
  VehSim *vs = &w->veh[v];
  if (vs->flags & VF_LOW)
    {
      w->low_ms += (double) (now - vs->low_since);
      vs->flags &= ~VF_LOW;
    }
  vsync (w, v);
}

static void
make_task (FtSimWorld *w, FtTaskKind kind, guint v, FtLatLon target, gint32 zone, gint prio, FtTime now)
{
  if (ft_ops_open_for (w->ops, v, kind) >= 0)
    return;
  g_autoptr (GError) e = NULL;
  if (ft_ops_create (w->ops, kind, (gint32) v, target, zone, prio, -1, now, &e) < 0)
    sim_error (w, "create task", e);
  else
    {
      w->k.tasks_created++;
      if (kind == FT_TASK_REBALANCE)
        w->n_rebalance_open++;
    }
}

/* ------------------------------------------------------------ riders */

static double
default_price_response (const FtPriceBreakdown *q, const FtTripQuote *trip, gpointer data)
{
  FtSimWorld *w = data;
  double rel = (double) q->total / w->sc->reference_price_minor - 1.0;
  if (rel <= 0)
    return 1.0;
  return CLAMP (1.0 - w->sc->price_sensitivity * rel, 0.0, 1.0);
}

static guint
hour_of_week (FtTime t)
{
  return (guint) ((t / FT_HOUR) % 168);
}

typedef struct {
  FtSimWorld *w;
  double      need_m;     /* range the trip needs, as booking computes it */
  double      best_m;     /* distance of the nearest vehicle booking would offer */
  gboolean    low;        /* a parked vehicle was near but lacked charge/range */
} ScanCtx;

/* Over parked available vehicles: the same eligibility test as booking. */
static gboolean
scan_visit (guint id, FtLatLon pos, double d, gpointer ud)
{
  ScanCtx *cx = ud;
  FtFleet *f = cx->w->core->fleet;
  const FtVehicle *veh = ft_fleet_get_vehicle (f, id);
  if (veh->booking < 0 && veh->pack >= 0
      && ft_fleet_soc (f, id) >= ft_vehicle_type_default (veh->kind)->low_soc
      && ft_fleet_range_m (f, id) >= cx->need_m)
    cx->best_m = MIN (cx->best_m, d);
  else
    cx->low = TRUE;
  return TRUE;
}

static gboolean
any_visit (guint id, FtLatLon pos, double d, gpointer ud)
{
  *(gboolean *) ud = TRUE;
  return FALSE;
}

/* Find the nearest vehicle for a rider at `at` through ft_booking_find.
 * The world's index of parked available vehicles, searched with a widening
 * radius (the nearest within a small radius is the nearest overall), tells
 * how far booking must look; booking then decides. If nothing qualifies,
 * a vehicle flagged low or an available one short of range within the
 * walking radius makes it a battery loss. Returns the count booking found. */
static guint
find_vehicle (FtSimWorld *w, FtLatLon at, double trip_m, FtFindResult *res, guint max,
              FtSimLostReason *why)
{
  FtBooking *b = w->core->booking;
  double maxr = w->sc->max_walk_m;
  ScanCtx c = { w, trip_m * (1.0 + w->core->config.booking.range_margin), G_MAXDOUBLE, FALSE };
  for (double r = MIN (25.0, maxr);; r *= 2.0)
    {
      r = MIN (r, maxr);
      c.low = FALSE;
      ft_grid_index_visit (w->avail_ix, at, r, scan_visit, &c);
      if (c.best_m <= r || r >= maxr)
        break;
    }
  if (c.best_m <= maxr)
    {
      guint n = ft_booking_find (b, at, MIN (maxr, c.best_m + 0.5), trip_m, 0, res, max);
      if (n == 0)   /* disagreement: ask booking over the whole radius */
        n = ft_booking_find (b, at, maxr, trip_m, 0, res, max);
      if (n > 0)
        return n;
    }
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
static void issue_request (FtSimWorld *w, FtSimEngine *e, FtTime now, FtLatLon o, FtLatLon d);

/* Trace replay: request `arg` of the trace, then the next one (same time
 * and priority keep the trace's order through the engine's sequence). */
static void
on_trace_request (FtSimEngine *e, gpointer data, guint64 arg)
{
  FtSimWorld *w = data;
  guint i = (guint) arg;
  FtTime now = ft_sim_engine_now (e);
  if (i + 1 < w->n_trace && w->trace[i + 1].t < w->end)
    ft_sim_engine_schedule (e, w->trace[i + 1].t, PRIO_ARRIVAL, on_trace_request, w, i + 1);
  w->k.trips_requested++;
  issue_request (w, e, now, w->trace[i].from, w->trace[i].to);
}

static void
on_arrival (FtSimEngine *e, gpointer data, guint64 arg)
{
  FtSimWorld *w = data;
  FtTime now = ft_sim_engine_now (e);
  /* next candidate of the homogeneous process at the peak rate */
  double gap_h = ft_sim_rng_exponential (w->r_arrival, 1.0 / w->lambda_max);
  FtTime next = now + MAX ((FtTime) 1, (FtTime) (gap_h * FT_HOUR));
  if (next < w->end)
    ft_sim_engine_schedule (e, next, PRIO_ARRIVAL, on_arrival, w, 0);

  guint h = hour_of_week (now);
  /* thinning: accept with probability lambda(t) / lambda_max */
  if (gsl_rng_uniform (w->r_arrival) * w->lambda_max >= w->hour_total[h])
    return;

  guint oz = ft_sim_rng_discrete (w->r_arrival, &w->zone_w[h * w->nz], w->nz, w->hour_total[h]);
  FtLatLon o = random_point_in_zone (w, oz, w->r_place);
  guint band = ft_demand_band_of_hour (h);
  const double *row = &w->city->demand.dest[((gsize) band * w->nz + oz) * w->nz];
  double rs = w->dest_sum[band * w->nz + oz];
  FtLatLon d = o;
  double straight = 0;
  for (int tries = 0; tries < 4; tries++)
    {
      guint dz = rs > 0 ? ft_sim_rng_discrete (w->r_arrival, row, w->nz, rs) : oz;
      d = random_point_in_zone (w, dz, w->r_place);
      straight = ft_distance_fast_m (o, d);
      if (straight >= w->sc->min_trip_m)
        break;
    }
  if (straight < w->sc->min_trip_m)
    {
      /* short hop: push the destination out to the minimum trip length */
      double a = gsl_rng_uniform (w->r_place) * 2 * G_PI;
      d = ft_latlon_offset (o, w->sc->min_trip_m * cos (a), w->sc->min_trip_m * sin (a));
    }
  w->k.trips_requested++;
  issue_request (w, e, now, o, d);
}

/* One trip request from o to d at `now`: the rider walks to the nearest
 * vehicle with range, sees the price, reserves, walks, unlocks and rides. */
static void
issue_request (FtSimWorld *w, FtSimEngine *e, FtTime now, FtLatLon o, FtLatLon d)
{
  if (w->request_fn)
    w->request_fn (now, o, d, w->request_data);
  double trip_m = route_m (w, o, d);

  FtFindResult res[4];
  FtSimLostReason why = FT_SIM_LOST_NO_VEHICLE;
  guint n = find_vehicle (w, o, trip_m, res, 4, &why);
  if (n == 0)
    {
      lost_push (w, o, why, now);
      return;
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
          if (gsl_rng_uniform (w->r_price) >= p)
            {
              lost_push (w, o, FT_SIM_LOST_PRICE, now);
              return;
            }
        }
      else
        sim_error (w, "price quote", pe);
    }

  gint32 rider = pick_rider (w);
  if (rider < 0)
    {
      lost_push (w, o, FT_SIM_LOST_REFUSED, now);
      return;
    }
  g_autoptr (GError) err = NULL;
  gint64 bk = ft_booking_reserve (w->core->booking, (guint) rider, v, now, &err);
  if (bk < 0)
    {
      lost_push (w, o, FT_SIM_LOST_REFUSED, now);
      return;
    }
  vsync (w, v);
  VehSim *vs = &w->veh[v];
  /* served from the moment the rider holds a vehicle, so that at any time
   * requested = served + lost (a refused unlock moves it to lost) */
  w->k.trips_served++;
  w->walk_sum_m += res[0].walk_m;
  vs->flags |= VF_RESERVED;
  vs->booking = bk;
  vs->rider = (guint32) rider;
  vs->from = veh->pos;
  vs->to = d;
  vs->trip_m = trip_m;
  vs->walk_m = res[0].walk_m;
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
  vs->flags &= ~VF_RESERVED;
  if (!ft_booking_unlock (w->core->booking, vs->booking, vs->rider, now, &err))
    {
      g_autoptr (GError) e2 = NULL;
      const FtBookingRec *rec = ft_booking_get (w->core->booking, vs->booking);
      if (rec && rec->state == FT_BK_RESERVED
          && !ft_booking_cancel (w->core->booking, vs->booking, vs->rider, now, &e2))
        sim_error (w, "cancel after refused unlock", e2);
      vsync (w, v);
      vs->booking = -1;
      w->k.trips_served--;
      w->walk_sum_m -= vs->walk_m;
      lost_push (w, vs->from, FT_SIM_LOST_REFUSED, now);
      return;
    }
  const FtVehicle *veh = ft_fleet_get_vehicle (w->core->fleet, v);
  const FtVehicleType *vt = ft_vehicle_type_default (veh->kind);
  vs->flags |= VF_TRIP;
  vs->drained_m = 0;
  vs->t0 = now;
  vs->t1 = now + (FtTime) (vs->trip_m / (vt->cruise_speed_kph / 3.6) * 1000.0);
  ft_sim_engine_schedule (e, vs->t1, PRIO_TRIP, on_trip_end, w, v);
}

static void
on_trip_end (FtSimEngine *e, gpointer data, guint64 arg)
{
  FtSimWorld *w = data;
  guint v = (guint) arg;
  VehSim *vs = &w->veh[v];
  FtTime now = ft_sim_engine_now (e);
  FtFleet *fleet = w->core->fleet;
  const FtVehicle *veh = ft_fleet_get_vehicle (fleet, v);
  const FtVehicleType *vt = ft_vehicle_type_default (veh->kind);

  /* the ride used energy along the way (only the part not drained yet,
   * when the rider had to ride on) */
  ft_fleet_drain (fleet, v, (vs->trip_m - vs->drained_m) / 1000.0 * vt->wh_per_km);
  vs->drained_m = vs->trip_m;
  {
    g_autoptr (GError) err = NULL;
    FtPriceBreakdown pb;
    if (!ft_booking_end (w->core->booking, vs->booking, vs->rider, vs->to, vs->trip_m, now, &pb, &err))
      {
        if (!g_error_matches (err, FT_BOOKING_ERROR, FT_BOOKING_ERROR_NO_PARKING))
          {
            sim_error (w, "end trip", err);
            return;
          }
        /* parking not allowed here: the rider rides on to the nearest
         * spot where it is, and tries again */
        w->k.end_refusals++;
        double extra = 0;
        FtLatLon q = nearest_parking (w, vs->to, veh->kind, &extra);
        extra = MAX (extra, 25.0) * w->sc->detour_factor;
        vs->to = q;
        vs->trip_m += extra;
        vs->t1 = now + (FtTime) (extra / (vt->cruise_speed_kph / 3.6) * 1000.0) + 1;
        ft_sim_engine_schedule (e, vs->t1, PRIO_TRIP, on_trip_end, w, v);
        return;
      }
  }
  vsync (w, v);
  w->k.trips_completed++;
  w->trip_sum_m += vs->trip_m;
  w->ride_ms += (double) (now - vs->t0);
  vs->flags &= ~VF_TRIP;
  vs->booking = -1;
  vs->zone = ft_city_zone_at (w->city, vs->to);
  double km = vs->trip_m / 1000.0;
  ft_fleet_add_wear (fleet, v, km * w->sc->wear_per_km);
  veh = ft_fleet_get_vehicle (fleet, v);

  /* faults from a wear-dependent hazard per km */
  double hazard = w->sc->faults_per_1000km / 1000.0 * km * (1.0 + w->sc->wear_hazard_factor * veh->wear);
  if (gsl_rng_uniform (w->r_fault) < 1.0 - exp (-hazard))
    {
      w->k.faults++;
      ft_fleet_set_faults (fleet, v, 1u);
      if (apply_vev (w, v, FT_VEV_MAINTENANCE, now))
        {
          vs->flags |= VF_FAULT;
          vs->fault_since = now;
          if (w->sc->fault_collection)
            make_task (w, FT_TASK_COLLECT_REPAIR, v, veh->pos, vs->zone, 8, now);
        }
    }
  double soc = ft_fleet_soc (fleet, v);
  if (soc < vt->low_soc && !(vs->flags & VF_LOW))
    {
      vs->flags |= VF_LOW;
      vs->low_since = now;
      veh = ft_fleet_get_vehicle (fleet, v);
      if (veh->state == FT_STATE_AVAILABLE)
        apply_vev (w, v, FT_VEV_BATTERY_LOW, now);
      vsync (w, v);
    }
  if (w->sc->battery_swaps && !(vs->flags & VF_FAULT) && soc < MAX (w->sc->swap_threshold_soc, vt->low_soc))
    make_task (w, FT_TASK_BATTERY_SWAP, v, veh->pos, vs->zone, (vs->flags & VF_LOW) ? 10 : 5, now);
}

/* ------------------------------------------------------------ depots and packs */

static void on_charged (FtSimEngine *e, gpointer data, guint64 arg);

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
  ft_fleet_charge_pack (w->core->fleet, p, (1.0 - pk->soc) * pk->capacity_wh * MAX (pk->health, 0.01) + 1.0,
                        ft_sim_engine_now (e));
  w->k.packs_charged++;
  dp->charging--;
  g_array_append_val (dp->charged, p);
  depot_start_charging (w, d);
}

static guint
van_count_charged (FtSimWorld *w, Staff *s)
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
              sim_error (w, "unload pack", e);
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
          sim_error (w, "load pack", e);
          g_clear_error (&e);
          continue;
        }
      g_array_append_val (s->van_packs, p);
    }
}

/* ------------------------------------------------------------ staff */

static void on_staff_event (FtSimEngine *e, gpointer data, guint64 arg);

enum { SEV_SHIFT_START = 0, SEV_ARRIVE, SEV_SERVICE_DONE, SEV_POLL };

static void
staff_schedule (FtSimWorld *w, Staff *s, FtTime t, guint what)
{
  if (s->pending)
    ft_sim_engine_cancel (w->engine, s->pending);
  s->pending = ft_sim_engine_schedule (w->engine, t, PRIO_STAFF, on_staff_event, w,
                                       ((guint64) what << 32) | s->index);
}

static void
staff_travel (FtSimWorld *w, Staff *s, FtLatLon to, FtTime now)
{
  double m = ft_distance_fast_m (s->pos, to) * w->sc->detour_factor;
  w->staff_m += m;
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
    sim_error (w, "unassign task", e);
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
    sim_error (w, "complete task", e);
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
    sim_error (w, "cancel task", e);
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
      staff_next (w, s);
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
            staff_next (w, s);
            return;
          }
        if (!ft_ops_start (w->ops, s->task, s->account, now, &e))
          sim_error (w, "start swap", e);
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
              staff_next (w, s);
              return;
            }
          if (!ft_ops_start (w->ops, s->task, s->account, now, &e))
            sim_error (w, "start rebalance", e);
          if (apply_vev (w, v, FT_VEV_REBALANCE_PICK_UP, now))
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
            staff_next (w, s);
            return;
          }
        if (!ft_ops_start (w->ops, s->task, s->account, now, &e))
          sim_error (w, "start collect", e);
        s->activity = FT_SIM_STAFF_SERVICE;
        staff_schedule (w, s, now + (FtTime) (w->sc->collect_service_min * FT_MINUTE), SEV_SERVICE_DONE);
        return;
      }
    case FT_TASK_DEPLOY:
    default:
      if (!ft_ops_start (w->ops, s->task, s->account, now, &e))
        sim_error (w, "start task", e);
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
            sim_error (w, "swap pack", e);
            task_release (w, s, now);
            break;
          }
        g_array_index (s->van_packs, guint, i) = old;
        w->k.battery_swaps++;
        VehSim *vs = &w->veh[v];
        gboolean was_low = (vs->flags & VF_LOW) != 0;
        low_resolved (w, v, now);
        veh = ft_fleet_get_vehicle (f, v);
        if (was_low && !(vs->flags & VF_FAULT) && veh->state == FT_STATE_NON_OPERATIONAL)
          apply_vev (w, v, FT_VEV_BATTERY_CHARGED, now);
        task_done (w, s, now);
        break;
      }
    case FT_TASK_REBALANCE:
      if (s->carrying >= 0)
        {
          ft_fleet_set_position (f, v, t->target, 0, now, TRUE);
          apply_vev (w, v, FT_VEV_PROVIDER_DROP_OFF, now);
          w->veh[v].flags &= ~VF_IN_VAN;
          w->veh[v].zone = ft_city_zone_at (w->city, t->target);
          s->carrying = -1;
          w->k.rebalances++;
        }
      task_done (w, s, now);
      break;
    case FT_TASK_COLLECT_REPAIR:
      if (apply_vev (w, v, FT_VEV_MAINTENANCE_PICK_UP, now))
        {
          w->veh[v].flags |= VF_IN_VAN;
          w->k.collections++;
          /* the van drops it at its depot's workshop; back after repair */
          ft_sim_engine_schedule (w->engine, now + (FtTime) (w->sc->repair_hours * FT_HOUR), PRIO_SYSTEM,
                                  on_repaired, w, ((guint64) s->depot << 32) | v);
        }
      task_done (w, s, now);
      break;
    case FT_TASK_DEPLOY:
    default:
      task_done (w, s, now);
      break;
    }
  staff_next (w, s);
}

static void
on_repaired (FtSimEngine *e, gpointer data, guint64 arg)
{
  FtSimWorld *w = data;
  guint v = (guint) (arg & 0xffffffffu), d = (guint) (arg >> 32);
  FtTime now = ft_sim_engine_now (e);
  FtFleet *f = w->core->fleet;
  VehSim *vs = &w->veh[v];
  ft_fleet_set_faults (f, v, 0);
  const FtVehicle *veh = ft_fleet_get_vehicle (f, v);
  if (veh->pack >= 0)
    {
      const FtPack *pk = ft_fleet_get_pack (f, (guint) veh->pack);
      ft_fleet_charge_pack (f, (guint) veh->pack, (1.0 - pk->soc) * pk->capacity_wh * MAX (pk->health, 0.01) + 1.0, now);
    }
  low_resolved (w, v, now);
  /* out on the street next to the depot */
  FtLatLon p = ft_latlon_offset (w->depots[d].pos, (double) (v % 7) * 8.0, (double) (v % 5) * 8.0);
  ft_fleet_set_position (f, v, p, 0, now, TRUE);
  apply_vev (w, v, FT_VEV_PROVIDER_DROP_OFF, now);
  ft_fleet_add_wear (f, v, -veh->wear * 0.5);
  vs->flags &= ~(VF_FAULT | VF_IN_VAN);
  vs->zone = ft_city_zone_at (w->city, p);
  w->fault_ms += (double) (now - vs->fault_since);
}

static void
staff_next (FtSimWorld *w, Staff *s)
{
  FtTime now = ft_sim_engine_now (w->engine);
  s->activity = FT_SIM_STAFF_IDLE;
  if (!s->on_shift)
    return;
  double home_m = ft_distance_fast_m (s->pos, w->depots[s->depot].pos) * w->sc->detour_factor;
  FtTime home_t = (FtTime) (home_m / (w->sc->van_speed_kph / 3.6) * 1000.0) + FT_MINUTE;
  if (now + home_t + 15 * FT_MINUTE >= s->shift_end)
    {
      s->going_home = TRUE;
      staff_go_depot (w, s, now);
      return;
    }
  guint charged = van_count_charged (w, s);
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
  mask |= 1u << FT_TASK_DEPLOY;
  if (w->sc->battery_swaps && charged == 0 && w->depots[s->depot].charged->len > 0)
    {
      staff_go_depot (w, s, now);
      return;
    }
  /* Highest priority, then nearest. With a large backlog (big fleets) a
   * global scan per pick gets expensive and the best work is local anyway:
   * then look within 750 m first. */
  gint64 id = ft_ops_count_state (w->ops, FT_TASK_OPEN) > 256
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
      sim_error (w, "assign task", e);
      staff_schedule (w, s, now + 10 * FT_MINUTE, SEV_POLL);
      return;
    }
  s->task = id;
  s->phase = 0;
  const FtTask *t = ft_ops_get (w->ops, id);
  FtLatLon to = t->vehicle >= 0 ? ft_fleet_get_vehicle (w->core->fleet, (guint) t->vehicle)->pos : t->target;
  staff_travel (w, s, to, now);
}

static void
on_staff_event (FtSimEngine *e, gpointer data, guint64 arg)
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
          s->pending = 0, ft_sim_engine_schedule (e, next, PRIO_STAFF, on_staff_event, w,
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
        staff_next (w, s);
      return;
    }
}

/* ------------------------------------------------------------ rules */

static void
on_rebalance_rule (FtSimEngine *e, gpointer data, guint64 arg)
{
  FtSimWorld *w = data;
  FtTime now = ft_sim_engine_now (e);
  FtTime next = now + (FtTime) (w->sc->rebalance_interval_min * FT_MINUTE);
  if (next < w->end)
    ft_sim_engine_schedule (e, next, PRIO_SYSTEM, on_rebalance_rule, w, 0);
  if (!w->sc->rebalancing || w->n_rebalance_open >= w->sc->rebalance_max_open)
    return;
  guint nz = w->nz;
  g_autofree guint *avail = g_new0 (guint, nz);
  g_autofree double *want = g_new0 (double, nz);
  g_autoptr (GPtrArray) by_zone = g_ptr_array_new_with_free_func ((GDestroyNotify) g_array_unref);
  for (guint z = 0; z < nz; z++)
    g_ptr_array_add (by_zone, g_array_new (FALSE, FALSE, sizeof (guint)));
  const FtVehicle *vs = ft_fleet_vehicles (w->core->fleet);
  guint total = 0;
  for (guint v = 0; v < w->nv; v++)
    if (vs[v].state == FT_STATE_AVAILABLE && !(w->veh[v].flags & (VF_RESERVED | VF_TRIP))
        && w->veh[v].zone >= 0 && ft_ops_open_for (w->ops, v, FT_TASK_REBALANCE) < 0)
      {
        avail[w->veh[v].zone]++;
        g_array_append_val (g_ptr_array_index (by_zone, w->veh[v].zone), v);
        total++;
      }
  guint h = hour_of_week (now);
  double dsum = 0;
  for (guint z = 0; z < nz; z++)
    {
      for (guint k = 0; k < 3; k++)
        want[z] += w->zone_w[((h + k) % 168) * nz + z];
      dsum += want[z];
    }
  if (dsum <= 0 || total == 0)
    return;
  for (guint z = 0; z < nz; z++)
    want[z] = want[z] / dsum * total;
  /* deficit zones in order of need; pull from the largest surplus */
  guint budget = w->sc->rebalance_max_open - w->n_rebalance_open;
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
      FtLatLon target = random_point_in_zone (w, (guint) dz, w->r_rebalance);
      for (int tries = 0; tries < 5 && !parking_ok (w, target, vs[v].kind); tries++)
        target = random_point_in_zone (w, (guint) dz, w->r_rebalance);
      make_task (w, FT_TASK_REBALANCE, v, target, dz, 3, now);
      avail[sz]--;
      avail[dz]++;
    }
}

static gint64 dispatch_apply (FtSimWorld *w, const Command *c, GError **error);

static void
on_minute (FtSimEngine *e, gpointer data, guint64 arg)
{
  FtSimWorld *w = data;
  FtTime now = ft_sim_engine_now (e);
  if (now + FT_MINUTE < w->end)
    ft_sim_engine_schedule (e, now + FT_MINUTE, PRIO_SYSTEM, on_minute, w, 0);
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
      vsync (w, v);
}

/* ------------------------------------------------------------ setup */

static FtPricing *
build_pricing (const FtSimScenario *sc, const FtCity *city)
{
  FtPricing *p = ft_pricing_new ();
  static const char *ids[3] = { "scooter-standard", "bike-standard", "moped-standard" };
  for (guint k = 0; k < 3; k++)
    {
      FtPricingPlan *plan = ft_pricing_plan_new_simple (ids[k], sc->currency, sc->unlock_minor,
                                                        sc->per_min_minor[k], sc->per_km_minor);
      plan->vehicle_kind_mask = 1u << k;
      g_autoptr (GError) e = NULL;
      if (!ft_pricing_add_plan (p, plan, &e))
        g_warning ("pricing plan %s: %s", ids[k], e->message);
      ft_pricing_plan_free (plan);
    }
  for (guint z = 0; z < city->n_zones; z++)
    if (city->zones[z].pricing_multiplier > 0 && fabs (city->zones[z].pricing_multiplier - 1.0) > 1e-9)
      ft_pricing_add_zone_multiplier (p, city->zones[z].id, city->zones[z].area,
                                      city->zones[z].pricing_multiplier);
  return p;
}

static gboolean
setup_demand (FtSimWorld *w, GError **error)
{
  const FtDemandProfile *d = &w->city->demand;
  w->nz = w->city->n_zones;
  if (d->n_zones != w->nz || d->rate == NULL || w->nz == 0)
    {
      g_set_error (error, FT_SIM_ERROR, FT_SIM_ERROR_CITY,
                   "city %s: demand profile has %u zones but the city %u", w->city->id,
                   d->n_zones, w->nz);
      return FALSE;
    }
  double per_day = ft_demand_profile_per_day (d);
  if (!(per_day > 0))
    {
      g_set_error (error, FT_SIM_ERROR, FT_SIM_ERROR_CITY, "city %s: the demand profile is empty", w->city->id);
      return FALSE;
    }
  double scale = w->sc->requests_per_day > 0 ? w->sc->requests_per_day / per_day
                 : w->sc->requests_per_vehicle_day > 0 ? w->sc->requests_per_vehicle_day * w->nv / per_day
                 : w->sc->demand_scale;
  scale *= d->weather_multiplier > 0 ? d->weather_multiplier : 1.0;
  w->hour_total = g_new0 (double, 168);
  w->zone_w = g_new0 (double, 168 * w->nz);
  for (guint h = 0; h < 168; h++)
    {
      for (guint z = 0; z < w->nz; z++)
        {
          double r = d->rate[z * 168 + h] * scale;
          w->zone_w[h * w->nz + z] = r;
          w->hour_total[h] += r;
        }
      w->lambda_max = MAX (w->lambda_max, w->hour_total[h]);
    }
  w->dest_sum = g_new0 (double, 4 * w->nz);
  for (guint b = 0; b < 4; b++)
    for (guint z = 0; z < w->nz; z++)
      for (guint t = 0; t < w->nz; t++)
        w->dest_sum[b * w->nz + z] += d->dest ? d->dest[((gsize) b * w->nz + z) * w->nz + t] : 0;
  w->zone_bbox = g_new (FtBBox, w->nz);
  for (guint z = 0; z < w->nz; z++)
    w->zone_bbox[z] = w->city->zones[z].area->bbox;
  return TRUE;
}

static gboolean
setup_fleet (FtSimWorld *w, GError **error)
{
  FtFleet *f = w->core->fleet;
  const FtSimScenario *sc = w->sc;
  FtBBox bb = w->city->bbox;
  ft_fleet_enable_index (f, bb, 50.0);   /* small cells: vehicles clump at hotspots */
  w->avail_ix = ft_grid_index_new (bb, 50.0);
  w->low_ix = ft_grid_index_new (bb, 100.0);
  ft_fleet_set_holders (f, MAX (w->n_staff, 1), w->n_depots);
  w->nv = ft_sim_scenario_n_vehicles (sc);
  w->veh = g_new0 (VehSim, w->nv);
  /* placement in proportion to a day's demand of each zone */
  g_autofree double *zday = g_new0 (double, w->nz);
  double zsum = 0;
  for (guint z = 0; z < w->nz; z++)
    {
      for (guint h = 0; h < 168; h++)
        zday[z] += w->city->demand.rate[z * 168 + h];
      zsum += zday[z];
    }
  guint counts[3] = { sc->scooters, sc->bikes, sc->mopeds };
  guint v = 0;
  for (guint k = 0; k < 3; k++)
    for (guint i = 0; i < counts[k]; i++, v++)
      {
        guint z = ft_sim_rng_discrete (w->r_init, zday, w->nz, zsum);
        FtLatLon p = random_point_in_zone (w, z, w->r_init);
        for (int tries = 0; tries < 8 && !parking_ok (w, p, k); tries++)
          p = random_point_in_zone (w, z, w->r_init);
        guint idx = ft_fleet_add_vehicle (f, (FtVehicleKind) k, p, NULL, 0);
        g_assert (idx == v);
        const FtVehicleType *vt = ft_vehicle_type_default ((FtVehicleKind) k);
        double soc = sc->initial_soc_min + gsl_rng_uniform (w->r_init) * (sc->initial_soc_max - sc->initial_soc_min);
        GError *pe = NULL;
        ft_fleet_add_pack (f, vt->pack_capacity_wh, soc, FT_PACK_IN_VEHICLE, (gint32) v, 0, &pe);
        if (pe != NULL)
          {
            g_propagate_error (error, pe);
            return FALSE;
          }
        w->veh[v].zone = ft_city_zone_at (w->city, p);
        w->veh[v].booking = -1;
        if (soc < vt->low_soc)
          {
            w->veh[v].flags |= VF_LOW;
            w->veh[v].low_since = 0;
            if (!ft_fleet_apply_event (f, v, FT_VEV_BATTERY_LOW, 0, error))
              return FALSE;
          }
        vsync (w, v);
      }
  /* spare packs at depots, of each kind in proportion to the fleet */
  guint spares = (guint) lround (sc->spare_packs_per_vehicle * w->nv);
  for (guint i = 0; i < spares; i++)
    {
      guint d = i % w->n_depots;
      guint k = counts[0] && (i % w->nv) < counts[0] ? 0 : ((i % w->nv) < counts[0] + counts[1] ? 1 : 2);
      const FtVehicleType *vt = ft_vehicle_type_default ((FtVehicleKind) k);
      GError *e = NULL;
      guint p = ft_fleet_add_pack (f, vt->pack_capacity_wh, 1.0, FT_PACK_AT_DEPOT, (gint32) d, 0, &e);
      if (e != NULL)
        {
          g_propagate_error (error, e);
          return FALSE;
        }
      g_array_append_val (w->depots[d].charged, p);
    }
  return TRUE;
}

static gboolean
setup_people (FtSimWorld *w, GError **error)
{
  FtAccounts *a = w->core->accounts;
  const FtSimScenario *sc = w->sc;
  w->dispatcher = -1;
  for (guint i = 0; i < sc->dispatchers; i++)
    {
      g_autofree char *name = g_strdup_printf ("Dispatcher %u", i + 1);
      gint id = ft_accounts_create (a, FT_ROLE_DISPATCHER, name, NULL, 0, error);
      if (id < 0)
        return FALSE;
      if (w->dispatcher < 0)
        w->dispatcher = id;
    }
  w->n_staff = sc->field_staff;
  w->staff = g_new0 (Staff, MAX (w->n_staff, 1));
  for (guint i = 0; i < w->n_staff; i++)
    {
      Staff *s = &w->staff[i];
      g_autofree char *name = g_strdup_printf ("Field staff %u", i + 1);
      gint id = ft_accounts_create (a, FT_ROLE_FIELD, name, NULL, 0, error);
      if (id < 0)
        return FALSE;
      s->index = i;
      s->account = (guint) id;
      s->van = i;
      s->depot = i % w->n_depots;
      s->shift_start_h = sc->shift_starts_h[i % sc->n_shift_starts];
      s->task = -1;
      s->carrying = -1;
      s->pos = w->depots[s->depot].pos;
      s->from = s->target = s->pos;
      s->queue = g_array_new (FALSE, FALSE, sizeof (gint64));
      s->van_packs = g_array_new (FALSE, FALSE, sizeof (guint));
      s->activity = FT_SIM_STAFF_OFF;
    }
  w->n_riders = sc->riders ? sc->riders : MAX (200u, w->nv * 2);
  w->riders = g_new (guint, w->n_riders);
  for (guint i = 0; i < w->n_riders; i++)
    {
      gint id = ft_accounts_create (a, FT_ROLE_RIDER, "Rider", NULL, 0, error);
      if (id < 0)
        return FALSE;
      w->riders[i] = (guint) id;
    }
  return TRUE;
}

/* The [city] recipe of a scenario: an OSM extract with demand moved from
 * trips (cached by ft_city_from_recipe), or a bare city over the trips
 * with their demand fitted. Errors name the scenario and the key. */
static FtCity *
city_from_scenario (const FtSimScenario *sc, GError **error)
{
  const char *where = sc->path ? sc->path : "scenario";
  g_autofree char *osm = sc->city_osm ? ft_sim_scenario_resolve_path (sc, sc->city_osm) : NULL;
  g_autofree char *trips = sc->city_trips ? ft_sim_scenario_resolve_path (sc, sc->city_trips) : NULL;
  const char *key = osm ? "osm" : "trips";
  const char *file = osm ? osm : trips;
  g_autofree char *base = g_path_get_basename (file);
  char *dot = strchr (base, '.');
  if (dot && dot != base)
    *dot = '\0';
  const char *name = sc->city_name ? sc->city_name : base;
  g_autoptr (GError) e = NULL;
  FtCity *c = NULL;

  if (osm && !g_file_test (osm, G_FILE_TEST_EXISTS))
    g_set_error (&e, FT_SIM_ERROR, FT_SIM_ERROR_CITY, "%s does not exist", osm);
  else if (trips && !g_file_test (trips, G_FILE_TEST_EXISTS))
    {
      key = "trips";
      g_set_error (&e, FT_SIM_ERROR, FT_SIM_ERROR_CITY, "%s does not exist", trips);
    }
  else if (osm)
    {
      FtCityRecipe r = { .osm_path = osm, .name = name, .trips_path = trips,
                         .requests_per_day = sc->city_requests_per_day };
      c = ft_city_from_recipe (&r, NULL, NULL, &e);
    }
  else
    {
      g_autoptr (FtTripSet) set = ft_trips_load (trips, &e);
      if (set)
        {
          c = ft_city_from_trips (set, name, sc->city_hex_m, &e);
          if (c && !ft_demand_fit (c, set, NULL, &e))
            g_clear_pointer (&c, ft_city_free);
        }
    }
  if (c == NULL)
    g_set_error (error, FT_SIM_ERROR, FT_SIM_ERROR_CITY, "%s: [city] %s: %s", where, key,
                 e ? e->message : "no city");
  return c;
}

/* The demand trace to replay: the options' (copied) or the scenario's
 * [demand] trace file. Requests must be in time order from t = 0. */
static gboolean
setup_trace (FtSimWorld *w, const FtSimWorldOptions *opt, GError **error)
{
  const char *where = w->sc->path ? w->sc->path : "scenario";
  if (opt && opt->trace)
    {
      w->trace = g_memdup2 (opt->trace, sizeof (FtDemandRequest) * opt->n_trace);
      w->n_trace = opt->n_trace;
      w->has_trace = TRUE;
    }
  else if (w->sc->trace)
    {
      g_autofree char *path = ft_sim_scenario_resolve_path (w->sc, w->sc->trace);
      g_autoptr (GError) e = NULL;
      if (g_str_has_suffix (path, ".csv") || g_str_has_suffix (path, ".json"))
        {
          /* trip data (Citi Bike CSV, MDS trips JSON): each trip's start */
          g_autoptr (FtTripSet) set = ft_trips_load (path, &e);
          if (set)
            w->trace = ft_trips_to_trace (set, &w->n_trace);
        }
      else
        w->trace = ft_trace_load (path, &w->n_trace, &e);
      if (w->trace == NULL && e != NULL)
        {
          g_set_error (error, FT_SIM_ERROR, FT_SIM_ERROR_SCENARIO, "%s: [demand] trace: %s",
                       where, e->message);
          return FALSE;
        }
      w->has_trace = TRUE;
    }
  for (guint i = 0; i < w->n_trace; i++)
    {
      const FtDemandRequest *q = &w->trace[i];
      if (q->t < 0 || (i > 0 && q->t < w->trace[i - 1].t))
        {
          g_set_error (error, FT_SIM_ERROR, FT_SIM_ERROR_SETUP,
                       "%s: demand trace request %u is at %" G_GINT64_FORMAT " ms, %s",
                       where, i + 1, q->t,
                       q->t < 0 ? "before the start of the run" : "earlier than the request before it");
          return FALSE;
        }
      if (!(fabs (q->from.lat) <= 90 && fabs (q->from.lon) <= 180
            && fabs (q->to.lat) <= 90 && fabs (q->to.lon) <= 180))
        {
          g_set_error (error, FT_SIM_ERROR, FT_SIM_ERROR_SETUP,
                       "%s: demand trace request %u has a point outside the globe", where, i + 1);
          return FALSE;
        }
    }
  return TRUE;
}

void
ft_sim_world_set_request_hook (FtSimWorld *w, FtSimRequestFunc fn, gpointer user_data)
{
  g_return_if_fail (w != NULL);
  w->request_fn = fn;
  w->request_data = user_data;
}

guint
ft_sim_world_n_trace (FtSimWorld *w)
{
  g_return_val_if_fail (w != NULL, 0);
  return w->has_trace ? w->n_trace : 0;
}

FtSimWorld *
ft_sim_world_new (const FtSimScenario *sc, const FtCity *city, const FtSimWorldOptions *opt,
                  GError **error)
{
  g_return_val_if_fail (sc != NULL, NULL);
  g_autoptr (FtSimWorld) w = g_new0 (FtSimWorld, 1);
  w->sc = ft_sim_scenario_copy (sc);
  g_mutex_init (&w->cmd_lock);
  w->cmds = g_array_new (FALSE, FALSE, sizeof (Command));
  w->end = (FtTime) llround (sc->days * FT_DAY);
  gsl_set_error_handler_off ();

  if (city != NULL)
    w->city = city;
  else if (sc->city_osm || sc->city_trips)
    {
      w->city = w->city_owned = city_from_scenario (sc, error);
      if (w->city == NULL)
        return NULL;
    }
  else if (sc->city == NULL || g_strcmp0 (sc->city, "demo") == 0)
    w->city = w->city_owned = ft_city_new_demo ();
  else
    {
      g_autofree char *dir = NULL;
      if (g_path_is_absolute (sc->city) || sc->path == NULL)
        dir = g_strdup (sc->city);
      else
        {
          g_autofree char *base = g_path_get_dirname (sc->path);
          dir = g_build_filename (base, sc->city, NULL);
        }
      g_autoptr (GError) e = NULL;
      w->city = w->city_owned = ft_city_load (dir, &e);
      if (w->city == NULL)
        {
          g_set_error (error, FT_SIM_ERROR, FT_SIM_ERROR_CITY, "%s: [scenario] city: %s",
                       sc->path ? sc->path : "scenario", e->message);
          return NULL;
        }
    }
  if (w->city == NULL)
    {
      g_set_error (error, FT_SIM_ERROR, FT_SIM_ERROR_CITY, "the embedded Demo City could not be built");
      return NULL;
    }
  if (w->city->n_depots == 0)
    {
      g_set_error (error, FT_SIM_ERROR, FT_SIM_ERROR_CITY, "city %s has no depots", w->city->id);
      return NULL;
    }
  if (sc->routing == FT_SIM_ROUTING_STREET && w->city->graph.n_nodes > 0)
    w->router = ft_router_new (w->city);

  w->rng = ft_sim_rng_new (sc->seed, sc->replication);
  w->r_arrival = ft_sim_rng_stream (w->rng, "demand.arrivals");
  w->r_place = ft_sim_rng_stream (w->rng, "demand.places");
  w->r_price = ft_sim_rng_stream (w->rng, "riders.price");
  w->r_fault = ft_sim_rng_stream (w->rng, "vehicles.faults");
  w->r_init = ft_sim_rng_stream (w->rng, "fleet.initial");
  w->r_rebalance = ft_sim_rng_stream (w->rng, "ops.rebalance");
  w->nv = ft_sim_scenario_n_vehicles (sc);

  FtCoreConfig cfg;
  ft_core_config_init (&cfg);
  memcpy (cfg.currency, sc->currency, 4);
  cfg.seed = ft_sim_rng_derive_seed (sc->seed, "core.ids", sc->replication);
  cfg.booking.seed = ft_sim_rng_derive_seed (sc->seed, "booking.ids", sc->replication);
  cfg.booking.max_find_radius_m = sc->max_walk_m;
  FtGeofences *gf = w->city->geofences && sc->geofence_parking ? ft_geofences_ref_copy (w->city->geofences) : NULL;
  w->core = ft_core_new (&cfg, gf, build_pricing (sc, w->city));
  if (opt && opt->store_path)
    {
      /* A run writes a new file; it never replaces or carries on an existing
       * one (the caller writes beside its target and moves the file into
       * place when the run is complete: see ft_output_begin). */
      GStatBuf st;
      if (g_lstat (opt->store_path, &st) == 0 && (!S_ISREG (st.st_mode) || st.st_size > 0))
        {
          g_set_error (error, FT_SIM_ERROR, FT_SIM_ERROR_SETUP,
                       "%s already exists: a run writes a new database file", opt->store_path);
          return NULL;
        }
      FtStoreConfig scfg;
      ft_store_config_init (&scfg);
      scfg.max_batch_events = 200000;
      if (!ft_core_attach_store (w->core, opt->store_path, &scfg, error))
        return NULL;
    }
  else
    ft_event_log_set_retain (w->core->log, FALSE);
  w->ops = w->core->ops;   /* the core's queue: the store persists it */
  ft_ops_enable_index (w->ops, w->city->bbox, 200.0);

  w->n_depots = w->city->n_depots;
  w->depots = g_new0 (Depot, w->n_depots);
  for (guint d = 0; d < w->n_depots; d++)
    {
      w->depots[d].pos = w->city->depots[d].pos;
      w->depots[d].chargers = sc->chargers_per_depot ? sc->chargers_per_depot
                              : MAX (w->city->depots[d].chargers, 1u);
      g_queue_init (&w->depots[d].waiting);
      w->depots[d].charged = g_array_new (FALSE, FALSE, sizeof (guint));
    }
  if (!setup_demand (w, error) || !setup_people (w, error) || !setup_fleet (w, error))
    return NULL;
  w->lost_cap = opt && opt->lost_ring ? opt->lost_ring : 2000;
  w->lost = g_new0 (FtSimLostPoint, w->lost_cap);
  w->price_fn = default_price_response;
  w->price_data = w;
  memcpy (w->k.currency, sc->currency, 4);

  w->engine = ft_sim_engine_new (0);
  if (!setup_trace (w, opt, error))
    return NULL;
  if (w->has_trace)
    {
      if (w->n_trace > 0 && w->trace[0].t < w->end)
        ft_sim_engine_schedule (w->engine, w->trace[0].t, PRIO_ARRIVAL, on_trace_request, w, 0);
    }
  else
    ft_sim_engine_schedule (w->engine, 0, PRIO_ARRIVAL, on_arrival, w, 0);
  ft_sim_engine_schedule (w->engine, 0, PRIO_SYSTEM, on_minute, w, 0);
  if (sc->rebalancing)
    ft_sim_engine_schedule (w->engine, 30 * FT_MINUTE, PRIO_SYSTEM, on_rebalance_rule, w, 0);
  for (guint i = 0; i < w->n_staff; i++)
    {
      FtTime t = (FtTime) (w->staff[i].shift_start_h * FT_HOUR);
      if (t < w->end)
        ft_sim_engine_schedule (w->engine, t, PRIO_STAFF, on_staff_event, w,
                                ((guint64) SEV_SHIFT_START << 32) | i);
    }
  if (w->core->store)
    {
      g_autoptr (GError) e = NULL;
      if (!ft_core_commit (w->core, error))
        return NULL;
    }
  return g_steal_pointer (&w);
}

void
ft_sim_world_free (FtSimWorld *w)
{
  if (w == NULL)
    return;
  ft_sim_engine_free (w->engine);
  ft_core_free (w->core);
  ft_router_free (w->router);
  if (w->city_owned)
    ft_city_free (w->city_owned);
  ft_sim_rng_free (w->rng);
  ft_grid_index_free (w->avail_ix);
  ft_grid_index_free (w->low_ix);
  g_free (w->trace);
  for (guint i = 0; w->staff && i < w->n_staff; i++)
    {
      if (w->staff[i].queue)
        g_array_unref (w->staff[i].queue);
      if (w->staff[i].van_packs)
        g_array_unref (w->staff[i].van_packs);
    }
  g_free (w->staff);
  for (guint d = 0; w->depots && d < w->n_depots; d++)
    {
      g_queue_clear (&w->depots[d].waiting);
      g_array_unref (w->depots[d].charged);
    }
  g_free (w->depots);
  g_free (w->veh);
  g_free (w->riders);
  g_free (w->hour_total);
  g_free (w->zone_w);
  g_free (w->dest_sum);
  g_free (w->zone_bbox);
  g_free (w->lost);
  if (w->cmds)
    g_array_unref (w->cmds);
  g_mutex_clear (&w->cmd_lock);
  ft_sim_scenario_free (w->sc);
  g_free (w);
}

/* ------------------------------------------------------------ running */

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
          if (!ft_core_commit (w->core, error))
            return FALSE;
          w->last_commit = ft_sim_engine_now (w->engine);
        }
    }
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
          if (!ft_core_commit (w->core, error))
            return FALSE;
          w->last_commit = ft_sim_engine_now (w->engine);
        }
    }
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

void
ft_sim_world_kpis (FtSimWorld *w, FtSimKpis *out)
{
  g_return_if_fail (w != NULL && out != NULL);
  FtTime now = ft_sim_world_now (w);
  FtSimKpis k = w->k;
  k.sim_time = now;
  k.days = (double) now / FT_DAY;
  k.n_vehicles = w->nv;
  double vdays = MAX (k.days, 1e-9) * w->nv;
  double low_ms = w->low_ms, fault_ms = w->fault_ms, staff_ms = w->staff_ms;
  for (guint v = 0; v < w->nv; v++)
    {
      if (w->veh[v].flags & VF_LOW)
        low_ms += (double) (now - w->veh[v].low_since);
      if (w->veh[v].flags & VF_FAULT)
        fault_ms += (double) (now - w->veh[v].fault_since);
    }
  for (guint i = 0; i < w->n_staff; i++)
    if (w->staff[i].on_shift)
      staff_ms += (double) (now - w->staff[i].shift_t0);
  k.trips_per_vehicle_day = now > 0 ? (double) k.trips_served / vdays : 0;
  k.utilisation = now > 0 ? w->ride_ms / ((double) now * w->nv) : 0;
  k.revenue_minor = ft_ledger_total (w->core->ledger, FT_LACC_REVENUE);
  k.revenue_per_vehicle_day_minor = now > 0 ? (gint64) llround ((double) k.revenue_minor / vdays) : 0;
  k.mean_walk_m = k.trips_served ? w->walk_sum_m / k.trips_served : 0;
  k.mean_trip_km = k.trips_completed ? w->trip_sum_m / k.trips_completed / 1000.0 : 0;
  k.battery_unavailable_hours = low_ms / FT_HOUR;
  k.battery_unavailable_share = now > 0 ? low_ms / ((double) now * w->nv) : 0;
  k.staff_hours = staff_ms / FT_HOUR;
  k.staff_km = w->staff_m / 1000.0;
  k.fault_downtime_hours = fault_ms / FT_HOUR;
  k.domain_events = 0;
  for (guint e = 1; e < FT_EV_N_KINDS; e++)
    k.domain_events += ft_event_log_count (w->core->log, (FtEventKind) e);
  k.engine_events = ft_sim_engine_n_processed (w->engine);
  k.ledger_balanced = ft_ledger_check (w->core->ledger, NULL);
  *out = k;
}

static void
json_num (GString *s, const char *key, double v, const char *fmt, gboolean comma)
{
  char buf[G_ASCII_DTOSTR_BUF_SIZE];
  g_string_append_printf (s, "  \"%s\": %s%s\n", key, g_ascii_formatd (buf, sizeof buf, fmt, v), comma ? "," : "");
}

static void
json_int (GString *s, const char *key, gint64 v, gboolean comma)
{
  g_string_append_printf (s, "  \"%s\": %" G_GINT64_FORMAT "%s\n", key, v, comma ? "," : "");
}

char *
ft_sim_kpis_to_json (const FtSimKpis *k, const FtSimScenario *sc)
{
  g_return_val_if_fail (k != NULL, NULL);
  GString *s = g_string_new ("{\n");
  if (sc)
    {
      g_autofree char *esc = g_strescape (sc->name ? sc->name : "", NULL);
      g_string_append_printf (s, "  \"scenario\": \"%s\",\n", esc);
      g_string_append_printf (s, "  \"seed\": %" G_GUINT64_FORMAT ",\n", sc->seed);
    }
  json_num (s, "days", k->days, "%.4f", TRUE);
  json_int (s, "vehicles", k->n_vehicles, TRUE);
  json_int (s, "trips_requested", (gint64) k->trips_requested, TRUE);
  json_int (s, "trips_served", (gint64) k->trips_served, TRUE);
  json_int (s, "trips_completed", (gint64) k->trips_completed, TRUE);
  json_int (s, "trips_lost", (gint64) k->trips_lost, TRUE);
  g_string_append (s, "  \"trips_lost_by_reason\": {");
  for (guint r = 0; r < FT_SIM_N_LOST; r++)
    g_string_append_printf (s, "%s\"%s\": %" G_GUINT64_FORMAT, r ? ", " : " ", lost_names[r], k->lost[r]);
  g_string_append (s, " },\n");
  for (guint r = 0; r < FT_SIM_N_LOST; r++)
    {
      g_autofree char *key = g_strdup_printf ("lost_%s", lost_names[r]);
      json_int (s, key, (gint64) k->lost[r], TRUE);
    }
  json_num (s, "trips_per_vehicle_day", k->trips_per_vehicle_day, "%.4f", TRUE);
  json_num (s, "utilisation", k->utilisation, "%.5f", TRUE);
  json_int (s, "revenue_minor", k->revenue_minor, TRUE);
  g_string_append_printf (s, "  \"currency\": \"%s\",\n", k->currency);
  json_int (s, "revenue_per_vehicle_day_minor", k->revenue_per_vehicle_day_minor, TRUE);
  json_num (s, "mean_walk_m", k->mean_walk_m, "%.2f", TRUE);
  json_num (s, "mean_trip_km", k->mean_trip_km, "%.4f", TRUE);
  json_num (s, "battery_unavailable_hours", k->battery_unavailable_hours, "%.3f", TRUE);
  json_num (s, "battery_unavailable_share", k->battery_unavailable_share, "%.5f", TRUE);
  json_int (s, "battery_swaps", (gint64) k->battery_swaps, TRUE);
  json_int (s, "rebalances", (gint64) k->rebalances, TRUE);
  json_int (s, "collections", (gint64) k->collections, TRUE);
  json_int (s, "faults", (gint64) k->faults, TRUE);
  json_int (s, "end_refusals", (gint64) k->end_refusals, TRUE);
  json_num (s, "staff_hours", k->staff_hours, "%.3f", TRUE);
  json_num (s, "staff_km", k->staff_km, "%.3f", TRUE);
  json_num (s, "fault_downtime_hours", k->fault_downtime_hours, "%.3f", TRUE);
  json_int (s, "packs_charged", (gint64) k->packs_charged, TRUE);
  json_int (s, "tasks_created", (gint64) k->tasks_created, TRUE);
  json_int (s, "tasks_done", (gint64) k->tasks_done, TRUE);
  json_int (s, "domain_events", (gint64) k->domain_events, TRUE);
  json_int (s, "engine_events", (gint64) k->engine_events, TRUE);
  g_string_append_printf (s, "  \"ledger_balanced\": %s\n}", k->ledger_balanced ? "true" : "false");
  return g_string_free (s, FALSE);
}

gboolean
ft_sim_world_finish (FtSimWorld *w, GError **error)
{
  g_return_val_if_fail (w != NULL, FALSE);
  if (w->core->store == NULL)
    return TRUE;
  if (!ft_core_commit (w->core, error))
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
      o->packs_charged = van_count_charged (w, st);
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
        staff_next (w, s);
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
  w->price_fn = fn ? fn : default_price_response;
  w->price_data = fn ? user_data : w;
}

FtCore *ft_sim_world_get_core (FtSimWorld *w) { return w->core; }
FtOps *ft_sim_world_get_ops (FtSimWorld *w) { return w->ops; }
const FtCity *ft_sim_world_get_city (FtSimWorld *w) { return w->city; }
FtSimEngine *ft_sim_world_get_engine (FtSimWorld *w) { return w->engine; }
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
      if ((vs[v].state == FT_STATE_AVAILABLE) != ft_grid_index_has (w->avail_ix, v)
          || ((x->flags & VF_LOW) != 0) != ft_grid_index_has (w->low_ix, v))
        {
          g_set_error (error, FT_SIM_ERROR, FT_SIM_ERROR_INVALID,
                       "%s (%s): the world's vehicle indexes disagree with the fleet",
                       vs[v].name, ft_vehicle_state_name (vs[v].state));
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
