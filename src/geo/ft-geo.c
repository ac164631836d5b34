/* ft-geo.c — plane geometry on WGS84 points: bounding boxes, multipolygons
 * with holes (even-odd point-in-polygon, area and centroid on a local
 * tangent plane), GeoJSON Polygon/MultiPolygon in and out through
 * json-glib, and FtGridIndex, a uniform grid of dense integer ids with
 * O(1) insert/move/remove (swap-remove inside a cell) and radius queries.
 */
#include "ft-geo.h"
#include "ft-json.h"

#include <json-glib/json-glib.h>
#include <string.h>

#include "ft-geofence.h"   /* FT_GEOFENCE_ERROR for GeoJSON parse errors */

#define FT_M_PER_DEG 111195.0   /* metres per degree of latitude (R = 6371008.8) */

/* ---------------------------------------------------------------- bbox */

void
ft_bbox_init_empty (FtBBox *b)
{
  g_return_if_fail (b != NULL);
  b->min_lat = b->min_lon = INFINITY;
  b->max_lat = b->max_lon = -INFINITY;
}

void
ft_bbox_extend (FtBBox *b, FtLatLon p)
{
  g_return_if_fail (b != NULL);
  if (p.lat < b->min_lat) b->min_lat = p.lat;
  if (p.lat > b->max_lat) b->max_lat = p.lat;
  if (p.lon < b->min_lon) b->min_lon = p.lon;
  if (p.lon > b->max_lon) b->max_lon = p.lon;
}

gboolean
ft_bbox_contains (const FtBBox *b, FtLatLon p)
{
  g_return_val_if_fail (b != NULL, FALSE);
  return p.lat >= b->min_lat && p.lat <= b->max_lat &&
         p.lon >= b->min_lon && p.lon <= b->max_lon;
}

/* -------------------------------------------------------- multipolygon */

/* A ring's edges by band of latitude: nb equal bands over the ring's
 * latitudes, band k holding, in ascending order, every edge i (from
 * pts[i] to the point before it) whose latitudes [min, max] reach into
 * it. band_of is monotone in the latitude (a subtraction and a product
 * by a positive constant, then floor), so a point whose latitude lies in
 * an edge's [min, max] falls in one of the edge's bands. */
struct _FtRingBands {
  double   lo, inv_h;
  guint    nb;
  guint32 *start;     /* nb + 1 */
  guint32 *edge;
};

#define RING_BANDS_MIN_POINTS 16

static inline guint
band_of (const FtRingBands *rb, double lat)
{
  double t = (lat - rb->lo) * rb->inv_h;
  if (!(t >= 0))          /* also NaN */
    return 0;
  if (t >= rb->nb)
    return rb->nb - 1;
  return (guint) t;
}

static FtRingBands *
ring_bands_build (const FtRing *r)
{
  if (r->n < RING_BANDS_MIN_POINTS)
    return NULL;
  double lo = INFINITY, hi = -INFINITY;
  for (guint i = 0; i < r->n; i++)
    {
      lo = MIN (lo, r->pts[i].lat);
      hi = MAX (hi, r->pts[i].lat);
    }
  if (!(hi > lo) || !isfinite (hi - lo))
    return NULL;
  guint nb = MIN (r->n / 2, 4096u);
  FtRingBands *rb = g_new0 (FtRingBands, 1);
  rb->lo = lo;
  rb->nb = nb;
  rb->inv_h = nb / (hi - lo);
  rb->start = g_new0 (guint32, nb + 1);
  for (guint i = 0; i < r->n; i++)      /* band k's count in start[k + 1] */
    {
      const FtLatLon *a = &r->pts[i], *b = &r->pts[i == 0 ? r->n - 1 : i - 1];
      guint k0 = band_of (rb, MIN (a->lat, b->lat)), k1 = band_of (rb, MAX (a->lat, b->lat));
      for (guint k = k0; k <= k1; k++)
        rb->start[k + 1]++;
    }
  for (guint k = 0; k < nb; k++)
    rb->start[k + 1] += rb->start[k];
  rb->edge = g_new (guint32, MAX (rb->start[nb], 1));
  g_autofree guint32 *at = g_memdup2 (rb->start, sizeof (guint32) * nb);
  for (guint i = 0; i < r->n; i++)
    {
      const FtLatLon *a = &r->pts[i], *b = &r->pts[i == 0 ? r->n - 1 : i - 1];
      guint k0 = band_of (rb, MIN (a->lat, b->lat)), k1 = band_of (rb, MAX (a->lat, b->lat));
      for (guint k = k0; k <= k1; k++)
        rb->edge[at[k]++] = i;
    }
  return rb;
}

static void
ring_bands_free (FtRingBands *rb)
{
  if (rb == NULL)
    return;
  g_free (rb->start);
  g_free (rb->edge);
  g_free (rb);
}

FtMultiPolygon *
ft_multipolygon_new (void)
{
  FtMultiPolygon *mp = g_new0 (FtMultiPolygon, 1);

  ft_bbox_init_empty (&mp->bbox);
  return mp;
}

void
ft_multipolygon_free (FtMultiPolygon *mp)
{
  guint i, j;

  if (mp == NULL)
    return;
  for (i = 0; i < mp->n_polys; i++)
    {
      for (j = 0; j < mp->polys[i].n_rings; j++)
        {
          g_free (mp->polys[i].rings[j].pts);
          ring_bands_free (mp->polys[i].rings[j].bands);
        }
      g_free (mp->polys[i].rings);
    }
  g_free (mp->polys);
  g_free (mp);
}

FtMultiPolygon *
ft_multipolygon_copy (const FtMultiPolygon *mp)
{
  FtMultiPolygon *c;
  guint i, j;

  g_return_val_if_fail (mp != NULL, NULL);
  c = ft_multipolygon_new ();
  c->n_polys = mp->n_polys;
  c->bbox = mp->bbox;
  c->polys = g_new0 (FtPolygon, MAX (mp->n_polys, 1));
  for (i = 0; i < mp->n_polys; i++)
    {
      const FtPolygon *sp = &mp->polys[i];
      FtPolygon *dp = &c->polys[i];

      dp->n_rings = sp->n_rings;
      dp->rings = g_new0 (FtRing, MAX (sp->n_rings, 1));
      for (j = 0; j < sp->n_rings; j++)
        {
          dp->rings[j].n = sp->rings[j].n;
          dp->rings[j].pts = g_memdup2 (sp->rings[j].pts, sizeof (FtLatLon) * sp->rings[j].n);
          dp->rings[j].bands = ring_bands_build (&dp->rings[j]);
        }
    }
  return c;
}

