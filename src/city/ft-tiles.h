/* ft-tiles.h — offline raster map tiles for a city pack.
 *
 * The baker renders a city (streets by class from the road graph, water,
 * parks, optionally demand zones and no-parking geofences) with cairo into
 * an MBTiles 1.3 file: a `metadata` table and a `tiles` table of 256 px PNGs
 * keyed by (zoom_level, tile_column, tile_row) with TMS rows (row 0 at the
 * south). The reader opens such a file and returns tiles by XYZ coordinates
 * (row 0 at the north, as slippy maps and libshumate count them).
 * No GTK here: the desktop app wraps the reader in a ShumateDataSource.
 */
#pragma once

#include "ft-city.h"

G_BEGIN_DECLS

#define FT_TILES_ERROR (ft_tiles_error_quark ())
GQuark ft_tiles_error_quark (void);
typedef enum {
  FT_TILES_ERROR_IO,        /* cannot create / rename / open the file */
  FT_TILES_ERROR_SQLITE,    /* SQLite refused something; message names the call */
  FT_TILES_ERROR_INVALID,   /* bad arguments: zoom range, empty city bbox */
  FT_TILES_ERROR_FORMAT,    /* file is not an MBTiles file */
  FT_TILES_ERROR_CANCELLED,
} FtTilesError;

#define FT_TILES_SIZE 256

/* Called after each rendered tile with the fraction done (0..1). Return
 * FALSE to cancel the bake (the output file is then not created). */
typedef gboolean (*FtTilesProgress) (double fraction, gpointer data);

/* Extra polygons beyond city->water and city->parks (may be NULL). */
typedef struct {
  const FtMultiPolygon *water;   /* lakes, sea, rivers as areas */
  const FtMultiPolygon *parks;   /* in addition to zones of kind park */
  /* River centre lines: n_rivers polylines, each river_pts[i] with river_n[i] points. */
  const FtLatLon *const *river_pts;
  const guint          *river_n;
  guint                 n_rivers;
  double                river_width_m;   /* default 30 */
  gboolean              force;           /* replace a file that is not Fleet Twin's tiles */
} FtTilesExtras;

/* Renders zooms zmin..zmax (each 0..22, zmin <= zmax) covering city->bbox
 * into mbtiles_path. Writes to a temporary file beside it and renames it on
 * success: a failed or cancelled bake leaves no file behind, and one killed
 * is swept on the next bake. An existing file that is not Fleet Twin's
 * tiles is refused unless extras->force. */
gboolean ft_tiles_bake      (const FtCity *city, const char *mbtiles_path,
                             int zmin, int zmax, gboolean draw_zones,
                             FtTilesProgress cb, gpointer data, GError **error);
gboolean ft_tiles_bake_full (const FtCity *city, const FtTilesExtras *extras,
                             const char *mbtiles_path, int zmin, int zmax,
                             gboolean draw_zones, FtTilesProgress cb,
                             gpointer data, GError **error);

/* TRUE when path is an MBTiles file this baker wrote (so it may be replaced). */
gboolean ft_tiles_is_own (const char *path);

/* Renders one tile (XYZ) to PNG bytes without touching any file. */
GBytes  *ft_tiles_render_png (const FtCity *city, const FtTilesExtras *extras,
                              int z, int x, int y, gboolean draw_zones,
                              GError **error);

/* Slippy-map tile arithmetic (XYZ, row 0 north). */
void     ft_tiles_latlon_to_tile (FtLatLon p, int z, int *x, int *y);
/* Tile range covering bbox at zoom z, inclusive. */
void     ft_tiles_bbox_range     (const FtBBox *bbox, int z,
                                  int *x0, int *y0, int *x1, int *y1);
static inline int ft_tiles_xyz_to_tms_row (int z, int y) { return (1 << z) - 1 - y; }

/* Reader. Thread-confined: one FtTiles per thread. */
typedef struct _FtTiles FtTiles;

FtTiles  *ft_tiles_open       (const char *mbtiles_path, GError **error);
void      ft_tiles_free       (FtTiles *t);
/* PNG bytes of tile (z, x, y) in XYZ numbering, or NULL if it is not stored. */
GBytes   *ft_tiles_get        (FtTiles *t, int z, int x, int y);
/* Metadata value (e.g. "name", "bounds", "minzoom"), or NULL; caller frees. */
char     *ft_tiles_dup_metadata (FtTiles *t, const char *name);
int       ft_tiles_get_min_zoom (FtTiles *t);
int       ft_tiles_get_max_zoom (FtTiles *t);
/* Bounds from metadata; FALSE if absent or malformed. */
gboolean  ft_tiles_get_bounds (FtTiles *t, FtBBox *out);
/* Number of tiles stored at zoom z. */
guint     ft_tiles_count      (FtTiles *t, int z);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (FtTiles, ft_tiles_free)

G_END_DECLS
