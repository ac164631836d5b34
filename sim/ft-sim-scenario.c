/* ft-sim-scenario.c — scenario files: a table of (group, key, type, field,
 * bounds) drives both the defaults-override parse and the validation, so
 * every key is checked the same way and errors read
 * "phase1.scenario:23: [fleet] scooters: 'many' is not a whole number".
 */
#include "ft-sim-scenario.h"
#include "ft-file.h"
#include "ft-config.h"
#include "ft-dynamic-pricing.h"

#include <stddef.h>
#include <stdio.h>
#include <string.h>

G_DEFINE_QUARK (ft-sim-error-quark, ft_sim_error)

typedef FtSimScenarioKey KeySpec;

#define O(f) offsetof (FtSimScenario, f)
static const FtSimScenarioKey keys[] = {
  { "scenario", "name", FT_SIM_KEY_STRING, O (name), 0, 0, "Name" },
  { "scenario", "description", FT_SIM_KEY_STRING, O (description), 0, 0, "Description" },
  { "scenario", "city", FT_SIM_KEY_STRING, O (city), 0, 0, "City (demo or a city pack folder)" },
  { "scenario", "days", FT_SIM_KEY_DOUBLE, O (days), 0.001, 3660, "Days simulated" },
  { "scenario", "seed", FT_SIM_KEY_UINT64, O (seed), 0, 0, "Seed" },
  { "scenario", "replication", FT_SIM_KEY_UINT, O (replication), 0, 1e6, "Replication" },
  { "scenario", "summary_records", FT_SIM_KEY_BOOL, O (summary_records), 0, 0, "Keep only what the KPIs need (no ledger journal, no database)" },
  { "fleet", "scooters", FT_SIM_KEY_UINT, O (scooters), 0, 1e7, "Scooters" },
  { "fleet", "bikes", FT_SIM_KEY_UINT, O (bikes), 0, 1e7, "Bikes" },
  { "fleet", "mopeds", FT_SIM_KEY_UINT, O (mopeds), 0, 1e7, "Mopeds" },
  { "fleet", "spare_packs_per_vehicle", FT_SIM_KEY_DOUBLE, O (spare_packs_per_vehicle), 0, 10, "Spare packs per vehicle" },
  { "fleet", "initial_soc_min", FT_SIM_KEY_DOUBLE, O (initial_soc_min), 0, 1, "Initial charge, lowest (0-1)" },
  { "fleet", "initial_soc_max", FT_SIM_KEY_DOUBLE, O (initial_soc_max), 0, 1, "Initial charge, highest (0-1)" },
  { "fleet", "gbfs", FT_SIM_KEY_STRING, O (fleet_gbfs), 0, 0, "Start from a GBFS snapshot (folder or file)" },
  { "fleet", "gbfs_max_outside_m", FT_SIM_KEY_DOUBLE, O (fleet_gbfs_max_outside_m), 0, 1e6, "GBFS: leave out vehicles farther outside the operating area (m)" },
  { "demand", "requests_per_day", FT_SIM_KEY_DOUBLE, O (requests_per_day), 0, 1e9, "Requests per day" },
  { "demand", "requests_per_vehicle_day", FT_SIM_KEY_DOUBLE, O (requests_per_vehicle_day), 0, 1000, "Requests per vehicle and day" },
  { "demand", "demand_scale", FT_SIM_KEY_DOUBLE, O (demand_scale), 0, 1000, "Demand scale" },
  { "demand", "max_walk_m", FT_SIM_KEY_DOUBLE, O (max_walk_m), 10, 5000, "Longest walk to a vehicle (m)" },
  { "demand", "walk_speed_mps", FT_SIM_KEY_DOUBLE, O (walk_speed_mps), 0.1, 5, "Walking speed (m/s)" },
  { "demand", "routing", FT_SIM_KEY_ROUTING, O (routing), 0, 0, "Routing (street or straight)" },
  { "demand", "detour_factor", FT_SIM_KEY_DOUBLE, O (detour_factor), 1, 5, "Detour factor" },
  { "demand", "min_trip_m", FT_SIM_KEY_DOUBLE, O (min_trip_m), 0, 10000, "Shortest trip (m)" },
  { "demand", "riders", FT_SIM_KEY_UINT, O (riders), 0, 1e8, "Rider pool (0 = automatic)" },
  { "demand", "trace", FT_SIM_KEY_STRING, O (trace), 0, 0, "Demand trace to replay" },
  { "demand", "shift_day", FT_SIM_KEY_DOUBLE, O (shift_day), 0, 3660, "Demand shift from day (0 = none)" },
  { "demand", "shift_factor", FT_SIM_KEY_DOUBLE, O (shift_factor), 0, 100, "Demand shift factor" },
  { "demand", "shift_zones", FT_SIM_KEY_STRING, O (shift_zones), 0, 0, "Demand shift zones (ids, comma-separated; none = all)" },
  { "city", "osm", FT_SIM_KEY_STRING, O (city_osm), 0, 0, "OpenStreetMap extract" },
  { "city", "trips", FT_SIM_KEY_STRING, O (city_trips), 0, 0, "Trip data" },
  { "city", "name", FT_SIM_KEY_STRING, O (city_name), 0, 0, "City name" },
  { "city", "requests_per_day", FT_SIM_KEY_DOUBLE, O (city_requests_per_day), 0, 1e9, "Requests per day (recipe)" },
  { "city", "hex_m", FT_SIM_KEY_DOUBLE, O (city_hex_m), 50, 20000, "Zone size (m, trips-only city)" },
  { "pricing", "currency", FT_SIM_KEY_CURRENCY, O (currency), 0, 0, "Currency (ISO 4217)" },
  { "pricing", "unlock_minor", FT_SIM_KEY_INT64, O (unlock_minor), 0, 1e6, "Unlock fee (minor units)" },
  { "pricing", "scooter_per_min_minor", FT_SIM_KEY_DOUBLE, O (per_min_minor[0]), 0, 1e5, "Scooter per minute (minor units)" },
  { "pricing", "bike_per_min_minor", FT_SIM_KEY_DOUBLE, O (per_min_minor[1]), 0, 1e5, "Bike per minute (minor units)" },
  { "pricing", "moped_per_min_minor", FT_SIM_KEY_DOUBLE, O (per_min_minor[2]), 0, 1e5, "Moped per minute (minor units)" },
  { "pricing", "per_km_minor", FT_SIM_KEY_DOUBLE, O (per_km_minor), 0, 1e5, "Per km (minor units)" },
  { "pricing", "reference_price_minor", FT_SIM_KEY_DOUBLE, O (reference_price_minor), 1, 1e7, "Reference price (minor units)" },
  { "pricing", "price_sensitivity", FT_SIM_KEY_DOUBLE, O (price_sensitivity), 0, 100, "Price sensitivity (lost share per 100 % above)" },
  { "staff", "field_staff", FT_SIM_KEY_UINT, O (field_staff), 0, 1e5, "Field staff" },
  { "staff", "dispatchers", FT_SIM_KEY_UINT, O (dispatchers), 0, 1e4, "Dispatchers" },
  { "staff", "shift_hours", FT_SIM_KEY_DOUBLE, O (shift_hours), 0.5, 24, "Shift length (hours)" },
  { "staff", "shift_starts", FT_SIM_KEY_HOURS_LIST, O (shift_starts_h), 0, 24, "Shift starts (06:00,14:00)" },
  { "staff", "van_capacity_packs", FT_SIM_KEY_UINT, O (van_capacity_packs), 1, 1000, "Van capacity (packs)" },
  { "staff", "van_speed_kph", FT_SIM_KEY_DOUBLE, O (van_speed_kph), 1, 120, "Van speed (km/h)" },
  { "staff", "swap_service_min", FT_SIM_KEY_DOUBLE, O (swap_service_min), 0, 600, "Battery swap time (min)" },
  { "staff", "rebalance_service_min", FT_SIM_KEY_DOUBLE, O (rebalance_service_min), 0, 600, "Rebalance time (min)" },
  { "staff", "collect_service_min", FT_SIM_KEY_DOUBLE, O (collect_service_min), 0, 600, "Collection time (min)" },
  { "staff", "inspect_service_min", FT_SIM_KEY_DOUBLE, O (inspect_service_min), 0, 600, "Inspection time (min)" },
  { "rules", "swap_threshold_soc", FT_SIM_KEY_DOUBLE, O (swap_threshold_soc), 0, 1, "Swap below charge (0-1)" },
  { "rules", "rebalance_interval_min", FT_SIM_KEY_DOUBLE, O (rebalance_interval_min), 1, 10080, "Rebalance check every (min)" },
  { "rules", "rebalance_max_open", FT_SIM_KEY_UINT, O (rebalance_max_open), 0, 1e6, "Open rebalance tasks at most" },
  { "rules", "rebalance_surplus_ratio", FT_SIM_KEY_DOUBLE, O (rebalance_surplus_ratio), 1, 100, "Rebalance surplus ratio" },
  { "rules", "rebalance_lp", FT_SIM_KEY_BOOL, O (rebalance_lp), 0, 0, "Rebalance by transport LP (surplus to forecast shortfall)" },
  { "rules", "rebalance_max_km", FT_SIM_KEY_DOUBLE, O (rebalance_max_km), 0.1, 1000, "Rebalance LP: longest move worth making (km)" },
  { "rules", "task_order", FT_SIM_KEY_STRING, O (task_order), 0, 0, "Task order (priority: highest, then nearest; value: value per staff minute)" },
  { "rules", "van_routes", FT_SIM_KEY_BOOL, O (van_routes), 0, 0, "Vans follow VRPTW routes" },
  { "rules", "route_interval_min", FT_SIM_KEY_DOUBLE, O (route_interval_min), 1, 1440, "Routes re-optimised every (min)" },
  { "rules", "route_horizon_min", FT_SIM_KEY_DOUBLE, O (route_horizon_min), 5, 1440, "Routes planned this far ahead (min)" },
  { "rules", "route_iterations", FT_SIM_KEY_UINT, O (route_iterations), 1, 1e6, "Route search iterations per cycle" },
  { "rules", "route_tasks_per_van", FT_SIM_KEY_UINT, O (route_tasks_per_van), 1, 1000, "Open tasks considered per van and cycle" },
  { "rules", "route_flat_first", FT_SIM_KEY_BOOL, O (route_flat_first), 0, 0, "Van routes serve flat vehicles' swaps before other stops" },
  { "rules", "route_urgent_soc", FT_SIM_KEY_DOUBLE, O (route_urgent_soc), 0, 1, "With route_flat_first, swaps below this charge go first too (0: flat only)" },
  { "rules", "route_at_once", FT_SIM_KEY_BOOL, O (route_at_once), 0, 0, "Re-plan van routes when a swap task appears or its vehicle goes flat" },
  { "rules", "route_wait_weight", FT_SIM_KEY_DOUBLE, O (route_wait_weight), 0, 1000, "Weight on an off-offer vehicle's waiting in van routes (0: km alone)" },
  { "rules", "inspect_risk", FT_SIM_KEY_DOUBLE, O (inspect_risk), 0, 1, "Inspect above fault risk (0 = no alerts)" },
  { "rules", "inspect_horizon_h", FT_SIM_KEY_DOUBLE, O (inspect_horizon_h), 1, 720, "Fault risk horizon (hours)" },
  { "rules", "inspect_every_h", FT_SIM_KEY_DOUBLE, O (inspect_every_h), 0.25, 168, "Maintenance alerts checked every (hours)" },
  { "rules", "inspect_out_of_service", FT_SIM_KEY_BOOL, O (inspect_out_of_service), 0, 0, "Take alerted vehicles out of service until inspected" },
  { "rules", "maint_model", FT_SIM_KEY_STRING, O (maint_model), 0, 0, "Maintenance model (baseline or weibull)" },
  { "batteries", "charge_hours_full", FT_SIM_KEY_DOUBLE, O (charge_hours_full), 0.1, 48, "Hours to charge a pack" },
  { "batteries", "chargers_per_depot", FT_SIM_KEY_UINT, O (chargers_per_depot), 0, 1e5, "Chargers per depot (0 = the city's)" },
  { "faults", "faults_per_1000km", FT_SIM_KEY_DOUBLE, O (faults_per_1000km), 0, 1000, "Faults per 1000 km" },
  { "faults", "wear_per_km", FT_SIM_KEY_DOUBLE, O (wear_per_km), 0, 1, "Wear per km" },
  { "faults", "wear_hazard_factor", FT_SIM_KEY_DOUBLE, O (wear_hazard_factor), 0, 100, "Wear hazard factor" },
  { "faults", "repair_hours", FT_SIM_KEY_DOUBLE, O (repair_hours), 0, 1000, "Repair time (hours)" },
  { "faults", "initial_wear_max", FT_SIM_KEY_DOUBLE, O (initial_wear_max), 0, 1, "Fleet age: initial wear up to (0 = a new fleet)" },
  { "faults", "defect_km", FT_SIM_KEY_DOUBLE, O (defect_km), 0, 10000, "Mean km from a defect's onset to its fault (0 = faults at onset)" },
  { "faults", "defect_warnings_per_100km", FT_SIM_KEY_DOUBLE, O (defect_warnings_per_100km), 0, 1000, "Warning codes a developing defect raises per 100 km" },
  { "faults", "wear_warnings_per_1000km", FT_SIM_KEY_DOUBLE, O (wear_warnings_per_1000km), 0, 1000, "Warning codes per 1000 km at full wear, without a defect" },
  { "faults", "damage_per_1000_trips", FT_SIM_KEY_DOUBLE, O (damage_per_1000_trips), 0, 1000, "Vandalism damage per 1000 trips" },
  { "faults", "damage_per_1000km", FT_SIM_KEY_DOUBLE, O (damage_per_1000km), 0, 1000, "Wear damage per 1000 km" },
  { "faults", "photo_recall", FT_SIM_KEY_DOUBLE, O (photo_recall), 0, 1, "Photo check: damaged photos flagged (0-1)" },
  { "faults", "photo_false_alarm", FT_SIM_KEY_DOUBLE, O (photo_false_alarm), 0, 1, "Photo check: undamaged photos flagged (0-1)" },
  { "features", "battery_swaps", FT_SIM_KEY_BOOL, O (battery_swaps), 0, 0, "Battery swaps" },
  { "features", "rebalancing", FT_SIM_KEY_BOOL, O (rebalancing), 0, 0, "Rebalancing" },
  { "features", "fault_collection", FT_SIM_KEY_BOOL, O (fault_collection), 0, 0, "Fault collection" },
  { "features", "price_response", FT_SIM_KEY_BOOL, O (price_response), 0, 0, "Price response" },
  { "features", "geofence_parking", FT_SIM_KEY_BOOL, O (geofence_parking), 0, 0, "Geofence parking" },
  { "dynamic_pricing", "policy", FT_SIM_KEY_STRING, O (dyn_policy), 0, 0, "Dynamic pricing policy (off, utilisation, optimise)" },
  { "dynamic_pricing", "objective", FT_SIM_KEY_STRING, O (dyn_objective), 0, 0, "Pricing objective (revenue, trips, margin)" },
  { "dynamic_pricing", "interval_min", FT_SIM_KEY_DOUBLE, O (dyn_interval_min), 1, 1440, "Pricing interval (min)" },
  { "dynamic_pricing", "floor", FT_SIM_KEY_DOUBLE, O (dyn_floor), 0.1, 10, "Price multiplier floor" },
  { "dynamic_pricing", "cap", FT_SIM_KEY_DOUBLE, O (dyn_cap), 0.1, 10, "Price multiplier cap" },
  { "dynamic_pricing", "max_change", FT_SIM_KEY_DOUBLE, O (dyn_max_change), 0.01, 10, "Largest change per interval" },
  { "dynamic_pricing", "emergency_cap", FT_SIM_KEY_DOUBLE, O (dyn_emergency_cap), 0.1, 10, "Emergency cap" },
  { "dynamic_pricing", "emergency_from_h", FT_SIM_KEY_DOUBLE, O (dyn_emergency_from_h), 0, 87840, "Emergency from (hours from start)" },
  { "dynamic_pricing", "emergency_to_h", FT_SIM_KEY_DOUBLE, O (dyn_emergency_to_h), 0, 87840, "Emergency to (hours from start)" },
  { "dynamic_pricing", "protected_zones", FT_SIM_KEY_STRING, O (dyn_protected_zones), 0, 0, "Protected zones (indices)" },
  { "dynamic_pricing", "utilisation_low", FT_SIM_KEY_DOUBLE, O (dyn_util_low), 0, 100, "Utilisation: step down below" },
  { "dynamic_pricing", "utilisation_high", FT_SIM_KEY_DOUBLE, O (dyn_util_high), 0, 100, "Utilisation: step up above" },
  { "dynamic_pricing", "service_floor", FT_SIM_KEY_DOUBLE, O (dyn_service_floor), 0, 1, "Service-level floor (margin objective)" },
  { "dynamic_pricing", "cost_per_trip_minor", FT_SIM_KEY_DOUBLE, O (dyn_cost_per_trip_minor), 0, 1e7, "Cost per trip (minor units)" },
  { "dynamic_pricing", "scooter_elasticity", FT_SIM_KEY_DOUBLE, O (elasticity[0]), -5, 0, "Scooter price elasticity" },
  { "dynamic_pricing", "bike_elasticity", FT_SIM_KEY_DOUBLE, O (elasticity[1]), -5, 0, "Bike price elasticity" },
  { "dynamic_pricing", "moped_elasticity", FT_SIM_KEY_DOUBLE, O (elasticity[2]), -5, 0, "Moped price elasticity" },
  { "support", "contact_share", FT_SIM_KEY_DOUBLE, O (support_contact_share), 0, 1, "Riders with a problem who contact support (0-1)" },
  { "support", "charge_query_share", FT_SIM_KEY_DOUBLE, O (support_charge_query_share), 0, 1, "Finished trips whose charge is questioned (0-1)" },
  { "support", "escalate_share", FT_SIM_KEY_DOUBLE, O (support_escalate_share), 0, 1, "Contacts whose rider is not satisfied and asks for a refund or a person (0-1)" },
  { "incentives", "enabled", FT_SIM_KEY_BOOL, O (inc_enabled), 0, 0, "Relocation incentives" },
  { "incentives", "recompute_min", FT_SIM_KEY_DOUBLE, O (inc_recompute_min), 1, 1440, "Offers recomputed every (min)" },
  { "incentives", "reward_minor", FT_SIM_KEY_DOUBLE, O (inc_reward_minor), 0, 1e7, "Reward per leg (minor units)" },
  { "incentives", "budget_per_day_minor", FT_SIM_KEY_DOUBLE, O (inc_budget_per_day_minor), 0, 1e12, "Budget per day (minor units)" },
  { "incentives", "cap_per_rider_day_minor", FT_SIM_KEY_DOUBLE, O (inc_cap_per_rider_day_minor), 0, 1e9, "Cap per rider and day (minor units)" },
  { "incentives", "min_distance_m", FT_SIM_KEY_DOUBLE, O (inc_min_distance_m), 0, 1e5, "Minimum trip distance (m)" },
  { "incentives", "cooldown_min", FT_SIM_KEY_DOUBLE, O (inc_cooldown_min), 0, 10080, "Cool-down between rewards (min)" },
  { "incentives", "hop_back_window_min", FT_SIM_KEY_DOUBLE, O (inc_hop_back_min), 0, 10080, "No reward for hopping back within (min)" },
  { "incentives", "max_detour_m", FT_SIM_KEY_DOUBLE, O (inc_max_detour_m), 0, 5000, "Longest detour to an end offer (m)" },
  { "incentives", "surplus_ratio", FT_SIM_KEY_DOUBLE, O (inc_surplus_ratio), 1, 100, "Surplus above (x target)" },
  { "incentives", "shortfall_ratio", FT_SIM_KEY_DOUBLE, O (inc_shortfall_ratio), 0, 1, "Shortfall below (x target)" },
  { "incentives", "wtw_origin_min_per_unit", FT_SIM_KEY_DOUBLE, O (inc_wtw_origin_min), 0, 120, "Extra walk per currency unit, origin (min)" },
  { "incentives", "wtw_dest_min_per_unit", FT_SIM_KEY_DOUBLE, O (inc_wtw_dest_min), 0, 120, "Extra walk per currency unit, destination (min)" },
  { "incentives", "logit_scale_per_min", FT_SIM_KEY_DOUBLE, O (inc_logit_scale), 0.001, 100, "Acceptance logit scale (per min)" },
  { "models", "forecast", FT_SIM_KEY_BOOL, O (models_forecast), 0, 0, "Demand forecast in shadow mode" },
  { "models", "act_on_forecast", FT_SIM_KEY_BOOL, O (models_act), 0, 0, "Prices, offers and rebalancing act on the forecast" },
  { "models", "forecast_model", FT_SIM_KEY_STRING, O (models_forecast_model), 0, 0, "Forecast model (mean, glm or xgb)" },
  { "models", "cadence_min", FT_SIM_KEY_DOUBLE, O (models_cadence_min), 1, 1440, "Shadow cadence (min)" },
  { "models", "horizons", FT_SIM_KEY_STRING, O (models_horizons), 0, 0, "Horizons stored (hours, e.g. 1, 3, 6, 24)" },
  { "models", "quarter_hour", FT_SIM_KEY_BOOL, O (models_quarter_hour), 0, 0, "Also forecast the next 15 minutes" },
  { "models", "training_days", FT_SIM_KEY_DOUBLE, O (models_training_days), 2, 366, "Training window (days)" },
  { "models", "first_fit_days", FT_SIM_KEY_DOUBLE, O (models_first_fit_days), 2, 366, "First fit after (days)" },
  { "models", "retrain_days", FT_SIM_KEY_DOUBLE, O (models_retrain_days), 0, 366, "Retrain every (days; 0 = on drift only)" },
  { "models", "drift_train_days", FT_SIM_KEY_DOUBLE, O (models_drift_train_days), 2, 366, "Training window on drift (days)" },
  { "models", "holdout_hours", FT_SIM_KEY_UINT, O (models_holdout_hours), 1, 336, "Held-back hours" },
  { "models", "min_gain", FT_SIM_KEY_DOUBLE, O (models_min_gain), 0, 0.99, "Promotion needs RMSE lower by (share)" },
  { "models", "retrain_on_drift", FT_SIM_KEY_BOOL, O (models_retrain_on_drift), 0, 0, "Retrain on drift" },
  { "models", "train_lag_min", FT_SIM_KEY_DOUBLE, O (models_train_lag_min), 0, 10080, "A fit's result taken after (min, on a worker meanwhile)" },
  { "models", "drift_warn", FT_SIM_KEY_DOUBLE, O (models_drift_warn), 0.001, 10, "Drift warns at (PSI, KS D)" },
  { "models", "drift_act", FT_SIM_KEY_DOUBLE, O (models_drift_act), 0.001, 10, "Drift acts at (PSI, KS D)" },
  { "models", "maint", FT_SIM_KEY_BOOL, O (models_maint), 0, 0, "Predictive maintenance in shadow mode" },
  { "models", "maint_model", FT_SIM_KEY_STRING, O (models_maint_model), 0, 0, "Maintenance model (baseline, weibull or xgb)" },
  { "models", "maint_cadence_min", FT_SIM_KEY_DOUBLE, O (models_maint_cadence_min), 1, 1440, "Maintenance cadence (min)" },
  { "models", "maint_short_h", FT_SIM_KEY_DOUBLE, O (models_maint_short_h), 1, 720, "Maintenance short horizon (h)" },
  { "models", "maint_long_h", FT_SIM_KEY_DOUBLE, O (models_maint_long_h), 1, 720, "Maintenance long horizon (h)" },
  { "models", "maint_training_days", FT_SIM_KEY_DOUBLE, O (models_maint_training_days), 1, 366, "Maintenance training window (days)" },
  { "models", "maint_first_fit_days", FT_SIM_KEY_DOUBLE, O (models_maint_first_fit_days), 1, 366, "Maintenance first fit after (days)" },
  { "models", "maint_retrain_days", FT_SIM_KEY_DOUBLE, O (models_maint_retrain_days), 0, 366, "Maintenance retrain every (days; 0 = never)" },
  { "models", "maint_holdout_days", FT_SIM_KEY_DOUBLE, O (models_maint_holdout_days), 0, 30, "Maintenance held-back days" },
  { "models", "maint_top_k_frac", FT_SIM_KEY_DOUBLE, O (models_maint_top_k_frac), 0.001, 1, "Maintenance list length (share of the fleet)" },
  { "models", "maint_train_lag_min", FT_SIM_KEY_DOUBLE, O (models_maint_train_lag_min), 0, 10080, "Maintenance fit's result taken after (min)" },
  { "costs", "scooter_price_minor", FT_SIM_KEY_DOUBLE, O (cost_vehicle_minor[0]), 0, 1e9, "Scooter purchase price (minor units)" },
  { "costs", "bike_price_minor", FT_SIM_KEY_DOUBLE, O (cost_vehicle_minor[1]), 0, 1e9, "Bike purchase price (minor units)" },
  { "costs", "moped_price_minor", FT_SIM_KEY_DOUBLE, O (cost_vehicle_minor[2]), 0, 1e9, "Moped purchase price (minor units)" },
  { "costs", "vehicle_life_days", FT_SIM_KEY_DOUBLE, O (cost_vehicle_life_days), 1, 36600, "Vehicle life (days, straight-line depreciation)" },
  { "costs", "pack_price_per_kwh_minor", FT_SIM_KEY_DOUBLE, O (cost_pack_per_kwh_minor), 0, 1e9, "Pack price per kWh (minor units)" },
  { "costs", "pack_cycle_life", FT_SIM_KEY_DOUBLE, O (cost_pack_cycle_life), 1, 1e6, "Pack cycle life (full cycles)" },
  { "costs", "energy_per_kwh_minor", FT_SIM_KEY_DOUBLE, O (cost_energy_per_kwh_minor), 0, 1e6, "Energy price per kWh (minor units)" },
  { "costs", "staff_hourly_minor", FT_SIM_KEY_DOUBLE, O (cost_staff_hourly_minor), 0, 1e7, "Field staff per hour (minor units)" },
  { "costs", "van_per_km_minor", FT_SIM_KEY_DOUBLE, O (cost_van_per_km_minor), 0, 1e6, "Van per km (minor units)" },
  { "costs", "payment_fee_minor", FT_SIM_KEY_DOUBLE, O (cost_payment_fee_minor), 0, 1e6, "Payment fee per trip (minor units)" },
  { "costs", "payment_fee_percent", FT_SIM_KEY_DOUBLE, O (cost_payment_fee_percent), 0, 100, "Payment fee (% of revenue)" },
  { "costs", "insurance_per_vehicle_day_minor", FT_SIM_KEY_DOUBLE, O (cost_insurance_per_vehicle_day_minor), 0, 1e7, "Insurance per vehicle and day (minor units)" },
  { "costs", "depot_per_day_minor", FT_SIM_KEY_DOUBLE, O (cost_depot_per_day_minor), 0, 1e9, "Depot per day (minor units)" },
};
#undef O

