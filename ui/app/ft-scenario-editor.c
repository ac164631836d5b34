/* ft-scenario-editor.c — the scenario form, writer and results view. */
#include "ft-scenario-editor.h"

#include <glib/gstdio.h>

struct _FtScenarioEditor {
  GtkWindow parent_instance;
  GtkWidget *grid;
  GtkWidget *save_button;
  GtkWidget *apply_button;
  GtkWidget *status_label;
  FtSession *session;
  FtSimScenario *base;
  GtkWidget *name_entry;
  GPtrArray *fields;          /* Field* */
};

G_DEFINE_FINAL_TYPE (FtScenarioEditor, ft_scenario_editor, GTK_TYPE_WINDOW)

enum { SIGNAL_APPLIED, N_SIGNALS };
static guint signals[N_SIGNALS];

typedef enum { F_UINT, F_DOUBLE, F_INT64, F_BOOL, F_U64 } FieldType;
typedef struct {
  const char *label;
  FieldType   type;
  gsize       offset;
  double      min, max, step;
  GtkWidget  *widget;
} Field;

#define OFF(f) G_STRUCT_OFFSET (FtSimScenario, f)
static const Field field_table[] = {
  { "Days", F_DOUBLE, OFF (days), 0.05, 365, 1 },
  { "Seed", F_U64, OFF (seed), 0, 4e9, 1 },
  { "Scooters", F_UINT, OFF (scooters), 0, 200000, 50 },
  { "Bikes", F_UINT, OFF (bikes), 0, 200000, 50 },
  { "Mopeds", F_UINT, OFF (mopeds), 0, 200000, 10 },
  { "Requests per day", F_DOUBLE, OFF (requests_per_day), 0, 5e6, 100 },
  { "Field staff", F_UINT, OFF (field_staff), 0, 1000, 1 },
  { "Dispatchers", F_UINT, OFF (dispatchers), 0, 100, 1 },
  { "Van capacity (packs)", F_UINT, OFF (van_capacity_packs), 1, 500, 1 },
  { "Unlock fee (cents)", F_INT64, OFF (unlock_minor), 0, 10000, 5 },
  { "Scooter per minute (cents)", F_DOUBLE, OFF (per_min_minor[0]), 0, 1000, 1 },
  { "Bike per minute (cents)", F_DOUBLE, OFF (per_min_minor[1]), 0, 1000, 1 },
  { "Moped per minute (cents)", F_DOUBLE, OFF (per_min_minor[2]), 0, 1000, 1 },
  { "Swap threshold (state of charge)", F_DOUBLE, OFF (swap_threshold_soc), 0, 1, 0.05 },
  { "Battery swaps", F_BOOL, OFF (battery_swaps), 0, 1, 1 },
  { "Rebalancing", F_BOOL, OFF (rebalancing), 0, 1, 1 },
  { "Fault collection", F_BOOL, OFF (fault_collection), 0, 1, 1 },
  { "Price response", F_BOOL, OFF (price_response), 0, 1, 1 },
  { "Geofence parking", F_BOOL, OFF (geofence_parking), 0, 1, 1 },
};

static void
read_fields (FtScenarioEditor *self, FtSimScenario *sc)
{
  for (guint i = 0; i < self->fields->len; i++)
    {
      Field *f = g_ptr_array_index (self->fields, i);
      guint8 *p = (guint8 *) sc + f->offset;
      if (f->type == F_BOOL)
        *(gboolean *) p = gtk_switch_get_active (GTK_SWITCH (f->widget));
      else
        {
          double v = gtk_spin_button_get_value (GTK_SPIN_BUTTON (f->widget));
          switch (f->type)
            {
            case F_UINT:   *(guint *) p = (guint) v; break;
            case F_DOUBLE: *(double *) p = v; break;
            case F_INT64:  *(gint64 *) p = (gint64) v; break;
            case F_U64:    *(guint64 *) p = (guint64) v; break;
            default: break;
            }
        }
    }
  g_free (sc->name);
  sc->name = g_strdup (gtk_editable_get_text (GTK_EDITABLE (self->name_entry)));
}

FtSimScenario *
ft_scenario_editor_dup_scenario (FtScenarioEditor *self)
{
  FtSimScenario *sc = ft_sim_scenario_copy (self->base);
  read_fields (self, sc);
  return sc;
}

static void
on_apply (GtkButton *b, FtScenarioEditor *self)
{
  g_autoptr(GError) error = NULL;
  FtSimScenario *sc = ft_scenario_editor_dup_scenario (self);
  if (!ft_session_load (self->session, sc, NULL, &error))
    {
      gtk_label_set_label (GTK_LABEL (self->status_label), error->message);
      return;
    }
  g_signal_emit (self, signals[SIGNAL_APPLIED], 0);
  gtk_window_destroy (GTK_WINDOW (self));
}

