/* ft-sim-experiment.c — experiment files (base scenario, variants checked
 * through the scenario key table, metrics from the KPI table, replications,
 * design, sweeps) and the runner of one cell (replication x variant), which
 * writes its run and metric rows into a results database.
 */
#include "ft-sim-experiment.h"
#include "ft-sim-world.h"
#include "ft-file.h"

#include <gsl/gsl_rng.h>
#include <gsl/gsl_randist.h>
#include <math.h>
#include <string.h>

#define MAX_CELLS 1000000u
#define MAX_SWEEP_POINTS 10000u

static void
variant_free (FtSimVariant *v)
{
  if (v == NULL)
    return;
  g_free (v->name);
  g_strfreev (v->keys);
  g_strfreev (v->values);
  g_free (v->overrides);
  g_free (v);
}

void
ft_sim_experiment_free (FtSimExperiment *e)
{
  if (e == NULL)
    return;
  g_free (e->path);
  g_free (e->text);
  g_free (e->name);
  g_free (e->base_path);
  ft_sim_scenario_free (e->base);
  g_free (e->design);
  g_strfreev (e->metrics);
  g_strfreev (e->field_metrics);
  if (e->variants)
    g_ptr_array_unref (e->variants);
  g_free (e->hash);
  g_free (e->sweep_method);
  g_free (e->pareto_x);
  g_free (e->pareto_y);
  g_free (e);
}

static gboolean
fail (GError **error, const char *where, const char *fmt, ...) G_GNUC_PRINTF (3, 4);

static gboolean
fail (GError **error, const char *where, const char *fmt, ...)
{
  va_list ap;
  va_start (ap, fmt);
  g_autofree char *msg = g_strdup_vprintf (fmt, ap);
  va_end (ap);
  g_set_error (error, FT_EXP_ERROR, FT_EXP_ERROR_FILE, "%s: %s", where, msg);
  return FALSE;
}

/* [group] key as a string (NULL when absent); FALSE with error set, naming
 * the key, when its value is not a valid string. */
static gboolean
get_string (GKeyFile *kf, const char *group, const char *key, const char *where, char **out,
            GError **error)
{
  g_autoptr(GError) e = NULL;
  *out = ft_key_file_get_string (kf, group, key, &e);
  if (e != NULL)
    return fail (error, where, "[%s] %s: %s", group, key, e->message);
  return TRUE;
}

/* "group.key" -> the table's key; refuses keys a design sets itself. */
static const FtSimScenarioKey *
variant_key (const char *gk, const char *where, const char *vname, GError **error)
{
  const char *dot = strchr (gk, '.');
  if (dot == NULL)
    {
      fail (error, where, "[%s] %s: a scenario key is written group.key (e.g. fleet.scooters)", vname, gk);
      return NULL;
    }
  g_autofree char *group = g_strndup (gk, dot - gk);
  const FtSimScenarioKey *k = ft_sim_scenario_find_key (group, dot + 1);
  if (k == NULL)
    {
      fail (error, where, "[%s] %s: unknown scenario key (see the keys of scenarios/demo-city-phase1.scenario)",
            vname, gk);
      return NULL;
    }
  if (strcmp (group, "scenario") == 0 && (strcmp (dot + 1, "seed") == 0 || strcmp (dot + 1, "replication") == 0))
    {
      fail (error, where, "[%s] %s: the design sets the seed and streams of every run; a variant may not", vname, gk);
      return NULL;
    }
  return k;
}

/* Applies v's overrides to sc (a copy of the base), checking each value
 * and then the scenario's cross-key rules; errors name the variant and key. */
static gboolean
apply_variant (FtSimScenario *sc, const FtSimVariant *v, const char *where, GError **error)
{
  g_autofree char *label = g_strdup_printf ("variant %s", v->name);
  for (guint i = 0; i < v->n; i++)
    {
      g_autoptr (GError) local = NULL;
      const FtSimScenarioKey *k = variant_key (v->keys[i], where, label, error);
      if (k == NULL)
        return FALSE;
      if (!ft_sim_scenario_set_value (sc, k, v->values[i], &local))
        return fail (error, where, "[variant %s] %s: %s", v->name, v->keys[i], local->message);
    }
  g_autoptr (GError) local = NULL;
  if (!ft_sim_scenario_check (sc, &local))
    return fail (error, where, "[variant %s] breaks a scenario rule: %s", v->name, local->message);
  return TRUE;
}

static FtSimVariant *
variant_new (const char *name, GPtrArray *keys, GPtrArray *values)
{
  FtSimVariant *v = g_new0 (FtSimVariant, 1);
  v->name = g_strdup (name);
  v->n = keys->len;
  v->keys = g_new0 (char *, keys->len + 1);
  v->values = g_new0 (char *, keys->len + 1);
  GString *ov = g_string_new (NULL);
  for (guint i = 0; i < keys->len; i++)
    {
      v->keys[i] = g_strdup (keys->pdata[i]);
      v->values[i] = g_strdup (values->pdata[i]);
      g_string_append_printf (ov, "%s%s=%s", i ? "\n" : "", v->keys[i], v->values[i]);
    }
  v->overrides = g_string_free (ov, FALSE);
  return v;
}