FtSimScenario *
ft_sim_scenario_new_default (void)
{
  FtSimScenario *sc = g_new0 (FtSimScenario, 1);
  sc->name = g_strdup ("Default");
  sc->description = g_strdup ("");
  sc->city = g_strdup ("demo");
  sc->days = 1;
  sc->seed = 1;
  sc->scooters = 700;
  sc->bikes = 250;
  sc->mopeds = 50;
  sc->spare_packs_per_vehicle = 0.3;
  sc->initial_soc_min = 0.5;
  sc->initial_soc_max = 1.0;
  sc->fleet_gbfs_max_outside_m = 2000;
  sc->requests_per_vehicle_day = 0;
  sc->demand_scale = 1.0;
  sc->max_walk_m = 300;
  sc->walk_speed_mps = 1.3;
  sc->routing = FT_SIM_ROUTING_STREET;
  sc->detour_factor = 1.3;
  sc->min_trip_m = 400;
  sc->city_hex_m = 400;
  strcpy (sc->currency, "EUR");
  sc->unlock_minor = 100;
  sc->per_min_minor[0] = 25;
  sc->per_min_minor[1] = 20;
  sc->per_min_minor[2] = 35;
  sc->per_km_minor = 0;
  sc->reference_price_minor = 400;
  sc->price_sensitivity = 0.3;
  sc->field_staff = 12;
  sc->dispatchers = 1;
  sc->shift_hours = 8;
  sc->n_shift_starts = 2;
  sc->shift_starts_h = g_new (double, 2);
  sc->shift_starts_h[0] = 6;
  sc->shift_starts_h[1] = 14;
  sc->van_capacity_packs = 30;
  sc->van_speed_kph = 22;
  sc->swap_service_min = 4;
  sc->rebalance_service_min = 5;
  sc->collect_service_min = 8;
  sc->swap_threshold_soc = 0.25;
  sc->rebalance_interval_min = 60;
  sc->rebalance_max_open = 40;
  sc->rebalance_surplus_ratio = 1.5;
  sc->rebalance_lp = FALSE;
  sc->rebalance_max_km = 5;
  sc->task_order = g_strdup ("priority");
  sc->van_routes = FALSE;
  sc->route_interval_min = 15;
  sc->route_iterations = 300;
  sc->route_horizon_min = 60;
  sc->route_tasks_per_van = 8;
  sc->route_wait_weight = 1.0;
  sc->route_flat_first = TRUE;
  sc->route_urgent_soc = 0.25;
  sc->route_at_once = TRUE;
  sc->inspect_risk = 0;
  sc->inspect_horizon_h = 24;
  sc->inspect_every_h = 6;
  sc->inspect_out_of_service = FALSE;
  sc->maint_model = g_strdup ("weibull");
  sc->inspect_service_min = 10;
  sc->charge_hours_full = 3.5;
  sc->chargers_per_depot = 0;
  sc->faults_per_1000km = 1.5;
  sc->wear_per_km = 0.0005;
  sc->wear_hazard_factor = 3.0;
  sc->repair_hours = 8;
  /* a new fleet whose faults come without warning unless a scenario sets
   * the precursor process (see [faults] in scenarios/demo-city-shadow) */
  sc->initial_wear_max = 0;
  sc->defect_km = 0;
  sc->defect_warnings_per_100km = 0;
  sc->wear_warnings_per_1000km = 0;
  /* damage is off unless a scenario sets a rate; the photo check's rates
   * are what tests/inspect/inspect-eval measured on the report split */
  sc->damage_per_1000_trips = 0;
  sc->damage_per_1000km = 0;
  sc->photo_recall = 0.91;         /* any damage flagged, photos 20-27 */
  sc->photo_false_alarm = 0.19;    /* 6 of 32 undamaged, 4 of them low-resolution */
  sc->battery_swaps = TRUE;
  sc->rebalancing = TRUE;
  sc->fault_collection = TRUE;
  sc->price_response = TRUE;
  sc->geofence_parking = TRUE;
  sc->dyn_policy = g_strdup ("off");
  sc->dyn_objective = g_strdup ("margin");
  sc->dyn_protected_zones = g_strdup ("");   /* none (empty, as the editor writes it) */
  sc->dyn_interval_min = 15;
  sc->dyn_floor = 1.0;
  sc->dyn_cap = 1.5;
  sc->dyn_max_change = 0.2;
  sc->dyn_emergency_cap = 1.0;
  sc->dyn_util_low = 0.5;
  sc->dyn_util_high = 1.0;
  sc->dyn_service_floor = 0.98;
  sc->dyn_cost_per_trip_minor = 150;
  /* Price elasticity of demand per kind. No micromobility-specific
   * estimate is settled; these sit in the short-run range of urban transit
   * fare elasticities, about -0.2 to -0.5 (T. Litman, "Transit Price
   * Elasticities and Cross-Elasticities", Victoria Transport Policy
   * Institute, updated yearly; the range the issue quotes as -0.25 to
   * -0.5). Mopeds, the priciest and longest rides, are taken as the least
   * sensitive. */
  sc->elasticity[0] = -0.35;
  sc->elasticity[1] = -0.30;
  sc->elasticity[2] = -0.25;
  sc->inc_enabled = FALSE;
  sc->inc_recompute_min = 15;
  sc->inc_reward_minor = 100;
  sc->inc_budget_per_day_minor = 20000;
  sc->inc_cap_per_rider_day_minor = 300;
  sc->inc_min_distance_m = 400;
  sc->inc_cooldown_min = 20;
  sc->inc_hop_back_min = 120;
  sc->inc_max_detour_m = 400;
  sc->inc_surplus_ratio = 1.5;
  sc->inc_shortfall_ratio = 0.7;
  /* Acceptance of a relocation offer: a logit on the minutes of extra
   * walking against the reward, P = 1 / (1 + exp(-s (wtw x reward - extra))).
   * wtw, the extra walking one currency unit buys: 3.8 min at the origin and
   * 4.2 min at the destination (T. Fukushige, D. T. Fitch, S. Handy, "Can an
   * incentive-based approach to rebalancing a dock-less bike-share system
   * work? Evidence from Sacramento, California", Transportation Research
   * Part A 163 (2022) 181-194; per US dollar, used here per major unit).
   * The scale s (0.35 per minute) is ours, not from the source: it makes
   * acceptance 50 % where the reward exactly pays the extra walk, ~80 % with
   * 4 minutes to spare and ~20 % 4 minutes short. */
  sc->inc_wtw_origin_min = 3.8;
  sc->inc_wtw_dest_min = 4.2;
  sc->inc_logit_scale = 0.35;
  sc->shift_factor = 1.0;
  /* [models]: the defaults of ft_shadow_config_init */
  sc->models_forecast_model = g_strdup ("glm");
  sc->models_cadence_min = 60;
  sc->models_horizons = g_strdup ("1, 3, 6, 24");
  sc->models_quarter_hour = TRUE;
  sc->models_training_days = 7;
  sc->models_first_fit_days = 3;
  sc->models_retrain_days = 7;
  sc->models_drift_train_days = 3;
  sc->models_holdout_hours = 24;
  sc->models_min_gain = 0.02;
  sc->models_retrain_on_drift = TRUE;
  sc->models_train_lag_min = 60;
  sc->models_drift_warn = 0.1;
  sc->models_drift_act = 0.25;
  /* the defaults of ft_maint_shadow_config_init */
  sc->models_maint_model = g_strdup ("weibull");
  sc->models_maint_cadence_min = 360;
  sc->models_maint_short_h = 24;
  sc->models_maint_long_h = 168;
  sc->models_maint_training_days = 7;
  sc->models_maint_first_fit_days = 4;
  sc->models_maint_retrain_days = 7;
  sc->models_maint_holdout_days = 1;
  sc->models_maint_top_k_frac = 0.02;
  sc->models_maint_train_lag_min = 360;
  /* [costs]: round figures for a European operator in 2024, to be replaced
   * by an operator's own. Vehicles: a sharing-grade e-scooter about 550 EUR,
   * an e-bike 1,800 EUR, an e-moped 3,500 EUR, written off over two years
   * (operators report 18-36 months for current swappable-battery models).
   * Packs: about 300 EUR per kWh of capacity for small swappable packs,
   * 800 full cycles to 80 % health (NMC cells are rated 500-1,000), so each
   * kWh charged wears 300/800 EUR of pack. Electricity 0.25 EUR per kWh
   * (EU non-household prices, Eurostat 2024, 0.15-0.30). Field staff 25 EUR
   * per hour with employer costs; a van 0.35 EUR per km (fuel or power,
   * lease, upkeep). Card payments 0.25 EUR plus 1.4 % per trip (European
   * consumer-card pricing). Insurance 0.15 EUR per vehicle and day (about
   * 55 EUR a year), a depot 150 EUR per day (rent, chargers, power
   * connection). Incentives are what the ledger's expense:incentives holds. */
  sc->cost_vehicle_minor[0] = 55000;
  sc->cost_vehicle_minor[1] = 180000;
  sc->cost_vehicle_minor[2] = 350000;
  sc->cost_vehicle_life_days = 730;
  sc->cost_pack_per_kwh_minor = 30000;
  sc->cost_pack_cycle_life = 800;
  sc->cost_energy_per_kwh_minor = 25;
  sc->cost_staff_hourly_minor = 2500;
  sc->cost_van_per_km_minor = 35;
  sc->cost_payment_fee_minor = 25;
  sc->cost_payment_fee_percent = 1.4;
  sc->cost_insurance_per_vehicle_day_minor = 15;
  sc->cost_depot_per_day_minor = 15000;
  return sc;
}

