/* test-sim-ops.c — Phase 3 operations in the simulator (issue 13): the
 * [rules] keys through the scenario key table (parsed, refused, written),
 * tasks picked by value per staff minute, vans driving VRPTW routes from
 * src/ops's planning step, and maintenance alerts from a model fitted on
 * the world's own event log opening inspection tasks; each run keeps the
 * world's invariants and makes no refused module call.
 */
#include "ft-config.h"
#include "ft-test.h"
#include "ft-sim-world.h"
#include "ft-maint.h"

#include <check.h>
#include <stdio.h>
#include <string.h>

static FtSimScenario *
load_scenario (const char *name, double days, guint64 seed)
{
  g_autofree char *p = g_build_filename (ft_test_source_dir (), "scenarios", name, NULL);
  g_autoptr (GError) e = NULL;
  FtSimScenario *sc = ft_sim_scenario_load (p, &e);
  ck_assert_msg (sc != NULL, "%s", e ? e->message : "");
  sc->days = days;
  sc->seed = seed;
  return sc;
}

static void
run (FtSimScenario *sc, FtSimKpis *k)
{
  g_autoptr (GError) e = NULL;
  g_autoptr (FtSimWorld) w = ft_sim_world_new (sc, NULL, NULL, &e);
  ck_assert_msg (w != NULL, "%s", e ? e->message : "");
  ck_assert (ft_sim_world_run_until (w, ft_sim_world_end_time (w) / 2, &e));
  ck_assert_msg (ft_sim_world_check (w, &e), "mid-run: %s", e ? e->message : "");
  ck_assert (ft_sim_world_run (w, NULL, NULL, &e));
  ck_assert_msg (ft_sim_world_check (w, &e), "end: %s", e ? e->message : "");
  ft_sim_world_kpis (w, k);
}

START_TEST (test_ops_keys)
{
  g_autoptr (GError) e = NULL;
  const char *text = "# Phase 3\n[rules]\ntask_order=value\nvan_routes=true\ninspect_risk=0.2\n"
                     "maint_model=baseline\n";
  g_autoptr (FtSimScenario) sc = ft_sim_scenario_parse (text, -1, "p3.scenario", &e);
  ck_assert_msg (sc != NULL, "%s", e ? e->message : "");
  ck_assert_str_eq (sc->task_order, "value");
  ck_assert (sc->van_routes);
  ck_assert_double_eq_tol (sc->inspect_risk, 0.2, 1e-12);
  /* the defaults are Phase 1 */
  g_autoptr (FtSimScenario) d = ft_sim_scenario_parse ("", -1, "d.scenario", &e);
  ck_assert_str_eq (d->task_order, "priority");
  ck_assert (!d->van_routes);
  ck_assert_double_eq (d->inspect_risk, 0);
  /* a route's stops weigh an off-offer vehicle's waiting at its value */
  ck_assert_double_eq (d->route_wait_weight, 1.0);
  /* swaps (below 25 %: every swap task) head the routes, planned
   * when they appear */
  ck_assert (d->route_flat_first);
  ck_assert (d->route_at_once);
  ck_assert_double_eq_tol (d->route_urgent_soc, 0.25, 1e-12);
  /* the writer keeps the text and changes the value in place */
  g_free (sc->task_order);
  sc->task_order = g_strdup ("priority");
  g_autofree char *out = ft_sim_scenario_to_text (sc);
  ck_assert_msg (strstr (out, "task_order=priority") != NULL, "%s", out);
  ck_assert (strstr (out, "# Phase 3") != NULL);
  /* the table names them, so the editor has a field per key */
  guint n = 0;
  const FtSimScenarioKey *keys = ft_sim_scenario_keys (&n);
  guint found = 0;
  for (guint i = 0; i < n; i++)
    if (g_strcmp0 (keys[i].group, "rules") == 0
        && (g_strcmp0 (keys[i].key, "task_order") == 0 || g_strcmp0 (keys[i].key, "van_routes") == 0
            || g_strcmp0 (keys[i].key, "inspect_risk") == 0 || g_strcmp0 (keys[i].key, "inspect_out_of_service") == 0))
      found++;
  ck_assert_uint_eq (found, 4);

  struct { const char *text; const char *want[3]; } bad[] = {
    { "[rules]\ntask_order=cheapest\n", { "x.scenario", "task_order", "cheapest" } },
    { "[rules]\nvan_routes=sometimes\n", { "x.scenario:2", "van_routes", "sometimes" } },
    { "[rules]\ninspect_risk=1.5\n", { "x.scenario:2", "inspect_risk", "outside" } },
    { "[rules]\nmaint_model=crystal\n", { "x.scenario", "maint_model", "crystal" } },
    { "[rules]\nroute_interval_min=0\n", { "x.scenario:2", "route_interval_min", "outside" } },
    { "[rules]\nroute_wait_weight=-1\n", { "x.scenario:2", "route_wait_weight", "outside" } },
  };
  for (guint i = 0; i < G_N_ELEMENTS (bad); i++)
    {
      g_autoptr (GError) err = NULL;
      g_autoptr (FtSimScenario) b = ft_sim_scenario_parse (bad[i].text, -1, "x.scenario", &err);
      ck_assert_msg (b == NULL, "case %u parsed", i);
      for (guint k = 0; k < 3; k++)
        ck_assert_msg (strstr (err->message, bad[i].want[k]) != NULL, "case %u: '%s' lacks '%s'", i,
                       err->message, bad[i].want[k]);
    }
}
END_TEST

