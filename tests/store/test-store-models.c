/* test-store-models.c — the shadow models' rows in the store (schema 15:
 * actuals appended to tables of their own, `predictions` a view): a
 * schema-14 file with predictions and actuals in it migrates without a
 * row or an answer changed; the same writes give the same answers on a
 * file kept at schema 14 (UPDATEs of the rows) and on a new one; the
 * first actual of a key is the one; a batch is all or nothing, on its
 * own or inside a caller's transaction.
 */
#include <check.h>
#include <glib/gstdio.h>
#include <math.h>
#include <sqlite3.h>
#include <string.h>

#include "ft-test.h"
#include "ft-store-private.h"
#include "ft-store-models.h"

static char *tmpdir;

static void
setup (void)
{
  tmpdir = g_dir_make_tmp ("ft-store-models-XXXXXX", NULL);
  ck_assert_ptr_nonnull (tmpdir);
}

static void
teardown (void)
{
  ft_test_rm_rf (tmpdir);
  g_clear_pointer (&tmpdir, g_free);
}

static char *
path_of (const char *name)
{
  return g_build_filename (tmpdir, name, NULL);
}

static gint64
model (FtStore *s, const char *kind)
{
  g_autoptr (GError) err = NULL;
  static const guint8 blob[] = { 1, 2, 3, 4 };
  FtStoreModel m = { .kind = (char *) kind, .city = (char *) "demo", .status = (char *) "shadow",
                     .created = 1, .train_end = 2, .blob = g_bytes_new_static (blob, sizeof blob) };
  ck_assert_msg (ft_store_model_put (s, &m, &err), "%s", err ? err->message : "");
  g_bytes_unref (m.blob);
  return m.id;
}

/* What a shadow run writes, in two phases (the second continues the
 * first: actuals of the predictions still open, new predictions): hourly
 * forecasts of three zones at horizons 1 and 3 with their hours' actuals,
 * 15-minute ones (horizon 0) filled by issue time, maintenance ones of
 * vehicles at 24 and 168 h, some resolved, some open. v[0], v[1]: the
 * forecast and maintenance versions. */
