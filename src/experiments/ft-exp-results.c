/* ft-exp-results.c — the results database of an experiment: create, open,
 * add runs and values, merge cell files (same experiment hash only) and
 * read the values back by variant and metric. Prepared statements only.
 */
#include "ft-exp-results.h"
#include "ft-file.h"

#include <math.h>
#include <glib/gstdio.h>
#include <sqlite3.h>
#include <string.h>

G_DEFINE_QUARK (ft-exp-error-quark, ft_exp_error)

struct _FtExpResults {
  sqlite3    *db;
  char       *path;
  GHashTable *fields;      /* experiment row: column -> text */
  guint       replications;
  double      pre_days;
};

static const char schema[] =
  "PRAGMA application_id = 1179927896;"   /* 0x46544558 "FTEX" */
  "PRAGMA user_version = 2;"
  "CREATE TABLE experiment (name TEXT NOT NULL, hash TEXT NOT NULL, design TEXT NOT NULL,"
  "  control TEXT NOT NULL, metrics TEXT NOT NULL, replications INTEGER NOT NULL,"
  "  pre_days REAL NOT NULL, file_text TEXT NOT NULL);"
  "CREATE TABLE variants (idx INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE, overrides TEXT NOT NULL);"
  "CREATE TABLE runs (replication INTEGER NOT NULL, variant TEXT NOT NULL, seed INTEGER NOT NULL,"
  "  stream INTEGER NOT NULL, scenario TEXT NOT NULL, PRIMARY KEY (replication, variant));"
  "CREATE TABLE results (replication INTEGER NOT NULL, variant TEXT NOT NULL, metric TEXT NOT NULL,"
  "  value REAL NOT NULL, pre REAL, PRIMARY KEY (replication, variant, metric));"
  /* version 2: field designs (a version 1 file has no such rows) */
  "CREATE TABLE field (design TEXT NOT NULL, replication INTEGER NOT NULL, variant TEXT NOT NULL,"
  "  metric TEXT NOT NULL, estimate REAL, control REAL, treated REAL, control_units INTEGER NOT NULL,"
  "  treated_units INTEGER NOT NULL, PRIMARY KEY (design, replication, variant, metric));";

static gboolean
db_fail (FtExpResults *r, GError **error, const char *what)
{
  g_set_error (error, FT_EXP_ERROR, FT_EXP_ERROR_DB, "%s: %s: %s", r->path, what, sqlite3_errmsg (r->db));
  return FALSE;
}

static sqlite3_stmt *
prepare (FtExpResults *r, const char *sql, GError **error)
{
  sqlite3_stmt *st = NULL;
  if (sqlite3_prepare_v2 (r->db, sql, -1, &st, NULL) != SQLITE_OK)
    {
      db_fail (r, error, "prepare");
      return NULL;
    }
  return st;
}

static gboolean
load_identity (FtExpResults *r, GError **error)
{
  sqlite3_stmt *st = prepare (r, "SELECT name, hash, design, control, metrics, replications, pre_days,"
                                 " file_text FROM experiment", error);
  if (st == NULL)
    return FALSE;
  if (sqlite3_step (st) != SQLITE_ROW)
    {
      sqlite3_finalize (st);
      g_set_error (error, FT_EXP_ERROR, FT_EXP_ERROR_DB, "%s: no experiment row", r->path);
      return FALSE;
    }
  static const char *cols[] = { "name", "hash", "design", "control", "metrics" };
  for (guint i = 0; i < G_N_ELEMENTS (cols); i++)
    g_hash_table_insert (r->fields, g_strdup (cols[i]),
                         g_strdup ((const char *) sqlite3_column_text (st, (int) i)));
  r->replications = (guint) sqlite3_column_int64 (st, 5);
  r->pre_days = sqlite3_column_double (st, 6);
  g_hash_table_insert (r->fields, g_strdup ("file_text"), g_strdup ((const char *) sqlite3_column_text (st, 7)));
  sqlite3_finalize (st);
  return TRUE;
}

static FtExpResults *
results_new (const char *path)
{
  FtExpResults *r = g_new0 (FtExpResults, 1);
  r->path = g_strdup (path);
  r->fields = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  return r;
}

