/* ft-chat-panel.c — the rider's support chat on the Ride page. The widget
 * holds only the conversation as shown; each message is a job on the twin
 * thread that asks src/assist as the rider (the assistant's pending
 * confirmations live in the run's store, so a "yes" finds the proposal of
 * the message before) and, for a damage report with a photo, checks the
 * photo with src/inspect and queues it for review. The rider's position
 * (the point marked on the Ride page, set by the window) goes with each
 * message, so "find a vehicle nearby" answers from where the rider stands.
 * After each message the newest one is scrolled into view, in the chat's
 * own list and in the page that holds the panel.
 */
#include "ft-chat-panel.h"

#include "ft-inspect.h"
#include "ft-inspect-queue.h"
#include "ft-assist-text.h"

struct _FtChatPanel {
  GtkBox        parent_instance;

  FtSession    *session;
  FtRiderFlow  *flow;
  GCancellable *cancellable;

  GtkWidget    *scroller;
  GtkWidget    *list;
  GtkWidget    *entry;
  GtkWidget    *send_button;
  GtkWidget    *confirm_box;
  GtkWidget    *photo_label;

  char          *photo;
  char          *reference;
  gboolean       busy;
  FtAssistAction pending;
  FtAssistAction done;
  char          *last_answer;
  char          *last_intent;
  guint          n_messages;
  gboolean       follow;      /* scroll to the newest message once it is laid out */
  guint          scroll_idle; /* a scroll to the newest message is queued */
  gboolean       has_where;   /* the rider's position is known */
  FtLatLon       where;
};

G_DEFINE_FINAL_TYPE (FtChatPanel, ft_chat_panel, GTK_TYPE_BOX)

enum { ANSWERED, N_SIGNALS };
static guint signals[N_SIGNALS];

/* ---- the twin thread ---- */

typedef struct {
  FtRiderFlow *flow;
  char        *text;
  char        *photo;
  char        *reference;
  gboolean     has_where;
  FtLatLon     where;
} AskJob;

static void
ask_job_free (gpointer data)
{
  AskJob *j = data;
  g_object_unref (j->flow);
  g_free (j->text);
  g_free (j->photo);
  g_free (j->reference);
  g_free (j);
}

typedef struct {
  FtCore     *core;
  const char *reference;
} PhotoCheck;

/* The damage report's photo against the vehicle's reference photo; what is
 * not plainly ok enters the staff review queue. */
static gboolean
check_photo (guint vehicle, const char *photo_path, FtTime now, gint64 *review, const char **decision,
             gpointer user_data, GError **error)
{
  PhotoCheck *pc = user_data;
  return ft_inspect_queue_check_files (pc->core, vehicle, pc->reference, photo_path, now, review, decision,
                                       error);
}

/* Returns "pending\tdone\tintent\ttext", or "E\tmessage". */
static char *
ask_job (FtSimWorld *w, gpointer data)
{
  AskJob *j = data;
  FtCore *core = ft_sim_world_get_core (w);
  FtTime now = ft_sim_world_now (w);
  g_autoptr(GError) error = NULL;
  g_autoptr(FtAssist) a = NULL;
  g_autoptr(FtAssistReply) r = NULL;
  PhotoCheck pc = { core, j->reference };
  gint32 rider = ft_rider_flow_ensure_account (j->flow, core, now, &error);

  if (rider < 0 || !(a = ft_assist_new (core, NULL, &error)))
    return g_strdup_printf ("E\t%s", error->message);
  if (j->photo && j->reference)
    {
      ft_assist_attach_photo (a, (guint) rider, j->photo);
      ft_assist_set_photo_check (a, check_photo, &pc);
    }
  if (!(r = ft_assist_ask (a, (guint) rider, j->text, -1, j->has_where ? &j->where : NULL, now, &error)) || !ft_core_commit (core, &error))
    return g_strdup_printf ("E\t%s", error->message);
  return g_strdup_printf ("%d\t%d\t%s\t%s", (int) r->pending, (int) r->done, ft_intent_name (r->intent), r->text);
}

