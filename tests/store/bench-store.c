/* bench-store.c — booking lifecycles per second (reserve, unlock, end with
 * capture) through the SQLite store, with group commit versus one
 * transaction per operation, side by side, on a real file. Also runs the
 * same lifecycles with no store at all, to show what persistence costs.
 * Prints each repetition, the medians and the ratios.
 *
 * Usage: bench-store [--group N] [--per-op N] [--reps N] [--dir DIR] [--full-sync]
 *                    [--mode all|none|group|per-op]
 *
 * Instruction counts (stable on a busy machine): the timed loop of each
 * mode is wrapped in callgrind's collection toggle, so
 *   valgrind --tool=callgrind --collect-atstart=no bench-store --mode group
 *            --group 60000 --reps 1 --window-ms 1000000
 * counts exactly the timed loop (the large window keeps the batches as
 * big as in a normal run, bounded by max_batch_events); divide the total Ir by the lifecycles,
 * and subtract the same for --mode none to get the store's share.
 */
#include <glib/gstdio.h>
#include <stdio.h>
#include <sys/stat.h>
#include <time.h>

#include "ft-test.h"
#include "ft-store.h"
#include "store-world.h"

#if defined(__has_include)
#if __has_include(<valgrind/callgrind.h>)
#include <valgrind/callgrind.h>
#endif
#endif
#ifndef CALLGRIND_TOGGLE_COLLECT
#define CALLGRIND_TOGGLE_COLLECT do { } while (0)
#endif

#define N_RIDERS   20000

typedef enum { MODE_NONE, MODE_GROUP, MODE_PER_OP } Mode;

static const char *const mode_names[] = { "no store", "group commit", "tx per operation" };

static int opt_group = 300000;
static int opt_per_op = 20000;
static int opt_reps = 5;
static char *opt_dir = NULL;
static gboolean opt_full_sync = FALSE;
static int opt_batch = 0;
static int opt_vehicles = 20000;
static char *opt_mode = NULL;
static int opt_window_ms = 0;

/* err by address, read after the call it reports on has run */
static void
check_ok (gboolean ok, GError **err, const char *what)
{
  if (!ok)
    {
      g_printerr ("bench-store: %s: %s\n", what, err && *err ? (*err)->message : "failed");
      exit (1);
    }
}

