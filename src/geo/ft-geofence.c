/* ft-geofence.c — geofencing zones shaped like GBFS geofencing_zones.
 *
 * Parses GBFS 3.0 (ride_start/end/through_allowed, localized names,
 * global_rules) and 2.3 (ride_allowed, string names, no global rules).
 * A GBFS feature with several rules becomes several consecutive zones
 * sharing one geometry copy each, in rule order, so "the first matching
 * zone applies" is also "the first matching rule of a zone applies". A
 * feature without rules restricts nothing and is skipped. Export regroups
 * zones from one feature into one feature with several rules.
 */
#include "ft-geofence.h"
#include "ft-geo-private.h"

#include <json-glib/json-glib.h>
#include "ft-json.h"
#include "ft-file.h"
#include <math.h>
#include <string.h>

G_DEFINE_QUARK (ft-geofence-error-quark, ft_geofence_error)

typedef struct {
  FtGeofenceZone z;
  guint          group;   /* zones from one GBFS feature share a group */
} Zone;

/* The zones rasterised for one vehicle kind (see raster_build). */
typedef struct {
  double   min_lat, min_lon, dlat, dlon;
  guint    rows, cols;
  guint16 *cell;          /* RASTER_GLOBAL, a zone index, or RASTER_MIXED | first zone to test */
  guint8  *clear;         /* per cell, d: every cell within d rows and d columns holds
                           * this cell's value (0 for a mixed cell; at most 255) */
  guint    owner;         /* the kind that built it (kinds with the same zones share it) */
} Raster;

#define RASTER_KINDS  32
#define RASTER_GLOBAL FT_AREA_CELLS_NONE
#define RASTER_MIXED  FT_AREA_CELLS_MIXED
#define RASTER_UNDECIDED 0xffffu

struct _FtGeofences {
  GArray *zones;          /* Zone */
  GArray *global;         /* FtZoneRules, first matching applies */
  guint   next_group;
  /* per vehicle kind, built on first use and dropped when a zone is
   * added; the lock only guards building */
  GMutex  raster_lock;
  Raster *raster[RASTER_KINDS];
  /* bumped by every change of zones or global rules (never 0; it would
   * come round again only after 2^32 changes) */
  guint32 generation;
};

/* The rules changed: a caller's answer from before may no longer hold. */
static void
changed (FtGeofences *g)
{
  if (++g->generation == 0)
    g->generation = 1;
}

static void
zone_clear (gpointer data)
{
  Zone *zn = data;

  g_free (zn->z.id);
  g_free (zn->z.name);
  ft_multipolygon_free (zn->z.area);
  g_strfreev (zn->z.vehicle_type_ids);
}

FtZoneRules
ft_zone_rules_all_allowed (void)
{
  FtZoneRules r = { TRUE, TRUE, TRUE, 0.0, 0 };
  return r;
}

FtGeofences *
ft_geofences_new (void)
{
  FtGeofences *g = g_new0 (FtGeofences, 1);

  g->zones = g_array_new (FALSE, TRUE, sizeof (Zone));
  g_array_set_clear_func (g->zones, zone_clear);
  g->global = g_array_new (FALSE, TRUE, sizeof (FtZoneRules));
  g_mutex_init (&g->raster_lock);
  g->generation = 1;
  return g;
}

static void
rasters_drop (FtGeofences *g)
{
  Raster *owned[RASTER_KINDS];
  guint n = 0;
  for (guint k = 0; k < RASTER_KINDS; k++)
    if (g->raster[k] != NULL && g->raster[k]->owner == k)
      owned[n++] = g->raster[k];
  memset (g->raster, 0, sizeof g->raster);
  for (guint i = 0; i < n; i++)
    {
      g_free (owned[i]->cell);
      g_free (owned[i]->clear);
      g_free (owned[i]);
    }
}

void
ft_geofences_free (FtGeofences *g)
{
  if (g == NULL)
    return;
  rasters_drop (g);
  g_mutex_clear (&g->raster_lock);
  g_array_unref (g->zones);
  g_array_unref (g->global);
  g_free (g);
}

static guint
add_zone (FtGeofences *g, const char *id, const char *name, FtMultiPolygon *area,
          const FtZoneRules *rules, char **type_ids, guint group)
{
  Zone zn;

  memset (&zn, 0, sizeof zn);
  zn.z.id = g_strdup (id ? id : "");
  zn.z.name = g_strdup (name ? name : "");
  zn.z.area = area;
  zn.z.rules = *rules;
  zn.z.vehicle_type_ids = type_ids;
  zn.group = group;
  rasters_drop (g);
  changed (g);
  g_array_append_val (g->zones, zn);
  return g->zones->len - 1;
}

FtGeofences *
ft_geofences_ref_copy (const FtGeofences *g)
{
  FtGeofences *c;
  guint i;

  g_return_val_if_fail (g != NULL, NULL);
  c = ft_geofences_new ();
  for (i = 0; i < g->zones->len; i++)
    {
      const Zone *zn = &g_array_index (g->zones, Zone, i);
      add_zone (c, zn->z.id, zn->z.name, ft_multipolygon_copy (zn->z.area), &zn->z.rules,
                g_strdupv (zn->z.vehicle_type_ids), zn->group);
    }
  c->next_group = g->next_group;
  g_array_append_vals (c->global, g->global->data, g->global->len);
  changed (c);
  return c;
}

