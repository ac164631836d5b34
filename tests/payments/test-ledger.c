/* test-ledger.c — Check tests for the double-entry ledger: accounts and the
 * code index, balanced posts and their events, refused posts that change
 * nothing, totals per type, the invariant checker (including that it does
 * catch a corrupted reload), and restoring a ledger for a store reload.
 */
#include <check.h>
#include <string.h>

#include "ft-ledger.h"

typedef struct {
  FtEventLog *log;
  FtLedger   *l;
  guint       cash, wallet, revenue, refunds;
} Fix;

static Fix f;

static void
setup (void)
{
  f.log = ft_event_log_new ();
  f.l = ft_ledger_new ("EUR", f.log);
  f.cash = ft_ledger_account (f.l, "clearing:card", FT_LACC_ASSET, -1);
  f.wallet = ft_ledger_account (f.l, "wallet:0", FT_LACC_LIABILITY, 0);
  f.revenue = ft_ledger_account (f.l, "revenue:rides", FT_LACC_REVENUE, -1);
  f.refunds = ft_ledger_account (f.l, "expense:refunds", FT_LACC_EXPENSE, -1);
}

static void
teardown (void)
{
  ft_ledger_free (f.l);
  ft_event_log_free (f.log);
}

static gint64
post2 (FtTxKind kind, guint debit, guint credit, gint64 amount, GError **error)
{
  FtPosting ps[2] = { { (gint32) debit, amount }, { (gint32) credit, -amount } };
  return ft_ledger_post (f.l, kind, 1000, 0, amount, -1, 0, 0, ps, 2, error);
}

static void
assert_check_ok (void)
{
  g_autoptr(GError) err = NULL;
  gboolean ok = ft_ledger_check (f.l, &err);
  ck_assert_msg (ok, "ledger check failed: %s", err ? err->message : "?");
}

/* ---------------- room made ahead ---------------- */

/* ft_ledger_expect moves the arrays to bigger ones: what was posted stays,
 * posting goes on, and the checker still agrees. */
START_TEST (test_expect_keeps)
{
  for (guint i = 0; i < 10; i++)
    ck_assert_int_eq (post2 (FT_TX_TOPUP, f.cash, f.wallet, 100 + i, NULL), i);
  assert_check_ok ();    /* caches sums over the first ten */
  ft_ledger_expect (f.l, 100000, 300000);
  ft_ledger_expect (f.l, 5, 5);            /* smaller: nothing to do */
  ck_assert_uint_eq (ft_ledger_n_tx (f.l), 10);
  for (guint i = 0; i < 10; i++)
    {
      const FtLedgerTx *tx = ft_ledger_get_tx (f.l, i);
      ck_assert_int_eq (tx->amount, 100 + i);
      ck_assert_uint_eq (tx->first_posting, 2 * i);
    }
  guint np;
  const FtPosting *ps = ft_ledger_postings (f.l, &np);
  ck_assert_uint_eq (np, 20);
  ck_assert_int_eq (ps[19].amount, -109);
  ck_assert_int_eq (post2 (FT_TX_CAPTURE, f.wallet, f.revenue, 50, NULL), 10);
  ck_assert_int_eq (ft_ledger_balance (f.l, f.revenue), -50);
  assert_check_ok ();
}
END_TEST

/* ---------------- accounts ---------------- */

