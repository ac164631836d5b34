/* ft-chat-panel.h — the rider view's support chat (issue 17): the rider's
 * messages go to src/assist (ft_assist_ask) as the Ride page's rider on the
 * twin thread; answers are listed, and an action the assistant proposes is
 * confirmed or declined with Yes / No. A photo attached with "Attach
 * Photo…" travels with the next confirmed damage report and is checked by
 * src/inspect against the vehicle's reference photo, which queues it for
 * staff review (ft-review-window.c).
 */
#pragma once

#include <gtk/gtk.h>
#include "ft-session.h"
#include "ft-rider-flow.h"
#include "ft-assist.h"

G_BEGIN_DECLS

#define FT_TYPE_CHAT_PANEL (ft_chat_panel_get_type ())
G_DECLARE_FINAL_TYPE (FtChatPanel, ft_chat_panel, FT, CHAT_PANEL, GtkBox)

/* Asks as flow's rider (created on first use) in session's world. */
GtkWidget     *ft_chat_panel_new          (FtSession *session, FtRiderFlow *flow);
/* Sends text as the rider (what Send does with the entry); "answered" is
 * emitted when the reply is shown. Ignored while a message is under way. */
void           ft_chat_panel_send         (FtChatPanel *self, const char *text);
gboolean       ft_chat_panel_is_busy      (FtChatPanel *self);
/* The action the last answer waits a Yes / No for (NONE otherwise), and
 * the one the last message carried out. */
FtAssistAction ft_chat_panel_get_pending  (FtChatPanel *self);
FtAssistAction ft_chat_panel_get_done     (FtChatPanel *self);
/* The last answer (or error) shown, and its intent name ("" for errors). */
const char    *ft_chat_panel_get_last_answer (FtChatPanel *self);
const char    *ft_chat_panel_get_last_intent (FtChatPanel *self);
guint          ft_chat_panel_get_n_messages  (FtChatPanel *self);
/* The photo the next damage report carries and the vehicle's reference
 * photo it is checked against (the end of "Attach Photo…"); NULL forgets. */
void           ft_chat_panel_attach_photo (FtChatPanel *self, const char *photo, const char *reference);
/* A new world: the conversation starts again. */
void           ft_chat_panel_clear        (FtChatPanel *self);
/* Where the rider stands (the point marked on the Ride page), sent with
 * each message to the assistant (ft_assist_ask's where); NULL: unknown. */
void           ft_chat_panel_set_position (FtChatPanel *self, const FtLatLon *where);
gboolean       ft_chat_panel_get_position (FtChatPanel *self, FtLatLon *where);

G_END_DECLS
