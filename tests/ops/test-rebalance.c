/* test-rebalance.c — the rebalancing transport LP (src/ops/ft-rebalance.c)
 * against an independent computation: small random instances solved by
 * exhaustive search over every integer plan; a hand-worked instance; the
 * plan's constraints checked on every answer; refusals naming the input.
 */
#include "ft-config.h"
#include "ft-rebalance.h"

#include <check.h>
#include <math.h>
#include <string.h>

#define N 4

typedef struct {
  guint  sup[N], dem[N];
  double cost[N * N];
  double benefit;
  guint  cap;
  double best;
} Inst;

/* exhaustive search over x_ij for i != j, each bounded by what is left */
static void
brute (Inst *in, guint pair, guint *left_s, guint *left_d, guint moved, double val)
{
  if (pair == N * N)
    {
      if (val > in->best)
        in->best = val;
      return;
    }
  guint i = pair / N, j = pair % N;
  if (i == j)
    {
      brute (in, pair + 1, left_s, left_d, moved, val);
      return;
    }
  guint hi = MIN (left_s[i], left_d[j]);
  if (in->cap > 0)
    hi = MIN (hi, in->cap - moved);
  for (guint x = 0; x <= hi; x++)
    {
      left_s[i] -= x;
      left_d[j] -= x;
      brute (in, pair + 1, left_s, left_d, moved + x, val + x * (in->benefit - in->cost[pair]));
      left_s[i] += x;
      left_d[j] += x;
    }
}

static void
check_plan (const Inst *in, GArray *moves, double net)
{
  guint out[N] = { 0 }, got[N] = { 0 }, total = 0;
  double val = 0;
  for (guint k = 0; k < moves->len; k++)
    {
      const FtRebalanceMove *m = &g_array_index (moves, FtRebalanceMove, k);
      ck_assert_uint_lt (m->from, N);
      ck_assert_uint_lt (m->to, N);
      ck_assert_uint_ne (m->from, m->to);
      ck_assert_uint_gt (m->count, 0);
      out[m->from] += m->count;
      got[m->to] += m->count;
      total += m->count;
      val += m->count * (in->benefit - in->cost[m->from * N + m->to]);
    }
  for (guint z = 0; z < N; z++)
    {
      ck_assert_uint_le (out[z], in->sup[z]);
      ck_assert_uint_le (got[z], in->dem[z]);
    }
  if (in->cap > 0)
    ck_assert_uint_le (total, in->cap);
  ck_assert_double_eq_tol (val, net, 1e-9);
}

START_TEST (test_rebalance_brute_force)
{
  GRand *r = g_rand_new_with_seed (20261205);
  g_autoptr (GArray) moves = g_array_new (FALSE, FALSE, sizeof (FtRebalanceMove));
  guint nonzero = 0;
  for (int t = 0; t < 40; t++)
    {
      Inst in = { 0 };
      for (guint z = 0; z < N; z++)
        {
          in.sup[z] = (guint) g_rand_int_range (r, 0, 3);
          in.dem[z] = (guint) g_rand_int_range (r, 0, 3);
        }
      for (guint k = 0; k < N * N; k++)
        in.cost[k] = g_rand_int_range (r, 0, 100) / 10.0;
      in.benefit = 6.0;
      in.cap = (t % 3 == 0) ? 2 : 0;
      double net = -1;
      g_autoptr (GError) e = NULL;
      ck_assert_msg (ft_rebalance_plan (N, in.sup, in.dem, in.cost, in.benefit, in.cap, moves, &net, &e),
                     "%s", e ? e->message : "");
      check_plan (&in, moves, net);
      guint ls[N], ld[N];
      memcpy (ls, in.sup, sizeof ls);
      memcpy (ld, in.dem, sizeof ld);
      in.best = 0;
      brute (&in, 0, ls, ld, 0, 0.0);
      ck_assert_msg (fabs (net - in.best) < 1e-9, "instance %d: LP %g, exhaustive %g", t, net, in.best);
      nonzero += in.best > 0;
    }
  ck_assert_uint_gt (nonzero, 20);   /* the instances exercise real plans */
  g_rand_free (r);
}
END_TEST

