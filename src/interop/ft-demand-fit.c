/* ft-demand-fit.c — fitting, transferring and tracing demand from trips.
 * The method is described in ft-demand-fit.h.
 */
#include "ft-config.h"
#include "ft-file.h"
#include "ft-demand-fit.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

G_DEFINE_QUARK (ft-demand-error-quark, ft_demand_error)

#define HOURS_PER_WEEK 168
#define N_BANDS 4
#define LEN_BIN_M 250.0
#define N_LEN_BINS 48          /* 0 … 12 km */

static int
band_of_hour (int hour)
{
  if (hour >= 6 && hour < 10)
    return 0;
  if (hour >= 10 && hour < 16)
    return 1;
  if (hour >= 16 && hour < 20)
    return 2;
  return 3;
}

/* Hour of week, Monday 00:00 = 0, for naive local ms since epoch. */
static int
hour_of_week (FtTime t)
{
  gint64 day = t >= 0 ? t / FT_DAY : (t - FT_DAY + 1) / FT_DAY;
  int wd = (int) (((day % 7) + 7 + 3) % 7);   /* 1970-01-01 was a Thursday */
  int hour = (int) ((t - day * FT_DAY) / FT_HOUR);
  return wd * 24 + hour;
}

/* ---- local projection and hexagons -------------------------------------- */

typedef struct {
  FtLatLon origin;
  double   m_per_deg_lat, m_per_deg_lon;
} Proj;

static Proj
proj_new (FtLatLon origin)
{
  Proj p = { origin, 110540.0, 111320.0 * cos (origin.lat * G_PI / 180.0) };
  return p;
}

static void
proj_fwd (const Proj *p, FtLatLon ll, double *x, double *y)
{
  *x = (ll.lon - p->origin.lon) * p->m_per_deg_lon;
  *y = (ll.lat - p->origin.lat) * p->m_per_deg_lat;
}

static FtLatLon
proj_inv (const Proj *p, double x, double y)
{
  return (FtLatLon) { p->origin.lat + y / p->m_per_deg_lat, p->origin.lon + x / p->m_per_deg_lon };
}

/* Pointy-top hexagons, axial coordinates. */
static void
hex_of_point (double x, double y, double s, int *q_out, int *r_out)
{
  double q = (sqrt (3.0) / 3.0 * x - y / 3.0) / s;
  double r = (2.0 / 3.0 * y) / s;
  double cx = q, cz = r, cy = -q - r;
  double rx = round (cx), ry = round (cy), rz = round (cz);
  double dx = fabs (rx - cx), dy = fabs (ry - cy), dz = fabs (rz - cz);
  if (dx > dy && dx > dz)
    rx = -ry - rz;
  else if (dy <= dz)
    rz = -rx - ry;
  *q_out = (int) rx;
  *r_out = (int) rz;
}

static void
hex_center (int q, int r, double s, double *x, double *y)
{
  *x = s * sqrt (3.0) * (q + r / 2.0);
  *y = s * 1.5 * r;
}

