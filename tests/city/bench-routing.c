/* bench-routing.c — routing speed on a city's road graph: A* node-to-node
 * queries without cache hits, the same with a plain early-exit Dijkstra
 * (binary heap) as the named alternative, point-to-point distances as the
 * simulator asks for them (snapping + LRU cache) and full polylines.
 * Prints medians over runs.
 *   bench-routing [PACK_DIR|demo] [--queries N] [--runs R] [--seed S]
 */
#include "ft-config.h"
#include "ft-test.h"
#include "ft-city.h"

#include <stdio.h>
#include <string.h>

static double
now_s (void)
{
  return g_get_monotonic_time () / 1e6;
}

/* Early-exit Dijkstra with a binary heap (lazy deletion): the baseline. */
typedef struct { double d; guint32 v; } HE;
typedef struct {
  const FtRoadGraph *g;
  double *dist; guint32 *stamp; guint8 *done; guint32 cur;
  HE *heap; guint len, cap;
} Dij;

static void
hpush (Dij *D, double d, guint32 v)
{
  if (D->len == D->cap)
    D->heap = g_renew (HE, D->heap, D->cap *= 2);
  guint i = D->len++;
  while (i > 0 && D->heap[(i - 1) / 2].d > d)
    {
      D->heap[i] = D->heap[(i - 1) / 2];
      i = (i - 1) / 2;
    }
  D->heap[i] = (HE) { d, v };
}

static HE
hpop (Dij *D)
{
  HE top = D->heap[0], last = D->heap[--D->len];
  guint i = 0;
  for (;;)
    {
      guint c = 2 * i + 1;
      if (c >= D->len)
        break;
      if (c + 1 < D->len && D->heap[c + 1].d < D->heap[c].d)
        c++;
      if (D->heap[c].d >= last.d)
        break;
      D->heap[i] = D->heap[c];
      i = c;
    }
  if (D->len > 0)
    D->heap[i] = last;
  return top;
}

static double
dij_query (Dij *D, guint32 s, guint32 t)
{
  const FtRoadGraph *g = D->g;
  D->cur++;
  D->len = 0;
  D->dist[s] = 0;
  D->stamp[s] = D->cur;
  hpush (D, 0, s);
  while (D->len)
    {
      HE h = hpop (D);
      if (h.d > D->dist[h.v])
        continue;
      if (h.v == t)
        return h.d;
      for (guint32 e = g->first_edge[h.v]; e < g->first_edge[h.v + 1]; e++)
        {
          guint32 v = g->edges[e].to;
          double nd = h.d + g->edges[e].length_m;
          if (D->stamp[v] != D->cur || nd < D->dist[v])
            {
              D->stamp[v] = D->cur;
              D->dist[v] = nd;
              hpush (D, nd, v);
            }
        }
    }
  return -1;
}

