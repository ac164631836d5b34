/* test-sim-replay.c — demand trace replay: the world issues exactly the
 * trace's requests (count, order, times, points), whatever the fleet policy,
 * from an options trace, a saved trace file or trip data named by a
 * scenario; bad traces and bad [city]/[demand] keys are refused by name.
 */
#include "ft-config.h"
#include "ft-test.h"
#include "ft-sim-world.h"

#include <check.h>
#include <glib/gstdio.h>
#include <string.h>

typedef struct { GArray *reqs; } Rec;

static void
record (FtTime t, FtLatLon from, FtLatLon to, gpointer ud)
{
  FtDemandRequest r = { t, from, to };
  g_array_append_val (((Rec *) ud)->reqs, r);
}

static const char *
shared_dir (void)
{
  const char *d = g_getenv ("FT_SHARED_DATA_DIR");
  return d ? d : FT_SHARED_DATA_DIR;
}

/* Runs a world and returns the requests it issued (caller frees). */
static GArray *
replay (const FtSimScenario *sc, const FtSimWorldOptions *opt, FtSimKpis *k_out)
{
  g_autoptr (GError) e = NULL;
  g_autoptr (FtSimWorld) w = ft_sim_world_new (sc, NULL, opt, &e);
  ck_assert_msg (w != NULL, "%s", e ? e->message : "");
  Rec rec = { g_array_new (FALSE, FALSE, sizeof (FtDemandRequest)) };
  ft_sim_world_set_request_hook (w, record, &rec);
  ck_assert_msg (ft_sim_world_run (w, NULL, NULL, &e), "%s", e ? e->message : "");
  ck_assert_msg (ft_sim_world_check (w, &e), "%s", e ? e->message : "");
  FtSimKpis k;
  ft_sim_world_kpis (w, &k);
  ck_assert_uint_eq (k.trips_requested, rec.reqs->len);
  ck_assert_uint_eq (k.trips_requested, k.trips_served + k.trips_lost);
  ck_assert (k.ledger_balanced);
  if (k_out)
    *k_out = k;
  return rec.reqs;
}

/* Exact equality: same count, and request i has the same time and the
 * very same coordinates (bit for bit) as trace entry i. */
static void
assert_same_stream (const GArray *got, const FtDemandRequest *want, guint n_want)
{
  ck_assert_uint_eq (got->len, n_want);
  for (guint i = 0; i < n_want; i++)
    {
      const FtDemandRequest *g = &g_array_index (got, FtDemandRequest, i);
      ck_assert_msg (g->t == want[i].t && g->from.lat == want[i].from.lat
                     && g->from.lon == want[i].from.lon && g->to.lat == want[i].to.lat
                     && g->to.lon == want[i].to.lon,
                     "request %u differs: got t=%" G_GINT64_FORMAT " (%.7f,%.7f)->(%.7f,%.7f), "
                     "trace t=%" G_GINT64_FORMAT " (%.7f,%.7f)->(%.7f,%.7f)", i,
                     g->t, g->from.lat, g->from.lon, g->to.lat, g->to.lon,
                     want[i].t, want[i].from.lat, want[i].from.lon, want[i].to.lat, want[i].to.lon);
    }
}

/* A synthetic trace over Demo City: 600 requests in one day, some at the
 * same millisecond (order must still be the trace's), short hops included
 * (they must not be stretched). */
static FtDemandRequest *
synthetic_trace (guint *n_out)
{
  g_autoptr (FtCity) demo = ft_city_new_demo ();
  g_autoptr (GRand) rng = g_rand_new_with_seed (42);
  guint n = 600;
  FtDemandRequest *t = g_new (FtDemandRequest, n);
  FtTime now = 5 * FT_MINUTE;
  FtBBox b = demo->bbox;
  for (guint i = 0; i < n; i++)
    {
      if (i % 5 != 4)
        now += g_rand_int_range (rng, 1, 4 * 60 * 1000);
      t[i].t = now;
      t[i].from = (FtLatLon) { g_rand_double_range (rng, b.min_lat, b.max_lat),
                               g_rand_double_range (rng, b.min_lon, b.max_lon) };
      t[i].to = i % 7 == 0 ? ft_latlon_offset (t[i].from, 50, 30)
                           : (FtLatLon) { g_rand_double_range (rng, b.min_lat, b.max_lat),
                                          g_rand_double_range (rng, b.min_lon, b.max_lon) };
    }
  ck_assert_int_lt (now, FT_DAY);
  *n_out = n;
  return t;
}

