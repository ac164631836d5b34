/* ft-ops.c — fleet-operations task queue. Tasks live in a dense array
 * (id == index); unassigned open tasks are also kept in an unordered set
 * (array + position per task) so picking work is O(open tasks); a hash
 * (vehicle, kind) -> task guards against duplicate unfinished tasks, a
 * bit per (vehicle, kind) beside it answering most asks without hashing.
 */
#include "ft-ops.h"
#include "ft-ops-value.h"

struct _FtOps {
  FtFleet    *fleet;
  FtAccounts *accounts;
  FtEventLog *log;
  GArray     *tasks;       /* FtTask */
  GArray     *open;        /* gint64 ids of FT_TASK_OPEN tasks, unordered */
  GArray     *open_pos;    /* gint32 per task: position in open, -1 */
  GHashTable *unfinished;  /* key (vehicle << 3 | kind) + 1 -> task id + 1 */
  GArray     *kinds_of;    /* guint8 per vehicle: bit k set when (vehicle, k) is in
                            * unfinished, so most asks skip the hash */
  /* open tasks by position, one grid per (priority, kind), highest
   * priority first; NULL when no index is enabled. Picking the best task
   * near a point then looks only at the highest priority present, nearest
   * first, instead of at every open task within the radius. */
  GArray     *buckets;     /* Bucket, sorted by priority, descending */
  FtBBox      index_bounds;
  double      index_cell_m;
  GArray     *values;      /* ValueSlot per task id, grown on demand; NULL until a value is set */
};

typedef struct {
  gboolean    set;
  FtTaskValue v;
} ValueSlot;

typedef struct {
  gint         priority;
  FtTaskKind   kind;
  FtGridIndex *grid;
} Bucket;

G_DEFINE_QUARK (ft-ops-error-quark, ft_ops_error)

static const char *kind_names[FT_N_TASK_KINDS] = {
  "battery_swap", "rebalance", "collect_repair", "deploy", "inspect"
};
static const char *state_names[FT_N_TASK_STATES] = {
  "open", "assigned", "in_progress", "done", "cancelled"
};

const char *
ft_task_kind_name (FtTaskKind k)
{
  return (guint) k < FT_N_TASK_KINDS ? kind_names[k] : "unknown";
}

static const char *approval_names[FT_N_TASK_APPROVALS] = { "none", "proposed", "approved" };

const char *
ft_task_approval_name (FtTaskApproval a)
{
  return (guint) a < FT_N_TASK_APPROVALS ? approval_names[a] : "unknown";
}

const char *
ft_task_state_name (FtTaskState s)
{
  return (guint) s < FT_N_TASK_STATES ? state_names[s] : "unknown";
}

gboolean
ft_task_kind_from_name (const char *s, FtTaskKind *out)
{
  g_return_val_if_fail (s != NULL, FALSE);
  for (guint i = 0; i < FT_N_TASK_KINDS; i++)
    if (g_strcmp0 (s, kind_names[i]) == 0)
      {
        if (out)
          *out = (FtTaskKind) i;
        return TRUE;
      }
  return FALSE;
}

FtOps *
ft_ops_new (FtFleet *fleet, FtAccounts *accounts, FtEventLog *log)
{
  g_return_val_if_fail (accounts != NULL, NULL);
  FtOps *ops = g_new0 (FtOps, 1);
  ops->fleet = fleet;
  ops->accounts = accounts;
  ops->log = log;
  ops->tasks = g_array_new (FALSE, FALSE, sizeof (FtTask));
  ops->open = g_array_new (FALSE, FALSE, sizeof (gint64));
  ops->open_pos = g_array_new (FALSE, FALSE, sizeof (gint32));
  ops->unfinished = g_hash_table_new (g_int64_hash, g_int64_equal);
  ops->kinds_of = g_array_new (FALSE, TRUE, sizeof (guint8));
  return ops;
}

void
ft_ops_free (FtOps *ops)
{
  if (ops == NULL)
    return;
  g_array_unref (ops->tasks);
  g_array_unref (ops->open);
  g_array_unref (ops->open_pos);
  GHashTableIter it;
  gpointer k;
  g_hash_table_iter_init (&it, ops->unfinished);
  while (g_hash_table_iter_next (&it, &k, NULL))
    g_free (k);
  g_hash_table_unref (ops->unfinished);
  g_array_unref (ops->kinds_of);
  if (ops->values)
    g_array_unref (ops->values);
  if (ops->buckets)
    {
      for (guint i = 0; i < ops->buckets->len; i++)
        ft_grid_index_free (g_array_index (ops->buckets, Bucket, i).grid);
      g_array_unref (ops->buckets);
    }
  g_free (ops);
}

void
ft_ops_set_event_log (FtOps *ops, FtEventLog *log)
{
  g_return_if_fail (ops != NULL);
  ops->log = log;
}

