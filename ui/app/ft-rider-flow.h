/* ft-rider-flow.h — the rider's flow (find, reserve, unlock, end) as a
 * model object, not a widget: which step is allowed in which state, the
 * rider's account, booking and vehicle, and the steps themselves run on a
 * core (simulated or live) on its twin thread. The window binds its buttons
 * to the "state" property and highlights the rider's vehicle.
 */
#pragma once

#include <glib-object.h>
#include "ft-core.h"
#include "ft-frame.h"
#include "ft-city.h"

G_BEGIN_DECLS

typedef enum { FT_RIDER_IDLE = 0, FT_RIDER_RESERVED, FT_RIDER_RIDING } FtRiderState;
typedef enum { FT_RIDER_FIND = 0, FT_RIDER_RESERVE, FT_RIDER_UNLOCK, FT_RIDER_END } FtRiderStep;

#define FT_TYPE_RIDER_FLOW (ft_rider_flow_get_type ())
G_DECLARE_FINAL_TYPE (FtRiderFlow, ft_rider_flow, FT, RIDER_FLOW, GObject)

FtRiderFlow  *ft_rider_flow_new        (void);
FtRiderState  ft_rider_flow_get_state  (FtRiderFlow *self);
/* The reserved or ridden vehicle, or -1. */
gint32        ft_rider_flow_get_vehicle (FtRiderFlow *self);
FtTime        ft_rider_flow_get_hold_until (FtRiderFlow *self);
/* Whether step is allowed now; has_point: a point is marked on the map. */
gboolean      ft_rider_flow_can        (FtRiderFlow *self, FtRiderStep step, gboolean has_point);
/* Twin thread (inside a session or live job): runs step on core at now,
 * `at` the marked point. Returns the rider-facing text (markup): Find
 * lists each vehicle's price now and the offers (city, may be NULL, maps
 * positions to the zones of the offers). The new state is published by
 * ft_rider_flow_commit. */
char         *ft_rider_flow_run        (FtRiderFlow *self, FtRiderStep step, FtCore *core, const FtCity *city,
                                        FtTime now, FtLatLon at);
/* In the simulation (a city given to End), End rides to the marked point
 * along the route as simulated time passes. Whether such a ride is under
 * way (any thread): */
gboolean      ft_rider_flow_is_riding_to (FtRiderFlow *self);
/* Twin thread: moves the vehicle along the route to where it is at `now`;
 * on arrival ends the trip there and returns the receipt (or why it could
 * not end there); NULL while riding. Then commit on the main thread. */
char         *ft_rider_flow_advance    (FtRiderFlow *self, FtCore *core, FtTime now);
/* Main thread: publishes what the last step changed (notify::state). */
void          ft_rider_flow_commit     (FtRiderFlow *self);
/* Main thread: follows the reserved vehicle in a new frame; a reservation
 * the core ended (expired) returns the flow to idle. Returns TRUE when
 * that happened. */
gboolean      ft_rider_flow_observe    (FtRiderFlow *self, const FtFrame *frame);
/* A new world (scenario loaded, live reconnect): forget account and booking. */
void          ft_rider_flow_reset      (FtRiderFlow *self);

G_END_DECLS
