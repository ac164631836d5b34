/* ft-serve-accept.c — the feed server's listening socket: connections are
 * accepted here (GSocketService; TLS through GTlsServerConnection when a
 * certificate is set), the request head is read within a bounded size and
 * time and checked with ft_serve_check_head, a malformed one is answered
 * with its status and an MDS error body, and a good connection is handed
 * to libsoup (soup_server_accept_iostream) with the bytes already read put
 * back in front of its input (FtReplayInputStream, pollable as libsoup
 * needs). Each connection carries one request: ft-serve.c answers every
 * one with Connection: close.
 */
#include "ft-serve-head.h"

#include <string.h>
#include <sys/socket.h>

/* ---- a GInputStream that replays a buffer, then reads its base ------------ */

#define FT_TYPE_REPLAY_INPUT_STREAM (ft_replay_input_stream_get_type ())
G_DECLARE_FINAL_TYPE (FtReplayInputStream, ft_replay_input_stream, FT, REPLAY_INPUT_STREAM, GFilterInputStream)

struct _FtReplayInputStream {
  GFilterInputStream parent;
  GBytes *pending;
  gsize   off;
};

static void ft_replay_pollable_init (GPollableInputStreamInterface *iface);

G_DEFINE_FINAL_TYPE_WITH_CODE (FtReplayInputStream, ft_replay_input_stream, G_TYPE_FILTER_INPUT_STREAM,
                               G_IMPLEMENT_INTERFACE (G_TYPE_POLLABLE_INPUT_STREAM, ft_replay_pollable_init))

static gsize
replay_left (FtReplayInputStream *r)
{
  return r->pending ? g_bytes_get_size (r->pending) - r->off : 0;
}

static gssize
replay_take (FtReplayInputStream *r, void *buf, gsize count)
{
  gsize n = MIN (count, replay_left (r));
  memcpy (buf, (const char *) g_bytes_get_data (r->pending, NULL) + r->off, n);
  r->off += n;
  if (replay_left (r) == 0)
    g_clear_pointer (&r->pending, g_bytes_unref);
  return (gssize) n;
}

static GInputStream *
replay_base (FtReplayInputStream *r)
{
  return g_filter_input_stream_get_base_stream (G_FILTER_INPUT_STREAM (r));
}

static gssize
replay_read (GInputStream *stream, void *buf, gsize count, GCancellable *cancellable, GError **error)
{
  FtReplayInputStream *r = FT_REPLAY_INPUT_STREAM (stream);
  if (replay_left (r) > 0)
    return replay_take (r, buf, count);
  return g_input_stream_read (replay_base (r), buf, count, cancellable, error);
}

static gboolean
replay_can_poll (GPollableInputStream *stream)
{
  GInputStream *base = replay_base (FT_REPLAY_INPUT_STREAM (stream));
  return G_IS_POLLABLE_INPUT_STREAM (base) && g_pollable_input_stream_can_poll (G_POLLABLE_INPUT_STREAM (base));
}

static gboolean
replay_is_readable (GPollableInputStream *stream)
{
  FtReplayInputStream *r = FT_REPLAY_INPUT_STREAM (stream);
  return replay_left (r) > 0 || g_pollable_input_stream_is_readable (G_POLLABLE_INPUT_STREAM (replay_base (r)));
}

static GSource *
replay_create_source (GPollableInputStream *stream, GCancellable *cancellable)
{
  FtReplayInputStream *r = FT_REPLAY_INPUT_STREAM (stream);
  GSource *child = replay_left (r) > 0
    ? g_timeout_source_new (0)
    : g_pollable_input_stream_create_source (G_POLLABLE_INPUT_STREAM (replay_base (r)), cancellable);
  GSource *s = g_pollable_source_new_full (stream, child, cancellable);
  g_source_unref (child);
  return s;
}

static gssize
replay_read_nonblocking (GPollableInputStream *stream, void *buf, gsize count, GError **error)
{
  FtReplayInputStream *r = FT_REPLAY_INPUT_STREAM (stream);
  if (replay_left (r) > 0)
    return replay_take (r, buf, count);
  return g_pollable_input_stream_read_nonblocking (G_POLLABLE_INPUT_STREAM (replay_base (r)), buf, count, NULL,
                                                   error);
}

