/* cmd-trips.c — `fleet-twin-cli import-trips`: read public trip data
 * (Citi Bike CSV layouts, MDS 2.0 trips JSON), report what was dropped and
 * why, fit a demand profile, optionally move it onto another city's zones,
 * and keep the trips as a replayable demand trace.
 */
#include "ft-config.h"
#include "ft-cli.h"
#include "ft-demand-fit.h"

#include <stdio.h>
#include <string.h>

static void
print_set (const FtTripSet *set)
{
  printf ("%s (%s): %u rows, %u trips kept, %u dropped\n", set->source,
          set->layout_name ? set->layout_name : ft_trips_layout_name (set->layout),
          set->n_rows, set->n_trips, ft_trip_set_n_dropped (set));
  if (set->time_zone)
    printf ("  times in %s\n", set->time_zone);
  if (set->n_same_slot)
    printf ("  kept %u trips that start and end in the same rounded time slot\n", set->n_same_slot);
  for (int d = 0; d < FT_N_TRIP_DROPS; d++)
    if (set->dropped[d])
      printf ("  dropped %-12s %u\n", ft_trip_drop_name ((FtTripDrop) d), set->dropped[d]);
}

/* Concatenate several sets into one. */
static FtTripSet *
merge_sets (GPtrArray *sets)
{
  FtTripSet *all = g_new0 (FtTripSet, 1);
  guint n = 0;
  for (guint i = 0; i < sets->len; i++)
    n += ((FtTripSet *) sets->pdata[i])->n_trips;
  all->trips = g_new (FtTrip, MAX (n, 1));
  for (guint i = 0; i < sets->len; i++)
    {
      FtTripSet *s = sets->pdata[i];
      memcpy (all->trips + all->n_trips, s->trips, sizeof (FtTrip) * s->n_trips);
      all->n_trips += s->n_trips;
      all->n_rows += s->n_rows;
      for (int d = 0; d < FT_N_TRIP_DROPS; d++)
        all->dropped[d] += s->dropped[d];
      all->layout = s->layout;
    }
  all->source = g_strdup ("all files");
  return all;
}