static gboolean
is_whole (FtSimKeyType t)
{
  return t == FT_SIM_KEY_UINT || t == FT_SIM_KEY_UINT64 || t == FT_SIM_KEY_INT64;
}

/* [sweep]: the grid (every combination of the listed values) or a Latin
 * hypercube of `points` points over lo..hi ranges, as variants p001 … */
static gboolean
parse_sweep (FtSimExperiment *e, GKeyFile *kf, const char *where, GError **error)
{
  g_autofree char *method = NULL;
  if (!get_string (kf, "sweep", "method", where, &method, error))
    return FALSE;
  e->sweep = TRUE;
  e->sweep_method = g_strstrip (g_strdup (method ? method : "grid"));
  if (strcmp (e->sweep_method, "grid") != 0 && strcmp (e->sweep_method, "lhs") != 0)
    return fail (error, where, "[sweep] method: '%s' is not grid or lhs", e->sweep_method);
  gboolean lhs = strcmp (e->sweep_method, "lhs") == 0;
  guint points = 0;
  guint64 seed = 1;
  gsize n = 0;
  g_auto (GStrv) keys = g_key_file_get_keys (kf, "sweep", &n, NULL);
  g_autoptr (GPtrArray) dim_keys = g_ptr_array_new ();
  g_autoptr (GPtrArray) dim_vals = g_ptr_array_new_with_free_func ((GDestroyNotify) g_strfreev);
  GArray *lo = g_array_new (FALSE, FALSE, sizeof (double)), *hi = g_array_new (FALSE, FALSE, sizeof (double));
  gboolean ok = TRUE;
  for (gsize i = 0; ok && i < n; i++)
    {
      g_autofree char *raw = g_key_file_get_value (kf, "sweep", keys[i], NULL);
      g_strstrip (raw);
      if (strcmp (keys[i], "method") == 0)
        continue;
      if (strcmp (keys[i], "points") == 0 || strcmp (keys[i], "seed") == 0)
        {
          char *end = NULL;
          guint64 v = g_ascii_strtoull (raw, &end, 10);
          if (end == raw || *end || (strcmp (keys[i], "points") == 0 && (v == 0 || v > MAX_SWEEP_POINTS)))
            ok = fail (error, where, "[sweep] %s: '%s' is not a whole number%s", keys[i], raw,
                       strcmp (keys[i], "points") == 0 ? " from 1 to 10000" : "");
          else if (strcmp (keys[i], "points") == 0)
            points = (guint) v;
          else
            seed = v;
          continue;
        }
      if (strcmp (keys[i], "pareto_x") == 0 || strcmp (keys[i], "pareto_y") == 0)
        {
          if (ft_sim_kpi_find (raw) == NULL)
            ok = fail (error, where, "[sweep] %s: '%s' is not a KPI name", keys[i], raw);
          else if (keys[i][7] == 'x')
            e->pareto_x = g_strdup (raw);
          else
            e->pareto_y = g_strdup (raw);
          continue;
        }
      const FtSimScenarioKey *k = variant_key (keys[i], where, "sweep", error);
      if (k == NULL)
        {
          ok = FALSE;
          break;
        }
      if (lhs)
        {
          char *dots = strstr (raw, "..");
          g_autofree char *first = dots ? g_strndup (raw, dots - raw) : NULL;
          char *e1 = NULL, *e2 = NULL;
          double a = dots ? g_ascii_strtod (first, &e1) : NAN, b = dots ? g_ascii_strtod (dots + 2, &e2) : NAN;
          if (!dots || e1 == first || *e1 || e2 == dots + 2 || *e2 || !(a <= b))
            ok = fail (error, where, "[sweep] %s: a Latin hypercube needs a range lo..hi (got '%s')", keys[i], raw);
          g_ptr_array_add (dim_keys, keys[i]);
          g_array_append_val (lo, a);
          g_array_append_val (hi, b);
        }
      else
        {
          char **vals = g_strsplit (raw, ",", -1);
          for (guint j = 0; vals[j]; j++)
            g_strstrip (vals[j]);
          if (vals[0] == NULL || *vals[0] == '\0')
            ok = fail (error, where, "[sweep] %s: a grid needs a list of values (a, b, c)", keys[i]);
          g_ptr_array_add (dim_keys, keys[i]);
          g_ptr_array_add (dim_vals, vals);
        }
    }
  if (ok && dim_keys->len == 0)
    ok = fail (error, where, "[sweep]: no scenario key to sweep over (e.g. fleet.scooters = 500, 700, 900)");
  if (ok && lhs && points == 0)
    ok = fail (error, where, "[sweep] points: a Latin hypercube needs the number of points");
  if (ok && lhs)
    {
      gsl_rng *r = gsl_rng_alloc (gsl_rng_mt19937);
      gsl_rng_set (r, (unsigned long) seed);
      guint nd = dim_keys->len;
      g_autofree size_t *perm = g_new (size_t, (gsize) points * nd);
      for (guint d = 0; d < nd; d++)
        {
          for (guint p = 0; p < points; p++)
            perm[d * points + p] = p;
          gsl_ran_shuffle (r, perm + (gsize) d * points, points, sizeof (size_t));
        }
      for (guint p = 0; p < points; p++)
        {
          g_autoptr (GPtrArray) ks = g_ptr_array_new ();
          g_autoptr (GPtrArray) vs = g_ptr_array_new_with_free_func (g_free);
          for (guint d = 0; d < nd; d++)
            {
              double u = (perm[d * points + p] + gsl_rng_uniform (r)) / points;
              double a = g_array_index (lo, double, d), b = g_array_index (hi, double, d);
              const FtSimScenarioKey *k = variant_key (dim_keys->pdata[d], where, "sweep", NULL);
              double v = a + u * (b - a);
              char buf[64];
              if (is_whole (k->type))
                g_snprintf (buf, sizeof buf, "%.0f", floor (v + 0.5));
              else
                g_ascii_formatd (buf, sizeof buf, "%.4g", v);
              g_ptr_array_add (ks, dim_keys->pdata[d]);
              g_ptr_array_add (vs, g_strdup (buf));
            }
          g_autofree char *name = g_strdup_printf ("p%03u", p + 1);
          g_ptr_array_add (e->variants, variant_new (name, ks, vs));
        }
      gsl_rng_free (r);
    }
  else if (ok)
    {
      guint nd = dim_keys->len;
      guint64 total = 1;
      for (guint d = 0; d < nd; d++)
        total *= g_strv_length (dim_vals->pdata[d]);
      if (total > MAX_SWEEP_POINTS)
        ok = fail (error, where, "[sweep]: the grid has %" G_GUINT64_FORMAT " points (at most %u)", total,
                   MAX_SWEEP_POINTS);
      for (guint64 p = 0; ok && p < total; p++)
        {
          g_autoptr (GPtrArray) ks = g_ptr_array_new ();
          g_autoptr (GPtrArray) vs = g_ptr_array_new_with_free_func (g_free);
          guint64 rest = p;
          for (guint d = nd; d-- > 0;)
            {
              char **vals = dim_vals->pdata[d];
              guint m = g_strv_length (vals);
              g_ptr_array_insert (ks, 0, dim_keys->pdata[d]);
              g_ptr_array_insert (vs, 0, g_strdup (vals[rest % m]));
              rest /= m;
            }
          g_autofree char *name = g_strdup_printf ("p%03u", (guint) p + 1);
          g_ptr_array_add (e->variants, variant_new (name, ks, vs));
        }
    }
  g_array_unref (lo);
  g_array_unref (hi);
  if (ok && e->pareto_x == NULL)
    e->pareto_x = g_strdup ("staff_hours");
  if (ok && e->pareto_y == NULL)
    e->pareto_y = g_strdup ("service_level");
  /* dim_keys borrows `keys`: drop it before they go */
  g_ptr_array_set_size (dim_keys, 0);
  return ok;
}