START_TEST (test_accounts_index)
{
  ck_assert_uint_eq (ft_ledger_n_accounts (f.l), 4);
  ck_assert_uint_eq (ft_ledger_account (f.l, "wallet:0", FT_LACC_LIABILITY, 0), f.wallet);
  ck_assert_uint_eq (ft_ledger_n_accounts (f.l), 4);
  guint i = 99;
  ck_assert (ft_ledger_lookup (f.l, "revenue:rides", &i));
  ck_assert_uint_eq (i, f.revenue);
  ck_assert (!ft_ledger_lookup (f.l, "wallet:1", &i));
  const FtLedgerAccount *a = ft_ledger_get_account (f.l, f.wallet);
  ck_assert_str_eq (a->code, "wallet:0");
  ck_assert_int_eq (a->type, FT_LACC_LIABILITY);
  ck_assert_int_eq (a->owner, 0);
  ck_assert_uint_eq (a->index, f.wallet);
  ck_assert_str_eq (ft_ledger_currency (f.l), "EUR");

  /* Many accounts: the index must keep finding each one. */
  for (guint k = 0; k < 5000; k++)
    {
      char code[40];
      g_snprintf (code, sizeof code, "wallet:%u", k + 10);
      guint idx = ft_ledger_account (f.l, code, FT_LACC_LIABILITY, (gint32) k + 10);
      ck_assert_uint_eq (idx, k + 4);
    }
  for (guint k = 0; k < 5000; k++)
    {
      char code[40];
      g_snprintf (code, sizeof code, "wallet:%u", k + 10);
      ck_assert (ft_ledger_lookup (f.l, code, &i));
      ck_assert_uint_eq (i, k + 4);
    }
  assert_check_ok ();
}
END_TEST

/* The code index against a plain map over many random calls: accounts
 * opened (new codes and known ones), codes looked up (present and not)
 * and accounts restored over with another code (which drops the old code
 * from the index, shifting its run back): every answer the map's. */
START_TEST (test_code_index_random)
{
  g_autoptr(GHashTable) ref = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  for (guint i = 0; i < ft_ledger_n_accounts (f.l); i++)
    g_hash_table_insert (ref, g_strdup (ft_ledger_get_account (f.l, i)->code), GUINT_TO_POINTER (i + 1));
  GRand *rng = g_rand_new_with_seed (1616);
  guint n_restored = 0;
  for (guint step = 0; step < 40000; step++)
    {
      char code[40];
      /* a small space of codes, so that many are met again */
      g_snprintf (code, sizeof code, "%s:%u", g_rand_boolean (rng) ? "wallet" : "hold",
                  (guint) g_rand_int_range (rng, 0, 6000));
      guint want = GPOINTER_TO_UINT (g_hash_table_lookup (ref, code));
      guint got = 12345;
      switch (g_rand_int_range (rng, 0, 4))
        {
        case 0:
        case 1:   /* look up */
          ck_assert_int_eq (ft_ledger_lookup (f.l, code, &got), want != 0);
          if (want != 0)
            ck_assert_uint_eq (got, want - 1);
          break;
        case 2:   /* open (or find) */
          got = ft_ledger_account (f.l, code, FT_LACC_LIABILITY, 1);
          if (want != 0)
            ck_assert_uint_eq (got, want - 1);
          else
            {
              ck_assert_uint_eq (got, ft_ledger_n_accounts (f.l) - 1);
              g_hash_table_insert (ref, g_strdup (code), GUINT_TO_POINTER (got + 1));
            }
          break;
        default:  /* an account restored over with this code, when free */
          if (want == 0 && ft_ledger_n_accounts (f.l) > 4)
            {
              guint at = 4 + (guint) g_rand_int_range (rng, 0, (gint32) ft_ledger_n_accounts (f.l) - 4);
              FtLedgerAccount acc = *ft_ledger_get_account (f.l, at);
              ck_assert (g_hash_table_remove (ref, acc.code));
              g_strlcpy (acc.code, code, sizeof acc.code);
              ft_ledger_restore_account (f.l, &acc, ft_ledger_balance (f.l, at));
              g_hash_table_insert (ref, g_strdup (code), GUINT_TO_POINTER (at + 1));
              n_restored++;
            }
          break;
        }
    }
  ck_assert_uint_gt (n_restored, 1000);
  ck_assert_uint_eq (g_hash_table_size (ref), ft_ledger_n_accounts (f.l));
  GHashTableIter it;
  gpointer k, v;
  g_hash_table_iter_init (&it, ref);
  while (g_hash_table_iter_next (&it, &k, &v))
    {
      guint got;
      ck_assert (ft_ledger_lookup (f.l, k, &got));
      ck_assert_uint_eq (got, GPOINTER_TO_UINT (v) - 1);
    }
  assert_check_ok ();
  g_rand_free (rng);
}
END_TEST

/* ---------------- posting ---------------- */

