/* ft-tiles.c — bake a city pack into MBTiles raster tiles with cairo, and
 * read them back.
 *
 * Baking works zoom by zoom: node positions are projected to Web Mercator
 * pixels once per zoom, street segments are binned into the tiles they touch,
 * and each tile is drawn (background, water, parks, zones, casings, streets by
 * class) and stored as PNG in one SQLite transaction in a temporary file that
 * is renamed into place at the end.
 */
#include "ft-tiles.h"
#include "ft-file.h"

#include <cairo.h>
#include <glib/gstdio.h>
#include <math.h>
#include <sqlite3.h>
#include <string.h>
#include <unistd.h>

G_DEFINE_QUARK (ft-tiles-error-quark, ft_tiles_error)

/* ------------------------------------------------------------------ math */

static double
lon_to_px (double lon, int z)
{
  return (lon + 180.0) / 360.0 * FT_TILES_SIZE * (double) (1 << z);
}

static double
lat_to_px (double lat, int z)
{
  double r = lat * G_PI / 180.0;
  if (lat > 85.0511)
    r = 85.0511 * G_PI / 180.0;
  if (lat < -85.0511)
    r = -85.0511 * G_PI / 180.0;
  return (1.0 - log (tan (r) + 1.0 / cos (r)) / G_PI) / 2.0 * FT_TILES_SIZE * (double) (1 << z);
}

void
ft_tiles_latlon_to_tile (FtLatLon p, int z, int *x, int *y)
{
  int n = 1 << z;
  int tx = (int) floor (lon_to_px (p.lon, z) / FT_TILES_SIZE);
  int ty = (int) floor (lat_to_px (p.lat, z) / FT_TILES_SIZE);
  *x = CLAMP (tx, 0, n - 1);
  *y = CLAMP (ty, 0, n - 1);
}

void
ft_tiles_bbox_range (const FtBBox *bbox, int z, int *x0, int *y0, int *x1, int *y1)
{
  FtLatLon nw = { bbox->max_lat, bbox->min_lon };
  FtLatLon se = { bbox->min_lat, bbox->max_lon };
  ft_tiles_latlon_to_tile (nw, z, x0, y0);
  ft_tiles_latlon_to_tile (se, z, x1, y1);
}

/* ---------------------------------------------------------------- styles */

typedef struct {
  double r, g, b;
  double width17;     /* px at zoom 17 */
  int    min_zoom;
  double dash;        /* 0 = solid */
  gboolean casing;
} RoadStyle;

static const RoadStyle road_styles[FT_N_ROAD_CLASSES] = {
  [FT_ROAD_ARTERIAL]    = { 0.988, 0.784, 0.529, 13.0, 0, 0,   TRUE },
  [FT_ROAD_SECONDARY]   = { 0.969, 0.980, 0.749, 10.0, 0, 0,   TRUE },
  [FT_ROAD_RESIDENTIAL] = { 1.000, 1.000, 1.000,  7.5, 12, 0,  TRUE },
  [FT_ROAD_CYCLEWAY]    = { 0.200, 0.300, 0.950,  2.2, 14, 4,  FALSE },
  [FT_ROAD_PATH]        = { 0.980, 0.500, 0.447,  1.6, 15, 2,  FALSE },
  [FT_ROAD_BRIDGE]      = { 0.988, 0.784, 0.529, 11.0, 0, 0,   TRUE },
};

/* Draw order: lowest first. */
static const FtRoadClass road_order[] = {
  FT_ROAD_PATH, FT_ROAD_CYCLEWAY, FT_ROAD_RESIDENTIAL,
  FT_ROAD_SECONDARY, FT_ROAD_ARTERIAL, FT_ROAD_BRIDGE,
};

static const double zone_colours[FT_N_ZONE_KINDS][3] = {
  [FT_ZONE_RESIDENTIAL] = { 0.95, 0.60, 0.20 },
  [FT_ZONE_OFFICE]      = { 0.20, 0.45, 0.85 },
  [FT_ZONE_UNIVERSITY]  = { 0.55, 0.30, 0.80 },
  [FT_ZONE_NIGHTLIFE]   = { 0.85, 0.20, 0.55 },
  [FT_ZONE_PARK]        = { 0.30, 0.70, 0.30 },
  [FT_ZONE_TRANSIT]     = { 0.10, 0.60, 0.65 },
  [FT_ZONE_MIXED]       = { 0.55, 0.55, 0.55 },
};

static double
road_width (FtRoadClass c, int z)
{
  double w = road_styles[c].width17 * pow (2.0, (z - 17) * 0.75);
  return MAX (w, 0.6);
}

/* ------------------------------------------------------------- rendering */

