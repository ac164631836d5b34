/* ft-store-private.h — store internals. For its own tests: open a file but
 * migrate it only up to a chosen schema version (to build "old" files and
 * test the migration path from them), and the latest version this build
 * knows. For the files of the store (ft-store.c: open, close, statements,
 * meta; ft-store-schema.c: migrations; ft-store-commit.c: group commit;
 * ft-store-load.c: loading): the FtStore struct, the statement ids, the
 * dirty sets and the helpers they share.
 */
#pragma once

#include "ft-store.h"

#include <sqlite3.h>
#include <string.h>

G_BEGIN_DECLS

#define FT_STORE_SCHEMA_LATEST 15

/* Like ft_store_open but stops migrating at target_version (1..latest). */
FtStore *ft_store_open_at_version (const char *path, const FtStoreConfig *cfg,
                                   int target_version, GError **error);

/* ------------------------------------------------------------ internals */

#define FT_STORE_APPLICATION_ID 0x46545749   /* "FTWI" */
#define FLEET_HOLDERS_KEY "ft.fleet.holders"   /* meta: "<n_vans> <n_depots>" */

/* From this schema version on, balances and trip counts are derived. */
#define DERIVED_VERSION 4
/* From this one on, tasks are stored. */
#define TASKS_VERSION 5
/* From this one on, the analytics tables (an_*) exist (src/analytics). */
#define ANALYTICS_VERSION 6
/* From this one on, bookings keep the multipliers of the price shown. */
#define SHOWN_PRICE_VERSION 8
/* From this one on, tasks keep their approval (live mode's proposals). */
#define TASK_APPROVAL_VERSION 13
/* From this one on, the shadow models' actuals are rows of their own and
 * predictions a view over them (ft-store-models.c). */
#define ACTUALS_VERSION 15

/* Postings kept in the ledger_tx row from schema version 3 on. */
#define INLINE_POSTINGS 4

/* Rows per statement of the multi-row INSERT forms, largest first. */
#define N_TIERS 2

typedef enum {
  ST_BEGIN, ST_COMMIT, ST_ROLLBACK,
  ST_INS_EVENT, ST_INS_EVENT_AUTO, ST_UPS_VEHICLE, ST_UPS_VSTATE, ST_UPS_PACK, ST_UPS_ACCOUNT, ST_UPS_TRIPS,
  ST_UPS_LACC, ST_UPS_BALANCE,
  ST_INS_TX_V1, ST_INS_TX, ST_INS_TX_AUTO, ST_INS_POSTING, ST_UPS_BOOKING, ST_UPS_BOOKING_V6, ST_UPS_TASK, ST_UPS_TASK_V13,
  ST_PUT_META, ST_GET_META,
  ST_INS_PREDICTION, ST_INS_ACTUAL, ST_INS_OUTCOME,
  N_ST
} StmtId;

/* The one-row SQL of each cached statement (ft-store.c). */
extern const char *const ft_store_stmt_sql[N_ST];

/* What is bound to one parameter of a cached statement (see Binder). */
typedef struct {
  gint64 v;
  int    type;      /* 0 unknown, 1 integer, 2 real (bits in v), 3 NULL */
} BoundVal;

/* ------------------------------------------------------------ dirty sets */

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

static inline void
dirty_init (DirtySet *d)
{
  memset (d, 0, sizeof *d);
  d->gen = 1;
}

static inline void
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

static inline void
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

/* ------------------------------------------------------------ the store */

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

/* ft-store.c */
gboolean      ft_store_sql_fail    (FtStore *s, GError **error, const char *what);
sqlite3_stmt *ft_store_get_stmt    (FtStore *s, StmtId id, GError **error);
gboolean      ft_store_run_simple  (FtStore *s, StmtId id, GError **error, const char *what);
/* A one-off query returning a single integer (schema inspection, counts). */
gboolean      ft_store_query_int64 (FtStore *s, const char *sql, gint64 *out, GError **error);
gboolean      ft_store_exec_const  (FtStore *s, const char *sql, GError **error, const char *what);
/* ft-store-schema.c: bring the file to target_version, one migration per
 * transaction. */
gboolean      ft_store_migrate     (FtStore *s, int target_version, GError **error);
/* ft-store-commit.c: the rows per statement of tier (0 .. N_TIERS - 1,
 * most first) and the cached multi-row form of an INSERT of ft_store_stmt_sql. */
int           ft_store_tier_rows   (int tier);
sqlite3_stmt *ft_store_get_stmt_many (FtStore *s, int tier, StmtId id, GError **error);
/* ft-store-commit.c: remember where pack p was when last written. */
void          ft_store_shadow_set  (FtStore *s, guint p, const FtPack *pk);

/* Step a cached write statement once and reset it. */
static inline gboolean
ft_store_step_done (FtStore *s, sqlite3_stmt *st, GError **error, const char *what)
{
  int rc = sqlite3_step (st);

  sqlite3_reset (st);
  if (G_UNLIKELY (rc != SQLITE_DONE))
    return ft_store_sql_fail (s, error, what);
  return TRUE;
}

G_END_DECLS
