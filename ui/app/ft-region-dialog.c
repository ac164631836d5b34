/* ft-region-dialog.c — the "New Region…" assistant. The dialog only
 * gathers the playbook's inputs; ft_region_launch does the work on a
 * worker thread (it writes its folder through FtOutput: refused input
 * leaves nothing behind) and reports each step, which the dialog shows
 * under a pulsing progress bar.
 */
#include "ft-region-dialog.h"

#include "ft-region.h"
#include "ft-sim-world.h"

#include <gsl/gsl_errno.h>

typedef struct {
  char       *field[FT_REGION_N_FIELDS];
  guint       sweep;
  int         zmax;
  GMutex      lock;
  char       *step;        /* guarded by lock */
  guint       n_steps;     /* guarded by lock */
} LaunchData;

static void
launch_data_free (gpointer p)
{
  LaunchData *d = p;
  for (guint i = 0; i < FT_REGION_N_FIELDS; i++)
    g_free (d->field[i]);
  g_mutex_clear (&d->lock);
  g_free (d->step);
  g_free (d);
}

struct _FtRegionDialog {
  GtkWindow   parent_instance;

  FtWindow   *parent;      /* weak */
  GtkWidget  *entries[FT_REGION_N_FIELDS];
  GtkWidget  *launch_button;
  GtkWidget  *open_button;
  GtkWidget  *progress;
  GtkWidget  *status_label;

  guint       sweep;
  int         zmax;
  LaunchData *running;     /* borrowed from the task while it runs */
  guint       poll_id;
  gboolean    disposed;
  gboolean    succeeded;
  char       *out_dir;     /* of the last successful launch */
  char       *status;
};

G_DEFINE_FINAL_TYPE (FtRegionDialog, ft_region_dialog, GTK_TYPE_WINDOW)

static const struct {
  const char *label;
  const char *a11y;
  const char *placeholder;
  int         action;   /* GtkFileChooserAction, or -1: no chooser */
} fields[FT_REGION_N_FIELDS] = {
  { "_OpenStreetMap extract", "OpenStreetMap extract (.osm.pbf), required", "required: .osm.pbf",
    GTK_FILE_CHOOSER_ACTION_OPEN },
  { "_Trips", "Trip data, CSV or MDS trips JSON (optional)", "optional: CSV or MDS trips JSON",
    GTK_FILE_CHOOSER_ACTION_OPEN },
  { "_GBFS snapshot", "GBFS snapshot folder of the current fleet (optional)", "optional: GBFS 2.3 / 3.0 folder",
    GTK_FILE_CHOOSER_ACTION_SELECT_FOLDER },
  { "_Policy geometry", "Policy geometry: GeoJSON, MDS Geography or GBFS geofencing zones (optional)",
    "optional: GeoJSON / MDS Geography", GTK_FILE_CHOOSER_ACTION_OPEN },
  { "Time _zone", "Time zone, IANA name such as Europe/Helsinki (optional)",
    "optional: e.g. Europe/Helsinki (default: from the extract's position)", -1 },
  { "Output _folder", "The region folder to write, required", "required: a new folder",
    GTK_FILE_CHOOSER_ACTION_SELECT_FOLDER },
};

static void
set_status (FtRegionDialog *self, const char *text, gboolean is_error)
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

/* ---- the worker thread ---- */

static void
on_step (const char *step, gpointer user_data)
{
  LaunchData *d = user_data;
  g_mutex_lock (&d->lock);
  g_free (d->step);
  d->step = g_strdup (step);
  d->n_steps++;
  g_mutex_unlock (&d->lock);
}

static const char *
opt (const char *s)
{
  return s && *s ? s : NULL;
}

static void
launch_thread (GTask *task, gpointer source, gpointer task_data, GCancellable *cancellable)
{
  LaunchData *d = task_data;
  g_autoptr(GError) error = NULL;
  FtRegionInputs in;
  ft_region_inputs_init (&in);
  in.osm_path = d->field[FT_REGION_FIELD_OSM];
  in.trips_path = opt (d->field[FT_REGION_FIELD_TRIPS]);
  in.gbfs_path = opt (d->field[FT_REGION_FIELD_GBFS]);
  in.policy_path = opt (d->field[FT_REGION_FIELD_POLICY]);
  in.time_zone = opt (d->field[FT_REGION_FIELD_TIME_ZONE]);
  in.out_dir = d->field[FT_REGION_FIELD_OUT];
  in.sweep_points = d->sweep;
  in.tiles_zmax = d->zmax;
  FtRegionReport *r = ft_region_launch (&in, ft_sim_world_region_sweep, on_step, d, &error);
  if (!r)
    g_task_return_error (task, g_steal_pointer (&error));
  else
    g_task_return_pointer (task, r, (GDestroyNotify) ft_region_report_free);
}

