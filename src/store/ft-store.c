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

#define FT_STORE_APPLICATION_ID 0x46545749   /* "FTWI" */
#define FLEET_HOLDERS_KEY "ft.fleet.holders"   /* meta: "<n_vans> <n_depots>" */

/* ---------------------------------------------------------------- schema */

/* Migration N brings a file from user_version N-1 to N. Append only: never
 * edit a migration that has shipped. */
static const char *const migrations[FT_STORE_SCHEMA_LATEST] = {
  /* 1: state tables and the event log */
  "CREATE TABLE events ("
  "  seq INTEGER PRIMARY KEY, t INTEGER NOT NULL, kind INTEGER NOT NULL,"
  "  vehicle INTEGER NOT NULL, account INTEGER NOT NULL, ref INTEGER NOT NULL,"
  "  a INTEGER NOT NULL, b INTEGER NOT NULL, amount INTEGER NOT NULL,"
  "  lat REAL NOT NULL, lon REAL NOT NULL);"
  /* Entities split in a cold part (identity, written when created) and a
   * hot part (what changes with every trip) kept in short rows, so a commit
   * that touches thousands of scattered vehicles or riders dirties as few
   * pages as possible. */
  "CREATE TABLE vehicles ("
  "  idx INTEGER PRIMARY KEY, device_id TEXT NOT NULL, name TEXT NOT NULL,"
  "  kind INTEGER NOT NULL);"
  "CREATE TABLE vehicle_state ("
  "  idx INTEGER PRIMARY KEY, state INTEGER NOT NULL, last_event INTEGER NOT NULL,"
  "  state_since INTEGER NOT NULL, lat REAL NOT NULL, lon REAL NOT NULL,"
  "  pack INTEGER NOT NULL, booking INTEGER NOT NULL, odometer_m REAL NOT NULL,"
  "  wear REAL NOT NULL, fault_codes INTEGER NOT NULL, last_seen INTEGER NOT NULL,"
  "  resume_state INTEGER NOT NULL);"
  "CREATE TABLE packs ("
  "  idx INTEGER PRIMARY KEY, id TEXT NOT NULL, capacity_wh REAL NOT NULL,"
  "  soc REAL NOT NULL, health REAL NOT NULL, cycles INTEGER NOT NULL,"
  "  throughput_wh REAL NOT NULL, place INTEGER NOT NULL, holder INTEGER NOT NULL);"
  "CREATE TABLE accounts ("
  "  idx INTEGER PRIMARY KEY, id TEXT NOT NULL, roles INTEGER NOT NULL,"
  "  display_name TEXT, email TEXT, pseudonym TEXT NOT NULL, erased INTEGER NOT NULL,"
  "  created INTEGER NOT NULL);"
  "CREATE TABLE account_trips (idx INTEGER PRIMARY KEY, trips INTEGER NOT NULL);"
  "CREATE TABLE ledger_accounts ("
  "  idx INTEGER PRIMARY KEY, code TEXT NOT NULL, type INTEGER NOT NULL,"
  "  owner INTEGER NOT NULL);"
  "CREATE TABLE ledger_balances (idx INTEGER PRIMARY KEY, balance INTEGER NOT NULL);"
  "CREATE TABLE ledger_tx ("
  "  id INTEGER PRIMARY KEY, kind INTEGER NOT NULL, t INTEGER NOT NULL,"
  "  user_account INTEGER NOT NULL, first_posting INTEGER NOT NULL,"
  "  n_postings INTEGER NOT NULL, amount INTEGER NOT NULL, ref INTEGER NOT NULL,"
  "  idem_hash INTEGER NOT NULL, args_hash INTEGER NOT NULL);"
  "CREATE TABLE postings ("
  "  idx INTEGER PRIMARY KEY, tx INTEGER NOT NULL, ledger_account INTEGER NOT NULL,"
  "  amount INTEGER NOT NULL);"
  "CREATE TABLE bookings ("
  "  id INTEGER PRIMARY KEY, rider INTEGER NOT NULL, vehicle INTEGER NOT NULL,"
  "  state INTEGER NOT NULL, reserved_at INTEGER NOT NULL, hold_until INTEGER NOT NULL,"
  "  unlocked_at INTEGER NOT NULL, ended_at INTEGER NOT NULL, paused_ms INTEGER NOT NULL,"
  "  paused_since INTEGER NOT NULL, start_lat REAL NOT NULL, start_lon REAL NOT NULL,"
  "  end_lat REAL NOT NULL, end_lon REAL NOT NULL, distance_m REAL NOT NULL,"
  "  price_minor INTEGER NOT NULL, hold_tx INTEGER NOT NULL, capture_tx INTEGER NOT NULL,"
  "  trip_id TEXT NOT NULL);",
  /* 2: run metadata and KPIs */
  "CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID;",
  /* 3: a transaction's first INLINE_POSTINGS postings live in its own row
   * (accK = ledger account, amtK = amount, NULL when absent); postings
   * past those stay in the postings table under their global index. One
   * row per transaction instead of 1 + n_postings. The view
   * ledger_postings shows every posting as the postings table did. */
  "ALTER TABLE ledger_tx ADD COLUMN acc0 INTEGER;"
  "ALTER TABLE ledger_tx ADD COLUMN amt0 INTEGER;"
  "ALTER TABLE ledger_tx ADD COLUMN acc1 INTEGER;"
  "ALTER TABLE ledger_tx ADD COLUMN amt1 INTEGER;"
  "ALTER TABLE ledger_tx ADD COLUMN acc2 INTEGER;"
  "ALTER TABLE ledger_tx ADD COLUMN amt2 INTEGER;"
  "ALTER TABLE ledger_tx ADD COLUMN acc3 INTEGER;"
  "ALTER TABLE ledger_tx ADD COLUMN amt3 INTEGER;"
  "UPDATE ledger_tx SET"
  "  acc0 = (SELECT ledger_account FROM postings p WHERE p.idx = ledger_tx.first_posting AND p.tx = ledger_tx.id),"
  "  amt0 = (SELECT amount FROM postings p WHERE p.idx = ledger_tx.first_posting AND p.tx = ledger_tx.id),"
  "  acc1 = (SELECT ledger_account FROM postings p WHERE p.idx = ledger_tx.first_posting + 1 AND p.tx = ledger_tx.id),"
  "  amt1 = (SELECT amount FROM postings p WHERE p.idx = ledger_tx.first_posting + 1 AND p.tx = ledger_tx.id),"
  "  acc2 = (SELECT ledger_account FROM postings p WHERE p.idx = ledger_tx.first_posting + 2 AND p.tx = ledger_tx.id),"
  "  amt2 = (SELECT amount FROM postings p WHERE p.idx = ledger_tx.first_posting + 2 AND p.tx = ledger_tx.id),"
  "  acc3 = (SELECT ledger_account FROM postings p WHERE p.idx = ledger_tx.first_posting + 3 AND p.tx = ledger_tx.id),"
  "  amt3 = (SELECT amount FROM postings p WHERE p.idx = ledger_tx.first_posting + 3 AND p.tx = ledger_tx.id);"
  "DELETE FROM postings WHERE idx - (SELECT first_posting FROM ledger_tx l WHERE l.id = postings.tx) < 4;"
  "CREATE VIEW ledger_postings (idx, tx, ledger_account, amount) AS"
  "  SELECT first_posting, id, acc0, amt0 FROM ledger_tx WHERE n_postings > 0"
  "  UNION ALL SELECT first_posting + 1, id, acc1, amt1 FROM ledger_tx WHERE n_postings > 1"
  "  UNION ALL SELECT first_posting + 2, id, acc2, amt2 FROM ledger_tx WHERE n_postings > 2"
  "  UNION ALL SELECT first_posting + 3, id, acc3, amt3 FROM ledger_tx WHERE n_postings > 3"
  "  UNION ALL SELECT idx, tx, ledger_account, amount FROM postings;",
  /* 4: balances and trip counts are no longer stored: they follow from the
   * postings and from the ended bookings (state 3), and load recomputes
   * them. Each was one more scattered row rewritten for every trip (a
   * rider's wallet, a rider's trip count), and a stored copy could only
   * ever disagree with what it copies. The views keep the old tables'
   * names and columns for readers. migrate() first checks that the
   * stored values agree with what replaces them and refuses the
   * migration if not, so nothing is lost silently. */
  "DROP TABLE ledger_balances;"
  "DROP TABLE account_trips;"
  "CREATE VIEW ledger_balances (idx, balance) AS"
  "  SELECT ledger_account, sum(amount) FROM ledger_postings GROUP BY ledger_account;"
  "CREATE VIEW account_trips (idx, trips) AS"
  "  SELECT rider, count(*) FROM bookings WHERE state = 3 GROUP BY rider;",
  /* 5: the fleet-operations task queue (src/ops), one row per task */
  "CREATE TABLE tasks ("
  "  id INTEGER PRIMARY KEY, kind INTEGER NOT NULL, state INTEGER NOT NULL,"
  "  priority INTEGER NOT NULL, vehicle INTEGER NOT NULL, staff INTEGER NOT NULL,"
  "  created_by INTEGER NOT NULL, target_zone INTEGER NOT NULL,"
  "  target_lat REAL NOT NULL, target_lon REAL NOT NULL, created INTEGER NOT NULL,"
  "  assigned_at INTEGER NOT NULL, started_at INTEGER NOT NULL,"
  "  finished_at INTEGER NOT NULL);",
};

/* From this schema version on, balances and trip counts are derived. */
#define DERIVED_VERSION 4
/* From this one on, tasks are stored. */
#define TASKS_VERSION 5

/* Postings kept in the ledger_tx row from schema version 3 on. */
#define INLINE_POSTINGS 4

/* Rows per statement of the multi-row INSERT forms, largest first. */
#define N_TIERS 2
static const int tier_rows[N_TIERS] = { 128, 16 };

/* ------------------------------------------------------------ statements */

typedef enum {
  ST_BEGIN, ST_COMMIT, ST_ROLLBACK,
  ST_INS_EVENT, ST_INS_EVENT_AUTO, ST_UPS_VEHICLE, ST_UPS_VSTATE, ST_UPS_PACK, ST_UPS_ACCOUNT, ST_UPS_TRIPS,
  ST_UPS_LACC, ST_UPS_BALANCE,
  ST_INS_TX_V1, ST_INS_TX, ST_INS_TX_AUTO, ST_INS_POSTING, ST_UPS_BOOKING, ST_UPS_TASK,
  ST_PUT_META, ST_GET_META,
  N_ST
} StmtId;

