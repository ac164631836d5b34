/* test-booking.c — Check tests for src/booking through a real FtCore: find
 * (kind mask, range margin, nearest first), reserve/unlock/end with hold and
 * capture, walk-up start, pause/resume, cancel, expiry (eager and lazy),
 * restore, the checker, and every refusal: each must name the problem,
 * append FT_EV_BOOKING_REFUSED with its code and leave all state untouched.
 */
#include <check.h>
#include <string.h>
#include <glib/gstdio.h>

#include "ft-core.h"
#include "test-town.h"

#define T0 (8 * FT_HOUR)                 /* Monday 08:00 */

typedef struct {
  FtCore *core;
  guint   v[6];         /* 0,1 scooters near centre; 2 bike; 3 moped; 4 flat scooter; 5 in yard */
  guint   r[3];         /* riders */
  guint   staff;
  guint   erased;
} Fx;

static void
add_pack (FtCore *core, guint v, double soc)
{
  g_autoptr(GError) err = NULL;
  const FtVehicleType *ty = ft_vehicle_type_default (ft_fleet_get_vehicle (core->fleet, v)->kind);
  ft_fleet_add_pack (core->fleet, ty->pack_capacity_wh, soc, FT_PACK_IN_VEHICLE, (gint32) v, T0, &err);
  ck_assert_msg (err == NULL, "add_pack: %s", err ? err->message : "");
}

static guint
rider (FtCore *core, const char *name, guint32 roles)
{
  g_autoptr(GError) err = NULL;
  g_autofree char *email = g_strdup_printf ("%s@example.org", name);
  gint i = ft_accounts_create (core->accounts, roles, name, email, T0, &err);
  ck_assert_msg (i >= 0, "create: %s", err ? err->message : "");
  return (guint) i;
}

static void
topup (FtCore *core, guint r, gint64 amount, const char *key)
{
  g_autoptr(GError) err = NULL;
  ck_assert_msg (ft_payments_topup (core->payments, r, amount, key, T0, &err) >= 0,
                 "topup: %s", err ? err->message : "");
}

static void
assert_ok (FtCore *core)
{
  g_autoptr(GError) err = NULL;
  ck_assert_msg (ft_core_check (core, &err), "core check: %s", err ? err->message : "");
}

/* summary: the core keeps summary records (no ledger journal, closed
 * bookings released), as a simulation's summary_records sets it. */
static void
fx_init_mode (Fx *fx, double decline, gint64 auto_topup, gboolean summary)
{
  FtCoreConfig cfg;
  FtBBox bb;
  g_autoptr(GError) err = NULL;

  memset (fx, 0, sizeof *fx);
  ft_core_config_init (&cfg);
  cfg.seed = 7;
  cfg.card_decline_rate = decline;
  cfg.auto_topup_minor = auto_topup;
  fx->core = ft_core_new (&cfg, test_town_geofences (100), NULL);
  if (summary)
    {
      ft_ledger_set_journal (fx->core->ledger, FALSE);
      ft_booking_set_release (fx->core->booking, TRUE);
    }
  ft_bbox_init_empty (&bb);
  ft_bbox_extend (&bb, test_town_at (-1500, -1500));
  ft_bbox_extend (&bb, test_town_at (1500, 1500));
  ft_fleet_enable_index (fx->core->fleet, bb, 100);

  fx->v[0] = ft_fleet_add_vehicle (fx->core->fleet, FT_KIND_SCOOTER, test_town_at (50, 0), NULL, T0);
  fx->v[1] = ft_fleet_add_vehicle (fx->core->fleet, FT_KIND_SCOOTER, test_town_at (120, 0), NULL, T0);
  fx->v[2] = ft_fleet_add_vehicle (fx->core->fleet, FT_KIND_BIKE, test_town_at (0, 80), NULL, T0);
  fx->v[3] = ft_fleet_add_vehicle (fx->core->fleet, FT_KIND_MOPED, test_town_at (0, -200), NULL, T0);
  fx->v[4] = ft_fleet_add_vehicle (fx->core->fleet, FT_KIND_SCOOTER, test_town_at (10, 10), NULL, T0);
  fx->v[5] = ft_fleet_add_vehicle (fx->core->fleet, FT_KIND_BIKE, test_town_at (-400, 0), NULL, T0);
  add_pack (fx->core, fx->v[0], 0.9);
  add_pack (fx->core, fx->v[1], 0.3);
  add_pack (fx->core, fx->v[2], 0.9);
  add_pack (fx->core, fx->v[3], 0.9);
  add_pack (fx->core, fx->v[4], 0.01);
  add_pack (fx->core, fx->v[5], 0.9);

  fx->r[0] = rider (fx->core, "ana", FT_ROLE_RIDER);
  fx->r[1] = rider (fx->core, "ben", FT_ROLE_RIDER);
  fx->r[2] = rider (fx->core, "cat", FT_ROLE_RIDER);
  fx->staff = rider (fx->core, "sam", FT_ROLE_FIELD);
  fx->erased = rider (fx->core, "eve", FT_ROLE_RIDER);
  ck_assert (ft_accounts_erase (fx->core->accounts, fx->erased, fx->erased, T0, &err));
  topup (fx->core, fx->r[0], 5000, "t0");
  topup (fx->core, fx->r[1], 5000, "t1");
  topup (fx->core, fx->r[2], 5000, "t2");
  assert_ok (fx->core);
}

static void
fx_init (Fx *fx, double decline, gint64 auto_topup)
{
  fx_init_mode (fx, decline, auto_topup, FALSE);
}

static void
fx_fini (Fx *fx)
{
  ft_core_free (fx->core);
}

/* Snapshot of everything a refusal must leave alone. */
typedef struct {
  guint   n_bookings, n_tx;
  guint64 refused;
  FtVehicleState vstate[6];
  gint64  vbooking[6];
  gint64  open[3];
  gint64  wallet[3];
} Snap;

static Snap
snap (Fx *fx)
{
  Snap s;
  memset (&s, 0, sizeof s);
  s.n_bookings = ft_booking_n (fx->core->booking);
  s.n_tx = ft_ledger_n_tx (fx->core->ledger);
  s.refused = ft_event_log_count (fx->core->log, FT_EV_BOOKING_REFUSED);
  for (int i = 0; i < 6; i++)
    {
      s.vstate[i] = ft_fleet_get_vehicle (fx->core->fleet, fx->v[i])->state;
      s.vbooking[i] = ft_fleet_get_vehicle (fx->core->fleet, fx->v[i])->booking;
    }
  for (int i = 0; i < 3; i++)
    {
      s.open[i] = ft_booking_open_for (fx->core->booking, fx->r[i]);
      s.wallet[i] = ft_payments_wallet (fx->core->payments, fx->r[i]);
    }
  return s;
}

/* After a refusal: error code and message, one refusal event with the code,
 * nothing else changed. Advances before->refused. */
static void
assert_refused (Fx *fx, Snap *before, GError *err, FtBookingError code, const char *needle)
{
  Snap now = snap (fx);
  guint n;
  const FtEvent *ev;

  ck_assert_msg (err != NULL, "expected a refusal (code %d)", code);
  ck_assert_msg (g_error_matches (err, FT_BOOKING_ERROR, code),
                 "expected code %d, got %s %d: %s", code, g_quark_to_string (err->domain),
                 err->code, err->message);
  if (needle)
    ck_assert_msg (strstr (err->message, needle) != NULL, "message '%s' lacks '%s'", err->message, needle);
  ck_assert_uint_eq (now.refused, before->refused + 1);
  ev = ft_event_log_pending (fx->core->log, &n);
  ck_assert_uint_gt (n, 0);
  ck_assert_int_eq (ev[n - 1].kind, FT_EV_BOOKING_REFUSED);
  ck_assert_int_eq (ev[n - 1].a, code);
  before->refused = now.refused;   /* the next refusal counts from here */
  ck_assert_msg (memcmp (&now, before, sizeof now) == 0, "a refusal changed state");
  assert_ok (fx->core);
}

/* ------------------------------------------------------------------ find */

