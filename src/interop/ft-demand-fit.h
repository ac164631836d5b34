/* ft-demand-fit.h — a city's demand profile fitted from real trips, moved
 * onto another city's zones when asked, and kept as a replayable trace.
 *
 * Fit (same area): arrival rate of zone z at hour-of-week h = trips that
 * started in z at h divided by how many times hour h occurs in the data's
 * span; destination weights per time band = observed origin-destination
 * counts plus a small gravity prior so unseen pairs stay possible.
 *
 * Transfer (another city): the temporal shape (168 hourly totals) is kept
 * and scaled to the requested daily volume; origins are spread over the
 * target's zones by the target's own spatial shares if it has a demand
 * profile, else by zone area; destinations follow a gravity model whose
 * deterrence function is the source's trip-length histogram, divided per
 * origin by how many target zones lie in each distance band, so the target
 * reproduces the source's trip-length distribution where its geometry allows.
 */
#pragma once

#include "ft-trips.h"
#include "ft-city.h"

G_BEGIN_DECLS

#define FT_DEMAND_ERROR (ft_demand_error_quark ())
GQuark ft_demand_error_quark (void);
typedef enum {
  FT_DEMAND_ERROR_NO_ZONES,
  FT_DEMAND_ERROR_NO_TRIPS,    /* no trip starts inside any zone */
  FT_DEMAND_ERROR_IO,
  FT_DEMAND_ERROR_PARSE,
} FtDemandError;

typedef struct {
  guint  trips_used;          /* started and ended inside a zone */
  guint  trips_outside;       /* started or ended outside every zone */
  double days_covered;
  double requests_per_day;    /* fitted mean */
  double mean_trip_m;
} FtDemandFitReport;

/* A bare city for a trip data set with no map: hexagonal zones of
 * `hex_m` (centre to corner) over the trips' area (kept where trips start
 * or end), operating area = the trips' bounding box plus 500 m, two depots,
 * no road graph (the simulator then uses straight lines x detour factor). */
FtCity   *ft_city_from_trips   (const FtTripSet *trips, const char *name, double hex_m,
                                GError **error);
/* Hexagonal zones over a bounding box (for OSM cities without districts). */
void      ft_city_add_hex_zones(FtCity *city, FtBBox bbox, double hex_m,
                                const FtLatLon *keep_near, guint n_keep);

gboolean  ft_demand_fit        (FtCity *city, const FtTripSet *trips,
                                FtDemandFitReport *report, GError **error);
/* requests_per_day <= 0 keeps the source's daily volume. */
gboolean  ft_demand_transfer   (const FtCity *source, const FtTripSet *trips, FtCity *target,
                                double requests_per_day, GError **error);

/* Demand trace: requests replayed exactly, in order. t is ms since the
 * Monday 00:00 (local) of the first trip's week. */
typedef struct {
  FtTime   t;
  FtLatLon from;
  FtLatLon to;
} FtDemandRequest;

FtDemandRequest *ft_trips_to_trace   (const FtTripSet *set, guint *n_out);
gboolean         ft_trace_save       (const char *path, const FtDemandRequest *reqs, guint n,
                                      GError **error);
/* TRUE when path starts as a trace ft_trace_save writes (so it may be
 * replaced; anything else is refused). */
gboolean ft_trace_is_own (const char *path);
FtDemandRequest *ft_trace_load       (const char *path, guint *n_out, GError **error);

/* Hourly profile (24 values, trips per hour of day averaged over days) and
 * Pearson correlation between two such profiles. */
void      ft_trips_hourly_profile (const FtTripSet *set, double out[24]);
double    ft_profile_correlation  (const double *a, const double *b, guint n);

G_END_DECLS
