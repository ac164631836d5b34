/* ft-booking.c — the rider's core loop over fleet, accounts, pricing,
 * payments and geofences: find, reserve (with an expiring hold), unlock
 * (pre-authorisation), pause/resume, end (parking rules, price, capture),
 * cancel and expire. Every refusal is checked before any state changes, so a
 * refused call leaves everything untouched and appends one
 * FT_EV_BOOKING_REFUSED event naming the reason.
 *
 * Bookings live in a plain array indexed by id; open bookings are also
 * indexed by rider (dense array rider -> id) and kept in a compact open
 * list. A run that releases closed bookings (ft_booking_set_release) keeps
 * only open ones instead: a pool of records whose slots closed bookings
 * hand back, found from the id through a ring of slots over the ids still
 * open or recent.
 */
#include "ft-booking.h"

#include <stdlib.h>
#include <string.h>

G_DEFINE_QUARK (ft-booking-error-quark, ft_booking_error)

typedef struct {
  FtTime t;
  gint64 id;
} Expiry;

/* What booking keeps per record beside it (not the record's own data,
 * which a store keeps whole). */
typedef struct {
  gint32  open;          /* index into `open`, -1 */
  /* the geofences' generation (ft_geofences_generation) under which the
   * reservation found that a ride may start at the record's `start`, 0
   * when not known (a restored or walk-up booking): an unlock while it is
   * still the generation and the vehicle has not moved needs no second
   * look-up */
  guint32 start_ok_gen;
} RecAux;

struct _FtBooking
{
  FtBookingDeps   deps;
  FtBookingConfig cfg;
  /* per booking id, plain arrays with their room (made ahead by
   * ft_booking_expect), so a reservation's append is a store */
  FtBookingRec   *recs;          /* index == id (released: a pool, index == slot) */
  RecAux         *aux;           /* per record of recs */
  guint           n_recs, cap_recs;   /* n_recs: ids given (released: also) */
  /* release mode: recs holds cap_recs slots, n_pool of them used once;
   * free slots on a stack (the last freed, still in cache, first); ring
   * [id & ring_mask] is the slot of id, -1 once released, for ids from
   * ring_low (all below it released) to n_recs; the ring doubles when the
   * oldest open id is that far behind the newest */
  gboolean        release;
  guint           n_pool, n_live, peak_live;
  gint32         *free_slots;
  guint           n_free;
  gint32         *ring;
  guint           ring_mask;
  gint64          ring_low;
  /* the last RELEASE_LAG bookings closed, oldest first from lag_head:
   * released when that many more have closed, so what follows a close at
   * once (an incentive for the trip, a retried capture) still finds it */
  gint64          lag[16];
  guint           lag_head, n_lag;
  /* ids of reserved/active/paused bookings: a plain array with its room,
   * so adding and removing one is a store, not a call into GArray */
  gint64         *open;
  guint           n_open, cap_open;
  gsize           huge_open;     /* ft_mem_room's advice, not read: the list stays small */
  GArray         *rider_open;    /* gint64 per rider: open booking id, -1 */
  /* (hold_until, id) of every booking that became reserved, in two
   * queues: pushed in order (every reservation of a run whose clock only
   * moves on, so most), a FIFO `expiry_run` from expiry_head on; out of
   * order (restored bookings), a binary min-heap `expiry`. An entry whose
   * booking is no longer reserved until that time is dropped when it
   * reaches the front, so the next expiry is found without walking every
   * open booking (the simulator asks each minute), and most entries cost
   * an append and a step of the head */
  GArray         *expiry;        /* Expiry, heap */
  Expiry         *expiry_run;    /* ascending from expiry_head, n_run in all */
  guint           n_run, cap_run;
  guint           expiry_head;
  gsize           huge_run;      /* ft_mem_room's advice, not read: the queue stays small */
  gsize           huge_recs;     /* ft_mem_hint_huge: bytes of recs advised */
  gsize           huge_slots;
  /* trip_ids restored from a store that differ from the ones booking
   * gives (gint64 id -> char[37]); NULL while there are none */
  GHashTable     *trip_ids;
};

#define RELEASE_LAG G_N_ELEMENTS (((FtBooking *) 0)->lag)

static const char *state_names[FT_N_BK_STATES] = {
  "reserved", "active", "paused", "ended", "cancelled", "expired",
};

const char *
ft_booking_state_name (FtBookingState s)
{
  if ((guint) s >= FT_N_BK_STATES)
    return "invalid";
  return state_names[s];
}

void
ft_booking_config_init (FtBookingConfig *cfg)
{
  g_return_if_fail (cfg != NULL);
  memset (cfg, 0, sizeof *cfg);
  cfg->reservation_hold = 10 * FT_MINUTE;
  cfg->preauth_minor = 1000;
  cfg->max_find_radius_m = 500.0;
  cfg->range_margin = 0.2;
  cfg->seed = 0x5eed;
}

FtBooking *
ft_booking_new (const FtBookingDeps *deps, const FtBookingConfig *cfg)
{
  FtBooking *b;

  g_return_val_if_fail (deps != NULL, NULL);
  g_return_val_if_fail (deps->fleet != NULL && deps->accounts != NULL, NULL);
  g_return_val_if_fail (deps->pricing != NULL && deps->payments != NULL, NULL);

  b = g_new0 (FtBooking, 1);
  b->deps = *deps;
  if (cfg)
    b->cfg = *cfg;
  else
    ft_booking_config_init (&b->cfg);
  b->rider_open = g_array_new (FALSE, TRUE, sizeof (gint64));
  b->expiry = g_array_new (FALSE, FALSE, sizeof (Expiry));
  return b;
}

void
ft_booking_free (FtBooking *b)
{
  if (!b)
    return;
  g_free (b->recs);
  g_free (b->aux);
  g_free (b->free_slots);
  g_free (b->ring);
  g_free (b->open);
  g_array_unref (b->rider_open);
  g_array_unref (b->expiry);
  g_free (b->expiry_run);
  g_clear_pointer (&b->trip_ids, g_hash_table_unref);
  g_free (b);
}

/* ---------------------------------------------------------------- helpers */

/* The index in recs of booking id (which has a record). */
static inline gint64
rec_index (const FtBooking *b, gint64 id)
{
  if (G_LIKELY (!b->release))
    return id;
  gint32 s = b->ring[id & b->ring_mask];
  g_assert (id >= b->ring_low && s >= 0);
  return s;
}

/* The record of a booking known to have one (an open booking, one just
 * made). */
static inline FtBookingRec *
rec_at (FtBooking *b, gint64 id)
{
  return &b->recs[rec_index (b, id)];
}

/* The record of booking id, or NULL: never given, a gap of a restore, or
 * released. */
static inline FtBookingRec *
rec_find (FtBooking *b, gint64 id)
{
  if (id < 0 || (guint64) id >= b->n_recs)
    return NULL;
  if (G_UNLIKELY (b->release))
    {
      gint32 s = id >= b->ring_low ? b->ring[id & b->ring_mask] : -1;
      return s >= 0 ? &b->recs[s] : NULL;
    }
  FtBookingRec *r = &b->recs[id];
  return r->rider == G_MAXUINT32 ? NULL : r;
}

/* Release mode: makes ring entry n_recs (the next id) free, moving
 * ring_low past released ids or doubling the ring. */
static void
ring_make_room (FtBooking *b)
{
  gint64 id = b->n_recs;
  while ((guint64) (id - b->ring_low) > b->ring_mask)
    {
      if (b->ring[b->ring_low & b->ring_mask] < 0)
        {
          b->ring_low++;
          continue;
        }
      guint size = (b->ring_mask + 1) * 2, mask = size - 1;
      gint32 *ring = g_new (gint32, size);
      for (guint i = 0; i < size; i++)
        ring[i] = -1;
      for (gint64 i = b->ring_low; i < id; i++)
        ring[i & mask] = b->ring[i & b->ring_mask];
      g_free (b->ring);
      b->ring = ring;
      b->ring_mask = mask;
    }
}

