/* ft-shadow-window.c — see ft-shadow-window.h. The numbers come from the
 * world's FtShadow on the twin thread (ft_shadow_zone_recent, _zone_hours,
 * _scores, and the maintenance shadow's ft_maint_shadow_top); the window
 * draws them with ft-chart, colours the main map's zones by the forecast's
 * relative error, and lists the vehicles most at risk of a fault.
 */
#include "ft-shadow-window.h"
#include "ft-chart.h"
#include "ft-overlay-layer.h"
#include "ft-registry-shadow.h"
#include "ft-core.h"
#include "ft-session.h"
#include "ft-sim-world.h"

#include <math.h>
#include <string.h>

struct _FtShadowWindow {
  GtkWindow parent_instance;
  FtWindow  *main;          /* weak */
  FtSession *session;
  guint      zone;
  guint      hours;         /* covered by the per-zone sums */
  guint      n_zones;
  double    *zone_pred, *zone_act;
  double     pred_h[FT_SHADOW_WINDOW_HOURS], act_h[FT_SHADOW_WINDOW_HOURS];
  char      *status;
  char     **zone_names;
  GtkWidget *zone_dd, *status_label, *hour_chart, *zone_chart;
  GtkWidget *maint_label, *maint_list;
  GArray    *risk;          /* FtShadowWindowRisk, highest first */
  char      *maint_status;
};

G_DEFINE_FINAL_TYPE (FtShadowWindow, ft_shadow_window, GTK_TYPE_WINDOW)

typedef struct {
  guint    zone, hours, n_zones;
  double  *pred_z, *act_z;
  double   pred_h[FT_SHADOW_WINDOW_HOURS], act_h[FT_SHADOW_WINDOW_HOURS];
  FtShadowScores sc;
  gboolean on;
  gboolean maint_on;
  FtMaintShadowScores msc;
  GArray  *risk;            /* FtShadowWindowRisk */
} ShadowJob;

static char *
shadow_job (FtSimWorld *w, gpointer data)
{
  ShadowJob *j = data;
  struct _FtShadow *sh = ft_sim_world_get_shadow (w);
  if (sh == NULL)
    return NULL;
  j->on = TRUE;
  ft_shadow_scores (sh, &j->sc);
  j->n_zones = ft_shadow_n_zones (sh);
  j->pred_z = g_new0 (double, MAX (j->n_zones, 1));
  j->act_z = g_new0 (double, MAX (j->n_zones, 1));
  j->hours = ft_shadow_zone_recent (sh, 24, j->pred_z, j->act_z);
  ft_shadow_zone_hours (sh, j->zone, FT_SHADOW_WINDOW_HOURS, j->pred_h, j->act_h);
  FtMaintShadow *ms = ft_shadow_get_maint (sh);
  if (ms)
    {
      j->maint_on = TRUE;
      ft_maint_shadow_scores (ms, &j->msc);
      FtMaintRisk top[FT_SHADOW_WINDOW_RISKS];
      guint n = ft_maint_shadow_top (ms, FT_SHADOW_WINDOW_RISKS, top);
      const FtFleet *fleet = ft_sim_world_get_core (w)->fleet;
      for (guint i = 0; i < n; i++)
        {
          const FtVehicle *v = ft_fleet_get_vehicle (fleet, top[i].vehicle);
          FtShadowWindowRisk r = { .vehicle = top[i].vehicle, .p24 = top[i].p[0], .p7d = top[i].p[1],
                                   .km_since_service = top[i].km_since_service };
          g_strlcpy (r.code, v ? v->name : "?", sizeof r.code);
          g_array_append_val (j->risk, r);
        }
    }
  return NULL;
}

static void
on_risk_activated (GtkListBox *box, GtkListBoxRow *row, FtShadowWindow *self)
{
  int i = gtk_list_box_row_get_index (row) - 1;   /* row 0 is the header */
  if (i >= 0 && (guint) i < self->risk->len)
    ft_shadow_window_select_risk (self, (guint) i);
}

