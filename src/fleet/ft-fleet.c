/* ft-fleet.c — the fleet: vehicles (dense array), their MDS 2.0 states and
 * event-driven transitions, swappable battery packs that move between
 * vehicles, vans and depots, charging with cycle counting and slow health
 * fade, range estimates, an optional spatial index, and the invariant
 * checker. Every state change is appended to the domain event log.
 *
 * MDS 2.0 transition table (micromobility event_types -> vehicle_state).
 * The "to" side follows models/modes/micromobility/event.yaml; the "from"
 * side is ours. States: A available, R reserved, T on_trip,
 * N non_operational, X removed, E elsewhere, U unknown (MDS
 * non_contactable / missing). "stay" keeps the current state.
 *
 *   event                    from            to
 *   agency_drop_off          X U             A
 *   agency_pick_up           A N E U         X
 *   battery_charged          N U             A
 *   battery_low              A U             N
 *   changed_geographies      T U             T
 *   comms_lost               any             U   (remembers the state left)
 *   comms_restored           any             stay; from U: the state left *
 *   compliance_pick_up       A N E U         X
 *   decommissioned           A N X E U       X
 *   located                  any             stay; from U: the state left *
 *   maintenance              A N U           N   (work in place begins)
 *   maintenance_pick_up      A N E U         X
 *   maintenance_end          N U             A
 *   off_hours                A U             N
 *   on_hours                 N U             A
 *   provider_drop_off        X U             A
 *   rebalance_pick_up        A N E U         X
 *   reservation_cancel       R U             A
 *   reservation_start        A               R
 *   system_resume            N U             A
 *   system_suspend           A U             N
 *   trip_cancel              T U             A
 *   trip_end                 T U             A
 *   trip_enter_jurisdiction  E U             T
 *   trip_leave_jurisdiction  T U             E
 *   trip_start               A R             T
 *   trip_pause, trip_resume  T               T
 *   unspecified              any             stay
 *
 * Reserved and on_trip vehicles leave those states only through booking
 * events (and comms_lost), so the booking module stays authoritative.
 * From unknown, events reporting a fact (pick-ups, drop-offs, battery,
 * trip_end) re-establish the state; rider commands (reservation_start,
 * trip_start, pause/resume) are refused. (*) ft_vehicle_transition says
 * `available` for these; ft_fleet_apply_event uses the remembered state.
 */
#include "ft-fleet.h"

#include <string.h>

G_DEFINE_QUARK (ft-fleet-error-quark, ft_fleet_error)

/* ------------------------------------------------------- vehicle types */

static const FtVehicleType vehicle_types[FT_N_KINDS] = {
  /* Shared kick-scooter: ~550 Wh swappable pack, 20 km/h EU limit. */
  { FT_KIND_SCOOTER, "e-scooter", "scooter_standing", 20.0, 14.0, 12.0, 550.0, 0.15 },
  /* Pedelec: assist to 25 km/h, frugal. */
  { FT_KIND_BIKE, "e-bike", "bicycle", 25.0, 16.0, 8.0, 500.0, 0.10 },
  /* L1e moped: 45 km/h, ~1.6 kWh swappable pack. */
  { FT_KIND_MOPED, "e-moped", "moped", 45.0, 25.0, 30.0, 1600.0, 0.15 },
};

const FtVehicleType *
ft_vehicle_type_default (FtVehicleKind kind)
{
  g_return_val_if_fail ((guint) kind < FT_N_KINDS, &vehicle_types[0]);
  return &vehicle_types[kind];
}

const char *
ft_vehicle_kind_id (FtVehicleKind kind)
{
  g_return_val_if_fail ((guint) kind < FT_N_KINDS, "unknown");
  return vehicle_types[kind].id;
}

gboolean
ft_vehicle_kind_from_id (const char *id, FtVehicleKind *out)
{
  guint k;

  if (id == NULL)
    return FALSE;
  for (k = 0; k < FT_N_KINDS; k++)
    if (g_str_equal (id, vehicle_types[k].id) || g_str_equal (id, vehicle_types[k].form_factor))
      {
        if (out)
          *out = (FtVehicleKind) k;
        return TRUE;
      }
  return FALSE;
}

/* -------------------------------------------------------- state machine */

static const char *const state_names[FT_N_STATES] = {
  "available", "reserved", "on_trip", "non_operational", "removed", "elsewhere", "unknown",
};

#define S(x) (1u << FT_STATE_##x)
#define ANY  ((1u << FT_N_STATES) - 1)
#define STAY (-1)

typedef struct {
  const char *name;
  guint8      from;   /* bit per FtVehicleState */
  gint8       to;     /* FtVehicleState or STAY */
} Transition;

