/* ft-test-city.h — a synthetic street-grid city for the UI tests and the
 * render benchmark, independent of the city generator: a size_m × size_m
 * grid of streets (arterials, secondaries, residential, cycleways), a few
 * parks and a river, around a centre point. Freed with ft_test_city_free,
 * not ft_city_free (memory is laid out here).
 */
#pragma once

#include "ft-tiles.h"

typedef struct {
  FtCity         city;
  FtTilesExtras  extras;
  FtMultiPolygon parks;
  FtLatLon      *river;
  guint          river_n;
  const FtLatLon *river_ptrs[1];
} FtTestCity;

FtTestCity *ft_test_city_new  (FtLatLon center, double size_m, guint n_streets);
void        ft_test_city_free (FtTestCity *tc);
