/* ft-experiments-window.c — the Experiments page. The window holds the
 * experiment as the controls set it and writes it in the experiment file
 * format (sim/ft-sim-experiment.h), so the file's own checks refuse a bad
 * variant; its cells run one after another on a worker thread (each builds
 * its own world, independent of the session's), and the comparison is
 * src/experiments' report, drawn with the analytics chart.
 */
#include "ft-experiments-window.h"

#include "ft-sim-experiment.h"
#include "ft-exp-report.h"
#include "ft-chart.h"

#include <glib/gstdio.h>
#include <math.h>
#include <string.h>

#define METRICS "trips_requested, trips_served, service_level, revenue_minor, staff_hours"

typedef struct {
  char    *name;
  GString *lines;    /* "group.key=value\n" */
} Variant;

static void
variant_free (gpointer p)
{
  Variant *v = p;
  g_free (v->name);
  g_string_free (v->lines, TRUE);
  g_free (v);
}

typedef struct {
  FtSimExperiment *e;
  FtExpResults    *r;
  guint            n_cells;
  gint             done;     /* atomic */
} RunData;

static void
run_data_free (gpointer p)
{
  RunData *d = p;
  ft_sim_experiment_free (d->e);
  g_clear_pointer (&d->r, ft_exp_results_close);
  g_free (d);
}

struct _FtExperimentsWindow {
  GtkWindow     parent_instance;

  GtkWidget    *base_entry;
  GtkWidget    *reps_spin;
  GtkWidget    *days_spin;
  GtkWidget    *variant_entry;
  GtkWidget    *key_dropdown;
  GtkWidget    *value_entry;
  GtkWidget    *variants_label;
  GtkWidget    *run_button;
  GtkWidget    *cancel_button;
  GtkWidget    *progress;
  GtkWidget    *status_label;
  GtkWidget    *chart_area;
  GtkWidget    *results_label;  /* each comparison in words, under the chart */

  GPtrArray    *variants;    /* Variant*, [0] the control */
  GtkStringList *keys;
  char         *tmp_dir;
  guint         run_no;
  GCancellable *cancellable;
  RunData      *running;     /* borrowed from the task while it runs */
  guint         poll_id;
  gboolean      disposed;
  char         *status;

  /* the last results, for the chart */
  GPtrArray    *metrics;     /* char* */
  GPtrArray    *names;       /* char*, treatment variants */
  GArray       *values;      /* double, [variant][triple][metric] */
  guint         n_results;
};

G_DEFINE_FINAL_TYPE (FtExperimentsWindow, ft_experiments_window, GTK_TYPE_WINDOW)

static void
set_status (FtExperimentsWindow *self, const char *text, gboolean is_error)
{
  g_free (self->status);
  self->status = g_strdup (text);
  if (self->disposed)
    return;
  gtk_label_set_text (GTK_LABEL (self->status_label), text);
  if (is_error)
    gtk_widget_add_css_class (self->status_label, "error");
  else
    gtk_widget_remove_css_class (self->status_label, "error");
}

static void
show_variants (FtExperimentsWindow *self)
{
  GString *s = g_string_new ("");
  for (guint i = 0; i < self->variants->len; i++)
    {
      Variant *v = g_ptr_array_index (self->variants, i);
      g_autofree char *lines = g_strstrip (g_strdelimit (g_strdup (v->lines->str), "\n", ' '));
      g_string_append_printf (s, "%s%s: %s", i ? "\n" : "", v->name, *lines ? lines : "the base scenario as it is");
    }
  gtk_label_set_text (GTK_LABEL (self->variants_label), s->str);
  g_string_free (s, TRUE);
}

/* ---- the chart ---- */

