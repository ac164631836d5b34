/* ft-sim-world-kpis.c — the world's KPIs: the lost-trip reasons by name,
 * the counters folded into an FtSimKpis, the cost model ([costs]: fixed
 * costs accrue per vehicle, depot and day; variable ones from the energy
 * charged, staff hours, van km, trips and the ledger's incentives), and
 * their JSON form (the golden file's format).
 */
#include "ft-sim-world-private.h"

#include <stddef.h>
#include <string.h>

static const char *lost_names[FT_SIM_N_LOST] = { "no_vehicle", "low_battery", "price", "refused" };

const char *
ft_sim_lost_reason_name (FtSimLostReason r)
{
  return (guint) r < FT_SIM_N_LOST ? lost_names[r] : "unknown";
}

/* The cost model over the KPIs so far (k holds the counters, days and
 * revenue already): each cost in minor units, rounded once per item. */
static void
ft_sim_world_costs (FtSimWorld *w, FtSimKpis *k)
{
  const FtSimScenario *sc = w->sc;
  double vdays = k->days * w->nv;
  double kinds[3] = { sc->scooters, sc->bikes, sc->mopeds };
  double vehicles = 0;
  for (guint i = 0; i < 3; i++)
    vehicles += kinds[i] * sc->cost_vehicle_minor[i] / sc->cost_vehicle_life_days * k->days;
  double kwh = w->energy_wh / 1000.0;
  double energy = kwh * sc->cost_energy_per_kwh_minor;
  double wear = kwh * sc->cost_pack_per_kwh_minor / sc->cost_pack_cycle_life;
  k->energy_kwh = kwh;
  k->cost_vehicles_minor = llround (vehicles);
  k->cost_insurance_minor = llround (vdays * sc->cost_insurance_per_vehicle_day_minor);
  k->cost_depots_minor = llround (w->n_depots * k->days * sc->cost_depot_per_day_minor);
  k->cost_energy_minor = llround (energy);
  k->cost_pack_wear_minor = llround (wear);
  k->cost_staff_minor = llround (k->staff_hours * sc->cost_staff_hourly_minor);
  k->cost_vans_minor = llround (k->staff_km * sc->cost_van_per_km_minor);
  k->cost_payment_fees_minor = llround (k->trips_completed * sc->cost_payment_fee_minor
                                        + k->revenue_minor * sc->cost_payment_fee_percent / 100.0);
  k->cost_incentives_minor = k->incentive_cost_minor;
  gint64 fixed = k->cost_vehicles_minor + k->cost_insurance_minor + k->cost_depots_minor;
  gint64 variable = k->cost_energy_minor + k->cost_pack_wear_minor + k->cost_staff_minor + k->cost_vans_minor
                    + k->cost_payment_fees_minor + k->cost_incentives_minor;
  k->cost_total_minor = fixed + variable;
  k->contribution_margin_per_vehicle_day_minor = vdays > 0 ? (k->revenue_minor - variable) / vdays : 0;
  k->net_margin_per_vehicle_day_minor = vdays > 0 ? (k->revenue_minor - k->cost_total_minor) / vdays : 0;
  k->cost_per_trip_minor = k->trips_completed ? (double) k->cost_total_minor / k->trips_completed : 0;
  k->cost_per_swap_minor = k->battery_swaps
    ? (w->swap_staff_ms / FT_HOUR * sc->cost_staff_hourly_minor + w->swap_m / 1000.0 * sc->cost_van_per_km_minor
       + energy + wear) / k->battery_swaps
    : 0;
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
  k.mean_price_multiplier = k.trips_completed ? w->dyn_mult_sum / k.trips_completed : 1.0;
  k.incentive_cost_minor = ft_payments_incentives_total (w->core->payments);
  if (w->assist)
    {
      k.support_contacts = w->support_contacts;
      k.support_resolved = w->support_resolved;
      k.support_handoffs = w->support_handoffs;
    }
  ft_sim_world_costs (w, &k);
  if (w->shadow)
    {
      FtShadowScores sh;
      ft_shadow_scores (w->shadow, &sh);
      k.shadow = sh.enabled;
      g_strlcpy (k.shadow_model, sh.model, sizeof k.shadow_model);
      k.shadow_predictions = sh.predictions;
      k.shadow_scored = sh.scored;
      k.shadow_rmse = sh.rmse;
      k.shadow_mae = sh.mae;
      k.shadow_base_rmse = sh.base_rmse;
      k.shadow_base_mae = sh.base_mae;
      k.shadow_scored_15min = sh.scored_15min;
      k.shadow_rmse_15min = sh.rmse_15min;
      k.shadow_base_rmse_15min = sh.base_rmse_15min;
      k.shadow_retrains = sh.retrains;
      k.shadow_promotions = sh.promotions;
      k.shadow_drift_warnings = sh.drift_warnings;
      k.shadow_drift_actions = sh.drift_actions;
    }
  FtMaintShadow *ms = w->shadow ? ft_shadow_get_maint (w->shadow) : NULL;
  if (ms)
    {
      FtMaintShadowScores m;
      ft_maint_shadow_scores (ms, &m);
      k.shadow_maint = TRUE;
      g_strlcpy (k.shadow_maint_model, m.model, sizeof k.shadow_maint_model);
      k.shadow_maint_predictions = m.predictions;
      k.shadow_maint_scored = m.scored[0] + m.scored[1];
      k.shadow_maint_brier_short = m.brier[0];
      k.shadow_maint_brier_long = m.brier[1];
      k.shadow_maint_auc_short = m.auc[0];
      k.shadow_maint_auc_long = m.auc[1];
      k.shadow_maint_base_brier_short = m.base_brier[0];
      k.shadow_maint_base_auc_short = m.base_auc[0];
      k.shadow_maint_precision_at_k = m.precision_at_k;
      k.shadow_maint_recall_at_k = m.recall_at_k;
      k.shadow_maint_k = m.k;
      k.shadow_maint_faults = m.faults;
      k.shadow_maint_caught = m.caught;
      k.shadow_maint_fits = m.fits;
      k.shadow_maint_lead_median_h = m.lead_median_h;
    }
  *out = k;
}

