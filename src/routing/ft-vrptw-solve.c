/* ft-vrptw-solve.c — the solver's driver: a check that every stop can be
 * served alone, construction by blink insertion, route minimisation (remove
 * a route, re-insert its stops by ruin-and-recreate guided by absence
 * counters, as in SISR), then distance minimisation by ruin-and-recreate
 * under simulated annealing with local search on each new best; and rolling
 * re-optimisation of running routes with a frozen started prefix.
 */
#include "ft-vrptw-private.h"

#include <math.h>
#include <string.h>
#include <time.h>

/* Tuned on the Solomon instances at 1 s of CPU (README): SA temperatures
 * in distance units (Solomon distances: routes of 50 to 250). */
#define FM_SHARE   0.5      /* at most this share of the budget for route minimisation */
#define FM_STALL   0.3      /* ... and at most this long without removing a route */
#define BLINK      0.01
#define T_START    30.0
#define T_END      1.0

typedef struct {
  gboolean cpu;        /* thread CPU time instead of the monotonic clock */
  gint64  t0;          /* µs */
  gint64  limit_us;
  guint64 max_iter;
  guint64 iter;
} Budget;

static gint64
clock_us (gboolean cpu)
{
  if (cpu)
    {
      struct timespec ts;
      clock_gettime (CLOCK_THREAD_CPUTIME_ID, &ts);
      return (gint64) ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
    }
  return g_get_monotonic_time ();
}

static void
budget_init (Budget *b, const FtVrptwParams *params)
{
  b->cpu = params->cpu_clock;
  b->t0 = clock_us (b->cpu);
  b->limit_us = params->time_limit_ms * 1000;
  b->max_iter = params->max_iterations;
  b->iter = 0;
}

static double
budget_progress (Budget *b)
{
  double f = 0;
  if (b->limit_us > 0)
    f = (double) (clock_us (b->cpu) - b->t0) / b->limit_us;
  if (b->max_iter > 0)
    f = MAX (f, (double) b->iter / b->max_iter);
  return f;
}

static guint64
absence_sum (FtVrptwSearch *s, const FtVrptwSol *sol)
{
  guint64 sum = 0;
  for (guint k = 0; k < sol->n_absent; k++)
    sum += s->absence[sol->absent[k]];
  return sum;
}

/* Takes the route with the fewest stops out: its stops become absent. */
static void
remove_a_route (FtVrptwSearch *s, FtVrptwSol *sol)
{
  guint best = FT_VRPTW_NONE;
  for (guint r = 0; r < sol->n_routes; r++)
    if (sol->rt[r].len > 0 && (best == FT_VRPTW_NONE || sol->rt[r].len < sol->rt[best].len
                               || (sol->rt[r].len == sol->rt[best].len && ft_vrptw_rand (s) < 0.5)))
      best = r;
  if (best == FT_VRPTW_NONE)
    return;
  FtVrptwRt *rt = &sol->rt[best];
  for (guint i = 1; i <= rt->len; i++)
    sol->absent[sol->n_absent++] = rt->node[i];
  ft_vrptw_sol_set_route (s, sol, best, NULL, 0);
  /* set_route keeps only stops still absent: all of them are */
}

static void
swap_sol (FtVrptwSol **a, FtVrptwSol **b)
{
  FtVrptwSol *t = *a;
  *a = *b;
  *b = t;
}

static guint
route_lower_bound (const FtVrptwProblem *p, FtVrptwSearch *s)
{
  gint64 demand = 0;
  int cap = 1;
  for (guint k = 0; k < s->n_stops; k++)
    demand += p->nodes[s->stops[k]].demand;
  for (guint v = 0; v < p->n_vehicles; v++)
    cap = MAX (cap, p->vehicles[v].capacity);
  return (guint) MAX (1, (demand + cap - 1) / cap);
}

