/* test-cities.c — issue 19 item 15 in the desktop app, under Xvfb, in
 * process: the other shipped cities have a base map.
 *
 * jc-base-map: the Jersey City replay (a city built from trips alone, no
 *   streets) shows a base map of its own: the pack's tiles (baked with its
 *   zones and operating area), not Demo City's, and the map is drawn whole
 *   with the overlay and the vehicles hidden.
 * monaco-sea: Monaco (OpenStreetMap) draws the sea from the coastline: a
 *   point out at sea is water-coloured on the base map and a point in the
 *   old town is not; no zone covers a point of a reference stretch of sea
 *   off the coast (a polygon kept here, at least 100 m off the shore), and
 *   the zones' share of area in the drawn water is below 1 %; at the start
 *   and after two simulated hours no vehicle stands at sea.
 * Screenshots at 1280x720 and 2560x1440, light and dark:
 * city-<name>-<size>[-dark].png.
 *
 * The city caches go to a fresh folder (XDG_CACHE_HOME), so the packs and
 * their tiles are built by the code under test.
 */
#include "ft-config.h"
#include "ft-test-app.h"
#include "ft-application.h"
#include "ft-screenshot.h"
#include "ft-tiles.h"
#include "ft-window.h"

#include <check.h>
#include <glib/gstdio.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

static char *cache_dir;

static FtSimScenario *
load_scenario (const char *file)
{
  g_autofree char *p = g_build_filename (FT_SOURCE_DIR, "scenarios", file, NULL);
  g_autoptr(GError) error = NULL;
  FtSimScenario *sc = ft_sim_scenario_load (p, &error);
  ck_assert_msg (sc != NULL, "%s", error ? error->message : "");
  return sc;
}

static FtWindow *
start_app (FtApplication **app_out, FtSession **session_out, const char *file)
{
  gtk_init ();
  FtApplication *app = ft_application_new ();
  g_autoptr(GError) error = NULL;
  ck_assert_msg (g_application_register (G_APPLICATION (app), NULL, &error), "%s", error ? error->message : "");
  FtSession *session = ft_session_new ();
  gint64 t0 = g_get_monotonic_time ();
  ck_assert_msg (ft_session_load (session, load_scenario (file), NULL, &error), "%s", error ? error->message : "");
  printf ("%s: city, tiles and world in %.1f s (fresh cache)\n", file, (g_get_monotonic_time () - t0) / 1e6);
  FtWindow *win = ft_window_new (GTK_APPLICATION (app), session);
  gtk_window_set_default_size (GTK_WINDOW (win), 1280, 720);
  gtk_window_present (GTK_WINDOW (win));
  *app_out = app;
  *session_out = session;
  return win;
}

/* Shows only the base map (tiles), or everything again. */
static void
base_map_only (FtWindow *win, gboolean only)
{
  gtk_widget_set_visible (GTK_WIDGET (ft_window_get_overlay_layer (win)), !only);
  gtk_widget_set_visible (GTK_WIDGET (ft_window_get_vehicle_layer (win)), !only);
}

/* The map, once it is drawn whole (or after timeout_s). */
static GdkTexture *
map_shot (FtWindow *win, double timeout_s)
{
  gint64 t0 = g_get_monotonic_time ();
  GdkTexture *shot = NULL;
  while ((g_get_monotonic_time () - t0) < timeout_s * G_USEC_PER_SEC)
    {
      ft_test_app_spin (0.1);
      g_clear_object (&shot);
      shot = ft_screenshot_widget (GTK_WIDGET (ft_window_get_map (win)));
      FtPixelStats st;
      if (shot)
        ft_screenshot_stats (shot, 0, 0, 0, 0, &st);
      if (shot && st.n_transparent == 0)
        break;
    }
  ck_assert (shot != NULL);
  return shot;
}

/* RGB at the texture's centre. */
static void
centre_rgb (GdkTexture *tex, int *r, int *g, int *b, int *a)
{
  int w = gdk_texture_get_width (tex), h = gdk_texture_get_height (tex);
  g_autofree guint8 *d = g_malloc ((gsize) w * h * 4);
  gdk_texture_download (tex, d, (gsize) w * 4);
  guint32 p = ((guint32 *) d)[(gsize) (h / 2) * w + w / 2];
  *a = p >> 24, *r = (p >> 16) & 0xff, *g = (p >> 8) & 0xff, *b = p & 0xff;
}

static void
centre_on (FtWindow *win, FtLatLon p, double zoom)
{
  ShumateViewport *vp = shumate_map_get_viewport (ft_window_get_map (win));
  shumate_viewport_set_zoom_level (vp, zoom);
  shumate_location_set_location (SHUMATE_LOCATION (vp), p.lat, p.lon);
}

