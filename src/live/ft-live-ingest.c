/* ft-live-ingest.c — the twin thread's ingest of vehicle messages: the
 * topic dispatcher (ft_live_ingest), telemetry, MDS events and status
 * applied to the fleet, unknown vehicles refused or provisioned
 * (rate-limited), the bounded log of refused messages, per-vehicle
 * bookkeeping (ordering, silence, downsampling) and the flush on stop.
 */
#include "ft-live-private.h"
#include "ft-json.h"

#include <string.h>
#include <stdio.h>
#include <errno.h>

/* ------------------------------------------------------ malformed ring */

void
ft_live_note_refused (FtLive *live, FtTime now, const char *topic, const char *fmt, ...) G_GNUC_PRINTF (4, 5);

void
ft_live_note_refused (FtLive *live, FtTime now, const char *topic, const char *fmt, ...)
{
  guint slot;
  if (live->ring_n < MALFORMED_RING)
    slot = (live->ring_start + live->ring_n++) % MALFORMED_RING;
  else
    {
      slot = live->ring_start;
      live->ring_start = (live->ring_start + 1) % MALFORMED_RING;
    }
  FtLiveMalformed *m = &live->ring[slot];
  m->t = now;
  /* topics come from the network: keep them printable */
  gsize i = 0;
  for (; topic && topic[i] && i < sizeof m->topic - 1; i++)
    m->topic[i] = g_ascii_isprint (topic[i]) ? topic[i] : '?';
  m->topic[i] = '\0';
  va_list ap;
  va_start (ap, fmt);
  g_vsnprintf (m->reason, sizeof m->reason, fmt, ap);
  va_end (ap);
  for (char *p = m->reason; *p; p++)
    if (!g_ascii_isprint (*p))
      *p = '?';
  /* The log is bounded too: one line per refusal for the first ones, then
   * one per thousand. */
  guint64 total = live->stats.malformed + live->stats.unknown_refused;
  if (total <= 20 || total % 1000 == 0)
    g_debug ("live: refused message on %s: %s (%" G_GUINT64_FORMAT " so far)",
             m->topic, m->reason, total);
}

const FtLiveMalformed *
ft_live_get_malformed (FtLive *live, guint *n_out)
{
  g_return_val_if_fail (live != NULL, NULL);
  /* make the ring contiguous (oldest first) */
  if (live->ring_start != 0)
    {
      FtLiveMalformed tmp[MALFORMED_RING];
      for (guint i = 0; i < live->ring_n; i++)
        tmp[i] = live->ring[(live->ring_start + i) % MALFORMED_RING];
      memcpy (live->ring, tmp, live->ring_n * sizeof tmp[0]);
      live->ring_start = 0;
    }
  if (n_out)
    *n_out = live->ring_n;
  return live->ring;
}

gboolean
ft_live_refuse (FtLive *live, FtTime now, const char *topic, GError **error,
        const char *reason)
{
  live->stats.malformed++;
  ft_live_note_refused (live, now, topic, "%s", reason);
  g_set_error (error, FT_LIVE_ERROR, FT_LIVE_ERROR_MALFORMED, "%s: %s",
               topic ? topic : "(no topic)", reason);
  return FALSE;
}

/* An unknown vehicle or staff id refused: counted, kept in the ring, and
 * told to the operator at most once every 10 s (with the running count). */
gboolean
ft_live_refuse_unknown (FtLive *live, FtTime now, const char *topic, GError **error, int code,
                const char *reason)
{
  live->stats.unknown_refused++;
  ft_live_note_refused (live, now, topic, "%s", reason);
  if (live->last_unknown_log == G_MININT64 || now - live->last_unknown_log >= 10 * FT_SECOND)
    {
      live->last_unknown_log = now;
      g_message ("live: refused %s: %s (%" G_GUINT64_FORMAT " unknown ids refused so far)",
                 live->ring[(live->ring_start + live->ring_n - 1) % MALFORMED_RING].topic, reason,
                 live->stats.unknown_refused);
    }
  g_set_error (error, FT_LIVE_ERROR, code, "%s: %s", topic ? topic : "(no topic)", reason);
  return FALSE;
}

/* Provisioning budget: a token bucket of provision_per_minute tokens that
 * refills continuously on the twin's clock. */
