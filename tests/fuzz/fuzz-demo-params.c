/* fuzz-demo-params.c — libFuzzer harness for the Demo City parameter key
 * file (data/demo-city.ini; ft_city_generate_demo_from_data in
 * src/city/ft-demo-city.c). Parameters that read generate a city, which
 * must pass ft_city_check.
 */
#include "fuzz-common.h"
#include "ft-city.h"

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  fuzz_init_glib ();
  g_autoptr(GError) error = NULL;
  g_autoptr(FtCity) c = ft_city_generate_demo_from_data ((const char *) data, size, "fuzz.ini", &error);
  if (c == NULL)
    {
      fuzz_verbose ("parameters", error);
      g_assert (error != NULL);
      return 0;
    }
  g_autoptr(GError) e = NULL;
  if (!ft_city_check (c, &e))
    g_error ("generated city fails ft_city_check: %s", e->message);
  fuzz_verbose ("parameters", NULL);
  return 0;
}