START_TEST (test_find)
{
  Fx fx;
  FtFindResult out[8];
  guint n;
  double r0, r1;

  fx_init (&fx, 0.0, 2000);
  r0 = ft_fleet_range_m (fx.core->fleet, fx.v[0]);
  r1 = ft_fleet_range_m (fx.core->fleet, fx.v[1]);
  ck_assert_double_gt (r0, r1);

  /* All kinds, short trip: nearest first; the flat scooter is never offered,
   * nor the yard bike beyond the radius. */
  n = ft_booking_find (fx.core->booking, test_town_at (0, 0), 300, 100, 0, out, 8);
  ck_assert_uint_eq (n, 4);
  ck_assert_uint_eq (out[0].vehicle, fx.v[0]);
  ck_assert_uint_eq (out[1].vehicle, fx.v[2]);
  ck_assert_uint_eq (out[2].vehicle, fx.v[1]);
  ck_assert_uint_eq (out[3].vehicle, fx.v[3]);
  for (guint i = 1; i < n; i++)
    ck_assert_double_le (out[i - 1].walk_m, out[i].walk_m);
  ck_assert_double_eq_tol (out[0].walk_m, 50.0, 1.0);
  ck_assert_double_eq_tol (out[0].range_m, r0, 1e-6);

  /* max_out bounds the answer */
  ck_assert_uint_eq (ft_booking_find (fx.core->booking, test_town_at (0, 0), 300, 100, 0, out, 2), 2);
  ck_assert_uint_eq (out[1].vehicle, fx.v[2]);

  /* Kind mask: scooters only. */
  n = ft_booking_find (fx.core->booking, test_town_at (0, 0), 300, 100, 1u << FT_KIND_SCOOTER, out, 8);
  ck_assert_uint_eq (n, 2);
  ck_assert_uint_eq (out[0].vehicle, fx.v[0]);
  ck_assert_uint_eq (out[1].vehicle, fx.v[1]);

  /* Range with the 20 % margin: a trip that v1 covers bare but not with margin. */
  n = ft_booking_find (fx.core->booking, test_town_at (0, 0), 300, r1 / 1.1, 1u << FT_KIND_SCOOTER, out, 8);
  ck_assert_uint_eq (n, 1);
  ck_assert_uint_eq (out[0].vehicle, fx.v[0]);
  n = ft_booking_find (fx.core->booking, test_town_at (0, 0), 300, r1 / 1.3, 1u << FT_KIND_SCOOTER, out, 8);
  ck_assert_uint_eq (n, 2);

  /* Radius */
  n = ft_booking_find (fx.core->booking, test_town_at (0, 0), 60, 100, 0, out, 8);
  ck_assert_uint_eq (n, 1);
  ck_assert_uint_eq (ft_booking_find (fx.core->booking, test_town_at (900, 900), 100, 100, 0, out, 8), 0);

  /* Reserved vehicles drop out. */
  ck_assert_int_ge (ft_booking_reserve (fx.core->booking, fx.r[0], fx.v[0], T0, NULL), 0);
  n = ft_booking_find (fx.core->booking, test_town_at (0, 0), 300, 100, 0, out, 8);
  ck_assert_uint_eq (n, 3);
  ck_assert_uint_eq (out[0].vehicle, fx.v[2]);

  /* More hits than the search keeps on its stack: all of them, in order of
   * walk then vehicle (two at each distance). */
  guint first = ft_fleet_n_vehicles (fx.core->fleet);
  for (guint i = 0; i < 80; i++)
    {
      guint v = ft_fleet_add_vehicle (fx.core->fleet, FT_KIND_SCOOTER,
                                      test_town_at (700 + 2.0 * (i / 2), i % 2 ? 500 : 900), NULL, T0);
      add_pack (fx.core, v, 0.9);
    }
  FtFindResult many[100];
  n = ft_booking_find (fx.core->booking, test_town_at (700, 700), 400, 100, 0, many, 100);
  ck_assert_uint_eq (n, 80);
  for (guint i = 1; i < n; i++)
    {
      ck_assert_double_le (many[i - 1].walk_m, many[i].walk_m);
      if (many[i - 1].walk_m == many[i].walk_m)
        ck_assert_uint_lt (many[i - 1].vehicle, many[i].vehicle);
    }
  ck_assert_uint_ge (many[0].vehicle, first);
  fx_fini (&fx);
}
END_TEST

/* ft_booking_offer is find's test for one vehicle: what find lists it
 * gives entry for entry, and what find leaves out it refuses. */
START_TEST (test_offer)
{
  Fx fx;
  FtFindResult out[8], o;
  FtLatLon at = test_town_at (0, 0);
  const guint32 masks[] = { 0, 1u << FT_KIND_SCOOTER, 1u << FT_KIND_BIKE };

  fx_init (&fx, 0.0, 2000);
  double r1 = ft_fleet_range_m (fx.core->fleet, fx.v[1]);
  const double trips[] = { 100, r1 / 1.1, r1 / 1.3 };
  for (int round = 0; round < 2; round++)
    {
      for (guint m = 0; m < G_N_ELEMENTS (masks); m++)
        for (guint t = 0; t < G_N_ELEMENTS (trips); t++)
          {
            guint n = ft_booking_find (fx.core->booking, at, 1000, trips[t], masks[m], out, 8);
            for (guint v = 0; v < 6; v++)
              {
                gint k = -1;
                for (guint i = 0; i < n; i++)
                  if (out[i].vehicle == fx.v[v])
                    k = (gint) i;
                double walk = ft_distance_m (at, ft_fleet_get_vehicle (fx.core->fleet, fx.v[v])->pos);
                gboolean offered = ft_booking_offer (fx.core->booking, fx.v[v], walk, trips[t], masks[m], &o);
                ck_assert_msg (offered == (k >= 0), "vehicle %u, mask %u, trip %u: offer %d, find %d",
                               v, m, t, offered, k);
                if (offered)
                  {
                    ck_assert_uint_eq (o.vehicle, out[k].vehicle);
                    ck_assert (o.walk_m == out[k].walk_m);
                    ck_assert (o.range_m == out[k].range_m);
                  }
              }
          }
      /* then again with v0 reserved: it drops out of both */
      if (round == 0)
        ck_assert_int_ge (ft_booking_reserve (fx.core->booking, fx.r[0], fx.v[0], T0, NULL), 0);
      ck_assert (!ft_booking_offer (fx.core->booking, fx.v[0], 50, 100, 0, &o));
    }
  ck_assert (!ft_booking_offer (fx.core->booking, ft_fleet_n_vehicles (fx.core->fleet), 0, 100, 0, &o));
  fx_fini (&fx);
}
END_TEST

/* Reservations made in order queue their expiries in a FIFO, others (a
 * restored booking whose hold comes before the last) in the heap: the
 * next expiry is the earliest live one of both. */
START_TEST (test_expiry_queues)
{
  Fx fx;
  g_autoptr(GError) err = NULL;

  fx_init (&fx, 0.0, 2000);
  gint64 b = ft_booking_reserve (fx.core->booking, fx.r[1], fx.v[1], T0, &err);
  gint64 a = ft_booking_reserve (fx.core->booking, fx.r[0], fx.v[0], T0 + 5 * FT_MINUTE, &err);
  ck_assert_int_ge (a, 0);
  ck_assert_int_ge (b, 0);
  ck_assert_int_eq (ft_booking_next_expiry (fx.core->booking), T0 + 10 * FT_MINUTE);
  /* b's hold, restored to end at 12 minutes: out of order behind a's 15 */
  FtBookingRec rb = *ft_booking_get (fx.core->booking, b);
  rb.hold_until = T0 + 12 * FT_MINUTE;
  ft_booking_restore (fx.core->booking, &rb);
  ck_assert_int_eq (ft_booking_next_expiry (fx.core->booking), T0 + 12 * FT_MINUTE);
  ck_assert_uint_eq (ft_booking_expire (fx.core->booking, T0 + 12 * FT_MINUTE), 1);
  ck_assert_int_eq (ft_booking_get (fx.core->booking, b)->state, FT_BK_EXPIRED);
  ck_assert_int_eq (ft_booking_next_expiry (fx.core->booking), T0 + 15 * FT_MINUTE);
  /* a new one in order behind a; a unlocked: its entry is dropped */
  gint64 c = ft_booking_reserve (fx.core->booking, fx.r[2], fx.v[2], T0 + 13 * FT_MINUTE, &err);
  ck_assert_int_ge (c, 0);
  ck_assert (ft_booking_unlock (fx.core->booking, a, fx.r[0], T0 + 14 * FT_MINUTE, &err));
  ck_assert_int_eq (ft_booking_next_expiry (fx.core->booking), T0 + 23 * FT_MINUTE);
  ck_assert (ft_booking_cancel (fx.core->booking, c, fx.r[2], T0 + 14 * FT_MINUTE, &err));
  ck_assert_int_eq (ft_booking_next_expiry (fx.core->booking), G_MAXINT64);
  /* many in order, every other one cancelled: the FIFO drops the dead
   * ones as they reach its head and moves its rest to the front */
  guint nv = ft_fleet_n_vehicles (fx.core->fleet);
  for (guint i = 0; i < 5000; i++)
    {
      guint v = ft_fleet_add_vehicle (fx.core->fleet, FT_KIND_SCOOTER, test_town_at (300, 300), NULL, T0);
      add_pack (fx.core, v, 0.9);
      g_autofree char *name = g_strdup_printf ("q%u", i);
      guint r = rider (fx.core, name, FT_ROLE_RIDER);
      FtTime t = T0 + 20 * FT_MINUTE + i;
      gint64 k = ft_booking_reserve (fx.core->booking, r, v, t, &err);
      ck_assert_msg (k >= 0, "%s", err ? err->message : "");
      if (i % 2 == 0)
        ck_assert (ft_booking_cancel (fx.core->booking, k, r, t, &err));
    }
  ck_assert_uint_eq (ft_fleet_n_vehicles (fx.core->fleet), nv + 5000);
  for (guint i = 1; i < 5000; i += 2)
    {
      FtTime due = T0 + 30 * FT_MINUTE + i;
      ck_assert_int_eq (ft_booking_next_expiry (fx.core->booking), due);
      ck_assert_uint_eq (ft_booking_expire (fx.core->booking, due), 1);
    }
  ck_assert_int_eq (ft_booking_next_expiry (fx.core->booking), G_MAXINT64);
  assert_ok (fx.core);
  fx_fini (&fx);
}
END_TEST

/* ------------------------------------------------------------ core loop */

