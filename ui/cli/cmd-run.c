/* cmd-run.c — `fleet-twin-cli run SCENARIO` runs a scenario headless and
 * reports KPIs (a table, or one JSON object with --json), optionally writing
 * the event log, final state and KPIs to a SQLite file; `compare A.db B.db …`
 * puts the KPIs of several result files side by side.
 */
#include "ft-config.h"
#include "ft-cli.h"
#include "ft-data.h"
#include "ft-sim-world.h"
#include "ft-registry-shadow.h"
#include "ft-file.h"
#include "ft-json.h"
#include "ft-store.h"

#include <json-glib/json-glib.h>
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

static void
progress_cb (double f, gpointer user_data)
{
  ft_cli_progress (user_data, f);
}

static void
print_table (const FtSimKpis *k, const FtSimScenario *sc, double wall_s)
{
  g_autofree char *rev = ft_money_format (k->revenue_minor, k->currency);
  g_autofree char *rpvd = ft_money_format (k->revenue_per_vehicle_day_minor, k->currency);
  printf ("Scenario: %s (seed %" G_GUINT64_FORMAT ", %.2f days, %u vehicles, %u field staff)\n",
          sc->name, sc->seed, k->days, k->n_vehicles, sc->field_staff);
  printf ("  %-34s %12" G_GUINT64_FORMAT "\n", "trips requested", k->trips_requested);
  printf ("  %-34s %12" G_GUINT64_FORMAT "\n", "trips served", k->trips_served);
  printf ("  %-34s %12" G_GUINT64_FORMAT "  (%.1f%%)\n", "trips lost", k->trips_lost,
          k->trips_requested ? 100.0 * k->trips_lost / k->trips_requested : 0.0);
  for (guint r = 0; r < FT_SIM_N_LOST; r++)
    {
      g_autofree char *label = g_strdup_printf ("  lost: %s", ft_sim_lost_reason_name (r));
      printf ("  %-34s %12" G_GUINT64_FORMAT "\n", label, k->lost[r]);
    }
  printf ("  %-34s %12.2f\n", "trips per vehicle per day", k->trips_per_vehicle_day);
  printf ("  %-34s %11.1f%%\n", "utilisation (time on trip)", 100.0 * k->utilisation);
  printf ("  %-34s %12.2f\n", "mean trip length (km)", k->mean_trip_km);
  printf ("  %-34s %12.0f\n", "mean walk to vehicle (m)", k->mean_walk_m);
  printf ("  %-34s %12s\n", "revenue", rev);
  printf ("  %-34s %12s\n", "revenue per vehicle per day", rpvd);
  printf ("  %-34s %11.2f%%  (%.0f vehicle-hours)\n", "battery-unavailable share",
          100.0 * k->battery_unavailable_share, k->battery_unavailable_hours);
  printf ("  %-34s %12" G_GUINT64_FORMAT "\n", "battery swaps", k->battery_swaps);
  printf ("  %-34s %12" G_GUINT64_FORMAT "\n", "rebalancing moves", k->rebalances);
  printf ("  %-34s %12" G_GUINT64_FORMAT "  (%" G_GUINT64_FORMAT " collected)\n", "faults", k->faults, k->collections);
  printf ("  %-34s %12.1f\n", "fault downtime (vehicle-hours)", k->fault_downtime_hours);
  printf ("  %-34s %12.1f\n", "staff hours", k->staff_hours);
  printf ("  %-34s %12.1f\n", "staff km", k->staff_km);
  if (g_strcmp0 (sc->dyn_policy, "off") != 0 || sc->inc_enabled)
    {
      g_autofree char *inc = ft_money_format (k->incentive_cost_minor, k->currency);
      printf ("  %-34s %12" G_GUINT64_FORMAT "  (policy %s)\n", "zone price changes", k->price_changes,
              sc->dyn_policy);
      printf ("  %-34s %12.3f\n", "mean dynamic multiplier charged", k->mean_price_multiplier);
      printf ("  %-34s %12" G_GUINT64_FORMAT "\n", "relocation offers taken", k->incentive_moves);
      printf ("  %-34s %12s  (%" G_GUINT64_FORMAT " trips rewarded)\n", "incentive cost", inc,
              k->incentive_rewards);
    }
  {
    g_autofree char *cost = ft_money_format (k->cost_total_minor, k->currency);
    g_autofree char *cm = ft_money_format (llround (k->contribution_margin_per_vehicle_day_minor), k->currency);
    g_autofree char *nm = ft_money_format (llround (k->net_margin_per_vehicle_day_minor), k->currency);
    g_autofree char *cpt = ft_money_format (llround (k->cost_per_trip_minor), k->currency);
    g_autofree char *cps = ft_money_format (llround (k->cost_per_swap_minor), k->currency);
    printf ("  %-34s %12s\n", "costs (all, [costs] model)", cost);
    printf ("  %-34s %12s\n", "contribution margin per veh-day", cm);
    printf ("  %-34s %12s\n", "net margin per vehicle per day", nm);
    printf ("  %-34s %12s\n", "cost per trip", cpt);
    printf ("  %-34s %12s\n", "cost per swap", cps);
  }
  printf ("  %-34s %12s\n", "ledger balanced", k->ledger_balanced ? "yes" : "NO");
  if (k->shadow)
    {
      printf ("  shadow mode (%s; nothing acts on it)\n", k->shadow_model[0] ? k->shadow_model : "not fitted yet");
      printf ("  %-34s %12" G_GUINT64_FORMAT "  (%" G_GUINT64_FORMAT " issued)\n", "  predictions scored",
              k->shadow_scored, k->shadow_predictions);
      printf ("  %-34s %12.3f  (baseline %.3f, %+.1f%%)\n", "  forecast RMSE", k->shadow_rmse,
              k->shadow_base_rmse, k->shadow_base_rmse > 0 ? 100.0 * (k->shadow_rmse / k->shadow_base_rmse - 1) : 0);
      printf ("  %-34s %12.3f  (baseline %.3f)\n", "  forecast MAE", k->shadow_mae, k->shadow_base_mae);
      if (k->shadow_scored_15min)
        printf ("  %-34s %12.3f  (hour split evenly %.3f; %" G_GUINT64_FORMAT " scored)\n", "  next 15 min RMSE",
                k->shadow_rmse_15min, k->shadow_base_rmse_15min, k->shadow_scored_15min);
      printf ("  %-34s %12u  (%u promoted)\n", "  retrains", k->shadow_retrains, k->shadow_promotions);
      printf ("  %-34s %12u  (%u warnings)\n", "  drift actions", k->shadow_drift_actions,
              k->shadow_drift_warnings);
    }
  if (k->shadow_maint)
    {
      printf ("  shadow maintenance (%s; nothing acts on it)\n",
              k->shadow_maint_model[0] ? k->shadow_maint_model : "not fitted yet");
      printf ("  %-34s %12" G_GUINT64_FORMAT "  (%" G_GUINT64_FORMAT " issued, %u fits)\n", "  predictions scored",
              k->shadow_maint_scored, k->shadow_maint_predictions, k->shadow_maint_fits);
      printf ("  %-34s %12.4f  (baseline %.4f; 7 d %.4f)\n", "  Brier, 24 h", k->shadow_maint_brier_short,
              k->shadow_maint_base_brier_short, k->shadow_maint_brier_long);
      printf ("  %-34s %12.3f  (baseline %.3f; 7 d %.3f)\n", "  AUC, 24 h", k->shadow_maint_auc_short,
              k->shadow_maint_base_auc_short, k->shadow_maint_auc_long);
      printf ("  %-34s %12.3f  (recall %.3f, k = %u)\n", "  precision at k", k->shadow_maint_precision_at_k,
              k->shadow_maint_recall_at_k, k->shadow_maint_k);
      printf ("  %-34s %12u  (of %u faults; median lead %.1f h)\n", "  faults caught", k->shadow_maint_caught,
              k->shadow_maint_faults, k->shadow_maint_lead_median_h);
    }
  printf ("  %-34s %12" G_GUINT64_FORMAT "  (%" G_GUINT64_FORMAT " engine events, %.2f s wall)\n",
          "domain events", k->domain_events, k->engine_events, wall_s);
}

