/* cmd-experiment.c — `fleet-twin-cli experiment ...` (issue 16):
 *   run FILE [--jobs N] [--out DB]   every cell (replication x variant) in
 *                                    parallel processes, merged into DB;
 *   sweep FILE [--jobs N] [--out DB] [--pdf F]  the same for a [sweep]
 *                                    file, then its Pareto view;
 *   report DB [--pdf F] [--alpha --power --mde --bootstrap]
 *   cell FILE --cell C --out DB      one cell (what jobs, Slurm array tasks
 *                                    and GNU parallel run);
 *   slurm FILE --out DIR             a Slurm job-array script and merge script;
 *   jobs FILE --out DIR              a GNU parallel job list;
 *   merge OUT IN...                  cell files of one experiment into one.
 * Cells run as child processes of this same program (GSubprocess), each
 * writing its own results file, so the merged rows are the same whatever
 * --jobs is.
 */
#include "ft-config.h"
#include "ft-cli.h"
#include "ft-data.h"
#include "ft-file.h"
#include "ft-sim-experiment.h"
#include "ft-sim-world.h"
#include "ft-exp-report.h"

#include <gio/gio.h>
#include <glib/gstdio.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#define ME "fleet-twin-cli experiment"


/* FILE, or the name of an installed experiment (null-demo). */
static char *
experiment_path (const char *name, GError **error)
{
  static const char *const exts[] = { "", ".experiment", NULL };
  return ft_data_find_named ("experiments", name, exts, "experiment", error);
}
static int
fail (GError *error)
{
  fprintf (stderr, ME ": %s\n", error->message);
  return 1;
}

static char *
self_exe (void)
{
  char *p = g_file_read_link ("/proc/self/exe", NULL);
  return p ? p : g_strdup ("fleet-twin-cli");
}

static FtExpResults *
create_for (const FtSimExperiment *e, const char *path, GError **error)
{
  FtExpIdentity id;
  ft_sim_experiment_identity (e, &id);
  FtExpResults *r = ft_exp_results_create (path, &id, error);
  ft_sim_experiment_identity_clear (&id);
  return r;
}

/* ---- cell ---- */

static int
cmd_cell (int argc, char **argv)
{
  g_autofree char *out = NULL, *cells = NULL;
  gboolean force = FALSE;
  GOptionEntry entries[] = {
    { "cell", 'c', 0, G_OPTION_ARG_STRING, &cells, "Cell number(s): C or C1,C2,… (replication x variants + variant)", "C" },
    { "out", 'o', 0, G_OPTION_ARG_FILENAME, &out, "Results file of these cells", "DB" },
    { "force", 0, 0, G_OPTION_ARG_NONE, &force, "Replace --out even when it is not a results file", NULL },
    { NULL }
  };
  g_autoptr (GOptionContext) ctx = g_option_context_new ("FILE --cell C --out DB — run cells of an experiment");
  g_option_context_add_main_entries (ctx, entries, NULL);
  g_autoptr (GError) error = NULL;
  if (!g_option_context_parse (ctx, &argc, &argv, &error))
    return fail (error), 2;
  if (argc != 2 || cells == NULL || out == NULL)
    {
      fprintf (stderr, ME " cell: give FILE, --cell C and --out DB\n");
      return 2;
    }
  g_autofree char *exp_path = experiment_path (argv[1], &error);
  g_autoptr (FtSimExperiment) e = exp_path ? ft_sim_experiment_load (exp_path, &error) : NULL;
  if (e == NULL)
    return fail (error);
  g_auto (GStrv) parts = g_strsplit (cells, ",", -1);
  g_autoptr (GArray) list = g_array_new (FALSE, FALSE, sizeof (guint));
  for (guint i = 0; parts[i]; i++)
    {
      guint64 c = 0;
      if (!g_ascii_string_to_unsigned (g_strstrip (parts[i]), 10, 0, ft_sim_experiment_n_cells (e) - 1, &c, NULL))
        {
          fprintf (stderr, ME " cell: --cell '%s' is not a cell of %s (0 to %u)\n", parts[i], argv[1],
                   ft_sim_experiment_n_cells (e) - 1);
          return 2;
        }
      guint cu = (guint) c;
      g_array_append_val (list, cu);
    }
  g_autoptr (FtOutput) output = ft_output_begin (out, FT_OUTPUT_SQLITE, ft_exp_results_is_own, force, &error);
  if (output == NULL)
    return fail (error);
  g_autoptr (FtExpResults) r = create_for (e, ft_output_get_path (output), &error);
  if (r == NULL)
    return fail (error);
  for (guint i = 0; i < list->len; i++)
    if (!ft_sim_experiment_run_cell (e, g_array_index (list, guint, i), r, &error))
      return fail (error);
  g_clear_pointer (&r, ft_exp_results_close);
  if (!ft_output_commit (g_steal_pointer (&output), &error))
    return fail (error);
  return 0;
}

