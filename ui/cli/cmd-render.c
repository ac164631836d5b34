/* cmd-render.c — `fleet-twin-cli render SOURCE --from T --to T --fps N
 * --size WxH --out DIR|FILE.mp4`: a replay (run database), a scenario or a
 * live twin drawn headless by the wallboard's drawing core (SDL's software
 * renderer onto a surface: no display, no GPU) and written as PNG frames
 * into a folder or piped to ffmpeg for an H.264 MP4. Both outputs go
 * through FtOutput: written beside the target, moved into place when
 * complete, and a target that is not an earlier render is refused unless
 * --force.
 */
#define _GNU_SOURCE   /* memmem */
#include "ft-cli.h"
#include "ft-file.h"
#include "ft-wall-draw.h"
#include "ft-wall-input.h"
#include "ft-wall-source.h"

#include <SDL.h>
#include <errno.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>


#define RENDER_TAG "fleet-twin-render"
#define MAX_FRAMES 200000

/* An MP4 this command wrote carries RENDER_TAG in its metadata, which
 * +faststart puts at the front of the file. */
static gboolean
mp4_is_own (const char *path)
{
  FILE *f = fopen (path, "rb");
  if (f == NULL)
    return FALSE;
  g_autofree char *buf = g_malloc (256 * 1024);
  size_t n = fread (buf, 1, 256 * 1024, f);
  fclose (f);
  return n > 0 && memmem (buf, n, RENDER_TAG, strlen (RENDER_TAG)) != NULL;
}

static int
cmp_double (const void *a, const void *b)
{
  double x = *(const double *) a, y = *(const double *) b;
  return x < y ? -1 : x > y;
}

static double
median (GArray *a)
{
  if (a->len == 0)
    return 0;
  qsort (a->data, a->len, sizeof (double), cmp_double);
  return g_array_index (a, double, a->len / 2);
}

static gboolean
write_all (int fd, const guint8 *p, gsize n, GError **error)
{
  while (n > 0)
    {
      ssize_t w = write (fd, p, n);
      if (w < 0 && errno == EINTR)
        continue;
      if (w <= 0)
        {
          g_set_error (error, FT_WALL_ERROR, FT_WALL_ERROR_EXPORT,
                       "ffmpeg stopped reading frames (%s); its messages are above", g_strerror (errno));
          return FALSE;
        }
      p += w;
      n -= (gsize) w;
    }
  return TRUE;
}

