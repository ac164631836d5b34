/* ft-region.h — the region launch playbook: the one place where raw inputs
 * (an OpenStreetMap extract, trip data, a GBFS snapshot, policy geometry, a
 * time zone) become a region folder:
 *
 *   city/                 the city pack (zones, street graph, depots at the
 *                         suggested sites, demand, tiles.mbtiles)
 *   geofences.json        the policy as GBFS 3.0 geofencing_zones data
 *   fleet/                the snapshot's vehicles kept (GBFS, operator ids,
 *                         vehicle type and plan ids unchanged), left-out.txt
 *   models/               demand forecasters fitted on the region's trips
 *   launch.scenario       a scenario over the pack at the recommended size
 *   checklist.txt / .pdf  the launch checklist: every data check with
 *                         pass / warn / fail and its reason, street-graph
 *                         coverage of the operating area, expected trips per
 *                         vehicle and day, the fleet and staff sweep, depots
 *
 * The folder is written beside its target and moved into place when
 * complete (FtOutput): refused input leaves nothing behind. The fleet sweep
 * runs simulations, which this layer does not know: the caller passes a
 * function that runs a scenario file and reports its service level.
 */
#pragma once

#include "ft-city.h"
#include "ft-forecast.h"

G_BEGIN_DECLS

#define FT_REGION_ERROR (ft_region_error_quark ())
GQuark ft_region_error_quark (void);
typedef enum {
  FT_REGION_ERROR_INPUT,      /* an input refused: the message names file, line or field */
  FT_REGION_ERROR_TIME_ZONE,  /* none given and none known for the extract's position */
  FT_REGION_ERROR_OUTPUT,
  FT_REGION_ERROR_SWEEP,
} FtRegionError;

/* The IANA zone of a position from a small built-in table of boxes (the
 * cities we have data for and their neighbours), or NULL when unknown. */
const char *ft_region_time_zone_at (FtLatLon p);

typedef enum { FT_REGION_PASS = 0, FT_REGION_WARN, FT_REGION_FAIL } FtRegionVerdict;
const char *ft_region_verdict_name (FtRegionVerdict v);

typedef struct {
  char           *name;
  FtRegionVerdict verdict;
  char           *reason;
} FtRegionCheck;

typedef struct {
  guint  vehicles, staff;
  double requested_per_day;   /* trip requests a day */
  double served_share;        /* of requests */
  double trips_per_vehicle_day;
} FtRegionSweepPoint;

/* Runs scenario_path (a scenario over the region's pack) with the given
 * fleet and staff and fills out. */
typedef gboolean (*FtRegionSweepFunc) (const char *scenario_path, guint vehicles, guint staff,
                                       FtRegionSweepPoint *out, gpointer user_data, GError **error);

typedef struct {
  const char *name;             /* region name; NULL: from the extract's file name */
  const char *osm_path;         /* required */
  const char *trips_path;       /* trip CSV / MDS trips JSON, or NULL */
  const char *trips_mapping;    /* a built-in mapping name or a mapping file; NULL detects */
  const char *gbfs_path;        /* GBFS folder or vehicles file, or NULL */
  const char *policy_path;      /* GeoJSON / MDS Geography / GBFS geofencing_zones, or NULL */
  const char *time_zone;        /* IANA; NULL: from ft_region_time_zone_at */
  double      requests_per_day; /* <= 0: the trips' own daily volume */
  double      max_outside_m;    /* GBFS vehicles farther outside are left out (default 2000) */
  int         tiles_zmax;       /* highest tile zoom (12..17); 0: no tiles */
  guint       sweep_points;     /* fleet sizes tried (default 4; 0: no sweep) */
  double      target_served;    /* service level the recommendation must reach (0.85) */
  const char *out_dir;
  gboolean    force;            /* replace an out_dir that is not a region folder */
} FtRegionInputs;

void ft_region_inputs_init (FtRegionInputs *in);

typedef struct {
  char               *name;
  char               *time_zone;
  char               *time_zone_source;    /* "option", "table" */
  GArray             *checks;              /* FtRegionCheck */
  /* the city */
  guint               n_zones, n_nodes;
  double              area_km2;            /* operating area */
  double              coverage;            /* share of the operating area within 150 m of a street */
  /* demand */
  double              requests_per_day;
  double              hourly[24];          /* requests by hour of day */
  gboolean            demand_moved;        /* trips from elsewhere: pattern moved, not fitted in place */
  /* snapshot */
  guint               snapshot_vehicles, snapshot_left_out;
  /* models: backtest of mean and GLM on the last week of the trips */
  gboolean            have_scores;
  FtForecastScore     scores[2];
  guint               model_zones;
  /* sweep and recommendation */
  FtRegionSweepPoint *sweep;
  guint               n_sweep;
  gint                recommended;         /* index into sweep, -1 none */
  double              trips_per_vehicle_day;
  /* depots */
  FtLatLon           *depots;
  double             *depot_share;         /* share of demand nearest each */
  guint               n_depots;
  char               *out_dir;
} FtRegionReport;

void        ft_region_report_free   (FtRegionReport *r);
/* Counts of checks by verdict. */
void        ft_region_report_counts (const FtRegionReport *r, guint counts[3]);
char       *ft_region_report_text   (const FtRegionReport *r);
gboolean    ft_region_report_pdf    (const FtRegionReport *r, const char *path, GError **error);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (FtRegionReport, ft_region_report_free)

/* Runs the playbook; progress (may be NULL) gets a line per step. Returns
 * the report (also written into the folder) or NULL with an error, in which
 * case nothing was written. */
typedef void (*FtRegionProgressFunc) (const char *step, gpointer user_data);
FtRegionReport *ft_region_launch (const FtRegionInputs *in, FtRegionSweepFunc sweep,
                                  FtRegionProgressFunc progress, gpointer user_data,
                                  GError **error);

/* A scenario's city from raw files, built once and cached as a pack
 * keyed by the inputs' sizes and times and the parameters: an OSM extract
 * with demand moved from trips (or the import's own), or, with no extract,
 * a bare city of hexagonal zones over the trips with their demand fitted.
 * The city returned is the pack as loaded, so a cold and a warm cache give
 * the same city. */
typedef struct {
  const char *osm_path;          /* .osm.pbf, or NULL: a city over the trips alone */
  const char *name;              /* city name */
  const char *trips_path;        /* trip CSV / MDS JSON; NULL keeps the import's demand */
  double      requests_per_day;  /* scale of the moved demand; <= 0 keeps the source's */
  double      hex_m;             /* zone size of a trips-only city (<= 0: 400 m) */
  const char *cache_dir;         /* NULL: $XDG_CACHE_HOME/fleet-twin/cities */
} FtRegionRecipe;

FtCity     *ft_region_city_from_recipe (const FtRegionRecipe *recipe, FtCityProgressFunc progress,
                                        gpointer user_data, GError **error);

/* Pieces, exposed for tests. */
/* Share of sample points of the operating area (a grid of about n_max
 * points) within within_m of a street-graph node. */
double      ft_region_street_coverage (const FtCity *city, double within_m, guint n_max);
/* Weighted k-medoids (PAM swap steps from a k-means++-like start, fixed
 * seed): medoid indices into pts; returns the total weighted distance. */
double      ft_region_k_medoids       (const FtLatLon *pts, const double *weight, guint n, guint k,
                                       guint *medoids);
/* TRUE when dir is a region folder this playbook wrote. */
gboolean    ft_region_dir_is_own      (const char *dir);

G_END_DECLS
