/* test-sim-cities.c — real cities by recipe, run as a planner would: the
 * shipped Monaco and Helsinki scenarios ([city] osm = the OSM extract,
 * trips = the Citi Bike trips, demand scaled to the city) build their city
 * (into a fresh cache folder), load it back from the cache, and run one
 * simulated day on street routing with plausible KPIs.
 */
#include "ft-config.h"
#include "ft-test.h"
#include "ft-sim-world.h"

#include <check.h>
#include <glib/gstdio.h>
#include <string.h>

static char *cache_root;

static void
run_city_day (const char *file, guint min_zones)
{
  g_autofree char *path = g_build_filename (ft_test_source_dir (), "scenarios", file, NULL);
  g_autoptr (GError) e = NULL;
  g_autoptr (FtSimScenario) sc = ft_sim_scenario_load (path, &e);
  ck_assert_msg (sc != NULL, "%s", e ? e->message : "");
  ck_assert (sc->city_osm != NULL && sc->city_trips != NULL);
  ck_assert_double_eq (sc->days, 1.0);
  ck_assert_int_eq (sc->routing, FT_SIM_ROUTING_STREET);
  guint nv = ft_sim_scenario_n_vehicles (sc);

  g_autoptr (FtSimWorld) w = ft_sim_world_new (sc, NULL, NULL, &e);
  ck_assert_msg (w != NULL, "%s", e ? e->message : "");
  const FtCity *c = ft_sim_world_get_city (w);
  /* a real street network, zones, and demand moved onto them at the scale asked */
  ck_assert_uint_gt (c->graph.n_nodes, 500);
  ck_assert_uint_ge (c->n_zones, min_zones);
  double per_day = ft_demand_profile_per_day (&c->demand);
  ck_assert_msg (per_day > 0.8 * sc->city_requests_per_day && per_day < 1.2 * sc->city_requests_per_day,
                 "%s: demand %.0f/day, asked %.0f", file, per_day, sc->city_requests_per_day);
  ck_assert_msg (ft_sim_world_run (w, NULL, NULL, &e), "%s", e ? e->message : "");
  ck_assert_msg (ft_sim_world_check (w, &e), "%s: %s", file, e ? e->message : "");
  FtSimKpis k;
  ft_sim_world_kpis (w, &k);
  g_autofree char *j = ft_sim_kpis_to_json (&k, sc);
  ck_assert_uint_eq (k.n_vehicles, nv);
  ck_assert_uint_eq (k.trips_requested, k.trips_served + k.trips_lost);
  ck_assert_msg (k.ledger_balanced, "%s", j);
  ck_assert_msg (k.trips_completed > 0 && k.trips_served > k.trips_requested / 3, "%s", j);
  ck_assert_msg (k.trips_requested > 0.7 * per_day && k.trips_requested < 1.3 * per_day, "%s", j);
  ck_assert_msg (k.revenue_minor > 0 && strcmp (k.currency, "EUR") == 0, "%s", j);
  ck_assert_msg (k.mean_trip_km > 0.3 && k.mean_trip_km < 15, "%s", j);
  ck_assert_msg (k.mean_walk_m > 0 && k.mean_walk_m <= sc->max_walk_m, "%s", j);
  ck_assert_uint_eq (ft_sim_world_n_errors (w), 0);

  /* the second world loads the cached pack: same city */
  g_autoptr (FtSimWorld) w2 = ft_sim_world_new (sc, NULL, NULL, &e);
  ck_assert_msg (w2 != NULL, "%s", e ? e->message : "");
  ck_assert_uint_eq (ft_sim_world_get_city (w2)->n_zones, c->n_zones);
  ck_assert_uint_eq (ft_sim_world_get_city (w2)->graph.n_nodes, c->graph.n_nodes);
}

START_TEST (test_monaco_day)
{
  run_city_day ("monaco-citibike.scenario", 5);
}
END_TEST

START_TEST (test_helsinki_day)
{
  run_city_day ("helsinki-citibike.scenario", 5);
}
END_TEST

int
main (void)
{
  /* a fresh cache: the recipe imports, then the second world reads the pack */
  cache_root = g_dir_make_tmp ("ft-cities-XXXXXX", NULL);
  g_assert (cache_root != NULL);
  g_setenv ("XDG_CACHE_HOME", cache_root, TRUE);
  Suite *s = suite_create ("sim-cities");
  TCase *tc = tcase_create ("one-day");
  tcase_set_timeout (tc, 600);
  tcase_add_test (tc, test_monaco_day);
  tcase_add_test (tc, test_helsinki_day);
  suite_add_tcase (s, tc);
  SRunner *r = srunner_create (s);
  srunner_set_fork_status (r, CK_NOFORK);
  srunner_run_all (r, CK_NORMAL);
  int failed = srunner_ntests_failed (r);
  srunner_free (r);
  ft_test_rm_rf (cache_root);
  g_free (cache_root);
  return failed ? 1 : 0;
}
