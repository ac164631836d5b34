/* ft-review-window.c — the staff review queue of damage photos and the
 * assistant's hand-offs. Every read and decision is a short job on the
 * twin thread through src/inspect's queue and src/assist's hand-off API,
 * with the scenario's dispatcher account; the window only draws.
 */
#include "ft-review-window.h"

#include "ft-session.h"
#include "ft-inspect-queue.h"
#include "ft-assist.h"
#include "ft-file.h"
#include "ft-json.h"

struct _FtReviewWindow {
  GtkWindow    parent_instance;

  FtWindow    *parent;        /* weak */
  FtSession   *session;

  GtkWidget   *review_list;
  GtkWidget   *photo_area;
  GtkWidget   *info_label;
  GtkWidget   *confirm_button;
  GtkWidget   *dismiss_button;
  GtkWidget   *status_label;
  GtkWidget   *handoff_list;

  GArray      *reviews;       /* FtReview, open */
  GPtrArray   *names;         /* vehicle names, parallel to reviews */
  GPtrArray   *handoffs;      /* FtAssistHandoff, open */
  gint         selected;      /* index in reviews, -1 */
  GdkPixbuf   *photo;
  double       photo_scale;   /* photo pixels per region pixel */
  GArray      *regions;       /* of GdkRectangle, region pixels */
  char        *status;
};

G_DEFINE_FINAL_TYPE (FtReviewWindow, ft_review_window, GTK_TYPE_WINDOW)

/* ---- jobs on the twin thread ---- */

typedef struct {
  GArray    *reviews;
  GPtrArray *names;
  GPtrArray *handoffs;
} ListJob;

static char *
list_job (FtSimWorld *w, gpointer data)
{
  ListJob *j = data;
  FtCore *core = ft_sim_world_get_core (w);
  g_autoptr(GError) error = NULL;
  g_autoptr(FtAssist) a = NULL;

  if (!ft_inspect_queue_list (core, FT_REVIEW_OPEN, j->reviews, &error))
    return g_strdup_printf ("The review queue cannot be read: %s", error->message);
  for (guint i = 0; i < j->reviews->len; i++)
    {
      const FtReview *r = &g_array_index (j->reviews, FtReview, i);
      g_ptr_array_add (j->names, g_strdup (ft_fleet_get_vehicle (core->fleet, r->vehicle)->name));
    }
  if (!(a = ft_assist_new (core, NULL, &error)))
    return g_strdup_printf ("The hand-offs cannot be read: %s", error->message);
  j->handoffs = ft_assist_list_handoffs (a, TRUE);
  return NULL;
}

typedef enum { DECIDE_CONFIRM, DECIDE_DISMISS, DECIDE_CLOSE_HANDOFF } DecideKind;

typedef struct {
  DecideKind kind;
  gint64     id;
} DecideJob;

/* Returns what was done, or "E\t" and why not. */
static char *
decide_job (FtSimWorld *w, gpointer data)
{
  DecideJob *j = data;
  FtCore *core = ft_sim_world_get_core (w);
  FtTime now = ft_sim_world_now (w);
  gint32 by = ft_sim_world_dispatcher (w);
  g_autoptr(GError) error = NULL;
  gint64 task = -1;

  if (by < 0)
    return g_strdup ("E\tthis scenario has no dispatcher account; add dispatchers=1 under [staff]");
  switch (j->kind)
    {
    case DECIDE_CONFIRM:
      if (!ft_inspect_queue_confirm (core, j->id, (guint) by, now, &task, &error))
        break;
      return g_strdup_printf ("Review %" G_GINT64_FORMAT " confirmed: the vehicle is out of service and "
                              "repair task %" G_GINT64_FORMAT " is open.", j->id, task);
    case DECIDE_DISMISS:
      if (!ft_inspect_queue_dismiss (core, j->id, (guint) by, now, &error))
        break;
      return g_strdup_printf ("Review %" G_GINT64_FORMAT " dismissed: no damage; the vehicle stays in service.",
                              j->id);
    case DECIDE_CLOSE_HANDOFF:
      {
        g_autoptr(FtAssist) a = ft_assist_new (core, NULL, &error);
        if (!a || !ft_assist_close_handoff (a, j->id, (guint) by, now, &error) || !ft_core_commit (core, &error))
          break;
        return g_strdup_printf ("Hand-off %" G_GINT64_FORMAT " closed.", j->id);
      }
    }
  return g_strdup_printf ("E\t%s", error ? error->message : "failed");
}

