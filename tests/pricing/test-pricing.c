/* test-pricing.c — Check tests for pricing: GBFS rate-segment semantics
 * (start, interval, end, interval 0), half-up rounding, quotes with unlock
 * fee, zone multipliers and the clamped dynamic hook, plan choice by vehicle
 * kind, invalid plans, reading the real GBFS 3.0 fixture and a 2.3-shaped
 * file, malformed files (errors name plan index and field, nothing added),
 * and a round trip through the exported `data` member.
 */
#include <check.h>
#include <json-glib/json-glib.h>
#include <string.h>

#include "ft-config.h"
#include "ft-test.h"
#include "ft-pricing.h"

/* ---------------- segments ---------------- */

START_TEST (test_segments_per_minute)
{
  FtRateSegment s[] = { { 0, 28, 1, 0 } };
  ck_assert_double_eq_tol (ft_rate_segments_cost (s, 1, 0.0), 0, 1e-9);
  ck_assert_double_eq_tol (ft_rate_segments_cost (s, 1, 0.5), 28, 1e-9);
  ck_assert_double_eq_tol (ft_rate_segments_cost (s, 1, 1.0), 28, 1e-9);
  ck_assert_double_eq_tol (ft_rate_segments_cost (s, 1, 1.01), 56, 1e-9);
  ck_assert_double_eq_tol (ft_rate_segments_cost (s, 1, 10.0), 280, 1e-9);
  /* binary noise from ms -> minutes must not bill an extra minute */
  ck_assert_double_eq_tol (ft_rate_segments_cost (s, 1, 600000.0 / 60000.0 * (1 + 1e-15)), 280, 1e-9);
  ck_assert_double_eq_tol (ft_rate_segments_cost (s, 1, -3.0), 0, 1e-9);
}
END_TEST

START_TEST (test_segments_tiers)
{
  /* 1.00 every 10 min until 25, then 0.50 every 5 until 45, then 0.20/min */
  FtRateSegment s[] = { { 0, 100, 10, 25 }, { 25, 50, 5, 45 }, { 45, 20, 1, 0 } };
  ck_assert_double_eq_tol (ft_rate_segments_cost (s, 3, 1), 100, 1e-9);
  ck_assert_double_eq_tol (ft_rate_segments_cost (s, 3, 10), 100, 1e-9);
  ck_assert_double_eq_tol (ft_rate_segments_cost (s, 3, 10.5), 200, 1e-9);
  ck_assert_double_eq_tol (ft_rate_segments_cost (s, 3, 25), 300, 1e-9);
  ck_assert_double_eq_tol (ft_rate_segments_cost (s, 3, 26), 350, 1e-9);
  ck_assert_double_eq_tol (ft_rate_segments_cost (s, 3, 45), 500, 1e-9);
  ck_assert_double_eq_tol (ft_rate_segments_cost (s, 3, 46), 520, 1e-9);
  ck_assert_double_eq_tol (ft_rate_segments_cost (s, 3, 50), 600, 1e-9);

  /* free first 5 km then 0.25/km; flat 2.00 charged once after km 10 */
  FtRateSegment k[] = { { 5, 25, 1, 0 }, { 10, 200, 0, 0 } };
  ck_assert_double_eq_tol (ft_rate_segments_cost (k, 2, 5), 0, 1e-9);
  ck_assert_double_eq_tol (ft_rate_segments_cost (k, 2, 5.2), 25, 1e-9);
  ck_assert_double_eq_tol (ft_rate_segments_cost (k, 2, 10), 125, 1e-9);
  ck_assert_double_eq_tol (ft_rate_segments_cost (k, 2, 12), 7 * 25 + 200, 1e-9);
  ck_assert_double_eq_tol (ft_rate_segments_cost (k, 2, 100), 95 * 25 + 200, 1e-9);

  /* open-ended segments run on alongside later ones */
  FtRateSegment both[] = { { 0, 10, 1, 0 }, { 5, 5, 1, 0 } };
  ck_assert_double_eq_tol (ft_rate_segments_cost (both, 2, 7), 70 + 10, 1e-9);
}
END_TEST

START_TEST (test_rounding)
{
  ck_assert_int_eq (ft_pricing_round_minor (2.5), 3);
  ck_assert_int_eq (ft_pricing_round_minor (2.4999), 2);
  ck_assert_int_eq (ft_pricing_round_minor (0.5), 1);
  ck_assert_int_eq (ft_pricing_round_minor (-2.5), -2);   /* half up = towards +inf */
  ck_assert_int_eq (ft_pricing_round_minor (-2.6), -3);
  ck_assert_int_eq (ft_pricing_round_minor (12.5 - 1e-12), 13);   /* binary noise */
  ck_assert_int_eq (ft_pricing_round_minor (0.1 * 3 * 100), 30);
  ck_assert_int_eq (ft_pricing_round_minor (NAN), 0);
  /* out of gint64's range: saturate, never an undefined cast */
  ck_assert_int_eq (ft_pricing_round_minor (1e30), G_MAXINT64);
  ck_assert_int_eq (ft_pricing_round_minor (-1e30), G_MININT64);
  ck_assert_int_eq (ft_currency_exponent ("EUR"), 2);
  ck_assert_int_eq (ft_currency_exponent ("JPY"), 0);
  ck_assert_int_eq (ft_currency_exponent ("KWD"), 3);
}
END_TEST