static FtTask *
task_at (const FtOps *ops, gint64 id)
{
  if (id < 0 || (guint64) id >= ops->tasks->len)
    return NULL;
  return &g_array_index (ops->tasks, FtTask, id);
}

static gint64
unfinished_key (gint32 vehicle, FtTaskKind kind)
{
  return ((gint64) vehicle << 3) | (gint64) kind;
}

G_STATIC_ASSERT (FT_N_TASK_KINDS <= 8);

/* Adds (vehicle, kind) -> task to the unfinished hash and its bit. */
static void
unfinished_add (FtOps *ops, gint32 vehicle, FtTaskKind kind, gint64 task)
{
  gint64 *key = g_new (gint64, 1);
  *key = unfinished_key (vehicle, kind);
  g_hash_table_insert (ops->unfinished, key, GSIZE_TO_POINTER ((gsize) task + 1));
  if ((guint) vehicle >= ops->kinds_of->len)
    g_array_set_size (ops->kinds_of, MAX ((guint) vehicle + 1, ops->kinds_of->len * 2));
  g_array_index (ops->kinds_of, guint8, vehicle) |= (guint8) (1u << kind);
}

static void
emit (FtOps *ops, FtEventKind kind, const FtTask *t, FtTime now)
{
  if (ops->log == NULL)
    return;
  FtEvent ev = ft_event_init (kind, now);
  ev.ref = t->id;
  ev.vehicle = t->vehicle;
  ev.account = t->staff;
  ev.a = (gint32) t->kind;
  ev.b = t->staff;
  ev.amount = t->state;
  ev.lat = t->target.lat;
  ev.lon = t->target.lon;
  ft_event_log_append (ops->log, &ev);
}

static FtLatLon
task_pos (const FtOps *ops, const FtTask *t)
{
  if (t->vehicle >= 0 && ops->fleet != NULL)
    return ft_fleet_get_vehicle (ops->fleet, (guint) t->vehicle)->pos;
  return t->target;
}

/* The index grid of a task's (priority, kind), made on first use. */
static FtGridIndex *
bucket_for (FtOps *ops, const FtTask *t)
{
  guint i = 0;
  for (; i < ops->buckets->len; i++)
    {
      Bucket *b = &g_array_index (ops->buckets, Bucket, i);
      if (b->priority == t->priority && b->kind == t->kind)
        return b->grid;
      if (b->priority < t->priority)
        break;
    }
  Bucket nb = { t->priority, t->kind, ft_grid_index_new (ops->index_bounds, ops->index_cell_m) };
  g_array_insert_val (ops->buckets, i, nb);
  return nb.grid;
}

static void
open_add (FtOps *ops, gint64 id)
{
  gint32 pos = (gint32) ops->open->len;
  g_array_append_val (ops->open, id);
  g_array_index (ops->open_pos, gint32, id) = pos;
  if (ops->buckets)
    {
      const FtTask *t = task_at (ops, id);
      ft_grid_index_insert (bucket_for (ops, t), (guint) id, task_pos (ops, t));
    }
}

static void
open_remove (FtOps *ops, gint64 id)
{
  gint32 pos = g_array_index (ops->open_pos, gint32, id);
  if (pos < 0)
    return;
  guint last = ops->open->len - 1;
  gint64 moved = g_array_index (ops->open, gint64, last);
  g_array_index (ops->open, gint64, pos) = moved;
  g_array_index (ops->open_pos, gint32, moved) = pos;
  g_array_set_size (ops->open, last);
  g_array_index (ops->open_pos, gint32, id) = -1;
  if (ops->buckets)
    ft_grid_index_remove (bucket_for (ops, task_at (ops, id)), (guint) id);
}

static gboolean
check_dispatcher (FtOps *ops, gint32 by, const char *what, GError **error)
{
  if (by < 0)
    return TRUE;
  g_autoptr (GError) local = NULL;
  if (!ft_accounts_can (ops->accounts, (guint) by, FT_PERM_DISPATCH, &local))
    {
      g_set_error (error, FT_OPS_ERROR, FT_OPS_ERROR_PERMISSION,
                   "account %d may not %s tasks: %s", by, what, local->message);
      return FALSE;
    }
  return TRUE;
}

static gint64 create (FtOps *ops, FtTaskKind kind, gint32 vehicle, FtLatLon target,
                      gint32 target_zone, gint priority, gint32 by, FtTaskApproval approval,
                      FtTime now, GError **error);

gint64
ft_ops_create (FtOps *ops, FtTaskKind kind, gint32 vehicle, FtLatLon target,
               gint32 target_zone, gint priority, gint32 by, FtTime now, GError **error)
{
  g_return_val_if_fail (ops != NULL, -1);
  return create (ops, kind, vehicle, target, target_zone, priority, by, FT_TASK_APPROVAL_NONE,
                 now, error);
}