static void
draw_chart (GtkDrawingArea *area, cairo_t *cr, int width, int height, gpointer user_data)
{
  FtExperimentsWindow *self = user_data;
  guint nm = self->metrics ? self->metrics->len : 0, nv = self->names ? self->names->len : 0;
  g_autofree FtChartSeries *series = g_new0 (FtChartSeries, MAX (1, 3 * nv));
  g_autofree char **labels = g_new0 (char *, 3 * nv + 1);
  for (guint v = 0; v < nv; v++)
    for (guint k = 0; k < 3; k++)
      {
        series[3 * v + k].name = k == 0 ? g_ptr_array_index (self->names, v) : "";
        series[3 * v + k].values = &g_array_index (self->values, double, (3 * v + k) * nm);
        ft_chart_palette (v + 1, series[3 * v + k].rgb);
      }
  FtChart chart = {
    .title = "Change against the control (mean and 95 % t interval over replications)",
    .x_label = "metric",
    .y_label = "change vs control",
    .categories = self->metrics ? (const char *const *) self->metrics->pdata : NULL,
    .n = nv ? nm : 0,
    .series = series,
    .n_series = 3 * nv,
    .style = FT_CHART_INTERVALS,
    .y_percent = TRUE,
    .note = nv ? "An interval that crosses zero: no difference shown at this number of replications." : NULL,
  };
  ft_chart_draw (cr, width, height, &chart);
}

static void
take_results (FtExperimentsWindow *self, FtExpResults *r, GPtrArray *cmp)
{
  g_clear_pointer (&self->metrics, g_ptr_array_unref);
  g_clear_pointer (&self->names, g_ptr_array_unref);
  g_clear_pointer (&self->values, g_array_unref);
  self->metrics = g_ptr_array_new_with_free_func (g_free);
  self->names = g_ptr_array_new_with_free_func (g_free);
  for (guint i = 0; i < cmp->len; i++)
    {
      const FtExpComparison *c = g_ptr_array_index (cmp, i);
      gboolean have_m = FALSE, have_v = FALSE;
      for (guint k = 0; k < self->metrics->len; k++)
        have_m |= g_str_equal (g_ptr_array_index (self->metrics, k), c->metric);
      for (guint k = 0; k < self->names->len; k++)
        have_v |= g_str_equal (g_ptr_array_index (self->names, k), c->variant);
      if (!have_m)
        g_ptr_array_add (self->metrics, g_strdup (c->metric));
      if (!have_v)
        g_ptr_array_add (self->names, g_strdup (c->variant));
    }
  guint nm = self->metrics->len, nv = self->names->len;
  self->values = g_array_sized_new (FALSE, FALSE, sizeof (double), 3 * nv * nm);
  g_array_set_size (self->values, 3 * nv * nm);
  for (guint i = 0; i < self->values->len; i++)
    g_array_index (self->values, double, i) = NAN;
  for (guint i = 0; i < cmp->len; i++)
    {
      const FtExpComparison *c = g_ptr_array_index (cmp, i);
      guint v = 0, m = 0;
      while (!g_str_equal (g_ptr_array_index (self->names, v), c->variant))
        v++;
      while (!g_str_equal (g_ptr_array_index (self->metrics, m), c->metric))
        m++;
      double base = c->st.control_mean;
      if (base == 0 || !isfinite (base))
        continue;
      g_array_index (self->values, double, (3 * v + 0) * nm + m) = c->st.mean / fabs (base);
      g_array_index (self->values, double, (3 * v + 1) * nm + m) = c->st.t_lo / fabs (base);
      g_array_index (self->values, double, (3 * v + 2) * nm + m) = c->st.t_hi / fabs (base);
    }
  self->n_results = cmp->len;
  GString *text = g_string_new (NULL);
  for (guint i = 0; i < cmp->len; i++)
    {
      const FtExpComparison *c = g_ptr_array_index (cmp, i);
      double base = c->st.control_mean;
      g_string_append_printf (text, "%s%s · %s: ", i ? "\n" : "", c->variant, c->metric);
      if (base == 0 || !isfinite (base) || !isfinite (c->st.mean))
        g_string_append_printf (text, "not drawn (the control's mean is %g)", base);
      else
        g_string_append_printf (text, "%+.1f %% (95 %% t interval %+.1f %% to %+.1f %%), Holm p = %.3g%s",
                                c->st.mean / fabs (base) * 100, c->st.t_lo / fabs (base) * 100,
                                c->st.t_hi / fabs (base) * 100, c->p_holm,
                                c->st.t_lo > 0 || c->st.t_hi < 0 ? " · a difference" : "");
    }
  gtk_label_set_text (GTK_LABEL (self->results_label), text->str);
  g_string_free (text, TRUE);
  gtk_widget_queue_draw (self->chart_area);
}