static void
on_save_response (GtkNativeDialog *dialog, int response, FtScenarioEditor *self)
{
  if (response == GTK_RESPONSE_ACCEPT)
    {
      g_autoptr(GFile) file = gtk_file_chooser_get_file (GTK_FILE_CHOOSER (dialog));
      g_autofree char *path = g_file_get_path (file);
      g_autoptr(FtSimScenario) sc = ft_scenario_editor_dup_scenario (self);
      g_autoptr(GError) error = NULL;
      g_autofree char *msg = ft_scenario_save (sc, path, &error)
                               ? g_strdup_printf ("Saved %s", path) : g_strdup (error->message);
      gtk_label_set_label (GTK_LABEL (self->status_label), msg);
    }
  g_object_unref (dialog);
}

static void
on_save (GtkButton *b, FtScenarioEditor *self)
{
  GtkFileChooserNative *fc = gtk_file_chooser_native_new ("Save Scenario", GTK_WINDOW (self),
                                                          GTK_FILE_CHOOSER_ACTION_SAVE, NULL, NULL);
  gtk_file_chooser_set_current_name (GTK_FILE_CHOOSER (fc), "my.scenario");
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
  signals[SIGNAL_APPLIED] = g_signal_new ("applied", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST,
                                          0, NULL, NULL, NULL, G_TYPE_NONE, 0);
}

static void
ft_scenario_editor_init (FtScenarioEditor *self)
{
  gtk_widget_init_template (GTK_WIDGET (self));
  self->fields = g_ptr_array_new_with_free_func (g_free);
  g_signal_connect (self->apply_button, "clicked", G_CALLBACK (on_apply), self);
  g_signal_connect (self->save_button, "clicked", G_CALLBACK (on_save), self);
}

FtScenarioEditor *
ft_scenario_editor_new (GtkWindow *parent, FtSession *session)
{
  FtScenarioEditor *self = g_object_new (FT_TYPE_SCENARIO_EDITOR, "transient-for", parent, NULL);
  self->session = g_object_ref (session);
  const FtSimScenario *cur = ft_session_get_scenario (session);
  self->base = cur ? ft_sim_scenario_copy (cur) : ft_sim_scenario_new_default ();

  GtkWidget *l = gtk_label_new ("Name");
  gtk_label_set_xalign (GTK_LABEL (l), 0);
  gtk_grid_attach (GTK_GRID (self->grid), l, 0, 0, 1, 1);
  self->name_entry = gtk_entry_new ();
  gtk_editable_set_text (GTK_EDITABLE (self->name_entry), self->base->name ? self->base->name : "");
  gtk_widget_set_hexpand (self->name_entry, TRUE);
  gtk_grid_attach (GTK_GRID (self->grid), self->name_entry, 1, 0, 1, 1);

  for (guint i = 0; i < G_N_ELEMENTS (field_table); i++)
    {
      Field *f = g_memdup2 (&field_table[i], sizeof (Field));
      const guint8 *p = (const guint8 *) self->base + f->offset;
      l = gtk_label_new (f->label);
      gtk_label_set_xalign (GTK_LABEL (l), 0);
      gtk_grid_attach (GTK_GRID (self->grid), l, 0, (int) i + 1, 1, 1);
      if (f->type == F_BOOL)
        {
          f->widget = gtk_switch_new ();
          gtk_switch_set_active (GTK_SWITCH (f->widget), *(const gboolean *) p);
          gtk_widget_set_halign (f->widget, GTK_ALIGN_START);
        }
      else
        {
          f->widget = gtk_spin_button_new_with_range (f->min, f->max, f->step);
          double v = 0;
          switch (f->type)
            {
            case F_UINT:   v = *(const guint *) p; break;
            case F_DOUBLE: v = *(const double *) p; break;
            case F_INT64:  v = (double) *(const gint64 *) p; break;
            case F_U64:    v = (double) *(const guint64 *) p; break;
            default: break;
            }
          gtk_spin_button_set_digits (GTK_SPIN_BUTTON (f->widget), f->step < 1 ? 2 : 0);
          gtk_spin_button_set_value (GTK_SPIN_BUTTON (f->widget), v);
        }
      gtk_grid_attach (GTK_GRID (self->grid), f->widget, 1, (int) i + 1, 1, 1);
      g_ptr_array_add (self->fields, f);
    }
  return self;
}

/* ---------------------------------------------------------------- writer */

