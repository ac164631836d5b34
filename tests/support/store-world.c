/* store-world.c — the populated core shared by the store's tests, the
 * crash writer and the benchmark (see store-world.h).
 */
#include "store-world.h"

World *
world_new (guint64 seed)
{
  World *w = g_new0 (World, 1);
  g_autoptr(FtPricingPlan) plan = ft_pricing_plan_new_simple ("default", "EUR", 100, 25.0, 0.0);
  g_autoptr(GError) err = NULL;
  FtZoneRules all = ft_zone_rules_all_allowed ();
  FtBookingDeps deps;
  FtBookingConfig bcfg;

  w->log = ft_event_log_new ();
  w->fleet = ft_fleet_new (ft_mix64 (seed ^ 0xf1ee7), w->log);
  w->accounts = ft_accounts_new (ft_mix64 (seed ^ 0xacc7), w->log);
  w->ledger = ft_ledger_new ("EUR", w->log);
  w->payments = ft_payments_new (w->ledger, ft_sim_card_provider_new (ft_mix64 (seed ^ 0xca4d),
                                                                      0.0, 150, 900));
  ft_payments_set_auto_topup (w->payments, 2000);
  w->pricing = ft_pricing_new ();
  if (!ft_pricing_add_plan (w->pricing, plan, &err))
    g_error ("pricing plan: %s", err->message);
  w->geofences = ft_geofences_new ();
  ft_geofences_set_global_rules (w->geofences, &all);
  ft_booking_config_init (&bcfg);
  bcfg.seed = ft_mix64 (seed ^ 0xb00c);
  deps.fleet = w->fleet;
  deps.accounts = w->accounts;
  deps.pricing = w->pricing;
  deps.payments = w->payments;
  deps.geofences = w->geofences;
  deps.log = w->log;
  w->booking = ft_booking_new (&deps, &bcfg);
  w->ops = ft_ops_new (w->fleet, w->accounts, w->log);
  return w;
}

void
world_free (World *w)
{
  if (!w)
    return;
  ft_ops_free (w->ops);
  ft_booking_free (w->booking);
  ft_payments_free (w->payments);
  ft_ledger_free (w->ledger);
  ft_pricing_free (w->pricing);
  ft_geofences_free (w->geofences);
  ft_accounts_free (w->accounts);
  ft_fleet_free (w->fleet);
  ft_event_log_free (w->log);
  g_free (w);
}

FtStoreTargets
world_targets (World *w)
{
  FtStoreTargets t;

  memset (&t, 0, sizeof t);
  t.log = w->log;
  t.fleet = w->fleet;
  t.accounts = w->accounts;
  t.ledger = w->ledger;
  t.payments = w->payments;
  t.booking = w->booking;
  t.ops = w->ops;
  return t;
}

gboolean
world_check (World *w, GError **error)
{
  return ft_fleet_check (w->fleet, error) && ft_accounts_check (w->accounts, error) &&
         ft_payments_check (w->payments, error) && ft_booking_check (w->booking, error) &&
         ft_ops_check (w->ops, error);
}

FtLatLon
world_point (guint i)
{
  FtLatLon c = { WORLD_CENTRE_LAT, WORLD_CENTRE_LON };

  return ft_latlon_offset (c, (double) (i % 97) * 31.0 - 1500.0,
                           (double) ((i / 97) % 89) * 29.0 - 1300.0);
}

void
world_populate (World *core, guint n_vehicles, guint n_spare_packs, guint n_riders,
                gint64 wallet_minor, FtTime now)
{
  g_autoptr(GError) err = NULL;
  guint i;

  ft_fleet_set_holders (core->fleet, 2, 2);
  for (i = 0; i < n_vehicles; i++)
    {
      FtVehicleKind kind = (FtVehicleKind) (i % FT_N_KINDS);
      guint v = ft_fleet_add_vehicle (core->fleet, kind, world_point (i), NULL, now);

      ft_fleet_add_pack (core->fleet, ft_vehicle_type_default (kind)->pack_capacity_wh, 0.9,
                         FT_PACK_IN_VEHICLE, (gint32) v, now, &err);
      g_assert_no_error (err);
    }
  for (i = 0; i < n_spare_packs; i++)
    {
      ft_fleet_add_pack (core->fleet, 500.0, 0.2 + 0.1 * (i % 8),
                         i % 2 ? FT_PACK_IN_VAN : FT_PACK_AT_DEPOT, 0, now, &err);
      g_assert_no_error (err);
    }
  for (i = 0; i < n_riders; i++)
    {
      g_autofree char *name = g_strdup_printf ("Rider %u", i);
      g_autofree char *email = g_strdup_printf ("rider%u@example.org", i);
      g_autofree char *key = g_strdup_printf ("world-topup-%u", i);
      gint r = ft_accounts_create (core->accounts, FT_ROLE_RIDER, name, email, now, &err);

      g_assert_no_error (err);
      if (wallet_minor > 0)
        {
          ft_payments_topup (core->payments, (guint) r, wallet_minor, key, now, &err);
          g_assert_no_error (err);
        }
    }
  ft_accounts_create (core->accounts, FT_ROLE_ADMIN, "Admin", "admin@example.org", now, &err);
  g_assert_no_error (err);
}

gint64
world_lifecycle (World *core, guint rider, guint vehicle, FtTime now, GError **error)
{
  gint64 id = ft_booking_reserve (core->booking, rider, vehicle, now, error);
  FtLatLon to = world_point (vehicle + 17);

  if (id < 0)
    return -1;
  if (!ft_booking_unlock (core->booking, id, rider, now + 30 * FT_SECOND, error))
    return -1;
  if (!ft_booking_end (core->booking, id, rider, to, 1200.0, now + 6 * FT_MINUTE, NULL, error))
    return -1;
  return id;
}
