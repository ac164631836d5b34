/* ft-region-rights.c — riders' data rights on one store: export (all that
 * the store holds about a rider, as JSON) and erasure (personal data gone,
 * trip positions coarsened, ledger and counts kept), each role-checked
 * through src/accounts and written to the store's rights_audit table.
 * Erasure is one transaction; the file is then checkpointed (and vacuumed
 * when free pages could hold old copies) so no page keeps the old data.
 */
#include "ft-region-data-private.h"

#include <json-glib/json-glib.h>
#include <sqlite3.h>
#include <string.h>

#include "ft-accounts.h"
#include "ft-event.h"
#include "ft-json.h"
#include "ft-store.h"

/* A photo belongs to a trip when taken from a minute before its end to
 * PHOTO_AFTER_MS after it, and before the vehicle's next unlock. */
#define PHOTO_BEFORE_MS (60 * FT_SECOND)
#define PHOTO_AFTER_MS  (15 * FT_MINUTE)

typedef struct {
  FtStore    *store;
  sqlite3    *db;
  FtAccounts *accounts;
  FtEventLog *log;
  guint       rider, actor;
} Rights;

static void
rights_clear (Rights *r)
{
  g_clear_pointer (&r->accounts, ft_accounts_free);
  g_clear_pointer (&r->log, ft_event_log_free);
  g_clear_pointer (&r->store, ft_store_close);
}

static gboolean
load_accounts (Rights *r, GError **error)
{
  sqlite3_stmt *st = NULL;
  int rc;

  r->log = ft_event_log_new ();
  r->accounts = ft_accounts_new (0, r->log);
  if (sqlite3_prepare_v2 (r->db, "SELECT idx,id,roles,display_name,email,pseudonym,erased,created"
                          " FROM accounts ORDER BY idx", -1, &st, NULL) != SQLITE_OK)
    return ft_region_data_sql_fail (r->db, error, "reading the accounts");
  while ((rc = sqlite3_step (st)) == SQLITE_ROW)
    {
      FtAccount a = { 0 };
      const char *id = (const char *) sqlite3_column_text (st, 1);
      const char *ps = (const char *) sqlite3_column_text (st, 5);

      a.index = (guint32) sqlite3_column_int64 (st, 0);
      if (a.index != ft_accounts_n (r->accounts))
        {
          sqlite3_finalize (st);
          g_set_error (error, FT_REGION_DATA_ERROR, FT_REGION_DATA_ERROR_STORE,
                       "accounts: index %u follows %u; the store is damaged", a.index,
                       ft_accounts_n (r->accounts));
          return FALSE;
        }
      g_strlcpy (a.id, id ? id : "", sizeof a.id);
      a.roles = (guint32) sqlite3_column_int64 (st, 2);
      a.display_name = (char *) sqlite3_column_text (st, 3);
      a.email = (char *) sqlite3_column_text (st, 4);
      g_strlcpy (a.pseudonym, ps ? ps : "", sizeof a.pseudonym);
      a.erased = sqlite3_column_int (st, 6) != 0;
      a.created = sqlite3_column_int64 (st, 7);
      ft_accounts_restore (r->accounts, &a);
    }
  sqlite3_finalize (st);
  if (rc != SQLITE_DONE)
    return ft_region_data_sql_fail (r->db, error, "reading the accounts");
  return TRUE;
}

/* "#INDEX", an e-mail or an account id. */
static gboolean
find_account (Rights *r, const char *who, const char *what, const char *store, guint *out,
              GError **error)
{
  if (who == NULL || *who == '\0')
    {
      g_set_error (error, FT_REGION_DATA_ERROR, FT_REGION_DATA_ERROR_INPUT,
                   "no %s given (an account id, an e-mail or #INDEX)", what);
      return FALSE;
    }
  if (who[0] == '#')
    {
      guint64 v;
      if (g_ascii_string_to_unsigned (who + 1, 10, 0, G_MAXUINT32, &v, NULL) &&
          v < ft_accounts_n (r->accounts))
        {
          *out = (guint) v;
          return TRUE;
        }
    }
  else if (strchr (who, '@') ? ft_accounts_lookup_email (r->accounts, who, out)
                             : ft_accounts_lookup_id (r->accounts, who, out))
    return TRUE;
  g_set_error (error, FT_REGION_DATA_ERROR, FT_REGION_DATA_ERROR_NO_SUCH,
               "%s: no %s \"%s\" in this store (give an account id, the e-mail of an "
               "account that is not erased, or #INDEX below %u)", store, what, who,
               ft_accounts_n (r->accounts));
  return FALSE;
}