static const Transition transitions[FT_N_VEVS] = {
  [FT_VEV_AGENCY_DROP_OFF]         = { "agency_drop_off",         S (REMOVED) | S (UNKNOWN), FT_STATE_AVAILABLE },
  [FT_VEV_AGENCY_PICK_UP]          = { "agency_pick_up",          S (AVAILABLE) | S (NON_OPERATIONAL) | S (ELSEWHERE) | S (UNKNOWN), FT_STATE_REMOVED },
  [FT_VEV_BATTERY_CHARGED]         = { "battery_charged",         S (NON_OPERATIONAL) | S (UNKNOWN), FT_STATE_AVAILABLE },
  [FT_VEV_BATTERY_LOW]             = { "battery_low",             S (AVAILABLE) | S (UNKNOWN), FT_STATE_NON_OPERATIONAL },
  [FT_VEV_CHANGED_GEOGRAPHIES]     = { "changed_geographies",     S (ON_TRIP) | S (UNKNOWN), FT_STATE_ON_TRIP },
  [FT_VEV_COMMS_LOST]              = { "comms_lost",              ANY, FT_STATE_UNKNOWN },
  [FT_VEV_COMMS_RESTORED]          = { "comms_restored",          ANY, STAY },
  [FT_VEV_COMPLIANCE_PICK_UP]      = { "compliance_pick_up",      S (AVAILABLE) | S (NON_OPERATIONAL) | S (ELSEWHERE) | S (UNKNOWN), FT_STATE_REMOVED },
  [FT_VEV_DECOMMISSIONED]          = { "decommissioned",          S (AVAILABLE) | S (NON_OPERATIONAL) | S (REMOVED) | S (ELSEWHERE) | S (UNKNOWN), FT_STATE_REMOVED },
  [FT_VEV_LOCATED]                 = { "located",                 ANY, STAY },
  [FT_VEV_MAINTENANCE]             = { "maintenance",             S (AVAILABLE) | S (NON_OPERATIONAL) | S (UNKNOWN), FT_STATE_NON_OPERATIONAL },
  [FT_VEV_MAINTENANCE_PICK_UP]     = { "maintenance_pick_up",     S (AVAILABLE) | S (NON_OPERATIONAL) | S (ELSEWHERE) | S (UNKNOWN), FT_STATE_REMOVED },
  [FT_VEV_MAINTENANCE_END]         = { "maintenance_end",         S (NON_OPERATIONAL) | S (UNKNOWN), FT_STATE_AVAILABLE },
  [FT_VEV_OFF_HOURS]               = { "off_hours",               S (AVAILABLE) | S (UNKNOWN), FT_STATE_NON_OPERATIONAL },
  [FT_VEV_ON_HOURS]                = { "on_hours",                S (NON_OPERATIONAL) | S (UNKNOWN), FT_STATE_AVAILABLE },
  [FT_VEV_PROVIDER_DROP_OFF]       = { "provider_drop_off",       S (REMOVED) | S (UNKNOWN), FT_STATE_AVAILABLE },
  [FT_VEV_REBALANCE_PICK_UP]       = { "rebalance_pick_up",       S (AVAILABLE) | S (NON_OPERATIONAL) | S (ELSEWHERE) | S (UNKNOWN), FT_STATE_REMOVED },
  [FT_VEV_RESERVATION_CANCEL]      = { "reservation_cancel",      S (RESERVED) | S (UNKNOWN), FT_STATE_AVAILABLE },
  [FT_VEV_RESERVATION_START]       = { "reservation_start",       S (AVAILABLE), FT_STATE_RESERVED },
  [FT_VEV_SYSTEM_RESUME]           = { "system_resume",           S (NON_OPERATIONAL) | S (UNKNOWN), FT_STATE_AVAILABLE },
  [FT_VEV_SYSTEM_SUSPEND]          = { "system_suspend",          S (AVAILABLE) | S (UNKNOWN), FT_STATE_NON_OPERATIONAL },
  [FT_VEV_TRIP_CANCEL]             = { "trip_cancel",             S (ON_TRIP) | S (UNKNOWN), FT_STATE_AVAILABLE },
  [FT_VEV_TRIP_END]                = { "trip_end",                S (ON_TRIP) | S (UNKNOWN), FT_STATE_AVAILABLE },
  [FT_VEV_TRIP_ENTER_JURISDICTION] = { "trip_enter_jurisdiction", S (ELSEWHERE) | S (UNKNOWN), FT_STATE_ON_TRIP },
  [FT_VEV_TRIP_LEAVE_JURISDICTION] = { "trip_leave_jurisdiction", S (ON_TRIP) | S (UNKNOWN), FT_STATE_ELSEWHERE },
  [FT_VEV_TRIP_START]              = { "trip_start",              S (AVAILABLE) | S (RESERVED), FT_STATE_ON_TRIP },
  [FT_VEV_TRIP_PAUSE]              = { "trip_pause",              S (ON_TRIP), FT_STATE_ON_TRIP },
  [FT_VEV_TRIP_RESUME]             = { "trip_resume",             S (ON_TRIP), FT_STATE_ON_TRIP },
  [FT_VEV_UNSPECIFIED]             = { "unspecified",             ANY, STAY },
};

#undef S

const char *
ft_vehicle_state_name (FtVehicleState s)
{
  if ((guint) s >= FT_N_STATES)
    return "invalid";
  return state_names[s];
}

const char *
ft_vehicle_event_name (FtVehicleEventType e)
{
  if ((guint) e >= FT_N_VEVS)
    return "invalid";
  return transitions[e].name;
}

gboolean
ft_vehicle_state_from_name (const char *s, FtVehicleState *out)
{
  guint i;

  if (s == NULL)
    return FALSE;
  for (i = 0; i < FT_N_STATES; i++)
    if (g_str_equal (s, state_names[i]))
      {
        if (out)
          *out = (FtVehicleState) i;
        return TRUE;
      }
  /* MDS 2.0 states we fold into unknown. */
  if (g_str_equal (s, "non_contactable") || g_str_equal (s, "missing"))
    {
      if (out)
        *out = FT_STATE_UNKNOWN;
      return TRUE;
    }
  return FALSE;
}

gboolean
ft_vehicle_event_from_name (const char *s, FtVehicleEventType *out)
{
  guint i;

  if (s == NULL)
    return FALSE;
  for (i = 0; i < FT_N_VEVS; i++)
    if (g_str_equal (s, transitions[i].name))
      {
        if (out)
          *out = (FtVehicleEventType) i;
        return TRUE;
      }
  return FALSE;
}

gboolean
ft_vehicle_transition (FtVehicleState from, FtVehicleEventType ev, FtVehicleState *to)
{
  const Transition *t;

  if ((guint) from >= FT_N_STATES || (guint) ev >= FT_N_VEVS)
    return FALSE;
  t = &transitions[ev];
  if (!(t->from & (1u << from)))
    return FALSE;
  if (to)
    {
      if (t->to != STAY)
        *to = (FtVehicleState) t->to;
      else if (from == FT_STATE_UNKNOWN && ev != FT_VEV_UNSPECIFIED)
        *to = FT_STATE_AVAILABLE;
      else
        *to = from;
    }
  return TRUE;
}

static char *
allowed_from (FtVehicleEventType ev)
{
  GString *s = g_string_new (NULL);
  guint i;

  for (i = 0; i < FT_N_STATES; i++)
    if (transitions[ev].from & (1u << i))
      g_string_append_printf (s, "%s%s", s->len ? ", " : "", state_names[i]);
  return g_string_free (s, FALSE);
}

/* -------------------------------------------------------------- strings */

/* Open-addressing index from a string field of FtVehicle to its index;
 * rebuilt when the vehicle array is restored over. */
typedef struct {
  gint32 *slots;
  guint   cap;       /* power of two */
  guint   n;
  gsize   key_off;   /* offsetof (FtVehicle, name | device_id) */
} StrIndex;

struct _FtFleet {
  guint64     seed;
  FtEventLog *log;
  FtVehicle  *v;
  guint       n_v, cap_v;
  FtPack     *p;
  guint       n_p, cap_p;
  guint       n_vans, n_depots;
  guint       counts[FT_N_STATES];
  StrIndex    by_name, by_device;
  /* the index of every vehicle is built on the first ft_fleet_visit_near
   * and kept from then on: the simulator never asks, and moving each
   * vehicle in it cost a cache miss or three per trip */
  FtGridIndex *grid;
  FtGridIndex *avail;   /* AVAILABLE vehicles only; exists once the index is enabled */
  FtBBox       grid_bounds;
  double       grid_cell_m;
};

