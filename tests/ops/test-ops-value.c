/* test-ops-value.c — task values (src/ops/ft-ops-value.c) against figures
 * worked by hand: the vehicle-hours a swap, deploy, inspection or repair
 * puts back on offer, the zone's Poisson shortfall, a rebalance's gain at
 * the target minus its loss at the source, faults avoided; a flat vehicle
 * in an empty zone worth more than a surplus vehicle moved there; the
 * reason string in local time; refusals that name the field; and the queue
 * ranked by value per staff minute.
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

START_TEST (test_value_poisson_tail)
{
  ck_assert_double_eq (ft_task_value_poisson_tail (2, 0), 1.0);
  ck_assert_double_eq (ft_task_value_poisson_tail (0, 1), 0.0);
  ck_assert_double_eq (ft_task_value_poisson_tail (0, 0), 1.0);
  ck_assert_double_eq_tol (ft_task_value_poisson_tail (2, 1), 1 - exp (-2), 1e-12);
  /* P(N >= 3) = 1 - e^-2 (1 + 2 + 2) */
  ck_assert_double_eq_tol (ft_task_value_poisson_tail (2, 3), 1 - 5 * exp (-2), 1e-12);
  ck_assert_double_eq_tol (ft_task_value_poisson_tail (2, 2.5), 1 - 5 * exp (-2), 1e-12);
  /* far from the mean both ways, where e^-mean underflows (sums by Python) */
  ck_assert_double_eq_tol (ft_task_value_poisson_tail (1000, 1000), 0.5042052441800837, 1e-9);
  ck_assert_double_eq_tol (ft_task_value_poisson_tail (1000, 1100), 0.0009626304058662804, 1e-9);
  ck_assert_double_eq_tol (ft_task_value_poisson_tail (1000, 900), 0.9993774022154737, 1e-9);
  ck_assert_double_eq (ft_task_value_poisson_tail (1000, 5000), 0.0);

  /* with arrivals (Skellam), by Python's sums */
  ck_assert_double_eq_tol (ft_task_value_shortfall (2, 0, 3), 1 - 5 * exp (-2), 1e-12);
  ck_assert_double_eq_tol (ft_task_value_shortfall (2 * (4.0 - 10.0 / 60.0), 2 * (4.0 - 10.0 / 60.0), 1), 0.4486280032897096, 1e-9);
  ck_assert_double_eq_tol (ft_task_value_shortfall (2 * (4.0 - 10.0 / 60.0), 2 * (4.0 - 10.0 / 60.0), 3), 0.2595057182950579, 1e-9);

  /* E[min(N, c)] */
  ck_assert_double_eq_tol (ft_task_value_served (2, 1), 1 - exp (-2), 1e-12);
  ck_assert_double_eq_tol (ft_task_value_served (2, 2), 2 - 2 * exp (-2) - 2 * exp (-2), 1e-12);
  ck_assert_double_eq (ft_task_value_served (2, 0), 0.0);
  ck_assert_double_eq (ft_task_value_served (0, 5), 0.0);
  ck_assert_double_eq (ft_task_value_served (1000, 5000), 1000.0);
}
END_TEST

/* 14:00 to 18:00, done 10 staff minutes from now: 3 h 50 min count */
#define H_LEFT (4.0 - 10.0 / 60.0)

