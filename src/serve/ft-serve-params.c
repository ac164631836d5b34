/* ft-serve-params.c — query strings, token files and listen addresses,
 * parsed without trusting them. See ft-serve-params.h.
 */
#include "ft-config.h"
#include "ft-serve-params.h"

#include <gio/gio.h>
#include <string.h>

G_DEFINE_QUARK (ft-serve-error-quark, ft_serve_error)

void
ft_serve_params_clear (FtServeParams *p)
{
  g_clear_pointer (&p->hour, g_free);
  g_clear_pointer (&p->version, g_free);
}

/* Percent-decodes [s, s+n) ('+' is a space); NULL on a bad escape or NUL. */
static char *
decode (const char *s, gsize n)
{
  GString *out = g_string_sized_new (n);
  for (gsize i = 0; i < n; i++)
    {
      char c = s[i];
      if (c == '+')
        c = ' ';
      else if (c == '%')
        {
          if (i + 2 >= n)
            {
              g_string_free (out, TRUE);
              return NULL;
            }
          int hi = g_ascii_xdigit_value (s[i + 1]), lo = g_ascii_xdigit_value (s[i + 2]);
          if (hi < 0 || lo < 0 || (hi == 0 && lo == 0))
            {
              g_string_free (out, TRUE);
              return NULL;
            }
          c = (char) (hi * 16 + lo);
          i += 2;
        }
      g_string_append_c (out, c);
    }
  return g_string_free (out, FALSE);
}

/* Printable for a message: at most 40 bytes, non-printables as '?'. */
static char *
shown (const char *s)
{
  GString *o = g_string_new (NULL);
  for (gsize i = 0; s[i] && i < 40; i++)
    g_string_append_c (o, g_ascii_isprint (s[i]) ? s[i] : '?');
  if (strlen (s) > 40)
    g_string_append (o, "…");
  return g_string_free (o, FALSE);
}

static gboolean
parse_uint (const char *v, guint64 max, guint64 *out)
{
  guint64 n = 0;
  if (*v == '\0' || strlen (v) > 15)
    return FALSE;
  for (const char *p = v; *p; p++)
    {
      if (!g_ascii_isdigit (*p))
        return FALSE;
      n = n * 10 + (guint64) (*p - '0');
    }
  if (n > max)
    return FALSE;
  *out = n;
  return TRUE;
}

