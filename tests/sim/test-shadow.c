/* test-shadow.c — shadow mode in the simulator: [models] keys and their
 * errors, a short run whose KPIs (struct and JSON) carry the forecast's
 * scores and whose database holds the registry and every prediction with
 * its actual after the run (reopened), the same run without a database
 * giving the same scores bit for bit, and the demand-shift scenario:
 * drift after the shift, a promoted retrain, the error recovering. Shadow
 * mode served from its consumer thread (the default without
 * act_on_forecast) against the inline path: the same golden text and
 * stored rows, a slowed consumer changing nothing, freeing mid-run (a fit
 * being joined included), and a failing tick surfacing once.
 */
#include "ft-config.h"
#include "ft-test.h"
#include "ft-sim-world.h"
#include "ft-registry-shadow.h"
#include "ft-store-models.h"

#include <check.h>
#include <json-glib/json-glib.h>
#include <sqlite3.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

static const char *const SHORT =
  "[scenario]\nname=shadow short\ndays=4\nseed=7\n"
  "[fleet]\nscooters=300\nbikes=0\nmopeds=0\n"
  "[demand]\nrequests_per_day=2500\nrouting=straight\n"
  "[staff]\nfield_staff=4\n"
  "[faults]\nfaults_per_1000km=6\n"
  "[models]\nforecast=true\nforecast_model=glm\ntraining_days=2\nfirst_fit_days=2\n"
  "holdout_hours=12\nhorizons=1, 6\n"
  "maint=true\nmaint_cadence_min=180\nmaint_first_fit_days=1.5\nmaint_training_days=2\n"
  "maint_holdout_days=0.5\nmaint_retrain_days=1\n";

START_TEST (test_models_keys)
{
  static const struct { const char *text, *want; } bad[] = {
    { "[models]\nforecast_model=prophet\n", "[models] forecast_model: 'prophet' must be mean, glm or xgb" },
    { "[models]\nhorizons=0, 3\n", "[models] horizons: '0' is not a whole number of hours in [1, 24]" },
    { "[models]\nhorizons=1,2,3,4,5,6,7,8,9\n", "[models] horizons: needs 1 to 8" },
    { "[models]\ndrift_warn=0.3\ndrift_act=0.2\n", "[models] drift_warn: 0.3 is above drift_act 0.2" },
    { "[models]\ncadence_min=0\n", "[models] cadence_min: 0 is outside" },
    { "[models]\ntraining_days=nan\n", "[models] training_days: 'nan' is not a number" },
    { "[models]\nmaint_model=cox\n", "[models] maint_model: 'cox' must be baseline, weibull or xgb" },
    { "[models]\nmaint_short_h=200\n", "[models] maint_short_h: 200 is not below maint_long_h 168" },
    { "[models]\nmaint_model=xgb\nmaint_short_h=12\n", "[models] maint_model: xgb answers the horizons 24 and 168" },
    { "[models]\nmaint_cadence_min=nan\n", "[models] maint_cadence_min: 'nan' is not a number" },
  };
  for (guint i = 0; i < G_N_ELEMENTS (bad); i++)
    {
      g_autoptr (GError) err = NULL;
      g_autoptr (FtSimScenario) sc = ft_sim_scenario_parse (bad[i].text, -1, "x.scenario", &err);
      ck_assert_ptr_null (sc);
      ck_assert_msg (err && strstr (err->message, bad[i].want), "case %u: %s", i, err ? err->message : "no error");
    }
  g_autoptr (GError) err = NULL;
  g_autoptr (FtSimScenario) sc = ft_sim_scenario_parse (SHORT, -1, "short.scenario", &err);
  ck_assert_msg (sc != NULL, "%s", err ? err->message : "");
  ck_assert (sc->models_forecast);
  ck_assert (sc->models_maint);
  guint leads[8], n = 0;
  g_autofree char *msg = NULL;
  ck_assert (ft_sim_scenario_models_horizons (sc, leads, &n, &msg));
  ck_assert_uint_eq (n, 2);
  ck_assert_uint_eq (leads[1], 6);
  /* the scenario writer keeps the [models] keys */
  g_autofree char *text = ft_sim_scenario_to_text (sc);
  g_autoptr (FtSimScenario) back = ft_sim_scenario_parse (text, -1, "back.scenario", &err);
  ck_assert_msg (back != NULL, "%s", err ? err->message : "");
  ck_assert (ft_sim_scenario_equal (sc, back));
  /* an unknown shift zone is refused when the world is built, naming it */
  g_autoptr (FtSimScenario) sz = ft_sim_scenario_parse ("[fleet]\nscooters=10\nbikes=0\nmopeds=0\n"
                                                       "[demand]\nshift_day=1\nshift_factor=2\nshift_zones=Z01, Z99\n",
                                                       -1, "x.scenario", &err);
  ck_assert_ptr_nonnull (sz);
  g_autoptr (FtSimWorld) w = ft_sim_world_new (sz, NULL, NULL, &err);
  ck_assert_ptr_null (w);
  ck_assert_msg (err && strstr (err->message, "no zone 'Z99'"), "%s", err ? err->message : "");
}
END_TEST

/* Bitwise: NAN equals NAN, and 0.1 + 1e-17 is not 0.1. */
static void
same_double (double a, double b, const char *what)
{
  ck_assert_msg (memcmp (&a, &b, sizeof a) == 0, "%s: %.17g with a store, %.17g without", what, a, b);
}

/* Every score of the two runs, the versions' ids aside (store ids with a
 * store, local numbers without). */
