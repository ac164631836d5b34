/* test-trips.c — trip import (Citi Bike layouts, MDS trips), outlier
 * cleaning, refusal of malformed files, demand fitting, transfer and traces.
 */
#include "ft-config.h"
#include "ft-test.h"
#include "ft-demand-fit.h"

#include <check.h>
#include <glib/gstdio.h>
#include <string.h>

static FtTripSet *
load_citibike (void)
{
  g_autofree char *p = ft_test_shared_path ("trips/JC-202001-citibike-tripdata.csv");
  g_autoptr(GError) error = NULL;
  FtTripSet *set = ft_trips_load (p, &error);
  ck_assert_msg (set != NULL, "%s", error ? error->message : "");
  return set;
}

START_TEST (test_citibike_real_file)
{
  g_autoptr(FtTripSet) set = load_citibike ();
  ck_assert_int_eq (set->layout, FT_TRIPS_LAYOUT_CITIBIKE_V1);
  ck_assert_uint_eq (set->n_rows, 26020);
  ck_assert_uint_eq (set->n_trips + ft_trip_set_n_dropped (set), set->n_rows);
  /* the file has trips of up to 520,598 s: some must be dropped as too long */
  ck_assert_uint_gt (set->dropped[FT_TRIP_DROP_TOO_LONG], 0);
  ck_assert_uint_gt (set->dropped[FT_TRIP_DROP_ROUND_TRIP], 0);
  ck_assert_uint_gt (set->n_trips, 20000);
  for (guint i = 0; i < set->n_trips; i++)
    {
      const FtTrip *t = &set->trips[i];
      ck_assert (t->end > t->start);
      ck_assert (t->end - t->start >= 60 * 1000);
      ck_assert (t->end - t->start <= 3 * 3600 * 1000);
      ck_assert (t->distance_m >= 1.0);
      ck_assert (t->from.lat > 40.6 && t->from.lat < 40.9);
    }
  /* first row: 2020-01-01 00:04:50.192, a Wednesday */
  FtTime w0 = ft_trip_set_week_start (set);
  ck_assert (set->trips[0].start - w0 == 2 * FT_DAY + 4 * FT_MINUTE + 50192);
}
END_TEST

static const char *v3_csv =
  "ride_id,rideable_type,started_at,ended_at,start_station_name,start_station_id,"
  "end_station_name,end_station_id,start_lat,start_lng,end_lat,end_lng,member_casual\n"
  "A1,electric_bike,2023-01-02 08:00:00,2023-01-02 08:12:30,X,1,Y,2,40.72,-74.04,40.73,-74.05,member\n"
  "A2,classic_bike,2023-01-02 09:00:00,2023-01-02 09:00:20,X,1,Y,2,40.72,-74.04,40.721,-74.041,casual\n"
  "A3,classic_bike,2023-01-02 10:00:00,2023-01-02 10:30:00,X,1,,,40.72,-74.04,,,casual\n"
  "\"A4\",\"classic_bike\",\"2023-01-03 10:00:00\",\"2023-01-03 10:20:00\",\"X, the one\",1,Y,2,40.72,-74.04,40.74,-74.03,member\n";

START_TEST (test_v3_layout)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(FtTripSet) set = ft_trips_parse_csv (v3_csv, strlen (v3_csv), "v3.csv", &error);
  ck_assert_msg (set != NULL, "%s", error ? error->message : "");
  ck_assert_int_eq (set->layout, FT_TRIPS_LAYOUT_CITIBIKE_V3);
  ck_assert_uint_eq (set->n_rows, 4);
  ck_assert_uint_eq (set->n_trips, 2);
  ck_assert_uint_eq (set->dropped[FT_TRIP_DROP_TOO_SHORT], 1);
  ck_assert_uint_eq (set->dropped[FT_TRIP_DROP_MISSING_END], 1);
}
END_TEST

static void
expect_refused (const char *text, const char *needle)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(FtTripSet) set = ft_trips_parse_csv (text, strlen (text), "bad.csv", &error);
  ck_assert_msg (set == NULL, "accepted: %s", text);
  ck_assert (error != NULL);
  ck_assert_msg (strstr (error->message, needle) != NULL, "message '%s' lacks '%s'",
                 error->message, needle);
}