gboolean
ft_serve_parse_query (const char *query, const char *hour_key, FtServeParams *out, GError **error)
{
  memset (out, 0, sizeof *out);
  out->limit = FT_SERVE_DEF_LIMIT;
  out->start_ms = out->end_ms = -1;
  gboolean range = hour_key && strcmp (hour_key, FT_SERVE_RANGE) == 0;
  if (query == NULL || *query == '\0')
    return TRUE;
  gsize qlen = strnlen (query, FT_SERVE_MAX_QUERY + 1);
  if (qlen > FT_SERVE_MAX_QUERY)
    {
      g_set_error (error, FT_SERVE_ERROR, FT_SERVE_ERROR_PARAM,
                   "the query string is longer than %d bytes", FT_SERVE_MAX_QUERY);
      return FALSE;
    }
  gboolean seen_cursor = FALSE, seen_limit = FALSE;
  const char *p = query, *end = query + qlen;
  while (p < end)
    {
      const char *amp = memchr (p, '&', (gsize) (end - p));
      const char *stop = amp ? amp : end;
      const char *eq = memchr (p, '=', (gsize) (stop - p));
      g_autofree char *key = decode (p, (gsize) ((eq ? eq : stop) - p));
      g_autofree char *val = eq ? decode (eq + 1, (gsize) (stop - eq - 1)) : NULL;
      p = amp ? amp + 1 : end;

      if (key == NULL || (eq && val == NULL))
        {
          g_set_error (error, FT_SERVE_ERROR, FT_SERVE_ERROR_PARAM,
                       "the query string has a bad %%-escape (%%00 and incomplete escapes are refused)");
          goto fail;
        }
      if (*key == '\0')
        {
          if (eq == NULL)
            continue;    /* "a=1&&b=2": an empty pair */
          g_set_error (error, FT_SERVE_ERROR, FT_SERVE_ERROR_PARAM, "a query parameter has no name");
          goto fail;
        }
      g_autofree char *k = shown (key);
      if (val == NULL || *val == '\0')
        {
          g_set_error (error, FT_SERVE_ERROR, FT_SERVE_ERROR_PARAM, "query parameter '%s' has no value", k);
          goto fail;
        }
      g_autofree char *v = shown (val);
      if (range && (strcmp (key, "start_time") == 0 || strcmp (key, "end_time") == 0))
        {
          gint64 *slot = key[0] == 's' ? &out->start_ms : &out->end_ms;
          guint64 n;
          if (*slot >= 0)
            goto repeated;
          /* epoch milliseconds up to the year 9999 */
          if (!parse_uint (val, G_GINT64_CONSTANT (253402300799999), &n))
            {
              g_set_error (error, FT_SERVE_ERROR, FT_SERVE_ERROR_PARAM,
                           "%s '%s' is not a time in epoch milliseconds (a whole number, e.g. 1704096000000)",
                           k, v);
              goto fail;
            }
          *slot = (gint64) n;
        }
      else if (!range && hour_key && strcmp (key, hour_key) == 0)
        {
          if (out->hour)
            goto repeated;
          out->hour = g_steal_pointer (&val);
        }
      else if (strcmp (key, "cursor") == 0)
        {
          guint64 n;
          if (seen_cursor)
            goto repeated;
          seen_cursor = TRUE;
          if (!parse_uint (val, G_MAXINT32, &n))
            {
              g_set_error (error, FT_SERVE_ERROR, FT_SERVE_ERROR_PARAM,
                           "cursor '%s' is not a whole number from 0 to %d", v, G_MAXINT32);
              goto fail;
            }
          out->cursor = (gint64) n;
        }
      else if (strcmp (key, "limit") == 0)
        {
          guint64 n;
          if (seen_limit)
            goto repeated;
          seen_limit = TRUE;
          if (!parse_uint (val, FT_SERVE_MAX_LIMIT, &n) || n == 0)
            {
              g_set_error (error, FT_SERVE_ERROR, FT_SERVE_ERROR_PARAM,
                           "limit '%s' is not a whole number from 1 to %d", v, FT_SERVE_MAX_LIMIT);
              goto fail;
            }
          out->limit = (guint) n;
        }
      else if (strcmp (key, "version") == 0)
        {
          if (out->version)
            goto repeated;
          out->version = g_steal_pointer (&val);
        }
      else
        {
          if (range)
            g_set_error (error, FT_SERVE_ERROR, FT_SERVE_ERROR_PARAM,
                         "unknown query parameter '%s' (this endpoint takes start_time, end_time, cursor, limit "
                         "and version)", k);
          else if (hour_key)
            g_set_error (error, FT_SERVE_ERROR, FT_SERVE_ERROR_PARAM,
                         "unknown query parameter '%s' (this endpoint takes %s, cursor, limit and version)",
                         k, hour_key);
          else
            g_set_error (error, FT_SERVE_ERROR, FT_SERVE_ERROR_PARAM,
                         "unknown query parameter '%s' (this endpoint takes cursor, limit and version)", k);
          goto fail;
        }
      continue;
    repeated:
      g_set_error (error, FT_SERVE_ERROR, FT_SERVE_ERROR_PARAM, "query parameter '%s' is given twice", k);
      goto fail;
    }
  return TRUE;
fail:
  ft_serve_params_clear (out);
  return FALSE;
}

