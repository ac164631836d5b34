/* ft-bake-demo-tiles.c — build-time generator: Demo City (from
 * data/demo-city.ini) baked into demo-city.mbtiles for zooms 12–17, so the
 * app starts on an offline map. Usage: ft-bake-demo-tiles PARAMS.ini OUT.mbtiles
 */
#include "ft-tiles.h"

#include <stdio.h>

int
main (int argc, char **argv)
{
  if (argc != 3)
    {
      fprintf (stderr, "usage: %s PARAMS.ini OUT.mbtiles\n", argv[0]);
      return 2;
    }
  g_autoptr(GError) error = NULL;
  g_autoptr(FtCity) city = ft_city_generate_demo (argv[1], &error);
  if (city == NULL)
    {
      fprintf (stderr, "%s: %s\n", argv[0], error->message);
      return 1;
    }
  if (!ft_tiles_bake (city, argv[2], 12, 17, FALSE, NULL, NULL, &error))
    {
      fprintf (stderr, "%s: %s\n", argv[0], error->message);
      return 1;
    }
  return 0;
}
