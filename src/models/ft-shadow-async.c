/* ft-shadow-async.c — the event stream's asynchronous consumer (see the
 * header): blocks of copied events and tick markers handed from the
 * producer to one consumer thread through a mutex-guarded queue, blocks
 * recycled, the producer waiting when all are in use, the consumer's
 * events queued for the producer to append at its next tick.
 */
#include "ft-config.h"
#include "ft-shadow-async.h"
#include "ft-maint-shadow.h"   /* ft_shadow_cpu_now */
#include "ft-registry.h"

#include <string.h>

/* A tick marker in the stream: a kind the log never appends. */
#define MARKER FT_EV_NONE

typedef struct _Block Block;
struct _Block {
  Block  *next;
  guint64 serial;               /* 1, 2, … in the order handed over */
  guint   n;
  FtEvent ev[FT_SHADOW_ASYNC_BLOCK];
};

struct _FtShadowAsync {
  /* the producer's (the thread that appends to the log) */
  FtEventLog *log;
  gboolean    tapped;           /* the log's tap fills cur */
  guint64     seq_handed;       /* the log's last seq when a block was last handed over */
  Block      *cur;              /* being filled */
  guint64     handed;           /* serial of the last block handed over */
  guint64     tick_block;       /* serial of the block that ends with the last marker (0: none) */
  gboolean    surfaced;         /* the consumer's error was returned: the shadow is stopped */
  double      wait_s;
  guint       waits, full_waits;
  guint64     events;
  /* the consumer's */
  FtShadowAsyncEventFn event_fn;
  FtShadowAsyncTickFn  tick_fn;
  gpointer    data;
  GMutex     *store_lock;
  guint       delay_us;
  GArray     *outbox;           /* FtEvent: emitted during the block being applied */
  GThread    *thread;
  /* shared, under lock */
  GMutex      lock;
  GCond       cond;
  Block      *head, *tail;      /* handed over, not yet applied */
  Block      *free;             /* recycled */
  guint       n_blocks;         /* allocated */
  guint64     done;             /* serial of the last block applied */
  gboolean    stop;
  gboolean    consumer_waiting, producer_waiting;   /* a broadcast (a system call) only then */
  gboolean    failed;
  GError     *error;
  FtTime      error_t;
  GArray     *pub;              /* FtEvent: emitted by finished ticks, to append */
  double      consumer_s;
};

/* Applies one block; on a failed tick, sets *err (and *err_t) and stops. */
static void
apply (FtShadowAsync *a, const Block *b, GError **err, FtTime *err_t)
{
  for (guint i = 0; i < b->n; i++)
    {
      const FtEvent *ev = &b->ev[i];
      if (ev->kind != MARKER)
        {
          a->event_fn (ev, a->data);
          continue;
        }
      if (a->store_lock)
        g_mutex_lock (a->store_lock);
      GError *e = NULL;
      gboolean ok = a->tick_fn (a->data, ev->t, &e);
      if (a->store_lock)
        g_mutex_unlock (a->store_lock);
      if (!ok)
        {
          *err = e ? e : g_error_new_literal (FT_REGISTRY_ERROR, FT_REGISTRY_ERROR_INVALID, "failed");
          *err_t = ev->t;
          return;
        }
      g_clear_error (&e);
    }
}

static gpointer
consume (gpointer data)
{
  FtShadowAsync *a = data;
  g_mutex_lock (&a->lock);
  for (;;)
    {
      while (a->head == NULL && !a->stop)
        {
          a->consumer_s = ft_shadow_cpu_now ();
          a->consumer_waiting = TRUE;
          g_cond_wait (&a->cond, &a->lock);
          a->consumer_waiting = FALSE;
        }
      if (a->stop)
        break;
      Block *b = a->head;
      a->head = b->next;
      if (a->head == NULL)
        a->tail = NULL;
      gboolean skip = a->failed;
      g_mutex_unlock (&a->lock);
      GError *err = NULL;
      FtTime err_t = 0;
      if (!skip)
        apply (a, b, &err, &err_t);
      if (a->delay_us)
        g_usleep (a->delay_us);
      g_mutex_lock (&a->lock);
      if (err)
        {
          a->failed = TRUE;
          a->error = err;
          a->error_t = err_t;
        }
      if (a->outbox->len)
        {
          g_array_append_vals (a->pub, a->outbox->data, a->outbox->len);
          g_array_set_size (a->outbox, 0);
        }
      a->done = b->serial;
      b->next = a->free;
      a->free = b;
      if (a->producer_waiting)
        g_cond_broadcast (&a->cond);
    }
  a->consumer_s = ft_shadow_cpu_now ();
  g_mutex_unlock (&a->lock);
  return NULL;
}

