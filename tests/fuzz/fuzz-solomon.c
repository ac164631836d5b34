/* fuzz-solomon.c — libFuzzer harness for Solomon VRPTW instances
 * (ft_vrptw_solomon_parse in src/routing/ft-vrptw.c). An instance that
 * parses has ordered windows, non-negative demands, a depot at node 0 and a
 * finite Euclidean matrix; a small one is solved for a few iterations and
 * the solution serves every customer once, or the instance is reported
 * infeasible.
 */
#include "fuzz-common.h"
#include "ft-vrptw.h"

#include <math.h>

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  fuzz_init_glib ();
  g_autoptr(GError) error = NULL;
  g_autoptr(FtVrptwProblem) p = ft_vrptw_solomon_parse ((const char *) data, size, "fuzz.txt", &error);
  if (p == NULL)
    {
      g_assert (error != NULL && error->domain == FT_VRPTW_ERROR);
      g_assert (g_str_has_prefix (error->message, "fuzz.txt:"));
      fuzz_verbose ("solomon", error);
      return 0;
    }
  g_assert (p->n_nodes >= 2 && !p->nodes[0].is_stop && p->n_vehicles >= 1);
  for (guint i = 0; i < p->n_nodes; i++)
    g_assert (p->nodes[i].ready <= p->nodes[i].due && p->nodes[i].demand >= 0 && p->nodes[i].service >= 0);
  g_assert (ft_vrptw_problem_validate (p, NULL));
  if (p->n_nodes <= 40 && p->n_vehicles <= 50)
    {
      FtVrptwParams params;
      ft_vrptw_params_init (&params);
      params.time_limit_ms = 0;
      params.max_iterations = 20;
      g_autoptr(FtVrptwSolution) s = ft_vrptw_solve (p, &params, NULL, &error);
      if (s == NULL)
        g_assert (g_error_matches (error, FT_VRPTW_ERROR, FT_VRPTW_ERROR_INFEASIBLE));
      else
        {
          g_autofree guint *seen = g_new0 (guint, p->n_nodes);
          for (guint r = 0; r < s->n_routes; r++)
            for (guint i = 0; i < s->routes[r].n_stops; i++)
              seen[s->routes[r].stops[i]]++;
          for (guint i = 1; i < p->n_nodes; i++)
            g_assert (seen[i] == 1);
          g_assert (isfinite (s->distance));
        }
    }
  fuzz_verbose ("solomon", NULL);
  return 0;
}
