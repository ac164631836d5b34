/* ft-dynamic-pricing.c — per-zone multipliers inside guard rails (floor,
 * cap, maximum change per interval, emergency cap, protected zones), the
 * utilisation-step baseline and the forecast/elasticity optimiser. Every
 * value that leaves ft_dyn_pricing_guard is inside the rails; apply stores
 * only guarded values, so no other path can set a multiplier.
 */
#include "ft-dynamic-pricing.h"

#include <math.h>
#include <string.h>

struct _FtDynPricing {
  FtDynGuards g;
  guint       n;
  double     *mult;
  gboolean   *protected_;
  gboolean    emergency;
  guint64     n_changes;
};

void
ft_dyn_guards_init (FtDynGuards *g)
{
  g_return_if_fail (g != NULL);
  g->floor = 1.0;
  g->cap = 1.5;
  g->step = 0.1;
  g->max_change = 0.2;
  g->emergency_cap = 1.0;
  g->interval = 15 * FT_MINUTE;
}

gboolean
ft_dyn_guards_check (const FtDynGuards *g, GError **error)
{
  g_return_val_if_fail (g != NULL, FALSE);
  if (!(g->floor > 0 && g->floor <= 10))
    {
      g_set_error (error, FT_PRICING_ERROR, FT_PRICING_ERROR_INVALID,
                   "floor %g must be above 0 and at most 10", g->floor);
      return FALSE;
    }
  if (!(g->cap > 0 && g->cap <= 10))
    {
      g_set_error (error, FT_PRICING_ERROR, FT_PRICING_ERROR_INVALID,
                   "cap %g must be above 0 and at most 10", g->cap);
      return FALSE;
    }
  if (g->floor > g->cap)
    {
      g_set_error (error, FT_PRICING_ERROR, FT_PRICING_ERROR_INVALID,
                   "floor %g is above cap %g", g->floor, g->cap);
      return FALSE;
    }
  if (!(g->step > 0 && g->step <= 1))
    {
      g_set_error (error, FT_PRICING_ERROR, FT_PRICING_ERROR_INVALID,
                   "step %g must be above 0 and at most 1", g->step);
      return FALSE;
    }
  if (!(g->max_change > 0 && g->max_change <= 10))
    {
      g_set_error (error, FT_PRICING_ERROR, FT_PRICING_ERROR_INVALID,
                   "max_change %g must be above 0 and at most 10", g->max_change);
      return FALSE;
    }
  if (!(g->emergency_cap >= g->floor && g->emergency_cap <= g->cap))
    {
      g_set_error (error, FT_PRICING_ERROR, FT_PRICING_ERROR_INVALID,
                   "emergency_cap %g must lie between floor %g and cap %g",
                   g->emergency_cap, g->floor, g->cap);
      return FALSE;
    }
  if (g->interval < FT_SECOND)
    {
      g_set_error (error, FT_PRICING_ERROR, FT_PRICING_ERROR_INVALID,
                   "interval %" G_GINT64_FORMAT " ms must be at least one second", g->interval);
      return FALSE;
    }
  return TRUE;
}

static const char *const policy_names[] = { "off", "utilisation", "optimise" };
static const char *const objective_names[] = { "revenue", "trips", "margin" };

const char *
ft_dyn_policy_name (FtDynPolicy p)
{
  return (guint) p < G_N_ELEMENTS (policy_names) ? policy_names[p] : "unknown";
}

gboolean
ft_dyn_policy_parse (const char *s, FtDynPolicy *out)
{
  for (guint i = 0; s != NULL && i < G_N_ELEMENTS (policy_names); i++)
    if (g_ascii_strcasecmp (s, policy_names[i]) == 0)
      {
        *out = (FtDynPolicy) i;
        return TRUE;
      }
  return FALSE;
}

const char *
ft_dyn_objective_name (FtDynObjective o)
{
  return (guint) o < G_N_ELEMENTS (objective_names) ? objective_names[o] : "unknown";
}

gboolean
ft_dyn_objective_parse (const char *s, FtDynObjective *out)
{
  for (guint i = 0; s != NULL && i < G_N_ELEMENTS (objective_names); i++)
    if (g_ascii_strcasecmp (s, objective_names[i]) == 0)
      {
        *out = (FtDynObjective) i;
        return TRUE;
      }
  return FALSE;
}