static inline const char *
key_of (const FtFleet *f, const StrIndex *ix, guint i)
{
  return (const char *) &f->v[i] + ix->key_off;
}

static gboolean
stridx_lookup (const FtFleet *f, const StrIndex *ix, const char *key, guint *out)
{
  guint h, mask;

  if (ix->cap == 0 || key == NULL)
    return FALSE;
  mask = ix->cap - 1;
  for (h = (guint) ft_hash_string64 (key) & mask; ix->slots[h] >= 0; h = (h + 1) & mask)
    if (strcmp (key_of (f, ix, (guint) ix->slots[h]), key) == 0)
      {
        if (out)
          *out = (guint) ix->slots[h];
        return TRUE;
      }
  return FALSE;
}

static void stridx_rebuild (FtFleet *f, StrIndex *ix);

static void
stridx_insert (FtFleet *f, StrIndex *ix, guint i)
{
  guint h, mask;

  if ((ix->n + 1) * 2 > ix->cap)
    {
      ix->cap = ix->cap ? ix->cap * 2 : 64;
      stridx_rebuild (f, ix);
    }
  mask = ix->cap - 1;
  for (h = (guint) ft_hash_string64 (key_of (f, ix, i)) & mask; ix->slots[h] >= 0; h = (h + 1) & mask)
    ;
  ix->slots[h] = (gint32) i;
  ix->n++;
}

static void
stridx_rebuild (FtFleet *f, StrIndex *ix)
{
  guint i, upto;

  while (ix->cap < 64 || f->n_v * 2 >= ix->cap)
    ix->cap = ix->cap ? ix->cap * 2 : 64;
  g_free (ix->slots);
  ix->slots = g_new (gint32, ix->cap);
  memset (ix->slots, 0xff, sizeof (gint32) * ix->cap);   /* -1 */
  upto = ix->n;           /* entries indexed so far are vehicles [0, n) */
  ix->n = 0;
  for (i = 0; i < upto && i < f->n_v; i++)
    stridx_insert (f, ix, i);
}

/* ---------------------------------------------------------------- fleet */

FtFleet *
ft_fleet_new (guint64 seed, FtEventLog *log)
{
  FtFleet *f = g_new0 (FtFleet, 1);

  f->seed = seed;
  f->log = log;
  f->by_name.key_off = G_STRUCT_OFFSET (FtVehicle, name);
  f->by_device.key_off = G_STRUCT_OFFSET (FtVehicle, device_id);
  return f;
}

void
ft_fleet_free (FtFleet *f)
{
  if (f == NULL)
    return;
  g_free (f->v);
  g_free (f->p);
  g_free (f->by_name.slots);
  g_free (f->by_device.slots);
  ft_grid_index_free (f->grid);
  ft_grid_index_free (f->avail);
  g_free (f);
}

void
ft_fleet_set_event_log (FtFleet *f, FtEventLog *log)
{
  g_return_if_fail (f != NULL);
  f->log = log;
}

void
ft_fleet_set_holders (FtFleet *f, guint n_vans, guint n_depots)
{
  g_return_if_fail (f != NULL);
  f->n_vans = MAX (f->n_vans, n_vans);
  f->n_depots = MAX (f->n_depots, n_depots);
}

guint ft_fleet_n_vans (const FtFleet *f)   { g_return_val_if_fail (f != NULL, 0); return f->n_vans; }
guint ft_fleet_n_depots (const FtFleet *f) { g_return_val_if_fail (f != NULL, 0); return f->n_depots; }
guint ft_fleet_n_vehicles (const FtFleet *f) { g_return_val_if_fail (f != NULL, 0); return f->n_v; }
guint ft_fleet_n_packs (const FtFleet *f)    { g_return_val_if_fail (f != NULL, 0); return f->n_p; }
const FtVehicle *ft_fleet_vehicles (const FtFleet *f) { g_return_val_if_fail (f != NULL, NULL); return f->v; }
const FtPack *ft_fleet_packs (const FtFleet *f)       { g_return_val_if_fail (f != NULL, NULL); return f->p; }

const FtVehicle *
ft_fleet_get_vehicle (const FtFleet *f, guint v)
{
  g_return_val_if_fail (f != NULL, NULL);
  g_return_val_if_fail (v < f->n_v, NULL);
  return &f->v[v];
}

const FtPack *
ft_fleet_get_pack (const FtFleet *f, guint p)
{
  g_return_val_if_fail (f != NULL, NULL);
  g_return_val_if_fail (p < f->n_p, NULL);
  return &f->p[p];
}

gboolean
ft_fleet_lookup_device (const FtFleet *f, const char *device_id, guint *v_out)
{
  g_return_val_if_fail (f != NULL, FALSE);
  return stridx_lookup (f, &f->by_device, device_id, v_out);
}

gboolean
ft_fleet_lookup_name (const FtFleet *f, const char *name, guint *v_out)
{
  g_return_val_if_fail (f != NULL, FALSE);
  return stridx_lookup (f, &f->by_name, name, v_out);
}

guint
ft_fleet_count_state (const FtFleet *f, FtVehicleState s)
{
  g_return_val_if_fail (f != NULL, 0);
  g_return_val_if_fail ((guint) s < FT_N_STATES, 0);
  return f->counts[s];
}

static void
log_event (FtFleet *f, const FtEvent *ev)
{
  if (f->log)
    ft_event_log_append (f->log, ev);
}

static void
grow_vehicles (FtFleet *f, guint n)
{
  if (n > f->cap_v)
    {
      f->cap_v = MAX (n, f->cap_v ? f->cap_v * 2 : 64);
      f->v = g_renew (FtVehicle, f->v, f->cap_v);
    }
}

