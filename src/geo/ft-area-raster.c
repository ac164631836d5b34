/* ft-area-raster.c — the first of a list of areas that holds a point, per
 * cell of a grid of about 20 m over them, for lookups that would test the
 * areas one by one (pricing's zone multipliers). Built as the geofences'
 * raster is: per area, in order, the cells an edge comes near (within
 * AREA_EPS, rasterised row by row) are boundary cells; every other cell is
 * wholly inside or wholly outside the area, as its centre is. A cell takes
 * the first area that is not wholly outside it: one that holds all of it
 * answers there without a polygon test; where its boundary crosses the
 * cell, the caller tests from that area on (the areas before it hold no
 * point of the cell). Answers are those of the plain loop, bit for bit.
 * The geofences build their per-kind rasters with the same
 * ft_area_cells_build (ft-geo-private.h).
 */
#include "ft-geo.h"
#include "ft-geo-private.h"

#include <math.h>
#include <string.h>

#define AREA_NONE      FT_AREA_CELLS_NONE
#define AREA_MIXED     FT_AREA_CELLS_MIXED
#define AREA_UNDECIDED 0xffffu
#define AREA_CELL_M 20.0          /* the smallest cell */
#define AREA_CACHED_CELLS 65536.0
#define AREA_MAX_CELLS (1u << 21)
#define AREA_EPS 1e-7             /* degrees, ~1 cm: far above rounding */
#define AREA_M_PER_DEG 111195.0

struct _FtAreaRaster {
  FtAreaCells c;
};

static inline int
area_clamp (double v, int hi)
{
  if (!(v >= 0))
    return 0;
  if (v > hi)
    return hi;
  return (int) v;
}

static void
mark_edge (const FtAreaCells *ra, guint8 *mark, int r0, int r1, int c0, int c1,
           FtLatLon a, FtLatLon b)
{
  double lo_lat = MIN (a.lat, b.lat), hi_lat = MAX (a.lat, b.lat);
  int ra0 = area_clamp ((lo_lat - AREA_EPS - ra->min_lat) / ra->dlat, r1);
  int ra1 = area_clamp ((hi_lat + AREA_EPS - ra->min_lat) / ra->dlat, r1);
  ra0 = MAX (ra0, r0);
  for (int r = ra0; r <= ra1; r++)
    {
      double lon0, lon1;
      if (hi_lat - lo_lat <= 0)
        {
          lon0 = MIN (a.lon, b.lon);
          lon1 = MAX (a.lon, b.lon);
        }
      else
        {
          /* the part of the edge within the row's band, widened by eps */
          double y0 = ra->min_lat + r * ra->dlat - AREA_EPS;
          double y1 = ra->min_lat + (r + 1) * ra->dlat + AREA_EPS;
          double t0 = CLAMP ((y0 - a.lat) / (b.lat - a.lat), 0.0, 1.0);
          double t1 = CLAMP ((y1 - a.lat) / (b.lat - a.lat), 0.0, 1.0);
          double x0 = a.lon + (b.lon - a.lon) * t0, x1 = a.lon + (b.lon - a.lon) * t1;
          lon0 = MIN (x0, x1);
          lon1 = MAX (x0, x1);
        }
      int ca = MAX (c0, area_clamp ((lon0 - AREA_EPS - ra->min_lon) / ra->dlon, c1));
      int cb = area_clamp ((lon1 + AREA_EPS - ra->min_lon) / ra->dlon, c1);
      for (int c = ca; c <= cb; c++)
        mark[(gsize) (r - r0) * (c1 - c0 + 1) + (c - c0)] = 1;
    }
}

