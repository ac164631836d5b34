/* ft-results-view.h — Compare Runs: the kept runs and the current one side
 * by side, headed by their scenario's name and how far each got (finished,
 * or partial, marked), every figure with its difference from the first
 * column, revenue compared only in one currency, and a Remove button per
 * kept run.
 */
#pragma once

#include <gtk/gtk.h>
#include "ft-session.h"

G_BEGIN_DECLS

GtkWidget  *ft_results_view_new      (GtkWindow *parent, FtSession *session);
/* The text of every cell, tab-separated (tests). */
char       *ft_results_view_dup_text (GtkWidget *view);
/* Removes kept run i (as its Remove button does) and redraws the table. */
void        ft_results_view_remove   (GtkWidget *view, guint i);

G_END_DECLS
