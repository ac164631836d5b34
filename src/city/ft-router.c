/* ft-router.c — shortest paths on a city's road graph.
 *
 * Contraction: nodes that only continue a street (two neighbours, both ways,
 * or one in and one out on a one-way street) are folded into chains between
 * "core" nodes (junctions and ends). Searches run on the core graph and the
 * chains are unfolded for paths. OpenStreetMap graphs are mostly shape
 * points: Monaco's 22,700 nodes leave 3,000 core nodes.
 * On the core graph: up to FT_ROUTER_TABLE_MAX_NODES core nodes get an
 * all-pairs distance table (built on first use by one Dijkstra per core node;
 * Demo City 1,400 nodes, 7.5 MB, Monaco 3,000 nodes, 36 MB); otherwise, and
 * for paths, A* with a lower bound from the straight line (scaled so it never
 * overestimates) and from 16 landmarks (ALT), a binary heap with lazy
 * deletion and per-query generation stamps; an exact LRU cache remembers
 * node-to-node distances. One router per thread; the city is only read.
 */
#include "ft-city-private.h"

#include <string.h>

#define NONE G_MAXUINT32
#define SRC_TAG 0x80000000u
#define FT_ROUTER_TABLE_MAX_NODES 4096
#define FT_ROUTER_LANDMARKS       16
#define FT_ROUTER_ACTIVE_LM       4
#define LM_INF                    G_MAXFLOAT
#define MAX_ENDS                  2

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
  /* contraction */
  guint              nc;
  guint32           *core_of;        /* n: core index or NONE */
  guint32           *core_node;      /* nc */
  guint32           *cfirst;         /* nc + 1 */
  FtEdge            *cedges;         /* to = core index */
  guint32           *cfrom;          /* source core index per core edge */
  guint32           *cchain;         /* chain per core edge or NONE */
  guint              nce;
  guint              n_chains;
  guint32           *chain_first;    /* n_chains + 1, into chain_nodes */
  guint32           *chain_nodes;    /* interior nodes, head to tail */
  float             *chain_off;      /* offset of each interior node from the head */
  guint32           *chain_head, *chain_tail;   /* full node indices */
  float             *chain_len;
  guint32           *ref_pos;        /* n * MAX_ENDS: index into chain_nodes */
  guint32           *ref_chain;      /* n * MAX_ENDS */
  guint8            *n_ref;          /* n */
  /* search on the core graph */
  float             *x, *y;          /* core nodes, metres */
  double             h_scale;
  double            *dist;
  guint32           *parent;         /* core edge index, or SRC_TAG | source */
  guint32           *seen, *done;
  guint32            stamp;
  HeapEnt           *heap;
  guint              heap_len, heap_cap;
  /* query targets */
  guint              n_tgt;
  guint32            tgt[MAX_ENDS];
  double             tgt_cost[MAX_ENDS];
  float              tx[MAX_ENDS], ty[MAX_ENDS];
  /* landmarks (ALT) on the core graph */
  guint              n_lm;
  gboolean           lm_built;
  float             *lm_from, *lm_to;          /* nc * n_lm */
  guint              act[FT_ROUTER_ACTIVE_LM], n_act;
  float              act_from_t[MAX_ENDS][FT_ROUTER_ACTIVE_LM], act_to_t[MAX_ENDS][FT_ROUTER_ACTIVE_LM];
  /* all-pairs table on the core graph */
  gboolean           use_table;
  float             *table;
  /* stats and LRU */
  guint64            n_queries, n_hits;
  CacheEnt          *ents;
  guint32           *buckets;
  guint32            cap, used, mask, head, tail;
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

/* ---- contraction ------------------------------------------------------ */

/* A node only continues a street: exactly two out and two in edges to the
 * same two other nodes, or one in and one out edge from/to different nodes. */
static gboolean
pass_through (const FtRoadGraph *g, const guint32 *in_deg, const guint32 *in_a,
              const guint32 *in_b, guint32 v)
{
  guint32 od = g->first_edge[v + 1] - g->first_edge[v];
  const FtEdge *e = g->edges + g->first_edge[v];
  if (od == 2 && in_deg[v] == 2)
    {
      guint32 a = e[0].to, b = e[1].to;
      if (a == b || a == v || b == v)
        return FALSE;
      return (in_a[v] == a && in_b[v] == b) || (in_a[v] == b && in_b[v] == a);
    }
  if (od == 1 && in_deg[v] == 1)
    return e[0].to != v && in_a[v] != v && e[0].to != in_a[v];
  return FALSE;
}

