/* main.c — fleet-twin, the desktop app: Demo City with the Phase 1
 * scenario on a live map (or the .scenario file given on the command line). */
#include "ft-application.h"

#include <locale.h>

extern gint64 ft_app_start_time;

int
main (int argc, char **argv)
{
  ft_app_start_time = g_get_monotonic_time ();
  setlocale (LC_ALL, "");
  setlocale (LC_NUMERIC, "C");
  g_autoptr(FtApplication) app = ft_application_new ();
  return g_application_run (G_APPLICATION (app), argc, argv);
}
