/* ft-window.c — see ft-window.h.
 *
 * Per frame (a tick callback on the map) the window polls the session for
 * a new FtFrame and hands it to the vehicle and overlay layers; labels and
 * charts refresh at most four times a second. Clicks pick a vehicle (then a
 * van, then a zone) for the inspector, Ctrl+click and Shift+drag build the
 * dispatch selection, and a plain click elsewhere marks a point (rebalance
 * target or rider destination).
 */
#include "ft-window.h"
#include "ft-kpi-chart.h"
#include "ft-screenshot.h"
#include "ft-tile-source.h"
#include "ft-tiles.h"
#include "ft-scenario-editor.h"
#include "ft-import-dialog.h"
#include "ft-broker-dialog.h"

#include <math.h>

struct _FtWindow {
  GtkApplicationWindow parent_instance;

  /* template */
  GtkWidget *play_button;
  GtkWidget *speed_dropdown;
  GtkWidget *clock_label;
  GtkWidget *title_label;
  GtkWidget *role_dropdown;
  GtkWidget *map_overlay;
  GtkWidget *legend_box;
  GtkWidget *side_stack;
  GtkWidget *kpi_box;
  GtkWidget *kpi_summary;
  GtkWidget *inspector_label;
  GtkWidget *selection_label;
  GtkWidget *task_dropdown;
  GtkWidget *staff_dropdown;
  GtkWidget *dispatch_status;
  GtkWidget *rider_label;
  GtkWidget *layers_box;
  GtkWidget *mode_dropdown;
  GtkWidget *live_state_label;
  GtkWidget *live_command_status;
  GtkWidget *live_commands_label;

  FtSession       *session;
  ShumateMap      *map;
  ShumateViewport *viewport;
  ShumateMapLayer *tile_layer;
  FtTileSource    *tiles;
  ShumateMapSource *offline_source;
  ShumateMapSourceRegistry *registry;
  FtOverlayLayer  *overlay;
  FtVehicleLayer  *vehicles;
  GtkWidget       *charts[4];
  gboolean         online;
  gint64           last_labels;
  double           first_map_ms;
  double           drag_x, drag_y;
  double           marker_mx, marker_my;
  GSettings       *settings;
  guint            poll_id;

  /* live mode */
  FtLiveSession   *live;
  gboolean         live_mode;
  gboolean         live_centered;
  char            *live_password;   /* memory only, never stored */
  gint             inspected;       /* vehicle last clicked, -1 none */
  guint            staff_listed;    /* staff in the dispatch drop-down */

  /* rider view */
  gint32   rider;
  gint64   rider_booking;
  gint32   rider_vehicle;
  FtLatLon rider_start;
};

G_DEFINE_FINAL_TYPE (FtWindow, ft_window, GTK_TYPE_APPLICATION_WINDOW)

static const double speeds[] = { 1, 10, 60, 600, 3600, 0 };
extern gint64 ft_app_start_time;   /* set by main(); 0 if unknown */
gint64 ft_app_start_time;

/* The frame the map shows: the live fleet in Live mode, else the simulation. */
static FtFrame *
current_frame (FtWindow *self)
{
  if (self->live_mode)
    return ft_live_session_get_frame (self->live);
  return ft_session_get_frame (self->session);
}

static void update_live_page (FtWindow *self);
static void fill_staff_dropdown (FtWindow *self);

/* ------------------------------------------------------------- helpers */

static void
update_labels (FtWindow *self)
{
  update_live_page (self);
  FtFrame *f = current_frame (self);
  if (f == NULL)
    return;
  if (self->live_mode)
    {
      g_autoptr(GDateTime) dt = g_date_time_new_from_unix_utc (f->now / 1000);
      g_autofree char *clock = dt ? g_date_time_format (dt, "Live %H:%M:%S UTC") : NULL;
      gtk_label_set_label (GTK_LABEL (self->clock_label), clock ? clock : "Live");
      guint avail = 0;
      for (guint i = 0; i < f->n_vehicles; i++)
        avail += f->vehicles[i].state == FT_STATE_AVAILABLE;
      g_autofree char *summary = g_strdup_printf (
          "<b>%u live vehicles</b> · %u available\nOn trip %.1f %%\nBattery available %.1f %%\n"
          "Staff reporting %u",
          f->n_vehicles, avail, f->kpi.utilisation * 100, f->kpi.battery_available * 100, f->n_staff);
      gtk_label_set_markup (GTK_LABEL (self->kpi_summary), summary);
      return;
    }
  g_autofree char *clock = ft_time_format (f->now);
  gtk_label_set_label (GTK_LABEL (self->clock_label), clock);
  g_autofree char *rev = ft_money_format (f->kpi.revenue_minor, f->kpi.currency[0] ? f->kpi.currency : "EUR");
  g_autofree char *summary = g_strdup_printf (
      "<b>%u vehicles</b> · utilisation %.1f %%\n"
      "Trips served %u · lost %u\nRevenue %s\nBattery available %.1f %%\n"
      "Tasks open %u · done %u",
      f->n_vehicles, f->kpi.utilisation * 100, f->kpi.trips_served, f->kpi.trips_lost, rev,
      f->kpi.battery_available * 100, f->kpi.tasks_open, f->kpi.tasks_done);
  gtk_label_set_markup (GTK_LABEL (self->kpi_summary), summary);
  GArray *hist = ft_session_get_history (self->session);
  for (guint i = 0; i < G_N_ELEMENTS (self->charts); i++)
    ft_kpi_chart_set_history (FT_KPI_CHART (self->charts[i]), hist);
  guint nsel = ft_vehicle_layer_get_n_selected (self->vehicles);
  g_autofree char *sel = nsel ? g_strdup_printf ("%u vehicles selected", nsel)
                              : g_strdup ("No vehicles selected");
  gtk_label_set_label (GTK_LABEL (self->selection_label), sel);
  gtk_button_set_icon_name (GTK_BUTTON (self->play_button),
                            ft_session_get_playing (self->session) ? "media-playback-pause-symbolic"
                                                                   : "media-playback-start-symbolic");
}

/* Polls the session ~30 times a second from a low-priority timeout rather
 * than a frame-clock tick: a permanent tick keeps the frame clock running
 * and, when frames run over budget, starves libshumate's idle-time tile
 * loading. Redraws are queued only when a new frame arrived. */
static gboolean
on_poll (gpointer data)
{
  FtWindow *self = data;
  if (self->live_mode)
    {
      if (ft_live_session_poll (self->live))
        {
          FtFrame *f = ft_live_session_get_frame (self->live);
          ft_vehicle_layer_set_frame (self->vehicles, f);
          ft_overlay_layer_set_frame (self->overlay, f);
          if (f->n_staff != self->staff_listed)
            fill_staff_dropdown (self);
          if (!self->live_centered && f->n_vehicles > 0)
            {
              /* Centre once on the live fleet (it may be anywhere). */
              double mx = 0, my = 0;
              for (guint i = 0; i < f->n_vehicles; i++)
                {
                  mx += f->vehicles[i].mx;
                  my += f->vehicles[i].my;
                }
              FtLatLon c = ft_mercator_to_latlon (mx / f->n_vehicles, my / f->n_vehicles);
              shumate_location_set_location (SHUMATE_LOCATION (self->viewport), c.lat, c.lon);
              self->live_centered = TRUE;
            }
        }
    }
  else if (ft_session_poll (self->session))
    {
      FtFrame *f = ft_session_get_frame (self->session);
      ft_vehicle_layer_set_frame (self->vehicles, f);
      ft_overlay_layer_set_frame (self->overlay, f);
    }
  gint64 now = g_get_monotonic_time ();
  if (now - self->last_labels > 250000)
    {
      self->last_labels = now;
      update_labels (self);
    }
  if (self->first_map_ms < 0 && self->tiles && ft_tile_source_get_n_served (self->tiles) > 0 &&
      ft_app_start_time > 0)
    self->first_map_ms = (now - ft_app_start_time) / 1000.0;
  return G_SOURCE_CONTINUE;
}