static gboolean
rights_open (Rights *r, const FtRightsRequest *req, GError **error)
{
  g_autoptr(GError) e = NULL;

  memset (r, 0, sizeof *r);
  if (req->store == NULL || !g_file_test (req->store, G_FILE_TEST_IS_REGULAR) ||
      !ft_output_is_ft_sqlite (req->store))
    {
      g_set_error (error, FT_REGION_DATA_ERROR, FT_REGION_DATA_ERROR_INPUT,
                   "%s is not a Fleet Twin store (give the path of a run, live or region "
                   "database)", req->store ? req->store : "(none)");
      return FALSE;
    }
  r->store = ft_store_open (req->store, NULL, &e);
  if (r->store == NULL)
    {
      g_set_error (error, FT_REGION_DATA_ERROR, FT_REGION_DATA_ERROR_STORE, "%s", e->message);
      return FALSE;
    }
  r->db = ft_store_get_db (r->store);
  return load_accounts (r, error) &&
         find_account (r, req->rider, "rider", req->store, &r->rider, error) &&
         find_account (r, req->actor, "actor", req->store, &r->actor, error);
}

static gboolean
audit (Rights *r, FtTime now, const char *action, const char *detail, GError **error)
{
  sqlite3_stmt *st = NULL;
  const FtAccount *act = ft_accounts_get (r->accounts, r->actor);

  if (sqlite3_prepare_v2 (r->db, "INSERT INTO rights_audit (t, action, subject, actor, actor_roles,"
                          " detail) VALUES (?, ?, ?, ?, ?, ?)", -1, &st, NULL) != SQLITE_OK)
    return ft_region_data_sql_fail (r->db, error, "writing the audit row");
  sqlite3_bind_int64 (st, 1, now);
  sqlite3_bind_text (st, 2, action, -1, SQLITE_STATIC);
  sqlite3_bind_int64 (st, 3, r->rider);
  sqlite3_bind_int64 (st, 4, r->actor);
  sqlite3_bind_int64 (st, 5, act->roles);
  sqlite3_bind_text (st, 6, detail, -1, SQLITE_STATIC);
  if (sqlite3_step (st) != SQLITE_DONE)
    {
      sqlite3_finalize (st);
      return ft_region_data_sql_fail (r->db, error, "writing the audit row");
    }
  sqlite3_finalize (st);
  return TRUE;
}

/* ---- export ---------------------------------------------------------------- */

/* Adds the rows of a query (parameter 1 = the rider) as an array of objects,
 * one member per column. */
static gboolean
add_rows (JsonBuilder *b, sqlite3 *db, const char *member, const char *sql, gint64 rider,
          GError **error)
{
  sqlite3_stmt *st = NULL;
  int rc, i, n;

  if (sqlite3_prepare_v2 (db, sql, -1, &st, NULL) != SQLITE_OK)
    return ft_region_data_sql_fail (db, error, member);
  if (sqlite3_bind_parameter_count (st) >= 1)
    sqlite3_bind_int64 (st, 1, rider);
  json_builder_set_member_name (b, member);
  json_builder_begin_array (b);
  n = sqlite3_column_count (st);
  while ((rc = sqlite3_step (st)) == SQLITE_ROW)
    {
      json_builder_begin_object (b);
      for (i = 0; i < n; i++)
        {
          json_builder_set_member_name (b, sqlite3_column_name (st, i));
          switch (sqlite3_column_type (st, i))
            {
            case SQLITE_INTEGER: json_builder_add_int_value (b, sqlite3_column_int64 (st, i)); break;
            case SQLITE_FLOAT:   ft_json_builder_add_number (b, sqlite3_column_double (st, i)); break;
            case SQLITE_TEXT:    json_builder_add_string_value (b, (const char *) sqlite3_column_text (st, i)); break;
            case SQLITE_BLOB:
              {
                g_autofree char *hex = NULL;
                const guchar *p = sqlite3_column_blob (st, i);
                int len = sqlite3_column_bytes (st, i), k;
                GString *s = g_string_sized_new (2 * (gsize) len + 1);
                for (k = 0; k < len; k++)
                  g_string_append_printf (s, "%02x", p[k]);
                hex = g_string_free (s, FALSE);
                json_builder_add_string_value (b, hex);
                break;
              }
            default:             json_builder_add_null_value (b); break;
            }
        }
      json_builder_end_object (b);
    }
  sqlite3_finalize (st);
  json_builder_end_array (b);
  if (rc != SQLITE_DONE)
    return ft_region_data_sql_fail (db, error, member);
  return TRUE;
}

