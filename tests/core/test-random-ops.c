/* test-random-ops.c — randomised operations through fleet, booking and
 * payments of a real FtCore: reserve, unlock, walk-up start, pause, resume,
 * end (sometimes in a no-parking zone or outside the area), cancel, expire,
 * top-up (some invalid, some reusing idempotency keys), refund (some too
 * large), sign-up and erasure, with deliberately illegal arguments mixed
 * in. After EVERY step: ft_core_check holds, every new ledger transaction
 * sums to zero, and each ledger balance equals the sum of its postings.
 * The store case does the same with a SQLite file attached (group commit),
 * then closes it, reopens it into a fresh FtCore and compares the state.
 *
 * In all: 25,000 operations in memory, then 105,600 with the store (every
 * one of them checked after each step, plus a full comparison after each
 * reopen). FT_RANDOM_OPS (environment) overrides the operations per run.
 */
#include <check.h>
#include <string.h>
#include <glib/gstdio.h>

#include "ft-core.h"
#include "test-town.h"

#define N_VEHICLES 40
#define N_RIDERS0  30
#define N_RUNS     4       /* store runs: 4 x (22,000 + 4,400 after reopening) */

static guint
n_ops_per_run (guint dflt)
{
  const char *s = g_getenv ("FT_RANDOM_OPS");
  if (s && *s)
    return (guint) MAX (1, g_ascii_strtoull (s, NULL, 10));
  return dflt;
}

static FtCore *
make_core (guint64 seed)
{
  FtCoreConfig cfg;
  FtBBox bb;

  ft_core_config_init (&cfg);
  cfg.seed = seed;
  cfg.card_decline_rate = 0.05;
  cfg.auto_topup_minor = 2000;
  cfg.booking.reservation_hold = 10 * FT_MINUTE;
  FtCore *core = ft_core_new (&cfg, test_town_geofences (150), NULL);
  ft_bbox_init_empty (&bb);
  ft_bbox_extend (&bb, test_town_at (-2500, -2500));
  ft_bbox_extend (&bb, test_town_at (2500, 2500));
  ft_fleet_enable_index (core->fleet, bb, 100);
  return core;
}

/* ------------------------------------------------------------ ledger sums */

typedef struct {
  GArray *sums;       /* gint64 per ledger account */
  guint   n_postings; /* postings already summed */
  guint   n_tx;       /* transactions already checked */
} LedgerSums;

static void
sums_reset (LedgerSums *ls)
{
  if (ls->sums)
    g_array_unref (ls->sums);
  ls->sums = g_array_new (FALSE, TRUE, sizeof (gint64));
  ls->n_postings = 0;
  ls->n_tx = 0;
}

/* Balances equal the sum of all postings; every new transaction balances. */
static void
check_ledger_sums (LedgerSums *ls, FtLedger *l, const char *where, guint step)
{
  guint n;
  const FtPosting *ps = ft_ledger_postings (l, &n);
  guint n_acc = ft_ledger_n_accounts (l);
  guint n_tx = ft_ledger_n_tx (l);

  ck_assert_uint_ge (n, ls->n_postings);
  if (ls->sums->len < n_acc)
    g_array_set_size (ls->sums, n_acc);
  for (guint i = ls->n_postings; i < n; i++)
    {
      if (ps[i].ledger_account < 0 || (guint) ps[i].ledger_account >= n_acc)
        ck_abort_msg ("%s step %u: posting %u names account %d", where, step, i, ps[i].ledger_account);
      g_array_index (ls->sums, gint64, ps[i].ledger_account) += ps[i].amount;
    }
  ls->n_postings = n;
  for (guint t = ls->n_tx; t < n_tx; t++)
    {
      const FtLedgerTx *tx = ft_ledger_get_tx (l, t);
      gint64 s = 0;
      if (tx->first_posting + tx->n_postings > n)
        ck_abort_msg ("%s step %u: transaction %u postings out of range", where, step, t);
      for (guint k = 0; k < tx->n_postings; k++)
        s += ps[tx->first_posting + k].amount;
      if (s != 0)
        ck_abort_msg ("%s step %u: transaction %u sums to %" G_GINT64_FORMAT, where, step, t, s);
    }
  ls->n_tx = n_tx;
  /* (plain ifs: Check writes a record per passing ck_assert) */
  for (guint a = 0; a < n_acc; a++)
    if (ft_ledger_balance (l, a) != g_array_index (ls->sums, gint64, a))
      ck_abort_msg ("%s step %u: account %s balance %" G_GINT64_FORMAT " but its postings sum to %"
                   G_GINT64_FORMAT, where, step, ft_ledger_get_account (l, a)->code,
                   ft_ledger_balance (l, a), g_array_index (ls->sums, gint64, a));
}