START_TEST (test_value_swap)
{
  FtTaskValueInput in = base_input (FT_TASK_BATTERY_SWAP);
  in.trips_per_vehicle_hour = 0.5;   /* 18 trips on a full pack last 36 h */
  in.revenue_per_trip = 4;
  in.expected_requests = 8;    /* 2 an hour */
  in.vehicles_there = 0;
  in.battery = 0.05;           /* flat: off offer */
  FtTaskValue v;
  g_autoptr (GError) e = NULL;
  ck_assert (ft_task_value_estimate (&in, &v, &e));
  ck_assert_double_eq_tol (v.vehicle_hours, H_LEFT, 1e-9);
  /* the empty zone runs short with P(Poisson(2 x 3.83) >= 1) */
  ck_assert_double_eq_tol (v.shortfall, 1 - exp (-2 * H_LEFT), 1e-12);
  /* the asset view is the larger: 3.83 h x 0.5 trips an hour */
  ck_assert_double_eq_tol (v.trips_saved, 0.5 * H_LEFT, 1e-9);
  ck_assert_double_eq_tol (v.revenue_saved, 4 * 0.5 * H_LEFT, 1e-9);
  ck_assert_double_eq_tol (v.cost, 10 * 0.5 + 2 * 0.3, 1e-9);
  ck_assert_double_eq_tol (v.value, 2 * H_LEFT - 5.6, 1e-9);
  ck_assert_double_eq_tol (v.value_per_minute, (2 * H_LEFT - 5.6) / 10, 1e-9);
  ck_assert_str_eq (v.reason, "frees 1 vehicle for ~3.8 h, saves ~1.9 trips before 18:00, 9 min detour");

  /* among ten others the zone hardly runs short, but the flat vehicle is
   * still an asset earning nothing: the swap is worth as much */
  in.vehicles_there = 10;
  ck_assert (ft_task_value_estimate (&in, &v, NULL));
  ck_assert (v.shortfall < 0.2);
  ck_assert_double_eq_tol (v.trips_saved, 0.5 * H_LEFT, 1e-9);

  /* a busy zone where the shortfall is the larger: 6 requests an hour, no
   * other vehicle, at a utilisation of 0.1 trips an hour */
  in.vehicles_there = 0;
  in.expected_requests = 24;
  in.trips_per_vehicle_hour = 0.1;
  ck_assert (ft_task_value_estimate (&in, &v, NULL));
  ck_assert_double_eq_tol (v.trips_saved, 1 - exp (-6 * H_LEFT), 1e-12);
  in.expected_requests = 8;
  in.trips_per_vehicle_hour = 0.5;

  /* low but on offer: 1 trip left serves E[min(N, 1)] = 1 - e^-1.92 of
   * the 1.92 asked for; a fresh pack serves them all */
  in.battery = 0.15;
  ck_assert (ft_task_value_estimate (&in, &v, NULL));
  double low = 0.5 * H_LEFT - (1 - exp (-0.5 * H_LEFT));
  ck_assert_double_eq_tol (v.trips_saved, low, 1e-9);
  ck_assert_double_eq_tol (v.vehicle_hours, low / 0.5, 1e-9);
  ck_assert_double_eq (v.shortfall, 0.0);

  /* half a pack (8 trips) almost surely outlasts the 1.92 asked for:
   * E[min(N, 18)] - E[min(N, 8)] = 0.000214 (Python) */
  in.battery = 0.5;
  ck_assert (ft_task_value_estimate (&in, &v, NULL));
  ck_assert_double_eq_tol (v.trips_saved, 0.00021360220344757153, 1e-9);
  ck_assert_double_eq_tol (v.value, -5.6 + 4 * 0.00021360220344757153, 1e-9);
  ck_assert_str_eq (v.reason, "saves ~0.0 trips before 18:00, 9 min detour");

  /* a faulty vehicle stays off offer with a fresh pack */
  in.battery = 0.05;
  in.out_of_service = TRUE;
  ck_assert (ft_task_value_estimate (&in, &v, NULL));
  ck_assert_double_eq (v.vehicle_hours, 0.0);
  ck_assert_double_eq (v.trips_saved, 0.0);

  /* without a utilisation, the zone's share: 2 an hour among 3 */
  in.out_of_service = FALSE;
  in.trips_per_vehicle_hour = 0;
  in.vehicles_there = 2;
  ck_assert (ft_task_value_estimate (&in, &v, NULL));
  ck_assert_double_eq_tol (v.trips_saved, 2.0 / 3.0 * H_LEFT, 1e-9);
}
END_TEST

/* The brief's case: a flat vehicle in an empty zone before the peak is
 * worth more than moving a surplus vehicle into that zone. */
START_TEST (test_value_swap_beats_surplus_rebalance)
{
  FtTaskValueInput sw = base_input (FT_TASK_BATTERY_SWAP);
  sw.trips_per_vehicle_hour = 0.5;
  sw.expected_requests = 8;
  sw.vehicles_there = 0;
  sw.battery = 0.05;
  FtTaskValueInput rb = sw;
  rb.kind = FT_TASK_REBALANCE;
  rb.battery = 0.5;
  rb.source_expected_requests = 2;   /* half a request an hour for 4 vehicles */
  rb.source_vehicles = 4;
  FtTaskValue vs, vr;
  ck_assert (ft_task_value_estimate (&sw, &vs, NULL));
  ck_assert (ft_task_value_estimate (&rb, &vr, NULL));
  /* the rebalance: P(Poisson(7.67) >= 1) - P(Poisson(1.92) >= 4) (Python) */
  ck_assert_double_eq_tol (vr.trips_saved, 0.87137065692039, 1e-9);
  ck_assert_double_eq (vr.vehicle_hours, 0.0);
  ck_assert_double_eq_tol (vs.trips_saved, 1.9166666666666667, 1e-9);
  ck_assert (vs.value_per_minute > vr.value_per_minute);
  /* the rebalance does not pay its 10 staff minutes (value -3.42) but
   * earns more than its 2 van km: better than an idle van on shift */
  ck_assert_double_eq_tol (vr.staff_cost, 5.0, 1e-12);
  ck_assert (vr.value < 0);
  ck_assert (ft_task_value_pays (&vr));
  /* a swap of a vehicle with half a pack earns nothing: it does not pay */
  sw.battery = 0.5;
  ck_assert (ft_task_value_estimate (&sw, &vs, NULL));
  ck_assert (!ft_task_value_pays (&vs));
}
END_TEST

