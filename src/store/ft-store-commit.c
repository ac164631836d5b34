/* ft-store-commit.c — group commit: the pending domain events and, in the
 * same transaction, the current state of every entity they touched (each
 * dirty entity once), new ledger transactions and postings, written through
 * multi-row INSERTs in key order with values that repeat left bound.
 */
#include "ft-store-private.h"

#include <errno.h>
#include <glib/gstdio.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "ft-config.h"

/* Rows per statement of the multi-row INSERT forms, largest first. */
static const int tier_rows[N_TIERS] = { 128, 16 };

/* ----------------------------------------------------------- writers */

/* Rows are written through multi-row forms of each INSERT (same SQL with
 * the VALUES group repeated): 128 rows a statement while that many are
 * left, then 16, then one by one. Each binder fills one row's parameters
 * starting at `base` (0-based). */

typedef struct {
  const FtStoreTargets *t;
  const FtEvent        *ev;          /* events */
  const gint64         *ids;         /* dirty entity ids */
  guint                 first_tx;    /* ledger tx rows: ids first_tx + i */
  guint                 n_inline;    /* postings kept in the tx row */
  int                   auto_key;    /* 1: the key is not bound (SQLite numbers the rows) */
  const gint64         *posting_tx;  /* postings table rows: tx id, */
  const guint32        *posting_idx; /* and global index of the posting */
  const FtPosting      *postings;
} RowCtx;

/* A statement and what is bound to each of its parameters now. Rebinding
 * costs SQLite ~75 instructions a value; many values repeat from one
 * execution of a statement to the next (0, -1, NULL), and those are left
 * bound. Only the store binds these statements, and neither step nor
 * reset changes a binding, so the shadow stays true. Text is always
 * bound (pointer-compared values could move). */
typedef struct {
  sqlite3_stmt *st;
  BoundVal     *shadow;
} Binder;

static inline void
b_i64 (Binder *bd, int i, gint64 v)
{
  BoundVal *sv = &bd->shadow[i - 1];

  if (sv->type == 1 && sv->v == v)
    return;
  sv->type = 1;
  sv->v = v;
  sqlite3_bind_int64 (bd->st, i, v);
}

static inline void
b_dbl (Binder *bd, int i, double d)
{
  BoundVal *sv = &bd->shadow[i - 1];
  gint64 bits;

  memcpy (&bits, &d, sizeof bits);
  if (sv->type == 2 && sv->v == bits)
    return;
  sv->type = 2;
  sv->v = bits;
  sqlite3_bind_double (bd->st, i, d);
}

static inline void
b_null (Binder *bd, int i)
{
  BoundVal *sv = &bd->shadow[i - 1];

  if (sv->type == 3)
    return;
  sv->type = 3;
  sqlite3_bind_null (bd->st, i);
}

static inline void
b_text (Binder *bd, int i, const char *text)
{
  bd->shadow[i - 1].type = 0;
  sqlite3_bind_text (bd->st, i, text, -1, SQLITE_STATIC);
}

/* Text made for this row (on the binder's stack): SQLite keeps a copy. */
static inline void
b_text_copy (Binder *bd, int i, const char *text)
{
  bd->shadow[i - 1].type = 0;
  sqlite3_bind_text (bd->st, i, text, -1, SQLITE_TRANSIENT);
}

typedef void (*BindRow) (Binder *bd, int base, const RowCtx *c, gsize i);

static void
bind_event (Binder *bd, int b, const RowCtx *c, gsize i)
{
  const FtEvent *e = &c->ev[i];

  if (c->auto_key)
    b -= 1;
  else
    b_i64 (bd, b + 1, (sqlite3_int64) e->seq);
  b_i64 (bd, b + 2, e->t);
  b_i64 (bd, b + 3, e->kind);
  b_i64 (bd, b + 4, e->vehicle);
  b_i64 (bd, b + 5, e->account);
  b_i64 (bd, b + 6, e->ref);
  b_i64 (bd, b + 7, e->a);
  b_i64 (bd, b + 8, e->b);
  b_i64 (bd, b + 9, e->amount);
  b_dbl (bd, b + 10, e->lat);
  b_dbl (bd, b + 11, e->lon);
}

static void
bind_vehicle (Binder *bd, int b, const RowCtx *c, gsize i)
{
  const FtVehicle *v = ft_fleet_get_vehicle (c->t->fleet, (guint) c->ids[i]);

  b_i64 (bd, b + 1, v->index);
  b_text (bd, b + 2, v->device_id);
  b_text (bd, b + 3, v->name);
  b_i64 (bd, b + 4, v->kind);
}