static void
same_scores (const FtShadowScores *a, const FtShadowScores *b, const FtMaintShadowScores *ma,
             const FtMaintShadowScores *mb)
{
  ck_assert_int_eq (a->enabled, b->enabled);
  ck_assert_str_eq (a->model, b->model);
  ck_assert_uint_eq (a->predictions, b->predictions);
  ck_assert_uint_eq (a->scored, b->scored);
  ck_assert_uint_eq (a->scored_15min, b->scored_15min);
  const double fa[] = { a->rmse, a->mae, a->base_rmse, a->base_mae, a->rmse_15min, a->mae_15min,
                        a->base_rmse_15min, a->base_mae_15min, a->last_psi, a->last_ks_d, a->last_ks_p };
  const double fb[] = { b->rmse, b->mae, b->base_rmse, b->base_mae, b->rmse_15min, b->mae_15min,
                        b->base_rmse_15min, b->base_mae_15min, b->last_psi, b->last_ks_d, b->last_ks_p };
  for (guint i = 0; i < G_N_ELEMENTS (fa); i++)
    same_double (fa[i], fb[i], "forecast score");
  const guint ia[] = { a->fits, a->retrains, a->promotions, a->drift_warnings, a->drift_actions };
  const guint ib[] = { b->fits, b->retrains, b->promotions, b->drift_warnings, b->drift_actions };
  for (guint i = 0; i < G_N_ELEMENTS (ia); i++)
    ck_assert_uint_eq (ia[i], ib[i]);

  ck_assert_int_eq (ma->enabled, mb->enabled);
  ck_assert_str_eq (ma->model, mb->model);
  const guint64 ua[] = { ma->fits, ma->promotions, ma->vehicles, ma->predictions, ma->k, ma->lists, ma->faults,
                         ma->caught };
  const guint64 ub[] = { mb->fits, mb->promotions, mb->vehicles, mb->predictions, mb->k, mb->lists, mb->faults,
                         mb->caught };
  for (guint i = 0; i < G_N_ELEMENTS (ua); i++)
    ck_assert_msg (ua[i] == ub[i], "maintenance count %u: %" G_GUINT64_FORMAT " with a store, %"
                   G_GUINT64_FORMAT " without", i, ua[i], ub[i]);
  for (guint h = 0; h < FT_MAINT_N_HORIZONS; h++)
    {
      ck_assert_uint_eq (ma->scored[h], mb->scored[h]);
      same_double (ma->brier[h], mb->brier[h], "maintenance Brier");
      same_double (ma->auc[h], mb->auc[h], "maintenance AUC");
      same_double (ma->base_brier[h], mb->base_brier[h], "maintenance baseline Brier");
      same_double (ma->base_auc[h], mb->base_auc[h], "maintenance baseline AUC");
    }
  same_double (ma->precision_at_k, mb->precision_at_k, "maintenance precision at k");
  same_double (ma->recall_at_k, mb->recall_at_k, "maintenance recall at k");
  same_double (ma->lead_median_h, mb->lead_median_h, "maintenance median lead");
  same_double (ma->lead_mean_h, mb->lead_mean_h, "maintenance mean lead");
}

