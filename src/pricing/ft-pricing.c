/* ft-pricing.c — trip prices from plans shaped like GBFS 3.0
 * system_pricing_plans: unlock fee plus per-minute and per-km rate segments
 * (a segment's rate is charged at `start` and again every `interval` units
 * the trip reaches, up to but not including `end`; interval 0 charges once),
 * times a zone multiplier and a clamped dynamic multiplier, rounded half up
 * to minor units. Reads GBFS 3.0 and 2.3 files and writes the 3.0 `data`.
 */
#include "ft-pricing.h"

#include <json-glib/json-glib.h>
#include "ft-json.h"
#include "ft-file.h"
#include <string.h>

G_DEFINE_QUARK (ft-pricing-error-quark, ft_pricing_error)

typedef struct {
  char           *zone_id;
  FtMultiPolygon *area;
  double          multiplier;
} ZoneMult;

struct _FtPricing {
  GPtrArray         *plans;   /* FtPricingPlan*, owned */
  GArray            *zones;   /* ZoneMult */
  FtDynamicPriceFunc dyn;
  gpointer           dyn_data;
  double             dyn_floor, dyn_cap;
  gboolean           sealed;  /* owned by a core: changes go through ft_core_* (role-checked) */
  /* which zone holds a point, per cell: built at the first lookup after
   * the zones change (under the lock), dropped when a zone is added */
  FtAreaRaster      *raster;
  GMutex             raster_lock;
};

#define REFUSE_IF_SEALED(p, error, ...) \
  G_STMT_START { \
    if ((p)->sealed) \
      { \
        g_set_error (error, FT_PRICING_ERROR, FT_PRICING_ERROR_PERMISSION, \
                     "prices in use by a running core change only through a planner's " \
                     "role-checked request (ft_core_set_zone_multiplier and friends)"); \
        return __VA_ARGS__; \
      } \
  } G_STMT_END

/* ---------------------------------------------------------------- */
/* money helpers                                                    */

gint64
ft_pricing_round_minor (double x)
{
  if (!isfinite (x))
    return 0;
  /* Half up (towards +inf), tolerant of binary noise such as 12.4999999. */
  double eps = 1e-9 * MAX (1.0, fabs (x));
  double r = floor (x + 0.5 + eps);
  /* saturate: a double cast outside gint64's range is undefined */
  if (r >= 9223372036854775807.0)
    return G_MAXINT64;
  if (r <= -9223372036854775808.0)
    return G_MININT64;
  return (gint64) r;
}

int
ft_currency_exponent (const char *currency)
{
  static const char *const zero[] = {
    "BIF", "CLP", "DJF", "GNF", "ISK", "JPY", "KMF", "KRW", "PYG", "RWF", "UGX",
    "UYI", "VND", "VUV", "XAF", "XOF", "XPF", NULL,
  };
  static const char *const three[] = {
    "BHD", "IQD", "JOD", "KWD", "LYD", "OMR", "TND", NULL,
  };
  if (currency == NULL)
    return 2;
  for (guint i = 0; zero[i] != NULL; i++)
    if (strcmp (currency, zero[i]) == 0)
      return 0;
  for (guint i = 0; three[i] != NULL; i++)
    if (strcmp (currency, three[i]) == 0)
      return 3;
  return 2;
}

static double
minor_per_major (const char *currency)
{
  switch (ft_currency_exponent (currency))
    {
    case 0: return 1.0;
    case 3: return 1000.0;
    default: return 100.0;
    }
}

static gboolean
currency_valid (const char *c)
{
  if (c == NULL || strlen (c) != 3)
    return FALSE;
  for (int i = 0; i < 3; i++)
    if (!g_ascii_isupper (c[i]))
      return FALSE;
  return TRUE;
}

/* ---------------------------------------------------------------- */
/* rate segments                                                    */

double
ft_rate_segments_cost (const FtRateSegment *segs, guint n, double units)
{
  g_return_val_if_fail (n == 0 || segs != NULL, 0.0);
  if (!(units > 0.0))
    return 0.0;
  double cost = 0.0;
  for (guint i = 0; i < n; i++)
    {
      const FtRateSegment *s = &segs[i];
      double lim = units;
      if (s->end > 0.0 && s->end < lim)
        lim = s->end;
      /* A charge falls at start + k*interval; it counts once the trip has
       * gone past it (a 10-minute trip does not pay for minute 10). */
      if (lim <= s->start)
        continue;
      double count;
      if (s->interval <= 0.0)
        count = 1.0;
      else
        {
          double q = (lim - s->start) / s->interval;
          count = ceil (q - 1e-9 * MAX (1.0, q));
          if (count < 1.0)
            count = 1.0;
        }
      cost += count * s->rate_minor;
    }
  return cost;
}

/* ---------------------------------------------------------------- */
/* plans                                                            */

static FtRateSegment *
segs_dup (const FtRateSegment *s, guint n)
{
  return n > 0 ? g_memdup2 (s, sizeof *s * n) : NULL;
}

static FtPricingPlan *
plan_copy (const FtPricingPlan *src)
{
  FtPricingPlan *p = g_new0 (FtPricingPlan, 1);
  *p = *src;
  p->plan_id = g_strdup (src->plan_id);
  p->name = g_strdup (src->name != NULL ? src->name : src->plan_id);
  p->per_min = segs_dup (src->per_min, src->n_per_min);
  p->per_km = segs_dup (src->per_km, src->n_per_km);
  return p;
}

