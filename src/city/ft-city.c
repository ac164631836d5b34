/* ft-city.c — the city model in memory: names of zone kinds and road
 * classes, freeing, invariant checks, the road graph in CSR form with its
 * weak components, and the spatial indexes behind ft_city_nearest_node()
 * (a uniform grid searched ring by ring) and ft_city_zone_at().
 * Pack I/O lives in ft-city-io.c, routing in ft-router.c, Demo City in
 * ft-demo-city.c, OpenStreetMap import in ft-osm.c.
 */
#include "ft-city-private.h"

#include <string.h>

G_DEFINE_QUARK (ft-city-error-quark, ft_city_error)

static const char *const zone_kind_names[FT_N_ZONE_KINDS] = {
  "residential", "office", "university", "nightlife", "park", "transit", "mixed",
};

const char *
ft_zone_kind_name (FtZoneKind k)
{
  g_return_val_if_fail ((guint) k < FT_N_ZONE_KINDS, "mixed");
  return zone_kind_names[k];
}

gboolean
ft_zone_kind_from_name (const char *s, FtZoneKind *out)
{
  g_return_val_if_fail (out != NULL, FALSE);
  if (s == NULL)
    return FALSE;
  for (guint i = 0; i < FT_N_ZONE_KINDS; i++)
    if (g_ascii_strcasecmp (s, zone_kind_names[i]) == 0)
      {
        *out = (FtZoneKind) i;
        return TRUE;
      }
  return FALSE;
}

static const char *const road_class_names[FT_N_ROAD_CLASSES] = {
  "arterial", "secondary", "residential", "cycleway", "path", "bridge",
};

const char *
ft_road_class_name (FtRoadClass c)
{
  g_return_val_if_fail ((guint) c < FT_N_ROAD_CLASSES, "residential");
  return road_class_names[c];
}

gboolean
ft_road_class_from_name (const char *s, FtRoadClass *out)
{
  g_return_val_if_fail (out != NULL, FALSE);
  if (s == NULL)
    return FALSE;
  for (guint i = 0; i < FT_N_ROAD_CLASSES; i++)
    if (strcmp (s, road_class_names[i]) == 0)
      {
        *out = (FtRoadClass) i;
        return TRUE;
      }
  return FALSE;
}

guint
ft_demand_band_of_hour (guint hour_of_week)
{
  guint h = hour_of_week % 24;
  if (h >= 6 && h < 10)
    return 0;
  if (h >= 10 && h < 16)
    return 1;
  if (h >= 16 && h < 20)
    return 2;
  return 3;
}

double
ft_demand_profile_per_day (const FtDemandProfile *d)
{
  g_return_val_if_fail (d != NULL, 0.0);
  double s = 0;
  if (d->rate == NULL)
    return 0;
  for (guint i = 0; i < d->n_zones * 168; i++)
    s += d->rate[i];
  return s / 7.0;
}

double
ft_city_haversine_m (FtLatLon a, FtLatLon b)
{
  const double r = 6371008.8, k = G_PI / 180.0;
  double dlat = (b.lat - a.lat) * k, dlon = (b.lon - a.lon) * k;
  double s1 = sin (dlat / 2), s2 = sin (dlon / 2);
  double h = s1 * s1 + cos (a.lat * k) * cos (b.lat * k) * s2 * s2;
  return 2 * r * asin (MIN (1.0, sqrt (h)));
}

/* ---- freeing ---------------------------------------------------------- */

void
ft_zone_clear (FtZone *z)
{
  g_clear_pointer (&z->id, g_free);
  g_clear_pointer (&z->name, g_free);
  g_clear_pointer (&z->area, ft_multipolygon_free);
}

void
ft_depot_clear (FtDepot *d)
{
  g_clear_pointer (&d->id, g_free);
  g_clear_pointer (&d->name, g_free);
}

