/* cmd-rider.c — `fleet-twin-cli rider export|erase`: a rider's data rights
 * on a store (src/region/ft-region-data.h): everything held about them as
 * JSON, or their personal data erased; role-checked and audited in the
 * store. STORE is a store file or a region folder with one store.
 */
#include "ft-cli.h"
#include "ft-file.h"
#include "ft-region-data.h"

#include <stdio.h>
#include <string.h>

/* A store file, or the one store of a region folder (whose policy then
 * gives the erasure's grid). */
static char *
resolve_store (const char *path, double *cell_m, GError **error)
{
  g_auto(FtRegionPolicy) p = { 0 };
  g_autoptr(GPtrArray) stores = NULL;

  if (!g_file_test (path, G_FILE_TEST_IS_DIR))
    return g_strdup (path);
  if (!ft_region_policy_load (path, &p, error) ||
      (stores = ft_region_store_paths (path, error)) == NULL)
    return NULL;
  if (stores->len != 1)
    {
      g_set_error (error, FT_REGION_DATA_ERROR, FT_REGION_DATA_ERROR_INPUT,
                   "region folder %s holds %u stores; name the store file (%s/data/NAME.db)",
                   path, stores->len, path);
      return NULL;
    }
  if (cell_m && *cell_m <= 0)
    *cell_m = p.coarsen_m;
  return g_strdup (stores->pdata[0]);
}

static int
rider_rights (int argc, char **argv, gboolean erase)
{
  g_autofree char *rider = NULL, *actor = NULL, *out = NULL, *now_s = NULL, *store = NULL;
  double grid = 0;
  gboolean force = FALSE;
  GOptionEntry entries[] = {
    { "rider", 'r', 0, G_OPTION_ARG_STRING, &rider, "The rider: account id, e-mail or #INDEX (required)", "WHO" },
    { "as", 'a', 0, G_OPTION_ARG_STRING, &actor, "Who asks: the rider themself, support staff or an admin (required)", "WHO" },
    { "now", 0, 0, G_OPTION_ARG_STRING, &now_s, "The audit row's time: ms in the store's clock or ISO 8601 (default: now)", "T" },
    { NULL }
  };
  GOptionEntry export_entries[] = {
    { "output", 'o', 0, G_OPTION_ARG_FILENAME, &out, "Write the JSON here (default: standard output)", "FILE" },
    { "force", 0, 0, G_OPTION_ARG_NONE, &force, "Replace an existing file that is not ours", NULL },
    { NULL }
  };
  GOptionEntry erase_entries[] = {
    { "grid", 0, 0, G_OPTION_ARG_DOUBLE, &grid, "Coarsen the rider's trip positions to this grid (m; default: the region's, else 500)", "M" },
    { NULL }
  };
  g_autoptr(GOptionContext) ctx = g_option_context_new (erase ? "STORE — erase a rider's personal data"
                                                              : "STORE — export everything held about a rider as JSON");
  g_autoptr(GError) error = NULL;
  FtRightsRequest req = { 0 };

  g_option_context_add_main_entries (ctx, entries, NULL);
  g_option_context_add_main_entries (ctx, erase ? erase_entries : export_entries, NULL);
  g_option_context_set_description (ctx,
    "A rider may act for themself; for another rider an export needs a dispatcher\n"
    "(support) or an admin, an erasure an admin. Every request carried out is a row\n"
    "of the store's rights_audit table. STORE is a store file or a region folder\n"
    "holding one store.\n");
  if (!g_option_context_parse (ctx, &argc, &argv, &error))
    {
      fprintf (stderr, "%s: %s\n", argv[0], error->message);
      return 2;
    }
  if (argc != 2 || rider == NULL || actor == NULL)
    {
      fprintf (stderr, "usage: fleet-twin-cli rider %s STORE --rider WHO --as WHO%s\n",
               erase ? "erase" : "export", erase ? " [--grid M]" : " [-o FILE]");
      return 2;
    }
  if (!ft_cli_parse_time (now_s, &req.now, &error) ||
      (store = resolve_store (argv[1], erase ? &grid : NULL, &error)) == NULL)
    {
      fprintf (stderr, "%s: %s\n", argv[0], error->message);
      return 1;
    }
  req.store = store;
  req.rider = rider;
  req.actor = actor;
  req.coarsen_m = grid;
  if (erase)
    {
      FtErasureResult res;
      if (!ft_rights_erase (&req, &res, &error))
        {
          fprintf (stderr, "%s: %s\n", argv[0], error->message);
          return 1;
        }
      printf ("erased %s in %s: now %s; %u trips kept; coarsened %" G_GINT64_FORMAT " bookings and %"
              G_GINT64_FORMAT " events; cleared %" G_GINT64_FORMAT " hand-off messages, %"
              G_GINT64_FORMAT " pending confirmations, %" G_GINT64_FORMAT " photo paths\n",
              rider, store, res.pseudonym, res.trips, res.bookings_coarsened, res.events_coarsened,
              res.handoffs_cleared, res.pending_removed, res.photos_cleared);
      return 0;
    }
  g_autoptr(FtOutput) o = NULL;
  if (out)
    {
      o = ft_output_begin (out, FT_OUTPUT_FILE, NULL, force, &error);
      if (o == NULL)
        {
          fprintf (stderr, "%s: %s\n", argv[0], error->message);
          return 1;
        }
    }
  g_autofree char *json = ft_rights_export (&req, &error);
  if (json == NULL)
    {
      fprintf (stderr, "%s: %s\n", argv[0], error->message);
      return 1;
    }
  if (o == NULL)
    {
      fputs (json, stdout);
      fputc ('\n', stdout);
      return 0;
    }
  if (!g_file_set_contents (ft_output_get_path (o), json, -1, &error) ||
      !ft_output_commit (g_steal_pointer (&o), &error))
    {
      fprintf (stderr, "%s: %s\n", argv[0], error->message);
      return 1;
    }
  fprintf (stderr, "rider data of %s written to %s\n", rider, out);
  return 0;
}

int
ft_cli_rider (int argc, char **argv)
{
  if (argc >= 2 && (strcmp (argv[1], "export") == 0 || strcmp (argv[1], "erase") == 0))
    {
      gboolean erase = strcmp (argv[1], "erase") == 0;
      argv[1] = (char *) (erase ? "fleet-twin-cli rider erase" : "fleet-twin-cli rider export");
      return rider_rights (argc - 1, argv + 1, erase);
    }
  fprintf (stderr, "usage: fleet-twin-cli rider export STORE --rider WHO --as WHO [-o FILE]\n"
                   "       fleet-twin-cli rider erase STORE --rider WHO --as WHO [--grid M]\n");
  return 2;
}
