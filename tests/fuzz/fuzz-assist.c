/* fuzz-assist.c — libFuzzer harness for the rider's assistant
 * (src/assist): the message parser (tokens, features, classifier, slots)
 * and the whole answer path on a small core with two riders, a vehicle, a
 * finished and an open trip. The input is split at newlines into messages
 * to rider 0 (so a confirmation can follow an offer); each must be
 * answered with valid UTF-8 or refused with FT_ASSIST_ERROR_INVALID, and
 * the core's invariants must hold after.
 */
#include "fuzz-common.h"
#include "ft-assist.h"
#include "ft-assist-text.h"

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  fuzz_init_glib ();
  FtCoreConfig cfg;
  FtPriceBreakdown price;
  g_autoptr(GError) error = NULL;
  FtLatLon c = { 50.0, 10.0 };

  if (size > 3 * FT_ASSIST_MAX_MESSAGE)
    return 0;
  ft_core_config_init (&cfg);
  cfg.card_decline_rate = 0;
  g_autoptr(FtCore) core = ft_core_new (&cfg, NULL, NULL);
  guint v = ft_fleet_add_vehicle (core->fleet, FT_KIND_SCOOTER, c, NULL, 0);
  guint w = ft_fleet_add_vehicle (core->fleet, FT_KIND_BIKE, ft_latlon_offset (c, 100, 0), NULL, 0);
  ft_fleet_add_pack (core->fleet, 500, 0.8, FT_PACK_IN_VEHICLE, (gint32) v, 0, NULL);
  ft_fleet_add_pack (core->fleet, 500, 0.5, FT_PACK_IN_VEHICLE, (gint32) w, 0, NULL);
  gint r = ft_accounts_create (core->accounts, FT_ROLE_RIDER, "fuzz", "fuzz@example.org", 0, NULL);
  g_assert (r == 0);
  g_assert (ft_payments_topup (core->payments, 0, 5000, "t", 0, NULL) >= 0);
  gint64 b = ft_booking_start (core->booking, 0, v, 0, NULL);
  g_assert (b >= 0 && ft_booking_end (core->booking, b, 0, ft_latlon_offset (c, 300, 0), 400, 6 * FT_MINUTE,
                                      &price, NULL));
  g_assert (ft_booking_start (core->booking, 0, v, FT_HOUR, NULL) >= 0);
  g_autoptr(FtAssist) a = ft_assist_new (core, NULL, &error);
  g_assert (a != NULL);

  const char *p = (const char *) data, *end = p + size;
  FtTime now = FT_HOUR + FT_MINUTE;
  while (p <= end)
    {
      const char *nl = memchr (p, '\n', (size_t) (end - p));
      gsize len = (gsize) ((nl ? nl : end) - p);
      g_autoptr(GError) e = NULL;
      if (g_utf8_validate (p, (gssize) len, NULL))
        {
          g_auto(GStrv) toks = ft_assist_tokens (p, len);
          g_assert (toks != NULL);
        }
      g_autoptr(FtAssistReply) rep = ft_assist_ask (a, 0, p, (gssize) len, NULL, now, &e);
      if (rep)
        {
          g_assert (rep->text && g_utf8_validate (rep->text, -1, NULL));
          g_assert (rep->intent < FT_N_INTENTS && rep->confidence >= 0 && rep->confidence <= 1.0);
        }
      else
        g_assert (g_error_matches (e, FT_ASSIST_ERROR, FT_ASSIST_ERROR_INVALID));
      now += FT_SECOND;
      if (!nl)
        break;
      p = nl + 1;
    }
  g_assert (ft_core_check (core, &error));
  return 0;
}
