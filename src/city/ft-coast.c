/* ft-coast.c — the sea from OpenStreetMap coastline ways, and land-only
 * polygons. Coastline ways (land on their left, sea on their right) are
 * joined end to end into chains by node id, clipped to a box, and each
 * piece that crosses the box is closed along the box's edge, clockwise,
 * into sea polygons; closed chains inside the box are islands (holes in the
 * sea, or in a box that is all sea when no coast crosses it). Land-only
 * polygons cut the sea out of a convex polygon (a hexagonal zone, the
 * operating area's hull) with Sutherland–Hodgman clipping, the sea's share
 * becoming holes. Degrees are used as plane coordinates: clipping and
 * sidedness are affine-invariant, so the local stretch does not matter.
 */
#include "ft-city-private.h"

#include <math.h>
#include <string.h>

typedef struct {
  GArray  *pts;       /* FtLatLon */
  gboolean closed;
} Chain;

static void
chain_clear (gpointer p)
{
  Chain *c = p;
  g_array_unref (c->pts);
}

/* Joins ways that share end nodes (each node starts at most one way and
 * ends at most one: the first seen wins, a hostile file cannot make it
 * loop). */
static GArray *
join_ways (const FtCoastWay *ways, guint n)
{
  GArray *chains = g_array_new (FALSE, FALSE, sizeof (Chain));
  g_array_set_clear_func (chains, chain_clear);
  g_autoptr(GHashTable) by_start = g_hash_table_new (g_int64_hash, g_int64_equal);
  g_autoptr(GHashTable) by_end = g_hash_table_new (g_int64_hash, g_int64_equal);
  for (guint i = 0; i < n; i++)
    {
      if (ways[i].n < 2)
        continue;
      if (!g_hash_table_contains (by_start, &ways[i].ids[0]))
        g_hash_table_insert (by_start, (gpointer) &ways[i].ids[0], GUINT_TO_POINTER (i + 1));
      if (!g_hash_table_contains (by_end, &ways[i].ids[ways[i].n - 1]))
        g_hash_table_insert (by_end, (gpointer) &ways[i].ids[ways[i].n - 1], GUINT_TO_POINTER (i + 1));
    }
  g_autofree guint8 *used = g_new0 (guint8, MAX (n, 1));
  for (guint w = 0; w < n; w++)
    {
      if (used[w] || ways[w].n < 2)
        continue;
      guint head = w;
      for (guint steps = 0; steps < n; steps++)
        {
          guint p = GPOINTER_TO_UINT (g_hash_table_lookup (by_end, &ways[head].ids[0]));
          if (p == 0 || used[p - 1] || p - 1 == w)
            break;
          head = p - 1;
        }
      Chain c = { g_array_new (FALSE, FALSE, sizeof (FtLatLon)), FALSE };
      guint cur = head;
      used[cur] = 1;
      g_array_append_vals (c.pts, ways[cur].pts, ways[cur].n);
      gint64 first = ways[cur].ids[0];
      for (;;)
        {
          gint64 last = ways[cur].ids[ways[cur].n - 1];
          if (last == first)
            {
              c.closed = TRUE;
              break;
            }
          guint q = GPOINTER_TO_UINT (g_hash_table_lookup (by_start, &last));
          if (q == 0 || used[q - 1])
            break;
          cur = q - 1;
          used[cur] = 1;
          g_array_append_vals (c.pts, ways[cur].pts + 1, ways[cur].n - 1);
        }
      g_array_append_val (chains, c);
    }
  return chains;
}

/* ---- the box's edge ------------------------------------------------------ */

/* Position on the box's edge, clockwise from the north-west corner (north
 * edge eastward, east edge southward, south edge westward, west edge
 * northward), of the edge point nearest to p. */