/* Appends booking *r (id n_recs) with its open slot. */
static inline void
push_rec (FtBooking *b, const FtBookingRec *r, gint32 slot)
{
  if (G_UNLIKELY (b->release))
    {
      gint32 s;
      if (b->n_free > 0)
        s = b->free_slots[--b->n_free];
      else
        {
          if (b->n_pool == b->cap_recs)
            {
              guint cap = b->cap_recs;
              ft_mem_room_more ((gpointer *) &b->recs, b->n_pool, &b->cap_recs, 1, sizeof (FtBookingRec),
                                &b->huge_recs);
              ft_mem_room ((gpointer *) &b->aux, b->n_pool, &cap, b->cap_recs, sizeof (RecAux),
                           &b->huge_slots);
              b->free_slots = g_renew (gint32, b->free_slots, b->cap_recs);
            }
          s = (gint32) b->n_pool++;
        }
      ring_make_room (b);
      b->ring[b->n_recs & b->ring_mask] = s;
      b->recs[s] = *r;
      b->aux[s] = (RecAux) { slot, 0 };
      b->n_recs++;
      b->n_live++;
      b->peak_live = MAX (b->peak_live, b->n_live);
      return;
    }
  if (G_UNLIKELY (b->n_recs == b->cap_recs))
    {
      guint cap = b->cap_recs;
      ft_mem_room_more ((gpointer *) &b->recs, b->n_recs, &b->cap_recs, 1, sizeof (FtBookingRec),
                        &b->huge_recs);
      ft_mem_room ((gpointer *) &b->aux, b->n_recs, &cap, b->cap_recs, sizeof (RecAux),
                   &b->huge_slots);
    }
  b->recs[b->n_recs] = *r;
  b->aux[b->n_recs] = (RecAux) { slot, 0 };
  b->n_recs++;
  ft_mem_hint_huge (b->recs, (gsize) b->n_recs * sizeof (FtBookingRec), &b->huge_recs);
}

static inline gboolean
expiry_less (const Expiry *a, const Expiry *b)
{
  return a->t < b->t || (a->t == b->t && a->id < b->id);
}

static void
expiry_push (FtBooking *b, FtTime t, gint64 id)
{
  Expiry e = { t, id };
  guint run = b->n_run;
  if (run == b->expiry_head || !expiry_less (&e, &b->expiry_run[run - 1]))
    {
      if (run == b->expiry_head && run > 0)
        b->n_run = b->expiry_head = 0;   /* all dropped: start over */
      ft_mem_room_more ((gpointer *) &b->expiry_run, b->n_run, &b->cap_run, 1, sizeof (Expiry),
                        &b->huge_run);
      b->expiry_run[b->n_run++] = e;
      return;
    }
  g_array_append_val (b->expiry, e);
  Expiry *h = (Expiry *) b->expiry->data;
  for (guint i = b->expiry->len - 1; i > 0;)
    {
      guint up = (i - 1) / 2;
      if (!expiry_less (&h[i], &h[up]))
        break;
      Expiry tmp = h[i]; h[i] = h[up]; h[up] = tmp;
      i = up;
    }
}

static void
expiry_pop (FtBooking *b)
{
  Expiry *h = (Expiry *) b->expiry->data;
  guint n = b->expiry->len - 1;
  h[0] = h[n];
  g_array_set_size (b->expiry, n);
  for (guint i = 0;;)
    {
      guint l = 2 * i + 1, r = l + 1, m = i;
      if (l < n && expiry_less (&h[l], &h[m]))
        m = l;
      if (r < n && expiry_less (&h[r], &h[m]))
        m = r;
      if (m == i)
        break;
      Expiry tmp = h[i]; h[i] = h[m]; h[m] = tmp;
      i = m;
    }
}

static gboolean
is_open_state (FtBookingState s)
{
  return s == FT_BK_RESERVED || s == FT_BK_ACTIVE || s == FT_BK_PAUSED;
}

static gint64
rider_open_get (FtBooking *b, guint rider)
{
  if (rider >= b->rider_open->len)
    return -1;
  return g_array_index (b->rider_open, gint64, rider);
}

static void
rider_open_set (FtBooking *b, guint rider, gint64 id)
{
  if (rider >= b->rider_open->len)
    {
      guint old = b->rider_open->len;
      g_array_set_size (b->rider_open, rider + 1);
      for (guint i = old; i < b->rider_open->len; i++)
        g_array_index (b->rider_open, gint64, i) = -1;
    }
  g_array_index (b->rider_open, gint64, rider) = id;
}

static void
open_add (FtBooking *b, gint64 id)
{
  gint32 slot = (gint32) b->n_open;
  ft_mem_room_more ((gpointer *) &b->open, b->n_open, &b->cap_open, 1, sizeof (gint64), &b->huge_open);
  b->open[b->n_open++] = id;
  b->aux[rec_index (b, id)].open = slot;
}

static void
open_remove (FtBooking *b, gint64 id)
{
  gint32 slot = b->aux[rec_index (b, id)].open;
  guint last;
  gint64 moved;

  g_assert (slot >= 0 && (guint) slot < b->n_open);
  last = b->n_open - 1;
  moved = b->open[last];
  b->open[slot] = moved;
  b->aux[rec_index (b, moved)].open = slot;
  b->n_open = last;
  b->aux[rec_index (b, id)].open = -1;
}

/* Release mode: drops closed booking r's record (its slot goes back to
 * the pool, its id finds nothing from now on) and has payments forget
 * what it kept for it. Nothing otherwise. r is not to be used after. */
static void
release_rec (FtBooking *b, FtBookingRec *r)
{
  if (G_LIKELY (!b->release))
    return;
  gint64 id = r->id;
  gint32 s = (gint32) (r - b->recs);
  g_assert (b->ring[id & b->ring_mask] == s && b->aux[s].open < 0);
  b->ring[id & b->ring_mask] = -1;
  r->id = -1;
  r->rider = G_MAXUINT32;
  b->free_slots[b->n_free++] = s;
  b->n_live--;
  ft_payments_forget_booking (b->deps.payments, id);
}

/* Release mode: booking r has just closed; the booking closed
 * RELEASE_LAG closes ago is released. Nothing otherwise. */
static void
retire (FtBooking *b, FtBookingRec *r)
{
  if (G_LIKELY (!b->release))
    return;
  if (b->n_lag < RELEASE_LAG)
    {
      b->lag[(b->lag_head + b->n_lag++) % RELEASE_LAG] = r->id;
      return;
    }
  gint64 old = b->lag[b->lag_head];
  b->lag[b->lag_head] = r->id;
  b->lag_head = (b->lag_head + 1) % RELEASE_LAG;
  release_rec (b, rec_at (b, old));
}

/* "08:14" from a time of the (simulated) week. */
static void
format_hhmm (FtTime t, char out[8])
{
  gint64 in_day = t % FT_DAY;
  if (in_day < 0)
    in_day += FT_DAY;
  g_snprintf (out, 8, "%02d:%02d", (int) (in_day / FT_HOUR), (int) ((in_day % FT_HOUR) / FT_MINUTE));
}

static void
append_event (FtBooking *b, FtEventKind kind, FtTime now, const FtBookingRec *r)
{
  FtEvent ev;

  if (!b->deps.log)
    return;
  ev = ft_event_init (kind, now);
  ev.ref = r->id;
  ev.vehicle = (gint32) r->vehicle;
  ev.account = (gint32) r->rider;
  ev.lat = r->start.lat;
  ev.lon = r->start.lon;
  ft_event_log_append (b->deps.log, &ev);
}

/* Sets the error and logs FT_EV_BOOKING_REFUSED. Always returns FALSE. */
static gboolean
refusev (FtBooking *b, GError **error, FtBookingError code, FtTime now,
         gint64 rider, gint64 vehicle, const char *fmt, ...) G_GNUC_PRINTF (7, 8);

static gboolean
refusev (FtBooking *b, GError **error, FtBookingError code, FtTime now,
         gint64 rider, gint64 vehicle, const char *fmt, ...)
{
  va_list ap;
  g_autofree char *msg = NULL;

  va_start (ap, fmt);
  msg = g_strdup_vprintf (fmt, ap);
  va_end (ap);
  g_set_error_literal (error, FT_BOOKING_ERROR, code, msg);

  if (b->deps.log)
    {
      FtEvent ev = ft_event_init (FT_EV_BOOKING_REFUSED, now);
      ev.account = rider >= 0 && rider <= G_MAXINT32 ? (gint32) rider : -1;
      ev.vehicle = vehicle >= 0 && vehicle <= G_MAXINT32 ? (gint32) vehicle : -1;
      ev.a = code;
      ft_event_log_append (b->deps.log, &ev);
    }
  return FALSE;
}

static const char *
rider_label (guint rider, char buf[32])
{
  g_snprintf (buf, 32, "rider %u", rider);
  return buf;
}

