/* test-gbfs.c — GBFS 2.3 / 3.0 import into a starting fleet (vehicle counts
 * checked against the raw files), refusal of malformed feeds, and export.
 */
#include "ft-config.h"
#include "ft-test.h"
#include "ft-gbfs.h"
#include "ft-file.h"

#include <check.h>
#include <glib/gstdio.h>
#include <string.h>

/* Count vehicles in a raw file without a JSON parser: occurrences of the id key. */
static guint
count_raw (const char *path, const char *key)
{
  g_autofree char *text = NULL;
  ck_assert (g_file_get_contents (path, &text, NULL, NULL));
  guint n = 0;
  for (const char *p = text; (p = strstr (p, key)); p += strlen (key))
    n++;
  return n;
}

static FtCore *
new_core (void)
{
  FtCoreConfig cfg;
  ft_core_config_init (&cfg);
  return ft_core_new (&cfg, NULL, NULL);
}

START_TEST (test_tier_snapshots)
{
  g_autofree char *dir = ft_test_shared_path ("gbfs/tier_wolfsburg_2023-08-11");
  g_autoptr(GDir) d = g_dir_open (dir, 0, NULL);
  ck_assert (d != NULL);
  const char *name;
  guint snapshots = 0;
  while ((name = g_dir_read_name (d)))
    {
      if (!g_str_has_prefix (name, "free_bike_status_"))
        continue;
      g_autofree char *path = g_build_filename (dir, name, NULL);
      g_autoptr(GError) error = NULL;
      g_autoptr(FtGbfsFeed) feed = ft_gbfs_load (path, &error);
      ck_assert_msg (feed != NULL, "%s", error ? error->message : "");
      guint raw = count_raw (path, "\"bike_id\"");
      ck_assert_uint_eq (feed->n_vehicles, raw);
      ck_assert (feed->n_vehicles >= 840 && feed->n_vehicles <= 847);
      ck_assert_str_eq (feed->version, "2.3");
      g_autoptr(FtCore) core = new_core ();
      gint added = ft_gbfs_seed_core (feed, core, 0, &error);
      ck_assert_int_eq (added, (gint) raw);
      ck_assert_uint_eq (ft_fleet_n_vehicles (core->fleet), raw);
      ck_assert_uint_eq (ft_fleet_count_state (core->fleet, FT_STATE_NON_OPERATIONAL),
                         feed->n_disabled);
      ck_assert (ft_core_check (core, &error));
      /* ranges come through: 1,000-46,000 m of a 46,000 m max */
      for (guint v = 0; v < ft_fleet_n_vehicles (core->fleet); v++)
        ck_assert (ft_fleet_soc (core->fleet, v) > 0.0 && ft_fleet_soc (core->fleet, v) <= 1.0);
      snapshots++;
    }
  ck_assert_uint_eq (snapshots, 9);

  /* the folder itself picks the latest snapshot */
  g_autoptr(GError) error = NULL;
  g_autoptr(FtGbfsFeed) feed = ft_gbfs_load (dir, &error);
  ck_assert_msg (feed != NULL, "%s", error ? error->message : "");
  ck_assert (strstr (feed->vehicles_file, "20230811T082300Z") != NULL);
  ck_assert_str_eq (feed->system_name, "TIER Escooter Wolfsburg");
}
END_TEST