/* ---- run / sweep ---- */

typedef struct {
  GSubprocess *proc;
  guint        cell;
} Running;

/* Runs every cell of e in up to jobs child processes, each into its own
 * file under tmp, then merges them in cell order into out. */
static gboolean
run_cells (FtSimExperiment *e, const char *file, guint jobs, const char *out, gboolean force, gboolean quiet,
           GError **error)
{
  g_autoptr (FtOutput) output = ft_output_begin (out, FT_OUTPUT_SQLITE, ft_exp_results_is_own, force, error);
  if (output == NULL)
    return FALSE;
  g_autofree char *tmp = g_dir_make_tmp ("ft-experiment-XXXXXX", error);
  if (tmp == NULL)
    return FALSE;
  g_autofree char *exe = self_exe ();
  guint n = ft_sim_experiment_n_cells (e), next = 0, done = 0;
  GQueue running = G_QUEUE_INIT;
  gboolean ok = TRUE;
  gint64 t0 = g_get_monotonic_time ();
  while (ok && (next < n || !g_queue_is_empty (&running)))
    {
      while (ok && next < n && g_queue_get_length (&running) < jobs)
        {
          g_autofree char *cs = g_strdup_printf ("%u", next);
          g_autofree char *path = g_strdup_printf ("%s/cell-%06u.db", tmp, next);
          const char *args[] = { exe, "experiment", "cell", file, "--cell", cs, "--out", path, NULL };
          GSubprocess *p = g_subprocess_newv (args, G_SUBPROCESS_FLAGS_NONE, error);
          if (p == NULL)
            {
              ok = FALSE;
              break;
            }
          Running *rn = g_new (Running, 1);
          rn->proc = p;
          rn->cell = next++;
          g_queue_push_tail (&running, rn);
        }
      Running *rn = g_queue_pop_head (&running);
      if (rn == NULL)
        break;
      if (!g_subprocess_wait (rn->proc, NULL, error))
        ok = FALSE;
      else if (!g_subprocess_get_if_exited (rn->proc) || g_subprocess_get_exit_status (rn->proc) != 0)
        {
          guint rep, v;
          ft_sim_experiment_cell (e, rn->cell, &rep, &v);
          g_autofree char *name = ft_sim_experiment_cell_name (e, rn->cell);
          g_set_error (error, FT_EXP_ERROR, FT_EXP_ERROR_INCOMPLETE,
                       "cell %u (replication %u, variant %s) failed; see its message above", rn->cell, rep, name);
          ok = FALSE;
        }
      g_object_unref (rn->proc);
      g_free (rn);
      done++;
      if (ok && !quiet)
        {
          ft_cli_progress ("cells", (double) done / n);
          if (!ft_cli_is_tty () && (done == n || done % MAX (1u, n / 10) == 0))
            fprintf (stderr, "%u of %u cells done (%.1f s)\n", done, n, (g_get_monotonic_time () - t0) / 1e6);
        }
    }
  if (!quiet)
    ft_cli_progress_done ();
  /* on failure, let the others finish (their files are removed with tmp) */
  for (Running *rn; (rn = g_queue_pop_head (&running));)
    {
      g_subprocess_force_exit (rn->proc);
      g_subprocess_wait (rn->proc, NULL, NULL);
      g_object_unref (rn->proc);
      g_free (rn);
    }
  if (ok)
    {
      g_autoptr (FtExpResults) r = create_for (e, ft_output_get_path (output), error);
      ok = r != NULL;
      for (guint c = 0; ok && c < n; c++)
        {
          g_autofree char *path = g_strdup_printf ("%s/cell-%06u.db", tmp, c);
          ok = ft_exp_results_merge (r, path, error);
        }
    }
  ft_file_remove_tree (tmp, NULL);
  if (!ok)
    return FALSE;
  if (!ft_output_commit (g_steal_pointer (&output), error))
    return FALSE;
  if (!quiet)
    fprintf (stderr, "%u runs (%u replications x %u variants%s) in %.1f s on %u jobs: %s\n", n, e->replications,
             e->variants->len, e->n_field ? ", and a split world per field design and treated variant" : "",
             (g_get_monotonic_time () - t0) / 1e6, jobs, out);
  return TRUE;
}