/* ---- the window ---- */

static void
set_status (FtReviewWindow *self, const char *text, gboolean is_error)
{
  g_free (self->status);
  self->status = g_strdup (text);
  gtk_label_set_text (GTK_LABEL (self->status_label), text);
  if (is_error)
    gtk_widget_add_css_class (self->status_label, "error");
  else
    gtk_widget_remove_css_class (self->status_label, "error");
}

static void
draw_photo (GtkDrawingArea *area, cairo_t *cr, int width, int height, gpointer user_data)
{
  FtReviewWindow *self = user_data;
  if (!self->photo)
    return;
  int pw = gdk_pixbuf_get_width (self->photo), ph = gdk_pixbuf_get_height (self->photo);
  double s = MIN ((double) width / pw, (double) height / ph);
  double ox = (width - pw * s) / 2, oy = (height - ph * s) / 2;
  cairo_save (cr);
  cairo_translate (cr, ox, oy);
  cairo_scale (cr, s, s);
  gdk_cairo_set_source_pixbuf (cr, self->photo, 0, 0);
  cairo_paint (cr);
  cairo_restore (cr);
  /* the candidate regions, in the checker's pixels */
  cairo_set_line_width (cr, 3);
  for (guint i = 0; i < self->regions->len; i++)
    {
      const GdkRectangle *g = &g_array_index (self->regions, GdkRectangle, i);
      double k = s * self->photo_scale;
      cairo_rectangle (cr, ox + g->x * k, oy + g->y * k, g->width * k, g->height * k);
      cairo_set_source_rgba (cr, 1, 0.1, 0.1, 0.18);
      cairo_fill_preserve (cr);
      cairo_set_source_rgb (cr, 1, 0.1, 0.1);
      cairo_stroke (cr);
    }
}

static GdkPixbuf *
load_photo (const char *path, GError **error)
{
  g_autofree char *data = NULL;
  gsize len = 0;
  if (!ft_file_read (path, 64 * 1024 * 1024, &data, &len, error))
    return NULL;
  g_autoptr(GdkPixbufLoader) loader = gdk_pixbuf_loader_new ();
  if (!gdk_pixbuf_loader_write (loader, (const guchar *) data, len, error))
    {
      gdk_pixbuf_loader_close (loader, NULL);
      return NULL;
    }
  if (!gdk_pixbuf_loader_close (loader, error))
    return NULL;
  GdkPixbuf *pb = gdk_pixbuf_loader_get_pixbuf (loader);
  return pb ? g_object_ref (pb) : NULL;
}

static void
show_review (FtReviewWindow *self, gint i)
{
  self->selected = i;
  g_clear_object (&self->photo);
  g_array_set_size (self->regions, 0);
  gboolean have = i >= 0 && (guint) i < self->reviews->len;
  gtk_widget_set_sensitive (self->confirm_button, have);
  gtk_widget_set_sensitive (self->dismiss_button, have);
  if (!have)
    {
      gtk_label_set_text (GTK_LABEL (self->info_label), self->reviews->len ? "Select a photo to review."
                                                                            : "No damage photos wait for review.");
      gtk_widget_queue_draw (self->photo_area);
      return;
    }
  const FtReview *r = &g_array_index (self->reviews, FtReview, i);
  g_autoptr(GError) error = NULL;
  self->photo = load_photo (r->path, &error);
  self->photo_scale = 1;
  if (self->photo)
    {
      int side = MAX (gdk_pixbuf_get_width (self->photo), gdk_pixbuf_get_height (self->photo));
      if (side > FT_INSPECT_WORK_SIDE)
        self->photo_scale = (double) side / FT_INSPECT_WORK_SIDE;
    }
  g_autoptr(JsonNode) node = ft_json_parse (r->regions ? r->regions : "[]", -1, "the review's regions", 0, 0, NULL);
  JsonArray *arr = node ? ft_json_array_of (node) : NULL;
  for (guint k = 0; arr && k < json_array_get_length (arr); k++)
    {
      JsonObject *o = ft_json_array_object (arr, k);
      gint64 x, y, w, h;
      if (o && ft_json_get_int (o, "x", &x) && ft_json_get_int (o, "y", &y) && ft_json_get_int (o, "w", &w) &&
          ft_json_get_int (o, "h", &h))
        {
          GdkRectangle g = { (int) x, (int) y, (int) w, (int) h };
          g_array_append_val (self->regions, g);
        }
    }
  g_autofree char *info = g_strdup_printf ("%s — %s, score %.1f, %u region%s\n%s%s%s",
                                           (const char *) g_ptr_array_index (self->names, i),
                                           ft_inspect_decision_name (r->decision), r->score, self->regions->len,
                                           self->regions->len == 1 ? "" : "s",
                                           r->reason && *r->reason ? r->reason : "",
                                           self->photo ? "" : "\nThe photo cannot be shown: ",
                                           self->photo ? "" : error->message);
  gtk_label_set_text (GTK_LABEL (self->info_label), info);
  gtk_widget_queue_draw (self->photo_area);
}

