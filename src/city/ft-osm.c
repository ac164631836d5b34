/* ft-osm.c — builds a city pack from an OpenStreetMap PBF extract: a road
 * graph for bikes and scooters from highway ways (one-way rules with bicycle
 * contraflow, access and bicycle=no excluded, cycleways, footways, paths and
 * living streets kept as slower classes), pruned to its largest connected
 * piece; the operating area (convex hull of the streets grown by 100 m,
 * at most 200 km across); hexagonal demand zones; depots by k-means on
 * street nodes; parks and pedestrian areas (closed ways and multipolygon
 * relations, outer rings) as candidate no-parking geofences; water areas for
 * drawing, and the sea from natural=coastline ways (ft-coast.c), cut out of
 * the operating area and the zones; and a default demand profile with Demo
 * City's time shapes.
 * The file is mapped, its PBF block framing walked so that a truncated or
 * foreign file is refused with the block and byte offset named, then read
 * by the libosmium shim (ft-osm-reader.h), which reports any malformed
 * content as an error: every bad file gives "FILE: not a valid OSM PBF (…)".
 */
#include "ft-city-private.h"

#include <stdlib.h>
#include <string.h>
#include "ft-osm-reader.h"

/* ---- PBF framing check ------------------------------------------------ */

static gboolean
read_varint (const guint8 *p, gsize len, gsize *pos, guint64 *out)
{
  guint64 v = 0;
  for (int shift = 0; shift < 64 && *pos < len; shift += 7)
    {
      guint8 b = p[(*pos)++];
      v |= (guint64) (b & 0x7f) << shift;
      if (!(b & 0x80))
        {
          *out = v;
          return TRUE;
        }
    }
  return FALSE;
}

#define PBF_MAX_HEADER (64 * 1024)           /* as libosmium and the format's spec */
#define PBF_MAX_BLOB   (32 * 1024 * 1024)

/* Walks the BlobHeader/Blob frames of data[0..len) to its end, so a
 * truncated or foreign file is refused, naming the block and the byte,
 * before any of it is decoded. */
static gboolean
check_pbf_framing (const char *path, const guint8 *d, gsize len, guint *n_blocks, GError **error)
{
  gsize off = 0;
  guint blocks = 0;
  while (off < len)
    {
      if (len - off < 4)
        {
          g_set_error (error, FT_CITY_ERROR, FT_CITY_ERROR_PARSE,
                       "%s: not a valid OSM PBF (truncated: the file ends inside a block header at byte %"
                       G_GSIZE_FORMAT ", block %u)", path, off, blocks + 1);
          return FALSE;
        }
      guint32 hlen = (guint32) d[off] << 24 | (guint32) d[off + 1] << 16 | (guint32) d[off + 2] << 8 | d[off + 3];
      if (hlen == 0 || hlen > PBF_MAX_HEADER)
        {
          g_set_error (error, FT_CITY_ERROR, FT_CITY_ERROR_PARSE,
                       "%s: not a valid OSM PBF (bad block header size %u at byte %" G_GSIZE_FORMAT ")",
                       path, hlen, off);
          return FALSE;
        }
      if (len - off - 4 < hlen)
        {
          g_set_error (error, FT_CITY_ERROR, FT_CITY_ERROR_PARSE,
                       "%s: not a valid OSM PBF (truncated: the file ends inside block %u's header, byte %"
                       G_GSIZE_FORMAT ")", path, blocks + 1, off + 4);
          return FALSE;
        }
      /* BlobHeader: 1 type (string), 2 indexdata (bytes), 3 datasize (int32) */
      const guint8 *h = d + off + 4;
      gsize pos = 0;
      guint64 datasize = G_MAXUINT64;
      char type[32] = "";
      while (pos < hlen)
        {
          guint64 key, v;
          if (!read_varint (h, hlen, &pos, &key))
            break;
          if ((key & 7) == 2)
            {
              if (!read_varint (h, hlen, &pos, &v) || v > hlen - pos)
                break;
              if ((key >> 3) == 1)
                {
                  gsize n = MIN (v, sizeof type - 1);   /* not NUL-terminated in the file */
                  memcpy (type, h + pos, n);
                  type[n] = '\0';
                }
              pos += v;
            }
          else if ((key & 7) == 0)
            {
              if (!read_varint (h, hlen, &pos, &v))
                break;
              if ((key >> 3) == 3)
                datasize = v;
            }
          else
            break;
        }
      g_strcanon (type, G_CSET_a_2_z G_CSET_A_2_Z G_CSET_DIGITS "_-. ", '?');
      if (datasize == G_MAXUINT64 || (blocks == 0 && strcmp (type, "OSMHeader") != 0) ||
          (strcmp (type, "OSMHeader") != 0 && strcmp (type, "OSMData") != 0))
        {
          g_set_error (error, FT_CITY_ERROR, FT_CITY_ERROR_PARSE,
                       "%s: not a valid OSM PBF (block %u at byte %" G_GSIZE_FORMAT " has type \"%s\"%s)",
                       path, blocks + 1, off, type, datasize == G_MAXUINT64 ? " and no size" : "");
          return FALSE;
        }
      if (datasize == 0 || datasize > PBF_MAX_BLOB)
        {
          g_set_error (error, FT_CITY_ERROR, FT_CITY_ERROR_PARSE,
                       "%s: not a valid OSM PBF (block %u at byte %" G_GSIZE_FORMAT " declares %" G_GUINT64_FORMAT
                       " bytes of data, outside 1..%d)", path, blocks + 1, off, datasize, PBF_MAX_BLOB);
          return FALSE;
        }
      if (datasize > len - off - 4 - hlen)
        {
          g_set_error (error, FT_CITY_ERROR, FT_CITY_ERROR_PARSE,
                       "%s: not a valid OSM PBF (truncated: block %u at byte %" G_GSIZE_FORMAT " needs %"
                       G_GUINT64_FORMAT " bytes but the file has %" G_GSIZE_FORMAT ")",
                       path, blocks + 1, off, off + 4 + hlen + datasize, len);
          return FALSE;
        }
      off += 4 + hlen + datasize;
      blocks++;
    }
  if (blocks == 0)
    {
      g_set_error (error, FT_CITY_ERROR, FT_CITY_ERROR_PARSE, "%s: not a valid OSM PBF (empty file)", path);
      return FALSE;
    }
  *n_blocks = blocks;
  return TRUE;
}

