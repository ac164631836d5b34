/* ft-exp-results.h — an experiment's results database (SQLite): the
 * experiment's identity (name, design, control, metrics, the hash of its
 * file and base scenario), its variants, one row per run (replication x
 * variant, with the run's full scenario text) and one row per replication
 * x variant x metric (value, and the pre-period value for CUPED), and
 * for field designs one row per design x replication x variant x metric
 * (the design's estimate and the arms' values). Cell
 * files written by separate processes (local jobs, Slurm array tasks, GNU
 * parallel) have the same schema and are merged into one, refusing a file
 * whose experiment hash differs. The schema is documented in src/DESIGN.md.
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

#define FT_EXP_ERROR (ft_exp_error_quark ())
GQuark ft_exp_error_quark (void);
typedef enum {
  FT_EXP_ERROR_FILE,       /* unreadable / malformed experiment file */
  FT_EXP_ERROR_DB,         /* SQLite failed, or not a results database */
  FT_EXP_ERROR_MISMATCH,   /* a results file from another experiment */
  FT_EXP_ERROR_INCOMPLETE, /* cells missing / duplicated */
} FtExpError;

/* PRAGMA application_id of a results database ("FTEX"). */
#define FT_EXP_RESULTS_APP_ID 0x46544558u

/* What identifies an experiment; written once into every results file. */
typedef struct {
  const char *name;
  const char *hash;          /* hex SHA-256 of the experiment file and its base scenario */
  const char *design;        /* "crn", "independent", a sweep's "grid" / "lhs" */
  const char *control;       /* control variant's name */
  const char *metrics;       /* comma-separated KPI names */
  guint       replications;
  double      pre_days;      /* pre-period of the CUPED covariate (0 = none) */
  const char *file_text;     /* the experiment file */
  guint       n_variants;
  const char *const *variant_names;
  const char *const *variant_overrides;  /* "group.key=value" lines */
} FtExpIdentity;

typedef struct _FtExpResults FtExpResults;

/* A new results database at path (an existing file is replaced: callers
 * write through FtOutput). */
FtExpResults *ft_exp_results_create   (const char *path, const FtExpIdentity *id, GError **error);
/* An existing one, read-only; refuses a file that is not a results database. */
FtExpResults *ft_exp_results_open     (const char *path, GError **error);
void          ft_exp_results_close    (FtExpResults *r);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (FtExpResults, ft_exp_results_close)

/* TRUE when path is a results database (FtOutput's ownership check). */
gboolean      ft_exp_results_is_own   (const char *path);

const char   *ft_exp_results_get (FtExpResults *r, const char *field); /* "name", "hash", "design", "control", "metrics", "file_text" */
guint         ft_exp_results_replications (FtExpResults *r);
double        ft_exp_results_pre_days (FtExpResults *r);
/* Variant names in file order (NULL-terminated; free with g_strfreev). */
char        **ft_exp_results_variants (FtExpResults *r);
char        **ft_exp_results_metrics  (FtExpResults *r);
/* The overrides of a variant ("group.key=value" lines), or NULL. Caller frees. */
char         *ft_exp_results_overrides (FtExpResults *r, const char *variant);

gboolean      ft_exp_results_begin    (FtExpResults *r, GError **error);
gboolean      ft_exp_results_commit   (FtExpResults *r, GError **error);
gboolean      ft_exp_results_add_run  (FtExpResults *r, guint replication, const char *variant,
                                       guint64 seed, guint stream, const char *scenario_text,
                                       GError **error);
/* pre: NaN = no pre-period value. */
gboolean      ft_exp_results_add_value (FtExpResults *r, guint replication, const char *variant,
                                        const char *metric, double value, double pre, GError **error);
/* A field design's estimate in one replication (ft-sim-field.h): the
 * arms' units and values of metric and the design's estimate of the
 * whole-fleet effect (NaN when an arm had no unit). */
typedef struct {
  const char *design;        /* "rider", "zone", "switchback" */
  guint       replication;
  const char *variant;       /* the treated variant */
  const char *metric;
  double      estimate;
  double      control, treated;
  guint       control_units, treated_units;
} FtExpFieldRow;
gboolean      ft_exp_results_add_field (FtExpResults *r, const FtExpFieldRow *row, GError **error);
/* Field estimates of (design, variant, metric) by replication 0..n-1 (NaN
 * where missing). Caller frees. FALSE with no error when the file has no
 * field rows for them. */
gboolean      ft_exp_results_field_values (FtExpResults *r, const char *design, const char *variant,
                                           const char *metric, double **estimates, guint *n);
/* The field designs with rows, in the order the design column names them
 * (empty for crn, independent and sweeps). Free with g_strfreev. */
char        **ft_exp_results_field_designs (FtExpResults *r);
/* Copies every run and value of the results file at path into r, in one
 * transaction; refuses (FT_EXP_ERROR_MISMATCH, naming path) a file whose
 * experiment hash is not r's, and a cell r already holds. */
gboolean      ft_exp_results_merge    (FtExpResults *r, const char *path, GError **error);
/* Values of metric for variant by replication 0..n-1 (NaN where missing);
 * pre likewise (nullable). Caller frees with g_free. */
gboolean      ft_exp_results_values   (FtExpResults *r, const char *variant, const char *metric,
                                       double **values, double **pre, guint *n, GError **error);
/* Cells (replication x variant) that have a run row. */
guint         ft_exp_results_n_runs   (FtExpResults *r);
/* Every row of the runs and results tables as text, in key order (for
 * comparing two databases). Caller frees. */
char         *ft_exp_results_dump     (FtExpResults *r);

G_END_DECLS
