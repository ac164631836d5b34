/* test-store.c — the SQLite store: migrations on fresh and old files,
 * refusal of newer schemas and of files that are not stores, round trips of
 * every entity through commit and load, meta, group-commit bounds, failed
 * commits leaving state untouched, and tampered files caught on load.
 */
#include <check.h>
#include <glib/gstdio.h>
#include <sqlite3.h>
#include <string.h>

#include "ft-test.h"
#include "ft-store-private.h"
#include "store-world.h"

static char *tmpdir;
static char *dbpath;

static void post_wide_adjust (World *core, FtTime t);

static void
setup (void)
{
  tmpdir = g_dir_make_tmp ("ft-store-XXXXXX", NULL);
  ck_assert_ptr_nonnull (tmpdir);
  dbpath = g_build_filename (tmpdir, "twin.db", NULL);
}

static void
teardown (void)
{
  ft_test_rm_rf (tmpdir);
  g_clear_pointer (&tmpdir, g_free);
  g_clear_pointer (&dbpath, g_free);
}

/* Run one SQL statement on a raw connection (to build and tamper files). */
static void
raw_exec (const char *path, const char *sql)
{
  sqlite3 *db = NULL;
  char *msg = NULL;

  ck_assert_int_eq (sqlite3_open (path, &db), SQLITE_OK);
  if (sqlite3_exec (db, sql, NULL, NULL, &msg) != SQLITE_OK)
    ck_abort_msg ("raw sql failed: %s: %s", sql, msg);
  sqlite3_close (db);
}

static gint64
raw_int (FtStore *s, const char *sql)
{
  sqlite3_stmt *st = NULL;
  gint64 v = -1;

  ck_assert_int_eq (sqlite3_prepare_v2 (ft_store_get_db (s), sql, -1, &st, NULL), SQLITE_OK);
  if (sqlite3_step (st) == SQLITE_ROW)
    v = sqlite3_column_int64 (st, 0);
  sqlite3_finalize (st);
  return v;
}

/* ------------------------------------------------------------ migrations */

START_TEST (test_fresh_file)
{
  g_autoptr(GError) err = NULL;
  g_autoptr(FtStore) s = ft_store_open (dbpath, NULL, &err);

  ck_assert_msg (s != NULL, "%s", err ? err->message : "");
  ck_assert_int_eq (ft_store_schema_version (s), FT_STORE_SCHEMA_LATEST);
  ck_assert_int_eq (raw_int (s, "PRAGMA user_version"), FT_STORE_SCHEMA_LATEST);
  ck_assert_int_eq (raw_int (s, "SELECT count(*) FROM sqlite_schema WHERE type = 'table' AND name IN "
                             "('events','vehicles','vehicle_state','packs','accounts',"
                             "'ledger_accounts','ledger_tx','postings','bookings','meta','tasks')"), 11);
  /* derived, not stored (schema 4) */
  ck_assert_int_eq (raw_int (s, "SELECT count(*) FROM sqlite_schema WHERE type = 'view' AND name IN "
                             "('ledger_postings','ledger_balances','account_trips')"), 3);
  {
    sqlite3_stmt *st = NULL;
    sqlite3_prepare_v2 (ft_store_get_db (s), "PRAGMA journal_mode", -1, &st, NULL);
    ck_assert_int_eq (sqlite3_step (st), SQLITE_ROW);
    ck_assert_str_eq ((const char *) sqlite3_column_text (st, 0), "wal");
    sqlite3_finalize (st);
  }
  ck_assert_uint_eq (ft_store_n_events (s), 0);
  ck_assert (ft_store_integrity_ok (s, &err));
  ft_store_close (g_steal_pointer (&s));

  /* reopening an up-to-date file changes nothing */
  s = ft_store_open (dbpath, NULL, &err);
  ck_assert_msg (s != NULL, "%s", err ? err->message : "");
  ck_assert_int_eq (ft_store_schema_version (s), FT_STORE_SCHEMA_LATEST);
}
END_TEST

START_TEST (test_migrate_existing)
{
  g_autoptr(GError) err = NULL;
  g_autoptr(World) core = world_new (7);
  g_autoptr(World) back = world_new (7);
  FtStoreTargets t;
  FtStore *s;
  g_autofree char *v = NULL;

  /* An old (version 1) file with data in it */
  s = ft_store_open_at_version (dbpath, NULL, 1, &err);
  ck_assert_msg (s != NULL, "%s", err ? err->message : "");
  ck_assert_int_eq (ft_store_schema_version (s), 1);
  ck_assert (!ft_store_put_meta (s, "k", "v", &err));
  ck_assert (g_error_matches (err, FT_STORE_ERROR, FT_STORE_ERROR_SCHEMA));
  g_clear_error (&err);
  ck_assert_ptr_null (ft_store_dup_meta (s, "k"));
  world_populate (core, 6, 2, 3, 5000, 1000);
  ck_assert (world_lifecycle (core, 0, 1, 2000, &err) >= 0);
  post_wide_adjust (core, 3000);
  t = world_targets (core);
  ck_assert_msg (ft_store_commit (s, &t, &err), "%s", err ? err->message : "");
  {
    guint n_postings = 0;
    ft_ledger_postings (core->ledger, &n_postings);
    ck_assert_int_eq (raw_int (s, "SELECT count(*) FROM postings"), n_postings);
  }
  ft_store_close (s);

  /* Opening migrates it to the latest version and keeps the data */
  s = ft_store_open (dbpath, NULL, &err);
  ck_assert_msg (s != NULL, "%s", err ? err->message : "");
  ck_assert_int_eq (ft_store_schema_version (s), FT_STORE_SCHEMA_LATEST);
  ck_assert_int_eq (raw_int (s, "PRAGMA user_version"), FT_STORE_SCHEMA_LATEST);
  ck_assert (ft_store_put_meta (s, "k", "v", &err));
  v = ft_store_dup_meta (s, "k");
  ck_assert_str_eq (v, "v");
  /* version 3 moved the first four postings of each transaction into its
   * row: only the wide adjustment's last two stay in the postings table,
   * and the ledger_postings view still shows them all */
  ck_assert_int_eq (raw_int (s, "SELECT count(*) FROM postings"), 2);
  {
    guint n_postings = 0;
    ft_ledger_postings (core->ledger, &n_postings);
    ck_assert_int_eq (raw_int (s, "SELECT count(*) FROM ledger_postings"), n_postings);
    ck_assert_int_eq (raw_int (s, "SELECT count(*) FROM ledger_postings WHERE ledger_account IS NULL"), 0);
  }
  t = world_targets (back);
  ck_assert_msg (ft_store_load (s, &t, &err), "%s", err ? err->message : "");
  ck_assert_uint_eq (ft_fleet_n_vehicles (back->fleet), 6);
  ck_assert_uint_eq (ft_booking_n (back->booking), 1);
  ck_assert_int_eq (ft_ledger_n_tx (back->ledger), ft_ledger_n_tx (core->ledger));
  {
    /* (a version-1 file has no meta, so vans and depots are not compared) */
    guint na = 0, nb = 0, i;
    const FtPosting *pa = ft_ledger_postings (core->ledger, &na);
    const FtPosting *pb = ft_ledger_postings (back->ledger, &nb);

    ck_assert_uint_eq (na, nb);
    for (i = 0; i < na; i++)
      {
        ck_assert_int_eq (pa[i].ledger_account, pb[i].ledger_account);
        ck_assert_int_eq (pa[i].amount, pb[i].amount);
      }
  }
  ft_store_close (s);
}
END_TEST

