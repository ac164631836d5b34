/* ft-dashboard-window.c — the Dashboard window. It reads one of three
 * databases: the session's run (recorded by the session; the refresh runs
 * on the twin thread between slices, so it never races the world), the
 * live connection's (Live mode: on the live twin thread, which records it),
 * or a database file opened with "Open Database…" (a GTask thread with its
 * own connection). Each refresh commits what is pending, folds the new
 * events into the analytics aggregates with the zones of the city on the
 * map (the zoning `fleet-twin-cli analytics build` gives; live time counts
 * from the Unix epoch's Monday in the city's time zone) and reads them
 * through the filter (src/analytics/ft-dashboard.c). The window only draws
 * the charts it gets back and colours the map.
 */
#include "ft-dashboard-window.h"
#include "ft-report.h"
#include "ft-session.h"
#include "ft-sim-world.h"
#include "ft-overlay-layer.h"
#include "ft-live-session.h"
#include "ft-store.h"
#include "ft-file.h"

#include <math.h>
#include <string.h>

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
  char        *db_path;     /* an opened database file, or NULL */
  FtCity      *zone_city;   /* the map's city, loaded for live and file jobs */
  const FtCity *zone_city_of; /* the session's city it was loaded for */
  GtkWidget   *back_button;

  GtkWidget *from_spin, *to_spin, *zone_dd, *kind_dd, *layer_dd;
  GtkWidget *status_label;
  GtkWidget *charts[FT_DASH_N_CHARTS];
};

G_DEFINE_FINAL_TYPE (FtDashboardWindow, ft_dashboard_window, GTK_TYPE_WINDOW)

static void update_title (FtDashboardWindow *self);

enum { SIGNAL_REFRESHED, N_SIGNALS };
static guint signals[N_SIGNALS];

/* ------------------------------------------------------ twin-thread jobs */

typedef struct DashJob {
  FtDashSource  source;
  FtDashFilter  filter;
  char         *report_path;   /* export instead of reading */
  char         *db_path;       /* FT_DASH_SOURCE_FILE */
  const FtCity *city;          /* zones for live and file jobs (the window's), or NULL */
  guint         pages;
  FtDashboard  *out;
  GError       *error;
} DashJob;

static void
dash_job_free (DashJob *j)
{
  g_free (j->report_path);
  g_free (j->db_path);
  ft_dashboard_free (j->out);
  g_clear_error (&j->error);
  g_free (j);
}

static int
zone_at_city (double lat, double lon, gpointer data)
{
  return ft_city_zone_at (data, (FtLatLon) { lat, lon });
}

/* The zoning `fleet-twin-cli analytics build` gives: the city's zones (one
 * zone for everything without a city); live time is Unix time in UTC. */
typedef struct {
  FtAnalyticsZoning z;
  char            **names;
  char             *sig;
} Zoning;

static void
zoning_init (Zoning *zz, const FtCity *city, gboolean live)
{
  static const char *const one[] = { "all", NULL };
  memset (zz, 0, sizeof *zz);
  if (city)
    {
      zz->names = g_new0 (char *, city->n_zones + 1);
      for (guint i = 0; i < city->n_zones; i++)
        zz->names[i] = g_strdup (city->zones[i].name ? city->zones[i].name
                                 : city->zones[i].id ? city->zones[i].id : "");
      zz->sig = g_strdup_printf ("%s (%u zones)", city->name ? city->name : "city", city->n_zones);
      zz->z.n_zones = city->n_zones;
      zz->z.zone_names = (const char *const *) zz->names;
      zz->z.zone_at = zone_at_city;
      zz->z.user_data = (gpointer) city;
      zz->z.currency = city->currency[0] ? city->currency : NULL;
    }
  else
    {
      zz->sig = g_strdup ("one zone (no city given)");
      zz->z.n_zones = 1;
      zz->z.zone_names = one;
    }
  zz->z.signature = zz->sig;
  zz->z.monday_ms = live ? 4 * 86400000LL : 0;   /* 1970-01-05 was a Monday */
  zz->z.utc_offset_min = live && city ? city->utc_offset_min : 0;
}

static void
zoning_clear (Zoning *zz)
{
  g_strfreev (zz->names);
  g_free (zz->sig);
}

