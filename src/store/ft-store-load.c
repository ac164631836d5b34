/* ft-store-load.c — loading a store into empty modules: every entity
 * row checked (dense indices, known enums, consistent references), derived
 * values recomputed from what they derive from, and every module's
 * invariants checked before the caller sees anything.
 */
#include "ft-store-private.h"

#include <errno.h>
#include <glib/gstdio.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "ft-config.h"

/* ------------------------------------------------------------ loading */

static gboolean
corrupt (FtStore *s, GError **error, const char *fmt, ...) G_GNUC_PRINTF (3, 4);

static gboolean
corrupt (FtStore *s, GError **error, const char *fmt, ...)
{
  va_list ap;
  g_autofree char *msg = NULL;

  va_start (ap, fmt);
  msg = g_strdup_vprintf (fmt, ap);
  va_end (ap);
  g_set_error (error, FT_STORE_ERROR, FT_STORE_ERROR_CORRUPT, "%s: %s", s->path, msg);
  return FALSE;
}

static void
copy_text (char *dst, gsize size, const unsigned char *src)
{
  g_strlcpy (dst, src ? (const char *) src : "", size);
}

/* Runs a prepared SELECT row by row; the callback returns FALSE to stop
 * with an error already set. */
typedef gboolean (*RowFunc) (FtStore *s, const FtStoreTargets *t, sqlite3_stmt *st,
                             gpointer data, GError **error);

static gboolean
for_each_row (FtStore *s, const FtStoreTargets *t, const char *sql, RowFunc fn,
              gpointer data, GError **error)
{
  sqlite3_stmt *st = NULL;
  int rc;

  if (sqlite3_prepare_v2 (s->db, sql, -1, &st, NULL) != SQLITE_OK)
    return ft_store_sql_fail (s, error, "preparing to load");
  while ((rc = sqlite3_step (st)) == SQLITE_ROW)
    if (!fn (s, t, st, data, error))
      {
        sqlite3_finalize (st);
        return FALSE;
      }
  if (rc != SQLITE_DONE)
    {
      ft_store_sql_fail (s, error, "loading");
      sqlite3_finalize (st);
      return FALSE;
    }
  sqlite3_finalize (st);
  return TRUE;
}

static gboolean
dense_index (FtStore *s, const char *what, gint64 got, guint want, GError **error)
{
  if (got != (gint64) want)
    return corrupt (s, error, "%s rows are not dense: found index %" G_GINT64_FORMAT
                    " where %u was expected", what, got, want);
  return TRUE;
}

static gboolean
load_vehicle (FtStore *s, const FtStoreTargets *t, sqlite3_stmt *st, gpointer data, GError **error)
{
  FtVehicle v;

  memset (&v, 0, sizeof v);
  if (!dense_index (s, "vehicle", sqlite3_column_int64 (st, 0), ft_fleet_n_vehicles (t->fleet), error))
    return FALSE;
  v.index = (guint32) sqlite3_column_int64 (st, 0);
  copy_text (v.device_id, sizeof v.device_id, sqlite3_column_text (st, 1));
  copy_text (v.name, sizeof v.name, sqlite3_column_text (st, 2));
  v.kind = sqlite3_column_int (st, 3);
  if (sqlite3_column_type (st, 4) == SQLITE_NULL)
    return corrupt (s, error, "vehicle %u (%s) has no row in vehicle_state", v.index, v.name);
  v.state = sqlite3_column_int (st, 4);
  v.last_event = sqlite3_column_int (st, 5);
  v.state_since = sqlite3_column_int64 (st, 6);
  v.pos.lat = sqlite3_column_double (st, 7);
  v.pos.lon = sqlite3_column_double (st, 8);
  v.pack = sqlite3_column_int (st, 9);
  v.booking = sqlite3_column_int64 (st, 10);
  v.odometer_m = sqlite3_column_double (st, 11);
  v.wear = sqlite3_column_double (st, 12);
  v.fault_codes = (guint32) sqlite3_column_int64 (st, 13);
  v.last_seen = sqlite3_column_int64 (st, 14);
  v.resume_state = sqlite3_column_int (st, 15);
  if ((guint) v.kind >= FT_N_KINDS || (guint) v.state >= FT_N_STATES ||
      (guint) v.last_event >= FT_N_VEVS || (guint) v.resume_state >= FT_N_STATES)
    return corrupt (s, error, "vehicle %u (%s) has kind %d, state %d, event %d out of range",
                    v.index, v.name, v.kind, v.state, v.last_event);
  ft_fleet_restore_vehicle (t->fleet, &v);
  return TRUE;
}

