/* ft-assist-queue.c — the staff hand-off queue and the riders' pending
 * confirmations: rows of the core's store (tables assist_handoffs and
 * assist_pending, schema 9), or in memory when no store is attached.
 * Prepared statements only.
 */
#include "ft-assist-private.h"
#include "ft-store.h"

#include <string.h>

void
ft_assist_handoff_free (FtAssistHandoff *h)
{
  if (!h)
    return;
  g_free (h->reason);
  g_free (h->message);
  g_free (h);
}

void
ft_assist_pending_free (FtAssistPending *p)
{
  if (!p)
    return;
  g_free (p->message);
  g_free (p);
}

static gboolean
sql_fail (FtAssist *a, GError **error, const char *what)
{
  g_set_error (error, FT_ASSIST_ERROR, FT_ASSIST_ERROR_STORE, "%s: %s", what, sqlite3_errmsg (a->db));
  return FALSE;
}

gboolean
ft_assist_queue_init (FtAssist *a, GError **error)
{
  a->handoffs = g_ptr_array_new_with_free_func ((GDestroyNotify) ft_assist_handoff_free);
  a->pending = g_hash_table_new_full (g_direct_hash, g_direct_equal, NULL,
                                      (GDestroyNotify) ft_assist_pending_free);
  a->next_handoff = 1;
  if (a->core->store)
    {
      if (ft_store_schema_version (a->core->store) < 9)
        {
          g_set_error (error, FT_ASSIST_ERROR, FT_ASSIST_ERROR_STORE,
                       "the store is at schema %d; the assistant needs 9 or later",
                       ft_store_schema_version (a->core->store));
          return FALSE;
        }
      a->db = ft_store_get_db (a->core->store);
    }
  return TRUE;
}

gint64
ft_assist_queue_add (FtAssist *a, guint rider, FtIntent intent, const char *reason, const char *message,
                     gint64 booking, gint32 vehicle, gint64 amount, FtTime now, GError **error)
{
  g_autofree char *msg = NULL;
  gint64 id;

  /* at most 500 bytes of the rider's words, cut at a character boundary */
  if (strlen (message) > 500)
    {
      const char *end = message + 500;
      while (end > message && (*end & 0xC0) == 0x80)
        end--;
      msg = g_strndup (message, (gsize) (end - message));
    }
  else
    msg = g_strdup (message);
  a->n_handoffs++;

  if (a->db)
    {
      sqlite3_stmt *st = NULL;
      if (sqlite3_prepare_v2 (a->db,
                              "INSERT INTO assist_handoffs (t, rider, intent, reason, message, booking,"
                              " vehicle, amount, closed_at, closed_by) VALUES (?,?,?,?,?,?,?,?,-1,-1)",
                              -1, &st, NULL) != SQLITE_OK)
        return sql_fail (a, error, "storing a hand-off"), -1;
      sqlite3_bind_int64 (st, 1, now);
      sqlite3_bind_int64 (st, 2, rider);
      sqlite3_bind_text (st, 3, ft_intent_name (intent), -1, SQLITE_STATIC);
      sqlite3_bind_text (st, 4, reason, -1, SQLITE_STATIC);
      sqlite3_bind_text (st, 5, msg, -1, SQLITE_STATIC);
      sqlite3_bind_int64 (st, 6, booking);
      sqlite3_bind_int64 (st, 7, vehicle);
      sqlite3_bind_int64 (st, 8, amount);
      int rc = sqlite3_step (st);
      sqlite3_finalize (st);
      if (rc != SQLITE_DONE)
        return sql_fail (a, error, "storing a hand-off"), -1;
      return sqlite3_last_insert_rowid (a->db);
    }
  FtAssistHandoff *h = g_new0 (FtAssistHandoff, 1);
  h->id = id = a->next_handoff++;
  h->t = now;
  h->rider = rider;
  h->intent = intent;
  h->reason = g_strdup (reason);
  h->message = g_steal_pointer (&msg);
  h->booking = booking;
  h->vehicle = vehicle;
  h->amount_minor = amount;
  h->open = TRUE;
  h->closed_at = -1;
  h->closed_by = -1;
  g_ptr_array_add (a->handoffs, h);
  return id;
}