static void
build_legend (FtWindow *self)
{
  GtkWidget *child;
  while ((child = gtk_widget_get_first_child (self->legend_box)))
    gtk_box_remove (GTK_BOX (self->legend_box), child);
  for (int i = 0; i < FT_N_DOTS; i++)
    {
      g_autofree char *markup = g_markup_printf_escaped ("<span foreground=\"#%06x\">●</span> %s", ft_dot_rgb[i],
                                                         ft_dot_label (i));
      GtkWidget *l = gtk_label_new (NULL);
      gtk_label_set_markup (GTK_LABEL (l), markup);
      gtk_label_set_xalign (GTK_LABEL (l), 0);
      gtk_box_append (GTK_BOX (self->legend_box), l);
    }
  const char *extra[] = {
    "<span foreground=\"#0073bf\">■</span> Staff van (dashes: leg to its target)",
    "<span foreground=\"#1a1a1a\">✕</span> Lost demand",
    "<span foreground=\"#ff7f0e\">▆</span> Demand heat (zones)",
    "<span foreground=\"#d91a1a\">▨</span> No-parking geofence",
  };
  for (guint i = 0; i < G_N_ELEMENTS (extra); i++)
    {
      GtkWidget *l = gtk_label_new (NULL);
      gtk_label_set_markup (GTK_LABEL (l), extra[i]);
      gtk_label_set_xalign (GTK_LABEL (l), 0);
      gtk_box_append (GTK_BOX (self->legend_box), l);
    }
}

static void
fill_staff_dropdown (FtWindow *self)
{
  GtkStringList *list = gtk_string_list_new (NULL);
  gtk_string_list_append (list, "Leave in the queue");
  FtFrame *f = current_frame (self);
  self->staff_listed = f ? f->n_staff : 0;
  for (guint i = 0; f && i < f->n_staff; i++)
    {
      g_autofree char *s = g_strdup_printf ("Assign to %s", f->staff[i].name);
      gtk_string_list_append (list, s);
    }
  gtk_drop_down_set_model (GTK_DROP_DOWN (self->staff_dropdown), G_LIST_MODEL (list));
  g_object_unref (list);
}

static void
set_tile_source (FtWindow *self, ShumateMapSource *src)
{
  if (self->tile_layer)
    shumate_map_remove_layer (self->map, SHUMATE_LAYER (self->tile_layer));
  self->tile_layer = NULL;
  if (src == NULL)
    return;
  shumate_viewport_set_reference_map_source (self->viewport, src);
  self->tile_layer = shumate_map_layer_new (src, self->viewport);
  shumate_map_insert_layer_behind (self->map, SHUMATE_LAYER (self->tile_layer), SHUMATE_LAYER (self->overlay));
  /* ShumateMapLayer loads tiles on viewport changes: nudge it. */
  double lat = shumate_location_get_latitude (SHUMATE_LOCATION (self->viewport));
  double lon = shumate_location_get_longitude (SHUMATE_LOCATION (self->viewport));
  shumate_location_set_location (SHUMATE_LOCATION (self->viewport), lat + 1e-9, lon);
}

void
ft_window_set_online_tiles (FtWindow *self, gboolean online)
{
  self->online = online;
  if (online)
    {
      if (self->registry == NULL)
        self->registry = shumate_map_source_registry_new_with_defaults ();
      ShumateMapSource *osm = shumate_map_source_registry_get_by_id (self->registry, SHUMATE_MAP_SOURCE_OSM_MAPNIK);
      set_tile_source (self, osm);
      shumate_viewport_set_max_zoom_level (self->viewport, 19);
    }
  else
    {
      set_tile_source (self, self->offline_source);
      shumate_viewport_set_max_zoom_level (self->viewport, self->tiles ? ft_tile_source_get_max_zoom (self->tiles) : 19);
    }
}

void
ft_window_reload_map (FtWindow *self)
{
  const FtCity *city = ft_session_get_city (self->session);
  g_clear_object (&self->offline_source);
  g_clear_object (&self->tiles);
  const char *path = ft_session_get_tiles_path (self->session);
  if (path)
    {
      g_autoptr(GError) error = NULL;
      self->tiles = ft_tile_source_new (path, &error);
      if (self->tiles == NULL)
        g_warning ("offline tiles: %s", error->message);
      else
        self->offline_source = ft_tile_source_create_map_source (self->tiles);
    }
  gboolean online = self->online || self->offline_source == NULL;
  ft_window_set_online_tiles (self, online);
  ft_overlay_layer_set_city (self->overlay, city);
  if (city)
    {
      shumate_viewport_set_zoom_level (self->viewport, 14);
      shumate_location_set_location (SHUMATE_LOCATION (self->viewport), city->center.lat, city->center.lon);
      const FtSimScenario *sc = ft_session_get_scenario (self->session);
      g_autofree char *title = g_strdup_printf ("%s — %s", sc && sc->name ? sc->name : "Scenario",
                                                city->name ? city->name : city->id);
      gtk_label_set_label (GTK_LABEL (self->title_label), title);
    }
  FtFrame *f = current_frame (self);
  ft_vehicle_layer_set_frame (self->vehicles, f);
  ft_overlay_layer_set_frame (self->overlay, f);
  fill_staff_dropdown (self);
  update_labels (self);
}

/* ------------------------------------------------------------ map input */

static void
show_markup (GtkWidget *label, const char *markup)
{
  gtk_label_set_markup (GTK_LABEL (label), markup ? markup : "");
}

static void
on_click_released (GtkGestureClick *gesture, int n_press, double x, double y, FtWindow *self)
{
  GdkModifierType mods = gtk_event_controller_get_current_event_state (GTK_EVENT_CONTROLLER (gesture));
  int v = ft_vehicle_layer_pick (self->vehicles, x, y, 7);
  if ((mods & GDK_CONTROL_MASK) && v >= 0)
    {
      ft_vehicle_layer_toggle (self->vehicles, (guint) v);
      update_labels (self);
      return;
    }
  FtMapXform xf;
  ft_map_xform_init (&xf, self->viewport, GTK_WIDGET (self->vehicles));
  double mx, my;
  ft_map_xform_invert (&xf, x, y, &mx, &my);

  if (ft_session_get_role (self->session) == FT_ROLE_VIEW_RIDER || v < 0)
    {
      self->marker_mx = mx;
      self->marker_my = my;
      ft_overlay_layer_set_marker (self->overlay, mx, my);
    }
  if (v >= 0)
    {
      self->inspected = v;
      g_autofree char *d = self->live_mode ? ft_live_session_describe_vehicle (self->live, (guint) v)
                                           : ft_session_describe_vehicle (self->session, (guint) v);
      show_markup (self->inspector_label, d);
      return;
    }
  int s = ft_overlay_layer_pick_staff (self->overlay, x, y, 8);
  if (s >= 0)
    {
      g_autofree char *d = self->live_mode ? ft_live_session_describe_staff (self->live, (guint) s)
                                           : ft_session_describe_staff (self->session, (guint) s);
      show_markup (self->inspector_label, d);
      return;
    }
  const FtCity *city = ft_session_get_city (self->session);
  if (city && !self->live_mode)
    {
      int z = ft_city_zone_at (city, ft_mercator_to_latlon (mx, my));
      g_autofree char *d = ft_session_describe_zone (self->session, z);
      show_markup (self->inspector_label, d ? d : "Outside every zone.");
    }
}