static void
workload (FtStore *s, const gint64 *v, int phase)
{
  g_autoptr (GError) err = NULL;
  static const char *const zones[] = { "Z01", "Z02", "Z03" };
  static const char *const vehicles[] = { "FT-0000", "FT-0001", "FT-0002", "FT-0003" };
  guint h0 = phase == 0 ? 0 : 6, h1 = phase == 0 ? 6 : 12;
  for (guint h = h0; h < h1; h++)
    {
      FtTime now = (FtTime) h * FT_HOUR;
      FtStorePrediction p[3 * 3];
      guint n = 0;
      for (guint z = 0; z < 3; z++)
        {
          static const guint leads[] = { 1, 3 };
          for (guint i = 0; i < 2; i++)
            p[n++] = (FtStorePrediction) { v[0], "", leads[i], now, now + (FtTime) (leads[i] - 1) * FT_HOUR,
                                           0.5 + h + z + 0.25 * i, z == 1 ? NAN : 1.0 + z };
          p[n++] = (FtStorePrediction) { v[0], "", 0, now, now, 0.1 * (h + z), 0.2 };
          g_strlcpy (p[n - 3].target, zones[z], sizeof p[0].target);
          g_strlcpy (p[n - 2].target, zones[z], sizeof p[0].target);
          g_strlcpy (p[n - 1].target, zones[z], sizeof p[0].target);
        }
      ck_assert_msg (ft_store_predictions_put (s, p, n, &err), "%s", err ? err->message : "");
      /* the hour before has passed: its actual for every horizon of an
       * hour or more, and the quarter issued then (which starts at the
       * same time) */
      if (h > 0)
        {
          FtTime tt[3], at[3];
          double y[3], yq[3];
          guint zero[3] = { 0, 0, 0 };
          for (guint z = 0; z < 3; z++)
            {
              tt[z] = now - FT_HOUR;
              at[z] = now - FT_HOUR;
              y[z] = (double) ((h * 7 + z * 3) % 5);
              yq[z] = (double) ((h + z) % 2);
            }
          ck_assert (ft_store_predictions_fill (s, (const char *const *) zones, tt, y, 3, &err));
          /* Z03's quarters stay open: the hour's actual is not theirs */
          ck_assert (ft_store_predictions_fill_issued (s, (const char *const *) zones, at, zero, yq, 2, &err));
        }
    }
  /* maintenance: every vehicle at both horizons each 6 h */
  FtTime now = (FtTime) h0 * FT_HOUR;
  FtStorePrediction m[8];
  for (guint i = 0; i < 4; i++)
    for (guint k = 0; k < 2; k++)
      {
        guint hz = k ? 168 : 24;
        m[i * 2 + k] = (FtStorePrediction) { v[1], "", hz, now, now + (FtTime) hz * FT_HOUR, 0.01 * (i + 1) * (k + 1),
                                             0.02 };
        g_strlcpy (m[i * 2 + k].target, vehicles[i], sizeof m[0].target);
      }
  ck_assert (ft_store_predictions_put (s, m, 8, &err));
  /* a fault of FT-0001 resolves its predictions of this tick; the 24 h
   * ones of the tick before (phase 1) resolve to 0 but FT-0003's; an
   * actual given again changes nothing (FT-0001's of phase 0, which a
   * migrated file holds in the row) */
  const char *tv[] = { "FT-0001", "FT-0001", "FT-0000", "FT-0002", "FT-0001" };
  const FtTime ta[] = { now, now, 0, 0, 0 };
  const guint th[] = { 24, 168, 24, 24, 24 };
  const double ty[] = { 1, 1, 0, 0, 0 };
  ck_assert (ft_store_predictions_fill_issued (s, tv, ta, th, ty, phase == 0 ? 2 : 5, &err));
  if (phase == 0)
    return;
  /* batches as large as a city's (written many rows per statement at 15):
   * 40 zones an hour ahead with their actuals, 150 vehicles with 145
   * outcomes */
  enum { NZ = 40, NV = 150 };
  g_autofree FtStorePrediction *big = g_new0 (FtStorePrediction, NV);
  g_auto (GStrv) names = g_new0 (char *, NV + 1);
  g_autofree FtTime *bt = g_new (FtTime, NV);
  g_autofree guint *bh = g_new (guint, NV);
  g_autofree double *by = g_new (double, NV);
  FtTime t12 = 12 * FT_HOUR;
  for (guint i = 0; i < NZ; i++)
    {
      names[i] = g_strdup_printf ("B%02u", i);
      big[i] = (FtStorePrediction) { v[0], "", 1, t12, t12, 0.5 * i, i % 3 ? 1.0 : NAN };
      g_strlcpy (big[i].target, names[i], sizeof big[i].target);
      bt[i] = t12;
      by[i] = i % 4;
    }
  ck_assert (ft_store_predictions_put (s, big, NZ, &err));
  ck_assert (ft_store_predictions_fill (s, (const char *const *) names, bt, by, NZ, &err));
  g_strfreev (g_steal_pointer (&names));
  names = g_new0 (char *, NV + 1);
  for (guint i = 0; i < NV; i++)
    {
      names[i] = g_strdup_printf ("FT-%04u", 100 + i);
      big[i] = (FtStorePrediction) { v[1], "", 24, t12, t12 + 24 * FT_HOUR, 0.001 * i, 0.05 };
      g_strlcpy (big[i].target, names[i], sizeof big[i].target);
      bt[i] = t12;
      bh[i] = 24;
      by[i] = i % 7 == 0;
    }
  ck_assert (ft_store_predictions_put (s, big, NV, &err));
  ck_assert (ft_store_predictions_fill_issued (s, (const char *const *) names, bt, bh, by, NV - 5, &err));
}

/* Every row of the predictions as a reader sees them, in order. */
static char *
dump (FtStore *s)
{
  GString *out = g_string_new (NULL);
  sqlite3_stmt *st = NULL;
  ck_assert_int_eq (sqlite3_prepare_v2 (ft_store_get_db (s),
                                        "SELECT id, version, target, horizon, issued_at, target_t, quote (predicted),"
                                        " quote (baseline), quote (actual) FROM predictions ORDER BY id", -1, &st, NULL),
                    SQLITE_OK);
  while (sqlite3_step (st) == SQLITE_ROW)
    {
      for (int c = 0; c < 9; c++)
        g_string_append_printf (out, "%s%s", c ? "|" : "", (const char *) sqlite3_column_text (st, c));
      g_string_append_c (out, '\n');
    }
  sqlite3_finalize (st);
  return g_string_free (out, FALSE);
}

/* What the readers answer: the rows, the counts, each version's scores. */
static char *
answers (FtStore *s, const gint64 *v)
{
  g_autoptr (GError) err = NULL;
  g_autofree char *rows = dump (s);
  GString *out = g_string_new (rows);
  g_string_append_printf (out, "count %" G_GUINT64_FORMAT " with actual %" G_GUINT64_FORMAT "\n",
                          ft_store_predictions_count (s, FALSE), ft_store_predictions_count (s, TRUE));
  for (guint i = 0; i < 2; i++)
    {
      FtStorePredictionScore sc;
      ck_assert_msg (ft_store_prediction_score (s, v[i], &sc, &err), "%s", err ? err->message : "");
      g_string_append_printf (out, "v%" G_GINT64_FORMAT ": n %" G_GUINT64_FORMAT " rmse %a mae %a base %a %a\n",
                              v[i], sc.n, sc.rmse, sc.mae, sc.base_rmse, sc.base_mae);
    }
  return g_string_free (out, FALSE);
}

