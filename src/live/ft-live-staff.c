/* ft-live-staff.c — field staff in live mode: positions and task progress
 * from staff apps (unknown identities refused or provisioned, field-work
 * accounts only), task assignments handed to the outbox and followed
 * through acks and progress into the twin's task queue (FtOps).
 */
#include "ft-live-private.h"

#include <string.h>
#include <stdio.h>
#include <errno.h>

static gboolean twin_task_ref (const Fields *o);
static gboolean refuse_task (FtLive *live, FtTime now, const char *topic, GError **error,
                             const char *reason);
static gboolean ingest_task_update (FtLive *live, const char *topic, guint si, const Fields *o,
                                    FtTime ts, FtTime now, GError **error);

void
ft_live_log_staff_moved (FtLive *live, FtLiveStaff *s, FtTime now)
{
  FtEvent ev = ft_event_init (FT_EV_STAFF_MOVED, now);
  ev.account = s->account;
  ev.lat = s->pos.lat;
  ev.lon = s->pos.lon;
  ft_event_log_append (live->core->log, &ev);
  s->last_logged = now;
  s->unlogged = FALSE;
}

gboolean
ft_live_ingest_staff (FtLive *live, const char *topic, const char *id, const char *what,
              const Fields *o, FtTime now, GError **error)
{
  const char *why = NULL;
  FtTime ts;
  if (!ft_live_read_timestamp (live, o, now, &ts, &why))
    return ft_live_refuse (live, now, topic, error, why);
  gpointer idx = g_hash_table_lookup (live->staff_index, id);
  guint si;
  if (idx == NULL && strcmp (what, "task") == 0 && twin_task_ref (o))
    return refuse_task (live, now, topic, error,
                        "task update from a staff member the twin has not heard of");
  if (idx == NULL)
    {
      gint account = -1;
      guint a;
      FtAccounts *acc = live->core->accounts;
      if (acc && ft_accounts_lookup_id (acc, id, &a))
        {
          if (!ft_accounts_can (acc, a, FT_PERM_FIELD_WORK, NULL))
            return ft_live_refuse_unknown (live, now, topic, error, FT_LIVE_ERROR_UNKNOWN_STAFF,
                                   "account is not a field-staff account");
          account = (gint) a;
        }
      else if (live->cfg.unknown == FT_LIVE_UNKNOWN_REFUSE || acc == NULL)
        return ft_live_refuse_unknown (live, now, topic, error, FT_LIVE_ERROR_UNKNOWN_STAFF,
                               "unknown staff member (provisioning of unknown staff is off)");
      else if (!ft_live_take_provision_token (live, now))
        return ft_live_refuse_unknown (live, now, topic, error, FT_LIVE_ERROR_UNKNOWN_STAFF,
                               "unknown staff member not provisioned: provisioning rate limit reached");
      else
        {
          g_autofree char *name = g_strdup_printf ("staff %s", id);
          account = ft_accounts_create (acc, FT_ROLE_FIELD, name, NULL, now, NULL);
          if (account < 0)
            return ft_live_refuse_unknown (live, now, topic, error, FT_LIVE_ERROR_UNKNOWN_STAFF,
                                   "unknown staff member: no account could be created");
          live->stats.staff_provisioned++;
        }
      FtLiveStaff s = { 0 };
      g_strlcpy (s.id, id, sizeof s.id);
      s.account = account;
      s.pos = (FtLatLon) { NAN, NAN };
      s.last_ts = -1;
      s.last_logged = G_MININT64;
      s.task_ts = -1;
      s.packs = -1;
      s.shift_end = -1;
      g_array_append_val (live->staff, s);
      si = live->staff->len - 1;
      g_hash_table_insert (live->staff_index, g_strdup (id), GUINT_TO_POINTER (si + 1));
    }
  else
    si = GPOINTER_TO_UINT (idx) - 1;
  FtLiveStaff *s = &g_array_index (live->staff, FtLiveStaff, si);

  if (strcmp (what, "position") == 0 || strcmp (what, "status") == 0)
    {
      PosField pf = { { 0, 0 }, FALSE };
      if (!ft_live_read_position (o, &pf, &why))
        return ft_live_refuse (live, now, topic, error, why);
      if (!pf.has_pos)
        return ft_live_refuse (live, now, topic, error, "staff position needs lat and lon");
      /* the van's record, optional: charged packs on board, end of shift */
      gboolean bad = FALSE;
      gint64 packs = -1, shift_end = -1;
      if (ft_live_fields_int64 (o, "packs", &packs, &bad) && !bad && (packs < 0 || packs > 1000))
        bad = TRUE;
      if (bad)
        return ft_live_refuse (live, now, topic, error,
                               "staff position: field packs must be an integer from 0 to 1000");
      if (ft_live_fields_int64 (o, "shift_end", &shift_end, &bad) && !bad &&
          (shift_end < 0 || shift_end > ts + FT_DAY))
        bad = TRUE;
      if (bad)
        return ft_live_refuse (live, now, topic, error,
                               "staff position: field shift_end must be a time in ms, at most a day "
                               "after the timestamp");
      if (ts <= s->last_ts)
        {
          if (ts == s->last_ts)
            live->stats.duplicates++;
          else
            live->stats.stale++;
          return TRUE;
        }
      s->last_ts = ts;
      s->pos = pf.pos;
      if (packs >= 0)
        s->packs = (gint) packs;
      if (shift_end >= 0)
        s->shift_end = shift_end;
      if (s->last_logged == G_MININT64 || now - s->last_logged >= live->cfg.staff_every)
        ft_live_log_staff_moved (live, s, now);
      else
        s->unlogged = TRUE;
    }
  else if (twin_task_ref (o))
    return ingest_task_update (live, topic, si, o, ts, now, error);
  else /* task: the staff app's own label, shown only */
    {
      gboolean bad = FALSE;
      const char *task = ft_live_fields_string (o, "task_id", &bad);
      const char *status = ft_live_fields_string (o, "status", &bad);
      static const char *const ok[] = { "assigned", "accepted", "started", "done", "cancelled", "failed" };
      gboolean known = FALSE;
      for (guint k = 0; status && k < G_N_ELEMENTS (ok); k++)
        known |= strcmp (status, ok[k]) == 0;
      if (bad || task == NULL || !known || strlen (task) >= sizeof s->task_id)
        return ft_live_refuse (live, now, topic, error,
                       "task update needs task_id (string, < 40 chars) and status "
                       "(assigned/accepted/started/done/cancelled/failed)");
      if (ts < s->task_ts)
        {
          live->stats.stale++;
          return TRUE;
        }
      s->task_ts = ts;
      g_strlcpy (s->task_id, task, sizeof s->task_id);
      g_strlcpy (s->task_status, status, sizeof s->task_status);
    }
  live->stats.staff++;
  live->stats.applied++;
  return TRUE;
}

