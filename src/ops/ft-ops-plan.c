/* ft-ops-plan.c — one planning cycle of van routes. Each task is one VRPTW
 * stop with an entry point (where the vehicle stands) and an exit point
 * (where a rebalanced vehicle is dropped; the same for the others), so a
 * rebalance is a pickup and its delivery in one stop: the van carries one
 * vehicle at a time, the drive between the two is part of the stop's
 * service, and legs run from one stop's exit to the next one's entry (an
 * asymmetric matrix). Swaps take a pack from the van's capacity. Times in
 * the problem are seconds from the plan's now.
 */
#include "ft-ops-plan.h"

#include <math.h>
#include <string.h>

#define NO_DUE 1e9   /* seconds: no window */

void
ft_ops_plan_params_init (FtOpsPlanParams *params)
{
  g_return_if_fail (params != NULL);
  memset (params, 0, sizeof *params);
  for (guint k = 0; k < FT_N_TASK_KINDS; k++)
    params->service_s[k] = 300;
  ft_vrptw_params_init (&params->search);
  params->search.max_iterations = 2000;
  params->search.time_limit_ms = 0;
  params->search.minimise_routes = FALSE;
}

void
ft_ops_plan_free (FtOpsPlan *plan)
{
  if (!plan)
    return;
  for (guint r = 0; r < plan->n_routes; r++)
    {
      g_clear_pointer (&plan->routes[r].tasks, g_array_unref);
      g_clear_pointer (&plan->routes[r].eta, g_array_unref);
    }
  g_free (plan->routes);
  g_clear_pointer (&plan->unplanned, g_array_unref);
  g_clear_pointer (&plan->dropped, g_array_unref);
  g_clear_pointer (&plan->reasons, g_ptr_array_unref);
  g_free (plan);
}

typedef struct {
  FtOps        *ops;
  const FtFleet *fleet;
  FtOpsPlan    *plan;
  GHashTable   *seen;      /* task id + 1 -> 1: in the problem or dropped */
} Ctx;

static void
drop (Ctx *c, gint64 id, const char *why)
{
  const FtTask *t = ft_ops_get (c->ops, id);
  char *reason = g_strdup_printf ("task %" G_GINT64_FORMAT " (%s) dropped: %s", id,
                                  t ? ft_task_kind_name (t->kind) : "unknown", why);
  g_message ("ops plan: %s", reason);
  g_array_append_val (c->plan->dropped, id);
  g_ptr_array_add (c->plan->reasons, reason);
  g_hash_table_add (c->seen, GSIZE_TO_POINTER ((gsize) id + 1));
}

/* Why a task cannot be planned, or NULL: it is finished, or its vehicle is
 * gone. The message is owned by the caller. */
static char *
not_doable (Ctx *c, const FtTask *t)
{
  if (t->state == FT_TASK_DONE || t->state == FT_TASK_CANCELLED)
    return g_strdup_printf ("it is %s", ft_task_state_name (t->state));
  if (t->vehicle >= 0)
    {
      if ((guint) t->vehicle >= ft_fleet_n_vehicles (c->fleet))
        return g_strdup_printf ("vehicle %d no longer exists", t->vehicle);
      const FtVehicle *v = ft_fleet_get_vehicle (c->fleet, (guint) t->vehicle);
      if (v->state == FT_STATE_REMOVED && v->last_event == FT_VEV_DECOMMISSIONED)
        return g_strdup_printf ("vehicle %s was decommissioned", v->name);
    }
  return NULL;
}

static void
task_points (Ctx *c, const FtTask *t, FtLatLon *in, FtLatLon *out)
{
  FtLatLon at = t->vehicle >= 0 ? ft_fleet_get_vehicle (c->fleet, (guint) t->vehicle)->pos : t->target;
  *in = at;
  *out = (t->kind == FT_TASK_REBALANCE || t->kind == FT_TASK_DEPLOY) && (t->target.lat != 0 || t->target.lon != 0)
         ? t->target : at;
}

