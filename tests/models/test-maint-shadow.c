/* test-maint-shadow.c — predictive maintenance in shadow mode on a
 * synthetic fleet whose faults follow a known wear process (hazard rising
 * with km since service): the model trains and is promoted, every
 * prediction goes to the store and each filled actual is checked against
 * the faults the generator made, the scores beat chance and the naive
 * ranking's base rate, the risk getter and the list agree, runs are
 * deterministic with and without a store, and bad configuration, a blob
 * failing its checksum and NaN features are refused.
 */
#include "ft-config.h"
#include "ft-maint-shadow.h"
#include "ft-registry.h"
#include "ft-store-models.h"
#include "ft-test.h"

#include <check.h>
#include <math.h>
#include <sqlite3.h>
#include <stdio.h>
#include <string.h>
#include <gsl/gsl_rng.h>

#define ck_assert_error(e, dom, code)                                                  \
  ck_assert_msg ((e) != NULL && g_error_matches ((e), (dom), (code)),                  \
                 "expected error code %d, got: %s", (int) (code), (e) ? (e)->message : "none")

#define NV 150
#define DAYS 11

typedef struct {
  guint  v;
  FtTime t;
} Fault;

typedef struct {
  double km;        /* since service */
  double use;       /* chance of a trip per hour */
  FtTime back_at;   /* down until (0: up) */
} SynV;

/* Weibull wear in km since service: H(x) = (x / 60)^3. */
static double
hazard (double km)
{
  return pow (km / 60.0, 3.0);
}

/* Runs the generator for DAYS days, ticking ms (may be NULL) at every
 * hour; the faults made go to faults (may be NULL). */
static void
run_fleet (FtEventLog *log, FtMaintShadow *ms, GArray *faults)
{
  gsl_rng *r = gsl_rng_alloc (gsl_rng_mt19937);
  gsl_rng_set (r, 2026);
  SynV v[NV];
  for (guint i = 0; i < NV; i++)
    {
      double u = gsl_rng_uniform (r);
      /* light and heavy users: some vehicles outlive the long horizon */
      v[i] = (SynV) { gsl_rng_uniform (r) * 40.0, 0.01 + 0.4 * u * u, 0 };
      FtEvent ev = ft_event_init (FT_EV_VEHICLE_ADDED, 0);
      ev.vehicle = (gint32) i;
      ft_event_log_append (log, &ev);
    }
  for (guint h = 0; h < DAYS * 24; h++)
    {
      FtTime base = (FtTime) h * FT_HOUR;
      if (ms)
        {
          g_autoptr (GError) e = NULL;
          ck_assert_msg (ft_maint_shadow_tick (ms, base, &e), "%s", e ? e->message : "");
        }
      for (guint i = 0; i < NV; i++)
        {
          FtTime t = base + 1000 + (FtTime) i * 20000;
          if (v[i].back_at)
            {
              if (t < v[i].back_at)
                continue;
              FtEvent ev = ft_event_init (FT_EV_VEHICLE_FAULT, t);   /* repaired: codes cleared */
              ev.vehicle = (gint32) i;
              ev.amount = 0;
              ft_event_log_append (log, &ev);
              v[i].back_at = 0;
              v[i].km = 0;
              continue;
            }
          if (gsl_rng_uniform (r) >= v[i].use)
            continue;
          double km = 1.0 + 4.0 * gsl_rng_uniform (r);
          FtEvent ev = ft_event_init (FT_EV_BOOKING_ENDED, t);
          ev.vehicle = (gint32) i;
          ev.a = (gint32) (km * 240);
          ev.b = (gint64) (km * 1000);
          ft_event_log_append (log, &ev);
          double p = 1 - exp (-(hazard (v[i].km + km) - hazard (v[i].km)));
          v[i].km += km;
          if (gsl_rng_uniform (r) < p)
            {
              FtEvent f = ft_event_init (FT_EV_VEHICLE_FAULT, t + 1000);
              f.vehicle = (gint32) i;
              f.amount = 1 << (gsl_rng_uniform_int (r, 4));
              ft_event_log_append (log, &f);
              v[i].back_at = t + 10 * FT_HOUR;
              if (faults)
                {
                  Fault x = { i, t + 1000 };
                  g_array_append_val (faults, x);
                }
            }
        }
    }
  gsl_rng_free (r);
}