/* ---------------- quotes ---------------- */

static FtPricing *
simple_pricing (void)
{
  FtPricing *p = ft_pricing_new ();
  g_autoptr(FtPricingPlan) plan = ft_pricing_plan_new_simple ("std", "EUR", 100, 12.5, 30.0);
  ck_assert (ft_pricing_add_plan (p, plan, NULL));
  return p;
}

START_TEST (test_quote_basic)
{
  g_autoptr(FtPricing) p = simple_pricing ();
  FtTripQuote q = { .minutes = 3.0, .km = 1.5, .start = { 52.52, 13.40 }, .end = { 52.53, 13.41 } };
  FtPriceBreakdown b;
  g_autoptr(GError) err = NULL;
  ck_assert (ft_pricing_quote (p, &q, &b, &err));
  ck_assert_int_eq (b.unlock, 100);
  ck_assert_int_eq (b.time, 38);                 /* 3 x 12.5 = 37.5 -> 38 */
  ck_assert_int_eq (b.distance, 60);             /* 2 started km x 30 */
  ck_assert_double_eq (b.zone_multiplier, 1.0);
  ck_assert_double_eq (b.dynamic_multiplier, 1.0);
  ck_assert_int_eq (b.total, 198);
  ck_assert_str_eq (b.currency, "EUR");

  q.minutes = -1;
  ck_assert (!ft_pricing_quote (p, &q, &b, &err));
  ck_assert (g_error_matches (err, FT_PRICING_ERROR, FT_PRICING_ERROR_INVALID));
  g_clear_error (&err);
  q.minutes = 1;
  q.km = NAN;
  ck_assert (!ft_pricing_quote (p, &q, &b, &err));
  ck_assert (g_error_matches (err, FT_PRICING_ERROR, FT_PRICING_ERROR_INVALID));
  g_clear_error (&err);

  g_autoptr(FtPricing) empty = ft_pricing_new ();
  q.km = 1;
  ck_assert (!ft_pricing_quote (empty, &q, &b, &err));
  ck_assert (g_error_matches (err, FT_PRICING_ERROR, FT_PRICING_ERROR_NO_PLAN));
}
END_TEST

START_TEST (test_quote_discount_floor)
{
  g_autoptr(FtPricing) p = ft_pricing_new ();
  FtRateSegment disc[] = { { 0, -500, 0, 0 } };
  FtPricingPlan plan = { .plan_id = "promo", .name = "promo", .currency = "EUR",
                         .unlock_fee_minor = 100, .per_min = disc, .n_per_min = 1 };
  ck_assert (ft_pricing_add_plan (p, &plan, NULL));
  FtTripQuote q = { .minutes = 2 };
  FtPriceBreakdown b;
  ck_assert (ft_pricing_quote (p, &q, &b, NULL));
  ck_assert_int_eq (b.time, -500);
  ck_assert_int_eq (b.total, 0);
}
END_TEST

/* found by tests/fuzz: a charge every 1e-25 minutes saturates the time part
 * at G_MAXINT64, and adding the unlock fee to it overflowed */
START_TEST (test_quote_saturated_parts)
{
  g_autoptr(FtPricing) p = ft_pricing_new ();
  FtRateSegment tiny[] = { { 0.3, 500, 1e-25, 0 } };
  FtPricingPlan plan = { .plan_id = "absurd", .name = "absurd", .currency = "EUR",
                         .unlock_fee_minor = 50, .per_min = tiny, .n_per_min = 1 };
  ck_assert (ft_pricing_add_plan (p, &plan, NULL));
  FtTripQuote q = { .minutes = 2, .km = 1 };
  FtPriceBreakdown b;
  ck_assert (ft_pricing_quote (p, &q, &b, NULL));
  ck_assert_int_eq (b.time, G_MAXINT64);
  ck_assert_int_eq (b.total, G_MAXINT64);
}
END_TEST

static FtMultiPolygon *
square (double lat0, double lon0, double d)
{
  FtMultiPolygon *mp = ft_multipolygon_new ();
  FtLatLon pts[4] = { { lat0, lon0 }, { lat0, lon0 + d }, { lat0 + d, lon0 + d }, { lat0 + d, lon0 } };
  ft_multipolygon_add_ring (mp, pts, 4);
  return mp;
}

static double
surge (FtLatLon start, FtTime at, guint kind, gpointer user_data)
{
  return *(double *) user_data;
}

