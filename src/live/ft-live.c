/* ft-live.c — the MQTT adapter: a libmosquitto network thread subscribes to
 * the fleet's topic tree and queues every message; the twin thread drains
 * the queue in batches (ft_live_process) and applies telemetry, MDS events,
 * command acks, status and staff updates to FtCore, and runs housekeeping
 * (silence → unknown, command retries and expiry). Nothing here reads the
 * wall clock: `now` comes from the caller.
 */
#include "ft-live-private.h"

#include <mqtt_protocol.h>
#include <string.h>
#include <stddef.h>
#include <errno.h>
#include <stdio.h>

G_DEFINE_QUARK (ft-live-error-quark, ft_live_error)

#define MALFORMED_RING   256
#define MAX_PAYLOAD      (64 * 1024)
#define MAX_JSON_DEPTH   16
#define HOUSEKEEP_EVERY  (200 * FT_MS)
#define SILENCE_EVERY    (1 * FT_SECOND)

/* ---------------------------------------------------------------- names */

static const char *const conn_names[] = {
  "disconnected", "connecting", "connected", "reconnecting", "refused",
};
const char *
ft_live_conn_state_name (FtLiveConnState s)
{
  return (guint) s < G_N_ELEMENTS (conn_names) ? conn_names[s] : "invalid";
}

static const char *const cmd_names[FT_N_CMDS] = { "unlock", "lock", "locate", "alarm" };
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

/* --------------------------------------------------------------- config */

void
ft_live_config_init (FtLiveConfig *cfg)
{
  g_return_if_fail (cfg != NULL);
  memset (cfg, 0, sizeof *cfg);
  cfg->protocol = 3;
  cfg->keepalive_s = 30;
  cfg->qos = 1;
  cfg->reconnect_min_s = 1;
  cfg->reconnect_max_s = 30;
  cfg->unknown = FT_LIVE_UNKNOWN_REFUSE;
  cfg->provision_per_minute = 60;
  cfg->silent_after = 60 * FT_SECOND;
  cfg->telemetry_every = 30 * FT_SECOND;
  cfg->staff_every = 30 * FT_SECOND;
  cfg->max_future = 5 * FT_MINUTE;
  cfg->command_ttl = 30 * FT_SECOND;
  cfg->command_retry = 3 * FT_SECOND;
  cfg->command_max_attempts = 3;
  cfg->auto_commands = TRUE;
  cfg->announce_status = TRUE;
  cfg->clean_session = FALSE;
  cfg->session_expiry_s = 24 * 3600;
  cfg->max_packet_size = MAX_PAYLOAD + 4096;
}

void
ft_live_config_clear (FtLiveConfig *cfg)
{
  if (cfg == NULL)
    return;
  g_clear_pointer (&cfg->url, g_free);
  g_clear_pointer (&cfg->prefix, g_free);
  g_clear_pointer (&cfg->client_id, g_free);
  g_clear_pointer (&cfg->ca_file, g_free);
  g_clear_pointer (&cfg->cert_file, g_free);
  g_clear_pointer (&cfg->key_file, g_free);
  g_clear_pointer (&cfg->username, g_free);
  g_clear_pointer (&cfg->password, g_free);
}

static void
config_copy (FtLiveConfig *dst, const FtLiveConfig *src)
{
  *dst = *src;
  dst->url = g_strdup (src->url);
  dst->prefix = g_strdup (src->prefix);
  dst->client_id = g_strdup (src->client_id);
  dst->ca_file = g_strdup (src->ca_file);
  dst->cert_file = g_strdup (src->cert_file);
  dst->key_file = g_strdup (src->key_file);
  dst->username = g_strdup (src->username);
  dst->password = g_strdup (src->password);
}

/* ------------------------------------------------------------------ URL */

void
ft_live_url_clear (FtLiveUrl *u)
{
  if (u == NULL)
    return;
  g_clear_pointer (&u->host, g_free);
  g_clear_pointer (&u->username, g_free);
  g_clear_pointer (&u->password, g_free);
}

char *
ft_live_url_redact (const char *url)
{
  if (url == NULL)
    return NULL;
  const char *scheme = strstr (url, "://");
  const char *rest = scheme ? scheme + 3 : url;
  const char *slash = strchr (rest, '/');
  const char *at = NULL;
  for (const char *p = rest; *p && (slash == NULL || p < slash); p++)
    if (*p == '@')
      at = p;                           /* the last '@' before the path */
  if (at == NULL)
    return g_strdup (url);
  const char *colon = memchr (rest, ':', at - rest);
  if (colon == NULL)
    return g_strdup (url);              /* a user name alone is no secret */
  return g_strdup_printf ("%.*s:***%s", (int) (colon - url), url, at);
}

gboolean
ft_live_parse_url (const char *url, FtLiveUrl *out, GError **error)
{
  g_return_val_if_fail (out != NULL, FALSE);
  memset (out, 0, sizeof *out);
  if (url == NULL || *url == '\0')
    {
      g_set_error (error, FT_LIVE_ERROR, FT_LIVE_ERROR_URL,
                   "no broker URL given (expected mqtt://host:port or mqtts://host:port)");
      return FALSE;
    }
  const char *rest;
  if (g_str_has_prefix (url, "mqtt://") || g_str_has_prefix (url, "tcp://"))
    {
      out->tls = FALSE;
      rest = strstr (url, "://") + 3;
    }
  else if (g_str_has_prefix (url, "mqtts://") || g_str_has_prefix (url, "ssl://"))
    {
      out->tls = TRUE;
      rest = strstr (url, "://") + 3;
    }
  else
    {
      g_autofree char *shown = ft_live_url_redact (url);
      g_set_error (error, FT_LIVE_ERROR, FT_LIVE_ERROR_URL,
                   "broker URL '%s' must start with mqtt:// or mqtts://", shown);
      return FALSE;
    }
  g_autofree char *hostport = NULL;
  const char *at = strrchr (rest, '@');
  const char *slash = strchr (rest, '/');
  if (at && (slash == NULL || at < slash))
    {
      g_autofree char *cred = g_strndup (rest, at - rest);
      char *colon = strchr (cred, ':');
      if (colon)
        {
          *colon = '\0';
          out->password = g_uri_unescape_string (colon + 1, NULL);
        }
      out->username = g_uri_unescape_string (cred, NULL);
      rest = at + 1;
      slash = strchr (rest, '/');
    }
  hostport = slash ? g_strndup (rest, slash - rest) : g_strdup (rest);
  out->port = out->tls ? 8883 : 1883;
  char *host_start = hostport, *port_str = NULL;
  if (hostport[0] == '[')
    {
      char *close = strchr (hostport, ']');
      if (close == NULL)
        goto bad;
      *close = '\0';
      host_start = hostport + 1;
      if (close[1] == ':')
        port_str = close + 2;
      else if (close[1] != '\0')
        goto bad;
    }
  else
    {
      char *colon = strrchr (hostport, ':');
      if (colon)
        {
          *colon = '\0';
          port_str = colon + 1;
        }
    }
  if (*host_start == '\0')
    goto bad;
  if (port_str)
    {
      char *end = NULL;
      errno = 0;
      long p = strtol (port_str, &end, 10);
      if (errno || end == port_str || *end != '\0' || p < 1 || p > 65535)
        {
          g_autofree char *shown = ft_live_url_redact (url);
          g_set_error (error, FT_LIVE_ERROR, FT_LIVE_ERROR_URL,
                       "broker URL '%s': port '%s' is not a number in 1..65535", shown, port_str);
          ft_live_url_clear (out);
          return FALSE;
        }
      out->port = (int) p;
    }
  out->host = g_strdup (host_start);
  return TRUE;

bad:
  {
    g_autofree char *shown = ft_live_url_redact (url);
    g_set_error (error, FT_LIVE_ERROR, FT_LIVE_ERROR_URL,
                 "broker URL '%s' has no usable host (expected mqtt://host:port)", shown);
  }
  ft_live_url_clear (out);
  return FALSE;
}

/* ------------------------------------------------------- shared helpers */

void
ft_live_lib_init_once (void)
{
  static gsize once = 0;
  if (g_once_init_enter (&once))
    {
      mosquitto_lib_init ();
      g_once_init_leave (&once, 1);
    }
}

gboolean
ft_live_setup_mosq (struct mosquitto *mosq, const FtLiveConfig *cfg,
                    const FtLiveUrl *url, GError **error)
{
  int proto = cfg->protocol == 5 ? MQTT_PROTOCOL_V5 : MQTT_PROTOCOL_V311;
  mosquitto_int_option (mosq, MOSQ_OPT_PROTOCOL_VERSION, proto);
  /* small messages: no Nagle delay (it costs up to 40 ms with delayed acks) */
  mosquitto_int_option (mosq, MOSQ_OPT_TCP_NODELAY, 1);
  const char *user = cfg->username ? cfg->username : url->username;
  const char *pass = cfg->password ? cfg->password : url->password;
  if (user && mosquitto_username_pw_set (mosq, user, pass) != MOSQ_ERR_SUCCESS)
    {
      g_set_error (error, FT_LIVE_ERROR, FT_LIVE_ERROR_URL,
                   "username '%s' cannot be used with MQTT", user);
      return FALSE;
    }
  if (url->tls || cfg->ca_file || cfg->cert_file)
    {
      if (!url->tls)
        {
          g_autofree char *shown = ft_live_url_redact (cfg->url);
          g_set_error (error, FT_LIVE_ERROR, FT_LIVE_ERROR_TLS,
                       "TLS files given but broker URL '%s' is not mqtts://", shown);
          return FALSE;
        }
      const char *files[3] = { cfg->ca_file, cfg->cert_file, cfg->key_file };
      const char *what[3] = { "CA file", "client certificate", "client key" };
      for (int i = 0; i < 3; i++)
        if (files[i] && !g_file_test (files[i], G_FILE_TEST_IS_REGULAR))
          {
            g_set_error (error, FT_LIVE_ERROR, FT_LIVE_ERROR_TLS,
                         "%s '%s' does not exist or is not a file", what[i], files[i]);
            return FALSE;
          }
      if ((cfg->cert_file == NULL) != (cfg->key_file == NULL))
        {
          g_set_error (error, FT_LIVE_ERROR, FT_LIVE_ERROR_TLS,
                       "a client certificate needs both --cert and --key");
          return FALSE;
        }
      int rc = mosquitto_tls_set (mosq, cfg->ca_file,
                                  cfg->ca_file ? NULL : "/etc/ssl/certs",
                                  cfg->cert_file, cfg->key_file, NULL);
      if (rc != MOSQ_ERR_SUCCESS)
        {
          g_set_error (error, FT_LIVE_ERROR, FT_LIVE_ERROR_TLS,
                       "TLS set-up failed (CA '%s', cert '%s'): %s",
                       cfg->ca_file ? cfg->ca_file : "/etc/ssl/certs",
                       cfg->cert_file ? cfg->cert_file : "none", mosquitto_strerror (rc));
          return FALSE;
        }
    }
  mosquitto_reconnect_delay_set (mosq, MAX (cfg->reconnect_min_s, 1),
                                 MAX (cfg->reconnect_max_s, cfg->reconnect_min_s), true);
  mosquitto_max_inflight_messages_set (mosq, 1000);
  return TRUE;
}

