/* ft-results-view.c — see ft-results-view.h. The table is rebuilt from the
 * session's runs whenever they change ("runs-changed", "loaded", the end
 * of the run, a pause), from an idle so a widget is never destroyed inside its own
 * handler. The session formats nothing and ft-run.c decides; here the
 * records become cells.
 */
#include "ft-results-view.h"

#include <math.h>
#include <string.h>

struct _FtResultsView {
  GtkWindow   parent_instance;

  FtSession  *session;
  GtkWidget  *include_check;
  GtkWidget  *summary_label;
  GtkWidget  *status_label;
  GtkWidget  *scrolled;
  GPtrArray  *runs;          /* FtRun*, owned: the kept runs and the current one */
  GArray     *compared;      /* guint ids */
  guint       baseline;
  GHashTable *widgets;       /* "name/ID", "diff/ID/KPI", "baseline/ID", "remove/ID" → borrowed */
  guint       rebuild_id;
  gboolean    renaming;      /* our own rename: the label shows it already */
  char       *status;
};

G_DEFINE_FINAL_TYPE (FtResultsView, ft_results_view, GTK_TYPE_WINDOW)

static void rebuild (FtResultsView *self);

static void
set_status (FtResultsView *self, const char *text, gboolean is_error)
{
  g_free (self->status);
  self->status = g_strdup (text ? text : "");
  gtk_label_set_text (GTK_LABEL (self->status_label), self->status);
  gtk_widget_set_visible (self->status_label, *self->status != '\0');
  if (is_error)
    gtk_widget_add_css_class (self->status_label, "error");
  else
    gtk_widget_remove_css_class (self->status_label, "error");
}

static gboolean
rebuild_idle (gpointer data)
{
  FtResultsView *self = data;
  self->rebuild_id = 0;
  rebuild (self);
  return G_SOURCE_REMOVE;
}

static void
queue_rebuild (FtResultsView *self)
{
  if (self->renaming)
    return;
  if (self->rebuild_id == 0)
    self->rebuild_id = g_idle_add (rebuild_idle, self);
}

static GtkWidget *
cell (const char *text, float xalign, const char *css)
{
  GtkWidget *l = gtk_label_new (text);
  gtk_label_set_xalign (GTK_LABEL (l), xalign);
  if (css)
    gtk_widget_add_css_class (l, css);
  return l;
}

static guint
widget_run (GtkWidget *w)
{
  return GPOINTER_TO_UINT (g_object_get_data (G_OBJECT (w), "run"));
}

static void
on_remove (GtkButton *b, FtResultsView *self)
{
  guint id = widget_run (GTK_WIDGET (b));
  ft_session_remove_run (self->session, id);
  queue_rebuild (self);
}

static void
on_baseline (GtkButton *b, FtResultsView *self)
{
  ft_session_set_baseline (self->session, widget_run (GTK_WIDGET (b)));
  queue_rebuild (self);
}

static void
collect_runs (FtResultsView *self)
{
  g_ptr_array_set_size (self->runs, 0);
  GPtrArray *arch = ft_session_get_archive (self->session);
  for (guint i = 0; i < arch->len; i++)
    g_ptr_array_add (self->runs, ft_run_copy (arch->pdata[i]));
  FtRun *cur = ft_session_dup_current_run (self->session);
  if (cur && cur->kpis.sim_time > 0 && !ft_run_find (self->runs, cur->id))
    g_ptr_array_add (self->runs, cur);
  else
    ft_run_free (cur);
}

