/* ft-region-dialog.h — "New Region…" (issue 21): the inputs of the region
 * launch playbook (an OSM extract, trips, a GBFS snapshot, policy
 * geometry, a time zone and the output folder) with file choosers; Launch
 * runs src/region's ft_region_launch on a worker thread (the fleet sweep on
 * the simulator, as `fleet-twin-cli region launch` does) with the steps as
 * progress, then offers to open the region's launch scenario.
 */
#pragma once

#include <gtk/gtk.h>
#include "ft-window.h"

G_BEGIN_DECLS

#define FT_TYPE_REGION_DIALOG (ft_region_dialog_get_type ())
G_DECLARE_FINAL_TYPE (FtRegionDialog, ft_region_dialog, FT, REGION_DIALOG, GtkWindow)

typedef enum {
  FT_REGION_FIELD_OSM = 0,
  FT_REGION_FIELD_TRIPS,
  FT_REGION_FIELD_GBFS,
  FT_REGION_FIELD_POLICY,
  FT_REGION_FIELD_TIME_ZONE,
  FT_REGION_FIELD_OUT,
  FT_REGION_N_FIELDS
} FtRegionField;

FtRegionDialog *ft_region_dialog_new         (FtWindow *parent);
/* What the entries (and the file choosers) set; "" or NULL: not given. */
void            ft_region_dialog_set_field   (FtRegionDialog *self, FtRegionField field, const char *value);
/* Fleet sizes the sweep simulates (0..6, default 4) and the highest tile
 * zoom (0: no tiles; default 15). */
void            ft_region_dialog_set_sweep   (FtRegionDialog *self, guint points, int tiles_zmax);
/* Starts the playbook in the background; FALSE (with the reason in the
 * status) when an input is missing. */
gboolean        ft_region_dialog_launch      (FtRegionDialog *self);
gboolean        ft_region_dialog_is_running  (FtRegionDialog *self);
/* TRUE once a launch finished and wrote the folder. */
gboolean        ft_region_dialog_succeeded   (FtRegionDialog *self);
const char     *ft_region_dialog_get_status  (FtRegionDialog *self);
/* Opens the launch scenario in the main window (the button shown after a
 * launch). */
gboolean        ft_region_dialog_open_scenario (FtRegionDialog *self, GError **error);

G_END_DECLS
