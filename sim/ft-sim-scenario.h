/* ft-sim-scenario.h — a rollout scenario: the plain-text file a planner
 * edits (GKeyFile syntax, '#' comments) naming the city, fleet size and mix,
 * staff and shifts, pricing, enabled features, demand, run length and seed.
 * Every key has a default; unknown groups or keys are refused (they are
 * usually typos), and errors name the file, the line or [group] key, and
 * the bad value.
 */
#pragma once

#include "ft-common.h"

G_BEGIN_DECLS

#define FT_SIM_ERROR (ft_sim_error_quark ())
GQuark ft_sim_error_quark (void);
typedef enum {
  FT_SIM_ERROR_SCENARIO,      /* unreadable / malformed scenario */
  FT_SIM_ERROR_CITY,          /* the named city could not be loaded */
  FT_SIM_ERROR_SETUP,         /* the world could not be built */
  FT_SIM_ERROR_INVALID,       /* bad argument (unknown vehicle, staff …) */
} FtSimError;

typedef enum { FT_SIM_ROUTING_STREET = 0, FT_SIM_ROUTING_STRAIGHT } FtSimRouting;

typedef struct {
  /* [scenario] */
  char    *name;
  char    *description;
  char    *city;                 /* "demo" or a city pack folder */
  double   days;
  guint64  seed;
  guint    replication;
  gboolean summary_records;      /* keep only what the KPIs need: no ledger journal,
                                  * so no database and no [support] */
  /* [fleet] */
  guint    scooters, bikes, mopeds;
  double   spare_packs_per_vehicle;
  double   initial_soc_min, initial_soc_max;
  /* A GBFS 2.3 / 3.0 snapshot (folder or vehicles file) the fleet starts
   * from instead of the counts above: its vehicles, positions and charge;
   * those more than gbfs_max_outside_m outside the city's operating area
   * are left out and reported. Raw as written (see resolve_path). */
  char    *fleet_gbfs;
  double   fleet_gbfs_max_outside_m;
  /* [demand] */
  double   requests_per_day;           /* absolute; 0 = see requests_per_vehicle_day */
  double   requests_per_vehicle_day;   /* 0 = the city's profile x demand_scale */
  double   demand_scale;
  double   max_walk_m;
  double   walk_speed_mps;
  FtSimRouting routing;
  double   detour_factor;
  double   min_trip_m;
  guint    riders;                     /* size of the rider pool; 0 = auto */
  char    *trace;                      /* demand trace file to replay instead of
                                        * Poisson arrivals (NULL = none); raw as
                                        * written, see ft_sim_scenario_resolve_path */
  /* a demand shift: from day shift_day on (0 = none), the requests starting
   * in shift_zones (comma-separated zone ids; NULL or empty = every zone) are
   * multiplied by shift_factor */
  double   shift_day;
  double   shift_factor;
  char    *shift_zones;
  /* [city]: a city built from real data instead of [scenario] city.
   * osm set: ft_city_from_recipe (OSM streets and zones, demand fitted from
   * trips moved onto them, cached); only trips: ft_city_from_trips with
   * its demand fitted. Paths raw as written (see resolve_path). */
  char    *city_osm;
  char    *city_trips;
  char    *city_name;                  /* NULL: from the file name */
  double   city_requests_per_day;      /* recipe scale; 0 = the trips' own */
  double   city_hex_m;                 /* zone size of a trips-only city */
  /* [pricing] */
  char     currency[4];
  gint64   unlock_minor;
  double   per_min_minor[3];           /* scooter, bike, moped */
  double   per_km_minor;
  double   reference_price_minor;      /* price riders accept without hesitation */
  double   price_sensitivity;          /* lost share per 100% above reference */
  /* [staff] */
  guint    field_staff;
  guint    dispatchers;
  double   shift_hours;
  double  *shift_starts_h; guint n_shift_starts;
  guint    van_capacity_packs;
  double   van_speed_kph;
  double   swap_service_min;
  double   rebalance_service_min;
  double   collect_service_min;
  double   inspect_service_min;
  /* [rules] */
  double   swap_threshold_soc;         /* swap proactively below this */
  double   rebalance_interval_min;
  guint    rebalance_max_open;
  double   rebalance_surplus_ratio;    /* zone surplus when available > ratio x target */
  gboolean rebalance_lp;               /* Phase 3: plan moves with the transport LP (ft_rebalance_plan) */
  double   rebalance_max_km;           /* the LP's value of a delivered vehicle, in km driven */
  char    *task_order;                 /* "priority" (Phase 1: highest, then nearest) or "value" */
  gboolean van_routes;                 /* Phase 3: vans follow VRPTW routes (ft_ops_plan_routes) */
  double   route_interval_min;         /* rolling re-optimisation cycle */
  double   route_horizon_min;          /* each route holds this much work at most */
  guint    route_iterations;           /* search iterations per cycle (deterministic) */
  guint    route_tasks_per_van;        /* open tasks considered per van and cycle */
  double   route_wait_weight;          /* a route's stops ordered by km and by this x the hours a
                                        * vehicle off offer waits x its earnings an hour; 0: km alone */
  gboolean route_flat_first;           /* van routes: flat vehicles' swaps (tasks that alone keep a
                                        * vehicle off offer) at the head, before other stops */
  gboolean route_at_once;              /* re-plan when a swap task appears or its vehicle goes flat */
  double   route_urgent_soc;           /* with it, swaps of vehicles below this charge too (0: flat only) */
  double   inspect_risk;               /* maintenance alert: P(fault within horizon) above it; 0 = off */
  double   inspect_horizon_h;
  double   inspect_every_h;
  gboolean inspect_out_of_service;     /* an alerted vehicle leaves service until inspected */
  char    *maint_model;                /* "baseline" or "weibull", fitted on the world's own log */
  /* [batteries] */
  double   charge_hours_full;
  guint    chargers_per_depot;         /* 0 = the city's depot value */
  /* [faults] */
  double   faults_per_1000km;          /* for a new vehicle */
  double   wear_per_km;
  double   wear_hazard_factor;         /* hazard x (1 + factor x wear) */
  double   repair_hours;
  /* Fleet age and precursors (all 0: a new fleet, faults without
   * warning). Vehicles start with wear drawn uniformly in [0,
   * initial_wear_max] and the odometer that wear took (wear / wear_per_km
   * x U(1, 2): services halved part of it), logged as a reading at the
   * start (and, with defect_km > 0, a defect under way with the chance the
 * hazard gives over defect_km). With defect_km > 0 a hit of the fault hazard starts a defect
   * that ends in the fault after Exp(defect_km) km more; meanwhile the
   * vehicle raises warning codes (FT_EV_VEHICLE_WARNING) at
   * defect_warnings_per_100km, and a worn one at wear_warnings_per_1000km x
   * wear without a defect. An inspection or a repair clears the defect. */
  double   initial_wear_max;
  double   defect_km;
  double   defect_warnings_per_100km;
  double   wear_warnings_per_1000km;
  /* damage (vandalism per trip, wear per km x (1 + wear_hazard_factor x
   * wear)) that riders' end-of-trip photos carry; the simulated photo
   * check flags a damaged photo with photo_recall and an undamaged one
   * with photo_false_alarm (no image is rendered: the photo is a label) */
  double   damage_per_1000_trips;
  double   damage_per_1000km;
  double   photo_recall;
  double   photo_false_alarm;
  /* [features] */
  gboolean battery_swaps;
  gboolean rebalancing;
  gboolean fault_collection;
  gboolean price_response;
  gboolean geofence_parking;
  /* [dynamic_pricing] a multiplier per zone and interval (see
   * src/pricing/ft-dynamic-pricing.h); policy "off", "utilisation" or
   * "optimise", objective "revenue", "trips" or "margin" */
  char    *dyn_policy;
  char    *dyn_objective;
  double   dyn_interval_min;
  double   dyn_floor, dyn_cap, dyn_max_change, dyn_emergency_cap;
  double   dyn_emergency_from_h, dyn_emergency_to_h;  /* hours from the start; equal = none */
  char    *dyn_protected_zones;        /* zone indices "3,7" (NULL = none) */
  double   dyn_util_low, dyn_util_high;
  double   dyn_service_floor;
  double   dyn_cost_per_trip_minor;
  double   elasticity[3];              /* scooter, bike, moped; <= 0 */
  /* [incentives] relocation rewards (src/pricing/ft-incentives.h) */
  gboolean inc_enabled;
  double   inc_recompute_min;
  double   inc_reward_minor;
  double   inc_budget_per_day_minor;
  double   inc_cap_per_rider_day_minor;
  double   inc_min_distance_m;
  double   inc_cooldown_min;
  double   inc_hop_back_min;
  double   inc_max_detour_m;
  double   inc_surplus_ratio, inc_shortfall_ratio;
  double   inc_wtw_origin_min;         /* minutes of extra walking one major unit buys */
  double   inc_wtw_dest_min;
  double   inc_logit_scale;            /* per minute */
  /* [models]: shadow mode (src/models/ft-registry-shadow.h) */
  gboolean models_forecast;            /* run the demand forecast in shadow */
  gboolean models_act;                 /* Phase 3: prices, offers and rebalancing act on the forecast */
  char    *models_forecast_model;      /* "mean", "glm" or "xgb" */
  double   models_cadence_min;
  char    *models_horizons;            /* leads stored, hours: "1, 3, 6, 24" */
  gboolean models_quarter_hour;        /* also the next 15 minutes */
  double   models_training_days;
  double   models_first_fit_days;
  double   models_retrain_days;        /* 0: only on drift */
  double   models_drift_train_days;
  guint    models_holdout_hours;
  double   models_min_gain;
  gboolean models_retrain_on_drift;
  double   models_train_lag_min;       /* a fit's result taken after (min): 60 */
  double   models_drift_warn, models_drift_act;
  gboolean models_maint;               /* predictive maintenance in shadow (ft-maint-shadow.h) */
  char    *models_maint_model;         /* "baseline", "weibull" or "xgb" */
  double   models_maint_cadence_min;
  double   models_maint_short_h, models_maint_long_h;   /* horizons: 24, 168 */
  double   models_maint_training_days, models_maint_first_fit_days;
  double   models_maint_retrain_days, models_maint_holdout_days;
  double   models_maint_top_k_frac;
  double   models_maint_train_lag_min; /* 360 */
  /* [support]: riders who hit a problem ask the assistant (src/assist) */
  double   support_contact_share;      /* of refused parkings and failed unlocks */
  double   support_charge_query_share; /* of finished trips whose charge is questioned */
  double   support_escalate_share;     /* of contacts whose rider follows up: a refund or a person */
  /* [costs]: the cost model (money in minor units of the currency; see
   * the defaults in ft_sim_scenario_new_default and the KPIs in
   * ft-sim-world-kpis.c) */
  double   cost_vehicle_minor[3];      /* purchase price: scooter, bike, moped */
  double   cost_vehicle_life_days;     /* straight-line depreciation to nothing */
  double   cost_pack_per_kwh_minor;    /* swappable pack purchase, per kWh of capacity */
  double   cost_pack_cycle_life;       /* full-equivalent cycles a pack lasts */
  double   cost_energy_per_kwh_minor;  /* electricity, per kWh put into packs */
  double   cost_staff_hourly_minor;    /* field staff, per shift hour */
  double   cost_van_per_km_minor;
  double   cost_payment_fee_minor;     /* per completed trip */
  double   cost_payment_fee_percent;   /* of revenue */
  double   cost_insurance_per_vehicle_day_minor;
  double   cost_depot_per_day_minor;   /* per depot */
  /* where it came from */
  char    *path;
  char    *text;                       /* the text it was parsed from (NULL for
                                        * the defaults): the writer keeps its
                                        * comments, order and layout */
} FtSimScenario;

