/* ft-review-window.h — the staff review queue (issue 17): riders' damage
 * photos that src/inspect did not find plainly ok, each with its candidate
 * regions drawn over the photo, the score and the reason; Confirm Damage
 * (the vehicle goes out of service and a repair task opens, through
 * ft_inspect_queue_confirm) or Dismiss. Below, the assistant's open staff
 * hand-offs (ft_assist_list_handoffs), which a dispatcher closes.
 */
#pragma once

#include <gtk/gtk.h>
#include "ft-window.h"

G_BEGIN_DECLS

#define FT_TYPE_REVIEW_WINDOW (ft_review_window_get_type ())
G_DECLARE_FINAL_TYPE (FtReviewWindow, ft_review_window, FT, REVIEW_WINDOW, GtkWindow)

/* The queue of parent's simulated run, read at once. */
FtReviewWindow *ft_review_window_new      (FtWindow *parent);
/* Reads the queue and the hand-offs again (a job on the twin thread). */
void            ft_review_window_refresh  (FtReviewWindow *self);
guint           ft_review_window_get_n_reviews  (FtReviewWindow *self);   /* open ones */
guint           ft_review_window_get_n_handoffs (FtReviewWindow *self);   /* open ones */
/* Shows open review i (0 = oldest); FALSE when there is no such review. */
gboolean        ft_review_window_select   (FtReviewWindow *self, guint i);
/* The review shown: its id (-1 none) and its regions drawn on the photo. */
gint64          ft_review_window_get_selected (FtReviewWindow *self);
guint           ft_review_window_get_n_regions (FtReviewWindow *self);
/* The status line (what the last action did, or why it failed). */
const char     *ft_review_window_get_status (FtReviewWindow *self);

G_END_DECLS