/* Runs the search from `cur` (modified) and returns the best solution. */
static FtVrptwSol *
run_search (FtVrptwSearch *s, FtVrptwSol *cur, Budget *b, gboolean minimise_routes)
{
  FtVrptwSol *best = ft_vrptw_sol_new (s), *cand = ft_vrptw_sol_new (s);
  ft_vrptw_local_search (s, cur);
  ft_vrptw_sol_copy (s, best, cur);
  guint lb = route_lower_bound (s->p, s);

  if (s->n_stops == 0)
    {
      ft_vrptw_sol_free (cand);
      ft_vrptw_sol_free (cur);
      return best;
    }

  /* Route minimisation */
  if ((minimise_routes && cur->used > lb) || cur->n_absent > 0)
    {
      if (cur->n_absent == 0)
        remove_a_route (s, cur);
      double last_gain = budget_progress (b);
      for (;;)
        {
          double f = budget_progress (b);
          /* give up on one route fewer after FM_STALL of the budget without
           * success (complete instances only: stops must be placed) */
          if (f >= FM_SHARE || (f - last_gain >= FM_STALL && best->n_absent == 0))
            break;
          b->iter++;
          ft_vrptw_sol_copy (s, cand, cur);
          ft_vrptw_ruin (s, cand);
          ft_vrptw_recreate (s, cand, FALSE, BLINK);
          for (guint k = 0; k < cand->n_absent; k++)
            s->absence[cand->absent[k]]++;
          if (cand->n_absent < cur->n_absent || absence_sum (s, cand) < absence_sum (s, cur))
            swap_sol (&cur, &cand);
          if (cur->n_absent == 0)
            {
              last_gain = budget_progress (b);
              ft_vrptw_sol_copy (s, best, cur);
              if (!minimise_routes || cur->used <= lb)
                break;
              remove_a_route (s, cur);
            }
        }
      ft_vrptw_sol_copy (s, cur, best);
    }

  /* Distance minimisation: simulated annealing over ruin-and-recreate */
  double f0 = budget_progress (b);
  double cost_cur = ft_vrptw_sol_cost (cur), cost_best = ft_vrptw_sol_cost (best);
  for (;;)
    {
      double f = budget_progress (b);
      if (f >= 1.0)
        break;
      double x = f0 < 1.0 ? (f - f0) / (1.0 - f0) : 1.0;
      double temp = T_START * pow (T_END / T_START, CLAMP (x, 0.0, 1.0));
      b->iter++;
      ft_vrptw_sol_copy (s, cand, cur);
      ft_vrptw_ruin (s, cand);
      ft_vrptw_recreate (s, cand, TRUE, BLINK);
      double c = ft_vrptw_sol_cost (cand);
      if (c < cost_cur - temp * log (1.0 - ft_vrptw_rand (s)))
        {
          swap_sol (&cur, &cand);
          cost_cur = c;
          if (cost_cur < cost_best - 1e-9)
            {
              ft_vrptw_local_search (s, cur);
              cost_cur = ft_vrptw_sol_cost (cur);
              ft_vrptw_sol_copy (s, best, cur);
              cost_best = cost_cur;
            }
        }
    }
  ft_vrptw_sol_free (cand);
  ft_vrptw_sol_free (cur);
  return best;
}

static gboolean
check_params (const FtVrptwParams *params, GError **error)
{
  if (params->time_limit_ms < 0 || (params->time_limit_ms == 0 && params->max_iterations == 0))
    {
      g_set_error (error, FT_VRPTW_ERROR, FT_VRPTW_ERROR_INVALID,
                   "a time limit (ms, positive) or an iteration limit is needed");
      return FALSE;
    }
  return TRUE;
}

/* Whether stop u can be served alone by some vehicle; else says why. */
static gboolean
check_alone (FtVrptwSearch *s, guint u, GError **error)
{
  const FtVrptwProblem *p = s->p;
  const FtVrptwNode *nd = &p->nodes[u];
  int max_cap = G_MININT;
  gboolean cap_ok = FALSE;
  for (guint v = 0; v < p->n_vehicles; v++)
    {
      max_cap = MAX (max_cap, p->vehicles[v].capacity);
      if (nd->demand > p->vehicles[v].capacity)
        continue;
      cap_ok = TRUE;
      FtVrptwSeg x = ft_vrptw_seg_cat (s, ft_vrptw_seg_cat (s, ft_vrptw_seg_start (s, v), ft_vrptw_seg_node (s, u)),
                                       ft_vrptw_seg_end (s, v));
      if (x.ok)
        return TRUE;
    }
  if (!cap_ok)
    g_set_error (error, FT_VRPTW_ERROR, FT_VRPTW_ERROR_INFEASIBLE,
                 "infeasible: customer %u cannot be served even alone: demand %d is above every vehicle's "
                 "capacity (at most %d)", nd->id, nd->demand, max_cap);
  else
    {
      const FtVrptwVehicle *v = &p->vehicles[0];
      double arrive = MAX (v->shift_start, p->nodes[v->start_node].ready) + p->nodes[v->start_node].service
                      + p->time[(gsize) v->start_node * p->n_nodes + u];
      double back = MAX (arrive, nd->ready) + nd->service + p->time[(gsize) u * p->n_nodes + v->end_node];
      g_set_error (error, FT_VRPTW_ERROR, FT_VRPTW_ERROR_INFEASIBLE,
                   "infeasible: customer %u cannot be served even alone: its window [%g, %g] and service %g "
                   "do not fit a vehicle's day (earliest arrival %.2f, back at the depot at %.2f, due %g)",
                   nd->id, nd->ready, nd->due, nd->service, arrive, back,
                   MIN (v->shift_end, p->nodes[v->end_node].due));
    }
  return FALSE;
}

