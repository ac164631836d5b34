/* ft-sim-engine.h — the discrete-event engine of the simulated world.
 *
 * Events are ordered by (time in ms, priority, sequence): lower priority
 * numbers run first at equal times, and ties resolve first-in first-out,
 * so runs are reproducible. The queue is a calendar of compact keys over a
 * slot pool (a small heap for the current few seconds, a ring of buckets
 * for the next 70 minutes, a heap for later); cancelling sets a bit in the
 * slot (O(1)) and the event is skipped when it reaches the top. The engine is an explicit object: no
 * globals. It runs as fast as possible (run_until / step) or paced at a
 * multiple of real time with pause (run_paced, for a GUI worker thread;
 * speed, pause and stop may be set from another thread).
 */
#pragma once

#include "ft-common.h"

G_BEGIN_DECLS

typedef struct _FtSimEngine FtSimEngine;

/* Handle of a scheduled event: 0 is never a valid handle. */
typedef guint64 FtSimHandle;

typedef void (*FtSimEventFunc) (FtSimEngine *engine, gpointer data, guint64 arg);

FtSimEngine *ft_sim_engine_new           (FtTime start);
void         ft_sim_engine_free          (FtSimEngine *engine);
FtTime       ft_sim_engine_now           (const FtSimEngine *engine);

/* Schedule fn (data, arg) at absolute time t (>= now). priority: lower runs
 * first at the same time. Returns a handle for cancel. */
FtSimHandle  ft_sim_engine_schedule      (FtSimEngine *engine, FtTime t, gint priority,
                                          FtSimEventFunc fn, gpointer data, guint64 arg);
FtSimHandle  ft_sim_engine_schedule_in   (FtSimEngine *engine, FtTime delay, gint priority,
                                          FtSimEventFunc fn, gpointer data, guint64 arg);
/* The same, for one event of a chain that schedules its own next (the
 * riders' arrivals): it waits beside the queue while no other does (else
 * in the queue), runs in the same order, and costs no insert or pop. */
FtSimHandle  ft_sim_engine_schedule_lane (FtSimEngine *engine, FtTime t, gint priority,
                                          FtSimEventFunc fn, gpointer data, guint64 arg);
/* Cancel a pending event; FALSE if it already ran or was cancelled. */
gboolean     ft_sim_engine_cancel        (FtSimEngine *engine, FtSimHandle handle);
gboolean     ft_sim_engine_is_pending    (const FtSimEngine *engine, FtSimHandle handle);

/* For an event handler that would schedule fn at (t, priority) and knows
 * what fn does: TRUE when that event would be the next to run in the
 * run_until / run_paced under way (t within the run, no stop asked, no
 * live event before it); then the clock moves to t, the event counts as
 * run (and takes its sequence number), and the caller runs it in place
 * instead of scheduling it. A chain of events that mostly fires next (the
 * riders' arrival candidates) so skips the queue and runs in the same
 * order. FALSE outside a run (step) or when something comes first. */
gboolean     ft_sim_engine_take_next     (FtSimEngine *engine, FtTime t, gint priority);
/* Run the next live event (advancing now to its time). FALSE if none. */
gboolean     ft_sim_engine_step          (FtSimEngine *engine);
/* Run every event with time <= t, then set now = t (unless stopped early).
 * Returns the number of events run. */
guint64      ft_sim_engine_run_until     (FtSimEngine *engine, FtTime t);
/* Ask a running run_until / run_paced to return after the current event
 * (callable from an event or from another thread). The request is consumed
 * by the run it ends; made while nothing runs, it ends the next run at once. */
void         ft_sim_engine_stop          (FtSimEngine *engine);

/* Pacing (GUI): speed = simulated seconds per wall second (0 = as fast as
 * possible). run_paced runs toward `until`, sleeping so simulated time
 * follows the wall clock times speed; while paused it sleeps. Returns when
 * `until` is reached or stop was requested; TRUE if `until` was reached. */
void         ft_sim_engine_set_speed     (FtSimEngine *engine, double speed);
double       ft_sim_engine_get_speed     (FtSimEngine *engine);
void         ft_sim_engine_set_paused    (FtSimEngine *engine, gboolean paused);
gboolean     ft_sim_engine_get_paused    (FtSimEngine *engine);
gboolean     ft_sim_engine_run_paced     (FtSimEngine *engine, FtTime until);

/* Time of the next live event, or G_MAXINT64 if the queue is empty. */
FtTime       ft_sim_engine_next_time     (FtSimEngine *engine);
guint        ft_sim_engine_n_pending     (const FtSimEngine *engine);   /* live events */
guint64      ft_sim_engine_n_processed   (const FtSimEngine *engine);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (FtSimEngine, ft_sim_engine_free)

G_END_DECLS
