/* ft-sim-world-setup.c — building a world from a scenario: the city (a
 * pack, Demo City or a recipe), pricing, demand (profile or trace), the
 * fleet with its packs, riders and staff accounts, depots and vans, and
 * the first events; and freeing it.
 */
#include "ft-sim-world-private.h"

#include <gsl/gsl_randist.h>

/* ------------------------------------------------------------ setup */

static FtPricing *
build_pricing (const FtSimScenario *sc, const FtCity *city)
{
  FtPricing *p = ft_pricing_new ();
  static const char *ids[3] = { "scooter-standard", "bike-standard", "moped-standard" };
  for (guint k = 0; k < 3; k++)
    {
      FtPricingPlan *plan = ft_pricing_plan_new_simple (ids[k], sc->currency, sc->unlock_minor,
                                                        sc->per_min_minor[k], sc->per_km_minor);
      plan->vehicle_kind_mask = 1u << k;
      g_autoptr (GError) e = NULL;
      if (!ft_pricing_add_plan (p, plan, &e))
        g_warning ("pricing plan %s: %s", ids[k], e->message);
      ft_pricing_plan_free (plan);
    }
  for (guint z = 0; z < city->n_zones; z++)
    if (city->zones[z].pricing_multiplier > 0 && fabs (city->zones[z].pricing_multiplier - 1.0) > 1e-9)
      ft_pricing_add_zone_multiplier (p, city->zones[z].id, city->zones[z].area,
                                      city->zones[z].pricing_multiplier);
  return p;
}


/* Running sums of each of `rows` rows of n weights, for the draws'
 * binary search (ft_sim_rng_discrete_cum); NULL if a row cannot have
 * them (a negative weight), and the draws take the plain loop. */
static double *
cum_rows (const double *weights, guint rows, guint n)
{
  double *cum = g_new (double, (gsize) rows * n);
  for (guint i = 0; i < rows; i++)
    if (!ft_sim_rng_cumulate (&weights[(gsize) i * n], n, &cum[(gsize) i * n]))
      {
        g_free (cum);
        return NULL;
      }
  return cum;
}
static gboolean
setup_demand (FtSimWorld *w, GError **error)
{
  const FtDemandProfile *d = &w->city->demand;
  w->nz = w->city->n_zones;
  if (d->n_zones != w->nz || d->rate == NULL || w->nz == 0)
    {
      g_set_error (error, FT_SIM_ERROR, FT_SIM_ERROR_CITY,
                   "city %s: demand profile has %u zones but the city %u", w->city->id,
                   d->n_zones, w->nz);
      return FALSE;
    }
  double per_day = ft_demand_profile_per_day (d);
  if (!(per_day > 0))
    {
      g_set_error (error, FT_SIM_ERROR, FT_SIM_ERROR_CITY, "city %s: the demand profile is empty", w->city->id);
      return FALSE;
    }
  double scale = w->sc->requests_per_day > 0 ? w->sc->requests_per_day / per_day
                 : w->sc->requests_per_vehicle_day > 0 ? w->sc->requests_per_vehicle_day * w->nv / per_day
                 : w->sc->demand_scale;
  scale *= d->weather_multiplier > 0 ? d->weather_multiplier : 1.0;
  w->hour_total = g_new0 (double, 168);
  w->zone_w = g_new0 (double, 168 * w->nz);
  for (guint h = 0; h < 168; h++)
    {
      for (guint z = 0; z < w->nz; z++)
        {
          double r = d->rate[z * 168 + h] * scale;
          w->zone_w[h * w->nz + z] = r;
          w->hour_total[h] += r;
        }
      w->lambda_max = MAX (w->lambda_max, w->hour_total[h]);
    }
  if (w->sc->shift_day > 0 && w->sc->shift_factor != 1.0)
    {
      /* [demand] shift: the named zones' rates times the factor from the day on */
      g_autofree gboolean *in = g_new0 (gboolean, w->nz);
      if (w->sc->shift_zones == NULL || w->sc->shift_zones[0] == '\0')
        for (guint z = 0; z < w->nz; z++)
          in[z] = TRUE;
      else
        {
          g_auto (GStrv) ids = g_strsplit (w->sc->shift_zones, ",", -1);
          for (guint i = 0; ids[i]; i++)
            {
              g_strstrip (ids[i]);
              guint z = 0;
              while (z < w->nz && g_strcmp0 (w->city->zones[z].id, ids[i]) != 0)
                z++;
              if (z == w->nz)
                {
                  g_set_error (error, FT_SIM_ERROR, FT_SIM_ERROR_SCENARIO,
                               "[demand] shift_zones: city %s has no zone '%s' (zones are %s … %s)",
                               w->city->id, ids[i], w->city->zones[0].id, w->city->zones[w->nz - 1].id);
                  return FALSE;
                }
              in[z] = TRUE;
            }
        }
      w->shift_t = (FtTime) (w->sc->shift_day * FT_DAY);
      w->hour_total_shift = g_new0 (double, 168);
      w->zone_w_shift = g_new0 (double, 168 * w->nz);
      for (guint h = 0; h < 168; h++)
        {
          for (guint z = 0; z < w->nz; z++)
            {
              double r = w->zone_w[h * w->nz + z] * (in[z] ? w->sc->shift_factor : 1.0);
              w->zone_w_shift[h * w->nz + z] = r;
              w->hour_total_shift[h] += r;
            }
          w->lambda_max = MAX (w->lambda_max, w->hour_total_shift[h]);
        }
    }
  w->dest_sum = g_new0 (double, 4 * w->nz);
  for (guint b = 0; b < 4; b++)
    for (guint z = 0; z < w->nz; z++)
      for (guint t = 0; t < w->nz; t++)
        w->dest_sum[b * w->nz + z] += d->dest ? d->dest[((gsize) b * w->nz + z) * w->nz + t] : 0;
  w->zone_cum = cum_rows (w->zone_w, 168, w->nz);
  w->zone_cum_shift = w->zone_w_shift ? cum_rows (w->zone_w_shift, 168, w->nz) : NULL;
  w->dest_cum = d->dest ? cum_rows (d->dest, 4 * w->nz, w->nz) : NULL;
  w->zone_bbox = g_new (FtBBox, w->nz);
  for (guint z = 0; z < w->nz; z++)
    w->zone_bbox[z] = w->city->zones[z].area->bbox;
  return TRUE;
}

