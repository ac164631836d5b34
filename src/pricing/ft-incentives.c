/* ft-incentives.c — relocation offers per zone and the reward rules:
 * budget per day, cap per rider and day, minimum distance, cool-down and
 * no hop back. Per rider it remembers the day's spend and the last
 * rewarded trip; per day the total paid.
 */
#include "ft-incentives.h"

#include <math.h>
#include <string.h>

typedef struct {
  gint64 day;
  gint64 spent;          /* on `day` */
  FtTime last_t;         /* last reward, or G_MININT64 */
  gint   last_from, last_to;
} RiderRec;

struct _FtIncentives {
  FtIncentiveRules r;
  guint            n;
  gboolean        *start, *end;
  GHashTable      *riders;   /* rider+1 -> RiderRec */
  GHashTable      *days;     /* day -> gint64* paid */
  GHashTable      *bookings; /* rewarded booking ids (gint64*) */
  gint64           paid;
  guint64          n_rewarded;
  guint64          refused[FT_N_INCENTIVE_VERDICTS];
};

static const char *const verdict_names[FT_N_INCENTIVE_VERDICTS] = {
  "rewarded", "no offer", "too short", "same zone", "cool-down", "hop back", "rider cap", "budget",
  "already paid",
};

const char *
ft_incentive_verdict_name (FtIncentiveVerdict v)
{
  return (guint) v < FT_N_INCENTIVE_VERDICTS ? verdict_names[v] : "unknown";
}

void
ft_incentive_rules_init (FtIncentiveRules *r)
{
  g_return_if_fail (r != NULL);
  r->reward_minor = 100;
  r->budget_per_day_minor = 20000;
  r->cap_per_rider_day_minor = 300;
  r->min_distance_m = 400;
  r->cooldown = 20 * FT_MINUTE;
  r->hop_back_window = 2 * FT_HOUR;
  r->recompute = 15 * FT_MINUTE;
}

gboolean
ft_incentive_rules_check (const FtIncentiveRules *r, GError **error)
{
  g_return_val_if_fail (r != NULL, FALSE);
  const struct { const char *name; gint64 v; } amounts[] = {
    { "reward_minor", r->reward_minor },
    { "budget_per_day_minor", r->budget_per_day_minor },
    { "cap_per_rider_day_minor", r->cap_per_rider_day_minor },
    { "cooldown", r->cooldown },
    { "hop_back_window", r->hop_back_window },
  };
  for (guint i = 0; i < G_N_ELEMENTS (amounts); i++)
    if (amounts[i].v < 0)
      {
        g_set_error (error, FT_PRICING_ERROR, FT_PRICING_ERROR_INVALID,
                     "%s %" G_GINT64_FORMAT " must be >= 0", amounts[i].name, amounts[i].v);
        return FALSE;
      }
  if (!(r->min_distance_m >= 0) || !isfinite (r->min_distance_m))
    {
      g_set_error (error, FT_PRICING_ERROR, FT_PRICING_ERROR_INVALID,
                   "min_distance_m %g must be >= 0", r->min_distance_m);
      return FALSE;
    }
  if (r->recompute < FT_MINUTE)
    {
      g_set_error (error, FT_PRICING_ERROR, FT_PRICING_ERROR_INVALID,
                   "recompute %" G_GINT64_FORMAT " ms must be at least a minute", r->recompute);
      return FALSE;
    }
  return TRUE;
}

FtIncentives *
ft_incentives_new (guint n_zones, const FtIncentiveRules *rules, GError **error)
{
  FtIncentiveRules def;
  if (rules == NULL)
    {
      ft_incentive_rules_init (&def);
      rules = &def;
    }
  if (!ft_incentive_rules_check (rules, error))
    return NULL;
  FtIncentives *inc = g_new0 (FtIncentives, 1);
  inc->r = *rules;
  inc->n = n_zones;
  inc->start = g_new0 (gboolean, MAX (n_zones, 1));
  inc->end = g_new0 (gboolean, MAX (n_zones, 1));
  inc->riders = g_hash_table_new_full (g_direct_hash, g_direct_equal, NULL, g_free);
  inc->days = g_hash_table_new_full (g_int64_hash, g_int64_equal, g_free, g_free);
  inc->bookings = g_hash_table_new_full (g_int64_hash, g_int64_equal, g_free, NULL);
  return inc;
}

void
ft_incentives_free (FtIncentives *inc)
{
  if (inc == NULL)
    return;
  g_free (inc->start);
  g_free (inc->end);
  g_hash_table_unref (inc->riders);
  g_hash_table_unref (inc->days);
  g_hash_table_unref (inc->bookings);
  g_free (inc);
}

const FtIncentiveRules *
ft_incentives_rules (const FtIncentives *inc)
{
  g_return_val_if_fail (inc != NULL, NULL);
  return &inc->r;
}

guint
ft_incentives_n_zones (const FtIncentives *inc)
{
  g_return_val_if_fail (inc != NULL, 0);
  return inc->n;
}

void
ft_incentives_set_offers (FtIncentives *inc, const gboolean *start, const gboolean *end)
{
  g_return_if_fail (inc != NULL);
  for (guint z = 0; z < inc->n; z++)
    {
      inc->start[z] = start != NULL && start[z];
      inc->end[z] = end != NULL && end[z];
    }
}

gboolean
ft_incentives_start_offered (const FtIncentives *inc, gint zone)
{
  g_return_val_if_fail (inc != NULL, FALSE);
  return zone >= 0 && (guint) zone < inc->n && inc->start[zone];
}