START_TEST (test_replay_exact_and_policy_independent)
{
  guint n = 0;
  g_autofree FtDemandRequest *trace = synthetic_trace (&n);
  g_autoptr (FtSimScenario) sc = ft_sim_scenario_new_default ();
  sc->days = 1;
  sc->seed = 3;
  FtSimWorldOptions opt = { .trace = trace, .n_trace = n };
  FtSimKpis k1, k2;
  g_autoptr (GArray) a = replay (sc, &opt, &k1);
  assert_same_stream (a, trace, n);

  /* policy B: a third of the fleet, half the staff, another seed */
  sc->scooters /= 3; sc->bikes /= 3; sc->mopeds /= 3;
  sc->field_staff /= 2;
  sc->seed = 99;
  g_autoptr (GArray) b = replay (sc, &opt, &k2);
  assert_same_stream (b, trace, n);
  /* the policies differ in outcome, not in demand */
  ck_assert_uint_eq (k1.trips_requested, k2.trips_requested);
  ck_assert_uint_gt (k2.trips_lost, k1.trips_lost);
  ck_assert_uint_gt (k1.trips_served, n / 2);
}
END_TEST

START_TEST (test_replay_stops_at_end)
{
  guint n = 0;
  g_autofree FtDemandRequest *trace = synthetic_trace (&n);
  g_autoptr (FtSimScenario) sc = ft_sim_scenario_new_default ();
  sc->days = 0.25;   /* until 06:00: only the requests before it */
  FtSimWorldOptions opt = { .trace = trace, .n_trace = n };
  g_autoptr (GArray) a = replay (sc, &opt, NULL);
  guint before = 0;
  while (before < n && trace[before].t < 6 * FT_HOUR)
    before++;
  ck_assert_uint_gt (before, 10);
  ck_assert_uint_lt (before, n);
  assert_same_stream (a, trace, before);

  /* an empty trace issues nothing (no Poisson fallback) */
  FtSimWorldOptions none = { .trace = trace, .n_trace = 0 };
  g_autoptr (GArray) z = replay (sc, &none, NULL);
  ck_assert_uint_eq (z->len, 0);
}
END_TEST

/* Citi Bike trips through the interop API: trips -> trace -> file, named by
 * a scenario's [demand] trace (relative path) on a city built from the
 * same trips by [city] trips; the replay equals the saved trace loaded back. */
START_TEST (test_replay_citibike_trace_file)
{
  g_autofree char *csv = g_build_filename (shared_dir (), "trips", "JC-202001-citibike-tripdata.csv", NULL);
  g_autoptr (GError) e = NULL;
  g_autoptr (FtTripSet) set = ft_trips_load (csv, &e);
  ck_assert_msg (set != NULL, "%s", e ? e->message : "");
  guint n = 0;
  g_autofree FtDemandRequest *tr = ft_trips_to_trace (set, &n);
  ck_assert_uint_gt (n, 1000);
  g_autofree char *dir = g_dir_make_tmp ("ft-replay-XXXXXX", &e);
  ck_assert (dir != NULL);
  g_autofree char *tpath = g_build_filename (dir, "jc.trace", NULL);
  ck_assert_msg (ft_trace_save (tpath, tr, n, &e), "%s", e ? e->message : "");
  guint n_saved = 0;
  g_autofree FtDemandRequest *saved = ft_trace_load (tpath, &n_saved, &e);
  ck_assert_msg (saved != NULL, "%s", e ? e->message : "");
  ck_assert_uint_eq (n_saved, n);

  g_autofree char *text = g_strdup_printf (
      "[scenario]\ndays=7\nseed=5\n[city]\ntrips=%s\nhex_m=500\n"
      "[fleet]\nscooters=0\nbikes=300\nmopeds=0\n[demand]\ntrace=jc.trace\nrouting=straight\n", csv);
  g_autofree char *spath = g_build_filename (dir, "replay.scenario", NULL);
  ck_assert (g_file_set_contents (spath, text, -1, NULL));
  g_autoptr (FtSimScenario) sc = ft_sim_scenario_load (spath, &e);
  ck_assert_msg (sc != NULL, "%s", e ? e->message : "");
  guint in_week = 0;
  while (in_week < n_saved && saved[in_week].t < 7 * FT_DAY)
    in_week++;
  ck_assert_uint_gt (in_week, 500);
  FtSimKpis k1;
  g_autoptr (GArray) a = replay (sc, NULL, &k1);
  assert_same_stream (a, saved, in_week);
  ck_assert_uint_gt (k1.trips_served, 0);

  /* policy B (twice the bikes) sees the identical stream */
  sc->bikes = 600;
  g_autoptr (GArray) b = replay (sc, NULL, NULL);
  assert_same_stream (b, saved, in_week);

  g_unlink (spath);
  g_unlink (tpath);
  g_rmdir (dir);
}
END_TEST