const char *
ft_live_connack_text (int rc, int protocol, gboolean *is_auth)
{
  gboolean auth = FALSE;
  const char *text;
  if (protocol == 5)
    {
      auth = (rc == 134 || rc == 135 || rc == 138 || rc == 140);
      text = mosquitto_reason_string (rc);
    }
  else
    {
      auth = (rc == 4 || rc == 5);
      text = mosquitto_connack_string (rc);
    }
  if (is_auth)
    *is_auth = auth;
  return text;
}

guint
ft_live_json_depth (const char *s, gsize len, guint limit)
{
  guint depth = 0, max = 0;
  gboolean in_str = FALSE;
  for (gsize i = 0; i < len; i++)
    {
      char c = s[i];
      if (in_str)
        {
          if (c == '\\')
            i++;
          else if (c == '"')
            in_str = FALSE;
          continue;
        }
      if (c == '"')
        in_str = TRUE;
      else if (c == '{' || c == '[')
        {
          if (++depth > max)
            {
              max = depth;
              if (max > limit)
                return max;
            }
        }
      else if ((c == '}' || c == ']') && depth > 0)
        depth--;
    }
  return max;
}

gboolean
ft_live_json_number (JsonObject *o, const char *name, double *out, gboolean *bad)
{
  JsonNode *n = json_object_get_member (o, name);
  if (n == NULL || JSON_NODE_HOLDS_NULL (n))
    return FALSE;
  if (!JSON_NODE_HOLDS_VALUE (n))
    {
      *bad = TRUE;
      return FALSE;
    }
  GType t = json_node_get_value_type (n);
  double d;
  if (t == G_TYPE_INT64)
    d = (double) json_node_get_int (n);
  else if (t == G_TYPE_DOUBLE)
    d = json_node_get_double (n);
  else
    {
      *bad = TRUE;
      return FALSE;
    }
  if (!isfinite (d))
    {
      *bad = TRUE;
      return FALSE;
    }
  *out = d;
  return TRUE;
}

gboolean
ft_live_json_int64 (JsonObject *o, const char *name, gint64 *out, gboolean *bad)
{
  JsonNode *n = json_object_get_member (o, name);
  if (n == NULL || JSON_NODE_HOLDS_NULL (n))
    return FALSE;
  if (!JSON_NODE_HOLDS_VALUE (n))
    {
      *bad = TRUE;
      return FALSE;
    }
  GType t = json_node_get_value_type (n);
  if (t == G_TYPE_INT64)
    {
      *out = json_node_get_int (n);
      return TRUE;
    }
  if (t == G_TYPE_DOUBLE)
    {
      double d = json_node_get_double (n);
      /* within ±2^53 and integral: exact */
      if (isfinite (d) && fabs (d) < 9007199254740992.0 && d == floor (d))
        {
          *out = (gint64) d;
          return TRUE;
        }
    }
  *bad = TRUE;
  return FALSE;
}

const char *
ft_live_json_string (JsonObject *o, const char *name, gboolean *bad)
{
  JsonNode *n = json_object_get_member (o, name);
  if (n == NULL || JSON_NODE_HOLDS_NULL (n))
    return NULL;
  if (!JSON_NODE_HOLDS_VALUE (n) || json_node_get_value_type (n) != G_TYPE_STRING)
    {
      *bad = TRUE;
      return NULL;
    }
  return json_node_get_string (n);
}

gboolean
ft_live_json_bool (JsonObject *o, const char *name, gboolean *out, gboolean *bad)
{
  JsonNode *n = json_object_get_member (o, name);
  if (n == NULL || JSON_NODE_HOLDS_NULL (n))
    return FALSE;
  if (!JSON_NODE_HOLDS_VALUE (n) || json_node_get_value_type (n) != G_TYPE_BOOLEAN)
    {
      *bad = TRUE;
      return FALSE;
    }
  *out = json_node_get_boolean (n);
  return TRUE;
}

/* ------------------------------------------------------ outgoing JSON */

JsonBuilder *
ft_live_json_begin (void)
{
  JsonBuilder *b = json_builder_new ();
  json_builder_begin_object (b);
  return b;
}

void
ft_live_json_put_str (JsonBuilder *b, const char *name, const char *value)
{
  json_builder_set_member_name (b, name);
  if (value)
    json_builder_add_string_value (b, value);
  else
    json_builder_add_null_value (b);
}

void
ft_live_json_put_int (JsonBuilder *b, const char *name, gint64 value)
{
  json_builder_set_member_name (b, name);
  json_builder_add_int_value (b, value);
}

void
ft_live_json_put_num (JsonBuilder *b, const char *name, double value, int decimals)
{
  json_builder_set_member_name (b, name);
  if (!isfinite (value))
    {
      json_builder_add_null_value (b);
      return;
    }
  double scale = pow (10.0, CLAMP (decimals, 0, 9));
  double r = round (value * scale) / scale;
  if (decimals == 0 && fabs (r) < 9007199254740992.0)
    json_builder_add_int_value (b, (gint64) r);
  else
    json_builder_add_double_value (b, r);
}

char *
ft_live_json_end (JsonBuilder *b, gsize *len_out)
{
  json_builder_end_object (b);
  g_autoptr(JsonNode) root = json_builder_get_root (b);
  g_autoptr(JsonGenerator) gen = json_generator_new ();
  json_generator_set_root (gen, root);
  gsize len = 0;
  char *text = json_generator_to_data (gen, &len);
  g_object_unref (b);
  if (len_out)
    *len_out = len;
  return text;
}

static const char *const wire_kinds[FT_N_TASK_KINDS] = { "swap", "rebalance", "collect", "deploy" };

char *
ft_live_command_payload (const FtLiveCommand *c, FtTime now, gsize *len_out)
{
  JsonBuilder *b = ft_live_json_begin ();
  ft_live_json_put_str (b, "command_id", c->id);
  ft_live_json_put_str (b, "command", ft_live_command_name (c->kind));
  ft_live_json_put_int (b, "timestamp", now);
  ft_live_json_put_int (b, "expires", c->expires);
  ft_live_json_put_int (b, "attempt", c->attempts + 1);
  return ft_live_json_end (b, len_out);
}

char *
ft_live_assignment_payload (const FtLiveAssignment *a, FtTime now, gsize *len_out)
{
  JsonBuilder *b = ft_live_json_begin ();
  g_autofree char *task = g_strdup_printf ("task-%" G_GINT64_FORMAT, a->task);
  gboolean has_pos = isfinite (a->target.lat) && isfinite (a->target.lon);
  ft_live_json_put_str (b, "command_id", a->id);
  ft_live_json_put_str (b, "task_id", task);
  ft_live_json_put_str (b, "kind", (guint) a->kind < FT_N_TASK_KINDS ? wire_kinds[a->kind] : "unknown");
  ft_live_json_put_str (b, "device_id", a->device_id);
  ft_live_json_put_num (b, "lat", has_pos ? a->target.lat : NAN, 7);
  ft_live_json_put_num (b, "lon", has_pos ? a->target.lon : NAN, 7);
  ft_live_json_put_int (b, "priority", a->priority);
  ft_live_json_put_int (b, "timestamp", now);
  ft_live_json_put_int (b, "expires", a->expires);
  ft_live_json_put_int (b, "attempt", a->attempts + 1);
  return ft_live_json_end (b, len_out);
}

char *
ft_live_status_payload (const char *status, FtTime now, gsize *len_out)
{
  JsonBuilder *b = ft_live_json_begin ();
  ft_live_json_put_str (b, "status", status);
  if (now >= 0)
    ft_live_json_put_int (b, "timestamp", now);
  return ft_live_json_end (b, len_out);
}

/* --------------------------------------------------------------- fields */

/* Payload fields behind one interface with two back ends: a strict reader
 * for flat JSON objects (the shape of every message in the contract; no
 * allocation, the hot path) and json-glib for anything else. The fast
 * reader accepts only a strict subset of JSON and hands everything it is
 * not sure about (escapes, nesting, long numbers …) to json-glib, so both
 * give the same values and json-glib has the last word on errors. */

enum { FV_NULL = 0, FV_INT, FV_DBL, FV_STR, FV_BOOL, FV_ARR, FV_OTHER };
#define FAST_MAX_FIELDS 24
#define FAST_MAX_ARR    8

typedef struct {
  const char *key;
  guint8      type;
  guint8      n;                       /* array length */
  guint8      arr_type;                /* FV_INT / FV_STR / FV_NULL (empty) */
  gboolean    b;
  gint64      i;
  double      d;
  const char *s;
  gint64      ai[FAST_MAX_ARR];
  const char *as[FAST_MAX_ARR];
} FastField;

typedef struct {
  JsonObject *o;                       /* json-glib back end, or NULL */
  guint       n;
  FastField   f[FAST_MAX_FIELDS];
} Fields;

