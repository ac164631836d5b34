/* ft-event.c — the in-memory domain event log: a growable array of fixed
 * size FtEvent records stamped with a strictly increasing seq, kept until
 * the store drains them (unless retain is off), per-kind counters that
 * survive drains, and synchronous listeners called on append.
 */
#include "ft-event.h"

#include <string.h>

typedef struct {
  guint           id;
  FtEventListener fn;
  gpointer        user_data;
  guint64         kinds;   /* bit k: called for events of kind k */
} Listener;

G_STATIC_ASSERT (FT_EV_N_KINDS <= 64);

struct _FtEventLog {
  FtEventLogHead head;   /* first: ft_event_log_append reads it inline */
  FtEvent *ev;
  guint    n;
  guint    cap;
  gboolean retain;
  GArray  *listeners;   /* Listener; fn NULL = removed during dispatch */
  guint64  kinds_any;   /* the union of the listeners' kinds */
  guint    next_listener_id;
  guint    dispatching;  /* nesting depth of listener calls */
  gboolean compact;      /* removed listeners to drop after dispatch */
  /* the tap (ft_event_log_set_tap): kinds copied into head.tap_buf */
  guint64  tap_kinds;
  FtEventTapFull tap_full;
  gpointer tap_data;
};

/* The kinds the inline append passes on to ft_event_log_append_full:
 * every kind while events are kept, else those someone listens to. */
static void
update_slow_kinds (FtEventLog *log)
{
  log->head.slow_kinds = log->retain ? G_MAXUINT64 : log->kinds_any | log->tap_kinds;
  log->head.tap_only = log->retain ? 0 : log->tap_kinds & ~log->kinds_any;
}

FtEventLog *
ft_event_log_new (void)
{
  FtEventLog *log = g_new0 (FtEventLog, 1);

  log->head.next_seq = 1;
  log->retain = TRUE;
  log->listeners = g_array_new (FALSE, FALSE, sizeof (Listener));
  log->next_listener_id = 1;
  update_slow_kinds (log);
  return log;
}

void
ft_event_log_free (FtEventLog *log)
{
  if (log == NULL)
    return;
  g_free (log->ev);
  g_array_unref (log->listeners);
  g_free (log);
}

guint64
ft_event_log_append_full (FtEventLog *log, const FtEvent *ev)
{
  FtEvent *slot;
  FtEvent tmp;
  guint i;

  if (log == NULL)
    return 0;
  g_return_val_if_fail (ev != NULL, 0);
  g_return_val_if_fail (ev->kind < FT_EV_N_KINDS, 0);

  guint64 seq = log->head.next_seq++;
  log->head.counts[ev->kind]++;
  /* The tap's kinds: a copy in its buffer, no call (but when it fills) */
  if (log->tap_kinds >> ev->kind & 1)
    {
      FtEvent *t = &log->head.tap_buf[log->head.tap_n++];
      *t = *ev;
      t->seq = seq;
      if (G_UNLIKELY (log->head.tap_n == log->head.tap_cap))
        log->tap_full (log->tap_data);
    }
  /* Nothing kept and nobody listening to its kind (a simulation without
   * a store; shadow mode listens to about half the events): counted, and
   * no copy of the event is made. */
  if (!log->retain && !(log->kinds_any >> ev->kind & 1))
    return seq;

  tmp = *ev;
  tmp.seq = seq;

  if (log->retain)
    {
      if (log->n == log->cap)
        {
          log->cap = log->cap ? log->cap * 2 : 256;
          log->ev = g_renew (FtEvent, log->ev, log->cap);
          if (log->cap >= 65536)
            ft_mem_advise_huge (log->ev);
        }
      slot = &log->ev[log->n++];
      *slot = tmp;
    }

  /* One listener, not inside a dispatch (shadow mode without a store):
   * called straight, without the loop's bookkeeping; if it added or
   * removed listeners, the loop goes on after it. */
  guint start = 0;
  if (log->listeners->len == 1 && log->dispatching == 0 && !log->compact)
    {
      const Listener *l = &g_array_index (log->listeners, Listener, 0);
      if (!l->fn || !(l->kinds >> tmp.kind & 1))
        return tmp.seq;
      log->dispatching = 1;
      l->fn (&tmp, l->user_data);
      log->dispatching = 0;
      if (log->listeners->len == 1 && !log->compact)
        return tmp.seq;
      start = 1;
    }

  /* Listeners may add or remove listeners (themselves included) while
   * called: removal only clears fn here, the array is compacted after. */
  log->dispatching++;
  for (i = start; i < log->listeners->len; i++)
    {
      const Listener *l = &g_array_index (log->listeners, Listener, i);
      if (l->fn && (l->kinds >> tmp.kind & 1))
        l->fn (&tmp, l->user_data);
    }
  if (--log->dispatching == 0 && log->compact)
    {
      for (i = log->listeners->len; i-- > 0;)
        if (g_array_index (log->listeners, Listener, i).fn == NULL)
          g_array_remove_index (log->listeners, i);
      log->compact = FALSE;
    }
  return tmp.seq;
}

