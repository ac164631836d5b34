/* test-region.c — the region launch playbook (src/region): the time-zone
 * table, weighted k-medoids, a launch on the Monaco extract with small
 * trips (Louisville layout, times rounded to 15 minutes), a GeoJSON policy
 * and a GBFS snapshot holding one far-away vehicle, and the refusals of bad
 * input, each leaving nothing behind.
 */
#include "ft-config.h"
#include "ft-test.h"
#include "ft-region.h"
#include "ft-gbfs.h"

#include <check.h>
#include <glib/gstdio.h>
#include <math.h>
#include <string.h>

static const FtLatLon monaco = { 43.7384, 7.4246 };

START_TEST (test_time_zone_table)
{
  ck_assert_str_eq (ft_region_time_zone_at (monaco), "Europe/Monaco");
  ck_assert_str_eq (ft_region_time_zone_at ((FtLatLon) { 60.170, 24.944 }), "Europe/Helsinki");
  ck_assert_str_eq (ft_region_time_zone_at ((FtLatLon) { 40.72, -74.04 }), "America/New_York");
  ck_assert_str_eq (ft_region_time_zone_at ((FtLatLon) { 52.42, 10.78 }), "Europe/Berlin");
  ck_assert_str_eq (ft_region_time_zone_at ((FtLatLon) { 48.86, 2.35 }), "Europe/Paris");
  ck_assert (ft_region_time_zone_at ((FtLatLon) { 0, 0 }) == NULL);
}
END_TEST

START_TEST (test_k_medoids)
{
  /* two clusters 5 km apart; a heavy point in the second */
  FtLatLon pts[10];
  double w[10];
  for (int i = 0; i < 5; i++)
    {
      pts[i] = ft_latlon_offset (monaco, 50.0 * i, 0);
      pts[5 + i] = ft_latlon_offset (monaco, 5000 + 50.0 * i, 0);
      w[i] = w[5 + i] = 1;
    }
  w[8] = 10;
  guint med[2];
  ft_region_k_medoids (pts, w, 10, 2, med);
  gboolean a = med[0] < 5 || med[1] < 5, b = med[0] >= 5 || med[1] >= 5;
  ck_assert_msg (a && b, "medoids %u %u in one cluster", med[0], med[1]);
  ck_assert (med[0] == 8 || med[1] == 8);   /* the heavy point serves its cluster */
  ck_assert (med[0] == 2 || med[1] == 2);   /* the middle of the first */
}
END_TEST

/* ---- inputs ---------------------------------------------------------------- */

static char *tmp;

static char *
put (const char *leaf, const char *text)
{
  char *p = g_build_filename (tmp, leaf, NULL);
  g_autofree char *dir = g_path_get_dirname (p);
  g_mkdir_with_parents (dir, 0700);
  ck_assert (g_file_set_contents (p, text, -1, NULL));
  return p;
}

/* Four weeks of trips in Monaco in the Louisville dockless layout. */
static char *
monaco_trips (void)
{
  GString *s = g_string_new ("TripID,StartDate,StartTime,EndDate,EndTime,TripDuration,TripDistance,"
                             "StartLatitude,StartLongitude,EndLatitude,EndLongitude,DayOfWeek,HourNum\n");
  guint64 x = 42;
  for (int d = 0; d < 28; d++)
    for (int k = 0; k < 30; k++)
      {
        x = x * 6364136223846793005ULL + 1442695040888963407ULL;
        int h = 7 + (int) ((x >> 33) % 14), q = (int) ((x >> 40) % 4) * 15;
        double a = ((x >> 20) % 1000) / 1000.0, b = ((x >> 44) % 1000) / 1000.0;
        FtLatLon from = { 43.728 + 0.016 * a, 7.412 + 0.022 * b };
        FtLatLon to = { 43.728 + 0.016 * b, 7.412 + 0.022 * a };
        int minutes = 4 + (int) ((x >> 50) % 12);
        g_string_append_printf (s, "t%d-%d,2019-07-%02d,%02d:%02d,2019-07-%02d,%02d:%02d,%d,%.2f,%.3f,%.3f,%.3f,%.3f,1,%d\n",
                                d, k, 1 + d, h, q, 1 + d, h, q, minutes, 0.6,
                                from.lat, from.lon, to.lat, to.lon, h);
      }
  char *p = put ("trips.csv", s->str);
  g_string_free (s, TRUE);
  return p;
}