guint
ft_fleet_add_vehicle (FtFleet *f, FtVehicleKind kind, FtLatLon pos,
                      const char *device_id, FtTime now)
{
  FtVehicle *v;
  FtEvent ev;
  guint i;

  g_return_val_if_fail (f != NULL, G_MAXUINT);
  g_return_val_if_fail ((guint) kind < FT_N_KINDS, G_MAXUINT);
  g_return_val_if_fail (device_id == NULL || (*device_id && strlen (device_id) <= 36), G_MAXUINT);
  g_return_val_if_fail (device_id == NULL || !stridx_lookup (f, &f->by_device, device_id, NULL), G_MAXUINT);

  i = f->n_v;
  grow_vehicles (f, i + 1);
  v = &f->v[i];
  memset (v, 0, sizeof *v);
  v->index = i;
  if (device_id)
    g_strlcpy (v->device_id, device_id, sizeof v->device_id);
  else
    {
      guint64 k = ft_mix64 (f->seed ^ G_GUINT64_CONSTANT (0x5eed0f1ee7)) + i;
      ft_uuid_from_words (ft_mix64 (k * 2 + 1), ft_mix64 (k * 2 + 2), v->device_id);
      /* Astronomically unlikely, but keep device ids unique. */
      while (stridx_lookup (f, &f->by_device, v->device_id, NULL))
        {
          k += 0x9e37;
          ft_uuid_from_words (ft_mix64 (k), ft_mix64 (k + 1), v->device_id);
        }
    }
  g_snprintf (v->name, sizeof v->name, "FT-%04u", i);
  v->kind = kind;
  v->state = FT_STATE_AVAILABLE;
  v->last_event = FT_VEV_PROVIDER_DROP_OFF;
  v->state_since = now;
  v->pos = pos;
  v->pack = -1;
  v->booking = -1;
  v->last_seen = now;
  v->resume_state = FT_STATE_AVAILABLE;
  f->n_v++;
  f->counts[FT_STATE_AVAILABLE]++;
  stridx_insert (f, &f->by_name, i);
  stridx_insert (f, &f->by_device, i);
  if (f->grid)
    ft_grid_index_insert (f->grid, i, pos);
  if (f->avail)
    ft_grid_index_insert (f->avail, i, pos);

  ev = ft_event_init (FT_EV_VEHICLE_ADDED, now);
  ev.vehicle = (gint32) i;
  ev.a = kind;
  ev.lat = pos.lat;
  ev.lon = pos.lon;
  log_event (f, &ev);
  return i;
}

/* ft_fleet_apply_event; a vehicle that becomes available goes into the
 * index of available vehicles at *avail_at (its position when NULL), and
 * *placed tells whether it did. */
static gboolean
apply_event (FtFleet *f, guint vi, FtVehicleEventType evt, FtTime now, const FtLatLon *avail_at,
             gboolean *placed, GError **error)
{
  FtVehicle *v;
  FtVehicleState to;
  FtEvent ev;

  g_return_val_if_fail (f != NULL, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);
  if (vi >= f->n_v)
    {
      g_set_error (error, FT_FLEET_ERROR, FT_FLEET_ERROR_NO_SUCH_VEHICLE,
                   "no vehicle with index %u (the fleet has %u)", vi, f->n_v);
      return FALSE;
    }
  v = &f->v[vi];
  if ((guint) evt >= FT_N_VEVS)
    {
      g_set_error (error, FT_FLEET_ERROR, FT_FLEET_ERROR_INVALID,
                   "%s: event type %d is not an MDS event", v->name, (int) evt);
      return FALSE;
    }
  if (!ft_vehicle_transition (v->state, evt, &to))
    {
      g_autofree char *from = allowed_from (evt);
      g_set_error (error, FT_FLEET_ERROR, FT_FLEET_ERROR_ILLEGAL_TRANSITION,
                   "%s is %s; %s is not allowed from %s (only from %s)",
                   v->name, state_names[v->state], transitions[evt].name,
                   state_names[v->state], from);
      return FALSE;
    }
  if (v->state == FT_STATE_UNKNOWN &&
      (evt == FT_VEV_COMMS_RESTORED || evt == FT_VEV_LOCATED))
    to = (guint) v->resume_state < FT_N_STATES && v->resume_state != FT_STATE_UNKNOWN
         ? v->resume_state : FT_STATE_AVAILABLE;
  if (to == FT_STATE_UNKNOWN && v->state != FT_STATE_UNKNOWN)
    v->resume_state = v->state;

  if (to != v->state)
    {
      f->counts[v->state]--;
      f->counts[to]++;
      if (f->avail)
        {
          if (to == FT_STATE_AVAILABLE)
            {
              ft_grid_index_insert (f->avail, vi, avail_at != NULL ? *avail_at : v->pos);
              if (placed != NULL)
                *placed = TRUE;
            }
          else if (v->state == FT_STATE_AVAILABLE)
            ft_grid_index_remove (f->avail, vi);
        }
      v->state = to;
      v->state_since = now;
    }
  v->last_event = evt;
  v->last_seen = MAX (v->last_seen, now);

  ev = ft_event_init (FT_EV_VEHICLE_STATE, now);
  ev.vehicle = (gint32) vi;
  ev.a = evt;
  ev.b = to;
  ev.ref = v->booking;
  ev.lat = v->pos.lat;
  ev.lon = v->pos.lon;
  log_event (f, &ev);
  return TRUE;
}

gboolean
ft_fleet_apply_event (FtFleet *f, guint vi, FtVehicleEventType evt, FtTime now, GError **error)
{
  return apply_event (f, vi, evt, now, NULL, NULL, error);
}

/* A vehicle made available here would go into the index of available
 * vehicles at its old position and move at once: it goes in where it
 * moves to instead (appended to that cell as the move would append it, and
 * the old cell left as the move's removal of its last item leaves it). */
gboolean
ft_fleet_apply_event_and_move (FtFleet *f, guint vi, FtVehicleEventType evt, FtTime now,
                               FtLatLon pos, double add_odometer_m, GError **error)
{
  gboolean placed = FALSE;
  if (!apply_event (f, vi, evt, now, &pos, &placed, error))
    return FALSE;
  FtVehicle *v = &f->v[vi];
  v->pos = pos;
  if (add_odometer_m > 0)
    v->odometer_m += add_odometer_m;
  if (f->grid)
    ft_grid_index_move (f->grid, vi, pos);
  if (f->avail && v->state == FT_STATE_AVAILABLE && !placed)
    ft_grid_index_move (f->avail, vi, pos);
  return TRUE;
}

void
ft_fleet_set_position (FtFleet *f, guint vi, FtLatLon pos, double add_odometer_m,
                       FtTime now, gboolean log_it)
{
  FtVehicle *v;

  g_return_if_fail (f != NULL);
  g_return_if_fail (vi < f->n_v);
  v = &f->v[vi];
  v->pos = pos;
  if (add_odometer_m > 0)
    v->odometer_m += add_odometer_m;
  if (f->grid)
    ft_grid_index_move (f->grid, vi, pos);
  if (f->avail && v->state == FT_STATE_AVAILABLE)
    ft_grid_index_move (f->avail, vi, pos);
  if (log_it)
    {
      FtEvent ev = ft_event_init (FT_EV_VEHICLE_MOVED, now);

      ev.vehicle = (gint32) vi;
      ev.lat = pos.lat;
      ev.lon = pos.lon;
      ev.amount = (gint64) llround (v->odometer_m);
      log_event (f, &ev);
    }
}

