/* test-experiment.c — experiment files and the cell runner (issue 16):
 * variants checked through the scenario key table (unknown key, value out
 * of bounds, a broken cross-key rule, the seed), zero replications, unknown
 * metrics, each refused naming the variant and key; common random numbers
 * (every variant of a replication on the same streams: the same requests);
 * a small real null experiment; merging refuses another experiment's file.
 */
#include "ft-sim-experiment.h"
#include "ft-sim-world.h"
#include "ft-exp-report.h"
#include "ft-test.h"

#include <check.h>
#include <glib/gstdio.h>
#include <math.h>
#include <string.h>

static char *tmp;

static const char base_text[] =
  "[scenario]\nname=tiny\ncity=demo\ndays=0.3\nseed=7\n"
  "[fleet]\nscooters=120\nbikes=0\nmopeds=0\n"
  "[demand]\nrequests_per_day=3000\nrouting=straight\n"
  "[staff]\nfield_staff=2\n";

static void
setup (void)
{
  tmp = g_dir_make_tmp ("ft-exp-XXXXXX", NULL);
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

START_TEST (t_parse)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (FtSimExperiment) e = parse (HEAD "replications=3\nmetrics=trips_requested, service_level\n"
                                         "[variant A]\n[variant B]\npricing.unlock_minor=150\n", &error);
  ck_assert_msg (e != NULL, "%s", error ? error->message : "");
  ck_assert_uint_eq (ft_sim_experiment_n_cells (e), 6);
  ck_assert_str_eq (e->design, "crn");
  ck_assert_uint_eq (e->control, 0);
  /* crn: both variants of replication 2 on the same streams */
  g_autoptr (FtSimScenario) a = ft_sim_experiment_cell_scenario (e, 4, &error);
  g_autoptr (FtSimScenario) b = ft_sim_experiment_cell_scenario (e, 5, &error);
  ck_assert (a && b);
  ck_assert_uint_eq (a->replication, b->replication);
  ck_assert_uint_eq (a->seed, b->seed);
  ck_assert_int_eq (a->unlock_minor, 100);
  ck_assert_int_eq (b->unlock_minor, 150);
  /* independent: every cell its own streams */
  g_autoptr (FtSimExperiment) f = parse (HEAD "replications=3\ndesign=independent\n[variant A]\n[variant B]\n", &error);
  ck_assert (f != NULL);
  g_autoptr (FtSimScenario) c = ft_sim_experiment_cell_scenario (f, 4, &error);
  g_autoptr (FtSimScenario) d = ft_sim_experiment_cell_scenario (f, 5, &error);
  ck_assert_uint_ne (c->replication, d->replication);
  /* the identity hash covers the file */
  ck_assert_str_ne (e->hash, f->hash);
}
END_TEST

static void
refused (const char *text, const char *const *parts)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (FtSimExperiment) e = parse (text, &error);
  ck_assert_msg (e == NULL, "accepted:\n%s", text);
  for (guint i = 0; parts[i]; i++)
    ck_assert_msg (strstr (error->message, parts[i]) != NULL, "'%s' not in: %s", parts[i], error->message);
}

