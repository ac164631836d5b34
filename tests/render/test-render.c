/* test-render.c — the wallboard's drawing core and sources, headless (SDL's
 * software renderer onto a surface): time syntax, the day's revenue and
 * lost-demand spikes, one draw batch per layer, views held, tiles, and
 * every bad input the issue names (missing tile file, unreadable database,
 * broker refusing the connection, unknown controller) ending as a message
 * on the frame and in the error, never a crash or a blank frame. The
 * wallboard program and `render` are run as a user runs them.
 */
#define _GNU_SOURCE   /* memmem */
#include "ft-config.h"
#include "ft-test.h"
#include "ft-file.h"
#include "ft-sim-world.h"
#include "ft-wall-draw.h"
#include "ft-wall-input.h"
#include "ft-wall-source.h"
#include "ft-live.h"
#include "live-broker.h"

#include <cairo.h>
#include <check.h>
#include <glib/gstdio.h>
#include <math.h>
#include <sqlite3.h>
#include <string.h>
#include <sys/wait.h>

/* ---- helpers ---------------------------------------------------------------- */

typedef struct {
  SDL_Surface  *surf;
  SDL_Renderer *ren;
  FtWallDraw   *draw;
} Canvas;

static void
canvas_init (Canvas *c, int w, int h)
{
  SDL_SetHint (SDL_HINT_VIDEODRIVER, "dummy");
  ck_assert_int_eq (SDL_Init (0), 0);
  c->surf = SDL_CreateRGBSurfaceWithFormat (0, w, h, 32, SDL_PIXELFORMAT_ARGB8888);
  ck_assert_ptr_nonnull (c->surf);
  c->ren = SDL_CreateSoftwareRenderer (c->surf);
  ck_assert_ptr_nonnull (c->ren);
  c->draw = ft_wall_draw_new (c->ren);
  ft_wall_draw_set_overlay_interval (c->draw, 0);
}

static void
canvas_clear (Canvas *c)
{
  ft_wall_draw_free (c->draw);
  SDL_DestroyRenderer (c->ren);
  SDL_FreeSurface (c->surf);
  SDL_Quit ();
}

static guint32
pixel (Canvas *c, int x, int y)
{
  const guint8 *row = (const guint8 *) c->surf->pixels + (gsize) y * c->surf->pitch;
  return ((const guint32 *) row)[x] & 0xffffff;
}

static char *
tmp_dir (void)
{
  g_autoptr (GError) e = NULL;
  char *d = g_dir_make_tmp ("ft-render-XXXXXX", &e);
  ck_assert_msg (d != NULL, "%s", e ? e->message : "");
  return d;
}

/* A short Demo City run written to a run database (100 scooters, 6 hours). */
static char *
make_run_db_from (const char *dir, const char *text)
{
  g_autoptr (GError) e = NULL;
  g_autoptr (FtSimScenario) sc = ft_sim_scenario_parse (text, -1, "test", &e);
  ck_assert_msg (sc != NULL, "%s", e ? e->message : "");
  char *db = g_build_filename (dir, "run.db", NULL);
  FtSimWorldOptions opt = { db, 2000, NULL, 0 };
  g_autoptr (FtSimWorld) w = ft_sim_world_new (sc, NULL, &opt, &e);
  ck_assert_msg (w != NULL, "%s", e ? e->message : "");
  ck_assert (ft_sim_world_run (w, NULL, NULL, &e));
  ck_assert_msg (ft_sim_world_finish (w, &e), "%s", e ? e->message : "");
  return db;
}

static char *
make_run_db (const char *dir)
{
  return make_run_db_from (dir, "[scenario]\ncity=demo\ndays=0.25\nseed=7\n[fleet]\nscooters=100\nbikes=0\nmopeds=0\n");
}

static int
run_prog (const char *env_name, char **out, char **err, const char *const *extra_env, ...)
{
  const char *prog = g_getenv (env_name);
  ck_assert_msg (prog != NULL, "%s is not set", env_name);
  g_autoptr (GPtrArray) argv = g_ptr_array_new ();
  g_ptr_array_add (argv, (gpointer) prog);
  va_list ap;
  va_start (ap, extra_env);
  for (const char *a = va_arg (ap, const char *); a; a = va_arg (ap, const char *))
    g_ptr_array_add (argv, (gpointer) a);
  va_end (ap);
  g_ptr_array_add (argv, NULL);
  g_auto (GStrv) env = g_get_environ ();
  for (guint i = 0; extra_env && extra_env[i]; i += 2)
    env = g_environ_setenv (env, extra_env[i], extra_env[i + 1], TRUE);
  int status = -1;
  g_autoptr (GError) e = NULL;
  ck_assert_msg (g_spawn_sync (NULL, (char **) argv->pdata, env, G_SPAWN_DEFAULT, NULL, NULL, out, err, &status, &e),
                 "%s", e ? e->message : "");
  return WIFEXITED (status) ? WEXITSTATUS (status) : -1;
}

/* ---- scene ---------------------------------------------------------------------- */

START_TEST (test_parse_time)
{
  FtTime t;
  g_autoptr (GError) e = NULL;
  ck_assert (ft_wall_parse_time ("08:15", &t, NULL));
  ck_assert_int_eq (t, 8 * FT_HOUR + 15 * FT_MINUTE);
  ck_assert (ft_wall_parse_time ("1d 07:00:30", &t, NULL));
  ck_assert_int_eq (t, FT_DAY + 7 * FT_HOUR + 30000);
  ck_assert (ft_wall_parse_time ("2d23:59", &t, NULL));
  ck_assert_int_eq (t, 2 * FT_DAY + 23 * FT_HOUR + 59 * FT_MINUTE);
  ck_assert (ft_wall_parse_time ("3600s", &t, NULL));
  ck_assert_int_eq (t, FT_HOUR);
  const char *bad[] = { "", "8", "24:00", "08:60", "08:15x", "x08:15", "-1:00", "08:15:99", "1d" };
  for (guint i = 0; i < G_N_ELEMENTS (bad); i++)
    {
      g_clear_error (&e);
      ck_assert_msg (!ft_wall_parse_time (bad[i], &t, &e), "“%s” was accepted", bad[i]);
      g_autofree char *q = g_strdup_printf ("“%s”", bad[i]);
      ck_assert_msg (strstr (e->message, q) != NULL, "%s", e->message);
    }
  char buf[32];
  ft_wall_format_time (FT_DAY + 8 * FT_HOUR + 5 * FT_MINUTE, buf, sizeof buf);
  ck_assert_str_eq (buf, "Tue 08:05:00");
}
END_TEST