typedef struct {
  const FtCity        *city;
  const FtTilesExtras *extras;
  gboolean             draw_zones;
  int                  z;
  double              *npx, *npy;    /* node pixel coords at z */
  /* edge bins over the tile range */
  int                  x0, y0, x1, y1;
  GArray             **bins;         /* (x1-x0+1)*(y1-y0+1), edge indices */
  guint32             *edge_from;    /* source node per edge */
} ZoomCtx;

static gboolean
edge_is_drawn (const FtRoadGraph *g, guint32 u, guint32 v)
{
  /* Draw each undirected street once: u < v, or v has no edge back to u. */
  if (u < v)
    return TRUE;
  for (guint32 k = g->first_edge[v]; k < g->first_edge[v + 1]; k++)
    if (g->edges[k].to == u)
      return FALSE;
  return TRUE;
}

static void
zoom_ctx_init (ZoomCtx *zc, const FtCity *city, const FtTilesExtras *extras,
               gboolean draw_zones, int z, gboolean bin_all)
{
  const FtRoadGraph *g = &city->graph;

  memset (zc, 0, sizeof *zc);
  zc->city = city;
  zc->extras = extras;
  zc->draw_zones = draw_zones;
  zc->z = z;
  zc->npx = g_new (double, MAX (g->n_nodes, 1));
  zc->npy = g_new (double, MAX (g->n_nodes, 1));
  for (guint i = 0; i < g->n_nodes; i++)
    {
      zc->npx[i] = lon_to_px (g->nodes[i].lon, z);
      zc->npy[i] = lat_to_px (g->nodes[i].lat, z);
    }
  zc->edge_from = g_new (guint32, MAX (g->n_edges, 1));
  for (guint u = 0; u < g->n_nodes; u++)
    for (guint32 k = g->first_edge[u]; k < g->first_edge[u + 1]; k++)
      zc->edge_from[k] = u;

  if (!bin_all)
    return;

  ft_tiles_bbox_range (&city->bbox, z, &zc->x0, &zc->y0, &zc->x1, &zc->y1);
  int w = zc->x1 - zc->x0 + 1, h = zc->y1 - zc->y0 + 1;
  zc->bins = g_new0 (GArray *, (gsize) w * h);
  double pad = road_width (FT_ROAD_ARTERIAL, z) + 2;
  for (guint k = 0; k < g->n_edges; k++)
    {
      guint32 u = zc->edge_from[k], v = g->edges[k].to;
      if (v >= g->n_nodes || !edge_is_drawn (g, u, v))
        continue;
      double minx = MIN (zc->npx[u], zc->npx[v]) - pad, maxx = MAX (zc->npx[u], zc->npx[v]) + pad;
      double miny = MIN (zc->npy[u], zc->npy[v]) - pad, maxy = MAX (zc->npy[u], zc->npy[v]) + pad;
      int tx0 = MAX ((int) floor (minx / FT_TILES_SIZE), zc->x0);
      int tx1 = MIN ((int) floor (maxx / FT_TILES_SIZE), zc->x1);
      int ty0 = MAX ((int) floor (miny / FT_TILES_SIZE), zc->y0);
      int ty1 = MIN ((int) floor (maxy / FT_TILES_SIZE), zc->y1);
      for (int ty = ty0; ty <= ty1; ty++)
        for (int tx = tx0; tx <= tx1; tx++)
          {
            GArray **bin = &zc->bins[(gsize) (ty - zc->y0) * w + (tx - zc->x0)];
            if (*bin == NULL)
              *bin = g_array_new (FALSE, FALSE, sizeof (guint32));
            guint32 kk = k;
            g_array_append_val (*bin, kk);
          }
    }
}

static void
zoom_ctx_clear (ZoomCtx *zc)
{
  if (zc->bins)
    {
      gsize n = (gsize) (zc->x1 - zc->x0 + 1) * (zc->y1 - zc->y0 + 1);
      for (gsize i = 0; i < n; i++)
        if (zc->bins[i])
          g_array_unref (zc->bins[i]);
      g_free (zc->bins);
    }
  g_free (zc->npx);
  g_free (zc->npy);
  g_free (zc->edge_from);
  memset (zc, 0, sizeof *zc);
}

static gboolean
bbox_overlaps_tile (const FtBBox *b, int z, int x, int y, double pad_px)
{
  double minx = lon_to_px (b->min_lon, z) - pad_px, maxx = lon_to_px (b->max_lon, z) + pad_px;
  double miny = lat_to_px (b->max_lat, z) - pad_px, maxy = lat_to_px (b->min_lat, z) + pad_px;
  return !(maxx < x * FT_TILES_SIZE || minx > (x + 1) * FT_TILES_SIZE ||
           maxy < y * FT_TILES_SIZE || miny > (y + 1) * FT_TILES_SIZE);
}