static double
edge_param (const FtBBox *b, FtLatLon p, FtLatLon *on_edge)
{
  double W = b->max_lon - b->min_lon, H = b->max_lat - b->min_lat;
  double lon = CLAMP (p.lon, b->min_lon, b->max_lon), lat = CLAMP (p.lat, b->min_lat, b->max_lat);
  double dn = b->max_lat - lat, de = b->max_lon - lon, ds = lat - b->min_lat, dw = lon - b->min_lon;
  double m = MIN (MIN (dn, de), MIN (ds, dw));
  double t;
  if (m == dn)
    lat = b->max_lat, t = lon - b->min_lon;
  else if (m == de)
    lon = b->max_lon, t = W + (b->max_lat - lat);
  else if (m == ds)
    lat = b->min_lat, t = W + H + (b->max_lon - lon);
  else
    lon = b->min_lon, t = 2 * W + H + (lat - b->min_lat);
  if (on_edge)
    *on_edge = (FtLatLon) { lat, lon };
  return t;
}

static gboolean
inside_box (const FtBBox *b, FtLatLon p)
{
  return p.lat > b->min_lat && p.lat < b->max_lat && p.lon > b->min_lon && p.lon < b->max_lon;
}

/* Liang–Barsky: the part [t0, t1] of a→b inside the box, FALSE if none. */
static gboolean
clip_segment (const FtBBox *b, FtLatLon a, FtLatLon c, double *t0, double *t1)
{
  double dx = c.lon - a.lon, dy = c.lat - a.lat;
  double p[4] = { -dx, dx, -dy, dy };
  double q[4] = { a.lon - b->min_lon, b->max_lon - a.lon, a.lat - b->min_lat, b->max_lat - a.lat };
  double lo = 0, hi = 1;
  for (int i = 0; i < 4; i++)
    {
      if (p[i] == 0)
        {
          if (q[i] < 0)
            return FALSE;
          continue;
        }
      double r = q[i] / p[i];
      if (p[i] < 0)
        lo = MAX (lo, r);
      else
        hi = MIN (hi, r);
    }
  if (lo > hi)
    return FALSE;
  *t0 = lo;
  *t1 = hi;
  return TRUE;
}

static FtLatLon
lerp (FtLatLon a, FtLatLon c, double t)
{
  return (FtLatLon) { a.lat + (c.lat - a.lat) * t, a.lon + (c.lon - a.lon) * t };
}

typedef struct {
  GArray *pts;         /* from the box's edge to the box's edge */
  double  t_in, t_out; /* edge positions of its ends */
  gboolean used;
} Run;

static void
run_finish (GPtrArray *runs, const FtBBox *b, GArray *pts)
{
  if (pts->len < 2)
    {
      g_array_unref (pts);
      return;
    }
  Run *r = g_new0 (Run, 1);
  FtLatLon e;
  /* an end inside the box (the extract cut the coast there) goes straight
   * to the nearest edge */
  r->t_in = edge_param (b, g_array_index (pts, FtLatLon, 0), &e);
  if (inside_box (b, g_array_index (pts, FtLatLon, 0)))
    g_array_prepend_val (pts, e);
  r->t_out = edge_param (b, g_array_index (pts, FtLatLon, pts->len - 1), &e);
  if (inside_box (b, g_array_index (pts, FtLatLon, pts->len - 1)))
    g_array_append_val (pts, e);
  r->pts = pts;
  g_ptr_array_add (runs, r);
}

static void
run_free (gpointer p)
{
  Run *r = p;
  g_array_unref (r->pts);
  g_free (r);
}

/* The pieces of a polyline inside the box, in order. */
static void
clip_polyline (const FtBBox *b, const FtLatLon *pts, guint n, GPtrArray *runs)
{
  GArray *cur = NULL;
  for (guint i = 0; i + 1 < n; i++)
    {
      double t0, t1;
      if (!clip_segment (b, pts[i], pts[i + 1], &t0, &t1) || t1 - t0 < 1e-12)
        {
          if (cur)
            run_finish (runs, b, cur), cur = NULL;
          continue;
        }
      if (cur == NULL)
        {
          cur = g_array_new (FALSE, FALSE, sizeof (FtLatLon));
          FtLatLon s = lerp (pts[i], pts[i + 1], t0);
          g_array_append_val (cur, s);
        }
      FtLatLon e = lerp (pts[i], pts[i + 1], t1);
      g_array_append_val (cur, e);
      if (t1 < 1)
        run_finish (runs, b, cur), cur = NULL;
    }
  if (cur)
    run_finish (runs, b, cur);
}

