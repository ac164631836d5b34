/* ft-assist.c — the assistant: checks a message, handles a pending
 * confirmation ("yes" / "no"), classifies the rest, extracts slots and
 * builds the answer from the rider's real state through the core's
 * modules. Every answer names figures the modules hold (the receipt's
 * total is the booking's captured price, to the cent).
 */
#include "ft-assist-private.h"
#include "ft-json.h"

#include <string.h>
#include <math.h>

G_DEFINE_QUARK (ft-assist-error-quark, ft_assist_error)

/* Below this the assistant asks the rider to rephrase. */
#define MIN_CONFIDENCE 0.30
#define CONFIRM_WINDOW (5 * FT_MINUTE)

void
ft_assist_config_init (FtAssistConfig *cfg)
{
  memset (cfg, 0, sizeof *cfg);
  cfg->llm_timeout_ms = 5000;
}

/* Each rider's latest refusal to book or unlock (not to end: that is
 * cannot_end_ride), as it happens (live, simulated). */
static void
on_event (const FtEvent *ev, gpointer user_data)
{
  FtAssist *a = user_data;
  if (ev->kind != FT_EV_BOOKING_REFUSED || ev->account < 0 || ev->a == FT_BOOKING_ERROR_NO_PARKING)
    return;
  g_hash_table_replace (a->refusals, GINT_TO_POINTER (ev->account), g_memdup2 (ev, sizeof *ev));
}

FtAssist *
ft_assist_new (FtCore *core, const FtAssistConfig *cfg, GError **error)
{
  g_autoptr(FtAssist) a = g_new0 (FtAssist, 1);

  g_return_val_if_fail (core != NULL, NULL);
  a->core = core;
  ft_assist_config_init (&a->cfg);
  if (cfg)
    {
      a->cfg.llm_url = g_strdup (cfg->llm_url);
      a->cfg.llm_model = g_strdup (cfg->llm_model);
      if (cfg->llm_timeout_ms)
        a->cfg.llm_timeout_ms = cfg->llm_timeout_ms;
    }
  a->re_vehicle = g_regex_new ("\\bft[- ]?0*([0-9]{1,6})\\b", G_REGEX_OPTIMIZE, 0, NULL);
  a->re_money = g_regex_new ("(?:[€$£]\\s?([0-9]{1,7})(?:[.,]([0-9]{1,2}))?)|"
                             "(?:\\b([0-9]{1,7})(?:[.,]([0-9]{1,2}))?\\s?(?:eur|euros?|€)(?![a-z]))",
                             G_REGEX_OPTIMIZE, 0, NULL);
  a->re_km = g_regex_new ("\\b([0-9]{1,4}(?:[.,][0-9]{1,2})?)\\s?(?:km|kms|kilomet(?:er|re)s?)\\b",
                          G_REGEX_OPTIMIZE, 0, NULL);
  a->re_clock = g_regex_new ("\\b([0-9]{1,2})(?::([0-9]{2}))?\\s?(am|pm)?\\b", G_REGEX_OPTIMIZE, 0, NULL);
  a->re_latlon = g_regex_new ("(-?[0-9]{1,2}\\.[0-9]{2,8})\\s*,\\s*(-?[0-9]{1,3}\\.[0-9]{2,8})",
                              G_REGEX_OPTIMIZE, 0, NULL);
  g_assert (a->re_vehicle && a->re_money && a->re_km && a->re_clock && a->re_latlon);
  a->photos = g_hash_table_new_full (g_direct_hash, g_direct_equal, NULL, g_free);
  a->refusals = g_hash_table_new_full (g_direct_hash, g_direct_equal, NULL, g_free);
  a->listener = ft_event_log_add_listener (core->log, on_event, a);
  a->by_rider = g_hash_table_new_full (g_direct_hash, g_direct_equal, NULL, (GDestroyNotify) g_array_unref);
  if (!ft_assist_queue_init (a, error))
    return NULL;
  return g_steal_pointer (&a);
}

void
ft_assist_free (FtAssist *a)
{
  if (!a)
    return;
  g_free (a->cfg.llm_url);
  g_free (a->cfg.llm_model);
  g_clear_pointer (&a->re_vehicle, g_regex_unref);
  g_clear_pointer (&a->re_money, g_regex_unref);
  g_clear_pointer (&a->re_km, g_regex_unref);
  g_clear_pointer (&a->re_clock, g_regex_unref);
  g_clear_pointer (&a->re_latlon, g_regex_unref);
  g_clear_pointer (&a->handoffs, g_ptr_array_unref);
  g_clear_pointer (&a->pending, g_hash_table_unref);
  g_clear_pointer (&a->by_rider, g_hash_table_unref);
  if (a->listener)
    ft_event_log_remove_listener (a->core->log, a->listener);
  g_clear_pointer (&a->refusals, g_hash_table_unref);
  g_clear_pointer (&a->photos, g_hash_table_unref);
  g_free (a);
}

void
ft_assist_set_photo_check (FtAssist *a, FtAssistPhotoCheck check, gpointer user_data)
{
  g_return_if_fail (a != NULL);
  a->photo_check = check;
  a->photo_data = user_data;
}

void
ft_assist_attach_photo (FtAssist *a, guint rider, const char *path)
{
  g_return_if_fail (a != NULL);
  if (path)
    g_hash_table_replace (a->photos, GUINT_TO_POINTER (rider), g_strdup (path));
  else
    g_hash_table_remove (a->photos, GUINT_TO_POINTER (rider));
}

void
ft_assist_reply_free (FtAssistReply *r)
{
  if (!r)
    return;
  g_free (r->text);
  g_free (r);
}

void
ft_assist_counts (FtAssist *a, guint64 *messages, guint64 *resolved, guint64 *handoffs)
{
  g_return_if_fail (a != NULL);
  if (messages)
    *messages = a->n_messages;
  if (resolved)
    *resolved = a->n_resolved;
  if (handoffs)
    *handoffs = a->n_handoffs;
}

/* ---- helpers over the core ---- */

typedef struct {
  FtAssist      *a;
  guint          rider;
  const char    *text;
  FtTime         now;
  const FtLatLon *where;
  FtAssistSlots  slots;
  FtAssistReply *reply;
  GString       *out;
  gboolean       tool_ran;      /* the backend called a function (done once) */
} Ctx;