START_TEST (test_newer_schema_refused)
{
  g_autoptr(GError) err = NULL;
  FtStore *s = ft_store_open (dbpath, NULL, &err);

  ck_assert_ptr_nonnull (s);
  ft_store_close (s);
  raw_exec (dbpath, "PRAGMA user_version = 99");
  s = ft_store_open (dbpath, NULL, &err);
  ck_assert_ptr_null (s);
  ck_assert (g_error_matches (err, FT_STORE_ERROR, FT_STORE_ERROR_SCHEMA));
  ck_assert_msg (strstr (err->message, "99") && strstr (err->message, "newer") &&
                 strstr (err->message, dbpath), "unhelpful message: %s", err->message);
}
END_TEST

START_TEST (test_garbage_refused)
{
  g_autoptr(GError) err = NULL;
  g_autofree char *junk = g_strnfill (8192, 'x');
  g_autofree char *foreign = g_build_filename (tmpdir, "foreign.db", NULL);
  g_autofree char *missing = g_build_filename (tmpdir, "no", "such", "dir.db", NULL);
  FtStore *s;

  /* a text file */
  ck_assert (g_file_set_contents (dbpath, junk, -1, NULL));
  s = ft_store_open (dbpath, NULL, &err);
  ck_assert_ptr_null (s);
  ck_assert (g_error_matches (err, FT_STORE_ERROR, FT_STORE_ERROR_OPEN));
  ck_assert_msg (strstr (err->message, "not a Fleet Twin database") && strstr (err->message, dbpath),
                 "unhelpful message: %s", err->message);
  g_clear_error (&err);
  /* the file is left alone */
  {
    g_autofree char *back = NULL;
    ck_assert (g_file_get_contents (dbpath, &back, NULL, NULL));
    ck_assert_str_eq (back, junk);
  }

  /* another program's SQLite database */
  raw_exec (foreign, "CREATE TABLE songs (title TEXT)");
  s = ft_store_open (foreign, NULL, &err);
  ck_assert_ptr_null (s);
  ck_assert (g_error_matches (err, FT_STORE_ERROR, FT_STORE_ERROR_OPEN));
  ck_assert_msg (strstr (err->message, "not a Fleet Twin store"), "%s", err->message);
  g_clear_error (&err);
  raw_exec (foreign, "DROP TABLE songs; PRAGMA application_id = 1234");
  s = ft_store_open (foreign, NULL, &err);
  ck_assert_ptr_null (s);
  ck_assert (g_error_matches (err, FT_STORE_ERROR, FT_STORE_ERROR_OPEN));
  g_clear_error (&err);

  /* a path that cannot be created */
  s = ft_store_open (missing, NULL, &err);
  ck_assert_ptr_null (s);
  ck_assert (g_error_matches (err, FT_STORE_ERROR, FT_STORE_ERROR_OPEN));
  ck_assert_msg (strstr (err->message, missing), "%s", err->message);
}
END_TEST

/* ------------------------------------------------------------ round trip */

