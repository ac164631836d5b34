/* ft-region.c — the region launch playbook (see ft-region.h): inputs
 * checked and imported, the city pack built with its geofences, demand,
 * depots and tiles, per-region demand models, the snapshot's fleet, a
 * launch scenario and the checklist, all written into one folder that is
 * moved into place when complete.
 */
#include "ft-config.h"
#include "ft-region.h"

#include <errno.h>
#include <glib/gstdio.h>
#include <json-glib/json-glib.h>
#include <math.h>
#include <string.h>
#include "ft-demand-fit.h"
#include "ft-file.h"
#include "ft-gbfs.h"
#include "ft-tiles.h"

G_DEFINE_QUARK (ft-region-error-quark, ft_region_error)

/* ---- time zones by position ---------------------------------------------
 * A small table, not a gazetteer: boxes around the cities we have data
 * for and the countries around them, first match wins. Anything else
 * needs --tz. */
static const struct {
  double min_lat, min_lon, max_lat, max_lon;
  const char *zone;
} zone_boxes[] = {
  { 43.72, 7.40, 43.76, 7.44, "Europe/Monaco" },
  { 41.3, -5.2, 51.1, 9.6, "Europe/Paris" },
  { 59.7, 19.0, 70.1, 31.6, "Europe/Helsinki" },
  { 47.2, 5.8, 55.1, 15.1, "Europe/Berlin" },
  { 50.7, 3.3, 53.6, 7.3, "Europe/Amsterdam" },
  { 49.9, -8.7, 60.9, 1.8, "Europe/London" },
  { 36.0, 6.6, 47.1, 18.6, "Europe/Rome" },
  { 35.9, -9.4, 43.8, 3.4, "Europe/Madrid" },
  { 55.3, 10.9, 69.1, 24.2, "Europe/Stockholm" },
  { 38.0, -81.0, 45.1, -66.9, "America/New_York" },
  { 37.9, -86.0, 38.4, -85.4, "America/Kentucky/Louisville" },
  { 41.6, -88.0, 42.1, -87.5, "America/Chicago" },
  { 29.0, -98.3, 31.0, -97.0, "America/Chicago" },
  { 32.5, -124.5, 42.0, -114.1, "America/Los_Angeles" },
  { 8.0, 68.0, 37.1, 97.4, "Asia/Kolkata" },
};

const char *
ft_region_time_zone_at (FtLatLon p)
{
  for (guint i = 0; i < G_N_ELEMENTS (zone_boxes); i++)
    if (p.lat >= zone_boxes[i].min_lat && p.lat <= zone_boxes[i].max_lat
        && p.lon >= zone_boxes[i].min_lon && p.lon <= zone_boxes[i].max_lon)
      return zone_boxes[i].zone;
  return NULL;
}

const char *
ft_region_verdict_name (FtRegionVerdict v)
{
  static const char *names[] = { "PASS", "WARN", "FAIL" };
  return v <= FT_REGION_FAIL ? names[v] : "?";
}

void
ft_region_inputs_init (FtRegionInputs *in)
{
  memset (in, 0, sizeof *in);
  in->max_outside_m = 2000;
  in->tiles_zmax = 15;
  in->sweep_points = 4;
  in->target_served = 0.85;
}

static void
check_clear (gpointer p)
{
  FtRegionCheck *c = p;
  g_free (c->name);
  g_free (c->reason);
}

void
ft_region_report_free (FtRegionReport *r)
{
  if (r == NULL)
    return;
  g_free (r->name);
  g_free (r->time_zone);
  g_free (r->time_zone_source);
  if (r->checks)
    g_array_unref (r->checks);
  g_free (r->sweep);
  g_free (r->depots);
  g_free (r->depot_share);
  g_free (r->out_dir);
  g_free (r);
}

void
ft_region_report_counts (const FtRegionReport *r, guint counts[3])
{
  counts[0] = counts[1] = counts[2] = 0;
  for (guint i = 0; i < r->checks->len; i++)
    counts[g_array_index (r->checks, FtRegionCheck, i).verdict]++;
}

G_GNUC_PRINTF (4, 5) static void
add_check (FtRegionReport *r, const char *name, FtRegionVerdict v, const char *fmt, ...)
{
  va_list ap;
  FtRegionCheck c = { g_strdup (name), v, NULL };
  va_start (ap, fmt);
  c.reason = g_strdup_vprintf (fmt, ap);
  va_end (ap);
  g_array_append_val (r->checks, c);
}

/* ---- pieces ------------------------------------------------------------- */