static char *
d2s (double v)
{
  char buf[G_ASCII_DTOSTR_BUF_SIZE];
  return g_strdup (g_ascii_dtostr (buf, sizeof buf, v));
}

char *
ft_scenario_to_text (const FtSimScenario *sc)
{
  GString *s = g_string_new ("# Written by Fleet Twin's scenario editor.\n\n");
#define D(key, v) do { g_autofree char *_t = d2s (v); g_string_append_printf (s, "%s=%s\n", key, _t); } while (0)
#define U(key, v) g_string_append_printf (s, "%s=%" G_GUINT64_FORMAT "\n", key, (guint64) (v))
#define I(key, v) g_string_append_printf (s, "%s=%" G_GINT64_FORMAT "\n", key, (gint64) (v))
#define B(key, v) g_string_append_printf (s, "%s=%s\n", key, (v) ? "true" : "false")
  g_string_append (s, "[scenario]\n");
  g_string_append_printf (s, "name=%s\n", sc->name ? sc->name : "Unnamed");
  if (sc->description)
    g_string_append_printf (s, "description=%s\n", sc->description);
  g_string_append_printf (s, "city=%s\n", sc->city ? sc->city : "demo");
  D ("days", sc->days); U ("seed", sc->seed); U ("replication", sc->replication);
  g_string_append (s, "\n[fleet]\n");
  U ("scooters", sc->scooters); U ("bikes", sc->bikes); U ("mopeds", sc->mopeds);
  D ("spare_packs_per_vehicle", sc->spare_packs_per_vehicle);
  D ("initial_soc_min", sc->initial_soc_min); D ("initial_soc_max", sc->initial_soc_max);
  g_string_append (s, "\n[demand]\n");
  D ("requests_per_day", sc->requests_per_day); D ("requests_per_vehicle_day", sc->requests_per_vehicle_day);
  D ("demand_scale", sc->demand_scale); D ("max_walk_m", sc->max_walk_m); D ("walk_speed_mps", sc->walk_speed_mps);
  g_string_append_printf (s, "routing=%s\n", sc->routing == FT_SIM_ROUTING_STRAIGHT ? "straight" : "street");
  D ("detour_factor", sc->detour_factor); D ("min_trip_m", sc->min_trip_m); U ("riders", sc->riders);
  g_string_append (s, "\n[pricing]\n");
  g_string_append_printf (s, "currency=%s\n", sc->currency[0] ? sc->currency : "EUR");
  I ("unlock_minor", sc->unlock_minor);
  D ("scooter_per_min_minor", sc->per_min_minor[0]); D ("bike_per_min_minor", sc->per_min_minor[1]);
  D ("moped_per_min_minor", sc->per_min_minor[2]); D ("per_km_minor", sc->per_km_minor);
  D ("reference_price_minor", sc->reference_price_minor); D ("price_sensitivity", sc->price_sensitivity);
  g_string_append (s, "\n[staff]\n");
  U ("field_staff", sc->field_staff); U ("dispatchers", sc->dispatchers); D ("shift_hours", sc->shift_hours);
  g_string_append (s, "shift_starts=");
  for (guint i = 0; i < sc->n_shift_starts; i++)
    {
      double h = sc->shift_starts_h[i];
      int hh = (int) h, mm = (int) ((h - hh) * 60 + 0.5);
      g_string_append_printf (s, "%s%02d:%02d", i ? "," : "", hh, mm);
    }
  g_string_append_c (s, '\n');
  U ("van_capacity_packs", sc->van_capacity_packs); D ("van_speed_kph", sc->van_speed_kph);
  D ("swap_service_min", sc->swap_service_min); D ("rebalance_service_min", sc->rebalance_service_min);
  D ("collect_service_min", sc->collect_service_min);
  g_string_append (s, "\n[rules]\n");
  D ("swap_threshold_soc", sc->swap_threshold_soc); D ("rebalance_interval_min", sc->rebalance_interval_min);
  U ("rebalance_max_open", sc->rebalance_max_open); D ("rebalance_surplus_ratio", sc->rebalance_surplus_ratio);
  g_string_append (s, "\n[batteries]\n");
  D ("charge_hours_full", sc->charge_hours_full); U ("chargers_per_depot", sc->chargers_per_depot);
  g_string_append (s, "\n[faults]\n");
  D ("faults_per_1000km", sc->faults_per_1000km); D ("wear_per_km", sc->wear_per_km);
  D ("wear_hazard_factor", sc->wear_hazard_factor); D ("repair_hours", sc->repair_hours);
  g_string_append (s, "\n[features]\n");
  B ("battery_swaps", sc->battery_swaps); B ("rebalancing", sc->rebalancing);
  B ("fault_collection", sc->fault_collection); B ("price_response", sc->price_response);
  B ("geofence_parking", sc->geofence_parking);
#undef D
#undef U
#undef I
#undef B
  return g_string_free (s, FALSE);
}