START_TEST (test_value_rebalance)
{
  FtTaskValueInput in = base_input (FT_TASK_REBALANCE);   /* 8 trips on its charge */
  in.expected_requests = 8;    /* Poisson(7.67) after the move, 1 other there */
  in.vehicles_there = 1;
  in.source_expected_requests = 2;
  in.source_vehicles = 4;
  FtTaskValue v;
  ck_assert (ft_task_value_estimate (&in, &v, NULL));
  double m = 2 * H_LEFT, ms = 0.5 * H_LEFT;
  double tail2 = 1 - exp (-m) * (1 + m);
  double src4 = 1 - exp (-ms) * (1 + ms + ms * ms / 2 + ms * ms * ms / 6);
  ck_assert_double_eq_tol (v.shortfall, tail2, 1e-12);
  ck_assert_double_eq_tol (v.trips_saved, tail2 - src4, 1e-12);
  ck_assert_str_eq (v.reason, "saves ~0.9 trips before 18:00, 9 min detour");

  /* from a source short of vehicles to a quiet target: a loss */
  in.expected_requests = 1;
  in.vehicles_there = 3;
  in.source_expected_requests = 30;
  in.source_vehicles = 2;
  ck_assert (ft_task_value_estimate (&in, &v, NULL));
  ck_assert (v.trips_saved < -0.9);
  ck_assert_msg (g_str_has_prefix (v.reason, "loses ~1.0 trips"), "%s", v.reason);
  ck_assert (v.value < -5.6);

  /* a vehicle with no trip on its charge serves none where it goes */
  in = base_input (FT_TASK_REBALANCE);
  in.expected_requests = 8;
  in.battery = 0.05;
  ck_assert (ft_task_value_estimate (&in, &v, NULL));
  ck_assert_double_eq (v.trips_saved, 0.0);

  /* a deploy has no source and puts a vehicle on offer: at 0.5 trips an
   * hour the asset view (1.92 trips) beats the shortfall */
  in = base_input (FT_TASK_DEPLOY);
  in.expected_requests = 8;
  in.trips_per_vehicle_hour = 0.5;
  ck_assert (ft_task_value_estimate (&in, &v, NULL));
  /* E[min(N, 8)], N ~ Poisson(1.92) (Python) */
  ck_assert_double_eq_tol (v.trips_saved, 1.9164530644628686, 1e-9);
  ck_assert_double_eq_tol (v.vehicle_hours, 1.9164530644628686 / 0.5, 1e-9);

  /* arrivals: a zone with no vehicle that receives as many as leave runs
   * short with P(N - M >= 1), N, M ~ Poisson(7.67) (Python) */
  in = base_input (FT_TASK_REBALANCE);
  in.expected_requests = 8;
  in.expected_arrivals = 8;
  ck_assert (ft_task_value_estimate (&in, &v, NULL));
  ck_assert_double_eq_tol (v.shortfall, 0.4486280032897096, 1e-9);
  ck_assert_double_eq_tol (v.trips_saved, 0.4486280032897096, 1e-9);
}
END_TEST