static inline double
pack_usable_wh (const FtPack *p)
{
  return p->capacity_wh * p->health;
}

double
ft_fleet_drain (FtFleet *f, guint vi, double wh)
{
  FtPack *p;
  double usable;

  g_return_val_if_fail (f != NULL, 0);
  g_return_val_if_fail (vi < f->n_v, 0);
  if (f->v[vi].pack < 0)
    return 0;
  p = &f->p[f->v[vi].pack];
  usable = pack_usable_wh (p);
  if (wh > 0 && usable > 0)
    p->soc = CLAMP (p->soc - wh / usable, 0.0, 1.0);
  return p->soc;
}

double
ft_fleet_soc (const FtFleet *f, guint vi)
{
  g_return_val_if_fail (f != NULL, 0);
  g_return_val_if_fail (vi < f->n_v, 0);
  return f->v[vi].pack < 0 ? 0 : f->p[f->v[vi].pack].soc;
}

void
ft_fleet_prefetch (const FtFleet *f, guint vi)
{
  if (f == NULL || vi >= f->n_v)
    return;
  __builtin_prefetch (&f->v[vi], 1);
  if (f->v[vi].pack >= 0)
    __builtin_prefetch (&f->p[f->v[vi].pack], 1);
}

double
ft_fleet_range_m (const FtFleet *f, guint vi)
{
  const FtPack *p;
  const FtVehicleType *t;

  g_return_val_if_fail (f != NULL, 0);
  g_return_val_if_fail (vi < f->n_v, 0);
  if (f->v[vi].pack < 0)
    return 0;
  p = &f->p[f->v[vi].pack];
  t = &vehicle_types[f->v[vi].kind];
  return p->soc * pack_usable_wh (p) / t->wh_per_km * 1000.0;
}

void
ft_fleet_set_booking (FtFleet *f, guint vi, gint64 booking)
{
  g_return_if_fail (f != NULL);
  g_return_if_fail (vi < f->n_v);
  f->v[vi].booking = booking;
}

void
ft_fleet_add_wear (FtFleet *f, guint vi, double wear)
{
  g_return_if_fail (f != NULL);
  g_return_if_fail (vi < f->n_v);
  f->v[vi].wear = CLAMP (f->v[vi].wear + wear, 0.0, 1.0);
}

void
ft_fleet_set_faults (FtFleet *f, guint vi, guint32 fault_codes)
{
  g_return_if_fail (f != NULL);
  g_return_if_fail (vi < f->n_v);
  f->v[vi].fault_codes = fault_codes;
}

void
ft_fleet_report_faults (FtFleet *f, guint vi, guint32 fault_codes, FtTime now)
{
  g_return_if_fail (f != NULL);
  g_return_if_fail (vi < f->n_v);
  FtVehicle *v = &f->v[vi];
  if (v->fault_codes == fault_codes)
    return;
  FtEvent ev = ft_event_init (FT_EV_VEHICLE_FAULT, now);
  ev.vehicle = (gint32) vi;
  ev.amount = fault_codes;
  ev.b = v->fault_codes;
  ev.lat = v->pos.lat;
  ev.lon = v->pos.lon;
  v->fault_codes = fault_codes;
  log_event (f, &ev);
}

void
ft_fleet_touch (FtFleet *f, guint vi, FtTime now)
{
  g_return_if_fail (f != NULL);
  g_return_if_fail (vi < f->n_v);
  if (now > f->v[vi].last_seen)
    f->v[vi].last_seen = now;
}

/* ---------------------------------------------------------------- packs */

static const char *const place_names[FT_N_PACK_PLACES] = { "vehicle", "van", "depot" };

static void
describe_place (const FtFleet *f, FtPackPlace place, gint32 holder, char *buf, gsize len)
{
  if (place == FT_PACK_IN_VEHICLE && holder >= 0 && (guint) holder < f->n_v)
    g_snprintf (buf, len, "vehicle %s", f->v[holder].name);
  else if ((guint) place < FT_N_PACK_PLACES)
    g_snprintf (buf, len, "%s %d", place_names[place], holder);
  else
    g_snprintf (buf, len, "place %d", (int) place);
}

/* Checks a destination; `moving` is the pack that may already be there. */
static gboolean
check_destination (FtFleet *f, FtPackPlace place, gint32 holder, gint32 moving, GError **error)
{
  if ((guint) place >= FT_N_PACK_PLACES)
    {
      g_set_error (error, FT_FLEET_ERROR, FT_FLEET_ERROR_INVALID,
                   "pack place %d is not vehicle, van or depot", (int) place);
      return FALSE;
    }
  if (holder < 0)
    {
      g_set_error (error, FT_FLEET_ERROR, FT_FLEET_ERROR_INVALID,
                   "%s holder %d is negative", place_names[place], holder);
      return FALSE;
    }
  if (place == FT_PACK_IN_VEHICLE)
    {
      const FtVehicle *v;

      if ((guint) holder >= f->n_v)
        {
          g_set_error (error, FT_FLEET_ERROR, FT_FLEET_ERROR_NO_SUCH_VEHICLE,
                       "no vehicle with index %d to put a pack into (the fleet has %u)", holder, f->n_v);
          return FALSE;
        }
      v = &f->v[holder];
      if (v->pack >= 0 && v->pack != moving)
        {
          g_set_error (error, FT_FLEET_ERROR, FT_FLEET_ERROR_PACK_PLACE,
                       "%s already holds pack %s; take it out first", v->name, f->p[v->pack].id);
          return FALSE;
        }
      if (v->state == FT_STATE_ON_TRIP || v->state == FT_STATE_RESERVED)
        {
          g_set_error (error, FT_FLEET_ERROR, FT_FLEET_ERROR_PACK_PLACE,
                       "%s is %s; packs can only be changed when it is not in use",
                       v->name, state_names[v->state]);
          return FALSE;
        }
    }
  return TRUE;
}

static void
grow_holders (FtFleet *f, FtPackPlace place, gint32 holder)
{
  if (place == FT_PACK_IN_VAN && (guint) holder >= f->n_vans)
    f->n_vans = (guint) holder + 1;
  else if (place == FT_PACK_AT_DEPOT && (guint) holder >= f->n_depots)
    f->n_depots = (guint) holder + 1;
}

