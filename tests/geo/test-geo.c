/* test-geo.c — Check tests for src/geo: bounding boxes, multipolygons with
 * holes, area/centroid, GeoJSON in/out and its refusals, the grid index
 * against brute force, and GBFS geofencing_zones (3.0 fixture, 2.3 shape,
 * first-matching-zone semantics, global rules, malformed input, export).
 */
#include <check.h>
#include <json-glib/json-glib.h>
#include <string.h>
#include <math.h>

#include "ft-config.h"
#include "ft-test.h"
#include "ft-geo.h"
#include "ft-geofence.h"

static const FtLatLon origin = { 52.5200, 13.4050 };

/* A square of side `m` metres centred on c, counter-clockwise. */
static void
square (FtLatLon c, double m, FtLatLon out[4])
{
  out[0] = ft_latlon_offset (c, -m / 2, -m / 2);
  out[1] = ft_latlon_offset (c, m / 2, -m / 2);
  out[2] = ft_latlon_offset (c, m / 2, m / 2);
  out[3] = ft_latlon_offset (c, -m / 2, m / 2);
}

START_TEST (test_bbox)
{
  FtBBox b;

  ft_bbox_init_empty (&b);
  ck_assert (!ft_bbox_contains (&b, origin));
  ft_bbox_extend (&b, (FtLatLon) { 1, 2 });
  ft_bbox_extend (&b, (FtLatLon) { -1, 4 });
  ck_assert (ft_bbox_contains (&b, (FtLatLon) { 0, 3 }));
  ck_assert (ft_bbox_contains (&b, (FtLatLon) { 1, 2 }));
  ck_assert (!ft_bbox_contains (&b, (FtLatLon) { 0, 5 }));
  ck_assert_double_eq (b.min_lat, -1);
  ck_assert_double_eq (b.max_lon, 4);
}
END_TEST

START_TEST (test_polygon_hole)
{
  g_autoptr(FtMultiPolygon) mp = ft_multipolygon_new ();
  g_autoptr(FtMultiPolygon) cp = NULL;
  FtLatLon outer[5], hole[4];
  guint idx;
  FtLatLon c;

  square (origin, 1000, outer);
  outer[4] = outer[0];                      /* closed ring: closing point dropped */
  square (origin, 200, hole);
  idx = ft_multipolygon_add_ring (mp, outer, 5);
  ck_assert_uint_eq (idx, 0);
  ck_assert_uint_eq (mp->polys[0].rings[0].n, 4);
  ft_multipolygon_add_hole (mp, idx, hole, 4);

  ck_assert (!ft_multipolygon_contains (mp, origin));                          /* in the hole */
  ck_assert (ft_multipolygon_contains (mp, ft_latlon_offset (origin, 300, 0)));
  ck_assert (ft_multipolygon_contains (mp, ft_latlon_offset (origin, -450, 450)));
  ck_assert (!ft_multipolygon_contains (mp, ft_latlon_offset (origin, 600, 0)));
  ck_assert (!ft_multipolygon_contains (mp, ft_latlon_offset (origin, 0, -501)));
  ck_assert_double_eq_tol (ft_multipolygon_area_m2 (mp), 1e6 - 4e4, 1e6 * 0.005);
  c = ft_multipolygon_centroid (mp);
  ck_assert_double_le (ft_distance_m (c, origin), 1.0);

  /* Second polygon, clockwise: area still adds, centroid moves east. */
  {
    FtLatLon sq[4], cw[4];
    FtLatLon far = ft_latlon_offset (origin, 3000, 0);
    int i;

    square (far, 1000, sq);
    for (i = 0; i < 4; i++)
      cw[i] = sq[3 - i];
    ft_multipolygon_add_ring (mp, cw, 4);
    ck_assert (ft_multipolygon_contains (mp, far));
    ck_assert_double_eq_tol (ft_multipolygon_area_m2 (mp), 2e6 - 4e4, 2e6 * 0.005);
    c = ft_multipolygon_centroid (mp);
    ck_assert_double_gt (c.lon, origin.lon);
    ck_assert_double_lt (c.lon, far.lon);
  }
  cp = ft_multipolygon_copy (mp);
  ck_assert_uint_eq (cp->n_polys, 2);
  ck_assert_uint_eq (cp->polys[0].n_rings, 2);
  ck_assert (cp->polys[0].rings[0].pts != mp->polys[0].rings[0].pts);
  ck_assert (!ft_multipolygon_contains (cp, origin));
  ck_assert_double_eq (ft_multipolygon_area_m2 (cp), ft_multipolygon_area_m2 (mp));

  /* Empty multipolygon. */
  {
    g_autoptr(FtMultiPolygon) e = ft_multipolygon_new ();
    ck_assert (!ft_multipolygon_contains (e, origin));
    ck_assert_double_eq (ft_multipolygon_area_m2 (e), 0);
  }
}
END_TEST

static JsonNode *
parse (const char *json)
{
  g_autoptr(JsonParser) p = json_parser_new ();

  ck_assert (json_parser_load_from_data (p, json, -1, NULL));
  return json_node_copy (json_parser_get_root (p));
}

START_TEST (test_geojson)
{
  const char *poly =
    "{\"type\":\"Polygon\",\"coordinates\":["
    "[[0,0],[10,0],[10,10],[0,10],[0,0]],"
    "[[4,4],[6,4],[6,6],[4,6],[4,4]]]}";
  g_autoptr(JsonNode) n = parse (poly);
  g_autoptr(GError) error = NULL;
  g_autoptr(FtMultiPolygon) mp = ft_multipolygon_from_geojson (n, &error);
  g_autoptr(FtMultiPolygon) back = NULL;
  g_autoptr(JsonNode) out = NULL;

  ck_assert_ptr_nonnull (mp);
  ck_assert_uint_eq (mp->n_polys, 1);
  ck_assert_uint_eq (mp->polys[0].n_rings, 2);
  ck_assert (ft_multipolygon_contains (mp, (FtLatLon) { 2, 2 }));   /* lat 2, lon 2 */
  ck_assert (!ft_multipolygon_contains (mp, (FtLatLon) { 5, 5 }));
  ck_assert (!ft_multipolygon_contains (mp, (FtLatLon) { 11, 5 }));

  out = ft_multipolygon_to_geojson (mp);
  ck_assert_str_eq (json_object_get_string_member (json_node_get_object (out), "type"), "MultiPolygon");
  back = ft_multipolygon_from_geojson (out, &error);
  ck_assert_ptr_nonnull (back);
  ck_assert_uint_eq (back->polys[0].n_rings, 2);
  ck_assert_uint_eq (back->polys[0].rings[1].n, 4);
  ck_assert_double_eq (back->polys[0].rings[0].pts[1].lon, 10);
  ck_assert_double_eq (back->polys[0].rings[0].pts[1].lat, 0);
}
END_TEST

static void
expect_geojson_error (const char *json, const char *fragment)
{
  g_autoptr(JsonNode) n = parse (json);
  g_autoptr(GError) error = NULL;
  FtMultiPolygon *mp = ft_multipolygon_from_geojson (n, &error);

  ck_assert_ptr_null (mp);
  ck_assert_ptr_nonnull (error);
  ck_assert_msg (strstr (error->message, fragment) != NULL,
                 "error \"%s\" should mention \"%s\"", error->message, fragment);
}

START_TEST (test_geojson_refused)
{
  expect_geojson_error ("{\"type\":\"Point\",\"coordinates\":[1,2]}", "Point");
  expect_geojson_error ("{\"coordinates\":[]}", "geometry.type");
  expect_geojson_error ("{\"type\":\"Polygon\"}", "geometry.coordinates");
  expect_geojson_error ("{\"type\":\"Polygon\",\"coordinates\":[[[0,0],[1,1],[0,0]]]}", "at least 3");
  expect_geojson_error ("{\"type\":\"Polygon\",\"coordinates\":[[[0,0],[1,\"x\"],[2,2]]]}", "position 1");
  expect_geojson_error ("{\"type\":\"Polygon\",\"coordinates\":[[[0,0],[1,95],[2,2]]]}", "WGS84");
  expect_geojson_error ("{\"type\":\"MultiPolygon\",\"coordinates\":[]}", "at least one polygon");
  expect_geojson_error ("{\"type\":\"MultiPolygon\",\"coordinates\":[[[[0,0],[1,0],[1,1]]],[[[0,0]]]]}",
                        "polygon 1 ring 0");
  expect_geojson_error ("[1,2]", "expected a GeoJSON object");
  /* a member of the wrong type is an error, never a GLib critical */
  expect_geojson_error ("{\"type\":{},\"coordinates\":[]}", "geometry.type");
  expect_geojson_error ("{\"type\":[\"Polygon\"],\"coordinates\":[]}", "geometry.type");
  expect_geojson_error ("{\"type\":7,\"coordinates\":[]}", "geometry.type");
}
END_TEST