static char *
money (Ctx *c, gint64 minor)
{
  return ft_money_format (minor, c->a->core->config.currency);
}

static const char *
compass (FtLatLon from, FtLatLon to)
{
  static const char *const dirs[8] = { "north", "north-east", "east", "south-east",
                                       "south", "south-west", "west", "north-west" };
  double dn = (to.lat - from.lat) * 111320.0;
  double de = (to.lon - from.lon) * 111320.0 * cos (from.lat * G_PI / 180.0);
  double bearing = atan2 (de, dn) * 180.0 / G_PI;
  if (bearing < 0)
    bearing += 360.0;
  return dirs[(int) floor ((bearing + 22.5) / 45.0) % 8];
}

static const char *
zone_name (Ctx *c, int zone)
{
  const FtGeofenceZone *z;
  if (zone < 0 || !c->a->core->geofences)
    return "outside the operating area";
  z = ft_geofences_get (c->a->core->geofences, (guint) zone);
  return z && z->name ? z->name : "an unnamed zone";
}

static const FtBookingRec *
open_booking (Ctx *c)
{
  gint64 id = ft_booking_open_for (c->a->core->booking, c->rider);
  return id >= 0 ? ft_booking_get (c->a->core->booking, id) : NULL;
}

/* The rider's bookings: ids are dense and a booking's rider never
 * changes, so new ids are indexed as they appear. */
static GArray *
rider_bookings (FtAssist *a, guint rider)
{
  FtBooking *b = a->core->booking;
  guint n = ft_booking_n (b);
  for (; a->n_indexed < n; a->n_indexed++)
    {
      const FtBookingRec *r = ft_booking_get (b, a->n_indexed);
      GArray *list;
      gint64 id = a->n_indexed;
      if (!r)
        continue;
      list = g_hash_table_lookup (a->by_rider, GUINT_TO_POINTER (r->rider));
      if (!list)
        {
          list = g_array_new (FALSE, FALSE, sizeof (gint64));
          g_hash_table_insert (a->by_rider, GUINT_TO_POINTER (r->rider), list);
        }
      g_array_append_val (list, id);
    }
  return g_hash_table_lookup (a->by_rider, GUINT_TO_POINTER (rider));
}

/* The ended booking the rider means: on the named vehicle, nearest the
 * named time, else the latest. */
static const FtBookingRec *
ended_booking (Ctx *c)
{
  FtBooking *b = c->a->core->booking;
  const FtBookingRec *best = NULL;
  FtTime best_d = G_MAXINT64;
  GArray *mine = rider_bookings (c->a, c->rider);

  for (guint i = 0; mine && i < mine->len; i++)
    {
      const FtBookingRec *r = ft_booking_get (b, g_array_index (mine, gint64, i));
      FtTime d;
      if (!r || r->rider != c->rider || r->state != FT_BK_ENDED)
        continue;
      if (c->slots.vehicle_index >= 0 && r->vehicle != (guint) c->slots.vehicle_index)
        continue;
      if (c->slots.time >= 0)
        d = c->slots.time < r->unlocked_at ? r->unlocked_at - c->slots.time
            : c->slots.time > r->ended_at ? c->slots.time - r->ended_at : 0;
      else
        d = c->now - r->ended_at;
      if (!best || d < best_d || (d == best_d && r->id > best->id))
        {
          best = r;
          best_d = d;
        }
    }
  return best;
}

/* Where the rider is: the app's position, a place or coordinates named,
 * the open trip's vehicle, the end of the last trip. */
static gboolean
rider_position (Ctx *c, FtLatLon *out, const char **how)
{
  const FtBookingRec *r;
  if (c->slots.has_latlon)
    {
      *out = c->slots.latlon;
      *how = "the coordinates you gave";
      return TRUE;
    }
  if (c->slots.place_zone >= 0)
    {
      *out = ft_multipolygon_centroid (ft_geofences_get (c->a->core->geofences,
                                                         (guint) c->slots.place_zone)->area);
      *how = zone_name (c, c->slots.place_zone);
      return TRUE;
    }
  if (c->where)
    {
      *out = *c->where;
      *how = "your position";
      return TRUE;
    }
  if ((r = open_booking (c)))
    {
      *out = ft_fleet_get_vehicle (c->a->core->fleet, r->vehicle)->pos;
      *how = "your vehicle";
      return TRUE;
    }
  c->slots.vehicle_index = -1;
  c->slots.time = -1;
  if ((r = ended_booking (c)))
    {
      *out = r->end;
      *how = "where your last trip ended";
      return TRUE;
    }
  return FALSE;
}

static gint64
handoff (Ctx *c, const char *reason, gint64 booking, gint32 vehicle, gint64 amount)
{
  g_autoptr(GError) err = NULL;
  gint64 id = ft_assist_queue_add (c->a, c->rider, c->reply->intent, reason, c->text, booking, vehicle,
                                   amount, c->now, &err);
  if (id < 0)
    {
      g_string_append_printf (c->out, " (I could not pass this on to our team: %s.)", err->message);
      return -1;
    }
  c->reply->handoff = id;
  c->reply->resolved = FALSE;
  return id;
}

static void
propose (Ctx *c, FtAssistAction action, gint64 booking, gint32 vehicle, gint64 amount)
{
  g_autoptr(GError) err = NULL;
  FtAssistPending p = { action, booking, vehicle, amount, c->now + CONFIRM_WINDOW, (char *) c->text };
  if (!ft_assist_pending_set (c->a, c->rider, &p, &err))
    {
      g_string_append_printf (c->out, " (I cannot take confirmations right now: %s.)", err->message);
      return;
    }
  c->reply->pending = action;
  g_string_append (c->out, " Reply \"yes\" to confirm or \"no\" to cancel.");
}

/* ---- answers, one per intent ---- */