/* ---- running ---- */

static void
run_thread (GTask *task, gpointer source, gpointer task_data, GCancellable *cancellable)
{
  RunData *d = task_data;
  for (guint c = 0; c < d->n_cells; c++)
    {
      g_autoptr(GError) error = NULL;
      if (g_task_return_error_if_cancelled (task))
        return;
      if (!ft_sim_experiment_run_cell (d->e, c, d->r, &error))
        {
          g_task_return_error (task, g_steal_pointer (&error));
          return;
        }
      g_atomic_int_inc (&d->done);
    }
  g_task_return_boolean (task, TRUE);
}

static gboolean
poll_progress (gpointer user_data)
{
  FtExperimentsWindow *self = user_data;
  if (self->running && self->running->n_cells)
    {
      guint done = (guint) g_atomic_int_get (&self->running->done);
      g_autofree char *txt = g_strdup_printf ("%u of %u cells", done, self->running->n_cells);
      gtk_progress_bar_set_fraction (GTK_PROGRESS_BAR (self->progress), (double) done / self->running->n_cells);
      gtk_progress_bar_set_text (GTK_PROGRESS_BAR (self->progress), txt);
    }
  return G_SOURCE_CONTINUE;
}

static void
on_run_done (GObject *source, GAsyncResult *result, gpointer user_data)
{
  FtExperimentsWindow *self = FT_EXPERIMENTS_WINDOW (source);
  RunData *d = g_task_get_task_data (G_TASK (result));
  g_autoptr(GError) error = NULL;
  gboolean ok = g_task_propagate_boolean (G_TASK (result), &error);

  self->running = NULL;
  g_clear_handle_id (&self->poll_id, g_source_remove);
  if (self->disposed)
    return;
  gtk_widget_set_sensitive (self->run_button, TRUE);
  gtk_widget_set_sensitive (self->cancel_button, FALSE);
  if (!ok && g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    {
      guint done = (guint) g_atomic_int_get (&d->done);
      g_autofree char *msg = g_strdup_printf ("Cancelled after %u of %u cells: nothing compared.", done, d->n_cells);
      g_autofree char *txt = g_strdup_printf ("cancelled: %u of %u cells", done, d->n_cells);
      gtk_progress_bar_set_text (GTK_PROGRESS_BAR (self->progress), txt);
      set_status (self, msg, FALSE);
      return;
    }
  if (!ok)
    {
      g_autofree char *msg = g_strdup_printf ("The run stopped: %s", error->message);
      set_status (self, msg, TRUE);
      return;
    }
  gtk_progress_bar_set_fraction (GTK_PROGRESS_BAR (self->progress), 1.0);
  g_autofree char *all = g_strdup_printf ("%u of %u cells", d->n_cells, d->n_cells);
  gtk_progress_bar_set_text (GTK_PROGRESS_BAR (self->progress), all);
  FtExpReportOptions opt = FT_EXP_REPORT_OPTIONS_INIT;
  g_autoptr(GPtrArray) cmp = ft_exp_report_compare (d->r, &opt, &error);
  if (!cmp)
    {
      g_autofree char *msg = g_strdup_printf ("The results cannot be compared: %s", error->message);
      set_status (self, msg, TRUE);
      return;
    }
  take_results (self, d->r, cmp);
  g_autofree char *msg = g_strdup_printf ("Done: %u cells, %u comparisons (variant × metric) against the control.",
                                          d->n_cells, cmp->len);
  set_status (self, msg, FALSE);
}

char *
ft_experiments_window_dup_text (FtExperimentsWindow *self)
{
  GString *s = g_string_new ("# Written by the Experiments page of fleet-twin\n[experiment]\n"
                             "name=Experiment from the app\n");
  g_autofree char *base = g_strstrip (g_strdup (gtk_editable_get_text (GTK_EDITABLE (self->base_entry))));
  g_autofree char *days = g_strdup_printf ("%g", gtk_spin_button_get_value (GTK_SPIN_BUTTON (self->days_spin)));
  g_string_append_printf (s, "base=%s\ndesign=crn\nreplications=%d\ndays=%s\nmetrics=" METRICS "\n", base,
                          gtk_spin_button_get_value_as_int (GTK_SPIN_BUTTON (self->reps_spin)), days);
  for (guint i = 0; i < self->variants->len; i++)
    {
      Variant *v = g_ptr_array_index (self->variants, i);
      g_string_append_printf (s, "[variant %s]\n%s", v->name, v->lines->str);
    }
  return g_string_free (s, FALSE);
}

gboolean
ft_experiments_window_run (FtExperimentsWindow *self)
{
  g_return_val_if_fail (FT_IS_EXPERIMENTS_WINDOW (self), FALSE);
  g_autoptr(GError) error = NULL;
  if (self->running)
    return FALSE;
  if (self->variants->len < 2)
    {
      set_status (self, "Add a variant to compare with the control first.", TRUE);
      return FALSE;
    }
  g_autofree char *text = ft_experiments_window_dup_text (self);
  g_autofree char *cwd = g_get_current_dir ();
  FtSimExperiment *e = ft_sim_experiment_parse (text, "the Experiments page", cwd, &error);
  if (!e)
    {
      set_status (self, error->message, TRUE);
      return FALSE;
    }
  if (!self->tmp_dir && !(self->tmp_dir = g_dir_make_tmp ("ft-experiments-XXXXXX", &error)))
    {
      ft_sim_experiment_free (e);
      set_status (self, error->message, TRUE);
      return FALSE;
    }
  g_autofree char *name = g_strdup_printf ("run-%u.db", ++self->run_no);
  g_autofree char *path = g_build_filename (self->tmp_dir, name, NULL);
  FtExpIdentity id;
  ft_sim_experiment_identity (e, &id);
  FtExpResults *r = ft_exp_results_create (path, &id, &error);
  ft_sim_experiment_identity_clear (&id);
  if (!r)
    {
      ft_sim_experiment_free (e);
      set_status (self, error->message, TRUE);
      return FALSE;
    }
  RunData *d = g_new0 (RunData, 1);
  d->e = e;
  d->r = r;
  d->n_cells = ft_sim_experiment_n_cells (e);
  self->running = d;
  g_clear_object (&self->cancellable);
  self->cancellable = g_cancellable_new ();
  GTask *task = g_task_new (self, self->cancellable, on_run_done, NULL);
  g_task_set_task_data (task, d, run_data_free);
  g_task_run_in_thread (task, run_thread);
  g_object_unref (task);
  gtk_widget_set_sensitive (self->run_button, FALSE);
  gtk_widget_set_sensitive (self->cancel_button, TRUE);
  gtk_progress_bar_set_fraction (GTK_PROGRESS_BAR (self->progress), 0);
  g_autofree char *cells = g_strdup_printf ("0 of %u cells", d->n_cells);
  gtk_progress_bar_set_text (GTK_PROGRESS_BAR (self->progress), cells);
  self->poll_id = g_timeout_add (100, poll_progress, self);
  g_autofree char *msg = g_strdup_printf ("Running %u cells (%u replications × %u variants) in the background…",
                                          d->n_cells, e->replications, e->variants->len);
  set_status (self, msg, FALSE);
  return TRUE;
}

/* ---- controls ---- */

gboolean
ft_experiments_window_add_override (FtExperimentsWindow *self, const char *variant, const char *key,
                                    const char *value, GError **error)
{
  g_return_val_if_fail (FT_IS_EXPERIMENTS_WINDOW (self), FALSE);
  g_autofree char *name = g_strstrip (g_strdup (variant ? variant : ""));
  g_autofree char *val = g_strstrip (g_strdup (value ? value : ""));
  const char *dot = key ? strchr (key, '.') : NULL;
  g_autofree char *group = dot ? g_strndup (key, dot - key) : NULL;
  if (!*name || strchr (name, ']') || strchr (name, '\n'))
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT, "give the variant a name (no ']')");
      return FALSE;
    }
  if (!dot || !ft_sim_scenario_find_key (group, dot + 1))
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                   "%s: not a scenario key (pick one from the list)", key ? key : "(none)");
      return FALSE;
    }
  if (!*val || strchr (val, '\n'))
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT, "variant %s: give %s a value", name, key);
      return FALSE;
    }
  if (g_str_equal (name, "control"))
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                   "the control is the base scenario as it is: name the variant otherwise");
      return FALSE;
    }
  Variant *v = NULL;
  for (guint i = 0; i < self->variants->len && !v; i++)
    if (g_str_equal (((Variant *) g_ptr_array_index (self->variants, i))->name, name))
      v = g_ptr_array_index (self->variants, i);
  if (!v)
    {
      v = g_new0 (Variant, 1);
      v->name = g_strdup (name);
      v->lines = g_string_new ("");
      g_ptr_array_add (self->variants, v);
    }
  g_string_append_printf (v->lines, "%s=%s\n", key, val);
  show_variants (self);
  return TRUE;
}