static void
ft_replay_pollable_init (GPollableInputStreamInterface *iface)
{
  iface->can_poll = replay_can_poll;
  iface->is_readable = replay_is_readable;
  iface->create_source = replay_create_source;
  iface->read_nonblocking = replay_read_nonblocking;
}

static void
ft_replay_input_stream_finalize (GObject *o)
{
  g_clear_pointer (&FT_REPLAY_INPUT_STREAM (o)->pending, g_bytes_unref);
  G_OBJECT_CLASS (ft_replay_input_stream_parent_class)->finalize (o);
}

static void
ft_replay_input_stream_class_init (FtReplayInputStreamClass *klass)
{
  G_OBJECT_CLASS (klass)->finalize = ft_replay_input_stream_finalize;
  G_INPUT_STREAM_CLASS (klass)->read_fn = replay_read;
}

static void
ft_replay_input_stream_init (FtReplayInputStream *r)
{
}

/* ---- a GIOStream over the base stream with the replaying input ------------- */

#define FT_TYPE_REPLAY_IO_STREAM (ft_replay_io_stream_get_type ())
G_DECLARE_FINAL_TYPE (FtReplayIOStream, ft_replay_io_stream, FT, REPLAY_IO_STREAM, GIOStream)

struct _FtReplayIOStream {
  GIOStream  parent;
  GIOStream *base;
  GInputStream *in;
};

G_DEFINE_FINAL_TYPE (FtReplayIOStream, ft_replay_io_stream, G_TYPE_IO_STREAM)

static GInputStream *
replay_io_get_input (GIOStream *io)
{
  return FT_REPLAY_IO_STREAM (io)->in;
}

static GOutputStream *
replay_io_get_output (GIOStream *io)
{
  return g_io_stream_get_output_stream (FT_REPLAY_IO_STREAM (io)->base);
}

static gboolean
replay_io_close (GIOStream *io, GCancellable *cancellable, GError **error)
{
  return g_io_stream_close (FT_REPLAY_IO_STREAM (io)->base, cancellable, error);
}

static void
replay_io_base_closed (GObject *src, GAsyncResult *res, gpointer data)
{
  GTask *task = data;
  GError *e = NULL;
  if (g_io_stream_close_finish (G_IO_STREAM (src), res, &e))
    g_task_return_boolean (task, TRUE);
  else
    g_task_return_error (task, e);
  g_object_unref (task);
}

static void
replay_io_close_async (GIOStream *io, int prio, GCancellable *cancellable, GAsyncReadyCallback cb, gpointer data)
{
  GTask *task = g_task_new (io, cancellable, cb, data);
  g_io_stream_close_async (FT_REPLAY_IO_STREAM (io)->base, prio, cancellable, replay_io_base_closed, task);
}

static gboolean
replay_io_close_finish (GIOStream *io, GAsyncResult *res, GError **error)
{
  return g_task_propagate_boolean (G_TASK (res), error);
}

static void
ft_replay_io_stream_finalize (GObject *o)
{
  FtReplayIOStream *r = FT_REPLAY_IO_STREAM (o);
  g_clear_object (&r->in);
  g_clear_object (&r->base);
  G_OBJECT_CLASS (ft_replay_io_stream_parent_class)->finalize (o);
}

static void
ft_replay_io_stream_class_init (FtReplayIOStreamClass *klass)
{
  G_OBJECT_CLASS (klass)->finalize = ft_replay_io_stream_finalize;
  GIOStreamClass *io = G_IO_STREAM_CLASS (klass);
  io->get_input_stream = replay_io_get_input;
  io->get_output_stream = replay_io_get_output;
  io->close_fn = replay_io_close;
  io->close_async = replay_io_close_async;
  io->close_finish = replay_io_close_finish;
}

static void
ft_replay_io_stream_init (FtReplayIOStream *r)
{
}

