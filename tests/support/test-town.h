/* test-town.h — a small made-up town for booking tests: positions by metres
 * east/north of a centre, square zones, and geofences with a no-parking
 * park east of the centre, a no-ride-start yard west of it, an operating
 * area around both, and nothing allowed outside.
 */
#pragma once

#include "ft-core.h"

#define TEST_TOWN_LAT 50.0
#define TEST_TOWN_LON 10.0

FtLatLon        test_town_at         (double east_m, double north_m);
FtMultiPolygon *test_town_square     (double east_m, double north_m, double half_m);
/* park: 400 m east, half side park_half_m; yard: 400 m west, 100 m; area: 1000 m. */
FtGeofences    *test_town_geofences  (double park_half_m);
