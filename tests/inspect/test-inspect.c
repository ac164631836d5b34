/* test-inspect.c — damage checks (src/inspect): input limits read from the
 * header (corrupt, empty, huge, not an image), the quality gate, alignment
 * failing on a photo of something else, ok on an undamaged rider's photo
 * and damaged on synthetic damage, the perceptual hash, and the stored
 * review queue: reuse caught, confirmation by a dispatcher only, the vehicle
 * out of service and a repair task, surviving a reopen.
 * The photos are read from the shared data (never copied into the tree).
 */
#include "ft-config.h"
#include "ft-inspect.h"
#include "ft-inspect-queue.h"
#include "ft-test.h"

#include <check.h>
#include <sqlite3.h>
#include <string.h>

static FtInspectImage *
photo (const char *name)
{
  g_autofree char *rel = g_strdup_printf ("photos/%s", name);
  g_autofree char *path = ft_test_shared_path (rel);
  GError *error = NULL;
  FtInspectImage *img = ft_inspect_image_load (path, &error);
  if (img == NULL)
    ck_abort_msg ("%s: %s", path, error->message);
  return img;
}

static FtInspectImage *
decode_error (const guint8 *data, gsize len, int code, const char *needle)
{
  GError *error = NULL;
  FtInspectImage *img = ft_inspect_image_decode (data, len, "upload.jpg", &error);
  ck_assert_ptr_null (img);
  ck_assert_ptr_nonnull (error);
  ck_assert_int_eq (error->code, code);
  ck_assert_msg (strstr (error->message, needle) != NULL, "'%s' lacks '%s'", error->message, needle);
  ck_assert_msg (strstr (error->message, "upload.jpg") != NULL, "'%s' names no file", error->message);
  g_error_free (error);
  return img;
}

START_TEST (test_bad_input)
{
  static const guint8 text[] = "this is not an image at all";
  decode_error (text, sizeof text, FT_INSPECT_ERROR_FORMAT, "not a JPEG or PNG");
  decode_error (text, 0, FT_INSPECT_ERROR_FORMAT, "not a JPEG or PNG");
  /* a PNG header claiming 100000 x 100000 pixels: refused before decoding */
  guint8 png[33] = { 0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n', 0, 0, 0, 13, 'I', 'H', 'D', 'R',
                     0, 1, 0x86, 0xa0, 0, 1, 0x86, 0xa0, 8, 2, 0, 0, 0 };
  decode_error (png, sizeof png, FT_INSPECT_ERROR_TOO_LARGE, "100000x100000");
  /* 9000 x 9000 is under the side limit but over the pixel limit */
  png[16] = 0; png[17] = 0; png[18] = 0x23; png[19] = 0x28;
  png[20] = 0; png[21] = 0; png[22] = 0x23; png[23] = 0x28;
  decode_error (png, sizeof png, FT_INSPECT_ERROR_TOO_LARGE, "9000x9000");
  /* a JPEG frame header of 60000 x 60000 */
  static const guint8 jpg[] = { 0xFF, 0xD8, 0xFF, 0xC0, 0, 17, 8, 0xEA, 0x60, 0xEA, 0x60, 3,
                                1, 0x22, 0, 2, 0x11, 1, 3, 0x11, 1, 0xFF, 0xD9 };
  decode_error (jpg, sizeof jpg, FT_INSPECT_ERROR_TOO_LARGE, "60000x60000");
  /* a JPEG that is only its start marker */
  static const guint8 soi[] = { 0xFF, 0xD8, 0xFF, 0xD9 };
  decode_error (soi, sizeof soi, FT_INSPECT_ERROR_FORMAT, "frame header");

  /* a real photo cut short or with its data scrambled: an error or an
   * image, never a crash */
  g_autofree char *path = ft_test_shared_path ("photos/escooter_18.jpg");
  g_autofree char *data = NULL;
  gsize len = 0;
  ck_assert (g_file_get_contents (path, &data, &len, NULL));
  for (gsize cut = 2; cut < len; cut = cut * 3 + 1)
    {
      GError *error = NULL;
      FtInspectImage *img = ft_inspect_image_decode ((const guint8 *) data, cut, "cut.jpg", &error);
      ck_assert ((img == NULL) == (error != NULL));
      ft_inspect_image_free (img);
      g_clear_error (&error);
    }
  GRand *rand = g_rand_new_with_seed (7);
  for (int k = 0; k < 4; k++)
    {
      g_autofree char *bad = g_memdup2 (data, len);
      for (gsize i = 600; i < len; i += 97)
        bad[i] = (char) g_rand_int (rand);
      GError *error = NULL;
      FtInspectImage *img = ft_inspect_image_decode ((const guint8 *) bad, len, "bad.jpg", &error);
      ck_assert ((img == NULL) == (error != NULL));
      ft_inspect_image_free (img);
      g_clear_error (&error);
    }
  g_rand_free (rand);

  /* a missing file and a folder */
  GError *error = NULL;
  ck_assert_ptr_null (ft_inspect_image_load ("/nonexistent/photo.jpg", &error));
  ck_assert_ptr_nonnull (error);
  g_clear_error (&error);
  ck_assert_ptr_null (ft_inspect_image_load ("/tmp", &error));
  ck_assert_ptr_nonnull (error);
  g_clear_error (&error);
}
END_TEST

