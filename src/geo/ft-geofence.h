/* ft-geofence.h — geofencing zones shaped like GBFS 3.0 geofencing_zones:
 * each zone is a multipolygon with rules (ride_start_allowed,
 * ride_end_allowed, ride_through_allowed, maximum_speed_kph, optional
 * vehicle type filter). As in GBFS, where zones overlap the rule of the
 * zone listed first applies; outside every zone the global rules apply.
 * The operating area is a zone like any other (usually last, all allowed),
 * with global rules forbidding ride end outside it.
 */
#pragma once

#include "ft-geo.h"

G_BEGIN_DECLS

#define FT_GEOFENCE_ERROR (ft_geofence_error_quark ())
GQuark ft_geofence_error_quark (void);
typedef enum {
  FT_GEOFENCE_ERROR_PARSE,     /* malformed GeoJSON / GBFS document */
} FtGeofenceError;

typedef struct {
  gboolean ride_start_allowed;
  gboolean ride_end_allowed;
  gboolean ride_through_allowed;
  double   maximum_speed_kph;   /* 0 = no limit */
  guint32  vehicle_kind_mask;   /* bit per FtVehicleKind; 0 = applies to all */
} FtZoneRules;

typedef struct {
  char           *id;
  char           *name;
  FtMultiPolygon *area;
  FtZoneRules     rules;
  /* GBFS vehicle_type_ids this zone's rule names (NULL-terminated), kept
   * for export; NULL when the rule applies to all or came from the API. */
  char          **vehicle_type_ids;
} FtGeofenceZone;

/* Kind bits follow FtVehicleKind (fleet): 0 scooter, 1 bike, 2 moped.
 * A GBFS vehicle_type_id that names none of them maps to FT_ZONE_KIND_OTHER,
 * so a rule listing only foreign types applies to none of our kinds. */
#define FT_ZONE_KIND_OTHER (1u << 31)
/* Heuristic mapping of a feed's vehicle_type_id ("escooter_paris",
 * "e-bike", "moped_x") to a kind bit, by name. */
guint32      ft_geofence_kind_bit          (const char *vehicle_type_id);

typedef struct _FtGeofences FtGeofences;

FtGeofences *ft_geofences_new              (void);
void         ft_geofences_free             (FtGeofences *g);
FtGeofences *ft_geofences_ref_copy         (const FtGeofences *g); /* deep copy */
/* Takes ownership of area. Returns the zone index. */
guint        ft_geofences_add              (FtGeofences *g, const char *id, const char *name,
                                            FtMultiPolygon *area, const FtZoneRules *rules);
/* Replaces the global rules by one rule (its vehicle_kind_mask is honoured). */
void         ft_geofences_set_global_rules (FtGeofences *g, const FtZoneRules *rules);
/* Appends a global rule; the first whose mask matches the kind applies. */
void         ft_geofences_add_global_rules (FtGeofences *g, const FtZoneRules *rules);
/* Global rules for a kind (all allowed when none matches). */
FtZoneRules  ft_geofences_global_rules     (const FtGeofences *g, guint vehicle_kind);
/* Changes with every zone or global rule added or replaced (never 0), so
 * an answer given under one generation holds while it stays the same. */
guint32      ft_geofences_generation       (const FtGeofences *g);
guint        ft_geofences_n_zones          (const FtGeofences *g);
const FtGeofenceZone *ft_geofences_get     (const FtGeofences *g, guint i);
/* Effective rules at p for a vehicle kind; *zone_out = zone index or -1 (global). */
FtZoneRules  ft_geofences_rules_at         (const FtGeofences *g, FtLatLon p,
                                            guint vehicle_kind, int *zone_out);
/* The same answer without the per-kind raster that speeds up the above (tests). */
FtZoneRules  ft_geofences_rules_at_exact   (const FtGeofences *g, FtLatLon p,
                                            guint vehicle_kind, int *zone_out);
FtZoneRules  ft_zone_rules_all_allowed     (void);

/* GBFS 3.0 geofencing_zones.json (whole file, with last_updated/ttl/version/data)
 * and the 2.3 shape. Errors name the feature index and field. */
FtGeofences *ft_geofences_load_gbfs        (const char *path, GError **error);
FtGeofences *ft_geofences_parse_gbfs       (const char *json, gssize len, const char *where, GError **error);
/* Policy geometry (ft-geofence-import.c): a GeoJSON FeatureCollection whose
 * features carry properties.zone_type (no_ride, no_parking, slow_ride with
 * maximum_speed_kph, parking, operating_area), MDS Geography records
 * (geography_type gives the zone type), or a GBFS geofencing_zones
 * document. Refused whole, naming file, feature and field: a ring that
 * does not close, a position out of range, an unknown zone type. */
FtGeofences *ft_geofences_load_policy      (const char *path, GError **error);
FtGeofences *ft_geofences_parse_policy     (const char *json, gssize len, const char *where, GError **error);

/* The rules met along the straight path a -> b at a cruising speed. */
typedef struct {
  double   ride_s;         /* time at cruise speed, slower where zones cap speed */
  double   capped_m;       /* metres under a speed cap below the cruise speed */
  double   min_cap_kph;    /* lowest such cap met, 0 none */
  gboolean blocked;        /* the path enters a zone where riding through is not allowed */
  int      blocking_zone;  /* its index, -1 outside every zone */
  FtLatLon stop_at;        /* where the vehicle must stop (b when not blocked) */
  double   stop_m;         /* metres from a to stop_at */
  double   len_m;          /* metres from a to b: ft_distance_m (a, b) */
} FtPathRules;
void         ft_geofences_path_rules       (const FtGeofences *g, FtLatLon a, FtLatLon b,
                                            guint vehicle_kind, double cruise_kph, FtPathRules *out);
/* The same from the plain first-match loop at every sample (tests compare). */
void         ft_geofences_path_rules_exact (const FtGeofences *g, FtLatLon a, FtLatLon b,
                                            guint vehicle_kind, double cruise_kph, FtPathRules *out);

/* Writes the `data` member of a GBFS 3.0 geofencing_zones document. */
JsonNode    *ft_geofences_to_gbfs_data     (const FtGeofences *g);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (FtGeofences, ft_geofences_free)

G_END_DECLS