/* The rider's photos: taken on a vehicle they rode, from a minute before
 * the trip ended to 15 minutes after, and before that vehicle's next
 * unlock. */
#define RIDER_PHOTOS \
  "SELECT p.id FROM inspect_photos p JOIN bookings b ON b.vehicle = p.vehicle" \
  " WHERE b.rider = ?1 AND b.state = 3" \
  "   AND p.t >= b.ended_at - " G_STRINGIFY (60000) " AND p.t <= b.ended_at + " G_STRINGIFY (900000) \
  "   AND NOT EXISTS (SELECT 1 FROM bookings o WHERE o.vehicle = b.vehicle" \
  "                   AND o.unlocked_at > b.ended_at AND o.unlocked_at <= p.t)"

G_STATIC_ASSERT (PHOTO_BEFORE_MS == 60000 && PHOTO_AFTER_MS == 900000);

static gboolean
may (Rights *r, gboolean erase, const char *store, GError **error)
{
  const FtAccount *act = ft_accounts_get (r->accounts, r->actor);
  const FtAccount *sub = ft_accounts_get (r->accounts, r->rider);
  guint32 staff = erase ? FT_ROLE_ADMIN : (FT_ROLE_ADMIN | FT_ROLE_DISPATCHER);

  if (act->erased)
    {
      g_set_error (error, FT_REGION_DATA_ERROR, FT_REGION_DATA_ERROR_PERMISSION,
                   "%s: account #%u (%s) is erased and can no longer act", store, r->actor,
                   act->pseudonym);
      return FALSE;
    }
  if (r->actor == r->rider || (act->roles & staff) != 0)
    return TRUE;
  g_set_error (error, FT_REGION_DATA_ERROR, FT_REGION_DATA_ERROR_PERMISSION,
               "%s: account #%u (roles 0x%x) may not %s the data of account #%u (%s); "
               "a rider may for themself, %s for others", store, r->actor, act->roles,
               erase ? "erase" : "export", r->rider,
               sub->erased ? sub->pseudonym : sub->id,
               erase ? "an admin" : "a dispatcher (support) or an admin");
  return FALSE;
}

