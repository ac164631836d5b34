/* crash-writer.c — a writer process for the crash-safety test. It opens
 * (or resumes) a store file through the real modules, then runs an endless random
 * stream of booking operations (reserve, unlock, pause, resume, end,
 * cancel, top-up, refund, expiry) with group commit, and after every
 * successful commit prints "committed <last seq>" and flushes, so the test
 * knows what it may rely on when it SIGKILLs this process.
 *
 * Usage: crash-writer FILE SEED [MAX_BATCH_EVENTS]
 */
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>

#include "store-world.h"

#define N_VEHICLES 300
#define N_RIDERS   200

static void
die (const char *what, GError *err)
{
  fprintf (stderr, "crash-writer: %s: %s\n", what, err ? err->message : "failed");
  exit (2);
}

static FtTime
last_event_time (FtStore *s)
{
  sqlite3_stmt *st = NULL;
  FtTime t = 0;

  if (sqlite3_prepare_v2 (ft_store_get_db (s), "SELECT coalesce(max(t), 0) FROM events", -1,
                          &st, NULL) == SQLITE_OK && sqlite3_step (st) == SQLITE_ROW)
    t = sqlite3_column_int64 (st, 0);
  sqlite3_finalize (st);
  return t;
}

static void
report (FtStore *store)
{
  printf ("committed %" G_GUINT64_FORMAT "\n", ft_store_last_seq (store));
  fflush (stdout);
}

/* One random operation for a random rider; refusals are part of the
 * stream (they are events too). */
static void
one_op (World *core, GRand *rng, FtTime now, guint64 *n_ops)
{
  g_autoptr(GError) err = NULL;
  guint n_riders = ft_accounts_n (core->accounts) - 1;   /* last is the admin */
  guint rider = (guint) g_rand_int_range (rng, 0, (gint32) n_riders);
  guint vehicle = (guint) g_rand_int_range (rng, 0, (gint32) ft_fleet_n_vehicles (core->fleet));
  gint64 open = ft_booking_open_for (core->booking, rider);
  int dice = g_rand_int_range (rng, 0, 100);
  char key[64];

  (*n_ops)++;
  if (dice < 4)
    {
      g_snprintf (key, sizeof key, "w-topup-%" G_GUINT64_FORMAT "-%d", *n_ops, g_rand_int (rng));
      ft_payments_topup (core->payments, rider, 500 + g_rand_int_range (rng, 0, 3000), key, now, &err);
      return;
    }
  if (dice < 6)
    {
      guint n = ft_booking_n (core->booking);
      const FtBookingRec *r = n ? ft_booking_get (core->booking, g_rand_int_range (rng, 0, (gint32) n)) : NULL;
      if (r && r->state == FT_BK_ENDED && r->price_minor > 10)
        {
          g_snprintf (key, sizeof key, "w-refund-%" G_GINT64_FORMAT, r->id);
          ft_payments_refund (core->payments, r->rider, r->id, r->price_minor / 4, key, now, &err);
        }
      return;
    }
  if (dice < 8)
    {
      ft_booking_expire (core->booking, now);
      return;
    }
  if (open < 0)
    {
      if (dice < 60)
        ft_booking_reserve (core->booking, rider, vehicle, now, &err);
      else
        ft_booking_start (core->booking, rider, vehicle, now, &err);
      return;
    }
  switch (ft_booking_get (core->booking, open)->state)
    {
    case FT_BK_RESERVED:
      if (dice < 80)
        ft_booking_unlock (core->booking, open, rider, now, &err);
      else
        ft_booking_cancel (core->booking, open, rider, now, &err);
      break;
    case FT_BK_ACTIVE:
      if (dice < 85)
        ft_booking_end (core->booking, open, rider, world_point (g_rand_int_range (rng, 0, 5000)),
                        g_rand_double_range (rng, 100.0, 6000.0), now, NULL, &err);
      else
        ft_booking_pause (core->booking, open, rider, now, &err);
      break;
    case FT_BK_PAUSED:
      ft_booking_resume (core->booking, open, rider, now, &err);
      break;
    default:
      break;
    }
}

int
main (int argc, char **argv)
{
  g_autoptr(GError) err = NULL;
  g_autoptr(World) core = NULL;
  g_autoptr(FtStore) store = NULL;
  g_autoptr(GRand) rng = NULL;
  FtStoreConfig cfg;
  FtStoreTargets t;
  FtTime now;
  guint64 n_ops = 0;

  if (argc < 3)
    {
      fprintf (stderr, "usage: crash-writer FILE SEED [MAX_BATCH_EVENTS]\n");
      return 2;
    }
  ft_store_config_init (&cfg);
  cfg.max_batch_events = argc > 3 ? (guint) atoi (argv[3]) : 64;
  cfg.max_window = 30 * FT_SECOND;

  core = world_new (1);
  t = world_targets (core);
  store = ft_store_open (argv[1], &cfg, &err);
  if (!store)
    die ("open", err);
  if (!ft_store_load (store, &t, &err))
    die ("load", err);
  now = last_event_time (store) + 1;

  if (ft_fleet_n_vehicles (core->fleet) == 0)
    {
      world_populate (core, N_VEHICLES, 20, N_RIDERS, 3000, now);
      if (!ft_store_commit (store, &t, &err))
        die ("first commit", err);
      report (store);
    }

  rng = g_rand_new_with_seed ((guint32) g_ascii_strtoull (argv[2], NULL, 10));
  for (;;)
    {
      gboolean committed = FALSE;

      now += g_rand_int_range (rng, 1, 4000);
      one_op (core, rng, now, &n_ops);
      if (!ft_store_maybe_commit (store, &t, now, &committed, &err))
        die ("commit", err);
      if (committed)
        report (store);
    }
  return 0;
}
