/* ft-serve-head.h — the feed server's own reading of an HTTP request head,
 * before libsoup sees the connection: the checks libsoup makes (request
 * line, version, header syntax, Transfer-Encoding, Expect, Content-Length)
 * and a few it does not (a bounded head, conflicting lengths, a Host for
 * HTTP/1.1), so that a malformed request is answered by the server with a
 * status and an MDS error body instead of libsoup's empty one.
 * ft_serve_check_head is a pure function over the bytes received so far
 * (fuzzed: tests/fuzz/fuzz-serve-head.c). The acceptor (ft-serve-accept.c)
 * reads heads with it on its own sockets, TLS included, and hands good
 * connections to libsoup with the bytes it read put back in front.
 */
#pragma once

#include <gio/gio.h>
#include <libsoup/soup.h>

#include "ft-metrics.h"

G_BEGIN_DECLS

#define FT_SERVE_MAX_HEAD        (64 * 1024)    /* bytes of request line and headers */
#define FT_SERVE_MAX_HEADERS     100
#define FT_SERVE_MAX_BODY        (1024 * 1024)  /* a larger Content-Length is refused (413) */
#define FT_SERVE_HEAD_TIMEOUT_MS 10000          /* a head not complete by then: 408 */

typedef enum {
  FT_HEAD_INCOMPLETE = 0,   /* no end of head yet: read more */
  FT_HEAD_OK,               /* a well-formed head of head_len bytes */
  FT_HEAD_BAD,              /* answer status with error / detail and close */
} FtHeadResult;

typedef struct {
  gsize head_len;           /* OK: bytes up to and including the blank line */
  guint status;             /* BAD: 400, 413, 417, 431, 501 or 505 */
  char  error[32];          /* MDS error code, e.g. "bad_request" */
  char  detail[160];        /* what is wrong and where ("header 3 '…': no colon") */
} FtHeadVerdict;

/* Checks the bytes of a request head received so far (empty lines before
 * the request line are skipped). A head longer than max_head (0:
 * FT_SERVE_MAX_HEAD) is BAD (431). */
FtHeadResult ft_serve_check_head (const char *buf, gsize len, gsize max_head, FtHeadVerdict *v);

/* The whole response to a BAD verdict (caller frees): status line, JSON
 * content type and length, Connection: close, an MDS error body. */
char        *ft_serve_head_response (const FtHeadVerdict *v, gsize *len);

/* Accepts connections on addr for server (which must not listen itself):
 * TLS when cert is set, each request head read and checked within
 * FT_SERVE_HEAD_TIMEOUT_MS (408 after), bad heads answered and counted in
 * metrics (fleet_twin_http_malformed_total{code}, metrics may be NULL),
 * good connections handed to soup_server_accept_iostream (one request
 * each: the server closes after its response). Runs on the thread-default
 * main context. */
typedef struct _FtServeAcceptor FtServeAcceptor;
FtServeAcceptor *ft_serve_acceptor_new  (SoupServer *server, GSocketAddress *addr, GTlsCertificate *cert,
                                         FtMetrics *metrics, GError **error);
guint            ft_serve_acceptor_port (FtServeAcceptor *a);
void             ft_serve_acceptor_free (FtServeAcceptor *a);

G_END_DECLS