static void
assert_same_state (World *a, World *b)
{
  guint i, n;
  const FtPosting *pa, *pb;
  guint npa, npb;

  ck_assert_uint_eq (ft_fleet_n_vehicles (a->fleet), ft_fleet_n_vehicles (b->fleet));
  for (i = 0; i < ft_fleet_n_vehicles (a->fleet); i++)
    {
      const FtVehicle *x = ft_fleet_get_vehicle (a->fleet, i), *y = ft_fleet_get_vehicle (b->fleet, i);
      ck_assert_uint_eq (x->index, y->index);
      ck_assert_str_eq (x->device_id, y->device_id);
      ck_assert_str_eq (x->name, y->name);
      ck_assert_int_eq (x->kind, y->kind);
      ck_assert_int_eq (x->state, y->state);
      ck_assert_int_eq (x->last_event, y->last_event);
      ck_assert_int_eq (x->state_since, y->state_since);
      ck_assert_double_eq (x->pos.lat, y->pos.lat);
      ck_assert_double_eq (x->pos.lon, y->pos.lon);
      ck_assert_int_eq (x->pack, y->pack);
      ck_assert_int_eq (x->booking, y->booking);
      ck_assert_double_eq (x->odometer_m, y->odometer_m);
      ck_assert_double_eq (x->wear, y->wear);
      ck_assert_uint_eq (x->fault_codes, y->fault_codes);
      ck_assert_int_eq (x->last_seen, y->last_seen);
      ck_assert_int_eq (x->resume_state, y->resume_state);
    }
  ck_assert_uint_eq (ft_fleet_n_vans (a->fleet), ft_fleet_n_vans (b->fleet));
  ck_assert_uint_eq (ft_fleet_n_depots (a->fleet), ft_fleet_n_depots (b->fleet));
  ck_assert_uint_eq (ft_fleet_n_packs (a->fleet), ft_fleet_n_packs (b->fleet));
  for (i = 0; i < ft_fleet_n_packs (a->fleet); i++)
    {
      const FtPack *x = ft_fleet_get_pack (a->fleet, i), *y = ft_fleet_get_pack (b->fleet, i);
      ck_assert_str_eq (x->id, y->id);
      ck_assert_double_eq (x->capacity_wh, y->capacity_wh);
      ck_assert_double_eq (x->soc, y->soc);
      ck_assert_double_eq (x->health, y->health);
      ck_assert_uint_eq (x->cycles, y->cycles);
      ck_assert_double_eq (x->throughput_wh, y->throughput_wh);
      ck_assert_int_eq (x->place, y->place);
      ck_assert_int_eq (x->holder, y->holder);
    }
  ck_assert_uint_eq (ft_accounts_n (a->accounts), ft_accounts_n (b->accounts));
  for (i = 0; i < ft_accounts_n (a->accounts); i++)
    {
      const FtAccount *x = ft_accounts_get (a->accounts, i), *y = ft_accounts_get (b->accounts, i);
      ck_assert_str_eq (x->id, y->id);
      ck_assert_uint_eq (x->roles, y->roles);
      ck_assert_pstr_eq (x->display_name, y->display_name);
      ck_assert_pstr_eq (x->email, y->email);
      ck_assert_str_eq (x->pseudonym, y->pseudonym);
      ck_assert_int_eq (!!x->erased, !!y->erased);
      ck_assert_int_eq (x->created, y->created);
      ck_assert_uint_eq (x->trips, y->trips);
    }
  ck_assert_uint_eq (ft_ledger_n_accounts (a->ledger), ft_ledger_n_accounts (b->ledger));
  for (i = 0; i < ft_ledger_n_accounts (a->ledger); i++)
    {
      const FtLedgerAccount *x = ft_ledger_get_account (a->ledger, i);
      const FtLedgerAccount *y = ft_ledger_get_account (b->ledger, i);
      ck_assert_str_eq (x->code, y->code);
      ck_assert_int_eq (x->type, y->type);
      ck_assert_int_eq (ft_ledger_balance (a->ledger, i), ft_ledger_balance (b->ledger, i));
      ck_assert_int_eq (x->owner, y->owner);
    }
  ck_assert_uint_eq (ft_ledger_n_tx (a->ledger), ft_ledger_n_tx (b->ledger));
  pa = ft_ledger_postings (a->ledger, &npa);
  pb = ft_ledger_postings (b->ledger, &npb);
  ck_assert_uint_eq (npa, npb);
  for (i = 0; i < ft_ledger_n_tx (a->ledger); i++)
    {
      const FtLedgerTx *x = ft_ledger_get_tx (a->ledger, i), *y = ft_ledger_get_tx (b->ledger, i);
      guint j;
      ck_assert_int_eq (x->kind, y->kind);
      ck_assert_int_eq (x->t, y->t);
      ck_assert_int_eq (x->user_account, y->user_account);
      ck_assert_uint_eq (x->n_postings, y->n_postings);
      ck_assert_int_eq (x->amount, y->amount);
      ck_assert_int_eq (x->ref, y->ref);
      ck_assert (x->idem_hash == y->idem_hash);
      ck_assert (x->args_hash == y->args_hash);
      for (j = 0; j < x->n_postings; j++)
        {
          ck_assert_int_eq (pa[x->first_posting + j].ledger_account, pb[y->first_posting + j].ledger_account);
          ck_assert_int_eq (pa[x->first_posting + j].amount, pb[y->first_posting + j].amount);
        }
    }
  n = ft_booking_n (a->booking);
  ck_assert_uint_eq (n, ft_booking_n (b->booking));
  for (i = 0; i < n; i++)
    {
      const FtBookingRec *x = ft_booking_get (a->booking, i), *y = ft_booking_get (b->booking, i);
      ck_assert ((x == NULL) == (y == NULL));
      if (!x)
        continue;
      ck_assert_mem_eq (x, y, offsetof (FtBookingRec, shown_zone_mult));
      char tx_[37], ty_[37];
      ck_assert (ft_booking_trip_id (a->booking, i, tx_) == ft_booking_trip_id (b->booking, i, ty_));
      ck_assert_str_eq (tx_, ty_);
    }
  for (i = 0; i < ft_accounts_n (a->accounts); i++)
    {
      ck_assert_int_eq (ft_payments_wallet (a->payments, i), ft_payments_wallet (b->payments, i));
      ck_assert_int_eq (ft_payments_held (a->payments, i), ft_payments_held (b->payments, i));
      ck_assert_int_eq (ft_booking_open_for (a->booking, i), ft_booking_open_for (b->booking, i));
    }
  for (i = 0; i < n; i++)
    ck_assert_int_eq (ft_payments_captured (a->payments, i), ft_payments_captured (b->payments, i));
  ck_assert_uint_eq (ft_ops_n (a->ops), ft_ops_n (b->ops));
  for (i = 0; i < ft_ops_n (a->ops); i++)
    {
      const FtTask *x = ft_ops_get (a->ops, i), *y = ft_ops_get (b->ops, i);
      ck_assert_int_eq (x->id, y->id);
      ck_assert_int_eq (x->kind, y->kind);
      ck_assert_int_eq (x->state, y->state);
      ck_assert_int_eq (x->priority, y->priority);
      ck_assert_int_eq (x->vehicle, y->vehicle);
      ck_assert_int_eq (x->staff, y->staff);
      ck_assert_int_eq (x->created_by, y->created_by);
      ck_assert_int_eq (x->target_zone, y->target_zone);
      ck_assert_double_eq (x->target.lat, y->target.lat);
      ck_assert_double_eq (x->target.lon, y->target.lon);
      ck_assert_int_eq (x->created, y->created);
      ck_assert_int_eq (x->assigned_at, y->assigned_at);
      ck_assert_int_eq (x->started_at, y->started_at);
      ck_assert_int_eq (x->finished_at, y->finished_at);
    }
  for (i = 0; i < FT_N_TASK_STATES; i++)
    ck_assert_uint_eq (ft_ops_count_state (a->ops, i), ft_ops_count_state (b->ops, i));
  ck_assert_uint_eq (ft_event_log_last_seq (a->log), ft_event_log_last_seq (b->log));
}

