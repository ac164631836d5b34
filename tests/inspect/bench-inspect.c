/* bench-inspect.c — photo checks per second at 1024 px on one core: for
 * each of the 16 shared photos, a rider's photo (synthetic variation, every
 * fourth with damage) is encoded as JPEG; one check = decoding that JPEG and
 * ft_inspect_check against the decoded reference. OpenCV runs on the calling
 * thread only; times are thread CPU time and wall time, medians over
 * --runs passes (target: under 150 ms per check).
 *
 *   bench-inspect [--runs N] [--photos N]
 */
#include "ft-config.h"
#include "ft-inspect.h"
#include "ft-test.h"

#include <stdio.h>
#include <time.h>

static double
cpu_ms (void)
{
  struct timespec ts;
  clock_gettime (CLOCK_THREAD_CPUTIME_ID, &ts);
  return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

int
main (int argc, char **argv)
{
  gint runs = 3, n_photos = 16;
  GOptionEntry entries[] = {
    { "runs", 0, 0, G_OPTION_ARG_INT, &runs, "Passes over the photos (default 3)", "N" },
    { "photos", 0, 0, G_OPTION_ARG_INT, &n_photos, "Photos to use, 1..16 (default 16)", "N" },
    { NULL }
  };
  g_autoptr(GOptionContext) ctx = g_option_context_new ("— damage checks per second at 1024 px");
  g_option_context_add_main_entries (ctx, entries, NULL);
  g_autoptr(GError) error = NULL;
  if (!g_option_context_parse (ctx, &argc, &argv, &error) || runs < 1 || n_photos < 1 || n_photos > 16)
    {
      fprintf (stderr, "bench-inspect: %s\n", error ? error->message : "bad arguments");
      return 2;
    }
  ft_inspect_set_threads (1);
  g_autoptr(FtInspector) insp = ft_inspector_new (NULL);
  FtInspectImage *refs[16];
  GBytes *jpgs[16];
  for (int i = 0; i < n_photos; i++)
    {
      g_autofree char *rel = g_strdup_printf ("photos/escooter_%d.jpg", 12 + i);
      g_autofree char *path = ft_test_shared_path (rel);
      refs[i] = ft_inspect_image_load (path, &error);
      if (refs[i] == NULL)
        {
          fprintf (stderr, "bench-inspect: %s\n", error->message);
          return 1;
        }
      int box[4];
      g_autoptr(FtInspectImage) scene = ft_inspect_synth_damage (refs[i], (i % 4 == 3) ? FT_DAMAGE_BROKEN : FT_DAMAGE_NONE,
                                                                 i, box, &error);
      g_autoptr(FtInspectImage) rider = ft_inspect_synth_variation (scene, 100 + i, 0.025, &error);
      jpgs[i] = ft_inspect_image_encode (rider, 90, &error);
    }
  guint n = (guint) (runs * n_photos), k = 0;
  double *cpu = g_new (double, n), *wall = g_new (double, n);
  guint decided[3] = { 0, 0, 0 };
  for (int r = 0; r < runs; r++)
    for (int i = 0; i < n_photos; i++)
      {
        gsize len;
        const guint8 *d = g_bytes_get_data (jpgs[i], &len);
        double c0 = cpu_ms ();
        gint64 w0 = g_get_monotonic_time ();
        g_autoptr(FtInspectImage) photo = ft_inspect_image_decode (d, len, "photo", &error);
        FtInspectResult res;
        if (photo == NULL || !ft_inspect_check (insp, refs[i], photo, &res, &error))
          {
            fprintf (stderr, "bench-inspect: %s\n", error->message);
            return 1;
          }
        cpu[k] = cpu_ms () - c0;
        wall[k] = (g_get_monotonic_time () - w0) / 1e3;
        k++;
        if (r == 0)
          decided[res.decision]++;
      }
  double mc = ft_test_median (cpu, n), mw = ft_test_median (wall, n);
  printf ("bench-inspect: %u checks (%d photos x %d runs) at <= %d px, one thread, BRISQUE %s\n",
          n, n_photos, runs, FT_INSPECT_WORK_SIDE, ft_inspector_has_brisque (insp) ? "on" : "off");
  printf ("  median per check: %.1f ms CPU, %.1f ms wall; max CPU %.1f ms\n", mc, mw, cpu[n - 1]);
  printf ("  checks per second (CPU): %.1f   target: < 150 ms per check: %s\n", 1000.0 / mc,
          mc < 150 ? "met" : "NOT met");
  printf ("  first pass decisions: ok %u, review %u, damaged %u\n", decided[0], decided[1], decided[2]);
  for (int i = 0; i < n_photos; i++)
    {
      ft_inspect_image_free (refs[i]);
      g_bytes_unref (jpgs[i]);
    }
  g_free (cpu);
  g_free (wall);
  return 0;
}