gboolean
ft_live_take_provision_token (FtLive *live, FtTime now)
{
  double cap = live->cfg.provision_per_minute;
  if (cap <= 0)
    return FALSE;
  if (live->prov_refill == G_MININT64)
    live->prov_tokens = cap;
  else if (now > live->prov_refill)
    live->prov_tokens = MIN (cap, live->prov_tokens + (double) (now - live->prov_refill) * cap / FT_MINUTE);
  live->prov_refill = MAX (now, live->prov_refill);
  if (live->prov_tokens < 1.0)
    {
      live->stats.provision_limited++;
      return FALSE;
    }
  live->prov_tokens -= 1.0;
  return TRUE;
}

/* ------------------------------------------------------- vehicle meta */

VehicleMeta *
ft_live_meta_for (FtLive *live, guint v)
{
  if (v >= live->n_meta)
    {
      guint n = MAX (v + 1, live->n_meta * 2);
      n = MAX (n, 64);
      live->meta = g_renew (VehicleMeta, live->meta, n);
      for (guint i = live->n_meta; i < n; i++)
        {
          VehicleMeta *m = &live->meta[i];
          memset (m, 0, sizeof *m);
          m->last_ts = -1;
          m->last_event_ts = -1;
          m->heard = G_MININT64;
          m->last_logged = G_MININT64;
          m->locked = -1;
          m->logged_locked = -1;
          m->logged_state = 0xff;
          m->last_speed = NAN;
          m->speed_cap = -1;
        }
      live->n_meta = n;
    }
  return &live->meta[v];
}

int
ft_live_vehicle_locked (FtLive *live, guint vehicle)
{
  g_return_val_if_fail (live != NULL, -1);
  return vehicle < live->n_meta ? live->meta[vehicle].locked : -1;
}

FtTime
ft_live_vehicle_last_ts (FtLive *live, guint vehicle)
{
  g_return_val_if_fail (live != NULL, -1);
  return vehicle < live->n_meta ? live->meta[vehicle].last_ts : -1;
}

/* ------------------------------------------------------ state changes */

/* Bring vehicle v to `target` the MDS way if there is one (hint first),
 * else take the device's word (forced) — the device is the authority in
 * live mode. A vehicle the booking module holds is left to booking. */
static void
sync_state (FtLive *live, guint v, FtVehicleState target, int hint, FtTime now)
{
  FtFleet *f = live->core->fleet;
  const FtVehicle *veh = ft_fleet_get_vehicle (f, v);
  if (veh->state == target || veh->booking >= 0)
    return;
  FtVehicleState to;
  if (hint >= 0 && ft_vehicle_transition (veh->state, (FtVehicleEventType) hint, &to) &&
      to == target)
    {
      if (ft_fleet_apply_event (f, v, (FtVehicleEventType) hint, now, NULL))
        return;
    }
  for (int e = 0; e < FT_N_VEVS; e++)
    if (e != FT_VEV_UNSPECIFIED &&
        ft_vehicle_transition (veh->state, (FtVehicleEventType) e, &to) && to == target)
      if (ft_fleet_apply_event (f, v, (FtVehicleEventType) e, now, NULL))
        return;
  /* no legal path: take the reported state as it is */
  FtVehicle copy = *veh;
  copy.state = target;
  copy.state_since = now;
  copy.last_event = hint >= 0 ? (FtVehicleEventType) hint : FT_VEV_UNSPECIFIED;
  ft_fleet_restore_vehicle (f, &copy);
  FtEvent ev = ft_event_init (FT_EV_VEHICLE_STATE, now);
  ev.vehicle = (gint32) v;
  ev.a = (gint32) copy.last_event;
  ev.b = target;
  ev.lat = copy.pos.lat;
  ev.lon = copy.pos.lon;
  ft_event_log_append (live->core->log, &ev);
  live->stats.forced_states++;
}

static void
set_soc (FtLive *live, guint v, double soc, FtTime now)
{
  FtFleet *f = live->core->fleet;
  soc = CLAMP (soc, 0.0, 1.0);
  const FtVehicle *veh = ft_fleet_get_vehicle (f, v);
  if (veh->pack < 0)
    {
      const FtVehicleType *t = ft_vehicle_type_default (veh->kind);
      ft_fleet_add_pack (f, t->pack_capacity_wh, soc, FT_PACK_IN_VEHICLE, (gint32) v, now, NULL);
      return;
    }
  const FtPack *p = ft_fleet_get_pack (f, (guint) veh->pack);
  if (fabs (p->soc - soc) < 1e-9)
    return;
  FtPack copy = *p;
  copy.soc = soc;
  ft_fleet_restore_pack (f, &copy);
}

static gboolean
valid_device_id (const char *id, gsize len)
{
  if (len == 0 || len > 36)
    return FALSE;
  for (gsize i = 0; i < len; i++)
    if (!(g_ascii_isalnum (id[i]) || id[i] == '-' || id[i] == '_'))
      return FALSE;
  return TRUE;
}

