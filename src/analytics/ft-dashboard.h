/* ft-dashboard.h — the app's dashboard over the analytics aggregates: the
 * same measures as the report (utilisation and revenue by hour and zone,
 * trip length and duration, time of day, repeat riders, battery, faults and
 * downtime, staff), read through a filter (run days, zone, vehicle kind)
 * into plain arrays, and drawn as ft-chart charts on any cairo_t. The UI
 * only chooses the filter and where to draw.
 */
#pragma once

#include "ft-analytics.h"
#include <cairo.h>

G_BEGIN_DECLS

typedef struct {
  int from_day, to_day;   /* run days, 0 = the first day with data, inclusive; -1 = open */
  int zone;               /* zone index, -1 = every zone */
  int kind;               /* FtVehicleKind, -1 = every kind */
} FtDashFilter;

#define FT_DASH_KM_BINS  41   /* 0–10 km in 250 m, the last 10+ */
#define FT_DASH_MIN_BINS 61   /* 0–60 min, the last 60+ */

typedef struct {
  char    *currency;
  guint    n_days;              /* run days with data, before the filter */
  guint    days_in_filter;      /* days the filter kept */
  guint    n_zones;
  char   **zone_names;          /* n_zones */
  /* by local hour of day, over the filter's days and zone */
  double   util_hod[24];        /* share of vehicle time on a trip */
  double   avail_hod[24];       /* share of vehicle time available */
  double   revenue_hod[24];     /* per day, major units */
  double   served_hod[24], lost_hod[24];   /* requests per day */
  /* per zone over the filter's days (every zone, whatever the zone filter) */
  double  *zone_util;           /* n_zones, NaN where no vehicle stood */
  double  *zone_revenue;        /* n_zones, major units */
  /* the whole run: the bins and riders hold no time or zone */
  double   trip_km[FT_DASH_KM_BINS], trip_min[FT_DASH_MIN_BINS];
  double   riders_by_trips[8], trips_by_riders[8];
  double   soc[20];             /* 5 % bins */
  const char *soc_what;         /* "telemetry readings" or "battery packs now" */
  /* per day of the filter, vehicles of the filter's kind */
  guint    n_fleet_days;
  double  *downtime_h, *fault_h, *faults;
  /* per staff member, shifts starting in the filter's days */
  guint    n_staff;
  char   **staff_names;
  double  *staff_swaps, *staff_rebalances, *staff_other, *staff_km;
  /* totals of the filter, for the summary line */
  double   total_revenue, total_served, total_lost, mean_util;
} FtDashboard;

typedef enum {
  FT_DASH_UTIL_HOUR = 0,
  FT_DASH_REVENUE_HOUR,
  FT_DASH_REVENUE_ZONE,
  FT_DASH_UTIL_ZONE,
  FT_DASH_TIME_OF_DAY,
  FT_DASH_REPEAT_RIDERS,
  FT_DASH_TRIP_LENGTH,
  FT_DASH_TRIP_DURATION,
  FT_DASH_BATTERY,
  FT_DASH_DOWNTIME,
  FT_DASH_STAFF,
  FT_DASH_N_CHARTS
} FtDashChart;

/* Reads the aggregates of db (built: ft_analytics_is_built) through f.
 * A filter outside the data (from_day past the last day, from > to, a
 * zone beyond the zoning) is refused (FT_ANALYTICS_ERROR_USAGE) naming it. */
FtDashboard *ft_dashboard_query (sqlite3 *db, const FtDashFilter *f, GError **error);
void         ft_dashboard_free  (FtDashboard *d);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (FtDashboard, ft_dashboard_free)

/* Draws chart `which` of d into (0, 0, width, height) of cr. */
void         ft_dashboard_draw  (const FtDashboard *d, FtDashChart which, cairo_t *cr,
                                 double width, double height);
/* The section a chart belongs to: "Utilisation and revenue", "Riders",
 * "Fleet health", "Staff". */
const char  *ft_dashboard_section (FtDashChart which);

G_END_DECLS