void
ft_pricing_plan_free (FtPricingPlan *plan)
{
  if (plan == NULL)
    return;
  g_free (plan->plan_id);
  g_free (plan->name);
  g_free (plan->per_min);
  g_free (plan->per_km);
  g_free (plan);
}

FtPricingPlan *
ft_pricing_plan_new_simple (const char *plan_id, const char *currency,
                            gint64 unlock_minor, double per_min_minor, double per_km_minor)
{
  g_return_val_if_fail (plan_id != NULL && currency != NULL, NULL);
  FtPricingPlan *p = g_new0 (FtPricingPlan, 1);
  p->plan_id = g_strdup (plan_id);
  p->name = g_strdup (plan_id);
  g_strlcpy (p->currency, currency, sizeof p->currency);
  p->unlock_fee_minor = unlock_minor;
  if (per_min_minor != 0.0)
    {
      p->per_min = g_new0 (FtRateSegment, 1);
      p->per_min[0] = (FtRateSegment) { 0.0, per_min_minor, 1.0, 0.0 };
      p->n_per_min = 1;
    }
  if (per_km_minor != 0.0)
    {
      p->per_km = g_new0 (FtRateSegment, 1);
      p->per_km[0] = (FtRateSegment) { 0.0, per_km_minor, 1.0, 0.0 };
      p->n_per_km = 1;
    }
  return p;
}

/* A segment's start, interval and end (minutes or km) beyond this are
 * refused: a billion is absurd already, and json-glib 1.6 writes an integral
 * double of 1e17 or more as "2e+41.0", which is not JSON, so a larger value
 * would be saved in a file that does not load again. */
#define MAX_SEGMENT_UNITS 1e9

static gboolean
segments_valid (const FtRateSegment *s, guint n, const char *plan_id, const char *field,
                GError **error)
{
  for (guint i = 0; i < n; i++)
    {
      const char *bad = NULL;
      if (!isfinite (s[i].start) || s[i].start < 0 || s[i].start > MAX_SEGMENT_UNITS)
        bad = "start must be a number in [0, 1e9]";
      else if (!isfinite (s[i].rate_minor))
        bad = "rate must be a finite number";
      else if (!isfinite (s[i].interval) || s[i].interval < 0 || s[i].interval > MAX_SEGMENT_UNITS)
        bad = "interval must be a number in [0, 1e9]";
      else if (!isfinite (s[i].end) || s[i].end < 0 || s[i].end > MAX_SEGMENT_UNITS)
        bad = "end must be a number in [0, 1e9] (0: none)";
      else if (s[i].end > 0 && s[i].end <= s[i].start)
        bad = "end must be after start (or absent)";
      if (bad != NULL)
        {
          g_set_error (error, FT_PRICING_ERROR, FT_PRICING_ERROR_INVALID,
                       "plan \"%s\": %s[%u]: %s", plan_id, field, i, bad);
          return FALSE;
        }
    }
  return TRUE;
}

static gboolean
plan_valid (const FtPricing *p, const FtPricingPlan *plan, GError **error)
{
  if (plan->plan_id == NULL || plan->plan_id[0] == '\0')
    {
      g_set_error (error, FT_PRICING_ERROR, FT_PRICING_ERROR_INVALID,
                   "pricing plan has no plan_id");
      return FALSE;
    }
  if (!currency_valid (plan->currency))
    {
      g_set_error (error, FT_PRICING_ERROR, FT_PRICING_ERROR_INVALID,
                   "plan \"%s\": currency \"%.4s\" is not a three-letter ISO 4217 code",
                   plan->plan_id, plan->currency);
      return FALSE;
    }
  if (plan->unlock_fee_minor < 0 || plan->reservation_fee_per_min_minor < 0)
    {
      g_set_error (error, FT_PRICING_ERROR, FT_PRICING_ERROR_INVALID,
                   "plan \"%s\": unlock and reservation fees must not be negative",
                   plan->plan_id);
      return FALSE;
    }
  if ((plan->n_per_min > 0 && plan->per_min == NULL) || (plan->n_per_km > 0 && plan->per_km == NULL))
    {
      g_set_error (error, FT_PRICING_ERROR, FT_PRICING_ERROR_INVALID,
                   "plan \"%s\": segment count without segments", plan->plan_id);
      return FALSE;
    }
  if (!segments_valid (plan->per_min, plan->n_per_min, plan->plan_id, "per_min_pricing", error) ||
      !segments_valid (plan->per_km, plan->n_per_km, plan->plan_id, "per_km_pricing", error))
    return FALSE;
  if (p != NULL && ft_pricing_lookup (p, plan->plan_id) != NULL)
    {
      g_set_error (error, FT_PRICING_ERROR, FT_PRICING_ERROR_INVALID,
                   "plan \"%s\" is already defined; plan ids must be unique", plan->plan_id);
      return FALSE;
    }
  return TRUE;
}

/* ---------------------------------------------------------------- */
/* FtPricing                                                        */

static void
zone_clear (gpointer data)
{
  ZoneMult *z = data;
  g_free (z->zone_id);
  ft_multipolygon_free (z->area);
}

FtPricing *
ft_pricing_new (void)
{
  FtPricing *p = g_new0 (FtPricing, 1);
  p->plans = g_ptr_array_new_with_free_func ((GDestroyNotify) ft_pricing_plan_free);
  p->zones = g_array_new (FALSE, FALSE, sizeof (ZoneMult));
  g_mutex_init (&p->raster_lock);
  g_array_set_clear_func (p->zones, zone_clear);
  p->dyn_floor = 1.0;
  p->dyn_cap = 1.0;
  return p;
}

