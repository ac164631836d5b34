/* test-coast.c — the sea from coastline ways (src/city/ft-coast.c) on
 * made-up coasts in a 1°×1° box: land on a coast's left, the sea closed
 * clockwise along the box's edge; ways joined by node id in any order; an
 * island inside the sea is a hole; a coast that ends inside the box runs
 * to the nearest edge; the sea cut out of a convex zone as a hole.
 */
#include "ft-city-private.h"

#include <check.h>
#include <math.h>

static const FtBBox box = { 0.0, 0.0, 1.0, 1.0 };   /* min_lat, min_lon, max_lat, max_lon */

static double
area_deg2 (const FtMultiPolygon *mp)
{
  /* outer minus holes, orientation-independent, on the degree plane */
  double total = 0;
  for (guint p = 0; p < mp->n_polys; p++)
    for (guint r = 0; r < mp->polys[p].n_rings; r++)
      {
        const FtRing *ring = &mp->polys[p].rings[r];
        double a = 0;
        for (guint i = 0, j = ring->n - 1; i < ring->n; j = i++)
          a += ring->pts[j].lon * ring->pts[i].lat - ring->pts[i].lon * ring->pts[j].lat;
        total += (r == 0 ? 1 : -1) * fabs (a / 2);
      }
  return total;
}

START_TEST (test_straight_coast)
{
  /* west to east along lat 0.5 (slightly beyond the box): land north */
  gint64 ids[] = { 1, 2, 3 };
  FtLatLon pts[] = { { 0.5, -0.2 }, { 0.5, 0.5 }, { 0.5, 1.2 } };
  FtCoastWay w = { ids, pts, 3 };
  g_autoptr(FtMultiPolygon) sea = ft_coast_sea (&w, 1, &box);
  ck_assert (sea != NULL);
  ck_assert_double_eq_tol (area_deg2 (sea), 0.5, 1e-9);
  ck_assert (ft_multipolygon_contains (sea, (FtLatLon) { 0.25, 0.5 }));
  ck_assert (!ft_multipolygon_contains (sea, (FtLatLon) { 0.75, 0.5 }));

  /* the same coast drawn east to west: land south, the sea north */
  FtLatLon rev[] = { { 0.5, 1.2 }, { 0.5, 0.5 }, { 0.5, -0.2 } };
  FtCoastWay wr = { ids, rev, 3 };
  g_autoptr(FtMultiPolygon) north = ft_coast_sea (&wr, 1, &box);
  ck_assert (ft_multipolygon_contains (north, (FtLatLon) { 0.75, 0.5 }));
  ck_assert (!ft_multipolygon_contains (north, (FtLatLon) { 0.25, 0.5 }));
}
END_TEST

START_TEST (test_joined_bay_and_island)
{
  /* a bay: in from the west edge, down, out of the east edge (land to the
   * north and in the middle), given as two ways in the wrong order, and an
   * island (counter-clockwise) out at sea */
  gint64 a_ids[] = { 10, 11, 12 }, b_ids[] = { 12, 13, 14 }, i_ids[] = { 20, 21, 22, 23, 20 };
  FtLatLon a_pts[] = { { 0.6, -0.1 }, { 0.6, 0.3 }, { 0.3, 0.5 } };
  FtLatLon b_pts[] = { { 0.3, 0.5 }, { 0.6, 0.7 }, { 0.6, 1.1 } };
  FtLatLon i_pts[] = { { 0.1, 0.1 }, { 0.1, 0.2 }, { 0.2, 0.2 }, { 0.2, 0.1 }, { 0.1, 0.1 } };
  FtCoastWay ways[] = { { b_ids, b_pts, 3 }, { i_ids, i_pts, 5 }, { a_ids, a_pts, 3 } };
  g_autoptr(FtMultiPolygon) sea = ft_coast_sea (ways, 3, &box);
  ck_assert (sea != NULL);
  ck_assert_uint_eq (sea->n_polys, 1);
  ck_assert_uint_eq (sea->polys[0].n_rings, 2);   /* the island is a hole */
  ck_assert (ft_multipolygon_contains (sea, (FtLatLon) { 0.05, 0.5 }));
  ck_assert (!ft_multipolygon_contains (sea, (FtLatLon) { 0.15, 0.15 }));   /* on the island */
  ck_assert (!ft_multipolygon_contains (sea, (FtLatLon) { 0.5, 0.5 }));     /* the headland */
  ck_assert (!ft_multipolygon_contains (sea, (FtLatLon) { 0.9, 0.5 }));
  /* below 0.6 outside the headland, minus the island */
  double want = 0.6 - 0.5 * 0.4 * 0.3 - 0.01;
  ck_assert_double_eq_tol (area_deg2 (sea), want, 1e-9);
}
END_TEST

