/* fleet-twin-wallboard — the operations-room screen: the city from the
 * MBTiles tiles, every vehicle, vans with their legs, KPI tiles and an
 * alert ticker, rotating between the city, district close-ups and KPI
 * charts. Full screen on KMS/DRM or X11 through SDL2, a GPU renderer where
 * SDL finds one and SDL's software renderer otherwise; keyboard and game
 * controller, no mouse. Sources: a scenario (simulated here at --speed), a
 * run database (replayed) or a live twin (mqtt://, read-only).
 *
 * A problem (missing tiles, an unreadable database, a broker that refuses,
 * an unknown controller) is shown on the screen and printed on stderr.
 */
#include "ft-config.h"
#include "ft-wall-draw.h"
#include "ft-wall-input.h"
#include "ft-wall-source.h"

#include <SDL.h>
#include <locale.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

typedef struct {
  char    *tiles;
  char    *prefix;
  char    *window;
  char    *from;
  char    *screenshot;
  double   screenshot_after;
  double   speed;
  double   rotate;
  double   duration;
  int      days;
  int      bench;
  double   bench_seconds;
  gboolean software;
  gboolean force;
} Options;

static gint64
now_ms (void)
{
  return g_get_monotonic_time () / 1000;
}

static gboolean
parse_size (const char *text, int *w, int *h)
{
  char *end = NULL;
  long a = strtol (text, &end, 10);
  if (end == text || (*end != 'x' && *end != 'X'))
    return FALSE;
  const char *p = end + 1;
  long b = strtol (p, &end, 10);
  if (end == p || *end != '\0' || a < 160 || b < 120 || a > 16384 || b > 16384)
    return FALSE;
  *w = (int) a;
  *h = (int) b;
  return TRUE;
}

/* The benchmark's scene: n vehicles spread over Demo City's extent, a few
 * vans, a full ticker; a share of the vehicles moves every frame. */
static void
bench_scene (FtWallScene *s, guint n, GRand *rng)
{
  FtLatLon a = { 54.182, 3.152 }, b = { 54.223, 3.240 };   /* Demo City */
  float ax, ay, bx, by;
  ft_wall_project (a, &ax, &ay);
  ft_wall_project (b, &bx, &by);
  g_array_set_size (s->vehicles, n);
  for (guint i = 0; i < n; i++)
    {
      FtWallVehicle *v = &g_array_index (s->vehicles, FtWallVehicle, i);
      v->mx = ax + (float) g_rand_double (rng) * (bx - ax);
      v->my = by + (float) g_rand_double (rng) * (ay - by);
      double u = g_rand_double (rng);
      v->layer = u < 0.70 ? FT_WALL_LAYER_AVAILABLE : u < 0.85 ? FT_WALL_LAYER_BUSY
                 : u < 0.95 ? FT_WALL_LAYER_LOW : FT_WALL_LAYER_DOWN;
    }
  for (guint i = 0; i < 12; i++)
    {
      FtWallVan van = { ax + (float) g_rand_double (rng) * (bx - ax), by + (float) g_rand_double (rng) * (ay - by),
                        ax + (float) g_rand_double (rng) * (bx - ax), by + (float) g_rand_double (rng) * (ay - by), TRUE };
      g_array_append_val (s->vans, van);
    }
  s->service_level = 0.934;
  s->battery_available = 0.881;
  s->open_tasks = 42;
  s->revenue_today_minor = 1234567;
  for (guint i = 0; i < 6; i++)
    ft_wall_scene_alert (s, FT_WALL_ALERT_MAINTENANCE, 8 * FT_HOUR + i * FT_MINUTE,
                         "Maintenance: FT-%04u reports a fault", i * 37);
  s->t = 8 * FT_HOUR;
  s->source_label = g_strdup_printf ("benchmark: %u synthetic vehicles", n);
}

static void
bench_move (FtWallScene *s, GRand *rng)
{
  guint n = s->vehicles->len;
  for (guint k = 0; k < n / 20; k++)
    {
      FtWallVehicle *v = &g_array_index (s->vehicles, FtWallVehicle, g_rand_int_range (rng, 0, (gint32) n));
      v->mx += (float) ((g_rand_double (rng) - 0.5) * 2e-6);
      v->my += (float) ((g_rand_double (rng) - 0.5) * 2e-6);
    }
  s->t += 1000;
}

