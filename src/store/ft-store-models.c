/* ft-store-models.c — the registry's rows (model versions with their blob
 * and SHA-256, checked on every read), shadow predictions and their
 * actuals, running scores summed in SQL, and retraining decisions.
 * Multi-row writes go in one transaction: all or nothing.
 */
#include "ft-store-private.h"
#include "ft-store-models.h"

#include <math.h>

static gboolean
need_version (FtStore *s, GError **error)
{
  if (s->version >= FT_STORE_MODELS_VERSION)
    return TRUE;
  g_set_error (error, FT_STORE_ERROR, FT_STORE_ERROR_SCHEMA,
               "%s is at schema version %d, which has no model registry; open it with "
               "ft_store_open to migrate it", s->path, s->version);
  return FALSE;
}

static sqlite3_stmt *
prepare (FtStore *s, const char *sql, GError **error)
{
  sqlite3_stmt *st = NULL;
  if (sqlite3_prepare_v2 (s->db, sql, -1, &st, NULL) != SQLITE_OK)
    {
      ft_store_sql_fail (s, error, "preparing a registry statement");
      return NULL;
    }
  return st;
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC (sqlite3_stmt, sqlite3_finalize)

#define BATCH_SAVEPOINT "ft_models_batch"

/* A batch of rows is all or nothing: its own transaction, or a savepoint
 * inside the caller's when one is open (a function ft_store_commit_with
 * runs, a caller's own BEGIN), which its failure leaves open. */
static gboolean
batch_begin (FtStore *s, gboolean *own, GError **error, const char *what)
{
  *own = sqlite3_get_autocommit (s->db) != 0;
  return *own ? ft_store_run_simple (s, ST_BEGIN, error, what)
              : ft_store_exec_const (s, "SAVEPOINT " BATCH_SAVEPOINT, error, what);
}

static gboolean
batch_end (FtStore *s, gboolean own, gboolean ok, GError **error, const char *what)
{
  if (ok)
    return own ? ft_store_run_simple (s, ST_COMMIT, error, what)
               : ft_store_exec_const (s, "RELEASE " BATCH_SAVEPOINT, error, what);
  ft_store_exec_const (s, own ? "ROLLBACK" : "ROLLBACK TO " BATCH_SAVEPOINT "; RELEASE " BATCH_SAVEPOINT, NULL,
                       "rolling back");
  return FALSE;
}

void
ft_store_model_free (FtStoreModel *m)
{
  if (m == NULL)
    return;
  g_free (m->kind);
  g_free (m->city);
  g_free (m->trained_city);
  g_free (m->status);
  g_free (m->features);
  g_free (m->params);
  g_free (m->metrics);
  g_clear_pointer (&m->blob, g_bytes_unref);
  g_free (m);
}

static gboolean
status_ok (const char *status)
{
  return g_strcmp0 (status, "candidate") == 0 || g_strcmp0 (status, "shadow") == 0
         || g_strcmp0 (status, "active") == 0 || g_strcmp0 (status, "retired") == 0;
}

gboolean
ft_store_model_put (FtStore *s, FtStoreModel *m, GError **error)
{
  g_return_val_if_fail (s != NULL && m != NULL, FALSE);
  if (!need_version (s, error))
    return FALSE;
  if (m->blob == NULL || g_bytes_get_size (m->blob) == 0 || m->kind == NULL || m->city == NULL)
    {
      g_set_error (error, FT_STORE_ERROR, FT_STORE_ERROR_SQL,
                   "a model version needs a kind, a city and a non-empty blob");
      return FALSE;
    }
  const char *status = m->status ? m->status : "candidate";
  if (!status_ok (status) || g_strcmp0 (status, "active") == 0)
    {
      g_set_error (error, FT_STORE_ERROR, FT_STORE_ERROR_SQL,
                   "a new model version starts as candidate or shadow, not '%s' "
                   "(promote it to make it active)", status);
      return FALSE;
    }
  g_autofree char *sha = g_compute_checksum_for_bytes (G_CHECKSUM_SHA256, m->blob);
  g_autoptr(sqlite3_stmt) st = prepare (s,
      "INSERT INTO model_versions (kind, city, trained_city, status, created, train_start,"
      " train_end, features, params, metrics, blob, sha256)"
      " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", error);
  if (!st)
    return FALSE;
  gsize len = 0;
  gconstpointer data = g_bytes_get_data (m->blob, &len);
  sqlite3_bind_text (st, 1, m->kind, -1, SQLITE_STATIC);
  sqlite3_bind_text (st, 2, m->city, -1, SQLITE_STATIC);
  sqlite3_bind_text (st, 3, m->trained_city ? m->trained_city : m->city, -1, SQLITE_STATIC);
  sqlite3_bind_text (st, 4, status, -1, SQLITE_STATIC);
  sqlite3_bind_int64 (st, 5, m->created);
  sqlite3_bind_int64 (st, 6, m->train_start);
  sqlite3_bind_int64 (st, 7, m->train_end);
  sqlite3_bind_text (st, 8, m->features ? m->features : "{}", -1, SQLITE_STATIC);
  sqlite3_bind_text (st, 9, m->params ? m->params : "{}", -1, SQLITE_STATIC);
  sqlite3_bind_text (st, 10, m->metrics ? m->metrics : "{}", -1, SQLITE_STATIC);
  sqlite3_bind_blob64 (st, 11, data, len, SQLITE_STATIC);
  sqlite3_bind_text (st, 12, sha, -1, SQLITE_STATIC);
  if (sqlite3_step (st) != SQLITE_DONE)
    return ft_store_sql_fail (s, error, "storing a model version");
  m->id = sqlite3_last_insert_rowid (s->db);
  g_strlcpy (m->sha256, sha, sizeof m->sha256);
  m->blob_size = (gint64) len;
  if (m->status == NULL)
    m->status = g_strdup (status);
  return TRUE;
}

#define MODEL_COLS "id, kind, city, trained_city, status, created, train_start, train_end," \
                   " features, params, metrics, sha256, length(blob)"

static FtStoreModel *
model_from_row (sqlite3_stmt *st)
{
  FtStoreModel *m = g_new0 (FtStoreModel, 1);
  m->id = sqlite3_column_int64 (st, 0);
  m->kind = g_strdup ((const char *) sqlite3_column_text (st, 1));
  m->city = g_strdup ((const char *) sqlite3_column_text (st, 2));
  m->trained_city = g_strdup ((const char *) sqlite3_column_text (st, 3));
  m->status = g_strdup ((const char *) sqlite3_column_text (st, 4));
  m->created = sqlite3_column_int64 (st, 5);
  m->train_start = sqlite3_column_int64 (st, 6);
  m->train_end = sqlite3_column_int64 (st, 7);
  m->features = g_strdup ((const char *) sqlite3_column_text (st, 8));
  m->params = g_strdup ((const char *) sqlite3_column_text (st, 9));
  m->metrics = g_strdup ((const char *) sqlite3_column_text (st, 10));
  g_strlcpy (m->sha256, (const char *) sqlite3_column_text (st, 11), sizeof m->sha256);
  m->blob_size = sqlite3_column_int64 (st, 12);
  return m;
}

static void
not_found (GError **error, gint64 id)
{
  g_set_error (error, FT_STORE_ERROR, FT_STORE_ERROR_NOT_FOUND,
               "there is no model version %" G_GINT64_FORMAT " (list them with "
               "`fleet-twin-cli models list DB`)", id);
}

FtStoreModel *
ft_store_model_get (FtStore *s, gint64 id, GError **error)
{
  g_return_val_if_fail (s != NULL, NULL);
  if (!need_version (s, error))
    return NULL;
  g_autoptr(sqlite3_stmt) st = prepare (s, "SELECT " MODEL_COLS ", blob FROM model_versions WHERE id = ?",
                                        error);
  if (!st)
    return NULL;
  sqlite3_bind_int64 (st, 1, id);
  int rc = sqlite3_step (st);
  if (rc == SQLITE_DONE)
    {
      not_found (error, id);
      return NULL;
    }
  if (rc != SQLITE_ROW)
    {
      ft_store_sql_fail (s, error, "reading a model version");
      return NULL;
    }
  g_autoptr(FtStoreModel) m = model_from_row (st);
  const void *data = sqlite3_column_blob (st, 13);
  gsize len = (gsize) sqlite3_column_bytes (st, 13);
  m->blob = g_bytes_new (data, len);
  g_autofree char *sha = g_compute_checksum_for_bytes (G_CHECKSUM_SHA256, m->blob);
  if (g_strcmp0 (sha, m->sha256) != 0)
    {
      g_set_error (error, FT_STORE_ERROR, FT_STORE_ERROR_CORRUPT,
                   "model version %" G_GINT64_FORMAT " (%s, %s): its blob of %" G_GSIZE_FORMAT
                   " bytes fails its SHA-256 check (stored %.12s…, computed %.12s…); "
                   "the model is refused, retrain it", id, m->kind, m->city, len, m->sha256, sha);
      return NULL;
    }
  return g_steal_pointer (&m);
}

GPtrArray *
ft_store_model_list (FtStore *s, const char *kind, const char *city, GError **error)
{
  g_return_val_if_fail (s != NULL, NULL);
  if (!need_version (s, error))
    return NULL;
  g_autoptr(sqlite3_stmt) st = prepare (s,
      "SELECT " MODEL_COLS " FROM model_versions WHERE (?1 IS NULL OR kind = ?1)"
      " AND (?2 IS NULL OR city = ?2) ORDER BY id", error);
  if (!st)
    return NULL;
  if (kind)
    sqlite3_bind_text (st, 1, kind, -1, SQLITE_STATIC);
  if (city)
    sqlite3_bind_text (st, 2, city, -1, SQLITE_STATIC);
  GPtrArray *out = g_ptr_array_new_with_free_func ((GDestroyNotify) ft_store_model_free);
  int rc;
  while ((rc = sqlite3_step (st)) == SQLITE_ROW)
    g_ptr_array_add (out, model_from_row (st));
  if (rc != SQLITE_DONE)
    {
      g_ptr_array_unref (out);
      ft_store_sql_fail (s, error, "listing model versions");
      return NULL;
    }
  return out;
}

gint64
ft_store_model_champion (FtStore *s, const char *kind, const char *city, GError **error)
{
  g_return_val_if_fail (s != NULL && kind != NULL && city != NULL, 0);
  if (!need_version (s, error))
    return 0;
  g_autoptr(sqlite3_stmt) st = prepare (s,
      "SELECT id FROM model_versions WHERE kind = ? AND city = ? AND status = 'active'", error);
  if (!st)
    return 0;
  sqlite3_bind_text (st, 1, kind, -1, SQLITE_STATIC);
  sqlite3_bind_text (st, 2, city, -1, SQLITE_STATIC);
  return sqlite3_step (st) == SQLITE_ROW ? sqlite3_column_int64 (st, 0) : 0;
}

static gboolean
exec_id (FtStore *s, const char *sql, gint64 id, const char *text, GError **error, const char *what)
{
  g_autoptr(sqlite3_stmt) st = prepare (s, sql, error);
  if (!st)
    return FALSE;
  sqlite3_bind_int64 (st, 1, id);
  if (text)
    sqlite3_bind_text (st, 2, text, -1, SQLITE_STATIC);
  if (sqlite3_step (st) != SQLITE_DONE)
    return ft_store_sql_fail (s, error, what);
  return TRUE;
}

gboolean
ft_store_model_set_status (FtStore *s, gint64 id, const char *status, GError **error)
{
  g_return_val_if_fail (s != NULL && status != NULL, FALSE);
  if (!need_version (s, error))
    return FALSE;
  if (!status_ok (status))
    {
      g_set_error (error, FT_STORE_ERROR, FT_STORE_ERROR_SQL,
                   "'%s' is not a model status (candidate, shadow, active, retired)", status);
      return FALSE;
    }
  gint64 found = 0;
  g_autofree char *q = g_strdup_printf ("SELECT count(*) FROM model_versions WHERE id = %" G_GINT64_FORMAT, id);
  if (!ft_store_query_int64 (s, q, &found, error))
    return FALSE;
  if (found == 0)
    {
      not_found (error, id);
      return FALSE;
    }
  gboolean own;
  if (!batch_begin (s, &own, error, "starting a registry change"))
    return FALSE;
  gboolean ok = TRUE;
  if (g_strcmp0 (status, "active") == 0)
    ok = exec_id (s, "UPDATE model_versions SET status = 'retired' WHERE status = 'active'"
                     " AND id != ?1 AND (kind, city) = (SELECT kind, city FROM model_versions"
                     " WHERE id = ?1)", id, NULL, error, "retiring the previous champion");
  ok = ok && exec_id (s, "UPDATE model_versions SET status = ?2 WHERE id = ?1", id, status, error,
                      "changing a model's status");
  return batch_end (s, own, ok, error, "committing a registry change");
}

gboolean
ft_store_model_set_metrics (FtStore *s, gint64 id, const char *metrics_json, GError **error)
{
  g_return_val_if_fail (s != NULL && metrics_json != NULL, FALSE);
  if (!need_version (s, error)
      || !exec_id (s, "UPDATE model_versions SET metrics = ?2 WHERE id = ?1", id, metrics_json, error,
                   "storing a model's metrics"))
    return FALSE;
  if (sqlite3_changes (s->db) == 0)
    {
      not_found (error, id);
      return FALSE;
    }
  return TRUE;
}

/* ------------------------------------------------------------ predictions */

/* From schema 15 on (ACTUALS_VERSION) predictions are appended to
 * prediction_rows and their actuals to tables of their own, through cached
 * statements; `predictions` is a view joining them. Older files (opened
 * with ft_store_open_at_version) take the UPDATEs they were written with. */

/* What a batch binds: one of the three kinds of rows. */
typedef struct {
  const FtStorePrediction *p;
  const char *const *targets;
  const FtTime *t;              /* target_t or issued_at */
  const guint *horizon;
  const double *actual;
} Rows;

typedef void (*BindRow) (sqlite3_stmt *st, int b, const Rows *r, guint i);

static void
bind_prediction (sqlite3_stmt *st, int b, const Rows *r, guint i)
{
  const FtStorePrediction *p = &r->p[i];
  sqlite3_bind_int64 (st, b + 1, p->version);
  sqlite3_bind_text (st, b + 2, p->target, -1, SQLITE_STATIC);
  sqlite3_bind_int (st, b + 3, (int) p->horizon);
  sqlite3_bind_int64 (st, b + 4, p->issued_at);
  sqlite3_bind_int64 (st, b + 5, p->target_t);
  sqlite3_bind_double (st, b + 6, p->predicted);
  if (isfinite (p->baseline))
    sqlite3_bind_double (st, b + 7, p->baseline);
  else
    sqlite3_bind_null (st, b + 7);
}

static void
bind_actual (sqlite3_stmt *st, int b, const Rows *r, guint i)
{
  sqlite3_bind_int64 (st, b + 1, r->t[i]);
  sqlite3_bind_text (st, b + 2, r->targets[i], -1, SQLITE_STATIC);
  sqlite3_bind_double (st, b + 3, r->actual[i]);
}

static void
bind_outcome (sqlite3_stmt *st, int b, const Rows *r, guint i)
{
  sqlite3_bind_int64 (st, b + 1, r->t[i]);
  sqlite3_bind_int64 (st, b + 2, r->horizon[i]);
  sqlite3_bind_text (st, b + 3, r->targets[i], -1, SQLITE_STATIC);
  sqlite3_bind_double (st, b + 4, r->actual[i]);
}

/* Writes n rows in one batch: from schema 15 on through the cached INSERT
 * `id`, most rows per statement first; before it through legacy_sql (its
 * parameters numbered as `bind` binds one row), a statement per row. */
static gboolean
write_rows (FtStore *s, StmtId id, const char *legacy_sql, int n_cols, guint n, BindRow bind, const Rows *r,
            GError **error, const char *what)
{
  gboolean own, ok = TRUE;
  guint i = 0;
  if (s->version < ACTUALS_VERSION)
    {
      g_autoptr(sqlite3_stmt) st = prepare (s, legacy_sql, error);
      if (!st || !batch_begin (s, &own, error, what))
        return FALSE;
      for (; ok && i < n; i++)
        {
          bind (st, 0, r, i);
          ok = ft_store_step_done (s, st, error, what);
        }
      return batch_end (s, own, ok, error, what);
    }
  if (!batch_begin (s, &own, error, what))
    return FALSE;
  for (int k = 0; ok && k < N_TIERS; k++)
    {
      guint rows = (guint) ft_store_tier_rows (k);
      if (n - i < rows)
        continue;
      sqlite3_stmt *st = ft_store_get_stmt_many (s, k, id, error);
      ok = st != NULL;
      for (; ok && i + rows <= n; i += rows)
        {
          for (guint j = 0; j < rows; j++)
            bind (st, (int) j * n_cols, r, i + j);
          ok = ft_store_step_done (s, st, error, what);
        }
    }
  sqlite3_stmt *st = ok && i < n ? ft_store_get_stmt (s, id, error) : NULL;
  ok = ok && (i == n || st != NULL);
  for (; ok && i < n; i++)
    {
      bind (st, 0, r, i);
      ok = ft_store_step_done (s, st, error, what);
    }
  return batch_end (s, own, ok, error, what);
}

gboolean
ft_store_predictions_put (FtStore *s, const FtStorePrediction *p, guint n, GError **error)
{
  g_return_val_if_fail (s != NULL && (n == 0 || p != NULL), FALSE);
  if (!need_version (s, error))
    return FALSE;
  for (guint i = 0; i < n; i++)
    if (!isfinite (p[i].predicted))
      {
        g_set_error (error, FT_STORE_ERROR, FT_STORE_ERROR_SQL,
                     "prediction %u of version %" G_GINT64_FORMAT " for %s is %g: not stored "
                     "(nothing of this batch was)", i, p[i].version, p[i].target, p[i].predicted);
        return FALSE;
      }
  if (n == 0)
    return TRUE;
  Rows r = { .p = p };
  return write_rows (s, ST_INS_PREDICTION,
                     "INSERT INTO predictions (version, target, horizon, issued_at, target_t, predicted, baseline)"
                     " VALUES (?, ?, ?, ?, ?, ?, ?)", 7, n, bind_prediction, &r, error, "storing predictions");
}

gboolean
ft_store_predictions_fill (FtStore *s, const char *const *targets, const FtTime *target_t,
                           const double *actual, guint n, GError **error)
{
  g_return_val_if_fail (s != NULL && (n == 0 || (targets && target_t && actual)), FALSE);
  if (!need_version (s, error))
    return FALSE;
  if (n == 0)
    return TRUE;
  Rows r = { .targets = targets, .t = target_t, .actual = actual };
  return write_rows (s, ST_INS_ACTUAL,
                     "UPDATE predictions SET actual = ?3 WHERE target = ?2 AND target_t = ?1 AND actual IS NULL"
                     " AND horizon > 0", 3, n, bind_actual, &r, error, "storing actuals");
}

gboolean
ft_store_predictions_fill_issued (FtStore *s, const char *const *targets, const FtTime *issued_at,
                                  const guint *horizon, const double *actual, guint n, GError **error)
{
  g_return_val_if_fail (s != NULL && (n == 0 || (targets && issued_at && horizon && actual)), FALSE);
  if (!need_version (s, error))
    return FALSE;
  if (n == 0)
    return TRUE;
  Rows r = { .targets = targets, .t = issued_at, .horizon = horizon, .actual = actual };
  return write_rows (s, ST_INS_OUTCOME,
                     "UPDATE predictions SET actual = ?4 WHERE issued_at = ?1 AND horizon = ?2 AND target = ?3"
                     " AND actual IS NULL", 4, n, bind_outcome, &r, error, "storing actuals");
}

gboolean
ft_store_prediction_score (FtStore *s, gint64 version, FtStorePredictionScore *out, GError **error)
{
  g_return_val_if_fail (s != NULL && out != NULL, FALSE);
  memset (out, 0, sizeof *out);
  if (!need_version (s, error))
    return FALSE;
  g_autoptr(sqlite3_stmt) st = prepare (s,
      "SELECT count(*), avg((predicted - actual) * (predicted - actual)), avg(abs(predicted - actual)),"
      " avg((baseline - actual) * (baseline - actual)), avg(abs(baseline - actual))"
      " FROM predictions WHERE version = ? AND actual IS NOT NULL AND horizon > 0", error);
  if (!st)
    return FALSE;
  sqlite3_bind_int64 (st, 1, version);
  if (sqlite3_step (st) != SQLITE_ROW)
    return ft_store_sql_fail (s, error, "scoring predictions");
  out->n = (guint64) sqlite3_column_int64 (st, 0);
  out->rmse = sqrt (sqlite3_column_double (st, 1));
  out->mae = sqlite3_column_double (st, 2);
  out->base_rmse = sqlite3_column_type (st, 3) == SQLITE_NULL ? NAN : sqrt (sqlite3_column_double (st, 3));
  out->base_mae = sqlite3_column_type (st, 4) == SQLITE_NULL ? NAN : sqlite3_column_double (st, 4);
  return TRUE;
}

guint64
ft_store_predictions_count (FtStore *s, gboolean with_actual)
{
  gint64 n = 0;
  if (s->version < FT_STORE_MODELS_VERSION)
    return 0;
  ft_store_query_int64 (s, with_actual ? "SELECT count(*) FROM predictions WHERE actual IS NOT NULL"
                                       : "SELECT count(*) FROM predictions", &n, NULL);
  return (guint64) n;
}

/* ------------------------------------------------------------ decisions */

gboolean
ft_store_decision_put (FtStore *s, const FtStoreDecision *d, GError **error)
{
  g_return_val_if_fail (s != NULL && d != NULL, FALSE);
  if (!need_version (s, error))
    return FALSE;
  g_autoptr(sqlite3_stmt) st = prepare (s,
      "INSERT INTO model_decisions (t, kind, city, champion, candidate, champion_score,"
      " candidate_score, promoted, reason) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)", error);
  if (!st)
    return FALSE;
  sqlite3_bind_int64 (st, 1, d->t);
  sqlite3_bind_text (st, 2, d->kind, -1, SQLITE_STATIC);
  sqlite3_bind_text (st, 3, d->city, -1, SQLITE_STATIC);
  sqlite3_bind_int64 (st, 4, d->champion);
  sqlite3_bind_int64 (st, 5, d->candidate);
  if (isfinite (d->champion_score))
    sqlite3_bind_double (st, 6, d->champion_score);
  if (isfinite (d->candidate_score))
    sqlite3_bind_double (st, 7, d->candidate_score);
  sqlite3_bind_int (st, 8, d->promoted);
  sqlite3_bind_text (st, 9, d->reason ? d->reason : "", -1, SQLITE_STATIC);
  if (sqlite3_step (st) != SQLITE_DONE)
    return ft_store_sql_fail (s, error, "storing a retraining decision");
  return TRUE;
}

guint64
ft_store_decisions_count (FtStore *s, gboolean promoted_only)
{
  gint64 n = 0;
  if (s->version < FT_STORE_MODELS_VERSION)
    return 0;
  ft_store_query_int64 (s, promoted_only ? "SELECT count(*) FROM model_decisions WHERE promoted"
                                         : "SELECT count(*) FROM model_decisions", &n, NULL);
  return (guint64) n;
}
