/* fuzz-trips-csv.c — libFuzzer harness for the bike-share trip CSV reader
 * (src/interop/ft-trips.c: Citi Bike's classic `tripduration,…` layout and
 * the newer `ride_id,…` layout). A set that loads must hold only trips
 * with valid positions and counts that add up.
 */
#include "fuzz-trips.h"

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  fuzz_init_glib ();
  g_autoptr(GError) error = NULL;
  g_autoptr(FtTripSet) set = ft_trips_parse_csv ((const char *) data, size, "fuzz.csv", &error);
  if (set == NULL)
    {
      fuzz_verbose ("trips", error);
      g_assert (error != NULL);
      return 0;
    }
  g_assert (set->layout == FT_TRIPS_LAYOUT_CITIBIKE_V1 || set->layout == FT_TRIPS_LAYOUT_CITIBIKE_V3
            || set->layout == FT_TRIPS_LAYOUT_MAPPED);
  fuzz_check_trip_set (set);
  fuzz_verbose ("trips", NULL);
  return 0;
}
