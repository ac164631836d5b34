/* ft-serve-params.h — what the feed server reads from outside, parsed
 * without trusting it: a request's query string, the token file and the
 * listen address. Each parser refuses with a message naming the bad part
 * and never reads past its input; the HTTP layer turns the message into a
 * 400 JSON body. (tests/fuzz/fuzz-serve-params.c fuzzes all three.)
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

#define FT_SERVE_ERROR (ft_serve_error_quark ())
GQuark ft_serve_error_quark (void);
typedef enum {
  FT_SERVE_ERROR_PARAM,      /* a bad query parameter */
  FT_SERVE_ERROR_TOKENS,     /* a bad token file */
  FT_SERVE_ERROR_LISTEN,     /* a bad or unsafe listen address */
  FT_SERVE_ERROR_BIND,       /* the port is in use, or no permission */
  FT_SERVE_ERROR_TLS,
} FtServeError;

#define FT_SERVE_MAX_QUERY   2048   /* bytes of query string */
#define FT_SERVE_MAX_LIMIT   5000   /* items per page */
#define FT_SERVE_DEF_LIMIT   1000

typedef struct {
  char   *hour;        /* end_time / event_time / telemetry_time as given (validated by the caller) */
  gint64  cursor;      /* page cursor, 0 first */
  guint   limit;       /* page size */
  char   *version;     /* "2.0" when given, else NULL */
  gint64  start_ms, end_ms;   /* FT_SERVE_RANGE endpoints: start_time / end_time, -1 when not given */
} FtServeParams;

/* hour_key for an endpoint that takes a time range (start_time and end_time
 * as epoch milliseconds, MDS /events/recent) instead of an hour. */
#define FT_SERVE_RANGE "start_time,end_time"


void     ft_serve_params_clear (FtServeParams *p);
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (FtServeParams, ft_serve_params_clear)
/* query: the raw query string (no '?'), may be NULL. hour_key: the one
 * name the endpoint takes for its hour ("end_time" …), NULL for none.
 * Refuses unknown, repeated or empty parameters, a wrong hour name,
 * non-decimal or out-of-range cursor and limit, bad percent-escapes and
 * queries over FT_SERVE_MAX_QUERY bytes. */
gboolean ft_serve_parse_query  (const char *query, const char *hour_key, FtServeParams *out,
                                GError **error);

/* A token file: one "AGENCY TOKEN" per line; '#' comments and blank lines
 * are skipped. Agencies are [A-Za-z0-9_.-]{1,64}; tokens are 16 to 256
 * printable non-space ASCII characters and unique. Returns token -> agency.
 * Messages name the line, never the token. */
GHashTable *ft_serve_parse_tokens (const char *text, gsize len, const char *where, GError **error);

/* "HOST:PORT", "[V6]:PORT" or ":PORT" (loopback); PORT 0-65535. */
gboolean ft_serve_parse_listen (const char *text, char **host, guint *port, GError **error);
/* TRUE for 127.0.0.0/8, ::1 and "localhost". */
gboolean ft_serve_host_is_loopback (const char *host);

G_END_DECLS
