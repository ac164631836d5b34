/* ft-ledger.c — the double-entry ledger: accounts found by code through a
 * hash index of their own, one flat array of postings, and transaction records that point
 * into it. A transaction is validated completely before anything is
 * written, so a refused post leaves the ledger exactly as it was. Every
 * applied transaction is appended to the domain event log.
 */
#include "ft-ledger.h"

#include <string.h>

struct _FtLedger {
  char        currency[4];
  FtEventLog *log;
  GArray     *accounts;   /* FtLedgerAccount */
  GArray     *balances;   /* gint64 per account, debit positive */
  /* code -> index: open addressing (linear probing, at most 70% full),
   * a slot the high 32 bits of the code's hash and the index + 1 (0:
   * free), the code itself read from the account record; no copy of the
   * code, no allocation per account */
  guint64    *code_slots;
  guint       code_cap, n_codes;
  guint64     codes_gen;  /* bumped whenever a code is added or replaced */
  /* a run's postings and transactions, appended one after another: plain
   * arrays with their room (made ahead by ft_ledger_expect), so an append
   * is a store, not a call into GArray */
  FtPosting  *postings;
  guint       n_postings, cap_postings;
  FtLedgerTx *txs;        /* index == id */
  guint       n_txs, cap_txs;
  /* without a journal: no txs or postings, nothing per transaction but
   * its id (n_txs counts them) */
  gboolean    no_journal;
  /* ft_ledger_check cache: sums of postings per account over txs < check_tx */
  GArray     *check_sums; /* gint64 per account */
  guint       check_tx;
  guint       check_postings;
  gsize       huge_txs, huge_postings;   /* ft_mem_hint_huge: bytes advised */
};

G_DEFINE_QUARK (ft-ledger-error-quark, ft_ledger_error)

void
ft_ledger_set_journal (FtLedger *l, gboolean keep)
{
  g_return_if_fail (l != NULL);
  g_return_if_fail (l->n_txs == 0);
  l->no_journal = !keep;
}

gboolean
ft_ledger_has_journal (const FtLedger *l)
{
  g_return_val_if_fail (l != NULL, TRUE);
  return !l->no_journal;
}

static const char *const tx_kind_names[FT_N_TX_KINDS] = {
  "topup", "hold", "capture", "release", "refund", "settle_debt", "adjust", "incentive",
};

const char *
ft_tx_kind_name (FtTxKind k)
{
  if ((guint) k >= FT_N_TX_KINDS)
    return "unknown";
  return tx_kind_names[k];
}

/* A run keeps every transaction (about 1.7 per trip request): 56 bytes
 * each, with no padding. */
G_STATIC_ASSERT (sizeof (FtLedgerTx) == 56);

FtLedger *
ft_ledger_new (const char *currency, FtEventLog *log)
{
  g_return_val_if_fail (currency != NULL && strlen (currency) == 3, NULL);

  FtLedger *l = g_new0 (FtLedger, 1);
  memcpy (l->currency, currency, 3);
  l->currency[3] = '\0';
  l->log = log;
  l->accounts = g_array_new (FALSE, FALSE, sizeof (FtLedgerAccount));
  l->balances = g_array_new (FALSE, TRUE, sizeof (gint64));
  l->check_sums = g_array_new (FALSE, TRUE, sizeof (gint64));
  return l;
}

void
ft_ledger_free (FtLedger *l)
{
  if (l == NULL)
    return;
  g_array_unref (l->accounts);
  g_array_unref (l->balances);
  g_free (l->code_slots);
  g_free (l->postings);
  g_free (l->txs);
  g_array_unref (l->check_sums);
  g_free (l);
}

void
ft_ledger_set_event_log (FtLedger *l, FtEventLog *log)
{
  g_return_if_fail (l != NULL);
  l->log = log;
}

FtEventLog *
ft_ledger_get_event_log (FtLedger *l)
{
  g_return_val_if_fail (l != NULL, NULL);
  return l->log;
}

const char *
ft_ledger_currency (const FtLedger *l)
{
  g_return_val_if_fail (l != NULL, NULL);
  return l->currency;
}

static inline const char *
acc_code (const FtLedger *l, guint i)
{
  return g_array_index (l->accounts, FtLedgerAccount, i).code;
}