void
ft_city_add_hex_zones (FtCity *city, FtBBox bbox, double hex_m, const FtLatLon *keep_near,
                       guint n_keep)
{
  g_return_if_fail (city != NULL && hex_m > 10);
  FtLatLon c = { (bbox.min_lat + bbox.max_lat) / 2, (bbox.min_lon + bbox.max_lon) / 2 };
  Proj p = proj_new (c);
  double x0, y0, x1, y1;
  proj_fwd (&p, (FtLatLon) { bbox.min_lat, bbox.min_lon }, &x0, &y0);
  proj_fwd (&p, (FtLatLon) { bbox.max_lat, bbox.max_lon }, &x1, &y1);

  g_autoptr(GHashTable) keep = NULL;
  if (keep_near != NULL && n_keep > 0)
    {
      keep = g_hash_table_new (g_direct_hash, g_direct_equal);
      for (guint i = 0; i < n_keep; i++)
        {
          double x, y;
          int q, r;
          proj_fwd (&p, keep_near[i], &x, &y);
          hex_of_point (x, y, hex_m, &q, &r);
          g_hash_table_add (keep, GINT_TO_POINTER (((q + 30000) << 16) | (r + 30000)));
        }
    }

  int qa, ra, qb, rb;
  hex_of_point (x0, y0, hex_m, &qa, &ra);
  hex_of_point (x1, y1, hex_m, &qb, &rb);
  int rmin = MIN (ra, rb) - 1, rmax = MAX (ra, rb) + 1;
  GArray *zones = g_array_new (FALSE, TRUE, sizeof (FtZone));
  if (city->n_zones > 0)
    g_array_append_vals (zones, city->zones, city->n_zones);
  g_free (city->zones);
  guint serial = city->n_zones;
  for (int r = rmin; r <= rmax; r++)
    {
      /* q range covering x0..x1 on this row */
      int qlo = (int) floor ((x0 / (hex_m * sqrt (3.0))) - r / 2.0) - 1;
      int qhi = (int) ceil ((x1 / (hex_m * sqrt (3.0))) - r / 2.0) + 1;
      for (int q = qlo; q <= qhi; q++)
        {
          double cx, cy;
          hex_center (q, r, hex_m, &cx, &cy);
          if (keep != NULL)
            {
              if (!g_hash_table_contains (keep, GINT_TO_POINTER (((q + 30000) << 16) | (r + 30000))))
                continue;
            }
          else if (cx < x0 - hex_m || cx > x1 + hex_m || cy < y0 - hex_m || cy > y1 + hex_m)
            continue;
          FtLatLon ring[6];
          for (int k = 0; k < 6; k++)
            {
              double a = G_PI / 180.0 * (60.0 * k - 30.0);
              ring[k] = proj_inv (&p, cx + hex_m * cos (a), cy + hex_m * sin (a));
            }
          FtZone z = { 0 };
          z.id = g_strdup_printf ("hex-%u", serial);
          z.name = g_strdup_printf ("Hex %d,%d", q, r);
          z.kind = FT_ZONE_MIXED;
          z.area = ft_multipolygon_new ();
          ft_multipolygon_add_ring (z.area, ring, 6);
          z.centroid = proj_inv (&p, cx, cy);
          z.area_km2 = 1.5 * sqrt (3.0) * hex_m * hex_m / 1e6;
          z.pricing_multiplier = 1.0;
          g_array_append_val (zones, z);
          serial++;
        }
    }
  city->n_zones = zones->len;
  city->zones = (FtZone *) g_array_free (zones, FALSE);
}

static int
zone_of (const FtCity *city, FtLatLon pt)
{
  for (guint z = 0; z < city->n_zones; z++)
    {
      const FtMultiPolygon *mp = city->zones[z].area;
      if (mp != NULL && ft_bbox_contains (&mp->bbox, pt) && ft_multipolygon_contains (mp, pt))
        return (int) z;
    }
  return -1;
}

