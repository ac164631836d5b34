/* ft-rider-data-dialog.c — see ft-rider-data-dialog.h. Built in code: the
 * run's database, two entries, Export… and Erase…, a status line. */
#include "ft-rider-data-dialog.h"

#include "ft-file.h"
#include <string.h>
#include "ft-region-data.h"
#include "ft-session.h"
#include "ft-sim-world.h"

struct _FtRiderDataDialog {
  GtkWindow  parent_instance;
  FtSession *session;
  GtkWidget *rider, *actor, *status;
};

G_DEFINE_FINAL_TYPE (FtRiderDataDialog, ft_rider_data_dialog, GTK_TYPE_WINDOW)

static void
ft_rider_data_dialog_dispose (GObject *object)
{
  FtRiderDataDialog *self = FT_RIDER_DATA_DIALOG (object);
  g_clear_object (&self->session);
  G_OBJECT_CLASS (ft_rider_data_dialog_parent_class)->dispose (object);
}

static void
ft_rider_data_dialog_class_init (FtRiderDataDialogClass *klass)
{
  G_OBJECT_CLASS (klass)->dispose = ft_rider_data_dialog_dispose;
}

static void
set_status (FtRiderDataDialog *self, const char *text)
{
  gtk_label_set_text (GTK_LABEL (self->status), text);
}

/* ---- the job on the twin thread -------------------------------------------- */

typedef struct {
  const char *store, *out_path;
  FtRightsRequest req;
  gboolean erase;
  GError *error;
  FtErasureResult res;
} Job;

static char *
rights_job (FtSimWorld *world, gpointer data)
{
  Job *j = data;
  FtCore *core = ft_sim_world_get_core (world);
  g_autofree char *json = NULL;
  g_autoptr(FtOutput) out = NULL;

  /* Everything the run did so far is in the file first. */
  if (!ft_core_commit (core, &j->error))
    return NULL;
  if (j->erase)
    {
      if (!ft_rights_erase (&j->req, &j->res, &j->error))
        return NULL;
      ft_rights_erase_in_memory (core->accounts, core->booking, core->log, &j->res);
      return g_strdup_printf ("Erased: the rider is now %s. Trips kept: %u; trips coarsened to a %.0f m "
                              "grid: %" G_GINT64_FORMAT ". The audit log has the request.",
                              j->res.pseudonym, j->res.trips, j->res.cell_m, j->res.bookings_coarsened);
    }
  out = ft_output_begin (j->out_path, FT_OUTPUT_FILE, NULL, FALSE, &j->error);
  if (out == NULL || (json = ft_rights_export (&j->req, &j->error)) == NULL ||
      !g_file_set_contents (ft_output_get_path (out), json, -1, &j->error) ||
      !ft_output_commit (g_steal_pointer (&out), &j->error))
    return NULL;
  return g_strdup_printf ("Exported to %s (%zu bytes). The audit log has the request.", j->out_path,
                          strlen (json));
}

static gboolean
run (FtRiderDataDialog *self, gboolean erase, const char *out_path, GError **error)
{
  Job j = { 0 };
  g_autofree char *msg = NULL;

  j.store = ft_session_get_store_path (self->session);
  if (j.store == NULL)
    {
      g_set_error (error, FT_REGION_DATA_ERROR, FT_REGION_DATA_ERROR_INPUT,
                   "This run is not recorded to a database; there is nothing to export or erase.");
      set_status (self, (*error)->message);
      return FALSE;
    }
  j.erase = erase;
  j.out_path = out_path;
  j.req.store = j.store;
  j.req.rider = gtk_editable_get_text (GTK_EDITABLE (self->rider));
  j.req.actor = gtk_editable_get_text (GTK_EDITABLE (self->actor));
  j.req.now = ft_session_get_time (self->session);
  j.req.core_logs_event = TRUE;   /* the run's core writes this store */
  msg = ft_session_run_job_sync (self->session, rights_job, &j);
  if (msg == NULL)
    {
      if (j.error == NULL)
        g_set_error (&j.error, FT_REGION_DATA_ERROR, FT_REGION_DATA_ERROR_STORE, "the run is not loaded");
      set_status (self, j.error->message);
      g_propagate_error (error, j.error);
      return FALSE;
    }
  set_status (self, msg);
  return TRUE;
}

