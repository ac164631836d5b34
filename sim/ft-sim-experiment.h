/* ft-sim-experiment.h — experiment files and their runner (issue 16).
 *
 * An experiment file (GKeyFile syntax, beside scenarios) names a base
 * scenario, variants ([variant NAME] groups of "group.key = value" scenario
 * overrides, each checked through the scenario key table and the
 * scenario's cross-key rules), metrics (names from the KPI table),
 * replications and a design:
 *   crn          common random numbers: replication r runs every variant
 *                with the same seed and streams (stream r), so the same
 *                demand (simulated, or replayed from the base's trace);
 *   independent  each (replication, variant) on its own streams (a null
 *                experiment's yardstick);
 *   rider, zone, switchback (one or a comma list)  field designs: each
 *                replication runs the crn cells (the whole-fleet truth)
 *                and, per design and treated variant, one world in which
 *                units are split between the control and the variant
 *                (ft-sim-field.h; settings in a [field] group: share, salt,
 *                zones = random|balanced, switchback = alternate|random,
 *                slice_min, washout_min). Its per-arm counts and estimate
 *                go to the results' field table; `experiment report` sets
 *                each design's bias and spread against the crn truth.
 * An optional [sweep] group replaces the variants by a grid or a Latin
 * hypercube over scenario keys. A cell is one (replication, variant) run;
 * cells are independent, so they run in any order, in any process, and
 * write the same rows.
 */
#pragma once

#include "ft-sim-scenario.h"
#include "ft-sim-field.h"
#include "ft-exp-results.h"

G_BEGIN_DECLS

typedef struct {
  char  *name;
  char **keys;       /* "group.key" */
  char **values;
  guint  n;
  char  *overrides;  /* "group.key=value" lines, as stored in results */
} FtSimVariant;

typedef struct {
  char          *path;
  char          *text;
  char          *name;
  char          *base_path;     /* resolved */
  FtSimScenario *base;          /* with [experiment] days applied */
  char          *design;        /* "crn", "independent", or field designs "rider,zone,switchback" */
  guint          replications;
  char         **metrics;
  double         pre_days;
  GPtrArray     *variants;      /* FtSimVariant* */
  guint          control;
  char          *hash;          /* hex SHA-256 of the file and the base scenario's text */
  /* field designs: their number and order, the [field] settings (the
   * salt of replication r is ft_sim_field_hash (salt, r)) and the
   * metrics the arms measure (those of metrics that can be) */
  guint          n_field;
  FtSimFieldDesign field[FT_SIM_FIELD_N_DESIGNS];
  FtSimFieldSpec field_spec;
  char         **field_metrics;
  /* [sweep] */
  gboolean       sweep;
  char          *sweep_method;  /* "grid" or "lhs" */
  char          *pareto_x, *pareto_y;
} FtSimExperiment;

FtSimExperiment *ft_sim_experiment_load  (const char *path, GError **error);
/* where: the file name for messages; dir: the folder relative paths start from. */
FtSimExperiment *ft_sim_experiment_parse (const char *text, const char *where, const char *dir,
                                          GError **error);
void             ft_sim_experiment_free  (FtSimExperiment *e);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (FtSimExperiment, ft_sim_experiment_free)

guint            ft_sim_experiment_n_cells (const FtSimExperiment *e);
/* Cell c = replication * cells per replication + k: k < n_variants is
 * variant k on the replication's streams; after them, with field designs,
 * design d's world of treated variant v (d by d, variants in order, the
 * control skipped). variant is the cell's variant (the treated one). */
void             ft_sim_experiment_cell    (const FtSimExperiment *e, guint c, guint *replication,
                                            guint *variant);
/* The field design cell c runs, or -1 for a whole-fleet cell. */
gint             ft_sim_experiment_cell_field (const FtSimExperiment *e, guint c);
/* The name of cell c's row in runs: the variant's, or "DESIGN/VARIANT".
 * Caller frees. */
char            *ft_sim_experiment_cell_name (const FtSimExperiment *e, guint c);
/* The scenario cell c runs (caller frees). */
FtSimScenario   *ft_sim_experiment_cell_scenario (const FtSimExperiment *e, guint c, GError **error);
/* The identity written into results files (borrows e; free the arrays
 * with ft_sim_experiment_identity_clear). */
void             ft_sim_experiment_identity (const FtSimExperiment *e, FtExpIdentity *id);
void             ft_sim_experiment_identity_clear (FtExpIdentity *id);
/* Experiments read KPIs only, so a cell runs with summary records (the
 * same KPIs; no ledger journal, only live bookings) unless its scenario
 * runs the support assistant, which reads the journal: sets
 * sc->summary_records then and returns whether it did. */
gboolean         ft_sim_experiment_cell_records (FtSimScenario *sc);
/* Runs cell c and adds its run row and metric rows to out (in a
 * transaction of its own). The run row's scenario is the cell's as the
 * experiment wrote it, before ft_sim_experiment_cell_records. */
gboolean         ft_sim_experiment_run_cell (const FtSimExperiment *e, guint c, FtExpResults *out,
                                             GError **error);

G_END_DECLS