static void
bind_vehicle_state (Binder *bd, int b, const RowCtx *c, gsize i)
{
  const FtVehicle *v = ft_fleet_get_vehicle (c->t->fleet, (guint) c->ids[i]);

  b_i64 (bd, b + 1, v->index);
  b_i64 (bd, b + 2, v->state);
  b_i64 (bd, b + 3, v->last_event);
  b_i64 (bd, b + 4, v->state_since);
  b_dbl (bd, b + 5, v->pos.lat);
  b_dbl (bd, b + 6, v->pos.lon);
  b_i64 (bd, b + 7, v->pack);
  b_i64 (bd, b + 8, v->booking);
  b_dbl (bd, b + 9, v->odometer_m);
  b_dbl (bd, b + 10, v->wear);
  b_i64 (bd, b + 11, v->fault_codes);
  b_i64 (bd, b + 12, v->last_seen);
  b_i64 (bd, b + 13, v->resume_state);
}

static void
bind_pack (Binder *bd, int b, const RowCtx *c, gsize i)
{
  const FtPack *p = ft_fleet_get_pack (c->t->fleet, (guint) c->ids[i]);

  b_i64 (bd, b + 1, p->index);
  b_text (bd, b + 2, p->id);
  b_dbl (bd, b + 3, p->capacity_wh);
  b_dbl (bd, b + 4, p->soc);
  b_dbl (bd, b + 5, p->health);
  b_i64 (bd, b + 6, p->cycles);
  b_dbl (bd, b + 7, p->throughput_wh);
  b_i64 (bd, b + 8, p->place);
  b_i64 (bd, b + 9, p->holder);
}

static void
bind_account (Binder *bd, int b, const RowCtx *c, gsize i)
{
  const FtAccount *a = ft_accounts_get (c->t->accounts, (guint) c->ids[i]);

  b_i64 (bd, b + 1, a->index);
  b_text (bd, b + 2, a->id);
  b_i64 (bd, b + 3, a->roles);
  if (a->display_name)
    b_text (bd, b + 4, a->display_name);
  else
    b_null (bd, b + 4);
  if (a->email)
    b_text (bd, b + 5, a->email);
  else
    b_null (bd, b + 5);
  b_text (bd, b + 6, a->pseudonym);
  b_i64 (bd, b + 7, a->erased ? 1 : 0);
  b_i64 (bd, b + 8, a->created);
}

static void
bind_trips (Binder *bd, int b, const RowCtx *c, gsize i)
{
  const FtAccount *a = ft_accounts_get (c->t->accounts, (guint) c->ids[i]);

  b_i64 (bd, b + 1, a->index);
  b_i64 (bd, b + 2, a->trips);
}

static void
bind_lacc (Binder *bd, int b, const RowCtx *c, gsize i)
{
  const FtLedgerAccount *a = ft_ledger_get_account (c->t->ledger, (guint) c->ids[i]);

  b_i64 (bd, b + 1, a->index);
  b_text (bd, b + 2, a->code);
  b_i64 (bd, b + 3, a->type);
  b_i64 (bd, b + 4, a->owner);
}

static void
bind_balance (Binder *bd, int b, const RowCtx *c, gsize i)
{
  const FtLedgerAccount *a = ft_ledger_get_account (c->t->ledger, (guint) c->ids[i]);

  b_i64 (bd, b + 1, a->index);
  b_i64 (bd, b + 2, ft_ledger_balance (c->t->ledger, a->index));
}

static void
bind_tx (Binder *bd, int b, const RowCtx *c, gsize i)
{
  const FtLedgerTx *tx = ft_ledger_get_tx (c->t->ledger, c->first_tx + (guint) i);

  if (c->auto_key)
    b -= 1;
  else
    b_i64 (bd, b + 1, (gint64) c->first_tx + (gint64) i);
  b_i64 (bd, b + 2, tx->kind);
  b_i64 (bd, b + 3, tx->t);
  b_i64 (bd, b + 4, tx->user_account);
  b_i64 (bd, b + 5, tx->first_posting);
  b_i64 (bd, b + 6, tx->n_postings);
  b_i64 (bd, b + 7, tx->amount);
  b_i64 (bd, b + 8, tx->ref);
  b_i64 (bd, b + 9, (sqlite3_int64) tx->idem_hash);
  b_i64 (bd, b + 10, (sqlite3_int64) tx->args_hash);
  if (c->n_inline > 0)
    {
      const FtPosting *ps = &c->postings[tx->first_posting];
      guint k;

      for (k = 0; k < INLINE_POSTINGS; k++)
        if (k < tx->n_postings)
          {
            b_i64 (bd, b + 11 + 2 * (int) k, ps[k].ledger_account);
            b_i64 (bd, b + 12 + 2 * (int) k, ps[k].amount);
          }
        else
          {
            b_null (bd, b + 11 + 2 * (int) k);
            b_null (bd, b + 12 + 2 * (int) k);
          }
    }
}

