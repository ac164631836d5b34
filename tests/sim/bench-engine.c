/* bench-engine.c — event-queue throughput of the simulation engine.
 *
 * The classic "hold" model: N pending events; each event that runs
 * schedules one more at now + exponential delay, so the queue stays at N.
 * Also a cancel-heavy variant (every other event cancels a pending one and
 * schedules two). Prints the median of 5 runs in events per second.
 * Rates are given per wall second and per CPU second of this thread (the
 * latter is what one core delivers when the machine is shared).
 * Usage: bench-engine [EVENTS] (default 20,000,000 per run).
 */
#include "ft-test.h"
#include "ft-sim-engine.h"
#include "ft-sim-rng.h"

#include <stdio.h>
#include <stdlib.h>
#include <time.h>

typedef struct {
  gsl_rng     *r;
  double      *delays;  /* precomputed delays so the RNG is not timed */
  guint        n_delays;
  guint        i;
  guint64      remaining;
  gboolean     cancel_mode;
  FtSimHandle *handles;
  guint        n_handles;
} Hold;

static void
on_event (FtSimEngine *e, gpointer data, guint64 arg)
{
  Hold *h = data;
  if (h->remaining == 0)
    return;
  h->remaining--;
  FtTime d = (FtTime) h->delays[h->i++ % h->n_delays];
  FtSimHandle hd = ft_sim_engine_schedule_in (e, d, (gint) (arg & 3), on_event, h, arg + 1);
  if (h->cancel_mode)
    {
      guint slot = (guint) (arg % h->n_handles);
      if ((arg & 1) == 0)
        {
          /* replace a cancelled one so the queue keeps its size */
          if (ft_sim_engine_cancel (e, h->handles[slot]))
            {
              FtTime d2 = (FtTime) h->delays[h->i++ % h->n_delays];
              ft_sim_engine_schedule_in (e, d2, 0, on_event, h, arg + 7);
            }
        }
      h->handles[slot] = hd;
    }
}

static double
cpu_now (void)
{
  struct timespec ts;
  clock_gettime (CLOCK_THREAD_CPUTIME_ID, &ts);
  return ts.tv_sec + ts.tv_nsec / 1e9;
}

static double
run_once (guint queue_size, guint64 n_events, gboolean cancel_mode, FtSimRng *rng, double *cpu_rate)
{
  Hold h = { 0 };
  h.r = ft_sim_rng_stream (rng, "bench");
  h.n_delays = 1 << 16;
  h.delays = g_new (double, h.n_delays);
  for (guint i = 0; i < h.n_delays; i++)
    h.delays[i] = ft_sim_rng_exponential (h.r, 60000.0);
  h.remaining = n_events;
  h.cancel_mode = cancel_mode;
  h.n_handles = queue_size;
  h.handles = g_new0 (FtSimHandle, queue_size);
  FtSimEngine *e = ft_sim_engine_new (0);
  for (guint i = 0; i < queue_size; i++)
    h.handles[i] = ft_sim_engine_schedule (e, (FtTime) h.delays[i % h.n_delays], 0, on_event, &h, i);
  gint64 t0 = g_get_monotonic_time ();
  double c0 = cpu_now ();
  ft_sim_engine_run_until (e, G_MAXINT64 - 1);
  double c1 = cpu_now ();
  gint64 t1 = g_get_monotonic_time ();
  double rate = (double) ft_sim_engine_n_processed (e) / ((t1 - t0) / 1e6);
  *cpu_rate = (double) ft_sim_engine_n_processed (e) / (c1 - c0);
  ft_sim_engine_free (e);
  g_free (h.delays);
  g_free (h.handles);
  return rate;
}

int
main (int argc, char **argv)
{
  guint64 n = argc > 1 ? g_ascii_strtoull (argv[1], NULL, 10) : 20000000;
  g_autoptr (FtSimRng) rng = ft_sim_rng_new (42, 0);
  guint sizes[] = { 1000, 100000, 1000000 };
  printf ("bench-engine: hold model, %" G_GUINT64_FORMAT " events per run, median of 5\n", n);
  for (guint m = 0; m < 2; m++)
    for (guint s = 0; s < G_N_ELEMENTS (sizes); s++)
      {
        double r[5], c[5];
        for (guint k = 0; k < 5; k++)
          r[k] = run_once (sizes[s], n, m == 1, rng, &c[k]);
        qsort (r, 5, sizeof r[0], ft_test_cmp_double);
        qsort (c, 5, sizeof c[0], ft_test_cmp_double);
        printf ("  %-8s queue %8u: %6.2f M events/wall-s (min %.2f, max %.2f), %6.2f M events/cpu-s%s\n",
                m ? "cancel" : "hold", sizes[s], r[2] / 1e6, r[0] / 1e6, r[4] / 1e6, c[2] / 1e6,
                (m == 0 && s == 0) ? (c[2] >= 1e7 ? "  [target >= 10 M/s per core: met]" : "  [target >= 10 M/s per core: MISSED]") : "");
      }
  return 0;
}