/* Copies a ring, dropping a repeated closing point. */
static void
ring_set (FtRing *r, const FtLatLon *pts, guint n)
{
  if (n >= 2 && pts[0].lat == pts[n - 1].lat && pts[0].lon == pts[n - 1].lon)
    n--;
  r->n = n;
  r->pts = n ? g_memdup2 (pts, sizeof (FtLatLon) * n) : NULL;
  r->bands = ring_bands_build (r);
}

guint
ft_multipolygon_add_ring (FtMultiPolygon *mp, const FtLatLon *pts, guint n)
{
  FtPolygon *p;
  guint i;

  g_return_val_if_fail (mp != NULL, 0);
  g_return_val_if_fail (pts != NULL || n == 0, 0);
  mp->polys = g_renew (FtPolygon, mp->polys, mp->n_polys + 1);
  p = &mp->polys[mp->n_polys];
  p->n_rings = 1;
  p->rings = g_new0 (FtRing, 1);
  ring_set (&p->rings[0], pts, n);
  for (i = 0; i < n; i++)
    ft_bbox_extend (&mp->bbox, pts[i]);
  return mp->n_polys++;
}

void
ft_multipolygon_add_hole (FtMultiPolygon *mp, guint poly, const FtLatLon *pts, guint n)
{
  FtPolygon *p;

  g_return_if_fail (mp != NULL);
  g_return_if_fail (poly < mp->n_polys);
  g_return_if_fail (pts != NULL || n == 0);
  p = &mp->polys[poly];
  p->rings = g_renew (FtRing, p->rings, p->n_rings + 1);
  ring_set (&p->rings[p->n_rings], pts, n);
  p->n_rings++;
}

/* Even-odd crossing test over every ring of the polygon: a point inside a
 * hole crosses the outer ring and the hole ring, so it counts as outside. */
static gboolean
polygon_contains (const FtPolygon *poly, FtLatLon p)
{
  gboolean inside = FALSE;
  guint r, i, j;

  for (r = 0; r < poly->n_rings; r++)
    {
      const FtRing *ring = &poly->rings[r];

      if (ring->n < 3)
        continue;
      if (ring->bands != NULL)
        {
          /* the edges that reach p's band of latitude, in order: the
           * others' first test below is false */
          const FtRingBands *rb = ring->bands;
          guint k = band_of (rb, p.lat);
          for (guint32 e = rb->start[k]; e < rb->start[k + 1]; e++)
            {
              i = rb->edge[e];
              const FtLatLon *a = &ring->pts[i], *b = &ring->pts[i == 0 ? ring->n - 1 : i - 1];

              if ((a->lat > p.lat) != (b->lat > p.lat))
                {
                  double x = (b->lon - a->lon) * (p.lat - a->lat) / (b->lat - a->lat) + a->lon;
                  if (p.lon < x)
                    inside = !inside;
                }
            }
          continue;
        }
      for (i = 0, j = ring->n - 1; i < ring->n; j = i++)
        {
          const FtLatLon *a = &ring->pts[i], *b = &ring->pts[j];

          if ((a->lat > p.lat) != (b->lat > p.lat))
            {
              double x = (b->lon - a->lon) * (p.lat - a->lat) / (b->lat - a->lat) + a->lon;
              if (p.lon < x)
                inside = !inside;
            }
        }
    }
  return inside;
}

gboolean
ft_multipolygon_contains (const FtMultiPolygon *mp, FtLatLon p)
{
  guint i;

  g_return_val_if_fail (mp != NULL, FALSE);
  if (mp->n_polys == 0 || !ft_bbox_contains (&mp->bbox, p))
    return FALSE;
  for (i = 0; i < mp->n_polys; i++)
    if (polygon_contains (&mp->polys[i], p))
      return TRUE;
  return FALSE;
}


/* Metres from p to the nearest edge of mp, 0 inside (a local plane around
 * p: fine for the few kilometres this is used for). */
double
ft_multipolygon_distance_m (const FtMultiPolygon *mp, FtLatLon p)
{
  g_return_val_if_fail (mp != NULL, G_MAXDOUBLE);
  if (mp->n_polys == 0)
    return G_MAXDOUBLE;
  if (ft_multipolygon_contains (mp, p))
    return 0.0;
  double kx = FT_M_PER_DEG * cos (p.lat * G_PI / 180.0), ky = FT_M_PER_DEG;
  double best = G_MAXDOUBLE;
  for (guint i = 0; i < mp->n_polys; i++)
    for (guint r = 0; r < mp->polys[i].n_rings; r++)
      {
        const FtRing *ring = &mp->polys[i].rings[r];
        for (guint k = 0; k < ring->n; k++)
          {
            FtLatLon a = ring->pts[k], b = ring->pts[(k + 1) % ring->n];
            double ax = (a.lon - p.lon) * kx, ay = (a.lat - p.lat) * ky;
            double bx = (b.lon - p.lon) * kx, by = (b.lat - p.lat) * ky;
            double dx = bx - ax, dy = by - ay, l2 = dx * dx + dy * dy;
            double t = l2 > 0 ? CLAMP (-(ax * dx + ay * dy) / l2, 0.0, 1.0) : 0.0;
            double cx = ax + t * dx, cy = ay + t * dy;
            best = MIN (best, sqrt (cx * cx + cy * cy));
          }
      }
  return best;
}

/* Local tangent plane around the bbox centre, in metres. */
typedef struct {
  double lat0, lon0, kx;
} Plane;