static gboolean
build_contraction (FtRouter *r)
{
  const FtRoadGraph *g = r->g;
  guint n = r->n;
  g_autofree guint32 *in_deg = g_new0 (guint32, n), *in_a = g_new (guint32, n), *in_b = g_new (guint32, n);
  for (guint u = 0; u < n; u++)
    for (guint32 e = g->first_edge[u]; e < g->first_edge[u + 1]; e++)
      {
        guint32 v = g->edges[e].to;
        if (in_deg[v] == 0) in_a[v] = u;
        else if (in_deg[v] == 1) in_b[v] = u;
        in_deg[v]++;
      }
  g_autofree gboolean *core = g_new (gboolean, n);
  for (guint v = 0; v < n; v++)
    core[v] = !pass_through (g, in_deg, in_a, in_b, v);
  for (int attempt = 0; attempt < 4; attempt++)
    {
      /* number core nodes */
      r->nc = 0;
      for (guint v = 0; v < n; v++)
        r->core_of[v] = core[v] ? r->nc++ : NONE;
      g_free (r->core_node);
      r->core_node = g_new (guint32, MAX (r->nc, 1));
      for (guint v = 0; v < n; v++)
        if (core[v])
          r->core_node[r->core_of[v]] = v;
      /* walk every street leaving a core node */
      g_autoptr(GArray) ce = g_array_new (FALSE, FALSE, sizeof (FtEdge));
      g_autoptr(GArray) cfrom = g_array_new (FALSE, FALSE, sizeof (guint32));
      g_autoptr(GArray) cchain = g_array_new (FALSE, FALSE, sizeof (guint32));
      g_autoptr(GArray) cn = g_array_new (FALSE, FALSE, sizeof (guint32));
      g_autoptr(GArray) coff = g_array_new (FALSE, FALSE, sizeof (float));
      g_autoptr(GArray) cfirst = g_array_new (FALSE, FALSE, sizeof (guint32));
      g_autoptr(GArray) chead = g_array_new (FALSE, FALSE, sizeof (guint32));
      g_autoptr(GArray) ctail = g_array_new (FALSE, FALSE, sizeof (guint32));
      g_autoptr(GArray) clen = g_array_new (FALSE, FALSE, sizeof (float));
      memset (r->n_ref, 0, n);
      g_free (r->cfirst);
      r->cfirst = g_new0 (guint32, r->nc + 1);
      gboolean redo = FALSE;
      for (guint k = 0; k < r->nc && !redo; k++)
        {
          guint32 u = r->core_node[k];
          for (guint32 e = g->first_edge[u]; e < g->first_edge[u + 1] && !redo; e++)
            {
              guint32 prev = u, cur = g->edges[e].to;
              double acc = g->edges[e].length_m;
              guint32 chain = NONE;
              FtEdge out = g->edges[e];
              if (!core[cur])
                {
                  chain = chead->len;
                  guint32 start = cn->len;
                  g_array_append_val (cfirst, start);
                  g_array_append_val (chead, u);
                  guint steps = 0;
                  while (!core[cur])
                    {
                      if (++steps > n || r->n_ref[cur] >= MAX_ENDS)
                        {
                          core[cur] = TRUE;   /* should not happen; make it a junction */
                          redo = TRUE;
                          break;
                        }
                      float off = (float) acc;
                      r->ref_pos[cur * MAX_ENDS + r->n_ref[cur]] = cn->len;
                      r->ref_chain[cur * MAX_ENDS + r->n_ref[cur]] = chain;
                      r->n_ref[cur]++;
                      g_array_append_val (cn, cur);
                      g_array_append_val (coff, off);
                      const FtEdge *ne = NULL;
                      for (guint32 f = g->first_edge[cur]; f < g->first_edge[cur + 1]; f++)
                        if (g->edges[f].to != prev || g->first_edge[cur + 1] - g->first_edge[cur] == 1)
                          {
                            ne = &g->edges[f];
                            break;
                          }
                      g_assert (ne != NULL);
                      acc += ne->length_m;
                      prev = cur;
                      cur = ne->to;
                    }
                  float len = (float) acc;
                  g_array_append_val (ctail, cur);
                  g_array_append_val (clen, len);
                  out.length_m = len;
                  out.flags = 0;
                }
              out.to = r->core_of[cur];
              g_array_append_val (ce, out);
              g_array_append_val (cfrom, k);
              g_array_append_val (cchain, chain);
            }
          r->cfirst[k + 1] = ce->len;
        }
      /* nodes on loops without a junction were never reached */
      for (guint v = 0; v < n && !redo; v++)
        if (!core[v] && r->n_ref[v] == 0)
          {
            core[v] = TRUE;
            redo = TRUE;
          }
      if (redo)
        continue;
      guint32 end = cn->len;
      g_array_append_val (cfirst, end);
      g_free (r->cedges); g_free (r->cfrom); g_free (r->cchain); g_free (r->chain_first);
      g_free (r->chain_nodes); g_free (r->chain_off); g_free (r->chain_head); g_free (r->chain_tail);
      g_free (r->chain_len);
      r->nce = ce->len;
      r->n_chains = chead->len;
      r->cedges = (FtEdge *) g_array_free (g_steal_pointer (&ce), FALSE);
      r->cfrom = (guint32 *) g_array_free (g_steal_pointer (&cfrom), FALSE);
      r->cchain = (guint32 *) g_array_free (g_steal_pointer (&cchain), FALSE);
      r->chain_first = (guint32 *) g_array_free (g_steal_pointer (&cfirst), FALSE);
      r->chain_nodes = (guint32 *) g_array_free (g_steal_pointer (&cn), FALSE);
      r->chain_off = (float *) g_array_free (g_steal_pointer (&coff), FALSE);
      r->chain_head = (guint32 *) g_array_free (g_steal_pointer (&chead), FALSE);
      r->chain_tail = (guint32 *) g_array_free (g_steal_pointer (&ctail), FALSE);
      r->chain_len = (float *) g_array_free (g_steal_pointer (&clen), FALSE);
      return TRUE;
    }
  return FALSE;
}