START_TEST (test_quote_multipliers)
{
  g_autoptr(FtPricing) p = simple_pricing ();
  g_autoptr(FtMultiPolygon) centre = square (52.50, 13.38, 0.04);
  g_autoptr(FtMultiPolygon) city = square (52.40, 13.20, 0.40);
  ft_pricing_add_zone_multiplier (p, "centre", centre, 1.5);
  ft_pricing_add_zone_multiplier (p, "city", city, 0.8);

  FtTripQuote q = { .minutes = 4.0, .km = 0.0, .start = { 52.52, 13.40 } };
  FtPriceBreakdown b;
  ck_assert (ft_pricing_quote (p, &q, &b, NULL));
  ck_assert_double_eq (b.zone_multiplier, 1.5);   /* first zone containing the start */
  ck_assert_int_eq (b.total, 225);                 /* (100 + 50) x 1.5 */
  q.start = (FtLatLon) { 52.45, 13.25 };
  ck_assert (ft_pricing_quote (p, &q, &b, NULL));
  ck_assert_double_eq (b.zone_multiplier, 0.8);
  ck_assert_int_eq (b.total, 120);
  q.start = (FtLatLon) { 48.0, 2.0 };
  ck_assert (ft_pricing_quote (p, &q, &b, NULL));
  ck_assert_double_eq (b.zone_multiplier, 1.0);
  ck_assert_int_eq (b.total, 150);

  /* dynamic hook clamped to [0.9, 2.0] */
  double raw = 3.7;
  ft_pricing_set_dynamic (p, surge, &raw, 0.9, 2.0);
  ck_assert (ft_pricing_quote (p, &q, &b, NULL));
  ck_assert_double_eq (b.dynamic_multiplier, 2.0);
  ck_assert_int_eq (b.total, 300);
  raw = 0.1;
  ck_assert (ft_pricing_quote (p, &q, &b, NULL));
  ck_assert_double_eq (b.dynamic_multiplier, 0.9);
  ck_assert_int_eq (b.total, 135);
  raw = 1.234;
  ck_assert (ft_pricing_quote (p, &q, &b, NULL));
  ck_assert_int_eq (b.total, 185);                 /* 150 x 1.234 = 185.1 */
  raw = NAN;
  ck_assert (ft_pricing_quote (p, &q, &b, NULL));
  ck_assert_double_eq (b.dynamic_multiplier, 1.0);
  /* both multipliers together, rounded once */
  raw = 1.1;
  q.start = (FtLatLon) { 52.52, 13.40 };
  ck_assert (ft_pricing_quote (p, &q, &b, NULL));
  ck_assert_int_eq (b.total, 248);                 /* 150 x 1.5 x 1.1 = 247.5 -> 248 */
}
END_TEST

/* The zone multiplier through the raster against the plain loop over the
 * zones, at every vertex and edge midpoint (and a nanodegree around them)
 * and at random points around the zones. */
static guint
zone_raster_compare (const FtPricing *p, const FtMultiPolygon *const *areas, guint n, guint n_random, guint32 seed)
{
  guint bad = 0;
  g_autoptr(GRand) rnd = g_rand_new_with_seed (seed);
  FtBBox bb;
  ft_bbox_init_empty (&bb);
  for (guint i = 0; i < n; i++)
    {
      const FtMultiPolygon *mp = areas[i];
      ft_bbox_extend (&bb, (FtLatLon) { mp->bbox.min_lat, mp->bbox.min_lon });
      ft_bbox_extend (&bb, (FtLatLon) { mp->bbox.max_lat, mp->bbox.max_lon });
      for (guint k = 0; k < mp->n_polys; k++)
        for (guint r = 0; r < mp->polys[k].n_rings; r++)
          {
            const FtRing *ring = &mp->polys[k].rings[r];
            for (guint a = 0, b = ring->n - 1; a < ring->n; b = a++)
              {
                FtLatLon v = ring->pts[a], w = ring->pts[b];
                FtLatLon mid = { (v.lat + w.lat) / 2, (v.lon + w.lon) / 2 };
                for (int dy = -1; dy <= 1; dy++)
                  for (int dx = -1; dx <= 1; dx++)
                    {
                      FtLatLon q1 = { v.lat + dy * 1e-9, v.lon + dx * 1e-9 };
                      FtLatLon q2 = { mid.lat + dy * 1e-9, mid.lon + dx * 1e-9 };
                      bad += ft_pricing_zone_multiplier (p, q1) != ft_pricing_zone_multiplier_exact (p, q1, 0);
                      bad += ft_pricing_zone_multiplier (p, q2) != ft_pricing_zone_multiplier_exact (p, q2, 0);
                    }
              }
          }
    }
  double mlat = (bb.max_lat - bb.min_lat) * 0.05, mlon = (bb.max_lon - bb.min_lon) * 0.05;
  for (guint i = 0; i < n_random; i++)
    {
      FtLatLon q = { g_rand_double_range (rnd, bb.min_lat - mlat, bb.max_lat + mlat),
                     g_rand_double_range (rnd, bb.min_lon - mlon, bb.max_lon + mlon) };
      bad += ft_pricing_zone_multiplier (p, q) != ft_pricing_zone_multiplier_exact (p, q, 0);
    }
  return bad;
}