static void
on_drag_begin (GtkGestureDrag *gesture, double x, double y, FtWindow *self)
{
  GdkModifierType mods = gtk_event_controller_get_current_event_state (GTK_EVENT_CONTROLLER (gesture));
  if (!(mods & GDK_SHIFT_MASK))
    {
      gtk_gesture_set_state (GTK_GESTURE (gesture), GTK_EVENT_SEQUENCE_DENIED);
      return;
    }
  gtk_gesture_set_state (GTK_GESTURE (gesture), GTK_EVENT_SEQUENCE_CLAIMED);
  self->drag_x = x;
  self->drag_y = y;
}

static void
on_drag_update (GtkGestureDrag *gesture, double dx, double dy, FtWindow *self)
{
  ft_vehicle_layer_set_band (self->vehicles, self->drag_x, self->drag_y, self->drag_x + dx, self->drag_y + dy);
}

static void
on_drag_end (GtkGestureDrag *gesture, double dx, double dy, FtWindow *self)
{
  ft_vehicle_layer_set_band (self->vehicles, 0, 0, 0, 0);
  ft_vehicle_layer_select_rect (self->vehicles, self->drag_x, self->drag_y, self->drag_x + dx, self->drag_y + dy);
  gtk_stack_set_visible_child_name (GTK_STACK (self->side_stack), "dispatch");
  update_labels (self);
}

/* ---------------------------------------------------------------- actions */

static void
play_action (GtkWidget *widget, const char *name, GVariant *param)
{
  FtWindow *self = FT_WINDOW (widget);
  if (ft_session_get_playing (self->session))
    ft_session_pause (self->session);
  else
    ft_session_play (self->session);
  update_labels (self);
}

static void
step_action (GtkWidget *widget, const char *name, GVariant *param)
{
  ft_session_step (FT_WINDOW (widget)->session);
}

static void
speed_action (GtkWidget *widget, const char *name, GVariant *param)
{
  FtWindow *self = FT_WINDOW (widget);
  int d = g_str_equal (name, "win.faster") ? 1 : -1;
  int i = (int) gtk_drop_down_get_selected (GTK_DROP_DOWN (self->speed_dropdown)) + d;
  gtk_drop_down_set_selected (GTK_DROP_DOWN (self->speed_dropdown), CLAMP (i, 0, (int) G_N_ELEMENTS (speeds) - 1));
}

guint
ft_window_select_low_battery (FtWindow *self)
{
  FtFrame *f = current_frame (self);
  if (f == NULL)
    return 0;
  int w = gtk_widget_get_width (GTK_WIDGET (self->vehicles)), h = gtk_widget_get_height (GTK_WIDGET (self->vehicles));
  guint added = 0;
  for (guint i = 0; i < f->n_vehicles; i++)
    {
      if (f->vehicles[i].dot != FT_DOT_AVAILABLE_LOW)
        continue;
      double x, y;
      ft_vehicle_layer_vehicle_coords (self->vehicles, i, &x, &y);
      if (x < 0 || y < 0 || x >= w || y >= h)
        continue;
      ft_vehicle_layer_toggle (self->vehicles, i);
      added++;
    }
  update_labels (self);
  return added;
}

static void
select_low_action (GtkWidget *widget, const char *name, GVariant *param)
{
  FtWindow *self = FT_WINDOW (widget);
  ft_vehicle_layer_clear_selection (self->vehicles);
  guint n = ft_window_select_low_battery (self);
  g_autofree char *msg = g_strdup_printf ("Selected %u low-battery vehicles in view.", n);
  gtk_label_set_label (GTK_LABEL (self->dispatch_status), msg);
}

static void
clear_selection_action (GtkWidget *widget, const char *name, GVariant *param)
{
  FtWindow *self = FT_WINDOW (widget);
  ft_vehicle_layer_clear_selection (self->vehicles);
  update_labels (self);
}

guint
ft_window_dispatch_selection (FtWindow *self, guint kind, gint32 staff, GError **error)
{
  g_autoptr(GArray) sel = ft_vehicle_layer_dup_selection (self->vehicles);
  if (sel->len == 0)
    {
      g_set_error (error, FT_SIM_ERROR, FT_SIM_ERROR_INVALID,
                   "no vehicles are selected: Ctrl+click vehicles or Shift+drag a rectangle first");
      return 0;
    }
  FtLatLon target = { 0, 0 };
  if (!isnan (self->marker_mx))
    target = ft_mercator_to_latlon (self->marker_mx, self->marker_my);
  return ft_session_dispatch (self->session, kind, (const guint *) sel->data, sel->len, target, staff, error);
}

static void
dispatch_action (GtkWidget *widget, const char *name, GVariant *param)
{
  FtWindow *self = FT_WINDOW (widget);
  static const guint kinds[] = { FT_TASK_BATTERY_SWAP, FT_TASK_REBALANCE, FT_TASK_COLLECT_REPAIR };
  if (self->live_mode)
    {
      g_autoptr(GArray) sel = ft_vehicle_layer_dup_selection (self->vehicles);
      if (!ft_session_can_dispatch (self->session))
        {
          gtk_label_set_label (GTK_LABEL (self->dispatch_status),
                               "Only staff roles can dispatch: switch the role to Dispatcher.");
          return;
        }
      if (sel->len == 0)
        {
          gtk_label_set_label (GTK_LABEL (self->dispatch_status),
                               "No vehicles are selected: Ctrl+click vehicles or Shift+drag a rectangle first.");
          return;
        }
      guint kk = gtk_drop_down_get_selected (GTK_DROP_DOWN (self->task_dropdown));
      gint st = (gint) gtk_drop_down_get_selected (GTK_DROP_DOWN (self->staff_dropdown)) - 1;
      FtLatLon target = { 0, 0 };
      if (!isnan (self->marker_mx))
        target = ft_mercator_to_latlon (self->marker_mx, self->marker_my);
      g_autoptr(GError) error = NULL;
      guint published = 0;
      guint n = ft_live_session_dispatch (self->live, kinds[MIN (kk, 2)], (const guint *) sel->data, sel->len,
                                          target, st, &published, &error);
      g_autofree char *msg = g_strdup_printf ("%u live tasks created%s, %u locate commands published "
                                              "(see the Live page). %s", n,
                                              st >= 0 ? " and assigned" : "", published,
                                              error ? error->message : "");
      gtk_label_set_label (GTK_LABEL (self->dispatch_status), msg);
      if (n > 0)
        ft_vehicle_layer_clear_selection (self->vehicles);
      update_live_page (self);
      return;
    }
  guint k = gtk_drop_down_get_selected (GTK_DROP_DOWN (self->task_dropdown));
  gint32 staff = (gint32) gtk_drop_down_get_selected (GTK_DROP_DOWN (self->staff_dropdown)) - 1;
  if (k == 1 && isnan (self->marker_mx))
    {
      gtk_label_set_label (GTK_LABEL (self->dispatch_status),
                           "Click the map where the vehicles should go first.");
      return;
    }
  g_autoptr(GError) error = NULL;
  guint n = ft_window_dispatch_selection (self, kinds[MIN (k, 2)], staff, &error);
  g_autofree char *msg = error ? g_strdup_printf ("%u tasks created. %s", n, error->message)
                               : g_strdup_printf ("%u tasks created.", n);
  gtk_label_set_label (GTK_LABEL (self->dispatch_status), msg);
  if (n > 0)
    ft_vehicle_layer_clear_selection (self->vehicles);
}

/* Rider view: every step runs on the twin thread through the real modules. */

typedef struct {
  FtWindow *self;
  int       op;        /* 0 find, 1 reserve, 2 unlock, 3 end */
  FtLatLon  at;
} RiderJob;