static void
on_review_selected (GtkListBox *box, GtkListBoxRow *row, gpointer user_data)
{
  FtReviewWindow *self = user_data;
  show_review (self, row ? gtk_list_box_row_get_index (row) : -1);
}

static void
clear_list (GtkWidget *list)
{
  GtkWidget *child;
  while ((child = gtk_widget_get_first_child (list)))
    gtk_list_box_remove (GTK_LIST_BOX (list), child);
}

static void decide (FtReviewWindow *self, DecideKind kind, gint64 id);

static void
on_close_handoff (GtkButton *button, gpointer user_data)
{
  FtReviewWindow *self = user_data;
  gint64 id = *(gint64 *) g_object_get_data (G_OBJECT (button), "handoff");
  decide (self, DECIDE_CLOSE_HANDOFF, id);
}

static GtkWidget *
handoff_row (FtReviewWindow *self, const FtAssistHandoff *h)
{
  GtkWidget *row = gtk_box_new (GTK_ORIENTATION_HORIZONTAL, 8);
  g_autofree char *text = g_strdup_printf ("#%" G_GINT64_FORMAT " rider %u, %s: %s\n“%s”", h->id, h->rider,
                                           ft_intent_name (h->intent), h->reason ? h->reason : "",
                                           h->message ? h->message : "");
  GtkWidget *label = gtk_label_new (text);
  gtk_label_set_xalign (GTK_LABEL (label), 0);
  gtk_label_set_wrap (GTK_LABEL (label), TRUE);
  gtk_widget_set_hexpand (label, TRUE);
  GtkWidget *close = gtk_button_new_with_label ("Close");
  g_autofree char *a11y = g_strdup_printf ("Close hand-off %" G_GINT64_FORMAT, h->id);
  gtk_accessible_update_property (GTK_ACCESSIBLE (close), GTK_ACCESSIBLE_PROPERTY_LABEL, a11y, -1);
  gtk_widget_set_tooltip_text (close, a11y);
  gtk_widget_set_valign (close, GTK_ALIGN_CENTER);
  g_object_set_data_full (G_OBJECT (close), "handoff", g_memdup2 (&h->id, sizeof h->id), g_free);
  g_signal_connect (close, "clicked", G_CALLBACK (on_close_handoff), self);
  gtk_box_append (GTK_BOX (row), label);
  gtk_box_append (GTK_BOX (row), close);
  return row;
}

