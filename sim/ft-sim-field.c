/* ft-sim-field.c — field designs: which keys can be split per unit, the
 * scenario the one world of a field design runs, and the assignment of
 * riders, zones and time slices to arms from a hash of the unit and a salt.
 */
#include "ft-sim-field.h"
#include "ft-sim-world.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

const char *const ft_sim_field_metrics[] = { "trips_requested", "trips_served", "trips_lost", "revenue_minor",
                                             "service_level", NULL };

gboolean
ft_sim_field_metric_ok (const char *metric)
{
  return metric && g_strv_contains ((const char *const *) ft_sim_field_metrics, metric);
}

static const char *const design_names[] = { "rider", "zone", "switchback" };

const char *
ft_sim_field_design_name (FtSimFieldDesign d)
{
  return d < FT_SIM_FIELD_N_DESIGNS ? design_names[d] : "?";
}

gboolean
ft_sim_field_design_parse (const char *s, FtSimFieldDesign *out)
{
  for (guint i = 0; i < FT_SIM_FIELD_N_DESIGNS; i++)
    if (g_strcmp0 (s, design_names[i]) == 0)
      {
        *out = (FtSimFieldDesign) i;
        return TRUE;
      }
  return FALSE;
}

static gboolean
dyn_on (const FtSimScenario *sc)
{
  return sc->dyn_policy != NULL && strcmp (sc->dyn_policy, "off") != 0;
}

static gboolean
is_elasticity (const FtSimScenarioKey *k)
{
  return strcmp (k->group, "dynamic_pricing") == 0 && g_str_has_suffix (k->key, "_elasticity");
}

FtSimScenario *
ft_sim_field_world_scenario (const FtSimScenario *control, const FtSimScenario *treated, FtSimFieldDesign design,
                             GError **error)
{
  g_return_val_if_fail (control != NULL && treated != NULL, NULL);
  const char *dn = ft_sim_field_design_name (design);
  g_autoptr (FtSimScenario) sc = ft_sim_scenario_copy (control);
  gboolean dyn_c = dyn_on (control), dyn_t = dyn_on (treated);
  gboolean inc_c = control->inc_enabled, inc_t = treated->inc_enabled;
  guint nk = 0;
  const FtSimScenarioKey *keys = ft_sim_scenario_keys (&nk);
  for (guint i = 0; i < nk; i++)
    {
      const FtSimScenarioKey *k = &keys[i];
      g_autofree char *a = ft_sim_scenario_get_value (control, k);
      g_autofree char *b = ft_sim_scenario_get_value (treated, k);
      if (g_strcmp0 (a, b) == 0)
        continue;
      gboolean dyn = strcmp (k->group, "dynamic_pricing") == 0, inc = strcmp (k->group, "incentives") == 0;
      if (dyn && is_elasticity (k))
        {
          /* read per unit; the policy's fleet elasticity is the pricing arm's */
          if (dyn_t && !dyn_c && !ft_sim_scenario_set_value (sc, k, b, error))
            return NULL;
          continue;
        }
      if ((dyn && dyn_c != dyn_t) || (inc && inc_c != inc_t))
        {
          /* the lever is on in one arm only: the world runs it with that
           * arm's settings, and only that arm's units see it */
          if (((dyn && dyn_t) || (inc && inc_t)) && !ft_sim_scenario_set_value (sc, k, b, error))
            return NULL;
          continue;
        }
      if (dyn || inc)
        g_set_error (error, FT_SIM_ERROR, FT_SIM_ERROR_SETUP,
                     "%s.%s: both arms have %s on with different settings; a %s design splits %s on against "
                     "off (run the settings against each other as a crn design)", k->group, k->key,
                     dyn ? "dynamic pricing" : "incentives", dn, dyn ? "dynamic pricing" : "incentives");
      else
        g_set_error (error, FT_SIM_ERROR, FT_SIM_ERROR_SETUP,
                     "%s.%s: cannot be split per unit in a %s design (a field design splits dynamic pricing, "
                     "incentives and price elasticity; run other keys as a crn design)", k->group, k->key, dn);
      return NULL;
    }
  return g_steal_pointer (&sc);
}

/* splitmix64 of the salt and the unit */
guint64
ft_sim_field_hash (guint64 salt, guint64 unit)
{
  guint64 z = salt + 0x9e3779b97f4a7c15ull * (unit + 1);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return z ^ (z >> 31);
}

static double
hash_uniform (guint64 salt, guint64 unit)
{
  return (double) (ft_sim_field_hash (salt, unit) >> 11) * 0x1.0p-53;
}

gboolean
ft_sim_field_rider_treated (const FtSimFieldSpec *f, guint rider)
{
  return hash_uniform (f->salt, rider) < f->share;
}

typedef struct {
  guint  z;
  double key;
} ZoneKey;

static int
zone_key_cmp (const void *pa, const void *pb)
{
  const ZoneKey *a = pa, *b = pb;
  if (a->key != b->key)
    return a->key < b->key ? -1 : 1;
  return a->z < b->z ? -1 : a->z > b->z;
}

void
ft_sim_field_assign_zones (const FtSimFieldSpec *f, guint nz, const double *weight, gboolean *treated)
{
  g_autofree ZoneKey *zk = g_new (ZoneKey, MAX (nz, 1u));
  for (guint z = 0; z < nz; z++)
    {
      zk[z].z = z;
      /* balanced: by demand, most first; else in a random order */
      zk[z].key = f->balanced && weight ? -weight[z] : hash_uniform (f->salt, z);
      treated[z] = FALSE;
    }
  qsort (zk, nz, sizeof *zk, zone_key_cmp);
  if (!f->balanced)
    {
      guint nt = (guint) floor (f->share * nz + 0.5);
      for (guint i = 0; i < nt && i < nz; i++)
        treated[zk[i].z] = TRUE;
      return;
    }
  /* pairs of zones of like demand; how many of a pair are treated follows
   * the share cumulatively (one each at 0.5), which ones by the hash */
  guint done = 0;
  for (guint i = 0; i < nz; i += 2)
    {
      guint m = MIN (2u, nz - i);
      guint want = (guint) floor (f->share * (i + m) + 0.5) - done;
      want = MIN (want, m);
      done += want;
      if (want == m)
        for (guint j = 0; j < m; j++)
          treated[zk[i + j].z] = TRUE;
      else if (want == 1)
        treated[zk[i + (m == 2 && (ft_sim_field_hash (f->salt, 1000000u + i) & 1) ? 1 : 0)].z] = TRUE;
    }
}

gboolean
ft_sim_field_slice_treated (const FtSimFieldSpec *f, guint slice)
{
  if (f->randomised)
    return hash_uniform (f->salt, slice) < f->share;
  if (f->share <= 0)
    return FALSE;
  if (f->share >= 1)
    return TRUE;
  /* alternating, from an arm the salt picks */
  return ((slice + (guint) (ft_sim_field_hash (f->salt, 0) & 1)) & 1) == 0;
}