START_TEST (test_short_run_scores)
{
  g_autofree char *dir = g_dir_make_tmp ("ft-shadow-XXXXXX", NULL);
  g_autofree char *path = g_build_filename (dir, "run.db", NULL);
  g_autoptr (GError) err = NULL;
  g_autoptr (FtSimScenario) sc = ft_sim_scenario_parse (SHORT, -1, "short.scenario", &err);
  FtSimWorldOptions opt = { .store_path = path };
  FtSimWorld *w = ft_sim_world_new (sc, NULL, &opt, &err);
  ck_assert_msg (w != NULL, "%s", err ? err->message : "");
  ck_assert (ft_sim_world_run_until (w, ft_sim_world_end_time (w), &err));
  ck_assert (ft_sim_world_finish (w, &err));
  FtSimKpis k;
  ft_sim_world_kpis (w, &k);
  ck_assert (k.shadow);
  ck_assert_str_eq (k.shadow_model, "forecast-glm");
  ck_assert_uint_gt (k.shadow_predictions, 0);
  ck_assert_uint_gt (k.shadow_scored, 500);
  ck_assert (isfinite (k.shadow_rmse) && k.shadow_rmse > 0);
  ck_assert (isfinite (k.shadow_base_rmse) && k.shadow_base_rmse > 0);
  ck_assert (k.shadow_mae <= k.shadow_rmse);
  ck_assert_uint_gt (k.shadow_scored_15min, 0);
  ck_assert (isfinite (k.shadow_rmse_15min) && isfinite (k.shadow_base_rmse_15min));
  ck_assert_uint_ge (k.shadow_promotions, 1);
  /* predictive maintenance beside it, in the same KPIs */
  printf ("maintenance shadow: %s, %u fits, %" G_GUINT64_FORMAT " predictions, %" G_GUINT64_FORMAT " scored, "
          "Brier 24 h %.4f (baseline %.4f), AUC 24 h %.3f, precision at %u %.3f, recall %.3f, %u of %u faults caught\n",
          k.shadow_maint_model, k.shadow_maint_fits, k.shadow_maint_predictions, k.shadow_maint_scored,
          k.shadow_maint_brier_short, k.shadow_maint_base_brier_short, k.shadow_maint_auc_short, k.shadow_maint_k,
          k.shadow_maint_precision_at_k, k.shadow_maint_recall_at_k, k.shadow_maint_caught, k.shadow_maint_faults);
  ck_assert (k.shadow_maint);
  ck_assert_str_eq (k.shadow_maint_model, "maint-weibull");
  ck_assert_uint_ge (k.shadow_maint_fits, 1);
  ck_assert_uint_gt (k.shadow_maint_predictions, 0);
  ck_assert_uint_gt (k.shadow_maint_scored, 0);
  ck_assert (isfinite (k.shadow_maint_brier_short) && k.shadow_maint_brier_short < 0.25);
  ck_assert_uint_gt (k.shadow_maint_faults, 0);
  g_autofree char *json = ft_sim_kpis_to_json (&k, sc);
  ck_assert_ptr_nonnull (strstr (json, "\"shadow_maint_brier_short\": "));
  ck_assert_ptr_nonnull (strstr (json, "\"shadow_maint_precision_at_k\": "));
  ck_assert_ptr_nonnull (strstr (json, "\"shadow_maint_model\": \"maint-weibull\""));
  ck_assert_ptr_nonnull (strstr (json, "\"shadow_forecast_rmse\": "));
  ck_assert_ptr_nonnull (strstr (json, "\"shadow_baseline_rmse\": "));
  ck_assert_ptr_nonnull (strstr (json, "\"shadow_forecast_model\": \"forecast-glm\""));
  g_autoptr (JsonNode) node = json_from_string (json, &err);
  ck_assert_msg (node != NULL, "KPI JSON does not parse: %s", err ? err->message : "");
  FtShadowScores fs;
  FtMaintShadowScores mss;
  ft_shadow_scores (ft_sim_world_get_shadow (w), &fs);
  ft_maint_shadow_scores (ft_shadow_get_maint (ft_sim_world_get_shadow (w)), &mss);
  ft_sim_world_free (w);

  /* the same run without a store: a database changes nothing the models
   * compute (it did: only with a store did the maintenance shadow see the
   * fleet's vehicles and packs added before it started) */
  FtSimWorld *w2 = ft_sim_world_new (sc, NULL, NULL, &err);
  ck_assert_msg (w2 != NULL, "%s", err ? err->message : "");
  ck_assert (ft_sim_world_run_until (w2, ft_sim_world_end_time (w2), &err));
  ck_assert (ft_sim_world_finish (w2, &err));
  FtSimKpis k2;
  ft_sim_world_kpis (w2, &k2);
  FtShadowScores fs2;
  FtMaintShadowScores mss2;
  ft_shadow_scores (ft_sim_world_get_shadow (w2), &fs2);
  ft_maint_shadow_scores (ft_shadow_get_maint (ft_sim_world_get_shadow (w2)), &mss2);
  same_scores (&fs, &fs2, &mss, &mss2);
  g_autofree char *json2 = ft_sim_kpis_to_json (&k2, sc);
  ck_assert_str_eq (json, json2);
  ft_sim_world_free (w2);

  /* after the run (a restart): registry, predictions and their actuals */
  g_autoptr (FtStore) st = ft_store_open (path, NULL, &err);
  ck_assert_ptr_nonnull (st);
  g_autoptr (GPtrArray) versions = ft_store_model_list (st, NULL, NULL, &err);
  ck_assert_uint_ge (versions->len, 1);
  gint64 champ = ft_store_model_champion (st, "forecast-glm", "demo-city", &err);
  ck_assert_int_gt (champ, 0);
  g_autoptr (FtStoreModel) m = ft_store_model_get (st, champ, &err);
  ck_assert_msg (m != NULL, "%s", err ? err->message : "");
  ck_assert_ptr_nonnull (strstr (m->metrics, "holdout_rmse"));
  ck_assert_uint_eq (ft_store_predictions_count (st, FALSE), k.shadow_predictions + k.shadow_maint_predictions);
  ck_assert_int_gt (ft_store_model_champion (st, "maint-weibull", "demo-city", &err), 0);
  ck_assert_uint_gt (ft_store_predictions_count (st, TRUE), 0);
  ck_assert_uint_ge (ft_store_decisions_count (st, TRUE), 1);
  g_autofree char *zoning = ft_store_dup_meta (st, "models.zoning");
  ck_assert_ptr_nonnull (zoning);
  ck_assert_ptr_nonnull (strstr (zoning, "\"Z01\""));
  /* the CLI's training reads the same zones and the same hours of week:
   * the champion scores on the database's own log as it did in the run */
  g_autoptr (FtDemandSeries) series = ft_registry_demand_from_store (st, NULL, 800, NULL, &err);
  ck_assert_msg (series != NULL, "%s", err ? err->message : "");
  ck_assert_uint_eq (series->n_zones, 48);
  ck_assert_int_eq (ft_demand_series_how (series, 0), 0);   /* hour 0 is Monday 00:00 */
  g_clear_pointer (&st, ft_store_close);
  /* live mode's start: a maintenance shadow on the database's history
   * starts a fit at its first tick, takes it a lag (one cadence) later
   * and scores every vehicle, with nothing new yet */
  FtMaintShadowConfig mc;
  ft_maint_shadow_config_init (&mc);
  mc.enabled = TRUE;
  mc.history_db = path;
  FtEventLog *elog = ft_event_log_new ();
  FtMaintShadow *ms = ft_maint_shadow_new (&mc, elog, NULL, 4 * FT_DAY, &err);
  ck_assert_msg (ms != NULL, "%s", err ? err->message : "");
  ck_assert_msg (ft_maint_shadow_tick (ms, 4 * FT_DAY, &err), "%s", err ? err->message : "");
  FtMaintShadowScores hs;
  ft_maint_shadow_scores (ms, &hs);
  ck_assert_uint_eq (hs.fits, 0);
  ck_assert_uint_eq (hs.vehicles, 0);
  FtTime lag = (FtTime) (mc.train_lag_min * FT_MINUTE);
  ck_assert_msg (ft_maint_shadow_tick (ms, 4 * FT_DAY + lag - FT_MINUTE, &err), "%s", err ? err->message : "");
  ft_maint_shadow_scores (ms, &hs);
  ck_assert_uint_eq (hs.fits, 0);
  ck_assert_msg (ft_maint_shadow_tick (ms, 4 * FT_DAY + lag, &err), "%s", err ? err->message : "");
  ft_maint_shadow_scores (ms, &hs);
  ck_assert_uint_eq (hs.fits, 1);
  ck_assert_uint_gt (hs.vehicles, 200);
  ft_maint_shadow_free (ms);
  /* a history that is not a database is refused, naming it */
  mc.history_db = dir;
  ck_assert_ptr_null (ft_maint_shadow_new (&mc, elog, NULL, 0, &err));
  ck_assert_msg (err && strstr (err->message, dir), "%s", err ? err->message : "no error");
  g_clear_error (&err);
  ft_event_log_free (elog);
  ft_test_rm_rf (dir);
}
END_TEST

/* Phase 3: with [models] act_on_forecast the operator's expected demand
 * (prices, offers, rebalancing) is the shadow champion's forecast once it
 * is fitted, the counts of a day earlier before that, and the launch plan
 * on the first day; the decisions then differ from acting on the plan. */