/* The shipped scenario replays the January trips straight from the CSV. */
START_TEST (test_replay_shipped_scenario)
{
  g_autofree char *path = g_build_filename (ft_test_source_dir (), "scenarios", "citibike-jc-replay.scenario", NULL);
  g_autoptr (GError) e = NULL;
  g_autoptr (FtSimScenario) sc = ft_sim_scenario_load (path, &e);
  ck_assert_msg (sc != NULL, "%s", e ? e->message : "");
  g_autofree char *csv = g_build_filename (shared_dir (), "trips", "JC-202001-citibike-tripdata.csv", NULL);
  g_autoptr (FtTripSet) set = ft_trips_load (csv, &e);
  ck_assert_msg (set != NULL, "%s", e ? e->message : "");
  guint n = 0;
  g_autofree FtDemandRequest *tr = ft_trips_to_trace (set, &n);
  ck_assert_int_gt (tr[n - 1].t, 0);
  ck_assert_msg (tr[n - 1].t < (FtTime) (sc->days * FT_DAY), "the scenario's days miss the last trip");
  FtSimKpis k;
  g_autoptr (GArray) a = replay (sc, NULL, &k);
  assert_same_stream (a, tr, n);
  ck_assert_uint_gt (k.trips_completed, n / 2);
}
END_TEST

START_TEST (test_replay_errors)
{
  g_autoptr (GError) e = NULL;
  g_autoptr (FtSimScenario) sc = ft_sim_scenario_new_default ();
  FtDemandRequest bad[3] = { { 1000, { 52.52, 13.40 }, { 52.53, 13.41 } },
                             { 500, { 52.52, 13.40 }, { 52.53, 13.41 } },
                             { 2000, { 52.52, 13.40 }, { 52.53, 13.41 } } };
  FtSimWorldOptions opt = { .trace = bad, .n_trace = 3 };
  FtSimWorld *w = ft_sim_world_new (sc, NULL, &opt, &e);
  ck_assert (w == NULL);
  ck_assert_msg (strstr (e->message, "request 2") && strstr (e->message, "earlier"), "%s", e->message);
  g_clear_error (&e);

  /* a missing trace file names the key and the file */
  g_autoptr (FtSimScenario) s2 = ft_sim_scenario_parse ("[demand]\ntrace=/nonexistent/x.trace\n", -1, "t.scenario", &e);
  ck_assert_msg (s2 != NULL, "%s", e ? e->message : "");
  w = ft_sim_world_new (s2, NULL, NULL, &e);
  ck_assert (w == NULL);
  ck_assert_msg (strstr (e->message, "[demand] trace") && strstr (e->message, "/nonexistent/x.trace"), "%s", e->message);
  g_clear_error (&e);

  /* a missing OSM file names [city] osm */
  g_autoptr (FtSimScenario) s3 = ft_sim_scenario_parse ("[city]\nosm=nowhere.osm.pbf\n", -1, "t.scenario", &e);
  ck_assert_msg (s3 != NULL, "%s", e ? e->message : "");
  w = ft_sim_world_new (s3, NULL, NULL, &e);
  ck_assert (w == NULL);
  ck_assert_msg (strstr (e->message, "[city] osm") && strstr (e->message, "nowhere.osm.pbf"), "%s", e->message);
  g_clear_error (&e);

  /* scenario-level mistakes */
  static const struct { const char *text, *want; } cases[] = {
    { "[scenario]\ncity=packs/x\n[city]\nosm=a.osm.pbf\n", "both name the city" },
    { "[city]\nrequests_per_day=100\n", "needs osm = FILE or trips = FILE" },
    { "[demand]\ntrace=\n", "[demand] trace: is empty" },
    { "[city]\nhex_m=10\n", "[city] hex_m" },
    { "[city]\nroads=x\n", "unknown key" },
  };
  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      FtSimScenario *s = ft_sim_scenario_parse (cases[i].text, -1, "t.scenario", &e);
      ck_assert_msg (s == NULL, "case %u accepted", i);
      ck_assert_msg (strstr (e->message, cases[i].want), "case %u: %s", i, e->message);
      g_clear_error (&e);
    }
}
END_TEST