void
ft_pricing_free (FtPricing *p)
{
  if (p == NULL)
    return;
  g_ptr_array_unref (p->plans);
  g_array_unref (p->zones);
  ft_area_raster_free (p->raster);
  g_mutex_clear (&p->raster_lock);
  g_free (p);
}

gboolean
ft_pricing_add_plan (FtPricing *p, const FtPricingPlan *plan, GError **error)
{
  g_return_val_if_fail (p != NULL && plan != NULL, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);
  REFUSE_IF_SEALED (p, error, FALSE);
  if (!plan_valid (p, plan, error))
    return FALSE;
  g_ptr_array_add (p->plans, plan_copy (plan));
  return TRUE;
}

gboolean
ft_pricing_put_plan (FtPricing *p, const FtPricingPlan *plan, GError **error)
{
  g_return_val_if_fail (p != NULL && plan != NULL && plan->plan_id != NULL, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);
  REFUSE_IF_SEALED (p, error, FALSE);
  for (guint i = 0; i < p->plans->len; i++)
    {
      FtPricingPlan *old = g_ptr_array_index (p->plans, i);
      if (g_strcmp0 (old->plan_id, plan->plan_id) != 0)
        continue;
      /* validate against the other plans, then swap in place */
      g_ptr_array_steal_index (p->plans, i);
      gboolean ok = plan_valid (p, plan, error);
      g_ptr_array_insert (p->plans, (gint) i, ok ? plan_copy (plan) : old);
      if (ok)
        ft_pricing_plan_free (old);
      return ok;
    }
  return ft_pricing_add_plan (p, plan, error);
}

gboolean
ft_pricing_set_zone_multiplier (FtPricing *p, const char *zone_id, double multiplier, GError **error)
{
  g_return_val_if_fail (p != NULL && zone_id != NULL, FALSE);
  REFUSE_IF_SEALED (p, error, FALSE);
  if (!isfinite (multiplier) || multiplier < 0.1 || multiplier > 10.0)
    {
      g_set_error (error, FT_PRICING_ERROR, FT_PRICING_ERROR_INVALID,
                   "zone %s: multiplier %g is outside 0.1-10", zone_id, multiplier);
      return FALSE;
    }
  for (guint i = 0; i < p->zones->len; i++)
    {
      ZoneMult *z = &g_array_index (p->zones, ZoneMult, i);
      if (g_strcmp0 (z->zone_id, zone_id) == 0)
        {
          z->multiplier = multiplier;
          return TRUE;
        }
    }
  g_set_error (error, FT_PRICING_ERROR, FT_PRICING_ERROR_INVALID, "no priced zone \"%s\"", zone_id);
  return FALSE;
}

gboolean
ft_pricing_set_dynamic_checked (FtPricing *p, FtDynamicPriceFunc fn, gpointer user_data,
                                double floor_, double cap, GError **error)
{
  g_return_val_if_fail (p != NULL, FALSE);
  REFUSE_IF_SEALED (p, error, FALSE);
  if (!(isfinite (floor_) && isfinite (cap) && floor_ >= 0.0 && floor_ <= cap))
    {
      g_set_error (error, FT_PRICING_ERROR, FT_PRICING_ERROR_INVALID,
                   "dynamic price bounds %g-%g: need 0 <= floor <= cap", floor_, cap);
      return FALSE;
    }
  p->dyn = fn;
  p->dyn_data = user_data;
  p->dyn_floor = floor_;
  p->dyn_cap = cap;
  return TRUE;
}

void
ft_pricing_set_sealed (FtPricing *p, gboolean sealed)
{
  g_return_if_fail (p != NULL);
  p->sealed = sealed;
}

gboolean
ft_pricing_is_sealed (const FtPricing *p)
{
  g_return_val_if_fail (p != NULL, FALSE);
  return p->sealed;
}

guint
ft_pricing_n_plans (const FtPricing *p)
{
  g_return_val_if_fail (p != NULL, 0);
  return p->plans->len;
}

const FtPricingPlan *
ft_pricing_get_plan (const FtPricing *p, guint i)
{
  g_return_val_if_fail (p != NULL, NULL);
  g_return_val_if_fail (i < p->plans->len, NULL);
  return g_ptr_array_index (p->plans, i);
}

const FtPricingPlan *
ft_pricing_plan_for (const FtPricing *p, guint vehicle_kind)
{
  g_return_val_if_fail (p != NULL, NULL);
  if (p->plans->len == 0)
    return NULL;
  guint32 bit = vehicle_kind < 32 ? (1u << vehicle_kind) : 0;
  for (guint i = 0; i < p->plans->len; i++)
    {
      const FtPricingPlan *plan = g_ptr_array_index (p->plans, i);
      if (plan->vehicle_kind_mask != 0 && (plan->vehicle_kind_mask & bit) != 0)
        return plan;
    }
  return g_ptr_array_index (p->plans, 0);
}

const FtPricingPlan *
ft_pricing_lookup (const FtPricing *p, const char *plan_id)
{
  g_return_val_if_fail (p != NULL && plan_id != NULL, NULL);
  for (guint i = 0; i < p->plans->len; i++)
    {
      const FtPricingPlan *plan = g_ptr_array_index (p->plans, i);
      if (g_strcmp0 (plan->plan_id, plan_id) == 0)
        return plan;
    }
  return NULL;
}

