/* ft-sim-engine.c — discrete-event engine: a calendar of (time,
 * priority|sequence, slot) keys over a pool of event slots with a free
 * list. Time is cut into windows of 2^WIN_SHIFT ms; the events of the
 * current window and any before it are in a small binary heap (`near`),
 * those of the next N_WINDOWS - 1 windows in a ring of unsorted buckets
 * (one per window, appended to), those later in a second binary heap
 * (`far`). When `near` runs dry the current window moves on to the next
 * bucket that holds any, whose keys go into `near`, and far events that
 * the ring now reaches move into its buckets. Every event in the ring or
 * `far` is in a later window than every event in `near`, so `near`'s top
 * is the next event, in the order (time, priority, sequence) of one heap
 * of all keys; the near heap holds a few seconds of events and stays in
 * the first-level cache, where one heap of the whole day's pending
 * events (18,000 at 50,000 vehicles) missed on its lower levels. A heap
 * pop moves the hole at the top down to a leaf along the lesser children
 * and the heap's last key up from there (Floyd: one compare a level on
 * the way down; the keys are unique, so the heap pops them in the same
 * order as the textbook sift-down). A handle is (generation << 32 |
 * slot); cancel flips the slot's cancelled bit and the pop loop skips it,
 * so cancel is O(1). One event at a time may wait in the lane beside the
 * queue (ft_sim_engine_schedule_lane: the riders' next arrival, which
 * each arrival schedules): the run takes the lesser of its key and the
 * queue's next, so the order is the same, and that event never goes
 * through the queue.
 */
#include "ft-sim-engine.h"

typedef struct {
  FtTime  t;
  guint64 ps;       /* priority (biased, 8 bits) << 56 | sequence (56 bits) */
  guint32 slot;
} HeapKey;

typedef struct {
  HeapKey *keys;
  guint    n, cap;
} KeyArray;           /* a binary heap, or a ring bucket (unsorted) */

typedef struct {
  FtSimEventFunc fn;
  gpointer       data;
  guint64        arg;
  guint32        gen;        /* incremented when the slot is freed */
  guint32        state;      /* 0 free, 1 pending, 2 cancelled */
  guint32        next_free;
} Slot;

/* Windows of 4.1 s; the ring reaches 70 minutes ahead (at 50,000 vehicles
 * 99.8 % of the events are scheduled less far ahead). */
#define WIN_SHIFT 12
#define N_WINDOWS 1024

struct _FtSimEngine {
  FtTime   now;
  guint64  seq;
  KeyArray near;             /* heap: events of window cur and before */
  KeyArray *ring;            /* N_WINDOWS buckets: window w in ring[w % N_WINDOWS], cur < w < cur + N_WINDOWS */
  guint    n_ring;           /* keys in the ring */
  KeyArray far;              /* heap: events of window cur + N_WINDOWS and after */
  gint64   cur;              /* the current window (time >> WIN_SHIFT) */
  HeapKey  lane;             /* the lane's event, outside the queue, if lane_used */
  gboolean lane_used;
  Slot    *slots;
  guint    n_slots, cap_slots;
  guint32  free_head;        /* G_MAXUINT32 = none */
  guint    n_live;
  guint64  n_processed;
  FtTime   run_end;          /* the end of the run under way, G_MININT64 when none */
  gint     stop;             /* atomic */
  gint     paused;           /* atomic */
  gint     speed_milli;      /* atomic: speed * 1000 */
};

#define NO_FREE G_MAXUINT32

FtSimEngine *
ft_sim_engine_new (FtTime start)
{
  FtSimEngine *e = g_new0 (FtSimEngine, 1);
  e->now = start;
  e->run_end = G_MININT64;
  e->free_head = NO_FREE;
  e->cur = start >> WIN_SHIFT;
  e->ring = g_new0 (KeyArray, N_WINDOWS);
  e->cap_slots = 1024;
  e->slots = g_new (Slot, e->cap_slots);
  return e;
}

void
ft_sim_engine_free (FtSimEngine *e)
{
  if (e == NULL)
    return;
  g_free (e->near.keys);
  g_free (e->far.keys);
  for (guint i = 0; i < N_WINDOWS; i++)
    g_free (e->ring[i].keys);
  g_free (e->ring);
  g_free (e->slots);
  g_free (e);
}

FtTime
ft_sim_engine_now (const FtSimEngine *e)
{
  return e->now;
}

static inline gboolean
key_less (const HeapKey *a, const HeapKey *b)
{
  return a->t < b->t || (a->t == b->t && a->ps < b->ps);
}

static inline void
sift_up (HeapKey *h, guint i)
{
  HeapKey k = h[i];
  while (i > 0)
    {
      guint p = (i - 1) >> 1;
      if (!key_less (&k, &h[p]))
        break;
      h[i] = h[p];
      i = p;
    }
  h[i] = k;
}