typedef struct {
  GHashTable *seen;
  guint stop_after;
} Visit;

static gboolean
collect (guint id, FtLatLon pos, double dist, gpointer user_data)
{
  Visit *v = user_data;

  g_hash_table_add (v->seen, GUINT_TO_POINTER (id + 1));
  return v->stop_after == 0 || g_hash_table_size (v->seen) < v->stop_after;
}

typedef struct {
  const FtLatLon *pos;
  guint n_seen;
  guint bad_pos;
  guint last_cell_row, last_cell_col;
} FineVisit;

static gboolean
fine_collect (guint id, FtLatLon pos, double d, gpointer user_data)
{
  FineVisit *v = user_data;

  v->n_seen++;
  /* the position a visit reports is the id's latest, even after a move
   * within its cell */
  if (pos.lat != v->pos[id].lat || pos.lon != v->pos[id].lon)
    v->bad_pos++;
  return TRUE;
}

/* A fine grid (rows of 300 cells, so a query's row spans several words of
 * the occupied-cell bitmap), mostly empty, with moves inside a cell, moves
 * out of it, cells emptied and filled again: every query finds exactly
 * what brute force finds, at the latest positions. */
START_TEST (test_grid_fine_sparse)
{
  FtBBox b;
  g_autoptr(FtGridIndex) g = NULL;
  g_autoptr(GRand) rng = g_rand_new_with_seed (7);
  const guint N = 400;
  FtLatLon pos[400];
  gboolean live[400];
  guint i, q, round;

  ft_bbox_init_empty (&b);
  ft_bbox_extend (&b, ft_latlon_offset (origin, -1500, -1500));
  ft_bbox_extend (&b, ft_latlon_offset (origin, 1500, 1500));
  g = ft_grid_index_new (b, 10);
  for (i = 0; i < N; i++)
    {
      pos[i] = ft_latlon_offset (origin, g_rand_double_range (rng, -1500, 1500), g_rand_double_range (rng, -1500, 1500));
      ft_grid_index_insert (g, i, pos[i]);
      live[i] = TRUE;
    }
  for (round = 0; round < 6; round++)
    {
      for (i = 0; i < N; i++)
        {
          guint op = g_rand_int_range (rng, 0, 4);
          if (op == 0)        /* a step of a few centimetres: same cell */
            {
              pos[i] = ft_latlon_offset (pos[i], 0.02, -0.03);
              ft_grid_index_move (g, i, pos[i]);
              live[i] = TRUE;
            }
          else if (op == 1)   /* a jump: another cell, maybe another word */
            {
              pos[i] = ft_latlon_offset (origin, g_rand_double_range (rng, -1500, 1500), g_rand_double_range (rng, -1500, 1500));
              ft_grid_index_move (g, i, pos[i]);
              live[i] = TRUE;
            }
          else if (op == 2)
            {
              ft_grid_index_remove (g, i);
              live[i] = FALSE;
            }
        }
      for (q = 0; q < 100; q++)
        {
          FtLatLon p = ft_latlon_offset (origin, g_rand_double_range (rng, -1600, 1600), g_rand_double_range (rng, -1600, 1600));
          double r = g_rand_double_range (rng, 0, 900);
          FineVisit v = { pos, 0, 0, 0, 0 };
          guint expect = 0;

          ft_grid_index_visit (g, p, r, fine_collect, &v);
          for (i = 0; i < N; i++)
            if (live[i] && ft_distance_m (p, pos[i]) <= r)
              expect++;
          if (v.n_seen != expect || v.bad_pos != 0)
            ck_abort_msg ("round %u query %u: visited %u (brute force %u), %u at stale positions",
                          round, q, v.n_seen, expect, v.bad_pos);
        }
      /* foreach: every live id once, at its latest position */
      FineVisit all = { pos, 0, 0, 0, 0 };
      guint n_live = 0;
      ft_grid_index_foreach (g, fine_collect, &all);
      for (i = 0; i < N; i++)
        n_live += live[i];
      ck_assert_uint_eq (all.n_seen, n_live);
      ck_assert_uint_eq (all.bad_pos, 0);
      ck_assert_uint_eq (ft_grid_index_size (g), n_live);
    }
}
END_TEST

static gboolean
accept_not_third (guint id, gpointer user_data)
{
  guint *asked = user_data;
  (*asked)++;
  return id % 3 != 0;
}

/* ft_grid_index_nearest against brute force (least distance, then least
 * id, among accepted ids within max_m) on random fleets: clumps of ids at
 * one position (ties), mirrored pairs, points outside the bounds (clamped
 * into edge cells), queries outside them, coarse and fine cells, at the
 * equator's latitude and at 70 degrees north, with moves and removals. */
START_TEST (test_grid_nearest)
{
  g_autoptr(GRand) rng = g_rand_new_with_seed (11);
  const guint N = 600;
  FtLatLon pos[600];
  gboolean live[600];
  const double cells[] = { 10, 37, 250 };
  const FtLatLon origins[] = { { 51.5, -0.12 }, { 70.0, 25.0 }, { -33.9, 151.2 } };

  for (guint oi = 0; oi < G_N_ELEMENTS (origins); oi++)
    for (guint ci = 0; ci < G_N_ELEMENTS (cells); ci++)
      {
        FtLatLon o = origins[oi];
        FtBBox b;
        ft_bbox_init_empty (&b);
        ft_bbox_extend (&b, ft_latlon_offset (o, -1000, -1000));
        ft_bbox_extend (&b, ft_latlon_offset (o, 1000, 1000));
        g_autoptr(FtGridIndex) g = ft_grid_index_new (b, cells[ci]);
        ck_assert_int_eq (ft_grid_index_nearest (g, o, 5000, NULL, NULL, NULL), -1);   /* empty */
        for (guint i = 0; i < N; i++)
          {
            if (i % 7 == 1)          /* the same place as the id before: a tie */
              pos[i] = pos[i - 1];
            else if (i % 7 == 2)     /* mirrored in longitude about the id two before */
              pos[i] = (FtLatLon) { pos[i - 2].lat, 2 * o.lon - pos[i - 2].lon };
            else
              {
                double span = i % 11 == 0 ? 1400 : 1000;   /* some outside the bounds */
                pos[i] = ft_latlon_offset (o, g_rand_double_range (rng, -span, span),
                                           g_rand_double_range (rng, -span, span));
              }
            ft_grid_index_insert (g, i, pos[i]);
            live[i] = TRUE;
          }
        for (guint round = 0; round < 3; round++)
          {
            for (guint q = 0; q < 150; q++)
              {
                FtLatLon p;
                if (q % 5 == 0)          /* exactly at an id's place (distance 0, ties) */
                  p = pos[g_rand_int_range (rng, 0, N)];
                else if (q % 5 == 1)     /* mid-way between a mirrored pair */
                  p = (FtLatLon) { pos[7 * g_rand_int_range (rng, 0, N / 7)].lat, o.lon };
                else
                  p = ft_latlon_offset (o, g_rand_double_range (rng, -1300, 1300),
                                        g_rand_double_range (rng, -1300, 1300));
                double max_m = q % 9 == 0 ? 0.0 : q % 9 == 1 ? 1e7 : g_rand_double_range (rng, 0, 600);
                gboolean filter = q % 2 == 0;
                gint64 want = -1;
                double want_d = 0;
                for (guint i = 0; i < N; i++)
                  {
                    if (!live[i] || (filter && i % 3 == 0))
                      continue;
                    double d = ft_distance_m (p, pos[i]);
                    if (d <= max_m && (want < 0 || d < want_d))
                      want = i, want_d = d;
                  }
                guint asked = 0;
                double got_d = -1;
                gint64 got = ft_grid_index_nearest (g, p, max_m, filter ? accept_not_third : NULL,
                                                    &asked, &got_d);
                if (got != want || (want >= 0 && got_d != want_d))
                  ck_abort_msg ("origin %u cell %g round %u query %u (max %g m): nearest %" G_GINT64_FORMAT
                                " at %.9f m, brute force %" G_GINT64_FORMAT " at %.9f m",
                                oi, cells[ci], round, q, max_m, got, got_d, want, want_d);
              }
            for (guint i = 0; i < N; i++)
              {
                guint op = g_rand_int_range (rng, 0, 5);
                if (op == 0)
                  {
                    ft_grid_index_remove (g, i);
                    live[i] = FALSE;
                  }
                else if (op == 1)
                  {
                    pos[i] = ft_latlon_offset (o, g_rand_double_range (rng, -1000, 1000),
                                               g_rand_double_range (rng, -1000, 1000));
                    ft_grid_index_move (g, i, pos[i]);
                    live[i] = TRUE;
                  }
              }
          }
      }
}
END_TEST

typedef struct {
  const gboolean *ok;
  gboolean       *asked;
} AcceptSet;

