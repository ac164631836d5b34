/* ft-ops-plan.h — van routes from the task queue: one planning step turns
 * the open tasks (the best ones first, by value or by priority) and the
 * vans' state (where each is, when it is free, its charged packs, its
 * shift, its running route and the stops it has started) into a VRPTW
 * (src/routing) and re-optimises the running routes: new tasks are
 * inserted, started stops never leave their van. The same step serves the
 * simulator and live mode: travel times come from the caller's router
 * through a function, so src/ops knows no city and no simulator.
 */
#pragma once

#include "ft-ops.h"
#include "ft-ops-value.h"
#include "ft-vrptw.h"

G_BEGIN_DECLS

typedef struct {
  guint         staff;       /* account the route is for */
  FtLatLon      pos;         /* where the van is at `at` */
  FtTime        at;          /* when it can leave pos (>= the plan's now) */
  FtTime        shift_end;   /* back at the depot no later */
  FtLatLon      depot;       /* where the shift ends */
  int           packs;       /* charged packs on board (a started swap's included) */
  const gint64 *route;       /* its running route: task ids in order, or NULL */
  guint         n_route;
  guint         n_started;   /* leading tasks of route that have started: kept */
} FtOpsVan;

/* Travel from a to b: returns seconds and sets *metres. */
typedef double (*FtOpsTravelFunc) (FtLatLon a, FtLatLon b, double *metres, gpointer user_data);
/* The latest start of service for a task (its time window), or -1: none. */
typedef FtTime (*FtOpsDueFunc) (const FtTask *task, gpointer user_data);
/* May this open task be planned now? (FALSE leaves it open, unplanned.) */
typedef gboolean (*FtOpsAcceptFunc) (const FtTask *task, gpointer user_data);
/* What each hour before a task's service starts costs (>= 0, money per
 * hour): a vehicle off offer until the task is done (a flat one waiting
 * for its swap) earns nothing meanwhile; 0 for a task whose delay costs
 * nothing (a rebalance, an inspection of a vehicle still on offer). */
typedef double (*FtOpsWaitCostFunc) (const FtTask *task, gpointer user_data);
/* Must this task be served before any task that is not (a flat vehicle's
 * swap: it is off offer until then)? */
typedef gboolean (*FtOpsUrgentFunc) (const FtTask *task, gpointer user_data);

typedef struct {
  FtTime          now;
  double          service_s[FT_N_TASK_KINDS];  /* service time per kind (seconds) */
  guint           max_tasks;        /* open tasks considered at most (best first); 0 = all */
  gboolean        by_value;         /* best = tasks whose value is positive by value per staff
                                     * minute (ft_ops_rank_open), then the rest as below;
                                     * else priority, then oldest */
  guint32         kind_mask;        /* bit per FtTaskKind considered; 0 = all */
  FtTime          horizon;          /* plan this far ahead (ms): each route ends by now + horizon
                                     * anywhere, not at the depot, unless the shift ends sooner;
                                     * 0 = to the shift's end. The solver's objective is fewest
                                     * routes first: a horizon spreads the work over the vans */
  FtOpsTravelFunc travel;           /* required */
  FtOpsDueFunc    due;              /* may be NULL */
  FtOpsAcceptFunc accept;           /* may be NULL: every open task (a proposal not yet
                                     * approved is never planned either way) */
  /* With wait_cost set, each route the solver returns (which is ordered
   * for distance) is reordered, its started stops kept first, to lower
   * cost_per_km x its km + the sum over its stops of wait_cost x the hours
   * until service starts, keeping every window and the route's end; so a
   * flat vehicle's swap comes before a nearer stop whose delay costs
   * little when its value pays for the detour. NULL: distance alone. */
  FtOpsWaitCostFunc wait_cost;      /* may be NULL */
  double          cost_per_km;      /* van km, same money as wait_cost */
  /* With urgent set, the urgent tasks are planned first, as a dispatcher
   * would (running routes' urgent stops and new ones alike, each van's
   * started stops kept): again and again the urgent task and van with the
   * earliest start of service of all pairs, capacity, windows and the
   * route's end kept. They head the routes, after the started stops, and
   * the other tasks are then inserted after them. So a nearer task never
   * takes an urgent one's place in a full route, nor pushes it later from
   * one cycle to the next; urgent tasks that fit nowhere stay unplanned.
   * NULL: every task alike (the solver picks the tasks of a full route by
   * distance). */
  FtOpsUrgentFunc urgent;           /* may be NULL */
  gpointer        user_data;
  FtVrptwParams   search;           /* seed, iteration or time limit */
} FtOpsPlanParams;

/* Defaults: 5 min per stop, every open task, priority order, 2,000
 * iterations (deterministic). travel must still be set. */
void ft_ops_plan_params_init (FtOpsPlanParams *params);

typedef struct {
  guint   staff;
  GArray *tasks;       /* gint64 task ids in visiting order */
  GArray *eta;         /* FtTime: planned start of service per task */
  guint   n_started;   /* leading tasks that had started (kept as they were) */
  double  metres;      /* planned driving from the van's position to its depot */
} FtOpsRoute;

typedef struct {
  guint       n_routes;    /* one per van, in the order the vans were given */
  FtOpsRoute *routes;
  GArray     *unplanned;   /* gint64: considered open tasks that fit in no route */
  GArray     *dropped;     /* gint64: tasks left out as no longer doable */
  GPtrArray  *reasons;     /* char *: why, one per dropped task */
  FtVrptwStats stats;
} FtOpsPlan;

void ft_ops_plan_free (FtOpsPlan *plan);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (FtOpsPlan, ft_ops_plan_free)

/* One planning cycle. Tasks of a van's route that are finished, or whose
 * vehicle no longer exists (out of range or decommissioned), are
 * dropped with a logged reason (a started one too: nothing can be kept);
 * so are open tasks for such vehicles. Refuses (FT_OPS_ERROR_INVALID,
 * naming the van or task) a van whose staff has no field-work right, a
 * route task assigned to someone else, a task in two vans' routes, more
 * started tasks than the route holds, and a problem too big for the
 * solver. Never touches the queue: see ft_ops_plan_apply. */
FtOpsPlan *ft_ops_plan_routes (FtOps *ops, const FtOpsVan *vans, guint n_vans,
                               const FtOpsPlanParams *params, GError **error);

/* Make the queue agree with a plan: every planned task is assigned to its
 * van's staff (rules: by = -1), tasks the vans' routes held that the plan
 * moved to no route go back to open, dropped tasks are cancelled. The
 * vans must be the ones the plan was made for. */
gboolean ft_ops_plan_apply (FtOps *ops, const FtOpsVan *vans, guint n_vans, const FtOpsPlan *plan,
                            FtTime now, GError **error);

G_END_DECLS
