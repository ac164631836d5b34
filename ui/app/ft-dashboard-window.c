/* ft-dashboard-window.c — the Dashboard window. The session records its
 * run into a database; a refresh runs on the twin thread (between slices,
 * so it never races the world): it commits what the world has pending,
 * folds the new events into the analytics aggregates with the city's
 * zones, and reads them through the filter (src/analytics/ft-dashboard.c).
 * The window only draws the charts it gets back and colours the map.
 */
#include "ft-dashboard-window.h"
#include "ft-report.h"
#include "ft-session.h"
#include "ft-sim-world.h"
#include "ft-overlay-layer.h"

#include <math.h>

struct _FtDashboardWindow {
  GtkWindow parent_instance;

  FtWindow    *main;        /* weak */
  FtSession   *session;
  FtDashboard *data;
  char        *status;
  gboolean     busy, again, updating;
  guint        zones_listed;
  FtDashMapLayer map_layer;
  struct DashJob *job;      /* the refresh in flight */

  GtkWidget *from_spin, *to_spin, *zone_dd, *kind_dd, *layer_dd;
  GtkWidget *status_label;
  GtkWidget *charts[FT_DASH_N_CHARTS];
};

G_DEFINE_FINAL_TYPE (FtDashboardWindow, ft_dashboard_window, GTK_TYPE_WINDOW)

enum { SIGNAL_REFRESHED, N_SIGNALS };
static guint signals[N_SIGNALS];

/* ------------------------------------------------------ twin-thread jobs */

typedef struct DashJob {
  FtDashFilter  filter;
  char         *report_path;   /* export instead of reading */
  guint         pages;
  FtDashboard  *out;
  GError       *error;
} DashJob;

static void
dash_job_free (DashJob *j)
{
  g_free (j->report_path);
  ft_dashboard_free (j->out);
  g_clear_error (&j->error);
  g_free (j);
}

static int
zone_at_city (double lat, double lon, gpointer data)
{
  return ft_city_zone_at (data, (FtLatLon) { lat, lon });
}

/* Commit what the world holds and fold the new events in, with the zoning
 * `fleet-twin-cli analytics build` gives the same run. */
static sqlite3 *
bring_up_to_date (FtSimWorld *w, GError **error)
{
  FtCore *core = ft_sim_world_get_core (w);
  if (core->store == NULL)
    {
      g_set_error (error, FT_ANALYTICS_ERROR, FT_ANALYTICS_ERROR_NOT_BUILT,
                   "this run is not recorded, so it has no analytics: load the scenario again to record it");
      return NULL;
    }
  if (!ft_core_commit (core, error))
    return NULL;
  const FtCity *city = ft_sim_world_get_city (w);
  g_auto (GStrv) names = g_new0 (char *, city->n_zones + 1);
  for (guint i = 0; i < city->n_zones; i++)
    names[i] = g_strdup (city->zones[i].name ? city->zones[i].name : city->zones[i].id ? city->zones[i].id : "");
  g_autofree char *sig = g_strdup_printf ("%s (%u zones)", city->name ? city->name : "city", city->n_zones);
  FtAnalyticsZoning z = {
    .n_zones = city->n_zones, .zone_names = (const char *const *) names, .zone_at = zone_at_city,
    .user_data = (gpointer) city, .signature = sig, .monday_ms = 0, .utc_offset_min = 0,
    .currency = city->currency[0] ? city->currency : NULL,
  };
  sqlite3 *db = ft_store_get_db (core->store);
  if (!ft_analytics_build (db, &z, NULL, NULL, error))
    return NULL;
  return db;
}

static char *
dash_job (FtSimWorld *w, gpointer data)
{
  DashJob *j = data;
  sqlite3 *db = bring_up_to_date (w, &j->error);
  if (db == NULL)
    return NULL;
  if (j->report_path)
    {
      const FtSimScenario *sc = ft_sim_world_get_scenario (w);
      FtReportInfo info = { .title = sc && sc->name ? sc->name : "Fleet Twin run", .source = "the app's current run",
                            .kind = "simulated run" };
      ft_report_export (db, &info, j->report_path, FALSE, &j->pages, &j->error);
      return NULL;
    }
  j->out = ft_dashboard_query (db, &j->filter, &j->error);
  return NULL;
}