double
ft_region_street_coverage (const FtCity *city, double within_m, guint n_max)
{
  g_return_val_if_fail (city != NULL, 0);
  if (city->operating_area == NULL || city->graph.n_nodes == 0)
    return 0;
  const FtBBox *bb = &city->operating_area->bbox;
  double w = ft_distance_m ((FtLatLon) { bb->min_lat, bb->min_lon }, (FtLatLon) { bb->min_lat, bb->max_lon });
  double h = ft_distance_m ((FtLatLon) { bb->min_lat, bb->min_lon }, (FtLatLon) { bb->max_lat, bb->min_lon });
  double step = MAX (20.0, sqrt (MAX (w * h, 1.0) / MAX (n_max, 1u)));
  guint nx = MAX (1u, (guint) (w / step)), ny = MAX (1u, (guint) (h / step));
  guint inside = 0, near = 0;
  for (guint j = 0; j < ny; j++)
    for (guint i = 0; i < nx; i++)
      {
        FtLatLon p = { bb->min_lat + (bb->max_lat - bb->min_lat) * (j + 0.5) / ny,
                       bb->min_lon + (bb->max_lon - bb->min_lon) * (i + 0.5) / nx };
        if (!ft_multipolygon_contains (city->operating_area, p))
          continue;
        inside++;
        guint n = ft_city_nearest_node (city, p);
        near += ft_distance_m (p, city->graph.nodes[n]) <= within_m;
      }
  return inside ? (double) near / inside : 0;
}

double
ft_region_k_medoids (const FtLatLon *pts, const double *weight, guint n, guint k, guint *medoids)
{
  g_return_val_if_fail (pts != NULL && medoids != NULL && k >= 1 && k <= n, 0);
  /* start: the heaviest point, then the point adding most weighted
   * distance (deterministic, no random state) */
  guint first = 0;
  for (guint i = 1; i < n; i++)
    if ((weight ? weight[i] : 1) > (weight ? weight[first] : 1))
      first = i;
  medoids[0] = first;
  g_autofree double *best = g_new (double, n);
  for (guint i = 0; i < n; i++)
    best[i] = ft_distance_m (pts[i], pts[first]);
  for (guint m = 1; m < k; m++)
    {
      guint pick = 0;
      double pv = -1;
      for (guint i = 0; i < n; i++)
        {
          double v = (weight ? weight[i] : 1) * best[i];
          if (v > pv)
            pv = v, pick = i;
        }
      medoids[m] = pick;
      for (guint i = 0; i < n; i++)
        best[i] = MIN (best[i], ft_distance_m (pts[i], pts[pick]));
    }
  /* PAM swaps: replace a medoid by a point while the cost falls */
#define COST(out) do { out = 0; for (guint i_ = 0; i_ < n; i_++) { double d_ = G_MAXDOUBLE; \
    for (guint m_ = 0; m_ < k; m_++) d_ = MIN (d_, ft_distance_m (pts[i_], pts[medoids[m_]])); \
    out += (weight ? weight[i_] : 1) * d_; } } while (0)
  double cost;
  COST (cost);
  for (guint iter = 0; iter < 20; iter++)
    {
      gboolean improved = FALSE;
      for (guint m = 0; m < k; m++)
        for (guint c = 0; c < n; c++)
          {
            gboolean is_medoid = FALSE;
            for (guint q = 0; q < k; q++)
              is_medoid |= medoids[q] == c;
            if (is_medoid)
              continue;
            guint old = medoids[m];
            medoids[m] = c;
            double cc;
            COST (cc);
            if (cc < cost - 1e-9)
              cost = cc, improved = TRUE;
            else
              medoids[m] = old;
          }
      if (!improved)
        break;
    }
#undef COST
  return cost;
}

gboolean
ft_region_dir_is_own (const char *dir)
{
  g_autofree char *c = g_build_filename (dir, "checklist.txt", NULL);
  g_autofree char *s = g_build_filename (dir, "launch.scenario", NULL);
  return ft_output_dir_is_marked (dir) && g_file_test (c, G_FILE_TEST_IS_REGULAR)
         && g_file_test (s, G_FILE_TEST_IS_REGULAR);
}

/* ---- the playbook -------------------------------------------------------- */

typedef struct {
  const FtRegionInputs *in;
  FtRegionProgressFunc  progress;
  gpointer              user_data;
  FtRegionReport       *r;
  const char           *tmp;          /* the folder being written */
  FtCity               *city;
  FtTripSet            *trips;
  FtGbfsFeed           *gbfs;
  guint                 kept;          /* snapshot vehicles kept */
} Run;

static void
step (Run *run, const char *fmt, ...)
{
  if (run->progress == NULL)
    return;
  va_list ap;
  va_start (ap, fmt);
  g_autofree char *s = g_strdup_vprintf (fmt, ap);
  va_end (ap);
  run->progress (s, run->user_data);
}

static gboolean
write_text (const char *dir, const char *leaf, const char *text, GError **error)
{
  g_autofree char *p = g_build_filename (dir, leaf, NULL);
  return g_file_set_contents (p, text, -1, error);
}

static void
city_fail (GError **error, GError *e, const char *what)
{
  g_set_error (error, FT_REGION_ERROR, FT_REGION_ERROR_INPUT, "%s: %s", what, e ? e->message : "?");
}