FtCity *
ft_city_from_trips (const FtTripSet *trips, const char *name, double hex_m, GError **error)
{
  g_return_val_if_fail (trips != NULL && name != NULL, NULL);
  if (trips->n_trips == 0)
    {
      g_set_error (error, FT_DEMAND_ERROR, FT_DEMAND_ERROR_NO_TRIPS, "no trips to build a city from");
      return NULL;
    }
  FtBBox bb;
  ft_bbox_init_empty (&bb);
  g_autofree FtLatLon *pts = g_new (FtLatLon, 2 * trips->n_trips);
  for (guint i = 0; i < trips->n_trips; i++)
    {
      pts[2 * i] = trips->trips[i].from;
      pts[2 * i + 1] = trips->trips[i].to;
      ft_bbox_extend (&bb, trips->trips[i].from);
      ft_bbox_extend (&bb, trips->trips[i].to);
    }

  FtCity *city = g_new0 (FtCity, 1);
  city->id = g_strdelimit (g_ascii_strdown (name, -1), " /\\", '-');
  city->name = g_strdup (name);
  memcpy (city->currency, "USD", 4);
  city->center = (FtLatLon) { (bb.min_lat + bb.max_lat) / 2, (bb.min_lon + bb.max_lon) / 2 };
  FtLatLon lo = ft_latlon_offset ((FtLatLon) { bb.min_lat, bb.min_lon }, -500, -500);
  FtLatLon hi = ft_latlon_offset ((FtLatLon) { bb.max_lat, bb.max_lon }, 500, 500);
  city->bbox = (FtBBox) { lo.lat, lo.lon, hi.lat, hi.lon };
  FtLatLon box[4] = { { lo.lat, lo.lon }, { lo.lat, hi.lon }, { hi.lat, hi.lon }, { hi.lat, lo.lon } };
  city->operating_area = ft_multipolygon_new ();
  ft_multipolygon_add_ring (city->operating_area, box, 4);
  city->geofences = ft_geofences_new ();
  FtZoneRules inside = ft_zone_rules_all_allowed ();
  ft_geofences_add (city->geofences, "operating-area", "Operating area",
                    ft_multipolygon_copy (city->operating_area), &inside);
  FtZoneRules outside = { .ride_start_allowed = FALSE, .ride_end_allowed = FALSE,
                          .ride_through_allowed = TRUE };
  ft_geofences_set_global_rules (city->geofences, &outside);

  ft_city_add_hex_zones (city, bb, hex_m, pts, 2 * trips->n_trips);

  /* Two depots: the centroids of the western and eastern halves of trip starts. */
  city->n_depots = 2;
  city->depots = g_new0 (FtDepot, 2);
  double sum[2][3] = { { 0 } };
  for (guint i = 0; i < trips->n_trips; i++)
    {
      int side = trips->trips[i].from.lon > city->center.lon;
      sum[side][0] += trips->trips[i].from.lat;
      sum[side][1] += trips->trips[i].from.lon;
      sum[side][2] += 1;
    }
  for (int d = 0; d < 2; d++)
    {
      city->depots[d].id = g_strdup_printf ("depot-%d", d + 1);
      city->depots[d].name = g_strdup_printf ("Depot %s", d == 0 ? "West" : "East");
      city->depots[d].pos = sum[d][2] > 0
        ? (FtLatLon) { sum[d][0] / sum[d][2], sum[d][1] / sum[d][2] } : city->center;
      city->depots[d].chargers = 40;
      city->depots[d].pack_stock = 60;
    }
  return city;
}

/* ---- fitting ------------------------------------------------------------ */

static void
span_days (const FtTripSet *set, gint64 *first_day, gint64 *last_day)
{
  FtTime lo = G_MAXINT64, hi = G_MININT64;
  for (guint i = 0; i < set->n_trips; i++)
    {
      lo = MIN (lo, set->trips[i].start);
      hi = MAX (hi, set->trips[i].start);
    }
  *first_day = lo / FT_DAY;
  *last_day = hi / FT_DAY;
}

static void
demand_alloc (FtDemandProfile *d, guint nz)
{
  g_free (d->rate);
  g_free (d->dest);
  d->n_zones = nz;
  d->rate = g_new0 (double, (gsize) nz * HOURS_PER_WEEK);
  d->dest = g_new0 (double, (gsize) N_BANDS * nz * nz);
  d->weather_multiplier = 1.0;
}

