/* cmd-models.c — `fleet-twin-cli models list|show|train|promote|retire DB`:
 * the model registry in a run or live database. train fits a demand
 * forecast on the database's own event log (requests per zone and hour),
 * evaluates it on the last held-back hours against the champion, and
 * registers it as a candidate (promoted only with --promote-if-better and
 * a lower held-back RMSE). A version that does not exist, a blob that
 * fails its SHA-256, an empty log are clear errors that change nothing.
 */
#include "ft-config.h"
#include "ft-cli.h"
#include "ft-registry.h"

#include <glib/gstdio.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

static int
usage (const char *msg)
{
  fprintf (stderr, "fleet-twin-cli models: %s\n", msg);
  return 2;
}

static int
fail (const char *what, const GError *error)
{
  fprintf (stderr, "fleet-twin-cli models %s: %s\n", what, error->message);
  return 1;
}

/* Opens an existing store (never creates one). */
static FtStore *
open_db (const char *path, GError **error)
{
  if (!g_file_test (path, G_FILE_TEST_IS_REGULAR))
    {
      g_set_error (error, G_FILE_ERROR, G_FILE_ERROR_NOENT,
                   "%s: no such database (give a file written by `run --out` or `live`)", path);
      return NULL;
    }
  return ft_store_open (path, NULL, error);
}

static gboolean
parse_version (const char *s, gint64 *out)
{
  guint64 v = 0;
  if (!g_ascii_string_to_unsigned (s, 10, 1, G_MAXINT64, &v, NULL))
    return FALSE;
  *out = (gint64) v;
  return TRUE;
}

static void
print_time (const char *label, FtTime t)
{
  printf ("  %-14s %.2f days (%" G_GINT64_FORMAT " ms)\n", label, t / (double) FT_DAY, t);
}

static int
cmd_list (int argc, char **argv)
{
  g_autofree char *kind = NULL, *city = NULL;
  GOptionEntry entries[] = {
    { "kind", 0, 0, G_OPTION_ARG_STRING, &kind, "Only this kind (forecast-glm, …)", "KIND" },
    { "city", 0, 0, G_OPTION_ARG_STRING, &city, "Only this city", "CITY" },
    { NULL }
  };
  g_autoptr(GOptionContext) ctx = g_option_context_new ("DB — list model versions");
  g_option_context_add_main_entries (ctx, entries, NULL);
  g_autoptr(GError) error = NULL;
  if (!g_option_context_parse (ctx, &argc, &argv, &error))
    return usage (error->message);
  if (argc != 2)
    return usage ("usage: fleet-twin-cli models list DB [--kind KIND] [--city CITY]");
  g_autoptr(FtStore) s = open_db (argv[1], &error);
  if (!s)
    return fail ("list", error);
  g_autoptr(GPtrArray) v = ft_store_model_list (s, kind, city, &error);
  if (!v)
    return fail ("list", error);
  printf ("%-6s %-14s %-14s %-10s %-11s %-12s %s\n", "id", "kind", "city", "status", "origin",
          "sha256", "metrics");
  for (guint i = 0; i < v->len; i++)
    {
      const FtStoreModel *m = g_ptr_array_index (v, i);
      printf ("%-6" G_GINT64_FORMAT " %-14s %-14s %-10s %-11s %.12s %s\n", m->id, m->kind, m->city,
              m->status, ft_registry_origin_label (m), m->sha256, m->metrics);
    }
  printf ("%u version%s\n", v->len, v->len == 1 ? "" : "s");
  return 0;
}

