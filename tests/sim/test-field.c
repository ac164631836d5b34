/* test-field.c — field designs (issue 16): the assignment of riders, zones
 * and slices is deterministic and balanced; only the levers can be split
 * per unit (any other key refused, naming it and the design); a split
 * that treats nobody runs exactly the control's world; the per-arm counts
 * add up to the world's KPIs; results are the same in any cell order and
 * process; the report's bias against the crn truth on known numbers.
 */
#include "ft-sim-experiment.h"
#include "ft-sim-world.h"
#include "ft-exp-report.h"
#include "ft-test.h"

#include <check.h>
#include <math.h>
#include <string.h>

static char *tmp;

static const char base_text[] =
  "[scenario]\nname=tiny\ncity=demo\ndays=0.3\nseed=7\n"
  "[fleet]\nscooters=120\nbikes=0\nmopeds=0\n"
  "[demand]\nrequests_per_day=3000\nrouting=straight\n"
  "[staff]\nfield_staff=2\n"
  "[dynamic_pricing]\npolicy=off\ncap=2.0\nutilisation_high=0.5\nutilisation_low=0.2\ninterval_min=15\n";

static void
setup (void)
{
  tmp = g_dir_make_tmp ("ft-field-XXXXXX", NULL);
  g_autofree char *p = g_build_filename (tmp, "base.scenario", NULL);
  ck_assert (g_file_set_contents (p, base_text, -1, NULL));
}

static void
teardown (void)
{
  ft_test_rm_rf (tmp);
  g_clear_pointer (&tmp, g_free);
}

static FtSimExperiment *
parse (const char *text, GError **error)
{
  return ft_sim_experiment_parse (text, "t.experiment", tmp, error);
}

#define HEAD "[experiment]\nname=t\nbase=base.scenario\n"
#define VARIANTS "[variant off]\n[variant on]\ndynamic_pricing.policy=utilisation\n"

static void
refused (const char *text, const char *const *parts)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (FtSimExperiment) e = parse (text, &error);
  ck_assert_msg (e == NULL, "accepted:\n%s", text);
  for (guint i = 0; parts[i]; i++)
    ck_assert_msg (strstr (error->message, parts[i]) != NULL, "'%s' not in: %s", parts[i], error->message);
}

START_TEST (t_assign_riders)
{
  FtSimFieldSpec f = { .design = FT_SIM_FIELD_RIDER, .salt = 11, .share = 0.5 };
  guint n = 0, same = 0;
  FtSimFieldSpec g = f;
  g.salt = 12;
  for (guint r = 0; r < 10000; r++)
    {
      gboolean t = ft_sim_field_rider_treated (&f, r);
      ck_assert (t == ft_sim_field_rider_treated (&f, r));   /* deterministic */
      n += t;
      same += t == ft_sim_field_rider_treated (&g, r);
    }
  ck_assert_msg (n > 4800 && n < 5200, "%u of 10000 riders treated", n);
  ck_assert_msg (same > 4800 && same < 5200, "another salt agrees on %u", same);   /* a new draw */
  f.share = 0;
  for (guint r = 0; r < 1000; r++)
    ck_assert (!ft_sim_field_rider_treated (&f, r));
  f.share = 1;
  for (guint r = 0; r < 1000; r++)
    ck_assert (ft_sim_field_rider_treated (&f, r));
}
END_TEST

