/* fuzz-trips.h — what every trip set that loads must hold, for the trip
 * CSV and MDS harnesses: valid positions, ordered times, counts that add up,
 * and a finite hourly profile.
 */
#pragma once

#include "fuzz-common.h"
#include "ft-trips.h"
#include "ft-demand-fit.h"

#include <math.h>

static inline void
fuzz_check_trip_set (const FtTripSet *set)
{
  g_assert (set->n_trips > 0);
  g_assert (set->n_trips + ft_trip_set_n_dropped (set) <= set->n_rows);
  for (guint i = 0; i < set->n_trips; i++)
    {
      const FtTrip *t = &set->trips[i];
      g_assert (ft_latlon_valid (t->from) && ft_latlon_valid (t->to));
      g_assert (t->end >= t->start);
      g_assert (isfinite (t->distance_m) && t->distance_m >= 0);
    }
  g_assert (ft_trips_layout_name (set->layout) != NULL);
  (void) ft_trip_set_week_start (set);
  double hourly[24];
  ft_trips_hourly_profile (set, hourly);
  for (guint h = 0; h < 24; h++)
    g_assert (isfinite (hourly[h]) && hourly[h] >= 0);
}
