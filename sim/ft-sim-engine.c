/* ft-sim-engine.c — discrete-event engine: a binary heap of (time,
 * priority|sequence, slot) keys over a pool of event slots with a free
 * list; a pop moves the hole at the top down to a leaf along the lesser
 * children and the heap's last key up from there (Floyd: one compare a
 * level on the way down; the keys are unique, so the heap pops them in the
 * same order as the textbook sift-down). A handle is
 * (generation << 32 | slot); cancel flips the slot's cancelled bit and the
 * pop loop skips it, so cancel is O(1). One event at a time may wait in
 * the lane beside the heap (ft_sim_engine_schedule_lane: the riders'
 * next arrival, which each arrival schedules): the run takes the lesser
 * of its key and the heap's top, so the order is the same, and that
 * event never goes through the heap.
 */
#include "ft-sim-engine.h"

typedef struct {
  FtTime  t;
  guint64 ps;       /* priority (biased, 8 bits) << 56 | sequence (56 bits) */
  guint32 slot;
} HeapKey;

typedef struct {
  FtSimEventFunc fn;
  gpointer       data;
  guint64        arg;
  guint32        gen;        /* incremented when the slot is freed */
  guint32        state;      /* 0 free, 1 pending, 2 cancelled */
  guint32        next_free;
} Slot;

struct _FtSimEngine {
  FtTime   now;
  guint64  seq;
  HeapKey *heap;
  guint    n_heap, cap_heap;
  HeapKey  lane;             /* the lane's event, outside the heap, if lane_used */
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
  e->cap_heap = 1024;
  e->heap = g_new (HeapKey, e->cap_heap);
  e->cap_slots = 1024;
  e->slots = g_new (Slot, e->cap_slots);
  return e;
}

void
ft_sim_engine_free (FtSimEngine *e)
{
  if (e == NULL)
    return;
  g_free (e->heap);
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
heap_push (FtSimEngine *e, const HeapKey *key)
{
  if (e->n_heap == e->cap_heap)
    {
      e->cap_heap *= 2;
      e->heap = g_renew (HeapKey, e->heap, e->cap_heap);
    }
  e->heap[e->n_heap] = *key;
  sift_up (e->heap, e->n_heap);
  e->n_heap++;
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
  heap_push (e, &k);
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
    heap_push (e, &k);
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

static inline void
pop_top (FtSimEngine *e)
{
  e->n_heap--;
  if (e->n_heap > 0)
    pop_root (e->heap, e->n_heap);
}

/* Drop cancelled events from the top of the heap and from the lane. */
static inline void
skip_cancelled (FtSimEngine *e)
{
  while (e->n_heap > 0 && e->slots[e->heap[0].slot].state == 2)
    {
      guint32 s = e->heap[0].slot;
      pop_top (e);
      free_slot (e, s);
    }
  if (G_UNLIKELY (e->lane_used && e->slots[e->lane.slot].state == 2))
    {
      free_slot (e, e->lane.slot);
      e->lane_used = FALSE;
    }
}

/* The next live event's key (after skip_cancelled), NULL if none. */
static inline const HeapKey *
next_key (const FtSimEngine *e)
{
  if (e->lane_used && (e->n_heap == 0 || key_less (&e->lane, &e->heap[0])))
    return &e->lane;
  return e->n_heap > 0 ? &e->heap[0] : NULL;
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
 * heap's top, live). */
static inline void
run_top (FtSimEngine *e, const HeapKey *next)
{
  HeapKey k = *next;
  if (next == &e->lane)
    e->lane_used = FALSE;
  else
    pop_top (e);
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
  if (e->n_heap > 0)
    __builtin_prefetch (&e->slots[e->heap[0].slot]);
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