/* Equal texts, or a failure naming the first line that differs. */
static void
same_text (const char *a, const char *b, const char *what)
{
  if (g_strcmp0 (a, b) == 0)
    return;
  g_auto (GStrv) la = g_strsplit (a, "\n", -1), lb = g_strsplit (b, "\n", -1);
  guint i = 0;
  while (la[i] && lb[i] && g_strcmp0 (la[i], lb[i]) == 0)
    i++;
  ck_abort_msg ("%s: line %u is '%s' against '%s'", what, i + 1, la[i] ? la[i] : "(end)", lb[i] ? lb[i] : "(end)");
}

START_TEST (test_migrate_v14_with_rows)
{
  g_autoptr (GError) err = NULL;
  g_autofree char *old_path = path_of ("old.db"), *kept_path = path_of ("kept.db"), *new_path = path_of ("new.db");
  gint64 v[2], vk[2], vn[2];

  /* a schema-14 file with predictions, actuals and open ones */
  FtStore *old = ft_store_open_at_version (old_path, NULL, 14, &err);
  ck_assert_msg (old != NULL, "%s", err ? err->message : "");
  v[0] = model (old, "forecast-glm");
  v[1] = model (old, "maint-weibull");
  workload (old, v, 0);
  g_autofree char *before = answers (old, v);
  ck_assert_ptr_nonnull (strstr (before, "count 62 with actual 36\n"));
  ft_store_close (old);

  /* opening it migrates to 15: every row and every answer as before */
  old = ft_store_open (old_path, NULL, &err);
  ck_assert_msg (old != NULL, "%s", err ? err->message : "");
  ck_assert_int_eq (ft_store_schema_version (old), 15);
  g_autofree char *after = answers (old, v);
  same_text (after, before, "migrated file against schema 14");
  ck_assert (ft_store_integrity_ok (old, &err));

  /* the same run carried on three ways gives the same answers: on the
   * migrated file, on a file kept at 14, on a file new at 15 */
  FtStore *kept = ft_store_open_at_version (kept_path, NULL, 14, &err);
  FtStore *fresh = ft_store_open (new_path, NULL, &err);
  ck_assert (kept && fresh);
  vk[0] = model (kept, "forecast-glm");
  vk[1] = model (kept, "maint-weibull");
  vn[0] = model (fresh, "forecast-glm");
  vn[1] = model (fresh, "maint-weibull");
  ck_assert (vk[0] == v[0] && vk[1] == v[1] && vn[0] == v[0] && vn[1] == v[1]);
  workload (kept, vk, 0);
  workload (fresh, vn, 0);
  workload (old, v, 1);
  workload (kept, vk, 1);
  workload (fresh, vn, 1);
  g_autofree char *a_old = answers (old, v), *a_kept = answers (kept, vk), *a_new = answers (fresh, vn);
  same_text (a_old, a_kept, "migrated file against a file kept at 14");
  same_text (a_new, a_kept, "new file against a file kept at 14");
  ck_assert_ptr_nonnull (strstr (a_kept, "count 314 with actual 273\n"));
  /* at 15 nothing of it is an UPDATE: the rows keep no actual of their own */
  {
    sqlite3_stmt *st = NULL;
    ck_assert_int_eq (sqlite3_prepare_v2 (ft_store_get_db (fresh),
                                          "SELECT count(*) FROM prediction_rows WHERE actual IS NOT NULL", -1, &st, NULL),
                      SQLITE_OK);
    ck_assert_int_eq (sqlite3_step (st), SQLITE_ROW);
    ck_assert_int_eq (sqlite3_column_int (st, 0), 0);
    sqlite3_finalize (st);
  }
  ft_store_close (old);
  ft_store_close (kept);
  ft_store_close (fresh);
}
END_TEST