static inline const char *
fast_ws (const char *p, const char *end)
{
  while (p < end && (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r'))
    p++;
  return p;
}

/* A string without escapes or control characters; NUL-terminates it in
 * place (buf is our own copy). */
static const char *
fast_string (char *p, const char *end, const char **out)
{
  char *q = ++p;
  while (q < end && *q != '"')
    {
      if (*q == '\\' || (guchar) *q < 0x20)
        return NULL;
      q++;
    }
  if (q >= end)
    return NULL;
  *q = '\0';
  *out = p;
  return q + 1;
}

static const char *
fast_number (const char *p, const char *end, FastField *f)
{
  const char *st = p;
  gboolean is_int = TRUE;
  if (p < end && *p == '-')
    p++;
  if (p >= end || !g_ascii_isdigit (*p))
    return NULL;
  if (*p == '0')
    p++;
  else
    while (p < end && g_ascii_isdigit (*p))
      p++;
  if (p < end && *p == '.')
    {
      is_int = FALSE;
      p++;
      if (p >= end || !g_ascii_isdigit (*p))
        return NULL;
      while (p < end && g_ascii_isdigit (*p))
        p++;
    }
  if (p < end && (*p == 'e' || *p == 'E'))
    {
      is_int = FALSE;
      p++;
      if (p < end && (*p == '+' || *p == '-'))
        p++;
      if (p >= end || !g_ascii_isdigit (*p))
        return NULL;
      while (p < end && g_ascii_isdigit (*p))
        p++;
    }
  gsize n = p - st;
  if (n >= 32 || (is_int && n > 18))
    return NULL;               /* long: let json-glib decide */
  char buf[32];
  memcpy (buf, st, n);
  buf[n] = '\0';
  if (is_int)
    {
      f->type = FV_INT;
      f->i = g_ascii_strtoll (buf, NULL, 10);
    }
  else
    {
      f->type = FV_DBL;
      f->d = g_ascii_strtod (buf, NULL);
      if (!isfinite (f->d))
        return NULL;
    }
  return p;
}

static gboolean
fast_parse (char *buf, gsize len, Fields *F)
{
  const char *end = buf + len;
  char *p = (char *) fast_ws (buf, end);
  F->o = NULL;
  F->n = 0;
  if (p >= end || *p != '{')
    return FALSE;
  p = (char *) fast_ws (p + 1, end);
  if (p < end && *p == '}')
    return fast_ws (p + 1, end) == end;
  for (;;)
    {
      if (p >= end || *p != '"' || F->n >= FAST_MAX_FIELDS)
        return FALSE;
      FastField *f = &F->f[F->n];
      memset (f, 0, offsetof (FastField, ai));
      p = (char *) fast_string (p, end, &f->key);
      if (p == NULL)
        return FALSE;
      p = (char *) fast_ws (p, end);
      if (p >= end || *p != ':')
        return FALSE;
      p = (char *) fast_ws (p + 1, end);
      if (p >= end)
        return FALSE;
      if (*p == '"')
        {
          f->type = FV_STR;
          p = (char *) fast_string (p, end, &f->s);
        }
      else if (*p == '-' || g_ascii_isdigit (*p))
        p = (char *) fast_number (p, end, f);
      else if (end - p >= 4 && memcmp (p, "true", 4) == 0)
        {
          f->type = FV_BOOL;
          f->b = TRUE;
          p += 4;
        }
      else if (end - p >= 5 && memcmp (p, "false", 5) == 0)
        {
          f->type = FV_BOOL;
          f->b = FALSE;
          p += 5;
        }
      else if (end - p >= 4 && memcmp (p, "null", 4) == 0)
        {
          f->type = FV_NULL;
          p += 4;
        }
      else if (*p == '[')
        {
          f->type = FV_ARR;
          f->arr_type = FV_NULL;
          p = (char *) fast_ws (p + 1, end);
          if (p < end && *p == ']')
            p++;
          else
            for (;;)
              {
                if (p >= end || f->n >= FAST_MAX_ARR)
                  return FALSE;
                if (*p == '"' && f->arr_type != FV_INT)
                  {
                    f->arr_type = FV_STR;
                    p = (char *) fast_string (p, end, &f->as[f->n]);
                  }
                else if ((*p == '-' || g_ascii_isdigit (*p)) && f->arr_type != FV_STR)
                  {
                    FastField tmp = { 0 };
                    f->arr_type = FV_INT;
                    p = (char *) fast_number (p, end, &tmp);
                    if (p == NULL || tmp.type != FV_INT)
                      return FALSE;
                    f->ai[f->n] = tmp.i;
                  }
                else
                  return FALSE;
                if (p == NULL)
                  return FALSE;
                f->n++;
                p = (char *) fast_ws (p, end);
                if (p < end && *p == ',')
                  {
                    p = (char *) fast_ws (p + 1, end);
                    continue;
                  }
                if (p < end && *p == ']')
                  {
                    p++;
                    break;
                  }
                return FALSE;
              }
        }
      else
        return FALSE;
      if (p == NULL)
        return FALSE;
      F->n++;
      p = (char *) fast_ws (p, end);
      if (p < end && *p == ',')
        {
          p = (char *) fast_ws (p + 1, end);
          continue;
        }
      if (p < end && *p == '}')
        return fast_ws (p + 1, end) == end;
      return FALSE;
    }
}

static const FastField *
fast_find (const Fields *F, const char *name)
{
  for (guint i = F->n; i-- > 0;)          /* last one wins, as in json-glib */
    if (strcmp (F->f[i].key, name) == 0)
      return &F->f[i];
  return NULL;
}

static gboolean
fields_number (const Fields *F, const char *name, double *out, gboolean *bad)
{
  if (F->o)
    return ft_live_json_number (F->o, name, out, bad);
  const FastField *f = fast_find (F, name);
  if (f == NULL || f->type == FV_NULL)
    return FALSE;
  if (f->type == FV_INT)
    *out = (double) f->i;
  else if (f->type == FV_DBL)
    *out = f->d;
  else
    {
      *bad = TRUE;
      return FALSE;
    }
  return TRUE;
}

static gboolean
fields_int64 (const Fields *F, const char *name, gint64 *out, gboolean *bad)
{
  if (F->o)
    return ft_live_json_int64 (F->o, name, out, bad);
  const FastField *f = fast_find (F, name);
  if (f == NULL || f->type == FV_NULL)
    return FALSE;
  if (f->type == FV_INT)
    {
      *out = f->i;
      return TRUE;
    }
  if (f->type == FV_DBL && fabs (f->d) < 9007199254740992.0 && f->d == floor (f->d))
    {
      *out = (gint64) f->d;
      return TRUE;
    }
  *bad = TRUE;
  return FALSE;
}

static const char *
fields_string (const Fields *F, const char *name, gboolean *bad)
{
  if (F->o)
    return ft_live_json_string (F->o, name, bad);
  const FastField *f = fast_find (F, name);
  if (f == NULL || f->type == FV_NULL)
    return NULL;
  if (f->type != FV_STR)
    {
      *bad = TRUE;
      return NULL;
    }
  return f->s;
}

static gboolean
fields_bool (const Fields *F, const char *name, gboolean *out, gboolean *bad)
{
  if (F->o)
    return ft_live_json_bool (F->o, name, out, bad);
  const FastField *f = fast_find (F, name);
  if (f == NULL || f->type == FV_NULL)
    return FALSE;
  if (f->type != FV_BOOL)
    {
      *bad = TRUE;
      return FALSE;
    }
  *out = f->b;
  return TRUE;
}

/* Kind of a member: FV_NULL if absent or null. */
static int
fields_kind (const Fields *F, const char *name)
{
  if (F->o)
    {
      JsonNode *n = json_object_get_member (F->o, name);
      if (n == NULL || JSON_NODE_HOLDS_NULL (n))
        return FV_NULL;
      if (JSON_NODE_HOLDS_ARRAY (n))
        return FV_ARR;
      if (!JSON_NODE_HOLDS_VALUE (n))
        return FV_OTHER;
      GType t = json_node_get_value_type (n);
      return t == G_TYPE_INT64 ? FV_INT : t == G_TYPE_DOUBLE ? FV_DBL
           : t == G_TYPE_STRING ? FV_STR : t == G_TYPE_BOOLEAN ? FV_BOOL : FV_OTHER;
    }
  const FastField *f = fast_find (F, name);
  return f ? f->type : FV_NULL;
}

static guint
fields_array_len (const Fields *F, const char *name)
{
  if (F->o)
    return json_array_get_length (json_object_get_array_member (F->o, name));
  return fast_find (F, name)->n;
}

/* Element k: TRUE with *i set if it is an integer. */
static gboolean
fields_array_int (const Fields *F, const char *name, guint k, gint64 *i)
{
  if (F->o)
    {
      JsonNode *e = json_array_get_element (json_object_get_array_member (F->o, name), k);
      if (!JSON_NODE_HOLDS_VALUE (e) || json_node_get_value_type (e) != G_TYPE_INT64)
        return FALSE;
      *i = json_node_get_int (e);
      return TRUE;
    }
  const FastField *f = fast_find (F, name);
  if (f->arr_type != FV_INT)
    return FALSE;
  *i = f->ai[k];
  return TRUE;
}

static const char *
fields_array_string (const Fields *F, const char *name, guint k)
{
  if (F->o)
    {
      JsonNode *e = json_array_get_element (json_object_get_array_member (F->o, name), k);
      if (!JSON_NODE_HOLDS_VALUE (e) || json_node_get_value_type (e) != G_TYPE_STRING)
        return NULL;
      return json_node_get_string (e);
    }
  const FastField *f = fast_find (F, name);
  return f->arr_type == FV_STR ? f->as[k] : NULL;
}

/* --------------------------------------------------------------- object */

typedef enum { MSG_MQTT = 0, MSG_CONN } MsgType;

typedef struct {
  MsgType type;
  int     conn_state;
  guint   topic_len, payload_len;
  char    data[];   /* topic '\0' payload '\0' (or detail text for MSG_CONN) */
} QueuedMsg;

typedef struct {
  FtTime  last_ts;         /* newest accepted telemetry timestamp (device clock) */
  FtTime  last_event_ts;   /* newest accepted event timestamp */
  FtTime  heard;           /* twin time of the last message */
  FtTime  last_logged;     /* twin time of the last FT_EV_TELEMETRY */
  float   last_speed;      /* m/s of the newest telemetry, NaN if none */
  gboolean unlogged;       /* newer state than the last FT_EV_TELEMETRY (flush writes it) */
  gint8   locked;          /* -1 unknown */
  gint8   logged_locked;
  guint8  logged_state;
  gboolean comms_lost;     /* we made it unknown for silence / offline */
  guint8  state_before_loss;
  guint64 last_event_hash;
} VehicleMeta;

struct _FtLive {
  FtCore          *core;
  FtLiveConfig     cfg;
  FtLiveUrl        url;
  char            *prefix_slash;   /* "<prefix>/" */
  gsize            prefix_len;
  char            *twin_status_topic;
  char            *id_tag;         /* client id cut to 19 bytes at a UTF-8 boundary, for ids */
  struct mosquitto *mosq;
  mosquitto_property *connect_props; /* MQTT 5 CONNECT properties, sent on every connect */
  GThread         *net_thread;     /* connects, runs the mosquitto loop, reconnects */
  gboolean         started;
  gint             stopping;       /* atomic */
  gint             got_connack;    /* atomic: this connection attempt was accepted */
  gint             final_code;     /* atomic: FtLiveError + 1 of a final failure, 0 none */

  /* network → twin */
  GAsyncQueue     *queue;
  gint             conn_state;     /* atomic FtLiveConnState */
  GMutex           state_lock;
  GCond            state_cond;
  char            *last_error;     /* under state_lock (network side) */
  char            *tls_error;      /* under state_lock: first OpenSSL error of this attempt */
  char            *last_error_twin;/* copy for the twin thread */
  gint             queue_len;      /* atomic, for high water */

  FtLiveStateFunc  state_fn;
  gpointer         state_data;
  FtLiveTelemetryFunc tel_fn;
  gpointer         tel_data;

  JsonParser      *parser;
  Fields           fields;         /* the message being ingested */
  char            *scratch;        /* its payload, copied for the fast reader */
  gsize            scratch_size;
  FtLiveStats      stats;
  VehicleMeta     *meta;
  guint            n_meta;
  FtLiveMalformed  ring[MALFORMED_RING];
  guint            ring_start, ring_n;

  GArray          *commands;       /* FtLiveCommand */
  GHashTable      *command_index;  /* id → index+1 */
  guint64          next_command;
  guint            n_open;

  GArray          *staff;          /* FtLiveStaff */
  GHashTable      *staff_index;    /* id → index+1 */

  FtOps           *ops;            /* borrowed, may be NULL */
  GArray          *assignments;    /* FtLiveAssignment */
  GHashTable      *assign_index;   /* command id → index+1 */
  GHashTable      *assign_by_task; /* task id (gint64 *) → index+1 of the newest */
  guint64          next_assign;
  guint            n_open_assign;

  double           prov_tokens;    /* provisioning token bucket */
  FtTime           prov_refill;    /* when it was last refilled; G_MININT64 = full */
  FtTime           last_unknown_log;

  guint            listener_id;
  FtTime           last_housekeep, last_silence_scan;
  gboolean         heard_initialised;
};

/* ------------------------------------------------------ malformed ring */

static void
note_refused (FtLive *live, FtTime now, const char *topic, const char *fmt, ...) G_GNUC_PRINTF (4, 5);

static void
note_refused (FtLive *live, FtTime now, const char *topic, const char *fmt, ...)
{
  guint slot;
  if (live->ring_n < MALFORMED_RING)
    slot = (live->ring_start + live->ring_n++) % MALFORMED_RING;
  else
    {
      slot = live->ring_start;
      live->ring_start = (live->ring_start + 1) % MALFORMED_RING;
    }
  FtLiveMalformed *m = &live->ring[slot];
  m->t = now;
  /* topics come from the network: keep them printable */
  gsize i = 0;
  for (; topic && topic[i] && i < sizeof m->topic - 1; i++)
    m->topic[i] = g_ascii_isprint (topic[i]) ? topic[i] : '?';
  m->topic[i] = '\0';
  va_list ap;
  va_start (ap, fmt);
  g_vsnprintf (m->reason, sizeof m->reason, fmt, ap);
  va_end (ap);
  for (char *p = m->reason; *p; p++)
    if (!g_ascii_isprint (*p))
      *p = '?';
  /* The log is bounded too: one line per refusal for the first ones, then
   * one per thousand. */
  guint64 total = live->stats.malformed + live->stats.unknown_refused;
  if (total <= 20 || total % 1000 == 0)
    g_debug ("live: refused message on %s: %s (%" G_GUINT64_FORMAT " so far)",
             m->topic, m->reason, total);
}

const FtLiveMalformed *
ft_live_get_malformed (FtLive *live, guint *n_out)
{
  g_return_val_if_fail (live != NULL, NULL);
  /* make the ring contiguous (oldest first) */
  if (live->ring_start != 0)
    {
      FtLiveMalformed tmp[MALFORMED_RING];
      for (guint i = 0; i < live->ring_n; i++)
        tmp[i] = live->ring[(live->ring_start + i) % MALFORMED_RING];
      memcpy (live->ring, tmp, live->ring_n * sizeof tmp[0]);
      live->ring_start = 0;
    }
  if (n_out)
    *n_out = live->ring_n;
  return live->ring;
}

static gboolean
refuse (FtLive *live, FtTime now, const char *topic, GError **error,
        const char *reason)
{
  live->stats.malformed++;
  note_refused (live, now, topic, "%s", reason);
  g_set_error (error, FT_LIVE_ERROR, FT_LIVE_ERROR_MALFORMED, "%s: %s",
               topic ? topic : "(no topic)", reason);
  return FALSE;
}

/* An unknown vehicle or staff id refused: counted, kept in the ring, and
 * told to the operator at most once every 10 s (with the running count). */
static gboolean
refuse_unknown (FtLive *live, FtTime now, const char *topic, GError **error, int code,
                const char *reason)
{
  live->stats.unknown_refused++;
  note_refused (live, now, topic, "%s", reason);
  if (live->last_unknown_log == G_MININT64 || now - live->last_unknown_log >= 10 * FT_SECOND)
    {
      live->last_unknown_log = now;
      g_message ("live: refused %s: %s (%" G_GUINT64_FORMAT " unknown ids refused so far)",
                 live->ring[(live->ring_start + live->ring_n - 1) % MALFORMED_RING].topic, reason,
                 live->stats.unknown_refused);
    }
  g_set_error (error, FT_LIVE_ERROR, code, "%s: %s", topic ? topic : "(no topic)", reason);
  return FALSE;
}

/* Provisioning budget: a token bucket of provision_per_minute tokens that
 * refills continuously on the twin's clock. */
static gboolean
take_provision_token (FtLive *live, FtTime now)
{
  double cap = live->cfg.provision_per_minute;
  if (cap <= 0)
    return FALSE;
  if (live->prov_refill == G_MININT64)
    live->prov_tokens = cap;
  else if (now > live->prov_refill)
    live->prov_tokens = MIN (cap, live->prov_tokens + (double) (now - live->prov_refill) * cap / FT_MINUTE);
  live->prov_refill = MAX (now, live->prov_refill);
  if (live->prov_tokens < 1.0)
    {
      live->stats.provision_limited++;
      return FALSE;
    }
  live->prov_tokens -= 1.0;
  return TRUE;
}

/* ------------------------------------------------------ network thread */

static void
set_conn_state (FtLive *live, FtLiveConnState s, const char *detail)
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
    "staff/+/tasks/ack",
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
      set_conn_state (live, FT_LIVE_CONNECTED, NULL);
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
      set_conn_state (live, FT_LIVE_REFUSED, detail);
    }
  else
    set_conn_state (live, FT_LIVE_RECONNECTING, detail);
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
      set_conn_state (live, FT_LIVE_DISCONNECTED, NULL);
      return;
    }
  g_autofree char *detail = g_strdup_printf ("lost connection to %s:%d: %s",
                                             live->url.host, live->url.port,
                                             mosquitto_strerror (rc));
  set_conn_state (live, FT_LIVE_RECONNECTING, detail);
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
static gpointer
net_main (gpointer data)
{
  FtLive *live = data;
  guint min_delay = MAX (live->cfg.reconnect_min_s, 1);
  guint max_delay = MAX (live->cfg.reconnect_max_s, min_delay);
  guint delay = min_delay;
  while (!g_atomic_int_get (&live->stopping))
    {
      g_atomic_int_set (&live->got_connack, 0);
      g_mutex_lock (&live->state_lock);
      g_clear_pointer (&live->last_error, g_free);
      g_clear_pointer (&live->tls_error, g_free);
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
          set_conn_state (live, FT_LIVE_REFUSED, detail);
          break;
        }
      if (!connected)
        {
          /* no connection, so no disconnect callback: report it here */
          g_autofree char *detail =
            g_strdup_printf ("cannot reach broker %s:%d: %s", live->url.host, live->url.port,
                             rc == MOSQ_ERR_ERRNO ? g_strerror (err) : mosquitto_strerror (rc));
          set_conn_state (live, FT_LIVE_RECONNECTING, detail);
        }
      backoff_wait (live, delay);
      delay = MIN (delay * 2, max_delay);
    }
  return NULL;
}

