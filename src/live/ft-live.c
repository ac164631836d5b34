/* ft-live.c — the MQTT adapter's lifecycle: creating an FtLive from its
 * configuration, starting and stopping the network thread, the twin
 * thread's drain of the message queue (ft_live_process) and its
 * housekeeping (silence → unknown, outbox retries and expiry), status and
 * invariants. Nothing here reads the wall clock: `now` comes from the caller.
 * The parts live in ft-live-{config,json,net,ingest,staff,outbox}.c around
 * the struct in ft-live-private.h.
 */
#include "ft-live-private.h"

#include <mqtt_protocol.h>
#include <string.h>
#include <stdio.h>
#include <errno.h>

G_DEFINE_QUARK (ft-live-error-quark, ft_live_error)

/* ---------------------------------------------------------------- names */

static const char *const conn_names[] = {
  "disconnected", "connecting", "connected", "reconnecting", "refused",
};
const char *
ft_live_conn_state_name (FtLiveConnState s)
{
  return (guint) s < G_N_ELEMENTS (conn_names) ? conn_names[s] : "invalid";
}

static const char *const cmd_names[FT_N_CMDS] = { "unlock", "lock", "locate", "alarm", "speed_limit" };
const char *
ft_live_command_name (FtLiveCommandKind k)
{
  return (guint) k < FT_N_CMDS ? cmd_names[k] : "invalid";
}

gboolean
ft_live_command_from_name (const char *s, FtLiveCommandKind *out)
{
  if (s == NULL)
    return FALSE;
  for (guint i = 0; i < FT_N_CMDS; i++)
    if (strcmp (s, cmd_names[i]) == 0)
      {
        if (out)
          *out = (FtLiveCommandKind) i;
        return TRUE;
      }
  return FALSE;
}

static const char *const cmd_state_names[] = { "queued", "sent", "acked", "failed", "expired" };
const char *
ft_live_command_state_name (FtLiveCommandState s)
{
  return (guint) s < G_N_ELEMENTS (cmd_state_names) ? cmd_state_names[s] : "invalid";
}

/* ----------------------------------------------------- creation / stop */

FtLive *
ft_live_new (FtCore *core, const FtLiveConfig *cfg, GError **error)
{
  g_return_val_if_fail (core != NULL, NULL);
  g_return_val_if_fail (cfg != NULL, NULL);

  if (cfg->prefix == NULL || *cfg->prefix == '\0' || strpbrk (cfg->prefix, "+#") ||
      g_str_has_suffix (cfg->prefix, "/"))
    {
      g_set_error (error, FT_LIVE_ERROR, FT_LIVE_ERROR_URL,
                   "fleet prefix '%s' is not usable (non-empty, no '+' or '#', no trailing '/')",
                   cfg->prefix ? cfg->prefix : "");
      return NULL;
    }
  if (cfg->protocol != 3 && cfg->protocol != 5)
    {
      g_set_error (error, FT_LIVE_ERROR, FT_LIVE_ERROR_URL,
                   "MQTT protocol %d is not supported (use 3 for 3.1.1, or 5)", cfg->protocol);
      return NULL;
    }

  FtLive *live = g_new0 (FtLive, 1);
  live->core = core;
  ft_live_config_copy (&live->cfg, cfg);
  if (live->cfg.qos < 0 || live->cfg.qos > 2)
    live->cfg.qos = 1;
  if (live->cfg.client_id == NULL)
    live->cfg.client_id = g_strdup_printf ("fleet-twin-%08x", g_random_int ());
  {
    /* command ids carry the client id: at most 19 bytes, whole characters */
    const char *cid = live->cfg.client_id, *end = NULL;
    g_utf8_validate (cid, MIN (strlen (cid), 19), &end);
    live->id_tag = g_strndup (cid, end - cid);
  }
  live->prefix_slash = g_strconcat (cfg->prefix, "/", NULL);
  live->prefix_len = strlen (live->prefix_slash);
  live->twin_status_topic = g_strdup_printf ("%stwin/%s/status", live->prefix_slash,
                                             live->cfg.client_id);
  live->queue = g_async_queue_new_full (g_free);
  g_mutex_init (&live->state_lock);
  g_cond_init (&live->state_cond);
  live->parser = json_parser_new_immutable ();
  ft_live_outbox_init (&live->outbox);
  live->staff = g_array_new (FALSE, TRUE, sizeof (FtLiveStaff));
  live->staff_index = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  live->last_housekeep = G_MININT64;
  live->last_silence_scan = G_MININT64;
  live->prov_refill = G_MININT64;
  live->last_unknown_log = G_MININT64;

  if (cfg->url)
    {
      if (!ft_live_parse_url (cfg->url, &live->url, error))
        {
          ft_live_free (live);
          return NULL;
        }
      ft_live_lib_init_once ();
      /* a persistent session needs a fixed id: a random one starts clean */
      if (cfg->client_id == NULL)
        live->cfg.clean_session = TRUE;
      live->mosq = mosquitto_new (live->cfg.client_id, live->cfg.clean_session, live);
      if (live->mosq == NULL)
        {
          g_set_error (error, FT_LIVE_ERROR, FT_LIVE_ERROR_CONNECT,
                       "cannot create an MQTT client: %s", g_strerror (errno));
          ft_live_free (live);
          return NULL;
        }
      if (!ft_live_setup_mosq (live->mosq, &live->cfg, &live->url, error))
        {
          ft_live_free (live);
          return NULL;
        }
      mosquitto_threaded_set (live->mosq, true);
      if (live->cfg.protocol == 5)
        {
          /* libmosquitto sends CONNECT properties only with the connect call
           * that carries them, so the network thread passes them each time */
          mosquitto_property_add_int32 (&live->connect_props, MQTT_PROP_SESSION_EXPIRY_INTERVAL,
                                        live->cfg.clean_session ? 0 : live->cfg.session_expiry_s);
          if (live->cfg.max_packet_size > 0)
            mosquitto_property_add_int32 (&live->connect_props, MQTT_PROP_MAXIMUM_PACKET_SIZE,
                                          live->cfg.max_packet_size);
        }
      if (live->cfg.announce_status)
        {
          gsize n = 0;
          g_autofree char *offline = ft_live_status_payload ("offline", -1, &n);
          mosquitto_will_set (live->mosq, live->twin_status_topic, (int) n, offline, 1, true);
        }
      ft_live_net_set_callbacks (live);
    }
  if (live->cfg.auto_commands && core->log)
    live->listener_id = ft_event_log_add_listener (core->log, ft_live_booking_listener, live);
  return live;
}

