/* bench-ops-plan.c — rolling route planning (src/ops/ft-ops-plan) at
 * operator scale: a fleet of 10,000 vehicles in an 8 x 8 km city (real
 * FtFleet, FtOps), 50 vans with 20 packs and 8-hour shifts, swap tasks for
 * the vehicles under 15 % charge. Each cycle: batteries drain, new swap
 * tasks open, every van starts its first stop (kept), and one planning
 * cycle (candidates, travel matrix, re-optimisation, applying the plan to
 * the queue) is timed. Prints each cycle and the median.
 *
 *   bench-ops-plan [--vehicles N] [--vans N] [--cycles N] [--limit-ms N] [--max-tasks N]
 *                  [--horizon-min N] [--seed S] [--urgent-below PCT]
 *
 * --urgent-below PCT marks the swaps of vehicles under PCT % charge urgent
 * (planned first, as the simulator's route_urgent_soc does; 25 makes every
 * swap urgent, the simulator's default).
 */
#include "ft-config.h"
#include "ft-ops-plan.h"

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

static double
urand (guint64 *st)
{
  guint64 z = (*st += 0x9E3779B97F4A7C15ull);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  z ^= z >> 31;
  return (double) (z >> 11) / 9007199254740992.0;
}

static double
travel (FtLatLon a, FtLatLon b, double *metres, gpointer data)
{
  *metres = ft_distance_fast_m (a, b) * 1.3;   /* street detour */
  return *metres / 6.0;
}

typedef struct {
  const double *battery;
  double        below;
} Urgent;

static gboolean
is_urgent (const FtTask *task, gpointer data)
{
  const Urgent *u = data;
  return task->kind == FT_TASK_BATTERY_SWAP && task->vehicle >= 0 && u->battery[task->vehicle] < u->below;
}

static int
cmp_double (const void *a, const void *b)
{
  double x = *(const double *) a, y = *(const double *) b;
  return x < y ? -1 : x > y;
}