FtVrptwSolution *
ft_vrptw_solve (const FtVrptwProblem *p, const FtVrptwParams *params, FtVrptwStats *stats, GError **error)
{
  g_return_val_if_fail (p != NULL && params != NULL, NULL);
  if (!ft_vrptw_problem_validate (p, error) || !check_params (params, error))
    return NULL;
  Budget b;
  budget_init (&b, params);
  g_autoptr(FtVrptwSearch) s = ft_vrptw_search_new (p, params->seed);
  for (guint k = 0; k < s->n_stops; k++)
    if (!check_alone (s, s->stops[k], error))
      return NULL;

  FtVrptwSol *cur = ft_vrptw_sol_new (s);
  s->n_removed = 0;
  ft_vrptw_recreate (s, cur, TRUE, 0);
  if (stats)
    {
      memset (stats, 0, sizeof *stats);
      stats->initial_routes = cur->used;
      stats->initial_distance = cur->dist;
    }
  FtVrptwSol *best = run_search (s, cur, &b, params->minimise_routes);
  if (stats)
    {
      stats->iterations = b.iter;
      stats->elapsed_ms = (clock_us (b.cpu) - b.t0) / 1000.0;
    }
  if (best->n_absent > 0)
    {
      g_set_error (error, FT_VRPTW_ERROR, FT_VRPTW_ERROR_INFEASIBLE,
                   "infeasible within the search: %u of %u customers did not fit into %u vehicles "
                   "(for example customer %u)", best->n_absent, s->n_stops, p->n_vehicles,
                   p->nodes[best->absent[0]].id);
      ft_vrptw_sol_free (best);
      return NULL;
    }
  FtVrptwSolution *out = ft_vrptw_sol_export (s, best);
  ft_vrptw_sol_free (best);
  return out;
}

/* ---- rolling re-optimisation ------------------------------------------ */