START_TEST (test_zone_raster_matches_loop)
{
  g_autoptr(FtPricing) p = simple_pricing ();
  /* overlapping squares, a triangle across them, a square with a hole */
  g_autoptr(FtMultiPolygon) centre = square (52.50, 13.38, 0.04);
  g_autoptr(FtMultiPolygon) city = square (52.40, 13.20, 0.40);
  g_autoptr(FtMultiPolygon) tri = ft_multipolygon_new ();
  FtLatLon t[] = { { 52.45, 13.30 }, { 52.58, 13.52 }, { 52.41, 13.61 } };
  ft_multipolygon_add_ring (tri, t, 3);
  g_autoptr(FtMultiPolygon) ring = ft_multipolygon_new ();
  FtLatLon outer[] = { { 52.60, 13.60 }, { 52.60, 13.70 }, { 52.66, 13.70 }, { 52.66, 13.60 } };
  FtLatLon hole[] = { { 52.62, 13.62 }, { 52.62, 13.67 }, { 52.645, 13.645 } };
  guint k = ft_multipolygon_add_ring (ring, outer, 4);
  ft_multipolygon_add_hole (ring, k, hole, 3);
  ft_pricing_add_zone_multiplier (p, "centre", centre, 1.5);
  ft_pricing_add_zone_multiplier (p, "triangle", tri, 1.25);
  ft_pricing_add_zone_multiplier (p, "ring", ring, 2.0);
  const FtMultiPolygon *areas[] = { centre, tri, ring, city };
  ck_assert_uint_eq (zone_raster_compare (p, areas, 3, 20000, 7), 0);
  /* inside the centre square, in the triangle only, in the ring's hole */
  ck_assert_double_eq (ft_pricing_zone_multiplier (p, (FtLatLon) { 52.52, 13.40 }), 1.5);
  ck_assert_double_eq (ft_pricing_zone_multiplier (p, (FtLatLon) { 52.48, 13.50 }), 1.25);
  ck_assert_double_eq (ft_pricing_zone_multiplier (p, (FtLatLon) { 52.63, 13.645 }), 1.0);
  ck_assert_double_eq (ft_pricing_zone_multiplier (p, (FtLatLon) { 52.65, 13.61 }), 2.0);
  /* a zone added after lookups (the raster is rebuilt), and a new price */
  ft_pricing_add_zone_multiplier (p, "city", city, 0.8);
  ck_assert_double_eq (ft_pricing_zone_multiplier (p, (FtLatLon) { 52.45, 13.25 }), 0.8);
  ck_assert (ft_pricing_set_zone_multiplier (p, "triangle", 1.75, NULL));
  ck_assert_double_eq (ft_pricing_zone_multiplier (p, (FtLatLon) { 52.48, 13.50 }), 1.75);
  ck_assert_uint_eq (zone_raster_compare (p, areas, 4, 20000, 8), 0);
  /* points no zone's raster cell covers */
  ck_assert_double_eq (ft_pricing_zone_multiplier (p, (FtLatLon) { 48.0, 2.0 }), 1.0);
  ck_assert_double_eq (ft_pricing_zone_multiplier (p, (FtLatLon) { NAN, 13.4 }), 1.0);
}
END_TEST

START_TEST (test_plan_for_kind)
{
  g_autoptr(FtPricing) p = ft_pricing_new ();
  g_autoptr(FtPricingPlan) def = ft_pricing_plan_new_simple ("default", "EUR", 100, 20, 0);
  g_autoptr(FtPricingPlan) moped = ft_pricing_plan_new_simple ("moped", "EUR", 200, 40, 0);
  moped->vehicle_kind_mask = 1u << 2;
  ck_assert (ft_pricing_add_plan (p, def, NULL));
  ck_assert (ft_pricing_add_plan (p, moped, NULL));
  ck_assert_str_eq (ft_pricing_plan_for (p, 0)->plan_id, "default");
  ck_assert_str_eq (ft_pricing_plan_for (p, 2)->plan_id, "moped");
  ck_assert_str_eq (ft_pricing_lookup (p, "moped")->plan_id, "moped");
  ck_assert_ptr_null (ft_pricing_lookup (p, "nope"));
  FtTripQuote q = { .minutes = 1, .vehicle_kind = 2 };
  FtPriceBreakdown b;
  ck_assert (ft_pricing_quote (p, &q, &b, NULL));
  ck_assert_int_eq (b.total, 240);
  /* quote_plan with an explicit plan */
  ft_pricing_quote_plan (p, ft_pricing_get_plan (p, 0), &q, &b);
  ck_assert_int_eq (b.total, 120);
}
END_TEST

