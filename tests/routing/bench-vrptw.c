/* bench-vrptw.c — the Solomon benchmark: solves every instance in a folder
 * (default: the shared data's vrptw/solomon/instances) at a time limit per
 * instance on one thread, checks each solution with the independent
 * checker, and prints per instance and in total: routes, distance, gap to
 * BKS.csv's distance, BKS vehicles, time; then the mean distance gap and how
 * many instances reach the best-known route count. Run it on a release build.
 *
 *   bench-vrptw [--time-limit-ms N] [--seed S] [--cpu-clock] [--only PREFIX] [DIR]
 */
#include "ft-config.h"
#include "ft-vrptw.h"
#include "vrptw-check.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct { int vehicles; double distance; } Bks;

static GHashTable *
load_bks (const char *path)
{
  GHashTable *h = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  g_autofree char *text = NULL;
  if (!g_file_get_contents (path, &text, NULL, NULL))
    return h;
  g_auto(GStrv) lines = g_strsplit (text, "\n", -1);
  for (guint i = 1; lines[i]; i++)
    {
      g_auto(GStrv) f = g_strsplit (lines[i], ",", 4);
      if (g_strv_length (f) < 3)
        continue;
      Bks *b = g_new (Bks, 1);
      b->vehicles = atoi (f[1]);
      b->distance = g_ascii_strtod (f[2], NULL);
      g_hash_table_insert (h, g_strdup (f[0]), b);
    }
  return h;
}

static int
cmp_str (gconstpointer a, gconstpointer b)
{
  return strcmp (*(char *const *) a, *(char *const *) b);
}

