/* ft-store.c — SQLite persistence for the real modules. One file in WAL
 * mode, numbered migrations recorded in PRAGMA user_version, every
 * statement prepared once and cached. A commit appends the pending domain
 * events and upserts, in the same transaction, the current state of every
 * entity those events touched (each dirty entity written once per commit),
 * plus every ledger transaction and posting added since the last commit.
 * Rows go through multi-row INSERTs in key order; what changes per trip
 * (vehicle state, trip counts, balances) lives in short rows apart from
 * identity, so scattered updates dirty few pages. A ledger transaction
 * carries its first four postings in its own row (schema 3; more spill to
 * the postings table). Appended events and transactions are numbered by
 * SQLite on its append path and the numbering checked against the log's.
 * Values that repeat between executions of a statement are left bound.
 * Loading restores all entities into empty modules and checks invariants.
 *
 * This file opens and closes a store and holds its cached statements and
 * meta; migrations are in ft-store-schema.c, commits in ft-store-commit.c,
 * loading in ft-store-load.c, the struct they share in ft-store-private.h.
 */
#include "ft-store-private.h"

#include <errno.h>
#include <glib/gstdio.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "ft-config.h"

G_DEFINE_QUARK (ft-store-error-quark, ft_store_error)

/* ------------------------------------------------------------ statements */

const char *const ft_store_stmt_sql[N_ST] = {
  [ST_BEGIN] = "BEGIN IMMEDIATE",
  [ST_COMMIT] = "COMMIT",
  [ST_ROLLBACK] = "ROLLBACK",
  [ST_INS_EVENT] =
    "INSERT INTO events (seq,t,kind,vehicle,account,ref,a,b,amount,lat,lon)"
    " VALUES (?,?,?,?,?,?,?,?,?,?,?)",
  /* The same without the key: SQLite numbers the rows max(seq)+1, +2, ...
   * on its cheap append path (no search of the b-tree per row); used only
   * when that numbering is the log's, and checked after the insert. */
  [ST_INS_EVENT_AUTO] =
    "INSERT INTO events (t,kind,vehicle,account,ref,a,b,amount,lat,lon)"
    " VALUES (?,?,?,?,?,?,?,?,?,?)",
  [ST_UPS_VEHICLE] =
    "INSERT OR REPLACE INTO vehicles (idx,device_id,name,kind) VALUES (?,?,?,?)",
  [ST_UPS_VSTATE] =
    "INSERT OR REPLACE INTO vehicle_state (idx,state,last_event,state_since,"
    "lat,lon,pack,booking,odometer_m,wear,fault_codes,last_seen,resume_state)"
    " VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)",
  [ST_UPS_PACK] =
    "INSERT OR REPLACE INTO packs (idx,id,capacity_wh,soc,health,cycles,throughput_wh,place,holder)"
    " VALUES (?,?,?,?,?,?,?,?,?)",
  [ST_UPS_ACCOUNT] =
    "INSERT OR REPLACE INTO accounts (idx,id,roles,display_name,email,pseudonym,erased,created)"
    " VALUES (?,?,?,?,?,?,?,?)",
  [ST_UPS_TRIPS] = "INSERT OR REPLACE INTO account_trips (idx,trips) VALUES (?,?)",
  [ST_UPS_LACC] =
    "INSERT OR REPLACE INTO ledger_accounts (idx,code,type,owner) VALUES (?,?,?,?)",
  [ST_UPS_BALANCE] = "INSERT OR REPLACE INTO ledger_balances (idx,balance) VALUES (?,?)",
  [ST_INS_TX_V1] =
    "INSERT INTO ledger_tx (id,kind,t,user_account,first_posting,n_postings,amount,ref,"
    "idem_hash,args_hash) VALUES (?,?,?,?,?,?,?,?,?,?)",
  [ST_INS_TX] =
    "INSERT INTO ledger_tx (id,kind,t,user_account,first_posting,n_postings,amount,ref,"
    "idem_hash,args_hash,acc0,amt0,acc1,amt1,acc2,amt2,acc3,amt3)"
    " VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
  [ST_INS_TX_AUTO] =
    "INSERT INTO ledger_tx (kind,t,user_account,first_posting,n_postings,amount,ref,"
    "idem_hash,args_hash,acc0,amt0,acc1,amt1,acc2,amt2,acc3,amt3)"
    " VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
  [ST_INS_POSTING] =
    "INSERT INTO postings (idx,tx,ledger_account,amount) VALUES (?,?,?,?)",
  [ST_UPS_BOOKING] =
    "INSERT OR REPLACE INTO bookings (id,rider,vehicle,state,reserved_at,hold_until,unlocked_at,"
    "ended_at,paused_ms,paused_since,start_lat,start_lon,end_lat,end_lon,distance_m,price_minor,"
    "hold_tx,capture_tx,trip_id) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
  [ST_UPS_BOOKING_V6] =
    "INSERT OR REPLACE INTO bookings (id,rider,vehicle,state,reserved_at,hold_until,unlocked_at,"
    "ended_at,paused_ms,paused_since,start_lat,start_lon,end_lat,end_lon,distance_m,price_minor,"
    "hold_tx,capture_tx,trip_id,shown_zone_mult,shown_dyn_mult)"
    " VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
  [ST_UPS_TASK] =
    "INSERT OR REPLACE INTO tasks (id,kind,state,priority,vehicle,staff,created_by,target_zone,"
    "target_lat,target_lon,created,assigned_at,started_at,finished_at)"
    " VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
  [ST_UPS_TASK_V13] =
    "INSERT OR REPLACE INTO tasks (id,kind,state,priority,vehicle,staff,created_by,target_zone,"
    "target_lat,target_lon,created,assigned_at,started_at,finished_at,approval,approved_by,"
    "approved_at) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
  [ST_PUT_META] = "INSERT OR REPLACE INTO meta (key,value) VALUES (?,?)",
  [ST_GET_META] = "SELECT value FROM meta WHERE key = ?",
  /* the shadow models' rows (ft-store-models.c; schema 15 on) */
  [ST_INS_PREDICTION] =
    "INSERT INTO prediction_rows (version,target,horizon,issued_at,target_t,predicted,baseline)"
    " VALUES (?,?,?,?,?,?,?)",
  /* the first actual of a key is the one (as the UPDATE of the open rows was) */
  [ST_INS_ACTUAL] = "INSERT OR IGNORE INTO prediction_actuals (target_t,target,actual) VALUES (?,?,?)",
  [ST_INS_OUTCOME] =
    "INSERT OR IGNORE INTO prediction_outcomes (issued_at,horizon,target,actual) VALUES (?,?,?,?)",
};