START_TEST (test_post_balanced)
{
  g_autoptr(GError) err = NULL;
  guint64 ev_before = ft_event_log_count (f.log, FT_EV_LEDGER_TX);
  gint64 tx = post2 (FT_TX_TOPUP, f.cash, f.wallet, 2000, &err);
  ck_assert_msg (tx == 0, "%s", err ? err->message : "");
  ck_assert_int_eq (ft_ledger_balance (f.l, f.cash), 2000);
  ck_assert_int_eq (ft_ledger_balance (f.l, f.wallet), -2000);
  ck_assert_uint_eq (ft_ledger_n_tx (f.l), 1);

  /* three-legged capture: wallet pays 350 to revenue, 50 to refunds */
  FtPosting ps[3] = { { (gint32) f.wallet, 400 }, { (gint32) f.revenue, -350 },
                      { (gint32) f.refunds, -50 } };
  tx = ft_ledger_post (f.l, FT_TX_CAPTURE, 5000, 0, 350, 77, 0x1234, 0x5678, ps, 3, &err);
  ck_assert_int_eq (tx, 1);
  const FtLedgerTx *t = ft_ledger_get_tx (f.l, 1);
  ck_assert_ptr_eq (t, ft_ledger_get_tx (f.l, 0) + 1);
  ck_assert_int_eq (t->kind, FT_TX_CAPTURE);
  ck_assert_int_eq (t->t, 5000);
  ck_assert_int_eq (t->ref, 77);
  ck_assert_uint_eq (t->first_posting, 2);
  ck_assert_uint_eq (t->n_postings, 3);
  ck_assert_uint_eq (t->idem_hash, 0x1234);
  ck_assert_uint_eq (t->args_hash, 0x5678);
  guint np = 0;
  const FtPosting *all = ft_ledger_postings (f.l, &np);
  ck_assert_uint_eq (np, 5);
  ck_assert_int_eq (all[3].amount, -350);

  /* one event per tx, carrying id, kind and amount */
  ck_assert_uint_eq (ft_event_log_count (f.log, FT_EV_LEDGER_TX), ev_before + 2);
  guint n = 0;
  const FtEvent *evs = ft_event_log_pending (f.log, &n);
  ck_assert_uint_ge (n, 2);
  const FtEvent *last = &evs[n - 1];
  ck_assert_int_eq (last->kind, FT_EV_LEDGER_TX);
  ck_assert_int_eq (last->ref, 1);
  ck_assert_int_eq (last->amount, 350);
  ck_assert_int_eq (last->a, FT_TX_CAPTURE);
  ck_assert_int_eq (last->t, 5000);
  ck_assert_int_eq (last->account, 0);
  assert_check_ok ();
}
END_TEST

START_TEST (test_totals)
{
  ck_assert_int_ge (post2 (FT_TX_TOPUP, f.cash, f.wallet, 1000, NULL), 0);
  ck_assert_int_ge (post2 (FT_TX_CAPTURE, f.wallet, f.revenue, 300, NULL), 0);
  ck_assert_int_ge (post2 (FT_TX_REFUND, f.refunds, f.wallet, 100, NULL), 0);
  ck_assert_int_eq (ft_ledger_total (f.l, FT_LACC_ASSET), 1000);
  ck_assert_int_eq (ft_ledger_total (f.l, FT_LACC_LIABILITY), 800);
  ck_assert_int_eq (ft_ledger_total (f.l, FT_LACC_REVENUE), 300);
  ck_assert_int_eq (ft_ledger_total (f.l, FT_LACC_EXPENSE), 100);
  /* assets + expenses = liabilities + revenue */
  ck_assert_int_eq (ft_ledger_total (f.l, FT_LACC_ASSET) + ft_ledger_total (f.l, FT_LACC_EXPENSE),
                    ft_ledger_total (f.l, FT_LACC_LIABILITY) + ft_ledger_total (f.l, FT_LACC_REVENUE));
  assert_check_ok ();
}
END_TEST

/* ---------------- refused posts ---------------- */

typedef struct {
  guint   n_tx, n_postings;
  gint64  bal[4];
  guint64 events;
} Snap;

static Snap
snap (void)
{
  Snap s;
  s.n_tx = ft_ledger_n_tx (f.l);
  ft_ledger_postings (f.l, &s.n_postings);
  for (guint i = 0; i < 4; i++)
    s.bal[i] = ft_ledger_balance (f.l, i);
  s.events = ft_event_log_count (f.log, FT_EV_LEDGER_TX);
  return s;
}