int
main (int argc, char **argv)
{
  gint n_vehicles = 10000, n_vans = 50, cycles = 7, limit = 60, max_tasks = 300, horizon = 60, seed = 1;
  double urgent_below = 0;
  GOptionEntry entries[] = {
    { "vehicles", 0, 0, G_OPTION_ARG_INT, &n_vehicles, "Fleet size (default 10000)", "N" },
    { "vans", 0, 0, G_OPTION_ARG_INT, &n_vans, "Vans (default 50)", "N" },
    { "cycles", 0, 0, G_OPTION_ARG_INT, &cycles, "Cycles timed (default 7)", "N" },
    { "limit-ms", 0, 0, G_OPTION_ARG_INT, &limit, "Search time per cycle, thread CPU ms (default 60)", "MS" },
    { "max-tasks", 0, 0, G_OPTION_ARG_INT, &max_tasks, "Open tasks considered at most (default 300)", "N" },
    { "horizon-min", 0, 0, G_OPTION_ARG_INT, &horizon, "Routes hold this much work (default 60 min)", "MIN" },
    { "seed", 0, 0, G_OPTION_ARG_INT, &seed, "Seed (default 1)", "S" },
    { "urgent-below", 0, 0, G_OPTION_ARG_DOUBLE, &urgent_below, "Swaps under PCT % charge are urgent (default 0: none)", "PCT" },
    { NULL }
  };
  g_autoptr (GOptionContext) ctx = g_option_context_new ("— rolling van-route planning cycles");
  g_option_context_add_main_entries (ctx, entries, NULL);
  if (!g_option_context_parse (ctx, &argc, &argv, NULL) || n_vehicles < 100 || n_vans < 1 || n_vans > 1000
      || cycles < 1 || cycles > 1000 || limit < 1 || max_tasks < 1 || horizon < 1 || !(urgent_below >= 0)
      || urgent_below > 100)
    {
      fprintf (stderr, "bench-ops-plan: bad options\n");
      return 2;
    }
  guint64 st = (guint64) seed;
  FtLatLon origin = { 52.5, 13.4 };
  g_autoptr (FtFleet) fleet = ft_fleet_new (1, NULL);
  g_autoptr (FtAccounts) acc = ft_accounts_new (1, NULL);
  g_autofree double *battery = g_new (double, n_vehicles);
  for (gint v = 0; v < n_vehicles; v++)
    {
      ft_fleet_add_vehicle (fleet, FT_KIND_SCOOTER, ft_latlon_offset (origin, urand (&st) * 8000, urand (&st) * 8000),
                            NULL, 0);
      battery[v] = 0.15 + urand (&st) * 0.85;
    }
  g_autoptr (FtOps) ops = ft_ops_new (fleet, acc, NULL);
  g_autofree FtOpsVan *vans = g_new0 (FtOpsVan, n_vans);
  g_autoptr (GPtrArray) routes = g_ptr_array_new_with_free_func ((GDestroyNotify) g_array_unref);
  for (gint i = 0; i < n_vans; i++)
    {
      FtLatLon depot = ft_latlon_offset (origin, 2000 + 4000 * (i % 2), 2000 + 4000 * ((i / 2) % 2));
      vans[i] = (FtOpsVan) { (guint) ft_accounts_create (acc, FT_ROLE_FIELD, "F", NULL, 0, NULL), depot, 0,
                             8 * FT_HOUR, depot, 20, NULL, 0, 0 };
      g_ptr_array_add (routes, g_array_new (FALSE, FALSE, sizeof (gint64)));
    }
  FtOpsPlanParams p;
  ft_ops_plan_params_init (&p);
  p.travel = travel;
  p.max_tasks = (guint) max_tasks;
  p.horizon = (FtTime) horizon * FT_MINUTE;
  p.search.max_iterations = 0;
  p.search.time_limit_ms = limit;
  p.search.cpu_clock = TRUE;
  p.search.seed = (guint64) seed;
  Urgent urgent = { battery, urgent_below / 100.0 };
  if (urgent_below > 0)
    {
      p.urgent = is_urgent;
      p.user_data = &urgent;
    }
  g_autofree double *wall = g_new (double, cycles);
  g_autofree double *cpu = g_new (double, cycles);
  FtTime now = 0;
  FtLatLon none = { 0, 0 };
  for (gint c = 0; c < cycles; c++)
    {
      /* between cycles: batteries drain, new tasks open, vans move on to
       * their first stop (started, kept) */
      guint fresh = 0;
      for (gint v = 0; v < n_vehicles; v++)
        {
          battery[v] -= urand (&st) * 0.01;   /* about 60 new tasks per cycle */
          if (battery[v] < 0.15 && ft_ops_open_for (ops, (guint) v, FT_TASK_BATTERY_SWAP) < 0
              && ft_ops_create (ops, FT_TASK_BATTERY_SWAP, v, none, -1, 1, -1, now, NULL) >= 0)
            fresh++;
        }
      for (gint i = 0; i < n_vans; i++)
        {
          GArray *r = g_ptr_array_index (routes, i);
          vans[i].at = now;
          vans[i].route = (const gint64 *) r->data;
          vans[i].n_route = r->len;
          vans[i].n_started = MIN (r->len, 1u);
        }
      double c0 = cpu_ms ();
      gint64 t0 = g_get_monotonic_time ();
      g_autoptr (GError) error = NULL;
      p.now = now;
      g_autoptr (FtOpsPlan) plan = ft_ops_plan_routes (ops, vans, (guint) n_vans, &p, &error);
      if (plan == NULL || !ft_ops_plan_apply (ops, vans, (guint) n_vans, plan, now, &error))
        {
          fprintf (stderr, "bench-ops-plan: %s\n", error->message);
          return 1;
        }
      wall[c] = (g_get_monotonic_time () - t0) / 1000.0;
      cpu[c] = cpu_ms () - c0;
      guint planned = 0, kept = 0;
      for (gint i = 0; i < n_vans; i++)
        {
          GArray *r = g_ptr_array_index (routes, i);
          const FtOpsRoute *pr = &plan->routes[i];
          if (r->len > 0 && (pr->tasks->len == 0 || g_array_index (pr->tasks, gint64, 0) != g_array_index (r, gint64, 0)))
            {
              fprintf (stderr, "bench-ops-plan: van %d lost its started stop\n", i);
              return 1;
            }
          kept += r->len > 0;
          planned += pr->tasks->len;
          g_array_set_size (r, 0);
          g_array_append_vals (r, pr->tasks->data, pr->tasks->len);
        }
      printf ("cycle %d: %u new tasks, %u planned (%u started kept), %u unplanned: %.1f ms wall, %.1f ms CPU, "
              "%" G_GUINT64_FORMAT " iterations\n", c + 1, fresh, planned, kept, plan->unplanned->len, wall[c], cpu[c],
              plan->stats.iterations);
      /* ten minutes later the first stop of each route is done */
      now += 10 * FT_MINUTE;
      for (gint i = 0; i < n_vans; i++)
        {
          GArray *r = g_ptr_array_index (routes, i);
          if (r->len == 0)
            continue;
          gint64 id = g_array_index (r, gint64, 0);
          const FtTask *t = ft_ops_get (ops, id);
          ft_ops_start (ops, id, vans[i].staff, now, NULL);
          ft_ops_complete (ops, id, vans[i].staff, now, NULL);
          battery[t->vehicle] = 1.0;
          vans[i].pos = ft_fleet_get_vehicle (fleet, (guint) t->vehicle)->pos;
          vans[i].packs = MAX (vans[i].packs - 1, 0);
          g_array_remove_index (r, 0);
        }
    }
  qsort (wall, (size_t) cycles, sizeof *wall, cmp_double);
  qsort (cpu, (size_t) cycles, sizeof *cpu, cmp_double);
  g_autofree char *load = NULL;
  g_file_get_contents ("/proc/loadavg", &load, NULL, NULL);
  printf ("# %d vehicles, %d vans, up to %d open tasks considered, %d-minute horizon, search %d ms CPU per cycle\n",
          n_vehicles, n_vans, max_tasks, horizon, limit);
  printf ("median cycle: %.1f ms wall, %.1f ms CPU (target < 200 ms)\n# load average: %s", wall[cycles / 2],
          cpu[cycles / 2], load ? load : "?\n");
  return 0;
}