/* design = rider, zone, switchback (one or a list, each once) */
static gboolean
parse_field_designs (FtSimExperiment *e, const char *where, GError **error)
{
  g_auto (GStrv) parts = g_strsplit (e->design, ",", -1);
  GString *norm = g_string_new (NULL);
  for (guint i = 0; parts[i]; i++)
    {
      char *d = g_strstrip (parts[i]);
      FtSimFieldDesign fd;
      if (!ft_sim_field_design_parse (d, &fd))
        {
          g_string_free (norm, TRUE);
          return fail (error, where, "[experiment] design: '%s' is not crn, independent or a field design "
                       "(rider, zone, switchback, or a comma list of them)", d);
        }
      for (guint j = 0; j < e->n_field; j++)
        if (e->field[j] == fd)
          {
            g_string_free (norm, TRUE);
            return fail (error, where, "[experiment] design: '%s' is named twice", d);
          }
      e->field[e->n_field++] = fd;
      g_string_append_printf (norm, "%s%s", norm->len ? "," : "", d);
    }
  g_free (e->design);
  e->design = g_string_free (norm, FALSE);
  return TRUE;
}

static gboolean
field_number (GKeyFile *kf, const char *key, double lo, double hi, double *out, const char *where, GError **error)
{
  g_autofree char *raw = g_key_file_get_value (kf, "field", key, NULL);
  if (raw == NULL)
    return TRUE;
  char *end = NULL;
  double v = g_ascii_strtod (g_strstrip (raw), &end);
  if (end == raw || *end || !(v >= lo && v <= hi))
    return fail (error, where, "[field] %s: '%s' is not a number from %g to %g", key, raw, lo, hi);
  *out = v;
  return TRUE;
}

/* [field] settings, then every treated variant checked against the
 * control for each design (keys that cannot be split are refused) */