/* A balanced adjustment with six postings: more than a ledger_tx row
 * holds (INLINE_POSTINGS = 4), so two go to the postings table. */
static void
post_wide_adjust (World *core, FtTime t)
{
  g_autoptr(GError) err = NULL;
  FtPosting ps[6];
  guint k;

  for (k = 0; k < 6; k++)
    {
      g_autofree char *code = g_strdup_printf ("test:adjust:%u", k);

      ps[k].ledger_account = (gint32) ft_ledger_account (core->ledger, code,
                                                         k < 3 ? FT_LACC_ASSET : FT_LACC_EXPENSE, -1);
      ps[k].amount = k < 3 ? 10 * (gint64) (k + 1) : -10 * (gint64) (6 - k);
    }
  ck_assert_msg (ft_ledger_post (core->ledger, FT_TX_ADJUST, t, -1, 60, -1, 0, 0, ps, 6, &err) >= 0,
                 "%s", err ? err->message : "");
}

/* A core with every kind of entity and booking in every state, and
 * (with_tasks) staff tasks in every state. */
static void
build_rich_world_full (World *core, gboolean with_tasks)
{
  g_autoptr(GError) err = NULL;
  FtLatLon where = world_point (3);
  gint64 b_res, b_act, b_pause, b_end, b_cancel, b_exp;
  guint admin;

  world_populate (core, 12, 4, 8, 5000, 1000);
  admin = ft_accounts_n (core->accounts) - 1;
  b_end = world_lifecycle (core, 0, 0, 10 * FT_SECOND, &err);
  ck_assert_msg (b_end >= 0, "%s", err ? err->message : "");
  b_act = ft_booking_reserve (core->booking, 2, 2, 20 * FT_MINUTE, &err);
  ck_assert (ft_booking_unlock (core->booking, b_act, 2, 21 * FT_MINUTE, &err));
  b_pause = ft_booking_start (core->booking, 3, 3, 20 * FT_MINUTE, &err);
  ck_assert_msg (b_pause >= 0, "%s", err ? err->message : "");
  ck_assert (ft_booking_pause (core->booking, b_pause, 3, 25 * FT_MINUTE, &err));
  b_cancel = ft_booking_reserve (core->booking, 4, 4, 20 * FT_MINUTE, &err);
  ck_assert (ft_booking_cancel (core->booking, b_cancel, 4, 22 * FT_MINUTE, &err));
  b_exp = ft_booking_reserve (core->booking, 5, 5, 20 * FT_MINUTE, &err);
  ck_assert_uint_eq (ft_booking_expire (core->booking, 40 * FT_MINUTE), 1);
  ck_assert_int_eq (ft_booking_get (core->booking, b_exp)->state, FT_BK_EXPIRED);
  b_res = ft_booking_reserve (core->booking, 1, 1, 40 * FT_MINUTE, &err);
  ck_assert_msg (b_res >= 0, "%s", err ? err->message : "");
  /* a refused booking, a refund, an erased account, a moved pack, a fault */
  ck_assert (ft_booking_reserve (core->booking, 6, 1, 41 * FT_MINUTE, &err) < 0);
  g_clear_error (&err);
  ck_assert (ft_payments_refund (core->payments, 0, b_end, 50, "refund-1", 42 * FT_MINUTE, &err) >= 0);
  ck_assert_msg (ft_accounts_erase (core->accounts, 7, admin, 43 * FT_MINUTE, &err), "%s",
                 err ? err->message : "");
  ck_assert (ft_fleet_move_pack (core->fleet, 12, FT_PACK_IN_VAN, 1, 44 * FT_MINUTE, &err));
  ck_assert (ft_fleet_apply_event (core->fleet, 9, FT_VEV_MAINTENANCE_PICK_UP, 45 * FT_MINUTE, &err));
  ft_fleet_set_position (core->fleet, 10, where, 250.0, 46 * FT_MINUTE, TRUE);
  ck_assert (ft_fleet_apply_event (core->fleet, 8, FT_VEV_BATTERY_LOW, 47 * FT_MINUTE, &err));
  ck_assert (ft_fleet_apply_event (core->fleet, 8, FT_VEV_COMMS_LOST, 48 * FT_MINUTE, &err));
  ck_assert_int_eq (ft_fleet_get_vehicle (core->fleet, 8)->state, FT_STATE_UNKNOWN);
  ck_assert_int_eq (ft_fleet_get_vehicle (core->fleet, 8)->resume_state, FT_STATE_NON_OPERATIONAL);
  post_wide_adjust (core, 49 * FT_MINUTE);
  /* staff tasks in every state (the admin may dispatch and do field work) */
  if (with_tasks)
  {
    FtLatLon z = { 0, 0 };
    gint64 k_open, k_assigned, k_started, k_done, k_cancelled;

    k_open = ft_ops_create (core->ops, FT_TASK_BATTERY_SWAP, 8, z, -1, 7, (gint32) admin, 50 * FT_MINUTE, &err);
    k_assigned = ft_ops_create (core->ops, FT_TASK_REBALANCE, 6, world_point (40), 3, 2, -1, 50 * FT_MINUTE, &err);
    k_started = ft_ops_create (core->ops, FT_TASK_COLLECT_REPAIR, 9, z, -1, 9, -1, 50 * FT_MINUTE, &err);
    k_done = ft_ops_create (core->ops, FT_TASK_BATTERY_SWAP, 7, z, -1, 5, -1, 50 * FT_MINUTE, &err);
    k_cancelled = ft_ops_create (core->ops, FT_TASK_DEPLOY, -1, world_point (41), 2, 1, (gint32) admin,
                                 50 * FT_MINUTE, &err);
    ck_assert_msg (k_open >= 0 && k_assigned >= 0 && k_started >= 0 && k_done >= 0 && k_cancelled >= 0,
                   "%s", err ? err->message : "");
    ck_assert (ft_ops_assign (core->ops, k_assigned, admin, (gint32) admin, 51 * FT_MINUTE, &err));
    ck_assert (ft_ops_assign (core->ops, k_started, admin, -1, 51 * FT_MINUTE, &err));
    ck_assert (ft_ops_start (core->ops, k_started, admin, 52 * FT_MINUTE, &err));
    ck_assert (ft_ops_assign (core->ops, k_done, admin, -1, 51 * FT_MINUTE, &err));
    ck_assert (ft_ops_start (core->ops, k_done, admin, 52 * FT_MINUTE, &err));
    ck_assert (ft_ops_complete (core->ops, k_done, admin, 53 * FT_MINUTE, &err));
    ck_assert (ft_ops_cancel (core->ops, k_cancelled, (gint32) admin, 54 * FT_MINUTE, &err));
  }
  (void) b_res;
  ck_assert_msg (world_check (core, &err), "%s", err ? err->message : "");
}