const FtEvent *
ft_event_log_pending (FtEventLog *log, guint *n_out)
{
  g_return_val_if_fail (log != NULL, NULL);
  if (n_out)
    *n_out = log->n;
  return log->ev;
}

guint
ft_event_log_n_pending (FtEventLog *log)
{
  g_return_val_if_fail (log != NULL, 0);
  return log->n;
}

void
ft_event_log_drain (FtEventLog *log)
{
  g_return_if_fail (log != NULL);
  log->n = 0;
  /* Give memory back after a large burst. */
  if (log->cap > 65536)
    {
      g_free (log->ev);
      log->ev = NULL;
      log->cap = 0;
    }
}

guint64
ft_event_log_last_seq (FtEventLog *log)
{
  g_return_val_if_fail (log != NULL, 0);
  return log->head.next_seq - 1;
}

void
ft_event_log_set_next_seq (FtEventLog *log, guint64 next)
{
  g_return_if_fail (log != NULL);
  g_return_if_fail (next >= 1);
  log->head.next_seq = next;
}

guint64
ft_event_log_count (FtEventLog *log, FtEventKind kind)
{
  g_return_val_if_fail (log != NULL, 0);
  g_return_val_if_fail (kind < FT_EV_N_KINDS, 0);
  return log->head.counts[kind];
}

void
ft_event_log_set_retain (FtEventLog *log, gboolean retain)
{
  g_return_if_fail (log != NULL);
  log->retain = retain;
  if (!retain)
    ft_event_log_drain (log);   /* nothing is kept from now on: a large burst's memory goes back */
  update_slow_kinds (log);
}

static void
update_kinds (FtEventLog *log)
{
  log->kinds_any = 0;
  for (guint i = 0; i < log->listeners->len; i++)
    if (g_array_index (log->listeners, Listener, i).fn)
      log->kinds_any |= g_array_index (log->listeners, Listener, i).kinds;
}

guint
ft_event_log_add_listener (FtEventLog *log, FtEventListener fn, gpointer user_data)
{
  return ft_event_log_add_listener_for (log, G_MAXUINT64, fn, user_data);
}

guint
ft_event_log_add_listener_for (FtEventLog *log, guint64 kinds, FtEventListener fn, gpointer user_data)
{
  Listener l;

  g_return_val_if_fail (log != NULL, 0);
  g_return_val_if_fail (fn != NULL, 0);
  l.id = log->next_listener_id++;
  l.fn = fn;
  l.user_data = user_data;
  l.kinds = kinds;
  g_array_append_val (log->listeners, l);
  log->kinds_any |= kinds;
  update_slow_kinds (log);
  return l.id;
}

