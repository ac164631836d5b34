/* test-sim-levers.c — the rider levers in the simulated world: scenarios
 * with bad lever keys are refused naming the key; over a run every zone's
 * multiplier stays inside its rails and moves at most max_change per
 * interval, the declared emergency holds the cap, protected zones keep the
 * plan price; the ledger stays balanced with incentives paid into their own
 * account; the four variants see the same demand (common random numbers).
 */
#include "ft-sim-world.h"
#include "ft-test.h"

#include <check.h>
#include <math.h>
#include <string.h>

START_TEST (test_lever_keys_refused)
{
  struct { const char *text; const char *want[3]; } bad[] = {
    { "[dynamic_pricing]\nfloor=1.6\ncap=1.5\n", { "x.scenario:2", "[dynamic_pricing] floor", "above cap 1.5" } },
    { "[dynamic_pricing]\nscooter_elasticity=0.3\n", { "x.scenario:2", "scooter_elasticity", "outside [-5, 0]" } },
    { "[dynamic_pricing]\nbike_elasticity=-7\n", { "bike_elasticity", "-7", "outside" } },
    { "[incentives]\nbudget_per_day_minor=-5\n", { "x.scenario:2", "[incentives] budget_per_day_minor", "-5" } },
    { "[incentives]\nreward_minor=-1\n", { "reward_minor", "-1", "outside" } },
    { "[dynamic_pricing]\npolicy=surge\n", { "policy", "surge", "optimise" } },
    { "[dynamic_pricing]\nobjective=profit\n", { "objective", "profit", "margin" } },
    { "[dynamic_pricing]\nemergency_cap=2\n", { "emergency_cap", "between floor", "cap 1.5" } },
    { "[dynamic_pricing]\nprotected_zones=3,x\n", { "protected_zones", "'x'", "zone index" } },
    { "[dynamic_pricing]\nemergency_from_h=5\nemergency_to_h=2\n", { "emergency_to_h", "before", "5" } },
  };
  for (guint i = 0; i < G_N_ELEMENTS (bad); i++)
    {
      g_autoptr (GError) err = NULL;
      g_autoptr (FtSimScenario) sc = ft_sim_scenario_parse (bad[i].text, -1, "x.scenario", &err);
      ck_assert_msg (sc == NULL, "case %u parsed", i);
      ck_assert (g_error_matches (err, FT_SIM_ERROR, FT_SIM_ERROR_SCENARIO));
      for (guint k = 0; k < 3; k++)
        ck_assert_msg (strstr (err->message, bad[i].want[k]) != NULL, "case %u: '%s' lacks '%s'", i,
                       err->message, bad[i].want[k]);
    }
  /* a zone the city does not have is refused when the world is built */
  g_autoptr (GError) err = NULL;
  g_autoptr (FtSimScenario) sc = ft_sim_scenario_parse ("[scenario]\ndays=0.1\n[dynamic_pricing]\n"
                                                        "policy=utilisation\nprotected_zones=99999\n",
                                                        -1, "z.scenario", &err);
  ck_assert_msg (sc != NULL, "%s", err ? err->message : "");
  g_autoptr (FtSimWorld) w = ft_sim_world_new (sc, NULL, NULL, &err);
  ck_assert (w == NULL);
  ck_assert_msg (strstr (err->message, "protected_zones") && strstr (err->message, "99999"), "%s", err->message);
}
END_TEST

static FtSimScenario *
levers_scenario (const char *policy, gboolean incentives, double days)
{
  g_autofree char *p = ft_test_source_path ("scenarios/demo-city-levers.scenario");
  g_autoptr (GError) e = NULL;
  FtSimScenario *sc = ft_sim_scenario_load (p, &e);
  ck_assert_msg (sc != NULL, "%s", e ? e->message : "");
  g_free (sc->dyn_policy);
  sc->dyn_policy = g_strdup (policy);
  sc->inc_enabled = incentives;
  sc->days = days;
  sc->seed = 3;
  return sc;
}