START_TEST (test_invalid_plans)
{
  g_autoptr(FtPricing) p = simple_pricing ();
  g_autoptr(GError) err = NULL;
  g_autoptr(FtPricingPlan) a = ft_pricing_plan_new_simple ("x", "eur", 100, 1, 0);
  ck_assert (!ft_pricing_add_plan (p, a, &err));
  ck_assert (g_error_matches (err, FT_PRICING_ERROR, FT_PRICING_ERROR_INVALID));
  ck_assert_msg (strstr (err->message, "currency") != NULL, "%s", err->message);
  g_clear_error (&err);
  g_autoptr(FtPricingPlan) b = ft_pricing_plan_new_simple ("y", "EUR", -1, 1, 0);
  ck_assert (!ft_pricing_add_plan (p, b, &err));
  ck_assert (g_error_matches (err, FT_PRICING_ERROR, FT_PRICING_ERROR_INVALID));
  g_clear_error (&err);
  g_autoptr(FtPricingPlan) c = ft_pricing_plan_new_simple ("z", "EUR", 1, 1, 0);
  c->per_min[0].end = 0.0;
  c->per_min[0].start = 5;
  c->per_min[0].end = 5;
  ck_assert (!ft_pricing_add_plan (p, c, &err));
  ck_assert_msg (strstr (err->message, "per_min_pricing[0]") != NULL, "%s", err->message);
  g_clear_error (&err);
  c->per_min[0].end = 0;
  c->per_min[0].interval = -1;
  ck_assert (!ft_pricing_add_plan (p, c, &err));
  g_clear_error (&err);
  /* found by tests/fuzz: 2e41 would be saved as "2e+41.0", which is not JSON */
  c->per_min[0].interval = 2e41;
  ck_assert (!ft_pricing_add_plan (p, c, &err));
  ck_assert_msg (strstr (err->message, "interval") != NULL, "%s", err->message);
  g_clear_error (&err);
  c->per_min[0].interval = 1;
  c->per_min[0].end = 1e18;
  ck_assert (!ft_pricing_add_plan (p, c, &err));
  ck_assert_msg (strstr (err->message, "end must be a number") != NULL, "%s", err->message);
  g_clear_error (&err);
  g_autoptr(FtPricingPlan) d = ft_pricing_plan_new_simple ("std", "EUR", 1, 1, 0);
  ck_assert (!ft_pricing_add_plan (p, d, &err));
  ck_assert_msg (strstr (err->message, "already defined") != NULL, "%s", err->message);
  ck_assert_uint_eq (ft_pricing_n_plans (p), 1);
}
END_TEST

/* ---------------- GBFS files ---------------- */

START_TEST (test_gbfs_v3_fixture)
{
  g_autofree char *path = ft_test_shared_path ("gbfs/mobilitydata_testfixtures_v3.0/system_pricing_plans.json");
  g_autoptr(FtPricing) p = ft_pricing_new ();
  g_autoptr(GError) err = NULL;
  ck_assert_msg (ft_pricing_load_gbfs (p, path, &err), "%s", err ? err->message : "");
  ck_assert_uint_eq (ft_pricing_n_plans (p), 2);
  const FtPricingPlan *bike = ft_pricing_get_plan (p, 0);
  ck_assert_str_eq (bike->plan_id, "87c7ed6e-aecf-4900-9a85-2a78efbba65b");
  ck_assert_str_eq (bike->name, "bike-standard-pricing-paris");
  ck_assert_str_eq (bike->currency, "EUR");
  ck_assert_int_eq (bike->unlock_fee_minor, 100);
  ck_assert (!bike->is_taxable);
  ck_assert_uint_eq (bike->n_per_min, 1);
  ck_assert_uint_eq (bike->n_per_km, 0);
  ck_assert_double_eq_tol (bike->per_min[0].rate_minor, 28.0, 1e-9);
  const FtPricingPlan *scooter = ft_pricing_lookup (p, "e1df7c5c-3232-422f-bf38-94cabb55fb99");
  ck_assert_ptr_nonnull (scooter);
  ck_assert_int_eq (scooter->unlock_fee_minor, 120);

  /* "1.20 EUR to unlock, 0.28 EUR per minute": a 10-minute ride is 4.00 */
  FtTripQuote q = { .minutes = 10 };
  FtPriceBreakdown b;
  ft_pricing_quote_plan (p, scooter, &q, &b);
  ck_assert_int_eq (b.total, 400);
  q.minutes = 10.2;
  ft_pricing_quote_plan (p, bike, &q, &b);
  ck_assert_int_eq (b.total, 100 + 11 * 28);
}
END_TEST

static const char *v23 =
  "{\"last_updated\": 1609866247, \"ttl\": 60, \"version\": \"2.3\", \"data\": {\"plans\": ["
  "{\"plan_id\": \"p1\", \"name\": \"Standard\", \"currency\": \"USD\", \"price\": 1.0,"
  " \"is_taxable\": true, \"description\": \"1 USD + 0.15/min after 5 min, 0.25/km\","
  " \"per_min_pricing\": [{\"start\": 5, \"rate\": 0.15, \"interval\": 1}],"
  " \"per_km_pricing\": [{\"start\": 0, \"rate\": 0.25, \"interval\": 1, \"end\": 10}]},"
  "{\"plan_id\": \"p2\", \"name\": \"Yen\", \"currency\": \"JPY\", \"price\": 150,"
  " \"is_taxable\": false, \"description\": \"x\","
  " \"per_min_pricing\": [{\"start\": 0, \"rate\": 15, \"interval\": 1}]}]}}";

