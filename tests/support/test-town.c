/* test-town.c — the made-up town shared by the booking tests (test-town.h). */
#include "test-town.h"

FtLatLon
test_town_at (double e, double n)
{
  return ft_latlon_offset ((FtLatLon) { TEST_TOWN_LAT, TEST_TOWN_LON }, e, n);
}

FtMultiPolygon *
test_town_square (double e, double n, double half)
{
  FtMultiPolygon *mp = ft_multipolygon_new ();
  FtLatLon pts[4] = { test_town_at (e - half, n - half), test_town_at (e + half, n - half),
                      test_town_at (e + half, n + half), test_town_at (e - half, n + half) };
  ft_multipolygon_add_ring (mp, pts, 4);
  return mp;
}

FtGeofences *
test_town_geofences (double park_half_m)
{
  FtGeofences *g = ft_geofences_new ();
  FtZoneRules park = ft_zone_rules_all_allowed ();
  FtZoneRules yard = ft_zone_rules_all_allowed ();
  FtZoneRules area = ft_zone_rules_all_allowed ();
  FtZoneRules outside = ft_zone_rules_all_allowed ();

  park.ride_end_allowed = FALSE;
  ft_geofences_add (g, "park", "Park", test_town_square (400, 0, park_half_m), &park);
  yard.ride_start_allowed = FALSE;
  ft_geofences_add (g, "yard", "Depot Yard", test_town_square (-400, 0, 100), &yard);
  ft_geofences_add (g, "area", "Operating area", test_town_square (0, 0, 1000), &area);
  outside.ride_end_allowed = FALSE;
  outside.ride_start_allowed = FALSE;
  ft_geofences_set_global_rules (g, &outside);
  return g;
}
