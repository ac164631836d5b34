/* ft-results-view.c — see ft-results-view.h. The table is rebuilt from the
 * session's runs whenever one is removed; the session formats nothing, the
 * view turns the plain FtSessionRun records into cells.
 */
#include "ft-results-view.h"

#include <math.h>
#include <string.h>

typedef struct {
  const char *label;
  gboolean    money;          /* revenue: compared only in one currency */
  double    (*get) (const FtSimKpis *k);
  const char *fmt;
} Row;

static double r_days (const FtSimKpis *k) { return k->days; }
static double r_veh (const FtSimKpis *k) { return k->n_vehicles; }
static double r_req (const FtSimKpis *k) { return (double) k->trips_requested; }
static double r_served (const FtSimKpis *k) { return (double) k->trips_served; }
static double r_lost (const FtSimKpis *k) { return (double) k->trips_lost; }
static double r_util (const FtSimKpis *k) { return k->utilisation * 100; }
static double r_tvd (const FtSimKpis *k) { return k->trips_per_vehicle_day; }
static double r_rev (const FtSimKpis *k) { return k->revenue_minor / 100.0; }
static double r_bat (const FtSimKpis *k) { return k->battery_unavailable_share * 100; }
static double r_swaps (const FtSimKpis *k) { return (double) k->battery_swaps; }
static double r_reb (const FtSimKpis *k) { return (double) k->rebalances; }
static double r_km (const FtSimKpis *k) { return k->staff_km; }

static const Row rows[] = {
  { "Simulated days", FALSE, r_days, "%.2f" },
  { "Vehicles", FALSE, r_veh, "%.0f" },
  { "Trips requested", FALSE, r_req, "%.0f" },
  { "Trips served", FALSE, r_served, "%.0f" },
  { "Trips lost", FALSE, r_lost, "%.0f" },
  { "Utilisation %", FALSE, r_util, "%.1f" },
  { "Trips / vehicle / day", FALSE, r_tvd, "%.2f" },
  { "Revenue", TRUE, r_rev, "%.2f" },
  { "Battery-unavailable %", FALSE, r_bat, "%.1f" },
  { "Battery swaps", FALSE, r_swaps, "%.0f" },
  { "Rebalances", FALSE, r_reb, "%.0f" },
  { "Staff km", FALSE, r_km, "%.1f" },
};

static void rebuild (GtkWidget *view);

static void
on_remove (GtkButton *b, GtkWidget *view)
{
  ft_results_view_remove (view, GPOINTER_TO_UINT (g_object_get_data (G_OBJECT (b), "run")));
}

static GtkWidget *
cell (const char *markup, float xalign)
{
  GtkWidget *l = gtk_label_new (NULL);
  gtk_label_set_markup (GTK_LABEL (l), markup);
  gtk_label_set_xalign (GTK_LABEL (l), xalign);
  return l;
}

static char *
difference (const Row *row, const FtSessionRun *base, const FtSessionRun *run)
{
  if (row->money && strcmp (base->kpis.currency, run->kpis.currency) != 0)
    return g_strdup_printf ("%s, not compared", run->kpis.currency);
  double a = row->get (&base->kpis), b = row->get (&run->kpis);
  if (fabs (a) < 1e-12)
    return fabs (b) < 1e-12 ? g_strdup ("=") : g_strdup ("new");
  double pct = (b - a) / fabs (a) * 100;
  if (fabs (pct) < 0.05)
    return g_strdup ("=");
  return g_strdup_printf ("%+.1f %%", pct);
}