void
ft_event_log_remove_listener (FtEventLog *log, guint id)
{
  guint i;

  g_return_if_fail (log != NULL);
  for (i = 0; i < log->listeners->len; i++)
    if (g_array_index (log->listeners, Listener, i).id == id)
      {
        if (log->dispatching)
          {
            g_array_index (log->listeners, Listener, i).fn = NULL;
            log->compact = TRUE;
          }
        else
          g_array_remove_index (log->listeners, i);
        update_kinds (log);
        update_slow_kinds (log);
        return;
      }
}

gboolean
ft_event_log_set_tap (FtEventLog *log, guint64 kinds, FtEvent *buf, guint cap, FtEventTapFull full, gpointer data)
{
  g_return_val_if_fail (log != NULL, FALSE);
  g_return_val_if_fail (kinds == 0 || (buf != NULL && cap > 0 && full != NULL), FALSE);
  if (kinds != 0 && log->tap_kinds != 0)
    return FALSE;   /* one tap per log */
  log->tap_kinds = kinds;
  log->head.tap_buf = buf;
  log->head.tap_cap = cap;
  log->head.tap_n = 0;
  log->tap_full = full;
  log->tap_data = data;
  update_slow_kinds (log);
  return TRUE;
}

guint
ft_event_log_tap_swap (FtEventLog *log, FtEvent *buf, guint cap)
{
  g_return_val_if_fail (log != NULL && buf != NULL && cap > 0, 0);
  guint n = log->head.tap_n;
  log->head.tap_buf = buf;
  log->head.tap_cap = cap;
  log->head.tap_n = 0;
  return n;
}

const char *
ft_event_kind_name (FtEventKind kind)
{
  static const char *const names[FT_EV_N_KINDS] = {
    [FT_EV_NONE] = "none",
    [FT_EV_VEHICLE_ADDED] = "vehicle_added",
    [FT_EV_VEHICLE_STATE] = "vehicle_state",
    [FT_EV_VEHICLE_MOVED] = "vehicle_moved",
    [FT_EV_PACK_ADDED] = "pack_added",
    [FT_EV_PACK_MOVED] = "pack_moved",
    [FT_EV_PACK_CHARGED] = "pack_charged",
    [FT_EV_TELEMETRY] = "telemetry",
    [FT_EV_ACCOUNT_CREATED] = "account_created",
    [FT_EV_ACCOUNT_ERASED] = "account_erased",
    [FT_EV_BOOKING_RESERVED] = "booking_reserved",
    [FT_EV_BOOKING_EXPIRED] = "booking_expired",
    [FT_EV_BOOKING_CANCELLED] = "booking_cancelled",
    [FT_EV_BOOKING_UNLOCKED] = "booking_unlocked",
    [FT_EV_BOOKING_PAUSED] = "booking_paused",
    [FT_EV_BOOKING_RESUMED] = "booking_resumed",
    [FT_EV_BOOKING_ENDED] = "booking_ended",
    [FT_EV_BOOKING_REFUSED] = "booking_refused",
    [FT_EV_LEDGER_TX] = "ledger_tx",
    [FT_EV_PAYMENT_DECLINED] = "payment_declined",
    [FT_EV_TASK_CREATED] = "task_created",
    [FT_EV_TASK_ASSIGNED] = "task_assigned",
    [FT_EV_TASK_DONE] = "task_done",
    [FT_EV_TASK_CANCELLED] = "task_cancelled",
    [FT_EV_STAFF_MOVED] = "staff_moved",
    [FT_EV_RIDER_LOST] = "rider_lost",
    [FT_EV_PRICE_CHANGED] = "price_changed",
    [FT_EV_VEHICLE_FAULT] = "vehicle_fault",
    [FT_EV_MODEL_DRIFT] = "model_drift",
    [FT_EV_MODEL_DECISION] = "model_decision",
    [FT_EV_TASK_PROPOSED] = "task_proposed",
    [FT_EV_TASK_APPROVED] = "task_approved",
    [FT_EV_VEHICLE_WARNING] = "vehicle_warning",
  };

  if ((guint) kind >= FT_EV_N_KINDS || names[kind] == NULL)
    return "unknown";
  return names[kind];
}