static void
path_multipolygon (cairo_t *cr, const FtMultiPolygon *mp, int z, int x, int y)
{
  double ox = (double) x * FT_TILES_SIZE, oy = (double) y * FT_TILES_SIZE;
  for (guint p = 0; p < mp->n_polys; p++)
    for (guint r = 0; r < mp->polys[p].n_rings; r++)
      {
        const FtRing *ring = &mp->polys[p].rings[r];
        for (guint i = 0; i < ring->n; i++)
          {
            double px = lon_to_px (ring->pts[i].lon, z) - ox;
            double py = lat_to_px (ring->pts[i].lat, z) - oy;
            if (i == 0)
              cairo_move_to (cr, px, py);
            else
              cairo_line_to (cr, px, py);
          }
        cairo_close_path (cr);
      }
}

static void
fill_mp (cairo_t *cr, const FtMultiPolygon *mp, int z, int x, int y,
         double r, double g, double b, double a, double outline_a)
{
  if (mp == NULL || mp->n_polys == 0 || !bbox_overlaps_tile (&mp->bbox, z, x, y, 4))
    return;
  cairo_new_path (cr);
  path_multipolygon (cr, mp, z, x, y);
  cairo_set_source_rgba (cr, r, g, b, a);
  if (outline_a > 0)
    {
      cairo_fill_preserve (cr);
      cairo_set_source_rgba (cr, r * 0.7, g * 0.7, b * 0.7, outline_a);
      cairo_set_line_width (cr, 1.0);
      cairo_stroke (cr);
    }
  else
    cairo_fill (cr);
}

static void
draw_edges (cairo_t *cr, const ZoomCtx *zc, const guint32 *idx, guint n,
            int x, int y, FtRoadClass cls, gboolean casing)
{
  const FtRoadGraph *g = &zc->city->graph;
  double ox = (double) x * FT_TILES_SIZE, oy = (double) y * FT_TILES_SIZE;
  gboolean any = FALSE;

  cairo_new_path (cr);
  for (guint i = 0; i < n; i++)
    {
      guint32 k = idx ? idx[i] : i;
      if (!idx && (g->edges[k].to >= g->n_nodes ||
                   !edge_is_drawn (g, zc->edge_from[k], g->edges[k].to)))
        continue;
      if (g->edges[k].road_class != cls)
        continue;
      guint32 u = zc->edge_from[k], v = g->edges[k].to;
      cairo_move_to (cr, zc->npx[u] - ox, zc->npy[u] - oy);
      cairo_line_to (cr, zc->npx[v] - ox, zc->npy[v] - oy);
      any = TRUE;
    }
  if (!any)
    return;

  const RoadStyle *s = &road_styles[cls];
  double w = road_width (cls, zc->z);
  if (casing)
    {
      if (cls == FT_ROAD_BRIDGE)
        cairo_set_source_rgb (cr, 0.25, 0.25, 0.25);
      else
        cairo_set_source_rgb (cr, 0.70, 0.66, 0.62);
      cairo_set_line_width (cr, w + (zc->z >= 15 ? 2.0 : 1.0));
      cairo_set_dash (cr, NULL, 0, 0);
      cairo_stroke (cr);
      return;
    }
  if (zc->z < s->min_zoom)
    {
      /* Too far out for this class: a faint hairline. */
      cairo_set_source_rgba (cr, 0.6, 0.6, 0.6, 0.5);
      cairo_set_line_width (cr, 0.5);
      cairo_stroke (cr);
      return;
    }
  if (s->casing && zc->z < 14)
    cairo_set_source_rgb (cr, s->r * 0.9, s->g * 0.9, s->b * 0.9);
  else
    cairo_set_source_rgb (cr, s->r, s->g, s->b);
  cairo_set_line_width (cr, w);
  if (s->dash > 0)
    {
      double d[2] = { s->dash, s->dash };
      cairo_set_dash (cr, d, 2, 0);
    }
  else
    cairo_set_dash (cr, NULL, 0, 0);
  cairo_stroke (cr);
}