static guint
default_jobs (void)
{
  return MAX (1u, g_get_num_processors ());
}

static int
cmd_run (int argc, char **argv, gboolean sweep)
{
  g_autofree char *out = NULL, *pdf = NULL;
  gint jobs = 0;
  gboolean force = FALSE, quiet = FALSE;
  GOptionEntry entries[] = {
    { "jobs", 'j', 0, G_OPTION_ARG_INT, &jobs, "Parallel processes (default: the number of cores)", "N" },
    { "out", 'o', 0, G_OPTION_ARG_FILENAME, &out, "Results database (default: NAME.results.db beside FILE)", "DB" },
    { "pdf", 0, 0, G_OPTION_ARG_FILENAME, &pdf, "Sweep: also plot the Pareto view to this PDF", "FILE" },
    { "force", 0, 0, G_OPTION_ARG_NONE, &force, "Replace --out even when it is not a results file", NULL },
    { "quiet", 'q', 0, G_OPTION_ARG_NONE, &quiet, "No progress", NULL },
    { NULL }
  };
  g_autoptr (GOptionContext) ctx = g_option_context_new (sweep ? "FILE — run a parameter sweep, print its Pareto view"
                                                               : "FILE — run every replication of every variant");
  g_option_context_add_main_entries (ctx, entries, NULL);
  g_autoptr (GError) error = NULL;
  if (!g_option_context_parse (ctx, &argc, &argv, &error))
    return fail (error), 2;
  if (argc != 2)
    {
      fprintf (stderr, ME ": give exactly one experiment file (see experiments/*.experiment)\n");
      return 2;
    }
  if (jobs < 0 || jobs > 1024)
    {
      fprintf (stderr, ME ": --jobs must be between 1 and 1024\n");
      return 2;
    }
  g_autofree char *exp_path = experiment_path (argv[1], &error);
  g_autoptr (FtSimExperiment) e = exp_path ? ft_sim_experiment_load (exp_path, &error) : NULL;
  if (e == NULL)
    return fail (error);
  if (sweep != e->sweep)
    {
      fprintf (stderr, ME ": %s %s a [sweep] group: use `experiment %s`\n", argv[1], e->sweep ? "has" : "has no",
               e->sweep ? "sweep" : "run");
      return 2;
    }
  if (out == NULL)
    {
      /* beside FILE; in the current folder for an installed one found by name */
      g_autofree char *stem = g_strcmp0 (exp_path, argv[1]) == 0 ? g_strdup (argv[1]) : g_path_get_basename (exp_path);
      char *dot = strrchr (stem, '.');
      if (dot && !strchr (dot, '/'))
        *dot = '\0';
      out = g_strdup_printf ("%s.results.db", stem);
    }
  if (!run_cells (e, exp_path, jobs ? (guint) jobs : default_jobs (), out, force, quiet, &error))
    return fail (error);
  if (sweep)
    {
      g_autoptr (FtExpResults) r = ft_exp_results_open (out, &error);
      if (r == NULL)
        return fail (error);
      const FtSimKpiInfo *xi = ft_sim_kpi_find (e->pareto_x), *yi = ft_sim_kpi_find (e->pareto_y);
      g_autofree char *text = ft_exp_report_pareto (r, e->pareto_x, xi->higher_better, e->pareto_y,
                                                    yi->higher_better, 0.05, pdf, &error);
      if (text == NULL)
        return fail (error);
      fputs (text, stdout);
    }
  return 0;
}