static gboolean
accept_in_set (guint id, gpointer user_data)
{
  AcceptSet *a = user_data;
  a->asked[id] = TRUE;
  return a->ok[id];
}

/* ft_grid_index_nearest against brute force on sparse, long thin grids
 * (a wide one of 600 x 60 cells and a tall one of 60 x 600, so a ring's
 * left and right edges span several words of the column bitmap and start
 * and end inside them), with a random filter per query (a random half,
 * a few ids, or none), after moves inside a cell and across the grid,
 * removals, and removed ids inserted again. */
START_TEST (test_grid_nearest_sparse)
{
  g_autoptr(GRand) rng = g_rand_new_with_seed (23);
  const guint N = 60;
  FtLatLon pos[60];
  gboolean live[60], ok[60];
  const double shapes[][2] = { { 3000, 300 }, { 300, 3000 } };   /* half width, half height (m) */

  for (guint si = 0; si < G_N_ELEMENTS (shapes); si++)
    {
      double hw = shapes[si][0], hh = shapes[si][1];
      FtBBox b;
      ft_bbox_init_empty (&b);
      ft_bbox_extend (&b, ft_latlon_offset (origin, -hw, -hh));
      ft_bbox_extend (&b, ft_latlon_offset (origin, hw, hh));
      g_autoptr(FtGridIndex) g = ft_grid_index_new (b, 10);
      for (guint i = 0; i < N; i++)
        {
          pos[i] = ft_latlon_offset (origin, g_rand_double_range (rng, -hw, hw), g_rand_double_range (rng, -hh, hh));
          live[i] = i % 4 != 3;          /* some never inserted until later */
          if (live[i])
            ft_grid_index_insert (g, i, pos[i]);
        }
      for (guint round = 0; round < 8; round++)
        {
          for (guint q = 0; q < 200; q++)
            {
              FtLatLon p = q % 6 == 0 ? pos[g_rand_int_range (rng, 0, N)]
                : ft_latlon_offset (origin, g_rand_double_range (rng, -1.1 * hw, 1.1 * hw),
                                    g_rand_double_range (rng, -1.1 * hh, 1.1 * hh));
              double max_m = q % 7 == 0 ? 1e7 : g_rand_double_range (rng, 0, 4000);
              guint kind = q % 3;        /* no filter, a random half, a few ids */
              for (guint i = 0; i < N; i++)
                ok[i] = kind == 0 || (kind == 1 ? g_rand_boolean (rng) : g_rand_int_range (rng, 0, 10) == 0);
              gint64 want = -1;
              double want_d = 0;
              for (guint i = 0; i < N; i++)
                {
                  if (!live[i] || !ok[i])
                    continue;
                  double d = ft_distance_m (p, pos[i]);
                  if (d <= max_m && (want < 0 || d < want_d))
                    want = i, want_d = d;
                }
              double got_d = -1;
              gboolean asked[60] = { FALSE };
              AcceptSet as = { ok, asked };
              gint64 got = ft_grid_index_nearest (g, p, max_m, kind == 0 ? NULL : accept_in_set, &as, &got_d);
              if (got != want || (want >= 0 && got_d != want_d))
                ck_abort_msg ("shape %u round %u query %u (max %g m): nearest %" G_GINT64_FORMAT
                              " at %.9f m, brute force %" G_GINT64_FORMAT " at %.9f m",
                              si, round, q, max_m, got, got_d, want, want_d);
              /* none taken: every id within max_m was asked (the world
               * reads a battery loss from the ids turned down) */
              for (guint i = 0; kind != 0 && got < 0 && i < N; i++)
                if (live[i] && ft_distance_m (p, pos[i]) <= max_m && !asked[i])
                  ck_abort_msg ("shape %u round %u query %u (max %g m): none taken, but id %u at %.3f m "
                                "was never asked", si, round, q, max_m, i, ft_distance_m (p, pos[i]));
            }
          for (guint i = 0; i < N; i++)
            {
              guint op = g_rand_int_range (rng, 0, 5);
              if (op == 0 && live[i])
                {
                  ft_grid_index_remove (g, i);
                  live[i] = FALSE;
                }
              else if (op == 1)            /* a jump anywhere (inserts a removed id again) */
                {
                  pos[i] = ft_latlon_offset (origin, g_rand_double_range (rng, -hw, hw), g_rand_double_range (rng, -hh, hh));
                  ft_grid_index_move (g, i, pos[i]);
                  live[i] = TRUE;
                }
              else if (op == 2 && live[i])   /* a step of a few centimetres */
                {
                  pos[i] = ft_latlon_offset (pos[i], 0.03, 0.02);
                  ft_grid_index_move (g, i, pos[i]);
                }
            }
          guint n_live = 0;
          for (guint i = 0; i < N; i++)
            n_live += live[i];
          ck_assert_uint_eq (ft_grid_index_size (g), n_live);
        }
    }
}
END_TEST

/* The plain even-odd loop over every edge of every ring, as
 * ft_multipolygon_contains ran it before rings had bands. */
static gboolean
contains_plain (const FtMultiPolygon *mp, FtLatLon p)
{
  if (!ft_bbox_contains (&mp->bbox, p))
    return FALSE;
  for (guint q = 0; q < mp->n_polys; q++)
    {
      gboolean inside = FALSE;
      for (guint r = 0; r < mp->polys[q].n_rings; r++)
        {
          const FtRing *ring = &mp->polys[q].rings[r];
          if (ring->n < 3)
            continue;
          for (guint i = 0, j = ring->n - 1; i < ring->n; j = i++)
            {
              const FtLatLon *a = &ring->pts[i], *b = &ring->pts[j];
              if ((a->lat > p.lat) != (b->lat > p.lat))
                {
                  double x = (b->lon - a->lon) * (p.lat - a->lat) / (b->lat - a->lat) + a->lon;
                  if (p.lon < x)
                    inside = !inside;
                }
            }
        }
      if (inside)
        return TRUE;
    }
  return FALSE;
}

/* Rings of 16 points or more answer through their bands of latitude what
 * the loop over every edge answers: random star-shaped rings (some
 * self-touching, with repeated latitudes and long edges across many
 * bands), holes, copies; at random points, at every vertex, on edge
 * midpoints and at vertex latitudes a hair either side. */
START_TEST (test_polygon_bands)
{
  g_autoptr(GRand) rng = g_rand_new_with_seed (91);
  guint checked = 0, inside = 0, banded = 0;
  for (guint shape = 0; shape < 120; shape++)
    {
      g_autoptr(FtMultiPolygon) mp = ft_multipolygon_new ();
      guint n_polys = 1 + shape % 3;
      for (guint q = 0; q < n_polys; q++)
        for (guint hole = 0; hole < (shape % 4 == 0 ? 2u : 1u); hole++)
          {
            guint n = (guint) g_rand_int_range (rng, 3, shape % 5 == 0 ? 600 : 90);
            FtLatLon *pts = g_new (FtLatLon, n + 1);
            FtLatLon c = ft_latlon_offset (origin, g_rand_double_range (rng, -3000, 3000) + q * 4000.0,
                                           g_rand_double_range (rng, -3000, 3000));
            double r0 = hole ? 300 : 1500;
            for (guint i = 0; i < n; i++)
              {
                double a = 2 * G_PI * i / n, r = r0 * g_rand_double_range (rng, 0.3, 1.0);
                pts[i] = ft_latlon_offset (c, r * cos (a), r * sin (a));
                if (i > 0 && g_rand_int_range (rng, 0, 6) == 0)   /* the same latitude as the one before */
                  pts[i].lat = pts[i - 1].lat;
                if (i > 0 && g_rand_int_range (rng, 0, 40) == 0)  /* back to an earlier point */
                  pts[i] = pts[g_rand_int_range (rng, 0, i)];
              }
            pts[n] = pts[0];     /* closed, as GeoJSON writes it */
            if (hole)
              ft_multipolygon_add_hole (mp, mp->n_polys - 1, pts, n + 1);
            else
              ft_multipolygon_add_ring (mp, pts, n + 1);
            g_free (pts);
          }
      g_autoptr(FtMultiPolygon) cp = ft_multipolygon_copy (mp);
      for (guint q = 0; q < mp->n_polys; q++)
        for (guint r = 0; r < mp->polys[q].n_rings; r++)
          {
            banded += mp->polys[q].rings[r].bands != NULL;
            ck_assert ((mp->polys[q].rings[r].bands != NULL) == (cp->polys[q].rings[r].bands != NULL));
          }
      GArray *probe = g_array_new (FALSE, FALSE, sizeof (FtLatLon));
      for (guint i = 0; i < 3000; i++)
        {
          FtLatLon p = { g_rand_double_range (rng, mp->bbox.min_lat - 1e-3, mp->bbox.max_lat + 1e-3),
                         g_rand_double_range (rng, mp->bbox.min_lon - 1e-3, mp->bbox.max_lon + 1e-3) };
          g_array_append_val (probe, p);
        }
      for (guint q = 0; q < mp->n_polys; q++)
        for (guint r = 0; r < mp->polys[q].n_rings; r++)
          {
            const FtRing *ring = &mp->polys[q].rings[r];
            for (guint i = 0; i < ring->n; i++)
              {
                FtLatLon v = ring->pts[i], w = ring->pts[(i + 1) % ring->n];
                FtLatLon mid = { (v.lat + w.lat) / 2, (v.lon + w.lon) / 2 };
                FtLatLon ps[] = { v, mid, { v.lat, mid.lon }, { nextafter (v.lat, 90), v.lon - 1e-6 },
                                  { nextafter (v.lat, -90), v.lon - 1e-6 }, { v.lat, v.lon - 1e-4 } };
                g_array_append_vals (probe, ps, G_N_ELEMENTS (ps));
              }
          }
      for (guint i = 0; i < probe->len; i++)
        {
          FtLatLon p = g_array_index (probe, FtLatLon, i);
          gboolean want = contains_plain (mp, p);
          if (ft_multipolygon_contains (mp, p) != want || ft_multipolygon_contains (cp, p) != want)
            ck_abort_msg ("shape %u point %u (%.12f, %.12f): bands say %d, the loop %d",
                          shape, i, p.lat, p.lon, !want, want);
          inside += want;
          checked++;
        }
      g_array_unref (probe);
    }
  ck_assert_uint_gt (banded, 100);
  ck_assert_uint_gt (inside, checked / 20);
}
END_TEST