/* The i-th vehicle of a kind kept from the GBFS snapshot. */
static const FtGbfsVehicle *
gbfs_nth_of_kind (const FtGbfsFeed *feed, FtVehicleKind kind, guint i)
{
  for (guint j = 0; j < feed->n_vehicles; j++)
    if (!feed->vehicles[j].left_out && feed->vehicles[j].kind == kind && i-- == 0)
      return &feed->vehicles[j];
  return NULL;
}

/* [fleet] gbfs: the snapshot the fleet starts from; vehicles far outside
 * the city's operating area are left out and reported; the kinds' counts
 * become the snapshot's. */
static gboolean
setup_gbfs (FtSimWorld *w, GError **error)
{
  const char *where = w->sc->path ? w->sc->path : "scenario";
  g_autofree char *path = ft_sim_scenario_resolve_path (w->sc, w->sc->fleet_gbfs);
  g_autoptr (GError) e = NULL;
  w->gbfs = ft_gbfs_load (path, &e);
  if (w->gbfs == NULL)
    {
      g_set_error (error, FT_SIM_ERROR, FT_SIM_ERROR_SCENARIO, "%s: [fleet] gbfs: %s", where, e->message);
      return FALSE;
    }
  if (w->city->operating_area)
    {
      g_autoptr (GString) report = g_string_new (NULL);
      guint n = ft_gbfs_leave_out_far (w->gbfs, w->city->operating_area,
                                       w->sc->fleet_gbfs_max_outside_m, report);
      if (n > 0)
        g_message ("%s: [fleet] gbfs: %u of %u vehicles left out, more than %.0f m outside "
                   "the operating area of %s:\n%s", where, n, w->gbfs->n_vehicles,
                   w->sc->fleet_gbfs_max_outside_m, w->city->name, report->str);
    }
  guint counts[3] = { 0, 0, 0 };
  for (guint j = 0; j < w->gbfs->n_vehicles; j++)
    if (!w->gbfs->vehicles[j].left_out && w->gbfs->vehicles[j].kind < 3)
      counts[w->gbfs->vehicles[j].kind]++;
  if (counts[0] + counts[1] + counts[2] == 0)
    {
      g_set_error (error, FT_SIM_ERROR, FT_SIM_ERROR_SCENARIO,
                   "%s: [fleet] gbfs: none of the %u vehicles of %s is within %.0f m of the "
                   "operating area of %s", where, w->gbfs->n_vehicles, path,
                   w->sc->fleet_gbfs_max_outside_m, w->city->name);
      return FALSE;
    }
  w->sc->scooters = counts[0];
  w->sc->bikes = counts[1];
  w->sc->mopeds = counts[2];
  return TRUE;
}