/* ------------------------------------------------------------ the driver */

typedef enum {
  OP_RESERVE, OP_UNLOCK, OP_START, OP_PAUSE, OP_RESUME, OP_END, OP_CANCEL, OP_EXPIRE,
  OP_TOPUP, OP_REFUND, OP_SIGNUP, OP_ERASE, OP_FIND, N_OPS
} Op;

static const char *op_names[N_OPS] = {
  "reserve", "unlock", "start", "pause", "resume", "end", "cancel", "expire",
  "topup", "refund", "signup", "erase", "find",
};
/* relative weights */
static const guint op_weight[N_OPS] = { 14, 12, 8, 5, 5, 16, 5, 2, 8, 5, 1, 1, 3 };

typedef struct {
  FtCore    *core;
  GRand     *rng;
  FtTime     now;
  guint      admin;
  LedgerSums ls;
  guint64    ok[N_OPS], fail[N_OPS];
  GArray    *ended;     /* gint64 ended booking ids (refund candidates) */
} Driver;

static guint
rnd (Driver *d, guint n)
{
  return (guint) g_rand_int_range (d->rng, 0, (gint32) n);
}

static gboolean
chance (Driver *d, double p)
{
  return g_rand_double (d->rng) < p;
}

/* A rider index: mostly real riders, sometimes staff, erased or nonexistent. */
static guint
pick_account (Driver *d)
{
  guint n = ft_accounts_n (d->core->accounts);
  if (chance (d, 0.02))
    return n + rnd (d, 5);          /* no such account */
  return rnd (d, n);
}

static guint
pick_vehicle (Driver *d)
{
  if (chance (d, 0.01))
    return N_VEHICLES + rnd (d, 3);
  return rnd (d, N_VEHICLES);
}

/* For operations on an open booking: usually a rider who has one. */
static guint
pick_active_account (Driver *d)
{
  guint n = ft_accounts_n (d->core->accounts);
  guint start, k;

  if (chance (d, 0.25))
    return pick_account (d);
  start = rnd (d, n);
  for (k = 0; k < n; k++)
    {
      guint r = (start + k) % n;
      if (ft_booking_open_for (d->core->booking, r) >= 0)
        return r;
    }
  return pick_account (d);
}

/* The rider's own open booking most of the time, else anything. */
static gint64
pick_booking (Driver *d, guint rider)
{
  gint64 own = rider < ft_accounts_n (d->core->accounts) ? ft_booking_open_for (d->core->booking, rider) : -1;
  guint n = ft_booking_n (d->core->booking);
  if (own >= 0 && chance (d, 0.85))
    return own;
  if (n == 0 || chance (d, 0.05))
    return (gint64) n + rnd (d, 3) - 1;   /* -1 or beyond */
  return rnd (d, n);
}

static FtLatLon
pick_place (Driver *d)
{
  double p = g_rand_double (d->rng);
  if (p < 0.08)
    return test_town_at (400 + g_rand_double_range (d->rng, -100, 100), g_rand_double_range (d->rng, -100, 100));   /* park */
  if (p < 0.12)
    return test_town_at (g_rand_double_range (d->rng, 1100, 2000), g_rand_double_range (d->rng, -900, 900));        /* outside */
  if (p < 0.13)
    return (FtLatLon) { 123.0, 0.0 };                                                                   /* invalid */
  return test_town_at (g_rand_double_range (d->rng, -950, 950), g_rand_double_range (d->rng, -950, 950));
}