static GtkWidget *
risk_row (const char *code, const char *p24, const char *p7d, const char *km, const char *label, gboolean header)
{
  GtkWidget *row = gtk_box_new (GTK_ORIENTATION_HORIZONTAL, 12);
  const char *cells[5] = { code, p24, p7d, km, label };
  const int width[5] = { 10, 8, 8, 18, 8 };
  for (int c = 0; c < 5; c++)
    {
      GtkWidget *l = gtk_label_new (NULL);
      if (header)
        {
          g_autofree char *m = g_markup_printf_escaped ("<b>%s</b>", cells[c]);
          gtk_label_set_markup (GTK_LABEL (l), m);
        }
      else
        gtk_label_set_text (GTK_LABEL (l), cells[c]);
      gtk_label_set_width_chars (GTK_LABEL (l), width[c]);
      gtk_label_set_xalign (GTK_LABEL (l), c == 0 || c == 4 ? 0 : 1);
      gtk_box_append (GTK_BOX (row), l);
    }
  return row;
}

static void
fill_risk_list (FtShadowWindow *self)
{
  GtkWidget *child;
  while ((child = gtk_widget_get_first_child (self->maint_list)) != NULL)
    gtk_list_box_remove (GTK_LIST_BOX (self->maint_list), child);
  gtk_list_box_append (GTK_LIST_BOX (self->maint_list),
                       risk_row ("vehicle", "P 24 h", "P 7 d", "km since service", "", TRUE));
  GtkListBoxRow *hdr = gtk_list_box_get_row_at_index (GTK_LIST_BOX (self->maint_list), 0);
  gtk_list_box_row_set_activatable (hdr, FALSE);
  gtk_list_box_row_set_selectable (hdr, FALSE);
  for (guint i = 0; i < self->risk->len; i++)
    {
      const FtShadowWindowRisk *r = &g_array_index (self->risk, FtShadowWindowRisk, i);
      g_autofree char *a = g_strdup_printf ("%.1f %%", 100 * r->p24);
      g_autofree char *b = g_strdup_printf ("%.1f %%", 100 * r->p7d);
      g_autofree char *c = g_strdup_printf ("%.1f km", r->km_since_service);
      GtkWidget *row = risk_row (r->code, a, b, c, "shadow", FALSE);
      g_autofree char *acc = g_strdup_printf ("%s: shadow risk of a fault %s within 24 hours, %s within 7 days, "
                                              "%s since service", r->code, a, b, c);
      gtk_list_box_append (GTK_LIST_BOX (self->maint_list), row);
      gtk_accessible_update_property (GTK_ACCESSIBLE (gtk_widget_get_parent (row)), GTK_ACCESSIBLE_PROPERTY_LABEL,
                                      acc, -1);
    }
}

static void
apply_map_layer (FtShadowWindow *self)
{
  if (self->main == NULL)
    return;
  FtOverlayLayer *ov = ft_window_get_overlay_layer (self->main);
  if (self->hours == 0 || self->n_zones == 0)
    {
      ft_overlay_layer_set_zone_values (ov, NULL, 0, NULL);
      return;
    }
  /* relative error |forecast - actual| / actual, full colour at 50 % */
  g_autofree double *v = g_new (double, self->n_zones);
  for (guint z = 0; z < self->n_zones; z++)
    v[z] = self->zone_act[z] > 0 ? MIN (fabs (self->zone_pred[z] - self->zone_act[z]) / self->zone_act[z] / 0.5, 1.0)
                                 : NAN;
  static const double red[3] = { 0.8, 0.1, 0.1 };
  ft_overlay_layer_set_zone_values (ov, v, self->n_zones, red);
}

