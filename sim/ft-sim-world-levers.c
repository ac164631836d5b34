/* ft-sim-world-levers.c — the rider levers in the loop: dynamic prices
 * per zone set every interval by the scenario's policy through the core's
 * role-checked calls (as a planner), the riders' response to them (a
 * constant price elasticity per vehicle kind, drawn on its own stream
 * "riders.elasticity"), and relocation incentives: offers recomputed every
 * few minutes from supply against the sim's expected demand, the riders'
 * acceptance (a logit on extra walking against the reward, on its own
 * stream "riders.incentives") and the rewards paid at trip end.
 *
 * In a field design (ft-sim-world-field.c) only the units of the arm
 * with a lever on see it: control units get no dynamic multiplier and no
 * offers, and each arm's riders respond with that arm's elasticity.
 *
 * The policy itself (proposals per zone, which zones get offers) is
 * src/pricing/ft-levers.c, which live mode runs as well.
 *
 * Expected demand is ft_sim_world_expected_requests: the launch plan (the
 * city's fitted demand profile), or with [models] act_on_forecast the
 * shadow forecaster's latest forecast (Phase 3: the model acts).
 */
#include "ft-sim-world-private.h"

static gint
locate_zone (FtLatLon at, gpointer data)
{
  FtSimWorld *w = data;
  /* a field design's control units see no dynamic price */
  if (!ft_sim_world_field_lever (w, FIELD_LEVER_DYNAMIC))
    return -1;
  return ft_city_zone_at (w->city, at);
}

/* Available parked vehicles per zone (as the rebalancing rule counts them). */
static void
count_available (FtSimWorld *w, guint *avail)
{
  memset (avail, 0, sizeof (guint) * w->nz);
  const FtVehicle *vs = ft_fleet_vehicles (w->core->fleet);
  for (guint v = 0; v < w->nv; v++)
    if (vs[v].state == FT_STATE_AVAILABLE && !(w->veh[v].flags & (VF_RESERVED | VF_TRIP))
        && w->veh[v].zone >= 0 && (guint) w->veh[v].zone < w->nz)
      avail[w->veh[v].zone]++;
}

double
ft_sim_world_expected_requests (FtSimWorld *w, guint z, FtTime t)
{
  g_return_val_if_fail (z < w->nz, 0);
  if (w->sc->models_act && w->shadow)
    {
      double r;
      if (ft_shadow_forecast (w->shadow, z, t, &r))
        return MAX (r, 0.0);
      if (ft_shadow_observed (w->shadow, z, t - FT_DAY, ft_sim_engine_now (w->engine), &r))
        return r;
    }
  return w->zone_w[ft_sim_world_hour_of_week (t) * w->nz + z];
}

double
ft_sim_world_fleet_elasticity (FtSimWorld *w)
{
  const FtSimScenario *sc = w->sc;
  double n = (double) ft_sim_scenario_n_vehicles (sc);
  return n > 0 ? (sc->scooters * sc->elasticity[0] + sc->bikes * sc->elasticity[1]
                  + sc->mopeds * sc->elasticity[2]) / n : sc->elasticity[0];
}

/* The scenario's lever policy (src/pricing/ft-levers.h), which live mode runs too. */
static void
lever_policy (FtSimWorld *w, FtLeverPolicy *p)
{
  const FtSimScenario *sc = w->sc;
  ft_lever_policy_init (p);
  p->policy = w->dyn_policy;
  p->objective = w->dyn_objective;
  p->util_low = sc->dyn_util_low;
  p->util_high = sc->dyn_util_high;
  p->elasticity = ft_sim_world_fleet_elasticity (w);
  /* a mean fare at the plan price: unlock + 10 minutes (label: estimate) */
  p->fare_minor = (double) sc->unlock_minor + 10.0 * sc->per_min_minor[0];
  p->cost_per_trip_minor = sc->dyn_cost_per_trip_minor;
  p->service_floor = sc->dyn_service_floor;
  p->surplus_ratio = sc->inc_surplus_ratio;
  p->shortfall_ratio = sc->inc_shortfall_ratio;
}