void
ft_sim_scenario_free (FtSimScenario *sc)
{
  if (sc == NULL)
    return;
  g_free (sc->name);
  g_free (sc->description);
  g_free (sc->city);
  g_free (sc->trace);
  g_free (sc->shift_zones);
  g_free (sc->models_forecast_model);
  g_free (sc->models_horizons);
  g_free (sc->models_maint_model);
  g_free (sc->city_osm);
  g_free (sc->fleet_gbfs);
  g_free (sc->city_trips);
  g_free (sc->city_name);
  g_free (sc->shift_starts_h);
  g_free (sc->task_order);
  g_free (sc->maint_model);
  g_free (sc->dyn_policy);
  g_free (sc->dyn_objective);
  g_free (sc->dyn_protected_zones);
  g_free (sc->path);
  g_free (sc->text);
  g_free (sc);
}

FtSimScenario *
ft_sim_scenario_copy (const FtSimScenario *sc)
{
  g_return_val_if_fail (sc != NULL, NULL);
  FtSimScenario *c = g_memdup2 (sc, sizeof *sc);
  c->name = g_strdup (sc->name);
  c->description = g_strdup (sc->description);
  c->city = g_strdup (sc->city);
  c->trace = g_strdup (sc->trace);
  c->shift_zones = g_strdup (sc->shift_zones);
  c->models_forecast_model = g_strdup (sc->models_forecast_model);
  c->models_horizons = g_strdup (sc->models_horizons);
  c->models_maint_model = g_strdup (sc->models_maint_model);
  c->city_osm = g_strdup (sc->city_osm);
  c->fleet_gbfs = g_strdup (sc->fleet_gbfs);
  c->city_trips = g_strdup (sc->city_trips);
  c->city_name = g_strdup (sc->city_name);
  c->shift_starts_h = g_memdup2 (sc->shift_starts_h, sizeof (double) * sc->n_shift_starts);
  c->task_order = g_strdup (sc->task_order);
  c->maint_model = g_strdup (sc->maint_model);
  c->dyn_policy = g_strdup (sc->dyn_policy);
  c->dyn_objective = g_strdup (sc->dyn_objective);
  c->dyn_protected_zones = g_strdup (sc->dyn_protected_zones);
  c->path = g_strdup (sc->path);
  c->text = g_strdup (sc->text);
  return c;
}