static void
answer_find_vehicle (Ctx *c)
{
  FtLatLon at;
  const char *how;
  FtFindResult found[3];
  guint n;
  double trip_m = c->slots.km > 0 ? c->slots.km * 1000.0 : 0.0;

  if (!rider_position (c, &at, &how))
    {
      g_string_append (c->out, "I don't know where you are. Share your location in the app, "
                               "or name a place or coordinates (e.g. \"near 50.001, 10.002\").");
      return;
    }
  n = ft_booking_find (c->a->core->booking, at, 500.0, trip_m, 0, found, G_N_ELEMENTS (found));
  if (n == 0)
    n = ft_booking_find (c->a->core->booking, at, 1500.0, trip_m, 0, found, G_N_ELEMENTS (found));
  if (n == 0)
    {
      g_string_append_printf (c->out, "There is no available vehicle within 1.5 km of %s%s.", how,
                              trip_m > 0 ? " with enough range for that trip" : "");
      c->reply->resolved = TRUE;
      return;
    }
  g_string_append_printf (c->out, "Nearest available to %s: ", how);
  for (guint i = 0; i < n; i++)
    {
      const FtVehicle *v = ft_fleet_get_vehicle (c->a->core->fleet, found[i].vehicle);
      g_string_append_printf (c->out, "%s%s (%s) %.0f m %s, %.0f%% battery, about %.1f km range",
                              i ? "; " : "", v->name, ft_vehicle_kind_id (v->kind), found[i].walk_m,
                              compass (at, v->pos), 100.0 * ft_fleet_soc (c->a->core->fleet, found[i].vehicle),
                              found[i].range_m / 1000.0);
    }
  g_string_append (c->out, ". Reserve one in the app to hold it for 10 minutes.");
  c->reply->resolved = TRUE;
}

static void
answer_explain_charge (Ctx *c)
{
  const FtBookingRec *r = ended_booking (c);
  const FtVehicle *v;
  FtTripQuote q = { 0 };
  FtPriceBreakdown p;
  g_autofree char *total = NULL, *captured = NULL, *when = NULL;
  gint64 net;

  if (!r)
    {
      g_string_append (c->out, c->slots.vehicle_index >= 0 || c->slots.time >= 0
                       ? "I found no finished trip of yours matching that."
                       : "You have no finished trips, so there is no charge to explain.");
      c->reply->resolved = TRUE;
      return;
    }
  v = ft_fleet_get_vehicle (c->a->core->fleet, r->vehicle);
  net = ft_payments_captured (c->a->core->payments, r->id);
  total = money (c, r->price_minor);
  when = ft_time_format (r->unlocked_at);
  g_string_append_printf (c->out, "Your trip on %s from %s: %.0f min, %.2f km, charged %s.", v->name, when,
                          (double) (r->ended_at - r->unlocked_at) / FT_MINUTE, r->distance_m / 1000.0, total);

  /* The breakdown, re-quoted the way booking priced it; shown only when it
   * adds up to the receipt (a plan changed since is not explained wrongly). */
  q.minutes = (double) MAX (0, r->ended_at - r->unlocked_at) / (double) FT_MINUTE;
  q.km = r->distance_m / 1000.0;
  q.start = r->start;
  q.end = r->end;
  q.at = r->unlocked_at;
  q.vehicle_kind = v->kind;
  q.fixed_zone_multiplier = r->shown_zone_mult > 0 ? r->shown_zone_mult
                            : ft_pricing_zone_multiplier (c->a->core->pricing, r->start);
  q.fixed_dynamic_multiplier = r->shown_dyn_mult > 0 ? r->shown_dyn_mult
                               : MIN (1.0, ft_pricing_dynamic_multiplier (c->a->core->pricing, r->start,
                                                                          r->unlocked_at, v->kind));
  if (ft_pricing_quote (c->a->core->pricing, &q, &p, NULL) && p.total == r->price_minor)
    {
      g_autofree char *u = money (c, p.unlock), *t = money (c, p.time), *d = money (c, p.distance);
      g_string_append_printf (c->out, " That is unlock %s + time %s + distance %s", u, t, d);
      if (fabs (p.zone_multiplier * p.dynamic_multiplier - 1.0) > 1e-9)
        g_string_append_printf (c->out, ", times %.2f (zone %.2f x demand %.2f, as shown when you booked)",
                                p.zone_multiplier * p.dynamic_multiplier, p.zone_multiplier,
                                p.dynamic_multiplier);
      g_string_append (c->out, ".");
    }
  if (net != r->price_minor)
    {
      g_autofree char *refunded = money (c, r->price_minor - net);
      captured = money (c, net);
      g_string_append_printf (c->out, " %s was refunded, so you paid %s in the end.", refunded, captured);
    }
  if (c->slots.amount_minor >= 0 && c->slots.amount_minor != r->price_minor && c->slots.amount_minor != net)
    {
      g_autofree char *asked = money (c, c->slots.amount_minor);
      g_string_append_printf (c->out, " I find no charge of %s on this trip; if it is on your card, "
                              "it may be a wallet top-up.", asked);
    }
  g_string_append (c->out, " If something is wrong, ask for a refund.");
  c->reply->resolved = TRUE;
}

/* The nearest point within 1 km where this kind may end a ride: rings of
 * 25 m, 16 bearings each. */
static gboolean
legal_place (Ctx *c, FtLatLon from, guint kind, FtLatLon *out, int *zone_out)
{
  for (double r = 25.0; r <= 1000.0; r += 25.0)
    for (int k = 0; k < 16; k++)
      {
        double th = k * G_PI / 8.0;
        FtLatLon p = ft_latlon_offset (from, r * sin (th), r * cos (th));
        FtZoneRules rules = ft_geofences_rules_at (c->a->core->geofences, p, kind, zone_out);
        if (rules.ride_end_allowed)
          {
            *out = p;
            return TRUE;
          }
      }
  return FALSE;
}

static void
answer_cannot_end_ride (Ctx *c)
{
  const FtBookingRec *r = open_booking (c);
  const FtVehicle *v;
  FtZoneRules rules;
  int zone = -1;

  if (!r || r->state == FT_BK_RESERVED)
    {
      g_string_append (c->out, r ? "Your vehicle is reserved, not unlocked: there is no ride to end. "
                                   "You can cancel the reservation for free in the app."
                                 : "You have no ride in progress, so there is nothing to end.");
      c->reply->resolved = TRUE;
      return;
    }
  v = ft_fleet_get_vehicle (c->a->core->fleet, r->vehicle);
  if (!c->a->core->geofences)
    rules = ft_zone_rules_all_allowed ();
  else
    rules = ft_geofences_rules_at (c->a->core->geofences, v->pos, v->kind, &zone);
  if (rules.ride_end_allowed)
    {
      g_string_append_printf (c->out, "%s is in %s, where you may end your ride. Shall I end it now?",
                              v->name, zone_name (c, zone));
      propose (c, FT_ASSIST_ACTION_END_RIDE, r->id, (gint32) r->vehicle, 0);
      c->reply->resolved = TRUE;
      return;
    }
  FtLatLon legal;
  int legal_zone = -1;
  g_string_append_printf (c->out, "Ending is not allowed where %s stands: it is in %s (no parking).",
                          v->name, zone_name (c, zone));
  if (legal_place (c, v->pos, v->kind, &legal, &legal_zone))
    g_string_append_printf (c->out, " The nearest place where you may end is about %.0f m %s, in %s "
                            "(%.5f, %.5f). Ride there and end again.",
                            ft_distance_m (v->pos, legal), compass (v->pos, legal),
                            zone_name (c, legal_zone), legal.lat, legal.lon);
  else
    {
      g_string_append (c->out, " I find no place within 1 km where ending is allowed; I have asked our team to help.");
      handoff (c, "rider cannot end ride: no legal parking within 1 km", r->id, (gint32) r->vehicle, 0);
      return;
    }
  c->reply->resolved = TRUE;
}