guint
ft_geofences_add (FtGeofences *g, const char *id, const char *name,
                  FtMultiPolygon *area, const FtZoneRules *rules)
{
  g_return_val_if_fail (g != NULL, 0);
  g_return_val_if_fail (area != NULL, 0);
  g_return_val_if_fail (rules != NULL, 0);
  return add_zone (g, id, name, area, rules, NULL, g->next_group++);
}

void
ft_geofences_set_global_rules (FtGeofences *g, const FtZoneRules *rules)
{
  g_return_if_fail (g != NULL && rules != NULL);
  g_array_set_size (g->global, 0);
  g_array_append_val (g->global, *rules);
  changed (g);
}

void
ft_geofences_add_global_rules (FtGeofences *g, const FtZoneRules *rules)
{
  g_return_if_fail (g != NULL && rules != NULL);
  g_array_append_val (g->global, *rules);
  changed (g);
}

static inline gboolean
mask_applies (guint32 mask, guint kind)
{
  return mask == 0 || (kind < 31 && (mask & (1u << kind)) != 0);
}

FtZoneRules
ft_geofences_global_rules (const FtGeofences *g, guint vehicle_kind)
{
  guint i;

  g_return_val_if_fail (g != NULL, ft_zone_rules_all_allowed ());
  for (i = 0; i < g->global->len; i++)
    {
      const FtZoneRules *r = &g_array_index (g->global, FtZoneRules, i);
      if (mask_applies (r->vehicle_kind_mask, vehicle_kind))
        return *r;
    }
  return ft_zone_rules_all_allowed ();
}

guint32
ft_geofences_generation (const FtGeofences *g)
{
  g_return_val_if_fail (g != NULL, 0);
  return g->generation;
}

guint
ft_geofences_n_zones (const FtGeofences *g)
{
  g_return_val_if_fail (g != NULL, 0);
  return g->zones->len;
}

const FtGeofenceZone *
ft_geofences_get (const FtGeofences *g, guint i)
{
  g_return_val_if_fail (g != NULL, NULL);
  g_return_val_if_fail (i < g->zones->len, NULL);
  return &g_array_index (g->zones, Zone, i).z;
}

/* ------------------------------------------------------------- raster */

/* The answer of ft_geofences_rules_at per cell of a grid of about 20 m
 * over the zones that apply to one vehicle kind. Per zone, in order, the
 * cells an edge of its area comes near (within RASTER_EPS, rasterised row
 * by row) are boundary cells; every other cell is wholly inside or wholly
 * outside the area, as its centre is (no edge separates two points of
 * it). A cell takes the first zone that is not wholly outside: a zone
 * that holds all of it answers there without a polygon test; where that
 * zone's boundary crosses it, the exact test runs from that zone on (the
 * zones before it hold no point of the cell). A cell no zone touches is
 * the global rules'. Results are those of the plain loop, bit for bit.
 * Built by ft_area_cells_build (ft-area-raster.c, shared with pricing's
 * zone raster); RASTER_EPS is its boundary margin, AREA_EPS there. */
#define RASTER_EPS 1e-7           /* degrees, ~1 cm */

/* ra->clear: the chessboard distance from each cell to the nearest "edge"
 * cell (a mixed cell, a cell on the raster's border, or one with a
 * neighbour of another value), by the two-pass distance transform. Every
 * cell within that distance of a cell holds its value: on a chessboard
 * path to a cell of another value, the last cell before the first change
 * is an edge cell, nearer. */
static void
raster_clearance (Raster *ra)
{
  guint rows = ra->rows, cols = ra->cols;
  ra->clear = g_new (guint8, (gsize) rows * cols);
  for (guint r = 0; r < rows; r++)
    for (guint c = 0; c < cols; c++)
      {
        gsize i = (gsize) r * cols + c;
        guint16 v = ra->cell[i];
        gboolean edge = (v & RASTER_MIXED) || r == 0 || c == 0 || r + 1 == rows || c + 1 == cols;
        for (int dr = -1; dr <= 1 && !edge; dr++)
          for (int dc = -1; dc <= 1 && !edge; dc++)
            edge = ra->cell[(gsize) ((int) r + dr) * cols + (gsize) ((int) c + dc)] != v;
        ra->clear[i] = edge ? 0 : 255;
      }
  /* forward (up-left neighbours), then backward (down-right) */
  for (guint r = 0; r < rows; r++)
    for (guint c = 0; c < cols; c++)
      {
        guint8 *d = &ra->clear[(gsize) r * cols + c];
        for (int dc = -1; dc <= 1 && r > 0; dc++)
          if ((int) c + dc >= 0 && (guint) ((int) c + dc) < cols)
            *d = MIN (*d, ra->clear[(gsize) (r - 1) * cols + (gsize) ((int) c + dc)] + 1);
        if (c > 0)
          *d = MIN (*d, ra->clear[(gsize) r * cols + c - 1] + 1);
      }
  for (guint r = rows; r-- > 0;)
    for (guint c = cols; c-- > 0;)
      {
        guint8 *d = &ra->clear[(gsize) r * cols + c];
        for (int dc = -1; dc <= 1 && r + 1 < rows; dc++)
          if ((int) c + dc >= 0 && (guint) ((int) c + dc) < cols)
            *d = MIN (*d, ra->clear[(gsize) (r + 1) * cols + (gsize) ((int) c + dc)] + 1);
        if (c + 1 < cols)
          *d = MIN (*d, ra->clear[(gsize) r * cols + c + 1] + 1);
      }
}