static char *
square_ring (FtLatLon c, double m, gboolean close)
{
  FtLatLon q[4] = {
    ft_latlon_offset (c, -m / 2, -m / 2), ft_latlon_offset (c, m / 2, -m / 2),
    ft_latlon_offset (c, m / 2, m / 2), ft_latlon_offset (c, -m / 2, m / 2),
  };
  g_autofree char *last = close ? g_strdup_printf (",[%.6f,%.6f]", q[0].lon, q[0].lat) : g_strdup ("");
  return g_strdup_printf ("[[%.6f,%.6f],[%.6f,%.6f],[%.6f,%.6f],[%.6f,%.6f]%s]", q[0].lon, q[0].lat,
                          q[1].lon, q[1].lat, q[2].lon, q[2].lat, q[3].lon, q[3].lat, last);
}

static char *
policy (gboolean close)
{
  g_autofree char *op = square_ring (monaco, 2400, TRUE);
  g_autofree char *np = square_ring (ft_latlon_offset (monaco, 200, 0), 200, close);
  g_autofree char *doc = g_strdup_printf (
    "{\"type\":\"FeatureCollection\",\"features\":["
    "{\"type\":\"Feature\",\"properties\":{\"zone_type\":\"operating_area\",\"name\":\"Monaco\"},"
    "\"geometry\":{\"type\":\"Polygon\",\"coordinates\":[%s]}},"
    "{\"type\":\"Feature\",\"properties\":{\"zone_type\":\"no_parking\",\"name\":\"Casino\"},"
    "\"geometry\":{\"type\":\"Polygon\",\"coordinates\":[%s]}}]}", op, np);
  return put (close ? "policy.geojson" : "open.geojson", doc);
}

static char *
snapshot (const char *version)
{
  GString *s = g_string_new (NULL);
  for (int i = 0; i < 5; i++)
    {
      FtLatLon p = i == 4 ? (FtLatLon) { 52.42, 10.78 } : ft_latlon_offset (monaco, 80.0 * i, -60.0 * i);
      g_string_append_printf (s, "%s{\"bike_id\":\"tier-%d\",\"lat\":%.6f,\"lon\":%.6f,\"is_reserved\":false,"
                              "\"is_disabled\":false,\"vehicle_type_id\":\"okai_escooter\","
                              "\"pricing_plan_id\":\"standard\",\"current_range_meters\":12000}",
                              i ? "," : "", i, p.lat, p.lon);
    }
  g_autofree char *doc = g_strdup_printf ("{\"last_updated\":1691739754,\"ttl\":0,\"version\":\"%s\","
                                          "\"data\":{\"bikes\":[%s]}}", version, s->str);
  g_string_free (s, TRUE);
  g_autofree char *leaf = g_strdup_printf ("gbfs-%s/free_bike_status.json", version);
  return put (leaf, doc);
}

/* A stand-in for the simulator: served share grows with the fleet. */
static gboolean
fake_sweep (const char *scenario, guint vehicles, guint staff, FtRegionSweepPoint *out,
            gpointer data, GError **error)
{
  ck_assert (g_file_test (scenario, G_FILE_TEST_IS_REGULAR));
  guint *calls = data;
  (*calls)++;
  out->requested_per_day = 100;
  out->served_share = MIN (1.0, vehicles / 25.0);
  out->trips_per_vehicle_day = 100 * out->served_share / vehicles;
  return TRUE;
}