/* The scenario format, defined once: every key with its group, type and
 * bounds. The parser checks each value against it, the writer writes from
 * it and the app's editor builds one field per key from it. */
typedef enum {
  FT_SIM_KEY_DOUBLE, FT_SIM_KEY_UINT, FT_SIM_KEY_UINT64, FT_SIM_KEY_BOOL, FT_SIM_KEY_STRING,
  FT_SIM_KEY_CURRENCY, FT_SIM_KEY_ROUTING, FT_SIM_KEY_HOURS_LIST, FT_SIM_KEY_INT64,
} FtSimKeyType;

typedef struct {
  const char  *group;
  const char  *key;
  FtSimKeyType type;
  gsize        offset;     /* of the field in FtSimScenario */
  double       min, max;   /* numbers: inclusive bounds (whole numbers: max 0 = none) */
  const char  *label;      /* for people: "Days simulated" */
} FtSimScenarioKey;

/* The table, in file order; n_keys gets its length. */
const FtSimScenarioKey *ft_sim_scenario_keys (guint *n_keys);
const FtSimScenarioKey *ft_sim_scenario_find_key (const char *group, const char *key);
/* The value of key in sc as the file writes it (NULL: an unset optional
 * string). Caller frees. */
char          *ft_sim_scenario_get_value   (const FtSimScenario *sc, const FtSimScenarioKey *k);
/* Sets key from text as the parser would, checking type and bounds; on
 * error sc is unchanged and the message names "[group] key". */