static G_GNUC_NO_INLINE Raster *
raster_build (const FtGeofences *g, guint kind)
{
  Raster *ra = g_new0 (Raster, 1);
  ra->owner = kind;
  /* the zones that apply to the kind, at their own index (NULL for the others) */
  g_autofree const FtMultiPolygon **areas = g_new0 (const FtMultiPolygon *, MAX (g->zones->len, 1));
  for (guint i = 0; i < g->zones->len; i++)
    {
      const Zone *zn = &g_array_index (g->zones, Zone, i);
      if (mask_applies (zn->z.rules.vehicle_kind_mask, kind))
        areas[i] = zn->z.area;
    }
  FtAreaCells cells;
  ft_area_cells_build (&cells, areas, g->zones->len);
  ra->min_lat = cells.min_lat;
  ra->min_lon = cells.min_lon;
  ra->dlat = cells.dlat;
  ra->dlon = cells.dlon;
  ra->rows = cells.rows;
  ra->cols = cells.cols;
  ra->cell = cells.cell;
  if (ra->rows > 0)    /* else no cells: every query takes the plain loop */
    raster_clearance (ra);
  return ra;
}

static G_GNUC_NO_INLINE const Raster *
raster_make (FtGeofences *g, guint kind)
{
  Raster *ra;
  g_mutex_lock (&g->raster_lock);
  ra = g->raster[kind];
  if (ra == NULL)
    {
      /* a kind to which the same zones apply shares that kind's raster */
      for (guint k = 0; k < RASTER_KINDS && ra == NULL; k++)
        {
          if (g->raster[k] == NULL || g->raster[k]->owner != k)
            continue;
          gboolean same = TRUE;
          for (guint i = 0; i < g->zones->len && same; i++)
            {
              guint32 m = g_array_index (g->zones, Zone, i).z.rules.vehicle_kind_mask;
              same = mask_applies (m, k) == mask_applies (m, kind);
            }
          if (same)
            ra = g->raster[k];
        }
      if (ra == NULL)
        ra = raster_build (g, kind);
      g_atomic_pointer_set (&g->raster[kind], ra);
    }
  g_mutex_unlock (&g->raster_lock);
  return ra;
}

static inline const Raster *
raster_for (const FtGeofences *cg, guint kind)
{
  if (kind >= RASTER_KINDS || cg->zones->len >= RASTER_GLOBAL)   /* zone indices fit 15 bits */
    return NULL;
  FtGeofences *g = (FtGeofences *) cg;   /* only the raster cache is written */
  Raster *ra = g_atomic_pointer_get (&g->raster[kind]);
  return ra != NULL ? ra : raster_make (g, kind);
}

static FtZoneRules
rules_from (const FtGeofences *g, guint first, FtLatLon p, guint vehicle_kind, int *zone_out)
{
  for (guint i = first; i < g->zones->len; i++)
    {
      const Zone *zn = &g_array_index (g->zones, Zone, i);

      if (!mask_applies (zn->z.rules.vehicle_kind_mask, vehicle_kind))
        continue;
      if (ft_multipolygon_contains (zn->z.area, p))
        {
          if (zone_out)
            *zone_out = (int) i;
          return zn->z.rules;
        }
    }
  return ft_geofences_global_rules (g, vehicle_kind);
}

FtZoneRules
ft_geofences_rules_at (const FtGeofences *g, FtLatLon p, guint vehicle_kind, int *zone_out)
{
  if (zone_out)
    *zone_out = -1;
  g_return_val_if_fail (g != NULL, ft_zone_rules_all_allowed ());
  const Raster *ra = raster_for (g, vehicle_kind);
  if (ra != NULL && ra->rows > 0)
    {
      double fr = (p.lat - ra->min_lat) / ra->dlat, fc = (p.lon - ra->min_lon) / ra->dlon;
      if (fr >= 0 && fr < ra->rows && fc >= 0 && fc < ra->cols)
        {
          guint v = ra->cell[(gsize) fr * ra->cols + (gsize) fc];
          if (v == RASTER_GLOBAL)
            return ft_geofences_global_rules (g, vehicle_kind);
          if (v & RASTER_MIXED)
            return rules_from (g, v & ~RASTER_MIXED, p, vehicle_kind, zone_out);
          if (zone_out)
            *zone_out = (int) v;
          return g_array_index (g->zones, Zone, v).z.rules;
        }
    }
  return rules_from (g, 0, p, vehicle_kind, zone_out);
}

/* The plain loop over every zone, without the raster (tests compare the two). */
FtZoneRules
ft_geofences_rules_at_exact (const FtGeofences *g, FtLatLon p, guint vehicle_kind, int *zone_out)
{
  if (zone_out)
    *zone_out = -1;
  g_return_val_if_fail (g != NULL, ft_zone_rules_all_allowed ());
  return rules_from (g, 0, p, vehicle_kind, zone_out);
}

/* --------------------------------------------------------------- paths */

/* Sample i of n along a -> b (len m) met rules r in zone: the first
 * sample that may not be ridden through stops the path at the last one
 * still outside; a speed cap below cruise slows the sample's step. */