static FtAssistHandoff *
handoff_copy (const FtAssistHandoff *h)
{
  FtAssistHandoff *c = g_memdup2 (h, sizeof *h);
  c->reason = g_strdup (h->reason);
  c->message = g_strdup (h->message);
  return c;
}

GPtrArray *
ft_assist_list_handoffs (FtAssist *a, gboolean open_only)
{
  GPtrArray *out = g_ptr_array_new_with_free_func ((GDestroyNotify) ft_assist_handoff_free);
  sqlite3_stmt *st = NULL;

  g_return_val_if_fail (a != NULL, out);
  if (!a->db)
    {
      for (guint i = 0; i < a->handoffs->len; i++)
        {
          const FtAssistHandoff *h = a->handoffs->pdata[i];
          if (!open_only || h->open)
            g_ptr_array_add (out, handoff_copy (h));
        }
      return out;
    }
  if (sqlite3_prepare_v2 (a->db,
                          "SELECT id, t, rider, intent, reason, message, booking, vehicle, amount,"
                          " closed_at, closed_by FROM assist_handoffs WHERE (?1 = 0 OR closed_at < 0)"
                          " ORDER BY id", -1, &st, NULL) != SQLITE_OK)
    {
      g_warning ("listing hand-offs: %s", sqlite3_errmsg (a->db));
      return out;
    }
  sqlite3_bind_int (st, 1, open_only ? 1 : 0);
  while (sqlite3_step (st) == SQLITE_ROW)
    {
      FtAssistHandoff *h = g_new0 (FtAssistHandoff, 1);
      FtIntent in = FT_INTENT_HUMAN_AGENT;
      h->id = sqlite3_column_int64 (st, 0);
      h->t = sqlite3_column_int64 (st, 1);
      h->rider = (guint) sqlite3_column_int64 (st, 2);
      ft_intent_from_name ((const char *) sqlite3_column_text (st, 3), &in);
      h->intent = in;
      h->reason = g_strdup ((const char *) sqlite3_column_text (st, 4));
      h->message = g_strdup ((const char *) sqlite3_column_text (st, 5));
      h->booking = sqlite3_column_int64 (st, 6);
      h->vehicle = (gint32) sqlite3_column_int64 (st, 7);
      h->amount_minor = sqlite3_column_int64 (st, 8);
      h->closed_at = sqlite3_column_int64 (st, 9);
      h->closed_by = (gint32) sqlite3_column_int64 (st, 10);
      h->open = h->closed_at < 0;
      g_ptr_array_add (out, h);
    }
  sqlite3_finalize (st);
  return out;
}

gboolean
ft_assist_close_handoff (FtAssist *a, gint64 id, guint by, FtTime now, GError **error)
{
  g_return_val_if_fail (a != NULL, FALSE);
  if (!ft_accounts_can (a->core->accounts, by, FT_PERM_DISPATCH, error))
    {
      g_prefix_error (error, "closing hand-off %" G_GINT64_FORMAT ": ", id);
      return FALSE;
    }
  if (a->db)
    {
      sqlite3_stmt *st = NULL;
      if (sqlite3_prepare_v2 (a->db, "UPDATE assist_handoffs SET closed_at = ?, closed_by = ?"
                                     " WHERE id = ? AND closed_at < 0", -1, &st, NULL) != SQLITE_OK)
        return sql_fail (a, error, "closing a hand-off");
      sqlite3_bind_int64 (st, 1, now);
      sqlite3_bind_int64 (st, 2, by);
      sqlite3_bind_int64 (st, 3, id);
      int rc = sqlite3_step (st);
      sqlite3_finalize (st);
      if (rc != SQLITE_DONE)
        return sql_fail (a, error, "closing a hand-off");
      if (sqlite3_changes (a->db) == 1)
        return TRUE;
    }
  else
    for (guint i = 0; i < a->handoffs->len; i++)
      {
        FtAssistHandoff *h = a->handoffs->pdata[i];
        if (h->id == id && h->open)
          {
            h->open = FALSE;
            h->closed_at = now;
            h->closed_by = (gint32) by;
            return TRUE;
          }
      }
  g_set_error (error, FT_ASSIST_ERROR, FT_ASSIST_ERROR_INVALID,
               "no open hand-off %" G_GINT64_FORMAT, id);
  return FALSE;
}