/* ---- the KPI table ---- */

typedef enum { KT_U64, KT_I64, KT_DOUBLE, KT_UINT, KT_SERVICE } KpiType;

typedef struct {
  FtSimKpiInfo info;
  KpiType      type;
  gsize        offset;
} KpiSpec;

#define KO(f) offsetof (FtSimKpis, f)
static const KpiSpec kpi_specs[] = {
  { { "trips_requested", "trips requested", TRUE }, KT_U64, KO (trips_requested) },
  { { "trips_served", "trips served (unlocked)", TRUE }, KT_U64, KO (trips_served) },
  { { "trips_completed", "trips completed", TRUE }, KT_U64, KO (trips_completed) },
  { { "trips_lost", "trips lost", FALSE }, KT_U64, KO (trips_lost) },
  { { "lost_no_vehicle", "lost: no vehicle", FALSE }, KT_U64, KO (lost[FT_SIM_LOST_NO_VEHICLE]) },
  { { "lost_low_battery", "lost: low battery", FALSE }, KT_U64, KO (lost[FT_SIM_LOST_LOW_BATTERY]) },
  { { "lost_price", "lost: price", FALSE }, KT_U64, KO (lost[FT_SIM_LOST_PRICE]) },
  { { "lost_refused", "lost: refused", FALSE }, KT_U64, KO (lost[FT_SIM_LOST_REFUSED]) },
  { { "service_level", "service level (served / requested)", TRUE }, KT_SERVICE, 0 },
  { { "trips_per_vehicle_day", "trips per vehicle per day", TRUE }, KT_DOUBLE, KO (trips_per_vehicle_day) },
  { { "utilisation", "utilisation (share of time on trip)", TRUE }, KT_DOUBLE, KO (utilisation) },
  { { "revenue_minor", "revenue (minor units)", TRUE }, KT_I64, KO (revenue_minor) },
  { { "revenue_per_vehicle_day_minor", "revenue per vehicle-day (minor units)", TRUE }, KT_I64,
    KO (revenue_per_vehicle_day_minor) },
  { { "mean_walk_m", "mean walk to vehicle (m)", FALSE }, KT_DOUBLE, KO (mean_walk_m) },
  { { "mean_trip_km", "mean trip length (km)", TRUE }, KT_DOUBLE, KO (mean_trip_km) },
  { { "battery_unavailable_hours", "battery-unavailable vehicle-hours", FALSE }, KT_DOUBLE,
    KO (battery_unavailable_hours) },
  { { "battery_unavailable_share", "battery-unavailable share", FALSE }, KT_DOUBLE, KO (battery_unavailable_share) },
  { { "battery_swaps", "battery swaps", FALSE }, KT_U64, KO (battery_swaps) },
  { { "rebalances", "rebalancing moves", FALSE }, KT_U64, KO (rebalances) },
  { { "collections", "collections", FALSE }, KT_U64, KO (collections) },
  { { "faults", "faults", FALSE }, KT_U64, KO (faults) },
  { { "end_refusals", "trip ends refused by geofence", FALSE }, KT_U64, KO (end_refusals) },
  { { "staff_hours", "staff hours", FALSE }, KT_DOUBLE, KO (staff_hours) },
  { { "staff_km", "staff km", FALSE }, KT_DOUBLE, KO (staff_km) },
  { { "fault_downtime_hours", "fault downtime (vehicle-hours)", FALSE }, KT_DOUBLE, KO (fault_downtime_hours) },
  { { "packs_charged", "packs charged", FALSE }, KT_U64, KO (packs_charged) },
  { { "tasks_created", "ops tasks created", FALSE }, KT_U64, KO (tasks_created) },
  { { "tasks_done", "ops tasks done", TRUE }, KT_U64, KO (tasks_done) },
  { { "route_plans", "van route plans made", FALSE }, KT_U64, KO (route_plans) },
  { { "maint_alerts", "maintenance alerts (inspection tasks)", FALSE }, KT_U64, KO (maint_alerts) },
  { { "inspections", "inspections done", FALSE }, KT_U64, KO (inspections) },
  { { "price_changes", "zone price changes", FALSE }, KT_U64, KO (price_changes) },
  { { "mean_price_multiplier", "mean dynamic multiplier charged", FALSE }, KT_DOUBLE, KO (mean_price_multiplier) },
  { { "incentive_moves", "relocation offers taken", TRUE }, KT_U64, KO (incentive_moves) },
  { { "incentive_rewards", "trips rewarded", TRUE }, KT_U64, KO (incentive_rewards) },
  { { "incentive_cost_minor", "incentive cost (minor units)", FALSE }, KT_I64, KO (incentive_cost_minor) },
  { { "support_contacts", "riders' support contacts", FALSE }, KT_U64, KO (support_contacts) },
  { { "support_resolved", "support contacts resolved by the assistant", TRUE }, KT_U64, KO (support_resolved) },
  { { "support_handoffs", "support contacts handed to staff", FALSE }, KT_U64, KO (support_handoffs) },
  { { "cost_total_minor", "all costs (minor units)", FALSE }, KT_I64, KO (cost_total_minor) },
  { { "cost_vehicles_minor", "vehicle depreciation (minor units)", FALSE }, KT_I64, KO (cost_vehicles_minor) },
  { { "cost_insurance_minor", "insurance (minor units)", FALSE }, KT_I64, KO (cost_insurance_minor) },
  { { "cost_depots_minor", "depots (minor units)", FALSE }, KT_I64, KO (cost_depots_minor) },
  { { "cost_energy_minor", "energy (minor units)", FALSE }, KT_I64, KO (cost_energy_minor) },
  { { "cost_pack_wear_minor", "pack wear (minor units)", FALSE }, KT_I64, KO (cost_pack_wear_minor) },
  { { "cost_staff_minor", "field staff (minor units)", FALSE }, KT_I64, KO (cost_staff_minor) },
  { { "cost_vans_minor", "vans (minor units)", FALSE }, KT_I64, KO (cost_vans_minor) },
  { { "cost_payment_fees_minor", "payment fees (minor units)", FALSE }, KT_I64, KO (cost_payment_fees_minor) },
  { { "cost_incentives_minor", "incentives in the cost model (minor units)", FALSE }, KT_I64, KO (cost_incentives_minor) },
  { { "energy_kwh", "energy put into packs (kWh)", FALSE }, KT_DOUBLE, KO (energy_kwh) },
  { { "contribution_margin_per_vehicle_day_minor", "contribution margin per vehicle-day (minor units)", TRUE },
    KT_DOUBLE, KO (contribution_margin_per_vehicle_day_minor) },
  { { "net_margin_per_vehicle_day_minor", "net margin per vehicle-day (minor units)", TRUE }, KT_DOUBLE,
    KO (net_margin_per_vehicle_day_minor) },
  { { "cost_per_trip_minor", "cost per trip (minor units)", FALSE }, KT_DOUBLE, KO (cost_per_trip_minor) },
  { { "cost_per_swap_minor", "cost per swap (minor units)", FALSE }, KT_DOUBLE, KO (cost_per_swap_minor) },
  { { "shadow_forecast_rmse", "shadow forecast RMSE", FALSE }, KT_DOUBLE, KO (shadow_rmse) },
  { { "shadow_forecast_mae", "shadow forecast MAE", FALSE }, KT_DOUBLE, KO (shadow_mae) },
  { { "shadow_maint_brier_short", "shadow maintenance Brier, short horizon", FALSE }, KT_DOUBLE,
    KO (shadow_maint_brier_short) },
  { { "shadow_maint_auc_short", "shadow maintenance AUC, short horizon", TRUE }, KT_DOUBLE, KO (shadow_maint_auc_short) },
  { { "shadow_maint_precision_at_k", "shadow maintenance precision at k", TRUE }, KT_DOUBLE,
    KO (shadow_maint_precision_at_k) },
  { { "shadow_maint_recall_at_k", "shadow maintenance recall at k", TRUE }, KT_DOUBLE, KO (shadow_maint_recall_at_k) },
};
#undef KO