/* ---- report ---- */

static gboolean
pdf_is_own (const char *path)
{
  g_autofree char *data = NULL;
  gsize len = 0;
  if (!ft_file_read (path, 64u << 20, &data, &len, NULL) || len < 5 || memcmp (data, "%PDF-", 5) != 0)
    return FALSE;
  static const char mark[] = "Fleet Twin";
  for (gsize i = 0; i + sizeof mark - 1 <= len; i++)
    if (data[i] == 'F' && memcmp (data + i, mark, sizeof mark - 1) == 0)
      return TRUE;
  return FALSE;
}

static int
cmd_report (int argc, char **argv)
{
  g_autofree char *pdf = NULL, *pareto = NULL;
  double alpha = 0.05, power = 0.8, mde = 0.02;
  gint boot = 2000;
  gboolean force = FALSE;
  GOptionEntry entries[] = {
    { "pdf", 0, 0, G_OPTION_ARG_FILENAME, &pdf, "Also draw the interval charts into this PDF", "FILE" },
    { "alpha", 0, 0, G_OPTION_ARG_DOUBLE, &alpha, "Significance level and 1 - interval coverage (0.05)", "A" },
    { "power", 0, 0, G_OPTION_ARG_DOUBLE, &power, "Power for the replications needed (0.8)", "P" },
    { "mde", 0, 0, G_OPTION_ARG_DOUBLE, &mde, "Smallest effect to detect, as a share of the control mean (0.02)", "F" },
    { "bootstrap", 0, 0, G_OPTION_ARG_INT, &boot, "Bootstrap resamples (2000)", "B" },
    { "pareto", 0, 0, G_OPTION_ARG_STRING, &pareto, "Print a Pareto view of two metrics X,Y instead", "X,Y" },
    { "force", 0, 0, G_OPTION_ARG_NONE, &force, "Replace --pdf even when it is not a Fleet Twin PDF", NULL },
    { NULL }
  };
  g_autoptr (GOptionContext) ctx = g_option_context_new ("DB — paired comparisons of an experiment's variants");
  g_option_context_add_main_entries (ctx, entries, NULL);
  g_autoptr (GError) error = NULL;
  if (!g_option_context_parse (ctx, &argc, &argv, &error))
    return fail (error), 2;
  if (argc != 2)
    {
      fprintf (stderr, ME " report: give exactly one results database\n");
      return 2;
    }
  if (!(alpha > 0 && alpha < 0.5) || !(power > 0 && power < 1) || !(mde > 0 && mde < 100) || boot < 100
      || boot > 1000000)
    {
      fprintf (stderr, ME " report: --alpha must be in (0, 0.5), --power in (0, 1), --mde in (0, 100), "
               "--bootstrap from 100 to 1000000\n");
      return 2;
    }
  g_autoptr (FtExpResults) r = ft_exp_results_open (argv[1], &error);
  if (r == NULL)
    return fail (error);
  if (ft_exp_results_n_runs (r) == 0)
    {
      fprintf (stderr, ME " report: %s holds no runs yet\n", argv[1]);
      return 1;
    }
  g_autoptr (FtOutput) output = NULL;
  if (pdf)
    {
      output = ft_output_begin (pdf, FT_OUTPUT_FILE, pdf_is_own, force, &error);
      if (output == NULL)
        return fail (error);
    }
  if (pareto)
    {
      g_auto (GStrv) xy = g_strsplit (pareto, ",", 2);
      const FtSimKpiInfo *xi = xy[0] ? ft_sim_kpi_find (g_strstrip (xy[0])) : NULL;
      const FtSimKpiInfo *yi = xy[0] && xy[1] ? ft_sim_kpi_find (g_strstrip (xy[1])) : NULL;
      if (xi == NULL || yi == NULL)
        {
          fprintf (stderr, ME " report: --pareto wants two KPI names X,Y (e.g. staff_hours,service_level)\n");
          return 2;
        }
      g_autofree char *text = ft_exp_report_pareto (r, xi->name, xi->higher_better, yi->name, yi->higher_better,
                                                    alpha, output ? ft_output_get_path (output) : NULL, &error);
      if (text == NULL)
        return fail (error);
      fputs (text, stdout);
    }
  else
    {
      FtExpReportOptions o = FT_EXP_REPORT_OPTIONS_INIT;
      o.alpha = alpha;
      o.power = power;
      o.mde = mde;
      o.bootstrap = (guint) boot;
      g_autoptr (GPtrArray) cmp = ft_exp_report_compare (r, &o, &error);
      if (cmp == NULL)
        return fail (error);
      g_autofree char *text = ft_exp_report_text (r, cmp, &o);
      fputs (text, stdout);
      if (output && !ft_exp_report_pdf (r, cmp, &o, ft_output_get_path (output), &error))
        return fail (error);
    }
  if (output && !ft_output_commit (g_steal_pointer (&output), &error))
    return fail (error);
  return 0;
}