START_TEST (test_gbfs_v23)
{
  g_autoptr(FtPricing) p = ft_pricing_new ();
  g_autoptr(GError) err = NULL;
  ck_assert_msg (ft_pricing_parse_gbfs (p, v23, -1, "v23.json", &err), "%s",
                 err ? err->message : "");
  ck_assert_uint_eq (ft_pricing_n_plans (p), 2);
  const FtPricingPlan *a = ft_pricing_get_plan (p, 0);
  ck_assert_str_eq (a->name, "Standard");
  ck_assert (a->is_taxable);
  ck_assert_double_eq_tol (a->per_km[0].end, 10, 1e-9);
  FtTripQuote q = { .minutes = 12, .km = 15 };
  FtPriceBreakdown b;
  ft_pricing_quote_plan (p, a, &q, &b);
  ck_assert_int_eq (b.time, 7 * 15);
  ck_assert_int_eq (b.distance, 250);       /* km 10 onwards is free */
  ck_assert_int_eq (b.total, 100 + 105 + 250);
  const FtPricingPlan *y = ft_pricing_get_plan (p, 1);
  ck_assert_int_eq (y->unlock_fee_minor, 150);   /* JPY has no minor unit */
  ck_assert_double_eq_tol (y->per_min[0].rate_minor, 15, 1e-9);
}
END_TEST

typedef struct {
  const char *json;
  const char *expect[3];     /* substrings the message must contain */
} Bad;

