/* ft-sim-world.h — the simulated world: riders, vehicles, batteries, field
 * staff and depots around one FtCore, driven by the discrete-event engine.
 *
 * It plays the outside world and calls the real modules (booking, payments,
 * fleet, ops) as the outside world would. One thread owns a world (the twin
 * thread): create it, call ft_sim_world_run_until() in slices, take
 * snapshots between slices and hand them to the UI (they are plain copies).
 * Dispatcher commands from other threads go through
 * ft_sim_world_post_dispatch(), which is thread-safe and applied by the
 * world at its next minute tick.
 *
 * Time 0 is Monday 00:00 of the simulated week.
 */
#pragma once

#include "ft-core.h"
#include "ft-city.h"
#include "ft-ops.h"
#include "ft-sim-engine.h"
#include "ft-sim-rng.h"
#include "ft-sim-scenario.h"
#include "ft-sim-field.h"
#include "ft-demand-fit.h"
#include "ft-region.h"

G_BEGIN_DECLS

typedef enum {
  FT_SIM_LOST_NO_VEHICLE = 0,   /* nothing available within walking distance */
  FT_SIM_LOST_LOW_BATTERY,      /* vehicles near, but none with enough range */
  FT_SIM_LOST_PRICE,            /* the quoted price put the rider off */
  FT_SIM_LOST_REFUSED,          /* booking refused it (payment declined, debt, no free rider account) */
  FT_SIM_N_LOST
} FtSimLostReason;

const char *ft_sim_lost_reason_name (FtSimLostReason r);

/* KPIs so far (all counts since t = 0). */
typedef struct {
  FtTime  sim_time;
  double  days;
  guint   n_vehicles;
  guint64 trips_requested;
  guint64 trips_served;            /* trips that started (unlocked) */
  guint64 trips_completed;         /* trips that ended */
  guint64 trips_lost;
  guint64 lost[FT_SIM_N_LOST];
  double  trips_per_vehicle_day;
  double  utilisation;             /* ride time / (vehicles x time) */
  gint64  revenue_minor;
  char    currency[4];
  gint64  revenue_per_vehicle_day_minor;
  double  mean_walk_m;
  double  mean_trip_km;
  double  battery_unavailable_hours;
  double  battery_unavailable_share;
  guint64 battery_swaps;
  guint64 rebalances;
  guint64 collections;
  guint64 faults;
  /* damage ([faults] damage_per_*; 0 when off): damage done, riders'
   * end-of-trip photos checked, flagged for review, confirmed (vehicle out
   * of service, collected for repair), dismissed (a false alarm), and
   * photos of a damaged vehicle the check missed */
  guint64 damage_events, photos_checked, damage_reviews, damage_confirmed;
  guint64 damage_dismissed, damage_missed;
  guint64 end_refusals;            /* geofence said no; rider rode on */
  double  staff_hours;
  double  staff_km;
  double  fault_downtime_hours;
  guint64 packs_charged;
  guint64 tasks_created;
  guint64 tasks_done;
  /* Phase 3 operations (0 when off): route plans made, maintenance models
   * fitted, alerts raised (inspection tasks) and inspections done */
  guint64 route_plans, maint_fits, maint_alerts, inspections;
  guint64 domain_events;
  guint64 engine_events;
  gboolean ledger_balanced;
  /* rider levers (0 when off) */
  guint64 price_changes;           /* zone multiplier changes applied */
  double  mean_price_multiplier;   /* dynamic multiplier over trips charged */
  guint64 incentive_moves;         /* riders who took a relocation offer */
  guint64 incentive_rewards;       /* trips rewarded */
  gint64  incentive_cost_minor;    /* paid, = the expense:incentives account */
  /* [support] (0 when off): riders' contacts with the assistant, those it
   * resolved without a person, and hand-offs to staff */
  guint64 support_contacts, support_resolved, support_handoffs;
  /* the cost model ([costs]), all in minor units of the currency. Fixed:
   * vehicle depreciation, insurance, depots (they accrue with time).
   * Variable: energy, pack wear, field staff, vans, payment fees and
   * incentives (they grow with the work done). */
  gint64  cost_vehicles_minor, cost_insurance_minor, cost_depots_minor;
  gint64  cost_energy_minor, cost_pack_wear_minor, cost_staff_minor, cost_vans_minor;
  gint64  cost_payment_fees_minor, cost_incentives_minor;
  gint64  cost_total_minor;
  double  energy_kwh;                       /* put into packs (depots, repairs) */
  double  contribution_margin_per_vehicle_day_minor;  /* (revenue - variable) / vehicle-days */
  double  net_margin_per_vehicle_day_minor;           /* (revenue - all costs) / vehicle-days */
  double  cost_per_trip_minor;              /* all costs / trips completed */
  double  cost_per_swap_minor;              /* swap staff time, van km, energy, pack wear / swaps */
  /* shadow mode ([models] forecast = true): scores of the demand forecast
   * over every prediction whose target hour has passed, against the
   * historical-mean baseline on the same zone-hours */
  gboolean shadow;
  char    shadow_model[32];        /* the champion's kind, "" before the first fit */
  guint64 shadow_predictions, shadow_scored;
  double  shadow_rmse, shadow_mae, shadow_base_rmse, shadow_base_mae;
  guint64 shadow_scored_15min;     /* the next 15 minutes (NAN: none scored) */
  double  shadow_rmse_15min, shadow_base_rmse_15min;
  guint   shadow_retrains, shadow_promotions, shadow_drift_warnings, shadow_drift_actions;
  /* shadow mode ([models] maint = true): predictive maintenance scored on
   * every prediction whose outcome is known (NAN: none yet); short and
   * long horizons (24 h, 7 d by default), against the naive baseline */
  gboolean shadow_maint;
  char    shadow_maint_model[32];
  guint64 shadow_maint_predictions, shadow_maint_scored;
  double  shadow_maint_brier_short, shadow_maint_brier_long;
  double  shadow_maint_auc_short, shadow_maint_auc_long;
  double  shadow_maint_base_brier_short, shadow_maint_base_auc_short;
  double  shadow_maint_precision_at_k, shadow_maint_recall_at_k;
  guint   shadow_maint_k, shadow_maint_faults, shadow_maint_caught, shadow_maint_fits;
  double  shadow_maint_lead_median_h;
} FtSimKpis;

