/* ft-cli.c — helpers shared by the fleet-twin-cli subcommands: terminal
 * detection, a one-line progress bar on stderr, the --now parser and
 * opening an existing database's core.
 */
#include "ft-cli.h"
#include "ft-core.h"
#include "ft-file.h"

#include <stdio.h>
#include <unistd.h>

static int last_permille = -1;

gboolean
ft_cli_is_tty (void)
{
  return isatty (fileno (stderr));
}

void
ft_cli_progress (const char *label, double fraction)
{
  if (!ft_cli_is_tty ())
    return;
  fraction = CLAMP (fraction, 0.0, 1.0);
  int permille = (int) (fraction * 1000);
  if (permille == last_permille)
    return;
  last_permille = permille;
  const int width = 40;
  int filled = (int) (fraction * width);
  char bar[64];
  for (int i = 0; i < width; i++)
    bar[i] = i < filled ? '#' : '-';
  bar[width] = '\0';
  fprintf (stderr, "\r%-18s [%s] %5.1f%%", label, bar, fraction * 100.0);
  fflush (stderr);
}

void
ft_cli_progress_done (void)
{
  if (!ft_cli_is_tty ())
    return;
  last_permille = -1;
  fprintf (stderr, "\n");
}

gboolean
ft_cli_parse_time (const char *text, gint64 *out, GError **error)
{
  g_autoptr(GDateTime) dt = NULL;
  g_autoptr(GTimeZone) utc = g_time_zone_new_utc ();
  gint64 v;

  if (text == NULL)
    {
      *out = g_get_real_time () / 1000;
      return TRUE;
    }
  if (g_ascii_string_to_signed (text, 10, G_MININT64 / 2, G_MAXINT64 / 2, &v, NULL))
    {
      *out = v;
      return TRUE;
    }
  dt = g_date_time_new_from_iso8601 (text, utc);
  if (dt == NULL)
    {
      g_set_error (error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
                   "--now %s is neither milliseconds nor an ISO 8601 time (2026-01-31T12:00:00Z)", text);
      return FALSE;
    }
  *out = g_date_time_to_unix (dt) * 1000 + g_date_time_get_microsecond (dt) / 1000;
  return TRUE;
}

FtCore *
ft_cli_open_db_core (const char *path, GError **error)
{
  if (!g_file_test (path, G_FILE_TEST_IS_REGULAR))
    {
      g_set_error (error, FT_FILE_ERROR, 0, "%s: no such database (give a run or live database)", path);
      return NULL;
    }
  if (!ft_output_is_ft_sqlite (path))
    {
      g_set_error (error, FT_FILE_ERROR, 0, "%s is not a Fleet Twin database", path);
      return NULL;
    }
  FtCoreConfig cfg;
  ft_core_config_init (&cfg);
  FtCore *core = ft_core_new (&cfg, NULL, NULL);
  if (!ft_core_attach_store (core, path, NULL, error))
    {
      g_prefix_error (error, "%s: ", path);
      ft_core_free (core);
      return NULL;
    }
  return core;
}