static gboolean
parse_field (FtSimExperiment *e, GKeyFile *kf, const char *where, GError **error)
{
  FtSimFieldSpec *f = &e->field_spec;
  *f = (FtSimFieldSpec) { .salt = 1, .share = 0.5, .slice_min = 60, .washout_min = 0 };
  static const char *known[] = { "share", "salt", "zones", "switchback", "slice_min", "washout_min", NULL };
  gsize nk = 0;
  g_auto (GStrv) keys = g_key_file_get_keys (kf, "field", &nk, NULL);
  for (gsize i = 0; i < nk; i++)
    if (!g_strv_contains (known, keys[i]))
      return fail (error, where, "[field] %s: unknown key (expected share, salt, zones, switchback, slice_min or "
                   "washout_min)", keys[i]);
  if (!field_number (kf, "share", 0, 1, &f->share, where, error)
      || !field_number (kf, "slice_min", 1, 10080, &f->slice_min, where, error)
      || !field_number (kf, "washout_min", 0, 10080, &f->washout_min, where, error))
    return FALSE;
  g_autofree char *salt = g_key_file_get_value (kf, "field", "salt", NULL);
  if (salt && !g_ascii_string_to_unsigned (g_strstrip (salt), 10, 0, G_MAXUINT64, &f->salt, NULL))
    return fail (error, where, "[field] salt: '%s' is not a whole number", salt);
  g_autofree char *zones = g_key_file_get_value (kf, "field", "zones", NULL);
  if (zones && strcmp (g_strstrip (zones), "balanced") != 0 && strcmp (zones, "random") != 0)
    return fail (error, where, "[field] zones: '%s' is not random or balanced", zones);
  f->balanced = zones && strcmp (zones, "balanced") == 0;
  g_autofree char *sb = g_key_file_get_value (kf, "field", "switchback", NULL);
  if (sb && strcmp (g_strstrip (sb), "alternate") != 0 && strcmp (sb, "random") != 0)
    return fail (error, where, "[field] switchback: '%s' is not alternate or random", sb);
  f->randomised = sb && strcmp (sb, "random") == 0;
  if (f->washout_min >= f->slice_min)
    return fail (error, where, "[field] washout_min: %g minutes leaves nothing of a %g-minute slice to count",
                 f->washout_min, f->slice_min);
  if (!f->randomised && f->share != 0 && f->share != 0.5 && f->share != 1)
    return fail (error, where, "[field] share: an alternating switchback treats every other slice (share 0.5); "
                 "give switchback = random for a share of %g", f->share);
  if (e->sweep)
    return fail (error, where, "[sweep]: a sweep cannot use a field design (design = %s)", e->design);
  if (e->variants->len < 2)
    return fail (error, where, "a field design needs a control and at least one other variant");
  g_autoptr (GPtrArray) fm = g_ptr_array_new_with_free_func (g_free);
  for (guint m = 0; e->metrics[m]; m++)
    if (ft_sim_field_metric_ok (e->metrics[m]))
      g_ptr_array_add (fm, g_strdup (e->metrics[m]));
  if (fm->len == 0)
    return fail (error, where, "[experiment] metrics: a field design measures trips_requested, trips_served, "
                 "trips_lost, revenue_minor or service_level per arm; name at least one");
  g_ptr_array_add (fm, NULL);
  e->field_metrics = (char **) g_ptr_array_free (g_steal_pointer (&fm), FALSE);
  g_autoptr (FtSimScenario) control = ft_sim_scenario_copy (e->base);
  const FtSimVariant *cv = e->variants->pdata[e->control];
  if (!apply_variant (control, cv, where, error))
    return FALSE;
  for (guint j = 0; j < e->variants->len; j++)
    {
      if (j == e->control)
        continue;
      const FtSimVariant *v = e->variants->pdata[j];
      g_autoptr (FtSimScenario) treated = ft_sim_scenario_copy (e->base);
      if (!apply_variant (treated, v, where, error))
        return FALSE;
      for (guint d = 0; d < e->n_field; d++)
        {
          g_autoptr (GError) local = NULL;
          g_autoptr (FtSimScenario) ws = ft_sim_field_world_scenario (control, treated, e->field[d], &local);
          if (ws == NULL)
            return fail (error, where, "[variant %s] %s", v->name, local->message);
        }
    }
  return TRUE;
}