/* Without contraction: every node is core (used if the walk failed). */
static void
no_contraction (FtRouter *r)
{
  const FtRoadGraph *g = r->g;
  r->nc = r->n;
  g_free (r->core_node);
  r->core_node = g_new (guint32, MAX (r->n, 1));
  for (guint v = 0; v < r->n; v++)
    r->core_of[v] = r->core_node[v] = v;
  memset (r->n_ref, 0, r->n);
  g_free (r->cfirst); g_free (r->cedges); g_free (r->cfrom); g_free (r->cchain);
  r->cfirst = g_memdup2 (g->first_edge, sizeof (guint32) * (r->n + 1));
  r->cedges = g_memdup2 (g->edges, sizeof (FtEdge) * MAX (g->n_edges, 1));
  r->nce = g->n_edges;
  r->cfrom = g_new (guint32, MAX (g->n_edges, 1));
  r->cchain = g_new (guint32, MAX (g->n_edges, 1));
  for (guint u = 0; u < r->n; u++)
    for (guint32 e = g->first_edge[u]; e < g->first_edge[u + 1]; e++)
      r->cfrom[e] = u, r->cchain[e] = NONE;
  r->n_chains = 0;
  g_free (r->chain_first);
  r->chain_first = g_new0 (guint32, 1);
}

/* ---- life cycle -------------------------------------------------------- */