static void
build_rich_world (World *core)
{
  build_rich_world_full (core, TRUE);
}

START_TEST (test_round_trip)
{
  g_autoptr(GError) err = NULL;
  g_autoptr(World) core = world_new (11);
  g_autoptr(World) back = world_new (11);
  FtStoreTargets t;
  FtStore *s;
  guint64 n_ev;

  s = ft_store_open (dbpath, NULL, &err);
  ck_assert_msg (s != NULL, "%s", err ? err->message : "");
  t = world_targets (core);
  build_rich_world (core);
  n_ev = ft_event_log_n_pending (core->log);
  ck_assert_uint_gt (n_ev, 50);
  ck_assert_msg (ft_store_commit (s, &t, &err), "%s", err ? err->message : "");
  ck_assert_uint_eq (ft_event_log_n_pending (core->log), 0);
  ck_assert_uint_eq (ft_store_n_events (s), n_ev);
  ck_assert_uint_eq (ft_store_last_seq (s), ft_event_log_last_seq (core->log));
  ck_assert_uint_eq (ft_store_n_commits (s), 1);
  /* nothing pending: no transaction */
  ck_assert (ft_store_commit (s, &t, &err));
  ck_assert_uint_eq (ft_store_n_commits (s), 1);
  ck_assert (ft_store_integrity_ok (s, &err));
  ft_store_close (s);

  s = ft_store_open (dbpath, NULL, &err);
  ck_assert_uint_eq (ft_store_n_events (s), n_ev);
  t = world_targets (back);
  ck_assert_msg (ft_store_load (s, &t, &err), "%s", err ? err->message : "");
  assert_same_state (core, back);
  ck_assert (world_check (back, &err));

  /* the reloaded core goes on, numbering events after the stored ones */
  {
    guint64 before = ft_event_log_last_seq (back->log);
    ck_assert (ft_booking_unlock (back->booking, ft_booking_open_for (back->booking, 1), 1,
                                  21 * FT_MINUTE, &err));
    ck_assert_uint_gt (ft_event_log_last_seq (back->log), before);
    ck_assert_uint_eq (ft_event_log_pending (back->log, NULL)[0].seq, before + 1);
    /* staff work goes on too: the open task is done, a new one opens */
    {
      guint admin = ft_accounts_n (back->accounts) - 1;
      gint64 k0 = ft_ops_open_for (back->ops, 8, FT_TASK_BATTERY_SWAP);

      ck_assert_int_ge (k0, 0);
      ck_assert (ft_ops_assign (back->ops, k0, admin, -1, 22 * FT_MINUTE, &err));
      ck_assert (ft_ops_start (back->ops, k0, admin, 23 * FT_MINUTE, &err));
      ck_assert (ft_ops_complete (back->ops, k0, admin, 24 * FT_MINUTE, &err));
      ck_assert_int_ge (ft_ops_create (back->ops, FT_TASK_BATTERY_SWAP, 8, world_point (1), -1, 4, -1,
                                       25 * FT_MINUTE, &err), 0);
    }
    ck_assert_msg (ft_store_commit (s, &t, &err), "%s", err ? err->message : "");
  }
  ft_store_close (s);
  {
    g_autoptr(World) third = world_new (11);
    s = ft_store_open (dbpath, NULL, &err);
    t = world_targets (third);
    ck_assert_msg (ft_store_load (s, &t, &err), "%s", err ? err->message : "");
    assert_same_state (back, third);
    ck_assert_int_eq (ft_booking_get (third->booking, ft_booking_open_for (third->booking, 1))->state,
                      FT_BK_ACTIVE);
    ck_assert_uint_eq (ft_ops_count_state (third->ops, FT_TASK_DONE), 2);
    ck_assert_uint_eq (ft_ops_count_state (third->ops, FT_TASK_OPEN), 1);
    ft_store_close (s);
  }
}
END_TEST

START_TEST (test_save_all)
{
  g_autoptr(GError) err = NULL;
  g_autoptr(World) core = world_new (5);
  g_autoptr(World) back = world_new (5);
  FtStoreTargets t;
  FtStore *s;

  build_rich_world (core);
  t = world_targets (core);
  s = ft_store_open (dbpath, NULL, &err);
  ck_assert (ft_store_commit (s, &t, &err));
  /* changes without events (the simulator moving and draining) */
  ft_fleet_set_position (core->fleet, 0, world_point (50), 80.0, 50 * FT_MINUTE, FALSE);
  ft_fleet_drain (core->fleet, 0, 10.0);
  ft_fleet_add_wear (core->fleet, 11, 0.25);
  ft_fleet_set_faults (core->fleet, 11, 0x5);
  ck_assert_uint_eq (ft_event_log_n_pending (core->log), 0);
  ck_assert (ft_store_commit (s, &t, &err));
  ck_assert_msg (ft_store_save_all (s, &t, &err), "%s", err ? err->message : "");
  ft_store_close (s);

  s = ft_store_open (dbpath, NULL, &err);
  t = world_targets (back);
  ck_assert_msg (ft_store_load (s, &t, &err), "%s", err ? err->message : "");
  assert_same_state (core, back);
  ft_store_close (s);
}
END_TEST

/* ------------------------------------------------------------------ meta */