static char *
rider_core (RiderJob *j, FtCore *core, FtTime now)
{
  FtWindow *self = j->self;
  g_autoptr(GError) error = NULL;

  if (self->rider < 0)
    {
      gint r = ft_accounts_create (core->accounts, FT_ROLE_RIDER, "Rider view (you)", NULL, now, &error);
      if (r < 0)
        return g_markup_printf_escaped ("Cannot create your rider account: %s", error->message);
      self->rider = r;
    }
  switch (j->op)
    {
    case 0:
    case 1:
      {
        FtFindResult found[5];
        guint n = ft_booking_find (core->booking, j->at, 500, 1500, 0, found, 5);
        if (n == 0)
          return g_strdup ("No available vehicle within 500 m of the marked point.");
        if (j->op == 0)
          {
            GString *s = g_string_new ("<b>Nearby</b>\n");
            for (guint i = 0; i < n; i++)
              {
                const FtVehicle *v = ft_fleet_get_vehicle (core->fleet, found[i].vehicle);
                g_string_append_printf (s, "%s (%s): %.0f m walk, %.1f km range\n", v->name,
                                        ft_vehicle_kind_id (v->kind), found[i].walk_m, found[i].range_m / 1000);
              }
            return g_string_free (s, FALSE);
          }
        gint64 b = ft_booking_reserve (core->booking, (guint) self->rider, found[0].vehicle, now, &error);
        if (b < 0)
          return g_markup_printf_escaped ("Reservation refused: %s", error->message);
        self->rider_booking = b;
        self->rider_vehicle = (gint32) found[0].vehicle;
        self->rider_start = ft_fleet_get_vehicle (core->fleet, found[0].vehicle)->pos;
        const FtBookingRec *rec = ft_booking_get (core->booking, b);
        g_autofree char *until = ft_time_format (rec->hold_until);
        return g_markup_printf_escaped ("Reserved %s until %s (booking %" G_GINT64_FORMAT ").",
                                        ft_fleet_get_vehicle (core->fleet, found[0].vehicle)->name, until, b);
      }
    case 2:
      if (self->rider_booking < 0)
        return g_strdup ("Reserve a vehicle first.");
      if (!ft_booking_unlock (core->booking, self->rider_booking, (guint) self->rider, now, &error))
        return g_markup_printf_escaped ("Unlock refused: %s", error->message);
      return g_strdup ("Unlocked — ride on. Mark your destination on the map, let time run, then end the ride.");
    case 3:
      {
        if (self->rider_booking < 0)
          return g_strdup ("You are not riding.");
        FtPriceBreakdown price;
        double dist = ft_distance_m (self->rider_start, j->at) * 1.3;
        if (!ft_booking_end (core->booking, self->rider_booking, (guint) self->rider, j->at, dist, now,
                             &price, &error))
          return g_markup_printf_escaped ("Cannot end here: %s", error->message);
        const FtBookingRec *rec = ft_booking_get (core->booking, self->rider_booking);
        g_autofree char *t0 = ft_time_format (rec->unlocked_at), *t1 = ft_time_format (rec->ended_at);
        g_autofree char *unlock = ft_money_format (price.unlock, price.currency);
        g_autofree char *tm = ft_money_format (price.time, price.currency);
        g_autofree char *dm = ft_money_format (price.distance, price.currency);
        g_autofree char *total = ft_money_format (price.total, price.currency);
        self->rider_booking = -1;
        return g_markup_printf_escaped (
            "<b>Receipt</b>\nTrip %s\n%s → %s, %.2f km\nUnlock %s\nTime %s\nDistance %s\n"
            "Zone ×%.2f · dynamic ×%.2f\n<b>Total %s</b>",
            rec->trip_id, t0, t1, dist / 1000.0, unlock, tm, dm, price.zone_multiplier,
            price.dynamic_multiplier, total);
      }
    }
  return NULL;
}

static char *
rider_job (FtSimWorld *w, gpointer data)
{
  return rider_core (data, ft_sim_world_get_core (w), ft_sim_world_now (w));
}

/* Live mode: the same steps on the live core; the adapter publishes the
 * unlock and lock commands that booking unlock and end imply. */
static char *
rider_live_job (FtCore *core, FtLive *live, FtTime now, gpointer data)
{
  return rider_core (data, core, now);
}

static void
rider_action (GtkWidget *widget, const char *name, GVariant *param)
{
  FtWindow *self = FT_WINDOW (widget);
  RiderJob j = { self, 0, { 0, 0 } };
  if (g_str_equal (name, "win.rider-reserve"))
    j.op = 1;
  else if (g_str_equal (name, "win.rider-unlock"))
    j.op = 2;
  else if (g_str_equal (name, "win.rider-end"))
    j.op = 3;
  if (j.op != 2 && isnan (self->marker_mx))
    {
      show_markup (self->rider_label, "Click the map to mark a point first.");
      return;
    }
  if (!isnan (self->marker_mx))
    j.at = ft_mercator_to_latlon (self->marker_mx, self->marker_my);
  g_autofree char *r = NULL;
  if (self->live_mode)
    {
      r = ft_live_session_run_job_sync (self->live, rider_live_job, &j);
      if (r == NULL)
        r = g_strdup ("Live mode is not connected: open Broker Settings on the Live page.");
    }
  else
    r = ft_session_run_job_sync (self->session, rider_job, &j);
  show_markup (self->rider_label, r);
}

static void
screenshot_action (GtkWidget *widget, const char *name, GVariant *param)
{
  FtWindow *self = FT_WINDOW (widget);
  g_autoptr(GdkTexture) tex = ft_screenshot_widget (GTK_WIDGET (self));
  if (tex == NULL)
    return;
  g_autofree char *path = g_build_filename (g_get_user_special_dir (G_USER_DIRECTORY_PICTURES)
                                            ? g_get_user_special_dir (G_USER_DIRECTORY_PICTURES)
                                            : g_get_home_dir (), "fleet-twin.png", NULL);
  gdk_texture_save_to_png (tex, path);
  g_autofree char *msg = g_strdup_printf ("Screenshot saved to %s", path);
  show_markup (self->inspector_label, msg);
}


/* --------------------------------------------------------------- live mode */