FtRouter *
ft_router_new (const FtCity *city)
{
  g_return_val_if_fail (city != NULL, NULL);
  FtRouter *r = g_new0 (FtRouter, 1);
  r->city = city;
  r->g = &city->graph;
  r->n = r->g->n_nodes;
  guint n = MAX (r->n, 1);
  r->core_of = g_new (guint32, n);
  r->n_ref = g_new0 (guint8, n);
  r->ref_pos = g_new (guint32, (gsize) n * MAX_ENDS);
  r->ref_chain = g_new (guint32, (gsize) n * MAX_ENDS);
  if (!build_contraction (r))
    no_contraction (r);
  guint nc = MAX (r->nc, 1);
  FtProj pr;
  ft_proj_init (&pr, city->center);
  /* heuristic scale: smallest ratio edge length / chord over the full graph,
   * so scale * chord never overestimates (chains are at least as long) */
  g_autofree float *fx = g_new (float, n), *fy = g_new (float, n);
  for (guint i = 0; i < r->n; i++)
    {
      double x, y;
      ft_proj_from_ll (&pr, r->g->nodes[i], &x, &y);
      fx[i] = (float) x;
      fy[i] = (float) y;
    }
  double scale = 1.0;
  for (guint u = 0; u < r->n; u++)
    for (guint32 e = r->g->first_edge[u]; e < r->g->first_edge[u + 1]; e++)
      {
        guint32 v = r->g->edges[e].to;
        double chord = hypot ((double) fx[u] - fx[v], (double) fy[u] - fy[v]);
        if (chord > 0.5)
          scale = MIN (scale, r->g->edges[e].length_m / chord);
      }
  r->h_scale = MAX (scale, 0.0) * 0.999;
  r->x = g_new (float, nc);
  r->y = g_new (float, nc);
  for (guint k = 0; k < r->nc; k++)
    {
      r->x[k] = fx[r->core_node[k]];
      r->y[k] = fy[r->core_node[k]];
    }
  r->dist = g_new (double, nc);
  r->parent = g_new (guint32, nc);
  r->seen = g_new0 (guint32, nc);
  r->done = g_new0 (guint32, nc);
  r->heap_cap = 1024;
  r->heap = g_new (HeapEnt, r->heap_cap);
  cache_alloc (r, 262144);
  r->use_table = r->nc > 0 && r->nc <= FT_ROUTER_TABLE_MAX_NODES;
  r->n_lm = r->nc >= 256 ? FT_ROUTER_LANDMARKS : 0;
  return r;
}

void
ft_router_free (FtRouter *r)
{
  if (r == NULL)
    return;
  g_free (r->core_of); g_free (r->core_node); g_free (r->cfirst); g_free (r->cedges);
  g_free (r->cfrom); g_free (r->cchain); g_free (r->chain_first); g_free (r->chain_nodes);
  g_free (r->chain_off); g_free (r->chain_head); g_free (r->chain_tail); g_free (r->chain_len);
  g_free (r->ref_pos); g_free (r->ref_chain); g_free (r->n_ref);
  g_free (r->x); g_free (r->y); g_free (r->dist); g_free (r->parent); g_free (r->seen);
  g_free (r->done); g_free (r->heap); g_free (r->ents); g_free (r->buckets); g_free (r->table);
  g_free (r->lm_from); g_free (r->lm_to);
  g_free (r);
}

void
ft_router_set_landmarks (FtRouter *r, guint n)
{
  g_return_if_fail (r != NULL);
  r->n_lm = MIN (n, 64u);
  r->lm_built = FALSE;
  g_clear_pointer (&r->lm_from, g_free);
  g_clear_pointer (&r->lm_to, g_free);
  cache_alloc (r, r->cap);
}

void
ft_router_set_use_table (FtRouter *r, gboolean use)
{
  g_return_if_fail (r != NULL);
  r->use_table = use && r->nc > 0 && r->nc <= FT_ROUTER_TABLE_MAX_NODES;
  if (!r->use_table)
    g_clear_pointer (&r->table, g_free);
}

gboolean
ft_router_get_use_table (FtRouter *r)
{
  g_return_val_if_fail (r != NULL, FALSE);
  return r->use_table;
}