static void
on_add (FtExperimentsWindow *self)
{
  g_autoptr(GError) error = NULL;
  guint i = gtk_drop_down_get_selected (GTK_DROP_DOWN (self->key_dropdown));
  const char *key = i == GTK_INVALID_LIST_POSITION ? NULL : gtk_string_list_get_string (self->keys, i);
  if (!ft_experiments_window_add_override (self, gtk_editable_get_text (GTK_EDITABLE (self->variant_entry)), key,
                                           gtk_editable_get_text (GTK_EDITABLE (self->value_entry)), &error))
    set_status (self, error->message, TRUE);
  else
    {
      set_status (self, "", FALSE);
      gtk_editable_set_text (GTK_EDITABLE (self->value_entry), "");
    }
}

static void
on_clear (FtExperimentsWindow *self)
{
  g_ptr_array_set_size (self->variants, 1);
  show_variants (self);
}

static void
on_base_response (GtkNativeDialog *dialog, int response, gpointer user_data)
{
  FtExperimentsWindow *self = user_data;
  if (response == GTK_RESPONSE_ACCEPT && !self->disposed)
    {
      g_autoptr(GFile) f = gtk_file_chooser_get_file (GTK_FILE_CHOOSER (dialog));
      g_autofree char *path = f ? g_file_get_path (f) : NULL;
      if (path)
        ft_experiments_window_set_base (self, path);
    }
  g_object_unref (dialog);
  g_object_unref (self);
}