int
main (int argc, char **argv)
{
  gint64 limit = 1000;
  gint64 seed = 1;
  g_autofree char *only = NULL;
  gboolean cpu = FALSE;
  GOptionEntry entries[] = {
    { "time-limit-ms", 0, 0, G_OPTION_ARG_INT64, &limit, "Time limit per instance (default 1000)", "MS" },
    { "seed", 0, 0, G_OPTION_ARG_INT64, &seed, "Seed (default 1)", "S" },
    { "cpu-clock", 0, 0, G_OPTION_ARG_NONE, &cpu, "Count the limit in this thread's CPU time (a loaded machine)", NULL },
    { "only", 0, 0, G_OPTION_ARG_STRING, &only, "Only instances whose name starts with PREFIX", "PREFIX" },
    { NULL }
  };
  g_autoptr(GOptionContext) ctx = g_option_context_new ("[DIR] — the Solomon VRPTW benchmark");
  g_option_context_add_main_entries (ctx, entries, NULL);
  g_autoptr(GError) error = NULL;
  if (!g_option_context_parse (ctx, &argc, &argv, &error) || argc > 2 || limit <= 0)
    {
      fprintf (stderr, "bench-vrptw: %s\n", error ? error->message : "usage: bench-vrptw [--time-limit-ms N] [DIR]");
      return 2;
    }
  const char *env = g_getenv ("FT_SHARED_DATA_DIR");
  g_autofree char *dir = argc == 2 ? g_strdup (argv[1])
                       : g_build_filename (env ? env : FT_SHARED_DATA_DIR, "vrptw", "solomon", "instances", NULL);
  g_autofree char *bks_path = g_build_filename (dir, "..", "..", "BKS.csv", NULL);
  g_autoptr(GHashTable) bks = load_bks (bks_path);
  g_autoptr(GDir) d = g_dir_open (dir, 0, &error);
  if (d == NULL)
    {
      fprintf (stderr, "bench-vrptw: %s\n", error->message);
      return 1;
    }
  g_autoptr(GPtrArray) names = g_ptr_array_new_with_free_func (g_free);
  for (const char *nm; (nm = g_dir_read_name (d));)
    if (g_str_has_suffix (nm, ".txt") && (only == NULL || g_str_has_prefix (nm, only)))
      g_ptr_array_add (names, g_strdup (nm));
  g_ptr_array_sort (names, cmp_str);

  g_autofree char *load0 = NULL;
  g_file_get_contents ("/proc/loadavg", &load0, NULL, NULL);
  printf ("# bench-vrptw: %u instances, %" G_GINT64_FORMAT " ms each (%s), seed %" G_GINT64_FORMAT ", one thread\n",
          names->len, limit, cpu ? "thread CPU time" : "monotonic clock", seed);
  printf ("%-8s %6s %10s %6s %10s %8s %8s %9s\n", "instance", "routes", "distance", "bks_v", "bks_dist", "gap%",
          "time_ms", "iters");
  double gap_sum = 0, time_sum = 0, dist_sum = 0, bks_sum = 0, gap_same_sum = 0;
  guint n_gap = 0, n_veh = 0, n_veh_better = 0, n_bad = 0, n_solved = 0;
  for (guint i = 0; i < names->len; i++)
    {
      const char *nm = names->pdata[i];
      g_autofree char *path = g_build_filename (dir, nm, NULL);
      g_autofree char *inst = g_strndup (nm, strlen (nm) - 4);
      g_autoptr(GError) err = NULL;
      g_autoptr(FtVrptwProblem) p = ft_vrptw_solomon_load (path, &err);
      if (p == NULL)
        {
          printf ("%-8s error: %s\n", inst, err->message);
          n_bad++;
          continue;
        }
      FtVrptwParams params;
      ft_vrptw_params_init (&params);
      params.time_limit_ms = limit;
      params.seed = (guint64) seed;
      params.cpu_clock = cpu;
      FtVrptwStats st;
      g_autoptr(FtVrptwSolution) s = ft_vrptw_solve (p, &params, &st, &err);
      if (s == NULL)
        {
          printf ("%-8s error: %s\n", inst, err->message);
          n_bad++;
          continue;
        }
      double dist;
      g_autofree char *why = NULL;
      if (!vrptw_check_solution (p, s, FALSE, &dist, &why))
        {
          printf ("%-8s INVALID: %s\n", inst, why);
          n_bad++;
          continue;
        }
      n_solved++;
      time_sum += st.elapsed_ms;
      const Bks *b = g_hash_table_lookup (bks, inst);
      if (b)
        {
          double gap = 100.0 * (dist - b->distance) / b->distance;
          gap_sum += gap;
          dist_sum += dist;
          bks_sum += b->distance;
          n_gap++;
          n_veh += (int) s->n_routes == b->vehicles;
          if ((int) s->n_routes == b->vehicles)
            gap_same_sum += gap;
          n_veh_better += (int) s->n_routes < b->vehicles;
          printf ("%-8s %6u %10.2f %6d %10.2f %+8.2f %8.0f %9" G_GUINT64_FORMAT "\n", inst, s->n_routes, dist,
                  b->vehicles, b->distance, gap, st.elapsed_ms, st.iterations);
        }
      else
        printf ("%-8s %6u %10.2f %6s %10s %8s %8.0f %9" G_GUINT64_FORMAT "\n", inst, s->n_routes, dist, "-", "-", "-",
                st.elapsed_ms, st.iterations);
      fflush (stdout);
    }
  g_autofree char *load1 = NULL;
  g_file_get_contents ("/proc/loadavg", &load1, NULL, NULL);
  printf ("# total: %u solved, %u failed; %u with a BKS: distance %.2f vs BKS %.2f\n", n_solved, n_bad, n_gap,
          dist_sum, bks_sum);
  printf ("# mean distance gap %.2f%% over %u instances; best-known route count on %u of %u (%.0f%%), fewer on %u; "
          "mean time %.0f ms\n", n_gap ? gap_sum / n_gap : 0.0, n_gap, n_veh, n_gap, n_gap ? 100.0 * n_veh / n_gap : 0.0,
          n_veh_better, n_solved ? time_sum / n_solved : 0.0);
  printf ("# mean distance gap on the %u instances with the best-known route count: %.2f%%\n", n_veh,
          n_veh ? gap_same_sum / n_veh : 0.0);
  printf ("# load average before: %s# load average after:  %s", load0 ? load0 : "?\n", load1 ? load1 : "?\n");
  return n_bad ? 1 : 0;
}