/* ---- merge ---- */

static int
cmd_merge (int argc, char **argv)
{
  gboolean force = FALSE;
  GOptionEntry entries[] = {
    { "force", 0, 0, G_OPTION_ARG_NONE, &force, "Replace OUT even when it is not a results file", NULL },
    { NULL }
  };
  g_autoptr (GOptionContext) ctx = g_option_context_new ("OUT.db IN.db… — merge cell files of one experiment");
  g_option_context_add_main_entries (ctx, entries, NULL);
  g_autoptr (GError) error = NULL;
  if (!g_option_context_parse (ctx, &argc, &argv, &error))
    return fail (error), 2;
  if (argc < 3)
    {
      fprintf (stderr, ME " merge: give OUT.db and at least one IN.db\n");
      return 2;
    }
  /* the first input gives the experiment's identity */
  g_autoptr (FtExpResults) first = ft_exp_results_open (argv[2], &error);
  if (first == NULL)
    return fail (error);
  g_autoptr (FtOutput) output = ft_output_begin (argv[1], FT_OUTPUT_SQLITE, ft_exp_results_is_own, force, &error);
  if (output == NULL)
    return fail (error);
  g_auto (GStrv) names = ft_exp_results_variants (first);
  guint nv = g_strv_length (names);
  g_autofree char **ovs = g_new0 (char *, nv + 1);
  for (guint v = 0; v < nv; v++)
    ovs[v] = ft_exp_results_overrides (first, names[v]);
  FtExpIdentity id = {
    .name = ft_exp_results_get (first, "name"), .hash = ft_exp_results_get (first, "hash"),
    .design = ft_exp_results_get (first, "design"), .control = ft_exp_results_get (first, "control"),
    .metrics = ft_exp_results_get (first, "metrics"), .replications = ft_exp_results_replications (first),
    .pre_days = ft_exp_results_pre_days (first), .file_text = ft_exp_results_get (first, "file_text"),
    .n_variants = nv, .variant_names = (const char *const *) names, .variant_overrides = (const char *const *) ovs,
  };
  g_autoptr (FtExpResults) r = ft_exp_results_create (ft_output_get_path (output), &id, &error);
  for (guint v = 0; v < nv; v++)
    g_free (ovs[v]);
  if (r == NULL)
    return fail (error);
  for (int i = 2; i < argc; i++)
    if (!ft_exp_results_merge (r, argv[i], &error))
      return fail (error);
  /* field designs add a world per design and treated variant */
  guint nf = 0;
  g_auto (GStrv) designs = g_strsplit (id.design ? id.design : "", ",", -1);
  for (guint i = 0; designs[i]; i++)
    {
      FtSimFieldDesign fd;
      nf += ft_sim_field_design_parse (g_strstrip (designs[i]), &fd) ? 1 : 0;
    }
  guint runs = ft_exp_results_n_runs (r), want = id.replications * (nv + nf * (nv > 0 ? nv - 1 : 0));
  g_clear_pointer (&r, ft_exp_results_close);
  if (!ft_output_commit (g_steal_pointer (&output), &error))
    return fail (error);
  printf ("%u of %u runs merged into %s%s\n", runs, want, argv[1], runs < want ? " (incomplete)" : "");
  return 0;
}