/* The time zone: the option, else the table by the extract's centre. */
static gboolean
pick_time_zone (Run *run, GError **error)
{
  FtRegionReport *r = run->r;
  if (run->in->time_zone)
    {
      g_autoptr(GTimeZone) tz = g_time_zone_new_identifier (run->in->time_zone);
      if (tz == NULL)
        {
          g_set_error (error, FT_REGION_ERROR, FT_REGION_ERROR_TIME_ZONE,
                       "--tz: '%s' is not a known IANA time zone", run->in->time_zone);
          return FALSE;
        }
      r->time_zone = g_strdup (run->in->time_zone);
      r->time_zone_source = g_strdup ("option");
      add_check (r, "time zone", FT_REGION_PASS, "%s, as given", r->time_zone);
      return TRUE;
    }
  const char *z = ft_region_time_zone_at (run->city->center);
  if (z == NULL)
    {
      g_set_error (error, FT_REGION_ERROR, FT_REGION_ERROR_TIME_ZONE,
                   "%s: no time zone is known for the extract's centre %.4f, %.4f (the built-in "
                   "table covers a few regions only); give one with --tz ZONE",
                   run->in->osm_path, run->city->center.lat, run->city->center.lon);
      return FALSE;
    }
  r->time_zone = g_strdup (z);
  r->time_zone_source = g_strdup ("table");
  add_check (r, "time zone", FT_REGION_PASS,
             "%s, derived from the extract's centre %.4f, %.4f by the built-in table of zones by "
             "bounding box (give --tz to override)", z, run->city->center.lat, run->city->center.lon);
  return TRUE;
}

static gboolean
load_policy (Run *run, GError **error)
{
  FtRegionReport *r = run->r;
  FtGeofences *g = NULL;
  const char *from = NULL;
  if (run->in->policy_path)
    {
      g_autoptr(GError) e = NULL;
      g = ft_geofences_load_policy (run->in->policy_path, &e);
      if (g == NULL)
        {
          city_fail (error, e, "policy geometry");
          return FALSE;
        }
      from = run->in->policy_path;
    }
  else if (run->gbfs && run->gbfs->geofences)
    {
      g = ft_gbfs_dup_geofences (run->gbfs);
      from = "the GBFS feed's geofencing_zones";
    }
  if (g == NULL)
    {
      add_check (r, "policy geometry", FT_REGION_WARN,
                 "none given: the operating area is the extract's own (its streets' extent); "
                 "no no-ride, slow or no-parking zones");
      return TRUE;
    }
  guint n = ft_geofences_n_zones (g), inside = 0, slow = 0, no_park = 0, no_ride = 0;
  for (guint i = 0; i < n; i++)
    {
      const FtGeofenceZone *z = ft_geofences_get (g, i);
      inside += ft_bbox_contains (&run->city->bbox, ft_multipolygon_centroid (z->area));
      slow += z->rules.maximum_speed_kph > 0;
      no_park += !z->rules.ride_end_allowed;
      no_ride += !z->rules.ride_through_allowed;
    }
  if (n == 0 || inside == 0)
    {
      /* another city's rules (its global rules forbid riding outside its
       * zones) would stop every ride here: not applied */
      add_check (r, "policy geometry", FT_REGION_FAIL,
                 "%s: %u zones, none inside the extract's area: not applied (the extract's own "
                 "operating area is used); give this city's policy", from, n);
      ft_geofences_free (g);
      return TRUE;
    }
  if (run->city->geofences)
    ft_geofences_free (run->city->geofences);
  run->city->geofences = g;
  add_check (r, "policy geometry", inside == n ? FT_REGION_PASS : FT_REGION_WARN,
             "%s: %u zones (%u inside the extract's area; %u no-parking, %u no-ride, %u slow)",
             from, n, inside, no_park, no_ride, slow);
  return TRUE;
}

