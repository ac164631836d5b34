/* ft-levers.c — the rider-lever policy shared by the simulator and the
 * live twin (proposals per zone, relocation offers) and the JSON form of
 * the lever state that the live twin keeps in its store. The arithmetic
 * of the proposals and offers is the simulator's, moved here unchanged so
 * that a run's KPIs do not move.
 */
#include "ft-levers.h"
#include "ft-json.h"

#include <math.h>
#include <string.h>

void
ft_lever_policy_init (FtLeverPolicy *p)
{
  g_return_if_fail (p != NULL);
  memset (p, 0, sizeof *p);
  p->policy = FT_DYN_POLICY_UTILISATION;
  p->objective = FT_DYN_OBJECTIVE_REVENUE;
  p->util_low = 0.5;
  p->util_high = 1.0;
  p->elasticity = -0.35;
  p->fare_minor = 300;
  p->cost_per_trip_minor = 150;
  p->service_floor = 0.98;
  p->surplus_ratio = 1.5;
  p->shortfall_ratio = 0.7;
}

gboolean
ft_lever_policy_check (const FtLeverPolicy *p, GError **error)
{
  g_return_val_if_fail (p != NULL, FALSE);
  const char *bad = NULL;
  double v = 0;
  if (!(p->util_low >= 0 && p->util_low <= 100))
    bad = "util_low", v = p->util_low;
  else if (!(p->util_high >= 0 && p->util_high <= 100))
    bad = "util_high", v = p->util_high;
  else if (!(p->elasticity <= 0 && p->elasticity >= -5))
    bad = "elasticity", v = p->elasticity;
  else if (!(p->fare_minor >= 0 && p->fare_minor <= 1e9))
    bad = "fare_minor", v = p->fare_minor;
  else if (!(p->cost_per_trip_minor >= 0 && p->cost_per_trip_minor <= 1e9))
    bad = "cost_per_trip_minor", v = p->cost_per_trip_minor;
  else if (!(p->service_floor >= 0 && p->service_floor <= 1))
    bad = "service_floor", v = p->service_floor;
  else if (!(p->surplus_ratio > 0 && p->surplus_ratio <= 100))
    bad = "surplus_ratio", v = p->surplus_ratio;
  else if (!(p->shortfall_ratio > 0 && p->shortfall_ratio <= 100))
    bad = "shortfall_ratio", v = p->shortfall_ratio;
  if (bad != NULL)
    {
      g_set_error (error, FT_PRICING_ERROR, FT_PRICING_ERROR_INVALID, "%s %g is out of range", bad, v);
      return FALSE;
    }
  if (p->util_low > p->util_high)
    {
      g_set_error (error, FT_PRICING_ERROR, FT_PRICING_ERROR_INVALID, "util_low %g is above util_high %g",
                   p->util_low, p->util_high);
      return FALSE;
    }
  if ((guint) p->policy > FT_DYN_POLICY_OPTIMISE || (guint) p->objective > FT_DYN_OBJECTIVE_MARGIN)
    {
      g_set_error (error, FT_PRICING_ERROR, FT_PRICING_ERROR_INVALID, "policy %d or objective %d is unknown",
                   (int) p->policy, (int) p->objective);
      return FALSE;
    }
  return TRUE;
}

double
ft_levers_next_hour (double this_hour, double next_hour, FtTime now)
{
  double frac = 1.0 - (double) (now % FT_HOUR) / FT_HOUR;
  return this_hour * frac + next_hour * (1.0 - frac);
}

void
ft_levers_propose (const FtLeverPolicy *p, const FtDynPricing *dp, const double *expected, const guint *avail,
                   double *proposed)
{
  g_return_if_fail (p != NULL && dp != NULL && expected != NULL && avail != NULL && proposed != NULL);
  const FtDynGuards *g = ft_dyn_pricing_guards (dp);
  guint nz = ft_dyn_pricing_n_zones (dp);
  for (guint z = 0; z < nz; z++)
    {
      double cur = ft_dyn_pricing_get (dp, z);
      double d = expected[z];
      if (p->policy == FT_DYN_POLICY_UTILISATION)
        proposed[z] = ft_dyn_propose_utilisation (cur, d, avail[z], p->util_low, p->util_high, g->step);
      else if (p->policy == FT_DYN_POLICY_OPTIMISE)
        {
          FtDynZoneInput in = { d, avail[z], p->elasticity, p->fare_minor, p->cost_per_trip_minor,
                                p->service_floor };
          proposed[z] = ft_dyn_optimise (&in, p->objective, g->floor, g->cap, g->step);
        }
      else
        proposed[z] = cur;
    }
}

