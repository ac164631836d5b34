/* test-file.c — src/common's file layer: bounded reads that refuse devices
 * and runaway files, symlink-safe removal, outputs moved into place only
 * when complete (refusing what is not the project's own), sweeping what
 * killed writers left; and the strict JSON layer (depth and size limits,
 * getters that never warn, an escaping writer).
 */
#include "ft-file.h"
#include "ft-json.h"

#include <check.h>
#include <errno.h>
#include <math.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>
#include <glib/gstdio.h>

static char *tmpdir;

static void
setup (void)
{
  GError *e = NULL;
  tmpdir = g_dir_make_tmp ("ft-file-XXXXXX", &e);
  ck_assert_msg (tmpdir != NULL, "%s", e ? e->message : "");
}

static void
teardown (void)
{
  ck_assert (ft_file_remove_tree (tmpdir, NULL));
  g_clear_pointer (&tmpdir, g_free);
}

static char *
path_in (const char *name)
{
  return g_build_filename (tmpdir, name, NULL);
}

static void
write_text (const char *path, const char *text)
{
  ck_assert (g_file_set_contents (path, text, -1, NULL));
}

static char *
read_text (const char *path)
{
  char *t = NULL;
  ck_assert_msg (g_file_get_contents (path, &t, NULL, NULL), "cannot read %s", path);
  return t;
}

static guint
count_entries (const char *dir)
{
  g_autoptr(GDir) d = g_dir_open (dir, 0, NULL);
  guint n = 0;
  while (d && g_dir_read_name (d))
    n++;
  return n;
}

/* The id of a process that has exited (and been reaped). */
static pid_t
dead_pid (void)
{
  pid_t p = fork ();
  if (p == 0)
    _exit (0);
  ck_assert (p > 0);
  waitpid (p, NULL, 0);
  return p;
}

/* ---- bounded reads ------------------------------------------------------ */

START_TEST (read_regular_file)
{
  g_autofree char *p = path_in ("a.txt");
  write_text (p, "hello");
  g_autofree char *t = NULL;
  gsize n = 0;
  g_autoptr(GError) e = NULL;
  ck_assert (ft_file_read (p, 100, &t, &n, &e));
  ck_assert_str_eq (t, "hello");
  ck_assert_uint_eq (n, 5);
}
END_TEST

START_TEST (read_refuses_devices_fifos_folders_and_large_files)
{
  g_autofree char *t = NULL;
  g_autoptr(GError) e = NULL;
  /* /dev/zero used to be read until the process was killed */
  ck_assert (!ft_file_read ("/dev/zero", FT_FILE_MAX_TEXT, &t, NULL, &e));
  ck_assert_int_eq (e->code, FT_FILE_ERROR_NOT_REGULAR);
  ck_assert (strstr (e->message, "/dev/zero") != NULL);
  g_clear_error (&e);

  g_autofree char *fifo = path_in ("fifo");
  ck_assert_int_eq (mkfifo (fifo, 0600), 0);
  ck_assert (!ft_file_read (fifo, 100, &t, NULL, &e));   /* must not block */
  ck_assert_int_eq (e->code, FT_FILE_ERROR_NOT_REGULAR);
  g_clear_error (&e);

  ck_assert (!ft_file_read (tmpdir, 100, &t, NULL, &e));
  ck_assert_int_eq (e->code, FT_FILE_ERROR_NOT_REGULAR);
  g_clear_error (&e);

  g_autofree char *big = path_in ("big");
  write_text (big, "0123456789");
  ck_assert (!ft_file_read (big, 9, &t, NULL, &e));
  ck_assert_int_eq (e->code, FT_FILE_ERROR_TOO_LARGE);
  ck_assert (strstr (e->message, "limit") != NULL);
  ck_assert (t == NULL);
}
END_TEST

START_TEST (remove_tree_never_follows_links)
{
  g_autofree char *outside = path_in ("outside");
  g_autofree char *keep = path_in ("outside/keep.txt");
  g_autofree char *tree = path_in ("tree");
  g_autofree char *link = path_in ("tree/link");
  g_autofree char *flink = path_in ("tree/flink");
  ck_assert_int_eq (g_mkdir (outside, 0755), 0);
  write_text (keep, "precious");
  ck_assert_int_eq (g_mkdir (tree, 0755), 0);
  ck_assert_int_eq (symlink (outside, link), 0);
  ck_assert_int_eq (symlink (keep, flink), 0);
  ck_assert (ft_file_remove_tree (tree, NULL));
  ck_assert (!g_file_test (tree, G_FILE_TEST_EXISTS));
  g_autofree char *t = read_text (keep);
  ck_assert_str_eq (t, "precious");
}
END_TEST

