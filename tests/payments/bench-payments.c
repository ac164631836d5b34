/* bench-payments.c — how fast the in-memory money path is: payment
 * lifecycles (hold at unlock, capture at end; with idempotency keys) per
 * second, against the same lifecycles without keys, plus the cost of an
 * incremental ft_payments_check after every lifecycle. Prints medians of
 * several runs. Not a test; run it by hand:
 *   build/tests/payments/bench-payments [lifecycles]
 */
#include <stdlib.h>

#include "ft-test.h"
#include "ft-payments.h"

/* Returns lifecycles per second. */
static double
run (guint n, gboolean keys, gboolean check)
{
  FtEventLog *log = ft_event_log_new ();
  ft_event_log_set_retain (log, FALSE);
  FtLedger *l = ft_ledger_new ("EUR", log);
  FtPayments *p = ft_payments_new (l, ft_sim_card_provider_new (1, 0.0, 0, 0));
  const guint riders = 1000;
  for (guint r = 0; r < riders; r++)
    ft_payments_topup (p, r, G_GINT64_CONSTANT (1) << 40, NULL, 0, NULL);

  char hk[32], ck[32];
  gint64 t0 = g_get_monotonic_time ();
  for (guint i = 0; i < n; i++)
    {
      guint r = i % riders;
      if (keys)
        {
          g_snprintf (hk, sizeof hk, "h-%u", i);
          g_snprintf (ck, sizeof ck, "c-%u", i);
        }
      if (ft_payments_hold (p, r, 500, i, keys ? hk : NULL, i, NULL) < 0 ||
          ft_payments_capture (p, r, i, 137 + (i % 300), keys ? ck : NULL, i, NULL) < 0)
        g_error ("lifecycle %u failed", i);
      if (check && !ft_payments_check (p, NULL))
        g_error ("check failed at %u", i);
    }
  gint64 t1 = g_get_monotonic_time ();
  if (!ft_payments_check (p, NULL))
    g_error ("final check failed");
  ft_payments_free (p);
  ft_ledger_free (l);
  ft_event_log_free (log);
  return n / ((t1 - t0) / 1e6);
}

static double
median_of (guint reps, guint n, gboolean keys, gboolean check)
{
  double v[16];
  for (guint i = 0; i < reps; i++)
    v[i] = run (n, keys, check);
  qsort (v, reps, sizeof v[0], ft_test_cmp_double);
  return v[reps / 2];
}

int
main (int argc, char **argv)
{
  guint n = argc > 1 ? (guint) atoi (argv[1]) : 200000;
  const guint reps = 5;
  double with_keys = median_of (reps, n, TRUE, FALSE);
  double no_keys = median_of (reps, n, FALSE, FALSE);
  double checked = median_of (reps, n / 10, TRUE, TRUE);
  g_print ("payments lifecycles (hold + capture), %u per run, median of %u runs:\n", n, reps);
  g_print ("  with idempotency keys      %12.0f /s\n", with_keys);
  g_print ("  without keys               %12.0f /s  (keys cost x%.2f)\n", no_keys,
           no_keys / with_keys);
  g_print ("  keys + check after each    %12.0f /s  (%u per run, check cost x%.2f)\n", checked,
           n / 10, with_keys / checked);
  return 0;
}