/* task_order=value changes who does what (the key is read), on the same
 * requests, and the world stays consistent. */
START_TEST (test_ops_value_order)
{
  g_autoptr (FtSimScenario) sc = load_scenario ("rollout-p1.scenario", 0.5, 11);
  FtSimKpis p1, val;
  run (sc, &p1);
  g_free (sc->task_order);
  sc->task_order = g_strdup ("value");
  run (sc, &val);
  ck_assert_uint_eq (val.trips_requested, p1.trips_requested);
  ck_assert_uint_gt (val.tasks_done, 0);
  ck_assert_msg (val.staff_km != p1.staff_km || val.tasks_done != p1.tasks_done, "value order changed nothing");
  printf ("priority vs value order (0.5 day, seed 11): tasks done %" G_GUINT64_FORMAT " / %" G_GUINT64_FORMAT
          ", staff km %.1f / %.1f, trips lost %" G_GUINT64_FORMAT " / %" G_GUINT64_FORMAT "\n",
          p1.tasks_done, val.tasks_done, p1.staff_km, val.staff_km, p1.trips_lost, val.trips_lost);
}
END_TEST

/* van_routes: vans drive planned routes; plans are made, work gets done,
 * the queue stays consistent (ft_ops_check inside ft_sim_world_check) and
 * no module call is refused (a started stop taken away would be). */
START_TEST (test_ops_van_routes)
{
  g_autoptr (FtSimScenario) sc = load_scenario ("rollout-p1.scenario", 0.5, 11);
  sc->van_routes = TRUE;
  g_free (sc->task_order);
  sc->task_order = g_strdup ("value");
  FtSimKpis k;
  run (sc, &k);
  ck_assert_uint_gt (k.route_plans, 10);
  ck_assert_uint_gt (k.battery_swaps, 0);
  ck_assert_uint_gt (k.tasks_done, 0);
  printf ("van routes (0.5 day, seed 11): %" G_GUINT64_FORMAT " plans, %" G_GUINT64_FORMAT " swaps, %"
          G_GUINT64_FORMAT " rebalances, staff km %.1f\n", k.route_plans, k.battery_swaps, k.rebalances, k.staff_km);
  /* route_at_once: a new swap task (or its vehicle going flat) is planned
   * at once, not at the next 15-minute cycle: more plans on the same day */
  sc->route_at_once = FALSE;
  FtSimKpis cyc;
  run (sc, &cyc);
  printf ("  without route_at_once: %" G_GUINT64_FORMAT " plans\n", cyc.route_plans);
  ck_assert_uint_gt (k.route_plans, cyc.route_plans + 3);
}
END_TEST

/* route_urgent_soc: with the default (0.25, the swap threshold) every
 * swap task heads the routes; with 0 only a flat vehicle's does. */