/* Shadow mode's forecast error by day of the target hour (NULL: none). */
static char *
shadow_days_text (FtSimWorld *w)
{
  FtShadow *sh = ft_sim_world_get_shadow (w);
  if (sh == NULL || ft_shadow_n_days (sh) == 0)
    return NULL;
  GString *s = g_string_new ("  shadow forecast RMSE by day        model  baseline  zone-hours\n");
  for (guint d = 0; d < ft_shadow_n_days (sh); d++)
    {
      double r, b;
      guint64 n;
      if (ft_shadow_day_score (sh, d, &r, &b, &n))
        g_string_append_printf (s, "    day %-28u %6.3f  %8.3f  %10" G_GUINT64_FORMAT "\n", d + 1, r, b, n);
    }
  return g_string_free (s, FALSE);
}

/* --shadow-cost: one line per shadow model, CPU seconds by part. */
static void
print_shadow_cost (FtSimWorld *w)
{
  FtShadow *sh = ft_sim_world_get_shadow (w);
  FtShadowCost c[2];
  memset (c, 0, sizeof c);
  if (sh)
    ft_shadow_cost (sh, &c[0], &c[1]);
  static const char *const names[] = { "forecast", "maint" };
  for (guint i = 0; i < 2; i++)
    fprintf (stderr, "shadow cost %-8s ticks %5u fits %2u  CPU s: train %.3f predict %.3f score %.3f store %.3f "
             "worker %.3f wait %.3f  iterations %u\n", names[i], c[i].ticks, c[i].fits, c[i].train_s,
             c[i].predict_s, c[i].score_s, c[i].store_s, c[i].train_worker_s, c[i].train_wait_s,
             c[i].fit_iterations);
  FtShadowAsyncCost a;
  if (sh && ft_shadow_consumer_cost (sh, &a))
    fprintf (stderr, "shadow consumer thread CPU s %.3f  simulator waited %.3f s (%u times, %u for a block)  blocks %"
             G_GUINT64_FORMAT " events %" G_GUINT64_FORMAT "\n", a.consumer_s, a.wait_s, a.waits, a.full_waits, a.blocks,
             a.events);
}