/* --------------------------------------------------------------- the UI */

static void
set_status (FtDashboardWindow *self, const char *text)
{
  g_free (self->status);
  self->status = g_strdup (text);
  gtk_label_set_label (GTK_LABEL (self->status_label), text);
}

static void
read_filter (FtDashboardWindow *self, FtDashFilter *f)
{
  f->from_day = gtk_spin_button_get_value_as_int (GTK_SPIN_BUTTON (self->from_spin)) - 1;
  f->to_day = gtk_spin_button_get_value_as_int (GTK_SPIN_BUTTON (self->to_spin)) - 1;
  guint z = gtk_drop_down_get_selected (GTK_DROP_DOWN (self->zone_dd));
  f->zone = z == 0 || z == GTK_INVALID_LIST_POSITION ? -1 : (int) z - 1;
  guint k = gtk_drop_down_get_selected (GTK_DROP_DOWN (self->kind_dd));
  f->kind = k == 0 || k == GTK_INVALID_LIST_POSITION ? -1 : (int) k - 1;
}

static void
apply_map_layer (FtDashboardWindow *self)
{
  if (self->main == NULL)
    return;
  FtOverlayLayer *ov = ft_window_get_overlay_layer (self->main);
  if (self->map_layer == FT_DASH_MAP_NONE || self->data == NULL || self->data->n_zones == 0)
    {
      ft_overlay_layer_set_zone_values (ov, NULL, 0, NULL);
      return;
    }
  const FtDashboard *d = self->data;
  const double *src = self->map_layer == FT_DASH_MAP_REVENUE ? d->zone_revenue : d->zone_util;
  double max = 0;
  for (guint i = 0; i < d->n_zones; i++)
    if (isfinite (src[i]))
      max = MAX (max, src[i]);
  g_autofree double *v = g_new (double, d->n_zones);
  for (guint i = 0; i < d->n_zones; i++)
    v[i] = isfinite (src[i]) && max > 0 ? src[i] / max : NAN;
  static const double green[3] = { 0.1, 0.55, 0.2 }, blue[3] = { 0.1, 0.3, 0.8 };
  ft_overlay_layer_set_zone_values (ov, v, d->n_zones, self->map_layer == FT_DASH_MAP_REVENUE ? green : blue);
}

static void
update_controls (FtDashboardWindow *self)
{
  const FtDashboard *d = self->data;
  if (d == NULL)
    return;
  self->updating = TRUE;
  double n = MAX (d->n_days, 1u);
  gtk_spin_button_set_range (GTK_SPIN_BUTTON (self->from_spin), 1, n);
  gtk_spin_button_set_range (GTK_SPIN_BUTTON (self->to_spin), 1, n);
  if (d->n_zones != self->zones_listed)
    {
      guint sel = gtk_drop_down_get_selected (GTK_DROP_DOWN (self->zone_dd));
      GtkStringList *list = gtk_string_list_new (NULL);
      gtk_string_list_append (list, "All zones");
      for (guint i = 0; i < d->n_zones; i++)
        gtk_string_list_append (list, d->zone_names[i]);
      gtk_drop_down_set_model (GTK_DROP_DOWN (self->zone_dd), G_LIST_MODEL (list));
      g_object_unref (list);
      gtk_drop_down_set_selected (GTK_DROP_DOWN (self->zone_dd), sel <= d->n_zones ? sel : 0);
      self->zones_listed = d->n_zones;
    }
  self->updating = FALSE;
}

