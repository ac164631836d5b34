/* store-world.h — a small populated world of real modules for the store's tests, the
 * crash writer and the benchmark: vehicles with packs around one centre,
 * riders with topped-up wallets, and one booking lifecycle as a step.
 */
#pragma once

#include "ft-booking.h"
#include "ft-store.h"

G_BEGIN_DECLS

#define WORLD_CENTRE_LAT 52.52
#define WORLD_CENTRE_LON 13.405

/* The real modules wired as FtCore wires them (kept here so the store's
 * tests need only booking and store). */
typedef struct {
  FtEventLog  *log;
  FtFleet     *fleet;
  FtAccounts  *accounts;
  FtLedger    *ledger;
  FtPayments  *payments;
  FtPricing   *pricing;
  FtGeofences *geofences;
  FtBooking   *booking;
  FtOps       *ops;
} World;

/* A world with a card provider that never declines. */
World   *world_new             (guint64 seed);
void     world_free            (World *w);
FtStoreTargets world_targets   (World *w);
/* Every module's invariant checker. */
gboolean world_check           (World *w, GError **error);
/* Adds n_vehicles vehicles (kinds cycling, each with a 90% pack), n_vans
 * packs parked in van 0 and n_depot packs at depot 0, n_riders riders
 * each topped up by wallet_minor, and one admin account (last index). */
void     world_populate        (World *core, guint n_vehicles, guint n_spare_packs,
                                guint n_riders, gint64 wallet_minor, FtTime now);
FtLatLon world_point           (guint i);
/* reserve, unlock, end (capture) of rider on vehicle starting at now;
 * returns the booking id or -1 with an error. */
gint64   world_lifecycle       (World *core, guint rider, guint vehicle, FtTime now,
                                GError **error);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (World, world_free)

G_END_DECLS