START_TEST (test_malformed_csv)
{
  const char *hdr = "\"tripduration\",\"starttime\",\"stoptime\",\"start station id\","
    "\"start station name\",\"start station latitude\",\"start station longitude\","
    "\"end station id\",\"end station name\",\"end station latitude\",\"end station longitude\","
    "\"bikeid\",\"usertype\",\"birth year\",\"gender\"\n";
  const char *good = "226,\"2020-01-01 00:04:50.1920\",\"2020-01-01 00:08:37.0370\",3186,\"G\","
    "40.7195,-74.0431,3211,\"N\",40.7215,-74.0463,29444,\"Subscriber\",1984,2\n";
  g_autofree char *wrong_cols = g_strconcat (hdr, good, "226,\"2020-01-01 00:04:50\",1,2\n", NULL);
  expect_refused (wrong_cols, "bad.csv:3: expected 15 fields");
  g_autofree char *bad_num = g_strconcat (hdr, good,
    "226,\"2020-01-01 00:04:50.1920\",\"2020-01-01 00:08:37.0370\",3186,\"G\","
    "forty,-74.0431,3211,\"N\",40.7215,-74.0463,29444,\"Subscriber\",1984,2\n", NULL);
  expect_refused (bad_num, "bad.csv:3: field 'start station latitude': 'forty'");
  g_autofree char *bad_coord = g_strconcat (hdr,
    "226,\"2020-01-01 00:04:50.1920\",\"2020-01-01 00:08:37.0370\",3186,\"G\","
    "140.7,-74.0431,3211,\"N\",40.7215,-74.0463,29444,\"Subscriber\",1984,2\n", NULL);
  expect_refused (bad_coord, "out of range for a latitude");
  g_autofree char *bad_time = g_strconcat (hdr,
    "226,\"yesterday\",\"2020-01-01 00:08:37.0370\",3186,\"G\","
    "40.7,-74.0431,3211,\"N\",40.7215,-74.0463,29444,\"Subscriber\",1984,2\n", NULL);
  expect_refused (bad_time, "'yesterday' is not a date-time");
  /* sscanf's %lf reads "nan": it once passed the range check and overflowed
   * the trip's duration (tests/fuzz/corpus/trips-csv/crash-nan-seconds-overflow.csv) */
  g_autofree char *nan_time = g_strconcat (hdr,
    "226,\"2020-01-01 00:04:nan\",\"2020-01-01 00:08:37.0370\",3186,\"G\","
    "40.7,-74.0431,3211,\"N\",40.7215,-74.0463,29444,\"Subscriber\",1984,2\n", NULL);
  expect_refused (nan_time, "is not a date-time");
  FtTime t;
  ck_assert (!ft_trips_parse_time ("2020-01-01 -1:04:50", &t));
  ck_assert (!ft_trips_parse_time ("2020-01-01 00:-4:50", &t));
  ck_assert (ft_trips_parse_time ("2020-01-01 00:04:50.5", &t));
  /* truncated in the middle of a row */
  g_autofree char *full = g_strconcat (hdr, good, good, NULL);
  g_autofree char *trunc = g_strndup (full, strlen (full) - 30);
  expect_refused (trunc, "truncated");
  g_autofree char *open_quote = g_strconcat (hdr, good, "226,\"2020-01-01 00:04", NULL);
  expect_refused (open_quote, "unterminated");
  expect_refused ("a,b,c\n1,2,3\n", "unknown trip layout");
  expect_refused ("", "no CSV header");
  g_autofree char *missing = g_strdup ("\"tripduration\",\"starttime\"\n1,2\n");
  expect_refused (missing, "missing column 'stoptime'");
}
END_TEST

