/* test-shadow-async.c — the event stream's asynchronous consumer
 * (ft-shadow-async.h) on its own: events and tick markers applied in
 * stream order whatever the consumer's speed, the producer held back when
 * every block is in use, the consumer's events entering the log at the
 * next tick stamped with its time (the last ones at publish), a failed
 * tick surfacing once at the next tick, naming the tick, and freeing
 * mid-stream stopping the consumer after its block.
 */
#include "ft-config.h"
#include "ft-test.h"
#include "ft-shadow-async.h"
#include "ft-registry.h"

#include <check.h>
#include <string.h>

typedef struct {
  FtShadowAsync *a;
  guint64 last_seq;
  guint64 applied;       /* events applied */
  gboolean in_order;
  guint   slow_every;    /* sleep slow_us after every this many events (0: never) */
  guint   slow_us;
  GArray *tick_t;        /* FtTime of each tick applied */
  GArray *tick_seen;     /* guint64: events applied when it came */
  FtTime  fail_t;        /* the tick that fails (-1: none) */
} Consumer;

static void
on_event (const FtEvent *ev, gpointer data)
{
  Consumer *c = data;
  if (ev->seq <= c->last_seq || ev->kind != FT_EV_TELEMETRY)
    c->in_order = FALSE;
  c->last_seq = ev->seq;
  c->applied++;
  if (c->slow_every && c->applied % c->slow_every == 0)
    g_usleep (c->slow_us);
}

static gboolean
on_tick (gpointer data, FtTime now, GError **error)
{
  Consumer *c = data;
  g_array_append_val (c->tick_t, now);
  g_array_append_val (c->tick_seen, c->applied);
  if (now == c->fail_t)
    {
      g_set_error (error, FT_REGISTRY_ERROR, FT_REGISTRY_ERROR_INVALID, "store on fire");
      return FALSE;
    }
  /* a decision of this tick: a = its index */
  FtEvent ev = ft_event_init (FT_EV_MODEL_DECISION, now);
  ev.a = (gint32) c->tick_t->len - 1;
  ft_shadow_async_emit (c->a, &ev);
  return TRUE;
}

static Consumer *
consumer_new (FtEventLog *log, guint delay_us)
{
  Consumer *c = g_new0 (Consumer, 1);
  c->in_order = TRUE;
  c->fail_t = -1;
  c->tick_t = g_array_new (FALSE, FALSE, sizeof (FtTime));
  c->tick_seen = g_array_new (FALSE, FALSE, sizeof (guint64));
  c->a = ft_shadow_async_new (log, FT_EV_BIT (FT_EV_TELEMETRY), on_event, on_tick, c, NULL, delay_us);
  ck_assert_ptr_nonnull (c->a);
  return c;
}

static void
consumer_free (Consumer *c)
{
  ft_shadow_async_free (c->a);
  g_array_unref (c->tick_t);
  g_array_unref (c->tick_seen);
  g_free (c);
}

static void
append (FtEventLog *log, FtEventKind kind, FtTime t)
{
  FtEvent ev = ft_event_init (kind, t);
  ft_event_log_append (log, &ev);
}

/* The model decisions in the log: their t and a, in log order. */
static guint
decisions (FtEventLog *log, FtTime *t, gint32 *a, guint max)
{
  guint n = 0, np = 0;
  const FtEvent *ev = ft_event_log_pending (log, &np);
  for (guint i = 0; i < np; i++)
    if (ev[i].kind == FT_EV_MODEL_DECISION && n < max)
      {
        t[n] = ev[i].t;
        a[n++] = ev[i].a;
      }
  return n;
}

START_TEST (test_order_and_backpressure)
{
  FtEventLog *log = ft_event_log_new ();
  Consumer *c = consumer_new (log, 0);
  /* a consumer slower than the producer, 39 blocks between ticks
   * against 32 in all */
  c->slow_every = 64;
  c->slow_us = 200;
  const guint n = 100 * FT_SHADOW_ASYNC_BLOCK, per_tick = 40000;
  FtTime t = 0;
  for (guint i = 1; i <= n; i++)
    {
      append (log, FT_EV_TELEMETRY, t);
      append (log, FT_EV_BOOKING_ENDED, t);   /* not asked for: never copied */
      if (i % per_tick == 0)
        {
          t += FT_HOUR;
          g_autoptr (GError) err = NULL;
          ck_assert_msg (ft_shadow_async_tick (c->a, t, &err), "%s", err ? err->message : "");
          /* the decisions before this tick's are in the log, stamped now */
          FtTime dt[16];
          gint32 da[16];
          guint nd = decisions (log, dt, da, 16);
          ck_assert_uint_eq (nd, i / per_tick - 1);
          if (nd)
            {
              ck_assert_int_eq (dt[nd - 1], t);
              ck_assert_int_eq (da[nd - 1], (gint32) nd - 1);
            }
        }
    }
  g_autoptr (GError) err = NULL;
  ck_assert (ft_shadow_async_sync (c->a, &err));
  ck_assert_uint_eq (c->applied, n);
  ck_assert (c->in_order);
  /* each tick saw exactly the events appended before it */
  ck_assert_uint_eq (c->tick_seen->len, n / per_tick);
  for (guint k = 0; k < c->tick_seen->len; k++)
    {
      ck_assert_uint_eq (g_array_index (c->tick_seen, guint64, k), (guint64) (k + 1) * per_tick);
      ck_assert_int_eq (g_array_index (c->tick_t, FtTime, k), (FtTime) (k + 1) * FT_HOUR);
    }
  FtShadowAsyncCost cost;
  ft_shadow_async_cost (c->a, &cost);
  ck_assert_uint_gt (cost.full_waits, 0);     /* held back */
  ck_assert_uint_ge (cost.blocks, 100);
  ck_assert_uint_eq (cost.events, n + n / per_tick);
  /* the last tick's decision: at publish, with its time */
  ck_assert (ft_shadow_async_publish (c->a, t + 5, &err));
  FtTime dt[16];
  gint32 da[16];
  guint nd = decisions (log, dt, da, 16);
  ck_assert_uint_eq (nd, n / per_tick);
  ck_assert_int_eq (dt[nd - 1], t + 5);
  ck_assert_int_eq (da[nd - 1], (gint32) nd - 1);
  consumer_free (c);
  ft_event_log_free (log);
}
END_TEST

