/* test-sim-geofence.c — policy geometry imported from GeoJSON, enforced by
 * booking inside the simulator (issue 21): a no-parking zone refuses trip
 * ends (riders ride on and park outside it), a slow zone caps the riding
 * speed, and a fleet starts from a GBFS snapshot with the vehicles far
 * outside the operating area left out.
 */
#include "ft-config.h"
#include "ft-test.h"
#include "ft-sim-world.h"
#include "ft-gbfs.h"

#include <check.h>
#include <glib/gstdio.h>
#include <math.h>
#include <string.h>

static char *
square_feature (const char *type, FtLatLon c, double m, const char *extra)
{
  FtLatLon q[4] = {
    ft_latlon_offset (c, -m / 2, -m / 2), ft_latlon_offset (c, m / 2, -m / 2),
    ft_latlon_offset (c, m / 2, m / 2), ft_latlon_offset (c, -m / 2, m / 2),
  };
  return g_strdup_printf ("{\"type\":\"Feature\",\"properties\":{\"zone_type\":\"%s\"%s},"
                          "\"geometry\":{\"type\":\"Polygon\",\"coordinates\":[[[%.7f,%.7f],[%.7f,%.7f],"
                          "[%.7f,%.7f],[%.7f,%.7f],[%.7f,%.7f]]]}}", type, extra ? extra : "",
                          q[0].lon, q[0].lat, q[1].lon, q[1].lat, q[2].lon, q[2].lat,
                          q[3].lon, q[3].lat, q[0].lon, q[0].lat);
}

/* Demo City with its geofences replaced by a GeoJSON policy. */
static FtCity *
demo_with_policy (const char *features)
{
  FtCity *c = ft_city_new_demo ();
  g_autofree char *doc = g_strdup_printf ("{\"type\":\"FeatureCollection\",\"features\":[%s]}", features);
  g_autoptr (GError) e = NULL;
  FtGeofences *g = ft_geofences_parse_policy (doc, -1, "policy.geojson", &e);
  ck_assert_msg (g != NULL, "%s", e ? e->message : "");
  if (c->geofences)
    ft_geofences_free (c->geofences);
  c->geofences = g;
  return c;
}

/* The zone with the most demand: where a no-parking zone bites. */
static FtLatLon
busiest_zone (const FtCity *c)
{
  guint best = 0;
  double best_r = -1;
  for (guint z = 0; z < c->n_zones; z++)
    {
      double r = 0;
      for (guint h = 0; h < 168; h++)
        r += c->demand.rate[z * 168 + h];
      if (r > best_r)
        best_r = r, best = z;
    }
  return c->zones[best].centroid;
}

static FtSimScenario *
small_scenario (void)
{
  g_autoptr (GError) e = NULL;
  FtSimScenario *sc = ft_sim_scenario_parse ("[scenario]\ndays=0.5\nseed=7\n[fleet]\nscooters=150\n"
                                             "bikes=0\nmopeds=0\n[demand]\nrouting=straight\n", -1,
                                             "geofence.scenario", &e);
  ck_assert_msg (sc != NULL, "%s", e ? e->message : "");
  return sc;
}

START_TEST (test_no_parking_refuses_end)
{
  g_autoptr (FtCity) probe = ft_city_new_demo ();
  FtLatLon hot = busiest_zone (probe);
  g_autofree char *np = square_feature ("no_parking", hot, 700, ",\"name\":\"Station square\"");
  g_autoptr (FtCity) city = demo_with_policy (np);
  g_autoptr (FtSimScenario) sc = small_scenario ();
  g_autoptr (GError) e = NULL;
  g_autoptr (FtSimWorld) w = ft_sim_world_new (sc, city, NULL, &e);
  ck_assert_msg (w != NULL, "%s", e ? e->message : "");
  ck_assert_msg (ft_sim_world_run (w, NULL, NULL, &e), "%s", e ? e->message : "");
  ck_assert_msg (ft_sim_world_check (w, &e), "%s", e ? e->message : "");
  FtSimKpis k;
  ft_sim_world_kpis (w, &k);
  ck_assert_msg (k.end_refusals > 0, "no trip end was refused in the no-parking zone");
  ck_assert_uint_gt (k.trips_completed, 100);
  /* no trip ended inside it */
  FtCore *core = ft_sim_world_get_core (w);
  guint ended = 0;
  for (guint i = 0; i < ft_booking_n (core->booking); i++)
    {
      const FtBookingRec *r = ft_booking_get (core->booking, i);
      if (r == NULL || r->state != FT_BK_ENDED)
        continue;
      ended++;
      ck_assert_msg (ft_geofences_rules_at (city->geofences, r->end, 0, NULL).ride_end_allowed,
                     "booking %u ended at %.5f,%.5f inside the no-parking zone", i, r->end.lat, r->end.lon);
    }
  ck_assert_uint_gt (ended, 100);
}
END_TEST

