/* test-city.c — the city module: Demo City generation (determinism,
 * connectivity, river crossed only at bridges, demand shape), the router
 * against a plain Dijkstra on small and generated graphs, pack save/load
 * round trips, and malformed packs refused with the file and line named and
 * nothing half-loaded.
 */
#include "ft-config.h"
#include "ft-test.h"
#include "ft-city.h"

#include <check.h>
#include <stdio.h>
#include <string.h>
#include <glib/gstdio.h>

/* ---- helpers ---------------------------------------------------------- */

static char *
make_tmpdir (void)
{
  GError *e = NULL;
  char *d = g_dir_make_tmp ("ft-city-test-XXXXXX", &e);
  ck_assert_msg (d != NULL, "tmpdir: %s", e ? e->message : "?");
  return d;
}

/* Not inlined: GCC 12 at -O3 otherwise takes a pointer into the returned
 * text for one to this function's local and warns -Wdangling-pointer. */
static G_GNUC_NO_INLINE char *
read_file (const char *dir, const char *name)
{
  g_autofree char *p = g_build_filename (dir, name, NULL);
  char *text = NULL;
  gboolean ok = g_file_get_contents (p, &text, NULL, NULL);
  ck_assert_msg (ok, "cannot read %s", p);
  return text;
}

static void
write_file (const char *dir, const char *name, const char *text)
{
  g_autofree char *p = g_build_filename (dir, name, NULL);
  ck_assert (g_file_set_contents (p, text, -1, NULL));
}

static const char *pack_files[] = {
  "city.json", "zones.geojson", "geofencing_zones.json", "roads.tsv", "demand.json", "landuse.geojson",
};

/* A city holding only a graph, for router tests. */
static FtCity *
graph_city (const FtLatLon *nodes, guint n, const guint *from, const guint *to,
            const float *len, const gboolean *oneway, guint m)
{
  FtCity *c = g_new0 (FtCity, 1);
  c->center = nodes[0];
  FtRoadGraph *g = &c->graph;
  g->n_nodes = n;
  g->nodes = g_memdup2 (nodes, sizeof (FtLatLon) * n);
  g->first_edge = g_new0 (guint32, n + 1);
  guint ne = 0;
  for (guint i = 0; i < m; i++)
    {
      g->first_edge[from[i] + 1]++, ne++;
      if (!oneway[i])
        g->first_edge[to[i] + 1]++, ne++;
    }
  for (guint v = 0; v < n; v++)
    g->first_edge[v + 1] += g->first_edge[v];
  g->n_edges = ne;
  g->edges = g_new0 (FtEdge, MAX (ne, 1));
  g_autofree guint32 *fill = g_memdup2 (g->first_edge, sizeof (guint32) * (n + 1));
  for (guint i = 0; i < m; i++)
    {
      FtEdge *e = &g->edges[fill[from[i]]++];
      e->to = to[i];
      e->length_m = len[i];
      e->flags = oneway[i] ? FT_EDGE_ONEWAY : 0;
      if (!oneway[i])
        {
          e = &g->edges[fill[to[i]]++];
          e->to = from[i];
          e->length_m = len[i];
        }
    }
  return c;
}

/* Plain O(n^2) Dijkstra from s; returns distances (-1 unreachable). */
static double *
dijkstra (const FtRoadGraph *g, guint s)
{
  double *d = g_new (double, g->n_nodes);
  gboolean *done = g_new0 (gboolean, g->n_nodes);
  for (guint i = 0; i < g->n_nodes; i++)
    d[i] = -1;
  d[s] = 0;
  for (;;)
    {
      int u = -1;
      for (guint i = 0; i < g->n_nodes; i++)
        if (!done[i] && d[i] >= 0 && (u < 0 || d[i] < d[u]))
          u = (int) i;
      if (u < 0)
        break;
      done[u] = TRUE;
      for (guint32 e = g->first_edge[u]; e < g->first_edge[u + 1]; e++)
        {
          guint v = g->edges[e].to;
          double nd = d[u] + g->edges[e].length_m;
          if (d[v] < 0 || nd < d[v])
            d[v] = nd;
        }
    }
  g_free (done);
  return d;
}

static FtCity *demo;   /* generated once per process (Check forks per test) */

static void
demo_setup (void)
{
  if (demo == NULL)
    demo = ft_city_new_demo ();
}

static void
demo_teardown (void)
{
}

/* ---- Demo City -------------------------------------------------------- */

START_TEST (test_demo_deterministic)
{
  g_autofree char *tmp = make_tmpdir ();
  g_autofree char *a = g_build_filename (tmp, "a", NULL), *b = g_build_filename (tmp, "b", NULL);
  g_autoptr(FtCity) c1 = ft_city_new_demo ();
  g_autoptr(FtCity) c2 = ft_city_new_demo ();
  GError *e = NULL;
  ck_assert_msg (ft_city_save (c1, a, &e), "%s", e ? e->message : "");
  ck_assert_msg (ft_city_save (c2, b, &e), "%s", e ? e->message : "");
  for (guint i = 0; i < G_N_ELEMENTS (pack_files); i++)
    {
      g_autofree char *ta = read_file (a, pack_files[i]), *tb = read_file (b, pack_files[i]);
      ck_assert_msg (strcmp (ta, tb) == 0, "%s differs between two generations", pack_files[i]);
    }
  /* and the built-in text is the same as the file in the source tree */
  g_autofree char *src = g_build_filename (FT_SOURCE_DIR, "data", "demo-city.ini", NULL);
  g_autofree char *text = NULL;
  ck_assert (g_file_get_contents (src, &text, NULL, NULL));
  ck_assert_str_eq (text, ft_city_demo_params ());
  g_autoptr(FtCity) c3 = ft_city_generate_demo (src, &e);
  ck_assert_msg (c3 != NULL, "%s", e ? e->message : "");
  ck_assert_uint_eq (c3->graph.n_edges, c1->graph.n_edges);
  /* a different seed gives a different street pattern */
  g_autofree char *other = g_strdup (text);
  char *s = strstr (other, "seed=20261124");
  ck_assert (s != NULL);
  s[strlen ("seed=2026112")] = '5';
  g_autoptr(FtCity) c4 = ft_city_generate_demo_from_data (other, strlen (other), "test", &e);
  ck_assert_msg (c4 != NULL, "%s", e ? e->message : "");
  gboolean differs = c4->graph.n_nodes != c1->graph.n_nodes;
  for (guint v = 0; !differs && v < c1->graph.n_nodes; v++)
    differs = c4->graph.nodes[v].lat != c1->graph.nodes[v].lat;
  ck_assert (differs);
  ft_test_rm_rf (tmp);
}
END_TEST