static gboolean
load_pack (FtStore *s, const FtStoreTargets *t, sqlite3_stmt *st, gpointer data, GError **error)
{
  FtPack p;

  memset (&p, 0, sizeof p);
  if (!dense_index (s, "pack", sqlite3_column_int64 (st, 0), ft_fleet_n_packs (t->fleet), error))
    return FALSE;
  p.index = (guint32) sqlite3_column_int64 (st, 0);
  copy_text (p.id, sizeof p.id, sqlite3_column_text (st, 1));
  p.capacity_wh = sqlite3_column_double (st, 2);
  p.soc = sqlite3_column_double (st, 3);
  p.health = sqlite3_column_double (st, 4);
  p.cycles = (guint32) sqlite3_column_int64 (st, 5);
  p.throughput_wh = sqlite3_column_double (st, 6);
  p.place = sqlite3_column_int (st, 7);
  p.holder = sqlite3_column_int (st, 8);
  if ((guint) p.place >= FT_N_PACK_PLACES)
    return corrupt (s, error, "pack %u (%s) has place %d out of range", p.index, p.id, p.place);
  ft_fleet_restore_pack (t->fleet, &p);
  ft_store_shadow_set (s, p.index, &p);
  return TRUE;
}

static gboolean
load_account (FtStore *s, const FtStoreTargets *t, sqlite3_stmt *st, gpointer data, GError **error)
{
  FtAccount a;

  memset (&a, 0, sizeof a);
  if (!dense_index (s, "account", sqlite3_column_int64 (st, 0), ft_accounts_n (t->accounts), error))
    return FALSE;
  a.index = (guint32) sqlite3_column_int64 (st, 0);
  copy_text (a.id, sizeof a.id, sqlite3_column_text (st, 1));
  a.roles = (guint32) sqlite3_column_int64 (st, 2);
  a.display_name = (char *) sqlite3_column_text (st, 3);   /* restore copies */
  a.email = (char *) sqlite3_column_text (st, 4);
  copy_text (a.pseudonym, sizeof a.pseudonym, sqlite3_column_text (st, 5));
  a.erased = sqlite3_column_int (st, 6) != 0;
  a.created = sqlite3_column_int64 (st, 7);
  if (s->version >= DERIVED_VERSION)
    {
      const GArray *trips = data;   /* ended bookings per rider */
      a.trips = a.index < trips->len ? g_array_index (trips, guint32, a.index) : 0;
    }
  else if (sqlite3_column_type (st, 8) == SQLITE_NULL)
    return corrupt (s, error, "account %u has no row in account_trips", a.index);
  else
    a.trips = (guint32) sqlite3_column_int64 (st, 8);
  ft_accounts_restore (t->accounts, &a);
  return TRUE;
}

static gboolean
load_lacc (FtStore *s, const FtStoreTargets *t, sqlite3_stmt *st, gpointer data, GError **error)
{
  FtLedgerAccount a;
  gint64 balance;

  memset (&a, 0, sizeof a);
  if (!dense_index (s, "ledger account", sqlite3_column_int64 (st, 0),
                    ft_ledger_n_accounts (t->ledger), error))
    return FALSE;
  a.index = (guint32) sqlite3_column_int64 (st, 0);
  copy_text (a.code, sizeof a.code, sqlite3_column_text (st, 1));
  a.type = sqlite3_column_int (st, 2);
  if (sqlite3_column_type (st, 3) == SQLITE_NULL)
    return corrupt (s, error, "ledger account %u (%s) has no row in ledger_balances", a.index, a.code);
  balance = sqlite3_column_int64 (st, 3);
  a.owner = sqlite3_column_int (st, 4);
  if ((guint) a.type > FT_LACC_EXPENSE)
    return corrupt (s, error, "ledger account %u (%s) has type %d out of range",
                    a.index, a.code, a.type);
  ft_ledger_restore_account (t->ledger, &a, balance);
  return TRUE;
}

