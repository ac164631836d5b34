/* ft-rebalance.c — the rebalancing transport LP over GLPK. One column per
 * (from, to) pair that can pay (benefit > cost, from has a surplus, to a
 * shortfall); one row per surplus zone, one per shortfall zone, one for the
 * total cap. Solved with the primal simplex (presolved, quiet); integral by
 * total unimodularity, checked after rounding. GLPK keeps a per-thread
 * environment; each plan frees it on return (glp_free_env), so worker
 * threads that plan (experiments, the app's simulation) leak nothing.
 */
#include "ft-rebalance.h"

#include <glpk.h>
#include <math.h>

gboolean
ft_rebalance_plan (guint n, const guint *surplus, const guint *shortfall, const double *cost,
                   double benefit, guint max_moves, GArray *moves, double *net, GError **error)
{
  g_return_val_if_fail (moves != NULL, FALSE);
  g_return_val_if_fail (n == 0 || (surplus && shortfall && cost), FALSE);
  if (!isfinite (benefit) || benefit < 0)
    {
      g_set_error (error, FT_OPS_ERROR, FT_OPS_ERROR_INVALID,
                   "rebalance plan: benefit per vehicle is %g; it must be finite and >= 0", benefit);
      return FALSE;
    }
  for (guint i = 0; i < n; i++)
    for (guint j = 0; j < n; j++)
      if (!isfinite (cost[(gsize) i * n + j]) || cost[(gsize) i * n + j] < 0)
        {
          g_set_error (error, FT_OPS_ERROR, FT_OPS_ERROR_INVALID,
                       "rebalance plan: cost from zone %u to zone %u is %g; it must be finite and >= 0",
                       i, j, cost[(gsize) i * n + j]);
          return FALSE;
        }
  g_array_set_size (moves, 0);
  if (net)
    *net = 0;

  /* columns: the pairs worth moving on */
  g_autoptr (GArray) cols = g_array_new (FALSE, FALSE, sizeof (guint) * 2);
  for (guint i = 0; i < n; i++)
    for (guint j = 0; j < n; j++)
      if (i != j && surplus[i] > 0 && shortfall[j] > 0 && cost[(gsize) i * n + j] < benefit)
        {
          guint ij[2] = { i, j };
          g_array_append_val (cols, ij);
        }
  if (cols->len == 0)
    return TRUE;

  glp_prob *lp = glp_create_prob ();
  glp_set_obj_dir (lp, GLP_MAX);
  /* rows 1..n: supply of zone i; n+1..2n: demand of zone j; 2n+1: total */
  glp_add_rows (lp, (int) (2 * n + 1));
  for (guint i = 0; i < n; i++)
    {
      glp_set_row_bnds (lp, (int) i + 1, GLP_UP, 0, surplus[i]);
      glp_set_row_bnds (lp, (int) (n + i) + 1, GLP_UP, 0, shortfall[i]);
    }
  if (max_moves > 0)
    glp_set_row_bnds (lp, (int) (2 * n + 1), GLP_UP, 0, max_moves);
  else
    glp_set_row_bnds (lp, (int) (2 * n + 1), GLP_FR, 0, 0);
  glp_add_cols (lp, (int) cols->len);
  g_autofree int *ia = g_new (int, 3 * cols->len + 1);
  g_autofree int *ja = g_new (int, 3 * cols->len + 1);
  g_autofree double *ar = g_new (double, 3 * cols->len + 1);
  int k = 0;
  for (guint c = 0; c < cols->len; c++)
    {
      const guint *ij = &g_array_index (cols, guint, 2 * c);
      int col = (int) c + 1;
      glp_set_col_bnds (lp, col, GLP_LO, 0, 0);
      glp_set_obj_coef (lp, col, benefit - cost[(gsize) ij[0] * n + ij[1]]);
      ia[++k] = (int) ij[0] + 1;        ja[k] = col; ar[k] = 1;
      ia[++k] = (int) (n + ij[1]) + 1;  ja[k] = col; ar[k] = 1;
      ia[++k] = (int) (2 * n + 1);      ja[k] = col; ar[k] = 1;
    }
  glp_load_matrix (lp, k, ia, ja, ar);
  glp_smcp parm;
  glp_init_smcp (&parm);
  parm.msg_lev = GLP_MSG_OFF;
  parm.presolve = GLP_ON;
  int rc = glp_simplex (lp, &parm);
  if (rc != 0 || glp_get_status (lp) != GLP_OPT)
    {
      g_set_error (error, FT_OPS_ERROR, FT_OPS_ERROR_INVALID,
                   "rebalance plan: the simplex failed (glp_simplex %d, status %d)", rc,
                   glp_get_status (lp));
      glp_delete_prob (lp);
      glp_free_env ();
      return FALSE;
    }
  double total = 0;
  for (guint c = 0; c < cols->len; c++)
    {
      double x = glp_get_col_prim (lp, (int) c + 1);
      double r = round (x);
      g_assert (fabs (x - r) < 1e-6);   /* totally unimodular: a vertex is integral */
      if (r < 0.5)
        continue;
      const guint *ij = &g_array_index (cols, guint, 2 * c);
      FtRebalanceMove m = { ij[0], ij[1], (guint) r, cost[(gsize) ij[0] * n + ij[1]] };
      g_array_append_val (moves, m);
      total += r * (benefit - m.cost);
    }
  glp_delete_prob (lp);
  glp_free_env ();
  if (net)
    *net = total;
  return TRUE;
}