static gboolean
setup_fleet (FtSimWorld *w, GError **error)
{
  FtFleet *f = w->core->fleet;
  const FtSimScenario *sc = w->sc;
  FtBBox bb = w->city->bbox;
  w->nv = ft_sim_scenario_n_vehicles (sc);
  /* the fleet's index of available vehicles serves booking's searches and
   * the rider's nearest search (ring by ring) alike, in 50 m cells: few
   * cells to step through where no vehicle is, and a cell's vehicles read
   * in one run (10 m cells at 50,000 vehicles spent half as much again,
   * mostly in cache misses on cells); one index, so a trip moves a
   * vehicle in and out of one grid, not three */
  ft_fleet_enable_index (f, bb, 50.0);
  w->low_ix = ft_grid_index_new (bb, 100.0);
  ft_fleet_set_holders (f, MAX (w->n_staff, 1), w->n_depots);
  w->veh = g_new0 (VehSim, w->nv);
  w->rent_m = g_new0 (double, w->nv);
  /* placement in proportion to a day's demand of each zone */
  g_autofree double *zday = g_new0 (double, w->nz);
  double zsum = 0;
  for (guint z = 0; z < w->nz; z++)
    {
      for (guint h = 0; h < 168; h++)
        zday[z] += w->city->demand.rate[z * 168 + h];
      zsum += zday[z];
    }
  guint counts[3] = { sc->scooters, sc->bikes, sc->mopeds };
  guint v = 0;
  for (guint k = 0; k < 3; k++)
    for (guint i = 0; i < counts[k]; i++, v++)
      {
        const FtGbfsVehicle *gv = w->gbfs ? gbfs_nth_of_kind (w->gbfs, (FtVehicleKind) k, i) : NULL;
        FtLatLon p;
        char dev[37];
        if (gv)
          {
            p = gv->pos;    /* where the operator's vehicle stands */
            ft_gbfs_device_id (gv->vehicle_id, dev);
          }
        else
          {
            guint z = ft_sim_rng_discrete (w->r_init, zday, w->nz, zsum);
            p = ft_sim_world_random_point_in_zone (w, z, w->r_init);
            for (int tries = 0; tries < 8 && !ft_sim_world_parking_ok (w, p, k); tries++)
              p = ft_sim_world_random_point_in_zone (w, z, w->r_init);
          }
        guint idx = ft_fleet_add_vehicle (f, (FtVehicleKind) k, p, gv ? dev : NULL, 0);
        g_assert (idx == v);
        const FtVehicleType *vt = ft_vehicle_type_default ((FtVehicleKind) k);
        double soc = sc->initial_soc_min + gsl_rng_uniform (w->r_init) * (sc->initial_soc_max - sc->initial_soc_min);
        if (gv && gv->range_m >= 0 && gv->max_range_m > 0)
          soc = CLAMP (gv->range_m / gv->max_range_m, 0.0, 1.0);
        GError *pe = NULL;
        ft_fleet_add_pack (f, vt->pack_capacity_wh, soc, FT_PACK_IN_VEHICLE, (gint32) v, 0, &pe);
        if (pe != NULL)
          {
            g_propagate_error (error, pe);
            return FALSE;
          }
        w->veh[v].zone = ft_city_zone_at (w->city, p);
        w->veh[v].booking = -1;
        if (sc->initial_wear_max > 0)
          {
            /* a fleet of mixed age: the wear its km left after services
             * (which halve it), and the odometer reading an operator has */
            double wear = gsl_rng_uniform (w->r_defect) * sc->initial_wear_max;
            double km = sc->wear_per_km > 0 ? wear / sc->wear_per_km * (1.0 + gsl_rng_uniform (w->r_defect)) : 0;
            ft_fleet_add_wear (f, v, wear);
            ft_fleet_set_position (f, v, p, km * 1000.0, 0, FALSE);   /* logged once all listen */
            /* an aged fleet has defects under way: each vehicle one with
             * the chance its hazard gives over a defect's mean life, with
             * the km it has left (memoryless) */
            double onset = sc->faults_per_1000km / 1000.0 * (1.0 + sc->wear_hazard_factor * wear);
            if (sc->defect_km > 0 && gsl_rng_uniform (w->r_defect) < -expm1 (-onset * sc->defect_km))
              {
                w->veh[v].flags |= VF_DEFECT;
                w->veh[v].defect_left_km = (float) gsl_ran_exponential (w->r_defect, sc->defect_km);
              }
          }
        if (soc < vt->low_soc)
          {
            w->veh[v].flags |= VF_LOW;
            w->veh[v].low_since = 0;
            if (!ft_fleet_apply_event (f, v, FT_VEV_BATTERY_LOW, 0, error))
              return FALSE;
          }
        ft_sim_world_vsync (w, v);
      }
  /* spare packs at depots, of each kind in proportion to the fleet */
  guint spares = (guint) lround (sc->spare_packs_per_vehicle * w->nv);
  for (guint i = 0; i < spares; i++)
    {
      guint d = i % w->n_depots;
      guint k = counts[0] && (i % w->nv) < counts[0] ? 0 : ((i % w->nv) < counts[0] + counts[1] ? 1 : 2);
      const FtVehicleType *vt = ft_vehicle_type_default ((FtVehicleKind) k);
      GError *e = NULL;
      guint p = ft_fleet_add_pack (f, vt->pack_capacity_wh, 1.0, FT_PACK_AT_DEPOT, (gint32) d, 0, &e);
      if (e != NULL)
        {
          g_propagate_error (error, e);
          return FALSE;
        }
      g_array_append_val (w->depots[d].charged, p);
    }
  return TRUE;
}