/* ---- parsing ---------------------------------------------------------- */

typedef struct {
  gint64  id;
  FtLatLon p;
} ONode;

typedef struct {
  guint32 first_ref, n_refs;   /* into refs */
  guint8  cls;
  gint8   oneway;              /* 0 two-way, 1 forward, -1 backward */
} OWay;

typedef struct {
  GArray   *nodes;       /* ONode */
  gboolean  sorted;
  GArray   *refs;        /* gint64 */
  GArray   *ways;        /* OWay */
  GPtrArray *parks;      /* FtMultiPolygon* (closed leisure=park / pedestrian areas) */
  GPtrArray *park_names;
  FtMultiPolygon *water;
  GArray   *coast_refs;  /* gint64: natural=coastline ways' nodes */
  GArray   *coast_ways;  /* guint32 pairs: first ref, count */
  guint64   n_elems, est_elems;
  FtCityProgressFunc progress;
  gpointer  user_data;
  guint64   n_ways_seen;
  FtOsmStats stats;
  int       utc_offset_min;
  /* every way's node list, for multipolygon relations */
  GArray   *all_ways;    /* AWay, by id */
  GArray   *all_refs;    /* gint64 */
  gboolean  ways_sorted;
} Ctx;

typedef struct {
  gint64  id;
  guint32 first, n;
} AWay;

static const char *
tag (const FtOsmTag *tags, size_t n, const char *key)
{
  for (size_t i = 0; i < n; i++)
    if (strcmp (tags[i].key, key) == 0)
      return tags[i].value;
  return NULL;
}

static gboolean
is_yes (const char *v)
{
  return v && (strcmp (v, "yes") == 0 || strcmp (v, "1") == 0 || strcmp (v, "true") == 0);
}

static void
tick (Ctx *c)
{
  if (c->progress && (++c->n_elems & 0x3fff) == 0)
    c->progress (MIN (0.8, 0.8 * (double) c->n_elems / MAX (c->est_elems, 1)), c->user_data);
}

static int
on_node (void *ud, int64_t id, double lat, double lon, const FtOsmTag *tags, size_t n_tags)
{
  Ctx *c = ud;
  ONode o = { id, { lat, lon } };
  if (c->nodes->len > 0 && g_array_index (c->nodes, ONode, c->nodes->len - 1).id >= o.id)
    c->sorted = FALSE;
  g_array_append_val (c->nodes, o);
  tick (c);
  return 0;
}

static int
onode_cmp (const void *a, const void *b)
{
  gint64 x = ((const ONode *) a)->id, y = ((const ONode *) b)->id;
  return (x > y) - (x < y);
}

static const ONode *
find_node (Ctx *c, gint64 id)
{
  if (!c->sorted)
    {
      g_array_sort (c->nodes, onode_cmp);
      c->sorted = TRUE;
    }
  if (c->nodes->len == 0)
    return NULL;   /* bsearch's base must not be NULL */
  ONode key = { id, { 0, 0 } };
  return bsearch (&key, c->nodes->data, c->nodes->len, sizeof (ONode), onode_cmp);
}

/* Road class for bikes and scooters, or -1 if not usable. */
static int
road_class (const FtOsmTag *t, size_t n)
{
  const char *hw = tag (t, n, "highway");
  if (hw == NULL)
    return -1;
  const char *access = tag (t, n, "access"), *bicycle = tag (t, n, "bicycle");
  gboolean bike_ok = bicycle && (strcmp (bicycle, "yes") == 0 || strcmp (bicycle, "designated") == 0 ||
                                 strcmp (bicycle, "permissive") == 0);
  if (bicycle && strcmp (bicycle, "no") == 0)
    return -1;
  if (access && (strcmp (access, "no") == 0 || strcmp (access, "private") == 0) && !bike_ok)
    return -1;
  if (is_yes (tag (t, n, "area")))
    return -1;   /* squares are areas, not lines */
  int cls;
  if (!strcmp (hw, "primary") || !strcmp (hw, "primary_link") || !strcmp (hw, "trunk") ||
      !strcmp (hw, "trunk_link"))
    cls = FT_ROAD_ARTERIAL;
  else if (!strcmp (hw, "secondary") || !strcmp (hw, "secondary_link") || !strcmp (hw, "tertiary") ||
           !strcmp (hw, "tertiary_link"))
    cls = FT_ROAD_SECONDARY;
  else if (!strcmp (hw, "residential") || !strcmp (hw, "unclassified") || !strcmp (hw, "living_street") ||
           !strcmp (hw, "service") || !strcmp (hw, "road"))
    cls = FT_ROAD_RESIDENTIAL;
  else if (!strcmp (hw, "cycleway") || (!strcmp (hw, "path") && bike_ok))
    cls = FT_ROAD_CYCLEWAY;
  else if (!strcmp (hw, "footway") || !strcmp (hw, "pedestrian") || !strcmp (hw, "path") ||
           !strcmp (hw, "track"))
    cls = FT_ROAD_PATH;   /* ride slowly or push: keeps the network whole */
  else
    return -1;            /* motorways, steps, construction, proposed, platforms, … */
  if (cls != FT_ROAD_PATH && is_yes (tag (t, n, "bridge")))
    cls = FT_ROAD_BRIDGE;
  return cls;
}

static int
oneway_of (const FtOsmTag *t, size_t n, int cls)
{
  if (cls == FT_ROAD_PATH)
    return 0;
  const char *ob = tag (t, n, "oneway:bicycle"), *cw = tag (t, n, "cycleway");
  if (ob && strcmp (ob, "no") == 0)
    return 0;
  if (cw && g_str_has_prefix (cw, "opposite"))
    return 0;
  const char *ow = tag (t, n, "oneway");
  if (ow && strcmp (ow, "-1") == 0)
    return -1;
  if (is_yes (ow))
    return 1;
  const char *j = tag (t, n, "junction");
  if (j && (strcmp (j, "roundabout") == 0 || strcmp (j, "circular") == 0) && !(ow && strcmp (ow, "no") == 0))
    return 1;
  return 0;
}