START_TEST (test_demo_shape)
{
  const FtCity *c = demo;
  ck_assert_str_eq (c->id, "demo-city");
  ck_assert_uint_ge (c->n_zones, 30);
  ck_assert_uint_le (c->n_zones, 60);
  ck_assert_uint_ge (c->n_depots, 3);
  ck_assert_uint_le (c->n_depots, 4);
  ck_assert_uint_gt (c->graph.n_nodes, 800);
  GError *e = NULL;
  ck_assert_msg (ft_city_check (c, &e), "%s", e ? e->message : "");
  guint kinds[FT_N_ZONE_KINDS] = { 0 };
  for (guint z = 0; z < c->n_zones; z++)
    kinds[c->zones[z].kind]++;
  for (FtZoneKind k = FT_ZONE_RESIDENTIAL; k <= FT_ZONE_TRANSIT; k++)
    ck_assert_msg (kinds[k] > 0, "no zone of kind %s", ft_zone_kind_name (k));
  /* about 6 x 5 km */
  double w = ft_distance_m ((FtLatLon) { c->center.lat, c->bbox.min_lon }, (FtLatLon) { c->center.lat, c->bbox.max_lon });
  double h = ft_distance_m ((FtLatLon) { c->bbox.min_lat, c->center.lon }, (FtLatLon) { c->bbox.max_lat, c->center.lon });
  ck_assert_msg (w > 5800 && w < 6600 && h > 4800 && h < 5600, "extent %.0f x %.0f m", w, h);
  /* every class of road is there */
  guint cls[FT_N_ROAD_CLASSES] = { 0 };
  for (guint i = 0; i < c->graph.n_edges; i++)
    cls[c->graph.edges[i].road_class]++;
  ck_assert_uint_gt (cls[FT_ROAD_ARTERIAL], 0);
  ck_assert_uint_gt (cls[FT_ROAD_RESIDENTIAL], 0);
  ck_assert_uint_gt (cls[FT_ROAD_BRIDGE], 0);
  ck_assert_uint_gt (cls[FT_ROAD_PATH], 0);
  /* zone lookup: each zone's centroid lies in it */
  for (guint z = 0; z < c->n_zones; z++)
    ck_assert_int_eq (ft_city_zone_at (c, c->zones[z].centroid), (int) z);
  ck_assert_int_eq (ft_city_zone_at (c, (FtLatLon) { 0, 0 }), -1);
}
END_TEST

/* The zone raster's answers are the polygon tests', point by point: on
 * random points over the zones' bbox and beyond, and on points a hair
 * either side of every zone vertex (where boundaries cross cells). */
static void
zone_lookup_matches (const FtCity *c, FtLatLon p)
{
  int want = -1;
  for (guint z = 0; z < c->n_zones; z++)
    {
      gboolean in = c->zones[z].area != NULL && ft_multipolygon_contains (c->zones[z].area, p);
      ck_assert_msg (ft_city_zone_contains (c, z, p) == in, "zone %u at %.9f,%.9f", z, p.lat, p.lon);
      if (in && want < 0)
        want = (int) z;
    }
  ck_assert_msg (ft_city_zone_at (c, p) == want, "zone_at %.9f,%.9f: %d, want %d",
                 p.lat, p.lon, ft_city_zone_at (c, p), want);
}

START_TEST (test_demo_zone_raster)
{
  const FtCity *c = demo;
  GRand *r = g_rand_new_with_seed (16);
  double dlat = c->bbox.max_lat - c->bbox.min_lat, dlon = c->bbox.max_lon - c->bbox.min_lon;
  for (int i = 0; i < 20000; i++)
    zone_lookup_matches (c, (FtLatLon) { c->bbox.min_lat - 0.1 * dlat + g_rand_double (r) * 1.2 * dlat,
                                         c->bbox.min_lon - 0.1 * dlon + g_rand_double (r) * 1.2 * dlon });
  for (guint z = 0; z < c->n_zones; z++)
    {
      const FtMultiPolygon *mp = c->zones[z].area;
      for (guint q = 0; mp != NULL && q < mp->n_polys; q++)
        for (guint k = 0; k < mp->polys[q].n_rings; k++)
          for (guint j = 0; j < mp->polys[q].rings[k].n; j++)
            {
              FtLatLon v = mp->polys[q].rings[k].pts[j];
              for (int d = 0; d < 4; d++)
                zone_lookup_matches (c, (FtLatLon) { v.lat + (d & 1 ? 1e-9 : -1e-9),
                                                     v.lon + (d & 2 ? 1e-9 : -1e-9) });
            }
    }
  g_rand_free (r);
}
END_TEST

START_TEST (test_demo_connected)
{
  ck_assert_double_eq (ft_road_graph_largest_component_share (&demo->graph), 1.0);
}
END_TEST

/* Does segment p-q cross segment a-b (in lon/lat plane; fine at city scale)? */
static gboolean
seg_cross (FtLatLon p, FtLatLon q, FtLatLon a, FtLatLon b)
{
  double d1 = (b.lon - a.lon) * (p.lat - a.lat) - (b.lat - a.lat) * (p.lon - a.lon);
  double d2 = (b.lon - a.lon) * (q.lat - a.lat) - (b.lat - a.lat) * (q.lon - a.lon);
  double d3 = (q.lon - p.lon) * (a.lat - p.lat) - (q.lat - p.lat) * (a.lon - p.lon);
  double d4 = (q.lon - p.lon) * (b.lat - p.lat) - (q.lat - p.lat) * (b.lon - p.lon);
  return ((d1 > 0) != (d2 > 0)) && ((d3 > 0) != (d4 > 0));
}

static gboolean
touches_water (const FtMultiPolygon *w, FtLatLon p, FtLatLon q)
{
  if (ft_multipolygon_contains (w, p) || ft_multipolygon_contains (w, q))
    return TRUE;
  for (guint k = 0; k < w->n_polys; k++)
    for (guint r = 0; r < w->polys[k].n_rings; r++)
      {
        const FtRing *ring = &w->polys[k].rings[r];
        for (guint i = 0; i < ring->n; i++)
          if (seg_cross (p, q, ring->pts[i], ring->pts[(i + 1) % ring->n]))
            return TRUE;
      }
  return FALSE;
}

START_TEST (test_demo_river_bridges)
{
  const FtCity *c = demo;
  const FtRoadGraph *g = &c->graph;
  ck_assert (c->water != NULL && c->water->n_polys > 0);
  guint bridges = 0;
  for (guint u = 0; u < g->n_nodes; u++)
    {
      ck_assert_msg (!ft_multipolygon_contains (c->water, g->nodes[u]), "node %u is in the river", u);
      for (guint32 e = g->first_edge[u]; e < g->first_edge[u + 1]; e++)
        {
          gboolean wet = touches_water (c->water, g->nodes[u], g->nodes[g->edges[e].to]);
          if (g->edges[e].road_class == FT_ROAD_BRIDGE)
            {
              ck_assert_msg (wet, "bridge edge %u does not cross the river", e);
              bridges++;
            }
          else
            ck_assert_msg (!wet, "edge %u->%u (%s) crosses the river but is no bridge", u,
                           g->edges[e].to, ft_road_class_name (g->edges[e].road_class));
        }
    }
  ck_assert_uint_ge (bridges / 2, 3);
  /* without its bridges, the city falls apart in two banks */
  FtRoadGraph copy = *g;
  copy.edges = g_memdup2 (g->edges, sizeof (FtEdge) * g->n_edges);
  /* point each bridge edge back at its own source: a self loop joins nothing */
  for (guint u = 0; u < g->n_nodes; u++)
    for (guint32 e = g->first_edge[u]; e < g->first_edge[u + 1]; e++)
      if (copy.edges[e].road_class == FT_ROAD_BRIDGE)
        copy.edges[e].to = u;
  double share = ft_road_graph_largest_component_share (&copy);
  g_free (copy.edges);
  ck_assert_msg (share < 0.9 && share > 0.3, "largest share without bridges %.3f", share);
}
END_TEST

