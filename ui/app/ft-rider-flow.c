/* ft-rider-flow.c — see ft-rider-flow.h. The steps go through the real
 * modules (accounts, booking, pricing); the flow keeps only the ids. */
#include "ft-rider-flow.h"
#include <math.h>

struct _FtRiderFlow {
  GObject parent_instance;
  /* written by the step on the twin thread, while the main thread waits */
  gint32       rider;
  gint64       booking;
  gint32       vehicle;
  FtLatLon     start;
  FtTime       hold_until;
  FtRiderState next;
  /* the ride to the marked point (simulation): the route, when it began,
   * how fast; only the twin thread touches them */
  FtLatLon    *route;
  double      *cum;          /* metres from the route's start to each point */
  guint        n_route;
  FtTime       ride_from;
  double       speed_mps;
  FtLatLon     dest;
  gint         riding_to;    /* atomic: a route is being ridden */
  /* main thread */
  FtRiderState state;
};

G_DEFINE_FINAL_TYPE (FtRiderFlow, ft_rider_flow, G_TYPE_OBJECT)

enum { PROP_0, PROP_STATE, N_PROPS };
static GParamSpec *properties[N_PROPS];

static void
ft_rider_flow_get_property (GObject *object, guint id, GValue *value, GParamSpec *pspec)
{
  if (id == PROP_STATE)
    g_value_set_int (value, FT_RIDER_FLOW (object)->state);
  else
    G_OBJECT_WARN_INVALID_PROPERTY_ID (object, id, pspec);
}

static void
clear_route (FtRiderFlow *self)
{
  g_clear_pointer (&self->route, g_free);
  g_clear_pointer (&self->cum, g_free);
  self->n_route = 0;
  g_atomic_int_set (&self->riding_to, 0);
}

static void
ft_rider_flow_finalize (GObject *object)
{
  clear_route (FT_RIDER_FLOW (object));
  G_OBJECT_CLASS (ft_rider_flow_parent_class)->finalize (object);
}

static void
ft_rider_flow_class_init (FtRiderFlowClass *klass)
{
  G_OBJECT_CLASS (klass)->get_property = ft_rider_flow_get_property;
  G_OBJECT_CLASS (klass)->finalize = ft_rider_flow_finalize;
  properties[PROP_STATE] = g_param_spec_int ("state", NULL, NULL, FT_RIDER_IDLE, FT_RIDER_RIDING, FT_RIDER_IDLE,
                                             G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  g_object_class_install_properties (G_OBJECT_CLASS (klass), N_PROPS, properties);
}

static void
ft_rider_flow_init (FtRiderFlow *self)
{
  self->rider = -1;
  self->booking = -1;
  self->vehicle = -1;
}

FtRiderFlow *
ft_rider_flow_new (void)
{
  return g_object_new (FT_TYPE_RIDER_FLOW, NULL);
}

FtRiderState
ft_rider_flow_get_state (FtRiderFlow *self)
{
  return self->state;
}

gint32
ft_rider_flow_get_vehicle (FtRiderFlow *self)
{
  return self->state == FT_RIDER_IDLE ? -1 : self->vehicle;
}

FtTime
ft_rider_flow_get_hold_until (FtRiderFlow *self)
{
  return self->hold_until;
}

gboolean
ft_rider_flow_can (FtRiderFlow *self, FtRiderStep step, gboolean has_point)
{
  switch (step)
    {
    case FT_RIDER_FIND:
    case FT_RIDER_RESERVE: return self->state == FT_RIDER_IDLE && has_point;
    case FT_RIDER_UNLOCK:  return self->state == FT_RIDER_RESERVED;
    case FT_RIDER_END:     return self->state == FT_RIDER_RIDING && has_point;
    }
  return FALSE;
}

static void
set_state (FtRiderFlow *self, FtRiderState s)
{
  self->next = s;
}

void
ft_rider_flow_commit (FtRiderFlow *self)
{
  if (self->next == self->state)
    return;
  self->state = self->next;
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_STATE]);
}

void
ft_rider_flow_reset (FtRiderFlow *self)
{
  self->rider = -1;
  self->booking = -1;
  self->vehicle = -1;
  clear_route (self);
  set_state (self, FT_RIDER_IDLE);
  ft_rider_flow_commit (self);
}