static int
cmp_priority (gconstpointer a, gconstpointer b, gpointer data)
{
  const FtOps *ops = data;
  const FtTask *x = ft_ops_get (ops, *(const gint64 *) a), *y = ft_ops_get (ops, *(const gint64 *) b);
  if (x->priority != y->priority)
    return x->priority > y->priority ? -1 : 1;
  if (x->created != y->created)
    return x->created < y->created ? -1 : 1;
  return x->id < y->id ? -1 : x->id > y->id;
}

/* The cost of visiting `order` (n stops of the problem) with van v:
 * cost_per_km x km + sum of wait[x] x hours until x's service starts;
 * INFINITY when a stop's window or the route's end (end_limit) is missed. */
static double
route_cost (const FtVrptwProblem *p, guint v, const guint *order, guint n, const double *wait,
            double cost_per_km, double end_limit)
{
  guint nn = p->n_nodes, prev = p->vehicles[v].start_node;
  double t = p->vehicles[v].shift_start, metres = 0, waiting = 0;
  for (guint i = 0; i < n; i++)
    {
      guint x = order[i];
      t = MAX (t + p->nodes[prev].service + p->time[(gsize) prev * nn + x], p->nodes[x].ready);
      if (t > p->nodes[x].due + 1e-6)
        return INFINITY;
      metres += p->dist[(gsize) prev * nn + x];
      waiting += wait[x] * t / 3600.0;
      prev = x;
    }
  guint end = p->vehicles[v].end_node;
  if (t + p->nodes[prev].service + p->time[(gsize) prev * nn + end] > end_limit + 1e-6)
    return INFINITY;
  metres += p->dist[(gsize) prev * nn + end];
  return cost_per_km * metres / 1000.0 + waiting;
}

/* Reorder a route's stops after the first `fixed` (started: kept) by
 * moving one stop at a time to the place that lowers route_cost most,
 * until no move does. Routes are short (a horizon of work), so this is
 * cheap. The route's end stays within its shift, or within the end the
 * solver's order already had. */
static void
reorder_by_waiting (const FtVrptwProblem *p, FtVrptwRoute *rt, guint fixed, const double *wait,
                    double cost_per_km)
{
  guint n = rt->n_stops;
  if (n < fixed + 2)
    return;
  gboolean any = FALSE;
  for (guint i = fixed; i < n; i++)
    any |= wait[rt->stops[i]] > 0;
  if (!any)
    return;
  const FtVrptwVehicle *veh = &p->vehicles[rt->vehicle];
  double limit = MIN (veh->shift_end, p->nodes[veh->end_node].due);
  double best = route_cost (p, rt->vehicle, rt->stops, n, wait, cost_per_km, limit);
  if (!isfinite (best))
    return;   /* not ours to repair: the solver's order stands */
  g_autofree guint *trial = g_new (guint, n);
  for (guint round = 0; round < 4 * n; round++)
    {
      double round_best = best;
      guint bi = 0, bj = 0;
      for (guint i = fixed; i < n; i++)
        for (guint j = fixed; j < n; j++)
          {
            if (i == j)
              continue;
            /* take stop i out and put it at position j */
            guint k = 0;
            for (guint a = 0; a < n; a++)
              {
                if (a == i)
                  continue;
                if (k == j)
                  trial[k++] = rt->stops[i];
                trial[k++] = rt->stops[a];
              }
            if (k == j)
              trial[k++] = rt->stops[i];
            double c = route_cost (p, rt->vehicle, trial, n, wait, cost_per_km, limit);
            if (c < round_best - 1e-9)
              round_best = c, bi = i, bj = j;
          }
      if (round_best >= best - 1e-9)
        break;
      guint x = rt->stops[bi];
      if (bi < bj)
        memmove (&rt->stops[bi], &rt->stops[bi + 1], (bj - bi) * sizeof (guint));
      else
        memmove (&rt->stops[bj + 1], &rt->stops[bj], (bi - bj) * sizeof (guint));
      rt->stops[bj] = x;
      best = round_best;
    }
}