/* Folds the new events of db in and reads (or exports) it for j. */
static void
read_db (sqlite3 *db, DashJob *j, const FtCity *city, gboolean live, const FtReportInfo *info)
{
  Zoning zz;
  zoning_init (&zz, city, live);
  if (ft_analytics_build (db, &zz.z, NULL, NULL, &j->error))
    {
      if (j->report_path)
        ft_report_export (db, info, j->report_path, FALSE, &j->pages, &j->error);
      else
        j->out = ft_dashboard_query (db, &j->filter, &j->error);
    }
  zoning_clear (&zz);
}

/* Live mode, on the live twin thread: the connection's database. */
static char *
live_dash_job (FtCore *core, FtLive *live, FtTime now, gpointer data)
{
  DashJob *j = data;
  if (core->store == NULL)
    {
      g_set_error (&j->error, FT_ANALYTICS_ERROR, FT_ANALYTICS_ERROR_NOT_BUILT,
                   "this live connection is not recorded, so it has no analytics: connect again");
      return NULL;
    }
  if (!ft_core_commit (core, &j->error))
    return NULL;
  FtReportInfo info = { .title = "Live twin", .source = "the app's live connection", .kind = "live database" };
  read_db (ft_store_get_db (core->store), j, j->city, TRUE, &info);
  return NULL;
}

/* A database file (any thread): a run's or a live twin's, refused unless
 * it is a Fleet Twin database. */
static void
file_dash_job (DashJob *j)
{
  if (!g_file_test (j->db_path, G_FILE_TEST_IS_REGULAR))
    {
      g_set_error (&j->error, G_FILE_ERROR, G_FILE_ERROR_NOENT, "%s is not a file", j->db_path);
      return;
    }
  if (!ft_output_is_ft_sqlite (j->db_path))
    {
      g_set_error (&j->error, FT_FILE_ERROR, FT_FILE_ERROR_NOT_OURS,
                   "%s is not a Fleet Twin database (a run's or a live twin's)", j->db_path);
      return;
    }
  g_autoptr(FtStore) store = ft_store_open (j->db_path, NULL, &j->error);
  if (store == NULL)
    return;
  g_autofree char *scenario = ft_store_dup_meta (store, "scenario");
  gboolean live = scenario == NULL;
  FtReportInfo info = { .title = scenario ? scenario : "Live twin", .source = j->db_path,
                        .kind = live ? "live database" : "simulated run" };
  read_db (ft_store_get_db (store), j, j->city, live, &info);
}