void
ft_shadow_window_refresh (FtShadowWindow *self)
{
  g_return_if_fail (FT_IS_SHADOW_WINDOW (self));
  ShadowJob j = { .zone = self->zone, .risk = g_array_new (FALSE, TRUE, sizeof (FtShadowWindowRisk)) };
  g_free (ft_session_run_job_sync (self->session, shadow_job, &j));
  g_array_unref (self->risk);
  self->risk = j.risk;
  g_free (self->maint_status);
  if (!j.maint_on)
    self->maint_status = g_strdup ("Predictive maintenance is off in this scenario: set maint = true in its "
                                   "[models] group.");
  else if (j.msc.model[0] == '\0')
    self->maint_status = g_strdup ("SHADOW maintenance · not fitted yet: the first fit waits for its days of "
                                   "history and a fault to learn from.");
  else
    self->maint_status = g_strdup_printf (
        "SHADOW maintenance · %s · %u vehicles scored · %" G_GUINT64_FORMAT " outcomes known · AUC 24 h %.2f "
        "(baseline %.2f) · Brier %.4f · precision at %u %.2f, recall %.2f · %u of %u faults listed before",
        j.msc.model, j.msc.vehicles, j.msc.scored[0] + j.msc.scored[1], j.msc.auc[0], j.msc.base_auc[0],
        j.msc.brier[0], j.msc.k, j.msc.precision_at_k, j.msc.recall_at_k, j.msc.caught, j.msc.faults);
  gtk_label_set_label (GTK_LABEL (self->maint_label), self->maint_status);
  fill_risk_list (self);
  g_free (self->zone_pred);
  g_free (self->zone_act);
  self->zone_pred = j.pred_z;
  self->zone_act = j.act_z;
  self->n_zones = j.n_zones;
  self->hours = j.hours;
  memcpy (self->pred_h, j.pred_h, sizeof j.pred_h);
  memcpy (self->act_h, j.act_h, sizeof j.act_h);
  g_free (self->status);
  if (!j.on)
    self->status = g_strdup ("Shadow mode is off in this scenario: set forecast = true in its [models] group "
                             "(scenarios/demo-city-shadow.scenario has it on).");
  else if (!j.sc.enabled)
    self->status = g_strdup ("SHADOW · the demand forecast is off in this scenario (forecast = false).");
  else if (j.sc.scored == 0)
    self->status = g_strdup_printf ("SHADOW · no forecast scored yet (%" G_GUINT64_FORMAT " issued): the first fit "
                                    "waits for its days of history.", j.sc.predictions);
  else
    self->status = g_strdup_printf (
        "SHADOW · %s · %" G_GUINT64_FORMAT " forecasts scored · RMSE %.2f against the historical mean's %.2f "
        "(MAE %.2f vs %.2f) · %u retrains, %u promoted",
        j.sc.model[0] ? j.sc.model : "?", j.sc.scored, j.sc.rmse, j.sc.base_rmse, j.sc.mae, j.sc.base_mae,
        j.sc.retrains, j.sc.promotions);
  gtk_label_set_label (GTK_LABEL (self->status_label), self->status);
  apply_map_layer (self);
  gtk_widget_queue_draw (self->hour_chart);
  gtk_widget_queue_draw (self->zone_chart);
}

static void
draw_hours (GtkDrawingArea *a, cairo_t *cr, int w, int h, gpointer data)
{
  FtShadowWindow *self = data;
  g_auto (GStrv) lab = g_new0 (char *, FT_SHADOW_WINDOW_HOURS + 1);
  for (guint i = 0; i < FT_SHADOW_WINDOW_HOURS; i++)
    lab[i] = g_strdup_printf ("%d", (int) i - FT_SHADOW_WINDOW_HOURS + 1);
  FtChartSeries s[] = { { "forecast (shadow, 1 h ahead)", self->pred_h, { 0.55, 0.2, 0.7 } },
                        { "actual requests", self->act_h, { 0.2, 0.2, 0.2 } } };
  g_autofree char *title = g_strdup_printf ("Shadow forecast against actual · %s",
                                            self->zone_names && self->zone < g_strv_length (self->zone_names)
                                            ? self->zone_names[self->zone] : "zone");
  FtChart c = { .title = title, .x_label = "hours before the last scored hour", .y_label = "requests per hour",
                .categories = (const char *const *) lab, .n = FT_SHADOW_WINDOW_HOURS, .series = s, .n_series = 2,
                .style = FT_CHART_LINES, .note = "shadow mode: nothing acts on these forecasts" };
  ft_chart_draw (cr, w, h, &c);
}