/* Light and dark at 1280x720, then 2560x1440. */
static void
shots (FtWindow *win, const char *name)
{
  const int sizes[2][2] = { { 1280, 720 }, { 2560, 1440 } };
  for (guint s = 0; s < 2; s++)
    {
      gtk_window_set_default_size (GTK_WINDOW (win), sizes[s][0], sizes[s][1]);
      for (int dark = 0; dark < 2; dark++)
        {
          g_object_set (gtk_settings_get_default (), "gtk-application-prefer-dark-theme", dark, NULL);
          ft_test_app_spin (1.0);
          g_autofree char *file = g_strdup_printf ("city-%s-%dx%d%s.png", name, sizes[s][0], sizes[s][1],
                                                   dark ? "-dark" : "");
          g_autoptr(GdkTexture) t = ft_test_app_shot (GTK_WIDGET (win), file);
        }
    }
  g_object_set (gtk_settings_get_default (), "gtk-application-prefer-dark-theme", FALSE, NULL);
  gtk_window_set_default_size (GTK_WINDOW (win), 1280, 720);
  ft_test_app_spin (0.5);
}

START_TEST (test_jc_base_map)
{
  FtApplication *app;
  FtSession *session;
  FtWindow *win = start_app (&app, &session, "citibike-jc-replay.scenario");
  const FtCity *city = ft_session_get_city (session);
  const char *tiles = ft_session_get_tiles_path (session);
  printf ("Jersey City: %u zones, %u street nodes, tiles %s\n", city->n_zones, city->graph.n_nodes,
          tiles ? tiles : "(none)");
  ck_assert_msg (tiles != NULL && g_strcmp0 (tiles, g_getenv ("FT_DEMO_TILES")) != 0,
                 "the Jersey City replay has no base map of its own (tiles: %s)", tiles ? tiles : "none");
  g_autoptr(GError) error = NULL;
  g_autoptr(FtTiles) t = ft_tiles_open (tiles, &error);
  ck_assert_msg (t != NULL, "%s", error ? error->message : "");
  FtBBox bb;
  ck_assert (ft_tiles_get_bounds (t, &bb) && ft_bbox_contains (&bb, city->center));

  /* The base map alone is drawn whole over the city. */
  base_map_only (win, TRUE);
  centre_on (win, city->center, 14);
  g_autoptr(GdkTexture) shot = map_shot (win, 30);
  FtPixelStats st;
  ft_screenshot_stats (shot, 0, 0, 0, 0, &st);
  printf ("Jersey City base map: %u of %u pixels transparent, %u colours\n", st.n_transparent,
          st.width * st.height, st.n_colours);
  g_autofree char *path = ft_test_app_shot_path ("city-jersey-city-base-map.png");
  gdk_texture_save_to_png (shot, path);
  ck_assert_msg (st.n_transparent == 0, "%u pixels of the base map are blank", st.n_transparent);
  ck_assert_uint_ge (st.n_colours, 4);   /* land, zones, their outlines, the operating area */
  base_map_only (win, FALSE);
  shots (win, "jersey-city");

  ft_test_app_stop (app, win);
  g_object_unref (session);
}
END_TEST

/* A stretch of the Mediterranean off Monaco, from Fontvieille to Larvotto:
 * its corners 170 m off the extract's coastline, its edges at least 100 m
 * off. Full hexagonal zones (before the sea was cut out) covered 344 of
 * the 34,560 samples below inside it. */
static const FtLatLon ref_sea[] = {
  { 43.7217, 7.4155 }, { 43.7249, 7.4220 }, { 43.7276, 7.4260 }, { 43.7330, 7.4312 },
  { 43.7365, 7.4342 }, { 43.7426, 7.4344 }, { 43.7454, 7.4412 }, { 43.7486, 7.4461 },
  { 43.7400, 7.4520 }, { 43.7300, 7.4450 }, { 43.7200, 7.4300 },
};
static const FtLatLon sea_point = { 43.7330, 7.4380 };     /* off Port Hercule */
static const FtLatLon land_point = { 43.7312, 7.4205 };    /* the old town on the Rock */

