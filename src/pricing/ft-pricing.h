/* ft-pricing.h — pricing plans shaped like GBFS 3.0 system_pricing_plans:
 * an unlock fee, per-minute and per-km rate segments with start/end/interval,
 * a currency; zone multipliers (e.g. a busy centre costs more); and a hook
 * for a dynamic multiplier clamped between a floor and a cap. All amounts are
 * int64 minor units; rounding is to the nearest minor unit, half up.
 */
#pragma once

#include "ft-common.h"
#include "ft-geo.h"

G_BEGIN_DECLS

#define FT_PRICING_ERROR (ft_pricing_error_quark ())
GQuark ft_pricing_error_quark (void);
typedef enum {
  FT_PRICING_ERROR_PARSE,
  FT_PRICING_ERROR_INVALID,    /* negative fee, bad currency, end <= start, duplicate id … */
  FT_PRICING_ERROR_NO_PLAN,
  FT_PRICING_ERROR_PERMISSION, /* changed directly while a core owns the prices */
} FtPricingError;

/* GBFS rate segment: from `start` units on, `rate` is charged every
 * `interval` units until `end` (0 = no end). Units: minutes or km.
 * Charges fall at start, start+interval, … (< end) and count once the trip
 * has gone past them: start 0, interval 1 bills every started unit; a
 * 10-unit trip does not pay the charge at 10. interval 0 charges once.
 * Rates may be negative (GBFS discounts); a quote's total is never < 0. */
typedef struct {
  double start;
  double rate_minor;      /* minor units per interval (may be fractional cents) */
  double interval;
  double end;             /* 0 = open */
} FtRateSegment;

typedef struct {
  char          *plan_id;
  char          *name;
  char           currency[4];
  gint64         unlock_fee_minor;     /* GBFS `price` */
  gboolean       is_taxable;
  FtRateSegment *per_min;  guint n_per_min;
  FtRateSegment *per_km;   guint n_per_km;
  gint64         reservation_fee_per_min_minor;
  guint32        vehicle_kind_mask;    /* 0 = all kinds */
} FtPricingPlan;

/* Context of a trip being priced. */
typedef struct {
  double   minutes;
  double   km;
  FtLatLon start;
  FtLatLon end;
  FtTime   at;                  /* start time */
  guint    vehicle_kind;
  /* > 0: use these instead of looking the multipliers up (the price shown
   * at reservation, which booking charges); 0 = look up at (start, at). */
  double   fixed_zone_multiplier;
  double   fixed_dynamic_multiplier;
} FtTripQuote;

/* Breakdown, all minor units. total = round((unlock + time + distance) * multiplier). */
typedef struct {
  gint64 unlock;
  gint64 time;
  gint64 distance;
  double zone_multiplier;
  double dynamic_multiplier;
  gint64 total;
  char   currency[4];
} FtPriceBreakdown;

/* Dynamic multiplier hook: return the raw multiplier for (start, at). */
typedef double (*FtDynamicPriceFunc) (FtLatLon start, FtTime at, guint vehicle_kind,
                                      gpointer user_data);

typedef struct _FtPricing FtPricing;

FtPricing   *ft_pricing_new               (void);
void         ft_pricing_free              (FtPricing *p);
/* Adds a copy; FALSE if invalid. The first plan added is the default. */
gboolean     ft_pricing_add_plan          (FtPricing *p, const FtPricingPlan *plan, GError **error);
guint        ft_pricing_n_plans           (const FtPricing *p);
const FtPricingPlan *ft_pricing_get_plan  (const FtPricing *p, guint i);
const FtPricingPlan *ft_pricing_plan_for  (const FtPricing *p, guint vehicle_kind);
const FtPricingPlan *ft_pricing_lookup    (const FtPricing *p, const char *plan_id);
/* Zone multiplier: applies when the trip starts inside `area` (copied). */
void         ft_pricing_add_zone_multiplier (FtPricing *p, const char *zone_id,
                                             const FtMultiPolygon *area, double multiplier);
void         ft_pricing_set_dynamic       (FtPricing *p, FtDynamicPriceFunc fn, gpointer user_data,
                                           double floor, double cap);
