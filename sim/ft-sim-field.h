/* ft-sim-field.h — field designs of an experiment (issue 16): in one
 * simulated world, each unit (a rider, a zone, or a time slice) is in the
 * control arm or the treated arm, and the treated variant's levers apply
 * only to treated units. The arm of a unit comes from a hash of the unit
 * and the design's salt, so it is the same in every process. The levers
 * that can be split per unit are dynamic pricing on against off (with the
 * "on" arm's parameters), incentives on against off (likewise) and the
 * riders' price elasticity; any other key that differs between the two
 * arms is refused, naming the key and the design.
 *
 * Per-arm metrics: requests, served, lost and revenue are counted per unit
 * (a request's unit is its rider — the riders take turns, request k is
 * rider k mod N's —, its origin zone or the slice it arrives in); the
 * design's estimate of the whole-fleet effect on a total is N x (mean over treated units - mean over control units) for riders and
 * zones, and the run's length x (rate in treated slices - rate in control
 * slices) for a switchback, whose wash-out minutes at the start of every
 * slice are left out of the counts. service_level is estimated as the
 * difference of the arms' ratios.
 */
#pragma once

#include "ft-sim-scenario.h"

G_BEGIN_DECLS

typedef enum {
  FT_SIM_FIELD_RIDER,
  FT_SIM_FIELD_ZONE,
  FT_SIM_FIELD_SWITCHBACK,
  FT_SIM_FIELD_N_DESIGNS
} FtSimFieldDesign;

typedef struct {
  FtSimFieldDesign design;
  guint64  salt;          /* the randomisation (an experiment derives one per replication) */
  double   share;         /* treated share of units, 0..1 */
  gboolean balanced;      /* zones: randomised within pairs of zones of like demand */
  gboolean randomised;    /* switchback: each slice by a coin (share), else alternating */
  double   slice_min;     /* switchback slice length (minutes) */
  double   washout_min;   /* switchback: minutes at the start of each slice not counted */
  const FtSimScenario *control;   /* the arms' scenarios (levers read per unit) */
  const FtSimScenario *treated;
} FtSimFieldSpec;

/* The metrics a field design measures per arm. */
extern const char *const ft_sim_field_metrics[];
gboolean    ft_sim_field_metric_ok     (const char *metric);

const char *ft_sim_field_design_name   (FtSimFieldDesign d);
gboolean    ft_sim_field_design_parse  (const char *s, FtSimFieldDesign *out);

/* The scenario the one world of a field design runs: the control's, with
 * the levers of whichever arm has them on. Refuses (naming the key and the
 * design) a key that differs between the arms and cannot be split per
 * unit, or a lever on in both arms with different settings. */
FtSimScenario *ft_sim_field_world_scenario (const FtSimScenario *control, const FtSimScenario *treated,
                                            FtSimFieldDesign design, GError **error);

/* Assignment (pure; deterministic in salt). */
guint64     ft_sim_field_hash          (guint64 salt, guint64 unit);
gboolean    ft_sim_field_rider_treated (const FtSimFieldSpec *f, guint rider);
/* treated[z] for nz zones; weight[z] (expected demand) orders the pairs
 * of a balanced assignment (may be NULL when not balanced). Exactly
 * round(share x nz) zones are treated when not balanced. */
void        ft_sim_field_assign_zones  (const FtSimFieldSpec *f, guint nz, const double *weight, gboolean *treated);
gboolean    ft_sim_field_slice_treated (const FtSimFieldSpec *f, guint slice);

G_END_DECLS