START_TEST (t_bad_input)
{
  refused (HEAD "replications=2\n[variant A]\n[variant B]\nfleet.scooterz=10\n",
           (const char *[]) { "t.experiment", "[variant B]", "fleet.scooterz", "unknown scenario key", NULL });
  refused (HEAD "replications=2\n[variant A]\n[variant B]\nfleet.scooters=many\n",
           (const char *[]) { "[variant B]", "fleet.scooters", "many", NULL });
  refused (HEAD "replications=2\n[variant A]\n[variant B]\nfleet.initial_soc_min=1.5\n",
           (const char *[]) { "[variant B]", "fleet.initial_soc_min", NULL });
  /* each value valid alone, together they break a scenario rule */
  refused (HEAD "replications=2\n[variant A]\n[variant Low]\nfleet.initial_soc_min=0.9\nfleet.initial_soc_max=0.6\n",
           (const char *[]) { "[variant Low]", "breaks a scenario rule", "initial_soc", NULL });
  refused (HEAD "replications=2\n[variant A]\n[variant B]\nscenario.seed=3\n",
           (const char *[]) { "[variant B]", "scenario.seed", NULL });
  refused (HEAD "replications=0\n[variant A]\n", (const char *[]) { "replications", "'0'", NULL });
  refused (HEAD "[variant A]\n", (const char *[]) { "replications", NULL });
  refused (HEAD "replications=2\nmetrics=service_level, trips_servd\n[variant A]\n",
           (const char *[]) { "metrics", "trips_servd", NULL });
  refused (HEAD "replications=2\ndesign=ridr\n[variant A]\n", (const char *[]) { "design", "ridr", NULL });
  refused (HEAD "replications=2\n", (const char *[]) { "no variants", NULL });
  refused ("[experiment]\nname=t\nbase=missing.scenario\nreplications=2\n[variant A]\n",
           (const char *[]) { "base", "missing.scenario", NULL });
  refused (HEAD "replications=2\ncolour=red\n[variant A]\n", (const char *[]) { "colour", NULL });
  /* found by tests/fuzz (region.ini): two bad escapes made GLib set its error twice */
  refused (HEAD "replications=2\ndesign=crn\\q\\z\n[variant A]\n",
           (const char *[]) { "[experiment] design", "bad escape \"\\q\"", NULL });
  refused (HEAD "replications=2\n[variant A]\n[sweep]\nfleet.scooters=10,20\n",
           (const char *[]) { "[variant A]", "sweep", NULL });
  refused (HEAD "replications=2\n[sweep]\nmethod=lhs\npoints=4\nfleet.scooters=10,20\n",
           (const char *[]) { "fleet.scooters", "lo..hi", NULL });
}
END_TEST

START_TEST (t_sweep)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (FtSimExperiment) g = parse (HEAD "replications=1\n[sweep]\nfleet.scooters=100,200,300\n"
                                         "staff.field_staff=1,2\n", &error);
  ck_assert_msg (g != NULL, "%s", error ? error->message : "");
  ck_assert_uint_eq (g->variants->len, 6);
  ck_assert_str_eq (((FtSimVariant *) g->variants->pdata[5])->overrides, "fleet.scooters=300\nstaff.field_staff=2");
  /* the Pareto metrics are measured */
  ck_assert (g_strv_contains ((const char *const *) g->metrics, "staff_hours"));
  g_autoptr (FtSimExperiment) l = parse (HEAD "replications=1\n[sweep]\nmethod=lhs\npoints=5\nseed=3\n"
                                         "fleet.scooters=100..600\nrules.swap_threshold_soc=0.1..0.4\n", &error);
  ck_assert_msg (l != NULL, "%s", error ? error->message : "");
  ck_assert_uint_eq (l->variants->len, 5);
  /* Latin hypercube: one point in each fifth of every range */
  gboolean seen[5] = { 0 };
  for (guint i = 0; i < 5; i++)
    {
      g_autoptr (FtSimScenario) sc = ft_sim_experiment_cell_scenario (l, i, &error);
      ck_assert (sc != NULL);
      guint bin = (guint) ((sc->scooters - 100) / 100.0);
      ck_assert_uint_lt (MIN (bin, 4), 5);
      ck_assert_msg (!seen[MIN (bin, 4)], "two points in one stratum");
      seen[MIN (bin, 4)] = TRUE;
    }
}
END_TEST

static FtExpResults *
run_all (FtSimExperiment *e, const char *name)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *path = g_build_filename (tmp, name, NULL);
  FtExpIdentity id;
  ft_sim_experiment_identity (e, &id);
  FtExpResults *r = ft_exp_results_create (path, &id, &error);
  ft_sim_experiment_identity_clear (&id);
  ck_assert_msg (r != NULL, "%s", error ? error->message : "");
  for (guint c = 0; c < ft_sim_experiment_n_cells (e); c++)
    ck_assert_msg (ft_sim_experiment_run_cell (e, c, r, &error), "%s", error ? error->message : "");
  return r;
}

