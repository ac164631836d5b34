/* ft-live-session.h — the app's live-mode model (not a widget): an FtCore
 * fed by the MQTT adapter (src/live) on its own twin thread. Like FtSession
 * for the simulation, the worker owns the core and the adapter, drains the
 * network queue, and publishes immutable FtFrames plus a copy of the command
 * table and the connection state; the UI reads those and queues commands
 * (unlock, lock, locate, alarm) and inspector queries that run on the worker.
 */
#pragma once

#include <gio/gio.h>
#include "ft-frame.h"
#include "ft-live.h"
#include "ft-ops.h"

G_BEGIN_DECLS

#define FT_TYPE_LIVE_SESSION (ft_live_session_get_type ())
G_DECLARE_FINAL_TYPE (FtLiveSession, ft_live_session, FT, LIVE_SESSION, GObject)

FtLiveSession  *ft_live_session_new          (void);
/* Builds a fresh core and adapter from cfg (copied), starts the twin thread
 * and connects asynchronously (connection state then follows in
 * "state-changed"). A config the adapter cannot use (bad URL, unreadable CA)
 * is an error here. Stops a running connection first. */
gboolean        ft_live_session_start        (FtLiveSession *self, const FtLiveConfig *cfg, GError **error);
/* Disconnects and joins the thread; the last frame stays readable. */
void            ft_live_session_stop         (FtLiveSession *self);
gboolean        ft_live_session_is_running   (FtLiveSession *self);
/* Record the connections started from now on into a database in dir
 * (created if needed; NULL: in memory only), committed as the CLI's live
 * twin does, so the Dashboard can read it while it runs. The database is
 * removed when the next connection starts or the session ends. */
void            ft_live_session_set_record_dir (FtLiveSession *self, const char *dir);
/* The running connection's database, or NULL. */
const char     *ft_live_session_get_store_path (FtLiveSession *self);

/* Main thread, once per display frame: take the newest frame and command
 * table; TRUE if a new frame arrived. Emits "state-changed" when the
 * connection state changed since the last poll. */
gboolean        ft_live_session_poll         (FtLiveSession *self);
FtFrame        *ft_live_session_get_frame    (FtLiveSession *self);    /* borrowed, may be NULL */
FtLiveConnState ft_live_session_get_state    (FtLiveSession *self);
/* The adapter's last error ("connection refused: not authorised"), or NULL. */
const char     *ft_live_session_get_error    (FtLiveSession *self);
/* "connected mqtt://… · 12 vehicles (12 seen) · …" */
const char     *ft_live_session_get_status   (FtLiveSession *self);
const char     *ft_live_session_get_url      (FtLiveSession *self);

/* Commands as of the last poll, oldest first (borrowed; n_out set). */
const FtLiveCommand *ft_live_session_get_commands (FtLiveSession *self, guint *n_out);
/* The code of command i's vehicle as people read it on the vehicle
 * ("FT-0042"), "" when unknown (borrowed, valid until the next poll). */
#define FT_LIVE_SESSION_NAME_LEN 16
const char     *ft_live_session_get_command_vehicle (FtLiveSession *self, guint i);
/* "pending", "retried (attempt 2)", "acked", "failed: reason", "expired". */
char           *ft_live_session_command_status (const FtLiveCommand *c);

/* Publish a command for vehicle v now (blocks until the twin thread took it).
 * Returns the command id (caller frees) or NULL with an error. */
char           *ft_live_session_send_command (FtLiveSession *self, guint vehicle, FtLiveCommandKind kind,
                                              GError **error);
/* Inspector text (Pango markup): the vehicle's twin state and last telemetry. */
char           *ft_live_session_describe_vehicle (FtLiveSession *self, guint vehicle);
/* Inspector text for a staff member reporting under <prefix>/staff/. */
char           *ft_live_session_describe_staff   (FtLiveSession *self, guint staff);

/* Dispatch in live mode: creates a task (FtTaskKind) per vehicle in the live
 * core's task queue as the app's dispatcher, assigns it to live staff member
 * `staff` (index into the adapter's staff, -1 = leave open) through
 * ft_live_assign_task, which publishes it on <prefix>/staff/<id>/tasks and
 * tracks its ack, retries, expiry and progress (ft_live_session_get_assignments),
 * and publishes a locate command for each vehicle. Returns tasks created;
 * *published gets the locate commands published. */
guint           ft_live_session_dispatch     (FtLiveSession *self, guint kind, const guint *vehicles, guint n,
                                              FtLatLon target, gint staff, guint *published, GError **error);
/* Task assignments as of the last poll, oldest first (borrowed). */
const FtLiveAssignment *ft_live_session_get_assignments (FtLiveSession *self, guint *n_out);
/* Like command_status, plus the progress: "acked · in_progress". */
char           *ft_live_session_assignment_status (const FtLiveAssignment *a);
/* Number of live tasks in state (FtTaskState). */
guint           ft_live_session_count_tasks  (FtLiveSession *self, guint state);

/* Work on the twin thread with the core and adapter; blocks; caller frees. */
typedef char *(*FtLiveSessionJob) (FtCore *core, FtLive *live, FtTime now, gpointer data);
char           *ft_live_session_run_job_sync (FtLiveSession *self, FtLiveSessionJob fn, gpointer data);
/* The same without blocking: callback runs on the main thread; _finish
 * gives fn's string (caller frees), or NULL with G_IO_ERROR_CANCELLED when
 * the worker stopped first. fn must not use data after returning; free
 * (may be NULL) frees data once the job is done or dropped. */
void            ft_live_session_run_job_async  (FtLiveSession *self, FtLiveSessionJob fn, gpointer data,
                                                GDestroyNotify free, GCancellable *cancellable,
                                                GAsyncReadyCallback callback, gpointer user_data);
char           *ft_live_session_run_job_finish (FtLiveSession *self, GAsyncResult *result, GError **error);

G_END_DECLS