static gboolean
setup_people (FtSimWorld *w, GError **error)
{
  FtAccounts *a = w->core->accounts;
  const FtSimScenario *sc = w->sc;
  w->dispatcher = -1;
  for (guint i = 0; i < sc->dispatchers; i++)
    {
      g_autofree char *name = g_strdup_printf ("Dispatcher %u", i + 1);
      gint id = ft_accounts_create (a, FT_ROLE_DISPATCHER, name, NULL, 0, error);
      if (id < 0)
        return FALSE;
      if (w->dispatcher < 0)
        w->dispatcher = id;
    }
  w->n_staff = sc->field_staff;
  w->staff = g_new0 (Staff, MAX (w->n_staff, 1));
  for (guint i = 0; i < w->n_staff; i++)
    {
      Staff *s = &w->staff[i];
      g_autofree char *name = g_strdup_printf ("Field staff %u", i + 1);
      gint id = ft_accounts_create (a, FT_ROLE_FIELD, name, NULL, 0, error);
      if (id < 0)
        return FALSE;
      s->index = i;
      s->account = (guint) id;
      s->van = i;
      s->depot = i % w->n_depots;
      s->shift_start_h = sc->shift_starts_h[i % sc->n_shift_starts];
      s->task = -1;
      s->carrying = -1;
      s->pos = w->depots[s->depot].pos;
      s->from = s->target = s->pos;
      s->queue = g_array_new (FALSE, FALSE, sizeof (gint64));
      s->van_packs = g_array_new (FALSE, FALSE, sizeof (guint));
      s->route = g_array_new (FALSE, FALSE, sizeof (gint64));
      s->activity = FT_SIM_STAFF_OFF;
    }
  w->n_riders = sc->riders ? sc->riders : MAX (200u, w->nv * 2);
  w->riders = g_new (guint, w->n_riders);
  for (guint i = 0; i < w->n_riders; i++)
    {
      gint id = ft_accounts_create (a, FT_ROLE_RIDER, "Rider", NULL, 0, error);
      if (id < 0)
        return FALSE;
      w->riders[i] = (guint) id;
    }
  return TRUE;
}

/* The [city] recipe of a scenario: raw files become a city in one place,
 * the region playbook's cached builder (an OSM extract with demand moved
 * from trips, or a bare city over the trips with their demand fitted); the
 * world only loads what it returns. Errors name the scenario and the key. */
static FtCity *
city_from_scenario (const FtSimScenario *sc, GError **error)
{
  const char *where = sc->path ? sc->path : "scenario";
  g_autofree char *osm = sc->city_osm ? ft_sim_scenario_resolve_path (sc, sc->city_osm) : NULL;
  g_autofree char *trips = sc->city_trips ? ft_sim_scenario_resolve_path (sc, sc->city_trips) : NULL;
  const char *key = osm ? "osm" : "trips";
  const char *file = osm ? osm : trips;
  g_autofree char *base = g_path_get_basename (file);
  char *dot = strchr (base, '.');
  if (dot && dot != base)
    *dot = '\0';
  g_autoptr (GError) e = NULL;
  FtCity *c = NULL;

  if (osm && !g_file_test (osm, G_FILE_TEST_EXISTS))
    g_set_error (&e, FT_SIM_ERROR, FT_SIM_ERROR_CITY, "%s does not exist", osm);
  else if (trips && !g_file_test (trips, G_FILE_TEST_EXISTS))
    {
      key = "trips";
      g_set_error (&e, FT_SIM_ERROR, FT_SIM_ERROR_CITY, "%s does not exist", trips);
    }
  else
    {
      FtRegionRecipe r = { .osm_path = osm, .name = sc->city_name ? sc->city_name : base,
                           .trips_path = trips, .requests_per_day = sc->city_requests_per_day,
                           .hex_m = sc->city_hex_m };
      c = ft_region_city_from_recipe (&r, NULL, NULL, &e);
    }
  if (c == NULL)
    g_set_error (error, FT_SIM_ERROR, FT_SIM_ERROR_CITY, "%s: [city] %s: %s", where, key,
                 e ? e->message : "no city");
  return c;
}

/* The demand trace to replay: the options' (copied) or the scenario's
 * [demand] trace file. Requests must be in time order from t = 0. */