/* ---- slurm / jobs ---- */

static char *
shell_quote_abs (const char *path)
{
  g_autofree char *abs = g_canonicalize_filename (path, NULL);
  return g_shell_quote (abs);
}

static gboolean
write_text (const char *path, const char *text, gboolean exec, GError **error)
{
  g_autoptr (FtOutput) o = ft_output_begin (path, FT_OUTPUT_FILE, NULL, TRUE, error);
  if (o == NULL || !g_file_set_contents (ft_output_get_path (o), text, -1, error))
    return FALSE;
  if (exec)
    g_chmod (ft_output_get_path (o), 0755);
  return ft_output_commit (g_steal_pointer (&o), error);
}

static int
cmd_batch (int argc, char **argv, gboolean slurm)
{
  g_autofree char *out = NULL, *partition = NULL, *time_limit = NULL;
  GOptionEntry entries[] = {
    { "out", 'o', 0, G_OPTION_ARG_FILENAME, &out, "Folder for the script, the cell files and the merged results", "DIR" },
    { "partition", 'p', 0, G_OPTION_ARG_STRING, &partition, "Slurm partition (default: the cluster's)", "NAME" },
    { "time", 't', 0, G_OPTION_ARG_STRING, &time_limit, "Slurm time limit per cell (default 01:00:00)", "T" },
    { NULL }
  };
  g_autoptr (GOptionContext) ctx = g_option_context_new (slurm ? "FILE --out DIR — write a Slurm job-array script"
                                                               : "FILE --out DIR — write a GNU parallel job list");
  g_option_context_add_main_entries (ctx, entries, NULL);
  g_autoptr (GError) error = NULL;
  if (!g_option_context_parse (ctx, &argc, &argv, &error))
    return fail (error), 2;
  if (argc != 2 || out == NULL)
    {
      fprintf (stderr, ME ": give FILE and --out DIR\n");
      return 2;
    }
  g_autofree char *exp_path = experiment_path (argv[1], &error);
  g_autoptr (FtSimExperiment) e = exp_path ? ft_sim_experiment_load (exp_path, &error) : NULL;
  if (e == NULL)
    return fail (error);
  if (g_mkdir_with_parents (out, 0755) != 0)
    {
      fprintf (stderr, ME ": cannot create %s\n", out);
      return 1;
    }
  g_autofree char *cells = g_build_filename (out, "cells", NULL);
  g_mkdir_with_parents (cells, 0755);
  g_autofree char *exe = self_exe ();
  g_autofree char *qexe = g_shell_quote (exe), *qfile = shell_quote_abs (exp_path), *qcells = shell_quote_abs (cells);
  g_autofree char *qout = shell_quote_abs (out);
  guint n = ft_sim_experiment_n_cells (e);
  GString *s = g_string_new (NULL);
  if (slurm)
    {
      g_string_append_printf (s, "#!/bin/sh\n# %s: %u cells (%u replications x %u variants), one per array task.\n"
                              "# Submit: sbatch %s/experiment.sbatch; when all are done: %s/merge.sh\n",
                              e->name, n, e->replications, e->variants->len, out, out);
      g_string_append_printf (s, "#SBATCH --job-name=ft-experiment\n#SBATCH --array=0-%u\n#SBATCH --ntasks=1\n"
                              "#SBATCH --cpus-per-task=1\n#SBATCH --time=%s\n#SBATCH --output=%s/slurm-%%A_%%a.out\n",
                              n - 1, time_limit ? time_limit : "01:00:00", out);
      if (partition)
        g_string_append_printf (s, "#SBATCH --partition=%s\n", partition);
      g_string_append_printf (s, "set -e\nexec %s experiment cell %s --cell \"$SLURM_ARRAY_TASK_ID\" "
                              "--out %s/cell-\"$SLURM_ARRAY_TASK_ID\".db\n", qexe, qfile, qcells);
      g_autofree char *path = g_build_filename (out, "experiment.sbatch", NULL);
      if (!write_text (path, s->str, TRUE, &error))
        return fail (error);
    }
  else
    {
      for (guint c = 0; c < n; c++)
        g_string_append_printf (s, "%s experiment cell %s --cell %u --out %s/cell-%u.db\n", qexe, qfile, c, qcells, c);
      g_autofree char *path = g_build_filename (out, "jobs.txt", NULL);
      if (!write_text (path, s->str, FALSE, &error))
        return fail (error);
    }
  g_autofree char *merge = g_strdup_printf ("#!/bin/sh\n# Merge the cell files of %s into %s/results.db\nset -e\n"
                                            "exec %s experiment merge %s/results.db %s/cell-*.db\n",
                                            e->name, out, qexe, qout, qcells);
  g_autofree char *mpath = g_build_filename (out, "merge.sh", NULL);
  if (!write_text (mpath, merge, TRUE, &error))
    return fail (error);
  if (slurm)
    printf ("%s/experiment.sbatch: %u array tasks; submit with `sbatch %s/experiment.sbatch`, then run %s/merge.sh\n",
            out, n, out, out);
  else
    printf ("%s/jobs.txt: %u jobs; run with `parallel -j N < %s/jobs.txt`, then %s/merge.sh\n", out, n, out, out);
  g_string_free (s, TRUE);
  return 0;
}