START_TEST (test_launch_monaco)
{
  g_autofree char *osm = ft_test_shared_path ("osm/monaco.osm.pbf");
  g_autofree char *trips = monaco_trips ();
  g_autofree char *pol = policy (TRUE);
  g_autofree char *gbfs = snapshot ("2.3");
  g_autofree char *out = g_build_filename (tmp, "monaco-region", NULL);
  FtRegionInputs in;
  ft_region_inputs_init (&in);
  in.osm_path = osm;
  in.trips_path = trips;
  in.gbfs_path = gbfs;
  in.policy_path = pol;
  in.requests_per_day = 100;
  in.tiles_zmax = 0;
  in.out_dir = out;
  guint calls = 0;
  g_autoptr (GError) e = NULL;
  g_autoptr (FtRegionReport) r = ft_region_launch (&in, fake_sweep, NULL, &calls, &e);
  ck_assert_msg (r != NULL, "%s", e ? e->message : "");
  ck_assert_uint_eq (calls, 4);
  ck_assert_str_eq (r->time_zone, "Europe/Monaco");
  ck_assert_str_eq (r->time_zone_source, "table");
  ck_assert_uint_eq (r->snapshot_vehicles, 5);
  ck_assert_uint_eq (r->snapshot_left_out, 1);
  ck_assert (!r->demand_moved);
  ck_assert_msg (fabs (r->requests_per_day - 100) < 1, "%.1f requests a day", r->requests_per_day);
  ck_assert (r->have_scores);
  ck_assert (r->coverage > 0.5 && r->coverage <= 1.0);
  ck_assert (r->recommended >= 0 && r->sweep[r->recommended].served_share >= 0.85);
  ck_assert (r->n_depots >= 1);
  /* the checklist names every check; the far-away vehicle is reported */
  g_autofree char *txt_path = g_build_filename (out, "checklist.txt", NULL);
  g_autofree char *txt = NULL;
  ck_assert (g_file_get_contents (txt_path, &txt, NULL, NULL));
  ck_assert_msg (strstr (txt, "[WARN] fleet snapshot") && strstr (txt, "1 more than 2000 m outside"), "%s", txt);
  ck_assert_msg (strstr (txt, "[PASS] time zone: Europe/Monaco, derived"), "%s", txt);
  ck_assert_msg (strstr (txt, "louisville-dockless layout"), "%s", txt);
  ck_assert_msg (strstr (txt, "<- recommended"), "%s", txt);
  const char *files[] = { "city/city.json", "geofences.json", "fleet/free_bike_status.json",
                          "fleet/left-out.txt", "models/demand-mean.bin", "models/demand-glm.bin",
                          "launch.scenario", "checklist.pdf" };
  for (guint i = 0; i < G_N_ELEMENTS (files); i++)
    {
      g_autofree char *p = g_build_filename (out, files[i], NULL);
      ck_assert_msg (g_file_test (p, G_FILE_TEST_IS_REGULAR), "%s missing", files[i]);
    }
  g_autofree char *pdf_path = g_build_filename (out, "checklist.pdf", NULL);
  g_autofree char *pdf = NULL;
  gsize pdf_len = 0;
  ck_assert (g_file_get_contents (pdf_path, &pdf, &pdf_len, NULL));
  ck_assert (pdf_len > 1000 && memcmp (pdf, "%PDF", 4) == 0);
  /* the pack loads, with the policy's no-parking zone and the suggested depots */
  g_autofree char *cdir = g_build_filename (out, "city", NULL);
  g_autoptr (FtCity) c = ft_city_load (cdir, &e);
  ck_assert_msg (c != NULL, "%s", e ? e->message : "");
  ck_assert (!ft_geofences_rules_at (c->geofences, ft_latlon_offset (monaco, 200, 0), 0, NULL).ride_end_allowed);
  ck_assert_uint_eq (c->n_depots, r->n_depots);
  /* the fleet keeps the operator's ids and plans */
  g_autofree char *fleet = g_build_filename (out, "fleet", "free_bike_status.json", NULL);
  g_autoptr (FtGbfsFeed) feed = ft_gbfs_load (fleet, &e);
  ck_assert_msg (feed != NULL, "%s", e ? e->message : "");
  ck_assert_uint_eq (feed->n_vehicles, 4);
  ck_assert_str_eq (feed->vehicles[2].vehicle_id, "tier-2");
  ck_assert_str_eq (feed->vehicles[2].pricing_plan_id, "standard");
  ck_assert_str_eq (feed->vehicles[2].vehicle_type_id, "okai_escooter");
  g_autofree char *sc = NULL;
  g_autofree char *sc_path = g_build_filename (out, "launch.scenario", NULL);
  ck_assert (g_file_get_contents (sc_path, &sc, NULL, NULL));
  ck_assert_msg (strstr (sc, "gbfs=fleet/free_bike_status.json") && strstr (sc, "city=city"), "%s", sc);

  /* run again over it (a region folder is replaced) with another city's
   * policy: it is reported and not applied, so rides can still start here */
  g_autofree char *paris_ring = square_ring ((FtLatLon) { 48.86, 2.35 }, 3000, TRUE);
  g_autofree char *paris_doc = g_strdup_printf (
    "{\"type\":\"FeatureCollection\",\"features\":[{\"type\":\"Feature\",\"properties\":"
    "{\"zone_type\":\"operating_area\"},\"geometry\":{\"type\":\"Polygon\",\"coordinates\":[%s]}}]}",
    paris_ring);
  g_autofree char *paris = put ("paris.geojson", paris_doc);
  in.policy_path = paris;
  g_autoptr (FtRegionReport) r2 = ft_region_launch (&in, NULL, NULL, NULL, &e);
  ck_assert_msg (r2 != NULL, "%s", e ? e->message : "");
  g_autofree char *txt2 = NULL;
  ck_assert (g_file_get_contents (txt_path, &txt2, NULL, NULL));
  ck_assert_msg (strstr (txt2, "[FAIL] policy geometry") && strstr (txt2, "none inside the extract's area: not applied"),
                 "%s", txt2);
  g_autoptr (FtCity) c2 = ft_city_load (cdir, &e);
  ck_assert_msg (c2 != NULL, "%s", e ? e->message : "");
  ck_assert (c2->geofences == NULL || ft_geofences_rules_at (c2->geofences, monaco, 0, NULL).ride_start_allowed);
  ft_test_rm_rf (out);
}
END_TEST

