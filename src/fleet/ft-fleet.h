/* ft-fleet.h — the fleet: vehicles of three kinds, their MDS 2.0 states and
 * event-driven transitions, and swappable battery packs that move between
 * vehicles, vans and depots. Vehicles are dense indices inside; outside they
 * are MDS device_id UUIDs and human names ("FT-0042").
 *
 * Invariants (ft_fleet_check): every vehicle is in exactly one legal state;
 * every pack is in exactly one place and its holder agrees (a vehicle holds
 * at most one pack and that pack says it is in that vehicle); SOC in [0,1].
 */
#pragma once

#include "ft-common.h"
#include "ft-event.h"
#include "ft-geo.h"

G_BEGIN_DECLS

#define FT_FLEET_ERROR (ft_fleet_error_quark ())
GQuark ft_fleet_error_quark (void);
typedef enum {
  FT_FLEET_ERROR_NO_SUCH_VEHICLE,
  FT_FLEET_ERROR_NO_SUCH_PACK,
  FT_FLEET_ERROR_ILLEGAL_TRANSITION,  /* "FT-0042 is on_trip; battery_charged needs ..." */
  FT_FLEET_ERROR_PACK_PLACE,          /* pack not where the operation needs it */
  FT_FLEET_ERROR_INVALID,
} FtFleetError;

typedef enum {
  FT_KIND_SCOOTER = 0,
  FT_KIND_BIKE,
  FT_KIND_MOPED,
  FT_N_KINDS
} FtVehicleKind;

/* Type-specific parameters. Defaults from ft_vehicle_type_default(). */
typedef struct {
  FtVehicleKind kind;
  const char   *id;              /* GBFS vehicle_type_id: "e-scooter", "e-bike", "e-moped" */
  const char   *form_factor;     /* GBFS: "scooter_standing", "bicycle", "moped" */
  double        max_speed_kph;   /* legal top speed */
  double        cruise_speed_kph;/* typical average in town */
  double        wh_per_km;       /* consumption */
  double        pack_capacity_wh;/* nominal pack */
  double        low_soc;         /* below this the vehicle is not offered (0..1) */
} FtVehicleType;

const FtVehicleType *ft_vehicle_type_default (FtVehicleKind kind);
const char          *ft_vehicle_kind_id      (FtVehicleKind kind);
gboolean             ft_vehicle_kind_from_id (const char *id, FtVehicleKind *out);

/* MDS 2.0 vehicle_state */
typedef enum {
  FT_STATE_AVAILABLE = 0,
  FT_STATE_RESERVED,
  FT_STATE_ON_TRIP,
  FT_STATE_NON_OPERATIONAL,
  FT_STATE_REMOVED,
  FT_STATE_ELSEWHERE,
  FT_STATE_UNKNOWN,
  FT_N_STATES
} FtVehicleState;

/* MDS 2.0 micromobility event_types */
typedef enum {
  FT_VEV_AGENCY_DROP_OFF = 0, FT_VEV_AGENCY_PICK_UP, FT_VEV_BATTERY_CHARGED,
  FT_VEV_BATTERY_LOW, FT_VEV_CHANGED_GEOGRAPHIES, FT_VEV_COMMS_LOST,
  FT_VEV_COMMS_RESTORED, FT_VEV_COMPLIANCE_PICK_UP, FT_VEV_DECOMMISSIONED,
  FT_VEV_LOCATED, FT_VEV_MAINTENANCE, FT_VEV_MAINTENANCE_PICK_UP,
  FT_VEV_MAINTENANCE_END, FT_VEV_OFF_HOURS, FT_VEV_ON_HOURS,
  FT_VEV_PROVIDER_DROP_OFF, FT_VEV_REBALANCE_PICK_UP, FT_VEV_RESERVATION_CANCEL,
  FT_VEV_RESERVATION_START, FT_VEV_SYSTEM_RESUME, FT_VEV_SYSTEM_SUSPEND,
  FT_VEV_TRIP_CANCEL, FT_VEV_TRIP_END, FT_VEV_TRIP_ENTER_JURISDICTION,
  FT_VEV_TRIP_LEAVE_JURISDICTION, FT_VEV_TRIP_START, FT_VEV_TRIP_PAUSE,
  FT_VEV_TRIP_RESUME, FT_VEV_UNSPECIFIED,
  FT_N_VEVS
} FtVehicleEventType;

