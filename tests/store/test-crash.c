/* test-crash.c — crash safety. Runs crash-writer (argv[1]) on one file,
 * SIGKILLs it at a different moment each round (after a random number of
 * reported commits plus a random delay, so some kills land inside a
 * transaction), restarts it on the same file, and after every kill checks:
 * every event reported committed is there, seqs have no gaps, state tables
 * agree with the event log (no partial transaction), PRAGMA integrity_check
 * is ok, the ledger balances and ft_store_load's invariant checks pass.
 */
#include <check.h>
#include <glib/gstdio.h>
#include <signal.h>
#include <sqlite3.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "ft-store.h"
#include "store-world.h"

static const char *writer_path;

typedef struct {
  guint64 last_reported;
  guint   n_lines;
} Reported;

/* Read "committed N" lines from fd; stop after `stop_after` lines
 * (0 = until EOF). */
static void
read_reports (int fd, GString *buf, Reported *rep, guint stop_after)
{
  char chunk[4096];

  for (;;)
    {
      char *nl;
      ssize_t n;

      while ((nl = strchr (buf->str, '\n')))
        {
          guint64 seq;
          *nl = '\0';
          ck_assert_msg (sscanf (buf->str, "committed %" G_GUINT64_FORMAT, &seq) == 1,
                         "writer printed '%s'", buf->str);
          ck_assert_uint_ge (seq, rep->last_reported);
          rep->last_reported = seq;
          rep->n_lines++;
          g_string_erase (buf, 0, nl - buf->str + 1);
          if (stop_after && rep->n_lines >= stop_after)
            return;
        }
      n = read (fd, chunk, sizeof chunk - 1);
      if (n <= 0)
        return;
      g_string_append_len (buf, chunk, n);
    }
}

static gint64
q_int (sqlite3 *db, const char *sql)
{
  sqlite3_stmt *st = NULL;
  gint64 v = -1;

  ck_assert_int_eq (sqlite3_prepare_v2 (db, sql, -1, &st, NULL), SQLITE_OK);
  if (sqlite3_step (st) == SQLITE_ROW)
    v = sqlite3_column_int64 (st, 0);
  sqlite3_finalize (st);
  return v;
}

static int
state_after (int kind)
{
  switch (kind)
    {
    case FT_EV_BOOKING_RESERVED: return FT_BK_RESERVED;
    case FT_EV_BOOKING_UNLOCKED: return FT_BK_ACTIVE;
    case FT_EV_BOOKING_RESUMED: return FT_BK_ACTIVE;
    case FT_EV_BOOKING_PAUSED: return FT_BK_PAUSED;
    case FT_EV_BOOKING_ENDED: return FT_BK_ENDED;
    case FT_EV_BOOKING_CANCELLED: return FT_BK_CANCELLED;
    case FT_EV_BOOKING_EXPIRED: return FT_BK_EXPIRED;
    default: return -1;
    }
}

/* Every check the brief asks for, on the file as the kill left it. */
static void
verify_file (const char *path, const Reported *rep, guint round)
{
  g_autoptr(GError) err = NULL;
  g_autoptr(World) core = world_new (1);
  FtStoreTargets t = world_targets (core);
  FtStore *s = ft_store_open (path, NULL, &err);
  sqlite3 *db;
  sqlite3_stmt *st = NULL;
  GHashTable *last_kind;
  gint64 max_seq, n_bookings = 0;

  ck_assert_msg (s != NULL, "round %u: reopen: %s", round, err ? err->message : "");
  db = ft_store_get_db (s);
  ck_assert_msg (ft_store_integrity_ok (s, &err), "round %u: %s", round, err ? err->message : "");

  /* every reported commit is there, and the seqs are 1..max without gaps */
  max_seq = q_int (db, "SELECT coalesce(max(seq), 0) FROM events");
  ck_assert_msg ((guint64) max_seq >= rep->last_reported,
                 "round %u: writer reported seq %" G_GUINT64_FORMAT " committed but the file "
                 "ends at %" G_GINT64_FORMAT, round, rep->last_reported, max_seq);
  ck_assert_int_eq (q_int (db, "SELECT count(*) FROM events"), max_seq);
  ck_assert_int_eq (q_int (db, "SELECT min(seq) FROM events"), 1);

  /* no partial transaction: state tables agree with the event log */
  ck_assert_int_eq (q_int (db, "SELECT count(*) FROM ledger_tx"),
                    q_int (db, "SELECT count(*) FROM events WHERE kind = 18"));
  ck_assert_int_eq (q_int (db, "SELECT coalesce(sum(n_postings), 0) FROM ledger_tx"),
                    q_int (db, "SELECT count(*) FROM ledger_postings"));
  ck_assert_int_eq (q_int (db, "SELECT count(*) FROM ledger_postings WHERE amount IS NULL"), 0);
  ck_assert_int_eq (q_int (db, "SELECT count(*) FROM vehicles"),
                    q_int (db, "SELECT count(*) FROM events WHERE kind = 1"));
  ck_assert_int_eq (q_int (db, "SELECT count(*) FROM accounts"),
                    q_int (db, "SELECT count(*) FROM events WHERE kind = 8"));
  G_STATIC_ASSERT (FT_EV_LEDGER_TX == 18 && FT_EV_VEHICLE_ADDED == 1 && FT_EV_ACCOUNT_CREATED == 8);

  /* each booking is in the state its last event says */
  last_kind = g_hash_table_new (g_int64_hash, g_int64_equal);
  {
    GArray *keys = g_array_new (FALSE, FALSE, sizeof (gint64));
    GArray *kinds = g_array_new (FALSE, FALSE, sizeof (int));
    ck_assert_int_eq (sqlite3_prepare_v2 (db, "SELECT ref, kind FROM events WHERE kind BETWEEN "
                                          "10 AND 16 ORDER BY seq", -1, &st, NULL), SQLITE_OK);
    G_STATIC_ASSERT (FT_EV_BOOKING_RESERVED == 10 && FT_EV_BOOKING_ENDED == 16);
    while (sqlite3_step (st) == SQLITE_ROW)
      {
        gint64 ref = sqlite3_column_int64 (st, 0);
        int kind = sqlite3_column_int (st, 1);
        g_array_append_val (keys, ref);
        g_array_append_val (kinds, kind);
      }
    sqlite3_finalize (st);
    /* keys array never reallocates after this point, so pointers into it are stable */
    for (guint i = 0; i < keys->len; i++)
      g_hash_table_insert (last_kind, &g_array_index (keys, gint64, i),
                           GINT_TO_POINTER (g_array_index (kinds, int, i)));
    ck_assert_int_eq (sqlite3_prepare_v2 (db, "SELECT id, state FROM bookings", -1, &st, NULL), SQLITE_OK);
    while (sqlite3_step (st) == SQLITE_ROW)
      {
        gint64 id = sqlite3_column_int64 (st, 0);
        int state = sqlite3_column_int (st, 1);
        gpointer k = NULL;
        ck_assert_msg (g_hash_table_lookup_extended (last_kind, &id, NULL, &k),
                       "round %u: booking %" G_GINT64_FORMAT " has no events", round, id);
        ck_assert_msg (state_after (GPOINTER_TO_INT (k)) == state,
                       "round %u: booking %" G_GINT64_FORMAT " is in state %d but its last "
                       "event is %s", round, id, state, ft_event_kind_name (GPOINTER_TO_INT (k)));
        n_bookings++;
      }
    sqlite3_finalize (st);
    ck_assert_int_eq (n_bookings, g_hash_table_size (last_kind));
    g_hash_table_unref (last_kind);
    g_array_unref (keys);
    g_array_unref (kinds);
  }

  /* all invariants, through the real load */
  ck_assert_msg (ft_store_load (s, &t, &err), "round %u: load: %s", round, err ? err->message : "");
  ck_assert_msg (ft_ledger_check (core->ledger, &err), "round %u: %s", round, err ? err->message : "");
  ck_assert_msg (world_check (core, &err), "round %u: %s", round, err ? err->message : "");
  ck_assert_int_eq (ft_booking_n (core->booking), n_bookings);
  ck_assert_uint_eq (ft_event_log_last_seq (core->log), (guint64) max_seq);
  ft_store_close (s);
}