static void
bind_posting (Binder *bd, int b, const RowCtx *c, gsize i)
{
  guint idx = c->posting_idx[i];
  const FtPosting *p = &c->postings[idx];

  b_i64 (bd, b + 1, idx);
  b_i64 (bd, b + 2, c->posting_tx[i]);
  b_i64 (bd, b + 3, p->ledger_account);
  b_i64 (bd, b + 4, p->amount);
}

static void
bind_booking (Binder *bd, int b, const RowCtx *c, gsize i)
{
  const FtBookingRec *r = ft_booking_get (c->t->booking, c->ids[i]);

  b_i64 (bd, b + 1, r->id);
  b_i64 (bd, b + 2, r->rider);
  b_i64 (bd, b + 3, r->vehicle);
  b_i64 (bd, b + 4, r->state);
  b_i64 (bd, b + 5, r->reserved_at);
  b_i64 (bd, b + 6, r->hold_until);
  b_i64 (bd, b + 7, r->unlocked_at);
  b_i64 (bd, b + 8, r->ended_at);
  b_i64 (bd, b + 9, r->paused_ms);
  b_i64 (bd, b + 10, r->paused_since);
  b_dbl (bd, b + 11, r->start.lat);
  b_dbl (bd, b + 12, r->start.lon);
  b_dbl (bd, b + 13, r->end.lat);
  b_dbl (bd, b + 14, r->end.lon);
  b_dbl (bd, b + 15, r->distance_m);
  b_i64 (bd, b + 16, r->price_minor);
  b_i64 (bd, b + 17, r->hold_tx);
  b_i64 (bd, b + 18, r->capture_tx);
  char trip_id[37];
  ft_booking_trip_id (c->t->booking, c->ids[i], trip_id);
  b_text_copy (bd, b + 19, trip_id);
}

static void
bind_booking_v6 (Binder *bd, int b, const RowCtx *c, gsize i)
{
  const FtBookingRec *r = ft_booking_get (c->t->booking, c->ids[i]);

  bind_booking (bd, b, c, i);
  b_dbl (bd, b + 20, r->shown_zone_mult);
  b_dbl (bd, b + 21, r->shown_dyn_mult);
}

static void
bind_task (Binder *bd, int b, const RowCtx *c, gsize i)
{
  const FtTask *k = ft_ops_get (c->t->ops, c->ids[i]);

  b_i64 (bd, b + 1, k->id);
  b_i64 (bd, b + 2, k->kind);
  b_i64 (bd, b + 3, k->state);
  b_i64 (bd, b + 4, k->priority);
  b_i64 (bd, b + 5, k->vehicle);
  b_i64 (bd, b + 6, k->staff);
  b_i64 (bd, b + 7, k->created_by);
  b_i64 (bd, b + 8, k->target_zone);
  b_dbl (bd, b + 9, k->target.lat);
  b_dbl (bd, b + 10, k->target.lon);
  b_i64 (bd, b + 11, k->created);
  b_i64 (bd, b + 12, k->assigned_at);
  b_i64 (bd, b + 13, k->started_at);
  b_i64 (bd, b + 14, k->finished_at);
}

static void
bind_task_v13 (Binder *bd, int b, const RowCtx *c, gsize i)
{
  const FtTask *k = ft_ops_get (c->t->ops, c->ids[i]);

  bind_task (bd, b, c, i);
  b_i64 (bd, b + 15, k->approval);
  b_i64 (bd, b + 16, k->approved_by);
  b_i64 (bd, b + 17, k->approved_at);
}

int
ft_store_tier_rows (int tier)
{
  g_assert (tier >= 0 && tier < N_TIERS);
  return tier_rows[tier];
}

/* The multi-row form of an INSERT statement, prepared once and cached.
 * Its SQL comes from the constant one-row SQL, never from data. */
sqlite3_stmt *
ft_store_get_stmt_many (FtStore *s, int tier, StmtId id, GError **error)
{
  if (G_UNLIKELY (s->st_many[tier][id] == NULL))
    {
      const char *sql = ft_store_stmt_sql[id];
      const char *group = strstr (sql, " VALUES (");
      g_autoptr(GString) many = NULL;
      int rc, r;

      g_assert (group != NULL);
      group += strlen (" VALUES ");
      many = g_string_new (sql);
      for (r = 1; r < tier_rows[tier]; r++)
        {
          g_string_append_c (many, ',');
          g_string_append (many, group);
        }
      rc = sqlite3_prepare_v3 (s->db, many->str, -1, SQLITE_PREPARE_PERSISTENT,
                               &s->st_many[tier][id], NULL);
      if (rc != SQLITE_OK)
        {
          s->st_many[tier][id] = NULL;
          ft_store_sql_fail (s, error, "preparing a statement");
          return NULL;
        }
      s->shadow_many[tier][id] = g_new0 (BoundVal, (gsize) sqlite3_bind_parameter_count (s->st_many[tier][id]) + 1);
    }
  return s->st_many[tier][id];
}

