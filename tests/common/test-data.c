/* test-data.c — src/common's data lookup: an installed program finds the
 * data beside its own prefix (never the source tree it was built from), a
 * program in the build tree finds the source tree, $FT_DATA_DIR comes
 * first, and a name that is nowhere gets an error listing where it looked.
 */
#include "ft-config.h"
#include "ft-data.h"
#include "ft-file.h"

#include <check.h>
#include <string.h>
#include <glib/gstdio.h>

static char *tmpdir;

static void
setup (void)
{
  GError *e = NULL;
  tmpdir = g_dir_make_tmp ("ft-data-XXXXXX", &e);
  ck_assert_msg (tmpdir != NULL, "%s", e ? e->message : "");
}

static void
teardown (void)
{
  ck_assert (ft_file_remove_tree (tmpdir, NULL));
  g_clear_pointer (&tmpdir, g_free);
}

static gboolean
contains (GStrv dirs, const char *dir)
{
  return g_strv_contains ((const char *const *) dirs, dir);
}

START_TEST (installed_program_finds_its_prefix)
{
  /* <tmp>/usr/bin/fleet-twin-cli with <tmp>/usr/share/fleet-twin: a DESTDIR install */
  g_autofree char *share = g_build_filename (tmpdir, "usr", FT_DATADIR_REL, "fleet-twin", NULL);
  ck_assert_int_eq (g_mkdir_with_parents (share, 0755), 0);
  g_autofree char *exe = g_build_filename (tmpdir, "usr", FT_BINDIR, "fleet-twin-cli", NULL);
  g_auto (GStrv) dirs = ft_data_dirs_for (exe, NULL);
  ck_assert_str_eq (dirs[0], share);
  ck_assert (!contains (dirs, FT_SOURCE_DIR));
  /* then the configured prefix */
  ck_assert (contains (dirs, FT_DATADIR));
}
END_TEST

START_TEST (installed_program_without_its_data_never_uses_the_source_tree)
{
  g_autofree char *exe = g_build_filename (tmpdir, "opt", FT_BINDIR, "fleet-twin-cli", NULL);
  g_auto (GStrv) dirs = ft_data_dirs_for (exe, NULL);
  ck_assert_uint_eq (g_strv_length (dirs), 1);
  ck_assert_str_eq (dirs[0], FT_DATADIR);
  g_auto (GStrv) none = ft_data_dirs_for (NULL, NULL);
  ck_assert_uint_eq (g_strv_length (none), 1);
  ck_assert_str_eq (none[0], FT_DATADIR);
}
END_TEST

START_TEST (build_tree_program_uses_the_source_tree)
{
  g_autofree char *exe = g_build_filename (FT_BUILD_DIR, "ui", "cli", "fleet-twin-cli", NULL);
  g_auto (GStrv) dirs = ft_data_dirs_for (exe, NULL);
  g_autofree char *data = g_build_filename (FT_BUILD_DIR, "data", NULL);
  ck_assert_uint_eq (g_strv_length (dirs), 2);
  ck_assert_str_eq (dirs[0], FT_SOURCE_DIR);
  ck_assert_str_eq (dirs[1], data);
  /* a folder that only starts with the build tree's name is not inside it */
  g_autofree char *sibling = g_strconcat (FT_BUILD_DIR, "-other/fleet-twin-cli", NULL);
  g_auto (GStrv) other = ft_data_dirs_for (sibling, NULL);
  ck_assert (!contains (other, FT_SOURCE_DIR));
}
END_TEST

START_TEST (env_comes_first)
{
  g_autofree char *exe = g_build_filename (FT_BUILD_DIR, "ui", "cli", "fleet-twin-cli", NULL);
  g_auto (GStrv) dirs = ft_data_dirs_for (exe, tmpdir);
  ck_assert_str_eq (dirs[0], tmpdir);
  ck_assert_str_eq (dirs[1], FT_SOURCE_DIR);
  g_auto (GStrv) empty = ft_data_dirs_for (exe, "");
  ck_assert_str_eq (empty[0], FT_SOURCE_DIR);
}
END_TEST

