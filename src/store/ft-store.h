/* ft-store.h — SQLite persistence. WAL mode, numbered schema migrations,
 * prepared statements only. Every domain event is appended to the event log
 * table and applied to the state tables in the same transaction; many events
 * go in one transaction (group commit) with a bound on the batch size and
 * on its time window. A caller that must confirm an operation (live mode)
 * confirms only after ft_store_commit returns TRUE.
 *
 * What follows from other rows is not stored twice (schema 4 on): ledger
 * balances are the sums of the postings and a rider's trip count is the
 * number of their ended bookings. The views ledger_balances and
 * account_trips show them; ft_store_load recomputes them.
 */
#pragma once

#include "ft-booking.h"
#include "ft-ops.h"

G_BEGIN_DECLS

#define FT_STORE_ERROR (ft_store_error_quark ())
GQuark ft_store_error_quark (void);
typedef enum {
  FT_STORE_ERROR_OPEN,
  FT_STORE_ERROR_SCHEMA,      /* newer schema than this build, or corrupt */
  FT_STORE_ERROR_SQL,
  FT_STORE_ERROR_CORRUPT,     /* loaded state fails an invariant */
  FT_STORE_ERROR_NOT_FOUND,   /* no such row (e.g. a model version) */
} FtStoreError;

/* The live modules whose state the store persists (borrowed). */
typedef struct {
  FtEventLog *log;
  FtFleet    *fleet;
  FtAccounts *accounts;
  FtLedger   *ledger;
  FtPayments *payments;
  FtBooking  *booking;
  FtOps      *ops;          /* fleet-operations tasks (schema 5 on) */
} FtStoreTargets;

typedef struct {
  guint  max_batch_events;    /* commit when this many are pending; default 65536
                               * (about 8,000 booking lifecycles, ~5 MB in memory) */
  FtTime max_window;          /* or when the oldest pending is this old; default 50 ms */
  gboolean synchronous_full;  /* PRAGMA synchronous=FULL (default NORMAL in WAL) */
} FtStoreConfig;

typedef struct _FtStore FtStore;

void      ft_store_config_init    (FtStoreConfig *cfg);
FtStore  *ft_store_open           (const char *path, const FtStoreConfig *cfg, GError **error);
void      ft_store_close          (FtStore *s);
int       ft_store_schema_version (FtStore *s);
/* Load every persisted entity into empty modules (after open) through
 * their restore functions, sum the balances from the postings and count
 * trips from the ended bookings, rebuild the payment indexes, continue the log's
 * numbering after the last stored event, then run every module's invariant
 * checker: FT_STORE_ERROR_CORRUPT names the first violation. Targets left
 * NULL are skipped (booking and ops need fleet and accounts). */
gboolean  ft_store_load           (FtStore *s, const FtStoreTargets *t, GError **error);
/* Commit all pending events and the state they touched in one transaction,
 * then drain the log. "Touched" is derived from the events (their vehicle,
 * account and ref fields by kind; a pack leaving a vehicle touches that
 * vehicle too) plus everything created since the last commit (vehicles,
 * packs, accounts, ledger accounts, ledger transactions with their
 * postings, tasks); each touched entity is written once with its current state.
 * Changes made without an event (positions moved with log_it FALSE, drains,
 * wear) reach the file with the entity's next event or ft_store_save_all.
 * On failure the transaction is rolled back, the log keeps its pending
 * events and the next commit retries them. */
gboolean  ft_store_commit         (FtStore *s, const FtStoreTargets *t, GError **error);
/* The same commit, with `extra` run inside its transaction just before
 * COMMIT (given the connection; it returns FALSE with error set to roll
 * everything back): rows of a module's own tables that must change
 * together with the state, e.g. a review decided with the task it opens.
 * Runs even when nothing else is pending. */
struct sqlite3;
typedef gboolean (*FtStoreExtraFunc) (struct sqlite3 *db, gpointer data, GError **error);
gboolean  ft_store_commit_with    (FtStore *s, const FtStoreTargets *t, FtStoreExtraFunc extra,
                                   gpointer extra_data, GError **error);
/* Commit if the batch is full or its window has passed. The window is
 * measured in `now`, the caller's clock: it opens at the first call that
 * sees pending events, so any clock works (virtual time in simulation,
 * wall time live). Returns TRUE if nothing failed; *committed (nullable)
 * tells whether a commit happened. */
gboolean  ft_store_maybe_commit   (FtStore *s, const FtStoreTargets *t, FtTime now,
                                   gboolean *committed, GError **error);
/* Write the whole current state (e.g. after a simulation, for positions and
 * SOC that change without events). */
gboolean  ft_store_save_all       (FtStore *s, const FtStoreTargets *t, GError **error);
guint64   ft_store_n_events       (FtStore *s);       /* rows in the event table */
guint64   ft_store_n_commits      (FtStore *s);
/* Highest event seq known to be in the file (0 if none). */
guint64   ft_store_last_seq       (FtStore *s);
/* Key/value table for run metadata and KPIs (JSON strings welcome). */
gboolean  ft_store_put_meta       (FtStore *s, const char *key, const char *value, GError **error);
char     *ft_store_dup_meta       (FtStore *s, const char *key);
/* Raw handle for readers (KPI queries, exports). Do not write through it;
 * only src/analytics (an_*, schema 6), src/models (schema 7) and
 * src/inspect (inspect_*, schema 9) write their own tables. */
struct sqlite3 *ft_store_get_db   (FtStore *s);
gboolean  ft_store_integrity_ok   (FtStore *s, GError **error);
/* Delete a store's file with SQLite's -wal and -shm files beside it (none
 * of them existing is fine). Only for a store nobody has open. On failure
 * the error names the file that stayed. */
gboolean  ft_store_remove_files   (const char *path, GError **error);
/* Reads one meta value from a store file opened read-only (the file is
 * never changed, not even migrated). NULL with error unset when the file is
 * a Fleet Twin store without that key; NULL with error when it is missing or
 * not a Fleet Twin store. */
char     *ft_store_read_meta      (const char *path, const char *key, GError **error);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (FtStore, ft_store_close)

G_END_DECLS