/* Account may ride: exists, not erased, has the rider role. */
static gboolean
check_rider (FtBooking *b, guint rider, gint64 vehicle, FtTime now, GError **error)
{
  g_autoptr(GError) local = NULL;
  char lbl[32];

  if (rider >= ft_accounts_n (b->deps.accounts))
    return refusev (b, error, FT_BOOKING_ERROR_PERMISSION, now, rider, vehicle,
                    "there is no account %u; sign up before booking", rider);
  if (!ft_accounts_can (b->deps.accounts, rider, FT_PERM_RIDE, &local))
    {
      const FtAccount *acc = ft_accounts_get (b->deps.accounts, rider);
      if (acc->erased)
        return refusev (b, error, FT_BOOKING_ERROR_PERMISSION, now, rider, vehicle,
                        "account %s was erased and can no longer ride; "
                        "sign up again to book", acc->pseudonym);
      return refusev (b, error, FT_BOOKING_ERROR_PERMISSION, now, rider, vehicle,
                      "%s does not have the rider role (%s); "
                      "add the rider role to this account to book",
                      rider_label (rider, lbl), local ? local->message : "no permission");
    }
  return TRUE;
}

static gboolean
check_no_debt (FtBooking *b, guint rider, gint64 vehicle, FtTime now, GError **error)
{
  if (ft_payments_has_debt (b->deps.payments, rider))
    {
      gint64 w = ft_payments_wallet (b->deps.payments, rider);
      g_autofree char *owed = ft_money_format (-w, ft_ledger_currency (ft_payments_get_ledger (b->deps.payments)));
      return refusev (b, error, FT_BOOKING_ERROR_UNPAID, now, rider, vehicle,
                      "rider %u has an unpaid balance of %s; top up the wallet "
                      "to settle it before booking", rider, owed);
    }
  return TRUE;
}

static FtTime
hold_remaining_deadline (const FtBookingRec *r)
{
  return r->hold_until;
}

/* Expire one reservation (hold ran out). */
static void
expire_one (FtBooking *b, FtBookingRec *r, FtTime now)
{
  g_autoptr(GError) err = NULL;

  g_assert (r->state == FT_BK_RESERVED);
  if (!ft_fleet_apply_event (b->deps.fleet, r->vehicle, FT_VEV_RESERVATION_CANCEL, now, &err))
    g_warning ("booking %" G_GINT64_FORMAT ": %s", r->id, err->message);
  ft_fleet_set_booking (b->deps.fleet, r->vehicle, -1);
  r->state = FT_BK_EXPIRED;
  r->ended_at = now;
  open_remove (b, r->id);
  rider_open_set (b, r->rider, -1);
  append_event (b, FT_EV_BOOKING_EXPIRED, now, r);
  retire (b, r);
}

/* If the vehicle's reservation has run out, expire it now (lazy expiry). */
static void
expire_vehicle_if_due (FtBooking *b, guint vehicle, FtTime now)
{
  const FtVehicle *v = ft_fleet_get_vehicle (b->deps.fleet, vehicle);
  FtBookingRec *r = rec_find (b, v->booking);

  if (r == NULL)
    return;
  if (r->state == FT_BK_RESERVED && r->hold_until <= now)
    expire_one (b, r, now);
}

/* Checks that `vehicle` can be taken by `rider` now (not someone else's,
 * available, enough battery, ride start allowed). `own` is the rider's own
 * booking on it, or -1; `mine` its record when known (an unlock): where its
 * reservation found that a ride may start, under the geofences' generation
 * of now, and the vehicle still stands there, that answer still holds. */
static gboolean
check_vehicle_takeable (FtBooking *b, guint rider, guint vehicle, gint64 own,
                        const FtBookingRec *mine, FtTime now, GError **error)
{
  guint32 mine_gen = mine != NULL ? b->aux[mine - b->recs].start_ok_gen : 0;
  const FtVehicle *v = ft_fleet_get_vehicle (b->deps.fleet, vehicle);
  const FtVehicleType *type = ft_vehicle_type_default (v->kind);
  double soc;

  const FtBookingRec *o = v->booking != own ? rec_find (b, v->booking) : NULL;
  if (o != NULL)
    {
      if (o->state == FT_BK_RESERVED)
        {
          char hhmm[8];
          format_hhmm (hold_remaining_deadline (o), hhmm);
          return refusev (b, error, FT_BOOKING_ERROR_RESERVED_BY_OTHER, now, rider, vehicle,
                          "%s is reserved by another rider until %s; choose another vehicle",
                          v->name, hhmm);
        }
      if (is_open_state (o->state))
        return refusev (b, error, FT_BOOKING_ERROR_NOT_AVAILABLE, now, rider, vehicle,
                        "%s is in use by another rider; choose another vehicle", v->name);
    }
  if (own < 0 && v->state != FT_STATE_AVAILABLE)
    return refusev (b, error, FT_BOOKING_ERROR_NOT_AVAILABLE, now, rider, vehicle,
                    "%s is %s and cannot be booked; choose another vehicle",
                    v->name, ft_vehicle_state_name (v->state));
  soc = ft_fleet_soc (b->deps.fleet, vehicle);
  if (v->pack < 0 || soc < type->low_soc)
    {
      if (v->pack < 0)
        return refusev (b, error, FT_BOOKING_ERROR_LOW_BATTERY, now, rider, vehicle,
                        "%s has no battery fitted; choose another vehicle", v->name);
      return refusev (b, error, FT_BOOKING_ERROR_LOW_BATTERY, now, rider, vehicle,
                      "%s battery is at %.0f%% (below %.0f%%); choose another vehicle",
                      v->name, soc * 100.0, type->low_soc * 100.0);
    }
  if (b->deps.geofences
      && !(mine_gen != 0 && mine_gen == ft_geofences_generation (b->deps.geofences)
           && mine->start.lat == v->pos.lat && mine->start.lon == v->pos.lon))
    {
      int zone = -1;
      FtZoneRules rules = ft_geofences_rules_at (b->deps.geofences, v->pos, v->kind, &zone);
      if (!rules.ride_start_allowed)
        {
          if (zone >= 0)
            {
              const FtGeofenceZone *z = ft_geofences_get (b->deps.geofences, (guint) zone);
              return refusev (b, error, FT_BOOKING_ERROR_NO_RIDE_START, now, rider, vehicle,
                              "rides may not start in zone %s; %s must be moved out of it first",
                              z->name ? z->name : z->id, v->name);
            }
          return refusev (b, error, FT_BOOKING_ERROR_NO_RIDE_START, now, rider, vehicle,
                          "%s is outside the operating area where rides may not start; "
                          "choose another vehicle", v->name);
        }
    }
  return TRUE;
}

static gboolean
check_vehicle_index (FtBooking *b, guint rider, guint vehicle, FtTime now, GError **error)
{
  if (vehicle >= ft_fleet_n_vehicles (b->deps.fleet))
    return refusev (b, error, FT_BOOKING_ERROR_INVALID, now, rider, vehicle,
                    "there is no vehicle %u (the fleet has %u)", vehicle,
                    ft_fleet_n_vehicles (b->deps.fleet));
  return TRUE;
}

static gboolean
check_rider_free (FtBooking *b, guint rider, gint64 vehicle, FtTime now, GError **error)
{
  gint64 open = rider_open_get (b, rider);

  if (open >= 0)
    {
      const FtBookingRec *r = rec_at (b, open);
      const FtVehicle *v = ft_fleet_get_vehicle (b->deps.fleet, r->vehicle);
      return refusev (b, error, FT_BOOKING_ERROR_ALREADY_ACTIVE, now, rider, vehicle,
                      "rider %u already has booking %" G_GINT64_FORMAT " (%s, %s); "
                      "end or cancel it first", rider, open, v->name,
                      ft_booking_state_name (r->state));
    }
  return TRUE;
}

/* Looks up a booking for an action by `rider`. */
static FtBookingRec *
lookup_for (FtBooking *b, gint64 booking, guint rider, FtTime now, const char *action,
            GError **error)
{
  FtBookingRec *r;

  r = rec_find (b, booking);
  if (r == NULL && b->release && booking >= 0 && (guint64) booking < b->n_recs)
    {
      refusev (b, error, FT_BOOKING_ERROR_NO_SUCH_BOOKING, now, rider, -1,
               "cannot %s: booking %" G_GINT64_FORMAT " is closed, and this run keeps "
               "no closed bookings (summary records)", action, booking);
      return NULL;
    }
  if (r == NULL)
    {
      refusev (b, error, FT_BOOKING_ERROR_NO_SUCH_BOOKING, now, rider, -1,
               "cannot %s: there is no booking %" G_GINT64_FORMAT, action, booking);
      return NULL;
    }
  if (r->rider != rider)
    {
      refusev (b, error, FT_BOOKING_ERROR_NOT_YOURS, now, rider, r->vehicle,
               "cannot %s: booking %" G_GINT64_FORMAT " belongs to another rider",
               action, booking);
      return NULL;
    }
  return r;
}