gboolean
ft_live_start (FtLive *live, GError **error)
{
  g_return_val_if_fail (live != NULL, FALSE);
  if (live->mosq == NULL)
    {
      g_set_error (error, FT_LIVE_ERROR, FT_LIVE_ERROR_URL,
                   "no broker URL configured; this FtLive can only ingest directly");
      return FALSE;
    }
  if (live->started)
    return TRUE;
  if (g_atomic_int_get (&live->final_code))
    {
      g_set_error (error, FT_LIVE_ERROR, g_atomic_int_get (&live->final_code) - 1, "%s",
                   ft_live_get_last_error (live));
      return FALSE;
    }
  g_atomic_int_set (&live->stopping, 0);
  ft_live_set_conn_state (live, FT_LIVE_CONNECTING, NULL);
  live->net_thread = g_thread_new ("ft-live-net", ft_live_net_main, live);
  live->started = TRUE;
  return TRUE;
}

gboolean
ft_live_connect_sync (FtLive *live, guint timeout_ms, GError **error)
{
  g_return_val_if_fail (live != NULL, FALSE);
  if (!ft_live_start (live, error))
    return FALSE;
  gint64 deadline = g_get_monotonic_time () + (gint64) timeout_ms * 1000;
  g_mutex_lock (&live->state_lock);
  FtLiveConnState s;
  while ((s = g_atomic_int_get (&live->conn_state)) != FT_LIVE_CONNECTED &&
         s != FT_LIVE_REFUSED)
    if (!g_cond_wait_until (&live->state_cond, &live->state_lock, deadline))
      break;
  s = g_atomic_int_get (&live->conn_state);
  g_autofree char *detail = g_strdup (live->last_error);
  g_mutex_unlock (&live->state_lock);
  if (s == FT_LIVE_CONNECTED)
    return TRUE;
  if (s == FT_LIVE_REFUSED)
    {
      int code = g_atomic_int_get (&live->final_code);
      g_set_error (error, FT_LIVE_ERROR, code ? code - 1 : FT_LIVE_ERROR_REFUSED, "%s", detail);
    }
  else
    g_set_error (error, FT_LIVE_ERROR, FT_LIVE_ERROR_CONNECT,
                 "no connection to broker %s:%d within %u ms%s%s", live->url.host,
                 live->url.port, timeout_ms, detail ? ": " : "", detail ? detail : "");
  return FALSE;
}