void
ft_review_window_refresh (FtReviewWindow *self)
{
  g_return_if_fail (FT_IS_REVIEW_WINDOW (self));
  gint64 keep = ft_review_window_get_selected (self);
  ListJob j = { ft_review_array_new (), g_ptr_array_new_with_free_func (g_free), NULL };
  g_autofree char *err = ft_session_is_loaded (self->session)
                             ? ft_session_run_job_sync (self->session, list_job, &j)
                             : g_strdup ("No scenario is running.");
  g_clear_pointer (&self->reviews, g_array_unref);
  g_clear_pointer (&self->names, g_ptr_array_unref);
  g_clear_pointer (&self->handoffs, g_ptr_array_unref);
  self->reviews = j.reviews;
  self->names = j.names;
  self->handoffs = j.handoffs ? j.handoffs : g_ptr_array_new ();
  if (self->names->len != self->reviews->len)
    g_array_set_size (self->reviews, self->names->len);

  g_signal_handlers_block_by_func (self->review_list, on_review_selected, self);
  clear_list (self->review_list);
  gint select = self->reviews->len ? 0 : -1;
  for (guint i = 0; i < self->reviews->len; i++)
    {
      const FtReview *r = &g_array_index (self->reviews, FtReview, i);
      g_autofree char *t = g_strdup_printf ("%s\n%s, score %.1f", (const char *) g_ptr_array_index (self->names, i),
                                            ft_inspect_decision_name (r->decision), r->score);
      GtkWidget *label = gtk_label_new (t);
      gtk_label_set_xalign (GTK_LABEL (label), 0);
      gtk_widget_set_margin_top (label, 4);
      gtk_widget_set_margin_bottom (label, 4);
      gtk_widget_set_margin_start (label, 6);
      gtk_list_box_append (GTK_LIST_BOX (self->review_list), label);
      if (r->id == keep)
        select = (gint) i;
    }
  if (select >= 0)
    gtk_list_box_select_row (GTK_LIST_BOX (self->review_list),
                             gtk_list_box_get_row_at_index (GTK_LIST_BOX (self->review_list), select));
  g_signal_handlers_unblock_by_func (self->review_list, on_review_selected, self);
  show_review (self, select);

  clear_list (self->handoff_list);
  for (guint i = 0; i < self->handoffs->len; i++)
    gtk_list_box_append (GTK_LIST_BOX (self->handoff_list), handoff_row (self, g_ptr_array_index (self->handoffs, i)));
  if (self->handoffs->len == 0)
    gtk_list_box_append (GTK_LIST_BOX (self->handoff_list), gtk_label_new ("No open hand-offs."));
  if (err)
    set_status (self, err, TRUE);
}

static void
decide (FtReviewWindow *self, DecideKind kind, gint64 id)
{
  if (!ft_session_can_dispatch (self->session))
    {
      set_status (self, "Only staff roles decide reviews and hand-offs: switch the role to Dispatcher.", TRUE);
      return;
    }
  DecideJob j = { kind, id };
  g_autofree char *r = ft_session_run_job_sync (self->session, decide_job, &j);
  if (!r)
    r = g_strdup ("E\tthe simulation stopped first");
  gboolean failed = g_str_has_prefix (r, "E\t");
  ft_review_window_refresh (self);
  set_status (self, failed ? r + 2 : r, failed);
}

static void
on_confirm (FtReviewWindow *self)
{
  gint64 id = ft_review_window_get_selected (self);
  if (id >= 0)
    decide (self, DECIDE_CONFIRM, id);
}

static void
on_dismiss (FtReviewWindow *self)
{
  gint64 id = ft_review_window_get_selected (self);
  if (id >= 0)
    decide (self, DECIDE_DISMISS, id);
}

static void
ft_review_window_dispose (GObject *object)
{
  FtReviewWindow *self = FT_REVIEW_WINDOW (object);
  g_clear_object (&self->session);
  g_clear_object (&self->photo);
  G_OBJECT_CLASS (ft_review_window_parent_class)->dispose (object);
}

static void
ft_review_window_finalize (GObject *object)
{
  FtReviewWindow *self = FT_REVIEW_WINDOW (object);
  g_clear_pointer (&self->reviews, g_array_unref);
  g_clear_pointer (&self->names, g_ptr_array_unref);
  g_clear_pointer (&self->handoffs, g_ptr_array_unref);
  g_clear_pointer (&self->regions, g_array_unref);
  g_free (self->status);
  G_OBJECT_CLASS (ft_review_window_parent_class)->finalize (object);
}

static void
ft_review_window_class_init (FtReviewWindowClass *klass)
{
  GObjectClass *oc = G_OBJECT_CLASS (klass);
  oc->dispose = ft_review_window_dispose;
  oc->finalize = ft_review_window_finalize;
}