/* ------------------------------------------------ staff task assignment */

static gboolean
refuse_task (FtLive *live, FtTime now, const char *topic, GError **error, const char *reason)
{
  live->stats.task_refused++;
  return ft_live_refuse (live, now, topic, error, reason);
}

void
ft_live_set_ops (FtLive *live, FtOps *ops)
{
  g_return_if_fail (live != NULL);
  live->ops = ops;
}

FtOps *
ft_live_get_ops (FtLive *live)
{
  g_return_val_if_fail (live != NULL, NULL);
  return live->ops;
}

/* The staff refused or never confirmed: a task still only assigned to them
 * goes back to open so another can take it. */
void
ft_live_release_task (FtLive *live, const FtLiveAssignment *a, FtTime now)
{
  if (live->ops == NULL || a->staff >= live->staff->len)
    return;
  const FtTask *t = ft_ops_get (live->ops, a->task);
  gint account = g_array_index (live->staff, FtLiveStaff, a->staff).account;
  if (t && t->state == FT_TASK_ASSIGNED && t->staff == account)
    ft_ops_unassign (live->ops, a->task, now, NULL);
}

const char *
ft_live_assign_task (FtLive *live, gint64 task, guint staff, gint32 by, FtTime now, FtTime ttl,
                     GError **error)
{
  g_return_val_if_fail (live != NULL, NULL);
  if (live->ops == NULL)
    {
      g_set_error (error, FT_LIVE_ERROR, FT_LIVE_ERROR_NO_TASK_QUEUE,
                   "live mode has no task queue attached (ft_live_set_ops)");
      return NULL;
    }
  if (staff >= live->staff->len)
    {
      g_set_error (error, FT_LIVE_ERROR, FT_LIVE_ERROR_UNKNOWN_STAFF,
                   "no live staff member with index %u (%u have reported)", staff,
                   live->staff->len);
      return NULL;
    }
  const FtLiveStaff *s = &g_array_index (live->staff, FtLiveStaff, staff);
  if (s->account < 0)
    {
      g_set_error (error, FT_LIVE_ERROR, FT_LIVE_ERROR_UNKNOWN_STAFF,
                   "staff %s has no account in the twin; cannot assign tasks", s->id);
      return NULL;
    }
  if (!ft_ops_assign (live->ops, task, (guint) s->account, by, now, error))
    return NULL;
  const FtTask *t = ft_ops_get (live->ops, task);
  FtOutItem x = { .kind = FT_OUT_ASSIGNMENT };
  FtLiveAssignment *a = &x.u.a;
  g_snprintf (a->id, sizeof a->id, "task-%s-%" G_GUINT64_FORMAT, live->id_tag,
              ++live->outbox.next_id[FT_OUT_ASSIGNMENT]);
  a->task = task;
  a->kind = t->kind;
  a->staff = staff;
  g_strlcpy (a->staff_id, s->id, sizeof a->staff_id);
  a->vehicle = t->vehicle;
  a->target = (FtLatLon) { NAN, NAN };
  if (t->vehicle >= 0 && (guint) t->vehicle < ft_fleet_n_vehicles (live->core->fleet))
    {
      const FtVehicle *v = ft_fleet_get_vehicle (live->core->fleet, (guint) t->vehicle);
      g_strlcpy (a->device_id, v->device_id, sizeof a->device_id);
      a->target = v->pos;
    }
  if (t->target.lat != 0 || t->target.lon != 0)
    a->target = t->target;
  a->priority = t->priority;
  a->issued = now;
  a->expires = now + (ttl > 0 ? ttl : live->cfg.command_ttl);
  a->progress_ts = -1;
  return ft_live_outbox_add (live, &x, now)->u.a.id;
}

