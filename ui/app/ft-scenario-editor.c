/* ft-scenario-editor.c — the scenario form: one field per key of the
 * scenario format (ft_sim_scenario_keys), checked by the parser's own rules,
 * saved by its writer (comments kept). */
#include "ft-scenario-editor.h"

#include <glib/gstdio.h>
#include <string.h>

struct _FtScenarioEditor {
  GtkWindow parent_instance;
  GtkWidget *grid;
  GtkWidget *save_button;
  GtkWidget *apply_button;
  GtkWidget *status_label;
  FtSession *session;
  FtSimScenario *base;
  GPtrArray *fields;          /* GtkWidget*, one per key of ft_sim_scenario_keys */
};

G_DEFINE_FINAL_TYPE (FtScenarioEditor, ft_scenario_editor, GTK_TYPE_WINDOW)

enum { SIGNAL_APPLIED, N_SIGNALS };
static guint signals[N_SIGNALS];

static const char *
group_title (const char *group)
{
  static const struct { const char *group, *title; } titles[] = {
    { "scenario", "Scenario" }, { "city", "City built from real data" }, { "fleet", "Fleet" },
    { "demand", "Demand" }, { "pricing", "Pricing" }, { "staff", "Staff and shifts" },
    { "rules", "Operating rules" }, { "batteries", "Batteries" }, { "faults", "Faults" },
    { "features", "Features" }, { "models", "Models (shadow, and acting in Phase 3)" },
    { "dynamic_pricing", "Dynamic pricing" }, { "incentives", "Relocation incentives" },
    { "support", "Rider support" }, { "costs", "Costs" },
  };
  for (guint i = 0; i < G_N_ELEMENTS (titles); i++)
    if (strcmp (titles[i].group, group) == 0)
      return titles[i].title;
  return group;
}

/* Reads every field into a copy of the base scenario. On bad input returns
 * NULL, with an error naming the key, and marks and focuses its field. */
static FtSimScenario *
read_fields (FtScenarioEditor *self, GError **error)
{
  guint n = 0;
  const FtSimScenarioKey *keys = ft_sim_scenario_keys (&n);
  g_autoptr(FtSimScenario) sc = ft_sim_scenario_copy (self->base);
  g_autoptr(FtSimScenario) def = ft_sim_scenario_new_default ();
  for (guint i = 0; i < n; i++)
    {
      GtkWidget *w = g_ptr_array_index (self->fields, i);
      gtk_widget_remove_css_class (w, "error");
      g_autofree char *text = NULL;
      if (GTK_IS_SWITCH (w))
        text = g_strdup (gtk_switch_get_active (GTK_SWITCH (w)) ? "true" : "false");
      else
        text = g_strstrip (g_strdup (gtk_editable_get_text (GTK_EDITABLE (w))));
      g_autofree char *dv = keys[i].type == FT_SIM_KEY_STRING ? ft_sim_scenario_get_value (def, &keys[i]) : NULL;
      if (keys[i].type == FT_SIM_KEY_STRING && text[0] == '\0' && dv == NULL)
        {
          /* an optional string (a path, a name, a list) left empty: the key is left out */
          char **field = (char **) ((guint8 *) sc + keys[i].offset);
          g_clear_pointer (field, g_free);
          continue;
        }
      if (!ft_sim_scenario_set_value (sc, &keys[i], text, error))
        {
          gtk_widget_add_css_class (w, "error");
          gtk_widget_grab_focus (w);
          return NULL;
        }
    }
  if (!ft_sim_scenario_check (sc, error))
    return NULL;
  return g_steal_pointer (&sc);
}

FtSimScenario *
ft_scenario_editor_dup_scenario (FtScenarioEditor *self, GError **error)
{
  g_return_val_if_fail (FT_IS_SCENARIO_EDITOR (self), NULL);
  return read_fields (self, error);
}

static void
show_status (FtScenarioEditor *self, const char *msg, gboolean is_error)
{
  gtk_label_set_label (GTK_LABEL (self->status_label), msg);
  if (is_error)
    gtk_widget_add_css_class (self->status_label, "error");
  else
    gtk_widget_remove_css_class (self->status_label, "error");
}

const char *
ft_scenario_editor_get_status (FtScenarioEditor *self)
{
  return gtk_label_get_label (GTK_LABEL (self->status_label));
}