static void
assert_unchanged (const Snap *a)
{
  Snap b = snap ();
  ck_assert_uint_eq (a->n_tx, b.n_tx);
  ck_assert_uint_eq (a->n_postings, b.n_postings);
  for (guint i = 0; i < 4; i++)
    ck_assert_int_eq (a->bal[i], b.bal[i]);
  ck_assert_uint_eq (a->events, b.events);
  assert_check_ok ();
}

START_TEST (test_refuse_unbalanced)
{
  ck_assert_int_ge (post2 (FT_TX_TOPUP, f.cash, f.wallet, 500, NULL), 0);
  Snap s = snap ();
  g_autoptr(GError) err = NULL;
  FtPosting ps[2] = { { (gint32) f.cash, 100 }, { (gint32) f.wallet, -99 } };
  ck_assert_int_eq (ft_ledger_post (f.l, FT_TX_ADJUST, 1, 0, 100, -1, 0, 0, ps, 2, &err), -1);
  ck_assert (g_error_matches (err, FT_LEDGER_ERROR, FT_LEDGER_ERROR_UNBALANCED));
  ck_assert_msg (strstr (err->message, "0.01 EUR") != NULL, "message: %s", err->message);
  assert_unchanged (&s);
}
END_TEST

START_TEST (test_refuse_unknown_account)
{
  Snap s = snap ();
  g_autoptr(GError) err = NULL;
  /* the first posting is valid: a partial application would show */
  FtPosting ps[2] = { { (gint32) f.cash, 100 }, { 42, -100 } };
  ck_assert_int_eq (ft_ledger_post (f.l, FT_TX_ADJUST, 1, 0, 100, -1, 0, 0, ps, 2, &err), -1);
  ck_assert (g_error_matches (err, FT_LEDGER_ERROR, FT_LEDGER_ERROR_NO_SUCH_ACCOUNT));
  g_clear_error (&err);
  FtPosting neg[2] = { { (gint32) f.cash, 100 }, { -1, -100 } };
  ck_assert_int_eq (ft_ledger_post (f.l, FT_TX_ADJUST, 1, 0, 100, -1, 0, 0, neg, 2, &err), -1);
  ck_assert (g_error_matches (err, FT_LEDGER_ERROR, FT_LEDGER_ERROR_NO_SUCH_ACCOUNT));
  assert_unchanged (&s);
}
END_TEST

START_TEST (test_refuse_empty_and_zero)
{
  Snap s = snap ();
  g_autoptr(GError) err = NULL;
  ck_assert_int_eq (ft_ledger_post (f.l, FT_TX_ADJUST, 1, 0, 0, -1, 0, 0, NULL, 0, &err), -1);
  ck_assert (g_error_matches (err, FT_LEDGER_ERROR, FT_LEDGER_ERROR_INVALID));
  g_clear_error (&err);
  FtPosting z[2] = { { (gint32) f.cash, 0 }, { (gint32) f.wallet, 0 } };
  ck_assert_int_eq (ft_ledger_post (f.l, FT_TX_ADJUST, 1, 0, 0, -1, 0, 0, z, 2, &err), -1);
  ck_assert (g_error_matches (err, FT_LEDGER_ERROR, FT_LEDGER_ERROR_INVALID));
  g_clear_error (&err);
  FtPosting ovf[3] = { { (gint32) f.cash, G_MAXINT64 }, { (gint32) f.cash, 1 },
                       { (gint32) f.wallet, G_MININT64 } };
  ck_assert_int_eq (ft_ledger_post (f.l, FT_TX_ADJUST, 1, 0, 0, -1, 0, 0, ovf, 3, &err), -1);
  ck_assert (g_error_matches (err, FT_LEDGER_ERROR, FT_LEDGER_ERROR_INVALID));
  g_clear_error (&err);
  FtPosting ok[2] = { { (gint32) f.cash, 1 }, { (gint32) f.wallet, -1 } };
  ck_assert_int_eq (ft_ledger_post (f.l, FT_N_TX_KINDS, 1, 0, 1, -1, 0, 0, ok, 2, &err), -1);
  ck_assert (g_error_matches (err, FT_LEDGER_ERROR, FT_LEDGER_ERROR_INVALID));
  assert_unchanged (&s);
}
END_TEST