static const char *const stmt_sql[N_ST] = {
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
  [ST_UPS_TASK] =
    "INSERT OR REPLACE INTO tasks (id,kind,state,priority,vehicle,staff,created_by,target_zone,"
    "target_lat,target_lon,created,assigned_at,started_at,finished_at)"
    " VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
  [ST_PUT_META] = "INSERT OR REPLACE INTO meta (key,value) VALUES (?,?)",
  [ST_GET_META] = "SELECT value FROM meta WHERE key = ?",
};

/* What is bound to one parameter of a cached statement (see Binder). */
typedef struct {
  gint64 v;
  int    type;      /* 0 unknown, 1 integer, 2 real (bits in v), 3 NULL */
} BoundVal;

/* --------------------------------------------------------- dirty sets */

/* A set of small non-negative ids with O(1) insert and ordered-by-insertion
 * iteration: a stamp per id (== gen means "in the set") and a list. */
typedef struct {
  guint32 *stamp;
  gsize    cap;
  guint32  gen;
  gint64  *list;
  gsize    n, list_cap;
  GHashTable *big;    /* ids too large for the stamp array */
} DirtySet;

#define DIRTY_DENSE_MAX ((gint64) 1 << 26)

static void
dirty_init (DirtySet *d)
{
  memset (d, 0, sizeof *d);
  d->gen = 1;
}

static void
dirty_clear (DirtySet *d)
{
  d->n = 0;
  if (d->big)
    g_hash_table_remove_all (d->big);
  if (++d->gen == 0)
    {
      memset (d->stamp, 0, d->cap * sizeof *d->stamp);
      d->gen = 1;
    }
}

static void
dirty_free (DirtySet *d)
{
  g_free (d->stamp);
  g_free (d->list);
  if (d->big)
    g_hash_table_unref (d->big);
}

static inline void
dirty_push (DirtySet *d, gint64 id)
{
  if (d->n == d->list_cap)
    {
      d->list_cap = d->list_cap ? d->list_cap * 2 : 1024;
      d->list = g_renew (gint64, d->list, d->list_cap);
    }
  d->list[d->n++] = id;
}

static inline void
dirty_add (DirtySet *d, gint64 id)
{
  if (id < 0)
    return;
  if (id >= DIRTY_DENSE_MAX)
    {
      if (!d->big)
        d->big = g_hash_table_new_full (g_int64_hash, g_int64_equal, g_free, NULL);
      if (g_hash_table_contains (d->big, &id))
        return;
      g_hash_table_add (d->big, g_memdup2 (&id, sizeof id));
      dirty_push (d, id);
      return;
    }
  if ((gsize) id >= d->cap)
    {
      gsize ncap = d->cap ? d->cap : 1024;
      while (ncap <= (gsize) id)
        ncap *= 2;
      d->stamp = g_renew (guint32, d->stamp, ncap);
      memset (d->stamp + d->cap, 0, (ncap - d->cap) * sizeof *d->stamp);
      d->cap = ncap;
    }
  if (d->stamp[id] == d->gen)
    return;
  d->stamp[id] = d->gen;
  dirty_push (d, id);
}

/* -------------------------------------------------------------- store */

typedef struct {
  gint32 place;
  gint32 holder;
} PackShadow;

struct _FtStore {
  sqlite3       *db;
  char          *path;
  FtStoreConfig  cfg;
  int            version;
  sqlite3_stmt  *st[N_ST];
  sqlite3_stmt  *st_many[N_TIERS][N_ST];   /* multi-row forms of the INSERTs */
  BoundVal      *shadow[N_ST];    /* what is bound to each parameter of st[] */
  BoundVal      *shadow_many[N_TIERS][N_ST];
  GArray        *posting_tx;      /* scratch: tx id per posting for the postings table */
  GArray        *posting_idx;     /* scratch: its global index */

  guint64        n_events;       /* rows in events */
  guint64        n_commits;
  guint64        last_seq;

  /* What the file holds, as high-water marks: anything at or past these
   * indices is new and is written at the next commit. */
  guint          saved_vehicles, saved_packs, saved_accounts;
  guint          saved_lacc, saved_tx, saved_tasks;
  guint          saved_vans, saved_depots;   /* pack holder counts (meta) */

  /* Where each pack was when last written, to find the vehicle a pack
   * left (that vehicle's row changes too). */
  PackShadow    *pack_shadow;
  gsize          pack_shadow_n;

  /* hot parts (state, trips, balances) and cold parts (identity) */
  DirtySet       d_vehicle, d_pack, d_account, d_lacc, d_booking, d_task;
  DirtySet       d_vehicle_cold, d_account_cold, d_lacc_cold;

  gboolean       window_open;
  FtTime         window_start;
};

static gboolean
sql_fail (FtStore *s, GError **error, const char *what)
{
  g_set_error (error, FT_STORE_ERROR, FT_STORE_ERROR_SQL,
               "%s: %s: %s (SQLite error %d)", s->path, what,
               sqlite3_errmsg (s->db), sqlite3_extended_errcode (s->db));
  return FALSE;
}

static sqlite3_stmt *
get_stmt (FtStore *s, StmtId id, GError **error)
{
  if (G_UNLIKELY (s->st[id] == NULL))
    {
      int rc = sqlite3_prepare_v3 (s->db, stmt_sql[id], -1, SQLITE_PREPARE_PERSISTENT,
                                   &s->st[id], NULL);
      if (rc != SQLITE_OK)
        {
          s->st[id] = NULL;
          sql_fail (s, error, "preparing a statement");
          return NULL;
        }
      s->shadow[id] = g_new0 (BoundVal, (gsize) sqlite3_bind_parameter_count (s->st[id]) + 1);
    }
  return s->st[id];
}

/* Step a cached write statement once and reset it. */
static inline gboolean
step_done (FtStore *s, sqlite3_stmt *st, GError **error, const char *what)
{
  int rc = sqlite3_step (st);

  sqlite3_reset (st);
  if (G_UNLIKELY (rc != SQLITE_DONE))
    return sql_fail (s, error, what);
  return TRUE;
}

static gboolean
run_simple (FtStore *s, StmtId id, GError **error, const char *what)
{
  sqlite3_stmt *st = get_stmt (s, id, error);

  if (!st)
    return FALSE;
  return step_done (s, st, error, what);
}

/* A one-off query returning a single integer (schema inspection, counts). */
static gboolean
query_int64 (FtStore *s, const char *sql, gint64 *out, GError **error)
{
  sqlite3_stmt *st = NULL;
  int rc = sqlite3_prepare_v2 (s->db, sql, -1, &st, NULL);

  if (rc != SQLITE_OK)
    return sql_fail (s, error, "reading the database");
  rc = sqlite3_step (st);
  if (rc == SQLITE_ROW)
    *out = sqlite3_column_int64 (st, 0);
  else if (rc == SQLITE_DONE)
    *out = 0;
  else
    {
      sql_fail (s, error, "reading the database");
      sqlite3_finalize (st);
      return FALSE;
    }
  sqlite3_finalize (st);
  return TRUE;
}

static gboolean
exec_const (FtStore *s, const char *sql, GError **error, const char *what)
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

/* Before migration 4 drops the stored balances and trip counts: each must
 * equal what will replace it (the sum of the account's postings, the
 * rider's ended bookings), or the file is refused as it stands. */
static gboolean
derived_values_agree (FtStore *s, GError **error)
{
  static const struct { const char *entity, *value, *derived, *sql; } checks[] = {
    { "ledger account", "balance", "its postings sum to",
      "SELECT b.idx, b.balance, coalesce(p.total, 0) FROM ledger_balances b"
      " LEFT JOIN (SELECT ledger_account AS acc, sum(amount) AS total FROM ledger_postings"
      "            GROUP BY ledger_account) p ON p.acc = b.idx"
      " WHERE b.balance != coalesce(p.total, 0)"
      " UNION ALL SELECT p.ledger_account, 0, p.amount FROM ledger_postings p"
      " WHERE p.ledger_account NOT IN (SELECT idx FROM ledger_balances) LIMIT 1" },
    { "account", "trip count", "its ended bookings number",
      "SELECT t.idx, t.trips, coalesce(c.n, 0) FROM account_trips t"
      " LEFT JOIN (SELECT rider, count(*) AS n FROM bookings WHERE state = 3 GROUP BY rider) c"
      " ON c.rider = t.idx WHERE t.trips != coalesce(c.n, 0)"
      " UNION ALL SELECT rider, 0, count(*) FROM bookings WHERE state = 3"
      " AND rider NOT IN (SELECT idx FROM account_trips) GROUP BY rider LIMIT 1" },
  };
  guint i;

  for (i = 0; i < G_N_ELEMENTS (checks); i++)
    {
      sqlite3_stmt *st = NULL;
      int rc;

      if (sqlite3_prepare_v2 (s->db, checks[i].sql, -1, &st, NULL) != SQLITE_OK)
        return sql_fail (s, error, "checking the file before schema version 4");
      rc = sqlite3_step (st);
      if (rc == SQLITE_ROW)
        {
          g_set_error (error, FT_STORE_ERROR, FT_STORE_ERROR_CORRUPT,
                       "%s: %s %" G_GINT64_FORMAT " has a stored %s of %" G_GINT64_FORMAT
                       " but %s %" G_GINT64_FORMAT "; schema version 4 derives these "
                       "instead of storing them, so the file is left at its version "
                       "(repair it or start a new one)", s->path, checks[i].entity,
                       (gint64) sqlite3_column_int64 (st, 0), checks[i].value,
                       (gint64) sqlite3_column_int64 (st, 1), checks[i].derived,
                       (gint64) sqlite3_column_int64 (st, 2));
          sqlite3_finalize (st);
          return FALSE;
        }
      sqlite3_finalize (st);
      if (rc != SQLITE_DONE)
        return sql_fail (s, error, "checking the file before schema version 4");
    }
  return TRUE;
}