static void
on_price_rule (FtSimEngine *e, gpointer data, guint64 arg)
{
  FtSimWorld *w = data;
  FtTime now = ft_sim_engine_now (e);
  FtTime next = now + (FtTime) (w->sc->dyn_interval_min * FT_MINUTE);
  if (next < w->end)
    ft_sim_engine_schedule (e, next, PRIO_SYSTEM, on_price_rule, w, 0);
  g_autofree guint *avail = g_new0 (guint, w->nz);
  g_autofree double *expected = g_new (double, w->nz);
  g_autofree double *prop = g_new (double, w->nz);
  count_available (w, avail);
  FtLeverPolicy p;
  lever_policy (w, &p);
  for (guint z = 0; z < w->nz; z++)
    expected[z] = ft_levers_next_hour (ft_sim_world_expected_requests (w, z, now),
                                       ft_sim_world_expected_requests (w, z, now + FT_HOUR), now);
  ft_levers_propose (&p, w->core->dyn, expected, avail, prop);
  g_autoptr (GError) err = NULL;
  guint n = 0;
  if (!ft_core_apply_zone_prices (w->core, (guint) w->planner, prop, now, &n, &err))
    ft_sim_world_sim_error (w, "apply zone prices", err);
  w->k.price_changes += n;
}

static void
on_emergency (FtSimEngine *e, gpointer data, guint64 on)
{
  FtSimWorld *w = data;
  g_autoptr (GError) err = NULL;
  if (!ft_core_set_price_emergency (w->core, (guint) w->planner, on != 0, ft_sim_engine_now (e), &err))
    ft_sim_world_sim_error (w, "price emergency", err);
}

static void
on_incentive_rule (FtSimEngine *e, gpointer data, guint64 arg)
{
  FtSimWorld *w = data;
  FtTime now = ft_sim_engine_now (e);
  FtTime next = now + (FtTime) (w->sc->inc_recompute_min * FT_MINUTE);
  if (next < w->end)
    ft_sim_engine_schedule (e, next, PRIO_SYSTEM, on_incentive_rule, w, 0);
  g_autofree guint *avail = g_new0 (guint, w->nz);
  g_autofree gboolean *start = g_new0 (gboolean, w->nz);
  g_autofree gboolean *end = g_new0 (gboolean, w->nz);
  g_autofree double *want = g_new0 (double, w->nz);
  count_available (w, avail);
  /* the same target share as the rebalancing rule: the next 3 hours' demand */
  for (guint z = 0; z < w->nz; z++)
    for (guint k = 0; k < 3; k++)
      want[z] += ft_sim_world_expected_requests (w, z, now + (FtTime) k * FT_HOUR);
  FtLeverPolicy p;
  lever_policy (w, &p);
  ft_levers_offers (&p, w->nz, want, avail, start, end);
  g_autoptr (GError) err = NULL;
  if (!ft_core_set_incentive_offers (w->core, (guint) w->planner, start, end, now, &err))
    ft_sim_world_sim_error (w, "incentive offers", err);
}