START_TEST (t_assign_zones)
{
  enum { NZ = 25 };
  double wt[NZ];
  for (guint z = 0; z < NZ; z++)
    wt[z] = (double) ((z * 7) % NZ);   /* distinct demands */
  gboolean t[NZ], t2[NZ];
  FtSimFieldSpec f = { .design = FT_SIM_FIELD_ZONE, .salt = 3, .share = 0.5 };
  ft_sim_field_assign_zones (&f, NZ, wt, t);
  ft_sim_field_assign_zones (&f, NZ, wt, t2);
  guint n = 0;
  for (guint z = 0; z < NZ; z++)
    {
      n += t[z];
      ck_assert (t[z] == t2[z]);
    }
  ck_assert_uint_eq (n, 13);   /* round (0.5 x 25) */
  /* balanced: of each pair of zones of like demand (ranks 2k, 2k+1), one */
  f.balanced = TRUE;
  ft_sim_field_assign_zones (&f, NZ, wt, t);
  guint by_rank[NZ];
  for (guint z = 0; z < NZ; z++)
    by_rank[NZ - 1 - (guint) wt[z]] = t[z];   /* most demand first */
  for (guint k = 0; k + 1 < NZ; k += 2)
    ck_assert_uint_eq (by_rank[k] + by_rank[k + 1], 1);
  f.share = 0;
  ft_sim_field_assign_zones (&f, NZ, wt, t);
  for (guint z = 0; z < NZ; z++)
    ck_assert (!t[z]);
}
END_TEST

START_TEST (t_assign_slices)
{
  FtSimFieldSpec f = { .design = FT_SIM_FIELD_SWITCHBACK, .salt = 5, .share = 0.5, .slice_min = 60 };
  for (guint s = 0; s + 1 < 48; s++)
    ck_assert (ft_sim_field_slice_treated (&f, s) != ft_sim_field_slice_treated (&f, s + 1));
  f.randomised = TRUE;
  guint n = 0;
  for (guint s = 0; s < 2000; s++)
    n += ft_sim_field_slice_treated (&f, s);
  ck_assert_msg (n > 900 && n < 1100, "%u of 2000 slices treated", n);
}
END_TEST