static Plane
plane_for (const FtMultiPolygon *mp)
{
  Plane pl;

  pl.lat0 = (mp->bbox.min_lat + mp->bbox.max_lat) / 2.0;
  pl.lon0 = (mp->bbox.min_lon + mp->bbox.max_lon) / 2.0;
  pl.kx = FT_M_PER_DEG * cos (pl.lat0 * G_PI / 180.0);
  return pl;
}

/* Signed shoelace area (m²) and first moments of a ring on the plane. */
static double
ring_moments (const Plane *pl, const FtRing *r, double *cx, double *cy)
{
  double a = 0, sx = 0, sy = 0;
  guint i, j;

  for (i = 0, j = r->n - 1; i < r->n; j = i++)
    {
      double xi = (r->pts[i].lon - pl->lon0) * pl->kx, yi = (r->pts[i].lat - pl->lat0) * FT_M_PER_DEG;
      double xj = (r->pts[j].lon - pl->lon0) * pl->kx, yj = (r->pts[j].lat - pl->lat0) * FT_M_PER_DEG;
      double cr = xj * yi - xi * yj;

      a += cr;
      sx += (xj + xi) * cr;
      sy += (yj + yi) * cr;
    }
  *cx = sx;
  *cy = sy;
  return a / 2.0;
}

/* Accumulates area (outer minus holes, orientation-independent) and moments. */
static double
mp_moments (const FtMultiPolygon *mp, const Plane *pl, double *mx, double *my)
{
  double area = 0;
  guint i, j;

  *mx = *my = 0;
  for (i = 0; i < mp->n_polys; i++)
    for (j = 0; j < mp->polys[i].n_rings; j++)
      {
        const FtRing *r = &mp->polys[i].rings[j];
        double cx, cy, a, sign;

        if (r->n < 3)
          continue;
        a = ring_moments (pl, r, &cx, &cy);
        /* Outer rings count positive, holes negative, whatever the winding. */
        sign = (j == 0) ? 1.0 : -1.0;
        if (a < 0)
          {
            a = -a;
            cx = -cx;
            cy = -cy;
          }
        area += sign * a;
        *mx += sign * cx / 6.0;
        *my += sign * cy / 6.0;
      }
  return area;
}

double
ft_multipolygon_area_m2 (const FtMultiPolygon *mp)
{
  Plane pl;
  double mx, my;

  g_return_val_if_fail (mp != NULL, 0);
  if (mp->n_polys == 0)
    return 0;
  pl = plane_for (mp);
  return mp_moments (mp, &pl, &mx, &my);
}

FtLatLon
ft_multipolygon_centroid (const FtMultiPolygon *mp)
{
  FtLatLon c = { 0, 0 };
  Plane pl;
  double mx, my, a;

  g_return_val_if_fail (mp != NULL, c);
  if (mp->n_polys == 0)
    return c;
  pl = plane_for (mp);
  a = mp_moments (mp, &pl, &mx, &my);
  if (fabs (a) < 1e-9)
    {
      c.lat = pl.lat0;
      c.lon = pl.lon0;
      return c;
    }
  c.lat = pl.lat0 + (my / a) / FT_M_PER_DEG;
  c.lon = pl.lon0 + (mx / a) / pl.kx;
  return c;
}

/* --------------------------------------------------------------- GeoJSON */

static gboolean
parse_ring (JsonNode *node, GArray *out, const char *what, GError **error)
{
  JsonArray *arr;
  guint i, n;

  if (!JSON_NODE_HOLDS_ARRAY (node))
    {
      g_set_error (error, FT_GEOFENCE_ERROR, FT_GEOFENCE_ERROR_PARSE,
                   "%s: a ring must be an array of [lon, lat] positions", what);
      return FALSE;
    }
  arr = json_node_get_array (node);
  n = json_array_get_length (arr);
  g_array_set_size (out, 0);
  for (i = 0; i < n; i++)
    {
      JsonNode *pn = json_array_get_element (arr, i);
      JsonArray *pa;
      FtLatLon p;
      JsonNode *xn, *yn;

      if (!JSON_NODE_HOLDS_ARRAY (pn) || json_array_get_length (pa = json_node_get_array (pn)) < 2)
        {
          g_set_error (error, FT_GEOFENCE_ERROR, FT_GEOFENCE_ERROR_PARSE,
                       "%s: position %u is not a [lon, lat] array", what, i);
          return FALSE;
        }
      xn = json_array_get_element (pa, 0);
      yn = json_array_get_element (pa, 1);
      if (!JSON_NODE_HOLDS_VALUE (xn) || !JSON_NODE_HOLDS_VALUE (yn) ||
          (json_node_get_value_type (xn) != G_TYPE_DOUBLE && json_node_get_value_type (xn) != G_TYPE_INT64) ||
          (json_node_get_value_type (yn) != G_TYPE_DOUBLE && json_node_get_value_type (yn) != G_TYPE_INT64))
        {
          g_set_error (error, FT_GEOFENCE_ERROR, FT_GEOFENCE_ERROR_PARSE,
                       "%s: position %u has non-numeric coordinates", what, i);
          return FALSE;
        }
      p.lon = json_node_get_double (xn);
      p.lat = json_node_get_double (yn);
      if (!ft_latlon_valid (p))
        {
          g_set_error (error, FT_GEOFENCE_ERROR, FT_GEOFENCE_ERROR_PARSE,
                       "%s: position %u (%g, %g) is outside WGS84 range (GeoJSON order is [lon, lat])",
                       what, i, p.lon, p.lat);
          return FALSE;
        }
      g_array_append_val (out, p);
    }
  /* Closing point may repeat; a ring needs three distinct corners. */
  n = out->len;
  if (n >= 2)
    {
      FtLatLon *a = &g_array_index (out, FtLatLon, 0), *b = &g_array_index (out, FtLatLon, n - 1);
      if (a->lat == b->lat && a->lon == b->lon)
        n--;
    }
  if (n < 3)
    {
      g_set_error (error, FT_GEOFENCE_ERROR, FT_GEOFENCE_ERROR_PARSE,
                   "%s: a ring needs at least 3 distinct positions, has %u", what, n);
      return FALSE;
    }
  return TRUE;
}

