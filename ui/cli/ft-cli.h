/* ft-cli.h — fleet-twin-cli subcommands. Each lives in its own cmd-*.c and
 * receives argv with argv[0] set to "fleet-twin-cli NAME". Returns an exit
 * status (0 ok, 1 failure, 2 usage).
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

typedef int (*FtCliCommand) (int argc, char **argv);

typedef struct {
  const char  *name;
  FtCliCommand run;
  const char  *summary;
} FtCliEntry;

int ft_cli_demo        (int argc, char **argv);   /* cmd-demo.c  (core loop demo) */
int ft_cli_run         (int argc, char **argv);   /* cmd-run.c   (scenario runner) */
int ft_cli_compare     (int argc, char **argv);   /* cmd-run.c */
int ft_cli_check       (int argc, char **argv);   /* cmd-run.c */
int ft_cli_city        (int argc, char **argv);   /* cmd-city.c  (generate, info, bake-tiles) */
int ft_cli_city_bake_tiles (int argc, char **argv); /* cmd-tiles.c (cmd-city.c dispatches "bake-tiles" here) */
int ft_cli_import_osm  (int argc, char **argv);   /* cmd-import.c */
int ft_cli_import_trips(int argc, char **argv);   /* cmd-trips.c */
int ft_cli_gbfs        (int argc, char **argv);   /* cmd-gbfs.c  (import / export) */
int ft_cli_emulate     (int argc, char **argv);   /* cmd-live.c */
int ft_cli_live        (int argc, char **argv);   /* cmd-live.c */
int ft_cli_forecast    (int argc, char **argv);   /* cmd-forecast.c (backtest) */
int ft_cli_vrptw       (int argc, char **argv);   /* cmd-vrptw.c (solve) */
int ft_cli_maintenance (int argc, char **argv);   /* cmd-maint.c (backtest) */

/* Shared helpers (ft-cli.c) */
gboolean ft_cli_is_tty        (void);
/* A one-line progress bar on stderr when it is a terminal; silent otherwise. */
void     ft_cli_progress      (const char *label, double fraction);
void     ft_cli_progress_done (void);

G_END_DECLS