/* Changes while the prices are in use. A core seals its pricing
 * (ft_pricing_set_sealed): then every change here and above is refused
 * with FT_PRICING_ERROR_PERMISSION, and prices change only through the
 * core's role-checked calls (ft_core_put_pricing_plan,
 * ft_core_set_zone_multiplier, ft_core_set_dynamic_pricing), which need
 * FT_PERM_PLAN and log FT_EV_PRICE_CHANGED. */
/* Adds plan, or replaces the plan with the same plan_id in place. */
gboolean     ft_pricing_put_plan          (FtPricing *p, const FtPricingPlan *plan, GError **error);
/* Sets an existing priced zone's multiplier (0.1-10). */
gboolean     ft_pricing_set_zone_multiplier (FtPricing *p, const char *zone_id, double multiplier,
                                             GError **error);
gboolean     ft_pricing_set_dynamic_checked (FtPricing *p, FtDynamicPriceFunc fn, gpointer user_data,
                                             double floor, double cap, GError **error);
void         ft_pricing_set_sealed        (FtPricing *p, gboolean sealed);
gboolean     ft_pricing_is_sealed         (const FtPricing *p);
/* Price a trip with the plan for its vehicle kind. */
gboolean     ft_pricing_quote             (const FtPricing *p, const FtTripQuote *q,
                                           FtPriceBreakdown *out, GError **error);
/* Price with an explicit plan. */
void         ft_pricing_quote_plan        (const FtPricing *p, const FtPricingPlan *plan,
                                           const FtTripQuote *q, FtPriceBreakdown *out);
/* The multipliers a quote would use: first zone (in the order added) whose
 * area contains `at`, else 1; the dynamic hook clamped to [floor, cap]
 * (NaN counts as 1), else 1. */
double       ft_pricing_zone_multiplier   (const FtPricing *p, FtLatLon at);
/* The same from the plain loop over the zones from `first` on (tests). */
double       ft_pricing_zone_multiplier_exact (const FtPricing *p, FtLatLon at, guint first);
double       ft_pricing_dynamic_multiplier (const FtPricing *p, FtLatLon at, FtTime t,
                                            guint vehicle_kind);
/* Half-up rounding to minor units, tolerant of binary noise (12.4999999995 -> 13). */
gint64       ft_pricing_round_minor       (double x);
/* ISO 4217 minor-unit exponent: 0 (JPY, KRW, …), 3 (KWD, BHD, …), else 2. */
int          ft_currency_exponent         (const char *currency);
/* Cost of a rate segment list for `units` (GBFS semantics). */
double       ft_rate_segments_cost        (const FtRateSegment *segs, guint n, double units);
/* A reasonable default plan: 1.00 unlock + 0.25/min (EUR), per kind. */
FtPricingPlan *ft_pricing_plan_new_simple (const char *plan_id, const char *currency,
                                           gint64 unlock_minor, double per_min_minor,
                                           double per_km_minor);
void         ft_pricing_plan_free         (FtPricingPlan *plan);
/* GBFS 3.0 / 2.3 system_pricing_plans.json in and out. Parse accepts a
 * whole file or a bare `data` object; all plans or none are added; errors
 * name the file, the plan index and the field ("x.json: data.plans[1]:
 * \"per_min_pricing[0].interval\" must be a number"). GBFS prices are in
 * major units and converted with the currency's exponent. Export writes the
 * GBFS 3.0 `data` member ({"plans": […]}); caller frees the node. */
gboolean     ft_pricing_load_gbfs         (FtPricing *p, const char *path, GError **error);
gboolean     ft_pricing_parse_gbfs        (FtPricing *p, const char *json, gssize len,
                                           const char *where, GError **error);
JsonNode    *ft_pricing_to_gbfs_data      (const FtPricing *p);
/* The same, plus, for every plan and every multiplier m != 1 in `mults`
 * (rounded to 0.01), a variant "<plan_id>-x<m>" with its price and rates
 * times m, "surge_pricing": true above 1: how GBFS publishes a zone's
 * multiplier (each vehicle_status entry names the variant that applies
 * where it stands, see ft_pricing_variant_id). */
JsonNode    *ft_pricing_to_gbfs_data_multiplied (const FtPricing *p, const double *mults, guint n_mults);
/* "<plan_id>" for m = 1 (to 0.01), else "<plan_id>-x<m>" ("default-x1.20"). */
char        *ft_pricing_variant_id        (const char *plan_id, double m);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (FtPricing, ft_pricing_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (FtPricingPlan, ft_pricing_plan_free)

G_END_DECLS