/* The slot of `code` (hash h) in the code index, or -1. */
static gssize
code_find (const FtLedger *l, const char *code, guint64 h)
{
  if (l->n_codes == 0)
    return -1;
  guint32 fp = (guint32) (h >> 32);
  for (gsize i = (gsize) h & (l->code_cap - 1);; i = (i + 1) & (l->code_cap - 1))
    {
      guint64 s = l->code_slots[i];
      if (s == 0)
        return -1;
      if ((guint32) (s >> 32) == fp && strcmp (acc_code (l, (guint32) s - 1), code) == 0)
        return (gssize) i;
    }
}

/* Puts account idx (whose record holds its code, hash h, absent from the
 * index) in the first free slot from its home; the index has room. */
static void
code_put (FtLedger *l, guint idx, guint64 h)
{
  gsize i = (gsize) h & (l->code_cap - 1);
  while (l->code_slots[i] != 0)
    i = (i + 1) & (l->code_cap - 1);
  l->code_slots[i] = (h >> 32 << 32) | (guint64) (idx + 1);
  l->n_codes++;
}

/* Adds account idx, its code (hash h) absent from the index. */
static void
code_add (FtLedger *l, guint idx, guint64 h)
{
  if (10 * (l->n_codes + 1) > 7 * l->code_cap)
    {
      guint64 *old = l->code_slots;
      guint old_cap = l->code_cap;
      l->code_cap = old_cap ? old_cap * 2 : 64;
      l->code_slots = g_new0 (guint64, l->code_cap);
      l->n_codes = 0;
      for (guint i = 0; i < old_cap; i++)
        if (old[i] != 0)
          {
            guint a = (guint32) old[i] - 1;
            code_put (l, a, ft_hash_string64 (acc_code (l, a)));
          }
      g_free (old);
    }
  code_put (l, idx, h);
}

/* Drops `code` from the index (its record still holds it), shifting the
 * later slots of its run back when their home allows. */
static void
code_remove (FtLedger *l, const char *code)
{
  gssize found = code_find (l, code, ft_hash_string64 (code));
  if (found < 0)
    return;
  gsize mask = l->code_cap - 1, hole = (gsize) found;
  for (gsize j = (hole + 1) & mask; l->code_slots[j] != 0; j = (j + 1) & mask)
    {
      gsize home = (gsize) ft_hash_string64 (acc_code (l, (guint32) l->code_slots[j] - 1)) & mask;
      gboolean stays = hole <= j ? (hole < home && home <= j) : (hole < home || home <= j);
      if (!stays)
        {
          l->code_slots[hole] = l->code_slots[j];
          hole = j;
        }
    }
  l->code_slots[hole] = 0;
  l->n_codes--;
}

gboolean
ft_ledger_lookup (const FtLedger *l, const char *code, guint *out)
{
  g_return_val_if_fail (l != NULL && code != NULL, FALSE);
  gssize i = code_find (l, code, ft_hash_string64 (code));
  if (i < 0)
    return FALSE;
  if (out != NULL)
    *out = (guint32) l->code_slots[i] - 1;
  return TRUE;
}

guint
ft_ledger_account (FtLedger *l, const char *code, FtLedgerAccountType type, gint32 owner)
{
  g_return_val_if_fail (l != NULL && code != NULL, G_MAXUINT);
  g_return_val_if_fail (code[0] != '\0' && strlen (code) < sizeof ((FtLedgerAccount *) 0)->code,
                        G_MAXUINT);
  g_return_val_if_fail ((guint) type <= FT_LACC_EXPENSE, G_MAXUINT);

  guint64 h = ft_hash_string64 (code);
  gssize found = code_find (l, code, h);
  if (found >= 0)
    return (guint32) l->code_slots[found] - 1;

  FtLedgerAccount acc = { 0 };
  acc.index = l->accounts->len;
  g_strlcpy (acc.code, code, sizeof acc.code);
  acc.type = type;
  acc.owner = owner;
  g_array_append_val (l->accounts, acc);
  g_array_set_size (l->balances, l->accounts->len);   /* zeroed */
  code_add (l, acc.index, h);
  l->codes_gen++;
  return acc.index;
}

guint64
ft_ledger_codes_generation (const FtLedger *l)
{
  g_return_val_if_fail (l != NULL, 0);
  return l->codes_gen;
}