START_TEST (test_monaco_sea)
{
  FtApplication *app;
  FtSession *session;
  FtWindow *win = start_app (&app, &session, "monaco-citibike.scenario");
  const FtCity *city = ft_session_get_city (session);
  g_autoptr(FtMultiPolygon) ref = ft_multipolygon_new ();
  ft_multipolygon_add_ring (ref, ref_sea, G_N_ELEMENTS (ref_sea));
  ck_assert (ft_multipolygon_contains (ref, sea_point));

  /* The sea is drawn: water-coloured out at sea, not on the Rock. */
  base_map_only (win, TRUE);
  centre_on (win, sea_point, 15);
  g_autoptr(GdkTexture) sea = map_shot (win, 30);
  int r, g, b, a;
  centre_rgb (sea, &r, &g, &b, &a);
  printf ("Monaco base map at sea %.4f,%.4f: rgb %d,%d,%d\n", sea_point.lat, sea_point.lon, r, g, b);
  g_autofree char *path = ft_test_app_shot_path ("city-monaco-base-map-sea.png");
  gdk_texture_save_to_png (sea, path);
  ck_assert_msg (abs (r - 170) <= 8 && abs (g - 211) <= 8 && abs (b - 223) <= 8,
                 "the sea off Monaco is not drawn as water (rgb %d,%d,%d)", r, g, b);
  centre_on (win, land_point, 15);
  g_autoptr(GdkTexture) land = map_shot (win, 30);
  centre_rgb (land, &r, &g, &b, &a);
  printf ("Monaco base map on land %.4f,%.4f: rgb %d,%d,%d\n", land_point.lat, land_point.lon, r, g, b);
  ck_assert_msg (!(abs (r - 170) <= 8 && abs (g - 211) <= 8 && abs (b - 223) <= 8), "the Rock is drawn as sea");
  base_map_only (win, FALSE);

  /* Zones keep off the sea: area sampled on a 24x24 grid per zone. */
  guint in_zones = 0, at_sea = 0, in_ref = 0;
  for (guint z = 0; z < city->n_zones; z++)
    {
      const FtBBox *zb = &city->zones[z].area->bbox;
      for (int i = 0; i < 24; i++)
        for (int j = 0; j < 24; j++)
          {
            FtLatLon p = { zb->min_lat + (i + 0.5) / 24 * (zb->max_lat - zb->min_lat),
                           zb->min_lon + (j + 0.5) / 24 * (zb->max_lon - zb->min_lon) };
            if (!ft_multipolygon_contains (city->zones[z].area, p))
              continue;
            in_zones++;
            if (city->water && ft_multipolygon_contains (city->water, p))
              at_sea++;
            if (ft_multipolygon_contains (ref, p))
              in_ref++;
          }
    }
  printf ("Monaco: %u zones; of %u zone samples %u in the drawn water (%.2f %%), %u in the reference sea\n",
          city->n_zones, in_zones, at_sea, 100.0 * at_sea / MAX (in_zones, 1), in_ref);
  ck_assert_uint_gt (in_zones, 1000);
  ck_assert_msg (in_ref == 0, "%u zone samples lie in the reference stretch of sea", in_ref);
  ck_assert_msg (at_sea < in_zones / 100, "%.2f %% of the zones' area is at sea", 100.0 * at_sea / in_zones);

  /* Vehicles stay ashore: at the start and after two simulated hours. */
  for (int pass = 0; pass < 2; pass++)
    {
      if (pass == 1)
        {
          FtTime until = ft_session_get_time (session) + 2 * FT_HOUR;
          ft_session_run_to (session, until);
          gint64 t0 = g_get_monotonic_time ();
          while (ft_session_get_time (session) < until && g_get_monotonic_time () - t0 < 120 * G_USEC_PER_SEC)
            ft_test_app_spin (0.1);
          ck_assert (ft_session_get_time (session) >= until);
        }
      FtFrame *f = ft_session_get_frame (session);
      guint wet = 0, ref_wet = 0;
      for (guint v = 0; v < f->n_vehicles; v++)
        {
          FtLatLon p = ft_mercator_to_latlon (f->vehicles[v].mx, f->vehicles[v].my);
          if (ft_multipolygon_contains (ref, p))
            ref_wet++;
          if (city->water && ft_multipolygon_contains (city->water, p))
            wet++;
        }
      printf ("Monaco %s: %u vehicles, %u in the drawn water, %u in the reference sea\n",
              pass ? "after 2 h" : "at the start", f->n_vehicles, wet, ref_wet);
      ck_assert_uint_eq (ref_wet, 0);
      ck_assert_uint_eq (wet, 0);
    }
  shots (win, "monaco");

  ft_test_app_stop (app, win);
  g_object_unref (session);
}
END_TEST

int
main (void)
{
  setvbuf (stdout, NULL, _IOLBF, 0);   /* keep what a failed test printed */
  g_autoptr(GError) error = NULL;
  cache_dir = g_dir_make_tmp ("ft-cities-XXXXXX", &error);
  if (cache_dir == NULL)
    {
      fprintf (stderr, "%s\n", error->message);
      return 1;
    }
  g_setenv ("XDG_CACHE_HOME", cache_dir, TRUE);   /* before GLib reads it */
  Suite *s = suite_create ("cities");
  TCase *tc = tcase_create ("jc-base-map");
  tcase_add_test (tc, test_jc_base_map);
  tcase_set_timeout (tc, 300);
  suite_add_tcase (s, tc);
  tc = tcase_create ("monaco-sea");
  tcase_add_test (tc, test_monaco_sea);
  tcase_set_timeout (tc, 400);
  suite_add_tcase (s, tc);
  SRunner *sr = srunner_create (s);
  srunner_run_all (sr, CK_NORMAL);
  int failed = srunner_ntests_failed (sr);
  srunner_free (sr);
  g_autofree char *cmd = g_strdup_printf ("rm -rf '%s'", cache_dir);
  if (system (cmd) != 0)
    failed++;
  g_free (cache_dir);
  return failed == 0 ? 0 : 1;
}