static void
draw_zones (GtkDrawingArea *a, cairo_t *cr, int w, int h, gpointer data)
{
  FtShadowWindow *self = data;
  guint n = MIN (self->n_zones, 20u);
  g_autofree guint *order = g_new (guint, MAX (self->n_zones, 1));
  for (guint i = 0; i < self->n_zones; i++)
    order[i] = i;
  for (guint i = 0; i < n; i++)
    for (guint j = i + 1; j < self->n_zones; j++)
      if (self->zone_act[order[j]] > self->zone_act[order[i]])
        {
          guint t = order[i]; order[i] = order[j]; order[j] = t;
        }
  g_autofree double *p = g_new (double, MAX (n, 1)), *y = g_new (double, MAX (n, 1));
  g_autofree const char **lab = g_new0 (const char *, n + 1);
  for (guint i = 0; i < n; i++)
    {
      p[i] = self->zone_pred[order[i]];
      y[i] = self->zone_act[order[i]];
      lab[i] = self->zone_names && order[i] < g_strv_length (self->zone_names) ? self->zone_names[order[i]] : "?";
    }
  FtChartSeries s[] = { { "forecast (shadow)", p, { 0.55, 0.2, 0.7 } }, { "actual", y, { 0.2, 0.2, 0.2 } } };
  g_autofree char *title = g_strdup_printf ("Forecast against actual per zone, last %u h (20 busiest zones)",
                                            self->hours);
  FtChart c = { .title = title, .x_label = "zone", .y_label = "requests", .categories = lab, .n = n,
                .series = s, .n_series = 2, .style = FT_CHART_BARS,
                .note = "the main map colours each zone by |forecast − actual| / actual (full red at 50 %)" };
  ft_chart_draw (cr, w, h, &c);
}

static void
on_zone_changed (GObject *dd, GParamSpec *pspec, FtShadowWindow *self)
{
  guint z = gtk_drop_down_get_selected (GTK_DROP_DOWN (dd));
  if (z != GTK_INVALID_LIST_POSITION && z != self->zone)
    {
      self->zone = z;
      ft_shadow_window_refresh (self);
    }
}

static void
ft_shadow_window_dispose (GObject *object)
{
  FtShadowWindow *self = FT_SHADOW_WINDOW (object);
  if (self->main)
    {
      ft_overlay_layer_set_zone_values (ft_window_get_overlay_layer (self->main), NULL, 0, NULL);
      g_object_remove_weak_pointer (G_OBJECT (self->main), (gpointer *) &self->main);
      self->main = NULL;
    }
  g_clear_object (&self->session);
  G_OBJECT_CLASS (ft_shadow_window_parent_class)->dispose (object);
}

static void
ft_shadow_window_finalize (GObject *object)
{
  FtShadowWindow *self = FT_SHADOW_WINDOW (object);
  g_free (self->zone_pred);
  g_free (self->zone_act);
  g_free (self->status);
  g_free (self->maint_status);
  g_array_unref (self->risk);
  g_strfreev (self->zone_names);
  G_OBJECT_CLASS (ft_shadow_window_parent_class)->finalize (object);
}

static void
ft_shadow_window_class_init (FtShadowWindowClass *klass)
{
  G_OBJECT_CLASS (klass)->dispose = ft_shadow_window_dispose;
  G_OBJECT_CLASS (klass)->finalize = ft_shadow_window_finalize;
}