/* Writes n rows with `bind`, the most rows per statement first. */
static gboolean
write_rows (FtStore *s, StmtId id, int n_cols, gsize n, BindRow bind, const RowCtx *c,
            GError **error, const char *what)
{
  gsize i = 0;
  Binder bd;
  int r, k;

  for (k = 0; k < N_TIERS; k++)
    {
      gsize rows = (gsize) tier_rows[k];

      if (n - i < rows)
        continue;
      if (!(bd.st = ft_store_get_stmt_many (s, k, id, error)))
        return FALSE;
      bd.shadow = s->shadow_many[k][id];
      for (; i + rows <= n; i += rows)
        {
          for (r = 0; r < (int) rows; r++)
            bind (&bd, r * n_cols, c, i + (gsize) r);
          if (!ft_store_step_done (s, bd.st, error, what))
            return FALSE;
        }
    }
  if (i < n)
    {
      if (!(bd.st = ft_store_get_stmt (s, id, error)))
        return FALSE;
      bd.shadow = s->shadow[id];
      for (; i < n; i++)
        {
          bind (&bd, 0, c, i);
          if (!ft_store_step_done (s, bd.st, error, what))
            return FALSE;
        }
    }
  return TRUE;
}

/* Appends n rows whose keys are first_key, first_key + 1, ... to a table
 * whose rows all have smaller keys. When first_key > 0 the keys are left
 * to SQLite (auto_id statement, row key = max + 1), which takes its append
 * path instead of a b-tree search per row; the last key it gave must then
 * be the expected one, or something else wrote into the table: the commit
 * fails (and is rolled back) as the keyed INSERT would have. */
static gboolean
append_rows (FtStore *s, StmtId keyed, StmtId auto_id, int n_cols, gint64 first_key, gsize n,
             BindRow bind, RowCtx *c, GError **error, const char *what)
{
  gint64 got, want = first_key + (gint64) n - 1;

  if (n == 0)
    return TRUE;
  if (first_key <= 0)
    {
      c->auto_key = 0;
      return write_rows (s, keyed, n_cols, n, bind, c, error, what);
    }
  c->auto_key = 1;
  if (!write_rows (s, auto_id, n_cols - 1, n, bind, c, error, what))
    {
      c->auto_key = 0;
      return FALSE;
    }
  c->auto_key = 0;
  got = sqlite3_last_insert_rowid (s->db);
  if (got != want)
    {
      g_set_error (error, FT_STORE_ERROR, FT_STORE_ERROR_SQL,
                   "%s: %s: rows %" G_GINT64_FORMAT "..%" G_GINT64_FORMAT " were to be added "
                   "but the table already holds keys up to %" G_GINT64_FORMAT "; something "
                   "other than this store wrote to it", s->path, what, first_key, want,
                   got - (gint64) n);
      return FALSE;
    }
  return TRUE;
}

static int
cmp_id (const void *a, const void *b)
{
  gint64 x = *(const gint64 *) a, y = *(const gint64 *) b;

  return (x > y) - (x < y);
}

/* Sort ids so upserts walk each table's b-tree in key order (several times
 * faster than random order for tables with existing rows). When the set
 * is a sizeable share of its id range (thousands of vehicles or riders
 * per commit), reading the ids back from the stamp array in order is
 * cheaper than sorting them. */
static void
dirty_sort (DirtySet *d)
{
  gsize i, j = 0;

  if (d->n <= 1)
    return;
  if (d->big || d->cap > 16 * d->n)
    {
      qsort (d->list, d->n, sizeof *d->list, cmp_id);
      return;
    }
  for (i = 0; i < d->cap && j < d->n; i++)
    if (d->stamp[i] == d->gen)
      d->list[j++] = (gint64) i;
  g_assert (j == d->n);
}

/* Takes an id out of the set's stamps (the caller drops it from the list). */
static inline void
dirty_unstamp (DirtySet *d, gint64 id)
{
  if (id >= 0 && (gsize) id < d->cap)
    d->stamp[id] = 0;   /* gen is never 0 */
}

/* Drop ids at or past `limit` (nothing to write for them). */
static void
dirty_keep_below (DirtySet *d, gint64 limit)
{
  gsize i, j = 0;

  for (i = 0; i < d->n; i++)
    if (d->list[i] < limit)
      d->list[j++] = d->list[i];
    else
      dirty_unstamp (d, d->list[i]);
  d->n = j;
}

/* Mark what an event touched. Ledger transactions are not marked here:
 * they (and the accounts their postings move) are found from the ledger's
 * own high-water mark, which also covers posts made without a log. */
