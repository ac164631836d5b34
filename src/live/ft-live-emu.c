/* ft-live-emu.c — the device side of the MQTT contract: publishes a fleet
 * (given as plain records, so it knows nothing of sim/) as telemetry, MDS
 * events and retained status, and receives commands on
 * <prefix>/vehicles/+/commands, which the caller carries out and acks,
 * and staff task assignments on <prefix>/staff/+/tasks, which the caller
 * acks and reports progress on.
 * Used by `fleet-twin-cli emulate`, the live tests and the benchmark.
 */
#include "ft-live-private.h"
#include "ft-json.h"

#include <string.h>
#include <stdio.h>
#include <errno.h>

struct _FtLiveEmu {
  FtLiveConfig      cfg;
  FtLiveUrl         url;
  char             *prefix_slash;
  char             *status_topic;
  struct mosquitto *mosq;
  gboolean          started;
  gint              conn_state;    /* atomic */
  GMutex            lock;
  GCond             cond;
  char             *last_error;
  GAsyncQueue      *commands;      /* FtLiveEmuCommand* */
  GAsyncQueue      *tasks;         /* FtLiveEmuTask* */
  GAsyncQueue      *stops;         /* FtLiveEmuStops* */
  guint64           n_published;   /* caller's thread only */
  gint              outstanding;   /* QoS>0 publishes not yet completed; under lock */
  gint              window;
  gint              n_commands;    /* atomic */
};

static void
emu_set_state (FtLiveEmu *emu, FtLiveConnState s, const char *detail)
{
  g_mutex_lock (&emu->lock);
  g_atomic_int_set (&emu->conn_state, s);
  if (detail)
    {
      g_free (emu->last_error);
      emu->last_error = g_strdup (detail);
    }
  g_cond_broadcast (&emu->cond);
  g_mutex_unlock (&emu->lock);
}

static void
emu_on_connect (struct mosquitto *mosq, void *obj, int rc)
{
  FtLiveEmu *emu = obj;
  if (rc == 0)
    {
      g_mutex_lock (&emu->lock);
      emu->outstanding = 0;   /* a new session: nothing of the old one completes */
      g_mutex_unlock (&emu->lock);
      g_autofree char *sub = g_strconcat (emu->prefix_slash, "vehicles/+/commands", NULL);
      mosquitto_subscribe (mosq, NULL, sub, 1);
      g_autofree char *tsub = g_strconcat (emu->prefix_slash, "staff/+/tasks", NULL);
      mosquitto_subscribe (mosq, NULL, tsub, 1);
      g_autofree char *ssub = g_strconcat (emu->prefix_slash, "staff/+/stops/v1", NULL);
      mosquitto_subscribe (mosq, NULL, ssub, 1);
      const char *online = "{\"status\":\"online\"}";
      mosquitto_publish (mosq, NULL, emu->status_topic, (int) strlen (online), online, 1, true);
      emu_set_state (emu, FT_LIVE_CONNECTED, NULL);
      return;
    }
  gboolean auth = FALSE;
  const char *text = ft_live_connack_text (rc, emu->cfg.protocol, &auth);
  g_autofree char *detail = g_strdup_printf ("broker %s:%d refused the connection: %s%s",
                                             emu->url.host, emu->url.port, text,
                                             auth ? " (check the username and password)" : "");
  if (auth)
    mosquitto_disconnect (mosq);
  emu_set_state (emu, auth ? FT_LIVE_REFUSED : FT_LIVE_RECONNECTING, detail);
}

static void
emu_on_disconnect (struct mosquitto *mosq, void *obj, int rc)
{
  FtLiveEmu *emu = obj;
  if (g_atomic_int_get (&emu->conn_state) == FT_LIVE_REFUSED)
    return;
  emu_set_state (emu, rc == 0 ? FT_LIVE_DISCONNECTED : FT_LIVE_RECONNECTING,
                 rc == 0 ? NULL : mosquitto_strerror (rc));
}

static void
emu_on_publish (struct mosquitto *mosq, void *obj, int mid)
{
  FtLiveEmu *emu = obj;
  g_mutex_lock (&emu->lock);
  if (emu->outstanding > 0)
    emu->outstanding--;
  g_cond_broadcast (&emu->cond);
  g_mutex_unlock (&emu->lock);
}

/* Flow control for QoS > 0: libmosquitto walks its whole outgoing list on
 * every PUBACK, so keep that list short by waiting for completions. Gives
 * up waiting after 5 s (broker gone): the message is then queued anyway. */