START_TEST (test_revenue_today)
{
  g_autoptr (FtWallScene) s = ft_wall_scene_new ();
  ft_wall_scene_set_revenue_total (s, 10 * FT_HOUR, 5000);
  ck_assert_int_eq (s->revenue_today_minor, 5000);
  ft_wall_scene_set_revenue_total (s, 23 * FT_HOUR, 8000);
  ck_assert_int_eq (s->revenue_today_minor, 8000);
  /* midnight: the new day starts from what was earned by then */
  ft_wall_scene_set_revenue_total (s, FT_DAY, 8200);
  ck_assert_int_eq (s->revenue_today_minor, 0);
  ft_wall_scene_set_revenue_total (s, FT_DAY + 9 * FT_HOUR, 9000);
  ck_assert_int_eq (s->revenue_today_minor, 800);
}
END_TEST

START_TEST (test_lost_spike)
{
  g_autoptr (FtWallScene) s = ft_wall_scene_new ();
  /* a steady 3 lost per 15 minutes for two hours: no alert */
  for (int b = 0; b < 8; b++)
    ft_wall_scene_note_lost (s, b * FT_WALL_LOST_BUCKET + FT_MINUTE, 3);
  ft_wall_scene_note_lost (s, 8 * FT_WALL_LOST_BUCKET + FT_MINUTE, 6);   /* 2x usual: not more */
  ft_wall_scene_note_lost (s, 9 * FT_WALL_LOST_BUCKET + FT_MINUTE, 20);  /* spike */
  ck_assert_uint_eq (s->n_alerts, 0);
  ft_wall_scene_note_lost (s, 10 * FT_WALL_LOST_BUCKET + FT_MINUTE, 1);  /* closes the spike's bucket */
  ck_assert_uint_eq (s->n_alerts, 1);
  const FtWallAlert *a = ft_wall_scene_get_alert (s, 0);
  ck_assert_int_eq (a->kind, FT_WALL_ALERT_LOST_DEMAND);
  ck_assert_msg (strstr (a->text, "20 requests lost") && strstr (a->text, "02:15"), "%s", a->text);
}
END_TEST

START_TEST (test_alert_ring)
{
  g_autoptr (FtWallScene) s = ft_wall_scene_new ();
  for (int i = 0; i < FT_WALL_MAX_ALERTS + 5; i++)
    ft_wall_scene_alert (s, FT_WALL_ALERT_INFO, i, "alert %d", i);
  ck_assert_uint_eq (s->n_alerts, FT_WALL_MAX_ALERTS);
  ck_assert_str_eq (ft_wall_scene_get_alert (s, 0)->text, "alert 36");
  ck_assert_str_eq (ft_wall_scene_get_alert (s, FT_WALL_MAX_ALERTS - 1)->text, "alert 5");
  ck_assert_ptr_null (ft_wall_scene_get_alert (s, FT_WALL_MAX_ALERTS));
}
END_TEST

/* ---- drawing ---------------------------------------------------------------------- */

static void
fill_vehicles (FtWallScene *s, guint n)
{
  FtLatLon a = { 54.182, 3.152 }, b = { 54.223, 3.240 };   /* Demo City */
  g_autoptr (GRand) r = g_rand_new_with_seed (5);
  for (guint i = 0; i < n; i++)
    {
      FtLatLon p = { a.lat + g_rand_double (r) * (b.lat - a.lat), a.lon + g_rand_double (r) * (b.lon - a.lon) };
      FtWallVehicle v = { 0 };
      ft_wall_project (p, &v.mx, &v.my);
      v.layer = i % FT_WALL_N_LAYERS;
      g_array_append_val (s->vehicles, v);
    }
}

static guint
count_pixels (Canvas *c, guint32 rgb)
{
  guint n = 0;
  for (int y = 0; y < c->surf->h; y++)
    for (int x = 0; x < c->surf->w; x++)
      n += pixel (c, x, y) == rgb;
  return n;
}

START_TEST (test_markers_per_layer)
{
  /* the software renderer's filled rectangles (its default), and the GPU's
   * quads: one batch per layer either way, and the same marker */
  const char *markers[] = { NULL, "quad" };
  guint lone[G_N_ELEMENTS (markers)];
  for (guint m = 0; m < G_N_ELEMENTS (markers); m++)
  {
  if (markers[m])
    g_setenv ("FT_WALL_MARKERS", markers[m], TRUE);
  Canvas c;
  canvas_init (&c, 640, 360);
  g_autoptr (FtWallScene) s = ft_wall_scene_new ();
  fill_vehicles (s, 10000);
  FtWallView v;
  ft_wall_view_city (&v, s, 640, 360);
  ck_assert (ft_wall_draw_frame (c.draw, s, &v, 640, 360, NULL));
  FtWallDrawStats st;
  ft_wall_draw_get_stats (c.draw, &st);
  ck_assert_uint_eq (markers[m] ? st.geometry_calls : st.rect_calls, FT_WALL_N_LAYERS);
  ck_assert_uint_eq (markers[m] ? st.rect_calls : st.geometry_calls, 0);
  ck_assert_uint_eq (st.vehicles_drawn, 10000);
  /* a lone vehicle in the middle of an empty map shows in its layer's colour */
  g_array_set_size (s->vehicles, 0);
  FtWallVehicle one = { 0.5f, 0.5f, FT_WALL_LAYER_DOWN, 0, 0 };
  g_array_append_val (s->vehicles, one);
  FtWallVehicle two = { 0.50001f, 0.50001f, FT_WALL_LAYER_AVAILABLE, 0, 0 };
  g_array_append_val (s->vehicles, two);
  v.cx = v.cy = 0.5;
  v.zoom = 14;
  ck_assert (ft_wall_draw_frame (c.draw, s, &v, 640, 360, NULL));
  ck_assert_uint_eq (pixel (&c, 320, 180), 0xd7232d);
  ft_wall_draw_get_stats (c.draw, &st);
  ck_assert_uint_eq (markers[m] ? st.geometry_calls : st.rect_calls, 2);
  lone[m] = count_pixels (&c, 0xd7232d);
  canvas_clear (&c);
  }
  g_unsetenv ("FT_WALL_MARKERS");
  /* a square of 2 x 2.6 px a side at zoom 14, give or take a row, the
   * same on both */
  ck_assert_msg (lone[0] >= 16 && lone[0] <= 49 && lone[1] >= 16 && lone[1] <= 49
                 && lone[0] * 4 >= lone[1] * 3 && lone[1] * 4 >= lone[0] * 3, "rect %u px, quad %u px",
                 lone[0], lone[1]);
}
END_TEST