/* ---- the main thread ---- */

/* Scrolls every scrolled window that holds w (the Ride page, the
 * sidebar) just enough to show w whole, or its bottom when it is taller
 * than the window. Each level reveals the scrolled window below it, whose
 * place in its parent does not move with its own scrolling. */
static void
reveal_in_ancestors (GtkWidget *w)
{
  for (GtkWidget *p = gtk_widget_get_parent (w); p; p = gtk_widget_get_parent (p))
    {
      if (!GTK_IS_SCROLLED_WINDOW (p))
        continue;
      GtkWidget *content = gtk_scrolled_window_get_child (GTK_SCROLLED_WINDOW (p));
      graphene_rect_t b;
      if (content == NULL || !gtk_widget_compute_bounds (w, content, &b))
        continue;
      GtkAdjustment *adj = gtk_scrolled_window_get_vadjustment (GTK_SCROLLED_WINDOW (p));
      double v = gtk_adjustment_get_value (adj), page = gtk_adjustment_get_page_size (adj);
      /* the content is drawn scrolled by v: back to content space */
      double top = b.origin.y + v, bottom = top + b.size.height;
      if (top < v || bottom > v + page)
        gtk_adjustment_set_value (adj, bottom - top > page || bottom > v + page ? bottom - page : top);
      w = p;
    }
}

/* The list is laid out after the frame: scroll once it has grown. */
static gboolean
scroll_to_end (gpointer data)
{
  FtChatPanel *self = data;
  if (self->scroller && gtk_widget_get_mapped (self->scroller))
    {
      GtkAdjustment *adj = gtk_scrolled_window_get_vadjustment (GTK_SCROLLED_WINDOW (self->scroller));
      gtk_adjustment_set_value (adj, gtk_adjustment_get_upper (adj) - gtk_adjustment_get_page_size (adj));
      reveal_in_ancestors (self->scroller);
    }
  return G_SOURCE_REMOVE;
}

static void
add_message (FtChatPanel *self, const char *text, gboolean from_rider, gboolean error)
{
  GtkWidget *label = gtk_label_new (text);
  gtk_label_set_wrap (GTK_LABEL (label), TRUE);
  gtk_label_set_wrap_mode (GTK_LABEL (label), PANGO_WRAP_WORD_CHAR);
  gtk_label_set_selectable (GTK_LABEL (label), TRUE);
  gtk_label_set_xalign (GTK_LABEL (label), from_rider ? 1.0f : 0.0f);
  gtk_widget_set_halign (label, from_rider ? GTK_ALIGN_END : GTK_ALIGN_START);
  gtk_widget_set_margin_start (label, from_rider ? 24 : 4);
  gtk_widget_set_margin_end (label, from_rider ? 4 : 24);
  gtk_widget_add_css_class (label, from_rider ? "chat-rider" : "chat-assistant");
  if (error)
    gtk_widget_add_css_class (label, "error");
  g_autofree char *a11y = g_strdup_printf ("%s: %s", from_rider ? "You" : "Assistant", text);
  gtk_accessible_update_property (GTK_ACCESSIBLE (label), GTK_ACCESSIBLE_PROPERTY_LABEL, a11y, -1);
  gtk_list_box_append (GTK_LIST_BOX (self->list), label);
  self->n_messages++;
  self->follow = TRUE;   /* on_adjustment_changed scrolls once the list has grown */
  g_timeout_add_full (G_PRIORITY_DEFAULT, 150, scroll_to_end, g_object_ref (self), g_object_unref);
}

static gboolean
scroll_idle (gpointer data)
{
  FtChatPanel *self = data;
  self->scroll_idle = 0;
  return scroll_to_end (self);
}

/* The list grew: scroll once the allocation is over. A value set here,
 * inside the viewport's allocation, was not drawn until something else
 * changed (the newest answer stayed below the chat's fold). */