static gboolean
wrong_state (FtBooking *b, GError **error, FtTime now, const FtBookingRec *r, const char *action,
             const char *hint)
{
  return refusev (b, error, FT_BOOKING_ERROR_WRONG_STATE, now, r->rider, r->vehicle,
                  "cannot %s booking %" G_GINT64_FORMAT ": it is %s; %s", action, r->id,
                  ft_booking_state_name (r->state), hint);
}

static void
make_trip_id (FtBooking *b, gint64 id, char out[37])
{
  guint64 base = ft_mix64 (b->cfg.seed ^ 0x7419b00c1a55ULL);
  ft_uuid_from_words (ft_mix64 (base + 2 * (guint64) id), ft_mix64 (base + 2 * (guint64) id + 1), out);
}

static gint64
new_rec (FtBooking *b, guint rider, guint vehicle, FtTime now)
{
  FtBookingRec r;
  const FtVehicle *v = ft_fleet_get_vehicle (b->deps.fleet, vehicle);
  gint32 no_slot = -1;

  memset (&r, 0, sizeof r);
  r.id = b->n_recs;
  r.rider = rider;
  r.vehicle = vehicle;
  r.state = FT_BK_RESERVED;
  r.reserved_at = now;
  r.hold_until = now + b->cfg.reservation_hold;
  r.unlocked_at = -1;
  r.ended_at = -1;
  r.paused_since = -1;
  r.start = v->pos;
  r.end = v->pos;
  r.hold_tx = -1;
  r.capture_tx = -1;
  /* the price shown now is the price charged */
  r.shown_zone_mult = ft_pricing_zone_multiplier (b->deps.pricing, v->pos);
  r.shown_dyn_mult = ft_pricing_dynamic_multiplier (b->deps.pricing, v->pos, now, v->kind);
  push_rec (b, &r, no_slot);
  expiry_push (b, r.hold_until, r.id);
  return r.id;
}

/* ----------------------------------------------------------------- expect */

void
ft_booking_expect (FtBooking *b, guint n)
{
  g_return_if_fail (b != NULL);
  if (b->release)
    return;   /* the pool holds the open bookings, not the run's */
  guint cap = b->cap_recs;
  ft_mem_room ((gpointer *) &b->recs, b->n_recs, &b->cap_recs, n, sizeof (FtBookingRec), &b->huge_recs);
  ft_mem_room ((gpointer *) &b->aux, b->n_recs, &cap, n, sizeof (RecAux), &b->huge_slots);
}

void
ft_booking_set_release (FtBooking *b, gboolean release)
{
  g_return_if_fail (b != NULL);
  g_return_if_fail (b->n_recs == 0);
  if (release == b->release)
    return;
  g_clear_pointer (&b->recs, g_free);
  g_clear_pointer (&b->aux, g_free);
  b->cap_recs = b->n_pool = 0;
  b->huge_recs = b->huge_slots = 0;
  b->release = release;
  if (release)
    {
      b->ring_mask = 1023;
      b->ring = g_new (gint32, b->ring_mask + 1);
      for (guint i = 0; i <= b->ring_mask; i++)
        b->ring[i] = -1;
      b->ring_low = 0;
    }
  else
    g_clear_pointer (&b->ring, g_free);
}

gboolean
ft_booking_get_release (FtBooking *b)
{
  g_return_val_if_fail (b != NULL, FALSE);
  return b->release;
}

guint
ft_booking_n_live (FtBooking *b)
{
  g_return_val_if_fail (b != NULL, 0);
  return b->release ? b->n_live : b->n_recs;
}

guint
ft_booking_peak_live (FtBooking *b)
{
  g_return_val_if_fail (b != NULL, 0);
  return b->release ? b->peak_live : b->n_recs;
}

/* ------------------------------------------------------------------- find */

typedef struct {
  FtBooking *b;
  guint32    mask;
  double     need_m;
  FtFindResult *hits;      /* local, or allocated once local is full */
  guint      n, cap;
  FtFindResult local[32];
} FindCtx;

/* Whether find offers vehicle `id` (available, free, of a kind in mask,
 * charged and with need_m of range); *range_out gets its range then. */
static gboolean
offers (FtBooking *b, guint id, guint32 mask, double need_m, double *range_out)
{
  const FtVehicle *v;
  double range;

  if (id >= ft_fleet_n_vehicles (b->deps.fleet))
    return FALSE;
  v = ft_fleet_get_vehicle (b->deps.fleet, id);
  if (v->state != FT_STATE_AVAILABLE || v->booking >= 0)
    return FALSE;
  if (mask && !(mask & (1u << v->kind)))
    return FALSE;
  if (v->pack < 0 || ft_fleet_soc (b->deps.fleet, id) < ft_vehicle_type_default (v->kind)->low_soc)
    return FALSE;
  range = ft_fleet_range_m (b->deps.fleet, id);
  if (range < need_m)
    return FALSE;
  *range_out = range;
  return TRUE;
}

static gboolean
find_visit (guint id, FtLatLon pos, double dist_m, gpointer user_data)
{
  FindCtx *ctx = user_data;
  FtFindResult hit;
  double range;

  if (!offers (ctx->b, id, ctx->mask, ctx->need_m, &range))
    return TRUE;
  hit.vehicle = id;
  hit.walk_m = dist_m;
  hit.range_m = range;
  if (ctx->n == ctx->cap)
    {
      ctx->cap *= 2;
      if (ctx->hits == ctx->local)
        ctx->hits = g_memdup2 (ctx->local, sizeof ctx->local);
      ctx->hits = g_renew (FtFindResult, ctx->hits, ctx->cap);
    }
  ctx->hits[ctx->n++] = hit;
  return TRUE;
}

static int
find_cmp (const void *pa, const void *pb)
{
  const FtFindResult *a = pa, *b = pb;
  if (a->walk_m < b->walk_m) return -1;
  if (a->walk_m > b->walk_m) return 1;
  return (a->vehicle > b->vehicle) - (a->vehicle < b->vehicle);
}

guint
ft_booking_find (FtBooking *b, FtLatLon at, double radius_m, double trip_m,
                 guint32 kind_mask, FtFindResult *out, guint max_out)
{
  FindCtx ctx;
  guint n;

  g_return_val_if_fail (b != NULL, 0);
  g_return_val_if_fail (out != NULL || max_out == 0, 0);

  if (!(radius_m > 0.0))
    radius_m = b->cfg.max_find_radius_m;
  if (!(trip_m >= 0.0))
    trip_m = 0.0;
  ctx.b = b;
  ctx.mask = kind_mask;
  ctx.need_m = trip_m * (1.0 + b->cfg.range_margin);
  ctx.hits = ctx.local;
  ctx.n = 0;
  ctx.cap = G_N_ELEMENTS (ctx.local);
  /* Only available vehicles can be offered; find_visit still checks the
   * state. Results are sorted below, so the index's visit order does not
   * matter. */
  ft_fleet_visit_near_available (b->deps.fleet, at, radius_m, find_visit, &ctx);
  /* the order is total (walk, then vehicle), so any sort gives the same */
  qsort (ctx.hits, ctx.n, sizeof (FtFindResult), find_cmp);
  n = MIN (max_out, ctx.n);
  if (n)
    memcpy (out, ctx.hits, n * sizeof (FtFindResult));
  if (ctx.hits != ctx.local)
    g_free (ctx.hits);
  return n;
}

gboolean
ft_booking_offer (FtBooking *b, guint vehicle, double walk_m, double trip_m, guint32 kind_mask,
                  FtFindResult *out)
{
  double range;

  g_return_val_if_fail (b != NULL && out != NULL, FALSE);
  if (!(trip_m >= 0.0))
    trip_m = 0.0;
  if (!offers (b, vehicle, kind_mask, trip_m * (1.0 + b->cfg.range_margin), &range))
    return FALSE;
  out->vehicle = vehicle;
  out->walk_m = walk_m;
  out->range_m = range;
  return TRUE;
}

/* ---------------------------------------------------------------- reserve */