/* "task-<n>" in a task update refers to the twin's task n. */
static gboolean
twin_task_ref (const Fields *o)
{
  gboolean bad = FALSE;
  const char *t = ft_live_fields_string (o, "task_id", &bad);
  return !bad && t != NULL && g_str_has_prefix (t, "task-");
}

static gboolean
parse_task_ref (const char *s, gint64 *out)
{
  if (s == NULL || !g_str_has_prefix (s, "task-"))
    return FALSE;
  s += 5;
  gsize n = strlen (s);
  if (n == 0 || n > 15)
    return FALSE;
  for (gsize i = 0; i < n; i++)
    if (!g_ascii_isdigit (s[i]))
      return FALSE;
  *out = g_ascii_strtoll (s, NULL, 10);
  return TRUE;
}

gboolean
ft_live_ingest_task_ack (FtLive *live, const char *topic, const char *id, const Fields *o,
                 FtTime now, GError **error)
{
  gboolean bad = FALSE;
  const char *cid = ft_live_fields_string (o, "command_id", &bad);
  const char *result = ft_live_fields_string (o, "result", &bad);
  const char *reason = ft_live_fields_string (o, "reason", &bad);
  if (bad || cid == NULL || result == NULL)
    return refuse_task (live, now, topic, error, "task ack needs string command_id and result");
  FtLiveCommandState st;
  if (!ft_live_ack_result (result, &st))
    return refuse_task (live, now, topic, error, "task ack result must be ok, failed or expired");
  FtOutItem *it = ft_live_outbox_lookup (live, FT_OUT_ASSIGNMENT, cid);
  if (it == NULL)
    return refuse_task (live, now, topic, error, "ack for an unknown task assignment");
  FtLiveAssignment *a = &it->u.a;
  if (strcmp (a->staff_id, id) != 0)
    return refuse_task (live, now, topic, error, "ack names a task assigned to another staff member");
  live->stats.acks++;
  if (a->state != FT_CMD_SENT && a->state != FT_CMD_QUEUED)
    {
      live->stats.duplicates++;
      return TRUE;
    }
  ft_live_outbox_close (live, it, st, st == FT_CMD_ACKED ? NULL : (reason ? reason : result), now);
  if (st != FT_CMD_ACKED)
    ft_live_release_task (live, a, now);
  live->stats.applied++;
  return TRUE;
}