static int
cmd_show (int argc, char **argv)
{
  if (argc != 3)
    return usage ("usage: fleet-twin-cli models show DB VERSION");
  gint64 id;
  if (!parse_version (argv[2], &id))
    return usage ("VERSION must be a version id (a positive whole number; see models list)");
  g_autoptr(GError) error = NULL;
  g_autoptr(FtStore) s = open_db (argv[1], &error);
  if (!s)
    return fail ("show", error);
  g_autoptr(FtStoreModel) m = ft_store_model_get (s, id, &error);   /* checks the SHA-256 */
  if (!m)
    return fail ("show", error);
  printf ("model version %" G_GINT64_FORMAT "\n", m->id);
  printf ("  %-14s %s\n", "kind", m->kind);
  printf ("  %-14s %s (%s; trained on %s data)\n", "city", m->city, ft_registry_origin_label (m),
          m->trained_city);
  printf ("  %-14s %s\n", "status", m->status);
  print_time ("created", m->created);
  print_time ("train start", m->train_start);
  print_time ("train end", m->train_end);
  printf ("  %-14s %" G_GINT64_FORMAT " bytes, sha256 %s (checked)\n", "blob", m->blob_size, m->sha256);
  printf ("  %-14s %s\n", "params", m->params);
  printf ("  %-14s %s\n", "metrics", m->metrics);
  g_autofree char *feat = g_strndup (m->features, 160);
  printf ("  %-14s %s%s\n", "features", feat, strlen (m->features) > 160 ? " …" : "");
  FtModelKind mk;
  FtForecastKind fk;
  if (ft_model_kind_from_name (m->kind, &mk) && ft_model_kind_to_forecast (mk, &fk))
    {
      g_autoptr(FtForecaster) f = ft_forecaster_load (m->blob, &error);
      if (!f)
        return fail ("show", error);
    }
  FtStorePredictionScore sc;
  if (!ft_store_prediction_score (s, id, &sc, &error))
    return fail ("show", error);
  if (sc.n > 0)
    printf ("  %-14s %" G_GUINT64_FORMAT " scored: RMSE %.3f, MAE %.3f (baseline RMSE %.3f, MAE %.3f)\n",
            "shadow", sc.n, sc.rmse, sc.mae, sc.base_rmse, sc.base_mae);
  else
    printf ("  %-14s no scored predictions\n", "shadow");
  return 0;
}

static int
cmd_status (int argc, char **argv, const char *what)
{
  if (argc != 3)
    return usage (strcmp (what, "active") == 0 ? "usage: fleet-twin-cli models promote DB VERSION"
                                               : "usage: fleet-twin-cli models retire DB VERSION");
  gint64 id;
  if (!parse_version (argv[2], &id))
    return usage ("VERSION must be a version id (a positive whole number; see models list)");
  g_autoptr(GError) error = NULL;
  g_autoptr(FtStore) s = open_db (argv[1], &error);
  if (!s)
    return fail (argv[0], error);
  /* the blob must pass its checksum before it may serve */
  if (strcmp (what, "active") == 0)
    {
      g_autoptr(FtStoreModel) m = ft_store_model_get (s, id, &error);
      if (!m)
        return fail (argv[0], error);
    }
  gboolean ok = strcmp (what, "active") == 0 ? ft_registry_promote (s, id, &error)
                                             : ft_registry_retire (s, id, &error);
  if (!ok)
    return fail (argv[0], error);
  printf ("model version %" G_GINT64_FORMAT " is now %s\n", id, what);
  return 0;
}