const FtSimKpiInfo *
ft_sim_kpi_table (guint *n)
{
  /* the info is the first member of each spec: callers step by spec */
  static FtSimKpiInfo infos[G_N_ELEMENTS (kpi_specs)];
  static gsize once = 0;
  if (g_once_init_enter (&once))
    {
      for (guint i = 0; i < G_N_ELEMENTS (kpi_specs); i++)
        infos[i] = kpi_specs[i].info;
      g_once_init_leave (&once, 1);
    }
  if (n)
    *n = G_N_ELEMENTS (kpi_specs);
  return infos;
}

static const KpiSpec *
kpi_spec (const char *name)
{
  for (guint i = 0; name && i < G_N_ELEMENTS (kpi_specs); i++)
    if (strcmp (kpi_specs[i].info.name, name) == 0)
      return &kpi_specs[i];
  return NULL;
}

const FtSimKpiInfo *
ft_sim_kpi_find (const char *name)
{
  const KpiSpec *k = kpi_spec (name);
  return k ? &k->info : NULL;
}

gboolean
ft_sim_kpi_value (const FtSimKpis *k, const char *name, double *value)
{
  g_return_val_if_fail (k != NULL && value != NULL, FALSE);
  const KpiSpec *s = kpi_spec (name);
  if (s == NULL)
    return FALSE;
  const char *p = (const char *) k + s->offset;
  switch (s->type)
    {
    case KT_U64: *value = (double) *(const guint64 *) p; break;
    case KT_I64: *value = (double) *(const gint64 *) p; break;
    case KT_UINT: *value = *(const guint *) p; break;
    case KT_DOUBLE: *value = *(const double *) p; break;
    case KT_SERVICE:
      *value = k->trips_requested ? (double) k->trips_served / (double) k->trips_requested : 0;
      break;
    }
  return TRUE;
}