/* The line above the table: the baseline, and the runs left out. */
static void
update_summary (FtResultsView *self)
{
  gboolean include = gtk_check_button_get_active (GTK_CHECK_BUTTON (self->include_check));
  g_autoptr(GPtrArray) left_out = NULL;
  g_autoptr(GPtrArray) shown = ft_run_select (self->runs, include, &left_out);
  const FtRun *base = ft_run_find (self->runs, self->baseline);
  GString *sum = g_string_new (NULL);
  if (self->runs->len == 0)
    g_string_append (sum, "No runs yet: play a scenario to its end, then compare it with the next one.");
  else if (shown->len == 0 || base == NULL)
    g_string_append (sum, "No finished run yet: play a run to its end, or include the runs stopped early.");
  else
    g_string_append_printf (sum, "Differences against the baseline, %s: green is better, red worse "
                            "(grey rows are context). Click a run's name to rename it.", base->name);
  if (left_out->len)
    {
      g_string_append (sum, "\nNot compared (not finished):");
      for (guint i = 0; i < left_out->len; i++)
        {
          const FtRun *r = left_out->pdata[i];
          g_autofree char *p = ft_run_dup_progress (r);
          g_string_append_printf (sum, "%s %s (%s)", i ? ";" : "", r->name, p);
        }
    }
  gtk_label_set_text (GTK_LABEL (self->summary_label), sum->str);
  g_string_free (sum, TRUE);
}

/* Enter in a run's name, or the focus leaving it, renames the run. */
static void
on_name_commit (GtkEntry *label, FtResultsView *self)
{
  if (gtk_widget_get_root (GTK_WIDGET (label)) == NULL || self->session == NULL)
    return;   /* being taken down */
  guint id = widget_run (GTK_WIDGET (label));
  const char *text = gtk_editable_get_text (GTK_EDITABLE (label));
  const FtRun *run = ft_run_find (self->runs, id);
  if (run == NULL || g_strcmp0 (text, run->name) == 0)
    return;
  /* Updated in place: the entry keeps the focus it has. */
  g_autoptr(GError) error = NULL;
  self->renaming = TRUE;
  gboolean ok = ft_session_rename_run (self->session, id, text, &error);
  self->renaming = FALSE;
  if (!ok)
    {
      g_autofree char *msg = g_strdup_printf ("Not renamed: %s.", error->message);
      set_status (self, msg, TRUE);
      gtk_editable_set_text (GTK_EDITABLE (label), run->name);
      return;
    }
  set_status (self, "", FALSE);
  collect_runs (self);
  run = ft_run_find (self->runs, id);
  gtk_editable_set_text (GTK_EDITABLE (label), run->name);   /* trimmed */
  update_summary (self);
}

static void
on_include_toggled (GtkCheckButton *check, FtResultsView *self)
{
  queue_rebuild (self);
}

static void
keep (FtResultsView *self, GtkWidget *w, const char *what, guint id, const char *kpi)
{
  g_object_set_data (G_OBJECT (w), "run", GUINT_TO_POINTER (id));
  g_hash_table_insert (self->widgets,
                       kpi ? g_strdup_printf ("%s/%u/%s", what, id, kpi) : g_strdup_printf ("%s/%u", what, id), w);
}

/* "+12.50 (+5.2 %)" with the row's precision; "=" when the same. */
static char *
diff_text (const FtRunRow *row, const FtRunDiff *d)
{
  if (d->verdict == FT_RUN_NOT_COMPARED)
    return g_strdup ("other currency");
  if (d->verdict == FT_RUN_SAME)
    return g_strdup ("=");
  g_autofree char *fmt = g_strdup_printf ("%%+%s", row->fmt + 1);
  g_autofree char *abs = g_strdup_printf (fmt, d->abs);
  if (!isfinite (d->pct))
    return g_strdup_printf ("%s (new)", abs);
  return g_strdup_printf ("%s (%+.1f %%)", abs, d->pct);
}

static void
on_name_leave (GtkEventController *focus, FtResultsView *self)
{
  on_name_commit (GTK_ENTRY (gtk_event_controller_get_widget (focus)), self);
}

