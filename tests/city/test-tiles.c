/* test-tiles.c — the MBTiles baker and reader: tiles decode as 256 px PNGs,
 * the count per zoom matches the city's bbox, rows are stored TMS-flipped,
 * streets show up where the road graph is, and bad input leaves no file.
 */
#include <check.h>
#include <cairo.h>
#include <glib/gstdio.h>
#include <sqlite3.h>
#include <string.h>

#include "ft-tiles.h"

/* A tiny hand-built city: a 6×6 street grid with one arterial, one park. */
typedef struct {
  FtCity         city;
  FtMultiPolygon park;
  FtPolygon      park_poly;
  FtRing         park_ring;
  FtLatLon       park_pts[4];
  FtZone         zone;
  char          *dir;
  char          *path;
} Fixture;

static Fixture *fx;

static void
fixture_setup (void)
{
  fx = g_new0 (Fixture, 1);
  FtCity *c = &fx->city;
  c->id = (char *) "tiny";
  c->name = (char *) "Tiny Town";
  memcpy (c->currency, "EUR", 4);
  c->bbox = (FtBBox) { 52.500, 13.380, 52.520, 13.410 };
  c->center = (FtLatLon) { 52.510, 13.395 };

  const int n = 6;
  FtRoadGraph *g = &c->graph;
  g->n_nodes = n * n;
  g->nodes = g_new (FtLatLon, g->n_nodes);
  for (int i = 0; i < n; i++)
    for (int j = 0; j < n; j++)
      g->nodes[i * n + j] = (FtLatLon) { 52.501 + i * 0.0036, 13.381 + j * 0.0055 };
  /* neighbours right and down, both directions */
  GArray *edges = g_array_new (FALSE, TRUE, sizeof (FtEdge));
  g->first_edge = g_new0 (guint32, g->n_nodes + 1);
  for (int u = 0; u < n * n; u++)
    {
      int i = u / n, j = u % n;
      int nb[4] = { j + 1 < n ? u + 1 : -1, j > 0 ? u - 1 : -1,
                    i + 1 < n ? u + n : -1, i > 0 ? u - n : -1 };
      g->first_edge[u] = edges->len;
      for (int k = 0; k < 4; k++)
        if (nb[k] >= 0)
          {
            FtEdge e = { (guint32) nb[k], 300.0f, FT_ROAD_RESIDENTIAL, 0 };
            if (i == 2 && k < 2)
              e.road_class = FT_ROAD_ARTERIAL;
            if (j == 4 && k >= 2)
              e.road_class = FT_ROAD_CYCLEWAY;
            g_array_append_val (edges, e);
          }
    }
  g->first_edge[g->n_nodes] = edges->len;
  g->n_edges = edges->len;
  g->edges = (FtEdge *) g_array_free (edges, FALSE);

  fx->park_pts[0] = (FtLatLon) { 52.5115, 13.3870 };
  fx->park_pts[1] = (FtLatLon) { 52.5115, 13.3950 };
  fx->park_pts[2] = (FtLatLon) { 52.5160, 13.3950 };
  fx->park_pts[3] = (FtLatLon) { 52.5160, 13.3870 };
  fx->park_ring = (FtRing) { fx->park_pts, 4 };
  fx->park_poly = (FtPolygon) { &fx->park_ring, 1 };
  fx->park = (FtMultiPolygon) { &fx->park_poly, 1, { 52.5115, 13.3870, 52.5160, 13.3950 } };
  fx->zone = (FtZone) { (char *) "z1", (char *) "Park", FT_ZONE_PARK, &fx->park,
                        { 52.513, 13.391 }, 0.25, 1.0 };
  c->zones = &fx->zone;
  c->n_zones = 1;

  fx->dir = g_dir_make_tmp ("ft-tiles-XXXXXX", NULL);
  fx->path = g_build_filename (fx->dir, "tiles.mbtiles", NULL);
}

static void
fixture_teardown (void)
{
  g_unlink (fx->path);
  g_rmdir (fx->dir);
  g_free (fx->dir);
  g_free (fx->path);
  g_free (fx->city.graph.nodes);
  g_free (fx->city.graph.first_edge);
  g_free (fx->city.graph.edges);
  g_free (fx);
}

typedef struct { const guint8 *p; gsize left; } PngReader;

static cairo_status_t
png_read_cb (void *closure, unsigned char *data, unsigned int length)
{
  PngReader *r = closure;
  if (length > r->left)
    return CAIRO_STATUS_READ_ERROR;
  memcpy (data, r->p, length);
  r->p += length;
  r->left -= length;
  return CAIRO_STATUS_SUCCESS;
}

static cairo_surface_t *
decode (GBytes *png)
{
  gsize len;
  PngReader r = { g_bytes_get_data (png, &len), 0 };
  r.left = len;
  return cairo_image_surface_create_from_png_stream (png_read_cb, &r);
}