/* ----------------------------------------------------- creation / stop */

static void booking_listener (const FtEvent *ev, gpointer user_data);

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
  config_copy (&live->cfg, cfg);
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
  live->commands = g_array_new (FALSE, TRUE, sizeof (FtLiveCommand));
  live->command_index = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  live->staff = g_array_new (FALSE, TRUE, sizeof (FtLiveStaff));
  live->staff_index = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  live->assignments = g_array_new (FALSE, TRUE, sizeof (FtLiveAssignment));
  live->assign_index = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  live->assign_by_task = g_hash_table_new_full (g_int64_hash, g_int64_equal, g_free, NULL);
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
      mosquitto_connect_callback_set (live->mosq, on_connect);
      mosquitto_disconnect_callback_set (live->mosq, on_disconnect);
      mosquitto_message_callback_set (live->mosq, on_message);
      mosquitto_log_callback_set (live->mosq, on_log);
    }
  if (live->cfg.auto_commands && core->log)
    live->listener_id = ft_event_log_add_listener (core->log, booking_listener, live);
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
  set_conn_state (live, FT_LIVE_CONNECTING, NULL);
  live->net_thread = g_thread_new ("ft-live-net", net_main, live);
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
    set_conn_state (live, FT_LIVE_DISCONNECTED, NULL);
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
  g_array_unref (live->commands);
  g_hash_table_unref (live->command_index);
  g_array_unref (live->staff);
  g_hash_table_unref (live->staff_index);
  g_array_unref (live->assignments);
  g_hash_table_unref (live->assign_index);
  g_hash_table_unref (live->assign_by_task);
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

/* ------------------------------------------------------- vehicle meta */

static VehicleMeta *
meta_for (FtLive *live, guint v)
{
  if (v >= live->n_meta)
    {
      guint n = MAX (v + 1, live->n_meta * 2);
      n = MAX (n, 64);
      live->meta = g_renew (VehicleMeta, live->meta, n);
      for (guint i = live->n_meta; i < n; i++)
        {
          VehicleMeta *m = &live->meta[i];
          memset (m, 0, sizeof *m);
          m->last_ts = -1;
          m->last_event_ts = -1;
          m->heard = G_MININT64;
          m->last_logged = G_MININT64;
          m->locked = -1;
          m->logged_locked = -1;
          m->logged_state = 0xff;
          m->last_speed = NAN;
        }
      live->n_meta = n;
    }
  return &live->meta[v];
}

int
ft_live_vehicle_locked (FtLive *live, guint vehicle)
{
  g_return_val_if_fail (live != NULL, -1);
  return vehicle < live->n_meta ? live->meta[vehicle].locked : -1;
}

FtTime
ft_live_vehicle_last_ts (FtLive *live, guint vehicle)
{
  g_return_val_if_fail (live != NULL, -1);
  return vehicle < live->n_meta ? live->meta[vehicle].last_ts : -1;
}

/* ------------------------------------------------------ state changes */

/* Bring vehicle v to `target` the MDS way if there is one (hint first),
 * else take the device's word (forced) — the device is the authority in
 * live mode. A vehicle the booking module holds is left to booking. */