gboolean
ft_rider_flow_observe (FtRiderFlow *self, const FtFrame *frame)
{
  if (self->state != FT_RIDER_RESERVED || frame == NULL || self->vehicle < 0 ||
      (guint) self->vehicle >= frame->n_vehicles)
    return FALSE;
  if (frame->vehicles[self->vehicle].state == FT_STATE_RESERVED || frame->now < self->hold_until)
    return FALSE;
  self->booking = -1;
  set_state (self, FT_RIDER_IDLE);
  ft_rider_flow_commit (self);
  return TRUE;
}

/* Ends the booking at `at` after dist metres; the receipt, or why not. */
static char *
end_ride (FtRiderFlow *self, FtCore *core, FtTime now, FtLatLon at, double dist)
{
  g_autoptr(GError) error = NULL;
  FtPriceBreakdown price;
  if (!ft_booking_end (core->booking, self->booking, (guint) self->rider, at, dist, now, &price, &error))
    return g_markup_printf_escaped ("Cannot end here: %s", error->message);
  const FtBookingRec *rec = ft_booking_get (core->booking, self->booking);
  char trip_id[37];
  ft_booking_trip_id (core->booking, self->booking, trip_id);
  g_autofree char *t0 = ft_time_format (rec->unlocked_at), *t1 = ft_time_format (rec->ended_at);
  g_autofree char *unlock = ft_money_format (price.unlock, price.currency);
  g_autofree char *tm = ft_money_format (price.time, price.currency);
  g_autofree char *dm = ft_money_format (price.distance, price.currency);
  g_autofree char *total = ft_money_format (price.total, price.currency);
  self->booking = -1;
  clear_route (self);
  set_state (self, FT_RIDER_IDLE);
  return g_markup_printf_escaped (
      "<b>Receipt</b>\nTrip %s\n%s → %s, %.2f km\nUnlock %s\nTime %s\nDistance %s\n"
      "Zone ×%.2f · dynamic ×%.2f\n<b>Total %s</b>",
      trip_id, t0, t1, dist / 1000.0, unlock, tm, dm, price.zone_multiplier,
      price.dynamic_multiplier, total);
}

/* Starts the ride from where the vehicle is to `at` along the streets (a
 * straight line where the city has none) at the kind's cruise speed; the
 * vehicle then moves as simulated time passes (ft_rider_flow_advance) and
 * the trip ends when it arrives. */
static char *
ride_to (FtRiderFlow *self, FtCore *core, const FtCity *city, FtTime now, FtLatLon at)
{
  const FtVehicle *v = ft_fleet_get_vehicle (core->fleet, (guint) self->vehicle);
  clear_route (self);
  FtLatLon *pts = NULL;
  guint n = 0;
  FtRouter *r = city->graph.n_nodes > 1 ? ft_router_new (city) : NULL;
  double len = r ? ft_router_route (r, v->pos, at, &pts, &n) : -1;
  if (r)
    ft_router_free (r);
  if (len < 0 || n < 2)
    {
      g_free (pts);
      pts = g_new (FtLatLon, 2);
      pts[0] = v->pos;
      pts[1] = at;
      n = 2;
    }
  self->route = pts;
  self->n_route = n;
  self->cum = g_new (double, n);
  self->cum[0] = 0;
  for (guint i = 1; i < n; i++)
    self->cum[i] = self->cum[i - 1] + ft_distance_m (pts[i - 1], pts[i]);
  self->ride_from = now;
  self->speed_mps = MAX (ft_vehicle_type_default (v->kind)->cruise_speed_kph, 5.0) / 3.6;
  self->dest = at;
  g_atomic_int_set (&self->riding_to, 1);
  double total = self->cum[n - 1];
  return g_markup_printf_escaped ("Riding to the marked point: %.2f km, about %.0f simulated minutes. "
                                  "The trip ends when you arrive.", total / 1000.0,
                                  ceil (total / self->speed_mps / 60.0));
}

gboolean
ft_rider_flow_is_riding_to (FtRiderFlow *self)
{
  return g_atomic_int_get (&self->riding_to) != 0;
}

