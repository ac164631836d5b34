/* test-dynamic-pricing.c — the guard rails of per-zone dynamic prices hold
 * whatever is proposed (floor, cap, maximum change per interval, emergency
 * cap, protected zones), the two policies propose what they say, and the
 * incentive rules (budget, rider cap, minimum distance, cool-down, hop
 * back) hold; bad rails and rules are refused naming the field.
 */
#include "ft-dynamic-pricing.h"
#include "ft-incentives.h"
#include "ft-levers.h"

#include <check.h>
#include <json-glib/json-glib.h>
#include <math.h>
#include <string.h>

#define EPS 1e-9

static FtDynPricing *
dyn_new (guint n, double floor_, double cap, double max_change)
{
  FtDynGuards g;
  ft_dyn_guards_init (&g);
  g.floor = floor_;
  g.cap = cap;
  g.max_change = max_change;
  g_autoptr(GError) e = NULL;
  FtDynPricing *dp = ft_dyn_pricing_new (n, &g, &e);
  ck_assert_msg (dp != NULL, "%s", e ? e->message : "");
  return dp;
}

/* Property: random proposals (wild ones too: negative, huge, NaN, inf)
 * over many intervals never leave [floor, cap], never move a zone more than
 * max_change in one interval, and stay on the 0.1 grid. */
START_TEST (test_rails_hold_random_proposals)
{
  const guint nz = 12;
  g_autoptr(FtDynPricing) dp = dyn_new (nz, 0.8, 1.5, 0.2);
  GRand *r = g_rand_new_with_seed (42);
  double prop[12], before[12];
  guint64 changes = 0;
  for (guint it = 0; it < 5000; it++)
    {
      for (guint z = 0; z < nz; z++)
        {
          before[z] = ft_dyn_pricing_get (dp, z);
          switch (g_rand_int_range (r, 0, 8))
            {
            case 0: prop[z] = NAN; break;
            case 1: prop[z] = INFINITY; break;
            case 2: prop[z] = -5.0; break;
            case 3: prop[z] = 1e9; break;
            default: prop[z] = g_rand_double_range (r, 0.0, 3.0); break;
            }
        }
      changes += ft_dyn_pricing_apply (dp, prop, NULL);
      for (guint z = 0; z < nz; z++)
        {
          double m = ft_dyn_pricing_get (dp, z);
          ck_assert_msg (m >= 0.8 - EPS && m <= 1.5 + EPS, "zone %u at %g left [0.8, 1.5]", z, m);
          ck_assert_msg (fabs (m - before[z]) <= 0.2 + 1e-6, "zone %u moved %g -> %g", z, before[z], m);
          ck_assert_msg (fabs (m * 10 - round (m * 10)) < 1e-6, "zone %u at %g is off the step grid", z, m);
        }
    }
  ck_assert_uint_gt (changes, 1000);   /* the rails were exercised, not idle */
  g_rand_free (r);
}
END_TEST

START_TEST (test_max_change_steps)
{
  g_autoptr(FtDynPricing) dp = dyn_new (1, 1.0, 1.5, 0.2);
  double up = 3.0;
  ck_assert (ft_dyn_pricing_apply (dp, &up, NULL) == 1);
  ck_assert_double_eq_tol (ft_dyn_pricing_get (dp, 0), 1.2, EPS);
  ft_dyn_pricing_apply (dp, &up, NULL);
  ck_assert_double_eq_tol (ft_dyn_pricing_get (dp, 0), 1.4, EPS);
  ft_dyn_pricing_apply (dp, &up, NULL);
  ck_assert_double_eq_tol (ft_dyn_pricing_get (dp, 0), 1.5, EPS);   /* the cap */
  double down = 0.0;
  ft_dyn_pricing_apply (dp, &down, NULL);
  ck_assert_double_eq_tol (ft_dyn_pricing_get (dp, 0), 1.3, EPS);
  ft_dyn_pricing_apply (dp, &down, NULL);
  ft_dyn_pricing_apply (dp, &down, NULL);
  ck_assert_double_eq_tol (ft_dyn_pricing_get (dp, 0), 1.0, EPS);   /* the floor */
  /* NaN keeps the current value */
  double nan_ = NAN;
  ck_assert_uint_eq (ft_dyn_pricing_apply (dp, &nan_, NULL), 0);
  ck_assert_double_eq_tol (ft_dyn_pricing_get (dp, 0), 1.0, EPS);
}
END_TEST

