/* test-ops-value.c — task values (src/ops/ft-ops-value.c) against figures
 * worked by hand: a swap's trips saved within the vehicle's share of its
 * zone's demand, a rebalance's gain at the target minus its loss at the
 * source, a collection's faults avoided; the reason string; refusals that
 * name the field; and the queue ranked by value per staff minute.
 */
#include "ft-config.h"
#include "ft-ops-value.h"

#include <check.h>
#include <math.h>
#include <string.h>

static FtTaskValueInput
base_input (FtTaskKind kind)
{
  FtTaskValueInput in = { 0 };
  in.kind = kind;
  in.now = 14 * FT_HOUR;
  in.horizon_end = 18 * FT_HOUR;
  in.battery = 0.5;
  in.battery_per_trip = 0.05;
  in.min_battery = 0.1;
  in.revenue_per_trip = 2.5;
  in.staff_minutes = 10;
  in.detour_minutes = 9;
  in.van_km = 2;
  in.cost_per_staff_minute = 0.5;
  in.cost_per_van_km = 0.3;
  return in;
}

START_TEST (test_value_trips_on_charge)
{
  ck_assert_double_eq_tol (ft_task_value_trips_on_charge (0.5, 0.1, 0.05), 8.0, 1e-9);
  ck_assert_double_eq (ft_task_value_trips_on_charge (0.05, 0.1, 0.05), 0.0);
  ck_assert_double_eq (ft_task_value_trips_on_charge (0.1, 0.1, 0.05), 0.0);
}
END_TEST

START_TEST (test_value_swap)
{
  FtTaskValueInput in = base_input (FT_TASK_BATTERY_SWAP);
  in.expected_requests = 12;   /* shared by 3 vehicles: 4 each */
  in.vehicles_there = 2;
  in.battery = 0.15;           /* 1 trip left; a full pack gives 18 */
  FtTaskValue v;
  g_autoptr (GError) e = NULL;
  ck_assert (ft_task_value_estimate (&in, &v, &e));
  ck_assert_double_eq_tol (v.trips_saved, 3.0, 1e-9);
  ck_assert_double_eq_tol (v.revenue_saved, 7.5, 1e-9);
  ck_assert_double_eq_tol (v.cost, 10 * 0.5 + 2 * 0.3, 1e-9);
  ck_assert_double_eq_tol (v.value, 7.5 - 5.6, 1e-9);
  ck_assert_double_eq_tol (v.value_per_minute, 0.19, 1e-9);
  ck_assert_str_eq (v.reason, "saves ~3.0 trips before 18:00, 9 min detour");

  /* a full pack saves nothing: the swap only costs */
  in.battery = 1.0;
  ck_assert (ft_task_value_estimate (&in, &v, NULL));
  ck_assert_double_eq (v.trips_saved, 0.0);
  ck_assert_double_eq_tol (v.value, -5.6, 1e-9);
  /* demand below what the current charge covers: nothing saved either */
  in.battery = 0.5;
  in.expected_requests = 3;
  ck_assert (ft_task_value_estimate (&in, &v, NULL));
  ck_assert_double_eq (v.trips_saved, 0.0);
}
END_TEST

START_TEST (test_value_rebalance)
{
  FtTaskValueInput in = base_input (FT_TASK_REBALANCE);   /* 8 trips on its charge */
  in.expected_requests = 20;   /* 1 vehicle serves 8; a second serves 8 more */
  in.vehicles_there = 1;
  in.source_expected_requests = 3;   /* 4 vehicles for 3 requests: the source loses none */
  in.source_vehicles = 4;
  FtTaskValue v;
  ck_assert (ft_task_value_estimate (&in, &v, NULL));
  ck_assert_double_eq_tol (v.trips_saved, 8.0, 1e-9);
  ck_assert_str_eq (v.reason, "saves ~8.0 trips before 18:00, 9 min detour");

  /* a target that needs only 2 more trips, from a source short of
   * vehicles that loses 8: the move is worth -6 trips */
  in.expected_requests = 10;
  in.source_expected_requests = 30;
  in.source_vehicles = 2;
  ck_assert (ft_task_value_estimate (&in, &v, NULL));
  ck_assert_double_eq_tol (v.trips_saved, -6.0, 1e-9);
  ck_assert_str_eq (v.reason, "loses ~6.0 trips before 18:00, 9 min detour");
  ck_assert (v.value < -10.0);

  /* a deploy has no source */
  in.kind = FT_TASK_DEPLOY;
  ck_assert (ft_task_value_estimate (&in, &v, NULL));
  ck_assert_double_eq_tol (v.trips_saved, 2.0, 1e-9);
}
END_TEST

