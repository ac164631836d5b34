/* ft-ledger.h — a double-entry ledger. Ledger accounts hold signed balances
 * (debit positive, credit negative); a transaction is a set of postings
 * whose amounts sum to zero, applied atomically or not at all. The checker
 * verifies that every transaction balances and that each account's balance
 * equals the sum of its postings.
 */
#pragma once

#include "ft-common.h"
#include "ft-event.h"

G_BEGIN_DECLS

#define FT_LEDGER_ERROR (ft_ledger_error_quark ())
GQuark ft_ledger_error_quark (void);
typedef enum {
  FT_LEDGER_ERROR_UNBALANCED,
  FT_LEDGER_ERROR_NO_SUCH_ACCOUNT,
  FT_LEDGER_ERROR_CURRENCY,
  FT_LEDGER_ERROR_INVALID,
} FtLedgerError;

typedef enum {
  FT_LACC_ASSET = 0,       /* e.g. card clearing (money the provider owes us) */
  FT_LACC_LIABILITY,       /* rider wallets, held funds */
  FT_LACC_REVENUE,
  FT_LACC_EXPENSE,
} FtLedgerAccountType;

/* An account's balance is not in its record but in an array of its own
 * (ft_ledger_balance): a request reads and writes its rider's balances,
 * and a run's balances (8 bytes an account) stay in cache where the
 * records (52 bytes) would not. */
typedef struct {
  guint32             index;
  char                code[40];   /* "wallet:17", "hold:17", "revenue:rides", "clearing:card" */
  FtLedgerAccountType type;
  gint32              owner;      /* user account index or -1 */
} FtLedgerAccount;

/* 12 bytes, not 16: a run keeps every posting (about four a request), so
 * the amount sits unpadded after the account (4-byte aligned; x86 and
 * arm64 read it as fast). */
typedef struct __attribute__ ((packed, aligned (4))) {
  gint32 ledger_account;
  gint64 amount;                  /* debit positive, credit negative */
} FtPosting;
G_STATIC_ASSERT (sizeof (FtPosting) == 12);

typedef enum {
  FT_TX_TOPUP = 0, FT_TX_HOLD, FT_TX_CAPTURE, FT_TX_RELEASE, FT_TX_REFUND,
  FT_TX_SETTLE_DEBT, FT_TX_ADJUST, FT_TX_INCENTIVE, FT_N_TX_KINDS
} FtTxKind;

/* A transaction's id is its index (ft_ledger_get_tx (l, id)): a run keeps
 * every transaction (about 1.7 a request), so the record does not repeat
 * it (56 bytes, not 64). */
typedef struct {
  FtTime   t;
  FtTxKind kind;                  /* beside user_account: no padding */
  gint32   user_account;          /* -1 if none */
  guint32  first_posting;         /* index into the postings array */
  guint32  n_postings;
  gint64   amount;                /* headline amount (positive) */
  gint64   ref;                   /* booking id, refunded tx id, or -1 */
  guint64  idem_hash;             /* ft_hash_string64 (idempotency key), 0 = none */
  guint64  args_hash;             /* hash of the call's arguments, to spot key reuse */
} FtLedgerTx;

typedef struct _FtLedger FtLedger;

FtLedger   *ft_ledger_new              (const char *currency, FtEventLog *log);
void        ft_ledger_free             (FtLedger *l);
void        ft_ledger_set_event_log    (FtLedger *l, FtEventLog *log);
FtEventLog *ft_ledger_get_event_log    (FtLedger *l);
const char *ft_ledger_currency         (const FtLedger *l);
/* Returns the index of the account with this code, creating it if needed. */
guint       ft_ledger_account          (FtLedger *l, const char *code, FtLedgerAccountType type,
                                        gint32 owner);
gboolean    ft_ledger_lookup           (const FtLedger *l, const char *code, guint *out);
guint       ft_ledger_n_accounts       (const FtLedger *l);
/* Changes (grows) whenever an account's code is added or replaced, so a
 * caller that knows which codes existed at one value knows a lookup's
 * answer while it holds. */
guint64     ft_ledger_codes_generation (const FtLedger *l);
const FtLedgerAccount *ft_ledger_get_account (const FtLedger *l, guint i);
/* Posts a balanced transaction; returns its id or -1 with an error. */
gint64      ft_ledger_post             (FtLedger *l, FtTxKind kind, FtTime t, gint32 user_account,
                                        gint64 amount, gint64 ref, guint64 idem_hash, guint64 args_hash,
                                        const FtPosting *postings, guint n, GError **error);
/* Room for n_tx transactions and n_postings postings in all, made now
 * (a run that knows its size: the arrays then never move as they fill).
 * Changes no contents; the arrays still grow past it. */
void        ft_ledger_expect           (FtLedger *l, guint n_tx, guint n_postings);
/* Whether the ledger keeps its journal (every transaction and posting: the
 * default), or, for a run that needs only totals (a simulation's
 * summary_records), only balances and the count of transactions: nothing
 * per transaction (payments keeps the hashes of the keys it still needs
 * itself). Set while it has no transactions. Without a journal get_tx
 * gives NULL, tx_hashes nothing, postings none, restore_tx refuses, and
 * check proves only that balances sum to zero. */
void        ft_ledger_set_journal      (FtLedger *l, gboolean keep);
gboolean    ft_ledger_has_journal      (const FtLedger *l);
guint       ft_ledger_n_tx             (const FtLedger *l);
const FtLedgerTx *ft_ledger_get_tx     (const FtLedger *l, guint i);     /* i == id */
/* Transaction i's kind, and its key's and arguments' hashes (either may be
 * NULL); without a journal FT_N_TX_KINDS and hashes 0 (none kept). */
FtTxKind    ft_ledger_tx_hashes        (const FtLedger *l, guint i, guint64 *idem_hash,
                                        guint64 *args_hash);
const FtPosting  *ft_ledger_postings   (const FtLedger *l, guint *n_out);
gint64      ft_ledger_balance          (const FtLedger *l, guint account);   /* debit positive */
/* Starts loading an account's balance (a hint). */
void        ft_ledger_prefetch_account (const FtLedger *l, guint account);
/* Sum over accounts of one type (e.g. total revenue, as a positive number for
 * credit-normal types). */
gint64      ft_ledger_total            (const FtLedger *l, FtLedgerAccountType type);
/* Reload (store), into a fresh ledger: restore every account first (with
 * its stored balance; index must be the next index or an existing one),
 * then every transaction in id order (id must be the next id, the ledger's
 * n_tx). restore_tx is a raw append: it checks
 * only that the postings name known accounts and balance, and it does NOT
 * change account balances (they come from restore_account), so
 * ft_ledger_check afterwards proves the stored balances match the postings.
 * No events are emitted. Zero-amount postings are refused by post. */
gboolean    ft_ledger_restore_tx       (FtLedger *l, gint64 id, const FtLedgerTx *tx,
                                        const FtPosting *postings, GError **error);
void        ft_ledger_restore_account  (FtLedger *l, const FtLedgerAccount *acc, gint64 balance);
/* For a store that keeps no balances (they follow from the postings): after
 * the last restore_tx, set every account's balance to the sum of its
 * postings. */
void        ft_ledger_restore_balances (FtLedger *l);
/* Invariants: each tx sums to 0; each balance = sum of its postings; all balances sum to 0. */
gboolean    ft_ledger_check            (const FtLedger *l, GError **error);
const char *ft_tx_kind_name            (FtTxKind k);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (FtLedger, ft_ledger_free)

G_END_DECLS