START_TEST (test_first_actual_wins)
{
  g_autoptr (GError) err = NULL;
  g_autofree char *path = path_of ("a.db");
  g_autoptr (FtStore) s = ft_store_open (path, NULL, &err);
  gint64 v = model (s, "forecast-glm");
  FtStorePrediction p[2] = { { v, "Z01", 1, 0, 0, 1.0, 1.0 }, { v, "Z01", 0, 0, 0, 1.0, 1.0 } };
  ck_assert (ft_store_predictions_put (s, p, 2, &err));
  const char *t[] = { "Z01" };
  const FtTime tt[] = { 0 };
  const guint h[] = { 0 };
  const double y1[] = { 4 }, y2[] = { 9 };
  ck_assert (ft_store_predictions_fill (s, t, tt, y1, 1, &err));
  ck_assert (ft_store_predictions_fill (s, t, tt, y2, 1, &err));      /* ignored, as an UPDATE of open rows */
  ck_assert (ft_store_predictions_fill_issued (s, t, tt, h, y2, 1, &err));
  ck_assert (ft_store_predictions_fill_issued (s, t, tt, h, y1, 1, &err));
  g_autofree char *rows = dump (s);
  ck_assert_str_eq (rows, "1|1|Z01|1|0|0|1.0|1.0|4.0\n2|1|Z01|0|0|0|1.0|1.0|9.0\n");
}
END_TEST

START_TEST (test_inside_a_transaction)
{
  g_autoptr (GError) err = NULL;
  g_autofree char *path = path_of ("t.db");
  g_autoptr (FtStore) s = ft_store_open (path, NULL, &err);
  sqlite3 *db = ft_store_get_db (s);
  gint64 v = model (s, "forecast-glm");
  FtStorePrediction ok1 = { v, "Z01", 1, 0, 0, 1.0, 1.0 };
  const char *t[] = { "Z01" };
  const FtTime tt[] = { 0 };
  const double y[] = { 2 };

  /* inside a caller's transaction a batch writes in it; one that fails
   * mid-way (a trigger refuses Z04 after Z05 went in) takes back its own
   * rows and leaves the caller's transaction open with the rest */
  ck_assert_int_eq (sqlite3_exec (db, "CREATE TRIGGER no_z04 BEFORE INSERT ON prediction_rows"
                                  " WHEN new.target = 'Z04' BEGIN SELECT raise (ABORT, 'no Z04'); END", NULL, NULL,
                                  NULL), SQLITE_OK);
  ck_assert_int_eq (sqlite3_exec (db, "BEGIN IMMEDIATE", NULL, NULL, NULL), SQLITE_OK);
  ck_assert (ft_store_predictions_put (s, &ok1, 1, &err));
  FtStorePrediction z[2] = { { v, "Z05", 1, 0, 0, 1.0, 1.0 }, { v, "Z04", 1, 0, 0, 1.0, 1.0 } };
  ck_assert (!ft_store_predictions_put (s, z, 2, &err));
  ck_assert_ptr_nonnull (strstr (err->message, "no Z04"));
  g_clear_error (&err);
  ck_assert (!sqlite3_get_autocommit (db));
  ck_assert (ft_store_predictions_fill (s, t, tt, y, 1, &err));
  ck_assert_uint_eq (ft_store_predictions_count (s, FALSE), 1);
  ck_assert_int_eq (sqlite3_exec (db, "COMMIT", NULL, NULL, NULL), SQLITE_OK);
  g_autofree char *rows = dump (s);
  ck_assert_str_eq (rows, "1|1|Z01|1|0|0|1.0|1.0|2.0\n");
  /* on its own, the same failure writes nothing either */
  ck_assert (!ft_store_predictions_put (s, z, 2, &err));
  g_clear_error (&err);
  ck_assert (sqlite3_get_autocommit (db));
  ck_assert_uint_eq (ft_store_predictions_count (s, FALSE), 1);
  /* and the caller's rollback takes back what was written in it */
  ck_assert_int_eq (sqlite3_exec (db, "BEGIN IMMEDIATE", NULL, NULL, NULL), SQLITE_OK);
  ck_assert (ft_store_predictions_put (s, &z[0], 1, &err));
  ck_assert_int_eq (sqlite3_exec (db, "ROLLBACK", NULL, NULL, NULL), SQLITE_OK);
  ck_assert_uint_eq (ft_store_predictions_count (s, FALSE), 1);
}
END_TEST

static Suite *
models_suite (void)
{
  Suite *s = suite_create ("store-models");
  struct { const char *name; const TTest *fn; } cases[] = {
    { "migrate schema 14 with rows", test_migrate_v14_with_rows },
    { "first actual wins", test_first_actual_wins },
    { "inside a transaction", test_inside_a_transaction },
  };
  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      TCase *tc = tcase_create (cases[i].name);
      tcase_add_checked_fixture (tc, setup, teardown);
      tcase_set_timeout (tc, 60);
      tcase_add_test (tc, cases[i].fn);
      suite_add_tcase (s, tc);
    }
  return s;
}

int
main (void)
{
  SRunner *sr = srunner_create (models_suite ());
  srunner_run_all (sr, CK_NORMAL);
  int failed = srunner_ntests_failed (sr);
  srunner_free (sr);
  return failed ? 1 : 0;
}