gboolean
ft_scenario_save (const FtSimScenario *sc, const char *path, GError **error)
{
  g_autofree char *text = ft_scenario_to_text (sc);
  g_autoptr(GError) perr = NULL;
  g_autoptr(FtSimScenario) check = ft_sim_scenario_parse (text, -1, path, &perr);
  if (check == NULL)
    {
      g_set_error (error, FT_SIM_ERROR, FT_SIM_ERROR_SCENARIO,
                   "the scenario would not load back, so it was not saved: %s", perr->message);
      return FALSE;
    }
  return g_file_set_contents (path, text, -1, error);
}

/* ----------------------------------------------------------- results view */

GtkWidget *
ft_results_view_new (GtkWindow *parent, FtSession *session)
{
  GtkWidget *win = gtk_window_new ();
  gtk_window_set_title (GTK_WINDOW (win), "Compare Runs");
  gtk_window_set_transient_for (GTK_WINDOW (win), parent);
  gtk_window_set_default_size (GTK_WINDOW (win), 640, 420);
  GtkWidget *grid = gtk_grid_new ();
  gtk_grid_set_column_spacing (GTK_GRID (grid), 18);
  gtk_grid_set_row_spacing (GTK_GRID (grid), 4);
  gtk_widget_set_margin_start (grid, 16);
  gtk_widget_set_margin_top (grid, 12);
  GtkWidget *sw = gtk_scrolled_window_new ();
  gtk_scrolled_window_set_child (GTK_SCROLLED_WINDOW (sw), grid);
  gtk_window_set_child (GTK_WINDOW (win), sw);

  GPtrArray *runs = g_ptr_array_new ();
  GPtrArray *arch = ft_session_get_archive (session);
  for (guint i = 0; i < arch->len; i++)
    g_ptr_array_add (runs, arch->pdata[i]);
  g_ptr_array_add (runs, (gpointer) ft_session_get_kpis (session));
  const char *rows[] = { "Simulated days", "Vehicles", "Trips requested", "Trips served", "Trips lost",
                         "Utilisation %", "Trips / vehicle / day", "Revenue", "Battery unavailable %",
                         "Battery swaps", "Rebalances", "Staff km" };
  for (guint r = 0; r < G_N_ELEMENTS (rows); r++)
    {
      GtkWidget *l = gtk_label_new (rows[r]);
      gtk_label_set_xalign (GTK_LABEL (l), 0);
      gtk_grid_attach (GTK_GRID (grid), l, 0, (int) r + 1, 1, 1);
    }
  for (guint c = 0; c < runs->len; c++)
    {
      const FtSimKpis *k = runs->pdata[c];
      g_autofree char *head = c + 1 == runs->len ? g_strdup ("<b>Current</b>") : g_strdup_printf ("<b>Run %u</b>", c + 1);
      GtkWidget *h = gtk_label_new (NULL);
      gtk_label_set_markup (GTK_LABEL (h), head);
      gtk_grid_attach (GTK_GRID (grid), h, (int) c + 1, 0, 1, 1);
      g_autofree char *rev = ft_money_format (k->revenue_minor, k->currency[0] ? k->currency : "EUR");
      char *vals[] = {
        g_strdup_printf ("%.2f", k->days), g_strdup_printf ("%u", k->n_vehicles),
        g_strdup_printf ("%" G_GUINT64_FORMAT, k->trips_requested),
        g_strdup_printf ("%" G_GUINT64_FORMAT, k->trips_served),
        g_strdup_printf ("%" G_GUINT64_FORMAT, k->trips_lost),
        g_strdup_printf ("%.1f", k->utilisation * 100), g_strdup_printf ("%.2f", k->trips_per_vehicle_day),
        g_strdup (rev), g_strdup_printf ("%.1f", k->battery_unavailable_share * 100),
        g_strdup_printf ("%" G_GUINT64_FORMAT, k->battery_swaps),
        g_strdup_printf ("%" G_GUINT64_FORMAT, k->rebalances), g_strdup_printf ("%.1f", k->staff_km),
      };
      for (guint r = 0; r < G_N_ELEMENTS (vals); r++)
        {
          GtkWidget *l = gtk_label_new (vals[r]);
          gtk_label_set_xalign (GTK_LABEL (l), 1);
          gtk_grid_attach (GTK_GRID (grid), l, (int) c + 1, (int) r + 1, 1, 1);
          g_free (vals[r]);
        }
    }
  g_ptr_array_unref (runs);
  return win;
}