static FtMultiPolygon *
closed_way_polygon (Ctx *c, const int64_t *refs, size_t n_refs)
{
  if (n_refs < 4 || refs[0] != refs[n_refs - 1])
    return NULL;
  g_autofree FtLatLon *pts = g_new (FtLatLon, n_refs);
  guint n = 0;
  for (size_t i = 0; i + 1 < n_refs; i++)
    {
      const ONode *o = find_node (c, refs[i]);
      if (o == NULL)
        return NULL;   /* clipped by the extract */
      pts[n++] = o->p;
    }
  FtMultiPolygon *mp = ft_multipolygon_new ();
  ft_multipolygon_add_ring (mp, pts, n);
  return mp;
}

static int
on_way (void *ud, int64_t id, const int64_t *refs, size_t n_refs, const FtOsmTag *t, size_t n)
{
  Ctx *c = ud;
  tick (c);
  c->n_ways_seen++;
  if (n_refs > 0)
    {
      AWay aw = { id, c->all_refs->len, (guint32) n_refs };
      if (c->all_ways->len > 0 && g_array_index (c->all_ways, AWay, c->all_ways->len - 1).id >= aw.id)
        c->ways_sorted = FALSE;
      g_array_append_val (c->all_ways, aw);
      g_array_append_vals (c->all_refs, refs, (guint) n_refs);
    }
  int cls = road_class (t, n);
  if (cls >= 0 && n_refs >= 2)
    {
      OWay ow = { c->refs->len, (guint32) n_refs, (guint8) cls, (gint8) oneway_of (t, n, cls) };
      g_array_append_vals (c->refs, refs, (guint) n_refs);
      g_array_append_val (c->ways, ow);
      c->stats.road_ways++;
      return 0;
    }
  const char *leisure = tag (t, n, "leisure"), *hw = tag (t, n, "highway"), *natural = tag (t, n, "natural");
  const char *waterway = tag (t, n, "waterway"), *landuse = tag (t, n, "landuse");
  if (natural && strcmp (natural, "coastline") == 0 && n_refs >= 2)
    {
      guint32 fw[2] = { c->coast_refs->len, (guint32) n_refs };
      g_array_append_vals (c->coast_refs, refs, (guint) n_refs);
      g_array_append_vals (c->coast_ways, fw, 2);
      return 0;
    }
  gboolean park = (leisure && (strcmp (leisure, "park") == 0 || strcmp (leisure, "garden") == 0)) ||
                  (hw && strcmp (hw, "pedestrian") == 0 && is_yes (tag (t, n, "area")));
  gboolean water = (natural && strcmp (natural, "water") == 0) || (waterway && strcmp (waterway, "riverbank") == 0) ||
                   (landuse && (strcmp (landuse, "reservoir") == 0 || strcmp (landuse, "basin") == 0));
  if (park || water)
    {
      FtMultiPolygon *mp = closed_way_polygon (c, refs, n_refs);
      if (mp == NULL)
        return 0;
      if (park)
        {
          g_ptr_array_add (c->parks, mp);
          c->stats.parks++;
          const char *name = tag (t, n, "name");
          g_ptr_array_add (c->park_names, name ? g_utf8_make_valid (name, -1)
                                               : g_strdup_printf ("%s %" G_GINT64_FORMAT,
                                                                  hw ? "Pedestrian area" : "Park", (gint64) id));
        }
      else
        {
          c->stats.water_areas++;
          if (c->water == NULL)
            c->water = ft_multipolygon_new ();
          ft_multipolygon_add_ring (c->water, mp->polys[0].rings[0].pts, mp->polys[0].rings[0].n);
          ft_multipolygon_free (mp);
        }
    }
  return 0;
}

static int
away_cmp (const void *a, const void *b)
{
  gint64 x = ((const AWay *) a)->id, y = ((const AWay *) b)->id;
  return (x > y) - (x < y);
}

typedef struct {
  gint64  node;      /* a segment's first or last node */
  guint32 seg;
  guint32 at_end;    /* 0: the segment starts there, 1: it ends there */
} SegEnd;

static int
segend_cmp (const void *a, const void *b)
{
  const SegEnd *x = a, *y = b;
  if (x->node != y->node)
    return x->node < y->node ? -1 : 1;
  if (x->seg != y->seg)
    return x->seg < y->seg ? -1 : 1;
  return (x->at_end > y->at_end) - (x->at_end < y->at_end);
}

/* Joins the outer member ways of a multipolygon relation into closed
 * rings (holes are ignored: parks and lakes are drawn and fenced whole).
 * Each ring starts at the first unused way in member order and grows at
 * its open end by the first unused way (in member order) that touches it.
 * The ways' ends are sorted once, so the join takes O(n log n) however many
 * members a (hostile) relation lists; a way listed twice is used once. */
