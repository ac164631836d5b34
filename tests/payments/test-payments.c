/* test-payments.c — Check tests for rider payments: top-ups through the card
 * provider, holds with and without auto top-up, declines that post nothing,
 * capture (remainder released, excess becoming debt), release, refunds up to
 * what was captured, idempotent retries and key reuse, rebuilding the
 * indexes from a reloaded ledger, the simulated card provider, and a
 * randomised run that checks the invariants after every operation.
 */
#include <check.h>
#include <string.h>

#include "ft-payments.h"

typedef struct {
  FtEventLog *log;
  FtLedger   *ledger;
  FtPayments *pay;
} Fix;

static Fix f;

static void
make (double decline_rate, gint64 auto_topup)
{
  f.log = ft_event_log_new ();
  f.ledger = ft_ledger_new ("EUR", f.log);
  f.pay = ft_payments_new (f.ledger, ft_sim_card_provider_new (42, decline_rate, 50, 400));
  ft_payments_set_auto_topup (f.pay, auto_topup);
}

static void setup (void) { make (0.0, 0); }
static void setup_auto (void) { make (0.0, 1000); }
static void setup_decline (void) { make (1.0, 1000); }
/* as a run that keeps summary records: no ledger journal */
static void setup_summary (void) { make (0.0, 1000); ft_ledger_set_journal (f.ledger, FALSE); }

static void
teardown (void)
{
  ft_payments_free (f.pay);
  ft_ledger_free (f.ledger);
  ft_event_log_free (f.log);
}

static void
assert_check_ok (void)
{
  g_autoptr(GError) err = NULL;
  gboolean ok = ft_payments_check (f.pay, &err);
  ck_assert_msg (ok, "payments check failed: %s", err ? err->message : "?");
}

static gint64
total (FtLedgerAccountType t)
{
  return ft_ledger_total (f.ledger, t);
}

/* ---------------- top-up ---------------- */

START_TEST (test_topup)
{
  g_autoptr(GError) err = NULL;
  gint64 tx = ft_payments_topup (f.pay, 3, 2000, "t1", 10, &err);
  ck_assert_msg (tx >= 0, "%s", err ? err->message : "");
  ck_assert_int_eq (ft_payments_wallet (f.pay, 3), 2000);
  ck_assert_int_eq (ft_payments_wallet (f.pay, 4), 0);
  ck_assert_int_eq (total (FT_LACC_ASSET), 2000);
  ck_assert_int_eq (total (FT_LACC_LIABILITY), 2000);
  const FtLedgerTx *t = ft_ledger_get_tx (f.ledger, (guint) tx);
  ck_assert_int_eq (t->kind, FT_TX_TOPUP);
  ck_assert_int_eq (t->user_account, 3);
  ck_assert_int_eq (t->amount, 2000);
  ck_assert_uint_ne (t->idem_hash, 0);
  guint w;
  ck_assert (ft_ledger_lookup (f.ledger, "wallet:3", &w));
  ck_assert_int_eq (ft_ledger_balance (f.ledger, w), -2000);   /* liability: credit */
  ck_assert_int_eq (ft_event_log_count (f.log, FT_EV_LEDGER_TX), 1);
  ck_assert_uint_le (ft_payments_last_latency_ms (f.pay), 400);
  ck_assert_uint_ge (ft_payments_last_latency_ms (f.pay), 50);
  /* account codes name the rider in decimal, many digits too */
  ck_assert_int_ge (ft_payments_topup (f.pay, 1234567, 50, "t-big", 10, &err), 0);
  ck_assert (ft_ledger_lookup (f.ledger, "wallet:1234567", &w));
  ck_assert_int_eq (ft_ledger_balance (f.ledger, w), -50);
  ck_assert_int_eq (ft_payments_wallet (f.pay, 1234567), 50);
  ck_assert (!ft_ledger_lookup (f.ledger, "wallet:123456", &w));
  assert_check_ok ();
}
END_TEST

START_TEST (test_topup_idempotent)
{
  g_autoptr(GError) err = NULL;
  gint64 tx = ft_payments_topup (f.pay, 1, 500, "key-A", 10, &err);
  ck_assert_int_ge (tx, 0);
  /* retry: same id, applied once */
  for (int i = 0; i < 3; i++)
    ck_assert_int_eq (ft_payments_topup (f.pay, 1, 500, "key-A", 20 + i, &err), tx);
  ck_assert_int_eq (ft_payments_wallet (f.pay, 1), 500);
  ck_assert_uint_eq (ft_ledger_n_tx (f.ledger), 1);
  /* same key, other amount / rider / operation: refused, nothing applied */
  ck_assert_int_eq (ft_payments_topup (f.pay, 1, 600, "key-A", 30, &err), -1);
  ck_assert (g_error_matches (err, FT_PAYMENTS_ERROR, FT_PAYMENTS_ERROR_IDEMPOTENCY));
  ck_assert_msg (strstr (err->message, "key-A") != NULL, "%s", err->message);
  g_clear_error (&err);
  ck_assert_int_eq (ft_payments_topup (f.pay, 2, 500, "key-A", 30, &err), -1);
  ck_assert (g_error_matches (err, FT_PAYMENTS_ERROR, FT_PAYMENTS_ERROR_IDEMPOTENCY));
  g_clear_error (&err);
  ck_assert_int_eq (ft_payments_hold (f.pay, 1, 100, 9, "key-A", 30, &err), -1);
  ck_assert (g_error_matches (err, FT_PAYMENTS_ERROR, FT_PAYMENTS_ERROR_IDEMPOTENCY));
  g_clear_error (&err);
  ck_assert_int_eq (ft_payments_wallet (f.pay, 1), 500);
  ck_assert_int_eq (ft_payments_wallet (f.pay, 2), 0);
  ck_assert_uint_eq (ft_ledger_n_tx (f.ledger), 1);
  /* no key: every call applies */
  ck_assert_int_ge (ft_payments_topup (f.pay, 1, 500, NULL, 40, &err), 0);
  ck_assert_int_ge (ft_payments_topup (f.pay, 1, 500, NULL, 40, &err), 0);
  ck_assert_int_eq (ft_payments_wallet (f.pay, 1), 1500);
  assert_check_ok ();
}
END_TEST

/* The key table keeps 32 bits of a key's hash beside its transaction and
 * confirms a match from the transaction: two keys whose hashes share those
 * bits and their home slot (found by search) stay two keys, and so do many
 * keys through the table's growth and a rebuild. */
START_TEST (test_idem_fingerprint)
{
  g_autoptr(GError) err = NULL;
  g_autoptr(GHashTable) seen = g_hash_table_new (g_int64_hash, g_int64_equal);
  g_autofree gint64 *bits = g_new (gint64, 4000000);
  char ka[32] = "", kb[32] = "";
  for (guint i = 0; i < 4000000 && kb[0] == '\0'; i++)
    {
      char k[32];
      g_snprintf (k, sizeof k, "fp-%u", i);
      guint64 h = ft_hash_string64 (k);
      /* the high 32 bits and the home slot in a table of 64 */
      bits[i] = (gint64) ((h >> 32) << 6 | (ft_mix64 (h) & 63));
      gpointer j = g_hash_table_lookup (seen, &bits[i]);
      if (j != NULL)
        {
          g_snprintf (ka, sizeof ka, "fp-%u", GPOINTER_TO_UINT (j) - 1);
          g_strlcpy (kb, k, sizeof kb);
        }
      else
        g_hash_table_insert (seen, &bits[i], GUINT_TO_POINTER (i + 1));
    }
  ck_assert_msg (kb[0] != '\0', "no two keys share 38 bits in 4 million");
  ck_assert_uint_ne (ft_hash_string64 (ka), ft_hash_string64 (kb));
  gint64 ta = ft_payments_topup (f.pay, 1, 500, ka, 10, &err);
  ck_assert_msg (ta >= 0, "%s", err ? err->message : "");
  gint64 tb = ft_payments_topup (f.pay, 1, 700, kb, 11, &err);
  ck_assert_msg (tb >= 0, "%s: %s", kb, err ? err->message : "");
  ck_assert_int_ne (ta, tb);
  gint64 many[200];
  for (guint i = 0; i < G_N_ELEMENTS (many); i++)
    {
      char k[32];
      g_snprintf (k, sizeof k, "many-%u", i);
      many[i] = ft_payments_topup (f.pay, 2 + i % 7, 10 + i, k, 20, &err);
      ck_assert_int_ge (many[i], 0);
    }
  for (int round = 0; round < 2; round++)
    {
      ck_assert_int_eq (ft_payments_topup (f.pay, 1, 500, ka, 30, &err), ta);
      ck_assert_int_eq (ft_payments_topup (f.pay, 1, 700, kb, 30, &err), tb);
      for (guint i = 0; i < G_N_ELEMENTS (many); i++)
        {
          char k[32];
          g_snprintf (k, sizeof k, "many-%u", i);
          ck_assert_int_eq (ft_payments_topup (f.pay, 2 + i % 7, 10 + i, k, 30, &err), many[i]);
        }
      ft_payments_rebuild (f.pay);
    }
  ck_assert_int_eq (ft_payments_wallet (f.pay, 1), 1200);
  ck_assert_uint_eq (ft_ledger_n_tx (f.ledger), 2 + G_N_ELEMENTS (many));
  assert_check_ok ();
}
END_TEST

