/* live-broker.c — see live-broker.h. */
#include "live-broker.h"

#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <unistd.h>
#include <signal.h>
#include <string.h>
#include <errno.h>
#include <glib/gstdio.h>

static const char *
mosquitto_bin (void)
{
  if (g_file_test ("/usr/sbin/mosquitto", G_FILE_TEST_IS_EXECUTABLE))
    return "/usr/sbin/mosquitto";
  return "mosquitto";
}

gboolean
live_have_tools (void)
{
  g_autofree char *o = g_find_program_in_path ("openssl");
  g_autofree char *p = g_find_program_in_path ("mosquitto_passwd");
  return o && p && (g_file_test ("/usr/sbin/mosquitto", G_FILE_TEST_IS_EXECUTABLE) ||
                    g_find_program_in_path ("mosquitto"));
}

static int
free_port (void)
{
  int fd = socket (AF_INET, SOCK_STREAM, 0);
  struct sockaddr_in a = { 0 };
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl (INADDR_LOOPBACK);
  a.sin_port = 0;
  socklen_t len = sizeof a;
  if (fd < 0 || bind (fd, (struct sockaddr *) &a, sizeof a) != 0 ||
      getsockname (fd, (struct sockaddr *) &a, &len) != 0)
    {
      if (fd >= 0)
        close (fd);
      return 0;
    }
  close (fd);
  return ntohs (a.sin_port);
}

static gboolean
port_open (int port)
{
  int fd = socket (AF_INET, SOCK_STREAM, 0);
  struct sockaddr_in a = { 0 };
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl (INADDR_LOOPBACK);
  a.sin_port = htons (port);
  gboolean ok = fd >= 0 && connect (fd, (struct sockaddr *) &a, sizeof a) == 0;
  if (fd >= 0)
    close (fd);
  return ok;
}

static gboolean
run (GError **error, const char *const *argv)
{
  int status = 0;
  g_autofree char *err = NULL;
  if (!g_spawn_sync (NULL, (char **) argv, NULL, G_SPAWN_SEARCH_PATH | G_SPAWN_STDOUT_TO_DEV_NULL,
                     NULL, NULL, NULL, &err, &status, error))
    return FALSE;
  if (!g_spawn_check_wait_status (status, NULL))
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_FAILED, "%s failed: %s", argv[0], err ? err : "");
      return FALSE;
    }
  return TRUE;
}

static gboolean
launch (LiveBroker *b, GError **error)
{
  g_autofree char *log = g_build_filename (b->dir, "mosquitto.log", NULL);
  g_autoptr(GSubprocessLauncher) l = g_subprocess_launcher_new (G_SUBPROCESS_FLAGS_STDOUT_SILENCE);
  g_subprocess_launcher_set_stderr_file_path (l, log);
  b->proc = g_subprocess_launcher_spawn (l, error, mosquitto_bin (), "-c", b->conf, NULL);
  if (b->proc == NULL)
    return FALSE;
  for (int i = 0; i < 500; i++)
    {
      if (port_open (b->port))
        return TRUE;
      if (g_subprocess_get_identifier (b->proc) == NULL)   /* exited */
        break;
      g_usleep (10000);
    }
  g_autofree char *text = NULL;
  g_file_get_contents (log, &text, NULL, NULL);
  g_set_error (error, G_IO_ERROR, G_IO_ERROR_FAILED, "mosquitto did not listen on port %d: %s",
               b->port, text ? text : "(no log)");
  return FALSE;
}