gint64
ft_booking_reserve (FtBooking *b, guint rider, guint vehicle, FtTime now, GError **error)
{
  g_autoptr(GError) err = NULL;
  FtBookingRec *r;
  gint64 id;

  g_return_val_if_fail (b != NULL, -1);
  g_return_val_if_fail (error == NULL || *error == NULL, -1);

  if (!check_vehicle_index (b, rider, vehicle, now, error) ||
      !check_rider (b, rider, vehicle, now, error) ||
      !check_rider_free (b, rider, vehicle, now, error) ||
      !check_no_debt (b, rider, vehicle, now, error))
    return -1;
  expire_vehicle_if_due (b, vehicle, now);
  if (!check_vehicle_takeable (b, rider, vehicle, -1, NULL, now, error))
    return -1;

  if (!ft_fleet_apply_event (b->deps.fleet, vehicle, FT_VEV_RESERVATION_START, now, &err))
    {
      refusev (b, error, FT_BOOKING_ERROR_NOT_AVAILABLE, now, rider, vehicle,
               "cannot reserve: %s", err->message);
      return -1;
    }
  id = new_rec (b, rider, vehicle, now);
  r = rec_at (b, id);
  /* the check above found that a ride may start at r->start (where the
   * vehicle stands) */
  if (b->deps.geofences)
    b->aux[r - b->recs].start_ok_gen = ft_geofences_generation (b->deps.geofences);
  ft_fleet_set_booking (b->deps.fleet, vehicle, id);
  open_add (b, id);
  rider_open_set (b, rider, id);
  append_event (b, FT_EV_BOOKING_RESERVED, now, r);
  return id;
}

/* ----------------------------------------------------------------- unlock */

/* Idempotency keys are written on every unlock and every end, so without
 * printf: the decimal digits of v at o, returning the end. Gives exactly
 * what "%" G_GINT64_FORMAT gives (tests compare). */
static char *
put_i64 (char *o, gint64 v)
{
  static const char pairs[] =
    "00010203040506070809101112131415161718192021222324252627282930313233343536373839"
    "40414243444546474849505152535455565758596061626364656667686970717273747576777879"
    "8081828384858687888990919293949596979899";
  char tmp[20];
  guint64 u = v < 0 ? (guint64) 0 - (guint64) v : (guint64) v;
  int n = 20;
  if (v < 0)
    *o++ = '-';
  /* two digits at a time, from the right */
  while (u >= 100)
    {
      guint r = (guint) (u % 100);
      u /= 100;
      n -= 2;
      memcpy (tmp + n, pairs + 2 * r, 2);
    }
  if (u >= 10)
    {
      n -= 2;
      memcpy (tmp + n, pairs + 2 * u, 2);
    }
  else
    tmp[--n] = (char) ('0' + u);
  memcpy (o, tmp + n, (gsize) (20 - n));
  return o + (20 - n);
}

/* a string literal, its length known when compiled */
#define put_lit(o, lit) (memcpy ((o), (lit), sizeof (lit) - 1), (o) + sizeof (lit) - 1)

/* "bk<id>-hold-t<now>" and "bk<id>-capture": out holds 64 bytes. */
void
ft_booking_hold_key (gint64 id, FtTime now, char out[64])
{
  char *o = put_i64 (put_lit (out, "bk"), id);
  o = put_lit (o, "-hold-t");
  *put_i64 (o, now) = '\0';
}

void
ft_booking_capture_key (gint64 id, char out[64])
{
  char *o = put_i64 (put_lit (out, "bk"), id);
  *put_lit (o, "-capture") = '\0';
}

/* Places the pre-auth hold; on failure refuses and returns -1. */
static gint64
place_hold (FtBooking *b, guint rider, guint vehicle, gint64 id, FtTime now, GError **error)
{
  g_autoptr(GError) err = NULL;
  char key[64];   /* on the stack: one per unlock */
  ft_booking_hold_key (id, now, key);
  gint64 tx;

  tx = ft_payments_hold (b->deps.payments, rider, b->cfg.preauth_minor, id, key, now, &err);
  if (tx < 0)
    {
      if (g_error_matches (err, FT_PAYMENTS_ERROR, FT_PAYMENTS_ERROR_UNPAID))
        refusev (b, error, FT_BOOKING_ERROR_UNPAID, now, rider, vehicle,
                 "cannot unlock: %s", err->message);
      else
        refusev (b, error, FT_BOOKING_ERROR_PAYMENT, now, rider, vehicle,
                 "cannot unlock: the pre-authorisation was refused (%s); "
                 "top up the wallet or try another card", err->message);
    }
  return tx;
}

static void
do_unlock (FtBooking *b, FtBookingRec *r, gint64 hold_tx, FtTime now)
{
  g_autoptr(GError) err = NULL;

  if (!ft_fleet_apply_event (b->deps.fleet, r->vehicle, FT_VEV_TRIP_START, now, &err))
    g_error ("booking %" G_GINT64_FORMAT ": trip_start checked but refused: %s", r->id, err->message);
  r->state = FT_BK_ACTIVE;
  r->unlocked_at = now;
  r->hold_tx = hold_tx;
  r->start = ft_fleet_get_vehicle (b->deps.fleet, r->vehicle)->pos;
  if (G_UNLIKELY (b->trip_ids != NULL))   /* unlocked now: the trip_id is booking's own */
    g_hash_table_remove (b->trip_ids, &r->id);
  append_event (b, FT_EV_BOOKING_UNLOCKED, now, r);
}