static gboolean
load_trips (Run *run, GError **error)
{
  FtRegionReport *r = run->r;
  if (run->in->trips_path == NULL)
    {
      add_check (r, "trip data", FT_REGION_WARN,
                 "none given: demand is the extract's own estimate from land use");
      return TRUE;
    }
  g_autoptr(FtTripsMapping) map = NULL;
  g_autoptr(GError) e = NULL;
  if (run->in->trips_mapping && !(map = ft_trips_mapping_load (run->in->trips_mapping, &e)))
    {
      city_fail (error, e, "--mapping");
      return FALSE;
    }
  FtTripsOptions opt = { .mapping = map, .time_zone = r->time_zone };
  run->trips = ft_trips_load_with (run->in->trips_path, &opt, &e);
  if (run->trips == NULL)
    {
      city_fail (error, e, "trip data");
      return FALSE;
    }
  FtTripSet *t = run->trips;
  GString *drops = g_string_new (NULL);
  for (int d = 0; d < FT_N_TRIP_DROPS; d++)
    if (t->dropped[d])
      g_string_append_printf (drops, "%s%s %u", drops->len ? ", " : "", ft_trip_drop_name (d), t->dropped[d]);
  double dropped = t->n_rows ? (double) ft_trip_set_n_dropped (t) / t->n_rows : 0;
  add_check (r, "trip data", dropped <= 0.2 ? FT_REGION_PASS : FT_REGION_WARN,
             "%s: %s layout, %u rows, %u trips kept, %.1f %% dropped (%s)%s",
             run->in->trips_path, t->layout_name ? t->layout_name : ft_trips_layout_name (t->layout),
             t->n_rows, t->n_trips, 100 * dropped, drops->len ? drops->str : "none",
             t->n_same_slot ? "; rounded times: trips within one slot kept" : "");
  g_string_free (drops, TRUE);
  add_check (r, "trip times", FT_REGION_PASS, "%s",
             t->time_zone == NULL ? "local wall time as the file gives it"
             : g_strcmp0 (t->time_zone, r->time_zone) == 0
               ? "converted to the region's local time" : "kept as given (no zone to convert to)");
  return TRUE;
}

static gboolean
fit_demand (Run *run, GError **error)
{
  FtRegionReport *r = run->r;
  FtCity *city = run->city;
  if (run->trips == NULL)
    {
      r->requests_per_day = ft_demand_profile_per_day (&city->demand);
      return TRUE;
    }
  guint in_area = 0;
  for (guint i = 0; i < run->trips->n_trips; i++)
    in_area += ft_city_zone_at (city, run->trips->trips[i].from) >= 0;
  double share = (double) in_area / run->trips->n_trips;
  g_autoptr(GError) e = NULL;
  if (share >= 0.5)
    {
      FtDemandFitReport rep;
      if (!ft_demand_fit (city, run->trips, &rep, &e))
        {
          city_fail (error, e, "demand fit");
          return FALSE;
        }
      add_check (r, "trips inside the extract", share >= 0.8 ? FT_REGION_PASS : FT_REGION_WARN,
                 "%.0f %% of trip starts lie in the extract's zones: demand fitted in place "
                 "(%.0f requests a day over %.0f days)", 100 * share, rep.requests_per_day, rep.days_covered);
      if (run->in->requests_per_day > 0)
        {
          double scale = run->in->requests_per_day / MAX (ft_demand_profile_per_day (&city->demand), 1e-9);
          for (guint i = 0; i < city->demand.n_zones * 168; i++)
            city->demand.rate[i] *= scale;
        }
    }
  else
    {
      /* the trips are elsewhere: their temporal shape and trip lengths are
       * moved onto this city's zones */
      g_autoptr(FtCity) src = ft_city_from_trips (run->trips, "trip source", 400, &e);
      if (src == NULL || !ft_demand_fit (src, run->trips, NULL, &e)
          || !ft_demand_transfer (src, run->trips, city, run->in->requests_per_day, &e))
        {
          city_fail (error, e, "demand transfer");
          return FALSE;
        }
      r->demand_moved = TRUE;
      add_check (r, "trips inside the extract", FT_REGION_FAIL,
                 "%.0f %% of trip starts lie in the extract's zones; the trips' centre is %.0f km "
                 "from the extract's: their pattern (hour of week, trip lengths) was moved onto "
                 "this city, not fitted in place. Use trips from this city before launch.",
                 100 * share, ft_distance_m (src->center, city->center) / 1000.0);
    }
  r->requests_per_day = ft_demand_profile_per_day (&city->demand);
  for (guint z = 0; z < city->demand.n_zones; z++)
    for (guint h = 0; h < 168; h++)
      r->hourly[h % 24] += city->demand.rate[z * 168 + h] / 7.0;
  return TRUE;
}

/* Demand models for this region: the mean and the Poisson GLM fitted on
 * the trips (on this city's zones when the trips are here, else on the
 * trips' own zones), scored on their last week, saved as blobs. */