START_TEST (test_emergency_cap)
{
  g_autoptr(FtDynPricing) dp = dyn_new (3, 1.0, 1.5, 0.5);
  double up[3] = { 1.5, 1.3, 1.0 };
  ft_dyn_pricing_apply (dp, up, NULL);
  ck_assert_double_eq_tol (ft_dyn_pricing_get (dp, 0), 1.5, EPS);
  ft_dyn_pricing_set_emergency (dp, TRUE);
  /* declared: every zone drops to the emergency cap (1.0) at once */
  for (guint z = 0; z < 3; z++)
    ck_assert_double_eq_tol (ft_dyn_pricing_get (dp, z), 1.0, EPS);
  for (guint i = 0; i < 20; i++)
    {
      double p[3] = { 9, 1.5, 1.2 };
      ft_dyn_pricing_apply (dp, p, NULL);
      for (guint z = 0; z < 3; z++)
        ck_assert_double_le (ft_dyn_pricing_get (dp, z), 1.0 + EPS);
      ck_assert_double_eq_tol (ft_dyn_pricing_guard (dp, 0, 1.5), 1.0, EPS);
    }
  ft_dyn_pricing_set_emergency (dp, FALSE);
  double p[3] = { 1.5, 1.5, 1.5 };
  ft_dyn_pricing_apply (dp, p, NULL);
  ck_assert_double_eq_tol (ft_dyn_pricing_get (dp, 0), 1.5, EPS);   /* lifted: max_change 0.5 */
}
END_TEST

START_TEST (test_protected_zone)
{
  g_autoptr(FtDynPricing) dp = dyn_new (2, 0.8, 1.5, 0.2);
  double p[2] = { 1.2, 1.2 };
  ft_dyn_pricing_apply (dp, p, NULL);
  ft_dyn_pricing_set_protected (dp, 1, TRUE);
  ck_assert_double_eq_tol (ft_dyn_pricing_get (dp, 1), 1.0, EPS);
  for (guint i = 0; i < 10; i++)
    {
      double q[2] = { 1.5, 1.5 };
      ft_dyn_pricing_apply (dp, q, NULL);
      double d[2] = { 0.8, 0.8 };
      ft_dyn_pricing_apply (dp, d, NULL);
      ck_assert_double_eq_tol (ft_dyn_pricing_get (dp, 1), 1.0, EPS);
    }
  ck_assert (ft_dyn_pricing_is_protected (dp, 1) && !ft_dyn_pricing_is_protected (dp, 0));
}
END_TEST

static gint
east_is_one (FtLatLon at, gpointer data)
{
  return at.lon < 9.0 ? -1 : at.lon > 10.0 ? 1 : 0;
}

START_TEST (test_hook_uses_zone)
{
  g_autoptr(FtDynPricing) dp = dyn_new (2, 1.0, 1.5, 0.5);
  double p[2] = { 1.0, 1.4 };
  ft_dyn_pricing_apply (dp, p, NULL);
  FtDynHook h = { dp, east_is_one, NULL };
  ck_assert_double_eq_tol (ft_dyn_pricing_hook ((FtLatLon) { 50, 10.5 }, 0, 0, &h), 1.4, EPS);
  ck_assert_double_eq_tol (ft_dyn_pricing_hook ((FtLatLon) { 50, 9.5 }, 0, 0, &h), 1.0, EPS);
  ck_assert_double_eq_tol (ft_dyn_pricing_hook ((FtLatLon) { 50, 8.5 }, 0, 0, &h), 1.0, EPS);  /* no zone */
  FtDynHook none = { dp, NULL, NULL };
  ck_assert_double_eq (ft_dyn_pricing_hook ((FtLatLon) { 50, 10.5 }, 0, 0, &none), 1.0);
}
END_TEST