/* ---- the main thread ---- */

static gboolean
poll_progress (gpointer user_data)
{
  FtRegionDialog *self = user_data;
  if (!self->running)
    return G_SOURCE_CONTINUE;
  g_mutex_lock (&self->running->lock);
  g_autofree char *step = g_strdup (self->running->step);
  g_mutex_unlock (&self->running->lock);
  gtk_progress_bar_pulse (GTK_PROGRESS_BAR (self->progress));
  if (step)
    gtk_progress_bar_set_text (GTK_PROGRESS_BAR (self->progress), step);
  return G_SOURCE_CONTINUE;
}

static void
on_launch_done (GObject *source, GAsyncResult *result, gpointer user_data)
{
  FtRegionDialog *self = FT_REGION_DIALOG (source);
  LaunchData *d = g_task_get_task_data (G_TASK (result));
  g_autoptr(GError) error = NULL;
  g_autoptr(FtRegionReport) r = g_task_propagate_pointer (G_TASK (result), &error);

  self->running = NULL;
  g_clear_handle_id (&self->poll_id, g_source_remove);
  if (self->disposed)
    return;
  gtk_widget_set_sensitive (self->launch_button, TRUE);
  gtk_progress_bar_set_fraction (GTK_PROGRESS_BAR (self->progress), r ? 1.0 : 0.0);
  gtk_progress_bar_set_text (GTK_PROGRESS_BAR (self->progress), r ? "Done" : "Stopped");
  if (!r)
    {
      g_autofree char *msg = g_strdup_printf ("The region was not written: %s", error->message);
      set_status (self, msg, TRUE);
      return;
    }
  guint counts[3];
  ft_region_report_counts (r, counts);
  g_free (self->out_dir);
  self->out_dir = g_strdup (d->field[FT_REGION_FIELD_OUT]);
  self->succeeded = TRUE;
  g_autofree char *msg = g_strdup_printf ("Region %s written to %s: %u checks pass, %u warn, %u fail "
                                          "(checklist.txt and checklist.pdf in the folder).",
                                          r->name, self->out_dir, counts[0], counts[1], counts[2]);
  set_status (self, msg, counts[2] > 0);
  gtk_widget_set_visible (self->open_button, TRUE);
}

gboolean
ft_region_dialog_launch (FtRegionDialog *self)
{
  g_return_val_if_fail (FT_IS_REGION_DIALOG (self), FALSE);
  if (self->running)
    return FALSE;
  LaunchData *d = g_new0 (LaunchData, 1);
  g_mutex_init (&d->lock);
  for (guint i = 0; i < FT_REGION_N_FIELDS; i++)
    d->field[i] = g_strstrip (g_strdup (gtk_editable_get_text (GTK_EDITABLE (self->entries[i]))));
  d->sweep = self->sweep;
  d->zmax = self->zmax;
  const char *missing = !*d->field[FT_REGION_FIELD_OSM] ? "Choose the OpenStreetMap extract (.osm.pbf) first."
                        : !*d->field[FT_REGION_FIELD_OUT] ? "Choose the output folder first." : NULL;
  if (missing)
    {
      launch_data_free (d);
      set_status (self, missing, TRUE);
      return FALSE;
    }
  self->running = d;
  self->succeeded = FALSE;
  gtk_widget_set_visible (self->open_button, FALSE);
  gtk_widget_set_sensitive (self->launch_button, FALSE);
  gtk_progress_bar_set_text (GTK_PROGRESS_BAR (self->progress), "Starting…");
  set_status (self, "Running the launch playbook in the background…", FALSE);
  GTask *task = g_task_new (self, NULL, on_launch_done, NULL);
  g_task_set_task_data (task, d, launch_data_free);
  g_task_run_in_thread (task, launch_thread);
  g_object_unref (task);
  self->poll_id = g_timeout_add (150, poll_progress, self);
  return TRUE;
}

gboolean
ft_region_dialog_open_scenario (FtRegionDialog *self, GError **error)
{
  g_return_val_if_fail (FT_IS_REGION_DIALOG (self), FALSE);
  if (!self->out_dir || !self->parent)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND, "no region was launched yet");
      return FALSE;
    }
  g_autofree char *path = g_build_filename (self->out_dir, "launch.scenario", NULL);
  return ft_window_open_path (self->parent, path, FALSE, error);
}

static void
on_open_clicked (FtRegionDialog *self)
{
  g_autoptr(GError) error = NULL;
  if (ft_region_dialog_open_scenario (self, &error))
    gtk_window_destroy (GTK_WINDOW (self));
  else
    set_status (self, error->message, TRUE);
}