gboolean
ft_booking_unlock (FtBooking *b, gint64 booking, guint rider, FtTime now, GError **error)
{
  FtBookingRec *r;
  FtVehicleState to;
  gint64 tx;

  g_return_val_if_fail (b != NULL, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  if (!(r = lookup_for (b, booking, rider, now, "unlock", error)))
    return FALSE;
  if (r->state == FT_BK_RESERVED && r->hold_until <= now)
    {
      char hhmm[8];
      guint vehicle = r->vehicle;
      format_hhmm (r->hold_until, hhmm);
      expire_one (b, r, now);   /* r may be released */
      return refusev (b, error, FT_BOOKING_ERROR_EXPIRED, now, rider, vehicle,
                      "booking %" G_GINT64_FORMAT " expired at %s; reserve the vehicle again",
                      booking, hhmm);
    }
  if (r->state == FT_BK_EXPIRED)
    return refusev (b, error, FT_BOOKING_ERROR_EXPIRED, now, rider, r->vehicle,
                    "booking %" G_GINT64_FORMAT " has expired; reserve the vehicle again", booking);
  if (r->state != FT_BK_RESERVED)
    return wrong_state (b, error, now, r, "unlock", "only a reservation can be unlocked");
  if (!check_rider (b, rider, r->vehicle, now, error) ||
      !check_no_debt (b, rider, r->vehicle, now, error) ||
      !check_vehicle_takeable (b, rider, r->vehicle, booking, r, now, error))
    return FALSE;
  if (!ft_vehicle_transition (ft_fleet_get_vehicle (b->deps.fleet, r->vehicle)->state,
                              FT_VEV_TRIP_START, &to))
    return refusev (b, error, FT_BOOKING_ERROR_NOT_AVAILABLE, now, rider, r->vehicle,
                    "%s is %s and cannot be unlocked",
                    ft_fleet_get_vehicle (b->deps.fleet, r->vehicle)->name,
                    ft_vehicle_state_name (ft_fleet_get_vehicle (b->deps.fleet, r->vehicle)->state));

  tx = place_hold (b, rider, r->vehicle, booking, now, error);
  if (tx < 0)
    return FALSE;
  r = rec_at (b, booking);
  do_unlock (b, r, tx, now);
  return TRUE;
}

gint64
ft_booking_start (FtBooking *b, guint rider, guint vehicle, FtTime now, GError **error)
{
  FtBookingRec *r;
  gint64 id, tx;

  g_return_val_if_fail (b != NULL, -1);
  g_return_val_if_fail (error == NULL || *error == NULL, -1);

  if (!check_vehicle_index (b, rider, vehicle, now, error) ||
      !check_rider (b, rider, vehicle, now, error))
    return -1;
  /* Walking up to the vehicle one reserved oneself: that is an unlock. */
  id = rider_open_get (b, rider);
  if (id >= 0 && rec_at (b, id)->vehicle == vehicle && rec_at (b, id)->state == FT_BK_RESERVED &&
      rec_at (b, id)->hold_until > now)
    return ft_booking_unlock (b, id, rider, now, error) ? id : -1;
  if (!check_rider_free (b, rider, vehicle, now, error) ||
      !check_no_debt (b, rider, vehicle, now, error))
    return -1;
  expire_vehicle_if_due (b, vehicle, now);
  if (!check_vehicle_takeable (b, rider, vehicle, -1, NULL, now, error))
    return -1;

  /* The hold needs the booking id; it is the next one. */
  id = b->n_recs;
  tx = place_hold (b, rider, vehicle, id, now, error);
  if (tx < 0)
    return -1;
  id = new_rec (b, rider, vehicle, now);
  r = rec_at (b, id);
  r->reserved_at = -1;
  r->hold_until = now;
  ft_fleet_set_booking (b->deps.fleet, vehicle, id);
  open_add (b, id);
  rider_open_set (b, rider, id);
  do_unlock (b, r, tx, now);
  return id;
}

/* ----------------------------------------------------------- pause/resume */

gboolean
ft_booking_pause (FtBooking *b, gint64 booking, guint rider, FtTime now, GError **error)
{
  g_autoptr(GError) err = NULL;
  FtBookingRec *r;

  g_return_val_if_fail (b != NULL, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  if (!(r = lookup_for (b, booking, rider, now, "pause", error)))
    return FALSE;
  if (r->state != FT_BK_ACTIVE)
    return wrong_state (b, error, now, r, "pause", "only an active trip can be paused");
  if (!ft_fleet_apply_event (b->deps.fleet, r->vehicle, FT_VEV_TRIP_PAUSE, now, &err))
    return refusev (b, error, FT_BOOKING_ERROR_WRONG_STATE, now, rider, r->vehicle,
                    "cannot pause: %s", err->message);
  r->state = FT_BK_PAUSED;
  r->paused_since = now;
  append_event (b, FT_EV_BOOKING_PAUSED, now, r);
  return TRUE;
}

gboolean
ft_booking_resume (FtBooking *b, gint64 booking, guint rider, FtTime now, GError **error)
{
  g_autoptr(GError) err = NULL;
  FtBookingRec *r;

  g_return_val_if_fail (b != NULL, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  if (!(r = lookup_for (b, booking, rider, now, "resume", error)))
    return FALSE;
  if (r->state != FT_BK_PAUSED)
    return wrong_state (b, error, now, r, "resume", "only a paused trip can be resumed");
  if (!ft_fleet_apply_event (b->deps.fleet, r->vehicle, FT_VEV_TRIP_RESUME, now, &err))
    return refusev (b, error, FT_BOOKING_ERROR_WRONG_STATE, now, rider, r->vehicle,
                    "cannot resume: %s", err->message);
  r->state = FT_BK_ACTIVE;
  if (now > r->paused_since)
    r->paused_ms += now - r->paused_since;
  r->paused_since = -1;
  append_event (b, FT_EV_BOOKING_RESUMED, now, r);
  return TRUE;
}

/* -------------------------------------------------------------------- end */

gboolean
ft_booking_end (FtBooking *b, gint64 booking, guint rider, FtLatLon where,
                double distance_m, FtTime now, FtPriceBreakdown *price_out,
                GError **error)
{
  g_autoptr(GError) err = NULL;
  char key[64];   /* on the stack: one per trip */
  FtBookingRec *r;
  const FtVehicle *v;
  FtTripQuote q;
  FtPriceBreakdown price;
  FtVehicleState st, to;
  FtTime ride_ms;
  gint64 tx;
  FtEvent ev;

  g_return_val_if_fail (b != NULL, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  if (!(r = lookup_for (b, booking, rider, now, "end", error)))
    return FALSE;
  if (r->state == FT_BK_RESERVED)
    return wrong_state (b, error, now, r, "end", "unlock it first or cancel the reservation");
  if (r->state != FT_BK_ACTIVE && r->state != FT_BK_PAUSED)
    return wrong_state (b, error, now, r, "end", "it is already closed");
  if (!ft_latlon_valid (where))
    return refusev (b, error, FT_BOOKING_ERROR_INVALID, now, rider, r->vehicle,
                    "cannot end booking %" G_GINT64_FORMAT ": position %.6f,%.6f is not a valid "
                    "WGS84 point", booking, where.lat, where.lon);
  if (!(distance_m >= 0.0) || !isfinite (distance_m))
    return refusev (b, error, FT_BOOKING_ERROR_INVALID, now, rider, r->vehicle,
                    "cannot end booking %" G_GINT64_FORMAT ": distance %g m must be a "
                    "non-negative number", booking, distance_m);
  v = ft_fleet_get_vehicle (b->deps.fleet, r->vehicle);
  if (b->deps.geofences)
    {
      int zone = -1;
      FtZoneRules rules = ft_geofences_rules_at (b->deps.geofences, where, v->kind, &zone);
      if (!rules.ride_end_allowed)
        {
          if (zone >= 0)
            {
              const FtGeofenceZone *z = ft_geofences_get (b->deps.geofences, (guint) zone);
              return refusev (b, error, FT_BOOKING_ERROR_NO_PARKING, now, rider, r->vehicle,
                              "ending is not allowed in zone %s (no parking); "
                              "ride out of it to park %s", z->name ? z->name : z->id, v->name);
            }
          return refusev (b, error, FT_BOOKING_ERROR_NO_PARKING, now, rider, r->vehicle,
                          "ending is not allowed outside the operating area; "
                          "ride back into it to park %s", v->name);
        }
    }

  /* The fleet path: a paused trip is resumed, then ended. */
  st = v->state;
  if (r->state == FT_BK_PAUSED && !ft_vehicle_transition (st, FT_VEV_TRIP_RESUME, &st))
    return refusev (b, error, FT_BOOKING_ERROR_WRONG_STATE, now, rider, r->vehicle,
                    "cannot end: %s is %s and cannot resume", v->name, ft_vehicle_state_name (v->state));
  if (!ft_vehicle_transition (st, FT_VEV_TRIP_END, &to))
    return refusev (b, error, FT_BOOKING_ERROR_WRONG_STATE, now, rider, r->vehicle,
                    "cannot end: %s is %s", v->name, ft_vehicle_state_name (st));

  ride_ms = MAX (0, now - r->unlocked_at);
  memset (&q, 0, sizeof q);
  q.minutes = (double) ride_ms / (double) FT_MINUTE;
  q.km = distance_m / 1000.0;
  q.start = r->start;
  q.end = where;
  q.at = r->unlocked_at;
  q.vehicle_kind = v->kind;
  if (r->shown_zone_mult > 0 && r->shown_dyn_mult > 0)
    {
      q.fixed_zone_multiplier = r->shown_zone_mult;
      q.fixed_dynamic_multiplier = r->shown_dyn_mult;
    }
  else
    {
      q.fixed_zone_multiplier = ft_pricing_zone_multiplier (b->deps.pricing, r->start);
      q.fixed_dynamic_multiplier = MIN (1.0, ft_pricing_dynamic_multiplier (b->deps.pricing, r->start,
                                                                          r->unlocked_at, v->kind));
    }
  if (!ft_pricing_quote (b->deps.pricing, &q, &price, &err))
    return refusev (b, error, FT_BOOKING_ERROR_INVALID, now, rider, r->vehicle,
                    "cannot price booking %" G_GINT64_FORMAT ": %s", booking, err->message);

  ft_booking_capture_key (booking, key);
  tx = ft_payments_capture (b->deps.payments, rider, booking, price.total, key, now, &err);
  if (tx < 0)
    return refusev (b, error, FT_BOOKING_ERROR_PAYMENT, now, rider, r->vehicle,
                    "cannot end booking %" G_GINT64_FORMAT ": capture failed: %s",
                    booking, err->message);

  /* No refusal after this point. */
  if (r->state == FT_BK_PAUSED)
    {
      if (!ft_fleet_apply_event (b->deps.fleet, r->vehicle, FT_VEV_TRIP_RESUME, now, &err))
        g_error ("booking %" G_GINT64_FORMAT ": %s", booking, err->message);
      if (now > r->paused_since)
        r->paused_ms += now - r->paused_since;
      r->paused_since = -1;
    }
  /* The vehicle's state event names the position it had; then it moves.
   * No VEHICLE_MOVED: BOOKING_ENDED below carries the new position and the
   * metres added to the odometer, and marks the vehicle for the store. */
  if (!ft_fleet_apply_event_and_move (b->deps.fleet, r->vehicle, FT_VEV_TRIP_END, now, where, distance_m, &err))
    g_error ("booking %" G_GINT64_FORMAT ": %s", booking, err->message);
  ft_fleet_set_booking (b->deps.fleet, r->vehicle, -1);
  ft_accounts_count_trip (b->deps.accounts, rider);

  r->state = FT_BK_ENDED;
  r->ended_at = now;
  r->end = where;
  r->distance_m = distance_m;
  r->price_minor = price.total;
  r->capture_tx = tx;
  open_remove (b, booking);
  rider_open_set (b, rider, -1);

  if (b->deps.log)
    {
      ev = ft_event_init (FT_EV_BOOKING_ENDED, now);
      ev.ref = booking;
      ev.vehicle = (gint32) r->vehicle;
      ev.account = (gint32) rider;
      ev.lat = where.lat;
      ev.lon = where.lon;
      ev.amount = price.total;
      ev.a = (gint32) MIN (ride_ms / FT_SECOND, G_MAXINT32);
      ev.b = (gint64) llround (distance_m);
      ft_event_log_append (b->deps.log, &ev);
    }
  if (price_out)
    *price_out = price;
  retire (b, r);
  return TRUE;
}

/* ----------------------------------------------------------------- cancel */

gboolean
ft_booking_cancel (FtBooking *b, gint64 booking, guint rider, FtTime now, GError **error)
{
  g_autoptr(GError) err = NULL;
  FtBookingRec *r;

  g_return_val_if_fail (b != NULL, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  if (!(r = lookup_for (b, booking, rider, now, "cancel", error)))
    return FALSE;
  if (r->state == FT_BK_ACTIVE || r->state == FT_BK_PAUSED)
    return wrong_state (b, error, now, r, "cancel", "an active trip cannot be cancelled, only ended");
  if (r->state != FT_BK_RESERVED)
    return wrong_state (b, error, now, r, "cancel", "it is already closed");
  if (!ft_fleet_apply_event (b->deps.fleet, r->vehicle, FT_VEV_RESERVATION_CANCEL, now, &err))
    return refusev (b, error, FT_BOOKING_ERROR_WRONG_STATE, now, rider, r->vehicle,
                    "cannot cancel: %s", err->message);
  ft_fleet_set_booking (b->deps.fleet, r->vehicle, -1);
  r->state = FT_BK_CANCELLED;
  r->ended_at = now;
  open_remove (b, booking);
  rider_open_set (b, rider, -1);
  append_event (b, FT_EV_BOOKING_CANCELLED, now, r);
  retire (b, r);
  return TRUE;
}

/* ----------------------------------------------------------------- expire */

guint
ft_booking_expire (FtBooking *b, FtTime now)
{
  guint n = 0;

  g_return_val_if_fail (b != NULL, 0);

  for (guint i = 0; i < b->n_open;)
    {
      FtBookingRec *r = rec_at (b, b->open[i]);
      if (r->state == FT_BK_RESERVED && r->hold_until <= now)
        {
          expire_one (b, r, now);   /* swaps the last open id into slot i */
          n++;
        }
      else
        i++;
    }
  return n;
}

FtTime
ft_booking_next_expiry (FtBooking *b)
{
  g_return_val_if_fail (b != NULL, G_MAXINT64);
  /* every reserved booking pushed its hold_until when it became reserved
   * (new_rec, restore), and a reserved booking's hold_until never changes
   * while it stays reserved; entries that no longer hold are dropped */
  for (;;)
    {
      const Expiry *heap = b->expiry->len > 0 ? &g_array_index (b->expiry, Expiry, 0) : NULL;
      const Expiry *run = b->expiry_head < b->n_run ? &b->expiry_run[b->expiry_head] : NULL;
      gboolean from_run = run != NULL && (heap == NULL || expiry_less (run, heap));
      const Expiry *top = from_run ? run : heap;
      if (top == NULL)
        return G_MAXINT64;
      const FtBookingRec *r = rec_find (b, top->id);
      if (r != NULL && r->state == FT_BK_RESERVED && r->hold_until == top->t)
        return top->t;
      if (!from_run)
        expiry_pop (b);
      else if (++b->expiry_head >= 4096 && b->expiry_head * 2 >= b->n_run)
        {
          /* most of the run dropped: move the rest to the front */
          memmove (b->expiry_run, b->expiry_run + b->expiry_head,
                   (gsize) (b->n_run - b->expiry_head) * sizeof (Expiry));
          b->n_run -= b->expiry_head;
          b->expiry_head = 0;
        }
    }
}

/* ---------------------------------------------------------------- queries */

void
ft_booking_prefetch (FtBooking *b, gint64 booking, guint rider)
{
  if (b == NULL)
    return;
  const FtBookingRec *rec = rec_find (b, booking);
  if (rec != NULL)
    {
      const char *r = (const char *) rec;
      for (gsize o = 0; o < sizeof (FtBookingRec); o += 64)
        __builtin_prefetch (r + o, 1);
      __builtin_prefetch (&b->aux[rec - b->recs]);
    }
  ft_accounts_prefetch (b->deps.accounts, rider);
  ft_payments_prefetch_rider (b->deps.payments, rider);
  ft_payments_prefetch_booking (b->deps.payments, booking);
}

const FtBookingRec *
ft_booking_get (FtBooking *b, gint64 booking)
{
  g_return_val_if_fail (b != NULL, NULL);
  return rec_find (b, booking);
}

guint
ft_booking_n (FtBooking *b)
{
  g_return_val_if_fail (b != NULL, 0);
  return b->n_recs;
}

gint64
ft_booking_open_for (FtBooking *b, guint rider)
{
  g_return_val_if_fail (b != NULL, -1);
  return rider_open_get (b, rider);
}

void
ft_booking_restore (FtBooking *b, const FtBookingRec *rec)
{
  FtBookingRec *r;

  g_return_if_fail (b != NULL && rec != NULL);
  g_return_if_fail (!b->release);
  g_return_if_fail (rec->id >= 0 && rec->id < G_MAXINT32);
  g_return_if_fail ((guint) rec->state < FT_N_BK_STATES);

  while ((guint64) rec->id >= b->n_recs)
    {
      /* a gap: an id never seen (store rows load in id order, so normally none) */
      FtBookingRec gap;
      gint32 no_slot = -1;
      memset (&gap, 0, sizeof gap);
      gap.id = b->n_recs;
      gap.rider = G_MAXUINT32;
      gap.vehicle = G_MAXUINT32;
      gap.state = FT_BK_CANCELLED;
      gap.reserved_at = gap.unlocked_at = gap.ended_at = gap.paused_since = -1;
      gap.hold_tx = gap.capture_tx = -1;
      push_rec (b, &gap, no_slot);
    }
  r = rec_at (b, rec->id);
  if (r->rider != G_MAXUINT32 && is_open_state (r->state))
    {
      open_remove (b, r->id);
      if (rider_open_get (b, r->rider) == r->id)
        rider_open_set (b, r->rider, -1);
    }
  *r = *rec;
  b->aux[r - b->recs].start_ok_gen = 0;   /* checked by another process, if at all */
  if (is_open_state (r->state))
    {
      open_add (b, r->id);
      rider_open_set (b, r->rider, r->id);
    }
  if (r->state == FT_BK_RESERVED)
    expiry_push (b, r->hold_until, r->id);
}

gboolean
ft_booking_trip_id (FtBooking *b, gint64 booking, char out[37])
{
  g_return_val_if_fail (b != NULL && out != NULL, FALSE);
  out[0] = '\0';
  const FtBookingRec *r = ft_booking_get (b, booking);
  if (r == NULL)
    return FALSE;
  if (b->trip_ids != NULL)
    {
      const char *kept = g_hash_table_lookup (b->trip_ids, &booking);
      if (kept != NULL)
        {
          g_strlcpy (out, kept, 37);
          return out[0] != '\0';
        }
    }
  if (r->unlocked_at < 0)
    return FALSE;
  make_trip_id (b, booking, out);
  return TRUE;
}

void
ft_booking_restore_trip_id (FtBooking *b, gint64 booking, const char *trip_id)
{
  g_return_if_fail (b != NULL && trip_id != NULL);
  g_return_if_fail (ft_booking_get (b, booking) != NULL);

  char given[37], want[37];
  g_strlcpy (want, trip_id, sizeof want);   /* 36 characters at most, as a record kept it */
  if (b->trip_ids != NULL)
    g_hash_table_remove (b->trip_ids, &booking);
  ft_booking_trip_id (b, booking, given);
  if (strcmp (given, want) == 0)
    return;
  if (b->trip_ids == NULL)
    b->trip_ids = g_hash_table_new_full (g_int64_hash, g_int64_equal, g_free, g_free);
  gint64 *key = g_new (gint64, 1);
  *key = booking;
  g_hash_table_replace (b->trip_ids, key, g_strdup (want));
}

/* ---------------------------------------------------------------- checker */

static gboolean
check_fail (GError **error, const char *fmt, ...) G_GNUC_PRINTF (2, 3);

static gboolean
check_fail (GError **error, const char *fmt, ...)
{
  va_list ap;
  g_autofree char *msg = NULL;

  va_start (ap, fmt);
  msg = g_strdup_vprintf (fmt, ap);
  va_end (ap);
  g_set_error_literal (error, FT_BOOKING_ERROR, FT_BOOKING_ERROR_INVALID, msg);
  return FALSE;
}

gboolean
ft_booking_check (FtBooking *b, GError **error)
{
  guint n_vehicles, n_open = 0;
  FtVehicleState paused_state;
  const FtVehicle *vs;

  g_return_val_if_fail (b != NULL, FALSE);

  n_vehicles = ft_fleet_n_vehicles (b->deps.fleet);
  vs = ft_fleet_vehicles (b->deps.fleet);
  if (!ft_vehicle_transition (FT_STATE_ON_TRIP, FT_VEV_TRIP_PAUSE, &paused_state))
    paused_state = FT_STATE_ON_TRIP;

  guint n_stored = b->release ? b->n_pool : b->n_recs, n_kept = 0;
  for (guint k = 0; k < n_stored; k++)
    {
      const FtBookingRec *r = &b->recs[k];
      const FtVehicle *v;
      guint i = k;

      if (b->release)
        {
          /* a pool: free slots hold no booking, used ones the open
           * bookings the ring finds there */
          if (r->rider == G_MAXUINT32)
            {
              if (r->id != -1)
                return check_fail (error, "free booking slot %u holds id %" G_GINT64_FORMAT, k, r->id);
              continue;
            }
          if (r->id < 0 || (guint64) r->id >= b->n_recs || rec_find (b, r->id) != r)
            return check_fail (error, "booking slot %u holds id %" G_GINT64_FORMAT
                               " which the ring does not find there", k, r->id);
          if (!is_open_state (r->state))
            {
              gboolean lagging = FALSE;
              for (guint j = 0; j < b->n_lag; j++)
                lagging |= b->lag[(b->lag_head + j) % RELEASE_LAG] == r->id;
              if (!lagging)
                return check_fail (error, "closed booking %" G_GINT64_FORMAT " (%s) was not released",
                                   r->id, ft_booking_state_name (r->state));
            }
          i = (guint) r->id;
          n_kept++;
        }
      else if (r->id != (gint64) i)
        return check_fail (error, "booking slot %u holds id %" G_GINT64_FORMAT, i, r->id);
      if (r->rider == G_MAXUINT32)
        continue;
      if ((guint) r->state >= FT_N_BK_STATES)
        return check_fail (error, "booking %u has invalid state %d", i, (int) r->state);
      if (r->vehicle >= n_vehicles)
        return check_fail (error, "booking %u names vehicle %u but the fleet has %u",
                           i, r->vehicle, n_vehicles);
      v = &vs[r->vehicle];

      if (is_open_state (r->state))
        {
          FtVehicleState want = r->state == FT_BK_RESERVED ? FT_STATE_RESERVED
                              : r->state == FT_BK_PAUSED ? paused_state : FT_STATE_ON_TRIP;
          n_open++;
          if (v->booking != r->id)
            return check_fail (error, "booking %u is %s but %s points at booking %" G_GINT64_FORMAT,
                               i, ft_booking_state_name (r->state), v->name, v->booking);
          if (v->state != want && !(want == FT_STATE_ON_TRIP && v->state == FT_STATE_ELSEWHERE))
            return check_fail (error, "booking %u is %s but %s is %s (expected %s)", i,
                               ft_booking_state_name (r->state), v->name,
                               ft_vehicle_state_name (v->state), ft_vehicle_state_name (want));
          if (b->aux[k].open < 0)
            return check_fail (error, "booking %u is open but not in the open list", i);
          if (rider_open_get (b, r->rider) != r->id)
            return check_fail (error, "booking %u is open but rider %u maps to %" G_GINT64_FORMAT,
                               i, r->rider, rider_open_get (b, r->rider));
          if (r->state == FT_BK_RESERVED)
            {
              if (r->hold_tx >= 0 || ft_payments_has_hold (b->deps.payments, r->id))
                return check_fail (error, "reservation %u already has a payment hold", i);
            }
          else
            {
              if (r->hold_tx < 0 || !ft_payments_has_hold (b->deps.payments, r->id))
                return check_fail (error, "booking %u is %s without a payment hold", i,
                                   ft_booking_state_name (r->state));
              char trip[37];
              if (!ft_booking_trip_id (b, i, trip) || !ft_uuid_valid (trip))
                return check_fail (error, "booking %u has no valid MDS trip_id", i);
            }
          if ((r->state == FT_BK_PAUSED) != (r->paused_since >= 0))
            return check_fail (error, "booking %u is %s with paused_since %" G_GINT64_FORMAT,
                               i, ft_booking_state_name (r->state), r->paused_since);
        }
      else
        {
          if (b->aux[k].open >= 0)
            return check_fail (error, "closed booking %u is still in the open list", i);
          if (ft_payments_has_hold (b->deps.payments, r->id))
            return check_fail (error, "closed booking %u (%s) still has a payment hold", i,
                               ft_booking_state_name (r->state));
          if (r->ended_at < 0)
            return check_fail (error, "closed booking %u has no end time", i);
          if (r->state == FT_BK_ENDED && (r->capture_tx < 0 || r->hold_tx < 0 || r->price_minor < 0))
            return check_fail (error, "ended booking %u was not captured", i);
          if (r->state != FT_BK_ENDED && r->capture_tx >= 0)
            return check_fail (error, "%s booking %u has a capture", ft_booking_state_name (r->state), i);
        }
    }

  if (n_open != b->n_open)
    return check_fail (error, "%u bookings are open but the open list holds %u", n_open, b->n_open);
  if (b->release && (n_kept != b->n_live || b->n_pool - b->n_free != b->n_live))
    return check_fail (error, "%u booking records are kept but %u are live (%u slots, %u free)",
                       n_kept, b->n_live, b->n_pool, b->n_free);
  for (guint v = 0; v < n_vehicles; v++)
    {
      gint64 bk = vs[v].booking;
      if (bk < 0)
        continue;   /* live mode may see trips booked elsewhere */
      const FtBookingRec *r = rec_find (b, bk);
      if (r == NULL || !is_open_state (r->state) || r->vehicle != v)
        return check_fail (error, "%s points at booking %" G_GINT64_FORMAT
                           " which is not an open booking of that vehicle", vs[v].name, bk);
    }
  for (guint i = 0; i < b->rider_open->len; i++)
    {
      gint64 bk = g_array_index (b->rider_open, gint64, i);
      const FtBookingRec *r = bk >= 0 ? rec_find (b, bk) : NULL;
      if (bk >= 0 && (r == NULL || r->rider != i || !is_open_state (r->state)))
        return check_fail (error, "rider %u maps to booking %" G_GINT64_FORMAT
                           " which is not an open booking of theirs", i, bk);
    }
  return TRUE;
}

void
ft_booking_plan_ride (FtBooking *b, guint vehicle, FtLatLon from, FtLatLon to, double cruise_kph,
                      FtPathRules *out)
{
  g_return_if_fail (b != NULL && out != NULL && cruise_kph > 0);
  g_return_if_fail (vehicle < ft_fleet_n_vehicles (b->deps.fleet));
  if (b->deps.geofences == NULL)
    {
      memset (out, 0, sizeof *out);
      out->blocking_zone = -1;
      out->stop_at = to;
      out->stop_m = out->len_m = ft_distance_m (from, to);
      out->ride_s = out->stop_m / (cruise_kph / 3.6);
      return;
    }
  const FtVehicle *v = ft_fleet_get_vehicle (b->deps.fleet, vehicle);
  ft_geofences_path_rules (b->deps.geofences, from, to, v->kind, cruise_kph, out);
}

double
ft_booking_speed_cap_at (FtBooking *b, guint vehicle, FtLatLon at, gboolean *through_ok)
{
  g_return_val_if_fail (b != NULL, 0);
  g_return_val_if_fail (vehicle < ft_fleet_n_vehicles (b->deps.fleet), 0);
  if (through_ok)
    *through_ok = TRUE;
  if (b->deps.geofences == NULL)
    return 0;
  const FtVehicle *v = ft_fleet_get_vehicle (b->deps.fleet, vehicle);
  FtZoneRules r = ft_geofences_rules_at (b->deps.geofences, at, v->kind, NULL);
  if (through_ok)
    *through_ok = r.ride_through_allowed;
  return r.maximum_speed_kph;
}