/* The urgent tasks' routes as a dispatcher would make them: each van's
 * started stops first, then, again and again, the urgent task and van
 * whose start of service is the earliest of all pairs (a van's capacity,
 * windows and route end kept); urgent tasks of the running routes are
 * planned afresh like new ones. Tasks that fit nowhere are unassigned. */
static FtVrptwSolution *
urgent_by_arrival (const FtVrptwProblem *p, const FtVrptwSolution *cur, const guint *n_started,
                   const gboolean *urgent, guint base)
{
  guint n = p->n_nodes, nv = p->n_vehicles;
  g_autofree double *t = g_new (double, nv);
  g_autofree guint *at = g_new (guint, nv);
  g_autofree int *load = g_new0 (int, nv);
  g_autofree guint *len = g_new0 (guint, nv);
  g_autofree guint **stops = g_new0 (guint *, nv);
  g_autofree gboolean *done = g_new0 (gboolean, n);
  for (guint v = 0; v < nv; v++)
    {
      at[v] = p->vehicles[v].start_node;
      t[v] = p->vehicles[v].shift_start;
      stops[v] = g_new (guint, n);
    }
  for (guint r = 0; r < cur->n_routes; r++)
    {
      const FtVrptwRoute *rt = &cur->routes[r];
      guint v = rt->vehicle;
      for (guint i = 0; i < n_started[v] && i < rt->n_stops; i++)
        {
          guint x = rt->stops[i];
          t[v] = MAX (t[v] + p->nodes[at[v]].service + p->time[(gsize) at[v] * n + x], p->nodes[x].ready);
          load[v] += p->nodes[x].demand;
          stops[v][len[v]++] = x;
          done[x] = TRUE;
          at[v] = x;
        }
    }
  for (;;)
    {
      double best = INFINITY;
      guint bx = 0, bv = 0;
      for (guint x = base; x < n; x++)
        {
          if (!urgent[x] || done[x])
            continue;
          for (guint v = 0; v < nv; v++)
            {
              if (load[v] + p->nodes[x].demand > p->vehicles[v].capacity)
                continue;
              double s = MAX (t[v] + p->nodes[at[v]].service + p->time[(gsize) at[v] * n + x], p->nodes[x].ready);
              guint end = p->vehicles[v].end_node;
              if (s > p->nodes[x].due + 1e-6
                  || s + p->nodes[x].service + p->time[(gsize) x * n + end] > p->vehicles[v].shift_end + 1e-6)
                continue;
              if (s < best)
                best = s, bx = x, bv = v;
            }
        }
      if (!isfinite (best))
        break;
      t[bv] = best;
      load[bv] += p->nodes[bx].demand;
      stops[bv][len[bv]++] = bx;
      done[bx] = TRUE;
      at[bv] = bx;
    }
  FtVrptwSolution *out = g_new0 (FtVrptwSolution, 1);
  out->routes = g_new0 (FtVrptwRoute, MAX (nv, 1));
  for (guint v = 0; v < nv; v++)
    {
      if (len[v] > 0)
        {
          FtVrptwRoute *o = &out->routes[out->n_routes++];
          o->vehicle = v;
          o->n_stops = len[v];
          o->stops = g_steal_pointer (&stops[v]);
        }
      g_free (stops[v]);
    }
  out->unassigned = g_new (guint, n);
  for (guint x = base; x < n; x++)
    if (urgent[x] && !done[x])
      out->unassigned[out->n_unassigned++] = x;
  return out;
}

