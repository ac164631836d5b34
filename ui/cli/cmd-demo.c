/* cmd-demo.c — `fleet-twin-cli demo`: a short scripted core loop on a fresh
 * SQLite database, in a small made-up town ("Lindenau", a 2 km square with
 * a no-parking market square). Riders sign up and top up, find vehicles,
 * book, ride and pay; one booking is refused because another rider holds the
 * vehicle, one ride may not end in the no-parking zone, one reservation
 * expires, one trip is refunded. Prints each step, then the ledger totals.
 */
#include "ft-config.h"
#include "ft-cli.h"
#include "ft-core.h"

#include <stdio.h>
#include <string.h>
#include <glib/gstdio.h>

#define DEMO_CENTER_LAT 50.0000
#define DEMO_CENTER_LON 10.0000

typedef struct {
  FtCore  *core;
  gboolean failed;
} Demo;

static void
say (FtTime t, const char *fmt, ...) G_GNUC_PRINTF (2, 3);

static void
say (FtTime t, const char *fmt, ...)
{
  va_list ap;
  g_autofree char *msg = NULL;
  g_autofree char *ts = ft_time_format (t);

  va_start (ap, fmt);
  msg = g_strdup_vprintf (fmt, ap);
  va_end (ap);
  printf ("%s  %s\n", ts, msg);
}

static FtLatLon
at (double east_m, double north_m)
{
  FtLatLon c = { DEMO_CENTER_LAT, DEMO_CENTER_LON };
  return ft_latlon_offset (c, east_m, north_m);
}

/* An axis-aligned square (in metres around the centre) as a multipolygon. */
static FtMultiPolygon *
square (double east_m, double north_m, double half_m)
{
  FtMultiPolygon *mp = ft_multipolygon_new ();
  FtLatLon pts[4] = {
    at (east_m - half_m, north_m - half_m),
    at (east_m + half_m, north_m - half_m),
    at (east_m + half_m, north_m + half_m),
    at (east_m - half_m, north_m + half_m),
  };
  ft_multipolygon_add_ring (mp, pts, 4);
  return mp;
}

static FtGeofences *
demo_geofences (void)
{
  FtGeofences *g = ft_geofences_new ();
  FtZoneRules market = ft_zone_rules_all_allowed ();
  FtZoneRules area = ft_zone_rules_all_allowed ();
  FtZoneRules outside = ft_zone_rules_all_allowed ();

  /* GBFS: the first listed zone wins where zones overlap. */
  market.ride_end_allowed = FALSE;
  market.ride_start_allowed = FALSE;
  market.maximum_speed_kph = 6.0;
  ft_geofences_add (g, "market", "Market Square", square (300, 0, 100), &market);
  ft_geofences_add (g, "lindenau", "Lindenau operating area", square (0, 0, 1000), &area);
  outside.ride_end_allowed = FALSE;
  outside.ride_start_allowed = FALSE;
  ft_geofences_set_global_rules (g, &outside);
  return g;
}

/* Fails the demo when a scripted step that should work does not. The
 * error is passed by address and read here, after the step ran (an
 * argument read beside the call could be read before it). */
static gboolean
expect_ok (Demo *d, gboolean ok, GError **err, const char *what)
{
  if (!ok)
    {
      fprintf (stderr, "demo: %s failed: %s\n", what, err && *err ? (*err)->message : "unknown error");
      d->failed = TRUE;
    }
  return ok;
}

static gint
sign_up (Demo *d, const char *name, const char *email, FtTime t)
{
  g_autoptr(GError) err = NULL;
  gint r = ft_accounts_create (d->core->accounts, FT_ROLE_RIDER, name, email, t, &err);
  if (expect_ok (d, r >= 0, &err, "sign-up"))
    say (t, "%s signs up (account %d)", name, r);
  return r;
}

static void
top_up (Demo *d, gint rider, const char *name, gint64 amount, FtTime t)
{
  g_autoptr(GError) err = NULL;
  g_autofree char *key = g_strdup_printf ("demo-topup-%d-%" G_GINT64_FORMAT, rider, t);
  gint64 tx = ft_payments_topup (d->core->payments, (guint) rider, amount, key, t, &err);
  if (expect_ok (d, tx >= 0, &err, "top-up"))
    {
      g_autofree char *a = ft_money_format (amount, d->core->config.currency);
      g_autofree char *w = ft_money_format (ft_payments_wallet (d->core->payments, (guint) rider),
                                            d->core->config.currency);
      say (t, "%s tops up %s by card (wallet %s)", name, a, w);
    }
}