const char *ft_vehicle_state_name      (FtVehicleState s);   /* "available" … */
const char *ft_vehicle_event_name      (FtVehicleEventType e);/* "trip_start" … */
gboolean    ft_vehicle_state_from_name (const char *s, FtVehicleState *out);
gboolean    ft_vehicle_event_from_name (const char *s, FtVehicleEventType *out);
/* The state an event leads to from `from`, or FALSE if MDS does not allow it.
 * The full table is documented at the top of ft-fleet.c. One refinement is
 * not visible here: from `unknown`, comms_restored and located lead to
 * `available` in this pure function, while ft_fleet_apply_event returns
 * the vehicle to its resume_state (the state it had before comms_lost). */
gboolean    ft_vehicle_transition      (FtVehicleState from, FtVehicleEventType ev,
                                        FtVehicleState *to);

typedef enum {
  FT_PACK_IN_VEHICLE = 0,
  FT_PACK_IN_VAN,
  FT_PACK_AT_DEPOT,
  FT_N_PACK_PLACES
} FtPackPlace;

typedef struct {
  guint32        index;
  char           device_id[37];   /* MDS UUID */
  char           name[16];        /* "FT-0042" */
  FtVehicleKind  kind;
  FtVehicleState state;
  FtVehicleEventType last_event;
  FtTime         state_since;
  FtLatLon       pos;
  gint32         pack;            /* pack index, -1 = none */
  gint64         booking;         /* current booking id, -1 = none */
  double         odometer_m;
  double         wear;            /* 0 new … 1 worn; drives fault hazard */
  guint32        fault_codes;     /* bit set; nonzero usually means non_operational */
  FtTime         last_seen;       /* last telemetry or event (live mode) */
  FtVehicleState resume_state;    /* state before comms_lost; comms_restored /
                                   * located from unknown return to it
                                   * (0 = available when not known) */
} FtVehicle;

typedef struct {
  guint32     index;
  char        id[24];             /* "PK-000042" */
  double      capacity_wh;        /* nominal */
  double      soc;                /* state of charge 0..1 */
  double      health;             /* usable fraction of nominal 0..1 */
  guint32     cycles;             /* full-equivalent cycles */
  double      throughput_wh;      /* energy delivered since last cycle count */
  FtPackPlace place;
  gint32      holder;             /* vehicle / van / depot index */
} FtPack;

typedef struct _FtFleet FtFleet;

/* seed makes generated device_ids reproducible. log may be NULL. */
FtFleet         *ft_fleet_new            (guint64 seed, FtEventLog *log);
void             ft_fleet_free           (FtFleet *f);
void             ft_fleet_set_event_log  (FtFleet *f, FtEventLog *log);
/* n_vans / n_depots bound pack holders of those places (grown as needed). */
void             ft_fleet_set_holders    (FtFleet *f, guint n_vans, guint n_depots);

/* Adds a vehicle (state `available`, no pack). device_id NULL: generated
 * (a UUID reproducible from the seed and index); otherwise any non-empty
 * string up to 36 bytes that no other vehicle has (a duplicate is a
 * programmer error: returns G_MAXUINT). Name is "FT-%04u" of the index. */
guint            ft_fleet_add_vehicle    (FtFleet *f, FtVehicleKind kind, FtLatLon pos,
                                          const char *device_id, FtTime now);
/* Returns the pack index, or G_MAXUINT with an error (bad capacity/SOC,
 * unknown vehicle, vehicle already holding a pack, negative holder). Van
 * and depot holders beyond the current count grow the count. */
guint            ft_fleet_add_pack       (FtFleet *f, double capacity_wh, double soc,
                                          FtPackPlace place, gint32 holder, FtTime now,
                                          GError **error);
guint            ft_fleet_n_vans         (const FtFleet *f);
guint            ft_fleet_n_depots       (const FtFleet *f);
/* Packs held by a van or depot, appended to `out` (guint indices). */
void             ft_fleet_packs_at       (const FtFleet *f, FtPackPlace place, gint32 holder,
                                          GArray *out);
guint            ft_fleet_n_vehicles     (const FtFleet *f);
guint            ft_fleet_n_packs        (const FtFleet *f);
const FtVehicle *ft_fleet_get_vehicle    (const FtFleet *f, guint v);
const FtPack    *ft_fleet_get_pack       (const FtFleet *f, guint p);
/* Direct array access for hot loops and snapshots (read only). */
const FtVehicle *ft_fleet_vehicles       (const FtFleet *f);
const FtPack    *ft_fleet_packs          (const FtFleet *f);
gboolean         ft_fleet_lookup_device  (const FtFleet *f, const char *device_id, guint *v_out);
gboolean         ft_fleet_lookup_name    (const FtFleet *f, const char *name, guint *v_out);
guint            ft_fleet_count_state    (const FtFleet *f, FtVehicleState s);

/* State machine: applies an MDS event; refuses illegal ones with an error
 * naming the vehicle, its state and the event. */
