/* ft-city-private.h — internals shared by the city module's files: the
 * spatial indexes kept beside a loaded or generated city (nearest road node,
 * zone lookup), a local metric projection, and small builders used by the
 * pack loader, Demo City and the OpenStreetMap importer.
 */
#pragma once

#include "ft-city.h"

G_BEGIN_DECLS

typedef struct {
  /* nearest-node grid over the nodes' bbox */
  double   g_lat0, g_lon0, g_dlat, g_dlon, g_cell_m;
  guint    g_w, g_h;
  guint32 *g_start;      /* g_w * g_h + 1 */
  guint32 *g_nodes;
  /* zone grid: candidate zones per cell */
  double   z_lat0, z_lon0, z_dlat, z_dlon;
  guint    z_w, z_h;
  guint32 *z_start;
  guint32 *z_ids;
  /* the first zone holding a point, per cell of about 20 m (zones whose
   * boundary crosses a cell are tested, from the first such on) */
  FtAreaRaster *z_raster;
  /* what the indexes were built from (rebuilt when these change) */
  const FtLatLon *built_nodes;
  guint           built_n_nodes;
  const FtZone   *built_zones;
  guint           built_n_zones;
} FtCityPriv;

/* Builds (or rebuilds) the indexes; call after the city's nodes and zones
 * are final. */
void     ft_city_build_index (FtCity *city);
/* Builds the indexes if missing or stale (cities assembled by hand in other
 * modules never call ft_city_build_index). */
const FtCityPriv *ft_city_get_index (const FtCity *city);

/* Local equirectangular projection around a reference latitude. */
typedef struct {
  double lat0, lon0, m_per_deg_lat, m_per_deg_lon;
} FtProj;

static inline void
ft_proj_init (FtProj *pr, FtLatLon origin)
{
  pr->lat0 = origin.lat;
  pr->lon0 = origin.lon;
  pr->m_per_deg_lat = 111320.0;
  pr->m_per_deg_lon = 111320.0 * cos (origin.lat * G_PI / 180.0);
}
static inline FtLatLon
ft_proj_to_ll (const FtProj *pr, double x, double y)
{
  FtLatLon p = { pr->lat0 + y / pr->m_per_deg_lat, pr->lon0 + x / pr->m_per_deg_lon };
  return p;
}
static inline void
ft_proj_from_ll (const FtProj *pr, FtLatLon p, double *x, double *y)
{
  *x = (p.lon - pr->lon0) * pr->m_per_deg_lon;
  *y = (p.lat - pr->lat0) * pr->m_per_deg_lat;
}

/* OpenStreetMap coastline ways for ft_coast_sea (ft-coast.c): node ids and
 * positions, land on the left. */
typedef struct {
  const gint64   *ids;
  const FtLatLon *pts;
  guint           n;
} FtCoastWay;
/* The sea inside box: coastline ways joined by node id, clipped to the box
 * and closed clockwise along its edge; closed coasts inside it are islands
 * (holes). NULL when no coast reaches the box. */
FtMultiPolygon *ft_coast_sea     (const FtCoastWay *ways, guint n_ways, const FtBBox *box);
/* Cuts the sea out of polygon 0 of area, whose outer ring must be convex
 * (the sea's share of it becomes holes; islands in the sea are not given
 * back). Returns the share of the area cut, 0..1. */
double          ft_coast_cut_sea (FtMultiPolygon *area, const FtMultiPolygon *sea);

/* Haversine in metres (own copy, so the module is self-contained). */
double   ft_city_haversine_m (FtLatLon a, FtLatLon b);

/* A growable street list turned into a CSR graph. */
typedef struct {
  guint32 from, to;
  float   length_m;
  guint8  road_class;
  guint8  oneway;
} FtStreet;

/* Builds g from nodes (copied) and streets; a two-way street becomes two
 * directed edges; edges are ordered by source node, then input order. */
void     ft_road_graph_build (FtRoadGraph *g, const FtLatLon *nodes, guint n_nodes,
                              const FtStreet *streets, guint n_streets);
void     ft_road_graph_clear (FtRoadGraph *g);
/* Component label per node (weak connectivity); returns number of labels;
 * *largest_out gets the label of the largest. Caller frees *labels_out. */
guint    ft_road_graph_components (const FtRoadGraph *g, guint32 **labels_out,
                                   guint *largest_out);

/* Fills c->demand with Demo City's hour-of-week shapes and gravity model
 * (from the built-in parameters) for c's zones and kinds: weight[z] is the
 * zone's relative size (e.g. land km2), per_day the total requests per day,
 * mean_straight_m the target mean straight-line trip. */
void     ft_demand_build_default (FtCity *c, const double *weight, double per_day,
                                  double mean_straight_m);

void     ft_zone_clear       (FtZone *z);
void     ft_depot_clear      (FtDepot *d);
void     ft_demand_profile_clear (FtDemandProfile *d);

G_END_DECLS