START_TEST (test_demo_demand)
{
  const FtDemandProfile *d = &demo->demand;
  ck_assert_uint_eq (d->n_zones, demo->n_zones);
  double per_day = ft_demand_profile_per_day (d);
  ck_assert_msg (per_day > 4000 && per_day < 5000, "requests per day %.1f", per_day);
  ck_assert_msg (d->mean_trip_m > 1400 && d->mean_trip_m < 1800, "mean trip %.0f m", d->mean_trip_m);
  /* destination rows are distributions */
  for (guint b = 0; b < FT_DEMAND_N_BANDS; b++)
    for (guint i = 0; i < d->n_zones; i++)
      {
        double s = 0;
        for (guint j = 0; j < d->n_zones; j++)
          s += d->dest[((gsize) b * d->n_zones + i) * d->n_zones + j];
        ck_assert_msg (fabs (s - 1) < 1e-9, "dest row %u band %u sums to %g", i, b, s);
      }
  /* shape: weekday 08:00 beats 03:00; weekday morning peak above Sunday's */
  double h[168] = { 0 };
  for (guint z = 0; z < d->n_zones; z++)
    for (guint k = 0; k < 168; k++)
      h[k] += d->rate[z * 168 + k];
  ck_assert (h[8] > 5 * h[3]);
  ck_assert (h[8] > h[6 * 24 + 8] * 1.5);
  /* nightlife zones busier on Saturday 22:00 than Tuesday 22:00 */
  for (guint z = 0; z < d->n_zones; z++)
    if (demo->zones[z].kind == FT_ZONE_NIGHTLIFE)
      ck_assert (d->rate[z * 168 + 5 * 24 + 22] > d->rate[z * 168 + 1 * 24 + 22]);
  /* morning: offices attract more than they do at night */
  guint office = 0;
  while (demo->zones[office].kind != FT_ZONE_OFFICE)
    office++;
  double m = 0, n = 0;
  for (guint i = 0; i < d->n_zones; i++)
    {
      m += d->dest[((gsize) 0 * d->n_zones + i) * d->n_zones + office];
      n += d->dest[((gsize) 3 * d->n_zones + i) * d->n_zones + office];
    }
  ck_assert (m > 2 * n);
}
END_TEST

/* Trips drawn as a simulator would (origin zone by rate, destination by the
 * gravity weights of the band, uniform points in the zones), routed on the
 * streets: the mean lands where real shared fleets report (1.5-3 km). */
START_TEST (test_demo_trip_lengths)
{
  const FtCity *c = demo;
  const FtDemandProfile *d = &c->demand;
  g_autoptr(FtRouter) r = ft_router_new (c);
  GRand *rand = g_rand_new_with_seed (11);
  guint nz = d->n_zones, n = 4000;
  double total_rate = 0;
  for (guint i = 0; i < nz * 168; i++)
    total_rate += d->rate[i];
  double sum = 0, sum_straight = 0;
  for (guint k = 0; k < n; k++)
    {
      double u = g_rand_double (rand) * total_rate;
      guint idx = 0;
      while (idx + 1 < nz * 168 && u >= d->rate[idx])
        u -= d->rate[idx++];
      guint from = idx / 168, band = ft_demand_band_of_hour (idx % 168);
      const double *row = d->dest + ((gsize) band * nz + from) * nz;
      double v = g_rand_double (rand);
      guint to = 0;
      while (to + 1 < nz && v >= row[to])
        v -= row[to++];
      FtLatLon p[2];
      guint zz[2] = { from, to };
      for (int e = 0; e < 2; e++)
        {
          const FtBBox *b = &c->zones[zz[e]].area->bbox;
          p[e] = (FtLatLon) { b->min_lat + g_rand_double (rand) * (b->max_lat - b->min_lat),
                              b->min_lon + g_rand_double (rand) * (b->max_lon - b->min_lon) };
        }
      double dist = ft_router_distance (r, p[0], p[1]);
      ck_assert (dist >= 0);
      sum += dist;
      sum_straight += ft_distance_m (p[0], p[1]);
    }
  g_rand_free (rand);
  double mean = sum / n, mean_straight = sum_straight / n;
  fprintf (stderr, "demo trips: mean straight %.0f m, mean routed %.0f m (detour %.2f)\n",
           mean_straight, mean, mean / mean_straight);
  ck_assert_msg (mean > 1500 && mean < 3000, "mean routed trip %.0f m", mean);
  ck_assert_msg (fabs (mean_straight - d->mean_trip_m) < 0.15 * d->mean_trip_m,
                 "mean straight %.0f m vs profile's %.0f m", mean_straight, d->mean_trip_m);
}
END_TEST

START_TEST (test_demo_geofences)
{
  const FtCity *c = demo;
  guint n = ft_geofences_n_zones (c->geofences);
  ck_assert_uint_eq (n, 3);
  const FtGeofenceZone *park = ft_geofences_get (c->geofences, 0);
  const FtGeofenceZone *slow = ft_geofences_get (c->geofences, 1);
  FtZoneRules r = ft_geofences_rules_at (c->geofences, ft_multipolygon_centroid (park->area), 0, NULL);
  ck_assert (!r.ride_end_allowed);
  r = ft_geofences_rules_at (c->geofences, ft_multipolygon_centroid (slow->area), 0, NULL);
  ck_assert (r.ride_end_allowed);
  ck_assert_double_eq_tol (r.maximum_speed_kph, 12, 1e-9);
  r = ft_geofences_rules_at (c->geofences, c->center, 0, NULL);
  ck_assert (r.ride_end_allowed && r.maximum_speed_kph == 0);
  int zone = 0;
  r = ft_geofences_rules_at (c->geofences, (FtLatLon) { c->bbox.max_lat + 0.05, c->center.lon }, 0, &zone);
  ck_assert_int_eq (zone, -1);
  ck_assert (!r.ride_end_allowed);
  /* depots sit on the street network, inside the operating area */
  for (guint d = 0; d < c->n_depots; d++)
    {
      guint v = ft_city_nearest_node (c, c->depots[d].pos);
      ck_assert_double_eq (ft_distance_m (c->graph.nodes[v], c->depots[d].pos), 0);
      ck_assert (ft_multipolygon_contains (c->operating_area, c->depots[d].pos));
    }
}
END_TEST

