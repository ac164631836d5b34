/* ft-live-outbox.c — the one outbox for everything the twin sends and
 * waits on: vehicle commands (unlock, lock, locate, alarm) and staff task
 * assignments. Each entry is published with an id and an expiry, resent
 * until acknowledged, closed as acked, failed or expired, and then moved
 * to a short history (the newest FT_LIVE_OUTBOX_HISTORY of each kind, for
 * display and late lookups) and dropped from there: the outbox holds what
 * is in flight, not the session's past. Also the vehicle command acks and
 * the commands the booking module's events call for.
 */
#include "ft-live-private.h"

#include <string.h>

/* A field every entry kind has, with the same type. */
#define ITEM_FIELD(it, f) \
  (*((it)->kind == FT_OUT_COMMAND ? &(it)->u.c.f \
     : (it)->kind == FT_OUT_ASSIGNMENT ? &(it)->u.a.f : &(it)->u.l->f))

static const char *const kind_label[FT_N_OUT] = { "command", "assignment", "stop list" };

static gboolean
item_open (const FtOutItem *it)
{
  FtLiveCommandState s = ITEM_FIELD (it, state);
  return s == FT_CMD_QUEUED || s == FT_CMD_SENT;
}

static void
item_free (gpointer p)
{
  FtOutItem *it = p;
  if (it->kind == FT_OUT_STOPS)
    g_free (it->u.l);
  g_free (it);
}

static const gsize view_size[FT_N_OUT] = {
  sizeof (FtLiveCommand), sizeof (FtLiveAssignment), sizeof (FtLiveStopList)
};

void
ft_live_outbox_init (FtOutbox *ob)
{
  memset (ob, 0, sizeof *ob);
  ob->by_id = g_hash_table_new_full (g_str_hash, g_str_equal, NULL, item_free);
  ob->by_task = g_hash_table_new_full (g_int64_hash, g_int64_equal, g_free, NULL);
  g_queue_init (&ob->open);
  for (int k = 0; k < FT_N_OUT; k++)
    {
      g_queue_init (&ob->history[k]);
      ob->view[k] = g_array_new (FALSE, FALSE, view_size[k]);
    }
}

void
ft_live_outbox_clear (FtOutbox *ob)
{
  g_queue_clear (&ob->open);
  for (int k = 0; k < FT_N_OUT; k++)
    {
      g_queue_clear (&ob->history[k]);
      g_clear_pointer (&ob->view[k], g_array_unref);
    }
  g_clear_pointer (&ob->by_task, g_hash_table_unref);
  g_clear_pointer (&ob->by_id, g_hash_table_unref);   /* frees the items */
}

/* Publish (or resend) one entry if connected. */
static gboolean
outbox_publish (FtLive *live, FtOutItem *it, FtTime now)
{
  if (live->mosq == NULL || g_atomic_int_get (&live->conn_state) != FT_LIVE_CONNECTED)
    return FALSE;
  g_autofree char *topic = NULL;
  g_autofree char *payload = NULL;
  gsize n = 0;
  if (it->kind == FT_OUT_COMMAND)
    {
      topic = g_strdup_printf ("%svehicles/%s/commands", live->prefix_slash, it->u.c.device_id);
      payload = ft_live_command_payload (&it->u.c, now, &n);
    }
  else if (it->kind == FT_OUT_ASSIGNMENT)
    {
      topic = g_strdup_printf ("%sstaff/%s/tasks", live->prefix_slash, it->u.a.staff_id);
      payload = ft_live_assignment_payload (&it->u.a, now, &n);
    }
  else
    {
      topic = g_strdup_printf ("%sstaff/%s/stops/v%d", live->prefix_slash, it->u.l->staff_id,
                               FT_LIVE_STOPS_VERSION);
      payload = ft_live_stops_payload (it->u.l, now, &n);
    }
  if (mosquitto_publish (live->mosq, NULL, topic, (int) n, payload, 1, false) != MOSQ_ERR_SUCCESS)
    return FALSE;
  gboolean retry = ITEM_FIELD (it, attempts) > 0;
  if (it->kind == FT_OUT_COMMAND)
    *(retry ? &live->stats.command_retries : &live->stats.commands_sent) += 1;
  else if (it->kind == FT_OUT_ASSIGNMENT)
    *(retry ? &live->stats.task_retries : &live->stats.tasks_sent) += 1;
  else
    *(retry ? &live->stats.list_retries : &live->stats.lists_sent) += 1;
  ITEM_FIELD (it, attempts)++;
  ITEM_FIELD (it, last_sent) = now;
  ITEM_FIELD (it, state) = FT_CMD_SENT;
  return TRUE;
}