START_TEST (test_end_inside_box)
{
  /* the extract cut the coast inside the box: its ends go straight to the
   * nearest edge (west and east) */
  gint64 ids[] = { 1, 2, 3 };
  FtLatLon pts[] = { { 0.4, 0.05 }, { 0.4, 0.5 }, { 0.4, 0.95 } };
  FtCoastWay w = { ids, pts, 3 };
  g_autoptr(FtMultiPolygon) sea = ft_coast_sea (&w, 1, &box);
  ck_assert (sea != NULL);
  ck_assert_double_eq_tol (area_deg2 (sea), 0.4, 1e-9);
  /* no coast reaches the box: no sea */
  FtLatLon far[] = { { 5, 5 }, { 5, 6 } };
  FtCoastWay wf = { ids, far, 2 };
  ck_assert (ft_coast_sea (&wf, 1, &box) == NULL);
  ck_assert (ft_coast_sea (NULL, 0, &box) == NULL);
}
END_TEST

START_TEST (test_cut_zone)
{
  gint64 ids[] = { 1, 2 };
  FtLatLon pts[] = { { 0.5, -0.2 }, { 0.5, 1.2 } };
  FtCoastWay w = { ids, pts, 2 };
  g_autoptr(FtMultiPolygon) sea = ft_coast_sea (&w, 1, &box);
  /* a square zone across the coast: its southern half is cut out */
  FtLatLon sq[] = { { 0.4, 0.4 }, { 0.4, 0.6 }, { 0.6, 0.6 }, { 0.6, 0.4 } };
  g_autoptr(FtMultiPolygon) zone = ft_multipolygon_new ();
  ft_multipolygon_add_ring (zone, sq, 4);
  double cut = ft_coast_cut_sea (zone, sea);
  ck_assert_double_eq_tol (cut, 0.5, 1e-9);
  ck_assert_uint_eq (zone->polys[0].n_rings, 2);
  ck_assert (ft_multipolygon_contains (zone, (FtLatLon) { 0.55, 0.5 }));
  ck_assert (!ft_multipolygon_contains (zone, (FtLatLon) { 0.45, 0.5 }));
  ck_assert_double_eq_tol (area_deg2 (zone), 0.02, 1e-9);
  /* a strait: sea south of lat 0.3 and north of lat 0.7, two polygons,
   * both cut out of a zone across it (two holes) */
  gint64 s_ids[] = { 1, 2 }, n_ids[] = { 3, 4 };
  FtLatLon s_pts[] = { { 0.3, -0.2 }, { 0.3, 1.2 } }, n_pts[] = { { 0.7, 1.2 }, { 0.7, -0.2 } };
  FtCoastWay strait[] = { { s_ids, s_pts, 2 }, { n_ids, n_pts, 2 } };
  g_autoptr(FtMultiPolygon) two = ft_coast_sea (strait, 2, &box);
  ck_assert_uint_eq (two->n_polys, 2);
  FtLatLon tall[] = { { 0.2, 0.4 }, { 0.2, 0.6 }, { 0.8, 0.6 }, { 0.8, 0.4 } };
  g_autoptr(FtMultiPolygon) across = ft_multipolygon_new ();
  ft_multipolygon_add_ring (across, tall, 4);
  ck_assert_double_eq_tol (ft_coast_cut_sea (across, two), 1.0 / 3.0, 1e-9);
  ck_assert_uint_eq (across->polys[0].n_rings, 3);
  ck_assert (ft_multipolygon_contains (across, (FtLatLon) { 0.5, 0.5 }));
  ck_assert (!ft_multipolygon_contains (across, (FtLatLon) { 0.25, 0.5 }));
  ck_assert (!ft_multipolygon_contains (across, (FtLatLon) { 0.75, 0.5 }));
  /* a zone all ashore is not touched */
  FtLatLon up[] = { { 0.7, 0.4 }, { 0.7, 0.6 }, { 0.9, 0.6 }, { 0.9, 0.4 } };
  g_autoptr(FtMultiPolygon) dry = ft_multipolygon_new ();
  ft_multipolygon_add_ring (dry, up, 4);
  ck_assert_double_eq_tol (ft_coast_cut_sea (dry, sea), 0.0, 1e-12);
  ck_assert_uint_eq (dry->polys[0].n_rings, 1);
}
END_TEST

int
main (void)
{
  Suite *s = suite_create ("coast");
  TCase *tc = tcase_create ("sea");
  tcase_add_test (tc, test_straight_coast);
  tcase_add_test (tc, test_joined_bay_and_island);
  tcase_add_test (tc, test_end_inside_box);
  tcase_add_test (tc, test_cut_zone);
  suite_add_tcase (s, tc);
  SRunner *sr = srunner_create (s);
  srunner_run_all (sr, CK_NORMAL);
  int failed = srunner_ntests_failed (sr);
  srunner_free (sr);
  return failed == 0 ? 0 : 1;
}
