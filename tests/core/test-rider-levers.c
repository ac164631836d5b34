/* test-rider-levers.c — the rider levers through a whole core: zone prices
 * change only through a planner's role-checked call and every change is
 * logged; the guard rails hold through the core; the price shown at
 * reservation is the price charged even when the zone's multiplier rises
 * before the ride ends; incentives are paid into their own ledger account
 * and the ledger stays balanced.
 */
#include "ft-core.h"
#include "test-town.h"

#include <check.h>

#define T0 (8 * FT_HOUR)

typedef struct {
  FtCore *core;
  guint   v[3];
  guint   rider, rider2, planner, dispatcher;
} Fx;

static Fx f;

/* two zones: west of the centre (0) and east of it (1) */
static gint
town_zone (FtLatLon at, gpointer data)
{
  return at.lon < TEST_TOWN_LON ? 0 : 1;
}

static guint
account (const char *name, guint32 roles)
{
  g_autoptr(GError) err = NULL;
  gint i = ft_accounts_create (f.core->accounts, roles, name, NULL, T0, &err);
  ck_assert_msg (i >= 0, "%s", err ? err->message : "");
  return (guint) i;
}

static void
setup (void)
{
  FtCoreConfig cfg;
  ft_core_config_init (&cfg);
  cfg.seed = 11;
  cfg.card_decline_rate = 0.0;
  f.core = ft_core_new (&cfg, NULL, NULL);
  FtBBox bb;
  ft_bbox_init_empty (&bb);
  ft_bbox_extend (&bb, test_town_at (-1500, -1500));
  ft_bbox_extend (&bb, test_town_at (1500, 1500));
  ft_fleet_enable_index (f.core->fleet, bb, 100);
  FtLatLon pos[3] = { test_town_at (60, 0), test_town_at (-60, 0), test_town_at (80, 20) };
  for (guint i = 0; i < 3; i++)
    {
      f.v[i] = ft_fleet_add_vehicle (f.core->fleet, FT_KIND_SCOOTER, pos[i], NULL, T0);
      const FtVehicleType *ty = ft_vehicle_type_default (FT_KIND_SCOOTER);
      g_autoptr(GError) err = NULL;
      ft_fleet_add_pack (f.core->fleet, ty->pack_capacity_wh, 0.9, FT_PACK_IN_VEHICLE, (gint32) f.v[i], T0,
                         &err);
      ck_assert (err == NULL);
    }
  f.rider = account ("ana", FT_ROLE_RIDER);
  f.rider2 = account ("ben", FT_ROLE_RIDER);
  f.planner = account ("pia", FT_ROLE_PLANNER);
  f.dispatcher = account ("dan", FT_ROLE_DISPATCHER);
  ck_assert (ft_payments_topup (f.core->payments, f.rider, 5000, "t0", T0, NULL) >= 0);
  ck_assert (ft_payments_topup (f.core->payments, f.rider2, 5000, "t1", T0, NULL) >= 0);
  g_autoptr(GError) err = NULL;
  ck_assert_msg (ft_core_enable_dynamic_zones (f.core, f.planner, 2, NULL, town_zone, NULL, T0, &err), "%s",
                 err ? err->message : "");
}

static void
teardown (void)
{
  g_clear_pointer (&f.core, ft_core_free);
}

static void
assert_ok (void)
{
  g_autoptr(GError) err = NULL;
  ck_assert_msg (ft_core_check (f.core, &err), "core check: %s", err ? err->message : "");
}