/* The rider's latest booking refusal: seen on the log since the
 * assistant started, else the store's event table. */
static gboolean
last_refusal (Ctx *c, FtEvent *out)
{
  const FtEvent *ev = g_hash_table_lookup (c->a->refusals, GUINT_TO_POINTER (c->rider));
  sqlite3_stmt *st = NULL;
  gboolean found = FALSE;

  if (ev)
    {
      *out = *ev;
      return TRUE;
    }
  if (!c->a->db || sqlite3_prepare_v2 (c->a->db, "SELECT t, vehicle, a FROM events WHERE kind = ? AND account = ?"
                                       " AND a <> ? ORDER BY seq DESC LIMIT 1", -1, &st, NULL) != SQLITE_OK)
    return FALSE;
  sqlite3_bind_int (st, 1, FT_EV_BOOKING_REFUSED);
  sqlite3_bind_int64 (st, 2, c->rider);
  sqlite3_bind_int (st, 3, FT_BOOKING_ERROR_NO_PARKING);
  if (sqlite3_step (st) == SQLITE_ROW)
    {
      *out = ft_event_init (FT_EV_BOOKING_REFUSED, sqlite3_column_int64 (st, 0));
      out->vehicle = (gint32) sqlite3_column_int64 (st, 1);
      out->account = (gint32) c->rider;
      out->a = (gint32) sqlite3_column_int64 (st, 2);
      found = TRUE;
    }
  sqlite3_finalize (st);
  return found;
}

/* Explains a refusal of the last half hour by its code; FALSE if none. */
static gboolean
explain_refusal (Ctx *c)
{
  FtEvent ev;
  const char *name;
  if (!last_refusal (c, &ev) || c->now - ev.t > 30 * FT_MINUTE || ev.t > c->now)
    return FALSE;
  if (c->slots.vehicle_index >= 0 && ev.vehicle >= 0 && ev.vehicle != c->slots.vehicle_index)
    return FALSE;
  name = ev.vehicle >= 0 && (guint) ev.vehicle < ft_fleet_n_vehicles (c->a->core->fleet)
         ? ft_fleet_get_vehicle (c->a->core->fleet, (guint) ev.vehicle)->name : "the vehicle";
  g_autofree char *when = ft_time_format (ev.t);
  g_autofree char *preauth = money (c, c->a->core->config.booking.preauth_minor);
  switch (ev.a)
    {
    case FT_BOOKING_ERROR_PAYMENT:
      g_string_append_printf (c->out, "At %s your card was declined when we tried to hold %s for the ride on %s. "
                              "Update your card or top up your wallet, then unlock again.", when, preauth, name);
      break;
    case FT_BOOKING_ERROR_UNPAID:
      g_string_append_printf (c->out, "At %s the unlock of %s was refused because you owe money from an earlier "
                              "trip. Settle it in the wallet, then unlock again.", when, name);
      break;
    case FT_BOOKING_ERROR_RESERVED_BY_OTHER:
      g_string_append_printf (c->out, "At %s %s was reserved by another rider. Pick another one nearby.", when, name);
      break;
    case FT_BOOKING_ERROR_NOT_AVAILABLE:
      g_string_append_printf (c->out, "At %s %s was not available to rent (in use or out of service). "
                              "Pick another one nearby.", when, name);
      break;
    case FT_BOOKING_ERROR_LOW_BATTERY:
      g_string_append_printf (c->out, "At %s %s's battery was too low to rent. Pick another one.", when, name);
      break;
    case FT_BOOKING_ERROR_NO_RIDE_START:
      g_string_append_printf (c->out, "At %s %s stood where rides may not start. Take one outside that zone.",
                              when, name);
      break;
    case FT_BOOKING_ERROR_EXPIRED:
      g_string_append_printf (c->out, "Your reservation of %s ran out at %s. Reserve it again if it is still free.",
                              name, when);
      break;
    case FT_BOOKING_ERROR_ALREADY_ACTIVE:
      g_string_append_printf (c->out, "At %s you already had a booking open, so %s could not be unlocked too. "
                              "End or cancel the other one first.", when, name);
      break;
    default:
      return FALSE;
    }
  c->reply->resolved = TRUE;
  return TRUE;
}