/* ---------------- checker and restore ---------------- */

static FtLedger *
copy_ledger (const FtLedger *src, gint64 corrupt_account, gint64 corrupt_by)
{
  FtLedger *dst = ft_ledger_new (ft_ledger_currency (src), NULL);
  for (guint i = 0; i < ft_ledger_n_accounts (src); i++)
    {
      gint64 balance = ft_ledger_balance (src, i);
      if ((gint64) i == corrupt_account)
        balance += corrupt_by;
      ft_ledger_restore_account (dst, ft_ledger_get_account (src, i), balance);
    }
  guint np = 0;
  const FtPosting *ps = ft_ledger_postings (src, &np);
  for (guint i = 0; i < ft_ledger_n_tx (src); i++)
    {
      const FtLedgerTx *tx = ft_ledger_get_tx (src, i);
      g_autoptr(GError) err = NULL;
      ck_assert_msg (ft_ledger_restore_tx (dst, i, tx, ps + tx->first_posting, &err),
                     "restore tx %u: %s", i, err ? err->message : "");
    }
  return dst;
}

START_TEST (test_check_random_and_restore)
{
  GRand *r = g_rand_new_with_seed (7);
  guint accs[4] = { f.cash, f.wallet, f.revenue, f.refunds };
  for (guint i = 0; i < 3000; i++)
    {
      guint n = (guint) g_rand_int_range (r, 2, 6);
      FtPosting ps[6];
      gint64 sum = 0;
      for (guint k = 0; k + 1 < n; k++)
        {
          gint64 amt = g_rand_int_range (r, -5000, 5000);
          if (amt == 0)
            amt = 1;
          ps[k] = (FtPosting) { (gint32) accs[g_rand_int_range (r, 0, 4)], amt };
          sum += amt;
        }
      if (sum == 0)
        {
          /* moving away from zero keeps the posting non-zero */
          gint64 d = ps[0].amount > 0 ? 1 : -1;
          ps[0].amount += d;
          sum += d;
        }
      ps[n - 1] = (FtPosting) { (gint32) accs[g_rand_int_range (r, 0, 4)], -sum };
      g_autoptr(GError) err = NULL;
      gint64 id = ft_ledger_post (f.l, (FtTxKind) (i % FT_N_TX_KINDS), i, 0, ABS (sum), -1,
                                  0, 0, ps, n, &err);
      ck_assert_msg (id == (gint64) i, "post %u: %s", i, err ? err->message : "");
      if (i % 97 == 0)
        assert_check_ok ();
    }
  g_rand_free (r);
  assert_check_ok ();

  /* A faithful reload passes the check and has the same balances. */
  g_autoptr(FtLedger) copy = copy_ledger (f.l, -1, 0);
  g_autoptr(GError) err = NULL;
  ck_assert_msg (ft_ledger_check (copy, &err), "%s", err ? err->message : "");
  ck_assert_uint_eq (ft_ledger_n_tx (copy), ft_ledger_n_tx (f.l));
  for (guint i = 0; i < 4; i++)
    ck_assert_int_eq (ft_ledger_balance (copy, i), ft_ledger_balance (f.l, i));
  guint i2;
  ck_assert (ft_ledger_lookup (copy, "expense:refunds", &i2));
  ck_assert_uint_eq (i2, f.refunds);
  /* restore emits no events (the copy has no log, the original's count is unchanged) */

  /* A reload whose stored balance disagrees with the postings is caught. */
  g_autoptr(FtLedger) bad = copy_ledger (f.l, f.wallet, 1);
  ck_assert (!ft_ledger_check (bad, &err));
  ck_assert (g_error_matches (err, FT_LEDGER_ERROR, FT_LEDGER_ERROR_UNBALANCED));
  ck_assert_msg (strstr (err->message, "wallet:0") != NULL, "%s", err->message);
  g_clear_error (&err);

  /* A store that keeps no balances: whatever restore_account was given,
   * restore_balances sums them from the postings. */
  ft_ledger_restore_balances (bad);
  ck_assert_msg (ft_ledger_check (bad, &err), "%s", err ? err->message : "");
  for (guint i = 0; i < 4; i++)
    ck_assert_int_eq (ft_ledger_balance (bad, i), ft_ledger_balance (f.l, i));
}
END_TEST