static gboolean
ingest_task_update (FtLive *live, const char *topic, guint si, const Fields *o, FtTime ts,
                    FtTime now, GError **error)
{
  gboolean bad = FALSE;
  const char *tid = ft_live_fields_string (o, "task_id", &bad);
  const char *status = ft_live_fields_string (o, "status", &bad);
  const char *reason = ft_live_fields_string (o, "reason", &bad);
  gint64 task;
  if (bad || !parse_task_ref (tid, &task) || status == NULL)
    return refuse_task (live, now, topic, error,
                        "task update needs task_id \"task-<n>\" and a string status");
  enum { ACCEPTED = 1, IN_PROGRESS, DONE, FAILED } st;
  if (strcmp (status, "accepted") == 0)
    st = ACCEPTED;
  else if (strcmp (status, "in_progress") == 0 || strcmp (status, "started") == 0)
    st = IN_PROGRESS;
  else if (strcmp (status, "done") == 0)
    st = DONE;
  else if (strcmp (status, "failed") == 0)
    st = FAILED;
  else
    return refuse_task (live, now, topic, error,
                        "task status must be accepted, in_progress, done or failed");
  if (live->ops == NULL)
    return refuse_task (live, now, topic, error, "twin has no task queue for task updates");
  const FtTask *t = ft_ops_get (live->ops, task);
  if (t == NULL)
    return refuse_task (live, now, topic, error, "task update for a task the twin does not have");
  FtLiveStaff *s = &g_array_index (live->staff, FtLiveStaff, si);
  if (s->account < 0 || t->staff != s->account)
    return refuse_task (live, now, topic, error,
                        "task update from a staff member the task is not assigned to");
  FtOutItem *it = ft_live_outbox_for_task (live, task);
  FtLiveAssignment *a = it ? &it->u.a : NULL;
  if (a && ts < a->progress_ts)
    {
      live->stats.stale++;
      return TRUE;
    }
  /* where the task is: nothing goes backwards */
  int have = t->state == FT_TASK_ASSIGNED ? ACCEPTED - 1
           : t->state == FT_TASK_IN_PROGRESS ? IN_PROGRESS
           : t->state == FT_TASK_DONE ? DONE : -1;
  if (have < 0)
    return refuse_task (live, now, topic, error, "task update for a task that is open or cancelled");
  g_autoptr(GError) oerr = NULL;
  gboolean ok = TRUE;
  if (st == FAILED)
    {
      if (have == DONE)
        return refuse_task (live, now, topic, error, "task reported failed after it was done");
      ok = ft_ops_unassign (live->ops, task, now, &oerr);
    }
  else if ((int) st <= have || (have == IN_PROGRESS && st == ACCEPTED))
    {
      live->stats.duplicates++;
      return TRUE;
    }
  else if (st == IN_PROGRESS)
    ok = ft_ops_start (live->ops, task, (guint) s->account, now, &oerr);
  else if (st == DONE)
    ok = ft_ops_complete (live->ops, task, (guint) s->account, now, &oerr);
  if (!ok)
    {
      g_autofree char *why = g_strdup_printf ("task update refused by the task queue: %s",
                                              oerr->message);
      return refuse_task (live, now, topic, error, why);
    }
  if (a)
    {
      /* progress from the staff confirms the assignment arrived */
      if (st == FAILED)
        ft_live_outbox_close (live, it, FT_CMD_FAILED, reason ? reason : "staff reported failed", now);
      else
        ft_live_outbox_close (live, it, FT_CMD_ACKED, NULL, now);
      g_strlcpy (a->progress, status, sizeof a->progress);
      if (st == IN_PROGRESS)
        g_strlcpy (a->progress, "in_progress", sizeof a->progress);
      a->progress_ts = ts;
      if (st == FAILED && reason)
        g_strlcpy (a->detail, reason, sizeof a->detail);
    }
  s->task_ts = ts;
  g_strlcpy (s->task_id, tid, sizeof s->task_id);
  g_strlcpy (s->task_status, st == IN_PROGRESS ? "in_progress" : status, sizeof s->task_status);
  live->stats.task_updates++;
  live->stats.staff++;
  live->stats.applied++;
  return TRUE;
}


guint
ft_live_n_staff (FtLive *live)
{
  g_return_val_if_fail (live != NULL, 0);
  return live->staff->len;
}

const FtLiveStaff *
ft_live_get_staff (FtLive *live, guint i)
{
  g_return_val_if_fail (live != NULL && i < live->staff->len, NULL);
  return &g_array_index (live->staff, FtLiveStaff, i);
}

gboolean
ft_live_lookup_staff (FtLive *live, const char *id, guint *i_out)
{
  g_return_val_if_fail (live != NULL && id != NULL, FALSE);
  gpointer idx = g_hash_table_lookup (live->staff_index, id);
  if (idx && i_out)
    *i_out = GPOINTER_TO_UINT (idx) - 1;
  return idx != NULL;
}