gint64
ft_ops_propose (FtOps *ops, FtTaskKind kind, gint32 vehicle, FtLatLon target,
                gint32 target_zone, gint priority, FtTime now, GError **error)
{
  g_return_val_if_fail (ops != NULL, -1);
  return create (ops, kind, vehicle, target, target_zone, priority, -1, FT_TASK_PROPOSED, now,
                 error);
}

static gint64
create (FtOps *ops, FtTaskKind kind, gint32 vehicle, FtLatLon target, gint32 target_zone,
        gint priority, gint32 by, FtTaskApproval approval, FtTime now, GError **error)
{
  g_return_val_if_fail (ops != NULL, -1);
  if ((guint) kind >= FT_N_TASK_KINDS)
    {
      g_set_error (error, FT_OPS_ERROR, FT_OPS_ERROR_INVALID, "unknown task kind %d", (int) kind);
      return -1;
    }
  if (vehicle >= 0 && ops->fleet != NULL && (guint) vehicle >= ft_fleet_n_vehicles (ops->fleet))
    {
      g_set_error (error, FT_OPS_ERROR, FT_OPS_ERROR_INVALID,
                   "no vehicle with index %d for a %s task", vehicle, kind_names[kind]);
      return -1;
    }
  if (vehicle < 0 && kind != FT_TASK_DEPLOY)
    {
      g_set_error (error, FT_OPS_ERROR, FT_OPS_ERROR_INVALID,
                   "a %s task needs a vehicle", kind_names[kind]);
      return -1;
    }
  if (!check_dispatcher (ops, by, "create", error))
    return -1;
  if (vehicle >= 0)
    {
      gint64 key = unfinished_key (vehicle, kind);
      gpointer v = g_hash_table_lookup (ops->unfinished, &key);
      if (v != NULL)
        {
          g_set_error (error, FT_OPS_ERROR, FT_OPS_ERROR_DUPLICATE,
                       "vehicle %d already has unfinished %s task %" G_GINT64_FORMAT,
                       vehicle, kind_names[kind], (gint64) GPOINTER_TO_SIZE (v) - 1);
          return -1;
        }
    }
  FtTask t = { 0 };
  t.id = ops->tasks->len;
  t.kind = kind;
  t.state = FT_TASK_OPEN;
  t.priority = priority;
  t.vehicle = vehicle;
  t.staff = -1;
  t.created_by = by;
  t.target_zone = target_zone;
  t.target = target;
  t.created = now;
  t.assigned_at = t.started_at = t.finished_at = -1;
  t.approval = approval;
  t.approved_by = -1;
  t.approved_at = -1;
  g_array_append_val (ops->tasks, t);
  gint32 none = -1;
  g_array_append_val (ops->open_pos, none);
  open_add (ops, t.id);
  if (vehicle >= 0)
    {
      unfinished_add (ops, vehicle, kind, t.id);
    }
  emit (ops, approval == FT_TASK_PROPOSED ? FT_EV_TASK_PROPOSED : FT_EV_TASK_CREATED, &t, now);
  return t.id;
}