FtSimExperiment *
ft_sim_experiment_parse (const char *text, const char *where, const char *dir, GError **error)
{
  g_return_val_if_fail (text != NULL, NULL);
  if (where == NULL)
    where = "<experiment>";
  g_autoptr (GKeyFile) kf = g_key_file_new ();
  g_autoptr (GError) local = NULL;
  if (!g_utf8_validate (text, -1, NULL) || !g_key_file_load_from_data (kf, text, (gsize) -1, G_KEY_FILE_NONE, &local))
    {
      fail (error, where, "not an experiment file: %s", local ? local->message : "not UTF-8 text");
      return NULL;
    }
  g_autoptr (FtSimExperiment) e = g_new0 (FtSimExperiment, 1);
  e->text = g_strdup (text);
  e->variants = g_ptr_array_new_with_free_func ((GDestroyNotify) variant_free);
  if (!g_key_file_has_group (kf, "experiment"))
    {
      fail (error, where, "no [experiment] group (name, base, replications, metrics, design)");
      return NULL;
    }
  gsize n_groups = 0;
  g_auto (GStrv) groups = g_key_file_get_groups (kf, &n_groups);
  for (gsize g = 0; g < n_groups; g++)
    if (strcmp (groups[g], "experiment") != 0 && strcmp (groups[g], "sweep") != 0
        && strcmp (groups[g], "field") != 0 && !g_str_has_prefix (groups[g], "variant "))
      {
        fail (error, where, "[%s]: unknown group (expected [experiment], [variant NAME], [field] or [sweep])",
              groups[g]);
        return NULL;
      }
  static const char *known[] = { "name", "base", "replications", "design", "metrics", "pre_days", "days",
                                 "control", "description", NULL };
  gsize nk = 0;
  g_auto (GStrv) ekeys = g_key_file_get_keys (kf, "experiment", &nk, NULL);
  for (gsize i = 0; i < nk; i++)
    if (!g_strv_contains (known, ekeys[i]))
      {
        fail (error, where, "[experiment] %s: unknown key (expected name, base, replications, design, metrics, "
              "pre_days, days, control or description)", ekeys[i]);
        return NULL;
      }
  if (!get_string (kf, "experiment", "name", where, &e->name, error))
    return NULL;
  if (e->name == NULL || *g_strstrip (e->name) == '\0')
    {
      fail (error, where, "[experiment] name: missing");
      return NULL;
    }
  g_autofree char *base = NULL;
  if (!get_string (kf, "experiment", "base", where, &base, error))
    return NULL;
  if (base == NULL || *g_strstrip (base) == '\0')
    {
      fail (error, where, "[experiment] base: missing (the base scenario file)");
      return NULL;
    }
  e->base_path = g_path_is_absolute (base) || dir == NULL ? g_strdup (base) : g_build_filename (dir, base, NULL);
  e->base = ft_sim_scenario_load (e->base_path, &local);
  if (e->base == NULL)
    {
      fail (error, where, "[experiment] base: %s", local->message);
      return NULL;
    }
  /* replications */
  g_autofree char *reps = g_key_file_get_value (kf, "experiment", "replications", NULL);
  char *end = NULL;
  gint64 nrep = reps ? g_ascii_strtoll (g_strstrip (reps), &end, 10) : -1;
  if (reps == NULL || end == reps || *end || nrep <= 0 || nrep > 100000)
    {
      fail (error, where, "[experiment] replications: '%s' is not a whole number from 1 to 100000",
            reps ? reps : "(missing)");
      return NULL;
    }
  e->replications = (guint) nrep;
  /* design */
  if (!get_string (kf, "experiment", "design", where, &e->design, error))
    return NULL;
  if (e->design == NULL)
    e->design = g_strdup ("crn");
  g_strstrip (e->design);
  if (strcmp (e->design, "crn") != 0 && strcmp (e->design, "independent") != 0
      && !parse_field_designs (e, where, error))
    return NULL;
  /* days and pre-period */
  static const char *dkeys[] = { "days", "pre_days" };
  double dv[2] = { 0, 0 };
  for (guint i = 0; i < 2; i++)
    {
      g_autofree char *raw = g_key_file_get_value (kf, "experiment", dkeys[i], NULL);
      if (raw == NULL)
        continue;
      end = NULL;
      dv[i] = g_ascii_strtod (g_strstrip (raw), &end);
      if (end == raw || *end || !(dv[i] >= 0 && dv[i] <= 3660))
        {
          fail (error, where, "[experiment] %s: '%s' is not a number of days from 0 to 3660", dkeys[i], raw);
          return NULL;
        }
    }
  if (dv[0] > 0)
    e->base->days = dv[0];
  e->pre_days = dv[1];
  if (e->pre_days >= e->base->days)
    {
      fail (error, where, "[experiment] pre_days: %g is not shorter than the run (%g days)", e->pre_days, e->base->days);
      return NULL;
    }
  /* metrics */
  g_autofree char *metrics = g_key_file_get_value (kf, "experiment", "metrics", NULL);
  g_auto (GStrv) parts = g_strsplit (metrics ? metrics : "service_level, trips_served, revenue_per_vehicle_day_minor, "
                                                         "staff_hours", ",", -1);
  g_autoptr (GPtrArray) ms = g_ptr_array_new_with_free_func (g_free);
  for (guint i = 0; parts[i]; i++)
    {
      char *m = g_strstrip (parts[i]);
      if (*m == '\0')
        continue;
      if (ft_sim_kpi_find (m) == NULL)
        {
          fail (error, where, "[experiment] metrics: '%s' is not a KPI name (e.g. service_level, trips_served, "
                "revenue_per_vehicle_day_minor, staff_hours)", m);
          return NULL;
        }
      for (guint j = 0; j < ms->len; j++)
        if (strcmp (ms->pdata[j], m) == 0)
          {
            fail (error, where, "[experiment] metrics: '%s' is named twice", m);
            return NULL;
          }
      g_ptr_array_add (ms, g_strdup (m));
    }
  if (ms->len == 0)
    {
      fail (error, where, "[experiment] metrics: none named");
      return NULL;
    }
  g_ptr_array_add (ms, NULL);
  e->metrics = (char **) g_ptr_array_free (g_steal_pointer (&ms), FALSE);
  /* variants */
  gboolean has_sweep = g_key_file_has_group (kf, "sweep");
  for (gsize g = 0; g < n_groups; g++)
    {
      if (!g_str_has_prefix (groups[g], "variant "))
        continue;
      if (has_sweep)
        {
          fail (error, where, "[%s]: a sweep makes its own variants; give [variant] groups or [sweep], not both",
                groups[g]);
          return NULL;
        }
      g_autofree char *vname = g_strstrip (g_strdup (groups[g] + strlen ("variant ")));
      if (*vname == '\0' || strchr (vname, ',') || strchr (vname, '\n'))
        {
          fail (error, where, "[%s]: a variant needs a name without commas", groups[g]);
          return NULL;
        }
      for (guint j = 0; j < e->variants->len; j++)
        if (strcmp (((FtSimVariant *) e->variants->pdata[j])->name, vname) == 0)
          {
            fail (error, where, "[%s]: a second variant of that name", groups[g]);
            return NULL;
          }
      gsize n = 0;
      g_auto (GStrv) keys = g_key_file_get_keys (kf, groups[g], &n, NULL);
      g_autoptr (GPtrArray) ks = g_ptr_array_new ();
      g_autoptr (GPtrArray) vs = g_ptr_array_new_with_free_func (g_free);
      for (gsize i = 0; i < n; i++)
        {
          g_ptr_array_add (ks, keys[i]);
          g_ptr_array_add (vs, g_strstrip (g_key_file_get_value (kf, groups[g], keys[i], NULL)));
        }
      FtSimVariant *v = variant_new (vname, ks, vs);
      g_ptr_array_add (e->variants, v);
    }
  if (has_sweep && !parse_sweep (e, kf, where, error))
    return NULL;
  if (has_sweep)   /* the Pareto view's metrics are measured too */
    {
      const char *px[2] = { e->pareto_x, e->pareto_y };
      for (guint i = 0; i < 2; i++)
        if (!g_strv_contains ((const char *const *) e->metrics, px[i]))
          {
            guint n = g_strv_length (e->metrics);
            e->metrics = g_renew (char *, e->metrics, n + 2);
            e->metrics[n] = g_strdup (px[i]);
            e->metrics[n + 1] = NULL;
          }
    }
  if (e->variants->len == 0)
    {
      fail (error, where, "no variants: give [variant NAME] groups (the first is the control) or a [sweep]");
      return NULL;
    }
  if ((guint64) e->variants->len * e->replications > MAX_CELLS)
    {
      fail (error, where, "%u variants x %u replications is more than %u runs", e->variants->len, e->replications,
            MAX_CELLS);
      return NULL;
    }
  /* every variant applied to the base must make a valid scenario */
  for (guint j = 0; j < e->variants->len; j++)
    {
      g_autoptr (FtSimScenario) sc = ft_sim_scenario_copy (e->base);
      if (!apply_variant (sc, e->variants->pdata[j], where, error))
        return NULL;
    }
  g_autofree char *control = NULL;
  if (!get_string (kf, "experiment", "control", where, &control, error))
    return NULL;
  e->control = 0;
  if (control)
    {
      g_strstrip (control);
      guint j = 0;
      while (j < e->variants->len && strcmp (((FtSimVariant *) e->variants->pdata[j])->name, control) != 0)
        j++;
      if (j == e->variants->len)
        {
          fail (error, where, "[experiment] control: no variant named '%s'", control);
          return NULL;
        }
      e->control = j;
    }
  if (g_key_file_has_group (kf, "field") && e->n_field == 0)
    {
      fail (error, where, "[field]: settings of a field design, but design is %s (give design = rider, zone "
            "or switchback, or a list of them)", e->design);
      return NULL;
    }
  if (e->n_field > 0 && !parse_field (e, kf, where, error))
    return NULL;
  /* identity: the file and the base scenario it runs on */
  g_autoptr (GChecksum) ck = g_checksum_new (G_CHECKSUM_SHA256);
  g_checksum_update (ck, (const guchar *) text, (gssize) strlen (text));
  g_checksum_update (ck, (const guchar *) "", 1);
  if (e->base->text)
    g_checksum_update (ck, (const guchar *) e->base->text, (gssize) strlen (e->base->text));
  e->hash = g_strdup (g_checksum_get_string (ck));
  return g_steal_pointer (&e);
}

