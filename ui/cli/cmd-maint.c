/* cmd-maint.c — `fleet-twin-cli maintenance backtest DB`: read the event
 * log of a run or live database, train the predictive-maintenance models on
 * its first part and score them on its last days against the naive baseline
 * (rank by km since service): precision and recall of the daily top-k list,
 * ROC AUC and Brier score at 24 h and 7 days, Harrell's C and the lead time
 * of the faults the list caught. Prints the table and can write it as CSV.
 */
#include "ft-config.h"
#include "ft-cli.h"
#include "ft-file.h"
#include "ft-maint.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <gsl/gsl_errno.h>

#define CSV_HEADER "model,k,lists,precision_at_k,recall_at_k,auc_24h,brier_24h,rows_24h,auc_168h," \
                   "brier_168h,rows_168h,c_index,faults,caught,lead_median_h,lead_mean_h,fit_s,predict_s\n"

static gboolean
csv_is_own (const char *path)
{
  char buf[sizeof CSV_HEADER] = { 0 };
  FILE *f = fopen (path, "rb");
  if (f == NULL)
    return FALSE;
  size_t n = fread (buf, 1, sizeof CSV_HEADER - 1, f);
  fclose (f);
  return n == sizeof CSV_HEADER - 1 && memcmp (buf, CSV_HEADER, n) == 0;
}

static int
fail (const char *msg)
{
  fprintf (stderr, "fleet-twin-cli maintenance: %s\n", msg);
  return 1;
}

static int
usage_error (const char *msg)
{
  fprintf (stderr, "fleet-twin-cli maintenance backtest: %s\n", msg);
  return 2;
}

/* "K" (vehicles per daily list) or "P%" (share of the fleet). */
static gboolean
parse_top_k (const char *s, guint *k, double *frac)
{
  char *end = NULL;
  errno = 0;
  double v = g_ascii_strtod (s, &end);
  if (errno || end == s || !isfinite (v))
    return FALSE;
  if (*end == '%' && end[1] == '\0')
    {
      if (v <= 0 || v > 100)
        return FALSE;
      *k = 0;
      *frac = v / 100.0;
      return TRUE;
    }
  if (*end != '\0' || v < 1 || v > 1e6 || v != floor (v))
    return FALSE;
  *k = (guint) v;
  return TRUE;
}

static void
fmt (char *buf, gsize len, double v, const char *f)
{
  if (isnan (v))
    g_strlcpy (buf, "n/a", len);
  else
    g_snprintf (buf, len, f, v);
}