static void
ft_shadow_window_init (FtShadowWindow *self)
{
  gtk_window_set_title (GTK_WINDOW (self), "Shadow Models");
  /* fits a 1366x720 screen; the charts and the risk list scroll below the bar */
  gtk_window_set_default_size (GTK_WINDOW (self), 900, 660);
  GtkWidget *box = gtk_box_new (GTK_ORIENTATION_VERTICAL, 6);
  gtk_widget_set_margin_start (box, 10);
  gtk_widget_set_margin_end (box, 10);
  gtk_widget_set_margin_top (box, 8);
  gtk_widget_set_margin_bottom (box, 8);
  gtk_window_set_child (GTK_WINDOW (self), box);
  GtkWidget *banner = gtk_label_new (NULL);
  gtk_label_set_markup (GTK_LABEL (banner), "<b>Shadow mode</b> — these models' predictions are logged and scored "
                        "against what happened; nothing acts on them.");
  gtk_label_set_xalign (GTK_LABEL (banner), 0);
  gtk_box_append (GTK_BOX (box), banner);
  GtkWidget *bar = gtk_box_new (GTK_ORIENTATION_HORIZONTAL, 6);
  gtk_box_append (GTK_BOX (box), bar);
  GtkWidget *l = gtk_label_new_with_mnemonic ("_Zone");
  gtk_box_append (GTK_BOX (bar), l);
  self->zone_dd = gtk_drop_down_new_from_strings ((const char *const[]) { "zone 0", NULL });
  gtk_label_set_mnemonic_widget (GTK_LABEL (l), self->zone_dd);
  gtk_accessible_update_property (GTK_ACCESSIBLE (self->zone_dd), GTK_ACCESSIBLE_PROPERTY_LABEL,
                                  "Zone whose forecast to show", -1);
  gtk_box_append (GTK_BOX (bar), self->zone_dd);
  GtkWidget *refresh = gtk_button_new_with_mnemonic ("_Refresh");
  gtk_accessible_update_property (GTK_ACCESSIBLE (refresh), GTK_ACCESSIBLE_PROPERTY_LABEL,
                                  "Read the shadow results again", -1);
  g_signal_connect_swapped (refresh, "clicked", G_CALLBACK (ft_shadow_window_refresh), self);
  gtk_box_append (GTK_BOX (bar), refresh);
  self->status_label = gtk_label_new ("");
  gtk_label_set_wrap (GTK_LABEL (self->status_label), TRUE);
  gtk_label_set_xalign (GTK_LABEL (self->status_label), 0);
  gtk_box_append (GTK_BOX (box), self->status_label);
  GtkWidget *scroller = gtk_scrolled_window_new ();
  gtk_scrolled_window_set_policy (GTK_SCROLLED_WINDOW (scroller), GTK_POLICY_NEVER, GTK_POLICY_AUTOMATIC);
  gtk_widget_set_vexpand (scroller, TRUE);
  gtk_box_append (GTK_BOX (box), scroller);
  GtkWidget *content = gtk_box_new (GTK_ORIENTATION_VERTICAL, 6);
  gtk_scrolled_window_set_child (GTK_SCROLLED_WINDOW (scroller), content);
  self->hour_chart = gtk_drawing_area_new ();
  self->zone_chart = gtk_drawing_area_new ();
  GtkWidget *charts[2] = { self->hour_chart, self->zone_chart };
  const char *names[2] = { "Shadow forecast against actual, hour by hour", "Shadow forecast against actual per zone" };
  for (int i = 0; i < 2; i++)
    {
      gtk_widget_set_size_request (charts[i], 600, 260);
      gtk_widget_set_vexpand (charts[i], TRUE);
      gtk_accessible_update_property (GTK_ACCESSIBLE (charts[i]), GTK_ACCESSIBLE_PROPERTY_LABEL, names[i], -1);
      gtk_box_append (GTK_BOX (content), charts[i]);
    }
  self->risk = g_array_new (FALSE, TRUE, sizeof (FtShadowWindowRisk));
  self->maint_label = gtk_label_new ("");
  gtk_label_set_wrap (GTK_LABEL (self->maint_label), TRUE);
  gtk_label_set_xalign (GTK_LABEL (self->maint_label), 0);
  gtk_box_append (GTK_BOX (content), self->maint_label);
  self->maint_list = gtk_list_box_new ();
  gtk_list_box_set_selection_mode (GTK_LIST_BOX (self->maint_list), GTK_SELECTION_SINGLE);
  gtk_list_box_set_activate_on_single_click (GTK_LIST_BOX (self->maint_list), TRUE);
  gtk_accessible_update_property (GTK_ACCESSIBLE (self->maint_list), GTK_ACCESSIBLE_PROPERTY_LABEL,
                                  "Vehicles most at risk of a fault (shadow); activate one to select it on the map", -1);
  g_signal_connect (self->maint_list, "row-activated", G_CALLBACK (on_risk_activated), self);
  GtkWidget *scroll = gtk_scrolled_window_new ();
  gtk_scrolled_window_set_child (GTK_SCROLLED_WINDOW (scroll), self->maint_list);
  gtk_scrolled_window_set_policy (GTK_SCROLLED_WINDOW (scroll), GTK_POLICY_NEVER, GTK_POLICY_AUTOMATIC);
  gtk_widget_set_size_request (scroll, 600, 180);
  gtk_box_append (GTK_BOX (content), scroll);
  gtk_drawing_area_set_draw_func (GTK_DRAWING_AREA (self->hour_chart), draw_hours, self, NULL);
  gtk_drawing_area_set_draw_func (GTK_DRAWING_AREA (self->zone_chart), draw_zones, self, NULL);
}