static GtkWidget *
run_header (FtResultsView *self, const FtRun *run, const FtRun *base)
{
  GtkWidget *box = gtk_box_new (GTK_ORIENTATION_VERTICAL, 2);
  GtkWidget *name = gtk_entry_new ();
  gtk_editable_set_text (GTK_EDITABLE (name), run->name);
  gtk_entry_set_has_frame (GTK_ENTRY (name), FALSE);
  gtk_widget_add_css_class (name, "heading");
  gtk_widget_add_css_class (name, "ft-run-name");
  gtk_editable_set_width_chars (GTK_EDITABLE (name), MIN (34, MAX (12, (int) g_utf8_strlen (run->name, -1))));
  gtk_editable_set_max_width_chars (GTK_EDITABLE (name), 34);
  g_autofree char *acc = g_strdup_printf ("Name of the run %s: click to rename", run->name);
  gtk_accessible_update_property (GTK_ACCESSIBLE (name), GTK_ACCESSIBLE_PROPERTY_LABEL, acc, -1);
  gtk_widget_set_tooltip_text (name, "Type to rename this run; Enter keeps the name");
  keep (self, name, "name", run->id, NULL);
  g_signal_connect (name, "activate", G_CALLBACK (on_name_commit), self);
  GtkEventController *focus = gtk_event_controller_focus_new ();
  g_signal_connect (focus, "leave", G_CALLBACK (on_name_leave), self);
  gtk_widget_add_controller (name, focus);
  gtk_box_append (GTK_BOX (box), name);

  g_autofree char *progress = ft_run_dup_progress (run);
  g_autofree char *line = g_strdup_printf ("%s%s · seed %" G_GUINT64_FORMAT, run->current ? "current · " : "",
                                           progress, run->seed);
  GtkWidget *state = cell (line, 0, run->finished ? "dim-label" : "ft-unlike");
  gtk_widget_add_css_class (state, "caption");
  gtk_box_append (GTK_BOX (box), state);

  g_autofree char *mismatch = run == base ? NULL : ft_run_mismatch_text (base, run);
  if (mismatch)
    {
      g_autofree char *warn = g_strdup_printf ("⚠ unlike the baseline: %s", mismatch);
      GtkWidget *w = cell (warn, 0, "ft-unlike");
      gtk_widget_add_css_class (w, "caption");
      gtk_label_set_wrap (GTK_LABEL (w), TRUE);
      gtk_label_set_max_width_chars (GTK_LABEL (w), 34);
      gtk_box_append (GTK_BOX (box), w);
    }

  GtkWidget *buttons = gtk_box_new (GTK_ORIENTATION_HORIZONTAL, 4);
  if (run == base)
    gtk_box_append (GTK_BOX (buttons), cell ("★ baseline", 0, "ft-baseline"));
  else
    {
      GtkWidget *b = gtk_button_new_with_label ("Use as Baseline");
      gtk_widget_add_css_class (b, "flat");
      g_autofree char *a = g_strdup_printf ("Take differences against %s", run->name);
      gtk_accessible_update_property (GTK_ACCESSIBLE (b), GTK_ACCESSIBLE_PROPERTY_LABEL, a, -1);
      gtk_widget_set_tooltip_text (b, a);
      keep (self, b, "baseline", run->id, NULL);
      g_signal_connect (b, "clicked", G_CALLBACK (on_baseline), self);
      gtk_box_append (GTK_BOX (buttons), b);
    }
  if (!run->current)
    {
      GtkWidget *b = gtk_button_new_with_label ("Remove");
      gtk_widget_add_css_class (b, "flat");
      g_autofree char *a = g_strdup_printf ("Remove the run %s from the comparison", run->name);
      gtk_accessible_update_property (GTK_ACCESSIBLE (b), GTK_ACCESSIBLE_PROPERTY_LABEL, a, -1);
      gtk_widget_set_tooltip_text (b, a);
      keep (self, b, "remove", run->id, NULL);
      g_signal_connect (b, "clicked", G_CALLBACK (on_remove), self);
      gtk_box_append (GTK_BOX (buttons), b);
    }
  gtk_box_append (GTK_BOX (box), buttons);
  return box;
}