FtAssistPending *
ft_assist_pending_get (FtAssist *a, guint rider, FtTime now)
{
  FtAssistPending *p = NULL;

  if (!a->db)
    {
      const FtAssistPending *m = g_hash_table_lookup (a->pending, GUINT_TO_POINTER (rider));
      if (m && m->expires > now)
        {
          p = g_memdup2 (m, sizeof *m);
          p->message = g_strdup (m->message);
        }
      return p;
    }
  sqlite3_stmt *st = NULL;
  if (sqlite3_prepare_v2 (a->db, "SELECT action, booking, vehicle, amount, expires, message"
                                 " FROM assist_pending WHERE rider = ? AND expires > ?",
                          -1, &st, NULL) != SQLITE_OK)
    return NULL;
  sqlite3_bind_int64 (st, 1, rider);
  sqlite3_bind_int64 (st, 2, now);
  if (sqlite3_step (st) == SQLITE_ROW)
    {
      p = g_new0 (FtAssistPending, 1);
      p->action = (FtAssistAction) sqlite3_column_int (st, 0);
      p->booking = sqlite3_column_int64 (st, 1);
      p->vehicle = (gint32) sqlite3_column_int64 (st, 2);
      p->amount = sqlite3_column_int64 (st, 3);
      p->expires = sqlite3_column_int64 (st, 4);
      p->message = g_strdup ((const char *) sqlite3_column_text (st, 5));
    }
  sqlite3_finalize (st);
  return p;
}

gboolean
ft_assist_pending_set (FtAssist *a, guint rider, const FtAssistPending *p, GError **error)
{
  if (!a->db)
    {
      FtAssistPending *c = g_memdup2 (p, sizeof *p);
      c->message = g_strdup (p->message ? p->message : "");
      g_hash_table_replace (a->pending, GUINT_TO_POINTER (rider), c);
      return TRUE;
    }
  sqlite3_stmt *st = NULL;
  if (sqlite3_prepare_v2 (a->db, "INSERT OR REPLACE INTO assist_pending (rider, action, booking, vehicle,"
                                 " amount, expires, message) VALUES (?,?,?,?,?,?,?)", -1, &st, NULL) != SQLITE_OK)
    return sql_fail (a, error, "storing a confirmation");
  sqlite3_bind_int64 (st, 1, rider);
  sqlite3_bind_int (st, 2, p->action);
  sqlite3_bind_int64 (st, 3, p->booking);
  sqlite3_bind_int64 (st, 4, p->vehicle);
  sqlite3_bind_int64 (st, 5, p->amount);
  sqlite3_bind_int64 (st, 6, p->expires);
  sqlite3_bind_text (st, 7, p->message ? p->message : "", -1, SQLITE_STATIC);
  int rc = sqlite3_step (st);
  sqlite3_finalize (st);
  if (rc != SQLITE_DONE)
    return sql_fail (a, error, "storing a confirmation");
  return TRUE;
}

void
ft_assist_pending_clear (FtAssist *a, guint rider)
{
  if (!a->db)
    {
      g_hash_table_remove (a->pending, GUINT_TO_POINTER (rider));
      return;
    }
  sqlite3_stmt *st = NULL;
  if (sqlite3_prepare_v2 (a->db, "DELETE FROM assist_pending WHERE rider = ?", -1, &st, NULL) != SQLITE_OK)
    return;
  sqlite3_bind_int64 (st, 1, rider);
  sqlite3_step (st);
  sqlite3_finalize (st);
}