START_TEST (test_value_collect)
{
  FtTaskValueInput in = base_input (FT_TASK_COLLECT_REPAIR);
  in.fault_risk = 0.3;
  in.fault_cost = 40;
  in.trips_per_vehicle_hour = 0.5;
  in.horizon_end = FT_DAY + 5 * FT_HOUR + 30 * FT_MINUTE;   /* next morning, 05:30 UTC */
  in.utc_offset_min = 60;                                   /* 06:30 here */
  in.battery = 0.5;
  in.back_in_service_hours = 8;
  /* a working vehicle collected at 14:10 with 8 trips on its charge would
   * have served E[min(N, 8)] = 6.72 of the 7.67 asked for in the 15 h 20
   * min left; repaired 8 h later with a full pack, E[min(N, 18)] = 3.67 of
   * 3.67 (Python) */
  FtTaskValue v;
  ck_assert (ft_task_value_estimate (&in, &v, NULL));
  double lost = 3.6666666501997938 - 6.72446534342824;
  ck_assert_double_eq_tol (v.faults_avoided, 0.3, 1e-12);
  ck_assert_double_eq_tol (v.trips_saved, lost, 1e-9);
  ck_assert_double_eq_tol (v.vehicle_hours, lost / 0.5, 1e-9);
  ck_assert_double_eq_tol (v.value, lost * 2.5 + 12.0 - 5.6, 1e-9);
  ck_assert_str_eq (v.reason, "avoids ~30% fault risk, takes 1 vehicle off for ~6.1 h, loses ~3.1 trips before "
                              "06:30, 9 min detour");
  /* the city's clock, named (live mode names it) */
  in.utc_offset_min = -150;
  in.tz_label = "UTC-2:30";
  ck_assert (ft_task_value_estimate (&in, &v, NULL));
  ck_assert_msg (strstr (v.reason, "before 03:00 UTC-2:30, 9 min detour") != NULL, "%s", v.reason);
  in.utc_offset_min = 60;
  in.tz_label = NULL;

  /* a faulty one serves nothing now; repaired, 3.67 trips */
  in.out_of_service = TRUE;
  in.fault_risk = 1;
  ck_assert (ft_task_value_estimate (&in, &v, NULL));
  ck_assert_double_eq_tol (v.trips_saved, 3.6666666501997938, 1e-9);
  ck_assert_double_eq_tol (v.vehicle_hours, 3.6666666501997938 / 0.5, 1e-9);
  ck_assert_double_eq_tol (v.value, 3.6666666501997938 * 2.5 + 40 - 5.6, 1e-9);
}
END_TEST

START_TEST (test_value_inspect)
{
  FtTaskValueInput in = base_input (FT_TASK_INSPECT);
  in.fault_risk = 0.2;
  in.fault_cost = 10;
  in.trips_per_vehicle_hour = 0.5;
  in.expected_requests = 8;
  in.vehicles_there = 5;
  FtTaskValue v;
  /* on offer: the inspection avoids risk and changes no hours */
  ck_assert (ft_task_value_estimate (&in, &v, NULL));
  ck_assert_double_eq (v.vehicle_hours, 0.0);
  ck_assert_double_eq (v.trips_saved, 0.0);
  ck_assert_double_eq_tol (v.value, 2.0 - 5.6, 1e-9);
  ck_assert_str_eq (v.reason, "avoids ~20% fault risk, saves ~0.0 trips before 18:00, 9 min detour");
  /* suspended until inspected: the inspection puts it back, 8 trips on
   * its charge */
  in.out_of_service = TRUE;
  ck_assert (ft_task_value_estimate (&in, &v, NULL));
  ck_assert_double_eq_tol (v.trips_saved, 1.9164530644628686, 1e-9);
  ck_assert_double_eq_tol (v.vehicle_hours, 1.9164530644628686 / 0.5, 1e-9);
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
  in.trips_per_vehicle_hour = -0.5;
  ck_assert (!ft_task_value_estimate (&in, &v, &e));
  ck_assert_msg (strstr (e->message, "trips_per_vehicle_hour is -0.5") != NULL, "%s", e->message);
  g_clear_error (&e);

  in = base_input (FT_TASK_COLLECT_REPAIR);
  in.back_in_service_hours = INFINITY;
  ck_assert (!ft_task_value_estimate (&in, &v, &e));
  ck_assert_msg (strstr (e->message, "back_in_service_hours") != NULL, "%s", e->message);
  g_clear_error (&e);

  in = base_input (FT_TASK_BATTERY_SWAP);
  in.utc_offset_min = 24 * 60;
  ck_assert (!ft_task_value_estimate (&in, &v, &e));
  ck_assert_msg (strstr (e->message, "utc_offset_min is 1440") != NULL, "%s", e->message);
  ck_assert (memcmp (&v, &before, sizeof v) == 0);
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
  tcase_add_test (tc, test_value_poisson_tail);
  tcase_add_test (tc, test_value_swap);
  tcase_add_test (tc, test_value_swap_beats_surplus_rebalance);
  tcase_add_test (tc, test_value_rebalance);
  tcase_add_test (tc, test_value_collect);
  tcase_add_test (tc, test_value_inspect);
  tcase_add_test (tc, test_value_refusals);
  tcase_add_test (tc, test_value_rank_open);
  suite_add_tcase (s, tc);
  SRunner *sr = srunner_create (s);
  srunner_run_all (sr, CK_NORMAL);
  int failed = srunner_ntests_failed (sr);
  srunner_free (sr);
  return failed == 0 ? 0 : 1;
}