/* Removes h[0] from the heap of n + 1 keys (n after): the hole goes down
 * to a leaf by the lesser child, then h[n], the old last key, is sifted up
 * from the hole. */
static inline void
pop_root (HeapKey *h, guint n)
{
  guint i = 0;
  for (;;)
    {
      guint c = 2 * i + 1;
      if (c >= n)
        break;
      if (c + 1 < n && key_less (&h[c + 1], &h[c]))
        c++;
      h[i] = h[c];
      i = c;
    }
  h[i] = h[n];
  sift_up (h, i);
}

/* A slot for fn (data, arg) and its key at (t, priority), the next
 * sequence number; the caller files the key (heap or lane). */
static inline guint32
new_event (FtSimEngine *e, FtTime t, gint priority, FtSimEventFunc fn, gpointer data, guint64 arg,
           HeapKey *key)
{
  guint32 s;
  if (e->free_head != NO_FREE)
    {
      s = e->free_head;
      e->free_head = e->slots[s].next_free;
    }
  else
    {
      if (e->n_slots == e->cap_slots)
        {
          e->cap_slots *= 2;
          e->slots = g_renew (Slot, e->slots, e->cap_slots);
        }
      s = e->n_slots++;
      e->slots[s].gen = 1;
    }
  Slot *sl = &e->slots[s];
  sl->fn = fn;
  sl->data = data;
  sl->arg = arg;
  sl->state = 1;
  key->t = t;
  key->ps = ((guint64) (priority + 128) << 56) | (e->seq++ & G_GUINT64_CONSTANT (0x00ffffffffffffff));
  key->slot = s;
  e->n_live++;
  return s;
}

static inline void
key_append (KeyArray *a, const HeapKey *key)
{
  if (G_UNLIKELY (a->n == a->cap))
    {
      a->cap = MAX (16u, 2 * a->cap);
      a->keys = g_renew (HeapKey, a->keys, a->cap);
    }
  a->keys[a->n++] = *key;
}

static inline void
heap_push (KeyArray *h, const HeapKey *key)
{
  key_append (h, key);
  sift_up (h->keys, h->n - 1);
}

static inline void
heap_pop (KeyArray *h)
{
  h->n--;
  if (h->n > 0)
    pop_root (h->keys, h->n);
}

/* Files a key: `near` for the current window or before, the ring's bucket
 * for the next N_WINDOWS - 1, `far` after. */
static inline void
queue_push (FtSimEngine *e, const HeapKey *key)
{
  gint64 w = key->t >> WIN_SHIFT;
  if (w <= e->cur)
    heap_push (&e->near, key);
  else if (w - e->cur < N_WINDOWS)
    {
      key_append (&e->ring[w & (N_WINDOWS - 1)], key);
      e->n_ring++;
    }
  else
    heap_push (&e->far, key);
}

/* With `near` empty: moves the current window on to the next that holds
 * an event (in the ring, or the first far one when the ring is empty),
 * bringing in the far events that the ring reaches on the way, and puts
 * that window's keys into `near`. Nothing when the queue is empty. */
static G_GNUC_NO_INLINE void
queue_advance (FtSimEngine *e)
{
  if (e->n_ring == 0)
    {
      if (e->far.n == 0)
        return;
      e->cur = (e->far.keys[0].t >> WIN_SHIFT) - 1;
    }
  for (;;)
    {
      e->cur++;
      /* the ring's last window is now cur + N_WINDOWS - 1 */
      while (e->far.n > 0 && (e->far.keys[0].t >> WIN_SHIFT) - e->cur < N_WINDOWS)
        {
          HeapKey k = e->far.keys[0];
          heap_pop (&e->far);
          key_append (&e->ring[(k.t >> WIN_SHIFT) & (N_WINDOWS - 1)], &k);
          e->n_ring++;
        }
      KeyArray *b = &e->ring[e->cur & (N_WINDOWS - 1)];
      if (b->n > 0)
        {
          for (guint i = 0; i < b->n; i++)
            heap_push (&e->near, &b->keys[i]);
          e->n_ring -= b->n;
          b->n = 0;
          return;
        }
    }
}

/* The queue's next key (cancelled or not), NULL if it is empty. */
static inline const HeapKey *
queue_top (FtSimEngine *e)
{
  if (G_UNLIKELY (e->near.n == 0))
    queue_advance (e);
  return e->near.n > 0 ? &e->near.keys[0] : NULL;
}

FtSimHandle
ft_sim_engine_schedule (FtSimEngine *e, FtTime t, gint priority,
                        FtSimEventFunc fn, gpointer data, guint64 arg)
{
  g_return_val_if_fail (e != NULL && fn != NULL, 0);
  g_return_val_if_fail (priority >= -128 && priority <= 127, 0);
  if (t < e->now)
    t = e->now;
  HeapKey k;
  guint32 s = new_event (e, t, priority, fn, data, arg, &k);
  queue_push (e, &k);
  return ((guint64) e->slots[s].gen << 32) | s;
}