static gboolean
fit_models (Run *run, GError **error)
{
  FtRegionReport *r = run->r;
  if (run->trips == NULL)
    return TRUE;
  g_autoptr(GError) e = NULL;
  g_autoptr(FtCity) own = NULL;
  const FtCity *zc = run->city;
  if (r->demand_moved)
    {
      own = ft_city_from_trips (run->trips, "trip zones", 400, &e);
      if (own == NULL)
        {
          city_fail (error, e, "models");
          return FALSE;
        }
      zc = own;
    }
  guint n = run->trips->n_trips;
  g_autofree FtTime *t = g_new (FtTime, MAX (n, 1));
  g_autofree int *zone = g_new (int, MAX (n, 1));
  g_autofree const char **ids = g_new0 (const char *, zc->n_zones + 1);
  for (guint z = 0; z < zc->n_zones; z++)
    ids[z] = zc->zones[z].id;
  for (guint i = 0; i < n; i++)
    {
      t[i] = run->trips->trips[i].start;
      zone[i] = ft_city_zone_at (zc, run->trips->trips[i].from);
    }
  g_autoptr(FtDemandSeries) s = ft_demand_series_from_events (zc->n_zones, ids, t, zone, n, &e);
  if (s == NULL || s->n_hours < 3 * 168)
    {
      add_check (r, "demand models", FT_REGION_WARN, "%s",
                 s == NULL ? e->message : "under three weeks of trips: no models fitted (need two to train, one to test)");
      return TRUE;
    }
  r->model_zones = s->n_zones;
  FtForecastParams params;
  ft_forecast_params_init (&params);
  FtBacktestSpec spec = { .train_hours = s->n_hours - 168, .test_hours = 168, .horizon = 24,
                          .origin_every = 24 };
  FtForecastKind kinds[2] = { FT_FORECAST_MEAN, FT_FORECAST_GLM };
  if (!ft_forecast_backtest (s, &spec, &params, kinds, 2, r->scores, NULL, NULL, NULL, &e))
    {
      add_check (r, "demand models", FT_REGION_WARN, "backtest failed: %s", e->message);
      return TRUE;
    }
  r->have_scores = TRUE;
  g_autofree char *mdir = g_build_filename (run->tmp, "models", NULL);
  g_mkdir (mdir, 0755);
  for (guint k = 0; k < 2; k++)
    {
      g_autoptr(FtForecaster) f = ft_forecaster_new (kinds[k], &params);
      g_autoptr(GError) fe = NULL;
      if (!ft_forecaster_fit (f, s, 0, s->n_hours, &fe))
        {
          add_check (r, "demand models", FT_REGION_WARN, "%s fit failed: %s",
                     ft_forecast_kind_name (kinds[k]), fe->message);
          return TRUE;
        }
      g_autoptr(GBytes) blob = ft_forecaster_save (f, &fe);
      g_autofree char *leaf = g_strdup_printf ("demand-%s.bin", ft_forecast_kind_name (kinds[k]));
      g_autofree char *p = g_build_filename (mdir, leaf, NULL);
      gsize len = 0;
      const char *data = blob ? g_bytes_get_data (blob, &len) : NULL;
      if (blob == NULL || !g_file_set_contents (p, data, (gssize) len, &fe))
        {
          g_set_error (error, FT_REGION_ERROR, FT_REGION_ERROR_OUTPUT, "models/%s: %s", leaf,
                       fe ? fe->message : "?");
          return FALSE;
        }
    }
  gboolean better = r->scores[1].deviance < r->scores[0].deviance;
  add_check (r, "demand models", better ? FT_REGION_PASS : FT_REGION_WARN,
             "mean and Poisson GLM fitted on %u %s zones; last week's 24-h forecasts: Poisson "
             "deviance %.3f (mean) vs %.3f (GLM), MAE %.3f vs %.3f trips per zone-hour%s",
             s->n_zones, r->demand_moved ? "trip-data" : "region", r->scores[0].deviance,
             r->scores[1].deviance, r->scores[0].mae, r->scores[1].mae,
             better ? "" : ": the GLM does not beat the mean");
  return TRUE;
}

static gboolean
load_snapshot (Run *run, GError **error)
{
  FtRegionReport *r = run->r;
  if (run->in->gbfs_path == NULL)
    {
      add_check (r, "fleet snapshot", FT_REGION_WARN, "none given: the fleet starts at the recommended size");
      return TRUE;
    }
  g_autoptr(GError) e = NULL;
  run->gbfs = ft_gbfs_load (run->in->gbfs_path, &e);
  if (run->gbfs == NULL)
    {
      city_fail (error, e, "GBFS snapshot");
      return FALSE;
    }
  return TRUE;
}

static gboolean
place_snapshot (Run *run, GError **error)
{
  FtRegionReport *r = run->r;
  if (run->gbfs == NULL)
    return TRUE;
  FtGbfsFeed *f = run->gbfs;
  g_autoptr(GString) rep = g_string_new (NULL);
  guint out = ft_gbfs_leave_out_far (f, run->city->operating_area, run->in->max_outside_m, rep);
  r->snapshot_vehicles = f->n_vehicles;
  r->snapshot_left_out = out;
  run->kept = f->n_vehicles - out;
  double nearest = G_MAXDOUBLE;
  for (guint i = 0; i < f->n_vehicles; i++)
    nearest = MIN (nearest, f->vehicles[i].outside_m);
  g_autofree char *fdir = g_build_filename (run->tmp, "fleet", NULL);
  g_mkdir (fdir, 0755);
  g_autofree char *json = ft_gbfs_fleet_to_json (f);
  gboolean v2 = g_str_has_prefix (f->version, "2.");
  GError *we = NULL;
  if (!write_text (fdir, v2 ? "free_bike_status.json" : "vehicle_status.json", json, &we)
      || !write_text (fdir, "left-out.txt", rep->len ? rep->str : "none\n", &we))
    {
      g_propagate_error (error, we);
      return FALSE;
    }
  if (run->kept == 0)
    add_check (r, "fleet snapshot", FT_REGION_FAIL,
               "%s (GBFS %s): all %u vehicles are more than %.0f m outside the operating area "
               "(the nearest %.1f km): left out, listed in fleet/left-out.txt; the snapshot is of "
               "another city", f->vehicles_file, f->version, f->n_vehicles, run->in->max_outside_m,
               nearest / 1000.0);
  else
    add_check (r, "fleet snapshot", out ? FT_REGION_WARN : FT_REGION_PASS,
               "%s (GBFS %s): %u vehicles, %u kept, %u more than %.0f m outside the operating "
               "area left out (fleet/left-out.txt); operator ids and plan ids kept",
               f->vehicles_file, f->version, f->n_vehicles, run->kept, out, run->in->max_outside_m);
  return TRUE;
}