char *
ft_rights_export (const FtRightsRequest *req, GError **error)
{
  Rights r;
  g_autoptr(JsonBuilder) b = json_builder_new ();
  g_autoptr(JsonGenerator) gen = json_generator_new ();
  g_autoptr(JsonNode) root = NULL;
  g_autofree char *json = NULL, *region = NULL, *jur = NULL, *detail = NULL;
  gboolean ok;

  g_return_val_if_fail (req != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);
  if (!rights_open (&r, req, error) || !may (&r, FALSE, req->store, error))
    {
      rights_clear (&r);
      return NULL;
    }
  region = ft_store_dup_meta (r.store, FT_REGION_META_NAME);
  jur = ft_store_dup_meta (r.store, FT_REGION_META_JURISDICTION);

  json_builder_begin_object (b);
  json_builder_set_member_name (b, "format");
  json_builder_add_string_value (b, "fleet-twin rider export 1");
  json_builder_set_member_name (b, "exported_at");
  json_builder_add_int_value (b, req->now);
  json_builder_set_member_name (b, "region");
  if (region) json_builder_add_string_value (b, region); else json_builder_add_null_value (b);
  json_builder_set_member_name (b, "jurisdiction");
  if (jur) json_builder_add_string_value (b, jur); else json_builder_add_null_value (b);
  ok = add_rows (b, r.db, "account",
                 "SELECT a.idx AS account, a.id, a.roles, a.display_name, a.email, a.pseudonym,"
                 " a.erased, a.created, coalesce(t.trips, 0) AS trips"
                 " FROM accounts a LEFT JOIN account_trips t ON t.idx = a.idx WHERE a.idx = ?1",
                 r.rider, error) &&
       add_rows (b, r.db, "trips", "SELECT * FROM bookings WHERE rider = ?1 ORDER BY id", r.rider, error) &&
       add_rows (b, r.db, "wallet",
                 "SELECT la.code, la.type, coalesce(bal.balance, 0) AS balance_minor"
                 " FROM ledger_accounts la LEFT JOIN ledger_balances bal ON bal.idx = la.idx"
                 " WHERE la.owner = ?1 ORDER BY la.idx", r.rider, error) &&
       add_rows (b, r.db, "ledger_transactions",
                 "SELECT id, kind, t, amount, ref FROM ledger_tx WHERE user_account = ?1 ORDER BY id",
                 r.rider, error) &&
       add_rows (b, r.db, "ledger_postings",
                 "SELECT p.tx, la.code AS account, p.amount FROM ledger_postings p"
                 " JOIN ledger_accounts la ON la.idx = p.ledger_account"
                 " WHERE p.tx IN (SELECT id FROM ledger_tx WHERE user_account = ?1)"
                 " ORDER BY p.tx, p.idx", r.rider, error) &&
       add_rows (b, r.db, "support_handoffs",
                 "SELECT * FROM assist_handoffs WHERE rider = ?1 ORDER BY id", r.rider, error) &&
       add_rows (b, r.db, "pending_confirmations",
                 "SELECT * FROM assist_pending WHERE rider = ?1", r.rider, error) &&
       add_rows (b, r.db, "photos",
                 "SELECT id, vehicle, t, path, decision, score FROM inspect_photos"
                 " WHERE id IN (" RIDER_PHOTOS ") ORDER BY id", r.rider, error) &&
       add_rows (b, r.db, "photo_reviews",
                 "SELECT id, photo, vehicle, t, decision, score, reason, regions, state"
                 " FROM inspect_reviews WHERE photo IN (" RIDER_PHOTOS ") ORDER BY id",
                 r.rider, error) &&
       add_rows (b, r.db, "events",
                 "SELECT seq, t, kind, vehicle, ref, a, b, amount, lat, lon FROM events"
                 " WHERE account = ?1 ORDER BY seq", r.rider, error) &&
       add_rows (b, r.db, "rights_requests",
                 "SELECT t, action, actor FROM rights_audit WHERE subject = ?1 ORDER BY id",
                 r.rider, error);
  json_builder_end_object (b);
  if (ok)
    {
      root = json_builder_get_root (b);
      json_generator_set_root (gen, root);
      json_generator_set_pretty (gen, TRUE);
      json = json_generator_to_data (gen, NULL);
      detail = g_strdup_printf ("{\"bytes\":%" G_GSIZE_FORMAT "}", strlen (json));
      ok = audit (&r, req->now, "export", detail, error);
    }
  rights_clear (&r);
  if (!ok)
    return NULL;
  return g_steal_pointer (&json);
}

/* ---- erasure --------------------------------------------------------------- */

static gboolean
exec_count (sqlite3 *db, const char *sql, gint64 rider, double cell_m, gint64 *changes,
            const char *what, GError **error)
{
  sqlite3_stmt *st = NULL;
  int rc;

  if (sqlite3_prepare_v2 (db, sql, -1, &st, NULL) != SQLITE_OK)
    return ft_region_data_sql_fail (db, error, what);
  if (sqlite3_bind_parameter_count (st) >= 1)
    sqlite3_bind_int64 (st, 1, rider);
  if (sqlite3_bind_parameter_count (st) >= 2)
    sqlite3_bind_double (st, 2, cell_m);
  rc = sqlite3_step (st);
  sqlite3_finalize (st);
  if (rc != SQLITE_DONE)
    return ft_region_data_sql_fail (db, error, what);
  if (changes)
    *changes = sqlite3_changes (db);
  return TRUE;
}

