/* ft-city.h — a city pack: metadata, demand/pricing zones, geofences, the
 * operating area, depots, a road graph for bikes and scooters with routing,
 * a demand profile, and (on disk) raster tiles in MBTiles.
 *
 * On disk a city pack is a folder:
 *   city.json              id, name, currency, utc_offset_min, center, bbox, depots
 *   zones.geojson          FeatureCollection; properties: id, name, kind, pricing_multiplier
 *   geofencing_zones.json  GBFS 3.0 geofencing_zones document (operating area included)
 *   roads.tsv              "N lat lon" node lines then "E from to length_m class oneway" edges
 *   demand.json            per-zone hourly arrival rates (168 per zone) and destination weights
 *   landuse.geojson        water and park polygons for drawing (optional)
 *   tiles.mbtiles          raster tiles (optional)
 * Loading is all-or-nothing with errors naming the file and line/feature.
 */
#pragma once

#include "ft-geo.h"
#include "ft-geofence.h"

G_BEGIN_DECLS

#define FT_CITY_ERROR (ft_city_error_quark ())
GQuark ft_city_error_quark (void);
typedef enum {
  FT_CITY_ERROR_IO,
  FT_CITY_ERROR_PARSE,       /* message names file and line / feature / field */
  FT_CITY_ERROR_INVALID,     /* parses but makes no sense (no zones, bad coords) */
  FT_CITY_ERROR_NO_ROUTE,
} FtCityError;

typedef enum {
  FT_ZONE_RESIDENTIAL = 0, FT_ZONE_OFFICE, FT_ZONE_UNIVERSITY, FT_ZONE_NIGHTLIFE,
  FT_ZONE_PARK, FT_ZONE_TRANSIT, FT_ZONE_MIXED, FT_N_ZONE_KINDS
} FtZoneKind;

const char *ft_zone_kind_name     (FtZoneKind k);
gboolean    ft_zone_kind_from_name(const char *s, FtZoneKind *out);

typedef struct {
  char           *id;
  char           *name;
  FtZoneKind      kind;
  FtMultiPolygon *area;
  FtLatLon        centroid;
  double          area_km2;
  double          pricing_multiplier;   /* 1.0 = plain */
} FtZone;

typedef struct {
  char     *id;
  char     *name;
  FtLatLon  pos;
  guint     chargers;      /* packs that can charge at once */
  guint     pack_stock;    /* spare packs kept here at start */
} FtDepot;

/* Road classes, coarse: what matters for speed, drawing and routing. */
typedef enum {
  FT_ROAD_ARTERIAL = 0, FT_ROAD_SECONDARY, FT_ROAD_RESIDENTIAL, FT_ROAD_CYCLEWAY,
  FT_ROAD_PATH, FT_ROAD_BRIDGE, FT_N_ROAD_CLASSES
} FtRoadClass;

const char *ft_road_class_name     (FtRoadClass c);
gboolean    ft_road_class_from_name(const char *s, FtRoadClass *out);

/* FtEdge.flags */
#define FT_EDGE_ONEWAY 0x01   /* comes from a one-way street: no reverse edge */

/* Directed graph in CSR form. An undirected street is two edges. Edges of
 * a node are sorted by (to, length, class, flags). */
typedef struct {
  guint32  to;
  float    length_m;
  guint8   road_class;
  guint8   flags;        /* FT_EDGE_ONEWAY_ORIGINAL etc. */
} FtEdge;

typedef struct {
  guint     n_nodes;
  FtLatLon *nodes;
  guint32  *first_edge;  /* n_nodes + 1 */
  guint     n_edges;
  FtEdge   *edges;
} FtRoadGraph;

typedef struct {
  /* requests per hour starting in zone z at hour-of-week h (0 = Monday 00:00) */
  guint   n_zones;
  double *rate;          /* n_zones * 168 */
  /* destination choice weights: dest[(band * n_zones + from) * n_zones + to];
   * bands: 0 = morning peak (6-10), 1 = midday (10-16), 2 = evening (16-20), 3 = night */
  double *dest;
  double  weather_multiplier;   /* 1.0 */
  double  mean_trip_m;          /* for reference; trips are drawn by destination */
} FtDemandProfile;

#define FT_DEMAND_N_BANDS 4
/* Most zones a city pack may hold: the demand matrix alone is
 * FT_DEMAND_N_BANDS x zones^2 doubles (2 GiB at this limit). */
#define FT_CITY_MAX_ZONES 8192
/* Time band (0..3) of an hour of week, as used by FtDemandProfile.dest. */
guint   ft_demand_band_of_hour        (guint hour_of_week);
/* Sum of all rates over the week divided by 7: requests per day at
 * weather_multiplier 1 (the simulator scales this per scenario). */
double  ft_demand_profile_per_day     (const FtDemandProfile *d);

typedef struct {
  char            *id;
  char            *name;
  char             currency[4];
  int              utc_offset_min;
  FtLatLon         center;
  FtBBox           bbox;
  FtMultiPolygon  *operating_area;
  FtZone          *zones;   guint n_zones;
  FtDepot         *depots;  guint n_depots;
  FtGeofences     *geofences;
  FtRoadGraph      graph;
  FtDemandProfile  demand;
  char            *dir;           /* folder it was loaded from, or NULL */
  char            *tiles_path;    /* MBTiles path if present */
  FtMultiPolygon  *water;         /* rivers, lakes (drawing only), or NULL */
  FtMultiPolygon  *parks;         /* parks (drawing only), or NULL */
  /* private */
  gpointer         priv;
} FtCity;

