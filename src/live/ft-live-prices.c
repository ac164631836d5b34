/* ft-live-prices.c — the price topic (contract version 1): the twin
 * publishes the prices riders see, retained, on P/prices/v1 whenever they
 * change (any FT_EV_PRICE_CHANGED since the last publish) and on every
 * (re)connection: the plans (GBFS 3.0 shaped), the dynamic multiplier per
 * zone, protected zones and a declared emergency, and the relocation offers.
 * Apps read it before a rider books; the price shown is the price charged.
 */
#include "ft-live-private.h"
#include "ft-json.h"

#include <json-glib/json-glib.h>
#include <math.h>
#include <string.h>

char *
ft_live_prices_payload (FtCore *core, FtTime now, gsize *len)
{
  g_return_val_if_fail (core != NULL, NULL);
  g_autoptr(JsonBuilder) b = json_builder_new ();
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "version");
  json_builder_add_int_value (b, FT_LIVE_PRICES_VERSION);
  json_builder_set_member_name (b, "timestamp");
  json_builder_add_int_value (b, now);
  json_builder_set_member_name (b, "currency");
  json_builder_add_string_value (b, core->config.currency);
  json_builder_set_member_name (b, "plans");
  {
    g_autoptr(JsonNode) d = ft_pricing_to_gbfs_data (core->pricing);
    JsonNode *plans = json_object_get_member (json_node_get_object (d), "plans");
    json_builder_add_value (b, json_node_copy (plans));
  }
  FtDynPricing *dp = core->dyn;
  json_builder_set_member_name (b, "emergency");
  json_builder_add_boolean_value (b, dp != NULL && ft_dyn_pricing_emergency (dp));
  if (dp != NULL)
    {
      const FtDynGuards *g = ft_dyn_pricing_guards (dp);
      json_builder_set_member_name (b, "floor");
      ft_json_builder_add_number (b, g->floor);
      json_builder_set_member_name (b, "cap");
      ft_json_builder_add_number (b, ft_dyn_pricing_emergency (dp) ? MIN (g->cap, g->emergency_cap) : g->cap);
      json_builder_set_member_name (b, "interval_s");
      json_builder_add_int_value (b, g->interval / FT_SECOND);
    }
  json_builder_set_member_name (b, "zones");
  json_builder_begin_array (b);
  guint nz = dp != NULL ? ft_dyn_pricing_n_zones (dp) : 0;
  FtIncentives *inc = core->incentives;
  for (guint z = 0; z < nz; z++)
    {
      json_builder_begin_object (b);
      json_builder_set_member_name (b, "zone");
      json_builder_add_int_value (b, z);
      json_builder_set_member_name (b, "multiplier");
      ft_json_builder_add_number (b, ft_dyn_pricing_get (dp, z));
      json_builder_set_member_name (b, "protected");
      json_builder_add_boolean_value (b, ft_dyn_pricing_is_protected (dp, z));
      json_builder_end_object (b);
    }
  json_builder_end_array (b);
  json_builder_set_member_name (b, "offers");
  json_builder_begin_array (b);
  if (inc != NULL && ft_incentives_budget_left (inc, now) > 0)
    for (guint z = 0; z < ft_incentives_n_zones (inc); z++)
      for (int kind = 0; kind < 2; kind++)
        if (kind == 0 ? ft_incentives_start_offered (inc, (gint) z) : ft_incentives_end_offered (inc, (gint) z))
          {
            json_builder_begin_object (b);
            json_builder_set_member_name (b, "zone");
            json_builder_add_int_value (b, z);
            json_builder_set_member_name (b, "kind");
            json_builder_add_string_value (b, kind == 0 ? "start" : "end");
            json_builder_set_member_name (b, "reward");
            ft_json_builder_add_number (b, (double) ft_incentives_rules (inc)->reward_minor
                                                / pow (10.0, ft_currency_exponent (core->config.currency)));
            json_builder_end_object (b);
          }
  json_builder_end_array (b);
  json_builder_end_object (b);
  g_autoptr(JsonGenerator) gen = json_generator_new ();
  g_autoptr(JsonNode) root = json_builder_get_root (b);
  json_generator_set_root (gen, root);
  return json_generator_to_data (gen, len);
}

gboolean
ft_live_publish_prices (FtLive *live, FtTime now)
{
  g_return_val_if_fail (live != NULL, FALSE);
  if (live->mosq == NULL || g_atomic_int_get (&live->conn_state) != FT_LIVE_CONNECTED)
    return FALSE;
  gsize n = 0;
  g_autofree char *payload = ft_live_prices_payload (live->core, now, &n);
  g_autofree char *topic = g_strdup_printf ("%sprices/v%d", live->prefix_slash, FT_LIVE_PRICES_VERSION);
  if (mosquitto_publish (live->mosq, NULL, topic, (int) n, payload, 1, true) != MOSQ_ERR_SUCCESS)
    return FALSE;
  live->prices_seq = ft_event_log_count (live->core->log, FT_EV_PRICE_CHANGED);
  live->prices_published = TRUE;
  live->stats.prices_sent++;
  return TRUE;
}

void
ft_live_maybe_publish_prices (FtLive *live, FtTime now)
{
  if (!live->prices_published
      || live->prices_seq != ft_event_log_count (live->core->log, FT_EV_PRICE_CHANGED))
    ft_live_publish_prices (live, now);
}