gboolean
ft_demand_fit (FtCity *city, const FtTripSet *trips, FtDemandFitReport *report, GError **error)
{
  g_return_val_if_fail (city != NULL && trips != NULL, FALSE);
  FtDemandFitReport rep = { 0 };
  guint nz = city->n_zones;
  if (nz == 0)
    {
      g_set_error (error, FT_DEMAND_ERROR, FT_DEMAND_ERROR_NO_ZONES, "city %s has no zones", city->name);
      return FALSE;
    }

  gint64 d0, d1;
  span_days (trips, &d0, &d1);
  double cover[HOURS_PER_WEEK] = { 0 };
  for (gint64 day = d0; day <= d1; day++)
    for (int h = 0; h < 24; h++)
      cover[hour_of_week (day * FT_DAY + h * FT_HOUR)] += 1;
  rep.days_covered = (double) (d1 - d0 + 1);

  g_autofree double *count = g_new0 (double, (gsize) nz * HOURS_PER_WEEK);
  g_autofree double *od = g_new0 (double, (gsize) N_BANDS * nz * nz);
  double len_sum = 0;
  for (guint i = 0; i < trips->n_trips; i++)
    {
      const FtTrip *t = &trips->trips[i];
      int zo = zone_of (city, t->from), zd = zone_of (city, t->to);
      if (zo < 0 || zd < 0)
        {
          rep.trips_outside++;
          continue;
        }
      int how = hour_of_week (t->start);
      count[(gsize) zo * HOURS_PER_WEEK + how] += 1;
      od[((gsize) band_of_hour (how % 24) * nz + zo) * nz + zd] += 1;
      len_sum += t->distance_m;
      rep.trips_used++;
    }
  if (rep.trips_used == 0)
    {
      g_set_error (error, FT_DEMAND_ERROR, FT_DEMAND_ERROR_NO_TRIPS,
                   "none of the %u trips starts and ends inside a zone of %s", trips->n_trips,
                   city->name);
      return FALSE;
    }
  rep.mean_trip_m = len_sum / rep.trips_used;

  FtDemandProfile *d = &city->demand;
  demand_alloc (d, nz);
  double total = 0;
  for (guint z = 0; z < nz; z++)
    for (int h = 0; h < HOURS_PER_WEEK; h++)
      {
        double r = cover[h] > 0 ? count[(gsize) z * HOURS_PER_WEEK + h] / cover[h] : 0;
        d->rate[(gsize) z * HOURS_PER_WEEK + h] = r;
        total += r;
      }
  rep.requests_per_day = total / 7.0;

  /* Destinations: observed counts + a gravity prior worth half a trip per row. */
  for (int b = 0; b < N_BANDS; b++)
    for (guint i = 0; i < nz; i++)
      {
        double prior_sum = 0;
        g_autofree double *prior = g_new (double, nz);
        for (guint j = 0; j < nz; j++)
          {
            double dist = ft_distance_m (city->zones[i].centroid, city->zones[j].centroid);
            prior[j] = exp (-dist / MAX (rep.mean_trip_m, 200.0));
            prior_sum += prior[j];
          }
        for (guint j = 0; j < nz; j++)
          {
            gsize k = ((gsize) b * nz + i) * nz + j;
            d->dest[k] = od[k] + 0.5 * prior[j] / prior_sum;
          }
      }
  d->mean_trip_m = rep.mean_trip_m;
  if (report)
    *report = rep;
  return TRUE;
}

gboolean
ft_demand_transfer (const FtCity *source, const FtTripSet *trips, FtCity *target,
                    double requests_per_day, GError **error)
{
  g_return_val_if_fail (source != NULL && trips != NULL && target != NULL, FALSE);
  const FtDemandProfile *sd = &source->demand;
  guint nz = target->n_zones;
  if (nz == 0)
    {
      g_set_error (error, FT_DEMAND_ERROR, FT_DEMAND_ERROR_NO_ZONES, "city %s has no zones", target->name);
      return FALSE;
    }
  if (sd->rate == NULL || sd->n_zones == 0)
    {
      g_set_error (error, FT_DEMAND_ERROR, FT_DEMAND_ERROR_NO_TRIPS,
                   "source city %s has no fitted demand", source->name);
      return FALSE;
    }

  /* Temporal shape. */
  double tot[HOURS_PER_WEEK] = { 0 }, week = 0;
  for (guint z = 0; z < sd->n_zones; z++)
    for (int h = 0; h < HOURS_PER_WEEK; h++)
      tot[h] += sd->rate[(gsize) z * HOURS_PER_WEEK + h];
  for (int h = 0; h < HOURS_PER_WEEK; h++)
    week += tot[h];
  double scale = (requests_per_day > 0 && week > 0) ? requests_per_day * 7.0 / week : 1.0;

  /* Spatial shares of the target. */
  g_autofree double *share = g_new0 (double, nz);
  double ssum = 0;
  const FtDemandProfile *td = &target->demand;
  if (td->rate != NULL && td->n_zones == nz)
    for (guint z = 0; z < nz; z++)
      for (int h = 0; h < HOURS_PER_WEEK; h++)
        share[z] += td->rate[(gsize) z * HOURS_PER_WEEK + h];
  for (guint z = 0; z < nz; z++)
    ssum += share[z];
  if (ssum <= 0)
    for (guint z = 0; z < nz; z++)
      {
        share[z] = target->zones[z].area_km2 > 0 ? target->zones[z].area_km2 : 1.0;
        ssum += share[z];
      }
  for (guint z = 0; z < nz; z++)
    share[z] /= ssum;

  /* Source trip-length histogram. */
  double hist[N_LEN_BINS] = { 0 };
  double len_sum = 0;
  for (guint i = 0; i < trips->n_trips; i++)
    {
      int b = (int) (trips->trips[i].distance_m / LEN_BIN_M);
      hist[MIN (b, N_LEN_BINS - 1)] += 1;
      len_sum += trips->trips[i].distance_m;
    }

  FtDemandProfile nd = { 0 };
  demand_alloc (&nd, nz);
  for (guint z = 0; z < nz; z++)
    for (int h = 0; h < HOURS_PER_WEEK; h++)
      nd.rate[(gsize) z * HOURS_PER_WEEK + h] = tot[h] * scale * share[z];

  g_autofree double *bin_attr = g_new (double, N_LEN_BINS);
  for (guint i = 0; i < nz; i++)
    {
      memset (bin_attr, 0, sizeof (double) * N_LEN_BINS);
      g_autofree int *bin = g_new (int, nz);
      for (guint j = 0; j < nz; j++)
        {
          double dist = ft_distance_m (target->zones[i].centroid, target->zones[j].centroid);
          bin[j] = MIN ((int) (dist / LEN_BIN_M), N_LEN_BINS - 1);
          bin_attr[bin[j]] += share[j];
        }
      for (guint j = 0; j < nz; j++)
        {
          double w = bin_attr[bin[j]] > 0 ? hist[bin[j]] * share[j] / bin_attr[bin[j]] : 0;
          /* keep every pair possible, however unlikely */
          w += 1e-6 * share[j];
          for (int b = 0; b < N_BANDS; b++)
            nd.dest[((gsize) b * nz + i) * nz + j] = w;
        }
    }
  nd.mean_trip_m = trips->n_trips ? len_sum / trips->n_trips : 0;

  g_free (target->demand.rate);
  g_free (target->demand.dest);
  target->demand = nd;
  return TRUE;
}