START_TEST (test_topup_invalid)
{
  g_autoptr(GError) err = NULL;
  ck_assert_int_eq (ft_payments_topup (f.pay, 1, 0, "z", 10, &err), -1);
  ck_assert (g_error_matches (err, FT_PAYMENTS_ERROR, FT_PAYMENTS_ERROR_INVALID));
  g_clear_error (&err);
  ck_assert_int_eq (ft_payments_topup (f.pay, 1, -5, "z", 10, &err), -1);
  ck_assert (g_error_matches (err, FT_PAYMENTS_ERROR, FT_PAYMENTS_ERROR_INVALID));
  ck_assert_uint_eq (ft_ledger_n_tx (f.ledger), 0);
  assert_check_ok ();
}
END_TEST

/* ---------------- declines ---------------- */

START_TEST (test_decline)
{
  g_autoptr(GError) err = NULL;
  ck_assert_int_eq (ft_payments_topup (f.pay, 5, 1000, "d1", 10, &err), -1);
  ck_assert (g_error_matches (err, FT_PAYMENTS_ERROR, FT_PAYMENTS_ERROR_DECLINED));
  g_clear_error (&err);
  ck_assert_uint_eq (ft_payments_n_declines (f.pay), 1);
  ck_assert_uint_eq (ft_event_log_count (f.log, FT_EV_PAYMENT_DECLINED), 1);
  guint n = 0;
  const FtEvent *ev = ft_event_log_pending (f.log, &n);
  ck_assert_uint_eq (n, 1);
  ck_assert_int_eq (ev[0].kind, FT_EV_PAYMENT_DECLINED);
  ck_assert_int_eq (ev[0].account, 5);
  ck_assert_int_eq (ev[0].amount, 1000);
  ck_assert_int_eq (ev[0].t, 10);

  /* a hold that needs an auto top-up: declined, nothing posted */
  ck_assert_int_eq (ft_payments_hold (f.pay, 5, 300, 1, "h1", 20, &err), -1);
  ck_assert (g_error_matches (err, FT_PAYMENTS_ERROR, FT_PAYMENTS_ERROR_DECLINED));
  g_clear_error (&err);
  ck_assert_uint_eq (ft_payments_n_declines (f.pay), 2);
  ck_assert_uint_eq (ft_ledger_n_tx (f.ledger), 0);
  ck_assert_uint_eq (ft_event_log_count (f.log, FT_EV_LEDGER_TX), 0);
  ck_assert (!ft_payments_has_hold (f.pay, 1));
  ck_assert_int_eq (ft_payments_wallet (f.pay, 5), 0);
  /* the decline is not remembered: a retry asks the provider again */
  ck_assert_int_eq (ft_payments_hold (f.pay, 5, 300, 1, "h1", 30, &err), -1);
  ck_assert (g_error_matches (err, FT_PAYMENTS_ERROR, FT_PAYMENTS_ERROR_DECLINED));
  ck_assert_uint_eq (ft_payments_n_declines (f.pay), 3);
  assert_check_ok ();
}
END_TEST

/* A provider that fails (not a decline) and one that is missing. */
static FtPayResult
failing_charge (gpointer self, guint rider, gint64 amount, const char *currency,
                const char *idem_key, FtTime now, guint *latency_ms)
{
  (*(int *) self)++;
  *latency_ms = 5000;
  return FT_PAY_ERROR;
}
static const FtPayProviderVTable failing_vtable = { failing_charge, NULL };

/* A provider that approves and records the keys it is charged with. */
static FtPayResult
recording_charge (gpointer self, guint rider, gint64 amount, const char *currency,
                  const char *idem_key, FtTime now, guint *latency_ms)
{
  g_ptr_array_add (self, g_strdup (idem_key));
  *latency_ms = 1;
  return FT_PAY_APPROVED;
}
static const FtPayProviderVTable recording_vtable = { recording_charge, NULL };

/* The key of the top-up a hold makes is its own key and "#topup", whether
 * it is written on the stack (short keys) or allocated (long ones). */
START_TEST (test_hold_topup_key)
{
  g_autoptr(GPtrArray) keys = g_ptr_array_new_with_free_func (g_free);
  FtPayProvider prov = { &recording_vtable, keys };
  g_autoptr(FtPayments) p = ft_payments_new (f.ledger, prov);
  ft_payments_set_auto_topup (p, 1000);
  const guint lens[] = { 1, 20, 88, 89, 90, 91, 95, 96, 97, 200, 1000 };
  for (guint i = 0; i < G_N_ELEMENTS (lens); i++)
    {
      g_autoptr(GError) err = NULL;
      g_autofree char *key = g_strnfill (lens[i], (char) ('a' + i));
      /* each rider's wallet is empty: the hold tops up */
      ck_assert_int_ge (ft_payments_hold (p, 10 + i, 500, 100 + i, key, 5, &err), 0);
      ck_assert_uint_eq (keys->len, i + 1);
      g_autofree char *want = g_strconcat (key, "#topup", NULL);
      ck_assert_str_eq (g_ptr_array_index (keys, i), want);
    }
}
END_TEST

START_TEST (test_provider_error)
{
  int calls = 0;
  FtPayProvider prov = { &failing_vtable, &calls };
  g_autoptr(FtPayments) p = ft_payments_new (f.ledger, prov);
  g_autoptr(GError) err = NULL;
  ck_assert_int_eq (ft_payments_topup (p, 1, 100, "x", 1, &err), -1);
  ck_assert (g_error_matches (err, FT_PAYMENTS_ERROR, FT_PAYMENTS_ERROR_PROVIDER));
  g_clear_error (&err);
  ck_assert_int_eq (calls, 1);
  ck_assert_uint_eq (ft_payments_n_declines (p), 0);
  ck_assert_uint_eq (ft_payments_last_latency_ms (p), 5000);

  FtPayProvider none = { NULL, NULL };
  g_autoptr(FtPayments) q = ft_payments_new (f.ledger, none);
  ck_assert_int_eq (ft_payments_topup (q, 1, 100, "y", 1, &err), -1);
  ck_assert (g_error_matches (err, FT_PAYMENTS_ERROR, FT_PAYMENTS_ERROR_PROVIDER));
  ck_assert_uint_eq (ft_ledger_n_tx (f.ledger), 0);
}
END_TEST

/* ---------------- holds ---------------- */

START_TEST (test_hold_insufficient)
{
  g_autoptr(GError) err = NULL;
  ck_assert_int_ge (ft_payments_topup (f.pay, 2, 200, "t", 1, &err), 0);
  ck_assert_int_eq (ft_payments_hold (f.pay, 2, 500, 7, "h", 2, &err), -1);
  ck_assert (g_error_matches (err, FT_PAYMENTS_ERROR, FT_PAYMENTS_ERROR_INSUFFICIENT));
  ck_assert_msg (strstr (err->message, "2.00 EUR") && strstr (err->message, "5.00 EUR"),
                 "%s", err->message);
  g_clear_error (&err);
  ck_assert_int_eq (ft_payments_hold (f.pay, 2, 0, 7, "h0", 2, &err), -1);
  ck_assert (g_error_matches (err, FT_PAYMENTS_ERROR, FT_PAYMENTS_ERROR_INVALID));
  g_clear_error (&err);
  ck_assert_int_eq (ft_payments_hold (f.pay, 2, 100, -1, "hneg", 2, &err), -1);
  ck_assert (g_error_matches (err, FT_PAYMENTS_ERROR, FT_PAYMENTS_ERROR_INVALID));
  g_clear_error (&err);
  ck_assert_uint_eq (ft_ledger_n_tx (f.ledger), 1);

  /* enough in the wallet: hold moves wallet -> hold */
  gint64 tx = ft_payments_hold (f.pay, 2, 150, 7, "h2", 3, &err);
  ck_assert_msg (tx >= 0, "%s", err ? err->message : "");
  ck_assert_int_eq (ft_payments_wallet (f.pay, 2), 50);
  ck_assert_int_eq (ft_payments_held (f.pay, 2), 150);
  ck_assert (ft_payments_has_hold (f.pay, 7));
  ck_assert_int_eq (ft_ledger_get_tx (f.ledger, (guint) tx)->ref, 7);
  /* a second hold on the same booking is refused */
  ck_assert_int_eq (ft_payments_hold (f.pay, 2, 10, 7, "h3", 4, &err), -1);
  ck_assert (g_error_matches (err, FT_PAYMENTS_ERROR, FT_PAYMENTS_ERROR_INVALID));
  /* retry of the first: same id */
  g_clear_error (&err);
  ck_assert_int_eq (ft_payments_hold (f.pay, 2, 150, 7, "h2", 5, &err), tx);
  ck_assert_int_eq (ft_payments_held (f.pay, 2), 150);
  assert_check_ok ();
}
END_TEST