char *
ft_rider_flow_advance (FtRiderFlow *self, FtCore *core, FtTime now)
{
  if (!g_atomic_int_get (&self->riding_to) || self->booking < 0 || self->n_route < 2)
    return NULL;
  double d = MAX (0, (now - self->ride_from) / 1000.0 * self->speed_mps);
  double total = self->cum[self->n_route - 1];
  FtLatLon pos = self->dest;
  if (d < total)
    {
      guint i = 1;
      while (i < self->n_route - 1 && self->cum[i] < d)
        i++;
      double seg = self->cum[i] - self->cum[i - 1];
      double f = seg > 0 ? (d - self->cum[i - 1]) / seg : 1;
      pos.lat = self->route[i - 1].lat + f * (self->route[i].lat - self->route[i - 1].lat);
      pos.lon = self->route[i - 1].lon + f * (self->route[i].lon - self->route[i - 1].lon);
    }
  const FtVehicle *v = ft_fleet_get_vehicle (core->fleet, (guint) self->vehicle);
  double step = ft_distance_m (v->pos, pos);
  ft_fleet_set_position (core->fleet, (guint) self->vehicle, pos, step, now, FALSE);
  if (d < total)
    return NULL;
  g_atomic_int_set (&self->riding_to, 0);
  return end_ride (self, core, now, self->dest, total);
}

/* What a rider sees before booking vehicle v: the price of a reference
 * ride (10 minutes, 2 km) with the multipliers now in force, and the
 * relocation offer of the zone it stands in. */
static void
append_price_and_offer (GString *s, FtCore *core, const FtCity *city, guint v, FtTime now)
{
  const FtVehicle *veh = ft_fleet_get_vehicle (core->fleet, v);
  FtTripQuote q = { .minutes = 10, .km = 2, .start = veh->pos, .end = veh->pos, .at = now,
                    .vehicle_kind = veh->kind };
  FtPriceBreakdown p;
  if (ft_pricing_quote (core->pricing, &q, &p, NULL))
    {
      g_autofree char *total = ft_money_format (p.total, p.currency);
      double mult = p.zone_multiplier * p.dynamic_multiplier;
      g_string_append_printf (s, "  price now: %s for 10 min / 2 km%s", total,
                              fabs (mult - 1.0) > 1e-6 ? "" : " (no surge)");
      if (fabs (mult - 1.0) > 1e-6)
        g_string_append_printf (s, " (×%.2f: zone ×%.2f, dynamic ×%.2f)", mult, p.zone_multiplier,
                                p.dynamic_multiplier);
      g_string_append_c (s, '\n');
    }
  if (core->incentives && city)
    {
      int z = ft_city_zone_at (city, veh->pos);
      if (z >= 0 && ft_incentives_start_offered (core->incentives, z))
        {
          g_autofree char *reward = ft_money_format (ft_incentives_rules (core->incentives)->reward_minor,
                                                     p.currency[0] ? p.currency : "EUR");
          g_string_append_printf (s, "  offer: %s for starting here (this zone has too many vehicles)\n", reward);
        }
    }
}

/* Zones whose end is rewarded, for the rider to aim at. */
static void
append_end_offers (GString *s, FtCore *core, const FtCity *city)
{
  if (core->incentives == NULL || city == NULL)
    return;
  guint n = 0;
  GString *names = g_string_new (NULL);
  for (guint z = 0; z < city->n_zones; z++)
    if (ft_incentives_end_offered (core->incentives, (gint) z))
      {
        if (n < 4)
          g_string_append_printf (names, "%s%s", n ? ", " : "", city->zones[z].name ? city->zones[z].name : "?");
        n++;
      }
  if (n > 0)
    {
      g_autofree char *reward = ft_money_format (ft_incentives_rules (core->incentives)->reward_minor,
                                                 city->currency[0] ? city->currency : "EUR");
      g_string_append_printf (s, "Offer: %s for ending in %s%s (%u zones short of vehicles)\n", reward,
                              names->str, n > 4 ? "…" : "", n);
    }
  g_string_free (names, TRUE);
}

gint32
ft_rider_flow_ensure_account (FtRiderFlow *self, FtCore *core, FtTime now, GError **error)
{
  if (self->rider < 0)
    {
      gint r = ft_accounts_create (core->accounts, FT_ROLE_RIDER, "Rider view (you)", NULL, now, error);
      if (r < 0)
        return -1;
      self->rider = r;
    }
  return self->rider;
}