int
main (int argc, char **argv)
{
  int queries = 20000, runs = 5, seed = 1;
  GOptionEntry entries[] = {
    { "queries", 'n', 0, G_OPTION_ARG_INT, &queries, "Queries per run (default 20000)", "N" },
    { "runs", 'r', 0, G_OPTION_ARG_INT, &runs, "Runs; the median is printed (default 5)", "R" },
    { "seed", 's', 0, G_OPTION_ARG_INT, &seed, "Seed for the query pairs", "S" },
    { NULL }
  };
  g_autoptr(GOptionContext) ctx = g_option_context_new ("[PACK_DIR|demo] — routing queries per second");
  g_option_context_add_main_entries (ctx, entries, NULL);
  g_autoptr(GError) error = NULL;
  if (!g_option_context_parse (ctx, &argc, &argv, &error) || queries < 1 || runs < 1)
    {
      fprintf (stderr, "%s\n", error ? error->message : "bad arguments");
      return 2;
    }
  const char *which = argc > 1 ? argv[1] : "demo";
  double t0 = now_s ();
  g_autoptr(FtCity) city = strcmp (which, "demo") == 0 ? ft_city_new_demo () : ft_city_load (which, &error);
  if (city == NULL)
    {
      fprintf (stderr, "%s\n", error->message);
      return 1;
    }
  double t_load = now_s () - t0;
  const FtRoadGraph *g = &city->graph;
  printf ("city %s: %u nodes, %u edges, largest component %.1f%%, loaded/generated in %.3f s\n",
          city->name, g->n_nodes, g->n_edges, 100 * ft_road_graph_largest_component_share (g), t_load);

  /* query pairs inside the largest component, fixed seed */
  GRand *rand = g_rand_new_with_seed ((guint32) seed);
  guint n = (guint) queries;
  guint32 *src = g_new (guint32, n), *dst = g_new (guint32, n);
  FtLatLon *pa = g_new (FtLatLon, n), *pb = g_new (FtLatLon, n);
  g_autoptr(FtRouter) probe = ft_router_new (city);
  for (guint i = 0; i < n; i++)
    {
      do
        {
          src[i] = g_rand_int_range (rand, 0, g->n_nodes);
          dst[i] = g_rand_int_range (rand, 0, g->n_nodes);
        }
      while (ft_router_node_distance (probe, src[i], dst[i]) < 0);
      pa[i] = g->nodes[src[i]];
      pb[i] = g->nodes[dst[i]];
      pa[i].lat += (g_rand_double (rand) - 0.5) * 0.001;
      pa[i].lon += (g_rand_double (rand) - 0.5) * 0.001;
      pb[i].lat += (g_rand_double (rand) - 0.5) * 0.001;
      pb[i].lon += (g_rand_double (rand) - 0.5) * 0.001;
    }
  /* trips as the simulator draws them: origin zone by rate, destination
   * by the band's gravity weights, uniform points in the zones' boxes */
  FtLatLon *ta = g_new (FtLatLon, n), *tb = g_new (FtLatLon, n);
  const FtDemandProfile *dp = &city->demand;
  guint nz = dp->n_zones;
  double total_rate = 0;
  for (guint i = 0; i < nz * 168; i++)
    total_rate += dp->rate[i];
  for (guint k = 0; k < n; k++)
    {
      double u = g_rand_double (rand) * total_rate;
      guint idx = 0;
      while (idx + 1 < nz * 168 && u >= dp->rate[idx])
        u -= dp->rate[idx++];
      guint from = idx / 168, band = ft_demand_band_of_hour (idx % 168);
      const double *row = dp->dest + ((gsize) band * nz + from) * nz;
      double v = g_rand_double (rand);
      guint to = 0;
      while (to + 1 < nz && v >= row[to])
        v -= row[to++];
      const FtBBox *b1 = &city->zones[from].area->bbox, *b2 = &city->zones[to].area->bbox;
      ta[k] = (FtLatLon) { b1->min_lat + g_rand_double (rand) * (b1->max_lat - b1->min_lat),
                           b1->min_lon + g_rand_double (rand) * (b1->max_lon - b1->min_lon) };
      tb[k] = (FtLatLon) { b2->min_lat + g_rand_double (rand) * (b2->max_lat - b2->min_lat),
                           b2->min_lon + g_rand_double (rand) * (b2->max_lon - b2->min_lon) };
    }
  double *r_trips = g_new (double, runs), trip_sum = 0;
  double *r_astar = g_new (double, runs), *r_dij = g_new (double, runs), *r_pts = g_new (double, runs),
         *r_cached = g_new (double, runs), *r_poly = g_new (double, runs),
         *r_tbuild = g_new (double, runs), *r_plain = g_new (double, runs), *r_tpts = g_new (double, runs), *r_tpoly = g_new (double, runs);
  gboolean have_table = FALSE;
  guint n_core = 0;
  double sum_len = 0, check = 0;
  Dij D = { g, g_new (double, g->n_nodes), g_new0 (guint32, g->n_nodes), NULL, 0, NULL, 0, 1024 };
  D.heap = g_new (HE, D.cap);
  guint64 hits = 0, asked = 0;
  for (int r = 0; r < runs; r++)
    {
      FtRouter *rt = ft_router_new (city);
      ft_router_set_use_table (rt, FALSE);
      ft_router_set_cache_size (rt, 16);   /* no hits: every query runs A* */
      ft_router_node_distance (rt, src[0], dst[0]);   /* builds the landmarks */
      double t = now_s ();
      sum_len = 0;
      for (guint i = 0; i < n; i++)
        sum_len += ft_router_node_distance (rt, src[i], dst[i]);
      r_astar[r] = n / (now_s () - t);
      ft_router_set_landmarks (rt, 0);
      ft_router_set_cache_size (rt, 16);
      t = now_s ();
      for (guint i = 0; i < n; i++)
        ft_router_node_distance (rt, src[i], dst[i]);
      r_plain[r] = n / (now_s () - t);
      ft_router_free (rt);
      rt = ft_router_new (city);
      ft_router_set_use_table (rt, FALSE);
      t = now_s ();
      double s2 = 0;
      for (guint i = 0; i < n; i++)
        s2 += dij_query (&D, src[i], dst[i]);
      r_dij[r] = n / (now_s () - t);
      check = fabs (s2 - sum_len) / MAX (sum_len, 1);
      /* points as the simulator asks: snap + A* + LRU (fresh cache: first pass) */
      ft_router_set_cache_size (rt, 262144);
      t = now_s ();
      for (guint i = 0; i < n; i++)
        ft_router_distance (rt, pa[i], pb[i]);
      r_pts[r] = n / (now_s () - t);
      /* the same trips again: all cached */
      guint64 h0 = ft_router_cache_hits (rt), q0 = ft_router_n_queries (rt);
      t = now_s ();
      for (guint i = 0; i < n; i++)
        ft_router_distance (rt, pa[i], pb[i]);
      r_cached[r] = n / (now_s () - t);
      hits = ft_router_cache_hits (rt) - h0;
      asked = ft_router_n_queries (rt) - q0;
      t = now_s ();
      for (guint i = 0; i < n; i++)
        {
          FtLatLon *pts = NULL;
          guint np = 0;
          ft_router_route (rt, pa[i], pb[i], &pts, &np);
          g_free (pts);
        }
      r_poly[r] = n / (now_s () - t);
      ft_router_free (rt);
      /* default router: all-pairs table where the graph is small enough */
      rt = ft_router_new (city);
      have_table = ft_router_get_use_table (rt);
      n_core = ft_router_n_core_nodes (rt);
      t = now_s ();
      ft_router_node_distance (rt, src[0], dst[0]);
      r_tbuild[r] = now_s () - t;
      t = now_s ();
      for (guint i = 0; i < n; i++)
        ft_router_distance (rt, pa[i], pb[i]);
      r_tpts[r] = n / (now_s () - t);
      t = now_s ();
      for (guint i = 0; i < n; i++)
        {
          FtLatLon *pts = NULL;
          guint np = 0;
          ft_router_route (rt, pa[i], pb[i], &pts, &np);
          g_free (pts);
        }
      r_tpoly[r] = n / (now_s () - t);
      ft_router_free (rt);
      /* simulator workload with the default router (fresh: no cache hits
       * from earlier runs) */
      rt = ft_router_new (city);
      ft_router_node_distance (rt, src[0], dst[0]);   /* table / landmarks built */
      t = now_s ();
      trip_sum = 0;
      for (guint i = 0; i < n; i++)
        trip_sum += ft_router_distance (rt, ta[i], tb[i]);
      r_trips[r] = n / (now_s () - t);
      ft_router_free (rt);
    }
  printf ("queries per run %u, runs %d, mean route %.0f m, A* vs Dijkstra total length rel. diff %.2e\n",
          n, runs, sum_len / n, check);
  double a = ft_test_median (r_astar, runs), d = ft_test_median (r_dij, runs);
  double pl = ft_test_median (r_plain, runs);
  printf ("A* + landmarks, no cache hits    %10.0f queries/s (ft_test_median)  -> %.2fx Dijkstra\n", a, a / d);
  printf ("A* straight-line only            %10.0f queries/s (ft_test_median)  -> %.2fx Dijkstra\n", pl, pl / d);
  printf ("Dijkstra early exit (baseline)   %10.0f queries/s (ft_test_median)\n", d);
  printf ("point-to-point distance, cold    %10.0f queries/s (snap + A* + LRU insert)\n", ft_test_median (r_pts, runs));
  printf ("point-to-point distance, cached  %10.0f queries/s (%" G_GUINT64_FORMAT "/%" G_GUINT64_FORMAT " hits)\n",
          ft_test_median (r_cached, runs), hits, asked);
  printf ("route with polyline              %10.0f queries/s\n", ft_test_median (r_poly, runs));
  printf ("demand-drawn trips, default      %10.0f queries/s (mean routed trip %.0f m)\n",
          ft_test_median (r_trips, runs), trip_sum / n);
  if (have_table)
    {
      printf ("all-pairs table over %u core nodes (default here): built in %.3f s, %.1f MB\n", n_core,
              ft_test_median (r_tbuild, runs), (double) n_core * n_core * 4 / 1e6);
      printf ("point-to-point distance, table   %10.0f queries/s\n", ft_test_median (r_tpts, runs));
      printf ("route with polyline, table       %10.0f queries/s\n", ft_test_median (r_tpoly, runs));
    }
  else
    printf ("all-pairs table: not used (more than 4096 core nodes); A* + LRU is the default\n");
  g_free (src); g_free (dst); g_free (pa); g_free (pb);
  g_free (r_tbuild); g_free (r_plain); g_free (r_trips); g_free (ta); g_free (tb); g_free (r_tpts); g_free (r_tpoly);
  g_free (r_astar); g_free (r_dij); g_free (r_pts); g_free (r_cached); g_free (r_poly);
  g_free (D.dist); g_free (D.stamp); g_free (D.heap);
  g_rand_free (rand);
  return 0;
}