static gboolean
parse_polygon (FtMultiPolygon *mp, JsonNode *node, const char *what, GError **error)
{
  g_autoptr(GArray) pts = g_array_new (FALSE, FALSE, sizeof (FtLatLon));
  JsonArray *rings;
  guint r, n, idx = 0;

  if (!JSON_NODE_HOLDS_ARRAY (node))
    {
      g_set_error (error, FT_GEOFENCE_ERROR, FT_GEOFENCE_ERROR_PARSE,
                   "%s: a polygon must be an array of rings", what);
      return FALSE;
    }
  rings = json_node_get_array (node);
  n = json_array_get_length (rings);
  if (n == 0)
    {
      g_set_error (error, FT_GEOFENCE_ERROR, FT_GEOFENCE_ERROR_PARSE,
                   "%s: a polygon needs an outer ring", what);
      return FALSE;
    }
  for (r = 0; r < n; r++)
    {
      g_autofree char *w = g_strdup_printf ("%s ring %u", what, r);

      if (!parse_ring (json_array_get_element (rings, r), pts, w, error))
        return FALSE;
      if (r == 0)
        idx = ft_multipolygon_add_ring (mp, (FtLatLon *) pts->data, pts->len);
      else
        ft_multipolygon_add_hole (mp, idx, (FtLatLon *) pts->data, pts->len);
    }
  return TRUE;
}

FtMultiPolygon *
ft_multipolygon_from_geojson (JsonNode *geometry, GError **error)
{
  g_autoptr(FtMultiPolygon) mp = NULL;
  JsonObject *obj;
  const char *type;
  JsonNode *coords;

  g_return_val_if_fail (error == NULL || *error == NULL, NULL);
  if (geometry == NULL || !JSON_NODE_HOLDS_OBJECT (geometry))
    {
      g_set_error (error, FT_GEOFENCE_ERROR, FT_GEOFENCE_ERROR_PARSE,
                   "geometry: expected a GeoJSON object");
      return NULL;
    }
  obj = json_node_get_object (geometry);
  type = ft_json_get_string (obj, "type");
  if (type == NULL)
    {
      g_set_error (error, FT_GEOFENCE_ERROR, FT_GEOFENCE_ERROR_PARSE,
                   "geometry.type: missing or not a string");
      return NULL;
    }
  coords = json_object_get_member (obj, "coordinates");
  if (coords == NULL || !JSON_NODE_HOLDS_ARRAY (coords))
    {
      g_set_error (error, FT_GEOFENCE_ERROR, FT_GEOFENCE_ERROR_PARSE,
                   "geometry.coordinates: missing or not an array");
      return NULL;
    }
  mp = ft_multipolygon_new ();
  if (g_str_equal (type, "Polygon"))
    {
      if (!parse_polygon (mp, coords, "geometry.coordinates", error))
        return NULL;
    }
  else if (g_str_equal (type, "MultiPolygon"))
    {
      JsonArray *polys = json_node_get_array (coords);
      guint i, n = json_array_get_length (polys);

      if (n == 0)
        {
          g_set_error (error, FT_GEOFENCE_ERROR, FT_GEOFENCE_ERROR_PARSE,
                       "geometry.coordinates: a MultiPolygon needs at least one polygon");
          return NULL;
        }
      for (i = 0; i < n; i++)
        {
          g_autofree char *w = g_strdup_printf ("geometry.coordinates polygon %u", i);
          if (!parse_polygon (mp, json_array_get_element (polys, i), w, error))
            return NULL;
        }
    }
  else
    {
      g_set_error (error, FT_GEOFENCE_ERROR, FT_GEOFENCE_ERROR_PARSE,
                   "geometry.type: \"%s\" is not supported (need Polygon or MultiPolygon)", type);
      return NULL;
    }
  return g_steal_pointer (&mp);
}

static JsonArray *
ring_to_json (const FtRing *r)
{
  JsonArray *a = json_array_sized_new (r->n + 1);
  guint i;

  for (i = 0; i <= r->n && r->n > 0; i++)
    {
      const FtLatLon *p = &r->pts[i % r->n];   /* GeoJSON rings are closed */
      JsonArray *pa = json_array_sized_new (2);

      json_array_add_double_element (pa, p->lon);
      json_array_add_double_element (pa, p->lat);
      json_array_add_array_element (a, pa);
    }
  return a;
}

JsonNode *
ft_multipolygon_to_geojson (const FtMultiPolygon *mp)
{
  JsonObject *obj;
  JsonArray *polys;
  JsonNode *node;
  guint i, j;

  g_return_val_if_fail (mp != NULL, NULL);
  obj = json_object_new ();
  polys = json_array_sized_new (mp->n_polys);
  for (i = 0; i < mp->n_polys; i++)
    {
      JsonArray *rings = json_array_sized_new (mp->polys[i].n_rings);

      for (j = 0; j < mp->polys[i].n_rings; j++)
        json_array_add_array_element (rings, ring_to_json (&mp->polys[i].rings[j]));
      json_array_add_array_element (polys, rings);
    }
  json_object_set_string_member (obj, "type", "MultiPolygon");
  json_object_set_array_member (obj, "coordinates", polys);
  node = json_node_new (JSON_NODE_OBJECT);
  json_node_take_object (node, obj);
  return node;
}

/* ------------------------------------------------------------ grid index */

/* A cell holds its ids with their positions, so a query reads each
 * cell's items in one run instead of chasing every id into the
 * entry table (at 50,000 vehicles those lookups were cache misses and most
 * of a query's cost). */
typedef struct {
  FtLatLon pos;
  guint    id;
} Item;

/* The first CELL_INLINE items live in the cell itself (one 64-byte cache
 * line with the counts), the rest in `more`: most cells of a fine grid hold
 * one or two ids, and a query then reads them without a second miss. */
#define CELL_INLINE 2
typedef struct {
  guint  n, cap;           /* items; capacity of `more` */
  Item  *more;             /* items CELL_INLINE.. */
  Item   in[CELL_INLINE];
} Cell;

G_STATIC_ASSERT (sizeof (Cell) == 64);

static inline Item *
cell_item (Cell *c, guint k)
{
  return k < CELL_INLINE ? &c->in[k] : &c->more[k - CELL_INLINE];
}