static void
seed_world (Driver *d)
{
  g_autoptr(GError) err = NULL;

  for (guint i = 0; i < N_VEHICLES; i++)
    {
      FtVehicleKind kind = i % FT_N_KINDS;
      guint v = ft_fleet_add_vehicle (d->core->fleet, kind,
                                      test_town_at (g_rand_double_range (d->rng, -900, 900),
                                          g_rand_double_range (d->rng, -900, 900)), NULL, d->now);
      double soc = i % 10 == 9 ? 0.02 : g_rand_double_range (d->rng, 0.3, 1.0);
      if (i % 20 != 19)   /* a couple without a battery */
        {
          ft_fleet_add_pack (d->core->fleet, ft_vehicle_type_default (kind)->pack_capacity_wh, soc,
                             FT_PACK_IN_VEHICLE, (gint32) v, d->now, &err);
          ck_assert_msg (err == NULL, "%s", err ? err->message : "");
        }
    }
  for (guint i = 0; i < N_RIDERS0; i++)
    {
      g_autofree char *name = g_strdup_printf ("rider%u", i);
      g_autofree char *email = g_strdup_printf ("rider%u@example.org", i);
      ck_assert_int_ge (ft_accounts_create (d->core->accounts, FT_ROLE_RIDER, name, email, d->now, &err), 0);
    }
  d->admin = (guint) ft_accounts_create (d->core->accounts, FT_ROLE_ADMIN, "admin", NULL, d->now, &err);
  ck_assert_msg (err == NULL, "%s", err ? err->message : "");
  ft_accounts_create (d->core->accounts, FT_ROLE_FIELD, "field", NULL, d->now, &err);
  ck_assert_msg (err == NULL, "%s", err ? err->message : "");
}

static Op
pick_op (Driver *d)
{
  guint total = 0, r;
  for (int i = 0; i < N_OPS; i++)
    total += op_weight[i];
  r = rnd (d, total);
  for (int i = 0; i < N_OPS; i++)
    {
      if (r < op_weight[i])
        return (Op) i;
      r -= op_weight[i];
    }
  return OP_FIND;
}