/* -------------------------------------------------------------- store */

gboolean
ft_store_sql_fail (FtStore *s, GError **error, const char *what)
{
  g_set_error (error, FT_STORE_ERROR, FT_STORE_ERROR_SQL,
               "%s: %s: %s (SQLite error %d)", s->path, what,
               sqlite3_errmsg (s->db), sqlite3_extended_errcode (s->db));
  return FALSE;
}

sqlite3_stmt *
ft_store_get_stmt (FtStore *s, StmtId id, GError **error)
{
  if (G_UNLIKELY (s->st[id] == NULL))
    {
      int rc = sqlite3_prepare_v3 (s->db, ft_store_stmt_sql[id], -1, SQLITE_PREPARE_PERSISTENT,
                                   &s->st[id], NULL);
      if (rc != SQLITE_OK)
        {
          s->st[id] = NULL;
          ft_store_sql_fail (s, error, "preparing a statement");
          return NULL;
        }
      s->shadow[id] = g_new0 (BoundVal, (gsize) sqlite3_bind_parameter_count (s->st[id]) + 1);
    }
  return s->st[id];
}

gboolean
ft_store_run_simple (FtStore *s, StmtId id, GError **error, const char *what)
{
  sqlite3_stmt *st = ft_store_get_stmt (s, id, error);

  if (!st)
    return FALSE;
  return ft_store_step_done (s, st, error, what);
}

/* A one-off query returning a single integer (schema inspection, counts). */
gboolean
ft_store_query_int64 (FtStore *s, const char *sql, gint64 *out, GError **error)
{
  sqlite3_stmt *st = NULL;
  int rc = sqlite3_prepare_v2 (s->db, sql, -1, &st, NULL);

  if (rc != SQLITE_OK)
    return ft_store_sql_fail (s, error, "reading the database");
  rc = sqlite3_step (st);
  if (rc == SQLITE_ROW)
    *out = sqlite3_column_int64 (st, 0);
  else if (rc == SQLITE_DONE)
    *out = 0;
  else
    {
      ft_store_sql_fail (s, error, "reading the database");
      sqlite3_finalize (st);
      return FALSE;
    }
  sqlite3_finalize (st);
  return TRUE;
}