static void
emu_wait_window (FtLiveEmu *emu)
{
  g_mutex_lock (&emu->lock);
  gint64 deadline = g_get_monotonic_time () + 5 * G_USEC_PER_SEC;
  while (emu->outstanding >= emu->window &&
         g_atomic_int_get (&emu->conn_state) == FT_LIVE_CONNECTED)
    if (!g_cond_wait_until (&emu->cond, &emu->lock, deadline))
      break;
  emu->outstanding++;
  g_mutex_unlock (&emu->lock);
}

/* <prefix>/staff/<id>/tasks: a task assignment from the twin. Anything
 * not following the contract is dropped. */
static void
emu_on_task (FtLiveEmu *emu, const char *t, const struct mosquitto_message *msg)
{
  const char *slash = strchr (t, '/');
  if (slash == NULL || strcmp (slash, "/tasks") != 0 || slash - t > 36 || slash == t ||
      msg->payloadlen <= 0)
    return;
  g_autoptr(JsonParser) parser = json_parser_new_immutable ();
  if (ft_json_depth (msg->payload, msg->payloadlen, 8) > 8 ||
      !json_parser_load_from_data (parser, msg->payload, msg->payloadlen, NULL))
    return;
  JsonNode *root = json_parser_get_root (parser);
  if (!JSON_NODE_HOLDS_OBJECT (root))
    return;
  JsonObject *o = json_node_get_object (root);
  gboolean bad = FALSE;
  const char *cid = ft_live_json_string (o, "command_id", &bad);
  const char *tid = ft_live_json_string (o, "task_id", &bad);
  const char *kind = ft_live_json_string (o, "kind", &bad);
  const char *dev = ft_live_json_string (o, "device_id", &bad);
  gint64 expires = G_MAXINT64, prio = 0;
  ft_live_json_int64 (o, "expires", &expires, &bad);
  ft_live_json_int64 (o, "priority", &prio, &bad);
  double lat = NAN, lon = NAN;
  gboolean bad_pos = FALSE;
  ft_live_json_number (o, "lat", &lat, &bad_pos);
  ft_live_json_number (o, "lon", &lon, &bad_pos);
  static const char *const kinds[FT_N_TASK_KINDS] = { "swap", "rebalance", "collect", "deploy", "inspect" };
  int k = -1;
  for (guint i = 0; kind && i < FT_N_TASK_KINDS; i++)
    if (strcmp (kind, kinds[i]) == 0)
      k = (int) i;
  if (bad || cid == NULL || tid == NULL || k < 0 || strlen (cid) >= 48 ||
      !g_str_has_prefix (tid, "task-") || (dev && strlen (dev) > 36))
    return;
  char *end = NULL;
  gint64 task = g_ascii_strtoll (tid + 5, &end, 10);
  if (end == tid + 5 || *end != '\0' || task < 0)
    return;
  FtLiveEmuTask *x = g_new0 (FtLiveEmuTask, 1);
  g_strlcpy (x->command_id, cid, sizeof x->command_id);
  memcpy (x->staff_id, t, slash - t);
  x->staff_id[slash - t] = '\0';
  x->task = task;
  x->kind = (FtTaskKind) k;
  g_strlcpy (x->device_id, dev ? dev : "", sizeof x->device_id);
  x->target = bad_pos ? (FtLatLon) { NAN, NAN } : (FtLatLon) { lat, lon };
  x->priority = (gint) CLAMP (prio, -1000, 1000);
  x->expires = expires;
  g_async_queue_push (emu->tasks, x);
}

/* <prefix>/staff/<id>/stops/v1: a stop list from the twin. Anything not
 * following the contract is dropped. */