/* CPU time of the calling thread, ms */
static double
thread_cpu_ms (void)
{
  struct timespec ts;
  clock_gettime (CLOCK_THREAD_CPUTIME_ID, &ts);
  return ts.tv_sec * 1000.0 + ts.tv_nsec / 1e6;
}

static int
cmp_double (const void *a, const void *b)
{
  double x = *(const double *) a, y = *(const double *) b;
  return x < y ? -1 : x > y;
}

/* SDL's software renderer draws into the window's surface, which SDL on
 * X11 presents through an OpenGL texture whenever a GL driver loads: on a
 * machine without a GPU (and under Xvfb) that is Mesa's llvmpipe, whose
 * threads then cost more than the frame itself (100,000 vehicles at
 * 1920x1080 under Xvfb: 19-22 ms of CPU a frame in the process and 67-119
 * ms to present, against 5.2-5.5 ms and 6-10 ms with the surface sent
 * straight to the X server over shared memory). SDL_FRAMEBUFFER_ACCELERATION
 * in the environment still decides. Other video drivers (KMS/DRM) have no
 * surface of their own and keep SDL's choice. */
static void
software_surface_direct (void)
{
  if (g_strcmp0 (SDL_GetCurrentVideoDriver (), "x11") == 0)
    SDL_SetHint (SDL_HINT_FRAMEBUFFER_ACCELERATION, "0");
}

static gboolean
take_screenshot (SDL_Renderer *r, int w, int h, const char *path, gboolean force)
{
  g_autofree guint8 *px = g_malloc ((gsize) w * h * 4);
  g_autoptr (GError) error = NULL;
  if (SDL_RenderReadPixels (r, NULL, SDL_PIXELFORMAT_ARGB8888, px, w * 4) != 0)
    {
      fprintf (stderr, "fleet-twin-wallboard: cannot read the screen for %s: %s\n", path, SDL_GetError ());
      return FALSE;
    }
  if (!ft_wall_write_png (px, w, h, w * 4, path, force, &error))
    {
      fprintf (stderr, "fleet-twin-wallboard: %s\n", error->message);
      return FALSE;
    }
  fprintf (stderr, "fleet-twin-wallboard: screenshot %s (%dx%d)\n", path, w, h);
  return TRUE;
}