void
ft_live_stop (FtLive *live)
{
  g_return_if_fail (live != NULL);
  if (!live->started)
    return;
  g_atomic_int_set (&live->stopping, 1);
  if (g_atomic_int_get (&live->conn_state) == FT_LIVE_CONNECTED && live->cfg.announce_status)
    {
      gsize n = 0;
      g_autofree char *offline = ft_live_status_payload ("offline", -1, &n);
      mosquitto_publish (live->mosq, NULL, live->twin_status_topic, (int) n, offline, 1, true);
    }
  mosquitto_disconnect (live->mosq);
  g_mutex_lock (&live->state_lock);
  g_cond_broadcast (&live->state_cond);      /* wakes a back-off wait */
  g_mutex_unlock (&live->state_lock);
  g_thread_join (live->net_thread);
  live->net_thread = NULL;
  live->started = FALSE;
  FtLiveConnState s = g_atomic_int_get (&live->conn_state);
  if (s != FT_LIVE_REFUSED && s != FT_LIVE_DISCONNECTED)
    ft_live_set_conn_state (live, FT_LIVE_DISCONNECTED, NULL);
}

void
ft_live_free (FtLive *live)
{
  if (live == NULL)
    return;
  if (live->started)
    ft_live_stop (live);
  if (live->listener_id && live->core->log)
    ft_event_log_remove_listener (live->core->log, live->listener_id);
  if (live->mosq)
    mosquitto_destroy (live->mosq);
  mosquitto_property_free_all (&live->connect_props);
  g_async_queue_unref (live->queue);
  g_mutex_clear (&live->state_lock);
  g_cond_clear (&live->state_cond);
  g_free (live->last_error);
  g_free (live->tls_error);
  g_free (live->last_error_twin);
  g_clear_object (&live->parser);
  g_free (live->scratch);
  g_free (live->meta);
  ft_live_outbox_clear (&live->outbox);
  ft_live_levers_free (live->levers);
  g_array_unref (live->staff);
  g_hash_table_unref (live->staff_index);
  g_free (live->prefix_slash);
  g_free (live->twin_status_topic);
  g_free (live->id_tag);
  ft_live_url_clear (&live->url);
  ft_live_config_clear (&live->cfg);
  g_free (live);
}

FtLiveConnState
ft_live_get_conn_state (FtLive *live)
{
  g_return_val_if_fail (live != NULL, FT_LIVE_DISCONNECTED);
  return g_atomic_int_get (&live->conn_state);
}

void
ft_live_set_state_func (FtLive *live, FtLiveStateFunc fn, gpointer user_data)
{
  g_return_if_fail (live != NULL);
  live->state_fn = fn;
  live->state_data = user_data;
}

void
ft_live_set_telemetry_func (FtLive *live, FtLiveTelemetryFunc fn, gpointer user_data)
{
  g_return_if_fail (live != NULL);
  live->tel_fn = fn;
  live->tel_data = user_data;
}

const char *
ft_live_get_last_error (FtLive *live)
{
  g_return_val_if_fail (live != NULL, NULL);
  g_mutex_lock (&live->state_lock);
  g_free (live->last_error_twin);
  live->last_error_twin = g_strdup (live->last_error);
  g_mutex_unlock (&live->state_lock);
  return live->last_error_twin;
}

const FtLiveStats *
ft_live_get_stats (FtLive *live)
{
  g_return_val_if_fail (live != NULL, NULL);
  return &live->stats;
}

gboolean
ft_live_wait (FtLive *live, guint timeout_ms)
{
  g_return_val_if_fail (live != NULL, FALSE);
  if (g_async_queue_length (live->queue) > 0)
    return TRUE;
  gpointer m = g_async_queue_timeout_pop (live->queue, (guint64) timeout_ms * 1000);
  if (m == NULL)
    return FALSE;
  g_async_queue_push_front (live->queue, m);
  return TRUE;
}

guint
ft_live_queue_length (FtLive *live)
{
  g_return_val_if_fail (live != NULL, 0);
  gint n = g_async_queue_length (live->queue);
  return n > 0 ? (guint) n : 0;
}

/* ------------------------------------------------------- housekeeping */

void
ft_live_tick (FtLive *live, FtTime now)
{
  g_return_if_fail (live != NULL);
  FtFleet *f = live->core->fleet;
  guint nv = ft_fleet_n_vehicles (f);
  if (nv > 0)
    ft_live_meta_for (live, nv - 1);
  if (!live->heard_initialised)
    {
      /* vehicles we knew before attaching get the full threshold */
      for (guint v = 0; v < live->n_meta; v++)
        if (live->meta[v].heard == G_MININT64)
          live->meta[v].heard = now;
      live->heard_initialised = TRUE;
    }
  if (live->last_silence_scan == G_MININT64 || now - live->last_silence_scan >= SILENCE_EVERY)
    {
      live->last_silence_scan = now;
      for (guint v = 0; v < nv; v++)
        {
          VehicleMeta *m = &live->meta[v];
          if (m->heard == G_MININT64)
            m->heard = now;   /* added since: starts its clock now */
          else if (now - m->heard > live->cfg.silent_after)
            ft_live_lose_comms (live, v, m, now);
        }
    }
  ft_live_outbox_housekeeping (live, now);
  ft_live_maybe_publish_prices (live, now);
  ft_live_levers_tick (live, now);
  ft_live_maybe_publish_prices (live, now);   /* what the levers changed goes out at once */
  if (live->shadow)
    {
      g_autoptr(GError) error = NULL;
      if (!ft_shadow_tick (live->shadow, now, &error) && !live->shadow_failed)
        {
          live->shadow_failed = TRUE;
          g_warning ("live: shadow mode: %s (the twin carries on; further shadow errors are not reported)",
                     error->message);
        }
    }
}