char *
ft_rider_flow_run (FtRiderFlow *self, FtRiderStep step, FtCore *core, const FtCity *city, FtTime now,
                   FtLatLon at)
{
  g_autoptr(GError) error = NULL;
  if (ft_rider_flow_ensure_account (self, core, now, &error) < 0)
    return g_markup_printf_escaped ("Cannot create your rider account: %s", error->message);
  switch (step)
    {
    case FT_RIDER_FIND:
    case FT_RIDER_RESERVE:
      {
        FtFindResult found[5];
        guint n = ft_booking_find (core->booking, at, 500, 1500, 0, found, 5);
        if (n == 0)
          return g_strdup ("No available vehicle within 500 m of the marked point.");
        if (step == FT_RIDER_FIND)
          {
            GString *s = g_string_new ("<b>Nearby</b>\n");
            for (guint i = 0; i < n; i++)
              {
                const FtVehicle *v = ft_fleet_get_vehicle (core->fleet, found[i].vehicle);
                g_string_append_printf (s, "%s (%s): %.0f m walk, %.1f km range\n", v->name,
                                        ft_vehicle_kind_id (v->kind), found[i].walk_m, found[i].range_m / 1000);
                append_price_and_offer (s, core, city, found[i].vehicle, now);
              }
            append_end_offers (s, core, city);
            return g_string_free (s, FALSE);
          }
        gint64 b = ft_booking_reserve (core->booking, (guint) self->rider, found[0].vehicle, now, &error);
        if (b < 0)
          return g_markup_printf_escaped ("Reservation refused: %s", error->message);
        self->booking = b;
        self->vehicle = (gint32) found[0].vehicle;
        self->start = ft_fleet_get_vehicle (core->fleet, found[0].vehicle)->pos;
        const FtBookingRec *rec = ft_booking_get (core->booking, b);
        self->hold_until = rec->hold_until;
        set_state (self, FT_RIDER_RESERVED);
        g_autofree char *until = ft_time_format (rec->hold_until);
        g_autofree char *head = g_markup_printf_escaped ("Reserved %s until %s (booking %" G_GINT64_FORMAT "): "
                                                         "%.0f simulated minutes to unlock it.\n"
                                                         "Price fixed now: zone ×%.2f · dynamic ×%.2f",
                                                         ft_fleet_get_vehicle (core->fleet, found[0].vehicle)->name,
                                                         until, b, (rec->hold_until - now) / (double) FT_MINUTE,
                                                         rec->shown_zone_mult, rec->shown_dyn_mult);
        return g_steal_pointer (&head);
      }
    case FT_RIDER_UNLOCK:
      if (self->booking < 0)
        return g_strdup ("Reserve a vehicle first.");
      if (!ft_booking_unlock (core->booking, self->booking, (guint) self->rider, now, &error))
        {
          set_state (self, FT_RIDER_IDLE);
          return g_markup_printf_escaped ("Unlock refused: %s", error->message);
        }
      set_state (self, FT_RIDER_RIDING);
      return g_strdup ("Unlocked — ride on. Mark your destination on the map and press End: you ride there as time runs, and the trip ends when you arrive.");
    case FT_RIDER_END:
      {
        if (self->booking < 0)
          return g_strdup ("You are not riding.");
        if (city != NULL)
          return ride_to (self, core, city, now, at);
        FtPriceBreakdown price;
        double dist = ft_distance_m (self->start, at) * 1.3;
        if (!ft_booking_end (core->booking, self->booking, (guint) self->rider, at, dist, now, &price, &error))
          return g_markup_printf_escaped ("Cannot end here: %s", error->message);
        const FtBookingRec *rec = ft_booking_get (core->booking, self->booking);
        char trip_id[37];
        ft_booking_trip_id (core->booking, self->booking, trip_id);
        g_autofree char *t0 = ft_time_format (rec->unlocked_at), *t1 = ft_time_format (rec->ended_at);
        g_autofree char *unlock = ft_money_format (price.unlock, price.currency);
        g_autofree char *tm = ft_money_format (price.time, price.currency);
        g_autofree char *dm = ft_money_format (price.distance, price.currency);
        g_autofree char *total = ft_money_format (price.total, price.currency);
        self->booking = -1;
        set_state (self, FT_RIDER_IDLE);
        return g_markup_printf_escaped (
            "<b>Receipt</b>\nTrip %s\n%s → %s, %.2f km\nUnlock %s\nTime %s\nDistance %s\n"
            "Zone ×%.2f · dynamic ×%.2f\n<b>Total %s</b>",
            trip_id, t0, t1, dist / 1000.0, unlock, tm, dm, price.zone_multiplier,
            price.dynamic_multiplier, total);
      }
    }
  return NULL;
}