START_TEST (test_quality_gate)
{
  g_autoptr(FtInspectImage) ref = photo ("escooter_18.jpg");
  g_autoptr(FtInspector) insp = ft_inspector_new (NULL);
  FtInspectResult r;
  GError *error = NULL;

  g_autoptr(FtInspectImage) blurred = ft_inspect_image_blur (ref, 8.0);
  ck_assert (ft_inspect_check (insp, ref, blurred, &r, &error));
  ck_assert_int_eq (r.decision, FT_INSPECT_REVIEW);
  ck_assert (!r.quality_ok);
  ck_assert_msg (strstr (r.reason, "blurred") != NULL, "%s", r.reason);

  g_autoptr(FtInspectImage) dark = ft_inspect_image_gain (ref, 0.12, 0);
  ck_assert (ft_inspect_check (insp, ref, dark, &r, &error));
  ck_assert_int_eq (r.decision, FT_INSPECT_REVIEW);
  ck_assert_msg (strstr (r.reason, "dark") != NULL, "%s", r.reason);

  g_autoptr(FtInspectImage) white = ft_inspect_image_gain (ref, 1.0, 200);
  ck_assert (ft_inspect_check (insp, ref, white, &r, &error));
  ck_assert_int_eq (r.decision, FT_INSPECT_REVIEW);
  ck_assert_msg (strstr (r.reason, "overexposed") != NULL, "%s", r.reason);

  /* a uniform grey frame: no detail at all */
  g_autoptr(FtInspectImage) grey = ft_inspect_image_new_filled (640, 480, 128, 128, 128);
  ck_assert (ft_inspect_check (insp, ref, grey, &r, &error));
  ck_assert_int_eq (r.decision, FT_INSPECT_REVIEW);
  ck_assert (!r.quality_ok);

  /* the sharp photo passes the gate */
  g_autoptr(FtInspectImage) rider = ft_inspect_synth_variation (ref, 1, 0.02, &error);
  ck_assert (ft_inspect_check (insp, ref, rider, &r, &error));
  ck_assert_msg (r.quality_ok, "%s", r.reason);
  if (ft_inspector_has_brisque (insp))
    ck_assert (r.brisque >= 0 && r.brisque <= 100);
}
END_TEST

START_TEST (test_undamaged_and_damaged)
{
  static const char *names[] = { "escooter_18.jpg", "escooter_21.jpg", "escooter_24.jpg" };
  g_autoptr(FtInspector) insp = ft_inspector_new (NULL);
  for (guint i = 0; i < G_N_ELEMENTS (names); i++)
    {
      g_autoptr(FtInspectImage) ref = photo (names[i]);
      GError *error = NULL;
      FtInspectResult r;
      g_autoptr(FtInspectImage) rider = ft_inspect_synth_variation (ref, 10 + i, 0.02, &error);
      ck_assert (ft_inspect_check (insp, ref, rider, &r, &error));
      ck_assert_msg (r.decision == FT_INSPECT_OK, "%s undamaged: %s score %.2f (%s)", names[i],
                     ft_inspect_decision_name (r.decision), r.score, r.reason);
      ck_assert (r.aligned && r.inliers >= 25);

      int box[4];
      g_autoptr(FtInspectImage) fallen = ft_inspect_synth_damage (ref, FT_DAMAGE_KNOCKED_OVER, 3 + i, box, &error);
      g_autoptr(FtInspectImage) rider2 = ft_inspect_synth_variation (fallen, 20 + i, 0.02, &error);
      ck_assert (ft_inspect_check (insp, ref, rider2, &r, &error));
      ck_assert_msg (r.decision == FT_INSPECT_DAMAGED, "%s knocked over: %s score %.2f (%s)", names[i],
                     ft_inspect_decision_name (r.decision), r.score, r.reason);
      ck_assert_uint_ge (r.n_regions, 1);
      /* the largest region overlaps the damage's box */
      const FtInspectRegion *g = &r.regions[0];
      ck_assert_msg (g->x < box[0] + box[2] && box[0] < g->x + g->w &&
                     g->y < box[1] + box[3] && box[1] < g->y + g->h,
                     "region %d,%d %dx%d misses box %d,%d %dx%d", g->x, g->y, g->w, g->h,
                     box[0], box[1], box[2], box[3]);
      g_autofree char *json = ft_inspect_result_to_json (&r);
      ck_assert (strstr (json, "\"decision\":\"damaged\"") != NULL);
    }
}
END_TEST