void
ft_pricing_add_zone_multiplier (FtPricing *p, const char *zone_id,
                                const FtMultiPolygon *area, double multiplier)
{
  g_return_if_fail (p != NULL && area != NULL);
  g_return_if_fail (!p->sealed);
  g_return_if_fail (isfinite (multiplier) && multiplier >= 0.0);
  ZoneMult z = { g_strdup (zone_id), ft_multipolygon_copy (area), multiplier };
  g_array_append_val (p->zones, z);
  g_clear_pointer (&p->raster, ft_area_raster_free);
}

void
ft_pricing_set_dynamic (FtPricing *p, FtDynamicPriceFunc fn, gpointer user_data,
                        double floor_, double cap)
{
  g_return_if_fail (p != NULL);
  g_return_if_fail (!p->sealed);
  g_return_if_fail (isfinite (floor_) && isfinite (cap) && floor_ >= 0.0 && floor_ <= cap);
  p->dyn = fn;
  p->dyn_data = user_data;
  p->dyn_floor = floor_;
  p->dyn_cap = cap;
}

static G_GNUC_NO_INLINE const FtAreaRaster *
zone_raster_make (FtPricing *p)
{
  g_mutex_lock (&p->raster_lock);
  FtAreaRaster *ra = p->raster;
  if (ra == NULL)
    {
      g_autofree const FtMultiPolygon **areas = g_new (const FtMultiPolygon *, MAX (p->zones->len, 1u));
      for (guint i = 0; i < p->zones->len; i++)
        areas[i] = g_array_index (p->zones, ZoneMult, i).area;
      ra = ft_area_raster_new (areas, p->zones->len);
      g_atomic_pointer_set (&p->raster, ra);
    }
  g_mutex_unlock (&p->raster_lock);
  return ra;
}

/* The multiplier of the first zone whose area holds `at` (1.0 if none):
 * the raster answers for a cell wholly in one zone or in none, and names
 * the zone to start testing from where a boundary crosses the cell. */
double
ft_pricing_zone_multiplier (const FtPricing *p, FtLatLon at)
{
  g_return_val_if_fail (p != NULL, 1.0);
  if (p->zones->len == 0)
    return 1.0;
  FtPricing *mp = (FtPricing *) p;   /* only the raster cache is written */
  const FtAreaRaster *ra = g_atomic_pointer_get (&mp->raster);
  if (ra == NULL)
    ra = zone_raster_make (mp);
  guint first;
  int z = ft_area_raster_at (ra, at, &first);
  if (z >= 0)
    return g_array_index (p->zones, ZoneMult, z).multiplier;
  if (z == FT_AREA_RASTER_NONE)
    return 1.0;
  return ft_pricing_zone_multiplier_exact (p, at, first);
}

/* The plain loop from zone `first` on (tests compare with the raster). */
double
ft_pricing_zone_multiplier_exact (const FtPricing *p, FtLatLon at, guint first)
{
  g_return_val_if_fail (p != NULL, 1.0);
  for (guint i = first; i < p->zones->len; i++)
    {
      const ZoneMult *z = &g_array_index (p->zones, ZoneMult, i);
      if (ft_multipolygon_contains (z->area, at))
        return z->multiplier;
    }
  return 1.0;
}

double
ft_pricing_dynamic_multiplier (const FtPricing *p, FtLatLon at, FtTime t, guint vehicle_kind)
{
  g_return_val_if_fail (p != NULL, 1.0);
  if (p->dyn == NULL)
    return 1.0;
  double m = p->dyn (at, t, vehicle_kind, p->dyn_data);
  if (isnan (m))
    m = 1.0;
  return CLAMP (m, p->dyn_floor, p->dyn_cap);
}

void
ft_pricing_quote_plan (const FtPricing *p, const FtPricingPlan *plan,
                       const FtTripQuote *q, FtPriceBreakdown *out)
{
  g_return_if_fail (p != NULL && plan != NULL && q != NULL && out != NULL);

  double minutes = isfinite (q->minutes) && q->minutes > 0 ? q->minutes : 0.0;
  double km = isfinite (q->km) && q->km > 0 ? q->km : 0.0;

  memset (out, 0, sizeof *out);
  memcpy (out->currency, plan->currency, sizeof out->currency);
  out->unlock = plan->unlock_fee_minor;
  out->time = ft_pricing_round_minor (ft_rate_segments_cost (plan->per_min, plan->n_per_min,
                                                             minutes));
  out->distance = ft_pricing_round_minor (ft_rate_segments_cost (plan->per_km, plan->n_per_km,
                                                                 km));
  out->zone_multiplier = q->fixed_zone_multiplier > 0 ? q->fixed_zone_multiplier
                         : ft_pricing_zone_multiplier (p, q->start);
  out->dynamic_multiplier = q->fixed_dynamic_multiplier > 0 ? q->fixed_dynamic_multiplier
                            : ft_pricing_dynamic_multiplier (p, q->start, q->at, q->vehicle_kind);
  /* summed as doubles: a part that saturated (a plan charging every 1e-25
   * minutes) must not overflow the sum; exact below 2^53 minor units */
  double base = (double) out->unlock + (double) out->time + (double) out->distance;
  gint64 total = ft_pricing_round_minor (base * out->zone_multiplier * out->dynamic_multiplier);
  /* Negative GBFS rates are discounts; a trip never pays the rider. */
  out->total = MAX (total, 0);
}