START_TEST (test_mds_trips)
{
  const char *doc = "{\"version\":\"2.0.0\",\"trips\":["
    "{\"trip_id\":\"t1\",\"start_time\":1704096000000,\"end_time\":1704096600000,"
    "\"start_location\":{\"lat\":52.37,\"lng\":4.89},\"end_location\":{\"lat\":52.38,\"lng\":4.90}},"
    "{\"trip_id\":\"t2\",\"start_time\":1704096000000,\"end_time\":1704096010000,"
    "\"start_location\":{\"lat\":52.37,\"lng\":4.89},\"end_location\":{\"lat\":52.371,\"lng\":4.891}}]}";
  g_autoptr(GError) error = NULL;
  g_autoptr(FtTripSet) set = ft_trips_parse_mds (doc, strlen (doc), "trips.json", &error);
  ck_assert_msg (set != NULL, "%s", error ? error->message : "");
  ck_assert_uint_eq (set->n_rows, 2);
  ck_assert_uint_eq (set->n_trips, 1);
  ck_assert_uint_eq (set->dropped[FT_TRIP_DROP_TOO_SHORT], 1);

  const char *bad[] = {
    "{\"trips\":[{\"start_time\":\"noon\"}]}",
    "{\"trips\":[{\"start_time\":1,\"end_time\":2,\"start_location\":{\"lat\":\"x\",\"lng\":1},"
      "\"end_location\":{\"lat\":1,\"lng\":1}}]}",
    "{\"trips\":[{\"start_time\":1,\"end_time\":2,\"start_location\":{\"lat\":99,\"lng\":1},"
      "\"end_location\":{\"lat\":1,\"lng\":1}}]}",
    "{\"nope\":[]}",
    "{\"trips\":[",
    "[7]",
  };
  for (guint i = 0; i < G_N_ELEMENTS (bad); i++)
    {
      g_autoptr(GError) e = NULL;
      g_autoptr(FtTripSet) s = ft_trips_parse_mds (bad[i], strlen (bad[i]), "bad.json", &e);
      ck_assert_msg (s == NULL, "accepted %s", bad[i]);
      ck_assert (strstr (e->message, "bad.json") != NULL);
    }
}
END_TEST

START_TEST (test_fit_and_trace)
{
  g_autoptr(FtTripSet) set = load_citibike ();
  g_autoptr(GError) error = NULL;
  g_autoptr(FtCity) city = ft_city_from_trips (set, "Jersey City trips", 400, &error);
  ck_assert_msg (city != NULL, "%s", error ? error->message : "");
  ck_assert_uint_gt (city->n_zones, 10);
  FtDemandFitReport rep;
  ck_assert_msg (ft_demand_fit (city, set, &rep, &error), "%s", error ? error->message : "");
  ck_assert_uint_eq (rep.trips_used + rep.trips_outside, set->n_trips);
  ck_assert_uint_eq (rep.trips_outside, 0);      /* zones cover every trip end */
  ck_assert_double_eq_tol (rep.days_covered, 31, 0.5);
  /* requests/day of the fit ~ trips/day of the data (hours of week are covered 4-5 times) */
  double per_day = rep.trips_used / rep.days_covered;
  ck_assert_msg (fabs (rep.requests_per_day - per_day) / per_day < 0.1,
                 "fit %.1f vs data %.1f per day", rep.requests_per_day, per_day);
  /* Fitted hour-of-day profile equals the observed one closely. */
  double obs[24], fit[24] = { 0 };
  ft_trips_hourly_profile (set, obs);
  for (guint z = 0; z < city->demand.n_zones; z++)
    for (int h = 0; h < 168; h++)
      fit[h % 24] += city->demand.rate[z * 168 + h] / 7.0;
  ck_assert_double_gt (ft_profile_correlation (obs, fit, 24), 0.98);
  /* commute peak: 8am busier than 3am */
  ck_assert_double_gt (obs[8], 5 * obs[3]);

  /* Trace: every trip, in time order, round-trips through a file. */
  guint n = 0;
  g_autofree FtDemandRequest *tr = ft_trips_to_trace (set, &n);
  ck_assert_uint_eq (n, set->n_trips);
  for (guint i = 1; i < n; i++)
    ck_assert (tr[i].t >= tr[i - 1].t);
  g_autofree char *dir = g_dir_make_tmp ("ft-trace-XXXXXX", NULL);
  g_autofree char *path = g_build_filename (dir, "trace.tsv", NULL);
  ck_assert (ft_trace_save (path, tr, n, &error));
  guint n2 = 0;
  g_autofree FtDemandRequest *tr2 = ft_trace_load (path, &n2, &error);
  ck_assert_msg (tr2 != NULL, "%s", error ? error->message : "");
  ck_assert_uint_eq (n2, n);
  for (guint i = 0; i < n; i++)
    {
      ck_assert (tr2[i].t == tr[i].t);
      ck_assert_double_eq_tol (tr2[i].from.lat, tr[i].from.lat, 1e-6);
      ck_assert_double_eq_tol (tr2[i].to.lon, tr[i].to.lon, 1e-6);
    }
  /* a corrupted trace is refused with the line named */
  g_file_set_contents (path, "# x\n0\t1\t2\t3\t4\n5\t1\tx\t3\t4\n", -1, NULL);
  g_clear_error (&error);
  g_autofree FtDemandRequest *tr3 = ft_trace_load (path, &n2, &error);
  ck_assert (tr3 == NULL);
  ck_assert (strstr (error->message, ":3:") != NULL);
  g_unlink (path);
  g_rmdir (dir);
}
END_TEST

