/* ft-event.h — the domain event log.
 *
 * Every state change in a real module is a domain event appended here, in
 * memory, in order. The store (src/store) drains it in batches and commits
 * them to SQLite together with the state they produced (group commit). The
 * log also feeds analytics, exports and the UI. Events are small fixed-size
 * records so appending is a memcpy on the hot path; free text never goes in.
 */
#pragma once

#include "ft-common.h"

G_BEGIN_DECLS

typedef enum {
  FT_EV_NONE = 0,
  /* fleet */
  FT_EV_VEHICLE_ADDED,        /* vehicle, lat/lon, a = kind                       */
  FT_EV_VEHICLE_STATE,        /* vehicle, a = FtVehicleEventType, b = new state    */
  FT_EV_VEHICLE_MOVED,        /* vehicle, lat/lon, amount = odometer metres         */
  FT_EV_PACK_ADDED,           /* ref = pack, a = place, b = holder                  */
  FT_EV_PACK_MOVED,           /* ref = pack, a = place, b = holder                  */
  FT_EV_PACK_CHARGED,         /* ref = pack, amount = soc in 1e-4 units             */
  FT_EV_TELEMETRY,            /* vehicle, lat/lon, amount = soc 1e-4, a = speed kph*/
  /* accounts */
  FT_EV_ACCOUNT_CREATED,      /* account, a = role                                  */
  FT_EV_ACCOUNT_ERASED,       /* account                                            */
  /* booking */
  FT_EV_BOOKING_RESERVED,     /* ref = booking, vehicle, account, lat/lon           */
  FT_EV_BOOKING_EXPIRED,
  FT_EV_BOOKING_CANCELLED,
  FT_EV_BOOKING_UNLOCKED,
  FT_EV_BOOKING_PAUSED,
  FT_EV_BOOKING_RESUMED,
  FT_EV_BOOKING_ENDED,        /* amount = price minor, a = duration s, b = metres;
                               * lat/lon = where the vehicle now stands (the trip's
                               * end also moves it: no separate VEHICLE_MOVED)     */
  FT_EV_BOOKING_REFUSED,      /* account, vehicle, a = refusal code                 */
  /* payments */
  FT_EV_LEDGER_TX,            /* ref = tx, account, amount, a = FtTxKind            */
  FT_EV_PAYMENT_DECLINED,     /* account, amount                                    */
  /* operations (tasks, staff) — used by sim/ and later modules */
  FT_EV_TASK_CREATED,         /* ref = task, vehicle, a = task kind, b = staff       */
  FT_EV_TASK_ASSIGNED,
  FT_EV_TASK_DONE,
  FT_EV_TASK_CANCELLED,
  FT_EV_STAFF_MOVED,          /* account = staff, lat/lon                           */
  FT_EV_RIDER_LOST,           /* lat/lon, a = lost reason                           */
  /* planning */
  FT_EV_PRICE_CHANGED,        /* account = planner, a = FtPriceChange, amount = multiplier 1e-4 */
  /* fleet, continued (appended: stored kinds keep their numbers) */
  FT_EV_VEHICLE_FAULT,        /* vehicle, lat/lon, amount = fault codes now (bit set,
                               * 0 = cleared), b = the codes before              */
  /* models (src/models, shadow mode) */
  FT_EV_MODEL_DRIFT,          /* ref = model version, a = FtDriftTest (0 PSI, 1 KS),
                               * b = level (1 warn, 2 act), amount = statistic 1e-4 */
  FT_EV_MODEL_DECISION,       /* ref = candidate version, b = champion version,
                               * a = 1 promoted / 0 kept, amount = candidate's
                               * held-back RMSE / champion's, 1e-4 units          */
  /* operations, continued (live mode's own proposals and their approval) */
  FT_EV_TASK_PROPOSED,        /* as FT_EV_TASK_CREATED, for a task that waits for approval */
  FT_EV_TASK_APPROVED,        /* ref = task, vehicle, a = task kind; account = approver
                               * (-1: auto-approve)                                */
  /* fleet, continued */
  FT_EV_VEHICLE_WARNING,      /* vehicle, lat/lon, a = warning code: a code the
                               * vehicle raises while it stays in service (brake,
                               * motor temperature), not a fault               */
  FT_EV_N_KINDS
} FtEventKind;

typedef struct {
  guint64 seq;                /* assigned by the log, strictly increasing */
  FtTime  t;
  guint16 kind;               /* FtEventKind */
  guint16 pad;
  gint32  vehicle;            /* dense vehicle index or -1 */
  gint32  account;            /* account index or -1 */
  gint32  a;
  gint64  ref;                /* booking / tx / pack / task id, or -1 */
  gint64  b;
  gint64  amount;
  double  lat, lon;
} FtEvent;

