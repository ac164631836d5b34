/* ft-vrptw-private.h — the solver's working state, shared by the files of
 * src/routing and exposed to tests/routing so each move's O(1) feasibility
 * can be checked against a brute-force recomputation.
 *
 * A route keeps, per position, the time-window segment of its prefix (fwd)
 * and of its suffix (bwd) (Vidal et al. 2013: duration, earliest and latest
 * start); joining two segments and a few nodes tells in O(1) whether a
 * changed route is feasible.
 */
#pragma once

#include "ft-vrptw.h"

G_BEGIN_DECLS

#define FT_VRPTW_NONE G_MAXUINT
#define FT_VRPTW_EPS  1e-7

typedef struct {
  double   D;        /* minimal duration from the first start to the last end of service */
  double   E, L;     /* earliest and latest start of service at the first node */
  int      q;        /* demand */
  guint    first, last;
  gboolean ok;       /* no time-window violation inside */
} FtVrptwSeg;

typedef struct {
  guint       vehicle;
  guint       len;     /* stops */
  guint      *node;    /* [len + 2]: start point, stops, end point */
  FtVrptwSeg *fwd;     /* fwd[i]: positions 0..i */
  FtVrptwSeg *bwd;     /* bwd[i]: positions i..len+1 */
  double      dist;
} FtVrptwRt;

typedef struct {
  guint      n_routes;   /* one per vehicle, empty ones included */
  FtVrptwRt *rt;
  guint     *route_of;   /* per node: route, or FT_VRPTW_NONE (absent) */
  guint     *pos_of;     /* per node: position in its route (1-based) */
  guint      n_absent;
  guint     *absent;
  double     dist;
  guint      used;       /* non-empty routes */
} FtVrptwSol;

typedef struct {
  const FtVrptwProblem *p;
  guint         n;          /* nodes */
  const double *d, *t;
  guint         n_stops;
  guint        *stops;
  guint        *nbr;        /* per node: n_stops stops by increasing distance */
  guint64       rng;
  double       *far;        /* per node: distance from vehicle 0's start */
  guint64      *absence;    /* per node: route-minimisation absence counters */
  /* scratch */
  guint        *removed;
  guint         n_removed;
  guint        *order;
  guint        *stamp;
  guint         stamp_now;
  guint        *route_perm;
} FtVrptwSearch;

FtVrptwSearch *ft_vrptw_search_new  (const FtVrptwProblem *p, guint64 seed);
void           ft_vrptw_search_free (FtVrptwSearch *s);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (FtVrptwSearch, ft_vrptw_search_free)

FtVrptwSol *ft_vrptw_sol_new   (FtVrptwSearch *s);       /* every stop absent */
void        ft_vrptw_sol_free  (FtVrptwSol *sol);
void        ft_vrptw_sol_copy  (FtVrptwSearch *s, FtVrptwSol *dst, const FtVrptwSol *src);
/* Replaces route r's stops and recomputes it. */
void        ft_vrptw_sol_set_route (FtVrptwSearch *s, FtVrptwSol *sol, guint r,
                                    const guint *stops, guint n_stops);
/* Recomputes segments, distance and positions of route r, and the totals. */
void        ft_vrptw_sol_update (FtVrptwSearch *s, FtVrptwSol *sol, guint r);
double      ft_vrptw_sol_cost  (const FtVrptwSol *sol);
FtVrptwSolution *ft_vrptw_sol_export (FtVrptwSearch *s, const FtVrptwSol *sol);

FtVrptwSeg  ft_vrptw_seg_node (FtVrptwSearch *s, guint node);
FtVrptwSeg  ft_vrptw_seg_cat  (FtVrptwSearch *s, FtVrptwSeg a, FtVrptwSeg b);
FtVrptwSeg  ft_vrptw_seg_start (FtVrptwSearch *s, guint vehicle);
FtVrptwSeg  ft_vrptw_seg_end   (FtVrptwSearch *s, guint vehicle);

/* Moves: each returns whether the result is feasible (capacity and windows)
 * and sets *delta to the change in distance. Positions are 1-based stops;
 * "after j" means between positions j and j+1 (0 <= j <= len). */
gboolean ft_vrptw_eval_insert    (FtVrptwSearch *s, const FtVrptwSol *sol, guint r, guint j,
                                  guint u, double *delta);
gboolean ft_vrptw_eval_relocate  (FtVrptwSearch *s, const FtVrptwSol *sol, guint a, guint i,
                                  guint b, guint j, double *delta);           /* a != b */
gboolean ft_vrptw_eval_exchange  (FtVrptwSearch *s, const FtVrptwSol *sol, guint a, guint i,
                                  guint b, guint j, double *delta);           /* a != b */
gboolean ft_vrptw_eval_two_opt_star (FtVrptwSearch *s, const FtVrptwSol *sol, guint a, guint i,
                                     guint b, guint j, double *delta);        /* a != b, 0..len */
/* Or-opt: stops i..i+k-1 of route a go after position j of route b (b may
 * equal a: then j indexes the route without the string). */
gboolean ft_vrptw_eval_or_opt    (FtVrptwSearch *s, const FtVrptwSol *sol, guint a, guint i,
                                  guint k, guint b, guint j, double *delta);

void ft_vrptw_apply_relocate  (FtVrptwSearch *s, FtVrptwSol *sol, guint a, guint i, guint b, guint j);
void ft_vrptw_apply_exchange  (FtVrptwSearch *s, FtVrptwSol *sol, guint a, guint i, guint b, guint j);
void ft_vrptw_apply_two_opt_star (FtVrptwSearch *s, FtVrptwSol *sol, guint a, guint i, guint b, guint j);
void ft_vrptw_apply_or_opt    (FtVrptwSearch *s, FtVrptwSol *sol, guint a, guint i, guint k, guint b, guint j);

/* SISR ruin (adjacent string removal): removed stops go to s->removed. */
void ft_vrptw_ruin     (FtVrptwSearch *s, FtVrptwSol *sol);
/* Blink insertion of s->removed and sol's absent stops; stops that fit
 * nowhere stay absent (a new route is opened only when allow_new). */
void ft_vrptw_recreate (FtVrptwSearch *s, FtVrptwSol *sol, gboolean allow_new, double blink);
/* Local search descent (relocate, exchange, 2-opt*, or-opt) to a local optimum. */
void ft_vrptw_local_search (FtVrptwSearch *s, FtVrptwSol *sol);

/* Time of a uniform double in [0, 1). */
double ft_vrptw_rand (FtVrptwSearch *s);

G_END_DECLS