FtOpsPlan *
ft_ops_plan_routes (FtOps *ops, const FtOpsVan *vans, guint n_vans, const FtOpsPlanParams *params,
                    GError **error)
{
  g_return_val_if_fail (ops != NULL && (vans != NULL || n_vans == 0) && params != NULL, NULL);
  g_return_val_if_fail (params->travel != NULL, NULL);
  if (n_vans > FT_VRPTW_MAX_VEHICLES)
    {
      g_set_error (error, FT_OPS_ERROR, FT_OPS_ERROR_INVALID,
                   "route planning: %u vans; the solver takes at most %u", n_vans, FT_VRPTW_MAX_VEHICLES);
      return NULL;
    }
  if (params->wait_cost && (!isfinite (params->cost_per_km) || params->cost_per_km < 0))
    {
      g_set_error (error, FT_OPS_ERROR, FT_OPS_ERROR_INVALID,
                   "route planning: cost per van km is %g; it must be finite and >= 0", params->cost_per_km);
      return NULL;
    }
  for (guint k = 0; k < FT_N_TASK_KINDS; k++)
    if (!isfinite (params->service_s[k]) || params->service_s[k] < 0)
      {
        g_set_error (error, FT_OPS_ERROR, FT_OPS_ERROR_INVALID,
                     "route planning: service time of %s tasks is %g s", ft_task_kind_name ((FtTaskKind) k),
                     params->service_s[k]);
        return NULL;
      }
  g_autoptr (FtOpsPlan) plan = g_new0 (FtOpsPlan, 1);
  plan->n_routes = n_vans;
  plan->routes = g_new0 (FtOpsRoute, MAX (n_vans, 1));
  plan->unplanned = g_array_new (FALSE, FALSE, sizeof (gint64));
  plan->dropped = g_array_new (FALSE, FALSE, sizeof (gint64));
  plan->reasons = g_ptr_array_new_with_free_func (g_free);
  g_autoptr (GHashTable) seen = g_hash_table_new (NULL, NULL);
  Ctx c = { ops, ft_ops_get_fleet (ops), plan, seen };
  FtTime now = params->now;

  /* The vans' running routes: what is still to do, started stops first. */
  g_autoptr (GArray) stops = g_array_new (FALSE, FALSE, sizeof (gint64));   /* task per stop */
  g_autofree guint *keep_len = g_new0 (guint, MAX (n_vans, 1));
  g_autofree guint *keep_started = g_new0 (guint, MAX (n_vans, 1));
  g_autofree guint *keep_first = g_new0 (guint, MAX (n_vans, 1));   /* index into stops */
  for (guint v = 0; v < n_vans; v++)
    {
      const FtOpsVan *van = &vans[v];
      plan->routes[v].staff = van->staff;
      plan->routes[v].tasks = g_array_new (FALSE, FALSE, sizeof (gint64));
      plan->routes[v].eta = g_array_new (FALSE, FALSE, sizeof (FtTime));
      if (van->n_started > van->n_route || (van->n_route > 0 && van->route == NULL))
        {
          g_set_error (error, FT_OPS_ERROR, FT_OPS_ERROR_INVALID,
                       "route planning: van %u (account %u) has %u started stops but a route of %u", v,
                       van->staff, van->n_started, van->n_route);
          return NULL;
        }
      if (van->at < now || van->shift_end < van->at || van->packs < 0)
        {
          g_set_error (error, FT_OPS_ERROR, FT_OPS_ERROR_INVALID,
                       "route planning: van %u (account %u) is free at %" G_GINT64_FORMAT
                       ", ends at %" G_GINT64_FORMAT " with %d packs; it must be free between now (%"
                       G_GINT64_FORMAT ") and its shift's end, with packs >= 0",
                       v, van->staff, van->at, van->shift_end, van->packs, now);
          return NULL;
        }
      if (!ft_ops_staff_can_work (ops, van->staff))
        {
          g_set_error (error, FT_OPS_ERROR, FT_OPS_ERROR_PERMISSION,
                       "route planning: van %u's account %u may not do field work", v, van->staff);
          return NULL;
        }
      keep_first[v] = stops->len;
      for (guint i = 0; i < van->n_route; i++)
        {
          gint64 id = van->route[i];
          const FtTask *t = ft_ops_get (ops, id);
          if (!t)
            {
              g_set_error (error, FT_OPS_ERROR, FT_OPS_ERROR_NO_SUCH_TASK,
                           "route planning: van %u's stop %u is task %" G_GINT64_FORMAT ", which does not exist",
                           v, i + 1, id);
              return NULL;
            }
          if (g_hash_table_contains (seen, GSIZE_TO_POINTER ((gsize) id + 1)))
            {
              g_set_error (error, FT_OPS_ERROR, FT_OPS_ERROR_INVALID,
                           "route planning: task %" G_GINT64_FORMAT " is in two vans' routes (van %u's stop %u)",
                           id, v, i + 1);
              return NULL;
            }
          g_autofree char *why = not_doable (&c, t);
          if (why)
            {
              drop (&c, id, why);
              continue;
            }
          if (t->state != FT_TASK_OPEN && t->staff != (gint32) van->staff)
            {
              g_set_error (error, FT_OPS_ERROR, FT_OPS_ERROR_NOT_YOURS,
                           "route planning: task %" G_GINT64_FORMAT " in van %u's route is %s by account %d, "
                           "not %u", id, v, ft_task_state_name (t->state), t->staff, van->staff);
              return NULL;
            }
          g_hash_table_add (seen, GSIZE_TO_POINTER ((gsize) id + 1));
          g_array_append_val (stops, id);
          keep_len[v]++;
          if (i < van->n_started)
            keep_started[v]++;
        }
    }

  /* The open tasks worth considering, best first. */
  g_autoptr (GArray) open = g_array_new (FALSE, FALSE, sizeof (gint64));
  if (params->by_value)
    {
      /* tasks worth a van's time by value per minute, then the rest (no
       * value, or none that pays: ft_task_value_pays) by priority, then age */
      ft_ops_rank_open (ops, open);
      guint k = 0;
      while (k < open->len)
        {
          const FtTaskValue *tv = ft_ops_get_value (ops, g_array_index (open, gint64, k));
          if (!tv || !ft_task_value_pays (tv))
            break;
          k++;
        }
      g_qsort_with_data ((gint64 *) open->data + k, (gint) (open->len - k), sizeof (gint64), cmp_priority, ops);
    }
  else
    {
      ft_ops_list_open (ops, open);
      g_array_sort_with_data (open, cmp_priority, ops);
    }
  guint n_new = 0;
  for (guint i = 0; i < open->len; i++)
    {
      gint64 id = g_array_index (open, gint64, i);
      if (g_hash_table_contains (seen, GSIZE_TO_POINTER ((gsize) id + 1)))
        continue;
      const FtTask *t = ft_ops_get (ops, id);
      if (params->kind_mask && !(params->kind_mask & (1u << t->kind)))
        continue;
      /* unassignable until approved; the caller's own filter */
      if (t->approval == FT_TASK_PROPOSED || (params->accept && !params->accept (t, params->user_data)))
        continue;
      g_autofree char *why = not_doable (&c, t);
      if (why)
        {
          drop (&c, id, why);
          continue;
        }
      if (params->max_tasks && n_new >= params->max_tasks)
        continue;
      g_hash_table_add (seen, GSIZE_TO_POINTER ((gsize) id + 1));
      g_array_append_val (stops, id);
      n_new++;
    }

  guint n_stops = stops->len, base = 2 * n_vans;
  if (base + n_stops > FT_VRPTW_MAX_NODES)
    {
      g_set_error (error, FT_OPS_ERROR, FT_OPS_ERROR_INVALID,
                   "route planning: %u vans and %u tasks make %u nodes; the solver takes at most %u "
                   "(lower max_tasks)", n_vans, n_stops, base + n_stops, FT_VRPTW_MAX_NODES);
      return NULL;
    }
  if (n_vans == 0)
    {
      for (guint i = 0; i < n_stops; i++)
        g_array_append_val (plan->unplanned, g_array_index (stops, gint64, i));
      return g_steal_pointer (&plan);
    }

  /* Nodes: van starts, van ends (depots), then one stop per task. */
  guint n = base + n_stops;
  g_autofree FtLatLon *in = g_new (FtLatLon, n), *out = g_new (FtLatLon, n);
  g_autofree gboolean *open_end = g_new0 (gboolean, n_vans);
  g_autofree double *wait = g_new0 (double, n);   /* cost per hour until service, per node */
  g_autoptr (FtVrptwProblem) p = ft_vrptw_problem_new (n, n_vans);
  ft_vrptw_problem_split_time (p);
  for (guint v = 0; v < n_vans; v++)
    {
      in[v] = out[v] = vans[v].pos;
      in[n_vans + v] = out[n_vans + v] = vans[v].depot;
      p->nodes[v] = (FtVrptwNode) { 0, NO_DUE, 0, 0, FALSE, v };
      p->nodes[n_vans + v] = (FtVrptwNode) { 0, NO_DUE, 0, 0, FALSE, v };
      FtTime end = vans[v].shift_end;
      open_end[v] = params->horizon > 0 && now + params->horizon < end;
      if (open_end[v])
        end = MAX (now + params->horizon, vans[v].at);
      p->vehicles[v] = (FtVrptwVehicle) { vans[v].packs, v, n_vans + v,
                                          (double) (vans[v].at - now) / 1000.0,
                                          (double) (end - now) / 1000.0 };
    }
  for (guint k = 0; k < n_stops; k++)
    {
      const FtTask *t = ft_ops_get (ops, g_array_index (stops, gint64, k));
      guint x = base + k;
      task_points (&c, t, &in[x], &out[x]);
      double m, service = params->service_s[t->kind];
      if (in[x].lat != out[x].lat || in[x].lon != out[x].lon)
        service += params->travel (in[x], out[x], &m, params->user_data);
      double due = NO_DUE;
      if (params->due)
        {
          FtTime d = params->due (t, params->user_data);
          if (d >= 0)
            due = MAX ((double) (d - now) / 1000.0, 0.0);
        }
      if (params->wait_cost)
        {
          wait[x] = params->wait_cost (t, params->user_data);
          if (!isfinite (wait[x]) || wait[x] < 0)
            {
              g_set_error (error, FT_OPS_ERROR, FT_OPS_ERROR_INVALID,
                           "route planning: task %" G_GINT64_FORMAT "'s waiting cost is %g an hour; it must be "
                           "finite and >= 0", t->id, wait[x]);
              return NULL;
            }
        }
      p->nodes[x] = (FtVrptwNode) { 0, due, service, t->kind == FT_TASK_BATTERY_SWAP ? 1 : 0, TRUE,
                                    (guint) k };
    }
  for (guint i = 0; i < n; i++)
    for (guint j = 0; j < n; j++)
      {
        double m = 0, s = 0;
        /* an open end (the horizon ends before the shift) is reached from anywhere */
        gboolean to_open_end = j >= n_vans && j < base && open_end[j - n_vans];
        if (i != j && !to_open_end)
          s = params->travel (out[i], in[j], &m, params->user_data);
        if (!isfinite (s) || s < 0 || !isfinite (m) || m < 0)
          {
            g_set_error (error, FT_OPS_ERROR, FT_OPS_ERROR_INVALID,
                         "route planning: travel from (%.6f, %.6f) to (%.6f, %.6f) is %g s, %g m",
                         out[i].lat, out[i].lon, in[j].lat, in[j].lon, s, m);
            return NULL;
          }
        p->dist[(gsize) i * n + j] = m;
        p->time[(gsize) i * n + j] = s;
      }

  /* The running routes in the problem's terms, and the re-optimisation. */
  g_autofree gboolean *urgent = g_new0 (gboolean, n);
  guint n_urgent = 0;
  if (params->urgent)
    for (guint k = 0; k < n_stops; k++)
      if (params->urgent (ft_ops_get (ops, g_array_index (stops, gint64, k)), params->user_data))
        urgent[base + k] = TRUE, n_urgent++;
  g_autoptr (FtVrptwSolution) cur = g_new0 (FtVrptwSolution, 1);
  cur->routes = g_new0 (FtVrptwRoute, n_vans);
  g_autofree guint *n_started = g_new0 (guint, n_vans);
  for (guint v = 0; v < n_vans; v++)
    {
      n_started[v] = keep_started[v];
      if (keep_len[v] == 0)
        continue;
      FtVrptwRoute *rt = &cur->routes[cur->n_routes++];
      rt->vehicle = v;
      rt->n_stops = keep_len[v];
      rt->stops = g_new (guint, keep_len[v]);
      for (guint i = 0; i < keep_len[v]; i++)
        rt->stops[i] = base + keep_first[v] + i;
    }
  g_autoptr (FtVrptwSolution) first = NULL;
  g_autofree guint *n_fixed = g_memdup2 (n_started, n_vans * sizeof (guint));   /* kept first per van */
  g_autofree FtVrptwNode *nodes_b = NULL;
  FtVrptwProblem pb = *p;
  if (n_urgent > 0)
    {
      /* First the urgent tasks, as a dispatcher would (the solver's
       * objective is distance, not when each is served). */
      first = urgent_by_arrival (p, cur, n_started, urgent, base);
      /* Then the rest after them: each van's urgent stops become part of
       * its fixed head, an urgent task that fit nowhere is no stop. */
      nodes_b = g_memdup2 (p->nodes, n * sizeof (FtVrptwNode));
      for (guint i = 0; i < first->n_unassigned; i++)
        nodes_b[first->unassigned[i]].is_stop = FALSE;
      pb.nodes = nodes_b;
      g_autoptr (FtVrptwSolution) cur_b = g_new0 (FtVrptwSolution, 1);
      cur_b->routes = g_new0 (FtVrptwRoute, n_vans);
      g_autofree guint *first_of = g_new (guint, n_vans);
      for (guint v = 0; v < n_vans; v++)
        first_of[v] = G_MAXUINT;
      for (guint r = 0; r < first->n_routes; r++)
        first_of[first->routes[r].vehicle] = r;
      g_autofree guint *cur_of = g_new (guint, n_vans);
      for (guint v = 0; v < n_vans; v++)
        cur_of[v] = G_MAXUINT;
      for (guint r = 0; r < cur->n_routes; r++)
        cur_of[cur->routes[r].vehicle] = r;
      for (guint v = 0; v < n_vans; v++)
        {
          const FtVrptwRoute *fa = first_of[v] != G_MAXUINT ? &first->routes[first_of[v]] : NULL;
          const FtVrptwRoute *rc = cur_of[v] != G_MAXUINT ? &cur->routes[cur_of[v]] : NULL;
          guint len = (fa ? fa->n_stops : 0) + (rc ? rc->n_stops : 0);
          if (len == 0)
            continue;
          FtVrptwRoute *rb = &cur_b->routes[cur_b->n_routes++];
          rb->vehicle = v;
          rb->stops = g_new (guint, len);
          for (guint i = 0; fa && i < fa->n_stops; i++)
            rb->stops[rb->n_stops++] = fa->stops[i];
          n_fixed[v] = rb->n_stops;
          /* the running route's other stops, in their order, after them */
          for (guint i = n_started[v]; rc && i < rc->n_stops; i++)
            if (!urgent[rc->stops[i]])
              rb->stops[rb->n_stops++] = rc->stops[i];
        }
      g_clear_pointer (&cur, ft_vrptw_solution_free);
      cur = g_steal_pointer (&cur_b);
    }
  g_autoptr (FtVrptwSolution) sol = ft_vrptw_reoptimise (&pb, cur, n_fixed, &params->search, &plan->stats, error);
  if (!sol)
    return NULL;

  if (params->wait_cost)
    for (guint r = 0; r < sol->n_routes; r++)
      reorder_by_waiting (p, &sol->routes[r], n_fixed[sol->routes[r].vehicle], wait, params->cost_per_km);
  for (guint r = 0; r < sol->n_routes; r++)
    {
      const FtVrptwRoute *rt = &sol->routes[r];
      FtOpsRoute *or = &plan->routes[rt->vehicle];
      guint prev = rt->vehicle;
      double t = p->vehicles[rt->vehicle].shift_start, metres = 0;
      for (guint i = 0; i < rt->n_stops; i++)
        {
          guint x = rt->stops[i];
          gint64 id = g_array_index (stops, gint64, x - base);
          t = MAX (t + p->nodes[prev].service + p->time[(gsize) prev * n + x], p->nodes[x].ready);
          metres += p->dist[(gsize) prev * n + x];
          FtTime eta = now + (FtTime) llround (t * 1000.0);
          g_array_append_val (or->tasks, id);
          g_array_append_val (or->eta, eta);
          prev = x;
        }
      metres += p->dist[(gsize) prev * n + n_vans + rt->vehicle];
      or->metres = metres;
      or->n_started = keep_started[rt->vehicle];
    }
  for (guint i = 0; i < sol->n_unassigned; i++)
    {
      gint64 id = g_array_index (stops, gint64, sol->unassigned[i] - base);
      g_array_append_val (plan->unplanned, id);
    }
  for (guint i = 0; first && i < first->n_unassigned; i++)
    {
      gint64 id = g_array_index (stops, gint64, first->unassigned[i] - base);
      g_array_append_val (plan->unplanned, id);
    }
  return g_steal_pointer (&plan);
}