FtDynPricing *
ft_dyn_pricing_new (guint n_zones, const FtDynGuards *g, GError **error)
{
  FtDynGuards def;
  if (g == NULL)
    {
      ft_dyn_guards_init (&def);
      g = &def;
    }
  if (!ft_dyn_guards_check (g, error))
    return NULL;
  FtDynPricing *dp = g_new0 (FtDynPricing, 1);
  dp->g = *g;
  dp->n = n_zones;
  dp->mult = g_new (double, MAX (n_zones, 1));
  dp->protected_ = g_new0 (gboolean, MAX (n_zones, 1));
  double start = CLAMP (1.0, g->floor, g->cap);
  for (guint z = 0; z < n_zones; z++)
    dp->mult[z] = start;
  return dp;
}

void
ft_dyn_pricing_free (FtDynPricing *dp)
{
  if (dp == NULL)
    return;
  g_free (dp->mult);
  g_free (dp->protected_);
  g_free (dp);
}

guint
ft_dyn_pricing_n_zones (const FtDynPricing *dp)
{
  g_return_val_if_fail (dp != NULL, 0);
  return dp->n;
}

const FtDynGuards *
ft_dyn_pricing_guards (const FtDynPricing *dp)
{
  g_return_val_if_fail (dp != NULL, NULL);
  return &dp->g;
}

static double
effective_cap (const FtDynPricing *dp)
{
  return dp->emergency ? MIN (dp->g.cap, dp->g.emergency_cap) : dp->g.cap;
}

/* Protected zones keep the plan price (1.0) whatever the rails allow. */
static double
protected_value (const FtDynPricing *dp)
{
  return CLAMP (1.0, dp->g.floor, effective_cap (dp));
}

void
ft_dyn_pricing_set_protected (FtDynPricing *dp, guint zone, gboolean protected_)
{
  g_return_if_fail (dp != NULL && zone < dp->n);
  dp->protected_[zone] = protected_;
  if (protected_)
    dp->mult[zone] = protected_value (dp);
}

gboolean
ft_dyn_pricing_is_protected (const FtDynPricing *dp, guint zone)
{
  g_return_val_if_fail (dp != NULL, FALSE);
  return zone < dp->n && dp->protected_[zone];
}

void
ft_dyn_pricing_set_emergency (FtDynPricing *dp, gboolean on)
{
  g_return_if_fail (dp != NULL);
  dp->emergency = on;
  double cap = effective_cap (dp);
  for (guint z = 0; z < dp->n; z++)
    if (dp->mult[z] > cap)
      {
        dp->mult[z] = cap;
        dp->n_changes++;
      }
}

gboolean
ft_dyn_pricing_emergency (const FtDynPricing *dp)
{
  g_return_val_if_fail (dp != NULL, FALSE);
  return dp->emergency;
}

double
ft_dyn_pricing_get (const FtDynPricing *dp, guint zone)
{
  g_return_val_if_fail (dp != NULL, 1.0);
  return zone < dp->n ? dp->mult[zone] : 1.0;
}

/* Values on the step grid, free of binary noise (1.2000000000000002). */
static double
tidy (double x)
{
  return round (x * 1e6) / 1e6;
}

double
ft_dyn_pricing_guard (const FtDynPricing *dp, guint zone, double proposed)
{
  g_return_val_if_fail (dp != NULL, 1.0);
  if (zone >= dp->n)
    return 1.0;
  if (dp->protected_[zone])
    return protected_value (dp);
  double cur = dp->mult[zone];
  double v = isfinite (proposed) ? tidy (round (proposed / dp->g.step) * dp->g.step) : cur;
  /* at most max_change from the current value (a little slack for the
   * decimal steps: 1.2 - 1.0 is 0.19999999999999996) */
  if (v > cur + dp->g.max_change + 1e-9)
    v = tidy (cur + dp->g.max_change);
  if (v < cur - dp->g.max_change - 1e-9)
    v = tidy (cur - dp->g.max_change);
  /* the rails last, so nothing leaves them (a cap that forces a larger
   * drop, as a declared emergency does, wins over max_change) */
  return CLAMP (v, dp->g.floor, effective_cap (dp));
}

