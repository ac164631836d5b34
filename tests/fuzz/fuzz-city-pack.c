/* fuzz-city-pack.c — libFuzzer harness for city packs
 * (src/city/ft-city-io.c: city.json, zones.geojson, geofencing_zones.json,
 * roads.tsv, demand.json, landuse.geojson). The input is a multi-file
 * container (fuzz-common.h); each file it leaves out comes from a small
 * valid built-in pack, so every reader is reached; a bare input is
 * city.json. A pack that loads is routed on, saved, and must load again
 * with the same zones, nodes and edges.
 */
#include "fuzz-common.h"
#include "ft-city.h"

static const char *const pack_files[] = {
  "city.json", "zones.geojson", "geofencing_zones.json", "roads.tsv", "demand.json", "landuse.geojson",
};

static const char default_city[] =
  "{\"format_version\":1,\"id\":\"fuzz\",\"name\":\"Fuzz Town\",\"currency\":\"EUR\","
  "\"utc_offset_min\":60,\"center\":{\"lat\":54.18,\"lon\":3.15},"
  "\"bbox\":{\"min_lat\":54.17,\"min_lon\":3.14,\"max_lat\":54.19,\"max_lon\":3.16},"
  "\"operating_area\":null,\"depots\":[{\"id\":\"d0\",\"name\":\"Depot\","
  "\"pos\":{\"lat\":54.18,\"lon\":3.15},\"chargers\":4,\"pack_stock\":10}]}\n";

static const char default_zones[] =
  "{\"type\":\"FeatureCollection\",\"features\":["
  "{\"type\":\"Feature\",\"properties\":{\"id\":\"z0\",\"name\":\"West\",\"kind\":\"residential\","
  "\"pricing_multiplier\":1},\"geometry\":{\"type\":\"Polygon\",\"coordinates\":"
  "[[[3.14,54.17],[3.15,54.17],[3.15,54.19],[3.14,54.19],[3.14,54.17]]]}},"
  "{\"type\":\"Feature\",\"properties\":{\"id\":\"z1\",\"name\":\"East\",\"kind\":\"office\","
  "\"pricing_multiplier\":1.2},\"geometry\":{\"type\":\"MultiPolygon\",\"coordinates\":"
  "[[[[3.15,54.17],[3.16,54.17],[3.16,54.19],[3.15,54.19],[3.15,54.17]],"
  "[[3.152,54.18],[3.154,54.18],[3.154,54.182],[3.152,54.18]]]]}}]}\n";

static const char default_geofences[] =
  "{\"last_updated\":\"2026-01-01T00:00:00Z\",\"ttl\":0,\"version\":\"3.0\",\"data\":{"
  "\"geofencing_zones\":{\"type\":\"FeatureCollection\",\"features\":[{\"type\":\"Feature\","
  "\"geometry\":{\"type\":\"MultiPolygon\",\"coordinates\":[[[[3.145,54.175],[3.155,54.175],"
  "[3.155,54.185],[3.145,54.185],[3.145,54.175]]]]},\"properties\":{\"name\":[{\"text\":\"Slow\","
  "\"language\":\"en\"}],\"rules\":[{\"vehicle_type_ids\":[\"escooter\"],\"ride_start_allowed\":true,"
  "\"ride_end_allowed\":false,\"ride_through_allowed\":true,\"maximum_speed_kph\":10}]}}]},"
  "\"global_rules\":[{\"ride_start_allowed\":true,\"ride_end_allowed\":true,"
  "\"ride_through_allowed\":true}]}}\n";

static const char default_roads[] =
  "# fuzz town\n"
  "N\t54.175\t3.145\nN\t54.175\t3.155\nN\t54.185\t3.155\nN\t54.185\t3.145\n"
  "E\t0\t1\t650\tresidential\t0\nE\t1\t2\t1100\tarterial\t0\n"
  "E\t2\t3\t650\tsecondary\t1\nE\t3\t0\t1100\tcycleway\t0\n";

static char *
default_demand (void)
{
  GString *s = g_string_new ("{\"weather_multiplier\":1,\"mean_trip_m\":1500,\"zones\":[");
  for (guint z = 0; z < 2; z++)
    {
      g_string_append_printf (s, "%s{\"id\":\"z%u\",\"rate\":[", z ? "," : "", z);
      for (guint h = 0; h < 168; h++)
        g_string_append_printf (s, "%s%u", h ? "," : "", (h * 7 + z) % 5);
      g_string_append (s, "],\"dest\":{\"morning\":[0.5,0.5],\"midday\":[1,0],"
                          "\"evening\":[0,1],\"night\":[0.25,0.75]}}");
    }
  g_string_append (s, "]}\n");
  return g_string_free (s, FALSE);
}

static void
check_city (const FtCity *c)
{
  g_autoptr(GError) e = NULL;
  if (!ft_city_check (c, &e))
    g_error ("a loaded city fails ft_city_check: %s", e->message);
  g_autoptr(FtRouter) r = ft_router_new (c);
  for (guint z = 0; z < c->n_zones; z++)
    {
      (void) ft_city_zone_at (c, c->zones[z].centroid);
      FtLatLon to = c->zones[(z + 1) % c->n_zones].centroid;
      if (ft_latlon_valid (c->zones[z].centroid) && ft_latlon_valid (to))
        (void) ft_router_distance (r, c->zones[z].centroid, to);
    }
  if (c->n_depots > 0)
    (void) ft_city_nearest_node (c, c->depots[0].pos);
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  fuzz_init_glib ();
  static char *demand;
  if (demand == NULL)
    demand = default_demand ();
  const char *defaults[G_N_ELEMENTS (pack_files)] = {
    default_city, default_zones, default_geofences, default_roads, demand, NULL,
  };
  const char *scratch = fuzz_scratch ();
  g_autofree char *dir = g_build_filename (scratch, "pack", NULL);
  g_mkdir (dir, 0700);
  g_autoptr(FuzzParts) parts = fuzz_split_parts (data, size, "city.json");
  for (guint f = 0; f < G_N_ELEMENTS (pack_files); f++)
    {
      const FuzzPart *p = fuzz_parts_get (parts, pack_files[f]);
      if (p != NULL)
        fuzz_write (dir, pack_files[f], p->data, p->len);
      else if (defaults[f] != NULL)
        fuzz_write (dir, pack_files[f], defaults[f], strlen (defaults[f]));
    }
  g_autoptr(GError) error = NULL;
  g_autoptr(FtCity) c = ft_city_load (dir, &error);
  if (c == NULL)
    {
      fuzz_verbose ("city pack", error);
      g_assert (error != NULL);
      return 0;
    }
  check_city (c);
  /* what we write we must read back */
  g_autofree char *saved = g_build_filename (scratch, "saved", NULL);
  g_autoptr(GError) save_error = NULL;
  if (!ft_city_save (c, saved, &save_error))
    g_error ("cannot save a city that loaded: %s", save_error->message);
  g_autoptr(GError) again_error = NULL;
  g_autoptr(FtCity) again = ft_city_load (saved, &again_error);
  if (again == NULL)
    g_error ("a saved city does not load again: %s", again_error->message);
  g_assert_cmpuint (again->n_zones, ==, c->n_zones);
  g_assert_cmpuint (again->n_depots, ==, c->n_depots);
  g_assert_cmpuint (again->graph.n_nodes, ==, c->graph.n_nodes);
  g_assert_cmpuint (again->graph.n_edges, ==, c->graph.n_edges);
  fuzz_verbose ("city pack", NULL);
  return 0;
}