START_TEST (test_reserve_unlock_end)
{
  Fx fx;
  g_autoptr(GError) err = NULL;
  FtPriceBreakdown price, expect;
  FtTripQuote q;
  const FtBookingRec *r;
  const FtVehicle *v;
  gint64 bk, wallet0 = 0, revenue0;
  guint64 ended0;

  fx_init (&fx, 0.0, 2000);
  revenue0 = ft_ledger_total (fx.core->ledger, FT_LACC_REVENUE);
  bk = ft_booking_reserve (fx.core->booking, fx.r[0], fx.v[0], T0, &err);
  ck_assert_msg (bk >= 0, "%s", err ? err->message : "");
  r = ft_booking_get (fx.core->booking, bk);
  ck_assert_int_eq (r->state, FT_BK_RESERVED);
  ck_assert_int_eq (r->reserved_at, T0);
  ck_assert_int_eq (r->hold_until, T0 + 10 * FT_MINUTE);
  ck_assert_int_eq (r->hold_tx, -1);
  ck_assert_int_eq (ft_booking_open_for (fx.core->booking, fx.r[0]), bk);
  v = ft_fleet_get_vehicle (fx.core->fleet, fx.v[0]);
  ck_assert_int_eq (v->state, FT_STATE_RESERVED);
  ck_assert_int_eq (v->booking, bk);
  ck_assert_uint_eq (ft_event_log_count (fx.core->log, FT_EV_BOOKING_RESERVED), 1);
  ck_assert_int_eq (ft_booking_next_expiry (fx.core->booking), T0 + 10 * FT_MINUTE);
  assert_ok (fx.core);

  wallet0 = ft_payments_wallet (fx.core->payments, fx.r[0]);
  ck_assert (ft_booking_unlock (fx.core->booking, bk, fx.r[0], T0 + 2 * FT_MINUTE, &err));
  r = ft_booking_get (fx.core->booking, bk);
  ck_assert_int_eq (r->state, FT_BK_ACTIVE);
  ck_assert_int_eq (r->unlocked_at, T0 + 2 * FT_MINUTE);
  ck_assert_int_ge (r->hold_tx, 0);
  {
    char trip[37];
    ck_assert (ft_booking_trip_id (fx.core->booking, bk, trip));
    ck_assert (ft_uuid_valid (trip));
  }
  ck_assert (ft_payments_has_hold (fx.core->payments, bk));
  ck_assert_int_eq (ft_payments_held (fx.core->payments, fx.r[0]), 1000);
  ck_assert_int_eq (ft_payments_wallet (fx.core->payments, fx.r[0]), wallet0 - 1000);
  ck_assert_int_eq (ft_fleet_get_vehicle (fx.core->fleet, fx.v[0])->state, FT_STATE_ON_TRIP);
  ck_assert_int_eq (ft_booking_next_expiry (fx.core->booking), G_MAXINT64);
  assert_ok (fx.core);

  ended0 = ft_event_log_count (fx.core->log, FT_EV_BOOKING_ENDED);
  ck_assert (ft_booking_end (fx.core->booking, bk, fx.r[0], test_town_at (200, 300), 1800,
                             T0 + 14 * FT_MINUTE, &price, &err));
  memset (&q, 0, sizeof q);
  q.minutes = 12;
  q.km = 1.8;
  q.start = test_town_at (50, 0);
  q.end = test_town_at (200, 300);
  q.at = T0 + 2 * FT_MINUTE;
  q.vehicle_kind = FT_KIND_SCOOTER;
  ck_assert (ft_pricing_quote (fx.core->pricing, &q, &expect, NULL));
  ck_assert_int_eq (price.total, expect.total);
  ck_assert_int_eq (price.total, 100 + 12 * 25);   /* default plan: 1.00 + 0.25/min */
  r = ft_booking_get (fx.core->booking, bk);
  ck_assert_int_eq (r->state, FT_BK_ENDED);
  ck_assert_int_eq (r->price_minor, price.total);
  ck_assert_int_ge (r->capture_tx, 0);
  ck_assert_int_eq (r->ended_at, T0 + 14 * FT_MINUTE);
  ck_assert_double_eq (r->distance_m, 1800);
  ck_assert (!ft_payments_has_hold (fx.core->payments, bk));
  ck_assert_int_eq (ft_payments_captured (fx.core->payments, bk), price.total);
  ck_assert_int_eq (ft_payments_wallet (fx.core->payments, fx.r[0]), wallet0 - price.total);
  ck_assert_int_eq (ft_ledger_total (fx.core->ledger, FT_LACC_REVENUE) - revenue0, price.total);
  v = ft_fleet_get_vehicle (fx.core->fleet, fx.v[0]);
  ck_assert_int_eq (v->state, FT_STATE_AVAILABLE);
  ck_assert_int_eq (v->booking, -1);
  ck_assert_double_lt (ft_distance_m (v->pos, test_town_at (200, 300)), 0.01);
  ck_assert_double_ge (v->odometer_m, 1800);
  ck_assert_uint_eq (ft_accounts_get (fx.core->accounts, fx.r[0])->trips, 1);
  ck_assert_int_eq (ft_booking_open_for (fx.core->booking, fx.r[0]), -1);
  ck_assert_uint_eq (ft_event_log_count (fx.core->log, FT_EV_BOOKING_ENDED), ended0 + 1);
  assert_ok (fx.core);

  /* The rider can book again, the vehicle can be found at its new place. */
  ck_assert_int_ge (ft_booking_reserve (fx.core->booking, fx.r[0], fx.v[0], T0 + 15 * FT_MINUTE, NULL), 0);
  assert_ok (fx.core);
  fx_fini (&fx);
}
END_TEST

START_TEST (test_walkup_start)
{
  Fx fx;
  g_autoptr(GError) err = NULL;
  const FtBookingRec *r;
  gint64 bk;

  fx_init (&fx, 0.0, 2000);
  bk = ft_booking_start (fx.core->booking, fx.r[1], fx.v[2], T0, &err);
  ck_assert_msg (bk >= 0, "%s", err ? err->message : "");
  r = ft_booking_get (fx.core->booking, bk);
  ck_assert_int_eq (r->state, FT_BK_ACTIVE);
  ck_assert_int_eq (r->reserved_at, -1);
  ck_assert_int_eq (r->unlocked_at, T0);
  {
    char trip[37];
    ck_assert (ft_booking_trip_id (fx.core->booking, bk, trip));
    ck_assert (ft_uuid_valid (trip));
  }
  ck_assert (ft_payments_has_hold (fx.core->payments, bk));
  ck_assert_int_eq (ft_fleet_get_vehicle (fx.core->fleet, fx.v[2])->state, FT_STATE_ON_TRIP);
  assert_ok (fx.core);
  ck_assert (ft_booking_end (fx.core->booking, bk, fx.r[1], test_town_at (10, 10), 900, T0 + 5 * FT_MINUTE, NULL, &err));
  ck_assert_int_eq (ft_booking_get (fx.core->booking, bk)->price_minor, 100 + 5 * 25);
  assert_ok (fx.core);

  /* Walking up to one's own reservation unlocks it. */
  {
    gint64 res = ft_booking_reserve (fx.core->booking, fx.r[0], fx.v[0], T0 + 5 * FT_MINUTE, &err);
    ck_assert_int_ge (res, 0);
    ck_assert_int_eq (ft_booking_start (fx.core->booking, fx.r[0], fx.v[0], T0 + 6 * FT_MINUTE, &err), res);
    r = ft_booking_get (fx.core->booking, res);
    ck_assert_int_eq (r->state, FT_BK_ACTIVE);
    ck_assert_int_eq (r->reserved_at, T0 + 5 * FT_MINUTE);
    assert_ok (fx.core);
  }

  /* Two trips get different trip ids. */
  bk = ft_booking_start (fx.core->booking, fx.r[1], fx.v[2], T0 + 6 * FT_MINUTE, &err);
  ck_assert_int_ge (bk, 0);
  {
    char t1[37], t2[37];
    ck_assert (ft_booking_trip_id (fx.core->booking, bk, t1));
    ck_assert (ft_booking_trip_id (fx.core->booking, bk - 1, t2));
    ck_assert_str_ne (t1, t2);
  }
  fx_fini (&fx);
}
END_TEST

START_TEST (test_pause_resume)
{
  Fx fx;
  g_autoptr(GError) err = NULL;
  const FtBookingRec *r;
  FtVehicleState paused;
  gint64 bk;

  fx_init (&fx, 0.0, 2000);
  ck_assert (ft_vehicle_transition (FT_STATE_ON_TRIP, FT_VEV_TRIP_PAUSE, &paused));
  bk = ft_booking_start (fx.core->booking, fx.r[0], fx.v[0], T0, &err);
  ck_assert (ft_booking_pause (fx.core->booking, bk, fx.r[0], T0 + 3 * FT_MINUTE, &err));
  r = ft_booking_get (fx.core->booking, bk);
  ck_assert_int_eq (r->state, FT_BK_PAUSED);
  ck_assert_int_eq (r->paused_since, T0 + 3 * FT_MINUTE);
  ck_assert_int_eq (ft_fleet_get_vehicle (fx.core->fleet, fx.v[0])->state, paused);
  ck_assert_int_eq (ft_fleet_get_vehicle (fx.core->fleet, fx.v[0])->last_event, FT_VEV_TRIP_PAUSE);
  ck_assert_uint_eq (ft_event_log_count (fx.core->log, FT_EV_BOOKING_PAUSED), 1);
  assert_ok (fx.core);
  ck_assert (ft_booking_resume (fx.core->booking, bk, fx.r[0], T0 + 7 * FT_MINUTE, &err));
  r = ft_booking_get (fx.core->booking, bk);
  ck_assert_int_eq (r->state, FT_BK_ACTIVE);
  ck_assert_int_eq (r->paused_ms, 4 * FT_MINUTE);
  ck_assert_int_eq (r->paused_since, -1);
  ck_assert_int_eq (ft_fleet_get_vehicle (fx.core->fleet, fx.v[0])->state, FT_STATE_ON_TRIP);
  ck_assert_int_eq (ft_fleet_get_vehicle (fx.core->fleet, fx.v[0])->last_event, FT_VEV_TRIP_RESUME);
  assert_ok (fx.core);

  /* Ending while paused: resumed and ended; the pause is billed (vehicle was held). */
  ck_assert (ft_booking_pause (fx.core->booking, bk, fx.r[0], T0 + 8 * FT_MINUTE, &err));
  ck_assert (ft_booking_end (fx.core->booking, bk, fx.r[0], test_town_at (0, 0), 500, T0 + 10 * FT_MINUTE, NULL, &err));
  r = ft_booking_get (fx.core->booking, bk);
  ck_assert_int_eq (r->state, FT_BK_ENDED);
  ck_assert_int_eq (r->paused_ms, 6 * FT_MINUTE);
  ck_assert_int_eq (r->price_minor, 100 + 10 * 25);
  ck_assert_int_eq (ft_fleet_get_vehicle (fx.core->fleet, fx.v[0])->state, FT_STATE_AVAILABLE);
  assert_ok (fx.core);
  fx_fini (&fx);
}
END_TEST

