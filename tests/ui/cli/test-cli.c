/* test-cli.c — fleet-twin-cli as a user meets it: `run --json` is
 * byte-identical for the same scenario and seed and differs for another
 * seed; `run --out` writes a SQLite file whose KPIs `compare` can read;
 * bad scenarios and options fail with a message naming the problem; every
 * command is built in.
 */
#include "ft-config.h"
#include "ft-test.h"

#include <check.h>
#include <glib/gstdio.h>
#include <string.h>

static char *
scenario (void)
{
  return ft_test_source_path ("scenarios/demo-city-phase1.scenario");
}

static int
run_cli (char **out, char **err, ...)
{
  const char *cli = g_getenv ("FT_CLI");
  ck_assert_msg (cli != NULL, "FT_CLI is not set");
  g_autoptr (GPtrArray) argv = g_ptr_array_new ();
  g_ptr_array_add (argv, (gpointer) cli);
  va_list ap;
  va_start (ap, err);
  for (const char *a = va_arg (ap, const char *); a; a = va_arg (ap, const char *))
    g_ptr_array_add (argv, (gpointer) a);
  va_end (ap);
  g_ptr_array_add (argv, NULL);
  int status = -1;
  g_autoptr (GError) e = NULL;
  ck_assert_msg (g_spawn_sync (NULL, (char **) argv->pdata, NULL, G_SPAWN_DEFAULT, NULL, NULL,
                               out, err, &status, &e), "%s", e ? e->message : "");
  return WIFEXITED (status) ? WEXITSTATUS (status) : -1;
}

START_TEST (test_cli_json_repeatable)
{
  g_autofree char *sc = scenario ();
  g_autofree char *a = NULL, *b = NULL, *c = NULL, *ea = NULL, *eb = NULL, *ec = NULL;
  ck_assert_int_eq (run_cli (&a, &ea, "run", sc, "--days", "0.5", "--seed", "21", "--json", NULL), 0);
  ck_assert_int_eq (run_cli (&b, &eb, "run", sc, "--days", "0.5", "--seed", "21", "--json", NULL), 0);
  ck_assert_int_eq (run_cli (&c, &ec, "run", sc, "--days", "0.5", "--seed", "22", "--json", NULL), 0);
  ck_assert_str_eq (a, b);
  ck_assert_str_ne (a, c);
  const char *keys[] = { "trips_requested", "trips_served", "trips_lost", "trips_lost_by_reason",
                         "trips_per_vehicle_day", "utilisation", "revenue_minor", "currency",
                         "revenue_per_vehicle_day_minor", "mean_walk_m", "battery_unavailable_share",
                         "battery_swaps", "staff_hours", "staff_km", "fault_downtime_hours",
                         "ledger_balanced", "mean_trip_km" };
  for (guint i = 0; i < G_N_ELEMENTS (keys); i++)
    {
      g_autofree char *q = g_strdup_printf ("\"%s\":", keys[i]);
      ck_assert_msg (strstr (a, q) != NULL, "missing %s in %s", keys[i], a);
    }
  ck_assert (a[0] == '{');
}
END_TEST

START_TEST (test_cli_out_and_compare)
{
  g_autofree char *sc = scenario ();
  g_autofree char *dir = g_dir_make_tmp ("ft-sim-cli-XXXXXX", NULL);
  g_autofree char *db1 = g_build_filename (dir, "a.db", NULL);
  g_autofree char *db2 = g_build_filename (dir, "b.db", NULL);
  g_autofree char *o1 = NULL, *e1 = NULL, *o2 = NULL, *e2 = NULL, *o3 = NULL, *e3 = NULL;
  ck_assert_int_eq (run_cli (&o1, &e1, "run", sc, "--days", "0.25", "--seed", "1", "--out", db1, NULL), 0);
  ck_assert_msg (strstr (o1, "trips requested") != NULL, "%s", o1);
  ck_assert_int_eq (run_cli (&o2, &e2, "run", sc, "--days", "0.25", "--seed", "2", "--out", db2, "--json", NULL), 0);
  ck_assert_int_eq (run_cli (&o3, &e3, "compare", db1, db2, NULL), 0);
  ck_assert_msg (strstr (o3, "trips_served") && strstr (o3, "a.db") && strstr (o3, "b.db"), "%s", o3);
  g_autofree char *o4 = NULL, *e4 = NULL;
  ck_assert_int_ne (run_cli (&o4, &e4, "compare", "/nonexistent.db", NULL), 0);
  ck_assert (strstr (e4, "/nonexistent.db") != NULL);
  const char *names[] = { "a.db", "a.db-wal", "a.db-shm", "b.db", "b.db-wal", "b.db-shm" };
  for (guint i = 0; i < G_N_ELEMENTS (names); i++)
    {
      g_autofree char *p = g_build_filename (dir, names[i], NULL);
      g_unlink (p);
    }
  g_rmdir (dir);
}
END_TEST

START_TEST (test_cli_errors)
{
  g_autofree char *dir = g_dir_make_tmp ("ft-sim-cli-XXXXXX", NULL);
  g_autofree char *bad = g_build_filename (dir, "bad.scenario", NULL);
  ck_assert (g_file_set_contents (bad, "[fleet]\nscooters=lots\n", -1, NULL));
  g_autofree char *o = NULL, *e = NULL;
  ck_assert_int_eq (run_cli (&o, &e, "run", bad, NULL), 1);
  ck_assert_msg (strstr (e, "bad.scenario:2") && strstr (e, "scooters"), "%s", e);
  g_autofree char *o2 = NULL, *e2 = NULL;
  ck_assert_int_eq (run_cli (&o2, &e2, "run", NULL), 2);
  g_unlink (bad);
  g_rmdir (dir);
}
END_TEST

/* Every command is built in: none is silently left out of a build. */
START_TEST (test_cli_commands)
{
  static const char *commands[] = { "demo", "run", "compare", "city", "import-osm", "import-trips",
                                    "gbfs", "emulate", "live", "experiment" };
  g_autofree char *o = NULL, *e = NULL, *o2 = NULL, *e2 = NULL;
  ck_assert_int_eq (run_cli (&o, &e, "--help", NULL), 0);
  for (guint i = 0; i < G_N_ELEMENTS (commands); i++)
    {
      g_autofree char *line = g_strdup_printf ("\n  %s ", commands[i]);
      ck_assert_msg (strstr (o, line) != NULL, "--help lacks %s: %s", commands[i], o);
    }
  ck_assert_int_eq (run_cli (&o2, &e2, "city", "--help", NULL), 0);
  ck_assert_msg (strstr (o2, "bake-tiles") != NULL, "city --help lacks bake-tiles: %s", o2);
}
END_TEST

int
main (void)
{
  Suite *s = suite_create ("sim-cli");
  TCase *tc = tcase_create ("json-repeatable");
  tcase_set_timeout (tc, 600);
  tcase_add_test (tc, test_cli_json_repeatable);
  suite_add_tcase (s, tc);
  tc = tcase_create ("out-compare");
  tcase_set_timeout (tc, 600);
  tcase_add_test (tc, test_cli_out_and_compare);
  suite_add_tcase (s, tc);
  tc = tcase_create ("errors");
  tcase_add_test (tc, test_cli_errors);
  suite_add_tcase (s, tc);
  tc = tcase_create ("commands");
  tcase_add_test (tc, test_cli_commands);
  suite_add_tcase (s, tc);
  SRunner *sr = srunner_create (s);
  srunner_run_all (sr, CK_NORMAL);
  int failed = srunner_ntests_failed (sr);
  srunner_free (sr);
  return failed == 0 ? 0 : 1;
}