int
main (int argc, char **argv)
{
  setlocale (LC_ALL, "");
  Options o = { .speed = 60, .rotate = 20, .screenshot_after = 3, .bench_seconds = 5 };
  GOptionEntry entries[] = {
    { "speed", 's', 0, G_OPTION_ARG_DOUBLE, &o.speed, "Simulated seconds per second for a scenario or replay (default 60)", "X" },
    { "from", 0, 0, G_OPTION_ARG_STRING, &o.from, "Start at this simulated time (HH:MM, “Nd HH:MM”)", "T" },
    { "days", 'd', 0, G_OPTION_ARG_INT, &o.days, "Scenario: simulated days (overrides the scenario)", "N" },
    { "tiles", 't', 0, G_OPTION_ARG_FILENAME, &o.tiles, "MBTiles map (default: the city's, or Demo City's)", "FILE" },
    { "prefix", 0, 0, G_OPTION_ARG_STRING, &o.prefix, "Live: the fleet's topic prefix (default ft/demo)", "P" },
    { "window", 'w', 0, G_OPTION_ARG_STRING, &o.window, "A window of this size instead of full screen", "WxH" },
    { "software", 0, 0, G_OPTION_ARG_NONE, &o.software, "Use SDL's software renderer even when a GPU is there", NULL },
    { "rotate", 'r', 0, G_OPTION_ARG_DOUBLE, &o.rotate, "Seconds per view in the rotation (default 20; 0 holds the view)", "S" },
    { "duration", 0, 0, G_OPTION_ARG_DOUBLE, &o.duration, "Quit after this many seconds (default: run until Q)", "S" },
    { "screenshot", 0, 0, G_OPTION_ARG_FILENAME, &o.screenshot, "Save the screen as PNG after --screenshot-after seconds, then quit", "FILE" },
    { "screenshot-after", 0, 0, G_OPTION_ARG_DOUBLE, &o.screenshot_after, "Seconds before the screenshot (default 3)", "S" },
    { "force", 0, 0, G_OPTION_ARG_NONE, &o.force, "Let --screenshot replace an existing file", NULL },
    { "bench", 0, 0, G_OPTION_ARG_INT, &o.bench, "Benchmark: draw N synthetic vehicles as fast as possible and print the median frame rate", "N" },
    { "bench-seconds", 0, 0, G_OPTION_ARG_DOUBLE, &o.bench_seconds, "Benchmark length (default 5)", "S" },
    { NULL }
  };
  g_autoptr (GOptionContext) ctx = g_option_context_new ("[SOURCE] — SOURCE: FILE.scenario, a run database, or mqtt://HOST[:PORT]");
  g_option_context_set_summary (ctx, "The Fleet Twin operations-room screen.\n\nControls: " "arrows/Tab, 1 2 3, R, Space, +/-, F, Q; or a game controller.");
  g_option_context_add_main_entries (ctx, entries, NULL);
  g_autoptr (GError) error = NULL;
  if (!g_option_context_parse (ctx, &argc, &argv, &error))
    {
      fprintf (stderr, "fleet-twin-wallboard: %s\n", error->message);
      return 2;
    }
  if ((argc != 2 && o.bench <= 0) || argc > 2)
    {
      fprintf (stderr, "fleet-twin-wallboard: give one SOURCE (a .scenario file, a run database or mqtt://…); "
                       "see --help\n");
      return 2;
    }
  if (o.speed <= 0 || o.speed > 1e6 || o.rotate < 0 || o.bench < 0 || o.bench > 2000000)
    {
      fprintf (stderr, "fleet-twin-wallboard: --speed must be in (0, 1e6], --rotate >= 0, --bench in 0..2000000\n");
      return 2;
    }
  int ww = 1280, wh = 720;
  if (o.window && !parse_size (o.window, &ww, &wh))
    {
      fprintf (stderr, "fleet-twin-wallboard: --window “%s” is not WIDTHxHEIGHT (160x120 to 16384x16384)\n", o.window);
      return 2;
    }
  FtTime from = -1;
  if (o.from && !ft_wall_parse_time (o.from, &from, &error))
    {
      fprintf (stderr, "fleet-twin-wallboard: --from: %s\n", error->message);
      return 2;
    }

  if (o.software)
    SDL_SetHint (SDL_HINT_RENDER_DRIVER, "software");
  SDL_SetHint (SDL_HINT_VIDEO_MINIMIZE_ON_FOCUS_LOSS, "0");
  if (SDL_Init (SDL_INIT_VIDEO | SDL_INIT_GAMECONTROLLER) != 0)
    {
      fprintf (stderr, "fleet-twin-wallboard: cannot start SDL video: %s (no display? run under X11, or on a "
                       "console with SDL_VIDEODRIVER=kmsdrm)\n", SDL_GetError ());
      return 1;
    }
  Uint32 wflags = o.window ? SDL_WINDOW_RESIZABLE : SDL_WINDOW_FULLSCREEN_DESKTOP;
  SDL_DisplayMode mode;
  if (o.window == NULL && SDL_GetDesktopDisplayMode (0, &mode) == 0)
    {
      /* created at the screen's size: some drivers keep the first size's
       * viewport when a smaller window is made full screen afterwards */
      ww = mode.w;
      wh = mode.h;
    }
  SDL_Window *win = SDL_CreateWindow ("Fleet Twin wallboard", SDL_WINDOWPOS_CENTERED, SDL_WINDOWPOS_CENTERED,
                                      ww, wh, wflags);
  if (win == NULL)
    {
      fprintf (stderr, "fleet-twin-wallboard: cannot open a window: %s\n", SDL_GetError ());
      SDL_Quit ();
      return 1;
    }
  if (o.software)
    software_surface_direct ();
  SDL_Renderer *ren = SDL_CreateRenderer (win, -1, o.software ? SDL_RENDERER_SOFTWARE : 0);
  if (ren == NULL && !o.software)
    {
      fprintf (stderr, "fleet-twin-wallboard: no GPU renderer (%s); using SDL's software renderer\n", SDL_GetError ());
      software_surface_direct ();
      ren = SDL_CreateRenderer (win, -1, SDL_RENDERER_SOFTWARE);
    }
  if (ren == NULL)
    {
      fprintf (stderr, "fleet-twin-wallboard: cannot create a renderer: %s\n", SDL_GetError ());
      SDL_DestroyWindow (win);
      SDL_Quit ();
      return 1;
    }
  SDL_RendererInfo info;
  SDL_GetRendererInfo (ren, &info);
  fprintf (stderr, "fleet-twin-wallboard: video %s, renderer %s%s\n", SDL_GetCurrentVideoDriver (), info.name,
           info.flags & SDL_RENDERER_ACCELERATED ? " (accelerated)" : " (software)");
  SDL_ShowCursor (SDL_DISABLE);

  g_autoptr (FtWallDraw) draw = ft_wall_draw_new (ren);
  g_autoptr (FtWallScene) scene = ft_wall_scene_new ();
  g_autoptr (FtWallSource) src = NULL;
  int status = 0;
  GPtrArray *pads = g_ptr_array_new ();

  if (o.bench > 0)
    {
      g_autoptr (GRand) rng = g_rand_new_with_seed (20260101);
      bench_scene (scene, (guint) o.bench, rng);
      g_autofree char *tiles = o.tiles ? g_strdup (o.tiles) : ft_wall_find_demo_tiles ();
      if (!ft_wall_draw_set_tiles (draw, tiles, &error))
        {
          fprintf (stderr, "fleet-twin-wallboard: %s\n", error->message);
          g_clear_error (&error);
        }
      FtWallView view;
      int w, h;
      SDL_GetRendererOutputSize (ren, &w, &h);
      ft_wall_view_city (&view, scene, w, h);
      ft_wall_draw_set_footer (draw, "benchmark");
      GArray *times = g_array_new (FALSE, FALSE, sizeof (double)), *t_cpu = g_array_new (FALSE, FALSE, sizeof (double));
      GArray *t_veh = g_array_new (FALSE, FALSE, sizeof (double)), *t_over = g_array_new (FALSE, FALSE, sizeof (double));
      GArray *t_map = g_array_new (FALSE, FALSE, sizeof (double)), *t_pres = g_array_new (FALSE, FALSE, sizeof (double));
      clock_t cpu0 = 0;
      gint64 t_end = g_get_monotonic_time () + (gint64) (o.bench_seconds * G_USEC_PER_SEC);
      guint frames = 0, calls = 0;
      while (g_get_monotonic_time () < t_end || frames < 10)
        {
          SDL_Event ev;
          while (SDL_PollEvent (&ev))
            ;
          gint64 t0 = g_get_monotonic_time ();
          double c0 = thread_cpu_ms ();
          bench_move (scene, rng);
          if (!ft_wall_draw_frame (draw, scene, &view, w, h, &error))
            break;
          gint64 p0 = g_get_monotonic_time ();
          SDL_RenderPresent (ren);
          double ms = (g_get_monotonic_time () - t0) / 1000.0, pres = (g_get_monotonic_time () - p0) / 1000.0;
          double cpu_ms = thread_cpu_ms () - c0;
          FtWallDrawStats st;
          ft_wall_draw_get_stats (draw, &st);
          calls = st.geometry_calls + st.rect_calls;
          if (frames == 5)
            cpu0 = clock ();
          if (frames++ >= 5)   /* warm-up: tile decoding, first uploads */
            {
              g_array_append_val (times, ms);
              g_array_append_val (t_cpu, cpu_ms);
              g_array_append_val (t_map, st.map_ms);
              g_array_append_val (t_veh, st.vehicles_ms);
              g_array_append_val (t_over, st.overlay_ms);
              g_array_append_val (t_pres, pres);
            }
        }
      if (times->len)
        {
          double cpu = (double) (clock () - cpu0) / CLOCKS_PER_SEC * 1000.0 / times->len;
          GArray *parts[] = { times, t_cpu, t_map, t_veh, t_over, t_pres };
          double pm[G_N_ELEMENTS (parts)];
          for (guint i = 0; i < G_N_ELEMENTS (parts); i++)
            {
              qsort (parts[i]->data, parts[i]->len, sizeof (double), cmp_double);
              pm[i] = g_array_index (parts[i], double, parts[i]->len / 2);
            }
          /* wall time shares the machine with everything else running; the
           * thread's CPU time is this frame's own cost (the X server's work
           * for a present is in the X server, not here) */
          printf ("wallboard bench: %d vehicles, %dx%d, video %s, renderer %s: median frame %.2f ms = %.1f fps, "
                  "median CPU %.2f ms a frame in the drawing thread, mean %.2f ms in the whole process (%u frames, %u draw "
                  "batches a frame; medians: map %.2f, vehicles %.2f, overlay %.2f, present %.2f ms wall)\n",
                  o.bench, w, h, SDL_GetCurrentVideoDriver (), info.name, pm[0], 1000.0 / pm[0], pm[1], cpu,
                  times->len, calls, pm[2], pm[3], pm[4], pm[5]);
        }
      g_array_unref (t_cpu);
      g_array_unref (times);
      g_array_unref (t_map); g_array_unref (t_veh); g_array_unref (t_over); g_array_unref (t_pres);
      goto out;
    }

  FtWallSourceOptions so = { o.prefix, 5000, o.days };
  src = ft_wall_source_open (argv[1], &so, &error);
  if (src == NULL)
    {
      fprintf (stderr, "fleet-twin-wallboard: %s\n", error->message);
      ft_wall_draw_set_notice (draw, "source", error->message);
      scene->source_label = g_strdup (argv[1]);
      g_clear_error (&error);
      status = 1;
    }
  const char *tiles = o.tiles ? o.tiles : src ? ft_wall_source_get_tiles_path (src) : NULL;
  if (src && !ft_wall_draw_set_tiles (draw, tiles, &error))
    {
      fprintf (stderr, "fleet-twin-wallboard: %s\n", error->message);
      g_clear_error (&error);
    }

  FtTime sim_t = src ? ft_wall_source_start_time (src) : 0;
  if (src && from >= 0 && ft_wall_source_get_kind (src) != FT_WALL_SOURCE_LIVE)
    sim_t = MIN (from, ft_wall_source_end_time (src));
  gboolean paused = FALSE, quit = FALSE, source_ok = src != NULL, ended = FALSE, announced_end = FALSE;
  FtWallRotation rot;
  gint64 start = now_ms (), last = start;
  ft_wall_rotation_init (&rot, (gint64) (o.rotate * 1000), start);
  double speed = o.speed;
  gboolean fullscreen = o.window == NULL;
  FtWallView shown = { .kind = FT_WALL_N_VIEWS };

  while (!quit)
    {
      gint64 now = now_ms ();
      SDL_Event ev;
      while (SDL_PollEvent (&ev))
        {
          FtWallAction act = FT_WALL_ACT_NONE;
          switch (ev.type)
            {
            case SDL_QUIT:
              quit = TRUE;
              break;
            case SDL_KEYDOWN:
              act = ft_wall_action_from_key (ev.key.keysym.sym);
              break;
            case SDL_JOYDEVICEADDED:
              {
                char *msg = NULL;
                SDL_GameController *gc = ft_wall_open_controller (ev.jdevice.which, &msg);
                if (gc)
                  {
                    g_ptr_array_add (pads, gc);
                    fprintf (stderr, "fleet-twin-wallboard: controller “%s” connected\n", SDL_GameControllerName (gc));
                  }
                else
                  {
                    fprintf (stderr, "fleet-twin-wallboard: %s\n", msg);
                    ft_wall_draw_set_notice (draw, "controller", msg);
                    g_free (msg);
                  }
              }
              break;
            case SDL_CONTROLLERDEVICEREMOVED:
              for (guint i = 0; i < pads->len; i++)
                if (SDL_JoystickInstanceID (SDL_GameControllerGetJoystick (pads->pdata[i])) == ev.cdevice.which)
                  {
                    SDL_GameControllerClose (pads->pdata[i]);
                    g_ptr_array_remove_index (pads, i);
                    break;
                  }
              break;
            case SDL_CONTROLLERBUTTONDOWN:
              act = ft_wall_action_from_button ((SDL_GameControllerButton) ev.cbutton.button);
              break;
            default:
              break;
            }
          if (ft_wall_rotation_apply (&rot, act, now))
            continue;
          switch (act)
            {
            case FT_WALL_ACT_PAUSE:   paused = !paused; break;
            case FT_WALL_ACT_FASTER:  speed = MIN (speed * 2, 1e6); break;
            case FT_WALL_ACT_SLOWER:  speed = MAX (speed / 2, 0.25); break;
            case FT_WALL_ACT_DISMISS: ft_wall_draw_set_notice (draw, "controller", NULL); break;
            case FT_WALL_ACT_QUIT:    quit = TRUE; break;
            case FT_WALL_ACT_FULLSCREEN:
              fullscreen = !fullscreen;
              SDL_SetWindowFullscreen (win, fullscreen ? SDL_WINDOW_FULLSCREEN_DESKTOP : 0);
              break;
            default: break;
            }
        }

      if (source_ok && !paused && !ended)
        sim_t += (FtTime) llround ((now - last) * speed);
      last = now;
      if (source_ok)
        {
          FtTime end = ft_wall_source_end_time (src);
          if (sim_t >= end && !ended && ft_wall_source_get_kind (src) != FT_WALL_SOURCE_LIVE)
            {
              sim_t = end;
              ended = TRUE;
            }
          if (!ft_wall_source_update (src, sim_t, scene, &error))
            {
              fprintf (stderr, "fleet-twin-wallboard: %s\n", error->message);
              ft_wall_draw_set_notice (draw, "source", error->message);
              g_clear_error (&error);
              source_ok = FALSE;
              status = 1;
            }
          else if (ended && !announced_end)
            {
              announced_end = TRUE;
              ft_wall_scene_alert (scene, FT_WALL_ALERT_INFO, sim_t, "End of %s: the clock stops here",
                                 ft_wall_source_get_kind (src) == FT_WALL_SOURCE_RUNDB ? "the replay" : "the scenario");
            }
        }
      ft_wall_rotation_tick (&rot, now);
      int w, h;
      SDL_GetRendererOutputSize (ren, &w, &h);
      FtWallView view;
      ft_wall_rotation_view (&rot, scene, w, h, &view);
      ft_wall_view_settle (&shown, &view, w, h);
      g_autofree char *footer = g_strdup_printf ("%s×%g%s · %s", paused ? "paused · " : "", speed,
                                                 rot.rotating ? " · rotating" : " · view held",
                                                 "←/→ views · Space pause · +/− speed · Q quit");
      ft_wall_draw_set_footer (draw, footer);
      if (!ft_wall_draw_frame (draw, scene, &shown, w, h, &error))
        {
          fprintf (stderr, "fleet-twin-wallboard: %s\n", error->message);
          status = 1;
          break;
        }
      if (o.screenshot && now - start >= (gint64) (o.screenshot_after * 1000))
        {
          if (!take_screenshot (ren, w, h, o.screenshot, o.force))
            status = 1;
          quit = TRUE;
        }
      SDL_RenderPresent (ren);
      if (o.duration > 0 && now - start >= (gint64) (o.duration * 1000))
        quit = TRUE;
      gint64 spent = now_ms () - now;
      if (spent < 16)
        SDL_Delay ((Uint32) (16 - spent));
    }

out:
  for (guint i = 0; i < pads->len; i++)
    SDL_GameControllerClose (pads->pdata[i]);
  g_ptr_array_unref (pads);
  g_clear_pointer (&draw, ft_wall_draw_free);
  SDL_DestroyRenderer (ren);
  SDL_DestroyWindow (win);
  SDL_Quit ();
  g_free (o.tiles); g_free (o.prefix); g_free (o.window); g_free (o.from); g_free (o.screenshot);
  return status;
}