START_TEST (test_something_else)
{
  /* a photo of another place: no alignment, review with the reason */
  g_autoptr(FtInspectImage) ref = photo ("escooter_18.jpg");
  g_autoptr(FtInspectImage) other = photo ("escooter_25.jpg");
  g_autoptr(FtInspector) insp = ft_inspector_new (NULL);
  FtInspectResult r;
  GError *error = NULL;
  ck_assert (ft_inspect_check (insp, ref, other, &r, &error));
  ck_assert_int_eq (r.decision, FT_INSPECT_REVIEW);
  ck_assert (!r.aligned);
  ck_assert_msg (strstr (r.reason, "alignment failed") != NULL, "%s", r.reason);
}
END_TEST

START_TEST (test_phash)
{
  g_autoptr(FtInspectImage) a = photo ("escooter_18.jpg");
  g_autoptr(FtInspectImage) b = photo ("escooter_24.jpg");
  GError *error = NULL;
  /* the same photo sent again, re-encoded at a lower quality */
  g_autoptr(GBytes) jpg = ft_inspect_image_encode (a, 60, &error);
  gsize len;
  const guint8 *data = g_bytes_get_data (jpg, &len);
  g_autoptr(FtInspectImage) again = ft_inspect_image_decode (data, len, "again.jpg", &error);
  ck_assert_ptr_nonnull (again);
  guint64 ha = ft_inspect_image_phash (a);
  ck_assert_uint_le (ft_inspect_hash_distance (ha, ft_inspect_image_phash (again)), 2);
  ck_assert_uint_gt (ft_inspect_hash_distance (ha, ft_inspect_image_phash (b)), 16);
  ck_assert_uint_eq (ft_inspect_hash_distance (0, ~G_GUINT64_CONSTANT (0)), 64);
}
END_TEST

typedef struct {
  char   *dir, *db;
  FtCore *core;
  gint    rider, disp, field;
  guint   v;
} QueueFx;

static void
queue_open (QueueFx *f)
{
  FtCoreConfig cfg;
  ft_core_config_init (&cfg);
  f->core = ft_core_new (&cfg, NULL, NULL);
  GError *error = NULL;
  ck_assert_msg (ft_core_attach_store (f->core, f->db, NULL, &error), "%s", error ? error->message : "");
}

static void
queue_close (QueueFx *f)
{
  ck_assert (ft_core_detach_store (f->core, NULL));
  ft_core_free (f->core);
  f->core = NULL;
}