FtSimExperiment *
ft_sim_experiment_load (const char *path, GError **error)
{
  g_return_val_if_fail (path != NULL, NULL);
  g_autofree char *text = NULL;
  g_autoptr (GError) local = NULL;
  if (!ft_file_read (path, FT_FILE_MAX_TEXT, &text, NULL, &local))
    {
      g_set_error (error, FT_EXP_ERROR, FT_EXP_ERROR_FILE, "cannot read experiment %s: %s", path, local->message);
      return NULL;
    }
  g_autofree char *dir = g_path_get_dirname (path);
  FtSimExperiment *e = ft_sim_experiment_parse (text, path, dir, error);
  if (e)
    e->path = g_strdup (path);
  return e;
}

static guint
cells_per_replication (const FtSimExperiment *e)
{
  guint nv = e->variants->len;
  return nv + e->n_field * (nv - 1);
}

guint
ft_sim_experiment_n_cells (const FtSimExperiment *e)
{
  return e->replications * cells_per_replication (e);
}

/* k: the cell's place in its replication; *design -1 for a whole-fleet cell */
static void
cell_parts (const FtSimExperiment *e, guint c, guint *replication, guint *variant, gint *design)
{
  guint nv = e->variants->len, per = cells_per_replication (e);
  guint k = c % per;
  *replication = c / per;
  *design = -1;
  *variant = k;
  if (k >= nv)
    {
      guint f = k - nv;
      *design = (gint) (f / (nv - 1));
      guint t = f % (nv - 1);
      *variant = t < e->control ? t : t + 1;   /* the control skipped */
    }
}