START_TEST (test_v3_fixtures)
{
  g_autofree char *dir = ft_test_shared_path ("gbfs/mobilitydata_testfixtures_v3.0");
  g_autofree char *vs = g_build_filename (dir, "vehicle_status.json", NULL);
  g_autoptr(GError) error = NULL;
  g_autoptr(FtGbfsFeed) feed = ft_gbfs_load (dir, &error);
  ck_assert_msg (feed != NULL, "%s", error ? error->message : "");
  ck_assert_str_eq (feed->version, "3.0");
  ck_assert_uint_eq (feed->n_vehicles, count_raw (vs, "\"vehicle_id\""));
  ck_assert (feed->pricing != NULL);
  ck_assert_uint_gt (ft_pricing_n_plans (feed->pricing), 0);
  ck_assert (feed->geofences != NULL);
  ck_assert_uint_gt (ft_geofences_n_zones (feed->geofences), 0);
  ck_assert_uint_gt (feed->n_stations, 0);
  FtCoreConfig cfg;
  ft_core_config_init (&cfg);
  g_autoptr(FtCore) core = ft_core_new (&cfg, ft_gbfs_dup_geofences (feed), ft_gbfs_dup_pricing (feed));
  ck_assert_int_eq (ft_gbfs_seed_core (feed, core, 0, &error), (gint) feed->n_vehicles);
  ck_assert (ft_core_check (core, &error));
}
END_TEST

static void
expect_refused (const char *json, const char *needle)
{
  g_autofree char *dir = g_dir_make_tmp ("ft-gbfs-XXXXXX", NULL);
  g_autofree char *path = g_build_filename (dir, "free_bike_status.json", NULL);
  g_file_set_contents (path, json, -1, NULL);
  g_autoptr(GError) error = NULL;
  g_autoptr(FtGbfsFeed) feed = ft_gbfs_load (dir, &error);
  ck_assert_msg (feed == NULL, "accepted %s", json);
  ck_assert_msg (strstr (error->message, needle) != NULL, "'%s' lacks '%s'", error->message, needle);
  ck_assert (strstr (error->message, "free_bike_status.json") != NULL);
  g_unlink (path);
  g_rmdir (dir);
}

#define BIKE(extra) "{\"last_updated\":1691739754,\"ttl\":0,\"version\":\"2.3\",\"data\":{\"bikes\":[" \
  "{\"bike_id\":\"a\",\"lat\":52.4,\"lon\":10.7,\"is_reserved\":false,\"is_disabled\":false}" extra "]}}"

START_TEST (test_malformed)
{
  expect_refused (BIKE (",{\"bike_id\":\"b\",\"lat\":\"52\",\"lon\":10.7,\"is_reserved\":false,\"is_disabled\":false}"),
                  "data.bikes[1]: lat/lon: expected numbers");
  expect_refused (BIKE (",{\"bike_id\":\"b\",\"lat\":152,\"lon\":10.7,\"is_reserved\":false,\"is_disabled\":false}"),
                  "data.bikes[1]: lat/lon: 152");
  expect_refused (BIKE (",{\"bike_id\":\"b\",\"lat\":52,\"lon\":10.7,\"is_reserved\":0,\"is_disabled\":false}"),
                  "is_reserved/is_disabled: expected booleans");
  expect_refused (BIKE (",{\"bike_id\":\"a\",\"lat\":52,\"lon\":10.7,\"is_reserved\":false,\"is_disabled\":false}"),
                  "duplicate vehicle id a");
  expect_refused (BIKE (",{\"bike_id\":7,\"lat\":52,\"lon\":10.7,\"is_reserved\":false,\"is_disabled\":false}"),
                  "bike_id: expected a non-empty string");
  expect_refused (BIKE (",{\"bike_id\":\"c\",\"lat\":52,\"lon\":10.7,\"is_reserved\":false,\"is_disabled\":false,\"current_range_meters\":-5}"),
                  "current_range_meters");
  expect_refused ("{\"last_updated\":1,\"ttl\":0,\"version\":\"1.0\",\"data\":{\"bikes\":[]}}", "not supported");
  expect_refused ("{\"last_updated\":1,\"ttl\":0,\"version\":\"2.3\",\"data\":{\"bikes\":{}}}", "data.bikes");
  expect_refused ("{\"last_updated\":\"soon\",\"ttl\":0,\"version\":\"2.3\",\"data\":{\"bikes\":[]}}", "last_updated");
  expect_refused ("{\"last_updated\":1,\"ttl\":0,\"version\":\"2.3\",\"data\":{\"bikes\":[{\"bike_id\":", "");
  expect_refused ("\x01\x02\xff binary", "");

  g_autoptr(GError) error = NULL;
  ck_assert (ft_gbfs_load ("/nonexistent/feed", &error) == NULL);
  ck_assert_int_eq (error->code, FT_GBFS_ERROR_IO);
}
END_TEST