START_TEST (t_bad_input)
{
  refused (HEAD "replications=2\ndesign=ridr\n" VARIANTS,
           (const char *[]) { "t.experiment", "design", "'ridr'", "rider, zone, switchback", NULL });
  refused (HEAD "replications=2\ndesign=rider, rider\n" VARIANTS, (const char *[]) { "rider", "twice", NULL });
  refused (HEAD "replications=2\ndesign=switchback\n[field]\nslice_min=0\n" VARIANTS,
           (const char *[]) { "[field] slice_min", "'0'", NULL });
  refused (HEAD "replications=2\ndesign=switchback\n[field]\nslice_min=30\nwashout_min=30\n" VARIANTS,
           (const char *[]) { "[field] washout_min", NULL });
  refused (HEAD "replications=2\ndesign=switchback\n[field]\nshare=0.3\n" VARIANTS,
           (const char *[]) { "[field] share", "random", NULL });
  refused (HEAD "replications=2\ndesign=zone\n[field]\nzones=pairs\n" VARIANTS,
           (const char *[]) { "[field] zones", "pairs", NULL });
  refused (HEAD "replications=2\ndesign=zone\n[field]\ncolour=red\n" VARIANTS,
           (const char *[]) { "[field] colour", NULL });
  refused (HEAD "replications=2\n[field]\nshare=0.5\n" VARIANTS, (const char *[]) { "[field]", "crn", NULL });
  refused (HEAD "replications=2\ndesign=rider\n[variant off]\n", (const char *[]) { "field design", "variant", NULL });
  refused (HEAD "replications=2\ndesign=rider\nmetrics=staff_hours\n" VARIANTS,
           (const char *[]) { "metrics", "per arm", NULL });
  /* a key that cannot be split per unit, named with the design */
  refused (HEAD "replications=2\ndesign=zone\n[variant off]\n[variant big]\nfleet.scooters=200\n",
           (const char *[]) { "[variant big]", "fleet.scooters", "zone design", NULL });
  refused (HEAD "replications=2\ndesign=rider, switchback\n[variant off]\n[variant big]\n"
                "dynamic_pricing.policy=utilisation\nstaff.field_staff=3\n",
           (const char *[]) { "[variant big]", "staff.field_staff", "rider design", NULL });
  /* both arms price dynamically, with different settings */
  refused (HEAD "replications=2\ndesign=switchback\n[variant a]\ndynamic_pricing.policy=utilisation\n"
                "[variant b]\ndynamic_pricing.policy=utilisation\ndynamic_pricing.cap=1.5\n",
           (const char *[]) { "dynamic_pricing.cap", "switchback design", "on against off", NULL });
  /* what can be split is accepted: on/off with the on arm's settings, elasticity */
  g_autoptr (GError) error = NULL;
  g_autoptr (FtSimExperiment) e = parse (HEAD "replications=2\ndesign=rider, zone, switchback\n[variant off]\n"
                                         "[variant on]\ndynamic_pricing.policy=utilisation\ndynamic_pricing.cap=1.5\n"
                                         "dynamic_pricing.scooter_elasticity=-1\nincentives.enabled=true\n"
                                         "incentives.reward_minor=50\n", &error);
  ck_assert_msg (e != NULL, "%s", error ? error->message : "");
  ck_assert_str_eq (e->design, "rider,zone,switchback");
  ck_assert_uint_eq (e->n_field, 3);
  /* per replication: 2 crn cells, then one split world per design */
  ck_assert_uint_eq (ft_sim_experiment_n_cells (e), 2 * 5);
  ck_assert_int_eq (ft_sim_experiment_cell_field (e, 1), -1);
  ck_assert_int_eq (ft_sim_experiment_cell_field (e, 7), 0);
  g_autofree char *name = ft_sim_experiment_cell_name (e, 9);
  ck_assert_str_eq (name, "switchback/on");
  g_autoptr (FtSimScenario) ws = ft_sim_experiment_cell_scenario (e, 7, &error);
  ck_assert (ws != NULL);
  ck_assert_str_eq (ws->dyn_policy, "utilisation");   /* the world runs the lever … */
  ck_assert (fabs (ws->dyn_cap - 1.5) < 1e-12);
  ck_assert (ws->inc_enabled && fabs (ws->inc_reward_minor - 50) < 1e-12);
  g_autoptr (FtSimScenario) crn = ft_sim_experiment_cell_scenario (e, 6, &error);
  ck_assert_uint_eq (ws->replication, crn->replication);   /* … on the truth's demand */
}
END_TEST

static FtSimScenario *
load_base (const char *extra)
{
  g_autofree char *text = g_strconcat (base_text, extra, NULL);
  g_autoptr (GError) error = NULL;
  FtSimScenario *sc = ft_sim_scenario_parse (text, -1, "base", &error);
  ck_assert_msg (sc != NULL, "%s", error ? error->message : "");
  return sc;
}

static void
run_kpis (FtSimScenario *sc, const FtSimFieldSpec *f, FtSimKpis *k, FtSimWorld **keep)
{
  g_autoptr (GError) error = NULL;
  FtSimWorldOptions opt = { .field = f };
  FtSimWorld *w = ft_sim_world_new (sc, NULL, &opt, &error);
  ck_assert_msg (w != NULL, "%s", error ? error->message : "");
  ck_assert (ft_sim_world_run (w, NULL, NULL, &error) && ft_sim_world_finish (w, &error));
  ft_sim_world_kpis (w, k);
  if (keep)
    *keep = w;
  else
    ft_sim_world_free (w);
}

/* Treating nobody, the split world is the control's world: the lever is on
 * in it (prices set every 15 minutes, offers recomputed) but no request
 * sees it. _i: dynamic pricing (0), incentives (1). */
