/* ft-live.h — live mode: the MQTT adapter between a real (or emulated) fleet
 * and the twin. A libmosquitto network thread receives telemetry, events,
 * command acks and status under `<prefix>/…` and hands them over through a
 * queue; the twin thread drains the queue (ft_live_process) and applies them
 * to FtCore. Commands (unlock, lock, locate, alarm) go out with an id and an
 * expiry and are closed by acks, retried and expired on the twin's clock.
 * The topic and payload contract is src/live/MQTT-CONTRACT.md.
 *
 * Threads: everything here is called on the twin thread except
 * ft_live_get_conn_state and ft_live_wait, which are safe from any thread.
 * No module is touched from the network thread.
 */
#pragma once

#include "ft-core.h"
#include "ft-registry-shadow.h"
#include "ft-ops.h"
#include "ft-ops-plan.h"   /* FtOpsTravelFunc: the planner's travel times */

G_BEGIN_DECLS

#define FT_LIVE_ERROR (ft_live_error_quark ())
GQuark ft_live_error_quark (void);
typedef enum {
  FT_LIVE_ERROR_URL,          /* broker URL cannot be used */
  FT_LIVE_ERROR_TLS,          /* CA / certificate / key not usable */
  FT_LIVE_ERROR_CONNECT,      /* network failure, timeout */
  FT_LIVE_ERROR_REFUSED,      /* broker refused: bad credentials, not authorised */
  FT_LIVE_ERROR_MALFORMED,    /* payload or topic does not follow the contract */
  FT_LIVE_ERROR_UNKNOWN_VEHICLE,
  FT_LIVE_ERROR_NO_SUCH_COMMAND,
  FT_LIVE_ERROR_NOT_CONNECTED,
  FT_LIVE_ERROR_UNKNOWN_STAFF,  /* no such live staff member / no account */
  FT_LIVE_ERROR_NO_TASK_QUEUE,  /* task assignment without ft_live_set_ops */
  FT_LIVE_ERROR_LEVERS,         /* pricing / incentives settings or their kept state refused */
} FtLiveError;

typedef enum {
  FT_LIVE_DISCONNECTED = 0,   /* not started, or stopped */
  FT_LIVE_CONNECTING,         /* first connection attempt in progress */
  FT_LIVE_CONNECTED,          /* CONNACK accepted, subscriptions sent */
  FT_LIVE_RECONNECTING,       /* lost; libmosquitto retries with back-off */
  FT_LIVE_REFUSED,            /* broker refused credentials, or TLS verification failed;
                               * final: no more retries */
} FtLiveConnState;

const char *ft_live_conn_state_name (FtLiveConnState s);

/* What happens to a vehicle id or staff id the twin does not know. Refusing
 * is the default: provisioning from the network is an act an operator turns
 * on knowingly (`fleet-twin-cli live --provision-unknown`), and even then
 * at most `provision_per_minute` new vehicles and staff accounts a minute
 * (a token bucket) are created. */
typedef enum {
  FT_LIVE_UNKNOWN_REFUSE = 0,    /* count and log (rate-limited), change nothing (default) */
  FT_LIVE_UNKNOWN_REGISTER,      /* provision: a UUID device_id joins the fleet, an unknown
                                  * staff id gets a field-staff account; rate-limited */
} FtLiveUnknownPolicy;

typedef struct {
  char   *url;               /* mqtt://[user[:pass]@]host[:port], mqtts://… */
  char   *prefix;            /* fleet prefix, e.g. "ft/demo" (no trailing '/') */
  char   *client_id;         /* fixed id for a persistent session; NULL: "fleet-twin-<random>"
                              * with a clean session (nothing kept while away) */
  char   *ca_file;           /* mqtts: CA bundle (NULL: system default path) */
  char   *cert_file, *key_file; /* client certificate (optional) */
  char   *username, *password;  /* override the URL's */
  int     protocol;          /* 3 (= 3.1.1, default) or 5 */
  int     keepalive_s;       /* default 30 */
  int     qos;               /* subscription QoS, default 1 */
  guint   reconnect_min_s;   /* back-off, default 1 */
  guint   reconnect_max_s;   /* default 30 */
  FtLiveUnknownPolicy unknown;  /* default FT_LIVE_UNKNOWN_REFUSE */
  guint   provision_per_minute; /* vehicles + staff provisioned a minute at most (burst as
                                 * large), default 60 */
  FtTime  silent_after;      /* silence → unknown (comms_lost); default 60 s */
  FtTime  telemetry_every;   /* FT_EV_TELEMETRY per vehicle at most this often, default 30 s */
  FtTime  staff_every;       /* FT_EV_STAFF_MOVED per staff, default 30 s */
  FtTime  max_future;        /* timestamps further ahead of now are refused; default 5 min */
  FtTime  command_ttl;       /* default expiry of commands, 30 s */
  FtTime  command_retry;     /* resend unacked commands after, default 3 s */
  guint   command_max_attempts; /* publishes per command (then wait for expiry), default 3 */
  gboolean auto_commands;    /* publish unlock/lock for booking unlock/end (default TRUE) */
  gboolean announce_status;  /* retained <prefix>/twin/<client>/status + will (default TRUE) */
  gboolean clean_session;    /* FALSE (default, with a client_id): the broker keeps the
                              * subscriptions and queues QoS 1 messages while the twin is
                              * away; TRUE: start afresh on every connection */
  guint   session_expiry_s;  /* MQTT 5: how long the broker keeps the session after a
                              * disconnect (CONNECT session-expiry-interval), default 1 day */
  guint   max_packet_size;   /* MQTT 5: largest packet the broker may send us (CONNECT
                              * maximum-packet-size), default 64 KiB payload + 4 KiB */
} FtLiveConfig;