void
ft_levers_offers (const FtLeverPolicy *p, guint n_zones, const double *want, const guint *avail,
                  gboolean *start, gboolean *end)
{
  g_return_if_fail (p != NULL && want != NULL && avail != NULL && start != NULL && end != NULL);
  double dsum = 0, total = 0;
  for (guint z = 0; z < n_zones; z++)
    {
      start[z] = end[z] = FALSE;
      dsum += want[z];
      total += avail[z];
    }
  if (dsum > 0)
    for (guint z = 0; z < n_zones; z++)
      {
        double target = want[z] / dsum * total;
        start[z] = avail[z] >= 2 && avail[z] > target * p->surplus_ratio;
        end[z] = target >= 1 && avail[z] < target * p->shortfall_ratio;
      }
}

/* ------------------------------------------------------------ state */

FtLeverState *
ft_lever_state_new (guint n_zones)
{
  FtLeverState *s = g_new0 (FtLeverState, 1);
  s->n_zones = n_zones;
  s->multiplier = g_new (double, MAX (n_zones, 1));
  for (guint z = 0; z < n_zones; z++)
    s->multiplier[z] = 1.0;
  s->protected_ = g_new0 (gboolean, MAX (n_zones, 1));
  s->start = g_new0 (gboolean, MAX (n_zones, 1));
  s->end = g_new0 (gboolean, MAX (n_zones, 1));
  s->next_price = s->next_offers = -1;
  return s;
}

void
ft_lever_state_free (FtLeverState *s)
{
  if (s == NULL)
    return;
  g_free (s->multiplier);
  g_free (s->protected_);
  g_free (s->start);
  g_free (s->end);
  g_free (s);
}

FtLeverState *
ft_lever_state_capture (const FtDynPricing *dp, const FtIncentives *inc, FtTime next_price, FtTime next_offers)
{
  guint nz = dp ? ft_dyn_pricing_n_zones (dp) : inc ? ft_incentives_n_zones (inc) : 0;
  FtLeverState *s = ft_lever_state_new (nz);
  for (guint z = 0; dp && z < nz; z++)
    {
      s->multiplier[z] = ft_dyn_pricing_get (dp, z);
      s->protected_[z] = ft_dyn_pricing_is_protected (dp, z);
    }
  s->emergency = dp != NULL && ft_dyn_pricing_emergency (dp);
  s->has_offers = inc != NULL;
  for (guint z = 0; inc && z < nz && z < ft_incentives_n_zones (inc); z++)
    {
      s->start[z] = ft_incentives_start_offered (inc, (gint) z);
      s->end[z] = ft_incentives_end_offered (inc, (gint) z);
    }
  s->next_price = next_price;
  s->next_offers = next_offers;
  return s;
}

#define LEVER_STATE_VERSION 1