static void
urgent_swaps (double urgent_soc, guint *n_flat, guint *n_charged, guint *n_urgent)
{
  g_autoptr (FtSimScenario) sc = load_scenario ("rollout-p1.scenario", 0.5, 11);
  sc->van_routes = TRUE;
  sc->route_urgent_soc = urgent_soc;
  g_autoptr (GError) e = NULL;
  g_autoptr (FtSimWorld) w = ft_sim_world_new (sc, NULL, NULL, &e);
  ck_assert_msg (w != NULL, "%s", e ? e->message : "");
  ck_assert (ft_sim_world_run_until (w, 10 * FT_HOUR, &e));
  FtOps *ops = ft_sim_world_get_ops (w);
  FtFleet *fleet = ft_sim_world_get_core (w)->fleet;
  *n_flat = *n_charged = *n_urgent = 0;
  for (gint64 id = 1; id <= (gint64) ft_ops_n (ops); id++)
    {
      const FtTask *t = ft_ops_get (ops, id);
      if (!t || t->kind != FT_TASK_BATTERY_SWAP || t->state == FT_TASK_DONE || t->state == FT_TASK_CANCELLED)
        continue;
      const FtVehicle *v = ft_fleet_get_vehicle (fleet, (guint) t->vehicle);
      if (v->fault_codes != 0)
        continue;   /* broken: collection's, not a swap's */
      gboolean flat = ft_fleet_soc (fleet, (guint) t->vehicle) < ft_vehicle_type_default (v->kind)->low_soc;
      gboolean urgent = ft_sim_world_route_urgent (w, t);
      *n_flat += flat;
      *n_charged += !flat;
      *n_urgent += urgent;
      if (!flat && urgent_soc == 0)
        ck_assert_msg (!urgent, "task %" G_GINT64_FORMAT " of a vehicle on offer is urgent", id);
    }
}

START_TEST (test_ops_urgent_soc)
{
  guint flat, charged, urgent;
  urgent_swaps (0.25, &flat, &charged, &urgent);
  printf ("open swaps at 10:00: %u of flat vehicles, %u of others; %u urgent (urgent_soc 0.25)\n", flat, charged,
          urgent);
  ck_assert_uint_gt (charged, 0);
  ck_assert_uint_eq (urgent, flat + charged);
  urgent_swaps (0, &flat, &charged, &urgent);
  ck_assert_uint_gt (charged, 0);
  ck_assert_uint_le (urgent, flat);
}
END_TEST

/* inspect_risk: once the world's log holds faults, the model fitted on it
 * raises alerts that become inspection tasks, which staff do; taken out of
 * service until then when the scenario says so. */