START_TEST (test_queue)
{
  QueueFx f = { 0 };
  f.dir = g_dir_make_tmp ("ft-inspect-XXXXXX", NULL);
  f.db = g_build_filename (f.dir, "q.db", NULL);
  queue_open (&f);
  FtLatLon p = { 52.5, 13.4 };
  f.v = ft_fleet_add_vehicle (f.core->fleet, FT_KIND_SCOOTER, p, NULL, 0);
  f.rider = ft_accounts_create (f.core->accounts, FT_ROLE_RIDER, "R", NULL, 0, NULL);
  f.field = ft_accounts_create (f.core->accounts, FT_ROLE_FIELD, "F", NULL, 0, NULL);
  f.disp = ft_accounts_create (f.core->accounts, FT_ROLE_DISPATCHER, "D", NULL, 0, NULL);
  ck_assert (ft_core_commit (f.core, NULL));

  g_autoptr(FtInspectImage) ref = photo ("escooter_21.jpg");
  g_autoptr(FtInspector) insp = ft_inspector_new (NULL);
  GError *error = NULL;
  int box[4];
  g_autoptr(FtInspectImage) fallen = ft_inspect_synth_damage (ref, FT_DAMAGE_KNOCKED_OVER, 5, box, &error);
  g_autoptr(FtInspectImage) rider = ft_inspect_synth_variation (fallen, 6, 0.02, &error);
  FtInspectResult r;
  ck_assert (ft_inspect_check (insp, ref, rider, &r, &error));
  ck_assert_int_eq (r.decision, FT_INSPECT_DAMAGED);
  gint64 review = -1;
  ck_assert_msg (ft_inspect_queue_submit (f.core, f.v, "/photos/trip-1.jpg", &r, 1000, &review, &error),
                 "%s", error ? error->message : "");
  ck_assert_int_ge (review, 1);

  /* the same photo for a later trip: reused, queued for review */
  FtInspectResult r2 = r;
  r2.decision = FT_INSPECT_OK;
  r2.reason[0] = '\0';
  gint64 review2 = -1;
  ck_assert (ft_inspect_queue_submit (f.core, f.v, "/photos/trip-2.jpg", &r2, 5000, &review2, &error));
  ck_assert_int_eq (r2.decision, FT_INSPECT_REVIEW);
  ck_assert_msg (strstr (r2.reason, "photo reused") != NULL, "%s", r2.reason);
  ck_assert_int_gt (review2, review);

  /* a new photo of the same view is not a reused one, though its 64-bit
   * hash is as close as a re-sent photo's: the 256-bit hash tells them
   * apart (find such a pair of riders' photos first) */
  g_autoptr(FtInspectImage) first = ft_inspect_synth_variation (ref, 7, 0.02, &error);
  guint64 h1 = ft_inspect_image_phash (first);
  FtInspectImage *close = NULL;
  for (guint64 seed = 8; seed < 60 && close == NULL; seed++)
    {
      FtInspectImage *c = ft_inspect_synth_variation (ref, seed, 0.02, &error);
      if (ft_inspect_hash_distance (h1, ft_inspect_image_phash (c)) <= FT_INSPECT_REUSE_DISTANCE)
        close = c;
      else
        ft_inspect_image_free (c);
    }
  ck_assert_msg (close != NULL, "no new photo with a close 64-bit hash among 52");
  FtInspectResult r3, r4;
  ck_assert (ft_inspect_check (insp, ref, first, &r3, &error));
  ck_assert (ft_inspect_check (insp, ref, close, &r4, &error));
  ck_assert_int_eq (r3.decision, FT_INSPECT_OK);
  ck_assert_int_eq (r4.decision, FT_INSPECT_OK);
  gint64 review3 = -1;
  ck_assert (ft_inspect_queue_submit (f.core, f.v, "/photos/trip-3.jpg", &r3, 6000, &review3, &error));
  ck_assert (ft_inspect_queue_submit (f.core, f.v, "/photos/trip-4.jpg", &r4, 6500, &review3, &error));
  ck_assert_msg (strstr (r4.reason, "reused") == NULL, "%s", r4.reason);
  ck_assert_int_eq (r4.decision, FT_INSPECT_OK);
  ck_assert_int_eq (review3, -1);
  ft_inspect_image_free (close);

  /* an unknown vehicle changes nothing */
  ck_assert (!ft_inspect_queue_submit (f.core, 99, "/x.jpg", &r, 6000, NULL, &error));
  ck_assert_int_eq (error->code, FT_INSPECT_QUEUE_ERROR_INVALID);
  g_clear_error (&error);

  g_autoptr(GArray) rows = ft_review_array_new ();
  ck_assert (ft_inspect_queue_list (f.core, FT_REVIEW_OPEN, rows, &error));
  ck_assert_uint_eq (rows->len, 2);
  const FtReview *q = &g_array_index (rows, FtReview, 0);
  ck_assert_str_eq (q->path, "/photos/trip-1.jpg");
  ck_assert (strstr (q->regions, "\"kind\"") != NULL);

  /* a rider and field staff may not confirm; nothing changes */
  gint64 task = -1;
  ck_assert (!ft_inspect_queue_confirm (f.core, review, (guint) f.rider, 7000, &task, &error));
  g_clear_error (&error);
  ck_assert (!ft_inspect_queue_confirm (f.core, review, (guint) f.field, 7000, &task, &error));
  g_clear_error (&error);
  ck_assert_int_eq (ft_fleet_get_vehicle (f.core->fleet, f.v)->state, FT_STATE_AVAILABLE);
  ck_assert_uint_eq (ft_ops_n (f.core->ops), 0);
  ck_assert (!ft_inspect_queue_confirm (f.core, 12345, (guint) f.disp, 7000, &task, &error));
  ck_assert_int_eq (error->code, FT_INSPECT_QUEUE_ERROR_NO_SUCH_REVIEW);
  g_clear_error (&error);

  /* the dispatcher confirms: out of service, a repair task */
  ck_assert_msg (ft_inspect_queue_confirm (f.core, review, (guint) f.disp, 8000, &task, &error),
                 "%s", error ? error->message : "");
  ck_assert_int_eq (ft_fleet_get_vehicle (f.core->fleet, f.v)->state, FT_STATE_NON_OPERATIONAL);
  const FtTask *t = ft_ops_get (f.core->ops, task);
  ck_assert_ptr_nonnull (t);
  ck_assert_int_eq (t->kind, FT_TASK_COLLECT_REPAIR);
  ck_assert_int_eq (t->vehicle, (gint32) f.v);
  ck_assert (ft_core_check (f.core, NULL));
  gint64 task2 = 0;
  ck_assert (!ft_inspect_queue_confirm (f.core, review, (guint) f.disp, 9000, &task2, &error));
  ck_assert_int_eq (error->code, FT_INSPECT_QUEUE_ERROR_DECIDED);
  ck_assert_int_eq (task2, -1);
  g_clear_error (&error);
  ck_assert (ft_inspect_queue_dismiss (f.core, review2, (guint) f.disp, 9000, &error));

  /* all of it survives a reopen */
  queue_close (&f);
  queue_open (&f);
  ck_assert_int_eq (ft_fleet_get_vehicle (f.core->fleet, f.v)->state, FT_STATE_NON_OPERATIONAL);
  ck_assert_int_eq (ft_ops_open_for (f.core->ops, f.v, FT_TASK_COLLECT_REPAIR), task);
  ck_assert (ft_inspect_queue_list (f.core, -1, rows, &error));
  ck_assert_uint_eq (rows->len, 2);
  ck_assert_int_eq (g_array_index (rows, FtReview, 0).state, FT_REVIEW_CONFIRMED);
  ck_assert_int_eq (g_array_index (rows, FtReview, 0).task, task);
  ck_assert_int_eq (g_array_index (rows, FtReview, 1).state, FT_REVIEW_DISMISSED);
  ck_assert (ft_inspect_queue_list (f.core, FT_REVIEW_OPEN, rows, &error));
  ck_assert_uint_eq (rows->len, 0);
  queue_close (&f);

  /* without a store: a clear error */
  FtCoreConfig cfg;
  ft_core_config_init (&cfg);
  FtCore *bare = ft_core_new (&cfg, NULL, NULL);
  ck_assert (!ft_inspect_queue_submit (bare, 0, "/x.jpg", &r, 0, NULL, &error));
  ck_assert_int_eq (error->code, FT_INSPECT_QUEUE_ERROR_NO_STORE);
  g_clear_error (&error);
  ft_core_free (bare);
  ft_test_rm_rf (f.dir);
  g_free (f.dir);
  g_free (f.db);
}
END_TEST