START_TEST (t_nobody_treated)
{
  g_autoptr (FtSimScenario) control = load_base ("");
  g_autoptr (FtSimScenario) treated = ft_sim_scenario_copy (control);
  if (_i == 0)
    {
      g_free (treated->dyn_policy);
      treated->dyn_policy = g_strdup ("utilisation");
    }
  else
    {
      treated->inc_enabled = TRUE;
      treated->inc_reward_minor = 300;
      treated->inc_max_detour_m = 1500;
    }
  g_autoptr (GError) error = NULL;
  FtSimKpis kc, kt;
  run_kpis (control, NULL, &kc, NULL);
  run_kpis (treated, NULL, &kt, NULL);
  ck_assert (_i == 1 || kt.price_changes > 0);
  ck_assert (_i == 0 || kt.incentive_moves > 0);
  ck_assert_msg (kt.trips_served != kc.trips_served || kt.revenue_minor != kc.revenue_minor,
                 "the lever changes nothing in this scenario");
  for (guint d = 0; d < FT_SIM_FIELD_N_DESIGNS; d++)
    {
      FtSimFieldSpec f = { .design = d, .salt = 9, .share = 0, .randomised = TRUE, .slice_min = 30,
                           .control = control, .treated = treated };
      g_autoptr (FtSimScenario) ws = ft_sim_field_world_scenario (control, treated, d, &error);
      ck_assert (ws != NULL);
      FtSimKpis k;
      FtSimWorld *w = NULL;
      run_kpis (ws, &f, &k, &w);
      ck_assert (_i == 1 || k.price_changes > 0);
      ck_assert_uint_eq (k.incentive_moves, 0);
      ck_assert_uint_eq (k.trips_requested, kc.trips_requested);
      ck_assert_uint_eq (k.trips_served, kc.trips_served);
      ck_assert_uint_eq (k.trips_lost, kc.trips_lost);
      ck_assert_int_eq (k.revenue_minor, kc.revenue_minor);
      FtSimFieldEstimate fe;
      ck_assert (ft_sim_world_field_estimate (w, "revenue_minor", &fe));
      ck_assert_uint_eq (fe.units[1], 0);
      ck_assert (isnan (fe.estimate));   /* no treated unit: no estimate */
      ck_assert (!ft_sim_world_field_estimate (w, "staff_hours", &fe));
      ft_sim_world_free (w);
    }
}
END_TEST

/* Half treated: the arms' counts add up to the world's KPIs (zones and
 * slices without wash-out count every request), and the lever reaches
 * treated units only. */
START_TEST (t_arms_add_up)
{
  g_autoptr (FtSimScenario) control = load_base ("");
  g_autoptr (FtSimScenario) treated = ft_sim_scenario_copy (control);
  g_free (treated->dyn_policy);
  treated->dyn_policy = g_strdup ("utilisation");
  g_autoptr (GError) error = NULL;
  for (guint d = 0; d < FT_SIM_FIELD_N_DESIGNS; d++)
    {
      FtSimFieldSpec f = { .design = d, .salt = 4, .share = 0.5, .slice_min = 30,
                           .control = control, .treated = treated };
      g_autoptr (FtSimScenario) ws = ft_sim_field_world_scenario (control, treated, d, &error);
      FtSimKpis k;
      FtSimWorld *w = NULL;
      run_kpis (ws, &f, &k, &w);
      guint n = ft_sim_world_field_n_units (w), nt = 0;
      for (guint u = 0; u < n; u++)
        nt += ft_sim_world_field_arm (w, u) == 1;
      ck_assert_msg (nt * 10 >= n * 3 && nt * 10 <= n * 7, "%s: %u of %u units treated",
                     ft_sim_field_design_name (d), nt, n);
      FtSimFieldEstimate req, srv, lost, rev, sl;
      ck_assert (ft_sim_world_field_estimate (w, "trips_requested", &req));
      ck_assert (ft_sim_world_field_estimate (w, "trips_served", &srv));
      ck_assert (ft_sim_world_field_estimate (w, "trips_lost", &lost));
      ck_assert (ft_sim_world_field_estimate (w, "revenue_minor", &rev));
      ck_assert (ft_sim_world_field_estimate (w, "service_level", &sl));
      ck_assert (isfinite (rev.estimate) && isfinite (sl.estimate));
      for (guint a = 0; a < 2; a++)
        ck_assert (req.value[a] == srv.value[a] + lost.value[a]);
      ck_assert_uint_eq ((guint64) (req.value[0] + req.value[1]), k.trips_requested);
      ck_assert_uint_eq ((guint64) (srv.value[0] + srv.value[1]), k.trips_served);
      ck_assert_msg (rev.value[0] + rev.value[1] == (double) k.revenue_minor, "%.0f + %.0f != %" G_GINT64_FORMAT,
                       rev.value[0], rev.value[1], k.revenue_minor);
      ft_sim_world_free (w);
    }
}
END_TEST

