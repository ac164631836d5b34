/* ft-trips.h — public trip data in: bike-share trip CSVs (Citi Bike's
 * classic layout with `tripduration,starttime,…` and the newer layout with
 * `ride_id,rideable_type,started_at,…`) and MDS 2.0 provider trips JSON.
 *
 * Two kinds of bad input are told apart. A file that is malformed (wrong
 * columns, a field that does not parse, coordinates out of range, a
 * truncated last line) is refused whole, with the file, line and field
 * named: nothing is half-imported. Rows that parse but are implausible as
 * trips (too short, too long, too fast, round trips of a few seconds, far
 * outside the data's area) are outliers: dropped and counted by reason.
 *
 * Times are kept as naive local time in ms since the Unix epoch (the files
 * give local wall time), so hour-of-day and day-of-week are the local ones.
 */
#pragma once

#include "ft-common.h"

G_BEGIN_DECLS

#define FT_TRIPS_ERROR (ft_trips_error_quark ())
GQuark ft_trips_error_quark (void);
typedef enum {
  FT_TRIPS_ERROR_IO,
  FT_TRIPS_ERROR_FORMAT,      /* unknown header / layout */
  FT_TRIPS_ERROR_PARSE,       /* file:line: field … */
  FT_TRIPS_ERROR_EMPTY,       /* no usable trip */
} FtTripsError;

typedef enum {
  FT_TRIP_DROP_TOO_SHORT = 0, /* under 60 s */
  FT_TRIP_DROP_TOO_LONG,      /* over 3 h (lost, stolen or forgotten docks) */
  FT_TRIP_DROP_TOO_FAST,      /* straight-line speed above 35 km/h */
  FT_TRIP_DROP_ROUND_TRIP,    /* same start and end point: no OD information */
  FT_TRIP_DROP_MISSING_END,   /* no end coordinates (newer layout leaves them empty) */
  FT_TRIP_DROP_FAR_AWAY,      /* start or end over 25 km from the data's median point */
  FT_TRIP_DROP_TIME_ORDER,    /* ends before it starts */
  FT_N_TRIP_DROPS
} FtTripDrop;

typedef enum {
  FT_TRIPS_LAYOUT_CITIBIKE_V1 = 0,
  FT_TRIPS_LAYOUT_CITIBIKE_V3,
  FT_TRIPS_LAYOUT_MDS_JSON,
  FT_TRIPS_LAYOUT_MAPPED,       /* a CSV read through a mapping (built in or a file) */
} FtTripsLayout;

/* ---- Column mappings ------------------------------------------------------
 * A CSV layout is described by a mapping: which column holds each role, the
 * time format, the zone the times are in, the units, and the rounding the
 * publisher applied. Built-in mappings cover the layouts we know (see
 * ft_trips_mapping_builtin_names); anything else is a key file:
 *
 *   [mapping]
 *   name=my-city-scooters
 *   start_time=Start Time        # required
 *   end_time=End Time            # end_time or duration required
 *   start_date=Start Date        # optional: date in its own column
 *   end_date=End Date
 *   start_lat=Start Lat          # required, as are start_lon, end_lat, end_lon
 *   ...
 *   duration=Duration            # optional; duration_unit=s|min|h
 *   distance=Distance            # optional; distance_unit=m|km|mi|ft
 *   time_format=iso              # iso | mdy (MM/DD/YYYY hh:mm[:ss][ AM|PM]) | epoch-s | epoch-ms
 *   time_zone=UTC                # zone the file's times are in; absent: local wall time
 *   round_minutes=15             # the publisher rounded times to this
 *
 * Format detection: a built-in mapping fits a header when every column it
 * reads is there. One fit is used; none or several is an error that says
 * so and names the --mapping option. */
typedef enum {
  FT_TRIPS_COL_START_TIME = 0,
  FT_TRIPS_COL_END_TIME,
  FT_TRIPS_COL_START_DATE,
  FT_TRIPS_COL_END_DATE,
  FT_TRIPS_COL_START_LAT,
  FT_TRIPS_COL_START_LON,
  FT_TRIPS_COL_END_LAT,
  FT_TRIPS_COL_END_LON,
  FT_TRIPS_COL_DURATION,
  FT_TRIPS_COL_DISTANCE,
  FT_TRIPS_N_COLS
} FtTripsColumn;

