/* cmd-city.c — `fleet-twin-cli city …`: generate Demo City as a city pack
 * (`city generate`), describe a pack or the built-in Demo City (`city info`),
 * and bake map tiles (`city bake-tiles`, in cmd-tiles.c). Sub-subcommands
 * live in one table.
 */
#include "ft-config.h"
#include "ft-cli.h"
#include "ft-city.h"

#include <stdio.h>
#include <string.h>

int ft_cli_city_bake_tiles (int argc, char **argv);   /* cmd-tiles.c */

static int city_generate (int argc, char **argv);
static int city_info     (int argc, char **argv);

static const FtCliEntry city_commands[] = {
  { "generate",   city_generate,          "Generate Demo City from a parameter file into a city pack" },
  { "info",       city_info,              "Describe a city pack (or the built-in Demo City)" },
  { "bake-tiles", ft_cli_city_bake_tiles, "Render a city pack's map into an MBTiles file" },
};

static void
city_usage (FILE *out, const char *prog)
{
  fprintf (out, "Usage: %s COMMAND [OPTIONS]\n\nCommands:\n", prog);
  for (guint i = 0; i < G_N_ELEMENTS (city_commands); i++)
    fprintf (out, "  %-12s %s\n", city_commands[i].name, city_commands[i].summary);
  fprintf (out, "\nRun '%s COMMAND --help' for a command's options.\n", prog);
}

int
ft_cli_city (int argc, char **argv)
{
  if (argc < 2 || strcmp (argv[1], "--help") == 0 || strcmp (argv[1], "-h") == 0 ||
      strcmp (argv[1], "help") == 0)
    {
      city_usage (argc < 2 ? stderr : stdout, argv[0]);
      return argc < 2 ? 2 : 0;
    }
  for (guint i = 0; i < G_N_ELEMENTS (city_commands); i++)
    if (strcmp (argv[1], city_commands[i].name) == 0)
      {
        g_autofree char *name = g_strdup_printf ("%s %s", argv[0], argv[1]);
        char **sub = g_new0 (char *, argc);
        sub[0] = name;
        for (int k = 2; k < argc; k++)
          sub[k - 1] = argv[k];
        int rc = city_commands[i].run (argc - 1, sub);
        g_free (sub);
        return rc;
      }
  fprintf (stderr, "%s: unknown command \"%s\"\n\n", argv[0], argv[1]);
  city_usage (stderr, argv[0]);
  return 2;
}

static int
city_generate (int argc, char **argv)
{
  g_autofree char *params = NULL, *out = NULL;
  GOptionEntry entries[] = {
    { "params", 'p', 0, G_OPTION_ARG_FILENAME, &params,
      "Parameter file (default: the built-in data/demo-city.ini)", "FILE" },
    { "out", 'o', 0, G_OPTION_ARG_FILENAME, &out, "City pack folder to write (required)", "DIR" },
    { NULL }
  };
  g_autoptr(GOptionContext) ctx = g_option_context_new ("— generate Demo City as a city pack");
  g_option_context_set_description (ctx,
    "Generation is deterministic: the same parameters give byte-identical packs.\n"
    "The pack is written to a temporary folder and renamed into place.");
  g_option_context_add_main_entries (ctx, entries, NULL);
  g_autoptr(GError) error = NULL;
  if (!g_option_context_parse (ctx, &argc, &argv, &error))
    {
      fprintf (stderr, "%s: %s\n", argv[0], error->message);
      return 2;
    }
  if (out == NULL || argc > 1)
    {
      fprintf (stderr, "%s: %s\n", argv[0], out == NULL ? "--out DIR is required" : "unexpected argument");
      return 2;
    }
  g_autoptr(FtCity) city = ft_city_generate_demo (params, &error);
  if (city == NULL)
    {
      fprintf (stderr, "%s: %s\n", argv[0], error->message);
      return 1;
    }
  if (!ft_city_save (city, out, &error))
    {
      fprintf (stderr, "%s: %s\n", argv[0], error->message);
      return 1;
    }
  printf ("wrote %s (%s): %u zones, %u road nodes, %u edges, %u depots\n", out, city->name,
          city->n_zones, city->graph.n_nodes, city->graph.n_edges, city->n_depots);
  return 0;
}