START_TEST (test_demo_bad_params)
{
  const char *good = ft_city_demo_params ();
  GError *e = NULL;
  /* missing key */
  g_autofree char *t1 = g_strdup (good);
  char *p = strstr (t1, "block_m=150");
  memcpy (p, "blokk_m", 7);
  FtCity *c = ft_city_generate_demo_from_data (t1, strlen (t1), "x.ini", &e);
  ck_assert (c == NULL);
  ck_assert_msg (strstr (e->message, "x.ini") && strstr (e->message, "[streets] block_m"), "%s", e->message);
  g_clear_error (&e);
  /* bad list */
  g_autofree char *t2 = g_strdup (good);
  p = strstr (t2, "day_factors=1.0;");
  memcpy (p, "day_factors=1.x;", 16);
  c = ft_city_generate_demo_from_data (t2, strlen (t2), "y.ini", &e);
  ck_assert (c == NULL);
  ck_assert_msg (strstr (e->message, "[demand] day_factors") && strstr (e->message, "item 1"), "%s", e->message);
  g_clear_error (&e);
  /* unknown kind */
  g_autofree char *t3 = g_strdup (good);
  p = strstr (t3, "kind=office");
  memcpy (p, "kind=offize", 11);
  c = ft_city_generate_demo_from_data (t3, strlen (t3), "z.ini", &e);
  ck_assert (c == NULL);
  ck_assert_msg (strstr (e->message, "offize"), "%s", e->message);
  g_clear_error (&e);
  /* a count far out of range: refused, naming it (the fuzzer found it
     cast to guint before the refusal) */
  g_autofree char *t4 = g_strdup_printf ("%s", good);
  p = strstr (t4, "chargers=40");
  ck_assert (p != NULL);
  g_autofree char *t4b = g_strdup_printf ("%.*schargers=8e21%s", (int) (p - t4), t4, p + strlen ("chargers=40"));
  c = ft_city_generate_demo_from_data (t4b, strlen (t4b), "w.ini", &e);
  ck_assert (c == NULL);
  ck_assert_msg (strstr (e->message, "chargers") && strstr (e->message, "outside"), "%s", e->message);
  g_clear_error (&e);
  /* missing file */
  c = ft_city_generate_demo ("/nonexistent/demo.ini", &e);
  ck_assert (c == NULL && e != NULL);
  g_clear_error (&e);
}
END_TEST

/* ---- routing ---------------------------------------------------------- */

START_TEST (test_router_small_graphs)
{
  GRand *rand = g_rand_new_with_seed (42);
  for (guint round = 0; round < 40; round++)
    {
      guint n0 = 6 + g_rand_int_range (rand, 0, 30), m0 = n0 + g_rand_int_range (rand, 0, 3 * (gint) n0);
      g_autoptr(GArray) an = g_array_new (FALSE, FALSE, sizeof (FtLatLon));
      g_autoptr(GArray) af = g_array_new (FALSE, FALSE, sizeof (guint)), at = g_array_new (FALSE, FALSE, sizeof (guint));
      g_autoptr(GArray) al = g_array_new (FALSE, FALSE, sizeof (float)), aw = g_array_new (FALSE, FALSE, sizeof (gboolean));
      for (guint i = 0; i < n0; i++)
        {
          FtLatLon p = { 50 + g_rand_double (rand) * 0.02, 8 + g_rand_double (rand) * 0.03 };
          g_array_append_val (an, p);
        }
#define ADD_STREET(A, B, L, W) do { guint a_ = (A), b_ = (B); float l_ = (L); gboolean w_ = (W); \
        g_array_append_val (af, a_); g_array_append_val (at, b_); g_array_append_val (al, l_); \
        g_array_append_val (aw, w_); } while (0)
      for (guint i = 0; i < m0; i++)
        {
          guint a = g_rand_int_range (rand, 0, n0), b = g_rand_int_range (rand, 0, n0);
          FtLatLon pa = g_array_index (an, FtLatLon, a), pb = g_array_index (an, FtLatLon, b);
          /* mostly geometric lengths, sometimes shorter than the chord
           * (hand-made packs), sometimes much longer (detours) */
          double chord = ft_distance_m (pa, pb);
          double f = g_rand_int_range (rand, 0, 10) == 0 ? 0.3 : 1.0 + g_rand_double (rand);
          gboolean oneway = g_rand_int_range (rand, 0, 4) == 0;
          /* half the streets get shape points: chains the router folds */
          guint extra = g_rand_int_range (rand, 0, 2) ? g_rand_int_range (rand, 1, 4) : 0;
          if (a == b)
            extra = 0;
          guint prev = a;
          for (guint k = 1; k <= extra; k++)
            {
              double t = (double) k / (extra + 1);
              FtLatLon p = { pa.lat + t * (pb.lat - pa.lat), pa.lon + t * (pb.lon - pa.lon) };
              g_array_append_val (an, p);
              ADD_STREET (prev, an->len - 1, (float) (chord * f / (extra + 1)), oneway);
              prev = an->len - 1;
            }
          ADD_STREET (prev, b, (float) (chord * f / (extra + 1)), oneway);
        }
      /* loops with no junction: two-way and one-way */
      for (int loop = 0; loop < 2; loop++)
        {
          guint first = an->len, len_loop = 3 + loop;
          for (guint k = 0; k < len_loop; k++)
            {
              FtLatLon p = { 50.03 + 0.001 * k, 8.04 + 0.001 * loop };
              g_array_append_val (an, p);
            }
          for (guint k = 0; k < len_loop; k++)
            ADD_STREET (first + k, first + (k + 1) % len_loop, 150.0f, loop == 1);
        }
#undef ADD_STREET
      guint n = an->len, m = af->len;
      FtLatLon *nodes = (FtLatLon *) an->data;
      guint *from = (guint *) af->data, *to = (guint *) at->data;
      float *len = (float *) al->data;
      gboolean *ow = (gboolean *) aw->data;
      g_autoptr(FtCity) c = graph_city (nodes, n, from, to, len, ow, m);
      g_autoptr(FtRouter) r = ft_router_new (c);
      ck_assert (ft_router_get_use_table (r));
      ck_assert_uint_lt (ft_router_n_core_nodes (r), n);   /* chains were folded */
      if (round % 3 != 2)
        ft_router_set_use_table (r, FALSE);   /* A* + LRU; every third round the table */
      if (round % 3 == 1)
        ft_router_set_cache_size (r, 16);   /* force evictions */
      if (round % 2 == 1)
        ft_router_set_landmarks (r, 1 + round % 5);   /* ALT bounds */
      for (int pass = 0; pass < 2; pass++)
        for (guint s = 0; s < n; s++)
          {
            g_autofree double *ref = dijkstra (&c->graph, s);
            for (guint t = 0; t < n; t++)
              {
                double d = ft_router_node_distance (r, s, t);
                if (ref[t] < 0)
                  ck_assert_msg (d < 0, "round %u %u->%u: expected unreachable, got %g", round, s, t, d);
                else
                  ck_assert_msg (fabs (d - ref[t]) < 1e-3 * (1 + ref[t]), "round %u %u->%u: %g vs dijkstra %g",
                                 round, s, t, d, ref[t]);
                g_autofree guint32 *path = NULL;
                guint np = 0;
                double dp = ft_router_node_path (r, s, t, &path, &np);
                ck_assert_double_eq_tol (dp, d, 1e-3 * (1 + fabs (d)));
                if (d >= 0)
                  {
                    ck_assert_uint_eq (path[0], s);
                    ck_assert_uint_eq (path[np - 1], t);
                    double sum = 0;
                    for (guint k = 0; k + 1 < np; k++)
                      {
                        double best = -1;
                        for (guint32 e = c->graph.first_edge[path[k]]; e < c->graph.first_edge[path[k] + 1]; e++)
                          if (c->graph.edges[e].to == path[k + 1] && (best < 0 || c->graph.edges[e].length_m < best))
                            best = c->graph.edges[e].length_m;
                        ck_assert_msg (best >= 0, "path uses a missing edge");
                        sum += best;
                      }
                    ck_assert_double_eq_tol (sum, d, 1e-3 * (1 + d));
                  }
                else
                  ck_assert (path == NULL && np == 0);
              }
          }
      ck_assert_uint_gt (ft_router_n_queries (r), 0);
      if (round % 3 == 0)
        ck_assert_uint_gt (ft_router_cache_hits (r), 0);
    }
  g_rand_free (rand);
}
END_TEST

