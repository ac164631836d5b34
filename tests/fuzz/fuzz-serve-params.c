/* fuzz-serve-params.c — libFuzzer harness for what the feed server parses
 * from outside (src/serve/ft-serve-params.c and the MDS hour in
 * src/interop/ft-mds.c). The first byte picks the parser, the rest is its
 * input: 0 a query string (for each endpoint's hour name), 1 a token file,
 * 2 a listen address, 3 an MDS hour. What parses must hold what the parser
 * promises: a cursor and limit in range, tokens of 16-256 bytes, a port in
 * 0-65535, an hour that formats back to the same text.
 */
#include "fuzz-common.h"
#include "ft-serve.h"

#include <string.h>

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  fuzz_init_glib ();
  if (size < 1)
    return 0;
  guint which = data[0] % 4;
  const char *text = (const char *) data + 1;
  gsize len = size - 1;
  g_autofree char *s = g_strndup (text, len);
  g_autoptr(GError) error = NULL;

  switch (which)
    {
    case 0:
      {
        const char *keys[] = { NULL, "end_time", "event_time", "telemetry_time", FT_SERVE_RANGE };
        for (guint i = 0; i < G_N_ELEMENTS (keys); i++)
          {
            g_auto(FtServeParams) p = { 0 };
            g_clear_error (&error);
            if (ft_serve_parse_query (s, keys[i], &p, &error))
              {
                g_assert (error == NULL);
                g_assert (p.cursor >= 0 && p.cursor <= G_MAXINT32);
                g_assert (p.limit >= 1 && p.limit <= FT_SERVE_MAX_LIMIT);
                g_assert (keys[i] != NULL || p.hour == NULL);
                g_assert (p.start_ms >= -1 && p.end_ms >= -1);
              }
            else
              g_assert (error != NULL && p.hour == NULL && p.version == NULL);
          }
        break;
      }
    case 1:
      {
        g_autoptr(GHashTable) t = ft_serve_parse_tokens (text, len, "fuzz", &error);
        if (t)
          {
            GHashTableIter it;
            gpointer k, v;
            g_hash_table_iter_init (&it, t);
            while (g_hash_table_iter_next (&it, &k, &v))
              {
                gsize tl = strlen (k);
                g_assert (tl >= 16 && tl <= 256);
                g_assert (strlen (v) >= 1 && strlen (v) <= 64);
              }
          }
        else
          g_assert (error != NULL);
        break;
      }
    case 2:
      {
        g_autofree char *host = NULL;
        guint port = 0;
        if (ft_serve_parse_listen (s, &host, &port, &error))
          {
            g_assert (host != NULL && port <= 65535);
            (void) ft_serve_host_is_loopback (host);
          }
        else
          g_assert (error != NULL && host == NULL);
        break;
      }
    default:
      {
        gint64 h = 0;
        if (ft_mds_parse_hour (s, &h))
          {
            g_autofree char *back = ft_mds_format_hour (h);
            g_assert_cmpstr (back, ==, s);
            g_assert (h % FT_MDS_HOUR == 0);
          }
        break;
      }
    }
  fuzz_verbose ("serve-params", error);
  return 0;
}
