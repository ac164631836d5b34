/* ft-assist.h — the rider's support assistant (issue 17), offline: an
 * intent classifier trained at build time (ft-assist-intent.h), slots
 * (times, places, amounts, vehicle codes) and answers built from the
 * rider's real state through the real modules of an FtCore (bookings,
 * receipts and the ledger, wallet, geofences, nearby vehicles, offers).
 *
 * Actions (end the ride, a refund request, a damage report, erasing the
 * account, a top-up) are proposed first and done only when the rider
 * confirms ("yes"), through the same module calls and roles as any other
 * client. What the assistant cannot do goes to the staff hand-off queue,
 * which dispatchers list and close. Both the pending confirmation and the
 * queue live in the core's store when one is attached (schema 9), so they
 * survive between calls and processes; in memory otherwise.
 *
 * Not thread-safe: call it on the thread that owns the core (the app's
 * FtWorker twin thread), like every other client of the core.
 *
 * Usage (the app's chat panel):
 *   FtAssist *a = ft_assist_new (core, NULL);
 *   FtAssistReply *r = ft_assist_ask (a, rider, text, -1, &where, now, &error);
 *   show r->text; when r->pending, offer "Yes" / "No" (send "yes" / "no");
 *   ft_assist_reply_free (r);
 */
#pragma once

#include "ft-core.h"
#include "ft-assist-intent.h"

G_BEGIN_DECLS

#define FT_ASSIST_ERROR (ft_assist_error_quark ())
GQuark ft_assist_error_quark (void);
typedef enum {
  FT_ASSIST_ERROR_INVALID = 1,   /* not UTF-8, too long, no such rider */
  FT_ASSIST_ERROR_STORE,
  FT_ASSIST_ERROR_PERMISSION,    /* closing a hand-off without FT_PERM_DISPATCH */
  FT_ASSIST_ERROR_BACKEND,       /* the optional HTTP backend failed (the caller fell back) */
} FtAssistError;

typedef enum {
  FT_ASSIST_ACTION_NONE = 0,
  FT_ASSIST_ACTION_END_RIDE,
  FT_ASSIST_ACTION_REFUND_REQUEST,
  FT_ASSIST_ACTION_REPORT_DAMAGE,
  FT_ASSIST_ACTION_ERASE_ACCOUNT,
  FT_ASSIST_ACTION_TOPUP,
} FtAssistAction;

typedef struct {
  char     *llm_url;        /* OpenAI-compatible chat endpoint base URL; NULL = offline only */
  char     *llm_model;      /* model name sent to it; NULL = "local" */
  guint     llm_timeout_ms; /* default 5000 */
} FtAssistConfig;

typedef struct {
  FtIntent       intent;
  double         confidence;
  char          *text;        /* the answer, plain UTF-8 */
  FtAssistAction pending;     /* waiting for "yes" / "no"; NONE otherwise */
  FtAssistAction done;        /* an action this message confirmed and carried out */
  gint64         handoff;     /* hand-off opened by this message, or -1 */
  gboolean       resolved;    /* answered without a person */
  gboolean       from_backend;/* the HTTP backend wrote the text */
} FtAssistReply;

typedef struct {
  gint64   id;
  FtTime   t;
  guint    rider;
  FtIntent intent;
  char    *reason;            /* what staff must do */
  char    *message;           /* the rider's words (at most 500 bytes) */
  gint64   booking;           /* -1 */
  gint32   vehicle;           /* -1 */
  gint64   amount_minor;      /* refund asked, or 0 */
  gboolean open;
  FtTime   closed_at;         /* -1 while open */
  gint32   closed_by;         /* -1 while open */
} FtAssistHandoff;

typedef struct _FtAssist FtAssist;

void      ft_assist_config_init (FtAssistConfig *cfg);
/* Borrows core (and its store, if attached: the hand-off queue and pending
 * confirmations are read from it). cfg may be NULL. */
FtAssist *ft_assist_new         (FtCore *core, const FtAssistConfig *cfg, GError **error);
void      ft_assist_free        (FtAssist *a);

/* Answer one message. len -1: NUL-terminated. where (nullable): the
 * rider's position when the app knows it. NULL with FT_ASSIST_ERROR_INVALID
 * for a message that is not UTF-8 or longer than FT_ASSIST_MAX_MESSAGE
 * bytes, or an unknown or erased rider; an empty message gets an answer. */
FtAssistReply *ft_assist_ask    (FtAssist *a, guint rider, const char *text, gssize len,
                                 const FtLatLon *where, FtTime now, GError **error);
void      ft_assist_reply_free  (FtAssistReply *r);

/* Damage reports with a photo. The front end that holds the photo checker
 * (src/inspect and its review queue, which src/assist does not link)
 * provides it: it checks the rider's photo of `vehicle`, records it and
 * queues a staff review unless it is plainly ok; *review gets the review
 * id or -1, *decision "ok", "review" or "damaged" (static). FALSE with an
 * error when the photo cannot be checked (the report then goes to the
 * hand-off queue). Without a checker, every damage report is a hand-off. */
typedef gboolean (*FtAssistPhotoCheck) (guint vehicle, const char *photo_path, FtTime now, gint64 *review,
                                        const char **decision, gpointer user_data, GError **error);
void      ft_assist_set_photo_check (FtAssist *a, FtAssistPhotoCheck check, gpointer user_data);
/* The photo the rider's next confirmed damage report carries (the app's
 * camera); NULL forgets it. Kept in memory only. */
void      ft_assist_attach_photo    (FtAssist *a, guint rider, const char *path);

/* The hand-off queue, oldest first (FtAssistHandoff, owned by the array). */
GPtrArray *ft_assist_list_handoffs (FtAssist *a, gboolean open_only);
/* A dispatcher (FT_PERM_DISPATCH) closes a hand-off. */
gboolean  ft_assist_close_handoff (FtAssist *a, gint64 id, guint by, FtTime now, GError **error);
/* Counters since ft_assist_new: messages, resolved without a person, hand-offs. */
void      ft_assist_counts      (FtAssist *a, guint64 *messages, guint64 *resolved, guint64 *handoffs);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (FtAssist, ft_assist_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (FtAssistReply, ft_assist_reply_free)

G_END_DECLS