/* Bring the file to target_version, one migration per transaction. */
static gboolean
migrate (FtStore *s, int target_version, GError **error)
{
  gint64 version = 0, app_id = 0, n_objects = 0;
  int v;

  /* The first read is where SQLite notices a file that is not a database. */
  if (!query_int64 (s, "PRAGMA user_version", &version, NULL))
    {
      g_set_error (error, FT_STORE_ERROR, FT_STORE_ERROR_OPEN,
                   "%s is not a Fleet Twin database (SQLite says: %s); "
                   "give a new file name or the path of a store written by fleet-twin",
                   s->path, sqlite3_errmsg (s->db));
      return FALSE;
    }
  if (!query_int64 (s, "PRAGMA application_id", &app_id, error) ||
      !query_int64 (s, "SELECT count(*) FROM sqlite_schema", &n_objects, error))
    return FALSE;

  if (app_id != 0 && app_id != FT_STORE_APPLICATION_ID)
    {
      g_set_error (error, FT_STORE_ERROR, FT_STORE_ERROR_OPEN,
                   "%s is an SQLite database of another program (application_id 0x%08x), "
                   "not a Fleet Twin store; give a new file name",
                   s->path, (unsigned) app_id);
      return FALSE;
    }
  if (version == 0 && n_objects > 0)
    {
      g_set_error (error, FT_STORE_ERROR, FT_STORE_ERROR_OPEN,
                   "%s already holds %" G_GINT64_FORMAT " tables or indexes but no "
                   "Fleet Twin schema version; it is not a Fleet Twin store, give a new file name",
                   s->path, n_objects);
      return FALSE;
    }
  if (version > FT_STORE_SCHEMA_LATEST)
    {
      g_set_error (error, FT_STORE_ERROR, FT_STORE_ERROR_SCHEMA,
                   "%s has schema version %" G_GINT64_FORMAT " but this build of Fleet Twin "
                   "(%s) knows versions up to %d; open it with a newer fleet-twin",
                   s->path, version, FT_VERSION, FT_STORE_SCHEMA_LATEST);
      return FALSE;
    }
  if (version < 0)
    {
      g_set_error (error, FT_STORE_ERROR, FT_STORE_ERROR_SCHEMA,
                   "%s has a negative schema version %" G_GINT64_FORMAT "; the file is damaged",
                   s->path, version);
      return FALSE;
    }

  for (v = (int) version + 1; v <= target_version; v++)
    {
      /* PRAGMA takes no parameters; the numbers come from this file, not data. */
      g_autofree char *set_version = g_strdup_printf ("PRAGMA user_version = %d", v);

      if (!exec_const (s, "BEGIN IMMEDIATE", error, "starting a migration"))
        return FALSE;
      if ((v == DERIVED_VERSION && !derived_values_agree (s, error)) ||
          !exec_const (s, migrations[v - 1], error, "migrating the schema") ||
          (v == 1 && !exec_const (s, "PRAGMA application_id = 1179932489", error,
                                  "marking the file")) ||
          !exec_const (s, set_version, error, "recording the schema version") ||
          !exec_const (s, "COMMIT", error, "committing a migration"))
        {
          g_prefix_error (error, "migration to schema version %d failed: ", v);
          exec_const (s, "ROLLBACK", NULL, "");
          return FALSE;
        }
    }
  s->version = MAX ((int) version, target_version);
  return TRUE;
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

  if (!migrate (s, target_version, error))
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
  if (!exec_const (s, "PRAGMA journal_mode = WAL", error, "switching to WAL") ||
      !exec_const (s, s->cfg.synchronous_full ? "PRAGMA synchronous = FULL"
                                               : "PRAGMA synchronous = NORMAL",
                   error, "setting synchronous") ||
      !exec_const (s, "PRAGMA cache_size = -65536", error, "setting the cache size") ||
      !exec_const (s, "PRAGMA temp_store = MEMORY", error, "setting temp_store") ||
      !exec_const (s, "PRAGMA wal_autocheckpoint = 8192", error, "setting wal_autocheckpoint") ||
      !exec_const (s, "PRAGMA foreign_keys = OFF", error, "setting foreign_keys"))
    {
      store_free (s);
      return NULL;
    }

  if (!query_int64 (s, "SELECT count(*) FROM events", &n, error) ||
      !query_int64 (s, "SELECT coalesce(max(seq), 0) FROM events", &last, error))
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

/* ----------------------------------------------------------- writers */

/* Rows are written through multi-row forms of each INSERT (same SQL with
 * the VALUES group repeated): 128 rows a statement while that many are
 * left, then 16, then one by one. Each binder fills one row's parameters
 * starting at `base` (0-based). */

typedef struct {
  const FtStoreTargets *t;
  const FtEvent        *ev;          /* events */
  const gint64         *ids;         /* dirty entity ids */
  guint                 first_tx;    /* ledger tx rows: ids first_tx + i */
  guint                 n_inline;    /* postings kept in the tx row */
  int                   auto_key;    /* 1: the key is not bound (SQLite numbers the rows) */
  const gint64         *posting_tx;  /* postings table rows: tx id, */
  const guint32        *posting_idx; /* and global index of the posting */
  const FtPosting      *postings;
} RowCtx;

/* A statement and what is bound to each of its parameters now. Rebinding
 * costs SQLite ~75 instructions a value; many values repeat from one
 * execution of a statement to the next (0, -1, NULL), and those are left
 * bound. Only the store binds these statements, and neither step nor
 * reset changes a binding, so the shadow stays true. Text is always
 * bound (pointer-compared values could move). */
typedef struct {
  sqlite3_stmt *st;
  BoundVal     *shadow;
} Binder;

static inline void
b_i64 (Binder *bd, int i, gint64 v)
{
  BoundVal *sv = &bd->shadow[i - 1];

  if (sv->type == 1 && sv->v == v)
    return;
  sv->type = 1;
  sv->v = v;
  sqlite3_bind_int64 (bd->st, i, v);
}

static inline void
b_dbl (Binder *bd, int i, double d)
{
  BoundVal *sv = &bd->shadow[i - 1];
  gint64 bits;

  memcpy (&bits, &d, sizeof bits);
  if (sv->type == 2 && sv->v == bits)
    return;
  sv->type = 2;
  sv->v = bits;
  sqlite3_bind_double (bd->st, i, d);
}

static inline void
b_null (Binder *bd, int i)
{
  BoundVal *sv = &bd->shadow[i - 1];

  if (sv->type == 3)
    return;
  sv->type = 3;
  sqlite3_bind_null (bd->st, i);
}

static inline void
b_text (Binder *bd, int i, const char *text)
{
  bd->shadow[i - 1].type = 0;
  sqlite3_bind_text (bd->st, i, text, -1, SQLITE_STATIC);
}

typedef void (*BindRow) (Binder *bd, int base, const RowCtx *c, gsize i);

static void
bind_event (Binder *bd, int b, const RowCtx *c, gsize i)
{
  const FtEvent *e = &c->ev[i];

  if (c->auto_key)
    b -= 1;
  else
    b_i64 (bd, b + 1, (sqlite3_int64) e->seq);
  b_i64 (bd, b + 2, e->t);
  b_i64 (bd, b + 3, e->kind);
  b_i64 (bd, b + 4, e->vehicle);
  b_i64 (bd, b + 5, e->account);
  b_i64 (bd, b + 6, e->ref);
  b_i64 (bd, b + 7, e->a);
  b_i64 (bd, b + 8, e->b);
  b_i64 (bd, b + 9, e->amount);
  b_dbl (bd, b + 10, e->lat);
  b_dbl (bd, b + 11, e->lon);
}

static void
bind_vehicle (Binder *bd, int b, const RowCtx *c, gsize i)
{
  const FtVehicle *v = ft_fleet_get_vehicle (c->t->fleet, (guint) c->ids[i]);

  b_i64 (bd, b + 1, v->index);
  b_text (bd, b + 2, v->device_id);
  b_text (bd, b + 3, v->name);
  b_i64 (bd, b + 4, v->kind);
}

static void
bind_vehicle_state (Binder *bd, int b, const RowCtx *c, gsize i)
{
  const FtVehicle *v = ft_fleet_get_vehicle (c->t->fleet, (guint) c->ids[i]);

  b_i64 (bd, b + 1, v->index);
  b_i64 (bd, b + 2, v->state);
  b_i64 (bd, b + 3, v->last_event);
  b_i64 (bd, b + 4, v->state_since);
  b_dbl (bd, b + 5, v->pos.lat);
  b_dbl (bd, b + 6, v->pos.lon);
  b_i64 (bd, b + 7, v->pack);
  b_i64 (bd, b + 8, v->booking);
  b_dbl (bd, b + 9, v->odometer_m);
  b_dbl (bd, b + 10, v->wear);
  b_i64 (bd, b + 11, v->fault_codes);
  b_i64 (bd, b + 12, v->last_seen);
  b_i64 (bd, b + 13, v->resume_state);
}

static void
bind_pack (Binder *bd, int b, const RowCtx *c, gsize i)
{
  const FtPack *p = ft_fleet_get_pack (c->t->fleet, (guint) c->ids[i]);

  b_i64 (bd, b + 1, p->index);
  b_text (bd, b + 2, p->id);
  b_dbl (bd, b + 3, p->capacity_wh);
  b_dbl (bd, b + 4, p->soc);
  b_dbl (bd, b + 5, p->health);
  b_i64 (bd, b + 6, p->cycles);
  b_dbl (bd, b + 7, p->throughput_wh);
  b_i64 (bd, b + 8, p->place);
  b_i64 (bd, b + 9, p->holder);
}

static void
bind_account (Binder *bd, int b, const RowCtx *c, gsize i)
{
  const FtAccount *a = ft_accounts_get (c->t->accounts, (guint) c->ids[i]);

  b_i64 (bd, b + 1, a->index);
  b_text (bd, b + 2, a->id);
  b_i64 (bd, b + 3, a->roles);
  if (a->display_name)
    b_text (bd, b + 4, a->display_name);
  else
    b_null (bd, b + 4);
  if (a->email)
    b_text (bd, b + 5, a->email);
  else
    b_null (bd, b + 5);
  b_text (bd, b + 6, a->pseudonym);
  b_i64 (bd, b + 7, a->erased ? 1 : 0);
  b_i64 (bd, b + 8, a->created);
}

static void
bind_trips (Binder *bd, int b, const RowCtx *c, gsize i)
{
  const FtAccount *a = ft_accounts_get (c->t->accounts, (guint) c->ids[i]);

  b_i64 (bd, b + 1, a->index);
  b_i64 (bd, b + 2, a->trips);
}

static void
bind_lacc (Binder *bd, int b, const RowCtx *c, gsize i)
{
  const FtLedgerAccount *a = ft_ledger_get_account (c->t->ledger, (guint) c->ids[i]);

  b_i64 (bd, b + 1, a->index);
  b_text (bd, b + 2, a->code);
  b_i64 (bd, b + 3, a->type);
  b_i64 (bd, b + 4, a->owner);
}

static void
bind_balance (Binder *bd, int b, const RowCtx *c, gsize i)
{
  const FtLedgerAccount *a = ft_ledger_get_account (c->t->ledger, (guint) c->ids[i]);

  b_i64 (bd, b + 1, a->index);
  b_i64 (bd, b + 2, a->balance);
}

static void
bind_tx (Binder *bd, int b, const RowCtx *c, gsize i)
{
  const FtLedgerTx *tx = ft_ledger_get_tx (c->t->ledger, c->first_tx + (guint) i);

  if (c->auto_key)
    b -= 1;
  else
    b_i64 (bd, b + 1, tx->id);
  b_i64 (bd, b + 2, tx->kind);
  b_i64 (bd, b + 3, tx->t);
  b_i64 (bd, b + 4, tx->user_account);
  b_i64 (bd, b + 5, tx->first_posting);
  b_i64 (bd, b + 6, tx->n_postings);
  b_i64 (bd, b + 7, tx->amount);
  b_i64 (bd, b + 8, tx->ref);
  b_i64 (bd, b + 9, (sqlite3_int64) tx->idem_hash);
  b_i64 (bd, b + 10, (sqlite3_int64) tx->args_hash);
  if (c->n_inline > 0)
    {
      const FtPosting *ps = &c->postings[tx->first_posting];
      guint k;

      for (k = 0; k < INLINE_POSTINGS; k++)
        if (k < tx->n_postings)
          {
            b_i64 (bd, b + 11 + 2 * (int) k, ps[k].ledger_account);
            b_i64 (bd, b + 12 + 2 * (int) k, ps[k].amount);
          }
        else
          {
            b_null (bd, b + 11 + 2 * (int) k);
            b_null (bd, b + 12 + 2 * (int) k);
          }
    }
}

static void
bind_posting (Binder *bd, int b, const RowCtx *c, gsize i)
{
  guint idx = c->posting_idx[i];
  const FtPosting *p = &c->postings[idx];

  b_i64 (bd, b + 1, idx);
  b_i64 (bd, b + 2, c->posting_tx[i]);
  b_i64 (bd, b + 3, p->ledger_account);
  b_i64 (bd, b + 4, p->amount);
}

static void
bind_booking (Binder *bd, int b, const RowCtx *c, gsize i)
{
  const FtBookingRec *r = ft_booking_get (c->t->booking, c->ids[i]);

  b_i64 (bd, b + 1, r->id);
  b_i64 (bd, b + 2, r->rider);
  b_i64 (bd, b + 3, r->vehicle);
  b_i64 (bd, b + 4, r->state);
  b_i64 (bd, b + 5, r->reserved_at);
  b_i64 (bd, b + 6, r->hold_until);
  b_i64 (bd, b + 7, r->unlocked_at);
  b_i64 (bd, b + 8, r->ended_at);
  b_i64 (bd, b + 9, r->paused_ms);
  b_i64 (bd, b + 10, r->paused_since);
  b_dbl (bd, b + 11, r->start.lat);
  b_dbl (bd, b + 12, r->start.lon);
  b_dbl (bd, b + 13, r->end.lat);
  b_dbl (bd, b + 14, r->end.lon);
  b_dbl (bd, b + 15, r->distance_m);
  b_i64 (bd, b + 16, r->price_minor);
  b_i64 (bd, b + 17, r->hold_tx);
  b_i64 (bd, b + 18, r->capture_tx);
  b_text (bd, b + 19, r->trip_id);
}

static void
bind_task (Binder *bd, int b, const RowCtx *c, gsize i)
{
  const FtTask *k = ft_ops_get (c->t->ops, c->ids[i]);

  b_i64 (bd, b + 1, k->id);
  b_i64 (bd, b + 2, k->kind);
  b_i64 (bd, b + 3, k->state);
  b_i64 (bd, b + 4, k->priority);
  b_i64 (bd, b + 5, k->vehicle);
  b_i64 (bd, b + 6, k->staff);
  b_i64 (bd, b + 7, k->created_by);
  b_i64 (bd, b + 8, k->target_zone);
  b_dbl (bd, b + 9, k->target.lat);
  b_dbl (bd, b + 10, k->target.lon);
  b_i64 (bd, b + 11, k->created);
  b_i64 (bd, b + 12, k->assigned_at);
  b_i64 (bd, b + 13, k->started_at);
  b_i64 (bd, b + 14, k->finished_at);
}

/* The multi-row form of an INSERT statement, prepared once and cached.
 * Its SQL comes from the constant one-row SQL, never from data. */
static sqlite3_stmt *
get_stmt_many (FtStore *s, int tier, StmtId id, GError **error)
{
  if (G_UNLIKELY (s->st_many[tier][id] == NULL))
    {
      const char *sql = stmt_sql[id];
      const char *group = strstr (sql, " VALUES (");
      g_autoptr(GString) many = NULL;
      int rc, r;

      g_assert (group != NULL);
      group += strlen (" VALUES ");
      many = g_string_new (sql);
      for (r = 1; r < tier_rows[tier]; r++)
        {
          g_string_append_c (many, ',');
          g_string_append (many, group);
        }
      rc = sqlite3_prepare_v3 (s->db, many->str, -1, SQLITE_PREPARE_PERSISTENT,
                               &s->st_many[tier][id], NULL);
      if (rc != SQLITE_OK)
        {
          s->st_many[tier][id] = NULL;
          sql_fail (s, error, "preparing a statement");
          return NULL;
        }
      s->shadow_many[tier][id] = g_new0 (BoundVal, (gsize) sqlite3_bind_parameter_count (s->st_many[tier][id]) + 1);
    }
  return s->st_many[tier][id];
}

/* Writes n rows with `bind`, the most rows per statement first. */
static gboolean
write_rows (FtStore *s, StmtId id, int n_cols, gsize n, BindRow bind, const RowCtx *c,
            GError **error, const char *what)
{
  gsize i = 0;
  Binder bd;
  int r, k;

  for (k = 0; k < N_TIERS; k++)
    {
      gsize rows = (gsize) tier_rows[k];

      if (n - i < rows)
        continue;
      if (!(bd.st = get_stmt_many (s, k, id, error)))
        return FALSE;
      bd.shadow = s->shadow_many[k][id];
      for (; i + rows <= n; i += rows)
        {
          for (r = 0; r < (int) rows; r++)
            bind (&bd, r * n_cols, c, i + (gsize) r);
          if (!step_done (s, bd.st, error, what))
            return FALSE;
        }
    }
  if (i < n)
    {
      if (!(bd.st = get_stmt (s, id, error)))
        return FALSE;
      bd.shadow = s->shadow[id];
      for (; i < n; i++)
        {
          bind (&bd, 0, c, i);
          if (!step_done (s, bd.st, error, what))
            return FALSE;
        }
    }
  return TRUE;
}

/* Appends n rows whose keys are first_key, first_key + 1, ... to a table
 * whose rows all have smaller keys. When first_key > 0 the keys are left
 * to SQLite (auto_id statement, row key = max + 1), which takes its append
 * path instead of a b-tree search per row; the last key it gave must then
 * be the expected one, or something else wrote into the table: the commit
 * fails (and is rolled back) as the keyed INSERT would have. */
static gboolean
append_rows (FtStore *s, StmtId keyed, StmtId auto_id, int n_cols, gint64 first_key, gsize n,
             BindRow bind, RowCtx *c, GError **error, const char *what)
{
  gint64 got, want = first_key + (gint64) n - 1;

  if (n == 0)
    return TRUE;
  if (first_key <= 0)
    {
      c->auto_key = 0;
      return write_rows (s, keyed, n_cols, n, bind, c, error, what);
    }
  c->auto_key = 1;
  if (!write_rows (s, auto_id, n_cols - 1, n, bind, c, error, what))
    {
      c->auto_key = 0;
      return FALSE;
    }
  c->auto_key = 0;
  got = sqlite3_last_insert_rowid (s->db);
  if (got != want)
    {
      g_set_error (error, FT_STORE_ERROR, FT_STORE_ERROR_SQL,
                   "%s: %s: rows %" G_GINT64_FORMAT "..%" G_GINT64_FORMAT " were to be added "
                   "but the table already holds keys up to %" G_GINT64_FORMAT "; something "
                   "other than this store wrote to it", s->path, what, first_key, want,
                   got - (gint64) n);
      return FALSE;
    }
  return TRUE;
}

static int
cmp_id (const void *a, const void *b)
{
  gint64 x = *(const gint64 *) a, y = *(const gint64 *) b;

  return (x > y) - (x < y);
}

/* Sort ids so upserts walk each table's b-tree in key order (several times
 * faster than random order for tables with existing rows). When the set
 * is a sizeable share of its id range (thousands of vehicles or riders
 * per commit), reading the ids back from the stamp array in order is
 * cheaper than sorting them. */
static void
dirty_sort (DirtySet *d)
{
  gsize i, j = 0;

  if (d->n <= 1)
    return;
  if (d->big || d->cap > 16 * d->n)
    {
      qsort (d->list, d->n, sizeof *d->list, cmp_id);
      return;
    }
  for (i = 0; i < d->cap && j < d->n; i++)
    if (d->stamp[i] == d->gen)
      d->list[j++] = (gint64) i;
  g_assert (j == d->n);
}

/* Takes an id out of the set's stamps (the caller drops it from the list). */
static inline void
dirty_unstamp (DirtySet *d, gint64 id)
{
  if (id >= 0 && (gsize) id < d->cap)
    d->stamp[id] = 0;   /* gen is never 0 */
}

/* Drop ids at or past `limit` (nothing to write for them). */
static void
dirty_keep_below (DirtySet *d, gint64 limit)
{
  gsize i, j = 0;

  for (i = 0; i < d->n; i++)
    if (d->list[i] < limit)
      d->list[j++] = d->list[i];
    else
      dirty_unstamp (d, d->list[i]);
  d->n = j;
}

/* Mark what an event touched. Ledger transactions are not marked here:
 * they (and the accounts their postings move) are found from the ledger's
 * own high-water mark, which also covers posts made without a log. */
static inline void
mark_event (FtStore *s, const FtStoreTargets *t, const FtEvent *e)
{
  switch ((FtEventKind) e->kind)
    {
    case FT_EV_VEHICLE_ADDED:
    case FT_EV_VEHICLE_STATE:
    case FT_EV_VEHICLE_MOVED:
      dirty_add (&s->d_vehicle, e->vehicle);
      break;
    case FT_EV_TELEMETRY:
      dirty_add (&s->d_vehicle, e->vehicle);
      if (t->fleet && e->vehicle >= 0 && (guint) e->vehicle < ft_fleet_n_vehicles (t->fleet))
        dirty_add (&s->d_pack, ft_fleet_get_vehicle (t->fleet, (guint) e->vehicle)->pack);
      break;
    case FT_EV_PACK_ADDED:
    case FT_EV_PACK_MOVED:
    case FT_EV_PACK_CHARGED:
      dirty_add (&s->d_pack, e->ref);
      dirty_add (&s->d_vehicle, e->vehicle);
      break;
    case FT_EV_ACCOUNT_CREATED:
    case FT_EV_ACCOUNT_ERASED:
      dirty_add (&s->d_account_cold, e->account);
      if (s->version < DERIVED_VERSION)
        dirty_add (&s->d_account, e->account);
      break;
    case FT_EV_BOOKING_ENDED:
      if (s->version < DERIVED_VERSION)
        dirty_add (&s->d_account, e->account);   /* trips counted */
      G_GNUC_FALLTHROUGH;
    case FT_EV_BOOKING_RESERVED:
    case FT_EV_BOOKING_EXPIRED:
    case FT_EV_BOOKING_CANCELLED:
    case FT_EV_BOOKING_UNLOCKED:
    case FT_EV_BOOKING_PAUSED:
    case FT_EV_BOOKING_RESUMED:
      dirty_add (&s->d_booking, e->ref);
      dirty_add (&s->d_vehicle, e->vehicle);
      break;
    case FT_EV_LEDGER_TX:
    case FT_EV_PAYMENT_DECLINED:
    case FT_EV_BOOKING_REFUSED:
    case FT_EV_RIDER_LOST:
    case FT_EV_STAFF_MOVED:
    case FT_EV_PRICE_CHANGED:
    case FT_EV_NONE:
    case FT_EV_N_KINDS:
      break;
    case FT_EV_TASK_CREATED:
    case FT_EV_TASK_ASSIGNED:
    case FT_EV_TASK_DONE:
    case FT_EV_TASK_CANCELLED:
      if (s->version >= TASKS_VERSION)
        dirty_add (&s->d_task, e->ref);
      G_GNUC_FALLTHROUGH;
    default:
      /* Operations may touch the vehicle (e.g. maintenance); rewrite it. */
      dirty_add (&s->d_vehicle, e->vehicle);
      break;
    }
}

static void
shadow_set (FtStore *s, guint p, const FtPack *pk)
{
  if (p >= s->pack_shadow_n)
    {
      gsize n = MAX (s->pack_shadow_n * 2, (gsize) p + 1);
      gsize i;

      s->pack_shadow = g_renew (PackShadow, s->pack_shadow, n);
      for (i = s->pack_shadow_n; i < n; i++)
        s->pack_shadow[i].place = -1, s->pack_shadow[i].holder = -1;
      s->pack_shadow_n = n;
    }
  s->pack_shadow[p].place = pk->place;
  s->pack_shadow[p].holder = pk->holder;
}

static void
enumerate_bookings (FtBooking *b, DirtySet *d)
{
  guint n = ft_booking_n (b);
  gint64 id;

  /* Booking ids are dense, 0 .. n-1 (gaps read back as NULL). */
  for (id = 0; id < (gint64) n; id++)
    if (ft_booking_get (b, id))
      dirty_add (d, id);
}

/* The commit body; `all` also rewrites every entity (save_all). Caller
 * holds no transaction. On failure everything is rolled back and nothing
 * in the store's bookkeeping changes. */
static gboolean
commit_internal (FtStore *s, const FtStoreTargets *t, gboolean all, GError **error)
{
  const FtEvent *ev = NULL;
  guint n_ev = 0, i;
  guint n_vehicles = t->fleet ? ft_fleet_n_vehicles (t->fleet) : 0;
  guint n_packs = t->fleet ? ft_fleet_n_packs (t->fleet) : 0;
  guint n_accounts = t->accounts ? ft_accounts_n (t->accounts) : 0;
  guint n_lacc = t->ledger ? ft_ledger_n_accounts (t->ledger) : 0;
  guint n_tx = t->ledger ? ft_ledger_n_tx (t->ledger) : 0;
  guint n_vans = t->fleet ? ft_fleet_n_vans (t->fleet) : 0;
  guint n_depots = t->fleet ? ft_fleet_n_depots (t->fleet) : 0;
  guint n_tasks = t->ops && s->version >= TASKS_VERSION ? ft_ops_n (t->ops) : 0;
  gboolean holders_changed = s->version >= 2 &&
                             (n_vans != s->saved_vans || n_depots != s->saved_depots);
  /* balances and trip counts are derived, not written (schema 4 on) */
  gboolean derived = s->version >= DERIVED_VERSION;
  sqlite3_stmt *st;
  RowCtx rc;
  gsize k;

  if (t->log)
    ev = ft_event_log_pending (t->log, &n_ev);

  if (!all && n_ev == 0 && n_vehicles == s->saved_vehicles && n_packs == s->saved_packs &&
      n_accounts == s->saved_accounts && n_lacc == s->saved_lacc && n_tx == s->saved_tx &&
      n_tasks == s->saved_tasks && !holders_changed)
    return TRUE;   /* nothing to write */

  if (!run_simple (s, ST_BEGIN, error, "starting a transaction"))
    return FALSE;

  dirty_clear (&s->d_vehicle);
  dirty_clear (&s->d_vehicle_cold);
  dirty_clear (&s->d_account_cold);
  dirty_clear (&s->d_lacc_cold);
  dirty_clear (&s->d_pack);
  dirty_clear (&s->d_account);
  dirty_clear (&s->d_lacc);
  dirty_clear (&s->d_booking);
  dirty_clear (&s->d_task);

  memset (&rc, 0, sizeof rc);
  rc.t = t;

  /* 1. the events, and what they touched */
  if (n_ev > 0)
    {
      gboolean consecutive = ev[0].seq == s->last_seq + 1;

      for (i = 1; consecutive && i < n_ev; i++)
        consecutive = ev[i].seq == ev[0].seq + i;
      rc.ev = ev;
      if (!append_rows (s, ST_INS_EVENT, ST_INS_EVENT_AUTO, 11,
                        consecutive ? (gint64) ev[0].seq : 0, n_ev, bind_event, &rc, error,
                        "appending events"))
        goto fail;
      for (i = 0; i < n_ev; i++)
        mark_event (s, t, &ev[i]);
    }

  /* 2. new entities and, for save_all, every entity */
  for (i = all ? 0 : s->saved_vehicles; i < n_vehicles; i++)
    {
      dirty_add (&s->d_vehicle_cold, i);
      dirty_add (&s->d_vehicle, i);
    }
  for (i = all ? 0 : s->saved_packs; i < n_packs; i++)
    dirty_add (&s->d_pack, i);
  for (i = all ? 0 : s->saved_accounts; i < n_accounts; i++)
    {
      dirty_add (&s->d_account_cold, i);
      if (!derived)
        dirty_add (&s->d_account, i);
    }
  for (i = all ? 0 : s->saved_lacc; i < n_lacc; i++)
    {
      dirty_add (&s->d_lacc_cold, i);
      if (!derived)
        dirty_add (&s->d_lacc, i);
    }
  if (all && t->booking)
    enumerate_bookings (t->booking, &s->d_booking);
  for (i = all ? 0 : MIN (s->saved_tasks, n_tasks); i < n_tasks; i++)
    dirty_add (&s->d_task, i);

  /* 3. ledger transactions since the last commit, with their postings */
  if (n_tx > s->saved_tx)
    {
      guint n_postings = 0;

      rc.first_tx = s->saved_tx;
      rc.n_inline = s->version >= 3 ? INLINE_POSTINGS : 0;
      rc.postings = ft_ledger_postings (t->ledger, &n_postings);
      g_array_set_size (s->posting_tx, 0);
      g_array_set_size (s->posting_idx, 0);
      for (i = s->saved_tx; i < n_tx; i++)
        {
          const FtLedgerTx *tx = ft_ledger_get_tx (t->ledger, i);
          guint j;

          for (j = 0; j < tx->n_postings; j++)
            {
              guint32 idx = tx->first_posting + j;

              if (!derived)
                dirty_add (&s->d_lacc, rc.postings[idx].ledger_account);
              if (j >= rc.n_inline)
                {
                  g_array_append_val (s->posting_tx, tx->id);
                  g_array_append_val (s->posting_idx, idx);
                }
            }
        }
      rc.posting_tx = (const gint64 *) s->posting_tx->data;
      rc.posting_idx = (const guint32 *) s->posting_idx->data;
      if (!(rc.n_inline
            ? append_rows (s, ST_INS_TX, ST_INS_TX_AUTO, 18, s->saved_tx, n_tx - s->saved_tx,
                           bind_tx, &rc, error, "writing ledger transactions")
            : write_rows (s, ST_INS_TX_V1, 10, n_tx - s->saved_tx, bind_tx, &rc, error,
                          "writing ledger transactions")) ||
          !write_rows (s, ST_INS_POSTING, 4, s->posting_tx->len, bind_posting, &rc, error,
                       "writing postings"))
        goto fail;
    }

  /* 4. packs first: a pack that left a vehicle dirties that vehicle */
  dirty_keep_below (&s->d_pack, n_packs);
  for (k = 0; k < s->d_pack.n; k++)
    {
      gint64 p = s->d_pack.list[k];
      const FtPack *pk = ft_fleet_get_pack (t->fleet, (guint) p);

      if ((gsize) p < s->pack_shadow_n && s->pack_shadow[p].place == FT_PACK_IN_VEHICLE)
        dirty_add (&s->d_vehicle, s->pack_shadow[p].holder);
      if (pk->place == FT_PACK_IN_VEHICLE)
        dirty_add (&s->d_vehicle, pk->holder);
    }
  dirty_keep_below (&s->d_vehicle, n_vehicles);
  dirty_keep_below (&s->d_vehicle_cold, n_vehicles);
  dirty_keep_below (&s->d_account, n_accounts);
  dirty_keep_below (&s->d_account_cold, n_accounts);
  dirty_keep_below (&s->d_lacc, n_lacc);
  dirty_keep_below (&s->d_lacc_cold, n_lacc);
  dirty_keep_below (&s->d_task, n_tasks);
  if (t->booking)
    {
      gsize j = 0;
      for (k = 0; k < s->d_booking.n; k++)
        if (ft_booking_get (t->booking, s->d_booking.list[k]))
          s->d_booking.list[j++] = s->d_booking.list[k];
        else
          dirty_unstamp (&s->d_booking, s->d_booking.list[k]);
      s->d_booking.n = j;
    }
  else
    s->d_booking.n = 0;

  dirty_sort (&s->d_pack);
  dirty_sort (&s->d_vehicle);
  dirty_sort (&s->d_account);
  dirty_sort (&s->d_lacc);
  dirty_sort (&s->d_vehicle_cold);
  dirty_sort (&s->d_account_cold);
  dirty_sort (&s->d_lacc_cold);
  dirty_sort (&s->d_booking);
  dirty_sort (&s->d_task);
  rc.ids = s->d_pack.list;
  if (!write_rows (s, ST_UPS_PACK, 9, s->d_pack.n, bind_pack, &rc, error, "writing battery packs"))
    goto fail;
  rc.ids = s->d_vehicle_cold.list;
  if (!write_rows (s, ST_UPS_VEHICLE, 4, s->d_vehicle_cold.n, bind_vehicle, &rc, error, "writing vehicles"))
    goto fail;
  rc.ids = s->d_vehicle.list;
  if (!write_rows (s, ST_UPS_VSTATE, 13, s->d_vehicle.n, bind_vehicle_state, &rc, error,
                   "writing vehicle states"))
    goto fail;
  rc.ids = s->d_account_cold.list;
  if (!write_rows (s, ST_UPS_ACCOUNT, 8, s->d_account_cold.n, bind_account, &rc, error, "writing accounts"))
    goto fail;
  rc.ids = s->d_account.list;
  if (!derived &&
      !write_rows (s, ST_UPS_TRIPS, 2, s->d_account.n, bind_trips, &rc, error, "writing trip counts"))
    goto fail;
  rc.ids = s->d_lacc_cold.list;
  if (!write_rows (s, ST_UPS_LACC, 4, s->d_lacc_cold.n, bind_lacc, &rc, error, "writing ledger accounts"))
    goto fail;
  rc.ids = s->d_lacc.list;
  if (!derived &&
      !write_rows (s, ST_UPS_BALANCE, 2, s->d_lacc.n, bind_balance, &rc, error, "writing balances"))
    goto fail;
  rc.ids = s->d_booking.list;
  if (!write_rows (s, ST_UPS_BOOKING, 19, s->d_booking.n, bind_booking, &rc, error, "writing bookings"))
    goto fail;
  rc.ids = s->d_task.list;
  if (!write_rows (s, ST_UPS_TASK, 14, s->d_task.n, bind_task, &rc, error, "writing tasks"))
    goto fail;

  /* 5. how many vans and depots hold packs (empty ones included) */
  if (holders_changed || (all && s->version >= 2 && t->fleet))
    {
      char holders[32];

      if (!(st = get_stmt (s, ST_PUT_META, error)))
        goto fail;
      g_snprintf (holders, sizeof holders, "%u %u", n_vans, n_depots);
      sqlite3_bind_text (st, 1, FLEET_HOLDERS_KEY, -1, SQLITE_STATIC);
      sqlite3_bind_text (st, 2, holders, -1, SQLITE_TRANSIENT);
      if (!step_done (s, st, error, "writing the van and depot counts"))
        goto fail;
    }

  if (!run_simple (s, ST_COMMIT, error, "committing"))
    goto fail;

  /* Committed: now, and only now, the bookkeeping moves on. */
  for (k = 0; k < s->d_pack.n; k++)
    if (s->d_pack.list[k] < (gint64) n_packs)
      shadow_set (s, (guint) s->d_pack.list[k],
                  ft_fleet_get_pack (t->fleet, (guint) s->d_pack.list[k]));
  s->saved_vehicles = n_vehicles;
  s->saved_packs = n_packs;
  s->saved_accounts = n_accounts;
  s->saved_lacc = n_lacc;
  s->saved_tx = n_tx;
  s->saved_tasks = n_tasks;
  s->saved_vans = n_vans;
  s->saved_depots = n_depots;
  s->n_events += n_ev;
  if (n_ev > 0)
    s->last_seq = ev[n_ev - 1].seq;
  s->n_commits++;
  s->window_open = FALSE;
  if (t->log)
    ft_event_log_drain (t->log);
  return TRUE;

fail:
  if (!sqlite3_get_autocommit (s->db))
    {
      sqlite3_stmt *rb = get_stmt (s, ST_ROLLBACK, NULL);
      if (rb)
        {
          sqlite3_step (rb);
          sqlite3_reset (rb);
        }
    }
  return FALSE;
}

gboolean
ft_store_commit (FtStore *s, const FtStoreTargets *t, GError **error)
{
  g_return_val_if_fail (s != NULL, FALSE);
  g_return_val_if_fail (t != NULL, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);
  return commit_internal (s, t, FALSE, error);
}

gboolean
ft_store_save_all (FtStore *s, const FtStoreTargets *t, GError **error)
{
  g_return_val_if_fail (s != NULL, FALSE);
  g_return_val_if_fail (t != NULL, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);
  return commit_internal (s, t, TRUE, error);
}

gboolean
ft_store_maybe_commit (FtStore *s, const FtStoreTargets *t, FtTime now,
                       gboolean *committed, GError **error)
{
  guint n;

  g_return_val_if_fail (s != NULL, FALSE);
  g_return_val_if_fail (t != NULL, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  if (committed)
    *committed = FALSE;
  n = t->log ? ft_event_log_n_pending (t->log) : 0;
  if (n == 0)
    return TRUE;
  if (!s->window_open)
    {
      s->window_open = TRUE;
      s->window_start = now;
    }
  if (n < s->cfg.max_batch_events && now - s->window_start < s->cfg.max_window)
    return TRUE;
  if (!commit_internal (s, t, FALSE, error))
    return FALSE;
  if (committed)
    *committed = TRUE;
  return TRUE;
}

/* ------------------------------------------------------------ loading */

static gboolean
corrupt (FtStore *s, GError **error, const char *fmt, ...) G_GNUC_PRINTF (3, 4);

static gboolean
corrupt (FtStore *s, GError **error, const char *fmt, ...)
{
  va_list ap;
  g_autofree char *msg = NULL;

  va_start (ap, fmt);
  msg = g_strdup_vprintf (fmt, ap);
  va_end (ap);
  g_set_error (error, FT_STORE_ERROR, FT_STORE_ERROR_CORRUPT, "%s: %s", s->path, msg);
  return FALSE;
}

static void
copy_text (char *dst, gsize size, const unsigned char *src)
{
  g_strlcpy (dst, src ? (const char *) src : "", size);
}

/* Runs a prepared SELECT row by row; the callback returns FALSE to stop
 * with an error already set. */
typedef gboolean (*RowFunc) (FtStore *s, const FtStoreTargets *t, sqlite3_stmt *st,
                             gpointer data, GError **error);

static gboolean
for_each_row (FtStore *s, const FtStoreTargets *t, const char *sql, RowFunc fn,
              gpointer data, GError **error)
{
  sqlite3_stmt *st = NULL;
  int rc;

  if (sqlite3_prepare_v2 (s->db, sql, -1, &st, NULL) != SQLITE_OK)
    return sql_fail (s, error, "preparing to load");
  while ((rc = sqlite3_step (st)) == SQLITE_ROW)
    if (!fn (s, t, st, data, error))
      {
        sqlite3_finalize (st);
        return FALSE;
      }
  if (rc != SQLITE_DONE)
    {
      sql_fail (s, error, "loading");
      sqlite3_finalize (st);
      return FALSE;
    }
  sqlite3_finalize (st);
  return TRUE;
}

static gboolean
dense_index (FtStore *s, const char *what, gint64 got, guint want, GError **error)
{
  if (got != (gint64) want)
    return corrupt (s, error, "%s rows are not dense: found index %" G_GINT64_FORMAT
                    " where %u was expected", what, got, want);
  return TRUE;
}

static gboolean
load_vehicle (FtStore *s, const FtStoreTargets *t, sqlite3_stmt *st, gpointer data, GError **error)
{
  FtVehicle v;

  memset (&v, 0, sizeof v);
  if (!dense_index (s, "vehicle", sqlite3_column_int64 (st, 0), ft_fleet_n_vehicles (t->fleet), error))
    return FALSE;
  v.index = (guint32) sqlite3_column_int64 (st, 0);
  copy_text (v.device_id, sizeof v.device_id, sqlite3_column_text (st, 1));
  copy_text (v.name, sizeof v.name, sqlite3_column_text (st, 2));
  v.kind = sqlite3_column_int (st, 3);
  if (sqlite3_column_type (st, 4) == SQLITE_NULL)
    return corrupt (s, error, "vehicle %u (%s) has no row in vehicle_state", v.index, v.name);
  v.state = sqlite3_column_int (st, 4);
  v.last_event = sqlite3_column_int (st, 5);
  v.state_since = sqlite3_column_int64 (st, 6);
  v.pos.lat = sqlite3_column_double (st, 7);
  v.pos.lon = sqlite3_column_double (st, 8);
  v.pack = sqlite3_column_int (st, 9);
  v.booking = sqlite3_column_int64 (st, 10);
  v.odometer_m = sqlite3_column_double (st, 11);
  v.wear = sqlite3_column_double (st, 12);
  v.fault_codes = (guint32) sqlite3_column_int64 (st, 13);
  v.last_seen = sqlite3_column_int64 (st, 14);
  v.resume_state = sqlite3_column_int (st, 15);
  if ((guint) v.kind >= FT_N_KINDS || (guint) v.state >= FT_N_STATES ||
      (guint) v.last_event >= FT_N_VEVS || (guint) v.resume_state >= FT_N_STATES)
    return corrupt (s, error, "vehicle %u (%s) has kind %d, state %d, event %d out of range",
                    v.index, v.name, v.kind, v.state, v.last_event);
  ft_fleet_restore_vehicle (t->fleet, &v);
  return TRUE;
}

static gboolean
load_pack (FtStore *s, const FtStoreTargets *t, sqlite3_stmt *st, gpointer data, GError **error)
{
  FtPack p;

  memset (&p, 0, sizeof p);
  if (!dense_index (s, "pack", sqlite3_column_int64 (st, 0), ft_fleet_n_packs (t->fleet), error))
    return FALSE;
  p.index = (guint32) sqlite3_column_int64 (st, 0);
  copy_text (p.id, sizeof p.id, sqlite3_column_text (st, 1));
  p.capacity_wh = sqlite3_column_double (st, 2);
  p.soc = sqlite3_column_double (st, 3);
  p.health = sqlite3_column_double (st, 4);
  p.cycles = (guint32) sqlite3_column_int64 (st, 5);
  p.throughput_wh = sqlite3_column_double (st, 6);
  p.place = sqlite3_column_int (st, 7);
  p.holder = sqlite3_column_int (st, 8);
  if ((guint) p.place >= FT_N_PACK_PLACES)
    return corrupt (s, error, "pack %u (%s) has place %d out of range", p.index, p.id, p.place);
  ft_fleet_restore_pack (t->fleet, &p);
  shadow_set (s, p.index, &p);
  return TRUE;
}

static gboolean
load_account (FtStore *s, const FtStoreTargets *t, sqlite3_stmt *st, gpointer data, GError **error)
{
  FtAccount a;

  memset (&a, 0, sizeof a);
  if (!dense_index (s, "account", sqlite3_column_int64 (st, 0), ft_accounts_n (t->accounts), error))
    return FALSE;
  a.index = (guint32) sqlite3_column_int64 (st, 0);
  copy_text (a.id, sizeof a.id, sqlite3_column_text (st, 1));
  a.roles = (guint32) sqlite3_column_int64 (st, 2);
  a.display_name = (char *) sqlite3_column_text (st, 3);   /* restore copies */
  a.email = (char *) sqlite3_column_text (st, 4);
  copy_text (a.pseudonym, sizeof a.pseudonym, sqlite3_column_text (st, 5));
  a.erased = sqlite3_column_int (st, 6) != 0;
  a.created = sqlite3_column_int64 (st, 7);
  if (s->version >= DERIVED_VERSION)
    {
      const GArray *trips = data;   /* ended bookings per rider */
      a.trips = a.index < trips->len ? g_array_index (trips, guint32, a.index) : 0;
    }
  else if (sqlite3_column_type (st, 8) == SQLITE_NULL)
    return corrupt (s, error, "account %u has no row in account_trips", a.index);
  else
    a.trips = (guint32) sqlite3_column_int64 (st, 8);
  ft_accounts_restore (t->accounts, &a);
  return TRUE;
}

static gboolean
load_lacc (FtStore *s, const FtStoreTargets *t, sqlite3_stmt *st, gpointer data, GError **error)
{
  FtLedgerAccount a;

  memset (&a, 0, sizeof a);
  if (!dense_index (s, "ledger account", sqlite3_column_int64 (st, 0),
                    ft_ledger_n_accounts (t->ledger), error))
    return FALSE;
  a.index = (guint32) sqlite3_column_int64 (st, 0);
  copy_text (a.code, sizeof a.code, sqlite3_column_text (st, 1));
  a.type = sqlite3_column_int (st, 2);
  if (sqlite3_column_type (st, 3) == SQLITE_NULL)
    return corrupt (s, error, "ledger account %u (%s) has no row in ledger_balances", a.index, a.code);
  a.balance = sqlite3_column_int64 (st, 3);
  a.owner = sqlite3_column_int (st, 4);
  if ((guint) a.type > FT_LACC_EXPENSE)
    return corrupt (s, error, "ledger account %u (%s) has type %d out of range",
                    a.index, a.code, a.type);
  ft_ledger_restore_account (t->ledger, &a);
  return TRUE;
}

typedef struct {
  sqlite3_stmt *postings;   /* cursor over the postings table in idx order */
  gboolean      has_row;
  guint         n_inline;   /* postings kept in the ledger_tx row */
  GArray       *buf;        /* FtPosting */
} TxLoad;

static gboolean
load_tx (FtStore *s, const FtStoreTargets *t, sqlite3_stmt *st, gpointer data, GError **error)
{
  TxLoad *tl = data;
  FtLedgerTx tx;
  guint j;
  GError *local = NULL;

  memset (&tx, 0, sizeof tx);
  tx.id = sqlite3_column_int64 (st, 0);
  tx.kind = sqlite3_column_int (st, 1);
  tx.t = sqlite3_column_int64 (st, 2);
  tx.user_account = sqlite3_column_int (st, 3);
  tx.first_posting = (guint32) sqlite3_column_int64 (st, 4);
  tx.n_postings = (guint32) sqlite3_column_int64 (st, 5);
  tx.amount = sqlite3_column_int64 (st, 6);
  tx.ref = sqlite3_column_int64 (st, 7);
  tx.idem_hash = (guint64) sqlite3_column_int64 (st, 8);
  tx.args_hash = (guint64) sqlite3_column_int64 (st, 9);

  g_array_set_size (tl->buf, 0);
  for (j = 0; j < tx.n_postings; j++)
    {
      FtPosting p;

      if (j < tl->n_inline)
        {
          int col = 10 + 2 * (int) j;

          if (sqlite3_column_type (st, col) == SQLITE_NULL ||
              sqlite3_column_type (st, col + 1) == SQLITE_NULL)
            return corrupt (s, error, "ledger transaction %" G_GINT64_FORMAT " should have %u "
                            "postings but its row lacks posting %u", tx.id, tx.n_postings, j);
          p.ledger_account = sqlite3_column_int (st, col);
          p.amount = sqlite3_column_int64 (st, col + 1);
          g_array_append_val (tl->buf, p);
          continue;
        }
      if (!tl->has_row || sqlite3_column_int64 (tl->postings, 1) != tx.id ||
          sqlite3_column_int64 (tl->postings, 0) != (gint64) tx.first_posting + j)
        return corrupt (s, error, "ledger transaction %" G_GINT64_FORMAT " should have %u "
                        "postings from %u but the postings table lacks some",
                        tx.id, tx.n_postings, tx.first_posting);
      p.ledger_account = sqlite3_column_int (tl->postings, 2);
      p.amount = sqlite3_column_int64 (tl->postings, 3);
      g_array_append_val (tl->buf, p);
      int rc = sqlite3_step (tl->postings);
      tl->has_row = rc == SQLITE_ROW;
      if (rc != SQLITE_ROW && rc != SQLITE_DONE)
        return sql_fail (s, error, "loading postings");
    }
  if (!ft_ledger_restore_tx (t->ledger, &tx, (const FtPosting *) tl->buf->data, &local))
    {
      corrupt (s, error, "%s", local->message);
      g_error_free (local);
      return FALSE;
    }
  return TRUE;
}

static gboolean
load_booking (FtStore *s, const FtStoreTargets *t, sqlite3_stmt *st, gpointer data, GError **error)
{
  FtBookingRec r;

  memset (&r, 0, sizeof r);
  r.id = sqlite3_column_int64 (st, 0);
  r.rider = (guint32) sqlite3_column_int64 (st, 1);
  r.vehicle = (guint32) sqlite3_column_int64 (st, 2);
  r.state = sqlite3_column_int (st, 3);
  r.reserved_at = sqlite3_column_int64 (st, 4);
  r.hold_until = sqlite3_column_int64 (st, 5);
  r.unlocked_at = sqlite3_column_int64 (st, 6);
  r.ended_at = sqlite3_column_int64 (st, 7);
  r.paused_ms = sqlite3_column_int64 (st, 8);
  r.paused_since = sqlite3_column_int64 (st, 9);
  r.start.lat = sqlite3_column_double (st, 10);
  r.start.lon = sqlite3_column_double (st, 11);
  r.end.lat = sqlite3_column_double (st, 12);
  r.end.lon = sqlite3_column_double (st, 13);
  r.distance_m = sqlite3_column_double (st, 14);
  r.price_minor = sqlite3_column_int64 (st, 15);
  r.hold_tx = sqlite3_column_int64 (st, 16);
  r.capture_tx = sqlite3_column_int64 (st, 17);
  copy_text (r.trip_id, sizeof r.trip_id, sqlite3_column_text (st, 18));
  if ((guint) r.state >= FT_N_BK_STATES)
    return corrupt (s, error, "booking %" G_GINT64_FORMAT " has state %d out of range",
                    r.id, r.state);
  if (t->fleet && r.vehicle >= ft_fleet_n_vehicles (t->fleet))
    return corrupt (s, error, "booking %" G_GINT64_FORMAT " names vehicle %u but there are %u",
                    r.id, r.vehicle, ft_fleet_n_vehicles (t->fleet));
  if (t->accounts && r.rider >= ft_accounts_n (t->accounts))
    return corrupt (s, error, "booking %" G_GINT64_FORMAT " names account %u but there are %u",
                    r.id, r.rider, ft_accounts_n (t->accounts));
  ft_booking_restore (t->booking, &r);
  return TRUE;
}

static gboolean
load_task (FtStore *s, const FtStoreTargets *t, sqlite3_stmt *st, gpointer data, GError **error)
{
  FtTask k;
  GError *local = NULL;

  memset (&k, 0, sizeof k);
  k.id = sqlite3_column_int64 (st, 0);
  k.kind = sqlite3_column_int (st, 1);
  k.state = sqlite3_column_int (st, 2);
  k.priority = sqlite3_column_int (st, 3);
  k.vehicle = sqlite3_column_int (st, 4);
  k.staff = sqlite3_column_int (st, 5);
  k.created_by = sqlite3_column_int (st, 6);
  k.target_zone = sqlite3_column_int (st, 7);
  k.target.lat = sqlite3_column_double (st, 8);
  k.target.lon = sqlite3_column_double (st, 9);
  k.created = sqlite3_column_int64 (st, 10);
  k.assigned_at = sqlite3_column_int64 (st, 11);
  k.started_at = sqlite3_column_int64 (st, 12);
  k.finished_at = sqlite3_column_int64 (st, 13);
  if (k.staff >= 0 && t->accounts && (guint) k.staff >= ft_accounts_n (t->accounts))
    return corrupt (s, error, "task %" G_GINT64_FORMAT " names staff account %d but there are %u",
                    k.id, k.staff, ft_accounts_n (t->accounts));
  if (!ft_ops_restore (t->ops, &k, &local))
    {
      corrupt (s, error, "%s", local->message);
      g_error_free (local);
      return FALSE;
    }
  return TRUE;
}

/* Trip counts from schema 4 on: ended bookings per rider, read from
 * migration 4's account_trips view (the one place that says what a trip
 * is), into trips[rider] (the array grows to the highest rider named). */
static gboolean
count_trips (FtStore *s, GArray *trips, GError **error)
{
  sqlite3_stmt *st = NULL;
  int rc;

  G_STATIC_ASSERT (FT_BK_ENDED == 3);   /* the view counts state 3 */
  if (sqlite3_prepare_v2 (s->db, "SELECT idx, trips FROM account_trips", -1, &st, NULL) != SQLITE_OK)
    return sql_fail (s, error, "counting trips");
  while ((rc = sqlite3_step (st)) == SQLITE_ROW)
    {
      gint64 rider = sqlite3_column_int64 (st, 0), n = sqlite3_column_int64 (st, 1);

      if (rider < 0 || rider >= G_MAXINT32)
        {
          sqlite3_finalize (st);
          return corrupt (s, error, "%" G_GINT64_FORMAT " ended bookings name rider %" G_GINT64_FORMAT,
                          n, rider);
        }
      if ((guint) rider >= trips->len)
        g_array_set_size (trips, (guint) rider + 1);
      g_array_index (trips, guint32, rider) = (guint32) MIN (n, G_MAXUINT32);
    }
  sqlite3_finalize (st);
  if (rc != SQLITE_DONE)
    return sql_fail (s, error, "counting trips");
  return TRUE;
}

/* Every hot row belongs to a loaded entity (the joins above found the
 * missing ones; this finds the orphans). */
static gboolean
hot_rows_match (FtStore *s, const FtStoreTargets *t, GError **error)
{
  static const struct { const char *table, *sql; } hot[] = {
    { "vehicle_state", "SELECT count(*) FROM vehicle_state" },
    { "account_trips", "SELECT count(*) FROM account_trips" },
    { "ledger_balances", "SELECT count(*) FROM ledger_balances" },
  };
  guint loaded[3];
  guint i;

  loaded[0] = t->fleet ? ft_fleet_n_vehicles (t->fleet) : 0;
  loaded[1] = t->accounts ? ft_accounts_n (t->accounts) : 0;
  loaded[2] = t->ledger ? ft_ledger_n_accounts (t->ledger) : 0;
  for (i = 0; i < G_N_ELEMENTS (hot); i++)
    {
      gint64 n = 0;

      if ((i == 0 && !t->fleet) || (i == 1 && !t->accounts) || (i == 2 && !t->ledger))
        continue;
      if (i > 0 && s->version >= DERIVED_VERSION)
        break;   /* views from schema 4 on, not stored rows */
      if (!query_int64 (s, hot[i].sql, &n, error))
        return FALSE;
      if (n != (gint64) loaded[i])
        return corrupt (s, error, "%s has %" G_GINT64_FORMAT " rows for %u entities",
                        hot[i].table, n, loaded[i]);
    }
  return TRUE;
}

/* `local` is passed by address and read here, after the checker ran: an
 * argument read beside the call could be read before it. */
static gboolean
check_invariant (FtStore *s, gboolean ok, GError **local, const char *what, GError **error)
{
  if (ok)
    return TRUE;
  g_set_error (error, FT_STORE_ERROR, FT_STORE_ERROR_CORRUPT,
               "%s: the loaded %s fail their invariants: %s", s->path, what,
               *local ? (*local)->message : "(no reason given)");
  g_clear_error (local);
  return FALSE;
}

gboolean
ft_store_load (FtStore *s, const FtStoreTargets *t, GError **error)
{
  GError *local = NULL;
  gboolean derived = s->version >= DERIVED_VERSION;
  guint i;

  g_return_val_if_fail (s != NULL, FALSE);
  g_return_val_if_fail (t != NULL, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);
  g_return_val_if_fail (!t->fleet || (ft_fleet_n_vehicles (t->fleet) == 0 &&
                                      ft_fleet_n_packs (t->fleet) == 0), FALSE);
  g_return_val_if_fail (!t->accounts || ft_accounts_n (t->accounts) == 0, FALSE);
  g_return_val_if_fail (!t->ledger || ft_ledger_n_tx (t->ledger) == 0, FALSE);
  g_return_val_if_fail (!t->booking || ft_booking_n (t->booking) == 0, FALSE);
  g_return_val_if_fail (!t->booking || (t->fleet && t->accounts), FALSE);
  g_return_val_if_fail (!t->ops || (ft_ops_n (t->ops) == 0 && t->fleet && t->accounts), FALSE);

  if (t->fleet)
    {
      g_autofree char *holders = ft_store_dup_meta (s, FLEET_HOLDERS_KEY);
      guint nv = 0, nd = 0;

      if (holders && sscanf (holders, "%u %u", &nv, &nd) != 2)
        return corrupt (s, error, "meta %s is '%s', expected two counts", FLEET_HOLDERS_KEY, holders);
      if (nv || nd)
        ft_fleet_set_holders (t->fleet, nv, nd);
    }
  if (t->fleet &&
      (!for_each_row (s, t, "SELECT idx,device_id,name,kind,state,last_event,state_since,lat,lon,"
                      "pack,booking,odometer_m,wear,fault_codes,last_seen,resume_state"
                      " FROM vehicles LEFT JOIN vehicle_state USING (idx) ORDER BY idx",
                      load_vehicle, NULL, error) ||
       !for_each_row (s, t, "SELECT idx,id,capacity_wh,soc,health,cycles,throughput_wh,place,holder"
                      " FROM packs ORDER BY idx", load_pack, NULL, error)))
    return FALSE;
  if (t->accounts)
    {
      g_autoptr(GArray) trips = g_array_new (FALSE, TRUE, sizeof (guint32));

      if (derived && !count_trips (s, trips, error))
        return FALSE;
      if (!for_each_row (s, t, derived
                         ? "SELECT idx,id,roles,display_name,email,pseudonym,erased,created"
                           " FROM accounts ORDER BY idx"
                         : "SELECT idx,id,roles,display_name,email,pseudonym,erased,created,trips"
                           " FROM accounts LEFT JOIN account_trips USING (idx) ORDER BY idx",
                         load_account, trips, error))
        return FALSE;
      if (trips->len > ft_accounts_n (t->accounts))
        return corrupt (s, error, "bookings name rider %u but there are %u accounts",
                        trips->len - 1, ft_accounts_n (t->accounts));
    }
  if (t->ledger)
    {
      TxLoad tl;
      gboolean ok;
      int rc;

      /* balances: stored before schema 4, summed from the postings after */
      if (!for_each_row (s, t, derived
                         ? "SELECT idx,code,type,0,owner FROM ledger_accounts ORDER BY idx"
                         : "SELECT idx,code,type,balance,owner FROM ledger_accounts"
                           " LEFT JOIN ledger_balances USING (idx) ORDER BY idx",
                         load_lacc, NULL, error))
        return FALSE;
      memset (&tl, 0, sizeof tl);
      if (sqlite3_prepare_v2 (s->db, "SELECT idx,tx,ledger_account,amount FROM postings ORDER BY idx",
                              -1, &tl.postings, NULL) != SQLITE_OK)
        return sql_fail (s, error, "preparing to load postings");
      rc = sqlite3_step (tl.postings);
      tl.has_row = rc == SQLITE_ROW;
      tl.buf = g_array_new (FALSE, FALSE, sizeof (FtPosting));
      ok = (rc == SQLITE_ROW || rc == SQLITE_DONE) ? TRUE : sql_fail (s, error, "loading postings");
      tl.n_inline = s->version >= 3 ? INLINE_POSTINGS : 0;
      ok = ok && for_each_row (s, t, s->version >= 3
                               ? "SELECT id,kind,t,user_account,first_posting,n_postings,amount,"
                                 "ref,idem_hash,args_hash,acc0,amt0,acc1,amt1,acc2,amt2,acc3,amt3"
                                 " FROM ledger_tx ORDER BY id"
                               : "SELECT id,kind,t,user_account,first_posting,n_postings,amount,"
                                 "ref,idem_hash,args_hash FROM ledger_tx ORDER BY id",
                               load_tx, &tl, error);
      if (ok && tl.has_row)
        ok = corrupt (s, error, "posting %" G_GINT64_FORMAT " belongs to no loaded transaction",
                      (gint64) sqlite3_column_int64 (tl.postings, 0));
      sqlite3_finalize (tl.postings);
      g_array_unref (tl.buf);
      if (!ok)
        return FALSE;
      if (derived)
        ft_ledger_restore_balances (t->ledger);
      if (t->payments)
        ft_payments_rebuild (t->payments);
    }
  if (t->booking &&
      !for_each_row (s, t, "SELECT id,rider,vehicle,state,reserved_at,hold_until,unlocked_at,"
                     "ended_at,paused_ms,paused_since,start_lat,start_lon,end_lat,end_lon,"
                     "distance_m,price_minor,hold_tx,capture_tx,trip_id FROM bookings ORDER BY id",
                     load_booking, NULL, error))
    return FALSE;

  if (t->ops && s->version >= TASKS_VERSION &&
      !for_each_row (s, t, "SELECT id,kind,state,priority,vehicle,staff,created_by,target_zone,"
                     "target_lat,target_lon,created,assigned_at,started_at,finished_at"
                     " FROM tasks ORDER BY id", load_task, NULL, error))
    return FALSE;

  /* Restores emit no events; drop any a module emitted anyway, then
   * continue numbering after the last stored event. */
  if (t->log)
    {
      ft_event_log_drain (t->log);
      if (s->last_seq + 1 > ft_event_log_last_seq (t->log) + 1)
        ft_event_log_set_next_seq (t->log, s->last_seq + 1);
    }

  if (!hot_rows_match (s, t, error))
    return FALSE;

  s->saved_vehicles = t->fleet ? ft_fleet_n_vehicles (t->fleet) : 0;
  s->saved_packs = t->fleet ? ft_fleet_n_packs (t->fleet) : 0;
  s->saved_accounts = t->accounts ? ft_accounts_n (t->accounts) : 0;
  s->saved_lacc = t->ledger ? ft_ledger_n_accounts (t->ledger) : 0;
  s->saved_tx = t->ledger ? ft_ledger_n_tx (t->ledger) : 0;
  s->saved_tasks = t->ops && s->version >= TASKS_VERSION ? ft_ops_n (t->ops) : 0;
  s->saved_vans = t->fleet ? ft_fleet_n_vans (t->fleet) : 0;
  s->saved_depots = t->fleet ? ft_fleet_n_depots (t->fleet) : 0;
  s->window_open = FALSE;
  for (i = 0; t->fleet && i < s->saved_packs; i++)
    shadow_set (s, i, ft_fleet_get_pack (t->fleet, i));

  if (t->fleet && !check_invariant (s, ft_fleet_check (t->fleet, &local), &local, "vehicles and packs", error))
    return FALSE;
  if (t->accounts && !check_invariant (s, ft_accounts_check (t->accounts, &local), &local, "accounts", error))
    return FALSE;
  if (t->ledger && !check_invariant (s, ft_ledger_check (t->ledger, &local), &local, "ledger", error))
    return FALSE;
  if (t->payments && !check_invariant (s, ft_payments_check (t->payments, &local), &local, "payments", error))
    return FALSE;
  if (t->booking && !check_invariant (s, ft_booking_check (t->booking, &local), &local, "bookings", error))
    return FALSE;
  if (t->ops && !check_invariant (s, ft_ops_check (t->ops, &local), &local, "tasks", error))
    return FALSE;
  return TRUE;
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
  if (!(st = get_stmt (s, ST_PUT_META, error)))
    return FALSE;
  sqlite3_bind_text (st, 1, key, -1, SQLITE_STATIC);
  sqlite3_bind_text (st, 2, value, -1, SQLITE_STATIC);
  if (!step_done (s, st, error, "writing meta"))
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
  if (s->version < 2 || !(st = get_stmt (s, ST_GET_META, NULL)))
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
    return sql_fail (s, error, "running integrity_check");
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
      sql_fail (s, error, "running integrity_check");
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