START_TEST (test_seed_refuses_duplicates_atomically)
{
  g_autofree char *path = ft_test_shared_path ("gbfs/tier_wolfsburg_2023-08-11/free_bike_status_20230811T074234Z.json");
  g_autoptr(GError) error = NULL;
  g_autoptr(FtGbfsFeed) feed = ft_gbfs_load (path, &error);
  ck_assert (feed != NULL);
  g_autoptr(FtCore) core = new_core ();
  ck_assert_int_eq (ft_gbfs_seed_core (feed, core, 0, &error), (gint) feed->n_vehicles);
  guint before = ft_fleet_n_vehicles (core->fleet);
  ck_assert_int_eq (ft_gbfs_seed_core (feed, core, 0, &error), -1);
  ck_assert (strstr (error->message, "already in the fleet") != NULL);
  ck_assert_uint_eq (ft_fleet_n_vehicles (core->fleet), before);
}
END_TEST

START_TEST (test_export_roundtrip)
{
  g_autofree char *path = ft_test_shared_path ("gbfs/tier_wolfsburg_2023-08-11/free_bike_status_20230811T074234Z.json");
  g_autoptr(GError) error = NULL;
  g_autoptr(FtGbfsFeed) feed = ft_gbfs_load (path, &error);
  g_autoptr(FtCore) core = new_core ();
  ck_assert (ft_gbfs_seed_core (feed, core, 0, &error) > 0);
  g_autofree char *tmp = g_dir_make_tmp ("ft-gbfs-out-XXXXXX", NULL);
  g_autofree char *out = g_build_filename (tmp, "feed", NULL);
  FtGbfsExportInfo info = { .system_id = "fleet-twin-test", .name = "Test", .timezone = "Europe/Berlin",
                            .language = "en", .email = "ops@example.invalid",
                            .base_url = "https://example.invalid/gbfs", .epoch_s = 1691739754 };
  ck_assert_msg (ft_gbfs_export (core, &info, out, &error), "%s", error ? error->message : "");
  /* export twice: replaces in place */
  ck_assert (ft_gbfs_export (core, &info, out, &error));
  const char *files[] = { "gbfs", "manifest", "system_information", "vehicle_types",
                          "vehicle_status", "system_pricing_plans", "geofencing_zones" };
  for (guint i = 0; i < G_N_ELEMENTS (files); i++)
    {
      g_autofree char *f = g_strdup_printf ("%s/%s.json", out, files[i]);
      ck_assert_msg (g_file_test (f, G_FILE_TEST_IS_REGULAR), "%s missing", f);
    }
  g_autoptr(FtGbfsFeed) back = ft_gbfs_load (out, &error);
  ck_assert_msg (back != NULL, "%s", error ? error->message : "");
  ck_assert_uint_eq (back->n_vehicles, feed->n_vehicles);
  ck_assert_uint_eq (back->n_disabled, feed->n_disabled);
  ck_assert_str_eq (back->version, "3.0");
}
END_TEST

/* GBFS requires vehicle_status ids that change after every trip; the
 * export used to publish the permanent device id. */