static void
rebuild (FtResultsView *self)
{
  g_clear_handle_id (&self->rebuild_id, g_source_remove);
  g_hash_table_remove_all (self->widgets);
  g_array_set_size (self->compared, 0);
  collect_runs (self);

  gboolean include = gtk_check_button_get_active (GTK_CHECK_BUTTON (self->include_check));
  g_autoptr(GPtrArray) shown = ft_run_select (self->runs, include, NULL);
  const FtRun *base = ft_run_find (shown, ft_session_get_baseline (self->session));
  if (base == NULL && shown->len)
    base = shown->pdata[0];
  self->baseline = base ? base->id : 0;
  for (guint i = 0; i < shown->len; i++)
    g_array_append_val (self->compared, ((FtRun *) shown->pdata[i])->id);

  update_summary (self);

  GtkWidget *grid = gtk_grid_new ();
  gtk_grid_set_column_spacing (GTK_GRID (grid), 14);
  gtk_grid_set_row_spacing (GTK_GRID (grid), 3);
  gtk_widget_set_margin_start (grid, 12);
  gtk_widget_set_margin_end (grid, 12);
  gtk_widget_set_margin_top (grid, 6);
  gtk_widget_set_margin_bottom (grid, 12);

  guint n_rows;
  const FtRunRow *rows = ft_run_rows (&n_rows);
  if (shown->len)
    for (guint r = 0; r < n_rows; r++)
      gtk_grid_attach (GTK_GRID (grid), cell (rows[r].label, 0, rows[r].direction == FT_RUN_NEUTRAL ? "dim-label" : NULL),
                       0, (int) r + 2, 1, 1);
  for (guint c = 0; c < shown->len; c++)
    {
      const FtRun *run = shown->pdata[c];
      int col = 1 + 2 * (int) c;
      gtk_grid_attach (GTK_GRID (grid), run_header (self, run, base), col, 0, 2, 1);
      GtkWidget *h1 = cell ("value", 1, "dim-label");
      GtkWidget *h2 = cell (run == base ? "" : "vs baseline", 1, "dim-label");
      gtk_widget_add_css_class (h1, "caption");
      gtk_widget_add_css_class (h2, "caption");
      gtk_grid_attach (GTK_GRID (grid), h1, col, 1, 1, 1);
      gtk_grid_attach (GTK_GRID (grid), h2, col + 1, 1, 1, 1);
      for (guint r = 0; r < n_rows; r++)
        {
          g_autofree char *num = g_strdup_printf (rows[r].fmt, ft_run_value (&rows[r], run));
          g_autofree char *txt = rows[r].money && *run->kpis.currency
                                 ? g_strdup_printf ("%s %s", num, run->kpis.currency) : g_strdup (num);
          gtk_grid_attach (GTK_GRID (grid), cell (txt, 1, "numeric"), col, (int) r + 2, 1, 1);
          if (run == base)
            continue;
          FtRunDiff d;
          ft_run_diff (&rows[r], base, run, &d);
          g_autofree char *dt = diff_text (&rows[r], &d);
          GtkWidget *l = cell (dt, 1, "numeric");
          gtk_widget_add_css_class (l, d.verdict == FT_RUN_BETTER ? "ft-better"
                                       : d.verdict == FT_RUN_WORSE ? "ft-worse" : "dim-label");
          if (d.verdict == FT_RUN_BETTER || d.verdict == FT_RUN_WORSE)
            gtk_widget_set_tooltip_text (l, ft_run_verdict_name (d.verdict));
          keep (self, l, "diff", run->id, rows[r].kpi);
          gtk_grid_attach (GTK_GRID (grid), l, col + 1, (int) r + 2, 1, 1);
        }
    }
  gtk_scrolled_window_set_child (GTK_SCROLLED_WINDOW (self->scrolled), grid);
}

/* ---- export ---- */

gboolean
ft_results_view_export_csv (FtResultsView *self, const char *path, GError **error)
{
  g_return_val_if_fail (FT_IS_RESULTS_VIEW (self) && path != NULL, FALSE);
  if (self->rebuild_id)
    rebuild (self);
  g_autoptr(GPtrArray) shown = g_ptr_array_new ();
  for (guint i = 0; i < self->compared->len; i++)
    g_ptr_array_add (shown, (gpointer) ft_run_find (self->runs, g_array_index (self->compared, guint, i)));
  if (shown->len == 0)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT, "%s: no run is compared, nothing to export",
                   path);
      return FALSE;
    }
  return ft_run_write_csv (path, shown, ft_run_find (self->runs, self->baseline), FALSE, error);
}

