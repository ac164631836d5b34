/* ft-live-outbox.c — what the twin sends to vehicles and waits on:
 * commands (unlock, lock, locate, alarm) published with an id and an
 * expiry, retried until acked or expired, their acks, and the commands
 * the booking module's events call for.
 */
#include "ft-live-private.h"

#include <string.h>
#include <stdio.h>
#include <errno.h>

/* ----------------------------------------------------------- commands */

static gboolean
publish_command (FtLive *live, FtLiveCommand *c, FtTime now)
{
  if (live->mosq == NULL || g_atomic_int_get (&live->conn_state) != FT_LIVE_CONNECTED)
    return FALSE;
  g_autofree char *topic = g_strdup_printf ("%svehicles/%s/commands", live->prefix_slash,
                                            c->device_id);
  gsize n = 0;
  g_autofree char *payload = ft_live_command_payload (c, now, &n);
  int rc = mosquitto_publish (live->mosq, NULL, topic, (int) n, payload, 1, false);
  if (rc != MOSQ_ERR_SUCCESS)
    return FALSE;
  if (c->attempts > 0)
    live->stats.command_retries++;
  else
    live->stats.commands_sent++;
  c->attempts++;
  c->last_sent = now;
  c->state = FT_CMD_SENT;
  return TRUE;
}

const char *
ft_live_send_command (FtLive *live, guint vehicle, FtLiveCommandKind kind, FtTime now,
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
  FtLiveCommand c = { 0 };
  g_snprintf (c.id, sizeof c.id, "cmd-%s-%" G_GUINT64_FORMAT, live->id_tag,
              ++live->next_command);
  c.kind = kind;
  c.vehicle = vehicle;
  g_strlcpy (c.device_id, veh->device_id, sizeof c.device_id);
  c.state = FT_CMD_QUEUED;
  c.issued = now;
  c.expires = now + (ttl > 0 ? ttl : live->cfg.command_ttl);
  c.last_sent = -1;
  c.closed = -1;
  g_array_append_val (live->commands, c);
  guint idx = live->commands->len - 1;
  FtLiveCommand *cp = &g_array_index (live->commands, FtLiveCommand, idx);
  g_hash_table_insert (live->command_index, g_strdup (cp->id), GUINT_TO_POINTER (idx + 1));
  live->n_open++;
  publish_command (live, cp, now);
  return cp->id;
}

const FtLiveCommand *
ft_live_get_command (FtLive *live, const char *id)
{
  g_return_val_if_fail (live != NULL && id != NULL, NULL);
  gpointer idx = g_hash_table_lookup (live->command_index, id);
  return idx ? &g_array_index (live->commands, FtLiveCommand, GPOINTER_TO_UINT (idx) - 1) : NULL;
}

const FtLiveCommand *
ft_live_get_commands (FtLive *live, guint *n_out)
{
  g_return_val_if_fail (live != NULL, NULL);
  if (n_out)
    *n_out = live->commands->len;
  return (const FtLiveCommand *) live->commands->data;
}

guint
ft_live_n_open_commands (FtLive *live)
{
  g_return_val_if_fail (live != NULL, 0);
  return live->n_open;
}

void
ft_live_forget_commands (FtLive *live, FtTime before)
{
  g_return_if_fail (live != NULL);
  GArray *keep = g_array_new (FALSE, TRUE, sizeof (FtLiveCommand));
  for (guint i = 0; i < live->commands->len; i++)
    {
      FtLiveCommand *c = &g_array_index (live->commands, FtLiveCommand, i);
      gboolean open = c->state == FT_CMD_QUEUED || c->state == FT_CMD_SENT;
      if (open || c->closed >= before)
        g_array_append_val (keep, *c);
    }
  g_array_unref (live->commands);
  live->commands = keep;
  g_hash_table_remove_all (live->command_index);
  for (guint i = 0; i < keep->len; i++)
    g_hash_table_insert (live->command_index,
                         g_strdup (g_array_index (keep, FtLiveCommand, i).id),
                         GUINT_TO_POINTER (i + 1));
}

void
ft_live_command_housekeeping (FtLive *live, FtTime now)
{
  if (live->n_open == 0)
    return;
  for (guint i = 0; i < live->commands->len; i++)
    {
      FtLiveCommand *c = &g_array_index (live->commands, FtLiveCommand, i);
      if (c->state != FT_CMD_QUEUED && c->state != FT_CMD_SENT)
        continue;
      if (now >= c->expires)
        {
          c->state = FT_CMD_EXPIRED;
          c->closed = now;
          g_strlcpy (c->detail, c->attempts ? "no ack before expiry" : "never sent (no connection)",
                     sizeof c->detail);
          live->stats.commands_expired++;
          live->n_open--;
        }
      else if (c->state == FT_CMD_QUEUED ||
               (now - c->last_sent >= live->cfg.command_retry &&
                c->attempts < live->cfg.command_max_attempts))
        publish_command (live, c, now);
    }
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
  gpointer idx = g_hash_table_lookup (live->command_index, cid);
  live->stats.acks++;
  if (idx == NULL)
    {
      ft_live_note_refused (live, now, topic, "ack for unknown command (not ours or forgotten)");
      return TRUE;
    }
  FtLiveCommand *c = &g_array_index (live->commands, FtLiveCommand, GPOINTER_TO_UINT (idx) - 1);
  if (strcmp (c->device_id, id) != 0)
    return ft_live_refuse (live, now, topic, error, "ack names a command sent to another vehicle");
  if (c->state != FT_CMD_SENT && c->state != FT_CMD_QUEUED)
    {
      live->stats.duplicates++;
      return TRUE;
    }
  if (strcmp (result, "ok") == 0)
    {
      c->state = FT_CMD_ACKED;
      live->stats.commands_acked++;
    }
  else if (strcmp (result, "expired") == 0)
    {
      c->state = FT_CMD_EXPIRED;
      live->stats.commands_expired++;
    }
  else
    {
      c->state = FT_CMD_FAILED;
      live->stats.commands_failed++;
      g_strlcpy (c->detail, reason ? reason : result, sizeof c->detail);
    }
  c->closed = now;
  live->n_open--;
  live->stats.applied++;
  return TRUE;
}