START_TEST (test_transfer)
{
  g_autoptr(FtTripSet) set = load_citibike ();
  g_autoptr(GError) error = NULL;
  g_autoptr(FtCity) src = ft_city_from_trips (set, "source", 400, &error);
  ck_assert (ft_demand_fit (src, set, NULL, &error));
  /* Target: a 4 x 4 km square of 250 m hexes somewhere else. */
  g_autoptr(FtCity) dst = ft_city_from_trips (set, "target", 250, &error);
  ck_assert (ft_demand_transfer (src, set, dst, 1200.0, &error));
  double week = 0;
  for (guint i = 0; i < dst->n_zones * 168; i++)
    week += dst->demand.rate[i];
  ck_assert_double_eq_tol (week / 7.0, 1200.0, 1e-6);
  /* expected trip length in the target from the destination weights (band 1, centroids) */
  double num = 0, den = 0;
  guint nz = dst->n_zones;
  for (guint i = 0; i < nz; i++)
    {
      double oi = 0;
      for (int h = 0; h < 168; h++)
        oi += dst->demand.rate[i * 168 + h];
      double rs = 0;
      for (guint j = 0; j < nz; j++)
        rs += dst->demand.dest[(1 * nz + i) * nz + j];
      for (guint j = 0; j < nz; j++)
        {
          double p = dst->demand.dest[(1 * nz + i) * nz + j] / rs;
          num += oi * p * ft_distance_m (dst->zones[i].centroid, dst->zones[j].centroid);
          den += oi * p;
        }
    }
  double mean_len = num / den;
  ck_assert_msg (fabs (mean_len - dst->demand.mean_trip_m) / dst->demand.mean_trip_m < 0.2,
                 "target mean %.0f m vs source %.0f m", mean_len, dst->demand.mean_trip_m);
}
END_TEST


/* ---- mappings, detection, time zones, rounded times (issue 21) ---------- */

static const char *louisville_hdr =
  "TripID,StartDate,StartTime,EndDate,EndTime,TripDuration,TripDistance,"
  "StartLatitude,StartLongitude,EndLatitude,EndLongitude,DayOfWeek,HourNum\n";

