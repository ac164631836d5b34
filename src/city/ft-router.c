/* ft-router.c — shortest paths on a city's road graph: A* over the CSR
 * graph with a straight-line heuristic (scaled so it never overestimates,
 * even for hand-made packs whose edge lengths are shorter than the chord),
 * a binary heap with lazy deletion, per-query generation stamps instead of
 * clearing arrays, and an exact LRU cache of node-to-node distances.
 * Small graphs (up to FT_ROUTER_TABLE_MAX_NODES nodes, Demo City among them)
 * get an all-pairs distance table instead, built lazily by one Dijkstra per
 * node (Demo City: 1,400 nodes, 7.5 MB, ~0.2 s); paths then follow the table
 * greedily, node by node. Larger graphs add landmarks (ALT): distances to
 * and from 16 far-apart nodes give a much tighter lower bound than the
 * straight line (Monaco: 22,700 nodes, 2.9 MB, built on first query).
 * One router per thread; the city is only read.
 */
#include "ft-city-private.h"

#include <string.h>

#define NONE G_MAXUINT32
#define FT_ROUTER_TABLE_MAX_NODES 2500
#define FT_ROUTER_LANDMARKS       16
#define FT_ROUTER_ACTIVE_LM       4
#define LM_INF                    G_MAXFLOAT

typedef struct {
  guint64 key;
  float   dist;
  guint32 hnext, prev, next;
} CacheEnt;

typedef struct {
  double  f;
  guint32 v;
} HeapEnt;

struct _FtRouter {
  const FtCity      *city;
  const FtRoadGraph *g;
  guint              n;
  float             *x, *y;
  double             h_scale;
  double            *dist;
  guint32           *parent;
  guint32           *seen;       /* stamp when dist/parent valid */
  guint32           *done;       /* stamp when closed */
  guint32            stamp;
  HeapEnt           *heap;
  guint              heap_len, heap_cap;
  guint64            n_queries, n_hits;
  /* LRU */
  CacheEnt          *ents;
  guint32           *buckets;
  guint32            cap, used, mask, head, tail;
  /* all-pairs table (small graphs) */
  gboolean           use_table;
  float             *table;     /* n * n, row = source; < 0 unreachable */
  /* landmarks (ALT) */
  guint              n_lm;      /* wanted; 0 = straight-line heuristic only */
  gboolean           lm_built;
  float             *lm_from;   /* n * n_lm: d(L, v) */
  float             *lm_to;     /* n * n_lm: d(v, L) */
  guint              act[FT_ROUTER_ACTIVE_LM], n_act;
  float              act_from_t[FT_ROUTER_ACTIVE_LM], act_to_t[FT_ROUTER_ACTIVE_LM];
};

static void
cache_alloc (FtRouter *r, guint entries)
{
  g_free (r->ents);
  g_free (r->buckets);
  r->cap = MAX (entries, 16u);
  guint nb = 16;
  while (nb < r->cap * 2)
    nb <<= 1;
  r->mask = nb - 1;
  r->ents = g_new (CacheEnt, r->cap);
  r->buckets = g_new (guint32, nb);
  memset (r->buckets, 0xff, sizeof (guint32) * nb);
  r->used = 0;
  r->head = r->tail = NONE;
}

static inline guint32
cache_hash (FtRouter *r, guint64 key)
{
  key ^= key >> 33;
  key *= G_GUINT64_CONSTANT (0xff51afd7ed558ccd);
  key ^= key >> 33;
  return (guint32) key & r->mask;
}

static void
lru_unlink (FtRouter *r, guint32 i)
{
  CacheEnt *e = &r->ents[i];
  if (e->prev != NONE) r->ents[e->prev].next = e->next; else r->head = e->next;
  if (e->next != NONE) r->ents[e->next].prev = e->prev; else r->tail = e->prev;
}

static void
lru_push_front (FtRouter *r, guint32 i)
{
  CacheEnt *e = &r->ents[i];
  e->prev = NONE;
  e->next = r->head;
  if (r->head != NONE) r->ents[r->head].prev = i;
  r->head = i;
  if (r->tail == NONE) r->tail = i;
}