static void
on_choose_base (FtExperimentsWindow *self)
{
  GtkFileChooserNative *fc = gtk_file_chooser_native_new ("Base Scenario", GTK_WINDOW (self),
                                                          GTK_FILE_CHOOSER_ACTION_OPEN, NULL, NULL);
  GtkFileFilter *filter = gtk_file_filter_new ();
  gtk_file_filter_set_name (filter, "Scenarios");
  gtk_file_filter_add_pattern (filter, "*.scenario");
  gtk_file_chooser_add_filter (GTK_FILE_CHOOSER (fc), filter);
  g_object_unref (filter);
  g_signal_connect (fc, "response", G_CALLBACK (on_base_response), g_object_ref (self));
  gtk_native_dialog_show (GTK_NATIVE_DIALOG (fc));
}

static void
on_run_clicked (FtExperimentsWindow *self)
{
  ft_experiments_window_run (self);
}

void
ft_experiments_window_cancel (FtExperimentsWindow *self)
{
  g_return_if_fail (FT_IS_EXPERIMENTS_WINDOW (self));
  if (!self->running)
    return;
  g_cancellable_cancel (self->cancellable);
  gtk_widget_set_sensitive (self->cancel_button, FALSE);
  set_status (self, "Cancelling after the cell under way…", FALSE);
}

/* ---- the object ---- */

