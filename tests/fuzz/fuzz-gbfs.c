/* fuzz-gbfs.c — libFuzzer harness for GBFS 2.3 / 3.0 feeds
 * (src/interop/ft-gbfs.c). The input is a feed folder as a multi-file
 * container (fuzz-common.h) of gbfs.json, manifest.json,
 * system_information.json, vehicle_types.json, vehicle_status.json /
 * free_bike_status.json (or their _<time> snapshots),
 * system_pricing_plans.json, geofencing_zones.json, …; a bare input is
 * vehicle_status.json. A feed that loads seeds a fresh core, which must
 * then pass ft_core_check.
 */
#include "fuzz-common.h"
#include "ft-gbfs.h"

static gboolean
safe_name (const char *name)
{
  gsize n = strlen (name);
  if (n < 6 || n > 80 || !g_str_has_suffix (name, ".json"))
    return FALSE;
  for (gsize i = 0; i < n - 5; i++)
    if (!g_ascii_isalnum (name[i]) && name[i] != '_' && name[i] != '-')
      return FALSE;
  return TRUE;
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  fuzz_init_glib ();
  const char *dir = fuzz_scratch ();
  g_autoptr(FuzzParts) parts = fuzz_split_parts (data, size, "vehicle_status.json");
  for (guint i = 0; i < parts->len; i++)
    {
      const FuzzPart *p = &g_array_index (parts, FuzzPart, i);
      if (safe_name (p->name))
        fuzz_write (dir, p->name, p->data, p->len);
    }
  g_autoptr(GError) error = NULL;
  g_autoptr(FtGbfsFeed) feed = ft_gbfs_load (dir, &error);
  if (feed == NULL)
    {
      fuzz_verbose ("feed", error);
      g_assert (error != NULL);
      return 0;
    }
  g_assert (feed->version != NULL && feed->vehicles_file != NULL);
  g_assert (feed->n_reserved <= feed->n_vehicles && feed->n_disabled <= feed->n_vehicles);
  for (guint i = 0; i < feed->n_vehicles; i++)
    {
      const FtGbfsVehicle *v = &feed->vehicles[i];
      g_assert (v->vehicle_id != NULL);
      g_assert (ft_latlon_valid (v->pos));
    }
  FtCoreConfig cfg;
  ft_core_config_init (&cfg);
  g_autoptr(FtCore) core = ft_core_new (&cfg, ft_gbfs_dup_geofences (feed), ft_gbfs_dup_pricing (feed));
  g_autoptr(GError) seed_error = NULL;
  gint n = ft_gbfs_seed_core (feed, core, 1700000000000, &seed_error);
  g_assert (n == -1 ? seed_error != NULL : n == (gint) feed->n_vehicles);
  g_autoptr(GError) check_error = NULL;
  if (!ft_core_check (core, &check_error))
    g_error ("core invalid after seeding from a GBFS feed: %s", check_error->message);
  fuzz_verbose ("feed", NULL);
  return 0;
}
