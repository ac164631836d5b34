/* ft-import-dialog.c — see ft-import-dialog.h. The worker writes its phase
 * and fraction into atomics; a 100 ms timeout on the main thread shows them. */
#include "ft-import-dialog.h"
#include "ft-tiles.h"

#include <glib/gstdio.h>

struct _FtImportDialog {
  GtkWindow parent_instance;
  GtkWidget *label;
  GtkWidget *bar;
  char      *pbf, *out;
  gint       phase;          /* atomic: 0 import, 1 save, 2 tiles, 3 done */
  gint       permille;       /* atomic */
  guint      timer;
};

G_DEFINE_FINAL_TYPE (FtImportDialog, ft_import_dialog, GTK_TYPE_WINDOW)

enum { SIGNAL_IMPORTED, N_SIGNALS };
static guint signals[N_SIGNALS];

static void
on_import_progress (double f, gpointer data)
{
  FtImportDialog *self = data;
  g_atomic_int_set (&self->permille, (gint) (f * 1000));
}

static gboolean
on_tiles_progress (double f, gpointer data)
{
  on_import_progress (f, data);
  return TRUE;
}

static void
import_thread (GTask *task, gpointer source, gpointer data, GCancellable *cancel)
{
  FtImportDialog *self = source;
  GError *error = NULL;
  g_autofree char *name = g_path_get_basename (self->pbf);
  char *dot = strchr (name, '.');
  if (dot)
    *dot = '\0';
  g_autoptr(FtCity) city = ft_city_import_osm (self->pbf, name, on_import_progress, self, &error);
  if (city == NULL)
    {
      g_task_return_error (task, error);
      return;
    }
  g_atomic_int_set (&self->phase, 1);
  if (!ft_city_save (city, self->out, &error))
    {
      g_task_return_error (task, error);
      return;
    }
  g_atomic_int_set (&self->phase, 2);
  g_autofree char *tiles = g_build_filename (self->out, "tiles.mbtiles", NULL);
  if (!ft_tiles_bake (city, tiles, 12, 16, FALSE, on_tiles_progress, self, &error))
    {
      g_task_return_error (task, error);
      return;
    }
  g_atomic_int_set (&self->phase, 3);
  g_task_return_boolean (task, TRUE);
}

static gboolean
on_timer (gpointer data)
{
  FtImportDialog *self = data;
  static const char *phases[] = { "Reading OpenStreetMap data…", "Saving the city pack…",
                                  "Baking map tiles…", "Done" };
  int ph = g_atomic_int_get (&self->phase);
  gtk_label_set_label (GTK_LABEL (self->label), phases[CLAMP (ph, 0, 3)]);
  gtk_progress_bar_set_fraction (GTK_PROGRESS_BAR (self->bar), g_atomic_int_get (&self->permille) / 1000.0);
  return G_SOURCE_CONTINUE;
}

static void
on_done (GObject *source, GAsyncResult *res, gpointer data)
{
  FtImportDialog *self = FT_IMPORT_DIALOG (source);
  g_autoptr(GError) error = NULL;
  g_clear_handle_id (&self->timer, g_source_remove);
  if (!g_task_propagate_boolean (G_TASK (res), &error))
    {
      gtk_label_set_label (GTK_LABEL (self->label), error->message);
      return;
    }
  gtk_progress_bar_set_fraction (GTK_PROGRESS_BAR (self->bar), 1.0);
  g_signal_emit (self, signals[SIGNAL_IMPORTED], 0, self->out);
  gtk_window_destroy (GTK_WINDOW (self));
}

static void
ft_import_dialog_finalize (GObject *object)
{
  FtImportDialog *self = FT_IMPORT_DIALOG (object);
  g_clear_handle_id (&self->timer, g_source_remove);
  g_free (self->pbf);
  g_free (self->out);
  G_OBJECT_CLASS (ft_import_dialog_parent_class)->finalize (object);
}

static void
ft_import_dialog_class_init (FtImportDialogClass *klass)
{
  G_OBJECT_CLASS (klass)->finalize = ft_import_dialog_finalize;
  signals[SIGNAL_IMPORTED] = g_signal_new ("imported", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST,
                                           0, NULL, NULL, NULL, G_TYPE_NONE, 1, G_TYPE_STRING);
}

static void
ft_import_dialog_init (FtImportDialog *self)
{
  gtk_window_set_title (GTK_WINDOW (self), "Import OpenStreetMap");
  gtk_window_set_default_size (GTK_WINDOW (self), 420, -1);
  GtkWidget *box = gtk_box_new (GTK_ORIENTATION_VERTICAL, 10);
  gtk_widget_set_margin_start (box, 18);
  gtk_widget_set_margin_end (box, 18);
  gtk_widget_set_margin_top (box, 18);
  gtk_widget_set_margin_bottom (box, 18);
  self->label = gtk_label_new ("Starting…");
  gtk_label_set_wrap (GTK_LABEL (self->label), TRUE);
  gtk_label_set_xalign (GTK_LABEL (self->label), 0);
  self->bar = gtk_progress_bar_new ();
  gtk_box_append (GTK_BOX (box), self->label);
  gtk_box_append (GTK_BOX (box), self->bar);
  gtk_window_set_child (GTK_WINDOW (self), box);
}

FtImportDialog *
ft_import_dialog_new (GtkWindow *parent, const char *pbf_path, const char *out_dir)
{
  FtImportDialog *self = g_object_new (FT_TYPE_IMPORT_DIALOG, "transient-for", parent, "modal", TRUE, NULL);
  self->pbf = g_strdup (pbf_path);
  self->out = g_strdup (out_dir);
  self->timer = g_timeout_add (100, on_timer, self);
  g_autoptr(GTask) task = g_task_new (self, NULL, on_done, NULL);
  g_task_run_in_thread (task, import_thread);
  return self;
}