void
ft_demand_profile_clear (FtDemandProfile *d)
{
  g_clear_pointer (&d->rate, g_free);
  g_clear_pointer (&d->dest, g_free);
  d->n_zones = 0;
}

void
ft_road_graph_clear (FtRoadGraph *g)
{
  g_clear_pointer (&g->nodes, g_free);
  g_clear_pointer (&g->first_edge, g_free);
  g_clear_pointer (&g->edges, g_free);
  g->n_nodes = g->n_edges = 0;
}

static void
priv_free (FtCityPriv *p)
{
  if (p == NULL)
    return;
  g_free (p->g_start);
  g_free (p->g_nodes);
  g_free (p->z_start);
  g_free (p->z_ids);
  ft_area_raster_free (p->z_raster);
  g_free (p);
}

void
ft_city_free (FtCity *city)
{
  if (city == NULL)
    return;
  g_free (city->id);
  g_free (city->name);
  g_clear_pointer (&city->operating_area, ft_multipolygon_free);
  for (guint i = 0; i < city->n_zones; i++)
    ft_zone_clear (&city->zones[i]);
  g_free (city->zones);
  for (guint i = 0; i < city->n_depots; i++)
    ft_depot_clear (&city->depots[i]);
  g_free (city->depots);
  g_clear_pointer (&city->geofences, ft_geofences_free);
  ft_road_graph_clear (&city->graph);
  ft_demand_profile_clear (&city->demand);
  g_free (city->dir);
  g_free (city->tiles_path);
  g_clear_pointer (&city->water, ft_multipolygon_free);
  g_clear_pointer (&city->parks, ft_multipolygon_free);
  priv_free (city->priv);
  g_free (city);
}

/* ---- road graph ------------------------------------------------------- */

static int
edge_cmp (const void *a, const void *b)
{
  const FtEdge *x = a, *y = b;
  if (x->to != y->to) return x->to < y->to ? -1 : 1;
  if (x->length_m != y->length_m) return x->length_m < y->length_m ? -1 : 1;
  if (x->road_class != y->road_class) return x->road_class < y->road_class ? -1 : 1;
  return (x->flags > y->flags) - (x->flags < y->flags);
}

void
ft_road_graph_build (FtRoadGraph *g, const FtLatLon *nodes, guint n_nodes,
                     const FtStreet *streets, guint n_streets)
{
  ft_road_graph_clear (g);
  g->n_nodes = n_nodes;
  g->nodes = g_new (FtLatLon, MAX (n_nodes, 1));
  if (n_nodes > 0)
    memcpy (g->nodes, nodes, sizeof (FtLatLon) * n_nodes);
  g->first_edge = g_new0 (guint32, n_nodes + 1);
  guint n_edges = 0;
  for (guint i = 0; i < n_streets; i++)
    {
      g_assert (streets[i].from < n_nodes && streets[i].to < n_nodes);
      g->first_edge[streets[i].from + 1]++;
      n_edges++;
      if (!streets[i].oneway)
        {
          g->first_edge[streets[i].to + 1]++;
          n_edges++;
        }
    }
  for (guint v = 0; v < n_nodes; v++)
    g->first_edge[v + 1] += g->first_edge[v];
  g->n_edges = n_edges;
  g->edges = g_new0 (FtEdge, MAX (n_edges, 1));
  g_autofree guint32 *fill = g_new (guint32, MAX (n_nodes, 1));
  if (n_nodes > 0)
    memcpy (fill, g->first_edge, sizeof (guint32) * n_nodes);
  for (guint i = 0; i < n_streets; i++)
    {
      const FtStreet *s = &streets[i];
      FtEdge *e = &g->edges[fill[s->from]++];
      e->to = s->to;
      e->length_m = s->length_m;
      e->road_class = s->road_class;
      e->flags = s->oneway ? FT_EDGE_ONEWAY : 0;
      if (!s->oneway)
        {
          e = &g->edges[fill[s->to]++];
          e->to = s->from;
          e->length_m = s->length_m;
          e->road_class = s->road_class;
          e->flags = 0;
        }
    }
  /* canonical order inside each node's range, so a graph reads back from
   * a saved pack exactly as it was */
  for (guint v = 0; v < n_nodes; v++)
    if (g->first_edge[v + 1] - g->first_edge[v] > 1)
      qsort (g->edges + g->first_edge[v], g->first_edge[v + 1] - g->first_edge[v], sizeof (FtEdge), edge_cmp);
}