static inline void
path_sample (FtPathRules *out, const FtZoneRules *r, int zone, guint i, guint n, FtLatLon a, FtLatLon b,
             double len, double cruise_kph)
{
  double step = len / n;
  if (!r->ride_through_allowed && !out->blocked)
    {
      out->blocked = TRUE;
      out->blocking_zone = zone;
      double f0 = i > 0 ? (i - 0.5) / n : 0.0;   /* the last sample still outside */
      out->stop_at = (FtLatLon) { a.lat + (b.lat - a.lat) * f0, a.lon + (b.lon - a.lon) * f0 };
      out->stop_m = len * f0;
    }
  double sp = cruise_kph;
  if (r->maximum_speed_kph > 0 && r->maximum_speed_kph < sp)
    {
      sp = r->maximum_speed_kph;
      out->capped_m += step;
      if (out->min_cap_kph == 0 || r->maximum_speed_kph < out->min_cap_kph)
        out->min_cap_kph = r->maximum_speed_kph;
    }
  out->ride_s += step / (sp / 3.6);
}

/* The rules met along a path, a sample every 25 m at most, each as
 * ft_geofences_rules_at answers it. The raster is looked up once; a sample
 * whose cell holds one zone (or none) wholly, the same as the sample
 * before, takes that sample's answer without a lookup. Cells are found by
 * multiplying with the inverse cell size: where that picks a neighbour of
 * the cell a division would, the point lies within rounding of their
 * shared side, and each cell's value holds for points within RASTER_EPS
 * of it, so the answer is the same. */
void
ft_geofences_path_rules (const FtGeofences *g, FtLatLon a, FtLatLon b, guint vehicle_kind,
                         double cruise_kph, FtPathRules *out)
{
  g_return_if_fail (g != NULL && out != NULL && cruise_kph > 0);
  memset (out, 0, sizeof *out);
  double len = ft_distance_m (a, b);
  guint n = MAX (1u, (guint) ceil (len / 25.0));   /* a sample every 25 m at most */
  out->stop_at = b;
  out->stop_m = len;
  out->len_m = len;
  const Raster *ra = raster_for (g, vehicle_kind);
  if (ra != NULL && ra->rows == 0)
    ra = NULL;
  double inv_dlat = ra ? 1.0 / ra->dlat : 0, inv_dlon = ra ? 1.0 / ra->dlon : 0;
  guint last = RASTER_UNDECIDED;    /* the previous sample's whole cell value, if any */
  FtZoneRules r = { 0 };
  int zone = -1;
  /* path_sample's step and time per sample, worked out once per rules met
   * (the same expressions, so the same values, added in the same order) */
  double step = len / n, cruise_s = step / (cruise_kph / 3.6);
  double sample_s = cruise_s;
  gboolean capped = FALSE;
  /* how many cells (rows or columns, the larger) the path moves from one
   * sample to the next, with room for rounding */
  double cells_per_sample = ra ? MAX (fabs (b.lat - a.lat) * inv_dlat, fabs (b.lon - a.lon) * inv_dlon) / n * 1.000001
                               : 0;
  /* the raster's fields and the sums in locals: stores to *out could
   * otherwise alias the raster's doubles and reload them each sample */
  const double min_lat = ra ? ra->min_lat : 0, min_lon = ra ? ra->min_lon : 0;
  const double rows_d = ra ? (double) ra->rows : 0, cols_d = ra ? (double) ra->cols : 0;
  const gsize cols = ra ? ra->cols : 0;
  const guint16 *cell = ra ? ra->cell : NULL;
  const guint8 *clear = ra ? ra->clear : NULL;
  double ride_s = 0, capped_m = 0, min_cap_kph = 0;
  for (guint i = 0; i < n; i++)
    {
      double f = (i + 0.5) / n;
      FtLatLon p = { a.lat + (b.lat - a.lat) * f, a.lon + (b.lon - a.lon) * f };
      guint v = RASTER_UNDECIDED;
      gsize at = 0;
      if (ra != NULL)
        {
          double fr = (p.lat - min_lat) * inv_dlat, fc = (p.lon - min_lon) * inv_dlon;
          if (fr >= 0 && fr < rows_d && fc >= 0 && fc < cols_d)
            v = cell[at = (gsize) fr * cols + (gsize) fc];
        }
      gboolean changed = TRUE;
      if (v == RASTER_UNDECIDED || (v & RASTER_MIXED))
        {
          r = ft_geofences_rules_at (g, p, vehicle_kind, &zone);
          last = RASTER_UNDECIDED;
        }
      else if (v != last)
        {
          if (v == RASTER_GLOBAL)
            {
              r = ft_geofences_global_rules (g, vehicle_kind);
              zone = -1;
            }
          else
            {
              r = g_array_index (g->zones, Zone, v).z.rules;
              zone = (int) v;
            }
          last = v;
        }
      else
        changed = FALSE;
      if (changed)
        {
          capped = r.maximum_speed_kph > 0 && r.maximum_speed_kph < cruise_kph;
          sample_s = capped ? step / (r.maximum_speed_kph / 3.6) : cruise_s;
          if (capped && (min_cap_kph == 0 || r.maximum_speed_kph < min_cap_kph))
            min_cap_kph = r.maximum_speed_kph;
        }
      /* what path_sample does, from the values above */
      if (!r.ride_through_allowed && !out->blocked)
        {
          out->blocked = TRUE;
          out->blocking_zone = zone;
          double f0 = i > 0 ? (i - 0.5) / n : 0.0;
          out->stop_at = (FtLatLon) { a.lat + (b.lat - a.lat) * f0, a.lon + (b.lon - a.lon) * f0 };
          out->stop_m = len * f0;
        }
      if (capped)
        capped_m += step;
      ride_s += sample_s;
      /* the next k samples lie within the cell's clearance (at most one
       * cell more than k steps away, rounding included): the same value,
       * so the same rules, and only the sums move on */
      if (last != RASTER_UNDECIDED && clear[at] >= 2)
        {
          double room = (clear[at] - 1.001) / cells_per_sample;
          guint k = room < (double) (n - 1 - i) ? (guint) room : n - 1 - i;
          /* k more of the same additions, in the same order (a sum per
           * accumulator, four to a loop step) */
          if (capped)
            {
              double cm = capped_m;
              for (guint j = 0; j < k; j++)
                cm += step;
              capped_m = cm;
            }
          double rs = ride_s;
          guint j = 0;
          for (; j + 4 <= k; j += 4)
            {
              rs += sample_s;
              rs += sample_s;
              rs += sample_s;
              rs += sample_s;
            }
          for (; j < k; j++)
            rs += sample_s;
          ride_s = rs;
          i += k;
        }
    }
  out->ride_s = ride_s;
  out->capped_m = capped_m;
  out->min_cap_kph = min_cap_kph;
}

