/* vrptw-check.h — an independent checker for VRPTW solutions, written
 * apart from the solver (no segments, no shared code): it replays each route
 * in time from the raw problem and recomputes the distance.
 */
#pragma once

#include "ft-vrptw.h"

/* TRUE when s is feasible for p: vehicles used once, every stop exactly once
 * (or listed unassigned when allow_unassigned), no depot visited as a stop,
 * capacity, time windows, shifts. *distance gets the recomputed distance
 * (from coordinates when p has them, else from the matrix). On failure
 * *why says what is wrong (free it). */
gboolean vrptw_check_solution (const FtVrptwProblem *p, const FtVrptwSolution *s,
                               gboolean allow_unassigned, double *distance, char **why);

/* Brute force: whether the route `stops` (n) of vehicle v is feasible, and its distance. */
gboolean vrptw_check_route (const FtVrptwProblem *p, guint v, const guint *stops, guint n,
                            double *distance);