START_TEST (test_cancel)
{
  Fx fx;
  g_autoptr(GError) err = NULL;
  Snap s;
  gint64 bk, bk2;

  fx_init (&fx, 0.0, 2000);
  bk = ft_booking_reserve (fx.core->booking, fx.r[0], fx.v[0], T0, &err);
  s = snap (&fx);
  ck_assert (ft_booking_cancel (fx.core->booking, bk, fx.r[0], T0 + FT_MINUTE, &err));
  ck_assert_int_eq (ft_booking_get (fx.core->booking, bk)->state, FT_BK_CANCELLED);
  ck_assert_int_eq (ft_booking_get (fx.core->booking, bk)->ended_at, T0 + FT_MINUTE);
  ck_assert_int_eq (ft_fleet_get_vehicle (fx.core->fleet, fx.v[0])->state, FT_STATE_AVAILABLE);
  ck_assert_int_eq (ft_fleet_get_vehicle (fx.core->fleet, fx.v[0])->booking, -1);
  ck_assert_int_eq (ft_booking_open_for (fx.core->booking, fx.r[0]), -1);
  ck_assert_int_eq (ft_payments_wallet (fx.core->payments, fx.r[0]), s.wallet[0]);   /* free */
  ck_assert_uint_eq (ft_ledger_n_tx (fx.core->ledger), s.n_tx);
  assert_ok (fx.core);

  /* Cancelling twice, or an active trip, is refused. */
  s = snap (&fx);
  ck_assert (!ft_booking_cancel (fx.core->booking, bk, fx.r[0], T0 + FT_MINUTE, &err));
  assert_refused (&fx, &s, err, FT_BOOKING_ERROR_WRONG_STATE, "already closed");
  g_clear_error (&err);

  bk2 = ft_booking_start (fx.core->booking, fx.r[0], fx.v[0], T0 + 2 * FT_MINUTE, &err);
  ck_assert_int_ge (bk2, 0);
  s = snap (&fx);
  ck_assert (!ft_booking_cancel (fx.core->booking, bk2, fx.r[0], T0 + 3 * FT_MINUTE, &err));
  assert_refused (&fx, &s, err, FT_BOOKING_ERROR_WRONG_STATE, "cannot be cancelled, only ended");
  fx_fini (&fx);
}
END_TEST

START_TEST (test_expire)
{
  Fx fx;
  g_autoptr(GError) err = NULL;
  Snap s;
  gint64 a, b, c;

  fx_init (&fx, 0.0, 2000);
  a = ft_booking_reserve (fx.core->booking, fx.r[0], fx.v[0], T0, &err);
  b = ft_booking_reserve (fx.core->booking, fx.r[1], fx.v[1], T0 + 5 * FT_MINUTE, &err);
  ck_assert_int_eq (ft_booking_next_expiry (fx.core->booking), T0 + 10 * FT_MINUTE);
  ck_assert_uint_eq (ft_booking_expire (fx.core->booking, T0 + 10 * FT_MINUTE - 1), 0);
  ck_assert_uint_eq (ft_booking_expire (fx.core->booking, T0 + 10 * FT_MINUTE), 1);
  ck_assert_int_eq (ft_booking_get (fx.core->booking, a)->state, FT_BK_EXPIRED);
  ck_assert_int_eq (ft_booking_get (fx.core->booking, b)->state, FT_BK_RESERVED);
  ck_assert_int_eq (ft_fleet_get_vehicle (fx.core->fleet, fx.v[0])->state, FT_STATE_AVAILABLE);
  ck_assert_int_eq (ft_booking_open_for (fx.core->booking, fx.r[0]), -1);
  ck_assert_int_eq (ft_booking_next_expiry (fx.core->booking), T0 + 15 * FT_MINUTE);
  ck_assert_uint_eq (ft_event_log_count (fx.core->log, FT_EV_BOOKING_EXPIRED), 1);
  assert_ok (fx.core);

  /* Unlocking an expired booking is refused with EXPIRED. */
  s = snap (&fx);
  ck_assert (!ft_booking_unlock (fx.core->booking, a, fx.r[0], T0 + 11 * FT_MINUTE, &err));
  assert_refused (&fx, &s, err, FT_BOOKING_ERROR_EXPIRED, "reserve the vehicle again");
  g_clear_error (&err);

  /* Lazy expiry: past its hold, b can no longer be unlocked (it expires on
   * the spot), and another rider may take the vehicle. */
  ck_assert (!ft_booking_unlock (fx.core->booking, b, fx.r[1], T0 + 16 * FT_MINUTE, &err));
  ck_assert (g_error_matches (err, FT_BOOKING_ERROR, FT_BOOKING_ERROR_EXPIRED));
  ck_assert_int_eq (ft_booking_get (fx.core->booking, b)->state, FT_BK_EXPIRED);
  g_clear_error (&err);
  assert_ok (fx.core);

  c = ft_booking_reserve (fx.core->booking, fx.r[1], fx.v[0], T0 + 20 * FT_MINUTE, &err);
  ck_assert_int_ge (c, 0);
  /* Another rider takes c's vehicle after its hold ran out without expire(). */
  ck_assert_int_ge (ft_booking_start (fx.core->booking, fx.r[2], fx.v[0], T0 + 31 * FT_MINUTE, &err), 0);
  ck_assert_int_eq (ft_booking_get (fx.core->booking, c)->state, FT_BK_EXPIRED);
  ck_assert_int_eq (ft_booking_open_for (fx.core->booking, fx.r[1]), -1);
  assert_ok (fx.core);
  fx_fini (&fx);
}
END_TEST

/* -------------------------------------------------------------- refusals */

START_TEST (test_refuse_reserved_by_other)
{
  Fx fx;
  g_autoptr(GError) err = NULL;
  g_autofree char *want = NULL;
  Snap s;
  gint64 bk;

  fx_init (&fx, 0.0, 2000);
  bk = ft_booking_reserve (fx.core->booking, fx.r[0], fx.v[0], T0 + 4 * FT_MINUTE, &err);
  ck_assert_int_ge (bk, 0);
  want = g_strdup_printf ("%s is reserved by another rider until 08:14",
                          ft_fleet_get_vehicle (fx.core->fleet, fx.v[0])->name);
  s = snap (&fx);
  ck_assert_int_eq (ft_booking_reserve (fx.core->booking, fx.r[1], fx.v[0], T0 + 5 * FT_MINUTE, &err), -1);
  assert_refused (&fx, &s, err, FT_BOOKING_ERROR_RESERVED_BY_OTHER, want);
  g_clear_error (&err);
  ck_assert_int_eq (ft_booking_start (fx.core->booking, fx.r[1], fx.v[0], T0 + 5 * FT_MINUTE, &err), -1);
  assert_refused (&fx, &s, err, FT_BOOKING_ERROR_RESERVED_BY_OTHER, want);
  g_clear_error (&err);
  s = snap (&fx);

  /* Unlocking someone else's booking. */
  ck_assert (!ft_booking_unlock (fx.core->booking, bk, fx.r[1], T0 + 5 * FT_MINUTE, &err));
  assert_refused (&fx, &s, err, FT_BOOKING_ERROR_NOT_YOURS, "belongs to another rider");
  g_clear_error (&err);
  ck_assert (!ft_booking_cancel (fx.core->booking, bk, fx.r[1], T0 + 5 * FT_MINUTE, &err));
  assert_refused (&fx, &s, err, FT_BOOKING_ERROR_NOT_YOURS, NULL);
  g_clear_error (&err);

  /* In use (on trip) by another rider. */
  ck_assert (ft_booking_unlock (fx.core->booking, bk, fx.r[0], T0 + 6 * FT_MINUTE, &err));
  s = snap (&fx);
  ck_assert_int_eq (ft_booking_reserve (fx.core->booking, fx.r[1], fx.v[0], T0 + 7 * FT_MINUTE, &err), -1);
  assert_refused (&fx, &s, err, FT_BOOKING_ERROR_NOT_AVAILABLE, "in use by another rider");
  g_clear_error (&err);
  ck_assert (!ft_booking_end (fx.core->booking, bk, fx.r[1], test_town_at (0, 0), 10, T0 + 7 * FT_MINUTE, NULL, &err));
  assert_refused (&fx, &s, err, FT_BOOKING_ERROR_NOT_YOURS, NULL);
  g_clear_error (&err);
  ck_assert (!ft_booking_pause (fx.core->booking, bk, fx.r[1], T0 + 7 * FT_MINUTE, &err));
  assert_refused (&fx, &s, err, FT_BOOKING_ERROR_NOT_YOURS, NULL);
  fx_fini (&fx);
}
END_TEST

START_TEST (test_refuse_unpaid)
{
  Fx fx;
  g_autoptr(GError) err = NULL;
  Snap s;
  gint64 bk;
  guint r;

  fx_init (&fx, 0.0, 0);         /* no auto top-up */
  r = rider (fx.core, "dan", FT_ROLE_RIDER);
  topup (fx.core, r, 1000, "dan");
  bk = ft_booking_start (fx.core->booking, r, fx.v[3], T0, &err);
  ck_assert_msg (bk >= 0, "%s", err ? err->message : "");
  /* 120 minutes: 1.00 + 30.00 = 31.00 against a 10.00 hold: 21.00 owed. */
  ck_assert (ft_booking_end (fx.core->booking, bk, r, test_town_at (0, 0), 20000, T0 + 120 * FT_MINUTE, NULL, &err));
  ck_assert_int_eq (ft_payments_wallet (fx.core->payments, r), -2100);
  ck_assert (ft_payments_has_debt (fx.core->payments, r));
  assert_ok (fx.core);

  {
    Snap s2 = snap (&fx);
    guint64 refused = ft_event_log_count (fx.core->log, FT_EV_BOOKING_REFUSED);
    ck_assert_int_eq (ft_booking_reserve (fx.core->booking, r, fx.v[0], T0 + 121 * FT_MINUTE, &err), -1);
    ck_assert (g_error_matches (err, FT_BOOKING_ERROR, FT_BOOKING_ERROR_UNPAID));
    ck_assert_msg (strstr (err->message, "unpaid balance of 21.00 EUR") != NULL, "%s", err->message);
    ck_assert_uint_eq (ft_event_log_count (fx.core->log, FT_EV_BOOKING_REFUSED), refused + 1);
    g_clear_error (&err);
    ck_assert_int_eq (ft_booking_start (fx.core->booking, r, fx.v[0], T0 + 121 * FT_MINUTE, &err), -1);
    ck_assert (g_error_matches (err, FT_BOOKING_ERROR, FT_BOOKING_ERROR_UNPAID));
    g_clear_error (&err);
    s = snap (&fx);
    s2.refused = s.refused;
    ck_assert (memcmp (&s, &s2, sizeof s) == 0);
  }
  /* Settling the debt by top-up lifts the block. */
  topup (fx.core, r, 2100, "dan-settle");
  ck_assert (!ft_payments_has_debt (fx.core->payments, r));
  topup (fx.core, r, 1000, "dan-2");
  ck_assert_int_ge (ft_booking_start (fx.core->booking, r, fx.v[0], T0 + 122 * FT_MINUTE, &err), 0);
  assert_ok (fx.core);
  fx_fini (&fx);
}
END_TEST