static void
ft_experiments_window_dispose (GObject *object)
{
  FtExperimentsWindow *self = FT_EXPERIMENTS_WINDOW (object);
  self->disposed = TRUE;
  if (self->cancellable)
    g_cancellable_cancel (self->cancellable);
  g_clear_handle_id (&self->poll_id, g_source_remove);
  G_OBJECT_CLASS (ft_experiments_window_parent_class)->dispose (object);
}

static void
ft_experiments_window_finalize (GObject *object)
{
  FtExperimentsWindow *self = FT_EXPERIMENTS_WINDOW (object);
  g_clear_object (&self->cancellable);
  g_clear_pointer (&self->variants, g_ptr_array_unref);
  g_clear_object (&self->keys);
  g_clear_pointer (&self->metrics, g_ptr_array_unref);
  g_clear_pointer (&self->names, g_ptr_array_unref);
  g_clear_pointer (&self->values, g_array_unref);
  if (self->tmp_dir)
    {
      for (guint i = 1; i <= self->run_no; i++)
        {
          g_autofree char *name = g_strdup_printf ("run-%u.db", i);
          g_autofree char *path = g_build_filename (self->tmp_dir, name, NULL);
          g_remove (path);
        }
      g_rmdir (self->tmp_dir);
      g_free (self->tmp_dir);
    }
  g_free (self->status);
  G_OBJECT_CLASS (ft_experiments_window_parent_class)->finalize (object);
}

static void
ft_experiments_window_class_init (FtExperimentsWindowClass *klass)
{
  GObjectClass *oc = G_OBJECT_CLASS (klass);
  oc->dispose = ft_experiments_window_dispose;
  oc->finalize = ft_experiments_window_finalize;
}

static GtkWidget *
labelled (GtkWidget *grid, int row, const char *text, GtkWidget *w, const char *a11y)
{
  GtkWidget *l = gtk_label_new_with_mnemonic (text);
  gtk_label_set_xalign (GTK_LABEL (l), 1);
  gtk_label_set_mnemonic_widget (GTK_LABEL (l), w);
  gtk_accessible_update_property (GTK_ACCESSIBLE (w), GTK_ACCESSIBLE_PROPERTY_LABEL, a11y, -1);
  gtk_grid_attach (GTK_GRID (grid), l, 0, row, 1, 1);
  gtk_grid_attach (GTK_GRID (grid), w, 1, row, 1, 1);
  gtk_widget_set_hexpand (w, TRUE);
  return w;
}

static GtkWidget *
a11y_button (const char *label, const char *a11y, GCallback cb, gpointer self)
{
  GtkWidget *b = gtk_button_new_with_mnemonic (label);
  gtk_accessible_update_property (GTK_ACCESSIBLE (b), GTK_ACCESSIBLE_PROPERTY_LABEL, a11y, -1);
  gtk_widget_set_tooltip_text (b, a11y);
  g_signal_connect_swapped (b, "clicked", cb, self);
  return b;
}