gboolean
ft_sim_world_setup_levers (FtSimWorld *w, GError **error)
{
  const FtSimScenario *sc = w->sc;
  if (!ft_dyn_policy_parse (sc->dyn_policy, &w->dyn_policy) ||
      !ft_dyn_objective_parse (sc->dyn_objective, &w->dyn_objective))
    {
      g_set_error (error, FT_SIM_ERROR, FT_SIM_ERROR_SETUP, "[dynamic_pricing] policy '%s' or objective "
                   "'%s' is unknown", sc->dyn_policy, sc->dyn_objective);
      return FALSE;
    }
  w->planner = -1;
  if (w->dyn_policy == FT_DYN_POLICY_OFF && !sc->inc_enabled)
    return TRUE;
  /* the levers are a planner's: every change goes through the core's
   * role-checked calls (FT_PERM_PLAN) and is logged */
  w->planner = ft_accounts_create (w->core->accounts, FT_ROLE_PLANNER, "Pricing planner", NULL, 0, error);
  if (w->planner < 0)
    return FALSE;
  w->r_elastic = ft_sim_rng_stream (w->rng, "riders.elasticity");
  w->r_incentive = ft_sim_rng_stream (w->rng, "riders.incentives");
  if (w->dyn_policy != FT_DYN_POLICY_OFF)
    {
      FtDynGuards g;
      ft_dyn_guards_init (&g);
      g.floor = sc->dyn_floor;
      g.cap = sc->dyn_cap;
      g.max_change = sc->dyn_max_change;
      g.emergency_cap = sc->dyn_emergency_cap;
      g.interval = (FtTime) (sc->dyn_interval_min * FT_MINUTE);
      g_autoptr (GError) e = NULL;
      if (!ft_core_enable_dynamic_zones (w->core, (guint) w->planner, w->nz, &g, locate_zone, w, 0, &e))
        {
          g_set_error (error, FT_SIM_ERROR, FT_SIM_ERROR_SETUP, "[dynamic_pricing]: %s", e->message);
          return FALSE;
        }
      if (sc->dyn_protected_zones != NULL && sc->dyn_protected_zones[0] != '\0')
        {
          g_auto (GStrv) parts = g_strsplit (sc->dyn_protected_zones, ",", -1);
          for (guint i = 0; parts[i]; i++)
            {
              guint64 z = 0;
              g_strstrip (parts[i]);
              if (!g_ascii_string_to_unsigned (parts[i], 10, 0, G_MAXUINT, &z, NULL) || z >= w->nz)
                {
                  g_set_error (error, FT_SIM_ERROR, FT_SIM_ERROR_SETUP,
                               "[dynamic_pricing] protected_zones: zone '%s' does not exist (the city has "
                               "zones 0 to %u)", parts[i], w->nz - 1);
                  return FALSE;
                }
              if (!ft_core_set_price_protected (w->core, (guint) w->planner, (guint) z, TRUE, 0, error))
                return FALSE;
            }
        }
      ft_sim_engine_schedule (w->engine, 0, PRIO_SYSTEM, on_price_rule, w, 0);
      if (sc->dyn_emergency_to_h > sc->dyn_emergency_from_h)
        {
          ft_sim_engine_schedule (w->engine, (FtTime) (sc->dyn_emergency_from_h * FT_HOUR), PRIO_SYSTEM,
                                  on_emergency, w, 1);
          ft_sim_engine_schedule (w->engine, (FtTime) (sc->dyn_emergency_to_h * FT_HOUR), PRIO_SYSTEM,
                                  on_emergency, w, 0);
        }
    }
  if (sc->inc_enabled)
    {
      FtIncentiveRules r;
      ft_incentive_rules_init (&r);
      r.reward_minor = (gint64) llround (sc->inc_reward_minor);
      r.budget_per_day_minor = (gint64) llround (sc->inc_budget_per_day_minor);
      r.cap_per_rider_day_minor = (gint64) llround (sc->inc_cap_per_rider_day_minor);
      r.min_distance_m = sc->inc_min_distance_m;
      r.cooldown = (FtTime) (sc->inc_cooldown_min * FT_MINUTE);
      r.hop_back_window = (FtTime) (sc->inc_hop_back_min * FT_MINUTE);
      r.recompute = (FtTime) (sc->inc_recompute_min * FT_MINUTE);
      g_autoptr (GError) e = NULL;
      if (!ft_core_enable_incentives (w->core, (guint) w->planner, w->nz, &r, 0, &e))
        {
          g_set_error (error, FT_SIM_ERROR, FT_SIM_ERROR_SETUP, "[incentives]: %s", e->message);
          return FALSE;
        }
      ft_sim_engine_schedule (w->engine, 0, PRIO_SYSTEM, on_incentive_rule, w, 0);
    }
  return TRUE;
}

/* ------------------------------------------------------ rider response */

gboolean
ft_sim_world_elastic_accepts (FtSimWorld *w, const FtPriceBreakdown *pb, guint kind)
{
  if (w->dyn_policy == FT_DYN_POLICY_OFF || w->r_elastic == NULL)
    return TRUE;
  /* draw on every quote, so the stream stays aligned across prices */
  double u = ft_sim_rng_draw (w->r_elastic);
  double m = pb->dynamic_multiplier;
  double e = ft_sim_world_field_scenario (w)->elasticity[MIN (kind, 2u)];
  /* constant elasticity: demand(m) = demand(1) x m^e; a discount cannot
   * add requests to a stream generated at the plan price */
  double p = m > 1.0 ? pow (m, e) : 1.0;
  return u < p;
}