/* The same, each sample through ft_geofences_rules_at_exact (tests compare). */
void
ft_geofences_path_rules_exact (const FtGeofences *g, FtLatLon a, FtLatLon b, guint vehicle_kind,
                               double cruise_kph, FtPathRules *out)
{
  g_return_if_fail (g != NULL && out != NULL && cruise_kph > 0);
  memset (out, 0, sizeof *out);
  double len = ft_distance_m (a, b);
  guint n = MAX (1u, (guint) ceil (len / 25.0));   /* a sample every 25 m at most */
  out->stop_at = b;
  out->stop_m = len;
  out->len_m = len;
  for (guint i = 0; i < n; i++)
    {
      double f = (i + 0.5) / n;
      FtLatLon p = { a.lat + (b.lat - a.lat) * f, a.lon + (b.lon - a.lon) * f };
      int zone = -1;
      FtZoneRules r = ft_geofences_rules_at_exact (g, p, vehicle_kind, &zone);
      path_sample (out, &r, zone, i, n, a, b, len, cruise_kph);
    }
}

guint32
ft_geofence_kind_bit (const char *vehicle_type_id)
{
  g_autofree char *low = NULL;

  if (vehicle_type_id == NULL)
    return FT_ZONE_KIND_OTHER;
  low = g_ascii_strdown (vehicle_type_id, -1);
  if (strstr (low, "moped") || strstr (low, "scooter_seated"))
    return 1u << 2;
  if (strstr (low, "scooter"))
    return 1u << 0;
  if (strstr (low, "bike") || strstr (low, "bicycle") || strstr (low, "cycle"))
    return 1u << 1;
  return FT_ZONE_KIND_OTHER;
}

/* ---------------------------------------------------------------- parse */

#define PARSE_FAIL(...) \
  G_STMT_START { g_set_error (error, FT_GEOFENCE_ERROR, FT_GEOFENCE_ERROR_PARSE, __VA_ARGS__); } G_STMT_END

/* A string member, or NULL when it is missing, null or of another type.
 * json_object_get_string_member_with_default raises a GLib critical on
 * an object or array member; this never does. */
static const char *
get_string (JsonObject *o, const char *member)
{
  JsonNode *n = json_object_get_member (o, member);

  if (n == NULL || !JSON_NODE_HOLDS_VALUE (n) || json_node_get_value_type (n) != G_TYPE_STRING)
    return NULL;
  return json_node_get_string (n);
}

/* TRUE when member is present, not null, and not a string. */
static gboolean
has_non_string (JsonObject *o, const char *member)
{
  JsonNode *n = json_object_get_member (o, member);

  return n != NULL && !JSON_NODE_HOLDS_NULL (n) && get_string (o, member) == NULL;
}

static gboolean
get_bool (JsonObject *o, const char *member, gboolean *out)
{
  JsonNode *n = json_object_get_member (o, member);

  if (n == NULL || !JSON_NODE_HOLDS_VALUE (n) || json_node_get_value_type (n) != G_TYPE_BOOLEAN)
    return FALSE;
  *out = json_node_get_boolean (n);
  return TRUE;
}