void ft_live_config_init  (FtLiveConfig *cfg);
void ft_live_config_clear (FtLiveConfig *cfg);   /* frees the strings */

/* Parsed broker URL (exposed for tests and the CLI). */
typedef struct {
  gboolean tls;
  char    *host;
  int      port;
  char    *username, *password;
} FtLiveUrl;
gboolean ft_live_parse_url (const char *url, FtLiveUrl *out, GError **error);
/* The URL fit to show: a password in it becomes "***" (mqtt://user:***@host).
 * Every message and log line that names a broker URL goes through this. */
char    *ft_live_url_redact (const char *url);
void     ft_live_url_clear (FtLiveUrl *u);

typedef struct {
  guint64 received;          /* messages handed over by the network thread */
  guint64 applied;           /* messages that changed state */
  guint64 telemetry, events, acks, status, staff;
  guint64 stale;             /* older than what we have: ignored */
  guint64 duplicates;        /* same timestamp again: ignored */
  guint64 malformed;         /* refused payloads / topics */
  guint64 unknown_refused;   /* unknown vehicles / staff refused (policy or rate limit) */
  guint64 registered;        /* vehicles added from live data */
  guint64 staff_provisioned; /* field-staff accounts created from live data */
  guint64 provision_limited; /* provisioning refused by the rate limit (also unknown_refused) */
  guint64 forced_states;     /* device state had no legal MDS path: taken as is */
  guint64 comms_lost, comms_restored;
  guint64 telemetry_logged;  /* FT_EV_TELEMETRY events written (after downsampling) */
  guint64 commands_sent, commands_acked, commands_failed, commands_expired, command_retries;
  guint64 connects, disconnects;
  guint64 queue_high_water;
  /* staff task assignments (twin → staff) and their acks / progress */
  guint64 tasks_sent, tasks_acked, tasks_failed, tasks_expired, task_retries;
  guint64 task_updates;      /* progress updates applied to FtOps */
  guint64 task_refused;      /* task acks / updates refused (also counted malformed) */
  guint64 prices_sent;       /* price topic publishes (retained) */
  /* operations on live state */
  guint64 proposed, approved, swaps_cancelled_full;
  guint64 lists_sent, lists_acked, lists_failed, lists_expired, list_retries;
  guint64 stop_updates;      /* stop progress applied */
} FtLiveStats;

/* A refused message, kept in a bounded ring (newest last). */
typedef struct {
  FtTime t;
  char   topic[128];
  char   reason[160];
} FtLiveMalformed;

typedef enum {
  FT_CMD_UNLOCK = 0, FT_CMD_LOCK, FT_CMD_LOCATE, FT_CMD_ALARM,
  FT_CMD_SPEED_LIMIT,   /* a zone's speed cap on a ride (max_kph) */
  FT_N_CMDS
} FtLiveCommandKind;
const char *ft_live_command_name      (FtLiveCommandKind k);
gboolean    ft_live_command_from_name (const char *s, FtLiveCommandKind *out);

typedef enum {
  FT_CMD_QUEUED = 0,   /* not yet published (e.g. not connected) */
  FT_CMD_SENT,         /* published, awaiting ack */
  FT_CMD_ACKED,        /* device confirmed */
  FT_CMD_FAILED,       /* device refused (ack result "failed") */
  FT_CMD_EXPIRED,      /* no ack before expiry */
} FtLiveCommandState;
const char *ft_live_command_state_name (FtLiveCommandState s);