static void
render_tile (cairo_t *cr, const ZoomCtx *zc, int x, int y)
{
  const FtCity *city = zc->city;
  const FtTilesExtras *ex = zc->extras;
  int z = zc->z;

  cairo_set_operator (cr, CAIRO_OPERATOR_SOURCE);
  cairo_set_source_rgb (cr, 0.949, 0.937, 0.914);   /* land */
  cairo_paint (cr);
  cairo_set_operator (cr, CAIRO_OPERATOR_OVER);
  cairo_set_fill_rule (cr, CAIRO_FILL_RULE_EVEN_ODD);
  cairo_set_line_join (cr, CAIRO_LINE_JOIN_ROUND);
  cairo_set_line_cap (cr, CAIRO_LINE_CAP_ROUND);

  /* Parks: zones of kind park and the extras. */
  for (guint i = 0; i < city->n_zones; i++)
    if (city->zones[i].kind == FT_ZONE_PARK)
      fill_mp (cr, city->zones[i].area, z, x, y, 0.784, 0.980, 0.800, 1.0, 0.6);
  if (city->parks)
    fill_mp (cr, city->parks, z, x, y, 0.784, 0.980, 0.800, 1.0, 0.6);
  if (ex && ex->parks)
    fill_mp (cr, ex->parks, z, x, y, 0.784, 0.980, 0.800, 1.0, 0.6);

  /* Water on top of parks (rivers cross parks), one polygon at a time: a
   * lake or harbour basin drawn over the sea must not cut a hole in it. */
  const FtMultiPolygon *waters[2] = { city->water, ex ? ex->water : NULL };
  for (guint k = 0; k < 2; k++)
    if (waters[k])
      for (guint p = 0; p < waters[k]->n_polys; p++)
        {
          FtMultiPolygon one = { &waters[k]->polys[p], 1, waters[k]->bbox };
          fill_mp (cr, &one, z, x, y, 0.667, 0.827, 0.875, 1.0, 0);
        }
  if (ex && ex->n_rivers > 0)
    {
      double mpp = 156543.03392 * cos (city->center.lat * G_PI / 180.0) / (double) (1 << z);
      double wm = ex->river_width_m > 0 ? ex->river_width_m : 30.0;
      double ox = (double) x * FT_TILES_SIZE, oy = (double) y * FT_TILES_SIZE;
      cairo_new_path (cr);
      for (guint r = 0; r < ex->n_rivers; r++)
        for (guint i = 0; i < ex->river_n[r]; i++)
          {
            double px = lon_to_px (ex->river_pts[r][i].lon, z) - ox;
            double py = lat_to_px (ex->river_pts[r][i].lat, z) - oy;
            if (i == 0)
              cairo_move_to (cr, px, py);
            else
              cairo_line_to (cr, px, py);
          }
      cairo_set_source_rgb (cr, 0.667, 0.827, 0.875);
      cairo_set_line_width (cr, MAX (wm / mpp, 1.5));
      cairo_stroke (cr);
    }

  if (zc->draw_zones)
    {
      for (guint i = 0; i < city->n_zones; i++)
        {
          const double *c = zone_colours[city->zones[i].kind < FT_N_ZONE_KINDS ? city->zones[i].kind : FT_ZONE_MIXED];
          fill_mp (cr, city->zones[i].area, z, x, y, c[0], c[1], c[2], 0.08, 0.35);
        }
      if (city->geofences)
        for (guint i = 0; i < ft_geofences_n_zones (city->geofences); i++)
          {
            const FtGeofenceZone *gz = ft_geofences_get (city->geofences, i);
            if (!gz->rules.ride_end_allowed)
              fill_mp (cr, gz->area, z, x, y, 0.85, 0.15, 0.15, 0.12, 0.5);
          }
    }

  /* Streets: casings first, then fills, by class. */
  const guint32 *idx = NULL;
  guint n = city->graph.n_edges;
  if (zc->bins)
    {
      int w = zc->x1 - zc->x0 + 1;
      GArray *bin = zc->bins[(gsize) (y - zc->y0) * w + (x - zc->x0)];
      idx = bin ? (const guint32 *) bin->data : (const guint32 *) "";
      n = bin ? bin->len : 0;
    }
  if (n > 0)
    {
      for (guint c = 0; c < G_N_ELEMENTS (road_order); c++)
        if (road_styles[road_order[c]].casing && z >= 14)
          draw_edges (cr, zc, idx, n, x, y, road_order[c], TRUE);
      for (guint c = 0; c < G_N_ELEMENTS (road_order); c++)
        draw_edges (cr, zc, idx, n, x, y, road_order[c], FALSE);
    }

  /* Operating area outline. */
  if (city->operating_area && zc->draw_zones)
    {
      cairo_new_path (cr);
      if (bbox_overlaps_tile (&city->operating_area->bbox, z, x, y, 4))
        {
          path_multipolygon (cr, city->operating_area, z, x, y);
          cairo_set_source_rgba (cr, 0.15, 0.35, 0.75, 0.6);
          cairo_set_line_width (cr, 2.0);
          double d[2] = { 6, 4 };
          cairo_set_dash (cr, d, 2, 0);
          cairo_stroke (cr);
          cairo_set_dash (cr, NULL, 0, 0);
        }
    }
}

static cairo_status_t
png_write_cb (void *closure, const unsigned char *data, unsigned int length)
{
  g_byte_array_append (closure, data, length);
  return CAIRO_STATUS_SUCCESS;
}