static void
update_live_page (FtWindow *self)
{
  if (!self->live_mode)
    {
      gtk_label_set_label (GTK_LABEL (self->live_state_label),
                           "Simulation mode. Switch to Live in the header bar to attach to a fleet's MQTT telemetry.");
      return;
    }
  FtLiveConnState st = ft_live_session_get_state (self->live);
  const char *err = ft_live_session_get_error (self->live);
  const char *status = ft_live_session_get_status (self->live);
  const char *url = ft_live_session_get_url (self->live);
  static const char *colours[] = { "#777777", "#b07000", "#1a8f1a", "#b07000", "#c01c28" };
  g_autofree char *markup = g_markup_printf_escaped (
      "<b>Live</b> · <span foreground=\"%s\"><b>%s</b></span>\n%s%s%s%s%s",
      colours[MIN ((guint) st, G_N_ELEMENTS (colours) - 1)], ft_live_conn_state_name (st),
      url ? url : "no broker configured", err && st != FT_LIVE_CONNECTED ? "\n" : "",
      err && st != FT_LIVE_CONNECTED ? err : "", status ? "\n" : "", status ? status : "");
  gtk_label_set_markup (GTK_LABEL (self->live_state_label), markup);

  guint n = 0;
  const FtLiveCommand *c = ft_live_session_get_commands (self->live, &n);
  FtFrame *f = ft_live_session_get_frame (self->live);
  GString *s = g_string_new (NULL);
  /* Newest first, at most 60. */
  for (guint k = 0; k < n && k < 60; k++)
    {
      const FtLiveCommand *cmd = &c[n - 1 - k];
      g_autofree char *state = ft_live_session_command_status (cmd);
      g_autoptr(GDateTime) dt = g_date_time_new_from_unix_utc (cmd->issued / 1000);
      g_autofree char *at = dt ? g_date_time_format (dt, "%H:%M:%S") : g_strdup ("?");
      const char *colour = cmd->state == FT_CMD_ACKED ? "#1a8f1a"
                         : cmd->state == FT_CMD_FAILED || cmd->state == FT_CMD_EXPIRED ? "#c01c28"
                         : cmd->attempts > 1 ? "#b07000" : "#555555";
      g_autofree char *line = g_markup_printf_escaped (
          "%s <b>%s</b> %.8s… <span foreground=\"%s\">%s</span>\n", at, ft_live_command_name (cmd->kind),
          cmd->device_id, colour, state);
      g_string_append (s, line);
    }
  (void) f;
  if (n == 0)
    g_string_append (s, "No commands yet.");

  /* Staff task assignments: the message's state, then the crew's progress. */
  guint na = 0;
  const FtLiveAssignment *as = ft_live_session_get_assignments (self->live, &na);
  if (na > 0)
    g_string_append (s, "\n<b>Staff tasks</b>\n");
  for (guint k = 0; k < na && k < 30; k++)
    {
      const FtLiveAssignment *a = &as[na - 1 - k];
      g_autofree char *state = ft_live_session_assignment_status (a);
      g_autoptr(GDateTime) dt = g_date_time_new_from_unix_utc (a->issued / 1000);
      g_autofree char *at = dt ? g_date_time_format (dt, "%H:%M:%S") : g_strdup ("?");
      const char *colour = g_strcmp0 (a->progress, "done") == 0 ? "#1a8f1a"
                         : a->state == FT_CMD_FAILED || a->state == FT_CMD_EXPIRED
                           || g_strcmp0 (a->progress, "failed") == 0 ? "#c01c28"
                         : a->attempts > 1 ? "#b07000" : "#555555";
      g_autofree char *line = g_markup_printf_escaped (
          "%s task %" G_GINT64_FORMAT " → %s <span foreground=\"%s\">%s</span>\n", at, a->task,
          a->staff_id, colour, state);
      g_string_append (s, line);
    }
  gtk_label_set_markup (GTK_LABEL (self->live_commands_label), s->str);
  g_string_free (s, TRUE);
}

static void
on_live_state_changed (FtLiveSession *live, FtWindow *self)
{
  update_live_page (self);
}

gboolean
ft_window_live_connect (FtWindow *self, GError **error)
{
  FtLiveConfig cfg;
  ft_live_config_init (&cfg);
  ft_broker_settings_to_config (self->settings, self->live_password, &cfg);
  if (cfg.url == NULL || cfg.prefix == NULL)
    {
      g_set_error (error, FT_LIVE_ERROR, FT_LIVE_ERROR_URL,
                   "no broker configured: open Broker Settings on the Live page");
      ft_live_config_clear (&cfg);
      return FALSE;
    }
  self->live_centered = FALSE;
  self->rider = -1;
  self->rider_booking = -1;
  self->inspected = -1;
  gboolean ok = ft_live_session_start (self->live, &cfg, error);
  ft_live_config_clear (&cfg);
  return ok;
}

void
ft_window_set_live_mode (FtWindow *self, gboolean live)
{
  g_return_if_fail (FT_IS_WINDOW (self));
  live = !!live;
  if (gtk_drop_down_get_selected (GTK_DROP_DOWN (self->mode_dropdown)) != (guint) live)
    {
      gtk_drop_down_set_selected (GTK_DROP_DOWN (self->mode_dropdown), live);   /* comes back here */
      return;
    }
  if (self->live_mode == live)
    return;
  self->live_mode = live;
  self->inspected = -1;
  self->rider = -1;
  self->rider_booking = -1;
  ft_vehicle_layer_clear_selection (self->vehicles);
  /* Live time is wall time: no play, step or speed. */
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "win.play", !live);
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "win.step", !live);
  gtk_widget_set_sensitive (self->speed_dropdown, !live);
  if (live)
    {
      ft_session_pause (self->session);
      gtk_stack_set_visible_child_name (GTK_STACK (self->side_stack), "live");
      g_autoptr(GError) error = NULL;
      if (!ft_window_live_connect (self, &error))
        gtk_label_set_label (GTK_LABEL (self->live_command_status), error->message);
      else
        gtk_label_set_label (GTK_LABEL (self->live_command_status), "");
    }
  else
    ft_live_session_stop (self->live);
  FtFrame *f = current_frame (self);
  ft_vehicle_layer_set_frame (self->vehicles, f);
  ft_overlay_layer_set_frame (self->overlay, f);
  if (!live)
    ft_window_reload_map (self);
  else
    {
      fill_staff_dropdown (self);
      update_labels (self);
    }
}

gboolean
ft_window_get_live_mode (FtWindow *self)
{
  return self->live_mode;
}

FtLiveSession *
ft_window_get_live_session (FtWindow *self)
{
  return self->live;
}

void
ft_window_set_live_password (FtWindow *self, const char *password)
{
  if (self->live_password)
    memset (self->live_password, 0, strlen (self->live_password));
  g_free (self->live_password);
  self->live_password = password && *password ? g_strdup (password) : NULL;
}

static void
on_mode_changed (GObject *dd, GParamSpec *pspec, FtWindow *self)
{
  ft_window_set_live_mode (self, gtk_drop_down_get_selected (GTK_DROP_DOWN (dd)) == 1);
}

static void
on_broker_apply (FtBrokerDialog *dlg, const char *password, FtWindow *self)
{
  ft_window_set_live_password (self, password);
  if (!self->live_mode)
    {
      ft_window_set_live_mode (self, TRUE);
      return;
    }
  g_autoptr(GError) error = NULL;
  if (!ft_window_live_connect (self, &error))
    gtk_label_set_label (GTK_LABEL (self->live_command_status), error->message);
  update_labels (self);
}

static void
broker_settings_action (GtkWidget *widget, const char *name, GVariant *param)
{
  FtWindow *self = FT_WINDOW (widget);
  FtBrokerDialog *dlg = ft_broker_dialog_new (GTK_WINDOW (self), self->settings, self->live_password);
  g_signal_connect_object (dlg, "apply", G_CALLBACK (on_broker_apply), self, 0);
  gtk_window_present (GTK_WINDOW (dlg));
}

static void
live_reconnect_action (GtkWidget *widget, const char *name, GVariant *param)
{
  FtWindow *self = FT_WINDOW (widget);
  if (!self->live_mode)
    {
      ft_window_set_live_mode (self, TRUE);
      return;
    }
  g_autoptr(GError) error = NULL;
  if (!ft_window_live_connect (self, &error))
    gtk_label_set_label (GTK_LABEL (self->live_command_status), error->message);
}

guint
ft_window_live_command (FtWindow *self, FtLiveCommandKind kind, GError **error)
{
  g_return_val_if_fail (FT_IS_WINDOW (self), 0);
  if (!self->live_mode)
    {
      g_set_error (error, FT_LIVE_ERROR, FT_LIVE_ERROR_NOT_CONNECTED,
                   "commands go to real vehicles only in Live mode: switch the header bar to Live");
      return 0;
    }
  g_autoptr(GArray) sel = ft_vehicle_layer_dup_selection (self->vehicles);
  if (sel->len == 0 && self->inspected >= 0)
    {
      guint v = (guint) self->inspected;
      g_array_append_val (sel, v);
    }
  if (sel->len == 0)
    {
      g_set_error (error, FT_LIVE_ERROR, FT_LIVE_ERROR_UNKNOWN_VEHICLE,
                   "no vehicle chosen: click a vehicle on the map (or Ctrl+click several) first");
      return 0;
    }
  guint sent = 0;
  for (guint i = 0; i < sel->len; i++)
    {
      g_autoptr(GError) e = NULL;
      g_autofree char *id = ft_live_session_send_command (self->live, g_array_index (sel, guint, i), kind, &e);
      if (id)
        sent++;
      else if (error && *error == NULL)
        g_propagate_error (error, g_steal_pointer (&e));
    }
  return sent;
}