FtCity   *ft_city_load         (const char *dir, GError **error);
/* Writes to a temporary folder beside dir and renames: never half-written. */
gboolean  ft_city_save         (const FtCity *city, const char *dir, GError **error);
/* The parts of ft_city_save: the pack's files written into an existing
 * folder (the tiles copied unless they are already there), and the test
 * that an existing folder is a pack (and so may be replaced). */
gboolean  ft_city_write_pack   (const FtCity *city, const char *dir, GError **error);
gboolean  ft_city_pack_is_own  (const char *dir);
void      ft_city_free         (FtCity *city);
/* Demo City from a parameter key file (data/demo-city.ini); deterministic. */
FtCity   *ft_city_generate_demo(const char *params_path, GError **error);
/* Same, from parameter text (GKeyFile syntax); `where` names it in errors. */
FtCity   *ft_city_generate_demo_from_data (const char *ini, gsize len,
                                           const char *where, GError **error);
/* Same, from the parameters compiled into the program (data/demo-city.ini
 * at build time: one source of truth). */
FtCity   *ft_city_new_demo     (void);
/* The compiled-in data/demo-city.ini text (static, do not free). */
const char *ft_city_demo_params (void);

/* OpenStreetMap PBF import (ft-osm.c). progress gets 0..1; may be NULL. */
typedef void (*FtCityProgressFunc) (double fraction, gpointer user_data);
FtCity   *ft_city_import_osm   (const char *pbf_path, const char *name,
                                FtCityProgressFunc progress, gpointer user_data,
                                GError **error);
typedef struct {
  guint   osm_nodes, osm_ways, road_ways;
  guint   street_nodes;          /* street nodes before keeping the largest piece */
  double  largest_share;         /* that piece's share of them (0..1) */
  guint   refs_outside;          /* way node references missing from the extract */
  guint   parks, water_areas;    /* closed ways read as park / water areas */
} FtOsmStats;
#define FT_UTC_OFFSET_ESTIMATE G_MININT
/* utc_offset_min: FT_UTC_OFFSET_ESTIMATE estimates it from the position
 * (Central European Time between 6 W and 20 E in Europe, else lon / 15). */
FtCity   *ft_city_import_osm_full (const char *pbf_path, const char *name, int utc_offset_min,
                                   FtCityProgressFunc progress, gpointer user_data,
                                   FtOsmStats *stats_out, GError **error);
/* Zone containing p, or -1. */
int       ft_city_zone_at      (const FtCity *city, FtLatLon p);
/* Whether zone z holds p: ft_multipolygon_contains on its area, answered
 * from the zones' raster where no boundary crosses p's cell. */
gboolean  ft_city_zone_contains (const FtCity *city, guint z, FtLatLon p);
gboolean  ft_city_check        (const FtCity *city, GError **error);

/* Road graph */
guint     ft_city_nearest_node (const FtCity *city, FtLatLon p);
/* Largest weakly connected component's share of nodes (0..1). */
double    ft_road_graph_largest_component_share (const FtRoadGraph *g);

/* Routing (A* with an LRU distance cache; an all-pairs table on small
 * graphs), thread-confined: one router per thread. */
typedef struct _FtRouter FtRouter;
FtRouter *ft_router_new        (const FtCity *city);
void      ft_router_free       (FtRouter *r);
/* Route between two points (snapped to nearest nodes). Writes the polyline
 * (from, the path's nodes, to; caller frees *pts_out with g_free; may pass
 * NULL) and returns the length in metres including the two straight legs
 * between the points and their nodes, or -1 if unreachable. */
double    ft_router_route      (FtRouter *r, FtLatLon from, FtLatLon to,
                                FtLatLon **pts_out, guint *n_out);
/* Length only, fast path (cached). */
double    ft_router_distance   (FtRouter *r, FtLatLon from, FtLatLon to);
guint64   ft_router_n_queries  (FtRouter *r);
/* Node-level queries (no snapping); -1 if unreachable. */
double    ft_router_node_distance (FtRouter *r, guint from, guint to);
/* Shortest path as node indices (caller g_free); returns length or -1. */
double    ft_router_node_path  (FtRouter *r, guint from, guint to,
                                guint32 **nodes_out, guint *n_out);
guint64   ft_router_cache_hits (FtRouter *r);
/* Core nodes after folding street-continuation nodes into chains. */
guint     ft_router_n_core_nodes (FtRouter *r);
/* Graphs of up to 4096 core nodes answer distances from an all-pairs table
 * built on first use; TRUE by default where allowed. FALSE = A* + LRU. */
void      ft_router_set_use_table (FtRouter *r, gboolean use);
gboolean  ft_router_get_use_table (FtRouter *r);
/* Landmarks for A* (ALT): default 16 on graphs of 256+ nodes, 0 = plain
 * straight-line A*. Built on the first query that needs them. */
void      ft_router_set_landmarks (FtRouter *r, guint n);
/* Entries in the distance LRU (default 262144); clears it. */
void      ft_router_set_cache_size (FtRouter *r, guint entries);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (FtCity, ft_city_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (FtRouter, ft_router_free)

G_END_DECLS