START_TEST (test_gbfs_malformed)
{
  static const Bad bad[] = {
    { "{not json", { "bad.json", "not valid JSON" } },
    { "[1,2]", { "bad.json", "top level" } },
    { "{\"data\": {\"nope\": []}}", { "bad.json", "data.plans" } },
    { "{\"version\": \"1.1\", \"data\": {\"plans\": []}}", { "version", "1.1" } },
    { "{\"data\": {\"plans\": [{\"plan_id\": \"a\", \"name\": \"A\", \"currency\": \"EUR\","
      " \"price\": 1, \"is_taxable\": false}, {\"plan_id\": \"b\", \"name\": \"B\","
      " \"price\": 1, \"is_taxable\": false}]}}",
      { "bad.json", "data.plans[1]", "currency" } },
    { "{\"data\": {\"plans\": [{\"plan_id\": \"a\", \"name\": \"A\", \"currency\": \"EUR\","
      " \"price\": -1, \"is_taxable\": false}]}}",
      { "data.plans[0]", "\"price\"", ">= 0" } },
    { "{\"data\": {\"plans\": [{\"plan_id\": \"a\", \"name\": \"A\", \"currency\": \"EUR\","
      " \"price\": 1, \"is_taxable\": false, \"per_min_pricing\": [{\"start\": 0, \"rate\": 1,"
      " \"interval\": \"1\"}]}]}}",
      { "data.plans[0]", "per_min_pricing[0].interval", "number" } },
    { "{\"data\": {\"plans\": [{\"plan_id\": \"a\", \"name\": \"A\", \"currency\": \"EUR\","
      " \"price\": 1, \"is_taxable\": false, \"per_km_pricing\": [{\"start\": 4, \"rate\": 1,"
      " \"interval\": 1, \"end\": 2}]}]}}",
      { "data.plans[0]", "per_km_pricing[0].end" } },
    { "{\"data\": {\"plans\": [{\"plan_id\": \"a\", \"name\": \"A\", \"currency\": \"EUR\","
      " \"price\": 1, \"is_taxable\": false, \"per_km_pricing\": [{\"rate\": 1,"
      " \"interval\": 1}]}]}}",
      { "data.plans[0]", "per_km_pricing[0].start", "missing" } },
    { "{\"data\": {\"plans\": [{\"plan_id\": \"a\", \"name\": [], \"currency\": \"EUR\","
      " \"price\": 1, \"is_taxable\": false}]}}",
      { "data.plans[0]", "name" } },
    { "{\"data\": {\"plans\": [{\"plan_id\": \"a\", \"name\": \"A\", \"currency\": \"EUR\","
      " \"price\": 1}]}}",
      { "data.plans[0]", "is_taxable" } },
    { "{\"data\": {\"plans\": [{\"name\": \"A\", \"currency\": \"EUR\","
      " \"price\": 1, \"is_taxable\": true}]}}",
      { "data.plans[0]", "plan_id" } },
    { "{\"data\": {\"plans\": [{\"plan_id\": \"a\", \"name\": \"A\", \"currency\": \"EUR\","
      " \"price\": 1, \"is_taxable\": false}, {\"plan_id\": \"a\", \"name\": \"A\","
      " \"currency\": \"EUR\", \"price\": 1, \"is_taxable\": false}]}}",
      { "data.plans[1]", "repeats data.plans[0]" } },
    { "{\"data\": {\"plans\": [{\"plan_id\": \"std\", \"name\": \"A\", \"currency\": \"EUR\","
      " \"price\": 1, \"is_taxable\": false}]}}",
      { "data.plans[0]", "already defined" } },
    /* found by tests/fuzz: 1.4e41 BIF overflowed the cast to minor units */
    { "{\"data\": {\"plans\": [{\"plan_id\": \"a\", \"name\": \"A\", \"currency\": \"BIF\","
      " \"price\": 144444444444444444444444444444444444444444.0, \"is_taxable\": false}]}}",
      { "data.plans[0]", "\"price\"", "at most" } },
    { "{\"data\": {\"plans\": [{\"plan_id\": \"a\", \"name\": \"A\", \"currency\": \"EUR\","
      " \"price\": 1, \"is_taxable\": false, \"per_min_pricing\": [{\"start\": 0, \"rate\": -1e300,"
      " \"interval\": 1}]}]}}",
      { "data.plans[0]", "per_min_pricing[0].rate", ">= -1e+09" } },
    /* found by tests/fuzz: an interval of 2e41 was accepted and then saved as
     * "2e+41.0", which is not JSON */
    { "{\"data\": {\"plans\": [{\"plan_id\": \"a\", \"name\": \"A\", \"currency\": \"EUR\","
      " \"price\": 1, \"is_taxable\": false, \"per_min_pricing\": [{\"start\": 1, \"rate\": 0,"
      " \"interval\": 199999999999999999999991999999999999999994.3}]}]}}",
      { "data.plans[0]", "per_min_pricing[0].interval", "at most 1e+09" } },
    { "{\"data\": {\"plans\": [{\"plan_id\": \"a\", \"name\": \"A\", \"currency\": \"EUR\","
      " \"price\": 1, \"is_taxable\": false, \"per_km_pricing\": [{\"start\": 1e17, \"rate\": 0,"
      " \"interval\": 1}]}]}}",
      { "data.plans[0]", "per_km_pricing[0].start", "at most 1e+09" } },
    /* wrong member types are errors, never GLib criticals */
    { "{\"version\": {}, \"data\": {\"plans\": []}}", { "bad.json", "version", "string" } },
    { "{\"version\": 3, \"data\": {\"plans\": []}}", { "bad.json", "version", "string" } },
    { "{\"data\": {\"plans\": [{\"plan_id\": \"a\", \"name\": [{\"text\": \"A\", \"language\": 5}],"
      " \"currency\": \"EUR\", \"price\": 1, \"is_taxable\": false}]}}",
      { "data.plans[0]", "name", "language" } },
    { "{\"data\": {\"plans\": [{\"plan_id\": \"a\", \"name\": [{\"text\": \"A\", \"language\": []}],"
      " \"currency\": \"EUR\", \"price\": 1, \"is_taxable\": false}]}}",
      { "data.plans[0]", "name", "language" } },
  };
  for (guint i = 0; i < G_N_ELEMENTS (bad); i++)
    {
      g_autoptr(FtPricing) p = simple_pricing ();
      g_autoptr(GError) err = NULL;
      ck_assert_msg (!ft_pricing_parse_gbfs (p, bad[i].json, -1, "bad.json", &err),
                     "case %u parsed", i);
      ck_assert_msg (err->domain == FT_PRICING_ERROR, "case %u", i);
      for (guint k = 0; k < 3 && bad[i].expect[k] != NULL; k++)
        ck_assert_msg (strstr (err->message, bad[i].expect[k]) != NULL,
                       "case %u: \"%s\" lacks \"%s\"", i, err->message, bad[i].expect[k]);
      /* nothing was added, not even the good plans before the bad one */
      ck_assert_uint_eq (ft_pricing_n_plans (p), 1);
    }
  g_autoptr(FtPricing) p = ft_pricing_new ();
  g_autoptr(GError) err = NULL;
  ck_assert (!ft_pricing_load_gbfs (p, "/nonexistent/system_pricing_plans.json", &err));
  ck_assert (g_error_matches (err, FT_PRICING_ERROR, FT_PRICING_ERROR_PARSE));
}
END_TEST