static FtExpResults *
run_cells (FtSimExperiment *e, const char *name, gboolean reverse)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *path = g_build_filename (tmp, name, NULL);
  FtExpIdentity id;
  ft_sim_experiment_identity (e, &id);
  FtExpResults *r = ft_exp_results_create (path, &id, &error);
  ck_assert_msg (r != NULL, "%s", error ? error->message : "");
  guint n = ft_sim_experiment_n_cells (e);
  for (guint i = 0; i < n; i++)
    {
      guint c = reverse ? n - 1 - i : i;
      if (!reverse)
        {
          ck_assert_msg (ft_sim_experiment_run_cell (e, c, r, &error), "%s", error ? error->message : "");
          continue;
        }
      /* as --jobs does: each cell into a file of its own, then merged */
      g_autofree char *cp = g_strdup_printf ("%s/cell-%s-%u.db", tmp, name, c);
      g_autoptr (FtExpResults) cr = ft_exp_results_create (cp, &id, &error);
      ck_assert (cr != NULL);
      ck_assert_msg (ft_sim_experiment_run_cell (e, c, cr, &error), "%s", error ? error->message : "");
      g_clear_pointer (&cr, ft_exp_results_close);
      ck_assert_msg (ft_exp_results_merge (r, cp, &error), "%s", error ? error->message : "");
    }
  ft_sim_experiment_identity_clear (&id);
  return r;
}

START_TEST (t_experiment_any_order)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (FtSimExperiment) e = parse (HEAD "replications=2\ndesign=rider, zone, switchback\n"
                                         "metrics=trips_requested, trips_served, revenue_minor\n"
                                         "[field]\nslice_min=30\nwashout_min=5\nzones=balanced\n" VARIANTS, &error);
  ck_assert_msg (e != NULL, "%s", error ? error->message : "");
  g_autoptr (FtExpResults) a = run_cells (e, "a.db", FALSE);
  g_autoptr (FtExpResults) b = run_cells (e, "b.db", TRUE);
  g_autofree char *da = ft_exp_results_dump (a), *db = ft_exp_results_dump (b);
  ck_assert_str_eq (da, db);
  ck_assert (strstr (da, "field rider 1 on revenue_minor") != NULL);
  ck_assert (strstr (da, "run 0 switchback/on") != NULL);
  g_autofree double *est = NULL;
  guint n = 0;
  ck_assert (ft_exp_results_field_values (a, "zone", "on", "trips_served", &est, &n));
  ck_assert_uint_eq (n, 2);
  ck_assert (isfinite (est[0]) && isfinite (est[1]));
  g_autoptr (GPtrArray) fb = ft_exp_report_field (a, &error);
  ck_assert (fb != NULL);
  ck_assert_uint_eq (fb->len, 3 * 3);
  FtExpReportOptions o = FT_EXP_REPORT_OPTIONS_INIT;
  g_autoptr (GPtrArray) cmp = ft_exp_report_compare (a, &o, &error);
  ck_assert (cmp != NULL);
  ck_assert_uint_eq (cmp->len, 3);   /* the crn comparison is unchanged by the field worlds */
  g_autofree char *text = ft_exp_report_text (a, cmp, &o);
  ck_assert (strstr (text, "Field designs against the whole-fleet truth") != NULL);
  ck_assert (strstr (text, "switchback") != NULL);
}
END_TEST