START_TEST (test_grid)
{
  FtBBox b;
  g_autoptr(FtGridIndex) g = NULL;
  g_autoptr(GRand) rng = g_rand_new_with_seed (42);
  FtLatLon *pos;
  gboolean *live;
  const guint N = 5000;
  guint i, q;

  ft_bbox_init_empty (&b);
  ft_bbox_extend (&b, ft_latlon_offset (origin, -5000, -5000));
  ft_bbox_extend (&b, ft_latlon_offset (origin, 5000, 5000));
  g = ft_grid_index_new (b, 250);
  pos = g_new (FtLatLon, N);
  live = g_new0 (gboolean, N);
  for (i = 0; i < N; i++)
    {
      /* Some points fall outside the bounds: they must still be found. */
      pos[i] = ft_latlon_offset (origin, g_rand_double_range (rng, -6000, 6000),
                                 g_rand_double_range (rng, -6000, 6000));
      ft_grid_index_insert (g, i, pos[i]);
      live[i] = TRUE;
    }
  ck_assert_uint_eq (ft_grid_index_size (g), N);
  /* Move half, remove a tenth. */
  for (i = 0; i < N; i += 2)
    {
      pos[i] = ft_latlon_offset (pos[i], g_rand_double_range (rng, -800, 800), g_rand_double_range (rng, -800, 800));
      ft_grid_index_move (g, i, pos[i]);
    }
  for (i = 0; i < N; i += 10)
    {
      ft_grid_index_remove (g, i);
      live[i] = FALSE;
    }
  ft_grid_index_remove (g, 0);           /* twice: no-op */
  ft_grid_index_remove (g, N + 100);     /* never inserted: no-op */
  ck_assert_uint_eq (ft_grid_index_size (g), N - N / 10);
  ck_assert (!ft_grid_index_has (g, 10));
  ck_assert (ft_grid_index_has (g, 11));
  ck_assert (!ft_grid_index_has (g, N + 100));

  for (q = 0; q < 200; q++)
    {
      FtLatLon p = ft_latlon_offset (origin, g_rand_double_range (rng, -7000, 7000),
                                     g_rand_double_range (rng, -7000, 7000));
      double r = g_rand_double_range (rng, 0, 1500);
      Visit v = { g_hash_table_new (NULL, NULL), 0 };
      guint expect = 0;

      ft_grid_index_visit (g, p, r, collect, &v);
      for (i = 0; i < N; i++)
        {
          gboolean in = live[i] && ft_distance_m (p, pos[i]) <= r;
          if (in)
            expect++;
          /* Plain if: ck_assert marks a point (a pipe write) per call. */
          if (in != g_hash_table_contains (v.seen, GUINT_TO_POINTER (i + 1)))
            ck_abort_msg ("query %u id %u: brute force says %d", q, i, in);
        }
      ck_assert_uint_eq (g_hash_table_size (v.seen), expect);
      g_hash_table_unref (v.seen);
    }
  /* A radius wider than the grid visits every live id. */
  {
    Visit v = { g_hash_table_new (NULL, NULL), 0 };
    ft_grid_index_visit (g, origin, 100000, collect, &v);
    ck_assert_uint_eq (g_hash_table_size (v.seen), N - N / 10);
    g_hash_table_unref (v.seen);
  }
  /* Early stop. */
  {
    Visit v = { g_hash_table_new (NULL, NULL), 3 };
    ft_grid_index_visit (g, origin, 5000, collect, &v);
    ck_assert_uint_eq (g_hash_table_size (v.seen), 3);
    g_hash_table_unref (v.seen);
  }
  g_free (pos);
  g_free (live);
}
END_TEST

static char *
fixture_path (void)
{
  return ft_test_shared_path ("gbfs/mobilitydata_testfixtures_v3.0/geofencing_zones.json");
}

/* Expected values computed independently (Python even-odd over the file). */
static void
check_fixture (FtGeofences *g)
{
  const FtGeofenceZone *z;
  FtZoneRules r;
  int zone;

  /* 272 features, one of which (OBA 2kmh, feature 231) has two rules. */
  ck_assert_uint_eq (ft_geofences_n_zones (g), 273);
  z = ft_geofences_get (g, 0);
  ck_assert_str_eq (z->name, "BA Nov 23");
  ck_assert_uint_eq (z->rules.vehicle_kind_mask, 1u << 1);         /* ebicycle_paris only */
  ck_assert_str_eq (z->vehicle_type_ids[0], "ebicycle_paris");
  ck_assert_ptr_null (z->vehicle_type_ids[1]);
  ck_assert_str_eq (ft_geofences_get (g, 231)->name, "OBA 2kmh");
  ck_assert_str_eq (ft_geofences_get (g, 232)->name, "OBA 2kmh");
  ck_assert_double_eq (ft_geofences_get (g, 232)->rules.maximum_speed_kph, 6);
  ck_assert_str_eq (ft_geofences_get (g, 272)->name, "PARIS-outer-constrained#1");

  /* Central Paris: only the bike has a zone there; scooter gets global rules. */
  r = ft_geofences_rules_at (g, (FtLatLon) { 48.853, 2.35 }, 0, &zone);
  ck_assert_int_eq (zone, -1);
  ck_assert (!r.ride_start_allowed && !r.ride_end_allowed && !r.ride_through_allowed);
  r = ft_geofences_rules_at (g, (FtLatLon) { 48.853, 2.35 }, 1, &zone);
  ck_assert_int_eq (zone, 0);
  ck_assert (r.ride_start_allowed && r.ride_end_allowed);
  /* Bois de Boulogne: different first-matching zones per kind. */
  r = ft_geofences_rules_at (g, (FtLatLon) { 48.86, 2.25 }, 0, &zone);
  ck_assert_int_eq (zone, 66);
  ck_assert (!r.ride_through_allowed);
  ck_assert_double_eq (r.maximum_speed_kph, 2);
  r = ft_geofences_rules_at (g, (FtLatLon) { 48.86, 2.25 }, 1, &zone);
  ck_assert_int_eq (zone, 78);
  ck_assert_double_eq (r.maximum_speed_kph, 20);
  /* OBA zone: first of its two rules wins for the bike. */
  r = ft_geofences_rules_at (g, (FtLatLon) { 48.80, 2.33 }, 1, &zone);
  ck_assert_int_eq (zone, 231);
  ck_assert_double_eq (r.maximum_speed_kph, 2);
  /* Mopeds are named by no rule: global default, all allowed. */
  r = ft_geofences_rules_at (g, (FtLatLon) { 48.80, 2.33 }, 2, &zone);
  ck_assert_int_eq (zone, -1);
  ck_assert (r.ride_start_allowed && r.ride_end_allowed && r.ride_through_allowed);
  /* Ring of the outer constrained zone (outside its hole). */
  r = ft_geofences_rules_at (g, (FtLatLon) { 48.8462, 2.2455 }, 0, &zone);
  ck_assert_int_eq (zone, 272);
  ck_assert (!r.ride_start_allowed && r.ride_through_allowed);
  /* London: global rules. */
  r = ft_geofences_rules_at (g, (FtLatLon) { 51.5, -0.12 }, 1, &zone);
  ck_assert_int_eq (zone, -1);
  ck_assert (!r.ride_end_allowed);
}