START_TEST (test_refuse_parking)
{
  Fx fx;
  g_autoptr(GError) err = NULL;
  Snap s;
  gint64 bk;

  fx_init (&fx, 0.0, 2000);
  bk = ft_booking_start (fx.core->booking, fx.r[0], fx.v[0], T0, &err);
  s = snap (&fx);
  ck_assert (!ft_booking_end (fx.core->booking, bk, fx.r[0], test_town_at (400, 20), 900, T0 + 5 * FT_MINUTE, NULL, &err));
  assert_refused (&fx, &s, err, FT_BOOKING_ERROR_NO_PARKING, "ending is not allowed in zone Park (no parking)");
  ck_assert_int_eq (ft_booking_get (fx.core->booking, bk)->state, FT_BK_ACTIVE);
  ck_assert (ft_payments_has_hold (fx.core->payments, bk));
  g_clear_error (&err);
  ck_assert (!ft_booking_end (fx.core->booking, bk, fx.r[0], test_town_at (3000, 0), 900, T0 + 5 * FT_MINUTE, NULL, &err));
  assert_refused (&fx, &s, err, FT_BOOKING_ERROR_NO_PARKING, "outside the operating area");
  g_clear_error (&err);
  ck_assert (!ft_booking_end (fx.core->booking, bk, fx.r[0], (FtLatLon) { 95, 0 }, 900, T0 + 5 * FT_MINUTE, NULL, &err));
  assert_refused (&fx, &s, err, FT_BOOKING_ERROR_INVALID, "not a valid");
  g_clear_error (&err);
  ck_assert (!ft_booking_end (fx.core->booking, bk, fx.r[0], test_town_at (0, 0), -5, T0 + 5 * FT_MINUTE, NULL, &err));
  assert_refused (&fx, &s, err, FT_BOOKING_ERROR_INVALID, "non-negative");
  g_clear_error (&err);
  /* Just outside the park is fine (the trip went on). */
  ck_assert (ft_booking_end (fx.core->booking, bk, fx.r[0], test_town_at (550, 0), 900, T0 + 6 * FT_MINUTE, NULL, &err));
  assert_ok (fx.core);
  fx_fini (&fx);
}
END_TEST

START_TEST (test_refuse_vehicle)
{
  Fx fx;
  g_autoptr(GError) err = NULL;
  Snap s;
  FtVehicleEventType ev;
  FtVehicleState to;
  gboolean found = FALSE;

  fx_init (&fx, 0.0, 2000);
  s = snap (&fx);
  /* Flat battery */
  ck_assert_int_eq (ft_booking_reserve (fx.core->booking, fx.r[0], fx.v[4], T0, &err), -1);
  assert_refused (&fx, &s, err, FT_BOOKING_ERROR_LOW_BATTERY, "battery is at 1%");
  g_clear_error (&err);
  ck_assert_int_eq (ft_booking_start (fx.core->booking, fx.r[0], fx.v[4], T0, &err), -1);
  assert_refused (&fx, &s, err, FT_BOOKING_ERROR_LOW_BATTERY, "choose another vehicle");
  g_clear_error (&err);
  /* In a zone where rides may not start */
  ck_assert_int_eq (ft_booking_start (fx.core->booking, fx.r[0], fx.v[5], T0, &err), -1);
  assert_refused (&fx, &s, err, FT_BOOKING_ERROR_NO_RIDE_START, "rides may not start in zone Depot Yard");
  g_clear_error (&err);
  /* No such vehicle */
  ck_assert_int_eq (ft_booking_reserve (fx.core->booking, fx.r[0], 999, T0, &err), -1);
  assert_refused (&fx, &s, err, FT_BOOKING_ERROR_INVALID, "no vehicle 999");
  g_clear_error (&err);

  /* Not operational */
  for (ev = 0; ev < FT_N_VEVS && !found; ev++)
    if (ft_vehicle_transition (FT_STATE_AVAILABLE, ev, &to) && to == FT_STATE_NON_OPERATIONAL)
      found = TRUE;
  ck_assert (found);
  ck_assert (ft_fleet_apply_event (fx.core->fleet, fx.v[1], ev - 1, T0, &err));
  s = snap (&fx);
  ck_assert_int_eq (ft_booking_reserve (fx.core->booking, fx.r[0], fx.v[1], T0, &err), -1);
  assert_refused (&fx, &s, err, FT_BOOKING_ERROR_NOT_AVAILABLE, "non_operational");
  fx_fini (&fx);
}
END_TEST

START_TEST (test_refuse_account)
{
  Fx fx;
  g_autoptr(GError) err = NULL;
  Snap s;
  gint64 bk;

  fx_init (&fx, 0.0, 2000);
  s = snap (&fx);
  ck_assert_int_eq (ft_booking_reserve (fx.core->booking, fx.erased, fx.v[0], T0, &err), -1);
  assert_refused (&fx, &s, err, FT_BOOKING_ERROR_PERMISSION, "was erased");
  g_clear_error (&err);
  ck_assert_int_eq (ft_booking_start (fx.core->booking, fx.staff, fx.v[0], T0, &err), -1);
  assert_refused (&fx, &s, err, FT_BOOKING_ERROR_PERMISSION, "rider role");
  g_clear_error (&err);
  ck_assert_int_eq (ft_booking_reserve (fx.core->booking, 4242, fx.v[0], T0, &err), -1);
  assert_refused (&fx, &s, err, FT_BOOKING_ERROR_PERMISSION, "no account 4242");
  g_clear_error (&err);

  /* One open booking per rider */
  bk = ft_booking_reserve (fx.core->booking, fx.r[0], fx.v[0], T0, &err);
  s = snap (&fx);
  ck_assert_int_eq (ft_booking_reserve (fx.core->booking, fx.r[0], fx.v[2], T0, &err), -1);
  assert_refused (&fx, &s, err, FT_BOOKING_ERROR_ALREADY_ACTIVE, "end or cancel it first");
  g_clear_error (&err);

  /* Erasure while reserved: can no longer unlock, can still cancel. */
  ck_assert (ft_accounts_erase (fx.core->accounts, fx.r[0], fx.r[0], T0, NULL));
  s = snap (&fx);
  ck_assert (!ft_booking_unlock (fx.core->booking, bk, fx.r[0], T0 + FT_MINUTE, &err));
  assert_refused (&fx, &s, err, FT_BOOKING_ERROR_PERMISSION, "erased");
  g_clear_error (&err);
  ck_assert (ft_booking_cancel (fx.core->booking, bk, fx.r[0], T0 + FT_MINUTE, &err));
  assert_ok (fx.core);
  fx_fini (&fx);
}
END_TEST

START_TEST (test_refuse_state)
{
  Fx fx;
  g_autoptr(GError) err = NULL;
  Snap s;
  gint64 bk;

  fx_init (&fx, 0.0, 2000);
  bk = ft_booking_reserve (fx.core->booking, fx.r[0], fx.v[0], T0, &err);
  s = snap (&fx);
  ck_assert (!ft_booking_pause (fx.core->booking, bk, fx.r[0], T0, &err));
  assert_refused (&fx, &s, err, FT_BOOKING_ERROR_WRONG_STATE, "only an active trip can be paused");
  g_clear_error (&err);
  ck_assert (!ft_booking_resume (fx.core->booking, bk, fx.r[0], T0, &err));
  assert_refused (&fx, &s, err, FT_BOOKING_ERROR_WRONG_STATE, "only a paused trip");
  g_clear_error (&err);
  ck_assert (!ft_booking_end (fx.core->booking, bk, fx.r[0], test_town_at (0, 0), 0, T0, NULL, &err));
  assert_refused (&fx, &s, err, FT_BOOKING_ERROR_WRONG_STATE, "unlock it first");
  g_clear_error (&err);
  ck_assert (!ft_booking_unlock (fx.core->booking, 77, fx.r[0], T0, &err));
  assert_refused (&fx, &s, err, FT_BOOKING_ERROR_NO_SUCH_BOOKING, "no booking 77");
  g_clear_error (&err);
  ck_assert (!ft_booking_end (fx.core->booking, -3, fx.r[0], test_town_at (0, 0), 0, T0, NULL, &err));
  assert_refused (&fx, &s, err, FT_BOOKING_ERROR_NO_SUCH_BOOKING, NULL);
  g_clear_error (&err);

  ck_assert (ft_booking_unlock (fx.core->booking, bk, fx.r[0], T0 + FT_MINUTE, &err));
  s = snap (&fx);
  ck_assert (!ft_booking_unlock (fx.core->booking, bk, fx.r[0], T0 + FT_MINUTE, &err));
  assert_refused (&fx, &s, err, FT_BOOKING_ERROR_WRONG_STATE, "only a reservation can be unlocked");
  g_clear_error (&err);
  ck_assert (!ft_booking_resume (fx.core->booking, bk, fx.r[0], T0, &err));
  assert_refused (&fx, &s, err, FT_BOOKING_ERROR_WRONG_STATE, NULL);
  g_clear_error (&err);
  ck_assert (ft_booking_end (fx.core->booking, bk, fx.r[0], test_town_at (0, 0), 100, T0 + 2 * FT_MINUTE, NULL, &err));
  s = snap (&fx);
  ck_assert (!ft_booking_end (fx.core->booking, bk, fx.r[0], test_town_at (0, 0), 100, T0 + 3 * FT_MINUTE, NULL, &err));
  assert_refused (&fx, &s, err, FT_BOOKING_ERROR_WRONG_STATE, "already closed");
  g_clear_error (&err);
  ck_assert (!ft_booking_pause (fx.core->booking, bk, fx.r[0], T0 + 3 * FT_MINUTE, &err));
  assert_refused (&fx, &s, err, FT_BOOKING_ERROR_WRONG_STATE, NULL);
  fx_fini (&fx);
}
END_TEST