void
ft_exp_results_close (FtExpResults *r)
{
  if (r == NULL)
    return;
  sqlite3_close (r->db);
  g_hash_table_unref (r->fields);
  g_free (r->path);
  g_free (r);
}

FtExpResults *
ft_exp_results_create (const char *path, const FtExpIdentity *id, GError **error)
{
  g_return_val_if_fail (path != NULL && id != NULL, NULL);
  g_autoptr (FtExpResults) r = results_new (path);
  (void) g_remove (path);
  if (sqlite3_open_v2 (path, &r->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, NULL) != SQLITE_OK)
    {
      db_fail (r, error, "cannot create");
      return NULL;
    }
  sqlite3_busy_timeout (r->db, 5000);
  if (sqlite3_exec (r->db, "BEGIN", NULL, NULL, NULL) != SQLITE_OK
      || sqlite3_exec (r->db, schema, NULL, NULL, NULL) != SQLITE_OK)
    {
      db_fail (r, error, "schema");
      return NULL;
    }
  sqlite3_stmt *st = prepare (r, "INSERT INTO experiment VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)", error);
  if (st == NULL)
    return NULL;
  sqlite3_bind_text (st, 1, id->name ? id->name : "", -1, SQLITE_TRANSIENT);
  sqlite3_bind_text (st, 2, id->hash ? id->hash : "", -1, SQLITE_TRANSIENT);
  sqlite3_bind_text (st, 3, id->design ? id->design : "crn", -1, SQLITE_TRANSIENT);
  sqlite3_bind_text (st, 4, id->control ? id->control : "", -1, SQLITE_TRANSIENT);
  sqlite3_bind_text (st, 5, id->metrics ? id->metrics : "", -1, SQLITE_TRANSIENT);
  sqlite3_bind_int64 (st, 6, id->replications);
  sqlite3_bind_double (st, 7, id->pre_days);
  sqlite3_bind_text (st, 8, id->file_text ? id->file_text : "", -1, SQLITE_TRANSIENT);
  int rc = sqlite3_step (st);
  sqlite3_finalize (st);
  if (rc != SQLITE_DONE)
    {
      db_fail (r, error, "experiment row");
      return NULL;
    }
  st = prepare (r, "INSERT INTO variants VALUES (?1, ?2, ?3)", error);
  if (st == NULL)
    return NULL;
  for (guint v = 0; v < id->n_variants; v++)
    {
      sqlite3_reset (st);
      sqlite3_bind_int64 (st, 1, v);
      sqlite3_bind_text (st, 2, id->variant_names[v], -1, SQLITE_TRANSIENT);
      sqlite3_bind_text (st, 3, id->variant_overrides && id->variant_overrides[v] ? id->variant_overrides[v] : "",
                         -1, SQLITE_TRANSIENT);
      if (sqlite3_step (st) != SQLITE_DONE)
        {
          sqlite3_finalize (st);
          db_fail (r, error, "variant row");
          return NULL;
        }
    }
  sqlite3_finalize (st);
  if (sqlite3_exec (r->db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK)
    {
      db_fail (r, error, "commit");
      return NULL;
    }
  if (!load_identity (r, error))
    return NULL;
  return g_steal_pointer (&r);
}

gboolean
ft_exp_results_is_own (const char *path)
{
  guint32 id = 0;
  return ft_output_sqlite_app_id (path, &id) && id == FT_EXP_RESULTS_APP_ID;
}

FtExpResults *
ft_exp_results_open (const char *path, GError **error)
{
  g_return_val_if_fail (path != NULL, NULL);
  g_autoptr (FtExpResults) r = results_new (path);
  if (!g_file_test (path, G_FILE_TEST_IS_REGULAR))
    {
      g_set_error (error, FT_EXP_ERROR, FT_EXP_ERROR_DB, "%s: no such results file", path);
      return NULL;
    }
  if (sqlite3_open_v2 (path, &r->db, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK)
    {
      db_fail (r, error, "cannot open");
      return NULL;
    }
  sqlite3_busy_timeout (r->db, 5000);
  sqlite3_stmt *st = prepare (r, "PRAGMA application_id", error);
  if (st == NULL)
    {
      g_clear_error (error);
      g_set_error (error, FT_EXP_ERROR, FT_EXP_ERROR_DB, "%s: not an experiment results database", path);
      return NULL;
    }
  gint64 app = sqlite3_step (st) == SQLITE_ROW ? sqlite3_column_int64 (st, 0) : -1;
  sqlite3_finalize (st);
  if ((guint32) app != FT_EXP_RESULTS_APP_ID)
    {
      g_set_error (error, FT_EXP_ERROR, FT_EXP_ERROR_DB,
                   "%s: not an experiment results database (application_id 0x%08x)", path, (guint32) app);
      return NULL;
    }
  if (!load_identity (r, error))
    return NULL;
  return g_steal_pointer (&r);
}

const char *
ft_exp_results_get (FtExpResults *r, const char *field)
{
  g_return_val_if_fail (r != NULL && field != NULL, NULL);
  return g_hash_table_lookup (r->fields, field);
}

guint
ft_exp_results_replications (FtExpResults *r)
{
  return r->replications;
}

double
ft_exp_results_pre_days (FtExpResults *r)
{
  return r->pre_days;
}

static char **
column_strv (FtExpResults *r, const char *sql)
{
  GPtrArray *a = g_ptr_array_new ();
  sqlite3_stmt *st = prepare (r, sql, NULL);
  while (st && sqlite3_step (st) == SQLITE_ROW)
    g_ptr_array_add (a, g_strdup ((const char *) sqlite3_column_text (st, 0)));
  sqlite3_finalize (st);
  g_ptr_array_add (a, NULL);
  return (char **) g_ptr_array_free (a, FALSE);
}

char **
ft_exp_results_variants (FtExpResults *r)
{
  return column_strv (r, "SELECT name FROM variants ORDER BY idx");
}

char **
ft_exp_results_metrics (FtExpResults *r)
{
  g_auto (GStrv) parts = g_strsplit (ft_exp_results_get (r, "metrics"), ",", -1);
  GPtrArray *a = g_ptr_array_new ();
  for (guint i = 0; parts[i]; i++)
    {
      char *m = g_strstrip (g_strdup (parts[i]));
      if (*m)
        g_ptr_array_add (a, m);
      else
        g_free (m);
    }
  g_ptr_array_add (a, NULL);
  return (char **) g_ptr_array_free (a, FALSE);
}

char *
ft_exp_results_overrides (FtExpResults *r, const char *variant)
{
  sqlite3_stmt *st = prepare (r, "SELECT overrides FROM variants WHERE name = ?1", NULL);
  char *out = NULL;
  if (st)
    {
      sqlite3_bind_text (st, 1, variant, -1, SQLITE_TRANSIENT);
      if (sqlite3_step (st) == SQLITE_ROW)
        out = g_strdup ((const char *) sqlite3_column_text (st, 0));
    }
  sqlite3_finalize (st);
  return out;
}

gboolean
ft_exp_results_begin (FtExpResults *r, GError **error)
{
  return sqlite3_exec (r->db, "BEGIN", NULL, NULL, NULL) == SQLITE_OK || db_fail (r, error, "begin");
}

gboolean
ft_exp_results_commit (FtExpResults *r, GError **error)
{
  return sqlite3_exec (r->db, "COMMIT", NULL, NULL, NULL) == SQLITE_OK || db_fail (r, error, "commit");
}

gboolean
ft_exp_results_add_run (FtExpResults *r, guint replication, const char *variant, guint64 seed,
                        guint stream, const char *scenario_text, GError **error)
{
  sqlite3_stmt *st = prepare (r, "INSERT INTO runs VALUES (?1, ?2, ?3, ?4, ?5)", error);
  if (st == NULL)
    return FALSE;
  sqlite3_bind_int64 (st, 1, replication);
  sqlite3_bind_text (st, 2, variant, -1, SQLITE_TRANSIENT);
  sqlite3_bind_int64 (st, 3, (sqlite3_int64) seed);
  sqlite3_bind_int64 (st, 4, stream);
  sqlite3_bind_text (st, 5, scenario_text ? scenario_text : "", -1, SQLITE_TRANSIENT);
  int rc = sqlite3_step (st);
  sqlite3_finalize (st);
  if (rc == SQLITE_CONSTRAINT)
    {
      g_set_error (error, FT_EXP_ERROR, FT_EXP_ERROR_INCOMPLETE,
                   "%s already holds replication %u of variant %s", r->path, replication, variant);
      return FALSE;
    }
  return rc == SQLITE_DONE || db_fail (r, error, "run row");
}

gboolean
ft_exp_results_add_value (FtExpResults *r, guint replication, const char *variant, const char *metric,
                          double value, double pre, GError **error)
{
  sqlite3_stmt *st = prepare (r, "INSERT INTO results VALUES (?1, ?2, ?3, ?4, ?5)", error);
  if (st == NULL)
    return FALSE;
  sqlite3_bind_int64 (st, 1, replication);
  sqlite3_bind_text (st, 2, variant, -1, SQLITE_TRANSIENT);
  sqlite3_bind_text (st, 3, metric, -1, SQLITE_TRANSIENT);
  sqlite3_bind_double (st, 4, value);
  if (isfinite (pre))
    sqlite3_bind_double (st, 5, pre);
  else
    sqlite3_bind_null (st, 5);
  int rc = sqlite3_step (st);
  sqlite3_finalize (st);
  return rc == SQLITE_DONE || db_fail (r, error, "result row");
}

static void
bind_real_or_null (sqlite3_stmt *st, int i, double v)
{
  if (isfinite (v))
    sqlite3_bind_double (st, i, v);
  else
    sqlite3_bind_null (st, i);
}

static double
column_real_or_nan (sqlite3_stmt *st, int i)
{
  return sqlite3_column_type (st, i) == SQLITE_NULL ? NAN : sqlite3_column_double (st, i);
}

gboolean
ft_exp_results_add_field (FtExpResults *r, const FtExpFieldRow *row, GError **error)
{
  g_return_val_if_fail (r != NULL && row != NULL && row->design && row->variant && row->metric, FALSE);
  sqlite3_stmt *st = prepare (r, "INSERT INTO field VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)", error);
  if (st == NULL)
    return FALSE;
  sqlite3_bind_text (st, 1, row->design, -1, SQLITE_TRANSIENT);
  sqlite3_bind_int64 (st, 2, row->replication);
  sqlite3_bind_text (st, 3, row->variant, -1, SQLITE_TRANSIENT);
  sqlite3_bind_text (st, 4, row->metric, -1, SQLITE_TRANSIENT);
  bind_real_or_null (st, 5, row->estimate);
  bind_real_or_null (st, 6, row->control);
  bind_real_or_null (st, 7, row->treated);
  sqlite3_bind_int64 (st, 8, row->control_units);
  sqlite3_bind_int64 (st, 9, row->treated_units);
  int rc = sqlite3_step (st);
  sqlite3_finalize (st);
  if (rc == SQLITE_CONSTRAINT)
    {
      g_set_error (error, FT_EXP_ERROR, FT_EXP_ERROR_INCOMPLETE,
                   "%s already holds the %s design's replication %u of variant %s, metric %s", r->path,
                   row->design, row->replication, row->variant, row->metric);
      return FALSE;
    }
  return rc == SQLITE_DONE || db_fail (r, error, "field row");
}

/* The field table's rows (a version 1 file has none). */
static sqlite3_stmt *
prepare_field (FtExpResults *r, const char *sql)
{
  sqlite3_stmt *st = NULL;
  if (sqlite3_prepare_v2 (r->db, sql, -1, &st, NULL) != SQLITE_OK)
    return NULL;
  return st;
}

gboolean
ft_exp_results_field_values (FtExpResults *r, const char *design, const char *variant, const char *metric,
                             double **estimates, guint *n)
{
  g_return_val_if_fail (r != NULL && estimates != NULL && n != NULL, FALSE);
  guint nr = r->replications, found = 0;
  double *v = g_new (double, MAX (nr, 1));
  for (guint i = 0; i < nr; i++)
    v[i] = NAN;
  sqlite3_stmt *st = prepare_field (r, "SELECT replication, estimate FROM field WHERE design = ?1 AND variant = ?2"
                                       " AND metric = ?3");
  if (st)
    {
      sqlite3_bind_text (st, 1, design, -1, SQLITE_TRANSIENT);
      sqlite3_bind_text (st, 2, variant, -1, SQLITE_TRANSIENT);
      sqlite3_bind_text (st, 3, metric, -1, SQLITE_TRANSIENT);
      while (sqlite3_step (st) == SQLITE_ROW)
        {
          gint64 rep = sqlite3_column_int64 (st, 0);
          if (rep < 0 || rep >= nr)
            continue;
          v[rep] = column_real_or_nan (st, 1);
          found++;
        }
      sqlite3_finalize (st);
    }
  *estimates = v;
  *n = nr;
  return found > 0;
}

char **
ft_exp_results_field_designs (FtExpResults *r)
{
  g_auto (GStrv) parts = g_strsplit (ft_exp_results_get (r, "design"), ",", -1);
  GPtrArray *a = g_ptr_array_new ();
  sqlite3_stmt *st = prepare_field (r, "SELECT 1 FROM field WHERE design = ?1 LIMIT 1");
  for (guint i = 0; st && parts[i]; i++)
    {
      sqlite3_reset (st);
      sqlite3_bind_text (st, 1, g_strstrip (parts[i]), -1, SQLITE_TRANSIENT);
      if (sqlite3_step (st) == SQLITE_ROW)
        g_ptr_array_add (a, g_strdup (parts[i]));
    }
  sqlite3_finalize (st);
  g_ptr_array_add (a, NULL);
  return (char **) g_ptr_array_free (a, FALSE);
}

gboolean
ft_exp_results_merge (FtExpResults *r, const char *path, GError **error)
{
  g_return_val_if_fail (r != NULL && path != NULL, FALSE);
  g_autoptr (FtExpResults) in = ft_exp_results_open (path, error);
  if (in == NULL)
    return FALSE;
  const char *h = ft_exp_results_get (in, "hash"), *mine = ft_exp_results_get (r, "hash");
  if (g_strcmp0 (h, mine) != 0)
    {
      g_set_error (error, FT_EXP_ERROR, FT_EXP_ERROR_MISMATCH,
                   "%s is from another experiment (\"%s\", hash %.12s…; this one is \"%s\", hash %.12s…): "
                   "not merged", path, ft_exp_results_get (in, "name"), h, ft_exp_results_get (r, "name"), mine);
      return FALSE;
    }
  if (!ft_exp_results_begin (r, error))
    return FALSE;
  gboolean ok = TRUE;
  sqlite3_stmt *st = prepare (in, "SELECT replication, variant, seed, stream, scenario FROM runs"
                                  " ORDER BY replication, variant", error);
  ok = st != NULL;
  while (ok && sqlite3_step (st) == SQLITE_ROW)
    ok = ft_exp_results_add_run (r, (guint) sqlite3_column_int64 (st, 0), (const char *) sqlite3_column_text (st, 1),
                                 (guint64) sqlite3_column_int64 (st, 2), (guint) sqlite3_column_int64 (st, 3),
                                 (const char *) sqlite3_column_text (st, 4), error);
  sqlite3_finalize (st);
  st = ok ? prepare (in, "SELECT replication, variant, metric, value, pre FROM results"
                         " ORDER BY replication, variant, metric", error) : NULL;
  ok = ok && st != NULL;
  while (ok && sqlite3_step (st) == SQLITE_ROW)
    ok = ft_exp_results_add_value (r, (guint) sqlite3_column_int64 (st, 0), (const char *) sqlite3_column_text (st, 1),
                                   (const char *) sqlite3_column_text (st, 2), sqlite3_column_double (st, 3),
                                   sqlite3_column_type (st, 4) == SQLITE_NULL ? NAN : sqlite3_column_double (st, 4),
                                   error);
  sqlite3_finalize (st);
  st = ok ? prepare_field (in, "SELECT design, replication, variant, metric, estimate, control, treated,"
                               " control_units, treated_units FROM field ORDER BY design, replication, variant,"
                               " metric") : NULL;
  while (ok && st && sqlite3_step (st) == SQLITE_ROW)
    {
      FtExpFieldRow row = {
        .design = (const char *) sqlite3_column_text (st, 0), .replication = (guint) sqlite3_column_int64 (st, 1),
        .variant = (const char *) sqlite3_column_text (st, 2), .metric = (const char *) sqlite3_column_text (st, 3),
        .estimate = column_real_or_nan (st, 4), .control = column_real_or_nan (st, 5),
        .treated = column_real_or_nan (st, 6), .control_units = (guint) sqlite3_column_int64 (st, 7),
        .treated_units = (guint) sqlite3_column_int64 (st, 8),
      };
      ok = ft_exp_results_add_field (r, &row, error);
    }
  sqlite3_finalize (st);
  if (!ok)
    {
      sqlite3_exec (r->db, "ROLLBACK", NULL, NULL, NULL);
      g_prefix_error (error, "merging %s: ", path);
      return FALSE;
    }
  return ft_exp_results_commit (r, error);
}

gboolean
ft_exp_results_values (FtExpResults *r, const char *variant, const char *metric, double **values,
                       double **pre, guint *n, GError **error)
{
  guint nr = r->replications;
  double *v = g_new (double, MAX (nr, 1)), *p = g_new (double, MAX (nr, 1));
  for (guint i = 0; i < nr; i++)
    v[i] = p[i] = NAN;
  sqlite3_stmt *st = prepare (r, "SELECT replication, value, pre FROM results WHERE variant = ?1 AND metric = ?2", error);
  if (st == NULL)
    {
      g_free (v);
      g_free (p);
      return FALSE;
    }
  sqlite3_bind_text (st, 1, variant, -1, SQLITE_TRANSIENT);
  sqlite3_bind_text (st, 2, metric, -1, SQLITE_TRANSIENT);
  while (sqlite3_step (st) == SQLITE_ROW)
    {
      gint64 rep = sqlite3_column_int64 (st, 0);
      if (rep < 0 || rep >= nr)
        continue;
      v[rep] = sqlite3_column_double (st, 1);
      p[rep] = sqlite3_column_type (st, 2) == SQLITE_NULL ? NAN : sqlite3_column_double (st, 2);
    }
  sqlite3_finalize (st);
  *values = v;
  if (pre)
    *pre = p;
  else
    g_free (p);
  *n = nr;
  return TRUE;
}

guint
ft_exp_results_n_runs (FtExpResults *r)
{
  sqlite3_stmt *st = prepare (r, "SELECT count(*) FROM runs", NULL);
  guint n = st && sqlite3_step (st) == SQLITE_ROW ? (guint) sqlite3_column_int64 (st, 0) : 0;
  sqlite3_finalize (st);
  return n;
}

char *
ft_exp_results_dump (FtExpResults *r)
{
  GString *s = g_string_new (NULL);
  sqlite3_stmt *st = prepare (r, "SELECT replication, variant, seed, stream, scenario FROM runs"
                                 " ORDER BY replication, variant", NULL);
  while (st && sqlite3_step (st) == SQLITE_ROW)
    g_string_append_printf (s, "run %lld %s %lld %lld %s\n", (long long) sqlite3_column_int64 (st, 0),
                            sqlite3_column_text (st, 1), (long long) sqlite3_column_int64 (st, 2),
                            (long long) sqlite3_column_int64 (st, 3), sqlite3_column_text (st, 4));
  sqlite3_finalize (st);
  st = prepare (r, "SELECT replication, variant, metric, value, pre FROM results"
                   " ORDER BY replication, variant, metric", NULL);
  while (st && sqlite3_step (st) == SQLITE_ROW)
    g_string_append_printf (s, "value %lld %s %s %.17g %.17g\n", (long long) sqlite3_column_int64 (st, 0),
                            sqlite3_column_text (st, 1), sqlite3_column_text (st, 2),
                            sqlite3_column_double (st, 3),
                            sqlite3_column_type (st, 4) == SQLITE_NULL ? NAN : sqlite3_column_double (st, 4));
  sqlite3_finalize (st);
  st = prepare_field (r, "SELECT design, replication, variant, metric, estimate, control, treated, control_units,"
                         " treated_units FROM field ORDER BY design, replication, variant, metric");
  while (st && sqlite3_step (st) == SQLITE_ROW)
    g_string_append_printf (s, "field %s %lld %s %s %.17g %.17g %.17g %lld %lld\n", sqlite3_column_text (st, 0),
                            (long long) sqlite3_column_int64 (st, 1), sqlite3_column_text (st, 2),
                            sqlite3_column_text (st, 3), column_real_or_nan (st, 4), column_real_or_nan (st, 5),
                            column_real_or_nan (st, 6), (long long) sqlite3_column_int64 (st, 7),
                            (long long) sqlite3_column_int64 (st, 8));
  sqlite3_finalize (st);
  return g_string_free (s, FALSE);
}