/* Depot sites: weighted k-medoids over the zones' centroids, weighted by
 * their daily demand; the pack's depots move there. */
static void
place_depots (Run *run, guint fleet)
{
  FtRegionReport *r = run->r;
  FtCity *c = run->city;
  guint nz = c->n_zones;
  if (nz == 0)
    return;
  guint k = CLAMP ((fleet + 149) / 150, 1u, MIN (4u, nz));
  g_autofree FtLatLon *pts = g_new (FtLatLon, nz);
  g_autofree double *w = g_new0 (double, nz);
  double total = 0;
  for (guint z = 0; z < nz; z++)
    {
      pts[z] = c->zones[z].centroid;
      for (guint h = 0; h < 168 && c->demand.rate; h++)
        w[z] += c->demand.rate[z * 168 + h];
      total += w[z];
    }
  g_autofree guint *med = g_new (guint, k);
  ft_region_k_medoids (pts, total > 0 ? w : NULL, nz, k, med);
  r->n_depots = k;
  r->depots = g_new (FtLatLon, k);
  r->depot_share = g_new0 (double, k);
  for (guint m = 0; m < k; m++)
    r->depots[m] = pts[med[m]];
  for (guint z = 0; z < nz; z++)
    {
      guint best = 0;
      for (guint m = 1; m < k; m++)
        if (ft_distance_m (pts[z], r->depots[m]) < ft_distance_m (pts[z], r->depots[best]))
          best = m;
      r->depot_share[best] += total > 0 ? w[z] / total : 1.0 / nz;
    }
  /* the pack's depots become the suggested sites (chargers and stock of the first) */
  guint chargers = c->n_depots ? c->depots[0].chargers : 20;
  guint stock = c->n_depots ? c->depots[0].pack_stock : 20;
  for (guint d = 0; d < c->n_depots; d++)
    {
      g_free (c->depots[d].id);
      g_free (c->depots[d].name);
    }
  g_free (c->depots);
  c->depots = g_new0 (FtDepot, k);
  c->n_depots = k;
  for (guint m = 0; m < k; m++)
    {
      c->depots[m].id = g_strdup_printf ("depot-%u", m + 1);
      c->depots[m].name = g_strdup_printf ("Suggested depot %u", m + 1);
      c->depots[m].pos = r->depots[m];
      c->depots[m].chargers = chargers;
      c->depots[m].pack_stock = stock;
    }
}

static char *
scenario_text (Run *run, guint vehicles, guint staff, gboolean with_snapshot)
{
  FtRegionReport *r = run->r;
  GString *s = g_string_new (NULL);
  g_string_append_printf (s, "# %s launch scenario, written by `fleet-twin-cli region launch`.\n"
                          "# City pack built from %s", r->name, run->in->osm_path);
  if (run->in->trips_path)
    g_string_append_printf (s, " and %s", run->in->trips_path);
  g_string_append_printf (s, "; time zone %s.\n[scenario]\nname=%s launch\ncity=city\ndays=1\nseed=1\n\n"
                          "[fleet]\n# the recommended size from the sweep\nscooters=%u\nbikes=0\nmopeds=0\n",
                          r->time_zone, r->name, vehicles);
  if (with_snapshot)
    g_string_append_printf (s, "# the operator's vehicles from the snapshot (%u kept) replace the "
                            "counts above\ngbfs=fleet/%s\n", run->kept,
                            g_str_has_prefix (run->gbfs->version, "2.") ? "free_bike_status.json"
                                                                         : "vehicle_status.json");
  g_string_append_printf (s, "\n[staff]\nfield_staff=%u\n\n[demand]\nrouting=%s\n", staff,
                          run->city->graph.n_nodes > 0 ? "street" : "straight");
  return g_string_free (s, FALSE);
}