static void
emu_on_stops (FtLiveEmu *emu, const char *t, const struct mosquitto_message *msg)
{
  const char *slash = strchr (t, '/');
  if (slash == NULL || strcmp (slash, "/stops/v1") != 0 || slash - t > 36 || slash == t ||
      msg->payloadlen <= 0)
    return;
  g_autoptr(JsonParser) parser = json_parser_new_immutable ();
  if (ft_json_depth (msg->payload, msg->payloadlen, 8) > 8 ||
      !json_parser_load_from_data (parser, msg->payload, msg->payloadlen, NULL))
    return;
  JsonNode *root = json_parser_get_root (parser);
  if (!JSON_NODE_HOLDS_OBJECT (root))
    return;
  JsonObject *o = json_node_get_object (root);
  gboolean bad = FALSE;
  gint64 version = 0, expires = G_MAXINT64;
  const char *cid = ft_live_json_string (o, "command_id", &bad);
  ft_live_json_int64 (o, "version", &version, &bad);
  ft_live_json_int64 (o, "expires", &expires, &bad);
  JsonNode *arr = json_object_get_member (o, "stops");
  if (bad || cid == NULL || strlen (cid) >= 48 || version != FT_LIVE_STOPS_VERSION || arr == NULL ||
      !JSON_NODE_HOLDS_ARRAY (arr))
    return;
  JsonArray *a = json_node_get_array (arr);
  FtLiveEmuStops *x = g_new0 (FtLiveEmuStops, 1);
  g_strlcpy (x->command_id, cid, sizeof x->command_id);
  memcpy (x->staff_id, t, slash - t);
  x->staff_id[slash - t] = '\0';
  x->expires = expires;
  for (guint i = 0; i < json_array_get_length (a) && x->n < FT_LIVE_MAX_STOPS; i++)
    {
      JsonNode *e = json_array_get_element (a, i);
      if (!JSON_NODE_HOLDS_OBJECT (e))
        continue;
      JsonObject *so = json_node_get_object (e);
      const char *tid = ft_live_json_string (so, "task_id", &bad);
      const char *dev = ft_live_json_string (so, "device_id", &bad);
      const char *kind = ft_live_json_string (so, "kind", &bad);
      static const char *const kinds[FT_N_TASK_KINDS] = { "swap", "rebalance", "collect", "deploy", "inspect" };
      int k = -1;
      for (guint q = 0; kind && q < FT_N_TASK_KINDS; q++)
        if (strcmp (kind, kinds[q]) == 0)
          k = (int) q;
      double lat = NAN, lon = NAN;
      gboolean bad_pos = FALSE;
      ft_live_json_number (so, "lat", &lat, &bad_pos);
      ft_live_json_number (so, "lon", &lon, &bad_pos);
      /* a rebalance's drop point, when the twin names one, is where it goes */
      double dlat = NAN, dlon = NAN;
      gboolean bad_drop = FALSE;
      if (ft_live_json_number (so, "drop_lat", &dlat, &bad_drop) &&
          ft_live_json_number (so, "drop_lon", &dlon, &bad_drop) && !bad_drop &&
          isfinite (dlat) && isfinite (dlon))
        lat = dlat, lon = dlon, bad_pos = FALSE;
      gboolean started = FALSE;
      ft_live_json_bool (so, "started", &started, &bad);
      char *end = NULL;
      if (bad || tid == NULL || !g_str_has_prefix (tid, "task-") || k < 0 || (dev && strlen (dev) > 36))
        {
          bad = TRUE;
          break;
        }
      gint64 task = g_ascii_strtoll (tid + 5, &end, 10);
      if (end == tid + 5 || *end != '\0' || task < 0)
        {
          bad = TRUE;
          break;
        }
      x->task[x->n] = task;
      x->kind[x->n] = (FtTaskKind) k;
      x->target[x->n] = bad_pos ? (FtLatLon) { NAN, NAN } : (FtLatLon) { lat, lon };
      x->started[x->n] = started;
      g_strlcpy (x->device_id[x->n], dev ? dev : "", sizeof x->device_id[x->n]);
      x->n++;
    }
  if (bad)
    {
      g_free (x);
      return;
    }
  g_async_queue_push (emu->stops, x);
}

static void
emu_on_message (struct mosquitto *mosq, void *obj, const struct mosquitto_message *msg)
{
  FtLiveEmu *emu = obj;
  /* <prefix>/vehicles/<id>/commands */
  const char *t = msg->topic;
  if (!g_str_has_prefix (t, emu->prefix_slash))
    return;
  t += strlen (emu->prefix_slash);
  if (g_str_has_prefix (t, "staff/"))
    {
      if (g_str_has_suffix (t, "/stops/v1"))
        emu_on_stops (emu, t + 6, msg);
      else
        emu_on_task (emu, t + 6, msg);
      return;
    }
  if (!g_str_has_prefix (t, "vehicles/"))
    return;
  t += 9;
  const char *slash = strchr (t, '/');
  if (slash == NULL || strcmp (slash, "/commands") != 0 || slash - t > 36 || msg->payloadlen <= 0)
    return;
  g_autoptr(JsonParser) parser = json_parser_new_immutable ();
  if (ft_json_depth (msg->payload, msg->payloadlen, 8) > 8 ||
      !json_parser_load_from_data (parser, msg->payload, msg->payloadlen, NULL))
    return;
  JsonNode *root = json_parser_get_root (parser);
  if (!JSON_NODE_HOLDS_OBJECT (root))
    return;
  JsonObject *o = json_node_get_object (root);
  gboolean bad = FALSE;
  const char *cid = ft_live_json_string (o, "command_id", &bad);
  const char *cmd = ft_live_json_string (o, "command", &bad);
  gint64 expires = G_MAXINT64;
  ft_live_json_int64 (o, "expires", &expires, &bad);
  FtLiveCommandKind kind;
  if (bad || cid == NULL || cmd == NULL || strlen (cid) >= 48 ||
      !ft_live_command_from_name (cmd, &kind))
    return;
  FtLiveEmuCommand *c = g_new0 (FtLiveEmuCommand, 1);
  g_strlcpy (c->command_id, cid, sizeof c->command_id);
  memcpy (c->device_id, t, slash - t);
  c->device_id[slash - t] = '\0';
  c->kind = kind;
  c->expires = expires;
  g_atomic_int_inc (&emu->n_commands);
  g_async_queue_push (emu->commands, c);
}

