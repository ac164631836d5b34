/* ft-scenario-editor.h — edit the current scenario (fleet size and mix,
 * staff, pricing, features, seed, days), save it as a .scenario file, and
 * apply it (the session restarts on the edited scenario). Also the scenario
 * writer, whose output ft_sim_scenario_parse reads back unchanged.
 */
#pragma once

#include <gtk/gtk.h>
#include "ft-session.h"

G_BEGIN_DECLS

#define FT_TYPE_SCENARIO_EDITOR (ft_scenario_editor_get_type ())
G_DECLARE_FINAL_TYPE (FtScenarioEditor, ft_scenario_editor, FT, SCENARIO_EDITOR, GtkWindow)

FtScenarioEditor *ft_scenario_editor_new (GtkWindow *parent, FtSession *session);
/* The scenario as the edited fields describe it (caller frees). */
FtSimScenario    *ft_scenario_editor_dup_scenario (FtScenarioEditor *self);

/* Scenario file text for sc (key-file syntax, every key written). */
char             *ft_scenario_to_text (const FtSimScenario *sc);
gboolean          ft_scenario_save    (const FtSimScenario *sc, const char *path, GError **error);

/* Results view: the archived runs and the current one side by side. */
GtkWidget        *ft_results_view_new (GtkWindow *parent, FtSession *session);

G_END_DECLS
