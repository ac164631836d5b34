/* test-price-changes.c — prices a running core uses change only through a
 * planner's role-checked request (hardening finding 8: FT_PERM_PLAN was
 * never checked), each change is logged, and the pricing a core owns
 * refuses direct changes.
 */
#include "ft-core.h"

#include <check.h>

static FtMultiPolygon *
square (double lat, double lon, double d)
{
  FtMultiPolygon *mp = ft_multipolygon_new ();
  FtLatLon pts[] = { { lat, lon }, { lat, lon + d }, { lat + d, lon + d }, { lat + d, lon } };
  ft_multipolygon_add_ring (mp, pts, 4);
  return mp;
}

typedef struct {
  FtCore *core;
  gint rider, dispatcher, planner, admin;
} Fixture;

static Fixture f;

static void
setup (void)
{
  FtPricing *p = ft_pricing_new ();
  g_autoptr(FtPricingPlan) plan = ft_pricing_plan_new_simple ("default", "EUR", 100, 25.0, 0.0);
  ck_assert (ft_pricing_add_plan (p, plan, NULL));
  g_autoptr(FtMultiPolygon) centre = square (52.50, 13.38, 0.04);
  ft_pricing_add_zone_multiplier (p, "centre", centre, 1.0);
  FtCoreConfig cfg;
  ft_core_config_init (&cfg);
  f.core = ft_core_new (&cfg, NULL, p);
  f.rider = ft_accounts_create (f.core->accounts, FT_ROLE_RIDER, "Rider", NULL, 0, NULL);
  f.dispatcher = ft_accounts_create (f.core->accounts, FT_ROLE_DISPATCHER, "Dispatcher", NULL, 0, NULL);
  f.planner = ft_accounts_create (f.core->accounts, FT_ROLE_PLANNER, "Planner", NULL, 0, NULL);
  f.admin = ft_accounts_create (f.core->accounts, FT_ROLE_ADMIN, "Admin", NULL, 0, NULL);
  ck_assert (f.rider >= 0 && f.dispatcher >= 0 && f.planner >= 0 && f.admin >= 0);
}

static void
teardown (void)
{
  g_clear_pointer (&f.core, ft_core_free);
}

static const FtLatLon in_centre = { 52.52, 13.40 };

START_TEST (only_planners_change_zone_prices)
{
  g_autoptr(GError) e = NULL;
  guint64 before = ft_event_log_count (f.core->log, FT_EV_PRICE_CHANGED);
  ck_assert (!ft_core_set_zone_multiplier (f.core, (guint) f.rider, "centre", 1.4, 1000, &e));
  ck_assert (g_error_matches (e, FT_ACCOUNTS_ERROR, FT_ACCOUNTS_ERROR_PERMISSION));
  g_clear_error (&e);
  ck_assert (!ft_core_set_zone_multiplier (f.core, (guint) f.dispatcher, "centre", 1.4, 1000, &e));
  ck_assert (g_error_matches (e, FT_ACCOUNTS_ERROR, FT_ACCOUNTS_ERROR_PERMISSION));
  g_clear_error (&e);
  ck_assert (!ft_core_set_zone_multiplier (f.core, 9999, "centre", 1.4, 1000, &e));   /* nobody */
  g_clear_error (&e);
  ck_assert_double_eq (ft_pricing_zone_multiplier (f.core->pricing, in_centre), 1.0);
  ck_assert_uint_eq (ft_event_log_count (f.core->log, FT_EV_PRICE_CHANGED), before);

  ck_assert_msg (ft_core_set_zone_multiplier (f.core, (guint) f.planner, "centre", 1.4, 1000, &e), "%s",
                 e ? e->message : "");
  ck_assert_double_eq (ft_pricing_zone_multiplier (f.core->pricing, in_centre), 1.4);
  ck_assert (ft_core_set_zone_multiplier (f.core, (guint) f.admin, "centre", 1.2, 2000, NULL));
  ck_assert_double_eq (ft_pricing_zone_multiplier (f.core->pricing, in_centre), 1.2);
  ck_assert_uint_eq (ft_event_log_count (f.core->log, FT_EV_PRICE_CHANGED), before + 2);

  /* a planner's bad values are refused, nothing changed */
  ck_assert (!ft_core_set_zone_multiplier (f.core, (guint) f.planner, "centre", NAN, 3000, &e));
  g_clear_error (&e);
  ck_assert (!ft_core_set_zone_multiplier (f.core, (guint) f.planner, "nowhere", 1.1, 3000, &e));
  g_clear_error (&e);
  ck_assert_double_eq (ft_pricing_zone_multiplier (f.core->pricing, in_centre), 1.2);
}
END_TEST