static guint32
uf_find (guint32 *parent, guint32 x)
{
  while (parent[x] != x)
    {
      parent[x] = parent[parent[x]];
      x = parent[x];
    }
  return x;
}

guint
ft_road_graph_components (const FtRoadGraph *g, guint32 **labels_out, guint *largest_out)
{
  guint n = g->n_nodes;
  guint32 *parent = g_new (guint32, MAX (n, 1));
  for (guint i = 0; i < n; i++)
    parent[i] = i;
  for (guint u = 0; u < n; u++)
    for (guint32 e = g->first_edge[u]; e < g->first_edge[u + 1]; e++)
      {
        guint32 a = uf_find (parent, u), b = uf_find (parent, g->edges[e].to);
        if (a != b)
          parent[MAX (a, b)] = MIN (a, b);
      }
  g_autofree guint32 *label_of_root = g_new (guint32, MAX (n, 1));
  g_autofree guint32 *size = g_new0 (guint32, MAX (n, 1));
  guint n_labels = 0, largest = 0;
  for (guint i = 0; i < n; i++)
    {
      guint32 r = uf_find (parent, i);
      if (r == i)
        label_of_root[i] = n_labels++;
    }
  guint32 *labels = g_new (guint32, MAX (n, 1));
  for (guint i = 0; i < n; i++)
    labels[i] = label_of_root[uf_find (parent, i)];
  g_free (parent);
  parent = labels;
  for (guint i = 0; i < n; i++)
    size[parent[i]]++;
  for (guint l = 0; l < n_labels; l++)
    if (size[l] > size[largest])
      largest = l;
  if (largest_out)
    *largest_out = largest;
  if (labels_out)
    *labels_out = parent;
  else
    g_free (parent);
  return n_labels;
}

double
ft_road_graph_largest_component_share (const FtRoadGraph *g)
{
  g_return_val_if_fail (g != NULL, 0.0);
  if (g->n_nodes == 0)
    return 0.0;
  g_autofree guint32 *labels = NULL;
  guint largest = 0;
  guint n_labels = ft_road_graph_components (g, &labels, &largest);
  if (n_labels == 0)
    return 0.0;
  guint count = 0;
  for (guint i = 0; i < g->n_nodes; i++)
    if (labels[i] == largest)
      count++;
  return (double) count / g->n_nodes;
}

/* ---- indexes ---------------------------------------------------------- */

