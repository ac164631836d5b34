/* ft-live-private.h — what the files of src/live share and nothing else
 * sees: the FtLive struct and its parts (queued messages, per-vehicle
 * bookkeeping, the payload field interface), the helpers the twin and the
 * emulator both use (library init, URL / TLS set-up on a mosquitto handle,
 * JSON readers that refuse wrong types, the JSON writer), and the
 * cross-file internals of the adapter, grouped by the file that defines them.
 */
#pragma once

#include "ft-live.h"
#include "ft-json.h"   /* ft_json_depth: the one depth check */
#include <mosquitto.h>
#include <json-glib/json-glib.h>
#include <math.h>

G_BEGIN_DECLS

void      ft_live_lib_init_once (void);
/* Apply URL credentials, TLS files and protocol to a fresh handle. */
gboolean  ft_live_setup_mosq    (struct mosquitto *mosq, const FtLiveConfig *cfg,
                                 const FtLiveUrl *url, GError **error);
/* Human text for a CONNACK code (v3 or v5 reason code). */
const char *ft_live_connack_text (int rc, int protocol, gboolean *is_auth);

/* Maximum bracket nesting of a JSON text (outside strings); stops early
 * once `limit` is passed. Guards json-glib's recursive parser. */

/* Field readers: FALSE if absent; *bad set TRUE if present but unusable. */
gboolean  ft_live_json_number   (JsonObject *o, const char *name, double *out, gboolean *bad);
gboolean  ft_live_json_int64    (JsonObject *o, const char *name, gint64 *out, gboolean *bad);
const char *ft_live_json_string (JsonObject *o, const char *name, gboolean *bad);
gboolean  ft_live_json_bool     (JsonObject *o, const char *name, gboolean *out, gboolean *bad);

/* Outgoing payloads. Every JSON text the adapter and the emulator send is
 * written through these (json-glib's JsonBuilder and JsonGenerator), so
 * every string in it is escaped, whatever a client id or reason holds.
 * begin opens an object; end closes it and returns the text (g_free). */
JsonBuilder *ft_live_json_begin  (void);
void      ft_live_json_put_str  (JsonBuilder *b, const char *name, const char *value);
void      ft_live_json_put_int  (JsonBuilder *b, const char *name, gint64 value);
/* Rounded to `decimals`; a non-finite value is written as null. */
void      ft_live_json_put_num  (JsonBuilder *b, const char *name, double value, int decimals);
char     *ft_live_json_end      (JsonBuilder *b, gsize *len_out);

/* The twin's outgoing messages (see MQTT-CONTRACT.md). */
char     *ft_live_command_payload    (const FtLiveCommand *c, FtTime now, gsize *len_out);
char     *ft_live_assignment_payload (const FtLiveAssignment *a, FtTime now, gsize *len_out);
char     *ft_live_stops_payload      (const FtLiveStopList *l, FtTime now, gsize *len_out);
char     *ft_live_status_payload     (const char *status, FtTime now, gsize *len_out);


/* ------------------------------------------------ the adapter's internals */

#define MALFORMED_RING   256
#define MAX_PAYLOAD      (64 * 1024)
#define MAX_JSON_DEPTH   16
#define HOUSEKEEP_EVERY  (200 * FT_MS)
#define SILENCE_EVERY    (1 * FT_SECOND)

/* Payload fields behind one interface with two back ends: a strict reader
 * for flat JSON objects (the shape of every message in the contract; no
 * allocation, the hot path) and json-glib for anything else. The fast
 * reader accepts only a strict subset of JSON and hands everything it is
 * not sure about (escapes, nesting, long numbers …) to json-glib, so both
 * give the same values and json-glib has the last word on errors. */

enum { FV_NULL = 0, FV_INT, FV_DBL, FV_STR, FV_BOOL, FV_ARR, FV_OTHER };
#define FAST_MAX_FIELDS 24
#define FAST_MAX_ARR    8

typedef struct {
  const char *key;
  guint8      type;
  guint8      n;                       /* array length */
  guint8      arr_type;                /* FV_INT / FV_STR / FV_NULL (empty) */
  gboolean    b;
  gint64      i;
  double      d;
  const char *s;
  gint64      ai[FAST_MAX_ARR];
  const char *as[FAST_MAX_ARR];
} FastField;

