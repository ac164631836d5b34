/* ft-inspect-queue.c — checked photos, the reuse check by perceptual hash
 * and the staff review queue in the core's store (schema 9), and the
 * confirmation that takes a vehicle out of service with a repair task
 * (see ft-inspect-queue.h).
 */
#include "ft-inspect-queue.h"

#include <sqlite3.h>
#include <string.h>

G_DEFINE_QUARK (ft-inspect-queue-error-quark, ft_inspect_queue_error)

void
ft_review_clear (FtReview *r)
{
  g_clear_pointer (&r->reason, g_free);
  g_clear_pointer (&r->regions, g_free);
  g_clear_pointer (&r->path, g_free);
}

GArray *
ft_review_array_new (void)
{
  GArray *a = g_array_new (FALSE, TRUE, sizeof (FtReview));
  g_array_set_clear_func (a, (GDestroyNotify) ft_review_clear);
  return a;
}

static sqlite3 *
store_db (FtCore *core, GError **error)
{
  if (core->store == NULL)
    {
      g_set_error (error, FT_INSPECT_QUEUE_ERROR, FT_INSPECT_QUEUE_ERROR_NO_STORE,
                   "damage checks need a database (the review queue is stored)");
      return NULL;
    }
  return ft_store_get_db (core->store);
}