static void
on_adjustment_changed (GtkAdjustment *adj, FtChatPanel *self)
{
  if (self->follow && self->scroll_idle == 0)
    self->scroll_idle = g_idle_add_full (G_PRIORITY_DEFAULT_IDLE, scroll_idle, g_object_ref (self), g_object_unref);
}

static void
update_sensitivity (FtChatPanel *self)
{
  gtk_widget_set_sensitive (self->send_button, !self->busy);
  gtk_widget_set_sensitive (self->confirm_box, !self->busy);
  gtk_widget_set_visible (self->confirm_box, self->pending != FT_ASSIST_ACTION_NONE);
}

static void
update_photo_label (FtChatPanel *self)
{
  if (!self->photo)
    {
      gtk_label_set_text (GTK_LABEL (self->photo_label), "");
      gtk_widget_set_visible (self->photo_label, FALSE);
      return;
    }
  g_autofree char *base = g_path_get_basename (self->photo);
  g_autofree char *t = g_strdup_printf ("Photo attached: %s", base);
  gtk_label_set_text (GTK_LABEL (self->photo_label), t);
  gtk_widget_set_visible (self->photo_label, TRUE);
}

static void
on_answer (GObject *source, GAsyncResult *result, gpointer user_data)
{
  FtChatPanel *self = user_data;
  g_autoptr(GError) error = NULL;
  g_autofree char *s = ft_session_run_job_finish (FT_SESSION (source), result, &error);

  if (!s && g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    {
      /* the panel went away, or the world stopped (a new scenario) */
      self->busy = FALSE;
      if (self->session)
        update_sensitivity (self);
      g_object_unref (self);
      return;
    }
  self->busy = FALSE;
  g_free (self->last_answer);
  g_free (self->last_intent);
  self->last_intent = g_strdup ("");
  self->done = FT_ASSIST_ACTION_NONE;
  if (!s)
    self->last_answer = g_strdup_printf ("The assistant is not available: %s",
                                         error ? error->message : "no scenario is running");
  else if (g_str_has_prefix (s, "E\t"))
    self->last_answer = g_strdup_printf ("Your message could not be answered: %s", s + 2);
  else
    {
      g_auto(GStrv) f = g_strsplit (s, "\t", 4);
      g_assert (g_strv_length (f) == 4);
      self->pending = (FtAssistAction) atoi (f[0]);
      self->done = (FtAssistAction) atoi (f[1]);
      g_free (self->last_intent);
      self->last_intent = g_strdup (f[2]);
      self->last_answer = g_strdup (f[3]);
      if (self->done == FT_ASSIST_ACTION_REPORT_DAMAGE)
        {
          /* the photo went with the report */
          g_clear_pointer (&self->photo, g_free);
          g_clear_pointer (&self->reference, g_free);
          update_photo_label (self);
        }
    }
  if (!s || g_str_has_prefix (s, "E\t"))
    self->pending = FT_ASSIST_ACTION_NONE;
  add_message (self, self->last_answer, FALSE, !s || g_str_has_prefix (s, "E\t"));
  update_sensitivity (self);
  g_signal_emit (self, signals[ANSWERED], 0);
  g_object_unref (self);
}

void
ft_chat_panel_send (FtChatPanel *self, const char *text)
{
  g_return_if_fail (FT_IS_CHAT_PANEL (self));
  g_return_if_fail (text != NULL);
  if (self->busy)
    return;
  if (!ft_session_is_loaded (self->session))
    {
      add_message (self, "Open a scenario first: the assistant answers from the running city.", FALSE, TRUE);
      return;
    }
  AskJob *j = g_new0 (AskJob, 1);
  j->flow = g_object_ref (self->flow);
  j->text = g_strdup (text);
  j->photo = g_strdup (self->photo);
  j->reference = g_strdup (self->reference);
  j->has_where = self->has_where;
  j->where = self->where;
  add_message (self, text, TRUE, FALSE);
  self->busy = TRUE;
  update_sensitivity (self);
  ft_session_run_job_async (self->session, ask_job, j, ask_job_free, self->cancellable, on_answer,
                            g_object_ref (self));
}

static void
on_send (FtChatPanel *self)
{
  const char *text = gtk_editable_get_text (GTK_EDITABLE (self->entry));
  if (self->busy || !text || !*text)
    return;
  g_autofree char *t = g_strdup (text);
  gtk_editable_set_text (GTK_EDITABLE (self->entry), "");
  ft_chat_panel_send (self, t);
}

static void
on_yes (FtChatPanel *self)
{
  ft_chat_panel_send (self, "yes");
}

static void
on_no (FtChatPanel *self)
{
  ft_chat_panel_send (self, "no");
}

/* "Attach Photo…": the rider's photo, then the vehicle's reference photo. */
static GtkFileChooserNative *
image_chooser (FtChatPanel *self, const char *title)
{
  GtkRoot *root = gtk_widget_get_root (GTK_WIDGET (self));
  GtkFileChooserNative *fc = gtk_file_chooser_native_new (title, GTK_IS_WINDOW (root) ? GTK_WINDOW (root) : NULL,
                                                          GTK_FILE_CHOOSER_ACTION_OPEN, "_Choose", "_Cancel");
  GtkFileFilter *filter = gtk_file_filter_new ();
  gtk_file_filter_set_name (filter, "Photos (JPEG, PNG)");
  gtk_file_filter_add_mime_type (filter, "image/jpeg");
  gtk_file_filter_add_mime_type (filter, "image/png");
  gtk_file_chooser_add_filter (GTK_FILE_CHOOSER (fc), filter);
  g_object_unref (filter);
  gtk_native_dialog_set_modal (GTK_NATIVE_DIALOG (fc), TRUE);
  return fc;
}

static void
on_reference_response (GtkNativeDialog *dialog, int response, gpointer user_data)
{
  FtChatPanel *self = user_data;
  char *photo = g_object_get_data (G_OBJECT (dialog), "photo");
  if (response == GTK_RESPONSE_ACCEPT)
    {
      g_autoptr(GFile) f = gtk_file_chooser_get_file (GTK_FILE_CHOOSER (dialog));
      g_autofree char *path = f ? g_file_get_path (f) : NULL;
      if (path)
        ft_chat_panel_attach_photo (self, photo, path);
    }
  g_object_unref (dialog);
  g_object_unref (self);
}

static void
on_photo_response (GtkNativeDialog *dialog, int response, gpointer user_data)
{
  FtChatPanel *self = user_data;
  g_autoptr(GFile) f = response == GTK_RESPONSE_ACCEPT ? gtk_file_chooser_get_file (GTK_FILE_CHOOSER (dialog)) : NULL;
  char *path = f ? g_file_get_path (f) : NULL;
  g_object_unref (dialog);
  if (!path)
    {
      g_object_unref (self);
      return;
    }
  GtkFileChooserNative *fc = image_chooser (self, "The Vehicle's Reference Photo");
  g_object_set_data_full (G_OBJECT (fc), "photo", path, g_free);
  g_signal_connect (fc, "response", G_CALLBACK (on_reference_response), self);
  gtk_native_dialog_show (GTK_NATIVE_DIALOG (fc));
}

static void
on_attach (FtChatPanel *self)
{
  GtkFileChooserNative *fc = image_chooser (self, "Attach a Photo of the Vehicle");
  g_signal_connect (fc, "response", G_CALLBACK (on_photo_response), g_object_ref (self));
  gtk_native_dialog_show (GTK_NATIVE_DIALOG (fc));
}

static GtkWidget *
labelled_button (const char *label, const char *a11y, GCallback cb, gpointer self)
{
  GtkWidget *b = gtk_button_new_with_mnemonic (label);
  gtk_accessible_update_property (GTK_ACCESSIBLE (b), GTK_ACCESSIBLE_PROPERTY_LABEL, a11y, -1);
  gtk_widget_set_tooltip_text (b, a11y);
  g_signal_connect_swapped (b, "clicked", cb, self);
  return b;
}

static void
ft_chat_panel_dispose (GObject *object)
{
  FtChatPanel *self = FT_CHAT_PANEL (object);
  g_cancellable_cancel (self->cancellable);
  g_clear_object (&self->session);
  g_clear_object (&self->flow);
  G_OBJECT_CLASS (ft_chat_panel_parent_class)->dispose (object);
}

static void
ft_chat_panel_finalize (GObject *object)
{
  FtChatPanel *self = FT_CHAT_PANEL (object);
  g_clear_object (&self->cancellable);
  g_free (self->photo);
  g_free (self->reference);
  g_free (self->last_answer);
  g_free (self->last_intent);
  G_OBJECT_CLASS (ft_chat_panel_parent_class)->finalize (object);
}

static void
ft_chat_panel_class_init (FtChatPanelClass *klass)
{
  GObjectClass *oc = G_OBJECT_CLASS (klass);
  oc->dispose = ft_chat_panel_dispose;
  oc->finalize = ft_chat_panel_finalize;
  signals[ANSWERED] = g_signal_new ("answered", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST,
                                    0, NULL, NULL, NULL, G_TYPE_NONE, 0);
}

static void
ft_chat_panel_init (FtChatPanel *self)
{
  GtkBox *box = GTK_BOX (self);
  gtk_orientable_set_orientation (GTK_ORIENTABLE (self), GTK_ORIENTATION_VERTICAL);
  gtk_box_set_spacing (box, 6);
  self->cancellable = g_cancellable_new ();
  self->last_answer = g_strdup ("");
  self->last_intent = g_strdup ("");

  GtkWidget *title = gtk_label_new ("Support Chat");
  gtk_widget_add_css_class (title, "heading");
  gtk_label_set_xalign (GTK_LABEL (title), 0);
  gtk_box_append (box, title);

  self->list = gtk_list_box_new ();
  gtk_list_box_set_selection_mode (GTK_LIST_BOX (self->list), GTK_SELECTION_NONE);
  gtk_widget_add_css_class (self->list, "chat");
  gtk_accessible_update_property (GTK_ACCESSIBLE (self->list), GTK_ACCESSIBLE_PROPERTY_LABEL,
                                  "Conversation with the support assistant", -1);
  self->scroller = gtk_scrolled_window_new ();
  gtk_scrolled_window_set_policy (GTK_SCROLLED_WINDOW (self->scroller), GTK_POLICY_NEVER, GTK_POLICY_AUTOMATIC);
  gtk_scrolled_window_set_min_content_height (GTK_SCROLLED_WINDOW (self->scroller), 220);
  gtk_scrolled_window_set_child (GTK_SCROLLED_WINDOW (self->scroller), self->list);
  g_signal_connect (gtk_scrolled_window_get_vadjustment (GTK_SCROLLED_WINDOW (self->scroller)), "changed",
                    G_CALLBACK (on_adjustment_changed), self);
  gtk_widget_add_css_class (self->scroller, "frame");
  gtk_box_append (box, self->scroller);

  self->confirm_box = gtk_box_new (GTK_ORIENTATION_HORIZONTAL, 6);
  GtkWidget *yes = labelled_button ("_Yes, Do It", "Confirm the action the assistant proposed", G_CALLBACK (on_yes), self);
  gtk_widget_add_css_class (yes, "suggested-action");
  gtk_widget_set_hexpand (yes, TRUE);
  GtkWidget *no = labelled_button ("_No", "Decline the action the assistant proposed", G_CALLBACK (on_no), self);
  gtk_widget_set_hexpand (no, TRUE);
  gtk_box_append (GTK_BOX (self->confirm_box), yes);
  gtk_box_append (GTK_BOX (self->confirm_box), no);
  gtk_widget_set_visible (self->confirm_box, FALSE);
  gtk_box_append (box, self->confirm_box);

  GtkWidget *row = gtk_box_new (GTK_ORIENTATION_HORIZONTAL, 6);
  self->entry = gtk_entry_new ();
  gtk_entry_set_placeholder_text (GTK_ENTRY (self->entry), "Ask support…");
  gtk_entry_set_max_length (GTK_ENTRY (self->entry), FT_ASSIST_MAX_MESSAGE);
  gtk_widget_set_hexpand (self->entry, TRUE);
  gtk_accessible_update_property (GTK_ACCESSIBLE (self->entry), GTK_ACCESSIBLE_PROPERTY_LABEL,
                                  "Message to support", -1);
  g_signal_connect_swapped (self->entry, "activate", G_CALLBACK (on_send), self);
  self->send_button = labelled_button ("_Send", "Send the message to support", G_CALLBACK (on_send), self);
  gtk_box_append (GTK_BOX (row), self->entry);
  gtk_box_append (GTK_BOX (row), self->send_button);
  gtk_box_append (box, row);

  GtkWidget *attach = labelled_button ("_Attach Photo…", "Attach a photo of the vehicle to a damage report",
                                       G_CALLBACK (on_attach), self);
  gtk_box_append (box, attach);
  self->photo_label = gtk_label_new ("");
  gtk_label_set_xalign (GTK_LABEL (self->photo_label), 0);
  gtk_label_set_ellipsize (GTK_LABEL (self->photo_label), PANGO_ELLIPSIZE_MIDDLE);
  gtk_widget_add_css_class (self->photo_label, "dim-label");
  gtk_widget_set_visible (self->photo_label, FALSE);
  gtk_box_append (box, self->photo_label);
}

GtkWidget *
ft_chat_panel_new (FtSession *session, FtRiderFlow *flow)
{
  g_return_val_if_fail (FT_IS_SESSION (session), NULL);
  g_return_val_if_fail (FT_IS_RIDER_FLOW (flow), NULL);
  FtChatPanel *self = g_object_new (FT_TYPE_CHAT_PANEL, NULL);
  self->session = g_object_ref (session);
  self->flow = g_object_ref (flow);
  return GTK_WIDGET (self);
}

gboolean
ft_chat_panel_is_busy (FtChatPanel *self)
{
  return self->busy;
}

FtAssistAction
ft_chat_panel_get_pending (FtChatPanel *self)
{
  return self->pending;
}

FtAssistAction
ft_chat_panel_get_done (FtChatPanel *self)
{
  return self->done;
}

const char *
ft_chat_panel_get_last_answer (FtChatPanel *self)
{
  return self->last_answer;
}

const char *
ft_chat_panel_get_last_intent (FtChatPanel *self)
{
  return self->last_intent;
}

guint
ft_chat_panel_get_n_messages (FtChatPanel *self)
{
  return self->n_messages;
}

void
ft_chat_panel_attach_photo (FtChatPanel *self, const char *photo, const char *reference)
{
  g_return_if_fail (FT_IS_CHAT_PANEL (self));
  g_free (self->photo);
  g_free (self->reference);
  self->photo = photo && reference ? g_strdup (photo) : NULL;
  self->reference = photo && reference ? g_strdup (reference) : NULL;
  update_photo_label (self);
}

void
ft_chat_panel_set_position (FtChatPanel *self, const FtLatLon *where)
{
  g_return_if_fail (FT_IS_CHAT_PANEL (self));
  self->has_where = where != NULL;
  if (where)
    self->where = *where;
}

gboolean
ft_chat_panel_get_position (FtChatPanel *self, FtLatLon *where)
{
  g_return_val_if_fail (FT_IS_CHAT_PANEL (self), FALSE);
  if (self->has_where && where)
    *where = self->where;
  return self->has_where;
}

void
ft_chat_panel_clear (FtChatPanel *self)
{
  g_return_if_fail (FT_IS_CHAT_PANEL (self));
  GtkWidget *child;
  while ((child = gtk_widget_get_first_child (self->list)))
    gtk_list_box_remove (GTK_LIST_BOX (self->list), child);
  self->n_messages = 0;
  self->pending = self->done = FT_ASSIST_ACTION_NONE;
  update_sensitivity (self);
}
