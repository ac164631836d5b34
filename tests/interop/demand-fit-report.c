/* demand-fit-report.c — does demand fitted from real trips reproduce them?
 *
 * Reads the January 2020 Citi Bike (Jersey City) trips, builds a city of
 * hexagonal zones over them, fits the demand profile, simulates four weeks
 * with ample vehicles (straight-line riding, detour factor 1, so ridden
 * distance is comparable with the data's straight-line distance), and
 * compares the simulated hourly trip-count profile and trip-length
 * distribution with the data's. Prints the figures; exits non-zero if the
 * hourly correlation is below 0.9 or the mean trip length is off by more
 * than 20 %.
 *
 *   demand-fit-report [TRIPS.csv] [--days N]
 */
#include "ft-config.h"
#include "ft-test.h"
#include "ft-demand-fit.h"
#include "ft-sim-world.h"

#include <stdio.h>
#include <string.h>

#define N_BINS 16
#define BIN_M  250.0

typedef struct {
  double hourly[24];
  double len_hist[N_BINS];
  double len_sum;
  guint  n;
} Observed;

static void
on_event (const FtEvent *ev, gpointer data)
{
  Observed *o = data;
  if (ev->kind != FT_EV_BOOKING_ENDED)
    return;
  double m = (double) ev->b;
  int hour = (int) ((ev->t / FT_HOUR) % 24);
  o->hourly[hour] += 1;
  o->len_hist[MIN ((int) (m / BIN_M), N_BINS - 1)] += 1;
  o->len_sum += m;
  o->n++;
}

int
main (int argc, char **argv)
{
  const char *shared = ft_test_shared_dir ();
  g_autofree char *path = argc > 1 && argv[1][0] != '-' ? g_strdup (argv[1])
                        : g_build_filename (shared, "trips", "JC-202001-citibike-tripdata.csv", NULL);
  double days = 28;
  for (int i = 1; i + 1 < argc; i++)
    if (strcmp (argv[i], "--days") == 0)
      days = g_ascii_strtod (argv[i + 1], NULL);

  g_autoptr(GError) error = NULL;
  g_autoptr(FtTripSet) trips = ft_trips_load (path, &error);
  if (trips == NULL)
    {
      fprintf (stderr, "%s\n", error->message);
      return 1;
    }
  g_autoptr(FtCity) city = ft_city_from_trips (trips, "Jersey City (Citi Bike)", 400, &error);
  FtDemandFitReport rep;
  if (city == NULL || !ft_demand_fit (city, trips, &rep, &error))
    {
      fprintf (stderr, "%s\n", error->message);
      return 1;
    }
  printf ("data: %u rows, %u trips kept, %u dropped; fitted %.1f requests/day over %u zones\n",
          trips->n_rows, trips->n_trips, ft_trip_set_n_dropped (trips), rep.requests_per_day,
          city->n_zones);

  g_autoptr(FtSimScenario) sc = ft_sim_scenario_new_default ();
  g_free (sc->name);
  sc->name = g_strdup ("citibike-jc-fit");
  sc->days = days;
  sc->seed = 7;
  sc->scooters = 0;
  sc->bikes = 3000;            /* ample: ~3.5 bikes per daily trip */
  sc->mopeds = 0;
  sc->initial_soc_min = 0.9;
  sc->initial_soc_max = 1.0;
  sc->requests_per_day = 0;
  sc->requests_per_vehicle_day = 0;
  sc->demand_scale = 1.0;
  sc->max_walk_m = 800;
  sc->routing = FT_SIM_ROUTING_STRAIGHT;
  sc->detour_factor = 1.0;
  sc->min_trip_m = 0;
  sc->price_response = FALSE;
  sc->rebalancing = TRUE;
  sc->battery_swaps = TRUE;
  memcpy (sc->currency, "USD", 4);

  g_autoptr(FtSimWorld) w = ft_sim_world_new (sc, city, NULL, &error);
  if (w == NULL)
    {
      fprintf (stderr, "world: %s\n", error->message);
      return 1;
    }
  Observed sim = { 0 };
  ft_event_log_add_listener (ft_sim_world_get_core (w)->log, on_event, &sim);
  if (!ft_sim_world_run (w, NULL, NULL, &error))
    {
      fprintf (stderr, "run: %s\n", error->message);
      return 1;
    }
  FtSimKpis k;
  ft_sim_world_kpis (w, &k);

  double obs[24];
  ft_trips_hourly_profile (trips, obs);
  double simh[24];
  for (int h = 0; h < 24; h++)
    simh[h] = sim.hourly[h] / days;
  double corr = ft_profile_correlation (obs, simh, 24);
  printf ("simulated %.0f days: %" G_GUINT64_FORMAT " requested, %" G_GUINT64_FORMAT
          " served, %" G_GUINT64_FORMAT " lost\n", days, k.trips_requested, k.trips_served,
          k.trips_lost);
  printf ("\nhour  data/day  sim/day   error\n");
  double abs_err = 0;
  for (int h = 0; h < 24; h++)
    {
      printf ("%4d  %8.1f  %7.1f  %+6.1f\n", h, obs[h], simh[h], simh[h] - obs[h]);
      abs_err += fabs (simh[h] - obs[h]);
    }
  double obs_total = 0;
  for (int h = 0; h < 24; h++)
    obs_total += obs[h];
  printf ("hourly profile: correlation %.3f, mean absolute error %.2f trips/h (%.1f %% of the mean hour)\n",
          corr, abs_err / 24, 100.0 * (abs_err / 24) / (obs_total / 24));

  double data_hist[N_BINS] = { 0 }, data_sum = 0;
  for (guint i = 0; i < trips->n_trips; i++)
    {
      data_hist[MIN ((int) (trips->trips[i].distance_m / BIN_M), N_BINS - 1)] += 1;
      data_sum += trips->trips[i].distance_m;
    }
  double data_mean = data_sum / trips->n_trips, sim_mean = sim.n ? sim.len_sum / sim.n : 0;
  printf ("\ntrip length (m)   data %%   sim %%\n");
  double cd = 0, cs = 0, ks = 0;
  for (int b = 0; b < N_BINS; b++)
    {
      double pd = data_hist[b] / trips->n_trips, ps = sim.n ? sim.len_hist[b] / sim.n : 0;
      cd += pd;
      cs += ps;
      ks = MAX (ks, fabs (cd - cs));
      printf ("%5.0f-%-5.0f%s     %5.1f   %5.1f\n", b * BIN_M, (b + 1) * BIN_M,
              b == N_BINS - 1 ? "+" : " ", 100 * pd, 100 * ps);
    }
  printf ("trip length: data mean %.0f m, simulated mean %.0f m (%+.1f %%), KS distance %.3f\n",
          data_mean, sim_mean, 100 * (sim_mean - data_mean) / data_mean, ks);

  gboolean ok = corr >= 0.9 && fabs (sim_mean - data_mean) / data_mean <= 0.2;
  printf ("\ndemand-fit: %s\n", ok ? "reproduces the data" : "DOES NOT reproduce the data");
  return ok ? 0 : 1;
}
