/* ft-sim-world-private.h — what the files of FtSimWorld share: the world's
 * struct and its per-vehicle, staff and depot records, event priorities,
 * and the helpers and event handlers one file defines and another uses.
 * ft-sim-world.c holds the helpers, the periodic rules, running,
 * snapshots and dispatch; ft-sim-world-riders.c rider arrivals and trips;
 * ft-sim-world-staff.c depots, packs and field staff; ft-sim-world-setup.c
 * building a world from a scenario; ft-sim-world-kpis.c the KPIs.
 */
#pragma once

#include "ft-sim-world.h"
#include "ft-region.h"
#include "ft-demand-fit.h"
#include "ft-gbfs.h"
#include "ft-registry-shadow.h"
#include "ft-assist.h"
#include "ft-maint.h"

#include <errno.h>
#include <glib/gstdio.h>
#include <math.h>
#include <string.h>

G_BEGIN_DECLS

/* event priorities: lower runs first at equal times */
enum { PRIO_SYSTEM = -10, PRIO_STAFF = 0, PRIO_TRIP = 5, PRIO_ARRIVAL = 10 };

/* what a staff member's next event is (ft-sim-world-staff.c) */
enum { SEV_SHIFT_START = 0, SEV_ARRIVE, SEV_SERVICE_DONE, SEV_POLL };

enum { VF_LOW = FT_SIM_VFLAG_LOW, VF_FAULT = FT_SIM_VFLAG_FAULT, VF_IN_VAN = FT_SIM_VFLAG_IN_VAN,
       VF_TRIP = 8, VF_RESERVED = 16,
       VF_ALERT = 32,        /* a maintenance alert: an inspection task is open */
       VF_SUSPENDED = 64,    /* taken out of service by the alert until inspected */
       VF_DEFECT = 128 };    /* a defect develops: warnings, then the fault */