START_TEST (test_gbfs_roundtrip)
{
  g_autoptr(FtPricing) p = ft_pricing_new ();
  ck_assert (ft_pricing_parse_gbfs (p, v23, -1, "v23.json", NULL));
  FtRateSegment tiers[] = { { 0, 100, 10, 25 }, { 25, 50, 5, 0 } };
  FtPricingPlan t = { .plan_id = "tiers", .name = "Tiers", .currency = "EUR",
                      .unlock_fee_minor = 99, .is_taxable = TRUE, .per_min = tiers,
                      .n_per_min = 2, .reservation_fee_per_min_minor = 5 };
  ck_assert (ft_pricing_add_plan (p, &t, NULL));

  g_autoptr(JsonNode) data = ft_pricing_to_gbfs_data (p);
  ck_assert (JSON_NODE_HOLDS_OBJECT (data));
  JsonObject *o = json_node_get_object (data);
  ck_assert (json_object_has_member (o, "plans"));
  JsonObject *first = json_array_get_object_element (json_object_get_array_member (o, "plans"), 0);
  /* 3.0 shape: localized name and description, price in major units */
  ck_assert (JSON_NODE_HOLDS_ARRAY (json_object_get_member (first, "name")));
  ck_assert (JSON_NODE_HOLDS_ARRAY (json_object_get_member (first, "description")));
  ck_assert_double_eq_tol (json_object_get_double_member (first, "price"), 1.0, 1e-12);

  g_autofree char *text = json_to_string (data, FALSE);
  g_autoptr(FtPricing) back = ft_pricing_new ();
  g_autoptr(GError) err = NULL;
  ck_assert_msg (ft_pricing_parse_gbfs (back, text, -1, "export", &err), "%s: %s",
                 err ? err->message : "", text);
  ck_assert_uint_eq (ft_pricing_n_plans (back), ft_pricing_n_plans (p));
  for (guint i = 0; i < ft_pricing_n_plans (p); i++)
    {
      const FtPricingPlan *a = ft_pricing_get_plan (p, i), *b = ft_pricing_get_plan (back, i);
      ck_assert_str_eq (a->plan_id, b->plan_id);
      ck_assert_str_eq (a->name, b->name);
      ck_assert_str_eq (a->currency, b->currency);
      ck_assert_int_eq (a->unlock_fee_minor, b->unlock_fee_minor);
      ck_assert_int_eq (a->is_taxable, b->is_taxable);
      ck_assert_int_eq (a->reservation_fee_per_min_minor, b->reservation_fee_per_min_minor);
      ck_assert_uint_eq (a->n_per_min, b->n_per_min);
      ck_assert_uint_eq (a->n_per_km, b->n_per_km);
      for (guint k = 0; k < a->n_per_min; k++)
        {
          ck_assert_double_eq_tol (a->per_min[k].start, b->per_min[k].start, 1e-9);
          ck_assert_double_eq_tol (a->per_min[k].rate_minor, b->per_min[k].rate_minor, 1e-9);
          ck_assert_double_eq_tol (a->per_min[k].interval, b->per_min[k].interval, 1e-9);
          ck_assert_double_eq_tol (a->per_min[k].end, b->per_min[k].end, 1e-9);
        }
      for (guint k = 0; k < a->n_per_km; k++)
        ck_assert_double_eq_tol (a->per_km[k].rate_minor, b->per_km[k].rate_minor, 1e-9);
    }
  /* the real fixture round-trips too */
  g_autofree char *path = ft_test_shared_path ("gbfs/mobilitydata_testfixtures_v3.0/system_pricing_plans.json");
  g_autoptr(FtPricing) fx = ft_pricing_new ();
  ck_assert (ft_pricing_load_gbfs (fx, path, NULL));
  g_autoptr(JsonNode) fxd = ft_pricing_to_gbfs_data (fx);
  g_autofree char *fxt = json_to_string (fxd, FALSE);
  g_autoptr(FtPricing) fx2 = ft_pricing_new ();
  ck_assert (ft_pricing_parse_gbfs (fx2, fxt, -1, "fx", NULL));
  ck_assert_int_eq (ft_pricing_get_plan (fx2, 1)->unlock_fee_minor, 120);
}
END_TEST

static Suite *
pricing_suite (void)
{
  Suite *s = suite_create ("pricing");
  struct { const char *name; const TTest *fn; } cases[] = {
    { "segments-per-minute", test_segments_per_minute },
    { "segments-tiers", test_segments_tiers },
    { "rounding", test_rounding },
    { "quote-basic", test_quote_basic },
    { "quote-discount-floor", test_quote_discount_floor },
    { "quote-saturated-parts", test_quote_saturated_parts },
    { "quote-multipliers", test_quote_multipliers },
    { "zone-raster-matches-loop", test_zone_raster_matches_loop },
    { "plan-for-kind", test_plan_for_kind },
    { "invalid-plans", test_invalid_plans },
    { "gbfs-v3-fixture", test_gbfs_v3_fixture },
    { "gbfs-v23", test_gbfs_v23 },
    { "gbfs-malformed", test_gbfs_malformed },
    { "gbfs-roundtrip", test_gbfs_roundtrip },
  };
  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      TCase *tc = tcase_create (cases[i].name);
      tcase_add_test (tc, cases[i].fn);
      suite_add_tcase (s, tc);
    }
  return s;
}

int
main (void)
{
  SRunner *sr = srunner_create (pricing_suite ());
  srunner_run_all (sr, CK_NORMAL);
  int failed = srunner_ntests_failed (sr);
  srunner_free (sr);
  return failed == 0 ? 0 : 1;
}