guint
ft_router_n_core_nodes (FtRouter *r)
{
  g_return_val_if_fail (r != NULL, 0);
  return r->nc;
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

/* ---- Dijkstra, landmarks, table --------------------------------------- */

static void
next_stamp (FtRouter *r)
{
  if (++r->stamp == 0)
    {
      memset (r->seen, 0, sizeof (guint32) * MAX (r->nc, 1));
      memset (r->done, 0, sizeof (guint32) * MAX (r->nc, 1));
      r->stamp = 1;
    }
}

/* Full Dijkstra on the core graph (or its reverse) from core node s, into
 * out[v * stride]. */
static void
dijkstra_into (FtRouter *r, const guint32 *first, const FtEdge *edges, guint32 s,
               float *out, guint stride)
{
  for (guint v = 0; v < r->nc; v++)
    out[(gsize) v * stride] = LM_INF;
  next_stamp (r);
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

static void
lm_build (FtRouter *r)
{
  guint nc = r->nc, K = r->n_lm;
  r->lm_from = g_new (float, (gsize) nc * K);
  r->lm_to = g_new (float, (gsize) nc * K);
  g_autofree guint32 *rfirst = g_new0 (guint32, nc + 1);
  g_autofree FtEdge *redges = g_new (FtEdge, MAX (r->nce, 1));
  for (guint e = 0; e < r->nce; e++)
    rfirst[r->cedges[e].to + 1]++;
  for (guint v = 0; v < nc; v++)
    rfirst[v + 1] += rfirst[v];
  g_autofree guint32 *fill = g_memdup2 (rfirst, sizeof (guint32) * (nc + 1));
  for (guint e = 0; e < r->nce; e++)
    {
      FtEdge re = r->cedges[e];
      re.to = r->cfrom[e];
      redges[fill[r->cedges[e].to]++] = re;
    }
  g_autofree float *mind = g_new (float, nc);
  g_autofree float *tmp = g_new (float, nc);
  dijkstra_into (r, r->cfirst, r->cedges, 0, tmp, 1);
  guint32 pick = 0;
  for (guint v = 0; v < nc; v++)
    if (tmp[v] != LM_INF && tmp[v] > tmp[pick])
      pick = v;
  for (guint v = 0; v < nc; v++)
    mind[v] = LM_INF;
  for (guint L = 0; L < K; L++)
    {
      dijkstra_into (r, r->cfirst, r->cedges, pick, r->lm_from + L, K);
      dijkstra_into (r, rfirst, redges, pick, r->lm_to + L, K);
      guint32 next = pick;
      float far = -1;
      for (guint v = 0; v < nc; v++)
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

static void
table_build (FtRouter *r)
{
  guint nc = r->nc;
  r->table = g_new (float, (gsize) nc * nc);
  for (guint s = 0; s < nc; s++)
    dijkstra_into (r, r->cfirst, r->cedges, s, r->table + (gsize) s * nc, 1);
}

/* ---- queries ------------------------------------------------------------- */

typedef struct {
  guint    ns;
  guint32  src[MAX_ENDS];      /* core nodes */
  double   scost[MAX_ENDS];
  guint32  spos[MAX_ENDS];     /* chain position of the start node, or NONE */
  guint32  tpos[MAX_ENDS];
  double   direct;             /* along one chain, or -1 */
  guint32  dpos_s, dpos_t;
} Ends;

static void
query_ends (FtRouter *r, guint32 s, guint32 t, Ends *q)
{
  q->direct = -1;
  if (r->core_of[s] != NONE)
    {
      q->ns = 1;
      q->src[0] = r->core_of[s];
      q->scost[0] = 0;
      q->spos[0] = NONE;
    }
  else
    {
      q->ns = r->n_ref[s];
      for (guint i = 0; i < q->ns; i++)
        {
          guint32 pos = r->ref_pos[s * MAX_ENDS + i], c = r->ref_chain[s * MAX_ENDS + i];
          q->src[i] = r->core_of[r->chain_tail[c]];
          q->scost[i] = (double) r->chain_len[c] - r->chain_off[pos];
          q->spos[i] = pos;
        }
    }
  if (r->core_of[t] != NONE)
    {
      r->n_tgt = 1;
      r->tgt[0] = r->core_of[t];
      r->tgt_cost[0] = 0;
      q->tpos[0] = NONE;
    }
  else
    {
      r->n_tgt = r->n_ref[t];
      for (guint j = 0; j < r->n_tgt; j++)
        {
          guint32 pos = r->ref_pos[t * MAX_ENDS + j], c = r->ref_chain[t * MAX_ENDS + j];
          r->tgt[j] = r->core_of[r->chain_head[c]];
          r->tgt_cost[j] = r->chain_off[pos];
          q->tpos[j] = pos;
        }
      if (r->core_of[s] == NONE)
        for (guint i = 0; i < r->n_ref[s]; i++)
          for (guint j = 0; j < r->n_tgt; j++)
            if (r->ref_chain[s * MAX_ENDS + i] == r->ref_chain[t * MAX_ENDS + j] && q->spos[i] < q->tpos[j])
              {
                double d = (double) r->chain_off[q->tpos[j]] - r->chain_off[q->spos[i]];
                if (q->direct < 0 || d < q->direct)
                  q->direct = d, q->dpos_s = q->spos[i], q->dpos_t = q->tpos[j];
              }
    }
  for (guint j = 0; j < r->n_tgt; j++)
    {
      r->tx[j] = r->x[r->tgt[j]];
      r->ty[j] = r->y[r->tgt[j]];
    }
}

static inline double
heur (const FtRouter *r, guint32 v)
{
  double best = G_MAXDOUBLE;
  for (guint j = 0; j < r->n_tgt; j++)
    {
      float dx = r->x[v] - r->tx[j], dy = r->y[v] - r->ty[j];
      double h = r->h_scale * sqrtf (dx * dx + dy * dy);
      for (guint k = 0; k < r->n_act; k++)
        {
          guint L = r->act[k];
          float lv = r->lm_from[(gsize) v * r->n_lm + L], vl = r->lm_to[(gsize) v * r->n_lm + L];
          if (lv != LM_INF && r->act_from_t[j][k] != LM_INF)
            h = MAX (h, (double) r->act_from_t[j][k] - lv);
          if (vl != LM_INF && r->act_to_t[j][k] != LM_INF)
            h = MAX (h, (double) vl - r->act_to_t[j][k]);
        }
      best = MIN (best, h + r->tgt_cost[j]);
    }
  return best;
}

static void
lm_activate (FtRouter *r, guint32 s)
{
  r->n_act = 0;
  if (r->n_lm == 0 || r->n_tgt == 0)
    return;
  if (!r->lm_built)
    lm_build (r);
  guint32 t = r->tgt[0];
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
      guint k;
      if (r->n_act < FT_ROUTER_ACTIVE_LM)
        k = r->n_act++;
      else if (b > best[FT_ROUTER_ACTIVE_LM - 1])
        k = FT_ROUTER_ACTIVE_LM - 1;
      else
        continue;
      while (k > 0 && best[k - 1] < b)
        {
          best[k] = best[k - 1];
          r->act[k] = r->act[k - 1];
          k--;
        }
      best[k] = b;
      r->act[k] = L;
    }
  for (guint j = 0; j < r->n_tgt; j++)
    for (guint k = 0; k < r->n_act; k++)
      {
        r->act_from_t[j][k] = r->lm_from[(gsize) r->tgt[j] * r->n_lm + r->act[k]];
        r->act_to_t[j][k] = r->lm_to[(gsize) r->tgt[j] * r->n_lm + r->act[k]];
      }
}

/* A* on the core graph from the sources to the targets. Returns the best
 * length (or -1) and which target (*tj, -1 = the direct chain). */
static double
core_astar (FtRouter *r, const Ends *q, int *tj)
{
  double best = q->direct >= 0 ? q->direct : G_MAXDOUBLE;
  *tj = -1;
  if (q->ns == 0 || r->n_tgt == 0)
    return q->direct;
  lm_activate (r, q->src[0]);
  next_stamp (r);
  const guint32 st = r->stamp;
  r->heap_len = 0;
  for (guint i = 0; i < q->ns; i++)
    {
      guint32 v = q->src[i];
      if (r->seen[v] != st || q->scost[i] < r->dist[v])
        {
          r->seen[v] = st;
          r->dist[v] = q->scost[i];
          r->parent[v] = SRC_TAG | i;
          heap_push (r, q->scost[i] + heur (r, v), v);
        }
    }
  while (r->heap_len > 0)
    {
      HeapEnt top = heap_pop (r);
      if (top.f >= best)
        break;
      guint32 u = top.v;
      if (r->done[u] == st)
        continue;
      r->done[u] = st;
      double du = r->dist[u];
      for (guint j = 0; j < r->n_tgt; j++)
        if (r->tgt[j] == u && du + r->tgt_cost[j] < best)
          {
            best = du + r->tgt_cost[j];
            *tj = (int) j;
          }
      for (guint32 e = r->cfirst[u], end = r->cfirst[u + 1]; e < end; e++)
        {
          guint32 v = r->cedges[e].to;
          if (r->done[v] == st)
            continue;
          double nd = du + r->cedges[e].length_m;
          if (r->seen[v] != st || nd < r->dist[v])
            {
              r->seen[v] = st;
              r->dist[v] = nd;
              r->parent[v] = e;
              heap_push (r, nd + heur (r, v), v);
            }
        }
    }
  return best < G_MAXDOUBLE ? best : -1.0;
}

static double
table_distance (FtRouter *r, const Ends *q)
{
  if (G_UNLIKELY (r->table == NULL))
    table_build (r);
  double best = q->direct >= 0 ? q->direct : G_MAXDOUBLE;
  for (guint i = 0; i < q->ns; i++)
    for (guint j = 0; j < r->n_tgt; j++)
      {
        float d = r->table[(gsize) q->src[i] * r->nc + r->tgt[j]];
        if (d != LM_INF && q->scost[i] + d + r->tgt_cost[j] < best)
          best = q->scost[i] + d + r->tgt_cost[j];
      }
  return best < G_MAXDOUBLE ? best : -1.0;
}

double
ft_router_node_distance (FtRouter *r, guint from, guint to)
{
  g_return_val_if_fail (r != NULL, -1.0);
  g_return_val_if_fail (from < r->n && to < r->n, -1.0);
  r->n_queries++;
  if (from == to)
    return 0.0;
  Ends q;
  query_ends (r, from, to, &q);
  if (r->use_table)
    return table_distance (r, &q);
  guint64 key = ((guint64) from << 32) | to;
  double d;
  if (cache_get (r, key, &d))
    {
      r->n_hits++;
      return d;
    }
  int tj;
  d = core_astar (r, &q, &tj);
  cache_put (r, key, d);
  return d;
}

static void
append_chain (GArray *out, const FtRouter *r, guint32 from_pos, guint32 to_pos)
{
  for (guint32 p = from_pos; p < to_pos; p++)
    g_array_append_val (out, r->chain_nodes[p]);
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
  if (from == to)
    {
      if (nodes_out)
        {
          *nodes_out = g_new (guint32, 1);
          (*nodes_out)[0] = from;
          if (n_out)
            *n_out = 1;
        }
      return 0.0;
    }
  Ends q;
  query_ends (r, from, to, &q);
  int tj;
  double d = core_astar (r, &q, &tj);
  if (!r->use_table)
    cache_put (r, ((guint64) from << 32) | to, d);
  if (d < 0 || nodes_out == NULL)
    return d;
  GArray *path = g_array_new (FALSE, FALSE, sizeof (guint32));
  if (tj < 0)
    {
      /* along one chain */
      append_chain (path, r, q.dpos_s, q.dpos_t + 1);
    }
  else
    {
      /* core edges back from the target's core node */
      g_autoptr(GArray) back = g_array_new (FALSE, FALSE, sizeof (guint32));
      guint32 v = r->tgt[tj];
      while (!(r->parent[v] & SRC_TAG))
        {
          g_array_append_val (back, r->parent[v]);
          v = r->cfrom[r->parent[v]];
        }
      guint si = r->parent[v] & ~SRC_TAG;
      if (q.spos[si] != NONE)
        {
          guint32 c = r->ref_chain[from * MAX_ENDS + si];
          append_chain (path, r, q.spos[si], r->chain_first[c + 1]);
        }
      g_array_append_val (path, r->core_node[v]);
      for (guint k = back->len; k-- > 0;)
        {
          guint32 e = g_array_index (back, guint32, k);
          guint32 c = r->cchain[e];
          if (c != NONE)
            append_chain (path, r, r->chain_first[c], r->chain_first[c + 1]);
          g_array_append_val (path, r->core_node[r->cedges[e].to]);
        }
      if (q.tpos[tj] != NONE)
        {
          guint32 c = r->ref_chain[to * MAX_ENDS + tj];
          append_chain (path, r, r->chain_first[c], q.tpos[tj] + 1);
        }
    }
  if (n_out)
    *n_out = path->len;
  *nodes_out = (guint32 *) g_array_free (path, FALSE);
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