START_TEST (test_sigkill_mid_stream)
{
  g_autofree char *dir = g_dir_make_tmp ("ft-crash-XXXXXX", NULL);
  g_autofree char *path = g_build_filename (dir, "crash.db", NULL);
  g_autoptr(GRand) rng = g_rand_new_with_seed (20261124);
  Reported total = { 0, 0 };
  const guint rounds = 8;

  for (guint round = 0; round < rounds; round++)
    {
      g_autoptr(GError) err = NULL;
      g_autofree char *seed = g_strdup_printf ("%u", 1000 + round);
      g_autofree char *batch = g_strdup_printf ("%d", 16 << (round % 4));
      char *argv[] = { (char *) writer_path, path, seed, batch, NULL };
      g_autoptr(GString) buf = g_string_new (NULL);
      Reported rep = { 0, 0 };
      guint stop_after = (guint) g_rand_int_range (rng, 3, 80);
      GPid pid;
      int out_fd, status;

      ck_assert_msg (g_spawn_async_with_pipes (NULL, argv, NULL, G_SPAWN_DO_NOT_REAP_CHILD, NULL, NULL,
                                               &pid, NULL, &out_fd, NULL, &err),
                     "spawn %s: %s", writer_path, err ? err->message : "");
      read_reports (out_fd, buf, &rep, stop_after);
      ck_assert_msg (rep.n_lines >= stop_after, "round %u: writer stopped after %u commits",
                     round, rep.n_lines);
      /* land the kill at a different point of the stream each round */
      g_usleep ((gulong) g_rand_int_range (rng, 0, 20000));
      ck_assert_int_eq (kill (pid, SIGKILL), 0);
      /* anything printed before the kill was reported committed too */
      read_reports (out_fd, buf, &rep, 0);
      close (out_fd);
      ck_assert_int_eq (waitpid (pid, &status, 0), pid);
      ck_assert_msg (WIFSIGNALED (status) && WTERMSIG (status) == SIGKILL,
                     "round %u: writer exited on its own (status %d)", round, status);
      g_spawn_close_pid (pid);

      ck_assert_uint_ge (rep.last_reported, total.last_reported);
      total.last_reported = rep.last_reported;
      total.n_lines += rep.n_lines;
      verify_file (path, &rep, round);
    }
  ck_assert_uint_gt (total.n_lines, rounds * 3);

  ck_assert (ft_store_remove_files (path, NULL));
  g_rmdir (dir);
}
END_TEST

int
main (int argc, char **argv)
{
  Suite *s = suite_create ("store-crash");
  TCase *tc = tcase_create ("sigkill mid stream");
  SRunner *sr;
  int failed;

  if (argc < 2)
    {
      g_printerr ("usage: test-crash PATH-TO-CRASH-WRITER\n");
      return 2;
    }
  writer_path = argv[1];
  tcase_add_test (tc, test_sigkill_mid_stream);
  tcase_set_timeout (tc, 240);
  suite_add_tcase (s, tc);
  sr = srunner_create (s);
  srunner_run_all (sr, CK_NORMAL);
  failed = srunner_ntests_failed (sr);
  srunner_free (sr);
  return failed == 0 ? 0 : 1;
}