static int
review_state_in_file (FtCore *core, gint64 review)
{
  sqlite3 *db = ft_store_get_db (core->store);
  sqlite3_stmt *q = NULL;
  ck_assert_int_eq (sqlite3_prepare_v2 (db, "SELECT state FROM inspect_reviews WHERE id = ?", -1, &q,
                                        NULL), SQLITE_OK);
  sqlite3_bind_int64 (q, 1, review);
  ck_assert_int_eq (sqlite3_step (q), SQLITE_ROW);
  int state = sqlite3_column_int (q, 0);
  sqlite3_finalize (q);
  return state;
}

/* A confirmation whose commit fails leaves the review open in the file,
 * and a retry completes it: the decision, the vehicle's state and the task
 * are one transaction (before, the decision was written on its own first,
 * so a failed commit left a confirmed review without its task). */
START_TEST (test_queue_confirm_atomic)
{
  QueueFx f = { 0 };
  f.dir = g_dir_make_tmp ("ft-inspect-XXXXXX", NULL);
  f.db = g_build_filename (f.dir, "q.db", NULL);
  queue_open (&f);
  FtLatLon p = { 52.5, 13.4 };
  f.v = ft_fleet_add_vehicle (f.core->fleet, FT_KIND_SCOOTER, p, NULL, 0);
  f.disp = ft_accounts_create (f.core->accounts, FT_ROLE_DISPATCHER, "D", NULL, 0, NULL);
  ck_assert (ft_core_commit (f.core, NULL));

  FtInspectResult r = { 0 };
  r.decision = FT_INSPECT_DAMAGED;
  r.score = 20;
  GError *error = NULL;
  gint64 review = -1;
  ck_assert_msg (ft_inspect_queue_submit (f.core, f.v, "/photos/a.jpg", &r, 1000, &review, &error),
                 "%s", error ? error->message : "");

  /* the file refuses the task row */
  sqlite3 *db = ft_store_get_db (f.core->store);
  ck_assert_int_eq (sqlite3_exec (db, "CREATE TEMP TRIGGER no_tasks BEFORE INSERT ON main.tasks "
                                      "BEGIN SELECT RAISE(ABORT, 'disk full'); END;", NULL, NULL, NULL),
                    SQLITE_OK);
  gint64 task = -1;
  ck_assert (!ft_inspect_queue_confirm (f.core, review, (guint) f.disp, 2000, &task, &error));
  ck_assert_msg (strstr (error->message, "disk full") != NULL, "%s", error->message);
  g_clear_error (&error);
  ck_assert_int_eq (task, -1);
  ck_assert_int_eq (review_state_in_file (f.core, review), FT_REVIEW_OPEN);

  /* once the file takes it, the same confirmation goes through */
  ck_assert_int_eq (sqlite3_exec (db, "DROP TRIGGER temp.no_tasks", NULL, NULL, NULL), SQLITE_OK);
  ck_assert_msg (ft_inspect_queue_confirm (f.core, review, (guint) f.disp, 3000, &task, &error),
                 "%s", error ? error->message : "");
  ck_assert_int_ge (task, 0);
  ck_assert_int_eq (review_state_in_file (f.core, review), FT_REVIEW_CONFIRMED);
  queue_close (&f);
  queue_open (&f);
  ck_assert_int_eq (ft_fleet_get_vehicle (f.core->fleet, f.v)->state, FT_STATE_NON_OPERATIONAL);
  ck_assert_int_eq (ft_ops_open_for (f.core->ops, f.v, FT_TASK_COLLECT_REPAIR), task);
  queue_close (&f);
  ft_test_rm_rf (f.dir);
  g_free (f.dir);
  g_free (f.db);
}
END_TEST