static gboolean
write_erasure (Rights *r, const FtRightsRequest *req, double cell_m, FtErasureResult *res,
               GError **error)
{
  const FtAccount *acc = ft_accounts_get (r->accounts, r->rider);
  guint n_ev = 0;
  const FtEvent *ev = ft_event_log_pending (r->log, &n_ev);
  sqlite3_stmt *st = NULL;
  g_autofree char *detail = NULL;
  gint64 trips = 0;
  int rc;

  g_assert (n_ev == 1);
  if (sqlite3_prepare_v2 (r->db, "UPDATE accounts SET display_name = NULL, email = NULL,"
                          " pseudonym = ?, erased = 1 WHERE idx = ?", -1, &st, NULL) != SQLITE_OK)
    return ft_region_data_sql_fail (r->db, error, "erasing the account");
  sqlite3_bind_text (st, 1, acc->pseudonym, -1, SQLITE_STATIC);
  sqlite3_bind_int64 (st, 2, r->rider);
  rc = sqlite3_step (st);
  sqlite3_finalize (st);
  if (rc != SQLITE_DONE)
    return ft_region_data_sql_fail (r->db, error, "erasing the account");

  if (!exec_count (r->db,
                   "UPDATE bookings SET"
                   " start_lat = ft_coarsen (start_lat, start_lon, ?2, 0),"
                   " start_lon = ft_coarsen (start_lat, start_lon, ?2, 1),"
                   " end_lat = ft_coarsen (end_lat, end_lon, ?2, 0),"
                   " end_lon = ft_coarsen (end_lat, end_lon, ?2, 1)"
                   " WHERE rider = ?1 AND (start_lat != ft_coarsen (start_lat, start_lon, ?2, 0)"
                   "  OR start_lon != ft_coarsen (start_lat, start_lon, ?2, 1)"
                   "  OR end_lat != ft_coarsen (end_lat, end_lon, ?2, 0)"
                   "  OR end_lon != ft_coarsen (end_lat, end_lon, ?2, 1))",
                   r->rider, cell_m, &res->bookings_coarsened, "coarsening the rider's trips", error))
    return FALSE;
  /* The rider's own events and the vehicle's positions while they rode it. */
  if (!exec_count (r->db, "CREATE TEMP TABLE rider_rides (vehicle INTEGER, t0 INTEGER, t1 INTEGER,"
                   " PRIMARY KEY (vehicle, t0))", 0, 0, NULL, "collecting the rider's rides", error) ||
      !exec_count (r->db, "INSERT OR IGNORE INTO temp.rider_rides SELECT vehicle, unlocked_at,"
                   " CASE WHEN ended_at < 0 THEN 9223372036854775807 ELSE ended_at END"
                   " FROM bookings WHERE rider = ?1 AND unlocked_at >= 0",
                   r->rider, 0, NULL, "collecting the rider's rides", error) ||
      !exec_count (r->db,
                   "UPDATE events SET lat = ft_coarsen (lat, lon, ?2, 0), lon = ft_coarsen (lat, lon, ?2, 1)"
                   " WHERE (account = ?1 OR (vehicle >= 0 AND EXISTS (SELECT 1 FROM temp.rider_rides r"
                   "   WHERE r.vehicle = events.vehicle AND events.t >= r.t0 AND events.t <= r.t1)))"
                   " AND (lat != ft_coarsen (lat, lon, ?2, 0) OR lon != ft_coarsen (lat, lon, ?2, 1))",
                   r->rider, cell_m, &res->events_coarsened, "coarsening the rider's events", error) ||
      !exec_count (r->db, "DROP TABLE temp.rider_rides", 0, 0, NULL, "collecting the rider's rides", error) ||
      !exec_count (r->db, "UPDATE assist_handoffs SET message = '' WHERE rider = ?1 AND message != ''",
                   r->rider, 0, &res->handoffs_cleared, "clearing hand-off messages", error) ||
      !exec_count (r->db, "DELETE FROM assist_pending WHERE rider = ?1",
                   r->rider, 0, &res->pending_removed, "removing pending confirmations", error) ||
      !exec_count (r->db, "UPDATE inspect_photos SET path = '' WHERE path != '' AND id IN (" RIDER_PHOTOS ")",
                   r->rider, 0, &res->photos_cleared, "clearing photo paths", error))
    return FALSE;

  if (!req->core_logs_event)
    {
      if (sqlite3_prepare_v2 (r->db, "INSERT INTO events (seq, t, kind, vehicle, account, ref, a, b,"
                              " amount, lat, lon) VALUES ((SELECT coalesce(max(seq), 0) + 1 FROM events),"
                              " ?, ?, ?, ?, ?, ?, ?, ?, 0, 0)", -1, &st, NULL) != SQLITE_OK)
        return ft_region_data_sql_fail (r->db, error, "logging the erasure");
      sqlite3_bind_int64 (st, 1, ev->t);
      sqlite3_bind_int64 (st, 2, ev->kind);
      sqlite3_bind_int64 (st, 3, ev->vehicle);
      sqlite3_bind_int64 (st, 4, ev->account);
      sqlite3_bind_int64 (st, 5, ev->ref);
      sqlite3_bind_int64 (st, 6, ev->a);
      sqlite3_bind_int64 (st, 7, ev->b);
      sqlite3_bind_int64 (st, 8, ev->amount);
      rc = sqlite3_step (st);
      sqlite3_finalize (st);
      if (rc != SQLITE_DONE)
        return ft_region_data_sql_fail (r->db, error, "logging the erasure");
    }

  if (sqlite3_prepare_v2 (r->db, "SELECT count(*) FROM bookings WHERE rider = ? AND state = 3",
                          -1, &st, NULL) != SQLITE_OK)
    return ft_region_data_sql_fail (r->db, error, "counting the rider's trips");
  sqlite3_bind_int64 (st, 1, r->rider);
  if (sqlite3_step (st) == SQLITE_ROW)
    trips = sqlite3_column_int64 (st, 0);
  sqlite3_finalize (st);
  res->trips = (guint) trips;
  res->account = r->rider;
  res->actor = r->actor;
  res->t = req->now;
  res->cell_m = cell_m;
  g_strlcpy (res->pseudonym, acc->pseudonym, sizeof res->pseudonym);
  detail = g_strdup_printf ("{\"pseudonym\":\"%s\",\"cell_m\":%g,\"bookings_coarsened\":%" G_GINT64_FORMAT
                            ",\"events_coarsened\":%" G_GINT64_FORMAT ",\"handoffs_cleared\":%" G_GINT64_FORMAT
                            ",\"pending_removed\":%" G_GINT64_FORMAT ",\"photos_cleared\":%" G_GINT64_FORMAT
                            ",\"trips\":%u}", res->pseudonym, cell_m, res->bookings_coarsened,
                            res->events_coarsened, res->handoffs_cleared, res->pending_removed,
                            res->photos_cleared, res->trips);
  return audit (r, req->now, "erase", detail, error);
}