static void
config (FtMaintShadowConfig *c)
{
  ft_maint_shadow_config_init (c);
  c->enabled = TRUE;
  c->cadence_min = 360;
  c->first_fit_days = 3;
  c->training_days = 4;
  c->retrain_days = 1;
  c->holdout_days = 1;
  c->top_k = 5;
}

START_TEST (test_shadow_scores_and_store)
{
  g_autofree char *dir = g_dir_make_tmp ("ft-mshadow-XXXXXX", NULL);
  g_autofree char *path = g_build_filename (dir, "m.db", NULL);
  g_autoptr (GError) e = NULL;
  FtStore *st = ft_store_open (path, NULL, &e);
  ck_assert_msg (st != NULL, "%s", e ? e->message : "");
  FtEventLog *log = ft_event_log_new ();
  ft_event_log_set_retain (log, FALSE);
  FtMaintShadowConfig c;
  config (&c);
  FtMaintShadow *ms = ft_maint_shadow_new (&c, log, st, 0, &e);
  ck_assert_msg (ms != NULL, "%s", e ? e->message : "");
  g_autoptr (GArray) faults = g_array_new (FALSE, FALSE, sizeof (Fault));
  run_fleet (log, ms, faults);

  FtMaintShadowScores s;
  ft_maint_shadow_scores (ms, &s);
  printf ("maintenance shadow: %u fits, %u promoted; AUC 24 h %.3f (baseline %.3f), 7 d %.3f; Brier 24 h %.4f "
          "(baseline %.4f); precision at %u %.3f, recall %.3f; %u of %u faults caught, median lead %.1f h\n",
          s.fits, s.promotions, s.auc[0], s.base_auc[0], s.auc[1], s.brier[0], s.base_brier[0], s.k,
          s.precision_at_k, s.recall_at_k, s.caught, s.faults, s.lead_median_h);
  ck_assert (s.enabled);
  ck_assert_str_eq (s.model, "maint-weibull");
  ck_assert_uint_ge (s.fits, 4);
  ck_assert_uint_ge (s.promotions, 1);
  ck_assert_uint_gt (s.predictions, 0);
  ck_assert_uint_gt (s.scored[0], 1000);
  ck_assert_uint_gt (s.scored[1], 100);
  /* the wear process is learnable: well above chance, and the model is
   * no worse calibrated than the naive ranking by km since service */
  ck_assert_msg (s.auc[0] > 0.7, "AUC 24 h %.3f", s.auc[0]);
  ck_assert_msg (s.auc[1] > 0.7, "AUC 7 d %.3f", s.auc[1]);
  ck_assert (isfinite (s.brier[0]) && s.brier[0] < 0.25);
  ck_assert_msg (s.brier[0] <= s.base_brier[0] * 1.05, "Brier %.4f, baseline %.4f", s.brier[0], s.base_brier[0]);
  ck_assert_uint_eq (s.k, 5);
  ck_assert_uint_gt (s.lists, 20);
  ck_assert (s.precision_at_k >= 0 && s.precision_at_k <= 1 && s.recall_at_k >= 0 && s.recall_at_k <= 1);
  ck_assert_uint_gt (s.faults, 50);
  ck_assert_uint_gt (s.caught, 0);
  ck_assert_uint_le (s.caught, s.faults);
  ck_assert (isfinite (s.lead_median_h) && s.lead_median_h > 0);

  /* the risk getter and the list agree, highest first */
  FtMaintRisk top[5];
  guint n = ft_maint_shadow_top (ms, 5, top);
  ck_assert_uint_eq (n, 5);
  for (guint i = 0; i < n; i++)
    {
      FtMaintRisk one;
      ck_assert (ft_maint_shadow_risk (ms, top[i].vehicle, &one));
      ck_assert_double_eq (one.p[0], top[i].p[0]);
      ck_assert (one.p[0] > 0 && one.p[0] <= one.p[1] && one.p[1] <= 1);
      ck_assert (one.listed);
      ck_assert (i == 0 || top[i - 1].p[0] >= top[i].p[0]);
    }
  FtMaintRisk none;
  ck_assert (!ft_maint_shadow_risk (ms, NV + 10, &none));
  /* the last tick, when the open predictions were last resolved */
  FtTime last = ft_maint_shadow_next_tick (ms) - (FtTime) (c.cadence_min * FT_MINUTE);
  ft_maint_shadow_free (ms);
  ft_event_log_free (log);

  /* the registry: versions of kind maint-weibull, a champion that loads */
  gint64 champ = ft_registry_champion (st, FT_MODEL_MAINT_WEIBULL, "demo", &e);
  ck_assert_int_gt (champ, 0);
  g_autoptr (FtMaintModel) m = ft_registry_load_maint (st, champ, NULL, &e);
  ck_assert_msg (m != NULL, "%s", e ? e->message : "");
  ck_assert_int_eq (ft_maint_model_get_kind (m), FT_MAINT_WEIBULL);
  ck_assert_uint_eq (ft_store_predictions_count (st, FALSE), s.predictions);
  ck_assert_uint_eq (ft_store_predictions_count (st, TRUE), s.scored[0] + s.scored[1]);
  ck_assert_uint_eq (ft_store_decisions_count (st, FALSE), s.fits);
  ft_store_close (st);

  /* every filled actual is what the generator did */
  sqlite3 *db = NULL;
  ck_assert_int_eq (sqlite3_open_v2 (path, &db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
  sqlite3_stmt *q = NULL;
  ck_assert_int_eq (sqlite3_prepare_v2 (db, "SELECT target, issued_at, horizon, actual, target_t, version "
                                            "FROM predictions WHERE actual IS NOT NULL", -1, &q, NULL), SQLITE_OK);
  guint rows = 0, ones = 0;
  while (sqlite3_step (q) == SQLITE_ROW)
    {
      guint v = 0;
      ck_assert (sscanf ((const char *) sqlite3_column_text (q, 0), "FT-%u", &v) == 1);
      FtTime at = sqlite3_column_int64 (q, 1), end = at + sqlite3_column_int64 (q, 2) * FT_HOUR;
      ck_assert_int_eq (sqlite3_column_int64 (q, 4), end);
      ck_assert_int_gt (sqlite3_column_int64 (q, 5), 0);
      gboolean want = FALSE;
      for (guint i = 0; i < faults->len && !want; i++)
        {
          const Fault *f = &g_array_index (faults, Fault, i);
          want = f->v == v && f->t >= at && f->t < end;
        }
      ck_assert_msg (sqlite3_column_double (q, 3) == want, "FT-%04u at %" G_GINT64_FORMAT ": %g, want %d", v, at,
                     sqlite3_column_double (q, 3), want);
      rows++;
      ones += want;
    }
  sqlite3_finalize (q);
  ck_assert_uint_eq (rows, s.scored[0] + s.scored[1]);
  ck_assert_uint_gt (ones, 50);
  /* and every prediction still open was not known at the last tick: its
   * horizon had not ended and no fault had come (resolve looks only at
   * the vehicles with a fault since the tick before; none may be missed) */
  ck_assert_int_eq (sqlite3_prepare_v2 (db, "SELECT target, issued_at, horizon FROM predictions "
                                            "WHERE actual IS NULL", -1, &q, NULL), SQLITE_OK);
  guint open = 0;
  while (sqlite3_step (q) == SQLITE_ROW)
    {
      guint v = 0;
      ck_assert (sscanf ((const char *) sqlite3_column_text (q, 0), "FT-%u", &v) == 1);
      FtTime at = sqlite3_column_int64 (q, 1), end = at + sqlite3_column_int64 (q, 2) * FT_HOUR;
      ck_assert_msg (end > last, "FT-%04u at %" G_GINT64_FORMAT ": horizon ended, still open", v, at);
      for (guint i = 0; i < faults->len; i++)
        {
          const Fault *f = &g_array_index (faults, Fault, i);
          ck_assert_msg (!(f->v == v && f->t >= at && f->t <= last), "FT-%04u at %" G_GINT64_FORMAT
                         ": fault at %" G_GINT64_FORMAT " not resolved", v, at, f->t);
        }
      open++;
    }
  sqlite3_finalize (q);
  sqlite3_close (db);
  ck_assert_uint_eq (open + rows, s.predictions);
  ck_assert_uint_gt (open, 0);
  ft_test_rm_rf (dir);
}
END_TEST

/* Measuring the cost (a clock read around each part) changes nothing of
 * what is computed; without it no clock is read and the seconds stay 0. */
START_TEST (test_shadow_measure_cost)
{
  FtMaintShadowScores s[2];
  FtShadowCost cost[2];
  for (guint run = 0; run < 2; run++)
    {
      g_autoptr (GError) e = NULL;
      FtEventLog *log = ft_event_log_new ();
      ft_event_log_set_retain (log, FALSE);
      FtMaintShadowConfig c;
      config (&c);
      FtMaintShadow *ms = ft_maint_shadow_new (&c, log, NULL, 0, &e);
      ck_assert_msg (ms != NULL, "%s", e ? e->message : "");
      ft_maint_shadow_measure_cost (ms, run == 1);
      run_fleet (log, ms, NULL);
      ft_maint_shadow_scores (ms, &s[run]);
      ft_maint_shadow_cost (ms, &cost[run]);
      ft_maint_shadow_free (ms);
      ft_event_log_free (log);
    }
  ck_assert_uint_eq (cost[0].ticks, cost[1].ticks);
  ck_assert_uint_eq (cost[0].fits, cost[1].fits);
  ck_assert_uint_gt (cost[0].fits, 0);
  ck_assert (cost[0].train_s == 0 && cost[0].predict_s == 0 && cost[0].score_s == 0 && cost[0].store_s == 0);
  ck_assert (cost[1].train_s > 0 && cost[1].predict_s > 0);
  ck_assert_uint_eq (s[0].predictions, s[1].predictions);
  for (guint h = 0; h < FT_MAINT_N_HORIZONS; h++)
    {
      ck_assert_uint_eq (s[0].scored[h], s[1].scored[h]);
      ck_assert_double_eq (s[0].brier[h], s[1].brier[h]);
      ck_assert_double_eq (s[0].auc[h], s[1].auc[h]);
    }
}
END_TEST

/* The same events give the same scores, with or without a store. */
START_TEST (test_shadow_deterministic)
{
  FtMaintShadowScores s[2];
  for (guint run = 0; run < 2; run++)
    {
      g_autoptr (GError) e = NULL;
      FtStore *st = run ? ft_store_open (":memory:", NULL, &e) : NULL;
      FtEventLog *log = ft_event_log_new ();
      ft_event_log_set_retain (log, FALSE);
      FtMaintShadowConfig c;
      config (&c);
      FtMaintShadow *ms = ft_maint_shadow_new (&c, log, st, 0, &e);
      ck_assert_msg (ms != NULL, "%s", e ? e->message : "");
      run_fleet (log, ms, NULL);
      ft_maint_shadow_scores (ms, &s[run]);
      ft_maint_shadow_free (ms);
      ft_event_log_free (log);
      if (st)
        ft_store_close (st);
    }
  ck_assert_uint_eq (s[0].predictions, s[1].predictions);
  ck_assert_uint_eq (s[0].fits, s[1].fits);
  ck_assert_uint_eq (s[0].caught, s[1].caught);
  for (guint h = 0; h < FT_MAINT_N_HORIZONS; h++)
    {
      ck_assert_uint_eq (s[0].scored[h], s[1].scored[h]);
      ck_assert_double_eq (s[0].brier[h], s[1].brier[h]);
      ck_assert_double_eq (s[0].auc[h], s[1].auc[h]);
    }
}
END_TEST

START_TEST (test_shadow_config_refused)
{
  FtMaintShadowConfig c;
  g_autoptr (GError) e = NULL;
  FtEventLog *log = ft_event_log_new ();

  config (&c);
  c.cadence_min = NAN;
  ck_assert_ptr_null (ft_maint_shadow_new (&c, log, NULL, 0, &e));
  ck_assert_error (e, FT_MAINT_ERROR, FT_MAINT_ERROR_INVALID);
  ck_assert_ptr_nonnull (strstr (e->message, "maint_cadence_min"));
  g_clear_error (&e);

  config (&c);
  c.kind = FT_MAINT_XGB;
  c.horizons_h[0] = 12;
  ck_assert (!ft_maint_shadow_config_check (&c, &e));
  ck_assert_ptr_nonnull (strstr (e->message, "xgb"));
  g_clear_error (&e);

  config (&c);
  c.horizons_h[1] = c.horizons_h[0];
  ck_assert (!ft_maint_shadow_config_check (&c, &e));
  ck_assert_ptr_nonnull (strstr (e->message, "maint_horizons"));
  g_clear_error (&e);

  config (&c);
  c.training_days = INFINITY;
  ck_assert (!ft_maint_shadow_config_check (&c, &e));
  ck_assert_ptr_nonnull (strstr (e->message, "maint_training_days"));
  ft_event_log_free (log);
}
END_TEST

/* A stored maintenance version whose blob was changed fails its checksum;
 * a version that does not exist and a forecast read as maintenance are
 * refused; NaN features are refused and the output is left alone. */
START_TEST (test_registry_maint_refuses)
{
  g_autofree char *dir = g_dir_make_tmp ("ft-mreg-XXXXXX", NULL);
  g_autofree char *path = g_build_filename (dir, "m.db", NULL);
  g_autoptr (GError) e = NULL;
  FtStore *st = ft_store_open (path, NULL, &e);
  ck_assert_ptr_nonnull (st);
  /* rows: hazard with km since service */
  g_autofree FtMaintRow *rows = g_new0 (FtMaintRow, 200);
  for (guint i = 0; i < 200; i++)
    {
      rows[i].vehicle = i;
      rows[i].x[FT_MF_KM_SINCE_SERVICE] = i % 50;
      rows[i].x[FT_MF_HOURS_SINCE_SERVICE] = i % 50;
      rows[i].time_h = 200.0 - 3.0 * (i % 50);
      rows[i].fault = i % 3 == 0;
      rows[i].follow_h = 300;
    }
  g_autoptr (FtMaintModel) m = ft_maint_model_fit (FT_MAINT_WEIBULL, NULL, rows, 200, &e);
  ck_assert_msg (m != NULL, "%s", e ? e->message : "");
  FtRegistryEntry en = { .city = "demo", .created = 1, .train_start = 0, .train_end = 1 };
  gint64 id = ft_registry_put_maint (st, m, NULL, &en, &e);
  ck_assert_int_gt (id, 0);
  g_autoptr (FtMaintModel) back = ft_registry_load_maint (st, id, NULL, &e);
  ck_assert_msg (back != NULL, "%s", e ? e->message : "");
  /* NaN features */
  double p[2] = { -1, -1 };
  rows[1].x[FT_MF_ODOMETER_KM] = NAN;
  ck_assert (!ft_maint_model_predict (back, rows, 2, 24, p, &e));
  ck_assert_error (e, FT_MAINT_ERROR, FT_MAINT_ERROR_INVALID);
  ck_assert (p[0] == -1 && p[1] == -1);
  g_clear_error (&e);
  /* no such version */
  ck_assert_ptr_null (ft_registry_load_maint (st, id + 7, NULL, &e));
  ck_assert_error (e, FT_STORE_ERROR, FT_STORE_ERROR_NOT_FOUND);
  g_clear_error (&e);
  ft_store_close (st);
  /* the blob changed behind the store's back (same length, zeros) */
  sqlite3 *db = NULL;
  ck_assert_int_eq (sqlite3_open (path, &db), SQLITE_OK);
  ck_assert_int_eq (sqlite3_exec (db, "UPDATE model_versions SET blob = zeroblob(length(blob))",
                                  NULL, NULL, NULL), SQLITE_OK);
  sqlite3_close (db);
  st = ft_store_open (path, NULL, &e);
  ck_assert_ptr_nonnull (st);
  ck_assert_ptr_null (ft_registry_load_maint (st, id, NULL, &e));
  ck_assert_error (e, FT_STORE_ERROR, FT_STORE_ERROR_CORRUPT);
  ft_store_close (st);
  ft_test_rm_rf (dir);
}
END_TEST

int
main (void)
{
  Suite *s = suite_create ("maint-shadow");
  TCase *run = tcase_create ("shadow");
  tcase_set_timeout (run, 240);
  tcase_add_test (run, test_shadow_scores_and_store);
  tcase_add_test (run, test_shadow_deterministic);
  tcase_add_test (run, test_shadow_measure_cost);
  suite_add_tcase (s, run);
  TCase *bad = tcase_create ("bad input");
  tcase_add_test (bad, test_shadow_config_refused);
  tcase_add_test (bad, test_registry_maint_refuses);
  suite_add_tcase (s, bad);
  SRunner *sr = srunner_create (s);
  srunner_run_all (sr, CK_NORMAL);
  int failed = srunner_ntests_failed (sr);
  srunner_free (sr);
  return failed ? 1 : 0;
}