static void
rebuild (GtkWidget *view)
{
  FtSession *session = g_object_get_data (G_OBJECT (view), "session");
  GtkWidget *sw = gtk_window_get_child (GTK_WINDOW (view));
  GtkWidget *grid = gtk_grid_new ();
  gtk_grid_set_column_spacing (GTK_GRID (grid), 18);
  gtk_grid_set_row_spacing (GTK_GRID (grid), 4);
  gtk_widget_set_margin_start (grid, 16);
  gtk_widget_set_margin_end (grid, 16);
  gtk_widget_set_margin_top (grid, 12);
  gtk_widget_set_margin_bottom (grid, 12);

  GPtrArray *runs = g_ptr_array_new ();
  GPtrArray *arch = ft_session_get_archive (session);
  for (guint i = 0; i < arch->len; i++)
    g_ptr_array_add (runs, arch->pdata[i]);
  g_autoptr(FtSessionRun) cur = ft_session_dup_current_run (session);
  if (cur && cur->kpis.sim_time > 0)
    g_ptr_array_add (runs, cur);

  if (runs->len == 0)
    gtk_grid_attach (GTK_GRID (grid), cell ("No runs yet: play a scenario, then compare it with the next one.", 0),
                     0, 0, 1, 1);
  else
    gtk_grid_attach (GTK_GRID (grid),
                     cell ("<small>Differences are against the first column. Partial runs are marked.</small>", 0),
                     0, 0, 1, 2);
  for (guint r = 0; r < G_N_ELEMENTS (rows) && runs->len; r++)
    gtk_grid_attach (GTK_GRID (grid), cell (rows[r].label, 0), 0, (int) r + 3, 1, 1);
  for (guint c = 0; c < runs->len; c++)
    {
      const FtSessionRun *run = runs->pdata[c];
      gboolean current = run == cur;
      int col = 1 + 2 * (int) c;
      g_autofree char *state = run->finished
          ? g_strdup ("finished")
          : g_strdup_printf ("<span foreground=\"#c01c28\">partial: %.2f of %g days</span>", run->kpis.days,
                             run->days_planned);
      g_autofree char *name = g_markup_escape_text (run->name, -1);
      g_autofree char *head2 = g_strdup_printf ("<b>%s</b>\n<small>%s%s</small>", name,
                                                current ? "current · " : "", state);
      gtk_grid_attach (GTK_GRID (grid), cell (head2, 0), col, 0, 2, 1);
      if (!current)
        {
          GtkWidget *b = gtk_button_new_with_label ("Remove");
          gtk_widget_set_halign (b, GTK_ALIGN_START);
          g_autofree char *acc = g_strdup_printf ("Remove the run of %s (column %u)", run->name, c + 1);
          gtk_accessible_update_property (GTK_ACCESSIBLE (b), GTK_ACCESSIBLE_PROPERTY_LABEL, acc, -1);
          gtk_widget_set_tooltip_text (b, acc);
          g_object_set_data (G_OBJECT (b), "run", GUINT_TO_POINTER (c));
          g_signal_connect (b, "clicked", G_CALLBACK (on_remove), view);
          gtk_grid_attach (GTK_GRID (grid), b, col, 1, 2, 1);
        }
      if (c > 0)
        gtk_grid_attach (GTK_GRID (grid), cell ("<small>difference</small>", 1), col + 1, 2, 1, 1);
      for (guint r = 0; r < G_N_ELEMENTS (rows); r++)
        {
          double v = rows[r].get (&run->kpis);
          g_autofree char *num = g_strdup_printf (rows[r].fmt, v);
          g_autofree char *txt = rows[r].money ? g_strdup_printf ("%s %s", num, run->kpis.currency) : g_strdup (num);
          gtk_grid_attach (GTK_GRID (grid), cell (txt, 1), col, (int) r + 3, 1, 1);
          if (c > 0)
            {
              g_autofree char *d = difference (&rows[r], runs->pdata[0], run);
              g_autofree char *dm = g_markup_printf_escaped ("<small>%s</small>", d);
              gtk_grid_attach (GTK_GRID (grid), cell (dm, 1), col + 1, (int) r + 3, 1, 1);
            }
        }
    }
  g_ptr_array_unref (runs);
  gtk_scrolled_window_set_child (GTK_SCROLLED_WINDOW (sw), grid);
}

GtkWidget *
ft_results_view_new (GtkWindow *parent, FtSession *session)
{
  GtkWidget *win = gtk_window_new ();
  gtk_window_set_title (GTK_WINDOW (win), "Compare Runs");
  gtk_window_set_transient_for (GTK_WINDOW (win), parent);
  gtk_window_set_default_size (GTK_WINDOW (win), 760, 460);
  g_object_set_data_full (G_OBJECT (win), "session", g_object_ref (session), g_object_unref);
  GtkWidget *sw = gtk_scrolled_window_new ();
  gtk_window_set_child (GTK_WINDOW (win), sw);
  rebuild (win);
  return win;
}

void
ft_results_view_remove (GtkWidget *view, guint i)
{
  FtSession *session = g_object_get_data (G_OBJECT (view), "session");
  if (i < ft_session_get_archive (session)->len)
    ft_session_remove_run (session, i);
  rebuild (view);
}

static void
collect (GtkWidget *w, GString *s)
{
  if (GTK_IS_LABEL (w))
    g_string_append_printf (s, "%s\t", gtk_label_get_text (GTK_LABEL (w)));
  for (GtkWidget *c = gtk_widget_get_first_child (w); c; c = gtk_widget_get_next_sibling (c))
    collect (c, s);
}

char *
ft_results_view_dup_text (GtkWidget *view)
{
  GString *s = g_string_new (NULL);
  collect (view, s);
  return g_string_free (s, FALSE);
}
