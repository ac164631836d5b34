/* ft-serve-head.c — checking an HTTP/1.x request head the way libsoup
 * would, so the feed server can answer a malformed one itself with a
 * status and an MDS error body (see ft-serve-head.h). Pure: bytes in, a
 * verdict out; no allocation, no I/O.
 */
#include "ft-serve-head.h"
#include "ft-mds.h"

#include <stdio.h>
#include <string.h>

static gboolean
is_tchar (guchar c)
{
  return g_ascii_isalnum (c) || (c != 0 && strchr ("!#$%&'*+-.^_`|~", c) != NULL);
}

static FtHeadResult
bad (FtHeadVerdict *v, guint status, const char *error, const char *fmt, ...) G_GNUC_PRINTF (4, 5);

static FtHeadResult
bad (FtHeadVerdict *v, guint status, const char *error, const char *fmt, ...)
{
  v->status = status;
  g_strlcpy (v->error, error, sizeof v->error);
  va_list ap;
  va_start (ap, fmt);
  g_vsnprintf (v->detail, sizeof v->detail, fmt, ap);
  va_end (ap);
  return FT_HEAD_BAD;
}

/* A header value with optional whitespace around it. */
static void
trim (const char **s, const char **e)
{
  while (*s < *e && (**s == ' ' || **s == '\t'))
    (*s)++;
  while (*e > *s && ((*e)[-1] == ' ' || (*e)[-1] == '\t'))
    (*e)--;
}

static gboolean
value_is (const char *s, const char *e, const char *want)
{
  gsize n = strlen (want);
  return (gsize) (e - s) == n && g_ascii_strncasecmp (s, want, n) == 0;
}

static gboolean
name_is (const char *s, gsize n, const char *want)
{
  return strlen (want) == n && g_ascii_strncasecmp (s, want, n) == 0;
}

/* Printable, bounded copy of a piece of the request for a message. */
static const char *
shown (const char *s, gsize n, char *out, gsize size)
{
  gsize k = 0, i = 0;
  for (; i < n && k + 8 < size; i++)
    {
      guchar c = (guchar) s[i];
      if (c >= 0x20 && c < 0x7f && c != '\'' && c != '\\')
        out[k++] = (char) c;
      else
        k += (gsize) g_snprintf (out + k, size - k, "\\x%02x", c);
    }
  out[k] = '\0';
  if (i < n)
    g_strlcat (out, "...", size);
  return out;
}

static FtHeadResult
check_request_line (const char *s, gsize n, gboolean *http11, FtHeadVerdict *v)
{
  char tmp[48];
  gsize i = 0;
  while (i < n && is_tchar ((guchar) s[i]))
    i++;
  if (i == 0 || i >= n || s[i] != ' ')
    return bad (v, 400, "bad_request", "request line '%s' does not start with a method and one space",
                shown (s, n, tmp, sizeof tmp));
  gsize t0 = ++i;
  while (i < n && (guchar) s[i] > 0x20 && (guchar) s[i] < 0x7f)
    i++;
  if (i == t0 || i >= n || s[i] != ' ')
    return bad (v, 400, "bad_request", "request line '%s': the target must be followed by one space and "
                "the HTTP version", shown (s, n, tmp, sizeof tmp));
  if (s[t0] != '/' && !(i - t0 == 1 && s[t0] == '*') && !(i - t0 > 7 && g_ascii_strncasecmp (s + t0, "http://", 7) == 0)
      && !(i - t0 > 8 && g_ascii_strncasecmp (s + t0, "https://", 8) == 0))
    return bad (v, 400, "bad_request", "request target '%s' is not a path", shown (s + t0, i - t0, tmp, sizeof tmp));
  for (gsize k = t0; k < i; k++)
    if (s[k] == '%' && !(k + 2 < i && g_ascii_isxdigit (s[k + 1]) && g_ascii_isxdigit (s[k + 2])))
      return bad (v, 400, "bad_request", "request target '%s': '%%' must be followed by two hex digits",
                  shown (s + t0, i - t0, tmp, sizeof tmp));
  const char *ver = s + i + 1;
  gsize vn = n - i - 1;
  if (vn != 8 || memcmp (ver, "HTTP/", 5) != 0 || !g_ascii_isdigit (ver[5]) || ver[6] != '.'
      || !g_ascii_isdigit (ver[7]))
    return bad (v, 400, "bad_request", "request line: '%s' is not an HTTP version (HTTP/1.1)",
                shown (ver, vn, tmp, sizeof tmp));
  if (ver[5] != '1' || (ver[7] != '0' && ver[7] != '1'))
    return bad (v, 505, "http_version_not_supported", "HTTP version '%.8s' is not supported (use HTTP/1.1)",
                ver);
  *http11 = ver[7] == '1';
  return FT_HEAD_OK;
}