START_TEST (test_refuse_payment)
{
  Fx fx;
  g_autoptr(GError) err = NULL;
  Snap s;
  gint64 bk;
  guint r;

  /* Every card charge is declined; riders with an empty wallet need the
   * auto top-up for the pre-authorisation, which fails. */
  {
    FtCoreConfig cfg;
    FtBBox bb;
    ft_core_config_init (&cfg);
    cfg.card_decline_rate = 1.0;
    memset (&fx, 0, sizeof fx);
    fx.core = ft_core_new (&cfg, test_town_geofences (100), NULL);
    ft_bbox_init_empty (&bb);
    ft_bbox_extend (&bb, test_town_at (-1500, -1500));
    ft_bbox_extend (&bb, test_town_at (1500, 1500));
    ft_fleet_enable_index (fx.core->fleet, bb, 100);
    for (int i = 0; i < 6; i++)
      {
        fx.v[i] = ft_fleet_add_vehicle (fx.core->fleet, FT_KIND_SCOOTER, test_town_at (10 * i, 0), NULL, T0);
        add_pack (fx.core, fx.v[i], 0.9);
      }
    for (int i = 0; i < 3; i++)
      fx.r[i] = rider (fx.core, i == 0 ? "x" : i == 1 ? "y" : "z", FT_ROLE_RIDER);
  }
  r = fx.r[0];
  bk = ft_booking_reserve (fx.core->booking, r, fx.v[0], T0, &err);
  ck_assert_int_ge (bk, 0);
  s = snap (&fx);
  ck_assert (!ft_booking_unlock (fx.core->booking, bk, r, T0 + FT_MINUTE, &err));
  assert_refused (&fx, &s, err, FT_BOOKING_ERROR_PAYMENT, "pre-authorisation was refused");
  ck_assert_int_eq (ft_booking_get (fx.core->booking, bk)->state, FT_BK_RESERVED);
  g_clear_error (&err);
  s = snap (&fx);
  ck_assert_int_eq (ft_booking_start (fx.core->booking, fx.r[1], fx.v[1], T0, &err), -1);
  assert_refused (&fx, &s, err, FT_BOOKING_ERROR_PAYMENT, NULL);
  ck_assert_uint_eq (ft_booking_n (fx.core->booking), 1);
  fx_fini (&fx);
}
END_TEST

/* ------------------------------------------------------- restore / check */

START_TEST (test_restore_and_check)
{
  Fx fx;
  g_autoptr(GError) err = NULL;
  g_autoptr(FtBooking) copy = NULL;
  FtBookingDeps deps = { 0 };
  FtBookingRec bad;
  gint64 a, b, c;

  fx_init (&fx, 0.0, 2000);
  a = ft_booking_reserve (fx.core->booking, fx.r[0], fx.v[0], T0, &err);
  ck_assert (ft_booking_cancel (fx.core->booking, a, fx.r[0], T0, &err));
  b = ft_booking_start (fx.core->booking, fx.r[0], fx.v[0], T0, &err);
  ck_assert (ft_booking_pause (fx.core->booking, b, fx.r[0], T0 + FT_MINUTE, &err));
  c = ft_booking_reserve (fx.core->booking, fx.r[1], fx.v[2], T0, &err);
  ck_assert_int_ge (c, 0);

  deps.fleet = fx.core->fleet;
  deps.accounts = fx.core->accounts;
  deps.pricing = fx.core->pricing;
  deps.payments = fx.core->payments;
  deps.geofences = fx.core->geofences;
  copy = ft_booking_new (&deps, &fx.core->config.booking);
  for (guint i = 0; i < ft_booking_n (fx.core->booking); i++)
    ft_booking_restore (copy, ft_booking_get (fx.core->booking, i));
  ck_assert_uint_eq (ft_booking_n (copy), 3);
  ck_assert_int_eq (ft_booking_open_for (copy, fx.r[0]), b);
  ck_assert_int_eq (ft_booking_open_for (copy, fx.r[1]), c);
  ck_assert_int_eq (ft_booking_next_expiry (copy), T0 + 10 * FT_MINUTE);
  ck_assert_msg (ft_booking_check (copy, &err), "%s", err ? err->message : "");
  ck_assert (memcmp (ft_booking_get (copy, b), ft_booking_get (fx.core->booking, b), sizeof (FtBookingRec)) == 0);
  /* Trip ids are made from the seed and the id, not kept: the copy gives
   * the same ones, none before an unlock, and a stored one that differs
   * is kept beside the records (and given up when the booking unlocks). */
  {
    char t1[37], t2[37];
    ck_assert (ft_booking_trip_id (copy, b, t1));
    ck_assert (ft_booking_trip_id (fx.core->booking, b, t2));
    ck_assert_str_eq (t1, t2);
    ck_assert (!ft_booking_trip_id (copy, a, t1));
    ck_assert_str_eq (t1, "");
    ck_assert (!ft_booking_trip_id (copy, c, t1));
    ck_assert (!ft_booking_trip_id (copy, 99, t1));
    ft_booking_restore_trip_id (copy, b, t2);   /* the same: nothing kept */
    ck_assert (ft_booking_trip_id (copy, b, t1));
    ck_assert_str_eq (t1, t2);
    ft_booking_restore_trip_id (copy, b, "00000000-0000-4000-8000-000000000001");
    ck_assert (ft_booking_trip_id (copy, b, t1));
    ck_assert_str_eq (t1, "00000000-0000-4000-8000-000000000001");
    ft_booking_restore_trip_id (copy, a, "");
    ck_assert (!ft_booking_trip_id (copy, a, t1));
    ft_booking_restore_trip_id (copy, b, t2);   /* back to booking's own */
    ck_assert (ft_booking_trip_id (copy, b, t1));
    ck_assert_str_eq (t1, t2);
    ft_booking_restore_trip_id (copy, c, "00000000-0000-4000-8000-000000000002");
    ck_assert (ft_booking_trip_id (copy, c, t1));
    ck_assert_str_eq (t1, "00000000-0000-4000-8000-000000000002");
  }
  /* The restored one carries on where the original stood. */
  ck_assert (ft_booking_resume (copy, b, fx.r[0], T0 + 2 * FT_MINUTE, &err));
  ck_assert (ft_booking_end (copy, b, fx.r[0], test_town_at (0, 0), 10, T0 + 3 * FT_MINUTE, NULL, &err));
  ck_assert (ft_booking_check (copy, &err));

  /* The checker catches a booking that disagrees with its vehicle. */
  bad = *ft_booking_get (copy, c);
  bad.state = FT_BK_ACTIVE;
  ft_booking_restore (copy, &bad);
  ck_assert (!ft_booking_check (copy, &err));
  ck_assert_msg (strstr (err->message, "booking 2") != NULL, "%s", err->message);
  g_clear_error (&err);
  /* … and one whose rider index disagrees */
  bad = *ft_booking_get (fx.core->booking, c);
  bad.id = 7;
  ft_booking_restore (copy, &bad);
  ck_assert (!ft_booking_check (copy, &err));
  g_clear_error (&err);
  fx_fini (&fx);
}
END_TEST

/* ------------------------------------------------------------ core/store */

START_TEST (test_core_attach_existing_state)
{
  Fx fx;
  g_autoptr(GError) err = NULL;
  g_autofree char *dir = g_dir_make_tmp ("ft-booking-XXXXXX", NULL);
  g_autofree char *path = g_build_filename (dir, "core.sqlite", NULL);
  FtCore *again;
  gint64 a, b;

  fx_init (&fx, 0.0, 2000);
  a = ft_booking_start (fx.core->booking, fx.r[0], fx.v[0], T0, &err);
  ck_assert (ft_booking_end (fx.core->booking, a, fx.r[0], test_town_at (30, 30), 700, T0 + 4 * FT_MINUTE, NULL, &err));
  b = ft_booking_reserve (fx.core->booking, fx.r[1], fx.v[2], T0 + 5 * FT_MINUTE, &err);
  ck_assert_int_ge (b, 0);

  /* A core with state attaches to a fresh file: everything is written. */
  ck_assert_msg (ft_core_attach_store (fx.core, path, NULL, &err), "%s", err ? err->message : "");
  ck_assert (!ft_core_attach_store (fx.core, path, NULL, &err));   /* already attached */
  g_clear_error (&err);
  ck_assert (ft_booking_unlock (fx.core->booking, b, fx.r[1], T0 + 6 * FT_MINUTE, &err));
  ck_assert (ft_core_detach_store (fx.core, &err));

  again = ft_core_new (NULL, test_town_geofences (100), NULL);
  ck_assert_msg (ft_core_attach_store (again, path, NULL, &err), "%s", err ? err->message : "");
  assert_ok (again);
  ck_assert_uint_eq (ft_booking_n (again->booking), 2);
  ck_assert (memcmp (ft_booking_get (again->booking, a), ft_booking_get (fx.core->booking, a),
                     sizeof (FtBookingRec)) == 0);
  ck_assert_int_eq (ft_booking_get (again->booking, b)->state, FT_BK_ACTIVE);
  ck_assert_int_eq (ft_booking_open_for (again->booking, fx.r[1]), b);
  ck_assert_int_eq (ft_payments_wallet (again->payments, fx.r[0]), ft_payments_wallet (fx.core->payments, fx.r[0]));
  ck_assert_int_eq (ft_payments_held (again->payments, fx.r[1]), 1000);
  ck_assert_uint_eq (ft_accounts_get (again->accounts, fx.r[0])->trips, 1);
  ck_assert_int_eq (ft_fleet_get_vehicle (again->fleet, fx.v[2])->state, FT_STATE_ON_TRIP);
  ft_core_free (again);

  /* A core with state may not adopt a file that has history of its own. */
  ck_assert (!ft_core_attach_store (fx.core, path, NULL, &err));
  ck_assert_msg (strstr (err->message, "fresh core") != NULL, "%s", err->message);
  fx_fini (&fx);
  ck_assert (ft_store_remove_files (path, NULL));
  g_rmdir (dir);
}
END_TEST

