/* ft-region-city.c — the one place where a scenario's raw inputs become a
 * city: an OpenStreetMap extract with demand moved from trip data, or a
 * bare city over the trips with their demand fitted, built once and cached
 * as a city pack keyed by the inputs' sizes and times and the parameters.
 * The simulator, the app and live mode load packs; a scenario naming raw
 * inputs gets its pack from here (see ft-region.h). The cached pack gets
 * its base map baked in (tiles.mbtiles), so the app draws the city: its
 * streets, water and sea, or for a city built from trips alone (no
 * streets), what the pack has: its zones and operating area.
 */
#include "ft-config.h"
#include "ft-region.h"

#include <glib/gstdio.h>
#include <string.h>
#include "ft-demand-fit.h"
#include "ft-tiles.h"

#define RECIPE_TILES_ZMIN 12
#define RECIPE_TILES_ZMAX 16

static char *
input_key (const char *path)
{
  GStatBuf st;
  if (path == NULL || g_stat (path, &st) != 0)
    return g_strdup ("-");
  return g_strdup_printf ("%s:%lld:%lld", path, (long long) st.st_size, (long long) st.st_mtime);
}

static FtCity *
build (const FtRegionRecipe *r, FtCityProgressFunc progress, gpointer user_data, GError **error)
{
  g_autoptr(FtTripSet) trips = NULL;
  if (r->trips_path && !(trips = ft_trips_load (r->trips_path, error)))
    return NULL;
  if (r->osm_path == NULL)
    {
      g_autoptr(FtCity) c = ft_city_from_trips (trips, r->name, r->hex_m > 0 ? r->hex_m : 400, error);
      if (c == NULL || !ft_demand_fit (c, trips, NULL, error))
        return NULL;
      return g_steal_pointer (&c);
    }
  g_autoptr(FtCity) city = ft_city_import_osm (r->osm_path, r->name, progress, user_data, error);
  if (city == NULL)
    return NULL;
  if (trips)
    {
      g_autoptr(FtCity) src = ft_city_from_trips (trips, "trip source", 400, error);
      if (src == NULL || !ft_demand_fit (src, trips, NULL, error)
          || !ft_demand_transfer (src, trips, city, r->requests_per_day, error))
        return NULL;
    }
  return g_steal_pointer (&city);
}

/* Gives c the base map at path, baked there unless it already is (a pack
 * cached before tiles were baked gets them on its next use). A failure
 * costs the map only, so it is a warning. */
static FtCity *
with_tiles (FtCity *c, const char *path)
{
  if (c->tiles_path != NULL && g_file_test (c->tiles_path, G_FILE_TEST_IS_REGULAR))
    return c;
  g_autoptr(GError) e = NULL;
  if (!(g_file_test (path, G_FILE_TEST_IS_REGULAR) && ft_tiles_is_own (path)) &&
      !ft_tiles_bake (c, path, RECIPE_TILES_ZMIN, RECIPE_TILES_ZMAX, c->graph.n_edges == 0,
                      NULL, NULL, &e))
    {
      g_warning ("no base map for city %s at %s: %s", c->name ? c->name : "?", path, e->message);
      return c;
    }
  g_free (c->tiles_path);
  c->tiles_path = g_strdup (path);
  return c;
}

FtCity *
ft_region_city_from_recipe (const FtRegionRecipe *r, FtCityProgressFunc progress, gpointer user_data,
                            GError **error)
{
  g_return_val_if_fail (r != NULL && r->name != NULL, NULL);
  g_return_val_if_fail (r->osm_path != NULL || r->trips_path != NULL, NULL);

  g_autofree char *k1 = input_key (r->osm_path);
  g_autofree char *k2 = input_key (r->trips_path);
  /* "v2": OSM cities since the sea is cut out of their zones (issue 19) */
  g_autofree char *key = r->osm_path
    ? g_strdup_printf ("v2|%s|%s|%s|%.3f", r->name, k1, k2, r->requests_per_day)
    : g_strdup_printf ("trips-v1|%s|%s|%.1f", r->name, k2, r->hex_m);
  g_autofree char *hash = g_compute_checksum_for_string (G_CHECKSUM_SHA256, key, -1);
  g_autofree char *cache = r->cache_dir ? g_strdup (r->cache_dir)
                         : g_build_filename (g_get_user_cache_dir (), "fleet-twin", "cities", NULL);
  g_autofree char *id = g_strdelimit (g_ascii_strdown (r->name, -1), " /\\", '-');
  g_autofree char *leaf = g_strdup_printf ("%s-%.12s", id, hash);
  g_autofree char *dir = g_build_filename (cache, leaf, NULL);
  g_autofree char *pack_tiles = g_build_filename (dir, "tiles.mbtiles", NULL);

  if (g_file_test (dir, G_FILE_TEST_IS_DIR))
    {
      g_autoptr(GError) e = NULL;
      FtCity *c = ft_city_load (dir, &e);
      if (c)
        return with_tiles (c, pack_tiles);
      g_warning ("city cache %s unusable (%s); rebuilding", dir, e->message);
    }
  g_autoptr(FtCity) city = build (r, progress, user_data, error);
  if (city == NULL)
    return NULL;
  if (g_mkdir_with_parents (cache, 0755) == 0 && city->graph.n_nodes == 0)
    {
      /* a pack needs streets: a city built from trips alone is built again
       * each time (it is quick), its base map kept beside the packs */
      g_autofree char *tp = g_strdup_printf ("%s.mbtiles", dir);
      return with_tiles (g_steal_pointer (&city), tp);
    }
  if (g_mkdir_with_parents (cache, 0755) == 0)
    {
      g_autoptr(GError) e = NULL;
      if (!ft_city_save (city, dir, &e))
        g_warning ("could not cache city pack in %s: %s", dir, e->message);
      else
        {
          /* the pack as loaded: a cold and a warm cache give the same city */
          FtCity *c = ft_city_load (dir, &e);
          if (c)
            return with_tiles (c, pack_tiles);
          g_warning ("city cache %s unusable right after writing (%s)", dir, e->message);
        }
    }
  return g_steal_pointer (&city);
}