START_TEST (test_router_demo)
{
  const FtCity *c = demo;
  g_autoptr(FtRouter) r = ft_router_new (c);
  g_autoptr(FtRouter) ra = ft_router_new (c);   /* A* with landmarks */
  ft_router_set_use_table (ra, FALSE);
  g_autoptr(FtRouter) r0 = ft_router_new (c);   /* plain A* */
  ft_router_set_use_table (r0, FALSE);
  ft_router_set_landmarks (r0, 0);
  GRand *rand = g_rand_new_with_seed (7);
  for (guint k = 0; k < 12; k++)
    {
      guint s = g_rand_int_range (rand, 0, c->graph.n_nodes);
      g_autofree double *ref = dijkstra (&c->graph, s);
      for (guint q = 0; q < 40; q++)
        {
          guint t = g_rand_int_range (rand, 0, c->graph.n_nodes);
          double d = ft_router_node_distance (r, s, t);
          double da = ft_router_node_distance (ra, s, t);
          double d0 = ft_router_node_distance (r0, s, t);
          ck_assert_msg (fabs (d0 - ref[t]) < 0.01, "plain A* %u->%u: %g vs %g", s, t, d0, ref[t]);
          ck_assert_msg (fabs (d - ref[t]) < 0.01, "table %u->%u: %g vs %g", s, t, d, ref[t]);
          ck_assert_msg (fabs (da - ref[t]) < 0.01, "A* %u->%u: %g vs %g", s, t, da, ref[t]);
          ck_assert (d >= ft_distance_m (c->graph.nodes[s], c->graph.nodes[t]) * 0.999);
          g_autofree guint32 *path = NULL;
          guint np = 0;
          ck_assert_double_eq_tol (ft_router_node_path (r, s, t, &path, &np), d, 0.01);
          double sum = 0;
          for (guint i = 0; i + 1 < np; i++)
            {
              double best = -1;
              for (guint32 e = c->graph.first_edge[path[i]]; e < c->graph.first_edge[path[i] + 1]; e++)
                if (c->graph.edges[e].to == path[i + 1])
                  best = c->graph.edges[e].length_m;
              ck_assert (best >= 0);
              sum += best;
            }
          ck_assert_msg (fabs (sum - ref[t]) < 0.05, "table path %u->%u sums to %g, not %g", s, t, sum, ref[t]);
        }
    }
  /* point routing: snapping plus the two straight legs */
  FtLatLon a = c->zones[0].centroid, b = c->zones[c->n_zones - 1].centroid;
  g_autofree FtLatLon *pts = NULL;
  guint np = 0;
  double d = ft_router_route (r, a, b, &pts, &np);
  ck_assert (d > ft_distance_m (a, b));
  ck_assert (d < 2.0 * ft_distance_m (a, b));
  ck_assert_uint_ge (np, 3);
  ck_assert (pts[0].lat == a.lat && pts[np - 1].lon == b.lon);
  ck_assert_double_eq_tol (ft_router_distance (r, a, b), d, 0.01);
  /* nearest node agrees with brute force, inside and outside the city */
  for (guint q = 0; q < 300; q++)
    {
      FtLatLon p = { c->bbox.min_lat - 0.01 + g_rand_double (rand) * (c->bbox.max_lat - c->bbox.min_lat + 0.02),
                     c->bbox.min_lon - 0.01 + g_rand_double (rand) * (c->bbox.max_lon - c->bbox.min_lon + 0.02) };
      guint v = ft_city_nearest_node (c, p);
      double best = G_MAXDOUBLE;
      for (guint i = 0; i < c->graph.n_nodes; i++)
        best = MIN (best, ft_distance_m (p, c->graph.nodes[i]));
      ck_assert_msg (ft_distance_m (p, c->graph.nodes[v]) <= best * 1.001 + 0.01, "query %u: %.2f vs best %.2f",
                     q, ft_distance_m (p, c->graph.nodes[v]), best);
    }
  g_rand_free (rand);
}
END_TEST

/* A pack whose three road nodes are up to 2,300 km apart (found by the
 * city-pack fuzzer: the node grid of 150 m cells was clamped to 4096 a
 * side, 134 MB, and nodes past it were filed under the edge cells): the
 * grid's cells grow with the span, and the nearest node is still the
 * nearest, by brute force. */
START_TEST (test_pack_huge_span)
{
  g_autofree char *tmp = make_tmpdir ();
  g_autofree char *dir = g_build_filename (tmp, "pack", NULL);
  GError *e = NULL;
  ck_assert_msg (ft_city_save (demo, dir, &e), "%s", e ? e->message : "");
  g_autofree char *roads = g_build_filename (dir, "roads.tsv", NULL);
  const char *text = "# far apart\nN\t58.175\t3.155\nN\t54.185\t35.51\nN\t52.185\t3.145\n"
                     "N\t52.19\t3.15\nE\t0\t1\t650\tresidential\t0\nE\t1\t2\t1100\tcycleway\t1\n"
                     "E\t2\t3\t700\tresidential\t0\n";
  ck_assert (g_file_set_contents (roads, text, -1, NULL));
  g_autoptr(FtCity) c = ft_city_load (dir, &e);
  ck_assert_msg (c != NULL, "%s", e ? e->message : "");
  ck_assert_uint_eq (c->graph.n_nodes, 4);
  GRand *rand = g_rand_new_with_seed (11);
  for (guint q = 0; q < 400; q++)
    {
      FtLatLon p = { 51.0 + g_rand_double (rand) * 8.0, 2.0 + g_rand_double (rand) * 35.0 };
      guint v = ft_city_nearest_node (c, p);
      /* nearest by the metric it searches: equirectangular at the query's
       * latitude (over 2,000 km it differs from the great circle by a few %) */
      double mlon = 111320.0 * cos (p.lat * G_PI / 180.0), best = G_MAXDOUBLE, got = 0;
      for (guint i = 0; i < c->graph.n_nodes; i++)
        {
          double dx = (c->graph.nodes[i].lon - p.lon) * mlon, dy = (c->graph.nodes[i].lat - p.lat) * 111320.0;
          best = MIN (best, sqrt (dx * dx + dy * dy));
          if (i == v)
            got = sqrt (dx * dx + dy * dy);
        }
      ck_assert_msg (got <= best + 0.01, "query %u (%.3f, %.3f): node %u at %.0f m, the nearest is %.0f m", q,
                     p.lat, p.lon, v, got, best);
    }
  g_rand_free (rand);
}
END_TEST