void
ft_city_build_index (FtCity *city)
{
  priv_free (city->priv);
  FtCityPriv *p = g_new0 (FtCityPriv, 1);
  city->priv = p;
  const FtRoadGraph *g = &city->graph;

  /* Node grid: cells of ~150 m over the nodes' bbox, larger where the bbox
   * spans more than 1024 of them (a region, or a malformed pack whose few
   * nodes are 2,000 km apart), so that the grid never exceeds 1024 cells a
   * side and every node lies in the cell its position gives. */
  FtBBox bb = { G_MAXDOUBLE, G_MAXDOUBLE, -G_MAXDOUBLE, -G_MAXDOUBLE };
  for (guint i = 0; i < g->n_nodes; i++)
    {
      bb.min_lat = MIN (bb.min_lat, g->nodes[i].lat);
      bb.max_lat = MAX (bb.max_lat, g->nodes[i].lat);
      bb.min_lon = MIN (bb.min_lon, g->nodes[i].lon);
      bb.max_lon = MAX (bb.max_lon, g->nodes[i].lon);
    }
  if (g->n_nodes == 0)
    bb = (FtBBox) { city->center.lat, city->center.lon, city->center.lat, city->center.lon };
  double coslat = cos ((bb.min_lat + bb.max_lat) / 2 * G_PI / 180.0);
  double span_m = MAX ((bb.max_lat - bb.min_lat) * 111320.0, (bb.max_lon - bb.min_lon) * 111320.0 * MAX (coslat, 0.01));
  p->g_cell_m = MAX (150.0, span_m / 1024.0);
  p->g_dlat = p->g_cell_m / 111320.0;
  p->g_dlon = p->g_cell_m / (111320.0 * MAX (coslat, 0.01));
  p->g_lat0 = bb.min_lat;
  p->g_lon0 = bb.min_lon;
  p->g_w = (guint) MIN (1026.0, floor ((bb.max_lon - bb.min_lon) / p->g_dlon) + 1);
  p->g_h = (guint) MIN (1026.0, floor ((bb.max_lat - bb.min_lat) / p->g_dlat) + 1);
  guint nc = p->g_w * p->g_h;
  p->g_start = g_new0 (guint32, nc + 1);
  p->g_nodes = g_new (guint32, MAX (g->n_nodes, 1));
  g_autofree guint32 *cell_of = g_new (guint32, MAX (g->n_nodes, 1));
  for (guint i = 0; i < g->n_nodes; i++)
    {
      guint cx = (guint) CLAMP ((g->nodes[i].lon - p->g_lon0) / p->g_dlon, 0, p->g_w - 1);
      guint cy = (guint) CLAMP ((g->nodes[i].lat - p->g_lat0) / p->g_dlat, 0, p->g_h - 1);
      cell_of[i] = cy * p->g_w + cx;
      p->g_start[cell_of[i] + 1]++;
    }
  for (guint c = 0; c < nc; c++)
    p->g_start[c + 1] += p->g_start[c];
  g_autofree guint32 *fill = g_memdup2 (p->g_start, sizeof (guint32) * (nc + 1));
  for (guint i = 0; i < g->n_nodes; i++)
    p->g_nodes[fill[cell_of[i]]++] = i;

  /* Zone grid: ~32x32 cells over the union of zone bboxes. */
  FtBBox zb = { G_MAXDOUBLE, G_MAXDOUBLE, -G_MAXDOUBLE, -G_MAXDOUBLE };
  for (guint z = 0; z < city->n_zones; z++)
    {
      if (city->zones[z].area == NULL)
        continue;
      const FtBBox *b = &city->zones[z].area->bbox;
      zb.min_lat = MIN (zb.min_lat, b->min_lat);
      zb.max_lat = MAX (zb.max_lat, b->max_lat);
      zb.min_lon = MIN (zb.min_lon, b->min_lon);
      zb.max_lon = MAX (zb.max_lon, b->max_lon);
    }
  if (zb.min_lat > zb.max_lat)
    zb = (FtBBox) { 0, 0, 1, 1 };
  p->z_w = p->z_h = 32;
  p->z_lat0 = zb.min_lat;
  p->z_lon0 = zb.min_lon;
  p->z_dlat = MAX ((zb.max_lat - zb.min_lat) / p->z_h, 1e-9);
  p->z_dlon = MAX ((zb.max_lon - zb.min_lon) / p->z_w, 1e-9);
  nc = p->z_w * p->z_h;
  p->z_start = g_new0 (guint32, nc + 1);
  g_autoptr(GArray) ids = g_array_new (FALSE, FALSE, sizeof (guint32));
  for (guint c = 0; c < nc; c++)
    {
      guint cx = c % p->z_w, cy = c / p->z_w;
      double lat_lo = p->z_lat0 + cy * p->z_dlat, lat_hi = lat_lo + p->z_dlat;
      double lon_lo = p->z_lon0 + cx * p->z_dlon, lon_hi = lon_lo + p->z_dlon;
      for (guint32 z = 0; z < city->n_zones; z++)
        {
          if (city->zones[z].area == NULL)
            continue;
          const FtBBox *b = &city->zones[z].area->bbox;
          if (b->max_lat >= lat_lo && b->min_lat <= lat_hi &&
              b->max_lon >= lon_lo && b->min_lon <= lon_hi)
            g_array_append_val (ids, z);
        }
      p->z_start[c + 1] = ids->len;
    }
  p->z_ids = (guint32 *) g_array_steal (ids, NULL);
  ft_area_raster_free (p->z_raster);
  {
    g_autofree const FtMultiPolygon **areas = g_new0 (const FtMultiPolygon *, MAX (city->n_zones, 1));
    for (guint z = 0; z < city->n_zones; z++)
      areas[z] = city->zones[z].area;
    p->z_raster = ft_area_raster_new (areas, city->n_zones);
  }
  p->built_nodes = g->nodes;
  p->built_n_nodes = g->n_nodes;
  p->built_zones = city->zones;
  p->built_n_zones = city->n_zones;
}