START_TEST (test_bad_guards_refused)
{
  FtDynGuards g;
  g_autoptr(GError) e = NULL;
  ft_dyn_guards_init (&g);
  ck_assert (ft_dyn_guards_check (&g, NULL));
  ck_assert_double_eq (g.cap, 1.5);
  g.floor = 1.6;
  ck_assert (ft_dyn_pricing_new (3, &g, &e) == NULL);
  ck_assert_msg (strstr (e->message, "floor 1.6 is above cap 1.5") != NULL, "%s", e->message);
  g_clear_error (&e);
  ft_dyn_guards_init (&g);
  g.max_change = 0;
  ck_assert (!ft_dyn_guards_check (&g, &e));
  ck_assert (strstr (e->message, "max_change") != NULL);
  g_clear_error (&e);
  ft_dyn_guards_init (&g);
  g.emergency_cap = 2.0;
  ck_assert (!ft_dyn_guards_check (&g, &e));
  ck_assert (strstr (e->message, "emergency_cap") != NULL);
}
END_TEST

START_TEST (test_utilisation_steps)
{
  ck_assert_double_eq_tol (ft_dyn_propose_utilisation (1.0, 12, 10, 0.5, 1.0, 0.1), 1.1, EPS);
  ck_assert_double_eq_tol (ft_dyn_propose_utilisation (1.2, 2, 10, 0.5, 1.0, 0.1), 1.1, EPS);
  ck_assert_double_eq_tol (ft_dyn_propose_utilisation (1.2, 7, 10, 0.5, 1.0, 0.1), 1.2, EPS);
  ck_assert_double_eq_tol (ft_dyn_propose_utilisation (1.0, 1, 0, 0.5, 1.0, 0.1), 1.1, EPS);  /* none left */
}
END_TEST

START_TEST (test_optimiser_objectives)
{
  /* supply short: 10 requested, 5 vehicles. Raising the price to 1.5
   * (demand 10 x 1.5^-0.35 = 8.7) still fills all 5: revenue and margin
   * go to the cap, trips stay at 5 whatever the price. */
  FtDynZoneInput shortz = { 10, 5, -0.35, 350, 150, 0.98 };
  ck_assert_double_eq_tol (ft_dyn_optimise (&shortz, FT_DYN_OBJECTIVE_REVENUE, 1.0, 1.5, 0.1), 1.5, EPS);
  ck_assert_double_eq_tol (ft_dyn_optimise (&shortz, FT_DYN_OBJECTIVE_MARGIN, 1.0, 1.5, 0.1), 1.5, EPS);
  ck_assert_double_eq_tol (ft_dyn_optimise (&shortz, FT_DYN_OBJECTIVE_TRIPS, 1.0, 1.5, 0.1), 1.0, EPS);
  /* plenty of vehicles: every rise loses riders; the margin objective with
   * a 98 % service floor keeps the plan price (1.1^-0.35 = 0.967 < 0.98) */
  FtDynZoneInput plenty = { 4, 20, -0.35, 350, 150, 0.98 };
  ck_assert_double_eq_tol (ft_dyn_optimise (&plenty, FT_DYN_OBJECTIVE_MARGIN, 1.0, 1.5, 0.1), 1.0, EPS);
  ck_assert_double_eq_tol (ft_dyn_optimise (&plenty, FT_DYN_OBJECTIVE_TRIPS, 1.0, 1.5, 0.1), 1.0, EPS);
  /* inelastic demand: revenue rises with price, so revenue alone surges */
  ck_assert_double_eq_tol (ft_dyn_optimise (&plenty, FT_DYN_OBJECTIVE_REVENUE, 1.0, 1.5, 0.1), 1.5, EPS);
  /* a looser floor (90 %) lets the margin objective price up to 1.3
   * (1.3^-0.35 = 0.912; 1.4^-0.35 = 0.889) */
  plenty.service_floor = 0.90;
  ck_assert_double_eq_tol (ft_dyn_optimise (&plenty, FT_DYN_OBJECTIVE_MARGIN, 1.0, 1.5, 0.1), 1.3, EPS);
}
END_TEST