static double
ring_area_deg2 (const FtLatLon *p, guint n)
{
  double a = 0;
  for (guint i = 0, j = n - 1; i < n; j = i++)
    a += p[j].lon * p[i].lat - p[i].lon * p[j].lat;
  return a / 2;
}

FtMultiPolygon *
ft_coast_sea (const FtCoastWay *ways, guint n_ways, const FtBBox *box)
{
  g_return_val_if_fail (box != NULL, NULL);
  if (n_ways == 0 || !(box->min_lat < box->max_lat && box->min_lon < box->max_lon))
    return NULL;
  g_autoptr(GArray) chains = join_ways (ways, n_ways);
  g_autoptr(GPtrArray) runs = g_ptr_array_new_with_free_func (run_free);
  g_autoptr(GPtrArray) islands = g_ptr_array_new ();   /* Chain*, borrowed */
  for (guint c = 0; c < chains->len; c++)
    {
      Chain *ch = &g_array_index (chains, Chain, c);
      const FtLatLon *p = (const FtLatLon *) ch->pts->data;
      guint n = ch->pts->len;
      if (ch->closed)
        {
          guint out = n;
          for (guint i = 0; i < n && out == n; i++)
            if (!inside_box (box, p[i]))
              out = i;
          if (out == n)
            {
              if (n >= 4)
                g_ptr_array_add (islands, ch);
              continue;
            }
          /* start at a point outside, so every piece runs edge to edge */
          g_autoptr(GArray) rot = g_array_sized_new (FALSE, FALSE, sizeof (FtLatLon), n);
          g_array_append_vals (rot, p + out, n - out);
          g_array_append_vals (rot, p + 1, out);   /* p[0] == p[n-1] */
          clip_polyline (box, (const FtLatLon *) rot->data, rot->len, runs);
        }
      else
        clip_polyline (box, p, n, runs);
    }
  if (runs->len == 0 && islands->len == 0)
    return NULL;

  double W = box->max_lon - box->min_lon, H = box->max_lat - box->min_lat, P = 2 * W + 2 * H;
  const double corner_t[4] = { W, W + H, 2 * W + H, 0 };
  const FtLatLon corner[4] = { { box->max_lat, box->max_lon }, { box->min_lat, box->max_lon },
                               { box->min_lat, box->min_lon }, { box->max_lat, box->min_lon } };
  FtMultiPolygon *sea = ft_multipolygon_new ();
  if (runs->len == 0)
    ft_multipolygon_add_ring (sea, corner, 4);   /* only islands: the box is sea */
  g_autoptr(GArray) ring = g_array_new (FALSE, FALSE, sizeof (FtLatLon));
  for (guint i = 0; i < runs->len; i++)
    {
      Run *start = g_ptr_array_index (runs, i);
      if (start->used)
        continue;
      g_array_set_size (ring, 0);
      Run *r = start;
      for (guint guard = 0; guard <= runs->len; guard++)
        {
          r->used = TRUE;
          g_array_append_vals (ring, r->pts->data, r->pts->len);
          /* sea on the right: follow the edge clockwise to the next piece */
          Run *next = NULL;
          double best = G_MAXDOUBLE;
          for (guint k = 0; k < runs->len; k++)
            {
              Run *q = g_ptr_array_index (runs, k);
              if (q->used && q != start)
                continue;
              double d = fmod (q->t_in - r->t_out + 2 * P, P);
              if (d < best)
                best = d, next = q;
            }
          /* add the corners between t_out and next->t_in, nearest first */
          double dc[4];
          int order[4] = { 0, 1, 2, 3 };
          for (int k = 0; k < 4; k++)
            dc[k] = fmod (corner_t[k] - r->t_out + 2 * P, P);
          for (int a = 1; a < 4; a++)
            for (int b2 = a; b2 > 0 && dc[order[b2]] < dc[order[b2 - 1]]; b2--)
              {
                int t = order[b2];
                order[b2] = order[b2 - 1];
                order[b2 - 1] = t;
              }
          for (int k = 0; k < 4; k++)
            if (dc[order[k]] > 1e-15 && dc[order[k]] < best)
              g_array_append_val (ring, corner[order[k]]);
          if (next == start || next == NULL)
            break;
          r = next;
        }
      if (ring->len >= 3 && fabs (ring_area_deg2 ((const FtLatLon *) ring->data, ring->len)) > 1e-12)
        ft_multipolygon_add_ring (sea, (const FtLatLon *) ring->data, ring->len);
    }
  for (guint i = 0; i < islands->len; i++)
    {
      Chain *ch = g_ptr_array_index (islands, i);
      FtLatLon at = g_array_index (ch->pts, FtLatLon, 0);
      for (guint p = 0; p < sea->n_polys; p++)
        {
          FtMultiPolygon one = { &sea->polys[p], 1, sea->bbox };
          if (ft_multipolygon_contains (&one, at))
            {
              ft_multipolygon_add_hole (sea, p, (const FtLatLon *) ch->pts->data, ch->pts->len - 1);
              break;
            }
        }
    }
  if (sea->n_polys == 0)
    g_clear_pointer (&sea, ft_multipolygon_free);
  return sea;
}

