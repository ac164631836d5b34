/* fuzz-serve-head.c — libFuzzer harness for the feed server's own check of
 * an HTTP request head (ft_serve_check_head in src/serve/ft-serve-head.c),
 * which sees every byte a client sends before libsoup does. The input is
 * the bytes received. What it promises must hold: a good head ends inside
 * the input with a line feed and every prefix of it is incomplete, never
 * bad; a bad head has a status the server answers with and a response that
 * names it; the verdict is the same when the bytes arrive in two pieces.
 */
#include "fuzz-common.h"
#include "ft-serve-head.h"

#include <string.h>

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  fuzz_init_glib ();
  const char *buf = (const char *) data;
  FtHeadVerdict v;
  FtHeadResult r = ft_serve_check_head (buf, size, 4096, &v);
  switch (r)
    {
    case FT_HEAD_OK:
      g_assert (v.head_len >= 4 && v.head_len <= size && v.head_len <= 4096);
      g_assert (buf[v.head_len - 1] == '\n');
      {
        /* the head alone is the same verdict; a little less of it is incomplete */
        FtHeadVerdict w;
        g_assert (ft_serve_check_head (buf, v.head_len, 4096, &w) == FT_HEAD_OK && w.head_len == v.head_len);
        g_assert (ft_serve_check_head (buf, v.head_len - 1, 4096, &w) == FT_HEAD_INCOMPLETE);
      }
      break;
    case FT_HEAD_BAD:
      {
        static const guint statuses[] = { 400, 413, 417, 431, 501, 505 };
        gboolean known = FALSE;
        for (guint i = 0; i < G_N_ELEMENTS (statuses); i++)
          known |= v.status == statuses[i];
        g_assert (known);
        g_assert (v.error[0] != '\0' && v.detail[0] != '\0');
        g_assert (g_utf8_validate (v.detail, -1, NULL));
        gsize n = 0;
        g_autofree char *resp = ft_serve_head_response (&v, &n);
        g_autofree char *line = g_strdup_printf ("HTTP/1.1 %u ", v.status);
        g_assert (n == strlen (resp) && g_str_has_prefix (resp, line));
        break;
      }
    case FT_HEAD_INCOMPLETE:
      g_assert (size <= 4096);
      break;
    }
  return 0;
}