gboolean
ft_pricing_quote (const FtPricing *p, const FtTripQuote *q, FtPriceBreakdown *out,
                  GError **error)
{
  g_return_val_if_fail (p != NULL && q != NULL && out != NULL, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  if (!isfinite (q->minutes) || q->minutes < 0 || !isfinite (q->km) || q->km < 0)
    {
      g_set_error (error, FT_PRICING_ERROR, FT_PRICING_ERROR_INVALID,
                   "cannot price a trip of %g minutes and %g km; both must be >= 0",
                   q->minutes, q->km);
      return FALSE;
    }
  const FtPricingPlan *plan = ft_pricing_plan_for (p, q->vehicle_kind);
  if (plan == NULL)
    {
      g_set_error (error, FT_PRICING_ERROR, FT_PRICING_ERROR_NO_PLAN,
                   "no pricing plan is loaded; add one or load system_pricing_plans.json");
      return FALSE;
    }
  ft_pricing_quote_plan (p, plan, q, out);
  return TRUE;
}

/* ---------------------------------------------------------------- */
/* GBFS in                                                          */

typedef struct {
  const char *where;
  guint       plan;
} ParseCtx;

G_GNUC_PRINTF (3, 4) static void
parse_error (GError **error, const ParseCtx *c, const char *fmt, ...)
{
  va_list ap;
  va_start (ap, fmt);
  g_autofree char *msg = g_strdup_vprintf (fmt, ap);
  va_end (ap);
  g_set_error (error, FT_PRICING_ERROR, FT_PRICING_ERROR_PARSE, "%s: data.plans[%u]: %s",
               c->where, c->plan, msg);
}

static gboolean
node_is_number (JsonNode *n)
{
  if (n == NULL || !JSON_NODE_HOLDS_VALUE (n))
    return FALSE;
  GType t = json_node_get_value_type (n);
  return t == G_TYPE_INT64 || t == G_TYPE_DOUBLE;
}

/* GBFS 3.0 localized string array, or a 2.x plain string. Returns a new
 * string (English preferred), or NULL with an error. */
static char *
get_text (JsonObject *o, const char *field, gboolean required, const ParseCtx *c,
          GError **error)
{
  JsonNode *n = json_object_get_member (o, field);
  if (n == NULL || JSON_NODE_HOLDS_NULL (n))
    {
      if (required)
        parse_error (error, c, "required field \"%s\" is missing", field);
      return NULL;
    }
  if (JSON_NODE_HOLDS_VALUE (n) && json_node_get_value_type (n) == G_TYPE_STRING)
    return g_strdup (json_node_get_string (n));
  if (JSON_NODE_HOLDS_ARRAY (n))
    {
      JsonArray *a = json_node_get_array (n);
      const char *first = NULL, *en = NULL;
      for (guint i = 0; i < json_array_get_length (a); i++)
        {
          JsonNode *e = json_array_get_element (a, i);
          JsonObject *eo = JSON_NODE_HOLDS_OBJECT (e) ? json_node_get_object (e) : NULL;
          JsonNode *t = eo != NULL ? json_object_get_member (eo, "text") : NULL;
          if (t == NULL || !JSON_NODE_HOLDS_VALUE (t) ||
              json_node_get_value_type (t) != G_TYPE_STRING)
            {
              parse_error (error, c, "\"%s\"[%u] must be an object with a string \"text\"",
                           field, i);
              return NULL;
            }
          JsonNode *ln = json_object_get_member (eo, "language");
          if (ln != NULL && !JSON_NODE_HOLDS_NULL (ln) &&
              (!JSON_NODE_HOLDS_VALUE (ln) || json_node_get_value_type (ln) != G_TYPE_STRING))
            {
              parse_error (error, c, "\"%s\"[%u].language must be a string", field, i);
              return NULL;
            }
          const char *lang = ln != NULL ? json_node_get_string (ln) : NULL;
          if (lang == NULL)
            lang = "";
          if (first == NULL)
            first = json_node_get_string (t);
          if (en == NULL && g_str_has_prefix (lang, "en"))
            en = json_node_get_string (t);
        }
      if (first == NULL)
        {
          if (required)
            parse_error (error, c, "\"%s\" is an empty array; it needs at least one text", field);
          return NULL;
        }
      return g_strdup (en != NULL ? en : first);
    }
  parse_error (error, c, "\"%s\" must be a string or an array of localized strings", field);
  return NULL;
}

/* Money amounts (major units) beyond this are refused: a billion per unit
 * is absurd already, and their minor units stay well inside gint64. */
#define MAX_AMOUNT 1e9

static gboolean
get_number_in (JsonObject *o, const char *field, gboolean required, double min, double max,
               double *out, const char *ctx_field, const ParseCtx *c, GError **error)
{
  JsonNode *n = json_object_get_member (o, field);
  if (n == NULL)
    {
      if (required)
        {
          parse_error (error, c, "required field \"%s%s\" is missing", ctx_field, field);
          return FALSE;
        }
      return TRUE;
    }
  if (!node_is_number (n))
    {
      parse_error (error, c, "\"%s%s\" must be a number", ctx_field, field);
      return FALSE;
    }
  double v = json_node_get_double (n);
  if (!isfinite (v) || v < min)
    {
      parse_error (error, c, "\"%s%s\" is %g but must be >= %g", ctx_field, field, v, min);
      return FALSE;
    }
  if (v > max)
    {
      parse_error (error, c, "\"%s%s\" is %g but must be at most %g", ctx_field, field, v, max);
      return FALSE;
    }
  *out = v;
  return TRUE;
}

static gboolean
parse_segments (JsonObject *o, const char *field, double minor, FtRateSegment **out,
                guint *n_out, const ParseCtx *c, GError **error)
{
  *out = NULL;
  *n_out = 0;
  JsonNode *n = json_object_get_member (o, field);
  if (n == NULL || JSON_NODE_HOLDS_NULL (n))
    return TRUE;
  if (!JSON_NODE_HOLDS_ARRAY (n))
    {
      parse_error (error, c, "\"%s\" must be an array of segments", field);
      return FALSE;
    }
  JsonArray *a = json_node_get_array (n);
  guint len = json_array_get_length (a);
  g_autofree FtRateSegment *segs = g_new0 (FtRateSegment, MAX (len, 1));
  for (guint i = 0; i < len; i++)
    {
      JsonNode *e = json_array_get_element (a, i);
      g_autofree char *ctx = g_strdup_printf ("%s[%u].", field, i);
      if (!JSON_NODE_HOLDS_OBJECT (e))
        {
          parse_error (error, c, "\"%s[%u]\" must be an object", field, i);
          return FALSE;
        }
      JsonObject *so = json_node_get_object (e);
      double start = 0, rate = 0, interval = 0, end = 0;
      if (!get_number_in (so, "start", TRUE, 0.0, MAX_SEGMENT_UNITS, &start, ctx, c, error) ||
          !get_number_in (so, "rate", TRUE, -MAX_AMOUNT, MAX_AMOUNT, &rate, ctx, c, error) ||
          !get_number_in (so, "interval", TRUE, 0.0, MAX_SEGMENT_UNITS, &interval, ctx, c, error) ||
          !get_number_in (so, "end", FALSE, 0.0, MAX_SEGMENT_UNITS, &end, ctx, c, error))
        return FALSE;
      if (json_object_has_member (so, "end") && end <= start)
        {
          parse_error (error, c, "\"%send\" (%g) must be greater than start (%g)", ctx, end, start);
          return FALSE;
        }
      segs[i] = (FtRateSegment) { start, rate * minor, interval, end };
    }
  if (len > 0)
    {
      *out = g_steal_pointer (&segs);
      *n_out = len;
    }
  return TRUE;
}

static FtPricingPlan *
parse_plan (JsonNode *node, const ParseCtx *c, GError **error)
{
  if (!JSON_NODE_HOLDS_OBJECT (node))
    {
      parse_error (error, c, "a plan must be an object");
      return NULL;
    }
  JsonObject *o = json_node_get_object (node);
  g_autoptr(FtPricingPlan) plan = g_new0 (FtPricingPlan, 1);

  JsonNode *id = json_object_get_member (o, "plan_id");
  if (id == NULL || !JSON_NODE_HOLDS_VALUE (id) || json_node_get_value_type (id) != G_TYPE_STRING ||
      json_node_get_string (id)[0] == '\0')
    {
      parse_error (error, c, "\"plan_id\" is missing or not a non-empty string");
      return NULL;
    }
  plan->plan_id = g_strdup (json_node_get_string (id));

  plan->name = get_text (o, "name", TRUE, c, error);
  if (plan->name == NULL)
    return NULL;

  JsonNode *cur = json_object_get_member (o, "currency");
  if (cur == NULL || !JSON_NODE_HOLDS_VALUE (cur) ||
      json_node_get_value_type (cur) != G_TYPE_STRING || !currency_valid (json_node_get_string (cur)))
    {
      parse_error (error, c, "\"currency\" must be a three-letter ISO 4217 code such as \"EUR\"");
      return NULL;
    }
  g_strlcpy (plan->currency, json_node_get_string (cur), sizeof plan->currency);
  double minor = minor_per_major (plan->currency);

  double price = 0;
  if (!get_number_in (o, "price", TRUE, 0.0, MAX_AMOUNT, &price, "", c, error))
    return NULL;
  plan->unlock_fee_minor = ft_pricing_round_minor (price * minor);

  JsonNode *tax = json_object_get_member (o, "is_taxable");
  if (tax == NULL || !JSON_NODE_HOLDS_VALUE (tax) ||
      json_node_get_value_type (tax) != G_TYPE_BOOLEAN)
    {
      parse_error (error, c, "\"is_taxable\" is missing or not a boolean");
      return NULL;
    }
  plan->is_taxable = json_node_get_boolean (tax);

  double res = 0;
  if (!get_number_in (o, "reservation_price_per_min", FALSE, 0.0, MAX_AMOUNT, &res, "", c, error))
    return NULL;
  plan->reservation_fee_per_min_minor = ft_pricing_round_minor (res * minor);

  if (!parse_segments (o, "per_min_pricing", minor, &plan->per_min, &plan->n_per_min, c, error) ||
      !parse_segments (o, "per_km_pricing", minor, &plan->per_km, &plan->n_per_km, c, error))
    return NULL;
  return g_steal_pointer (&plan);
}

gboolean
ft_pricing_parse_gbfs (FtPricing *p, const char *json, gssize len, const char *where,
                       GError **error)
{
  g_return_val_if_fail (p != NULL && json != NULL, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);
  if (where == NULL)
    where = "system_pricing_plans";

  g_autoptr(GError) jerr = NULL;
  g_autoptr(JsonNode) root = ft_json_parse (json, len, where, 0, 0, &jerr);
  if (root == NULL)
    {
      g_set_error (error, FT_PRICING_ERROR, FT_PRICING_ERROR_PARSE, "%s", jerr->message);
      return FALSE;
    }
  if (!JSON_NODE_HOLDS_OBJECT (root))
    {
      g_set_error (error, FT_PRICING_ERROR, FT_PRICING_ERROR_PARSE,
                   "%s: the top level must be an object with \"data\"", where);
      return FALSE;
    }
  JsonObject *top = json_node_get_object (root);
  JsonNode *vn = json_object_get_member (top, "version");
  if (vn != NULL && !JSON_NODE_HOLDS_NULL (vn) &&
      (!JSON_NODE_HOLDS_VALUE (vn) || json_node_get_value_type (vn) != G_TYPE_STRING))
    {
      g_set_error (error, FT_PRICING_ERROR, FT_PRICING_ERROR_PARSE,
                   "%s: version: must be a string such as \"3.0\"", where);
      return FALSE;
    }
  const char *version = vn != NULL ? json_node_get_string (vn) : NULL;
  if (version != NULL && !g_str_has_prefix (version, "2.") && !g_str_has_prefix (version, "3."))
    {
      g_set_error (error, FT_PRICING_ERROR, FT_PRICING_ERROR_PARSE,
                   "%s: GBFS version \"%s\" is not supported (2.x and 3.x are)", where, version);
      return FALSE;
    }
  /* A whole file has "data"; a bare data member (our own export) has "plans". */
  JsonObject *data = top;
  if (json_object_has_member (top, "data"))
    {
      JsonNode *d = json_object_get_member (top, "data");
      if (!JSON_NODE_HOLDS_OBJECT (d))
        {
          g_set_error (error, FT_PRICING_ERROR, FT_PRICING_ERROR_PARSE,
                       "%s: \"data\" must be an object", where);
          return FALSE;
        }
      data = json_node_get_object (d);
    }
  JsonNode *pn = json_object_get_member (data, "plans");
  if (pn == NULL || !JSON_NODE_HOLDS_ARRAY (pn))
    {
      g_set_error (error, FT_PRICING_ERROR, FT_PRICING_ERROR_PARSE,
                   "%s: \"data.plans\" is missing or not an array", where);
      return FALSE;
    }
  JsonArray *plans = json_node_get_array (pn);
  guint n = json_array_get_length (plans);

  /* Parse and validate everything first; add nothing unless all is well. */
  g_autoptr(GPtrArray) parsed = g_ptr_array_new_with_free_func ((GDestroyNotify) ft_pricing_plan_free);
  for (guint i = 0; i < n; i++)
    {
      ParseCtx c = { where, i };
      FtPricingPlan *plan = parse_plan (json_array_get_element (plans, i), &c, error);
      if (plan == NULL)
        return FALSE;
      g_ptr_array_add (parsed, plan);
      g_autoptr(GError) verr = NULL;
      if (!plan_valid (p, plan, &verr))
        {
          g_set_error (error, FT_PRICING_ERROR, FT_PRICING_ERROR_INVALID, "%s: data.plans[%u]: %s",
                       where, i, verr->message);
          return FALSE;
        }
      for (guint k = 0; k < i; k++)
        if (strcmp (((FtPricingPlan *) g_ptr_array_index (parsed, k))->plan_id, plan->plan_id) == 0)
          {
            g_set_error (error, FT_PRICING_ERROR, FT_PRICING_ERROR_INVALID,
                         "%s: data.plans[%u]: \"plan_id\" \"%s\" repeats data.plans[%u]",
                         where, i, plan->plan_id, k);
            return FALSE;
          }
    }
  for (guint i = 0; i < parsed->len; i++)
    g_ptr_array_add (p->plans, g_ptr_array_index (parsed, i));
  g_ptr_array_set_free_func (parsed, NULL);
  return TRUE;
}

gboolean
ft_pricing_load_gbfs (FtPricing *p, const char *path, GError **error)
{
  g_return_val_if_fail (p != NULL && path != NULL, FALSE);
  g_autofree char *contents = NULL;
  gsize len = 0;
  g_autoptr(GError) ferr = NULL;
  if (!ft_file_read (path, FT_JSON_MAX_SIZE, &contents, &len, &ferr))
    {
      g_set_error (error, FT_PRICING_ERROR, FT_PRICING_ERROR_PARSE, "%s", ferr->message);
      return FALSE;
    }
  return ft_pricing_parse_gbfs (p, contents, (gssize) len, path, error);
}

/* ---------------------------------------------------------------- */
/* GBFS out                                                         */

static void
add_localized (JsonBuilder *b, const char *member, const char *text)
{
  json_builder_set_member_name (b, member);
  json_builder_begin_array (b);
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "text");
  json_builder_add_string_value (b, text);
  json_builder_set_member_name (b, "language");
  json_builder_add_string_value (b, "en");
  json_builder_end_object (b);
  json_builder_end_array (b);
}