static void
on_export_response (GtkNativeDialog *dialog, int response, FtResultsView *self)
{
  if (response == GTK_RESPONSE_ACCEPT)
    {
      g_autoptr(GFile) file = gtk_file_chooser_get_file (GTK_FILE_CHOOSER (dialog));
      g_autofree char *path = file ? g_file_get_path (file) : NULL;
      g_autoptr(GError) error = NULL;
      if (path && ft_results_view_export_csv (self, path, &error))
        {
          g_autofree char *msg = g_strdup_printf ("Comparison written to %s", path);
          set_status (self, msg, FALSE);
        }
      else
        set_status (self, error ? error->message : "Choose a local file", TRUE);
    }
  g_object_unref (dialog);
  g_object_unref (self);
}

static void
on_export (GtkButton *b, FtResultsView *self)
{
  GtkFileChooserNative *fc = gtk_file_chooser_native_new ("Export Comparison", GTK_WINDOW (self),
                                                          GTK_FILE_CHOOSER_ACTION_SAVE, NULL, NULL);
  gtk_file_chooser_set_current_name (GTK_FILE_CHOOSER (fc), "run-comparison.csv");
  g_signal_connect (fc, "response", G_CALLBACK (on_export_response), g_object_ref (self));
  gtk_native_dialog_show (GTK_NATIVE_DIALOG (fc));
}

/* ---- the object ---- */

static void
ft_results_view_dispose (GObject *object)
{
  FtResultsView *self = FT_RESULTS_VIEW (object);
  g_clear_handle_id (&self->rebuild_id, g_source_remove);
  if (self->session)
    g_signal_handlers_disconnect_by_data (self->session, self);
  g_clear_object (&self->session);
  G_OBJECT_CLASS (ft_results_view_parent_class)->dispose (object);
}

static void
ft_results_view_finalize (GObject *object)
{
  FtResultsView *self = FT_RESULTS_VIEW (object);
  g_ptr_array_unref (self->runs);
  g_array_unref (self->compared);
  g_hash_table_unref (self->widgets);
  g_free (self->status);
  G_OBJECT_CLASS (ft_results_view_parent_class)->finalize (object);
}

static void
ft_results_view_class_init (FtResultsViewClass *klass)
{
  GObjectClass *oc = G_OBJECT_CLASS (klass);
  oc->dispose = ft_results_view_dispose;
  oc->finalize = ft_results_view_finalize;
}

static void
ft_results_view_init (FtResultsView *self)
{
  self->runs = g_ptr_array_new_with_free_func ((GDestroyNotify) ft_run_free);
  self->compared = g_array_new (FALSE, FALSE, sizeof (guint));
  self->widgets = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  self->status = g_strdup ("");
  gtk_window_set_title (GTK_WINDOW (self), "Compare Runs");
  gtk_window_set_default_size (GTK_WINDOW (self), 1000, 600);

  GtkWidget *box = gtk_box_new (GTK_ORIENTATION_VERTICAL, 6);
  GtkWidget *bar = gtk_box_new (GTK_ORIENTATION_HORIZONTAL, 12);
  gtk_widget_set_margin_start (bar, 12);
  gtk_widget_set_margin_end (bar, 12);
  gtk_widget_set_margin_top (bar, 10);
  self->include_check = gtk_check_button_new_with_mnemonic ("_Include runs stopped early");
  gtk_widget_set_tooltip_text (self->include_check, "Compare runs that did not reach their scenario's end too, "
                               "marked with where they stopped");
  g_signal_connect (self->include_check, "toggled", G_CALLBACK (on_include_toggled), self);
  gtk_box_append (GTK_BOX (bar), self->include_check);
  GtkWidget *export = gtk_button_new_with_mnemonic ("_Export CSV…");
  gtk_widget_set_tooltip_text (export, "Write the comparison as shown to a CSV file");
  gtk_widget_set_hexpand (export, TRUE);
  gtk_widget_set_halign (export, GTK_ALIGN_END);
  g_signal_connect (export, "clicked", G_CALLBACK (on_export), self);
  gtk_box_append (GTK_BOX (bar), export);
  gtk_box_append (GTK_BOX (box), bar);

  self->summary_label = cell ("", 0, NULL);
  gtk_label_set_wrap (GTK_LABEL (self->summary_label), TRUE);
  gtk_widget_set_margin_start (self->summary_label, 12);
  gtk_widget_set_margin_end (self->summary_label, 12);
  gtk_box_append (GTK_BOX (box), self->summary_label);
  self->status_label = cell ("", 0, NULL);
  gtk_label_set_wrap (GTK_LABEL (self->status_label), TRUE);
  gtk_widget_set_margin_start (self->status_label, 12);
  gtk_widget_set_visible (self->status_label, FALSE);
  gtk_box_append (GTK_BOX (box), self->status_label);

  self->scrolled = gtk_scrolled_window_new ();
  gtk_widget_set_vexpand (self->scrolled, TRUE);
  gtk_box_append (GTK_BOX (box), self->scrolled);
  gtk_window_set_child (GTK_WINDOW (self), box);
}