typedef struct {
  sqlite3_stmt *postings;   /* cursor over the postings table in idx order */
  gboolean      has_row;
  guint         n_inline;   /* postings kept in the ledger_tx row */
  GArray       *buf;        /* FtPosting */
} TxLoad;

static gboolean
load_tx (FtStore *s, const FtStoreTargets *t, sqlite3_stmt *st, gpointer data, GError **error)
{
  TxLoad *tl = data;
  FtLedgerTx tx;
  gint64 id;
  guint j;
  GError *local = NULL;

  memset (&tx, 0, sizeof tx);
  id = sqlite3_column_int64 (st, 0);
  tx.kind = sqlite3_column_int (st, 1);
  tx.t = sqlite3_column_int64 (st, 2);
  tx.user_account = sqlite3_column_int (st, 3);
  tx.first_posting = (guint32) sqlite3_column_int64 (st, 4);
  tx.n_postings = (guint32) sqlite3_column_int64 (st, 5);
  tx.amount = sqlite3_column_int64 (st, 6);
  tx.ref = sqlite3_column_int64 (st, 7);
  tx.idem_hash = (guint64) sqlite3_column_int64 (st, 8);
  tx.args_hash = (guint64) sqlite3_column_int64 (st, 9);

  g_array_set_size (tl->buf, 0);
  for (j = 0; j < tx.n_postings; j++)
    {
      FtPosting p;

      if (j < tl->n_inline)
        {
          int col = 10 + 2 * (int) j;

          if (sqlite3_column_type (st, col) == SQLITE_NULL ||
              sqlite3_column_type (st, col + 1) == SQLITE_NULL)
            return corrupt (s, error, "ledger transaction %" G_GINT64_FORMAT " should have %u "
                            "postings but its row lacks posting %u", id, tx.n_postings, j);
          p.ledger_account = sqlite3_column_int (st, col);
          p.amount = sqlite3_column_int64 (st, col + 1);
          g_array_append_val (tl->buf, p);
          continue;
        }
      if (!tl->has_row || sqlite3_column_int64 (tl->postings, 1) != id ||
          sqlite3_column_int64 (tl->postings, 0) != (gint64) tx.first_posting + j)
        return corrupt (s, error, "ledger transaction %" G_GINT64_FORMAT " should have %u "
                        "postings from %u but the postings table lacks some",
                        id, tx.n_postings, tx.first_posting);
      p.ledger_account = sqlite3_column_int (tl->postings, 2);
      p.amount = sqlite3_column_int64 (tl->postings, 3);
      g_array_append_val (tl->buf, p);
      int rc = sqlite3_step (tl->postings);
      tl->has_row = rc == SQLITE_ROW;
      if (rc != SQLITE_ROW && rc != SQLITE_DONE)
        return ft_store_sql_fail (s, error, "loading postings");
    }
  if (!ft_ledger_restore_tx (t->ledger, id, &tx, (const FtPosting *) tl->buf->data, &local))
    {
      corrupt (s, error, "%s", local->message);
      g_error_free (local);
      return FALSE;
    }
  return TRUE;
}