static void
refresh_done (GObject *source, GAsyncResult *res, gpointer user_data)
{
  g_autoptr (FtDashboardWindow) self = user_data;
  DashJob *j = g_steal_pointer (&self->job);
  g_autoptr (GError) error = NULL;
  g_free (ft_session_run_job_finish (FT_SESSION (source), res, &error));
  self->busy = FALSE;
  if (error == NULL && j->error)
    error = g_error_copy (j->error);
  if (error)
    set_status (self, error->message);
  else
    {
      ft_dashboard_free (self->data);
      self->data = g_steal_pointer (&j->out);
      const FtDashboard *d = self->data;
      g_autofree char *msg = g_strdup_printf (
          "Days %u of %u · %.0f trips served, %.0f lost · revenue %.2f %s · utilisation %.1f %%",
          d->days_in_filter, d->n_days, d->total_served, d->total_lost, d->total_revenue, d->currency,
          isfinite (d->mean_util) ? d->mean_util * 100 : 0.0);
      set_status (self, msg);
      update_controls (self);
      apply_map_layer (self);
    }
  for (guint i = 0; i < FT_DASH_N_CHARTS; i++)
    gtk_widget_queue_draw (self->charts[i]);
  dash_job_free (j);
  g_signal_emit (self, signals[SIGNAL_REFRESHED], 0);
  if (self->again)
    {
      self->again = FALSE;
      ft_dashboard_window_refresh (self);
    }
}

void
ft_dashboard_window_refresh (FtDashboardWindow *self)
{
  g_return_if_fail (FT_IS_DASHBOARD_WINDOW (self));
  if (self->busy)
    {
      self->again = TRUE;
      return;
    }
  DashJob *j = g_new0 (DashJob, 1);
  read_filter (self, &j->filter);
  self->busy = TRUE;
  set_status (self, "Reading the run's analytics…");
  /* The callback reads the job's results and frees it. */
  self->job = j;
  ft_session_run_job_async (self->session, dash_job, j, NULL, NULL, refresh_done, g_object_ref (self));
}

static void
on_filter_changed (FtDashboardWindow *self)
{
  if (self->updating)
    return;
  ft_dashboard_window_refresh (self);
}

static void
on_layer_changed (GObject *dd, GParamSpec *pspec, FtDashboardWindow *self)
{
  self->map_layer = gtk_drop_down_get_selected (GTK_DROP_DOWN (dd));
  apply_map_layer (self);
}

static void
draw_chart (GtkDrawingArea *area, cairo_t *cr, int width, int height, gpointer data)
{
  FtDashboardWindow *self = g_object_get_data (G_OBJECT (area), "dashboard");
  if (self->data == NULL)
    {
      cairo_set_source_rgb (cr, 1, 1, 1);
      cairo_paint (cr);
      return;
    }
  ft_dashboard_draw (self->data, GPOINTER_TO_UINT (data), cr, width, height);
}

static void
on_export_response (GtkNativeDialog *dialog, int response, FtDashboardWindow *self)
{
  if (response == GTK_RESPONSE_ACCEPT)
    {
      g_autoptr (GFile) file = gtk_file_chooser_get_file (GTK_FILE_CHOOSER (dialog));
      g_autofree char *path = file ? g_file_get_path (file) : NULL;
      g_autoptr (GError) error = NULL;
      guint pages = 0;
      if (path && ft_dashboard_window_export_report (self, path, &pages, &error))
        {
          g_autofree char *msg = g_strdup_printf ("Report written: %s (%u pages; charts and tables beside it)",
                                                  path, pages);
          set_status (self, msg);
        }
      else
        set_status (self, error ? error->message : "Cannot write there: not a local file");
    }
  g_object_unref (dialog);
}