static GBytes *
surface_to_png (cairo_surface_t *s, GError **error)
{
  GByteArray *buf = g_byte_array_sized_new (16384);
  cairo_status_t st = cairo_surface_write_to_png_stream (s, png_write_cb, buf);
  if (st != CAIRO_STATUS_SUCCESS)
    {
      g_byte_array_unref (buf);
      g_set_error (error, FT_TILES_ERROR, FT_TILES_ERROR_IO,
                   "cannot encode tile as PNG: %s", cairo_status_to_string (st));
      return NULL;
    }
  return g_byte_array_free_to_bytes (buf);
}

GBytes *
ft_tiles_render_png (const FtCity *city, const FtTilesExtras *extras,
                     int z, int x, int y, gboolean draw_zones, GError **error)
{
  g_return_val_if_fail (city != NULL, NULL);
  if (z < 0 || z > 22 || x < 0 || y < 0 || x >= (1 << z) || y >= (1 << z))
    {
      g_set_error (error, FT_TILES_ERROR, FT_TILES_ERROR_INVALID,
                   "tile %d/%d/%d does not exist", z, x, y);
      return NULL;
    }
  ZoomCtx zc;
  zoom_ctx_init (&zc, city, extras, draw_zones, z, FALSE);
  cairo_surface_t *s = cairo_image_surface_create (CAIRO_FORMAT_RGB24, FT_TILES_SIZE, FT_TILES_SIZE);
  cairo_t *cr = cairo_create (s);
  render_tile (cr, &zc, x, y);
  cairo_destroy (cr);
  cairo_surface_flush (s);
  GBytes *png = surface_to_png (s, error);
  cairo_surface_destroy (s);
  zoom_ctx_clear (&zc);
  return png;
}

/* ---------------------------------------------------------------- baking */

static gboolean
sql_exec (sqlite3 *db, const char *sql, GError **error)
{
  char *msg = NULL;
  if (sqlite3_exec (db, sql, NULL, NULL, &msg) != SQLITE_OK)
    {
      g_set_error (error, FT_TILES_ERROR, FT_TILES_ERROR_SQLITE,
                   "SQLite failed on “%.40s…”: %s", sql, msg ? msg : "unknown error");
      sqlite3_free (msg);
      return FALSE;
    }
  return TRUE;
}

static gboolean
put_meta (sqlite3_stmt *st, const char *name, const char *value, GError **error)
{
  sqlite3_reset (st);
  sqlite3_bind_text (st, 1, name, -1, SQLITE_TRANSIENT);
  sqlite3_bind_text (st, 2, value, -1, SQLITE_TRANSIENT);
  if (sqlite3_step (st) != SQLITE_DONE)
    {
      g_set_error (error, FT_TILES_ERROR, FT_TILES_ERROR_SQLITE,
                   "cannot write metadata “%s”: %s", name,
                   sqlite3_errmsg (sqlite3_db_handle (st)));
      return FALSE;
    }
  return TRUE;
}

static char *
fmt_double (double v)
{
  char buf[G_ASCII_DTOSTR_BUF_SIZE];
  g_ascii_formatd (buf, sizeof buf, "%.6f", v);
  return g_strdup (buf);
}

static gboolean
write_metadata (sqlite3 *db, const FtCity *city, int zmin, int zmax, GError **error)
{
  sqlite3_stmt *st = NULL;
  if (sqlite3_prepare_v2 (db, "INSERT INTO metadata (name, value) VALUES (?, ?)", -1, &st, NULL) != SQLITE_OK)
    {
      g_set_error (error, FT_TILES_ERROR, FT_TILES_ERROR_SQLITE,
                   "cannot prepare metadata insert: %s", sqlite3_errmsg (db));
      return FALSE;
    }
  g_autofree char *a = fmt_double (city->bbox.min_lon), *b = fmt_double (city->bbox.min_lat);
  g_autofree char *c = fmt_double (city->bbox.max_lon), *d = fmt_double (city->bbox.max_lat);
  g_autofree char *clon = fmt_double (city->center.lon), *clat = fmt_double (city->center.lat);
  g_autofree char *bounds = g_strdup_printf ("%s,%s,%s,%s", a, b, c, d);
  int cz = CLAMP (15, zmin, zmax);
  g_autofree char *center = g_strdup_printf ("%s,%s,%d", clon, clat, cz);
  g_autofree char *smin = g_strdup_printf ("%d", zmin), *smax = g_strdup_printf ("%d", zmax);
  const char *name = city->name ? city->name : (city->id ? city->id : "city");
  g_autofree char *desc = g_strdup_printf ("Fleet Twin street map of %s", name);
  gboolean ok =
    put_meta (st, "name", name, error) &&
    put_meta (st, "format", "png", error) &&
    put_meta (st, "type", "baselayer", error) &&
    put_meta (st, "version", "1.0", error) &&
    put_meta (st, "description", desc, error) &&
    put_meta (st, "attribution", "Fleet Twin; street data © OpenStreetMap contributors where imported", error) &&
    put_meta (st, "bounds", bounds, error) &&
    put_meta (st, "center", center, error) &&
    put_meta (st, "minzoom", smin, error) &&
    put_meta (st, "maxzoom", smax, error) &&
    put_meta (st, "scheme", "tms", error) &&
    put_meta (st, "generator", "Fleet Twin", error);
  sqlite3_finalize (st);
  return ok;
}