gboolean
ft_dyn_pricing_apply_zone (FtDynPricing *dp, guint zone, double proposed)
{
  g_return_val_if_fail (dp != NULL, FALSE);
  if (zone >= dp->n)
    return FALSE;
  double v = ft_dyn_pricing_guard (dp, zone, proposed);
  if (fabs (v - dp->mult[zone]) < 1e-9)
    return FALSE;
  dp->mult[zone] = v;
  dp->n_changes++;
  return TRUE;
}

gboolean
ft_dyn_pricing_restore_zone (FtDynPricing *dp, guint zone, double value)
{
  g_return_val_if_fail (dp != NULL, FALSE);
  if (zone >= dp->n || !isfinite (value))
    return FALSE;
  double v = dp->protected_[zone] ? protected_value (dp)
                                  : CLAMP (tidy (round (value / dp->g.step) * dp->g.step), dp->g.floor,
                                           effective_cap (dp));
  if (fabs (v - dp->mult[zone]) < 1e-9)
    return FALSE;
  dp->mult[zone] = v;
  dp->n_changes++;
  return TRUE;
}

guint
ft_dyn_pricing_apply (FtDynPricing *dp, const double *proposed, guint *changed_out)
{
  g_return_val_if_fail (dp != NULL && proposed != NULL, 0);
  guint n = 0;
  for (guint z = 0; z < dp->n; z++)
    if (ft_dyn_pricing_apply_zone (dp, z, proposed[z]))
      {
        if (changed_out != NULL)
          changed_out[n] = z;
        n++;
      }
  return n;
}

guint64
ft_dyn_pricing_n_changes (const FtDynPricing *dp)
{
  g_return_val_if_fail (dp != NULL, 0);
  return dp->n_changes;
}

double
ft_dyn_propose_utilisation (double current, double expected_demand, double available,
                            double low, double high, double step)
{
  double u = available > 0 ? expected_demand / available : (expected_demand > 0 ? G_MAXDOUBLE : 0);
  if (u > high)
    return current + step;
  if (u < low)
    return current - step;
  return current;
}

static double
served_at (const FtDynZoneInput *in, double m)
{
  double d = in->expected_demand * (m >= 1.0 ? pow (m, in->elasticity) : 1.0);
  return MIN (d, MAX (in->available, 0.0));
}

double
ft_dyn_optimise (const FtDynZoneInput *in, FtDynObjective objective, double lo, double hi, double step)
{
  g_return_val_if_fail (in != NULL && step > 0, 1.0);
  if (!(lo <= hi))
    return lo;
  double best_m = lo, best = -G_MAXDOUBLE;
  /* margin, when no multiplier meets the floor: most served, then margin */
  double alt_m = lo, alt_s = -1, alt_v = -G_MAXDOUBLE;
  gboolean any_ok = FALSE;
  double d1 = in->expected_demand;
  guint n = (guint) floor ((hi - lo) / step + 1e-9) + 1;
  for (guint i = 0; i < n; i++)
    {
      double m = tidy (lo + i * step);
      double s = served_at (in, m);
      double val;
      switch (objective)
        {
        case FT_DYN_OBJECTIVE_TRIPS:
          val = s;
          break;
        case FT_DYN_OBJECTIVE_MARGIN:
          val = (m * in->fare_minor - in->cost_per_trip_minor) * s;
          if (d1 > 0 && s / d1 + 1e-12 < in->service_floor)
            {
              if (s > alt_s + 1e-9 || (fabs (s - alt_s) <= 1e-9 && val > alt_v + 1e-9))
                alt_s = s, alt_v = val, alt_m = m;
              continue;
            }
          break;
        case FT_DYN_OBJECTIVE_REVENUE:
        default:
          val = m * in->fare_minor * s;
          break;
        }
      any_ok = TRUE;
      /* strict: ties go to the lower multiplier */
      if (val > best + 1e-9)
        best = val, best_m = m;
    }
  return any_ok ? best_m : alt_m;
}

double
ft_dyn_pricing_hook (FtLatLon start, FtTime at, guint vehicle_kind, gpointer hook)
{
  const FtDynHook *h = hook;
  if (h == NULL || h->dp == NULL || h->locate == NULL)
    return 1.0;
  gint z = h->locate (start, h->locate_data);
  return z >= 0 ? ft_dyn_pricing_get (h->dp, (guint) z) : 1.0;
}
