/* ft-test-city.c — see ft-test-city.h. */
#include "ft-test-city.h"

#include <math.h>
#include <string.h>

static FtLatLon
offset (FtLatLon c, double east_m, double north_m)
{
  FtLatLon p;
  p.lat = c.lat + north_m / 111320.0;
  p.lon = c.lon + east_m / (111320.0 * cos (c.lat * G_PI / 180.0));
  return p;
}

FtTestCity *
ft_test_city_new (FtLatLon center, double size_m, guint n)
{
  FtTestCity *tc = g_new0 (FtTestCity, 1);
  FtCity *c = &tc->city;
  c->id = g_strdup ("grid");
  c->name = g_strdup ("Grid Town");
  memcpy (c->currency, "EUR", 4);
  c->center = center;
  FtLatLon sw = offset (center, -size_m / 2, -size_m / 2), ne = offset (center, size_m / 2, size_m / 2);
  c->bbox = (FtBBox) { sw.lat, sw.lon, ne.lat, ne.lon };

  FtRoadGraph *g = &c->graph;
  g->n_nodes = n * n;
  g->nodes = g_new (FtLatLon, g->n_nodes);
  double step = size_m / (n - 1);
  for (guint i = 0; i < n; i++)
    for (guint j = 0; j < n; j++)
      {
        /* a little wobble so streets are not perfectly straight */
        double wob = 0.08 * step * sin (i * 1.7 + j * 0.9);
        g->nodes[i * n + j] = offset (center, -size_m / 2 + j * step + wob, -size_m / 2 + i * step - wob);
      }
  GArray *edges = g_array_new (FALSE, TRUE, sizeof (FtEdge));
  g->first_edge = g_new0 (guint32, g->n_nodes + 1);
  for (guint u = 0; u < g->n_nodes; u++)
    {
      guint i = u / n, j = u % n;
      g->first_edge[u] = edges->len;
      struct { gboolean ok; guint to; gboolean horiz; } nb[4] = {
        { j + 1 < n, u + 1, TRUE }, { j > 0, u - 1, TRUE },
        { i + 1 < n, u + n, FALSE }, { i > 0, u - n, FALSE },
      };
      for (int k = 0; k < 4; k++)
        {
          if (!nb[k].ok)
            continue;
          guint line = nb[k].horiz ? i : j;
          FtEdge e = { nb[k].to, (float) step, FT_ROAD_RESIDENTIAL, 0 };
          if (line % 8 == 4)
            e.road_class = FT_ROAD_ARTERIAL;
          else if (line % 4 == 2)
            e.road_class = FT_ROAD_SECONDARY;
          else if (line % 5 == 1)
            e.road_class = FT_ROAD_CYCLEWAY;
          else if (line % 7 == 3)
            e.road_class = FT_ROAD_PATH;
          g_array_append_val (edges, e);
        }
    }
  g->first_edge[g->n_nodes] = edges->len;
  g->n_edges = edges->len;
  g->edges = (FtEdge *) g_array_free (edges, FALSE);

  /* Three square parks. */
  tc->parks.n_polys = 3;
  tc->parks.polys = g_new0 (FtPolygon, 3);
  ft_bbox_init_empty (&tc->parks.bbox);
  double spots[3][2] = { { -0.25, 0.2 }, { 0.18, -0.22 }, { 0.3, 0.3 } };
  for (int p = 0; p < 3; p++)
    {
      FtRing *r = g_new0 (FtRing, 1);
      r->n = 4;
      r->pts = g_new (FtLatLon, 4);
      double e = spots[p][0] * size_m, nn = spots[p][1] * size_m, s = 0.09 * size_m;
      r->pts[0] = offset (center, e, nn);
      r->pts[1] = offset (center, e + s, nn);
      r->pts[2] = offset (center, e + s, nn + s * 0.8);
      r->pts[3] = offset (center, e, nn + s * 0.8);
      for (int k = 0; k < 4; k++)
        ft_bbox_extend (&tc->parks.bbox, r->pts[k]);
      tc->parks.polys[p].rings = r;
      tc->parks.polys[p].n_rings = 1;
    }

  /* A meandering river west to east. */
  tc->river_n = 40;
  tc->river = g_new (FtLatLon, tc->river_n);
  for (guint k = 0; k < tc->river_n; k++)
    {
      double e = -size_m * 0.6 + k * (1.2 * size_m / (tc->river_n - 1));
      tc->river[k] = offset (center, e, -0.05 * size_m + 0.07 * size_m * sin (k * 0.35));
    }
  tc->river_ptrs[0] = tc->river;
  tc->extras.parks = &tc->parks;
  tc->extras.river_pts = tc->river_ptrs;
  tc->extras.river_n = &tc->river_n;
  tc->extras.n_rivers = 1;
  tc->extras.river_width_m = 45;
  return tc;
}

void
ft_test_city_free (FtTestCity *tc)
{
  if (tc == NULL)
    return;
  for (guint p = 0; p < tc->parks.n_polys; p++)
    {
      g_free (tc->parks.polys[p].rings[0].pts);
      g_free (tc->parks.polys[p].rings);
    }
  g_free (tc->parks.polys);
  g_free (tc->river);
  g_free (tc->city.graph.nodes);
  g_free (tc->city.graph.first_edge);
  g_free (tc->city.graph.edges);
  g_free (tc->city.id);
  g_free (tc->city.name);
  g_free (tc);
}