START_TEST (test_act_on_forecast)
{
  g_autoptr (GError) err = NULL;
  g_autofree char *text = g_strconcat (SHORT, "act_on_forecast=true\n[dynamic_pricing]\npolicy=optimise\n"
                                       "[incentives]\nenabled=true\n", NULL);
  g_autoptr (FtSimScenario) sc = ft_sim_scenario_parse (text, -1, "act.scenario", &err);
  ck_assert_msg (sc != NULL, "%s", err ? err->message : "");
  ck_assert (sc->models_act);
  FtSimWorld *w = ft_sim_world_new (sc, NULL, NULL, &err);
  ck_assert_msg (w != NULL, "%s", err ? err->message : "");
  FtShadow *sh = ft_sim_world_get_shadow (w);
  /* the first day: no history, no forecast, the launch plan */
  ck_assert (ft_sim_world_run_until (w, 10 * FT_HOUR + 30 * FT_MINUTE, &err));
  double r;
  ck_assert (!ft_shadow_forecast (sh, 3, ft_sim_world_now (w), &r));
  ck_assert (!ft_shadow_observed (sh, 3, ft_sim_world_now (w) - FT_DAY, ft_sim_world_now (w), &r));
  double plan = ft_sim_world_expected_requests (w, 3, ft_sim_world_now (w));
  ck_assert (plan > 0);
  /* the second day: what was counted a day earlier */
  ck_assert (ft_sim_world_run_until (w, FT_DAY + 10 * FT_HOUR + 30 * FT_MINUTE, &err));
  FtTime now = ft_sim_world_now (w);
  for (guint z = 0; z < 48; z++)
    {
      double obs = -1;
      ck_assert (ft_shadow_observed (sh, z, now - FT_DAY, now, &obs));
      ck_assert (!ft_shadow_forecast (sh, z, now, &r));
      ck_assert_double_eq (ft_sim_world_expected_requests (w, z, now), obs);
    }
  /* the third day, after the first fit (first_fit_days = 2, and 48 h + the
   * 12 held-back hours of history): the forecast */
  ck_assert (ft_sim_world_run_until (w, 2 * FT_DAY + 14 * FT_HOUR + 30 * FT_MINUTE, &err));
  now = ft_sim_world_now (w);
  guint from_forecast = 0;
  double sum_f = 0, sum_plan = 0;
  for (guint z = 0; z < 48; z++)
    if (ft_shadow_forecast (sh, z, now, &r))
      {
        ck_assert_double_eq (ft_sim_world_expected_requests (w, z, now), MAX (r, 0.0));
        /* the next hour is within the forecast too (horizons 1 and 6) */
        ck_assert (ft_shadow_forecast (sh, z, now + FT_HOUR, &r));
        from_forecast++;
        sum_f += ft_sim_world_expected_requests (w, z, now);
      }
  FtShadowScores scs;
  ft_shadow_scores (sh, &scs);
  ck_assert_msg (from_forecast == 48, "%u zones forecast at %.2f h; fits %u, predictions %" G_GUINT64_FORMAT
                 ", model '%s'", from_forecast, (double) now / FT_HOUR, scs.fits, scs.predictions, scs.model);
  ck_assert (ft_sim_world_run_until (w, ft_sim_world_end_time (w), &err));
  ck_assert (ft_sim_world_finish (w, &err));
  FtSimKpis k_act;
  ft_sim_world_kpis (w, &k_act);
  ft_sim_world_free (w);

  /* the same run acting on the plan decides differently */
  g_autofree char *text2 = g_strconcat (SHORT, "[dynamic_pricing]\npolicy=optimise\n[incentives]\nenabled=true\n",
                                        NULL);
  g_autoptr (FtSimScenario) sc2 = ft_sim_scenario_parse (text2, -1, "plan.scenario", &err);
  w = ft_sim_world_new (sc2, NULL, NULL, &err);
  ck_assert_msg (w != NULL, "%s", err ? err->message : "");
  for (guint z = 0; z < 48; z++)
    sum_plan += ft_sim_world_expected_requests (w, z, now);
  ck_assert (ft_sim_world_run_until (w, ft_sim_world_end_time (w), &err));
  ck_assert (ft_sim_world_finish (w, &err));
  FtSimKpis k_plan;
  ft_sim_world_kpis (w, &k_plan);
  ft_sim_world_free (w);
  printf ("act_on_forecast: expected requests at %.1f h, forecast %.1f, plan %.1f; price changes %"
          G_GUINT64_FORMAT " vs %" G_GUINT64_FORMAT ", rebalances %" G_GUINT64_FORMAT " vs %" G_GUINT64_FORMAT "\n",
          (double) now / FT_HOUR, sum_f, sum_plan, k_act.price_changes, k_plan.price_changes, k_act.rebalances,
          k_plan.rebalances);
  ck_assert (sum_f > 0 && sum_plan > 0 && sum_f != sum_plan);
  ck_assert (k_act.price_changes != k_plan.price_changes || k_act.rebalances != k_plan.rebalances);

  /* acting on a forecast that is not run is refused, naming the key */
  g_autoptr (FtSimScenario) bad = ft_sim_scenario_parse ("[models]\nact_on_forecast=true\n", -1, "x.scenario", &err);
  ck_assert_ptr_null (bad);
  ck_assert_msg (strstr (err->message, "[models] act_on_forecast: needs forecast = true"), "%s", err->message);
}
END_TEST

START_TEST (test_no_shadow_no_keys)
{
  /* without [models] the KPIs keep their golden form */
  g_autoptr (GError) err = NULL;
  g_autoptr (FtSimScenario) sc = ft_sim_scenario_parse ("[scenario]\ndays=0.1\n[fleet]\nscooters=50\nbikes=0\nmopeds=0\n",
                                                       -1, "x.scenario", &err);
  g_autoptr (FtSimWorld) w = ft_sim_world_new (sc, NULL, NULL, &err);
  ck_assert (ft_sim_world_run_until (w, ft_sim_world_end_time (w), &err));
  FtSimKpis k;
  ft_sim_world_kpis (w, &k);
  ck_assert (!k.shadow);
  ck_assert_ptr_null (ft_sim_world_get_shadow (w));
  g_autofree char *json = ft_sim_kpis_to_json (&k, sc);
  ck_assert_ptr_null (strstr (json, "shadow"));
}
END_TEST