guint
ft_sim_scenario_n_vehicles (const FtSimScenario *sc)
{
  return sc->scooters + sc->bikes + sc->mopeds;
}

/* Line number of `key` inside [group] in the raw text (1-based), or 0. */
static guint
find_line (const char *text, const char *group, const char *key)
{
  g_auto (GStrv) lines = g_strsplit (text, "\n", -1);
  gboolean in_group = group == NULL;
  for (guint i = 0; lines[i]; i++)
    {
      g_autofree char *l = g_strstrip (g_strdup (lines[i]));
      if (l[0] == '[')
        {
          g_autofree char *want = g_strdup_printf ("[%s]", group ? group : "");
          in_group = strcmp (l, want) == 0;
          if (key == NULL && in_group)
            return i + 1;
          continue;
        }
      if (!in_group || key == NULL)
        continue;
      gsize kl = strlen (key);
      if (strncmp (l, key, kl) == 0 && (l[kl] == '=' || l[kl] == ' ' || l[kl] == '\t'))
        return i + 1;
    }
  return 0;
}

static gboolean
fail (GError **error, const char *where, const char *text, const char *group,
      const char *key, const char *fmt, ...) G_GNUC_PRINTF (6, 7);

static gboolean
fail (GError **error, const char *where, const char *text, const char *group,
      const char *key, const char *fmt, ...)
{
  va_list ap;
  va_start (ap, fmt);
  g_autofree char *msg = g_strdup_vprintf (fmt, ap);
  va_end (ap);
  guint line = find_line (text, group, key);
  g_autofree char *loc = line ? g_strdup_printf ("%s:%u", where, line) : g_strdup (where);
  if (key)
    g_set_error (error, FT_SIM_ERROR, FT_SIM_ERROR_SCENARIO, "%s: [%s] %s: %s", loc, group, key, msg);
  else
    g_set_error (error, FT_SIM_ERROR, FT_SIM_ERROR_SCENARIO, "%s: [%s]: %s", loc, group, msg);
  return FALSE;
}