/* Run in steps of the pricing interval and check every zone each time. */
static void
run_checking_rails (const char *policy)
{
  g_autoptr (FtSimScenario) sc = levers_scenario (policy, TRUE, 0.75);
  sc->dyn_emergency_from_h = 8;
  sc->dyn_emergency_to_h = 11;
  g_free (sc->dyn_protected_zones);
  sc->dyn_protected_zones = g_strdup ("0,5");
  g_autoptr (GError) e = NULL;
  g_autoptr (FtSimWorld) w = ft_sim_world_new (sc, NULL, NULL, &e);
  ck_assert_msg (w != NULL, "%s", e ? e->message : "");
  FtCore *core = ft_sim_world_get_core (w);
  ck_assert (core->dyn != NULL && core->incentives != NULL);
  guint nz = ft_dyn_pricing_n_zones (core->dyn);
  g_autofree double *prev = g_new (double, nz);
  for (guint z = 0; z < nz; z++)
    prev[z] = ft_dyn_pricing_get (core->dyn, z);
  FtTime step = (FtTime) (sc->dyn_interval_min * FT_MINUTE);
  double top = 1.0;
  for (FtTime t = step / 2; t < ft_sim_world_end_time (w); t += step)
    {
      ck_assert (ft_sim_world_run_until (w, t, &e));
      gboolean emergency = t >= 8 * FT_HOUR && t < 11 * FT_HOUR;
      for (guint z = 0; z < nz; z++)
        {
          double m = ft_dyn_pricing_get (core->dyn, z);
          ck_assert_msg (m >= sc->dyn_floor - 1e-9 && m <= sc->dyn_cap + 1e-9, "zone %u at %g", z, m);
          /* the emergency's drop is the one move allowed to be larger */
          if (!(emergency && t < 8 * FT_HOUR + step))
            ck_assert_msg (fabs (m - prev[z]) <= sc->dyn_max_change + 1e-6, "zone %u moved %g -> %g at %"
                           G_GINT64_FORMAT, z, prev[z], m, t);
          if (emergency)
            ck_assert_msg (m <= sc->dyn_emergency_cap + 1e-9, "zone %u at %g in the emergency", z, m);
          if (z == 0 || z == 5)
            ck_assert_double_eq (m, 1.0);
          top = MAX (top, m);
          prev[z] = m;
        }
    }
  ck_assert_msg (top > 1.0, "no zone ever surged: the rails were not exercised");
  ck_assert_msg (ft_sim_world_check (w, &e), "%s", e ? e->message : "");
  FtSimKpis k;
  ft_sim_world_kpis (w, &k);
  ck_assert (k.ledger_balanced);
  ck_assert (ft_ledger_check (core->ledger, NULL));
  ck_assert_uint_gt (k.price_changes, 0);
  ck_assert_uint_gt (k.incentive_rewards, 0);
  ck_assert_int_gt (k.incentive_cost_minor, 0);
  ck_assert_int_eq (k.incentive_cost_minor, ft_incentives_paid_minor (core->incentives));
  /* the budget per day holds */
  ck_assert_int_le (ft_incentives_paid_on_day (core->incentives, 0), (gint64) sc->inc_budget_per_day_minor);
  ck_assert_uint_gt (k.lost[FT_SIM_LOST_PRICE], 0);
  /* every ended trip was charged the multiplier it was shown */
  for (guint i = 0; i < ft_booking_n (core->booking); i++)
    {
      const FtBookingRec *r = ft_booking_get (core->booking, i);
      ck_assert (r->shown_dyn_mult >= sc->dyn_floor - 1e-9 && r->shown_dyn_mult <= sc->dyn_cap + 1e-9);
    }
}

START_TEST (test_rails_hold_in_run_optimise)
{
  run_checking_rails ("optimise");
}
END_TEST

START_TEST (test_rails_hold_in_run_utilisation)
{
  run_checking_rails ("utilisation");
}
END_TEST

/* The four variants see exactly the same requests (common random numbers):
 * the levers change what riders do with them, not the demand. */
START_TEST (test_variants_same_demand)
{
  guint64 requested[4];
  for (guint v = 0; v < 4; v++)
    {
      g_autoptr (FtSimScenario) sc = levers_scenario (v & 1 ? "optimise" : "off", (v & 2) != 0, 0.25);
      g_autoptr (GError) e = NULL;
      g_autoptr (FtSimWorld) w = ft_sim_world_new (sc, NULL, NULL, &e);
      ck_assert_msg (w != NULL, "%s", e ? e->message : "");
      ck_assert (ft_sim_world_run (w, NULL, NULL, &e));
      FtSimKpis k;
      ft_sim_world_kpis (w, &k);
      ck_assert (k.ledger_balanced);
      requested[v] = k.trips_requested;
      if (v == 0)
        ck_assert_int_eq (k.incentive_cost_minor, 0);
    }
  for (guint v = 1; v < 4; v++)
    ck_assert_uint_eq (requested[v], requested[0]);
}
END_TEST

static Suite *
levers_suite (void)
{
  Suite *s = suite_create ("sim-levers");
  struct { const char *name; const TTest *fn; } cases[] = {
    { "lever-keys-refused", test_lever_keys_refused },
    { "rails-in-run-optimise", test_rails_hold_in_run_optimise },
    { "rails-in-run-utilisation", test_rails_hold_in_run_utilisation },
    { "variants-same-demand", test_variants_same_demand },
  };
  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      TCase *tc = tcase_create (cases[i].name);
      tcase_set_timeout (tc, 600);
      tcase_add_test (tc, cases[i].fn);
      suite_add_tcase (s, tc);
    }
  return s;
}

int
main (void)
{
  SRunner *sr = srunner_create (levers_suite ());
  srunner_run_all (sr, CK_NORMAL);
  int failed = srunner_ntests_failed (sr);
  srunner_free (sr);
  return failed == 0 ? 0 : 1;
}