START_TEST (test_hold_auto_topup)
{
  g_autoptr(GError) err = NULL;
  ck_assert_int_ge (ft_payments_topup (f.pay, 1, 100, "t", 1, &err), 0);
  /* shortfall 200 < auto amount 1000: card charged 1000 */
  gint64 tx = ft_payments_hold (f.pay, 1, 300, 11, "h", 2, &err);
  ck_assert_msg (tx >= 0, "%s", err ? err->message : "");
  ck_assert_uint_eq (ft_ledger_n_tx (f.ledger), 3);
  const FtLedgerTx *top = ft_ledger_get_tx (f.ledger, 1);
  ck_assert_int_eq (top->kind, FT_TX_TOPUP);
  ck_assert_int_eq (top->amount, 1000);
  ck_assert_int_eq (ft_ledger_get_tx (f.ledger, (guint) tx)->kind, FT_TX_HOLD);
  ck_assert_int_eq (ft_payments_wallet (f.pay, 1), 800);
  ck_assert_int_eq (ft_payments_held (f.pay, 1), 300);
  /* shortfall 2200 > auto amount: card charged exactly the shortfall */
  ck_assert_int_ge (ft_payments_hold (f.pay, 1, 3000, 12, "h2", 3, &err), 0);
  ck_assert_int_eq (ft_ledger_get_tx (f.ledger, 3)->amount, 2200);
  ck_assert_int_eq (ft_payments_wallet (f.pay, 1), 0);
  ck_assert_int_eq (ft_payments_held (f.pay, 1), 3300);
  /* retrying the hold neither charges nor holds again */
  guint n_tx = ft_ledger_n_tx (f.ledger);
  ck_assert_int_eq (ft_payments_hold (f.pay, 1, 300, 11, "h", 9, &err), tx);
  ck_assert_uint_eq (ft_ledger_n_tx (f.ledger), n_tx);
  assert_check_ok ();
}
END_TEST

/* ---------------- capture / release / refund ---------------- */

START_TEST (test_capture_remainder)
{
  g_autoptr(GError) err = NULL;
  ck_assert_int_ge (ft_payments_topup (f.pay, 1, 1000, "t", 1, &err), 0);
  ck_assert_int_ge (ft_payments_hold (f.pay, 1, 500, 3, "h", 2, &err), 0);
  gint64 tx = ft_payments_capture (f.pay, 1, 3, 320, "c", 3, &err);
  ck_assert_msg (tx >= 0, "%s", err ? err->message : "");
  ck_assert_int_eq (ft_payments_wallet (f.pay, 1), 680);
  ck_assert_int_eq (ft_payments_held (f.pay, 1), 0);
  ck_assert (!ft_payments_has_hold (f.pay, 3));
  ck_assert_int_eq (ft_payments_captured (f.pay, 3), 320);
  ck_assert_int_eq (total (FT_LACC_REVENUE), 320);
  const FtLedgerTx *t = ft_ledger_get_tx (f.ledger, (guint) tx);
  ck_assert_int_eq (t->kind, FT_TX_CAPTURE);
  ck_assert_int_eq (t->amount, 320);
  ck_assert_int_eq (t->ref, 3);
  ck_assert_uint_eq (t->n_postings, 3);
  /* retry returns the same capture; a second capture is refused */
  ck_assert_int_eq (ft_payments_capture (f.pay, 1, 3, 320, "c", 4, &err), tx);
  ck_assert_int_eq (ft_payments_capture (f.pay, 1, 3, 320, "c2", 4, &err), -1);
  ck_assert (g_error_matches (err, FT_PAYMENTS_ERROR, FT_PAYMENTS_ERROR_NO_HOLD));
  ck_assert_msg (strstr (err->message, "already captured") != NULL, "%s", err->message);
  g_clear_error (&err);
  /* a new hold on a captured booking is refused */
  ck_assert_int_eq (ft_payments_hold (f.pay, 1, 100, 3, "h-again", 5, &err), -1);
  ck_assert (g_error_matches (err, FT_PAYMENTS_ERROR, FT_PAYMENTS_ERROR_INVALID));
  ck_assert_int_eq (total (FT_LACC_REVENUE), 320);
  assert_check_ok ();
}
END_TEST

START_TEST (test_capture_zero_and_exact)
{
  g_autoptr(GError) err = NULL;
  ck_assert_int_ge (ft_payments_topup (f.pay, 1, 1000, "t", 1, &err), 0);
  ck_assert_int_ge (ft_payments_hold (f.pay, 1, 500, 1, "h1", 2, &err), 0);
  ck_assert_int_ge (ft_payments_capture (f.pay, 1, 1, 0, "c1", 3, &err), 0);
  ck_assert_int_eq (ft_payments_wallet (f.pay, 1), 1000);
  ck_assert_int_ge (ft_payments_hold (f.pay, 1, 500, 2, "h2", 4, &err), 0);
  gint64 tx = ft_payments_capture (f.pay, 1, 2, 500, "c2", 5, &err);
  ck_assert_int_ge (tx, 0);
  ck_assert_uint_eq (ft_ledger_get_tx (f.ledger, (guint) tx)->n_postings, 2);
  ck_assert_int_eq (ft_payments_wallet (f.pay, 1), 500);
  ck_assert_int_eq (ft_payments_capture (f.pay, 1, 2, -1, "c3", 6, &err), -1);
  ck_assert (g_error_matches (err, FT_PAYMENTS_ERROR, FT_PAYMENTS_ERROR_INVALID));
  assert_check_ok ();
}
END_TEST

START_TEST (test_capture_debt)
{
  g_autoptr(GError) err = NULL;
  ck_assert_int_ge (ft_payments_topup (f.pay, 4, 300, "t", 1, &err), 0);
  ck_assert_int_ge (ft_payments_hold (f.pay, 4, 300, 8, "h", 2, &err), 0);
  ck_assert_int_eq (ft_payments_wallet (f.pay, 4), 0);
  /* price above the hold: the rest comes from the wallet, which goes negative */
  ck_assert_int_ge (ft_payments_capture (f.pay, 4, 8, 450, "c", 3, &err), 0);
  ck_assert_int_eq (ft_payments_wallet (f.pay, 4), -150);
  ck_assert (ft_payments_has_debt (f.pay, 4));
  ck_assert_int_eq (ft_payments_captured (f.pay, 8), 450);
  assert_check_ok ();
  /* a rider in debt cannot start another trip */
  ck_assert_int_eq (ft_payments_hold (f.pay, 4, 100, 9, "h2", 4, &err), -1);
  ck_assert (g_error_matches (err, FT_PAYMENTS_ERROR, FT_PAYMENTS_ERROR_UNPAID));
  ck_assert_msg (strstr (err->message, "1.50 EUR") != NULL, "%s", err->message);
  g_clear_error (&err);
  /* settle: the card pays exactly the debt */
  gint64 s = ft_payments_settle_debt (f.pay, 4, "s", 5, &err);
  ck_assert_msg (s >= 0, "%s", err ? err->message : "");
  ck_assert_int_eq (ft_ledger_get_tx (f.ledger, (guint) s)->kind, FT_TX_SETTLE_DEBT);
  ck_assert_int_eq (ft_ledger_get_tx (f.ledger, (guint) s)->amount, 150);
  ck_assert_int_eq (ft_payments_wallet (f.pay, 4), 0);
  ck_assert (!ft_payments_has_debt (f.pay, 4));
  ck_assert_int_eq (ft_payments_settle_debt (f.pay, 4, "s", 6, &err), s);
  ck_assert_int_eq (ft_payments_settle_debt (f.pay, 4, "s-new", 6, &err), -1);
  ck_assert (g_error_matches (err, FT_PAYMENTS_ERROR, FT_PAYMENTS_ERROR_INVALID));
  assert_check_ok ();
}
END_TEST

START_TEST (test_capture_no_hold)
{
  g_autoptr(GError) err = NULL;
  ck_assert_int_eq (ft_payments_capture (f.pay, 1, 99, 100, "c", 1, &err), -1);
  ck_assert (g_error_matches (err, FT_PAYMENTS_ERROR, FT_PAYMENTS_ERROR_NO_HOLD));
  g_clear_error (&err);
  ck_assert_int_eq (ft_payments_release (f.pay, 1, 99, "r", 1, &err), -1);
  ck_assert (g_error_matches (err, FT_PAYMENTS_ERROR, FT_PAYMENTS_ERROR_NO_HOLD));
  g_clear_error (&err);
  /* another rider's hold */
  ck_assert_int_ge (ft_payments_topup (f.pay, 1, 1000, "t", 1, &err), 0);
  ck_assert_int_ge (ft_payments_hold (f.pay, 1, 500, 5, "h", 2, &err), 0);
  ck_assert_int_eq (ft_payments_capture (f.pay, 2, 5, 100, "c2", 3, &err), -1);
  ck_assert (g_error_matches (err, FT_PAYMENTS_ERROR, FT_PAYMENTS_ERROR_NO_HOLD));
  ck_assert_msg (strstr (err->message, "rider 1") != NULL, "%s", err->message);
  g_clear_error (&err);
  ck_assert_int_eq (ft_payments_release (f.pay, 2, 5, "r2", 3, &err), -1);
  ck_assert (g_error_matches (err, FT_PAYMENTS_ERROR, FT_PAYMENTS_ERROR_NO_HOLD));
  ck_assert (ft_payments_has_hold (f.pay, 5));
  ck_assert_uint_eq (ft_ledger_n_tx (f.ledger), 2);
  assert_check_ok ();
}
END_TEST