typedef struct {
  guint8   flags;
  gint32   zone;
  FtTime   low_since, fault_since;
  guint8   damage;         /* 0 none, else the kind as src/inspect names it
                              (1 scratch, 2 broken, 3 missing, 4 knocked over) */
  float    defect_left_km; /* VF_DEFECT: km ridden before the defect faults */
  /* current reservation / trip */
  gint64   booking;
  guint32  rider;
  FtTime   t0, t1;
  FtLatLon from, to;
  double   trip_m;
  double   drained_m;
  double   walk_m;
  /* relocation offers the rider was shown when booking (fixed then) */
  gboolean start_shown, end_shown;
  /* field design: the arm and counted unit of the booking's request */
  gint8    field_arm;
  gint32   field_unit;
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
  FtTime   busy_until;     /* when that event is */
  GArray  *route;          /* [rules] van_routes: planned task ids (gint64) after the current one */
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
  FtGbfsFeed    *gbfs;            /* [fleet] gbfs: the snapshot the fleet starts from, or NULL */
  FtRouter      *router;
  FtCore        *core;
  FtOps         *ops;
  FtSimEngine   *engine;
  FtSimRng      *rng;
  gsl_rng       *r_arrival, *r_place, *r_price, *r_fault, *r_init, *r_rebalance;
  gsl_rng       *r_damage;      /* vandalism and wear damage, the simulated photo check */
  gsl_rng       *r_defect;      /* fleet age, defects and their warning codes */
  /* rider levers (ft-sim-world-levers.c); streams NULL when both are off */
  gsl_rng       *r_elastic, *r_incentive;
  FtDynPolicy    dyn_policy;
  FtDynObjective dyn_objective;
  gint32         planner;         /* the account that sets prices and offers, or -1 */
  FtTime         end;
  guint          nv;
  VehSim        *veh;
  Staff         *staff; guint n_staff;
  Depot         *depots; guint n_depots;
  guint         *riders; guint n_riders; guint rider_next;
  gint32         dispatcher;
  /* the world's own index of vehicles flagged low, so lookups need not
   * wade through piles of the others (available ones: the fleet's index) */
  FtGridIndex   *low_ix;
  /* per available vehicle, the range booking would offer it for: its
   * range if it has no booking, a pack and at least its kind's low_soc,
   * else -INFINITY; set by ft_sim_world_vsync, so the rider's scan reads
   * one compact array instead of the fleet's vehicle and pack records */
  double        *rent_m;
  /* demand */
  guint          nz;
  double        *hour_total;      /* 168 */
  double        *zone_w;          /* 168 * nz, scaled */
  double        *hour_total_shift, *zone_w_shift;   /* from shift_t on (NULL: no shift) */
  FtTime         shift_t;
  double         lambda_max;      /* per hour */
  /* the hour of the week of the arrival candidates in [how_from, how_to)
   * (empty at first): most candidates fall in the hour of the one before */
  FtTime         how_from, how_to;
  guint          how_h;
  /* cos and sin of the 12 directions ft_sim_world_nearest_parking tries
   * (k pi / 6), worked out once with the same expressions */
  double         park_cos[12], park_sin[12];
  double        *dest_sum;        /* 4 * nz */
  /* running sums of zone_w's, zone_w_shift's and the city's dest rows
   * for the draws (ft_sim_rng_discrete_cum; NULL: the plain loop) */
  double        *zone_cum, *zone_cum_shift, *dest_cum;
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
  guint shadow_train_delay_ms;   /* FtSimWorldOptions (tests) */
  gboolean shadow_inline;        /* FtSimWorldOptions */
  guint shadow_consumer_delay_us;
  /* accounting */
  FtSimKpis      k;
  double         walk_sum_m, trip_sum_m;
  double         dyn_mult_sum;    /* dynamic multipliers charged, over completed trips */
  double         ride_ms;
  double         low_ms, fault_ms;
  double         staff_ms, staff_m;
  /* the cost model: energy put into packs, and the staff time and van
   * metres spent on battery swaps (swap tasks, depot trips and loading) */
  double         energy_wh;
  double         swap_staff_ms, swap_m;
  guint          n_rebalance_open;
  guint64        sim_errors;
  FtTime         last_commit;
  FtShadow      *shadow;          /* shadow-mode models, or NULL */
  FtAssist      *assist;          /* [support]: the riders' assistant, or NULL */
  /* Phase 3 operations (-ops.c) */
  double        *risk;            /* per vehicle: P(fault within the horizon), 0 before a model */
  FtTime        *inspected_at;    /* per vehicle: last inspection, 0 none */
  FtMaintLog    *maint_log;       /* [rules] inspect_risk > 0: the world's own log, or NULL */
  guint          maint_listener;
  FtTime         last_plan;       /* last route plan, -1 none */
  gboolean       plan_soon;       /* a route plan is scheduled for now ([rules] route_at_once) */
  guint         *ops_avail;       /* available vehicles per zone at ops_avail_t */
  FtTime         ops_avail_t;
  guint          ops_avail_total; /* their sum */
  double        *ops_inflow;      /* 168 * nz: expected trips ending per zone and hour (< 0: not yet) */
  double         ops_util;        /* forecast requests per available vehicle-hour, at ops_util_t */
  FtTime         ops_util_t;
  gsl_rng       *r_support;
  guint64        support_contacts, support_resolved, support_handoffs;  /* conversations */
  /* field design (-field.c), or field NULL */
  FtSimFieldSpec *field;
  FtSimScenario *field_sc[2];     /* control, treated: the levers each arm's units see */
  guint          field_n_units;
  guint8        *field_unit_arm;  /* per unit */
  double        *field_acc;       /* per unit: FIELD_N_COUNTS counts */
  double        *field_obs_ms;    /* switchback: counted time per slice */
  gint8          field_arm;       /* the request being handled: -1 none, 0 control, 1 treated */
  gint32         field_unit;      /* and its counted unit, or -1 */
  guint64        field_requests;  /* requests so far (a rider split's rotation) */
};

/* field design counts per unit */
enum { FIELD_REQUESTED, FIELD_SERVED, FIELD_LOST, FIELD_REVENUE, FIELD_N_COUNTS };
typedef enum { FIELD_LEVER_DYNAMIC, FIELD_LEVER_INCENTIVES } FieldLever;

/* ft-sim-world.c */
double ft_sim_world_cell_m (const FtSimWorld *w);
FtLatLon ft_sim_world_nearest_parking (FtSimWorld *w, FtLatLon p, guint kind, double *dist_out);
FtLatLon ft_sim_world_random_point_in_zone (FtSimWorld *w, guint z, gsl_rng *r);
double ft_sim_world_route_m (FtSimWorld *w, FtLatLon a, FtLatLon b);
double ft_sim_world_route_from_m (FtSimWorld *w, FtLatLon a, FtLatLon b, double d0);
gboolean ft_sim_world_apply_vev (FtSimWorld *w, guint v, FtVehicleEventType ev, FtTime now);
gboolean ft_sim_world_parking_ok (FtSimWorld *w, FtLatLon p, guint kind);
void ft_sim_world_lost_push (FtSimWorld *w, FtLatLon p, FtSimLostReason reason, FtTime now);
void ft_sim_world_low_resolved (FtSimWorld *w, guint v, FtTime now);
void ft_sim_world_make_task (FtSimWorld *w, FtTaskKind kind, guint v, FtLatLon target, gint32 zone, gint prio, FtTime now);
void ft_sim_world_on_minute (FtSimEngine *e, gpointer data, guint64 arg);
void ft_sim_world_on_rebalance_rule (FtSimEngine *e, gpointer data, guint64 arg);
void ft_sim_world_on_shadow (FtSimEngine *e, gpointer data, guint64 arg);
void ft_sim_world_sim_error (FtSimWorld *w, const char *what, const GError *e);
void ft_sim_world_vsync (FtSimWorld *w, guint v);