static FtMultiPolygon *
relation_polygon (Ctx *c, const FtOsmMember *members, size_t n_members)
{
  if (!c->ways_sorted)
    {
      g_array_sort (c->all_ways, away_cmp);
      c->ways_sorted = TRUE;
    }
  g_autoptr(GArray) segs = g_array_new (FALSE, FALSE, sizeof (AWay));
  g_autoptr(GHashTable) seen = g_hash_table_new (g_int64_hash, g_int64_equal);
  for (size_t i = 0; i < n_members; i++)
    {
      const FtOsmMember *m = &members[i];
      if (m->type != FT_OSM_MEMBER_WAY || strcmp (m->role, "inner") == 0)
        continue;
      AWay key = { m->ref, 0, 0 };
      const AWay *aw = c->all_ways->len == 0 ? NULL
                       : bsearch (&key, c->all_ways->data, c->all_ways->len, sizeof (AWay), away_cmp);
      if (aw == NULL)
        return NULL;   /* clipped by the extract */
      if (aw->n < 2 || !g_hash_table_add (seen, (gpointer) &aw->id))
        continue;
      g_array_append_vals (segs, aw, 1);
    }
  guint n = segs->len;
  if (n == 0)
    return NULL;
  const gint64 *refs = (const gint64 *) c->all_refs->data;
  g_autofree SegEnd *ends = g_new (SegEnd, 2 * (gsize) n);
  g_autofree guint32 *cursor = g_new (guint32, 2 * (gsize) n);   /* per run of equal nodes: first maybe-unused */
  g_autofree guint8 *used = g_new0 (guint8, n);
  for (guint s = 0; s < n; s++)
    {
      const AWay *aw = &g_array_index (segs, AWay, s);
      ends[2 * s] = (SegEnd) { refs[aw->first], s, 0 };
      ends[2 * s + 1] = (SegEnd) { refs[aw->first + aw->n - 1], s, 1 };
    }
  qsort (ends, 2 * (gsize) n, sizeof (SegEnd), segend_cmp);
  for (guint k = 0; k < 2 * n; k++)
    cursor[k] = k;
  FtMultiPolygon *mp = NULL;
  g_autoptr(GArray) ring = g_array_new (FALSE, FALSE, sizeof (gint64));
  for (guint s = 0; s < n; s++)
    {
      if (used[s])
        continue;
      used[s] = 1;
      const AWay *first = &g_array_index (segs, AWay, s);
      g_array_set_size (ring, 0);
      g_array_append_vals (ring, refs + first->first, first->n);
      while (g_array_index (ring, gint64, 0) != g_array_index (ring, gint64, ring->len - 1))
        {
          gint64 end = g_array_index (ring, gint64, ring->len - 1);
          /* lower bound of end among the sorted ends */
          gsize lo = 0, hi = 2 * (gsize) n;
          while (lo < hi)
            {
              gsize mid = lo + (hi - lo) / 2;
              if (ends[mid].node < end)
                lo = mid + 1;
              else
                hi = mid;
            }
          if (lo == 2 * (gsize) n || ends[lo].node != end)
            break;
          guint32 *cur = &cursor[lo];
          while (*cur < 2 * n && ends[*cur].node == end && used[ends[*cur].seg])
            (*cur)++;
          if (*cur == 2 * n || ends[*cur].node != end)
            break;
          const SegEnd *e = &ends[*cur];
          used[e->seg] = 1;
          const AWay *aw = &g_array_index (segs, AWay, e->seg);
          if (e->at_end == 0)
            g_array_append_vals (ring, refs + aw->first + 1, aw->n - 1);
          else
            for (guint32 q = aw->n - 1; q-- > 0;)
              g_array_append_val (ring, refs[aw->first + q]);
        }
      if (ring->len >= 4 && g_array_index (ring, gint64, 0) == g_array_index (ring, gint64, ring->len - 1))
        {
          g_autofree FtLatLon *pts = g_new (FtLatLon, ring->len - 1);
          gboolean ok = TRUE;
          for (guint k = 0; k + 1 < ring->len && ok; k++)
            {
              const ONode *o = find_node (c, g_array_index (ring, gint64, k));
              if (o == NULL)
                ok = FALSE;
              else
                pts[k] = o->p;
            }
          if (ok)
            {
              if (mp == NULL)
                mp = ft_multipolygon_new ();
              ft_multipolygon_add_ring (mp, pts, ring->len - 1);
            }
        }
    }
  return mp;
}

static int
on_relation (void *ud, int64_t id, const FtOsmMember *members, size_t n_members,
             const FtOsmTag *t, size_t n)
{
  Ctx *c = ud;
  tick (c);
  const char *type = tag (t, n, "type");
  if (type == NULL || strcmp (type, "multipolygon") != 0)
    return 0;
  const char *leisure = tag (t, n, "leisure"), *natural = tag (t, n, "natural");
  const char *waterway = tag (t, n, "waterway"), *landuse = tag (t, n, "landuse");
  gboolean park = leisure && (strcmp (leisure, "park") == 0 || strcmp (leisure, "garden") == 0);
  gboolean water = (natural && strcmp (natural, "water") == 0) || (waterway && strcmp (waterway, "riverbank") == 0) ||
                   (landuse && (strcmp (landuse, "reservoir") == 0 || strcmp (landuse, "basin") == 0));
  if (!park && !water)
    return 0;
  FtMultiPolygon *mp = relation_polygon (c, members, n_members);
  if (mp == NULL)
    return 0;
  for (guint p = 0; p < mp->n_polys; p++)
    {
      const FtRing *ring = &mp->polys[p].rings[0];
      if (park)
        {
          FtMultiPolygon *one = ft_multipolygon_new ();
          ft_multipolygon_add_ring (one, ring->pts, ring->n);
          g_ptr_array_add (c->parks, one);
          const char *name = tag (t, n, "name");
          g_ptr_array_add (c->park_names, name ? g_utf8_make_valid (name, -1)
                                               : g_strdup_printf ("Park %" G_GINT64_FORMAT, (gint64) id));
          c->stats.parks++;
        }
      else
        {
          if (c->water == NULL)
            c->water = ft_multipolygon_new ();
          ft_multipolygon_add_ring (c->water, ring->pts, ring->n);
          c->stats.water_areas++;
        }
    }
  ft_multipolygon_free (mp);
  return 0;
}

/* ---- building the city ------------------------------------------------ */

typedef struct { double x, y; } P2;

#define OSM_MAX_SPAN_KM 200

static double
cross (P2 o, P2 a, P2 b)
{
  return (a.x - o.x) * (b.y - o.y) - (a.y - o.y) * (b.x - o.x);
}

static int
p2_cmp (const void *a, const void *b)
{
  const P2 *p = a, *q = b;
  if (p->x != q->x) return p->x < q->x ? -1 : 1;
  return (p->y > q->y) - (p->y < q->y);
}

/* Convex hull (monotone chain); returns count, hull in out (size n + 1). */
static guint
convex_hull (P2 *pts, guint n, P2 *out)
{
  qsort (pts, n, sizeof (P2), p2_cmp);
  guint k = 0;
  for (guint i = 0; i < n; i++)
    {
      while (k >= 2 && cross (out[k - 2], out[k - 1], pts[i]) <= 0)
        k--;
      out[k++] = pts[i];
    }
  for (guint i = n - 1, t = k + 1; i-- > 0;)
    {
      while (k >= t && cross (out[k - 2], out[k - 1], pts[i]) <= 0)
        k--;
      out[k++] = pts[i];
    }
  return k > 1 ? k - 1 : k;
}