static void
on_apply (GtkButton *b, FtScenarioEditor *self)
{
  g_autoptr(GError) error = NULL;
  FtSimScenario *sc = read_fields (self, &error);
  if (sc == NULL || !ft_session_load (self->session, sc, NULL, &error))
    {
      show_status (self, error->message, TRUE);
      return;
    }
  g_signal_emit (self, signals[SIGNAL_APPLIED], 0);
  gtk_window_destroy (GTK_WINDOW (self));
}

gboolean
ft_scenario_editor_save_to (FtScenarioEditor *self, const char *path, GError **error)
{
  g_autoptr(FtSimScenario) sc = read_fields (self, error);
  if (sc == NULL)
    return FALSE;
  return ft_sim_scenario_save (sc, path, FALSE, error);
}

static void
on_save_response (GtkNativeDialog *dialog, int response, FtScenarioEditor *self)
{
  if (response == GTK_RESPONSE_ACCEPT)
    {
      g_autoptr(GFile) file = gtk_file_chooser_get_file (GTK_FILE_CHOOSER (dialog));
      g_autofree char *path = g_file_get_path (file);
      g_autoptr(GError) error = NULL;
      if (ft_scenario_editor_save_to (self, path, &error))
        {
          g_autofree char *msg = g_strdup_printf ("Saved %s", path);
          show_status (self, msg, FALSE);
        }
      else
        show_status (self, error->message, TRUE);
    }
  g_object_unref (dialog);
}

static void
on_save (GtkButton *b, FtScenarioEditor *self)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(FtSimScenario) sc = read_fields (self, &error);
  if (sc == NULL)
    {
      show_status (self, error->message, TRUE);
      return;
    }
  GtkFileChooserNative *fc = gtk_file_chooser_native_new ("Save Scenario", GTK_WINDOW (self),
                                                          GTK_FILE_CHOOSER_ACTION_SAVE, NULL, NULL);
  g_autofree char *base = self->base->path ? g_path_get_basename (self->base->path) : g_strdup ("my.scenario");
  gtk_file_chooser_set_current_name (GTK_FILE_CHOOSER (fc), base);
  g_signal_connect (fc, "response", G_CALLBACK (on_save_response), self);
  gtk_native_dialog_show (GTK_NATIVE_DIALOG (fc));
}

static void
ft_scenario_editor_finalize (GObject *object)
{
  FtScenarioEditor *self = FT_SCENARIO_EDITOR (object);
  g_clear_object (&self->session);
  g_clear_pointer (&self->base, ft_sim_scenario_free);
  g_ptr_array_unref (self->fields);
  G_OBJECT_CLASS (ft_scenario_editor_parent_class)->finalize (object);
}

static void
ft_scenario_editor_class_init (FtScenarioEditorClass *klass)
{
  GtkWidgetClass *wc = GTK_WIDGET_CLASS (klass);
  G_OBJECT_CLASS (klass)->finalize = ft_scenario_editor_finalize;
  gtk_widget_class_set_template_from_resource (wc, "/org/mobilitycorp/FleetTwin/ft-scenario-editor.ui");
  gtk_widget_class_bind_template_child (wc, FtScenarioEditor, grid);
  gtk_widget_class_bind_template_child (wc, FtScenarioEditor, save_button);
  gtk_widget_class_bind_template_child (wc, FtScenarioEditor, apply_button);
  gtk_widget_class_bind_template_child (wc, FtScenarioEditor, status_label);
  gtk_widget_class_add_binding_action (wc, GDK_KEY_Escape, 0, "window.close", NULL);
  signals[SIGNAL_APPLIED] = g_signal_new ("applied", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST,
                                          0, NULL, NULL, NULL, G_TYPE_NONE, 0);
}

static void
ft_scenario_editor_init (FtScenarioEditor *self)
{
  gtk_widget_init_template (GTK_WIDGET (self));
  self->fields = g_ptr_array_new ();
  g_signal_connect (self->apply_button, "clicked", G_CALLBACK (on_apply), self);
  g_signal_connect (self->save_button, "clicked", G_CALLBACK (on_save), self);
  gtk_accessible_update_property (GTK_ACCESSIBLE (self->save_button), GTK_ACCESSIBLE_PROPERTY_LABEL,
                                  "Save the scenario as a file", -1);
  gtk_accessible_update_property (GTK_ACCESSIBLE (self->apply_button), GTK_ACCESSIBLE_PROPERTY_LABEL,
                                  "Apply the scenario and restart the simulation", -1);
}