/* Number of distinct pixel colours (capped) in a decoded tile. */
static guint
n_colours (cairo_surface_t *s)
{
  g_autoptr(GHashTable) seen = g_hash_table_new (NULL, NULL);
  const guint8 *d = cairo_image_surface_get_data (s);
  int stride = cairo_image_surface_get_stride (s);
  for (int y = 0; y < 256; y++)
    for (int x = 0; x < 256; x++)
      {
        guint32 px = *(const guint32 *) (d + y * stride + x * 4) & 0xffffff;
        g_hash_table_add (seen, GUINT_TO_POINTER (px + 1));
      }
  return g_hash_table_size (seen);
}

static gboolean
progress_count (double fraction, gpointer data)
{
  double *last = data;
  ck_assert (fraction >= *last && fraction <= 1.0 + 1e-9);
  *last = fraction;
  return TRUE;
}

START_TEST (test_bake_counts)
{
  g_autoptr(GError) error = NULL;
  double last = 0;
  ck_assert_msg (ft_tiles_bake (&fx->city, fx->path, 12, 16, TRUE, progress_count, &last, &error),
                 "%s", error ? error->message : "");
  ck_assert_double_eq_tol (last, 1.0, 1e-9);

  g_autoptr(FtTiles) t = ft_tiles_open (fx->path, &error);
  ck_assert_msg (t != NULL, "%s", error ? error->message : "");
  ck_assert_int_eq (ft_tiles_get_min_zoom (t), 12);
  ck_assert_int_eq (ft_tiles_get_max_zoom (t), 16);
  for (int z = 12; z <= 16; z++)
    {
      int x0, y0, x1, y1;
      ft_tiles_bbox_range (&fx->city.bbox, z, &x0, &y0, &x1, &y1);
      ck_assert_uint_eq (ft_tiles_count (t, z), (guint) ((x1 - x0 + 1) * (y1 - y0 + 1)));
    }
  ck_assert_uint_eq (ft_tiles_count (t, 17), 0);
  FtBBox b;
  ck_assert (ft_tiles_get_bounds (t, &b));
  ck_assert_double_eq_tol (b.min_lat, 52.5, 1e-6);
  ck_assert_double_eq_tol (b.max_lon, 13.41, 1e-6);
  g_autofree char *fmt = ft_tiles_dup_metadata (t, "format");
  ck_assert_str_eq (fmt, "png");
}
END_TEST

START_TEST (test_tms_rows)
{
  g_autoptr(GError) error = NULL;
  ck_assert (ft_tiles_bake (&fx->city, fx->path, 14, 14, FALSE, NULL, NULL, &error));
  /* Berlin 52.51N 13.395E at z14 is tile x=8801, y=5373 (XYZ). */
  int x, y;
  ft_tiles_latlon_to_tile (fx->city.center, 14, &x, &y);
  ck_assert_int_eq (x, 8801);
  ck_assert_int_eq (y, 5373);
  sqlite3 *db;
  ck_assert_int_eq (sqlite3_open (fx->path, &db), SQLITE_OK);
  sqlite3_stmt *st;
  ck_assert_int_eq (sqlite3_prepare_v2 (db, "SELECT count(*) FROM tiles WHERE zoom_level=14 AND tile_column=? AND tile_row=?", -1, &st, NULL), SQLITE_OK);
  sqlite3_bind_int (st, 1, x);
  sqlite3_bind_int (st, 2, (1 << 14) - 1 - y);
  ck_assert_int_eq (sqlite3_step (st), SQLITE_ROW);
  ck_assert_int_eq (sqlite3_column_int (st, 0), 1);
  sqlite3_reset (st);
  sqlite3_bind_int (st, 2, y);   /* unflipped row must not be there */
  ck_assert_int_eq (sqlite3_step (st), SQLITE_ROW);
  ck_assert_int_eq (sqlite3_column_int (st, 0), 0);
  sqlite3_finalize (st);
  sqlite3_close (db);

  g_autoptr(FtTiles) t = ft_tiles_open (fx->path, &error);
  g_autoptr(GBytes) png = ft_tiles_get (t, 14, x, y);
  ck_assert (png != NULL);
  ck_assert (ft_tiles_get (t, 14, x, (1 << 14) - 1 - y) == NULL);
  ck_assert (ft_tiles_get (t, 14, -1, 0) == NULL);
}
END_TEST

