/* ft-live-config.c — configuration defaults, broker URLs (parsing and
 * redaction of the password for display), and the set-up shared by the
 * twin's and the emulator's mosquitto handles: library init, credentials,
 * TLS files, protocol, and CONNACK texts.
 */
#include "ft-live-private.h"

#include <string.h>
#include <stdio.h>
#include <errno.h>

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

void
ft_live_config_copy (FtLiveConfig *dst, const FtLiveConfig *src)
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
