/* ft-analytics.h — analytics from the event log (issue 15).
 *
 * The same pipeline for simulated runs and live databases: the events a
 * store holds are folded into aggregate tables in the same file (zone x
 * hour, vehicle x day, trip length and duration bins, rider cohorts, staff
 * x shift), incrementally: a build reads only events after the high-water
 * mark the previous one recorded, and records the new mark in the same
 * transaction as the aggregates, one transaction per batch, so a build
 * killed at any moment loses nothing. Zoning is the caller's (a city's
 * zones, a grid in tests); this module knows no city and no simulator.
 * The KPI set is computed from the aggregates alone, so a live database and
 * a simulated run yield the same keys.
 */
#pragma once

#include <glib.h>
#include <sqlite3.h>

G_BEGIN_DECLS

#define FT_ANALYTICS_ERROR (ft_analytics_error_quark ())
GQuark ft_analytics_error_quark (void);
typedef enum {
  FT_ANALYTICS_ERROR_SQL,
  FT_ANALYTICS_ERROR_NOT_BUILT,    /* no aggregates yet: run `analytics build` */
  FT_ANALYTICS_ERROR_ZONING,       /* built with other zones than these */
  FT_ANALYTICS_ERROR_USAGE,        /* unknown table, format, window out of range */
  FT_ANALYTICS_ERROR_DATA,         /* an event the build cannot fold (damaged file) */
} FtAnalyticsError;

/* Vehicle indices the build folds (a larger one is refused as damage). */
#define FT_ANALYTICS_MAX_VEHICLES (1 << 24)

/* Maps a position to a zone index in [0, n_zones) or -1 (outside). */
typedef int (*FtAnalyticsZoneFunc) (double lat, double lon, gpointer user_data);

typedef struct {
  guint               n_zones;
  const char *const  *zone_names;     /* n_zones names, or NULL */
  FtAnalyticsZoneFunc zone_at;        /* NULL: every position is zone 0 */
  gpointer            user_data;
  /* Recorded at the first build; a later build with another signature is
   * refused (the rows would mix two zonings) unless rebuilding. */
  const char         *signature;      /* e.g. "demo-city:42 zones" */
  /* Event time t (ms) of local midnight on a Monday, and the local UTC
   * offset: simulated runs count from Monday 00:00 (0, 0); live databases
   * hold Unix time (4 days, the city's offset). Days and weeks start at
   * local midnight and Monday. */
  gint64              monday_ms;
  int                 utc_offset_min;
  const char         *currency;       /* "EUR"; NULL leaves the stored one */
} FtAnalyticsZoning;

typedef struct {
  guint    batch_events;              /* events per transaction (default 262,144) */
  gboolean rebuild;                   /* drop the aggregates and start from seq 0 */
  guint64  stop_after_seq;            /* 0: all; else fold events up to this seq only */
} FtAnalyticsBuildOptions;

typedef struct {
  guint64 events_read;                /* events folded in by this build */
  guint64 batches;
  guint64 first_seq, last_seq;        /* high-water mark before and after */
  double  seconds;
} FtAnalyticsBuildStats;

/* Folds events after the recorded high-water mark into the aggregates of
 * `db` (a Fleet Twin store at schema 6 or later, opened for writing).
 * On error the batches already committed stay; the failed one is rolled
 * back and nothing of it remains. */
gboolean ft_analytics_build (sqlite3 *db, const FtAnalyticsZoning *z,
                             const FtAnalyticsBuildOptions *opt,
                             FtAnalyticsBuildStats *stats, GError **error);

/* The exportable tables, NULL-terminated: zone_hour, vehicle_day,
 * trip_bins, cohorts, riders, staff_shift, kpis. */
const char *const *ft_analytics_table_names (void);

typedef enum { FT_ANALYTICS_CSV, FT_ANALYTICS_JSON } FtAnalyticsFormat;
gboolean ft_analytics_format_from_name (const char *name, FtAnalyticsFormat *out);

/* Time window in the store's event time (ms), half open; G_MININT64 /
 * G_MAXINT64 for none. Refused (USAGE) when it holds no built hour. */
typedef struct { gint64 from, to; } FtAnalyticsWindow;

/* Writes one table to `out` (CSV with a header row, or a JSON array of
 * objects). Unknown table names are refused naming the known ones. */
gboolean ft_analytics_export (sqlite3 *db, const char *table, FtAnalyticsFormat fmt,
                              const FtAnalyticsWindow *win, GString *out, GError **error);

/* The KPI set from the aggregates, as ordered keys and values. A value is
 * NaN where the data holds nothing to measure it (mean SOC without
 * telemetry); JSON shows it as null. */
typedef struct {
  const char *key;
  double      value;
  const char *unit;
} FtAnalyticsKpi;

/* Fills a new array of FtAnalyticsKpi (the key and unit strings are
 * static). Always the same keys in the same order. */
GArray  *ft_analytics_kpis      (sqlite3 *db, GError **error);
char    *ft_analytics_kpis_json (const GArray *kpis);
/* A meta value the build recorded (currency, zoning, zone names as JSON,
 * high_water_seq, first_t, last_t …), or NULL. */
char    *ft_analytics_dup_meta  (sqlite3 *db, const char *key);
/* Whether the aggregates exist and hold at least one build. */
gboolean ft_analytics_is_built  (sqlite3 *db);

G_END_DECLS
