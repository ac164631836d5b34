/* ft-vrptw.h — vehicle routing with time windows (VRPTW): the problem (a
 * matrix of travel times and distances supplied by the caller, vehicles with
 * their own capacity, start and end points and shift), the solver (insertion,
 * then ruin-and-recreate with string removals, simulated annealing and local
 * search, after a route-minimisation phase), rolling re-optimisation of
 * running routes, and the Solomon / SINTEF text formats.
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

#define FT_VRPTW_ERROR (ft_vrptw_error_quark ())
GQuark ft_vrptw_error_quark (void);

typedef enum {
  FT_VRPTW_ERROR_PARSE,       /* a malformed Solomon file: line and field named */
  FT_VRPTW_ERROR_INVALID,     /* a problem or solution that breaks its own rules */
  FT_VRPTW_ERROR_INFEASIBLE,  /* a customer no vehicle can serve, or too few vehicles */
} FtVrptwError;

/* Limits of what the solver takes (the matrices are n_nodes²). */
#define FT_VRPTW_MAX_NODES     4001
#define FT_VRPTW_MAX_VEHICLES  4000

typedef struct {
  double   ready, due;    /* window for the start of service */
  double   service;       /* service duration */
  int      demand;        /* units taken from the vehicle's capacity */
  gboolean is_stop;       /* to be visited once (FALSE: a depot or a van's start point) */
  guint    id;            /* caller's id, written in outputs (Solomon: customer number) */
} FtVrptwNode;

typedef struct {
  int    capacity;
  guint  start_node, end_node;    /* nodes with is_stop FALSE */
  double shift_start, shift_end;  /* leave no earlier, be back no later */
} FtVrptwVehicle;

typedef struct {
  char           *name;
  guint           n_nodes;
  FtVrptwNode    *nodes;
  double         *dist;     /* n_nodes x n_nodes, row-major: the objective */
  double         *time;     /* n_nodes x n_nodes travel times; may equal dist */
  guint           n_vehicles;
  FtVrptwVehicle *vehicles;
  double         *x, *y;    /* coordinates when the input had them, else NULL */
} FtVrptwProblem;

/* Allocates nodes, vehicles and a distance matrix (time = dist, zeroed). */
FtVrptwProblem *ft_vrptw_problem_new (guint n_nodes, guint n_vehicles);
/* Gives the problem its own time matrix (a copy of dist to start from). */
void            ft_vrptw_problem_split_time (FtVrptwProblem *p);
/* Fills dist (and time, when shared) with Euclidean distances from x, y. */
void            ft_vrptw_problem_set_euclidean (FtVrptwProblem *p);
void            ft_vrptw_problem_free (FtVrptwProblem *p);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (FtVrptwProblem, ft_vrptw_problem_free)
/* Checks the problem's own rules (windows ordered, finite non-negative
 * matrices, vehicles that start and end at non-stop nodes). */
gboolean        ft_vrptw_problem_validate (const FtVrptwProblem *p, GError **error);

typedef struct {
  guint  vehicle;
  guint  n_stops;
  guint *stops;     /* node indices in visiting order, vehicle ends excluded */
} FtVrptwRoute;

typedef struct {
  guint         n_routes;     /* non-empty routes only */
  FtVrptwRoute *routes;
  guint         n_unassigned; /* rolling re-optimisation only: tasks that fit nowhere */
  guint        *unassigned;
  double        distance;
} FtVrptwSolution;

void ft_vrptw_solution_free (FtVrptwSolution *s);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (FtVrptwSolution, ft_vrptw_solution_free)

typedef struct {
  guint64  seed;
  gint64   time_limit_ms;    /* monotonic clock; 0: none */
  guint64  max_iterations;   /* 0: none (one of the two limits must be set) */
  gboolean minimise_routes;  /* route-minimisation phase first (default TRUE) */
  gboolean cpu_clock;        /* the limit counts this thread's CPU time, not the
                              * monotonic clock (benchmarks on a shared machine) */
} FtVrptwParams;

void ft_vrptw_params_init (FtVrptwParams *params);

typedef struct {
  guint64 iterations;
  double  elapsed_ms;
  guint   initial_routes;
  double  initial_distance;
  guint   dropped;           /* rolling: unstarted stops no longer in the problem */
} FtVrptwStats;

/* Solves: every stop served, fewest routes first, then least distance.
 * Deterministic for a seed and an iteration limit. FT_VRPTW_ERROR_INFEASIBLE
 * names the first stop that no vehicle can serve even alone, or says how
 * many stops did not fit into the fleet. stats may be NULL. */
FtVrptwSolution *ft_vrptw_solve (const FtVrptwProblem *p, const FtVrptwParams *params,
                                 FtVrptwStats *stats, GError **error);

/* Rolling re-optimisation: `current` holds each vehicle's route as it runs
 * (at most one route per vehicle); n_started[v] leading stops of vehicle v's
 * route have started and stay where they are. Stops of p in no route are new
 * tasks and are inserted; unstarted stops may move between vehicles. Stops
 * that no longer are stops of p are dropped (stats->dropped) unless started.
 * Tasks that fit nowhere are returned in unassigned, never an error. The
 * started prefix is replayed at its earliest times; vans that have started
 * nothing leave at their shift_start, so the caller sets it to the time of
 * the cycle (and the start node to where the van is). */
FtVrptwSolution *ft_vrptw_reoptimise (const FtVrptwProblem *p, const FtVrptwSolution *current,
                                      const guint *n_started, const FtVrptwParams *params,
                                      FtVrptwStats *stats, GError **error);

/* Objective distance of a solution (sum of route legs, vehicle ends included). */
double ft_vrptw_solution_distance (const FtVrptwProblem *p, const FtVrptwSolution *s);

/* Solomon text format (CRLF or LF); source names the input in messages. */
FtVrptwProblem *ft_vrptw_solomon_parse (const char *text, gsize len, const char *source,
                                        GError **error);
FtVrptwProblem *ft_vrptw_solomon_load (const char *path, GError **error);

/* SINTEF solution text ("Route 1 : 5 3 7"), stops by node id. */
#define FT_VRPTW_SINTEF_AUTHORS "Fleet Twin (fleet-twin-cli vrptw solve)"
char *ft_vrptw_solution_to_sintef (const FtVrptwProblem *p, const FtVrptwSolution *s,
                                   const char *reference);
/* TRUE when the file at path was written by ft_vrptw_solution_to_sintef. */
gboolean ft_vrptw_sintef_is_own (const char *path);

G_END_DECLS
