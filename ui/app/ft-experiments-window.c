/* ft-experiments-window.c — the Experiments page. The window holds the
 * experiment as the controls set it and writes it in the experiment file
 * format (sim/ft-sim-experiment.h), so the file's own checks refuse a bad
 * variant; its cells run one after another on a worker thread (each builds
 * its own world, independent of the session's), and the comparison is
 * src/experiments' report, drawn with the analytics chart: each variant
 * against the control, and with field designs (rider, zone, switchback)
 * each design's estimate, bias, sd and rmse against the whole-fleet truth
 * (ft_exp_report_field, the CLI report's numbers and words).
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
  GtkWidget    *design_checks[FT_SIM_FIELD_N_DESIGNS];
  GtkWidget    *slice_spin;
  GtkWidget    *stack;          /* "control": against the control; "field": field designs */
  GtkWidget    *field_metric_dd;
  GtkStringList *field_metrics_model;
  GtkWidget    *field_chart;
  GtkWidget    *field_table;    /* GtkGrid: a header row, then one row per FtExpFieldBias */
  GtkWidget    *field_heading;  /* what the table compares */
  GtkWidget    *field_words;
  GPtrArray    *field;          /* FtExpFieldBias* of the last finished run */
  char         *results_path;   /* its results database */

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
    .title = nv ? "Change against the control (mean and 95 % t interval over replications)"
                : "No results yet: add a variant and press Run",
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

/* ---- field designs against the whole-fleet truth ---- */

static const char *const field_columns[] = {
  "Design", "Metric", "n", "Truth", "Estimate", "Estimate sd", "Bias", "Bias se", "rmse", "Verdict",
};
#define N_FIELD_COLUMNS G_N_ELEMENTS (field_columns)

static const char *
field_metric (FtExperimentsWindow *self)
{
  guint i = gtk_drop_down_get_selected (GTK_DROP_DOWN (self->field_metric_dd));
  if (i == GTK_INVALID_LIST_POSITION || !self->field_metrics_model
      || i >= g_list_model_get_n_items (G_LIST_MODEL (self->field_metrics_model)))
    return NULL;
  return gtk_string_list_get_string (self->field_metrics_model, i);
}

/* The rows of the metric shown, in the report's order. */
static GPtrArray *
field_rows (FtExperimentsWindow *self)
{
  GPtrArray *rows = g_ptr_array_new ();
  const char *m = field_metric (self);
  for (guint i = 0; self->field && m && i < self->field->len; i++)
    if (g_str_equal (((FtExpFieldBias *) self->field->pdata[i])->metric, m))
      g_ptr_array_add (rows, self->field->pdata[i]);
  return rows;
}

static gboolean
several_variants (FtExperimentsWindow *self)
{
  for (guint i = 1; self->field && i < self->field->len; i++)
    if (!g_str_equal (((FtExpFieldBias *) self->field->pdata[i])->variant,
                      ((FtExpFieldBias *) self->field->pdata[0])->variant))
      return TRUE;
  return FALSE;
}

static void
draw_field_chart (GtkDrawingArea *area, cairo_t *cr, int width, int height, gpointer user_data)
{
  FtExperimentsWindow *self = user_data;
  ft_exp_field_chart_draw (cr, width, height, self->field, field_metric (self),
                           "No field design results yet: tick Rider, Zone or Switchback and press Run");
}

static GtkWidget *
table_label (const char *text, gboolean numeric)
{
  GtkWidget *l = gtk_label_new (text);
  gtk_label_set_xalign (GTK_LABEL (l), numeric ? 1 : 0);
  if (numeric)
    gtk_widget_add_css_class (l, "numeric");
  return l;
}

