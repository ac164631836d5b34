/* ft-sim-world-field.c — a field design in the world: every request gets
 * an arm from its unit (its rider in the pool's rotation, its origin
 * zone, or the time slice it arrives in), the levers ask which arm the
 * request being handled is in,
 * and requests, served, lost and revenue are counted per unit for the
 * design's estimate (ft-sim-field.h).
 */
#include "ft-sim-world-private.h"

gboolean
ft_sim_world_setup_field (FtSimWorld *w, const FtSimFieldSpec *spec, GError **error)
{
  w->field_arm = -1;
  w->field_unit = -1;
  for (guint v = 0; v < w->nv; v++)
    {
      w->veh[v].field_arm = -1;
      w->veh[v].field_unit = -1;
    }
  if (spec == NULL)
    return TRUE;
  if (spec->control == NULL || spec->treated == NULL || spec->design >= FT_SIM_FIELD_N_DESIGNS
      || !(spec->share >= 0 && spec->share <= 1)
      || (spec->design == FT_SIM_FIELD_SWITCHBACK && !(spec->slice_min >= 1 && spec->washout_min >= 0
                                                        && spec->washout_min < spec->slice_min)))
    {
      g_set_error (error, FT_SIM_ERROR, FT_SIM_ERROR_SETUP,
                   "field design: needs both arms' scenarios, a share from 0 to 1 and, for a switchback, a "
                   "slice of at least 1 minute longer than its wash-out");
      return FALSE;
    }
  w->field = g_memdup2 (spec, sizeof *spec);
  w->field_sc[0] = ft_sim_scenario_copy (spec->control);
  w->field_sc[1] = ft_sim_scenario_copy (spec->treated);
  w->field->control = w->field_sc[0];
  w->field->treated = w->field_sc[1];
  switch (spec->design)
    {
    case FT_SIM_FIELD_RIDER:
      w->field_n_units = w->n_riders;
      break;
    case FT_SIM_FIELD_ZONE:
      w->field_n_units = w->nz;
      break;
    default:
      {
        FtTime slice = (FtTime) llround (spec->slice_min * FT_MINUTE);
        w->field_n_units = (guint) ((w->end + slice - 1) / slice);
        w->field_obs_ms = g_new0 (double, MAX (w->field_n_units, 1u));
        FtTime wash = (FtTime) llround (spec->washout_min * FT_MINUTE);
        for (guint i = 0; i < w->field_n_units; i++)
          w->field_obs_ms[i] = (double) MAX ((FtTime) 0, MIN (w->end, (FtTime) (i + 1) * slice)
                                                          - ((FtTime) i * slice + wash));
      }
    }
  w->field_unit_arm = g_new0 (guint8, MAX (w->field_n_units, 1u));
  w->field_acc = g_new0 (double, (gsize) MAX (w->field_n_units, 1u) * FIELD_N_COUNTS);
  if (spec->design == FT_SIM_FIELD_ZONE)
    {
      /* a zone's weight: its expected requests over the week */
      g_autofree double *wt = g_new0 (double, MAX (w->nz, 1u));
      g_autofree gboolean *tr = g_new0 (gboolean, MAX (w->nz, 1u));
      for (guint h = 0; h < 168; h++)
        for (guint z = 0; z < w->nz; z++)
          wt[z] += w->zone_w[h * w->nz + z];
      ft_sim_field_assign_zones (w->field, w->nz, wt, tr);
      for (guint z = 0; z < w->nz; z++)
        w->field_unit_arm[z] = tr[z] ? 1 : 0;
    }
  else
    for (guint u = 0; u < w->field_n_units; u++)
      w->field_unit_arm[u] = spec->design == FT_SIM_FIELD_RIDER ? ft_sim_field_rider_treated (w->field, u)
                                                                : ft_sim_field_slice_treated (w->field, u);
  return TRUE;
}

void
ft_sim_world_free_field (FtSimWorld *w)
{
  ft_sim_scenario_free (w->field_sc[0]);
  ft_sim_scenario_free (w->field_sc[1]);
  g_free (w->field);
  g_free (w->field_unit_arm);
  g_free (w->field_acc);
  g_free (w->field_obs_ms);
}

void
ft_sim_world_field_count (FtSimWorld *w, gint32 unit, guint what, double amount)
{
  if (w->field != NULL && unit >= 0 && (guint) unit < w->field_n_units)
    w->field_acc[(gsize) unit * FIELD_N_COUNTS + what] += amount;
}