FtHeadResult
ft_serve_check_head (const char *buf, gsize len, gsize max_head, FtHeadVerdict *v)
{
  g_return_val_if_fail (v != NULL, FT_HEAD_BAD);
  memset (v, 0, sizeof *v);
  if (max_head == 0)
    max_head = FT_SERVE_MAX_HEAD;
  if (buf == NULL)
    len = 0;
  gsize p = 0;
  while (p < len && (buf[p] == '\r' || buf[p] == '\n'))   /* empty lines before the request */
    p++;
  /* find the end of the head: the first empty line after the request line */
  gsize end = 0;
  gboolean found = FALSE;
  for (gsize ls = p; ls < len;)
    {
      const char *nl = memchr (buf + ls, '\n', len - ls);
      if (nl == NULL)
        break;
      gsize ne = (gsize) (nl - buf);
      gsize ce = ne > ls && buf[ne - 1] == '\r' ? ne - 1 : ne;
      if (ne + 1 > max_head)
        break;
      if (ce == ls && ls > p)
        {
          end = ne + 1;
          found = TRUE;
          break;
        }
      ls = ne + 1;
    }
  if (!found)
    {
      if (len > max_head)
        return bad (v, 431, "request_header_fields_too_large",
                    "the request line and headers are longer than %" G_GSIZE_FORMAT " bytes", max_head);
      if (memchr (buf ? buf : "", '\0', len) != NULL)
        return bad (v, 400, "bad_request", "the request holds a NUL byte");
      return FT_HEAD_INCOMPLETE;
    }
  v->head_len = end;
  if (memchr (buf + p, '\0', end - p) != NULL)
    return bad (v, 400, "bad_request", "the request head holds a NUL byte");

  gboolean http11 = FALSE, host = FALSE, te = FALSE;
  gint64 content_length = -1;
  guint line_no = 0;
  char tmp[48];
  for (gsize ls = p; ls < end;)
    {
      const char *nl = memchr (buf + ls, '\n', end - ls);
      gsize ne = (gsize) (nl - buf);
      gsize ce = ne > ls && buf[ne - 1] == '\r' ? ne - 1 : ne;
      const char *s = buf + ls;
      gsize n = ce - ls;
      ls = ne + 1;
      if (n == 0)
        break;                           /* the end of the head */
      if (memchr (s, '\r', n) != NULL)
        return bad (v, 400, "bad_request", "%s %u holds a bare CR", line_no ? "header" : "request line", line_no);
      if (line_no++ == 0)
        {
          if (check_request_line (s, n, &http11, v) != FT_HEAD_OK)
            return FT_HEAD_BAD;
          continue;
        }
      if (line_no - 1 > FT_SERVE_MAX_HEADERS)
        return bad (v, 431, "request_header_fields_too_large", "more than %d headers", FT_SERVE_MAX_HEADERS);
      guint h = line_no - 1;
      if (s[0] == ' ' || s[0] == '\t')
        return bad (v, 400, "bad_request", "header %u is folded onto the line before (obsolete line folding)",
                    h);
      gsize k = 0;
      while (k < n && is_tchar ((guchar) s[k]))
        k++;
      if (k == 0 || k >= n || s[k] != ':')
        {
          const char *colon = memchr (s, ':', n);
          return bad (v, 400, "bad_request", "header %u '%s': %s", h, shown (s, MIN (n, 40), tmp, sizeof tmp),
                      colon == NULL ? "no colon" : k == 0 ? "no name before the colon"
                      : "the name holds a character a header name may not (a space before the colon?)");
        }
      const char *vs = s + k + 1, *ve = s + n;
      for (const char *c = vs; c < ve; c++)
        if ((guchar) *c < 0x20 ? *c != '\t' : (guchar) *c == 0x7f)
          return bad (v, 400, "bad_request", "header %u (%.*s) holds a control character", h, (int) MIN (k, 40), s);
      trim (&vs, &ve);
      if (name_is (s, k, "Host"))
        {
          if (host)
            return bad (v, 400, "bad_request", "Host is given twice");
          host = TRUE;
        }
      else if (name_is (s, k, "Content-Length"))
        {
          gint64 cl = 0;
          if (vs == ve || ve - vs > 15)
            return bad (v, 400, "bad_request", "Content-Length '%s' is not a length",
                        shown (vs, (gsize) (ve - vs), tmp, sizeof tmp));
          for (const char *c = vs; c < ve; c++)
            {
              if (!g_ascii_isdigit (*c))
                return bad (v, 400, "bad_request", "Content-Length '%s' is not a length",
                            shown (vs, (gsize) (ve - vs), tmp, sizeof tmp));
              cl = cl * 10 + (*c - '0');
            }
          if (content_length >= 0 && cl != content_length)
            return bad (v, 400, "bad_request", "Content-Length is given twice with different values");
          content_length = cl;
        }
      else if (name_is (s, k, "Transfer-Encoding"))
        {
          if (te || !value_is (vs, ve, "chunked"))
            return bad (v, 501, "not_implemented", "Transfer-Encoding '%s' is not supported (only chunked, once)",
                        shown (vs, (gsize) (ve - vs), tmp, sizeof tmp));
          te = TRUE;
        }
      else if (name_is (s, k, "Expect"))
        {
          if (!value_is (vs, ve, "100-continue"))
            return bad (v, 417, "expectation_failed", "Expect '%s' cannot be met (only 100-continue)",
                        shown (vs, (gsize) (ve - vs), tmp, sizeof tmp));
        }
    }
  if (te && content_length >= 0)
    return bad (v, 400, "bad_request", "both Content-Length and Transfer-Encoding are given");
  if (content_length > FT_SERVE_MAX_BODY)
    return bad (v, 413, "payload_too_large", "a request body of %" G_GINT64_FORMAT " bytes is larger than %d",
                content_length, FT_SERVE_MAX_BODY);
  if (http11 && !host)
    return bad (v, 400, "bad_request", "an HTTP/1.1 request must name its Host");
  return FT_HEAD_OK;
}

char *
ft_serve_head_response (const FtHeadVerdict *v, gsize *len)
{
  g_return_val_if_fail (v != NULL, NULL);
  const char *phrase = v->status == 431 ? "Request Header Fields Too Large" : soup_status_get_phrase (v->status);
  g_autofree char *body = ft_mds_error_json (v->error, "malformed HTTP request", v->detail);
  char *out = g_strdup_printf ("HTTP/1.1 %u %s\r\nContent-Type: application/json\r\nContent-Length: %"
                               G_GSIZE_FORMAT "\r\nConnection: close\r\n\r\n%s",
                               v->status, phrase ? phrase : "Error", strlen (body), body);
  if (len)
    *len = strlen (out);
  return out;
}