static int
cmd_train (int argc, char **argv)
{
  g_autofree char *model = NULL, *city = NULL, *trained_city = NULL;
  double days = 7, cell_m = 800;
  int holdout = 24;
  gboolean promote = FALSE;
  GOptionEntry entries[] = {
    { "model", 0, 0, G_OPTION_ARG_STRING, &model, "mean, glm or xgb (default glm)", "MODEL" },
    { "city", 0, 0, G_OPTION_ARG_STRING, &city, "City the version serves (default: the one shadow mode recorded, else \"unknown\")", "CITY" },
    { "trained-city", 0, 0, G_OPTION_ARG_STRING, &trained_city, "City whose data this is, when not --city (labels the version transferred)", "CITY" },
    { "days", 0, 0, G_OPTION_ARG_DOUBLE, &days, "Training window in days before the held-back hours (default 7)", "D" },
    { "holdout", 0, 0, G_OPTION_ARG_INT, &holdout, "Hours held back at the end to evaluate on (default 24)", "H" },
    { "cell", 0, 0, G_OPTION_ARG_DOUBLE, &cell_m, "Grid cell in metres when the database records no zones (default 800)", "M" },
    { "promote-if-better", 0, 0, G_OPTION_ARG_NONE, &promote, "Promote when the held-back RMSE beats the champion's", NULL },
    { NULL }
  };
  g_autoptr(GOptionContext) ctx = g_option_context_new ("DB — train a demand forecast on the database's event log");
  g_option_context_add_main_entries (ctx, entries, NULL);
  g_autoptr(GError) error = NULL;
  if (!g_option_context_parse (ctx, &argc, &argv, &error))
    return usage (error->message);
  if (argc != 2)
    return usage ("usage: fleet-twin-cli models train DB [--model glm] [--days D] [--holdout H] [--promote-if-better]");
  FtForecastKind kind = FT_FORECAST_GLM;
  if (model && !ft_forecast_kind_from_name (model, &kind))
    return usage ("--model must be mean, glm or xgb");
  if (!isfinite (days) || days < 2 || days > 366)
    return usage ("--days must be 2 to 366");
  if (holdout < 1 || holdout > 24 * 14)
    return usage ("--holdout must be 1 to 336 hours");
  if (!isfinite (cell_m) || cell_m < 50 || cell_m > 20000)
    return usage ("--cell must be 50 to 20000 metres");
  g_autoptr(FtStore) s = open_db (argv[1], &error);
  if (!s)
    return fail ("train", error);
  g_autoptr(FtZoning) zoning = NULL;
  g_autoptr(FtDemandSeries) series = ft_registry_demand_from_store (s, NULL, cell_m, &zoning, &error);
  if (!series)
    return fail ("train", error);
  guint H = series->n_hours, win = (guint) (days * 24);
  if (H < (guint) holdout + 48)
    {
      fprintf (stderr, "fleet-twin-cli models train: the log covers %u hours; training needs at least "
                       "%d (two days before %d held-back hours); nothing was registered\n", H, holdout + 48, holdout);
      return 1;
    }
  guint hs = H - (guint) holdout, ts = hs > win ? hs - win : 0;
  if (city == NULL)
    {
      g_autofree char *recorded = ft_store_dup_meta (s, "models.city");   /* written by shadow mode */
      city = g_strdup (recorded && recorded[0] ? recorded : "unknown");
    }
  FtForecastParams params;
  ft_forecast_params_init (&params);
  params.xgb_nthread = 1;
  g_autoptr(FtForecaster) f = ft_forecaster_new (kind, &params);
  double rmse, mae, k_rmse = INFINITY, k_mae = NAN;
  guint n = 0;
  guint eval_h = MIN ((guint) holdout, (guint) FT_FORECAST_MAX_HORIZON);
  gint64 t_fit = g_get_monotonic_time ();
  if (!ft_forecaster_fit (f, series, ts, hs, &error))
    return fail ("train", error);
  double fit_s = (g_get_monotonic_time () - t_fit) / 1e6;
  if (!ft_registry_evaluate (f, series, hs, H, eval_h, 1, &rmse, &mae, &n, &error))
    return fail ("train", error);
  FtModelKind mk = ft_model_kind_for_forecast (kind);
  gint64 champ = ft_registry_champion (s, mk, city, &error);
  if (error)
    return fail ("train", error);
  if (champ > 0)
    {
      g_autoptr(GError) local = NULL;
      g_autoptr(FtForecaster) cf = ft_registry_load_forecast (s, champ, NULL, &local);
      if (!cf || !ft_registry_evaluate (cf, series, hs, H, eval_h, 1, &k_rmse, &k_mae, NULL, &local))
        {
          fprintf (stderr, "fleet-twin-cli models train: champion %" G_GINT64_FORMAT " cannot be scored "
                           "on this data (%s); comparing with none\n", champ, local->message);
          k_rmse = INFINITY;
        }
    }
  gboolean better = rmse < k_rmse;
  char a[G_ASCII_DTOSTR_BUF_SIZE], b[G_ASCII_DTOSTR_BUF_SIZE], c[G_ASCII_DTOSTR_BUF_SIZE];
  g_autofree char *metrics = g_strdup_printf (
      "{\"reason\": \"manual\", \"holdout_rmse\": %s, \"holdout_mae\": %s, \"champion_holdout_rmse\": %s, "
      "\"holdout_zone_hours\": %u, \"fit_seconds\": %.3f}",
      g_ascii_formatd (a, sizeof a, "%.6g", rmse), g_ascii_formatd (b, sizeof b, "%.6g", mae),
      isfinite (k_rmse) ? g_ascii_formatd (c, sizeof c, "%.6g", k_rmse) : "null", n, fit_s);
  FtRegistryEntry e = {
    .city = city, .trained_city = trained_city, .created = (FtTime) (g_get_real_time () / 1000),
    .train_start = series->t0 + (FtTime) ts * FT_HOUR, .train_end = series->t0 + (FtTime) hs * FT_HOUR,
    .zoning = zoning, .metrics_json = metrics, .status = "candidate",
  };
  gint64 id = ft_registry_put_forecast (s, f, &e, &error);
  if (id == 0)
    return fail ("train", error);
  FtStoreDecision d = {
    .t = e.created, .kind = ft_model_kind_name (mk), .city = city, .champion = champ, .candidate = id,
    .champion_score = k_rmse, .candidate_score = rmse, .promoted = promote && better, .reason = "manual",
  };
  if (!ft_store_decision_put (s, &d, &error) || (promote && better && !ft_registry_promote (s, id, &error)))
    return fail ("train", error);
  printf ("trained %s on %u zones, hours %u to %u of %u (%.2f s); held-back %d h: RMSE %.3f, MAE %.3f\n",
          ft_model_kind_name (mk), series->n_zones, ts, hs, H, fit_s, holdout, rmse, mae);
  if (champ > 0 && isfinite (k_rmse))
    printf ("champion %" G_GINT64_FORMAT " on the same hours: RMSE %.3f, MAE %.3f\n", champ, k_rmse, k_mae);
  printf ("registered version %" G_GINT64_FORMAT " for %s (%s)%s\n", id, city,
          trained_city && g_strcmp0 (trained_city, city) != 0 ? "transferred" : "local",
          promote && better ? ", promoted to champion" : promote ? ", kept as a candidate (not better)" : " as a candidate");
  return 0;
}