typedef struct {
  char               id[40];       /* "cmd-<client>-<n>" */
  FtLiveCommandKind  kind;
  guint              vehicle;
  char               device_id[37];
  FtLiveCommandState state;
  FtTime             issued, expires, last_sent, closed;
  guint              attempts;
  char               detail[96];   /* device's reason on failure, "" otherwise */
  double             max_kph;      /* speed_limit: the cap, 0 = no motor (no ride-through), -1 = lifted */
} FtLiveCommand;

/* Per-staff live view (positions and task updates under <prefix>/staff/<id>/…). */
typedef struct {
  char     id[40];
  gint     account;        /* FtAccounts index (field role), -1 if not registered */
  FtLatLon pos;
  FtTime   last_ts;        /* newest payload timestamp */
  FtTime   last_logged;
  char     task_id[40];
  char     task_status[24];  /* "assigned", "started", "done", "cancelled" */
  FtTime   task_ts;
  gboolean unlogged;       /* position newer than the last FT_EV_STAFF_MOVED */
  /* from the staff app's position / status messages (optional members) */
  gint     packs;          /* charged packs on board, -1 unknown (ops van_packs) */
  FtTime   shift_end;      /* ms, -1 unknown (12 h on from now) */
} FtLiveStaff;

/* A task assignment published to a staff member on <prefix>/staff/<id>/tasks,
 * tracked like a vehicle command (queued → sent → acked | failed | expired)
 * and then by the task's progress the staff report. */
typedef struct {
  char               id[40];       /* command id "task-<client>-<n>" */
  gint64             task;         /* FtOps task id */
  FtTaskKind         kind;
  guint              staff;        /* index into ft_live_get_staff */
  char               staff_id[40];
  gint32             vehicle;      /* -1 none */
  char               device_id[37];
  FtLatLon           target;
  gint               priority;
  FtLiveCommandState state;        /* of the assignment message */
  FtTime             issued, expires, last_sent, closed;
  guint              attempts;
  char               progress[16]; /* "", "accepted", "in_progress", "done", "failed" */
  FtTime             progress_ts;  /* staff's timestamp of the newest progress, -1 */
  char               detail[96];   /* reason on failure */
} FtLiveAssignment;

/* Telemetry as parsed, handed to the observer (for latency measurement,
 * maps, tests). Fields absent from the payload are NaN / -1. */
typedef struct {
  FtTime   timestamp;
  gint64   sent_us;        /* optional "sent_us" field, -1 if absent */
  FtLatLon pos;
  double   battery_pct, range_m, speed_mps, odometer_m;
  int      locked;         /* 1 locked, 0 unlocked, -1 absent */
} FtLiveTelemetry;

typedef struct _FtLive FtLive;

typedef void (*FtLiveStateFunc)     (FtLive *live, FtLiveConnState state,
                                     const char *detail, gpointer user_data);
typedef void (*FtLiveTelemetryFunc) (FtLive *live, guint vehicle,
                                     const FtLiveTelemetry *t, gpointer user_data);

/* core is borrowed and must outlive the FtLive. Validates the config (URL
 * parse, files readable) but does not connect. */
FtLive     *ft_live_new              (FtCore *core, const FtLiveConfig *cfg, GError **error);
void        ft_live_free             (FtLive *live);
/* Start the network thread and connect asynchronously (returns at once). */
gboolean    ft_live_start            (FtLive *live, GError **error);
/* Start and wait up to timeout_ms for the first CONNACK; a refusal or
 * unreachable broker is an error naming the broker and the reason:
 * FT_LIVE_ERROR_REFUSED (credentials, not authorised) and FT_LIVE_ERROR_TLS
 * (certificate / verification failure) are final, the adapter has stopped
 * trying; FT_LIVE_ERROR_CONNECT means it keeps retrying with back-off. */
gboolean    ft_live_connect_sync     (FtLive *live, guint timeout_ms, GError **error);
/* Publish offline status (if announced), disconnect, join the thread. */
void        ft_live_stop             (FtLive *live);

FtLiveConnState ft_live_get_conn_state (FtLive *live);       /* any thread */
/* Called on the twin thread (from ft_live_process) for every state change. */
void        ft_live_set_state_func   (FtLive *live, FtLiveStateFunc fn, gpointer user_data);
void        ft_live_set_telemetry_func (FtLive *live, FtLiveTelemetryFunc fn, gpointer user_data);
/* Last error text from the broker / network, or NULL. */
const char *ft_live_get_last_error   (FtLive *live);