/* ---- traces ------------------------------------------------------------- */

static gint
cmp_req (gconstpointer a, gconstpointer b, gpointer unused)
{
  const FtDemandRequest *x = a, *y = b;
  return (x->t > y->t) - (x->t < y->t);
}

FtDemandRequest *
ft_trips_to_trace (const FtTripSet *set, guint *n_out)
{
  FtTime w0 = ft_trip_set_week_start (set);
  FtDemandRequest *r = g_new (FtDemandRequest, MAX (set->n_trips, 1));
  for (guint i = 0; i < set->n_trips; i++)
    r[i] = (FtDemandRequest) { set->trips[i].start - w0, set->trips[i].from, set->trips[i].to };
  /* Stable order for equal times: merge sort via g_qsort_with_data is stable in GLib. */
  g_qsort_with_data (r, (gint) set->n_trips, sizeof (FtDemandRequest),
                     cmp_req, NULL);
  *n_out = set->n_trips;
  return r;
}

gboolean
ft_trace_save (const char *path, const FtDemandRequest *reqs, guint n, GError **error)
{
  GString *s = g_string_sized_new (64 + (gsize) n * 64);
  g_string_append (s, "# fleet-twin demand trace v1: t_ms from_lat from_lon to_lat to_lon\n");
  char b[5][G_ASCII_DTOSTR_BUF_SIZE];
  for (guint i = 0; i < n; i++)
    g_string_append_printf (s, "%" G_GINT64_FORMAT "\t%s\t%s\t%s\t%s\n", reqs[i].t,
                            g_ascii_formatd (b[1], sizeof b[1], "%.6f", reqs[i].from.lat),
                            g_ascii_formatd (b[2], sizeof b[2], "%.6f", reqs[i].from.lon),
                            g_ascii_formatd (b[3], sizeof b[3], "%.6f", reqs[i].to.lat),
                            g_ascii_formatd (b[4], sizeof b[4], "%.6f", reqs[i].to.lon));
  g_autoptr(GError) e = NULL;
  g_autoptr(FtOutput) out = ft_output_begin (path, FT_OUTPUT_FILE, ft_trace_is_own, FALSE, &e);
  gboolean ok = out != NULL &&
                g_file_set_contents (ft_output_get_path (out), s->str, (gssize) s->len, &e) &&
                ft_output_commit (g_steal_pointer (&out), &e);
  g_string_free (s, TRUE);
  if (!ok)
    g_set_error (error, FT_DEMAND_ERROR, FT_DEMAND_ERROR_IO, "%s", e->message);
  return ok;
}