/* Under lock: waits (counted) until cond_ok (a, arg) holds. */
static void
wait_until (FtShadowAsync *a, gboolean (*cond_ok) (FtShadowAsync *a, guint64 arg), guint64 arg)
{
  if (cond_ok (a, arg))
    return;
  gint64 t0 = g_get_monotonic_time ();
  a->producer_waiting = TRUE;
  while (!cond_ok (a, arg))
    g_cond_wait (&a->cond, &a->lock);
  a->producer_waiting = FALSE;
  a->wait_s += (g_get_monotonic_time () - t0) / 1e6;
  a->waits++;
}

static gboolean
is_done (FtShadowAsync *a, guint64 serial)
{
  return a->done >= serial;
}

static gboolean
has_block (FtShadowAsync *a, guint64 unused)
{
  return a->free != NULL || a->n_blocks < FT_SHADOW_ASYNC_MAX_BLOCKS;
}

/* Takes an empty block for the log's tap (waiting when every block is in
 * use), hands the one it filled over, a tick marker at `marker` after its
 * events when marker >= 0. */
static void
hand_over (FtShadowAsync *a, FtTime marker)
{
  g_mutex_lock (&a->lock);
  if (!has_block (a, 0))
    a->full_waits++;
  wait_until (a, has_block, 0);
  Block *nb = a->free;
  if (nb)
    a->free = nb->next;
  else
    {
      nb = g_new (Block, 1);
      a->n_blocks++;
    }
  g_mutex_unlock (&a->lock);
  Block *b = a->cur;
  if (a->tapped)
    b->n = ft_event_log_tap_swap (a->log, nb->ev, FT_SHADOW_ASYNC_BLOCK);
  if (marker >= 0)
    {
      g_assert (b->n < FT_SHADOW_ASYNC_BLOCK);   /* a full block was handed over at once */
      b->ev[b->n++] = ft_event_init (MARKER, marker);
    }
  nb->n = 0;
  nb->serial = b->serial + 1;
  a->cur = nb;
  a->seq_handed = ft_event_log_last_seq (a->log);
  b->next = NULL;
  g_mutex_lock (&a->lock);
  if (a->tail)
    a->tail->next = b;
  else
    a->head = b;
  a->tail = b;
  a->handed = b->serial;
  a->events += b->n;
  if (a->consumer_waiting)
    g_cond_broadcast (&a->cond);
  g_mutex_unlock (&a->lock);
}

/* The tap's buffer is full. */
static void
tap_full (gpointer data)
{
  hand_over (data, -1);
}

FtShadowAsync *
ft_shadow_async_new (FtEventLog *log, guint64 kinds, FtShadowAsyncEventFn event_fn, FtShadowAsyncTickFn tick_fn,
                     gpointer data, GMutex *store_lock, guint delay_us)
{
  g_return_val_if_fail (log != NULL && event_fn != NULL && tick_fn != NULL, NULL);
  g_return_val_if_fail (!(kinds & FT_EV_BIT (MARKER)), NULL);
  FtShadowAsync *a = g_new0 (FtShadowAsync, 1);
  a->log = log;
  a->event_fn = event_fn;
  a->tick_fn = tick_fn;
  a->data = data;
  a->store_lock = store_lock;
  a->delay_us = delay_us;
  a->outbox = g_array_new (FALSE, FALSE, sizeof (FtEvent));
  a->pub = g_array_new (FALSE, FALSE, sizeof (FtEvent));
  g_mutex_init (&a->lock);
  g_cond_init (&a->cond);
  a->cur = g_new (Block, 1);
  a->cur->n = 0;
  a->cur->serial = 1;
  a->n_blocks = 1;
  a->thread = g_thread_try_new ("ft-shadow", consume, a, NULL);
  if (a->thread == NULL)
    {
      ft_shadow_async_free (a);
      return NULL;
    }
  if (!ft_event_log_set_tap (log, kinds, a->cur->ev, FT_SHADOW_ASYNC_BLOCK, tap_full, a))
    {
      ft_shadow_async_free (a);   /* the log has a consumer already */
      return NULL;
    }
  a->tapped = TRUE;
  a->seq_handed = ft_event_log_last_seq (log);
  return a;
}

static void
free_blocks (Block *b)
{
  while (b)
    {
      Block *next = b->next;
      g_free (b);
      b = next;
    }
}