gboolean
ft_store_exec_const (FtStore *s, const char *sql, GError **error, const char *what)
{
  char *msg = NULL;

  if (sqlite3_exec (s->db, sql, NULL, NULL, &msg) != SQLITE_OK)
    {
      g_set_error (error, FT_STORE_ERROR, FT_STORE_ERROR_SQL, "%s: %s: %s",
                   s->path, what, msg ? msg : sqlite3_errmsg (s->db));
      sqlite3_free (msg);
      return FALSE;
    }
  return TRUE;
}

void
ft_store_config_init (FtStoreConfig *cfg)
{
  g_return_if_fail (cfg != NULL);
  cfg->max_batch_events = 65536;
  cfg->max_window = 50 * FT_MS;
  cfg->synchronous_full = FALSE;
}

static void
store_free (FtStore *s)
{
  guint i, k;

  for (i = 0; i < N_ST; i++)
    {
      if (s->st[i])
        sqlite3_finalize (s->st[i]);
      for (k = 0; k < N_TIERS; k++)
        {
          if (s->st_many[k][i])
            sqlite3_finalize (s->st_many[k][i]);
          g_free (s->shadow_many[k][i]);
        }
      g_free (s->shadow[i]);
    }
  if (s->posting_tx)
    g_array_unref (s->posting_tx);
  if (s->posting_idx)
    g_array_unref (s->posting_idx);
  if (s->db)
    sqlite3_close_v2 (s->db);
  dirty_free (&s->d_vehicle);
  dirty_free (&s->d_vehicle_cold);
  dirty_free (&s->d_account_cold);
  dirty_free (&s->d_lacc_cold);
  dirty_free (&s->d_pack);
  dirty_free (&s->d_account);
  dirty_free (&s->d_lacc);
  dirty_free (&s->d_booking);
  dirty_free (&s->d_task);
  g_free (s->pack_shadow);
  g_free (s->path);
  g_free (s);
}

void
ft_store_close (FtStore *s)
{
  if (s == NULL)
    return;
  store_free (s);
}

FtStore *
ft_store_open_at_version (const char *path, const FtStoreConfig *cfg, int target_version,
                          GError **error)
{
  FtStore *s;
  gint64 n = 0, last = 0;
  int rc;

  g_return_val_if_fail (path != NULL, NULL);
  g_return_val_if_fail (target_version >= 1 && target_version <= FT_STORE_SCHEMA_LATEST, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);
  G_STATIC_ASSERT (FT_STORE_APPLICATION_ID == 1179932489);

  s = g_new0 (FtStore, 1);
  s->path = g_strdup (path);
  if (cfg)
    s->cfg = *cfg;
  else
    ft_store_config_init (&s->cfg);
  if (s->cfg.max_batch_events == 0)
    s->cfg.max_batch_events = 1;
  s->posting_tx = g_array_new (FALSE, FALSE, sizeof (gint64));
  s->posting_idx = g_array_new (FALSE, FALSE, sizeof (guint32));
  dirty_init (&s->d_vehicle);
  dirty_init (&s->d_vehicle_cold);
  dirty_init (&s->d_account_cold);
  dirty_init (&s->d_lacc_cold);
  dirty_init (&s->d_pack);
  dirty_init (&s->d_account);
  dirty_init (&s->d_lacc);
  dirty_init (&s->d_booking);
  dirty_init (&s->d_task);

  rc = sqlite3_open_v2 (path, &s->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE |
                        SQLITE_OPEN_NOMUTEX, NULL);
  if (rc != SQLITE_OK)
    {
      g_set_error (error, FT_STORE_ERROR, FT_STORE_ERROR_OPEN,
                   "cannot open %s: %s", path,
                   s->db ? sqlite3_errmsg (s->db) : sqlite3_errstr (rc));
      store_free (s);
      return NULL;
    }
  sqlite3_extended_result_codes (s->db, 1);
  sqlite3_busy_timeout (s->db, 5000);

  if (!ft_store_migrate (s, target_version, error))
    {
      store_free (s);
      return NULL;
    }

  /* WAL; NORMAL sync in WAL loses nothing on a process crash (only the
   * last transactions on power loss); FULL also survives power loss.
   * Checkpoints run every 8192 WAL pages (32 MB) instead of SQLite's 1000:
   * one group commit writes more than 1000 pages, so the default copied
   * the WAL back (and, with NORMAL, synced it) after every commit, state
   * pages that every commit rewrites included. With NORMAL the WAL is
   * synced at checkpoints, so a power loss may take the last few commits
   * (as before, just a few more of them); FULL syncs every commit. */
  if (!ft_store_exec_const (s, "PRAGMA journal_mode = WAL", error, "switching to WAL") ||
      !ft_store_exec_const (s, s->cfg.synchronous_full ? "PRAGMA synchronous = FULL"
                                               : "PRAGMA synchronous = NORMAL",
                   error, "setting synchronous") ||
      !ft_store_exec_const (s, "PRAGMA cache_size = -65536", error, "setting the cache size") ||
      !ft_store_exec_const (s, "PRAGMA temp_store = MEMORY", error, "setting temp_store") ||
      !ft_store_exec_const (s, "PRAGMA wal_autocheckpoint = 8192", error, "setting wal_autocheckpoint") ||
      !ft_store_exec_const (s, "PRAGMA foreign_keys = OFF", error, "setting foreign_keys"))
    {
      store_free (s);
      return NULL;
    }

  if (!ft_store_query_int64 (s, "SELECT count(*) FROM events", &n, error) ||
      !ft_store_query_int64 (s, "SELECT coalesce(max(seq), 0) FROM events", &last, error))
    {
      store_free (s);
      return NULL;
    }
  s->n_events = (guint64) n;
  s->last_seq = (guint64) last;
  return s;
}