typedef struct {
  JsonObject *o;                       /* json-glib back end, or NULL */
  guint       n;
  FastField   f[FAST_MAX_FIELDS];
} Fields;

typedef enum { MSG_MQTT = 0, MSG_CONN } MsgType;

typedef struct {
  MsgType type;
  int     conn_state;
  guint   topic_len, payload_len;
  char    data[];   /* topic '\0' payload '\0' (or detail text for MSG_CONN) */
} QueuedMsg;

typedef struct {
  FtTime  last_ts;         /* newest accepted telemetry timestamp (device clock) */
  FtTime  last_event_ts;   /* newest accepted event timestamp */
  FtTime  heard;           /* twin time of the last message */
  FtTime  last_logged;     /* twin time of the last FT_EV_TELEMETRY */
  float   last_speed;      /* m/s of the newest telemetry, NaN if none */
  float   speed_cap;       /* km/h last sent in a speed_limit, 0 no motor, -1 none */
  gboolean unlogged;       /* newer state than the last FT_EV_TELEMETRY (flush writes it) */
  gint8   locked;          /* -1 unknown */
  gint8   logged_locked;
  guint8  logged_state;
  gboolean comms_lost;     /* we made it unknown for silence / offline */
  guint8  state_before_loss;
  guint64 last_event_hash;
} VehicleMeta;

/* The outbox (ft-live-outbox.c): one entry per message the twin sends and
 * waits on, open until acked, failed or expired, then kept in a bounded
 * history of the newest FT_LIVE_OUTBOX_HISTORY per kind and dropped. */
#define FT_LIVE_OUTBOX_HISTORY 256

typedef enum { FT_OUT_COMMAND = 0, FT_OUT_ASSIGNMENT, FT_OUT_STOPS, FT_N_OUT } FtOutKind;

typedef struct {
  FtOutKind kind;
  guint64   seq;                 /* order of issue */
  union {
    FtLiveCommand    c;
    FtLiveAssignment a;
    FtLiveStopList  *l;          /* owned (large: kept off the union) */
  } u;
} FtOutItem;

/* Live operations (ft-live-ops.c): per live staff member, what was last
 * sent, so a list goes out again only when it changed. */
typedef struct {
  guint    n_sent;
  gint64   sent[FT_LIVE_MAX_STOPS];
  gboolean sent_started[FT_LIVE_MAX_STOPS];
  gboolean ever_sent;
  char     newest_id[40];        /* id of the newest stop list ("" none; looked up in the
                                  * outbox, so one dropped from the history is gone) */
} StaffPlan;

/* Trips seen starting, by zone, over the last hour (the levers' and live
 * operations' demand when no forecast is at hand; ft-live-levers.c). */
typedef struct {
  guint8 *prev_state;             /* per vehicle, the state at the last scan */
  guint   n_prev;
  GArray *starts;                 /* (time, zone), oldest first */
  FtTime  last_scan;
} FtLiveStarts;

typedef struct {
  FtLiveOpsConfig cfg;
  gboolean        auto_approve;
  gint32          auto_by;        /* the dispatcher who switched it on */
  FtTime          last_scan;      /* G_MININT64: never */
  FtTime          last_replan;
  gboolean        replan_due;
  GArray         *plans;          /* StaffPlan, parallel to live->staff (grown on demand) */
  GHashTable     *skipped;        /* task id (gint64) → account that skipped it + 1 */
  GHashTable     *done_at;        /* (vehicle << 3 | kind) → FtTime done (gint64 *) */
  GHashTable     *inspected;      /* vehicle (gint64) → FtTime an inspection was proposed */
  FtLiveStarts    starts;         /* for surplus rebalancing without a forecast */
  gboolean        said_no_zones, said_travel;
} FtLiveOpsState;

typedef struct {
  GHashTable *by_id;             /* id → FtOutItem * (owns them): open and history */
  GHashTable *by_task;           /* gint64 task → newest FtOutItem * assignment */
  GQueue      open;              /* FtOutItem *, oldest first */
  GQueue      history[FT_N_OUT]; /* closed, oldest first, bounded */
  guint       n_open[FT_N_OUT];
  guint64     seq;
  guint64     next_id[FT_N_OUT];
  GArray     *view[FT_N_OUT];    /* copies handed out by get_commands / get_assignments */
} FtOutbox;