START_TEST (zone_prices_role_checked_and_logged)
{
  g_autoptr(GError) e = NULL;
  double up[2] = { 1.0, 1.2 };
  guint64 before = ft_event_log_count (f.core->log, FT_EV_PRICE_CHANGED);
  ck_assert (!ft_core_apply_zone_prices (f.core, f.rider, up, T0, NULL, &e));
  ck_assert (g_error_matches (e, FT_ACCOUNTS_ERROR, FT_ACCOUNTS_ERROR_PERMISSION));
  g_clear_error (&e);
  ck_assert (!ft_core_apply_zone_prices (f.core, f.dispatcher, up, T0, NULL, &e));
  g_clear_error (&e);
  ck_assert (!ft_core_set_price_emergency (f.core, f.rider, TRUE, T0, &e));
  g_clear_error (&e);
  ck_assert_uint_eq (ft_event_log_count (f.core->log, FT_EV_PRICE_CHANGED), before);
  ck_assert_double_eq (ft_pricing_dynamic_multiplier (f.core->pricing, test_town_at (60, 0), T0, 0), 1.0);

  guint n = 0;
  ck_assert (ft_core_apply_zone_prices (f.core, f.planner, up, T0, &n, &e));
  ck_assert_uint_eq (n, 1);
  ck_assert_uint_eq (ft_event_log_count (f.core->log, FT_EV_PRICE_CHANGED), before + 1);
  ck_assert_double_eq_tol (ft_pricing_dynamic_multiplier (f.core->pricing, test_town_at (60, 0), T0, 0), 1.2,
                           1e-9);
  ck_assert_double_eq_tol (ft_pricing_dynamic_multiplier (f.core->pricing, test_town_at (-60, 0), T0, 0), 1.0,
                           1e-9);
  /* the rails hold through the core: 5.0 asked, 1.4 given (max change 0.2) */
  double wild[2] = { 5.0, 5.0 };
  ck_assert (ft_core_apply_zone_prices (f.core, f.planner, wild, T0 + 15 * FT_MINUTE, &n, NULL));
  ck_assert_double_eq_tol (ft_dyn_pricing_get (f.core->dyn, 1), 1.4, 1e-9);
  ck_assert_double_eq_tol (ft_dyn_pricing_get (f.core->dyn, 0), 1.2, 1e-9);
  /* the emergency: no surge anywhere, logged */
  ck_assert (ft_core_set_price_emergency (f.core, f.planner, TRUE, T0 + 20 * FT_MINUTE, NULL));
  ck_assert (ft_core_apply_zone_prices (f.core, f.planner, wild, T0 + 30 * FT_MINUTE, &n, NULL));
  ck_assert_double_eq (ft_pricing_dynamic_multiplier (f.core->pricing, test_town_at (60, 0), T0, 0), 1.0);
  ck_assert_double_eq (ft_pricing_dynamic_multiplier (f.core->pricing, test_town_at (-60, 0), T0, 0), 1.0);
  /* the pricing the core owns refuses a direct change */
  ck_assert (!ft_pricing_set_dynamic_checked (f.core->pricing, NULL, NULL, 1.0, 3.0, &e));
  ck_assert (g_error_matches (e, FT_PRICING_ERROR, FT_PRICING_ERROR_PERMISSION));
}
END_TEST

/* A rider reserves at 1.0; the zone surges to 1.4 before she unlocks and
 * ends: she pays the price she was shown. Without the fix the trip was
 * priced at the unlock time's multiplier. */
START_TEST (reserved_price_is_charged)
{
  g_autoptr(GError) e = NULL;
  gint64 bk = ft_booking_reserve (f.core->booking, f.rider, f.v[0], T0, &e);
  ck_assert_msg (bk >= 0, "%s", e ? e->message : "");
  ck_assert_double_eq (ft_booking_get (f.core->booking, bk)->shown_dyn_mult, 1.0);
  double up[2] = { 1.0, 1.4 };
  ck_assert (ft_core_apply_zone_prices (f.core, f.planner, up, T0 + FT_MINUTE, NULL, NULL));
  ck_assert (ft_core_apply_zone_prices (f.core, f.planner, up, T0 + 2 * FT_MINUTE, NULL, NULL));
  ck_assert_double_eq_tol (ft_dyn_pricing_get (f.core->dyn, 1), 1.4, 1e-9);
  ck_assert (ft_booking_unlock (f.core->booking, bk, f.rider, T0 + 3 * FT_MINUTE, &e));
  FtPriceBreakdown pb;
  ck_assert (ft_booking_end (f.core->booking, bk, f.rider, test_town_at (700, 0), 800, T0 + 13 * FT_MINUTE,
                             &pb, &e));
  /* default plan: 1.00 unlock + 0.25/min x 10 min = 3.50 at 1.0 */
  ck_assert_double_eq (pb.dynamic_multiplier, 1.0);
  ck_assert_int_eq (pb.total, 350);
  ck_assert_int_eq (ft_booking_get (f.core->booking, bk)->price_minor, 350);
  ck_assert_int_eq (ft_payments_captured (f.core->payments, bk), 350);

  /* a walk-up start now is shown, and pays, the surged price */
  gint64 bk2 = ft_booking_start (f.core->booking, f.rider2, f.v[2], T0 + 14 * FT_MINUTE, &e);
  ck_assert_msg (bk2 >= 0, "%s", e ? e->message : "");
  ck_assert (ft_booking_end (f.core->booking, bk2, f.rider2, test_town_at (700, 300), 800,
                             T0 + 24 * FT_MINUTE, &pb, &e));
  ck_assert_double_eq_tol (pb.dynamic_multiplier, 1.4, 1e-9);
  ck_assert_int_eq (pb.total, 490);
  assert_ok ();
}
END_TEST