static void
fill_field_table (FtExperimentsWindow *self)
{
  GtkWidget *c;
  while ((c = gtk_widget_get_first_child (self->field_table)))
    gtk_grid_remove (GTK_GRID (self->field_table), c);
  if (!self->field || self->field->len == 0)
    return;
  for (guint k = 0; k < N_FIELD_COLUMNS; k++)
    {
      GtkWidget *h = table_label (field_columns[k], k >= 2 && k < N_FIELD_COLUMNS - 1);
      gtk_widget_add_css_class (h, "heading");
      gtk_grid_attach (GTK_GRID (self->field_table), h, (int) k, 0, 1, 1);
    }
  gboolean by_variant = several_variants (self);
  for (guint i = 0; i < self->field->len; i++)
    {
      const FtExpFieldBias *b = self->field->pdata[i];
      char cells[N_FIELD_COLUMNS - 3][32];
      g_snprintf (cells[0], 32, "%u", b->n);
      g_snprintf (cells[1], 32, "%+.4g", b->truth_mean);
      g_snprintf (cells[2], 32, "%+.4g", b->est_mean);
      g_snprintf (cells[3], 32, "%.4g", b->est_sd);
      g_snprintf (cells[4], 32, "%+.4g", b->bias);
      g_snprintf (cells[5], 32, "%.4g", b->bias_se);
      g_snprintf (cells[6], 32, "%.4g", b->rmse);
      const char *verdict = b->verdict == FT_EXP_FIELD_BIASED ? "biased"
                            : b->verdict == FT_EXP_FIELD_NO_BIAS ? "no bias shown" : "too few runs";
      g_autofree char *design = by_variant ? g_strdup_printf ("%s · %s", b->design, b->variant) : g_strdup (b->design);
      const char *text[N_FIELD_COLUMNS] = { design, b->metric, cells[0], cells[1], cells[2],
                                            cells[3], cells[4], cells[5], cells[6], verdict };
      for (guint k = 0; k < N_FIELD_COLUMNS; k++)
        {
          GtkWidget *l = table_label (text[k], k >= 2 && k < N_FIELD_COLUMNS - 1);
          if (k == N_FIELD_COLUMNS - 1 && b->verdict == FT_EXP_FIELD_BIASED)
            gtk_widget_add_css_class (l, "ft-worse");
          gtk_grid_attach (GTK_GRID (self->field_table), l, (int) k, (int) i + 1, 1, 1);
        }
    }
}

static void
show_field_metric (FtExperimentsWindow *self)
{
  if (self->disposed)
    return;
  GString *s = g_string_new (NULL);
  if (!self->field || self->field->len == 0)
    g_string_append (s, "No field designs in the last run. Tick Rider, Zone or Switchback and run with a variant "
                        "that changes dynamic pricing, incentives or the riders' elasticity: each design's estimate "
                        "is then set against the whole-fleet truth.");
  else
    {
      g_string_append (s, "Truth: the whole-fleet effect, a world of each variant on the same demand (crn). Bias: "
                          "the mean of estimate - truth over replications, with its standard error; biased when "
                          "its 95 % t interval excludes zero. rmse: how far one run of the design is "
                          "from the truth.");
      g_autoptr(GPtrArray) rows = field_rows (self);
      for (guint i = 0; i < rows->len; i++)
        {
          g_autofree char *w = ft_exp_field_bias_describe (rows->pdata[i]);
          g_string_append_printf (s, "\n• %s", w);
        }
    }
  gtk_label_set_text (GTK_LABEL (self->field_words), s->str);
  g_string_free (s, TRUE);
  gtk_widget_queue_draw (self->field_chart);
}

static void
take_field (FtExperimentsWindow *self, FtExpResults *r, GPtrArray *field)
{
  g_clear_pointer (&self->field, g_ptr_array_unref);
  self->field = field;
  g_autoptr(GPtrArray) names = g_ptr_array_new ();
  for (guint i = 0; field && i < field->len; i++)
    {
      const char *m = ((FtExpFieldBias *) field->pdata[i])->metric;
      gboolean have = FALSE;
      for (guint k = 0; k < names->len && !have; k++)
        have = g_str_equal (names->pdata[k], m);
      if (!have)
        g_ptr_array_add (names, (gpointer) m);
    }
  g_ptr_array_add (names, NULL);
  guint old = g_list_model_get_n_items (G_LIST_MODEL (self->field_metrics_model));
  gtk_string_list_splice (self->field_metrics_model, 0, old, (const char *const *) names->pdata);
  gtk_drop_down_set_selected (GTK_DROP_DOWN (self->field_metric_dd), 0);
  gtk_widget_set_sensitive (self->field_metric_dd, names->len > 1);
  fill_field_table (self);
  g_autofree char *heading = NULL;
  if (field && field->len)
    heading = several_variants (self)
      ? g_strdup_printf ("Every design and metric (each variant against %s)", ft_exp_results_get (r, "control"))
      : g_strdup_printf ("Every design and metric (%s against %s)", ((FtExpFieldBias *) field->pdata[0])->variant,
                         ft_exp_results_get (r, "control"));
  gtk_label_set_text (GTK_LABEL (self->field_heading), heading ? heading : "");
  gtk_widget_set_visible (self->field_heading, heading != NULL);
  show_field_metric (self);
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
  GPtrArray *field = ft_exp_report_field (d->r, &error);
  if (!field)
    {
      g_autofree char *msg = g_strdup_printf ("The field designs cannot be compared: %s", error->message);
      set_status (self, msg, TRUE);
      return;
    }
  take_results (self, d->r, cmp);
  take_field (self, d->r, field);
  g_autofree char *msg = field->len
    ? g_strdup_printf ("Done: %u cells, %u comparisons (variant × metric) against the control and %u field "
                       "design rows against the whole-fleet truth.", d->n_cells, cmp->len, field->len)
    : g_strdup_printf ("Done: %u cells, %u comparisons (variant × metric) against the control.",
                       d->n_cells, cmp->len);
  set_status (self, msg, FALSE);
  gtk_stack_set_visible_child_name (GTK_STACK (self->stack), field->len ? "field" : "control");
}

