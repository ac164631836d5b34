/* ft-inspect-queue.h — what happens to a checked photo: every photo is
 * recorded in the core's store with its perceptual hash (so a photo reused
 * from an earlier trip is found), a photo that is not plainly ok enters the
 * staff review queue (photo path, regions, score, reason), and a dispatcher's
 * confirmation takes the vehicle out of service (MDS `maintenance`, state
 * non_operational) and opens a collect-for-repair task through src/ops, like
 * any other client with FT_PERM_DISPATCH. Needs a core with a store.
 */
#pragma once

#include "ft-core.h"
#include "ft-inspect.h"

G_BEGIN_DECLS

#define FT_INSPECT_QUEUE_ERROR (ft_inspect_queue_error_quark ())
GQuark ft_inspect_queue_error_quark (void);
typedef enum {
  FT_INSPECT_QUEUE_ERROR_NO_STORE,
  FT_INSPECT_QUEUE_ERROR_NO_SUCH_REVIEW,
  FT_INSPECT_QUEUE_ERROR_DECIDED,      /* the review was confirmed or dismissed already */
  FT_INSPECT_QUEUE_ERROR_INVALID,      /* unknown vehicle, bad argument */
  FT_INSPECT_QUEUE_ERROR_STORE,
} FtInspectQueueError;

/* Two photos whose 64-bit hashes are this close (bits) and whose 256-bit
 * hashes are within FT_INSPECT_REUSE_FINE are the same photo (measured by
 * tests/inspect/inspect-eval: a re-sent photo differs by at most 2 and 4
 * bits, a new photo of the same view by at least 18 of 256). */
#define FT_INSPECT_REUSE_DISTANCE 4
#define FT_INSPECT_REUSE_FINE     10

typedef enum {
  FT_REVIEW_OPEN = 0,
  FT_REVIEW_CONFIRMED,
  FT_REVIEW_DISMISSED,
} FtReviewState;

typedef struct {
  gint64            id;
  gint64            photo;      /* inspect_photos id */
  guint             vehicle;
  FtTime            t;
  FtInspectDecision decision;
  double            score;
  char             *reason;
  char             *regions;    /* JSON array of {x, y, w, h, kind, score} */
  char             *path;       /* the photo */
  FtReviewState     state;
  gint32            decided_by;
  gint64            task;       /* -1 */
} FtReview;
void ft_review_clear (FtReview *r);

/* Records a checked photo of `vehicle` taken at `now`. A photo whose hashes
 * are within the reuse distances of one recorded before turns the result
 * into review ("photo reused from …", in r->reason). A result other than ok
 * is queued; *review gets its id (or -1). Commits. */
gboolean ft_inspect_queue_submit (FtCore *core, guint vehicle, const char *photo_path,
                                  FtInspectResult *r, FtTime now, gint64 *review,
                                  GError **error);
/* A rider's damage report: photo_path checked against the vehicle's
 * reference_path with a default inspector, then submitted as above.
 * *decision is the decision's name ("ok", "review", "damaged"). */
gboolean ft_inspect_queue_check_files (FtCore *core, guint vehicle, const char *reference_path,
                                       const char *photo_path, FtTime now, gint64 *review,
                                       const char **decision, GError **error);
/* Reviews in a state (-1: all), oldest first, into out (FtReview, cleared
 * with ft_review_clear by the array). */
gboolean ft_inspect_queue_list   (FtCore *core, int state, GArray *out, GError **error);
/* Confirm (by: FT_PERM_DISPATCH): the vehicle goes out of service and a
 * collect_repair task opens; *task gets its id. Commits. */
gboolean ft_inspect_queue_confirm (FtCore *core, gint64 review, guint by, FtTime now,
                                   gint64 *task, GError **error);
/* Dismiss (by: FT_PERM_DISPATCH): no damage; the vehicle stays as it is. */
gboolean ft_inspect_queue_dismiss (FtCore *core, gint64 review, guint by, FtTime now,
                                   GError **error);
GArray  *ft_review_array_new     (void);

G_END_DECLS