static void
on_export_clicked (FtDashboardWindow *self)
{
  GtkFileChooserNative *fc = gtk_file_chooser_native_new ("Export Report", GTK_WINDOW (self),
                                                          GTK_FILE_CHOOSER_ACTION_SAVE, "_Export", NULL);
  GtkFileFilter *filter = gtk_file_filter_new ();
  gtk_file_filter_set_name (filter, "PDF reports");
  gtk_file_filter_add_pattern (filter, "*.pdf");
  gtk_file_chooser_add_filter (GTK_FILE_CHOOSER (fc), filter);
  g_object_unref (filter);
  gtk_file_chooser_set_current_name (GTK_FILE_CHOOSER (fc), "fleet-twin-report.pdf");
  g_signal_connect (fc, "response", G_CALLBACK (on_export_response), self);
  gtk_native_dialog_show (GTK_NATIVE_DIALOG (fc));
}

gboolean
ft_dashboard_window_export_report (FtDashboardWindow *self, const char *path, guint *n_pages, GError **error)
{
  g_return_val_if_fail (FT_IS_DASHBOARD_WINDOW (self) && path != NULL, FALSE);
  DashJob j = { .report_path = g_strdup (path) };
  g_free (ft_session_run_job_sync (self->session, dash_job, &j));
  g_free (j.report_path);
  ft_dashboard_free (j.out);
  if (j.error)
    {
      g_propagate_error (error, j.error);
      return FALSE;
    }
  if (n_pages)
    *n_pages = j.pages;
  return TRUE;
}

static GtkWidget *
labelled (GtkWidget *box, const char *text, GtkWidget *w, const char *a11y)
{
  GtkWidget *l = gtk_label_new_with_mnemonic (text);
  gtk_label_set_mnemonic_widget (GTK_LABEL (l), w);
  gtk_box_append (GTK_BOX (box), l);
  gtk_box_append (GTK_BOX (box), w);
  gtk_accessible_update_property (GTK_ACCESSIBLE (w), GTK_ACCESSIBLE_PROPERTY_LABEL, a11y, -1);
  return w;
}

static void
ft_dashboard_window_dispose (GObject *object)
{
  FtDashboardWindow *self = FT_DASHBOARD_WINDOW (object);
  if (self->main)
    {
      ft_overlay_layer_set_zone_values (ft_window_get_overlay_layer (self->main), NULL, 0, NULL);
      g_object_remove_weak_pointer (G_OBJECT (self->main), (gpointer *) &self->main);
      self->main = NULL;
    }
  g_clear_object (&self->session);
  G_OBJECT_CLASS (ft_dashboard_window_parent_class)->dispose (object);
}

static void
ft_dashboard_window_finalize (GObject *object)
{
  FtDashboardWindow *self = FT_DASHBOARD_WINDOW (object);
  ft_dashboard_free (self->data);
  g_free (self->status);
  G_OBJECT_CLASS (ft_dashboard_window_parent_class)->finalize (object);
}

static void
ft_dashboard_window_class_init (FtDashboardWindowClass *klass)
{
  G_OBJECT_CLASS (klass)->dispose = ft_dashboard_window_dispose;
  G_OBJECT_CLASS (klass)->finalize = ft_dashboard_window_finalize;
  signals[SIGNAL_REFRESHED] = g_signal_new ("refreshed", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0,
                                            NULL, NULL, NULL, G_TYPE_NONE, 0);
}