START_TEST (test_value_collect)
{
  FtTaskValueInput in = base_input (FT_TASK_COLLECT_REPAIR);
  in.fault_risk = 0.3;
  in.fault_cost = 40;
  in.horizon_end = FT_DAY + 6 * FT_HOUR + 30 * FT_MINUTE;   /* next morning */
  FtTaskValue v;
  ck_assert (ft_task_value_estimate (&in, &v, NULL));
  ck_assert_double_eq_tol (v.faults_avoided, 0.3, 1e-12);
  ck_assert_double_eq_tol (v.value, 12.0 - 5.6, 1e-9);
  ck_assert_str_eq (v.reason, "avoids ~30% fault risk before 06:30, 9 min detour");
  /* the city's clock, named */
  in.utc_offset_min = -150;
  in.tz_label = "UTC-2:30";
  ck_assert (ft_task_value_estimate (&in, &v, NULL));
  ck_assert_str_eq (v.reason, "avoids ~30% fault risk before 04:00 UTC-2:30, 9 min detour");
}
END_TEST

START_TEST (test_value_refusals)
{
  FtTaskValue v;
  memset (&v, 0x5a, sizeof v);
  FtTaskValue before = v;
  g_autoptr (GError) e = NULL;

  FtTaskValueInput in = base_input (FT_TASK_BATTERY_SWAP);
  in.battery = 1.5;
  ck_assert (!ft_task_value_estimate (&in, &v, &e));
  ck_assert (g_error_matches (e, FT_OPS_ERROR, FT_OPS_ERROR_INVALID));
  ck_assert_msg (strstr (e->message, "battery is 1.5") != NULL, "%s", e->message);
  ck_assert (memcmp (&v, &before, sizeof v) == 0);
  g_clear_error (&e);

  in = base_input (FT_TASK_BATTERY_SWAP);
  in.staff_minutes = 0;
  ck_assert (!ft_task_value_estimate (&in, &v, &e));
  ck_assert_msg (strstr (e->message, "staff_minutes") != NULL, "%s", e->message);
  g_clear_error (&e);

  in = base_input (FT_TASK_REBALANCE);
  in.expected_requests = NAN;
  ck_assert (!ft_task_value_estimate (&in, &v, &e));
  ck_assert_msg (strstr (e->message, "expected_requests") != NULL, "%s", e->message);
  g_clear_error (&e);

  in = base_input (FT_TASK_COLLECT_REPAIR);
  in.fault_risk = -0.1;
  ck_assert (!ft_task_value_estimate (&in, &v, &e));
  ck_assert_msg (strstr (e->message, "fault_risk") != NULL, "%s", e->message);
  g_clear_error (&e);

  in = base_input (FT_TASK_BATTERY_SWAP);
  in.horizon_end = in.now - 1;
  ck_assert (!ft_task_value_estimate (&in, &v, &e));
  ck_assert_msg (strstr (e->message, "horizon_end") != NULL, "%s", e->message);
  ck_assert (memcmp (&v, &before, sizeof v) == 0);
}
END_TEST