START_TEST (test_meta)
{
  g_autoptr(GError) err = NULL;
  FtStore *s = ft_store_open (dbpath, NULL, &err);
  const char *tricky = "{\"kpi\": \"it's 'quoted'; DROP TABLE events; --\", \"city\": \"Zürich\"}";
  char *v;

  ck_assert_ptr_null (ft_store_dup_meta (s, "scenario"));
  ck_assert (ft_store_put_meta (s, "scenario", "default", &err));
  ck_assert (ft_store_put_meta (s, "kpi", tricky, &err));
  ck_assert (ft_store_put_meta (s, "scenario", "berlin", &err));   /* overwrite */
  v = ft_store_dup_meta (s, "scenario");
  ck_assert_str_eq (v, "berlin");
  g_free (v);
  ft_store_close (s);

  s = ft_store_open (dbpath, NULL, &err);
  v = ft_store_dup_meta (s, "kpi");
  ck_assert_str_eq (v, tricky);
  g_free (v);
  ck_assert_int_eq (raw_int (s, "SELECT count(*) FROM meta"), 2);
  ck_assert_int_eq (raw_int (s, "SELECT count(*) FROM sqlite_schema WHERE name = 'events'"), 1);
  ck_assert_ptr_null (ft_store_dup_meta (s, "missing"));
  ft_store_close (s);
}
END_TEST

/* ---------------------------------------------------------- group commit */

START_TEST (test_group_commit_bounds)
{
  g_autoptr(GError) err = NULL;
  g_autoptr(World) core = world_new (9);
  FtStoreConfig cfg;
  FtStoreTargets t;
  FtStore *s;
  gboolean committed = TRUE;
  guint i, n_commits_seen = 0, max_pending = 0;

  ft_store_config_init (&cfg);
  ck_assert_uint_eq (cfg.max_batch_events, 65536);
  ck_assert_int_eq (cfg.max_window, 50);
  cfg.max_batch_events = 100;
  cfg.max_window = 10 * FT_SECOND;
  s = ft_store_open (dbpath, &cfg, &err);
  t = world_targets (core);

  /* nothing pending: never commits */
  ck_assert (ft_store_maybe_commit (s, &t, 0, &committed, &err));
  ck_assert (!committed);

  world_populate (core, 50, 0, 20, 100000, 0);
  ck_assert_uint_gt (ft_event_log_n_pending (core->log), 100);
  /* batch bound: a full batch commits at once, even at window age 0 */
  ck_assert (ft_store_maybe_commit (s, &t, 0, &committed, &err));
  ck_assert (committed);
  ck_assert_uint_eq (ft_store_n_commits (s), 1);
  ck_assert_uint_eq (ft_event_log_n_pending (core->log), 0);

  /* under both bounds: stays pending */
  ck_assert (world_lifecycle (core, 0, 0, 1000, &err) >= 0);
  ck_assert_uint_lt (ft_event_log_n_pending (core->log), 100);
  ck_assert (ft_store_maybe_commit (s, &t, 1000, &committed, &err));
  ck_assert (!committed);
  ck_assert (ft_store_maybe_commit (s, &t, 1000 + 10 * FT_SECOND - 1, &committed, &err));
  ck_assert (!committed);
  ck_assert_uint_eq (ft_store_n_commits (s), 1);
  /* window bound: the window opened at the first call that saw events */
  ck_assert (ft_store_maybe_commit (s, &t, 1000 + 10 * FT_SECOND, &committed, &err));
  ck_assert (committed);
  ck_assert_uint_eq (ft_store_n_commits (s), 2);

  /* a stream: every commit holds at most max_batch_events + one lifecycle */
  for (i = 0; i < 400; i++)
    {
      FtTime now = 100 * FT_SECOND + (FtTime) i * 10;
      guint n;
      ck_assert_msg (world_lifecycle (core, i % 20, i % 50, now, &err) >= 0, "%s", err ? err->message : "");
      n = ft_event_log_n_pending (core->log);
      max_pending = MAX (max_pending, n);
      ck_assert (ft_store_maybe_commit (s, &t, now, &committed, &err));
      if (committed)
        {
          n_commits_seen++;
          ck_assert_uint_ge (n, 100);
        }
    }
  ck_assert_uint_lt (max_pending, 100 + 20);
  ck_assert_uint_gt (n_commits_seen, 400 * 8 / 100 - 5);
  ck_assert_uint_lt (n_commits_seen, 400 * 12 / 100 + 5);
  ck_assert_uint_eq (ft_store_n_commits (s), 2 + n_commits_seen);
  ck_assert (ft_store_commit (s, &t, &err));
  ck_assert_uint_eq (ft_store_n_events (s), ft_event_log_last_seq (core->log));
  ck_assert_int_eq (raw_int (s, "SELECT count(*) FROM events"), (gint64) ft_event_log_last_seq (core->log));
  ck_assert_int_eq (raw_int (s, "SELECT count(*) FROM bookings"), 401);
  ft_store_close (s);
}
END_TEST

/* ------------------------------------------------------------ bad paths */