START_TEST (test_van_alone)
{
  /* one van on its way and no vehicle: a van takes four quads, which once
   * overflowed arrays sized for the vehicles (ASan) */
  const char *markers[] = { NULL, "quad" };
  for (guint m = 0; m < G_N_ELEMENTS (markers); m++)
    {
      if (markers[m])
        g_setenv ("FT_WALL_MARKERS", markers[m], TRUE);
      Canvas c;
      canvas_init (&c, 640, 360);
      g_autoptr (FtWallScene) s = ft_wall_scene_new ();
      double px = 1.0 / (256.0 * 16384.0);   /* one pixel at zoom 14 */
      FtWallVan van = { 0.5f, (float) (0.5 + 100 * px), (float) (0.5 + 150 * px), (float) (0.5 + 100 * px), TRUE };
      g_array_append_val (s->vans, van);
      FtWallView v;
      ft_wall_view_city (&v, s, 640, 360);
      v.cx = v.cy = 0.5;
      v.zoom = 14;
      ck_assert (ft_wall_draw_frame (c.draw, s, &v, 640, 360, NULL));
      FtWallDrawStats st;
      ft_wall_draw_get_stats (c.draw, &st);
      ck_assert_uint_eq (st.vans_drawn, 1);
      ck_assert_uint_eq (pixel (&c, 320, 280), 0x8c3cc8);   /* the van */
      ck_assert_uint_eq (pixel (&c, 470, 280), 0x8c3cc8);   /* its next stop */
      canvas_clear (&c);
    }
  g_unsetenv ("FT_WALL_MARKERS");
}
END_TEST

START_TEST (test_view_settles)
{
  g_autoptr (FtWallScene) s = ft_wall_scene_new ();
  fill_vehicles (s, 1000);
  int w = 1280, h = 720;
  FtWallView shown = { .kind = FT_WALL_N_VIEWS }, v;
  ft_wall_view_city (&v, s, w, h);
  ck_assert (ft_wall_view_settle (&shown, &v, w, h));
  ck_assert (memcmp (&shown, &v, sizeof v) == 0);
  /* a vehicle a little past the fleet's edge: the view computed afresh
   * differs, the one shown (and its map) is kept, and still holds them all */
  double x0, y0, x1, y1;
  ck_assert (ft_wall_scene_extent (s, &x0, &y0, &x1, &y1));
  FtWallVehicle out = { (float) (x1 + (x1 - x0) * 0.02), (float) y0, FT_WALL_LAYER_BUSY, 0, 0 };
  g_array_append_val (s->vehicles, out);
  FtWallView fresh;
  ft_wall_view_city (&fresh, s, w, h);
  ck_assert (fresh.cx != shown.cx);
  ck_assert (!ft_wall_view_settle (&shown, &fresh, w, h));
  ck_assert (memcmp (&shown, &v, sizeof v) == 0);
  double world = 256.0 * exp2 (shown.zoom);
  for (guint i = 0; i < s->vehicles->len; i++)
    {
      const FtWallVehicle *e = &g_array_index (s->vehicles, FtWallVehicle, i);
      double x = (e->mx - shown.cx) * world + w / 2.0, y = (e->my - shown.cy) * world + h / 2.0;
      ck_assert_msg (x >= 0 && x < w && y >= 0 && y < h, "vehicle %u at %.1f, %.1f is off the screen", i, x, y);
    }
  /* the fleet spreads further: a new view */
  FtWallVehicle far = { (float) (x1 + (x1 - x0) * 0.3), (float) y0, FT_WALL_LAYER_BUSY, 0, 0 };
  g_array_append_val (s->vehicles, far);
  ft_wall_view_city (&fresh, s, w, h);
  ck_assert (ft_wall_view_settle (&shown, &fresh, w, h));
  ck_assert (memcmp (&shown, &fresh, sizeof v) == 0);
  /* another kind of view is always taken */
  ck_assert (ft_wall_view_district (&fresh, s, 0, w, h));
  ck_assert (ft_wall_view_settle (&shown, &fresh, w, h));
  ck_assert_int_eq (shown.kind, FT_WALL_VIEW_DISTRICT);
  ft_wall_view_charts (&fresh);
  ck_assert (ft_wall_view_settle (&shown, &fresh, w, h));
  ck_assert (!ft_wall_view_settle (&shown, &fresh, w, h));
}
END_TEST