const FtCityPriv *
ft_city_get_index (const FtCity *city)
{
  const FtCityPriv *p = city->priv;
  if (p == NULL || p->built_nodes != city->graph.nodes || p->built_n_nodes != city->graph.n_nodes ||
      p->built_zones != city->zones || p->built_n_zones != city->n_zones)
    ft_city_build_index ((FtCity *) city);   /* cache only: the city's content is unchanged */
  return city->priv;
}

int
ft_city_zone_at (const FtCity *city, FtLatLon p)
{
  g_return_val_if_fail (city != NULL, -1);
  const FtCityPriv *pr = ft_city_get_index (city);
  double fx = (p.lon - pr->z_lon0) / pr->z_dlon, fy = (p.lat - pr->z_lat0) / pr->z_dlat;
  if (!(fx >= 0 && fy >= 0 && fx <= pr->z_w && fy <= pr->z_h))
    return -1;
  /* the raster answers where no zone's boundary crosses p's cell; else
   * the zones from the first it names on (the ones before hold no point
   * of the cell) are tested in order */
  guint first;
  int a0 = ft_area_raster_at (pr->z_raster, p, &first);
  if (a0 != FT_AREA_RASTER_TEST)
    return a0 >= 0 ? a0 : -1;
  guint cx = MIN ((guint) fx, pr->z_w - 1), cy = MIN ((guint) fy, pr->z_h - 1);
  guint c = cy * pr->z_w + cx;
  for (guint32 k = pr->z_start[c]; k < pr->z_start[c + 1]; k++)
    {
      guint32 z = pr->z_ids[k];
      if (z < first)
        continue;
      const FtMultiPolygon *a = city->zones[z].area;
      if (p.lat < a->bbox.min_lat || p.lat > a->bbox.max_lat ||
          p.lon < a->bbox.min_lon || p.lon > a->bbox.max_lon)
        continue;
      if (ft_multipolygon_contains (a, p))
        return (int) z;
    }
  return -1;
}

gboolean
ft_city_zone_contains (const FtCity *city, guint z, FtLatLon p)
{
  g_return_val_if_fail (city != NULL && z < city->n_zones, FALSE);
  const FtMultiPolygon *area = city->zones[z].area;
  if (area == NULL)
    return FALSE;
  guint first;
  int a = ft_area_raster_at (ft_city_get_index (city)->z_raster, p, &first);
  if (a == (int) z)
    return TRUE;                     /* the cell lies wholly in zone z */
  if (a == FT_AREA_RASTER_NONE || (a >= 0 && (guint) a > z)
      || (a == FT_AREA_RASTER_TEST && first > z))
    return FALSE;                    /* zone z holds no point of the cell */
  return ft_multipolygon_contains (area, p);
}