static void
outbox_drop (FtOutbox *ob, FtOutItem *it)
{
  if (it->kind == FT_OUT_ASSIGNMENT &&
      g_hash_table_lookup (ob->by_task, &it->u.a.task) == it)
    g_hash_table_remove (ob->by_task, &it->u.a.task);
  g_hash_table_remove (ob->by_id, ITEM_FIELD (it, id));    /* frees it */
}

FtOutItem *
ft_live_outbox_add (FtLive *live, const FtOutItem *tmpl, FtTime now)
{
  FtOutbox *ob = &live->outbox;
  FtOutItem *it = g_memdup2 (tmpl, sizeof *tmpl);   /* a stop list's u.l is taken over */
  it->seq = ++ob->seq;
  ITEM_FIELD (it, state) = FT_CMD_QUEUED;
  ITEM_FIELD (it, last_sent) = -1;
  ITEM_FIELD (it, closed) = -1;
  ITEM_FIELD (it, attempts) = 0;
  if (it->kind == FT_OUT_ASSIGNMENT)
    {
      /* a reassignment supersedes the older message for the task */
      FtOutItem *old = g_hash_table_lookup (ob->by_task, &it->u.a.task);
      if (old)
        ft_live_outbox_close (live, old, FT_CMD_FAILED, "superseded by a reassignment", now);
      g_hash_table_insert (ob->by_task, g_memdup2 (&it->u.a.task, sizeof it->u.a.task), it);
    }
  else if (it->kind == FT_OUT_STOPS)
    {
      /* a newer list supersedes the staff member's older open one */
      for (GList *l = ob->open.head; l; l = l->next)
        {
          FtOutItem *o = l->data;
          if (o->kind == FT_OUT_STOPS && o->u.l->staff == it->u.l->staff)
            {
              ft_live_outbox_close (live, o, FT_CMD_FAILED, "superseded by a newer list", now);
              break;
            }
        }
    }
  g_hash_table_insert (ob->by_id, ITEM_FIELD (it, id), it);
  g_queue_push_tail (&ob->open, it);
  ob->n_open[it->kind]++;
  outbox_publish (live, it, now);
  return it;
}

void
ft_live_outbox_close (FtLive *live, FtOutItem *it, FtLiveCommandState st, const char *detail,
                      FtTime now)
{
  FtOutbox *ob = &live->outbox;
  if (!item_open (it))
    return;
  ITEM_FIELD (it, state) = st;
  ITEM_FIELD (it, closed) = now;
  if (detail)
    g_strlcpy (ITEM_FIELD (it, detail), detail, sizeof ITEM_FIELD (it, detail));
  FtLiveStats *S = &live->stats;
  guint64 *acked[FT_N_OUT] = { &S->commands_acked, &S->tasks_acked, &S->lists_acked };
  guint64 *failed[FT_N_OUT] = { &S->commands_failed, &S->tasks_failed, &S->lists_failed };
  guint64 *expired[FT_N_OUT] = { &S->commands_expired, &S->tasks_expired, &S->lists_expired };
  if (st == FT_CMD_ACKED)
    *acked[it->kind] += 1;
  else if (st == FT_CMD_FAILED)
    *failed[it->kind] += 1;
  else if (st == FT_CMD_EXPIRED)
    *expired[it->kind] += 1;
  g_queue_remove (&ob->open, it);
  ob->n_open[it->kind]--;
  GQueue *h = &ob->history[it->kind];
  g_queue_push_tail (h, it);
  while (h->length > FT_LIVE_OUTBOX_HISTORY)
    outbox_drop (ob, g_queue_pop_head (h));
}

FtOutItem *
ft_live_outbox_lookup (FtLive *live, FtOutKind kind, const char *id)
{
  FtOutItem *it = g_hash_table_lookup (live->outbox.by_id, id);
  return it && it->kind == kind ? it : NULL;
}

FtOutItem *
ft_live_outbox_for_task (FtLive *live, gint64 task)
{
  return g_hash_table_lookup (live->outbox.by_task, &task);
}

/* Resend what is due, expire what is past its expiry (an expired task
 * assignment puts the task back to open). */