/* Zone multipliers in GBFS: one plan variant per distinct multiplier. */
START_TEST (test_gbfs_variants)
{
  g_autoptr(FtPricing) p = ft_pricing_new ();
  g_autoptr(FtPricingPlan) plan = ft_pricing_plan_new_simple ("default", "EUR", 100, 25.0, 0.0);
  ck_assert (ft_pricing_add_plan (p, plan, NULL));
  double m[] = { 1.0, 1.2, 1.2000001, 1.5, NAN };
  g_autoptr(JsonNode) d = ft_pricing_to_gbfs_data_multiplied (p, m, G_N_ELEMENTS (m));
  JsonArray *plans = json_object_get_array_member (json_node_get_object (d), "plans");
  ck_assert_uint_eq (json_array_get_length (plans), 3);
  JsonObject *base = json_array_get_object_element (plans, 0);
  JsonObject *v12 = json_array_get_object_element (plans, 1);
  ck_assert_str_eq (json_object_get_string_member (base, "plan_id"), "default");
  ck_assert (!json_object_has_member (base, "surge_pricing"));
  ck_assert_str_eq (json_object_get_string_member (v12, "plan_id"), "default-x1.20");
  ck_assert (json_object_get_boolean_member (v12, "surge_pricing"));
  ck_assert_double_eq_tol (json_object_get_double_member (v12, "price"), 1.20, 1e-9);
  JsonObject *seg = json_array_get_object_element (json_object_get_array_member (v12, "per_min_pricing"), 0);
  ck_assert_double_eq_tol (json_object_get_double_member (seg, "rate"), 0.30, 1e-9);
  g_autofree char *id = ft_pricing_variant_id ("default", 1.001);
  ck_assert_str_eq (id, "default");
  /* and the variant reads back as a plan */
  g_autofree char *text = json_to_string (d, FALSE);
  g_autoptr(FtPricing) back = ft_pricing_new ();
  ck_assert (ft_pricing_parse_gbfs (back, text, -1, "variants", NULL));
  ck_assert_int_eq (ft_pricing_lookup (back, "default-x1.50")->unlock_fee_minor, 150);
}
END_TEST

/* ------------------------------------------------------------ incentives */

static FtLatLon
at_m (double east, double north)
{
  return ft_latlon_offset ((FtLatLon) { 50.0, 10.0 }, east, north);
}

static FtIncentives *
inc_new (gint64 reward, gint64 budget, gint64 cap)
{
  FtIncentiveRules r;
  ft_incentive_rules_init (&r);
  r.reward_minor = reward;
  r.budget_per_day_minor = budget;
  r.cap_per_rider_day_minor = cap;
  g_autoptr(GError) e = NULL;
  FtIncentives *inc = ft_incentives_new (4, &r, &e);
  ck_assert_msg (inc != NULL, "%s", e ? e->message : "");
  gboolean start[4] = { TRUE, FALSE, FALSE, FALSE }, end[4] = { FALSE, FALSE, TRUE, TRUE };
  ft_incentives_set_offers (inc, start, end);
  return inc;
}

static FtIncentiveVerdict
claim (FtIncentives *inc, guint rider, gint fz, gint tz, double dist_m, FtTime t, gint64 *amount)
{
  FtIncentiveVerdict v = ft_incentives_evaluate (inc, rider, fz, tz, at_m (0, 0), at_m (dist_m, 0),
                                                 ft_incentives_start_offered (inc, fz),
                                                 ft_incentives_end_offered (inc, tz), t, amount);
  if (v == FT_INCENTIVE_REWARDED)
    ft_incentives_record (inc, rider, fz, tz, *amount, t);
  return v;
}

