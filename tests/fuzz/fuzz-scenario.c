/* fuzz-scenario.c — libFuzzer harness for the scenario file parser
 * (sim/ft-sim-scenario.c, GKeyFile syntax with typed, range-checked keys).
 * A scenario that parses is copied and its paths resolved, as the CLI does.
 */
#include "fuzz-common.h"
#include "ft-sim-scenario.h"

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  fuzz_init_glib ();
  g_autoptr(GError) error = NULL;
  g_autoptr(FtSimScenario) sc = ft_sim_scenario_parse ((const char *) data, (gssize) size,
                                                       "fuzz.scenario", &error);
  if (sc == NULL)
    {
      fuzz_verbose ("scenario", error);
      g_assert (error != NULL && error->message != NULL);
      return 0;
    }
  g_assert (error == NULL);
  /* An empty fleet is accepted only when it comes from a GBFS snapshot
   * (read, and refused if it holds no vehicle, when the world is set up). */
  g_assert (ft_sim_scenario_n_vehicles (sc) > 0 || sc->fleet_gbfs != NULL);
  g_autoptr(FtSimScenario) copy = ft_sim_scenario_copy (sc);
  g_assert (strlen (copy->currency) == 3);
  g_assert (copy->initial_soc_min <= copy->initial_soc_max);
  const char *paths[] = { copy->city, copy->trace, copy->city_osm, copy->city_trips };
  for (guint i = 0; i < G_N_ELEMENTS (paths); i++)
    if (paths[i] != NULL)
      g_free (ft_sim_scenario_resolve_path (copy, paths[i]));
  fuzz_verbose ("scenario", NULL);
  return 0;
}