static int
city_info (int argc, char **argv)
{
  gboolean zones = FALSE;
  GOptionEntry entries[] = {
    { "zones", 'z', 0, G_OPTION_ARG_NONE, &zones, "List every zone", NULL },
    { NULL }
  };
  g_autoptr(GOptionContext) ctx = g_option_context_new ("DIR|demo — describe a city pack");
  g_option_context_set_description (ctx,
    "DIR is a city pack folder; \"demo\" is the built-in Demo City.");
  g_option_context_add_main_entries (ctx, entries, NULL);
  g_autoptr(GError) error = NULL;
  if (!g_option_context_parse (ctx, &argc, &argv, &error))
    {
      fprintf (stderr, "%s: %s\n", argv[0], error->message);
      return 2;
    }
  if (argc != 2)
    {
      fprintf (stderr, "%s: expected one city pack folder or \"demo\"\n", argv[0]);
      return 2;
    }
  g_autoptr(FtCity) city = strcmp (argv[1], "demo") == 0 ? ft_city_generate_demo (NULL, &error)
                                                          : ft_city_load (argv[1], &error);
  if (city == NULL)
    {
      fprintf (stderr, "%s: %s\n", argv[0], error->message);
      return 1;
    }
  const FtRoadGraph *g = &city->graph;
  printf ("city        %s (%s), currency %s, UTC%+d min\n", city->name, city->id, city->currency,
          city->utc_offset_min);
  printf ("centre      %.5f, %.5f\n", city->center.lat, city->center.lon);
  printf ("bbox        %.5f,%.5f .. %.5f,%.5f\n", city->bbox.min_lat, city->bbox.min_lon,
          city->bbox.max_lat, city->bbox.max_lon);
  if (city->operating_area)
    printf ("operating   %.2f km2\n", ft_multipolygon_area_m2 (city->operating_area) / 1e6);

  guint kinds[FT_N_ZONE_KINDS] = { 0 };
  for (guint z = 0; z < city->n_zones; z++)
    kinds[city->zones[z].kind]++;
  printf ("zones       %u:", city->n_zones);
  for (guint k = 0; k < FT_N_ZONE_KINDS; k++)
    if (kinds[k])
      printf (" %s %u", ft_zone_kind_name (k), kinds[k]);
  printf ("\n");

  double km[FT_N_ROAD_CLASSES] = { 0 };
  guint oneway = 0;
  for (guint e = 0; e < g->n_edges; e++)
    {
      km[g->edges[e].road_class] += g->edges[e].length_m / 1000.0 *
                                    ((g->edges[e].flags & FT_EDGE_ONEWAY) ? 1.0 : 0.5);
      oneway += (g->edges[e].flags & FT_EDGE_ONEWAY) != 0;
    }
  printf ("roads       %u nodes, %u directed edges (%u one-way), largest component %.2f%% of nodes\n",
          g->n_nodes, g->n_edges, oneway, 100.0 * ft_road_graph_largest_component_share (g));
  printf ("street km  ");
  for (guint c = 0; c < FT_N_ROAD_CLASSES; c++)
    if (km[c] > 0)
      printf (" %s %.1f", ft_road_class_name (c), km[c]);
  printf ("\n");
  printf ("depots      %u\n", city->n_depots);
  for (guint d = 0; d < city->n_depots; d++)
    printf ("  %-14s %-18s %.5f,%.5f  chargers %u, packs %u\n", city->depots[d].id,
            city->depots[d].name, city->depots[d].pos.lat, city->depots[d].pos.lon,
            city->depots[d].chargers, city->depots[d].pack_stock);
  guint nf = city->geofences ? ft_geofences_n_zones (city->geofences) : 0;
  printf ("geofences   %u\n", nf);
  for (guint i = 0; i < nf; i++)
    {
      const FtGeofenceZone *z = ft_geofences_get (city->geofences, i);
      printf ("  %-26s start %s, end %s%s", z->id, z->rules.ride_start_allowed ? "yes" : "no",
              z->rules.ride_end_allowed ? "yes" : "no", z->rules.maximum_speed_kph > 0 ? ", max " : "");
      if (z->rules.maximum_speed_kph > 0)
        printf ("%g km/h", z->rules.maximum_speed_kph);
      printf ("\n");
    }
  const FtDemandProfile *dp = &city->demand;
  if (dp->rate)
    {
      double hour[24] = { 0 }, wk = 0, we = 0;
      for (guint z = 0; z < dp->n_zones; z++)
        for (guint h = 0; h < 168; h++)
          {
            double r = dp->rate[z * 168 + h];
            hour[h % 24] += r / 7;
            if (h / 24 < 5) wk += r / 5; else we += r / 2;
          }
      guint peak = 0;
      for (guint h = 1; h < 24; h++)
        if (hour[h] > hour[peak])
          peak = h;
      printf ("demand      %.0f requests/day (weekday %.0f, weekend day %.0f), peak hour %02u:00 "
              "(%.0f/h), mean straight-line trip %.0f m, weather x%.2f\n",
              ft_demand_profile_per_day (dp), wk, we, peak, hour[peak], dp->mean_trip_m,
              dp->weather_multiplier);
    }
  printf ("tiles       %s\n", city->tiles_path ? city->tiles_path : "(none)");
  if (zones)
    for (guint z = 0; z < city->n_zones; z++)
      {
        const FtZone *zo = &city->zones[z];
        double day = 0;
        if (dp->rate)
          for (guint h = 0; h < 168; h++)
            day += dp->rate[z * 168 + h] / 7;
        printf ("  %-6s %-24s %-11s %6.3f km2  price x%.2f  %7.1f req/day\n", zo->id, zo->name,
                ft_zone_kind_name (zo->kind), zo->area_km2, zo->pricing_multiplier, day);
      }
  return 0;
}