void
ft_area_cells_build (FtAreaCells *ra, const FtMultiPolygon *const *areas, guint n)
{
  memset (ra, 0, sizeof *ra);
  FtBBox bb;
  ft_bbox_init_empty (&bb);
  if (n >= AREA_NONE)
    return;    /* more areas than a cell can name: no cells */
  for (guint i = 0; i < n; i++)
    if (areas[i] != NULL && areas[i]->n_polys > 0)
      {
        ft_bbox_extend (&bb, (FtLatLon) { areas[i]->bbox.min_lat, areas[i]->bbox.min_lon });
        ft_bbox_extend (&bb, (FtLatLon) { areas[i]->bbox.max_lat, areas[i]->bbox.max_lon });
      }
  if (!(bb.max_lat >= bb.min_lat && bb.max_lon >= bb.min_lon)
      || !isfinite (bb.min_lat + bb.max_lat + bb.min_lon + bb.max_lon)
      || bb.max_lat - bb.min_lat > 10 || bb.max_lon - bb.min_lon > 10)
    return;    /* no cells: every lookup tests from area 0 */
  double kx = MAX (cos ((bb.min_lat + bb.max_lat) / 2 * G_PI / 180.0), 0.01);
  double h = bb.max_lat - bb.min_lat + 2 * AREA_EPS, w = bb.max_lon - bb.min_lon + 2 * AREA_EPS;
  /* small enough to stay in cache (about AREA_CACHED_CELLS cells, 128 KiB),
   * fine enough that few queries meet a boundary cell */
  double cell_m = MAX (AREA_CELL_M, sqrt (h * AREA_M_PER_DEG * w * AREA_M_PER_DEG * kx / AREA_CACHED_CELLS));
  for (;;)
    {
      ra->dlat = cell_m / AREA_M_PER_DEG;
      ra->dlon = cell_m / (AREA_M_PER_DEG * kx);
      ra->rows = (guint) ceil (h / ra->dlat) + 1;
      ra->cols = (guint) ceil (w / ra->dlon) + 1;
      if ((guint64) ra->rows * ra->cols <= AREA_MAX_CELLS)
        break;
      cell_m *= 2;
    }
  ra->min_lat = bb.min_lat - AREA_EPS;
  ra->min_lon = bb.min_lon - AREA_EPS;
  gsize nc = (gsize) ra->rows * ra->cols;
  ra->cell = g_new (guint16, nc);
  for (gsize i = 0; i < nc; i++)
    ra->cell[i] = AREA_UNDECIDED;
  int rmax = (int) ra->rows - 1, cmax = (int) ra->cols - 1;
  for (guint i = 0; i < n; i++)
    {
      const FtMultiPolygon *mp = areas[i];
      if (mp == NULL || mp->n_polys == 0)
        continue;
      /* the cells that can hold a point of the area's bbox */
      int r0 = area_clamp ((mp->bbox.min_lat - AREA_EPS - ra->min_lat) / ra->dlat, rmax);
      int r1 = area_clamp ((mp->bbox.max_lat + AREA_EPS - ra->min_lat) / ra->dlat, rmax);
      int c0 = area_clamp ((mp->bbox.min_lon - AREA_EPS - ra->min_lon) / ra->dlon, cmax);
      int c1 = area_clamp ((mp->bbox.max_lon + AREA_EPS - ra->min_lon) / ra->dlon, cmax);
      int wc = c1 - c0 + 1;
      g_autofree guint8 *mark = g_new0 (guint8, (gsize) (r1 - r0 + 1) * wc);
      for (guint p = 0; p < mp->n_polys; p++)
        for (guint q = 0; q < mp->polys[p].n_rings; q++)
          {
            const FtRing *ring = &mp->polys[p].rings[q];
            for (guint a = 0, b = ring->n ? ring->n - 1 : 0; a < ring->n; b = a++)
              mark_edge (ra, mark, r0, r1, c0, c1, ring->pts[b], ring->pts[a]);
          }
      for (int r = r0; r <= r1; r++)
        {
          int known = -1;   /* inside (1) or not (0) of the run of unmarked cells */
          for (int c = c0; c <= c1; c++)
            {
              guint16 *cell = &ra->cell[(gsize) r * ra->cols + c];
              if (mark[(gsize) (r - r0) * wc + (c - c0)])
                {
                  known = -1;
                  if (*cell == AREA_UNDECIDED)
                    *cell = (guint16) (AREA_MIXED | i);
                  continue;
                }
              if (*cell != AREA_UNDECIDED)
                continue;
              if (known < 0)
                {
                  FtLatLon centre = { ra->min_lat + (r + 0.5) * ra->dlat, ra->min_lon + (c + 0.5) * ra->dlon };
                  known = ft_multipolygon_contains (mp, centre) ? 1 : 0;
                }
              if (known)
                *cell = (guint16) i;
            }
        }
    }
  for (gsize i = 0; i < nc; i++)
    if (ra->cell[i] == AREA_UNDECIDED)
      ra->cell[i] = AREA_NONE;
}

FtAreaRaster *
ft_area_raster_new (const FtMultiPolygon *const *areas, guint n)
{
  FtAreaRaster *ra = g_new0 (FtAreaRaster, 1);
  ft_area_cells_build (&ra->c, areas, n);
  return ra;
}

void
ft_area_raster_free (FtAreaRaster *ar)
{
  if (ar == NULL)
    return;
  g_free (ar->c.cell);
  g_free (ar);
}

int
ft_area_raster_at (const FtAreaRaster *ar, FtLatLon p, guint *first)
{
  const FtAreaCells *ra = &ar->c;
  *first = 0;
  if (ra->rows == 0)
    return FT_AREA_RASTER_TEST;
  double fr = (p.lat - ra->min_lat) / ra->dlat, fc = (p.lon - ra->min_lon) / ra->dlon;
  if (!(fr >= 0 && fr < ra->rows && fc >= 0 && fc < ra->cols))
    return FT_AREA_RASTER_TEST;
  guint v = ra->cell[(gsize) fr * ra->cols + (gsize) fc];
  if (v == AREA_NONE)
    return FT_AREA_RASTER_NONE;
  if (v & AREA_MIXED)
    {
      *first = v & ~AREA_MIXED;
      return FT_AREA_RASTER_TEST;
    }
  return (int) v;
}