void
ft_window_inspect_vehicle (FtWindow *self, guint v)
{
  self->inspected = (gint) v;
  g_autofree char *d = self->live_mode ? ft_live_session_describe_vehicle (self->live, v)
                                       : ft_session_describe_vehicle (self->session, v);
  show_markup (self->inspector_label, d);
}

const char *
ft_window_get_live_state_text (FtWindow *self)
{
  return gtk_label_get_text (GTK_LABEL (self->live_state_label));
}

const char *
ft_window_get_inspector_text (FtWindow *self)
{
  return gtk_label_get_text (GTK_LABEL (self->inspector_label));
}

static void
live_command_action (GtkWidget *widget, const char *name, GVariant *param)
{
  FtWindow *self = FT_WINDOW (widget);
  FtLiveCommandKind kind;
  if (!ft_live_command_from_name (g_variant_get_string (param, NULL), &kind))
    return;
  g_autoptr(GError) error = NULL;
  guint n = ft_window_live_command (self, kind, &error);
  g_autofree char *msg = error ? g_strdup_printf ("%u %s commands published. %s", n, ft_live_command_name (kind),
                                                  error->message)
                               : g_strdup_printf ("%u %s command%s published; waiting for acks.", n,
                                                  ft_live_command_name (kind), n == 1 ? "" : "s");
  gtk_label_set_label (GTK_LABEL (self->live_command_status), msg);
  if (self->inspected >= 0)
    ft_window_inspect_vehicle (self, (guint) self->inspected);
  update_live_page (self);
}

static void
scenario_loaded_cb (FtScenarioEditor *editor, FtWindow *self)
{
  ft_window_reload_map (self);
}

static void
edit_scenario_action (GtkWidget *widget, const char *name, GVariant *param)
{
  FtWindow *self = FT_WINDOW (widget);
  FtScenarioEditor *ed = ft_scenario_editor_new (GTK_WINDOW (self), self->session);
  g_signal_connect_object (ed, "applied", G_CALLBACK (scenario_loaded_cb), self, 0);
  gtk_window_present (GTK_WINDOW (ed));
}

static void
on_open_response (GtkNativeDialog *dialog, int response, FtWindow *self)
{
  if (response == GTK_RESPONSE_ACCEPT)
    {
      g_autoptr(GFile) file = gtk_file_chooser_get_file (GTK_FILE_CHOOSER (dialog));
      g_autofree char *path = g_file_get_path (file);
      g_autoptr(GError) error = NULL;
      gboolean is_city = GPOINTER_TO_INT (g_object_get_data (G_OBJECT (dialog), "city"));
      FtSimScenario *sc = NULL;
      if (is_city)
        {
          sc = ft_sim_scenario_copy (ft_session_get_scenario (self->session));
          g_free (sc->city);
          sc->city = g_strdup (path);
        }
      else
        sc = ft_sim_scenario_load (path, &error);
      if (sc == NULL || !ft_session_load (self->session, sc, NULL, &error))
        show_markup (self->inspector_label, error ? error->message : "cannot load");
      else
        ft_window_reload_map (self);
    }
  g_object_unref (dialog);
}

static void
open_action (GtkWidget *widget, const char *name, GVariant *param)
{
  FtWindow *self = FT_WINDOW (widget);
  gboolean city = g_str_equal (name, "win.open-city");
  GtkFileChooserNative *fc = gtk_file_chooser_native_new (
      city ? "Open City Pack" : "Open Scenario", GTK_WINDOW (self),
      city ? GTK_FILE_CHOOSER_ACTION_SELECT_FOLDER : GTK_FILE_CHOOSER_ACTION_OPEN, NULL, NULL);
  if (!city)
    {
      GtkFileFilter *filter = gtk_file_filter_new ();
      gtk_file_filter_set_name (filter, "Scenarios");
      gtk_file_filter_add_pattern (filter, "*.scenario");
      gtk_file_chooser_add_filter (GTK_FILE_CHOOSER (fc), filter);
      g_object_unref (filter);
    }
  g_object_set_data (G_OBJECT (fc), "city", GINT_TO_POINTER (city));
  g_signal_connect (fc, "response", G_CALLBACK (on_open_response), self);
  gtk_native_dialog_show (GTK_NATIVE_DIALOG (fc));
}

static void
on_imported (FtImportDialog *dlg, const char *dir, FtWindow *self)
{
  g_autoptr(GError) error = NULL;
  FtSimScenario *sc = ft_sim_scenario_copy (ft_session_get_scenario (self->session));
  g_free (sc->city);
  sc->city = g_strdup (dir);
  if (!ft_session_load (self->session, sc, NULL, &error))
    show_markup (self->inspector_label, error->message);
  else
    ft_window_reload_map (self);
}

static void
on_import_response (GtkNativeDialog *dialog, int response, FtWindow *self)
{
  if (response == GTK_RESPONSE_ACCEPT)
    {
      g_autoptr(GFile) file = gtk_file_chooser_get_file (GTK_FILE_CHOOSER (dialog));
      g_autofree char *path = g_file_get_path (file);
      g_autofree char *base = g_path_get_basename (path);
      char *dot = strchr (base, '.');
      if (dot)
        *dot = '\0';
      g_autofree char *out = g_build_filename (g_get_user_data_dir (), "fleet-twin", "cities", base, NULL);
      g_autofree char *parent = g_path_get_dirname (out);
      g_mkdir_with_parents (parent, 0755);
      FtImportDialog *dlg = ft_import_dialog_new (GTK_WINDOW (self), path, out);
      g_signal_connect_object (dlg, "imported", G_CALLBACK (on_imported), self, 0);
      gtk_window_present (GTK_WINDOW (dlg));
    }
  g_object_unref (dialog);
}

static void
import_osm_action (GtkWidget *widget, const char *name, GVariant *param)
{
  FtWindow *self = FT_WINDOW (widget);
  GtkFileChooserNative *fc = gtk_file_chooser_native_new ("Import OpenStreetMap Extract", GTK_WINDOW (self),
                                                          GTK_FILE_CHOOSER_ACTION_OPEN, NULL, NULL);
  GtkFileFilter *filter = gtk_file_filter_new ();
  gtk_file_filter_set_name (filter, "OpenStreetMap PBF");
  gtk_file_filter_add_pattern (filter, "*.osm.pbf");
  gtk_file_chooser_add_filter (GTK_FILE_CHOOSER (fc), filter);
  g_object_unref (filter);
  g_signal_connect (fc, "response", G_CALLBACK (on_import_response), self);
  gtk_native_dialog_show (GTK_NATIVE_DIALOG (fc));
}

static void
compare_action (GtkWidget *widget, const char *name, GVariant *param)
{
  FtWindow *self = FT_WINDOW (widget);
  GtkWidget *win = ft_results_view_new (GTK_WINDOW (self), self->session);
  gtk_window_present (GTK_WINDOW (win));
}

/* ------------------------------------------------------------ lifecycle */

static void
on_speed_changed (GObject *dd, GParamSpec *pspec, FtWindow *self)
{
  guint i = gtk_drop_down_get_selected (GTK_DROP_DOWN (dd));
  if (i < G_N_ELEMENTS (speeds))
    ft_session_set_speed (self->session, speeds[i]);
}

static void
on_role_changed (GObject *dd, GParamSpec *pspec, FtWindow *self)
{
  FtRoleView role = gtk_drop_down_get_selected (GTK_DROP_DOWN (dd));
  ft_session_set_role (self->session, role);
  gboolean can = ft_session_can_dispatch (self->session);
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "win.dispatch", can);
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "win.select-low-battery", can);
  if (role == FT_ROLE_VIEW_RIDER)
    gtk_stack_set_visible_child_name (GTK_STACK (self->side_stack), "rider");
  else if (can)
    gtk_stack_set_visible_child_name (GTK_STACK (self->side_stack), "kpis");
  gtk_label_set_label (GTK_LABEL (self->dispatch_status),
                       can ? "" : "Only dispatchers and planners can create tasks.");
}