static void
add_count (JsonBuilder *b, const char *member, double v)
{
  json_builder_set_member_name (b, member);
  if (v == floor (v) && fabs (v) < 9e15)
    json_builder_add_int_value (b, (gint64) v);
  else
    ft_json_builder_add_number (b, v);
}

static void
add_segments (JsonBuilder *b, const char *member, const FtRateSegment *s, guint n, double minor)
{
  if (n == 0)
    return;
  json_builder_set_member_name (b, member);
  json_builder_begin_array (b);
  for (guint i = 0; i < n; i++)
    {
      json_builder_begin_object (b);
      add_count (b, "start", s[i].start);
      json_builder_set_member_name (b, "rate");
      ft_json_builder_add_number (b, s[i].rate_minor / minor);
      add_count (b, "interval", s[i].interval);
      if (s[i].end > 0)
        add_count (b, "end", s[i].end);
      json_builder_end_object (b);
    }
  json_builder_end_array (b);
}

static double
round_mult (double m)
{
  return isfinite (m) ? round (m * 100.0) / 100.0 : 1.0;
}

char *
ft_pricing_variant_id (const char *plan_id, double m)
{
  m = round_mult (m);
  if (fabs (m - 1.0) < 0.005)
    return g_strdup (plan_id);
  char buf[G_ASCII_DTOSTR_BUF_SIZE];
  return g_strdup_printf ("%s-x%s", plan_id, g_ascii_formatd (buf, sizeof buf, "%.2f", m));
}