/* ft_booking_expect moves the records to a bigger array: an open booking
 * made before it is still found and goes on to its end, and new ones
 * follow with the next ids. */
START_TEST (test_expect_keeps)
{
  Fx fx;
  g_autoptr(GError) err = NULL;
  FtPriceBreakdown price;

  fx_init (&fx, 0.0, 2000);
  gint64 bk = ft_booking_reserve (fx.core->booking, fx.r[0], fx.v[0], T0, &err);
  ck_assert_msg (bk >= 0, "%s", err ? err->message : "");
  ft_booking_expect (fx.core->booking, 100000);
  ft_booking_expect (fx.core->booking, 1);        /* smaller: nothing to do */
  ck_assert_uint_eq (ft_booking_n (fx.core->booking), 1);
  const FtBookingRec *r = ft_booking_get (fx.core->booking, bk);
  ck_assert_int_eq (r->state, FT_BK_RESERVED);
  ck_assert_uint_eq (r->vehicle, fx.v[0]);
  ck_assert_int_eq (ft_booking_open_for (fx.core->booking, fx.r[0]), bk);
  assert_ok (fx.core);
  ck_assert (ft_booking_unlock (fx.core->booking, bk, fx.r[0], T0 + FT_MINUTE, &err));
  ck_assert_msg (ft_booking_end (fx.core->booking, bk, fx.r[0], test_town_at (200, 300), 250.0,
                                 T0 + 5 * FT_MINUTE, &price, &err), "%s", err ? err->message : "");
  gint64 bk2 = ft_booking_reserve (fx.core->booking, fx.r[1], fx.v[2], T0 + 6 * FT_MINUTE, &err);
  ck_assert_int_eq (bk2, bk + 1);
  ck_assert_int_eq (ft_booking_open_for (fx.core->booking, fx.r[0]), -1);
  ck_assert_int_eq (ft_booking_open_for (fx.core->booking, fx.r[1]), bk2);
  assert_ok (fx.core);
  fx_fini (&fx);
}
END_TEST

/* A ride's plan gives the path's whole length (the simulator times its
 * rides with len_m), with the town's geofences and with none. */
START_TEST (test_plan_ride_len)
{
  Fx fx;
  FtPathRules pr;
  fx_init (&fx, 0.0, 2000);
  FtLatLon a = ft_fleet_get_vehicle (fx.core->fleet, fx.v[0])->pos;
  FtLatLon b = ft_latlon_offset (a, 900, -400);
  ft_booking_plan_ride (fx.core->booking, fx.v[0], a, b, 18.0, &pr);
  ck_assert_double_eq (pr.len_m, ft_distance_m (a, b));
  if (!pr.blocked)
    ck_assert_double_eq (pr.stop_m, pr.len_m);
  fx_fini (&fx);

  g_autoptr(FtCore) plain = ft_core_new (NULL, NULL, NULL);
  guint v = ft_fleet_add_vehicle (plain->fleet, FT_KIND_SCOOTER, a, NULL, 0);
  ck_assert_uint_ne (v, G_MAXUINT);
  ft_booking_plan_ride (plain->booking, v, a, b, 18.0, &pr);
  ck_assert (!pr.blocked);
  ck_assert_double_eq (pr.len_m, ft_distance_m (a, b));
  ck_assert_double_eq (pr.stop_m, pr.len_m);
  ck_assert_double_eq_tol (pr.ride_s, pr.len_m / (18.0 / 3.6), 1e-6);
}
END_TEST

/* The keys booking gives its payments are written without printf: they
 * must be what printf wrote before (a store's key hashes were made of
 * those strings, and a retried unlock or end must find them). */
START_TEST (test_idem_keys)
{
  const gint64 v[] = { 0, 1, 9, 10, 99, 100, 12345, 999999999, 1000000000, 4294967296LL,
                       -1, -10, -12345, G_MAXINT64, G_MININT64, G_MAXINT64 - 1, G_MININT64 + 1 };
  for (guint i = 0; i < G_N_ELEMENTS (v); i++)
    for (guint j = 0; j < G_N_ELEMENTS (v); j++)
      {
        char got[64], want[64];
        ft_booking_hold_key (v[i], v[j], got);
        g_snprintf (want, sizeof want, "bk%" G_GINT64_FORMAT "-hold-t%" G_GINT64_FORMAT, v[i], v[j]);
        ck_assert_str_eq (got, want);
        ft_booking_capture_key (v[i], got);
        g_snprintf (want, sizeof want, "bk%" G_GINT64_FORMAT "-capture", v[i]);
        ck_assert_str_eq (got, want);
      }
}
END_TEST

/* Release mode (summary records) keeps only open bookings and the last
 * 16 closed: the same run of reservations, walk-ups, cancels, expiries
 * and ends gives the same ids, states, prices, events and balances as a
 * booking that keeps every record, while the records kept stay bounded by
 * what is open (their slots reused); a released booking reads NULL and
 * acting on it is refused, and the checks pass throughout. */
START_TEST (test_release_mode)
{
  Fx full, sum;
  fx_init_mode (&full, 0.0, 2000, FALSE);
  fx_init_mode (&sum, 0.0, 2000, TRUE);
  ck_assert (!ft_booking_get_release (full.core->booking));
  ck_assert (ft_booking_get_release (sum.core->booking));
  Fx *fx[2] = { &full, &sum };
  const guint N = 300;
  for (guint i = 0; i < N; i++)
    {
      FtTime t = T0 + (FtTime) i * 20 * FT_MINUTE;
      guint who = i % 3, veh = (guint[]) { 0, 2, 3 }[i % 3];
      gint64 id[2], total[2];
      for (int k = 0; k < 2; k++)
        {
          g_autoptr(GError) err = NULL;
          FtCore *c = fx[k]->core;
          guint r = fx[k]->r[who], v = fx[k]->v[veh];
          FtPriceBreakdown price = { 0 };
          switch (i % 4)
            {
            case 0:   /* reserve, unlock, end */
              id[k] = ft_booking_reserve (c->booking, r, v, t, &err);
              ck_assert_msg (id[k] >= 0, "%s", err ? err->message : "");
              ck_assert (ft_booking_unlock (c->booking, id[k], r, t + FT_MINUTE, &err));
              ck_assert (ft_booking_end (c->booking, id[k], r, test_town_at (50, 0), 900,
                                         t + 9 * FT_MINUTE, &price, &err));
              break;
            case 1:   /* reserve and cancel */
              id[k] = ft_booking_reserve (c->booking, r, v, t, &err);
              ck_assert (id[k] >= 0 && ft_booking_cancel (c->booking, id[k], r, t + FT_MINUTE, &err));
              break;
            case 2:   /* reserve and let it expire */
              id[k] = ft_booking_reserve (c->booking, r, v, t, &err);
              ck_assert (id[k] >= 0);
              ck_assert_uint_eq (ft_booking_expire (c->booking, t + 11 * FT_MINUTE), 1);
              break;
            default:  /* walk up; ended on the next round, so some stay open */
              id[k] = ft_booking_start (c->booking, r, v, t, &err);
              ck_assert_msg (id[k] >= 0, "%s", err ? err->message : "");
              break;
            }
          const FtBookingRec *rec = ft_booking_get (c->booking, id[k]);
          ck_assert_ptr_nonnull (rec);   /* just made or closed: kept */
          ck_assert_int_eq (rec->id, id[k]);
          assert_ok (c);
          total[k] = price.total;
        }
      ck_assert_int_eq (total[0], total[1]);
      ck_assert_int_eq (id[0], (gint64) i);   /* sequential */
      ck_assert_int_eq (id[1], id[0]);
      /* close last round's walk-up trip, in both */
      if (i % 4 == 3)
        for (int k = 0; k < 2; k++)
          {
            g_autoptr(GError) err = NULL;
            FtPriceBreakdown price;
            ck_assert (ft_booking_end (fx[k]->core->booking, id[k], fx[k]->r[who], test_town_at (0, 80), 500,
                                       t + 15 * FT_MINUTE, &price, &err));
          }
    }
  FtBooking *fb = full.core->booking, *sb = sum.core->booking;
  ck_assert_uint_eq (ft_booking_n (fb), ft_booking_n (sb));
  guint n = ft_booking_n (sb);
  ck_assert_uint_eq (ft_booking_n_live (fb), n);
  /* every closed booking but the last 16 released; the pool never held
   * more than the open ones and those 16 */
  ck_assert_uint_eq (ft_booking_n_live (sb), 16);
  ck_assert_uint_le (ft_booking_peak_live (sb), 16 + 1);
  for (guint id = 0; id < n; id++)
    {
      const FtBookingRec *a = ft_booking_get (fb, id), *b = ft_booking_get (sb, id);
      char ta[37], tb[37];
      ck_assert_ptr_nonnull (a);
      ft_booking_trip_id (fb, id, ta);
      gboolean has = ft_booking_trip_id (sb, id, tb);
      if (id + 16 < n)
        {
          ck_assert_ptr_null (b);
          ck_assert (!has && tb[0] == '\0');
          ck_assert_int_eq (ft_payments_captured (sum.core->payments, id), 0);
        }
      else
        {
          ck_assert_ptr_nonnull (b);
          ck_assert (memcmp (a, b, sizeof *a) == 0);
          ck_assert_str_eq (ta, tb);
        }
    }
  /* the same money and events */
  for (guint r = 0; r < 3; r++)
    ck_assert_int_eq (ft_payments_wallet (full.core->payments, full.r[r]),
                      ft_payments_wallet (sum.core->payments, sum.r[r]));
  ck_assert_int_eq (ft_ledger_total (full.core->ledger, FT_LACC_REVENUE),
                    ft_ledger_total (sum.core->ledger, FT_LACC_REVENUE));
  ck_assert_uint_eq (ft_ledger_n_tx (full.core->ledger), ft_ledger_n_tx (sum.core->ledger));
  for (guint kind = 0; kind < FT_EV_N_KINDS; kind++)
    ck_assert_uint_eq (ft_event_log_count (full.core->log, kind), ft_event_log_count (sum.core->log, kind));

  /* acting on a released booking is refused as a booking that is gone */
  {
    g_autoptr(GError) err = NULL;
    ck_assert (!ft_booking_cancel (sb, 0, sum.r[0], T0 + 400 * FT_HOUR, &err));
    ck_assert (g_error_matches (err, FT_BOOKING_ERROR, FT_BOOKING_ERROR_NO_SUCH_BOOKING));
    ck_assert (strstr (err->message, "closed") != NULL);
  }
  assert_ok (sum.core);
  assert_ok (full.core);
  fx_fini (&full);
  fx_fini (&sum);
}
END_TEST