int
ft_cli_run (int argc, char **argv)
{
  double days = 0;
  gint64 seed = -1;
  gint replication = -1;
  g_autofree char *out = NULL;
  gboolean json = FALSE, quiet = FALSE, force = FALSE, shadow_cost = FALSE, thread_cpu = FALSE;
  GOptionEntry entries[] = {
    { "days", 'd', 0, G_OPTION_ARG_DOUBLE, &days, "Simulated days (overrides the scenario)", "N" },
    { "seed", 's', 0, G_OPTION_ARG_INT64, &seed, "Master random seed (overrides the scenario)", "S" },
    { "replication", 'r', 0, G_OPTION_ARG_INT, &replication, "Replication number", "R" },
    { "out", 'o', 0, G_OPTION_ARG_FILENAME, &out,
      "Write event log, final state and KPIs to this SQLite file (an earlier run's file is replaced when the run completes)", "FILE" },
    { "force", 0, 0, G_OPTION_ARG_NONE, &force, "Replace --out even when it is not a Fleet Twin result file", NULL },
    { "json", 'j', 0, G_OPTION_ARG_NONE, &json, "Print the KPIs as one JSON object", NULL },
    { "quiet", 'q', 0, G_OPTION_ARG_NONE, &quiet, "No progress bar", NULL },
    { "shadow-cost", 0, 0, G_OPTION_ARG_NONE, &shadow_cost,
      "Print on stderr the CPU seconds shadow mode spent by part (tests/models/bench-shadow.sh)", NULL },
    { "thread-cpu", 0, 0, G_OPTION_ARG_NONE, &thread_cpu,
      "Print on stderr the CPU seconds of the thread that ran the simulation (read once, at the end; "
      "shadow mode's fits run on threads of their own)", NULL },
    { NULL }
  };
  g_autoptr (GOptionContext) ctx = g_option_context_new ("SCENARIO — run a scenario and report KPIs");
  g_option_context_add_main_entries (ctx, entries, NULL);
  g_autoptr (GError) error = NULL;
  if (!g_option_context_parse (ctx, &argc, &argv, &error))
    {
      fprintf (stderr, "%s: %s\n", argv[0], error->message);
      return 2;
    }
  if (argc != 2)
    {
      fprintf (stderr, "%s: give exactly one scenario: a file, or the name of an installed one (demo-city-phase1)\n", argv[0]);
      return 2;
    }
  /* A file, or the name of an installed scenario (demo-city-phase1). */
  static const char *const exts[] = { "", ".scenario", NULL };
  g_autofree char *sc_path = ft_data_find_named ("scenarios", argv[1], exts, "scenario", &error);
  g_autoptr (FtSimScenario) sc = sc_path ? ft_sim_scenario_load (sc_path, &error) : NULL;
  if (sc == NULL)
    {
      fprintf (stderr, "%s: %s\n", argv[0], error->message);
      return 1;
    }
  if (!(days >= 0 && days <= 3660))   /* also refuses NaN */
    {
      fprintf (stderr, "%s: --days must be between 0 and 3660\n", argv[0]);
      return 2;
    }
  if (days > 0)
    sc->days = days;
  if (seed >= 0)
    sc->seed = (guint64) seed;
  if (replication >= 0)
    sc->replication = (guint) replication;

  if (!quiet && (sc->city_osm || sc->city_trips))
    fprintf (stderr, sc->city_osm ? "building the city from %s (cached after the first run)…\n"
                                  : "building the city from the trips in %s…\n",
             sc->city_osm ? sc->city_osm : sc->city_trips);
  /* The run writes beside --out; the file is moved into place only when the
   * run is complete, so a failed or killed run leaves the previous one. */
  g_autoptr (FtOutput) output = NULL;
  if (out)
    {
      output = ft_output_begin (out, FT_OUTPUT_SQLITE, ft_output_is_ft_sqlite, force, &error);
      if (output == NULL)
        {
          fprintf (stderr, "%s: %s\n", argv[0], error->message);
          return 1;
        }
    }
  FtSimWorldOptions opt = { .store_path = output ? ft_output_get_path (output) : NULL };
  gint64 t0 = g_get_monotonic_time ();
  g_autoptr (FtSimWorld) w = ft_sim_world_new (sc, NULL, &opt, &error);
  if (w == NULL)
    {
      fprintf (stderr, "%s: %s\n", argv[0], error->message);
      return 1;
    }
  if (shadow_cost && ft_sim_world_get_shadow (w))
    ft_shadow_measure_cost (ft_sim_world_get_shadow (w), TRUE);
  if (!quiet && ft_sim_world_n_trace (w) > 0)
    fprintf (stderr, "replaying a demand trace of %u requests\n", ft_sim_world_n_trace (w));
  gboolean ok = ft_sim_world_run (w, quiet ? NULL : progress_cb, (gpointer) "simulating", &error);
  if (!quiet)
    ft_cli_progress_done ();
  if (ok)
    ok = ft_sim_world_finish (w, &error);
  if (!ok)
    {
      fprintf (stderr, "%s: %s\n", argv[0], error->message);
      return 1;
    }
  double wall = (g_get_monotonic_time () - t0) / 1e6;
  if (thread_cpu)
    {
      struct timespec ts;
      if (clock_gettime (CLOCK_THREAD_CPUTIME_ID, &ts) == 0)
        fprintf (stderr, "simulator thread CPU s: %.3f\n", (double) ts.tv_sec + ts.tv_nsec * 1e-9);
    }
  FtSimKpis k;
  ft_sim_world_kpis (w, &k);
  guint64 n_refused = ft_sim_world_n_errors (w);
  g_autofree char *days_text = shadow_days_text (w);
  if (shadow_cost)
    print_shadow_cost (w);
  g_clear_pointer (&w, ft_sim_world_free);   /* closes the store */
  if (output && !ft_output_commit (g_steal_pointer (&output), &error))
    {
      fprintf (stderr, "%s: %s\n", argv[0], error->message);
      return 1;
    }
  if (json)
    {
      g_autofree char *s = ft_sim_kpis_to_json (&k, sc);
      printf ("%s\n", s);
    }
  else
    {
      print_table (&k, sc, wall);
      if (days_text)
        fputs (days_text, stdout);
      if (out)
        printf ("Results written to %s\n", out);
    }
  if (n_refused > 0)
    {
      fprintf (stderr, "%s: warning: %" G_GUINT64_FORMAT " module calls were refused during the run\n",
               argv[0], n_refused);
      return 1;
    }
  return k.ledger_balanced ? 0 : 1;
}