static GIOStream *
replay_io_stream_new (GIOStream *base, GBytes *pending)
{
  FtReplayIOStream *r = g_object_new (FT_TYPE_REPLAY_IO_STREAM, NULL);
  r->base = g_object_ref (base);
  FtReplayInputStream *in = g_object_new (FT_TYPE_REPLAY_INPUT_STREAM, "base-stream",
                                          g_io_stream_get_input_stream (base), "close-base-stream", FALSE, NULL);
  in->pending = g_bytes_get_size (pending) > 0 ? g_bytes_ref (pending) : NULL;
  r->in = G_INPUT_STREAM (in);
  return G_IO_STREAM (r);
}

/* ---- the acceptor ---------------------------------------------------------- */

struct _FtServeAcceptor {
  GSocketService  *service;
  SoupServer      *server;        /* borrowed */
  GTlsCertificate *cert;
  FtMetrics       *metrics;       /* borrowed */
  GCancellable    *cancel;        /* connections still being read when freed */
  guint            port;
};

typedef struct {
  FtServeAcceptor *acc;           /* only read while acc_cancel is not cancelled */
  GCancellable *acc_cancel;       /* the acceptor's (a ref): cancelled when it is freed */
  gulong      acc_handler;
  gboolean    timed_out;
  GSocketConnection *conn;
  GIOStream  *stream;             /* conn, or the TLS connection over it */
  GByteArray *buf;
  GSource    *timeout;
  GCancellable *cancel;
  char        chunk[4096];
  char       *reply;
  gsize       drained;
} Pending;

static void
pending_free (Pending *p)
{
  if (p->timeout)
    {
      g_source_destroy (p->timeout);
      g_source_unref (p->timeout);
    }
  g_clear_object (&p->stream);
  g_clear_object (&p->conn);
  g_byte_array_unref (p->buf);
  g_cancellable_disconnect (p->acc_cancel, p->acc_handler);
  g_clear_object (&p->acc_cancel);
  g_clear_object (&p->cancel);
  g_free (p->reply);
  g_free (p);
}

static void
on_closed (GObject *src, GAsyncResult *res, gpointer data)
{
  g_io_stream_close_finish (G_IO_STREAM (src), res, NULL);
  pending_free (data);
}

static void
close_pending (Pending *p)
{
  if (p->timeout)
    {
      g_source_destroy (p->timeout);
      g_clear_pointer (&p->timeout, g_source_unref);
    }
  g_io_stream_close_async (p->stream, G_PRIORITY_DEFAULT, NULL, on_closed, p);
}

/* After the error reply: read what the client still sends (up to 1 MiB,
 * until the deadline) so that closing does not reset the connection
 * before the client has read the reply. */
static void on_drained (GObject *src, GAsyncResult *res, gpointer data);

static void
drain (Pending *p)
{
  g_input_stream_read_async (g_io_stream_get_input_stream (p->stream), p->chunk, sizeof p->chunk,
                             G_PRIORITY_DEFAULT, p->cancel, on_drained, p);
}

static void
on_drained (GObject *src, GAsyncResult *res, gpointer data)
{
  Pending *p = data;
  gssize n = g_input_stream_read_finish (G_INPUT_STREAM (src), res, NULL);
  if (n > 0 && (p->drained += (gsize) n) < 1024 * 1024 && !g_cancellable_is_cancelled (p->cancel))
    drain (p);
  else
    close_pending (p);
}

static void
on_replied (GObject *src, GAsyncResult *res, gpointer data)
{
  Pending *p = data;
  if (!g_output_stream_write_all_finish (G_OUTPUT_STREAM (src), res, NULL, NULL))
    {
      close_pending (p);
      return;
    }
  /* no more from us; give the client a moment to read the reply */
  if (G_IS_SOCKET_CONNECTION (p->stream))
    g_socket_shutdown (g_socket_connection_get_socket (p->conn), FALSE, TRUE, NULL);
  drain (p);
}