static const KeySpec *
spec_for (const char *group, const char *key)
{
  for (guint i = 0; i < G_N_ELEMENTS (keys); i++)
    if (strcmp (keys[i].group, group) == 0 && strcmp (keys[i].key, key) == 0)
      return &keys[i];
  return NULL;
}

static gboolean
known_group (const char *group)
{
  for (guint i = 0; i < G_N_ELEMENTS (keys); i++)
    if (strcmp (keys[i].group, group) == 0)
      return TRUE;
  return FALSE;
}

static gboolean
parse_hours (const char *s, double *out)
{
  int h = 0, m = 0;
  char extra;
  if (sscanf (s, "%d:%d%c", &h, &m, &extra) == 2 || (m = 0, sscanf (s, "%d%c", &h, &extra) == 1))
    {
      if (h < 0 || h > 23 || m < 0 || m > 59)
        return FALSE;
      *out = h + m / 60.0;
      return TRUE;
    }
  return FALSE;
}

/* Sets k in sc from raw text; on error sets *msg (what is wrong with the
 * value, without the key) and leaves sc unchanged. */
static gboolean
value_from_text (FtSimScenario *sc, const KeySpec *k, const char *raw, char **msg)
{
  g_autofree char *v = g_strstrip (g_strdup (raw));
  char *p = (char *) sc + k->offset;
  char *end = NULL;
  switch (k->type)
    {
    case FT_SIM_KEY_DOUBLE:
      {
        double d = g_ascii_strtod (v, &end);
        if (v[0] == '\0' || *end != '\0' || !isfinite (d))
          return *msg = g_strdup_printf ("'%s' is not a number", v), FALSE;
        if (d < k->min || d > k->max)
          return *msg = g_strdup_printf ("%g is outside [%g, %g]", d, k->min, k->max), FALSE;
        *(double *) p = d;
        return TRUE;
      }
    case FT_SIM_KEY_UINT:
    case FT_SIM_KEY_UINT64:
    case FT_SIM_KEY_INT64:
      {
        guint64 u = 0;
        if (v[0] == '-' || !g_ascii_string_to_unsigned (v, 10, 0, G_MAXUINT64, &u, NULL))
          return *msg = g_strdup_printf ("'%s' is not a whole number", v), FALSE;
        if (k->max > 0 && ((double) u < k->min || (double) u > k->max))
          return *msg = g_strdup_printf ("%" G_GUINT64_FORMAT " is outside [%g, %g]", u, k->min, k->max), FALSE;
        if (k->type == FT_SIM_KEY_UINT)
          *(guint *) p = (guint) u;
        else if (k->type == FT_SIM_KEY_UINT64)
          *(guint64 *) p = u;
        else
          *(gint64 *) p = (gint64) u;
        return TRUE;
      }
    case FT_SIM_KEY_BOOL:
      if (g_ascii_strcasecmp (v, "true") == 0 || strcmp (v, "1") == 0 || g_ascii_strcasecmp (v, "yes") == 0)
        *(gboolean *) p = TRUE;
      else if (g_ascii_strcasecmp (v, "false") == 0 || strcmp (v, "0") == 0 || g_ascii_strcasecmp (v, "no") == 0)
        *(gboolean *) p = FALSE;
      else
        return *msg = g_strdup_printf ("'%s' is not true or false", v), FALSE;
      return TRUE;
    case FT_SIM_KEY_STRING:
      if (strchr (v, '\n') || strchr (v, '\r'))
        return *msg = g_strdup ("must be on one line"), FALSE;
      g_free (*(char **) p);
      *(char **) p = g_strdup (v);
      return TRUE;
    case FT_SIM_KEY_CURRENCY:
      if (strlen (v) != 3 || !g_ascii_isupper (v[0]) || !g_ascii_isupper (v[1]) || !g_ascii_isupper (v[2]))
        return *msg = g_strdup_printf ("'%s' is not an ISO 4217 code like EUR", v), FALSE;
      memcpy (p, v, 4);
      return TRUE;
    case FT_SIM_KEY_ROUTING:
      if (strcmp (v, "street") == 0)
        *(FtSimRouting *) p = FT_SIM_ROUTING_STREET;
      else if (strcmp (v, "straight") == 0)
        *(FtSimRouting *) p = FT_SIM_ROUTING_STRAIGHT;
      else
        return *msg = g_strdup_printf ("'%s' must be street or straight", v), FALSE;
      return TRUE;
    case FT_SIM_KEY_HOURS_LIST:
      {
        g_auto (GStrv) parts = g_strsplit (v, ",", -1);
        guint n = g_strv_length (parts);
        if (n == 0 || v[0] == '\0')
          return *msg = g_strdup ("needs at least one start time like 06:00"), FALSE;
        g_autofree double *h = g_new (double, n);
        for (guint i = 0; i < n; i++)
          {
            g_strstrip (parts[i]);
            if (!parse_hours (parts[i], &h[i]))
              return *msg = g_strdup_printf ("'%s' is not a time like 06:00", parts[i]), FALSE;
          }
        g_free (sc->shift_starts_h);
        sc->shift_starts_h = g_steal_pointer (&h);
        sc->n_shift_starts = n;
        return TRUE;
      }
    }
  g_assert_not_reached ();
}