static gboolean
setup_trace (FtSimWorld *w, const FtSimWorldOptions *opt, GError **error)
{
  const char *where = w->sc->path ? w->sc->path : "scenario";
  if (opt && opt->trace)
    {
      w->trace = g_memdup2 (opt->trace, sizeof (FtDemandRequest) * opt->n_trace);
      w->n_trace = opt->n_trace;
      w->has_trace = TRUE;
    }
  else if (w->sc->trace)
    {
      g_autofree char *path = ft_sim_scenario_resolve_path (w->sc, w->sc->trace);
      g_autoptr (GError) e = NULL;
      if (g_str_has_suffix (path, ".csv") || g_str_has_suffix (path, ".json"))
        {
          /* trip data (Citi Bike CSV, MDS trips JSON): each trip's start */
          g_autoptr (FtTripSet) set = ft_trips_load (path, &e);
          if (set)
            w->trace = ft_trips_to_trace (set, &w->n_trace);
        }
      else
        w->trace = ft_trace_load (path, &w->n_trace, &e);
      if (w->trace == NULL && e != NULL)
        {
          g_set_error (error, FT_SIM_ERROR, FT_SIM_ERROR_SCENARIO, "%s: [demand] trace: %s",
                       where, e->message);
          return FALSE;
        }
      w->has_trace = TRUE;
    }
  for (guint i = 0; i < w->n_trace; i++)
    {
      const FtDemandRequest *q = &w->trace[i];
      if (q->t < 0 || (i > 0 && q->t < w->trace[i - 1].t))
        {
          g_set_error (error, FT_SIM_ERROR, FT_SIM_ERROR_SETUP,
                       "%s: demand trace request %u is at %" G_GINT64_FORMAT " ms, %s",
                       where, i + 1, q->t,
                       q->t < 0 ? "before the start of the run" : "earlier than the request before it");
          return FALSE;
        }
      if (!(fabs (q->from.lat) <= 90 && fabs (q->from.lon) <= 180
            && fabs (q->to.lat) <= 90 && fabs (q->to.lon) <= 180))
        {
          g_set_error (error, FT_SIM_ERROR, FT_SIM_ERROR_SETUP,
                       "%s: demand trace request %u has a point outside the globe", where, i + 1);
          return FALSE;
        }
    }
  return TRUE;
}

void
ft_sim_world_set_request_hook (FtSimWorld *w, FtSimRequestFunc fn, gpointer user_data)
{
  g_return_if_fail (w != NULL);
  w->request_fn = fn;
  w->request_data = user_data;
}

guint
ft_sim_world_n_trace (FtSimWorld *w)
{
  g_return_val_if_fail (w != NULL, 0);
  return w->has_trace ? w->n_trace : 0;
}

/* Shadow mode from the scenario's [models] group: the city's zones by
 * their centroids, the run's store if any, hour 0 at t = 0 (a Monday). */
static gboolean
setup_shadow (FtSimWorld *w, GError **error)
{
  const FtSimScenario *sc = w->sc;
  FtShadowConfig cfg;
  ft_shadow_config_init (&cfg);
  cfg.forecast = sc->models_forecast;
  cfg.maint.enabled = sc->models_maint;
  if (!ft_maint_kind_from_name (sc->models_maint_model, &cfg.maint.kind))
    cfg.maint.kind = FT_MAINT_WEIBULL;
  cfg.maint.cadence_min = sc->models_maint_cadence_min;
  cfg.maint.horizons_h[0] = sc->models_maint_short_h;
  cfg.maint.horizons_h[1] = sc->models_maint_long_h;
  cfg.maint.training_days = sc->models_maint_training_days;
  cfg.maint.first_fit_days = sc->models_maint_first_fit_days;
  cfg.maint.retrain_days = sc->models_maint_retrain_days;
  cfg.maint.holdout_days = sc->models_maint_holdout_days;
  cfg.maint.top_k_frac = sc->models_maint_top_k_frac;
  cfg.maint.train_lag_min = sc->models_maint_train_lag_min;
  cfg.maint.train_delay_ms = w->shadow_train_delay_ms;
  cfg.maint.params.xgb_nthread = 1;
  if (!ft_forecast_kind_from_name (sc->models_forecast_model, &cfg.kind))
    cfg.kind = FT_FORECAST_GLM;
  cfg.cadence_min = sc->models_cadence_min;
  g_autofree char *msg = NULL;
  if (!ft_sim_scenario_models_horizons (sc, cfg.horizons, &cfg.n_horizons, &msg))
    {
      g_set_error (error, FT_SIM_ERROR, FT_SIM_ERROR_SCENARIO, "[models] horizons: %s", msg);
      return FALSE;
    }
  cfg.quarter_hour = sc->models_quarter_hour;
  cfg.training_days = sc->models_training_days;
  cfg.first_fit_days = sc->models_first_fit_days;
  cfg.retrain_days = sc->models_retrain_days;
  cfg.drift_train_days = sc->models_drift_train_days;
  cfg.holdout_hours = sc->models_holdout_hours;
  cfg.min_gain = sc->models_min_gain;
  cfg.retrain_on_drift = sc->models_retrain_on_drift;
  cfg.train_lag_min = sc->models_train_lag_min;
  cfg.train_delay_ms = w->shadow_train_delay_ms;
  cfg.drift.warn = sc->models_drift_warn;
  cfg.drift.act = sc->models_drift_act;
  cfg.city = w->city->id;
  cfg.how_offset = 4 * FT_DAY;   /* 1970-01-05 was a Monday, as the simulator's t = 0 */
  cfg.params.xgb_nthread = 1;
  g_auto (GStrv) ids = g_new0 (char *, w->nz + 1);
  g_autofree double *lat = g_new (double, w->nz), *lon = g_new (double, w->nz);
  for (guint z = 0; z < w->nz; z++)
    {
      ids[z] = g_strdup (w->city->zones[z].id);
      lat[z] = w->city->zones[z].centroid.lat;
      lon[z] = w->city->zones[z].centroid.lon;
    }
  g_autoptr (FtZoning) zoning = ft_zoning_new (w->nz, (const char *const *) ids, lat, lon, error);
  if (!zoning)
    return FALSE;
  zoning->max_m = 5000;
  w->shadow = ft_shadow_new (&cfg, zoning, w->core->log, w->core->store, 0, error);
  if (!w->shadow)
    {
      g_prefix_error (error, "[models]: ");
      return FALSE;
    }
  /* Nothing acts on the models: their serving path runs beside the
   * simulator, on a consumer thread (ft_shadow_start_async) */
  if (!sc->models_act && !w->shadow_inline && g_strcmp0 (g_getenv ("FT_SHADOW_INLINE"), "1") != 0)
    ft_shadow_start_async (w->shadow, w->shadow_consumer_delay_us);
  FtTime first = ft_shadow_next_tick (w->shadow);
  if (first <= 0)
    first = (FtTime) (MIN (cfg.forecast ? cfg.cadence_min : 1e9, cfg.maint.enabled ? cfg.maint.cadence_min : 1e9)
                      * FT_MINUTE);
  if (first < w->end)
    ft_sim_engine_schedule (w->engine, first, PRIO_SYSTEM, ft_sim_world_on_shadow, w, 0);
  return TRUE;
}