/* ft-sim-world-riders.c */
double ft_sim_world_default_price_response (const FtPriceBreakdown *q, const FtTripQuote *trip, gpointer data);
guint ft_sim_world_hour_of_week (FtTime t);
void ft_sim_world_on_arrival (FtSimEngine *e, gpointer data, guint64 arg);
void ft_sim_world_on_trace_request (FtSimEngine *e, gpointer data, guint64 arg);

/* ft-sim-world-levers.c */
gboolean ft_sim_world_setup_levers (FtSimWorld *w, GError **error);
double ft_sim_world_fleet_elasticity (FtSimWorld *w);
gboolean ft_sim_world_elastic_accepts (FtSimWorld *w, const FtPriceBreakdown *pb, guint kind);
guint ft_sim_world_pick_start (FtSimWorld *w, const FtFindResult *res, guint n, gboolean *shown);
FtLatLon ft_sim_world_pick_end (FtSimWorld *w, FtLatLon d, guint kind, gboolean *shown);
void ft_sim_world_reward_trip (FtSimWorld *w, gint64 booking, FtLatLon from, FtLatLon to,
                               gboolean start_shown, gboolean end_shown, FtTime now);

/* ft-sim-world-field.c */
gboolean ft_sim_world_setup_field (FtSimWorld *w, const FtSimFieldSpec *spec, GError **error);
void     ft_sim_world_free_field (FtSimWorld *w);
/* The arm and unit of the next request, at o and now. */
void     ft_sim_world_field_request (FtSimWorld *w, FtLatLon o, FtTime now);
void     ft_sim_world_field_count (FtSimWorld *w, gint32 unit, guint what, double amount);
/* Whether the request being handled sees lever (TRUE without a field design). */
gboolean ft_sim_world_field_lever (FtSimWorld *w, FieldLever lever);
const FtSimScenario *ft_sim_world_field_scenario (FtSimWorld *w);

/* ft-sim-world-support.c */
typedef enum { FT_SIM_PROBLEM_PARKING, FT_SIM_PROBLEM_UNLOCK, FT_SIM_PROBLEM_CHARGE } FtSimProblem;
gboolean ft_sim_world_setup_support (FtSimWorld *w, GError **error);
void     ft_sim_world_support_contact (FtSimWorld *w, guint rider, FtSimProblem problem, FtTime now);

/* ft-sim-world-ops.c */
gboolean ft_sim_world_setup_ops (FtSimWorld *w, GError **error);
void     ft_sim_world_free_ops (FtSimWorld *w);
gint64   ft_sim_world_pick_by_value (FtSimWorld *w, Staff *s, guint32 mask);
/* Revenue of a mean trip (major units) and P(zone z, with `vehicles`
 * there, runs short before `end`): the value model's terms for the
 * rebalancing LP (-ops.c). */
double   ft_sim_world_trip_revenue  (FtSimWorld *w, FtVehicleKind kind);
double   ft_sim_world_zone_short    (FtSimWorld *w, guint z, double vehicles, FtTime now, FtTime end);
void     ft_sim_world_plan_routes (FtSimWorld *w, FtTime now);
void     ft_sim_world_route_soon (FtSimWorld *w, FtTime now);
void     ft_sim_world_route_release (FtSimWorld *w, Staff *s, FtTime now);
void     ft_sim_world_inspected (FtSimWorld *w, guint v, FtTime now);
void     ft_sim_world_alert_clear (FtSimWorld *w, guint v, FtTime now);

/* ft-sim-world-staff.c */
guint ft_sim_world_van_count_charged (FtSimWorld *w, Staff *s);
void ft_sim_world_on_staff_event (FtSimEngine *e, gpointer data, guint64 arg);
void ft_sim_world_staff_next (FtSimWorld *w, Staff *s);

G_END_DECLS