static void
reply_error (Pending *p, const FtHeadVerdict *v)
{
  gsize len = 0;
  p->reply = ft_serve_head_response (v, &len);
  if (p->acc->metrics)
    {
      g_autofree char *labels = g_strdup_printf ("code=\"%u\"", v->status);
      ft_metrics_counter_add (p->acc->metrics, "fleet_twin_http_malformed_total",
                              "Requests refused before routing (malformed HTTP), by status", labels, 1);
    }
  g_log_structured ("ft-serve", G_LOG_LEVEL_INFO, "MESSAGE", "malformed request: %u %s", v->status, v->detail,
                    "STATUS", "%u", v->status);
  g_output_stream_write_all_async (g_io_stream_get_output_stream (p->stream), p->reply, len, G_PRIORITY_DEFAULT,
                                   p->cancel, on_replied, p);
}

static gboolean
on_head_timeout (gpointer data)
{
  Pending *p = data;
  g_clear_pointer (&p->timeout, g_source_unref);
  /* stop the read in flight; its callback sees the cancellation and replies */
  p->timed_out = TRUE;
  g_cancellable_cancel (p->cancel);
  return G_SOURCE_REMOVE;
}

static void read_more (Pending *p);

static void
hand_over (Pending *p)
{
  if (p->timeout)
    {
      g_source_destroy (p->timeout);
      g_clear_pointer (&p->timeout, g_source_unref);
    }
  g_autoptr(GBytes) bytes = g_byte_array_free_to_bytes (g_steal_pointer (&p->buf));
  p->buf = g_byte_array_new ();
  g_autoptr(GIOStream) io = replay_io_stream_new (p->stream, bytes);
  g_autoptr(GSocketAddress) local = g_socket_connection_get_local_address (p->conn, NULL);
  g_autoptr(GSocketAddress) remote = g_socket_connection_get_remote_address (p->conn, NULL);
  g_autoptr(GError) e = NULL;
  if (!soup_server_accept_iostream (p->acc->server, io, local, remote, &e))
    g_log_structured ("ft-serve", G_LOG_LEVEL_WARNING, "MESSAGE", "handing a connection to libsoup: %s",
                      e->message);
  pending_free (p);
}

static void
on_read (GObject *src, GAsyncResult *res, gpointer data)
{
  Pending *p = data;
  g_autoptr(GError) e = NULL;
  gssize n = g_input_stream_read_finish (G_INPUT_STREAM (src), res, &e);
  if (g_cancellable_is_cancelled (p->acc_cancel))
    {
      close_pending (p);     /* the server is going away */
      return;
    }
  if (n < 0 && p->timed_out)
    {
      /* the head timed out: 408, on a fresh cancellable */
      g_clear_object (&p->cancel);
      p->cancel = g_cancellable_new ();
      FtHeadVerdict v = { 0 };
      v.status = 408;
      g_strlcpy (v.error, "request_timeout", sizeof v.error);
      g_snprintf (v.detail, sizeof v.detail, "the request head did not arrive within %d ms",
                  FT_SERVE_HEAD_TIMEOUT_MS);
      reply_error (p, &v);
      return;
    }
  if (n <= 0)
    {
      close_pending (p);     /* closed before a whole head, or an error: nothing to answer */
      return;
    }
  g_byte_array_append (p->buf, (const guint8 *) p->chunk, (guint) n);
  FtHeadVerdict v;
  switch (ft_serve_check_head ((const char *) p->buf->data, p->buf->len, 0, &v))
    {
    case FT_HEAD_INCOMPLETE:
      read_more (p);
      break;
    case FT_HEAD_OK:
      hand_over (p);
      break;
    case FT_HEAD_BAD:
      if (p->timeout)
        {
          g_source_destroy (p->timeout);
          g_clear_pointer (&p->timeout, g_source_unref);
        }
      reply_error (p, &v);
      break;
    }
}

static void
read_more (Pending *p)
{
  g_input_stream_read_async (g_io_stream_get_input_stream (p->stream), p->chunk, sizeof p->chunk,
                             G_PRIORITY_DEFAULT, p->cancel, on_read, p);
}

static void
on_handshake (GObject *src, GAsyncResult *res, gpointer data)
{
  Pending *p = data;
  g_autoptr(GError) e = NULL;
  if (!g_tls_connection_handshake_finish (G_TLS_CONNECTION (src), res, &e) || g_cancellable_is_cancelled (p->acc_cancel))
    {
      if (e != NULL)
        g_log_structured ("ft-serve", G_LOG_LEVEL_INFO, "MESSAGE", "TLS handshake failed: %s", e->message);
      close_pending (p);
      return;
    }
  read_more (p);
}