int
ft_cli_import_trips (int argc, char **argv)
{
  g_autofree char *out = NULL, *city_dir = NULL, *trace = NULL, *name = NULL;
  g_autofree char *mapping = NULL, *tz = NULL;
  double hex_m = 400, per_day = 0;
  GOptionEntry entries[] = {
    { "out", 'o', 0, G_OPTION_ARG_FILENAME, &out, "Write a city pack with the fitted demand here", "DIR" },
    { "city", 'c', 0, G_OPTION_ARG_FILENAME, &city_dir, "Move the fitted pattern onto this city pack's zones", "DIR" },
    { "requests-per-day", 'r', 0, G_OPTION_ARG_DOUBLE, &per_day, "Scale the moved demand to this many requests a day", "N" },
    { "hex", 0, 0, G_OPTION_ARG_DOUBLE, &hex_m, "Zone hexagon size in metres for the trips' own city (default 400)", "M" },
    { "trace", 't', 0, G_OPTION_ARG_FILENAME, &trace, "Write the trips as a replayable demand trace", "FILE" },
    { "name", 'n', 0, G_OPTION_ARG_STRING, &name, "City name (default from the first file)", "NAME" },
    { "mapping", 'm', 0, G_OPTION_ARG_FILENAME, &mapping, "Column mapping: a built-in name or a mapping key file", "NAME|FILE" },
    { "tz", 0, 0, G_OPTION_ARG_STRING, &tz, "The city's time zone (IANA); MDS and zoned times are converted to it", "ZONE" },
    { NULL }
  };
  g_autoptr(GOptionContext) ctx = g_option_context_new ("FILE… — import trips and fit demand");
  g_option_context_add_main_entries (ctx, entries, NULL);
  g_option_context_set_description (ctx,
    "Reads trip CSVs (built-in mappings: citibike-v1, citibike-v3, louisville-dockless,\n"
    "chicago-scooter; any other layout through a mapping file) and MDS 2.0 trips JSON.\n"
    "Malformed files are refused whole; implausible trips are dropped and counted.\n");
  g_autoptr(GError) error = NULL;
  if (!g_option_context_parse (ctx, &argc, &argv, &error))
    {
      fprintf (stderr, "fleet-twin-cli import-trips: %s\n", error->message);
      return 2;
    }
  if (argc < 2)
    {
      fprintf (stderr, "usage: fleet-twin-cli import-trips FILE… [--out DIR] [--city DIR] [--trace FILE]\n");
      return 2;
    }

  g_autoptr(FtTripsMapping) map = mapping ? ft_trips_mapping_load (mapping, &error) : NULL;
  if (mapping && map == NULL)
    {
      fprintf (stderr, "fleet-twin-cli import-trips: %s\n", error->message);
      return 1;
    }
  FtTripsOptions topt = { .mapping = map, .time_zone = tz };
  g_autoptr(GPtrArray) sets = g_ptr_array_new_with_free_func ((GDestroyNotify) ft_trip_set_free);
  for (int i = 1; i < argc; i++)
    {
      FtTripSet *s = ft_trips_load_with (argv[i], &topt, &error);
      if (s == NULL)
        {
          fprintf (stderr, "fleet-twin-cli import-trips: %s\n", error->message);
          return 1;
        }
      print_set (s);
      g_ptr_array_add (sets, s);
    }
  g_autoptr(FtTripSet) all = sets->len == 1 ? NULL : merge_sets (sets);
  FtTripSet *trips = all ? all : sets->pdata[0];

  double hourly[24];
  ft_trips_hourly_profile (trips, hourly);
  printf ("trips per hour of day:");
  for (int h = 0; h < 24; h++)
    printf (" %.1f", hourly[h]);
  printf ("\n");

  if (trace)
    {
      guint n = 0;
      g_autofree FtDemandRequest *reqs = ft_trips_to_trace (trips, &n);
      if (!ft_trace_save (trace, reqs, n, &error))
        {
          fprintf (stderr, "fleet-twin-cli import-trips: %s\n", error->message);
          return 1;
        }
      printf ("trace: %u requests written to %s\n", n, trace);
    }

  if (out == NULL)
    return 0;

  g_autofree char *base = g_path_get_basename (argv[1]);
  g_autoptr(FtCity) own = ft_city_from_trips (trips, name ? name : base, hex_m, &error);
  FtDemandFitReport rep;
  if (own == NULL || !ft_demand_fit (own, trips, &rep, &error))
    {
      fprintf (stderr, "fleet-twin-cli import-trips: %s\n", error->message);
      return 1;
    }
  printf ("fitted: %u trips over %.0f days in %u zones: %.1f requests/day, mean trip %.0f m\n",
          rep.trips_used, rep.days_covered, own->n_zones, rep.requests_per_day, rep.mean_trip_m);

  FtCity *result = own;
  g_autoptr(FtCity) target = NULL;
  if (city_dir)
    {
      target = ft_city_load (city_dir, &error);
      if (target == NULL || !ft_demand_transfer (own, trips, target, per_day, &error))
        {
          fprintf (stderr, "fleet-twin-cli import-trips: %s\n", error->message);
          return 1;
        }
      if (name)
        {
          g_free (target->name);
          target->name = g_strdup (name);
        }
      result = target;
      double week = 0;
      for (guint i = 0; i < target->demand.n_zones * 168; i++)
        week += target->demand.rate[i];
      printf ("moved onto %s (%u zones): %.1f requests/day\n", target->name, target->n_zones, week / 7);
    }
  if (!ft_city_save (result, out, &error))
    {
      fprintf (stderr, "fleet-twin-cli import-trips: %s\n", error->message);
      return 1;
    }
  printf ("city pack written to %s\n", out);
  return 0;
}