/* The bias table on numbers worked by hand. */
START_TEST (t_bias_known)
{
  g_autoptr (GError) error = NULL;
  const char *names[] = { "c", "t" }, *ov[] = { "", "" };
  FtExpIdentity id = { .name = "k", .hash = "h", .design = "rider", .control = "c", .metrics = "trips_served",
                       .replications = 3, .file_text = "", .n_variants = 2, .variant_names = names,
                       .variant_overrides = ov };
  g_autofree char *path = g_build_filename (tmp, "k.db", NULL);
  g_autoptr (FtExpResults) r = ft_exp_results_create (path, &id, &error);
  ck_assert (r != NULL);
  /* truth (t - c): 10, 20, 30; estimates 14, 20, 35: errors 4, 0, 5 */
  const double c[] = { 100, 100, 100 }, t[] = { 110, 120, 130 }, est[] = { 14, 20, 35 };
  for (guint i = 0; i < 3; i++)
    {
      ck_assert (ft_exp_results_add_value (r, i, "c", "trips_served", c[i], NAN, &error));
      ck_assert (ft_exp_results_add_value (r, i, "t", "trips_served", t[i], NAN, &error));
      FtExpFieldRow row = { .design = "rider", .replication = i, .variant = "t", .metric = "trips_served",
                            .estimate = est[i], .control = 1, .treated = 2, .control_units = 5, .treated_units = 5 };
      ck_assert (ft_exp_results_add_field (r, &row, &error));
    }
  FtExpFieldRow dup = { .design = "rider", .replication = 0, .variant = "t", .metric = "trips_served" };
  ck_assert (!ft_exp_results_add_field (r, &dup, &error));
  ck_assert (strstr (error->message, "rider") != NULL);
  g_clear_error (&error);
  g_autoptr (GPtrArray) fb = ft_exp_report_field (r, &error);
  ck_assert_uint_eq (fb->len, 1);
  FtExpFieldBias *b = fb->pdata[0];
  ck_assert_uint_eq (b->n, 3);
  ck_assert (fabs (b->truth_mean - 20) < 1e-12 && fabs (b->truth_sd - 10) < 1e-12);
  ck_assert (fabs (b->est_mean - 23) < 1e-12);
  ck_assert (fabs (b->bias - 3) < 1e-12);
  /* errors 4, 0, 5: sd sqrt(7), se sqrt(7/3); rmse sqrt(41/3) */
  ck_assert (fabs (b->bias_se - sqrt (7.0 / 3.0)) < 1e-12);
  ck_assert (fabs (b->rmse - sqrt (41.0 / 3.0)) < 1e-12);
}
END_TEST

int
main (void)
{
  Suite *s = suite_create ("field");
  TCase *tc = tcase_create ("design");
  tcase_add_checked_fixture (tc, setup, teardown);
  tcase_add_test (tc, t_assign_riders);
  tcase_add_test (tc, t_assign_zones);
  tcase_add_test (tc, t_assign_slices);
  tcase_add_test (tc, t_bad_input);
  tcase_add_test (tc, t_bias_known);
  suite_add_tcase (s, tc);
  TCase *tr = tcase_create ("runs");
  tcase_add_checked_fixture (tr, setup, teardown);
  tcase_set_timeout (tr, 600);
  tcase_add_loop_test (tr, t_nobody_treated, 0, 2);
  tcase_add_test (tr, t_arms_add_up);
  tcase_add_test (tr, t_experiment_any_order);
  suite_add_tcase (s, tr);
  SRunner *sr = srunner_create (s);
  srunner_run_all (sr, CK_NORMAL);
  int failed = srunner_ntests_failed (sr);
  srunner_free (sr);
  return failed ? 1 : 0;
}