/* Parses one rule object. `ctx` is e.g. "feature 3 rules[0]". */
static gboolean
parse_rule (JsonNode *rn, gboolean v2, const char *where, const char *ctx,
            FtZoneRules *out, char ***type_ids_out, GError **error)
{
  JsonObject *ro;
  JsonNode *n;
  FtZoneRules r = ft_zone_rules_all_allowed ();

  *type_ids_out = NULL;
  if (rn == NULL || !JSON_NODE_HOLDS_OBJECT (rn))
    {
      PARSE_FAIL ("%s: %s: a rule must be an object", where, ctx);
      return FALSE;
    }
  ro = json_node_get_object (rn);

  /* 2.3 has ride_allowed (start and end); 3.0 splits it. Accept either
   * shape in either version; a missing field is named in the document's
   * own vocabulary. */
  if (json_object_has_member (ro, "ride_start_allowed") ||
      (!v2 && !json_object_has_member (ro, "ride_allowed")))
    {
      if (!get_bool (ro, "ride_start_allowed", &r.ride_start_allowed))
        {
          PARSE_FAIL ("%s: %s.ride_start_allowed: missing or not a boolean", where, ctx);
          return FALSE;
        }
      if (!get_bool (ro, "ride_end_allowed", &r.ride_end_allowed))
        {
          PARSE_FAIL ("%s: %s.ride_end_allowed: missing or not a boolean", where, ctx);
          return FALSE;
        }
    }
  else
    {
      if (!get_bool (ro, "ride_allowed", &r.ride_start_allowed))
        {
          PARSE_FAIL ("%s: %s.ride_allowed: missing or not a boolean", where, ctx);
          return FALSE;
        }
      r.ride_end_allowed = r.ride_start_allowed;
    }
  if (!get_bool (ro, "ride_through_allowed", &r.ride_through_allowed))
    {
      PARSE_FAIL ("%s: %s.ride_through_allowed: missing or not a boolean", where, ctx);
      return FALSE;
    }

  n = json_object_get_member (ro, "maximum_speed_kph");
  if (n != NULL && !JSON_NODE_HOLDS_NULL (n))
    {
      if (!JSON_NODE_HOLDS_VALUE (n) ||
          (json_node_get_value_type (n) != G_TYPE_INT64 && json_node_get_value_type (n) != G_TYPE_DOUBLE) ||
          json_node_get_double (n) < 0 || !isfinite (json_node_get_double (n)))
        {
          PARSE_FAIL ("%s: %s.maximum_speed_kph: must be a number >= 0", where, ctx);
          return FALSE;
        }
      r.maximum_speed_kph = json_node_get_double (n);
    }

  /* The spec says vehicle_type_ids; some feeds write vehicle_type_id. */
  n = json_object_get_member (ro, "vehicle_type_ids");
  if (n == NULL)
    n = json_object_get_member (ro, "vehicle_type_id");
  if (n != NULL && !JSON_NODE_HOLDS_NULL (n))
    {
      JsonArray *a;
      GPtrArray *ids;
      guint i, len;

      if (!JSON_NODE_HOLDS_ARRAY (n))
        {
          PARSE_FAIL ("%s: %s.vehicle_type_ids: must be an array of strings", where, ctx);
          return FALSE;
        }
      a = json_node_get_array (n);
      len = json_array_get_length (a);
      ids = g_ptr_array_new ();
      for (i = 0; i < len; i++)
        {
          JsonNode *e = json_array_get_element (a, i);

          if (!JSON_NODE_HOLDS_VALUE (e) || json_node_get_value_type (e) != G_TYPE_STRING)
            {
              g_ptr_array_set_free_func (ids, g_free);
              g_ptr_array_unref (ids);
              PARSE_FAIL ("%s: %s.vehicle_type_ids[%u]: must be a string", where, ctx, i);
              return FALSE;
            }
          g_ptr_array_add (ids, g_strdup (json_node_get_string (e)));
          r.vehicle_kind_mask |= ft_geofence_kind_bit (json_node_get_string (e));
        }
      if (len > 0)
        {
          g_ptr_array_add (ids, NULL);
          *type_ids_out = (char **) g_ptr_array_free (ids, FALSE);
        }
      else
        g_ptr_array_unref (ids);
    }
  *out = r;
  return TRUE;
}

/* The zone's name: a 2.3 string or a 3.0 array of {text, language}
 * (English first, else the first text). *out is NULL when there is none. */
static gboolean
feature_name (JsonObject *props, const char *where, guint fi, char **out, GError **error)
{
  JsonNode *n = json_object_get_member (props, "name");

  *out = NULL;
  if (n == NULL || JSON_NODE_HOLDS_NULL (n))
    return TRUE;
  if (JSON_NODE_HOLDS_VALUE (n) && json_node_get_value_type (n) == G_TYPE_STRING)
    {
      *out = g_strdup (json_node_get_string (n));       /* 2.3 */
      return TRUE;
    }
  if (JSON_NODE_HOLDS_ARRAY (n))                       /* 3.0 localized */
    {
      JsonArray *a = json_node_get_array (n);
      guint i, len = json_array_get_length (a);
      const char *first = NULL;

      for (i = 0; i < len; i++)
        {
          JsonNode *e = json_array_get_element (a, i);
          JsonObject *o;
          const char *text, *lang;

          if (!JSON_NODE_HOLDS_OBJECT (e))
            continue;
          o = json_node_get_object (e);
          if (has_non_string (o, "text") || has_non_string (o, "language"))
            {
              PARSE_FAIL ("%s: feature %u: properties.name[%u]: text and language must be strings",
                          where, fi, i);
              return FALSE;
            }
          text = get_string (o, "text");
          lang = get_string (o, "language");
          if (text == NULL)
            continue;
          if (first == NULL)
            first = text;
          if (lang != NULL && g_str_has_prefix (lang, "en"))
            {
              *out = g_strdup (text);
              return TRUE;
            }
        }
      *out = g_strdup (first);
      return TRUE;
    }
  PARSE_FAIL ("%s: feature %u: properties.name: must be a string or an array of {text, language}",
              where, fi);
  return FALSE;
}

