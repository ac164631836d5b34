/* cmd-report.c — `fleet-twin-cli report DB --out report.pdf` brings the
 * database's aggregates up to date (analytics build) and writes the
 * multi-page PDF report, and beside it a folder of the same name holding
 * every chart as PNG and every table as CSV. Both go through FtOutput: a
 * killed report leaves the previous one whole.
 */
#include "ft-config.h"
#include "ft-cli.h"
#include "ft-file.h"
#include "ft-report.h"

#include <stdio.h>
#include <string.h>

static int
fail (const char *what, GError *error)
{
  fprintf (stderr, "fleet-twin-cli report: %s%s\n", what, error ? error->message : "");
  return 1;
}

int
ft_cli_report (int argc, char **argv)
{
  g_autofree char *out = NULL, *scenario = NULL, *city = NULL;
  gboolean force = FALSE, quiet = FALSE;
  GOptionEntry entries[] = {
    { "out", 'o', 0, G_OPTION_ARG_FILENAME, &out,
      "The PDF to write (NAME.pdf; charts and tables go in the folder NAME beside it)", "FILE" },
    { "scenario", 0, 0, G_OPTION_ARG_FILENAME, &scenario, "Scenario whose city gives the zones (live databases)", "FILE" },
    { "city", 0, 0, G_OPTION_ARG_FILENAME, &city, "City pack folder (or 'demo') giving the zones", "DIR" },
    { "force", 0, 0, G_OPTION_ARG_NONE, &force, "Replace outputs that are not earlier reports", NULL },
    { "quiet", 'q', 0, G_OPTION_ARG_NONE, &quiet, "Print nothing on success", NULL },
    { NULL }
  };
  g_autoptr (GOptionContext) ctx = g_option_context_new ("DB — write a PDF report with charts and tables");
  g_option_context_add_main_entries (ctx, entries, NULL);
  g_autoptr (GError) error = NULL;
  if (!g_option_context_parse (ctx, &argc, &argv, &error))
    {
      fprintf (stderr, "fleet-twin-cli report: %s\n", error->message);
      return 2;
    }
  if (argc != 2 || out == NULL)
    {
      g_autofree char *help = g_option_context_get_help (ctx, TRUE, NULL);
      fprintf (stderr, "fleet-twin-cli report: give one database and --out FILE.pdf\n%s", help);
      return 2;
    }
  if (!g_str_has_suffix (out, ".pdf") || strlen (out) <= 4 || g_str_has_suffix (out, "/.pdf"))
    {
      fprintf (stderr, "fleet-twin-cli report: --out '%s' must name a .pdf file (its charts and "
               "tables go in the folder of the same name without .pdf)\n", out);
      return 2;
    }
  if (scenario && city)
    {
      fprintf (stderr, "fleet-twin-cli report: give --scenario or --city, not both\n");
      return 2;
    }
  const char *db = argv[1];
  if (!ft_cli_analytics_check_db (db, &error))
    return fail ("", error);
  FtCliZoning *cz = ft_cli_zoning_new (db, scenario, city, &error);
  if (cz == NULL)
    return fail ("", error);
  FtAnalyticsBuildStats st;
  gboolean built = ft_cli_analytics_build (db, cz, NULL, &st, &error);
  g_autofree char *title = g_strdup (ft_cli_zoning_title (cz));
  gboolean live = ft_cli_zoning_is_live (cz);
  ft_cli_zoning_free (cz);
  if (!built)
    return fail ("building the analytics: ", error);

  g_autofree char *dir = g_strndup (out, strlen (out) - 4);
  sqlite3 *h = NULL;
  if (sqlite3_open_v2 (db, &h, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK)
    {
      fprintf (stderr, "fleet-twin-cli report: %s: %s\n", db, sqlite3_errmsg (h));
      sqlite3_close (h);
      return 1;
    }
  FtReportInfo info = { .title = title, .source = db, .kind = live ? "live database" : "simulated run" };
  guint pages = 0;
  gboolean ok = ft_report_export (h, &info, out, force, &pages, &error);
  sqlite3_close (h);
  if (!ok)
    return fail ("", error);
  if (!quiet)
    printf ("%s: %u pages; charts and tables in %s/ (aggregates: %" G_GUINT64_FORMAT " new events folded)\n",
            out, pages, dir, st.events_read);
  return 0;
}