FtLiveEmu *
ft_live_emu_new (const FtLiveConfig *cfg, GError **error)
{
  g_return_val_if_fail (cfg != NULL, NULL);
  if (cfg->prefix == NULL || *cfg->prefix == '\0' || strpbrk (cfg->prefix, "+#"))
    {
      g_set_error (error, FT_LIVE_ERROR, FT_LIVE_ERROR_URL,
                   "fleet prefix '%s' is not usable", cfg->prefix ? cfg->prefix : "");
      return NULL;
    }
  FtLiveEmu *emu = g_new0 (FtLiveEmu, 1);
  emu->cfg = *cfg;
  emu->cfg.url = g_strdup (cfg->url);
  emu->cfg.prefix = g_strdup (cfg->prefix);
  emu->cfg.client_id = cfg->client_id ? g_strdup (cfg->client_id)
                                      : g_strdup_printf ("ft-emulator-%08x", g_random_int ());
  emu->cfg.ca_file = g_strdup (cfg->ca_file);
  emu->cfg.cert_file = g_strdup (cfg->cert_file);
  emu->cfg.key_file = g_strdup (cfg->key_file);
  emu->cfg.username = g_strdup (cfg->username);
  emu->cfg.password = g_strdup (cfg->password);
  emu->prefix_slash = g_strconcat (cfg->prefix, "/", NULL);
  emu->status_topic = g_strdup_printf ("%semulator/%s/status", emu->prefix_slash,
                                       emu->cfg.client_id);
  g_mutex_init (&emu->lock);
  g_cond_init (&emu->cond);
  emu->commands = g_async_queue_new_full (g_free);
  emu->tasks = g_async_queue_new_full (g_free);
  emu->stops = g_async_queue_new_full (g_free);
  if (!ft_live_parse_url (cfg->url, &emu->url, error))
    {
      ft_live_emu_free (emu);
      return NULL;
    }
  ft_live_lib_init_once ();
  emu->mosq = mosquitto_new (emu->cfg.client_id, true, emu);
  if (emu->mosq == NULL)
    {
      g_set_error (error, FT_LIVE_ERROR, FT_LIVE_ERROR_CONNECT, "cannot create an MQTT client: %s",
                   g_strerror (errno));
      ft_live_emu_free (emu);
      return NULL;
    }
  if (!ft_live_setup_mosq (emu->mosq, &emu->cfg, &emu->url, error))
    {
      ft_live_emu_free (emu);
      return NULL;
    }
  emu->window = 1000;
  mosquitto_max_inflight_messages_set (emu->mosq, emu->window);
  const char *offline = "{\"status\":\"offline\"}";
  mosquitto_will_set (emu->mosq, emu->status_topic, (int) strlen (offline), offline, 1, true);
  mosquitto_connect_callback_set (emu->mosq, emu_on_connect);
  mosquitto_disconnect_callback_set (emu->mosq, emu_on_disconnect);
  mosquitto_message_callback_set (emu->mosq, emu_on_message);
  mosquitto_publish_callback_set (emu->mosq, emu_on_publish);
  return emu;
}

void
ft_live_emu_free (FtLiveEmu *emu)
{
  if (emu == NULL)
    return;
  if (emu->started)
    {
      mosquitto_disconnect (emu->mosq);
      mosquitto_loop_stop (emu->mosq, false);
    }
  if (emu->mosq)
    mosquitto_destroy (emu->mosq);
  g_async_queue_unref (emu->commands);
  g_async_queue_unref (emu->tasks);
  g_async_queue_unref (emu->stops);
  g_mutex_clear (&emu->lock);
  g_cond_clear (&emu->cond);
  g_free (emu->last_error);
  g_free (emu->prefix_slash);
  g_free (emu->status_topic);
  ft_live_url_clear (&emu->url);
  ft_live_config_clear (&emu->cfg);
  g_free (emu);
}