START_TEST (test_failed_commit_rolls_back)
{
  g_autoptr(GError) err = NULL;
  g_autoptr(World) core = world_new (13);
  FtStoreTargets t;
  FtStore *s = ft_store_open (dbpath, NULL, &err);
  guint pending;
  guint64 next;
  g_autofree char *sql = NULL;

  t = world_targets (core);
  world_populate (core, 4, 0, 2, 5000, 0);
  ck_assert (ft_store_commit (s, &t, &err));
  ck_assert (world_lifecycle (core, 0, 0, 1000, &err) >= 0);
  pending = ft_event_log_n_pending (core->log);
  next = ft_event_log_pending (core->log, NULL)[pending - 1].seq;

  /* Someone wrote an event with a seq the log is about to use: the
   * commit fails as a whole and nothing is half written. */
  sql = g_strdup_printf ("INSERT INTO events VALUES (%" G_GUINT64_FORMAT ",0,0,-1,-1,-1,0,0,0,0,0)", next);
  ck_assert_int_eq (sqlite3_exec (ft_store_get_db (s), sql, NULL, NULL, NULL), SQLITE_OK);
  ck_assert (!ft_store_commit (s, &t, &err));
  ck_assert (g_error_matches (err, FT_STORE_ERROR, FT_STORE_ERROR_SQL));
  ck_assert_msg (strstr (err->message, dbpath) && strstr (err->message, "event"), "%s", err->message);
  g_clear_error (&err);
  ck_assert_uint_eq (ft_event_log_n_pending (core->log), pending);
  ck_assert_int_eq (raw_int (s, "SELECT count(*) FROM bookings"), 0);
  ck_assert_int_eq (raw_int (s, "SELECT count(*) FROM ledger_tx"), 2);
  ck_assert_uint_eq (ft_store_n_commits (s), 1);

  /* clear the obstacle: the same commit now goes through */
  ck_assert_int_eq (sqlite3_exec (ft_store_get_db (s), "DELETE FROM events WHERE kind = 0",
                                  NULL, NULL, NULL), SQLITE_OK);
  ck_assert_msg (ft_store_commit (s, &t, &err), "%s", err ? err->message : "");
  ck_assert_int_eq (raw_int (s, "SELECT count(*) FROM bookings"), 1);
  ck_assert_int_eq (raw_int (s, "SELECT count(*) FROM ledger_tx"), (gint64) ft_ledger_n_tx (core->ledger));

  /* A foreign row far past the end: SQLite would number the new rows
   * after it, so the commit is refused rather than storing wrong keys. */
  ck_assert (world_lifecycle (core, 1, 1, 2000, &err) >= 0);
  pending = ft_event_log_n_pending (core->log);
  sql = (g_free (sql), g_strdup_printf ("INSERT INTO ledger_tx (id,kind,t,user_account,first_posting,"
                                        "n_postings,amount,ref,idem_hash,args_hash) VALUES "
                                        "(%u,0,0,-1,0,0,0,0,0,0)", ft_ledger_n_tx (core->ledger) + 100));
  ck_assert_int_eq (sqlite3_exec (ft_store_get_db (s), sql, NULL, NULL, NULL), SQLITE_OK);
  ck_assert (!ft_store_commit (s, &t, &err));
  ck_assert (g_error_matches (err, FT_STORE_ERROR, FT_STORE_ERROR_SQL));
  ck_assert_msg (strstr (err->message, "ledger transactions") && strstr (err->message, "other than this store"),
                 "%s", err->message);
  g_clear_error (&err);
  ck_assert_uint_eq (ft_event_log_n_pending (core->log), pending);
  ck_assert_int_eq (raw_int (s, "SELECT count(*) FROM bookings"), 1);
  ck_assert_int_eq (sqlite3_exec (ft_store_get_db (s), "DELETE FROM ledger_tx WHERE n_postings = 0",
                                  NULL, NULL, NULL), SQLITE_OK);
  ck_assert_msg (ft_store_commit (s, &t, &err), "%s", err ? err->message : "");
  ck_assert_int_eq (raw_int (s, "SELECT max(id) + 1 FROM ledger_tx"), (gint64) ft_ledger_n_tx (core->ledger));
  ck_assert_int_eq (raw_int (s, "SELECT count(*) FROM bookings"), 2);
  ft_store_close (s);
}
END_TEST

static void
expect_corrupt (const char *tamper_sql, const char *expect_in_message)
{
  g_autoptr(GError) err = NULL;
  g_autoptr(World) core = world_new (17);
  g_autoptr(World) back = world_new (17);
  FtStoreTargets t;
  FtStore *s;

  g_unlink (dbpath);
  s = ft_store_open (dbpath, NULL, &err);
  build_rich_world (core);
  t = world_targets (core);
  ck_assert (ft_store_commit (s, &t, &err));
  ft_store_close (s);
  raw_exec (dbpath, tamper_sql);

  s = ft_store_open (dbpath, NULL, &err);
  ck_assert_msg (s != NULL, "%s", err ? err->message : "");
  t = world_targets (back);
  ck_assert_msg (!ft_store_load (s, &t, &err), "tampering not caught: %s", tamper_sql);
  ck_assert_msg (g_error_matches (err, FT_STORE_ERROR, FT_STORE_ERROR_CORRUPT), "%s", err->message);
  ck_assert_msg (strstr (err->message, expect_in_message), "for %s: message '%s' lacks '%s'",
                 tamper_sql, err->message, expect_in_message);
  ft_store_close (s);
}

static gint64
raw_path_int (const char *path, const char *sql)
{
  sqlite3 *db = NULL;
  sqlite3_stmt *st = NULL;
  gint64 v = -1;

  ck_assert_int_eq (sqlite3_open (path, &db), SQLITE_OK);
  ck_assert_int_eq (sqlite3_prepare_v2 (db, sql, -1, &st, NULL), SQLITE_OK);
  if (sqlite3_step (st) == SQLITE_ROW)
    v = sqlite3_column_int64 (st, 0);
  sqlite3_finalize (st);
  sqlite3_close (db);
  return v;
}

/* A version-3 file stores balances and trip counts; version 4 derives
 * them. The migration keeps every value, and refuses (leaving the file as
 * it was) when a stored value disagrees with what would replace it. */
