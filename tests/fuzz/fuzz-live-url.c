/* fuzz-live-url.c — libFuzzer harness for the broker URL parser
 * (ft_live_parse_url in src/live, read-only use): mqtt[s]://[user[:pass]@]
 * host[:port]. A URL that parses has a host and a port in 1..65535.
 */
#include "fuzz-common.h"
#include "ft-live.h"

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  fuzz_init_glib ();
  g_autofree char *url = g_strndup ((const char *) data, size);
  FtLiveUrl u = { 0 };
  g_autoptr(GError) error = NULL;
  if (!ft_live_parse_url (url, &u, &error))
    {
      fuzz_verbose ("url", error);
      g_assert (error != NULL);
      ft_live_url_clear (&u);
      return 0;
    }
  g_assert (u.host != NULL && u.host[0] != '\0');
  g_assert (u.port >= 1 && u.port <= 65535);
  ft_live_url_clear (&u);
  fuzz_verbose ("url", NULL);
  return 0;
}