static void
step (Driver *d, guint i)
{
  g_autoptr(GError) err = NULL;
  FtCore *c = d->core;
  Op op = pick_op (d);
  guint n_tx0 = ft_ledger_n_tx (c->ledger);
  guint n_bk0 = ft_booking_n (c->booking);
  gboolean ok = FALSE, booking_op = TRUE;

  d->now += rnd (d, 40) * FT_SECOND;
  switch (op)
    {
    case OP_RESERVE:
      ok = ft_booking_reserve (c->booking, pick_account (d), pick_vehicle (d), d->now, &err) >= 0;
      break;
    case OP_UNLOCK:
      {
        guint r = pick_active_account (d);
        ok = ft_booking_unlock (c->booking, pick_booking (d, r), r, d->now, &err);
      }
      break;
    case OP_START:
      ok = ft_booking_start (c->booking, pick_account (d), pick_vehicle (d), d->now, &err) >= 0;
      break;
    case OP_PAUSE:
      {
        guint r = pick_active_account (d);
        ok = ft_booking_pause (c->booking, pick_booking (d, r), r, d->now, &err);
      }
      break;
    case OP_RESUME:
      {
        guint r = pick_active_account (d);
        ok = ft_booking_resume (c->booking, pick_booking (d, r), r, d->now, &err);
      }
      break;
    case OP_END:
      {
        guint r = pick_active_account (d);
        gint64 bk = pick_booking (d, r);
        FtPriceBreakdown price;
        double dist = chance (d, 0.01) ? -1.0 : g_rand_double_range (d->rng, 0, 6000);
        ok = ft_booking_end (c->booking, bk, r, pick_place (d), dist, d->now, &price, &err);
        if (ok)
          {
            const FtBookingRec *rec = ft_booking_get (c->booking, bk);
            ck_assert_int_eq (rec->state, FT_BK_ENDED);
            ck_assert_int_eq (rec->price_minor, price.total);
            ck_assert_int_eq (ft_payments_captured (c->payments, bk), price.total);
            g_array_append_val (d->ended, bk);
          }
      }
      break;
    case OP_CANCEL:
      {
        guint r = pick_active_account (d);
        ok = ft_booking_cancel (c->booking, pick_booking (d, r), r, d->now, &err);
      }
      break;
    case OP_EXPIRE:
      {
        FtTime next = ft_booking_next_expiry (c->booking);
        guint n = ft_booking_expire (c->booking, d->now);
        ok = n > 0;
        ck_assert (n == 0 || next <= d->now);
        ck_assert_int_gt (ft_booking_next_expiry (c->booking), d->now);
        booking_op = FALSE;
      }
      break;
    case OP_TOPUP:
      {
        static const gint64 amounts[] = { 500, 1000, 2000, 5000, 0, -100 };
        guint r = pick_account (d);
        gint64 amount = amounts[rnd (d, G_N_ELEMENTS (amounts))];
        g_autofree char *key = g_strdup_printf ("topup-%u-%u", r, rnd (d, 40));
        gint64 tx;
        booking_op = FALSE;
        if (r >= ft_accounts_n (c->accounts))
          break;   /* payments has no account directory: riders come from accounts */
        tx = ft_payments_topup (c->payments, r, amount, key, d->now, &err);
        ok = tx >= 0;
        if (ok)
          ck_assert (tx < (gint64) ft_ledger_n_tx (c->ledger));
      }
      break;
    case OP_REFUND:
      {
        gint64 bk, amount, tx, captured;
        guint r;
        g_autofree char *key = NULL;
        booking_op = FALSE;
        if (d->ended->len == 0)
          break;
        bk = g_array_index (d->ended, gint64, rnd (d, d->ended->len));
        r = ft_booking_get (c->booking, bk)->rider;
        if (chance (d, 0.05))
          r = (r + 1) % ft_accounts_n (c->accounts);       /* someone else's booking */
        captured = ft_payments_captured (c->payments, bk);
        amount = 1 + rnd (d, (guint) MAX (1, captured + 50));
        key = g_strdup_printf ("refund-%" G_GINT64_FORMAT "-%u", bk, rnd (d, 3));
        tx = ft_payments_refund (c->payments, r, bk, amount, key, d->now, &err);
        ok = tx >= 0;
        ck_assert_int_le (ft_payments_captured (c->payments, bk), captured);
        ck_assert_int_ge (ft_payments_captured (c->payments, bk), 0);
      }
      break;
    case OP_SIGNUP:
      {
        g_autofree char *name = g_strdup_printf ("late%u", i);
        g_autofree char *email = chance (d, 0.1) ? g_strdup ("rider1@example.org")   /* duplicate */
                                                : g_strdup_printf ("late%u@example.org", i);
        ok = ft_accounts_create (c->accounts, FT_ROLE_RIDER, name, email, d->now, &err) >= 0;
        booking_op = FALSE;
      }
      break;
    case OP_ERASE:
      {
        guint r = pick_account (d);
        guint by = chance (d, 0.5) ? r : (chance (d, 0.8) ? d->admin : pick_account (d));
        booking_op = FALSE;
        if (r >= ft_accounts_n (c->accounts) || by >= ft_accounts_n (c->accounts))
          break;
        ok = ft_accounts_erase (c->accounts, r, by, d->now, &err);
        if (ok)
          ck_assert (ft_accounts_get (c->accounts, r)->erased);
      }
      break;
    case OP_FIND:
      {
        FtFindResult out[16];
        double trip = g_rand_double_range (d->rng, 0, 30000);
        guint n = ft_booking_find (c->booking, pick_place (d), g_rand_double_range (d->rng, 50, 1500),
                                   trip, rnd (d, 8), out, G_N_ELEMENTS (out));
        for (guint k = 0; k < n; k++)
          {
            const FtVehicle *v = ft_fleet_get_vehicle (c->fleet, out[k].vehicle);
            ck_assert_int_eq (v->state, FT_STATE_AVAILABLE);
            ck_assert_double_ge (out[k].range_m, trip * 1.2 - 1e-6);
            if (k)
              ck_assert_double_le (out[k - 1].walk_m, out[k].walk_m);
          }
        ok = TRUE;
        booking_op = FALSE;
      }
      break;
    case N_OPS:
      g_assert_not_reached ();
    }

  if (ok)
    d->ok[op]++;
  else
    {
      d->fail[op]++;
      if (op != OP_EXPIRE && op != OP_TOPUP && op != OP_REFUND && op != OP_ERASE && op != OP_SIGNUP)
        ck_assert_msg (err != NULL, "step %u: %s failed without an error", i, op_names[op]);
      if (booking_op)
        {
          /* A refused booking operation posts nothing and opens nothing. */
          ck_assert_msg (err->domain == FT_BOOKING_ERROR, "step %u: %s: foreign error %s",
                         i, op_names[op], err->message);
          ck_assert_msg (ft_ledger_n_tx (c->ledger) == n_tx0, "step %u: refused %s posted (%s)",
                         i, op_names[op], err->message);
          ck_assert_uint_eq (ft_booking_n (c->booking), n_bk0);
        }
    }

  {
    g_autoptr(GError) cerr = NULL;
    ck_assert_msg (ft_core_check (c, &cerr), "step %u after %s (%s): %s", i, op_names[op],
                   ok ? "ok" : err ? err->message : "failed", cerr->message);
  }
  {
    /* the next expiry is the earliest hold of a booking still reserved */
    FtTime want = G_MAXINT64;
    for (guint b = 0; b < ft_booking_n (c->booking); b++)
      {
        const FtBookingRec *rec = ft_booking_get (c->booking, b);
        if (rec->state == FT_BK_RESERVED)
          want = MIN (want, rec->hold_until);
      }
    ck_assert_msg (ft_booking_next_expiry (c->booking) == want, "step %u after %s: next expiry %"
                   G_GINT64_FORMAT ", earliest hold %" G_GINT64_FORMAT, i, op_names[op],
                   ft_booking_next_expiry (c->booking), want);
  }
  check_ledger_sums (&d->ls, c->ledger, "run", i);
}