/* The KPI table: every numeric KPI by the name its JSON form uses (plus
 * service_level = served / requested), for experiments' metrics. */
typedef struct {
  const char *name;
  const char *label;         /* for people, with the unit */
  gboolean    higher_better; /* what "better" means, for Pareto views */
} FtSimKpiInfo;

const FtSimKpiInfo *ft_sim_kpi_table (guint *n);
const FtSimKpiInfo *ft_sim_kpi_find  (const char *name);
/* The value of KPI name in k; FALSE for an unknown name. */
gboolean            ft_sim_kpi_value (const FtSimKpis *k, const char *name, double *value);

/* A snapshot for the map (plain arrays, owned by the snapshot). */
enum { FT_SIM_VFLAG_LOW = 1, FT_SIM_VFLAG_FAULT = 2, FT_SIM_VFLAG_IN_VAN = 4 };

typedef struct {
  FtLatLon pos;            /* interpolated along the trip if riding */
  guint8   state;          /* FtVehicleState */
  guint8   kind;           /* FtVehicleKind */
  guint8   flags;          /* FT_SIM_VFLAG_* */
  guint8   pad;
  float    soc;
} FtSimVehicleSnap;

typedef enum {
  FT_SIM_STAFF_OFF = 0, FT_SIM_STAFF_IDLE, FT_SIM_STAFF_TRAVEL, FT_SIM_STAFF_SERVICE,
  FT_SIM_STAFF_AT_DEPOT
} FtSimStaffActivity;

typedef struct {
  guint32  account;        /* FtAccounts index */
  guint8   activity;       /* FtSimStaffActivity */
  FtLatLon pos;            /* interpolated while travelling */
  FtLatLon from, target;   /* current leg */
  gint64   task;           /* current ops task or -1 */
  guint    packs_charged;  /* charged packs in the van */
  guint    packs_depleted;
} FtSimStaffSnap;

typedef struct {
  FtLatLon pos;
  FtTime   t;
  guint8   reason;         /* FtSimLostReason */
} FtSimLostPoint;

typedef struct {
  FtTime            t;
  guint             n_vehicles;
  FtSimVehicleSnap *vehicles;
  guint             n_staff;
  FtSimStaffSnap   *staff;
  guint             n_lost;    /* the most recent lost requests, oldest first */
  FtSimLostPoint   *lost;
  FtSimKpis         kpis;
} FtSimSnapshot;

void ft_sim_snapshot_free (FtSimSnapshot *s);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (FtSimSnapshot, ft_sim_snapshot_free)

typedef struct _FtSimWorld FtSimWorld;

/* Price-sensitivity hook: probability (0..1) that a rider shown this quote
 * goes ahead. The default uses the scenario's reference price and sensitivity. */
typedef double (*FtSimPriceResponse) (const FtPriceBreakdown *quote, const FtTripQuote *trip,
                                      gpointer user_data);

