/* ft-import-dialog.h — import an OpenStreetMap PBF file as a city pack from
 * the app: the import (ft_city_import_osm), saving the pack and baking its
 * tiles run on a worker thread while a progress bar follows; on success
 * "imported" is emitted with the pack folder.
 */
#pragma once

#include <gtk/gtk.h>

G_BEGIN_DECLS

#define FT_TYPE_IMPORT_DIALOG (ft_import_dialog_get_type ())
G_DECLARE_FINAL_TYPE (FtImportDialog, ft_import_dialog, FT, IMPORT_DIALOG, GtkWindow)

/* Starts importing pbf_path into out_dir at once. */
FtImportDialog *ft_import_dialog_new (GtkWindow *parent, const char *pbf_path, const char *out_dir);

G_END_DECLS