static gboolean
load_booking (FtStore *s, const FtStoreTargets *t, sqlite3_stmt *st, gpointer data, GError **error)
{
  FtBookingRec r;
  char trip_id[37];

  memset (&r, 0, sizeof r);
  r.id = sqlite3_column_int64 (st, 0);
  r.rider = (guint32) sqlite3_column_int64 (st, 1);
  r.vehicle = (guint32) sqlite3_column_int64 (st, 2);
  r.state = sqlite3_column_int (st, 3);
  r.reserved_at = sqlite3_column_int64 (st, 4);
  r.hold_until = sqlite3_column_int64 (st, 5);
  r.unlocked_at = sqlite3_column_int64 (st, 6);
  r.ended_at = sqlite3_column_int64 (st, 7);
  r.paused_ms = sqlite3_column_int64 (st, 8);
  r.paused_since = sqlite3_column_int64 (st, 9);
  r.start.lat = sqlite3_column_double (st, 10);
  r.start.lon = sqlite3_column_double (st, 11);
  r.end.lat = sqlite3_column_double (st, 12);
  r.end.lon = sqlite3_column_double (st, 13);
  r.distance_m = sqlite3_column_double (st, 14);
  r.price_minor = sqlite3_column_int64 (st, 15);
  r.hold_tx = sqlite3_column_int64 (st, 16);
  r.capture_tx = sqlite3_column_int64 (st, 17);
  copy_text (trip_id, sizeof trip_id, sqlite3_column_text (st, 18));
  if (s->version >= SHOWN_PRICE_VERSION)
    {
      r.shown_zone_mult = sqlite3_column_double (st, 19);
      r.shown_dyn_mult = sqlite3_column_double (st, 20);
      if (!isfinite (r.shown_zone_mult) || !isfinite (r.shown_dyn_mult) || r.shown_zone_mult < 0
          || r.shown_dyn_mult < 0 || r.shown_zone_mult > 100 || r.shown_dyn_mult > 100)
        return corrupt (s, error, "booking %" G_GINT64_FORMAT " has shown multipliers %g x %g out of range",
                        r.id, r.shown_zone_mult, r.shown_dyn_mult);
    }
  if ((guint) r.state >= FT_N_BK_STATES)
    return corrupt (s, error, "booking %" G_GINT64_FORMAT " has state %d out of range",
                    r.id, r.state);
  if (t->fleet && r.vehicle >= ft_fleet_n_vehicles (t->fleet))
    return corrupt (s, error, "booking %" G_GINT64_FORMAT " names vehicle %u but there are %u",
                    r.id, r.vehicle, ft_fleet_n_vehicles (t->fleet));
  if (t->accounts && r.rider >= ft_accounts_n (t->accounts))
    return corrupt (s, error, "booking %" G_GINT64_FORMAT " names account %u but there are %u",
                    r.id, r.rider, ft_accounts_n (t->accounts));
  ft_booking_restore (t->booking, &r);
  ft_booking_restore_trip_id (t->booking, r.id, trip_id);
  return TRUE;
}

static gboolean
load_task (FtStore *s, const FtStoreTargets *t, sqlite3_stmt *st, gpointer data, GError **error)
{
  FtTask k;
  GError *local = NULL;

  memset (&k, 0, sizeof k);
  k.id = sqlite3_column_int64 (st, 0);
  k.kind = sqlite3_column_int (st, 1);
  k.state = sqlite3_column_int (st, 2);
  k.priority = sqlite3_column_int (st, 3);
  k.vehicle = sqlite3_column_int (st, 4);
  k.staff = sqlite3_column_int (st, 5);
  k.created_by = sqlite3_column_int (st, 6);
  k.target_zone = sqlite3_column_int (st, 7);
  k.target.lat = sqlite3_column_double (st, 8);
  k.target.lon = sqlite3_column_double (st, 9);
  k.created = sqlite3_column_int64 (st, 10);
  k.assigned_at = sqlite3_column_int64 (st, 11);
  k.started_at = sqlite3_column_int64 (st, 12);
  k.finished_at = sqlite3_column_int64 (st, 13);
  k.approved_by = -1;
  k.approved_at = -1;
  if (s->version >= TASK_APPROVAL_VERSION)
    {
      k.approval = sqlite3_column_int (st, 14);
      k.approved_by = sqlite3_column_int (st, 15);
      k.approved_at = sqlite3_column_int64 (st, 16);
    }
  if (k.staff >= 0 && t->accounts && (guint) k.staff >= ft_accounts_n (t->accounts))
    return corrupt (s, error, "task %" G_GINT64_FORMAT " names staff account %d but there are %u",
                    k.id, k.staff, ft_accounts_n (t->accounts));
  if (!ft_ops_restore (t->ops, &k, &local))
    {
      corrupt (s, error, "%s", local->message);
      g_error_free (local);
      return FALSE;
    }
  return TRUE;
}

/* Trip counts from schema 4 on: ended bookings per rider, read from
 * migration 4's account_trips view (the one place that says what a trip
 * is), into trips[rider] (the array grows to the highest rider named). */