START_TEST (find_named_in_the_source_tree_when_uninstalled)
{
  /* this test runs from the build tree */
  g_autoptr (GError) error = NULL;
  static const char *const exts[] = { "", ".scenario", NULL };
  g_autofree char *p = ft_data_find_named ("scenarios", "demo-city-phase1", exts, "scenario", &error);
  ck_assert_msg (p != NULL, "%s", error ? error->message : "");
  g_autofree char *want = g_build_filename (FT_SOURCE_DIR, "scenarios", "demo-city-phase1.scenario", NULL);
  ck_assert_str_eq (p, want);
  g_autofree char *tiles = ft_data_find ("no-such-file.mbtiles");
  ck_assert_ptr_null (tiles);
}
END_TEST

START_TEST (find_named_prefers_env_and_takes_paths_as_they_are)
{
  g_autofree char *sub = g_build_filename (tmpdir, "scenarios", NULL);
  ck_assert_int_eq (g_mkdir_with_parents (sub, 0755), 0);
  g_autofree char *mine = g_build_filename (sub, "demo-city-phase1.scenario", NULL);
  ck_assert (g_file_set_contents (mine, "[scenario]\n", -1, NULL));
  g_setenv ("FT_DATA_DIR", tmpdir, TRUE);
  static const char *const exts[] = { "", ".scenario", NULL };
  g_autofree char *p = ft_data_find_named ("scenarios", "demo-city-phase1", exts, "scenario", NULL);
  g_unsetenv ("FT_DATA_DIR");
  ck_assert_str_eq (p, mine);
  /* a name with a folder is the reader's to open (and to report missing) */
  g_autofree char *q = ft_data_find_named ("scenarios", "nowhere/x.scenario", exts, "scenario", NULL);
  ck_assert_str_eq (q, "nowhere/x.scenario");
}
END_TEST

START_TEST (unknown_name_lists_where_it_looked)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *p = ft_data_find_named ("scenarios", "no-such-scenario", NULL, "scenario", &error);
  ck_assert_ptr_null (p);
  ck_assert (g_error_matches (error, FT_DATA_ERROR, FT_DATA_ERROR_NOT_FOUND));
  g_autofree char *where = g_build_filename (FT_SOURCE_DIR, "scenarios", NULL);
  ck_assert_msg (strstr (error->message, "'no-such-scenario'") && strstr (error->message, where),
                 "%s", error->message);
  g_clear_error (&error);
  /* ".." never climbs out of the data folders */
  p = ft_data_find_named ("scenarios", "..", NULL, "scenario", &error);
  ck_assert_ptr_null (p);
  ck_assert (error != NULL);
}
END_TEST

static Suite *
data_suite (void)
{
  Suite *s = suite_create ("data");
  TCase *tc = tcase_create ("dirs");
  tcase_add_checked_fixture (tc, setup, teardown);
  tcase_add_test (tc, installed_program_finds_its_prefix);
  tcase_add_test (tc, installed_program_without_its_data_never_uses_the_source_tree);
  tcase_add_test (tc, build_tree_program_uses_the_source_tree);
  tcase_add_test (tc, env_comes_first);
  suite_add_tcase (s, tc);
  tc = tcase_create ("find");
  tcase_add_checked_fixture (tc, setup, teardown);
  tcase_add_test (tc, find_named_in_the_source_tree_when_uninstalled);
  tcase_add_test (tc, find_named_prefers_env_and_takes_paths_as_they_are);
  tcase_add_test (tc, unknown_name_lists_where_it_looked);
  suite_add_tcase (s, tc);
  return s;
}

int
main (void)
{
  g_log_set_always_fatal (G_LOG_LEVEL_CRITICAL | G_LOG_LEVEL_WARNING);
  g_unsetenv ("FT_DATA_DIR");
  SRunner *sr = srunner_create (data_suite ());
  srunner_run_all (sr, CK_NORMAL);
  int failed = srunner_ntests_failed (sr);
  srunner_free (sr);
  return failed == 0 ? 0 : 1;
}