/* Find (or, by policy, register) the vehicle named in a topic. */
static gboolean
resolve_vehicle (FtLive *live, const char *topic, const char *id, const Fields *o,
                 gboolean may_register, FtLatLon pos, FtTime now, guint *v_out, GError **error)
{
  FtFleet *f = live->core->fleet;
  if (ft_fleet_lookup_device (f, id, v_out) || ft_fleet_lookup_name (f, id, v_out))
    return TRUE;
  const char *why = NULL;
  if (live->cfg.unknown == FT_LIVE_UNKNOWN_REFUSE)
    why = "unknown vehicle (provisioning of unknown vehicles is off)";
  else if (!ft_uuid_valid (id))
    why = "unknown vehicle and its id is not a UUID, so it cannot be provisioned";
  else if (!may_register)
    why = "unknown vehicle; it is provisioned by its first telemetry with a position";
  else if (!ft_live_take_provision_token (live, now))
    why = "unknown vehicle not provisioned: provisioning rate limit reached";
  if (why)
    return ft_live_refuse_unknown (live, now, topic, error, FT_LIVE_ERROR_UNKNOWN_VEHICLE, why);
  FtVehicleKind kind = FT_KIND_SCOOTER;
  gboolean bad = FALSE;
  const char *vt = o ? ft_live_fields_string (o, "vehicle_type", &bad) : NULL;
  if (vt)
    {
      if (!ft_vehicle_kind_from_id (vt, &kind))
        {
          if (g_str_has_prefix (vt, "bi") || strstr (vt, "bike"))
            kind = FT_KIND_BIKE;
          else if (strstr (vt, "moped"))
            kind = FT_KIND_MOPED;
          else
            kind = FT_KIND_SCOOTER;
        }
    }
  *v_out = ft_fleet_add_vehicle (f, kind, pos, id, now);
  live->stats.registered++;
  return TRUE;
}

/* Geofences on a ride, as in the simulator: where a zone caps the speed
 * (or may not be ridden through: no motor) the vehicle gets a speed_limit
 * command when the cap changes, and one lifting it when it leaves the zone
 * or the ride ends. Parking rules are booking's (ft_booking_end). */
static void
enforce_zone_rules (FtLive *live, guint v, VehicleMeta *m, FtTime now)
{
  const FtVehicle *veh = ft_fleet_get_vehicle (live->core->fleet, v);
  double want = -1;
  if (veh->state == FT_STATE_ON_TRIP)
    {
      gboolean through = TRUE;
      double cap = ft_booking_speed_cap_at (live->core->booking, v, veh->pos, &through);
      want = !through ? 0 : cap > 0 ? cap : -1;
    }
  if ((float) want == m->speed_cap)
    return;
  m->speed_cap = (float) want;
  ft_live_send_speed_limit (live, v, want, now, NULL);
}

static void
maybe_log_telemetry (FtLive *live, guint v, VehicleMeta *m, double speed_mps, FtTime now)
{
  const FtVehicle *veh = ft_fleet_get_vehicle (live->core->fleet, v);
  gboolean changed = m->logged_state != (guint8) veh->state || m->logged_locked != m->locked;
  if (isfinite (speed_mps))
    m->last_speed = (float) speed_mps;
  if (!changed && m->last_logged != G_MININT64 && now - m->last_logged < live->cfg.telemetry_every)
    {
      m->unlogged = TRUE;   /* downsampled: ft_live_flush writes it at the end */
      return;
    }
  FtEvent ev = ft_event_init (FT_EV_TELEMETRY, now);
  ev.vehicle = (gint32) v;
  ev.lat = veh->pos.lat;
  ev.lon = veh->pos.lon;
  ev.amount = (gint64) llround (ft_fleet_soc (live->core->fleet, v) * 1e4);
  ev.a = isfinite (speed_mps) ? (gint32) lround (speed_mps * 3.6) : 0;
  ev.b = m->locked;
  ft_event_log_append (live->core->log, &ev);
  m->last_logged = now;
  m->logged_state = (guint8) veh->state;
  m->logged_locked = m->locked;
  m->unlogged = FALSE;
  live->stats.telemetry_logged++;
}

/* Comms are back: leave `unknown` the MDS way, towards what the device says
 * (or the state it had before we lost it). */