/* ---- packs ------------------------------------------------------------ */

START_TEST (test_pack_round_trip)
{
  g_autofree char *tmp = make_tmpdir ();
  g_autofree char *a = g_build_filename (tmp, "pack", NULL), *b = g_build_filename (tmp, "again", NULL);
  GError *e = NULL;
  ck_assert_msg (ft_city_save (demo, a, &e), "%s", e ? e->message : "");
  g_autoptr(FtCity) c = ft_city_load (a, &e);
  ck_assert_msg (c != NULL, "%s", e ? e->message : "");
  ck_assert_str_eq (c->id, demo->id);
  ck_assert_str_eq (c->name, demo->name);
  ck_assert_str_eq (c->currency, demo->currency);
  ck_assert_int_eq (c->utc_offset_min, demo->utc_offset_min);
  ck_assert_uint_eq (c->n_zones, demo->n_zones);
  for (guint z = 0; z < c->n_zones; z++)
    {
      ck_assert_str_eq (c->zones[z].id, demo->zones[z].id);
      ck_assert_str_eq (c->zones[z].name, demo->zones[z].name);
      ck_assert_int_eq (c->zones[z].kind, demo->zones[z].kind);
      ck_assert_double_eq_tol (c->zones[z].pricing_multiplier, demo->zones[z].pricing_multiplier, 1e-12);
      ck_assert_double_eq_tol (c->zones[z].area_km2, demo->zones[z].area_km2, 1e-9);
    }
  ck_assert_uint_eq (c->graph.n_nodes, demo->graph.n_nodes);
  ck_assert_uint_eq (c->graph.n_edges, demo->graph.n_edges);
  for (guint v = 0; v < c->graph.n_nodes; v++)
    {
      ck_assert (ft_distance_m (c->graph.nodes[v], demo->graph.nodes[v]) < 0.01);
      ck_assert_uint_eq (c->graph.first_edge[v], demo->graph.first_edge[v]);
    }
  for (guint i = 0; i < c->graph.n_edges; i++)
    {
      ck_assert_uint_eq (c->graph.edges[i].to, demo->graph.edges[i].to);
      ck_assert_uint_eq (c->graph.edges[i].road_class, demo->graph.edges[i].road_class);
      ck_assert_uint_eq (c->graph.edges[i].flags, demo->graph.edges[i].flags);
      ck_assert_double_eq_tol (c->graph.edges[i].length_m, demo->graph.edges[i].length_m, 1e-3);
    }
  ck_assert_uint_eq (c->n_depots, demo->n_depots);
  for (guint d = 0; d < c->n_depots; d++)
    {
      ck_assert_str_eq (c->depots[d].id, demo->depots[d].id);
      ck_assert_uint_eq (c->depots[d].chargers, demo->depots[d].chargers);
      ck_assert_uint_eq (c->depots[d].pack_stock, demo->depots[d].pack_stock);
    }
  ck_assert_uint_eq (ft_geofences_n_zones (c->geofences), ft_geofences_n_zones (demo->geofences));
  ck_assert (c->water != NULL && c->parks != NULL && c->operating_area != NULL);
  for (guint i = 0; i < c->n_zones * 168; i++)
    ck_assert_double_eq_tol (c->demand.rate[i], demo->demand.rate[i], 1e-5 * (1e-6 + demo->demand.rate[i]));
  ck_assert_double_eq_tol (ft_demand_profile_per_day (&c->demand), ft_demand_profile_per_day (&demo->demand), 0.01);
  /* saving what was loaded gives the same bytes */
  ck_assert_msg (ft_city_save (c, b, &e), "%s", e ? e->message : "");
  for (guint i = 0; i < G_N_ELEMENTS (pack_files); i++)
    {
      g_autofree char *ta = read_file (a, pack_files[i]), *tb = read_file (b, pack_files[i]);
      ck_assert_msg (strcmp (ta, tb) == 0, "%s changed in a load/save round trip", pack_files[i]);
    }
  /* overwrite an existing pack in place (named with a trailing slash);
   * no temporary folders are left */
  g_autofree char *a_slash = g_strconcat (a, "/", NULL);
  ck_assert_msg (ft_city_save (c, a_slash, &e), "%s", e ? e->message : "");
  GDir *d = g_dir_open (tmp, 0, NULL);
  const char *n;
  guint entries = 0;
  while ((n = g_dir_read_name (d)) != NULL)
    {
      ck_assert_msg (strstr (n, ".tmp-") == NULL && strstr (n, ".old-") == NULL, "left behind: %s", n);
      entries++;
    }
  g_dir_close (d);
  ck_assert_uint_eq (entries, 2);
  /* refuses to replace a folder that is not a city pack */
  g_autofree char *other = g_build_filename (tmp, "other", NULL);
  g_mkdir (other, 0755);
  write_file (other, "precious.txt", "keep me");
  ck_assert (!ft_city_save (c, other, &e));
  ck_assert_msg (strstr (e->message, "not a city pack"), "%s", e->message);
  g_clear_error (&e);
  g_autofree char *keep = read_file (other, "precious.txt");
  ck_assert_str_eq (keep, "keep me");
  ft_test_rm_rf (tmp);
}
END_TEST

typedef struct {
  const char *file;
  const char *find;     /* text to replace (first occurrence), or NULL = truncate file */
  const char *replace;
  const char *expect1;  /* substrings the error must contain */
  const char *expect2;
} Corruption;

static char *
replace_nth_line (const char *text, guint lineno, const char *with)
{
  g_auto(GStrv) lines = g_strsplit (text, "\n", -1);
  ck_assert (lineno >= 1 && lineno <= g_strv_length (lines));
  g_free (lines[lineno - 1]);
  lines[lineno - 1] = g_strdup (with);
  return g_strjoinv ("\n", lines);
}