int
ft_cli_experiment (int argc, char **argv)
{
  static const char usage[] =
    "usage: fleet-twin-cli experiment run|sweep|report|cell|slurm|jobs|merge …\n"
    "  run FILE [--jobs N] [--out DB]        every replication x variant, in parallel processes\n"
    "  sweep FILE [--jobs N] [--out DB] [--pdf F]  a [sweep] grid / Latin hypercube and its Pareto view\n"
    "  report DB [--pdf F] [--alpha A] [--power P] [--mde F] [--pareto X,Y]\n"
    "  cell FILE --cell C --out DB           one cell (what batch systems run)\n"
    "  slurm FILE --out DIR                  a Slurm job-array script and merge script\n"
    "  jobs FILE --out DIR                   a GNU parallel job list and merge script\n"
    "  merge OUT.db IN.db…                   cell files of one experiment into one\n";
  if (argc < 2)
    {
      fputs (usage, stderr);
      return 2;
    }
  const char *sub = argv[1];
  g_autofree char *name = g_strdup_printf ("%s %s", argv[0], sub);
  char **sargv = argv + 1;
  sargv[0] = name;
  int sargc = argc - 1;
  if (strcmp (sub, "run") == 0)
    return cmd_run (sargc, sargv, FALSE);
  if (strcmp (sub, "sweep") == 0)
    return cmd_run (sargc, sargv, TRUE);
  if (strcmp (sub, "report") == 0)
    return cmd_report (sargc, sargv);
  if (strcmp (sub, "cell") == 0)
    return cmd_cell (sargc, sargv);
  if (strcmp (sub, "slurm") == 0)
    return cmd_batch (sargc, sargv, TRUE);
  if (strcmp (sub, "jobs") == 0)
    return cmd_batch (sargc, sargv, FALSE);
  if (strcmp (sub, "merge") == 0)
    return cmd_merge (sargc, sargv);
  fprintf (stderr, ME ": unknown subcommand '%s'\n%s", sub, usage);
  return 2;
}