static void
ft_experiments_window_init (FtExperimentsWindow *self)
{
  gtk_window_set_title (GTK_WINDOW (self), "Experiments");
  gtk_window_set_default_size (GTK_WINDOW (self), 900, 760);
  self->variants = g_ptr_array_new_with_free_func (variant_free);
  Variant *control = g_new0 (Variant, 1);
  control->name = g_strdup ("control");
  control->lines = g_string_new ("");
  g_ptr_array_add (self->variants, control);

  GtkWidget *box = gtk_box_new (GTK_ORIENTATION_VERTICAL, 8);
  gtk_widget_set_margin_start (box, 12);
  gtk_widget_set_margin_end (box, 12);
  gtk_widget_set_margin_top (box, 12);
  gtk_widget_set_margin_bottom (box, 12);

  GtkWidget *grid = gtk_grid_new ();
  gtk_grid_set_row_spacing (GTK_GRID (grid), 6);
  gtk_grid_set_column_spacing (GTK_GRID (grid), 8);
  self->base_entry = gtk_entry_new ();
  gtk_entry_set_placeholder_text (GTK_ENTRY (self->base_entry), "a .scenario file");
  GtkWidget *base_row = gtk_box_new (GTK_ORIENTATION_HORIZONTAL, 6);
  gtk_box_append (GTK_BOX (base_row), self->base_entry);
  gtk_widget_set_hexpand (self->base_entry, TRUE);
  gtk_box_append (GTK_BOX (base_row), a11y_button ("C_hoose…", "Choose the base scenario file",
                                                   G_CALLBACK (on_choose_base), self));
  labelled (grid, 0, "_Base scenario", base_row, "Base scenario file");
  gtk_accessible_update_property (GTK_ACCESSIBLE (self->base_entry), GTK_ACCESSIBLE_PROPERTY_LABEL,
                                  "Base scenario file", -1);
  self->reps_spin = gtk_spin_button_new_with_range (2, 200, 1);
  gtk_spin_button_set_value (GTK_SPIN_BUTTON (self->reps_spin), 4);
  labelled (grid, 1, "_Replications", self->reps_spin, "Replications per variant");
  self->days_spin = gtk_spin_button_new_with_range (0.01, 60, 0.05);
  gtk_spin_button_set_digits (GTK_SPIN_BUTTON (self->days_spin), 2);
  gtk_spin_button_set_value (GTK_SPIN_BUTTON (self->days_spin), 0.25);
  labelled (grid, 2, "_Days per run", self->days_spin, "Simulated days per run");

  self->keys = gtk_string_list_new (NULL);
  guint n_keys = 0;
  const FtSimScenarioKey *keys = ft_sim_scenario_keys (&n_keys);
  for (guint i = 0; i < n_keys; i++)
    {
      g_autofree char *k = g_strdup_printf ("%s.%s", keys[i].group, keys[i].key);
      gtk_string_list_append (self->keys, k);
    }
  self->variant_entry = gtk_entry_new ();
  gtk_editable_set_text (GTK_EDITABLE (self->variant_entry), "treatment");
  labelled (grid, 3, "_Variant", self->variant_entry, "Name of the variant to add an override to");
  self->key_dropdown = gtk_drop_down_new (G_LIST_MODEL (g_object_ref (self->keys)), NULL);
  gtk_drop_down_set_enable_search (GTK_DROP_DOWN (self->key_dropdown), TRUE);
  labelled (grid, 4, "Scenario _key", self->key_dropdown, "Scenario key the variant overrides");
  self->value_entry = gtk_entry_new ();
  g_signal_connect_swapped (self->value_entry, "activate", G_CALLBACK (on_add), self);
  labelled (grid, 5, "V_alue", self->value_entry, "Value of the scenario key in the variant");
  gtk_box_append (GTK_BOX (box), grid);

  GtkWidget *row = gtk_box_new (GTK_ORIENTATION_HORIZONTAL, 6);
  gtk_box_append (GTK_BOX (row), a11y_button ("A_dd Override", "Add the key and value to the variant",
                                              G_CALLBACK (on_add), self));
  gtk_box_append (GTK_BOX (row), a11y_button ("_Remove Variants", "Remove every variant but the control",
                                              G_CALLBACK (on_clear), self));
  self->run_button = a11y_button ("R_un", "Run the experiment in the background", G_CALLBACK (on_run_clicked), self);
  gtk_widget_add_css_class (self->run_button, "suggested-action");
  self->cancel_button = a11y_button ("_Cancel", "Stop the experiment after the cell under way",
                                     G_CALLBACK (ft_experiments_window_cancel), self);
  gtk_widget_set_sensitive (self->cancel_button, FALSE);
  gtk_widget_set_hexpand (self->cancel_button, TRUE);
  gtk_widget_set_halign (self->cancel_button, GTK_ALIGN_END);
  gtk_box_append (GTK_BOX (row), self->cancel_button);
  gtk_box_append (GTK_BOX (row), self->run_button);
  gtk_box_append (GTK_BOX (box), row);

  self->variants_label = gtk_label_new ("");
  gtk_label_set_xalign (GTK_LABEL (self->variants_label), 0);
  gtk_label_set_wrap (GTK_LABEL (self->variants_label), TRUE);
  gtk_label_set_selectable (GTK_LABEL (self->variants_label), TRUE);
  gtk_accessible_update_property (GTK_ACCESSIBLE (self->variants_label), GTK_ACCESSIBLE_PROPERTY_LABEL,
                                  "Variants and their overrides", -1);
  gtk_box_append (GTK_BOX (box), self->variants_label);

  self->progress = gtk_progress_bar_new ();
  gtk_progress_bar_set_show_text (GTK_PROGRESS_BAR (self->progress), TRUE);
  gtk_accessible_update_property (GTK_ACCESSIBLE (self->progress), GTK_ACCESSIBLE_PROPERTY_LABEL,
                                  "Cells of the experiment run so far", -1);
  gtk_box_append (GTK_BOX (box), self->progress);
  self->status_label = gtk_label_new ("");
  gtk_label_set_xalign (GTK_LABEL (self->status_label), 0);
  gtk_label_set_wrap (GTK_LABEL (self->status_label), TRUE);
  gtk_box_append (GTK_BOX (box), self->status_label);

  self->chart_area = gtk_drawing_area_new ();
  gtk_widget_set_vexpand (self->chart_area, TRUE);
  gtk_widget_set_size_request (self->chart_area, 600, 260);
  gtk_drawing_area_set_draw_func (GTK_DRAWING_AREA (self->chart_area), draw_chart, self, NULL);
  gtk_accessible_update_property (GTK_ACCESSIBLE (self->chart_area), GTK_ACCESSIBLE_PROPERTY_LABEL,
                                  "Each variant's change against the control per metric, with intervals", -1);
  gtk_box_append (GTK_BOX (box), self->chart_area);
  self->results_label = gtk_label_new ("");
  gtk_label_set_xalign (GTK_LABEL (self->results_label), 0);
  gtk_label_set_wrap (GTK_LABEL (self->results_label), TRUE);
  gtk_label_set_selectable (GTK_LABEL (self->results_label), TRUE);
  gtk_widget_add_css_class (self->results_label, "caption");
  gtk_accessible_update_property (GTK_ACCESSIBLE (self->results_label), GTK_ACCESSIBLE_PROPERTY_LABEL,
                                  "Each variant's change against the control per metric, in words", -1);
  gtk_box_append (GTK_BOX (box), self->results_label);
  gtk_window_set_child (GTK_WINDOW (self), box);
  show_variants (self);
}