static void
expect_refused (FtRegionInputs *in, const char *needle1, const char *needle2)
{
  g_autoptr (GError) e = NULL;
  g_autoptr (FtRegionReport) r = ft_region_launch (in, fake_sweep, NULL, &(guint) { 0 }, &e);
  ck_assert (r == NULL);
  ck_assert_msg (strstr (e->message, needle1) && strstr (e->message, needle2), "'%s' lacks '%s' / '%s'",
                 e->message, needle1, needle2);
  ck_assert_msg (!g_file_test (in->out_dir, G_FILE_TEST_EXISTS), "%s was written", in->out_dir);
  /* no temporary left beside it either */
  g_autoptr (GDir) d = g_dir_open (tmp, 0, NULL);
  const char *n;
  while ((n = g_dir_read_name (d)))
    ck_assert_msg (!g_str_has_prefix (n, ".bad-region") && !g_str_has_prefix (n, "bad-region."),
                   "left behind: %s", n);
}

START_TEST (test_launch_refusals)
{
  g_autofree char *osm = ft_test_shared_path ("osm/monaco.osm.pbf");
  g_autofree char *trips = monaco_trips ();
  g_autofree char *open = policy (FALSE);
  g_autofree char *good = policy (TRUE);
  g_autofree char *v1 = snapshot ("1.1");
  g_autofree char *out = g_build_filename (tmp, "bad-region", NULL);
  FtRegionInputs in;
  ft_region_inputs_init (&in);
  in.osm_path = osm;
  in.trips_path = trips;
  in.tiles_zmax = 0;
  in.out_dir = out;
  in.sweep_points = 0;

  /* a polygon that does not close */
  in.policy_path = open;
  expect_refused (&in, "open.geojson: features[1]: geometry: ring 0 does not close", "policy");
  in.policy_path = good;
  /* a GBFS file of the wrong version */
  in.gbfs_path = v1;
  expect_refused (&in, "free_bike_status.json: version: GBFS 1.1 is not supported", "GBFS snapshot");
  in.gbfs_path = NULL;
  /* a mapping naming a column the trips do not have */
  g_autofree char *map = put ("bad.map", "[mapping]\nname=bad\nstart_time=StartTime\nend_time=EndTime\n"
                              "start_lat=StartLat\nstart_lon=StartLongitude\nend_lat=EndLatitude\n"
                              "end_lon=EndLongitude\n");
  in.trips_mapping = map;
  expect_refused (&in, "trips.csv:1: the mapping bad names column 'StartLat'", "trip data");
  in.trips_mapping = NULL;
  /* coordinates out of range in the trips */
  g_autofree char *bad_trips = put ("bad-trips.csv",
    "TripID,StartDate,StartTime,EndDate,EndTime,TripDuration,TripDistance,StartLatitude,"
    "StartLongitude,EndLatitude,EndLongitude,DayOfWeek,HourNum\n"
    "a,2019-07-01,08:00,2019-07-01,08:15,9,1.0,43.73,7.42,143.74,7.43,1,8\n");
  in.trips_path = bad_trips;
  expect_refused (&in, "bad-trips.csv:2: field 'EndLatitude': 143.74 is out of range", "trip data");
  in.trips_path = trips;
  /* an unknown time zone */
  in.time_zone = "Europe/Atlantis";
  expect_refused (&in, "--tz: 'Europe/Atlantis'", "time zone");
}
END_TEST

int
main (void)
{
  tmp = g_dir_make_tmp ("ft-region-XXXXXX", NULL);
  g_assert (tmp != NULL);
  Suite *s = suite_create ("region");
  TCase *tc = tcase_create ("pieces");
  tcase_add_test (tc, test_time_zone_table);
  tcase_add_test (tc, test_k_medoids);
  suite_add_tcase (s, tc);
  tc = tcase_create ("launch");
  tcase_set_timeout (tc, 280);
  tcase_add_test (tc, test_launch_monaco);
  tcase_add_test (tc, test_launch_refusals);
  suite_add_tcase (s, tc);
  SRunner *sr = srunner_create (s);
  srunner_set_fork_status (sr, CK_NOFORK);
  srunner_run_all (sr, CK_NORMAL);
  int failed = srunner_ntests_failed (sr);
  srunner_free (sr);
  ft_test_rm_rf (tmp);
  g_free (tmp);
  return failed == 0 ? 0 : 1;
}
