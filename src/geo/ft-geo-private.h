/* ft-geo-private.h — what src/geo's files share and nothing else sees. */
#pragma once

#include "ft-geo.h"

G_BEGIN_DECLS

/* The cells of an area raster (ft-area-raster.c): a grid of about 20 m
 * over a list of areas, each cell FT_AREA_CELLS_NONE (no area holds any
 * of it), an area's index (the first area not wholly outside the cell
 * holds all of it) or FT_AREA_CELLS_MIXED | the first area to test (that
 * area's boundary crosses the cell; the areas before it hold no point of
 * it). rows == 0: no cells (no areas, too many, or a bbox wider than 10
 * degrees). */
typedef struct {
  double   min_lat, min_lon, dlat, dlon;
  guint    rows, cols;
  guint16 *cell;        /* rows x cols, row-major; the caller frees it */
} FtAreaCells;

#define FT_AREA_CELLS_NONE  0x7fffu
#define FT_AREA_CELLS_MIXED 0x8000u

/* Builds the cells over areas[0..n) (a NULL or empty area is skipped, its
 * index kept) into *cells. */
void ft_area_cells_build (FtAreaCells *cells, const FtMultiPolygon *const *areas, guint n);

G_END_DECLS