static inline const Item *
cell_item_c (const Cell *c, guint k)
{
  return k < CELL_INLINE ? &c->in[k] : &c->more[k - CELL_INLINE];
}

typedef struct {
  guint    cell;
  guint    slot;
  gboolean present;
} Entry;

struct _FtGridIndex {
  FtBBox  bounds;
  double  dlat, dlon;      /* cell size in degrees */
  guint   rows, cols;
  Cell   *cells;
  gpointer cells_mem;      /* cells' allocation (cells is aligned inside) */
  /* one bit per cell, set while the cell holds an id: a query steps over
   * empty cells a word of 64 at a time without touching them (fine grids
   * are mostly empty, and their cells are megabytes apart in memory) */
  guint64 *occupied;
  /* the same bits column by column (bit c * rows + r), so a nearest
   * search's ring steps over the empty cells of its left and right edges
   * a word at a time too, instead of testing one bit per row */
  guint64 *occupied_t;
  Entry  *entries;         /* indexed by id */
  guint   n_entries;       /* allocated */
  guint   size;            /* present ids */
  /* cos of the last query's latitude: a search that widens its radius
   * around one point asks again at the same latitude */
  double  cos_lat, cos_of;
  /* cos of the latitude half a degree beyond the bounds' farthest from the
   * equator: below cos of every latitude a nearest search near the bounds
   * meets, so it bounds distances without a cos per query */
  double  far_lat, cos_far;
  /* 1 - H^2/6 for H half the bounds' longitude span in radians (0 when
   * H > 1): sin h >= h (1 - H^2/6) for every 0 <= h <= H, so a nearest
   * search from inside the bounds bounds a longitude gap linearly */
  double  lon_shrink;
};

#define FT_GRID_MAX_CELLS (1u << 22)

FtGridIndex *
ft_grid_index_new (FtBBox bounds, double cell_m)
{
  FtGridIndex *g;
  double h, w, mid;

  g_return_val_if_fail (cell_m > 0, NULL);
  g_return_val_if_fail (bounds.max_lat >= bounds.min_lat && bounds.max_lon >= bounds.min_lon, NULL);
  g = g_new0 (FtGridIndex, 1);
  g->bounds = bounds;
  mid = (bounds.min_lat + bounds.max_lat) / 2.0;
  h = (bounds.max_lat - bounds.min_lat) * FT_M_PER_DEG;
  w = (bounds.max_lon - bounds.min_lon) * FT_M_PER_DEG * MAX (cos (mid * G_PI / 180.0), 1e-6);
  /* Keep the cell count bounded: grow cells for huge areas. */
  while ((ceil (h / cell_m) + 1) * (ceil (w / cell_m) + 1) > FT_GRID_MAX_CELLS)
    cell_m *= 2;
  g->rows = (guint) MAX (1.0, ceil (h / cell_m));
  g->cols = (guint) MAX (1.0, ceil (w / cell_m));
  g->dlat = MAX ((bounds.max_lat - bounds.min_lat) / g->rows, 1e-12);
  g->dlon = MAX ((bounds.max_lon - bounds.min_lon) / g->cols, 1e-12);
  /* cache-line aligned, so each cell is one line; zeroed lazily by the
   * allocator (pages of cells never used are never touched) */
  g->cells_mem = g_malloc0 ((gsize) g->rows * g->cols * sizeof (Cell) + 63);
  g->cells = (Cell *) (((guintptr) g->cells_mem + 63) & ~(guintptr) 63);
  g->occupied = g_new0 (guint64, ((gsize) g->rows * g->cols + 63) / 64);
  g->occupied_t = g_new0 (guint64, ((gsize) g->rows * g->cols + 63) / 64);
  g->cos_lat = NAN;
  g->far_lat = MIN (90.0, MAX (fabs (bounds.min_lat), fabs (bounds.max_lat)) + 0.5);
  g->cos_far = MAX (cos (g->far_lat * G_PI / 180.0), 0.0);
  double half_span = (bounds.max_lon - bounds.min_lon + 1e-6) * G_PI / 360.0;
  g->lon_shrink = half_span <= 1.0 ? 1.0 - half_span * half_span / 6.0 : 0.0;
  return g;
}

void
ft_grid_index_free (FtGridIndex *g)
{
  guint i;

  if (g == NULL)
    return;
  for (i = 0; i < g->rows * g->cols; i++)
    g_free (g->cells[i].more);
  g_free (g->cells_mem);
  g_free (g->occupied);
  g_free (g->occupied_t);
  g_free (g->entries);
  g_free (g);
}

static inline int
clamp_int (double v, int hi)
{
  if (!(v >= 0))          /* also catches NaN */
    return 0;
  if (v > hi)
    return hi;
  return (int) v;
}

/* Points outside the bounds go to the nearest edge cell. */
static inline guint
cell_of (const FtGridIndex *g, FtLatLon p)
{
  int r = clamp_int ((p.lat - g->bounds.min_lat) / g->dlat, (int) g->rows - 1);
  int c = clamp_int ((p.lon - g->bounds.min_lon) / g->dlon, (int) g->cols - 1);

  return (guint) r * g->cols + (guint) c;
}

/* A cell's bit in occupied_t. */
static inline guint
cell_t (const FtGridIndex *g, guint cell)
{
  return (cell % g->cols) * g->rows + cell / g->cols;
}

static void
cell_add (FtGridIndex *g, guint cell, guint id, FtLatLon p)
{
  Cell *c = &g->cells[cell];

  if (c->n >= CELL_INLINE && c->n - CELL_INLINE == c->cap)
    {
      c->cap = c->cap ? c->cap * 2 : 4;
      c->more = g_renew (Item, c->more, c->cap);
    }
  g->entries[id].cell = cell;
  g->entries[id].slot = c->n;
  Item *it = cell_item (c, c->n);
  it->pos = p;
  it->id = id;
  if (c->n++ == 0)
    {
      guint t = cell_t (g, cell);
      g->occupied[cell / 64] |= G_GUINT64_CONSTANT (1) << (cell % 64);
      g->occupied_t[t / 64] |= G_GUINT64_CONSTANT (1) << (t % 64);
    }
}