static gboolean
sweep (Run *run, FtRegionSweepFunc fn, gpointer data, GError **error)
{
  FtRegionReport *r = run->r;
  guint np = run->in->sweep_points;
  /* around one vehicle per five requests a day */
  guint base = MAX (10u, (guint) lround (r->requests_per_day / 5.0));
  static const double factors[] = { 0.5, 0.75, 1.0, 1.5, 2.0, 3.0 };
  np = MIN (np, G_N_ELEMENTS (factors));
  if (fn == NULL || np == 0)
    {
      r->recommended = -1;
      r->trips_per_vehicle_day = r->requests_per_day / base;
      add_check (r, "fleet sweep", FT_REGION_WARN, "not run: %u vehicles assumed (5 requests each a day)", base);
      return TRUE;
    }
  r->sweep = g_new0 (FtRegionSweepPoint, np);
  g_autofree char *sc_path = g_build_filename (run->tmp, "sweep.scenario", NULL);
  for (guint i = 0; i < np; i++)
    {
      guint v = MAX (5u, (guint) lround (base * factors[i]));
      guint staff = MAX (1u, (v + 59) / 60);
      g_autofree char *text = scenario_text (run, v, staff, FALSE);
      GError *we = NULL;
      if (!g_file_set_contents (sc_path, text, -1, &we))
        {
          g_propagate_error (error, we);
          return FALSE;
        }
      step (run, "sweep: %u vehicles, %u staff", v, staff);
      FtRegionSweepPoint *p = &r->sweep[r->n_sweep];
      if (!fn (sc_path, v, staff, p, data, error))
        {
          g_prefix_error (error, "fleet sweep at %u vehicles: ", v);
          return FALSE;
        }
      p->vehicles = v;
      p->staff = staff;
      r->n_sweep++;
    }
  g_unlink (sc_path);
  r->recommended = -1;
  for (guint i = 0; i < r->n_sweep && r->recommended < 0; i++)
    if (r->sweep[i].served_share >= run->in->target_served)
      r->recommended = (gint) i;
  gboolean reached = r->recommended >= 0;
  if (!reached)
    r->recommended = (gint) r->n_sweep - 1;
  const FtRegionSweepPoint *p = &r->sweep[r->recommended];
  r->trips_per_vehicle_day = p->trips_per_vehicle_day;
  add_check (r, "fleet sweep", reached ? FT_REGION_PASS : FT_REGION_WARN,
             "%u fleet sizes simulated for a day; %u vehicles and %u staff serve %.0f %% of %.0f "
             "requests%s", r->n_sweep, p->vehicles, p->staff, 100 * p->served_share,
             p->requested_per_day, reached ? "" : " (below the target: the largest size tried)");
  return TRUE;
}