int
ft_cli_models (int argc, char **argv)
{
  static const char help[] =
    "Usage: fleet-twin-cli models COMMAND DB [OPTIONS]\n\n"
    "The model registry of a run or live database.\n\n"
    "Commands:\n"
    "  list DB              Model versions with kind, city, status and metrics\n"
    "  show DB VERSION      One version (its blob's SHA-256 checked) and its shadow scores\n"
    "  train DB             Fit a demand forecast on the database's event log\n"
    "  promote DB VERSION   Make a version the champion of its kind and city\n"
    "  retire DB VERSION    Retire a version\n";
  if (argc < 2 || strcmp (argv[1], "--help") == 0 || strcmp (argv[1], "-h") == 0)
    {
      fputs (help, argc < 2 ? stderr : stdout);
      return argc < 2 ? 2 : 0;
    }
  const char *sub = argv[1];
  if (strcmp (sub, "list") == 0)
    return cmd_list (argc - 1, argv + 1);
  if (strcmp (sub, "show") == 0)
    return cmd_show (argc - 1, argv + 1);
  if (strcmp (sub, "train") == 0)
    return cmd_train (argc - 1, argv + 1);
  if (strcmp (sub, "promote") == 0)
    return cmd_status (argc - 1, argv + 1, "active");
  if (strcmp (sub, "retire") == 0)
    return cmd_status (argc - 1, argv + 1, "retired");
  fprintf (stderr, "fleet-twin-cli models: unknown command '%s'\n\n%s", sub, help);
  return 2;
}
