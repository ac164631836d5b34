/* ft-experiments-window.h — the Experiments page (issue 16, "In the app"):
 * a base scenario, variants made of scenario key overrides (keys from the
 * scenario key table), replications and days; Run writes the experiment
 * file the CLI reads and runs its cells with the sim experiment API on a
 * worker thread, with a progress bar; the results are each variant against
 * the control with t intervals (src/experiments), drawn with ft_chart_draw,
 * and with field designs each design's estimate, bias, sd and rmse against
 * the whole-fleet truth (ft_exp_report_field), charted and in words.
 */
#pragma once

#include <gtk/gtk.h>
#include "ft-window.h"

G_BEGIN_DECLS

#define FT_TYPE_EXPERIMENTS_WINDOW (ft_experiments_window_get_type ())
G_DECLARE_FINAL_TYPE (FtExperimentsWindow, ft_experiments_window, FT, EXPERIMENTS_WINDOW, GtkWindow)

FtExperimentsWindow *ft_experiments_window_new (FtWindow *parent);
/* What the controls set. */
void        ft_experiments_window_set_base         (FtExperimentsWindow *self, const char *path);
void        ft_experiments_window_set_replications (FtExperimentsWindow *self, guint n);
void        ft_experiments_window_set_days         (FtExperimentsWindow *self, double days);
/* Adds key = value ("group.key", checked against the scenario key table)
 * to variant name (created if new). FALSE with an error naming the key. */
gboolean    ft_experiments_window_add_override     (FtExperimentsWindow *self, const char *variant,
                                                    const char *key, const char *value, GError **error);
guint       ft_experiments_window_get_n_variants   (FtExperimentsWindow *self);   /* the control included */
/* The experiment file Run would write. */
char       *ft_experiments_window_dup_text         (FtExperimentsWindow *self);
/* Checks the experiment (refused with the reason in the status, naming
 * the variant and key) and runs its cells on a worker thread. */
gboolean    ft_experiments_window_run              (FtExperimentsWindow *self);
gboolean    ft_experiments_window_is_running       (FtExperimentsWindow *self);
/* As the Cancel button: stops after the cell under way; nothing is compared. */
void        ft_experiments_window_cancel           (FtExperimentsWindow *self);
double      ft_experiments_window_get_progress     (FtExperimentsWindow *self);
const char *ft_experiments_window_get_status       (FtExperimentsWindow *self);
/* Comparisons (variant x metric) of the last finished run. */
guint       ft_experiments_window_get_n_results    (FtExperimentsWindow *self);
/* The comparisons in words under the chart ("variant · metric: +2.0 %
 * (95 % t interval …), Holm p = …"), one a line. */
const char *ft_experiments_window_get_results_text (FtExperimentsWindow *self);

/* Field designs ("rider", "zone", "switchback"; as the check boxes) and
 * the switchback slice; with any ticked, Run also runs each design's
 * world per replication and treated variant. */
void        ft_experiments_window_set_field_design (FtExperimentsWindow *self, const char *design, gboolean on);
void        ft_experiments_window_set_slice_min    (FtExperimentsWindow *self, guint minutes);
/* The results database of the last run (NULL before one). */
const char *ft_experiments_window_get_results_path (FtExperimentsWindow *self);
/* The field table of the last finished run: rows (one per design x
 * treated variant x metric, as ft_exp_report_field) and the text of a
 * cell (columns: design — "design · variant" with several treated
 * variants —, metric, n, truth, estimate, estimate sd, bias, bias se,
 * rmse, verdict). */
guint       ft_experiments_window_get_n_field_rows (FtExperimentsWindow *self);
const char *ft_experiments_window_get_field_cell   (FtExperimentsWindow *self, guint row, guint col);
/* The metric the field chart and words show, and the words. */
gboolean    ft_experiments_window_set_field_metric (FtExperimentsWindow *self, const char *metric);
const char *ft_experiments_window_get_field_text   (FtExperimentsWindow *self);
/* The results page shown: "control" or "field". */
const char *ft_experiments_window_get_page         (FtExperimentsWindow *self);
void        ft_experiments_window_set_page         (FtExperimentsWindow *self, const char *page);

G_END_DECLS