FtSimHandle
ft_sim_engine_schedule_lane (FtSimEngine *e, FtTime t, gint priority,
                             FtSimEventFunc fn, gpointer data, guint64 arg)
{
  g_return_val_if_fail (e != NULL && fn != NULL, 0);
  g_return_val_if_fail (priority >= -128 && priority <= 127, 0);
  if (t < e->now)
    t = e->now;
  HeapKey k;
  guint32 s = new_event (e, t, priority, fn, data, arg, &k);
  if (!e->lane_used)
    {
      e->lane = k;
      e->lane_used = TRUE;
    }
  else
    queue_push (e, &k);
  return ((guint64) e->slots[s].gen << 32) | s;
}

FtSimHandle
ft_sim_engine_schedule_in (FtSimEngine *e, FtTime delay, gint priority,
                           FtSimEventFunc fn, gpointer data, guint64 arg)
{
  g_return_val_if_fail (e != NULL, 0);
  return ft_sim_engine_schedule (e, e->now + MAX (delay, 0), priority, fn, data, arg);
}

static Slot *
slot_for_handle (const FtSimEngine *e, FtSimHandle h)
{
  guint32 s = (guint32) (h & 0xffffffffu);
  guint32 gen = (guint32) (h >> 32);
  if (h == 0 || s >= e->n_slots)
    return NULL;
  Slot *sl = &e->slots[s];
  if (sl->gen != gen || sl->state != 1)
    return NULL;
  return sl;
}

gboolean
ft_sim_engine_cancel (FtSimEngine *e, FtSimHandle h)
{
  g_return_val_if_fail (e != NULL, FALSE);
  Slot *sl = slot_for_handle (e, h);
  if (sl == NULL)
    return FALSE;
  sl->state = 2;
  e->n_live--;
  return TRUE;
}

gboolean
ft_sim_engine_is_pending (const FtSimEngine *e, FtSimHandle h)
{
  g_return_val_if_fail (e != NULL, FALSE);
  return slot_for_handle (e, h) != NULL;
}

static inline void
free_slot (FtSimEngine *e, guint32 s)
{
  Slot *sl = &e->slots[s];
  sl->state = 0;
  sl->gen++;
  if (sl->gen == 0)
    sl->gen = 1;
  sl->next_free = e->free_head;
  e->free_head = s;
}

/* Drop cancelled events from the top of the queue and from the lane. */
static inline void
skip_cancelled (FtSimEngine *e)
{
  const HeapKey *top;
  while ((top = queue_top (e)) != NULL && e->slots[top->slot].state == 2)
    {
      guint32 s = top->slot;
      heap_pop (&e->near);
      free_slot (e, s);
    }
  if (G_UNLIKELY (e->lane_used && e->slots[e->lane.slot].state == 2))
    {
      free_slot (e, e->lane.slot);
      e->lane_used = FALSE;
    }
}

/* The next live event's key (after skip_cancelled, which leaves the
 * queue's next in `near` if there is one), NULL if none. */
static inline const HeapKey *
next_key (const FtSimEngine *e)
{
  if (e->lane_used && (e->near.n == 0 || key_less (&e->lane, &e->near.keys[0])))
    return &e->lane;
  return e->near.n > 0 ? &e->near.keys[0] : NULL;
}

FtTime
ft_sim_engine_next_time (FtSimEngine *e)
{
  g_return_val_if_fail (e != NULL, G_MAXINT64);
  skip_cancelled (e);
  const HeapKey *k = next_key (e);
  return k != NULL ? k->t : G_MAXINT64;
}

/* Takes and runs the event of key `next` (next_key's: the lane's or the
 * queue's next, live). */
static inline void
run_top (FtSimEngine *e, const HeapKey *next)
{
  HeapKey k = *next;
  if (next == &e->lane)
    e->lane_used = FALSE;
  else
    heap_pop (&e->near);
  Slot *sl = &e->slots[k.slot];
  FtSimEventFunc fn = sl->fn;
  gpointer data = sl->data;
  guint64 arg = sl->arg;
  free_slot (e, k.slot);
  e->n_live--;
  e->now = k.t;
  e->n_processed++;
  /* the next top's slot, read by the pop loop after this event: fetched
   * while the event runs rather than missed then */
  if (e->near.n > 0)
    __builtin_prefetch (&e->slots[e->near.keys[0].slot]);
  fn (e, data, arg);
}

gboolean
ft_sim_engine_step (FtSimEngine *e)
{
  g_return_val_if_fail (e != NULL, FALSE);
  skip_cancelled (e);
  const HeapKey *k = next_key (e);
  if (k == NULL)
    return FALSE;
  run_top (e, k);
  return TRUE;
}