void
ft_sim_experiment_cell (const FtSimExperiment *e, guint c, guint *replication, guint *variant)
{
  gint d;
  cell_parts (e, c, replication, variant, &d);
}

gint
ft_sim_experiment_cell_field (const FtSimExperiment *e, guint c)
{
  guint rep, v;
  gint d;
  cell_parts (e, c, &rep, &v, &d);
  return d;
}

char *
ft_sim_experiment_cell_name (const FtSimExperiment *e, guint c)
{
  guint rep, v;
  gint d;
  cell_parts (e, c, &rep, &v, &d);
  const char *name = ((const FtSimVariant *) e->variants->pdata[v])->name;
  if (d < 0)
    return g_strdup (name);
  return g_strdup_printf ("%s/%s", ft_sim_field_design_name (e->field[d]), name);
}

static guint
cell_stream (const FtSimExperiment *e, guint rep, guint v)
{
  /* crn (and a field design's truth and split worlds): every variant of
   * replication r on the streams of replication r */
  if (strcmp (e->design, "independent") != 0)
    return e->base->replication + rep;
  return e->base->replication + rep * e->variants->len + v;
}

FtSimScenario *
ft_sim_experiment_cell_scenario (const FtSimExperiment *e, guint c, GError **error)
{
  g_return_val_if_fail (e != NULL && c < ft_sim_experiment_n_cells (e), NULL);
  guint rep, v;
  gint d;
  cell_parts (e, c, &rep, &v, &d);
  const char *where = e->path ? e->path : "<experiment>";
  g_autoptr (FtSimScenario) sc = ft_sim_scenario_copy (e->base);
  if (!apply_variant (sc, e->variants->pdata[v], where, error))
    return NULL;
  if (d >= 0)
    {
      /* the one world of a split: the control's, with the treated levers */
      g_autoptr (FtSimScenario) control = ft_sim_scenario_copy (e->base);
      if (!apply_variant (control, e->variants->pdata[e->control], where, error))
        return NULL;
      FtSimScenario *ws = ft_sim_field_world_scenario (control, sc, e->field[d], error);
      if (ws == NULL)
        return NULL;
      ft_sim_scenario_free (sc);
      sc = ws;
    }
  sc->replication = cell_stream (e, rep, v);
  return g_steal_pointer (&sc);
}

void
ft_sim_experiment_identity (const FtSimExperiment *e, FtExpIdentity *id)
{
  guint nv = e->variants->len;
  const char **names = g_new0 (const char *, nv + 1), **ov = g_new0 (const char *, nv + 1);
  for (guint j = 0; j < nv; j++)
    {
      names[j] = ((FtSimVariant *) e->variants->pdata[j])->name;
      ov[j] = ((FtSimVariant *) e->variants->pdata[j])->overrides;
    }
  *id = (FtExpIdentity) {
    .name = e->name, .hash = e->hash, .design = e->sweep ? e->sweep_method : e->design,
    .control = names[e->control], .metrics = NULL, .replications = e->replications,
    .pre_days = e->pre_days, .file_text = e->text, .n_variants = nv,
    .variant_names = names, .variant_overrides = ov,
  };
  id->metrics = g_strjoinv (",", e->metrics);
}

void
ft_sim_experiment_identity_clear (FtExpIdentity *id)
{
  g_free ((gpointer) id->variant_names);
  g_free ((gpointer) id->variant_overrides);
  g_free ((gpointer) id->metrics);
  memset (id, 0, sizeof *id);
}

gboolean
ft_sim_experiment_cell_records (FtSimScenario *sc)
{
  g_return_val_if_fail (sc != NULL, FALSE);
  if (sc->support_contact_share > 0 || sc->support_charge_query_share > 0)
    return FALSE;
  sc->summary_records = TRUE;
  return TRUE;
}

/* A field design's cell: one world split between the control and variant
 * v, its run row named DESIGN/VARIANT and one field row per metric. */