/* ---- outputs -------------------------------------------------------------- */

static gboolean
never_own (const char *path)
{
  return FALSE;
}

START_TEST (output_file_moves_into_place_only_on_commit)
{
  g_autofree char *target = path_in ("out.txt");
  write_text (target, "old");
  g_autoptr(GError) e = NULL;
  FtOutput *o = ft_output_begin (target, FT_OUTPUT_FILE, ft_output_dir_is_marked, TRUE, &e);
  ck_assert_msg (o != NULL, "%s", e ? e->message : "");
  ck_assert_str_ne (ft_output_get_path (o), target);
  write_text (ft_output_get_path (o), "new");
  g_autofree char *before = read_text (target);
  ck_assert_str_eq (before, "old");          /* untouched until commit */
  ck_assert (ft_output_commit (o, &e));
  g_autofree char *after = read_text (target);
  ck_assert_str_eq (after, "new");
  ck_assert_uint_eq (count_entries (tmpdir), 1);   /* no temporary left */

  /* abort leaves the old one and nothing else */
  o = ft_output_begin (target, FT_OUTPUT_FILE, NULL, TRUE, &e);
  write_text (ft_output_get_path (o), "half");
  ft_output_abort (o);
  g_autofree char *kept = read_text (target);
  ck_assert_str_eq (kept, "new");
  ck_assert_uint_eq (count_entries (tmpdir), 1);
}
END_TEST

START_TEST (output_refuses_what_is_not_ours)
{
  g_autofree char *target = path_in ("notes.txt");
  write_text (target, "a user's notes");
  g_autoptr(GError) e = NULL;
  FtOutput *o = ft_output_begin (target, FT_OUTPUT_SQLITE, ft_output_is_ft_sqlite, FALSE, &e);
  ck_assert (o == NULL);
  ck_assert_int_eq (e->code, FT_FILE_ERROR_NOT_OURS);
  ck_assert (strstr (e->message, "notes.txt") != NULL && strstr (e->message, "--force") != NULL);
  g_clear_error (&e);
  g_autofree char *t = read_text (target);
  ck_assert_str_eq (t, "a user's notes");
  ck_assert_uint_eq (count_entries (tmpdir), 1);

  /* a folder where a file goes, a file where a folder goes, a link */
  g_autofree char *dir = path_in ("dir");
  ck_assert_int_eq (g_mkdir (dir, 0755), 0);
  ck_assert (ft_output_begin (dir, FT_OUTPUT_FILE, NULL, TRUE, &e) == NULL);
  g_clear_error (&e);
  ck_assert (ft_output_begin (target, FT_OUTPUT_DIR, NULL, TRUE, &e) == NULL);
  g_clear_error (&e);
  g_autofree char *link = path_in ("link");
  ck_assert_int_eq (symlink (dir, link), 0);
  ck_assert (ft_output_begin (link, FT_OUTPUT_DIR, NULL, TRUE, &e) == NULL);
  ck_assert (strstr (e->message, "symbolic link") != NULL);
  g_clear_error (&e);

  /* an empty file or folder holds nothing to lose */
  g_autofree char *empty = path_in ("empty.db");
  write_text (empty, "");
  FtOutput *ok = ft_output_begin (empty, FT_OUTPUT_SQLITE, never_own, FALSE, &e);
  ck_assert (ok != NULL);
  ft_output_abort (ok);
  ok = ft_output_begin (dir, FT_OUTPUT_DIR, never_own, FALSE, &e);
  ck_assert (ok != NULL);
  ft_output_abort (ok);

  /* --force replaces */
  ok = ft_output_begin (target, FT_OUTPUT_FILE, never_own, TRUE, &e);
  ck_assert (ok != NULL);
  write_text (ft_output_get_path (ok), "forced");
  ck_assert (ft_output_commit (ok, &e));
}
END_TEST