struct _FtLive {
  FtCore          *core;
  FtShadow        *shadow;         /* shadow-mode models (borrowed) or NULL */
  gboolean         shadow_failed;  /* a shadow error was reported once */
  FtLiveConfig     cfg;
  FtLiveUrl        url;
  char            *prefix_slash;   /* "<prefix>/" */
  gsize            prefix_len;
  char            *twin_status_topic;
  char            *id_tag;         /* client id cut to 19 bytes at a UTF-8 boundary, for ids */
  struct mosquitto *mosq;
  mosquitto_property *connect_props; /* MQTT 5 CONNECT properties, sent on every connect */
  GThread         *net_thread;     /* connects, runs the mosquitto loop, reconnects */
  gboolean         started;
  gint             stopping;       /* atomic */
  gint             got_connack;    /* atomic: this connection attempt was accepted */
  gint             final_code;     /* atomic: FtLiveError + 1 of a final failure, 0 none */

  /* network → twin */
  GAsyncQueue     *queue;
  gint             conn_state;     /* atomic FtLiveConnState */
  GMutex           state_lock;
  GCond            state_cond;
  char            *last_error;     /* under state_lock (network side) */
  char            *tls_error;      /* under state_lock: first OpenSSL error of this attempt */
  char            *last_error_twin;/* copy for the twin thread */
  gint             queue_len;      /* atomic, for high water */

  FtLiveStateFunc  state_fn;
  gpointer         state_data;
  FtLiveTelemetryFunc tel_fn;
  gpointer         tel_data;

  JsonParser      *parser;
  Fields           fields;         /* the message being ingested */
  char            *scratch;        /* its payload, copied for the fast reader */
  gsize            scratch_size;
  FtLiveStats      stats;
  VehicleMeta     *meta;
  guint            n_meta;
  FtLiveMalformed  ring[MALFORMED_RING];
  guint            ring_start, ring_n;

  FtOutbox         outbox;         /* commands and task assignments in flight */

  GArray          *staff;          /* FtLiveStaff */
  GHashTable      *staff_index;    /* id → index+1 */

  FtOps           *ops;            /* borrowed, may be NULL */
  FtLiveOpsState   lops;           /* proposals, approval, stop lists (ft-live-ops.c) */

  double           prov_tokens;    /* provisioning token bucket */
  FtTime           prov_refill;    /* when it was last refilled; G_MININT64 = full */
  FtTime           last_unknown_log;

  guint            listener_id;
  FtTime           last_housekeep, last_silence_scan;
  gboolean         heard_initialised;
  /* the price topic (ft-live-prices.c) */
  guint64          prices_seq;       /* FT_EV_PRICE_CHANGED count when last published */
  gboolean         prices_published; /* since the last (re)connection */
  struct _FtLiveLevers *levers;      /* ft-live-levers.c, NULL until set */
};

typedef struct {
  FtLatLon pos;
  gboolean has_pos;
} PosField;

/* ft-live-config.c */
void      ft_live_config_copy   (FtLiveConfig *dst, const FtLiveConfig *src);

/* ft-live-json.c: the payload being ingested */
gboolean  ft_live_fields_parse  (char *buf, gsize len, Fields *F);
gboolean  ft_live_fields_number (const Fields *F, const char *name, double *out, gboolean *bad);
gboolean  ft_live_fields_int64  (const Fields *F, const char *name, gint64 *out, gboolean *bad);
const char *ft_live_fields_string (const Fields *F, const char *name, gboolean *bad);
gboolean  ft_live_fields_bool   (const Fields *F, const char *name, gboolean *out, gboolean *bad);
int       ft_live_fields_kind   (const Fields *F, const char *name);
guint     ft_live_fields_array_len (const Fields *F, const char *name);
gboolean  ft_live_fields_array_int (const Fields *F, const char *name, guint k, gint64 *i);
const char *ft_live_fields_array_string (const Fields *F, const char *name, guint k);

/* ft-live-net.c */
void      ft_live_set_conn_state (FtLive *live, FtLiveConnState s, const char *detail);
void      ft_live_net_set_callbacks (FtLive *live);
gpointer  ft_live_net_main      (gpointer data);

/* ft-live-ingest.c */
void      ft_live_note_refused  (FtLive *live, FtTime now, const char *topic,
                                 const char *fmt, ...) G_GNUC_PRINTF (4, 5);
gboolean  ft_live_refuse        (FtLive *live, FtTime now, const char *topic, GError **error,
                                 const char *reason);