gboolean
ft_rider_data_dialog_export_to (FtRiderDataDialog *self, const char *path, GError **error)
{
  g_return_val_if_fail (FT_IS_RIDER_DATA_DIALOG (self) && path != NULL, FALSE);
  return run (self, FALSE, path, error);
}

gboolean
ft_rider_data_dialog_erase (FtRiderDataDialog *self, GError **error)
{
  g_return_val_if_fail (FT_IS_RIDER_DATA_DIALOG (self), FALSE);
  return run (self, TRUE, NULL, error);
}

/* ---- buttons ------------------------------------------------------------------ */

static void
on_export_response (GtkNativeDialog *dialog, int response, FtRiderDataDialog *self)
{
  if (response == GTK_RESPONSE_ACCEPT)
    {
      g_autoptr(GFile) file = gtk_file_chooser_get_file (GTK_FILE_CHOOSER (dialog));
      g_autofree char *path = file ? g_file_get_path (file) : NULL;
      if (path)
        ft_rider_data_dialog_export_to (self, path, NULL);
      else
        set_status (self, "Cannot write there: not a local file");
    }
  g_object_unref (dialog);
}

static void
on_export_clicked (FtRiderDataDialog *self)
{
  GtkFileChooserNative *fc = gtk_file_chooser_native_new ("Export Rider Data", GTK_WINDOW (self),
                                                          GTK_FILE_CHOOSER_ACTION_SAVE, "_Export", NULL);
  GtkFileFilter *filter = gtk_file_filter_new ();
  gtk_file_filter_set_name (filter, "JSON files");
  gtk_file_filter_add_pattern (filter, "*.json");
  gtk_file_chooser_add_filter (GTK_FILE_CHOOSER (fc), filter);
  g_object_unref (filter);
  gtk_file_chooser_set_current_name (GTK_FILE_CHOOSER (fc), "rider-data.json");
  g_signal_connect (fc, "response", G_CALLBACK (on_export_response), self);
  gtk_native_dialog_show (GTK_NATIVE_DIALOG (fc));
}

static void
on_confirm_response (GtkDialog *dialog, int response, FtRiderDataDialog *self)
{
  gtk_window_destroy (GTK_WINDOW (dialog));
  if (response == GTK_RESPONSE_ACCEPT)
    ft_rider_data_dialog_erase (self, NULL);
  else
    set_status (self, "Nothing erased.");
}

void
ft_rider_data_dialog_confirm_erase (FtRiderDataDialog *self)
{
  g_return_if_fail (FT_IS_RIDER_DATA_DIALOG (self));
  G_GNUC_BEGIN_IGNORE_DEPRECATIONS
  GtkWidget *d = gtk_message_dialog_new (GTK_WINDOW (self), GTK_DIALOG_MODAL | GTK_DIALOG_DESTROY_WITH_PARENT,
                                         GTK_MESSAGE_WARNING, GTK_BUTTONS_NONE,
                                         "Erase the personal data of %s?",
                                         gtk_editable_get_text (GTK_EDITABLE (self->rider)));
  gtk_message_dialog_format_secondary_text (GTK_MESSAGE_DIALOG (d),
    "Their name and e-mail are removed for good and their trips' positions coarsened. "
    "Trips, payments and the ledger stay under a pseudonym.");
  gtk_dialog_add_buttons (GTK_DIALOG (d), "_Cancel", GTK_RESPONSE_CANCEL, "_Erase", GTK_RESPONSE_ACCEPT, NULL);
  gtk_widget_add_css_class (gtk_dialog_get_widget_for_response (GTK_DIALOG (d), GTK_RESPONSE_ACCEPT),
                            "destructive-action");
  G_GNUC_END_IGNORE_DEPRECATIONS
  g_signal_connect (d, "response", G_CALLBACK (on_confirm_response), self);
  gtk_window_present (GTK_WINDOW (d));
}