static const char *
vname (Demo *d, guint v)
{
  return ft_fleet_get_vehicle (d->core->fleet, v)->name;
}

static void
refused (FtTime t, const char *who, GError *err)
{
  say (t, "REFUSED %s: %s", who, err ? err->message : "?");
}

static void
ended (Demo *d, FtTime t, const char *name, gint64 bk, const FtPriceBreakdown *p)
{
  const FtBookingRec *r = ft_booking_get (d->core->booking, bk);
  char trip_id[37];
  ft_booking_trip_id (d->core->booking, bk, trip_id);
  g_autofree char *total = ft_money_format (p->total, p->currency);
  g_autofree char *unlock = ft_money_format (p->unlock, p->currency);
  g_autofree char *tm = ft_money_format (p->time, p->currency);
  g_autofree char *w = ft_money_format (ft_payments_wallet (d->core->payments, r->rider),
                                        d->core->config.currency);
  say (t, "%s ends trip %s on %s after %.1f km, %lld min: %s (unlock %s + time %s), "
          "captured; wallet %s", name, trip_id, vname (d, r->vehicle), r->distance_m / 1000.0,
       (long long) ((r->ended_at - r->unlocked_at) / FT_MINUTE), total, unlock, tm, w);
}

static void
print_ledger (Demo *d)
{
  FtLedger *l = d->core->ledger;
  const char *cur = d->core->config.currency;
  gint64 debits = 0, credits = 0;
  g_autoptr(GError) err = NULL;
  static const char *type_names[] = { "asset", "liability", "revenue", "expense" };

  printf ("\nLedger accounts (debit positive):\n");
  for (guint i = 0; i < ft_ledger_n_accounts (l); i++)
    {
      const FtLedgerAccount *a = ft_ledger_get_account (l, i);
      gint64 balance = ft_ledger_balance (l, i);
      g_autofree char *bal = ft_money_format (balance, cur);
      printf ("  %-22s %-9s %14s\n", a->code, type_names[a->type], bal);
      if (balance > 0)
        debits += balance;
      else
        credits -= balance;
    }
  printf ("\nLedger totals:\n");
  for (int ty = FT_LACC_ASSET; ty <= FT_LACC_EXPENSE; ty++)
    {
      g_autofree char *s = ft_money_format (ft_ledger_total (l, ty), cur);
      printf ("  %-10s %14s\n", type_names[ty], s);
    }
  {
    g_autofree char *sd = ft_money_format (debits, cur);
    g_autofree char *sc = ft_money_format (credits, cur);
    gboolean ok = ft_ledger_check (l, &err);
    printf ("  transactions %u, debits %s, credits %s\n", ft_ledger_n_tx (l), sd, sc);
    if (ok && debits == credits)
      printf ("Ledger balanced: yes (every transaction sums to zero; each balance equals its postings)\n");
    else
      {
        printf ("Ledger balanced: NO (%s)\n", err ? err->message : "debits differ from credits");
        d->failed = TRUE;
      }
  }
}

