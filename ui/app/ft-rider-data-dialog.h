/* ft-rider-data-dialog.h — "Rider Data…" (issue 21): a rider's data rights
 * on the database of the window's run. Export writes everything the run's
 * store holds about a rider as JSON to a file chosen in a file chooser;
 * Erase asks for confirmation first. Both call src/region's
 * ft_rights_export / ft_rights_erase on the twin thread (the run paused
 * there, its pending events committed first), role-checked as the account
 * given in "Acting as" and audited in the store; an erasure is then made
 * in the run's memory too.
 */
#pragma once

#include <gtk/gtk.h>
#include "ft-window.h"

G_BEGIN_DECLS

#define FT_TYPE_RIDER_DATA_DIALOG (ft_rider_data_dialog_get_type ())
G_DECLARE_FINAL_TYPE (FtRiderDataDialog, ft_rider_data_dialog, FT, RIDER_DATA_DIALOG, GtkWindow)

FtRiderDataDialog *ft_rider_data_dialog_new       (FtWindow *parent);
/* The rider and the actor: an account id, an e-mail or #INDEX. */
void               ft_rider_data_dialog_set_accounts (FtRiderDataDialog *self, const char *rider,
                                                      const char *actor);
/* What Export's file chooser and Erase's confirmation end in; block until done. */
gboolean           ft_rider_data_dialog_export_to (FtRiderDataDialog *self, const char *path,
                                                   GError **error);
gboolean           ft_rider_data_dialog_erase     (FtRiderDataDialog *self, GError **error);
/* Shows the confirmation Erase… shows (Cancel, Erase). */
void               ft_rider_data_dialog_confirm_erase (FtRiderDataDialog *self);
/* The status line (what the last action did, or why it was refused). */
const char        *ft_rider_data_dialog_get_status (FtRiderDataDialog *self);

G_END_DECLS