START_TEST (output_dir_replaces_marked_and_keeps_links_targets)
{
  g_autofree char *outside = path_in ("victim");
  g_autofree char *keep = path_in ("victim/keep.txt");
  ck_assert_int_eq (g_mkdir (outside, 0755), 0);
  write_text (keep, "precious");
  g_autofree char *feed = path_in ("feed");
  g_autoptr(GError) e = NULL;

  FtOutput *o = ft_output_begin (feed, FT_OUTPUT_DIR, ft_output_dir_is_marked, FALSE, &e);
  ck_assert_msg (o != NULL, "%s", e ? e->message : "");
  g_autofree char *f = g_build_filename (ft_output_get_path (o), "gbfs.json", NULL);
  write_text (f, "{}");
  ck_assert (ft_output_commit (o, &e));
  ck_assert (ft_output_dir_is_marked (feed));

  /* someone puts a link to a folder of theirs inside our output */
  g_autofree char *link = path_in ("feed/link");
  ck_assert_int_eq (symlink (outside, link), 0);
  o = ft_output_begin (feed, FT_OUTPUT_DIR, ft_output_dir_is_marked, FALSE, &e);
  ck_assert (o != NULL);
  ck_assert (ft_output_commit (o, &e));
  g_autofree char *t = read_text (keep);
  ck_assert_str_eq (t, "precious");
  ck_assert (!g_file_test (link, G_FILE_TEST_EXISTS));

  /* a folder of someone else's is refused, with or without a link inside */
  g_autofree char *theirs = path_in ("theirs");
  g_autofree char *theirs_file = path_in ("theirs/data.json");
  ck_assert_int_eq (g_mkdir (theirs, 0755), 0);
  write_text (theirs_file, "{\"mine\": true}");
  ck_assert (ft_output_begin (theirs, FT_OUTPUT_DIR, ft_output_dir_is_marked, FALSE, &e) == NULL);
  ck_assert_int_eq (e->code, FT_FILE_ERROR_NOT_OURS);
  ck_assert (g_file_test (theirs_file, G_FILE_TEST_IS_REGULAR));
}
END_TEST

START_TEST (sweep_removes_only_dead_writers_temporaries)
{
  g_autofree char *target = path_in ("run.db");
  pid_t dead = dead_pid ();
  g_autofree char *stale = g_strdup_printf ("%s/.run.db.ft-tmp-%ld-ABCDEF", tmpdir, (long) dead);
  g_autofree char *stale_wal = g_strconcat (stale, "-wal", NULL);
  g_autofree char *stale_dir = g_strdup_printf ("%s/.run.db.ft-tmp-%ld-old-1", tmpdir, (long) dead);
  g_autofree char *live = g_strdup_printf ("%s/.run.db.ft-tmp-%ld-XYZ", tmpdir, (long) getppid ());
  g_autofree char *other = g_strdup_printf ("%s/.other.db.ft-tmp-%ld-ABCDEF", tmpdir, (long) dead);
  write_text (stale, "x");
  write_text (stale_wal, "x");
  ck_assert_int_eq (g_mkdir (stale_dir, 0755), 0);
  write_text (other, "x");
  write_text (live, "x");
  /* the live one must look recent to its (long-running) writer */
  ck_assert_uint_eq (ft_output_sweep (target), 3);
  ck_assert (!g_file_test (stale, G_FILE_TEST_EXISTS));
  ck_assert (!g_file_test (stale_wal, G_FILE_TEST_EXISTS));
  ck_assert (!g_file_test (stale_dir, G_FILE_TEST_EXISTS));
  ck_assert (g_file_test (other, G_FILE_TEST_EXISTS));   /* another target's */
  ck_assert (g_file_test (live, G_FILE_TEST_EXISTS));    /* its writer runs */

  /* beginning an output sweeps too */
  write_text (stale, "x");
  g_autoptr(GError) e = NULL;
  FtOutput *o = ft_output_begin (target, FT_OUTPUT_SQLITE, NULL, FALSE, &e);
  ck_assert (o != NULL);
  ck_assert (!g_file_test (stale, G_FILE_TEST_EXISTS));
  ft_output_abort (o);
}
END_TEST

START_TEST (sqlite_application_id)
{
  g_autofree char *p = path_in ("x.db");
  guint8 h[100] = "SQLite format 3";
  h[68] = 0x46; h[69] = 0x54; h[70] = 0x57; h[71] = 0x49;
  ck_assert (g_file_set_contents (p, (const char *) h, sizeof h, NULL));
  ck_assert (ft_output_is_ft_sqlite (p));
  h[71] = 0;
  ck_assert (g_file_set_contents (p, (const char *) h, sizeof h, NULL));
  ck_assert (!ft_output_is_ft_sqlite (p));
  write_text (p, "plain text that is long enough to fill an SQLite header's hundred bytes, or nearly so ....");
  guint32 id;
  ck_assert (!ft_output_sqlite_app_id (p, &id));
}
END_TEST

/* ---- JSON ------------------------------------------------------------------ */

