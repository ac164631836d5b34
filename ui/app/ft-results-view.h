/* ft-results-view.h — Compare Runs: the session's runs side by side under
 * the names the user gave them (renamed in place), finished runs only
 * unless "Include runs stopped early" is ticked (those are then marked
 * "stopped at 09:40 of 24:00"), each KPI with its difference from the
 * baseline run (absolute and %), coloured by the better direction, runs
 * unlike the baseline (scenario, city, length, currency) flagged; Use as
 * Baseline and Remove per run, Export CSV… through FtOutput. The rules
 * are ft-run.c's; this view only words and colours them.
 */
#pragma once

#include <gtk/gtk.h>
#include "ft-session.h"

G_BEGIN_DECLS

#define FT_TYPE_RESULTS_VIEW (ft_results_view_get_type ())
G_DECLARE_FINAL_TYPE (FtResultsView, ft_results_view, FT, RESULTS_VIEW, GtkWindow)

FtResultsView *ft_results_view_new       (GtkWindow *parent, FtSession *session);
/* The text of every label and run name, tab-separated (tests). */
char       *ft_results_view_dup_text      (FtResultsView *self);
/* As the check button: compare runs that stopped early too. */
void        ft_results_view_set_include_partial (FtResultsView *self, gboolean include);
/* Ids of the runs compared, in column order (borrowed until the next
 * rebuild), and the baseline among them (0: none). */
GArray     *ft_results_view_get_compared  (FtResultsView *self);
guint       ft_results_view_get_baseline  (FtResultsView *self);
/* The widgets of run id's column (tests drive them as a user would):
 * the name (a GtkEntry: Enter or leaving it renames), a KPI's difference label (its CSS class
 * "ft-better" when better, "ft-worse" when worse), and its buttons. NULL when
 * the run is not compared. */
GtkWidget  *ft_results_view_get_name_label (FtResultsView *self, guint id);
GtkWidget  *ft_results_view_get_diff_label (FtResultsView *self, guint id, const char *kpi);
GtkWidget  *ft_results_view_get_button     (FtResultsView *self, guint id, const char *which);   /* "baseline", "remove" */
/* The last message (an export, a refused name); "" for none. */
const char *ft_results_view_get_status     (FtResultsView *self);
/* Writes the comparison as shown (ft_run_write_csv). */
gboolean    ft_results_view_export_csv     (FtResultsView *self, const char *path, GError **error);

G_END_DECLS