START_TEST (test_many_holds)
{
  /* Thousands of open holds (dense ids and far-apart ones) closed in a
   * random order: every booking's hold is found until it closes and never
   * after, whatever else was added or removed around it. */
  const guint N = 3000;
  g_autoptr(GError) err = NULL;
  g_autoptr(GRand) r = g_rand_new_with_seed (11);
  g_autofree gint64 *ids = g_new (gint64, N);
  g_autofree guint8 *open = g_new0 (guint8, N);
  g_autofree gint64 *captured = g_new0 (gint64, N);
  ck_assert_int_ge (ft_payments_topup (f.pay, 3, (gint64) N * 100, "t", 1, &err), 0);
  for (guint i = 0; i < N; i++)
    {
      ids[i] = i % 3 == 0 ? (gint64) i : (gint64) i * 1000003 + ((gint64) (i % 7) << 40);
      ck_assert_int_ge (ft_payments_hold (f.pay, 3, 100, ids[i], NULL, 2, &err), 0);
      open[i] = 1;
    }
  for (guint k = 0; k < N; k++)
    {
      guint i = (guint) g_rand_int_range (r, 0, (gint32) N);
      while (!open[i])
        i = (i + 1) % N;
      if (k % 2)
        ck_assert_int_ge (ft_payments_release (f.pay, 3, ids[i], NULL, 3, &err), 0);
      else
        {
          ck_assert_int_ge (ft_payments_capture (f.pay, 3, ids[i], 40, NULL, 3, &err), 0);
          captured[i] = 40;
        }
      open[i] = 0;
      if (k % 97 == 0 || k + 1 == N)
        {
          for (guint j = 0; j < N; j++)
            {
              ck_assert_int_eq (ft_payments_has_hold (f.pay, ids[j]), open[j]);
              ck_assert_int_eq (ft_payments_captured (f.pay, ids[j]), captured[j]);
            }
          assert_check_ok ();
        }
    }
  ck_assert_int_eq (ft_payments_held (f.pay, 3), 0);

  /* A hold on booking -1 (all bits set, the tables' empty mark) can only
   * come from a loaded ledger: it is kept, checked and released all the same. */
  guint wallet, hold;
  ck_assert (ft_ledger_lookup (f.ledger, "wallet:3", &wallet));
  ck_assert (ft_ledger_lookup (f.ledger, "hold:3", &hold));
  FtPosting ps[2] = { { (gint32) wallet, 70 }, { (gint32) hold, -70 } };
  ck_assert_int_ge (ft_ledger_post (f.ledger, FT_TX_HOLD, 4, 3, 70, -1, 0, 0, ps, 2, &err), 0);
  ft_payments_rebuild (f.pay);
  ck_assert (ft_payments_has_hold (f.pay, -1));
  ck_assert_int_eq (ft_payments_held (f.pay, 3), 70);
  assert_check_ok ();
  ck_assert_int_ge (ft_payments_release (f.pay, 3, -1, NULL, 5, &err), 0);
  ck_assert (!ft_payments_has_hold (f.pay, -1));
  ck_assert_int_eq (ft_payments_held (f.pay, 3), 0);
  assert_check_ok ();
}
END_TEST

START_TEST (test_release)
{
  g_autoptr(GError) err = NULL;
  ck_assert_int_ge (ft_payments_topup (f.pay, 1, 1000, "t", 1, &err), 0);
  ck_assert_int_ge (ft_payments_hold (f.pay, 1, 600, 5, "h", 2, &err), 0);
  gint64 tx = ft_payments_release (f.pay, 1, 5, "r", 3, &err);
  ck_assert_int_ge (tx, 0);
  ck_assert_int_eq (ft_ledger_get_tx (f.ledger, (guint) tx)->kind, FT_TX_RELEASE);
  ck_assert_int_eq (ft_ledger_get_tx (f.ledger, (guint) tx)->amount, 600);
  ck_assert_int_eq (ft_payments_wallet (f.pay, 1), 1000);
  ck_assert_int_eq (ft_payments_held (f.pay, 1), 0);
  ck_assert (!ft_payments_has_hold (f.pay, 5));
  ck_assert_int_eq (ft_payments_release (f.pay, 1, 5, "r", 4, &err), tx);
  ck_assert_int_eq (ft_payments_release (f.pay, 1, 5, "r-again", 4, &err), -1);
  ck_assert (g_error_matches (err, FT_PAYMENTS_ERROR, FT_PAYMENTS_ERROR_NO_HOLD));
  ck_assert_int_eq (total (FT_LACC_REVENUE), 0);
  assert_check_ok ();
}
END_TEST

START_TEST (test_refund)
{
  g_autoptr(GError) err = NULL;
  ck_assert_int_ge (ft_payments_topup (f.pay, 1, 1000, "t", 1, &err), 0);
  ck_assert_int_ge (ft_payments_hold (f.pay, 1, 500, 5, "h", 2, &err), 0);
  ck_assert_int_ge (ft_payments_capture (f.pay, 1, 5, 400, "c", 3, &err), 0);
  ck_assert_int_eq (ft_payments_wallet (f.pay, 1), 600);

  gint64 r1 = ft_payments_refund (f.pay, 1, 5, 150, "r1", 4, &err);
  ck_assert_msg (r1 >= 0, "%s", err ? err->message : "");
  ck_assert_int_eq (ft_payments_captured (f.pay, 5), 250);
  ck_assert_int_eq (ft_payments_wallet (f.pay, 1), 750);
  ck_assert_int_eq (total (FT_LACC_EXPENSE), 150);
  ck_assert_int_eq (ft_payments_refund (f.pay, 1, 5, 150, "r1", 5, &err), r1);
  ck_assert_int_eq (ft_payments_captured (f.pay, 5), 250);
  /* more than is left */
  ck_assert_int_eq (ft_payments_refund (f.pay, 1, 5, 251, "r2", 6, &err), -1);
  ck_assert (g_error_matches (err, FT_PAYMENTS_ERROR, FT_PAYMENTS_ERROR_REFUND));
  ck_assert_msg (strstr (err->message, "2.50 EUR") != NULL, "%s", err->message);
  g_clear_error (&err);
  /* wrong rider, unknown booking, bad amount */
  ck_assert_int_eq (ft_payments_refund (f.pay, 2, 5, 10, "r3", 6, &err), -1);
  ck_assert (g_error_matches (err, FT_PAYMENTS_ERROR, FT_PAYMENTS_ERROR_REFUND));
  g_clear_error (&err);
  ck_assert_int_eq (ft_payments_refund (f.pay, 1, 77, 10, "r4", 6, &err), -1);
  ck_assert (g_error_matches (err, FT_PAYMENTS_ERROR, FT_PAYMENTS_ERROR_REFUND));
  g_clear_error (&err);
  ck_assert_int_eq (ft_payments_refund (f.pay, 1, 5, 0, "r5", 6, &err), -1);
  ck_assert (g_error_matches (err, FT_PAYMENTS_ERROR, FT_PAYMENTS_ERROR_INVALID));
  g_clear_error (&err);
  /* the rest, exactly */
  ck_assert_int_ge (ft_payments_refund (f.pay, 1, 5, 250, "r6", 7, &err), 0);
  ck_assert_int_eq (ft_payments_captured (f.pay, 5), 0);
  ck_assert_int_eq (ft_payments_wallet (f.pay, 1), 1000);
  ck_assert_int_eq (ft_payments_refund (f.pay, 1, 5, 1, "r7", 8, &err), -1);
  ck_assert (g_error_matches (err, FT_PAYMENTS_ERROR, FT_PAYMENTS_ERROR_REFUND));
  assert_check_ok ();
}
END_TEST

/* ---------------- captures by booking id ---------------- */

/* Captures live in an array indexed by booking id, and ids far beyond it
 * in a table beside it: an id that went to the table while the array was
 * short must still be found once the array has grown past it, before and
 * after a rebuild. */
START_TEST (test_captures_sparse_ids)
{
  g_autoptr(GError) err = NULL;
  const gint64 ids[] = { 5, 30000, G_GINT64_CONSTANT (1) << 40, 3, 4000, 12000, 28000, 40000 };
  ck_assert_int_ge (ft_payments_topup (f.pay, 1, 100000, "t", 1, &err), 0);
  for (guint i = 0; i < G_N_ELEMENTS (ids); i++)
    {
      char k[32];
      g_snprintf (k, sizeof k, "h%u", i);
      ck_assert_msg (ft_payments_hold (f.pay, 1, 500, ids[i], k, 2, &err) >= 0, "%s", err ? err->message : "");
      g_snprintf (k, sizeof k, "c%u", i);
      ck_assert_msg (ft_payments_capture (f.pay, 1, ids[i], 100 + (gint64) i, k, 3, &err) >= 0,
                     "%s", err ? err->message : "");
    }
  for (int pass = 0; pass < 2; pass++)
    {
      for (guint i = 0; i < G_N_ELEMENTS (ids); i++)
        ck_assert_int_eq (ft_payments_captured (f.pay, ids[i]), 100 + (gint64) i);
      /* ids never captured, inside and beyond the array */
      ck_assert_int_eq (ft_payments_captured (f.pay, 4), 0);
      ck_assert_int_eq (ft_payments_captured (f.pay, 29999), 0);
      ck_assert_int_eq (ft_payments_captured (f.pay, G_GINT64_CONSTANT (1) << 41), 0);
      /* a captured booking takes no new hold, wherever it is kept */
      ck_assert_int_eq (ft_payments_hold (f.pay, 1, 500, 30000, pass ? "again1" : "again0", 4, &err), -1);
      ck_assert (g_error_matches (err, FT_PAYMENTS_ERROR, FT_PAYMENTS_ERROR_INVALID));
      ck_assert_msg (strstr (err->message, "already captured") != NULL, "%s", err->message);
      g_clear_error (&err);
      assert_check_ok ();
      ft_payments_rebuild (f.pay);
    }
  /* refunds find the capture of the id kept beside the array */
  ck_assert_int_ge (ft_payments_refund (f.pay, 1, 30000, 101, "f", 5, &err), 0);
  ck_assert_int_eq (ft_payments_captured (f.pay, 30000), 0);
  ck_assert_int_eq (ft_payments_refund (f.pay, 1, 30000, 1, "f2", 5, &err), -1);
  ck_assert (g_error_matches (err, FT_PAYMENTS_ERROR, FT_PAYMENTS_ERROR_REFUND));
  g_clear_error (&err);
  ck_assert_int_eq (ft_payments_refund (f.pay, 2, 40000, 1, "f3", 5, &err), -1);   /* not rider 2's */
  ck_assert (g_error_matches (err, FT_PAYMENTS_ERROR, FT_PAYMENTS_ERROR_REFUND));
  g_clear_error (&err);
  assert_check_ok ();
}
END_TEST