static gboolean
parse_feature (FtGeofences *g, JsonNode *fn, guint fi, gboolean v2,
               const char *where, GError **error)
{
  g_autoptr(FtMultiPolygon) area = NULL;
  g_autofree char *name = NULL;
  g_autofree char *id = NULL;
  GError *local = NULL;
  JsonObject *fo, *props;
  JsonNode *n;
  JsonArray *rules;
  guint ri, nr, group;

  if (!JSON_NODE_HOLDS_OBJECT (fn))
    {
      PARSE_FAIL ("%s: feature %u: not an object", where, fi);
      return FALSE;
    }
  fo = json_node_get_object (fn);
  n = json_object_get_member (fo, "geometry");
  if (n == NULL)
    {
      PARSE_FAIL ("%s: feature %u: geometry: missing", where, fi);
      return FALSE;
    }
  area = ft_multipolygon_from_geojson (n, &local);
  if (area == NULL)
    {
      PARSE_FAIL ("%s: feature %u: %s", where, fi, local->message);
      g_error_free (local);
      return FALSE;
    }
  n = json_object_get_member (fo, "properties");
  if (n == NULL || !JSON_NODE_HOLDS_OBJECT (n))
    {
      PARSE_FAIL ("%s: feature %u: properties: missing or not an object", where, fi);
      return FALSE;
    }
  props = json_node_get_object (n);
  if (!feature_name (props, where, fi, &name, error))
    return FALSE;

  n = json_object_get_member (fo, "id");
  if (n && JSON_NODE_HOLDS_VALUE (n) && json_node_get_value_type (n) == G_TYPE_STRING)
    id = g_strdup (json_node_get_string (n));
  else if (n && JSON_NODE_HOLDS_VALUE (n) && json_node_get_value_type (n) == G_TYPE_INT64)
    id = g_strdup_printf ("%" G_GINT64_FORMAT, json_node_get_int (n));
  else
    id = g_strdup_printf ("zone-%u", fi);

  n = json_object_get_member (props, "rules");
  if (n == NULL || JSON_NODE_HOLDS_NULL (n))
    return TRUE;                                   /* no rules: restricts nothing */
  if (!JSON_NODE_HOLDS_ARRAY (n))
    {
      PARSE_FAIL ("%s: feature %u: properties.rules: must be an array", where, fi);
      return FALSE;
    }
  rules = json_node_get_array (n);
  nr = json_array_get_length (rules);

  /* Validate every rule before adding anything: the set stays untouched on error. */
  {
    g_autofree FtZoneRules *parsed = g_new0 (FtZoneRules, MAX (nr, 1));
    g_autofree char ***ids = g_new0 (char **, MAX (nr, 1));

    for (ri = 0; ri < nr; ri++)
      {
        g_autofree char *ctx = g_strdup_printf ("feature %u: properties.rules[%u]", fi, ri);

        if (!parse_rule (json_array_get_element (rules, ri), v2, where, ctx,
                         &parsed[ri], &ids[ri], error))
          {
            guint k;
            for (k = 0; k < ri; k++)
              g_strfreev (ids[k]);
            return FALSE;
          }
      }
    group = g->next_group++;
    for (ri = 0; ri < nr; ri++)
      {
        FtMultiPolygon *a = (ri + 1 == nr) ? g_steal_pointer (&area) : ft_multipolygon_copy (area);
        add_zone (g, id, name, a, &parsed[ri], ids[ri], group);
      }
  }
  return TRUE;
}

FtGeofences *
ft_geofences_parse_gbfs (const char *json, gssize len, const char *where, GError **error)
{
  g_autoptr(JsonNode) root = NULL;
  g_autoptr(FtGeofences) g = NULL;
  GError *local = NULL;
  JsonNode *n;
  JsonObject *ro, *data, *fc;
  JsonArray *features;
  gboolean v2 = FALSE;
  guint i, nf;

  g_return_val_if_fail (json != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);
  if (where == NULL)
    where = "geofencing_zones";

  root = ft_json_parse (json, len, where, 0, 0, &local);
  if (root == NULL)
    {
      PARSE_FAIL ("%s", local->message);
      g_error_free (local);
      return NULL;
    }
  if (!JSON_NODE_HOLDS_OBJECT (root))
    {
      PARSE_FAIL ("%s: the document must be a JSON object", where);
      return NULL;
    }
  ro = json_node_get_object (root);
  n = json_object_get_member (ro, "version");
  if (n && JSON_NODE_HOLDS_VALUE (n) && json_node_get_value_type (n) == G_TYPE_STRING)
    v2 = g_str_has_prefix (json_node_get_string (n), "2.") || g_str_has_prefix (json_node_get_string (n), "1.");

  /* Whole document ({last_updated, ttl, version, data}) or just its data. */
  n = json_object_get_member (ro, "data");
  if (n != NULL)
    {
      if (!JSON_NODE_HOLDS_OBJECT (n))
        {
          PARSE_FAIL ("%s: data: must be an object", where);
          return NULL;
        }
      data = json_node_get_object (n);
    }
  else
    data = ro;

  n = json_object_get_member (data, "geofencing_zones");
  if (n == NULL || !JSON_NODE_HOLDS_OBJECT (n))
    {
      PARSE_FAIL ("%s: data.geofencing_zones: missing or not a GeoJSON FeatureCollection", where);
      return NULL;
    }
  fc = json_node_get_object (n);
  if (g_strcmp0 (get_string (fc, "type"), "FeatureCollection") != 0)
    {
      PARSE_FAIL ("%s: data.geofencing_zones.type: must be \"FeatureCollection\"", where);
      return NULL;
    }
  n = json_object_get_member (fc, "features");
  if (n == NULL || !JSON_NODE_HOLDS_ARRAY (n))
    {
      PARSE_FAIL ("%s: data.geofencing_zones.features: missing or not an array", where);
      return NULL;
    }
  features = json_node_get_array (n);
  nf = json_array_get_length (features);

  g = ft_geofences_new ();
  for (i = 0; i < nf; i++)
    if (!parse_feature (g, json_array_get_element (features, i), i, v2, where, error))
      return NULL;

  n = json_object_get_member (data, "global_rules");
  if (n != NULL && !JSON_NODE_HOLDS_NULL (n))
    {
      JsonArray *gr;

      if (!JSON_NODE_HOLDS_ARRAY (n))
        {
          PARSE_FAIL ("%s: data.global_rules: must be an array", where);
          return NULL;
        }
      gr = json_node_get_array (n);
      for (i = 0; i < json_array_get_length (gr); i++)
        {
          g_autofree char *ctx = g_strdup_printf ("global_rules[%u]", i);
          FtZoneRules r;
          char **ids = NULL;

          if (!parse_rule (json_array_get_element (gr, i), v2, where, ctx, &r, &ids, error))
            return NULL;
          g_strfreev (ids);   /* global rules keep only the kind mask */
          g_array_append_val (g->global, r);
          changed (g);
        }
    }
  return g_steal_pointer (&g);
}

