/* ft-run.h — a run as Compare Runs sees it, and the comparison itself:
 * the run record FtSession keeps (its name, scenario, city, seed, start,
 * KPIs, how far it got), the KPIs compared with the direction that is
 * better for each, differences against a baseline run (absolute and %),
 * what makes two runs unlike (other scenario, city, length, currency) and
 * the comparison as CSV through FtOutput. No widgets: the view words and
 * colours what these return.
 */
#pragma once

#include <glib.h>
#include "ft-sim-world.h"

G_BEGIN_DECLS

#define FT_RUN_ERROR (ft_run_error_quark ())
GQuark ft_run_error_quark (void);
typedef enum {
  FT_RUN_ERROR_NAME,          /* a name the user typed was refused */
  FT_RUN_ERROR_TAKEN,         /* another run has that name */
} FtRunError;

typedef struct {
  guint      id;              /* unique within the session, never reused */
  char      *name;            /* what the user sees and can change */
  char      *scenario;        /* the scenario's name */
  char      *city;            /* the city's name */
  guint64    seed;
  gint64     started;         /* wall clock when it was loaded, Unix seconds */
  FtSimKpis  kpis;            /* as far as it got (kpis.sim_time) */
  FtTime     end_time;        /* the scenario's end, ms after t = 0 */
  double     days_planned;
  gboolean   finished;        /* reached end_time */
  gboolean   current;         /* the session's current run (may still run) */
} FtRun;

FtRun      *ft_run_copy           (const FtRun *run);
void        ft_run_free           (FtRun *run);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (FtRun, ft_run_free)

/* "Demo City Phase 1 MVP launch · seed 7 · 14:05" (the start in local
 * time). */
char       *ft_run_default_name   (const char *scenario, guint64 seed, gint64 started);
/* name, or "name (2)", "name (3)" … the first no run in runs has. */
char       *ft_run_unique_name    (GPtrArray *runs, const char *name);
/* Checks a name the user typed: trimmed, not empty, at most 120
 * characters, no control characters. Returns the trimmed name or NULL
 * with an error saying what is wrong. */
char       *ft_run_check_name     (const char *name, GError **error);
/* "finished", "stopped at 09:40 of 24:00" (a run kept before its end),
 * "running: 09:40 of 24:00" (the current run), with the day for runs of
 * more than a day ("stopped at day 2 09:40 of 7 days"). */
char       *ft_run_dup_progress   (const FtRun *run);

/* The runs compared by default are the finished ones; include_partial
 * adds those that stopped early (and the current run under way).
 * left_out (may be NULL) gets the runs not compared, borrowed. */
GPtrArray  *ft_run_select         (GPtrArray *runs, gboolean include_partial, GPtrArray **left_out);
/* The run with this id in runs, or NULL. */
const FtRun *ft_run_find          (GPtrArray *runs, guint id);

/* What makes run unlike the baseline. */
typedef enum {
  FT_RUN_OTHER_SCENARIO = 1 << 0,
  FT_RUN_OTHER_CITY     = 1 << 1,
  FT_RUN_OTHER_LENGTH   = 1 << 2,   /* simulated another span (planned, or stopped early) */
  FT_RUN_OTHER_CURRENCY = 1 << 3,
} FtRunMismatch;
guint       ft_run_mismatch       (const FtRun *base, const FtRun *run);
/* "other scenario (X) · other city (Y) · 0.02 days against 0.10", or
 * NULL when the runs are alike. */
char       *ft_run_mismatch_text  (const FtRun *base, const FtRun *run);

/* The KPIs compared, in order. */
typedef enum {
  FT_RUN_NEUTRAL = 0,         /* context: no better direction (days, fleet, demand) */
  FT_RUN_HIGHER_BETTER,
  FT_RUN_LOWER_BETTER,
} FtRunDirection;

typedef struct {
  const char    *kpi;          /* name in the KPI table, or "days", "vehicles" */
  const char    *label;
  double         scale;        /* shown value = KPI x scale */
  const char    *fmt;
  gboolean       money;        /* major units of the run's currency */
  FtRunDirection direction;
} FtRunRow;

const FtRunRow *ft_run_rows       (guint *n);
double      ft_run_value          (const FtRunRow *row, const FtRun *run);

typedef enum {
  FT_RUN_SAME = 0,            /* within 0.05 % (or both zero) */
  FT_RUN_BETTER,
  FT_RUN_WORSE,
  FT_RUN_CHANGED,             /* a neutral row that changed */
  FT_RUN_NOT_COMPARED,        /* money in another currency */
} FtRunVerdict;

typedef struct {
  double       base, value;
  double       abs;           /* value - base */
  double       pct;           /* abs / |base| x 100; NAN when base is 0 */
  FtRunVerdict verdict;
} FtRunDiff;

void        ft_run_diff           (const FtRunRow *row, const FtRun *base, const FtRun *run, FtRunDiff *out);
const char *ft_run_verdict_name   (FtRunVerdict v);   /* "better", "worse", … (CSV) */

/* The comparison as CSV, one line per run and KPI: the run, its name,
 * scenario, city, seed, start, progress, mismatch, the KPI, its value,
 * the baseline's, the difference (absolute and %) and the verdict. */
char       *ft_run_comparison_csv (GPtrArray *runs, const FtRun *baseline);
/* Writes it to path through FtOutput; an existing file that is not such
 * a CSV is refused (FT_FILE_ERROR_NOT_OURS) unless force. */
gboolean    ft_run_write_csv      (const char *path, GPtrArray *runs, const FtRun *baseline, gboolean force,
                                   GError **error);

G_END_DECLS