static void
ft_dashboard_window_init (FtDashboardWindow *self)
{
  gtk_window_set_title (GTK_WINDOW (self), "Dashboard");
  gtk_window_set_default_size (GTK_WINDOW (self), 1180, 760);
  GtkWidget *vbox = gtk_box_new (GTK_ORIENTATION_VERTICAL, 6);
  gtk_widget_set_margin_start (vbox, 10);
  gtk_widget_set_margin_end (vbox, 10);
  gtk_widget_set_margin_top (vbox, 8);
  gtk_widget_set_margin_bottom (vbox, 8);
  gtk_window_set_child (GTK_WINDOW (self), vbox);

  /* filters */
  GtkWidget *bar = gtk_box_new (GTK_ORIENTATION_HORIZONTAL, 6);
  gtk_box_append (GTK_BOX (vbox), bar);
  self->from_spin = labelled (bar, "_From day", gtk_spin_button_new_with_range (1, 1, 1), "First day of the run to show");
  self->to_spin = labelled (bar, "_to", gtk_spin_button_new_with_range (1, 1, 1), "Last day of the run to show");
  gtk_spin_button_set_value (GTK_SPIN_BUTTON (self->to_spin), 1);
  self->zone_dd = labelled (bar, "_Zone", gtk_drop_down_new_from_strings ((const char *const[]) { "All zones", NULL }),
                            "Zone to show");
  self->kind_dd = labelled (bar, "_Vehicles", gtk_drop_down_new_from_strings (
                              (const char *const[]) { "All kinds", "Scooters", "Bikes", "Mopeds", NULL }),
                            "Vehicle kind for fleet health");
  self->layer_dd = labelled (bar, "_Map", gtk_drop_down_new_from_strings (
                               (const char *const[]) { "No layer", "Utilisation by zone", "Revenue by zone", NULL }),
                             "Colour the main map's zones by");
  GtkWidget *refresh = gtk_button_new_with_mnemonic ("_Refresh");
  gtk_accessible_update_property (GTK_ACCESSIBLE (refresh), GTK_ACCESSIBLE_PROPERTY_LABEL,
                                  "Refresh the dashboard from the run", -1);
  gtk_box_append (GTK_BOX (bar), refresh);
  GtkWidget *export = gtk_button_new_with_mnemonic ("_Export Report…");
  gtk_accessible_update_property (GTK_ACCESSIBLE (export), GTK_ACCESSIBLE_PROPERTY_LABEL,
                                  "Export the report as PDF", -1);
  gtk_widget_set_hexpand (export, TRUE);
  gtk_widget_set_halign (export, GTK_ALIGN_END);
  gtk_box_append (GTK_BOX (bar), export);
  g_signal_connect_swapped (self->from_spin, "value-changed", G_CALLBACK (on_filter_changed), self);
  g_signal_connect_swapped (self->to_spin, "value-changed", G_CALLBACK (on_filter_changed), self);
  g_signal_connect_swapped (self->zone_dd, "notify::selected", G_CALLBACK (on_filter_changed), self);
  g_signal_connect_swapped (self->kind_dd, "notify::selected", G_CALLBACK (on_filter_changed), self);
  g_signal_connect (self->layer_dd, "notify::selected", G_CALLBACK (on_layer_changed), self);
  g_signal_connect_swapped (refresh, "clicked", G_CALLBACK (ft_dashboard_window_refresh), self);
  g_signal_connect_swapped (export, "clicked", G_CALLBACK (on_export_clicked), self);

  self->status_label = gtk_label_new ("");
  gtk_label_set_xalign (GTK_LABEL (self->status_label), 0);
  gtk_label_set_wrap (GTK_LABEL (self->status_label), TRUE);
  gtk_box_append (GTK_BOX (vbox), self->status_label);

  /* charts, two per row, a heading per section */
  GtkWidget *scroller = gtk_scrolled_window_new ();
  gtk_scrolled_window_set_policy (GTK_SCROLLED_WINDOW (scroller), GTK_POLICY_NEVER, GTK_POLICY_AUTOMATIC);
  gtk_widget_set_vexpand (scroller, TRUE);
  gtk_box_append (GTK_BOX (vbox), scroller);
  GtkWidget *grid = gtk_grid_new ();
  gtk_grid_set_row_spacing (GTK_GRID (grid), 6);
  gtk_grid_set_column_spacing (GTK_GRID (grid), 8);
  gtk_grid_set_column_homogeneous (GTK_GRID (grid), TRUE);
  gtk_scrolled_window_set_child (GTK_SCROLLED_WINDOW (scroller), grid);
  int row = 0, col = 0;
  const char *section = NULL;
  for (guint i = 0; i < FT_DASH_N_CHARTS; i++)
    {
      if (g_strcmp0 (section, ft_dashboard_section (i)) != 0)
        {
          section = ft_dashboard_section (i);
          if (col != 0)
            row++, col = 0;
          GtkWidget *h = gtk_label_new (NULL);
          g_autofree char *m = g_markup_printf_escaped ("<b>%s</b>", section);
          gtk_label_set_markup (GTK_LABEL (h), m);
          gtk_label_set_xalign (GTK_LABEL (h), 0);
          gtk_grid_attach (GTK_GRID (grid), h, 0, row++, 2, 1);
        }
      GtkWidget *a = gtk_drawing_area_new ();
      gtk_widget_set_size_request (a, 420, 260);
      gtk_widget_set_hexpand (a, TRUE);
      g_object_set_data (G_OBJECT (a), "dashboard", self);
      gtk_drawing_area_set_draw_func (GTK_DRAWING_AREA (a), draw_chart, GUINT_TO_POINTER (i), NULL);
      g_autofree char *name = g_strdup_printf ("%s chart %u", section, i + 1);
      gtk_accessible_update_property (GTK_ACCESSIBLE (a), GTK_ACCESSIBLE_PROPERTY_LABEL, name, -1);
      self->charts[i] = a;
      gtk_grid_attach (GTK_GRID (grid), a, col, row, 1, 1);
      if (++col == 2)
        row++, col = 0;
    }
}