static LiveBroker *
start_common (gboolean tls, gboolean mtls, const char *user, const char *password, GError **error)
{
  LiveBroker *b = g_new0 (LiveBroker, 1);
  b->dir = g_dir_make_tmp ("ft-live-XXXXXX", error);
  if (b->dir == NULL)
    {
      g_free (b);
      return NULL;
    }
  b->port = free_port ();
  b->tls = tls;
  b->conf = g_build_filename (b->dir, "mosquitto.conf", NULL);
  GString *c = g_string_new (NULL);
  g_string_append_printf (c, "listener %d 127.0.0.1\n", b->port);
  if (geteuid () == 0)
    g_string_append (c, "user root\n");
  /* mosquitto's default max_queued_messages (1000) drops QoS 1 messages for
   * a session that is away or slow; a twin's broker needs it raised (see
   * src/live/MQTT-CONTRACT.md), and so does this one */
  g_string_append (c, "persistence false\nmax_queued_messages 1000000\nmax_inflight_messages 1000\n"
                      "max_queued_bytes 0\nset_tcp_nodelay true\n");
  if (tls)
    {
      g_autofree char *ca = g_build_filename (b->dir, "ca.crt", NULL);
      g_autofree char *cak = g_build_filename (b->dir, "ca.key", NULL);
      g_autofree char *sk = g_build_filename (b->dir, "server.key", NULL);
      g_autofree char *csr = g_build_filename (b->dir, "server.csr", NULL);
      g_autofree char *crt = g_build_filename (b->dir, "server.crt", NULL);
      g_autofree char *ext = g_build_filename (b->dir, "ext.cnf", NULL);
      g_autofree char *srl = g_build_filename (b->dir, "ca.srl", NULL);
      g_autofree char *pw = g_build_filename (b->dir, "passwords", NULL);
      g_file_set_contents (ext, "subjectAltName=IP:127.0.0.1,DNS:localhost\n", -1, NULL);
      const char *a1[] = { "openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", cak,
                           "-out", ca, "-days", "2", "-subj", "/CN=fleet-twin-test-ca", NULL };
      const char *a2[] = { "openssl", "req", "-newkey", "rsa:2048", "-nodes", "-keyout", sk,
                           "-out", csr, "-subj", "/CN=127.0.0.1", NULL };
      const char *a3[] = { "openssl", "x509", "-req", "-in", csr, "-CA", ca, "-CAkey", cak,
                           "-CAserial", srl, "-CAcreateserial", "-out", crt, "-days", "2",
                           "-extfile", ext, NULL };
      const char *a4[] = { "mosquitto_passwd", "-b", "-c", pw, user, password, NULL };
      if (!run (error, a1) || !run (error, a2) || !run (error, a3) || (!mtls && !run (error, a4)))
        {
          g_string_free (c, TRUE);
          live_broker_free (b);
          return NULL;
        }
      if (mtls)
        {
          g_autofree char *ck = g_build_filename (b->dir, "client.key", NULL);
          g_autofree char *ccsr = g_build_filename (b->dir, "client.csr", NULL);
          g_autofree char *ccrt = g_build_filename (b->dir, "client.crt", NULL);
          const char *c1[] = { "openssl", "req", "-newkey", "rsa:2048", "-nodes", "-keyout", ck,
                               "-out", ccsr, "-subj", "/CN=fleet-twin-test-client", NULL };
          const char *c2[] = { "openssl", "x509", "-req", "-in", ccsr, "-CA", ca, "-CAkey", cak,
                               "-CAserial", srl, "-out", ccrt, "-days", "2", NULL };
          if (!run (error, c1) || !run (error, c2))
            {
              g_string_free (c, TRUE);
              live_broker_free (b);
              return NULL;
            }
          g_string_append_printf (c, "cafile %s\ncertfile %s\nkeyfile %s\nrequire_certificate true\n"
                                     "use_identity_as_username true\nallow_anonymous false\n",
                                  ca, crt, sk);
        }
      else
        g_string_append_printf (c, "cafile %s\ncertfile %s\nkeyfile %s\nallow_anonymous false\n"
                                   "password_file %s\n", ca, crt, sk, pw);
    }
  else
    g_string_append (c, "allow_anonymous true\n");
  g_file_set_contents (b->conf, c->str, -1, NULL);
  g_string_free (c, TRUE);
  if (!launch (b, error))
    {
      live_broker_free (b);
      return NULL;
    }
  return b;
}

LiveBroker *
live_broker_start (GError **error)
{
  return start_common (FALSE, FALSE, NULL, NULL, error);
}

LiveBroker *
live_broker_start_mtls (GError **error)
{
  return start_common (TRUE, TRUE, NULL, NULL, error);
}

LiveBroker *
live_broker_start_tls (const char *user, const char *password, GError **error)
{
  return start_common (TRUE, FALSE, user, password, error);
}

void
live_broker_kill (LiveBroker *b)
{
  if (b->proc)
    {
      g_subprocess_send_signal (b->proc, SIGKILL);
      g_subprocess_wait (b->proc, NULL, NULL);
      g_clear_object (&b->proc);
    }
}

gboolean
live_broker_restart (LiveBroker *b, GError **error)
{
  live_broker_kill (b);
  return launch (b, error);
}

static void
rm_rf (const char *dir)
{
  GDir *d = g_dir_open (dir, 0, NULL);
  if (d)
    {
      const char *n;
      while ((n = g_dir_read_name (d)) != NULL)
        {
          g_autofree char *p = g_build_filename (dir, n, NULL);
          g_unlink (p);
        }
      g_dir_close (d);
    }
  g_rmdir (dir);
}

void
live_broker_free (LiveBroker *b)
{
  if (b == NULL)
    return;
  if (b->proc)
    {
      g_subprocess_send_signal (b->proc, SIGTERM);
      g_subprocess_wait (b->proc, NULL, NULL);
      g_clear_object (&b->proc);
    }
  if (b->dir && !g_getenv ("FT_KEEP_BROKER_DIR"))
    rm_rf (b->dir);
  g_free (b->dir);
  g_free (b->conf);
  g_free (b);
}

char *
live_broker_url (LiveBroker *b)
{
  return g_strdup_printf ("%s://127.0.0.1:%d", b->tls ? "mqtts" : "mqtt", b->port);
}

char *
live_broker_path (LiveBroker *b, const char *name)
{
  return g_build_filename (b->dir, name, NULL);
}