static void
answer_unlock_failed (Ctx *c)
{
  FtPayments *pay = c->a->core->payments;
  const FtBookingRec *r = open_booking (c);
  g_autoptr(GError) err = NULL;

  if (!ft_accounts_can (c->a->core->accounts, c->rider, FT_PERM_RIDE, &err))
    {
      g_string_append_printf (c->out, "Your account may not ride: %s.", err->message);
      handoff (c, "rider account may not ride", -1, -1, 0);
      return;
    }
  if (explain_refusal (c))
    return;
  if (ft_payments_has_debt (pay, c->rider))
    {
      g_autofree char *owed = money (c, -ft_payments_wallet (pay, c->rider));
      g_string_append_printf (c->out, "You owe %s from an earlier trip, so new rides are blocked. "
                              "Settle it in the wallet (or top up) and unlock again.", owed);
      c->reply->resolved = TRUE;
      return;
    }
  if (r && r->state != FT_BK_RESERVED)
    {
      const FtVehicle *v = ft_fleet_get_vehicle (c->a->core->fleet, r->vehicle);
      g_string_append_printf (c->out, "You already have a ride in progress on %s; end it before you "
                              "unlock another.", v->name);
      c->reply->resolved = TRUE;
      return;
    }
  gint32 vi = c->slots.vehicle_index >= 0 ? c->slots.vehicle_index : r ? (gint32) r->vehicle : -1;
  if (vi < 0)
    {
      if (c->slots.vehicle[0])
        g_string_append_printf (c->out, "I cannot find a vehicle called %s. Check the code on the handlebar. ",
                                c->slots.vehicle);
      g_string_append (c->out, "Your account and wallet are fine. Which vehicle is it? Tell me its code "
                               "(e.g. FT-0042) and I will check it.");
      c->reply->resolved = TRUE;
      return;
    }
  const FtVehicle *v = ft_fleet_get_vehicle (c->a->core->fleet, (guint) vi);
  double range_km = ft_fleet_range_m (c->a->core->fleet, (guint) vi) / 1000.0;
  if (v->booking >= 0 && (!r || v->booking != r->id))
    {
      const FtBookingRec *o = ft_booking_get (c->a->core->booking, v->booking);
      g_autofree char *until = o ? ft_time_format (o->hold_until) : NULL;
      if (o && o->state == FT_BK_RESERVED)
        g_string_append_printf (c->out, "%s is reserved by another rider until %s. Pick another one nearby.",
                                v->name, until);
      else
        g_string_append_printf (c->out, "%s is in use by another rider.", v->name);
      c->reply->resolved = TRUE;
    }
  else if (v->state != FT_STATE_AVAILABLE && v->state != FT_STATE_RESERVED)
    {
      g_string_append_printf (c->out, "%s is %s and cannot be rented now; I have told our team.", v->name,
                              ft_vehicle_state_name (v->state));
      handoff (c, "rider could not unlock a vehicle that is not available", -1, vi, 0);
    }
  else if (range_km < 1.0)
    {
      g_string_append_printf (c->out, "%s's battery is too low (%.0f%%, about %.1f km) to rent. Pick another one.",
                              v->name, 100.0 * ft_fleet_soc (c->a->core->fleet, (guint) vi), range_km);
      c->reply->resolved = TRUE;
    }
  else
    {
      g_string_append_printf (c->out, "%s looks available and your account is fine, so this may be the "
                              "lock itself. Try once more; I have also asked our team to check it.", v->name);
      handoff (c, "unlock failed on an available vehicle: check the lock", -1, vi, 0);
    }
}

static void
answer_battery_range (Ctx *c)
{
  const FtBookingRec *r = open_booking (c);
  gint32 vi = c->slots.vehicle_index >= 0 ? c->slots.vehicle_index : r ? (gint32) r->vehicle : -1;

  if (vi < 0)
    {
      g_string_append (c->out, c->slots.vehicle[0] ? "I cannot find that vehicle. "
                                                   : "You are not on a trip. ");
      g_string_append (c->out, "Tell me the vehicle's code (e.g. FT-0042) and I will check its battery.");
      c->reply->resolved = TRUE;
      return;
    }
  const FtVehicle *v = ft_fleet_get_vehicle (c->a->core->fleet, (guint) vi);
  double soc = ft_fleet_soc (c->a->core->fleet, (guint) vi);
  double km = ft_fleet_range_m (c->a->core->fleet, (guint) vi) / 1000.0;
  g_string_append_printf (c->out, "%s has %.0f%% battery, about %.1f km of range.", v->name, 100.0 * soc, km);
  if (c->slots.km > 0)
    g_string_append_printf (c->out, km >= c->slots.km * 1.2 ? " That is enough for %.1f km with a margin."
                            : km >= c->slots.km ? " %.1f km is just within range: keep a margin."
                            : " That is not enough for %.1f km: pick a fuller vehicle.", c->slots.km);
  c->reply->resolved = TRUE;
}

static void
answer_refund_request (Ctx *c)
{
  const FtBookingRec *r = ended_booking (c);
  gint64 net, amount;

  if (!r)
    {
      g_string_append (c->out, "I found no finished trip of yours to refund.");
      c->reply->resolved = TRUE;
      return;
    }
  net = ft_payments_captured (c->a->core->payments, r->id);
  if (net <= 0)
    {
      g_string_append (c->out, "That trip has nothing left to refund: it was free or already refunded in full.");
      c->reply->resolved = TRUE;
      return;
    }
  amount = c->slots.amount_minor > 0 ? MIN (c->slots.amount_minor, net) : net;
  g_autofree char *a = money (c, amount);
  g_autofree char *when = ft_time_format (r->unlocked_at);
  const FtVehicle *v = ft_fleet_get_vehicle (c->a->core->fleet, r->vehicle);
  g_string_append_printf (c->out, "I can open a refund request for %s on your trip on %s from %s; our team "
                          "decides and the money goes back to your wallet.", a, v->name, when);
  propose (c, FT_ASSIST_ACTION_REFUND_REQUEST, r->id, (gint32) r->vehicle, amount);
  c->reply->resolved = TRUE;
}

static void
answer_report_damage (Ctx *c)
{
  const FtBookingRec *r = open_booking (c);
  gint32 vi = c->slots.vehicle_index;
  if (vi < 0 && r)
    vi = (gint32) r->vehicle;
  if (vi < 0)
    {
      const FtBookingRec *e;
      c->slots.time = -1;
      e = ended_booking (c);
      if (e && c->now - e->ended_at < 2 * FT_HOUR)
        vi = (gint32) e->vehicle;
    }
  if (vi < 0)
    {
      g_string_append (c->out, "Which vehicle is damaged? Tell me its code (e.g. FT-0042).");
      c->reply->resolved = TRUE;
      return;
    }
  const FtVehicle *v = ft_fleet_get_vehicle (c->a->core->fleet, (guint) vi);
  g_string_append_printf (c->out, "I will report damage on %s to our team, who will check it and may take it "
                          "out of service. Add a photo in the app if you can.", v->name);
  propose (c, FT_ASSIST_ACTION_REPORT_DAMAGE, r ? r->id : -1, vi, 0);
  c->reply->resolved = TRUE;
}