FtExperimentsWindow *
ft_experiments_window_new (FtWindow *parent)
{
  g_return_val_if_fail (FT_IS_WINDOW (parent), NULL);
  FtExperimentsWindow *self = g_object_new (FT_TYPE_EXPERIMENTS_WINDOW, "transient-for", parent, NULL);
  return self;
}

void
ft_experiments_window_set_base (FtExperimentsWindow *self, const char *path)
{
  gtk_editable_set_text (GTK_EDITABLE (self->base_entry), path ? path : "");
}

void
ft_experiments_window_set_replications (FtExperimentsWindow *self, guint n)
{
  gtk_spin_button_set_value (GTK_SPIN_BUTTON (self->reps_spin), n);
}

void
ft_experiments_window_set_days (FtExperimentsWindow *self, double days)
{
  gtk_spin_button_set_value (GTK_SPIN_BUTTON (self->days_spin), days);
}

guint
ft_experiments_window_get_n_variants (FtExperimentsWindow *self)
{
  return self->variants->len;
}

gboolean
ft_experiments_window_is_running (FtExperimentsWindow *self)
{
  return self->running != NULL;
}

double
ft_experiments_window_get_progress (FtExperimentsWindow *self)
{
  return gtk_progress_bar_get_fraction (GTK_PROGRESS_BAR (self->progress));
}

const char *
ft_experiments_window_get_status (FtExperimentsWindow *self)
{
  return self->status ? self->status : "";
}

guint
ft_experiments_window_get_n_results (FtExperimentsWindow *self)
{
  return self->n_results;
}

const char *
ft_experiments_window_get_results_text (FtExperimentsWindow *self)
{
  g_return_val_if_fail (FT_IS_EXPERIMENTS_WINDOW (self), "");
  return gtk_label_get_text (GTK_LABEL (self->results_label));
}