/* Block up to timeout_ms until a message is queued (any thread). */
gboolean    ft_live_wait             (FtLive *live, guint timeout_ms);
/* Twin thread: drain up to max_msgs (0 = all queued) and apply them; then
 * run housekeeping (silence → unknown, command retries and expiry).
 * Returns the number of messages drained. */
guint       ft_live_process          (FtLive *live, FtTime now, guint max_msgs);
guint       ft_live_queue_length     (FtLive *live);

/* The ingest path without a broker (what ft_live_process calls for each
 * message). Returns FALSE with FT_LIVE_ERROR_MALFORMED / _UNKNOWN_VEHICLE
 * if the message was refused (and counts and logs it); state untouched then. */
gboolean    ft_live_ingest           (FtLive *live, const char *topic,
                                      const void *payload, gsize len,
                                      FtTime now, GError **error);
/* Housekeeping alone (ft_live_process calls it); with a shadow attached,
 * also the shadow models' tick (predictions, scores, drift, retraining). */
void        ft_live_tick             (FtLive *live, FtTime now);
/* Shadow mode on live state: shadow (borrowed, NULL to detach) listens on
 * the core's log and is ticked with wall time by ft_live_tick; a shadow
 * error is reported once (g_warning) and the twin carries on. */
void        ft_live_set_shadow       (FtLive *live, FtShadow *shadow);
/* Write what downsampling held back: an FT_EV_TELEMETRY for every vehicle
 * (and an FT_EV_STAFF_MOVED for every staff member) whose newest accepted
 * report is newer than its last logged one, so the next store commit holds
 * the last reported positions, batteries and locks. Call it after the last
 * ft_live_process before a clean stop (and before a commit that must be
 * complete). Returns the number of events written. */
guint       ft_live_flush            (FtLive *live, FtTime now);

/* The price topic, contract version FT_LIVE_PRICES_VERSION: P/prices/v1,
 * retained, QoS 1, published by ft_live_tick whenever a price changed
 * (FT_EV_PRICE_CHANGED) since the last publish. The payload (JSON, caller
 * frees) is exposed for tests and apps' fixtures. */
#define FT_LIVE_PRICES_VERSION 1
char       *ft_live_prices_payload   (FtCore *core, FtTime now, gsize *len);
/* Publish now if connected; FALSE if not (ft_live_tick tries again). */
gboolean    ft_live_publish_prices   (FtLive *live, FtTime now);

/* The rider levers in live mode (ft-live-levers.c): the simulator's
 * pricing policy and relocation incentives (ft-levers.h), run by
 * ft_live_tick every guards.interval and rules.recompute from live state,
 * as `planner` (FT_PERM_PLAN) through the core's role-checked calls. */
typedef double (*FtLiveDemandFunc) (guint zone, FtTime t, gpointer user_data);
typedef struct {
  FtLeverPolicy    policy;          /* policy.policy OFF: prices are not run */
  FtDynGuards      guards;          /* the rails; interval = how often prices are set */
  const guint     *protected_zones; /* set protected at start (copied) */
  guint            n_protected;
  gboolean         incentives;      /* run relocation offers */
  FtIncentiveRules rules;           /* recompute = how often offers are redone */
  guint            n_zones;
  FtDynZoneLocator locate;          /* position -> zone (-1 none); required */
  gpointer         locate_data;
  /* Requests expected in a zone during the hour that holds t; NaN (or no
   * function) falls back to the attached shadow's forecast, then to the
   * trips seen starting in the zone over the last hour. */
  FtLiveDemandFunc demand;
  gpointer         demand_data;
} FtLiveLeversConfig;

/* The store's meta key of the kept lever state (ft_lever_state_to_json). */
#define FT_LIVE_LEVERS_META "ft.live.levers"

void      ft_live_levers_config_init (FtLiveLeversConfig *cfg);
/* Checks the planner's FT_PERM_PLAN, the policy, guards and rules, and
 * the kept state in the store (if any; for another number of zones it is
 * refused), all before changing anything; then enables dynamic zones and
 * incentives on the core, puts back the kept multipliers, protected zones,
 * emergency flag and offers, and their schedule (a kept one goes on where
 * it was, a new one runs at the first tick). Restored prices are published
 * on the price topic before the first new interval. Once per FtLive. */
gboolean  ft_live_set_levers         (FtLive *live, const FtLiveLeversConfig *cfg, guint planner,
                                      FtTime now, GError **error);
guint64   ft_live_n_price_intervals  (FtLive *live);   /* intervals run since set */
guint64   ft_live_n_offer_rounds     (FtLive *live);