START_TEST (json_deep_nesting_is_refused_not_a_crash)
{
  /* depth 80,000 in 160 KB overflowed the stack of every reader */
  gsize depth = 80000;
  GString *s = g_string_sized_new (depth * 2);
  for (gsize i = 0; i < depth; i++)
    g_string_append_c (s, '[');
  for (gsize i = 0; i < depth; i++)
    g_string_append_c (s, ']');
  g_autoptr(GError) e = NULL;
  JsonNode *n = ft_json_parse (s->str, (gssize) s->len, "deep.json", 0, 0, &e);
  ck_assert (n == NULL);
  ck_assert_int_eq (e->code, FT_JSON_ERROR_TOO_DEEP);
  ck_assert (strstr (e->message, "deep.json") != NULL);
  g_string_free (s, TRUE);

  /* brackets inside strings do not count */
  ck_assert_uint_eq (ft_json_depth ("{\"a\": \"[[[[\\\"[[[\"}", 17, 64), 1);
  g_autoptr(JsonNode) ok = ft_json_parse ("{\"a\": [[1]], \"b\": \"[[[[[\"}", -1, "x", 3, 0, &e);
  ck_assert (ok != NULL);
}
END_TEST

START_TEST (json_limits_and_syntax_errors_name_the_source)
{
  g_autoptr(GError) e = NULL;
  ck_assert (ft_json_parse ("{\"a\": 1}", -1, "small.json", 0, 4, &e) == NULL);
  ck_assert_int_eq (e->code, FT_JSON_ERROR_TOO_LARGE);
  g_clear_error (&e);
  ck_assert (ft_json_parse ("{\"a\": \0}", 8, "nul.json", 0, 0, &e) == NULL);
  ck_assert_int_eq (e->code, FT_JSON_ERROR_SYNTAX);
  g_clear_error (&e);
  ck_assert (ft_json_parse ("{\"a\": }", -1, "bad.json", 0, 0, &e) == NULL);
  ck_assert_int_eq (e->code, FT_JSON_ERROR_SYNTAX);
  ck_assert (strstr (e->message, "bad.json") != NULL);
  g_clear_error (&e);
  ck_assert (ft_json_parse ("", 0, "empty.json", 0, 0, &e) == NULL);
  g_clear_error (&e);
  /* json-glib reads "\222" as the byte 0x92: text that is not UTF-8, which
   * the writer then emits (found by tests/fuzz, pricing). Only JSON's own
   * escapes are accepted. */
  const char *bad_escapes[] = { "{\"a\": \"Mi\\222\"}", "{\"a\": \"\\x41\"}", "[\"\\u12\"]", "[\"\\", };
  for (guint i = 0; i < G_N_ELEMENTS (bad_escapes); i++)
    {
      ck_assert_msg (ft_json_parse (bad_escapes[i], -1, "esc.json", 0, 0, &e) == NULL, "%s parsed", bad_escapes[i]);
      ck_assert_int_eq (e->code, FT_JSON_ERROR_SYNTAX);
      ck_assert_msg (strstr (e->message, "esc.json") != NULL, "%s", e->message);
      g_clear_error (&e);
    }
  g_autoptr(JsonNode) ok = ft_json_parse ("[\"\\\" \\\\ \\/ \\b \\f \\n \\r \\t \\u00e9\"]", -1, "ok.json", 0, 0, &e);
  ck_assert_msg (ok != NULL, "%s", e ? e->message : "");
  ck_assert (ft_json_load_file ("/dev/zero", &e) == NULL);
  g_clear_error (&e);
}
END_TEST

START_TEST (json_getters_never_warn)
{
  /* the test runs with every GLib critical and warning fatal */
  g_autoptr(GError) e = NULL;
  g_autoptr(JsonNode) n = ft_json_parse ("{\"s\": 5, \"d\": \"x\", \"o\": [], \"a\": {}, \"b\": 1, \"i\": 2.5,"
                                         " \"n\": null, \"ok\": 3}", -1, "t", 0, 0, &e);
  JsonObject *o = ft_json_object_of (n);
  ck_assert (o != NULL);
  double d;
  gint64 i;
  gboolean b;
  ck_assert (ft_json_get_string (o, "s") == NULL);
  ck_assert (!ft_json_get_double (o, "d", &d));
  ck_assert (ft_json_get_object (o, "o") == NULL);
  ck_assert (ft_json_get_array (o, "a") == NULL);
  ck_assert (!ft_json_get_bool (o, "b", &b));
  ck_assert (!ft_json_get_int (o, "i", &i));
  ck_assert (!ft_json_get_double (o, "n", &d));
  ck_assert (ft_json_get_string (o, "missing") == NULL);
  ck_assert (ft_json_get_int (o, "ok", &i) && i == 3);
  ck_assert (ft_json_array_object (NULL, 0) == NULL);
  ck_assert (ft_json_require_string (o, "s", "feature 3", &e) == NULL);
  ck_assert (strstr (e->message, "feature 3") != NULL && strstr (e->message, "\"s\"") != NULL);
}
END_TEST