START_TEST (test_rounded_same_slot)
{
  /* times rounded to 15 min: rows 1 and 2 start and end in one slot */
  g_autofree char *csv = g_strconcat (louisville_hdr,
    "a1,2019-08-01,17:15,2019-08-01,17:15,4,0.6,38.253,-85.759,38.256,-85.751,5,17\n"
    "a2,2019-08-01,08:00,2019-08-01,08:00,9,1.2,38.250,-85.760,38.262,-85.745,5,8\n"
    "a3,2019-08-01,09:00,2019-08-01,09:30,22,2.5,38.250,-85.760,38.231,-85.722,5,9\n"
    "a4,2019-08-01,10:00,2019-08-01,10:00,0.3,0,38.250,-85.760,38.250,-85.760,5,10\n", NULL);
  g_autoptr(GError) error = NULL;
  g_autoptr(FtTripSet) set = ft_trips_parse_csv (csv, strlen (csv), "louisville.csv", &error);
  ck_assert_msg (set != NULL, "%s", error ? error->message : "");
  ck_assert_str_eq (set->layout_name, "louisville-dockless");
  ck_assert_uint_eq (set->n_rows, 4);
  ck_assert_uint_eq (set->n_trips, 3);           /* a4 went nowhere */
  ck_assert_uint_eq (set->n_same_slot, 2);
  ck_assert_uint_eq (set->dropped[FT_TRIP_DROP_ROUND_TRIP], 1);
  /* durations come from the minutes column, not the rounded times */
  ck_assert_int_eq (set->trips[0].end - set->trips[0].start, 4 * FT_MINUTE);
  ck_assert_int_eq (set->trips[1].end - set->trips[1].start, 9 * FT_MINUTE);
  ck_assert_int_eq (set->trips[2].end - set->trips[2].start, 22 * FT_MINUTE);
  FtTime t;
  ck_assert (ft_trips_parse_time ("2019-08-01 17:15:00", &t));
  ck_assert_int_eq (set->trips[0].start, t);

  /* a mapping file without a duration column: a same-slot trip gets half a slot */
  const char *map = "[mapping]\nname=slots\nstart_time=s\nend_time=e\nstart_lat=a\nstart_lon=b\n"
                    "end_lat=c\nend_lon=d\nround_minutes=15\n";
  g_autoptr(FtTripsMapping) m = ft_trips_mapping_parse (map, strlen (map), "slots.map", &error);
  ck_assert_msg (m != NULL, "%s", error ? error->message : "");
  const char *rows = "s,e,a,b,c,d\n2019-08-01 17:15,2019-08-01 17:15,38.25,-85.76,38.26,-85.75\n";
  FtTripsOptions opt = { .mapping = m };
  g_autoptr(FtTripSet) s2 = ft_trips_parse_csv_with (rows, strlen (rows), "slots.csv", &opt, &error);
  ck_assert_msg (s2 != NULL, "%s", error ? error->message : "");
  ck_assert_uint_eq (s2->n_trips, 1);
  ck_assert_int_eq (s2->trips[0].end - s2->trips[0].start, 15 * FT_MINUTE / 2);
}
END_TEST

static void
expect_detect (const char *header_and_row, const char *layout)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(FtTripSet) set = ft_trips_parse_csv (header_and_row, strlen (header_and_row), "d.csv", &error);
  ck_assert_msg (set != NULL, "%s", error ? error->message : "");
  ck_assert_str_eq (set->layout_name, layout);
}

START_TEST (test_format_detection)
{
  expect_detect ("tripduration,starttime,stoptime,start station latitude,start station longitude,"
                 "end station latitude,end station longitude\n"
                 "600,2020-01-01 08:00:00,2020-01-01 08:10:00,40.72,-74.04,40.73,-74.05\n", "citibike-v1");
  expect_detect (v3_csv, "citibike-v3");
  g_autofree char *lv = g_strconcat (louisville_hdr,
    "a1,2019-08-01,17:15,2019-08-01,17:30,14,1.6,38.253,-85.759,38.266,-85.741,5,17\n", NULL);
  expect_detect (lv, "louisville-dockless");
  expect_detect ("Trip ID,Start Time,End Time,Trip Distance,Trip Duration,Accuracy,"
                 "Start Centroid Latitude,Start Centroid Longitude,End Centroid Latitude,"
                 "End Centroid Longitude\n"
                 "x,06/15/2019 05:00:00 PM,06/15/2019 06:00:00 PM,2100,840,5,41.88,-87.63,41.89,-87.62\n",
                 "chicago-scooter");
  /* the Chicago times are 12-hour clock: 05:00 PM is 17:00 */
  {
    const char *c = "Trip ID,Start Time,End Time,Trip Distance,Trip Duration,"
      "Start Centroid Latitude,Start Centroid Longitude,End Centroid Latitude,End Centroid Longitude\n"
      "x,06/15/2019 05:00:00 PM,06/15/2019 05:00:00 PM,2100,840,41.88,-87.63,41.89,-87.62\n";
    g_autoptr(GError) error = NULL;
    g_autoptr(FtTripSet) set = ft_trips_parse_csv (c, strlen (c), "c.csv", &error);
    ck_assert_msg (set != NULL, "%s", error ? error->message : "");
    FtTime t;
    ck_assert (ft_trips_parse_time ("2019-06-15 17:00:00", &t));
    ck_assert_int_eq (set->trips[0].start, t);
    ck_assert_int_eq (set->trips[0].end - set->trips[0].start, 840 * 1000);
  }
  /* a header carrying both the Citi Bike v3 and the Louisville columns is
   * not guessed: the error says so and names the option */
  const char *both = "ride_id,started_at,ended_at,start_lat,start_lng,end_lat,end_lng,"
    "TripID,StartDate,StartTime,EndDate,EndTime,TripDuration,TripDistance,"
    "StartLatitude,StartLongitude,EndLatitude,EndLongitude\n";
  expect_refused (both, "cannot tell the trip layout: the header fits citibike-v3 and louisville-dockless");
  expect_refused (both, "--mapping");
  expect_refused ("when,from_lat,from_lon\n1,2,3\n", "give a mapping file with --mapping FILE");
}
END_TEST