static gboolean
count_trips (FtStore *s, GArray *trips, GError **error)
{
  sqlite3_stmt *st = NULL;
  int rc;

  G_STATIC_ASSERT (FT_BK_ENDED == 3);   /* the view counts state 3 */
  if (sqlite3_prepare_v2 (s->db, "SELECT idx, trips FROM account_trips", -1, &st, NULL) != SQLITE_OK)
    return ft_store_sql_fail (s, error, "counting trips");
  while ((rc = sqlite3_step (st)) == SQLITE_ROW)
    {
      gint64 rider = sqlite3_column_int64 (st, 0), n = sqlite3_column_int64 (st, 1);

      if (rider < 0 || rider >= G_MAXINT32)
        {
          sqlite3_finalize (st);
          return corrupt (s, error, "%" G_GINT64_FORMAT " ended bookings name rider %" G_GINT64_FORMAT,
                          n, rider);
        }
      if ((guint) rider >= trips->len)
        g_array_set_size (trips, (guint) rider + 1);
      g_array_index (trips, guint32, rider) = (guint32) MIN (n, G_MAXUINT32);
    }
  sqlite3_finalize (st);
  if (rc != SQLITE_DONE)
    return ft_store_sql_fail (s, error, "counting trips");
  return TRUE;
}

/* Every hot row belongs to a loaded entity (the joins above found the
 * missing ones; this finds the orphans). */
static gboolean
hot_rows_match (FtStore *s, const FtStoreTargets *t, GError **error)
{
  static const struct { const char *table, *sql; } hot[] = {
    { "vehicle_state", "SELECT count(*) FROM vehicle_state" },
    { "account_trips", "SELECT count(*) FROM account_trips" },
    { "ledger_balances", "SELECT count(*) FROM ledger_balances" },
  };
  guint loaded[3];
  guint i;

  loaded[0] = t->fleet ? ft_fleet_n_vehicles (t->fleet) : 0;
  loaded[1] = t->accounts ? ft_accounts_n (t->accounts) : 0;
  loaded[2] = t->ledger ? ft_ledger_n_accounts (t->ledger) : 0;
  for (i = 0; i < G_N_ELEMENTS (hot); i++)
    {
      gint64 n = 0;

      if ((i == 0 && !t->fleet) || (i == 1 && !t->accounts) || (i == 2 && !t->ledger))
        continue;
      if (i > 0 && s->version >= DERIVED_VERSION)
        break;   /* views from schema 4 on, not stored rows */
      if (!ft_store_query_int64 (s, hot[i].sql, &n, error))
        return FALSE;
      if (n != (gint64) loaded[i])
        return corrupt (s, error, "%s has %" G_GINT64_FORMAT " rows for %u entities",
                        hot[i].table, n, loaded[i]);
    }
  return TRUE;
}

/* `local` is passed by address and read here, after the checker ran: an
 * argument read beside the call could be read before it. */
static gboolean
check_invariant (FtStore *s, gboolean ok, GError **local, const char *what, GError **error)
{
  if (ok)
    return TRUE;
  g_set_error (error, FT_STORE_ERROR, FT_STORE_ERROR_CORRUPT,
               "%s: the loaded %s fail their invariants: %s", s->path, what,
               *local ? (*local)->message : "(no reason given)");
  g_clear_error (local);
  return FALSE;
}