static int
backtest (int argc, char **argv)
{
  int train_days = 0, test_days = 4, step = 6, rounds = 100, depth = 4, threads = 1;
  double ridge = -1;
  g_autofree char *csv = NULL, *models = NULL, *top_k = NULL;
  gboolean force = FALSE;
  GOptionEntry entries[] = {
    { "train-days", 0, 0, G_OPTION_ARG_INT, &train_days, "Days in the training window, just before the test window (default: all of them)", "N" },
    { "test-days", 0, 0, G_OPTION_ARG_INT, &test_days, "Days at the end of the log to test on (default 4)", "N" },
    { "top-k", 0, 0, G_OPTION_ARG_STRING, &top_k, "Vehicles staff can inspect per day: a count K or a share P% of the fleet (default 2%)", "K" },
    { "step", 0, 0, G_OPTION_ARG_INT, &step, "Hours between observation rows, dividing a day (default 6)", "H" },
    { "models", 0, 0, G_OPTION_ARG_STRING, &models, "Models to score, comma-separated: weibull,xgb (default both; the baseline is always scored)", "LIST" },
    { "ridge", 0, 0, G_OPTION_ARG_DOUBLE, &ridge, "Weibull L2 penalty on the standardised coefficients (default 0.001)", "L" },
    { "rounds", 0, 0, G_OPTION_ARG_INT, &rounds, "XGBoost boosting rounds (default 100)", "N" },
    { "depth", 0, 0, G_OPTION_ARG_INT, &depth, "XGBoost tree depth (default 4)", "N" },
    { "threads", 0, 0, G_OPTION_ARG_INT, &threads, "XGBoost threads (default 1; 0: XGBoost's choice)", "N" },
    { "csv", 0, 0, G_OPTION_ARG_FILENAME, &csv, "Write the score table as CSV", "FILE" },
    { "force", 0, 0, G_OPTION_ARG_NONE, &force, "Replace a CSV this command did not write", NULL },
    { NULL }
  };
  g_autoptr(GOptionContext) ctx = g_option_context_new ("DB — time-split backtest of the predictive-maintenance models");
  g_option_context_add_main_entries (ctx, entries, NULL);
  g_option_context_set_description (ctx,
    "DB is a run or live database (fleet-twin-cli run … --out DB). Only its event log is\n"
    "read: usage, charging, faults and repairs per vehicle. Rows (vehicle, time) every\n"
    "--step hours; training outcomes are censored at the start of the test window.\n"
    "The daily top-k list ranks vehicles by P(fault within 24 h) at each test day's start.\n");
  g_autoptr(GError) error = NULL;
  if (!g_option_context_parse (ctx, &argc, &argv, &error))
    return usage_error (error->message);
  if (argc != 2)
    return usage_error ("give one database (see --help)");
  FtMaintBacktestSpec spec;
  ft_maint_backtest_spec_init (&spec);
  if (train_days < 0 || train_days > 3650)
    return usage_error ("--train-days must be 0 (all) to 3650");
  if (test_days < 1 || test_days > 3650)
    return usage_error ("--test-days must be 1 to 3650");
  if (step < 1 || step > 24 || 24 % step != 0)
    return usage_error ("--step must divide a day: 1, 2, 3, 4, 6, 8, 12 or 24");
  if (rounds < 1 || rounds > 100000)
    return usage_error ("--rounds must be 1 to 100000");
  if (depth < 1 || depth > 16)
    return usage_error ("--depth must be 1 to 16");
  if (threads < 0 || threads > 1024)
    return usage_error ("--threads must be 0 to 1024");
  if (top_k && !parse_top_k (top_k, &spec.top_k, &spec.top_k_frac))
    return usage_error ("--top-k must be a whole number of vehicles (1 or more) or a share like 2%");
  if (ridge != -1 && !(ridge >= 0 && ridge <= 1000))
    return usage_error ("--ridge must be 0 to 1000");
  if (ridge != -1)
    spec.params.ridge = ridge;
  spec.train_days = (guint) train_days;
  spec.test_days = (guint) test_days;
  spec.step_hours = (guint) step;
  spec.params.xgb_rounds = (guint) rounds;
  spec.params.xgb_max_depth = (guint) depth;
  spec.params.xgb_nthread = (guint) threads;

  FtMaintKind kinds[FT_N_MAINT_KINDS] = { FT_MAINT_BASELINE };
  guint n_kinds = 1;
  g_auto(GStrv) names = g_strsplit (models ? models : "weibull,xgb", ",", -1);
  for (guint i = 0; names[i]; i++)
    {
      FtMaintKind k;
      if (!ft_maint_kind_from_name (g_strstrip (names[i]), &k))
        {
          g_autofree char *m = g_strdup_printf ("--models: unknown model '%s' (weibull, xgb)", names[i]);
          return usage_error (m);
        }
      gboolean seen = FALSE;
      for (guint j = 0; j < n_kinds; j++)
        seen |= kinds[j] == k;
      if (!seen)
        kinds[n_kinds++] = k;
    }

  gsl_set_error_handler_off ();
  const char *db = argv[1];
  g_autoptr(FtMaintLog) log = ft_maint_log_read_db (db, &error);
  if (log == NULL)
    return fail (error->message);
  FtMaintScore scores[FT_N_MAINT_KINDS];
  double fit_s[FT_N_MAINT_KINDS], pred_s[FT_N_MAINT_KINDS];
  if (!ft_maint_backtest (log, &spec, kinds, n_kinds, scores, fit_s, pred_s, &error))
    {
      g_prefix_error (&error, "%s: ", db);
      return fail (error->message);
    }
  double days = (double) (ft_maint_log_end (log) - ft_maint_log_start (log)) / FT_DAY;
  char train[32] = "everything";
  if (train_days)
    g_snprintf (train, sizeof train, "%d days", train_days);
  printf ("%s: %u vehicles, %u faults over %.2f days; train on %s before the last %d days, "
          "rows every %d h; top-%u list per day\n",
          db, ft_maint_log_n_vehicles (log), ft_maint_log_n_faults (log), days,
          train, test_days, step, scores[0].k);
  printf ("%-8s %6s %6s %7s %7s %7s %7s %6s %7s %6s %9s %7s %7s\n", "model", "P@k", "R@k", "AUC24", "Brier24",
          "AUC7d", "Brier7d", "C", "faults", "caught", "lead med", "fit s", "pred s");
  g_autoptr(GString) out = g_string_new (CSV_HEADER);
  for (guint q = 0; q < n_kinds; q++)
    {
      const FtMaintScore *s = &scores[q];
      char c[12][24];
      fmt (c[0], 24, s->precision_at_k, "%.3f");
      fmt (c[1], 24, s->recall_at_k, "%.3f");
      fmt (c[2], 24, s->auc[0], "%.3f");
      fmt (c[3], 24, s->brier[0], "%.4f");
      fmt (c[4], 24, s->auc[1], "%.3f");
      fmt (c[5], 24, s->brier[1], "%.4f");
      fmt (c[6], 24, s->c_index, "%.3f");
      fmt (c[7], 24, s->lead_median_h, "%.1f h");
      printf ("%-8s %6s %6s %7s %7s %7s %7s %6s %7u %6u %9s %7.2f %7.3f\n", ft_maint_kind_name (kinds[q]),
              c[0], c[1], c[2], c[3], c[4], c[5], c[6], s->faults, s->caught, c[7], fit_s[q], pred_s[q]);
      char num[16][G_ASCII_DTOSTR_BUF_SIZE];
      const double v[] = { s->precision_at_k, s->recall_at_k, s->auc[0], s->brier[0], s->auc[1], s->brier[1],
                           s->c_index, s->lead_median_h, s->lead_mean_h, fit_s[q], pred_s[q] };
      for (guint i = 0; i < G_N_ELEMENTS (v); i++)
        {
          if (isnan (v[i]))
            num[i][0] = '\0';
          else
            g_ascii_formatd (num[i], sizeof num[i], "%.6g", v[i]);
        }
      g_string_append_printf (out, "%s,%u,%u,%s,%s,%s,%s,%u,%s,%s,%u,%s,%u,%u,%s,%s,%s,%s\n",
                              ft_maint_kind_name (kinds[q]), s->k, s->lists, num[0], num[1], num[2], num[3],
                              s->n_eval[0], num[4], num[5], s->n_eval[1], num[6], s->faults, s->caught,
                              num[7], num[8], num[9], num[10]);
    }
  if (scores[0].n_eval[1] == 0)
    printf ("7-day scores need test rows followed for 7 days: use --test-days 8 or more\n");
  if (csv)
    {
      g_autoptr(FtOutput) o = ft_output_begin (csv, FT_OUTPUT_FILE, csv_is_own, force, &error);
      if (o == NULL || !g_file_set_contents (ft_output_get_path (o), out->str, (gssize) out->len, &error) ||
          !ft_output_commit (g_steal_pointer (&o), &error))
        return fail (error->message);
      printf ("scores written to %s\n", csv);
    }
  return 0;
}

int
ft_cli_maintenance (int argc, char **argv)
{
  if (argc >= 2 && strcmp (argv[1], "backtest") == 0)
    {
      g_autofree char *prog = g_strdup_printf ("%s backtest", argv[0]);
      argv[1] = prog;
      return backtest (argc - 1, argv + 1);
    }
  fprintf (argc >= 2 && strcmp (argv[1], "--help") == 0 ? stdout : stderr,
           "Usage: %s backtest DB [--train-days N] [--test-days N] [--top-k K|P%%] [--csv FILE]\n"
           "       [--models weibull,xgb] [--step H] [--ridge L] [--rounds N] [--depth N] [--threads N] [--force]\n"
           "Predictive maintenance: train on a run's event log and score on its last days.\n",
           argv[0]);
  return argc >= 2 && strcmp (argv[1], "--help") == 0 ? 0 : 2;
}