FtRegionReport *
ft_region_launch (const FtRegionInputs *in, FtRegionSweepFunc sweep_fn, FtRegionProgressFunc progress,
                  gpointer user_data, GError **error)
{
  g_return_val_if_fail (in != NULL && in->osm_path != NULL && in->out_dir != NULL, NULL);
  g_autoptr(FtRegionReport) r = g_new0 (FtRegionReport, 1);
  r->checks = g_array_new (FALSE, TRUE, sizeof (FtRegionCheck));
  g_array_set_clear_func (r->checks, check_clear);
  r->recommended = -1;
  if (in->name)
    r->name = g_strdup (in->name);
  else
    {
      r->name = g_path_get_basename (in->osm_path);
      char *dot = strchr (r->name, '.');
      if (dot && dot != r->name)
        *dot = '\0';
    }
  Run run = { .in = in, .progress = progress, .user_data = user_data, .r = r };
  g_autoptr(FtCity) city = NULL;
  g_autoptr(FtTripSet) trips = NULL;
  g_autoptr(FtGbfsFeed) gbfs = NULL;

  /* the snapshot and the policy are read before anything is built: bad
   * input is refused early */
  if (!load_snapshot (&run, error))
    return NULL;
  gbfs = run.gbfs;
  if (in->policy_path)
    {
      g_autoptr(GError) e = NULL;
      g_autoptr(FtGeofences) probe = ft_geofences_load_policy (in->policy_path, &e);
      if (probe == NULL)
        {
          city_fail (error, e, "policy geometry");
          return NULL;
        }
    }

  g_autoptr(GError) oe = NULL;
  g_autoptr(FtOutput) out = ft_output_begin (in->out_dir, FT_OUTPUT_DIR, ft_region_dir_is_own, in->force, &oe);
  if (out == NULL)
    {
      g_set_error (error, FT_REGION_ERROR, FT_REGION_ERROR_OUTPUT, "%s", oe->message);
      return NULL;
    }
  run.tmp = ft_output_get_path (out);

  step (&run, "importing %s", in->osm_path);
  FtOsmStats st;
  g_autoptr(GError) ce = NULL;
  city = ft_city_import_osm_full (in->osm_path, r->name, FT_UTC_OFFSET_ESTIMATE, NULL, NULL, &st, &ce);
  if (city == NULL)
    {
      city_fail (error, ce, "OSM extract");
      return NULL;
    }
  run.city = city;
  r->n_nodes = city->graph.n_nodes;
  r->n_zones = city->n_zones;
  add_check (r, "OSM extract", st.largest_share >= 0.8 ? FT_REGION_PASS : FT_REGION_WARN,
             "%s: %u ways (%u streets), %u street nodes kept; the largest connected piece holds "
             "%.0f %% of them; %u zones", in->osm_path, st.osm_ways, st.road_ways, city->graph.n_nodes,
             100 * st.largest_share, city->n_zones);
  if (!pick_time_zone (&run, error))
    return NULL;
  {
    g_autoptr(GTimeZone) tz = g_time_zone_new_identifier (r->time_zone);
    int iv = g_time_zone_find_interval (tz, G_TIME_TYPE_UNIVERSAL, 1704067200);   /* 2024-01-01 */
    city->utc_offset_min = iv >= 0 ? g_time_zone_get_offset (tz, iv) / 60 : 0;
  }
  step (&run, "policy geometry");
  if (!load_policy (&run, error))
    return NULL;
  if (city->operating_area)
    r->area_km2 = ft_multipolygon_area_m2 (city->operating_area) / 1e6;
  step (&run, "trips");
  if (!load_trips (&run, error))
    return NULL;
  trips = run.trips;
  if (!fit_demand (&run, error))
    return NULL;
  step (&run, "street coverage");
  r->coverage = ft_region_street_coverage (city, 150, 4000);
  add_check (r, "operating-area coverage",
             r->coverage >= 0.9 ? FT_REGION_PASS : r->coverage >= 0.7 ? FT_REGION_WARN : FT_REGION_FAIL,
             "%.1f %% of the operating area (%.2f km²) lies within 150 m of the street graph",
             100 * r->coverage, r->area_km2);
  step (&run, "fleet snapshot");
  if (!place_snapshot (&run, error))
    return NULL;
  step (&run, "demand models");
  if (!fit_models (&run, error))
    return NULL;

  /* the pack first (the sweep runs on it), depots placed for the base size */
  g_autofree char *cdir = g_build_filename (run.tmp, "city", NULL);
  guint base = MAX (10u, (guint) lround (r->requests_per_day / 5.0));
  place_depots (&run, base);
  if (g_mkdir (cdir, 0755) != 0 || !ft_city_write_pack (city, cdir, &ce))
    {
      g_set_error (error, FT_REGION_ERROR, FT_REGION_ERROR_OUTPUT, "city pack: %s",
                   ce ? ce->message : g_strerror (errno));
      return NULL;
    }
  if (!sweep (&run, sweep_fn, user_data, error))
    return NULL;
  guint fleet = r->recommended >= 0 ? r->sweep[r->recommended].vehicles : base;
  guint staff = r->recommended >= 0 ? r->sweep[r->recommended].staff : MAX (1u, (base + 59) / 60);
  if (in->tiles_zmax > 0)
    {
      step (&run, "tiles to zoom %d", in->tiles_zmax);
      g_autofree char *tp = g_build_filename (cdir, "tiles.mbtiles", NULL);
      if (!ft_tiles_bake (city, tp, MIN (12, in->tiles_zmax), CLAMP (in->tiles_zmax, 12, 17), TRUE,
                          NULL, NULL, &ce))
        {
          g_set_error (error, FT_REGION_ERROR, FT_REGION_ERROR_OUTPUT, "tiles: %s", ce->message);
          return NULL;
        }
    }
  /* geofences as GBFS data */
  if (city->geofences)
    {
      g_autoptr(JsonNode) data = ft_geofences_to_gbfs_data (city->geofences);
      g_autofree char *text = json_to_string (data, TRUE);
      GError *we = NULL;
      if (!write_text (run.tmp, "geofences.json", text, &we))
        {
          g_propagate_error (error, we);
          return NULL;
        }
    }
  {
    g_autofree char *text = scenario_text (&run, fleet, staff, run.kept > 0);
    GError *we = NULL;
    if (!write_text (run.tmp, "launch.scenario", text, &we))
      {
        g_propagate_error (error, we);
        return NULL;
      }
  }
  r->out_dir = g_strdup (in->out_dir);
  g_autofree char *txt = ft_region_report_text (r);
  g_autofree char *pdf = g_build_filename (run.tmp, "checklist.pdf", NULL);
  GError *we = NULL;
  if (!write_text (run.tmp, "checklist.txt", txt, &we) || !ft_region_report_pdf (r, pdf, &we))
    {
      g_propagate_error (error, we);
      return NULL;
    }
  if (!ft_output_commit (g_steal_pointer (&out), &oe))
    {
      g_set_error (error, FT_REGION_ERROR, FT_REGION_ERROR_OUTPUT, "%s", oe->message);
      return NULL;
    }
  return g_steal_pointer (&r);
}
