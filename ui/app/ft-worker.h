/* ft-worker.h — the twin thread both UI sessions run: one thread, one lock
 * and condition, and a queue of jobs the main thread hands it.
 *
 * The owner (FtSession, FtLiveSession) supplies the thread's loop; the loop
 * calls ft_worker_run_jobs between its own steps and returns once
 * ft_worker_quit_requested says so. The owner may guard its own hand-over
 * fields with the worker's lock, so the loop can wait for "a job or a
 * command" on one condition. Jobs are GTask-shaped: _async/_finish, with a
 * blocking _sync form for short queries. Not a GObject: the owner embeds it.
 */
#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

typedef struct _FtWorker FtWorker;

/* The thread's body; returns when ft_worker_quit_requested is TRUE. */
typedef void  (*FtWorkerLoop) (FtWorker *worker, gpointer owner);
/* A job, on the worker thread: `target` is what the loop passes to
 * ft_worker_run_jobs (the world, the core…). Returns a new string or NULL. */
typedef char *(*FtWorkerJob)  (gpointer target, gpointer data);

FtWorker *ft_worker_new              (void);
/* Stops the thread first. */
void      ft_worker_free             (FtWorker *worker);

/* Starts the thread (it must not be running). */
void      ft_worker_start            (FtWorker *worker, const char *name,
                                      FtWorkerLoop loop, gpointer owner);
/* Asks the loop to return, wakes it, joins it. Jobs it never ran complete
 * with G_IO_ERROR_CANCELLED (async) or NULL (sync). No-op when stopped. */
void      ft_worker_stop             (FtWorker *worker);
gboolean  ft_worker_is_running       (FtWorker *worker);

/* The lock guards the queue, the quit flag and whatever the owner adds. */
void      ft_worker_lock             (FtWorker *worker);
void      ft_worker_unlock           (FtWorker *worker);
/* With the lock held: waits for ft_worker_wake, a new job or stop. */
void      ft_worker_wait             (FtWorker *worker);
/* With the lock held: wakes a waiting loop. */
void      ft_worker_wake             (FtWorker *worker);
/* With the lock held. */
gboolean  ft_worker_quit_requested   (FtWorker *worker);
gboolean  ft_worker_has_jobs         (FtWorker *worker);

/* On the worker thread, without the lock: runs the queued jobs with
 * target, in order. Returns how many ran. */
guint     ft_worker_run_jobs         (FtWorker *worker, gpointer target);

/* From the main thread. source_object is the owner (the GTask's source);
 * callback runs in the caller's thread-default main context. data is
 * freed with destroy after the job ran or was cancelled. */
void      ft_worker_run_async        (FtWorker *worker, gpointer source_object,
                                      FtWorkerJob fn, gpointer data, GDestroyNotify destroy,
                                      GCancellable *cancellable,
                                      GAsyncReadyCallback callback, gpointer user_data);
/* The job's string (caller frees), or NULL with error when cancelled. */
char     *ft_worker_run_finish       (GAsyncResult *result, GError **error);
/* Blocks until the worker ran fn. NULL at once when the worker is stopped. */
char     *ft_worker_run_sync         (FtWorker *worker, FtWorkerJob fn, gpointer data);

G_END_DECLS