gboolean
ft_live_emu_connect (FtLiveEmu *emu, guint timeout_ms, GError **error)
{
  g_return_val_if_fail (emu != NULL, FALSE);
  if (!emu->started)
    {
      emu_set_state (emu, FT_LIVE_CONNECTING, NULL);
      int rc = mosquitto_connect_async (emu->mosq, emu->url.host, emu->url.port,
                                        MAX (emu->cfg.keepalive_s, 5));
      if (rc != MOSQ_ERR_SUCCESS)
        emu_set_state (emu, FT_LIVE_RECONNECTING,
                       rc == MOSQ_ERR_ERRNO ? g_strerror (errno) : mosquitto_strerror (rc));
      rc = mosquitto_loop_start (emu->mosq);
      if (rc != MOSQ_ERR_SUCCESS)
        {
          g_set_error (error, FT_LIVE_ERROR, FT_LIVE_ERROR_CONNECT,
                       "cannot start the MQTT network thread: %s", mosquitto_strerror (rc));
          return FALSE;
        }
      emu->started = TRUE;
    }
  gint64 deadline = g_get_monotonic_time () + (gint64) timeout_ms * 1000;
  g_mutex_lock (&emu->lock);
  FtLiveConnState s;
  while ((s = g_atomic_int_get (&emu->conn_state)) != FT_LIVE_CONNECTED && s != FT_LIVE_REFUSED)
    if (!g_cond_wait_until (&emu->cond, &emu->lock, deadline))
      break;
  s = g_atomic_int_get (&emu->conn_state);
  g_autofree char *detail = g_strdup (emu->last_error);
  g_mutex_unlock (&emu->lock);
  if (s == FT_LIVE_CONNECTED)
    return TRUE;
  g_set_error (error, FT_LIVE_ERROR,
               s == FT_LIVE_REFUSED ? FT_LIVE_ERROR_REFUSED : FT_LIVE_ERROR_CONNECT,
               "%s%s%s", s == FT_LIVE_REFUSED ? "" : "no connection to the broker in time",
               s == FT_LIVE_REFUSED || detail == NULL ? "" : ": ", detail ? detail : "");
  return FALSE;
}

FtLiveConnState
ft_live_emu_get_conn_state (FtLiveEmu *emu)
{
  g_return_val_if_fail (emu != NULL, FT_LIVE_DISCONNECTED);
  return g_atomic_int_get (&emu->conn_state);
}

static void
publish_status (FtLiveEmu *emu, const FtLiveEmuVehicle *v, const char *status, FtTime now)
{
  g_autofree char *topic = g_strdup_printf ("%svehicles/%s/status", emu->prefix_slash,
                                            v->device_id);
  gsize n = 0;
  g_autofree char *payload = ft_live_status_payload (status, now, &n);
  emu_wait_window (emu);
  mosquitto_publish (emu->mosq, NULL, topic, (int) n, payload, 1, true);
}

void
ft_live_emu_announce (FtLiveEmu *emu, const FtLiveEmuVehicle *v, guint n, FtTime now)
{
  g_return_if_fail (emu != NULL);
  for (guint i = 0; i < n; i++)
    publish_status (emu, &v[i], "online", now);
}

static char *
format_telemetry (const FtLiveEmuVehicle *v, FtTime now, gint64 sent_us, gsize *len)
{
  JsonBuilder *b = ft_live_json_begin ();
  ft_live_json_put_str (b, "device_id", v->device_id);
  ft_live_json_put_int (b, "timestamp", now);
  ft_live_json_put_num (b, "lat", v->pos.lat, 7);
  ft_live_json_put_num (b, "lon", v->pos.lon, 7);
  ft_live_json_put_num (b, "battery_pct", CLAMP (v->battery_pct, 0.0, 100.0), 1);
  ft_live_json_put_num (b, "speed", MAX (v->speed_mps, 0.0), 2);
  ft_live_json_put_num (b, "odometer_m", MAX (v->odometer_m, 0.0), 0);
  ft_live_json_put_str (b, "vehicle_state", v->state[0] ? v->state : "available");
  ft_live_json_put_str (b, "lock_state", v->locked ? "locked" : "unlocked");
  ft_live_json_put_str (b, "vehicle_type", v->kind[0] ? v->kind : "scooter");
  json_builder_set_member_name (b, "fault_codes");
  json_builder_begin_array (b);
  for (int k = 0; k < 32; k++)
    if (v->fault_codes & (1u << k))
      json_builder_add_int_value (b, k);
  json_builder_end_array (b);
  ft_live_json_put_int (b, "sent_us", sent_us);
  return ft_live_json_end (b, len);
}