static void
emit_pack (FtFleet *f, FtEventKind kind, guint pi, FtTime now)
{
  FtPack *p = &f->p[pi];
  FtEvent ev = ft_event_init (kind, now);

  ev.ref = pi;
  ev.a = p->place;
  ev.b = p->holder;
  ev.amount = (gint64) llround (p->soc * 1e4);
  if (p->place == FT_PACK_IN_VEHICLE)
    {
      ev.vehicle = p->holder;
      ev.lat = f->v[p->holder].pos.lat;
      ev.lon = f->v[p->holder].pos.lon;
    }
  log_event (f, &ev);
}

guint
ft_fleet_add_pack (FtFleet *f, double capacity_wh, double soc, FtPackPlace place,
                   gint32 holder, FtTime now, GError **error)
{
  FtPack *p;
  guint i;

  g_return_val_if_fail (f != NULL, G_MAXUINT);
  g_return_val_if_fail (error == NULL || *error == NULL, G_MAXUINT);
  if (!(capacity_wh > 0) || !isfinite (capacity_wh))
    {
      g_set_error (error, FT_FLEET_ERROR, FT_FLEET_ERROR_INVALID,
                   "pack capacity must be a positive number of Wh, got %g", capacity_wh);
      return G_MAXUINT;
    }
  if (!(soc >= 0 && soc <= 1))
    {
      g_set_error (error, FT_FLEET_ERROR, FT_FLEET_ERROR_INVALID,
                   "pack state of charge must be within 0..1, got %g", soc);
      return G_MAXUINT;
    }
  if (place == FT_PACK_IN_VEHICLE && holder >= 0 && (guint) holder < f->n_v &&
      (f->v[holder].state == FT_STATE_ON_TRIP || f->v[holder].state == FT_STATE_RESERVED))
    ; /* a new pack may be registered in a vehicle in use (live registration) */
  else if (!check_destination (f, place, holder, -1, error))
    return G_MAXUINT;
  if (place == FT_PACK_IN_VEHICLE && f->v[holder].pack >= 0)
    {
      g_set_error (error, FT_FLEET_ERROR, FT_FLEET_ERROR_PACK_PLACE,
                   "%s already holds pack %s; take it out first",
                   f->v[holder].name, f->p[f->v[holder].pack].id);
      return G_MAXUINT;
    }
  grow_holders (f, place, holder);
  if (f->n_p == f->cap_p)
    {
      f->cap_p = f->cap_p ? f->cap_p * 2 : 64;
      f->p = g_renew (FtPack, f->p, f->cap_p);
    }
  i = f->n_p++;
  p = &f->p[i];
  memset (p, 0, sizeof *p);
  p->index = i;
  g_snprintf (p->id, sizeof p->id, "PK-%06u", i);
  p->capacity_wh = capacity_wh;
  p->soc = soc;
  p->health = 1.0;
  p->place = place;
  p->holder = holder;
  if (place == FT_PACK_IN_VEHICLE)
    f->v[holder].pack = (gint32) i;
  emit_pack (f, FT_EV_PACK_ADDED, i, now);
  return i;
}

static gboolean
check_source (FtFleet *f, guint pi, GError **error)
{
  const FtPack *p = &f->p[pi];

  if (p->place == FT_PACK_IN_VEHICLE)
    {
      const FtVehicle *v = &f->v[p->holder];
      if (v->state == FT_STATE_ON_TRIP || v->state == FT_STATE_RESERVED)
        {
          g_set_error (error, FT_FLEET_ERROR, FT_FLEET_ERROR_PACK_PLACE,
                       "%s is %s; its pack %s cannot be taken out while it is in use",
                       v->name, state_names[v->state], p->id);
          return FALSE;
        }
    }
  return TRUE;
}

static void
place_pack (FtFleet *f, guint pi, FtPackPlace place, gint32 holder)
{
  FtPack *p = &f->p[pi];

  if (p->place == FT_PACK_IN_VEHICLE && p->holder >= 0 && (guint) p->holder < f->n_v &&
      f->v[p->holder].pack == (gint32) pi)
    f->v[p->holder].pack = -1;
  p->place = place;
  p->holder = holder;
  if (place == FT_PACK_IN_VEHICLE)
    f->v[holder].pack = (gint32) pi;
  grow_holders (f, place, holder);
}

gboolean
ft_fleet_move_pack (FtFleet *f, guint pi, FtPackPlace place, gint32 holder,
                    FtTime now, GError **error)
{
  g_return_val_if_fail (f != NULL, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);
  if (pi >= f->n_p)
    {
      g_set_error (error, FT_FLEET_ERROR, FT_FLEET_ERROR_NO_SUCH_PACK,
                   "no pack with index %u (the fleet has %u)", pi, f->n_p);
      return FALSE;
    }
  if (!check_destination (f, place, holder, (gint32) pi, error) || !check_source (f, pi, error))
    return FALSE;
  if (f->p[pi].place == place && f->p[pi].holder == holder)
    return TRUE;
  place_pack (f, pi, place, holder);
  emit_pack (f, FT_EV_PACK_MOVED, pi, now);
  return TRUE;
}

gboolean
ft_fleet_swap_pack (FtFleet *f, guint vi, guint fresh, guint van, FtTime now, GError **error)
{
  FtVehicle *v;
  FtPack *p;
  gint32 old;
  char where[64];

  g_return_val_if_fail (f != NULL, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);
  if (vi >= f->n_v)
    {
      g_set_error (error, FT_FLEET_ERROR, FT_FLEET_ERROR_NO_SUCH_VEHICLE,
                   "no vehicle with index %u (the fleet has %u)", vi, f->n_v);
      return FALSE;
    }
  v = &f->v[vi];
  if (fresh >= f->n_p)
    {
      g_set_error (error, FT_FLEET_ERROR, FT_FLEET_ERROR_NO_SUCH_PACK,
                   "swap at %s: no pack with index %u (the fleet has %u)", v->name, fresh, f->n_p);
      return FALSE;
    }
  p = &f->p[fresh];
  if (v->state == FT_STATE_ON_TRIP || v->state == FT_STATE_RESERVED)
    {
      g_set_error (error, FT_FLEET_ERROR, FT_FLEET_ERROR_ILLEGAL_TRANSITION,
                   "%s is %s; a battery swap must wait until it is free",
                   v->name, state_names[v->state]);
      return FALSE;
    }
  if (p->place != FT_PACK_IN_VAN || p->holder != (gint32) van)
    {
      describe_place (f, p->place, p->holder, where, sizeof where);
      g_set_error (error, FT_FLEET_ERROR, FT_FLEET_ERROR_PACK_PLACE,
                   "swap at %s: pack %s is in %s, not in van %u", v->name, p->id, where, van);
      return FALSE;
    }
  old = v->pack;
  if (old >= 0)
    {
      place_pack (f, (guint) old, FT_PACK_IN_VAN, (gint32) van);
      emit_pack (f, FT_EV_PACK_MOVED, (guint) old, now);
    }
  place_pack (f, fresh, FT_PACK_IN_VEHICLE, (gint32) vi);
  emit_pack (f, FT_EV_PACK_MOVED, fresh, now);
  return TRUE;
}