char *
ft_lever_state_to_json (const FtLeverState *s)
{
  g_return_val_if_fail (s != NULL, NULL);
  GString *o = g_string_new (NULL);
  g_string_append_printf (o, "{\"version\":%d,\"emergency\":%s,\"next_price\":%" G_GINT64_FORMAT
                          ",\"next_offers\":%" G_GINT64_FORMAT ",\"zones\":[",
                          LEVER_STATE_VERSION, s->emergency ? "true" : "false", s->next_price, s->next_offers);
  for (guint z = 0; z < s->n_zones; z++)
    {
      char num[G_ASCII_DTOSTR_BUF_SIZE];
      g_ascii_formatd (num, sizeof num, "%.17g", s->multiplier[z]);
      g_string_append_printf (o, "%s{\"multiplier\":%s,\"protected\":%s}", z ? "," : "", num,
                              s->protected_[z] ? "true" : "false");
    }
  g_string_append (o, "]");
  if (s->has_offers)
    {
      g_string_append (o, ",\"offers\":{\"start\":[");
      gboolean first = TRUE;
      for (guint z = 0; z < s->n_zones; z++)
        if (s->start[z])
          g_string_append_printf (o, "%s%u", first ? "" : ",", z), first = FALSE;
      g_string_append (o, "],\"end\":[");
      first = TRUE;
      for (guint z = 0; z < s->n_zones; z++)
        if (s->end[z])
          g_string_append_printf (o, "%s%u", first ? "" : ",", z), first = FALSE;
      g_string_append (o, "]}");
    }
  g_string_append (o, "}");
  return g_string_free (o, FALSE);
}

static gboolean
read_zone_list (JsonArray *a, guint nz, gboolean *out, const char *what, const char *member, GError **error)
{
  for (guint i = 0; a && i < json_array_get_length (a); i++)
    {
      double v = 0;
      if (!ft_json_array_double (a, i, &v) || v != floor (v) || v < 0 || v >= nz)
        {
          g_set_error (error, FT_PRICING_ERROR, FT_PRICING_ERROR_PARSE,
                       "%s: offers.%s[%u] is not a zone (there are %u)", what, member, i, nz);
          return FALSE;
        }
      out[(guint) v] = TRUE;
    }
  return TRUE;
}

FtLeverState *
ft_lever_state_from_json (const char *text, gssize len, const char *what, GError **error)
{
  g_return_val_if_fail (text != NULL && what != NULL, NULL);
  g_autoptr (JsonNode) root = ft_json_parse (text, len, what, 8, 16 * 1024 * 1024, error);
  if (root == NULL)
    return NULL;
  JsonObject *o = ft_json_object_of (root);
  gint64 version = 0;
  if (o == NULL || !ft_json_get_int (o, "version", &version) || version != LEVER_STATE_VERSION)
    {
      g_set_error (error, FT_PRICING_ERROR, FT_PRICING_ERROR_PARSE,
                   "%s: not a lever state of version %d (an object with \"version\")", what,
                   LEVER_STATE_VERSION);
      return NULL;
    }
  JsonArray *zones = ft_json_get_array (o, "zones");
  if (zones == NULL || json_array_get_length (zones) > 1000000)
    {
      g_set_error (error, FT_PRICING_ERROR, FT_PRICING_ERROR_PARSE, "%s: \"zones\" is missing or too long",
                   what);
      return NULL;
    }
  guint nz = json_array_get_length (zones);
  g_autoptr (FtLeverState) s = ft_lever_state_new (nz);
  for (guint z = 0; z < nz; z++)
    {
      JsonObject *zo = ft_json_array_object (zones, z);
      double m = 0;
      if (zo == NULL || !ft_json_get_double (zo, "multiplier", &m) || !(m > 0 && m <= 10))
        {
          g_set_error (error, FT_PRICING_ERROR, FT_PRICING_ERROR_PARSE,
                       "%s: zones[%u].multiplier is missing or outside (0, 10]", what, z);
          return NULL;
        }
      s->multiplier[z] = m;
      ft_json_get_bool (zo, "protected", &s->protected_[z]);
    }
  ft_json_get_bool (o, "emergency", &s->emergency);
  gint64 t = -1;
  if (ft_json_get_int (o, "next_price", &t))
    s->next_price = t;
  t = -1;
  if (ft_json_get_int (o, "next_offers", &t))
    s->next_offers = t;
  JsonObject *offers = ft_json_get_object (o, "offers");
  if (offers != NULL)
    {
      s->has_offers = TRUE;
      if (!read_zone_list (ft_json_get_array (offers, "start"), nz, s->start, what, "start", error) ||
          !read_zone_list (ft_json_get_array (offers, "end"), nz, s->end, what, "end", error))
        return NULL;
    }
  return g_steal_pointer (&s);
}