static gint64
cpu_us (void)
{
  struct timespec ts;

  clock_gettime (CLOCK_PROCESS_CPUTIME_ID, &ts);
  return (gint64) ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

/* Time this thread spent runnable but waiting for a CPU (other processes
 * on a busy machine), from /proc/self/schedstat; 0 if unavailable. */
static gint64
runqueue_wait_us (void)
{
  g_autofree char *text = NULL;
  guint64 on_cpu = 0, waiting = 0;

  if (!g_file_get_contents ("/proc/thread-self/schedstat", &text, NULL, NULL) ||
      sscanf (text, "%" G_GUINT64_FORMAT " %" G_GUINT64_FORMAT, &on_cpu, &waiting) != 2)
    return 0;
  return (gint64) (waiting / 1000);
}

typedef struct {
  double rate;          /* lifecycles per wall-clock second */
  double own_rate;      /* per second of wall time minus time spent waiting for a CPU */
  double cpu_rate;      /* lifecycles per CPU second (user + system) */
  double ev_per_lc;
  guint64 commits;
  gint64 file_bytes;
} Result;

static Result
run_once (Mode mode, int n, int rep)
{
  g_autoptr(GError) err = NULL;
  g_autoptr(World) core = world_new (42 + rep);
  g_autofree char *dir = NULL, *path = NULL;
  FtStore *s = NULL;
  FtStoreTargets t;
  FtStoreConfig cfg;
  FtTime now = FT_HOUR;
  guint64 seq0;
  gint64 t0, t1, c0, c1, w0, w1;
  Result res = { 0 };
  int i;

  dir = g_build_filename (opt_dir, "ft-bench-XXXXXX", NULL);
  check_ok (g_mkdtemp (dir) != NULL, NULL, "temporary directory");
  path = g_build_filename (dir, "bench.db", NULL);

  world_populate (core, (guint) opt_vehicles, 0, N_RIDERS, 100000000, 0);
  t = world_targets (core);
  ft_store_config_init (&cfg);
  cfg.synchronous_full = opt_full_sync;
  if (opt_batch > 0)
    cfg.max_batch_events = (guint) opt_batch;
  if (opt_window_ms > 0)
    cfg.max_window = (FtTime) opt_window_ms * FT_MS;
  if (mode != MODE_NONE)
    {
      s = ft_store_open (path, &cfg, &err);
      check_ok (s != NULL, &err, "open");
      check_ok (ft_store_commit (s, &t, &err), &err, "initial commit");
    }
  else
    ft_event_log_drain (core->log);
  seq0 = ft_event_log_last_seq (core->log);

  w0 = runqueue_wait_us ();
  t0 = g_get_monotonic_time ();
  c0 = cpu_us ();
  CALLGRIND_TOGGLE_COLLECT;
  for (i = 0; i < n; i++)
    {
      guint rider = ((guint) i * 104729u) % N_RIDERS, vehicle = (guint) ((guint) i * 7919u) % (guint) opt_vehicles;
      gint64 id;

      now += FT_SECOND;
      switch (mode)
        {
        case MODE_NONE:
          check_ok (world_lifecycle (core, rider, vehicle, now, &err) >= 0, &err, "lifecycle");
          if (ft_event_log_n_pending (core->log) >= cfg.max_batch_events)
            ft_event_log_drain (core->log);
          break;
        case MODE_GROUP:
          check_ok (world_lifecycle (core, rider, vehicle, now, &err) >= 0, &err, "lifecycle");
          /* the window runs on the wall clock, as in live mode */
          check_ok (ft_store_maybe_commit (s, &t, g_get_monotonic_time () / 1000, NULL, &err),
                    &err, "maybe_commit");
          break;
        case MODE_PER_OP:
          id = ft_booking_reserve (core->booking, rider, vehicle, now, &err);
          check_ok (id >= 0, &err, "reserve");
          check_ok (ft_store_commit (s, &t, &err), &err, "commit");
          check_ok (ft_booking_unlock (core->booking, id, rider, now + 30 * FT_SECOND, &err), &err, "unlock");
          check_ok (ft_store_commit (s, &t, &err), &err, "commit");
          check_ok (ft_booking_end (core->booking, id, rider, world_point (vehicle + 17), 1200.0,
                                    now + 6 * FT_MINUTE, NULL, &err), &err, "end");
          check_ok (ft_store_commit (s, &t, &err), &err, "commit");
          break;
        }
    }
  if (s)
    check_ok (ft_store_commit (s, &t, &err), &err, "final commit");
  CALLGRIND_TOGGLE_COLLECT;
  t1 = g_get_monotonic_time ();
  c1 = cpu_us ();
  w1 = runqueue_wait_us ();

  res.rate = n / ((t1 - t0) / 1e6);
  res.cpu_rate = n / ((c1 - c0) / 1e6);
  res.own_rate = n / ((t1 - t0 - (w1 - w0)) / 1e6);
  res.ev_per_lc = (double) (ft_event_log_last_seq (core->log) - seq0) / n;
  if (s)
    {
      GStatBuf st;
      res.commits = ft_store_n_commits (s) - 1;
      ft_store_close (s);
      if (g_stat (path, &st) == 0)
        res.file_bytes = st.st_size;
    }
  check_ok (ft_store_remove_files (path, &err), &err, "removing the file");
  g_rmdir (dir);
  return res;
}

int
main (int argc, char **argv)
{
  g_autoptr(GError) err = NULL;
  g_autoptr(GOptionContext) ctx = NULL;
  GOptionEntry entries[] = {
    { "group", 0, 0, G_OPTION_ARG_INT, &opt_group, "Lifecycles per repetition with group commit", "N" },
    { "per-op", 0, 0, G_OPTION_ARG_INT, &opt_per_op, "Lifecycles per repetition with one transaction per operation", "N" },
    { "reps", 0, 0, G_OPTION_ARG_INT, &opt_reps, "Repetitions", "N" },
    { "dir", 0, 0, G_OPTION_ARG_FILENAME, &opt_dir, "Directory for the database files (default /tmp)", "DIR" },
    { "full-sync", 0, 0, G_OPTION_ARG_NONE, &opt_full_sync, "PRAGMA synchronous=FULL instead of NORMAL", NULL },
    { "batch", 0, 0, G_OPTION_ARG_INT, &opt_batch, "max_batch_events (default: the store's default, 20000)", "N" },
    { "vehicles", 0, 0, G_OPTION_ARG_INT, &opt_vehicles, "Fleet size (default 20000)", "N" },
    { "window-ms", 0, 0, G_OPTION_ARG_INT, &opt_window_ms, "max_window in ms (default: the store's, 50); "
      "give a large one under callgrind, whose slowness would otherwise close every window early", "MS" },
    { "mode", 0, 0, G_OPTION_ARG_STRING, &opt_mode, "Run only one mode: none, group or per-op (default all)", "MODE" },
    { NULL }
  };
  double *rates[3], *cpu_rates[3], *own_rates[3];
  gboolean run_mode[3] = { TRUE, TRUE, TRUE };
  int r, m;

  ctx = g_option_context_new ("— booking lifecycles per second through the store");
  g_option_context_add_main_entries (ctx, entries, NULL);
  if (!g_option_context_parse (ctx, &argc, &argv, &err))
    {
      g_printerr ("bench-store: %s\n", err->message);
      return 2;
    }
  if (!opt_dir)
    opt_dir = g_strdup ("/tmp");
  opt_reps = MAX (opt_reps, 1);
  if (opt_mode && g_strcmp0 (opt_mode, "all") != 0)
    {
      static const char *const mode_args[3] = { "none", "group", "per-op" };

      for (m = 0; m < 3; m++)
        run_mode[m] = g_strcmp0 (opt_mode, mode_args[m]) == 0;
      if (!run_mode[0] && !run_mode[1] && !run_mode[2])
        {
          g_printerr ("bench-store: --mode %s: expected all, none, group or per-op\n", opt_mode);
          return 2;
        }
    }

  printf ("bench-store: %d vehicles, %d riders, synchronous=%s, files in %s\n",
          (guint) opt_vehicles, N_RIDERS, opt_full_sync ? "FULL" : "NORMAL", opt_dir);
  printf ("lifecycle = reserve + unlock + end (price, capture) of a scattered rider and "
          "vehicle;\ngroup commit = max_batch_events %d, max_window %d ms (wall clock)\n",
          opt_batch > 0 ? opt_batch : 20000, opt_window_ms > 0 ? opt_window_ms : 50);
  for (m = 0; m < 3; m++)
    {
      rates[m] = g_new0 (double, opt_reps);
      cpu_rates[m] = g_new0 (double, opt_reps);
      own_rates[m] = g_new0 (double, opt_reps);
    }
  for (r = 0; r < opt_reps; r++)
    for (m = 0; m < 3; m++)
      {
        int n = m == MODE_PER_OP ? opt_per_op : opt_group;
        Result res;

        if (!run_mode[m])
          continue;
        res = run_once ((Mode) m, n, r);

        rates[m][r] = res.rate;
        cpu_rates[m][r] = res.cpu_rate;
        own_rates[m][r] = res.own_rate;
        printf ("rep %d  %-17s %7d lifecycles  %8.0f /s wall  %8.0f /s own  %8.0f /s CPU  %.1f ev/lc",
                r + 1, mode_names[m], n, res.rate, res.own_rate, res.cpu_rate, res.ev_per_lc);
        if (m != MODE_NONE)
          printf ("  %" G_GUINT64_FORMAT " commits  file %.1f MB", res.commits, res.file_bytes / 1e6);
        printf ("\n");
        fflush (stdout);
      }
  if (run_mode[0] && run_mode[1] && run_mode[2])
  {
    double med[3], omed[3], cmed[3];
    for (m = 0; m < 3; m++)
      {
        med[m] = ft_test_median (rates[m], opt_reps);
        omed[m] = ft_test_median (own_rates[m], opt_reps);
        cmed[m] = ft_test_median (cpu_rates[m], opt_reps);
      }
    printf ("\nmedian of %d reps, lifecycles/s:   wall clock   own time*   CPU (user+sys)\n", opt_reps);
    for (m = 0; m < 3; m++)
      printf ("  %-26s %12.0f %11.0f %15.0f\n", mode_names[m], med[m], omed[m], cmed[m]);
    printf ("  * own time = wall clock minus time spent waiting for a CPU (busy machine);\n"
            "    it still includes waiting for I/O, so it estimates one dedicated core.\n");
    printf ("ratio group commit / tx per operation: %.1fx wall, %.1fx own, %.1fx CPU\n",
            med[MODE_GROUP] / med[MODE_PER_OP], omed[MODE_GROUP] / omed[MODE_PER_OP],
            cmed[MODE_GROUP] / cmed[MODE_PER_OP]);
    printf ("store cost per lifecycle with group commit: %.1f us own time, %.1f us CPU\n",
            1e6 / omed[MODE_GROUP] - 1e6 / omed[MODE_NONE], 1e6 / cmed[MODE_GROUP] - 1e6 / cmed[MODE_NONE]);
    printf ("target 100000 lifecycles/s with group commit on one core: %s (own time %.0f/s)\n",
            omed[MODE_GROUP] >= 100000 ? "met" : "NOT met", omed[MODE_GROUP]);
  }
  for (m = 0; m < 3; m++)
    {
      g_free (rates[m]);
      g_free (cpu_rates[m]);
      g_free (own_rates[m]);
    }
  g_free (opt_dir);
  g_free (opt_mode);
  return 0;
}