void
ft_live_outbox_housekeeping (FtLive *live, FtTime now)
{
  GList *l = live->outbox.open.head;
  while (l)
    {
      FtOutItem *it = l->data;
      l = l->next;                 /* closing removes this link */
      if (now >= ITEM_FIELD (it, expires))
        {
          ft_live_outbox_close (live, it, FT_CMD_EXPIRED,
                                ITEM_FIELD (it, attempts) ? "no ack before expiry"
                                                          : "never sent (no connection)", now);
          if (it->kind == FT_OUT_ASSIGNMENT)
            ft_live_release_task (live, &it->u.a, now);
          else if (it->kind == FT_OUT_STOPS)
            ft_live_release_stops (live, it, now);
        }
      else if (ITEM_FIELD (it, state) == FT_CMD_QUEUED ||
               (now - ITEM_FIELD (it, last_sent) >= live->cfg.command_retry &&
                ITEM_FIELD (it, attempts) < live->cfg.command_max_attempts))
        outbox_publish (live, it, now);
    }
}

guint
ft_live_outbox_length (FtLive *live)
{
  g_return_val_if_fail (live != NULL, 0);
  return g_hash_table_size (live->outbox.by_id);
}

static gint
by_seq (gconstpointer a, gconstpointer b)
{
  guint64 x = (*(FtOutItem *const *) a)->seq, y = (*(FtOutItem *const *) b)->seq;
  return x < y ? -1 : x > y;
}

/* Open entries and the history of one kind, oldest first, as a copy. */
static GArray *
outbox_view (FtLive *live, FtOutKind kind)
{
  FtOutbox *ob = &live->outbox;
  g_autoptr(GPtrArray) items = g_ptr_array_new ();
  for (GList *l = ob->history[kind].head; l; l = l->next)
    g_ptr_array_add (items, l->data);
  for (GList *l = ob->open.head; l; l = l->next)
    if (((FtOutItem *) l->data)->kind == kind)
      g_ptr_array_add (items, l->data);
  g_ptr_array_sort (items, by_seq);
  GArray *v = ob->view[kind];
  g_array_set_size (v, 0);
  for (guint i = 0; i < items->len; i++)
    {
      FtOutItem *it = items->pdata[i];
      if (kind == FT_OUT_COMMAND)
        g_array_append_val (v, it->u.c);
      else if (kind == FT_OUT_ASSIGNMENT)
        g_array_append_val (v, it->u.a);
      else
        g_array_append_vals (v, it->u.l, 1);
    }
  return v;
}

gboolean
ft_live_outbox_check (FtLive *live, GError **error)
{
  FtOutbox *ob = &live->outbox;
  guint open[FT_N_OUT] = { 0 }, total = 0;
  for (GList *l = ob->open.head; l; l = l->next, total++)
    {
      FtOutItem *it = l->data;
      open[it->kind]++;
      if (!item_open (it) || g_hash_table_lookup (ob->by_id, ITEM_FIELD (it, id)) != it)
        {
          g_set_error (error, FT_LIVE_ERROR, FT_LIVE_ERROR_NO_SUCH_COMMAND,
                       "outbox entry %s is listed open but is closed or not indexed",
                       ITEM_FIELD (it, id));
          return FALSE;
        }
    }
  for (int k = 0; k < FT_N_OUT; k++)
    {
      if (open[k] != ob->n_open[k])
        {
          g_set_error (error, FT_LIVE_ERROR, FT_LIVE_ERROR_NO_SUCH_COMMAND,
                       "open %s count %u but %u are open", kind_label[k],
                       ob->n_open[k], open[k]);
          return FALSE;
        }
      if (ob->history[k].length > FT_LIVE_OUTBOX_HISTORY)
        {
          g_set_error (error, FT_LIVE_ERROR, FT_LIVE_ERROR_NO_SUCH_COMMAND,
                       "outbox history holds %u entries (bound %u)", ob->history[k].length,
                       FT_LIVE_OUTBOX_HISTORY);
          return FALSE;
        }
      for (GList *l = ob->history[k].head; l; l = l->next, total++)
        if (item_open (l->data))
          {
            g_set_error (error, FT_LIVE_ERROR, FT_LIVE_ERROR_NO_SUCH_COMMAND,
                         "outbox entry %s is open but in the history", ITEM_FIELD ((FtOutItem *) l->data, id));
            return FALSE;
          }
    }
  if (total != g_hash_table_size (ob->by_id))
    {
      g_set_error (error, FT_LIVE_ERROR, FT_LIVE_ERROR_NO_SUCH_COMMAND,
                   "outbox index holds %u entries but %u are listed",
                   g_hash_table_size (ob->by_id), total);
      return FALSE;
    }
  GHashTableIter hi;
  gpointer key, value;
  g_hash_table_iter_init (&hi, ob->by_id);
  while (g_hash_table_iter_next (&hi, &key, &value))
    {
      FtOutItem *it = value;
      if (it->kind == FT_OUT_COMMAND && it->u.c.vehicle >= ft_fleet_n_vehicles (live->core->fleet))
        {
          g_set_error (error, FT_LIVE_ERROR, FT_LIVE_ERROR_NO_SUCH_COMMAND,
                       "command %s names vehicle %u beyond the fleet", it->u.c.id, it->u.c.vehicle);
          return FALSE;
        }
      if (it->kind == FT_OUT_ASSIGNMENT &&
          (it->u.a.staff >= live->staff->len ||
           strcmp (it->u.a.staff_id, g_array_index (live->staff, FtLiveStaff, it->u.a.staff).id) != 0 ||
           (live->ops && ft_ops_get (live->ops, it->u.a.task) == NULL)))
        {
          g_set_error (error, FT_LIVE_ERROR, FT_LIVE_ERROR_NO_SUCH_COMMAND,
                       "task assignment %s names a staff member or task that does not exist",
                       it->u.a.id);
          return FALSE;
        }
      if (it->kind == FT_OUT_STOPS &&
          (it->u.l->staff >= live->staff->len || it->u.l->n_stops > FT_LIVE_MAX_STOPS ||
           strcmp (it->u.l->staff_id, g_array_index (live->staff, FtLiveStaff, it->u.l->staff).id) != 0))
        {
          g_set_error (error, FT_LIVE_ERROR, FT_LIVE_ERROR_NO_SUCH_COMMAND,
                       "stop list %s names a staff member that does not exist or too many stops",
                       it->u.l->id);
          return FALSE;
        }
    }
  return TRUE;
}