const FtLiveStats     *ft_live_get_stats     (FtLive *live);
const FtLiveMalformed *ft_live_get_malformed (FtLive *live, guint *n_out);  /* oldest first */

/* Commands and task assignments share one outbox: open until acked, failed
 * or expired, then kept in a history of the newest 256 of each kind (for
 * display and late lookups) and dropped, so it stays bounded however long
 * the session. Pointers and ids handed out stay valid until the entry
 * leaves that history; the arrays from get_commands / get_assignments are
 * copies valid until the next call.
 *
 * Commands. Returns the command id (owned by live) or NULL with an error
 * (no such vehicle). ttl 0 = config default. Published at once if connected,
 * otherwise queued until the next connection (and still expires). */
const char          *ft_live_send_command (FtLive *live, guint vehicle, FtLiveCommandKind kind,
                                           FtTime now, FtTime ttl, GError **error);
/* A speed_limit command: max_kph the cap, 0 no motor (a zone that may not
 * be ridden through), < 0 lifts it. Housekeeping sends these itself from the
 * geofences as vehicles on a ride cross zones. */
const char          *ft_live_send_speed_limit (FtLive *live, guint vehicle, double max_kph,
                                               FtTime now, GError **error);
const FtLiveCommand *ft_live_get_command  (FtLive *live, const char *id);
/* Open commands and the recent closed ones, oldest first. */
const FtLiveCommand *ft_live_get_commands (FtLive *live, guint *n_out);
guint                ft_live_n_open_commands (FtLive *live);
/* Drop closed commands that closed before `before` from the history. */
void                 ft_live_forget_commands (FtLive *live, FtTime before);

/* Staff task assignment. ops is borrowed (NULL detaches) and must outlive
 * the FtLive; without it task assignment is refused and task updates are
 * only shown in FtLiveStaff. */
void                 ft_live_set_ops (FtLive *live, FtOps *ops);
FtOps               *ft_live_get_ops (FtLive *live);
/* Assign ops task `task` (open, or assigned) to live staff member `staff`
 * (index into ft_live_get_staff; needs a field-work account) as `by`
 * (-1 rule or a FT_PERM_DISPATCH account) through ft_ops_assign, and publish
 * it on <prefix>/staff/<id>/tasks (QoS 1; resent like commands until acked
 * or expired; ttl 0 = config default). A "failed" or "expired" outcome
 * before the staff started puts the task back to open. Returns the
 * assignment's command id (owned by live) or NULL with an error, the task
 * and queue untouched then. */
const char          *ft_live_assign_task (FtLive *live, gint64 task, guint staff, gint32 by,
                                          FtTime now, FtTime ttl, GError **error);
const FtLiveAssignment *ft_live_get_assignment  (FtLive *live, const char *id);
/* Oldest first; the newest one for a task wins in lookups by task. */
const FtLiveAssignment *ft_live_get_assignments (FtLive *live, guint *n_out);
const FtLiveAssignment *ft_live_find_assignment (FtLive *live, gint64 task);
guint                ft_live_n_open_assignments (FtLive *live);

/* ------------------------------------------------------------------------
 * Operations on live state (ft-live-ops.c): the twin proposes tasks from
 * what vehicles report (low battery → swap, a fault → collect, parked
 * where parking is not allowed → rebalance), values them
 * (ft_task_value_estimate) and ranks them (ft_ops_rank_open). A dispatcher
 * approves proposals (or an auto-approve setting a dispatcher switched on
 * does); approved tasks go to on-shift staff, and each staff member gets
 * an ordered stop list on <prefix>/staff/<id>/stops/v1 through the outbox
 * (acked, retried, expired). Progress (started / done / skipped) on
 * <prefix>/staff/<id>/stops/v1/progress re-plans and sends a new list; a
 * started stop is never taken away. Needs ft_live_set_ops.
 */
#define FT_LIVE_STOPS_VERSION 1
#define FT_LIVE_MAX_STOPS     12