gboolean
ft_sim_engine_take_next (FtSimEngine *e, FtTime t, gint priority)
{
  g_return_val_if_fail (e != NULL, FALSE);
  g_return_val_if_fail (priority >= -128 && priority <= 127, FALSE);
  if (t < e->now)
    t = e->now;
  if (t > e->run_end || G_UNLIKELY (g_atomic_int_get (&e->stop)))
    return FALSE;
  /* the key schedule would give it, against the next live event's */
  guint64 ps = ((guint64) (priority + 128) << 56) | (e->seq & G_GUINT64_CONSTANT (0x00ffffffffffffff));
  skip_cancelled (e);
  const HeapKey *k = next_key (e);
  if (k != NULL && !(t < k->t || (t == k->t && ps < k->ps)))
    return FALSE;
  e->seq++;
  e->now = t;
  e->n_processed++;
  return TRUE;
}

static guint64
run_until_internal (FtSimEngine *e, FtTime t)
{
  guint64 n0 = e->n_processed;
  FtTime outer_end = e->run_end;
  e->run_end = t;
  for (;;)
    {
      skip_cancelled (e);
      const HeapKey *k = next_key (e);
      if (k == NULL || k->t > t)
        break;
      run_top (e, k);
      if (G_UNLIKELY (g_atomic_int_get (&e->stop)))
        {
          e->run_end = outer_end;
          return e->n_processed - n0;
        }
    }
  e->run_end = outer_end;
  if (t > e->now)
    e->now = t;
  return e->n_processed - n0;
}

guint64
ft_sim_engine_run_until (FtSimEngine *e, FtTime t)
{
  g_return_val_if_fail (e != NULL, 0);
  guint64 n = run_until_internal (e, t);
  /* a stop request is consumed by the run it ended */
  g_atomic_int_set (&e->stop, 0);
  return n;
}

void
ft_sim_engine_stop (FtSimEngine *e)
{
  g_return_if_fail (e != NULL);
  g_atomic_int_set (&e->stop, 1);
}

void
ft_sim_engine_set_speed (FtSimEngine *e, double speed)
{
  g_return_if_fail (e != NULL && speed >= 0);
  g_atomic_int_set (&e->speed_milli, (gint) MIN (speed * 1000.0, (double) G_MAXINT));
}

double
ft_sim_engine_get_speed (FtSimEngine *e)
{
  return g_atomic_int_get (&e->speed_milli) / 1000.0;
}

void
ft_sim_engine_set_paused (FtSimEngine *e, gboolean paused)
{
  g_return_if_fail (e != NULL);
  g_atomic_int_set (&e->paused, paused ? 1 : 0);
}

gboolean
ft_sim_engine_get_paused (FtSimEngine *e)
{
  return g_atomic_int_get (&e->paused) != 0;
}

gboolean
ft_sim_engine_run_paced (FtSimEngine *e, FtTime until)
{
  g_return_val_if_fail (e != NULL, FALSE);
  /* Anchor: wall time w0 corresponds to simulated time s0; re-anchored
   * whenever the speed changes or after a pause. */
  gint64 w0 = g_get_monotonic_time ();
  FtTime s0 = e->now;
  gint speed0 = g_atomic_int_get (&e->speed_milli);
  while (e->now < until)
    {
      if (g_atomic_int_get (&e->stop))
        {
          g_atomic_int_set (&e->stop, 0);   /* consumed */
          return FALSE;
        }
      if (g_atomic_int_get (&e->paused))
        {
          g_usleep (10000);
          w0 = g_get_monotonic_time ();
          s0 = e->now;
          continue;
        }
      gint speed = g_atomic_int_get (&e->speed_milli);
      if (speed != speed0)
        {
          speed0 = speed;
          w0 = g_get_monotonic_time ();
          s0 = e->now;
        }
      if (speed <= 0)
        {
          /* as fast as possible, in slices so stop/pause are seen */
          FtTime target = MIN (until, e->now + 10 * FT_MINUTE);
          run_until_internal (e, target);
          continue;
        }
      gint64 w = g_get_monotonic_time ();
      /* simulated ms allowed by now: (w - w0) us * speed / 1000 (speed in milli) */
      FtTime allowed = s0 + (FtTime) ((double) (w - w0) / 1000.0 * speed / 1000.0);
      FtTime target = MIN (until, allowed);
      if (target > e->now)
        run_until_internal (e, target);
      if (e->now < until)
        g_usleep (5000);
    }
  return TRUE;
}

guint
ft_sim_engine_n_pending (const FtSimEngine *e)
{
  return e->n_live;
}

guint64
ft_sim_engine_n_processed (const FtSimEngine *e)
{
  return e->n_processed;
}
