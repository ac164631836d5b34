/* ft-session.h — the app's model (not a widget): one scenario, its city and
 * its simulated world running on a worker thread (the twin thread). The UI
 * reads immutable FtFrames swapped in per frame, keeps a KPI history for the
 * charts, and sends commands (play, pause, step, speed, dispatch, rider
 * actions, inspector queries) that run on the worker between slices.
 */
#pragma once

#include <gio/gio.h>
#include "ft-frame.h"
#include "ft-sim-world.h"
#include "ft-run.h"

G_BEGIN_DECLS

#define FT_TYPE_SESSION (ft_session_get_type ())
G_DECLARE_FINAL_TYPE (FtSession, ft_session, FT, SESSION, GObject)

typedef struct {
  FtTime t;
  double utilisation;
  double trips_served;
  double trips_lost;
  double revenue;            /* major units */
  double battery_available;  /* 0..1 */
  double revenue_per_vehicle;  /* major units */
  double incentive_cost;     /* relocation rewards paid, major units */
  double incentive_moves;    /* riders who took an offer */
} FtKpiSample;

typedef enum {
  FT_ROLE_VIEW_PLANNER = 0,
  FT_ROLE_VIEW_DISPATCHER,
  FT_ROLE_VIEW_FIELD,
  FT_ROLE_VIEW_RIDER,
} FtRoleView;

FtSession    *ft_session_new            (void);
/* Builds city and world from the scenario (takes ownership) and starts the
 * worker paused at t = 0. tiles_path: MBTiles to show, NULL = the city's. */
gboolean      ft_session_load           (FtSession *self, FtSimScenario *sc,
                                         const char *tiles_path, GError **error);
gboolean      ft_session_is_loaded      (FtSession *self);
/* Loads the same scenario again from t = 0 (the finished run is archived). */
gboolean      ft_session_restart        (FtSession *self, GError **error);
/* TRUE once the world reached the scenario's end ("finished" property,
 * notified from ft_session_poll); the end is days x 24 h after t = 0. */
gboolean      ft_session_get_finished   (FtSession *self);
FtTime        ft_session_get_end_time   (FtSession *self);
/* Half an hour before the busiest hour of the first day in the city's
 * demand profile: where a first look at the city starts. */
FtTime        ft_session_get_busy_start (FtSession *self);
const FtSimScenario *ft_session_get_scenario (FtSession *self);
const FtCity *ft_session_get_city       (FtSession *self);
const char   *ft_session_get_tiles_path (FtSession *self);

void          ft_session_play           (FtSession *self);
void          ft_session_pause          (FtSession *self);
gboolean      ft_session_get_playing    (FtSession *self);
/* Advance one simulated minute then pause. */
void          ft_session_step           (FtSession *self);
/* Simulated seconds per wall second; 0 = as fast as possible. */
void          ft_session_set_speed      (FtSession *self, double speed);
double        ft_session_get_speed      (FtSession *self);
/* Run (as fast as possible) until simulated time t, then pause. */
void          ft_session_run_to         (FtSession *self, FtTime t);

/* Main thread: take the newest frame if one arrived; TRUE if it changed.
 * Emits "frame-changed". Call once per frame (the window's tick). */
gboolean      ft_session_poll           (FtSession *self);
FtFrame      *ft_session_get_frame      (FtSession *self);   /* borrowed, may be NULL */
FtTime        ft_session_get_time       (FtSession *self);
const FtSimKpis *ft_session_get_kpis    (FtSession *self);
GArray       *ft_session_get_history    (FtSession *self);   /* of FtKpiSample */

FtRoleView    ft_session_get_role       (FtSession *self);
void          ft_session_set_role       (FtSession *self, FtRoleView role);
gboolean      ft_session_can_dispatch   (FtSession *self);

/* Record the runs loaded from now on into a database in dir (created if
 * needed; NULL: do not record), so the Dashboard and Export Report can
 * read them while they run. A run's database is removed when the next run
 * is loaded or the session ends. */
void          ft_session_set_record_dir (FtSession *self, const char *dir);
/* The current run's database, or NULL when it is not recorded. */
const char   *ft_session_get_store_path (FtSession *self);
const char   *ft_session_get_record_dir (FtSession *self);

/* Work on the twin thread: fn runs there between slices with the world and
 * returns a newly allocated string (or NULL). callback runs on the main
 * thread; _finish gives the string (caller frees), or NULL with
 * G_IO_ERROR_CANCELLED when the worker stopped first. */