FtResultsView *
ft_results_view_new (GtkWindow *parent, FtSession *session)
{
  g_return_val_if_fail (FT_IS_SESSION (session), NULL);
  FtResultsView *self = g_object_new (FT_TYPE_RESULTS_VIEW, "transient-for", parent, NULL);
  self->session = g_object_ref (session);
  g_signal_connect_swapped (session, "runs-changed", G_CALLBACK (queue_rebuild), self);
  g_signal_connect_swapped (session, "loaded", G_CALLBACK (queue_rebuild), self);
  g_signal_connect_swapped (session, "notify::finished", G_CALLBACK (queue_rebuild), self);
  g_signal_connect_swapped (session, "notify::playing", G_CALLBACK (queue_rebuild), self);   /* paused: show where */
  rebuild (self);
  return self;
}

/* ---- for tests ---- */

static void
collect (GtkWidget *w, GString *s)
{
  if (GTK_IS_LABEL (w) && gtk_widget_get_visible (w))
    g_string_append_printf (s, "%s\t", gtk_label_get_text (GTK_LABEL (w)));
  if (GTK_IS_ENTRY (w))
    {
      g_string_append_printf (s, "%s\t", gtk_editable_get_text (GTK_EDITABLE (w)));
      return;
    }
  for (GtkWidget *c = gtk_widget_get_first_child (w); c; c = gtk_widget_get_next_sibling (c))
    collect (c, s);
}

char *
ft_results_view_dup_text (FtResultsView *self)
{
  g_return_val_if_fail (FT_IS_RESULTS_VIEW (self), NULL);
  if (self->rebuild_id)
    rebuild (self);
  GString *s = g_string_new (NULL);
  collect (GTK_WIDGET (self), s);
  return g_string_free (s, FALSE);
}

void
ft_results_view_set_include_partial (FtResultsView *self, gboolean include)
{
  g_return_if_fail (FT_IS_RESULTS_VIEW (self));
  gtk_check_button_set_active (GTK_CHECK_BUTTON (self->include_check), include);
  rebuild (self);
}

GArray *
ft_results_view_get_compared (FtResultsView *self)
{
  g_return_val_if_fail (FT_IS_RESULTS_VIEW (self), NULL);
  if (self->rebuild_id)
    rebuild (self);
  return self->compared;
}

guint
ft_results_view_get_baseline (FtResultsView *self)
{
  g_return_val_if_fail (FT_IS_RESULTS_VIEW (self), 0);
  if (self->rebuild_id)
    rebuild (self);
  return self->baseline;
}

static GtkWidget *
lookup (FtResultsView *self, const char *key)
{
  if (self->rebuild_id)
    rebuild (self);
  return g_hash_table_lookup (self->widgets, key);
}

GtkWidget *
ft_results_view_get_name_label (FtResultsView *self, guint id)
{
  g_autofree char *k = g_strdup_printf ("name/%u", id);
  return lookup (self, k);
}

GtkWidget *
ft_results_view_get_diff_label (FtResultsView *self, guint id, const char *kpi)
{
  g_autofree char *k = g_strdup_printf ("diff/%u/%s", id, kpi);
  return lookup (self, k);
}

GtkWidget *
ft_results_view_get_button (FtResultsView *self, guint id, const char *which)
{
  g_autofree char *k = g_strdup_printf ("%s/%u", which, id);
  return lookup (self, k);
}

const char *
ft_results_view_get_status (FtResultsView *self)
{
  g_return_val_if_fail (FT_IS_RESULTS_VIEW (self), "");
  return self->status;
}