START_TEST (test_pack_malformed)
{
  g_autofree char *tmp = make_tmpdir ();
  g_autofree char *good = g_build_filename (tmp, "good", NULL);
  GError *e = NULL;
  ck_assert_msg (ft_city_save (demo, good, &e), "%s", e ? e->message : "");
  const Corruption cases[] = {
    { "roads.tsv", "@line12", "N\t54.19\tabc", "roads.tsv:12", "lat" },
    { "roads.tsv", "@line5", "N\t95.0\t3.2", "roads.tsv:5", "WGS84" },
    { "roads.tsv", "@lastedge", "E\t0\t99999999\t12.0\tresidential\t0", "roads.tsv:", "node" },
    { "roads.tsv", "@lastedge", "E\t0\t1\t12.0\tmotorway\t0", "roads.tsv:", "motorway" },
    { "roads.tsv", "@lastedge", "X\t1", "roads.tsv:", "expected N or E" },
    { "zones.geojson", "\"kind\":\"office\"", "\"kind\":\"offize\"", "zones.geojson: feature", "offize" },
    { "zones.geojson", "\"pricing_multiplier\":1.0", "\"pricing_multiplier\":\"x\"", "zones.geojson: feature 0",
      "pricing_multiplier" },
    { "zones.geojson", NULL, NULL, "zones.geojson", "JSON" },
    { "city.json", "\"currency\" : \"EUR\"", "\"currency\" : 12", "city.json", "currency" },
    { "city.json", "\"chargers\" : 40", "\"chargers\" : -4", "city.json: depots[0]", "chargers" },
    { "city.json", NULL, NULL, "city.json", "JSON" },
    { "demand.json", "\"rate\": [", "\"rate\": [-1,", "demand.json: zones[0]", "rate" },
    { "demand.json", NULL, NULL, "demand.json", "JSON" },
    { "geofencing_zones.json", "\"features\"", "\"featurez\"", "geofencing_zones.json", NULL },
  };
  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      const Corruption *k = &cases[i];
      g_autofree char *bad = g_build_filename (tmp, "bad", NULL);
      ft_test_rm_rf (bad);
      g_mkdir (bad, 0755);
      for (guint f = 0; f < G_N_ELEMENTS (pack_files); f++)
        {
          g_autofree char *t = read_file (good, pack_files[f]);
          write_file (bad, pack_files[f], t);
        }
      g_autofree char *text = read_file (bad, k->file);
      g_autofree char *out = NULL;
      if (k->find == NULL)
        out = g_strndup (text, strlen (text) * 2 / 3);
      else if (strcmp (k->find, "@line12") == 0)
        out = replace_nth_line (text, 12, k->replace);
      else if (strcmp (k->find, "@line5") == 0)
        out = replace_nth_line (text, 5, k->replace);
      else if (strcmp (k->find, "@lastedge") == 0)
        {
          guint nl = 0;
          for (const char *s = text; *s; s++)
            nl += *s == '\n';
          out = replace_nth_line (text, nl, k->replace);   /* last line before the final newline */
        }
      else
        {
          char *at = strstr (text, k->find);
          ck_assert_msg (at != NULL, "case %u: \"%s\" not found in %s", i, k->find, k->file);
          out = g_strdup_printf ("%.*s%s%s", (int) (at - text), text, k->replace, at + strlen (k->find));
        }
      write_file (bad, k->file, out);
      FtCity *c = ft_city_load (bad, &e);
      ck_assert_msg (c == NULL, "case %u (%s) loaded", i, k->file);
      ck_assert_msg (e != NULL && e->domain == FT_CITY_ERROR, "case %u: no city error", i);
      ck_assert_msg (strstr (e->message, k->expect1) != NULL, "case %u: \"%s\" lacks \"%s\"", i, e->message, k->expect1);
      if (k->expect2)
        ck_assert_msg (strstr (e->message, k->expect2) != NULL, "case %u: \"%s\" lacks \"%s\"", i, e->message, k->expect2);
      g_clear_error (&e);
    }
  /* missing folder and missing file */
  g_autofree char *bad_dir = g_build_filename (tmp, "bad", NULL);
  ck_assert (ft_city_load ("/nonexistent/pack", &e) == NULL);
  ck_assert (strstr (e->message, "not a folder"));
  g_clear_error (&e);
  g_autofree char *gz = read_file (good, "geofencing_zones.json");
  write_file (bad_dir, "geofencing_zones.json", gz);
  g_autofree char *p = g_build_filename (tmp, "bad", "demand.json", NULL);
  g_unlink (p);
  g_autofree char *bad = g_build_filename (tmp, "bad", NULL);
  ck_assert (ft_city_load (bad, &e) == NULL);
  ck_assert_msg (strstr (e->message, "demand.json") && strstr (e->message, "missing"), "%s", e->message);
  g_clear_error (&e);
  ft_test_rm_rf (tmp);
}
END_TEST

/* The demand matrix has 4 x zones^2 cells; its size was once computed in 32
 * bits (65,536 zones wrapped it to 0 and the reader wrote past the end).
 * A pack with more zones than FT_CITY_MAX_ZONES is refused up front. */
START_TEST (test_pack_too_many_zones)
{
  g_autofree char *tmp = make_tmpdir ();
  g_autofree char *pack = g_build_filename (tmp, "pack", NULL);
  GError *e = NULL;
  ck_assert_msg (ft_city_save (demo, pack, &e), "%s", e ? e->message : "");
  g_autoptr(GString) z = g_string_new ("{\"type\":\"FeatureCollection\",\"features\":[");
  for (guint i = 0; i <= FT_CITY_MAX_ZONES; i++)
    g_string_append_printf (z, "%s{\"type\":\"Feature\",\"properties\":{\"id\":\"z%u\",\"name\":\"z\","
                            "\"kind\":\"park\",\"pricing_multiplier\":1},\"geometry\":{\"type\":\"Polygon\","
                            "\"coordinates\":[[[3.1,54.1],[3.2,54.1],[3.2,54.2],[3.1,54.1]]]}}",
                            i ? "," : "", i);
  g_string_append (z, "]}");
  write_file (pack, "zones.geojson", z->str);
  FtCity *c = ft_city_load (pack, &e);
  ck_assert (c == NULL);
  ck_assert_msg (strstr (e->message, "zones.geojson") && strstr (e->message, "at most"), "%s", e->message);
  g_clear_error (&e);
  ft_test_rm_rf (tmp);
}
END_TEST

/* ---- OpenStreetMap import ------------------------------------------- */

