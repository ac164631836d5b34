/* test-worker.c — the twin-thread helper both UI sessions use (ft-worker.c),
 * without GTK: sync jobs run on the worker and hand back their string,
 * async jobs complete on the caller's main context and free their data
 * once, jobs the worker never ran complete as cancelled when it stops, a
 * cancelled job never runs, and a stopped worker refuses jobs at once.
 */
#include "ft-config.h"
#include "ft-worker.h"

#include <check.h>

typedef struct {
  GThread *ran_on;
  guint    runs;
} Target;

static char *
job_echo (gpointer target, gpointer data)
{
  Target *t = target;
  t->ran_on = g_thread_self ();
  t->runs++;
  return g_strdup (data);
}

/* Runs jobs until asked to quit. */
static void
loop_jobs (FtWorker *w, gpointer owner)
{
  for (;;)
    {
      ft_worker_lock (w);
      while (!ft_worker_quit_requested (w) && !ft_worker_has_jobs (w))
        ft_worker_wait (w);
      gboolean quit = ft_worker_quit_requested (w);
      ft_worker_unlock (w);
      if (quit)
        break;
      ft_worker_run_jobs (w, owner);
    }
}

/* Never runs a job: waits to be stopped. */
static void
loop_idle (FtWorker *w, gpointer owner)
{
  ft_worker_lock (w);
  while (!ft_worker_quit_requested (w))
    ft_worker_wait (w);
  ft_worker_unlock (w);
}

typedef struct {
  gboolean done;
  char    *result;
  GError  *error;
} Outcome;

static void
on_done (GObject *source, GAsyncResult *res, gpointer user_data)
{
  Outcome *o = user_data;
  o->result = ft_worker_run_finish (res, &o->error);
  o->done = TRUE;
}

static guint destroyed;

static void
count_destroy (gpointer data)
{
  destroyed++;
  g_free (data);
}

static void
wait_for (Outcome *o)
{
  gint64 until = g_get_monotonic_time () + 10 * G_USEC_PER_SEC;
  while (!o->done && g_get_monotonic_time () < until)
    g_main_context_iteration (NULL, TRUE);
  ck_assert_msg (o->done, "the job's callback never ran");
}

START_TEST (test_sync)
{
  Target t = { 0 };
  FtWorker *w = ft_worker_new ();
  ft_worker_start (w, "test-worker", loop_jobs, &t);
  ck_assert (ft_worker_is_running (w));
  g_autofree char *r = ft_worker_run_sync (w, job_echo, "hello");
  ck_assert_str_eq (r, "hello");
  ck_assert_uint_eq (t.runs, 1);
  ck_assert_ptr_nonnull (t.ran_on);
  ck_assert (t.ran_on != g_thread_self ());
  ft_worker_stop (w);
  ck_assert (!ft_worker_is_running (w));
  ck_assert_ptr_null (ft_worker_run_sync (w, job_echo, "late"));   /* stopped: at once */
  ck_assert_uint_eq (t.runs, 1);
  /* and it starts again */
  ft_worker_start (w, "test-worker", loop_jobs, &t);
  g_autofree char *r2 = ft_worker_run_sync (w, job_echo, "again");
  ck_assert_str_eq (r2, "again");
  ft_worker_free (w);
}
END_TEST

START_TEST (test_async)
{
  Target t = { 0 };
  FtWorker *w = ft_worker_new ();
  Outcome o = { 0 };
  destroyed = 0;
  ft_worker_start (w, "test-worker", loop_jobs, &t);
  ft_worker_run_async (w, NULL, job_echo, g_strdup ("async"), count_destroy, NULL, on_done, &o);
  wait_for (&o);
  ck_assert_ptr_null (o.error);
  ck_assert_str_eq (o.result, "async");
  ck_assert_uint_eq (t.runs, 1);
  ft_worker_free (w);
  ck_assert_uint_eq (destroyed, 1);
  g_free (o.result);
  /* with a source object (the sessions pass themselves): _finish takes it */
  w = ft_worker_new ();
  Outcome o2 = { 0 };
  g_autoptr(GObject) src = g_object_new (G_TYPE_OBJECT, NULL);
  ft_worker_start (w, "test-worker", loop_jobs, &t);
  ft_worker_run_async (w, src, job_echo, g_strdup ("with source"), g_free, NULL, on_done, &o2);
  wait_for (&o2);
  ck_assert_ptr_null (o2.error);
  ck_assert_str_eq (o2.result, "with source");
  ft_worker_free (w);
  g_free (o2.result);
}
END_TEST

START_TEST (test_stop_cancels)
{
  Target t = { 0 };
  FtWorker *w = ft_worker_new ();
  Outcome o = { 0 };
  destroyed = 0;
  ft_worker_start (w, "test-worker", loop_idle, &t);
  ft_worker_run_async (w, NULL, job_echo, g_strdup ("never"), count_destroy, NULL, on_done, &o);
  ft_worker_stop (w);
  wait_for (&o);
  ck_assert_ptr_null (o.result);
  ck_assert (g_error_matches (o.error, G_IO_ERROR, G_IO_ERROR_CANCELLED));
  ck_assert_uint_eq (t.runs, 0);
  ck_assert_uint_eq (destroyed, 1);
  g_clear_error (&o.error);

  /* a stopped worker refuses at once */
  Outcome o2 = { 0 };
  ft_worker_run_async (w, NULL, job_echo, g_strdup ("refused"), count_destroy, NULL, on_done, &o2);
  wait_for (&o2);
  ck_assert (g_error_matches (o2.error, G_IO_ERROR, G_IO_ERROR_NOT_INITIALIZED));
  ck_assert_uint_eq (destroyed, 2);
  g_clear_error (&o2.error);
  ft_worker_free (w);
}
END_TEST

START_TEST (test_cancelled_never_runs)
{
  Target t = { 0 };
  FtWorker *w = ft_worker_new ();
  Outcome o = { 0 };
  g_autoptr(GCancellable) c = g_cancellable_new ();
  ft_worker_start (w, "test-worker", loop_jobs, &t);
  g_cancellable_cancel (c);
  ft_worker_run_async (w, NULL, job_echo, g_strdup ("cancelled"), g_free, c, on_done, &o);
  wait_for (&o);
  ck_assert (g_error_matches (o.error, G_IO_ERROR, G_IO_ERROR_CANCELLED));
  ck_assert_uint_eq (t.runs, 0);
  g_clear_error (&o.error);
  ft_worker_free (w);
}
END_TEST

int
main (void)
{
  Suite *s = suite_create ("worker");
  TCase *tc = tcase_create ("worker");
  tcase_add_test (tc, test_sync);
  tcase_add_test (tc, test_async);
  tcase_add_test (tc, test_stop_cancels);
  tcase_add_test (tc, test_cancelled_never_runs);
  suite_add_tcase (s, tc);
  SRunner *sr = srunner_create (s);
  srunner_run_all (sr, CK_NORMAL);
  int failed = srunner_ntests_failed (sr);
  srunner_free (sr);
  return failed == 0 ? 0 : 1;
}