static gboolean
cache_get (FtRouter *r, guint64 key, double *out)
{
  for (guint32 i = r->buckets[cache_hash (r, key)]; i != NONE; i = r->ents[i].hnext)
    if (r->ents[i].key == key)
      {
        if (r->head != i)
          {
            lru_unlink (r, i);
            lru_push_front (r, i);
          }
        *out = r->ents[i].dist;
        return TRUE;
      }
  return FALSE;
}

static void
cache_put (FtRouter *r, guint64 key, double d)
{
  guint32 i;
  if (r->used < r->cap)
    i = r->used++;
  else
    {
      i = r->tail;
      lru_unlink (r, i);
      guint32 *pp = &r->buckets[cache_hash (r, r->ents[i].key)];
      while (*pp != i)
        pp = &r->ents[*pp].hnext;
      *pp = r->ents[i].hnext;
    }
  guint32 b = cache_hash (r, key);
  r->ents[i].key = key;
  r->ents[i].dist = (float) d;
  r->ents[i].hnext = r->buckets[b];
  r->buckets[b] = i;
  lru_push_front (r, i);
}

FtRouter *
ft_router_new (const FtCity *city)
{
  g_return_val_if_fail (city != NULL, NULL);
  FtRouter *r = g_new0 (FtRouter, 1);
  r->city = city;
  r->g = &city->graph;
  r->n = r->g->n_nodes;
  guint n = MAX (r->n, 1);
  r->x = g_new (float, n);
  r->y = g_new (float, n);
  FtProj pr;
  ft_proj_init (&pr, city->center);
  for (guint i = 0; i < r->n; i++)
    {
      double x, y;
      ft_proj_from_ll (&pr, r->g->nodes[i], &x, &y);
      r->x[i] = (float) x;
      r->y[i] = (float) y;
    }
  /* Heuristic scale: the smallest ratio edge length / chord, so that
   * h = scale * chord is admissible and consistent. */
  double scale = 1.0;
  for (guint u = 0; u < r->n; u++)
    for (guint32 e = r->g->first_edge[u]; e < r->g->first_edge[u + 1]; e++)
      {
        guint32 v = r->g->edges[e].to;
        double chord = hypot ((double) r->x[u] - r->x[v], (double) r->y[u] - r->y[v]);
        if (chord > 0.5)
          scale = MIN (scale, r->g->edges[e].length_m / chord);
      }
  r->h_scale = MAX (scale, 0.0) * 0.999;
  r->dist = g_new (double, n);
  r->parent = g_new (guint32, n);
  r->seen = g_new0 (guint32, n);
  r->done = g_new0 (guint32, n);
  r->heap_cap = 1024;
  r->heap = g_new (HeapEnt, r->heap_cap);
  cache_alloc (r, 262144);
  r->use_table = r->n > 0 && r->n <= FT_ROUTER_TABLE_MAX_NODES;
  r->n_lm = r->n >= 256 ? FT_ROUTER_LANDMARKS : 0;
  return r;
}

void
ft_router_set_landmarks (FtRouter *r, guint n)
{
  g_return_if_fail (r != NULL);
  r->n_lm = MIN (n, 64u);
  r->lm_built = FALSE;
  g_clear_pointer (&r->lm_from, g_free);
  g_clear_pointer (&r->lm_to, g_free);
  r->used = 0;   /* cached distances stay valid, but start clean for benchmarks */
  memset (r->buckets, 0xff, sizeof (guint32) * (r->mask + 1));
  r->head = r->tail = NONE;
}

void
ft_router_set_use_table (FtRouter *r, gboolean use)
{
  g_return_if_fail (r != NULL);
  r->use_table = use && r->n > 0 && r->n <= FT_ROUTER_TABLE_MAX_NODES;
  if (!r->use_table)
    g_clear_pointer (&r->table, g_free);
}

