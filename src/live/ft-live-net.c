/* ft-live-net.c — the network thread: connects with the MQTT 5 CONNECT
 * properties every time, subscribes, runs the mosquitto loop, reconnects
 * with back-off, and stops for good on a refusal of the credentials or a
 * TLS failure. Its callbacks only queue messages and state changes for the
 * twin thread; no module is touched from here.
 */
#include "ft-live-private.h"

#include <string.h>
#include <stdio.h>
#include <errno.h>

/* ------------------------------------------------------ network thread */

void
ft_live_set_conn_state (FtLive *live, FtLiveConnState s, const char *detail)
{
  g_mutex_lock (&live->state_lock);
  g_atomic_int_set (&live->conn_state, s);
  if (detail)
    {
      g_free (live->last_error);
      live->last_error = g_strdup (detail);
    }
  g_cond_broadcast (&live->state_cond);
  g_mutex_unlock (&live->state_lock);

  gsize dl = detail ? strlen (detail) : 0;
  QueuedMsg *m = g_malloc (sizeof *m + dl + 2);
  m->type = MSG_CONN;
  m->conn_state = s;
  m->topic_len = (guint) dl;
  m->payload_len = 0;
  memcpy (m->data, detail ? detail : "", dl + 1);
  g_async_queue_push (live->queue, m);
}

static void
subscribe_all (FtLive *live, struct mosquitto *mosq)
{
  const char *subs[] = {
    "vehicles/+/telemetry", "vehicles/+/events", "vehicles/+/commands/ack",
    "vehicles/+/status", "staff/+/position", "staff/+/task", "staff/+/status",
    "staff/+/tasks/ack", "staff/+/stops/v1/ack", "staff/+/stops/v1/progress",
  };
  char *topics[G_N_ELEMENTS (subs)];
  for (guint i = 0; i < G_N_ELEMENTS (subs); i++)
    topics[i] = g_strconcat (live->prefix_slash, subs[i], NULL);
  int rc = mosquitto_subscribe_multiple (mosq, NULL, G_N_ELEMENTS (subs), topics,
                                         live->cfg.qos, 0, NULL);
  if (rc != MOSQ_ERR_SUCCESS)
    g_warning ("live: subscribe failed: %s", mosquitto_strerror (rc));
  for (guint i = 0; i < G_N_ELEMENTS (subs); i++)
    g_free (topics[i]);
}

static void
on_connect (struct mosquitto *mosq, void *obj, int rc)
{
  FtLive *live = obj;
  if (rc == 0)
    {
      g_atomic_int_set (&live->got_connack, 1);
      subscribe_all (live, mosq);
      if (live->cfg.announce_status)
        {
          gsize n = 0;
          g_autofree char *online = ft_live_status_payload ("online", -1, &n);
          mosquitto_publish (mosq, NULL, live->twin_status_topic, (int) n, online, 1, true);
        }
      ft_live_set_conn_state (live, FT_LIVE_CONNECTED, NULL);
      return;
    }
  gboolean auth = FALSE;
  const char *text = ft_live_connack_text (rc, live->cfg.protocol, &auth);
  g_autofree char *detail =
    g_strdup_printf ("broker %s:%d refused the connection: %s%s", live->url.host,
                     live->url.port, text,
                     auth ? " (check the username and password)" : "");
  if (auth)
    {
      g_atomic_int_set (&live->final_code, FT_LIVE_ERROR_REFUSED + 1);
      g_atomic_int_set (&live->stopping, 1);
      mosquitto_disconnect (mosq);
      ft_live_set_conn_state (live, FT_LIVE_REFUSED, detail);
    }
  else
    ft_live_set_conn_state (live, FT_LIVE_RECONNECTING, detail);
}

static void
on_disconnect (struct mosquitto *mosq, void *obj, int rc)
{
  FtLive *live = obj;
  FtLiveConnState cur = g_atomic_int_get (&live->conn_state);
  if (cur == FT_LIVE_REFUSED)
    return;
  if (g_atomic_int_get (&live->stopping))
    {
      ft_live_set_conn_state (live, FT_LIVE_DISCONNECTED, NULL);
      return;
    }
  g_autofree char *detail = g_strdup_printf ("lost connection to %s:%d: %s",
                                             live->url.host, live->url.port,
                                             mosquitto_strerror (rc));
  ft_live_set_conn_state (live, FT_LIVE_RECONNECTING, detail);
}

static void
on_message (struct mosquitto *mosq, void *obj, const struct mosquitto_message *msg)
{
  FtLive *live = obj;
  gsize tl = strlen (msg->topic);
  gsize pl = msg->payloadlen > 0 ? (gsize) msg->payloadlen : 0;
  QueuedMsg *m = g_malloc (sizeof *m + tl + pl + 2);
  m->type = MSG_MQTT;
  m->conn_state = 0;
  m->topic_len = (guint) tl;
  m->payload_len = (guint) pl;
  memcpy (m->data, msg->topic, tl + 1);
  if (pl)
    memcpy (m->data + tl + 1, msg->payload, pl);
  m->data[tl + 1 + pl] = '\0';
  g_async_queue_push (live->queue, m);
}