static inline void
mark_event (FtStore *s, const FtStoreTargets *t, const FtEvent *e)
{
  switch ((FtEventKind) e->kind)
    {
    case FT_EV_VEHICLE_ADDED:
    case FT_EV_VEHICLE_STATE:
    case FT_EV_VEHICLE_MOVED:
      dirty_add (&s->d_vehicle, e->vehicle);
      break;
    case FT_EV_TELEMETRY:
      dirty_add (&s->d_vehicle, e->vehicle);
      if (t->fleet && e->vehicle >= 0 && (guint) e->vehicle < ft_fleet_n_vehicles (t->fleet))
        dirty_add (&s->d_pack, ft_fleet_get_vehicle (t->fleet, (guint) e->vehicle)->pack);
      break;
    case FT_EV_PACK_ADDED:
    case FT_EV_PACK_MOVED:
    case FT_EV_PACK_CHARGED:
      dirty_add (&s->d_pack, e->ref);
      dirty_add (&s->d_vehicle, e->vehicle);
      break;
    case FT_EV_ACCOUNT_CREATED:
    case FT_EV_ACCOUNT_ERASED:
      dirty_add (&s->d_account_cold, e->account);
      if (s->version < DERIVED_VERSION)
        dirty_add (&s->d_account, e->account);
      break;
    case FT_EV_BOOKING_ENDED:
      if (s->version < DERIVED_VERSION)
        dirty_add (&s->d_account, e->account);   /* trips counted */
      G_GNUC_FALLTHROUGH;
    case FT_EV_BOOKING_RESERVED:
    case FT_EV_BOOKING_EXPIRED:
    case FT_EV_BOOKING_CANCELLED:
    case FT_EV_BOOKING_UNLOCKED:
    case FT_EV_BOOKING_PAUSED:
    case FT_EV_BOOKING_RESUMED:
      dirty_add (&s->d_booking, e->ref);
      dirty_add (&s->d_vehicle, e->vehicle);
      break;
    case FT_EV_LEDGER_TX:
    case FT_EV_PAYMENT_DECLINED:
    case FT_EV_BOOKING_REFUSED:
    case FT_EV_RIDER_LOST:
    case FT_EV_STAFF_MOVED:
    case FT_EV_PRICE_CHANGED:
    case FT_EV_MODEL_DRIFT:
    case FT_EV_MODEL_DECISION:
    case FT_EV_NONE:
    case FT_EV_N_KINDS:
      break;
    case FT_EV_TASK_CREATED:
    case FT_EV_TASK_ASSIGNED:
    case FT_EV_TASK_DONE:
    case FT_EV_TASK_CANCELLED:
    case FT_EV_TASK_PROPOSED:
    case FT_EV_TASK_APPROVED:
      if (s->version >= TASKS_VERSION)
        dirty_add (&s->d_task, e->ref);
      G_GNUC_FALLTHROUGH;
    default:
      /* Operations may touch the vehicle (e.g. maintenance); rewrite it. */
      dirty_add (&s->d_vehicle, e->vehicle);
      break;
    }
}

void
ft_store_shadow_set (FtStore *s, guint p, const FtPack *pk)
{
  if (p >= s->pack_shadow_n)
    {
      gsize n = MAX (s->pack_shadow_n * 2, (gsize) p + 1);
      gsize i;

      s->pack_shadow = g_renew (PackShadow, s->pack_shadow, n);
      for (i = s->pack_shadow_n; i < n; i++)
        s->pack_shadow[i].place = -1, s->pack_shadow[i].holder = -1;
      s->pack_shadow_n = n;
    }
  s->pack_shadow[p].place = pk->place;
  s->pack_shadow[p].holder = pk->holder;
}

static void
enumerate_bookings (FtBooking *b, DirtySet *d)
{
  guint n = ft_booking_n (b);
  gint64 id;

  /* Booking ids are dense, 0 .. n-1 (gaps read back as NULL). */
  for (id = 0; id < (gint64) n; id++)
    if (ft_booking_get (b, id))
      dirty_add (d, id);
}

/* The commit body; `all` also rewrites every entity (save_all). Caller
 * holds no transaction. On failure everything is rolled back and nothing
 * in the store's bookkeeping changes. */