int
ft_cli_compare (int argc, char **argv)
{
  g_autoptr (GOptionContext) ctx = g_option_context_new ("A.db B.db … — compare the KPIs of result files side by side");
  g_autoptr (GError) error = NULL;
  if (!g_option_context_parse (ctx, &argc, &argv, &error))
    {
      fprintf (stderr, "%s: %s\n", argv[0], error->message);
      return 2;
    }
  if (argc < 2)
    {
      fprintf (stderr, "%s: give one or more result files written by 'run --out'\n", argv[0]);
      return 2;
    }
  guint n = (guint) argc - 1;
  g_autoptr (GPtrArray) objs = g_ptr_array_new_with_free_func ((GDestroyNotify) json_node_unref);
  g_autoptr (GPtrArray) keys = g_ptr_array_new_with_free_func (g_free);
  for (guint i = 0; i < n; i++)
    {
      const char *path = argv[i + 1];
      /* Read only: an input is never changed (an empty or foreign file used
       * to be given a schema). */
      g_autofree char *kpis = ft_store_read_meta (path, "kpis", &error);
      if (kpis == NULL && error != NULL)
        {
          fprintf (stderr, "%s: %s\n", argv[0], error->message);
          return 1;
        }
      if (kpis == NULL)
        {
          fprintf (stderr, "%s: %s has no KPIs (was it written by 'fleet-twin-cli run --out'?)\n", argv[0], path);
          return 1;
        }
      JsonNode *node = ft_json_parse (kpis, -1, path, 0, 0, &error);
      if (node == NULL || !JSON_NODE_HOLDS_OBJECT (node))
        {
          fprintf (stderr, "%s: %s: KPIs are not a JSON object%s%s\n", argv[0], path,
                   error ? ": " : "", error ? error->message : "");
          if (node)
            json_node_unref (node);
          return 1;
        }
      g_ptr_array_add (objs, node);
      JsonObject *o = json_node_get_object (node);
      g_autoptr (GList) members = json_object_get_members (o);
      for (GList *l = members; l; l = l->next)
        {
          JsonNode *m = json_object_get_member (o, l->data);
          if (!JSON_NODE_HOLDS_VALUE (m))
            continue;
          gboolean seen = FALSE;
          for (guint k = 0; k < keys->len && !seen; k++)
            seen = strcmp (g_ptr_array_index (keys, k), l->data) == 0;
          if (!seen)
            g_ptr_array_add (keys, g_strdup (l->data));
        }
    }
  printf ("%-32s", "kpi");
  for (guint i = 0; i < n; i++)
    {
      g_autofree char *base = g_path_get_basename (argv[i + 1]);
      printf (" %20.20s", base);
    }
  printf ("\n");
  for (guint k = 0; k < keys->len; k++)
    {
      const char *key = g_ptr_array_index (keys, k);
      printf ("%-32s", key);
      for (guint i = 0; i < n; i++)
        {
          JsonObject *o = json_node_get_object (g_ptr_array_index (objs, i));
          JsonNode *m = json_object_get_member (o, key);
          if (m == NULL || !JSON_NODE_HOLDS_VALUE (m))
            {
              printf (" %20s", "-");
              continue;
            }
          GType t = json_node_get_value_type (m);
          if (t == G_TYPE_INT64)
            printf (" %20" G_GINT64_FORMAT, json_node_get_int (m));
          else if (t == G_TYPE_DOUBLE)
            printf (" %20.4f", json_node_get_double (m));
          else if (t == G_TYPE_BOOLEAN)
            printf (" %20s", json_node_get_boolean (m) ? "true" : "false");
          else
            printf (" %20.20s", json_node_get_string (m));
        }
      printf ("\n");
    }
  return 0;
}