/* ft_payments_expect sizes the key table (while it is empty) and the
 * captures ahead: keys and captures made before and after still hold. */
START_TEST (test_expect_keeps)
{
  g_autoptr(GError) err = NULL;
  ft_payments_expect (f.pay, 300000, 1000);
  gint64 t = ft_payments_topup (f.pay, 1, 5000, "t", 1, &err);
  ck_assert_int_ge (t, 0);
  ck_assert_int_ge (ft_payments_hold (f.pay, 1, 500, 7, "h7", 2, &err), 0);
  gint64 c = ft_payments_capture (f.pay, 1, 7, 300, "c7", 3, &err);
  ck_assert_int_ge (c, 0);
  ft_payments_expect (f.pay, 900000, 5000);   /* keys kept: the table is not remade */
  ck_assert_int_eq (ft_payments_topup (f.pay, 1, 5000, "t", 4, &err), t);
  ck_assert_int_eq (ft_payments_capture (f.pay, 1, 7, 300, "c7", 4, &err), c);
  ck_assert_int_eq (ft_payments_topup (f.pay, 1, 1, "c7", 4, &err), -1);
  ck_assert (g_error_matches (err, FT_PAYMENTS_ERROR, FT_PAYMENTS_ERROR_IDEMPOTENCY));
  g_clear_error (&err);
  ck_assert_int_eq (ft_payments_captured (f.pay, 7), 300);
  ck_assert_int_ge (ft_payments_hold (f.pay, 1, 500, 4999, "h4999", 5, &err), 0);
  ck_assert_int_ge (ft_payments_capture (f.pay, 1, 4999, 200, "c4999", 6, &err), 0);
  ck_assert_int_eq (ft_payments_captured (f.pay, 4999), 200);
  assert_check_ok ();
}
END_TEST

/* Keys that name a booking ("bk<id>-…") are kept with that booking, the
 * others in the key table: the same random run of operations, keys reused
 * across operations and bookings, gives the same results whether its keys
 * name bookings (many to a booking, so its slots overflow, some far beyond
 * the bookings made, some arriving before their booking is reached) or
 * not, before and after rebuilds. */
START_TEST (test_scoped_keys_match)
{
  /* a third: booking-named keys on a ledger without a journal (never
   * rebuilt: it cannot be) */
  FtEventLog *logs[3];
  FtLedger *ls[3];
  FtPayments *ps[3];
  for (int k = 0; k < 3; k++)
    {
      logs[k] = ft_event_log_new ();
      ls[k] = ft_ledger_new ("EUR", logs[k]);
      if (k == 2)
        ft_ledger_set_journal (ls[k], FALSE);
      ps[k] = ft_payments_new (ls[k], ft_sim_card_provider_new (11, 0.2, 0, 10));
      ft_payments_set_auto_topup (ps[k], 300);
    }
  ft_payments_expect (ps[1], 0, 64);
  GRand *r = g_rand_new_with_seed (16);
  const guint N_RIDERS = 12, N_OPS = 12000;
  gint64 next_booking = 0;
  guint seen_again = 0, misused = 0;
  struct { int op; guint rider, kn; gint64 booking, amount; } past[32] = { { 0 } };
  for (guint i = 0; i < N_OPS; i++)
    {
      int op = g_rand_int_range (r, 0, 6);
      guint rider = (guint) g_rand_int_range (r, 0, N_RIDERS);
      gint64 booking = g_rand_int_range (r, 0, (gint32) next_booking + 2);
      gint64 amount = g_rand_int_range (r, -50, 1500);
      guint kn = i;
      gboolean retry = FALSE;
      /* a quarter of the calls reuse a recent key: half of them retry
       * that call as it was, half make another call with it */
      if (i >= G_N_ELEMENTS (past) && g_rand_int_range (r, 0, 4) == 0)
        {
          guint j = (guint) g_rand_int_range (r, 0, G_N_ELEMENTS (past));
          kn = past[j].kn;
          if (g_rand_boolean (r))
            {
              retry = TRUE;
              op = past[j].op;
              rider = past[j].rider;
              booking = past[j].booking;
              amount = past[j].amount;
            }
        }
      if (op == 1 && !retry)
        booking = next_booking;
      past[i % G_N_ELEMENTS (past)].op = op;
      past[i % G_N_ELEMENTS (past)].rider = rider;
      past[i % G_N_ELEMENTS (past)].kn = kn;
      past[i % G_N_ELEMENTS (past)].booking = booking;
      past[i % G_N_ELEMENTS (past)].amount = amount;
      guint scope = kn % 29 == 0 ? 5000000 + kn : kn % 7 == 0 ? 5000 + kn / 3 : kn / 3;
      char key[3][48];
      g_snprintf (key[0], sizeof key[0], "op-%u", kn);
      g_snprintf (key[1], sizeof key[1], "bk%u-op-%u", scope, kn);
      g_strlcpy (key[2], key[1], sizeof key[2]);
      gint64 tx[3];
      int code[3];
      for (int k = 0; k < 3; k++)
        {
          g_autoptr(GError) err = NULL;
          FtPayments *p = ps[k];
          switch (op)
            {
            case 0: tx[k] = ft_payments_topup (p, rider, amount, key[k], i, &err); break;
            case 1: tx[k] = ft_payments_hold (p, rider, amount, booking, key[k], i, &err); break;
            case 2: tx[k] = ft_payments_capture (p, rider, booking, amount, key[k], i, &err); break;
            case 3: tx[k] = ft_payments_release (p, rider, booking, key[k], i, &err); break;
            case 4: tx[k] = ft_payments_refund (p, rider, booking, amount / 4, key[k], i, &err); break;
            default: tx[k] = ft_payments_incentive (p, rider, amount, booking, key[k], i, &err); break;
            }
          code[k] = err != NULL ? err->code : -1;
          if (err != NULL && err->code == FT_PAYMENTS_ERROR_IDEMPOTENCY)
            misused += k == 1;
        }
      ck_assert_msg (tx[0] == tx[1] && code[0] == code[1] && tx[0] == tx[2] && code[0] == code[2],
                     "op %u (%d, key %s): %" G_GINT64_FORMAT " (%d) against %" G_GINT64_FORMAT
                     " (%d) and %" G_GINT64_FORMAT " (%d)", i, op, key[1], tx[0], code[0], tx[1], code[1],
                     tx[2], code[2]);
      if (kn != i && tx[0] >= 0 && (guint) tx[0] + 1 < ft_ledger_n_tx (ls[0]))
        seen_again++;
      if (op == 1 && tx[0] >= 0 && (guint) tx[0] + 1 == ft_ledger_n_tx (ls[0]))
        next_booking++;
      if (i == N_OPS / 3 || i == 2 * N_OPS / 3)
        for (int k = 0; k < 2; k++)
          ft_payments_rebuild (ps[k]);
      if (i % 500 == 0)
        for (int k = 0; k < 3; k++)
          {
            g_autoptr(GError) cerr = NULL;
            ck_assert_msg (ft_payments_check (ps[k], &cerr), "%s", cerr->message);
          }
    }
  g_rand_free (r);
  ck_assert_uint_gt (seen_again, 100);
  ck_assert_uint_gt (misused, 100);
  ck_assert_uint_eq (ft_ledger_n_tx (ls[0]), ft_ledger_n_tx (ls[1]));
  ck_assert_uint_eq (ft_ledger_n_tx (ls[0]), ft_ledger_n_tx (ls[2]));
  for (guint rr = 0; rr < N_RIDERS; rr++)
    ck_assert_int_eq (ft_payments_wallet (ps[2], rr), ft_payments_wallet (ps[0], rr));
  for (int k = 0; k < 3; k++)
    {
      ft_payments_free (ps[k]);
      ft_ledger_free (ls[k]);
      ft_event_log_free (logs[k]);
    }
}
END_TEST

/* The cases of booking-named keys one by one: a key of a booking beyond
 * the array goes to the table and is still found once the array has grown
 * past it; a booking's fourth key; texts that only look like a booking's
 * name no booking; a retry after a rebuild. */