START_TEST (test_gbfs_fixture)
{
  g_autofree char *path = fixture_path ();
  g_autoptr(GError) error = NULL;
  g_autoptr(FtGeofences) g = ft_geofences_load_gbfs (path, &error);
  g_autoptr(FtGeofences) copy = NULL;
  g_autoptr(FtGeofences) again = NULL;
  g_autoptr(JsonNode) data = NULL;
  g_autoptr(JsonGenerator) gen = json_generator_new ();
  g_autofree char *text = NULL;
  g_autofree char *doc = NULL;
  JsonObject *dobj;

  ck_assert_msg (g != NULL, "%s", error ? error->message : "");
  check_fixture (g);
  copy = ft_geofences_ref_copy (g);
  check_fixture (copy);

  /* Export the data member, wrap it, parse it back: same behaviour. */
  data = ft_geofences_to_gbfs_data (g);
  dobj = json_node_get_object (data);
  ck_assert_uint_eq (json_array_get_length (json_object_get_array_member (
                       json_object_get_object_member (dobj, "geofencing_zones"), "features")), 272);
  ck_assert_uint_eq (json_array_get_length (json_object_get_array_member (dobj, "global_rules")), 1);
  json_generator_set_root (gen, data);
  text = json_generator_to_data (gen, NULL);
  doc = g_strdup_printf ("{\"last_updated\":\"2026-01-01T00:00:00Z\",\"ttl\":60,\"version\":\"3.0\",\"data\":%s}", text);
  again = ft_geofences_parse_gbfs (doc, -1, "export", &error);
  ck_assert_msg (again != NULL, "%s", error ? error->message : "");
  check_fixture (again);
}
END_TEST

/* The per-kind raster behind ft_geofences_rules_at must answer exactly as
 * the plain first-match loop: at random points, on every vertex, at edge
 * midpoints and a hair either side of them, for each kind. */
static guint
raster_compare_at (const FtGeofences *g, FtLatLon p)
{
  guint bad = 0;
  for (guint kind = 0; kind < 4; kind++)
    {
      guint k = kind == 3 ? 31 : kind;   /* 31: a kind no mask names */
      int z1 = -2, z2 = -2;
      FtZoneRules a = ft_geofences_rules_at (g, p, k, &z1);
      FtZoneRules b = ft_geofences_rules_at_exact (g, p, k, &z2);
      if (z1 != z2 || a.ride_start_allowed != b.ride_start_allowed || a.ride_end_allowed != b.ride_end_allowed
          || a.ride_through_allowed != b.ride_through_allowed || a.maximum_speed_kph != b.maximum_speed_kph
          || a.vehicle_kind_mask != b.vehicle_kind_mask)
        bad++;
    }
  return bad;
}

static guint
raster_compare_all (const FtGeofences *g, guint n_random, guint32 seed)
{
  FtBBox bb;
  guint bad = 0;
  g_autoptr(GRand) rnd = g_rand_new_with_seed (seed);

  ft_bbox_init_empty (&bb);
  for (guint i = 0; i < ft_geofences_n_zones (g); i++)
    {
      const FtMultiPolygon *mp = ft_geofences_get (g, i)->area;
      ft_bbox_extend (&bb, (FtLatLon) { mp->bbox.min_lat, mp->bbox.min_lon });
      ft_bbox_extend (&bb, (FtLatLon) { mp->bbox.max_lat, mp->bbox.max_lon });
      for (guint p = 0; p < mp->n_polys; p++)
        for (guint r = 0; r < mp->polys[p].n_rings; r++)
          {
            const FtRing *ring = &mp->polys[p].rings[r];
            for (guint a = 0, b = ring->n - 1; a < ring->n; b = a++)
              {
                FtLatLon v = ring->pts[a], w = ring->pts[b];
                FtLatLon mid = { (v.lat + w.lat) / 2, (v.lon + w.lon) / 2 };
                bad += raster_compare_at (g, v) + raster_compare_at (g, mid);
                for (int dy = -1; dy <= 1; dy++)
                  for (int dx = -1; dx <= 1; dx++)
                    {
                      bad += raster_compare_at (g, (FtLatLon) { v.lat + dy * 1e-9, v.lon + dx * 1e-9 });
                      bad += raster_compare_at (g, (FtLatLon) { mid.lat + dy * 1e-9, mid.lon + dx * 1e-9 });
                    }
              }
          }
    }
  double mlat = (bb.max_lat - bb.min_lat) * 0.05, mlon = (bb.max_lon - bb.min_lon) * 0.05;
  for (guint i = 0; i < n_random; i++)
    bad += raster_compare_at (g, (FtLatLon) { g_rand_double_range (rnd, bb.min_lat - mlat, bb.max_lat + mlat),
                                              g_rand_double_range (rnd, bb.min_lon - mlon, bb.max_lon + mlon) });
  return bad;
}

/* ft_geofences_path_rules (raster, a whole cell's answer reused) against
 * the plain loop at every sample, on random paths and on paths between
 * zone vertices (crossing boundaries), for each vehicle kind. */
static guint
path_compare_all (const FtGeofences *g, guint n_random, guint32 seed)
{
  FtBBox bb;
  guint bad = 0;
  g_autoptr(GRand) rnd = g_rand_new_with_seed (seed);
  g_autoptr(GArray) verts = g_array_new (FALSE, FALSE, sizeof (FtLatLon));

  ft_bbox_init_empty (&bb);
  for (guint i = 0; i < ft_geofences_n_zones (g); i++)
    {
      const FtMultiPolygon *mp = ft_geofences_get (g, i)->area;
      ft_bbox_extend (&bb, (FtLatLon) { mp->bbox.min_lat, mp->bbox.min_lon });
      ft_bbox_extend (&bb, (FtLatLon) { mp->bbox.max_lat, mp->bbox.max_lon });
      for (guint p = 0; p < mp->n_polys; p++)
        for (guint r = 0; r < mp->polys[p].n_rings; r++)
          g_array_append_vals (verts, mp->polys[p].rings[r].pts, mp->polys[p].rings[r].n);
    }
  double mlat = (bb.max_lat - bb.min_lat) * 0.05, mlon = (bb.max_lon - bb.min_lon) * 0.05;
  for (guint i = 0; i < n_random; i++)
    {
      FtLatLon a, b;
      if (i % 2 == 0 && verts->len > 1)
        {
          a = g_array_index (verts, FtLatLon, g_rand_int_range (rnd, 0, verts->len));
          b = g_array_index (verts, FtLatLon, g_rand_int_range (rnd, 0, verts->len));
        }
      else
        {
          a = (FtLatLon) { g_rand_double_range (rnd, bb.min_lat - mlat, bb.max_lat + mlat),
                           g_rand_double_range (rnd, bb.min_lon - mlon, bb.max_lon + mlon) };
          /* a trip's length: up to about 3 km */
          b = ft_latlon_offset (a, g_rand_double_range (rnd, -2000, 2000), g_rand_double_range (rnd, -2000, 2000));
        }
      for (guint kind = 0; kind < 4; kind++)
        {
          FtPathRules x, y;
          ft_geofences_path_rules (g, a, b, kind, 20.0, &x);
          ft_geofences_path_rules_exact (g, a, b, kind, 20.0, &y);
          if (x.blocked != y.blocked || x.blocking_zone != y.blocking_zone
              || x.stop_at.lat != y.stop_at.lat || x.stop_at.lon != y.stop_at.lon
              || x.stop_m != y.stop_m || x.capped_m != y.capped_m
              || x.min_cap_kph != y.min_cap_kph || x.ride_s != y.ride_s
              || x.len_m != ft_distance_m (a, b) || y.len_m != x.len_m)
            bad++;
        }
    }
  return bad;
}