static void
cell_remove (FtGridIndex *g, guint id)
{
  Entry *e = &g->entries[id];
  Cell *c = &g->cells[e->cell];
  Item last = *cell_item (c, --c->n);

  if (last.id != id)
    {
      *cell_item (c, e->slot) = last;
      g->entries[last.id].slot = e->slot;
    }
  if (c->n == 0)
    {
      guint t = cell_t (g, e->cell);
      g->occupied[e->cell / 64] &= ~(G_GUINT64_CONSTANT (1) << (e->cell % 64));
      g->occupied_t[t / 64] &= ~(G_GUINT64_CONSTANT (1) << (t % 64));
    }
}

void
ft_grid_index_insert (FtGridIndex *g, guint id, FtLatLon p)
{
  g_return_if_fail (g != NULL);
  if (id >= g->n_entries)
    {
      guint n = MAX (g->n_entries * 2, 64);
      while (n <= id)
        n *= 2;
      g->entries = g_renew (Entry, g->entries, n);
      memset (g->entries + g->n_entries, 0, sizeof (Entry) * (n - g->n_entries));
      g->n_entries = n;
    }
  if (g->entries[id].present)
    {
      ft_grid_index_move (g, id, p);
      return;
    }
  g->entries[id].present = TRUE;
  cell_add (g, cell_of (g, p), id, p);
  g->size++;
}

void
ft_grid_index_move (FtGridIndex *g, guint id, FtLatLon p)
{
  Entry *e;
  guint cell;

  g_return_if_fail (g != NULL);
  if (id >= g->n_entries || !g->entries[id].present)
    {
      ft_grid_index_insert (g, id, p);
      return;
    }
  e = &g->entries[id];
  cell = cell_of (g, p);
  if (cell != e->cell)
    {
      cell_remove (g, id);
      cell_add (g, cell, id, p);
    }
  else
    cell_item (&g->cells[cell], e->slot)->pos = p;
}

void
ft_grid_index_remove (FtGridIndex *g, guint id)
{
  g_return_if_fail (g != NULL);
  if (id >= g->n_entries || !g->entries[id].present)
    return;
  cell_remove (g, id);
  g->entries[id].present = FALSE;
  g->size--;
}

gboolean
ft_grid_index_has (FtGridIndex *g, guint id)
{
  g_return_val_if_fail (g != NULL, FALSE);
  return id < g->n_entries && g->entries[id].present;
}

guint
ft_grid_index_size (FtGridIndex *g)
{
  g_return_val_if_fail (g != NULL, 0);
  return g->size;
}

void
ft_grid_index_foreach (FtGridIndex *g, FtGridVisitFunc fn, gpointer user_data)
{
  g_return_if_fail (g != NULL);
  g_return_if_fail (fn != NULL);
  for (guint wi = 0; g->size > 0 && wi < (g->rows * g->cols + 63) / 64; wi++)
    {
      guint64 bits = g->occupied[wi];
      while (bits != 0)
        {
          guint bit = (guint) __builtin_ctzll (bits);
          const Cell *cell = &g->cells[wi * 64 + bit];
          for (guint k = 0; k < cell->n; k++)
            if (!fn (cell_item_c (cell, k)->id, cell_item_c (cell, k)->pos, 0.0, user_data))
              return;
          guint64 lo = bit == 63 ? 0 : ~G_GUINT64_CONSTANT (0) << (bit + 1);
          bits = g->occupied[wi] & lo;
        }
    }
}

/* The bits of occupancy word wi that fall in cells first..last. */
static inline guint64
row_word_mask (guint wi, guint first, guint last)
{
  guint64 lo = wi == first / 64 ? ~G_GUINT64_CONSTANT (0) << (first % 64) : ~G_GUINT64_CONSTANT (0);
  guint64 hi = wi == last / 64 ? ~G_GUINT64_CONSTANT (0) >> (63 - last % 64) : ~G_GUINT64_CONSTANT (0);
  return lo & hi;
}

void
ft_grid_index_visit (FtGridIndex *g, FtLatLon p, double radius_m,
                     FtGridVisitFunc fn, gpointer user_data)
{
  double rlat, rlon, c, kx, slack2;
  double cos_p = NAN;    /* ft_distance_cos_lat (p.lat), at the first exact distance */
  int r0, r1, c0, c1, r;

  g_return_if_fail (g != NULL);
  g_return_if_fail (fn != NULL);
  if (g->size == 0 || !(radius_m >= 0))
    return;
  if (p.lat != g->cos_lat)
    {
      g->cos_of = cos (p.lat * G_PI / 180.0);
      g->cos_lat = p.lat;
    }
  c = g->cos_of;
  kx = FT_M_PER_DEG * c;
  /* The planar form is within 0.5% of haversine below 50 km; beyond that
   * skip the prefilter rather than risk a false reject. */
  slack2 = radius_m <= 50000 ? (radius_m * 1.01 + 1.0) * (radius_m * 1.01 + 1.0) : INFINITY;
  rlat = radius_m / FT_M_PER_DEG;
  rlon = c > 1e-6 ? radius_m / (FT_M_PER_DEG * c) : 360.0;
  /* 1% slack so the exact filter, not the cell bounds, decides. */
  rlat *= 1.01;
  rlon *= 1.01;
  r0 = clamp_int ((p.lat - rlat - g->bounds.min_lat) / g->dlat, (int) g->rows - 1);
  r1 = clamp_int ((p.lat + rlat - g->bounds.min_lat) / g->dlat, (int) g->rows - 1);
  c0 = clamp_int ((p.lon - rlon - g->bounds.min_lon) / g->dlon, (int) g->cols - 1);
  c1 = clamp_int ((p.lon + rlon - g->bounds.min_lon) / g->dlon, (int) g->cols - 1);
  for (r = r0; r <= r1; r++)
    {
      /* the row's cells c0..c1 in order, occupied ones only; the word is
       * read again after each cell, so a callback that changes the index
       * sees the same visit as a plain loop over the cells would give */
      guint first = (guint) r * g->cols + (guint) c0, last = (guint) r * g->cols + (guint) c1;
      for (guint wi = first / 64; wi <= last / 64; wi++)
        {
          guint64 mask = row_word_mask (wi, first, last);
          guint64 bits = g->occupied[wi] & mask;
          while (bits != 0)
            {
              guint bit = (guint) __builtin_ctzll (bits);
              const Cell *cell = &g->cells[wi * 64 + bit];
              guint k;

              for (k = 0; k < cell->n; k++)
                {
                  const Item *it = cell_item_c (cell, k);
                  guint id = it->id;
                  FtLatLon q = it->pos;
                  double dy = (q.lat - p.lat) * FT_M_PER_DEG, dx = (q.lon - p.lon) * kx, d;

                  /* Cheap planar reject (1% slack), then the exact distance. */
                  if (dx * dx + dy * dy > slack2)
                    continue;
                  if (G_UNLIKELY (isnan (cos_p)))
                    cos_p = ft_distance_cos_lat (p.lat);
                  d = ft_distance_from_m (p, cos_p, q);   /* ft_distance_m (p, q) */
                  if (d <= radius_m && !fn (id, q, d, user_data))
                    return;
                }
              guint64 above = bit == 63 ? 0 : ~G_GUINT64_CONSTANT (0) << (bit + 1);
              bits = g->occupied[wi] & mask & above;
            }
        }
    }
}