typedef char *(*FtSessionJob)  (FtSimWorld *world, gpointer data);
void          ft_session_run_job_async  (FtSession *self, FtSessionJob fn, gpointer data,
                                         GDestroyNotify destroy, GCancellable *cancellable,
                                         GAsyncReadyCallback callback, gpointer user_data);
char         *ft_session_run_job_finish (FtSession *self, GAsyncResult *result, GError **error);
/* Same, but blocks until done (for tests and short queries). Caller frees. */
char         *ft_session_run_job_sync   (FtSession *self, FtSessionJob fn, gpointer data);

/* Dispatch tasks for vehicles (kind: FtTaskKind). staff < 0: leave in the
 * queue. Refused unless the role can dispatch. Returns tasks created. */
guint         ft_session_dispatch       (FtSession *self, guint kind, const guint *vehicles,
                                         guint n, FtLatLon target, gint32 staff, GError **error);
/* As ft_session_dispatch; *warnings (may be NULL) gets what was skipped or
 * needs attention (swaps of nearly full batteries are skipped; staff off
 * shift), or NULL. */
guint         ft_session_dispatch_checked (FtSession *self, guint kind, const guint *vehicles,
                                           guint n, FtLatLon target, gint32 staff, char **warnings,
                                           GError **error);

/* Warnings on a task row (the widget words them). */
typedef enum {
  FT_TASK_WARN_OFF_SHIFT    = 1 << 0,  /* the assignee is off shift (not heard from, live) */
  FT_TASK_WARN_FULL_BATTERY = 1 << 1,  /* a swap for a vehicle at 95 % or more */
  FT_TASK_WARN_VAN_FULL     = 1 << 2,  /* more swaps for the van than it carries packs */
} FtTaskWarning;

/* The staff task list: unfinished tasks, newest first (the simulation)
 * or proposals and approved work by value (live). Plain values: the
 * window formats them. */
typedef struct {
  gint64      id;
  FtTaskKind  kind;
  FtTaskState state;
  gint        priority;
  char        vehicle[16];   /* its name, "" for none */
  gint32      staff;         /* field staff index (Staff n+1, or live staff) or -1 */
  FtTime      created;
  FtTaskApproval approval;   /* proposed: waits for a dispatcher */
  gboolean    has_value;
  double      value;         /* major units (FtTaskValue.value) */
  char        reason[128];   /* "saves ~2.4 trips before 18:00, 9 min detour" */
  FtTime      eta;           /* estimated arrival of the assignee, -1 unknown */
  double      battery;       /* the vehicle's charge 0..1, NaN for none */
  guint32     warnings;      /* FtTaskWarning bits */
  char        assignee[40];  /* "Staff 3" / live staff id, "" for none */
  gint        stop;          /* position on the assignee's stop list (1 …), 0 none */
} FtSessionTask;
GArray       *ft_session_dup_tasks      (FtSession *self, guint max);   /* of FtSessionTask */
/* As the scenario's dispatcher; a task being done is refused. */
gboolean      ft_session_cancel_task    (FtSession *self, gint64 task, GError **error);
gboolean      ft_session_reassign_task  (FtSession *self, gint64 task, guint staff, GError **error);
/* Text details for the inspector (blocking, fast). */
char         *ft_session_describe_vehicle (FtSession *self, guint v);
char         *ft_session_describe_staff   (FtSession *self, guint s);
char         *ft_session_describe_zone    (FtSession *self, int zone);

/* The runs Compare Runs shows (FtRun, ft-run.h): every load names its run
 * "scenario · seed N · HH:MM"; the user can rename it. "runs-changed" is
 * emitted when a run is kept, removed or renamed, or the baseline changes. */
/* Keeps the current run for the results view (a run never played is not
 * kept); loading another scenario does this first. */
void          ft_session_archive_run    (FtSession *self);
GPtrArray    *ft_session_get_archive    (FtSession *self);   /* of FtRun*, oldest first */
/* Removes kept run id; FALSE when no kept run has it. */
gboolean      ft_session_remove_run     (FtSession *self, guint id);
/* The current run as a record (NULL if nothing is loaded). Caller frees. */
FtRun        *ft_session_dup_current_run (FtSession *self);
/* Renames a kept run or the current one (ft_run_check_name's rules);
 * FALSE with an error naming what is wrong, and nothing changed. */
gboolean      ft_session_rename_run     (FtSession *self, guint id, const char *name, GError **error);
/* The run differences are taken against (0: the first compared). */
guint         ft_session_get_baseline   (FtSession *self);
void          ft_session_set_baseline   (FtSession *self, guint id);

G_END_DECLS