typedef struct {
  const char *store_path;    /* NULL: no store, the event log only counts */
  guint       lost_ring;     /* lost points kept for snapshots (default 2000) */
  /* Demand trace to replay instead of Poisson arrivals (copied; overrides
   * the scenario's [demand] trace). Requests in time order, t >= 0 in ms
   * since Monday 00:00; those at or after the run's end are not issued. */
  const FtDemandRequest *trace;
  guint       n_trace;
  /* A field design (ft-sim-field.h): the world runs the scenario of
   * ft_sim_field_world_scenario and applies each arm's levers per unit
   * (copied; NULL: no split). */
  const FtSimFieldSpec *field;
  /* Tests: each shadow model fit's worker sleeps this long before it
   * starts (the run's results must not change: they are taken at a fixed
   * simulated time). 0: no sleep. */
  guint       shadow_train_delay_ms;
  /* Shadow mode's serving path (event listeners, ticks, store writes)
   * runs on a consumer thread of its own unless the scenario acts on the
   * models ([models] act_on_forecast), this is TRUE (the app, which is
   * paced, keeps it inline), or the environment has FT_SHADOW_INLINE=1
   * (to compare the two: the results are the same, see
   * ft_shadow_start_async). */
  gboolean    shadow_inline;
  /* Tests: the consumer sleeps this long after each block (the results
   * must not change). 0: no sleep. */
  guint       shadow_consumer_delay_us;
} FtSimWorldOptions;

/* Build the world: city (the scenario's, or `city` if non-NULL: borrowed
 * and must outlive the world), core, accounts, fleet, packs, staff, depots.
 * With a store path the file is created fresh (an existing file is
 * replaced) and events are committed in large batches. */
FtSimWorld   *ft_sim_world_new          (const FtSimScenario *sc, const FtCity *city,
                                         const FtSimWorldOptions *opt, GError **error);
void          ft_sim_world_free         (FtSimWorld *w);
/* Run until simulated time t (ms since Monday 00:00). FALSE on a store error. */
gboolean      ft_sim_world_run_until    (FtSimWorld *w, FtTime t, GError **error);
/* Paced (GUI worker thread): like run_until, but simulated time follows the
 * wall clock times the engine's speed (ft_sim_engine_set_speed /
 * set_paused / stop on ft_sim_world_get_engine(), callable from the UI
 * thread). *reached (nullable) is FALSE if ft_sim_engine_stop() ended it
 * early. FALSE only on a store error. */
gboolean      ft_sim_world_run_paced    (FtSimWorld *w, FtTime t, gboolean *reached, GError **error);
/* Run the scenario's full length, calling progress (fraction) now and then. */
gboolean      ft_sim_world_run          (FtSimWorld *w, void (*progress) (double, gpointer),
                                         gpointer user_data, GError **error);
/* Commit pending events and the final state, and write KPIs as run meta. */
gboolean      ft_sim_world_finish       (FtSimWorld *w, GError **error);
FtTime        ft_sim_world_end_time     (const FtSimWorld *w);
FtTime        ft_sim_world_now          (const FtSimWorld *w);

void          ft_sim_world_kpis         (FtSimWorld *w, FtSimKpis *out);
/* A field design's arms so far: the units in each arm, the arm's total of
 * metric (one of ft_sim_field_metrics; service_level: the arm's ratio) and
 * the design's estimate of the whole-fleet effect (NaN while an arm has no
 * unit). FALSE when the world runs no field design or metric is not one
 * the arms measure. */
typedef struct {
  guint  units[2];       /* control, treated */
  double value[2];
  double estimate;
} FtSimFieldEstimate;
gboolean      ft_sim_world_field_estimate (FtSimWorld *w, const char *metric, FtSimFieldEstimate *out);
/* The arm (0 control, 1 treated) of unit u (a rider of the pool's
 * rotation, a zone, a slice), or -1 without a field design or past the units. */
gint          ft_sim_world_field_arm    (FtSimWorld *w, guint u);
guint         ft_sim_world_field_n_units (FtSimWorld *w);
/* One JSON object (fixed key order, fixed number formats); caller frees. */
char         *ft_sim_kpis_to_json       (const FtSimKpis *k, const FtSimScenario *sc);
FtSimSnapshot*ft_sim_world_snapshot     (FtSimWorld *w);

/* Called for every trip request the world issues (Poisson or trace), in
 * the order issued, with its time, origin and destination. */
typedef void (*FtSimRequestFunc) (FtTime t, FtLatLon from, FtLatLon to, gpointer user_data);
void          ft_sim_world_set_request_hook (FtSimWorld *w, FtSimRequestFunc fn,
                                             gpointer user_data);