static gboolean
commit_internal (FtStore *s, const FtStoreTargets *t, gboolean all, FtStoreExtraFunc extra,
                 gpointer extra_data, GError **error)
{
  const FtEvent *ev = NULL;
  guint n_ev = 0, i;
  guint n_vehicles = t->fleet ? ft_fleet_n_vehicles (t->fleet) : 0;
  guint n_packs = t->fleet ? ft_fleet_n_packs (t->fleet) : 0;
  guint n_accounts = t->accounts ? ft_accounts_n (t->accounts) : 0;
  guint n_lacc = t->ledger ? ft_ledger_n_accounts (t->ledger) : 0;
  guint n_tx = t->ledger ? ft_ledger_n_tx (t->ledger) : 0;
  guint n_vans = t->fleet ? ft_fleet_n_vans (t->fleet) : 0;
  guint n_depots = t->fleet ? ft_fleet_n_depots (t->fleet) : 0;
  guint n_tasks = t->ops && s->version >= TASKS_VERSION ? ft_ops_n (t->ops) : 0;

  if (t->ledger != NULL && !ft_ledger_has_journal (t->ledger))
    {
      g_set_error (error, FT_STORE_ERROR, FT_STORE_ERROR_SQL,
                   "the ledger keeps no journal (summary records): there are no transactions "
                   "to store; run with full records to keep a database");
      return FALSE;
    }
  if (t->booking != NULL && ft_booking_get_release (t->booking))
    {
      g_set_error (error, FT_STORE_ERROR, FT_STORE_ERROR_SQL,
                   "booking keeps only open bookings (summary records): closed ones are not "
                   "there to store; run with full records to keep a database");
      return FALSE;
    }
  gboolean holders_changed = s->version >= 2 &&
                             (n_vans != s->saved_vans || n_depots != s->saved_depots);
  /* balances and trip counts are derived, not written (schema 4 on) */
  gboolean derived = s->version >= DERIVED_VERSION;
  sqlite3_stmt *st;
  RowCtx rc;
  gsize k;

  if (t->log)
    ev = ft_event_log_pending (t->log, &n_ev);

  if (!all && n_ev == 0 && n_vehicles == s->saved_vehicles && n_packs == s->saved_packs &&
      n_accounts == s->saved_accounts && n_lacc == s->saved_lacc && n_tx == s->saved_tx &&
      n_tasks == s->saved_tasks && !holders_changed && extra == NULL)
    return TRUE;   /* nothing to write */

  if (!ft_store_run_simple (s, ST_BEGIN, error, "starting a transaction"))
    return FALSE;

  dirty_clear (&s->d_vehicle);
  dirty_clear (&s->d_vehicle_cold);
  dirty_clear (&s->d_account_cold);
  dirty_clear (&s->d_lacc_cold);
  dirty_clear (&s->d_pack);
  dirty_clear (&s->d_account);
  dirty_clear (&s->d_lacc);
  dirty_clear (&s->d_booking);
  dirty_clear (&s->d_task);

  memset (&rc, 0, sizeof rc);
  rc.t = t;

  /* 1. the events, and what they touched */
  if (n_ev > 0)
    {
      gboolean consecutive = ev[0].seq == s->last_seq + 1;

      for (i = 1; consecutive && i < n_ev; i++)
        consecutive = ev[i].seq == ev[0].seq + i;
      rc.ev = ev;
      if (!append_rows (s, ST_INS_EVENT, ST_INS_EVENT_AUTO, 11,
                        consecutive ? (gint64) ev[0].seq : 0, n_ev, bind_event, &rc, error,
                        "appending events"))
        goto fail;
      for (i = 0; i < n_ev; i++)
        mark_event (s, t, &ev[i]);
    }

  /* 2. new entities and, for save_all, every entity */
  for (i = all ? 0 : s->saved_vehicles; i < n_vehicles; i++)
    {
      dirty_add (&s->d_vehicle_cold, i);
      dirty_add (&s->d_vehicle, i);
    }
  for (i = all ? 0 : s->saved_packs; i < n_packs; i++)
    dirty_add (&s->d_pack, i);
  for (i = all ? 0 : s->saved_accounts; i < n_accounts; i++)
    {
      dirty_add (&s->d_account_cold, i);
      if (!derived)
        dirty_add (&s->d_account, i);
    }
  for (i = all ? 0 : s->saved_lacc; i < n_lacc; i++)
    {
      dirty_add (&s->d_lacc_cold, i);
      if (!derived)
        dirty_add (&s->d_lacc, i);
    }
  if (all && t->booking)
    enumerate_bookings (t->booking, &s->d_booking);
  for (i = all ? 0 : MIN (s->saved_tasks, n_tasks); i < n_tasks; i++)
    dirty_add (&s->d_task, i);

  /* 3. ledger transactions since the last commit, with their postings */
  if (n_tx > s->saved_tx)
    {
      guint n_postings = 0;

      rc.first_tx = s->saved_tx;
      rc.n_inline = s->version >= 3 ? INLINE_POSTINGS : 0;
      rc.postings = ft_ledger_postings (t->ledger, &n_postings);
      g_array_set_size (s->posting_tx, 0);
      g_array_set_size (s->posting_idx, 0);
      for (i = s->saved_tx; i < n_tx; i++)
        {
          const FtLedgerTx *tx = ft_ledger_get_tx (t->ledger, i);
          guint j;

          for (j = 0; j < tx->n_postings; j++)
            {
              guint32 idx = tx->first_posting + j;

              if (!derived)
                dirty_add (&s->d_lacc, rc.postings[idx].ledger_account);
              if (j >= rc.n_inline)
                {
                  gint64 tx_id = i;
                  g_array_append_val (s->posting_tx, tx_id);
                  g_array_append_val (s->posting_idx, idx);
                }
            }
        }
      rc.posting_tx = (const gint64 *) s->posting_tx->data;
      rc.posting_idx = (const guint32 *) s->posting_idx->data;
      if (!(rc.n_inline
            ? append_rows (s, ST_INS_TX, ST_INS_TX_AUTO, 18, s->saved_tx, n_tx - s->saved_tx,
                           bind_tx, &rc, error, "writing ledger transactions")
            : write_rows (s, ST_INS_TX_V1, 10, n_tx - s->saved_tx, bind_tx, &rc, error,
                          "writing ledger transactions")) ||
          !write_rows (s, ST_INS_POSTING, 4, s->posting_tx->len, bind_posting, &rc, error,
                       "writing postings"))
        goto fail;
    }

  /* 4. packs first: a pack that left a vehicle dirties that vehicle */
  dirty_keep_below (&s->d_pack, n_packs);
  for (k = 0; k < s->d_pack.n; k++)
    {
      gint64 p = s->d_pack.list[k];
      const FtPack *pk = ft_fleet_get_pack (t->fleet, (guint) p);

      if ((gsize) p < s->pack_shadow_n && s->pack_shadow[p].place == FT_PACK_IN_VEHICLE)
        dirty_add (&s->d_vehicle, s->pack_shadow[p].holder);
      if (pk->place == FT_PACK_IN_VEHICLE)
        dirty_add (&s->d_vehicle, pk->holder);
    }
  dirty_keep_below (&s->d_vehicle, n_vehicles);
  dirty_keep_below (&s->d_vehicle_cold, n_vehicles);
  dirty_keep_below (&s->d_account, n_accounts);
  dirty_keep_below (&s->d_account_cold, n_accounts);
  dirty_keep_below (&s->d_lacc, n_lacc);
  dirty_keep_below (&s->d_lacc_cold, n_lacc);
  dirty_keep_below (&s->d_task, n_tasks);
  if (t->booking)
    {
      gsize j = 0;
      for (k = 0; k < s->d_booking.n; k++)
        if (ft_booking_get (t->booking, s->d_booking.list[k]))
          s->d_booking.list[j++] = s->d_booking.list[k];
        else
          dirty_unstamp (&s->d_booking, s->d_booking.list[k]);
      s->d_booking.n = j;
    }
  else
    s->d_booking.n = 0;

  dirty_sort (&s->d_pack);
  dirty_sort (&s->d_vehicle);
  dirty_sort (&s->d_account);
  dirty_sort (&s->d_lacc);
  dirty_sort (&s->d_vehicle_cold);
  dirty_sort (&s->d_account_cold);
  dirty_sort (&s->d_lacc_cold);
  dirty_sort (&s->d_booking);
  dirty_sort (&s->d_task);
  rc.ids = s->d_pack.list;
  if (!write_rows (s, ST_UPS_PACK, 9, s->d_pack.n, bind_pack, &rc, error, "writing battery packs"))
    goto fail;
  rc.ids = s->d_vehicle_cold.list;
  if (!write_rows (s, ST_UPS_VEHICLE, 4, s->d_vehicle_cold.n, bind_vehicle, &rc, error, "writing vehicles"))
    goto fail;
  rc.ids = s->d_vehicle.list;
  if (!write_rows (s, ST_UPS_VSTATE, 13, s->d_vehicle.n, bind_vehicle_state, &rc, error,
                   "writing vehicle states"))
    goto fail;
  rc.ids = s->d_account_cold.list;
  if (!write_rows (s, ST_UPS_ACCOUNT, 8, s->d_account_cold.n, bind_account, &rc, error, "writing accounts"))
    goto fail;
  rc.ids = s->d_account.list;
  if (!derived &&
      !write_rows (s, ST_UPS_TRIPS, 2, s->d_account.n, bind_trips, &rc, error, "writing trip counts"))
    goto fail;
  rc.ids = s->d_lacc_cold.list;
  if (!write_rows (s, ST_UPS_LACC, 4, s->d_lacc_cold.n, bind_lacc, &rc, error, "writing ledger accounts"))
    goto fail;
  rc.ids = s->d_lacc.list;
  if (!derived &&
      !write_rows (s, ST_UPS_BALANCE, 2, s->d_lacc.n, bind_balance, &rc, error, "writing balances"))
    goto fail;
  rc.ids = s->d_booking.list;
  if (s->version >= SHOWN_PRICE_VERSION
      ? !write_rows (s, ST_UPS_BOOKING_V6, 21, s->d_booking.n, bind_booking_v6, &rc, error, "writing bookings")
      : !write_rows (s, ST_UPS_BOOKING, 19, s->d_booking.n, bind_booking, &rc, error, "writing bookings"))
    goto fail;
  rc.ids = s->d_task.list;
  if (s->version >= TASK_APPROVAL_VERSION
      ? !write_rows (s, ST_UPS_TASK_V13, 17, s->d_task.n, bind_task_v13, &rc, error, "writing tasks")
      : !write_rows (s, ST_UPS_TASK, 14, s->d_task.n, bind_task, &rc, error, "writing tasks"))
    goto fail;

  /* 5. how many vans and depots hold packs (empty ones included) */
  if (holders_changed || (all && s->version >= 2 && t->fleet))
    {
      char holders[32];

      if (!(st = ft_store_get_stmt (s, ST_PUT_META, error)))
        goto fail;
      g_snprintf (holders, sizeof holders, "%u %u", n_vans, n_depots);
      sqlite3_bind_text (st, 1, FLEET_HOLDERS_KEY, -1, SQLITE_STATIC);
      sqlite3_bind_text (st, 2, holders, -1, SQLITE_TRANSIENT);
      if (!ft_store_step_done (s, st, error, "writing the van and depot counts"))
        goto fail;
    }

  /* 6. the caller's own rows, in the same transaction */
  if (extra != NULL && !extra (s->db, extra_data, error))
    goto fail;

  if (!ft_store_run_simple (s, ST_COMMIT, error, "committing"))
    goto fail;

  /* Committed: now, and only now, the bookkeeping moves on. */
  for (k = 0; k < s->d_pack.n; k++)
    if (s->d_pack.list[k] < (gint64) n_packs)
      ft_store_shadow_set (s, (guint) s->d_pack.list[k],
                  ft_fleet_get_pack (t->fleet, (guint) s->d_pack.list[k]));
  s->saved_vehicles = n_vehicles;
  s->saved_packs = n_packs;
  s->saved_accounts = n_accounts;
  s->saved_lacc = n_lacc;
  s->saved_tx = n_tx;
  s->saved_tasks = n_tasks;
  s->saved_vans = n_vans;
  s->saved_depots = n_depots;
  s->n_events += n_ev;
  if (n_ev > 0)
    s->last_seq = ev[n_ev - 1].seq;
  s->n_commits++;
  s->window_open = FALSE;
  if (t->log)
    ft_event_log_drain (t->log);
  return TRUE;

fail:
  if (!sqlite3_get_autocommit (s->db))
    {
      sqlite3_stmt *rb = ft_store_get_stmt (s, ST_ROLLBACK, NULL);
      if (rb)
        {
          sqlite3_step (rb);
          sqlite3_reset (rb);
        }
    }
  return FALSE;
}