/* Health lost per full-equivalent cycle: 80% after 1000 cycles. */
#define FT_PACK_FADE_PER_CYCLE 0.0002
#define FT_PACK_MIN_HEALTH     0.5

double
ft_fleet_charge_pack (FtFleet *f, guint pi, double wh, FtTime now)
{
  FtPack *p;
  double usable, room, take;

  g_return_val_if_fail (f != NULL, 0);
  g_return_val_if_fail (pi < f->n_p, 0);
  p = &f->p[pi];
  if (!(wh > 0))
    return p->soc;
  usable = pack_usable_wh (p);
  room = (1.0 - p->soc) * usable;
  take = MIN (wh, room);
  if (take <= 0)
    return p->soc;
  p->soc = usable > 0 ? MIN (1.0, p->soc + take / usable) : 1.0;
  if (room - take < 1e-9)
    p->soc = 1.0;
  /* Full-equivalent cycles: every nominal capacity put back is one cycle. */
  p->throughput_wh += take;
  while (p->throughput_wh >= p->capacity_wh)
    {
      p->throughput_wh -= p->capacity_wh;
      p->cycles++;
      p->health = MAX (FT_PACK_MIN_HEALTH, p->health - FT_PACK_FADE_PER_CYCLE);
    }
  emit_pack (f, FT_EV_PACK_CHARGED, pi, now);
  return p->soc;
}

void
ft_fleet_packs_at (const FtFleet *f, FtPackPlace place, gint32 holder, GArray *out)
{
  guint i;

  g_return_if_fail (f != NULL && out != NULL);
  for (i = 0; i < f->n_p; i++)
    if (f->p[i].place == place && f->p[i].holder == holder)
      g_array_append_val (out, i);
}

/* -------------------------------------------------------------- restore */

void
ft_fleet_restore_vehicle (FtFleet *f, const FtVehicle *src)
{
  FtVehicle *v;
  gboolean rebuild = FALSE;
  guint i;

  g_return_if_fail (f != NULL && src != NULL);
  g_return_if_fail (src->index <= f->n_v);
  g_return_if_fail ((guint) src->state < FT_N_STATES && (guint) src->kind < FT_N_KINDS);
  i = src->index;
  if (i == f->n_v)
    {
      grow_vehicles (f, i + 1);
      f->n_v++;
      f->v[i] = *src;
      f->counts[src->state]++;
      stridx_insert (f, &f->by_name, i);
      stridx_insert (f, &f->by_device, i);
    }
  else
    {
      v = &f->v[i];
      rebuild = strcmp (v->name, src->name) != 0 || strcmp (v->device_id, src->device_id) != 0;
      f->counts[v->state]--;
      f->counts[src->state]++;
      *v = *src;
    }
  v = &f->v[i];
  v->name[sizeof v->name - 1] = '\0';
  v->device_id[sizeof v->device_id - 1] = '\0';
  if ((guint) v->resume_state >= FT_N_STATES)
    v->resume_state = FT_STATE_AVAILABLE;
  if (rebuild)
    {
      f->by_name.n = f->n_v;
      stridx_rebuild (f, &f->by_name);
      f->by_device.n = f->n_v;
      stridx_rebuild (f, &f->by_device);
    }
  if (f->grid)
    ft_grid_index_insert (f->grid, i, v->pos);
  if (f->avail)
    {
      if (v->state == FT_STATE_AVAILABLE)
        ft_grid_index_insert (f->avail, i, v->pos);
      else
        ft_grid_index_remove (f->avail, i);
    }
}

void
ft_fleet_restore_pack (FtFleet *f, const FtPack *src)
{
  guint i;

  g_return_if_fail (f != NULL && src != NULL);
  g_return_if_fail (src->index <= f->n_p);
  i = src->index;
  if (i == f->n_p)
    {
      if (f->n_p == f->cap_p)
        {
          f->cap_p = f->cap_p ? f->cap_p * 2 : 64;
          f->p = g_renew (FtPack, f->p, f->cap_p);
        }
      f->n_p++;
    }
  f->p[i] = *src;
  f->p[i].id[sizeof f->p[i].id - 1] = '\0';
  if (src->holder >= 0)
    grow_holders (f, src->place, src->holder);
}

/* ------------------------------------------------------- spatial index */

void
ft_fleet_enable_index (FtFleet *f, FtBBox bounds, double cell_m)
{
  guint i;

  g_return_if_fail (f != NULL);
  g_return_if_fail (cell_m > 0);
  ft_grid_index_free (f->grid);
  ft_grid_index_free (f->avail);
  f->grid = NULL;      /* built by the first ft_fleet_visit_near */
  f->grid_bounds = bounds;
  f->grid_cell_m = cell_m;
  f->avail = ft_grid_index_new (bounds, cell_m);
  for (i = 0; i < f->n_v; i++)
    if (f->v[i].state == FT_STATE_AVAILABLE)
      ft_grid_index_insert (f->avail, i, f->v[i].pos);
}

void
ft_fleet_visit_near (const FtFleet *f, FtLatLon p, double radius_m,
                     FtGridVisitFunc fn, gpointer user_data)
{
  guint i;

  g_return_if_fail (f != NULL && fn != NULL);
  if (f->avail && f->grid == NULL)
    {
      /* a cache of positions the fleet holds: built once, then kept */
      FtFleet *mf = (FtFleet *) f;
      mf->grid = ft_grid_index_new (f->grid_bounds, f->grid_cell_m);
      for (i = 0; i < f->n_v; i++)
        ft_grid_index_insert (mf->grid, i, f->v[i].pos);
    }
  if (f->grid)
    {
      ft_grid_index_visit (f->grid, p, radius_m, fn, user_data);
      return;
    }
  /* No index yet: a linear scan gives the same answer, slower. */
  for (i = 0; i < f->n_v; i++)
    {
      double d = ft_distance_m (p, f->v[i].pos);
      if (d <= radius_m && !fn (i, f->v[i].pos, d, user_data))
        return;
    }
}