static void
on_launch_clicked (FtRegionDialog *self)
{
  ft_region_dialog_launch (self);
}

static void
on_chooser_response (GtkNativeDialog *dialog, int response, gpointer user_data)
{
  FtRegionDialog *self = user_data;
  if (response == GTK_RESPONSE_ACCEPT && !self->disposed)
    {
      g_autoptr(GFile) f = gtk_file_chooser_get_file (GTK_FILE_CHOOSER (dialog));
      g_autofree char *path = f ? g_file_get_path (f) : NULL;
      guint i = GPOINTER_TO_UINT (g_object_get_data (G_OBJECT (dialog), "field"));
      if (path)
        ft_region_dialog_set_field (self, i, path);
    }
  g_object_unref (dialog);
  g_object_unref (self);
}

static void
on_choose (GtkButton *button, gpointer user_data)
{
  FtRegionDialog *self = user_data;
  guint i = GPOINTER_TO_UINT (g_object_get_data (G_OBJECT (button), "field"));
  GtkFileChooserNative *fc = gtk_file_chooser_native_new (fields[i].a11y, GTK_WINDOW (self), (GtkFileChooserAction) fields[i].action,
                                                          "_Choose", "_Cancel");
  if (i == FT_REGION_FIELD_OUT)
    gtk_file_chooser_set_create_folders (GTK_FILE_CHOOSER (fc), TRUE);
  g_object_set_data (G_OBJECT (fc), "field", GUINT_TO_POINTER (i));
  g_signal_connect (fc, "response", G_CALLBACK (on_chooser_response), g_object_ref (self));
  gtk_native_dialog_show (GTK_NATIVE_DIALOG (fc));
}

static GtkWidget *
a11y_button (const char *label, const char *a11y)
{
  GtkWidget *b = gtk_button_new_with_mnemonic (label);
  gtk_accessible_update_property (GTK_ACCESSIBLE (b), GTK_ACCESSIBLE_PROPERTY_LABEL, a11y, -1);
  gtk_widget_set_tooltip_text (b, a11y);
  return b;
}

static void
ft_region_dialog_dispose (GObject *object)
{
  FtRegionDialog *self = FT_REGION_DIALOG (object);
  self->disposed = TRUE;
  g_clear_handle_id (&self->poll_id, g_source_remove);
  if (self->parent)
    g_object_remove_weak_pointer (G_OBJECT (self->parent), (gpointer *) &self->parent);
  self->parent = NULL;
  G_OBJECT_CLASS (ft_region_dialog_parent_class)->dispose (object);
}

static void
ft_region_dialog_finalize (GObject *object)
{
  FtRegionDialog *self = FT_REGION_DIALOG (object);
  g_free (self->out_dir);
  g_free (self->status);
  G_OBJECT_CLASS (ft_region_dialog_parent_class)->finalize (object);
}

static void
ft_region_dialog_class_init (FtRegionDialogClass *klass)
{
  GObjectClass *oc = G_OBJECT_CLASS (klass);
  oc->dispose = ft_region_dialog_dispose;
  oc->finalize = ft_region_dialog_finalize;
}