/* One row per key of the scenario format, under a heading per group. */
static void
build_fields (FtScenarioEditor *self)
{
  guint n = 0;
  const FtSimScenarioKey *keys = ft_sim_scenario_keys (&n);
  int row = 0;
  const char *group = NULL;
  for (guint i = 0; i < n; i++)
    {
      const FtSimScenarioKey *k = &keys[i];
      if (group == NULL || strcmp (group, k->group) != 0)
        {
          group = k->group;
          GtkWidget *h = gtk_label_new (group_title (group));
          gtk_label_set_xalign (GTK_LABEL (h), 0);
          gtk_widget_add_css_class (h, "heading");
          gtk_widget_set_margin_top (h, row ? 10 : 0);
          gtk_grid_attach (GTK_GRID (self->grid), h, 0, row++, 2, 1);
        }
      GtkWidget *l = gtk_label_new (k->label);
      gtk_label_set_xalign (GTK_LABEL (l), 0);
      g_autofree char *tip = g_strdup_printf ("[%s] %s", k->group, k->key);
      gtk_widget_set_tooltip_text (l, tip);
      gtk_grid_attach (GTK_GRID (self->grid), l, 0, row, 1, 1);
      GtkWidget *w;
      g_autofree char *v = ft_sim_scenario_get_value (self->base, k);
      if (k->type == FT_SIM_KEY_BOOL)
        {
          w = gtk_switch_new ();
          gtk_switch_set_active (GTK_SWITCH (w), g_strcmp0 (v, "true") == 0);
          gtk_widget_set_halign (w, GTK_ALIGN_START);
        }
      else
        {
          w = gtk_entry_new ();
          gtk_editable_set_text (GTK_EDITABLE (w), v ? v : "");
          gtk_widget_set_hexpand (w, TRUE);
          if (k->type != FT_SIM_KEY_STRING)
            gtk_editable_set_width_chars (GTK_EDITABLE (w), 12);
        }
      gtk_widget_set_name (w, tip);
      gtk_widget_set_tooltip_text (w, tip);
      gtk_accessible_update_relation (GTK_ACCESSIBLE (w), GTK_ACCESSIBLE_RELATION_LABELLED_BY, l, NULL, -1);
      gtk_grid_attach (GTK_GRID (self->grid), w, 1, row++, 1, 1);
      g_ptr_array_add (self->fields, w);
    }
}

void
ft_scenario_editor_set_scenario (FtScenarioEditor *self, const FtSimScenario *sc)
{
  g_return_if_fail (FT_IS_SCENARIO_EDITOR (self) && sc != NULL);
  guint n = 0;
  const FtSimScenarioKey *keys = ft_sim_scenario_keys (&n);
  g_clear_pointer (&self->base, ft_sim_scenario_free);
  self->base = ft_sim_scenario_copy (sc);
  for (guint i = 0; i < n; i++)
    {
      GtkWidget *w = g_ptr_array_index (self->fields, i);
      g_autofree char *v = ft_sim_scenario_get_value (sc, &keys[i]);
      gtk_widget_remove_css_class (w, "error");
      if (GTK_IS_SWITCH (w))
        gtk_switch_set_active (GTK_SWITCH (w), g_strcmp0 (v, "true") == 0);
      else
        gtk_editable_set_text (GTK_EDITABLE (w), v ? v : "");
    }
  show_status (self, "", FALSE);
}

GtkWidget *
ft_scenario_editor_get_field (FtScenarioEditor *self, const char *group, const char *key)
{
  guint n = 0;
  const FtSimScenarioKey *keys = ft_sim_scenario_keys (&n);
  for (guint i = 0; i < n; i++)
    if (strcmp (keys[i].group, group) == 0 && strcmp (keys[i].key, key) == 0)
      return g_ptr_array_index (self->fields, i);
  return NULL;
}

guint
ft_scenario_editor_get_n_fields (FtScenarioEditor *self)
{
  return self->fields->len;
}

FtScenarioEditor *
ft_scenario_editor_new (GtkWindow *parent, FtSession *session)
{
  FtScenarioEditor *self = g_object_new (FT_TYPE_SCENARIO_EDITOR, "transient-for", parent, NULL);
  self->session = g_object_ref (session);
  const FtSimScenario *cur = ft_session_get_scenario (session);
  self->base = cur ? ft_sim_scenario_copy (cur) : ft_sim_scenario_new_default ();
  build_fields (self);
  return self;
}