START_TEST (test_ops_maint_alerts)
{
  g_autoptr (FtSimScenario) sc = load_scenario ("rollout-p1.scenario", 1, 11);
  sc->faults_per_1000km = 20;   /* enough faults to learn from in a day */
  sc->inspect_risk = 0.05;
  sc->inspect_every_h = 4;
  sc->inspect_out_of_service = TRUE;
  g_free (sc->maint_model);
  sc->maint_model = g_strdup ("baseline");
  g_autoptr (GError) e = NULL;
  g_autoptr (FtSimWorld) w = ft_sim_world_new (sc, NULL, NULL, &e);
  ck_assert_msg (w != NULL, "%s", e ? e->message : "");
  /* the maintenance model's view of the world's log, as an operator's */
  FtCore *core = ft_sim_world_get_core (w);
  g_autoptr (FtMaintLog) log = ft_maint_log_new ();
  guint listener = ft_event_log_add_listener (core->log, ft_maint_log_listener, log);
  ck_assert (ft_sim_world_run (w, NULL, NULL, &e));
  ck_assert_msg (ft_sim_world_check (w, &e), "end: %s", e ? e->message : "");
  FtSimKpis k;
  ft_sim_world_kpis (w, &k);
  ck_assert_uint_gt (k.maint_fits, 0);
  ck_assert_uint_gt (k.maint_alerts, 0);
  ck_assert_uint_gt (k.inspections, 0);
  ck_assert_uint_le (k.inspections, k.maint_alerts);
  printf ("maintenance alerts (1 day, seed 11): %" G_GUINT64_FORMAT " fits, %" G_GUINT64_FORMAT " alerts, %"
          G_GUINT64_FORMAT " inspections, %" G_GUINT64_FORMAT " faults\n", k.maint_fits, k.maint_alerts,
          k.inspections, k.faults);

  /* a done inspection is a service in the maintenance log: a vehicle's
   * hours since service count from its last inspection at most */
  FtTime end = ft_sim_world_end_time (w);
  g_autofree FtTime *inspected = g_new0 (FtTime, ft_fleet_n_vehicles (core->fleet));
  for (guint i = 0; i < ft_ops_n (core->ops); i++)
    {
      const FtTask *t = ft_ops_get (core->ops, i);
      if (t && t->kind == FT_TASK_INSPECT && t->state == FT_TASK_DONE && t->vehicle >= 0)
        inspected[t->vehicle] = MAX (inspected[t->vehicle], t->finished_at);
    }
  g_autoptr (GArray) now = ft_maint_log_rows_now (log, end, &e);
  ck_assert_msg (now != NULL, "%s", e ? e->message : "");
  guint checked = 0;
  for (guint i = 0; i < now->len; i++)
    {
      const FtMaintRow *r = &g_array_index (now, FtMaintRow, i);
      if (inspected[r->vehicle] <= 0)
        continue;
      double since_h = (double) (end - inspected[r->vehicle]) / FT_HOUR;
      ck_assert_msg (r->x[FT_MF_HOURS_SINCE_SERVICE] <= since_h + 1e-9,
                     "vehicle %u inspected %.2f h before the end, %.2f h since service", r->vehicle, since_h,
                     r->x[FT_MF_HOURS_SINCE_SERVICE]);
      checked++;
    }
  ck_assert_uint_gt (checked, 0);
  ft_event_log_remove_listener (core->log, listener);
}
END_TEST

/* The value horizon covers the hours nobody can act: rollout-p1's shifts
 * are 06:00-14:00 and 14:00-22:00. At 10:00 three hours; at 21:00 until
 * 09:00 the next day; at 03:00 (no one on shift) until 09:00. */
START_TEST (test_ops_value_horizon)
{
  g_autoptr (FtSimScenario) sc = load_scenario ("rollout-p1.scenario", 2, 11);
  g_autoptr (GError) e = NULL;
  g_autoptr (FtSimWorld) w = ft_sim_world_new (sc, NULL, NULL, &e);
  ck_assert_msg (w != NULL, "%s", e ? e->message : "");
  ck_assert_int_eq (ft_sim_world_value_horizon (w, 10 * FT_HOUR), 13 * FT_HOUR);
  ck_assert_int_eq (ft_sim_world_value_horizon (w, 19 * FT_HOUR), 22 * FT_HOUR);
  ck_assert_int_eq (ft_sim_world_value_horizon (w, 21 * FT_HOUR), FT_DAY + 9 * FT_HOUR);
  ck_assert_int_eq (ft_sim_world_value_horizon (w, 3 * FT_HOUR), 9 * FT_HOUR);
  ck_assert_int_eq (ft_sim_world_value_horizon (w, FT_DAY + 12 * FT_HOUR), FT_DAY + 15 * FT_HOUR);
}
END_TEST

static Suite *
sim_ops_suite (void)
{
  Suite *s = suite_create ("sim-ops");
  struct { const char *name; const TTest *fn; } cases[] = {
    { "ops-keys", test_ops_keys },
    { "ops-value-horizon", test_ops_value_horizon },
    { "ops-value-order", test_ops_value_order },
    { "ops-van-routes", test_ops_van_routes },
    { "ops-urgent-soc", test_ops_urgent_soc },
    { "ops-maint-alerts", test_ops_maint_alerts },
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
  SRunner *sr = srunner_create (sim_ops_suite ());
  srunner_run_all (sr, CK_NORMAL);
  int failed = srunner_ntests_failed (sr);
  srunner_free (sr);
  return failed == 0 ? 0 : 1;
}