static void
on_layer_toggled (GtkCheckButton *b, FtWindow *self)
{
  guint bit = GPOINTER_TO_UINT (g_object_get_data (G_OBJECT (b), "bit"));
  gboolean on = gtk_check_button_get_active (b);
  if (bit == 0)
    gtk_widget_set_visible (GTK_WIDGET (self->vehicles), on);
  else if (bit == 0x100)
    ft_window_set_online_tiles (self, on);
  else
    {
      guint flags = ft_overlay_layer_get_flags (self->overlay);
      ft_overlay_layer_set_flags (self->overlay, on ? flags | bit : flags & ~bit);
    }
}

static void
build_layers_page (FtWindow *self)
{
  struct { const char *label; guint bit; gboolean on; } items[] = {
    { "Vehicles", 0, TRUE },
    { "Demand zones", FT_OVERLAY_ZONES, TRUE },
    { "Geofences (no parking)", FT_OVERLAY_GEOFENCES, TRUE },
    { "Demand heat", FT_OVERLAY_HEAT, FALSE },
    { "Staff vans and routes", FT_OVERLAY_STAFF, TRUE },
    { "Lost demand", FT_OVERLAY_LOST, TRUE },
    { "Online OpenStreetMap tiles", 0x100, FALSE },
  };
  guint flags = 0;
  for (guint i = 0; i < G_N_ELEMENTS (items); i++)
    {
      GtkWidget *b = gtk_check_button_new_with_label (items[i].label);
      gtk_check_button_set_active (GTK_CHECK_BUTTON (b), items[i].on);
      g_object_set_data (G_OBJECT (b), "bit", GUINT_TO_POINTER (items[i].bit));
      g_signal_connect (b, "toggled", G_CALLBACK (on_layer_toggled), self);
      gtk_box_append (GTK_BOX (self->layers_box), b);
      if (items[i].on && items[i].bit && items[i].bit != 0x100)
        flags |= items[i].bit;
      if (items[i].bit == 0x100 && self->settings)
        g_settings_bind (self->settings, "online-tiles", b, "active", G_SETTINGS_BIND_DEFAULT);
    }
  ft_overlay_layer_set_flags (self->overlay, flags);
}

static void
ft_window_dispose (GObject *object)
{
  FtWindow *self = FT_WINDOW (object);
  if (self->session)
    ft_session_pause (self->session);
  if (self->live)
    ft_live_session_stop (self->live);
  g_clear_handle_id (&self->poll_id, g_source_remove);
  gtk_widget_dispose_template (GTK_WIDGET (self), FT_TYPE_WINDOW);
  G_OBJECT_CLASS (ft_window_parent_class)->dispose (object);
}

static void
ft_window_finalize (GObject *object)
{
  FtWindow *self = FT_WINDOW (object);
  g_clear_object (&self->offline_source);
  g_clear_object (&self->tiles);
  g_clear_object (&self->registry);
  g_clear_object (&self->session);
  g_clear_object (&self->settings);
  g_clear_object (&self->live);
  ft_window_set_live_password (self, NULL);
  G_OBJECT_CLASS (ft_window_parent_class)->finalize (object);
}

static void
ft_window_class_init (FtWindowClass *klass)
{
  GObjectClass *oc = G_OBJECT_CLASS (klass);
  GtkWidgetClass *wc = GTK_WIDGET_CLASS (klass);
  oc->dispose = ft_window_dispose;
  oc->finalize = ft_window_finalize;

  gtk_widget_class_set_template_from_resource (wc, "/org/mobilitycorp/FleetTwin/ft-window.ui");
  gtk_widget_class_bind_template_child (wc, FtWindow, play_button);
  gtk_widget_class_bind_template_child (wc, FtWindow, speed_dropdown);
  gtk_widget_class_bind_template_child (wc, FtWindow, clock_label);
  gtk_widget_class_bind_template_child (wc, FtWindow, title_label);
  gtk_widget_class_bind_template_child (wc, FtWindow, role_dropdown);
  gtk_widget_class_bind_template_child (wc, FtWindow, map_overlay);
  gtk_widget_class_bind_template_child (wc, FtWindow, legend_box);
  gtk_widget_class_bind_template_child (wc, FtWindow, side_stack);
  gtk_widget_class_bind_template_child (wc, FtWindow, kpi_box);
  gtk_widget_class_bind_template_child (wc, FtWindow, kpi_summary);
  gtk_widget_class_bind_template_child (wc, FtWindow, inspector_label);
  gtk_widget_class_bind_template_child (wc, FtWindow, selection_label);
  gtk_widget_class_bind_template_child (wc, FtWindow, task_dropdown);
  gtk_widget_class_bind_template_child (wc, FtWindow, staff_dropdown);
  gtk_widget_class_bind_template_child (wc, FtWindow, dispatch_status);
  gtk_widget_class_bind_template_child (wc, FtWindow, rider_label);
  gtk_widget_class_bind_template_child (wc, FtWindow, layers_box);
  gtk_widget_class_bind_template_child (wc, FtWindow, mode_dropdown);
  gtk_widget_class_bind_template_child (wc, FtWindow, live_state_label);
  gtk_widget_class_bind_template_child (wc, FtWindow, live_command_status);
  gtk_widget_class_bind_template_child (wc, FtWindow, live_commands_label);

  gtk_widget_class_install_action (wc, "win.play", NULL, play_action);
  gtk_widget_class_install_action (wc, "win.step", NULL, step_action);
  gtk_widget_class_install_action (wc, "win.faster", NULL, speed_action);
  gtk_widget_class_install_action (wc, "win.slower", NULL, speed_action);
  gtk_widget_class_install_action (wc, "win.select-low-battery", NULL, select_low_action);
  gtk_widget_class_install_action (wc, "win.clear-selection", NULL, clear_selection_action);
  gtk_widget_class_install_action (wc, "win.dispatch", NULL, dispatch_action);
  gtk_widget_class_install_action (wc, "win.rider-find", NULL, rider_action);
  gtk_widget_class_install_action (wc, "win.rider-reserve", NULL, rider_action);
  gtk_widget_class_install_action (wc, "win.rider-unlock", NULL, rider_action);
  gtk_widget_class_install_action (wc, "win.rider-end", NULL, rider_action);
  gtk_widget_class_install_action (wc, "win.screenshot", NULL, screenshot_action);
  gtk_widget_class_install_action (wc, "win.edit-scenario", NULL, edit_scenario_action);
  gtk_widget_class_install_action (wc, "win.open-scenario", NULL, open_action);
  gtk_widget_class_install_action (wc, "win.open-city", NULL, open_action);
  gtk_widget_class_install_action (wc, "win.compare-runs", NULL, compare_action);
  gtk_widget_class_install_action (wc, "win.import-osm", NULL, import_osm_action);
  gtk_widget_class_install_action (wc, "win.broker-settings", NULL, broker_settings_action);
  gtk_widget_class_install_action (wc, "win.live-reconnect", NULL, live_reconnect_action);
  gtk_widget_class_install_action (wc, "win.live-command", "s", live_command_action);

  gtk_widget_class_add_binding_action (wc, GDK_KEY_space, 0, "win.play", NULL);
  gtk_widget_class_add_binding_action (wc, GDK_KEY_Right, GDK_CONTROL_MASK, "win.step", NULL);
  gtk_widget_class_add_binding_action (wc, GDK_KEY_plus, GDK_CONTROL_MASK, "win.faster", NULL);
  gtk_widget_class_add_binding_action (wc, GDK_KEY_equal, GDK_CONTROL_MASK, "win.faster", NULL);
  gtk_widget_class_add_binding_action (wc, GDK_KEY_minus, GDK_CONTROL_MASK, "win.slower", NULL);
  gtk_widget_class_add_binding_action (wc, GDK_KEY_o, GDK_CONTROL_MASK, "win.open-scenario", NULL);
  gtk_widget_class_add_binding_action (wc, GDK_KEY_e, GDK_CONTROL_MASK, "win.edit-scenario", NULL);
  gtk_widget_class_add_binding_action (wc, GDK_KEY_d, GDK_CONTROL_MASK, "win.dispatch", NULL);
  gtk_widget_class_add_binding_action (wc, GDK_KEY_l, GDK_CONTROL_MASK, "win.select-low-battery", NULL);
  gtk_widget_class_add_binding_action (wc, GDK_KEY_Escape, 0, "win.clear-selection", NULL);
  gtk_widget_class_add_binding_action (wc, GDK_KEY_r, GDK_CONTROL_MASK, "win.compare-runs", NULL);
}

