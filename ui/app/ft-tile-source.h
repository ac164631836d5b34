/* ft-tile-source.h — a ShumateDataSource serving PNG tiles from an MBTiles
 * file baked by src/city/ft-tiles.c, so the map works offline.
 */
#pragma once

#include <shumate/shumate.h>

G_BEGIN_DECLS

#define FT_TYPE_TILE_SOURCE (ft_tile_source_get_type ())
G_DECLARE_FINAL_TYPE (FtTileSource, ft_tile_source, FT, TILE_SOURCE, ShumateDataSource)

FtTileSource *ft_tile_source_new          (const char *mbtiles_path, GError **error);
const char   *ft_tile_source_get_path     (FtTileSource *self);
int           ft_tile_source_get_min_zoom (FtTileSource *self);
int           ft_tile_source_get_max_zoom (FtTileSource *self);
guint64       ft_tile_source_get_n_served (FtTileSource *self);
guint64       ft_tile_source_get_n_missing(FtTileSource *self);
/* A map source over these tiles: under GSK_RENDERER=cairo one that decodes
 * each tile once into a cairo surface drawn without per-frame conversion,
 * otherwise a ShumateRasterRenderer over this data source (GL caches the
 * uploaded textures). Tiles served/missing are counted either way. */
ShumateMapSource *ft_tile_source_create_map_source (FtTileSource *self);

G_END_DECLS