void
ft_live_set_shadow (FtLive *live, FtShadow *shadow)
{
  g_return_if_fail (live != NULL);
  live->shadow = shadow;
  live->shadow_failed = FALSE;
}

guint
ft_live_process (FtLive *live, FtTime now, guint max_msgs)
{
  g_return_val_if_fail (live != NULL, 0);
  guint n = 0;
  gint qlen = g_async_queue_length (live->queue);
  if (qlen > 0 && (guint64) qlen > live->stats.queue_high_water)
    live->stats.queue_high_water = (guint64) qlen;
  enum { BATCH = 256 };
  QueuedMsg *batch[BATCH];
  for (;;)
    {
      guint got = 0;
      g_async_queue_lock (live->queue);
      while (got < BATCH && (max_msgs == 0 || n + got < max_msgs))
        {
          QueuedMsg *m = g_async_queue_try_pop_unlocked (live->queue);
          if (m == NULL)
            break;
          batch[got++] = m;
        }
      g_async_queue_unlock (live->queue);
      for (guint i = 0; i < got; i++)
        {
          QueuedMsg *m = batch[i];
          if (m->type == MSG_CONN)
            {
              if (m->conn_state == FT_LIVE_CONNECTED)
                live->stats.connects++;
              else if (m->conn_state == FT_LIVE_RECONNECTING)
                live->stats.disconnects++;
              if (live->state_fn)
                live->state_fn (live, m->conn_state, m->topic_len ? m->data : NULL,
                                live->state_data);
              if (m->conn_state == FT_LIVE_CONNECTED)
                ft_live_outbox_housekeeping (live, now);   /* flush what was queued */
            }
          else
            {
              live->stats.received++;
              ft_live_ingest (live, m->data, m->data + m->topic_len + 1, m->payload_len,
                              now, NULL);
            }
          g_free (m);
        }
      n += got;
      if (got < BATCH || (max_msgs && n >= max_msgs))
        break;
    }
  if (live->last_housekeep == G_MININT64 || now - live->last_housekeep >= HOUSEKEEP_EVERY)
    {
      live->last_housekeep = now;
      ft_live_tick (live, now);
    }
  return n;
}

char *
ft_live_dup_status_line (FtLive *live, FtTime now)
{
  g_return_val_if_fail (live != NULL, NULL);
  FtFleet *f = live->core->fleet;
  guint nv = ft_fleet_n_vehicles (f), seen = 0;
  for (guint v = 0; v < MIN (nv, live->n_meta); v++)
    if (live->meta[v].last_ts >= 0)
      seen++;
  const FtLiveStats *s = &live->stats;
  return g_strdup_printf ("%s %s:%d · %u vehicles (%u reporting, %u available, %u on_trip, "
                          "%u unknown) · %u staff · %" G_GUINT64_FORMAT " msgs "
                          "(%" G_GUINT64_FORMAT " stale, %" G_GUINT64_FORMAT " dup, %"
                          G_GUINT64_FORMAT " refused) · commands %u open, %"
                          G_GUINT64_FORMAT " acked, %" G_GUINT64_FORMAT " expired",
                          ft_live_conn_state_name (ft_live_get_conn_state (live)),
                          live->url.host ? live->url.host : "-", live->url.port, nv, seen,
                          ft_fleet_count_state (f, FT_STATE_AVAILABLE),
                          ft_fleet_count_state (f, FT_STATE_ON_TRIP),
                          ft_fleet_count_state (f, FT_STATE_UNKNOWN), live->staff->len,
                          s->received, s->stale, s->duplicates,
                          s->malformed + s->unknown_refused, live->outbox.n_open[FT_OUT_COMMAND], s->commands_acked,
                          s->commands_expired);
}

gboolean
ft_live_check (FtLive *live, GError **error)
{
  g_return_val_if_fail (live != NULL, FALSE);
  for (guint i = 0; i < live->staff->len; i++)
    {
      const FtLiveStaff *s = &g_array_index (live->staff, FtLiveStaff, i);
      if (s->last_ts >= 0 && !ft_latlon_valid (s->pos))
        {
          g_set_error (error, FT_LIVE_ERROR, FT_LIVE_ERROR_MALFORMED,
                       "staff %s has an invalid position", s->id);
          return FALSE;
        }
    }
  return ft_live_outbox_check (live, error);
}