/* Nearest search, ring by ring. A lower bound on the distance from p to
 * every item a ring's cells can hold: each cell of ring k lies on one of
 * its four sides (the row k above or below p's cell, the column k left or
 * right), and an item of such a cell lies beyond that side's edge (points
 * outside the bounds are clamped into edge cells, which only pushes them
 * farther out). Beyond a latitude gap of dphi the great-circle distance is
 * at least R dphi; beyond a longitude gap of dlam it is at least
 * 2 R sqrt (cos phi1 cos phi2) sin (dlam / 2) (haversine with asin x >= x),
 * where phi2 is bounded by the latitudes max_m reaches. */
#define NEAREST_EPS_DEG 1e-9     /* far above the rounding of cell_of */

static double
ring_bound_m (const FtGridIndex *g, FtLatLon p, int rc, int cc, int k,
              double sqrt_cos, gboolean *any_side)
{
  const double m_per_rad = FT_M_PER_DEG * 180.0 / G_PI;
  double b = INFINITY, gap;

  *any_side = FALSE;
  if (rc + k <= (int) g->rows - 1)
    {
      gap = g->bounds.min_lat + (rc + k) * g->dlat - p.lat - NEAREST_EPS_DEG;
      b = MIN (b, MAX (gap, 0.0) * FT_M_PER_DEG);
      *any_side = TRUE;
    }
  if (rc - k >= 0)
    {
      gap = p.lat - (g->bounds.min_lat + (rc - k + 1) * g->dlat) - NEAREST_EPS_DEG;
      b = MIN (b, MAX (gap, 0.0) * FT_M_PER_DEG);
      *any_side = TRUE;
    }
  for (int side = 0; side < 2; side++)
    {
      int c = side == 0 ? cc + k : cc - k;
      if (c < 0 || c > (int) g->cols - 1)
        continue;
      *any_side = TRUE;
      gap = side == 0 ? g->bounds.min_lon + c * g->dlon - p.lon - NEAREST_EPS_DEG
                      : p.lon - (g->bounds.min_lon + (c + 1) * g->dlon) - NEAREST_EPS_DEG;
      double h = MAX (gap, 0.0) * G_PI / 180.0 / 2.0;
      /* sin h >= h - h^3/6 for h >= 0 */
      b = MIN (b, h >= G_PI / 2.0 ? 0.0 : 2.0 * m_per_rad * sqrt_cos * MAX (h - h * h * h / 6.0, 0.0));
    }
  /* rounding of the distance itself */
  return b * (1.0 - 1e-9) - 1e-6;
}

typedef struct {
  FtLatLon p;
  double   max_m, kx;
  double   best_d, lim2;
  gint64   best;
  FtGridAcceptFunc accept;
  gpointer ud;
  double   cos_p;         /* ft_distance_cos_lat (p.lat), NAN until the first exact distance */
} NearestCtx;

static inline void
nearest_cell (NearestCtx *n, const Cell *cell)
{
  for (guint k = 0; k < cell->n; k++)
    {
      const Item *it = cell_item_c (cell, k);
      FtLatLon q = it->pos;
      double dy = (q.lat - n->p.lat) * FT_M_PER_DEG, dx = (q.lon - n->p.lon) * n->kx, d;

      /* the planar prefilter of the visit (1% slack), then the exact distance */
      if (dx * dx + dy * dy > n->lim2)
        continue;
      if (G_UNLIKELY (isnan (n->cos_p)))
        n->cos_p = ft_distance_cos_lat (n->p.lat);
      d = ft_distance_from_m (n->p, n->cos_p, q);   /* ft_distance_m (n->p, q) */
      if (d > n->max_m)
        continue;
      if (n->best >= 0 && (d > n->best_d || (d == n->best_d && (gint64) it->id > n->best)))
        continue;
      if (n->accept != NULL && !n->accept (it->id, n->ud))
        continue;
      n->best = it->id;
      n->best_d = d;
      n->lim2 = d <= 50000 ? (d * 1.01 + 1.0) * (d * 1.01 + 1.0) : INFINITY;
    }
}

/* The occupied cells whose bits first..last of `words` are set, bit b
 * standing for cell (b - base) * stride + off: a row's run of the
 * row-major bitmap (base 0, stride 1, off 0) or a column's run of the
 * column-major one (base c * rows, stride cols, off c). */
static inline void
nearest_run (NearestCtx *n, const FtGridIndex *g, const guint64 *words,
             guint first, guint last, guint base, guint stride, guint off)
{
  if (first / 64 == last / 64)     /* a short run (most rings): one word, one mask */
    {
      guint64 bits = words[first / 64]
        & ((~G_GUINT64_CONSTANT (0) >> (63 - (last - first))) << (first % 64));
      while (bits != 0)
        {
          guint bit = (guint) __builtin_ctzll (bits);
          bits &= bits - 1;
          nearest_cell (n, &g->cells[(first / 64 * 64 + bit - base) * stride + off]);
        }
      return;
    }
  for (guint wi = first / 64; wi <= last / 64; wi++)
    {
      guint64 bits = words[wi] & row_word_mask (wi, first, last);
      while (bits != 0)
        {
          guint bit = (guint) __builtin_ctzll (bits);
          bits &= bits - 1;
          nearest_cell (n, &g->cells[(wi * 64 + bit - base) * stride + off]);
        }
    }
}