guint
ft_city_nearest_node (const FtCity *city, FtLatLon p)
{
  g_return_val_if_fail (city != NULL, 0);
  g_return_val_if_fail (city->graph.n_nodes > 0, 0);
  const FtCityPriv *pr = ft_city_get_index (city);
  const FtLatLon *nodes = city->graph.nodes;
  double mlat = 111320.0, mlon = 111320.0 * cos (p.lat * G_PI / 180.0);
  int cx = (int) CLAMP (floor ((p.lon - pr->g_lon0) / pr->g_dlon), 0, (double) pr->g_w - 1);
  int cy = (int) CLAMP (floor ((p.lat - pr->g_lat0) / pr->g_dlat), 0, (double) pr->g_h - 1);
  double best = G_MAXDOUBLE;
  guint best_i = 0;
  int maxr = (int) MAX (pr->g_w, pr->g_h);
  /* a cell's sides in the metric searched (east-west scaled by the query's
   * cos(lat)): the narrower bounds what a ring adds */
  double cell_min_m = MIN (pr->g_cell_m, pr->g_dlon * mlon);
  for (int r = 0; r <= maxr; r++)
    {
      for (int y = cy - r; y <= cy + r; y++)
        {
          if (y < 0 || y >= (int) pr->g_h)
            continue;
          int step = (y == cy - r || y == cy + r) ? 1 : 2 * r;
          for (int x = cx - r; x <= cx + r; x += MAX (step, 1))
            {
              if (x < 0 || x >= (int) pr->g_w)
                continue;
              guint c = (guint) y * pr->g_w + (guint) x;
              for (guint32 k = pr->g_start[c]; k < pr->g_start[c + 1]; k++)
                {
                  guint32 i = pr->g_nodes[k];
                  double dx = (nodes[i].lon - p.lon) * mlon, dy = (nodes[i].lat - p.lat) * mlat;
                  double d2 = dx * dx + dy * dy;
                  if (d2 < best || (d2 == best && i < best_i))
                    {
                      best = d2;
                      best_i = i;
                    }
                }
            }
        }
      /* cells in ring r+1 are at least r cells away (0.98: slack) */
      double reach = r * cell_min_m * 0.98;
      if (best < G_MAXDOUBLE && best <= reach * reach)
        break;
    }
  return best_i;
}

/* ---- checks ----------------------------------------------------------- */

static gboolean
invalid (GError **error, const char *fmt, ...) G_GNUC_PRINTF (2, 3);

static gboolean
invalid (GError **error, const char *fmt, ...)
{
  va_list ap;
  va_start (ap, fmt);
  g_autofree char *msg = g_strdup_vprintf (fmt, ap);
  va_end (ap);
  g_set_error_literal (error, FT_CITY_ERROR, FT_CITY_ERROR_INVALID, msg);
  return FALSE;
}

static gboolean
finite_ll (FtLatLon p)
{
  return isfinite (p.lat) && isfinite (p.lon) && p.lat >= -90 && p.lat <= 90 &&
         p.lon >= -180 && p.lon <= 180;
}

