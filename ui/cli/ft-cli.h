/* ft-cli.h — fleet-twin-cli subcommands. Each lives in its own cmd-*.c and
 * receives argv with argv[0] set to "fleet-twin-cli NAME". Returns an exit
 * status (0 ok, 1 failure, 2 usage).
 */
#pragma once

#include <glib.h>

#include "ft-analytics.h"
#include "ft-core.h"

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
int ft_cli_serve       (int argc, char **argv);   /* cmd-serve.c (MDS, GBFS, metrics over HTTP) */
int ft_cli_mds         (int argc, char **argv);   /* cmd-serve.c (mds export) */
int ft_cli_analytics   (int argc, char **argv);   /* cmd-analytics.c (build, export) */
int ft_cli_report      (int argc, char **argv);   /* cmd-report.c */
int ft_cli_vrptw       (int argc, char **argv);   /* cmd-vrptw.c (solve) */
int ft_cli_maintenance (int argc, char **argv);   /* cmd-maint.c (backtest) */
int ft_cli_models      (int argc, char **argv);   /* cmd-models.c (registry) */
int ft_cli_assist      (int argc, char **argv);   /* cmd-assist.c (support assistant) */
int ft_cli_inspect     (int argc, char **argv);   /* cmd-inspect.c (damage checks, review queue) */
int ft_cli_region      (int argc, char **argv);   /* cmd-region.c (launch playbook, init, retention, report) */
int ft_cli_rider       (int argc, char **argv);   /* cmd-rider.c (export, erase) */
int ft_cli_experiment  (int argc, char **argv);   /* cmd-experiment.c (A/B, sweeps, batch) */
int ft_cli_render      (int argc, char **argv);   /* cmd-render.c (replay to PNG frames / MP4) */
int ft_cli_accounts    (int argc, char **argv);   /* cmd-accounts.c (list, create) */

/* Analytics glue shared by cmd-analytics.c and cmd-report.c: the zones of
 * a database (its scenario's city, --scenario, --city, or one zone). */
typedef struct _FtCliZoning FtCliZoning;
FtCliZoning *ft_cli_zoning_new        (const char *db_path, const char *scenario,
                                       const char *city_dir, GError **error);
void         ft_cli_zoning_free       (FtCliZoning *cz);
const char  *ft_cli_zoning_title      (FtCliZoning *cz);
gboolean     ft_cli_zoning_is_live    (FtCliZoning *cz);
const FtAnalyticsZoning *ft_cli_zoning_get (FtCliZoning *cz);
/* Opens the store (migrating it to the analytics schema) and folds the new events. */
gboolean     ft_cli_analytics_build   (const char *path, FtCliZoning *cz,
                                       const FtAnalyticsBuildOptions *opt,
                                       FtAnalyticsBuildStats *stats, GError **error);
/* The database exists, is a regular file and a Fleet Twin store. */
gboolean     ft_cli_analytics_check_db (const char *path, GError **error);

/* Shared helpers (ft-cli.c) */
/* The core of an existing Fleet Twin database, loaded (never a new file:
 * a missing file or one that is not a Fleet Twin store is an error naming
 * the path). Free with ft_core_free (detach first to commit). */
FtCore  *ft_cli_open_db_core  (const char *path, GError **error);
/* --now: NULL gives the wall clock; else milliseconds or ISO 8601 (UTC
 * unless the text names its offset). */
gboolean ft_cli_parse_time    (const char *text, gint64 *out, GError **error);
gboolean ft_cli_is_tty        (void);
/* A one-line progress bar on stderr when it is a terminal; silent otherwise. */
void     ft_cli_progress      (const char *label, double fraction);
void     ft_cli_progress_done (void);

G_END_DECLS
