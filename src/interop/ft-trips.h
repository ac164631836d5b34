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
} FtTripsLayout;

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
} FtTripSet;

FtTripSet  *ft_trips_load         (const char *path, GError **error);   /* detects layout */
FtTripSet  *ft_trips_parse_csv    (const char *text, gsize len, const char *where, GError **error);
FtTripSet  *ft_trips_parse_mds    (const char *text, gsize len, const char *where, GError **error);
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