START_TEST (test_mapping_file)
{
  const char *map =
    "[mapping]\nname=berlin-ops\nstart_time=t0\nduration=mins\nduration_unit=min\n"
    "start_lat=la0\nstart_lon=lo0\nend_lat=la1\nend_lon=lo1\ndistance=km\ndistance_unit=km\n"
    "time_format=epoch-s\ntime_zone=UTC\n";
  g_autoptr(GError) error = NULL;
  g_autoptr(FtTripsMapping) m = ft_trips_mapping_parse (map, strlen (map), "ops.map", &error);
  ck_assert_msg (m != NULL, "%s", error ? error->message : "");
  /* 1719835200 = 2024-07-01 12:00:00 UTC = 14:00 in Berlin (CEST) */
  const char *csv = "t0,mins,la0,lo0,la1,lo1,km\n1719835200,12,52.52,13.40,52.53,13.42,1.9\n";
  FtTripsOptions opt = { .mapping = m, .time_zone = "Europe/Berlin" };
  g_autoptr(FtTripSet) set = ft_trips_parse_csv_with (csv, strlen (csv), "ops.csv", &opt, &error);
  ck_assert_msg (set != NULL, "%s", error ? error->message : "");
  FtTime t;
  ck_assert (ft_trips_parse_time ("2024-07-01 14:00:00", &t));
  ck_assert_int_eq (set->trips[0].start, t);
  ck_assert_int_eq (set->trips[0].end - set->trips[0].start, 12 * FT_MINUTE);
  ck_assert_str_eq (set->time_zone, "Europe/Berlin");

  /* a mapping naming a column the file does not have */
  const char *other = "t0,minutes,la0,lo0,la1,lo1,km\n1719835200,12,52.52,13.40,52.53,13.42,1.9\n";
  g_autoptr(FtTripSet) bad = ft_trips_parse_csv_with (other, strlen (other), "other.csv", &opt, &error);
  ck_assert (bad == NULL);
  ck_assert_msg (strstr (error->message, "other.csv:1: the mapping berlin-ops names column 'mins'"),
                 "%s", error->message);
  g_clear_error (&error);

  /* bad mapping files, each refused naming the key */
  const char *bad_maps[][2] = {
    { "[mapping]\nstart_time=a\nstart_lat=b\nstart_lon=c\nend_lat=d\nend_lon=e\n", "end_time: missing" },
    { "[mapping]\nstart_time=a\nend_time=x\nstart_lat=b\nstart_lon=c\nend_lat=d\nend_lon=e\n"
      "distance_unit=furlong\n", "distance_unit: 'furlong'" },
    { "[mapping]\nstart_time=a\nend_time=x\nstart_lat=b\nstart_lon=c\nend_lat=d\nend_lon=e\n"
      "time_zone=Mars/Olympus\n", "time_zone: 'Mars/Olympus'" },
    { "[mapping]\nstart_time=a\nend_time=x\nstart_lat=b\nstart_lon=c\nend_lat=d\nend_lon=e\n"
      "colour=blue\n", "colour: unknown key" },
  };
  for (guint i = 0; i < G_N_ELEMENTS (bad_maps); i++)
    {
      g_autoptr(GError) e = NULL;
      g_autoptr(FtTripsMapping) bm = ft_trips_mapping_parse (bad_maps[i][0], strlen (bad_maps[i][0]),
                                                             "bad.map", &e);
      ck_assert (bm == NULL);
      ck_assert_msg (strstr (e->message, "bad.map") && strstr (e->message, bad_maps[i][1]),
                     "'%s' lacks '%s'", e->message, bad_maps[i][1]);
    }
}
END_TEST