gboolean
ft_store_commit (FtStore *s, const FtStoreTargets *t, GError **error)
{
  g_return_val_if_fail (s != NULL, FALSE);
  g_return_val_if_fail (t != NULL, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);
  return commit_internal (s, t, FALSE, NULL, NULL, error);
}

gboolean
ft_store_commit_with (FtStore *s, const FtStoreTargets *t, FtStoreExtraFunc extra,
                      gpointer extra_data, GError **error)
{
  g_return_val_if_fail (s != NULL, FALSE);
  g_return_val_if_fail (t != NULL, FALSE);
  g_return_val_if_fail (extra != NULL, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);
  return commit_internal (s, t, FALSE, extra, extra_data, error);
}

gboolean
ft_store_save_all (FtStore *s, const FtStoreTargets *t, GError **error)
{
  g_return_val_if_fail (s != NULL, FALSE);
  g_return_val_if_fail (t != NULL, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);
  return commit_internal (s, t, TRUE, NULL, NULL, error);
}

gboolean
ft_store_maybe_commit (FtStore *s, const FtStoreTargets *t, FtTime now,
                       gboolean *committed, GError **error)
{
  guint n;

  g_return_val_if_fail (s != NULL, FALSE);
  g_return_val_if_fail (t != NULL, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  if (committed)
    *committed = FALSE;
  n = t->log ? ft_event_log_n_pending (t->log) : 0;
  if (n == 0)
    return TRUE;
  if (!s->window_open)
    {
      s->window_open = TRUE;
      s->window_start = now;
    }
  if (n < s->cfg.max_batch_events && now - s->window_start < s->cfg.max_window)
    return TRUE;
  if (!commit_internal (s, t, FALSE, NULL, NULL, error))
    return FALSE;
  if (committed)
    *committed = TRUE;
  return TRUE;
}