typedef struct {
  gboolean propose;            /* scan live state and propose tasks (default FALSE) */
  FtTime   every;              /* scan period, default 10 s */
  double   low_battery;        /* propose a swap below this charge (0..1), default 0.25 */
  double   full_battery;       /* a swap for a vehicle at or above is cancelled
                                * (never sent): default 0.95 */
  guint    max_stops;          /* stops per staff list, 1..FT_LIVE_MAX_STOPS, default 8 */
  guint    van_packs;          /* charged packs a van carries: at most this many swaps
                                * per list, default 6 */
  FtTime   staff_fresh;        /* staff heard from within this are on shift, default 10 min */
  FtTime   horizon;            /* value horizon, default 4 h */
  FtTime   cooldown;           /* no new task of a kind for a vehicle within this of one
                                * done (its next report may still be the old one), 15 min */
  double   requests_per_hour;  /* expected requests where a vehicle stands (no forecast
                                * in live mode yet), default 1.5 */
  double   vehicles_nearby;    /* rentable vehicles sharing them, default 2 */
  double   revenue_per_trip;   /* major units, default 2.5 */
  double   battery_per_trip;   /* charge a mean trip uses, default 0.08 */
  double   fault_cost;         /* a fault left in the field, default 15 */
  double   cost_per_staff_minute; /* default 0.5 */
  double   cost_per_van_km;    /* default 0.3 */
  double   van_kph;            /* staff travel speed for ETAs, default 20 */
  /* Stop lists come from the VRPTW planner (ft_ops_plan_routes). Travel
   * between two points: the caller's (a city's router); NULL = straight
   * line × 1.3 at van_kph (said once in the log). Borrowed. */
  FtOpsTravelFunc travel;
  gpointer travel_data;
  const char *travel_name;     /* for the log, e.g. "the router of berlin" */
  guint    plan_iterations;    /* search iterations per re-plan, default 300 */
  gboolean reshuffle;          /* FALSE (default): a list a staff member holds keeps its
                                * order and stops (progress takes stops off, the planner
                                * inserts new tasks after them), so lists do not churn as
                                * vans move; TRUE: unstarted stops are re-optimised and
                                * may move between vans at every re-plan */
  guint    plan_limit_ms;      /* and at most this much thread CPU time, default 100
                                * (0: none; small problems end on the iterations,
                                * so the same state plans the same routes) */
  FtTime   plan_horizon;       /* routes planned this far ahead, default 1 h (the planner
                                * uses as few vans as it can within it, as in the simulator) */
  /* Inspections from the maintenance shadow: a vehicle whose P(fault
   * within the short horizon) is at least inspect_risk gets one inspect
   * proposal, and no other within reinspect_after. risk: the caller's
   * (tests); NULL = the attached shadow's maintenance model. */
  double   inspect_risk;       /* default 0.3; > 1 = off */
  FtTime   reinspect_after;    /* default 3 days */
  gboolean (*risk) (guint vehicle, double *p, double *horizon_h, gpointer user_data);
  gpointer risk_data;
  /* Zones (a city pack): surplus rebalancing. n_zones 0 = no zones (said
   * once in the log). centre[n_zones] is borrowed. A zone with more
   * available vehicles than it expects requests over the next hour (demand,
   * else the shadow's forecast, else trips seen starting in the last hour)
   * sends its surplus to neighbours (centres within rebalance_km) that
   * expect more than they have, by the transport plan of src/ops
   * (ft_rebalance_plan). */
  guint            n_zones;
  FtDynZoneLocator locate;
  gpointer         locate_data;
  const FtLatLon  *centre;
  FtLiveDemandFunc demand;      /* requests per hour in zone z at t, NaN unknown */
  gpointer         demand_data;
  double           rebalance_km;   /* default 2.5 */
  /* the reasons' clock: minutes east of UTC (a city's utc_offset_min);
   * the zone is named after each time ("before 18:00 UTC+1") */
  int      utc_offset_min;
} FtLiveOpsConfig;

void        ft_live_ops_config_init (FtLiveOpsConfig *c);
/* Refuses (FT_LIVE_ERROR_MALFORMED, naming the field) values out of range. */
gboolean    ft_live_set_ops_config  (FtLive *live, const FtLiveOpsConfig *c, GError **error);
const FtLiveOpsConfig *ft_live_get_ops_config (FtLive *live);

/* Switch auto-approve: `by` must be an account with FT_PERM_DISPATCH (a
 * dispatcher or admin); anyone else is refused (FT_OPS_ERROR_PERMISSION)
 * and nothing changes. While on, every proposal is approved as it is made
 * (and the ones waiting at once). */
gboolean    ft_live_set_auto_approve (FtLive *live, gboolean on, gint32 by, FtTime now,
                                      GError **error);
gboolean    ft_live_get_auto_approve (FtLive *live, gint32 *by_out);
/* Approve a proposal as `by` (FT_PERM_DISPATCH), reassign a task to live
 * staff member `staff` (never a started one), cancel a task: through
 * FtOps (role-checked there), then re-plan the stop lists touched. */
gboolean    ft_live_approve  (FtLive *live, gint64 task, gint32 by, FtTime now, GError **error);
gboolean    ft_live_reassign (FtLive *live, gint64 task, guint staff, gint32 by, FtTime now,
                              GError **error);
