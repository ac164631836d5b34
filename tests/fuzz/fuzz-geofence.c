/* fuzz-geofence.c — libFuzzer harness for GBFS geofencing_zones (3.0 and
 * 2.3 shapes) and the GeoJSON multipolygons inside them
 * (src/geo/ft-geofence.c, src/geo/ft-geo.c). Zones that load are queried
 * at their own vertices and written back out, and the written document
 * must load again with the same number of zones.
 */
#include "fuzz-common.h"
#include "ft-geofence.h"

#include <json-glib/json-glib.h>

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  fuzz_init_glib ();
  g_autoptr(GError) error = NULL;
  g_autoptr(FtGeofences) g = ft_geofences_parse_gbfs ((const char *) data, (gssize) size,
                                                       "fuzz.json", &error);
  if (g == NULL)
    {
      fuzz_verbose ("geofences", error);
      g_assert (error != NULL);
      return 0;
    }
  guint nz = ft_geofences_n_zones (g);
  for (guint z = 0; z < nz; z++)
    {
      const FtGeofenceZone *zone = ft_geofences_get (g, z);
      g_assert (zone != NULL && zone->area != NULL);
      /* a few queries per zone: the first vertex of each ring, all kinds */
      for (guint p = 0; p < zone->area->n_polys && p < 8; p++)
        for (guint r = 0; r < zone->area->polys[p].n_rings && r < 8; r++)
          if (zone->area->polys[p].rings[r].n > 0)
            for (guint k = 0; k < 3; k++)
              {
                int zi = -2;
                (void) ft_geofences_rules_at (g, zone->area->polys[p].rings[r].pts[0], k, &zi);
                g_assert (zi >= -1 && zi < (int) nz);
              }
    }
  /* export and read back */
  g_autoptr(FtGeofences) copy = ft_geofences_ref_copy (g);
  JsonObject *o = json_object_new ();
  json_object_set_string_member (o, "version", "3.0");
  json_object_set_member (o, "data", ft_geofences_to_gbfs_data (copy));
  g_autoptr(JsonNode) root = json_node_new (JSON_NODE_OBJECT);
  json_node_take_object (root, o);
  g_autofree char *text = json_to_string (root, FALSE);
  g_autoptr(GError) again_error = NULL;
  g_autoptr(FtGeofences) again = ft_geofences_parse_gbfs (text, -1, "fuzz.json (written)", &again_error);
  if (again == NULL)
    g_error ("written geofences do not load again: %s\n%s", again_error->message, text);
  g_assert_cmpuint (ft_geofences_n_zones (again), ==, nz);
  fuzz_verbose ("geofences", NULL);
  return 0;
}