FtSimWorld *
ft_sim_world_new (const FtSimScenario *sc, const FtCity *city, const FtSimWorldOptions *opt,
                  GError **error)
{
  g_return_val_if_fail (sc != NULL, NULL);
  g_autoptr (FtSimWorld) w = g_new0 (FtSimWorld, 1);
  w->sc = ft_sim_scenario_copy (sc);
  g_mutex_init (&w->cmd_lock);
  w->cmds = g_array_new (FALSE, FALSE, sizeof (Command));
  w->end = (FtTime) llround (sc->days * FT_DAY);
  gsl_set_error_handler_off ();
  for (int k = 0; k < 12; k++)
    {
      double a = k * (G_PI / 6.0);
      w->park_cos[k] = cos (a);
      w->park_sin[k] = sin (a);
    }

  if (city != NULL)
    w->city = city;
  else if (sc->city_osm || sc->city_trips)
    {
      w->city = w->city_owned = city_from_scenario (sc, error);
      if (w->city == NULL)
        return NULL;
    }
  else if (sc->city == NULL || g_strcmp0 (sc->city, "demo") == 0)
    w->city = w->city_owned = ft_city_new_demo ();
  else
    {
      g_autofree char *dir = NULL;
      if (g_path_is_absolute (sc->city) || sc->path == NULL)
        dir = g_strdup (sc->city);
      else
        {
          g_autofree char *base = g_path_get_dirname (sc->path);
          dir = g_build_filename (base, sc->city, NULL);
        }
      g_autoptr (GError) e = NULL;
      w->city = w->city_owned = ft_city_load (dir, &e);
      if (w->city == NULL)
        {
          g_set_error (error, FT_SIM_ERROR, FT_SIM_ERROR_CITY, "%s: [scenario] city: %s",
                       sc->path ? sc->path : "scenario", e->message);
          return NULL;
        }
    }
  if (w->city == NULL)
    {
      g_set_error (error, FT_SIM_ERROR, FT_SIM_ERROR_CITY, "the embedded Demo City could not be built");
      return NULL;
    }
  if (w->city->n_depots == 0)
    {
      g_set_error (error, FT_SIM_ERROR, FT_SIM_ERROR_CITY, "city %s has no depots", w->city->id);
      return NULL;
    }
  if (sc->routing == FT_SIM_ROUTING_STREET && w->city->graph.n_nodes > 0)
    w->router = ft_router_new (w->city);

  w->rng = ft_sim_rng_new (sc->seed, sc->replication);
  w->r_arrival = ft_sim_rng_stream (w->rng, "demand.arrivals");
  w->r_place = ft_sim_rng_stream (w->rng, "demand.places");
  w->r_price = ft_sim_rng_stream (w->rng, "riders.price");
  w->r_fault = ft_sim_rng_stream (w->rng, "vehicles.faults");
  w->r_init = ft_sim_rng_stream (w->rng, "fleet.initial");
  w->r_rebalance = ft_sim_rng_stream (w->rng, "ops.rebalance");
  w->r_damage = ft_sim_rng_stream (w->rng, "vehicles.damage");
  w->r_defect = ft_sim_rng_stream (w->rng, "vehicles.defects");
  if (sc->fleet_gbfs && !setup_gbfs (w, error))
    return NULL;
  w->nv = ft_sim_scenario_n_vehicles (w->sc);

  FtCoreConfig cfg;
  ft_core_config_init (&cfg);
  memcpy (cfg.currency, sc->currency, 4);
  cfg.seed = ft_sim_rng_derive_seed (sc->seed, "core.ids", sc->replication);
  cfg.booking.seed = ft_sim_rng_derive_seed (sc->seed, "booking.ids", sc->replication);
  cfg.booking.max_find_radius_m = sc->max_walk_m;
  FtGeofences *gf = w->city->geofences && sc->geofence_parking ? ft_geofences_ref_copy (w->city->geofences) : NULL;
  w->core = ft_core_new (&cfg, gf, build_pricing (sc, w->city));
  if (sc->summary_records)
    {
      /* only balances and each transaction's hashes: a database and the
       * assistant ([support]) read the journal, so they need full records */
      if ((opt && opt->store_path) || sc->support_contact_share > 0 || sc->support_charge_query_share > 0)
        {
          g_set_error (error, FT_SIM_ERROR, FT_SIM_ERROR_SETUP,
                       "summary_records keeps no ledger journal, which %s reads; "
                       "set summary_records = false", opt && opt->store_path ? "a database" : "[support]");
          return NULL;
        }
      ft_ledger_set_journal (w->core->ledger, FALSE);
      ft_booking_set_release (w->core->booking, TRUE);   /* and only open bookings */
    }
  if (opt && opt->store_path)
    {
      /* A run writes a new file; it never replaces or carries on an existing
       * one (the caller writes beside its target and moves the file into
       * place when the run is complete: see ft_output_begin). */
      GStatBuf st;
      if (g_lstat (opt->store_path, &st) == 0 && (!S_ISREG (st.st_mode) || st.st_size > 0))
        {
          g_set_error (error, FT_SIM_ERROR, FT_SIM_ERROR_SETUP,
                       "%s already exists: a run writes a new database file", opt->store_path);
          return NULL;
        }
      FtStoreConfig scfg;
      ft_store_config_init (&scfg);
      scfg.max_batch_events = 200000;
      if (!ft_core_attach_store (w->core, opt->store_path, &scfg, error))
        return NULL;
    }
  else
    {
      /* Without a store the log keeps no events, but only once shadow
       * mode has started (below): the maintenance shadow replays what is
       * pending when it starts (the fleet's vehicles and packs), as it does
       * with a store, so a database never changes what the models see. */
      ft_event_log_drain (w->core->log);
    }
  w->ops = w->core->ops;   /* the core's queue: the store persists it */
  ft_ops_enable_index (w->ops, w->city->bbox, 200.0);

  w->n_depots = w->city->n_depots;
  w->depots = g_new0 (Depot, w->n_depots);
  for (guint d = 0; d < w->n_depots; d++)
    {
      w->depots[d].pos = w->city->depots[d].pos;
      w->depots[d].chargers = sc->chargers_per_depot ? sc->chargers_per_depot
                              : MAX (w->city->depots[d].chargers, 1u);
      g_queue_init (&w->depots[d].waiting);
      w->depots[d].charged = g_array_new (FALSE, FALSE, sizeof (guint));
    }
  if (!setup_demand (w, error) || !setup_people (w, error) || !setup_fleet (w, error))
    return NULL;
  w->lost_cap = opt && opt->lost_ring ? opt->lost_ring : 2000;
  w->shadow_train_delay_ms = opt ? opt->shadow_train_delay_ms : 0;
  w->shadow_inline = opt ? opt->shadow_inline : FALSE;
  w->shadow_consumer_delay_us = opt ? opt->shadow_consumer_delay_us : 0;
  w->lost = g_new0 (FtSimLostPoint, w->lost_cap);
  w->price_fn = ft_sim_world_default_price_response;
  w->price_data = w;
  memcpy (w->k.currency, sc->currency, 4);

  w->engine = ft_sim_engine_new (0);
  if (!setup_trace (w, opt, error))
    return NULL;
  /* room made now for the run's bookings, ledger and keys, so the arrays
   * never move as they fill: from the expected requests (at most one
   * booking each; a Phase 1 day at 1,000 vehicles posts 1.65 transactions,
   * 4.0 postings and about as many keys as transactions a request, keys
   * that all name their booking, which payments keeps with the bookings:
   * its key table needs no room for them) */
  {
    double per_h = 0;
    for (guint h = 0; h < 168; h++)
      per_h += w->hour_total[h] / 168.0;
    double req = w->has_trace ? (double) w->n_trace : per_h * ((double) w->end / FT_HOUR);
    guint n = (guint) CLAMP (req * 1.05, 0.0, (double) (1u << 26));
    ft_booking_expect (w->core->booking, n);
    ft_ledger_expect (w->core->ledger, n * 2, n * 5);
    ft_payments_expect (w->core->payments, 0, n);
  }
  if (w->has_trace)
    {
      if (w->n_trace > 0 && w->trace[0].t < w->end)
        ft_sim_engine_schedule (w->engine, w->trace[0].t, PRIO_ARRIVAL, ft_sim_world_on_trace_request, w, 0);
    }
  else
    ft_sim_engine_schedule_lane (w->engine, 0, PRIO_ARRIVAL, ft_sim_world_on_arrival, w, 0);
  ft_sim_engine_schedule (w->engine, 0, PRIO_SYSTEM, ft_sim_world_on_minute, w, 0);
  if (sc->rebalancing)
    ft_sim_engine_schedule (w->engine, 30 * FT_MINUTE, PRIO_SYSTEM, ft_sim_world_on_rebalance_rule, w, 0);
  if (!ft_sim_world_setup_levers (w, error) || !ft_sim_world_setup_field (w, opt ? opt->field : NULL, error))
    return NULL;
  for (guint i = 0; i < w->n_staff; i++)
    {
      FtTime t = (FtTime) (w->staff[i].shift_start_h * FT_HOUR);
      if (t < w->end)
        ft_sim_engine_schedule (w->engine, t, PRIO_STAFF, ft_sim_world_on_staff_event, w,
                                ((guint64) SEV_SHIFT_START << 32) | i);
    }
  if ((sc->models_forecast || sc->models_maint) && !setup_shadow (w, error))
    return NULL;
  if (!w->core->store)
    ft_event_log_set_retain (w->core->log, FALSE);
  /* a fleet of mixed age: each odometer as a reading at the start, where
   * the shadow models (listening from now on) see it as telemetry would */
  for (guint v = 0; sc->initial_wear_max > 0 && v < w->nv; v++)
    {
      const FtVehicle *veh = ft_fleet_get_vehicle (w->core->fleet, v);
      if (veh->odometer_m > 0)
        ft_fleet_set_position (w->core->fleet, v, veh->pos, 0, 0, TRUE);
    }
  if (!ft_sim_world_setup_support (w, error))
    return NULL;
  if (!ft_sim_world_setup_ops (w, error))
    return NULL;
  if (w->core->store && !ft_core_commit (w->core, error))
    return NULL;
  return g_steal_pointer (&w);
}