static void
restore_comms (FtLive *live, guint v, VehicleMeta *m, int reported_state, FtTime now)
{
  const FtVehicle *veh = ft_fleet_get_vehicle (live->core->fleet, v);
  if (veh->state != FT_STATE_UNKNOWN)
    {
      m->comms_lost = FALSE;
      return;
    }
  if (reported_state < 0 && !m->comms_lost)
    return;    /* unknown for some other reason: only the device may say */
  FtVehicleState target = reported_state >= 0 ? (FtVehicleState) reported_state
                                              : (FtVehicleState) m->state_before_loss;
  if (target != FT_STATE_UNKNOWN)
    {
      sync_state (live, v, target, FT_VEV_COMMS_RESTORED, now);
      live->stats.comms_restored++;
    }
  m->comms_lost = FALSE;
}

void
ft_live_lose_comms (FtLive *live, guint v, VehicleMeta *m, FtTime now)
{
  const FtVehicle *veh = ft_fleet_get_vehicle (live->core->fleet, v);
  if (veh->state == FT_STATE_UNKNOWN || veh->state == FT_STATE_REMOVED || veh->booking >= 0)
    return;
  m->state_before_loss = (guint8) veh->state;
  sync_state (live, v, FT_STATE_UNKNOWN, FT_VEV_COMMS_LOST, now);
  if (ft_fleet_get_vehicle (live->core->fleet, v)->state == FT_STATE_UNKNOWN)
    {
      m->comms_lost = TRUE;
      live->stats.comms_lost++;
    }
}

/* ------------------------------------------------------------ ingest */

gboolean
ft_live_read_position (const Fields *o, PosField *p, const char **why)
{
  gboolean bad = FALSE;
  double lat = NAN, lon = NAN;
  gboolean hl = ft_live_fields_number (o, "lat", &lat, &bad);
  gboolean hn = ft_live_fields_number (o, "lon", &lon, &bad);
  if (!hn)
    hn = ft_live_fields_number (o, "lng", &lon, &bad);
  if (bad)
    {
      *why = "lat/lon must be finite numbers";
      return FALSE;
    }
  if (hl != hn)
    {
      *why = "lat and lon must come together";
      return FALSE;
    }
  p->has_pos = hl;
  if (hl)
    {
      if (lat < -90 || lat > 90 || lon < -180 || lon > 180)
        {
          *why = "lat/lon out of range (lat -90..90, lon -180..180)";
          return FALSE;
        }
      p->pos.lat = lat;
      p->pos.lon = lon;
    }
  return TRUE;
}

gboolean
ft_live_read_timestamp (FtLive *live, const Fields *o, FtTime now, FtTime *ts, const char **why)
{
  gboolean bad = FALSE;
  if (!ft_live_fields_int64 (o, "timestamp", ts, &bad))
    {
      *why = bad ? "timestamp must be an integer (milliseconds since 1970)"
                 : "timestamp missing";
      return FALSE;
    }
  if (*ts < 0)
    {
      *why = "timestamp is negative";
      return FALSE;
    }
  if (*ts > now + live->cfg.max_future)
    {
      *why = "timestamp is in the future beyond the allowed clock skew";
      return FALSE;
    }
  return TRUE;
}

static gboolean
read_state (const Fields *o, int *state, const char **why)
{
  gboolean bad = FALSE;
  const char *s = ft_live_fields_string (o, "vehicle_state", &bad);
  *state = -1;
  if (bad)
    {
      *why = "vehicle_state must be a string";
      return FALSE;
    }
  if (s)
    {
      FtVehicleState st;
      if (!ft_vehicle_state_from_name (s, &st))
        {
          *why = "vehicle_state is not an MDS vehicle state";
          return FALSE;
        }
      *state = st;
    }
  return TRUE;
}