char *
ft_experiments_window_dup_text (FtExperimentsWindow *self)
{
  GString *s = g_string_new ("# Written by the Experiments page of fleet-twin\n[experiment]\n"
                             "name=Experiment from the app\n");
  g_autofree char *base = g_strstrip (g_strdup (gtk_editable_get_text (GTK_EDITABLE (self->base_entry))));
  g_autofree char *days = g_strdup_printf ("%g", gtk_spin_button_get_value (GTK_SPIN_BUTTON (self->days_spin)));
  g_autoptr(GString) design = g_string_new (NULL);
  for (guint d = 0; d < FT_SIM_FIELD_N_DESIGNS; d++)
    if (gtk_check_button_get_active (GTK_CHECK_BUTTON (self->design_checks[d])))
      g_string_append_printf (design, "%s%s", design->len ? ", " : "", ft_sim_field_design_name (d));
  g_string_append_printf (s, "base=%s\ndesign=%s\nreplications=%d\ndays=%s\nmetrics=" METRICS "\n", base,
                          design->len ? design->str : "crn",
                          gtk_spin_button_get_value_as_int (GTK_SPIN_BUTTON (self->reps_spin)), days);
  if (design->len)
    g_string_append_printf (s, "[field]\nslice_min=%d\n",
                            gtk_spin_button_get_value_as_int (GTK_SPIN_BUTTON (self->slice_spin)));
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
  g_free (self->results_path);
  self->results_path = g_steal_pointer (&path);
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
  g_autofree char *msg = e->n_field
    ? g_strdup_printf ("Running %u cells (%u replications × (%u variants + %u field design worlds)) in the "
                       "background…", d->n_cells, e->replications, e->variants->len,
                       e->n_field * (e->variants->len - 1))
    : g_strdup_printf ("Running %u cells (%u replications × %u variants) in the background…",
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
  g_clear_pointer (&self->field, g_ptr_array_unref);
  g_clear_object (&self->field_metrics_model);
  g_free (self->results_path);
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

/* A scrolled page for the results stack: content scrolls inside when it
 * is longer than the window. */
static GtkWidget *
scrolled (GtkWidget *child)
{
  GtkWidget *sw = gtk_scrolled_window_new ();
  gtk_scrolled_window_set_policy (GTK_SCROLLED_WINDOW (sw), GTK_POLICY_NEVER, GTK_POLICY_AUTOMATIC);
  gtk_scrolled_window_set_child (GTK_SCROLLED_WINDOW (sw), child);
  gtk_widget_set_vexpand (sw, TRUE);
  gtk_widget_set_hexpand (sw, TRUE);
  return sw;
}

static GtkWidget *
page_box (void)
{
  GtkWidget *box = gtk_box_new (GTK_ORIENTATION_VERTICAL, 8);
  gtk_widget_set_margin_start (box, 4);
  gtk_widget_set_margin_end (box, 12);
  gtk_widget_set_margin_top (box, 6);
  gtk_widget_set_margin_bottom (box, 12);
  return box;
}

static GtkWidget *
words_label (const char *a11y)
{
  GtkWidget *l = gtk_label_new ("");
  gtk_label_set_xalign (GTK_LABEL (l), 0);
  gtk_label_set_wrap (GTK_LABEL (l), TRUE);
  gtk_label_set_selectable (GTK_LABEL (l), TRUE);
  gtk_widget_add_css_class (l, "caption");
  gtk_accessible_update_property (GTK_ACCESSIBLE (l), GTK_ACCESSIBLE_PROPERTY_LABEL, a11y, -1);
  return l;
}

static void
ft_experiments_window_init (FtExperimentsWindow *self)
{
  gtk_window_set_title (GTK_WINDOW (self), "Experiments");
  /* fits a 1366x720 screen with a panel and a title bar; long content scrolls */
  gtk_window_set_default_size (GTK_WINDOW (self), 1240, 640);
  self->variants = g_ptr_array_new_with_free_func (variant_free);
  Variant *control = g_new0 (Variant, 1);
  control->name = g_strdup ("control");
  control->lines = g_string_new ("");
  g_ptr_array_add (self->variants, control);

  /* the experiment, on the left; it scrolls when the window is short */
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

  /* field designs: none ticked is the whole-fleet A/B (crn) alone */
  GtkWidget *designs = gtk_box_new (GTK_ORIENTATION_HORIZONTAL, 6);
  static const char *const design_labels[FT_SIM_FIELD_N_DESIGNS] = { "R_ider", "_Zone", "S_witchback" };
  static const char *const design_a11y[FT_SIM_FIELD_N_DESIGNS] = {
    "Field design: riders split between the arms", "Field design: zones split between the arms",
    "Field design: the city alternates between the arms in time slices",
  };
  for (guint d = 0; d < FT_SIM_FIELD_N_DESIGNS; d++)
    {
      self->design_checks[d] = gtk_check_button_new_with_mnemonic (design_labels[d]);
      gtk_accessible_update_property (GTK_ACCESSIBLE (self->design_checks[d]), GTK_ACCESSIBLE_PROPERTY_LABEL,
                                      design_a11y[d], -1);
      gtk_widget_set_tooltip_text (self->design_checks[d], design_a11y[d]);
      gtk_box_append (GTK_BOX (designs), self->design_checks[d]);
    }
  GtkWidget *dl = labelled (grid, 3, "Field designs", designs, "Field designs set against the whole-fleet truth");
  gtk_widget_set_tooltip_text (dl, "Also run each ticked design in one world per replication and set its estimate "
                                   "against the whole-fleet truth (pricing, incentives and elasticity variants)");
  self->slice_spin = gtk_spin_button_new_with_range (5, 1440, 5);
  gtk_spin_button_set_value (GTK_SPIN_BUTTON (self->slice_spin), 60);
  labelled (grid, 4, "_Slice (min)", self->slice_spin, "Switchback slice length in minutes");
  g_object_bind_property (self->design_checks[FT_SIM_FIELD_SWITCHBACK], "active", self->slice_spin, "sensitive",
                          G_BINDING_SYNC_CREATE);

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
  labelled (grid, 5, "_Variant", self->variant_entry, "Name of the variant to add an override to");
  self->key_dropdown = gtk_drop_down_new (G_LIST_MODEL (g_object_ref (self->keys)), NULL);
  gtk_drop_down_set_enable_search (GTK_DROP_DOWN (self->key_dropdown), TRUE);
  labelled (grid, 6, "Scenario _key", self->key_dropdown, "Scenario key the variant overrides");
  self->value_entry = gtk_entry_new ();
  g_signal_connect_swapped (self->value_entry, "activate", G_CALLBACK (on_add), self);
  labelled (grid, 7, "V_alue", self->value_entry, "Value of the scenario key in the variant");
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
  gtk_label_set_wrap_mode (GTK_LABEL (self->variants_label), PANGO_WRAP_WORD_CHAR);
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
  gtk_label_set_wrap_mode (GTK_LABEL (self->status_label), PANGO_WRAP_WORD_CHAR);
  gtk_box_append (GTK_BOX (box), self->status_label);
  GtkWidget *left = gtk_scrolled_window_new ();
  gtk_scrolled_window_set_policy (GTK_SCROLLED_WINDOW (left), GTK_POLICY_NEVER, GTK_POLICY_AUTOMATIC);
  gtk_scrolled_window_set_child (GTK_SCROLLED_WINDOW (left), box);
  gtk_widget_set_size_request (left, 400, -1);

  /* the results, on the right: against the control, and field designs */
  self->stack = gtk_stack_new ();
  GtkWidget *cp = page_box ();
  self->chart_area = gtk_drawing_area_new ();
  gtk_widget_set_vexpand (self->chart_area, TRUE);
  gtk_widget_set_size_request (self->chart_area, 480, 300);
  gtk_drawing_area_set_draw_func (GTK_DRAWING_AREA (self->chart_area), draw_chart, self, NULL);
  gtk_accessible_update_property (GTK_ACCESSIBLE (self->chart_area), GTK_ACCESSIBLE_PROPERTY_LABEL,
                                  "Each variant's change against the control per metric, with intervals", -1);
  gtk_box_append (GTK_BOX (cp), self->chart_area);
  self->results_label = words_label ("Each variant's change against the control per metric, in words");
  gtk_box_append (GTK_BOX (cp), self->results_label);
  gtk_stack_add_titled (GTK_STACK (self->stack), scrolled (cp), "control", "Against the Control");

  GtkWidget *fp = page_box ();
  self->field_metrics_model = gtk_string_list_new (NULL);
  self->field_metric_dd = gtk_drop_down_new (G_LIST_MODEL (g_object_ref (self->field_metrics_model)), NULL);
  gtk_widget_set_sensitive (self->field_metric_dd, FALSE);
  g_signal_connect_swapped (self->field_metric_dd, "notify::selected", G_CALLBACK (show_field_metric), self);
  GtkWidget *mrow = gtk_box_new (GTK_ORIENTATION_HORIZONTAL, 8);
  GtkWidget *ml = gtk_label_new_with_mnemonic ("_Metric");
  gtk_label_set_mnemonic_widget (GTK_LABEL (ml), self->field_metric_dd);
  gtk_accessible_update_property (GTK_ACCESSIBLE (self->field_metric_dd), GTK_ACCESSIBLE_PROPERTY_LABEL,
                                  "Metric the field design chart shows", -1);
  gtk_box_append (GTK_BOX (mrow), ml);
  gtk_box_append (GTK_BOX (mrow), self->field_metric_dd);
  gtk_box_append (GTK_BOX (fp), mrow);
  self->field_chart = gtk_drawing_area_new ();
  gtk_widget_set_vexpand (self->field_chart, TRUE);
  gtk_widget_set_size_request (self->field_chart, 480, 300);
  gtk_drawing_area_set_draw_func (GTK_DRAWING_AREA (self->field_chart), draw_field_chart, self, NULL);
  gtk_accessible_update_property (GTK_ACCESSIBLE (self->field_chart), GTK_ACCESSIBLE_PROPERTY_LABEL,
                                  "Each field design's estimate against the whole-fleet truth, with intervals", -1);
  gtk_box_append (GTK_BOX (fp), self->field_chart);
  self->field_words = words_label ("What each field design's bias means, in words");
  gtk_box_append (GTK_BOX (fp), self->field_words);
  self->field_table = gtk_grid_new ();
  gtk_grid_set_column_spacing (GTK_GRID (self->field_table), 14);
  gtk_grid_set_row_spacing (GTK_GRID (self->field_table), 2);
  gtk_accessible_update_property (GTK_ACCESSIBLE (self->field_table), GTK_ACCESSIBLE_PROPERTY_LABEL,
                                  "Field designs against the whole-fleet truth: estimate, bias, sd and rmse", -1);
  self->field_heading = gtk_label_new ("");
  gtk_label_set_xalign (GTK_LABEL (self->field_heading), 0);
  gtk_label_set_wrap (GTK_LABEL (self->field_heading), TRUE);
  gtk_widget_add_css_class (self->field_heading, "heading");
  gtk_widget_set_visible (self->field_heading, FALSE);
  gtk_box_append (GTK_BOX (fp), self->field_heading);
  /* the table scrolls sideways on its own, so the words above wrap to the pane */
  GtkWidget *table_scroll = gtk_scrolled_window_new ();
  gtk_scrolled_window_set_policy (GTK_SCROLLED_WINDOW (table_scroll), GTK_POLICY_AUTOMATIC, GTK_POLICY_NEVER);
  gtk_scrolled_window_set_child (GTK_SCROLLED_WINDOW (table_scroll), self->field_table);
  gtk_box_append (GTK_BOX (fp), table_scroll);
  gtk_stack_add_titled (GTK_STACK (self->stack), scrolled (fp), "field", "Field Designs");

  GtkWidget *right = gtk_box_new (GTK_ORIENTATION_VERTICAL, 6);
  gtk_widget_set_margin_top (right, 8);
  GtkWidget *switcher = gtk_stack_switcher_new ();
  gtk_stack_switcher_set_stack (GTK_STACK_SWITCHER (switcher), GTK_STACK (self->stack));
  gtk_widget_set_halign (switcher, GTK_ALIGN_CENTER);
  gtk_box_append (GTK_BOX (right), switcher);
  gtk_box_append (GTK_BOX (right), self->stack);

  GtkWidget *paned = gtk_paned_new (GTK_ORIENTATION_HORIZONTAL);
  gtk_paned_set_start_child (GTK_PANED (paned), left);
  gtk_paned_set_end_child (GTK_PANED (paned), right);
  gtk_paned_set_resize_start_child (GTK_PANED (paned), FALSE);
  gtk_paned_set_shrink_start_child (GTK_PANED (paned), FALSE);
  gtk_paned_set_shrink_end_child (GTK_PANED (paned), FALSE);
  gtk_window_set_child (GTK_WINDOW (self), paned);
  show_variants (self);
  show_field_metric (self);
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

void
ft_experiments_window_set_field_design (FtExperimentsWindow *self, const char *design, gboolean on)
{
  g_return_if_fail (FT_IS_EXPERIMENTS_WINDOW (self));
  FtSimFieldDesign d;
  g_return_if_fail (design && ft_sim_field_design_parse (design, &d));
  gtk_check_button_set_active (GTK_CHECK_BUTTON (self->design_checks[d]), on);
}

void
ft_experiments_window_set_slice_min (FtExperimentsWindow *self, guint minutes)
{
  g_return_if_fail (FT_IS_EXPERIMENTS_WINDOW (self));
  gtk_spin_button_set_value (GTK_SPIN_BUTTON (self->slice_spin), minutes);
}

const char *
ft_experiments_window_get_results_path (FtExperimentsWindow *self)
{
  g_return_val_if_fail (FT_IS_EXPERIMENTS_WINDOW (self), NULL);
  return self->results_path;
}

guint
ft_experiments_window_get_n_field_rows (FtExperimentsWindow *self)
{
  g_return_val_if_fail (FT_IS_EXPERIMENTS_WINDOW (self), 0);
  return self->field ? self->field->len : 0;
}

const char *
ft_experiments_window_get_field_cell (FtExperimentsWindow *self, guint row, guint col)
{
  g_return_val_if_fail (FT_IS_EXPERIMENTS_WINDOW (self), NULL);
  g_return_val_if_fail (col < N_FIELD_COLUMNS, NULL);
  GtkWidget *l = gtk_grid_get_child_at (GTK_GRID (self->field_table), (int) col, (int) row + 1);
  return l ? gtk_label_get_text (GTK_LABEL (l)) : NULL;
}

gboolean
ft_experiments_window_set_field_metric (FtExperimentsWindow *self, const char *metric)
{
  g_return_val_if_fail (FT_IS_EXPERIMENTS_WINDOW (self), FALSE);
  guint n = g_list_model_get_n_items (G_LIST_MODEL (self->field_metrics_model));
  for (guint i = 0; i < n; i++)
    if (g_strcmp0 (gtk_string_list_get_string (self->field_metrics_model, i), metric) == 0)
      {
        gtk_drop_down_set_selected (GTK_DROP_DOWN (self->field_metric_dd), i);
        return TRUE;
      }
  return FALSE;
}

const char *
ft_experiments_window_get_field_text (FtExperimentsWindow *self)
{
  g_return_val_if_fail (FT_IS_EXPERIMENTS_WINDOW (self), "");
  return gtk_label_get_text (GTK_LABEL (self->field_words));
}

const char *
ft_experiments_window_get_page (FtExperimentsWindow *self)
{
  g_return_val_if_fail (FT_IS_EXPERIMENTS_WINDOW (self), NULL);
  return gtk_stack_get_visible_child_name (GTK_STACK (self->stack));
}

void
ft_experiments_window_set_page (FtExperimentsWindow *self, const char *page)
{
  g_return_if_fail (FT_IS_EXPERIMENTS_WINDOW (self));
  gtk_stack_set_visible_child_name (GTK_STACK (self->stack), page);
}