gboolean
ft_ops_plan_apply (FtOps *ops, const FtOpsVan *vans, guint n_vans, const FtOpsPlan *plan, FtTime now,
                   GError **error)
{
  g_return_val_if_fail (ops != NULL && plan != NULL && (vans != NULL || n_vans == 0), FALSE);
  if (plan->n_routes != n_vans)
    {
      g_set_error (error, FT_OPS_ERROR, FT_OPS_ERROR_INVALID,
                   "route plan for %u vans applied to %u", plan->n_routes, n_vans);
      return FALSE;
    }
  for (guint i = 0; i < plan->dropped->len; i++)
    {
      gint64 id = g_array_index (plan->dropped, gint64, i);
      const FtTask *t = ft_ops_get (ops, id);
      if (t && t->state != FT_TASK_DONE && t->state != FT_TASK_CANCELLED
          && !ft_ops_cancel (ops, id, -1, now, error))
        return FALSE;
    }
  g_autoptr (GHashTable) planned = g_hash_table_new (NULL, NULL);
  for (guint v = 0; v < n_vans; v++)
    {
      const FtOpsRoute *r = &plan->routes[v];
      for (guint i = 0; i < r->tasks->len; i++)
        {
          gint64 id = g_array_index (r->tasks, gint64, i);
          g_hash_table_add (planned, GSIZE_TO_POINTER ((gsize) id + 1));
          const FtTask *t = ft_ops_get (ops, id);
          if (!t || t->state == FT_TASK_IN_PROGRESS || (t->state == FT_TASK_ASSIGNED && t->staff == (gint32) r->staff))
            continue;
          if (!ft_ops_assign (ops, id, r->staff, -1, now, error))
            return FALSE;
        }
    }
  for (guint v = 0; v < n_vans; v++)
    for (guint i = 0; i < vans[v].n_route; i++)
      {
        gint64 id = vans[v].route[i];
        const FtTask *t = ft_ops_get (ops, id);
        if (t && t->state == FT_TASK_ASSIGNED && !g_hash_table_contains (planned, GSIZE_TO_POINTER ((gsize) id + 1))
            && !ft_ops_unassign (ops, id, now, error))
          return FALSE;
      }
  return TRUE;
}