/* A shadow run without a database, both models, every horizon and the
 * 15-minute split: its scores, the last forecast of every zone and hour
 * ahead and the maintenance list, to 17 digits. The golden file was
 * written by the code before the speed work (tables, memos, the zone
 * grid, IRLS rows in system order): the work may change the cost of each
 * part, never a result. Re-recorded once since, when the first forecast
 * fit stopped being fitted twice (held back, then on the whole window
 * from there): the same IRLS optimum from a cold start, every forecast
 * within 7e-14 of the old, one fit fewer. Re-recorded on purpose when
 * the fits moved to worker threads, their results taken a lag (one
 * cadence) after they start: the fits and the last forecasts and risks
 * are the same, but each promotion takes effect an hour (maintenance: 3 h)
 * later, so the first predictions are fewer (forecast 14,400 to 14,160,
 * RMSE 1.88881 to 1.88895; maintenance 16,040 to 14,902, caught 17 of 122
 * faults to 14 of 109); the text before is shadow-5day-seed7-lag0.txt,
 * which a lag of 0 still gives. FT_GOLDEN_WRITE=PATH writes the text
 * there. */
static const char *const GOLDEN_RUN =
  "[scenario]\nname=shadow golden\ndays=5\nseed=7\n"
  "[fleet]\nscooters=300\nbikes=0\nmopeds=0\n"
  "[demand]\nrequests_per_day=2500\nrouting=straight\n"
  "[staff]\nfield_staff=4\n"
  "[faults]\nfaults_per_1000km=6\ninitial_wear_max=0.8\ndefect_km=30\n"
  "[models]\nforecast=true\nforecast_model=glm\ntraining_days=2\nfirst_fit_days=2\nretrain_days=1\n"
  "holdout_hours=12\nhorizons=1, 3, 6, 24\n"
  "maint=true\nmaint_cadence_min=180\nmaint_first_fit_days=1.5\nmaint_training_days=2\n"
  "maint_holdout_days=0.5\nmaint_retrain_days=1\n";

/* The golden run's text: scores, the last forecast, the maintenance
 * list. extra: more [models] keys (NULL: none). */
static char *
golden_text (const FtSimWorldOptions *opt, const char *extra)
{
  g_autoptr (GError) err = NULL;
  g_autofree char *text = g_strconcat (GOLDEN_RUN, extra ? extra : "", NULL);
  g_autoptr (FtSimScenario) sc = ft_sim_scenario_parse (text, -1, "golden.scenario", &err);
  ck_assert_msg (sc != NULL, "%s", err ? err->message : "");
  g_autoptr (FtSimWorld) w = ft_sim_world_new (sc, NULL, opt, &err);
  ck_assert_msg (w != NULL, "%s", err ? err->message : "");
  ck_assert (ft_sim_world_run_until (w, ft_sim_world_end_time (w), &err));
  FtShadow *sh = ft_sim_world_get_shadow (w);
  GString *t = g_string_new (NULL);
  FtShadowScores f;
  ft_shadow_scores (sh, &f);
  g_string_append_printf (t, "forecast %s predictions %" G_GUINT64_FORMAT " scored %" G_GUINT64_FORMAT
                          " rmse %.17g mae %.17g base %.17g %.17g\n", f.model, f.predictions, f.scored, f.rmse,
                          f.mae, f.base_rmse, f.base_mae);
  g_string_append_printf (t, "15min scored %" G_GUINT64_FORMAT " rmse %.17g mae %.17g base %.17g %.17g\n",
                          f.scored_15min, f.rmse_15min, f.mae_15min, f.base_rmse_15min, f.base_mae_15min);
  g_string_append_printf (t, "fits %u retrains %u promotions %u drift %u %u psi %.17g ks %.17g %.17g\n", f.fits,
                          f.retrains, f.promotions, f.drift_warnings, f.drift_actions, f.last_psi, f.last_ks_d,
                          f.last_ks_p);
  for (guint d = 0; d < ft_shadow_n_days (sh); d++)
    {
      double r, b;
      guint64 n;
      if (ft_shadow_day_score (sh, d, &r, &b, &n))
        g_string_append_printf (t, "day %u rmse %.17g base %.17g n %" G_GUINT64_FORMAT "\n", d, r, b, n);
    }
  guint Z = ft_shadow_n_zones (sh), n_latest = 0;
  FtTime now = ft_sim_world_end_time (w);
  for (guint z = 0; z < Z; z++)
    for (guint k = 0; k < 30; k++)
      {
        double v;
        if (ft_shadow_forecast (sh, z, now + (FtTime) k * FT_HOUR - FT_HOUR, &v))
          {
            g_string_append_printf (t, "latest %u %u %.17g\n", z, k, v);
            n_latest++;
          }
      }
  ck_assert_uint_gt (n_latest, Z * 20);
  FtMaintShadowScores m;
  ft_maint_shadow_scores (ft_shadow_get_maint (sh), &m);
  g_string_append_printf (t, "maint %s fits %u promotions %u vehicles %u predictions %" G_GUINT64_FORMAT "\n",
                          m.model, m.fits, m.promotions, m.vehicles, m.predictions);
  for (guint h = 0; h < FT_MAINT_N_HORIZONS; h++)
    g_string_append_printf (t, "maint h%u scored %" G_GUINT64_FORMAT " brier %.17g auc %.17g base %.17g %.17g\n", h,
                            m.scored[h], m.brier[h], m.auc[h], m.base_brier[h], m.base_auc[h]);
  g_string_append_printf (t, "maint k %u lists %u precision %.17g recall %.17g faults %u caught %u lead %.17g %.17g\n",
                          m.k, m.lists, m.precision_at_k, m.recall_at_k, m.faults, m.caught, m.lead_median_h,
                          m.lead_mean_h);
  FtMaintRisk top[20];
  guint nt = ft_maint_shadow_top (ft_shadow_get_maint (sh), 20, top);
  for (guint i = 0; i < nt; i++)
    g_string_append_printf (t, "risk %u at %" G_GINT64_FORMAT " p %.17g %.17g km %.17g listed %d\n", top[i].vehicle,
                            top[i].at, top[i].p[0], top[i].p[1], top[i].km_since_service, top[i].listed);
  return g_string_free (t, FALSE);
}

