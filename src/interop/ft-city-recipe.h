/* ft-city-recipe.h — a city built from real data by a recipe a scenario
 * names: an OpenStreetMap extract for the streets and zones, and trip data
 * whose demand is fitted and moved onto those zones, scaled to a daily
 * volume. The result is cached as a city pack keyed by the inputs' sizes,
 * times and the parameters, so a scenario runs with one command and the
 * import happens once.
 */
#pragma once

#include "ft-city.h"

G_BEGIN_DECLS

typedef struct {
  const char *osm_path;          /* .osm.pbf */
  const char *name;              /* city name */
  const char *trips_path;        /* trip CSV / MDS JSON, or NULL to keep the import's demand */
  double      requests_per_day;  /* scale of the moved demand; <= 0 keeps the source's */
  const char *cache_dir;         /* NULL: $XDG_CACHE_HOME/fleet-twin/cities */
} FtCityRecipe;

/* Loads the cached pack or builds (and caches) it. progress may be NULL. */
FtCity *ft_city_from_recipe (const FtCityRecipe *recipe, FtCityProgressFunc progress,
                             gpointer user_data, GError **error);

G_END_DECLS