static void
on_log (struct mosquitto *mosq, void *obj, int level, const char *str)
{
  FtLive *live = obj;
  if (level & (MOSQ_LOG_ERR | MOSQ_LOG_WARNING))
    {
      g_mutex_lock (&live->state_lock);
      g_free (live->last_error);
      live->last_error = g_strdup (str);
      /* kept apart: the disconnect that follows overwrites last_error */
      if (live->tls_error == NULL && strstr (str, "OpenSSL Error") != NULL)
        live->tls_error = g_strdup (str);
      g_mutex_unlock (&live->state_lock);
    }
}

/* A failure of the TLS layer before the broker accepted us: the
 * certificate did not verify, the broker wants a client certificate we do
 * not have, the CA or key cannot be used. Retrying cannot fix any of it.
 * Returns the reason (g_free) or NULL. */
static char *
tls_failure (FtLive *live, int rc)
{
  if (!live->url.tls || g_atomic_int_get (&live->got_connack))
    return NULL;
  g_mutex_lock (&live->state_lock);
  char *why = g_strdup (live->tls_error);
  g_mutex_unlock (&live->state_lock);
  if (why == NULL && (rc == MOSQ_ERR_TLS || rc == MOSQ_ERR_TLS_HANDSHAKE))
    why = g_strdup (mosquitto_strerror (rc));
  return why;
}

/* Wait up to `seconds` unless ft_live_stop is called. */
static void
backoff_wait (FtLive *live, guint seconds)
{
  gint64 deadline = g_get_monotonic_time () + (gint64) seconds * G_USEC_PER_SEC;
  g_mutex_lock (&live->state_lock);
  while (!g_atomic_int_get (&live->stopping))
    if (!g_cond_wait_until (&live->state_cond, &live->state_lock, deadline))
      break;
  g_mutex_unlock (&live->state_lock);
}

/* The network thread: connect (with the MQTT 5 CONNECT properties, every
 * time), run the mosquitto loop until the connection ends, then reconnect
 * with exponential back-off, until ft_live_stop or a final failure (a
 * refusal of our credentials, a TLS verification failure). */
gpointer
ft_live_net_main (gpointer data)
{
  FtLive *live = data;
  guint min_delay = MAX (live->cfg.reconnect_min_s, 1);
  guint max_delay = MAX (live->cfg.reconnect_max_s, min_delay);
  guint delay = min_delay;
  while (!g_atomic_int_get (&live->stopping))
    {
      g_atomic_int_set (&live->got_connack, 0);
      g_mutex_lock (&live->state_lock);
      g_clear_pointer (&live->tls_error, g_free);   /* last_error stays: connect_sync shows it */
      g_mutex_unlock (&live->state_lock);
      errno = 0;
      int rc = mosquitto_connect_bind_v5 (live->mosq, live->url.host, live->url.port,
                                          MAX (live->cfg.keepalive_s, 5), NULL, live->connect_props);
      int err = errno;
      gboolean connected = rc == MOSQ_ERR_SUCCESS;
      if (connected)
        {
          gint64 stop_deadline = 0;
          for (;;)
            {
              errno = 0;
              rc = mosquitto_loop (live->mosq, 100, 1);
              err = errno;
              if (rc != MOSQ_ERR_SUCCESS)
                break;
              if (g_atomic_int_get (&live->stopping))
                {
                  /* let the offline status and DISCONNECT go out, briefly */
                  if (stop_deadline == 0)
                    stop_deadline = g_get_monotonic_time () + 2 * G_USEC_PER_SEC;
                  if (mosquitto_socket (live->mosq) < 0 || g_get_monotonic_time () > stop_deadline)
                    break;
                }
            }
        }
      if (g_atomic_int_get (&live->stopping))
        break;
      if (g_atomic_int_get (&live->got_connack))
        delay = min_delay;
      g_autofree char *tls_why = tls_failure (live, rc);
      if (tls_why)
        {
          g_autofree char *detail =
            g_strdup_printf ("TLS with broker %s:%d failed: %s (check the CA file and the client "
                             "certificate and key); not retrying", live->url.host, live->url.port,
                             tls_why);
          g_atomic_int_set (&live->final_code, FT_LIVE_ERROR_TLS + 1);
          g_atomic_int_set (&live->stopping, 1);
          ft_live_set_conn_state (live, FT_LIVE_REFUSED, detail);
          break;
        }
      if (!connected)
        {
          /* no connection, so no disconnect callback: report it here */
          g_autofree char *detail =
            g_strdup_printf ("cannot reach broker %s:%d: %s", live->url.host, live->url.port,
                             rc == MOSQ_ERR_ERRNO ? g_strerror (err) : mosquitto_strerror (rc));
          ft_live_set_conn_state (live, FT_LIVE_RECONNECTING, detail);
        }
      backoff_wait (live, delay);
      delay = MIN (delay * 2, max_delay);
    }
  return NULL;
}

void
ft_live_net_set_callbacks (FtLive *live)
{
  mosquitto_connect_callback_set (live->mosq, on_connect);
  mosquitto_disconnect_callback_set (live->mosq, on_disconnect);
  mosquitto_message_callback_set (live->mosq, on_message);
  mosquitto_log_callback_set (live->mosq, on_log);
}