static void
file_task (GTask *task, gpointer source, gpointer data, GCancellable *cancellable)
{
  file_dash_job (data);
  g_task_return_boolean (task, TRUE);
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
  Zoning zz;
  zoning_init (&zz, ft_sim_world_get_city (w), FALSE);
  sqlite3 *db = ft_store_get_db (core->store);
  gboolean ok = ft_analytics_build (db, &zz.z, NULL, NULL, error);
  zoning_clear (&zz);
  return ok ? db : NULL;
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

static FtDashSource
current_source (FtDashboardWindow *self)
{
  if (self->db_path)
    return FT_DASH_SOURCE_FILE;
  if (self->main && ft_window_get_live_mode (self->main))
    return FT_DASH_SOURCE_LIVE;
  return FT_DASH_SOURCE_RUN;
}

/* The zones of the city on the map for the jobs that have no world (live
 * and file): the window's own copy, loaded once per city, so a job never
 * reads a city the session frees meanwhile. NULL: one zone. */
static const FtCity *
zone_city (FtDashboardWindow *self)
{
  const FtCity *c = ft_session_is_loaded (self->session) ? ft_session_get_city (self->session) : NULL;
  if (c == self->zone_city_of && (c == NULL || self->zone_city != NULL))
    return self->zone_city;
  g_clear_pointer (&self->zone_city, ft_city_free);
  self->zone_city_of = c;
  if (c == NULL)
    return NULL;
  g_autoptr (GError) e = NULL;
  self->zone_city = c->dir ? ft_city_load (c->dir, &e) : ft_city_new_demo ();
  if (self->zone_city && self->zone_city->n_zones != c->n_zones)
    g_clear_pointer (&self->zone_city, ft_city_free);
  if (self->zone_city == NULL)
    g_warning ("dashboard: the zones of %s cannot be loaded (%s); one zone for everything",
               c->name ? c->name : "the city", e ? e->message : "not the city on the map");
  return self->zone_city;
}

static const char *
source_name (FtDashboardWindow *self, FtDashSource source)
{
  switch (source)
    {
    case FT_DASH_SOURCE_LIVE:
      return "Live database";
    case FT_DASH_SOURCE_FILE:
      return self->db_path;
    default:
      return "This run";
    }
}

static void
refresh_done (GObject *source, GAsyncResult *res, gpointer user_data)
{
  g_autoptr (FtDashboardWindow) self = user_data;
  DashJob *j = g_steal_pointer (&self->job);
  g_autoptr (GError) error = NULL;
  if (j->source == FT_DASH_SOURCE_RUN)
    g_free (ft_session_run_job_finish (FT_SESSION (source), res, &error));
  else if (j->source == FT_DASH_SOURCE_LIVE)
    {
      g_free (ft_live_session_run_job_finish (FT_LIVE_SESSION (source), res, &error));
      if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        {
          g_clear_error (&error);
          g_set_error (&error, G_IO_ERROR, G_IO_ERROR_CANCELLED,
                       "the live connection stopped before the dashboard was read: connect again");
        }
    }
  else
    g_task_propagate_boolean (G_TASK (res), &error);
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
          "%s%sDays %u of %u · %.0f trips served, %.0f lost · revenue %.2f %s · utilisation %.1f %%",
          j->source == FT_DASH_SOURCE_RUN ? "" : source_name (self, j->source),
          j->source == FT_DASH_SOURCE_RUN ? "" : " · ", d->days_in_filter, d->n_days, d->total_served, d->total_lost, d->total_revenue, d->currency,
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
  j->source = current_source (self);
  update_title (self);
  if (j->source == FT_DASH_SOURCE_LIVE && !ft_live_session_is_running (ft_window_get_live_session (self->main)))
    {
      set_status (self, "Live mode is not connected: connect to a broker, then refresh.");
      dash_job_free (j);
      g_signal_emit (self, signals[SIGNAL_REFRESHED], 0);
      return;
    }
  self->busy = TRUE;
  /* The callback reads the job's results and frees it. */
  self->job = j;
  switch (j->source)
    {
    case FT_DASH_SOURCE_RUN:
      set_status (self, "Reading the run's analytics…");
      ft_session_run_job_async (self->session, dash_job, j, NULL, NULL, refresh_done, g_object_ref (self));
      break;
    case FT_DASH_SOURCE_LIVE:
      set_status (self, "Reading the live database's analytics…");
      j->city = zone_city (self);
      ft_live_session_run_job_async (ft_window_get_live_session (self->main), live_dash_job, j, NULL, NULL,
                                     refresh_done, g_object_ref (self));
      break;
    case FT_DASH_SOURCE_FILE:
      {
        set_status (self, "Reading the database's analytics…");
        j->city = zone_city (self);
        j->db_path = g_strdup (self->db_path);
        GTask *task = g_task_new (self, NULL, refresh_done, g_object_ref (self));
        g_task_set_task_data (task, j, NULL);
        g_task_run_in_thread (task, file_task);
        g_object_unref (task);
        break;
      }
    }
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
  DashJob j = { .report_path = g_strdup (path), .source = current_source (self) };
  if (j.source == FT_DASH_SOURCE_RUN)
    g_free (ft_session_run_job_sync (self->session, dash_job, &j));
  else if (j.source == FT_DASH_SOURCE_LIVE)
    {
      FtLiveSession *live = ft_window_get_live_session (self->main);
      j.city = zone_city (self);
      if (ft_live_session_is_running (live))
        g_free (ft_live_session_run_job_sync (live, live_dash_job, &j));
      else
        g_set_error (&j.error, G_IO_ERROR, G_IO_ERROR_NOT_CONNECTED,
                     "Live mode is not connected: connect to a broker first");
    }
  else
    {
      j.city = zone_city (self);
      j.db_path = g_strdup (self->db_path);
      file_dash_job (&j);
      g_free (j.db_path);
    }
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

static void
update_title (FtDashboardWindow *self)
{
  g_autofree char *title = NULL;
  FtDashSource src = current_source (self);
  if (src == FT_DASH_SOURCE_FILE)
    {
      g_autofree char *base = g_path_get_basename (self->db_path);
      title = g_strdup_printf ("Dashboard — %s", base);
    }
  else if (src == FT_DASH_SOURCE_LIVE)
    title = g_strdup ("Dashboard — live database");
  else
    {
      const FtSimScenario *sc = ft_session_get_scenario (self->session);
      title = g_strdup_printf ("Dashboard — %s", sc && sc->name ? sc->name : "run");
    }
  gtk_window_set_title (GTK_WINDOW (self), title);
}

gboolean
ft_dashboard_window_open_database (FtDashboardWindow *self, const char *path, GError **error)
{
  g_return_val_if_fail (FT_IS_DASHBOARD_WINDOW (self) && path != NULL, FALSE);
  g_autoptr (GError) e = NULL;
  if (!g_file_test (path, G_FILE_TEST_IS_REGULAR))
    g_set_error (&e, G_FILE_ERROR, G_FILE_ERROR_NOENT, "%s is not a file", path);
  else if (!ft_output_is_ft_sqlite (path))
    g_set_error (&e, FT_FILE_ERROR, FT_FILE_ERROR_NOT_OURS,
                 "%s is not a Fleet Twin database (a run's or a live twin's)", path);
  if (e)
    {
      set_status (self, e->message);
      g_propagate_error (error, g_steal_pointer (&e));
      return FALSE;
    }
  g_free (self->db_path);
  self->db_path = g_strdup (path);
  gtk_widget_set_visible (self->back_button, TRUE);
  update_title (self);
  ft_dashboard_window_refresh (self);
  return TRUE;
}

void
ft_dashboard_window_use_session (FtDashboardWindow *self)
{
  g_return_if_fail (FT_IS_DASHBOARD_WINDOW (self));
  g_clear_pointer (&self->db_path, g_free);
  gtk_widget_set_visible (self->back_button, FALSE);
  update_title (self);
  ft_dashboard_window_refresh (self);
}

FtDashSource
ft_dashboard_window_get_source (FtDashboardWindow *self)
{
  g_return_val_if_fail (FT_IS_DASHBOARD_WINDOW (self), FT_DASH_SOURCE_RUN);
  return current_source (self);
}

static void
on_open_response (GtkNativeDialog *dialog, int response, FtDashboardWindow *self)
{
  if (response == GTK_RESPONSE_ACCEPT)
    {
      g_autoptr (GFile) file = gtk_file_chooser_get_file (GTK_FILE_CHOOSER (dialog));
      g_autofree char *path = file ? g_file_get_path (file) : NULL;
      g_autoptr (GError) error = NULL;
      if (path == NULL)
        set_status (self, "Cannot open that: not a local file");
      else
        ft_dashboard_window_open_database (self, path, &error);
    }
  g_object_unref (dialog);
}

static void
on_open_clicked (FtDashboardWindow *self)
{
  GtkFileChooserNative *fc = gtk_file_chooser_native_new ("Open Database", GTK_WINDOW (self),
                                                          GTK_FILE_CHOOSER_ACTION_OPEN, "_Open", NULL);
  GtkFileFilter *filter = gtk_file_filter_new ();
  gtk_file_filter_set_name (filter, "Fleet Twin databases");
  gtk_file_filter_add_pattern (filter, "*.db");
  gtk_file_filter_add_pattern (filter, "*.sqlite");
  gtk_file_chooser_add_filter (GTK_FILE_CHOOSER (fc), filter);
  g_object_unref (filter);
  g_signal_connect (fc, "response", G_CALLBACK (on_open_response), self);
  gtk_native_dialog_show (GTK_NATIVE_DIALOG (fc));
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
  g_free (self->db_path);
  g_clear_pointer (&self->zone_city, ft_city_free);
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
  /* fits a 1366x720 screen; the charts scroll under the filters */
  gtk_window_set_default_size (GTK_WINDOW (self), 1180, 660);
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
  GtkWidget *open = gtk_button_new_with_mnemonic ("Open _Database…");
  gtk_accessible_update_property (GTK_ACCESSIBLE (open), GTK_ACCESSIBLE_PROPERTY_LABEL,
                                  "Open a run's or a live twin's database file", -1);
  gtk_widget_set_tooltip_text (open, "Open a run's or a live twin's database file");
  gtk_box_append (GTK_BOX (bar), open);
  g_signal_connect_swapped (open, "clicked", G_CALLBACK (on_open_clicked), self);
  self->back_button = gtk_button_new_with_mnemonic ("_Current Run");
  gtk_accessible_update_property (GTK_ACCESSIBLE (self->back_button), GTK_ACCESSIBLE_PROPERTY_LABEL,
                                  "Back to the current run or live connection", -1);
  gtk_widget_set_tooltip_text (self->back_button, "Back to the current run or live connection");
  gtk_widget_set_visible (self->back_button, FALSE);
  gtk_box_append (GTK_BOX (bar), self->back_button);
  g_signal_connect_swapped (self->back_button, "clicked", G_CALLBACK (ft_dashboard_window_use_session), self);
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
  update_title (self);
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