static int
run_demo (const char *db_path)
{
  Demo demo = { 0 }, *d = &demo;
  g_autoptr(GError) err = NULL;
  FtCoreConfig cfg;
  FtStoreConfig scfg;
  FtBBox bounds;
  FtTime t0 = 8 * FT_HOUR, t;   /* Monday 08:00 of the simulated week */
  FtFindResult found[8];
  FtPriceBreakdown price;
  guint n, veh[7];
  gint ana, ben, chloe;
  gint64 bk_ana, bk_ben, bk_chloe, tx;

  ft_core_config_init (&cfg);
  cfg.seed = 2026;
  cfg.card_decline_rate = 0.0;          /* the script is deterministic */
  cfg.booking.reservation_hold = 10 * FT_MINUTE;
  cfg.booking.preauth_minor = 1000;
  d->core = ft_core_new (&cfg, demo_geofences (), NULL);
  ft_store_config_init (&scfg);
  if (!ft_core_attach_store (d->core, db_path, &scfg, &err))
    {
      fprintf (stderr, "demo: cannot open %s: %s\n", db_path, err->message);
      ft_core_free (d->core);
      return 1;
    }
  printf ("Fleet Twin %s core-loop demo — town of Lindenau (made up), database %s\n\n",
          FT_VERSION, db_path);

  /* The fleet: two of each kind around the centre, plus one with a flat battery. */
  ft_bbox_init_empty (&bounds);
  ft_bbox_extend (&bounds, at (-1200, -1200));
  ft_bbox_extend (&bounds, at (1200, 1200));
  ft_fleet_enable_index (d->core->fleet, bounds, 100.0);
  {
    static const struct { FtVehicleKind kind; double e, n, soc; } spec[7] = {
      { FT_KIND_SCOOTER,  40,   30, 0.92 }, { FT_KIND_SCOOTER, -150,  80, 0.75 },
      { FT_KIND_BIKE,    120, -60, 0.88 },  { FT_KIND_BIKE,    -600, 400, 0.95 },
      { FT_KIND_MOPED,   -80, -140, 0.67 }, { FT_KIND_MOPED,    500, 500, 0.81 },
      { FT_KIND_SCOOTER,  20,  -20, 0.04 },
    };
    for (guint i = 0; i < G_N_ELEMENTS (spec); i++)
      {
        const FtVehicleType *ty = ft_vehicle_type_default (spec[i].kind);
        veh[i] = ft_fleet_add_vehicle (d->core->fleet, spec[i].kind, at (spec[i].e, spec[i].n), NULL, t0);
        ft_fleet_add_pack (d->core->fleet, ty->pack_capacity_wh, spec[i].soc,
                           FT_PACK_IN_VEHICLE, (gint32) veh[i], t0, &err);
        if (!expect_ok (d, err == NULL, &err, "fitting a battery"))
          goto out;
      }
    say (t0, "%u vehicles deployed in Lindenau (%u scooters, %u bikes, %u mopeds)",
         ft_fleet_n_vehicles (d->core->fleet), 3u, 2u, 2u);
  }

  t = t0 + 1 * FT_MINUTE;
  ana = sign_up (d, "Ana", "ana@example.org", t);
  ben = sign_up (d, "Ben", "ben@example.org", t);
  chloe = sign_up (d, "Chloe", "chloe@example.org", t);
  if (d->failed)
    goto out;
  t += FT_MINUTE;
  top_up (d, ana, "Ana", 2000, t);
  top_up (d, ben, "Ben", 1500, t);
  top_up (d, chloe, "Chloe", 500, t);

  /* Ana looks for something with 2 km of range within 300 m. */
  t += FT_MINUTE;
  n = ft_booking_find (d->core->booking, at (0, 0), 300, 2000, 0, found, G_N_ELEMENTS (found));
  say (t, "Ana searches near the centre for a 2 km trip: %u vehicle%s", n, n == 1 ? "" : "s");
  for (guint i = 0; i < n; i++)
    printf ("                  %s (%s) %3.0f m away, range %.1f km\n", vname (d, found[i].vehicle),
            ft_vehicle_kind_id (ft_fleet_get_vehicle (d->core->fleet, found[i].vehicle)->kind),
            found[i].walk_m, found[i].range_m / 1000.0);
  if (!expect_ok (d, n > 0, NULL, "finding a vehicle"))
    goto out;

  bk_ana = ft_booking_reserve (d->core->booking, (guint) ana, found[0].vehicle, t, &err);
  if (!expect_ok (d, bk_ana >= 0, &err, "Ana's reservation"))
    goto out;
  {
    g_autofree char *until = ft_time_format (ft_booking_get (d->core->booking, bk_ana)->hold_until);
    say (t, "Ana reserves %s (booking %" G_GINT64_FORMAT ", held until %s)",
         vname (d, found[0].vehicle), bk_ana, until);
  }

  /* Ben walks up to the same vehicle and tries to ride it: refused. */
  t += 2 * FT_MINUTE;
  if (ft_booking_start (d->core->booking, (guint) ben, found[0].vehicle, t, &err) >= 0)
    {
      expect_ok (d, FALSE, NULL, "refusing Ben on Ana's vehicle");
      goto out;
    }
  refused (t, "Ben unlocking a reserved vehicle", err);
  g_clear_error (&err);

  /* The flat scooter is not offered either. */
  if (ft_booking_reserve (d->core->booking, (guint) ben, veh[6], t, &err) >= 0)
    {
      expect_ok (d, FALSE, NULL, "refusing a flat battery");
      goto out;
    }
  refused (t, "Ben reserving the flat scooter", err);
  g_clear_error (&err);

  /* Ben takes the bike nearby instead (walk-up start). */
  bk_ben = ft_booking_start (d->core->booking, (guint) ben, veh[2], t, &err);
  if (!expect_ok (d, bk_ben >= 0, &err, "Ben's walk-up start"))
    goto out;
  {
    g_autofree char *h = ft_money_format (cfg.booking.preauth_minor, cfg.currency);
    say (t, "Ben unlocks %s on the spot (booking %" G_GINT64_FORMAT ", %s pre-authorised)",
         vname (d, veh[2]), bk_ben, h);
  }

  t += FT_MINUTE;
  if (!expect_ok (d, ft_booking_unlock (d->core->booking, bk_ana, (guint) ana, t, &err), &err, "Ana's unlock"))
    goto out;
  {
    char trip_id[37];
    ft_booking_trip_id (d->core->booking, bk_ana, trip_id);
    say (t, "Ana unlocks %s (trip %s)", vname (d, found[0].vehicle), trip_id);
  }

  t += 6 * FT_MINUTE;
  if (!expect_ok (d, ft_booking_pause (d->core->booking, bk_ana, (guint) ana, t, &err), &err, "pause"))
    goto out;
  say (t, "Ana pauses at the bakery");
  t += 3 * FT_MINUTE;
  if (!expect_ok (d, ft_booking_resume (d->core->booking, bk_ana, (guint) ana, t, &err), &err, "resume"))
    goto out;
  say (t, "Ana rides on");

  /* Ben parks properly. */
  t += FT_MINUTE;
  if (!expect_ok (d, ft_booking_end (d->core->booking, bk_ben, (guint) ben, at (-700, 650), 1450,
                                     t, &price, &err), &err, "Ben's end"))
    goto out;
  ended (d, t, "Ben", bk_ben, &price);

  /* Ana tries to park in the market square: refused; she moves on. */
  t += 4 * FT_MINUTE;
  if (ft_booking_end (d->core->booking, bk_ana, (guint) ana, at (300, 10), 2100, t, NULL, &err))
    {
      expect_ok (d, FALSE, NULL, "refusing parking in the market square");
      goto out;
    }
  refused (t, "Ana ending in the market square", err);
  g_clear_error (&err);
  t += FT_MINUTE;
  if (!expect_ok (d, ft_booking_end (d->core->booking, bk_ana, (guint) ana, at (460, 20), 2300,
                                     t, &price, &err), &err, "Ana's end"))
    goto out;
  ended (d, t, "Ana", bk_ana, &price);

  /* Chloe reserves a moped, changes her mind, then lets another reservation run out. */
  t += FT_MINUTE;
  bk_chloe = ft_booking_reserve (d->core->booking, (guint) chloe, veh[4], t, &err);
  if (!expect_ok (d, bk_chloe >= 0, &err, "Chloe's reservation"))
    goto out;
  say (t, "Chloe reserves %s (booking %" G_GINT64_FORMAT ")", vname (d, veh[4]), bk_chloe);
  t += 2 * FT_MINUTE;
  if (!expect_ok (d, ft_booking_cancel (d->core->booking, bk_chloe, (guint) chloe, t, &err), &err, "cancel"))
    goto out;
  say (t, "Chloe cancels booking %" G_GINT64_FORMAT " (free; %s is available again)", bk_chloe,
       vname (d, veh[4]));
  bk_chloe = ft_booking_reserve (d->core->booking, (guint) chloe, veh[3], t, &err);
  if (!expect_ok (d, bk_chloe >= 0, &err, "Chloe's second reservation"))
    goto out;
  say (t, "Chloe reserves %s (booking %" G_GINT64_FORMAT ")", vname (d, veh[3]), bk_chloe);
  t += cfg.booking.reservation_hold + FT_MINUTE;
  n = ft_booking_expire (d->core->booking, t);
  say (t, "%u reservation%s expired; %s is %s again", n, n == 1 ? "" : "s", vname (d, veh[3]),
       ft_vehicle_state_name (ft_fleet_get_vehicle (d->core->fleet, veh[3])->state));

  /* Support refunds part of Ana's trip: the pause was a slow app. */
  t += 5 * FT_MINUTE;
  {
    gint64 refund = MIN (100, ft_payments_captured (d->core->payments, bk_ana));
    g_autofree char *s = ft_money_format (refund, cfg.currency);
    tx = ft_payments_refund (d->core->payments, (guint) ana, bk_ana, refund, "demo-refund-ana", t, &err);
    if (!expect_ok (d, tx >= 0, &err, "refund"))
      goto out;
    {
      g_autofree char *w = ft_money_format (ft_payments_wallet (d->core->payments, (guint) ana), cfg.currency);
      say (t, "Support refunds %s of Ana's trip to her wallet (wallet %s)", s, w);
    }
    /* The support tool retries the same request: applied once. */
    if (!expect_ok (d, ft_payments_refund (d->core->payments, (guint) ana, bk_ana, refund,
                                           "demo-refund-ana", t, &err) == tx, &err, "refund retry"))
      goto out;
    say (t, "The refund request is retried with the same key: nothing applied twice");
  }

  if (!expect_ok (d, ft_core_commit (d->core, &err), &err, "commit"))
    goto out;
  if (!expect_ok (d, ft_core_check (d->core, &err), &err, "invariant check"))
    goto out;
  say (t, "Committed: %" G_GUINT64_FORMAT " domain events in %s; fleet, accounts, "
          "bookings and payments pass their invariant checks",
       ft_store_n_events (d->core->store), db_path);
  {
    const FtAccount *a = ft_accounts_get (d->core->accounts, (guint) ana);
    const FtAccount *b = ft_accounts_get (d->core->accounts, (guint) ben);
    say (t, "Trips: Ana %u, Ben %u; refused requests: %" G_GUINT64_FORMAT, a->trips, b->trips,
         ft_event_log_count (d->core->log, FT_EV_BOOKING_REFUSED));
  }
  print_ledger (d);

out:
  ft_core_free (d->core);
  return d->failed ? 1 : 0;
}