typedef enum {
  FT_TRIPS_TIME_ISO = 0,     /* YYYY-MM-DD[ T]hh:mm[:ss[.fff]][Z|+hh:mm] */
  FT_TRIPS_TIME_MDY,         /* MM/DD/YYYY hh:mm[:ss][ AM|PM] */
  FT_TRIPS_TIME_EPOCH_S,
  FT_TRIPS_TIME_EPOCH_MS,
} FtTripsTimeFormat;

typedef struct {
  char             *name;
  char             *col[FT_TRIPS_N_COLS];  /* header names; NULL = not in the file */
  double            duration_unit_s;       /* seconds per unit of the duration column */
  double            distance_unit_m;       /* metres per unit of the distance column */
  FtTripsTimeFormat time_format;
  char             *time_zone;             /* IANA id the times are in; NULL: local wall time */
  int               round_minutes;         /* 0: exact times */
  gboolean          end_optional;          /* empty end coordinates: a dropped row, not an error */
  char             *signature;             /* built-in: a column that names the layout */
  FtTripsLayout     layout;
} FtTripsMapping;

FtTripsMapping     *ft_trips_mapping_parse   (const char *text, gsize len, const char *where,
                                              GError **error);
/* A built-in name or a key file. */
FtTripsMapping     *ft_trips_mapping_load    (const char *name_or_path, GError **error);
FtTripsMapping     *ft_trips_mapping_copy    (const FtTripsMapping *m);
void                ft_trips_mapping_free    (FtTripsMapping *m);
const char * const *ft_trips_mapping_builtin_names (void);
const char         *ft_trips_column_key      (FtTripsColumn c);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (FtTripsMapping, ft_trips_mapping_free)

typedef struct {
  const FtTripsMapping *mapping;   /* NULL: detect from the header */
  /* The city's IANA time zone: times given in another zone (MDS: UTC; a
   * mapping's time_zone) are converted to its local wall time. NULL keeps
   * the times as the file states them. */
  const char           *time_zone;
} FtTripsOptions;

typedef struct {
  FtTime   start;       /* naive local ms since epoch */
  FtTime   end;
  FtLatLon from;
  FtLatLon to;
  double   distance_m;  /* straight line */
} FtTrip;

typedef struct {
  FtTrip       *trips;
  guint         n_trips;
  guint         n_rows;            /* data rows read */
  guint         dropped[FT_N_TRIP_DROPS];
  FtTripsLayout layout;
  char         *source;            /* file name */
  char         *layout_name;       /* "citibike-v1", a mapping's name, "mds-2.0-trips" */
  char         *time_zone;         /* zone of the times held (IANA), NULL: as the file gave them */
  guint         n_same_slot;       /* rounded times: trips kept that start and end in one slot */
} FtTripSet;

FtTripSet  *ft_trips_load         (const char *path, GError **error);   /* detects layout */
FtTripSet  *ft_trips_parse_csv    (const char *text, gsize len, const char *where, GError **error);
FtTripSet  *ft_trips_parse_mds    (const char *text, gsize len, const char *where, GError **error);
FtTripSet  *ft_trips_load_with    (const char *path, const FtTripsOptions *opt, GError **error);
FtTripSet  *ft_trips_parse_csv_with (const char *text, gsize len, const char *where,
                                     const FtTripsOptions *opt, GError **error);
FtTripSet  *ft_trips_parse_mds_with (const char *text, gsize len, const char *where,
                                     const FtTripsOptions *opt, GError **error);
/* A UTC instant (ms) as naive local ms in zone tz, and back. */
FtTime      ft_trips_utc_to_local (GTimeZone *tz, FtTime utc_ms);
FtTime      ft_trips_local_to_utc (GTimeZone *tz, FtTime local_ms);
void        ft_trip_set_free      (FtTripSet *set);
guint       ft_trip_set_n_dropped (const FtTripSet *set);
const char *ft_trip_drop_name     (FtTripDrop d);
const char *ft_trips_layout_name  (FtTripsLayout l);
/* Monday 00:00 (naive local) of the week holding the first trip. */
FtTime      ft_trip_set_week_start(const FtTripSet *set);
/* Parse "YYYY-MM-DD HH:MM:SS[.ffff]" or ISO 8601 "YYYY-MM-DDTHH:MM:SS[.fff][Z]"
 * into naive ms since epoch. */
gboolean    ft_trips_parse_time   (const char *s, FtTime *out);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (FtTripSet, ft_trip_set_free)

G_END_DECLS
