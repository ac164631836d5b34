/* ft-rebalance.h — the forecast-driven rebalancing plan: a transport LP
 * (GLPK) that moves vehicles from zones with a surplus to zones with an
 * expected shortfall, where each vehicle delivered is worth `benefit` and
 * each move costs cost[i][j]. The constraint matrix is totally unimodular,
 * so the simplex optimum is integral. The caller (simulator, live mode)
 * computes surplus and shortfall from its forecast.
 */
#pragma once

#include "ft-ops.h"

G_BEGIN_DECLS

typedef struct {
  guint  from;      /* zone index */
  guint  to;
  guint  count;     /* vehicles moved */
  double cost;      /* per vehicle */
} FtRebalanceMove;

/* Maximise sum_ij (benefit - cost[i*n+j]) x_ij over integer x_ij >= 0 with
 * sum_j x_ij <= surplus[i], sum_i x_ij <= shortfall[j], x_ii = 0; at most
 * max_moves vehicles in total (0 = no limit). n zones; cost is n*n
 * (row = from), finite and >= 0; benefit finite and >= 0. Moves (appended
 * to `moves`, cleared first, sorted by from then to) and the net value
 * (*net, may be NULL). Refuses bad input naming the zone or pair. */
gboolean ft_rebalance_plan (guint n, const guint *surplus, const guint *shortfall,
                            const double *cost, double benefit, guint max_moves,
                            GArray *moves, double *net, GError **error);

G_END_DECLS