static void
answer_report_parking (Ctx *c)
{
  gint32 vi = c->slots.vehicle_index;
  g_autofree char *where = NULL;
  FtLatLon at;
  const char *how;
  if (vi >= 0)
    where = g_strdup_printf ("%s", ft_fleet_get_vehicle (c->a->core->fleet, (guint) vi)->name);
  else if (c->slots.has_latlon || c->slots.place_zone >= 0 || c->where)
    {
      rider_position (c, &at, &how);
      where = g_strdup_printf ("the vehicle near %.5f, %.5f", at.lat, at.lon);
    }
  gint64 id = handoff (c, "badly parked vehicle reported by a rider", -1, vi, 0);
  if (id >= 0)
    g_string_append_printf (c->out, "Thank you. I have passed %s on to our field team (report %" G_GINT64_FORMAT
                            "); they move badly parked vehicles.", where ? where : "your report", id);
  if (!where)
    g_string_append (c->out, " If you can, tell me the code on the vehicle (e.g. FT-0042).");
}

static gboolean
mentions (const char *text, const char *const *words)
{
  g_autofree char *l = g_utf8_strdown (text, -1);
  for (; *words; words++)
    if (strstr (l, *words))
      return TRUE;
  return FALSE;
}

static void
answer_account_data (Ctx *c)
{
  static const char *const erase[] = { "delete", "erase", "remove", "forget", "close", "deactivate", "wipe", NULL };
  static const char *const export[] = { "export", "copy", "download", "send me", "portab", "gdpr", NULL };
  const FtAccount *acc = ft_accounts_get (c->a->core->accounts, c->rider);
  g_autofree char *wallet = money (c, ft_payments_wallet (c->a->core->payments, c->rider));
  g_autofree char *since = ft_time_format (acc->created);

  if (mentions (c->text, erase))
    {
      g_string_append (c->out, "I can erase your personal data (name and e-mail) now. Your trips and "
                               "payments stay, without your name, as the law requires for accounts.");
      if (ft_payments_wallet (c->a->core->payments, c->rider) != 0)
        g_string_append_printf (c->out, " Your wallet holds %s: our team settles it.", wallet);
      propose (c, FT_ASSIST_ACTION_ERASE_ACCOUNT, -1, -1, 0);
      c->reply->resolved = TRUE;
      return;
    }
  g_string_append_printf (c->out, "Your account %s: name %s, e-mail %s, created %s, %u finished trips, "
                          "wallet %s.", acc->id, acc->display_name ? acc->display_name : "-",
                          acc->email ? acc->email : "-", since, acc->trips, wallet);
  if (mentions (c->text, export))
    {
      g_string_append (c->out, " A full export of your data is prepared by our team and sent to your e-mail.");
      handoff (c, "data export requested", -1, -1, 0);
      return;
    }
  c->reply->resolved = TRUE;
}

static void
answer_lost_item (Ctx *c)
{
  const FtBookingRec *r = ended_booking (c);
  if (!r)
    {
      g_string_append (c->out, "I find no trip of yours. I have asked our team to look out for your item.");
      handoff (c, "lost item, no trip found", -1, -1, 0);
      return;
    }
  const FtVehicle *v = ft_fleet_get_vehicle (c->a->core->fleet, r->vehicle);
  g_autofree char *when = ft_time_format (r->ended_at);
  g_string_append_printf (c->out, "Your trip on %s ended %s at %.5f, %.5f. The vehicle is now %s at %.5f, %.5f "
                          "(%.0f m from where you left it). I have asked our field team to check it for your item.",
                          v->name, when, r->end.lat, r->end.lon, ft_vehicle_state_name (v->state), v->pos.lat,
                          v->pos.lon, ft_distance_m (r->end, v->pos));
  handoff (c, "lost item on a vehicle: check it", r->id, (gint32) r->vehicle, 0);
}

static void
answer_payment_topup (Ctx *c)
{
  static const char *const add[] = { "add", "top", "load", "put", "recharge", "pay off", "settle", NULL };
  FtPayments *pay = c->a->core->payments;
  gint64 w = ft_payments_wallet (pay, c->rider);
  g_autofree char *ws = money (c, w);

  if (w < 0)
    g_string_append_printf (c->out, "Your wallet is at %s: you owe %s.", ws, ws + 1);
  else
    g_string_append_printf (c->out, "Your wallet holds %s.", ws);
  if (ft_payments_held (pay, c->rider) > 0)
    {
      g_autofree char *h = money (c, ft_payments_held (pay, c->rider));
      g_string_append_printf (c->out, " %s is held for your ride in progress.", h);
    }
  if (c->slots.amount_minor > 0 && mentions (c->text, add))
    {
      g_autofree char *a = money (c, c->slots.amount_minor);
      g_string_append_printf (c->out, " I can charge %s to your card and add it to the wallet.", a);
      propose (c, FT_ASSIST_ACTION_TOPUP, -1, -1, c->slots.amount_minor);
    }
  else
    g_string_append (c->out, " Cards are managed under Wallet in the app; to add money, tell me the amount "
                             "(e.g. \"top up 10 euros\").");
  c->reply->resolved = TRUE;
}

static void
answer_offers_points (Ctx *c)
{
  FtLedger *l = c->a->core->ledger;
  gint64 total = 0;
  guint n = 0;
  for (guint i = 0; i < ft_ledger_n_tx (l); i++)
    {
      const FtLedgerTx *tx = ft_ledger_get_tx (l, i);   /* NULL: no journal */
      if (tx != NULL && tx->kind == FT_TX_INCENTIVE && tx->user_account == (gint32) c->rider)
        {
          total += tx->amount;
          n++;
        }
    }
  g_autofree char *t = money (c, total);
  g_string_append_printf (c->out, "You have earned %u relocation reward%s, %s in all, credited to your wallet.",
                          n, n == 1 ? "" : "s", t);
  if (c->a->core->incentives)
    g_string_append (c->out, " Rewards are offered for trips that start in a zone with too many vehicles "
                             "and end in one with too few: the map shows them when you book.");
  else
    g_string_append (c->out, " No relocation offers are running now.");
  c->reply->resolved = TRUE;
}