START_TEST (incentives_paid_ledger_balanced)
{
  g_autoptr(GError) e = NULL;
  FtIncentiveRules r;
  ft_incentive_rules_init (&r);
  r.reward_minor = 75;
  ck_assert (!ft_core_enable_incentives (f.core, f.rider, 2, &r, T0, &e));   /* riders may not */
  g_clear_error (&e);
  ck_assert (ft_core_enable_incentives (f.core, f.planner, 2, &r, T0, &e));
  gboolean start[2] = { TRUE, FALSE }, end[2] = { FALSE, TRUE };
  ck_assert (ft_core_set_incentive_offers (f.core, f.planner, start, end, T0, &e));
  gint64 wallet0 = ft_payments_wallet (f.core->payments, f.rider);

  /* start in the west (surplus), end in the east (shortfall): 2 x 75 */
  gint64 bk = ft_booking_start (f.core->booking, f.rider, f.v[1], T0, &e);
  ck_assert_msg (bk >= 0, "%s", e ? e->message : "");
  gint64 amount = -1;
  /* not yet ended: refused with an error */
  ck_assert_int_eq (ft_core_reward_trip (f.core, bk, 0, 1, TRUE, TRUE, T0, &amount, &e),
                    FT_N_INCENTIVE_VERDICTS);
  g_clear_error (&e);
  FtPriceBreakdown pb;
  ck_assert (ft_booking_end (f.core->booking, bk, f.rider, test_town_at (600, 0), 700, T0 + 8 * FT_MINUTE,
                             &pb, &e));
  ck_assert_int_eq (ft_core_reward_trip (f.core, bk, 0, 1, TRUE, TRUE, T0 + 8 * FT_MINUTE, &amount, &e),
                    FT_INCENTIVE_REWARDED);
  ck_assert_int_eq (amount, 150);
  ck_assert_int_eq (ft_payments_wallet (f.core->payments, f.rider), wallet0 - pb.total + 150);
  ck_assert_int_eq (ft_payments_incentives_total (f.core->payments), 150);
  guint acc;
  ck_assert (ft_ledger_lookup (f.core->ledger, "expense:incentives", &acc));
  ck_assert_int_eq (ft_ledger_balance (f.core->ledger, acc), 150);
  ck_assert (ft_ledger_check (f.core->ledger, NULL));
  /* the same booking again, even after the cool-down: paid once */
  ck_assert_int_eq (ft_core_reward_trip (f.core, bk, 0, 1, TRUE, TRUE, T0 + 9 * FT_MINUTE, &amount, &e),
                    FT_INCENTIVE_ALREADY_PAID);
  ck_assert_int_eq (ft_core_reward_trip (f.core, bk, 0, 1, TRUE, TRUE, T0 + 90 * FT_MINUTE, &amount, &e),
                    FT_INCENTIVE_ALREADY_PAID);
  ck_assert_int_eq (amount, 0);
  ck_assert_int_eq (ft_payments_incentives_total (f.core->payments), 150);
  ck_assert_uint_eq (ft_incentives_n_rewarded (f.core->incentives), 1);
  /* the rider's next trip inside the cool-down earns nothing */
  gint64 bk2 = ft_booking_start (f.core->booking, f.rider, f.v[1], T0 + 10 * FT_MINUTE, &e);
  ck_assert_msg (bk2 >= 0, "%s", e ? e->message : "");
  ck_assert (ft_booking_end (f.core->booking, bk2, f.rider, test_town_at (-500, 0), 700, T0 + 18 * FT_MINUTE,
                             &pb, &e));
  ck_assert_int_eq (ft_core_reward_trip (f.core, bk2, 1, 0, TRUE, TRUE, T0 + 18 * FT_MINUTE, &amount, &e),
                    FT_INCENTIVE_COOLDOWN);
  assert_ok ();
}
END_TEST

static Suite *
levers_suite (void)
{
  Suite *s = suite_create ("rider-levers");
  TCase *tc = tcase_create ("core");
  tcase_add_checked_fixture (tc, setup, teardown);
  tcase_add_test (tc, zone_prices_role_checked_and_logged);
  tcase_add_test (tc, reserved_price_is_charged);
  tcase_add_test (tc, incentives_paid_ledger_balanced);
  suite_add_tcase (s, tc);
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