gboolean
ft_router_get_use_table (FtRouter *r)
{
  g_return_val_if_fail (r != NULL, FALSE);
  return r->use_table;
}

void
ft_router_free (FtRouter *r)
{
  if (r == NULL)
    return;
  g_free (r->x);
  g_free (r->y);
  g_free (r->dist);
  g_free (r->parent);
  g_free (r->seen);
  g_free (r->done);
  g_free (r->heap);
  g_free (r->ents);
  g_free (r->buckets);
  g_free (r->table);
  g_free (r->lm_from);
  g_free (r->lm_to);
  g_free (r);
}

void
ft_router_set_cache_size (FtRouter *r, guint entries)
{
  g_return_if_fail (r != NULL);
  cache_alloc (r, entries);
}

guint64
ft_router_n_queries (FtRouter *r)
{
  g_return_val_if_fail (r != NULL, 0);
  return r->n_queries;
}

guint64
ft_router_cache_hits (FtRouter *r)
{
  g_return_val_if_fail (r != NULL, 0);
  return r->n_hits;
}

static inline void
heap_push (FtRouter *r, double f, guint32 v)
{
  if (r->heap_len == r->heap_cap)
    {
      r->heap_cap *= 2;
      r->heap = g_renew (HeapEnt, r->heap, r->heap_cap);
    }
  guint i = r->heap_len++;
  HeapEnt *h = r->heap;
  while (i > 0)
    {
      guint p = (i - 1) / 2;
      if (h[p].f <= f)
        break;
      h[i] = h[p];
      i = p;
    }
  h[i].f = f;
  h[i].v = v;
}

static inline HeapEnt
heap_pop (FtRouter *r)
{
  HeapEnt *h = r->heap;
  HeapEnt top = h[0];
  HeapEnt last = h[--r->heap_len];
  guint n = r->heap_len, i = 0;
  for (;;)
    {
      guint c = 2 * i + 1;
      if (c >= n)
        break;
      if (c + 1 < n && h[c + 1].f < h[c].f)
        c++;
      if (h[c].f >= last.f)
        break;
      h[i] = h[c];
      i = c;
    }
  if (n > 0)
    h[i] = last;
  return top;
}

static void lm_build (FtRouter *r);

/* Lower bound on d(v, t): straight line, and with landmarks the triangle
 * inequality d(v,t) >= d(L,t) - d(L,v) and d(v,t) >= d(v,L) - d(t,L). */
static inline double
heur (const FtRouter *r, guint32 v, float tx, float ty)
{
  float dx = r->x[v] - tx, dy = r->y[v] - ty;
  double h = r->h_scale * sqrtf (dx * dx + dy * dy);
  for (guint k = 0; k < r->n_act; k++)
    {
      guint L = r->act[k];
      float lv = r->lm_from[(gsize) v * r->n_lm + L], vl = r->lm_to[(gsize) v * r->n_lm + L];
      if (lv != LM_INF && r->act_from_t[k] != LM_INF)
        h = MAX (h, (double) r->act_from_t[k] - lv);
      if (vl != LM_INF && r->act_to_t[k] != LM_INF)
        h = MAX (h, (double) vl - r->act_to_t[k]);
    }
  return h;
}