gboolean
ft_city_check (const FtCity *city, GError **error)
{
  g_return_val_if_fail (city != NULL, FALSE);
  if (city->id == NULL || city->id[0] == '\0')
    return invalid (error, "city has no id");
  if (city->name == NULL || city->name[0] == '\0')
    return invalid (error, "city %s has no name", city->id);
  if (strlen (city->currency) != 3)
    return invalid (error, "city %s: currency \"%s\" is not a 3-letter ISO 4217 code",
                    city->id, city->currency);
  if (!finite_ll (city->center))
    return invalid (error, "city %s: centre is not a valid position", city->id);
  if (city->n_zones == 0)
    return invalid (error, "city %s has no zones", city->id);
  GHashTable *seen = g_hash_table_new (g_str_hash, g_str_equal);
  for (guint z = 0; z < city->n_zones; z++)
    {
      const FtZone *zone = &city->zones[z];
      if (zone->id == NULL || zone->area == NULL || zone->area->n_polys == 0)
        {
          g_hash_table_unref (seen);
          return invalid (error, "city %s: zone %u has no id or no area", city->id, z);
        }
      if (!g_hash_table_add (seen, zone->id))
        {
          g_hash_table_unref (seen);
          return invalid (error, "city %s: zone id \"%s\" is used twice", city->id, zone->id);
        }
      if (!(zone->pricing_multiplier > 0 && zone->pricing_multiplier < 100))
        {
          g_hash_table_unref (seen);
          return invalid (error, "city %s: zone %s has pricing multiplier %g (must be > 0)",
                          city->id, zone->id, zone->pricing_multiplier);
        }
      if ((guint) zone->kind >= FT_N_ZONE_KINDS)
        {
          g_hash_table_unref (seen);
          return invalid (error, "city %s: zone %s has an unknown kind", city->id, zone->id);
        }
    }
  g_hash_table_unref (seen);
  for (guint d = 0; d < city->n_depots; d++)
    if (city->depots[d].id == NULL || !finite_ll (city->depots[d].pos))
      return invalid (error, "city %s: depot %u has no id or a bad position", city->id, d);
  const FtRoadGraph *g = &city->graph;
  if (g->n_nodes == 0)
    return invalid (error, "city %s has an empty road graph", city->id);
  if (g->first_edge[0] != 0 || g->first_edge[g->n_nodes] != g->n_edges)
    return invalid (error, "city %s: road graph edge index is inconsistent", city->id);
  for (guint v = 0; v < g->n_nodes; v++)
    {
      if (!finite_ll (g->nodes[v]))
        return invalid (error, "city %s: road node %u has a bad position", city->id, v);
      if (g->first_edge[v] > g->first_edge[v + 1])
        return invalid (error, "city %s: road graph edge index decreases at node %u", city->id, v);
    }
  for (guint e = 0; e < g->n_edges; e++)
    {
      if (g->edges[e].to >= g->n_nodes)
        return invalid (error, "city %s: road edge %u points to missing node %u",
                        city->id, e, g->edges[e].to);
      if (!(g->edges[e].length_m >= 0) || !isfinite (g->edges[e].length_m))
        return invalid (error, "city %s: road edge %u has a bad length", city->id, e);
      if (g->edges[e].road_class >= FT_N_ROAD_CLASSES)
        return invalid (error, "city %s: road edge %u has an unknown class", city->id, e);
    }
  const FtDemandProfile *dp = &city->demand;
  if (dp->rate != NULL || dp->n_zones != 0)
    {
      if (dp->n_zones != city->n_zones || dp->rate == NULL || dp->dest == NULL)
        return invalid (error, "city %s: demand profile covers %u zones, city has %u",
                        city->id, dp->n_zones, city->n_zones);
      for (guint i = 0; i < dp->n_zones * 168; i++)
        if (!(dp->rate[i] >= 0) || !isfinite (dp->rate[i]))
          return invalid (error, "city %s: demand rate of zone %s at hour %u is %g",
                          city->id, city->zones[i / 168].id, i % 168, dp->rate[i]);
      for (guint i = 0; i < FT_DEMAND_N_BANDS * dp->n_zones * dp->n_zones; i++)
        if (!(dp->dest[i] >= 0) || !isfinite (dp->dest[i]))
          return invalid (error, "city %s: destination weight %u is %g", city->id, i, dp->dest[i]);
      if (!(dp->weather_multiplier >= 0) || !isfinite (dp->weather_multiplier))
        return invalid (error, "city %s: weather multiplier %g", city->id, dp->weather_multiplier);
    }
  return TRUE;
}