START_TEST (test_export_hides_device_ids)
{
  g_autofree char *path = ft_test_shared_path ("gbfs/tier_wolfsburg_2023-08-11/free_bike_status_20230811T074234Z.json");
  g_autoptr(GError) error = NULL;
  g_autoptr(FtGbfsFeed) feed = ft_gbfs_load (path, &error);
  g_autoptr(FtCore) core = new_core ();
  ck_assert (ft_gbfs_seed_core (feed, core, 0, &error) > 0);
  g_autofree char *tmp = g_dir_make_tmp ("ft-gbfs-ids-XXXXXX", NULL);
  g_autofree char *out = g_build_filename (tmp, "feed", NULL);
  FtGbfsExportInfo info = { .system_id = "fleet-twin-test", .name = "Test", .epoch_s = 1691739754 };
  ck_assert_msg (ft_gbfs_export (core, &info, out, &error), "%s", error ? error->message : "");
  g_autoptr(FtGbfsFeed) back = ft_gbfs_load (out, &error);
  ck_assert_msg (back != NULL, "%s", error ? error->message : "");
  ck_assert_uint_gt (back->n_vehicles, 0);
  g_autoptr(GHashTable) devices = g_hash_table_new (g_str_hash, g_str_equal);
  for (guint v = 0; v < ft_fleet_n_vehicles (core->fleet); v++)
    g_hash_table_add (devices, (gpointer) ft_fleet_get_vehicle (core->fleet, v)->device_id);
  for (guint i = 0; i < back->n_vehicles; i++)
    ck_assert_msg (!g_hash_table_contains (devices, back->vehicles[i].vehicle_id),
                   "vehicle_status publishes device id %s", back->vehicles[i].vehicle_id);
  /* A second export (a fresh random key) links to nothing in the first. */
  g_autofree char *out2 = g_build_filename (tmp, "feed2", NULL);
  ck_assert (ft_gbfs_export (core, &info, out2, &error));
  g_autoptr(FtGbfsFeed) again = ft_gbfs_load (out2, &error);
  ck_assert (again != NULL && again->n_vehicles == back->n_vehicles);
  for (guint i = 0; i < back->n_vehicles; i++)
    ck_assert_str_ne (back->vehicles[i].vehicle_id, again->vehicles[i].vehicle_id);
  ft_file_remove_tree (tmp, NULL);
}
END_TEST

START_TEST (test_vehicle_id_rotates_per_trip)
{
  const guint8 key[] = "a server's key, 32 bytes long!!";
  const char *dev = "3c9604d6-b5ee-11e8-96f8-529269fb1459";
  g_autofree char *a = ft_gbfs_public_vehicle_id (key, sizeof key, dev, 41);
  g_autofree char *a2 = ft_gbfs_public_vehicle_id (key, sizeof key, dev, 41);
  g_autofree char *b = ft_gbfs_public_vehicle_id (key, sizeof key, dev, 42);
  const guint8 key2[] = "another server's key, 32 bytes!";
  g_autofree char *c = ft_gbfs_public_vehicle_id (key2, sizeof key2, dev, 41);
  ck_assert (ft_uuid_valid (a) && ft_uuid_valid (b));
  ck_assert_str_eq (a, a2);          /* stable between trips */
  ck_assert_str_ne (a, b);           /* a new id after the next trip */
  ck_assert_str_ne (a, c);           /* another key, another id */
  ck_assert_str_ne (a, dev);
}
END_TEST

static Suite *
gbfs_suite (void)
{
  Suite *s = suite_create ("gbfs");
  TCase *tc = tcase_create ("import");
  tcase_set_timeout (tc, 120);
  tcase_add_test (tc, test_tier_snapshots);
  tcase_add_test (tc, test_v3_fixtures);
  tcase_add_test (tc, test_malformed);
  tcase_add_test (tc, test_seed_refuses_duplicates_atomically);
  suite_add_tcase (s, tc);
  TCase *ex = tcase_create ("export");
  tcase_add_test (ex, test_export_roundtrip);
  tcase_add_test (ex, test_export_hides_device_ids);
  tcase_add_test (ex, test_vehicle_id_rotates_per_trip);
  suite_add_tcase (s, ex);
  return s;
}

int
main (void)
{
  SRunner *sr = srunner_create (gbfs_suite ());
  srunner_run_all (sr, CK_NORMAL);
  int failed = srunner_ntests_failed (sr);
  srunner_free (sr);
  return failed == 0 ? 0 : 1;
}