gboolean ft_fleet_apply_event   (FtFleet *f, guint v, FtVehicleEventType ev,
                                 FtTime now, GError **error);
/* ft_fleet_apply_event, then (when it succeeds) ft_fleet_set_position
 * (f, v, pos, add_odometer_m, now, FALSE), the same state and indexes; a
 * vehicle it makes available enters the index of available vehicles at
 * pos directly. */
gboolean ft_fleet_apply_event_and_move (FtFleet *f, guint v, FtVehicleEventType ev, FtTime now,
                                        FtLatLon pos, double add_odometer_m, GError **error);
/* Set position (and add odometer distance); emits FT_EV_VEHICLE_MOVED only
 * if log_it (the simulator moves vehicles every tick without logging). */
void     ft_fleet_set_position  (FtFleet *f, guint v, FtLatLon pos, double add_odometer_m,
                                 FtTime now, gboolean log_it);
/* Drain the vehicle's pack by wh (clamped at 0). Returns new SOC (0 if no pack). */
double   ft_fleet_drain         (FtFleet *f, guint v, double wh);
double   ft_fleet_soc           (const FtFleet *f, guint v);   /* 0 if no pack */
/* Starts loading vehicle v's record and its pack's (a hint). */
void     ft_fleet_prefetch      (const FtFleet *f, guint v);
double   ft_fleet_range_m       (const FtFleet *f, guint v);   /* from SOC, health, wh/km */
void     ft_fleet_set_booking   (FtFleet *f, guint v, gint64 booking);
void     ft_fleet_add_wear      (FtFleet *f, guint v, double wear);
/* Sets the codes silently (store reload, tests of unlogged changes). */
void     ft_fleet_set_faults    (FtFleet *f, guint v, guint32 fault_codes);
/* Sets the codes and, when they change, logs FT_EV_VEHICLE_FAULT: how a
 * fault (codes set) and its repair (codes cleared) show in the event log,
 * from the simulator and from live telemetry alike. */
void     ft_fleet_report_faults (FtFleet *f, guint v, guint32 fault_codes, FtTime now);
void     ft_fleet_touch         (FtFleet *f, guint v, FtTime now); /* last_seen */

/* Packs */
gboolean ft_fleet_move_pack     (FtFleet *f, guint p, FtPackPlace place, gint32 holder,
                                 FtTime now, GError **error);
/* Field swap: the vehicle's pack goes into van `van`, pack `fresh` (which must
 * be in that van) goes into the vehicle. Vehicle must not be on_trip/reserved. */
gboolean ft_fleet_swap_pack     (FtFleet *f, guint v, guint fresh, guint van,
                                 FtTime now, GError **error);
/* Charge a pack by wh (at a depot); counts cycles and slowly lowers health. */
double   ft_fleet_charge_pack   (FtFleet *f, guint p, double wh, FtTime now);
/* Restore a pack or vehicle wholesale (store reload, live registration).
 * index < n overwrites, index == n appends; no events are emitted and no
 * cross-checks are made (call ft_fleet_check afterwards). */
void     ft_fleet_restore_vehicle (FtFleet *f, const FtVehicle *v);
void     ft_fleet_restore_pack    (FtFleet *f, const FtPack *p);

/* Spatial index of vehicles (all states), kept current by set_position and
 * add_vehicle from the first ft_fleet_visit_near on (built then); enable
 * once bounds are known. */
void     ft_fleet_enable_index  (FtFleet *f, FtBBox bounds, double cell_m);
void     ft_fleet_visit_near    (const FtFleet *f, FtLatLon p, double radius_m,
                                 FtGridVisitFunc fn, gpointer user_data);
/* Same, visiting only vehicles whose state is `available`: a second index
 * kept by every state transition, add, restore and move (ft_fleet_check
 * verifies it agrees with the states). Visit order is unspecified. */
void     ft_fleet_visit_near_available (const FtFleet *f, FtLatLon p, double radius_m,
                                        FtGridVisitFunc fn, gpointer user_data);
/* The available vehicle nearest to p within max_m that accept (NULL: any)
 * takes, ties to the lowest index, as ft_grid_index_nearest; -1 if none
 * (then accept was asked about every available vehicle within max_m). */
gint64   ft_fleet_nearest_available (const FtFleet *f, FtLatLon p, double max_m,
                                     FtGridAcceptFunc accept, gpointer user_data,
                                     double *dist_m);

/* Invariant checker; returns FALSE with a message naming the first violation. */
gboolean ft_fleet_check         (const FtFleet *f, GError **error);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (FtFleet, ft_fleet_free)

G_END_DECLS