/* ----------------------------------------------------------- commands */

static const char *send_command (FtLive *live, guint vehicle, FtLiveCommandKind kind, double max_kph,
                                 FtTime now, FtTime ttl, GError **error);

const char *
ft_live_send_command (FtLive *live, guint vehicle, FtLiveCommandKind kind, FtTime now,
                      FtTime ttl, GError **error)
{
  return send_command (live, vehicle, kind, -1, now, ttl, error);
}

const char *
ft_live_send_speed_limit (FtLive *live, guint vehicle, double max_kph, FtTime now, GError **error)
{
  g_return_val_if_fail (isfinite (max_kph), NULL);
  return send_command (live, vehicle, FT_CMD_SPEED_LIMIT, max_kph < 0 ? -1 : max_kph, now, 0, error);
}

static const char *
send_command (FtLive *live, guint vehicle, FtLiveCommandKind kind, double max_kph, FtTime now,
              FtTime ttl, GError **error)
{
  g_return_val_if_fail (live != NULL, NULL);
  g_return_val_if_fail ((guint) kind < FT_N_CMDS, NULL);
  if (vehicle >= ft_fleet_n_vehicles (live->core->fleet))
    {
      g_set_error (error, FT_LIVE_ERROR, FT_LIVE_ERROR_UNKNOWN_VEHICLE,
                   "no vehicle with index %u to send '%s' to", vehicle, ft_live_command_name (kind));
      return NULL;
    }
  const FtVehicle *veh = ft_fleet_get_vehicle (live->core->fleet, vehicle);
  FtOutItem x = { .kind = FT_OUT_COMMAND };
  FtLiveCommand *c = &x.u.c;
  g_snprintf (c->id, sizeof c->id, "cmd-%s-%" G_GUINT64_FORMAT, live->id_tag,
              ++live->outbox.next_id[FT_OUT_COMMAND]);
  c->kind = kind;
  c->max_kph = max_kph;
  c->vehicle = vehicle;
  g_strlcpy (c->device_id, veh->device_id, sizeof c->device_id);
  c->issued = now;
  c->expires = now + (ttl > 0 ? ttl : live->cfg.command_ttl);
  return ft_live_outbox_add (live, &x, now)->u.c.id;
}

const FtLiveCommand *
ft_live_get_command (FtLive *live, const char *id)
{
  g_return_val_if_fail (live != NULL && id != NULL, NULL);
  FtOutItem *it = ft_live_outbox_lookup (live, FT_OUT_COMMAND, id);
  return it ? &it->u.c : NULL;
}

const FtLiveCommand *
ft_live_get_commands (FtLive *live, guint *n_out)
{
  g_return_val_if_fail (live != NULL, NULL);
  GArray *v = outbox_view (live, FT_OUT_COMMAND);
  if (n_out)
    *n_out = v->len;
  return (const FtLiveCommand *) v->data;
}