static char *
slugify (const char *name)
{
  g_autofree char *low = g_utf8_strdown (name, -1);
  GString *s = g_string_new (NULL);
  for (const char *p = low; *p; p++)
    {
      if (g_ascii_isalnum (*p))
        g_string_append_c (s, *p);
      else if (s->len > 0 && s->str[s->len - 1] != '-')
        g_string_append_c (s, '-');
    }
  while (s->len > 0 && s->str[s->len - 1] == '-')
    g_string_truncate (s, s->len - 1);
  if (s->len == 0)
    g_string_append (s, "city");
  return g_string_free (s, FALSE);
}

/* The sea inside box grown by 1 km, from the coastline ways whose nodes
 * the extract holds (a way is split where a node is missing). */
static FtMultiPolygon *
coast_sea (Ctx *ctx, const FtBBox *bbox)
{
  guint n_ways = ctx->coast_ways->len / 2;
  if (n_ways == 0)
    return NULL;
  const guint32 *fw = (const guint32 *) ctx->coast_ways->data;
  const gint64 *refs = (const gint64 *) ctx->coast_refs->data;
  g_autoptr(GArray) ids = g_array_sized_new (FALSE, FALSE, sizeof (gint64), ctx->coast_refs->len);
  g_autoptr(GArray) pts = g_array_sized_new (FALSE, FALSE, sizeof (FtLatLon), ctx->coast_refs->len);
  g_autoptr(GArray) spans = g_array_new (FALSE, FALSE, sizeof (guint32) * 2);
  for (guint w = 0; w < n_ways; w++)
    {
      guint32 start = ids->len;
      for (guint32 k = 0; k < fw[2 * w + 1]; k++)
        {
          const ONode *o = find_node (ctx, refs[fw[2 * w] + k]);
          if (o == NULL || k + 1 == fw[2 * w + 1])
            {
              if (o)
                {
                  g_array_append_val (ids, o->id);
                  g_array_append_val (pts, o->p);
                }
              if (ids->len - start >= 2)
                {
                  guint32 sp[2] = { start, ids->len - start };
                  g_array_append_vals (spans, sp, 1);
                }
              start = ids->len;
              continue;
            }
          g_array_append_val (ids, o->id);
          g_array_append_val (pts, o->p);
        }
    }
  guint n = spans->len;
  g_autofree FtCoastWay *cw = g_new0 (FtCoastWay, MAX (n, 1));
  for (guint i = 0; i < n; i++)
    {
      const guint32 *sp = &g_array_index (spans, guint32, 2 * i);
      cw[i] = (FtCoastWay) { (const gint64 *) ids->data + sp[0], (const FtLatLon *) pts->data + sp[0], sp[1] };
    }
  double dlat = 1000.0 / 111320.0;
  double dlon = dlat / MAX (cos ((bbox->min_lat + bbox->max_lat) / 2 * G_PI / 180.0), 0.01);
  FtBBox box = { bbox->min_lat - dlat, bbox->min_lon - dlon, bbox->max_lat + dlat, bbox->max_lon + dlon };
  return ft_coast_sea (cw, n, &box);
}