typedef struct _FtEventLog FtEventLog;

typedef void (*FtEventListener) (const FtEvent *ev, gpointer user_data);

/* The first member of FtEventLog, which the inline append reads: an event
 * that is not kept and that nobody listens to (a simulation without a
 * store) is only counted, and that costs no call. Private: use the
 * functions below. */
typedef struct {
  guint64  next_seq;
  guint64  slow_kinds;               /* bit k: kind k is kept, listened to or tapped */
  guint64  counts[FT_EV_N_KINDS];
  /* the tap (ft_event_log_set_tap): an event only it takes is copied
   * inline too, while that does not fill its buffer */
  guint64  tap_only;
  FtEvent *tap_buf;
  guint    tap_n, tap_cap;
} FtEventLogHead;

FtEventLog   *ft_event_log_new          (void);
void          ft_event_log_free         (FtEventLog *log);
guint64       ft_event_log_append_full  (FtEventLog *log, const FtEvent *ev);
/* Appends a copy, stamping seq; returns the seq. NULL log is allowed (no-op, returns 0). */
static inline guint64
ft_event_log_append (FtEventLog *log, const FtEvent *ev)
{
  FtEventLogHead *h = (FtEventLogHead *) log;
  if (h != NULL && ev != NULL && ev->kind < FT_EV_N_KINDS)
    {
      if (!(h->slow_kinds >> ev->kind & 1))
        {
          h->counts[ev->kind]++;
          return h->next_seq++;
        }
      if ((h->tap_only >> ev->kind & 1) && h->tap_n + 1 < h->tap_cap)
        {
          FtEvent *t = &h->tap_buf[h->tap_n++];
          *t = *ev;
          h->counts[ev->kind]++;
          return t->seq = h->next_seq++;
        }
    }
  return ft_event_log_append_full (log, ev);
}
/* Convenience initialiser: all ids -1, everything else 0. Inline: every
 * state change on the simulator's per-request path builds one or more. */
static inline FtEvent
ft_event_init (FtEventKind kind, FtTime t)
{
  FtEvent e = { 0 };
  e.kind = (guint16) kind;
  e.t = t;
  e.vehicle = -1;
  e.account = -1;
  e.ref = -1;
  return e;
}
/* Events appended since the last drain, oldest first. */
const FtEvent *ft_event_log_pending     (FtEventLog *log, guint *n_out);
guint         ft_event_log_n_pending    (FtEventLog *log);
/* Forget pending events (after the store has committed them). */
void          ft_event_log_drain        (FtEventLog *log);
guint64       ft_event_log_last_seq     (FtEventLog *log);
void          ft_event_log_set_next_seq (FtEventLog *log, guint64 next);
/* Counters per kind since creation (not reset by drain). */
guint64       ft_event_log_count        (FtEventLog *log, FtEventKind kind);
/* If TRUE (default), pending events are kept until drained; a simulation
 * without a store can set it FALSE so the log only counts and notifies
 * (pending events are then dropped as by drain, memory and all). */
void          ft_event_log_set_retain   (FtEventLog *log, gboolean retain);
/* Listeners are called synchronously on append, on the twin thread. */
guint         ft_event_log_add_listener (FtEventLog *log, FtEventListener fn, gpointer user_data);
/* The same, called only for the kinds whose bit (1 << kind) is set in
 * kinds: a listener that reads a few kinds costs the others one test. */
guint         ft_event_log_add_listener_for (FtEventLog *log, guint64 kinds, FtEventListener fn,
                                             gpointer user_data);
#define FT_EV_BIT(kind) (G_GUINT64_CONSTANT (1) << (kind))
void          ft_event_log_remove_listener (FtEventLog *log, guint id);
/* A tap: each event of the kinds in `kinds` is copied, seq stamped, into
 * buf[0..cap) as it is appended, without a call (a listener costs a call
 * and its bookkeeping per event: an asynchronous consumer, which only
 * copies, takes the events this way). When the buffer is full, full
 * (data) is called, which must give the log another
 * (ft_event_log_tap_swap). One tap per log (FALSE when there is one
 * already); kinds 0 removes it. The tap sees the events before the
 * listeners do. */
typedef void (*FtEventTapFull) (gpointer data);
gboolean      ft_event_log_set_tap      (FtEventLog *log, guint64 kinds, FtEvent *buf, guint cap,
                                         FtEventTapFull full, gpointer data);
/* The tap writes into buf from now on; returns how many events it wrote
 * into the buffer before. */
guint         ft_event_log_tap_swap     (FtEventLog *log, FtEvent *buf, guint cap);
const char   *ft_event_kind_name        (FtEventKind kind);

G_END_DECLS