static void
sync_state (FtLive *live, guint v, FtVehicleState target, int hint, FtTime now)
{
  FtFleet *f = live->core->fleet;
  const FtVehicle *veh = ft_fleet_get_vehicle (f, v);
  if (veh->state == target || veh->booking >= 0)
    return;
  FtVehicleState to;
  if (hint >= 0 && ft_vehicle_transition (veh->state, (FtVehicleEventType) hint, &to) &&
      to == target)
    {
      if (ft_fleet_apply_event (f, v, (FtVehicleEventType) hint, now, NULL))
        return;
    }
  for (int e = 0; e < FT_N_VEVS; e++)
    if (e != FT_VEV_UNSPECIFIED &&
        ft_vehicle_transition (veh->state, (FtVehicleEventType) e, &to) && to == target)
      if (ft_fleet_apply_event (f, v, (FtVehicleEventType) e, now, NULL))
        return;
  /* no legal path: take the reported state as it is */
  FtVehicle copy = *veh;
  copy.state = target;
  copy.state_since = now;
  copy.last_event = hint >= 0 ? (FtVehicleEventType) hint : FT_VEV_UNSPECIFIED;
  ft_fleet_restore_vehicle (f, &copy);
  FtEvent ev = ft_event_init (FT_EV_VEHICLE_STATE, now);
  ev.vehicle = (gint32) v;
  ev.a = (gint32) copy.last_event;
  ev.b = target;
  ev.lat = copy.pos.lat;
  ev.lon = copy.pos.lon;
  ft_event_log_append (live->core->log, &ev);
  live->stats.forced_states++;
}

static void
set_soc (FtLive *live, guint v, double soc, FtTime now)
{
  FtFleet *f = live->core->fleet;
  soc = CLAMP (soc, 0.0, 1.0);
  const FtVehicle *veh = ft_fleet_get_vehicle (f, v);
  if (veh->pack < 0)
    {
      const FtVehicleType *t = ft_vehicle_type_default (veh->kind);
      ft_fleet_add_pack (f, t->pack_capacity_wh, soc, FT_PACK_IN_VEHICLE, (gint32) v, now, NULL);
      return;
    }
  const FtPack *p = ft_fleet_get_pack (f, (guint) veh->pack);
  if (fabs (p->soc - soc) < 1e-9)
    return;
  FtPack copy = *p;
  copy.soc = soc;
  ft_fleet_restore_pack (f, &copy);
}

static gboolean
valid_device_id (const char *id, gsize len)
{
  if (len == 0 || len > 36)
    return FALSE;
  for (gsize i = 0; i < len; i++)
    if (!(g_ascii_isalnum (id[i]) || id[i] == '-' || id[i] == '_'))
      return FALSE;
  return TRUE;
}

/* Find (or, by policy, register) the vehicle named in a topic. */
static gboolean
resolve_vehicle (FtLive *live, const char *topic, const char *id, const Fields *o,
                 gboolean may_register, FtLatLon pos, FtTime now, guint *v_out, GError **error)
{
  FtFleet *f = live->core->fleet;
  if (ft_fleet_lookup_device (f, id, v_out) || ft_fleet_lookup_name (f, id, v_out))
    return TRUE;
  const char *why = NULL;
  if (live->cfg.unknown == FT_LIVE_UNKNOWN_REFUSE)
    why = "unknown vehicle (provisioning of unknown vehicles is off)";
  else if (!ft_uuid_valid (id))
    why = "unknown vehicle and its id is not a UUID, so it cannot be provisioned";
  else if (!may_register)
    why = "unknown vehicle; it is provisioned by its first telemetry with a position";
  else if (!take_provision_token (live, now))
    why = "unknown vehicle not provisioned: provisioning rate limit reached";
  if (why)
    return refuse_unknown (live, now, topic, error, FT_LIVE_ERROR_UNKNOWN_VEHICLE, why);
  FtVehicleKind kind = FT_KIND_SCOOTER;
  gboolean bad = FALSE;
  const char *vt = o ? fields_string (o, "vehicle_type", &bad) : NULL;
  if (vt)
    {
      if (!ft_vehicle_kind_from_id (vt, &kind))
        {
          if (g_str_has_prefix (vt, "bi") || strstr (vt, "bike"))
            kind = FT_KIND_BIKE;
          else if (strstr (vt, "moped"))
            kind = FT_KIND_MOPED;
          else
            kind = FT_KIND_SCOOTER;
        }
    }
  *v_out = ft_fleet_add_vehicle (f, kind, pos, id, now);
  live->stats.registered++;
  return TRUE;
}

static void
maybe_log_telemetry (FtLive *live, guint v, VehicleMeta *m, double speed_mps, FtTime now)
{
  const FtVehicle *veh = ft_fleet_get_vehicle (live->core->fleet, v);
  gboolean changed = m->logged_state != (guint8) veh->state || m->logged_locked != m->locked;
  if (isfinite (speed_mps))
    m->last_speed = (float) speed_mps;
  if (!changed && m->last_logged != G_MININT64 && now - m->last_logged < live->cfg.telemetry_every)
    {
      m->unlogged = TRUE;   /* downsampled: ft_live_flush writes it at the end */
      return;
    }
  FtEvent ev = ft_event_init (FT_EV_TELEMETRY, now);
  ev.vehicle = (gint32) v;
  ev.lat = veh->pos.lat;
  ev.lon = veh->pos.lon;
  ev.amount = (gint64) llround (ft_fleet_soc (live->core->fleet, v) * 1e4);
  ev.a = isfinite (speed_mps) ? (gint32) lround (speed_mps * 3.6) : 0;
  ev.b = m->locked;
  ft_event_log_append (live->core->log, &ev);
  m->last_logged = now;
  m->logged_state = (guint8) veh->state;
  m->logged_locked = m->locked;
  m->unlogged = FALSE;
  live->stats.telemetry_logged++;
}

/* Comms are back: leave `unknown` the MDS way, towards what the device says
 * (or the state it had before we lost it). */
static void
restore_comms (FtLive *live, guint v, VehicleMeta *m, int reported_state, FtTime now)
{
  const FtVehicle *veh = ft_fleet_get_vehicle (live->core->fleet, v);
  if (veh->state != FT_STATE_UNKNOWN)
    {
      m->comms_lost = FALSE;
      return;
    }
  if (reported_state < 0 && !m->comms_lost)
    return;    /* unknown for some other reason: only the device may say */
  FtVehicleState target = reported_state >= 0 ? (FtVehicleState) reported_state
                                              : (FtVehicleState) m->state_before_loss;
  if (target != FT_STATE_UNKNOWN)
    {
      sync_state (live, v, target, FT_VEV_COMMS_RESTORED, now);
      live->stats.comms_restored++;
    }
  m->comms_lost = FALSE;
}

static void
lose_comms (FtLive *live, guint v, VehicleMeta *m, FtTime now)
{
  const FtVehicle *veh = ft_fleet_get_vehicle (live->core->fleet, v);
  if (veh->state == FT_STATE_UNKNOWN || veh->state == FT_STATE_REMOVED || veh->booking >= 0)
    return;
  m->state_before_loss = (guint8) veh->state;
  sync_state (live, v, FT_STATE_UNKNOWN, FT_VEV_COMMS_LOST, now);
  if (ft_fleet_get_vehicle (live->core->fleet, v)->state == FT_STATE_UNKNOWN)
    {
      m->comms_lost = TRUE;
      live->stats.comms_lost++;
    }
}

/* ------------------------------------------------------------ ingest */

typedef struct {
  FtLatLon pos;
  gboolean has_pos;
} PosField;

static gboolean
read_position (const Fields *o, PosField *p, const char **why)
{
  gboolean bad = FALSE;
  double lat = NAN, lon = NAN;
  gboolean hl = fields_number (o, "lat", &lat, &bad);
  gboolean hn = fields_number (o, "lon", &lon, &bad);
  if (!hn)
    hn = fields_number (o, "lng", &lon, &bad);
  if (bad)
    {
      *why = "lat/lon must be finite numbers";
      return FALSE;
    }
  if (hl != hn)
    {
      *why = "lat and lon must come together";
      return FALSE;
    }
  p->has_pos = hl;
  if (hl)
    {
      if (lat < -90 || lat > 90 || lon < -180 || lon > 180)
        {
          *why = "lat/lon out of range (lat -90..90, lon -180..180)";
          return FALSE;
        }
      p->pos.lat = lat;
      p->pos.lon = lon;
    }
  return TRUE;
}

static gboolean
read_timestamp (FtLive *live, const Fields *o, FtTime now, FtTime *ts, const char **why)
{
  gboolean bad = FALSE;
  if (!fields_int64 (o, "timestamp", ts, &bad))
    {
      *why = bad ? "timestamp must be an integer (milliseconds since 1970)"
                 : "timestamp missing";
      return FALSE;
    }
  if (*ts < 0)
    {
      *why = "timestamp is negative";
      return FALSE;
    }
  if (*ts > now + live->cfg.max_future)
    {
      *why = "timestamp is in the future beyond the allowed clock skew";
      return FALSE;
    }
  return TRUE;
}

static gboolean
read_state (const Fields *o, int *state, const char **why)
{
  gboolean bad = FALSE;
  const char *s = fields_string (o, "vehicle_state", &bad);
  *state = -1;
  if (bad)
    {
      *why = "vehicle_state must be a string";
      return FALSE;
    }
  if (s)
    {
      FtVehicleState st;
      if (!ft_vehicle_state_from_name (s, &st))
        {
          *why = "vehicle_state is not an MDS vehicle state";
          return FALSE;
        }
      *state = st;
    }
  return TRUE;
}