START_TEST (test_rules_raster_matches_loop)
{
  g_autofree char *path = fixture_path ();
  g_autoptr(GError) error = NULL;
  g_autoptr(FtGeofences) g = ft_geofences_load_gbfs (path, &error);

  ck_assert_msg (g != NULL, "%s", error ? error->message : "");
  ck_assert_uint_eq (raster_compare_all (g, 20000, 7), 0);
  ck_assert_uint_eq (path_compare_all (g, 1500, 7), 0);

  /* a square with a hole, a slow zone across its edge for mopeds only,
   * and a zone added after the first lookups (the raster is rebuilt) */
  g_autoptr(FtGeofences) h = ft_geofences_new ();
  FtMultiPolygon *sq = ft_multipolygon_new ();
  FtLatLon outer[] = { { 0, 0 }, { 0, 0.02 }, { 0.02, 0.02 }, { 0.02, 0 } };
  FtLatLon hole[] = { { 0.005, 0.005 }, { 0.005, 0.015 }, { 0.015, 0.015 }, { 0.015, 0.005 } };
  ft_multipolygon_add_hole (sq, ft_multipolygon_add_ring (sq, outer, 4), hole, 4);
  FtZoneRules nr = ft_zone_rules_all_allowed ();
  nr.ride_through_allowed = FALSE;
  ft_geofences_add (h, "sq", "square", sq, &nr);
  FtMultiPolygon *tri = ft_multipolygon_new ();
  FtLatLon t[] = { { 0.01, -0.01 }, { 0.03, 0.013 }, { -0.004, 0.031 } };
  ft_multipolygon_add_ring (tri, t, 3);
  FtZoneRules slow = ft_zone_rules_all_allowed ();
  slow.maximum_speed_kph = 12;
  slow.vehicle_kind_mask = 1u << 2;
  ft_geofences_add (h, "tri", "slow", tri, &slow);
  ck_assert_uint_eq (raster_compare_all (h, 20000, 8), 0);
  ck_assert_uint_eq (path_compare_all (h, 1500, 8), 0);
  int zone = -2;
  FtZoneRules r = ft_geofences_rules_at (h, (FtLatLon) { 0.01, 0.01 }, 2, &zone);   /* in the hole */
  ck_assert_int_eq (zone, 1);
  ck_assert_double_eq (r.maximum_speed_kph, 12);
  r = ft_geofences_rules_at (h, (FtLatLon) { 0.01, 0.01 }, 0, &zone);
  ck_assert_int_eq (zone, -1);
  FtMultiPolygon *in_hole = ft_multipolygon_new ();
  FtLatLon q[] = { { 0.008, 0.008 }, { 0.008, 0.012 }, { 0.012, 0.012 }, { 0.012, 0.008 } };
  ft_multipolygon_add_ring (in_hole, q, 4);
  FtZoneRules np = ft_zone_rules_all_allowed ();
  np.ride_end_allowed = FALSE;
  ft_geofences_add (h, "q", "no parking", in_hole, &np);
  r = ft_geofences_rules_at (h, (FtLatLon) { 0.01, 0.01 }, 0, &zone);
  ck_assert_int_eq (zone, 2);
  ck_assert (!r.ride_end_allowed);
  ck_assert_uint_eq (raster_compare_all (h, 20000, 9), 0);
  ck_assert_uint_eq (path_compare_all (h, 1500, 9), 0);
}
END_TEST

START_TEST (test_gbfs_missing_file)
{
  g_autoptr(GError) error = NULL;
  FtGeofences *g = ft_geofences_load_gbfs ("/nonexistent/geofencing_zones.json", &error);

  ck_assert_ptr_null (g);
  ck_assert_ptr_nonnull (error);
  ck_assert (strstr (error->message, "/nonexistent/geofencing_zones.json") != NULL);
}
END_TEST

#define SQ "{\"type\":\"Polygon\",\"coordinates\":[[[0,0],[1,0],[1,1],[0,1]]]}"
#define FEAT(rules) "{\"type\":\"Feature\",\"geometry\":" SQ ",\"properties\":{\"name\":\"z\",\"rules\":[" rules "]}}"
#define OKRULE "{\"ride_start_allowed\":true,\"ride_end_allowed\":true,\"ride_through_allowed\":true}"
#define DOC(features) "{\"version\":\"3.0\",\"data\":{\"geofencing_zones\":{\"type\":\"FeatureCollection\",\"features\":[" features "]},\"global_rules\":[]}}"

static void
expect_gbfs_error (const char *json, const char *f1, const char *f2)
{
  g_autoptr(GError) error = NULL;
  FtGeofences *g = ft_geofences_parse_gbfs (json, -1, "test.json", &error);

  ck_assert_ptr_null (g);
  ck_assert_ptr_nonnull (error);
  ck_assert (g_error_matches (error, FT_GEOFENCE_ERROR, FT_GEOFENCE_ERROR_PARSE));
  ck_assert_msg (strstr (error->message, "test.json") != NULL, "no file in \"%s\"", error->message);
  ck_assert_msg (strstr (error->message, f1) != NULL, "\"%s\" lacks \"%s\"", error->message, f1);
  if (f2)
    ck_assert_msg (strstr (error->message, f2) != NULL, "\"%s\" lacks \"%s\"", error->message, f2);
}

START_TEST (test_gbfs_malformed)
{
  expect_gbfs_error ("{not json", "not valid JSON", NULL);
  expect_gbfs_error ("[]", "JSON object", NULL);
  expect_gbfs_error ("{\"data\":{}}", "data.geofencing_zones", NULL);
  expect_gbfs_error ("{\"data\":{\"geofencing_zones\":{\"type\":\"Feature\"}}}", "FeatureCollection", NULL);
  expect_gbfs_error ("{\"data\":{\"geofencing_zones\":{\"type\":\"FeatureCollection\"}}}", "features", NULL);
  expect_gbfs_error (DOC (FEAT (OKRULE) "," FEAT (OKRULE) ","
                          FEAT ("{\"ride_start_allowed\":true,\"ride_through_allowed\":true}")),
                     "feature 2", "ride_end_allowed");
  expect_gbfs_error (DOC (FEAT (OKRULE "," "{\"ride_start_allowed\":1,\"ride_end_allowed\":true,\"ride_through_allowed\":true}")),
                     "feature 0: properties.rules[1]", "ride_start_allowed");
  expect_gbfs_error (DOC (FEAT ("{\"ride_start_allowed\":true,\"ride_end_allowed\":true,\"ride_through_allowed\":true,\"maximum_speed_kph\":-3}")),
                     "feature 0", "maximum_speed_kph");
  expect_gbfs_error (DOC (FEAT ("{\"vehicle_type_ids\":\"e-bike\",\"ride_start_allowed\":true,\"ride_end_allowed\":true,\"ride_through_allowed\":true}")),
                     "feature 0", "vehicle_type_ids");
  expect_gbfs_error (DOC (FEAT (OKRULE) ",{\"type\":\"Feature\",\"geometry\":{\"type\":\"LineString\",\"coordinates\":[[0,0],[1,1]]},\"properties\":{}}"),
                     "feature 1", "LineString");
  expect_gbfs_error (DOC ("{\"type\":\"Feature\",\"geometry\":" SQ "}"), "feature 0", "properties");
  expect_gbfs_error (DOC (FEAT (OKRULE) ",{\"type\":\"Feature\",\"geometry\":{\"type\":\"Polygon\",\"coordinates\":[[[0,0],[1,0],[1,1],[0,1]]]},\"properties\":{\"rules\":{}}}"),
                     "feature 1", "rules");
  expect_gbfs_error ("{\"version\":\"3.0\",\"data\":{\"geofencing_zones\":{\"type\":\"FeatureCollection\",\"features\":[]},"
                     "\"global_rules\":[{\"ride_start_allowed\":false}]}}", "global_rules[0]", "ride_end_allowed");
  /* members of the wrong type are errors, never GLib criticals */
  expect_gbfs_error ("{\"data\":{\"geofencing_zones\":{\"type\":{},\"features\":[]}}}",
                     "data.geofencing_zones.type", NULL);
  expect_gbfs_error ("{\"data\":{\"geofencing_zones\":{\"type\":[],\"features\":[]}}}",
                     "data.geofencing_zones.type", NULL);
  expect_gbfs_error (DOC ("{\"type\":\"Feature\",\"geometry\":{\"type\":{},\"coordinates\":[]},\"properties\":{}}"),
                     "feature 0", "geometry.type");
  expect_gbfs_error (DOC ("{\"type\":\"Feature\",\"geometry\":" SQ ",\"properties\":{\"name\":[{\"text\":{}}]}}"),
                     "feature 0", "properties.name[0]");
  expect_gbfs_error (DOC ("{\"type\":\"Feature\",\"geometry\":" SQ ",\"properties\":{\"name\":[{\"text\":\"z\",\"language\":5}]}}"),
                     "feature 0", "properties.name[0]");
  expect_gbfs_error (DOC ("{\"type\":\"Feature\",\"geometry\":" SQ ",\"properties\":{\"name\":{}}}"),
                     "feature 0", "properties.name");
}
END_TEST