START_TEST (t_crn_same_demand)
{
  /* a price change on common random numbers: the same requests in both
   * arms of each replication, different ones across replications */
  g_autoptr (GError) error = NULL;
  g_autoptr (FtSimExperiment) e = parse (HEAD "replications=2\nmetrics=trips_requested, trips_served\npre_days=0.15\n"
                                         "[variant A]\n[variant Pricey]\npricing.unlock_minor=400\n", &error);
  ck_assert (e != NULL);
  g_autoptr (FtExpResults) r = run_all (e, "crn.db");
  g_autofree double *a = NULL, *b = NULL, *pa = NULL;
  guint n = 0;
  ck_assert (ft_exp_results_values (r, "A", "trips_requested", &a, &pa, &n, &error));
  ck_assert (ft_exp_results_values (r, "Pricey", "trips_requested", &b, NULL, &n, &error));
  ck_assert_uint_eq (n, 2);
  ck_assert (a[0] > 0 && a[0] == b[0] && a[1] == b[1] && a[0] != a[1]);
  ck_assert (isfinite (pa[0]) && pa[0] < a[0]);   /* the pre-period is the first part */
  g_autofree double *sa = NULL, *sb = NULL;
  ck_assert (ft_exp_results_values (r, "A", "trips_served", &sa, NULL, &n, &error));
  ck_assert (ft_exp_results_values (r, "Pricey", "trips_served", &sb, NULL, &n, &error));
  ck_assert (sb[0] + sb[1] < sa[0] + sa[1]);   /* dearer: fewer riders go ahead */
  ck_assert_uint_eq (ft_exp_results_n_runs (r), 4);
}
END_TEST

START_TEST (t_null_experiment)
{
  /* two identical variants on independent streams: every 95 % interval
   * should cover zero at about the nominal rate; with these seeds all of
   * them do (this run is fixed, so the check is deterministic) */
  g_autoptr (GError) error = NULL;
  g_autoptr (FtSimExperiment) e = parse (HEAD "replications=6\ndesign=independent\n"
                                         "metrics=trips_requested, trips_served, service_level, revenue_minor\n"
                                         "[variant A]\n[variant A2]\n", &error);
  ck_assert (e != NULL);
  g_autoptr (FtExpResults) r = run_all (e, "null.db");
  FtExpReportOptions o = FT_EXP_REPORT_OPTIONS_INIT;
  g_autoptr (GPtrArray) cmp = ft_exp_report_compare (r, &o, &error);
  ck_assert_msg (cmp != NULL, "%s", error ? error->message : "");
  ck_assert_uint_eq (cmp->len, 4);
  guint cover = 0;
  for (guint i = 0; i < cmp->len; i++)
    {
      FtExpComparison *k = cmp->pdata[i];
      ck_assert (k->st.sd > 0);      /* independent streams: the runs differ */
      cover += k->st.t_lo <= 0 && 0 <= k->st.t_hi;
    }
  ck_assert_uint_ge (cover, 3);
  /* the same null on common random numbers: identical runs, zero differences */
  g_autoptr (FtSimExperiment) c = parse (HEAD "replications=2\nmetrics=trips_served, revenue_minor\n"
                                         "[variant A]\n[variant A2]\n", &error);
  g_autoptr (FtExpResults) rc = run_all (c, "nullcrn.db");
  g_autoptr (GPtrArray) cc = ft_exp_report_compare (rc, &o, &error);
  for (guint i = 0; i < cc->len; i++)
    ck_assert (((FtExpComparison *) cc->pdata[i])->st.mean == 0
               && ((FtExpComparison *) cc->pdata[i])->st.sd == 0);
  g_autofree char *text = ft_exp_report_text (r, cmp, &o);
  ck_assert (strstr (text, "A2 vs A") != NULL);
}
END_TEST