void
ft_sim_world_free (FtSimWorld *w)
{
  if (w == NULL)
    return;
  ft_shadow_free (w->shadow);   /* listens on the core's log */
  if (w->core)
    ft_sim_world_free_ops (w);   /* so does the maintenance log */
  ft_assist_free (w->assist);
  ft_sim_engine_free (w->engine);
  ft_core_free (w->core);
  ft_router_free (w->router);
  if (w->city_owned)
    ft_city_free (w->city_owned);
  if (w->gbfs)
    ft_gbfs_feed_free (w->gbfs);
  ft_sim_rng_free (w->rng);
  ft_grid_index_free (w->low_ix);
  g_free (w->trace);
  for (guint i = 0; w->staff && i < w->n_staff; i++)
    {
      if (w->staff[i].queue)
        g_array_unref (w->staff[i].queue);
      if (w->staff[i].van_packs)
        g_array_unref (w->staff[i].van_packs);
      if (w->staff[i].route)
        g_array_unref (w->staff[i].route);
    }
  g_free (w->staff);
  for (guint d = 0; w->depots && d < w->n_depots; d++)
    {
      g_queue_clear (&w->depots[d].waiting);
      g_array_unref (w->depots[d].charged);
    }
  g_free (w->depots);
  ft_sim_world_free_field (w);
  g_free (w->veh);
  g_free (w->rent_m);
  g_free (w->riders);
  g_free (w->hour_total);
  g_free (w->zone_w);
  g_free (w->hour_total_shift);
  g_free (w->zone_w_shift);
  g_free (w->dest_sum);
  g_free (w->zone_cum);
  g_free (w->zone_cum_shift);
  g_free (w->dest_cum);
  g_free (w->zone_bbox);
  g_free (w->lost);
  if (w->cmds)
    g_array_unref (w->cmds);
  g_mutex_clear (&w->cmd_lock);
  ft_sim_scenario_free (w->sc);
  g_free (w);
}