static void
driver_init (Driver *d, guint64 seed, FtCore *core)
{
  memset (d, 0, sizeof *d);
  d->core = core;
  d->rng = g_rand_new_with_seed ((guint32) seed);
  d->now = 7 * FT_HOUR;
  d->ended = g_array_new (FALSE, FALSE, sizeof (gint64));
  sums_reset (&d->ls);
}

static void
driver_fini (Driver *d)
{
  g_rand_free (d->rng);
  g_array_unref (d->ended);
  g_array_unref (d->ls.sums);
}

static void
assert_coverage (Driver *d, guint n_ops)
{
  if (n_ops < 5000)
    return;
  /* Every kind of operation both succeeded and was refused at some point. */
  for (int op = 0; op < N_OPS; op++)
    {
      if (op == OP_FIND)
        continue;
      ck_assert_msg (d->ok[op] > 0, "%s never succeeded", op_names[op]);
      if (op != OP_EXPIRE)
        ck_assert_msg (d->fail[op] > 0, "%s was never refused", op_names[op]);
    }
}

/* --------------------------------------------------------- memory runs */

START_TEST (test_random_ops_memory)
{
  guint n = n_ops_per_run (25000);
  guint64 total = 0;

  for (guint run = 0; run < 1; run++)   /* one in-memory run; the store case does four */
    {
      Driver d;
      g_autoptr(FtCore) core = make_core (1000 + run);
      driver_init (&d, 77 + run, core);
      seed_world (&d);
      check_ledger_sums (&d.ls, core->ledger, "seed", 0);
      for (guint i = 0; i < n; i++)
        step (&d, i);
      assert_coverage (&d, n);
      total += n;
      if (run == 0)
        for (int op = 0; op < N_OPS; op++)
          fprintf (stderr, "  %-8s ok %6" G_GUINT64_FORMAT "  refused %6" G_GUINT64_FORMAT "\n",
                   op_names[op], d.ok[op], d.fail[op]);
      driver_fini (&d);
    }
  fprintf (stderr, "random ops (memory): %" G_GUINT64_FORMAT " operations, checked after each\n", total);
}
END_TEST

/* ---------------------------------------------------------- store runs */