START_TEST (t_merge_refuses_other_experiment)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (FtSimExperiment) e = parse (HEAD "replications=2\n[variant A]\n", &error);
  g_autoptr (FtSimExperiment) f = parse (HEAD "replications=3\n[variant A]\n", &error);
  ck_assert (e && f);
  FtExpIdentity id;
  g_autofree char *pe = g_build_filename (tmp, "e.db", NULL), *pf = g_build_filename (tmp, "f.db", NULL);
  ft_sim_experiment_identity (e, &id);
  g_autoptr (FtExpResults) re = ft_exp_results_create (pe, &id, &error);
  ft_sim_experiment_identity_clear (&id);
  ft_sim_experiment_identity (f, &id);
  g_autoptr (FtExpResults) rf = ft_exp_results_create (pf, &id, &error);
  ft_sim_experiment_identity_clear (&id);
  ck_assert (re && rf);
  ck_assert (ft_exp_results_add_run (rf, 0, "A", 7, 0, "x", &error));
  ck_assert (!ft_exp_results_merge (re, pf, &error));
  ck_assert (g_error_matches (error, FT_EXP_ERROR, FT_EXP_ERROR_MISMATCH));
  ck_assert_msg (strstr (error->message, pf) != NULL, "%s", error->message);
  ck_assert_uint_eq (ft_exp_results_n_runs (re), 0);   /* nothing merged */
  g_clear_error (&error);
  /* a file that is not a results database at all */
  g_autofree char *junk = g_build_filename (tmp, "junk.db", NULL);
  ck_assert (g_file_set_contents (junk, "not sqlite", -1, NULL));
  ck_assert (!ft_exp_results_merge (re, junk, &error));
  ck_assert (strstr (error->message, junk) != NULL);
}
END_TEST

/* Every shipped experiment file and rollout scenario loads (a variant
 * value outside its key's bounds was one such finding). */
START_TEST (t_shipped_files)
{
  g_autofree char *dir = ft_test_source_path ("experiments");
  g_autoptr (GDir) d = g_dir_open (dir, 0, NULL);
  ck_assert (d != NULL);
  guint n = 0;
  for (const char *name; (name = g_dir_read_name (d));)
    {
      if (!g_str_has_suffix (name, ".experiment"))
        continue;
      g_autofree char *path = g_build_filename (dir, name, NULL);
      g_autoptr (GError) error = NULL;
      g_autoptr (FtSimExperiment) e = ft_sim_experiment_load (path, &error);
      ck_assert_msg (e != NULL, "%s", error ? error->message : "");
      n++;
    }
  ck_assert_uint_ge (n, 4);
  for (guint p = 1; p <= 5; p++)
    {
      g_autofree char *rel = g_strdup_printf ("scenarios/rollout-p%u.scenario", p);
      g_autofree char *path = ft_test_source_path (rel);
      g_autoptr (GError) error = NULL;
      g_autoptr (FtSimScenario) sc = ft_sim_scenario_load (path, &error);
      ck_assert_msg (sc != NULL, "%s", error ? error->message : "");
    }
}
END_TEST

/* A cell runs with summary records (ft_sim_experiment_cell_records): every
 * KPI, at the pre-period and at the end, is what full records give, and
 * what run_cell stores; a scenario with the support assistant keeps full
 * records (it reads the ledger's journal). */
static void
run_kpis (const FtSimScenario *cell, gboolean summary, double pre_days, FtSimKpis *pre, FtSimKpis *end)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (FtSimScenario) sc = ft_sim_scenario_copy (cell);
  sc->summary_records = summary;
  FtSimWorldOptions opt = { 0 };
  g_autoptr (FtSimWorld) w = ft_sim_world_new (sc, NULL, &opt, &error);
  ck_assert_msg (w != NULL, "%s", error ? error->message : "");
  ck_assert (ft_sim_world_run_until (w, (FtTime) llround (pre_days * FT_DAY), &error));
  ft_sim_world_kpis (w, pre);
  ck_assert (ft_sim_world_run (w, NULL, NULL, &error) && ft_sim_world_finish (w, &error));
  ft_sim_world_kpis (w, end);
}

static gboolean
same (double a, double b)
{
  return a == b || (isnan (a) && isnan (b));
}