static GtkWidget *
add_row (GtkGrid *grid, int row, const char *label, GtkWidget *w, const char *tip)
{
  GtkWidget *l = gtk_label_new_with_mnemonic (label);
  gtk_label_set_xalign (GTK_LABEL (l), 1);
  gtk_label_set_mnemonic_widget (GTK_LABEL (l), w);
  gtk_widget_set_hexpand (w, TRUE);
  if (tip)
    gtk_widget_set_tooltip_text (w, tip);
  gtk_grid_attach (grid, l, 0, row, 1, 1);
  gtk_grid_attach (grid, w, 1, row, 1, 1);
  return w;
}

static void
ft_rider_data_dialog_init (FtRiderDataDialog *self)
{
  gtk_window_set_title (GTK_WINDOW (self), "Rider Data");
  gtk_window_set_default_size (GTK_WINDOW (self), 560, -1);
  GtkWidget *box = gtk_box_new (GTK_ORIENTATION_VERTICAL, 10);
  gtk_widget_set_margin_start (box, 14);
  gtk_widget_set_margin_end (box, 14);
  gtk_widget_set_margin_top (box, 14);
  gtk_widget_set_margin_bottom (box, 14);
  GtkGrid *grid = GTK_GRID (gtk_grid_new ());
  gtk_grid_set_row_spacing (grid, 6);
  gtk_grid_set_column_spacing (grid, 10);
  self->rider = add_row (grid, 0, "_Rider", gtk_entry_new (), "Account id, e-mail or #INDEX");
  self->actor = add_row (grid, 1, "_Acting as", gtk_entry_new (),
                         "Who asks: the rider themself, a dispatcher (export) or an admin (export, erase)");
  gtk_box_append (GTK_BOX (box), GTK_WIDGET (grid));
  GtkWidget *buttons = gtk_box_new (GTK_ORIENTATION_HORIZONTAL, 8);
  gtk_widget_set_halign (buttons, GTK_ALIGN_END);
  GtkWidget *exp = gtk_button_new_with_mnemonic ("_Export…");
  GtkWidget *era = gtk_button_new_with_mnemonic ("E_rase…");
  gtk_widget_add_css_class (era, "destructive-action");
  g_signal_connect_swapped (exp, "clicked", G_CALLBACK (on_export_clicked), self);
  g_signal_connect_swapped (era, "clicked", G_CALLBACK (ft_rider_data_dialog_confirm_erase), self);
  gtk_box_append (GTK_BOX (buttons), exp);
  gtk_box_append (GTK_BOX (buttons), era);
  gtk_box_append (GTK_BOX (box), buttons);
  self->status = gtk_label_new ("");
  gtk_label_set_wrap (GTK_LABEL (self->status), TRUE);
  gtk_label_set_xalign (GTK_LABEL (self->status), 0);
  gtk_label_set_selectable (GTK_LABEL (self->status), TRUE);
  gtk_box_append (GTK_BOX (box), self->status);
  gtk_window_set_child (GTK_WINDOW (self), box);
}

FtRiderDataDialog *
ft_rider_data_dialog_new (FtWindow *parent)
{
  FtRiderDataDialog *self = g_object_new (FT_TYPE_RIDER_DATA_DIALOG, "transient-for", parent, NULL);
  const char *store;

  self->session = g_object_ref (ft_window_get_session (parent));
  store = ft_session_get_store_path (self->session);
  g_autofree char *msg = store ? g_strdup_printf ("The run's database: %s", store)
                               : g_strdup ("This run is not recorded to a database.");
  set_status (self, msg);
  return self;
}

void
ft_rider_data_dialog_set_accounts (FtRiderDataDialog *self, const char *rider, const char *actor)
{
  g_return_if_fail (FT_IS_RIDER_DATA_DIALOG (self));
  gtk_editable_set_text (GTK_EDITABLE (self->rider), rider ? rider : "");
  gtk_editable_set_text (GTK_EDITABLE (self->actor), actor ? actor : "");
}

const char *
ft_rider_data_dialog_get_status (FtRiderDataDialog *self)
{
  g_return_val_if_fail (FT_IS_RIDER_DATA_DIALOG (self), NULL);
  return gtk_label_get_text (GTK_LABEL (self->status));
}