static gboolean
ingest_telemetry (FtLive *live, const char *topic, const char *id, const Fields *o,
                  FtTime now, GError **error)
{
  const char *why = NULL;
  FtTime ts;
  PosField pf = { { 0, 0 }, FALSE };
  int state;
  FtLiveTelemetry t = { .sent_us = -1, .battery_pct = NAN, .range_m = NAN,
                        .speed_mps = NAN, .odometer_m = NAN, .locked = -1 };
  gboolean bad = FALSE;
  double d;
  gint64 i64;

  if (!read_timestamp (live, o, now, &ts, &why) || !read_position (o, &pf, &why) ||
      !read_state (o, &state, &why))
    return refuse (live, now, topic, error, why);
  t.timestamp = ts;
  t.pos = pf.has_pos ? pf.pos : (FtLatLon) { NAN, NAN };
  if (fields_number (o, "battery_pct", &d, &bad) ||
      fields_number (o, "battery_percent", &d, &bad))
    {
      if (d < 0 || d > 100)
        return refuse (live, now, topic, error, "battery_pct out of range 0..100");
      t.battery_pct = d;
    }
  if (fields_number (o, "range_m", &d, &bad))
    {
      if (d < 0 || d > 1e6)
        return refuse (live, now, topic, error, "range_m out of range 0..1000000");
      t.range_m = d;
    }
  if (fields_number (o, "speed", &d, &bad))
    {
      if (d < 0 || d > 100)
        return refuse (live, now, topic, error, "speed out of range 0..100 m/s");
      t.speed_mps = d;
    }
  if (fields_number (o, "odometer_m", &d, &bad) ||
      fields_number (o, "odometer", &d, &bad))
    {
      if (d < 0 || d > 1e10)
        return refuse (live, now, topic, error, "odometer_m out of range 0..1e10");
      t.odometer_m = d;
    }
  if (fields_int64 (o, "sent_us", &i64, &bad))
    t.sent_us = i64;
  gboolean locked;
  const char *lock_state = fields_string (o, "lock_state", &bad);
  if (lock_state)
    {
      if (strcmp (lock_state, "locked") == 0)
        t.locked = 1;
      else if (strcmp (lock_state, "unlocked") == 0)
        t.locked = 0;
      else
        return refuse (live, now, topic, error, "lock_state must be \"locked\" or \"unlocked\"");
    }
  else if (fields_bool (o, "locked", &locked, &bad))
    t.locked = locked ? 1 : 0;
  guint32 faults = 0;
  gboolean has_faults = FALSE;
  int fk = fields_kind (o, "fault_codes");
  if (fk != FV_NULL)
    {
      gint64 bits;
      has_faults = TRUE;
      if (fk == FV_ARR)
        {
          guint n = fields_array_len (o, "fault_codes");
          if (n > 32)
            return refuse (live, now, topic, error, "fault_codes has more than 32 entries");
          for (guint k = 0; k < n; k++)
            {
              gint64 code;
              if (!fields_array_int (o, "fault_codes", k, &code) || code < 0 || code > 31)
                return refuse (live, now, topic, error, "fault_codes entries must be integers 0..31");
              faults |= 1u << code;
            }
        }
      else if (fk == FV_INT && fields_int64 (o, "fault_codes", &bits, &bad) &&
               bits >= 0 && bits <= G_MAXUINT32)
        faults = (guint32) bits;
      else
        return refuse (live, now, topic, error,
                       "fault_codes must be an array of integers 0..31 or a bit mask");
    }
  if (bad)
    return refuse (live, now, topic, error, "a telemetry field has the wrong type or is not finite");

  guint v;
  if (!resolve_vehicle (live, topic, id, o, pf.has_pos, pf.pos, now, &v, error))
    return FALSE;
  VehicleMeta *m = meta_for (live, v);
  if (ts < m->last_ts)
    {
      live->stats.stale++;
      m->heard = now;
      return TRUE;
    }
  if (ts == m->last_ts)
    {
      live->stats.duplicates++;
      return TRUE;
    }
  m->last_ts = ts;
  m->heard = now;
  FtFleet *f = live->core->fleet;
  ft_fleet_touch (f, v, now);
  restore_comms (live, v, m, state, now);

  const FtVehicle *veh = ft_fleet_get_vehicle (f, v);
  if (pf.has_pos)
    {
      double add = 0;
      if (isfinite (t.odometer_m))
        add = t.odometer_m > veh->odometer_m ? t.odometer_m - veh->odometer_m : 0;
      else if (ft_latlon_valid (veh->pos))
        add = ft_distance_fast_m (veh->pos, pf.pos);
      if (add > 1e6)
        add = 0;   /* a jump, not a ride */
      if (pf.pos.lat != veh->pos.lat || pf.pos.lon != veh->pos.lon || add > 0)
        ft_fleet_set_position (f, v, pf.pos, add, now, FALSE);
    }
  if (isfinite (t.battery_pct))
    set_soc (live, v, t.battery_pct / 100.0, now);
  else if (isfinite (t.range_m))
    {
      veh = ft_fleet_get_vehicle (f, v);
      const FtVehicleType *vt = ft_vehicle_type_default (veh->kind);
      double cap = vt->pack_capacity_wh;
      if (veh->pack >= 0)
        {
          const FtPack *p = ft_fleet_get_pack (f, (guint) veh->pack);
          cap = p->capacity_wh * p->health;
        }
      if (cap > 0 && vt->wh_per_km > 0)
        set_soc (live, v, t.range_m / 1000.0 * vt->wh_per_km / cap, now);
    }
  if (has_faults && ft_fleet_get_vehicle (f, v)->fault_codes != faults)
    ft_fleet_set_faults (f, v, faults);
  if (t.locked >= 0)
    m->locked = (gint8) t.locked;
  if (state >= 0)
    sync_state (live, v, (FtVehicleState) state, -1, now);
  live->stats.telemetry++;
  live->stats.applied++;
  maybe_log_telemetry (live, v, m, t.speed_mps, now);
  if (live->tel_fn)
    live->tel_fn (live, v, &t, live->tel_data);
  return TRUE;
}

static gboolean
ingest_event (FtLive *live, const char *topic, const char *id, const Fields *o,
              FtTime now, GError **error)
{
  const char *why = NULL;
  FtTime ts;
  PosField pf = { { 0, 0 }, FALSE };
  int state;
  gboolean bad = FALSE;
  if (!read_timestamp (live, o, now, &ts, &why) || !read_position (o, &pf, &why) ||
      !read_state (o, &state, &why))
    return refuse (live, now, topic, error, why);

  FtVehicleEventType evs[8];
  guint n_ev = 0;
  guint64 hash = (guint64) ts * 1000003u;
  if (fields_kind (o, "event_types") == FV_ARR)
    {
      guint n = fields_array_len (o, "event_types");
      if (n == 0 || n > G_N_ELEMENTS (evs))
        return refuse (live, now, topic, error, "event_types must list 1..8 MDS event types");
      for (guint k = 0; k < n; k++)
        {
          const char *name = fields_array_string (o, "event_types", k);
          if (name == NULL || !ft_vehicle_event_from_name (name, &evs[n_ev]))
            return refuse (live, now, topic, error, "event_types has an entry that is not an MDS event type");
          hash = ft_mix64 (hash ^ evs[n_ev]);
          n_ev++;
        }
    }
  else
    {
      const char *one = fields_string (o, "event_type", &bad);
      if (one == NULL || !ft_vehicle_event_from_name (one, &evs[0]))
        return refuse (live, now, topic, error, "event_types missing or not an MDS event type");
      hash = ft_mix64 (hash ^ evs[0]);
      n_ev = 1;
    }
  const char *event_id = fields_string (o, "event_id", &bad);
  if (bad)
    return refuse (live, now, topic, error, "event_id must be a string");
  if (event_id)
    hash = ft_hash_string64 (event_id);
  double batt = NAN;
  if (fields_number (o, "battery_pct", &batt, &bad) && (batt < 0 || batt > 100))
    return refuse (live, now, topic, error, "battery_pct out of range 0..100");
  if (bad)
    return refuse (live, now, topic, error, "an event field has the wrong type or is not finite");

  guint v;
  if (!resolve_vehicle (live, topic, id, o, pf.has_pos, pf.pos, now, &v, error))
    return FALSE;
  VehicleMeta *m = meta_for (live, v);
  if (ts < m->last_event_ts)
    {
      live->stats.stale++;
      return TRUE;
    }
  if (ts == m->last_event_ts && hash == m->last_event_hash)
    {
      live->stats.duplicates++;
      return TRUE;
    }
  m->last_event_ts = ts;
  m->last_event_hash = hash;
  m->heard = now;
  FtFleet *f = live->core->fleet;
  ft_fleet_touch (f, v, now);
  if (pf.has_pos)
    ft_fleet_set_position (f, v, pf.pos, 0, now, FALSE);
  if (isfinite (batt))
    set_soc (live, v, batt / 100.0, now);
  if (ft_fleet_get_vehicle (f, v)->booking < 0)
    {
      for (guint k = 0; k < n_ev; k++)
        {
          FtVehicleState to;
          const FtVehicle *veh = ft_fleet_get_vehicle (f, v);
          if (evs[k] == FT_VEV_COMMS_RESTORED || veh->state == FT_STATE_UNKNOWN)
            m->comms_lost = FALSE;
          if (ft_vehicle_transition (veh->state, evs[k], &to))
            ft_fleet_apply_event (f, v, evs[k], now, NULL);
          else if (state < 0)
            note_refused (live, now, topic, "%s is %s; %s has no MDS transition from there (ignored)",
                          veh->name, ft_vehicle_state_name (veh->state),
                          ft_vehicle_event_name (evs[k]));
        }
      if (state >= 0)
        sync_state (live, v, (FtVehicleState) state, evs[n_ev - 1], now);
    }
  live->stats.events++;
  live->stats.applied++;
  maybe_log_telemetry (live, v, m, NAN, now);
  return TRUE;
}

static gboolean
ingest_status (FtLive *live, const char *topic, const char *id, const Fields *o,
               const char *raw, FtTime now, GError **error)
{
  const char *st = NULL;
  gboolean bad = FALSE;
  FtTime ts = -1;
  if (o)
    {
      st = fields_string (o, "status", &bad);
      gint64 t64;
      if (fields_int64 (o, "timestamp", &t64, &bad))
        ts = t64;
    }
  else
    st = raw;
  if (bad || st == NULL || (strcmp (st, "online") != 0 && strcmp (st, "offline") != 0))
    return refuse (live, now, topic, error, "status must be \"online\" or \"offline\"");
  guint v;
  FtFleet *f = live->core->fleet;
  if (!ft_fleet_lookup_device (f, id, &v) && !ft_fleet_lookup_name (f, id, &v))
    {
      /* status alone never registers a vehicle */
      live->stats.status++;
      return TRUE;
    }
  VehicleMeta *m = meta_for (live, v);
  live->stats.status++;
  if (ts >= 0 && ts < m->last_ts)
    {
      live->stats.stale++;
      return TRUE;
    }
  if (strcmp (st, "offline") == 0)
    lose_comms (live, v, m, now);
  live->stats.applied++;
  return TRUE;
}

