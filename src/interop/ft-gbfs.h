/* ft-gbfs.h — GBFS in and out.
 *
 * In: a GBFS 2.3 or 3.0 snapshot (a folder with gbfs.json or manifest.json,
 * vehicle_status.json or free_bike_status.json — or one snapshot file named
 * explicitly — plus vehicle_types, station_information,
 * system_pricing_plans and geofencing_zones when present) becomes a
 * scenario's starting fleet, pricing and geofences. Errors name the file
 * and the JSON path of the bad field; nothing is applied unless all parses.
 *
 * Out: the twin's state at a moment as a GBFS 3.0 feed (gbfs.json,
 * manifest.json, system_information, vehicle_types, vehicle_status,
 * system_pricing_plans, geofencing_zones), written to a temporary folder
 * and renamed into place.
 */
#pragma once

#include "ft-core.h"

G_BEGIN_DECLS

#define FT_GBFS_ERROR (ft_gbfs_error_quark ())
GQuark ft_gbfs_error_quark (void);
typedef enum {
  FT_GBFS_ERROR_IO,
  FT_GBFS_ERROR_PARSE,      /* "free_bike_status.json: data.bikes[12].lat: expected a number" */
  FT_GBFS_ERROR_VERSION,    /* not 2.x / 3.x */
  FT_GBFS_ERROR_MISSING,    /* no vehicle_status / free_bike_status */
} FtGbfsError;

typedef struct {
  char          *vehicle_id;        /* as in the feed */
  char          *vehicle_type_id;   /* may be NULL */
  FtVehicleKind  kind;
  FtLatLon       pos;
  double         range_m;           /* -1 when the feed does not say */
  double         max_range_m;       /* from vehicle_types, or the kind's default */
  gboolean       is_reserved;
  gboolean       is_disabled;
  gint64         last_reported;     /* epoch seconds, 0 unknown */
  char          *pricing_plan_id;   /* as in the feed, may be NULL */
  double         outside_m;         /* metres outside the operating area (0 inside, -1 unchecked) */
  gboolean       left_out;          /* far outside: not seeded (ft_gbfs_leave_out_far) */
} FtGbfsVehicle;

typedef struct {
  char          *version;           /* "2.3", "3.0" */
  char          *system_id;
  char          *system_name;
  gint64         last_updated;      /* epoch seconds */
  FtGbfsVehicle *vehicles;
  guint          n_vehicles;
  guint          n_reserved, n_disabled;
  guint          n_left_out;        /* flagged far outside the operating area */
  FtPricing     *pricing;           /* NULL if the feed has none */
  FtGeofences   *geofences;         /* NULL if the feed has none */
  guint          n_stations;
  char          *vehicles_file;     /* which file the fleet came from */
  /* private: the documents, re-parsed by the dup functions */
  char          *pricing_json, *pricing_where;
  char          *geofences_json, *geofences_where;
} FtGbfsFeed;

/* path: a folder or a vehicle_status / free_bike_status file. */
FtGbfsFeed *ft_gbfs_load            (const char *path, GError **error);
void        ft_gbfs_feed_free       (FtGbfsFeed *feed);
/* Flags the vehicles more than max_m outside `area` (the operating area)
 * as left out: they are not seeded and the report (may be NULL) gets a
 * line for each, with its id, position and distance. Returns how many. */
guint       ft_gbfs_leave_out_far   (FtGbfsFeed *feed, const FtMultiPolygon *area, double max_m,
                                     GString *report);
/* The vehicles kept, as a GBFS document of the feed's own version
 * (free_bike_status for 2.x, vehicle_status for 3.x) with the operator's
 * vehicle ids, vehicle type ids and pricing plan ids unchanged, so it loads
 * back with ft_gbfs_load. */
char       *ft_gbfs_fleet_to_json   (const FtGbfsFeed *feed);
/* The fleet's device id (a UUID) for an operator's vehicle id: the id
 * itself when it is a UUID, else one derived from it. */
void        ft_gbfs_device_id       (const char *vehicle_id, char out[37]);
/* Adds the feed's vehicles (with a pack each, SOC from range / max range)
 * to the core's fleet; disabled ones become non_operational; reserved ones
 * are counted but start available (their riders are outside the twin).
 * Vehicle ids that are not UUIDs get a UUID derived from the id. Returns
 * the number of vehicles added, or -1 with an error (fleet unchanged). */
gint        ft_gbfs_seed_core       (const FtGbfsFeed *feed, FtCore *core, FtTime now,
                                     GError **error);
/* Fresh copies of the feed's pricing and geofences (NULL if absent), to
 * hand to ft_core_new. */
FtPricing   *ft_gbfs_dup_pricing    (const FtGbfsFeed *feed);
FtGeofences *ft_gbfs_dup_geofences  (const FtGbfsFeed *feed);

typedef struct {
  const char *system_id;
  const char *name;
  const char *timezone;             /* IANA, e.g. "Europe/Amsterdam" */
  const char *language;             /* "en" */
  const char *email;
  const char *base_url;             /* feeds' URLs are base_url/<name>.json */
  gint64      epoch_s;              /* the moment, for last_updated / last_reported */
  gboolean    force;                /* replace out_dir even when it is not an earlier export */
  gint        ttl_s;                /* 0: 60 */
  /* Key of the published vehicle_id (a keyed hash of the device id and the
   * vehicle's latest trip, so it changes after every trip and never shows
   * the device id). NULL: a random key for this call. A server keeps one
   * key for its lifetime so ids stay put between trips. */
  const guint8 *id_key;
  gsize       id_key_len;
} FtGbfsExportInfo;

/* One vehicle as GBFS needs it, from a core or from a store file. */
typedef struct {
  const char    *device_id;         /* never published */
  gint64         trip_epoch;        /* id of its latest ended trip, -1 none */
  FtVehicleKind  kind;
  FtLatLon       pos;
  FtVehicleState state;
  double         range_m;
  double         soc;               /* 0..1 */
} FtGbfsVehicleView;

/* The published vehicle_id: HMAC-SHA256 (key, device_id, trip_epoch) shaped
 * as a UUID. */
char              *ft_gbfs_public_vehicle_id (const guint8 *key, gsize key_len,
                                              const char *device_id, gint64 trip_epoch);
/* The core's vehicles (borrowing their device ids); free with g_free. */
FtGbfsVehicleView *ft_gbfs_core_views (FtCore *core, guint *n_out);
/* The feed's documents as JSON text: a table name (gbfs, manifest,
 * system_information, vehicle_types, vehicle_status, and with pricing
 * system_pricing_plans, with pricing and geofences geofencing_zones) to
 * text. gbfs.json lists the feeds present. NULL with an error when the
 * moment cannot be stated. */
GHashTable        *ft_gbfs_build     (const FtGbfsExportInfo *info, const FtGbfsVehicleView *vehicles,
                                      guint n_vehicles, FtPricing *pricing, FtGeofences *geofences,
                                      GError **error);

/* Writes the feed beside out_dir and moves it into place when complete. An
 * existing out_dir that is not empty and not an earlier Fleet Twin export is
 * refused unless info->force; nothing outside out_dir is ever touched. */
gboolean    ft_gbfs_export          (FtCore *core, const FtGbfsExportInfo *info,
                                     const char *out_dir, GError **error);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (FtGbfsFeed, ft_gbfs_feed_free)

G_END_DECLS
