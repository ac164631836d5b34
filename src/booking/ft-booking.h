/* ft-booking.h — the rider's core loop: find vehicles near a point with
 * enough range for a stated trip; reserve with a hold that expires; unlock
 * (pre-authorisation hold on the rider's money); pause and resume; end under
 * the geofencing parking rules (price computed by pricing, captured by
 * payments); cancel. Illegal transitions are refused with an error a person
 * can act on ("FT-0042 is reserved by another rider until 08:14",
 * "ending is not allowed in zone Park (no parking)").
 *
 * Booking does not own the modules it drives; FtBookingDeps borrows them.
 */
#pragma once

#include "ft-fleet.h"
#include "ft-accounts.h"
#include "ft-pricing.h"
#include "ft-payments.h"
#include "ft-geofence.h"

G_BEGIN_DECLS

#define FT_BOOKING_ERROR (ft_booking_error_quark ())
GQuark ft_booking_error_quark (void);
typedef enum {
  FT_BOOKING_ERROR_NO_SUCH_BOOKING = 1,
  FT_BOOKING_ERROR_NOT_AVAILABLE,      /* on trip, non_operational, removed … */
  FT_BOOKING_ERROR_RESERVED_BY_OTHER,
  FT_BOOKING_ERROR_NOT_YOURS,          /* acting on another rider's booking */
  FT_BOOKING_ERROR_WRONG_STATE,        /* e.g. pause a reserved booking */
  FT_BOOKING_ERROR_ALREADY_ACTIVE,     /* rider already has an open booking */
  FT_BOOKING_ERROR_UNPAID,             /* rider owes money */
  FT_BOOKING_ERROR_PAYMENT,            /* pre-authorisation declined */
  FT_BOOKING_ERROR_LOW_BATTERY,
  FT_BOOKING_ERROR_NO_PARKING,         /* ride_end_allowed = false here */
  FT_BOOKING_ERROR_NO_RIDE_START,      /* ride_start_allowed = false here */
  FT_BOOKING_ERROR_PERMISSION,         /* account may not ride / erased */
  FT_BOOKING_ERROR_EXPIRED,            /* reservation hold ran out */
  FT_BOOKING_ERROR_INVALID,
} FtBookingError;

typedef enum {
  FT_BK_RESERVED = 0,
  FT_BK_ACTIVE,          /* unlocked, riding */
  FT_BK_PAUSED,
  FT_BK_ENDED,
  FT_BK_CANCELLED,
  FT_BK_EXPIRED,
  FT_N_BK_STATES
} FtBookingState;

typedef struct {
  gint64          id;
  guint32         rider;
  guint32         vehicle;
  FtBookingState  state;
  FtTime          reserved_at;    /* -1 if walk-up start */
  FtTime          hold_until;     /* reservation expiry */
  FtTime          unlocked_at;    /* -1 until unlocked */
  FtTime          ended_at;       /* -1 until ended/cancelled/expired */
  FtTime          paused_ms;      /* total paused time */
  FtTime          paused_since;   /* -1 unless paused */
  FtLatLon        start;
  FtLatLon        end;
  double          distance_m;
  gint64          price_minor;    /* captured price, 0 until ended */
  gint64          hold_tx;        /* ledger tx of the pre-auth hold, -1 */
  gint64          capture_tx;     /* -1 */
  /* The MDS trip_id is not kept here: ft_booking_trip_id writes it (a
   * run keeps every record, and the text was 40 of its 192 bytes). */
  /* The multipliers of the price the rider was shown when the booking was
   * made (reserve or walk-up start): the price is fixed then, and the trip
   * is charged with them. 0 when unknown (a booking restored from a store):
   * then the dynamic multiplier charged is the lower of now's and 1.0. */
  double          shown_zone_mult;
  double          shown_dyn_mult;
} FtBookingRec;

typedef struct {
  FtFleet     *fleet;
  FtAccounts  *accounts;
  FtPricing   *pricing;
  FtPayments  *payments;
  FtGeofences *geofences;   /* may be NULL: everything allowed */
  FtEventLog  *log;         /* may be NULL */
} FtBookingDeps;

typedef struct {
  FtTime reservation_hold;      /* default 10 min */
  gint64 preauth_minor;         /* default 1000 (10.00) */
  double max_find_radius_m;     /* default 500 */
  double range_margin;          /* required range = trip * (1 + margin); default 0.2 */
  guint64 seed;                 /* for trip_id UUIDs */
} FtBookingConfig;

void ft_booking_config_init (FtBookingConfig *cfg);

typedef struct {
  guint  vehicle;
  double walk_m;
  double range_m;
} FtFindResult;

typedef struct _FtBooking FtBooking;

FtBooking *ft_booking_new      (const FtBookingDeps *deps, const FtBookingConfig *cfg);
void       ft_booking_free     (FtBooking *b);

/* Available vehicles of the kinds in kind_mask (0 = all) within radius_m of
 * `at` whose range covers trip_m (with the margin), nearest first. Returns
 * how many were written (at most max_out). Requires ft_fleet_enable_index. */
guint      ft_booking_find     (FtBooking *b, FtLatLon at, double radius_m, double trip_m,
                                guint32 kind_mask, FtFindResult *out, guint max_out);
/* Whether ft_booking_find would list `vehicle` (found walk_m from the
 * rider by the caller's own search of the fleet's index) for trip_m: if so
 * *out gets the entry find would give. A caller that searched for the
 * nearest vehicle by a test it keeps in step with find's has booking
 * confirm that one instead of searching the area again. */
gboolean   ft_booking_offer    (FtBooking *b, guint vehicle, double walk_m, double trip_m,
                                guint32 kind_mask, FtFindResult *out);
