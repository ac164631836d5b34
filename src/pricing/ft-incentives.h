/* ft-incentives.h — relocation incentives (the way Citi Bike's Bike Angels
 * works): offers for starting a trip in a zone with surplus vehicles or
 * ending it in a zone with an expected shortfall, recomputed every few
 * minutes by the caller, and the rules that decide whether a finished trip
 * earns its reward: a budget per day, a cap per rider and day, and
 * anti-gaming rules (a minimum distance, a cool-down between rewards, and
 * no reward for hopping back along a rewarded trip). This module decides
 * and remembers; the core pays through payments (own ledger accounts).
 * Zones are plain indices; the caller maps positions to zones.
 */
#pragma once

#include "ft-pricing.h"

G_BEGIN_DECLS

typedef struct {
  gint64 reward_minor;            /* per rewarded leg (start or end); default 100 */
  gint64 budget_per_day_minor;    /* all riders, per day (t / FT_DAY); default 20000 */
  gint64 cap_per_rider_day_minor; /* default 300 */
  double min_distance_m;          /* straight line start to end; default 400 */
  FtTime cooldown;                /* between two rewards of one rider; default 20 min */
  FtTime hop_back_window;         /* B->A after a rewarded A->B; default 2 h */
  FtTime recompute;               /* how often the caller recomputes offers; default 15 min */
} FtIncentiveRules;

void     ft_incentive_rules_init  (FtIncentiveRules *r);
/* Refuses negative amounts, distances or times, and a recompute period
 * under a minute; the message names the field ("budget_per_day_minor -5
 * must be >= 0"). */
gboolean ft_incentive_rules_check (const FtIncentiveRules *r, GError **error);

typedef enum {
  FT_INCENTIVE_REWARDED = 0,
  FT_INCENTIVE_NO_OFFER,          /* neither leg was offered */
  FT_INCENTIVE_TOO_SHORT,         /* under min_distance_m */
  FT_INCENTIVE_SAME_ZONE,         /* started and ended in one zone */
  FT_INCENTIVE_COOLDOWN,
  FT_INCENTIVE_HOP_BACK,
  FT_INCENTIVE_RIDER_CAP,
  FT_INCENTIVE_BUDGET,
  FT_INCENTIVE_ALREADY_PAID,      /* this booking was rewarded before */
  FT_N_INCENTIVE_VERDICTS
} FtIncentiveVerdict;

const char *ft_incentive_verdict_name (FtIncentiveVerdict v);

typedef struct _FtIncentives FtIncentives;

FtIncentives *ft_incentives_new      (guint n_zones, const FtIncentiveRules *rules, GError **error);
void          ft_incentives_free     (FtIncentives *inc);
const FtIncentiveRules *ft_incentives_rules (const FtIncentives *inc);
guint         ft_incentives_n_zones  (const FtIncentives *inc);
/* Replace the offers: start[z] (surplus: start here), end[z] (shortfall:
 * end here); either may be NULL (no offers of that kind). */
void          ft_incentives_set_offers (FtIncentives *inc, const gboolean *start, const gboolean *end);
gboolean      ft_incentives_start_offered (const FtIncentives *inc, gint zone);
gboolean      ft_incentives_end_offered   (const FtIncentives *inc, gint zone);
guint         ft_incentives_n_offers (const FtIncentives *inc);
/* The reward a finished trip earns under the rules, without recording it.
 * start_shown / end_shown: the offers the rider saw when booking (offers
 * are fixed when shown). *amount gets the reward (0 unless REWARDED); a
 * reward that would pass the rider cap or the day's budget is cut to what
 * is left (and refused if nothing is). */
FtIncentiveVerdict ft_incentives_evaluate (FtIncentives *inc, guint rider, gint from_zone, gint to_zone,
                                           FtLatLon from, FtLatLon to, gboolean start_shown,
                                           gboolean end_shown, FtTime now, gint64 *amount);
/* Whether booking `ref` was rewarded (ft_incentives_record_booking). */
gboolean      ft_incentives_booking_rewarded (const FtIncentives *inc, gint64 ref);
void          ft_incentives_record_booking   (FtIncentives *inc, gint64 ref);
/* Record a paid reward (after the payment went through). */
void          ft_incentives_record   (FtIncentives *inc, guint rider, gint from_zone, gint to_zone,
                                      gint64 amount, FtTime now);
/* Totals since creation. */
gint64        ft_incentives_paid_minor   (const FtIncentives *inc);
guint64       ft_incentives_n_rewarded   (const FtIncentives *inc);
guint64       ft_incentives_n_refused    (const FtIncentives *inc, FtIncentiveVerdict why);
gint64        ft_incentives_paid_on_day  (const FtIncentives *inc, gint64 day);
/* What is left of the budget on the day of `now`; offers are not worth
 * showing when it is 0. */
gint64        ft_incentives_budget_left  (const FtIncentives *inc, FtTime now);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (FtIncentives, ft_incentives_free)

G_END_DECLS
