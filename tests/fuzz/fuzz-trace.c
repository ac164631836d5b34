/* fuzz-trace.c — libFuzzer harness for demand trace files (ft_trace_load in
 * src/interop/ft-demand-fit.c: "t<TAB>lat<TAB>lon<TAB>lat<TAB>lon" lines).
 * A trace that loads is in time order with valid positions.
 */
#include "fuzz-common.h"
#include "ft-demand-fit.h"

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  fuzz_init_glib ();
  g_autofree char *path = g_build_filename (fuzz_scratch (), "trace.tsv", NULL);
  fuzz_write (fuzz_scratch_dir, "trace.tsv", (const char *) data, size);
  guint n = 0;
  g_autoptr(GError) error = NULL;
  g_autofree FtDemandRequest *reqs = ft_trace_load (path, &n, &error);
  if (reqs == NULL && error != NULL)
    {
      fuzz_verbose ("trace", error);
      return 0;
    }
  for (guint i = 0; i < n; i++)
    {
      g_assert (ft_latlon_valid (reqs[i].from) && ft_latlon_valid (reqs[i].to));
      g_assert (i == 0 || reqs[i].t >= reqs[i - 1].t);
    }
  fuzz_verbose ("trace", NULL);
  return 0;
}