/* Each returns the booking id (>= 0) or -1 / FALSE with an error. Every
 * refusal also appends FT_EV_BOOKING_REFUSED with the error code. */
gint64     ft_booking_reserve  (FtBooking *b, guint rider, guint vehicle, FtTime now, GError **error);
/* Unlock a reservation (places the pre-auth hold; vehicle goes on_trip). */
gboolean   ft_booking_unlock   (FtBooking *b, gint64 booking, guint rider, FtTime now, GError **error);
/* Walk-up: reserve and unlock in one step. */
gint64     ft_booking_start    (FtBooking *b, guint rider, guint vehicle, FtTime now, GError **error);
gboolean   ft_booking_pause    (FtBooking *b, gint64 booking, guint rider, FtTime now, GError **error);
gboolean   ft_booking_resume   (FtBooking *b, gint64 booking, guint rider, FtTime now, GError **error);
/* End at `where` (the vehicle's position is set there) after distance_m of
 * riding. Refused where parking is not allowed; the trip goes on. */
gboolean   ft_booking_end      (FtBooking *b, gint64 booking, guint rider, FtLatLon where,
                                double distance_m, FtTime now, FtPriceBreakdown *price_out,
                                GError **error);
/* The idempotency keys booking gives the payments it makes: the unlock's
 * hold "bk<id>-hold-t<now>" and the end's capture "bk<id>-capture" (out
 * holds 64 bytes). Written without printf (once per unlock and per end). */
void       ft_booking_hold_key    (gint64 id, FtTime now, char out[64]);
void       ft_booking_capture_key (gint64 id, char out[64]);
/* The geofence rules a ride of `vehicle` from `from` to `to` meets at
 * cruise_kph: zones' speed caps slow it (ride_s) and a zone where riding
 * through is not allowed stops it at its edge (blocked, stop_at). Without
 * geofences everything is allowed. The simulator times its rides with it;
 * live mode caps a vehicle's speed with ft_booking_speed_cap_at. */
void       ft_booking_plan_ride (FtBooking *b, guint vehicle, FtLatLon from, FtLatLon to,
                                 double cruise_kph, FtPathRules *out);
/* The speed cap (km/h, 0 none) for `vehicle` at `at`; *through_ok FALSE
 * when it may not ride on there. */
double     ft_booking_speed_cap_at (FtBooking *b, guint vehicle, FtLatLon at, gboolean *through_ok);
/* Cancel a reservation (free) — an active trip cannot be cancelled, only ended. */
gboolean   ft_booking_cancel   (FtBooking *b, gint64 booking, guint rider, FtTime now, GError **error);
/* Expire reservations whose hold ran out; returns how many. */
guint      ft_booking_expire   (FtBooking *b, FtTime now);
/* Earliest hold expiry among open reservations, or G_MAXINT64. */
FtTime     ft_booking_next_expiry (FtBooking *b);

/* The booking's record, or NULL: no such booking, or (release mode) one
 * that is closed and was released. Valid until the next call that makes,
 * closes or restores a booking. */
const FtBookingRec *ft_booking_get      (FtBooking *b, gint64 booking);
/* Starts loading a booking's record, its rider's payment accounts and
 * account record, and payments' records of the booking, for a step about
 * to unlock or end it (a hint). */
void       ft_booking_prefetch    (FtBooking *b, gint64 booking, guint rider);
/* Bookings given so far: ids run 0 .. n-1 (in release mode too, though
 * most of them are released). */
guint               ft_booking_n        (FtBooking *b);
/* Release mode, for a run that needs only what is open (a simulation's
 * summary_records): a booking's record is released once it has closed
 * (ended and its capture posted, cancelled, expired) and 16 more bookings
 * have closed after it (so what follows a close at once, the trip's
 * incentive or a retried capture, still finds it), its storage reused by
 * the next booking, and payments is told to forget what it kept for it
 * (ft_payments_forget_booking); ids stay sequential and unique. Then
 * ft_booking_get of a released booking gives NULL, acting on it is refused
 * with NO_SUCH_BOOKING, its trip_id is "", restore is refused and
 * ft_booking_check checks the open bookings only. Set while there are no
 * bookings. Off by default: every record is kept. */
void                ft_booking_set_release (FtBooking *b, gboolean release);
gboolean            ft_booking_get_release (FtBooking *b);
/* Records kept now (release mode: the open bookings; else ft_booking_n),
 * and the most kept at once (else ft_booking_n). */
guint               ft_booking_n_live   (FtBooking *b);
guint               ft_booking_peak_live (FtBooking *b);
/* Room for n bookings in all, made now (a run that knows its size: the
 * records then never move as they fill). Changes no contents. */
void                ft_booking_expect   (FtBooking *b, guint n);
/* The rider's open (reserved/active/paused) booking, or -1. */
gint64              ft_booking_open_for (FtBooking *b, guint rider);
void                ft_booking_restore  (FtBooking *b, const FtBookingRec *rec);
/* The booking's MDS trip_id (a UUID from the booking's seed and id, given
 * once it is unlocked; "" before, and for no such booking): written into
 * out, TRUE when there is one. Made when asked for, not kept. */
gboolean            ft_booking_trip_id  (FtBooking *b, gint64 booking, char out[37]);
/* A restored booking's stored trip_id, when it differs from the one
 * booking gives (another seed, or none where booking would give one):
 * kept beside the records, and ft_booking_trip_id gives it from then on. */
void                ft_booking_restore_trip_id (FtBooking *b, gint64 booking, const char *trip_id);
const char         *ft_booking_state_name (FtBookingState s);
/* Invariants: each open booking's vehicle points back at it and is in the
 * matching state; no vehicle has two open bookings; ended bookings captured. */
gboolean            ft_booking_check    (FtBooking *b, GError **error);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (FtBooking, ft_booking_free)

G_END_DECLS