gboolean    ft_live_cancel   (FtLive *live, gint64 task, gint32 by, FtTime now, GError **error);
/* One proposal scan now (ft_live_tick runs one every cfg.every when
 * propose is on). Returns the number of tasks proposed. */
guint       ft_live_propose  (FtLive *live, FtTime now);
/* Hand approved open tasks to on-shift staff and send every stop list
 * that changed (ft_live_tick does it after progress and every scan period). */
void        ft_live_replan   (FtLive *live, FtTime now);

typedef struct {
  gint64     task;
  FtTaskKind kind;
  gint32     vehicle;            /* -1 none */
  char       device_id[37];
  FtLatLon   pos;                /* where to go (NaN if unknown) */
  FtLatLon   drop;               /* a rebalance's drop point (NaN: none named) */
  gboolean   started;            /* in progress: stays first, never taken away */
  FtTime     eta;                /* estimated arrival */
  double     value;              /* FtTaskValue.value, NaN if none */
  char       reason[128];
} FtLiveStop;

/* A stop list published to one staff member, tracked in the outbox like a
 * command (queued → sent → acked | failed | expired). A newer list for the
 * same staff supersedes it. */
typedef struct {
  char               id[40];     /* "stops-<client>-<n>" */
  guint              staff;      /* index into ft_live_get_staff */
  char               staff_id[40];
  guint              n_stops;
  FtLiveStop         stops[FT_LIVE_MAX_STOPS];
  FtLiveCommandState state;
  FtTime             issued, expires, last_sent, closed;
  guint              attempts;
  char               detail[96];
} FtLiveStopList;

/* The newest stop list sent to live staff member `staff`, or NULL. */
const FtLiveStopList *ft_live_get_stop_list (FtLive *live, guint staff);

guint              ft_live_n_staff  (FtLive *live);
const FtLiveStaff *ft_live_get_staff (FtLive *live, guint i);
gboolean           ft_live_lookup_staff (FtLive *live, const char *id, guint *i_out);

/* The vehicle's lock state as last reported (-1 unknown) and the newest
 * telemetry timestamp accepted (-1 none). */
int     ft_live_vehicle_locked  (FtLive *live, guint vehicle);
FtTime  ft_live_vehicle_last_ts (FtLive *live, guint vehicle);

/* One line: "connected mqtt://… · 1000 vehicles (998 seen) · 12345 msgs · …" */
char   *ft_live_dup_status_line (FtLive *live, FtTime now);

/* Consistency of the adapter's own tables with the fleet (tests). */
gboolean ft_live_check (FtLive *live, GError **error);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (FtLive, ft_live_free)

/* ------------------------------------------------------------------------
 * The emulator side (used by `fleet-twin-cli emulate` and tests): publishes
 * a fleet given as plain records, obeys commands and acks them. It has its
 * own connection and network thread; commands received are queued and
 * applied by ft_live_emu_poll on the caller's thread.
 */
typedef struct {
  char     device_id[37];
  char     kind[16];          /* "scooter" / "bike" / "moped" (GBFS-ish) */
  FtLatLon pos;
  double   battery_pct;
  double   speed_mps;
  double   odometer_m;
  char     state[24];         /* MDS vehicle_state name */
  gboolean locked;
  guint32  fault_codes;
} FtLiveEmuVehicle;

typedef struct {
  char     id[40];
  FtLatLon pos;
  char     task_id[40];
  char     task_status[24];
} FtLiveEmuStaff;

typedef struct _FtLiveEmu FtLiveEmu;

/* A command the emulator received (for the caller to carry out). */
typedef struct {
  char              command_id[48];
  char              device_id[37];
  FtLiveCommandKind kind;
  FtTime            expires;
} FtLiveEmuCommand;

/* A task assignment the emulator received on <prefix>/staff/+/tasks. */
typedef struct {
  char       command_id[48];
  char       staff_id[40];
  gint64     task;            /* twin's task id (wire "task-<n>") */
  FtTaskKind kind;
  char       device_id[37];   /* "" if none */
  FtLatLon   target;          /* NaN if none */
  gint       priority;
  FtTime     expires;
} FtLiveEmuTask;

/* A stop list the emulator received on <prefix>/staff/+/stops/v1. */
typedef struct {
  char       command_id[48];
  char       staff_id[40];
  guint      n;
  gint64     task[FT_LIVE_MAX_STOPS];      /* in stop order */
  FtTaskKind kind[FT_LIVE_MAX_STOPS];
  FtLatLon   target[FT_LIVE_MAX_STOPS];    /* the drop point if named, else the stop; NaN if none */
  gboolean   started[FT_LIVE_MAX_STOPS];
  char       device_id[FT_LIVE_MAX_STOPS][37];
  FtTime     expires;
} FtLiveEmuStops;

