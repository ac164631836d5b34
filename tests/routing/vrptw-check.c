/* vrptw-check.c — the independent VRPTW solution checker (see the header). */
#include "vrptw-check.h"

#include <math.h>

#define TOL 1e-6

static double
leg (const FtVrptwProblem *p, const double *m, guint a, guint b)
{
  if (m == p->dist && p->x != NULL)
    return hypot (p->x[a] - p->x[b], p->y[a] - p->y[b]);
  return m[(gsize) a * p->n_nodes + b];
}

static gboolean
replay (const FtVrptwProblem *p, guint v, const guint *stops, guint n, double *distance, char **why)
{
  const FtVrptwVehicle *veh = &p->vehicles[v];
  const double *tm = p->time ? p->time : p->dist;
  const FtVrptwNode *start = &p->nodes[veh->start_node];
  double t = veh->shift_start > start->ready ? veh->shift_start : start->ready;
  if (t > start->due + TOL || t > veh->shift_end + TOL)
    {
      *why = g_strdup_printf ("vehicle %u cannot leave within its shift", v);
      return FALSE;
    }
  t += start->service;
  double dist = 0;
  long load = 0;
  guint prev = veh->start_node;
  for (guint i = 0; i < n; i++)
    {
      guint x = stops[i];
      const FtVrptwNode *nd = &p->nodes[x];
      double arrive = t + leg (p, tm, prev, x);
      double begin = arrive > nd->ready ? arrive : nd->ready;
      if (begin > nd->due + TOL)
        {
          *why = g_strdup_printf ("vehicle %u reaches stop %u at %.4f, after its due %g", v, nd->id, begin, nd->due);
          return FALSE;
        }
      t = begin + nd->service;
      load += nd->demand;
      dist += leg (p, p->dist, prev, x);
      prev = x;
    }
  if (load > veh->capacity)
    {
      *why = g_strdup_printf ("vehicle %u carries %ld, above its capacity %d", v, load, veh->capacity);
      return FALSE;
    }
  if (n > 0)
    {
      const FtVrptwNode *end = &p->nodes[veh->end_node];
      double back = t + leg (p, tm, prev, veh->end_node);
      double due = end->due < veh->shift_end ? end->due : veh->shift_end;
      if (back > due + TOL)
        {
          *why = g_strdup_printf ("vehicle %u is back at %.4f, after %g", v, back, due);
          return FALSE;
        }
      dist += leg (p, p->dist, prev, veh->end_node);
    }
  *distance = dist;
  return TRUE;
}

gboolean
vrptw_check_route (const FtVrptwProblem *p, guint v, const guint *stops, guint n, double *distance)
{
  g_autofree char *why = NULL;
  return replay (p, v, stops, n, distance, &why);
}

gboolean
vrptw_check_solution (const FtVrptwProblem *p, const FtVrptwSolution *s, gboolean allow_unassigned,
                      double *distance, char **why)
{
  g_autofree guint *count = g_new0 (guint, p->n_nodes);
  g_autofree guint8 *veh_used = g_new0 (guint8, p->n_vehicles + 1);
  double total = 0;
  *why = NULL;
  for (guint r = 0; r < s->n_routes; r++)
    {
      const FtVrptwRoute *rt = &s->routes[r];
      if (rt->vehicle >= p->n_vehicles || veh_used[rt->vehicle]++)
        {
          *why = g_strdup_printf ("route %u: vehicle %u unknown or used twice", r + 1, rt->vehicle);
          return FALSE;
        }
      for (guint i = 0; i < rt->n_stops; i++)
        {
          if (rt->stops[i] >= p->n_nodes || !p->nodes[rt->stops[i]].is_stop)
            {
              *why = g_strdup_printf ("route %u visits node %u, which is not a stop", r + 1, rt->stops[i]);
              return FALSE;
            }
          count[rt->stops[i]]++;
        }
      double d;
      if (!replay (p, rt->vehicle, rt->stops, rt->n_stops, &d, why))
        return FALSE;
      total += d;
    }
  for (guint k = 0; k < s->n_unassigned; k++)
    {
      if (!allow_unassigned || s->unassigned[k] >= p->n_nodes)
        {
          *why = g_strdup_printf ("%u stops unassigned", s->n_unassigned);
          return FALSE;
        }
      count[s->unassigned[k]]++;
    }
  for (guint i = 0; i < p->n_nodes; i++)
    if (p->nodes[i].is_stop && count[i] != 1)
      {
        *why = g_strdup_printf ("stop %u is served %u times", p->nodes[i].id, count[i]);
        return FALSE;
      }
  *distance = total;
  return TRUE;
}