guint
ft_ledger_n_accounts (const FtLedger *l)
{
  g_return_val_if_fail (l != NULL, 0);
  return l->accounts->len;
}

const FtLedgerAccount *
ft_ledger_get_account (const FtLedger *l, guint i)
{
  g_return_val_if_fail (l != NULL, NULL);
  g_return_val_if_fail (i < l->accounts->len, NULL);
  return &g_array_index (l->accounts, FtLedgerAccount, i);
}

gint64
ft_ledger_balance (const FtLedger *l, guint account)
{
  g_return_val_if_fail (l != NULL, 0);
  g_return_val_if_fail (account < l->accounts->len, 0);
  return g_array_index (l->balances, gint64, account);
}

void
ft_ledger_prefetch_account (const FtLedger *l, guint account)
{
  if (l != NULL && account < l->accounts->len)
    __builtin_prefetch (&g_array_index (l->balances, gint64, account), 1);
}

/* Validates postings against the accounts: non-empty, known accounts,
 * non-zero amounts, no overflow, sum zero. */
static gboolean
validate_postings (const FtLedger *l, const FtPosting *postings, guint n, GError **error)
{
  if (n == 0 || postings == NULL)
    {
      g_set_error (error, FT_LEDGER_ERROR, FT_LEDGER_ERROR_INVALID,
                   "transaction has no postings; nothing to post");
      return FALSE;
    }
  gint64 sum = 0;
  for (guint i = 0; i < n; i++)
    {
      const FtPosting *p = &postings[i];
      if (p->ledger_account < 0 || (guint) p->ledger_account >= l->accounts->len)
        {
          g_set_error (error, FT_LEDGER_ERROR, FT_LEDGER_ERROR_NO_SUCH_ACCOUNT,
                       "posting %u names ledger account %d, but the ledger has %u accounts",
                       i, p->ledger_account, l->accounts->len);
          return FALSE;
        }
      if (p->amount == 0)
        {
          g_set_error (error, FT_LEDGER_ERROR, FT_LEDGER_ERROR_INVALID,
                       "posting %u to account %s has amount 0; leave it out", i,
                       g_array_index (l->accounts, FtLedgerAccount, p->ledger_account).code);
          return FALSE;
        }
      if (__builtin_add_overflow (sum, p->amount, &sum))
        {
          g_set_error (error, FT_LEDGER_ERROR, FT_LEDGER_ERROR_INVALID,
                       "posting amounts overflow 64 bits at posting %u", i);
          return FALSE;
        }
    }
  if (sum != 0)
    {
      g_autofree char *s = ft_money_format (sum, l->currency);
      g_set_error (error, FT_LEDGER_ERROR, FT_LEDGER_ERROR_UNBALANCED,
                   "transaction does not balance: its %u postings sum to %s instead of 0",
                   n, s);
      return FALSE;
    }
  return TRUE;
}

/* Applies postings to balances; FALSE (and nothing changed) on overflow. */
static gboolean
apply_balances (FtLedger *l, const FtPosting *postings, guint n, GError **error)
{
  gint64 *bal = (gint64 *) l->balances->data;
  for (guint i = 0; i < n; i++)
    {
      gint64 tmp;
      if (__builtin_add_overflow (bal[postings[i].ledger_account], postings[i].amount, &tmp))
        {
          g_set_error (error, FT_LEDGER_ERROR, FT_LEDGER_ERROR_INVALID,
                       "posting %u would overflow the balance of account %s", i,
                       g_array_index (l->accounts, FtLedgerAccount, postings[i].ledger_account).code);
          return FALSE;
        }
    }
  /* Two postings to the same account could still overflow together only if
   * both are extreme; accept that theoretical case as unreachable in minor
   * units and apply. */
  for (guint i = 0; i < n; i++)
    bal[postings[i].ledger_account] += postings[i].amount;
  return TRUE;
}