/* A database needs every booking: a core whose booking keeps only open
 * ones (release mode) is refused, naming summary records. */
START_TEST (test_release_mode_no_store)
{
  Fx fx;
  g_autoptr(GError) err = NULL;
  g_autofree char *dir = g_dir_make_tmp ("ft-booking-XXXXXX", NULL);
  g_autofree char *path = g_build_filename (dir, "core.sqlite", NULL);

  fx_init (&fx, 0.0, 2000);
  ft_booking_set_release (fx.core->booking, TRUE);
  gint64 a = ft_booking_start (fx.core->booking, fx.r[0], fx.v[0], T0, &err);
  ck_assert (a >= 0 && ft_booking_end (fx.core->booking, a, fx.r[0], test_town_at (30, 30), 700,
                                       T0 + 4 * FT_MINUTE, NULL, &err));
  ck_assert (!ft_core_attach_store (fx.core, path, NULL, &err));
  ck_assert_msg (err != NULL && strstr (err->message, "summary records") != NULL, "%s",
                 err ? err->message : "");
  fx_fini (&fx);
  ft_store_remove_files (path, NULL);
  g_rmdir (dir);
}
END_TEST

/* Prefetching is a hint: any booking, rider or vehicle index, in range or
 * not, changes nothing and reads nothing outside the records (ASan). */
/* An unlock looks the ride-start rules up again only when the geofences
 * changed or the vehicle moved since its reservation found that a ride
 * may start there: random changes (zones added, global rules replaced,
 * the reserved vehicle moved, or nothing) between reserve and unlock, and
 * every unlock must answer as the plain look-up at that moment does. */
START_TEST (test_unlock_rechecks_start)
{
  Fx fx;
  fx_init (&fx, 0.0, 2000);
  FtGeofences *g = fx.core->geofences;
  FtFleet *fleet = fx.core->fleet;
  GRand *rng = g_rand_new_with_seed (16);
  guint v = fx.v[0], kind = ft_fleet_get_vehicle (fleet, v)->kind;
  guint n_unlocked = 0, n_refused = 0, n_skipped = 0;
  FtTime t = T0;

  for (guint round = 0; round < 300; round++, t += 10 * FT_MINUTE)
    {
      g_autoptr(GError) err = NULL;
      /* inside the operating area, or outside it where the global rules
       * (which rounds replace) apply */
      FtLatLon at = test_town_at (g_rand_double_range (rng, -1600, 1600),
                                  g_rand_double_range (rng, -1600, 1600));
      ft_fleet_set_position (fleet, v, at, 0, t, FALSE);
      gint64 bk = ft_booking_reserve (fx.core->booking, fx.r[0], v, t, &err);
      gboolean may = ft_geofences_rules_at_exact (g, at, kind, NULL).ride_start_allowed;
      ck_assert_int_eq (bk >= 0, may);
      if (bk < 0)
        {
          ck_assert (g_error_matches (err, FT_BOOKING_ERROR, FT_BOOKING_ERROR_NO_RIDE_START));
          n_skipped++;
          continue;
        }
      switch (g_rand_int_range (rng, 0, 4))
        {
        case 0:   /* a zone over (or near) the vehicle */
          {
            FtZoneRules zr = ft_zone_rules_all_allowed ();
            zr.ride_start_allowed = g_rand_boolean (rng);
            FtMultiPolygon *sq = ft_multipolygon_new ();
            double half = g_rand_boolean (rng) ? 50 : 300;
            FtLatLon c = g_rand_boolean (rng)
              ? at : test_town_at (g_rand_double_range (rng, -1600, 1600), g_rand_double_range (rng, -1600, 1600));
            FtLatLon pts[4] = { ft_latlon_offset (c, -half, -half), ft_latlon_offset (c, half, -half),
                                ft_latlon_offset (c, half, half), ft_latlon_offset (c, -half, half) };
            ft_multipolygon_add_ring (sq, pts, 4);
            ft_geofences_add (g, "z", "Z", sq, &zr);
          }
          break;
        case 1:   /* the global rules replaced */
          {
            FtZoneRules gr = ft_zone_rules_all_allowed ();
            gr.ride_start_allowed = g_rand_boolean (rng);
            ft_geofences_set_global_rules (g, &gr);
          }
          break;
        case 2:   /* the reserved vehicle moved */
          ft_fleet_set_position (fleet, v, test_town_at (g_rand_double_range (rng, -1600, 1600),
                                                         g_rand_double_range (rng, -1600, 1600)),
                                 0, t, FALSE);
          break;
        default:
          break;
        }
      FtLatLon now_at = ft_fleet_get_vehicle (fleet, v)->pos;
      may = ft_geofences_rules_at_exact (g, now_at, kind, NULL).ride_start_allowed;
      gboolean ok = ft_booking_unlock (fx.core->booking, bk, fx.r[0], t + FT_MINUTE, &err);
      ck_assert_msg (ok == may, "round %u: unlock %s where the rules say a ride %s start", round,
                     ok ? "went ahead" : "was refused", may ? "may" : "may not");
      if (!ok)
        {
          ck_assert (g_error_matches (err, FT_BOOKING_ERROR, FT_BOOKING_ERROR_NO_RIDE_START));
          g_clear_error (&err);
          ck_assert (ft_booking_cancel (fx.core->booking, bk, fx.r[0], t + 2 * FT_MINUTE, &err));
          n_refused++;
        }
      else
        {
          ck_assert_msg (ft_booking_end (fx.core->booking, bk, fx.r[0], test_town_at (50, 0), 100,
                                         t + 2 * FT_MINUTE, NULL, &err), "end: %s", err ? err->message : "");
          n_unlocked++;
        }
    }
  /* both answers were given after a reservation */
  ck_assert_uint_gt (n_unlocked, 20);
  ck_assert_uint_gt (n_refused, 5);
  ck_assert_uint_gt (n_skipped, 0);
  assert_ok (fx.core);
  g_rand_free (rng);
  fx_fini (&fx);
}
END_TEST

START_TEST (test_prefetch_is_a_hint)
{
  Fx fx;
  g_autoptr(GError) err = NULL;

  fx_init (&fx, 0.0, 2000);
  gint64 bk = ft_booking_reserve (fx.core->booking, fx.r[0], fx.v[0], T0, &err);
  ck_assert_msg (bk >= 0, "%s", err ? err->message : "");
  Snap before = snap (&fx);
  const gint64 bks[] = { bk, -1, bk + 1, 1000000, G_MAXINT64, G_MININT64 };
  const guint ids[] = { fx.r[0], fx.r[1], fx.staff, fx.erased, 1000000, G_MAXUINT };
  for (guint i = 0; i < G_N_ELEMENTS (bks); i++)
    for (guint j = 0; j < G_N_ELEMENTS (ids); j++)
      {
        ft_booking_prefetch (fx.core->booking, bks[i], ids[j]);
        ft_fleet_prefetch (fx.core->fleet, ids[j]);
        ft_accounts_prefetch (fx.core->accounts, ids[j]);
        ft_payments_prefetch_rider (fx.core->payments, ids[j]);
        ft_payments_prefetch_booking (fx.core->payments, bks[i]);
        ft_ledger_prefetch_account (fx.core->ledger, ids[j]);
      }
  for (guint v = 0; v < 6; v++)
    ft_fleet_prefetch (fx.core->fleet, fx.v[v]);
  ft_booking_prefetch (NULL, bk, fx.r[0]);
  Snap after = snap (&fx);
  ck_assert (memcmp (&before, &after, sizeof before) == 0);
  assert_ok (fx.core);
  fx_fini (&fx);
}
END_TEST

static Suite *
booking_suite (void)
{
  Suite *s = suite_create ("booking");
  struct { const char *name; const TTest *fn; } cases[] = {
    { "find", test_find },
    { "offer", test_offer },
    { "expiry-queues", test_expiry_queues },
    { "idem_keys", test_idem_keys },
    { "prefetch_is_a_hint", test_prefetch_is_a_hint },
    { "unlock_rechecks_start", test_unlock_rechecks_start },
    { "plan_ride_len", test_plan_ride_len },
    { "expect_keeps", test_expect_keeps },
    { "reserve_unlock_end", test_reserve_unlock_end },
    { "walkup_start", test_walkup_start },
    { "pause_resume", test_pause_resume },
    { "cancel", test_cancel },
    { "expire", test_expire },
    { "refuse_reserved_by_other", test_refuse_reserved_by_other },
    { "refuse_unpaid", test_refuse_unpaid },
    { "refuse_parking", test_refuse_parking },
    { "refuse_vehicle", test_refuse_vehicle },
    { "refuse_account", test_refuse_account },
    { "refuse_state", test_refuse_state },
    { "refuse_payment", test_refuse_payment },
    { "restore_and_check", test_restore_and_check },
    { "release_mode", test_release_mode },
    { "release_mode_no_store", test_release_mode_no_store },
    { "core_attach_existing_state", test_core_attach_existing_state },
  };
  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      TCase *tc = tcase_create (cases[i].name);
      tcase_add_test (tc, cases[i].fn);
      suite_add_tcase (s, tc);
    }
  return s;
}

int
main (void)
{
  SRunner *sr = srunner_create (booking_suite ());
  int failed;

  srunner_run_all (sr, CK_NORMAL);
  failed = srunner_ntests_failed (sr);
  srunner_free (sr);
  return failed ? 1 : 0;
}