gboolean
ft_trace_is_own (const char *path)
{
  static const char head[] = "# fleet-twin demand trace";
  char buf[sizeof head - 1];
  FILE *f = fopen (path, "rb");
  if (f == NULL)
    return FALSE;
  gboolean own = fread (buf, 1, sizeof buf, f) == sizeof buf && memcmp (buf, head, sizeof buf) == 0;
  fclose (f);
  return own;
}

FtDemandRequest *
ft_trace_load (const char *path, guint *n_out, GError **error)
{
  g_autofree char *text = NULL;
  g_autoptr(GError) e = NULL;
  if (!ft_file_read (path, (gsize) 1024 * 1024 * 1024, &text, NULL, &e))
    {
      g_set_error (error, FT_DEMAND_ERROR, FT_DEMAND_ERROR_IO, "%s", e->message);
      return NULL;
    }
  g_auto(GStrv) lines = g_strsplit (text, "\n", -1);
  g_autoptr(GArray) out = g_array_new (FALSE, FALSE, sizeof (FtDemandRequest));
  FtTime last = G_MININT64;
  for (guint i = 0; lines[i]; i++)
    {
      const char *l = lines[i];
      if (*l == '\0' || *l == '#')
        continue;
      g_auto(GStrv) f = g_strsplit (l, "\t", -1);
      if (g_strv_length (f) != 5)
        {
          g_set_error (error, FT_DEMAND_ERROR, FT_DEMAND_ERROR_PARSE,
                       "%s:%u: expected 5 tab-separated fields", path, i + 1);
          return NULL;
        }
      FtDemandRequest r;
      char *end;
      r.t = g_ascii_strtoll (f[0], &end, 10);
      gboolean ok = *end == '\0' && end != f[0] && r.t >= last;
      double v[4];
      for (int k = 0; k < 4 && ok; k++)
        {
          v[k] = g_ascii_strtod (f[k + 1], &end);
          ok = *end == '\0' && end != f[k + 1] && isfinite (v[k])
               && fabs (v[k]) <= (k % 2 == 0 ? 90.0 : 180.0);
        }
      if (!ok)
        {
          g_set_error (error, FT_DEMAND_ERROR, FT_DEMAND_ERROR_PARSE,
                       "%s:%u: bad request (time must be a non-decreasing integer, "
                       "coordinates in range)", path, i + 1);
          return NULL;
        }
      r.from = (FtLatLon) { v[0], v[1] };
      r.to = (FtLatLon) { v[2], v[3] };
      last = r.t;
      g_array_append_val (out, r);
    }
  *n_out = out->len;
  return (FtDemandRequest *) g_array_free (g_steal_pointer (&out), FALSE);
}

void
ft_trips_hourly_profile (const FtTripSet *set, double out[24])
{
  memset (out, 0, sizeof (double) * 24);
  if (set->n_trips == 0)
    return;
  gint64 d0, d1;
  span_days (set, &d0, &d1);
  for (guint i = 0; i < set->n_trips; i++)
    out[hour_of_week (set->trips[i].start) % 24] += 1;
  for (int h = 0; h < 24; h++)
    out[h] /= (double) (d1 - d0 + 1);
}

double
ft_profile_correlation (const double *a, const double *b, guint n)
{
  double ma = 0, mb = 0;
  for (guint i = 0; i < n; i++)
    {
      ma += a[i];
      mb += b[i];
    }
  ma /= n;
  mb /= n;
  double sab = 0, saa = 0, sbb = 0;
  for (guint i = 0; i < n; i++)
    {
      sab += (a[i] - ma) * (b[i] - mb);
      saa += (a[i] - ma) * (a[i] - ma);
      sbb += (b[i] - mb) * (b[i] - mb);
    }
  return (saa > 0 && sbb > 0) ? sab / sqrt (saa * sbb) : 0;
}
