/* ft-assist-private.h — the assistant's struct and the helpers its files
 * share: slots (ft-assist-slots.c), the hand-off queue and pending
 * confirmations (ft-assist-queue.c), the answers (ft-assist.c) and the
 * optional HTTP backend (ft-assist-backend.c).
 */
#pragma once

#include "ft-assist.h"
#include "ft-assist-text.h"

#include <sqlite3.h>

typedef struct {
  char     vehicle[16];     /* "FT-0042" or "" */
  gint32   vehicle_index;   /* -1 unless the code names a vehicle of the fleet */
  gint64   amount_minor;    /* -1 */
  double   km;              /* -1 */
  FtTime   time;            /* -1; a clock time is the latest such time <= now */
  gint     place_zone;      /* geofence zone whose name was mentioned, -1 */
  gboolean has_latlon;
  FtLatLon latlon;
} FtAssistSlots;

typedef struct {
  FtAssistAction action;
  gint64         booking;
  gint32         vehicle;
  gint64         amount;
  FtTime         expires;
  char          *message;
} FtAssistPending;

struct _FtAssist {
  FtCore        *core;
  FtAssistConfig cfg;
  sqlite3       *db;             /* the core's store, or NULL: in memory */
  GPtrArray     *handoffs;       /* FtAssistHandoff (memory mode) */
  GHashTable    *pending;        /* rider -> FtAssistPending (memory mode) */
  gint64         next_handoff;
  GHashTable    *by_rider;       /* rider -> GArray of booking ids (gint64), oldest first */
  guint          n_indexed;      /* bookings 0..n_indexed-1 are in by_rider */
  GHashTable    *refusals;       /* rider -> FtEvent (its latest FT_EV_BOOKING_REFUSED) */
  guint          listener;       /* on the core's event log */
  FtAssistPhotoCheck photo_check;
  gpointer       photo_data;
  GHashTable    *photos;         /* rider -> attached photo path */
  GRegex        *re_vehicle, *re_money, *re_km, *re_clock, *re_latlon;
  guint64        n_messages, n_resolved, n_handoffs;
};

void     ft_assist_slots_extract (FtAssist *a, const char *text, FtTime now, FtAssistSlots *out);

gboolean ft_assist_queue_init    (FtAssist *a, GError **error);
gint64   ft_assist_queue_add     (FtAssist *a, guint rider, FtIntent intent, const char *reason,
                                  const char *message, gint64 booking, gint32 vehicle, gint64 amount,
                                  FtTime now, GError **error);
/* The rider's pending action (NULL if none or expired); caller frees. */
FtAssistPending *ft_assist_pending_get (FtAssist *a, guint rider, FtTime now);
gboolean ft_assist_pending_set   (FtAssist *a, guint rider, const FtAssistPending *p, GError **error);
void     ft_assist_pending_clear (FtAssist *a, guint rider);
void     ft_assist_pending_free  (FtAssistPending *p);
void     ft_assist_handoff_free  (FtAssistHandoff *h);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (FtAssistPending, ft_assist_pending_free)

/* Optional HTTP backend (ft-assist-backend.c): the model is given the
 * rider's message, the offline answer and the same functions as tools;
 * returns its text (tool calls resolved through `tool`), or NULL with an
 * error, and the caller keeps the offline answer. */
typedef char *(*FtAssistToolFunc) (const char *name, const char *arguments_json, gpointer user_data);
char    *ft_assist_backend_chat  (const FtAssistConfig *cfg, const char *message, const char *offline_answer,
                                  FtAssistToolFunc tool, gpointer user_data, GError **error);
