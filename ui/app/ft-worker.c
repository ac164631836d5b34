/* ft-worker.c — the twin thread both UI sessions run (see ft-worker.h):
 * the thread, its lock and condition, and the job queue. A job is either
 * a GTask (async: the result goes back to the caller's main context) or
 * a stack record a blocked caller waits on (sync).
 */
#include "ft-worker.h"

typedef struct {
  FtWorkerJob  fn;
  gpointer     data;
  GTask       *task;       /* async; NULL for sync */
  char        *result;     /* sync */
  gboolean     finished;   /* sync */
} Job;

struct _FtWorker {
  GThread     *thread;
  GMutex       lock;
  GCond        cond;
  gboolean     quit;
  GQueue       jobs;
  FtWorkerLoop loop;
  gpointer     owner;
};

FtWorker *
ft_worker_new (void)
{
  FtWorker *w = g_new0 (FtWorker, 1);
  g_mutex_init (&w->lock);
  g_cond_init (&w->cond);
  g_queue_init (&w->jobs);
  return w;
}

void
ft_worker_free (FtWorker *worker)
{
  if (worker == NULL)
    return;
  ft_worker_stop (worker);
  g_mutex_clear (&worker->lock);
  g_cond_clear (&worker->cond);
  g_free (worker);
}

static gpointer
worker_main (gpointer data)
{
  FtWorker *w = data;
  w->loop (w, w->owner);
  return NULL;
}

void
ft_worker_start (FtWorker *worker, const char *name, FtWorkerLoop loop, gpointer owner)
{
  g_return_if_fail (worker != NULL && loop != NULL);
  g_return_if_fail (worker->thread == NULL);
  worker->loop = loop;
  worker->owner = owner;
  worker->quit = FALSE;
  worker->thread = g_thread_new (name, worker_main, worker);
}

static void
finish_job (FtWorker *worker, Job *job, char *result)
{
  if (job->task != NULL)
    {
      if (result != NULL || !g_task_return_error_if_cancelled (job->task))
        g_task_return_pointer (job->task, result, g_free);
      g_object_unref (job->task);
      g_free (job);
      return;
    }
  g_mutex_lock (&worker->lock);
  job->result = result;
  job->finished = TRUE;
  g_cond_broadcast (&worker->cond);
  g_mutex_unlock (&worker->lock);
}

void
ft_worker_stop (FtWorker *worker)
{
  g_return_if_fail (worker != NULL);
  if (worker->thread == NULL)
    return;
  g_mutex_lock (&worker->lock);
  worker->quit = TRUE;
  g_cond_broadcast (&worker->cond);
  g_mutex_unlock (&worker->lock);
  g_thread_join (worker->thread);
  worker->thread = NULL;

  /* Jobs the loop never ran. */
  g_mutex_lock (&worker->lock);
  GQueue left = worker->jobs;
  g_queue_init (&worker->jobs);
  g_mutex_unlock (&worker->lock);
  Job *job;
  while ((job = g_queue_pop_head (&left)))
    {
      if (job->task != NULL)
        {
          g_task_return_new_error (job->task, G_IO_ERROR, G_IO_ERROR_CANCELLED,
                                   "the twin thread stopped before the job ran");
          g_object_unref (job->task);
          g_free (job);
        }
      else
        finish_job (worker, job, NULL);
    }
}

gboolean
ft_worker_is_running (FtWorker *worker)
{
  return worker->thread != NULL;
}

void
ft_worker_lock (FtWorker *worker)
{
  g_mutex_lock (&worker->lock);
}

void
ft_worker_unlock (FtWorker *worker)
{
  g_mutex_unlock (&worker->lock);
}

void
ft_worker_wait (FtWorker *worker)
{
  g_cond_wait (&worker->cond, &worker->lock);
}

void
ft_worker_wake (FtWorker *worker)
{
  g_cond_broadcast (&worker->cond);
}

gboolean
ft_worker_quit_requested (FtWorker *worker)
{
  return worker->quit;
}

gboolean
ft_worker_has_jobs (FtWorker *worker)
{
  return !g_queue_is_empty (&worker->jobs);
}

guint
ft_worker_run_jobs (FtWorker *worker, gpointer target)
{
  g_mutex_lock (&worker->lock);
  GQueue jobs = worker->jobs;
  g_queue_init (&worker->jobs);
  g_mutex_unlock (&worker->lock);

  guint n = 0;
  Job *job;
  while ((job = g_queue_pop_head (&jobs)))
    {
      if (job->task != NULL && g_task_return_error_if_cancelled (job->task))
        {
          g_object_unref (job->task);
          g_free (job);
          continue;
        }
      finish_job (worker, job, job->fn (target, job->data));
      n++;
    }
  return n;
}

static void
push (FtWorker *worker, Job *job)
{
  g_mutex_lock (&worker->lock);
  g_queue_push_tail (&worker->jobs, job);
  g_cond_broadcast (&worker->cond);
  g_mutex_unlock (&worker->lock);
}

void
ft_worker_run_async (FtWorker *worker, gpointer source_object, FtWorkerJob fn, gpointer data,
                     GDestroyNotify destroy, GCancellable *cancellable,
                     GAsyncReadyCallback callback, gpointer user_data)
{
  g_return_if_fail (worker != NULL && fn != NULL);
  GTask *task = g_task_new (source_object, cancellable, callback, user_data);
  g_task_set_source_tag (task, ft_worker_run_async);
  g_task_set_task_data (task, data, destroy);
  if (worker->thread == NULL)
    {
      g_task_return_new_error (task, G_IO_ERROR, G_IO_ERROR_NOT_INITIALIZED,
                               "the twin thread is not running");
      g_object_unref (task);
      return;
    }
  Job *job = g_new0 (Job, 1);
  job->fn = fn;
  job->data = data;
  job->task = task;
  push (worker, job);
}

char *
ft_worker_run_finish (GAsyncResult *result, GError **error)
{
  /* any source object: the sessions pass themselves */
  g_return_val_if_fail (G_IS_TASK (result), NULL);
  g_return_val_if_fail (g_task_get_source_tag (G_TASK (result)) == ft_worker_run_async, NULL);
  return g_task_propagate_pointer (G_TASK (result), error);
}

char *
ft_worker_run_sync (FtWorker *worker, FtWorkerJob fn, gpointer data)
{
  g_return_val_if_fail (worker != NULL && fn != NULL, NULL);
  if (worker->thread == NULL)
    return NULL;
  Job job = { .fn = fn, .data = data };
  g_mutex_lock (&worker->lock);
  g_queue_push_tail (&worker->jobs, &job);
  g_cond_broadcast (&worker->cond);
  while (!job.finished)
    g_cond_wait (&worker->cond, &worker->lock);
  g_mutex_unlock (&worker->lock);
  return job.result;
}
