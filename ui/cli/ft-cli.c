/* ft-cli.c — helpers shared by the fleet-twin-cli subcommands: terminal
 * detection and a one-line progress bar on stderr.
 */
#include "ft-cli.h"

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