/* A textual fingerprint of all persisted state. */
static char *
fingerprint (FtCore *c)
{
  GString *s = g_string_new (NULL);

  for (guint i = 0; i < ft_fleet_n_vehicles (c->fleet); i++)
    {
      const FtVehicle *v = ft_fleet_get_vehicle (c->fleet, i);
      g_string_append_printf (s, "V %u %s %s %s %d %" G_GINT64_FORMAT " %d %.7f %.7f %.1f\n", i,
                              v->device_id, v->name, ft_vehicle_state_name (v->state), v->kind,
                              v->booking, v->pack, v->pos.lat, v->pos.lon, v->odometer_m);
    }
  for (guint i = 0; i < ft_fleet_n_packs (c->fleet); i++)
    {
      const FtPack *p = ft_fleet_get_pack (c->fleet, i);
      g_string_append_printf (s, "P %u %s %d %d %.4f\n", i, p->id, p->place, p->holder, p->soc);
    }
  for (guint i = 0; i < ft_accounts_n (c->accounts); i++)
    {
      const FtAccount *a = ft_accounts_get (c->accounts, i);
      g_string_append_printf (s, "A %u %s %u %s %s %s %d %u\n", i, a->id, a->roles,
                              a->display_name ? a->display_name : "-", a->email ? a->email : "-",
                              a->pseudonym, a->erased, a->trips);
    }
  for (guint i = 0; i < ft_ledger_n_accounts (c->ledger); i++)
    {
      const FtLedgerAccount *a = ft_ledger_get_account (c->ledger, i);
      g_string_append_printf (s, "L %u %s %d %" G_GINT64_FORMAT " %d\n", i, a->code, a->type,
                              ft_ledger_balance (c->ledger, i), a->owner);
    }
  for (guint i = 0; i < ft_ledger_n_tx (c->ledger); i++)
    {
      const FtLedgerTx *t = ft_ledger_get_tx (c->ledger, i);
      g_string_append_printf (s, "T %" G_GINT64_FORMAT " %d %" G_GINT64_FORMAT " %d %" G_GINT64_FORMAT
                              " %" G_GINT64_FORMAT " %u\n", (gint64) i, t->kind, t->t, t->user_account,
                              t->amount, t->ref, t->n_postings);
    }
  for (guint i = 0; i < ft_booking_n (c->booking); i++)
    {
      const FtBookingRec *r = ft_booking_get (c->booking, i);
      char trip_id[37];
      if (!r)
        continue;
      ft_booking_trip_id (c->booking, i, trip_id);
      g_string_append_printf (s, "B %" G_GINT64_FORMAT " %u %u %s %" G_GINT64_FORMAT " %" G_GINT64_FORMAT
                              " %" G_GINT64_FORMAT " %" G_GINT64_FORMAT " %" G_GINT64_FORMAT
                              " %" G_GINT64_FORMAT " %.1f %" G_GINT64_FORMAT " %" G_GINT64_FORMAT
                              " %" G_GINT64_FORMAT " %s\n",
                              r->id, r->rider, r->vehicle, ft_booking_state_name (r->state),
                              r->reserved_at, r->hold_until, r->unlocked_at, r->ended_at,
                              r->paused_ms, r->paused_since, r->distance_m, r->price_minor,
                              r->hold_tx, r->capture_tx, trip_id);
    }
  return g_string_free (s, FALSE);
}

static void
assert_same (const char *a, const char *b, const char *what)
{
  if (strcmp (a, b) != 0)
    {
      g_auto(GStrv) la = g_strsplit (a, "\n", -1);
      g_auto(GStrv) lb = g_strsplit (b, "\n", -1);
      for (guint i = 0; la[i] && lb[i]; i++)
        if (strcmp (la[i], lb[i]) != 0)
          ck_abort_msg ("%s: state differs at line %u:\n  before: %s\n  after:  %s", what, i, la[i], lb[i]);
      ck_abort_msg ("%s: state differs in length (%u vs %u lines)", what,
                    g_strv_length (la), g_strv_length (lb));
    }
}

static FtStoreConfig
store_cfg (void)
{
  FtStoreConfig scfg;
  ft_store_config_init (&scfg);
  scfg.max_window = 10 * FT_MINUTE;   /* virtual time: about 30 steps a commit */
  scfg.max_batch_events = 500;
  return scfg;
}

