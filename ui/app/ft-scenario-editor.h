/* ft-scenario-editor.h — edit the current scenario, every key of the
 * format (sim/ft-sim-scenario.h defines them once), save it as a .scenario
 * file with its comments kept, and apply it (the session restarts on the
 * edited scenario).
 */
#pragma once

#include <gtk/gtk.h>
#include "ft-session.h"

G_BEGIN_DECLS

#define FT_TYPE_SCENARIO_EDITOR (ft_scenario_editor_get_type ())
G_DECLARE_FINAL_TYPE (FtScenarioEditor, ft_scenario_editor, FT, SCENARIO_EDITOR, GtkWindow)

FtScenarioEditor *ft_scenario_editor_new (GtkWindow *parent, FtSession *session);
/* Shows sc in the fields (the base that Save and Apply start from). */
void              ft_scenario_editor_set_scenario (FtScenarioEditor *self, const FtSimScenario *sc);
/* The scenario as the edited fields describe it (caller frees), or NULL
 * with an error naming the [group] key whose text is bad (its field is
 * marked and focused). */
FtSimScenario    *ft_scenario_editor_dup_scenario (FtScenarioEditor *self, GError **error);
/* Saves the fields' scenario to path (ft_sim_scenario_save: comments of
 * the file it came from kept). */
gboolean          ft_scenario_editor_save_to      (FtScenarioEditor *self, const char *path, GError **error);
/* The field of [group] key (a GtkEntry or a GtkSwitch), and their count. */
GtkWidget        *ft_scenario_editor_get_field    (FtScenarioEditor *self, const char *group, const char *key);
guint             ft_scenario_editor_get_n_fields (FtScenarioEditor *self);
/* The status line under the form (errors, "Saved …"). */
const char       *ft_scenario_editor_get_status   (FtScenarioEditor *self);


G_END_DECLS