START_TEST (test_scoped_keys_cases)
{
  g_autoptr(GError) err = NULL;
  gint64 far = ft_payments_topup (f.pay, 1, 100, "bk9000-a", 1, &err);
  ck_assert_int_ge (far, 0);
  const char *grow[] = { "bk1000-x", "bk3000-x", "bk7000-x", "bk9500-x" };
  for (guint i = 0; i < G_N_ELEMENTS (grow); i++)
    ck_assert_int_ge (ft_payments_topup (f.pay, 1, 100, grow[i], 2, &err), 0);
  ck_assert_int_eq (ft_payments_topup (f.pay, 1, 100, "bk9000-a", 3, &err), far);
  ck_assert_int_eq (ft_payments_topup (f.pay, 1, 101, "bk9000-a", 3, &err), -1);
  ck_assert (g_error_matches (err, FT_PAYMENTS_ERROR, FT_PAYMENTS_ERROR_IDEMPOTENCY));
  g_clear_error (&err);

  /* five keys of booking 4: the last two in the table */
  gint64 tx[5];
  for (guint i = 0; i < 5; i++)
    {
      char k[16];
      g_snprintf (k, sizeof k, "bk4-%u", i);
      tx[i] = ft_payments_topup (f.pay, 2, 10 + i, k, 4, &err);
      ck_assert_int_ge (tx[i], 0);
    }
  for (guint i = 0; i < 5; i++)
    {
      char k[16];
      g_snprintf (k, sizeof k, "bk4-%u", i);
      ck_assert_int_eq (ft_payments_topup (f.pay, 2, 10 + i, k, 5, &err), tx[i]);
      ck_assert_int_eq (ft_payments_topup (f.pay, 3, 10 + i, k, 5, &err), -1);
      g_clear_error (&err);
    }

  /* not a booking's name: still keys, each its own */
  const char *odd[] = { "bk", "bk-1", "bkx-1", "bk12", "bk99999999999-x", "bk4", "Bk4-0", "bk04-0" };
  gint64 otx[G_N_ELEMENTS (odd)];
  for (guint i = 0; i < G_N_ELEMENTS (odd); i++)
    {
      otx[i] = ft_payments_topup (f.pay, 4, 20 + i, odd[i], 6, &err);
      ck_assert_msg (otx[i] >= 0, "%s: %s", odd[i], err ? err->message : "");
    }
  for (guint i = 0; i < G_N_ELEMENTS (odd); i++)
    ck_assert_int_eq (ft_payments_topup (f.pay, 4, 20 + i, odd[i], 7, &err), otx[i]);

  guint n = ft_ledger_n_tx (f.ledger);
  ft_payments_rebuild (f.pay);
  ck_assert_int_eq (ft_payments_topup (f.pay, 1, 100, "bk9000-a", 8, &err), far);
  ck_assert_int_eq (ft_payments_topup (f.pay, 2, 13, "bk4-3", 8, &err), tx[3]);
  ck_assert_int_eq (ft_payments_topup (f.pay, 2, 10, "bk4-0", 8, &err), tx[0]);
  ck_assert_int_eq (ft_payments_topup (f.pay, 9, 10, "bk4-0", 8, &err), -1);
  g_clear_error (&err);
  ck_assert_uint_eq (ft_ledger_n_tx (f.ledger), n);
  assert_check_ok ();
}
END_TEST

/* ---------------- rebuild after reload ---------------- */

static FtLedger *
reload (const FtLedger *src)
{
  FtLedger *dst = ft_ledger_new (ft_ledger_currency (src), NULL);
  for (guint i = 0; i < ft_ledger_n_accounts (src); i++)
    ft_ledger_restore_account (dst, ft_ledger_get_account (src, i), ft_ledger_balance (src, i));
  guint np;
  const FtPosting *ps = ft_ledger_postings (src, &np);
  for (guint i = 0; i < ft_ledger_n_tx (src); i++)
    {
      const FtLedgerTx *tx = ft_ledger_get_tx (src, i);
      ck_assert (ft_ledger_restore_tx (dst, i, tx, ps + tx->first_posting, NULL));
    }
  return dst;
}

START_TEST (test_rebuild)
{
  g_autoptr(GError) err = NULL;
  ck_assert_int_ge (ft_payments_topup (f.pay, 1, 1000, "t1", 1, &err), 0);
  ck_assert_int_ge (ft_payments_topup (f.pay, 2, 100, "t2", 1, &err), 0);
  ck_assert_int_ge (ft_payments_hold (f.pay, 1, 500, 10, "h10", 2, &err), 0);
  ck_assert_int_ge (ft_payments_hold (f.pay, 2, 400, 11, "h11", 2, &err), 0);   /* auto top-up */
  ck_assert_int_ge (ft_payments_hold (f.pay, 1, 200, 12, "h12", 2, &err), 0);
  gint64 cap = ft_payments_capture (f.pay, 1, 10, 350, "c10", 3, &err);
  ck_assert_int_ge (cap, 0);
  ck_assert_int_ge (ft_payments_release (f.pay, 1, 12, "r12", 3, &err), 0);
  ck_assert_int_ge (ft_payments_refund (f.pay, 1, 10, 50, "f10", 4, &err), 0);
  assert_check_ok ();

  g_autoptr(FtLedger) l2 = reload (f.ledger);
  /* built before rebuild, as a store would: then rebuild from the ledger */
  g_autoptr(FtPayments) p2 = ft_payments_new (l2, ft_sim_card_provider_new (1, 0.0, 0, 0));
  ft_payments_set_auto_topup (p2, 1000);
  ft_payments_rebuild (p2);
  ck_assert_msg (ft_payments_check (p2, &err), "%s", err ? err->message : "");
  for (guint r = 1; r <= 2; r++)
    {
      ck_assert_int_eq (ft_payments_wallet (p2, r), ft_payments_wallet (f.pay, r));
      ck_assert_int_eq (ft_payments_held (p2, r), ft_payments_held (f.pay, r));
    }
  ck_assert (!ft_payments_has_hold (p2, 10));
  ck_assert (ft_payments_has_hold (p2, 11));
  ck_assert (!ft_payments_has_hold (p2, 12));
  ck_assert_int_eq (ft_payments_captured (p2, 10), 300);

  /* keys survive the reload */
  guint n_tx = ft_ledger_n_tx (l2);
  ck_assert_int_eq (ft_payments_capture (p2, 1, 10, 350, "c10", 9, &err), cap);
  ck_assert_int_eq (ft_payments_topup (p2, 1, 999, "t1", 9, &err), -1);
  ck_assert (g_error_matches (err, FT_PAYMENTS_ERROR, FT_PAYMENTS_ERROR_IDEMPOTENCY));
  g_clear_error (&err);
  ck_assert_uint_eq (ft_ledger_n_tx (l2), n_tx);
  /* and the open hold can be captured after the reload */
  ck_assert_int_ge (ft_payments_capture (p2, 2, 11, 400, "c11", 9, &err), 0);
  ck_assert_int_eq (ft_payments_refund (p2, 1, 10, 301, "f-over", 9, &err), -1);
  ck_assert (g_error_matches (err, FT_PAYMENTS_ERROR, FT_PAYMENTS_ERROR_REFUND));
  g_clear_error (&err);
  ck_assert_msg (ft_payments_check (p2, &err), "%s", err ? err->message : "");

  /* rebuilding the live instance is a no-op for its state */
  ft_payments_rebuild (f.pay);
  assert_check_ok ();
  ck_assert (ft_payments_has_hold (f.pay, 11));
  ck_assert_int_eq (ft_payments_captured (f.pay, 10), 300);
}
END_TEST

/* The checker does catch a hold account that disagrees with the open holds
 * (money moved behind payments' back). */
/* Without the ledger's journal (summary records) payments keeps each key
 * whole itself: a retried call still gives its transaction and posts
 * nothing, reuse with other arguments is refused, whether the key names a
 * booking (up to three with it, more in the key map) or not, and the
 * ledger keeps nothing per transaction. Once the booking is forgotten its
 * keys and capture go: a retried capture is refused, nothing is posted
 * twice. */