START_TEST (test_incentive_rules)
{
  g_autoptr(FtIncentives) inc = inc_new (100, 100000, 300);
  gint64 a = 0;
  FtTime t = 8 * FT_HOUR;
  /* both legs: start in surplus 0, end in shortfall 2 */
  ck_assert_int_eq (claim (inc, 1, 0, 2, 1000, t, &a), FT_INCENTIVE_REWARDED);
  ck_assert_int_eq (a, 200);
  /* cool-down: 10 minutes later nothing */
  ck_assert_int_eq (claim (inc, 1, 0, 3, 1000, t + 10 * FT_MINUTE, &a), FT_INCENTIVE_COOLDOWN);
  ck_assert_int_eq (a, 0);
  /* hop back along the rewarded trip (2 -> 0), after the cool-down: no (no
   * offer on 2 -> 0 anyway; give one to test the rule itself) */
  gboolean start[4] = { TRUE, FALSE, TRUE, FALSE }, end[4] = { TRUE, FALSE, TRUE, TRUE };
  ft_incentives_set_offers (inc, start, end);
  ck_assert_int_eq (claim (inc, 1, 2, 0, 1000, t + 30 * FT_MINUTE, &a), FT_INCENTIVE_HOP_BACK);
  /* too short */
  ck_assert_int_eq (claim (inc, 2, 0, 2, 150, t, &a), FT_INCENTIVE_TOO_SHORT);
  /* same zone */
  ck_assert_int_eq (claim (inc, 2, 0, 0, 1000, t, &a), FT_INCENTIVE_SAME_ZONE);
  /* no offer shown */
  ck_assert_int_eq (ft_incentives_evaluate (inc, 2, 1, 3, at_m (0, 0), at_m (900, 0), FALSE, FALSE, t, &a),
                    FT_INCENTIVE_NO_OFFER);
  /* rider cap 300 a day: 200 paid, the next 200 is cut to 100, then none */
  ck_assert_int_eq (claim (inc, 1, 0, 3, 1000, t + 60 * FT_MINUTE, &a), FT_INCENTIVE_REWARDED);
  ck_assert_int_eq (a, 100);
  ck_assert_int_eq (claim (inc, 1, 0, 3, 1000, t + 120 * FT_MINUTE, &a), FT_INCENTIVE_RIDER_CAP);
  /* the next day the cap starts again */
  ck_assert_int_eq (claim (inc, 1, 0, 3, 1000, t + FT_DAY, &a), FT_INCENTIVE_REWARDED);
  ck_assert_int_eq (ft_incentives_paid_minor (inc), 500);
}
END_TEST

START_TEST (test_incentive_budget)
{
  g_autoptr(FtIncentives) inc = inc_new (100, 450, 1000);
  gint64 a = 0, paid = 0;
  FtTime t = 8 * FT_HOUR;
  for (guint r = 0; r < 10; r++)
    if (claim (inc, r, 0, 2, 1000, t, &a) == FT_INCENTIVE_REWARDED)
      paid += a;
  ck_assert_int_eq (paid, 450);                            /* never beyond the day's budget */
  ck_assert_int_eq (ft_incentives_paid_on_day (inc, t / FT_DAY), 450);
  ck_assert_int_eq (claim (inc, 11, 0, 2, 1000, t, &a), FT_INCENTIVE_BUDGET);
  ck_assert_int_eq (ft_incentives_budget_left (inc, t), 0);
  ck_assert_int_eq (ft_incentives_budget_left (inc, t + FT_DAY), 450);
  ck_assert_uint_gt (ft_incentives_n_refused (inc, FT_INCENTIVE_BUDGET), 0);
}
END_TEST

START_TEST (test_incentive_bad_rules)
{
  FtIncentiveRules r;
  g_autoptr(GError) e = NULL;
  ft_incentive_rules_init (&r);
  r.budget_per_day_minor = -5;
  ck_assert (ft_incentives_new (3, &r, &e) == NULL);
  ck_assert_msg (strstr (e->message, "budget_per_day_minor -5 must be >= 0") != NULL, "%s", e->message);
  g_clear_error (&e);
  ft_incentive_rules_init (&r);
  r.min_distance_m = NAN;
  ck_assert (!ft_incentive_rules_check (&r, &e));
  ck_assert (strstr (e->message, "min_distance_m") != NULL);
}
END_TEST


/* The shared lever policy (ft-levers.c): the baseline steps up where the
 * next hour's demand passes the vehicles there, the rails still hold. */