START_TEST (test_png_content)
{
  g_autoptr(GError) error = NULL;
  ck_assert (ft_tiles_bake (&fx->city, fx->path, 12, 17, TRUE, NULL, NULL, &error));
  g_autoptr(FtTiles) t = ft_tiles_open (fx->path, &error);
  for (int z = 12; z <= 17; z++)
    {
      int x, y;
      /* node (2,2) sits on the arterial: its tile must show streets */
      ft_tiles_latlon_to_tile (fx->city.graph.nodes[2 * 6 + 2], z, &x, &y);
      g_autoptr(GBytes) png = ft_tiles_get (t, z, x, y);
      ck_assert_msg (png != NULL, "tile %d/%d/%d missing", z, x, y);
      const guint8 *d = g_bytes_get_data (png, NULL);
      ck_assert (memcmp (d, "\x89PNG\r\n\x1a\n", 8) == 0);
      cairo_surface_t *s = decode (png);
      ck_assert_int_eq (cairo_surface_status (s), CAIRO_STATUS_SUCCESS);
      ck_assert_int_eq (cairo_image_surface_get_width (s), 256);
      ck_assert_int_eq (cairo_image_surface_get_height (s), 256);
      ck_assert_msg (n_colours (s) > 3, "tile %d/%d/%d is nearly uniform", z, x, y);
      cairo_surface_destroy (s);
    }
  /* A tile far from everything but inside the bbox corner is plain land. */
  const char *out = g_getenv ("FT_TILES_DUMP");
  if (out)
    {
      int x, y;
      ft_tiles_latlon_to_tile (fx->city.center, 16, &x, &y);
      g_autoptr(GBytes) png = ft_tiles_get (t, 16, x, y);
      g_file_set_contents (out, g_bytes_get_data (png, NULL), g_bytes_get_size (png), NULL);
    }
}
END_TEST

static gboolean
progress_cancel (double fraction, gpointer data)
{
  return fraction < 0.5;
}

START_TEST (test_bad_input)
{
  g_autoptr(GError) error = NULL;
  ck_assert (!ft_tiles_bake (&fx->city, fx->path, 15, 12, FALSE, NULL, NULL, &error));
  ck_assert (g_error_matches (error, FT_TILES_ERROR, FT_TILES_ERROR_INVALID));
  ck_assert (strstr (error->message, "15") != NULL);
  ck_assert (!g_file_test (fx->path, G_FILE_TEST_EXISTS));
  g_clear_error (&error);

  ck_assert (!ft_tiles_bake (&fx->city, fx->path, 12, 14, FALSE, progress_cancel, NULL, &error));
  ck_assert (g_error_matches (error, FT_TILES_ERROR, FT_TILES_ERROR_CANCELLED));
  ck_assert (!g_file_test (fx->path, G_FILE_TEST_EXISTS));
  g_autoptr(GDir) d = g_dir_open (fx->dir, 0, NULL);
  ck_assert_msg (g_dir_read_name (d) == NULL, "temporary file left behind");
  g_clear_error (&error);

  FtBBox saved = fx->city.bbox;
  fx->city.bbox = (FtBBox) { 1, 1, 0, 0 };
  ck_assert (!ft_tiles_bake (&fx->city, fx->path, 12, 12, FALSE, NULL, NULL, &error));
  ck_assert (g_error_matches (error, FT_TILES_ERROR, FT_TILES_ERROR_INVALID));
  fx->city.bbox = saved;
  g_clear_error (&error);

  g_autofree char *bad_dir = g_build_filename (fx->dir, "no", "such", "t.mbtiles", NULL);
  ck_assert (!ft_tiles_bake (&fx->city, bad_dir, 12, 12, FALSE, NULL, NULL, &error));
  ck_assert (g_error_matches (error, FT_TILES_ERROR, FT_TILES_ERROR_IO));
  g_clear_error (&error);

  ck_assert (ft_tiles_open (fx->path, &error) == NULL);
  ck_assert (g_error_matches (error, FT_TILES_ERROR, FT_TILES_ERROR_IO));
  g_clear_error (&error);

  ck_assert (g_file_set_contents (fx->path, "not a database at all, just text", -1, NULL));
  ck_assert (ft_tiles_open (fx->path, &error) == NULL);
  ck_assert (error != NULL);
  ck_assert (strstr (error->message, fx->path) != NULL);
}
END_TEST

START_TEST (test_render_single)
{
  g_autoptr(GError) error = NULL;
  int x, y;
  ft_tiles_latlon_to_tile (fx->city.center, 15, &x, &y);
  g_autoptr(GBytes) png = ft_tiles_render_png (&fx->city, NULL, 15, x, y, FALSE, &error);
  ck_assert (png != NULL);
  ck_assert (ft_tiles_render_png (&fx->city, NULL, 15, 1 << 15, 0, FALSE, &error) == NULL);
  ck_assert (g_error_matches (error, FT_TILES_ERROR, FT_TILES_ERROR_INVALID));
}
END_TEST

static Suite *
tiles_suite (void)
{
  Suite *s = suite_create ("tiles");
  struct { const char *name; const TTest *t; } cases[] = {
    { "bake-counts", test_bake_counts },
    { "tms-rows", test_tms_rows },
    { "png-content", test_png_content },
    { "bad-input", test_bad_input },
    { "render-single", test_render_single },
  };
  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      TCase *tc = tcase_create (cases[i].name);
      tcase_add_checked_fixture (tc, fixture_setup, fixture_teardown);
      tcase_add_test (tc, cases[i].t);
      tcase_set_timeout (tc, 120);
      suite_add_tcase (s, tc);
    }
  return s;
}

int
main (void)
{
  SRunner *sr = srunner_create (tiles_suite ());
  srunner_run_all (sr, CK_NORMAL);
  int failed = srunner_ntests_failed (sr);
  srunner_free (sr);
  return failed == 0 ? 0 : 1;
}