START_TEST (test_error_surfaces_once)
{
  FtEventLog *log = ft_event_log_new ();
  Consumer *c = consumer_new (log, 0);
  c->fail_t = 3 * FT_HOUR;
  g_autoptr (GError) err = NULL;
  gboolean failed_once = FALSE;
  for (guint h = 1; h <= 8; h++)
    {
      for (guint i = 0; i < 100; i++)
        append (log, FT_EV_TELEMETRY, h * FT_HOUR - 1);
      gboolean ok = ft_shadow_async_tick (c->a, (FtTime) h * FT_HOUR, &err);
      if (h == 4)
        {
          /* the tick at 3 h failed: it surfaces at the next one */
          ck_assert (!ok);
          ck_assert_msg (err && strstr (err->message, "the tick at 10800000 ms (day 1, 03:00)")
                         && strstr (err->message, "store on fire"), "%s", err ? err->message : "no error");
          failed_once = TRUE;
          g_clear_error (&err);
        }
      else
        ck_assert_msg (ok, "hour %u: %s", h, err ? err->message : "");
    }
  ck_assert (failed_once);
  ck_assert (ft_shadow_async_stopped (c->a));
  ck_assert (ft_shadow_async_sync (c->a, &err));
  ck_assert (ft_shadow_async_publish (c->a, 9 * FT_HOUR, &err));
  /* nothing after the failed tick was applied */
  ck_assert_uint_eq (c->tick_t->len, 3);
  ck_assert_uint_eq (c->applied, 300);
  consumer_free (c);
  ft_event_log_free (log);
}
END_TEST

START_TEST (test_free_mid_stream)
{
  FtEventLog *log = ft_event_log_new ();
  Consumer *c = consumer_new (log, 0);
  c->slow_every = 1;
  c->slow_us = 200;   /* 0.2 s a block, 3 s for them all */
  for (guint i = 0; i < 15 * FT_SHADOW_ASYNC_BLOCK; i++)
    append (log, FT_EV_TELEMETRY, 0);
  g_autoptr (GError) err = NULL;
  ck_assert (ft_shadow_async_tick (c->a, FT_HOUR, &err));
  gint64 t0 = g_get_monotonic_time ();
  consumer_free (c);   /* stops after the block it is on; ASan watches the rest */
  ck_assert_int_lt (g_get_monotonic_time () - t0, 2 * G_USEC_PER_SEC);
  ft_event_log_free (log);
}
END_TEST

/* A consumer that sleeps after every block gives the same stream. */
START_TEST (test_slow_consumer)
{
  FtEventLog *log = ft_event_log_new ();
  Consumer *c = consumer_new (log, 2000);
  for (guint i = 1; i <= 5000; i++)
    {
      append (log, FT_EV_TELEMETRY, 0);
      if (i % 700 == 0)
        ck_assert (ft_shadow_async_tick (c->a, (FtTime) i, NULL));
    }
  ck_assert (ft_shadow_async_sync (c->a, NULL));
  ck_assert_uint_eq (c->applied, 5000);
  ck_assert (c->in_order);
  for (guint k = 0; k < c->tick_seen->len; k++)
    ck_assert_uint_eq (g_array_index (c->tick_seen, guint64, k), (guint64) (k + 1) * 700);
  consumer_free (c);
  ft_event_log_free (log);
}
END_TEST

static Suite *
suite (void)
{
  Suite *s = suite_create ("shadow-async");
  TCase *tc = tcase_create ("stream");
  tcase_set_timeout (tc, 120);
  tcase_add_test (tc, test_order_and_backpressure);
  tcase_add_test (tc, test_error_surfaces_once);
  tcase_add_test (tc, test_free_mid_stream);
  tcase_add_test (tc, test_slow_consumer);
  suite_add_tcase (s, tc);
  return s;
}

int
main (void)
{
  SRunner *sr = srunner_create (suite ());
  srunner_run_all (sr, CK_NORMAL);
  int failed = srunner_ntests_failed (sr);
  srunner_free (sr);
  return failed ? 1 : 0;
}