START_TEST (test_restore_refused)
{
  ck_assert_int_ge (post2 (FT_TX_TOPUP, f.cash, f.wallet, 500, NULL), 0);
  g_autoptr(FtLedger) dst = ft_ledger_new ("EUR", NULL);
  for (guint i = 0; i < ft_ledger_n_accounts (f.l); i++)
    ft_ledger_restore_account (dst, ft_ledger_get_account (f.l, i), ft_ledger_balance (f.l, i));

  const FtLedgerTx *tx = ft_ledger_get_tx (f.l, 0);
  guint np;
  const FtPosting *ps = ft_ledger_postings (f.l, &np);
  g_autoptr(GError) err = NULL;

  ck_assert (!ft_ledger_restore_tx (dst, 5, tx, ps, &err));
  ck_assert (g_error_matches (err, FT_LEDGER_ERROR, FT_LEDGER_ERROR_INVALID));
  g_clear_error (&err);

  FtPosting unbalanced[2] = { ps[0], ps[1] };
  unbalanced[1].amount += 1;
  ck_assert (!ft_ledger_restore_tx (dst, 0, tx, unbalanced, &err));
  ck_assert (g_error_matches (err, FT_LEDGER_ERROR, FT_LEDGER_ERROR_UNBALANCED));
  g_clear_error (&err);

  FtPosting unknown[2] = { ps[0], ps[1] };
  unknown[1].ledger_account = 99;
  ck_assert (!ft_ledger_restore_tx (dst, 0, tx, unknown, &err));
  ck_assert (g_error_matches (err, FT_LEDGER_ERROR, FT_LEDGER_ERROR_NO_SUCH_ACCOUNT));
  g_clear_error (&err);
  ck_assert_uint_eq (ft_ledger_n_tx (dst), 0);

  /* balances came from restore_account, postings not yet restored: caught */
  ck_assert (!ft_ledger_check (dst, &err));
  g_clear_error (&err);
  ck_assert (ft_ledger_restore_tx (dst, 0, tx, ps, &err));
  ck_assert_msg (ft_ledger_check (dst, &err), "%s", err ? err->message : "");
}
END_TEST

START_TEST (test_kind_names)
{
  ck_assert_str_eq (ft_tx_kind_name (FT_TX_TOPUP), "topup");
  ck_assert_str_eq (ft_tx_kind_name (FT_TX_SETTLE_DEBT), "settle_debt");
  ck_assert_str_eq (ft_tx_kind_name (FT_N_TX_KINDS), "unknown");
}
END_TEST
/* Without a journal the ledger keeps balances and the count of
 * transactions, and nothing per transaction: the same ids, balances and
 * totals as a ledger that keeps one, the check proves the balances sum to
 * zero, and what needs the journal says there is none. */