FtVrptwSolution *
ft_vrptw_reoptimise (const FtVrptwProblem *p, const FtVrptwSolution *current, const guint *n_started,
                     const FtVrptwParams *params, FtVrptwStats *stats, GError **error)
{
  g_return_val_if_fail (p != NULL && current != NULL && n_started != NULL && params != NULL, NULL);
  if (!ft_vrptw_problem_validate (p, error) || !check_params (params, error))
    return NULL;
  Budget b;
  budget_init (&b, params);
  guint n = p->n_nodes;
  g_autofree guint *route_of_vehicle = g_new (guint, MAX (p->n_vehicles, 1));
  g_autofree guint8 *seen = g_new0 (guint8, n);
  for (guint v = 0; v < p->n_vehicles; v++)
    seen[p->vehicles[v].start_node] = seen[p->vehicles[v].end_node] = 1;   /* never a stop */
  for (guint v = 0; v < p->n_vehicles; v++)
    route_of_vehicle[v] = FT_VRPTW_NONE;
  for (guint r = 0; r < current->n_routes; r++)
    {
      const FtVrptwRoute *rt = &current->routes[r];
      if (rt->vehicle >= p->n_vehicles || route_of_vehicle[rt->vehicle] != FT_VRPTW_NONE)
        {
          g_set_error (error, FT_VRPTW_ERROR, FT_VRPTW_ERROR_INVALID,
                       "current route %u: vehicle %u is unknown or has two routes", r + 1, rt->vehicle);
          return NULL;
        }
      if (n_started[rt->vehicle] > rt->n_stops)
        {
          g_set_error (error, FT_VRPTW_ERROR, FT_VRPTW_ERROR_INVALID,
                       "current route %u: %u stops started but the route has %u", r + 1,
                       n_started[rt->vehicle], rt->n_stops);
          return NULL;
        }
      route_of_vehicle[rt->vehicle] = r;
      for (guint i = 0; i < rt->n_stops; i++)
        {
          guint x = rt->stops[i];
          if (x >= n || seen[x])
            {
              g_set_error (error, FT_VRPTW_ERROR, FT_VRPTW_ERROR_INVALID,
                           "current route %u: stop %u is not a node of the problem, a vehicle's start or end, "
                           "or visited twice",
                           r + 1, x);
              return NULL;
            }
          seen[x] = 1;
        }
    }

  /* The problem left to solve: each van starts at its last started stop,
   * when its service there starts, with what it has not yet handed out. */
  FtVrptwProblem q = *p;
  g_autofree FtVrptwNode *nodes = g_memdup2 (p->nodes, n * sizeof *nodes);
  g_autofree FtVrptwVehicle *veh = g_memdup2 (p->vehicles, MAX (p->n_vehicles, 1) * sizeof *veh);
  q.nodes = nodes;
  q.vehicles = veh;
  q.time = p->time ? p->time : p->dist;
  guint dropped = 0;
  for (guint v = 0; v < p->n_vehicles; v++)
    {
      guint r = route_of_vehicle[v];
      if (r == FT_VRPTW_NONE || n_started[v] == 0)
        continue;
      const FtVrptwRoute *rt = &current->routes[r];
      guint prev = p->vehicles[v].start_node;
      double t = MAX (p->vehicles[v].shift_start, p->nodes[prev].ready);
      int load = 0;
      for (guint i = 0; i < n_started[v]; i++)
        {
          guint x = rt->stops[i];
          double arrive = t + p->nodes[prev].service + q.time[(gsize) prev * n + x];
          t = MAX (arrive, p->nodes[x].ready);
          load += p->nodes[x].demand;
          nodes[x].is_stop = FALSE;
          prev = x;
        }
      nodes[prev].ready = nodes[prev].due = t;
      veh[v].start_node = prev;
      veh[v].shift_start = t;
      veh[v].capacity -= load;
    }
  g_autoptr(FtVrptwSearch) s = ft_vrptw_search_new (&q, params->seed);
  FtVrptwSol *cur = ft_vrptw_sol_new (s);
  g_autofree guint *buf = g_new (guint, n + 1);
  for (guint v = 0; v < p->n_vehicles; v++)
    {
      guint r = route_of_vehicle[v];
      if (r == FT_VRPTW_NONE)
        continue;
      const FtVrptwRoute *rt = &current->routes[r];
      guint k = 0;
      /* keep the planned order while it stays feasible */
      for (guint i = n_started[v]; i < rt->n_stops; i++)
        {
          guint x = rt->stops[i];
          if (!p->nodes[x].is_stop)
            {
              dropped++;
              g_info ("vrptw: stop %u of vehicle %u is no longer a task: dropped", p->nodes[x].id, v);
              continue;
            }
          double delta;
          if (ft_vrptw_eval_insert (s, cur, v, cur->rt[v].len, x, &delta))
            {
              buf[k++] = x;
              ft_vrptw_sol_set_route (s, cur, v, buf, k);
            }
        }
    }
  s->n_removed = 0;
  ft_vrptw_recreate (s, cur, TRUE, 0);
  if (stats)
    {
      memset (stats, 0, sizeof *stats);
      stats->initial_routes = cur->used;
      stats->initial_distance = cur->dist;
      stats->dropped = dropped;
    }
  FtVrptwSol *best = run_search (s, cur, &b, FALSE);

  /* Back to the caller's vehicles: the started prefix, then the new plan. */
  FtVrptwSolution *out = g_new0 (FtVrptwSolution, 1);
  out->routes = g_new0 (FtVrptwRoute, MAX (p->n_vehicles, 1));
  for (guint v = 0; v < p->n_vehicles; v++)
    {
      guint r = route_of_vehicle[v];
      guint pre = r == FT_VRPTW_NONE ? 0 : n_started[v];
      const FtVrptwRt *rt = &best->rt[v];
      if (pre + rt->len == 0)
        continue;
      FtVrptwRoute *o = &out->routes[out->n_routes++];
      o->vehicle = v;
      o->n_stops = pre + rt->len;
      o->stops = g_new (guint, o->n_stops);
      if (pre)
        memcpy (o->stops, current->routes[r].stops, pre * sizeof (guint));
      memcpy (o->stops + pre, rt->node + 1, rt->len * sizeof (guint));
    }
  out->n_unassigned = best->n_absent;
  out->unassigned = g_memdup2 (best->absent, MAX (best->n_absent, 1) * sizeof (guint));
  out->distance = ft_vrptw_solution_distance (p, out);
  if (stats)
    {
      stats->iterations = b.iter;
      stats->elapsed_ms = (clock_us (b.cpu) - b.t0) / 1000.0;
    }
  ft_vrptw_sol_free (best);
  return out;
}