gboolean
ft_incentives_end_offered (const FtIncentives *inc, gint zone)
{
  g_return_val_if_fail (inc != NULL, FALSE);
  return zone >= 0 && (guint) zone < inc->n && inc->end[zone];
}

guint
ft_incentives_n_offers (const FtIncentives *inc)
{
  g_return_val_if_fail (inc != NULL, 0);
  guint n = 0;
  for (guint z = 0; z < inc->n; z++)
    n += (inc->start[z] ? 1 : 0) + (inc->end[z] ? 1 : 0);
  return n;
}

gint64
ft_incentives_paid_on_day (const FtIncentives *inc, gint64 day)
{
  g_return_val_if_fail (inc != NULL, 0);
  gint64 *p = g_hash_table_lookup (inc->days, &day);
  return p != NULL ? *p : 0;
}

static FtIncentiveVerdict
refuse (FtIncentives *inc, FtIncentiveVerdict v)
{
  inc->refused[v]++;
  return v;
}

FtIncentiveVerdict
ft_incentives_evaluate (FtIncentives *inc, guint rider, gint from_zone, gint to_zone,
                        FtLatLon from, FtLatLon to, gboolean start_shown, gboolean end_shown,
                        FtTime now, gint64 *amount)
{
  g_return_val_if_fail (inc != NULL && amount != NULL, FT_INCENTIVE_NO_OFFER);
  *amount = 0;
  guint legs = (start_shown && from_zone >= 0 ? 1 : 0) + (end_shown && to_zone >= 0 ? 1 : 0);
  if (legs == 0 || inc->r.reward_minor == 0)
    return refuse (inc, FT_INCENTIVE_NO_OFFER);
  if (from_zone == to_zone)
    return refuse (inc, FT_INCENTIVE_SAME_ZONE);
  if (ft_distance_m (from, to) < inc->r.min_distance_m)
    return refuse (inc, FT_INCENTIVE_TOO_SHORT);
  gint64 day = now / FT_DAY;
  RiderRec *rr = g_hash_table_lookup (inc->riders, GUINT_TO_POINTER (rider + 1));
  gint64 spent = 0;
  if (rr != NULL)
    {
      if (now - rr->last_t < inc->r.cooldown)
        return refuse (inc, FT_INCENTIVE_COOLDOWN);
      if (now - rr->last_t < inc->r.hop_back_window && rr->last_from == to_zone
          && rr->last_to == from_zone)
        return refuse (inc, FT_INCENTIVE_HOP_BACK);
      if (rr->day == day)
        spent = rr->spent;
    }
  gint64 want = inc->r.reward_minor * legs;
  gint64 left_rider = inc->r.cap_per_rider_day_minor - spent;
  if (left_rider <= 0)
    return refuse (inc, FT_INCENTIVE_RIDER_CAP);
  gint64 left_budget = inc->r.budget_per_day_minor - ft_incentives_paid_on_day (inc, day);
  if (left_budget <= 0)
    return refuse (inc, FT_INCENTIVE_BUDGET);
  *amount = MIN (want, MIN (left_rider, left_budget));
  return FT_INCENTIVE_REWARDED;
}

void
ft_incentives_record (FtIncentives *inc, guint rider, gint from_zone, gint to_zone, gint64 amount,
                      FtTime now)
{
  g_return_if_fail (inc != NULL && amount >= 0);
  gint64 day = now / FT_DAY;
  RiderRec *rr = g_hash_table_lookup (inc->riders, GUINT_TO_POINTER (rider + 1));
  if (rr == NULL)
    {
      rr = g_new0 (RiderRec, 1);
      g_hash_table_insert (inc->riders, GUINT_TO_POINTER (rider + 1), rr);
    }
  if (rr->day != day)
    rr->day = day, rr->spent = 0;
  rr->spent += amount;
  rr->last_t = now;
  rr->last_from = from_zone;
  rr->last_to = to_zone;
  gint64 *p = g_hash_table_lookup (inc->days, &day);
  if (p == NULL)
    {
      gint64 *k = g_new (gint64, 1);
      *k = day;
      p = g_new0 (gint64, 1);
      g_hash_table_insert (inc->days, k, p);
    }
  *p += amount;
  inc->paid += amount;
  inc->n_rewarded++;
}

gint64
ft_incentives_paid_minor (const FtIncentives *inc)
{
  g_return_val_if_fail (inc != NULL, 0);
  return inc->paid;
}

guint64
ft_incentives_n_rewarded (const FtIncentives *inc)
{
  g_return_val_if_fail (inc != NULL, 0);
  return inc->n_rewarded;
}

guint64
ft_incentives_n_refused (const FtIncentives *inc, FtIncentiveVerdict why)
{
  g_return_val_if_fail (inc != NULL && (guint) why < FT_N_INCENTIVE_VERDICTS, 0);
  return inc->refused[why];
}

gint64
ft_incentives_budget_left (const FtIncentives *inc, FtTime now)
{
  g_return_val_if_fail (inc != NULL, 0);
  return MAX (0, inc->r.budget_per_day_minor - ft_incentives_paid_on_day (inc, now / FT_DAY));
}

gboolean
ft_incentives_booking_rewarded (const FtIncentives *inc, gint64 ref)
{
  g_return_val_if_fail (inc != NULL, FALSE);
  return g_hash_table_contains (inc->bookings, &ref);
}

void
ft_incentives_record_booking (FtIncentives *inc, gint64 ref)
{
  g_return_if_fail (inc != NULL);
  gint64 *k = g_new (gint64, 1);
  *k = ref;
  g_hash_table_add (inc->bookings, k);
}
