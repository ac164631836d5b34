/* bench-vrptw-rolling.c — one rolling re-optimisation cycle at operator
 * scale: 10,000 vehicles in an 8 x 8 km city, 50 vans (20 packs each, an
 * 8-hour shift), 300 planned battery-swap tasks (some with deadlines); an
 * hour into the day the vans have started some stops, and the vehicles
 * whose battery fell below the threshold since become new tasks. The cycle
 * (scan the fleet, build the matrix, re-optimise with started stops frozen)
 * is timed; the result is checked by the independent checker.
 *
 *   bench-vrptw-rolling [--vehicles N] [--vans N] [--tasks N] [--new N] [--limit-ms N] [--seed S]
 */
#include "ft-config.h"
#include "ft-vrptw.h"
#include "vrptw-check.h"

#include <math.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

static double
cpu_ms (void)
{
  struct timespec ts;
  clock_gettime (CLOCK_PROCESS_CPUTIME_ID, &ts);
  return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

#define SPEED 6.0           /* m/s, a van in town */
#define SHIFT (8 * 3600.0)

static double
urand (guint64 *st)
{
  guint64 z = (*st += 0x9E3779B97F4A7C15ull);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  z ^= z >> 31;
  return (double) (z >> 11) / 9007199254740992.0;
}

static FtVrptwProblem *
build (guint n_tasks, guint n_vans, const guint *task_vehicle, const double *vx, const double *vy,
       const double *due, guint n_active)
{
  FtVrptwProblem *p = ft_vrptw_problem_new (n_tasks + 1, n_vans);
  ft_vrptw_problem_split_time (p);
  p->x = g_new (double, n_tasks + 1);
  p->y = g_new (double, n_tasks + 1);
  p->x[0] = p->y[0] = 4000;
  p->nodes[0] = (FtVrptwNode) { 0, SHIFT, 0, 0, FALSE, 0 };
  for (guint i = 1; i <= n_tasks; i++)
    {
      guint v = task_vehicle[i - 1];
      p->x[i] = vx[v];
      p->y[i] = vy[v];
      p->nodes[i] = (FtVrptwNode) { 0, due[i - 1], 300, 1, i <= n_active, v };
    }
  guint n = p->n_nodes;
  for (guint i = 0; i < n; i++)
    for (guint j = 0; j < n; j++)
      {
        double d = hypot (p->x[i] - p->x[j], p->y[i] - p->y[j]) * 1.3;   /* street detour */
        p->dist[(gsize) i * n + j] = d;
        p->time[(gsize) i * n + j] = d / SPEED;
      }
  for (guint v = 0; v < n_vans; v++)
    p->vehicles[v] = (FtVrptwVehicle) { 20, 0, 0, 0, SHIFT };
  return p;
}

int
main (int argc, char **argv)
{
  gint n_vehicles = 10000, n_vans = 50, n_tasks = 300, n_new = 60, limit = 60, seed = 1;
  GOptionEntry entries[] = {
    { "vehicles", 0, 0, G_OPTION_ARG_INT, &n_vehicles, "Fleet size (default 10000)", "N" },
    { "vans", 0, 0, G_OPTION_ARG_INT, &n_vans, "Vans (default 50)", "N" },
    { "tasks", 0, 0, G_OPTION_ARG_INT, &n_tasks, "Planned tasks (default 300)", "N" },
    { "new", 0, 0, G_OPTION_ARG_INT, &n_new, "New tasks at most (default 60)", "N" },
    { "limit-ms", 0, 0, G_OPTION_ARG_INT, &limit, "Improvement time in the cycle, thread CPU ms (default 60)", "MS" },
    { "seed", 0, 0, G_OPTION_ARG_INT, &seed, "Seed (default 1)", "S" },
    { NULL }
  };
  g_autoptr(GOptionContext) ctx = g_option_context_new ("— one rolling VRPTW re-optimisation cycle");
  g_option_context_add_main_entries (ctx, entries, NULL);
  if (!g_option_context_parse (ctx, &argc, &argv, NULL) || n_vehicles < 100 || n_vans < 1 || n_tasks < 1
      || n_new < 0 || n_tasks + n_new >= FT_VRPTW_MAX_NODES || n_tasks + n_new > n_vehicles || limit < 1)
    {
      fprintf (stderr, "bench-vrptw-rolling: bad options\n");
      return 2;
    }
  guint64 st = (guint64) seed;
  g_autofree double *vx = g_new (double, n_vehicles), *vy = g_new (double, n_vehicles);
  g_autofree double *battery = g_new (double, n_vehicles);
  g_autofree guint8 *tasked = g_new0 (guint8, n_vehicles);
  for (gint v = 0; v < n_vehicles; v++)
    {
      vx[v] = urand (&st) * 8000;
      vy[v] = urand (&st) * 8000;
      battery[v] = 0.2 + urand (&st) * 0.8;
    }
  guint total = n_tasks + n_new;
  g_autofree guint *task_vehicle = g_new (guint, total);
  g_autofree double *due = g_new (double, total);
  for (gint k = 0; k < n_tasks; k++)
    {
      guint v;
      do
        v = (guint) (urand (&st) * n_vehicles);
      while (tasked[v]);
      tasked[v] = 1;
      battery[v] = 0.05;
      task_vehicle[k] = v;
      due[k] = urand (&st) < 0.3 ? 3600 * (2 + urand (&st) * 6) : SHIFT - 600;
    }
  /* The morning plan (not timed). */
  g_autoptr(FtVrptwProblem) p1 = build (total, n_vans, task_vehicle, vx, vy, due, n_tasks);
  FtVrptwParams params;
  ft_vrptw_params_init (&params);
  params.time_limit_ms = 2000;
  params.minimise_routes = FALSE;
  params.seed = (guint64) seed;
  FtVrptwStats stats;
  g_autoptr(GError) error = NULL;
  g_autoptr(FtVrptwSolution) plan = ft_vrptw_reoptimise (p1, &(FtVrptwSolution) { 0 },
                                                        (guint[4000]) { 0 }, &params, &stats, &error);
  if (plan == NULL)
    {
      fprintf (stderr, "bench-vrptw-rolling: %s\n", error->message);
      return 1;
    }
  printf ("# morning plan: %u tasks on %u vans, %u unassigned, %.1f km\n", n_tasks, plan->n_routes,
          plan->n_unassigned, plan->distance / 1000);

  /* An hour in: stops whose service has started are frozen. */
  const double now = 3600;
  g_autofree guint *n_started = g_new0 (guint, n_vans);
  guint frozen = 0;
  for (guint r = 0; r < plan->n_routes; r++)
    {
      const FtVrptwRoute *rt = &plan->routes[r];
      double t = 0;
      guint prev = 0;
      for (guint i = 0; i < rt->n_stops; i++)
        {
          guint x = rt->stops[i];
          t = MAX (t + p1->time[(gsize) prev * p1->n_nodes + x], p1->nodes[x].ready);
          if (t > now)
            break;
          n_started[rt->vehicle]++;
          frozen++;
          t += p1->nodes[x].service;
          prev = x;
        }
    }

  /* The timed cycle: batteries drained; scan the fleet for new tasks,
   * build the matrix, re-optimise. */
  for (gint v = 0; v < n_vehicles; v++)
    battery[v] -= urand (&st) * 0.12;
  gint64 t0 = g_get_monotonic_time ();
  double c0 = cpu_ms ();
  guint added = 0;
  for (gint v = 0; v < n_vehicles && added < (guint) n_new; v++)
    if (!tasked[v] && battery[v] < 0.2)
      {
        tasked[v] = 1;
        task_vehicle[n_tasks + added] = v;
        due[n_tasks + added] = SHIFT - 600;
        added++;
      }
  g_autoptr(FtVrptwProblem) p2 = build (n_tasks + added, n_vans, task_vehicle, vx, vy, due, n_tasks + added);
  gint64 t1 = g_get_monotonic_time ();
  params.time_limit_ms = limit;
  params.cpu_clock = TRUE;    /* the improvement gets `limit` ms of CPU even on a loaded machine */
  g_autoptr(FtVrptwSolution) next = ft_vrptw_reoptimise (p2, plan, n_started, &params, &stats, &error);
  gint64 t2 = g_get_monotonic_time ();
  double c2 = cpu_ms ();
  if (next == NULL)
    {
      fprintf (stderr, "bench-vrptw-rolling: %s\n", error->message);
      return 1;
    }
  /* insertion only (one iteration), for comparison */
  FtVrptwParams quick = params;
  quick.time_limit_ms = 0;
  quick.max_iterations = 1;
  gint64 t3 = g_get_monotonic_time ();
  g_autoptr(FtVrptwSolution) inserted = ft_vrptw_reoptimise (p2, plan, n_started, &quick, NULL, &error);
  gint64 t4 = g_get_monotonic_time ();

  double dist;
  g_autofree char *why = NULL;
  gboolean ok = vrptw_check_solution (p2, next, TRUE, &dist, &why);
  for (guint r = 0; ok && r < plan->n_routes; r++)
    for (guint q = 0; q < next->n_routes; q++)
      if (next->routes[q].vehicle == plan->routes[r].vehicle
          && memcmp (next->routes[q].stops, plan->routes[r].stops, n_started[plan->routes[r].vehicle] * sizeof (guint)))
        {
          ok = FALSE;
          why = g_strdup ("a started stop moved");
        }
  g_autofree char *load = NULL;
  g_file_get_contents ("/proc/loadavg", &load, NULL, NULL);
  printf ("# fleet %d vehicles, %d vans, %u tasks (%u started, frozen), %u new\n", n_vehicles, n_vans,
          n_tasks + added, frozen, added);
  printf ("cycle: scan + matrix %.1f ms, re-optimise %.1f ms (%" G_GUINT64_FORMAT " iterations), total %.1f ms wall, %.1f ms CPU\n",
          (t1 - t0) / 1000.0, (t2 - t1) / 1000.0, stats.iterations, (t2 - t0) / 1000.0, c2 - c0);
  printf ("insertion only: %.1f ms, %.1f km, %u unassigned; after re-optimisation: %.1f km, %u unassigned\n",
          (t4 - t3) / 1000.0, inserted->distance / 1000, inserted->n_unassigned, next->distance / 1000,
          next->n_unassigned);
  printf ("checker: %s%s%s\n# load average: %s", ok ? "feasible, started stops in place" : "FAILED: ",
          ok ? "" : why, "", load ? load : "?\n");
  return ok ? 0 : 1;
}
