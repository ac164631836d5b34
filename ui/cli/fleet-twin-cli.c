/* fleet-twin-cli — the headless Fleet Twin: runs scenarios, imports and
 * exports data, and attaches to live telemetry, for batch work, CI and
 * servers. No GTK is linked. Each subcommand parses its own GOption
 * context, so `fleet-twin-cli SUBCOMMAND --help` works for each.
 */
#include "ft-config.h"
#include "ft-cli.h"

#include <stdio.h>
#include <string.h>
#include <locale.h>

static const FtCliEntry commands[] = {
  { "demo",          ft_cli_demo,         "Run a short scripted core loop on a fresh database" },
  { "run",           ft_cli_run,          "Run a scenario and report KPIs" },
  { "compare",       ft_cli_compare,      "Compare runs side by side" },
  { "check",         ft_cli_check,        "Check store files: integrity and invariants" },
  { "city",          ft_cli_city,         "Generate, inspect or bake tiles for a city pack" },
  { "import-osm",    ft_cli_import_osm,   "Build a city pack from an OpenStreetMap PBF file" },
  { "import-trips",  ft_cli_import_trips, "Import trip data, fit demand, write a replay trace" },
  { "gbfs",          ft_cli_gbfs,         "Import or export GBFS feeds" },
  { "emulate",       ft_cli_emulate,      "Publish a simulated fleet as live MQTT telemetry" },
  { "live",          ft_cli_live,         "Attach to live MQTT telemetry and persist it" },
  { "forecast",      ft_cli_forecast,     "Backtest the demand forecasts on a trip file" },
  { "analytics",     ft_cli_analytics,    "Build the aggregate tables of a run or live database, export them" },
  { "report",        ft_cli_report,       "Write a PDF report (charts, tables) of a run or live database" },
  { "vrptw",         ft_cli_vrptw,        "Solve a vehicle-routing (VRPTW) instance in Solomon format" },
  { "maintenance",   ft_cli_maintenance,  "Backtest the predictive-maintenance models on a run" },
  { "models",        ft_cli_models,       "Model registry: list, show, train, promote, retire" },
  { "mds",           ft_cli_mds,          "Export MDS 2.0 provider files from a run, live database or scenario" },
  { "serve",         ft_cli_serve,        "Serve MDS, GBFS, metrics and health over HTTP" },
  { "assist",        ft_cli_assist,       "Rider support assistant: classify, eval, ask, hand-offs" },
  { "inspect",       ft_cli_inspect,      "Check a rider's photo for damage; the staff review queue" },
  { "region",        ft_cli_region,       "Region playbook and data: launch, init, retention, cross-region report" },
  { "rider",         ft_cli_rider,        "A rider's data rights: export everything held as JSON, or erase" },
  { "experiment",    ft_cli_experiment,   "Experiments: run, sweep, report, Slurm / GNU parallel, merge" },
  { "render",        ft_cli_render,       "Draw a replay, scenario or live twin to PNG frames or an MP4" },
  { "accounts",      ft_cli_accounts,     "Accounts of a store: list them, create staff (as an admin)" },
  { NULL, NULL, NULL }
};

static void
usage (FILE *out)
{
  fprintf (out, "Usage: fleet-twin-cli COMMAND [OPTIONS…]\n\n"
                "Fleet Twin %s — digital twin of a shared-micromobility operator.\n\n"
                "Commands:\n", FT_VERSION);
  for (const FtCliEntry *e = commands; e->name; e++)
    fprintf (out, "  %-14s %s\n", e->name, e->summary);
  fprintf (out, "\nRun 'fleet-twin-cli COMMAND --help' for a command's options.\n");
}

int
main (int argc, char **argv)
{
  setlocale (LC_ALL, "");
  setlocale (LC_NUMERIC, "C");   /* JSON and CSV numbers use '.' */

  if (argc < 2)
    {
      usage (stderr);
      return 2;
    }
  if (strcmp (argv[1], "--help") == 0 || strcmp (argv[1], "-h") == 0 || strcmp (argv[1], "help") == 0)
    {
      usage (stdout);
      return 0;
    }
  if (strcmp (argv[1], "--version") == 0)
    {
      printf ("fleet-twin-cli %s\n", FT_VERSION);
      return 0;
    }

  for (const FtCliEntry *e = commands; e->name; e++)
    if (strcmp (argv[1], e->name) == 0)
      {
        g_autofree char *prog = g_strdup_printf ("fleet-twin-cli %s", e->name);
        argv[1] = prog;
        return e->run (argc - 1, argv + 1);
      }

  fprintf (stderr, "fleet-twin-cli: unknown command '%s'\n\n", argv[1]);
  usage (stderr);
  return 2;
}