/* Requests in the replayed trace (0 when arrivals are Poisson). */
guint         ft_sim_world_n_trace      (FtSimWorld *w);
void          ft_sim_world_set_price_response (FtSimWorld *w, FtSimPriceResponse fn,
                                               gpointer user_data);

/* Dispatch (on the world's thread): create a task as dispatcher `by`
 * (FT_PERM_DISPATCH) and, if staff >= 0, assign it; assigned staff do it
 * next. Returns the task id or -1 with an error. */
gint64        ft_sim_world_dispatch     (FtSimWorld *w, FtTaskKind kind, gint32 vehicle,
                                         FtLatLon target, gint priority, guint by,
                                         gint32 staff, GError **error);
/* Thread-safe: queue the same command; applied at the next minute tick.
 * Errors are counted (ft_sim_world_n_dispatch_errors) and logged. */
void          ft_sim_world_post_dispatch(FtSimWorld *w, FtTaskKind kind, gint32 vehicle,
                                         FtLatLon target, gint priority, guint by, gint32 staff);
guint         ft_sim_world_n_dispatch_errors (FtSimWorld *w);
/* Dispatcher `by` cancels a task, or moves it to field staff member
 * staff_index (its queue; whoever was on the way to it drops it). A task
 * being done is refused. World thread. */
gboolean      ft_sim_world_cancel_task  (FtSimWorld *w, gint64 task, guint by, GError **error);
gboolean      ft_sim_world_reassign_task (FtSimWorld *w, gint64 task, guint staff_index, guint by,
                                          GError **error);
gboolean      ft_sim_world_staff_on_shift (FtSimWorld *w, guint staff_index);
/* Module calls the world made that were refused (should stay 0). */
guint64       ft_sim_world_n_errors     (FtSimWorld *w);

/* Borrowed internals for the UI and tests (world thread only). */
FtCore       *ft_sim_world_get_core     (FtSimWorld *w);
FtOps        *ft_sim_world_get_ops      (FtSimWorld *w);
const FtCity *ft_sim_world_get_city     (FtSimWorld *w);
FtSimEngine  *ft_sim_world_get_engine   (FtSimWorld *w);
/* Shadow-mode models ([models] forecast = true), or NULL (borrowed). */
struct _FtShadow *ft_sim_world_get_shadow (FtSimWorld *w);
/* Requests the operator expects in zone z during the hour that contains t,
 * as prices, offers and rebalancing see them. With [models]
 * act_on_forecast: the shadow champion's forecast; before its first fit,
 * the requests counted in the same hour a day earlier; before a day has
 * passed, the launch plan (the city's fitted demand). Without it: the launch
 * plan throughout (the demand profile the scenario was built from, which a
 * [demand] shift does not change). */
double ft_sim_world_expected_requests (FtSimWorld *w, guint z, FtTime t);
/* Phase 3 task values count trips up to this time: three hours from now,
 * or, when the staff's shifts end before that, three hours into the next
 * shift (nothing left undone is fixed in between). */
FtTime ft_sim_world_value_horizon (FtSimWorld *w, FtTime now);
/* Would van routes plan this task before the others ([rules]
 * route_flat_first: a flat vehicle's swap, a suspended one's inspection,
 * a swap of a vehicle below route_urgent_soc)? */
gboolean ft_sim_world_route_urgent (FtSimWorld *w, const FtTask *task);
const FtSimScenario *ft_sim_world_get_scenario (FtSimWorld *w);
/* Account index of the first dispatcher (-1 if the scenario has none). */
gint32        ft_sim_world_dispatcher   (FtSimWorld *w);
guint         ft_sim_world_n_staff      (FtSimWorld *w);
guint         ft_sim_world_staff_account(FtSimWorld *w, guint i);
/* All invariants: ft_core_check, ft_ops_check, and the world's own
 * bookkeeping (every vehicle in exactly one place: street, trip or van). */
gboolean      ft_sim_world_check        (FtSimWorld *w, GError **error);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (FtSimWorld, ft_sim_world_free)

/* The region playbook's sweep (an FtRegionSweepFunc for ft_region_launch):
 * one run of the scenario at `vehicles` scooters and `staff` field staff,
 * its requests per day, share served and trips per vehicle-day. The CLI's
 * `region launch` and the app's New Region… both use it. */
gboolean ft_sim_world_region_sweep (const char *scenario_path, guint vehicles, guint staff,
                                    FtRegionSweepPoint *out, gpointer user_data, GError **error);

G_END_DECLS