START_TEST (json_writer_escapes)
{
  const char *nasty = "id\"with\\quotes\n\t\x01 and \xff bytes";
  GString *s = g_string_new ("{\"id\": ");
  ft_json_append_string (s, nasty);
  g_string_append (s, "}");
  g_autoptr(GError) e = NULL;
  g_autoptr(JsonNode) n = ft_json_parse (s->str, -1, "written", 0, 0, &e);
  ck_assert_msg (n != NULL, "%s: %s", s->str, e ? e->message : "");
  const char *back = ft_json_get_string (ft_json_object_of (n), "id");
  ck_assert (g_str_has_prefix (back, "id\"with\\quotes\n\t\x01 and "));
  g_string_free (s, TRUE);
}
END_TEST

/* Found by tests/fuzz (pricing): json-glib 1.6 wrote 2e41 as "2e+41.0". */
START_TEST (json_numbers_written_parse_again)
{
  const double values[] = { 2e41, -2e41, 1e17, 1e300, 3e-05, 5e-324, 1.5e20, 0.1, 40.0, -7.25, 1e15,
                            9.2e18, 1e19, NAN, INFINITY };
  for (guint i = 0; i < G_N_ELEMENTS (values); i++)
    {
      double v = values[i];
      g_autoptr(JsonBuilder) b = json_builder_new ();
      json_builder_begin_object (b);
      json_builder_set_member_name (b, "v");
      ft_json_builder_add_number (b, v);
      json_builder_end_object (b);
      g_autoptr(JsonNode) root = json_builder_get_root (b);
      g_autofree char *text = ft_json_to_string (root, FALSE);
      g_autoptr(GError) e = NULL;
      g_autoptr(JsonNode) n = ft_json_parse (text, -1, "written", 0, 0, &e);
      ck_assert_msg (n != NULL, "%g written as %s: %s", v, text, e ? e->message : "");
      JsonObject *o = ft_json_object_of (n);
      if (!isfinite (v))
        {
          ck_assert (JSON_NODE_HOLDS_NULL (json_object_get_member (o, "v")));
          continue;
        }
      double back = 0;
      ck_assert (ft_json_get_double (o, "v", &back));
      /* exact, or at most one step nearer zero */
      ck_assert_msg (back == v || back == nextafter (v, 0.0), "%.17g came back as %.17g (%s)", v, back,
                     text);
    }
}
END_TEST

static Suite *
file_suite (void)
{
  Suite *s = suite_create ("file");
  TCase *tc = tcase_create ("read");
  tcase_add_checked_fixture (tc, setup, teardown);
  tcase_add_test (tc, read_regular_file);
  tcase_add_test (tc, read_refuses_devices_fifos_folders_and_large_files);
  tcase_add_test (tc, remove_tree_never_follows_links);
  suite_add_tcase (s, tc);
  tc = tcase_create ("output");
  tcase_add_checked_fixture (tc, setup, teardown);
  tcase_add_test (tc, output_file_moves_into_place_only_on_commit);
  tcase_add_test (tc, output_refuses_what_is_not_ours);
  tcase_add_test (tc, output_dir_replaces_marked_and_keeps_links_targets);
  tcase_add_test (tc, sweep_removes_only_dead_writers_temporaries);
  tcase_add_test (tc, sqlite_application_id);
  suite_add_tcase (s, tc);
  tc = tcase_create ("json");
  tcase_add_test (tc, json_deep_nesting_is_refused_not_a_crash);
  tcase_add_test (tc, json_limits_and_syntax_errors_name_the_source);
  tcase_add_test (tc, json_getters_never_warn);
  tcase_add_test (tc, json_writer_escapes);
  tcase_add_test (tc, json_numbers_written_parse_again);
  suite_add_tcase (s, tc);
  return s;
}

int
main (void)
{
  g_log_set_always_fatal (G_LOG_LEVEL_CRITICAL | G_LOG_LEVEL_WARNING);
  SRunner *sr = srunner_create (file_suite ());
  srunner_run_all (sr, CK_NORMAL);
  int failed = srunner_ntests_failed (sr);
  srunner_free (sr);
  return failed == 0 ? 0 : 1;
}