START_TEST (test_summary_retries)
{
  g_autoptr(GError) err = NULL;
  ck_assert (!ft_ledger_has_journal (f.ledger));
  gint64 top = ft_payments_topup (f.pay, 1, 3000, "app-topup-1", 10, &err);
  ck_assert_int_ge (top, 0);
  gint64 hold = ft_payments_hold (f.pay, 1, 1000, 5, "bk5-hold-t20", 20, &err);
  ck_assert_int_ge (hold, 0);
  guint n_tx = ft_ledger_n_tx (f.ledger);
  ck_assert_ptr_null (ft_ledger_get_tx (f.ledger, (guint) hold));
  ck_assert_int_eq (ft_ledger_tx_hashes (f.ledger, (guint) hold, NULL, NULL), FT_N_TX_KINDS);
  /* retries: the same transactions, nothing posted */
  ck_assert_int_eq (ft_payments_topup (f.pay, 1, 3000, "app-topup-1", 30, &err), top);
  ck_assert_int_eq (ft_payments_hold (f.pay, 1, 1000, 5, "bk5-hold-t20", 30, &err), hold);
  ck_assert_uint_eq (ft_ledger_n_tx (f.ledger), n_tx);
  /* the same keys for other calls: refused, naming the kind kept */
  ck_assert_int_eq (ft_payments_topup (f.pay, 1, 3001, "app-topup-1", 30, &err), -1);
  ck_assert (g_error_matches (err, FT_PAYMENTS_ERROR, FT_PAYMENTS_ERROR_IDEMPOTENCY));
  ck_assert (strstr (err->message, "topup") != NULL);
  g_clear_error (&err);
  ck_assert_int_eq (ft_payments_hold (f.pay, 2, 1000, 5, "bk5-hold-t20", 30, &err), -1);
  ck_assert (g_error_matches (err, FT_PAYMENTS_ERROR, FT_PAYMENTS_ERROR_IDEMPOTENCY));
  ck_assert (strstr (err->message, "hold") != NULL);
  g_clear_error (&err);
  /* more keys naming booking 5 than it keeps slots: the rest in the map */
  gint64 inc[3];
  for (int i = 0; i < 3; i++)
    {
      char key[32];
      g_snprintf (key, sizeof key, "bk5-incentive-%d", i);
      inc[i] = ft_payments_incentive (f.pay, 1, 10 + i, 5, key, 40, &err);
      ck_assert_int_ge (inc[i], 0);
    }
  gint64 cap = ft_payments_capture (f.pay, 1, 5, 400, "bk5-capture", 50, &err);
  ck_assert_int_ge (cap, 0);
  n_tx = ft_ledger_n_tx (f.ledger);
  ck_assert_int_eq (ft_payments_capture (f.pay, 1, 5, 400, "bk5-capture", 60, &err), cap);
  for (int i = 0; i < 3; i++)
    {
      char key[32];
      g_snprintf (key, sizeof key, "bk5-incentive-%d", i);
      ck_assert_int_eq (ft_payments_incentive (f.pay, 1, 10 + i, 5, key, 60, &err), inc[i]);
    }
  ck_assert_uint_eq (ft_ledger_n_tx (f.ledger), n_tx);
  ck_assert_int_eq (ft_payments_captured (f.pay, 5), 400);
  gint64 wallet = ft_payments_wallet (f.pay, 1);
  assert_check_ok ();

  /* forgotten: the capture and the keys go, and nothing is posted twice */
  ft_payments_forget_booking (f.pay, 5);
  ck_assert_int_eq (ft_payments_captured (f.pay, 5), 0);
  ck_assert_int_eq (ft_payments_capture (f.pay, 1, 5, 400, "bk5-capture", 70, &err), -1);
  ck_assert (g_error_matches (err, FT_PAYMENTS_ERROR, FT_PAYMENTS_ERROR_NO_HOLD));
  g_clear_error (&err);
  ck_assert_uint_eq (ft_ledger_n_tx (f.ledger), n_tx);
  ck_assert_int_eq (ft_payments_wallet (f.pay, 1), wallet);
  /* its hold retried, or a new one: refused (the booking is closed), nothing posted */
  ck_assert_int_eq (ft_payments_hold (f.pay, 1, 1000, 5, "bk5-hold-t20", 75, &err), -1);
  ck_assert (g_error_matches (err, FT_PAYMENTS_ERROR, FT_PAYMENTS_ERROR_INVALID));
  ck_assert_msg (strstr (err->message, "booking 5 was already closed") != NULL, "%s", err->message);
  g_clear_error (&err);
  ck_assert_int_eq (ft_payments_hold (f.pay, 1, 900, 5, "bk5-hold-t76", 76, &err), -1);
  g_clear_error (&err);
  ck_assert_uint_eq (ft_ledger_n_tx (f.ledger), n_tx);
  ck_assert_int_eq (ft_payments_wallet (f.pay, 1), wallet);
  ck_assert_int_eq (ft_payments_held (f.pay, 1), 0);
  /* other bookings, below and far above it, are not */
  ck_assert_int_ge (ft_payments_hold (f.pay, 1, 100, 4, "bk4-hold", 77, &err), 0);
  ck_assert_int_ge (ft_payments_release (f.pay, 1, 4, "bk4-release", 77, &err), 0);
  ft_payments_forget_booking (f.pay, 4000);
  ck_assert_int_ge (ft_payments_hold (f.pay, 1, 100, 3999, "bk3999-hold", 78, &err), 0);
  ck_assert_int_ge (ft_payments_release (f.pay, 1, 3999, "bk3999-release", 78, &err), 0);
  ck_assert_int_eq (ft_payments_hold (f.pay, 1, 100, 4000, "bk4000-hold", 79, &err), -1);
  g_clear_error (&err);
  n_tx = ft_ledger_n_tx (f.ledger);
  /* a key that names no booking stays */
  ck_assert_int_eq (ft_payments_topup (f.pay, 1, 3000, "app-topup-1", 80, &err), top);
  assert_check_ok ();
}
END_TEST

START_TEST (test_check_catches_untracked_hold)
{
  g_autoptr(GError) err = NULL;
  ck_assert_int_ge (ft_payments_topup (f.pay, 6, 1000, "t", 1, &err), 0);
  ck_assert_int_ge (ft_payments_hold (f.pay, 6, 300, 1, "h", 2, &err), 0);
  assert_check_ok ();
  guint w, h;
  ck_assert (ft_ledger_lookup (f.ledger, "wallet:6", &w));
  ck_assert (ft_ledger_lookup (f.ledger, "hold:6", &h));
  FtPosting ps[2] = { { (gint32) w, 50 }, { (gint32) h, -50 } };
  ck_assert_int_ge (ft_ledger_post (f.ledger, FT_TX_ADJUST, 3, 6, 50, -1, 0, 0, ps, 2, &err), 0);
  ck_assert (ft_ledger_check (f.ledger, NULL));         /* the ledger itself balances */
  ck_assert (!ft_payments_check (f.pay, &err));
  ck_assert_msg (strstr (err->message, "hold:6") != NULL, "%s", err->message);
}
END_TEST

/* ---------------- simulated provider ---------------- */

START_TEST (test_sim_provider)
{
  FtPayProvider a = ft_sim_card_provider_new (99, 0.3, 100, 900);
  FtPayProvider b = ft_sim_card_provider_new (99, 0.3, 100, 900);
  FtPayProvider c = ft_sim_card_provider_new (100, 0.3, 100, 900);
  guint declined = 0, differs = 0;
  guint lat_min = G_MAXUINT, lat_max = 0;
  const guint N = 20000;
  for (guint i = 0; i < N; i++)
    {
      guint la = 0, lb = 0, lc = 0;
      FtPayResult ra = a.vtable->charge (a.self, 1, 100, "EUR", NULL, i, &la);
      FtPayResult rb = b.vtable->charge (b.self, 1, 100, "EUR", NULL, i, &lb);
      FtPayResult rc = c.vtable->charge (c.self, 1, 100, "EUR", NULL, i, &lc);
      ck_assert_int_eq (ra, rb);            /* same seed, same stream */
      ck_assert_uint_eq (la, lb);
      if (ra != rc || la != lc)
        differs++;
      if (ra == FT_PAY_DECLINED)
        declined++;
      lat_min = MIN (lat_min, la);
      lat_max = MAX (lat_max, la);
    }
  double rate = (double) declined / N;
  ck_assert_msg (rate > 0.28 && rate < 0.32, "decline rate %.4f", rate);
  ck_assert_uint_ge (lat_min, 100);
  ck_assert_uint_le (lat_max, 900);
  ck_assert_uint_le (lat_min, 110);           /* the whole range is used */
  ck_assert_uint_ge (lat_max, 890);
  ck_assert_uint_gt (differs, N / 4);         /* another seed, another stream */

  /* approved keys are deduplicated by the provider too */
  FtPayProvider d = ft_sim_card_provider_new (5, 0.5, 0, 0);
  guint lat;
  guint approved_key = G_MAXUINT;
  for (guint i = 0; i < 64 && approved_key == G_MAXUINT; i++)
    {
      char key[16];
      g_snprintf (key, sizeof key, "k%u", i);
      if (d.vtable->charge (d.self, 1, 100, "EUR", key, 0, &lat) == FT_PAY_APPROVED)
        approved_key = i;
    }
  ck_assert_uint_ne (approved_key, G_MAXUINT);
  char key[16];
  g_snprintf (key, sizeof key, "k%u", approved_key);
  for (guint i = 0; i < 50; i++)
    ck_assert_int_eq (d.vtable->charge (d.self, 1, 100, "EUR", key, 0, &lat), FT_PAY_APPROVED);

  a.vtable->free (a.self);
  b.vtable->free (b.self);
  c.vtable->free (c.self);
  d.vtable->free (d.self);
}
END_TEST

/* ---------------- randomised ---------------- */