START_TEST (only_planners_change_plans_and_surge)
{
  g_autoptr(GError) e = NULL;
  g_autoptr(FtPricingPlan) dearer = ft_pricing_plan_new_simple ("default", "EUR", 150, 30.0, 0.0);
  ck_assert (!ft_core_put_pricing_plan (f.core, (guint) f.rider, dearer, 0, &e));
  g_clear_error (&e);
  ck_assert_int_eq (ft_pricing_lookup (f.core->pricing, "default")->unlock_fee_minor, 100);
  ck_assert (ft_core_put_pricing_plan (f.core, (guint) f.planner, dearer, 0, &e));
  ck_assert_int_eq (ft_pricing_lookup (f.core->pricing, "default")->unlock_fee_minor, 150);
  ck_assert_uint_eq (ft_pricing_n_plans (f.core->pricing), 1);   /* replaced, not added */

  ck_assert (!ft_core_set_dynamic_pricing (f.core, (guint) f.dispatcher, NULL, NULL, 1.0, 1.5, 0, &e));
  g_clear_error (&e);
  ck_assert (ft_core_set_dynamic_pricing (f.core, (guint) f.planner, NULL, NULL, 1.0, 1.5, 0, &e));
  ck_assert (!ft_core_set_dynamic_pricing (f.core, (guint) f.planner, NULL, NULL, 2.0, 1.5, 0, &e));
  g_clear_error (&e);
}
END_TEST

START_TEST (owned_pricing_refuses_direct_changes)
{
  g_autoptr(GError) e = NULL;
  ck_assert (ft_pricing_is_sealed (f.core->pricing));
  g_autoptr(FtPricingPlan) other = ft_pricing_plan_new_simple ("other", "EUR", 0, 1.0, 0.0);
  ck_assert (!ft_pricing_add_plan (f.core->pricing, other, &e));
  ck_assert (g_error_matches (e, FT_PRICING_ERROR, FT_PRICING_ERROR_PERMISSION));
  g_clear_error (&e);
  ck_assert (!ft_pricing_set_zone_multiplier (f.core->pricing, "centre", 3.0, &e));
  ck_assert (g_error_matches (e, FT_PRICING_ERROR, FT_PRICING_ERROR_PERMISSION));
  ck_assert_uint_eq (ft_pricing_n_plans (f.core->pricing), 1);
  ck_assert_double_eq (ft_pricing_zone_multiplier (f.core->pricing, in_centre), 1.0);
}
END_TEST

static Suite *
price_suite (void)
{
  Suite *s = suite_create ("price-changes");
  TCase *tc = tcase_create ("permissions");
  tcase_add_checked_fixture (tc, setup, teardown);
  tcase_add_test (tc, only_planners_change_zone_prices);
  tcase_add_test (tc, only_planners_change_plans_and_surge);
  tcase_add_test (tc, owned_pricing_refuses_direct_changes);
  suite_add_tcase (s, tc);
  return s;
}

int
main (void)
{
  g_log_set_always_fatal (G_LOG_LEVEL_CRITICAL | G_LOG_LEVEL_WARNING);
  SRunner *sr = srunner_create (price_suite ());
  srunner_run_all (sr, CK_NORMAL);
  int failed = srunner_ntests_failed (sr);
  srunner_free (sr);
  return failed == 0 ? 0 : 1;
}