static gboolean
run_field_cell (const FtSimExperiment *e, guint c, guint rep, guint v, gint d, FtExpResults *out,
                GError **error)
{
  const char *where = e->path ? e->path : "<experiment>";
  g_autoptr (FtSimScenario) sc = ft_sim_experiment_cell_scenario (e, c, error);
  if (sc == NULL)
    return FALSE;
  g_autoptr (FtSimScenario) control = ft_sim_scenario_copy (e->base);
  g_autoptr (FtSimScenario) treated = ft_sim_scenario_copy (e->base);
  if (!apply_variant (control, e->variants->pdata[e->control], where, error)
      || !apply_variant (treated, e->variants->pdata[v], where, error))
    return FALSE;
  FtSimFieldSpec spec = e->field_spec;
  spec.design = e->field[d];
  spec.salt = ft_sim_field_hash (e->field_spec.salt, rep);
  spec.control = control;
  spec.treated = treated;
  g_autofree char *text = ft_sim_scenario_to_text (sc);
  ft_sim_experiment_cell_records (sc);
  FtSimWorldOptions opt = { .field = &spec };
  g_autoptr (FtSimWorld) w = ft_sim_world_new (sc, NULL, &opt, error);
  if (w == NULL)
    return FALSE;
  if (!ft_sim_world_run (w, NULL, NULL, error) || !ft_sim_world_finish (w, error))
    return FALSE;
  g_autofree char *name = ft_sim_experiment_cell_name (e, c);
  const char *dn = ft_sim_field_design_name (e->field[d]);
  const char *vn = ((const FtSimVariant *) e->variants->pdata[v])->name;
  if (!ft_exp_results_begin (out, error))
    return FALSE;
  gboolean ok = ft_exp_results_add_run (out, rep, name, sc->seed, sc->replication, text, error);
  for (guint m = 0; ok && e->field_metrics[m]; m++)
    {
      FtSimFieldEstimate fe;
      ft_sim_world_field_estimate (w, e->field_metrics[m], &fe);
      FtExpFieldRow row = { .design = dn, .replication = rep, .variant = vn, .metric = e->field_metrics[m],
                            .estimate = fe.estimate, .control = fe.value[0], .treated = fe.value[1],
                            .control_units = fe.units[0], .treated_units = fe.units[1] };
      ok = ft_exp_results_add_field (out, &row, error);
    }
  if (!ok)
    {
      g_autoptr (GError) ignore = NULL;
      ft_exp_results_commit (out, &ignore);
      return FALSE;
    }
  return ft_exp_results_commit (out, error);
}

gboolean
ft_sim_experiment_run_cell (const FtSimExperiment *e, guint c, FtExpResults *out, GError **error)
{
  g_return_val_if_fail (e != NULL && out != NULL, FALSE);
  if (c >= ft_sim_experiment_n_cells (e))
    {
      g_set_error (error, FT_EXP_ERROR, FT_EXP_ERROR_INCOMPLETE, "cell %u: the experiment has cells 0 to %u", c,
                   ft_sim_experiment_n_cells (e) - 1);
      return FALSE;
    }
  guint rep, v;
  gint d;
  cell_parts (e, c, &rep, &v, &d);
  if (d >= 0)
    return run_field_cell (e, c, rep, v, d, out, error);
  g_autoptr (FtSimScenario) sc = ft_sim_experiment_cell_scenario (e, c, error);
  if (sc == NULL)
    return FALSE;
  const FtSimVariant *var = e->variants->pdata[v];
  g_autofree char *text = ft_sim_scenario_to_text (sc);
  ft_sim_experiment_cell_records (sc);
  FtSimWorldOptions opt = { 0 };
  g_autoptr (FtSimWorld) w = ft_sim_world_new (sc, NULL, &opt, error);
  if (w == NULL)
    return FALSE;
  guint nm = g_strv_length (e->metrics);
  g_autofree double *pre = g_new (double, nm);
  for (guint m = 0; m < nm; m++)
    pre[m] = NAN;
  if (e->pre_days > 0)
    {
      if (!ft_sim_world_run_until (w, (FtTime) llround (e->pre_days * FT_DAY), error))
        return FALSE;
      FtSimKpis k;
      ft_sim_world_kpis (w, &k);
      for (guint m = 0; m < nm; m++)
        ft_sim_kpi_value (&k, e->metrics[m], &pre[m]);
    }
  if (!ft_sim_world_run (w, NULL, NULL, error) || !ft_sim_world_finish (w, error))
    return FALSE;
  FtSimKpis k;
  ft_sim_world_kpis (w, &k);
  if (!ft_exp_results_begin (out, error))
    return FALSE;
  gboolean ok = ft_exp_results_add_run (out, rep, var->name, sc->seed, sc->replication, text, error);
  for (guint m = 0; ok && m < nm; m++)
    {
      double val = 0;
      ft_sim_kpi_value (&k, e->metrics[m], &val);
      ok = ft_exp_results_add_value (out, rep, var->name, e->metrics[m], val, pre[m], error);
    }
  if (!ok)
    {
      g_autoptr (GError) ignore = NULL;
      ft_exp_results_commit (out, &ignore);
      return FALSE;
    }
  return ft_exp_results_commit (out, error);
}