void
ft_shadow_async_free (FtShadowAsync *a)
{
  if (a == NULL)
    return;
  if (a->tapped)
    ft_event_log_set_tap (a->log, 0, NULL, 0, NULL, NULL);
  if (a->thread)
    {
      g_mutex_lock (&a->lock);
      a->stop = TRUE;
      g_cond_broadcast (&a->cond);
      g_mutex_unlock (&a->lock);
      g_thread_join (a->thread);
    }
  g_free (a->cur);
  free_blocks (a->head);
  free_blocks (a->free);
  g_array_unref (a->outbox);
  g_array_unref (a->pub);
  g_clear_error (&a->error);
  g_mutex_clear (&a->lock);
  g_cond_clear (&a->cond);
  g_free (a);
}

/* The consumer's error, once: the tap goes, and the shadow stops. */
static gboolean
surface (FtShadowAsync *a, GError **error)
{
  a->surfaced = TRUE;
  if (a->tapped)
    ft_event_log_set_tap (a->log, 0, NULL, 0, NULL, NULL);
  a->tapped = FALSE;
  FtTime t = a->error_t;
  g_set_error (error, a->error->domain, a->error->code,
               "the tick at %" G_GINT64_FORMAT " ms (day %" G_GINT64_FORMAT ", %02d:%02d) failed, shadow mode "
               "stopped: %s", t, t / FT_DAY + 1, (int) (t % FT_DAY / FT_HOUR), (int) (t % FT_HOUR / FT_MINUTE),
               a->error->message);
  return FALSE;
}

/* Appends the events the consumer published, stamped now. */
static void
append_published (FtShadowAsync *a, GArray *pub, FtTime now)
{
  for (guint i = 0; pub && i < pub->len; i++)
    {
      FtEvent ev = g_array_index (pub, FtEvent, i);
      ev.t = now;
      ft_event_log_append (a->log, &ev);
    }
}

/* Under lock: takes what the consumer published (NULL: nothing). */
static GArray *
take_published (FtShadowAsync *a)
{
  if (a->pub->len == 0)
    return NULL;
  GArray *pub = a->pub;
  a->pub = g_array_new (FALSE, FALSE, sizeof (FtEvent));
  return pub;
}

gboolean
ft_shadow_async_tick (FtShadowAsync *a, FtTime now, GError **error)
{
  g_return_val_if_fail (a != NULL, FALSE);
  if (a->surfaced)
    return TRUE;
  g_mutex_lock (&a->lock);
  if (a->tick_block)
    wait_until (a, is_done, a->tick_block);
  g_autoptr (GArray) pub = take_published (a);
  gboolean failed = a->failed;
  g_mutex_unlock (&a->lock);
  append_published (a, pub, now);
  if (failed)
    return surface (a, error);
  hand_over (a, now);
  a->tick_block = a->handed;
  return TRUE;
}

gboolean
ft_shadow_async_sync (FtShadowAsync *a, GError **error)
{
  g_return_val_if_fail (a != NULL, FALSE);
  if (a->tapped && ft_event_log_last_seq (a->log) != a->seq_handed)
    hand_over (a, -1);   /* the tap may hold some */
  g_mutex_lock (&a->lock);
  wait_until (a, is_done, a->handed);
  gboolean failed = a->failed;
  g_mutex_unlock (&a->lock);
  if (failed && !a->surfaced && error)
    return surface (a, error);
  return !failed || a->surfaced;
}

gboolean
ft_shadow_async_publish (FtShadowAsync *a, FtTime now, GError **error)
{
  g_return_val_if_fail (a != NULL, FALSE);
  if (a->tapped && ft_event_log_last_seq (a->log) != a->seq_handed)
    hand_over (a, -1);   /* the tap may hold some */
  g_mutex_lock (&a->lock);
  wait_until (a, is_done, a->handed);
  g_autoptr (GArray) pub = take_published (a);
  gboolean failed = a->failed;
  g_mutex_unlock (&a->lock);
  append_published (a, pub, now);
  if (failed && !a->surfaced)
    return surface (a, error);
  return TRUE;
}

gboolean
ft_shadow_async_stopped (FtShadowAsync *a)
{
  g_return_val_if_fail (a != NULL, TRUE);
  return a->surfaced;
}

void
ft_shadow_async_cost (FtShadowAsync *a, FtShadowAsyncCost *out)
{
  g_return_if_fail (a != NULL && out != NULL);
  memset (out, 0, sizeof *out);
  g_mutex_lock (&a->lock);
  out->consumer_s = a->consumer_s;
  g_mutex_unlock (&a->lock);
  out->wait_s = a->wait_s;
  out->waits = a->waits;
  out->full_waits = a->full_waits;
  out->blocks = a->handed;
  out->events = a->events;
}

void
ft_shadow_async_emit (FtShadowAsync *a, const FtEvent *ev)
{
  g_array_append_val (a->outbox, *ev);
}