gboolean
ft_tiles_bake (const FtCity *city, const char *mbtiles_path, int zmin, int zmax,
               gboolean draw_zones, FtTilesProgress cb, gpointer data, GError **error)
{
  return ft_tiles_bake_full (city, NULL, mbtiles_path, zmin, zmax, draw_zones, cb, data, error);
}

gboolean
ft_tiles_bake_full (const FtCity *city, const FtTilesExtras *extras,
                    const char *mbtiles_path, int zmin, int zmax,
                    gboolean draw_zones, FtTilesProgress cb, gpointer data,
                    GError **error)
{
  g_return_val_if_fail (city != NULL, FALSE);
  g_return_val_if_fail (mbtiles_path != NULL, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  if (zmin < 0 || zmax > 22 || zmin > zmax)
    {
      g_set_error (error, FT_TILES_ERROR, FT_TILES_ERROR_INVALID,
                   "zoom range %d–%d is invalid: need 0 ≤ min ≤ max ≤ 22", zmin, zmax);
      return FALSE;
    }
  if (!(city->bbox.min_lat < city->bbox.max_lat && city->bbox.min_lon < city->bbox.max_lon) ||
      city->bbox.min_lat < -85.06 || city->bbox.max_lat > 85.06 ||
      city->bbox.min_lon < -180.0 || city->bbox.max_lon > 180.0)
    {
      g_set_error (error, FT_TILES_ERROR, FT_TILES_ERROR_INVALID,
                   "city “%s” has an empty or invalid bounding box; nothing to draw",
                   city->id ? city->id : "?");
      return FALSE;
    }

  /* Count tiles for progress. */
  guint64 total = 0, done = 0;
  for (int z = zmin; z <= zmax; z++)
    {
      int x0, y0, x1, y1;
      ft_tiles_bbox_range (&city->bbox, z, &x0, &y0, &x1, &y1);
      total += (guint64) (x1 - x0 + 1) * (y1 - y0 + 1);
    }

  g_autoptr(GError) oerr = NULL;
  g_autoptr(FtOutput) output = ft_output_begin (mbtiles_path, FT_OUTPUT_SQLITE, ft_tiles_is_own,
                                                extras && extras->force, &oerr);
  if (output == NULL)
    {
      g_set_error (error, FT_TILES_ERROR, FT_TILES_ERROR_IO, "%s", oerr->message);
      return FALSE;
    }
  const char *tmp = ft_output_get_path (output);
  sqlite3 *db = NULL;
  if (sqlite3_open_v2 (tmp, &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, NULL) != SQLITE_OK)
    {
      g_set_error (error, FT_TILES_ERROR, FT_TILES_ERROR_IO,
                   "cannot create “%s”: %s", tmp, db ? sqlite3_errmsg (db) : "out of memory");
      sqlite3_close (db);
      return FALSE;
    }

  gboolean ok = FALSE;
  sqlite3_stmt *ins = NULL;
  cairo_surface_t *surf = NULL;
  cairo_t *cr = NULL;

  if (!sql_exec (db,
                 "PRAGMA journal_mode=OFF; PRAGMA synchronous=OFF; PRAGMA page_size=4096;"
                 "CREATE TABLE metadata (name TEXT, value TEXT);"
                 "CREATE TABLE tiles (zoom_level INTEGER, tile_column INTEGER, tile_row INTEGER, tile_data BLOB);"
                 "CREATE UNIQUE INDEX tile_index ON tiles (zoom_level, tile_column, tile_row);"
                 "CREATE UNIQUE INDEX name ON metadata (name);"
                 "BEGIN;", error))
    goto out;
  if (!write_metadata (db, city, zmin, zmax, error))
    goto out;
  if (sqlite3_prepare_v2 (db, "INSERT INTO tiles (zoom_level, tile_column, tile_row, tile_data) VALUES (?, ?, ?, ?)",
                          -1, &ins, NULL) != SQLITE_OK)
    {
      g_set_error (error, FT_TILES_ERROR, FT_TILES_ERROR_SQLITE,
                   "cannot prepare tile insert: %s", sqlite3_errmsg (db));
      goto out;
    }

  surf = cairo_image_surface_create (CAIRO_FORMAT_RGB24, FT_TILES_SIZE, FT_TILES_SIZE);
  cr = cairo_create (surf);

  for (int z = zmin; z <= zmax; z++)
    {
      ZoomCtx zc;
      zoom_ctx_init (&zc, city, extras, draw_zones, z, TRUE);
      for (int y = zc.y0; y <= zc.y1; y++)
        for (int x = zc.x0; x <= zc.x1; x++)
          {
            cairo_save (cr);
            render_tile (cr, &zc, x, y);
            cairo_restore (cr);
            cairo_surface_flush (surf);
            g_autoptr(GBytes) png = surface_to_png (surf, error);
            if (png == NULL)
              {
                zoom_ctx_clear (&zc);
                goto out;
              }
            gsize len;
            const void *bytes = g_bytes_get_data (png, &len);
            sqlite3_reset (ins);
            sqlite3_bind_int (ins, 1, z);
            sqlite3_bind_int (ins, 2, x);
            sqlite3_bind_int (ins, 3, ft_tiles_xyz_to_tms_row (z, y));
            sqlite3_bind_blob (ins, 4, bytes, (int) len, SQLITE_STATIC);
            if (sqlite3_step (ins) != SQLITE_DONE)
              {
                g_set_error (error, FT_TILES_ERROR, FT_TILES_ERROR_SQLITE,
                             "cannot store tile %d/%d/%d in “%s”: %s", z, x, y, tmp,
                             sqlite3_errmsg (db));
                zoom_ctx_clear (&zc);
                goto out;
              }
            sqlite3_bind_null (ins, 4);
            done++;
            if (cb && !cb ((double) done / (double) total, data))
              {
                g_set_error (error, FT_TILES_ERROR, FT_TILES_ERROR_CANCELLED,
                             "tile baking for “%s” was cancelled", mbtiles_path);
                zoom_ctx_clear (&zc);
                goto out;
              }
          }
      zoom_ctx_clear (&zc);
    }

  sqlite3_finalize (ins);
  ins = NULL;
  if (!sql_exec (db, "COMMIT;", error))
    goto out;
  ok = TRUE;

out:
  if (cr)
    cairo_destroy (cr);
  if (surf)
    cairo_surface_destroy (surf);
  sqlite3_finalize (ins);
  if (sqlite3_close (db) != SQLITE_OK && ok)
    {
      g_set_error (error, FT_TILES_ERROR, FT_TILES_ERROR_SQLITE,
                   "cannot close “%s”", tmp);
      ok = FALSE;
    }
  if (ok && !ft_output_commit (g_steal_pointer (&output), &oerr))
    {
      g_set_error (error, FT_TILES_ERROR, FT_TILES_ERROR_IO, "%s", oerr->message);
      ok = FALSE;
    }
  return ok;   /* on failure the temporary file goes with `output` */
}

gboolean
ft_tiles_is_own (const char *path)
{
  sqlite3 *db = NULL;
  gboolean own = FALSE;
  if (sqlite3_open_v2 (path, &db, SQLITE_OPEN_READONLY, NULL) == SQLITE_OK)
    {
      sqlite3_stmt *st = NULL;
      /* "generator" since the baker wrote it; the description before that. */
      if (sqlite3_prepare_v2 (db, "SELECT count(*) FROM metadata WHERE (name = 'generator' AND value = "
                              "'Fleet Twin') OR (name = 'description' AND value LIKE 'Fleet Twin street map of %')",
                              -1, &st, NULL) == SQLITE_OK &&
          sqlite3_step (st) == SQLITE_ROW)
        own = sqlite3_column_int (st, 0) > 0;
      sqlite3_finalize (st);
    }
  sqlite3_close (db);
  return own;
}

/* ---------------------------------------------------------------- reader */

struct _FtTiles {
  sqlite3      *db;
  sqlite3_stmt *get;
  sqlite3_stmt *meta;
  sqlite3_stmt *count;
  char         *path;
};

FtTiles *
ft_tiles_open (const char *mbtiles_path, GError **error)
{
  g_return_val_if_fail (mbtiles_path != NULL, NULL);
  if (!g_file_test (mbtiles_path, G_FILE_TEST_IS_REGULAR))
    {
      g_set_error (error, FT_TILES_ERROR, FT_TILES_ERROR_IO,
                   "map tiles “%s” do not exist", mbtiles_path);
      return NULL;
    }
  g_autoptr(FtTiles) t = g_new0 (FtTiles, 1);
  t->path = g_strdup (mbtiles_path);
  if (sqlite3_open_v2 (mbtiles_path, &t->db, SQLITE_OPEN_READONLY | SQLITE_OPEN_NOMUTEX, NULL) != SQLITE_OK)
    {
      g_set_error (error, FT_TILES_ERROR, FT_TILES_ERROR_IO,
                   "cannot open map tiles “%s”: %s", mbtiles_path,
                   t->db ? sqlite3_errmsg (t->db) : "out of memory");
      return NULL;
    }
  if (sqlite3_prepare_v2 (t->db, "SELECT tile_data FROM tiles WHERE zoom_level = ? AND tile_column = ? AND tile_row = ?",
                          -1, &t->get, NULL) != SQLITE_OK ||
      sqlite3_prepare_v2 (t->db, "SELECT value FROM metadata WHERE name = ?", -1, &t->meta, NULL) != SQLITE_OK ||
      sqlite3_prepare_v2 (t->db, "SELECT count(*) FROM tiles WHERE zoom_level = ?", -1, &t->count, NULL) != SQLITE_OK)
    {
      g_set_error (error, FT_TILES_ERROR, FT_TILES_ERROR_FORMAT,
                   "“%s” is not an MBTiles file (%s): it needs a metadata and a tiles table",
                   mbtiles_path, sqlite3_errmsg (t->db));
      return NULL;
    }
  return g_steal_pointer (&t);
}

void
ft_tiles_free (FtTiles *t)
{
  if (t == NULL)
    return;
  sqlite3_finalize (t->get);
  sqlite3_finalize (t->meta);
  sqlite3_finalize (t->count);
  sqlite3_close (t->db);
  g_free (t->path);
  g_free (t);
}

GBytes *
ft_tiles_get (FtTiles *t, int z, int x, int y)
{
  g_return_val_if_fail (t != NULL, NULL);
  if (z < 0 || z > 30 || x < 0 || y < 0 || x >= (1 << z) || y >= (1 << z))
    return NULL;
  GBytes *out = NULL;
  sqlite3_reset (t->get);
  sqlite3_bind_int (t->get, 1, z);
  sqlite3_bind_int (t->get, 2, x);
  sqlite3_bind_int (t->get, 3, ft_tiles_xyz_to_tms_row (z, y));
  if (sqlite3_step (t->get) == SQLITE_ROW)
    {
      const void *blob = sqlite3_column_blob (t->get, 0);
      int len = sqlite3_column_bytes (t->get, 0);
      if (blob && len > 0)
        out = g_bytes_new (blob, (gsize) len);
    }
  sqlite3_reset (t->get);
  return out;
}

char *
ft_tiles_dup_metadata (FtTiles *t, const char *name)
{
  g_return_val_if_fail (t != NULL && name != NULL, NULL);
  char *out = NULL;
  sqlite3_reset (t->meta);
  sqlite3_bind_text (t->meta, 1, name, -1, SQLITE_TRANSIENT);
  if (sqlite3_step (t->meta) == SQLITE_ROW && sqlite3_column_text (t->meta, 0))
    out = g_strdup ((const char *) sqlite3_column_text (t->meta, 0));
  sqlite3_reset (t->meta);
  return out;
}

static int
meta_int (FtTiles *t, const char *name, int dflt)
{
  g_autofree char *v = ft_tiles_dup_metadata (t, name);
  char *end = NULL;
  if (v == NULL)
    return dflt;
  gint64 n = g_ascii_strtoll (v, &end, 10);
  return (end && *end == '\0' && n >= 0 && n <= 30) ? (int) n : dflt;
}

int
ft_tiles_get_min_zoom (FtTiles *t)
{
  return meta_int (t, "minzoom", 0);
}

int
ft_tiles_get_max_zoom (FtTiles *t)
{
  return meta_int (t, "maxzoom", 22);
}

gboolean
ft_tiles_get_bounds (FtTiles *t, FtBBox *out)
{
  g_autofree char *v = ft_tiles_dup_metadata (t, "bounds");
  if (v == NULL)
    return FALSE;
  g_auto(GStrv) parts = g_strsplit (v, ",", -1);
  if (g_strv_length (parts) != 4)
    return FALSE;
  double d[4];
  for (int i = 0; i < 4; i++)
    {
      char *end = NULL;
      d[i] = g_ascii_strtod (g_strstrip (parts[i]), &end);
      if (end == parts[i] || *end != '\0')
        return FALSE;
    }
  out->min_lon = d[0];
  out->min_lat = d[1];
  out->max_lon = d[2];
  out->max_lat = d[3];
  return TRUE;
}

guint
ft_tiles_count (FtTiles *t, int z)
{
  g_return_val_if_fail (t != NULL, 0);
  guint n = 0;
  sqlite3_reset (t->count);
  sqlite3_bind_int (t->count, 1, z);
  if (sqlite3_step (t->count) == SQLITE_ROW)
    n = (guint) sqlite3_column_int64 (t->count, 0);
  sqlite3_reset (t->count);
  return n;
}