START_TEST (test_migrate_derived)
{
  static const struct { const char *tamper, *undo, *expect1, *expect2; } bad[] = {
    { "UPDATE ledger_balances SET balance = balance + 7 WHERE idx = 2",
      "UPDATE ledger_balances SET balance = balance - 7 WHERE idx = 2",
      "ledger account 2 has a stored balance of", "postings sum to" },
    { "UPDATE account_trips SET trips = trips + 1 WHERE idx = 0",
      "UPDATE account_trips SET trips = trips - 1 WHERE idx = 0",
      "account 0 has a stored trip count of 2", "ended bookings number 1" },
  };
  g_autoptr(GError) err = NULL;
  g_autoptr(World) core = world_new (23);
  g_autoptr(World) back = world_new (23);
  FtStoreTargets t;
  FtStore *s;
  guint i;

  s = ft_store_open_at_version (dbpath, NULL, 3, &err);
  ck_assert_msg (s != NULL, "%s", err ? err->message : "");
  build_rich_world_full (core, FALSE);   /* (tasks are stored from version 5) */
  t = world_targets (core);
  ck_assert_msg (ft_store_commit (s, &t, &err), "%s", err ? err->message : "");
  ck_assert_int_eq (raw_int (s, "SELECT count(*) FROM account_trips"), ft_accounts_n (core->accounts));
  ft_store_close (s);

  for (i = 0; i < G_N_ELEMENTS (bad); i++)
    {
      raw_exec (dbpath, bad[i].tamper);
      s = ft_store_open (dbpath, NULL, &err);
      ck_assert_ptr_null (s);
      ck_assert_msg (g_error_matches (err, FT_STORE_ERROR, FT_STORE_ERROR_CORRUPT), "%s", err->message);
      ck_assert_msg (strstr (err->message, bad[i].expect1) && strstr (err->message, bad[i].expect2) &&
                     strstr (err->message, dbpath), "unhelpful message: %s", err->message);
      g_clear_error (&err);
      /* left at version 3 with its tables */
      ck_assert_int_eq (raw_path_int (dbpath, "PRAGMA user_version"), 3);
      ck_assert_int_eq (raw_path_int (dbpath, "SELECT count(*) FROM sqlite_schema WHERE type = 'table'"
                                              " AND name IN ('ledger_balances','account_trips')"), 2);
      raw_exec (dbpath, bad[i].undo);
    }

  s = ft_store_open (dbpath, NULL, &err);
  ck_assert_msg (s != NULL, "%s", err ? err->message : "");
  ck_assert_int_eq (ft_store_schema_version (s), FT_STORE_SCHEMA_LATEST);
  /* the views show what the tables held */
  ck_assert_int_eq (raw_int (s, "SELECT trips FROM account_trips WHERE idx = 0"), 1);
  ck_assert_int_eq (raw_int (s, "SELECT balance FROM ledger_balances WHERE idx = 2"),
                    ft_ledger_balance (core->ledger, 2));
  t = world_targets (back);
  ck_assert_msg (ft_store_load (s, &t, &err), "%s", err ? err->message : "");
  assert_same_state (core, back);
  ft_store_close (s);
}
END_TEST

START_TEST (test_remove_files)
{
  g_autoptr(GError) err = NULL;
  g_autofree char *wal = g_strconcat (dbpath, "-wal", NULL);
  g_autofree char *shm = g_strconcat (dbpath, "-shm", NULL);

  ck_assert (g_file_set_contents (dbpath, "x", 1, NULL));
  ck_assert (g_file_set_contents (wal, "x", 1, NULL));
  ck_assert (g_file_set_contents (shm, "x", 1, NULL));
  ck_assert_msg (ft_store_remove_files (dbpath, &err), "%s", err ? err->message : "");
  ck_assert (!g_file_test (dbpath, G_FILE_TEST_EXISTS));
  ck_assert (!g_file_test (wal, G_FILE_TEST_EXISTS));
  ck_assert (!g_file_test (shm, G_FILE_TEST_EXISTS));
  ck_assert (ft_store_remove_files (dbpath, &err));   /* nothing there: fine */
  /* something that cannot be removed is named */
  ck_assert_int_eq (g_mkdir (wal, 0700), 0);
  ck_assert (!ft_store_remove_files (dbpath, &err));
  ck_assert_msg (err && strstr (err->message, wal), "%s", err ? err->message : "no error");
  g_rmdir (wal);
}
END_TEST

START_TEST (test_tampered_file_caught)
{
  /* a posting changed: its transaction no longer balances */
  expect_corrupt ("UPDATE ledger_tx SET amt0 = amt0 + 1 WHERE id = 1", "balance");
  /* a posting lost */
  expect_corrupt ("UPDATE ledger_tx SET acc1 = NULL, amt1 = NULL WHERE id = 1", "postings");
  expect_corrupt ("DELETE FROM postings WHERE idx = (SELECT max(idx) FROM postings)", "postings");
  /* a stray posting in the overflow table */
  expect_corrupt ("INSERT INTO postings VALUES (99999, 0, 0, 0)", "posting");
  /* an open booking whose vehicle no longer points back at it */
  expect_corrupt ("UPDATE vehicle_state SET booking = -1, state = 0 WHERE booking >= 0", "booking");
  /* a lost or an orphan hot row */
  expect_corrupt ("DELETE FROM vehicle_state WHERE idx = 3", "vehicle_state");
  /* an ended booking of a rider who does not exist (trips are counted from them) */
  expect_corrupt ("UPDATE bookings SET rider = 999 WHERE id = 0", "rider 999");
  /* a gap in the vehicles */
  expect_corrupt ("DELETE FROM vehicles WHERE idx = 5", "vehicle");
  /* a state out of range */
  expect_corrupt ("UPDATE bookings SET state = 42 WHERE id = 0", "state");
  /* tasks: a state out of range, a second unfinished swap for one vehicle, an
   * open task with staff, a gap, a task held by a rider (no field work) */
  expect_corrupt ("UPDATE tasks SET state = 9 WHERE id = 0", "task 0");
  expect_corrupt ("UPDATE tasks SET vehicle = 8, state = 0, staff = -1 WHERE id = 3", "unfinished");
  expect_corrupt ("UPDATE tasks SET staff = 2 WHERE id = 0", "names staff 2");
  expect_corrupt ("DELETE FROM tasks WHERE id = 1", "next id is 1");
  expect_corrupt ("UPDATE tasks SET staff = 2 WHERE id = 1", "field work");
}
END_TEST

static Suite *
store_suite (void)
{
  Suite *s = suite_create ("store");
  struct { const char *name; const TTest *fn; } cases[] = {
    { "fresh file", test_fresh_file },
    { "migrate existing file", test_migrate_existing },
    { "migrate to derived balances and trips", test_migrate_derived },
    { "newer schema refused", test_newer_schema_refused },
    { "garbage refused", test_garbage_refused },
    { "round trip", test_round_trip },
    { "save all", test_save_all },
    { "meta", test_meta },
    { "group commit bounds", test_group_commit_bounds },
    { "failed commit rolls back", test_failed_commit_rolls_back },
    { "tampered file caught", test_tampered_file_caught },
    { "remove files", test_remove_files },
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      TCase *tc = tcase_create (cases[i].name);
      tcase_add_checked_fixture (tc, setup, teardown);
      tcase_set_timeout (tc, 120);
      tcase_add_test (tc, cases[i].fn);
      suite_add_tcase (s, tc);
    }
  return s;
}

int
main (void)
{
  SRunner *sr = srunner_create (store_suite ());
  int failed;

  srunner_run_all (sr, CK_NORMAL);
  failed = srunner_ntests_failed (sr);
  srunner_free (sr);
  return failed == 0 ? 0 : 1;
}