static gboolean
apply_key (FtSimScenario *sc, const KeySpec *k, const char *raw, const char *where,
           const char *text, GError **error)
{
  g_autofree char *msg = NULL;
  if (value_from_text (sc, k, raw, &msg))
    return TRUE;
  return fail (error, where, text, k->group, k->key, "%s", msg);
}

/* The rider levers' checks across keys (one key's bounds are in the table). */
static gboolean
check_levers (const FtSimScenario *sc, const char **group, const char **key, char **msg)
{
  FtDynPolicy pol;
  FtDynObjective obj;
  *group = "dynamic_pricing";
  if (!ft_dyn_policy_parse (sc->dyn_policy, &pol))
    {
      *key = "policy";
      *msg = g_strdup_printf ("'%s' is not off, utilisation or optimise", sc->dyn_policy ? sc->dyn_policy : "");
      return FALSE;
    }
  if (!ft_dyn_objective_parse (sc->dyn_objective, &obj))
    {
      *key = "objective";
      *msg = g_strdup_printf ("'%s' is not revenue, trips or margin", sc->dyn_objective ? sc->dyn_objective : "");
      return FALSE;
    }
  if (sc->dyn_floor > sc->dyn_cap)
    {
      *key = "floor";
      *msg = g_strdup_printf ("%g is above cap %g", sc->dyn_floor, sc->dyn_cap);
      return FALSE;
    }
  if (sc->dyn_emergency_cap < sc->dyn_floor || sc->dyn_emergency_cap > sc->dyn_cap)
    {
      *key = "emergency_cap";
      *msg = g_strdup_printf ("%g must lie between floor %g and cap %g", sc->dyn_emergency_cap, sc->dyn_floor,
                              sc->dyn_cap);
      return FALSE;
    }
  if (sc->dyn_emergency_to_h < sc->dyn_emergency_from_h)
    {
      *key = "emergency_to_h";
      *msg = g_strdup_printf ("%g is before emergency_from_h %g", sc->dyn_emergency_to_h, sc->dyn_emergency_from_h);
      return FALSE;
    }
  if (sc->dyn_util_low > sc->dyn_util_high)
    {
      *key = "utilisation_low";
      *msg = g_strdup_printf ("%g is above utilisation_high %g", sc->dyn_util_low, sc->dyn_util_high);
      return FALSE;
    }
  if (sc->dyn_protected_zones != NULL && sc->dyn_protected_zones[0] != '\0')
    {
      g_auto (GStrv) parts = g_strsplit (sc->dyn_protected_zones, ",", -1);
      for (guint i = 0; parts[i]; i++)
        {
          g_strstrip (parts[i]);
          guint64 z;
          if (!g_ascii_string_to_unsigned (parts[i], 10, 0, 1000000, &z, NULL))
            {
              *key = "protected_zones";
              *msg = g_strdup_printf ("'%s' is not a zone index (give whole numbers separated by commas)",
                                      parts[i]);
              return FALSE;
            }
        }
    }
  return TRUE;
}

gboolean
ft_sim_scenario_models_horizons (const FtSimScenario *sc, guint *leads, guint *n_out, char **msg)
{
  g_autofree char *v = g_strstrip (g_strdup (sc->models_horizons ? sc->models_horizons : ""));
  g_auto (GStrv) parts = g_strsplit (v, ",", -1);
  guint n = g_strv_length (parts);
  if (n == 0 || n > 8 || v[0] == '\0')
    {
      *msg = g_strdup ("needs 1 to 8 hours ahead like 1, 3, 6, 24");
      return FALSE;
    }
  for (guint i = 0; i < n; i++)
    {
      guint64 u = 0;
      g_strstrip (parts[i]);
      if (!g_ascii_string_to_unsigned (parts[i], 10, 1, 24, &u, NULL))
        {
          *msg = g_strdup_printf ("'%s' is not a whole number of hours in [1, 24]", parts[i]);
          return FALSE;
        }
      leads[i] = (guint) u;
    }
  *n_out = n;
  return TRUE;
}