guint
ft_live_n_open_commands (FtLive *live)
{
  g_return_val_if_fail (live != NULL, 0);
  return live->outbox.n_open[FT_OUT_COMMAND];
}

void
ft_live_forget_commands (FtLive *live, FtTime before)
{
  g_return_if_fail (live != NULL);
  GQueue *h = &live->outbox.history[FT_OUT_COMMAND];
  GList *l = h->head;
  while (l)
    {
      GList *next = l->next;
      FtOutItem *it = l->data;
      if (it->u.c.closed < before)
        {
          g_queue_delete_link (h, l);
          outbox_drop (&live->outbox, it);
        }
      l = next;
    }
}

gboolean
ft_live_ack_result (const char *result, FtLiveCommandState *st)
{
  if (strcmp (result, "ok") == 0)
    *st = FT_CMD_ACKED;
  else if (strcmp (result, "failed") == 0)
    *st = FT_CMD_FAILED;
  else if (strcmp (result, "expired") == 0)
    *st = FT_CMD_EXPIRED;
  else
    return FALSE;
  return TRUE;
}

gboolean
ft_live_ingest_ack (FtLive *live, const char *topic, const char *id, const Fields *o,
                    FtTime now, GError **error)
{
  gboolean bad = FALSE;
  const char *cid = ft_live_fields_string (o, "command_id", &bad);
  const char *result = ft_live_fields_string (o, "result", &bad);
  const char *reason = ft_live_fields_string (o, "reason", &bad);
  if (bad || cid == NULL || result == NULL)
    return ft_live_refuse (live, now, topic, error, "ack needs string command_id and result");
  FtOutItem *it = ft_live_outbox_lookup (live, FT_OUT_COMMAND, cid);
  live->stats.acks++;
  if (it == NULL)
    {
      ft_live_note_refused (live, now, topic, "ack for unknown command (not ours or forgotten)");
      return TRUE;
    }
  if (strcmp (it->u.c.device_id, id) != 0)
    return ft_live_refuse (live, now, topic, error, "ack names a command sent to another vehicle");
  if (!item_open (it))
    {
      live->stats.duplicates++;
      return TRUE;
    }
  if (strcmp (result, "ok") == 0)
    ft_live_outbox_close (live, it, FT_CMD_ACKED, NULL, now);
  else if (strcmp (result, "expired") == 0)
    ft_live_outbox_close (live, it, FT_CMD_EXPIRED, NULL, now);
  else
    ft_live_outbox_close (live, it, FT_CMD_FAILED, reason ? reason : result, now);
  live->stats.applied++;
  return TRUE;
}

void
ft_live_booking_listener (const FtEvent *ev, gpointer user_data)
{
  FtLive *live = user_data;
  if (ev->vehicle < 0 || live->mosq == NULL)
    return;
  if (ev->kind == FT_EV_BOOKING_UNLOCKED || ev->kind == FT_EV_BOOKING_RESUMED)
    ft_live_send_command (live, (guint) ev->vehicle, FT_CMD_UNLOCK, ev->t, 0, NULL);
  else if (ev->kind == FT_EV_BOOKING_ENDED || ev->kind == FT_EV_BOOKING_PAUSED)
    ft_live_send_command (live, (guint) ev->vehicle, FT_CMD_LOCK, ev->t, 0, NULL);
}

/* ------------------------------------------------ task assignments */

const FtLiveAssignment *
ft_live_get_assignment (FtLive *live, const char *id)
{
  g_return_val_if_fail (live != NULL && id != NULL, NULL);
  FtOutItem *it = ft_live_outbox_lookup (live, FT_OUT_ASSIGNMENT, id);
  return it ? &it->u.a : NULL;
}

const FtLiveAssignment *
ft_live_get_assignments (FtLive *live, guint *n_out)
{
  g_return_val_if_fail (live != NULL, NULL);
  GArray *v = outbox_view (live, FT_OUT_ASSIGNMENT);
  if (n_out)
    *n_out = v->len;
  return (const FtLiveAssignment *) v->data;
}

const FtLiveAssignment *
ft_live_find_assignment (FtLive *live, gint64 task)
{
  g_return_val_if_fail (live != NULL, NULL);
  FtOutItem *it = ft_live_outbox_for_task (live, task);
  return it ? &it->u.a : NULL;
}

guint
ft_live_n_open_assignments (FtLive *live)
{
  g_return_val_if_fail (live != NULL, 0);
  return live->outbox.n_open[FT_OUT_ASSIGNMENT];
}