static gboolean
sql_failed (sqlite3 *db, GError **error, const char *what)
{
  g_set_error (error, FT_INSPECT_QUEUE_ERROR, FT_INSPECT_QUEUE_ERROR_STORE,
               "%s: %s", what, sqlite3_errmsg (db));
  return FALSE;
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC (sqlite3_stmt, sqlite3_finalize)

static char *
regions_json (const FtInspectResult *r)
{
  GString *s = g_string_new ("[");
  for (guint i = 0; i < r->n_regions; i++)
    {
      const FtInspectRegion *g = &r->regions[i];
      g_string_append_printf (s, "%s{\"x\":%d,\"y\":%d,\"w\":%d,\"h\":%d,\"kind\":\"%s\",\"score\":%.3f}",
                              i ? "," : "", g->x, g->y, g->w, g->h, ft_damage_kind_name (g->kind),
                              g->mass);
    }
  g_string_append_c (s, ']');
  return g_string_free (s, FALSE);
}

gboolean
ft_inspect_queue_submit (FtCore *core, guint vehicle, const char *photo_path, FtInspectResult *r,
                         FtTime now, gint64 *review, GError **error)
{
  g_return_val_if_fail (core != NULL && photo_path != NULL && r != NULL, FALSE);
  if (review)
    *review = -1;
  sqlite3 *db = store_db (core, error);
  if (db == NULL)
    return FALSE;
  if (vehicle >= ft_fleet_n_vehicles (core->fleet))
    {
      g_set_error (error, FT_INSPECT_QUEUE_ERROR, FT_INSPECT_QUEUE_ERROR_INVALID,
                   "no vehicle %u (the fleet has %u)", vehicle, ft_fleet_n_vehicles (core->fleet));
      return FALSE;
    }

  /* a photo seen before (any vehicle: a rider may reuse another's photo) */
  g_autoptr(sqlite3_stmt) q = NULL;
  if (sqlite3_prepare_v2 (db, "SELECT id, vehicle, t, phash, phash_fine FROM inspect_photos", -1, &q, NULL) != SQLITE_OK)
    return sql_failed (db, error, "reading the checked photos");
  int rc;
  while ((rc = sqlite3_step (q)) == SQLITE_ROW)
    {
      guint64 h = (guint64) sqlite3_column_int64 (q, 3);
      guint d = ft_inspect_hash_distance (h, r->phash);
      if (d > FT_INSPECT_REUSE_DISTANCE || sqlite3_column_bytes (q, 4) != 32)
        continue;
      guint64 fine[4];
      memcpy (fine, sqlite3_column_blob (q, 4), sizeof fine);
      guint df = ft_inspect_hash_fine_distance (fine, r->phash_fine);
      if (df <= FT_INSPECT_REUSE_FINE)
        {
          guint pv = (guint) sqlite3_column_int64 (q, 1);
          const FtVehicle *veh = pv < ft_fleet_n_vehicles (core->fleet)
                                 ? ft_fleet_get_vehicle (core->fleet, pv) : NULL;
          g_snprintf (r->reason, sizeof r->reason,
                      "photo reused: it matches photo %" G_GINT64_FORMAT " of %s taken at t=%"
                      G_GINT64_FORMAT " ms (%u of 64 and %u of 256 hash bits differ)",
                      (gint64) sqlite3_column_int64 (q, 0), veh ? veh->name : "another vehicle",
                      (gint64) sqlite3_column_int64 (q, 2), d, df);
          r->decision = FT_INSPECT_REVIEW;
          break;
        }
    }
  if (rc != SQLITE_ROW && rc != SQLITE_DONE)
    return sql_failed (db, error, "reading the checked photos");

  g_autoptr(sqlite3_stmt) ins = NULL;
  if (sqlite3_prepare_v2 (db, "INSERT INTO inspect_photos (vehicle, t, path, phash, phash_fine, decision, score)"
                              " VALUES (?, ?, ?, ?, ?, ?, ?)", -1, &ins, NULL) != SQLITE_OK)
    return sql_failed (db, error, "recording the photo");
  sqlite3_bind_int64 (ins, 1, vehicle);
  sqlite3_bind_int64 (ins, 2, now);
  sqlite3_bind_text (ins, 3, photo_path, -1, SQLITE_TRANSIENT);
  sqlite3_bind_int64 (ins, 4, (sqlite3_int64) r->phash);
  sqlite3_bind_blob (ins, 5, r->phash_fine, sizeof r->phash_fine, SQLITE_TRANSIENT);
  sqlite3_bind_int (ins, 6, r->decision);
  sqlite3_bind_double (ins, 7, r->score);
  if (sqlite3_step (ins) != SQLITE_DONE)
    return sql_failed (db, error, "recording the photo");
  gint64 photo = sqlite3_last_insert_rowid (db);
  if (r->decision == FT_INSPECT_OK)
    return TRUE;

  g_autofree char *regions = regions_json (r);
  g_autoptr(sqlite3_stmt) rv = NULL;
  if (sqlite3_prepare_v2 (db, "INSERT INTO inspect_reviews (photo, vehicle, t, decision, score, reason, regions)"
                              " VALUES (?, ?, ?, ?, ?, ?, ?)", -1, &rv, NULL) != SQLITE_OK)
    return sql_failed (db, error, "queueing the review");
  sqlite3_bind_int64 (rv, 1, photo);
  sqlite3_bind_int64 (rv, 2, vehicle);
  sqlite3_bind_int64 (rv, 3, now);
  sqlite3_bind_int (rv, 4, r->decision);
  sqlite3_bind_double (rv, 5, r->score);
  sqlite3_bind_text (rv, 6, r->reason, -1, SQLITE_TRANSIENT);
  sqlite3_bind_text (rv, 7, regions, -1, SQLITE_TRANSIENT);
  if (sqlite3_step (rv) != SQLITE_DONE)
    return sql_failed (db, error, "queueing the review");
  if (review)
    *review = sqlite3_last_insert_rowid (db);
  return TRUE;
}

static const char *select_reviews =
  "SELECT r.id, r.photo, r.vehicle, r.t, r.decision, r.score, r.reason, r.regions, p.path,"
  " r.state, r.decided_by, r.task FROM inspect_reviews r JOIN inspect_photos p ON p.id = r.photo";

static void
read_review (sqlite3_stmt *q, FtReview *r)
{
  r->id = sqlite3_column_int64 (q, 0);
  r->photo = sqlite3_column_int64 (q, 1);
  r->vehicle = (guint) sqlite3_column_int64 (q, 2);
  r->t = sqlite3_column_int64 (q, 3);
  r->decision = (FtInspectDecision) sqlite3_column_int (q, 4);
  r->score = sqlite3_column_double (q, 5);
  r->reason = g_strdup ((const char *) sqlite3_column_text (q, 6));
  r->regions = g_strdup ((const char *) sqlite3_column_text (q, 7));
  r->path = g_strdup ((const char *) sqlite3_column_text (q, 8));
  r->state = (FtReviewState) sqlite3_column_int (q, 9);
  r->decided_by = (gint32) sqlite3_column_int (q, 10);
  r->task = sqlite3_column_int64 (q, 11);
}

gboolean
ft_inspect_queue_list (FtCore *core, int state, GArray *out, GError **error)
{
  sqlite3 *db = store_db (core, error);
  if (db == NULL)
    return FALSE;
  g_autofree char *sql = g_strdup_printf ("%s WHERE ? < 0 OR r.state = ? ORDER BY r.t, r.id",
                                          select_reviews);
  g_autoptr(sqlite3_stmt) q = NULL;
  if (sqlite3_prepare_v2 (db, sql, -1, &q, NULL) != SQLITE_OK)
    return sql_failed (db, error, "reading the review queue");
  sqlite3_bind_int (q, 1, state);
  sqlite3_bind_int (q, 2, state);
  g_array_set_size (out, 0);
  int rc;
  while ((rc = sqlite3_step (q)) == SQLITE_ROW)
    {
      FtReview r = { 0 };
      read_review (q, &r);
      g_array_append_val (out, r);
    }
  if (rc != SQLITE_DONE)
    return sql_failed (db, error, "reading the review queue");
  return TRUE;
}

/* The open review `id` into r, or an error naming why it cannot be decided. */
static gboolean
open_review (FtCore *core, sqlite3 *db, gint64 id, guint by, FtReview *r, GError **error)
{
  if (!ft_accounts_can (core->accounts, by, FT_PERM_DISPATCH, error))
    return FALSE;
  g_autofree char *sql = g_strdup_printf ("%s WHERE r.id = ?", select_reviews);
  g_autoptr(sqlite3_stmt) q = NULL;
  if (sqlite3_prepare_v2 (db, sql, -1, &q, NULL) != SQLITE_OK)
    return sql_failed (db, error, "reading the review queue");
  sqlite3_bind_int64 (q, 1, id);
  int rc = sqlite3_step (q);
  if (rc == SQLITE_DONE)
    {
      g_set_error (error, FT_INSPECT_QUEUE_ERROR, FT_INSPECT_QUEUE_ERROR_NO_SUCH_REVIEW,
                   "no review %" G_GINT64_FORMAT " in the queue", id);
      return FALSE;
    }
  if (rc != SQLITE_ROW)
    return sql_failed (db, error, "reading the review queue");
  read_review (q, r);
  if (r->state != FT_REVIEW_OPEN)
    {
      g_set_error (error, FT_INSPECT_QUEUE_ERROR, FT_INSPECT_QUEUE_ERROR_DECIDED,
                   "review %" G_GINT64_FORMAT " was %s already", id,
                   r->state == FT_REVIEW_CONFIRMED ? "confirmed" : "dismissed");
      ft_review_clear (r);
      return FALSE;
    }
  if (r->vehicle >= ft_fleet_n_vehicles (core->fleet))
    {
      g_set_error (error, FT_INSPECT_QUEUE_ERROR, FT_INSPECT_QUEUE_ERROR_INVALID,
                   "review %" G_GINT64_FORMAT " names vehicle %u, which this fleet does not have",
                   id, r->vehicle);
      ft_review_clear (r);
      return FALSE;
    }
  return TRUE;
}

static gboolean
decide (sqlite3 *db, gint64 id, FtReviewState state, guint by, FtTime now, gint64 task,
        GError **error)
{
  g_autoptr(sqlite3_stmt) u = NULL;
  if (sqlite3_prepare_v2 (db, "UPDATE inspect_reviews SET state = ?, decided_by = ?, decided_at = ?,"
                              " task = ? WHERE id = ? AND state = 0", -1, &u, NULL) != SQLITE_OK)
    return sql_failed (db, error, "deciding the review");
  sqlite3_bind_int (u, 1, state);
  sqlite3_bind_int64 (u, 2, by);
  sqlite3_bind_int64 (u, 3, now);
  sqlite3_bind_int64 (u, 4, task);
  sqlite3_bind_int64 (u, 5, id);
  if (sqlite3_step (u) != SQLITE_DONE)
    return sql_failed (db, error, "deciding the review");
  if (sqlite3_changes (db) != 1)
    {
      g_set_error (error, FT_INSPECT_QUEUE_ERROR, FT_INSPECT_QUEUE_ERROR_DECIDED,
                   "review %" G_GINT64_FORMAT " was decided by someone else meanwhile", id);
      return FALSE;
    }
  return TRUE;
}

typedef struct {
  gint64        review;
  FtReviewState state;
  guint         by;
  FtTime        now;
  gint64        task;
} Decision;

static gboolean
decide_in_commit (sqlite3 *db, gpointer data, GError **error)
{
  const Decision *d = data;
  return decide (db, d->review, d->state, d->by, d->now, d->task, error);
}

gboolean
ft_inspect_queue_confirm (FtCore *core, gint64 review, guint by, FtTime now, gint64 *task,
                          GError **error)
{
  if (task)
    *task = -1;
  sqlite3 *db = store_db (core, error);
  if (db == NULL)
    return FALSE;
  FtReview r = { 0 };
  if (!open_review (core, db, review, by, &r, error))
    return FALSE;
  guint v = r.vehicle;
  ft_review_clear (&r);

  /* out of service first: a vehicle on a trip or already out cannot be
   * taken out, and then nothing changes */
  const FtVehicle *veh = ft_fleet_get_vehicle (core->fleet, v);
  if (veh->state != FT_STATE_NON_OPERATIONAL &&
      !ft_fleet_apply_event (core->fleet, v, FT_VEV_MAINTENANCE, now, error))
    {
      g_prefix_error (error, "review %" G_GINT64_FORMAT ": ", review);
      return FALSE;
    }
  veh = ft_fleet_get_vehicle (core->fleet, v);
  gint64 t = ft_ops_open_for (core->ops, v, FT_TASK_COLLECT_REPAIR);
  if (t < 0)
    {
      t = ft_ops_create (core->ops, FT_TASK_COLLECT_REPAIR, v, veh->pos, -1, 8, (gint32) by, now, error);
      if (t < 0)
        return FALSE;
    }
  /* the decision, the vehicle's state and the task reach the file in one
   * transaction: a failed commit leaves the review open */
  Decision d = { review, FT_REVIEW_CONFIRMED, by, now, t };
  if (!ft_core_commit_with (core, decide_in_commit, &d, error))
    return FALSE;
  if (task)
    *task = t;
  return TRUE;
}

gboolean
ft_inspect_queue_dismiss (FtCore *core, gint64 review, guint by, FtTime now, GError **error)
{
  sqlite3 *db = store_db (core, error);
  if (db == NULL)
    return FALSE;
  FtReview r = { 0 };
  if (!open_review (core, db, review, by, &r, error))
    return FALSE;
  ft_review_clear (&r);
  return decide (db, review, FT_REVIEW_DISMISSED, by, now, -1, error);
}

gboolean
ft_inspect_queue_check_files (FtCore *core, guint vehicle, const char *reference_path, const char *photo_path,
                              FtTime now, gint64 *review, const char **decision, GError **error)
{
  g_autoptr(FtInspectImage) ref = ft_inspect_image_load (reference_path, error);
  g_autoptr(FtInspectImage) photo = ref ? ft_inspect_image_load (photo_path, error) : NULL;
  if (!photo)
    return FALSE;
  g_autoptr(FtInspector) insp = ft_inspector_new (NULL);
  FtInspectResult r;
  if (!ft_inspect_check (insp, ref, photo, &r, error)
      || !ft_inspect_queue_submit (core, vehicle, photo_path, &r, now, review, error))
    return FALSE;
  *decision = ft_inspect_decision_name (r.decision);
  return TRUE;
}
