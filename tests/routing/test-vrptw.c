/* test-vrptw.c — the VRPTW solver (src/routing): every move's O(1)
 * feasibility and distance change against a brute-force replay on random
 * small instances, solutions against the independent checker
 * (vrptw-check.c), exact optima of tiny instances by enumeration,
 * infeasible instances reported (not looped on), C101 and R101 within a
 * short limit, malformed Solomon files refused with line and field, and
 * rolling re-optimisation with a frozen started prefix.
 */
#include "ft-config.h"
#include "ft-vrptw-private.h"
#include "vrptw-check.h"

#include <check.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

/* ---- helpers ------------------------------------------------------------ */

static guint64
rnd (guint64 *st)
{
  guint64 z = (*st += 0x9E3779B97F4A7C15ull);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

static double
urand (guint64 *st)
{
  return (double) (rnd (st) >> 11) / 9007199254740992.0;
}

/* A random instance: depot 0, n customers in a 100 x 100 square, windows of
 * random width (tight ones make moves infeasible), demand 1..10. */
static FtVrptwProblem *
random_problem (guint64 seed, guint n, guint n_veh, int cap, double width)
{
  guint64 st = seed;
  FtVrptwProblem *p = ft_vrptw_problem_new (n + 1, n_veh);
  p->x = g_new (double, n + 1);
  p->y = g_new (double, n + 1);
  p->x[0] = p->y[0] = 50;
  p->nodes[0] = (FtVrptwNode) { 0, 1000, 0, 0, FALSE, 0 };
  for (guint i = 1; i <= n; i++)
    {
      p->x[i] = urand (&st) * 100;
      p->y[i] = urand (&st) * 100;
      double r = 60 + urand (&st) * 700, w = width * (0.2 + urand (&st));
      p->nodes[i] = (FtVrptwNode) { r, r + w, 5 + urand (&st) * 10, 1 + (int) (urand (&st) * 10), TRUE, i };
    }
  for (guint v = 0; v < n_veh; v++)
    p->vehicles[v] = (FtVrptwVehicle) { cap, 0, 0, 0, 1000 };
  ft_vrptw_problem_set_euclidean (p);
  return p;
}

static void
route_of_sol (const FtVrptwSol *sol, guint r, guint *buf, guint *n)
{
  *n = sol->rt[r].len;
  memcpy (buf, sol->rt[r].node + 1, *n * sizeof *buf);
}

/* Brute force: both changed routes replayed; TRUE when both feasible. */
static gboolean
brute_pair (const FtVrptwProblem *p, const FtVrptwSol *sol, guint a, const guint *sa, guint na, guint b,
            const guint *sb, guint nb, double *delta)
{
  double da = 0, db = 0;
  gboolean ok = vrptw_check_route (p, sol->rt[a].vehicle, sa, na, &da);
  if (b != a)
    ok = vrptw_check_route (p, sol->rt[b].vehicle, sb, nb, &db) && ok;
  double before = sol->rt[a].dist + (b != a ? sol->rt[b].dist : 0);
  /* an emptied route costs nothing */
  *delta = da + db - before;
  return ok;
}

/* A random solution, possibly with absent stops, from blink insertion. */
static FtVrptwSol *
random_solution (FtVrptwSearch *s)
{
  FtVrptwSol *sol = ft_vrptw_sol_new (s);
  s->n_removed = 0;
  ft_vrptw_recreate (s, sol, TRUE, 0.3);
  return sol;
}

#define N_INSTANCES 30

/* ---- moves against brute force ------------------------------------------ */

START_TEST (test_insert_and_relocate)
{
  guint checked_ok = 0, checked_bad = 0;
  for (guint inst = 0; inst < N_INSTANCES; inst++)
    {
      g_autoptr(FtVrptwProblem) p = random_problem (100 + inst, 12, 4, 30 + inst % 3 * 10, 60 + inst * 10);
      g_autoptr(FtVrptwSearch) s = ft_vrptw_search_new (p, inst);
      FtVrptwSol *sol = random_solution (s);
      guint sa[64], sb[64], na, nb;
      /* insertion of every stop anywhere in another route (blink insertion's check) */
      for (guint k = 0; k < s->n_stops; k++)
        for (guint r = 0; r < sol->n_routes; r++)
          for (guint j = 0; j <= sol->rt[r].len; j++)
            {
              guint u = s->stops[k];
              if (sol->route_of[u] == r)
                continue;
              double delta, bd;
              gboolean ok = ft_vrptw_eval_insert (s, sol, r, j, u, &delta);
              route_of_sol (sol, r, sa, &na);
              memmove (sa + j + 1, sa + j, (na - j) * sizeof *sa);
              sa[j] = u;
              double before = sol->rt[r].dist;
              gboolean bok = vrptw_check_route (p, r, sa, na + 1, &bd);
              ck_assert_int_eq (ok, bok);
              if (bok)
                ck_assert_double_eq_tol (delta, bd - before, 1e-6);
              ok ? checked_ok++ : checked_bad++;
            }
      /* relocate and or-opt between and inside routes */
      for (guint a = 0; a < sol->n_routes; a++)
        for (guint i = 1; i <= sol->rt[a].len; i++)
          for (guint k = 1; k <= 3 && i + k - 1 <= sol->rt[a].len; k++)
            for (guint b = 0; b < sol->n_routes; b++)
              {
                guint lenb = b == a ? sol->rt[a].len - k : sol->rt[b].len;
                for (guint j = 0; j <= lenb; j++)
                  {
                    double delta, bd;
                    gboolean ok = k == 1 && b != a ? ft_vrptw_eval_relocate (s, sol, a, i, b, j, &delta)
                                                   : ft_vrptw_eval_or_opt (s, sol, a, i, k, b, j, &delta);
                    /* brute force: build both routes */
                    guint str[3], rest[64], nr = 0;
                    route_of_sol (sol, a, sa, &na);
                    memcpy (str, sa + i - 1, k * sizeof *str);
                    for (guint x = 0; x < na; x++)
                      if (x < i - 1 || x >= i - 1 + k)
                        rest[nr++] = sa[x];
                    gboolean bok;
                    if (b == a)
                      {
                        guint out[64], no = 0;
                        for (guint x = 0; x < j; x++)
                          out[no++] = rest[x];
                        for (guint x = 0; x < k; x++)
                          out[no++] = str[x];
                        for (guint x = j; x < nr; x++)
                          out[no++] = rest[x];
                        bok = brute_pair (p, sol, a, out, no, a, NULL, 0, &bd);
                      }
                    else
                      {
                        route_of_sol (sol, b, sb, &nb);
                        guint out[64], no = 0;
                        for (guint x = 0; x < j; x++)
                          out[no++] = sb[x];
                        for (guint x = 0; x < k; x++)
                          out[no++] = str[x];
                        for (guint x = j; x < nb; x++)
                          out[no++] = sb[x];
                        bok = brute_pair (p, sol, a, rest, nr, b, out, no, &bd);
                      }
                    ck_assert_msg (ok == bok, "or-opt a=%u i=%u k=%u b=%u j=%u: O(1) says %d, replay %d",
                                   a, i, k, b, j, ok, bok);
                    if (bok)
                      ck_assert_double_eq_tol (delta, bd, 1e-6);
                    ok ? checked_ok++ : checked_bad++;
                    if (ok && (inst + i + j) % 7 == 0)
                      {
                        /* applying it gives the brute-force routes and distance */
                        FtVrptwSol *c = ft_vrptw_sol_new (s);
                        ft_vrptw_sol_copy (s, c, sol);
                        double before = c->dist;
                        ft_vrptw_apply_or_opt (s, c, a, i, k, b, j);
                        ck_assert_double_eq_tol (c->dist - before, bd, 1e-6);
                        ft_vrptw_sol_free (c);
                      }
                  }
              }
      ft_vrptw_sol_free (sol);
    }
  /* the instances exercise both outcomes */
  ck_assert_uint_gt (checked_ok, 500);
  ck_assert_uint_gt (checked_bad, 500);
}
END_TEST

START_TEST (test_exchange_and_two_opt_star)
{
  guint n_ok = 0, n_bad = 0;
  for (guint inst = 0; inst < N_INSTANCES; inst++)
    {
      g_autoptr(FtVrptwProblem) p = random_problem (300 + inst, 14, 4, 35, 80 + inst * 10);
      g_autoptr(FtVrptwSearch) s = ft_vrptw_search_new (p, inst);
      FtVrptwSol *sol = random_solution (s);
      guint sa[64], sb[64], na, nb;
      for (guint a = 0; a < sol->n_routes; a++)
        for (guint b = 0; b < sol->n_routes; b++)
          {
            if (a == b)
              continue;
            route_of_sol (sol, a, sa, &na);
            route_of_sol (sol, b, sb, &nb);
            for (guint i = 1; i <= na; i++)
              for (guint j = 1; j <= nb; j++)
                {
                  double delta, bd;
                  gboolean ok = ft_vrptw_eval_exchange (s, sol, a, i, b, j, &delta);
                  guint xa[64], xb[64];
                  memcpy (xa, sa, na * sizeof *xa);
                  memcpy (xb, sb, nb * sizeof *xb);
                  xa[i - 1] = sb[j - 1];
                  xb[j - 1] = sa[i - 1];
                  gboolean bok = brute_pair (p, sol, a, xa, na, b, xb, nb, &bd);
                  ck_assert_msg (ok == bok, "exchange %u:%u %u:%u", a, i, b, j);
                  if (bok)
                    ck_assert_double_eq_tol (delta, bd, 1e-6);
                  ok ? n_ok++ : n_bad++;
                }
            for (guint i = 0; i <= na; i++)
              for (guint j = 0; j <= nb; j++)
                {
                  double delta, bd;
                  gboolean ok = ft_vrptw_eval_two_opt_star (s, sol, a, i, b, j, &delta);
                  guint xa[64], xb[64], ka = 0, kb = 0;
                  for (guint x = 0; x < i; x++)
                    xa[ka++] = sa[x];
                  for (guint x = j; x < nb; x++)
                    xa[ka++] = sb[x];
                  for (guint x = 0; x < j; x++)
                    xb[kb++] = sb[x];
                  for (guint x = i; x < na; x++)
                    xb[kb++] = sa[x];
                  gboolean bok = brute_pair (p, sol, a, xa, ka, b, xb, kb, &bd);
                  ck_assert_msg (ok == bok, "2-opt* %u:%u %u:%u", a, i, b, j);
                  /* an emptied route has no legs: the replay says 0 too */
                  if (bok)
                    ck_assert_double_eq_tol (delta, bd, 1e-6);
                  ok ? n_ok++ : n_bad++;
                  if (ok && (i + j) % 5 == 0)
                    {
                      FtVrptwSol *c = ft_vrptw_sol_new (s);
                      ft_vrptw_sol_copy (s, c, sol);
                      double before = c->dist;
                      ft_vrptw_apply_two_opt_star (s, c, a, i, b, j);
                      ck_assert_double_eq_tol (c->dist - before, bd, 1e-6);
                      ft_vrptw_sol_free (c);
                    }
                }
          }
      ft_vrptw_sol_free (sol);
    }
  ck_assert_uint_gt (n_ok, 500);
  ck_assert_uint_gt (n_bad, 500);
}
END_TEST

START_TEST (test_ruin_recreate)
{
  for (guint inst = 0; inst < N_INSTANCES; inst++)
    {
      g_autoptr(FtVrptwProblem) p = random_problem (500 + inst, 20, 6, 40, 150);
      g_autoptr(FtVrptwSearch) s = ft_vrptw_search_new (p, inst);
      FtVrptwSol *sol = random_solution (s);
      for (guint round = 0; round < 50; round++)
        {
          guint before_absent = sol->n_absent;
          guint assigned = s->n_stops - sol->n_absent;
          ft_vrptw_ruin (s, sol);
          /* string removal: removed stops are out, every route still feasible */
          ck_assert_uint_le (s->n_removed, assigned);
          for (guint k = 0; k < s->n_removed; k++)
            ck_assert_uint_eq (sol->route_of[s->removed[k]], FT_VRPTW_NONE);
          for (guint r = 0; r < sol->n_routes; r++)
            {
              guint buf[64], n;
              double d;
              route_of_sol (sol, r, buf, &n);
              ck_assert (vrptw_check_route (p, r, buf, n, &d));
              ck_assert_double_eq_tol (d, sol->rt[r].dist, 1e-6);
              ck_assert (sol->rt[r].fwd[n + 1].ok);
            }
          ft_vrptw_recreate (s, sol, round % 2 == 0, 0.01);
          g_autoptr(FtVrptwSolution) out = ft_vrptw_sol_export (s, sol);
          double dist;
          g_autofree char *why = NULL;
          ck_assert_msg (vrptw_check_solution (p, out, TRUE, &dist, &why), "%s", why);
          ck_assert_double_eq_tol (dist, sol->dist, 1e-6);
          (void) before_absent;
        }
      ft_vrptw_local_search (s, sol);
      g_autoptr(FtVrptwSolution) out = ft_vrptw_sol_export (s, sol);
      double dist;
      g_autofree char *why = NULL;
      ck_assert_msg (vrptw_check_solution (p, out, TRUE, &dist, &why), "%s", why);
      ft_vrptw_sol_free (sol);
    }
}
END_TEST

/* ---- solutions against the independent checker --------------------------- */

START_TEST (test_solve_random_checked)
{
  for (guint inst = 0; inst < 12; inst++)
    {
      g_autoptr(FtVrptwProblem) p = random_problem (700 + inst, 40, 20, 50, 200 + 40 * inst);
      FtVrptwParams params;
      ft_vrptw_params_init (&params);
      params.time_limit_ms = 0;
      params.max_iterations = 400;
      params.seed = inst;
      g_autoptr(GError) error = NULL;
      g_autoptr(FtVrptwSolution) s = ft_vrptw_solve (p, &params, NULL, &error);
      if (s == NULL)
        {
          /* a stop unreachable alone is the only allowed failure */
          ck_assert (g_error_matches (error, FT_VRPTW_ERROR, FT_VRPTW_ERROR_INFEASIBLE));
          ck_assert (strstr (error->message, "customer") != NULL);
          continue;
        }
      double dist;
      g_autofree char *why = NULL;
      ck_assert_msg (vrptw_check_solution (p, s, FALSE, &dist, &why), "instance %u: %s", inst, why);
      ck_assert_double_eq_tol (dist, s->distance, 1e-6);
      ck_assert_double_eq_tol (ft_vrptw_solution_distance (p, s), s->distance, 1e-6);
    }
}
END_TEST

START_TEST (test_no_stops)
{
  g_autoptr(FtVrptwProblem) p = random_problem (5, 3, 2, 50, 300);
  for (guint i = 1; i < p->n_nodes; i++)
    p->nodes[i].is_stop = FALSE;
  FtVrptwParams params;
  ft_vrptw_params_init (&params);
  params.time_limit_ms = 5000;
  gint64 t0 = g_get_monotonic_time ();
  g_autoptr(FtVrptwSolution) s = ft_vrptw_solve (p, &params, NULL, NULL);
  ck_assert_ptr_nonnull (s);
  ck_assert_uint_eq (s->n_routes, 0);
  /* nothing to search: returns at once rather than at the limit */
  ck_assert_int_lt (g_get_monotonic_time () - t0, 2 * G_USEC_PER_SEC);
}
END_TEST

START_TEST (test_deterministic)
{
  g_autoptr(FtVrptwProblem) p = random_problem (42, 30, 10, 60, 300);
  FtVrptwParams params;
  ft_vrptw_params_init (&params);
  params.time_limit_ms = 0;
  params.max_iterations = 300;
  params.seed = 7;
  g_autoptr(FtVrptwSolution) a = ft_vrptw_solve (p, &params, NULL, NULL);
  g_autoptr(FtVrptwSolution) b = ft_vrptw_solve (p, &params, NULL, NULL);
  ck_assert_ptr_nonnull (a);
  ck_assert_ptr_nonnull (b);
  g_autofree char *ta = ft_vrptw_solution_to_sintef (p, a, "x");
  g_autofree char *tb = ft_vrptw_solution_to_sintef (p, b, "x");
  ck_assert_str_eq (strstr (ta, "Solution"), strstr (tb, "Solution"));
  ck_assert (a->distance == b->distance);
}
END_TEST

/* ---- exact optima of tiny instances --------------------------------------- */

/* Best (routes, distance) by enumerating every order and every cut into routes. */
static void
enumerate (const FtVrptwProblem *p, guint *perm, guint depth, guint n, guint *best_routes, double *best_dist)
{
  if (depth == n)
    {
      for (guint mask = 0; mask < (1u << (n - 1)); mask++)
        {
          guint routes = 0, start = 0, v = 0;
          double total = 0;
          gboolean ok = TRUE;
          for (guint i = 0; i < n && ok; i++)
            if (i == n - 1 || (mask >> i & 1))
              {
                double d;
                if (v >= p->n_vehicles || !vrptw_check_route (p, v, perm + start, i + 1 - start, &d))
                  ok = FALSE;
                total += d;
                routes++;
                v++;
                start = i + 1;
              }
          if (ok && (routes < *best_routes || (routes == *best_routes && total < *best_dist - 1e-9)))
            {
              *best_routes = routes;
              *best_dist = total;
            }
        }
      return;
    }
  for (guint i = depth; i < n; i++)
    {
      guint t = perm[depth];
      perm[depth] = perm[i];
      perm[i] = t;
      enumerate (p, perm, depth + 1, n, best_routes, best_dist);
      perm[i] = perm[depth];
      perm[depth] = t;
    }
}

START_TEST (test_known_optimal)
{
  /* By hand: two arms of a cross, capacity 2: two routes of 40. */
  g_autoptr(FtVrptwProblem) h = ft_vrptw_problem_new (5, 3);
  h->x = g_new0 (double, 5);
  h->y = g_new0 (double, 5);
  double xs[] = { 0, 10, 20, 0, 0 }, ys[] = { 0, 0, 0, 10, 20 };
  memcpy (h->x, xs, sizeof xs);
  memcpy (h->y, ys, sizeof ys);
  h->nodes[0] = (FtVrptwNode) { 0, 100, 0, 0, FALSE, 0 };
  for (guint i = 1; i < 5; i++)
    h->nodes[i] = (FtVrptwNode) { 0, 100, 0, 1, TRUE, i };
  for (guint v = 0; v < 3; v++)
    h->vehicles[v] = (FtVrptwVehicle) { 2, 0, 0, 0, 100 };
  ft_vrptw_problem_set_euclidean (h);
  FtVrptwParams params;
  ft_vrptw_params_init (&params);
  params.time_limit_ms = 0;
  params.max_iterations = 200;
  g_autoptr(FtVrptwSolution) hs = ft_vrptw_solve (h, &params, NULL, NULL);
  ck_assert_uint_eq (hs->n_routes, 2);
  ck_assert_double_eq_tol (hs->distance, 80.0, 1e-9);

  /* Random tiny instances against enumeration. */
  for (guint inst = 0; inst < 15; inst++)
    {
      g_autoptr(FtVrptwProblem) p = random_problem (900 + inst, 6, 6, 20, 150 + 30 * inst);
      guint perm[6] = { 1, 2, 3, 4, 5, 6 }, best_routes = G_MAXUINT;
      double best_dist = G_MAXDOUBLE;
      enumerate (p, perm, 0, 6, &best_routes, &best_dist);
      params.max_iterations = 5000;   /* a heuristic: seeds 12 and 15 need more than 1000 on instance 12 */
      params.seed = inst;
      g_autoptr(GError) error = NULL;
      g_autoptr(FtVrptwSolution) s = ft_vrptw_solve (p, &params, NULL, &error);
      if (best_routes == G_MAXUINT)
        {
          ck_assert_ptr_null (s);
          continue;
        }
      ck_assert_msg (s != NULL, "instance %u: %s", inst, error ? error->message : "");
      ck_assert_msg (s->n_routes == best_routes && fabs (s->distance - best_dist) < 1e-6,
                     "instance %u: %u routes %.4f, optimum %u routes %.4f", inst, s->n_routes, s->distance,
                     best_routes, best_dist);
    }
}
END_TEST

/* ---- infeasible instances ----------------------------------------------- */

START_TEST (test_infeasible)
{
  FtVrptwParams params;
  ft_vrptw_params_init (&params);
  params.time_limit_ms = 200;
  {
    g_autoptr(FtVrptwProblem) p = random_problem (1, 10, 5, 50, 300);
    p->nodes[7].demand = 51;            /* above capacity */
    g_autoptr(GError) error = NULL;
    gint64 t0 = g_get_monotonic_time ();
    g_autoptr(FtVrptwSolution) s = ft_vrptw_solve (p, &params, NULL, &error);
    ck_assert_ptr_null (s);
    ck_assert (g_error_matches (error, FT_VRPTW_ERROR, FT_VRPTW_ERROR_INFEASIBLE));
    ck_assert_msg (strstr (error->message, "customer 7 ") != NULL, "%s", error->message);
    ck_assert (strstr (error->message, "capacity") != NULL);
    ck_assert_int_lt (g_get_monotonic_time () - t0, 100000);   /* reported up front, not searched */
  }
  {
    g_autoptr(FtVrptwProblem) p = random_problem (2, 10, 5, 50, 300);
    p->nodes[4].ready = 0;              /* due before it can be reached */
    p->nodes[4].due = 0.5;
    g_autoptr(GError) error = NULL;
    g_autoptr(FtVrptwSolution) s = ft_vrptw_solve (p, &params, NULL, &error);
    ck_assert_ptr_null (s);
    ck_assert_msg (strstr (error->message, "customer 4 ") != NULL, "%s", error->message);
  }
  {
    /* each stop fits alone but two vehicles cannot serve ten */
    g_autoptr(FtVrptwProblem) p = random_problem (3, 10, 2, 12, 300);
    g_autoptr(GError) error = NULL;
    gint64 t0 = g_get_monotonic_time ();
    g_autoptr(FtVrptwSolution) s = ft_vrptw_solve (p, &params, NULL, &error);
    ck_assert_ptr_null (s);
    ck_assert (g_error_matches (error, FT_VRPTW_ERROR, FT_VRPTW_ERROR_INFEASIBLE));
    ck_assert_msg (strstr (error->message, "did not fit") != NULL, "%s", error->message);
    /* the time limit holds (generous for a loaded machine under ASan) */
    ck_assert_int_lt (g_get_monotonic_time () - t0, 3 * G_USEC_PER_SEC);
  }
  {
    /* neither limit: refused */
    g_autoptr(FtVrptwProblem) p = random_problem (3, 5, 5, 50, 300);
    params.time_limit_ms = 0;
    g_autoptr(GError) error = NULL;
    ck_assert_ptr_null (ft_vrptw_solve (p, &params, NULL, &error));
    ck_assert (g_error_matches (error, FT_VRPTW_ERROR, FT_VRPTW_ERROR_INVALID));
  }
}
END_TEST

/* ---- Solomon instances ---------------------------------------------------- */

static char *
shared_instance (const char *name)
{
  const char *dir = g_getenv ("FT_SHARED_DATA_DIR");
  return g_build_filename (dir ? dir : FT_SHARED_DATA_DIR, "vrptw", "solomon", "instances", name, NULL);
}

START_TEST (test_solomon_c101_r101)
{
  const char *names[] = { "C101.txt", "R101.txt" };
  for (guint k = 0; k < 2; k++)
    {
      g_autofree char *path = shared_instance (names[k]);
      g_autoptr(GError) error = NULL;
      g_autoptr(FtVrptwProblem) p = ft_vrptw_solomon_load (path, &error);
      ck_assert_msg (p != NULL, "%s", error ? error->message : "");
      ck_assert_uint_eq (p->n_nodes, 101);
      ck_assert_uint_eq (p->n_vehicles, 25);
      ck_assert_int_eq (p->vehicles[0].capacity, 200);
      FtVrptwParams params;
      ft_vrptw_params_init (&params);
      params.time_limit_ms = 500;
      FtVrptwStats st;
      g_autoptr(FtVrptwSolution) s = ft_vrptw_solve (p, &params, &st, &error);
      ck_assert_msg (s != NULL, "%s", error ? error->message : "");
      double dist;
      g_autofree char *why = NULL;
      ck_assert_msg (vrptw_check_solution (p, s, FALSE, &dist, &why), "%s: %s", names[k], why);
      ck_assert_double_eq_tol (dist, s->distance, 1e-6);
      ck_assert_uint_le (s->n_routes, 25);
      g_autofree char *text = ft_vrptw_solution_to_sintef (p, s, "test");
      ck_assert (strstr (text, "\nRoute 1 : ") != NULL);
    }
}
END_TEST

static const char good_head[] =
  "T1\r\n\r\nVEHICLE\r\nNUMBER     CAPACITY\r\n  3         20\r\n\r\nCUSTOMER\r\n"
  "CUST NO.  XCOORD.   YCOORD.    DEMAND   READY TIME  DUE DATE   SERVICE   TIME\r\n \r\n";

START_TEST (test_solomon_malformed)
{
  static const struct { const char *text; const char *want; } cases[] = {
    /* 0: fine, for reference */
    { "%s    0 0 0 0 0 100 0\r\n    1 3 4 5 0 50 2\r\n", NULL },
    { "", ":1: the file ended where an instance name was expected" },
    { "T1\nVEHICLES\n", ":2: expected the VEHICLE section" },
    { "T1\nVEHICLE\nNUMBER CAPACITY\n25\n", ":4: vehicle line has 1 fields, expected 2" },
    { "T1\nVEHICLE\nNUMBER CAPACITY\n25 abc\n", ":4: field CAPACITY: 'abc' is not a number" },
    { "T1\nVEHICLE\nNUMBER CAPACITY\n0 20\n", ":4: field NUMBER: 0 is out of range" },
    { "T1\nVEHICLE\nNUMBER CAPACITY\n2 20\nCUSTOMERS\n", ":5: expected the CUSTOMER section" },
    { "%s    0 0 0 0 0 100 0\r\n    1 3 4 5 0 50\r\n", ":11: customer row has 6 fields, expected 7" },
    { "%s    0 0 0 0 0 100 0\r\n    1 3 4 5 0 50 2 9\r\n", ":11: customer row has 8 fields" },
    { "%s    0 0 0 0 0 100 0\r\n    2 3 4 5 0 50 2\r\n", ":11: field CUST NO.: 2 where 1 was expected" },
    { "%s    0 0 0 0 0 100 0\r\n    1 3 4 5.5 0 50 2\r\n", ":11: field DEMAND: '5.5' is not a whole number" },
    { "%s    0 0 0 0 0 100 0\r\n    1 3 4 5 60 50 2\r\n", ":11: field DUE DATE: 50 is before READY TIME 60" },
    { "%s    0 0 0 0 0 100 0\r\n    1 3 4 5 0 50 -2\r\n", ":11: field SERVICE TIME: -2 is out of range" },
    { "%s    0 0 0 0 0 100 0\r\n    1 3 nan 5 0 50 2\r\n", ":11: field YCOORD.: 'nan' is not a number" },
    { "%s    0 0 0 0 0 100 0\r\n    1 3 1e999 5 0 50 2\r\n", ":11: field YCOORD.: '1e999' is not a number" },
    { "%s    0 0 0 7 0 100 0\r\n    1 3 4 5 0 50 2\r\n", ":10: field DEMAND: the depot (row 0) has demand 7" },
    { "%s    0 0 0 0 0 100 0\r\n", ":11: the file ended where a customer row" },
    { "%s    0 0 0 0 0 100 0\r\n    1 0x10 4 5 0 50 2\r\n", NULL },  /* hex is a number to strtod: accepted */
  };
  for (guint k = 0; k < G_N_ELEMENTS (cases); k++)
    {
      g_autofree char *text = strstr (cases[k].text, "%s") ? g_strdup_printf (cases[k].text, good_head)
                                                           : g_strdup (cases[k].text);
      g_autoptr(GError) error = NULL;
      g_autoptr(FtVrptwProblem) p = ft_vrptw_solomon_parse (text, strlen (text), "bad.txt", &error);
      if (cases[k].want == NULL)
        {
          ck_assert_msg (p != NULL, "case %u: %s", k, error ? error->message : "");
          continue;
        }
      ck_assert_msg (p == NULL, "case %u parsed", k);
      ck_assert (g_error_matches (error, FT_VRPTW_ERROR, FT_VRPTW_ERROR_PARSE));
      ck_assert_msg (g_str_has_prefix (error->message, "bad.txt:"), "case %u: %s", k, error->message);
      ck_assert_msg (strstr (error->message, cases[k].want) != NULL, "case %u: '%s' lacks '%s'", k,
                     error->message, cases[k].want);
    }
  /* more vehicles than customers: one per customer is kept */
  {
    g_autofree char *many = g_strdup_printf ("%s    0 0 0 0 0 100 0\r\n    1 3 4 5 0 50 2\r\n", good_head);
    char *v = strstr (many, "  3         20");
    memcpy (v, "4000", 4);
    g_autoptr(FtVrptwProblem) p = ft_vrptw_solomon_parse (many, strlen (many), "many.txt", NULL);
    ck_assert_ptr_nonnull (p);
    ck_assert_uint_eq (p->n_vehicles, 1);
  }
  /* a NUL byte is named by line */
  char nul[] = "T1\nVEHICLE\n\0\n";
  g_autoptr(GError) error = NULL;
  ck_assert_ptr_null (ft_vrptw_solomon_parse (nul, sizeof nul - 1, "nul.txt", &error));
  ck_assert_str_eq (error->message, "nul.txt:3: contains a NUL byte");
}
END_TEST

/* ---- rolling re-optimisation --------------------------------------------- */

START_TEST (test_rolling)
{
  for (guint inst = 0; inst < 8; inst++)
    {
      /* 40 stops; the first 30 are planned, then 10 new tasks arrive */
      g_autoptr(FtVrptwProblem) p = random_problem (1100 + inst, 40, 10, 60, 400);
      g_autoptr(FtVrptwProblem) first = random_problem (1100 + inst, 40, 10, 60, 400);
      for (guint i = 31; i <= 40; i++)
        first->nodes[i].is_stop = FALSE;
      FtVrptwParams params;
      ft_vrptw_params_init (&params);
      params.time_limit_ms = 0;
      params.max_iterations = 300;
      params.seed = inst;
      g_autoptr(GError) error = NULL;
      g_autoptr(FtVrptwSolution) cur = ft_vrptw_solve (first, &params, NULL, &error);
      if (cur == NULL)
        continue;   /* a random stop unreachable alone */
      guint n_started[10] = { 0 };
      for (guint r = 0; r < cur->n_routes; r++)
        n_started[cur->routes[r].vehicle] = MIN (cur->routes[r].n_stops, (r + inst) % 3);
      /* one unstarted planned stop is cancelled */
      guint cancelled = FT_VRPTW_NONE;
      for (guint r = 0; r < cur->n_routes && cancelled == FT_VRPTW_NONE; r++)
        if (cur->routes[r].n_stops > n_started[cur->routes[r].vehicle])
          cancelled = cur->routes[r].stops[cur->routes[r].n_stops - 1];
      p->nodes[cancelled].is_stop = FALSE;
      FtVrptwStats st;
      g_autoptr(FtVrptwSolution) next = ft_vrptw_reoptimise (p, cur, n_started, &params, &st, &error);
      ck_assert_msg (next != NULL, "%s", error ? error->message : "");
      ck_assert_uint_eq (st.dropped, 1);
      /* started prefixes unchanged */
      for (guint r = 0; r < cur->n_routes; r++)
        {
          const FtVrptwRoute *a = &cur->routes[r];
          const FtVrptwRoute *b = NULL;
          for (guint q = 0; q < next->n_routes; q++)
            if (next->routes[q].vehicle == a->vehicle)
              b = &next->routes[q];
          guint k = n_started[a->vehicle];
          if (k == 0)
            continue;
          ck_assert_ptr_nonnull (b);
          ck_assert_uint_ge (b->n_stops, k);
          ck_assert (memcmp (a->stops, b->stops, k * sizeof (guint)) == 0);
        }
      /* the checker sees started stops as stops: give them back */
      for (guint r = 0; r < cur->n_routes; r++)
        for (guint i = 0; i < n_started[cur->routes[r].vehicle]; i++)
          ck_assert (p->nodes[cur->routes[r].stops[i]].is_stop);
      double dist;
      g_autofree char *why = NULL;
      ck_assert_msg (vrptw_check_solution (p, next, TRUE, &dist, &why), "instance %u: %s", inst, why);
      ck_assert_double_eq_tol (dist, next->distance, 1e-6);
      for (guint r = 0; r < next->n_routes; r++)
        for (guint i = 0; i < next->routes[r].n_stops; i++)
          ck_assert_uint_ne (next->routes[r].stops[i], cancelled);
    }
}
END_TEST

START_TEST (test_rolling_bad_current)
{
  g_autoptr(FtVrptwProblem) p = random_problem (77, 6, 2, 60, 400);
  FtVrptwParams params;
  ft_vrptw_params_init (&params);
  params.time_limit_ms = 0;
  params.max_iterations = 10;
  guint stops_depot[] = { 0, 1 }, stops_twice[] = { 2, 2 }, stops_out[] = { 3, 99 };
  guint *cases[] = { stops_depot, stops_twice, stops_out };
  for (guint k = 0; k < G_N_ELEMENTS (cases); k++)
    {
      FtVrptwRoute rt = { 0, 2, cases[k] };
      FtVrptwSolution cur = { 1, &rt, 0, NULL, 0 };
      guint n_started[2] = { 1, 0 };
      g_autoptr(GError) error = NULL;
      ck_assert_ptr_null (ft_vrptw_reoptimise (p, &cur, n_started, &params, NULL, &error));
      ck_assert (g_error_matches (error, FT_VRPTW_ERROR, FT_VRPTW_ERROR_INVALID));
      /* the depot's window is untouched */
      ck_assert (p->nodes[0].ready == 0 && p->nodes[0].due == 1000);
    }
}
END_TEST

static Suite *
vrptw_suite (void)
{
  Suite *s = suite_create ("vrptw");
  TCase *tc = tcase_create ("moves");
  tcase_add_test (tc, test_insert_and_relocate);
  tcase_add_test (tc, test_exchange_and_two_opt_star);
  tcase_add_test (tc, test_ruin_recreate);
  suite_add_tcase (s, tc);
  tc = tcase_create ("solve");
  tcase_set_timeout (tc, 120);
  tcase_add_test (tc, test_solve_random_checked);
  tcase_add_test (tc, test_deterministic);
  tcase_add_test (tc, test_no_stops);
  tcase_add_test (tc, test_known_optimal);
  tcase_add_test (tc, test_infeasible);
  tcase_add_test (tc, test_solomon_c101_r101);
  suite_add_tcase (s, tc);
  tc = tcase_create ("solomon");
  tcase_add_test (tc, test_solomon_malformed);
  suite_add_tcase (s, tc);
  tc = tcase_create ("rolling");
  tcase_add_test (tc, test_rolling);
  tcase_add_test (tc, test_rolling_bad_current);
  suite_add_tcase (s, tc);
  return s;
}

int
main (void)
{
  SRunner *sr = srunner_create (vrptw_suite ());
  srunner_run_all (sr, CK_NORMAL);
  int failed = srunner_ntests_failed (sr);
  srunner_free (sr);
  return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