/* Reopens the file into a fresh core; checks invariants and sums; compares. */
static FtCore *
reopen (const char *path, guint64 seed, const char *want, const char *what)
{
  g_autoptr(GError) err = NULL;
  g_autofree char *got = NULL;
  FtCore *c = make_core (seed);
  LedgerSums ls = { 0 };
  FtStoreConfig scfg = store_cfg ();

  ck_assert_msg (ft_core_attach_store (c, path, &scfg, &err), "%s: reopen: %s", what, err ? err->message : "");
  ck_assert_msg (ft_core_check (c, &err), "%s: after reload: %s", what, err ? err->message : "");
  sums_reset (&ls);
  check_ledger_sums (&ls, c->ledger, what, 0);
  g_array_unref (ls.sums);
  got = fingerprint (c);
  assert_same (want, got, what);
  return c;
}

START_TEST (test_random_ops_store)
{
  guint n = n_ops_per_run (22000);
  guint64 total = 0;
  g_autoptr(GError) err = NULL;
  g_autofree char *dir = g_dir_make_tmp ("ft-random-ops-XXXXXX", &err);

  ck_assert_msg (dir != NULL, "%s", err ? err->message : "");
  for (guint run = 0; run < N_RUNS; run++)
    {
      Driver d;
      g_autofree char *path = g_strdup_printf ("%s/run%u.sqlite", dir, run);
      g_autofree char *want = NULL, *want2 = NULL;
      FtCore *core = make_core (2000 + run), *again;
      guint64 seed = 2000 + run;
      FtStoreConfig scfg;

      scfg = store_cfg ();
      ck_assert_msg (ft_core_attach_store (core, path, &scfg, &err), "attach: %s", err ? err->message : "");
      driver_init (&d, 99 + run, core);
      seed_world (&d);
      for (guint i = 0; i < n; i++)
        {
          step (&d, i);
          ck_assert_msg (ft_core_maybe_commit (core, d.now, &err), "step %u: commit: %s", i, err->message);
        }
      assert_coverage (&d, n);
      total += n;
      ck_assert_msg (ft_core_detach_store (core, &err), "detach: %s", err ? err->message : "");
      want = fingerprint (core);
      driver_fini (&d);
      ft_core_free (core);

      /* Reopen into a fresh core, compare, carry on, and round-trip again. */
      again = reopen (path, seed, want, "reload 1");
      ck_assert_msg (ft_core_detach_store (again, &err), "%s", err ? err->message : "");
      ck_assert (ft_core_attach_store (again, path, NULL, &err) == FALSE);   /* core not empty, file not fresh */
      g_clear_error (&err);
      {
        g_autoptr(FtCore) c2 = reopen (path, seed, want, "reload 1b");
        ck_assert_msg (ft_core_check (c2, &err), "%s", err ? err->message : "");
        driver_init (&d, 555 + run, c2);
        d.now = 7 * FT_HOUR + (FtTime) n * 40 * FT_SECOND + FT_DAY;   /* later than any event */
        check_ledger_sums (&d.ls, c2->ledger, "reload", 0);
        for (guint i = 0; i < n / 5; i++)
          {
            step (&d, i);
            ck_assert_msg (ft_core_maybe_commit (c2, d.now, &err), "step %u: commit: %s", i, err->message);
          }
        total += n / 5;
        ck_assert_msg (ft_core_detach_store (c2, &err), "%s", err ? err->message : "");
        want2 = fingerprint (c2);
        driver_fini (&d);
      }
      ft_core_free (again);
      {
        g_autoptr(FtCore) c3 = reopen (path, seed, want2, "reload 2");
      }
      ck_assert (ft_store_remove_files (path, NULL));
    }
  g_rmdir (dir);
  fprintf (stderr, "random ops (store): %" G_GUINT64_FORMAT " operations, checked after each "
           "and after every reopen\n", total);
}
END_TEST

static Suite *
random_ops_suite (void)
{
  Suite *s = suite_create ("random-ops");
  TCase *tc = tcase_create ("memory");
  tcase_set_timeout (tc, 600);
  tcase_add_test (tc, test_random_ops_memory);
  suite_add_tcase (s, tc);
  tc = tcase_create ("store");
  tcase_set_timeout (tc, 600);
  tcase_add_test (tc, test_random_ops_store);
  suite_add_tcase (s, tc);
  return s;
}

int
main (void)
{
  SRunner *sr = srunner_create (random_ops_suite ());
  int failed;

  srunner_run_all (sr, CK_NORMAL);
  failed = srunner_ntests_failed (sr);
  srunner_free (sr);
  return failed ? 1 : 0;
}