int
ft_cli_demo (int argc, char **argv)
{
  g_autofree char *db = NULL;
  g_autofree char *tmpdir = NULL;
  g_autofree char *path = NULL;
  g_autoptr(GOptionContext) ctx = NULL;
  g_autoptr(GError) err = NULL;
  GOptionEntry entries[] = {
    { "db", 0, 0, G_OPTION_ARG_FILENAME, &db,
      "SQLite file to create (must not exist; default: a fresh temporary file)", "FILE" },
    { NULL }
  };

  ctx = g_option_context_new ("— run a short scripted core loop on a fresh database");
  g_option_context_set_summary (ctx,
    "Riders sign up and top up, find vehicles, book, ride and pay in a small made-up\n"
    "town; one booking is refused, one ride may not end in a no-parking zone, one\n"
    "trip is refunded. Prints each step, then the ledger totals.");
  g_option_context_add_main_entries (ctx, entries, NULL);
  if (!g_option_context_parse (ctx, &argc, &argv, &err))
    {
      fprintf (stderr, "%s: %s\n", argv[0], err->message);
      return 2;
    }
  if (argc > 1)
    {
      fprintf (stderr, "%s: unexpected argument '%s'\n", argv[0], argv[1]);
      return 2;
    }
  if (db)
    {
      if (g_file_test (db, G_FILE_TEST_EXISTS))
        {
          fprintf (stderr, "%s: %s already exists; the demo needs a fresh database — "
                           "remove it or choose another path\n", argv[0], db);
          return 1;
        }
      path = g_strdup (db);
    }
  else
    {
      tmpdir = g_dir_make_tmp ("fleet-twin-demo-XXXXXX", &err);
      if (!tmpdir)
        {
          fprintf (stderr, "%s: cannot create a temporary folder: %s\n", argv[0], err->message);
          return 1;
        }
      path = g_build_filename (tmpdir, "demo.sqlite", NULL);
    }
  return run_demo (path);
}