gboolean
ft_live_emu_publish_one (FtLiveEmu *emu, const FtLiveEmuVehicle *v, FtTime now,
                         gint64 sent_us, int qos)
{
  g_return_val_if_fail (emu != NULL && v != NULL, FALSE);
  char topic[256];
  g_snprintf (topic, sizeof topic, "%svehicles/%s/telemetry", emu->prefix_slash, v->device_id);
  if (qos > 0)
    emu_wait_window (emu);
  if (sent_us == 0)
    sent_us = g_get_real_time ();   /* stamped as it is handed to the network */
  gsize n = 0;
  g_autofree char *payload = format_telemetry (v, now, sent_us, &n);
  int rc = mosquitto_publish (emu->mosq, NULL, topic, (int) n, payload, qos, false);
  if (rc != MOSQ_ERR_SUCCESS)
    return FALSE;
  emu->n_published++;
  return TRUE;
}

guint
ft_live_emu_publish (FtLiveEmu *emu, const FtLiveEmuVehicle *v, guint n, FtTime now,
                     gint64 sent_us)
{
  g_return_val_if_fail (emu != NULL, 0);
  guint ok = 0;
  for (guint i = 0; i < n; i++)
    ok += ft_live_emu_publish_one (emu, &v[i], now, sent_us, emu->cfg.qos);
  return ok;
}

gboolean
ft_live_emu_publish_event (FtLiveEmu *emu, const FtLiveEmuVehicle *v,
                           const char *event_type, FtTime now)
{
  g_return_val_if_fail (emu != NULL && v != NULL && event_type != NULL, FALSE);
  g_autofree char *topic = g_strdup_printf ("%svehicles/%s/events", emu->prefix_slash,
                                            v->device_id);
  JsonBuilder *b = ft_live_json_begin ();
  ft_live_json_put_str (b, "device_id", v->device_id);
  ft_live_json_put_int (b, "timestamp", now);
  json_builder_set_member_name (b, "event_types");
  json_builder_begin_array (b);
  json_builder_add_string_value (b, event_type);
  json_builder_end_array (b);
  ft_live_json_put_str (b, "vehicle_state", v->state[0] ? v->state : "available");
  ft_live_json_put_num (b, "lat", v->pos.lat, 7);
  ft_live_json_put_num (b, "lon", v->pos.lon, 7);
  ft_live_json_put_num (b, "battery_pct", CLAMP (v->battery_pct, 0.0, 100.0), 1);
  g_autofree char *payload = ft_live_json_end (b, NULL);
  int rc = mosquitto_publish (emu->mosq, NULL, topic, (int) strlen (payload), payload, 1, false);
  if (rc == MOSQ_ERR_SUCCESS)
    emu->n_published++;
  return rc == MOSQ_ERR_SUCCESS;
}

guint
ft_live_emu_publish_staff (FtLiveEmu *emu, const FtLiveEmuStaff *s, guint n, FtTime now)
{
  g_return_val_if_fail (emu != NULL, 0);
  guint ok = 0;
  for (guint i = 0; i < n; i++)
    {
      char topic[256];
      g_snprintf (topic, sizeof topic, "%sstaff/%s/position", emu->prefix_slash, s[i].id);
      JsonBuilder *b = ft_live_json_begin ();
      ft_live_json_put_int (b, "timestamp", now);
      ft_live_json_put_num (b, "lat", s[i].pos.lat, 7);
      ft_live_json_put_num (b, "lon", s[i].pos.lon, 7);
      gsize len = 0;
      g_autofree char *payload = ft_live_json_end (b, &len);
      if (mosquitto_publish (emu->mosq, NULL, topic, (int) len, payload, emu->cfg.qos, false) ==
          MOSQ_ERR_SUCCESS)
        ok++;
      if (s[i].task_id[0])
        {
          g_snprintf (topic, sizeof topic, "%sstaff/%s/task", emu->prefix_slash, s[i].id);
          b = ft_live_json_begin ();
          ft_live_json_put_int (b, "timestamp", now);
          ft_live_json_put_str (b, "task_id", s[i].task_id);
          ft_live_json_put_str (b, "status", s[i].task_status[0] ? s[i].task_status : "assigned");
          g_autofree char *tp = ft_live_json_end (b, &len);
          mosquitto_publish (emu->mosq, NULL, topic, (int) len, tp, 1, false);
        }
    }
  emu->n_published += ok;
  return ok;
}

/* Everything a queue holds, in order, as one array of elements of size
 * bytes (each queued element was g_new'd; freed here). */
static gpointer
drain (GAsyncQueue *q, gsize size, guint *n_out)
{
  GArray *out = g_array_new (FALSE, FALSE, (guint) size);
  gpointer x;
  while ((x = g_async_queue_try_pop (q)) != NULL)
    {
      g_array_append_vals (out, x, 1);
      g_free (x);
    }
  *n_out = out->len;
  return g_array_free (out, FALSE);
}