FtShadowWindow *
ft_shadow_window_new (FtWindow *parent)
{
  g_return_val_if_fail (FT_IS_WINDOW (parent), NULL);
  FtShadowWindow *self = g_object_new (FT_TYPE_SHADOW_WINDOW, "transient-for", parent, NULL);
  self->main = parent;
  g_object_add_weak_pointer (G_OBJECT (parent), (gpointer *) &self->main);
  self->session = g_object_ref (ft_window_get_session (parent));
  const FtCity *city = ft_session_get_city (self->session);
  if (city && city->n_zones > 0)
    {
      self->zone_names = g_new0 (char *, city->n_zones + 1);
      for (guint i = 0; i < city->n_zones; i++)
        self->zone_names[i] = g_strdup (city->zones[i].name ? city->zones[i].name : "?");
      GtkStringList *list = gtk_string_list_new ((const char *const *) self->zone_names);
      gtk_drop_down_set_model (GTK_DROP_DOWN (self->zone_dd), G_LIST_MODEL (list));
      g_object_unref (list);
    }
  g_signal_connect (self->zone_dd, "notify::selected", G_CALLBACK (on_zone_changed), self);
  ft_shadow_window_refresh (self);
  return self;
}

const char *
ft_shadow_window_get_status (FtShadowWindow *self)
{
  return self->status ? self->status : "";
}

guint
ft_shadow_window_get_hours (FtShadowWindow *self)
{
  return self->hours;
}

const double *
ft_shadow_window_get_zone_forecast (FtShadowWindow *self, guint *n_zones)
{
  *n_zones = self->n_zones;
  return self->zone_pred;
}

const double *
ft_shadow_window_get_zone_actual (FtShadowWindow *self, guint *n_zones)
{
  *n_zones = self->n_zones;
  return self->zone_act;
}

void
ft_shadow_window_set_zone (FtShadowWindow *self, guint zone)
{
  gtk_drop_down_set_selected (GTK_DROP_DOWN (self->zone_dd), zone);
  self->zone = zone;
  ft_shadow_window_refresh (self);
}

const char *
ft_shadow_window_get_maint_status (FtShadowWindow *self)
{
  g_return_val_if_fail (FT_IS_SHADOW_WINDOW (self), "");
  return self->maint_status ? self->maint_status : "";
}

const FtShadowWindowRisk *
ft_shadow_window_get_risks (FtShadowWindow *self, guint *n)
{
  g_return_val_if_fail (FT_IS_SHADOW_WINDOW (self) && n != NULL, NULL);
  *n = self->risk->len;
  return (const FtShadowWindowRisk *) self->risk->data;
}

void
ft_shadow_window_select_risk (FtShadowWindow *self, guint i)
{
  g_return_if_fail (FT_IS_SHADOW_WINDOW (self));
  if (i >= self->risk->len || self->main == NULL)
    return;
  guint v = g_array_index (self->risk, FtShadowWindowRisk, i).vehicle;
  FtVehicleLayer *layer = ft_window_get_vehicle_layer (self->main);
  ft_vehicle_layer_clear_selection (layer);
  ft_vehicle_layer_toggle (layer, v);
  ft_window_inspect_vehicle (self->main, v);
}