FtStore *
ft_store_open (const char *path, const FtStoreConfig *cfg, GError **error)
{
  return ft_store_open_at_version (path, cfg, FT_STORE_SCHEMA_LATEST, error);
}

int
ft_store_schema_version (FtStore *s)
{
  g_return_val_if_fail (s != NULL, 0);
  return s->version;
}

guint64
ft_store_n_events (FtStore *s)
{
  g_return_val_if_fail (s != NULL, 0);
  return s->n_events;
}

guint64
ft_store_n_commits (FtStore *s)
{
  g_return_val_if_fail (s != NULL, 0);
  return s->n_commits;
}

guint64
ft_store_last_seq (FtStore *s)
{
  g_return_val_if_fail (s != NULL, 0);
  return s->last_seq;
}

struct sqlite3 *
ft_store_get_db (FtStore *s)
{
  g_return_val_if_fail (s != NULL, NULL);
  return s->db;
}

/* --------------------------------------------------------- meta, checks */

gboolean
ft_store_put_meta (FtStore *s, const char *key, const char *value, GError **error)
{
  sqlite3_stmt *st;

  g_return_val_if_fail (s != NULL, FALSE);
  g_return_val_if_fail (key != NULL && value != NULL, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  if (s->version < 2)
    {
      g_set_error (error, FT_STORE_ERROR, FT_STORE_ERROR_SCHEMA,
                   "%s is at schema version %d, which has no meta table; open it with "
                   "ft_store_open to migrate it", s->path, s->version);
      return FALSE;
    }
  if (!(st = ft_store_get_stmt (s, ST_PUT_META, error)))
    return FALSE;
  sqlite3_bind_text (st, 1, key, -1, SQLITE_STATIC);
  sqlite3_bind_text (st, 2, value, -1, SQLITE_STATIC);
  if (!ft_store_step_done (s, st, error, "writing meta"))
    {
      sqlite3_clear_bindings (st);
      g_prefix_error (error, "key %s: ", key);
      return FALSE;
    }
  sqlite3_clear_bindings (st);
  return TRUE;
}

char *
ft_store_dup_meta (FtStore *s, const char *key)
{
  sqlite3_stmt *st;
  char *out = NULL;

  g_return_val_if_fail (s != NULL, NULL);
  g_return_val_if_fail (key != NULL, NULL);
  if (s->version < 2 || !(st = ft_store_get_stmt (s, ST_GET_META, NULL)))
    return NULL;
  sqlite3_bind_text (st, 1, key, -1, SQLITE_STATIC);
  if (sqlite3_step (st) == SQLITE_ROW)
    out = g_strdup ((const char *) sqlite3_column_text (st, 0));
  sqlite3_reset (st);
  sqlite3_clear_bindings (st);
  return out;
}

gboolean
ft_store_remove_files (const char *path, GError **error)
{
  static const char *const suffix[] = { "", "-wal", "-shm" };
  guint i;

  g_return_val_if_fail (path != NULL, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);
  for (i = 0; i < G_N_ELEMENTS (suffix); i++)
    {
      g_autofree char *file = g_strconcat (path, suffix[i], NULL);

      if (g_unlink (file) != 0 && errno != ENOENT)
        {
          int saved = errno;

          g_set_error (error, G_FILE_ERROR, g_file_error_from_errno (saved),
                       "cannot remove %s: %s", file, g_strerror (saved));
          return FALSE;
        }
    }
  return TRUE;
}

gboolean
ft_store_integrity_ok (FtStore *s, GError **error)
{
  sqlite3_stmt *st = NULL;
  GString *problems;
  int rc, n = 0;
  gboolean ok = FALSE;

  g_return_val_if_fail (s != NULL, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  if (sqlite3_prepare_v2 (s->db, "PRAGMA integrity_check", -1, &st, NULL) != SQLITE_OK)
    return ft_store_sql_fail (s, error, "running integrity_check");
  problems = g_string_new (NULL);
  while ((rc = sqlite3_step (st)) == SQLITE_ROW)
    {
      const char *row = (const char *) sqlite3_column_text (st, 0);

      if (n == 0 && row && strcmp (row, "ok") == 0)
        ok = TRUE;
      else if (n < 5)
        g_string_append_printf (problems, "%s%s", n ? "; " : "", row ? row : "?");
      n++;
    }
  if (rc != SQLITE_DONE)
    {
      ft_store_sql_fail (s, error, "running integrity_check");
      ok = FALSE;
    }
  else if (!ok || n != 1)
    {
      g_set_error (error, FT_STORE_ERROR, FT_STORE_ERROR_CORRUPT,
                   "%s fails PRAGMA integrity_check (%d problems): %s",
                   s->path, n, problems->str);
      ok = FALSE;
    }
  sqlite3_finalize (st);
  g_string_free (problems, TRUE);
  return ok;
}

char *
ft_store_read_meta (const char *path, const char *key, GError **error)
{
  g_return_val_if_fail (path != NULL && key != NULL, NULL);
  if (!g_file_test (path, G_FILE_TEST_IS_REGULAR))
    {
      g_set_error (error, FT_STORE_ERROR, FT_STORE_ERROR_OPEN, "%s: no such file", path);
      return NULL;
    }
  sqlite3 *db = NULL;
  int rc = sqlite3_open_v2 (path, &db, SQLITE_OPEN_READONLY, NULL);
  sqlite3_stmt *st = NULL;
  gint64 app_id = 0;
  if (rc == SQLITE_OK)
    rc = sqlite3_prepare_v2 (db, "PRAGMA application_id", -1, &st, NULL);
  if (rc == SQLITE_OK && sqlite3_step (st) == SQLITE_ROW)
    app_id = sqlite3_column_int64 (st, 0);
  sqlite3_finalize (st);
  st = NULL;
  if (app_id != FT_STORE_APPLICATION_ID)
    {
      g_set_error (error, FT_STORE_ERROR, FT_STORE_ERROR_OPEN,
                   "%s is not a Fleet Twin store (give a file written by 'fleet-twin-cli run --out')", path);
      sqlite3_close (db);
      return NULL;
    }
  char *out = NULL;
  if (sqlite3_prepare_v2 (db, "SELECT value FROM meta WHERE key = ?", -1, &st, NULL) == SQLITE_OK)
    {
      sqlite3_bind_text (st, 1, key, -1, SQLITE_STATIC);
      if (sqlite3_step (st) == SQLITE_ROW && sqlite3_column_text (st, 0) != NULL)
        out = g_strdup ((const char *) sqlite3_column_text (st, 0));
    }
  else
    g_set_error (error, FT_STORE_ERROR, FT_STORE_ERROR_OPEN, "%s: cannot read its meta table: %s", path,
                 sqlite3_errmsg (db));
  sqlite3_finalize (st);
  sqlite3_close (db);
  return out;
}