FtLiveEmuCommand *
ft_live_emu_poll (FtLiveEmu *emu, guint *n_out)
{
  g_return_val_if_fail (emu != NULL && n_out != NULL, NULL);
  return drain (emu->commands, sizeof (FtLiveEmuCommand), n_out);
}

gboolean
ft_live_emu_ack (FtLiveEmu *emu, const FtLiveEmuCommand *cmd, const char *result,
                 const char *reason, FtTime now)
{
  g_return_val_if_fail (emu != NULL && cmd != NULL && result != NULL, FALSE);
  g_autofree char *topic = g_strdup_printf ("%svehicles/%s/commands/ack", emu->prefix_slash,
                                            cmd->device_id);
  g_autoptr(JsonBuilder) b = json_builder_new ();
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "command_id");
  json_builder_add_string_value (b, cmd->command_id);
  json_builder_set_member_name (b, "result");
  json_builder_add_string_value (b, result);
  if (reason)
    {
      json_builder_set_member_name (b, "reason");
      json_builder_add_string_value (b, reason);
    }
  json_builder_set_member_name (b, "timestamp");
  json_builder_add_int_value (b, now);
  json_builder_end_object (b);
  g_autoptr(JsonNode) root = json_builder_get_root (b);
  g_autofree char *payload = json_to_string (root, FALSE);
  return mosquitto_publish (emu->mosq, NULL, topic, (int) strlen (payload), payload, 1, false) ==
         MOSQ_ERR_SUCCESS;
}

FtLiveEmuTask *
ft_live_emu_poll_tasks (FtLiveEmu *emu, guint *n_out)
{
  g_return_val_if_fail (emu != NULL && n_out != NULL, NULL);
  return drain (emu->tasks, sizeof (FtLiveEmuTask), n_out);
}

static gboolean
emu_publish_json (FtLiveEmu *emu, const char *topic, JsonBuilder *b)
{
  g_autoptr(JsonNode) root = json_builder_get_root (b);
  g_autofree char *payload = json_to_string (root, FALSE);
  return mosquitto_publish (emu->mosq, NULL, topic, (int) strlen (payload), payload, 1, false) ==
         MOSQ_ERR_SUCCESS;
}

/* An acknowledgement of a command: {command_id, result, reason?, timestamp}. */
static gboolean
emu_ack (FtLiveEmu *emu, const char *topic, const char *command_id, const char *result,
         const char *reason, FtTime now)
{
  g_autoptr(JsonBuilder) b = json_builder_new ();
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "command_id");
  json_builder_add_string_value (b, command_id);
  json_builder_set_member_name (b, "result");
  json_builder_add_string_value (b, result);
  if (reason)
    {
      json_builder_set_member_name (b, "reason");
      json_builder_add_string_value (b, reason);
    }
  json_builder_set_member_name (b, "timestamp");
  json_builder_add_int_value (b, now);
  json_builder_end_object (b);
  return emu_publish_json (emu, topic, b);
}

gboolean
ft_live_emu_ack_task (FtLiveEmu *emu, const FtLiveEmuTask *t, const char *result,
                      const char *reason, FtTime now)
{
  g_return_val_if_fail (emu != NULL && t != NULL && result != NULL, FALSE);
  g_autofree char *topic = g_strdup_printf ("%sstaff/%s/tasks/ack", emu->prefix_slash, t->staff_id);
  return emu_ack (emu, topic, t->command_id, result, reason, now);
}

FtLiveEmuStops *
ft_live_emu_poll_stops (FtLiveEmu *emu, guint *n_out)
{
  g_return_val_if_fail (emu != NULL && n_out != NULL, NULL);
  return drain (emu->stops, sizeof (FtLiveEmuStops), n_out);
}

gboolean
ft_live_emu_ack_stops (FtLiveEmu *emu, const FtLiveEmuStops *l, const char *result,
                       const char *reason, FtTime now)
{
  g_return_val_if_fail (emu != NULL && l != NULL && result != NULL, FALSE);
  g_autofree char *topic = g_strdup_printf ("%sstaff/%s/stops/v1/ack", emu->prefix_slash, l->staff_id);
  return emu_ack (emu, topic, l->command_id, result, reason, now);
}

/* A staff member's word on a task: {version?, timestamp, task_id, status,
 * reason?} on `topic` (version < 0: none, as the task topic has). */