START_TEST (t_summary_same)
{
  guint nk = 0;
  const FtSimKpiInfo *kt = ft_sim_kpi_table (&nk);
  ck_assert_uint_gt (nk, 20);
  g_autoptr (GString) metrics = g_string_new (NULL);
  for (guint i = 0; i < nk; i++)
    g_string_append_printf (metrics, "%s%s", i ? ", " : "", kt[i].name);
  g_autoptr (GError) error = NULL;
  g_autofree char *text = g_strdup_printf (HEAD "replications=1\npre_days=0.1\nmetrics=%s\n"
                                           "[variant A]\n[variant Pricey]\npricing.unlock_minor=400\n", metrics->str);
  g_autoptr (FtSimExperiment) e = parse (text, &error);
  ck_assert_msg (e != NULL, "%s", error ? error->message : "");
  g_autoptr (FtExpResults) r = run_all (e, "summary.db");
  const char *variants[] = { "A", "Pricey" };
  guint compared = 0;
  FtSimKpis pre[2][2], end[2][2];
  for (guint c = 0; c < 2; c++)
    {
      g_autoptr (FtSimScenario) sc = ft_sim_experiment_cell_scenario (e, c, &error);
      ck_assert (sc != NULL && !sc->summary_records);
      for (guint s = 0; s < 2; s++)
        run_kpis (sc, s, 0.1, &pre[c][s], &end[c][s]);
      g_autoptr (FtSimScenario) probe = ft_sim_scenario_copy (sc);
      ck_assert (ft_sim_experiment_cell_records (probe) && probe->summary_records);
    }
  for (guint i = 0; i < nk; i++)
    for (guint c = 0; c < 2; c++)
      {
        g_autofree double *v = NULL, *pv = NULL;
        guint n = 0;
        ck_assert_msg (ft_exp_results_values (r, variants[c], kt[i].name, &v, &pv, &n, &error), "%s",
                       error ? error->message : "");
        ck_assert_uint_eq (n, 1);
        double full = NAN, sum = NAN, pfull = NAN, psum = NAN;
        ck_assert (ft_sim_kpi_value (&end[c][0], kt[i].name, &full));
        ck_assert (ft_sim_kpi_value (&end[c][1], kt[i].name, &sum));
        ck_assert (ft_sim_kpi_value (&pre[c][0], kt[i].name, &pfull));
        ck_assert (ft_sim_kpi_value (&pre[c][1], kt[i].name, &psum));
        ck_assert_msg (same (full, sum) && same (pfull, psum), "%s: full %g summary %g (pre %g %g)", kt[i].name,
                       full, sum, pfull, psum);
        ck_assert_msg (same (v[0], full) && same (pv[0], pfull), "%s: stored %g, full records %g", kt[i].name,
                       v[0], full);
        compared++;
      }
  ck_assert_uint_eq (compared, 2 * nk);
  ck_assert (end[0][0].trips_served != end[1][0].trips_served);   /* the variants ran differently */
  /* the support assistant reads the journal: full records */
  g_autoptr (FtSimScenario) sup = ft_sim_experiment_cell_scenario (e, 0, &error);
  sup->support_contact_share = 0.1;
  ck_assert (!ft_sim_experiment_cell_records (sup) && !sup->summary_records);
}
END_TEST

int
main (void)
{
  Suite *s = suite_create ("experiment");
  TCase *tc = tcase_create ("file");
  tcase_add_checked_fixture (tc, setup, teardown);
  tcase_add_test (tc, t_parse);
  tcase_add_test (tc, t_bad_input);
  tcase_add_test (tc, t_sweep);
  tcase_add_test (tc, t_merge_refuses_other_experiment);
  tcase_add_test (tc, t_shipped_files);
  suite_add_tcase (s, tc);
  TCase *tr = tcase_create ("runs");
  tcase_add_checked_fixture (tr, setup, teardown);
  tcase_set_timeout (tr, 600);
  tcase_add_test (tr, t_crn_same_demand);
  tcase_add_test (tr, t_null_experiment);
  tcase_add_test (tr, t_summary_same);
  suite_add_tcase (s, tr);
  SRunner *sr = srunner_create (s);
  srunner_run_all (sr, CK_NORMAL);
  int failed = srunner_ntests_failed (sr);
  srunner_free (sr);
  return failed ? 1 : 0;
}
