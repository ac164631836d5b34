/* fuzz-region-policy.c — libFuzzer harness for a region folder's
 * region.ini (ft_region_policy_load in src/region/ft-region-data.c). A
 * policy that loads names a region and a known jurisdiction, with days in
 * 0 .. 36500 and a grid in 50 .. 5000 m.
 */
#include "fuzz-common.h"
#include "ft-region-data.h"

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  fuzz_init_glib ();
  const char *dir = fuzz_scratch ();
  fuzz_write (dir, "region.ini", (const char *) data, size);
  g_auto(FtRegionPolicy) p = { 0 };
  g_autoptr(GError) error = NULL;
  if (!ft_region_policy_load (dir, &p, &error))
    {
      g_assert (error != NULL);
      fuzz_verbose ("region.ini", error);
      return 0;
    }
  g_assert (p.name != NULL && *p.name != '\0');
  g_assert (g_strv_contains (ft_region_jurisdictions (), p.jurisdiction));
  g_assert (p.telemetry_days >= 0 && p.telemetry_days <= 36500);
  g_assert (p.coarsen_days >= 0 && p.coarsen_days <= 36500);
  g_assert (p.coarsen_m >= 50 && p.coarsen_m <= 5000);
  fuzz_verbose ("region.ini", NULL);
  return 0;
}