/* `fleet-twin-cli check FILE…`: each store file passes SQLite's
 * integrity_check, loads (the store refuses state that breaks the modules'
 * invariants) and passes ft_core_check. Used by the kill tests. */
int
ft_cli_check (int argc, char **argv)
{
  g_autoptr (GOptionContext) ctx = g_option_context_new ("FILE… — check store files (integrity and invariants)");
  g_autoptr (GError) error = NULL;
  if (!g_option_context_parse (ctx, &argc, &argv, &error))
    {
      fprintf (stderr, "%s: %s\n", argv[0], error->message);
      return 2;
    }
  if (argc < 2)
    {
      fprintf (stderr, "%s: give one or more store files\n", argv[0]);
      return 2;
    }
  int bad = 0;
  for (int i = 1; i < argc; i++)
    {
      const char *path = argv[i];
      if (!ft_output_is_ft_sqlite (path))
        {
          fprintf (stderr, "%s: %s is not a Fleet Twin store\n", argv[0], path);
          bad++;
          continue;
        }
      FtCoreConfig cfg;
      ft_core_config_init (&cfg);
      g_autoptr (FtCore) core = ft_core_new (&cfg, NULL, NULL);
      if (!ft_core_attach_store (core, path, NULL, &error) || !ft_store_integrity_ok (core->store, &error) ||
          !ft_core_check (core, &error))
        {
          fprintf (stderr, "%s: %s: %s\n", argv[0], path, error->message);
          g_clear_error (&error);
          bad++;
          continue;
        }
      printf ("%s: ok (%u vehicles, %u accounts, %" G_GUINT64_FORMAT " events)\n", path,
              ft_fleet_n_vehicles (core->fleet), ft_accounts_n (core->accounts), ft_store_n_events (core->store));
    }
  return bad == 0 ? 0 : 1;
}