START_TEST (test_district_held)
{
  /* two clusters about as busy: the busiest district changes hands as
   * vehicles come and go, the close-up shown stays where it is */
  g_autoptr (FtWallScene) s = ft_wall_scene_new ();
  int w = 1280, h = 720;
  for (guint i = 0; i < 99; i++)
    {
      FtLatLon p = i < 50 ? (FtLatLon) { 54.182 + i * 1e-5, 3.152 + i * 1e-5 }
                          : (FtLatLon) { 54.223 - i * 1e-5, 3.240 - i * 1e-5 };
      FtWallVehicle v = { 0 };
      ft_wall_project (p, &v.mx, &v.my);
      g_array_append_val (s->vehicles, v);
    }
  FtWallView shown = { .kind = FT_WALL_N_VIEWS }, fresh;
  ck_assert (ft_wall_view_district (&fresh, s, 0, w, h));
  ck_assert (ft_wall_view_settle (&shown, &fresh, w, h));
  FtWallView first = shown;
  for (guint i = 0; i < 2; i++)
    {
      FtWallVehicle v = g_array_index (s->vehicles, FtWallVehicle, 60);
      g_array_append_val (s->vehicles, v);
    }
  ck_assert (ft_wall_view_district (&fresh, s, 0, w, h));
  ck_assert_msg (fabs (fresh.cx - first.cx) * 256.0 * exp2 (fresh.zoom) > w / 4.0, "the clusters did not swap");
  ck_assert (!ft_wall_view_settle (&shown, &fresh, w, h));
  ck_assert (memcmp (&shown, &first, sizeof first) == 0);
  /* the next district is another view */
  ck_assert (ft_wall_view_district (&fresh, s, 1, w, h));
  ck_assert (ft_wall_view_settle (&shown, &fresh, w, h));
  ck_assert_uint_eq (shown.district, 1);
}
END_TEST

START_TEST (test_tiles_drawn)
{
  g_autofree char *tiles = ft_wall_find_demo_tiles ();
  ck_assert_msg (tiles && g_file_test (tiles, G_FILE_TEST_IS_REGULAR), "Demo City's tiles are not built");
  Canvas c;
  canvas_init (&c, 640, 360);
  ck_assert (ft_wall_draw_set_tiles (c.draw, tiles, NULL));
  g_autoptr (FtWallScene) s = ft_wall_scene_new ();
  fill_vehicles (s, 50);
  FtWallView v;
  ft_wall_view_city (&v, s, 640, 360);
  ck_assert (ft_wall_draw_frame (c.draw, s, &v, 640, 360, NULL));
  FtWallDrawStats st;
  ft_wall_draw_get_stats (c.draw, &st);
  ck_assert_uint_gt (st.tiles_drawn, 0);
  ck_assert (st.map_redrawn);
  ck_assert_ptr_null (ft_wall_draw_dup_notices (c.draw));
  guint32 road = pixel (&c, 5, 200);
  /* the same view again: the map layer is copied, not drawn tile by tile */
  ck_assert (ft_wall_draw_frame (c.draw, s, &v, 640, 360, NULL));
  ft_wall_draw_get_stats (c.draw, &st);
  ck_assert (!st.map_redrawn);
  ck_assert_uint_eq (st.tiles_drawn, 0);
  ck_assert_uint_eq (pixel (&c, 5, 200), road);
  /* another view draws the map again */
  v.zoom += 0.5;
  ck_assert (ft_wall_draw_frame (c.draw, s, &v, 640, 360, NULL));
  ft_wall_draw_get_stats (c.draw, &st);
  ck_assert (st.map_redrawn);
  ck_assert_uint_gt (st.tiles_drawn, 0);
  canvas_clear (&c);
}
END_TEST

START_TEST (test_missing_tiles_shown)
{
  Canvas c;
  canvas_init (&c, 640, 360);
  g_autoptr (GError) e = NULL;
  ck_assert (!ft_wall_draw_set_tiles (c.draw, "/nonexistent/city.mbtiles", &e));
  ck_assert_msg (strstr (e->message, "/nonexistent/city.mbtiles") != NULL, "%s", e->message);
  g_autofree char *notes = ft_wall_draw_dup_notices (c.draw);
  ck_assert_msg (notes && strstr (notes, "/nonexistent/city.mbtiles"), "%s", notes ? notes : "(none)");
  g_autoptr (FtWallScene) s = ft_wall_scene_new ();
  fill_vehicles (s, 100);
  FtWallView v;
  ft_wall_view_city (&v, s, 640, 360);
  ck_assert (ft_wall_draw_frame (c.draw, s, &v, 640, 360, NULL));
  /* the message box sits in the middle of the frame (450 px wide at this
   * size): its dark red inside, left of the text */
  ck_assert_uint_eq (pixel (&c, 95 + 6, 180), 0x2a0d0b);
  /* no tiles at all: the same, with a message saying how to get them */
  g_clear_error (&e);
  ck_assert (!ft_wall_draw_set_tiles (c.draw, NULL, &e));
  ck_assert_msg (strstr (e->message, "--tiles") != NULL, "%s", e->message);
  canvas_clear (&c);
}
END_TEST

START_TEST (test_empty_scene_explained)
{
  Canvas c;
  canvas_init (&c, 640, 360);
  g_autoptr (FtWallScene) s = ft_wall_scene_new ();
  s->source_label = g_strdup ("live mqtt://example");
  FtWallView v;
  ft_wall_view_city (&v, s, 640, 360);
  ck_assert (ft_wall_draw_frame (c.draw, s, &v, 640, 360, NULL));
  ck_assert_uint_eq (pixel (&c, 95 + 6, 180), 0x2a0d0b);
  canvas_clear (&c);
}
END_TEST

/* ---- sources ---------------------------------------------------------------------- */

START_TEST (test_unreadable_db)
{
  g_autofree char *dir = tmp_dir ();
  g_autofree char *garbage = g_build_filename (dir, "garbage.db", NULL);
  g_autofree char *other = g_build_filename (dir, "other.db", NULL);
  g_autofree char *missing = g_build_filename (dir, "missing.db", NULL);
  ck_assert (g_file_set_contents (garbage, "this is not a database at all, just text\n", -1, NULL));
  sqlite3 *db = NULL;
  ck_assert_int_eq (sqlite3_open (other, &db), SQLITE_OK);
  ck_assert_int_eq (sqlite3_exec (db, "CREATE TABLE t (x); INSERT INTO t VALUES (1);", NULL, NULL, NULL), SQLITE_OK);
  sqlite3_close (db);
  struct { const char *path, *says; } cases[] = {
    { garbage, "not an SQLite file" }, { other, "another program" }, { missing, "does not exist" },
    { dir, "not a regular file" },
  };
  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr (GError) e = NULL;
      g_autoptr (FtWallSource) src = ft_wall_source_open (cases[i].path, NULL, &e);
      ck_assert_ptr_null (src);
      ck_assert_msg (strstr (e->message, cases[i].path) && strstr (e->message, cases[i].says), "%s", e->message);
    }
  /* a run database cut short: opens as SQLite but cannot be read */
  g_autofree char *run = make_run_db (dir);
  g_autofree char *cut = g_build_filename (dir, "cut.db", NULL);
  g_autofree char *bytes = NULL;
  gsize len;
  ck_assert (g_file_get_contents (run, &bytes, &len, NULL));
  ck_assert (g_file_set_contents (cut, bytes, MIN (len, 4096 * 3), NULL));
  g_autoptr (GError) e = NULL;
  g_autoptr (FtWallSource) src = ft_wall_source_open (cut, NULL, &e);
  if (src)
    {
      g_autoptr (FtWallScene) s = ft_wall_scene_new ();
      ck_assert (!ft_wall_source_update (src, FT_DAY, s, &e));
    }
  ck_assert_msg (e && strstr (e->message, cut), "%s", e ? e->message : "(no error)");
  ft_test_rm_rf (dir);
}
END_TEST