static gboolean
ingest_telemetry (FtLive *live, const char *topic, const char *id, const Fields *o,
                  FtTime now, GError **error)
{
  const char *why = NULL;
  FtTime ts;
  PosField pf = { { 0, 0 }, FALSE };
  int state;
  FtLiveTelemetry t = { .sent_us = -1, .battery_pct = NAN, .range_m = NAN,
                        .speed_mps = NAN, .odometer_m = NAN, .locked = -1 };
  gboolean bad = FALSE;
  double d;
  gint64 i64;

  if (!ft_live_read_timestamp (live, o, now, &ts, &why) || !ft_live_read_position (o, &pf, &why) ||
      !read_state (o, &state, &why))
    return ft_live_refuse (live, now, topic, error, why);
  t.timestamp = ts;
  t.pos = pf.has_pos ? pf.pos : (FtLatLon) { NAN, NAN };
  if (ft_live_fields_number (o, "battery_pct", &d, &bad) ||
      ft_live_fields_number (o, "battery_percent", &d, &bad))
    {
      if (d < 0 || d > 100)
        return ft_live_refuse (live, now, topic, error, "battery_pct out of range 0..100");
      t.battery_pct = d;
    }
  if (ft_live_fields_number (o, "range_m", &d, &bad))
    {
      if (d < 0 || d > 1e6)
        return ft_live_refuse (live, now, topic, error, "range_m out of range 0..1000000");
      t.range_m = d;
    }
  if (ft_live_fields_number (o, "speed", &d, &bad))
    {
      if (d < 0 || d > 100)
        return ft_live_refuse (live, now, topic, error, "speed out of range 0..100 m/s");
      t.speed_mps = d;
    }
  if (ft_live_fields_number (o, "odometer_m", &d, &bad) ||
      ft_live_fields_number (o, "odometer", &d, &bad))
    {
      if (d < 0 || d > 1e10)
        return ft_live_refuse (live, now, topic, error, "odometer_m out of range 0..1e10");
      t.odometer_m = d;
    }
  if (ft_live_fields_int64 (o, "sent_us", &i64, &bad))
    t.sent_us = i64;
  gboolean locked;
  const char *lock_state = ft_live_fields_string (o, "lock_state", &bad);
  if (lock_state)
    {
      if (strcmp (lock_state, "locked") == 0)
        t.locked = 1;
      else if (strcmp (lock_state, "unlocked") == 0)
        t.locked = 0;
      else
        return ft_live_refuse (live, now, topic, error, "lock_state must be \"locked\" or \"unlocked\"");
    }
  else if (ft_live_fields_bool (o, "locked", &locked, &bad))
    t.locked = locked ? 1 : 0;
  guint32 faults = 0;
  gboolean has_faults = FALSE;
  int fk = ft_live_fields_kind (o, "fault_codes");
  if (fk != FV_NULL)
    {
      gint64 bits;
      has_faults = TRUE;
      if (fk == FV_ARR)
        {
          guint n = ft_live_fields_array_len (o, "fault_codes");
          if (n > 32)
            return ft_live_refuse (live, now, topic, error, "fault_codes has more than 32 entries");
          for (guint k = 0; k < n; k++)
            {
              gint64 code;
              if (!ft_live_fields_array_int (o, "fault_codes", k, &code) || code < 0 || code > 31)
                return ft_live_refuse (live, now, topic, error, "fault_codes entries must be integers 0..31");
              faults |= 1u << code;
            }
        }
      else if (fk == FV_INT && ft_live_fields_int64 (o, "fault_codes", &bits, &bad) &&
               bits >= 0 && bits <= G_MAXUINT32)
        faults = (guint32) bits;
      else
        return ft_live_refuse (live, now, topic, error,
                       "fault_codes must be an array of integers 0..31 or a bit mask");
    }
  if (bad)
    return ft_live_refuse (live, now, topic, error, "a telemetry field has the wrong type or is not finite");

  guint v;
  if (!resolve_vehicle (live, topic, id, o, pf.has_pos, pf.pos, now, &v, error))
    return FALSE;
  VehicleMeta *m = ft_live_meta_for (live, v);
  if (ts < m->last_ts)
    {
      live->stats.stale++;
      m->heard = now;
      return TRUE;
    }
  if (ts == m->last_ts)
    {
      live->stats.duplicates++;
      return TRUE;
    }
  m->last_ts = ts;
  m->heard = now;
  FtFleet *f = live->core->fleet;
  ft_fleet_touch (f, v, now);
  restore_comms (live, v, m, state, now);

  const FtVehicle *veh = ft_fleet_get_vehicle (f, v);
  if (pf.has_pos)
    {
      double add = 0;
      if (isfinite (t.odometer_m))
        add = t.odometer_m > veh->odometer_m ? t.odometer_m - veh->odometer_m : 0;
      else if (ft_latlon_valid (veh->pos))
        add = ft_distance_fast_m (veh->pos, pf.pos);
      if (add > 1e6)
        add = 0;   /* a jump, not a ride */
      if (pf.pos.lat != veh->pos.lat || pf.pos.lon != veh->pos.lon || add > 0)
        ft_fleet_set_position (f, v, pf.pos, add, now, FALSE);
    }
  if (isfinite (t.battery_pct))
    set_soc (live, v, t.battery_pct / 100.0, now);
  else if (isfinite (t.range_m))
    {
      veh = ft_fleet_get_vehicle (f, v);
      const FtVehicleType *vt = ft_vehicle_type_default (veh->kind);
      double cap = vt->pack_capacity_wh;
      if (veh->pack >= 0)
        {
          const FtPack *p = ft_fleet_get_pack (f, (guint) veh->pack);
          cap = p->capacity_wh * p->health;
        }
      if (cap > 0 && vt->wh_per_km > 0)
        set_soc (live, v, t.range_m / 1000.0 * vt->wh_per_km / cap, now);
    }
  if (has_faults && ft_fleet_get_vehicle (f, v)->fault_codes != faults)
    ft_fleet_report_faults (f, v, faults, now);
  if (t.locked >= 0)
    m->locked = (gint8) t.locked;
  if (state >= 0)
    sync_state (live, v, (FtVehicleState) state, -1, now);
  live->stats.telemetry++;
  live->stats.applied++;
  maybe_log_telemetry (live, v, m, t.speed_mps, now);
  enforce_zone_rules (live, v, m, now);
  if (live->tel_fn)
    live->tel_fn (live, v, &t, live->tel_data);
  return TRUE;
}