static gboolean
emu_task_message (FtLiveEmu *emu, const char *topic, int version, gint64 task, const char *status,
                  const char *reason, FtTime now)
{
  g_autofree char *tid = g_strdup_printf ("task-%" G_GINT64_FORMAT, task);
  g_autoptr(JsonBuilder) b = json_builder_new ();
  json_builder_begin_object (b);
  if (version >= 0)
    {
      json_builder_set_member_name (b, "version");
      json_builder_add_int_value (b, version);
    }
  json_builder_set_member_name (b, "timestamp");
  json_builder_add_int_value (b, now);
  json_builder_set_member_name (b, "task_id");
  json_builder_add_string_value (b, tid);
  json_builder_set_member_name (b, "status");
  json_builder_add_string_value (b, status);
  if (reason)
    {
      json_builder_set_member_name (b, "reason");
      json_builder_add_string_value (b, reason);
    }
  json_builder_end_object (b);
  return emu_publish_json (emu, topic, b);
}

gboolean
ft_live_emu_stop_progress (FtLiveEmu *emu, const char *staff_id, gint64 task, const char *status,
                           const char *reason, FtTime now)
{
  g_return_val_if_fail (emu != NULL && staff_id != NULL && status != NULL, FALSE);
  g_autofree char *topic = g_strdup_printf ("%sstaff/%s/stops/v1/progress", emu->prefix_slash, staff_id);
  return emu_task_message (emu, topic, FT_LIVE_STOPS_VERSION, task, status, reason, now);
}

gboolean
ft_live_emu_task_status (FtLiveEmu *emu, const char *staff_id, gint64 task, const char *status,
                         const char *reason, FtTime now)
{
  g_return_val_if_fail (emu != NULL && staff_id != NULL && status != NULL, FALSE);
  g_autofree char *topic = g_strdup_printf ("%sstaff/%s/task", emu->prefix_slash, staff_id);
  return emu_task_message (emu, topic, -1, task, status, reason, now);
}

gboolean
ft_live_emu_obey (FtLiveEmu *emu, FtLiveEmuVehicle *v, guint n, const FtLiveEmuCommand *cmd,
                  FtTime now)
{
  g_return_val_if_fail (emu != NULL && cmd != NULL, FALSE);
  if (now > cmd->expires)
    {
      ft_live_emu_ack (emu, cmd, "expired", "arrived after its expiry", now);
      return FALSE;
    }
  FtLiveEmuVehicle *veh = NULL;
  for (guint i = 0; i < n && veh == NULL; i++)
    if (strcmp (v[i].device_id, cmd->device_id) == 0)
      veh = &v[i];
  if (veh == NULL)
    {
      ft_live_emu_ack (emu, cmd, "failed", "no such device in this emulator", now);
      return FALSE;
    }
  switch (cmd->kind)
    {
    case FT_CMD_UNLOCK: veh->locked = FALSE; break;
    case FT_CMD_LOCK:   veh->locked = TRUE;  break;
    case FT_CMD_LOCATE: ft_live_emu_publish_event (emu, veh, "located", now); break;
    case FT_CMD_ALARM:  break;   /* a beep nobody hears */
    default:            break;
    }
  ft_live_emu_ack (emu, cmd, "ok", NULL, now);
  return TRUE;
}

void
ft_live_emu_stop (FtLiveEmu *emu, const FtLiveEmuVehicle *v, guint n, FtTime now)
{
  g_return_if_fail (emu != NULL);
  if (!emu->started)
    return;
  if (g_atomic_int_get (&emu->conn_state) == FT_LIVE_CONNECTED)
    {
      for (guint i = 0; i < n; i++)
        publish_status (emu, &v[i], "offline", now);
      const char *offline = "{\"status\":\"offline\"}";
      emu_wait_window (emu);
      mosquitto_publish (emu->mosq, NULL, emu->status_topic, (int) strlen (offline), offline, 1, true);
      /* let the queued QoS 1 messages out before DISCONNECT drops them */
      g_mutex_lock (&emu->lock);
      gint64 deadline = g_get_monotonic_time () + 5 * G_USEC_PER_SEC;
      while (emu->outstanding > 0 && g_atomic_int_get (&emu->conn_state) == FT_LIVE_CONNECTED)
        if (!g_cond_wait_until (&emu->cond, &emu->lock, deadline))
          break;
      g_mutex_unlock (&emu->lock);
    }
  mosquitto_disconnect (emu->mosq);
  mosquitto_loop_stop (emu->mosq, false);
  emu->started = FALSE;
  emu_set_state (emu, FT_LIVE_DISCONNECTED, NULL);
}

guint64
ft_live_emu_n_published (FtLiveEmu *emu)
{
  g_return_val_if_fail (emu != NULL, 0);
  return emu->n_published;
}

guint64
ft_live_emu_n_commands (FtLiveEmu *emu)
{
  g_return_val_if_fail (emu != NULL, 0);
  return (guint64) g_atomic_int_get (&emu->n_commands);
}