static GtkWidget *
a11y_button (const char *label, const char *a11y)
{
  GtkWidget *b = gtk_button_new_with_mnemonic (label);
  gtk_accessible_update_property (GTK_ACCESSIBLE (b), GTK_ACCESSIBLE_PROPERTY_LABEL, a11y, -1);
  gtk_widget_set_tooltip_text (b, a11y);
  return b;
}

static GtkWidget *
heading (const char *text)
{
  GtkWidget *l = gtk_label_new (text);
  gtk_widget_add_css_class (l, "heading");
  gtk_label_set_xalign (GTK_LABEL (l), 0);
  return l;
}

static void
ft_review_window_init (FtReviewWindow *self)
{
  self->selected = -1;
  self->regions = g_array_new (FALSE, FALSE, sizeof (GdkRectangle));
  self->reviews = ft_review_array_new ();
  self->names = g_ptr_array_new_with_free_func (g_free);
  self->handoffs = g_ptr_array_new ();
  gtk_window_set_title (GTK_WINDOW (self), "Damage Reviews");
  gtk_window_set_default_size (GTK_WINDOW (self), 1000, 660);   /* fits a 1366x720 screen */

  GtkWidget *header = gtk_header_bar_new ();
  GtkWidget *refresh = a11y_button ("_Refresh", "Read the review queue and the hand-offs again");
  g_signal_connect_swapped (refresh, "clicked", G_CALLBACK (ft_review_window_refresh), self);
  gtk_header_bar_pack_start (GTK_HEADER_BAR (header), refresh);
  gtk_window_set_titlebar (GTK_WINDOW (self), header);

  GtkWidget *outer = gtk_box_new (GTK_ORIENTATION_VERTICAL, 8);
  gtk_widget_set_margin_start (outer, 10);
  gtk_widget_set_margin_end (outer, 10);
  gtk_widget_set_margin_top (outer, 10);
  gtk_widget_set_margin_bottom (outer, 10);

  GtkWidget *top = gtk_box_new (GTK_ORIENTATION_HORIZONTAL, 10);
  gtk_widget_set_vexpand (top, TRUE);
  GtkWidget *left = gtk_box_new (GTK_ORIENTATION_VERTICAL, 6);
  gtk_box_append (GTK_BOX (left), heading ("Photos to Review"));
  self->review_list = gtk_list_box_new ();
  gtk_accessible_update_property (GTK_ACCESSIBLE (self->review_list), GTK_ACCESSIBLE_PROPERTY_LABEL,
                                  "Damage photos waiting for review", -1);
  g_signal_connect (self->review_list, "row-selected", G_CALLBACK (on_review_selected), self);
  GtkWidget *scroll = gtk_scrolled_window_new ();
  gtk_scrolled_window_set_policy (GTK_SCROLLED_WINDOW (scroll), GTK_POLICY_NEVER, GTK_POLICY_AUTOMATIC);
  gtk_scrolled_window_set_child (GTK_SCROLLED_WINDOW (scroll), self->review_list);
  gtk_widget_set_size_request (scroll, 220, -1);
  gtk_widget_set_vexpand (scroll, TRUE);
  gtk_widget_add_css_class (scroll, "frame");
  gtk_box_append (GTK_BOX (left), scroll);
  gtk_box_append (GTK_BOX (top), left);

  GtkWidget *right = gtk_box_new (GTK_ORIENTATION_VERTICAL, 6);
  gtk_widget_set_hexpand (right, TRUE);
  self->photo_area = gtk_drawing_area_new ();
  gtk_widget_set_hexpand (self->photo_area, TRUE);
  gtk_widget_set_vexpand (self->photo_area, TRUE);
  gtk_widget_set_size_request (self->photo_area, 480, 320);
  gtk_drawing_area_set_draw_func (GTK_DRAWING_AREA (self->photo_area), draw_photo, self, NULL);
  gtk_accessible_update_property (GTK_ACCESSIBLE (self->photo_area), GTK_ACCESSIBLE_PROPERTY_LABEL,
                                  "The rider's photo with the candidate damage regions outlined in red", -1);
  gtk_box_append (GTK_BOX (right), self->photo_area);
  self->info_label = gtk_label_new ("");
  gtk_label_set_xalign (GTK_LABEL (self->info_label), 0);
  gtk_label_set_wrap (GTK_LABEL (self->info_label), TRUE);
  gtk_label_set_selectable (GTK_LABEL (self->info_label), TRUE);
  gtk_box_append (GTK_BOX (right), self->info_label);
  GtkWidget *buttons = gtk_box_new (GTK_ORIENTATION_HORIZONTAL, 6);
  self->confirm_button = a11y_button ("_Confirm Damage",
                                      "Confirm the damage: take the vehicle out of service and open a repair task");
  gtk_widget_add_css_class (self->confirm_button, "destructive-action");
  g_signal_connect_swapped (self->confirm_button, "clicked", G_CALLBACK (on_confirm), self);
  self->dismiss_button = a11y_button ("_Dismiss", "Dismiss the review: no damage, the vehicle stays in service");
  g_signal_connect_swapped (self->dismiss_button, "clicked", G_CALLBACK (on_dismiss), self);
  gtk_box_append (GTK_BOX (buttons), self->confirm_button);
  gtk_box_append (GTK_BOX (buttons), self->dismiss_button);
  gtk_box_append (GTK_BOX (right), buttons);
  self->status_label = gtk_label_new ("");
  gtk_label_set_xalign (GTK_LABEL (self->status_label), 0);
  gtk_label_set_wrap (GTK_LABEL (self->status_label), TRUE);
  gtk_box_append (GTK_BOX (right), self->status_label);
  gtk_box_append (GTK_BOX (top), right);
  gtk_box_append (GTK_BOX (outer), top);

  gtk_box_append (GTK_BOX (outer), heading ("Staff Hand-offs from the Assistant"));
  self->handoff_list = gtk_list_box_new ();
  gtk_list_box_set_selection_mode (GTK_LIST_BOX (self->handoff_list), GTK_SELECTION_NONE);
  gtk_accessible_update_property (GTK_ACCESSIBLE (self->handoff_list), GTK_ACCESSIBLE_PROPERTY_LABEL,
                                  "Open hand-offs from the support assistant", -1);
  GtkWidget *hscroll = gtk_scrolled_window_new ();
  gtk_scrolled_window_set_policy (GTK_SCROLLED_WINDOW (hscroll), GTK_POLICY_NEVER, GTK_POLICY_AUTOMATIC);
  gtk_scrolled_window_set_min_content_height (GTK_SCROLLED_WINDOW (hscroll), 140);
  gtk_scrolled_window_set_child (GTK_SCROLLED_WINDOW (hscroll), self->handoff_list);
  gtk_widget_add_css_class (hscroll, "frame");
  gtk_box_append (GTK_BOX (outer), hscroll);
  gtk_window_set_child (GTK_WINDOW (self), outer);
}