/* The occupied cells of row r, columns c0..c1. */
static inline void
nearest_row (NearestCtx *n, const FtGridIndex *g, int r, int c0, int c1)
{
  guint first = (guint) r * g->cols + (guint) c0, last = (guint) r * g->cols + (guint) c1;
  nearest_run (n, g, g->occupied, first, last, 0, 1, 0);
}

/* The occupied cells of column c, rows r0..r1. */
static inline void
nearest_col (NearestCtx *n, const FtGridIndex *g, int c, int r0, int r1)
{
  guint base = (guint) c * g->rows;
  nearest_run (n, g, g->occupied_t, base + (guint) r0, base + (guint) r1, base, g->cols, (guint) c);
}

gint64
ft_grid_index_nearest (FtGridIndex *g, FtLatLon p, double max_m,
                       FtGridAcceptFunc accept, gpointer user_data, double *dist_m)
{
  g_return_val_if_fail (g != NULL, -1);
  if (g->size == 0 || !(max_m >= 0) || !isfinite (p.lat) || !isfinite (p.lon))
    return -1;
  /* the farthest latitude a point within max_m can have */
  double reach = fabs (p.lat) + max_m / FT_M_PER_DEG + NEAREST_EPS_DEG;
  double cos_p, sqrt_cos;
  if (reach <= g->far_lat)
    cos_p = sqrt_cos = g->cos_far;   /* below cos of p's latitude and of the reach */
  else
    {
      if (p.lat != g->cos_lat)
        {
          g->cos_of = cos (p.lat * G_PI / 180.0);
          g->cos_lat = p.lat;
        }
      cos_p = MAX (g->cos_of, 0.0);
      sqrt_cos = reach >= 90.0 ? 0.0 : sqrt (cos_p * MAX (cos (reach * G_PI / 180.0), 0.0));
    }
  /* the planar prefilter with cos no larger than p's: it only rejects
   * less (its 1% slack holds as in the visit) */
  NearestCtx n = { p, max_m, FT_M_PER_DEG * cos_p, 0, INFINITY, -1, accept, user_data, NAN };
  if (max_m <= 50000)
    n.lim2 = (max_m * 1.01 + 1.0) * (max_m * 1.01 + 1.0);
  guint c0 = cell_of (g, p);
  int rc = (int) (c0 / g->cols), cc = (int) (c0 % g->cols);
  int rows = (int) g->rows, cols = (int) g->cols;
  /* From inside the bounds (most queries) each side's bound is affine in
   * k: ring_bound_m's gaps are those of ring 0's sides plus k cells, and a
   * longitude gap, at most the bounds' span, is bounded by its linear
   * form scaled by lon_shrink. The affine form's rounding (some 1e-14
   * degrees) stays far inside NEAREST_EPS_DEG. Elsewhere, ring_bound_m. */
  gboolean affine = g->lon_shrink > 0
    && p.lat >= g->bounds.min_lat && p.lat <= g->bounds.max_lat
    && p.lon >= g->bounds.min_lon && p.lon <= g->bounds.max_lon;
  const double m_lon = FT_M_PER_DEG * sqrt_cos * g->lon_shrink;
  const double s_lat = g->dlat * FT_M_PER_DEG, s_lon = g->dlon * m_lon;
  const double a_n = (g->bounds.min_lat + rc * g->dlat - p.lat - NEAREST_EPS_DEG) * FT_M_PER_DEG;
  const double a_s = (p.lat - (g->bounds.min_lat + (rc + 1) * g->dlat) - NEAREST_EPS_DEG) * FT_M_PER_DEG;
  const double a_e = (g->bounds.min_lon + cc * g->dlon - p.lon - NEAREST_EPS_DEG) * m_lon;
  const double a_w = (p.lon - (g->bounds.min_lon + (cc + 1) * g->dlon) - NEAREST_EPS_DEG) * m_lon;
  const int k_n = rows - 1 - rc, k_s = rc, k_e = cols - 1 - cc, k_w = cc;
  const int k_any = MAX (MAX (k_n, k_s), MAX (k_e, k_w));

  for (int k = 0;; k++)
    {
      gboolean any;
      double bound;
      if (k == 0)
        bound = 0.0, any = TRUE;
      else if (affine)
        {
          double b = INFINITY;
          if (k <= k_n)
            b = MIN (b, a_n + k * s_lat);
          if (k <= k_s)
            b = MIN (b, a_s + k * s_lat);
          if (k <= k_e)
            b = MIN (b, a_e + k * s_lon);
          if (k <= k_w)
            b = MIN (b, a_w + k * s_lon);
          any = k <= k_any;
          bound = MAX (b, 0.0) * (1.0 - 1e-9) - 1e-6;
        }
      else
        bound = ring_bound_m (g, p, rc, cc, k, sqrt_cos, &any);
      if (k > 0 && (!any || bound > max_m || (n.best >= 0 && bound > n.best_d)))
        break;
      int ca = MAX (cc - k, 0), cb = MIN (cc + k, cols - 1);
      if (rc - k >= 0)
        nearest_row (&n, g, rc - k, ca, cb);
      if (k > 0 && rc + k <= rows - 1)
        nearest_row (&n, g, rc + k, ca, cb);
      int ra = MAX (rc - k + 1, 0), rb = MIN (rc + k - 1, rows - 1);
      if (k > 0 && ra <= rb)
        {
          if (cc - k >= 0)
            nearest_col (&n, g, cc - k, ra, rb);
          if (cc + k <= cols - 1)
            nearest_col (&n, g, cc + k, ra, rb);
        }
    }
  if (n.best >= 0 && dist_m != NULL)
    *dist_m = n.best_d;
  return n.best;
}