int
main (void)
{
  /* OpenCV's worker pool would still be alive when LeakSanitizer stops
     every thread at a forked test's exit, and under load its tracer
     crashed there (a clean-clone run): the tests inspect on one thread. */
  ft_inspect_set_threads (0);
  Suite *s = suite_create ("inspect");
  TCase *tc = tcase_create ("input");
  tcase_add_test (tc, test_bad_input);
  suite_add_tcase (s, tc);
  tc = tcase_create ("gate");
  tcase_add_test (tc, test_quality_gate);
  suite_add_tcase (s, tc);
  tc = tcase_create ("decision");
  tcase_set_timeout (tc, 120);
  tcase_add_test (tc, test_undamaged_and_damaged);
  tcase_add_test (tc, test_something_else);
  suite_add_tcase (s, tc);
  tc = tcase_create ("phash");
  tcase_add_test (tc, test_phash);
  suite_add_tcase (s, tc);
  tc = tcase_create ("queue");
  tcase_set_timeout (tc, 120);
  tcase_add_test (tc, test_queue);
  tcase_add_test (tc, test_queue_confirm_atomic);
  suite_add_tcase (s, tc);
  SRunner *sr = srunner_create (s);
  srunner_run_all (sr, CK_NORMAL);
  int failed = srunner_ntests_failed (sr);
  srunner_free (sr);
  return failed == 0 ? 0 : 1;
}