FtReviewWindow *
ft_review_window_new (FtWindow *parent)
{
  g_return_val_if_fail (FT_IS_WINDOW (parent), NULL);
  FtReviewWindow *self = g_object_new (FT_TYPE_REVIEW_WINDOW, "transient-for", parent, NULL);
  self->parent = parent;
  self->session = g_object_ref (ft_window_get_session (parent));
  ft_review_window_refresh (self);
  return self;
}

guint
ft_review_window_get_n_reviews (FtReviewWindow *self)
{
  return self->reviews->len;
}

guint
ft_review_window_get_n_handoffs (FtReviewWindow *self)
{
  return self->handoffs->len;
}

gboolean
ft_review_window_select (FtReviewWindow *self, guint i)
{
  GtkListBoxRow *row = gtk_list_box_get_row_at_index (GTK_LIST_BOX (self->review_list), (int) i);
  if (!row || i >= self->reviews->len)
    return FALSE;
  gtk_list_box_select_row (GTK_LIST_BOX (self->review_list), row);
  return TRUE;
}

gint64
ft_review_window_get_selected (FtReviewWindow *self)
{
  if (self->selected < 0 || !self->reviews || (guint) self->selected >= self->reviews->len)
    return -1;
  return g_array_index (self->reviews, FtReview, self->selected).id;
}

guint
ft_review_window_get_n_regions (FtReviewWindow *self)
{
  return self->regions->len;
}

const char *
ft_review_window_get_status (FtReviewWindow *self)
{
  return self->status ? self->status : "";
}