START_TEST (test_slow_zone_caps_speed)
{
  g_autoptr (FtCity) probe = ft_city_new_demo ();
  FtBBox bb = probe->bbox;
  FtLatLon mid = { (bb.min_lat + bb.max_lat) / 2, (bb.min_lon + bb.max_lon) / 2 };
  double side = 3 * MAX (ft_distance_m ((FtLatLon) { bb.min_lat, bb.min_lon }, (FtLatLon) { bb.min_lat, bb.max_lon }),
                         ft_distance_m ((FtLatLon) { bb.min_lat, bb.min_lon }, (FtLatLon) { bb.max_lat, bb.min_lon }));
  g_autofree char *slow = square_feature ("slow_ride", mid, side, ",\"maximum_speed_kph\":6");
  g_autoptr (FtCity) city = demo_with_policy (slow);
  g_autoptr (FtSimScenario) sc = small_scenario ();
  g_autoptr (GError) e = NULL;
  g_autoptr (FtSimWorld) w = ft_sim_world_new (sc, city, NULL, &e);
  ck_assert_msg (w != NULL, "%s", e ? e->message : "");
  ck_assert_msg (ft_sim_world_run (w, NULL, NULL, &e), "%s", e ? e->message : "");
  FtCore *core = ft_sim_world_get_core (w);
  guint ended = 0;
  double fastest = 0;
  for (guint i = 0; i < ft_booking_n (core->booking); i++)
    {
      const FtBookingRec *r = ft_booking_get (core->booking, i);
      if (r == NULL || r->state != FT_BK_ENDED || r->distance_m < 200)
        continue;
      ended++;
      double kph = r->distance_m / ((double) (r->ended_at - r->unlocked_at) / 1000.0) * 3.6;
      fastest = MAX (fastest, kph);
    }
  ck_assert_uint_gt (ended, 100);
  /* the scooters cruise at 15+ km/h elsewhere; here none is faster than the cap */
  ck_assert_msg (fastest <= 6.05, "a trip averaged %.2f km/h in a 6 km/h zone", fastest);
  ck_assert_msg (fastest > 5.5, "trips averaged at most %.2f km/h: the cap is 6", fastest);
}
END_TEST