static void
dispatch (Ctx *c)
{
  switch (c->reply->intent)
    {
    case FT_INTENT_FIND_VEHICLE:    answer_find_vehicle (c); break;
    case FT_INTENT_EXPLAIN_CHARGE:  answer_explain_charge (c); break;
    case FT_INTENT_CANNOT_END_RIDE: answer_cannot_end_ride (c); break;
    case FT_INTENT_UNLOCK_FAILED:   answer_unlock_failed (c); break;
    case FT_INTENT_BATTERY_RANGE:   answer_battery_range (c); break;
    case FT_INTENT_REFUND_REQUEST:  answer_refund_request (c); break;
    case FT_INTENT_REPORT_DAMAGE:   answer_report_damage (c); break;
    case FT_INTENT_REPORT_PARKING:  answer_report_parking (c); break;
    case FT_INTENT_ACCOUNT_DATA:    answer_account_data (c); break;
    case FT_INTENT_LOST_ITEM:       answer_lost_item (c); break;
    case FT_INTENT_PAYMENT_TOPUP:   answer_payment_topup (c); break;
    case FT_INTENT_OFFERS_POINTS:   answer_offers_points (c); break;
    case FT_INTENT_HUMAN_AGENT:
      if (handoff (c, "rider asked for a person", -1, -1, 0) >= 0)
        g_string_append_printf (c->out, "I have passed your conversation to our support team (hand-off %"
                                G_GINT64_FORMAT "); a person will reply here.", c->reply->handoff);
      break;
    case FT_INTENT_OUT_OF_SCOPE:
    default:
      g_string_append (c->out, "I can help with your rides: finding a vehicle, unlocking, ending a ride, "
                               "battery, charges and refunds, damage or parking reports, lost items, your "
                               "wallet, offers and your account. Say \"agent\" to reach a person.");
      break;
    }
}

/* ---- the optional backend ---- */

/* A function the model called: the offline answer of that intent, with
 * the slots it passed. Only the first call acts; later ones get the same
 * text, so a model cannot open hand-offs in a loop. */
static char *
tool_call (const char *name, const char *arguments, gpointer user_data)
{
  Ctx *c = user_data;
  FtIntent in;
  g_autoptr(JsonNode) args = NULL;
  JsonObject *o;
  const char *vehicle;
  double d;

  if (c->tool_ran)
    return g_strdup (c->out->str);
  if (!ft_intent_from_name (name, &in))
    return g_strdup_printf ("There is no function called %s.", name);
  args = ft_json_parse (arguments, -1, "tool arguments", 8, 4096, NULL);
  o = args ? ft_json_object_of (args) : NULL;
  if (o && (vehicle = ft_json_get_string (o, "vehicle")))
    {
      guint v;
      g_autofree char *up = g_ascii_strup (vehicle, -1);
      if (ft_fleet_lookup_name (c->a->core->fleet, up, &v))
        {
          c->slots.vehicle_index = (gint32) v;
          g_strlcpy (c->slots.vehicle, up, sizeof c->slots.vehicle);
        }
    }
  if (o && ft_json_get_double (o, "amount", &d) && d > 0 && d < 1e6)
    c->slots.amount_minor = (gint64) llround (d * 100.0);
  if (o && ft_json_get_double (o, "km", &d) && d > 0 && d < 1000)
    c->slots.km = d;
  c->tool_ran = TRUE;
  c->reply->intent = in;
  g_string_truncate (c->out, 0);
  dispatch (c);
  return g_strdup (c->out->str);
}

static void
ask_backend (Ctx *c)
{
  g_autoptr(GError) err = NULL;
  g_autofree char *text = ft_assist_backend_chat (&c->a->cfg, c->text, ft_intent_name (c->reply->intent),
                                                  tool_call, c, &err);
  if (text)
    {
      g_string_assign (c->out, text);
      c->reply->from_backend = TRUE;
      return;
    }
  g_debug ("assistant backend failed, answering offline: %s", err->message);
  if (!c->tool_ran)
    dispatch (c);
}

/* ---- confirmations ---- */

static int
yes_no (const char *text)
{
  static const char *const yes[] = { "yes", "y", "yes please", "ok", "okay", "confirm", "sure", "do it", "yep", NULL };
  static const char *const no[] = { "no", "n", "cancel", "no thanks", "stop", "nope", "don't", NULL };
  g_autofree char *l = g_utf8_strdown (text, -1);
  g_strstrip (l);
  gsize n = strlen (l);
  while (n > 0 && (l[n - 1] == '.' || l[n - 1] == '!'))
    l[--n] = '\0';
  for (const char *const *w = yes; *w; w++)
    if (strcmp (l, *w) == 0)
      return 1;
  for (const char *const *w = no; *w; w++)
    if (strcmp (l, *w) == 0)
      return 0;
  return -1;
}