gboolean       ft_sim_scenario_set_value   (FtSimScenario *sc, const FtSimScenarioKey *k,
                                            const char *text, GError **error);
/* The checks across keys the parser makes after reading every key (fleet
 * not empty, soc bounds in order, one way of naming the city …). */
gboolean       ft_sim_scenario_check       (const FtSimScenario *sc, GError **error);
/* TRUE when every key of the table has the same value in a and b. */
gboolean       ft_sim_scenario_equal       (const FtSimScenario *a, const FtSimScenario *b);
/* The scenario as file text: sc->text with the changed values replaced in
 * place (comments, order and untouched keys kept), keys it lacks added to
 * their group when they differ from the default; without sc->text, every
 * key that differs from the default. ft_sim_scenario_parse reads it back
 * equal. */
char          *ft_sim_scenario_to_text     (const FtSimScenario *sc);
/* Writes ft_sim_scenario_to_text to path through FtOutput (beside it, then
 * moved into place); an existing file that is not a scenario is refused
 * unless force. Refuses a scenario that would not load back. */
gboolean       ft_sim_scenario_save        (const FtSimScenario *sc, const char *path, gboolean force,
                                            GError **error);

/* Defaults: a small Demo City run. */
FtSimScenario *ft_sim_scenario_new_default (void);
FtSimScenario *ft_sim_scenario_load        (const char *path, GError **error);
FtSimScenario *ft_sim_scenario_parse       (const char *text, gssize len, const char *where,
                                            GError **error);
FtSimScenario *ft_sim_scenario_copy        (const FtSimScenario *sc);
void           ft_sim_scenario_free        (FtSimScenario *sc);
guint          ft_sim_scenario_n_vehicles  (const FtSimScenario *sc);
/* A path from a scenario file as a usable file name: a leading ${shared}
 * is the shared data folder ($FT_SHARED_DATA_DIR if set, else the first
 * existing `shared/data` beside the scenario's folder or one of its
 * parents — a checkout's scenarios/ finds <checkout>/../shared/data —
 * else the folder configured at build time); a relative path is relative
 * to the scenario file's folder (the current folder if it has no file). */
char          *ft_sim_scenario_resolve_path (const FtSimScenario *sc, const char *raw);
/* [models] horizons as numbers (1 to 8 of them, each 1..24 hours) into
 * leads[8]; FALSE with *msg (to free) saying what is wrong. */
gboolean       ft_sim_scenario_models_horizons (const FtSimScenario *sc, guint *leads, guint *n_out,
                                                char **msg);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (FtSimScenario, ft_sim_scenario_free)

G_END_DECLS