static gboolean
ingest_ack (FtLive *live, const char *topic, const char *id, const Fields *o,
            FtTime now, GError **error)
{
  gboolean bad = FALSE;
  const char *cid = fields_string (o, "command_id", &bad);
  const char *result = fields_string (o, "result", &bad);
  const char *reason = fields_string (o, "reason", &bad);
  if (bad || cid == NULL || result == NULL)
    return refuse (live, now, topic, error, "ack needs string command_id and result");
  gpointer idx = g_hash_table_lookup (live->command_index, cid);
  live->stats.acks++;
  if (idx == NULL)
    {
      note_refused (live, now, topic, "ack for unknown command (not ours or forgotten)");
      return TRUE;
    }
  FtLiveCommand *c = &g_array_index (live->commands, FtLiveCommand, GPOINTER_TO_UINT (idx) - 1);
  if (strcmp (c->device_id, id) != 0)
    return refuse (live, now, topic, error, "ack names a command sent to another vehicle");
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

static gboolean twin_task_ref (const Fields *o);
static gboolean refuse_task (FtLive *live, FtTime now, const char *topic, GError **error,
                             const char *reason);
static gboolean ingest_task_update (FtLive *live, const char *topic, guint si, const Fields *o,
                                    FtTime ts, FtTime now, GError **error);
static gboolean ingest_task_ack (FtLive *live, const char *topic, const char *id, const Fields *o,
                                 FtTime now, GError **error);

static void
log_staff_moved (FtLive *live, FtLiveStaff *s, FtTime now)
{
  FtEvent ev = ft_event_init (FT_EV_STAFF_MOVED, now);
  ev.account = s->account;
  ev.lat = s->pos.lat;
  ev.lon = s->pos.lon;
  ft_event_log_append (live->core->log, &ev);
  s->last_logged = now;
  s->unlogged = FALSE;
}

static gboolean
ingest_staff (FtLive *live, const char *topic, const char *id, const char *what,
              const Fields *o, FtTime now, GError **error)
{
  const char *why = NULL;
  FtTime ts;
  if (!read_timestamp (live, o, now, &ts, &why))
    return refuse (live, now, topic, error, why);
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
            return refuse_unknown (live, now, topic, error, FT_LIVE_ERROR_UNKNOWN_STAFF,
                                   "account is not a field-staff account");
          account = (gint) a;
        }
      else if (live->cfg.unknown == FT_LIVE_UNKNOWN_REFUSE || acc == NULL)
        return refuse_unknown (live, now, topic, error, FT_LIVE_ERROR_UNKNOWN_STAFF,
                               "unknown staff member (provisioning of unknown staff is off)");
      else if (!take_provision_token (live, now))
        return refuse_unknown (live, now, topic, error, FT_LIVE_ERROR_UNKNOWN_STAFF,
                               "unknown staff member not provisioned: provisioning rate limit reached");
      else
        {
          g_autofree char *name = g_strdup_printf ("staff %s", id);
          account = ft_accounts_create (acc, FT_ROLE_FIELD, name, NULL, now, NULL);
          if (account < 0)
            return refuse_unknown (live, now, topic, error, FT_LIVE_ERROR_UNKNOWN_STAFF,
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
      if (!read_position (o, &pf, &why))
        return refuse (live, now, topic, error, why);
      if (!pf.has_pos)
        return refuse (live, now, topic, error, "staff position needs lat and lon");
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
      if (s->last_logged == G_MININT64 || now - s->last_logged >= live->cfg.staff_every)
        log_staff_moved (live, s, now);
      else
        s->unlogged = TRUE;
    }
  else if (twin_task_ref (o))
    return ingest_task_update (live, topic, si, o, ts, now, error);
  else /* task: the staff app's own label, shown only */
    {
      gboolean bad = FALSE;
      const char *task = fields_string (o, "task_id", &bad);
      const char *status = fields_string (o, "status", &bad);
      static const char *const ok[] = { "assigned", "accepted", "started", "done", "cancelled", "failed" };
      gboolean known = FALSE;
      for (guint k = 0; status && k < G_N_ELEMENTS (ok); k++)
        known |= strcmp (status, ok[k]) == 0;
      if (bad || task == NULL || !known || strlen (task) >= sizeof s->task_id)
        return refuse (live, now, topic, error,
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

gboolean
ft_live_ingest (FtLive *live, const char *topic, const void *payload, gsize len,
                FtTime now, GError **error)
{
  g_return_val_if_fail (live != NULL, FALSE);
  if (topic == NULL || !g_str_has_prefix (topic, live->prefix_slash))
    return refuse (live, now, topic, error, "topic is outside the fleet prefix");
  if (payload == NULL && len > 0)
    return refuse (live, now, topic, error, "no payload");
  if (len > MAX_PAYLOAD)
    return refuse (live, now, topic, error, "payload larger than 64 KiB");

  /* <prefix>/{vehicles|staff}/<id>/<what>[/ack] */
  const char *rest = topic + live->prefix_len;
  const char *slash1 = strchr (rest, '/');
  if (slash1 == NULL)
    return refuse (live, now, topic, error, "topic does not follow the contract");
  const char *id_start = slash1 + 1;
  const char *slash2 = strchr (id_start, '/');
  if (slash2 == NULL)
    return refuse (live, now, topic, error, "topic has no message kind after the id");
  gsize id_len = slash2 - id_start;
  if (!valid_device_id (id_start, id_len))
    return refuse (live, now, topic, error, "id in topic must be 1..36 of [A-Za-z0-9_-]");
  char id[40];
  memcpy (id, id_start, id_len);
  id[id_len] = '\0';
  const char *what = slash2 + 1;
  gboolean vehicles = (gsize) (slash1 - rest) == 8 && strncmp (rest, "vehicles", 8) == 0;
  gboolean staff = (gsize) (slash1 - rest) == 5 && strncmp (rest, "staff", 5) == 0;
  enum { K_TEL, K_EV, K_ACK, K_STATUS, K_STAFF, K_TASK_ACK } kind;
  if (vehicles && strcmp (what, "telemetry") == 0)
    kind = K_TEL;
  else if (vehicles && strcmp (what, "events") == 0)
    kind = K_EV;
  else if (vehicles && strcmp (what, "commands/ack") == 0)
    kind = K_ACK;
  else if (vehicles && strcmp (what, "status") == 0)
    kind = K_STATUS;
  else if (staff && (strcmp (what, "position") == 0 || strcmp (what, "task") == 0 ||
                     strcmp (what, "status") == 0))
    kind = K_STAFF;
  else if (staff && strcmp (what, "tasks/ack") == 0)
    kind = K_TASK_ACK;
  else
    return refuse (live, now, topic, error, "topic does not follow the contract");

  /* NUL-terminated copy on the stack / heap for the plain-text checks */
  const char *text = payload;
  g_autofree char *copy = NULL;
  if (len == 0 || memchr (payload, '\0', len) != NULL)
    {
      if (len == 0)
        return refuse (live, now, topic, error, "empty payload");
      return refuse (live, now, topic, error, "payload contains NUL bytes (binary, not JSON)");
    }
  if (kind == K_STATUS && (len == 6 || len == 7) &&
      (memcmp (text, "online", 6) == 0 || memcmp (text, "offline", 7) == 0))
    {
      copy = g_strndup (text, len);
      return ingest_status (live, topic, id, NULL, copy, now, error);
    }
  if (!g_utf8_validate (text, (gssize) len, NULL))
    return refuse (live, now, topic, error, "payload is not UTF-8 text");

  /* fast reader on our own copy (it NUL-terminates strings in place) */
  if (live->scratch_size < len + 1)
    {
      live->scratch_size = MAX (len + 1, 1024);
      live->scratch = g_realloc (live->scratch, live->scratch_size);
    }
  memcpy (live->scratch, text, len);
  live->scratch[len] = '\0';
  Fields *o = &live->fields;
  if (!fast_parse (live->scratch, len, o))
    {
      if (ft_live_json_depth (text, len, MAX_JSON_DEPTH) > MAX_JSON_DEPTH)
        return refuse (live, now, topic, error, "JSON nested too deeply");
      g_autoptr(GError) perr = NULL;
      if (!json_parser_load_from_data (live->parser, text, (gssize) len, &perr))
        {
          live->stats.malformed++;
          note_refused (live, now, topic, "broken JSON: %s", perr->message);
          g_set_error (error, FT_LIVE_ERROR, FT_LIVE_ERROR_MALFORMED, "%s: broken JSON: %s",
                       topic, perr->message);
          return FALSE;
        }
      JsonNode *root = json_parser_get_root (live->parser);
      if (root == NULL || !JSON_NODE_HOLDS_OBJECT (root))
        return refuse (live, now, topic, error, "payload must be a JSON object");
      o->o = json_node_get_object (root);
      o->n = 0;
    }
  gboolean bad = FALSE;
  const char *dev = fields_string (o, "device_id", &bad);
  if (bad || (dev && strcmp (dev, id) != 0 && kind != K_STAFF))
    return refuse (live, now, topic, error, "device_id in payload does not match the topic");
  switch (kind)
    {
    case K_TEL:    return ingest_telemetry (live, topic, id, o, now, error);
    case K_EV:     return ingest_event (live, topic, id, o, now, error);
    case K_ACK:    return ingest_ack (live, topic, id, o, now, error);
    case K_STATUS: return ingest_status (live, topic, id, o, NULL, now, error);
    case K_STAFF:  return ingest_staff (live, topic, id, what, o, now, error);
    case K_TASK_ACK: return ingest_task_ack (live, topic, id, o, now, error);
    default:       g_assert_not_reached ();
    }
  return FALSE;
}

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

static void
command_housekeeping (FtLive *live, FtTime now)
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

static void
booking_listener (const FtEvent *ev, gpointer user_data)
{
  FtLive *live = user_data;
  if (ev->vehicle < 0 || live->mosq == NULL)
    return;
  if (ev->kind == FT_EV_BOOKING_UNLOCKED || ev->kind == FT_EV_BOOKING_RESUMED)
    ft_live_send_command (live, (guint) ev->vehicle, FT_CMD_UNLOCK, ev->t, 0, NULL);
  else if (ev->kind == FT_EV_BOOKING_ENDED || ev->kind == FT_EV_BOOKING_PAUSED)
    ft_live_send_command (live, (guint) ev->vehicle, FT_CMD_LOCK, ev->t, 0, NULL);
}

/* ------------------------------------------------ staff task assignment */

static gboolean
refuse_task (FtLive *live, FtTime now, const char *topic, GError **error, const char *reason)
{
  live->stats.task_refused++;
  return refuse (live, now, topic, error, reason);
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

static gboolean
publish_assignment (FtLive *live, FtLiveAssignment *a, FtTime now)
{
  if (live->mosq == NULL || g_atomic_int_get (&live->conn_state) != FT_LIVE_CONNECTED)
    return FALSE;
  g_autofree char *topic = g_strdup_printf ("%sstaff/%s/tasks", live->prefix_slash, a->staff_id);
  gsize n = 0;
  g_autofree char *payload = ft_live_assignment_payload (a, now, &n);
  int rc = mosquitto_publish (live->mosq, NULL, topic, (int) n, payload, 1, false);
  if (rc != MOSQ_ERR_SUCCESS)
    return FALSE;
  if (a->attempts > 0)
    live->stats.task_retries++;
  else
    live->stats.tasks_sent++;
  a->attempts++;
  a->last_sent = now;
  a->state = FT_CMD_SENT;
  return TRUE;
}

static void
close_assignment (FtLive *live, FtLiveAssignment *a, FtLiveCommandState st, const char *detail,
                  FtTime now)
{
  if (a->state != FT_CMD_QUEUED && a->state != FT_CMD_SENT)
    return;
  a->state = st;
  a->closed = now;
  if (detail)
    g_strlcpy (a->detail, detail, sizeof a->detail);
  live->n_open_assign--;
  if (st == FT_CMD_ACKED)
    live->stats.tasks_acked++;
  else if (st == FT_CMD_FAILED)
    live->stats.tasks_failed++;
  else if (st == FT_CMD_EXPIRED)
    live->stats.tasks_expired++;
}

/* The staff refused or never confirmed: a task still only assigned to them
 * goes back to open so another can take it. */
static void
release_task (FtLive *live, const FtLiveAssignment *a, FtTime now)
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
  FtLiveAssignment a = { 0 };
  g_snprintf (a.id, sizeof a.id, "task-%s-%" G_GUINT64_FORMAT, live->id_tag,
              ++live->next_assign);
  a.task = task;
  a.kind = t->kind;
  a.staff = staff;
  g_strlcpy (a.staff_id, s->id, sizeof a.staff_id);
  a.vehicle = t->vehicle;
  a.target = (FtLatLon) { NAN, NAN };
  if (t->vehicle >= 0 && (guint) t->vehicle < ft_fleet_n_vehicles (live->core->fleet))
    {
      const FtVehicle *v = ft_fleet_get_vehicle (live->core->fleet, (guint) t->vehicle);
      g_strlcpy (a.device_id, v->device_id, sizeof a.device_id);
      a.target = v->pos;
    }
  if (t->target.lat != 0 || t->target.lon != 0)
    a.target = t->target;
  a.priority = t->priority;
  a.state = FT_CMD_QUEUED;
  a.issued = now;
  a.expires = now + (ttl > 0 ? ttl : live->cfg.command_ttl);
  a.last_sent = -1;
  a.closed = -1;
  a.progress_ts = -1;
  /* a reassignment supersedes the older message for the task */
  gpointer old = g_hash_table_lookup (live->assign_by_task, &task);
  if (old)
    close_assignment (live, &g_array_index (live->assignments, FtLiveAssignment,
                                            GPOINTER_TO_UINT (old) - 1),
                      FT_CMD_FAILED, "superseded by a reassignment", now);
  g_array_append_val (live->assignments, a);
  guint idx = live->assignments->len - 1;
  FtLiveAssignment *ap = &g_array_index (live->assignments, FtLiveAssignment, idx);
  g_hash_table_insert (live->assign_index, g_strdup (ap->id), GUINT_TO_POINTER (idx + 1));
  g_hash_table_insert (live->assign_by_task, g_memdup2 (&task, sizeof task),
                       GUINT_TO_POINTER (idx + 1));
  live->n_open_assign++;
  publish_assignment (live, ap, now);
  return ap->id;
}

const FtLiveAssignment *
ft_live_get_assignment (FtLive *live, const char *id)
{
  g_return_val_if_fail (live != NULL && id != NULL, NULL);
  gpointer idx = g_hash_table_lookup (live->assign_index, id);
  return idx ? &g_array_index (live->assignments, FtLiveAssignment, GPOINTER_TO_UINT (idx) - 1) : NULL;
}

const FtLiveAssignment *
ft_live_get_assignments (FtLive *live, guint *n_out)
{
  g_return_val_if_fail (live != NULL, NULL);
  if (n_out)
    *n_out = live->assignments->len;
  return (const FtLiveAssignment *) live->assignments->data;
}

const FtLiveAssignment *
ft_live_find_assignment (FtLive *live, gint64 task)
{
  g_return_val_if_fail (live != NULL, NULL);
  gpointer idx = g_hash_table_lookup (live->assign_by_task, &task);
  return idx ? &g_array_index (live->assignments, FtLiveAssignment, GPOINTER_TO_UINT (idx) - 1) : NULL;
}

guint
ft_live_n_open_assignments (FtLive *live)
{
  g_return_val_if_fail (live != NULL, 0);
  return live->n_open_assign;
}

static void
assignment_housekeeping (FtLive *live, FtTime now)
{
  if (live->n_open_assign == 0)
    return;
  for (guint i = 0; i < live->assignments->len; i++)
    {
      FtLiveAssignment *a = &g_array_index (live->assignments, FtLiveAssignment, i);
      if (a->state != FT_CMD_QUEUED && a->state != FT_CMD_SENT)
        continue;
      if (now >= a->expires)
        {
          close_assignment (live, a, FT_CMD_EXPIRED,
                            a->attempts ? "no ack before expiry" : "never sent (no connection)", now);
          release_task (live, a, now);
        }
      else if (a->state == FT_CMD_QUEUED ||
               (now - a->last_sent >= live->cfg.command_retry &&
                a->attempts < live->cfg.command_max_attempts))
        publish_assignment (live, a, now);
    }
}

/* "task-<n>" in a task update refers to the twin's task n. */
static gboolean
twin_task_ref (const Fields *o)
{
  gboolean bad = FALSE;
  const char *t = fields_string (o, "task_id", &bad);
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

static gboolean
ingest_task_ack (FtLive *live, const char *topic, const char *id, const Fields *o,
                 FtTime now, GError **error)
{
  gboolean bad = FALSE;
  const char *cid = fields_string (o, "command_id", &bad);
  const char *result = fields_string (o, "result", &bad);
  const char *reason = fields_string (o, "reason", &bad);
  if (bad || cid == NULL || result == NULL)
    return refuse_task (live, now, topic, error, "task ack needs string command_id and result");
  FtLiveCommandState st;
  if (strcmp (result, "ok") == 0)
    st = FT_CMD_ACKED;
  else if (strcmp (result, "failed") == 0)
    st = FT_CMD_FAILED;
  else if (strcmp (result, "expired") == 0)
    st = FT_CMD_EXPIRED;
  else
    return refuse_task (live, now, topic, error, "task ack result must be ok, failed or expired");
  gpointer idx = g_hash_table_lookup (live->assign_index, cid);
  if (idx == NULL)
    return refuse_task (live, now, topic, error, "ack for an unknown task assignment");
  FtLiveAssignment *a = &g_array_index (live->assignments, FtLiveAssignment, GPOINTER_TO_UINT (idx) - 1);
  if (strcmp (a->staff_id, id) != 0)
    return refuse_task (live, now, topic, error, "ack names a task assigned to another staff member");
  live->stats.acks++;
  if (a->state != FT_CMD_SENT && a->state != FT_CMD_QUEUED)
    {
      live->stats.duplicates++;
      return TRUE;
    }
  close_assignment (live, a, st, st == FT_CMD_ACKED ? NULL : (reason ? reason : result), now);
  if (st != FT_CMD_ACKED)
    release_task (live, a, now);
  live->stats.applied++;
  return TRUE;
}

static gboolean
ingest_task_update (FtLive *live, const char *topic, guint si, const Fields *o, FtTime ts,
                    FtTime now, GError **error)
{
  gboolean bad = FALSE;
  const char *tid = fields_string (o, "task_id", &bad);
  const char *status = fields_string (o, "status", &bad);
  const char *reason = fields_string (o, "reason", &bad);
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
  FtLiveAssignment *a = NULL;
  gpointer idx = g_hash_table_lookup (live->assign_by_task, &task);
  if (idx)
    a = &g_array_index (live->assignments, FtLiveAssignment, GPOINTER_TO_UINT (idx) - 1);
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
        close_assignment (live, a, FT_CMD_FAILED, reason ? reason : "staff reported failed", now);
      else
        close_assignment (live, a, FT_CMD_ACKED, NULL, now);
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


/* ------------------------------------------------------- housekeeping */

void
ft_live_tick (FtLive *live, FtTime now)
{
  g_return_if_fail (live != NULL);
  FtFleet *f = live->core->fleet;
  guint nv = ft_fleet_n_vehicles (f);
  if (nv > 0)
    meta_for (live, nv - 1);
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
            lose_comms (live, v, m, now);
        }
    }
  command_housekeeping (live, now);
  assignment_housekeeping (live, now);
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
                command_housekeeping (live, now);   /* flush queued commands */
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

/* ---------------------------------------------------------- staff etc */

guint
ft_live_flush (FtLive *live, FtTime now)
{
  g_return_val_if_fail (live != NULL, 0);
  guint n = 0;
  guint nv = MIN (ft_fleet_n_vehicles (live->core->fleet), live->n_meta);
  for (guint v = 0; v < nv; v++)
    {
      VehicleMeta *m = &live->meta[v];
      if (!m->unlogged)
        continue;
      m->last_logged = G_MININT64;       /* force it past the downsampling */
      maybe_log_telemetry (live, v, m, m->last_speed, now);
      n++;
    }
  for (guint i = 0; i < live->staff->len; i++)
    {
      FtLiveStaff *s = &g_array_index (live->staff, FtLiveStaff, i);
      if (s->unlogged)
        {
          log_staff_moved (live, s, now);
          n++;
        }
    }
  return n;
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
                          s->malformed + s->unknown_refused, live->n_open, s->commands_acked,
                          s->commands_expired);
}

gboolean
ft_live_check (FtLive *live, GError **error)
{
  g_return_val_if_fail (live != NULL, FALSE);
  guint open = 0;
  for (guint i = 0; i < live->commands->len; i++)
    {
      const FtLiveCommand *c = &g_array_index (live->commands, FtLiveCommand, i);
      if (c->state == FT_CMD_QUEUED || c->state == FT_CMD_SENT)
        open++;
      if (c->vehicle >= ft_fleet_n_vehicles (live->core->fleet))
        {
          g_set_error (error, FT_LIVE_ERROR, FT_LIVE_ERROR_NO_SUCH_COMMAND,
                       "command %s names vehicle %u beyond the fleet", c->id, c->vehicle);
          return FALSE;
        }
      gpointer idx = g_hash_table_lookup (live->command_index, c->id);
      if (GPOINTER_TO_UINT (idx) != i + 1)
        {
          g_set_error (error, FT_LIVE_ERROR, FT_LIVE_ERROR_NO_SUCH_COMMAND,
                       "command index disagrees for %s", c->id);
          return FALSE;
        }
    }
  if (open != live->n_open)
    {
      g_set_error (error, FT_LIVE_ERROR, FT_LIVE_ERROR_NO_SUCH_COMMAND,
                   "open command count %u but %u commands are open", live->n_open, open);
      return FALSE;
    }
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
  guint open_a = 0;
  for (guint i = 0; i < live->assignments->len; i++)
    {
      const FtLiveAssignment *x = &g_array_index (live->assignments, FtLiveAssignment, i);
      open_a += x->state == FT_CMD_QUEUED || x->state == FT_CMD_SENT;
      if (x->staff >= live->staff->len || strcmp (x->staff_id,
          g_array_index (live->staff, FtLiveStaff, x->staff).id) != 0 ||
          (live->ops && ft_ops_get (live->ops, x->task) == NULL))
        {
          g_set_error (error, FT_LIVE_ERROR, FT_LIVE_ERROR_NO_SUCH_COMMAND,
                       "task assignment %s names a staff member or task that does not exist", x->id);
          return FALSE;
        }
    }
  if (open_a != live->n_open_assign)
    {
      g_set_error (error, FT_LIVE_ERROR, FT_LIVE_ERROR_NO_SUCH_COMMAND,
                   "open assignment count %u but %u assignments are open", live->n_open_assign, open_a);
      return FALSE;
    }
  return TRUE;
}