gboolean
ft_rights_erase (const FtRightsRequest *req, FtErasureResult *out, GError **error)
{
  Rights r;
  FtErasureResult res;
  double cell_m;
  gint64 freelist = 0;
  g_autoptr(GError) e = NULL;
  gboolean ok;

  g_return_val_if_fail (req != NULL, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);
  memset (&res, 0, sizeof res);
  cell_m = req->coarsen_m > 0 ? req->coarsen_m : FT_REGION_DEFAULT_CELL_M;
  if (cell_m < FT_REGION_MIN_CELL_M || cell_m > FT_REGION_MAX_CELL_M)
    {
      g_set_error (error, FT_REGION_DATA_ERROR, FT_REGION_DATA_ERROR_INPUT,
                   "coarsening grid %g m is outside %g .. %g m", cell_m,
                   FT_REGION_MIN_CELL_M, FT_REGION_MAX_CELL_M);
      return FALSE;
    }
  if (!rights_open (&r, req, error) || !may (&r, TRUE, req->store, error))
    {
      rights_clear (&r);
      return FALSE;
    }
  /* The accounts module decides (self or FT_PERM_ERASE, not erased yet)
   * and makes the pseudonym and the event; this file writes them. */
  if (!ft_accounts_erase (r.accounts, r.rider, r.actor, req->now, &e))
    {
      g_set_error (error, FT_REGION_DATA_ERROR,
                   e->code == FT_ACCOUNTS_ERROR_PERMISSION ? FT_REGION_DATA_ERROR_PERMISSION
                                                           : FT_REGION_DATA_ERROR_INPUT,
                   "%s: %s", req->store, e->message);
      rights_clear (&r);
      return FALSE;
    }
  ok = ft_region_data_register_functions (r.db, error) &&
       ft_region_data_exec (r.db, "PRAGMA secure_delete = ON", error) &&
       ft_region_data_exec (r.db, "BEGIN IMMEDIATE", error);
  if (ok)
    {
      ok = write_erasure (&r, req, cell_m, &res, error) && ft_region_data_exec (r.db, "COMMIT", error);
      if (!ok)
        ft_region_data_exec (r.db, "ROLLBACK", NULL);
    }
  /* Old copies: free pages written before secure_delete was on may hold
   * them, and the WAL holds the pages until a checkpoint. The erasure is
   * committed by now, so a failure here is a warning, not a refusal. */
  if (ok)
    {
      g_autoptr(GError) ve = NULL;
      sqlite3_stmt *st = NULL;

      if (sqlite3_prepare_v2 (r.db, "PRAGMA freelist_count", -1, &st, NULL) == SQLITE_OK &&
          sqlite3_step (st) == SQLITE_ROW)
        freelist = sqlite3_column_int64 (st, 0);
      sqlite3_finalize (st);
      if ((freelist > 0 && !ft_region_data_exec (r.db, "VACUUM", &ve)) ||
          !ft_region_data_exec (r.db, "PRAGMA wal_checkpoint(TRUNCATE)", &ve))
        g_warning ("%s: the erasure is committed, but old pages may still hold the erased "
                   "data until the file is vacuumed: %s", req->store, ve->message);
    }
  rights_clear (&r);
  if (ok && out)
    *out = res;
  return ok;
}