static double
logit_accept (FtSimWorld *w, double wtw_min_per_unit, double reward_minor, double extra_min)
{
  double minor = pow (10.0, ft_currency_exponent (w->sc->currency));
  double x = w->sc->inc_logit_scale * (wtw_min_per_unit * reward_minor / minor - extra_min);
  return 1.0 / (1.0 + exp (-x));
}

/* Origin offer: among the vehicles booking found (nearest first), the
 * nearest one in a surplus zone, if the rider accepts the extra walk.
 * Returns the index into res to take. */
guint
ft_sim_world_pick_start (FtSimWorld *w, const FtFindResult *res, guint n, gboolean *shown)
{
  FtIncentives *inc = w->core->incentives;
  *shown = FALSE;
  /* no offers once the day's budget is spent */
  if (inc == NULL || n == 0 || ft_incentives_budget_left (inc, ft_sim_world_now (w)) <= 0)
    return 0;
  const FtVehicle *vs = ft_fleet_vehicles (w->core->fleet);
  if (ft_incentives_start_offered (inc, ft_city_zone_at (w->city, vs[res[0].vehicle].pos)))
    {
      *shown = TRUE;
      return 0;
    }
  for (guint k = 1; k < n; k++)
    if (ft_incentives_start_offered (inc, ft_city_zone_at (w->city, vs[res[k].vehicle].pos)))
      {
        double extra_min = (res[k].walk_m - res[0].walk_m) / w->sc->walk_speed_mps / 60.0;
        double p = logit_accept (w, w->sc->inc_wtw_origin_min, w->sc->inc_reward_minor, extra_min);
        if (ft_sim_rng_draw (w->r_incentive) < p)
          {
            *shown = TRUE;
            w->k.incentive_moves++;
            return k;
          }
        return 0;
      }
  return 0;
}

/* Destination offer: a shortfall zone within max_detour_m of d (its
 * centroid); the rider rides there and walks back if the logit says yes.
 * Returns the (possibly moved) destination. */
FtLatLon
ft_sim_world_pick_end (FtSimWorld *w, FtLatLon d, guint kind, gboolean *shown)
{
  FtIncentives *inc = w->core->incentives;
  *shown = FALSE;
  if (inc == NULL || ft_incentives_budget_left (inc, ft_sim_world_now (w)) <= 0)
    return d;
  gint dz = ft_city_zone_at (w->city, d);
  if (ft_incentives_end_offered (inc, dz))
    {
      *shown = TRUE;
      return d;
    }
  gint best = -1;
  double best_m = w->sc->inc_max_detour_m;
  for (guint z = 0; z < w->nz; z++)
    if (ft_incentives_end_offered (inc, (gint) z))
      {
        double m = ft_distance_fast_m (d, w->city->zones[z].centroid);
        if (m < best_m)
          best_m = m, best = (gint) z;
      }
  if (best < 0)
    return d;
  double extra_min = best_m / w->sc->walk_speed_mps / 60.0;
  double p = logit_accept (w, w->sc->inc_wtw_dest_min, w->sc->inc_reward_minor, extra_min);
  if (ft_sim_rng_draw (w->r_incentive) >= p)
    return d;
  FtLatLon to = w->city->zones[best].centroid;
  if (!ft_sim_world_parking_ok (w, to, kind))
    {
      double dist = 0;
      to = ft_sim_world_nearest_parking (w, to, kind, &dist);
    }
  if (ft_city_zone_at (w->city, to) != best)
    return d;
  *shown = TRUE;
  w->k.incentive_moves++;
  return to;
}

void
ft_sim_world_reward_trip (FtSimWorld *w, gint64 booking, FtLatLon from, FtLatLon to, gboolean start_shown,
                          gboolean end_shown, FtTime now)
{
  if (w->core->incentives == NULL || (!start_shown && !end_shown))
    return;
  gint64 amount = 0;
  g_autoptr (GError) err = NULL;
  FtIncentiveVerdict v = ft_core_reward_trip (w->core, booking, ft_city_zone_at (w->city, from),
                                              ft_city_zone_at (w->city, to), start_shown, end_shown, now,
                                              &amount, &err);
  if (v == FT_N_INCENTIVE_VERDICTS)
    ft_sim_world_sim_error (w, "incentive reward", err);
  else if (v == FT_INCENTIVE_REWARDED)
    {
      w->k.incentive_rewards++;
      w->k.incentive_cost_minor += amount;
    }
}