static FtCity *
build_city (Ctx *ctx, const char *pbf_path, const char *name, FtCityProgressFunc progress,
            gpointer user_data, GError **error)
{
  FtCity *city = NULL;
  /* road nodes: those referenced by usable ways and present in the file */
  GHashTable *index = g_hash_table_new (g_int64_hash, g_int64_equal);
  g_autoptr(GArray) gnodes = g_array_new (FALSE, FALSE, sizeof (FtLatLon));
  g_autoptr(GArray) streets = g_array_new (FALSE, FALSE, sizeof (FtStreet));
  guint missing = 0;
  for (guint w = 0; w < ctx->ways->len; w++)
    {
      const OWay *ow = &g_array_index (ctx->ways, OWay, w);
      gint32 prev = -1;
      for (guint k = 0; k < ow->n_refs; k++)
        {
          gint64 *ref = &g_array_index (ctx->refs, gint64, ow->first_ref + k);
          gpointer val;
          gint32 cur;
          if (g_hash_table_lookup_extended (index, ref, NULL, &val))
            cur = GPOINTER_TO_INT (val) - 1;
          else
            {
              const ONode *o = find_node (ctx, *ref);
              if (o == NULL)
                {
                  missing++;
                  prev = -1;
                  continue;
                }
              cur = (gint32) gnodes->len;
              g_array_append_val (gnodes, o->p);
              g_hash_table_insert (index, ref, GINT_TO_POINTER (cur + 1));
            }
          if (prev >= 0 && prev != cur)
            {
              FtStreet s = { (guint32) prev, (guint32) cur, 0, ow->cls, ow->oneway != 0 };
              if (ow->oneway < 0)
                s.from = (guint32) cur, s.to = (guint32) prev;
              s.length_m = (float) ft_city_haversine_m (g_array_index (gnodes, FtLatLon, prev),
                                                        g_array_index (gnodes, FtLatLon, cur));
              g_array_append_val (streets, s);
            }
          prev = cur;
        }
    }
  g_hash_table_unref (index);
  if (streets->len == 0)
    {
      g_set_error (error, FT_CITY_ERROR, FT_CITY_ERROR_INVALID,
                   "%s: no streets usable by bikes or scooters were found (%u nodes, %" G_GUINT64_FORMAT " ways read)",
                   pbf_path, ctx->nodes->len, ctx->n_ways_seen);
      return NULL;
    }

  city = g_new0 (FtCity, 1);
  /* keep the largest weakly connected piece */
  FtRoadGraph full = { 0 };
  ft_road_graph_build (&full, (FtLatLon *) gnodes->data, gnodes->len,
                       (FtStreet *) streets->data, streets->len);
  g_autofree guint32 *labels = NULL;
  guint largest = 0;
  ft_road_graph_components (&full, &labels, &largest);
  g_autofree guint32 *newidx = g_new (guint32, gnodes->len);
  g_autoptr(GArray) kept = g_array_new (FALSE, FALSE, sizeof (FtLatLon));
  for (guint v = 0; v < gnodes->len; v++)
    if (labels[v] == largest)
      {
        newidx[v] = kept->len;
        g_array_append_val (kept, g_array_index (gnodes, FtLatLon, v));
      }
    else
      newidx[v] = G_MAXUINT32;
  guint w = 0;
  for (guint i = 0; i < streets->len; i++)
    {
      FtStreet s = g_array_index (streets, FtStreet, i);
      if (newidx[s.from] == G_MAXUINT32 || newidx[s.to] == G_MAXUINT32)
        continue;
      s.from = newidx[s.from];
      s.to = newidx[s.to];
      g_array_index (streets, FtStreet, w++) = s;
    }
  g_array_set_size (streets, w);
  ctx->stats.street_nodes = full.n_nodes;
  ctx->stats.largest_share = (double) kept->len / full.n_nodes;
  ctx->stats.refs_outside = missing;
  ft_road_graph_clear (&full);
  ft_road_graph_build (&city->graph, (FtLatLon *) kept->data, kept->len,
                       (FtStreet *) streets->data, streets->len);
  const FtRoadGraph *g = &city->graph;

  city->id = slugify (name);
  city->name = g_strdup (name);
  memcpy (city->currency, "EUR", 4);
  FtBBox nb;
  ft_bbox_init_empty (&nb);
  for (guint v = 0; v < g->n_nodes; v++)
    ft_bbox_extend (&nb, g->nodes[v]);
  city->center = (FtLatLon) { (nb.min_lat + nb.max_lat) / 2, (nb.min_lon + nb.max_lon) / 2 };
  /* the zone grid and the local projection are sized for a city: a street
   * to a misplaced node on another continent must not make them huge */
  double ns_km = ft_city_haversine_m ((FtLatLon) { nb.min_lat, city->center.lon },
                                      (FtLatLon) { nb.max_lat, city->center.lon }) / 1000;
  double ew_km = (nb.max_lon - nb.min_lon) > 90 ? G_MAXDOUBLE
                 : ft_city_haversine_m ((FtLatLon) { city->center.lat, nb.min_lon },
                                        (FtLatLon) { city->center.lat, nb.max_lon }) / 1000;
  if (ns_km > OSM_MAX_SPAN_KM || ew_km > OSM_MAX_SPAN_KM)
    {
      g_set_error (error, FT_CITY_ERROR, FT_CITY_ERROR_INVALID,
                   "%s: the streets span %.0f km north-south by %.0f km east-west; a city may be at most %d km "
                   "across (lat %.5f..%.5f, lon %.5f..%.5f: is a node misplaced?)",
                   pbf_path, ns_km, MIN (ew_km, 40075.0), OSM_MAX_SPAN_KM,
                   nb.min_lat, nb.max_lat, nb.min_lon, nb.max_lon);
      ft_city_free (city);
      return NULL;
    }
  if (ctx->utc_offset_min != FT_UTC_OFFSET_ESTIMATE)
    city->utc_offset_min = ctx->utc_offset_min;
  else if (city->center.lat > 35 && city->center.lat < 72 && city->center.lon > -6 && city->center.lon < 20)
    city->utc_offset_min = 60;     /* Central European Time */
  else
    city->utc_offset_min = (int) lround (city->center.lon / 15.0) * 60;
  FtProj pr;
  ft_proj_init (&pr, city->center);

  /* operating area: convex hull of the streets grown by 100 m */
  g_autofree P2 *pts = g_new (P2, g->n_nodes);
  g_autofree P2 *hull = g_new (P2, g->n_nodes + 1);
  for (guint v = 0; v < g->n_nodes; v++)
    ft_proj_from_ll (&pr, g->nodes[v], &pts[v].x, &pts[v].y);
  guint nh = convex_hull (pts, g->n_nodes, hull);
  if (nh < 3)
    {
      g_set_error (error, FT_CITY_ERROR, FT_CITY_ERROR_INVALID, "%s: the streets cover no area", pbf_path);
      ft_city_free (city);
      return NULL;
    }
  double cx = 0, cy = 0;
  for (guint i = 0; i < nh; i++)
    cx += hull[i].x / nh, cy += hull[i].y / nh;
  g_autofree FtLatLon *ring = g_new (FtLatLon, nh);
  for (guint i = 0; i < nh; i++)
    {
      double dx = hull[i].x - cx, dy = hull[i].y - cy, d = hypot (dx, dy);
      double grow = d > 0 ? (d + 100) / d : 1;
      ring[i] = ft_proj_to_ll (&pr, cx + dx * grow, cy + dy * grow);
    }
  city->operating_area = ft_multipolygon_new ();
  ft_multipolygon_add_ring (city->operating_area, ring, nh);
  city->bbox = city->operating_area->bbox;
  /* the sea, from the coastline, over the area the map shows (the box
   * grown by 1 km): drawn as water, and cut out of the operating area and
   * the zones, so nothing is placed or parked at sea */
  g_autoptr(FtMultiPolygon) sea = coast_sea (ctx, &city->bbox);
  if (sea && ft_coast_cut_sea (city->operating_area, sea) > 0.95)
    {
      /* the streets stand on land: a coast that puts (nearly) all of them
       * at sea is broken (drawn the wrong way round, cut by the extract),
       * so there is no sea */
      g_clear_pointer (&sea, ft_multipolygon_free);
      ft_multipolygon_free (city->operating_area);
      city->operating_area = ft_multipolygon_new ();
      ft_multipolygon_add_ring (city->operating_area, ring, nh);
    }
  /* (MAX: never NaN or negative, whatever a hostile coast cut out) */
  double op_km2 = MAX (ft_multipolygon_area_m2 (city->operating_area) / 1e6, 0.01);
  if (progress)
    progress (0.85, user_data);

  /* hexagonal zones (flat-top), about 60 over the operating area */
  double R = CLAMP (sqrt (op_km2 * 1e6 / (60 * 2.598)), 200, 800);
  double hx = 1.5 * R, hy = sqrt (3) * R;
  double x0, y0, x1, y1;
  ft_proj_from_ll (&pr, (FtLatLon) { city->bbox.min_lat, city->bbox.min_lon }, &x0, &y0);
  ft_proj_from_ll (&pr, (FtLatLon) { city->bbox.max_lat, city->bbox.max_lon }, &x1, &y1);
  int ncol = (int) ceil ((x1 - x0) / hx) + 2, nrow = (int) ceil ((y1 - y0) / hy) + 2;
  g_autofree double *weight = g_new0 (double, (gsize) ncol * nrow);
  for (guint v = 0; v < g->n_nodes; v++)
    {
      double x, y;
      ft_proj_from_ll (&pr, g->nodes[v], &x, &y);
      int bc = (int) floor ((x - x0) / hx);
      int best = -1;
      double bd = G_MAXDOUBLE;
      for (int col = bc - 1; col <= bc + 2; col++)
        {
          if (col < 0 || col >= ncol)
            continue;
          double off = (col & 1) ? hy / 2 : 0;
          int br = (int) floor ((y - y0 - off) / hy);
          for (int row = br - 1; row <= br + 2; row++)
            {
              if (row < 0 || row >= nrow)
                continue;
              double hcx = x0 + col * hx, hcy = y0 + off + row * hy;
              double d = hypot (x - hcx, y - hcy);
              if (d < bd)
                bd = d, best = row * ncol + col;
            }
        }
      if (best >= 0)
        for (guint32 e = g->first_edge[v]; e < g->first_edge[v + 1]; e++)
          weight[best] += g->edges[e].length_m / 1000.0;
    }
  g_autoptr(GArray) zones = g_array_new (FALSE, TRUE, sizeof (FtZone));
  g_autoptr(GArray) zweight = g_array_new (FALSE, FALSE, sizeof (double));
  for (int row = 0; row < nrow; row++)
    for (int col = 0; col < ncol; col++)
      {
        double wkm = weight[row * ncol + col];
        if (wkm < 0.3)   /* less than ~150 m of street: no zone */
          continue;
        double hcx = x0 + col * hx, hcy = y0 + ((col & 1) ? hy / 2 : 0) + row * hy;
        FtLatLon hex[6];
        for (int k = 0; k < 6; k++)
          hex[k] = ft_proj_to_ll (&pr, hcx + R * cos (k * G_PI / 3), hcy + R * sin (k * G_PI / 3));
        FtZone z = { 0 };
        z.id = g_strdup_printf ("H%03u", zones->len + 1);
        z.kind = FT_ZONE_MIXED;
        FtLatLon centre = ft_proj_to_ll (&pr, hcx, hcy);
        for (guint p = 0; p < ctx->parks->len; p++)
          if (ft_multipolygon_contains (g_ptr_array_index (ctx->parks, p), centre))
            z.kind = FT_ZONE_PARK;
        z.name = g_strdup_printf ("%s %c%d", z.kind == FT_ZONE_PARK ? "Park" : "Zone",
                                  'A' + (char) (col % 26), row + 1);
        z.area = ft_multipolygon_new ();
        ft_multipolygon_add_ring (z.area, hex, 6);
        if (sea && ft_coast_cut_sea (z.area, sea) > 0.9)
          {
            /* (almost) all sea: a pier's streets are not a zone */
            ft_multipolygon_free (z.area);
            g_free (z.id);
            g_free (z.name);
            continue;
          }
        z.centroid = ft_multipolygon_centroid (z.area);
        z.area_km2 = ft_multipolygon_area_m2 (z.area) / 1e6;
        z.pricing_multiplier = 1.0;
        g_array_append_val (zones, z);
        g_array_append_val (zweight, wkm);
      }
  city->n_zones = zones->len;
  city->zones = (FtZone *) g_array_free (g_steal_pointer (&zones), FALSE);
  if (progress)
    progress (0.9, user_data);

  /* demand: Demo City's shapes, 150 requests per km2 of operating area per
   * day (Demo City's density), mean straight-line trip 1.6 km or less */
  ft_demand_build_default (city, (double *) zweight->data, 150.0 * op_km2,
                           MIN (1600.0, 0.35 * sqrt (op_km2 * 1e6)));

  /* depots: k-means on street nodes (deterministic start: spread over the
   * sorted node list), snapped to the nearest node */
  guint k = (guint) CLAMP (lround (op_km2 / 8.0), 2, 6);
  g_autofree P2 *cent = g_new (P2, k);
  for (guint i = 0; i < k; i++)
    ft_proj_from_ll (&pr, g->nodes[(gsize) g->n_nodes * (2 * i + 1) / (2 * k)], &cent[i].x, &cent[i].y);
  g_autofree P2 *sum = g_new (P2, k);
  g_autofree guint *cnt = g_new (guint, k);
  for (int it = 0; it < 20; it++)
    {
      memset (sum, 0, sizeof (P2) * k);
      memset (cnt, 0, sizeof (guint) * k);
      for (guint v = 0; v < g->n_nodes; v++)
        {
          double x, y;
          ft_proj_from_ll (&pr, g->nodes[v], &x, &y);
          guint bi = 0;
          double bd = G_MAXDOUBLE;
          for (guint i = 0; i < k; i++)
            {
              double d = (x - cent[i].x) * (x - cent[i].x) + (y - cent[i].y) * (y - cent[i].y);
              if (d < bd)
                bd = d, bi = i;
            }
          sum[bi].x += x, sum[bi].y += y, cnt[bi]++;
        }
      for (guint i = 0; i < k; i++)
        if (cnt[i])
          cent[i].x = sum[i].x / cnt[i], cent[i].y = sum[i].y / cnt[i];
    }
  ft_city_build_index (city);
  city->n_depots = k;
  city->depots = g_new0 (FtDepot, k);
  for (guint i = 0; i < k; i++)
    {
      city->depots[i].id = g_strdup_printf ("depot-%u", i + 1);
      city->depots[i].name = g_strdup_printf ("Depot %u", i + 1);
      city->depots[i].pos = g->nodes[ft_city_nearest_node (city, ft_proj_to_ll (&pr, cent[i].x, cent[i].y))];
      city->depots[i].chargers = 30;
      city->depots[i].pack_stock = 90;
    }

  /* geofences: parks and pedestrian areas of at least 0.5 ha as no-parking
   * candidates, then the operating area; outside it no start or end */
  city->geofences = ft_geofences_new ();
  FtZoneRules no_park = ft_zone_rules_all_allowed ();
  no_park.ride_end_allowed = FALSE;
  guint n_fences = 0;
  for (guint p = 0; p < ctx->parks->len; p++)
    {
      FtMultiPolygon *mp = g_ptr_array_index (ctx->parks, p);
      if (ft_multipolygon_area_m2 (mp) < 5000 || !ft_multipolygon_contains (city->operating_area, ft_multipolygon_centroid (mp)))
        continue;
      g_autofree char *id = g_strdup_printf ("no-parking-%u", ++n_fences);
      g_autofree char *fname = g_strdup_printf ("%s (no parking)", (char *) g_ptr_array_index (ctx->park_names, p));
      ft_geofences_add (city->geofences, id, fname, ft_multipolygon_copy (mp), &no_park);
      if (city->parks == NULL)
        city->parks = ft_multipolygon_new ();
      ft_multipolygon_add_ring (city->parks, mp->polys[0].rings[0].pts, mp->polys[0].rings[0].n);
    }
  FtZoneRules inside = ft_zone_rules_all_allowed ();
  ft_geofences_add (city->geofences, "operating-area", "Operating area",
                    ft_multipolygon_copy (city->operating_area), &inside);
  FtZoneRules outside = ft_zone_rules_all_allowed ();
  outside.ride_start_allowed = FALSE;
  outside.ride_end_allowed = FALSE;
  ft_geofences_set_global_rules (city->geofences, &outside);
  city->water = g_steal_pointer (&ctx->water);
  if (sea)
    {
      if (city->water == NULL)
        city->water = ft_multipolygon_new ();
      for (guint p = 0; p < sea->n_polys; p++)
        {
          const FtPolygon *poly = &sea->polys[p];
          guint sp = ft_multipolygon_add_ring (city->water, poly->rings[0].pts, poly->rings[0].n);
          for (guint r = 1; r < poly->n_rings; r++)
            ft_multipolygon_add_hole (city->water, sp, poly->rings[r].pts, poly->rings[r].n);
        }
    }
  ft_city_build_index (city);

  g_autoptr(GError) local = NULL;
  if (!ft_city_check (city, &local))
    {
      g_set_error (error, FT_CITY_ERROR, FT_CITY_ERROR_INVALID, "%s: imported city is invalid: %s",
                   pbf_path, local->message);
      ft_city_free (city);
      return NULL;
    }
  if (progress)
    progress (1.0, user_data);
  return city;

}