gint64
ft_ledger_post (FtLedger *l, FtTxKind kind, FtTime t, gint32 user_account,
                gint64 amount, gint64 ref, guint64 idem_hash, guint64 args_hash,
                const FtPosting *postings, guint n, GError **error)
{
  g_return_val_if_fail (l != NULL, -1);
  g_return_val_if_fail (error == NULL || *error == NULL, -1);

  if ((guint) kind >= FT_N_TX_KINDS)
    {
      g_set_error (error, FT_LEDGER_ERROR, FT_LEDGER_ERROR_INVALID,
                   "unknown transaction kind %d", (int) kind);
      return -1;
    }
  if (!validate_postings (l, postings, n, error))
    return -1;
  if (!apply_balances (l, postings, n, error))
    return -1;

  gint64 id = l->n_txs;
  if (l->no_journal)
    {
      l->n_txs++;
      goto logged;
    }
  FtLedgerTx tx = { 0 };
  tx.kind = kind;
  tx.t = t;
  tx.user_account = user_account;
  tx.first_posting = l->n_postings;
  tx.n_postings = n;
  tx.amount = amount;
  tx.ref = ref;
  tx.idem_hash = idem_hash;
  tx.args_hash = args_hash;
  ft_mem_room_more ((gpointer *) &l->postings, l->n_postings, &l->cap_postings, n, sizeof (FtPosting),
            &l->huge_postings);
  ft_mem_room_more ((gpointer *) &l->txs, l->n_txs, &l->cap_txs, 1, sizeof (FtLedgerTx), &l->huge_txs);
  for (guint i = 0; i < n; i++)
    l->postings[l->n_postings + i] = postings[i];
  l->n_postings += n;
  l->txs[l->n_txs++] = tx;
  ft_mem_hint_huge (l->postings, (gsize) l->n_postings * sizeof (FtPosting), &l->huge_postings);
  ft_mem_hint_huge (l->txs, (gsize) l->n_txs * sizeof (FtLedgerTx), &l->huge_txs);

logged:;
  FtEvent ev = ft_event_init (FT_EV_LEDGER_TX, t);
  ev.ref = id;
  ev.account = user_account;
  ev.amount = amount;
  ev.a = kind;
  ev.b = ref;
  ft_event_log_append (l->log, &ev);
  return id;
}

void
ft_ledger_expect (FtLedger *l, guint n_tx, guint n_postings)
{
  g_return_if_fail (l != NULL);
  if (l->no_journal)
    return;
  ft_mem_room ((gpointer *) &l->txs, l->n_txs, &l->cap_txs, n_tx, sizeof (FtLedgerTx), &l->huge_txs);
  ft_mem_room ((gpointer *) &l->postings, l->n_postings, &l->cap_postings, n_postings, sizeof (FtPosting),
            &l->huge_postings);
}

guint
ft_ledger_n_tx (const FtLedger *l)
{
  g_return_val_if_fail (l != NULL, 0);
  return l->n_txs;
}

const FtLedgerTx *
ft_ledger_get_tx (const FtLedger *l, guint i)
{
  g_return_val_if_fail (l != NULL, NULL);
  g_return_val_if_fail (i < l->n_txs, NULL);
  return l->no_journal ? NULL : &l->txs[i];
}

FtTxKind
ft_ledger_tx_hashes (const FtLedger *l, guint i, guint64 *idem_hash, guint64 *args_hash)
{
  g_return_val_if_fail (l != NULL, FT_N_TX_KINDS);
  g_return_val_if_fail (i < l->n_txs, FT_N_TX_KINDS);
  guint64 idem = 0, args = 0;
  FtTxKind kind = FT_N_TX_KINDS;
  if (!l->no_journal)
    idem = l->txs[i].idem_hash, args = l->txs[i].args_hash, kind = l->txs[i].kind;
  if (idem_hash != NULL)
    *idem_hash = idem;
  if (args_hash != NULL)
    *args_hash = args;
  return kind;
}

const FtPosting *
ft_ledger_postings (const FtLedger *l, guint *n_out)
{
  g_return_val_if_fail (l != NULL, NULL);
  if (n_out != NULL)
    *n_out = l->n_postings;
  return l->postings;
}

gint64
ft_ledger_total (const FtLedger *l, FtLedgerAccountType type)
{
  g_return_val_if_fail (l != NULL, 0);
  gint64 sum = 0;
  for (guint i = 0; i < l->accounts->len; i++)
    {
      const FtLedgerAccount *a = &g_array_index (l->accounts, FtLedgerAccount, i);
      if (a->type == type)
        sum += g_array_index (l->balances, gint64, i);
    }
  /* Liabilities and revenue are credit-normal: report them positive. */
  if (type == FT_LACC_LIABILITY || type == FT_LACC_REVENUE)
    sum = -sum;
  return sum;
}