gboolean  ft_live_refuse_unknown (FtLive *live, FtTime now, const char *topic, GError **error,
                                  int code, const char *reason);
gboolean  ft_live_take_provision_token (FtLive *live, FtTime now);
VehicleMeta *ft_live_meta_for   (FtLive *live, guint v);
void      ft_live_lose_comms    (FtLive *live, guint v, VehicleMeta *m, FtTime now);
gboolean  ft_live_read_position (const Fields *o, PosField *p, const char **why);
gboolean  ft_live_read_timestamp (FtLive *live, const Fields *o, FtTime now, FtTime *ts,
                                  const char **why);

/* ft-live-levers.c */
typedef struct _FtLiveLevers FtLiveLevers;
void      ft_live_starts_init   (FtLiveStarts *st);
void      ft_live_starts_clear  (FtLiveStarts *st);
void      ft_live_starts_scan   (FtLiveStarts *st, FtLive *live, FtDynZoneLocator locate, gpointer data,
                                 guint n_zones, FtTime now);
void      ft_live_starts_count  (const FtLiveStarts *st, guint n_zones, double *seen);
void      ft_live_levers_tick   (FtLive *live, FtTime now);
void      ft_live_levers_free   (FtLiveLevers *lv);

/* ft-live-prices.c */
void      ft_live_maybe_publish_prices (FtLive *live, FtTime now);

/* ft-live-outbox.c */
void      ft_live_outbox_init   (FtOutbox *ob);
void      ft_live_outbox_clear  (FtOutbox *ob);
/* Add a copy of tmpl (kind, id and the kind's own fields set) as queued and
 * publish it if connected; an assignment supersedes the task's older one. */
FtOutItem *ft_live_outbox_add   (FtLive *live, const FtOutItem *tmpl, FtTime now);
/* Close an open entry (counted in the stats) and move it to the history. */
void      ft_live_outbox_close  (FtLive *live, FtOutItem *it, FtLiveCommandState st,
                                 const char *detail, FtTime now);
FtOutItem *ft_live_outbox_lookup (FtLive *live, FtOutKind kind, const char *id);
/* An ack's result field: "ok", "failed" or "expired" as a state; FALSE for
 * anything else. */
gboolean  ft_live_ack_result    (const char *result, FtLiveCommandState *st);
FtOutItem *ft_live_outbox_for_task (FtLive *live, gint64 task);
void      ft_live_outbox_housekeeping (FtLive *live, FtTime now);
gboolean  ft_live_outbox_check  (FtLive *live, GError **error);
/* Entries held: the open ones and the bounded history (tests). */
guint     ft_live_outbox_length (FtLive *live);
gboolean  ft_live_ingest_ack    (FtLive *live, const char *topic, const char *id, const Fields *o,
                                 FtTime now, GError **error);
void      ft_live_booking_listener (const FtEvent *ev, gpointer user_data);

/* ft-live-ops.c */
void      ft_live_ops_init      (FtLive *live);
void      ft_live_ops_clear     (FtLive *live);
void      ft_live_ops_tick      (FtLive *live, FtTime now);
gboolean  ft_live_ingest_stops_ack (FtLive *live, const char *topic, const char *id,
                                    const Fields *o, FtTime now, GError **error);
gboolean  ft_live_ingest_stop_progress (FtLive *live, const char *topic, const char *id,
                                        const Fields *o, FtTime now, GError **error);
/* A stop list refused or never confirmed: its stops not yet started, if
 * still assigned to that staff member, go back to open (approved). */
void      ft_live_release_stops (FtLive *live, FtOutItem *it, FtTime now);
gboolean  ft_live_ops_check     (FtLive *live, GError **error);

/* ft-live-staff.c */
gboolean  ft_live_ingest_staff  (FtLive *live, const char *topic, const char *id, const char *what,
                                 const Fields *o, FtTime now, GError **error);
gboolean  ft_live_ingest_task_ack (FtLive *live, const char *topic, const char *id, const Fields *o,
                                   FtTime now, GError **error);
/* An assignment refused or never confirmed: the task, if still only
 * assigned to that staff member, goes back to open. */
void      ft_live_release_task  (FtLive *live, const FtLiveAssignment *a, FtTime now);
void      ft_live_log_staff_moved (FtLive *live, FtLiveStaff *s, FtTime now);

G_END_DECLS
