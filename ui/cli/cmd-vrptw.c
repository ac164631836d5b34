/* cmd-vrptw.c — `fleet-twin-cli vrptw solve FILE`: reads a Solomon VRPTW
 * instance, solves it (fewest routes, then distance) within a time limit and
 * writes the solution in SINTEF route format ("Route 1 : 5 3 7"), to --out
 * through FtOutput or to standard output, with the routes and distance.
 */
#include "ft-config.h"
#include "ft-cli.h"
#include "ft-file.h"
#include "ft-vrptw.h"

#include <stdio.h>
#include <string.h>

static int
usage_error (const char *msg)
{
  fprintf (stderr, "fleet-twin-cli vrptw: %s\n", msg);
  return 2;
}

static int
solve (int argc, char **argv)
{
  gint64 limit = 1000, seed = 1, iterations = 0;
  g_autofree char *out_path = NULL;
  gboolean force = FALSE, keep_routes = FALSE;
  GOptionEntry entries[] = {
    { "time-limit-ms", 0, 0, G_OPTION_ARG_INT64, &limit, "Time limit in ms, monotonic clock (default 1000; 0: none, needs --iterations)", "N" },
    { "iterations", 0, 0, G_OPTION_ARG_INT64, &iterations, "Stop after N iterations (with --seed: the same solution every run)", "N" },
    { "seed", 0, 0, G_OPTION_ARG_INT64, &seed, "Random seed (default 1)", "S" },
    { "out", 'o', 0, G_OPTION_ARG_FILENAME, &out_path, "Write the solution here instead of standard output", "FILE" },
    { "force", 0, 0, G_OPTION_ARG_NONE, &force, "Replace an existing --out file this command did not write", NULL },
    { "no-route-minimisation", 0, 0, G_OPTION_ARG_NONE, &keep_routes, "Minimise distance only", NULL },
    { NULL }
  };
  g_autoptr(GOptionContext) ctx = g_option_context_new ("FILE — solve a Solomon VRPTW instance");
  g_option_context_add_main_entries (ctx, entries, NULL);
  g_option_context_set_description (ctx,
    "FILE is a Solomon instance (VEHICLE and CUSTOMER sections; CRLF or LF).\n"
    "Distances and travel times are Euclidean, in double precision; the objective\n"
    "is the number of routes first, then the total distance. The solution is\n"
    "written in SINTEF format: one 'Route k : customer ids' line per route.\n");
  g_autoptr(GError) error = NULL;
  if (!g_option_context_parse (ctx, &argc, &argv, &error))
    return usage_error (error->message);
  if (argc != 2)
    return usage_error ("usage: fleet-twin-cli vrptw solve FILE [--time-limit-ms N] [--seed S] [--out FILE]");
  if (limit < 0 || limit > G_GINT64_CONSTANT (86400000))
    return usage_error ("--time-limit-ms must be 0 to 86400000");
  if (iterations < 0)
    return usage_error ("--iterations must not be negative");
  if (limit == 0 && iterations == 0)
    return usage_error ("--time-limit-ms 0 needs --iterations N");
  if (seed < 0)
    return usage_error ("--seed must not be negative");

  g_autoptr(FtVrptwProblem) p = ft_vrptw_solomon_load (argv[1], &error);
  if (p == NULL)
    {
      fprintf (stderr, "fleet-twin-cli vrptw: %s\n", error->message);
      return 1;
    }
  FtVrptwParams params;
  ft_vrptw_params_init (&params);
  params.time_limit_ms = limit;
  params.max_iterations = (guint64) iterations;
  params.seed = (guint64) seed;
  params.minimise_routes = !keep_routes;
  FtVrptwStats st;
  g_autoptr(FtVrptwSolution) s = ft_vrptw_solve (p, &params, &st, &error);
  if (s == NULL)
    {
      fprintf (stderr, "fleet-twin-cli vrptw: %s: %s\n", argv[1], error->message);
      return 1;
    }
  g_autofree char *ref = g_strdup_printf ("seed %" G_GINT64_FORMAT ", time limit %" G_GINT64_FORMAT " ms, "
                                          "%" G_GUINT64_FORMAT " iterations; routes %u, distance %.2f",
                                          seed, limit, st.iterations, s->n_routes, s->distance);
  g_autofree char *text = ft_vrptw_solution_to_sintef (p, s, ref);
  if (out_path)
    {
      g_autoptr(FtOutput) out = ft_output_begin (out_path, FT_OUTPUT_FILE, ft_vrptw_sintef_is_own, force, &error);
      if (out == NULL || !g_file_set_contents (ft_output_get_path (out), text, -1, &error)
          || !ft_output_commit (g_steal_pointer (&out), &error))
        {
          fprintf (stderr, "fleet-twin-cli vrptw: %s\n", error->message);
          return 1;
        }
    }
  else
    fputs (text, stdout);
  printf ("%s: %u routes, distance %.2f (%.0f ms, %" G_GUINT64_FORMAT " iterations)\n",
          p->name ? p->name : argv[1], s->n_routes, s->distance, st.elapsed_ms, st.iterations);
  return 0;
}

int
ft_cli_vrptw (int argc, char **argv)
{
  if (argc >= 2 && strcmp (argv[1], "solve") == 0)
    {
      g_autofree char *prog = g_strdup_printf ("%s solve", argv[0]);
      argv[1] = prog;
      return solve (argc - 1, argv + 1);
    }
  fprintf (stderr, "Usage: fleet-twin-cli vrptw solve FILE [--time-limit-ms N] [--seed S] [--out FILE]\n");
  return 2;
}