/* The checks across keys; on failure sets group, key (may be NULL) and msg. */
static gboolean
check_cross (const FtSimScenario *sc, const char **group, const char **key, char **msg)
{
  if (sc->initial_soc_min > sc->initial_soc_max)
    {
      *group = "fleet", *key = "initial_soc_min";
      *msg = g_strdup_printf ("%.2f is above initial_soc_max %.2f", sc->initial_soc_min, sc->initial_soc_max);
      return FALSE;
    }
  struct { const char *group, *key, *v; } paths[] = {
    { "city", "osm", sc->city_osm }, { "city", "trips", sc->city_trips }, { "demand", "trace", sc->trace },
    { "fleet", "gbfs", sc->fleet_gbfs },
  };
  for (guint i = 0; i < G_N_ELEMENTS (paths); i++)
    if (paths[i].v != NULL && paths[i].v[0] == '\0')
      {
        *group = paths[i].group, *key = paths[i].key;
        *msg = g_strdup ("is empty (name a file, or leave the key out)");
        return FALSE;
      }
  if (sc->city == NULL || sc->city[0] == '\0')
    {
      *group = "scenario", *key = "city";
      *msg = g_strdup ("is empty (demo, or a city pack folder)");
      return FALSE;
    }
  if ((sc->city_osm || sc->city_trips) && g_strcmp0 (sc->city, "demo") != 0)
    {
      *group = "scenario", *key = "city";
      *msg = g_strdup_printf ("'%s' and a [city] recipe both name the city; keep one", sc->city);
      return FALSE;
    }
  if ((sc->city_name || sc->city_requests_per_day > 0) && !sc->city_osm && !sc->city_trips)
    {
      *group = "city", *key = NULL;
      *msg = g_strdup ("needs osm = FILE or trips = FILE to build a city");
      return FALSE;
    }
  if (g_strcmp0 (sc->models_forecast_model, "mean") != 0 && g_strcmp0 (sc->models_forecast_model, "glm") != 0
      && g_strcmp0 (sc->models_forecast_model, "xgb") != 0)
    {
      *group = "models", *key = "forecast_model";
      *msg = g_strdup_printf ("'%s' must be mean, glm or xgb", sc->models_forecast_model);
      return FALSE;
    }
  guint leads[8], n_leads;
  if (!ft_sim_scenario_models_horizons (sc, leads, &n_leads, msg))
    {
      *group = "models", *key = "horizons";
      return FALSE;
    }
  if (g_strcmp0 (sc->models_maint_model, "baseline") != 0 && g_strcmp0 (sc->models_maint_model, "weibull") != 0
      && g_strcmp0 (sc->models_maint_model, "xgb") != 0)
    {
      *group = "models", *key = "maint_model";
      *msg = g_strdup_printf ("'%s' must be baseline, weibull or xgb", sc->models_maint_model);
      return FALSE;
    }
  if (sc->models_maint_short_h >= sc->models_maint_long_h)
    {
      *group = "models", *key = "maint_short_h";
      *msg = g_strdup_printf ("%g is not below maint_long_h %g", sc->models_maint_short_h, sc->models_maint_long_h);
      return FALSE;
    }
  if (g_strcmp0 (sc->models_maint_model, "xgb") == 0
      && (sc->models_maint_short_h != 24 || sc->models_maint_long_h != 168))
    {
      *group = "models", *key = "maint_model";
      *msg = g_strdup ("xgb answers the horizons 24 and 168 h only (maint_short_h, maint_long_h)");
      return FALSE;
    }
  if (sc->models_act && !sc->models_forecast)
    {
      *group = "models", *key = "act_on_forecast";
      *msg = g_strdup ("needs forecast = true (the forecast it acts on)");
      return FALSE;
    }
  if (sc->models_drift_warn > sc->models_drift_act)
    {
      *group = "models", *key = "drift_warn";
      *msg = g_strdup_printf ("%g is above drift_act %g", sc->models_drift_warn, sc->models_drift_act);
      return FALSE;
    }
  if (ft_sim_scenario_n_vehicles (sc) == 0 && sc->fleet_gbfs == NULL)
    {
      *group = "fleet", *key = NULL;
      *msg = g_strdup ("the fleet is empty (scooters + bikes + mopeds = 0, and no gbfs snapshot)");
      return FALSE;
    }
  *group = "rules";
  if (g_strcmp0 (sc->task_order, "priority") != 0 && g_strcmp0 (sc->task_order, "value") != 0)
    {
      *key = "task_order";
      *msg = g_strdup_printf ("'%s' is not priority or value", sc->task_order ? sc->task_order : "");
      return FALSE;
    }
  if (g_strcmp0 (sc->maint_model, "baseline") != 0 && g_strcmp0 (sc->maint_model, "weibull") != 0)
    {
      *key = "maint_model";
      *msg = g_strdup_printf ("'%s' is not baseline or weibull", sc->maint_model ? sc->maint_model : "");
      return FALSE;
    }
  return check_levers (sc, group, key, msg);
}

gboolean
ft_sim_scenario_check (const FtSimScenario *sc, GError **error)
{
  g_return_val_if_fail (sc != NULL, FALSE);
  const char *group = NULL, *key = NULL;
  g_autofree char *msg = NULL;
  if (check_cross (sc, &group, &key, &msg))
    return TRUE;
  if (key)
    g_set_error (error, FT_SIM_ERROR, FT_SIM_ERROR_SCENARIO, "[%s] %s: %s", group, key, msg);
  else
    g_set_error (error, FT_SIM_ERROR, FT_SIM_ERROR_SCENARIO, "[%s]: %s", group, msg);
  return FALSE;
}

FtSimScenario *
ft_sim_scenario_parse (const char *text, gssize len, const char *where, GError **error)
{
  g_return_val_if_fail (text != NULL, NULL);
  if (where == NULL)
    where = "<scenario>";
  gsize n = len < 0 ? strlen (text) : (gsize) len;
  if (memchr (text, '\0', n) != NULL || !g_utf8_validate (text, (gssize) n, NULL))
    {
      g_set_error (error, FT_SIM_ERROR, FT_SIM_ERROR_SCENARIO,
                   "%s: not a scenario: it holds binary data, and a scenario is a text file", where);
      return NULL;
    }
  g_autofree char *copy = g_strndup (text, n);
  g_autoptr (GKeyFile) kf = g_key_file_new ();
  g_autoptr (GError) local = NULL;
  if (!g_key_file_load_from_data (kf, copy, (gsize) -1, G_KEY_FILE_NONE, &local))
    {
      g_set_error (error, FT_SIM_ERROR, FT_SIM_ERROR_SCENARIO, "%s: %s", where, local->message);
      return NULL;
    }
  g_autoptr (FtSimScenario) sc = ft_sim_scenario_new_default ();
  gsize n_groups = 0;
  g_auto (GStrv) groups = g_key_file_get_groups (kf, &n_groups);
  for (gsize g = 0; g < n_groups; g++)
    {
      if (!known_group (groups[g]))
        {
          fail (error, where, copy, groups[g], NULL,
                "unknown group (expected scenario, city, fleet, demand, pricing, staff, rules, batteries, faults, features, dynamic_pricing, incentives, models or costs)");
          return NULL;
        }
      gsize n_keys = 0;
      g_auto (GStrv) ks = g_key_file_get_keys (kf, groups[g], &n_keys, NULL);
      for (gsize i = 0; i < n_keys; i++)
        {
          const KeySpec *spec = spec_for (groups[g], ks[i]);
          if (spec == NULL)
            {
              fail (error, where, copy, groups[g], ks[i], "unknown key");
              return NULL;
            }
          g_autofree char *raw = g_key_file_get_value (kf, groups[g], ks[i], NULL);
          /* allow trailing comments after values: "700   # scooters" */
          char *hash = strchr (raw, '#');
          if (hash && spec->type != FT_SIM_KEY_STRING)
            *hash = '\0';
          if (!apply_key (sc, spec, raw, where, copy, error))
            return NULL;
        }
    }
  const char *cgroup = NULL, *ckey = NULL;
  g_autofree char *cmsg = NULL;
  if (!check_cross (sc, &cgroup, &ckey, &cmsg))
    {
      fail (error, where, copy, cgroup, ckey, "%s", cmsg);
      return NULL;
    }
  sc->text = g_steal_pointer (&copy);
  return g_steal_pointer (&sc);
}

static char *
shared_data_dir (const FtSimScenario *sc)
{
  const char *env = g_getenv ("FT_SHARED_DATA_DIR");
  if (env && env[0])
    return g_strdup (env);
  if (sc->path)
    {
      g_autofree char *abs = g_canonicalize_filename (sc->path, NULL);
      g_autofree char *dir = g_path_get_dirname (abs);
      for (int up = 0; up < 4; up++)
        {
          g_autofree char *cand = g_build_filename (dir, "shared", "data", NULL);
          if (g_file_test (cand, G_FILE_TEST_IS_DIR))
            return g_steal_pointer (&cand);
          char *parent = g_path_get_dirname (dir);
          g_free (dir);
          dir = parent;
        }
    }
  return g_strdup (FT_SHARED_DATA_DIR);
}