START_TEST (test_gbfs_v23)
{
  const char *doc =
    "{\"last_updated\":1640887163,\"ttl\":0,\"version\":\"2.3\",\"data\":{\"geofencing_zones\":"
    "{\"type\":\"FeatureCollection\",\"features\":["
    "{\"type\":\"Feature\",\"geometry\":{\"type\":\"MultiPolygon\",\"coordinates\":[[[[0,0],[1,0],[1,1],[0,1],[0,0]]]]},"
    " \"properties\":{\"name\":\"Old town\",\"start\":1593878400,\"rules\":["
    "  {\"vehicle_type_id\":[\"moped1\"],\"ride_allowed\":false,\"ride_through_allowed\":true,\"maximum_speed_kph\":10},"
    "  {\"ride_allowed\":true,\"ride_through_allowed\":true}]}}]}}}";
  g_autoptr(GError) error = NULL;
  g_autoptr(FtGeofences) g = ft_geofences_parse_gbfs (doc, -1, "v23", &error);
  FtZoneRules r;
  int zone;

  ck_assert_msg (g != NULL, "%s", error ? error->message : "");
  ck_assert_uint_eq (ft_geofences_n_zones (g), 2);
  ck_assert_str_eq (ft_geofences_get (g, 0)->name, "Old town");
  r = ft_geofences_rules_at (g, (FtLatLon) { 0.5, 0.5 }, 2, &zone);   /* moped */
  ck_assert_int_eq (zone, 0);
  ck_assert (!r.ride_start_allowed && !r.ride_end_allowed && r.ride_through_allowed);
  ck_assert_double_eq (r.maximum_speed_kph, 10);
  r = ft_geofences_rules_at (g, (FtLatLon) { 0.5, 0.5 }, 0, &zone);   /* scooter: second rule */
  ck_assert_int_eq (zone, 1);
  ck_assert (r.ride_start_allowed && r.ride_end_allowed);
  r = ft_geofences_rules_at (g, (FtLatLon) { 5, 5 }, 0, &zone);
  ck_assert_int_eq (zone, -1);
  ck_assert (r.ride_end_allowed);                                       /* 2.3: no global rules */

  /* 3.0-style fields in a 2.x document are read in full. */
  {
    g_autoptr(FtGeofences) g2 = ft_geofences_parse_gbfs (
      "{\"version\":\"2.3\",\"data\":{\"geofencing_zones\":{\"type\":\"FeatureCollection\",\"features\":["
      FEAT ("{\"ride_start_allowed\":true,\"ride_end_allowed\":false,\"ride_through_allowed\":true}") "]}}}",
      -1, "mixed", &error);
    ck_assert_msg (g2 != NULL, "%s", error ? error->message : "");
    ck_assert (!ft_geofences_get (g2, 0)->rules.ride_end_allowed);
    ck_assert (ft_geofences_get (g2, 0)->rules.ride_start_allowed);
  }
  /* 2.3 rule missing ride_allowed is refused, naming the field. */
  expect_gbfs_error ("{\"version\":\"2.3\",\"data\":{\"geofencing_zones\":{\"type\":\"FeatureCollection\",\"features\":["
                     FEAT ("{\"ride_through_allowed\":true}") "]}}}", "feature 0", "ride_allowed");
}
END_TEST

START_TEST (test_first_match_api)
{
  g_autoptr(FtGeofences) g = ft_geofences_new ();
  FtLatLon big[4], small[4];
  FtMultiPolygon *a, *b;
  FtZoneRules no_park = ft_zone_rules_all_allowed (), area = ft_zone_rules_all_allowed ();
  FtZoneRules outside = { FALSE, FALSE, TRUE, 0, 0 };
  FtZoneRules slow_bikes = { TRUE, TRUE, TRUE, 12, 1u << 1 };
  FtZoneRules r;
  int zone;

  /* every change gives a new generation, never 0 */
  guint32 gen = ft_geofences_generation (g);
  ck_assert_uint_ne (gen, 0);
#define CHANGED() G_STMT_START { guint32 now_gen = ft_geofences_generation (g); \
    ck_assert_uint_ne (now_gen, gen); ck_assert_uint_ne (now_gen, 0); gen = now_gen; } G_STMT_END
  square (origin, 5000, big);
  square (origin, 500, small);
  no_park.ride_end_allowed = FALSE;
  no_park.ride_start_allowed = FALSE;
  b = ft_multipolygon_new ();
  ft_multipolygon_add_ring (b, small, 4);
  ft_geofences_add (g, "bikes-slow", "Bike slow zone", ft_multipolygon_copy (b), &slow_bikes);
  CHANGED ();
  ft_geofences_add (g, "no-park", "No parking", b, &no_park);
  CHANGED ();
  a = ft_multipolygon_new ();
  ft_multipolygon_add_ring (a, big, 4);
  ft_geofences_add (g, "area", "Operating area", a, &area);
  CHANGED ();
  ft_geofences_set_global_rules (g, &outside);
  CHANGED ();
  ft_geofences_add_global_rules (g, &outside);
  CHANGED ();
  ft_geofences_set_global_rules (g, &outside);
  CHANGED ();
  /* answers change nothing */
  (void) ft_geofences_rules_at (g, origin, 0, &zone);
  ck_assert_uint_eq (ft_geofences_generation (g), gen);
#undef CHANGED

  r = ft_geofences_rules_at (g, origin, 0, &zone);            /* scooter: no-park (listed before area) */
  ck_assert_int_eq (zone, 1);
  ck_assert (!r.ride_end_allowed);
  r = ft_geofences_rules_at (g, origin, 1, &zone);            /* bike: its own zone first */
  ck_assert_int_eq (zone, 0);
  ck_assert_double_eq (r.maximum_speed_kph, 12);
  r = ft_geofences_rules_at (g, ft_latlon_offset (origin, 1000, 0), 0, &zone);
  ck_assert_int_eq (zone, 2);
  ck_assert (r.ride_end_allowed);
  r = ft_geofences_rules_at (g, ft_latlon_offset (origin, 4000, 0), 0, &zone);
  ck_assert_int_eq (zone, -1);
  ck_assert (!r.ride_end_allowed && r.ride_through_allowed);
  ck_assert_uint_eq (ft_geofence_kind_bit ("escooter_paris"), 1u << 0);
  ck_assert_uint_eq (ft_geofence_kind_bit ("ebicycle_paris"), 1u << 1);
  ck_assert_uint_eq (ft_geofence_kind_bit ("e-moped"), 1u << 2);
  ck_assert_uint_eq (ft_geofence_kind_bit ("car"), FT_ZONE_KIND_OTHER);
}
END_TEST


/* ---- policy geometry: GeoJSON zone types, MDS Geography (issue 21) ----- */

/* A GeoJSON Feature: a closed square of side m metres centred on c. */
static char *
square_feature (const char *type, FtLatLon c, double m, const char *extra)
{
  FtLatLon q[4];
  square (c, m, q);
  return g_strdup_printf ("{\"type\":\"Feature\",\"properties\":{\"zone_type\":\"%s\"%s},"
                          "\"geometry\":{\"type\":\"Polygon\",\"coordinates\":[[[%.7f,%.7f],[%.7f,%.7f],"
                          "[%.7f,%.7f],[%.7f,%.7f],[%.7f,%.7f]]]}}", type, extra ? extra : "",
                          q[0].lon, q[0].lat, q[1].lon, q[1].lat, q[2].lon, q[2].lat,
                          q[3].lon, q[3].lat, q[0].lon, q[0].lat);
}

static char *
policy_doc (void)
{
  g_autofree char *op = square_feature ("operating_area", origin, 4000, ",\"name\":\"City\"");
  g_autofree char *np = square_feature ("no_parking", ft_latlon_offset (origin, 500, 0), 300,
                                        ",\"name\":\"Market square\"");
  g_autofree char *slow = square_feature ("slow_ride", ft_latlon_offset (origin, -800, 0), 400,
                                          ",\"maximum_speed_kph\":8,\"name\":\"Promenade\"");
  g_autofree char *nr = square_feature ("no_ride", ft_latlon_offset (origin, 0, 1000), 400,
                                        ",\"name\":\"Park\"");
  /* operating area first in the file: the import still puts it last */
  return g_strdup_printf ("{\"type\":\"FeatureCollection\",\"features\":[%s,%s,%s,%s]}", op, np, slow, nr);
}

START_TEST (test_policy_geojson)
{
  g_autofree char *doc = policy_doc ();
  g_autoptr(GError) error = NULL;
  g_autoptr(FtGeofences) g = ft_geofences_parse_policy (doc, -1, "policy.geojson", &error);
  ck_assert_msg (g != NULL, "%s", error ? error->message : "");
  ck_assert_uint_eq (ft_geofences_n_zones (g), 4);
  int zone = -1;
  FtZoneRules r = ft_geofences_rules_at (g, ft_latlon_offset (origin, 500, 0), 0, &zone);
  ck_assert (!r.ride_end_allowed && r.ride_through_allowed);
  ck_assert_str_eq (ft_geofences_get (g, (guint) zone)->name, "Market square");
  r = ft_geofences_rules_at (g, ft_latlon_offset (origin, -800, 0), 0, NULL);
  ck_assert (r.ride_end_allowed);
  ck_assert_double_eq (r.maximum_speed_kph, 8);
  r = ft_geofences_rules_at (g, ft_latlon_offset (origin, 0, 1000), 0, NULL);
  ck_assert (!r.ride_through_allowed && !r.ride_end_allowed && !r.ride_start_allowed);
  r = ft_geofences_rules_at (g, origin, 0, NULL);
  ck_assert (r.ride_end_allowed && r.ride_start_allowed);
  r = ft_geofences_rules_at (g, ft_latlon_offset (origin, 5000, 0), 0, &zone);
  ck_assert (!r.ride_end_allowed && !r.ride_start_allowed && zone == -1);

  /* a slow zone caps the speed along a path: 400 m at 8 km/h of 1600 m */
  FtPathRules pr;
  FtLatLon a = ft_latlon_offset (origin, -1600, 0), b = origin;
  ft_geofences_path_rules (g, a, b, 0, 20, &pr);
  ck_assert (!pr.blocked);
  ck_assert_double_eq (pr.min_cap_kph, 8);
  ck_assert_msg (fabs (pr.capped_m - 400) < 30, "capped %.0f m", pr.capped_m);
  double expect = 1200 / (20 / 3.6) + 400 / (8 / 3.6);
  ck_assert_msg (fabs (pr.ride_s - expect) < 10, "ride %.0f s, expected %.0f s", pr.ride_s, expect);
  /* a no-ride zone stops the path at its edge (800 m north of the origin) */
  ft_geofences_path_rules (g, origin, ft_latlon_offset (origin, 0, 1600), 0, 20, &pr);
  ck_assert (pr.blocked);
  ck_assert_msg (fabs (pr.stop_m - 800) < 30, "stopped after %.0f m", pr.stop_m);
  ck_assert (ft_geofences_rules_at (g, pr.stop_at, 0, NULL).ride_through_allowed);
}
END_TEST