GHashTable *
ft_serve_parse_tokens (const char *text, gsize len, const char *where, GError **error)
{
  g_autoptr(GHashTable) tokens = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  const char *p = text, *end = text + len;
  guint line = 0;
  if (memchr (text, '\0', len))
    {
      g_set_error (error, FT_SERVE_ERROR, FT_SERVE_ERROR_TOKENS, "%s: holds a NUL byte; not a token file", where);
      return NULL;
    }
  while (p < end)
    {
      const char *nl = memchr (p, '\n', (gsize) (end - p));
      const char *stop = nl ? nl : end;
      g_autofree char *l = g_strndup (p, (gsize) (stop - p));
      p = nl ? nl + 1 : end;
      line++;
      g_strstrip (l);
      if (*l == '\0' || *l == '#')
        continue;
      g_auto(GStrv) parts = g_strsplit_set (l, " \t", -1);
      const char *f[3] = { NULL, NULL, NULL };
      guint n = 0;
      for (guint i = 0; parts[i]; i++)
        if (*parts[i])
          {
            if (n < 3)
              f[n] = parts[i];
            n++;
          }
      if (n != 2)
        {
          g_set_error (error, FT_SERVE_ERROR, FT_SERVE_ERROR_TOKENS,
                       "%s:%u: expected \"AGENCY TOKEN\" (two fields), found %u", where, line, n);
          return NULL;
        }
      gsize al = strlen (f[0]), tl = strlen (f[1]);
      gboolean agency_ok = al >= 1 && al <= 64;
      for (gsize i = 0; agency_ok && i < al; i++)
        agency_ok = g_ascii_isalnum (f[0][i]) || strchr ("_.-", f[0][i]);
      if (!agency_ok)
        {
          g_set_error (error, FT_SERVE_ERROR, FT_SERVE_ERROR_TOKENS,
                       "%s:%u: the agency name must be 1 to 64 of A-Z a-z 0-9 _ . -", where, line);
          return NULL;
        }
      gboolean token_ok = tl >= 16 && tl <= 256;
      for (gsize i = 0; token_ok && i < tl; i++)
        token_ok = f[1][i] > 0x20 && f[1][i] < 0x7f;
      if (!token_ok)
        {
          g_set_error (error, FT_SERVE_ERROR, FT_SERVE_ERROR_TOKENS,
                       "%s:%u: the token of agency %s must be 16 to 256 printable ASCII characters",
                       where, line, f[0]);
          return NULL;
        }
      if (g_hash_table_contains (tokens, f[1]))
        {
          g_set_error (error, FT_SERVE_ERROR, FT_SERVE_ERROR_TOKENS,
                       "%s:%u: the token of agency %s is already given to another agency", where, line, f[0]);
          return NULL;
        }
      g_hash_table_insert (tokens, g_strdup (f[1]), g_strdup (f[0]));
    }
  if (g_hash_table_size (tokens) == 0)
    {
      g_set_error (error, FT_SERVE_ERROR, FT_SERVE_ERROR_TOKENS, "%s: no \"AGENCY TOKEN\" lines", where);
      return NULL;
    }
  return g_steal_pointer (&tokens);
}

gboolean
ft_serve_parse_listen (const char *text, char **host, guint *port, GError **error)
{
  const char *colon;
  g_autofree char *h = NULL;
  if (text == NULL || *text == '\0' || strlen (text) > 300)
    goto bad;
  if (text[0] == '[')
    {
      const char *close = strchr (text, ']');
      if (close == NULL || close[1] != ':')
        goto bad;
      h = g_strndup (text + 1, (gsize) (close - text - 1));
      colon = close + 1;
      if (!g_hostname_is_ip_address (h) || strchr (h, ':') == NULL)
        goto bad;
    }
  else
    {
      colon = strrchr (text, ':');
      if (colon == NULL || memchr (text, ':', (gsize) (colon - text)))
        goto bad;
      h = colon == text ? g_strdup ("127.0.0.1") : g_strndup (text, (gsize) (colon - text));
      if (strcmp (h, "localhost") != 0 && !g_hostname_is_ip_address (h))
        goto bad;
    }
  guint64 n = 0;
  if (!parse_uint (colon + 1, 65535, &n))
    goto bad;
  *host = g_steal_pointer (&h);
  *port = (guint) n;
  return TRUE;
bad:
  {
    g_autofree char *s = shown (text ? text : "");
    g_set_error (error, FT_SERVE_ERROR, FT_SERVE_ERROR_LISTEN,
                 "--listen '%s' is not HOST:PORT with HOST an IP address (e.g. 127.0.0.1:8080, [::1]:8080, "
                 "0.0.0.0:8443) and PORT 0-65535", s);
    return FALSE;
  }
}

gboolean
ft_serve_host_is_loopback (const char *host)
{
  if (strcmp (host, "localhost") == 0)
    return TRUE;
  g_autoptr(GInetAddress) a = g_inet_address_new_from_string (host);
  return a != NULL && g_inet_address_get_is_loopback (a);
}