void
ft_fleet_visit_near_available (const FtFleet *f, FtLatLon p, double radius_m,
                               FtGridVisitFunc fn, gpointer user_data)
{
  guint i;

  g_return_if_fail (f != NULL && fn != NULL);
  if (f->avail)
    {
      ft_grid_index_visit (f->avail, p, radius_m, fn, user_data);
      return;
    }
  for (i = 0; i < f->n_v; i++)
    {
      double d;

      if (f->v[i].state != FT_STATE_AVAILABLE)
        continue;
      d = ft_distance_m (p, f->v[i].pos);
      if (d <= radius_m && !fn (i, f->v[i].pos, d, user_data))
        return;
    }
}

gint64
ft_fleet_nearest_available (const FtFleet *f, FtLatLon p, double max_m,
                            FtGridAcceptFunc accept, gpointer user_data, double *dist_m)
{
  g_return_val_if_fail (f != NULL, -1);
  if (f->avail)
    return ft_grid_index_nearest (f->avail, p, max_m, accept, user_data, dist_m);
  /* No index yet: the same answer from a scan of every vehicle. */
  gint64 best = -1;
  double best_d = 0;
  for (guint i = 0; i < f->n_v; i++)
    {
      if (f->v[i].state != FT_STATE_AVAILABLE)
        continue;
      double d = ft_distance_m (p, f->v[i].pos);
      if (d <= max_m && (best < 0 || d < best_d) && (accept == NULL || accept (i, user_data)))
        {
          best = i;
          best_d = d;
        }
    }
  if (best >= 0 && dist_m != NULL)
    *dist_m = best_d;
  return best;
}

/* -------------------------------------------------------------- checker */

#define CHECK_FAIL(...) \
  G_STMT_START { g_set_error (error, FT_FLEET_ERROR, FT_FLEET_ERROR_INVALID, __VA_ARGS__); return FALSE; } G_STMT_END

gboolean
ft_fleet_check (const FtFleet *f, GError **error)
{
  guint counts[FT_N_STATES] = { 0 };
  guint i;

  g_return_val_if_fail (f != NULL, FALSE);
  for (i = 0; i < f->n_v; i++)
    {
      const FtVehicle *v = &f->v[i];
      guint found;

      if (v->index != i)
        CHECK_FAIL ("vehicle at %u says its index is %u", i, v->index);
      if ((guint) v->state >= FT_N_STATES)
        CHECK_FAIL ("%s has no legal state (%d)", v->name, (int) v->state);
      if ((guint) v->kind >= FT_N_KINDS)
        CHECK_FAIL ("%s has no legal kind (%d)", v->name, (int) v->kind);
      counts[v->state]++;
      if (v->pack >= 0)
        {
          const FtPack *p;
          if ((guint) v->pack >= f->n_p)
            CHECK_FAIL ("%s holds pack %d, which does not exist", v->name, v->pack);
          p = &f->p[v->pack];
          if (p->place != FT_PACK_IN_VEHICLE || p->holder != (gint32) i)
            {
              char where[64];
              describe_place (f, p->place, p->holder, where, sizeof where);
              CHECK_FAIL ("%s holds pack %s, but the pack says it is in %s", v->name, p->id, where);
            }
        }
      else if (v->pack != -1)
        CHECK_FAIL ("%s has pack %d (must be -1 or a pack index)", v->name, v->pack);
      if (!stridx_lookup (f, &f->by_name, v->name, &found) || found != i)
        CHECK_FAIL ("%s: its name is not unique or not indexed", v->name);
      if (!stridx_lookup (f, &f->by_device, v->device_id, &found) || found != i)
        CHECK_FAIL ("%s: device_id %s is not unique or not indexed", v->name, v->device_id);
      if (f->grid && !ft_grid_index_has (f->grid, i))
        CHECK_FAIL ("%s is missing from the spatial index", v->name);
      if (f->avail && ft_grid_index_has (f->avail, i) != (v->state == FT_STATE_AVAILABLE))
        CHECK_FAIL ("%s is %s but %s the index of available vehicles", v->name,
                    state_names[v->state],
                    v->state == FT_STATE_AVAILABLE ? "missing from" : "listed in");
    }
  if (f->avail && ft_grid_index_size (f->avail) != counts[FT_STATE_AVAILABLE])
    CHECK_FAIL ("the index of available vehicles holds %u but %u vehicles are available",
                ft_grid_index_size (f->avail), counts[FT_STATE_AVAILABLE]);
  for (i = 0; i < FT_N_STATES; i++)
    if (counts[i] != f->counts[i])
      CHECK_FAIL ("%u vehicles are %s but the fleet counted %u", counts[i], state_names[i], f->counts[i]);

  for (i = 0; i < f->n_p; i++)
    {
      const FtPack *p = &f->p[i];

      if (p->index != i)
        CHECK_FAIL ("pack at %u says its index is %u", i, p->index);
      if (!(p->soc >= 0.0 && p->soc <= 1.0))
        CHECK_FAIL ("pack %s has state of charge %g outside 0..1", p->id, p->soc);
      if (!(p->health > 0.0 && p->health <= 1.0))
        CHECK_FAIL ("pack %s has health %g outside (0, 1]", p->id, p->health);
      if (!(p->capacity_wh > 0.0))
        CHECK_FAIL ("pack %s has capacity %g Wh", p->id, p->capacity_wh);
      switch (p->place)
        {
        case FT_PACK_IN_VEHICLE:
          if (p->holder < 0 || (guint) p->holder >= f->n_v)
            CHECK_FAIL ("pack %s is in vehicle %d, which does not exist", p->id, p->holder);
          if (f->v[p->holder].pack != (gint32) i)
            CHECK_FAIL ("pack %s says it is in %s, but %s holds %s", p->id, f->v[p->holder].name,
                        f->v[p->holder].name,
                        f->v[p->holder].pack >= 0 && (guint) f->v[p->holder].pack < f->n_p
                          ? f->p[f->v[p->holder].pack].id : "no pack");
          break;
        case FT_PACK_IN_VAN:
          if (p->holder < 0 || (guint) p->holder >= f->n_vans)
            CHECK_FAIL ("pack %s is in van %d, but there are %u vans", p->id, p->holder, f->n_vans);
          break;
        case FT_PACK_AT_DEPOT:
          if (p->holder < 0 || (guint) p->holder >= f->n_depots)
            CHECK_FAIL ("pack %s is at depot %d, but there are %u depots", p->id, p->holder, f->n_depots);
          break;
        default:
          CHECK_FAIL ("pack %s has no legal place (%d)", p->id, (int) p->place);
        }
    }
  return TRUE;
}