static gboolean
ingest_event (FtLive *live, const char *topic, const char *id, const Fields *o,
              FtTime now, GError **error)
{
  const char *why = NULL;
  FtTime ts;
  PosField pf = { { 0, 0 }, FALSE };
  int state;
  gboolean bad = FALSE;
  if (!ft_live_read_timestamp (live, o, now, &ts, &why) || !ft_live_read_position (o, &pf, &why) ||
      !read_state (o, &state, &why))
    return ft_live_refuse (live, now, topic, error, why);

  FtVehicleEventType evs[8];
  guint n_ev = 0;
  guint64 hash = (guint64) ts * 1000003u;
  if (ft_live_fields_kind (o, "event_types") == FV_ARR)
    {
      guint n = ft_live_fields_array_len (o, "event_types");
      if (n == 0 || n > G_N_ELEMENTS (evs))
        return ft_live_refuse (live, now, topic, error, "event_types must list 1..8 MDS event types");
      for (guint k = 0; k < n; k++)
        {
          const char *name = ft_live_fields_array_string (o, "event_types", k);
          if (name == NULL || !ft_vehicle_event_from_name (name, &evs[n_ev]))
            return ft_live_refuse (live, now, topic, error, "event_types has an entry that is not an MDS event type");
          hash = ft_mix64 (hash ^ evs[n_ev]);
          n_ev++;
        }
    }
  else
    {
      const char *one = ft_live_fields_string (o, "event_type", &bad);
      if (one == NULL || !ft_vehicle_event_from_name (one, &evs[0]))
        return ft_live_refuse (live, now, topic, error, "event_types missing or not an MDS event type");
      hash = ft_mix64 (hash ^ evs[0]);
      n_ev = 1;
    }
  const char *event_id = ft_live_fields_string (o, "event_id", &bad);
  if (bad)
    return ft_live_refuse (live, now, topic, error, "event_id must be a string");
  if (event_id)
    hash = ft_hash_string64 (event_id);
  double batt = NAN;
  if (ft_live_fields_number (o, "battery_pct", &batt, &bad) && (batt < 0 || batt > 100))
    return ft_live_refuse (live, now, topic, error, "battery_pct out of range 0..100");
  if (bad)
    return ft_live_refuse (live, now, topic, error, "an event field has the wrong type or is not finite");

  guint v;
  if (!resolve_vehicle (live, topic, id, o, pf.has_pos, pf.pos, now, &v, error))
    return FALSE;
  VehicleMeta *m = ft_live_meta_for (live, v);
  if (ts < m->last_event_ts)
    {
      live->stats.stale++;
      return TRUE;
    }
  if (ts == m->last_event_ts && hash == m->last_event_hash)
    {
      live->stats.duplicates++;
      return TRUE;
    }
  m->last_event_ts = ts;
  m->last_event_hash = hash;
  m->heard = now;
  FtFleet *f = live->core->fleet;
  ft_fleet_touch (f, v, now);
  if (pf.has_pos)
    ft_fleet_set_position (f, v, pf.pos, 0, now, FALSE);
  if (isfinite (batt))
    set_soc (live, v, batt / 100.0, now);
  if (ft_fleet_get_vehicle (f, v)->booking < 0)
    {
      for (guint k = 0; k < n_ev; k++)
        {
          FtVehicleState to;
          const FtVehicle *veh = ft_fleet_get_vehicle (f, v);
          if (evs[k] == FT_VEV_COMMS_RESTORED || veh->state == FT_STATE_UNKNOWN)
            m->comms_lost = FALSE;
          if (ft_vehicle_transition (veh->state, evs[k], &to))
            ft_fleet_apply_event (f, v, evs[k], now, NULL);
          else if (state < 0)
            ft_live_note_refused (live, now, topic, "%s is %s; %s has no MDS transition from there (ignored)",
                          veh->name, ft_vehicle_state_name (veh->state),
                          ft_vehicle_event_name (evs[k]));
        }
      if (state >= 0)
        sync_state (live, v, (FtVehicleState) state, evs[n_ev - 1], now);
    }
  live->stats.events++;
  live->stats.applied++;
  maybe_log_telemetry (live, v, m, NAN, now);
  return TRUE;
}