START_TEST (test_rebalance_hand)
{
  /* zone 0 has 3 spare, zone 1 has 1 spare; zone 2 needs 2, zone 3 needs 2.
   * Benefit 5. Costs: 0->2 1, 0->3 4, 1->2 2, 1->3 6 (not worth it).
   * Two plans reach 9: 0->2 x2 (+8) with 0->3 x1 (+1), or 1->2 x1 (+3),
   * 0->2 x1 (+4) and 0->3 x2 (+2); 1->3 never pays. */
  guint sup[N] = { 3, 1, 0, 0 }, dem[N] = { 0, 0, 2, 2 };
  double cost[N * N];
  for (guint k = 0; k < N * N; k++)
    cost[k] = 50;
  cost[0 * N + 2] = 1;
  cost[0 * N + 3] = 4;
  cost[1 * N + 2] = 2;
  cost[1 * N + 3] = 6;
  g_autoptr (GArray) moves = g_array_new (FALSE, FALSE, sizeof (FtRebalanceMove));
  double net = 0;
  ck_assert (ft_rebalance_plan (N, sup, dem, cost, 5.0, 0, moves, &net, NULL));
  ck_assert_double_eq_tol (net, 9.0, 1e-9);
  for (guint k = 0; k < moves->len; k++)
    ck_assert (!(g_array_index (moves, FtRebalanceMove, k).from == 1
                 && g_array_index (moves, FtRebalanceMove, k).to == 3));
  /* with at most one move, the cheapest pair */
  ck_assert (ft_rebalance_plan (N, sup, dem, cost, 5.0, 1, moves, &net, NULL));
  ck_assert_uint_eq (moves->len, 1);
  ck_assert_uint_eq (g_array_index (moves, FtRebalanceMove, 0).from, 0);
  ck_assert_uint_eq (g_array_index (moves, FtRebalanceMove, 0).to, 2);
  ck_assert_double_eq_tol (net, 4.0, 1e-9);
  /* nothing pays: no moves */
  ck_assert (ft_rebalance_plan (N, sup, dem, cost, 0.5, 0, moves, &net, NULL));
  ck_assert_uint_eq (moves->len, 0);
  ck_assert_double_eq (net, 0.0);
}
END_TEST

static gpointer
plan_in_thread (gpointer data)
{
  guint sup[2] = { 2, 0 }, dem[2] = { 0, 1 };
  double cost[4] = { 0, 1, 1, 0 };
  g_autoptr (GArray) moves = g_array_new (FALSE, FALSE, sizeof (FtRebalanceMove));
  gboolean ok = ft_rebalance_plan (2, sup, dem, cost, 5.0, 0, moves, NULL, NULL);
  return GUINT_TO_POINTER (ok && moves->len == 1);
}

/* a worker thread that plans leaves no GLPK environment behind (LSan
 * reports one when the thread's environment outlives the thread) */
START_TEST (test_rebalance_thread)
{
  GThread *t = g_thread_new ("plan", plan_in_thread, NULL);
  ck_assert (GPOINTER_TO_UINT (g_thread_join (t)));
}
END_TEST

START_TEST (test_rebalance_refusals)
{
  guint sup[2] = { 1, 0 }, dem[2] = { 0, 1 };
  double cost[4] = { 0, 1, 1, 0 };
  g_autoptr (GArray) moves = g_array_new (FALSE, FALSE, sizeof (FtRebalanceMove));
  g_autoptr (GError) e = NULL;
  cost[1] = NAN;
  ck_assert (!ft_rebalance_plan (2, sup, dem, cost, 5.0, 0, moves, NULL, &e));
  ck_assert (g_error_matches (e, FT_OPS_ERROR, FT_OPS_ERROR_INVALID));
  ck_assert_msg (strstr (e->message, "zone 0 to zone 1") != NULL, "%s", e->message);
  g_clear_error (&e);
  cost[1] = 1;
  ck_assert (!ft_rebalance_plan (2, sup, dem, cost, -1.0, 0, moves, NULL, &e));
  ck_assert_msg (strstr (e->message, "benefit") != NULL, "%s", e->message);
  g_clear_error (&e);
  ck_assert (ft_rebalance_plan (2, sup, dem, cost, 5.0, 0, moves, NULL, &e));
  ck_assert_uint_eq (moves->len, 1);
  ck_assert_uint_eq (g_array_index (moves, FtRebalanceMove, 0).count, 1);
}
END_TEST

int
main (void)
{
  Suite *s = suite_create ("rebalance");
  TCase *tc = tcase_create ("core");
  tcase_add_test (tc, test_rebalance_brute_force);
  tcase_add_test (tc, test_rebalance_hand);
  tcase_add_test (tc, test_rebalance_refusals);
  tcase_add_test (tc, test_rebalance_thread);
  suite_add_tcase (s, tc);
  SRunner *sr = srunner_create (s);
  srunner_run_all (sr, CK_NORMAL);
  int failed = srunner_ntests_failed (sr);
  srunner_free (sr);
  return failed == 0 ? 0 : 1;
}