START_TEST (test_osm_monaco)
{
  g_autofree char *pbf = ft_test_shared_path ("osm/monaco.osm.pbf");
  if (!g_file_test (pbf, G_FILE_TEST_EXISTS))
    {
      fprintf (stderr, "skipping: %s not found\n", pbf);
      return;
    }
  GError *e = NULL;
  FtOsmStats st = { 0 };
  g_autoptr(FtCity) c = ft_city_import_osm_full (pbf, "Monaco", FT_UTC_OFFSET_ESTIMATE, NULL, NULL, &st, &e);
  ck_assert_msg (c != NULL, "%s", e ? e->message : "");
  ck_assert_uint_eq (st.osm_nodes, 180118);   /* as counted in shared/data/README */
  ck_assert_uint_eq (st.osm_ways, 27377);
  ck_assert_msg (st.largest_share > 0.9, "largest piece %.3f", st.largest_share);
  ck_assert_uint_gt (c->graph.n_nodes, 15000);
  ck_assert_double_eq (ft_road_graph_largest_component_share (&c->graph), 1.0);
  ck_assert_int_eq (c->utc_offset_min, 60);
  ck_assert_uint_ge (c->n_zones, 20);
  ck_assert_uint_ge (c->n_depots, 2);
  ck_assert_uint_gt (ft_geofences_n_zones (c->geofences), 1);   /* parks + operating area */
  ck_assert_msg (ft_city_check (c, &e), "%s", e ? e->message : "");
  guint oneway = 0;
  for (guint i = 0; i < c->graph.n_edges; i++)
    oneway += (c->graph.edges[i].flags & FT_EDGE_ONEWAY) != 0;
  ck_assert_uint_gt (oneway, 0);
  /* Monte Carlo casino square to the Fontvieille port: a route exists,
   * longer than the straight line, not absurdly so */
  g_autoptr(FtRouter) r = ft_router_new (c);
  FtLatLon casino = { 43.7394, 7.4276 }, port = { 43.7312, 7.4189 };
  double d = ft_router_distance (r, casino, port);
  ck_assert_msg (d > ft_distance_m (casino, port) && d < 3 * ft_distance_m (casino, port), "route %.0f m", d);
  /* the imported pack survives a save/load round trip */
  g_autofree char *tmp = make_tmpdir ();
  g_autofree char *dir = g_build_filename (tmp, "monaco", NULL);
  ck_assert_msg (ft_city_save (c, dir, &e), "%s", e ? e->message : "");
  g_autoptr(FtCity) back = ft_city_load (dir, &e);
  ck_assert_msg (back != NULL, "%s", e ? e->message : "");
  ck_assert_uint_eq (back->graph.n_edges, c->graph.n_edges);
  for (guint i = 0; i < c->graph.n_edges; i++)
    ck_assert_uint_eq (back->graph.edges[i].to, c->graph.edges[i].to);
  ft_test_rm_rf (tmp);
}
END_TEST

START_TEST (test_osm_bad_files)
{
  g_autofree char *pbf = ft_test_shared_path ("osm/monaco.osm.pbf");
  g_autofree char *tmp = make_tmpdir ();
  GError *e = NULL;
  g_autofree char *data = NULL;
  gsize len = 0;
  if (g_file_get_contents (pbf, &data, &len, NULL))
    {
      /* truncated in the middle of a block */
      g_autofree char *cut = g_build_filename (tmp, "cut.osm.pbf", NULL);
      ck_assert (g_file_set_contents (cut, data, (gssize) (len / 2), NULL));
      ck_assert (ft_city_import_osm (cut, "Cut", NULL, NULL, &e) == NULL);
      ck_assert_msg (strstr (e->message, "truncated") && strstr (e->message, "cut.osm.pbf"), "%s", e->message);
      g_clear_error (&e);
      /* cut inside a block header */
      ck_assert (g_file_set_contents (cut, data, 2, NULL));
      ck_assert (ft_city_import_osm (cut, "Cut", NULL, NULL, &e) == NULL);
      ck_assert_msg (strstr (e->message, "truncated"), "%s", e->message);
      g_clear_error (&e);
      /* a flipped byte inside compressed data */
      g_autofree char *flip = g_build_filename (tmp, "flip.osm.pbf", NULL);
      data[len / 3] ^= 0x5a;
      data[len / 3 + 1] ^= 0xa5;
      ck_assert (g_file_set_contents (flip, data, (gssize) len, NULL));
      FtCity *c = ft_city_import_osm (flip, "Flip", NULL, NULL, &e);
      if (c == NULL)
        {
          ck_assert_msg (strstr (e->message, "flip.osm.pbf"), "%s", e->message);
          g_clear_error (&e);
        }
      ft_city_free (c);   /* a flip may land in a way it cannot notice: then it just loads */
    }
  g_autofree char *junk = g_build_filename (tmp, "junk.osm.pbf", NULL);
  ck_assert (g_file_set_contents (junk, "this is not a PBF file at all", -1, NULL));
  ck_assert (ft_city_import_osm (junk, "Junk", NULL, NULL, &e) == NULL);
  ck_assert_msg (strstr (e->message, "not a valid OSM PBF"), "%s", e->message);
  g_clear_error (&e);
  ck_assert (ft_city_import_osm ("/nonexistent.osm.pbf", "X", NULL, NULL, &e) == NULL);
  ck_assert_msg (strstr (e->message, "no such file"), "%s", e->message);
  g_clear_error (&e);
  g_autofree char *empty = g_build_filename (tmp, "empty.osm.pbf", NULL);
  ck_assert (g_file_set_contents (empty, "", 0, NULL));
  ck_assert (ft_city_import_osm (empty, "Empty", NULL, NULL, &e) == NULL);
  ck_assert_msg (strstr (e->message, "empty"), "%s", e->message);
  g_clear_error (&e);
  ft_test_rm_rf (tmp);
}
END_TEST

static Suite *
city_suite (void)
{
  Suite *s = suite_create ("city");
  struct { const char *name; const TTest *t; } demo_tests[] = {
    { "demo-deterministic", test_demo_deterministic },
    { "demo-shape", test_demo_shape },
    { "demo-connected", test_demo_connected },
    { "demo-zone-raster", test_demo_zone_raster },
    { "demo-river-bridges", test_demo_river_bridges },
    { "demo-demand", test_demo_demand },
    { "demo-geofences", test_demo_geofences },
    { "demo-trip-lengths", test_demo_trip_lengths },
    { "demo-bad-params", test_demo_bad_params },
    { "router-small-graphs", test_router_small_graphs },
    { "router-demo", test_router_demo },
    { "pack-round-trip", test_pack_round_trip },
    { "pack-huge-span", test_pack_huge_span },
    { "pack-malformed", test_pack_malformed },
    { "pack-too-many-zones", test_pack_too_many_zones },
    { "osm-monaco", test_osm_monaco },
    { "osm-bad-files", test_osm_bad_files },
  };
  for (guint i = 0; i < G_N_ELEMENTS (demo_tests); i++)
    {
      TCase *tc = tcase_create (demo_tests[i].name);
      tcase_add_unchecked_fixture (tc, demo_setup, demo_teardown);
      tcase_set_timeout (tc, 120);
      _tcase_add_test (tc, demo_tests[i].t, 0, 0, 0, 1);
      suite_add_tcase (s, tc);
    }
  return s;
}

int
main (void)
{
  SRunner *sr = srunner_create (city_suite ());
  srunner_run_all (sr, CK_NORMAL);
  int failed = srunner_ntests_failed (sr);
  srunner_free (sr);
  g_clear_pointer (&demo, ft_city_free);
  return failed == 0 ? 0 : 1;
}
