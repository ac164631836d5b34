/* ft-ops.h — the fleet-operations task queue: battery swaps, rebalancing to
 * a zone or point, collection for repair and deployment. A task has a kind,
 * a priority, a state (open → assigned → in_progress → done, or cancelled)
 * and, once assigned, a staff account. Only accounts with FT_PERM_FIELD_WORK
 * can be assigned; only accounts with FT_PERM_DISPATCH may create or assign
 * tasks by hand (rules inside the operator pass by = -1). Every change is a
 * domain event (FT_EV_TASK_*).
 */
#pragma once

#include "ft-fleet.h"
#include "ft-accounts.h"

G_BEGIN_DECLS

#define FT_OPS_ERROR (ft_ops_error_quark ())
GQuark ft_ops_error_quark (void);
typedef enum {
  FT_OPS_ERROR_NO_SUCH_TASK,
  FT_OPS_ERROR_PERMISSION,     /* actor may not dispatch / staff may not do field work */
  FT_OPS_ERROR_WRONG_STATE,    /* "task 17 is done; it cannot be assigned" */
  FT_OPS_ERROR_NOT_YOURS,      /* staff acting on a task assigned to someone else */
  FT_OPS_ERROR_DUPLICATE,      /* an open task of that kind exists for the vehicle */
  FT_OPS_ERROR_INVALID,
} FtOpsError;

typedef enum {
  FT_TASK_BATTERY_SWAP = 0,
  FT_TASK_REBALANCE,
  FT_TASK_COLLECT_REPAIR,
  FT_TASK_DEPLOY,
  FT_TASK_INSPECT,         /* a maintenance alert: check and service on the street */
  FT_N_TASK_KINDS
} FtTaskKind;

typedef enum {
  FT_TASK_OPEN = 0,
  FT_TASK_ASSIGNED,
  FT_TASK_IN_PROGRESS,
  FT_TASK_DONE,
  FT_TASK_CANCELLED,
  FT_N_TASK_STATES
} FtTaskState;

typedef struct {
  gint64      id;             /* == index */
  FtTaskKind  kind;
  FtTaskState state;
  gint        priority;       /* higher first */
  gint32      vehicle;        /* -1 for tasks not tied to one vehicle */
  gint32      staff;          /* assigned account or -1 */
  gint32      created_by;     /* dispatcher account or -1 (rule) */
  gint32      target_zone;    /* rebalance/deploy target zone or -1 */
  FtLatLon    target;         /* rebalance/deploy drop point (0,0 if none) */
  FtTime      created;
  FtTime      assigned_at;    /* -1 */
  FtTime      started_at;     /* -1 */
  FtTime      finished_at;    /* -1 */
} FtTask;

typedef struct _FtOps FtOps;

/* Borrows fleet and accounts; log may be NULL. */
FtOps        *ft_ops_new          (FtFleet *fleet, FtAccounts *accounts, FtEventLog *log);
void          ft_ops_free         (FtOps *ops);
void          ft_ops_set_event_log(FtOps *ops, FtEventLog *log);

/* Create a task; by = -1 for the operator's own rules, else an account with
 * FT_PERM_DISPATCH. Refuses a second unfinished task of the same kind for
 * the same vehicle. Returns the task id or -1 with an error. */
gint64        ft_ops_create       (FtOps *ops, FtTaskKind kind, gint32 vehicle, FtLatLon target,
                                   gint32 target_zone, gint priority, gint32 by, FtTime now,
                                   GError **error);
/* Assign an open (or reassign an assigned) task to `staff` (FT_PERM_FIELD_WORK).
 * by = -1 (rule) or an account with FT_PERM_DISPATCH. */
gboolean      ft_ops_assign       (FtOps *ops, gint64 task, guint staff, gint32 by, FtTime now,
                                   GError **error);
/* Back to open (staff went off shift). */
gboolean      ft_ops_unassign     (FtOps *ops, gint64 task, FtTime now, GError **error);
gboolean      ft_ops_start        (FtOps *ops, gint64 task, guint staff, FtTime now, GError **error);
gboolean      ft_ops_complete     (FtOps *ops, gint64 task, guint staff, FtTime now, GError **error);
/* Cancel an unfinished task; by = -1 (rule) or FT_PERM_DISPATCH. */
gboolean      ft_ops_cancel       (FtOps *ops, gint64 task, gint32 by, FtTime now, GError **error);

guint         ft_ops_n            (const FtOps *ops);
const FtTask *ft_ops_get          (const FtOps *ops, gint64 task);
/* The unfinished task of this kind for the vehicle, or -1. */
gint64        ft_ops_open_for     (const FtOps *ops, guint vehicle, FtTaskKind kind);
/* Number of tasks in a state. */
guint         ft_ops_count_state  (const FtOps *ops, FtTaskState s);
/* Ids of open tasks (unassigned), oldest first, into `out` (cleared). */
void          ft_ops_list_open    (const FtOps *ops, GArray *out);
/* The best open task for a staff member at `at`: highest priority, then
 * nearest (straight line); kind_mask = bit per FtTaskKind, 0 = all.
 * Returns -1 if none. */
gint64        ft_ops_best_open    (const FtOps *ops, FtLatLon at, guint32 kind_mask);

/* Spatial index of open tasks (at the vehicle's position when the task was
 * opened, or its target), for best_open_near. Enable before creating tasks. */
void          ft_ops_enable_index (FtOps *ops, FtBBox bounds, double cell_m);
/* Like best_open, among open tasks within radius_m of `at` (by their
 * indexed position); falls back to best_open when none is that near or no
 * index is enabled. Keeps picking cheap with many open tasks. */
gint64        ft_ops_best_open_near (const FtOps *ops, FtLatLon at, double radius_m,
                                     guint32 kind_mask);

/* Reload (store), into a queue that has only restored tasks: append a
 * task as it was, id == ft_ops_n. Refuses (FT_OPS_ERROR_INVALID or
 * _DUPLICATE, naming the task) a kind, state or vehicle out of range, an
 * open task with staff, and a second unfinished task of one kind for one
 * vehicle. Staff permissions are left to ft_ops_check. No events. */
gboolean      ft_ops_restore      (FtOps *ops, const FtTask *task, GError **error);

const char   *ft_task_kind_name   (FtTaskKind k);
const char   *ft_task_state_name  (FtTaskState s);
gboolean      ft_task_kind_from_name (const char *s, FtTaskKind *out);
/* Invariants: legal states; assigned/in-progress tasks have a field-work
 * staff member, open ones none; at most one unfinished task per
 * (vehicle, kind); the index agrees with the tasks. */
gboolean      ft_ops_check        (const FtOps *ops, GError **error);
/* The fleet the queue was made with (borrowed). */
FtFleet      *ft_ops_get_fleet    (const FtOps *ops);
/* May this account be given tasks (FT_PERM_FIELD_WORK)? */
gboolean      ft_ops_staff_can_work (const FtOps *ops, guint staff);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (FtOps, ft_ops_free)

G_END_DECLS