char *
ft_sim_scenario_resolve_path (const FtSimScenario *sc, const char *raw)
{
  g_return_val_if_fail (sc != NULL && raw != NULL, NULL);
  if (g_str_has_prefix (raw, "${shared}"))
    {
      g_autofree char *shared = shared_data_dir (sc);
      const char *rest = raw + strlen ("${shared}");
      while (*rest == '/')
        rest++;
      return g_build_filename (shared, rest, NULL);
    }
  if (g_path_is_absolute (raw) || sc->path == NULL)
    return g_strdup (raw);
  g_autofree char *base = g_path_get_dirname (sc->path);
  return g_build_filename (base, raw, NULL);
}

FtSimScenario *
ft_sim_scenario_load (const char *path, GError **error)
{
  g_return_val_if_fail (path != NULL, NULL);
  g_autofree char *text = NULL;
  gsize len = 0;
  g_autoptr (GError) local = NULL;
  if (!ft_file_read (path, FT_FILE_MAX_TEXT, &text, &len, &local))
    {
      g_set_error (error, FT_SIM_ERROR, FT_SIM_ERROR_SCENARIO, "cannot read scenario %s: %s",
                   path, local->message);
      return NULL;
    }
  FtSimScenario *sc = ft_sim_scenario_parse (text, (gssize) len, path, error);
  if (sc)
    sc->path = g_strdup (path);
  return sc;
}

/* ------------------------------------------------ the table, for others */

const FtSimScenarioKey *
ft_sim_scenario_keys (guint *n_keys)
{
  if (n_keys)
    *n_keys = G_N_ELEMENTS (keys);
  return keys;
}

const FtSimScenarioKey *
ft_sim_scenario_find_key (const char *group, const char *key)
{
  g_return_val_if_fail (group != NULL && key != NULL, NULL);
  return spec_for (group, key);
}

char *
ft_sim_scenario_get_value (const FtSimScenario *sc, const FtSimScenarioKey *k)
{
  g_return_val_if_fail (sc != NULL && k != NULL, NULL);
  const char *p = (const char *) sc + k->offset;
  char buf[G_ASCII_DTOSTR_BUF_SIZE];
  switch (k->type)
    {
    case FT_SIM_KEY_DOUBLE:
      return g_strdup (g_ascii_dtostr (buf, sizeof buf, *(const double *) p));
    case FT_SIM_KEY_UINT:
      return g_strdup_printf ("%u", *(const guint *) p);
    case FT_SIM_KEY_UINT64:
      return g_strdup_printf ("%" G_GUINT64_FORMAT, *(const guint64 *) p);
    case FT_SIM_KEY_INT64:
      return g_strdup_printf ("%" G_GINT64_FORMAT, *(const gint64 *) p);
    case FT_SIM_KEY_BOOL:
      return g_strdup (*(const gboolean *) p ? "true" : "false");
    case FT_SIM_KEY_STRING:
      return g_strdup (*(char *const *) p);
    case FT_SIM_KEY_CURRENCY:
      return g_strndup (p, 3);
    case FT_SIM_KEY_ROUTING:
      return g_strdup (*(const FtSimRouting *) p == FT_SIM_ROUTING_STRAIGHT ? "straight" : "street");
    case FT_SIM_KEY_HOURS_LIST:
      {
        GString *s = g_string_new (NULL);
        for (guint i = 0; i < sc->n_shift_starts; i++)
          {
            int mins = (int) lround (sc->shift_starts_h[i] * 60);
            g_string_append_printf (s, "%s%02d:%02d", i ? "," : "", mins / 60, mins % 60);
          }
        return g_string_free (s, FALSE);
      }
    }
  g_assert_not_reached ();
}

gboolean
ft_sim_scenario_set_value (FtSimScenario *sc, const FtSimScenarioKey *k, const char *text, GError **error)
{
  g_return_val_if_fail (sc != NULL && k != NULL && text != NULL, FALSE);
  g_autofree char *msg = NULL;
  if (value_from_text (sc, k, text, &msg))
    return TRUE;
  g_set_error (error, FT_SIM_ERROR, FT_SIM_ERROR_SCENARIO, "[%s] %s: %s", k->group, k->key, msg);
  return FALSE;
}

gboolean
ft_sim_scenario_equal (const FtSimScenario *a, const FtSimScenario *b)
{
  g_return_val_if_fail (a != NULL && b != NULL, FALSE);
  for (guint i = 0; i < G_N_ELEMENTS (keys); i++)
    {
      g_autofree char *va = ft_sim_scenario_get_value (a, &keys[i]);
      g_autofree char *vb = ft_sim_scenario_get_value (b, &keys[i]);
      if (g_strcmp0 (va, vb) != 0)
        return FALSE;
    }
  return TRUE;
}

/* The comment after a number ("700   # scooters"), or NULL. */
static const char *
trailing_comment (const char *raw)
{
  const char *hash = raw ? strchr (raw, '#') : NULL;
  return hash;
}

char *
ft_sim_scenario_to_text (const FtSimScenario *sc)
{
  g_return_val_if_fail (sc != NULL, NULL);
  g_autoptr (GKeyFile) kf = g_key_file_new ();
  g_autoptr (FtSimScenario) def = ft_sim_scenario_new_default ();
  g_autoptr (FtSimScenario) orig = NULL;
  if (sc->text)
    {
      orig = ft_sim_scenario_parse (sc->text, -1, NULL, NULL);
      if (orig == NULL || !g_key_file_load_from_data (kf, sc->text, (gsize) -1,
                                                      G_KEY_FILE_KEEP_COMMENTS, NULL))
        {
          g_clear_pointer (&orig, ft_sim_scenario_free);
          g_key_file_free (kf);
          kf = g_key_file_new ();
        }
    }
  if (orig == NULL)
    g_key_file_set_comment (kf, NULL, NULL, " A Fleet Twin scenario; keys left out keep their defaults.", NULL);
  for (guint i = 0; i < G_N_ELEMENTS (keys); i++)
    {
      const KeySpec *k = &keys[i];
      g_autofree char *v = ft_sim_scenario_get_value (sc, k);
      gboolean present = g_key_file_has_key (kf, k->group, k->key, NULL);
      if (present)
        {
          g_autofree char *was = ft_sim_scenario_get_value (orig, k);
          if (v == NULL)
            g_key_file_remove_key (kf, k->group, k->key, NULL);
          else if (g_strcmp0 (v, was) != 0)
            {
              g_autofree char *raw = g_key_file_get_value (kf, k->group, k->key, NULL);
              const char *note = k->type != FT_SIM_KEY_STRING ? trailing_comment (raw) : NULL;
              g_autofree char *nv = note ? g_strdup_printf ("%s   %s", v, note) : NULL;
              g_key_file_set_value (kf, k->group, k->key, nv ? nv : v);
            }
          continue;
        }
      g_autofree char *dv = ft_sim_scenario_get_value (def, k);
      /* name is written always, so a file says what it is */
      if (v != NULL && (g_strcmp0 (v, dv) != 0 || (orig == NULL && strcmp (k->key, "name") == 0 &&
                                                   strcmp (k->group, "scenario") == 0)))
        g_key_file_set_value (kf, k->group, k->key, v);
    }
  /* groups only the removal of keys emptied go too (they would read the same) */
  return g_key_file_to_data (kf, NULL, NULL);
}

static gboolean
is_scenario_file (const char *path)
{
  g_autoptr (FtSimScenario) sc = ft_sim_scenario_load (path, NULL);
  return sc != NULL;
}

gboolean
ft_sim_scenario_save (const FtSimScenario *sc, const char *path, gboolean force, GError **error)
{
  g_return_val_if_fail (sc != NULL && path != NULL, FALSE);
  g_autofree char *text = ft_sim_scenario_to_text (sc);
  g_autoptr (GError) perr = NULL;
  g_autoptr (FtSimScenario) check = ft_sim_scenario_parse (text, -1, path, &perr);
  if (check == NULL)
    {
      g_set_error (error, FT_SIM_ERROR, FT_SIM_ERROR_SCENARIO,
                   "the scenario would not load back, so it was not saved: %s", perr->message);
      return FALSE;
    }
  if (!ft_sim_scenario_equal (check, sc))
    {
      g_set_error (error, FT_SIM_ERROR, FT_SIM_ERROR_SCENARIO,
                   "%s: the written scenario would read back different, so it was not saved", path);
      return FALSE;
    }
  g_autoptr (FtOutput) out = ft_output_begin (path, FT_OUTPUT_FILE, is_scenario_file, force, error);
  if (out == NULL)
    return FALSE;
  if (!g_file_set_contents (ft_output_get_path (out), text, -1, error))
    return FALSE;
  return ft_output_commit (g_steal_pointer (&out), error);
}