/* got against the golden file NAME (with write, FT_GOLDEN_WRITE=PATH
 * writes got there). */
static void
check_golden (const char *got, const char *name, gboolean write)
{
  const char *out = write ? g_getenv ("FT_GOLDEN_WRITE") : NULL;
  if (out)
    ck_assert (g_file_set_contents (out, got, -1, NULL));
  g_autofree char *rel = g_strconcat ("tests/sim/golden/", name, NULL);
  g_autofree char *path = ft_test_source_path (rel);
  g_autofree char *want = NULL;
  ck_assert_msg (g_file_get_contents (path, &want, NULL, NULL), "missing golden file %s", path);
  /* the first line that differs (the whole text is too long for a message) */
  g_auto (GStrv) gl = g_strsplit (got, "\n", -1), wl = g_strsplit (want, "\n", -1);
  guint i = 0;
  while (gl[i] && wl[i] && strcmp (gl[i], wl[i]) == 0)
    i++;
  ck_assert_msg (gl[i] == NULL && wl[i] == NULL, "shadow results differ from %s at line %u: got \"%s\", want \"%s\"",
                 path, i + 1, gl[i] ? gl[i] : "(end)", wl[i] ? wl[i] : "(end)");
}

START_TEST (test_shadow_golden)
{
  g_autofree char *got = golden_text (NULL, NULL);
  check_golden (got, "shadow-5day-seed7.txt", TRUE);
}
END_TEST

/* The fits run on worker threads and their results are taken at a fixed
 * simulated time: a worker slowed on purpose (every fit sleeping first)
 * changes nothing, bit for bit. */
START_TEST (test_shadow_slow_worker)
{
  FtSimWorldOptions opt = { .shadow_train_delay_ms = 300 };
  g_autofree char *got = golden_text (&opt, NULL);
  check_golden (got, "shadow-5day-seed7.txt", FALSE);
}
END_TEST

/* With no lag a fit's result is taken at the tick it starts, as when the
 * fits ran on the simulator's thread: the results of that code, bit for
 * bit (shadow-5day-seed7-lag0.txt is the golden file it wrote). */
START_TEST (test_shadow_no_lag)
{
  g_autofree char *got = golden_text (NULL, "train_lag_min=0\nmaint_train_lag_min=0\n");
  check_golden (got, "shadow-5day-seed7-lag0.txt", FALSE);
}
END_TEST

/* A run freed while a fit is under way (the worker slowed on purpose)
 * stops the worker at its next step, waits for it and frees everything
 * (ASan and LeakSanitizer watch); the champion was not taken before the
 * lag. */
START_TEST (test_shadow_stop_mid_fit)
{
  g_autoptr (GError) err = NULL;
  g_autoptr (FtSimScenario) sc = ft_sim_scenario_parse (GOLDEN_RUN, -1, "golden.scenario", &err);
  ck_assert_msg (sc != NULL, "%s", err ? err->message : "");
  FtSimWorldOptions opt = { .shadow_train_delay_ms = 20000 };
  FtSimWorld *w = ft_sim_world_new (sc, NULL, &opt, &err);
  ck_assert_msg (w != NULL, "%s", err ? err->message : "");
  /* the first forecast fit starts at hour 48 (first_fit_days=2), its
   * result is due at hour 49 */
  ck_assert (ft_sim_world_run_until (w, 48 * FT_HOUR + 30 * FT_MINUTE, &err));
  FtShadowScores f;
  ft_shadow_scores (ft_sim_world_get_shadow (w), &f);
  ck_assert_uint_eq (f.fits, 0);
  ck_assert_str_eq (f.model, "");
  gint64 t0 = g_get_monotonic_time ();
  ft_sim_world_free (w);
  /* cancelled, not waited for to the end of its 20 s */
  ck_assert_int_lt (g_get_monotonic_time () - t0, 10 * G_USEC_PER_SEC);
}
END_TEST

/* The shadow's rows in a run database, as text: versions (the blob by
 * its SHA-256), decisions, every prediction with its actual, and the
 * model events without their seq (async: a tick later, see
 * ft_shadow_start_async) counted by kind. */