START_TEST (test_levers_propose)
{
  FtLeverPolicy p;
  ft_lever_policy_init (&p);
  g_autoptr (GError) e = NULL;
  ck_assert (ft_lever_policy_check (&p, &e));
  g_autoptr (FtDynPricing) dp = ft_dyn_pricing_new (3, NULL, &e);
  double expected[3] = { 10, 1, 0 };
  guint avail[3] = { 2, 10, 5 };
  double prop[3];
  ft_levers_propose (&p, dp, expected, avail, prop);
  ck_assert_double_eq_tol (prop[0], 1.1, 1e-9);   /* 5 per vehicle: up a step */
  ck_assert_double_eq_tol (prop[1], 0.9, 1e-9);   /* 0.1 per vehicle: down a step ... */
  ck_assert_uint_eq (ft_dyn_pricing_apply (dp, prop, NULL), 1);
  ck_assert_double_eq_tol (ft_dyn_pricing_get (dp, 1), 1.0, 1e-9);   /* ... held at the floor */
  /* half of this hour, half of the next */
  ck_assert_double_eq_tol (ft_levers_next_hour (10, 20, 7 * FT_HOUR + 30 * FT_MINUTE), 15, 1e-9);
  p.policy = FT_DYN_POLICY_OPTIMISE;
  p.objective = FT_DYN_OBJECTIVE_REVENUE;
  ft_levers_propose (&p, dp, expected, avail, prop);
  ck_assert (prop[0] > 1.1);                       /* scarce: the optimiser prices up */
  p.util_low = 2, p.util_high = 1;
  ck_assert (!ft_lever_policy_check (&p, &e));
  ck_assert_msg (strstr (e->message, "util_low") != NULL, "%s", e->message);
  g_clear_error (&e);
  ft_lever_policy_init (&p);
  p.elasticity = 0.3;
  ck_assert (!ft_lever_policy_check (&p, &e));
  ck_assert_msg (strstr (e->message, "elasticity") != NULL, "%s", e->message);
}
END_TEST

START_TEST (test_levers_offers)
{
  FtLeverPolicy p;
  ft_lever_policy_init (&p);
  /* 31 vehicles; no demand in zone 0: a surplus there, a shortfall in zone 1 */
  double want[3] = { 0, 9, 3 };
  guint avail[3] = { 20, 5, 6 };
  gboolean start[3], end[3];
  ft_levers_offers (&p, 3, want, avail, start, end);
  ck_assert (start[0] && !end[0]);
  ck_assert (!start[1] && end[1]);      /* target 23.25, 5 < 0.7 x 23.25 */
  ck_assert (!start[2] && !end[2]);     /* target 7.75: 6 is neither */
  double none[3] = { 0, 0, 0 };
  ft_levers_offers (&p, 3, none, avail, start, end);
  ck_assert (!start[0] && !end[1]);
}
END_TEST

/* A kept multiplier comes back inside the rails, without max_change. */
START_TEST (test_restore_zone)
{
  g_autoptr (GError) e = NULL;
  g_autoptr (FtDynPricing) dp = ft_dyn_pricing_new (3, NULL, &e);
  ck_assert (ft_dyn_pricing_restore_zone (dp, 0, 1.4));
  ck_assert_double_eq_tol (ft_dyn_pricing_get (dp, 0), 1.4, 1e-9);   /* more than max_change 0.2 at once */
  ck_assert (ft_dyn_pricing_restore_zone (dp, 1, 7.0));
  ck_assert_double_eq_tol (ft_dyn_pricing_get (dp, 1), 1.5, 1e-9);   /* the cap */
  ft_dyn_pricing_set_protected (dp, 2, TRUE);
  ck_assert (!ft_dyn_pricing_restore_zone (dp, 2, 1.3));
  ck_assert_double_eq_tol (ft_dyn_pricing_get (dp, 2), 1.0, 1e-9);
  ft_dyn_pricing_set_emergency (dp, TRUE);
  ck_assert (!ft_dyn_pricing_restore_zone (dp, 0, 1.4));             /* no surge in an emergency */
  ck_assert_double_eq_tol (ft_dyn_pricing_get (dp, 0), 1.0, 1e-9);
  ck_assert (!ft_dyn_pricing_restore_zone (dp, 0, NAN));
}
END_TEST

