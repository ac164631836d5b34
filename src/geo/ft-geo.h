/* ft-geo.h — plane geometry on WGS84 points: polygons, multipolygons with
 * holes, bounding boxes, point-in-polygon, a raster of which area holds a
 * point, and a uniform grid index for "what is near this point" queries
 * over millions of moving points.
 */
#pragma once

#include "ft-common.h"

G_BEGIN_DECLS

typedef struct {
  double min_lat, min_lon, max_lat, max_lon;
} FtBBox;

void     ft_bbox_init_empty     (FtBBox *b);
void     ft_bbox_extend         (FtBBox *b, FtLatLon p);
gboolean ft_bbox_contains       (const FtBBox *b, FtLatLon p);

/* A ring is a closed sequence of points (first point need not repeat).
 * bands, built by ft_multipolygon_add_ring / _add_hole / _copy for rings
 * of 16 points or more (NULL otherwise, and in rings made by hand), lists
 * per band of latitude the edges that reach into it, so that a
 * point-in-polygon test reads only the edges of its band (the same
 * answer: the other edges cannot cross the point's latitude). The points
 * of a ring that has bands must not change. */
typedef struct _FtRingBands FtRingBands;
typedef struct {
  FtLatLon    *pts;
  guint        n;
  FtRingBands *bands;
} FtRing;

/* One polygon: ring 0 is the outer boundary, the others holes. */
typedef struct {
  FtRing *rings;
  guint   n_rings;
} FtPolygon;

/* A multipolygon, as in GeoJSON. Owns its memory. */
typedef struct {
  FtPolygon *polys;
  guint      n_polys;
  FtBBox     bbox;
} FtMultiPolygon;

FtMultiPolygon *ft_multipolygon_new          (void);
void            ft_multipolygon_free         (FtMultiPolygon *mp);
FtMultiPolygon *ft_multipolygon_copy         (const FtMultiPolygon *mp);
/* Adds a polygon with one outer ring (copied); returns its index. */
guint           ft_multipolygon_add_ring     (FtMultiPolygon *mp, const FtLatLon *pts, guint n);
/* Adds a hole to polygon `poly`. */
void            ft_multipolygon_add_hole     (FtMultiPolygon *mp, guint poly, const FtLatLon *pts, guint n);
gboolean        ft_multipolygon_contains     (const FtMultiPolygon *mp, FtLatLon p);
double          ft_multipolygon_area_m2      (const FtMultiPolygon *mp);
/* Metres from p to the nearest edge, 0 inside. */
double          ft_multipolygon_distance_m   (const FtMultiPolygon *mp, FtLatLon p);
FtLatLon        ft_multipolygon_centroid     (const FtMultiPolygon *mp);
/* GeoJSON geometry (Polygon or MultiPolygon object) in/out via json-glib. */
typedef struct _JsonNode JsonNode;
FtMultiPolygon *ft_multipolygon_from_geojson (JsonNode *geometry, GError **error);
JsonNode       *ft_multipolygon_to_geojson   (const FtMultiPolygon *mp);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (FtMultiPolygon, ft_multipolygon_free)

/* Which of a list of areas is the first to hold a point, per cell of a
 * grid over them, as the loop over ft_multipolygon_contains answers it
 * (ft-area-raster.c). The areas are read while building only. */
typedef struct _FtAreaRaster FtAreaRaster;
#define FT_AREA_RASTER_NONE (-1)   /* no area holds the point */
#define FT_AREA_RASTER_TEST (-2)   /* test the areas from *first on, in order */
FtAreaRaster *ft_area_raster_new  (const FtMultiPolygon *const *areas, guint n);
void          ft_area_raster_free (FtAreaRaster *ra);
/* An area's index (>= 0), FT_AREA_RASTER_NONE or FT_AREA_RASTER_TEST. */
int           ft_area_raster_at   (const FtAreaRaster *ra, FtLatLon p, guint *first);

/* Uniform grid over a bbox holding integer ids at positions. Moving an id
 * is O(1) amortised. Queries visit cells overlapping a radius. */
typedef struct _FtGridIndex FtGridIndex;

FtGridIndex *ft_grid_index_new      (FtBBox bounds, double cell_m);
void         ft_grid_index_free     (FtGridIndex *g);
void         ft_grid_index_insert   (FtGridIndex *g, guint id, FtLatLon p);
void         ft_grid_index_move     (FtGridIndex *g, guint id, FtLatLon p);
void         ft_grid_index_remove   (FtGridIndex *g, guint id);
gboolean     ft_grid_index_has      (FtGridIndex *g, guint id);
/* Calls fn for every id within radius_m of p (exact distance filter);
 * stops early when fn returns FALSE. */
typedef gboolean (*FtGridVisitFunc) (guint id, FtLatLon pos, double dist_m, gpointer user_data);
void         ft_grid_index_visit    (FtGridIndex *g, FtLatLon p, double radius_m,
                                     FtGridVisitFunc fn, gpointer user_data);
/* The id nearest to p (exact distance, as the visit gives) within max_m
 * for which accept (NULL: any) returns TRUE, ties to the lowest id; -1 if
 * none, else its distance in *dist_m. Cells are searched ring by ring
 * outward from p's, stopping once no cell of the next ring can hold a
 * point nearer than the best so far, so the cost does not grow with how
 * many ids lie within max_m. The same answer as keeping the least
 * (distance, id) over a visit of radius max_m. accept is asked only about
 * ids that would be the best so far, in no particular order; so when it
 * takes none (-1), it has been asked about every id within max_m. */
typedef gboolean (*FtGridAcceptFunc) (guint id, gpointer user_data);
gint64       ft_grid_index_nearest  (FtGridIndex *g, FtLatLon p, double max_m,
                                     FtGridAcceptFunc accept, gpointer user_data,
                                     double *dist_m);
/* Calls fn for every id in the index (dist_m is 0), cell by cell; stops
 * early when fn returns FALSE. */
void         ft_grid_index_foreach  (FtGridIndex *g, FtGridVisitFunc fn, gpointer user_data);
guint        ft_grid_index_size     (FtGridIndex *g);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (FtGridIndex, ft_grid_index_free)

G_END_DECLS
