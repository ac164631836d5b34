/* ft-vrptw-search.c — the solver's working state and its operators: route
 * segments (O(1) time-window feasibility), the local-search moves
 * (relocate, exchange, 2-opt*, or-opt), SISR ruin (adjacent string and
 * split-string removal, Christiaens & Vanden Berghe 2020) and blink
 * insertion.
 */
#include "ft-vrptw-private.h"

#include <math.h>
#include <string.h>

#define NODE(s, i) (&(s)->p->nodes[i])
#define DIST(s, a, b) ((s)->d[(gsize) (a) * (s)->n + (b)])
#define TIME(s, a, b) ((s)->t[(gsize) (a) * (s)->n + (b)])

/* ---- random numbers: splitmix64, all state in the search --------------- */

static inline guint64
next_u64 (FtVrptwSearch *s)
{
  guint64 z = (s->rng += 0x9E3779B97F4A7C15ull);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

double
ft_vrptw_rand (FtVrptwSearch *s)
{
  return (double) (next_u64 (s) >> 11) * (1.0 / 9007199254740992.0);
}

static inline guint
rand_below (FtVrptwSearch *s, guint n)
{
  return (guint) (ft_vrptw_rand (s) * n);
}

/* ---- segments ----------------------------------------------------------- */

FtVrptwSeg
ft_vrptw_seg_node (FtVrptwSearch *s, guint node)
{
  const FtVrptwNode *nd = NODE (s, node);
  return (FtVrptwSeg) { nd->service, nd->ready, nd->due, nd->demand, node, node, TRUE };
}

FtVrptwSeg
ft_vrptw_seg_start (FtVrptwSearch *s, guint vehicle)
{
  const FtVrptwVehicle *v = &s->p->vehicles[vehicle];
  const FtVrptwNode *nd = NODE (s, v->start_node);
  double e = MAX (v->shift_start, nd->ready), l = MIN (v->shift_end, nd->due);
  return (FtVrptwSeg) { nd->service, e, l, 0, v->start_node, v->start_node, e <= l + FT_VRPTW_EPS };
}

FtVrptwSeg
ft_vrptw_seg_end (FtVrptwSearch *s, guint vehicle)
{
  const FtVrptwVehicle *v = &s->p->vehicles[vehicle];
  const FtVrptwNode *nd = NODE (s, v->end_node);
  double l = MIN (v->shift_end, nd->due);
  return (FtVrptwSeg) { 0, nd->ready, l, 0, v->end_node, v->end_node, nd->ready <= l + FT_VRPTW_EPS };
}

static inline FtVrptwSeg
seg_cat (FtVrptwSearch *s, const FtVrptwSeg *a, const FtVrptwSeg *b)
{
  double t = TIME (s, a->last, b->first);
  double delta = a->D + t;
  double wt = MAX (b->E - delta - a->L, 0.0);
  double tw = MAX (a->E + delta - b->L, 0.0);
  FtVrptwSeg r;
  r.D = a->D + b->D + t + wt;
  r.E = MAX (b->E - delta, a->E) - wt;
  r.L = MIN (b->L - delta, a->L);
  r.q = a->q + b->q;
  r.first = a->first;
  r.last = b->last;
  r.ok = a->ok && b->ok && tw <= FT_VRPTW_EPS;
  return r;
}

/* Whether a node and then a segment can follow a prefix (three-way join, only the verdict). */
static inline gboolean
join3_ok (FtVrptwSearch *s, const FtVrptwSeg *pre, guint u, const FtVrptwSeg *suf)
{
  const FtVrptwNode *nd = NODE (s, u);
  double arrive = pre->E + pre->D + TIME (s, pre->last, u);
  double begin = MAX (arrive, nd->ready);
  if (begin > nd->due + FT_VRPTW_EPS)
    return FALSE;
  return begin + nd->service + TIME (s, u, suf->first) <= suf->L + FT_VRPTW_EPS;
}

FtVrptwSeg
ft_vrptw_seg_cat (FtVrptwSearch *s, FtVrptwSeg a, FtVrptwSeg b)
{
  return seg_cat (s, &a, &b);
}

/* ---- search and solutions ---------------------------------------------- */

typedef struct { double d; guint node; } NbrKey;

static int
cmp_nbr (const void *a, const void *b)
{
  const NbrKey *x = a, *y = b;
  if (x->d != y->d)
    return x->d < y->d ? -1 : 1;
  return x->node < y->node ? -1 : x->node > y->node;
}

FtVrptwSearch *
ft_vrptw_search_new (const FtVrptwProblem *p, guint64 seed)
{
  FtVrptwSearch *s = g_new0 (FtVrptwSearch, 1);
  s->p = p;
  s->n = p->n_nodes;
  s->d = p->dist;
  s->t = p->time ? p->time : p->dist;
  s->rng = seed ^ 0x5DEECE66Dull;
  s->stops = g_new (guint, s->n);
  for (guint i = 0; i < s->n; i++)
    if (p->nodes[i].is_stop)
      s->stops[s->n_stops++] = i;
  s->nbr = g_new (guint, (gsize) s->n * MAX (s->n_stops, 1));
  NbrKey *keys = g_new (NbrKey, MAX (s->n_stops, 1));
  for (guint i = 0; i < s->n; i++)
    {
      for (guint k = 0; k < s->n_stops; k++)
        keys[k] = (NbrKey) { DIST (s, i, s->stops[k]), s->stops[k] };
      qsort (keys, s->n_stops, sizeof *keys, cmp_nbr);
      for (guint k = 0; k < s->n_stops; k++)
        s->nbr[(gsize) i * s->n_stops + k] = keys[k].node;
    }
  g_free (keys);
  s->far = g_new (double, s->n);
  guint depot = p->n_vehicles ? p->vehicles[0].start_node : 0;
  for (guint i = 0; i < s->n; i++)
    s->far[i] = DIST (s, depot, i);
  s->absence = g_new0 (guint64, s->n);
  s->removed = g_new (guint, s->n);
  s->order = g_new (guint, s->n);
  s->stamp = g_new0 (guint, MAX (p->n_vehicles, 1));
  s->route_perm = g_new (guint, MAX (p->n_vehicles, 1));
  return s;
}

void
ft_vrptw_search_free (FtVrptwSearch *s)
{
  if (s == NULL)
    return;
  g_free (s->stops);
  g_free (s->nbr);
  g_free (s->far);
  g_free (s->absence);
  g_free (s->removed);
  g_free (s->order);
  g_free (s->stamp);
  g_free (s->route_perm);
  g_free (s);
}

FtVrptwSol *
ft_vrptw_sol_new (FtVrptwSearch *s)
{
  const FtVrptwProblem *p = s->p;
  FtVrptwSol *sol = g_new0 (FtVrptwSol, 1);
  sol->n_routes = p->n_vehicles;
  sol->rt = g_new0 (FtVrptwRt, p->n_vehicles);
  guint cap = s->n_stops + 2;
  for (guint r = 0; r < p->n_vehicles; r++)
    {
      FtVrptwRt *rt = &sol->rt[r];
      rt->vehicle = r;
      rt->node = g_new (guint, cap);
      rt->fwd = g_new (FtVrptwSeg, cap);
      rt->bwd = g_new (FtVrptwSeg, cap);
      rt->node[0] = p->vehicles[r].start_node;
      rt->node[1] = p->vehicles[r].end_node;
    }
  sol->route_of = g_new (guint, s->n);
  sol->pos_of = g_new0 (guint, s->n);
  for (guint i = 0; i < s->n; i++)
    sol->route_of[i] = FT_VRPTW_NONE;
  sol->absent = g_new (guint, MAX (s->n_stops, 1));
  for (guint k = 0; k < s->n_stops; k++)
    sol->absent[sol->n_absent++] = s->stops[k];
  for (guint r = 0; r < p->n_vehicles; r++)
    ft_vrptw_sol_update (s, sol, r);
  return sol;
}

void
ft_vrptw_sol_free (FtVrptwSol *sol)
{
  if (sol == NULL)
    return;
  for (guint r = 0; r < sol->n_routes; r++)
    {
      g_free (sol->rt[r].node);
      g_free (sol->rt[r].fwd);
      g_free (sol->rt[r].bwd);
    }
  g_free (sol->rt);
  g_free (sol->route_of);
  g_free (sol->pos_of);
  g_free (sol->absent);
  g_free (sol);
}

void
ft_vrptw_sol_copy (FtVrptwSearch *s, FtVrptwSol *dst, const FtVrptwSol *src)
{
  for (guint r = 0; r < src->n_routes; r++)
    {
      const FtVrptwRt *a = &src->rt[r];
      FtVrptwRt *b = &dst->rt[r];
      gsize m = a->len + 2;
      b->len = a->len;
      b->dist = a->dist;
      memcpy (b->node, a->node, m * sizeof *a->node);
      memcpy (b->fwd, a->fwd, m * sizeof *a->fwd);
      memcpy (b->bwd, a->bwd, m * sizeof *a->bwd);
    }
  memcpy (dst->route_of, src->route_of, s->n * sizeof *src->route_of);
  memcpy (dst->pos_of, src->pos_of, s->n * sizeof *src->pos_of);
  memcpy (dst->absent, src->absent, src->n_absent * sizeof *src->absent);
  dst->n_absent = src->n_absent;
  dst->dist = src->dist;
  dst->used = src->used;
}

static void
sol_totals (FtVrptwSol *sol)
{
  sol->dist = 0;
  sol->used = 0;
  for (guint r = 0; r < sol->n_routes; r++)
    if (sol->rt[r].len > 0)
      {
        sol->dist += sol->rt[r].dist;
        sol->used++;
      }
}

void
ft_vrptw_sol_update (FtVrptwSearch *s, FtVrptwSol *sol, guint r)
{
  FtVrptwRt *rt = &sol->rt[r];
  guint m = rt->len + 1;
  rt->fwd[0] = ft_vrptw_seg_start (s, rt->vehicle);
  rt->dist = 0;
  for (guint i = 1; i <= m; i++)
    {
      FtVrptwSeg nd = i == m ? ft_vrptw_seg_end (s, rt->vehicle) : ft_vrptw_seg_node (s, rt->node[i]);
      rt->fwd[i] = seg_cat (s, &rt->fwd[i - 1], &nd);
      rt->dist += DIST (s, rt->node[i - 1], rt->node[i]);
      if (i < m)
        {
          sol->route_of[rt->node[i]] = r;
          sol->pos_of[rt->node[i]] = i;
        }
    }
  rt->bwd[m] = ft_vrptw_seg_end (s, rt->vehicle);
  for (guint i = m; i-- > 0;)
    {
      FtVrptwSeg nd = i == 0 ? ft_vrptw_seg_start (s, rt->vehicle) : ft_vrptw_seg_node (s, rt->node[i]);
      rt->bwd[i] = seg_cat (s, &nd, &rt->bwd[i + 1]);
    }
  sol_totals (sol);
}

void
ft_vrptw_sol_set_route (FtVrptwSearch *s, FtVrptwSol *sol, guint r, const guint *stops, guint n_stops)
{
  FtVrptwRt *rt = &sol->rt[r];
  for (guint i = 1; i <= rt->len; i++)
    sol->route_of[rt->node[i]] = FT_VRPTW_NONE;
  if (n_stops > 0)
    memcpy (rt->node + 1, stops, n_stops * sizeof *stops);
  rt->len = n_stops;
  rt->node[n_stops + 1] = s->p->vehicles[rt->vehicle].end_node;
  ft_vrptw_sol_update (s, sol, r);
  /* the stops are no longer absent */
  guint k = 0;
  for (guint i = 0; i < sol->n_absent; i++)
    if (sol->route_of[sol->absent[i]] == FT_VRPTW_NONE)
      sol->absent[k++] = sol->absent[i];
  sol->n_absent = k;
}

double
ft_vrptw_sol_cost (const FtVrptwSol *sol)
{
  /* fewest routes first, then distance; absent stops cost most */
  return sol->dist + 1e6 * sol->used + 1e9 * sol->n_absent;
}

FtVrptwSolution *
ft_vrptw_sol_export (FtVrptwSearch *s, const FtVrptwSol *sol)
{
  FtVrptwSolution *out = g_new0 (FtVrptwSolution, 1);
  out->routes = g_new0 (FtVrptwRoute, MAX (sol->used, 1));
  for (guint r = 0; r < sol->n_routes; r++)
    {
      const FtVrptwRt *rt = &sol->rt[r];
      if (rt->len == 0)
        continue;
      FtVrptwRoute *o = &out->routes[out->n_routes++];
      o->vehicle = rt->vehicle;
      o->n_stops = rt->len;
      o->stops = g_memdup2 (rt->node + 1, rt->len * sizeof (guint));
    }
  out->n_unassigned = sol->n_absent;
  out->unassigned = g_memdup2 (sol->absent, MAX (sol->n_absent, 1) * sizeof (guint));
  out->distance = sol->dist;
  return out;
}

/* ---- moves -------------------------------------------------------------- */

static inline int
cap_of (FtVrptwSearch *s, const FtVrptwRt *rt)
{
  return s->p->vehicles[rt->vehicle].capacity;
}

static inline int
load_of (const FtVrptwRt *rt)
{
  return rt->fwd[rt->len + 1].q;
}

gboolean
ft_vrptw_eval_insert (FtVrptwSearch *s, const FtVrptwSol *sol, guint r, guint j, guint u, double *delta)
{
  const FtVrptwRt *rt = &sol->rt[r];
  g_assert (j <= rt->len);
  guint a = rt->node[j], b = rt->node[j + 1];
  *delta = DIST (s, a, u) + DIST (s, u, b) - DIST (s, a, b);
  if (load_of (rt) + NODE (s, u)->demand > cap_of (s, rt))
    return FALSE;
  return rt->fwd[j].ok && rt->bwd[j + 1].ok && join3_ok (s, &rt->fwd[j], u, &rt->bwd[j + 1]);
}

/* Taking positions i..i+k-1 out of a route as one string: the remaining
 * route and the change in its edges (the string's inner edges move with it). */
static FtVrptwSeg
removal (FtVrptwSearch *s, const FtVrptwRt *rt, guint i, guint k, double *delta)
{
  guint a = rt->node[i - 1], f = rt->node[i], l = rt->node[i + k - 1], b = rt->node[i + k];
  *delta = DIST (s, a, b) - DIST (s, a, f) - DIST (s, l, b);   /* the string itself moves whole */
  return ft_vrptw_seg_cat (s, rt->fwd[i - 1], rt->bwd[i + k]);
}

gboolean
ft_vrptw_eval_relocate (FtVrptwSearch *s, const FtVrptwSol *sol, guint a, guint i, guint b, guint j,
                        double *delta)
{
  return ft_vrptw_eval_or_opt (s, sol, a, i, 1, b, j, delta);
}

gboolean
ft_vrptw_eval_exchange (FtVrptwSearch *s, const FtVrptwSol *sol, guint a, guint i, guint b, guint j,
                        double *delta)
{
  const FtVrptwRt *A = &sol->rt[a], *B = &sol->rt[b];
  g_assert (a != b && i >= 1 && i <= A->len && j >= 1 && j <= B->len);
  guint u = A->node[i], v = B->node[j];
  guint ap = A->node[i - 1], an = A->node[i + 1], bp = B->node[j - 1], bn = B->node[j + 1];
  *delta = DIST (s, ap, v) + DIST (s, v, an) - DIST (s, ap, u) - DIST (s, u, an)
         + DIST (s, bp, u) + DIST (s, u, bn) - DIST (s, bp, v) - DIST (s, v, bn);
  int dq = NODE (s, v)->demand - NODE (s, u)->demand;
  if (load_of (A) + dq > cap_of (s, A) || load_of (B) - dq > cap_of (s, B))
    return FALSE;
  FtVrptwSeg x = ft_vrptw_seg_cat (s, ft_vrptw_seg_cat (s, A->fwd[i - 1], ft_vrptw_seg_node (s, v)), A->bwd[i + 1]);
  if (!x.ok)
    return FALSE;
  FtVrptwSeg y = ft_vrptw_seg_cat (s, ft_vrptw_seg_cat (s, B->fwd[j - 1], ft_vrptw_seg_node (s, u)), B->bwd[j + 1]);
  return y.ok;
}

static gboolean
same_end (FtVrptwSearch *s, guint va, guint vb)
{
  const FtVrptwVehicle *x = &s->p->vehicles[va], *y = &s->p->vehicles[vb];
  return x->end_node == y->end_node && x->shift_end == y->shift_end;
}

gboolean
ft_vrptw_eval_two_opt_star (FtVrptwSearch *s, const FtVrptwSol *sol, guint a, guint i, guint b, guint j,
                            double *delta)
{
  const FtVrptwRt *A = &sol->rt[a], *B = &sol->rt[b];
  g_assert (a != b && i <= A->len && j <= B->len);
  *delta = DIST (s, A->node[i], B->node[j + 1]) + DIST (s, B->node[j], A->node[i + 1])
         - DIST (s, A->node[i], A->node[i + 1]) - DIST (s, B->node[j], B->node[j + 1]);
  if (!same_end (s, A->vehicle, B->vehicle))
    return FALSE;
  int qa = A->fwd[i].q + (load_of (B) - B->fwd[j].q);
  int qb = B->fwd[j].q + (load_of (A) - A->fwd[i].q);
  if (qa > cap_of (s, A) || qb > cap_of (s, B))
    return FALSE;
  return ft_vrptw_seg_cat (s, A->fwd[i], B->bwd[j + 1]).ok && ft_vrptw_seg_cat (s, B->fwd[j], A->bwd[i + 1]).ok;
}

gboolean
ft_vrptw_eval_or_opt (FtVrptwSearch *s, const FtVrptwSol *sol, guint a, guint i, guint k, guint b, guint j,
                      double *delta)
{
  const FtVrptwRt *A = &sol->rt[a];
  g_assert (k >= 1 && i >= 1 && i + k - 1 <= A->len);
  FtVrptwSeg str = ft_vrptw_seg_node (s, A->node[i]);
  for (guint x = i + 1; x < i + k; x++)
    str = ft_vrptw_seg_cat (s, str, ft_vrptw_seg_node (s, A->node[x]));
  guint f = A->node[i], l = A->node[i + k - 1];
  if (a != b)
    {
      const FtVrptwRt *B = &sol->rt[b];
      g_assert (j <= B->len);
      double dr;
      FtVrptwSeg rest = removal (s, A, i, k, &dr);
      guint bp = B->node[j], bn = B->node[j + 1];
      *delta = dr + DIST (s, bp, f) + DIST (s, l, bn) - DIST (s, bp, bn);
      if (load_of (B) + str.q > cap_of (s, B))
        return FALSE;
      if (!rest.ok)
        return FALSE;
      return ft_vrptw_seg_cat (s, ft_vrptw_seg_cat (s, B->fwd[j], str), B->bwd[j + 1]).ok;
    }
  /* Same route: j counts positions of the route without the string. */
  g_assert (j <= A->len - k);
  guint jj = j < i ? j : j + k;     /* the position in the full route after which it goes */
  if (jj == i - 1)
    {
      *delta = 0;    /* no change */
      return TRUE;
    }
  double dr;
  removal (s, A, i, k, &dr);
  guint bp = A->node[jj], bn = A->node[jj + 1];
  *delta = dr + DIST (s, bp, f) + DIST (s, l, bn) - DIST (s, bp, bn);
  FtVrptwSeg x;
  if (jj < i)
    {
      /* prefix 0..jj, string, jj+1..i-1, suffix i+k.. */
      x = ft_vrptw_seg_cat (s, A->fwd[jj], str);
      for (guint y = jj + 1; y < i; y++)
        x = ft_vrptw_seg_cat (s, x, ft_vrptw_seg_node (s, A->node[y]));
      x = ft_vrptw_seg_cat (s, x, A->bwd[i + k]);
    }
  else
    {
      /* prefix 0..i-1, i+k..jj, string, suffix jj+1.. */
      x = A->fwd[i - 1];
      for (guint y = i + k; y <= jj; y++)
        x = ft_vrptw_seg_cat (s, x, ft_vrptw_seg_node (s, A->node[y]));
      x = ft_vrptw_seg_cat (s, ft_vrptw_seg_cat (s, x, str), A->bwd[jj + 1]);
    }
  return x.ok;
}

static void
route_stops (const FtVrptwRt *rt, guint *buf)
{
  memcpy (buf, rt->node + 1, rt->len * sizeof *buf);
}

void
ft_vrptw_apply_or_opt (FtVrptwSearch *s, FtVrptwSol *sol, guint a, guint i, guint k, guint b, guint j)
{
  FtVrptwRt *A = &sol->rt[a];
  g_autofree guint *sa = g_new (guint, s->n_stops + 2);
  g_autofree guint *sb = g_new (guint, s->n_stops + 2);
  guint str[64];
  g_assert (k <= G_N_ELEMENTS (str));
  memcpy (str, A->node + i, k * sizeof *str);
  /* A without the string */
  guint na = 0;
  for (guint x = 1; x <= A->len; x++)
    if (x < i || x >= i + k)
      sa[na++] = A->node[x];
  if (a == b)
    {
      guint nb = 0;
      for (guint x = 0; x < j; x++)
        sb[nb++] = sa[x];
      for (guint x = 0; x < k; x++)
        sb[nb++] = str[x];
      for (guint x = j; x < na; x++)
        sb[nb++] = sa[x];
      ft_vrptw_sol_set_route (s, sol, a, sb, nb);
      return;
    }
  FtVrptwRt *B = &sol->rt[b];
  guint nb = 0;
  for (guint x = 1; x <= j; x++)
    sb[nb++] = B->node[x];
  for (guint x = 0; x < k; x++)
    sb[nb++] = str[x];
  for (guint x = j + 1; x <= B->len; x++)
    sb[nb++] = B->node[x];
  ft_vrptw_sol_set_route (s, sol, a, sa, na);
  ft_vrptw_sol_set_route (s, sol, b, sb, nb);
}

void
ft_vrptw_apply_relocate (FtVrptwSearch *s, FtVrptwSol *sol, guint a, guint i, guint b, guint j)
{
  ft_vrptw_apply_or_opt (s, sol, a, i, 1, b, j);
}

void
ft_vrptw_apply_exchange (FtVrptwSearch *s, FtVrptwSol *sol, guint a, guint i, guint b, guint j)
{
  g_autofree guint *sa = g_new (guint, s->n_stops + 2);
  g_autofree guint *sb = g_new (guint, s->n_stops + 2);
  FtVrptwRt *A = &sol->rt[a], *B = &sol->rt[b];
  guint na = A->len, nb = B->len;
  route_stops (A, sa);
  route_stops (B, sb);
  guint tmp = sa[i - 1];
  sa[i - 1] = sb[j - 1];
  sb[j - 1] = tmp;
  ft_vrptw_sol_set_route (s, sol, a, sa, na);
  ft_vrptw_sol_set_route (s, sol, b, sb, nb);
}

void
ft_vrptw_apply_two_opt_star (FtVrptwSearch *s, FtVrptwSol *sol, guint a, guint i, guint b, guint j)
{
  g_autofree guint *sa = g_new (guint, s->n_stops + 2);
  g_autofree guint *sb = g_new (guint, s->n_stops + 2);
  FtVrptwRt *A = &sol->rt[a], *B = &sol->rt[b];
  guint na = 0, nb = 0;
  for (guint x = 1; x <= i; x++)
    sa[na++] = A->node[x];
  for (guint x = j + 1; x <= B->len; x++)
    sa[na++] = B->node[x];
  for (guint x = 1; x <= j; x++)
    sb[nb++] = B->node[x];
  for (guint x = i + 1; x <= A->len; x++)
    sb[nb++] = A->node[x];
  ft_vrptw_sol_set_route (s, sol, a, sa, na);
  ft_vrptw_sol_set_route (s, sol, b, sb, nb);
}

/* ---- local search ------------------------------------------------------- */

#define LS_NEIGHBOURS 30

/* One improving move around stop u (first improvement); TRUE if applied. */
static gboolean
improve_around (FtVrptwSearch *s, FtVrptwSol *sol, guint u)
{
  const double eps = 1e-9;
  guint a = sol->route_of[u];
  if (a == FT_VRPTW_NONE)
    return FALSE;
  guint i = sol->pos_of[u];
  guint nn = MIN (LS_NEIGHBOURS, s->n_stops);
  const guint *nb = s->nbr + (gsize) u * s->n_stops;
  for (guint q = 0; q < nn; q++)
    {
      guint v = nb[q];
      if (v == u)
        continue;
      guint b = sol->route_of[v];
      if (b == FT_VRPTW_NONE)
        continue;
      guint j = sol->pos_of[v];
      double delta;
      if (b != a)
        {
          /* relocate / or-opt u.. after v or before v */
          for (guint k = 1; k <= 3 && i + k - 1 <= sol->rt[a].len; k++)
            for (guint side = 0; side < 2; side++)
              {
                guint jj = side ? j - 1 : j;
                if (ft_vrptw_eval_or_opt (s, sol, a, i, k, b, jj, &delta) && delta < -eps)
                  {
                    double before = sol->dist;
                    ft_vrptw_apply_or_opt (s, sol, a, i, k, b, jj);
                    if (g_getenv ("VRPTW_DEBUG") && fabs (sol->dist - before - delta) > 1e-6)
                      g_printerr ("inter or-opt i=%u k=%u j=%u: delta %g real %g\n", i, k, jj, delta, sol->dist - before);
                    return TRUE;
                  }
              }
          if (ft_vrptw_eval_exchange (s, sol, a, i, b, j, &delta) && delta < -eps)
            {
              ft_vrptw_apply_exchange (s, sol, a, i, b, j);
              return TRUE;
            }
          /* 2-opt*: u followed by v's successor, or v followed by u's successor */
          if (ft_vrptw_eval_two_opt_star (s, sol, a, i, b, j - 1, &delta) && delta < -eps)
            {
              ft_vrptw_apply_two_opt_star (s, sol, a, i, b, j - 1);
              return TRUE;
            }
          if (ft_vrptw_eval_two_opt_star (s, sol, a, i - 1, b, j, &delta) && delta < -eps)
            {
              ft_vrptw_apply_two_opt_star (s, sol, a, i - 1, b, j);
              return TRUE;
            }
        }
      else
        {
          /* or-opt inside the route: u.. next to v */
          guint len = sol->rt[a].len;
          for (guint k = 1; k <= 3 && i + k - 1 <= len; k++)
            {
              if (j >= i && j < i + k)
                break;
              guint jv = j < i ? j : j - k;   /* v's position without the string */
              for (guint side = 0; side < 2; side++)
                {
                  guint jj = side ? jv - 1 : jv;
                  if (ft_vrptw_eval_or_opt (s, sol, a, i, k, a, jj, &delta) && delta < -eps)
                    {
                      ft_vrptw_apply_or_opt (s, sol, a, i, k, a, jj);
                      return TRUE;
                    }
                }
            }
        }
    }
  return FALSE;
}

void
ft_vrptw_local_search (FtVrptwSearch *s, FtVrptwSol *sol)
{
  gboolean improved = TRUE;
  guint rounds = 0;
  while (improved && rounds++ < 1000)
    {
      improved = FALSE;
      for (guint k = 0; k < s->n_stops; k++)
        while (improve_around (s, sol, s->stops[k]))
          improved = TRUE;
    }
}

/* ---- ruin: adjacent string removal (SISR) ------------------------------- */

#define SISR_CBAR 10.0
#define SISR_LMAX 10.0

static void
remove_positions (FtVrptwSearch *s, FtVrptwSol *sol, guint r, guint from, guint count, guint keep_at,
                  guint keep)
{
  FtVrptwRt *rt = &sol->rt[r];
  guint w = 1;
  for (guint x = 1; x <= rt->len; x++)
    {
      gboolean in = x >= from && x < from + count && !(x >= keep_at && x < keep_at + keep);
      if (in)
        {
          s->removed[s->n_removed++] = rt->node[x];
          sol->route_of[rt->node[x]] = FT_VRPTW_NONE;
        }
      else
        rt->node[w++] = rt->node[x];
    }
  rt->len = w - 1;
  rt->node[w] = s->p->vehicles[rt->vehicle].end_node;
  ft_vrptw_sol_update (s, sol, r);
}

void
ft_vrptw_ruin (FtVrptwSearch *s, FtVrptwSol *sol)
{
  s->n_removed = 0;
  guint assigned = s->n_stops - sol->n_absent;
  if (assigned == 0 || sol->used == 0)
    return;
  double avg = (double) assigned / sol->used;
  double ls_max = MIN (SISR_LMAX, avg);
  double ks_max = 4.0 * SISR_CBAR / (1.0 + ls_max) - 1.0;
  guint ks = (guint) (1.0 + ft_vrptw_rand (s) * ks_max);
  /* A random routed stop. Bounded: should the count of routed stops ever
   * disagree with route_of, this must not spin (a fuzzed Solomon file
   * made it loop); after 64 misses take the first routed stop, or ruin
   * nothing. */
  guint seed = FT_VRPTW_NONE;
  for (guint tries = 0; tries < 64 && seed == FT_VRPTW_NONE; tries++)
    {
      guint c = s->stops[rand_below (s, s->n_stops)];
      if (sol->route_of[c] != FT_VRPTW_NONE)
        seed = c;
    }
  for (guint i = 0; i < s->n_stops && seed == FT_VRPTW_NONE; i++)
    if (sol->route_of[s->stops[i]] != FT_VRPTW_NONE)
      seed = s->stops[i];
  if (seed == FT_VRPTW_NONE)
    return;
  if (++s->stamp_now == 0)
    {
      memset (s->stamp, 0, s->p->n_vehicles * sizeof *s->stamp);
      s->stamp_now = 1;
    }
  guint ruined = 0;
  const guint *nb = s->nbr + (gsize) seed * s->n_stops;
  for (guint q = 0; q < s->n_stops && ruined < ks; q++)
    {
      guint c = nb[q];
      guint r = sol->route_of[c];
      if (r == FT_VRPTW_NONE || s->stamp[r] == s->stamp_now)
        continue;
      FtVrptwRt *rt = &sol->rt[r];
      guint len = rt->len;
      guint l_max = (guint) MIN ((double) len, ls_max);
      guint l = 1 + rand_below (s, MAX (l_max, 1));
      l = MIN (l, len);
      guint pc = sol->pos_of[c];
      if (l < len && ft_vrptw_rand (s) < 0.5)
        {
          /* split string: l + m positions, m of them kept */
          guint m_max = len - l, m = 1;
          while (m < m_max && ft_vrptw_rand (s) > 0.5)
            m++;
          guint tot = l + m;
          guint lo = pc > tot - 1 ? pc - (tot - 1) : 1, hi = MIN (pc, len - tot + 1);
          guint from = lo + rand_below (s, hi - lo + 1);
          guint keep_at = from + rand_below (s, l + 1);
          remove_positions (s, sol, r, from, tot, keep_at, m);
        }
      else
        {
          guint lo = pc > l - 1 ? pc - (l - 1) : 1, hi = MIN (pc, len - l + 1);
          guint from = lo + rand_below (s, hi - lo + 1);
          remove_positions (s, sol, r, from, l, 0, 0);
        }
      s->stamp[r] = s->stamp_now;
      ruined++;
    }
}

/* ---- recreate: blink insertion ------------------------------------------ */

typedef struct { double key; guint node; } OrderKey;

static int
cmp_order (const void *a, const void *b)
{
  const OrderKey *x = a, *y = b;
  if (x->key != y->key)
    return x->key > y->key ? -1 : 1;
  return x->node < y->node ? -1 : x->node > y->node;
}

void
ft_vrptw_recreate (FtVrptwSearch *s, FtVrptwSol *sol, gboolean allow_new, double blink)
{
  guint n = 0;
  for (guint k = 0; k < s->n_removed; k++)
    s->order[n++] = s->removed[k];
  for (guint k = 0; k < sol->n_absent; k++)
    s->order[n++] = sol->absent[k];
  sol->n_absent = 0;
  s->n_removed = 0;

  /* SISR's orders: random 4, demand 4, far 2, close 1 */
  double w = ft_vrptw_rand (s) * 11;
  OrderKey *keys = g_newa (OrderKey, MAX (n, 1));
  for (guint k = 0; k < n; k++)
    {
      guint u = s->order[k];
      double key = w < 4 ? ft_vrptw_rand (s)
                 : w < 8 ? NODE (s, u)->demand + 1e-6 * ft_vrptw_rand (s)
                 : w < 10 ? s->far[u] : -s->far[u];
      keys[k] = (OrderKey) { key, u };
    }
  if (n > 1)
    qsort (keys, n, sizeof *keys, cmp_order);

  guint nr = sol->n_routes;
  for (guint r = 0; r < nr; r++)
    s->route_perm[r] = r;
  for (guint k = 0; k < n; k++)
    {
      guint u = keys[k].node;
      int q = NODE (s, u)->demand;
      /* routes in random order */
      for (guint r = nr; r > 1; r--)
        {
          guint x = rand_below (s, r), tmp = s->route_perm[r - 1];
          s->route_perm[r - 1] = s->route_perm[x];
          s->route_perm[x] = tmp;
        }
      double best = G_MAXDOUBLE;
      guint br = FT_VRPTW_NONE, bj = 0;
      for (guint x = 0; x < nr; x++)
        {
          guint r = s->route_perm[x];
          FtVrptwRt *rt = &sol->rt[r];
          if (rt->len == 0 || load_of (rt) + q > cap_of (s, rt))
            continue;
          for (guint j = 0; j <= rt->len; j++)
            {
              guint a = rt->node[j], b = rt->node[j + 1];
              double delta = DIST (s, a, u) + DIST (s, u, b) - DIST (s, a, b);
              if (delta >= best)
                continue;
              if (blink > 0 && ft_vrptw_rand (s) < blink)
                continue;
              /* quick reject: arrival at u after its due */
              if (rt->fwd[j].ok && rt->fwd[j].E + rt->fwd[j].D + TIME (s, a, u) > NODE (s, u)->due + FT_VRPTW_EPS)
                break;   /* later positions only arrive later */
              if (!join3_ok (s, &rt->fwd[j], u, &rt->bwd[j + 1]))
                continue;
              best = delta;
              br = r;
              bj = j;
            }
        }
      if (br == FT_VRPTW_NONE && allow_new)
        for (guint r = 0; r < nr; r++)
          {
            FtVrptwRt *rt = &sol->rt[r];
            double delta;
            if (rt->len == 0 && ft_vrptw_eval_insert (s, sol, r, 0, u, &delta) && delta < best)
              {
                best = delta;
                br = r;
                bj = 0;
              }
          }
      if (br == FT_VRPTW_NONE)
        {
          sol->absent[sol->n_absent++] = u;
          continue;
        }
      FtVrptwRt *rt = &sol->rt[br];
      memmove (rt->node + bj + 2, rt->node + bj + 1, (rt->len + 1 - bj) * sizeof *rt->node);
      rt->node[bj + 1] = u;
      rt->len++;
      ft_vrptw_sol_update (s, sol, br);
    }
}