START_TEST (test_random_ops)
{
  /* 30% declines, auto top-up on; random legal and illegal operations with
   * random key reuse; the invariants hold after every step, and money is
   * conserved: card in = wallets + holds + revenue - refunds. */
  FtPayments *p = ft_payments_new (f.ledger, ft_sim_card_provider_new (7, 0.3, 0, 10));
  ft_payments_set_auto_topup (p, 500);
  GRand *r = g_rand_new_with_seed (2026);
  const guint N_RIDERS = 20, N_OPS = 20000;
  gint64 next_booking = 0;
  guint ok = 0, refused = 0;
  for (guint i = 0; i < N_OPS; i++)
    {
      guint rider = (guint) g_rand_int_range (r, 0, N_RIDERS);
      gint64 booking = g_rand_int_range (r, 0, (gint32) next_booking + 2);
      gint64 amount = g_rand_int_range (r, -50, 2000);
      char key[32];
      /* 10% of calls reuse a recent key (retries or misuse) */
      guint kn = g_rand_int_range (r, 0, 10) == 0 && i > 10 ? i - (guint) g_rand_int_range (r, 1, 10) : i;
      g_snprintf (key, sizeof key, "op-%u", kn);
      g_autoptr(GError) err = NULL;
      gint64 tx = -1;
      switch (g_rand_int_range (r, 0, 6))
        {
        case 0: tx = ft_payments_topup (p, rider, amount, key, i, &err); break;
        case 1:
          tx = ft_payments_hold (p, rider, amount, next_booking, key, i, &err);
          if (tx >= 0)
            next_booking++;
          break;
        case 2: tx = ft_payments_capture (p, rider, booking, amount, key, i, &err); break;
        case 3: tx = ft_payments_release (p, rider, booking, key, i, &err); break;
        case 4: tx = ft_payments_refund (p, rider, booking, amount / 4, key, i, &err); break;
        case 5: tx = ft_payments_settle_debt (p, rider, key, i, &err); break;
        }
      ck_assert ((tx >= 0) == (err == NULL));
      if (tx >= 0)
        ok++;
      else
        refused++;
      g_autoptr(GError) cerr = NULL;
      ck_assert_msg (ft_payments_check (p, &cerr), "after op %u: %s", i, cerr->message);
      ck_assert_int_eq (total (FT_LACC_ASSET),
                        total (FT_LACC_LIABILITY) + total (FT_LACC_REVENUE) - total (FT_LACC_EXPENSE));
    }
  g_rand_free (r);
  ck_assert_uint_gt (ok, N_OPS / 5);
  ck_assert_uint_gt (refused, N_OPS / 5);
  ck_assert_uint_gt (ft_payments_n_declines (p), 100);

  /* reload and rebuild: same state */
  g_autoptr(FtLedger) l2 = reload (f.ledger);
  g_autoptr(FtPayments) p2 = ft_payments_new (l2, ft_sim_card_provider_new (1, 0.0, 0, 0));
  ft_payments_rebuild (p2);
  g_autoptr(GError) err = NULL;
  ck_assert_msg (ft_payments_check (p2, &err), "%s", err ? err->message : "");
  for (guint rr = 0; rr < N_RIDERS; rr++)
    {
      ck_assert_int_eq (ft_payments_wallet (p2, rr), ft_payments_wallet (p, rr));
      ck_assert_int_eq (ft_payments_held (p2, rr), ft_payments_held (p, rr));
    }
  for (gint64 b = 0; b < next_booking; b++)
    {
      ck_assert_int_eq (ft_payments_has_hold (p2, b), ft_payments_has_hold (p, b));
      ck_assert_int_eq (ft_payments_captured (p2, b), ft_payments_captured (p, b));
    }
  ft_payments_free (p);
}
END_TEST

/* A rider's wallet and hold balance as a plain look-up of the account's
 * code in the ledger gives them. */
static gint64
plain_balance (guint rider, gboolean hold)
{
  char code[40];
  g_snprintf (code, sizeof code, "%s:%u", hold ? "hold" : "wallet", rider);
  guint a;
  return ft_ledger_lookup (f.ledger, code, &a) ? -ft_ledger_balance (f.ledger, a) : 0;
}

/* Payments answers a rider it has no account for without a look-up while
 * the ledger's codes are those it knows; accounts opened in the ledger by
 * someone else (a store restoring them, another module) must still be
 * found. Random top-ups, holds and captures, with rider accounts opened
 * and funded behind payments' back, and a second payments over the same
 * ledger (it starts with accounts it has not seen), and a rebuild: both
 * answer every rider as the plain look-up does. */
START_TEST (test_rider_accounts_match_lookup)
{
  GRand *r = g_rand_new_with_seed (916);
  FtPayments *late = NULL;
  guint ext = G_MAXUINT;    /* opened with the first account behind payments' back */
  gint64 next_booking = 0;
  guint n_behind = 0;
  for (guint i = 0; i < 4000; i++)
    {
      guint rider = (guint) g_rand_int_range (r, 0, 60);
      char key[32];
      g_snprintf (key, sizeof key, "k-%u", i);
      g_autoptr(GError) err = NULL;
      switch (g_rand_int_range (r, 0, 10))
        {
        case 0: case 1: case 2:
          ft_payments_topup (f.pay, rider, g_rand_int_range (r, 100, 3000), key, i, &err);
          break;
        case 3: case 4:
          if (ft_payments_hold (f.pay, rider, 500, next_booking, key, i, &err) >= 0)
            next_booking++;
          break;
        case 5: case 6:
          if (next_booking > 0)
            ft_payments_capture (f.pay, rider, g_rand_int_range (r, 0, (gint32) next_booking),
                                 g_rand_int_range (r, 0, 800), key, i, &err);
          break;
        case 7:
          if (i >= 1500)    /* before: payments knows every code */
          {
            /* behind payments' back, for a rider it may not have met */
            guint other = (guint) g_rand_int_range (r, 0, 90);
            if (ext == G_MAXUINT)
              ext = ft_ledger_account (f.ledger, "ext:cash", FT_LACC_ASSET, -1);
            char code[40];
            g_snprintf (code, sizeof code, "%s:%u", g_rand_boolean (r) ? "hold" : "wallet", other);
            guint a = ft_ledger_account (f.ledger, code, FT_LACC_LIABILITY, (gint32) other);
            FtPosting ps[2] = { { (gint32) ext, 250 }, { (gint32) a, -250 } };
            ck_assert_int_ge (ft_ledger_post (f.ledger, FT_TX_TOPUP, i, (gint32) other, 250, -1, 0, 0, ps, 2, &err), 0);
            n_behind++;
          }
          break;
        default:
          break;
        }
      if (i == 2000)
        late = ft_payments_new (f.ledger, ft_sim_card_provider_new (3, 0.0, 0, 10));
      if (i == 1000)
        ft_payments_rebuild (f.pay);    /* forgets the accounts it had found */
      for (guint q = 0; q < 3; q++)
        {
          guint who = (guint) g_rand_int_range (r, 0, 100);
          ck_assert_int_eq (ft_payments_wallet (f.pay, who), plain_balance (who, FALSE));
          ck_assert_int_eq (ft_payments_held (f.pay, who), plain_balance (who, TRUE));
          if (late != NULL)
            {
              ck_assert_int_eq (ft_payments_wallet (late, who), plain_balance (who, FALSE));
              ck_assert_int_eq (ft_payments_held (late, who), plain_balance (who, TRUE));
            }
        }
    }
  for (guint who = 0; who < 100; who++)
    {
      ck_assert_int_eq (ft_payments_wallet (f.pay, who), plain_balance (who, FALSE));
      ck_assert_int_eq (ft_payments_held (f.pay, who), plain_balance (who, TRUE));
    }
  ck_assert_uint_gt (n_behind, 150);
  g_rand_free (r);
  ft_payments_free (late);
}
END_TEST

static Suite *
payments_suite (void)
{
  Suite *s = suite_create ("payments");
  struct { const char *name; const TTest *fn; void (*setup) (void); } cases[] = {
    { "topup", test_topup, setup },
    { "topup-idempotent", test_topup_idempotent, setup },
    { "idem-fingerprint", test_idem_fingerprint, setup },
    { "topup-invalid", test_topup_invalid, setup },
    { "decline", test_decline, setup_decline },
    { "provider-error", test_provider_error, setup },
    { "hold-insufficient", test_hold_insufficient, setup },
    { "hold-auto-topup", test_hold_auto_topup, setup_auto },
    { "capture-remainder", test_capture_remainder, setup },
    { "capture-zero-exact", test_capture_zero_and_exact, setup },
    { "capture-debt", test_capture_debt, setup },
    { "capture-no-hold", test_capture_no_hold, setup },
    { "release", test_release, setup },
    { "many-holds", test_many_holds, setup },
    { "refund", test_refund, setup },
    { "captures-sparse-ids", test_captures_sparse_ids, setup },
    { "expect-keeps", test_expect_keeps, setup },
    { "scoped-keys-match", test_scoped_keys_match, setup },
    { "scoped-keys-cases", test_scoped_keys_cases, setup },
    { "rebuild", test_rebuild, setup_auto },
    { "check-untracked-hold", test_check_catches_untracked_hold, setup },
    { "summary-retries", test_summary_retries, setup_summary },
    { "sim-provider", test_sim_provider, setup },
    { "hold-topup-key", test_hold_topup_key, setup },
    { "random-ops", test_random_ops, setup },
    { "rider-accounts-lookup", test_rider_accounts_match_lookup, setup },
  };
  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      TCase *tc = tcase_create (cases[i].name);
      tcase_add_checked_fixture (tc, cases[i].setup, teardown);
      tcase_set_timeout (tc, 120);
      tcase_add_test (tc, cases[i].fn);
      suite_add_tcase (s, tc);
    }
  return s;
}

int
main (void)
{
  SRunner *sr = srunner_create (payments_suite ());
  srunner_run_all (sr, CK_NORMAL);
  int failed = srunner_ntests_failed (sr);
  srunner_free (sr);
  return failed == 0 ? 0 : 1;
}