gboolean
ft_ops_restore (FtOps *ops, const FtTask *task, GError **error)
{
  g_return_val_if_fail (ops != NULL && task != NULL, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  if (task->id != (gint64) ops->tasks->len)
    {
      g_set_error (error, FT_OPS_ERROR, FT_OPS_ERROR_INVALID,
                   "restored task has id %" G_GINT64_FORMAT " but the next id is %u; "
                   "restore tasks in id order without gaps", task->id, ops->tasks->len);
      return FALSE;
    }
  if ((guint) task->kind >= FT_N_TASK_KINDS || (guint) task->state >= FT_N_TASK_STATES)
    {
      g_set_error (error, FT_OPS_ERROR, FT_OPS_ERROR_INVALID,
                   "restored task %" G_GINT64_FORMAT " has kind %d and state %d; "
                   "kinds go up to %d and states up to %d", task->id, (int) task->kind,
                   (int) task->state, FT_N_TASK_KINDS - 1, FT_N_TASK_STATES - 1);
      return FALSE;
    }
  if (task->vehicle < -1 ||
      (task->vehicle >= 0 && ops->fleet != NULL &&
       (guint) task->vehicle >= ft_fleet_n_vehicles (ops->fleet)) ||
      (task->vehicle < 0 && task->kind != FT_TASK_DEPLOY))
    {
      g_set_error (error, FT_OPS_ERROR, FT_OPS_ERROR_INVALID,
                   "restored %s task %" G_GINT64_FORMAT " names vehicle %d, which %s",
                   kind_names[task->kind], task->id, task->vehicle,
                   task->vehicle < 0 ? "a task of that kind needs" : "does not exist");
      return FALSE;
    }
  if ((guint) task->approval >= FT_N_TASK_APPROVALS ||
      (task->approval == FT_TASK_PROPOSED &&
       task->state != FT_TASK_OPEN && task->state != FT_TASK_CANCELLED))
    {
      g_set_error (error, FT_OPS_ERROR, FT_OPS_ERROR_INVALID,
                   "restored task %" G_GINT64_FORMAT " has approval %d while %s; approvals go "
                   "up to %d and only an open or cancelled task may wait for approval",
                   task->id, (int) task->approval, state_names[task->state],
                   FT_N_TASK_APPROVALS - 1);
      return FALSE;
    }
  if (task->staff < -1 || (task->state == FT_TASK_OPEN && task->staff != -1))
    {
      g_set_error (error, FT_OPS_ERROR, FT_OPS_ERROR_INVALID,
                   "restored task %" G_GINT64_FORMAT " is %s but names staff %d",
                   task->id, state_names[task->state], task->staff);
      return FALSE;
    }
  gboolean unfinished = task->state < FT_TASK_DONE;
  if (unfinished && task->vehicle >= 0)
    {
      gint64 other = ft_ops_open_for (ops, (guint) task->vehicle, task->kind);
      if (other >= 0)
        {
          g_set_error (error, FT_OPS_ERROR, FT_OPS_ERROR_DUPLICATE,
                       "restored task %" G_GINT64_FORMAT ": vehicle %d already has unfinished "
                       "%s task %" G_GINT64_FORMAT, task->id, task->vehicle,
                       kind_names[task->kind], other);
          return FALSE;
        }
    }

  g_array_append_val (ops->tasks, *task);
  gint32 none = -1;
  g_array_append_val (ops->open_pos, none);
  if (task->state == FT_TASK_OPEN)
    open_add (ops, task->id);
  if (unfinished && task->vehicle >= 0)
    {
      unfinished_add (ops, task->vehicle, task->kind, task->id);
    }
  return TRUE;
}

static FtTask *
lookup (FtOps *ops, gint64 id, GError **error)
{
  FtTask *t = task_at (ops, id);
  if (t == NULL)
    g_set_error (error, FT_OPS_ERROR, FT_OPS_ERROR_NO_SUCH_TASK,
                 "no task with id %" G_GINT64_FORMAT, id);
  return t;
}

static gboolean
wrong_state (const FtTask *t, const char *action, GError **error)
{
  g_set_error (error, FT_OPS_ERROR, FT_OPS_ERROR_WRONG_STATE,
               "task %" G_GINT64_FORMAT " (%s) is %s; it cannot be %s",
               t->id, kind_names[t->kind], state_names[t->state], action);
  return FALSE;
}

gboolean
ft_ops_assign (FtOps *ops, gint64 task, guint staff, gint32 by, FtTime now, GError **error)
{
  g_return_val_if_fail (ops != NULL, FALSE);
  FtTask *t = lookup (ops, task, error);
  if (t == NULL)
    return FALSE;
  if (t->state != FT_TASK_OPEN && t->state != FT_TASK_ASSIGNED)
    return wrong_state (t, "assigned", error);
  if (t->approval == FT_TASK_PROPOSED)
    {
      g_set_error (error, FT_OPS_ERROR, FT_OPS_ERROR_WRONG_STATE,
                   "task %" G_GINT64_FORMAT " (%s) is a proposal; a dispatcher must approve "
                   "it before it is assigned", t->id, kind_names[t->kind]);
      return FALSE;
    }
  if (!check_dispatcher (ops, by, "assign", error))
    return FALSE;
  g_autoptr (GError) local = NULL;
  if (!ft_accounts_can (ops->accounts, staff, FT_PERM_FIELD_WORK, &local))
    {
      g_set_error (error, FT_OPS_ERROR, FT_OPS_ERROR_PERMISSION,
                   "task %" G_GINT64_FORMAT " cannot go to account %u: %s",
                   task, staff, local->message);
      return FALSE;
    }
  open_remove (ops, task);
  t->state = FT_TASK_ASSIGNED;
  t->staff = (gint32) staff;
  t->assigned_at = now;
  emit (ops, FT_EV_TASK_ASSIGNED, t, now);
  return TRUE;
}

gboolean
ft_ops_approve (FtOps *ops, gint64 task, gint32 by, FtTime now, GError **error)
{
  g_return_val_if_fail (ops != NULL, FALSE);
  FtTask *t = lookup (ops, task, error);
  if (t == NULL)
    return FALSE;
  if (t->approval != FT_TASK_PROPOSED || t->state != FT_TASK_OPEN)
    {
      g_set_error (error, FT_OPS_ERROR, FT_OPS_ERROR_WRONG_STATE,
                   "task %" G_GINT64_FORMAT " (%s) is %s and %s; only an open proposal can be "
                   "approved", t->id, kind_names[t->kind], state_names[t->state],
                   t->approval == FT_TASK_APPROVED ? "already approved" : "not a proposal");
      return FALSE;
    }
  if (!check_dispatcher (ops, by, "approve", error))
    return FALSE;
  t->approval = FT_TASK_APPROVED;
  t->approved_by = by;
  t->approved_at = now;
  if (ops->log)
    {
      FtEvent ev = ft_event_init (FT_EV_TASK_APPROVED, now);
      ev.ref = t->id;
      ev.vehicle = t->vehicle;
      ev.account = by;
      ev.a = (gint32) t->kind;
      ev.amount = t->state;
      ev.lat = t->target.lat;
      ev.lon = t->target.lon;
      ft_event_log_append (ops->log, &ev);
    }
  return TRUE;
}

gboolean
ft_ops_unassign (FtOps *ops, gint64 task, FtTime now, GError **error)
{
  g_return_val_if_fail (ops != NULL, FALSE);
  FtTask *t = lookup (ops, task, error);
  if (t == NULL)
    return FALSE;
  if (t->state != FT_TASK_ASSIGNED && t->state != FT_TASK_IN_PROGRESS)
    return wrong_state (t, "unassigned", error);
  t->state = FT_TASK_OPEN;
  t->staff = -1;
  t->assigned_at = t->started_at = -1;
  open_add (ops, task);
  emit (ops, FT_EV_TASK_ASSIGNED, t, now);
  return TRUE;
}

static gboolean
check_mine (const FtTask *t, guint staff, GError **error)
{
  if (t->staff != (gint32) staff)
    {
      g_set_error (error, FT_OPS_ERROR, FT_OPS_ERROR_NOT_YOURS,
                   "task %" G_GINT64_FORMAT " is assigned to account %d, not %u",
                   t->id, t->staff, staff);
      return FALSE;
    }
  return TRUE;
}

gboolean
ft_ops_start (FtOps *ops, gint64 task, guint staff, FtTime now, GError **error)
{
  g_return_val_if_fail (ops != NULL, FALSE);
  FtTask *t = lookup (ops, task, error);
  if (t == NULL)
    return FALSE;
  if (t->state != FT_TASK_ASSIGNED)
    return wrong_state (t, "started", error);
  if (!check_mine (t, staff, error))
    return FALSE;
  t->state = FT_TASK_IN_PROGRESS;
  t->started_at = now;
  emit (ops, FT_EV_TASK_ASSIGNED, t, now);
  return TRUE;
}

static void
finish (FtOps *ops, FtTask *t, FtTaskState st, FtTime now)
{
  open_remove (ops, t->id);
  t->state = st;
  t->finished_at = now;
  if (t->vehicle >= 0)
    {
      gint64 key = unfinished_key (t->vehicle, t->kind);
      gpointer orig = NULL;
      if (g_hash_table_lookup_extended (ops->unfinished, &key, &orig, NULL))
        {
          g_hash_table_remove (ops->unfinished, &key);
          g_free (orig);
          g_array_index (ops->kinds_of, guint8, t->vehicle) &= (guint8) ~(1u << t->kind);
        }
    }
  emit (ops, st == FT_TASK_DONE ? FT_EV_TASK_DONE : FT_EV_TASK_CANCELLED, t, now);
}

gboolean
ft_ops_complete (FtOps *ops, gint64 task, guint staff, FtTime now, GError **error)
{
  g_return_val_if_fail (ops != NULL, FALSE);
  FtTask *t = lookup (ops, task, error);
  if (t == NULL)
    return FALSE;
  if (t->state != FT_TASK_IN_PROGRESS && t->state != FT_TASK_ASSIGNED)
    return wrong_state (t, "completed", error);
  if (!check_mine (t, staff, error))
    return FALSE;
  if (t->started_at < 0)
    t->started_at = now;
  finish (ops, t, FT_TASK_DONE, now);
  return TRUE;
}

gboolean
ft_ops_cancel (FtOps *ops, gint64 task, gint32 by, FtTime now, GError **error)
{
  g_return_val_if_fail (ops != NULL, FALSE);
  FtTask *t = lookup (ops, task, error);
  if (t == NULL)
    return FALSE;
  if (t->state == FT_TASK_DONE || t->state == FT_TASK_CANCELLED)
    return wrong_state (t, "cancelled", error);
  if (!check_dispatcher (ops, by, "cancel", error))
    return FALSE;
  finish (ops, t, FT_TASK_CANCELLED, now);
  return TRUE;
}

guint
ft_ops_n (const FtOps *ops)
{
  g_return_val_if_fail (ops != NULL, 0);
  return ops->tasks->len;
}

const FtTask *
ft_ops_get (const FtOps *ops, gint64 task)
{
  g_return_val_if_fail (ops != NULL, NULL);
  return task_at (ops, task);
}

gint64
ft_ops_open_for (const FtOps *ops, guint vehicle, FtTaskKind kind)
{
  g_return_val_if_fail (ops != NULL, -1);
  if ((guint) kind < FT_N_TASK_KINDS
      && (vehicle >= ops->kinds_of->len || !(g_array_index (ops->kinds_of, guint8, vehicle) & (1u << kind))))
    return -1;    /* no unfinished task of the kind: the hash would say so too */
  gint64 key = unfinished_key ((gint32) vehicle, kind);
  gpointer v = g_hash_table_lookup (ops->unfinished, &key);
  return v ? (gint64) GPOINTER_TO_SIZE (v) - 1 : -1;
}

guint
ft_ops_count_state (const FtOps *ops, FtTaskState s)
{
  g_return_val_if_fail (ops != NULL, 0);
  if (s == FT_TASK_OPEN)
    return ops->open->len;
  guint n = 0;
  for (guint i = 0; i < ops->tasks->len; i++)
    if (g_array_index (ops->tasks, FtTask, i).state == s)
      n++;
  return n;
}

static gint
cmp_i64 (gconstpointer a, gconstpointer b)
{
  gint64 x = *(const gint64 *) a, y = *(const gint64 *) b;
  return x < y ? -1 : x > y;
}

void
ft_ops_list_open (const FtOps *ops, GArray *out)
{
  g_return_if_fail (ops != NULL && out != NULL);
  g_array_set_size (out, 0);
  g_array_append_vals (out, ops->open->data, ops->open->len);
  g_array_sort (out, cmp_i64);
}

typedef struct {
  const FtOps     *ops;
  const FtVehicle *vs;
  FtLatLon         at;
  gint64           best;
  double           best_d;
  /* a lower bound on ft_distance_fast_m (at, p) without its cosine, for
   * p within a degree of latitude farther from the equator than at: the
   * cosine of the mean latitude is at least cos_lo there */
  double           cos_lo, lat_lim, skip2;
} OpenBest;

#define OPEN_R_M 6371008.8            /* ft_distance_fast_m's radius and radians */
#define OPEN_RAD (G_PI / 180.0)

static void
open_best_init (OpenBest *c, const FtOps *ops, FtLatLon at)
{
  *c = (OpenBest) { ops, ops->fleet ? ft_fleet_vehicles (ops->fleet) : NULL, at, -1, 0, 0, -1, INFINITY };
  if (fabs (at.lat) + 1.0 < 89.0)
    {
      c->lat_lim = fabs (at.lat) + 1.0;
      c->cos_lo = cos (c->lat_lim * OPEN_RAD);
    }
}

static gboolean
open_best_visit (guint id, FtLatLon pos, double unused, gpointer user_data)
{
  OpenBest *c = user_data;
  const FtTask *t = task_at (c->ops, id);
  if (t->approval == FT_TASK_PROPOSED)
    return TRUE;
  FtLatLon p = (t->vehicle >= 0 && c->vs) ? c->vs[t->vehicle].pos : t->target;
  if (fabs (p.lat) <= c->lat_lim)
    {
      /* farther than the best by more than rounding: not the answer (ties
       * and near-ties take the distance itself) */
      double dy = (p.lat - c->at.lat) * OPEN_RAD, dx = (p.lon - c->at.lon) * OPEN_RAD * c->cos_lo;
      if ((dx * dx + dy * dy) * (OPEN_R_M * OPEN_R_M) > c->skip2)
        return TRUE;
    }
  double d = ft_distance_fast_m (c->at, p);
  if (c->best < 0 || d < c->best_d || (d == c->best_d && (gint64) id < c->best))
    {
      c->best = id;
      c->best_d = d;
      c->skip2 = d * d * (1.0 + 1e-9) + 1e-9;
    }
  return TRUE;
}

/* ft_ops_best_open through the (priority, kind) buckets: priorities from
 * the highest down, only the kinds asked for, and within the first
 * priority that has a task the nearest by the same distance (to the
 * vehicle's position now, not the indexed one), then the lowest id. The
 * same answer as the scan of every open task below, without reading the
 * tasks of lower priorities and other kinds. */
static gint64
best_open_bucketed (const FtOps *ops, FtLatLon at, guint32 kind_mask)
{
  guint i = 0;
  while (i < ops->buckets->len)
    {
      gint prio = g_array_index (ops->buckets, Bucket, i).priority;
      OpenBest c;
      open_best_init (&c, ops, at);
      for (; i < ops->buckets->len && g_array_index (ops->buckets, Bucket, i).priority == prio; i++)
        {
          const Bucket *b = &g_array_index (ops->buckets, Bucket, i);
          if ((kind_mask == 0 || (kind_mask & (1u << b->kind))) && ft_grid_index_size (b->grid) > 0)
            ft_grid_index_foreach (b->grid, open_best_visit, &c);
        }
      if (c.best >= 0)
        return c.best;
    }
  return -1;
}

gint64
ft_ops_best_open (const FtOps *ops, FtLatLon at, guint32 kind_mask)
{
  g_return_val_if_fail (ops != NULL, -1);
  if (ops->buckets != NULL)
    return best_open_bucketed (ops, at, kind_mask);
  gint64 best = -1;
  gint best_prio = G_MININT;
  double best_d = 0;
  const FtVehicle *vs = ops->fleet ? ft_fleet_vehicles (ops->fleet) : NULL;
  for (guint i = 0; i < ops->open->len; i++)
    {
      gint64 id = g_array_index (ops->open, gint64, i);
      const FtTask *t = task_at (ops, id);
      if ((kind_mask != 0 && !(kind_mask & (1u << t->kind))) || t->approval == FT_TASK_PROPOSED)
        continue;
      FtLatLon p = (t->vehicle >= 0 && vs) ? vs[t->vehicle].pos : t->target;
      double d = ft_distance_fast_m (at, p);
      if (best < 0 || t->priority > best_prio
          || (t->priority == best_prio && (d < best_d || (d == best_d && id < best))))
        {
          best = id;
          best_prio = t->priority;
          best_d = d;
        }
    }
  return best;
}

void
ft_ops_enable_index (FtOps *ops, FtBBox bounds, double cell_m)
{
  g_return_if_fail (ops != NULL && cell_m > 0);
  if (ops->buckets)
    {
      for (guint i = 0; i < ops->buckets->len; i++)
        ft_grid_index_free (g_array_index (ops->buckets, Bucket, i).grid);
      g_array_unref (ops->buckets);
    }
  ops->buckets = g_array_new (FALSE, FALSE, sizeof (Bucket));
  ops->index_bounds = bounds;
  ops->index_cell_m = cell_m;
  for (guint i = 0; i < ops->open->len; i++)
    {
      gint64 id = g_array_index (ops->open, gint64, i);
      const FtTask *t = task_at (ops, id);
      ft_grid_index_insert (bucket_for (ops, t), (guint) id, task_pos (ops, t));
    }
}

typedef struct {
  gint64 best;
  double dist;
} NearCtx;

/* Within radius_m of at (by indexed position): the open task of the
 * highest priority, then the nearest, then the lowest id — what a visit of
 * every open task within the radius would choose. Each (priority, kind)
 * grid is searched ring by ring outward (ft_grid_index_nearest: the
 * nearest within the radius, ties to the lowest id). */
static gint64
best_indexed (const FtOps *ops, FtLatLon at, double radius_m, guint32 kind_mask)
{
  guint i = 0;
  while (i < ops->buckets->len)
    {
      gint prio = g_array_index (ops->buckets, Bucket, i).priority;
      NearCtx best = { -1, 0 };
      for (; i < ops->buckets->len && g_array_index (ops->buckets, Bucket, i).priority == prio; i++)
        {
          const Bucket *b = &g_array_index (ops->buckets, Bucket, i);
          if ((kind_mask != 0 && !(kind_mask & (1u << b->kind))) || ft_grid_index_size (b->grid) == 0)
            continue;
          NearCtx c = { -1, 0 };
          c.best = ft_grid_index_nearest (b->grid, at, radius_m, NULL, NULL, &c.dist);
          if (c.best >= 0 && (best.best < 0 || c.dist < best.dist || (c.dist == best.dist && c.best < best.best)))
            best = c;
        }
      if (best.best >= 0)
        return best.best;
    }
  return -1;
}

gint64
ft_ops_best_open_near (const FtOps *ops, FtLatLon at, double radius_m, guint32 kind_mask)
{
  g_return_val_if_fail (ops != NULL, -1);
  if (ops->buckets != NULL && radius_m > 0)
    {
      gint64 id = best_indexed (ops, at, radius_m, kind_mask);
      if (id >= 0)
        return id;
    }
  return ft_ops_best_open (ops, at, kind_mask);
}

static guint
indexed_size (const FtOps *ops)
{
  guint n = 0;
  for (guint i = 0; i < ops->buckets->len; i++)
    n += ft_grid_index_size (g_array_index (ops->buckets, Bucket, i).grid);
  return n;
}

gboolean
ft_ops_check (const FtOps *ops, GError **error)
{
  g_return_val_if_fail (ops != NULL, FALSE);
  guint n_open = 0, n_unfinished_vehicle = 0;
  for (guint i = 0; i < ops->tasks->len; i++)
    {
      const FtTask *t = &g_array_index (ops->tasks, FtTask, i);
      gint32 pos = g_array_index (ops->open_pos, gint32, i);
      if ((guint) t->state >= FT_N_TASK_STATES || (guint) t->kind >= FT_N_TASK_KINDS || t->id != (gint64) i)
        {
          g_set_error (error, FT_OPS_ERROR, FT_OPS_ERROR_INVALID, "task %u has an illegal state or kind", i);
          return FALSE;
        }
      if ((t->state == FT_TASK_OPEN) != (pos >= 0)
          || (pos >= 0 && ((guint) pos >= ops->open->len || g_array_index (ops->open, gint64, pos) != (gint64) i)))
        {
          g_set_error (error, FT_OPS_ERROR, FT_OPS_ERROR_INVALID,
                       "task %u is %s but the open index disagrees", i, state_names[t->state]);
          return FALSE;
        }
      if (t->state == FT_TASK_OPEN)
        {
          n_open++;
          if (t->staff != -1)
            {
              g_set_error (error, FT_OPS_ERROR, FT_OPS_ERROR_INVALID,
                           "open task %u names staff %d", i, t->staff);
              return FALSE;
            }
        }
      if ((guint) t->approval >= FT_N_TASK_APPROVALS ||
          (t->approval == FT_TASK_PROPOSED && t->state != FT_TASK_OPEN &&
           t->state != FT_TASK_CANCELLED))
        {
          g_set_error (error, FT_OPS_ERROR, FT_OPS_ERROR_INVALID,
                       "task %u is %s but its approval is %s", i, state_names[t->state],
                       ft_task_approval_name (t->approval));
          return FALSE;
        }
      if (t->state == FT_TASK_ASSIGNED || t->state == FT_TASK_IN_PROGRESS)
        {
          if (t->staff < 0 || !ft_accounts_can (ops->accounts, (guint) t->staff, FT_PERM_FIELD_WORK, NULL))
            {
              g_set_error (error, FT_OPS_ERROR, FT_OPS_ERROR_PERMISSION,
                           "task %u is %s by account %d, which may not do field work",
                           i, state_names[t->state], t->staff);
              return FALSE;
            }
        }
      gboolean unfinished = t->state < FT_TASK_DONE;
      if (t->vehicle >= 0 && unfinished)
        {
          n_unfinished_vehicle++;
          if (ft_ops_open_for (ops, (guint) t->vehicle, t->kind) != (gint64) i)
            {
              g_set_error (error, FT_OPS_ERROR, FT_OPS_ERROR_DUPLICATE,
                           "task %u: vehicle %d has another unfinished %s task", i, t->vehicle,
                           kind_names[t->kind]);
              return FALSE;
            }
        }
    }
  guint n_bits = 0;    /* a bit per unfinished (vehicle, kind), no stale one */
  for (guint v = 0; v < ops->kinds_of->len; v++)
    n_bits += (guint) __builtin_popcount (g_array_index (ops->kinds_of, guint8, v));
  if (n_open != ops->open->len || n_unfinished_vehicle != g_hash_table_size (ops->unfinished)
      || n_bits != n_unfinished_vehicle
      || (ops->buckets && indexed_size (ops) != n_open))
    {
      g_set_error (error, FT_OPS_ERROR, FT_OPS_ERROR_INVALID, "task indexes disagree with the tasks");
      return FALSE;
    }
  return TRUE;
}

gboolean
ft_ops_set_value (FtOps *ops, gint64 task, const FtTaskValue *value, GError **error)
{
  g_return_val_if_fail (ops != NULL && value != NULL, FALSE);
  if (task_at (ops, task) == NULL)
    {
      g_set_error (error, FT_OPS_ERROR, FT_OPS_ERROR_NO_SUCH_TASK,
                   "no task %" G_GINT64_FORMAT " to value", task);
      return FALSE;
    }
  if (ops->values == NULL)
    ops->values = g_array_new (FALSE, TRUE, sizeof (ValueSlot));
  if ((guint64) task >= ops->values->len)
    g_array_set_size (ops->values, ops->tasks->len);
  ValueSlot *slot = &g_array_index (ops->values, ValueSlot, task);
  slot->set = TRUE;
  slot->v = *value;
  return TRUE;
}

const FtTaskValue *
ft_ops_get_value (const FtOps *ops, gint64 task)
{
  g_return_val_if_fail (ops != NULL, NULL);
  if (ops->values == NULL || task < 0 || (guint64) task >= ops->values->len)
    return NULL;
  const ValueSlot *slot = &g_array_index (ops->values, ValueSlot, task);
  return slot->set ? &slot->v : NULL;
}

static gint
cmp_rank (gconstpointer a, gconstpointer b, gpointer data)
{
  const FtOps *ops = data;
  gint64 x = *(const gint64 *) a, y = *(const gint64 *) b;
  const FtTaskValue *vx = ft_ops_get_value (ops, x), *vy = ft_ops_get_value (ops, y);
  if ((vx != NULL) != (vy != NULL))
    return vx != NULL ? -1 : 1;
  if (vx != NULL && vx->value_per_minute != vy->value_per_minute)
    return vx->value_per_minute > vy->value_per_minute ? -1 : 1;
  return (x > y) - (x < y);
}

void
ft_ops_rank_open (const FtOps *ops, GArray *out)
{
  g_return_if_fail (ops != NULL && out != NULL);
  g_array_set_size (out, 0);
  g_array_append_vals (out, ops->open->data, ops->open->len);
  g_array_sort_with_data (out, cmp_rank, (gpointer) ops);
}

FtFleet *
ft_ops_get_fleet (const FtOps *ops)
{
  g_return_val_if_fail (ops != NULL, NULL);
  return ops->fleet;
}

gboolean
ft_ops_staff_can_work (const FtOps *ops, guint staff)
{
  g_return_val_if_fail (ops != NULL, FALSE);
  return ft_accounts_can (ops->accounts, staff, FT_PERM_FIELD_WORK, NULL);
}