/* Picks the landmarks giving the best bound for s -> t. */
static void
lm_activate (FtRouter *r, guint32 s, guint32 t)
{
  r->n_act = 0;
  if (r->n_lm == 0 || t == NONE)
    return;
  if (!r->lm_built)
    lm_build (r);
  double best[FT_ROUTER_ACTIVE_LM];
  for (guint L = 0; L < r->n_lm; L++)
    {
      float ls = r->lm_from[(gsize) s * r->n_lm + L], lt = r->lm_from[(gsize) t * r->n_lm + L];
      float sl = r->lm_to[(gsize) s * r->n_lm + L], tl = r->lm_to[(gsize) t * r->n_lm + L];
      double b = 0;
      if (ls != LM_INF && lt != LM_INF)
        b = MAX (b, (double) lt - ls);
      if (sl != LM_INF && tl != LM_INF)
        b = MAX (b, (double) sl - tl);
      /* insertion into the top list */
      guint k = r->n_act < FT_ROUTER_ACTIVE_LM ? r->n_act++ : FT_ROUTER_ACTIVE_LM;
      if (k == FT_ROUTER_ACTIVE_LM)
        {
          if (b <= best[FT_ROUTER_ACTIVE_LM - 1])
            continue;
          k = FT_ROUTER_ACTIVE_LM - 1;
        }
      while (k > 0 && best[k - 1] < b)
        {
          best[k] = best[k - 1];
          r->act[k] = r->act[k - 1];
          k--;
        }
      best[k] = b;
      r->act[k] = L;
    }
  for (guint k = 0; k < r->n_act; k++)
    {
      r->act_from_t[k] = r->lm_from[(gsize) t * r->n_lm + r->act[k]];
      r->act_to_t[k] = r->lm_to[(gsize) t * r->n_lm + r->act[k]];
    }
}

/* A* from s to t; leaves parent[] valid on the path. Returns -1 if none. */
static double
astar (FtRouter *r, guint32 s, guint32 t)
{
  if (s == t)
    return 0.0;
  if (++r->stamp == 0)
    {
      memset (r->seen, 0, sizeof (guint32) * r->n);
      memset (r->done, 0, sizeof (guint32) * r->n);
      r->stamp = 1;
    }
  const guint32 st = r->stamp;
  const FtRoadGraph *g = r->g;
  const float tx = t != NONE ? r->x[t] : 0, ty = t != NONE ? r->y[t] : 0;
  lm_activate (r, s, t);
  r->heap_len = 0;
  r->seen[s] = st;
  r->dist[s] = 0;
  r->parent[s] = NONE;
  heap_push (r, heur (r, s, tx, ty), s);
  while (r->heap_len > 0)
    {
      HeapEnt top = heap_pop (r);
      guint32 u = top.v;
      if (r->done[u] == st)
        continue;
      r->done[u] = st;
      if (u == t)
        return r->dist[t];
      double du = r->dist[u];
      for (guint32 e = g->first_edge[u], end = g->first_edge[u + 1]; e < end; e++)
        {
          guint32 v = g->edges[e].to;
          if (r->done[v] == st)
            continue;
          double nd = du + g->edges[e].length_m;
          if (r->seen[v] != st || nd < r->dist[v])
            {
              r->seen[v] = st;
              r->dist[v] = nd;
              r->parent[v] = u;
              heap_push (r, nd + heur (r, v, tx, ty), v);
            }
        }
    }
  return -1.0;
}

static double astar (FtRouter *r, guint32 s, guint32 t);

/* One full Dijkstra per source fills the table (A* with no target and a
 * zero heuristic). */
static void
table_build (FtRouter *r)
{
  guint n = r->n;
  r->table = g_new (float, (gsize) n * n);
  double saved = r->h_scale;
  r->h_scale = 0;
  for (guint s = 0; s < n; s++)
    {
      astar (r, s, NONE);
      float *row = r->table + (gsize) s * n;
      for (guint v = 0; v < n; v++)
        row[v] = r->seen[v] == r->stamp ? (float) r->dist[v] : -1.0f;
    }
  r->h_scale = saved;
}