gboolean
ft_ledger_restore_tx (FtLedger *l, gint64 id, const FtLedgerTx *tx, const FtPosting *postings,
                      GError **error)
{
  g_return_val_if_fail (l != NULL && tx != NULL, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  if (l->no_journal)
    {
      g_set_error (error, FT_LEDGER_ERROR, FT_LEDGER_ERROR_INVALID,
                   "this ledger keeps no journal; restore transactions into one that does");
      return FALSE;
    }
  if (id != (gint64) l->n_txs)
    {
      g_set_error (error, FT_LEDGER_ERROR, FT_LEDGER_ERROR_INVALID,
                   "restored transaction has id %" G_GINT64_FORMAT " but the next id is %u; "
                   "restore transactions in id order without gaps",
                   id, l->n_txs);
      return FALSE;
    }
  if ((guint) tx->kind >= FT_N_TX_KINDS)
    {
      g_set_error (error, FT_LEDGER_ERROR, FT_LEDGER_ERROR_INVALID,
                   "restored transaction %" G_GINT64_FORMAT " has unknown kind %d",
                   id, (int) tx->kind);
      return FALSE;
    }
  g_autoptr(GError) local = NULL;
  if (!validate_postings (l, postings, tx->n_postings, &local))
    {
      g_set_error (error, FT_LEDGER_ERROR, local->code,
                   "restored transaction %" G_GINT64_FORMAT ": %s", id, local->message);
      return FALSE;
    }
  FtLedgerTx copy = *tx;
  copy.first_posting = l->n_postings;
  ft_mem_room_more ((gpointer *) &l->postings, l->n_postings, &l->cap_postings, tx->n_postings,
            sizeof (FtPosting), &l->huge_postings);
  ft_mem_room_more ((gpointer *) &l->txs, l->n_txs, &l->cap_txs, 1, sizeof (FtLedgerTx), &l->huge_txs);
  if (tx->n_postings > 0)
    memcpy (l->postings + l->n_postings, postings, (gsize) tx->n_postings * sizeof (FtPosting));
  l->n_postings += tx->n_postings;
  l->txs[l->n_txs++] = copy;
  return TRUE;
}

void
ft_ledger_restore_account (FtLedger *l, const FtLedgerAccount *acc, gint64 balance)
{
  g_return_if_fail (l != NULL && acc != NULL);
  g_return_if_fail (acc->index <= l->accounts->len);
  g_return_if_fail (acc->code[0] != '\0' && memchr (acc->code, '\0', sizeof acc->code) != NULL);

  FtLedgerAccount copy = *acc;
  if (acc->index == l->accounts->len)
    {
      /* A code already used by another index would make the index lie. */
      g_return_if_fail (!ft_ledger_lookup (l, acc->code, NULL));
      g_array_append_val (l->accounts, copy);
    }
  else
    {
      FtLedgerAccount *old = &g_array_index (l->accounts, FtLedgerAccount, acc->index);
      guint other;
      g_return_if_fail (!ft_ledger_lookup (l, acc->code, &other) || other == acc->index);
      code_remove (l, old->code);
      *old = copy;
    }
  g_array_set_size (l->balances, l->accounts->len);
  g_array_index (l->balances, gint64, copy.index) = balance;
  code_add (l, copy.index, ft_hash_string64 (copy.code));
  l->codes_gen++;
}

void
ft_ledger_restore_balances (FtLedger *l)
{
  g_return_if_fail (l != NULL);
  g_return_if_fail (!l->no_journal);

  gint64 *bal = (gint64 *) l->balances->data;
  const FtPosting *ps = l->postings;
  for (guint a = 0; a < l->accounts->len; a++)
    bal[a] = 0;
  /* restore_tx checked that every posting names a known account */
  for (guint i = 0; i < l->n_postings; i++)
    bal[ps[i].ledger_account] += ps[i].amount;
}

/* The checker is incremental: postings and transactions are append-only, so
 * the per-account sums of postings over the transactions already verified
 * are kept and only new transactions are walked. Balances are compared in
 * full on every call. This keeps a check after every operation cheap. */
gboolean
ft_ledger_check (const FtLedger *cl, GError **error)
{
  g_return_val_if_fail (cl != NULL, FALSE);
  FtLedger *l = (FtLedger *) cl;   /* only the check cache is written */

  guint n_acc = l->accounts->len;
  if (l->check_sums->len < n_acc)
    g_array_set_size (l->check_sums, n_acc);
  gint64 *sums = (gint64 *) l->check_sums->data;

  /* without a journal there are no postings to sum: only the total */
  for (guint i = l->check_tx; i < l->n_txs && !l->no_journal; i++)
    {
      const FtLedgerTx *tx = &l->txs[i];
      if (tx->first_posting != l->check_postings ||
          (guint64) tx->first_posting + tx->n_postings > l->n_postings ||
          tx->n_postings == 0)
        {
          g_set_error (error, FT_LEDGER_ERROR, FT_LEDGER_ERROR_INVALID,
                       "transaction %u has postings [%u, +%u) out of order or range (%u postings)",
                       i, tx->first_posting, tx->n_postings, l->n_postings);
          return FALSE;
        }
      const FtPosting *ps = &l->postings[tx->first_posting];
      gint64 s = 0;
      for (guint k = 0; k < tx->n_postings; k++)
        {
          if (ps[k].ledger_account < 0 || (guint) ps[k].ledger_account >= n_acc)
            {
              g_set_error (error, FT_LEDGER_ERROR, FT_LEDGER_ERROR_NO_SUCH_ACCOUNT,
                           "transaction %u posts to unknown account %d", i, ps[k].ledger_account);
              return FALSE;
            }
          s += ps[k].amount;
        }
      if (s != 0)
        {
          g_set_error (error, FT_LEDGER_ERROR, FT_LEDGER_ERROR_UNBALANCED,
                       "transaction %u (%s) does not balance: postings sum to %" G_GINT64_FORMAT,
                       i, ft_tx_kind_name (tx->kind), s);
          return FALSE;
        }
      for (guint k = 0; k < tx->n_postings; k++)
        sums[ps[k].ledger_account] += ps[k].amount;
      l->check_postings += tx->n_postings;
      l->check_tx = i + 1;
    }
  if (!l->no_journal && l->check_postings != l->n_postings)
    {
      g_set_error (error, FT_LEDGER_ERROR, FT_LEDGER_ERROR_INVALID,
                   "%u postings belong to no transaction", l->n_postings - l->check_postings);
      return FALSE;
    }
  if (l->n_codes != n_acc)
    {
      g_set_error (error, FT_LEDGER_ERROR, FT_LEDGER_ERROR_INVALID,
                   "the code index holds %u codes for %u accounts", l->n_codes, n_acc);
      return FALSE;
    }
  for (guint a = 0; a < n_acc; a++)
    {
      guint found;
      if (!ft_ledger_lookup (l, acc_code (l, a), &found) || found != a)
        {
          g_set_error (error, FT_LEDGER_ERROR, FT_LEDGER_ERROR_INVALID,
                       "the code index does not find account %u by its code %s", a, acc_code (l, a));
          return FALSE;
        }
    }

  gint64 total = 0;
  for (guint a = 0; a < n_acc; a++)
    {
      const FtLedgerAccount *acc = &g_array_index (l->accounts, FtLedgerAccount, a);
      if (acc->index != a)
        {
          g_set_error (error, FT_LEDGER_ERROR, FT_LEDGER_ERROR_INVALID,
                       "account %s at position %u says its index is %u", acc->code, a, acc->index);
          return FALSE;
        }
      gint64 balance = g_array_index (l->balances, gint64, a);
      if (!l->no_journal && balance != sums[a])
        {
          g_set_error (error, FT_LEDGER_ERROR, FT_LEDGER_ERROR_UNBALANCED,
                       "account %s has balance %" G_GINT64_FORMAT " but its postings sum to %"
                       G_GINT64_FORMAT, acc->code, balance, sums[a]);
          return FALSE;
        }
      total += balance;
    }
  if (total != 0)
    {
      g_set_error (error, FT_LEDGER_ERROR, FT_LEDGER_ERROR_UNBALANCED,
                   "account balances sum to %" G_GINT64_FORMAT " instead of 0", total);
      return FALSE;
    }
  return TRUE;
}