static void
add_plan (JsonBuilder *b, const FtPricingPlan *plan, double m)
{
  double minor = minor_per_major (plan->currency);
  gboolean variant = fabs (m - 1.0) >= 0.005;
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "plan_id");
  g_autofree char *id = ft_pricing_variant_id (plan->plan_id, m);
  json_builder_add_string_value (b, id);
  const char *base_name = plan->name != NULL ? plan->name : plan->plan_id;
  char mbuf[G_ASCII_DTOSTR_BUF_SIZE];
  g_ascii_formatd (mbuf, sizeof mbuf, "%.2f", m);
  g_autofree char *vname = g_strdup_printf ("%s (x%s)", base_name, mbuf);
  add_localized (b, "name", variant ? vname : base_name);
  json_builder_set_member_name (b, "currency");
  json_builder_add_string_value (b, plan->currency);
  json_builder_set_member_name (b, "price");
  ft_json_builder_add_number (b, (double) ft_pricing_round_minor (plan->unlock_fee_minor * m) / minor);
  json_builder_set_member_name (b, "is_taxable");
  json_builder_add_boolean_value (b, plan->is_taxable);
  g_autofree char *unlock = ft_money_format (ft_pricing_round_minor (plan->unlock_fee_minor * m),
                                             plan->currency);
  g_autofree char *desc = variant
    ? g_strdup_printf ("%s to unlock, then per-minute and per-km rates as listed: the plan %s times %s "
                       "where this vehicle stands (the zone's price multiplier)", unlock, plan->plan_id, mbuf)
    : g_strdup_printf ("%s to unlock, then per-minute and per-km rates as listed", unlock);
  add_localized (b, "description", desc);
  if (plan->reservation_fee_per_min_minor > 0)
    {
      json_builder_set_member_name (b, "reservation_price_per_min");
      ft_json_builder_add_number (b, (double) plan->reservation_fee_per_min_minor / minor);
    }
  if (variant)
    {
      g_autofree FtRateSegment *km = g_memdup2 (plan->per_km, sizeof (FtRateSegment) * plan->n_per_km);
      g_autofree FtRateSegment *mn = g_memdup2 (plan->per_min, sizeof (FtRateSegment) * plan->n_per_min);
      for (guint i = 0; i < plan->n_per_km; i++)
        km[i].rate_minor *= m;
      for (guint i = 0; i < plan->n_per_min; i++)
        mn[i].rate_minor *= m;
      add_segments (b, "per_km_pricing", km, plan->n_per_km, minor);
      add_segments (b, "per_min_pricing", mn, plan->n_per_min, minor);
      json_builder_set_member_name (b, "surge_pricing");
      json_builder_add_boolean_value (b, m > 1.0);
    }
  else
    {
      add_segments (b, "per_km_pricing", plan->per_km, plan->n_per_km, minor);
      add_segments (b, "per_min_pricing", plan->per_min, plan->n_per_min, minor);
    }
  json_builder_end_object (b);
}

