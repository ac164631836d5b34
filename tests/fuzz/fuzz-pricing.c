/* fuzz-pricing.c — libFuzzer harness for GBFS system_pricing_plans (3.0
 * and 2.3, a whole file or a bare data object; src/pricing/ft-pricing.c).
 * Plans that load are used to quote a few trips, whose totals must be
 * whole, non-negative minor units.
 */
#include "fuzz-common.h"
#include "ft-pricing.h"

#include <json-glib/json-glib.h>

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  fuzz_init_glib ();
  g_autoptr(FtPricing) p = ft_pricing_new ();
  g_autoptr(GError) error = NULL;
  if (!ft_pricing_parse_gbfs (p, (const char *) data, (gssize) size, "fuzz.json", &error))
    {
      fuzz_verbose ("pricing", error);
      g_assert (error != NULL);
      g_assert_cmpuint (ft_pricing_n_plans (p), ==, 0);   /* all plans or none */
      return 0;
    }
  static const double minutes[] = { 0, 0.5, 1, 10, 59.9, 600 };
  for (guint i = 0; i < ft_pricing_n_plans (p); i++)
    {
      const FtPricingPlan *plan = ft_pricing_get_plan (p, i);
      g_assert (plan != NULL && plan->plan_id != NULL);
      for (guint m = 0; m < G_N_ELEMENTS (minutes); m++)
        {
          FtTripQuote q = { minutes[m], minutes[m] / 4, { 52.5, 13.4 }, { 52.51, 13.41 }, 0, m % 3 };
          FtPriceBreakdown b;
          ft_pricing_quote_plan (p, plan, &q, &b);
          g_assert_cmpint (b.total, >=, 0);
        }
    }
  g_autoptr(JsonNode) out = ft_pricing_to_gbfs_data (p);
  g_autofree char *text = json_to_string (out, FALSE);
  g_autoptr(FtPricing) again = ft_pricing_new ();
  g_autoptr(GError) again_error = NULL;
  if (!ft_pricing_parse_gbfs (again, text, -1, "fuzz.json (written)", &again_error))
    g_error ("written pricing plans do not load again: %s\n%s", again_error->message, text);
  g_assert_cmpuint (ft_pricing_n_plans (again), ==, ft_pricing_n_plans (p));
  fuzz_verbose ("pricing", NULL);
  return 0;
}