int
ft_cli_render (int argc, char **argv)
{
  g_autofree char *from_s = NULL, *to_s = NULL, *size_s = NULL, *out_path = NULL, *tiles = NULL;
  g_autofree char *view_s = NULL, *prefix = NULL;
  double fps = 25, speed = 300, rotate = 8;
  gboolean force = FALSE, quiet = FALSE;
  GOptionEntry entries[] = {
    { "from", 0, 0, G_OPTION_ARG_STRING, &from_s, "First frame's simulated time (HH:MM, HH:MM:SS, “Nd HH:MM”; default the start)", "T" },
    { "to", 0, 0, G_OPTION_ARG_STRING, &to_s, "Last frame's simulated time (default the end; required for a live twin)", "T" },
    { "fps", 0, 0, G_OPTION_ARG_DOUBLE, &fps, "Frames per second of video (default 25)", "N" },
    { "speed", 0, 0, G_OPTION_ARG_DOUBLE, &speed, "Simulated seconds per second of video (default 300)", "X" },
    { "size", 0, 0, G_OPTION_ARG_STRING, &size_s, "Frame size (default 1280x720)", "WxH" },
    { "out", 'o', 0, G_OPTION_ARG_FILENAME, &out_path, "A folder for PNG frames, or FILE.mp4 (through ffmpeg)", "DIR|FILE.mp4" },
    { "view", 0, 0, G_OPTION_ARG_STRING, &view_s, "city (default), district, charts, or rotate", "VIEW" },
    { "rotate", 0, 0, G_OPTION_ARG_DOUBLE, &rotate, "With --view rotate: video seconds per view (default 8)", "S" },
    { "tiles", 't', 0, G_OPTION_ARG_FILENAME, &tiles, "MBTiles map (default: the city's, or Demo City's)", "FILE" },
    { "prefix", 0, 0, G_OPTION_ARG_STRING, &prefix, "Live: the fleet's topic prefix", "P" },
    { "force", 0, 0, G_OPTION_ARG_NONE, &force, "Replace --out even when it is not an earlier render", NULL },
    { "quiet", 'q', 0, G_OPTION_ARG_NONE, &quiet, "No progress bar or summary", NULL },
    { NULL }
  };
  g_autoptr (GOptionContext) ctx = g_option_context_new ("SOURCE — draw a replay, scenario or live twin to PNG frames or an MP4");
  g_option_context_add_main_entries (ctx, entries, NULL);
  g_autoptr (GError) error = NULL;
  if (!g_option_context_parse (ctx, &argc, &argv, &error))
    {
      fprintf (stderr, "%s: %s\n", argv[0], error->message);
      return 2;
    }
  if (argc != 2 || out_path == NULL)
    {
      fprintf (stderr, "%s: give one SOURCE (run database, .scenario or mqtt://…) and --out DIR|FILE.mp4\n", argv[0]);
      return 2;
    }
  int w = 1280, h = 720;
  if (size_s)
    {
      char *end = NULL;
      long a = strtol (size_s, &end, 10), b = 0;
      if (end && (*end == 'x' || *end == 'X'))
        {
          const char *p = end + 1;
          b = strtol (p, &end, 10);
          if (end == p || *end)
            b = 0;
        }
      if (a < 160 || b < 120 || a > 7680 || b > 4320)
        {
          fprintf (stderr, "%s: --size “%s” is not WIDTHxHEIGHT between 160x120 and 7680x4320\n", argv[0], size_s);
          return 2;
        }
      w = (int) a;
      h = (int) b;
    }
  if (!(fps >= 1 && fps <= 240) || !(speed > 0 && speed <= 1e6) || !(rotate > 0))
    {
      fprintf (stderr, "%s: --fps must be in 1..240, --speed in (0, 1e6] and --rotate > 0\n", argv[0]);
      return 2;
    }
  enum { V_CITY, V_DISTRICT, V_CHARTS, V_ROTATE } vmode = V_CITY;
  if (view_s)
    {
      if (g_str_equal (view_s, "city")) vmode = V_CITY;
      else if (g_str_equal (view_s, "district")) vmode = V_DISTRICT;
      else if (g_str_equal (view_s, "charts")) vmode = V_CHARTS;
      else if (g_str_equal (view_s, "rotate")) vmode = V_ROTATE;
      else
        {
          fprintf (stderr, "%s: --view “%s”: use city, district, charts or rotate\n", argv[0], view_s);
          return 2;
        }
    }
  gboolean mp4 = g_str_has_suffix (out_path, ".mp4");
  if (mp4 && (w % 2 || h % 2))
    {
      fprintf (stderr, "%s: an MP4 needs an even width and height (H.264 4:2:0); %dx%d is not\n", argv[0], w, h);
      return 2;
    }
  FtTime from = -1, to = -1;
  if ((from_s && !ft_wall_parse_time (from_s, &from, &error)) || (to_s && !ft_wall_parse_time (to_s, &to, &error)))
    {
      fprintf (stderr, "%s: %s\n", argv[0], error->message);
      return 2;
    }
  g_autofree char *ffmpeg = NULL;
  if (mp4 && (ffmpeg = g_find_program_in_path ("ffmpeg")) == NULL)
    {
      fprintf (stderr, "%s: writing %s needs ffmpeg, which is not installed (Debian: apt-get install ffmpeg); "
                       "or render PNG frames into a folder (--out DIR)\n", argv[0], out_path);
      return 1;
    }

  FtWallSourceOptions so = { prefix, 5000, 0 };
  g_autoptr (FtWallSource) src = ft_wall_source_open (argv[1], &so, &error);
  if (src == NULL)
    {
      fprintf (stderr, "%s: %s\n", argv[0], error->message);
      return 1;
    }
  gboolean live = ft_wall_source_get_kind (src) == FT_WALL_SOURCE_LIVE;
  FtTime s0 = ft_wall_source_start_time (src), s1 = ft_wall_source_end_time (src);
  if (from < 0)
    from = s0;
  if (to < 0)
    {
      if (live)
        {
          fprintf (stderr, "%s: a live twin has no end: give --to (the frames follow the wall clock)\n", argv[0]);
          return 2;
        }
      to = s1;
    }
  if (!live && (from > s1 || to > s1 || from < s0))
    {
      char a[32], b[32];
      ft_wall_format_time (s0, a, sizeof a);
      ft_wall_format_time (s1, b, sizeof b);
      fprintf (stderr, "%s: --from/--to must lie within the source's time, %s to %s\n", argv[0], a, b);
      return 2;
    }
  if (to < from)
    {
      fprintf (stderr, "%s: --to is before --from\n", argv[0]);
      return 2;
    }
  double video_s = (double) (to - from) / 1000.0 / speed;
  gint64 n_frames = (gint64) floor (video_s * fps + 1e-9) + 1;
  if (n_frames > MAX_FRAMES)
    {
      fprintf (stderr, "%s: that is %" G_GINT64_FORMAT " frames (more than %d): raise --speed or lower --fps\n",
               argv[0], n_frames, MAX_FRAMES);
      return 2;
    }

  /* headless: a software renderer onto a surface, no video driver needed */
  SDL_SetHint (SDL_HINT_VIDEODRIVER, "dummy");
  if (SDL_Init (0) != 0)
    {
      fprintf (stderr, "%s: cannot start SDL: %s\n", argv[0], SDL_GetError ());
      return 1;
    }
  SDL_Surface *surf = SDL_CreateRGBSurfaceWithFormat (0, w, h, 32, SDL_PIXELFORMAT_ARGB8888);
  SDL_Renderer *ren = surf ? SDL_CreateSoftwareRenderer (surf) : NULL;
  if (ren == NULL)
    {
      fprintf (stderr, "%s: cannot create a %dx%d software renderer: %s\n", argv[0], w, h, SDL_GetError ());
      if (surf)
        SDL_FreeSurface (surf);
      SDL_Quit ();
      return 1;
    }
  int status = 1;
  FtWallDraw *draw = ft_wall_draw_new (ren);
  ft_wall_draw_set_overlay_interval (draw, 0);
  FtWallScene *scene = ft_wall_scene_new ();
  FtOutput *out = NULL;
  GPid pid = 0;
  int pipe_fd = -1;
  GArray *t_draw = g_array_new (FALSE, FALSE, sizeof (double)), *t_write = g_array_new (FALSE, FALSE, sizeof (double));
  const char *tp = tiles ? tiles : ft_wall_source_get_tiles_path (src);
  if (!ft_wall_draw_set_tiles (draw, tp, &error))
    {
      /* drawn on every frame as a message; the run goes on without a map */
      fprintf (stderr, "%s: %s\n", argv[0], error->message);
      g_clear_error (&error);
    }
  out = ft_output_begin (out_path, mp4 ? FT_OUTPUT_FILE : FT_OUTPUT_DIR, mp4 ? mp4_is_own : ft_output_dir_is_marked,
                         force, &error);
  if (out == NULL)
    goto done;
  if (mp4)
    {
      g_autofree char *size_arg = g_strdup_printf ("%dx%d", w, h);
      char fps_arg[32];
      g_ascii_formatd (fps_arg, sizeof fps_arg, "%g", fps);
      const char *args[] = { ffmpeg, "-hide_banner", "-loglevel", "error", "-y",
                             "-f", "rawvideo", "-pix_fmt", "bgra", "-video_size", size_arg, "-framerate", fps_arg,
                             "-i", "pipe:0", "-c:v", "libx264", "-preset", "veryfast", "-pix_fmt", "yuv420p",
                             "-movflags", "+faststart", "-metadata", "comment=" RENDER_TAG, "-f", "mp4",
                             ft_output_get_path (out), NULL };
      if (!g_spawn_async_with_pipes (NULL, (char **) args, NULL, G_SPAWN_DO_NOT_REAP_CHILD, NULL, NULL, &pid,
                                     &pipe_fd, NULL, NULL, &error))
        {
          g_prefix_error (&error, "cannot start ffmpeg: ");
          goto done;
        }
    }
  signal (SIGPIPE, SIG_IGN);

  FtWallRotation rot;
  ft_wall_rotation_init (&rot, (gint64) (rotate * 1000), 0);
  FtWallView shown = { .kind = FT_WALL_N_VIEWS };
  guint map_draws = 0;
  gint64 wall0 = g_get_monotonic_time ();
  for (gint64 i = 0; i < n_frames; i++)
    {
      FtTime t = from + (FtTime) llround ((double) i * 1000.0 * speed / fps);
      t = MIN (t, to);
      gint64 video_ms = (gint64) llround (i * 1000.0 / fps);
      if (live && i > 0)
        g_usleep ((gulong) (1e6 / fps));
      if (!ft_wall_source_update (src, t, scene, &error))
        goto done;
      FtWallView view;
      switch (vmode)
        {
        case V_CITY:     ft_wall_view_city (&view, scene, w, h); break;
        case V_DISTRICT: ft_wall_view_district (&view, scene, 0, w, h); break;
        case V_CHARTS:   ft_wall_view_charts (&view); break;
        case V_ROTATE:
        default:
          ft_wall_rotation_tick (&rot, video_ms);
          ft_wall_rotation_view (&rot, scene, w, h, &view);
          break;
        }
      ft_wall_view_settle (&shown, &view, w, h);
      gint64 c0 = g_get_monotonic_time ();
      if (!ft_wall_draw_frame (draw, scene, &shown, w, h, &error))
        goto done;
      FtWallDrawStats st;
      ft_wall_draw_get_stats (draw, &st);
      map_draws += st.map_redrawn;
      SDL_RenderPresent (ren);
      gint64 c1 = g_get_monotonic_time ();
      if (mp4)
        {
          if (!write_all (pipe_fd, surf->pixels, (gsize) surf->pitch * h, &error))
            goto done;
        }
      else
        {
          g_autofree char *name = g_strdup_printf ("frame-%06" G_GINT64_FORMAT ".png", i + 1);
          g_autofree char *p = g_build_filename (ft_output_get_path (out), name, NULL);
          if (!ft_wall_write_png_raw (surf->pixels, w, h, surf->pitch, p, &error))
            goto done;
        }
      gint64 c2 = g_get_monotonic_time ();
      double dd = (c1 - c0) / 1000.0, dw = (c2 - c1) / 1000.0;
      g_array_append_val (t_draw, dd);
      g_array_append_val (t_write, dw);
      if (!quiet)
        {
          char label[32];
          g_snprintf (label, sizeof label, "frame %" G_GINT64_FORMAT "/%" G_GINT64_FORMAT, i + 1, n_frames);
          ft_cli_progress (label, (double) (i + 1) / n_frames);
        }
    }
  if (mp4)
    {
      close (pipe_fd);
      pipe_fd = -1;
      int wst = 0;
      waitpid (pid, &wst, 0);
      g_spawn_close_pid (pid);
      pid = 0;
      if (!WIFEXITED (wst) || WEXITSTATUS (wst) != 0)
        {
          g_set_error (&error, FT_WALL_ERROR, FT_WALL_ERROR_EXPORT, "ffmpeg failed (exit status %d); its messages are above",
                       WIFEXITED (wst) ? WEXITSTATUS (wst) : -1);
          goto done;
        }
    }
  if (!ft_output_commit (g_steal_pointer (&out), &error))
    goto done;
  if (!quiet)
    {
      ft_cli_progress_done ();
      double secs = (g_get_monotonic_time () - wall0) / 1e6;
      g_autofree char *notes = ft_wall_draw_dup_notices (draw);
      printf ("Rendered %" G_GINT64_FORMAT " frames (%dx%d, %g fps, %.1f s of video) to %s in %.1f s: "
              "%.1f frames/s; median per frame: draw %.2f ms, %s %.2f ms; map drawn %u times\n",
              n_frames, w, h, fps, (double) n_frames / fps, out_path, secs, n_frames / MAX (secs, 1e-9),
              median (t_draw), mp4 ? "encode" : "PNG", median (t_write), map_draws);
      if (notes)
        printf ("Shown on the frames: %s\n", notes);
    }
  status = 0;

done:
  if (error)
    {
      ft_cli_progress_done ();
      fprintf (stderr, "%s: %s\n", argv[0], error->message);
    }
  if (pipe_fd >= 0)
    close (pipe_fd);
  if (pid)
    {
      int wst;
      kill (pid, SIGTERM);
      waitpid (pid, &wst, 0);
      g_spawn_close_pid (pid);
    }
  ft_output_abort (out);
  g_array_unref (t_draw);
  g_array_unref (t_write);
  ft_wall_scene_free (scene);
  ft_wall_draw_free (draw);
  SDL_DestroyRenderer (ren);
  SDL_FreeSurface (surf);
  SDL_Quit ();
  return status;
}