static gboolean
ingest_status (FtLive *live, const char *topic, const char *id, const Fields *o,
               const char *raw, FtTime now, GError **error)
{
  const char *st = NULL;
  gboolean bad = FALSE;
  FtTime ts = -1;
  if (o)
    {
      st = ft_live_fields_string (o, "status", &bad);
      gint64 t64;
      if (ft_live_fields_int64 (o, "timestamp", &t64, &bad))
        ts = t64;
    }
  else
    st = raw;
  if (bad || st == NULL || (strcmp (st, "online") != 0 && strcmp (st, "offline") != 0))
    return ft_live_refuse (live, now, topic, error, "status must be \"online\" or \"offline\"");
  guint v;
  FtFleet *f = live->core->fleet;
  if (!ft_fleet_lookup_device (f, id, &v) && !ft_fleet_lookup_name (f, id, &v))
    {
      /* status alone never registers a vehicle */
      live->stats.status++;
      return TRUE;
    }
  VehicleMeta *m = ft_live_meta_for (live, v);
  live->stats.status++;
  if (ts >= 0 && ts < m->last_ts)
    {
      live->stats.stale++;
      return TRUE;
    }
  if (strcmp (st, "offline") == 0)
    ft_live_lose_comms (live, v, m, now);
  live->stats.applied++;
  return TRUE;
}