/* Full Dijkstra from s over edges given as (first, edges), into out[v * stride]. */
static void
dijkstra_into (FtRouter *r, const guint32 *first, const FtEdge *edges, guint32 s,
               float *out, guint stride)
{
  guint n = r->n;
  for (guint v = 0; v < n; v++)
    out[(gsize) v * stride] = LM_INF;
  if (++r->stamp == 0)
    {
      memset (r->seen, 0, sizeof (guint32) * n);
      memset (r->done, 0, sizeof (guint32) * n);
      r->stamp = 1;
    }
  guint32 st = r->stamp;
  r->heap_len = 0;
  r->seen[s] = st;
  r->dist[s] = 0;
  heap_push (r, 0, s);
  while (r->heap_len > 0)
    {
      HeapEnt top = heap_pop (r);
      guint32 u = top.v;
      if (r->done[u] == st)
        continue;
      r->done[u] = st;
      out[(gsize) u * stride] = (float) r->dist[u];
      for (guint32 e = first[u]; e < first[u + 1]; e++)
        {
          guint32 v = edges[e].to;
          double nd = r->dist[u] + edges[e].length_m;
          if (r->done[v] != st && (r->seen[v] != st || nd < r->dist[v]))
            {
              r->seen[v] = st;
              r->dist[v] = nd;
              heap_push (r, nd, v);
            }
        }
    }
}

/* Landmarks by farthest-point selection on forward distances; distances
 * from (forward graph) and to (reverse graph) each landmark. */
static void
lm_build (FtRouter *r)
{
  const FtRoadGraph *g = r->g;
  guint n = r->n, K = r->n_lm;
  r->lm_from = g_new (float, (gsize) n * K);
  r->lm_to = g_new (float, (gsize) n * K);
  /* reverse graph */
  g_autofree guint32 *rfirst = g_new0 (guint32, n + 1);
  g_autofree FtEdge *redges = g_new (FtEdge, MAX (g->n_edges, 1));
  for (guint e = 0; e < g->n_edges; e++)
    rfirst[g->edges[e].to + 1]++;
  for (guint v = 0; v < n; v++)
    rfirst[v + 1] += rfirst[v];
  g_autofree guint32 *fill = g_memdup2 (rfirst, sizeof (guint32) * (n + 1));
  for (guint u = 0; u < n; u++)
    for (guint32 e = g->first_edge[u]; e < g->first_edge[u + 1]; e++)
      {
        FtEdge re = g->edges[e];
        re.to = u;
        redges[fill[g->edges[e].to]++] = re;
      }
  /* farthest-point selection: start at the node farthest from node 0 */
  g_autofree float *mind = g_new (float, n);
  g_autofree float *tmp = g_new (float, n);
  dijkstra_into (r, g->first_edge, g->edges, 0, tmp, 1);
  guint32 pick = 0;
  for (guint v = 0; v < n; v++)
    if (tmp[v] != LM_INF && tmp[v] > tmp[pick])
      pick = v;
  for (guint v = 0; v < n; v++)
    mind[v] = LM_INF;
  for (guint L = 0; L < K; L++)
    {
      dijkstra_into (r, g->first_edge, g->edges, pick, r->lm_from + L, K);
      dijkstra_into (r, rfirst, redges, pick, r->lm_to + L, K);
      guint32 next = pick;
      float far = -1;
      for (guint v = 0; v < n; v++)
        {
          float d = r->lm_from[(gsize) v * K + L];
          if (d != LM_INF && d < mind[v])
            mind[v] = d;
          if (mind[v] != LM_INF && mind[v] > far)
            far = mind[v], next = v;
        }
      pick = next;
    }
  r->lm_built = TRUE;
}

static inline double
table_get (FtRouter *r, guint from, guint to)
{
  if (G_UNLIKELY (r->table == NULL))
    table_build (r);
  return r->table[(gsize) from * r->n + to];
}

/* Follows the table from `from` to `to`: at each node the edge minimising
 * length + remaining distance. Returns FALSE if it fails to arrive (float
 * ties); the caller then runs A*. */
static gboolean
table_path (FtRouter *r, guint32 from, guint32 to, GArray *out)
{
  const FtRoadGraph *g = r->g;
  guint32 u = from;
  g_array_append_val (out, u);
  for (guint steps = 0; u != to; steps++)
    {
      if (steps > r->n)
        return FALSE;
      double best = G_MAXDOUBLE;
      guint32 next = NONE;
      for (guint32 e = g->first_edge[u]; e < g->first_edge[u + 1]; e++)
        {
          float rest = r->table[(gsize) g->edges[e].to * r->n + to];
          if (rest < 0)
            continue;
          double c = g->edges[e].length_m + rest;
          if (c < best)
            {
              best = c;
              next = g->edges[e].to;
            }
        }
      if (next == NONE)
        return FALSE;
      u = next;
      g_array_append_val (out, u);
    }
  return TRUE;
}

