/* ft-shadow-async.h — an asynchronous consumer of the event stream: the
 * thread that appends events (the simulator's) copies the events of the
 * kinds asked for into blocks and hands whole blocks over; one consumer
 * thread applies them and the tick markers put between them, in stream
 * order, so what it computes is what the same calls made inline would.
 * Shadow mode (ft-registry-shadow.c) runs its serving path on it. The
 * copies are the log's tap (ft_event_log_set_tap): no call per event.
 *
 * Threads: every function here but the consumer's callbacks and
 * ft_shadow_async_emit is called on the producer's thread (the one that
 * appends to the log). The callbacks and emit run on the consumer.
 *
 * Memory is bounded: at most FT_SHADOW_ASYNC_MAX_BLOCKS blocks of
 * FT_SHADOW_ASYNC_BLOCK events exist; when the consumer is that far behind
 * the producer waits for it (backpressure).
 *
 * Events the consumer makes (ft_shadow_async_emit, during a tick) never
 * enter the log from the consumer: they wait until the producer puts the
 * next tick marker, which first waits for the consumer to finish the tick
 * before (usually done already), then appends them stamped with the new
 * tick's time (they are published then); those of the last tick are
 * appended by ft_shadow_async_publish. The log's order therefore does not
 * depend on the consumer's speed.
 *
 * A tick that fails stops the consumer (the events after it are dropped);
 * the error surfaces on the producer at its next tick or sync, once,
 * naming the tick's time.
 */
#pragma once

#include "ft-event.h"

G_BEGIN_DECLS

#define FT_SHADOW_ASYNC_BLOCK      1024
#define FT_SHADOW_ASYNC_MAX_BLOCKS 32

typedef struct _FtShadowAsync FtShadowAsync;

typedef void     (*FtShadowAsyncEventFn) (const FtEvent *ev, gpointer data);
typedef gboolean (*FtShadowAsyncTickFn)  (gpointer data, FtTime now, GError **error);

typedef struct {
  double  consumer_s;   /* the consumer thread's CPU seconds (read as it goes idle) */
  double  wait_s;       /* wall seconds the producer waited for it (ticks, syncs, backpressure) */
  guint64 blocks;       /* blocks handed over */
  guint64 events;       /* events copied and tick markers */
  guint   waits;        /* times the producer had to wait */
  guint   full_waits;   /* of those, for an empty block (the consumer that far behind) */
} FtShadowAsyncCost;

/* Taps log for the kinds in `kinds`; the consumer calls
 * event_fn (ev, data) for each and tick_fn (data, t, error) for each tick
 * marker, holding store_lock (when not NULL) around the tick.
 * delay_us: tests, the consumer sleeps this long after each block. NULL
 * when no thread can be had or the log has a tap already. */
FtShadowAsync *ft_shadow_async_new     (FtEventLog *log, guint64 kinds, FtShadowAsyncEventFn event_fn,
                                        FtShadowAsyncTickFn tick_fn, gpointer data, GMutex *store_lock,
                                        guint delay_us);
/* Stops the consumer after the block it is on (what is queued is dropped)
 * and frees everything. */
void           ft_shadow_async_free    (FtShadowAsync *a);
/* A tick marker at now: waits for the tick before to be done, appends the
 * events it made (at now), then the marker. FALSE with the consumer's
 * error when it has failed (once; afterwards ticks do nothing). */
gboolean       ft_shadow_async_tick    (FtShadowAsync *a, FtTime now, GError **error);
/* Hands over what was copied and waits until the consumer has applied it
 * all. error may be NULL: the consumer's error then waits for the next
 * tick or sync that takes one. */
gboolean       ft_shadow_async_sync    (FtShadowAsync *a, GError **error);
/* Syncs, then appends the events of the last ticks at now (the run's end). */
gboolean       ft_shadow_async_publish (FtShadowAsync *a, FtTime now, GError **error);
/* Whether the consumer's error has surfaced (the stream is stopped). */
gboolean       ft_shadow_async_stopped (FtShadowAsync *a);
void           ft_shadow_async_cost    (FtShadowAsync *a, FtShadowAsyncCost *out);
/* Consumer side, inside tick_fn: queue an event for the log. */
void           ft_shadow_async_emit    (FtShadowAsync *a, const FtEvent *ev);

G_END_DECLS