START_TEST (test_lever_state_json)
{
  g_autoptr (GError) e = NULL;
  g_autoptr (FtDynPricing) dp = ft_dyn_pricing_new (4, NULL, &e);
  g_autoptr (FtIncentives) inc = ft_incentives_new (4, NULL, &e);
  ft_dyn_pricing_restore_zone (dp, 1, 1.3);
  ft_dyn_pricing_set_protected (dp, 3, TRUE);
  gboolean start[4] = { TRUE, FALSE, FALSE, FALSE }, end[4] = { FALSE, FALSE, TRUE, FALSE };
  ft_incentives_set_offers (inc, start, end);
  g_autoptr (FtLeverState) st = ft_lever_state_capture (dp, inc, 123456, 654321);
  g_autofree char *json = ft_lever_state_to_json (st);
  g_autoptr (FtLeverState) back = ft_lever_state_from_json (json, -1, "test", &e);
  ck_assert_msg (back != NULL, "%s: %s", json, e ? e->message : "");
  ck_assert_uint_eq (back->n_zones, 4);
  ck_assert_double_eq_tol (back->multiplier[1], 1.3, 1e-12);
  ck_assert (back->protected_[3] && !back->protected_[1]);
  ck_assert (back->has_offers && back->start[0] && back->end[2] && !back->start[2]);
  ck_assert_int_eq (back->next_price, 123456);
  ck_assert_int_eq (back->next_offers, 654321);
  /* bad documents are refused naming the source and the member */
  static const char *const bad[] = {
    "", "[]", "{\"version\":2,\"zones\":[]}", "{\"version\":1}",
    "{\"version\":1,\"zones\":[{\"multiplier\":0}]}",
    "{\"version\":1,\"zones\":[{\"multiplier\":\"1.2\"}]}",
    "{\"version\":1,\"zones\":[{\"multiplier\":1.2}],\"offers\":{\"start\":[1]}}",
    "{\"version\":1,\"zones\":[{\"multiplier\":1.2}],\"offers\":{\"end\":[0.5]}}",
  };
  for (guint i = 0; i < G_N_ELEMENTS (bad); i++)
    {
      g_autoptr (GError) be = NULL;
      g_autoptr (FtLeverState) b = ft_lever_state_from_json (bad[i], -1, "store meta x", &be);
      ck_assert_msg (b == NULL, "accepted %s", bad[i]);
      ck_assert_msg (be != NULL && strstr (be->message, "store meta x") != NULL, "%s: %s", bad[i],
                     be ? be->message : "");
    }
}
END_TEST

static Suite *
dyn_suite (void)
{
  Suite *s = suite_create ("dynamic-pricing");
  struct { const char *name; const TTest *fn; } cases[] = {
    { "rails-hold-random", test_rails_hold_random_proposals },
    { "max-change-steps", test_max_change_steps },
    { "emergency-cap", test_emergency_cap },
    { "protected-zone", test_protected_zone },
    { "hook", test_hook_uses_zone },
    { "bad-guards", test_bad_guards_refused },
    { "utilisation-steps", test_utilisation_steps },
    { "optimiser", test_optimiser_objectives },
    { "gbfs-variants", test_gbfs_variants },
    { "incentive-rules", test_incentive_rules },
    { "incentive-budget", test_incentive_budget },
    { "incentive-bad-rules", test_incentive_bad_rules },
    { "levers-propose", test_levers_propose },
    { "levers-offers", test_levers_offers },
    { "restore-zone", test_restore_zone },
    { "lever-state-json", test_lever_state_json },
  };
  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      TCase *tc = tcase_create (cases[i].name);
      tcase_add_test (tc, cases[i].fn);
      suite_add_tcase (s, tc);
    }
  return s;
}

int
main (void)
{
  SRunner *sr = srunner_create (dyn_suite ());
  srunner_run_all (sr, CK_NORMAL);
  int failed = srunner_ntests_failed (sr);
  srunner_free (sr);
  return failed == 0 ? 0 : 1;
}
