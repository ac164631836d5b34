/* ft-mds.h — MDS 2.0 provider data from a store file (a simulated run or
 * a live database): trips, historical events, vehicles, vehicle status and
 * telemetry.
 *
 * The file is opened read-only (it may be written at the same time by a
 * run or `live`: WAL lets the reader see each new commit). The event log
 * is append-only, so ft_mds_refresh reads only the events after the last
 * one it saw and indexes them by UTC hour; pages are then built from the
 * in-memory index plus one primary-key lookup per trip. The same documents
 * serve the HTTP endpoints (src/serve) and the file export.
 */
#pragma once

#include <glib.h>
#include <json-glib/json-glib.h>
#include "ft-gbfs.h"

G_BEGIN_DECLS

#define FT_MDS_ERROR (ft_mds_error_quark ())
GQuark ft_mds_error_quark (void);
typedef enum {
  FT_MDS_ERROR_OPEN,        /* not a readable Fleet Twin store */
  FT_MDS_ERROR_SQL,
  FT_MDS_ERROR_RANGE,       /* an hour outside the data */
  FT_MDS_ERROR_NOT_FOUND,   /* no vehicle with that device id */
} FtMdsError;

/* /events/recent serves status changes at most this old, counted back
 * from the newest data (a simulated run's "now" is its clock). */
#define FT_MDS_RECENT_MS (G_GINT64_CONSTANT (14) * 24 * FT_MDS_HOUR)

#define FT_MDS_VERSION       "2.0.0"
#define FT_MDS_CONTENT_TYPE  "application/vnd.mds+json;version=2.0"
#define FT_MDS_HOUR          G_GINT64_CONSTANT (3600000)

typedef enum {
  FT_MDS_TRIPS = 0,         /* by end_time hour */
  FT_MDS_EVENTS,            /* /events/historical, by event_time hour */
  FT_MDS_TELEMETRY,         /* by telemetry_time hour */
  FT_MDS_VEHICLES,          /* all vehicles, paged */
  FT_MDS_VEHICLES_STATUS,   /* all vehicles, paged */
  FT_MDS_N_KINDS
} FtMdsKind;

typedef struct {
  const char *provider_id;  /* a UUID; NULL: Fleet Twin's */
  /* Added to stored times to make UTC epoch milliseconds. A simulated run
   * counts from Monday 00:00 of its week; a live store already holds epoch
   * milliseconds (origin 0). FT_MDS_ORIGIN_AUTO: the store's meta
   * "time_origin_ms", else 0 for a store whose times are already past
   * 2018, else 2024-01-01T00:00Z. */
  gint64      time_origin_ms;
  const char *currency;     /* NULL: "EUR" */
} FtMdsConfig;

#define FT_MDS_ORIGIN_AUTO G_MININT64
#define FT_MDS_PROVIDER_ID "6d1f5a2e-3c4b-4f7a-9e21-0f7ac1e5b0d4"

typedef struct {
  guint64 n_events;         /* store events read so far */
  guint64 n_trips;          /* ended trips */
  guint64 n_mds_events;     /* vehicle state changes */
  guint64 n_telemetry;
  gint64  revenue_minor;    /* sum of ended trips' prices */
  gint64  first_ms, newest_ms;  /* epoch ms of the oldest / newest event, 0 none */
  guint   n_vehicles;
  guint64 n_refreshes;      /* refreshes that found new commits */
} FtMdsStats;

typedef struct _FtMds FtMds;

FtMds      *ft_mds_open      (const char *db_path, const FtMdsConfig *cfg, GError **error);
void        ft_mds_free      (FtMds *m);
/* Reads what was committed since the last refresh. Cheap when nothing was
 * (one PRAGMA data_version). *changed (nullable) tells whether anything new
 * was read. */
gboolean    ft_mds_refresh   (FtMds *m, gboolean *changed, GError **error);
void        ft_mds_stats     (FtMds *m, FtMdsStats *out);
gint64      ft_mds_time_origin (FtMds *m);
/* Vehicles per MDS state right now (from the store's vehicle_state). */
gboolean    ft_mds_count_states (FtMds *m, guint counts[FT_N_STATES], GError **error);

/* Checks an hour (epoch ms, a multiple of an hour) against the data:
 * FT_MDS_ERROR_RANGE names the hours the data covers. */
gboolean    ft_mds_check_hour (FtMds *m, gint64 hour_ms, GError **error);
/* Items of one page as JSON array text: for hour-windowed kinds the items
 * of the hour starting at hour_ms, else all vehicles; from position
 * `cursor`, at most `limit`. *next is the next page's cursor or -1. */
char       *ft_mds_page      (FtMds *m, FtMdsKind kind, gint64 hour_ms, gint64 cursor,
                              guint limit, gint64 *next, GError **error);
/* One vehicle (kind FT_MDS_VEHICLES or FT_MDS_VEHICLES_STATUS) by its
 * device id, as a JSON array text of one item; FT_MDS_ERROR_NOT_FOUND when
 * no vehicle has that id (a malformed id is simply not found). */
char       *ft_mds_vehicle   (FtMds *m, FtMdsKind kind, const char *device_id, GError **error);
/* Status changes with start_ms <= timestamp < end_ms (epoch ms), paged like
 * ft_mds_page. FT_MDS_ERROR_RANGE when end_ms <= start_ms or start_ms is
 * more than FT_MDS_RECENT_MS before the newest data. */
char       *ft_mds_recent_events (FtMds *m, gint64 start_ms, gint64 end_ms, gint64 cursor, guint limit,
                                  gint64 *next, GError **error);

/* The response object around items (JSON array text): version, the payload
 * under the kind's key, links.next (NULL: null) and, for vehicles and
 * status, last_updated and ttl. */
char       *ft_mds_envelope  (FtMds *m, FtMdsKind kind, const char *items, const char *next_url);
const char *ft_mds_kind_key  (FtMdsKind kind);   /* "trips", "events", … */
/* An MDS error body: {"error", "error_description", "error_details": [detail]} */
char       *ft_mds_error_json (const char *error, const char *description, const char *detail);

/* The hours [first, last] that hold data (epoch ms), FALSE when none. */
gboolean    ft_mds_hours     (FtMds *m, gint64 *first_hour_ms, gint64 *last_hour_ms);

/* GBFS vehicle views from the store (device ids borrowed from m, valid
 * until the next refresh); g_free the array. */
FtGbfsVehicleView *ft_mds_gbfs_views (FtMds *m, guint *n_out, GError **error);

/* Writes trips/, events/, telemetry/ (one file per hour with data,
 * YYYY-MM-DDTHH.json, each a whole MDS response) and vehicles.json,
 * vehicles_status.json into out_dir through an FtOutput folder. */
gboolean    ft_mds_export    (FtMds *m, const char *out_dir, gboolean force, guint *n_files,
                              GError **error);

/* "YYYY-MM-DDTHH" (UTC) to epoch ms; FALSE when malformed. */
gboolean    ft_mds_parse_hour (const char *text, gint64 *hour_ms);
char       *ft_mds_format_hour (gint64 hour_ms);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (FtMds, ft_mds_free)

G_END_DECLS