gboolean
ft_store_load (FtStore *s, const FtStoreTargets *t, GError **error)
{
  GError *local = NULL;
  gboolean derived = s->version >= DERIVED_VERSION;
  guint i;

  g_return_val_if_fail (s != NULL, FALSE);
  g_return_val_if_fail (t != NULL, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);
  g_return_val_if_fail (!t->fleet || (ft_fleet_n_vehicles (t->fleet) == 0 &&
                                      ft_fleet_n_packs (t->fleet) == 0), FALSE);
  g_return_val_if_fail (!t->accounts || ft_accounts_n (t->accounts) == 0, FALSE);
  g_return_val_if_fail (!t->ledger || ft_ledger_n_tx (t->ledger) == 0, FALSE);
  g_return_val_if_fail (!t->booking || ft_booking_n (t->booking) == 0, FALSE);
  g_return_val_if_fail (!t->booking || (t->fleet && t->accounts), FALSE);
  g_return_val_if_fail (!t->ops || (ft_ops_n (t->ops) == 0 && t->fleet && t->accounts), FALSE);

  if (t->fleet)
    {
      g_autofree char *holders = ft_store_dup_meta (s, FLEET_HOLDERS_KEY);
      guint nv = 0, nd = 0;

      if (holders && sscanf (holders, "%u %u", &nv, &nd) != 2)
        return corrupt (s, error, "meta %s is '%s', expected two counts", FLEET_HOLDERS_KEY, holders);
      if (nv || nd)
        ft_fleet_set_holders (t->fleet, nv, nd);
    }
  if (t->fleet &&
      (!for_each_row (s, t, "SELECT idx,device_id,name,kind,state,last_event,state_since,lat,lon,"
                      "pack,booking,odometer_m,wear,fault_codes,last_seen,resume_state"
                      " FROM vehicles LEFT JOIN vehicle_state USING (idx) ORDER BY idx",
                      load_vehicle, NULL, error) ||
       !for_each_row (s, t, "SELECT idx,id,capacity_wh,soc,health,cycles,throughput_wh,place,holder"
                      " FROM packs ORDER BY idx", load_pack, NULL, error)))
    return FALSE;
  if (t->accounts)
    {
      g_autoptr(GArray) trips = g_array_new (FALSE, TRUE, sizeof (guint32));

      if (derived && !count_trips (s, trips, error))
        return FALSE;
      if (!for_each_row (s, t, derived
                         ? "SELECT idx,id,roles,display_name,email,pseudonym,erased,created"
                           " FROM accounts ORDER BY idx"
                         : "SELECT idx,id,roles,display_name,email,pseudonym,erased,created,trips"
                           " FROM accounts LEFT JOIN account_trips USING (idx) ORDER BY idx",
                         load_account, trips, error))
        return FALSE;
      if (trips->len > ft_accounts_n (t->accounts))
        return corrupt (s, error, "bookings name rider %u but there are %u accounts",
                        trips->len - 1, ft_accounts_n (t->accounts));
    }
  if (t->ledger)
    {
      TxLoad tl;
      gboolean ok;
      int rc;

      /* balances: stored before schema 4, summed from the postings after */
      if (!for_each_row (s, t, derived
                         ? "SELECT idx,code,type,0,owner FROM ledger_accounts ORDER BY idx"
                         : "SELECT idx,code,type,balance,owner FROM ledger_accounts"
                           " LEFT JOIN ledger_balances USING (idx) ORDER BY idx",
                         load_lacc, NULL, error))
        return FALSE;
      memset (&tl, 0, sizeof tl);
      if (sqlite3_prepare_v2 (s->db, "SELECT idx,tx,ledger_account,amount FROM postings ORDER BY idx",
                              -1, &tl.postings, NULL) != SQLITE_OK)
        return ft_store_sql_fail (s, error, "preparing to load postings");
      rc = sqlite3_step (tl.postings);
      tl.has_row = rc == SQLITE_ROW;
      tl.buf = g_array_new (FALSE, FALSE, sizeof (FtPosting));
      ok = (rc == SQLITE_ROW || rc == SQLITE_DONE) ? TRUE : ft_store_sql_fail (s, error, "loading postings");
      tl.n_inline = s->version >= 3 ? INLINE_POSTINGS : 0;
      ok = ok && for_each_row (s, t, s->version >= 3
                               ? "SELECT id,kind,t,user_account,first_posting,n_postings,amount,"
                                 "ref,idem_hash,args_hash,acc0,amt0,acc1,amt1,acc2,amt2,acc3,amt3"
                                 " FROM ledger_tx ORDER BY id"
                               : "SELECT id,kind,t,user_account,first_posting,n_postings,amount,"
                                 "ref,idem_hash,args_hash FROM ledger_tx ORDER BY id",
                               load_tx, &tl, error);
      if (ok && tl.has_row)
        ok = corrupt (s, error, "posting %" G_GINT64_FORMAT " belongs to no loaded transaction",
                      (gint64) sqlite3_column_int64 (tl.postings, 0));
      sqlite3_finalize (tl.postings);
      g_array_unref (tl.buf);
      if (!ok)
        return FALSE;
      if (derived)
        ft_ledger_restore_balances (t->ledger);
      if (t->payments)
        ft_payments_rebuild (t->payments);
    }
  if (t->booking &&
      !for_each_row (s, t, s->version >= SHOWN_PRICE_VERSION
                     ? "SELECT id,rider,vehicle,state,reserved_at,hold_until,unlocked_at,"
                       "ended_at,paused_ms,paused_since,start_lat,start_lon,end_lat,end_lon,"
                       "distance_m,price_minor,hold_tx,capture_tx,trip_id,shown_zone_mult,shown_dyn_mult"
                       " FROM bookings ORDER BY id"
                     : "SELECT id,rider,vehicle,state,reserved_at,hold_until,unlocked_at,"
                       "ended_at,paused_ms,paused_since,start_lat,start_lon,end_lat,end_lon,"
                       "distance_m,price_minor,hold_tx,capture_tx,trip_id FROM bookings ORDER BY id",
                     load_booking, NULL, error))
    return FALSE;

  if (t->ops && s->version >= TASKS_VERSION &&
      !for_each_row (s, t, s->version >= TASK_APPROVAL_VERSION
                     ? "SELECT id,kind,state,priority,vehicle,staff,created_by,target_zone,"
                       "target_lat,target_lon,created,assigned_at,started_at,finished_at,"
                       "approval,approved_by,approved_at FROM tasks ORDER BY id"
                     : "SELECT id,kind,state,priority,vehicle,staff,created_by,target_zone,"
                       "target_lat,target_lon,created,assigned_at,started_at,finished_at"
                       " FROM tasks ORDER BY id", load_task, NULL, error))
    return FALSE;

  /* Restores emit no events; drop any a module emitted anyway, then
   * continue numbering after the last stored event. */
  if (t->log)
    {
      ft_event_log_drain (t->log);
      if (s->last_seq + 1 > ft_event_log_last_seq (t->log) + 1)
        ft_event_log_set_next_seq (t->log, s->last_seq + 1);
    }

  if (!hot_rows_match (s, t, error))
    return FALSE;

  s->saved_vehicles = t->fleet ? ft_fleet_n_vehicles (t->fleet) : 0;
  s->saved_packs = t->fleet ? ft_fleet_n_packs (t->fleet) : 0;
  s->saved_accounts = t->accounts ? ft_accounts_n (t->accounts) : 0;
  s->saved_lacc = t->ledger ? ft_ledger_n_accounts (t->ledger) : 0;
  s->saved_tx = t->ledger ? ft_ledger_n_tx (t->ledger) : 0;
  s->saved_tasks = t->ops && s->version >= TASKS_VERSION ? ft_ops_n (t->ops) : 0;
  s->saved_vans = t->fleet ? ft_fleet_n_vans (t->fleet) : 0;
  s->saved_depots = t->fleet ? ft_fleet_n_depots (t->fleet) : 0;
  s->window_open = FALSE;
  for (i = 0; t->fleet && i < s->saved_packs; i++)
    ft_store_shadow_set (s, i, ft_fleet_get_pack (t->fleet, i));

  if (t->fleet && !check_invariant (s, ft_fleet_check (t->fleet, &local), &local, "vehicles and packs", error))
    return FALSE;
  if (t->accounts && !check_invariant (s, ft_accounts_check (t->accounts, &local), &local, "accounts", error))
    return FALSE;
  if (t->ledger && !check_invariant (s, ft_ledger_check (t->ledger, &local), &local, "ledger", error))
    return FALSE;
  if (t->payments && !check_invariant (s, ft_payments_check (t->payments, &local), &local, "payments", error))
    return FALSE;
  if (t->booking && !check_invariant (s, ft_booking_check (t->booking, &local), &local, "bookings", error))
    return FALSE;
  if (t->ops && !check_invariant (s, ft_ops_check (t->ops, &local), &local, "tasks", error))
    return FALSE;
  return TRUE;
}