FtDashboardWindow *
ft_dashboard_window_new (FtWindow *parent)
{
  g_return_val_if_fail (FT_IS_WINDOW (parent), NULL);
  FtDashboardWindow *self = g_object_new (FT_TYPE_DASHBOARD_WINDOW, "transient-for", parent, NULL);
  self->main = parent;
  g_object_add_weak_pointer (G_OBJECT (parent), (gpointer *) &self->main);
  self->session = g_object_ref (ft_window_get_session (parent));
  const FtSimScenario *sc = ft_session_get_scenario (self->session);
  g_autofree char *title = g_strdup_printf ("Dashboard — %s", sc && sc->name ? sc->name : "run");
  gtk_window_set_title (GTK_WINDOW (self), title);
  ft_dashboard_window_refresh (self);
  return self;
}

gboolean
ft_dashboard_window_is_busy (FtDashboardWindow *self)
{
  return self->busy;
}

const FtDashboard *
ft_dashboard_window_get_data (FtDashboardWindow *self)
{
  return self->data;
}

const char *
ft_dashboard_window_get_status (FtDashboardWindow *self)
{
  return self->status ? self->status : "";
}

void
ft_dashboard_window_set_filter (FtDashboardWindow *self, const FtDashFilter *f)
{
  self->updating = TRUE;
  if (self->data)
    {
      double n = MAX (self->data->n_days, 1u);
      gtk_spin_button_set_range (GTK_SPIN_BUTTON (self->from_spin), 1, n);
      gtk_spin_button_set_range (GTK_SPIN_BUTTON (self->to_spin), 1, n);
    }
  gtk_spin_button_set_value (GTK_SPIN_BUTTON (self->from_spin), f->from_day < 0 ? 1 : f->from_day + 1);
  gtk_spin_button_set_value (GTK_SPIN_BUTTON (self->to_spin),
                             f->to_day < 0 ? gtk_adjustment_get_upper (gtk_spin_button_get_adjustment (
                                               GTK_SPIN_BUTTON (self->to_spin))) : f->to_day + 1);
  gtk_drop_down_set_selected (GTK_DROP_DOWN (self->zone_dd), f->zone < 0 ? 0 : (guint) f->zone + 1);
  gtk_drop_down_set_selected (GTK_DROP_DOWN (self->kind_dd), f->kind < 0 ? 0 : (guint) f->kind + 1);
  self->updating = FALSE;
  ft_dashboard_window_refresh (self);
}

void
ft_dashboard_window_set_map_layer (FtDashboardWindow *self, FtDashMapLayer layer)
{
  gtk_drop_down_set_selected (GTK_DROP_DOWN (self->layer_dd), layer);
  self->map_layer = layer;
  apply_map_layer (self);
}