/* ---- land only ------------------------------------------------------------ */

/* Sutherland–Hodgman: subject ring clipped to the convex polygon clip. */
static GArray *
clip_to_convex (const FtLatLon *subj, guint n, const FtLatLon *clip, guint m)
{
  double orient = ring_area_deg2 (clip, m) >= 0 ? 1 : -1;
  GArray *out = g_array_new (FALSE, FALSE, sizeof (FtLatLon));
  g_array_append_vals (out, subj, n);
  g_autoptr(GArray) in = g_array_new (FALSE, FALSE, sizeof (FtLatLon));
  for (guint e = 0; e < m && out->len > 0; e++)
    {
      FtLatLon c1 = clip[e], c2 = clip[(e + 1) % m];
      g_array_set_size (in, 0);
      g_array_append_vals (in, out->data, out->len);
      g_array_set_size (out, 0);
      for (guint i = 0; i < in->len; i++)
        {
          FtLatLon cur = g_array_index (in, FtLatLon, i);
          FtLatLon prev = g_array_index (in, FtLatLon, (i + in->len - 1) % in->len);
          double sc = orient * ((c2.lon - c1.lon) * (cur.lat - c1.lat) - (c2.lat - c1.lat) * (cur.lon - c1.lon));
          double sp = orient * ((c2.lon - c1.lon) * (prev.lat - c1.lat) - (c2.lat - c1.lat) * (prev.lon - c1.lon));
          if ((sc >= 0) != (sp >= 0))
            {
              double t = sp / (sp - sc);
              FtLatLon x = lerp (prev, cur, t);
              g_array_append_val (out, x);
            }
          if (sc >= 0)
            g_array_append_val (out, cur);
        }
    }
  return out;
}

double
ft_coast_cut_sea (FtMultiPolygon *area, const FtMultiPolygon *sea)
{
  g_return_val_if_fail (area != NULL, 0);
  if (sea == NULL || area->n_polys == 0 || area->polys[0].n_rings == 0)
    return 0;
  /* adding a hole moves the rings array, not the outer ring's points */
  const FtLatLon *opts = area->polys[0].rings[0].pts;
  guint on = area->polys[0].rings[0].n;
  double whole = fabs (ring_area_deg2 (opts, on)), cut = 0;
  if (whole <= 0)
    return 0;
  const FtBBox *ab = &area->bbox;
  for (guint p = 0; p < sea->n_polys; p++)
    {
      const FtRing *sr = &sea->polys[p].rings[0];
      FtBBox sb;
      ft_bbox_init_empty (&sb);
      for (guint i = 0; i < sr->n; i++)
        ft_bbox_extend (&sb, sr->pts[i]);
      if (sb.max_lat < ab->min_lat || sb.min_lat > ab->max_lat || sb.max_lon < ab->min_lon || sb.min_lon > ab->max_lon)
        continue;
      g_autoptr(GArray) piece = clip_to_convex (sr->pts, sr->n, opts, on);
      double a = piece->len >= 3 ? fabs (ring_area_deg2 ((const FtLatLon *) piece->data, piece->len)) : 0;
      if (a < 1e-9 * whole)
        continue;
      ft_multipolygon_add_hole (area, 0, (const FtLatLon *) piece->data, piece->len);
      cut += a;
    }
  return MIN (cut / whole, 1.0);
}