START_TEST (test_policy_mds_geography)
{
  g_autofree char *op = square_feature ("x", origin, 4000, NULL);
  g_autofree char *stop = square_feature ("x", ft_latlon_offset (origin, 300, 300), 40, NULL);
  g_autofree char *doc = g_strdup_printf (
    "{\"geographies\":["
    "{\"geography_id\":\"8917cf2d-a963-4ea2-a98b-7725050b3ec5\",\"name\":\"Service area\","
    "\"geography_type\":\"operating_area\",\"geography_json\":{\"type\":\"FeatureCollection\",\"features\":[%s]}},"
    "{\"geography_id\":\"2f9c1ab8-3f3c-4a0d-9c45-1a0b1c2d3e4f\",\"name\":\"Stop 1\","
    "\"geography_type\":\"stops\",\"geography_json\":{\"type\":\"FeatureCollection\",\"features\":[%s]}},"
    "{\"geography_id\":\"aa\",\"name\":\"District 4\",\"geography_type\":\"council_district\","
    "\"geography_json\":{\"type\":\"FeatureCollection\",\"features\":[%s]}}]}", op, stop, op);
  /* the features' own zone_type "x" would be refused: the geography's type wins only when
   * the feature has none, so strip it */
  g_autofree char *clean = NULL;
  {
    g_auto(GStrv) parts = g_strsplit (doc, "\"zone_type\":\"x\"", -1);
    clean = g_strjoinv ("\"source\":\"mds\"", parts);
  }
  g_autoptr(GError) error = NULL;
  g_autoptr(FtGeofences) g = ft_geofences_parse_policy (clean, -1, "geographies.json", &error);
  ck_assert_msg (g != NULL, "%s", error ? error->message : "");
  ck_assert_uint_eq (ft_geofences_n_zones (g), 2);   /* the district is informative */
  /* with parking stops, ending is allowed only at a stop */
  ck_assert (!ft_geofences_rules_at (g, origin, 0, NULL).ride_end_allowed);
  ck_assert (ft_geofences_rules_at (g, origin, 0, NULL).ride_start_allowed);
  int zone = -1;
  ck_assert (ft_geofences_rules_at (g, ft_latlon_offset (origin, 300, 300), 0, &zone).ride_end_allowed);
  ck_assert_str_eq (ft_geofences_get (g, (guint) zone)->name, "Stop 1");
}
END_TEST

static void
expect_policy_refused (const char *doc, const char *needle)
{
  g_autoptr(GError) e = NULL;
  g_autoptr(FtGeofences) g = ft_geofences_parse_policy (doc, -1, "bad.geojson", &e);
  ck_assert_msg (g == NULL, "accepted %s", doc);
  ck_assert_msg (strstr (e->message, "bad.geojson") && strstr (e->message, needle),
                 "'%s' lacks '%s'", e->message, needle);
}

START_TEST (test_policy_refused)
{
  /* a ring that does not close */
  expect_policy_refused ("{\"type\":\"FeatureCollection\",\"features\":[{\"type\":\"Feature\","
    "\"properties\":{\"zone_type\":\"no_parking\"},\"geometry\":{\"type\":\"Polygon\","
    "\"coordinates\":[[[13.40,52.52],[13.41,52.52],[13.41,52.53],[13.40,52.53]]]}}]}",
    "features[0]: geometry: ring 0 does not close");
  /* coordinates out of range ([lon, lat] swapped past 90) */
  expect_policy_refused ("{\"type\":\"FeatureCollection\",\"features\":[{\"type\":\"Feature\","
    "\"properties\":{\"zone_type\":\"no_parking\"},\"geometry\":{\"type\":\"Polygon\","
    "\"coordinates\":[[[13.40,52.52],[13.41,95.0],[13.41,52.53],[13.40,52.52]]]}}]}",
    "features[0]");
  expect_policy_refused ("{\"type\":\"FeatureCollection\",\"features\":[{\"type\":\"Feature\","
    "\"properties\":{\"zone_type\":\"no_parking\"},\"geometry\":{\"type\":\"Polygon\","
    "\"coordinates\":[[[13.40,52.52],[13.41,95.0],[13.41,52.53],[13.40,52.52]]]}}]}",
    "outside WGS84 range");
  expect_policy_refused ("{\"type\":\"FeatureCollection\",\"features\":[{\"type\":\"Feature\","
    "\"properties\":{\"zone_type\":\"quiet\"},\"geometry\":{\"type\":\"Polygon\","
    "\"coordinates\":[[[13.40,52.52],[13.41,52.52],[13.41,52.53],[13.40,52.52]]]}}]}",
    "features[0]: properties.zone_type: 'quiet'");
  expect_policy_refused ("{\"type\":\"FeatureCollection\",\"features\":[{\"type\":\"Feature\","
    "\"properties\":{\"zone_type\":\"slow_ride\"},\"geometry\":{\"type\":\"Polygon\","
    "\"coordinates\":[[[13.40,52.52],[13.41,52.52],[13.41,52.53],[13.40,52.52]]]}}]}",
    "maximum_speed_kph");
  expect_policy_refused ("{\"what\":1}", "neither a GeoJSON FeatureCollection");
  expect_policy_refused ("{\"type\":\"FeatureCollection\",\"features\":[", "bad.geojson");
}
END_TEST

static Suite *
geo_suite (void)
{
  Suite *s = suite_create ("geo");
  TCase *tc;

  tc = tcase_create ("bbox"); tcase_add_test (tc, test_bbox); suite_add_tcase (s, tc);
  tc = tcase_create ("polygon"); tcase_add_test (tc, test_polygon_hole); suite_add_tcase (s, tc);
  tc = tcase_create ("geojson");
  tcase_add_test (tc, test_geojson);
  tcase_add_test (tc, test_geojson_refused);
  suite_add_tcase (s, tc);
  tc = tcase_create ("grid"); tcase_set_timeout (tc, 120); tcase_add_test (tc, test_grid); suite_add_tcase (s, tc);
  tc = tcase_create ("grid-nearest"); tcase_set_timeout (tc, 60); tcase_add_test (tc, test_grid_nearest); suite_add_tcase (s, tc);
  tc = tcase_create ("polygon-bands"); tcase_set_timeout (tc, 60); tcase_add_test (tc, test_polygon_bands); suite_add_tcase (s, tc);
  tc = tcase_create ("grid-nearest-sparse"); tcase_set_timeout (tc, 60); tcase_add_test (tc, test_grid_nearest_sparse); suite_add_tcase (s, tc);
  tc = tcase_create ("grid-fine-sparse"); tcase_add_test (tc, test_grid_fine_sparse); suite_add_tcase (s, tc);
  tc = tcase_create ("geofence");
  tcase_add_test (tc, test_gbfs_fixture);
  tcase_add_test (tc, test_gbfs_missing_file);
  tcase_add_test (tc, test_gbfs_malformed);
  tcase_add_test (tc, test_gbfs_v23);
  tcase_add_test (tc, test_first_match_api);
  suite_add_tcase (s, tc);
  tc = tcase_create ("geofence-raster"); tcase_set_timeout (tc, 120);
  tcase_add_test (tc, test_rules_raster_matches_loop); suite_add_tcase (s, tc);
  tc = tcase_create ("policy");
  tcase_add_test (tc, test_policy_geojson);
  tcase_add_test (tc, test_policy_mds_geography);
  tcase_add_test (tc, test_policy_refused);
  suite_add_tcase (s, tc);
  return s;
}

int
main (void)
{
  SRunner *sr = srunner_create (geo_suite ());
  int failed;

  srunner_run_all (sr, CK_NORMAL);
  failed = srunner_ntests_failed (sr);
  srunner_free (sr);
  return failed == 0 ? 0 : 1;
}