FtLiveEmu *ft_live_emu_new        (const FtLiveConfig *cfg, GError **error);
void       ft_live_emu_free       (FtLiveEmu *emu);
gboolean   ft_live_emu_connect    (FtLiveEmu *emu, guint timeout_ms, GError **error);
FtLiveConnState ft_live_emu_get_conn_state (FtLiveEmu *emu);
/* Publish the retained "online" status of these vehicles. */
void       ft_live_emu_announce   (FtLiveEmu *emu, const FtLiveEmuVehicle *v, guint n, FtTime now);
/* Telemetry for each vehicle (QoS from cfg->qos). Returns number published.
 * sent_us goes into the payload for latency measurement: -1 leaves it
 * out, 0 stamps the wall time at the moment of publishing (after QoS 1 flow
 * control). */
guint      ft_live_emu_publish    (FtLiveEmu *emu, const FtLiveEmuVehicle *v, guint n,
                                   FtTime now, gint64 sent_us);
gboolean   ft_live_emu_publish_one(FtLiveEmu *emu, const FtLiveEmuVehicle *v,
                                   FtTime now, gint64 sent_us, int qos);
/* An MDS event (e.g. "trip_start") for one vehicle. */
gboolean   ft_live_emu_publish_event (FtLiveEmu *emu, const FtLiveEmuVehicle *v,
                                      const char *event_type, FtTime now);
guint      ft_live_emu_publish_staff (FtLiveEmu *emu, const FtLiveEmuStaff *s, guint n, FtTime now);
/* Commands received since the last poll, oldest first (g_free the array).
 * Not yet acknowledged: carry each out, then ft_live_emu_ack (or let
 * ft_live_emu_obey do both for plain records). */
FtLiveEmuCommand *ft_live_emu_poll (FtLiveEmu *emu, guint *n_out);
/* result: "ok", "failed" or "expired"; reason may be NULL. */
gboolean   ft_live_emu_ack        (FtLiveEmu *emu, const FtLiveEmuCommand *cmd,
                                   const char *result, const char *reason, FtTime now);
/* Carry out a command on a record array (unlock/lock set `locked`, locate
 * publishes a "located" event) and ack it: "expired" if past its expiry at
 * now, "failed" if the device is not among them, else "ok".
 * Returns TRUE if it was carried out. */
gboolean   ft_live_emu_obey       (FtLiveEmu *emu, FtLiveEmuVehicle *v, guint n,
                                   const FtLiveEmuCommand *cmd, FtTime now);
/* Task assignments received since the last poll (g_free the array). */
FtLiveEmuTask *ft_live_emu_poll_tasks (FtLiveEmu *emu, guint *n_out);
/* Ack on <prefix>/staff/<id>/tasks/ack: "ok", "failed" or "expired". */
gboolean   ft_live_emu_ack_task   (FtLiveEmu *emu, const FtLiveEmuTask *t, const char *result,
                                   const char *reason, FtTime now);
/* Progress on <prefix>/staff/<id>/task: status "accepted", "in_progress",
 * "done" or "failed" (reason may be NULL). */
gboolean   ft_live_emu_task_status (FtLiveEmu *emu, const char *staff_id, gint64 task,
                                    const char *status, const char *reason, FtTime now);
/* Stop lists received since the last poll (g_free the array). */
FtLiveEmuStops *ft_live_emu_poll_stops (FtLiveEmu *emu, guint *n_out);
/* Ack on <prefix>/staff/<id>/stops/v1/ack: "ok", "failed" or "expired". */
gboolean   ft_live_emu_ack_stops  (FtLiveEmu *emu, const FtLiveEmuStops *l, const char *result,
                                   const char *reason, FtTime now);
/* Progress on <prefix>/staff/<id>/stops/v1/progress: "started", "done" or
 * "skipped" (reason may be NULL). */
gboolean   ft_live_emu_stop_progress (FtLiveEmu *emu, const char *staff_id, gint64 task,
                                      const char *status, const char *reason, FtTime now);
/* Retained "offline" status for the vehicles, then disconnect. */
void       ft_live_emu_stop       (FtLiveEmu *emu, const FtLiveEmuVehicle *v, guint n, FtTime now);
guint64    ft_live_emu_n_published (FtLiveEmu *emu);
guint64    ft_live_emu_n_commands  (FtLiveEmu *emu);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (FtLiveEmu, ft_live_emu_free)

G_END_DECLS