void
ft_sim_world_field_request (FtSimWorld *w, FtLatLon o, FtTime now)
{
  w->field_arm = -1;
  w->field_unit = -1;
  if (w->field == NULL)
    return;
  gint64 u = -1;
  gboolean counted = TRUE;
  w->field_requests++;
  switch (w->field->design)
    {
    case FT_SIM_FIELD_RIDER:
      /* the riders take turns: request k is rider k mod N's, whatever
       * became of the earlier ones (the booking account is still the
       * first free one, as unsplit; tying the unit to it would let a lost
       * rider's next turn come sooner, and the arm with more lost
       * requests would seem to have more riders asking) */
      u = (gint64) ((w->field_requests - 1) % w->n_riders);
      break;
    case FT_SIM_FIELD_ZONE:
      u = ft_city_zone_at (w->city, o);
      break;
    default:
      {
        FtTime slice = (FtTime) llround (w->field->slice_min * FT_MINUTE);
        u = now / slice;
        counted = now - u * slice >= (FtTime) llround (w->field->washout_min * FT_MINUTE);
      }
    }
  if (u < 0 || u >= w->field_n_units)
    {
      w->field_arm = 0;   /* no unit (outside every zone): the control's levers, not counted */
      return;
    }
  w->field_arm = (gint8) w->field_unit_arm[u];
  w->field_unit = counted ? (gint32) u : -1;
  ft_sim_world_field_count (w, w->field_unit, FIELD_REQUESTED, 1);
}

const FtSimScenario *
ft_sim_world_field_scenario (FtSimWorld *w)
{
  if (w->field == NULL || w->field_arm < 0)
    return w->sc;
  return w->field_sc[w->field_arm];
}

gboolean
ft_sim_world_field_lever (FtSimWorld *w, FieldLever lever)
{
  if (w->field == NULL || w->field_arm < 0)
    return TRUE;
  const FtSimScenario *sc = w->field_sc[w->field_arm];
  if (lever == FIELD_LEVER_DYNAMIC)
    return sc->dyn_policy != NULL && strcmp (sc->dyn_policy, "off") != 0;
  return sc->inc_enabled;
}

gint
ft_sim_world_field_arm (FtSimWorld *w, guint u)
{
  g_return_val_if_fail (w != NULL, -1);
  if (w->field == NULL || u >= w->field_n_units)
    return -1;
  return w->field_unit_arm[u];
}

guint
ft_sim_world_field_n_units (FtSimWorld *w)
{
  g_return_val_if_fail (w != NULL, 0);
  return w->field ? w->field_n_units : 0;
}

gboolean
ft_sim_world_field_estimate (FtSimWorld *w, const char *metric, FtSimFieldEstimate *out)
{
  g_return_val_if_fail (w != NULL && out != NULL, FALSE);
  memset (out, 0, sizeof *out);
  out->estimate = NAN;
  if (w->field == NULL || !ft_sim_field_metric_ok (metric))
    return FALSE;
  gboolean ratio = strcmp (metric, "service_level") == 0;
  guint what = strcmp (metric, "trips_requested") == 0 ? FIELD_REQUESTED
               : strcmp (metric, "trips_lost") == 0    ? FIELD_LOST
               : strcmp (metric, "revenue_minor") == 0 ? FIELD_REVENUE
                                                       : FIELD_SERVED;
  double sum[2] = { 0, 0 }, req[2] = { 0, 0 }, obs[2] = { 0, 0 };
  for (guint u = 0; u < w->field_n_units; u++)
    {
      guint a = w->field_unit_arm[u];
      const double *acc = &w->field_acc[(gsize) u * FIELD_N_COUNTS];
      sum[a] += acc[what];
      req[a] += acc[FIELD_REQUESTED];
      obs[a] += w->field_obs_ms ? w->field_obs_ms[u] : 0;
      out->units[a]++;
    }
  for (guint a = 0; a < 2; a++)
    out->value[a] = ratio ? (req[a] > 0 ? sum[a] / req[a] : NAN) : sum[a];
  if (out->units[0] == 0 || out->units[1] == 0)
    return TRUE;
  if (ratio)
    out->estimate = out->value[1] - out->value[0];
  else if (w->field->design == FT_SIM_FIELD_SWITCHBACK)
    {
      /* rates over the counted time of each arm's slices, over the whole run */
      if (obs[0] > 0 && obs[1] > 0)
        out->estimate = (double) w->end * (sum[1] / obs[1] - sum[0] / obs[0]);
    }
  else
    out->estimate = (double) w->field_n_units * (sum[1] / out->units[1] - sum[0] / out->units[0]);
  return TRUE;
}