START_TEST (test_replay_matches_simulation)
{
  g_autofree char *dir = tmp_dir ();
  g_autofree char *db = make_run_db (dir);
  g_autoptr (GError) e = NULL;
  g_autoptr (FtWallSource) src = ft_wall_source_open (db, NULL, &e);
  ck_assert_msg (src != NULL, "%s", e ? e->message : "");
  ck_assert_int_eq (ft_wall_source_get_kind (src), FT_WALL_SOURCE_RUNDB);
  ck_assert_int_gt (ft_wall_source_end_time (src), 5 * FT_HOUR);
  /* a Demo City run is drawn on Demo City's map */
  ck_assert_ptr_nonnull (ft_wall_source_get_tiles_path (src));
  g_autoptr (FtWallScene) s = ft_wall_scene_new ();
  ck_assert (ft_wall_source_update (src, 2 * FT_HOUR, s, &e));
  ck_assert (ft_wall_source_update (src, 6 * FT_HOUR, s, &e));
  ck_assert_uint_eq (s->vehicles->len, 100);
  ck_assert (s->service_level > 0 && s->service_level <= 1);
  ck_assert (s->battery_available >= 0 && s->battery_available <= 1);
  ck_assert_int_ge (s->open_tasks, 0);
  ck_assert_int_gt (s->revenue_today_minor, 0);
  ck_assert_uint_ge (s->history->len, 6 * 12 - 1);   /* one every 5 simulated minutes */
  /* the stored KPIs agree with what the replay counted */
  sqlite3 *h = NULL;
  ck_assert_int_eq (sqlite3_open_v2 (db, &h, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
  sqlite3_stmt *st = NULL;
  ck_assert_int_eq (sqlite3_prepare_v2 (h, "SELECT coalesce(sum(amount), 0) FROM events WHERE kind = ?", -1, &st, NULL), SQLITE_OK);
  sqlite3_bind_int (st, 1, FT_EV_BOOKING_ENDED);
  ck_assert_int_eq (sqlite3_step (st), SQLITE_ROW);
  ck_assert_int_eq (sqlite3_column_int64 (st, 0), s->revenue_today_minor);
  sqlite3_finalize (st);
  sqlite3_close (h);

  /* the same scenario simulated in place has the same fleet on the map */
  const char *text = "[scenario]\ncity=demo\ndays=0.25\nseed=7\n[fleet]\nscooters=100\nbikes=0\nmopeds=0\n";
  g_autofree char *scp = g_build_filename (dir, "small.scenario", NULL);
  ck_assert (g_file_set_contents (scp, text, -1, NULL));
  g_autoptr (FtWallSource) sim = ft_wall_source_open (scp, NULL, &e);
  ck_assert_msg (sim != NULL, "%s", e ? e->message : "");
  g_autoptr (FtWallScene) s2 = ft_wall_scene_new ();
  ck_assert (ft_wall_source_update (sim, 6 * FT_HOUR, s2, &e));
  ck_assert_uint_eq (s2->vehicles->len, 100);
  ck_assert_int_eq (s2->revenue_today_minor, s->revenue_today_minor);
  /* served / (served + lost): the replay counts unlock events, the world
   * its own counter, which can lead by a booking or two */
  ck_assert_msg (fabs (s2->service_level - s->service_level) < 0.01, "%f vs %f", s2->service_level, s->service_level);
  ft_test_rm_rf (dir);
}
END_TEST

/* Vans in a replay drive to their tasks: between two task events a van is
 * drawn on its way, not only at the places tasks were given and done (the
 * log keeps those; before, vans jumped from one to the next). */
START_TEST (test_replay_vans_move)
{
  g_autofree char *dir = tmp_dir ();
  /* enough vehicles and hours for staff to work: Demo City's own fleet */
  g_autofree char *db = make_run_db_from (dir, "[scenario]\ncity=demo\ndays=0.3\nseed=7\n");
  sqlite3 *h = NULL;
  ck_assert_int_eq (sqlite3_open_v2 (db, &h, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
  sqlite3_stmt *st = NULL;
  ck_assert_int_eq (sqlite3_prepare_v2 (h, "SELECT lat, lon FROM events WHERE kind IN (?, ?) AND (lat <> 0 OR lon <> 0)",
                                        -1, &st, NULL), SQLITE_OK);
  sqlite3_bind_int (st, 1, FT_EV_TASK_ASSIGNED);
  sqlite3_bind_int (st, 2, FT_EV_TASK_DONE);
  g_autoptr (GArray) stops = g_array_new (FALSE, FALSE, sizeof (float) * 2);
  while (sqlite3_step (st) == SQLITE_ROW)
    {
      FtLatLon p = { sqlite3_column_double (st, 0), sqlite3_column_double (st, 1) };
      float xy[2];
      ft_wall_project (p, &xy[0], &xy[1]);
      g_array_append_val (stops, xy);
    }
  sqlite3_finalize (st);
  sqlite3_close (h);
  ck_assert_uint_gt (stops->len, 4);

  g_autoptr (GError) e = NULL;
  g_autoptr (FtWallSource) src = ft_wall_source_open (db, NULL, &e);
  ck_assert_msg (src != NULL, "%s", e ? e->message : "");
  g_autoptr (FtWallScene) s = ft_wall_scene_new ();
  guint drawn = 0, on_the_way = 0;
  for (FtTime t = ft_wall_source_start_time (src); t <= ft_wall_source_end_time (src); t += 2 * FT_MINUTE)
    {
      ck_assert (ft_wall_source_update (src, t, s, &e));
      for (guint i = 0; i < s->vans->len; i++)
        {
          const FtWallVan *v = &g_array_index (s->vans, FtWallVan, i);
          gboolean at_stop = FALSE;
          for (guint k = 0; k < stops->len && !at_stop; k++)
            {
              const float *xy = (const float *) (stops->data + k * sizeof (float) * 2);
              at_stop = xy[0] == v->mx && xy[1] == v->my;
            }
          drawn++;
          on_the_way += !at_stop;
        }
    }
  ck_assert_uint_gt (drawn, 0);
  ck_assert_msg (on_the_way > 0, "%u of %u van positions drawn were on the way", on_the_way, drawn);
  ft_test_rm_rf (dir);
}
END_TEST

START_TEST (test_broker_refused)
{
  /* nothing listens on port 1: the connection is refused */
  FtWallSourceOptions o = { "ft/test", 3000, 0 };
  g_autoptr (GError) e = NULL;
  gint64 t0 = g_get_monotonic_time ();
  g_autoptr (FtWallSource) src = ft_wall_source_open ("mqtt://127.0.0.1:1", &o, &e);
  ck_assert_ptr_null (src);
  ck_assert_msg (strstr (e->message, "127.0.0.1") != NULL, "%s", e->message);
  ck_assert_int_lt (g_get_monotonic_time () - t0, 10 * G_USEC_PER_SEC);
}
END_TEST


/* A live twin followed read-only: the fleet an emulator publishes shows up,
 * and a broker that goes away becomes a ticker alert and a message. */
START_TEST (test_live_follows_broker)
{
  g_autoptr (GError) e = NULL;
  LiveBroker *b = live_broker_start (&e);
  ck_assert_msg (b != NULL, "broker: %s", e ? e->message : "");
  g_autofree char *url = live_broker_url (b);
  FtWallSourceOptions o = { "ft/wall", 5000, 0 };
  g_autoptr (FtWallSource) src = ft_wall_source_open (url, &o, &e);
  ck_assert_msg (src != NULL, "%s", e ? e->message : "");
  ck_assert_int_eq (ft_wall_source_get_kind (src), FT_WALL_SOURCE_LIVE);
  FtLiveConfig cfg;
  ft_live_config_init (&cfg);
  cfg.url = g_strdup (url);
  cfg.prefix = g_strdup ("ft/wall");
  cfg.client_id = g_strdup ("emu-wall");
  FtLiveEmu *emu = ft_live_emu_new (&cfg, &e);
  ck_assert_msg (emu != NULL, "%s", e ? e->message : "");
  ck_assert_msg (ft_live_emu_connect (emu, 5000, &e), "%s", e ? e->message : "");
  ft_live_config_clear (&cfg);
  g_usleep (200000);
  enum { N = 40 };
  FtLiveEmuVehicle recs[N];
  memset (recs, 0, sizeof recs);
  for (guint i = 0; i < N; i++)
    {
      ft_uuid_from_words (0xfeed0000ull + i, 0xbeef0000ull + i, recs[i].device_id);
      g_strlcpy (recs[i].kind, "scooter", sizeof recs[i].kind);
      recs[i].pos = (FtLatLon) { 54.19 + i * 0.0005, 3.18 + i * 0.0005 };
      recs[i].battery_pct = i < 10 ? 3 : 80;     /* a quarter too low to rent */
      g_strlcpy (recs[i].state, "available", sizeof recs[i].state);
      recs[i].locked = TRUE;
    }
  FtTime wall = g_get_real_time () / 1000;
  ft_live_emu_announce (emu, recs, N, wall);
  ck_assert_uint_eq (ft_live_emu_publish (emu, recs, N, wall, g_get_real_time ()), N);
  g_autoptr (FtWallScene) s = ft_wall_scene_new ();
  gint64 until = g_get_monotonic_time () + 10 * G_USEC_PER_SEC;
  while (s->vehicles->len < N && g_get_monotonic_time () < until)
    {
      ck_assert (ft_wall_source_update (src, 0, s, &e));
      g_usleep (20000);
    }
  ck_assert_uint_eq (s->vehicles->len, N);
  ck_assert_ptr_null (s->status);
  ck_assert_msg (fabs (s->battery_available - 0.75) < 1e-9, "%f", s->battery_available);
  /* the broker goes away */
  live_broker_kill (b);
  until = g_get_monotonic_time () + 10 * G_USEC_PER_SEC;
  while (s->status == NULL && g_get_monotonic_time () < until)
    {
      ck_assert (ft_wall_source_update (src, 0, s, &e));
      g_usleep (20000);
    }
  ck_assert_msg (s->status && strstr (s->status, "Broker disconnected"), "%s", s->status ? s->status : "(none)");
  const FtWallAlert *a = ft_wall_scene_get_alert (s, 0);
  ck_assert (a != NULL && a->kind == FT_WALL_ALERT_BROKER);
  ck_assert_uint_eq (s->vehicles->len, N);   /* the last known positions stay */
  ft_live_emu_free (emu);
  g_clear_pointer (&src, ft_wall_source_free);
  live_broker_free (b);
}
END_TEST

/* ---- controls ---------------------------------------------------------------------- */

START_TEST (test_unknown_controller)
{
  SDL_SetHint (SDL_HINT_VIDEODRIVER, "dummy");
  ck_assert_int_eq (SDL_Init (SDL_INIT_GAMECONTROLLER), 0);
  /* a generic joystick SDL has no mapping for */
  int idx = SDL_JoystickAttachVirtual (SDL_JOYSTICK_TYPE_WHEEL, 3, 5, 0);
  ck_assert_int_ge (idx, 0);
  char *msg = NULL;
  SDL_GameController *gc = ft_wall_open_controller (idx, &msg);
  ck_assert_ptr_null (gc);
  ck_assert_msg (msg && strstr (msg, "not a known game controller") && strstr (msg, "SDL_GAMECONTROLLERCONFIG"),
                 "%s", msg ? msg : "(none)");
  g_free (msg);
  SDL_JoystickDetachVirtual (idx);
  /* a virtual gamepad SDL maps itself opens */
  idx = SDL_JoystickAttachVirtual (SDL_JOYSTICK_TYPE_GAMECONTROLLER, SDL_CONTROLLER_AXIS_MAX,
                                   SDL_CONTROLLER_BUTTON_MAX, 0);
  ck_assert_int_ge (idx, 0);
  gc = ft_wall_open_controller (idx, &msg);
  ck_assert_msg (gc != NULL, "%s", msg ? msg : "");
  ck_assert_ptr_null (msg);
  SDL_GameControllerClose (gc);
  SDL_JoystickDetachVirtual (idx);
  SDL_Quit ();
}
END_TEST

START_TEST (test_rotation_and_keys)
{
  FtWallRotation r;
  ft_wall_rotation_init (&r, 1000, 0);
  ck_assert_uint_eq (r.step, 0);
  ck_assert (!ft_wall_rotation_tick (&r, 999));
  guint seen[8] = { 0 };
  for (int i = 1; i <= 5; i++)
    {
      ck_assert (ft_wall_rotation_tick (&r, i * 1000));
      seen[r.step]++;
    }
  ck_assert_uint_eq (r.step, 0);   /* city, 3 districts, charts, city again */
  ck_assert_uint_eq (seen[4], 1);
  ck_assert (ft_wall_rotation_apply (&r, ft_wall_action_from_key (SDLK_3), 6000));
  ck_assert_uint_eq (r.step, 4);
  ck_assert (ft_wall_rotation_apply (&r, ft_wall_action_from_button (SDL_CONTROLLER_BUTTON_DPAD_RIGHT), 6000));
  ck_assert_uint_eq (r.step, 0);
  ck_assert (ft_wall_rotation_apply (&r, ft_wall_action_from_key (SDLK_LEFT), 6000));
  ck_assert_uint_eq (r.step, 4);
  ck_assert (ft_wall_rotation_apply (&r, ft_wall_action_from_key (SDLK_r), 6000));
  ck_assert (!r.rotating);
  ck_assert (!ft_wall_rotation_tick (&r, 60000));
  ck_assert_int_eq (ft_wall_action_from_key (SDLK_ESCAPE), FT_WALL_ACT_QUIT);
  ck_assert_int_eq (ft_wall_action_from_button (SDL_CONTROLLER_BUTTON_A), FT_WALL_ACT_PAUSE);
  ck_assert (!ft_wall_rotation_apply (&r, FT_WALL_ACT_PAUSE, 0));
}
END_TEST

/* ---- the programs ----------------------------------------------------------------- */

static guint32
png_pixel (const char *path, int x, int y)
{
  cairo_surface_t *s = cairo_image_surface_create_from_png (path);
  ck_assert_int_eq (cairo_surface_status (s), CAIRO_STATUS_SUCCESS);
  const guint8 *row = cairo_image_surface_get_data (s) + (gsize) y * cairo_image_surface_get_stride (s);
  guint32 v = ((const guint32 *) row)[x] & 0xffffff;
  cairo_surface_destroy (s);
  return v;
}

START_TEST (test_wallboard_error_screen)
{
  g_autofree char *dir = tmp_dir ();
  g_autofree char *shot = g_build_filename (dir, "shot.png", NULL);
  g_autofree char *missing = g_build_filename (dir, "no-such-run.db", NULL);
  const char *env[] = { "SDL_VIDEODRIVER", "dummy", NULL };
  g_autofree char *out = NULL, *err = NULL;
  int rc = run_prog ("FT_WALLBOARD", &out, &err, env, "--window", "800x450", "--screenshot", shot,
                     "--screenshot-after", "0.2", missing, NULL);
  ck_assert_int_eq (rc, 1);
  ck_assert_msg (strstr (err, missing) && strstr (err, "does not exist"), "%s", err);
  ck_assert (g_file_test (shot, G_FILE_TEST_IS_REGULAR));
  ck_assert_uint_eq (png_pixel (shot, 175 + 6, 225), 0x2a0d0b);
  /* the screenshot is not written over a file that is not ours */
  g_free (out); g_free (err);
  out = err = NULL;
  g_autofree char *db = make_run_db (dir);
  rc = run_prog ("FT_WALLBOARD", &out, &err, env, "--window", "800x450", "--screenshot", shot,
                 "--screenshot-after", "0.2", "--tiles", "/nonexistent.mbtiles", db, NULL);
  ck_assert_int_eq (rc, 1);
  ck_assert_msg (strstr (err, shot) != NULL, "%s", err);
  ck_assert_msg (strstr (err, "/nonexistent.mbtiles") != NULL, "%s", err);
  ft_test_rm_rf (dir);
}
END_TEST

START_TEST (test_render_frames)
{
  g_autofree char *dir = tmp_dir ();
  g_autofree char *db = make_run_db (dir);
  g_autofree char *frames = g_build_filename (dir, "frames", NULL);
  g_autofree char *out = NULL, *err = NULL;
  int rc = run_prog ("FT_CLI", &out, &err, NULL, "render", db, "--from", "02:00", "--to", "02:10",
                     "--fps", "2", "--speed", "300", "--size", "320x180", "--out", frames, NULL);
  ck_assert_msg (rc == 0, "%s", err);
  g_autofree char *f1 = g_build_filename (frames, "frame-000001.png", NULL);
  g_autofree char *f5 = g_build_filename (frames, "frame-000005.png", NULL);
  g_autofree char *f6 = g_build_filename (frames, "frame-000006.png", NULL);
  ck_assert (g_file_test (f1, G_FILE_TEST_IS_REGULAR));
  ck_assert (g_file_test (f5, G_FILE_TEST_IS_REGULAR));
  ck_assert (!g_file_test (f6, G_FILE_TEST_EXISTS));
  ck_assert_msg (strstr (out, "Rendered 5 frames") != NULL, "%s", out);
  /* again into the same folder: ours, replaced */
  g_free (out); g_free (err);
  out = err = NULL;
  rc = run_prog ("FT_CLI", &out, &err, NULL, "render", db, "--to", "00:01", "--fps", "1", "--speed", "60",
                 "--size", "320x180", "--out", frames, "-q", NULL);
  ck_assert_msg (rc == 0, "%s", err);
  ck_assert (!g_file_test (f5, G_FILE_TEST_EXISTS));
  /* a folder of someone else's: refused, untouched */
  g_autofree char *theirs = g_build_filename (dir, "theirs", NULL);
  g_autofree char *keep = g_build_filename (theirs, "keep.txt", NULL);
  g_mkdir (theirs, 0755);
  ck_assert (g_file_set_contents (keep, "mine", -1, NULL));
  g_free (out); g_free (err);
  out = err = NULL;
  rc = run_prog ("FT_CLI", &out, &err, NULL, "render", db, "--to", "00:01", "--size", "320x180", "--out", theirs, "-q", NULL);
  ck_assert_int_eq (rc, 1);
  ck_assert_msg (strstr (err, theirs) != NULL, "%s", err);
  ck_assert (g_file_test (keep, G_FILE_TEST_IS_REGULAR));
  /* bad arguments name themselves */
  struct { const char *opt, *val, *says; } bad[] = {
    { "--size", "32x18", "--size" }, { "--from", "25:00", "25:00" }, { "--fps", "0", "--fps" },
  };
  for (guint i = 0; i < G_N_ELEMENTS (bad); i++)
    {
      g_free (out); g_free (err);
      out = err = NULL;
      rc = run_prog ("FT_CLI", &out, &err, NULL, "render", db, bad[i].opt, bad[i].val, "--out", frames, NULL);
      ck_assert_int_eq (rc, 2);
      ck_assert_msg (strstr (err, bad[i].says) != NULL, "%s", err);
    }
  ft_test_rm_rf (dir);
}
END_TEST

START_TEST (test_render_mp4)
{
  g_autofree char *ffmpeg = g_find_program_in_path ("ffmpeg");
  ck_assert_msg (ffmpeg != NULL, "ffmpeg is not installed (packaging/debian-packages.txt lists it)");
  g_autofree char *dir = tmp_dir ();
  g_autofree char *db = make_run_db (dir);
  g_autofree char *mp4 = g_build_filename (dir, "replay.mp4", NULL);
  g_autofree char *out = NULL, *err = NULL;
  int rc = run_prog ("FT_CLI", &out, &err, NULL, "render", db, "--from", "01:00", "--to", "01:30", "--fps", "10",
                     "--speed", "600", "--size", "320x180", "--out", mp4, NULL);
  ck_assert_msg (rc == 0, "%s", err);
  gsize len = 0;
  g_autofree char *bytes = NULL;
  ck_assert (g_file_get_contents (mp4, &bytes, &len, NULL));
  ck_assert_uint_gt (len, 1000);
  ck_assert (memmem (bytes, len, "ftyp", 4) != NULL);
  /* rendered again: ours, replaced; a file that is not a render: refused */
  g_free (out); g_free (err);
  out = err = NULL;
  rc = run_prog ("FT_CLI", &out, &err, NULL, "render", db, "--to", "00:02", "--fps", "2", "--speed", "60",
                 "--size", "320x180", "--out", mp4, "-q", NULL);
  ck_assert_msg (rc == 0, "%s", err);
  g_autofree char *other = g_build_filename (dir, "holiday.mp4", NULL);
  ck_assert (g_file_set_contents (other, "not ours", -1, NULL));
  g_free (out); g_free (err);
  out = err = NULL;
  rc = run_prog ("FT_CLI", &out, &err, NULL, "render", db, "--to", "00:02", "--size", "320x180", "--out", other, "-q", NULL);
  ck_assert_int_eq (rc, 1);
  g_autofree char *still = NULL;
  ck_assert (g_file_get_contents (other, &still, NULL, NULL));
  ck_assert_str_eq (still, "not ours");
  ft_test_rm_rf (dir);
}
END_TEST

static Suite *
render_suite (void)
{
  Suite *s = suite_create ("render");
  TCase *tc = tcase_create ("scene");
  tcase_add_test (tc, test_parse_time);
  tcase_add_test (tc, test_revenue_today);
  tcase_add_test (tc, test_lost_spike);
  tcase_add_test (tc, test_alert_ring);
  suite_add_tcase (s, tc);
  tc = tcase_create ("draw");
  tcase_add_test (tc, test_markers_per_layer);
  tcase_add_test (tc, test_van_alone);
  tcase_add_test (tc, test_view_settles);
  tcase_add_test (tc, test_district_held);
  tcase_add_test (tc, test_tiles_drawn);
  tcase_add_test (tc, test_missing_tiles_shown);
  tcase_add_test (tc, test_empty_scene_explained);
  suite_add_tcase (s, tc);
  tc = tcase_create ("sources");
  tcase_add_test (tc, test_unreadable_db);
  tcase_add_test (tc, test_replay_matches_simulation);
  tcase_add_test (tc, test_replay_vans_move);
  tcase_add_test (tc, test_broker_refused);
  tcase_add_test (tc, test_live_follows_broker);
  suite_add_tcase (s, tc);
  tc = tcase_create ("controls");
  tcase_add_test (tc, test_unknown_controller);
  tcase_add_test (tc, test_rotation_and_keys);
  suite_add_tcase (s, tc);
  tc = tcase_create ("programs");
  tcase_add_test (tc, test_wallboard_error_screen);
  tcase_add_test (tc, test_render_frames);
  tcase_add_test (tc, test_render_mp4);
  suite_add_tcase (s, tc);
  return s;
}

int
main (void)
{
  SRunner *sr = srunner_create (render_suite ());
  srunner_run_all (sr, CK_NORMAL);
  int failed = srunner_ntests_failed (sr);
  srunner_free (sr);
  return failed ? 1 : 0;
}