static void
carry_out (Ctx *c, const FtAssistPending *p)
{
  FtCore *core = c->a->core;
  g_autoptr(GError) err = NULL;

  switch (p->action)
    {
    case FT_ASSIST_ACTION_END_RIDE:
      {
        const FtBookingRec *r = ft_booking_get (core->booking, p->booking);
        FtPriceBreakdown price;
        if (!r)
          break;
        FtLatLon where = ft_fleet_get_vehicle (core->fleet, r->vehicle)->pos;
        /* the assistant does not see the odometer: straight-line distance */
        if (ft_booking_end (core->booking, p->booking, c->rider, where, ft_distance_m (r->start, where),
                            c->now, &price, &err))
          {
            g_autofree char *t = money (c, price.total);
            g_string_append_printf (c->out, "Your ride has ended. You were charged %s.", t);
            c->reply->done = p->action;
            c->reply->resolved = TRUE;
          }
        else
          g_string_append_printf (c->out, "I could not end your ride: %s.", err->message);
        return;
      }
    case FT_ASSIST_ACTION_REFUND_REQUEST:
      if (handoff (c, "refund request", p->booking, p->vehicle, p->amount) >= 0)
        {
          g_autofree char *a = money (c, p->amount);
          g_string_append_printf (c->out, "Refund request %" G_GINT64_FORMAT " for %s is open; our team will "
                                  "decide and you will see the refund in your wallet.", c->reply->handoff, a);
          c->reply->done = p->action;
        }
      return;
    case FT_ASSIST_ACTION_REPORT_DAMAGE:
      {
        const char *photo = g_hash_table_lookup (c->a->photos, GUINT_TO_POINTER (c->rider));
        if (photo && c->a->photo_check && p->vehicle >= 0)
          {
            gint64 review = -1;
            const char *decision = "review";
            if (c->a->photo_check ((guint) p->vehicle, photo, c->now, &review, &decision, c->a->photo_data, &err))
              {
                const char *name = ft_fleet_get_vehicle (core->fleet, (guint) p->vehicle)->name;
                g_hash_table_remove (c->a->photos, GUINT_TO_POINTER (c->rider));
                if (review >= 0)
                  g_string_append_printf (c->out, "Thank you. The photo check of %s says \"%s\"; it is in our "
                                          "review queue (review %" G_GINT64_FORMAT ").", name, decision, review);
                else
                  g_string_append_printf (c->out, "Thank you. The photo check finds no visible damage on %s; "
                                          "if something is still wrong, tell me what.", name);
                c->reply->done = p->action;
                c->reply->resolved = review < 0;
                return;
              }
            g_string_append_printf (c->out, "I could not check your photo (%s). ", err->message);
            g_clear_error (&err);
          }
      }
      /* no photo or no checker: staff look at the report (and the photo) */
      if (handoff (c, "damage reported by a rider: check the vehicle and the rider's photo",
                   p->booking, p->vehicle, 0) >= 0)
        {
          g_string_append_printf (c->out, "Damage report %" G_GINT64_FORMAT " is with our team. Thank you.",
                                  c->reply->handoff);
          c->reply->done = p->action;
        }
      return;
    case FT_ASSIST_ACTION_ERASE_ACCOUNT:
      if (ft_accounts_erase (core->accounts, c->rider, c->rider, c->now, &err))
        {
          g_string_append (c->out, "Your personal data has been erased.");
          c->reply->done = p->action;
          c->reply->resolved = TRUE;
        }
      else
        g_string_append_printf (c->out, "I could not erase your data: %s.", err->message);
      return;
    case FT_ASSIST_ACTION_TOPUP:
      {
        g_autofree char *key = g_strdup_printf ("assist-topup-%u-%" G_GINT64_FORMAT, c->rider, c->now);
        g_autofree char *a = money (c, p->amount);
        if (ft_payments_topup (core->payments, c->rider, p->amount, key, c->now, &err) >= 0)
          {
            g_autofree char *w = money (c, ft_payments_wallet (core->payments, c->rider));
            g_string_append_printf (c->out, "Added %s; your wallet now holds %s.", a, w);
            c->reply->done = p->action;
            c->reply->resolved = TRUE;
          }
        else
          g_string_append_printf (c->out, "The top-up of %s did not go through: %s.", a, err->message);
        return;
      }
    case FT_ASSIST_ACTION_NONE:
      break;
    }
}

FtAssistReply *
ft_assist_ask (FtAssist *a, guint rider, const char *text, gssize len, const FtLatLon *where, FtTime now,
               GError **error)
{
  const char *bad = NULL;
  gsize n;
  const FtAccount *acc;
  Ctx c = { 0 };
  g_autofree char *copy = NULL;

  g_return_val_if_fail (a != NULL, NULL);
  g_return_val_if_fail (text != NULL || len <= 0, NULL);
  if (!text)
    text = "";
  n = len < 0 ? strlen (text) : (gsize) len;
  if (n > FT_ASSIST_MAX_MESSAGE)
    {
      g_set_error (error, FT_ASSIST_ERROR, FT_ASSIST_ERROR_INVALID,
                   "message too long: %" G_GSIZE_FORMAT " bytes (at most %d)", n, FT_ASSIST_MAX_MESSAGE);
      return NULL;
    }
  if (!g_utf8_validate (text, (gssize) n, &bad))
    {
      g_set_error (error, FT_ASSIST_ERROR, FT_ASSIST_ERROR_INVALID,
                   "message is not valid UTF-8 (byte %" G_GSIZE_FORMAT ")", (gsize) (bad - text));
      return NULL;
    }
  acc = rider < ft_accounts_n (a->core->accounts) ? ft_accounts_get (a->core->accounts, rider) : NULL;
  if (!acc || !(acc->roles & FT_ROLE_RIDER))
    {
      g_set_error (error, FT_ASSIST_ERROR, FT_ASSIST_ERROR_INVALID, "no rider with index %u", rider);
      return NULL;
    }
  if (acc->erased)
    {
      g_set_error (error, FT_ASSIST_ERROR, FT_ASSIST_ERROR_INVALID, "rider %u has been erased", rider);
      return NULL;
    }
  copy = g_strndup (text, n);

  c.a = a;
  c.rider = rider;
  c.text = copy;
  c.now = now;
  c.where = where;
  c.out = g_string_new (NULL);
  c.reply = g_new0 (FtAssistReply, 1);
  c.reply->handoff = -1;
  a->n_messages++;

  g_autoptr(FtAssistPending) p = ft_assist_pending_get (a, rider, now);
  int yn = p ? yes_no (copy) : -1;
  if (yn >= 0)
    {
      ft_assist_pending_clear (a, rider);
      c.reply->intent = FT_INTENT_OUT_OF_SCOPE;
      c.reply->confidence = 1.0;
      ft_intent_from_name (p->action == FT_ASSIST_ACTION_END_RIDE ? "cannot_end_ride"
                           : p->action == FT_ASSIST_ACTION_REFUND_REQUEST ? "refund_request"
                           : p->action == FT_ASSIST_ACTION_REPORT_DAMAGE ? "report_damage"
                           : p->action == FT_ASSIST_ACTION_ERASE_ACCOUNT ? "account_data"
                           : "payment_topup", &c.reply->intent);
      if (yn == 1)
        carry_out (&c, p);
      else
        {
          g_string_append (c.out, "All right, I have not done it.");
          c.reply->resolved = TRUE;
        }
    }
  else
    {
      if (p)
        ft_assist_pending_clear (a, rider);   /* a new question drops the offer */
      c.reply->intent = ft_intent_classify (copy, n, &c.reply->confidence, NULL);
      ft_assist_slots_extract (a, copy, now, &c.slots);
      if (n == 0 || strspn (copy, " \t\r\n") == n)
        {
          g_string_append (c.out, "Your message was empty. What can I help you with?");
          c.reply->intent = FT_INTENT_OUT_OF_SCOPE;
        }
      else if (c.reply->confidence < MIN_CONFIDENCE && c.reply->intent != FT_INTENT_OUT_OF_SCOPE)
        g_string_append_printf (c.out, "I am not sure I understood (perhaps %s?). Could you say it another "
                                "way, or say \"agent\" to reach a person?", ft_intent_name (c.reply->intent));
      else if (a->cfg.llm_url)
        ask_backend (&c);
      else
        dispatch (&c);
    }
  if (c.reply->resolved)
    a->n_resolved++;
  c.reply->text = g_string_free (c.out, FALSE);
  return c.reply;
}