FtGeofences *
ft_geofences_load_gbfs (const char *path, GError **error)
{
  g_autofree char *contents = NULL;
  gsize len = 0;

  g_return_val_if_fail (path != NULL, NULL);
  if (!ft_file_read (path, FT_JSON_MAX_SIZE, &contents, &len, error))
    return NULL;
  return ft_geofences_parse_gbfs (contents, (gssize) len, path, error);
}

/* --------------------------------------------------------------- export */

static const char *const kind_ids[] = { "e-scooter", "e-bike", "e-moped" };

static JsonObject *
rule_to_json (const FtZoneRules *r, char **type_ids)
{
  JsonObject *o = json_object_new ();
  guint k;

  if (type_ids != NULL)
    {
      JsonArray *a = json_array_new ();
      for (k = 0; type_ids[k]; k++)
        json_array_add_string_element (a, type_ids[k]);
      json_object_set_array_member (o, "vehicle_type_ids", a);
    }
  else if (r->vehicle_kind_mask != 0)
    {
      JsonArray *a = json_array_new ();
      for (k = 0; k < G_N_ELEMENTS (kind_ids); k++)
        if (r->vehicle_kind_mask & (1u << k))
          json_array_add_string_element (a, kind_ids[k]);
      json_object_set_array_member (o, "vehicle_type_ids", a);
    }
  json_object_set_boolean_member (o, "ride_start_allowed", r->ride_start_allowed);
  json_object_set_boolean_member (o, "ride_end_allowed", r->ride_end_allowed);
  json_object_set_boolean_member (o, "ride_through_allowed", r->ride_through_allowed);
  if (r->maximum_speed_kph > 0)
    json_object_set_int_member (o, "maximum_speed_kph", (gint64) llround (r->maximum_speed_kph));
  return o;
}

JsonNode *
ft_geofences_to_gbfs_data (const FtGeofences *g)
{
  JsonObject *data, *fc;
  JsonArray *features, *global;
  JsonNode *node;
  guint i;

  g_return_val_if_fail (g != NULL, NULL);
  features = json_array_new ();
  for (i = 0; i < g->zones->len;)
    {
      const Zone *zn = &g_array_index (g->zones, Zone, i);
      JsonObject *feat = json_object_new (), *props = json_object_new ();
      JsonArray *rules = json_array_new (), *names = json_array_new ();
      JsonObject *nm = json_object_new ();
      guint j;

      for (j = i; j < g->zones->len && g_array_index (g->zones, Zone, j).group == zn->group; j++)
        {
          const Zone *zj = &g_array_index (g->zones, Zone, j);
          json_array_add_object_element (rules, rule_to_json (&zj->z.rules, zj->z.vehicle_type_ids));
        }
      json_object_set_string_member (nm, "text", zn->z.name ? zn->z.name : "");
      json_object_set_string_member (nm, "language", "en");
      json_array_add_object_element (names, nm);
      json_object_set_array_member (props, "name", names);
      json_object_set_array_member (props, "rules", rules);
      json_object_set_string_member (feat, "type", "Feature");
      json_object_set_string_member (feat, "id", zn->z.id);
      json_object_set_member (feat, "geometry", ft_multipolygon_to_geojson (zn->z.area));
      json_object_set_object_member (feat, "properties", props);
      json_array_add_object_element (features, feat);
      i = j;
    }
  fc = json_object_new ();
  json_object_set_string_member (fc, "type", "FeatureCollection");
  json_object_set_array_member (fc, "features", features);

  global = json_array_new ();
  for (i = 0; i < g->global->len; i++)
    json_array_add_object_element (global, rule_to_json (&g_array_index (g->global, FtZoneRules, i), NULL));

  data = json_object_new ();
  json_object_set_object_member (data, "geofencing_zones", fc);
  json_object_set_array_member (data, "global_rules", global);
  node = json_node_new (JSON_NODE_OBJECT);
  json_node_take_object (node, data);
  return node;
}