void
ft_rights_erase_in_memory (FtAccounts *accounts, FtBooking *booking, FtEventLog *log,
                           const FtErasureResult *res)
{
  FtEvent ev;
  const FtAccount *acc;
  FtAccount copy;
  guint n, id;

  g_return_if_fail (accounts != NULL && res != NULL);
  acc = ft_accounts_get (accounts, res->account);
  g_return_if_fail (acc != NULL);
  copy = *acc;
  copy.display_name = NULL;
  copy.email = NULL;
  copy.erased = TRUE;
  g_strlcpy (copy.pseudonym, res->pseudonym, sizeof copy.pseudonym);
  ft_accounts_restore (accounts, &copy);
  /* as ft_accounts_erase logs it */
  ev = ft_event_init (FT_EV_ACCOUNT_ERASED, res->t);
  ev.account = (gint32) res->account;
  ev.a = res->actor == res->account ? 0 : 1;
  ev.b = res->actor;
  ft_event_log_append (log, &ev);
  /* a run that keeps only open bookings (summary records) keeps no
   * database to erase from, and nothing to restore into */
  if (booking == NULL || ft_booking_get_release (booking))
    return;
  n = ft_booking_n (booking);
  for (id = 0; id <= n; id++)
    {
      const FtBookingRec *b = ft_booking_get (booking, id);
      FtBookingRec rec;

      if (b == NULL || b->rider != res->account)
        continue;
      rec = *b;
      rec.start = ft_region_coarsen (rec.start, res->cell_m);
      rec.end = ft_region_coarsen (rec.end, res->cell_m);
      ft_booking_restore (booking, &rec);
    }
}