START_TEST (test_value_rank_open)
{
  FtEventLog *lg = ft_event_log_new ();
  FtFleet *fleet = ft_fleet_new (1, lg);
  FtAccounts *acc = ft_accounts_new (1, lg);
  FtLatLon p = { 52.5, 13.4 };
  for (int i = 0; i < 4; i++)
    ft_fleet_add_vehicle (fleet, FT_KIND_SCOOTER, ft_latlon_offset (p, i * 100.0, 0), NULL, 0);
  gint field = ft_accounts_create (acc, FT_ROLE_FIELD, "F", NULL, 0, NULL);
  FtOps *ops = ft_ops_new (fleet, acc, lg);
  gint64 t[4];
  for (int i = 0; i < 4; i++)
    t[i] = ft_ops_create (ops, FT_TASK_BATTERY_SWAP, i, p, -1, 5, -1, 100, NULL);

  FtTaskValue lo = { .value_per_minute = 0.1 }, hi = { .value_per_minute = 0.5 };
  g_strlcpy (hi.reason, "saves ~2.4 trips before 18:00, 9 min detour", sizeof hi.reason);
  ck_assert (ft_ops_set_value (ops, t[0], &lo, NULL));
  ck_assert (ft_ops_set_value (ops, t[1], &hi, NULL));
  ck_assert (ft_ops_set_value (ops, t[3], &lo, NULL));
  ck_assert_ptr_null (ft_ops_get_value (ops, t[2]));
  ck_assert_str_eq (ft_ops_get_value (ops, t[1])->reason, hi.reason);

  g_autoptr (GArray) r = g_array_new (FALSE, FALSE, sizeof (gint64));
  ft_ops_rank_open (ops, r);
  ck_assert_uint_eq (r->len, 4);
  /* highest value per minute, then the tie oldest first, then unvalued */
  ck_assert_int_eq (g_array_index (r, gint64, 0), t[1]);
  ck_assert_int_eq (g_array_index (r, gint64, 1), t[0]);
  ck_assert_int_eq (g_array_index (r, gint64, 2), t[3]);
  ck_assert_int_eq (g_array_index (r, gint64, 3), t[2]);

  /* an assigned task leaves the ranking; its value stays */
  ck_assert (ft_ops_assign (ops, t[1], (guint) field, -1, 200, NULL));
  ft_ops_rank_open (ops, r);
  ck_assert_uint_eq (r->len, 3);
  ck_assert_int_eq (g_array_index (r, gint64, 0), t[0]);
  ck_assert_ptr_nonnull (ft_ops_get_value (ops, t[1]));

  /* a value for a task that does not exist is refused */
  g_autoptr (GError) e = NULL;
  ck_assert (!ft_ops_set_value (ops, 99, &lo, &e));
  ck_assert (g_error_matches (e, FT_OPS_ERROR, FT_OPS_ERROR_NO_SUCH_TASK));
  ck_assert_ptr_null (ft_ops_get_value (ops, 99));

  /* tasks created after a value was set can be valued too */
  gint64 late = ft_ops_create (ops, FT_TASK_COLLECT_REPAIR, 0, p, -1, 8, -1, 300, NULL);
  ck_assert (ft_ops_set_value (ops, late, &hi, NULL));
  ft_ops_rank_open (ops, r);
  ck_assert_int_eq (g_array_index (r, gint64, 0), late);

  ft_ops_free (ops);
  ft_accounts_free (acc);
  ft_fleet_free (fleet);
  ft_event_log_free (lg);
}
END_TEST

int
main (void)
{
  Suite *s = suite_create ("ops-value");
  TCase *tc = tcase_create ("core");
  tcase_add_test (tc, test_value_trips_on_charge);
  tcase_add_test (tc, test_value_swap);
  tcase_add_test (tc, test_value_rebalance);
  tcase_add_test (tc, test_value_collect);
  tcase_add_test (tc, test_value_refusals);
  tcase_add_test (tc, test_value_rank_open);
  suite_add_tcase (s, tc);
  SRunner *sr = srunner_create (s);
  srunner_run_all (sr, CK_NORMAL);
  int failed = srunner_ntests_failed (sr);
  srunner_free (sr);
  return failed == 0 ? 0 : 1;
}