double
ft_router_node_distance (FtRouter *r, guint from, guint to)
{
  g_return_val_if_fail (r != NULL, -1.0);
  g_return_val_if_fail (from < r->n && to < r->n, -1.0);
  r->n_queries++;
  if (r->use_table)
    return table_get (r, from, to);
  guint64 key = ((guint64) from << 32) | to;
  double d;
  if (cache_get (r, key, &d))
    {
      r->n_hits++;
      return d;
    }
  d = astar (r, from, to);
  cache_put (r, key, d);
  return d;
}

double
ft_router_node_path (FtRouter *r, guint from, guint to, guint32 **nodes_out, guint *n_out)
{
  g_return_val_if_fail (r != NULL, -1.0);
  g_return_val_if_fail (from < r->n && to < r->n, -1.0);
  r->n_queries++;
  if (nodes_out)
    *nodes_out = NULL;
  if (n_out)
    *n_out = 0;
  if (r->use_table)
    {
      double td = table_get (r, from, to);
      if (td < 0 || nodes_out == NULL)
        return td;
      GArray *path = g_array_new (FALSE, FALSE, sizeof (guint32));
      if (table_path (r, from, to, path))
        {
          if (n_out)
            *n_out = path->len;
          *nodes_out = (guint32 *) g_array_free (path, FALSE);
          return td;
        }
      g_array_free (path, TRUE);
    }
  double d = astar (r, from, to);
  if (!r->use_table)
    cache_put (r, ((guint64) from << 32) | to, d);
  if (d < 0 || nodes_out == NULL)
    return d;
  guint len = 1;
  if (from != to)
    for (guint32 v = to; v != from; v = r->parent[v])
      len++;
  guint32 *path = g_new (guint32, len);
  guint k = len;
  path[--k] = to;
  if (from != to)
    for (guint32 v = r->parent[to]; ; v = r->parent[v])
      {
        path[--k] = v;
        if (v == from)
          break;
      }
  *nodes_out = path;
  if (n_out)
    *n_out = len;
  return d;
}

double
ft_router_distance (FtRouter *r, FtLatLon from, FtLatLon to)
{
  g_return_val_if_fail (r != NULL, -1.0);
  if (r->n == 0)
    return -1.0;
  guint a = ft_city_nearest_node (r->city, from), b = ft_city_nearest_node (r->city, to);
  double d = ft_router_node_distance (r, a, b);
  if (d < 0)
    return -1.0;
  return d + ft_city_haversine_m (from, r->g->nodes[a]) + ft_city_haversine_m (r->g->nodes[b], to);
}

double
ft_router_route (FtRouter *r, FtLatLon from, FtLatLon to, FtLatLon **pts_out, guint *n_out)
{
  g_return_val_if_fail (r != NULL, -1.0);
  if (pts_out)
    *pts_out = NULL;
  if (n_out)
    *n_out = 0;
  if (r->n == 0)
    return -1.0;
  guint a = ft_city_nearest_node (r->city, from), b = ft_city_nearest_node (r->city, to);
  g_autofree guint32 *path = NULL;
  guint n = 0;
  double d = ft_router_node_path (r, a, b, pts_out ? &path : NULL, &n);
  if (d < 0)
    return -1.0;
  d += ft_city_haversine_m (from, r->g->nodes[a]) + ft_city_haversine_m (r->g->nodes[b], to);
  if (pts_out)
    {
      FtLatLon *pts = g_new (FtLatLon, n + 2);
      pts[0] = from;
      for (guint i = 0; i < n; i++)
        pts[i + 1] = r->g->nodes[path[i]];
      pts[n + 1] = to;
      *pts_out = pts;
      if (n_out)
        *n_out = n + 2;
    }
  return d;
}