START_TEST (test_resolve_paths)
{
  g_autoptr (FtSimScenario) sc = ft_sim_scenario_new_default ();
  sc->path = g_strdup ("/srv/repo/scenarios/x.scenario");
  g_autofree char *rel = ft_sim_scenario_resolve_path (sc, "data/t.trace");
  ck_assert_str_eq (rel, "/srv/repo/scenarios/data/t.trace");
  g_autofree char *abs = ft_sim_scenario_resolve_path (sc, "/a/b.csv");
  ck_assert_str_eq (abs, "/a/b.csv");
  g_setenv ("FT_SHARED_DATA_DIR", "/data/shared", TRUE);
  g_autofree char *sh = ft_sim_scenario_resolve_path (sc, "${shared}/osm/monaco.osm.pbf");
  ck_assert_str_eq (sh, "/data/shared/osm/monaco.osm.pbf");
  g_unsetenv ("FT_SHARED_DATA_DIR");
  /* without the variable: shared/data beside the scenario's folder or a parent */
  g_autoptr (GError) e = NULL;
  g_autofree char *root = g_dir_make_tmp ("ft-shared-XXXXXX", &e);
  g_autofree char *data = g_build_filename (root, "shared", "data", NULL);
  g_autofree char *scen = g_build_filename (root, "repo", "scenarios", NULL);
  ck_assert (g_mkdir_with_parents (data, 0755) == 0 && g_mkdir_with_parents (scen, 0755) == 0);
  g_free (sc->path);
  sc->path = g_build_filename (scen, "x.scenario", NULL);
  g_autofree char *found = ft_sim_scenario_resolve_path (sc, "${shared}/trips/t.csv");
  g_autofree char *want = g_build_filename (data, "trips", "t.csv", NULL);
  ck_assert_str_eq (found, want);
  g_rmdir (data);
  g_autofree char *shared = g_path_get_dirname (data);
  g_rmdir (shared);
  g_rmdir (scen);
  g_autofree char *repo = g_path_get_dirname (scen);
  g_rmdir (repo);
  g_rmdir (root);
}
END_TEST

static Suite *
replay_suite (void)
{
  Suite *s = suite_create ("sim-replay");
  TCase *tc;
  tc = tcase_create ("exact"); tcase_add_test (tc, test_replay_exact_and_policy_independent);
  tcase_add_test (tc, test_replay_stops_at_end); suite_add_tcase (s, tc);
  tc = tcase_create ("citibike"); tcase_add_test (tc, test_replay_citibike_trace_file);
  tcase_add_test (tc, test_replay_shipped_scenario); suite_add_tcase (s, tc);
  tc = tcase_create ("errors"); tcase_add_test (tc, test_replay_errors);
  tcase_add_test (tc, test_resolve_paths); suite_add_tcase (s, tc);
  return s;
}

int
main (void)
{
  SRunner *r = srunner_create (replay_suite ());
  srunner_run_all (r, CK_NORMAL);
  int failed = srunner_ntests_failed (r);
  srunner_free (r);
  return failed ? 1 : 0;
}