static char *
dump_models (const char *path)
{
  sqlite3 *db = NULL;
  ck_assert_int_eq (sqlite3_open_v2 (path, &db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
  static const char *const queries[] = {
    "SELECT id, kind, city, trained_city, status, created, train_start, train_end, features, params, metrics, "
    "sha256 FROM model_versions ORDER BY id",
    "SELECT * FROM model_decisions ORDER BY id",
    "SELECT * FROM predictions ORDER BY id",
    "SELECT kind, count(*) FROM events WHERE kind IN (28, 29) GROUP BY kind ORDER BY kind",
  };
  GString *t = g_string_new (NULL);
  for (guint q = 0; q < G_N_ELEMENTS (queries); q++)
    {
      sqlite3_stmt *st = NULL;
      ck_assert_msg (sqlite3_prepare_v2 (db, queries[q], -1, &st, NULL) == SQLITE_OK, "%s", sqlite3_errmsg (db));
      guint rows = 0;
      while (sqlite3_step (st) == SQLITE_ROW)
        {
          for (int c = 0; c < sqlite3_column_count (st); c++)
            {
              const unsigned char *v = sqlite3_column_text (st, c);
              g_string_append_printf (t, "%s|", v ? (const char *) v : "NULL");
            }
          g_string_append_c (t, '\n');
          rows++;
        }
      sqlite3_finalize (st);
      ck_assert_uint_gt (rows, 0);
    }
  sqlite3_close (db);
  return g_string_free (t, FALSE);
}

/* The golden run with a database at path: its KPIs as JSON, the
 * database's shadow rows in *rows. */
static char *
golden_db_run (FtSimWorldOptions *opt, const char *path, gboolean want_async, char **rows)
{
  g_autoptr (GError) err = NULL;
  g_autoptr (FtSimScenario) sc = ft_sim_scenario_parse (GOLDEN_RUN, -1, "golden.scenario", &err);
  ck_assert_msg (sc != NULL, "%s", err ? err->message : "");
  opt->store_path = path;
  FtSimWorld *w = ft_sim_world_new (sc, NULL, opt, &err);
  ck_assert_msg (w != NULL, "%s", err ? err->message : "");
  ck_assert (ft_shadow_is_async (ft_sim_world_get_shadow (w)) == want_async);
  ck_assert (ft_sim_world_run_until (w, ft_sim_world_end_time (w), &err));
  ck_assert_msg (ft_sim_world_finish (w, &err), "%s", err ? err->message : "");
  ck_assert_uint_eq (ft_sim_world_n_errors (w), 0);
  FtSimKpis k;
  ft_sim_world_kpis (w, &k);
  char *json = ft_sim_kpis_to_json (&k, sc);
  ft_sim_world_free (w);
  *rows = dump_models (path);
  return json;
}

/* Shadow mode serves from a consumer thread unless told not to; either
 * way every score, forecast, risk and stored row is the same (the golden
 * text, and with a database the KPIs and the shadow's rows, the model
 * events a tick later but as many). FT_SHADOW_INLINE=1 keeps it inline. */
START_TEST (test_shadow_async_as_inline)
{
  FtSimWorldOptions opt = { .shadow_inline = TRUE };
  g_autofree char *got = golden_text (&opt, NULL);
  check_golden (got, "shadow-5day-seed7.txt", FALSE);

  g_autofree char *dir = g_dir_make_tmp ("ft-shadow-async-XXXXXX", NULL);
  g_autofree char *pa = g_build_filename (dir, "async.db", NULL), *pi = g_build_filename (dir, "inline.db", NULL);
  g_autofree char *rows_a = NULL, *rows_i = NULL;
  FtSimWorldOptions oa = { 0 }, oi = { .shadow_inline = TRUE };
  g_autofree char *json_a = golden_db_run (&oa, pa, TRUE, &rows_a);
  g_autofree char *json_i = golden_db_run (&oi, pi, FALSE, &rows_i);
  ck_assert_str_eq (json_a, json_i);
  ck_assert_msg (strcmp (rows_a, rows_i) == 0, "the shadow's stored rows differ between async and inline");
  ck_assert_ptr_nonnull (strstr (rows_a, "forecast-glm"));
  ck_assert_ptr_nonnull (strstr (rows_a, "maint-weibull"));

  g_setenv ("FT_SHADOW_INLINE", "1", TRUE);
  g_autofree char *rows_e = NULL;
  g_autofree char *pe = g_build_filename (dir, "env.db", NULL);
  FtSimWorldOptions oe = { 0 };
  g_autofree char *json_e = golden_db_run (&oe, pe, FALSE, &rows_e);
  g_unsetenv ("FT_SHADOW_INLINE");
  ck_assert_str_eq (json_a, json_e);
  ft_test_rm_rf (dir);
}
END_TEST

/* A consumer slowed on purpose (a sleep after every block) changes
 * nothing, bit for bit. */
START_TEST (test_shadow_slow_consumer)
{
  FtSimWorldOptions opt = { .shadow_consumer_delay_us = 3000 };
  g_autofree char *got = golden_text (&opt, NULL);
  check_golden (got, "shadow-5day-seed7.txt", FALSE);
}
END_TEST

/* A world freed mid-run, its consumer behind (slowed) and a fit under
 * way (slowed too: the maintenance model's first, started at 36 h): both
 * stop promptly and everything is freed (ASan and LeakSanitizer watch). */
START_TEST (test_shadow_free_async_mid_run)
{
  g_autoptr (GError) err = NULL;
  g_autoptr (FtSimScenario) sc = ft_sim_scenario_parse (GOLDEN_RUN, -1, "golden.scenario", &err);
  ck_assert_msg (sc != NULL, "%s", err ? err->message : "");
  FtSimWorldOptions opt = { .shadow_train_delay_ms = 20000, .shadow_consumer_delay_us = 20000 };
  FtSimWorld *w = ft_sim_world_new (sc, NULL, &opt, &err);
  ck_assert_msg (w != NULL, "%s", err ? err->message : "");
  ck_assert (ft_shadow_is_async (ft_sim_world_get_shadow (w)));
  ck_assert (ft_sim_world_run_until (w, 37 * FT_HOUR + 30 * FT_MINUTE, &err));
  gint64 t0 = g_get_monotonic_time ();
  ft_sim_world_free (w);
  ck_assert_int_lt (g_get_monotonic_time () - t0, 10 * G_USEC_PER_SEC);
  /* and the consumer joining a fit (the forecast's first, its baseline
   * started at 48 h and taken at 49: that tick handed over, the simulator
   * not waiting for it yet): the fit and the consumer stop */
  FtSimWorldOptions slow = { .shadow_train_delay_ms = 20000 };
  w = ft_sim_world_new (sc, NULL, &slow, &err);
  ck_assert_msg (w != NULL, "%s", err ? err->message : "");
  ck_assert (ft_sim_world_run_until (w, 49 * FT_HOUR + 30 * FT_MINUTE, &err));
  g_usleep (100000);   /* the consumer is in the join by now */
  t0 = g_get_monotonic_time ();
  ft_sim_world_free (w);
  ck_assert_int_lt (g_get_monotonic_time () - t0, 10 * G_USEC_PER_SEC);
}
END_TEST

/* A tick that fails on the consumer (its store's table gone) stops the
 * shadow; the error surfaces on the simulator's thread at its next tick
 * or sync, once, naming the tick; the run goes on without the shadow. */
START_TEST (test_shadow_async_tick_error)
{
  g_autofree char *dir = g_dir_make_tmp ("ft-shadow-err-XXXXXX", NULL);
  for (guint via_world = 0; via_world < 2; via_world++)
    {
      g_autofree char *path = g_strdup_printf ("%s/run%u.db", dir, via_world);
      g_autoptr (GError) err = NULL;
      g_autoptr (FtSimScenario) sc = ft_sim_scenario_parse (GOLDEN_RUN, -1, "golden.scenario", &err);
      FtSimWorldOptions opt = { .store_path = path };
      g_autoptr (FtSimWorld) w = ft_sim_world_new (sc, NULL, &opt, &err);
      ck_assert_msg (w != NULL, "%s", err ? err->message : "");
      FtShadow *sh = ft_sim_world_get_shadow (w);
      ck_assert (ft_shadow_is_async (sh));
      /* the first model is fitted at hour 60 (holdout_hours + 48) and
       * taken at 61: the ticks from then on predict */
      ck_assert (ft_sim_world_run_until (w, 64 * FT_HOUR + 30 * FT_MINUTE, &err));
      ck_assert (ft_shadow_sync (sh, &err));
      FtShadowScores before;
      ft_shadow_scores (sh, &before);
      ck_assert_uint_gt (before.predictions, 0);
      sqlite3 *db = ft_store_get_db (ft_sim_world_get_core (w)->store);
      ck_assert_int_eq (sqlite3_exec (db, "DROP TABLE prediction_rows", NULL, NULL, NULL), SQLITE_OK);
      /* the tick at 65 h fails on the consumer (when it stores the hour's
       * forecast) */
      ck_assert (ft_sim_world_run_until (w, 65 * FT_HOUR + 30 * FT_MINUTE, &err));
      FtShadowScores mid;
      ft_shadow_scores (sh, &mid);   /* a reader's sync: the error waits */
      if (!via_world)
        {
          ck_assert (!ft_shadow_sync (sh, &err));
          ck_assert_msg (err && strstr (err->message, "the tick at 234000000 ms (day 3, 17:00) failed, shadow mode stopped"),
                         "%s", err ? err->message : "no error");
          g_clear_error (&err);
          ck_assert (ft_shadow_sync (sh, &err));   /* once */
        }
      ck_assert (ft_sim_world_run_until (w, ft_sim_world_end_time (w), &err));
      /* surfaced through the world's errors when it was not taken before */
      ck_assert_uint_eq (ft_sim_world_n_errors (w), via_world ? 1 : 0);
      ck_assert_int_eq (ft_shadow_next_tick (sh), G_MAXINT64);
      FtShadowScores after;
      ft_shadow_scores (sh, &after);
      ck_assert_uint_eq (after.predictions, mid.predictions);   /* nothing after the failed tick */
      ck_assert_uint_eq (after.scored, mid.scored);
    }
  ft_test_rm_rf (dir);
}
END_TEST

START_TEST (test_demand_shift)
{
  g_autofree char *path = ft_test_source_path ("scenarios/demo-city-shadow-shift.scenario");
  g_autoptr (GError) err = NULL;
  g_autoptr (FtSimScenario) sc = ft_sim_scenario_load (path, &err);
  ck_assert_msg (sc != NULL, "%s", err ? err->message : "");
  ck_assert_double_eq (sc->shift_day, 7);
  g_autoptr (FtSimWorld) w = ft_sim_world_new (sc, NULL, NULL, &err);
  ck_assert_msg (w != NULL, "%s", err ? err->message : "");
  ck_assert (ft_sim_world_run_until (w, 7 * FT_DAY, &err));
  FtSimKpis before;
  ft_sim_world_kpis (w, &before);
  ck_assert (ft_sim_world_run_until (w, ft_sim_world_end_time (w), &err));
  FtSimKpis after;
  ft_sim_world_kpis (w, &after);
  /* demand went up */
  ck_assert_uint_gt (after.trips_requested - before.trips_requested, before.trips_requested);
  /* drift after the shift, acted on, and a retrain promoted */
  ck_assert_uint_gt (after.shadow_drift_actions, before.shadow_drift_actions);
  ck_assert_uint_gt (after.shadow_promotions, before.shadow_promotions);
  /* the error recovers: the last four days beat the first day after the
   * shift, and the baseline (which learns the shift only at its weekly refit) */
  FtShadow *sh = ft_sim_world_get_shadow (w);
  double first, r, b, sum_r = 0, sum_b = 0;
  ck_assert (ft_shadow_day_score (sh, 7, &first, NULL, NULL));
  for (guint d = 10; d < 14; d++)
    {
      ck_assert (ft_shadow_day_score (sh, d, &r, &b, NULL));
      sum_r += r / 4;
      sum_b += b / 4;
    }
  ck_assert_msg (sum_r < first, "days 11-14 RMSE %.3f, day 8 %.3f", sum_r, first);
  ck_assert_msg (sum_r < sum_b, "days 11-14 RMSE %.3f, baseline %.3f", sum_r, sum_b);
}
END_TEST

static Suite *
suite (void)
{
  Suite *s = suite_create ("sim-shadow");
  TCase *tc = tcase_create ("shadow");
  tcase_set_timeout (tc, 600);
  tcase_add_test (tc, test_models_keys);
  tcase_add_test (tc, test_short_run_scores);
  tcase_add_test (tc, test_no_shadow_no_keys);
  tcase_add_test (tc, test_act_on_forecast);
  tcase_add_test (tc, test_demand_shift);
  tcase_add_test (tc, test_shadow_golden);
  tcase_add_test (tc, test_shadow_slow_worker);
  tcase_add_test (tc, test_shadow_no_lag);
  tcase_add_test (tc, test_shadow_stop_mid_fit);
  tcase_add_test (tc, test_shadow_async_as_inline);
  tcase_add_test (tc, test_shadow_slow_consumer);
  tcase_add_test (tc, test_shadow_free_async_mid_run);
  tcase_add_test (tc, test_shadow_async_tick_error);
  suite_add_tcase (s, tc);
  return s;
}

int
main (void)
{
  SRunner *sr = srunner_create (suite ());
  srunner_run_all (sr, CK_NORMAL);
  int failed = srunner_ntests_failed (sr);
  srunner_free (sr);
  return failed ? 1 : 0;
}