static void
ft_window_init (FtWindow *self)
{
  gtk_widget_init_template (GTK_WIDGET (self));
  self->first_map_ms = -1;
  self->marker_mx = self->marker_my = NAN;
  self->rider = -1;
  self->rider_booking = -1;
  self->rider_vehicle = -1;
  self->inspected = -1;
  self->live = ft_live_session_new ();
  g_signal_connect_object (self->live, "state-changed", G_CALLBACK (on_live_state_changed), self, 0);

  GSettingsSchemaSource *src = g_settings_schema_source_get_default ();
  g_autoptr(GSettingsSchema) schema = src ? g_settings_schema_source_lookup (src, "org.mobilitycorp.FleetTwin", TRUE) : NULL;
  if (schema)
    self->settings = g_settings_new ("org.mobilitycorp.FleetTwin");

  self->map = shumate_map_new ();
  self->viewport = shumate_map_get_viewport (self->map);
  shumate_viewport_set_min_zoom_level (self->viewport, 11);
  shumate_map_set_animate_zoom (self->map, FALSE);
  gtk_widget_set_hexpand (GTK_WIDGET (self->map), TRUE);
  gtk_widget_set_vexpand (GTK_WIDGET (self->map), TRUE);
  self->overlay = ft_overlay_layer_new (self->viewport);
  self->vehicles = ft_vehicle_layer_new (self->viewport);
  shumate_map_add_layer (self->map, SHUMATE_LAYER (self->overlay));
  shumate_map_add_layer (self->map, SHUMATE_LAYER (self->vehicles));
  gtk_overlay_set_child (GTK_OVERLAY (self->map_overlay), GTK_WIDGET (self->map));
  GtkWidget *scale = GTK_WIDGET (shumate_scale_new (self->viewport));
  gtk_widget_set_halign (scale, GTK_ALIGN_END);
  gtk_widget_set_valign (scale, GTK_ALIGN_END);
  gtk_overlay_add_overlay (GTK_OVERLAY (self->map_overlay), scale);

  GtkGesture *click = gtk_gesture_click_new ();
  gtk_event_controller_set_propagation_phase (GTK_EVENT_CONTROLLER (click), GTK_PHASE_CAPTURE);
  g_signal_connect (click, "released", G_CALLBACK (on_click_released), self);
  gtk_widget_add_controller (GTK_WIDGET (self->map), GTK_EVENT_CONTROLLER (click));
  GtkGesture *drag = gtk_gesture_drag_new ();
  gtk_event_controller_set_propagation_phase (GTK_EVENT_CONTROLLER (drag), GTK_PHASE_CAPTURE);
  g_signal_connect (drag, "drag-begin", G_CALLBACK (on_drag_begin), self);
  g_signal_connect (drag, "drag-update", G_CALLBACK (on_drag_update), self);
  g_signal_connect (drag, "drag-end", G_CALLBACK (on_drag_end), self);
  gtk_widget_add_controller (GTK_WIDGET (self->map), GTK_EVENT_CONTROLLER (drag));

  struct { const char *title; int f1, f2; const char *unit; double scale; } charts[4] = {
    { "Utilisation", G_STRUCT_OFFSET (FtKpiSample, utilisation), -1, " %", 100 },
    { "Trips served / lost", G_STRUCT_OFFSET (FtKpiSample, trips_served), G_STRUCT_OFFSET (FtKpiSample, trips_lost), "", 1 },
    { "Revenue", G_STRUCT_OFFSET (FtKpiSample, revenue), -1, "", 1 },
    { "Battery availability", G_STRUCT_OFFSET (FtKpiSample, battery_available), -1, " %", 100 },
  };
  for (guint i = 0; i < 4; i++)
    {
      self->charts[i] = ft_kpi_chart_new ();
      ft_kpi_chart_set_series (FT_KPI_CHART (self->charts[i]), charts[i].title, charts[i].f1, charts[i].f2,
                               charts[i].unit, charts[i].scale);
      gtk_box_append (GTK_BOX (self->kpi_box), self->charts[i]);
    }
  build_legend (self);
  build_layers_page (self);
  gtk_drop_down_set_selected (GTK_DROP_DOWN (self->speed_dropdown), 2);
  gtk_drop_down_set_selected (GTK_DROP_DOWN (self->role_dropdown), FT_ROLE_VIEW_DISPATCHER);
  g_signal_connect (self->speed_dropdown, "notify::selected", G_CALLBACK (on_speed_changed), self);
  g_signal_connect (self->role_dropdown, "notify::selected", G_CALLBACK (on_role_changed), self);
  g_signal_connect (self->mode_dropdown, "notify::selected", G_CALLBACK (on_mode_changed), self);
  self->poll_id = g_timeout_add_full (G_PRIORITY_DEFAULT_IDLE, 33, on_poll, self, NULL);
}

FtWindow *
ft_window_new (GtkApplication *app, FtSession *session)
{
  FtWindow *self = g_object_new (FT_TYPE_WINDOW, "application", app, NULL);
  self->session = g_object_ref (session);
  if (self->settings)
    {
      self->online = g_settings_get_boolean (self->settings, "online-tiles");
      gtk_drop_down_set_selected (GTK_DROP_DOWN (self->speed_dropdown),
                                  MIN (g_settings_get_uint (self->settings, "speed-index"), G_N_ELEMENTS (speeds) - 1));
      g_settings_bind (self->settings, "speed-index", self->speed_dropdown, "selected", G_SETTINGS_BIND_DEFAULT);
    }
  ft_session_set_speed (session, speeds[gtk_drop_down_get_selected (GTK_DROP_DOWN (self->speed_dropdown))]);
  ft_window_reload_map (self);
  return self;
}

FtSession *
ft_window_get_session (FtWindow *self)
{
  return self->session;
}

ShumateMap *
ft_window_get_map (FtWindow *self)
{
  return self->map;
}

FtVehicleLayer *
ft_window_get_vehicle_layer (FtWindow *self)
{
  return self->vehicles;
}

FtOverlayLayer *
ft_window_get_overlay_layer (FtWindow *self)
{
  return self->overlay;
}

GtkWidget *
ft_window_get_kpi_panel (FtWindow *self)
{
  return self->kpi_box;
}

double
ft_window_get_first_map_ms (FtWindow *self)
{
  return self->first_map_ms;
}

void
ft_window_set_marker (FtWindow *self, FtLatLon p)
{
  ft_mercator_from_latlon (p, &self->marker_mx, &self->marker_my);
  ft_overlay_layer_set_marker (self->overlay, self->marker_mx, self->marker_my);
}

const char *
ft_window_get_rider_text (FtWindow *self)
{
  return gtk_label_get_text (GTK_LABEL (self->rider_label));
}