START_TEST (test_no_journal)
{
  g_autoptr(FtLedger) full = ft_ledger_new ("EUR", NULL);
  ft_ledger_set_journal (f.l, FALSE);
  ck_assert (!ft_ledger_has_journal (f.l));
  ck_assert (ft_ledger_has_journal (full));
  ft_ledger_expect (f.l, 1000, 3000);
  for (guint i = 0; i < 4; i++)
    ft_ledger_account (full, ft_ledger_get_account (f.l, i)->code, ft_ledger_get_account (f.l, i)->type, -1);
  GRand *r = g_rand_new_with_seed (5);
  for (guint i = 0; i < 2000; i++)
    {
      guint a = (guint) g_rand_int_range (r, 0, 4), b = (a + 1 + (guint) g_rand_int_range (r, 0, 3)) % 4;
      gint64 amt = g_rand_int_range (r, 1, 5000);
      FtPosting ps[2] = { { (gint32) a, amt }, { (gint32) b, -amt } };
      FtTxKind kind = (FtTxKind) (i % FT_N_TX_KINDS);
      g_autoptr(GError) err = NULL;
      gint64 id = ft_ledger_post (f.l, kind, i, 0, amt, -1, 1000 + i, 7 * i, ps, 2, &err);
      ck_assert_int_eq (id, i);
      ck_assert_int_eq (ft_ledger_post (full, kind, i, 0, amt, -1, 1000 + i, 7 * i, ps, 2, &err), id);
    }
  g_rand_free (r);
  ck_assert_uint_eq (ft_ledger_n_tx (f.l), 2000);
  for (guint a = 0; a < 4; a++)
    ck_assert_int_eq (ft_ledger_balance (f.l, a), ft_ledger_balance (full, a));
  ck_assert_int_eq (ft_ledger_total (f.l, FT_LACC_REVENUE), ft_ledger_total (full, FT_LACC_REVENUE));
  for (guint i = 0; i < 2000; i += 97)
    {
      guint64 ih = 9, ah = 9, fih = 0, fah = 0;
      ck_assert_int_eq (ft_ledger_tx_hashes (f.l, i, &ih, &ah), FT_N_TX_KINDS);
      ck_assert_int_eq (ft_ledger_tx_hashes (full, i, &fih, &fah), (FtTxKind) (i % FT_N_TX_KINDS));
      ck_assert (ih == 0 && ah == 0 && fih == 1000 + i && fah == 7 * i);
      ck_assert_ptr_null (ft_ledger_get_tx (f.l, i));
      ck_assert_ptr_nonnull (ft_ledger_get_tx (full, i));
    }
  guint np = 99;
  ft_ledger_postings (f.l, &np);
  ck_assert_uint_eq (np, 0);
  assert_check_ok ();

  /* a refused post changes nothing here either */
  FtPosting bad[2] = { { (gint32) f.cash, 5 }, { (gint32) f.wallet, -4 } };
  g_autoptr(GError) err = NULL;
  ck_assert_int_eq (ft_ledger_post (f.l, FT_TX_ADJUST, 1, 0, 5, -1, 0, 0, bad, 2, &err), -1);
  g_clear_error (&err);
  ck_assert_uint_eq (ft_ledger_n_tx (f.l), 2000);

  /* nothing to restore into */
  g_autoptr(FtLedger) dst = ft_ledger_new ("EUR", NULL);
  ft_ledger_set_journal (dst, FALSE);
  FtLedgerTx tx = { 0 };
  tx.n_postings = 2;
  FtPosting ok[2] = { { 0, 1 }, { 1, -1 } };
  ft_ledger_account (dst, "a", FT_LACC_ASSET, -1);
  ft_ledger_account (dst, "b", FT_LACC_ASSET, -1);
  ck_assert (!ft_ledger_restore_tx (dst, 0, &tx, ok, &err));
  ck_assert (g_error_matches (err, FT_LEDGER_ERROR, FT_LEDGER_ERROR_INVALID));
}
END_TEST

static Suite *
ledger_suite (void)
{
  Suite *s = suite_create ("ledger");
  struct { const char *name; const TTest *fn; } cases[] = {
    { "accounts", test_accounts_index },
    { "code-index-random", test_code_index_random },
    { "expect-keeps", test_expect_keeps },
    { "post", test_post_balanced },
    { "totals", test_totals },
    { "refuse-unbalanced", test_refuse_unbalanced },
    { "refuse-unknown-account", test_refuse_unknown_account },
    { "refuse-empty-zero", test_refuse_empty_and_zero },
    { "check-and-restore", test_check_random_and_restore },
    { "restore-refused", test_restore_refused },
    { "kind-names", test_kind_names },
    { "no-journal", test_no_journal },
  };
  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      TCase *tc = tcase_create (cases[i].name);
      tcase_add_checked_fixture (tc, setup, teardown);
      tcase_add_test (tc, cases[i].fn);
      suite_add_tcase (s, tc);
    }
  return s;
}

int
main (void)
{
  SRunner *sr = srunner_create (ledger_suite ());
  srunner_run_all (sr, CK_NORMAL);
  int failed = srunner_ntests_failed (sr);
  srunner_free (sr);
  return failed == 0 ? 0 : 1;
}