static gboolean
on_incoming (GSocketService *service, GSocketConnection *conn, GObject *source, gpointer data)
{
  FtServeAcceptor *acc = data;
  Pending *p = g_new0 (Pending, 1);
  p->acc = acc;
  p->conn = g_object_ref (conn);
  p->buf = g_byte_array_new ();
  p->cancel = g_cancellable_new ();
  p->acc_cancel = g_object_ref (acc->cancel);
  p->acc_handler = g_cancellable_connect (acc->cancel, G_CALLBACK (g_cancellable_cancel), g_object_ref (p->cancel),
                                          g_object_unref);
  p->timeout = g_timeout_source_new (FT_SERVE_HEAD_TIMEOUT_MS);
  g_source_set_callback (p->timeout, on_head_timeout, p, NULL);
  g_source_attach (p->timeout, g_main_context_get_thread_default ());
  if (acc->cert)
    {
      g_autoptr(GError) e = NULL;
      GIOStream *tls = g_tls_server_connection_new (G_IO_STREAM (conn), acc->cert, &e);
      if (tls == NULL)
        {
          g_log_structured ("ft-serve", G_LOG_LEVEL_WARNING, "MESSAGE", "TLS: %s", e->message);
          p->stream = G_IO_STREAM (g_object_ref (conn));
          close_pending (p);
          return TRUE;
        }
      p->stream = tls;
      g_tls_connection_handshake_async (G_TLS_CONNECTION (tls), G_PRIORITY_DEFAULT, p->cancel, on_handshake, p);
    }
  else
    {
      p->stream = G_IO_STREAM (g_object_ref (conn));
      read_more (p);
    }
  return TRUE;
}

FtServeAcceptor *
ft_serve_acceptor_new (SoupServer *server, GSocketAddress *addr, GTlsCertificate *cert, FtMetrics *metrics,
                       GError **error)
{
  g_return_val_if_fail (SOUP_IS_SERVER (server) && G_IS_SOCKET_ADDRESS (addr), NULL);
  FtServeAcceptor *acc = g_new0 (FtServeAcceptor, 1);
  acc->server = server;
  acc->cert = cert ? g_object_ref (cert) : NULL;
  acc->metrics = metrics;
  acc->cancel = g_cancellable_new ();
  acc->service = g_socket_service_new ();
  g_autoptr(GSocketAddress) effective = NULL;
  /* GSocketListener's default backlog of 10 drops connections under a
   * burst (the client retries its SYN after a second); libsoup's own
   * listener asks for SOMAXCONN */
  g_socket_listener_set_backlog (G_SOCKET_LISTENER (acc->service), SOMAXCONN);
  if (!g_socket_listener_add_address (G_SOCKET_LISTENER (acc->service), addr, G_SOCKET_TYPE_STREAM,
                                      G_SOCKET_PROTOCOL_TCP, NULL, &effective, error))
    {
      ft_serve_acceptor_free (acc);
      return NULL;
    }
  acc->port = g_inet_socket_address_get_port (G_INET_SOCKET_ADDRESS (effective));
  g_signal_connect (acc->service, "incoming", G_CALLBACK (on_incoming), acc);
  g_socket_service_start (acc->service);
  return acc;
}

guint
ft_serve_acceptor_port (FtServeAcceptor *a)
{
  return a->port;
}

void
ft_serve_acceptor_free (FtServeAcceptor *a)
{
  if (a == NULL)
    return;
  g_socket_service_stop (a->service);
  g_socket_listener_close (G_SOCKET_LISTENER (a->service));
  g_signal_handlers_disconnect_by_data (a->service, a);
  g_object_unref (a->service);
  /* connections still being read: their callbacks run on the main
   * context, see the cancellation and close (they hold no pointer to a
   * freed acceptor once cancelled: acc is only read before that) */
  g_cancellable_cancel (a->cancel);
  g_clear_object (&a->cancel);
  g_clear_object (&a->cert);
  g_free (a);
}