START_TEST (test_mds_time_zone)
{
  /* 1704096000000 = 2024-01-01 08:00 UTC; 1719835200000 = 2024-07-01 12:00 UTC */
  const char *doc = "{\"trips\":["
    "{\"start_time\":1704096000000,\"end_time\":1704096600000,"
    "\"start_location\":{\"lat\":40.72,\"lng\":-74.04},\"end_location\":{\"lat\":40.73,\"lng\":-74.05}},"
    "{\"start_time\":1719835200000,\"end_time\":1719835800000,"
    "\"start_location\":{\"lat\":40.72,\"lng\":-74.04},\"end_location\":{\"lat\":40.73,\"lng\":-74.05}}]}";
  g_autoptr(GError) error = NULL;
  FtTripsOptions opt = { .time_zone = "America/New_York" };
  g_autoptr(FtTripSet) set = ft_trips_parse_mds_with (doc, strlen (doc), "t.json", &opt, &error);
  ck_assert_msg (set != NULL, "%s", error ? error->message : "");
  FtTime w, s;
  ck_assert (ft_trips_parse_time ("2024-01-01 03:00:00", &w));   /* EST, UTC-5 */
  ck_assert (ft_trips_parse_time ("2024-07-01 08:00:00", &s));   /* EDT, UTC-4 */
  ck_assert_int_eq (set->trips[0].start, w);
  ck_assert_int_eq (set->trips[1].start, s);
  ck_assert_str_eq (set->time_zone, "America/New_York");
  /* without a zone the times stay UTC, and the set says so */
  g_autoptr(FtTripSet) utc = ft_trips_parse_mds (doc, strlen (doc), "t.json", &error);
  ck_assert_int_eq (utc->trips[0].start, 1704096000000);
  ck_assert_str_eq (utc->time_zone, "UTC");
  /* local <-> UTC round trip across the DST change */
  g_autoptr(GTimeZone) tz = g_time_zone_new_identifier ("Europe/Berlin");
  for (FtTime u = 1711846800000 - 3 * FT_HOUR; u < 1711846800000 + 3 * FT_HOUR; u += 15 * FT_MINUTE)
    ck_assert_int_eq (ft_trips_local_to_utc (tz, ft_trips_utc_to_local (tz, u)), u);
  opt.time_zone = "Nowhere/Special";
  g_autoptr(FtTripSet) none = ft_trips_parse_mds_with (doc, strlen (doc), "t.json", &opt, &error);
  ck_assert (none == NULL && strstr (error->message, "Nowhere/Special"));
}
END_TEST

static Suite *
trips_suite (void)
{
  Suite *s = suite_create ("trips");
  TCase *tc = tcase_create ("import");
  tcase_set_timeout (tc, 120);
  tcase_add_test (tc, test_citibike_real_file);
  tcase_add_test (tc, test_v3_layout);
  tcase_add_test (tc, test_malformed_csv);
  tcase_add_test (tc, test_mds_trips);
  tcase_add_test (tc, test_rounded_same_slot);
  tcase_add_test (tc, test_format_detection);
  tcase_add_test (tc, test_mapping_file);
  tcase_add_test (tc, test_mds_time_zone);
  suite_add_tcase (s, tc);
  TCase *fit = tcase_create ("fit");
  tcase_set_timeout (fit, 120);
  tcase_add_test (fit, test_fit_and_trace);
  tcase_add_test (fit, test_transfer);
  suite_add_tcase (s, fit);
  return s;
}

int
main (void)
{
  SRunner *sr = srunner_create (trips_suite ());
  srunner_run_all (sr, CK_NORMAL);
  int failed = srunner_ntests_failed (sr);
  srunner_free (sr);
  return failed == 0 ? 0 : 1;
}