static gint
cmp_double (gconstpointer a, gconstpointer b)
{
  double x = *(const double *) a, y = *(const double *) b;
  return x < y ? -1 : x > y ? 1 : 0;
}

JsonNode *
ft_pricing_to_gbfs_data_multiplied (const FtPricing *p, const double *mults, guint n_mults)
{
  g_return_val_if_fail (p != NULL, NULL);
  /* the distinct multipliers other than 1, in increasing order */
  g_autoptr(GArray) ms = g_array_new (FALSE, FALSE, sizeof (double));
  for (guint i = 0; i < n_mults && mults != NULL; i++)
    {
      double m = round_mult (mults[i]);
      if (fabs (m - 1.0) >= 0.005 && m > 0)
        g_array_append_val (ms, m);
    }
  g_array_sort (ms, cmp_double);
  g_autoptr(JsonBuilder) b = json_builder_new ();
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "plans");
  json_builder_begin_array (b);
  for (guint i = 0; i < p->plans->len; i++)
    {
      const FtPricingPlan *plan = g_ptr_array_index (p->plans, i);
      add_plan (b, plan, 1.0);
      for (guint k = 0; k < ms->len; k++)
        if (k == 0 || g_array_index (ms, double, k) != g_array_index (ms, double, k - 1))
          add_plan (b, plan, g_array_index (ms, double, k));
    }
  json_builder_end_array (b);
  json_builder_end_object (b);
  return json_builder_get_root (b);
}

JsonNode *
ft_pricing_to_gbfs_data (const FtPricing *p)
{
  return ft_pricing_to_gbfs_data_multiplied (p, NULL, 0);
}