FtCity *
ft_city_import_osm (const char *pbf_path, const char *name, FtCityProgressFunc progress,
                    gpointer user_data, GError **error)
{
  return ft_city_import_osm_full (pbf_path, name, FT_UTC_OFFSET_ESTIMATE, progress, user_data, NULL, error);
}

FtCity *
ft_city_import_osm_full (const char *pbf_path, const char *name, int utc_offset_min,
                         FtCityProgressFunc progress, gpointer user_data,
                         FtOsmStats *stats_out, GError **error)
{
  g_return_val_if_fail (pbf_path != NULL && name != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);
  if (!g_file_test (pbf_path, G_FILE_TEST_IS_REGULAR))
    {
      g_set_error (error, FT_CITY_ERROR, FT_CITY_ERROR_IO, "%s: no such file", pbf_path);
      return NULL;
    }
  g_autoptr(GError) local = NULL;
  g_autoptr(GMappedFile) map = g_mapped_file_new (pbf_path, FALSE, &local);
  if (map == NULL)
    {
      g_set_error (error, FT_CITY_ERROR, FT_CITY_ERROR_IO, "%s", local->message);
      return NULL;
    }
  const guint8 *data = (const guint8 *) g_mapped_file_get_contents (map);
  gsize len = g_mapped_file_get_length (map);
  guint n_blocks = 0;
  if (!check_pbf_framing (pbf_path, data, len, &n_blocks, error))
    return NULL;

  Ctx c = { 0 };
  c.nodes = g_array_new (FALSE, FALSE, sizeof (ONode));
  c.sorted = TRUE;
  c.refs = g_array_new (FALSE, FALSE, sizeof (gint64));
  c.ways = g_array_new (FALSE, FALSE, sizeof (OWay));
  c.parks = g_ptr_array_new_with_free_func ((GDestroyNotify) ft_multipolygon_free);
  c.park_names = g_ptr_array_new_with_free_func (g_free);
  c.progress = progress;
  c.user_data = user_data;
  c.est_elems = (guint64) len / 9 + 1;
  c.utc_offset_min = utc_offset_min;
  c.all_ways = g_array_new (FALSE, FALSE, sizeof (AWay));
  c.all_refs = g_array_new (FALSE, FALSE, sizeof (gint64));
  c.ways_sorted = TRUE;
  c.coast_refs = g_array_new (FALSE, FALSE, sizeof (gint64));
  c.coast_ways = g_array_new (FALSE, FALSE, sizeof (guint32));
  FtCity *city = NULL;

  static const FtOsmReaderCallbacks callbacks = { on_node, on_way, on_relation };
  char *why = NULL;
  if (ft_osm_reader_read_pbf (data, len, &callbacks, &c, &why) != FT_OSM_READ_OK)
    {
      g_set_error (error, FT_CITY_ERROR, FT_CITY_ERROR_PARSE, "%s: not a valid OSM PBF (%s)",
                   pbf_path, why ? why : "out of memory");
      free (why);
      goto out;
    }
  if (progress)
    progress (0.8, user_data);

  c.stats.osm_nodes = c.nodes->len;
  c.stats.osm_ways = (guint) c.n_ways_seen;
  city = build_city (&c, pbf_path, name, progress, user_data, error);
  if (city && stats_out)
    *stats_out = c.stats;

out:
  g_array_free (c.nodes, TRUE);
  g_array_free (c.refs, TRUE);
  g_array_free (c.ways, TRUE);
  g_array_free (c.all_ways, TRUE);
  g_array_free (c.all_refs, TRUE);
  g_ptr_array_free (c.parks, TRUE);
  g_ptr_array_free (c.park_names, TRUE);
  g_clear_pointer (&c.water, ft_multipolygon_free);
  g_array_free (c.coast_refs, TRUE);
  g_array_free (c.coast_ways, TRUE);
  return city;
}