START_TEST (test_fleet_from_gbfs)
{
  g_autoptr (FtCity) city = ft_city_new_demo ();
  g_autofree char *dir = g_dir_make_tmp ("ft-gbfs-XXXXXX", NULL);
  FtLatLon c = city->center;
  FtLatLon far = ft_latlon_offset (c, 60000, 0);
  GString *bikes = g_string_new (NULL);
  for (int i = 0; i < 6; i++)
    {
      FtLatLon p = i == 5 ? far : ft_latlon_offset (c, 100.0 * i, 50.0 * i);
      g_string_append_printf (bikes, "%s{\"bike_id\":\"op-%d\",\"lat\":%.6f,\"lon\":%.6f,"
                              "\"is_reserved\":false,\"is_disabled\":false,"
                              "\"current_range_meters\":%d,\"pricing_plan_id\":\"plan-%d\"}",
                              i ? "," : "", i, p.lat, p.lon, 5000 * (i + 1), i % 2);
    }
  g_autofree char *doc = g_strdup_printf ("{\"last_updated\":1691739754,\"ttl\":0,\"version\":\"2.3\","
                                          "\"data\":{\"bikes\":[%s]}}", bikes->str);
  g_string_free (bikes, TRUE);
  g_autofree char *file = g_build_filename (dir, "free_bike_status.json", NULL);
  ck_assert (g_file_set_contents (file, doc, -1, NULL));

  g_autofree char *text = g_strdup_printf ("[scenario]\ndays=0.05\n[fleet]\ngbfs=%s\n", file);
  g_autoptr (GError) e = NULL;
  g_autoptr (FtSimScenario) sc = ft_sim_scenario_parse (text, -1, "gbfs.scenario", &e);
  ck_assert_msg (sc != NULL, "%s", e ? e->message : "");
  g_autoptr (FtSimWorld) w = ft_sim_world_new (sc, city, NULL, &e);
  ck_assert_msg (w != NULL, "%s", e ? e->message : "");
  FtCore *core = ft_sim_world_get_core (w);
  /* the vehicle 60 km away is left out; the others keep their operator ids */
  ck_assert_uint_eq (ft_fleet_n_vehicles (core->fleet), 5);
  for (int i = 0; i < 5; i++)
    {
      g_autofree char *id = g_strdup_printf ("op-%d", i);
      char dev[37];
      guint v;
      ft_gbfs_device_id (id, dev);
      ck_assert_msg (ft_fleet_lookup_device (core->fleet, dev, &v), "%s not in the fleet", id);
      ck_assert (ft_distance_m (ft_fleet_get_vehicle (core->fleet, v)->pos,
                                ft_latlon_offset (c, 100.0 * i, 50.0 * i)) < 1.0);
    }
  ck_assert_msg (ft_sim_world_run (w, NULL, NULL, &e), "%s", e ? e->message : "");

  /* the report and the re-export keep the operator's ids and plans */
  g_autoptr (FtGbfsFeed) feed = ft_gbfs_load (file, &e);
  ck_assert_msg (feed != NULL, "%s", e ? e->message : "");
  g_autoptr (GString) report = g_string_new (NULL);
  ck_assert_uint_eq (ft_gbfs_leave_out_far (feed, city->operating_area, 2000, report), 1);
  ck_assert_msg (strstr (report->str, "vehicle op-5") && strstr (report->str, "km outside the operating area"),
                 "%s", report->str);
  g_autofree char *out = ft_gbfs_fleet_to_json (feed);
  g_autofree char *file2 = g_build_filename (dir, "kept", NULL);
  g_mkdir (file2, 0700);
  g_autofree char *f2 = g_build_filename (file2, "free_bike_status.json", NULL);
  ck_assert (g_file_set_contents (f2, out, -1, NULL));
  g_autoptr (FtGbfsFeed) back = ft_gbfs_load (f2, &e);
  ck_assert_msg (back != NULL, "%s", e ? e->message : "");
  ck_assert_uint_eq (back->n_vehicles, 5);
  ck_assert_str_eq (back->vehicles[3].vehicle_id, "op-3");
  ck_assert_str_eq (back->vehicles[3].pricing_plan_id, "plan-1");
  ck_assert_double_eq (back->vehicles[3].range_m, 20000);

  /* none near the city: refused, naming the key */
  g_autofree char *far_doc = g_strdup_printf ("{\"last_updated\":1691739754,\"ttl\":0,\"version\":\"2.3\","
    "\"data\":{\"bikes\":[{\"bike_id\":\"x\",\"lat\":%.6f,\"lon\":%.6f,\"is_reserved\":false,"
    "\"is_disabled\":false}]}}", far.lat, far.lon);
  ck_assert (g_file_set_contents (file, far_doc, -1, NULL));
  g_autoptr (FtSimWorld) none = ft_sim_world_new (sc, city, NULL, &e);
  ck_assert (none == NULL);
  ck_assert_msg (strstr (e->message, "[fleet] gbfs: none of the 1 vehicles"), "%s", e->message);
  g_clear_error (&e);

  /* the wrong version: refused naming the file and field */
  ck_assert (g_file_set_contents (file, "{\"last_updated\":1,\"ttl\":0,\"version\":\"3.0\","
                                  "\"data\":{\"vehicles\":[]}}", -1, NULL));
  g_autoptr (FtGbfsFeed) wrong = ft_gbfs_load (file, &e);
  ck_assert (wrong == NULL);
  ck_assert_msg (strstr (e->message, "free_bike_status.json: version: says GBFS 3.0"), "%s", e->message);
  g_clear_error (&e);
  ck_assert (g_file_set_contents (file, "{\"last_updated\":1,\"ttl\":0,\"version\":\"1.1\","
                                  "\"data\":{\"bikes\":[]}}", -1, NULL));
  g_autoptr (FtGbfsFeed) old = ft_gbfs_load (file, &e);
  ck_assert (old == NULL && strstr (e->message, "GBFS 1.1 is not supported"));
  g_unlink (f2);
  g_rmdir (file2);
  g_unlink (file);
  g_rmdir (dir);
}
END_TEST

int
main (void)
{
  Suite *s = suite_create ("sim-geofence");
  TCase *tc = tcase_create ("policy");
  tcase_set_timeout (tc, 300);
  tcase_add_test (tc, test_no_parking_refuses_end);
  tcase_add_test (tc, test_slow_zone_caps_speed);
  tcase_add_test (tc, test_fleet_from_gbfs);
  suite_add_tcase (s, tc);
  SRunner *sr = srunner_create (s);
  srunner_run_all (sr, CK_NORMAL);
  int failed = srunner_ntests_failed (sr);
  srunner_free (sr);
  return failed == 0 ? 0 : 1;
}