gboolean
ft_live_ingest (FtLive *live, const char *topic, const void *payload, gsize len,
                FtTime now, GError **error)
{
  g_return_val_if_fail (live != NULL, FALSE);
  if (topic == NULL || !g_str_has_prefix (topic, live->prefix_slash))
    return ft_live_refuse (live, now, topic, error, "topic is outside the fleet prefix");
  if (payload == NULL && len > 0)
    return ft_live_refuse (live, now, topic, error, "no payload");
  if (len > MAX_PAYLOAD)
    return ft_live_refuse (live, now, topic, error, "payload larger than 64 KiB");

  /* <prefix>/{vehicles|staff}/<id>/<what>[/ack] */
  const char *rest = topic + live->prefix_len;
  const char *slash1 = strchr (rest, '/');
  if (slash1 == NULL)
    return ft_live_refuse (live, now, topic, error, "topic does not follow the contract");
  const char *id_start = slash1 + 1;
  const char *slash2 = strchr (id_start, '/');
  if (slash2 == NULL)
    return ft_live_refuse (live, now, topic, error, "topic has no message kind after the id");
  gsize id_len = slash2 - id_start;
  if (!valid_device_id (id_start, id_len))
    return ft_live_refuse (live, now, topic, error, "id in topic must be 1..36 of [A-Za-z0-9_-]");
  char id[40];
  memcpy (id, id_start, id_len);
  id[id_len] = '\0';
  const char *what = slash2 + 1;
  gboolean vehicles = (gsize) (slash1 - rest) == 8 && strncmp (rest, "vehicles", 8) == 0;
  gboolean staff = (gsize) (slash1 - rest) == 5 && strncmp (rest, "staff", 5) == 0;
  enum { K_TEL, K_EV, K_ACK, K_STATUS, K_STAFF, K_TASK_ACK, K_STOPS_ACK, K_STOP_PROGRESS } kind;
  if (vehicles && strcmp (what, "telemetry") == 0)
    kind = K_TEL;
  else if (vehicles && strcmp (what, "events") == 0)
    kind = K_EV;
  else if (vehicles && strcmp (what, "commands/ack") == 0)
    kind = K_ACK;
  else if (vehicles && strcmp (what, "status") == 0)
    kind = K_STATUS;
  else if (staff && (strcmp (what, "position") == 0 || strcmp (what, "task") == 0 ||
                     strcmp (what, "status") == 0))
    kind = K_STAFF;
  else if (staff && strcmp (what, "tasks/ack") == 0)
    kind = K_TASK_ACK;
  else if (staff && strcmp (what, "stops/v1/ack") == 0)
    kind = K_STOPS_ACK;
  else if (staff && strcmp (what, "stops/v1/progress") == 0)
    kind = K_STOP_PROGRESS;
  else
    return ft_live_refuse (live, now, topic, error, "topic does not follow the contract");

  /* NUL-terminated copy on the stack / heap for the plain-text checks */
  const char *text = payload;
  g_autofree char *copy = NULL;
  if (len == 0 || memchr (payload, '\0', len) != NULL)
    {
      if (len == 0)
        return ft_live_refuse (live, now, topic, error, "empty payload");
      return ft_live_refuse (live, now, topic, error, "payload contains NUL bytes (binary, not JSON)");
    }
  /* a bare status word; each compared only at its own length (a 6-byte
   * payload compared with "offline" read one byte past its end) */
  if (kind == K_STATUS &&
      ((len == 6 && memcmp (text, "online", 6) == 0) || (len == 7 && memcmp (text, "offline", 7) == 0)))
    {
      copy = g_strndup (text, len);
      return ingest_status (live, topic, id, NULL, copy, now, error);
    }
  if (!g_utf8_validate (text, (gssize) len, NULL))
    return ft_live_refuse (live, now, topic, error, "payload is not UTF-8 text");

  /* fast reader on our own copy (it NUL-terminates strings in place) */
  if (live->scratch_size < len + 1)
    {
      live->scratch_size = MAX (len + 1, 1024);
      live->scratch = g_realloc (live->scratch, live->scratch_size);
    }
  memcpy (live->scratch, text, len);
  live->scratch[len] = '\0';
  Fields *o = &live->fields;
  if (!ft_live_fields_parse (live->scratch, len, o))
    {
      if (ft_json_depth (text, len, MAX_JSON_DEPTH) > MAX_JSON_DEPTH)
        return ft_live_refuse (live, now, topic, error, "JSON nested too deeply");
      g_autoptr(GError) perr = NULL;
      if (!json_parser_load_from_data (live->parser, text, (gssize) len, &perr))
        {
          live->stats.malformed++;
          ft_live_note_refused (live, now, topic, "broken JSON: %s", perr->message);
          g_set_error (error, FT_LIVE_ERROR, FT_LIVE_ERROR_MALFORMED, "%s: broken JSON: %s",
                       topic, perr->message);
          return FALSE;
        }
      JsonNode *root = json_parser_get_root (live->parser);
      if (root == NULL || !JSON_NODE_HOLDS_OBJECT (root))
        return ft_live_refuse (live, now, topic, error, "payload must be a JSON object");
      o->o = json_node_get_object (root);
      o->n = 0;
    }
  gboolean bad = FALSE;
  const char *dev = ft_live_fields_string (o, "device_id", &bad);
  if (bad || (dev && strcmp (dev, id) != 0 && kind != K_STAFF && kind != K_STOP_PROGRESS &&
              kind != K_STOPS_ACK))
    return ft_live_refuse (live, now, topic, error, "device_id in payload does not match the topic");
  switch (kind)
    {
    case K_TEL:    return ingest_telemetry (live, topic, id, o, now, error);
    case K_EV:     return ingest_event (live, topic, id, o, now, error);
    case K_ACK:    return ft_live_ingest_ack (live, topic, id, o, now, error);
    case K_STATUS: return ingest_status (live, topic, id, o, NULL, now, error);
    case K_STAFF:  return ft_live_ingest_staff (live, topic, id, what, o, now, error);
    case K_TASK_ACK: return ft_live_ingest_task_ack (live, topic, id, o, now, error);
    case K_STOPS_ACK: return ft_live_ingest_stops_ack (live, topic, id, o, now, error);
    case K_STOP_PROGRESS: return ft_live_ingest_stop_progress (live, topic, id, o, now, error);
    default:       g_assert_not_reached ();
    }
  return FALSE;
}

/* ---------------------------------------------------------- staff etc */

guint
ft_live_flush (FtLive *live, FtTime now)
{
  g_return_val_if_fail (live != NULL, 0);
  guint n = 0;
  guint nv = MIN (ft_fleet_n_vehicles (live->core->fleet), live->n_meta);
  for (guint v = 0; v < nv; v++)
    {
      VehicleMeta *m = &live->meta[v];
      if (!m->unlogged)
        continue;
      m->last_logged = G_MININT64;       /* force it past the downsampling */
      maybe_log_telemetry (live, v, m, m->last_speed, now);
      n++;
    }
  for (guint i = 0; i < live->staff->len; i++)
    {
      FtLiveStaff *s = &g_array_index (live->staff, FtLiveStaff, i);
      if (s->unlogged)
        {
          ft_live_log_staff_moved (live, s, now);
          n++;
        }
    }
  return n;
}