static void
json_num (GString *s, const char *key, double v, const char *fmt, gboolean comma)
{
  char buf[G_ASCII_DTOSTR_BUF_SIZE];
  g_string_append_printf (s, "  \"%s\": %s%s\n", key, g_ascii_formatd (buf, sizeof buf, fmt, v), comma ? "," : "");
}

/* NAN (nothing scored yet) as null */
static void
json_num_or_null (GString *s, const char *key, double v, const char *fmt, gboolean comma)
{
  if (isfinite (v))
    json_num (s, key, v, fmt, comma);
  else
    g_string_append_printf (s, "  \"%s\": null%s\n", key, comma ? "," : "");
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
  /* Phase 3 operations only when on (golden files keep their format) */
  if (sc != NULL && (sc->van_routes || sc->inspect_risk > 0))
    {
      json_int (s, "route_plans", (gint64) k->route_plans, TRUE);
      json_int (s, "maint_fits", (gint64) k->maint_fits, TRUE);
      json_int (s, "maint_alerts", (gint64) k->maint_alerts, TRUE);
      json_int (s, "inspections", (gint64) k->inspections, TRUE);
    }
  /* damage and photo checks only when damage is on (runs without it keep
   * the format of their golden files) */
  if (sc != NULL && (sc->damage_per_1000_trips > 0 || sc->damage_per_1000km > 0))
    {
      json_int (s, "damage_events", (gint64) k->damage_events, TRUE);
      json_int (s, "photos_checked", (gint64) k->photos_checked, TRUE);
      json_int (s, "damage_reviews", (gint64) k->damage_reviews, TRUE);
      json_int (s, "damage_confirmed", (gint64) k->damage_confirmed, TRUE);
      json_int (s, "damage_dismissed", (gint64) k->damage_dismissed, TRUE);
      json_int (s, "damage_missed", (gint64) k->damage_missed, TRUE);
    }
  /* the rider levers' KPIs only when a lever is on (runs without them
   * keep the format their golden files hold) */
  if (sc != NULL && (g_strcmp0 (sc->dyn_policy, "off") != 0 || sc->inc_enabled))
    {
      json_int (s, "price_changes", (gint64) k->price_changes, TRUE);
      json_num (s, "mean_price_multiplier", k->mean_price_multiplier, "%.4f", TRUE);
      json_int (s, "incentive_moves", (gint64) k->incentive_moves, TRUE);
      json_int (s, "incentive_rewards", (gint64) k->incentive_rewards, TRUE);
      json_int (s, "incentive_cost_minor", k->incentive_cost_minor, TRUE);
    }
  if (sc != NULL && (sc->support_contact_share > 0 || sc->support_charge_query_share > 0))
    {
      /* [support] only: runs without it keep their golden KPIs */
      json_int (s, "support_contacts", (gint64) k->support_contacts, TRUE);
      json_int (s, "support_resolved", (gint64) k->support_resolved, TRUE);
      json_num (s, "support_resolved_share",
                k->support_contacts ? (double) k->support_resolved / k->support_contacts : 0.0, "%.4f", TRUE);
      json_int (s, "support_handoffs", (gint64) k->support_handoffs, TRUE);
    }
  json_int (s, "cost_vehicles_minor", k->cost_vehicles_minor, TRUE);
  json_int (s, "cost_insurance_minor", k->cost_insurance_minor, TRUE);
  json_int (s, "cost_depots_minor", k->cost_depots_minor, TRUE);
  json_int (s, "cost_energy_minor", k->cost_energy_minor, TRUE);
  json_int (s, "cost_pack_wear_minor", k->cost_pack_wear_minor, TRUE);
  json_int (s, "cost_staff_minor", k->cost_staff_minor, TRUE);
  json_int (s, "cost_vans_minor", k->cost_vans_minor, TRUE);
  json_int (s, "cost_payment_fees_minor", k->cost_payment_fees_minor, TRUE);
  json_int (s, "cost_incentives_minor", k->cost_incentives_minor, TRUE);
  json_int (s, "cost_total_minor", k->cost_total_minor, TRUE);
  json_num (s, "energy_kwh", k->energy_kwh, "%.3f", TRUE);
  json_num (s, "contribution_margin_per_vehicle_day_minor", k->contribution_margin_per_vehicle_day_minor, "%.2f", TRUE);
  json_num (s, "net_margin_per_vehicle_day_minor", k->net_margin_per_vehicle_day_minor, "%.2f", TRUE);
  json_num (s, "cost_per_trip_minor", k->cost_per_trip_minor, "%.2f", TRUE);
  json_num (s, "cost_per_swap_minor", k->cost_per_swap_minor, "%.2f", TRUE);
  if (k->shadow)
    {
      /* shadow mode only: runs without it keep their golden KPIs */
      g_string_append_printf (s, "  \"shadow_forecast_model\": \"%s\",\n", k->shadow_model);
      json_int (s, "shadow_predictions", (gint64) k->shadow_predictions, TRUE);
      json_int (s, "shadow_scored", (gint64) k->shadow_scored, TRUE);
      json_num (s, "shadow_forecast_rmse", k->shadow_rmse, "%.4f", TRUE);
      json_num (s, "shadow_forecast_mae", k->shadow_mae, "%.4f", TRUE);
      json_num (s, "shadow_baseline_rmse", k->shadow_base_rmse, "%.4f", TRUE);
      json_num (s, "shadow_baseline_mae", k->shadow_base_mae, "%.4f", TRUE);
      json_int (s, "shadow_scored_15min", (gint64) k->shadow_scored_15min, TRUE);
      json_num_or_null (s, "shadow_forecast_rmse_15min", k->shadow_rmse_15min, "%.4f", TRUE);
      json_num_or_null (s, "shadow_baseline_rmse_15min", k->shadow_base_rmse_15min, "%.4f", TRUE);
      json_int (s, "shadow_retrains", k->shadow_retrains, TRUE);
      json_int (s, "shadow_promotions", k->shadow_promotions, TRUE);
      json_int (s, "shadow_drift_warnings", k->shadow_drift_warnings, TRUE);
      json_int (s, "shadow_drift_actions", k->shadow_drift_actions, TRUE);
    }
  if (k->shadow_maint)
    {
      g_string_append_printf (s, "  \"shadow_maint_model\": \"%s\",\n", k->shadow_maint_model);
      json_int (s, "shadow_maint_fits", k->shadow_maint_fits, TRUE);
      json_int (s, "shadow_maint_predictions", (gint64) k->shadow_maint_predictions, TRUE);
      json_int (s, "shadow_maint_scored", (gint64) k->shadow_maint_scored, TRUE);
      json_num_or_null (s, "shadow_maint_brier_short", k->shadow_maint_brier_short, "%.5f", TRUE);
      json_num_or_null (s, "shadow_maint_brier_long", k->shadow_maint_brier_long, "%.5f", TRUE);
      json_num_or_null (s, "shadow_maint_auc_short", k->shadow_maint_auc_short, "%.4f", TRUE);
      json_num_or_null (s, "shadow_maint_auc_long", k->shadow_maint_auc_long, "%.4f", TRUE);
      json_num_or_null (s, "shadow_maint_baseline_brier_short", k->shadow_maint_base_brier_short, "%.5f", TRUE);
      json_num_or_null (s, "shadow_maint_baseline_auc_short", k->shadow_maint_base_auc_short, "%.4f", TRUE);
      json_int (s, "shadow_maint_k", k->shadow_maint_k, TRUE);
      json_num_or_null (s, "shadow_maint_precision_at_k", k->shadow_maint_precision_at_k, "%.4f", TRUE);
      json_num_or_null (s, "shadow_maint_recall_at_k", k->shadow_maint_recall_at_k, "%.4f", TRUE);
      json_int (s, "shadow_maint_faults", k->shadow_maint_faults, TRUE);
      json_int (s, "shadow_maint_caught", k->shadow_maint_caught, TRUE);
      json_num_or_null (s, "shadow_maint_lead_median_h", k->shadow_maint_lead_median_h, "%.1f", TRUE);
    }
  g_string_append_printf (s, "  \"ledger_balanced\": %s\n}", k->ledger_balanced ? "true" : "false");
  return g_string_free (s, FALSE);
}