static void
ft_region_dialog_init (FtRegionDialog *self)
{
  self->sweep = 4;
  self->zmax = 15;
  gtk_window_set_title (GTK_WINDOW (self), "New Region");
  gtk_window_set_default_size (GTK_WINDOW (self), 720, -1);
  GtkWidget *box = gtk_box_new (GTK_ORIENTATION_VERTICAL, 10);
  gtk_widget_set_margin_start (box, 14);
  gtk_widget_set_margin_end (box, 14);
  gtk_widget_set_margin_top (box, 14);
  gtk_widget_set_margin_bottom (box, 14);
  GtkWidget *intro = gtk_label_new ("The launch playbook builds a region folder from raw inputs: the city pack "
                                    "and tiles, geofences, the fleet from the snapshot, fitted models, a launch "
                                    "scenario at the recommended fleet size and a launch checklist.");
  gtk_label_set_wrap (GTK_LABEL (intro), TRUE);
  gtk_label_set_xalign (GTK_LABEL (intro), 0);
  gtk_widget_add_css_class (intro, "dim-label");
  gtk_box_append (GTK_BOX (box), intro);

  GtkWidget *grid = gtk_grid_new ();
  gtk_grid_set_row_spacing (GTK_GRID (grid), 6);
  gtk_grid_set_column_spacing (GTK_GRID (grid), 8);
  for (guint i = 0; i < FT_REGION_N_FIELDS; i++)
    {
      GtkWidget *label = gtk_label_new_with_mnemonic (fields[i].label);
      gtk_label_set_xalign (GTK_LABEL (label), 1);
      self->entries[i] = gtk_entry_new ();
      gtk_entry_set_placeholder_text (GTK_ENTRY (self->entries[i]), fields[i].placeholder);
      gtk_widget_set_hexpand (self->entries[i], TRUE);
      gtk_label_set_mnemonic_widget (GTK_LABEL (label), self->entries[i]);
      gtk_accessible_update_property (GTK_ACCESSIBLE (self->entries[i]), GTK_ACCESSIBLE_PROPERTY_LABEL,
                                      fields[i].a11y, -1);
      gtk_grid_attach (GTK_GRID (grid), label, 0, (int) i, 1, 1);
      gtk_grid_attach (GTK_GRID (grid), self->entries[i], 1, (int) i, 1, 1);
      if (fields[i].action >= 0)
        {
          g_autofree char *a11y = g_strdup_printf ("Choose: %s", fields[i].a11y);
          GtkWidget *b = a11y_button ("Choose…", a11y);
          g_object_set_data (G_OBJECT (b), "field", GUINT_TO_POINTER (i));
          g_signal_connect (b, "clicked", G_CALLBACK (on_choose), self);
          gtk_grid_attach (GTK_GRID (grid), b, 2, (int) i, 1, 1);
        }
    }
  gtk_box_append (GTK_BOX (box), grid);

  self->progress = gtk_progress_bar_new ();
  gtk_progress_bar_set_show_text (GTK_PROGRESS_BAR (self->progress), TRUE);
  gtk_progress_bar_set_text (GTK_PROGRESS_BAR (self->progress), "");
  gtk_accessible_update_property (GTK_ACCESSIBLE (self->progress), GTK_ACCESSIBLE_PROPERTY_LABEL,
                                  "Progress of the launch playbook", -1);
  gtk_box_append (GTK_BOX (box), self->progress);
  self->status_label = gtk_label_new ("");
  gtk_label_set_wrap (GTK_LABEL (self->status_label), TRUE);
  gtk_label_set_xalign (GTK_LABEL (self->status_label), 0);
  gtk_label_set_selectable (GTK_LABEL (self->status_label), TRUE);
  gtk_box_append (GTK_BOX (box), self->status_label);

  GtkWidget *buttons = gtk_box_new (GTK_ORIENTATION_HORIZONTAL, 6);
  gtk_widget_set_halign (buttons, GTK_ALIGN_END);
  self->open_button = a11y_button ("_Open Launch Scenario", "Open the new region's launch scenario");
  g_signal_connect_swapped (self->open_button, "clicked", G_CALLBACK (on_open_clicked), self);
  gtk_widget_set_visible (self->open_button, FALSE);
  self->launch_button = a11y_button ("_Launch", "Run the region launch playbook in the background");
  gtk_widget_add_css_class (self->launch_button, "suggested-action");
  g_signal_connect_swapped (self->launch_button, "clicked", G_CALLBACK (on_launch_clicked), self);
  gtk_box_append (GTK_BOX (buttons), self->open_button);
  gtk_box_append (GTK_BOX (buttons), self->launch_button);
  gtk_box_append (GTK_BOX (box), buttons);
  gtk_window_set_child (GTK_WINDOW (self), box);
}

FtRegionDialog *
ft_region_dialog_new (FtWindow *parent)
{
  g_return_val_if_fail (FT_IS_WINDOW (parent), NULL);
  gsl_set_error_handler_off ();
  FtRegionDialog *self = g_object_new (FT_TYPE_REGION_DIALOG, "transient-for", parent, NULL);
  self->parent = parent;
  g_object_add_weak_pointer (G_OBJECT (parent), (gpointer *) &self->parent);
  return self;
}

void
ft_region_dialog_set_field (FtRegionDialog *self, FtRegionField field, const char *value)
{
  g_return_if_fail (FT_IS_REGION_DIALOG (self) && field < FT_REGION_N_FIELDS);
  gtk_editable_set_text (GTK_EDITABLE (self->entries[field]), value ? value : "");
}

void
ft_region_dialog_set_sweep (FtRegionDialog *self, guint points, int tiles_zmax)
{
  self->sweep = MIN (points, 6u);
  self->zmax = tiles_zmax;
}

gboolean
ft_region_dialog_is_running (FtRegionDialog *self)
{
  return self->running != NULL;
}

gboolean
ft_region_dialog_succeeded (FtRegionDialog *self)
{
  return self->succeeded;
}

const char *
ft_region_dialog_get_status (FtRegionDialog *self)
{
  return self->status ? self->status : "";
}
