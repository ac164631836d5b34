/* test-live.c — unit tests of the live adapter without a broker: URL
 * parsing, the ingest path (telemetry, MDS events, ordering, duplicates,
 * unknown vehicles, malformed payloads, silence → unknown, downsampling,
 * staff), command bookkeeping (queue, ack, expiry), staff task assignment
 * (acks, progress into FtOps, refusals, expiry), operations on live state
 * (proposals, approval by role, stop lists, progress, restart), and a fuzz run of
 * hostile payloads that must never break an invariant.
 */
#include "ft-live.h"
#include "ft-live-private.h"
#include "ft-ops-value.h"

#include <check.h>
#include <glib/gstdio.h>
#include <math.h>
#include <string.h>
#include <stdio.h>

#define T0 ((FtTime) 1700000000000)
#define PFX "ft/test"
#define DEV "3f2a8c1e-6b7d-4e2f-9a1b-2c3d4e5f6a7b"

typedef struct {
  FtCore *core;
  FtLive *live;
  FtOps  *ops;
} Fx;

static FtLive *
make_live (FtCore *core, FtLiveUnknownPolicy pol)
{
  FtLiveConfig cfg;
  ft_live_config_init (&cfg);
  cfg.prefix = g_strdup (PFX);
  cfg.unknown = pol;
  cfg.provision_per_minute = 100000;   /* the rate limit has its own test */
  cfg.silent_after = 60 * FT_SECOND;
  cfg.telemetry_every = 30 * FT_SECOND;
  g_autoptr(GError) error = NULL;
  FtLive *live = ft_live_new (core, &cfg, &error);
  ck_assert_msg (live != NULL, "%s", error ? error->message : "");
  ft_live_config_clear (&cfg);
  return live;
}

static Fx
fx_new (FtLiveUnknownPolicy pol)
{
  FtCoreConfig cc;
  ft_core_config_init (&cc);
  Fx fx;
  fx.core = ft_core_new (&cc, NULL, NULL);
  fx.live = make_live (fx.core, pol);
  fx.ops = ft_ops_new (fx.core->fleet, fx.core->accounts, fx.core->log);
  ft_live_set_ops (fx.live, fx.ops);
  return fx;
}

static void
fx_free (Fx *fx)
{
  ft_live_free (fx->live);
  ft_ops_free (fx->ops);
  ft_core_free (fx->core);
}

static void
assert_valid (Fx *fx)
{
  g_autoptr(GError) error = NULL;
  ck_assert_msg (ft_core_check (fx->core, &error), "core: %s", error->message);
  ck_assert_msg (ft_live_check (fx->live, &error), "live: %s", error->message);
  ck_assert_msg (ft_ops_check (fx->ops, &error), "ops: %s", error->message);
}

static gboolean
staff_msg (Fx *fx, const char *staff, const char *what, const char *payload, FtTime now)
{
  g_autofree char *topic = g_strdup_printf (PFX "/staff/%s/%s", staff, what);
  return ft_live_ingest (fx->live, topic, payload, strlen (payload), now, NULL);
}

static char *
task_update (FtTime ts, const char *task_id, const char *status)
{
  return g_strdup_printf ("{\"timestamp\":%" G_GINT64_FORMAT ",\"task_id\":\"%s\",\"status\":\"%s\"}",
                          ts, task_id, status);
}

static gboolean
ingest (Fx *fx, const char *what, const char *dev, const char *payload, FtTime now)
{
  g_autofree char *topic = g_strdup_printf (PFX "/vehicles/%s/%s", dev, what);
  return ft_live_ingest (fx->live, topic, payload, strlen (payload), now, NULL);
}

static char *
tel (FtTime ts, double lat, double lon, double batt, const char *state)
{
  return g_strdup_printf ("{\"timestamp\":%" G_GINT64_FORMAT ",\"lat\":%.6f,\"lon\":%.6f,"
                          "\"battery_pct\":%.1f,\"speed\":3.5,\"vehicle_state\":\"%s\","
                          "\"lock_state\":\"locked\"}", ts, lat, lon, batt, state);
}

/* ------------------------------------------------------------------ URL */

START_TEST (test_url)
{
  FtLiveUrl u;
  g_autoptr(GError) error = NULL;
  ck_assert (ft_live_parse_url ("mqtt://localhost:1884", &u, &error));
  ck_assert_str_eq (u.host, "localhost");
  ck_assert_int_eq (u.port, 1884);
  ck_assert (!u.tls);
  ft_live_url_clear (&u);
  ck_assert (ft_live_parse_url ("mqtts://ops:s%40cret@broker.example.org", &u, &error));
  ck_assert (u.tls);
  ck_assert_int_eq (u.port, 8883);
  ck_assert_str_eq (u.username, "ops");
  ck_assert_str_eq (u.password, "s@cret");
  ft_live_url_clear (&u);
  ck_assert (ft_live_parse_url ("mqtt://[::1]:1999", &u, &error));
  ck_assert_str_eq (u.host, "::1");
  ck_assert_int_eq (u.port, 1999);
  ft_live_url_clear (&u);
  /* a password in a URL is never shown: redacted, and not in any error */
  struct { const char *url, *shown; } red[] = {
    { "mqtts://ops:s%40cret@broker.example.org:8883", "mqtts://ops:***@broker.example.org:8883" },
    { "mqtt://u:p@ss:w0rd@h:1", "mqtt://u:***@h:1" },
    { "mqtt://user@host", "mqtt://user@host" },
    { "mqtt://host:1883", "mqtt://host:1883" },
    { "mqtt://a:b@host/path@x", "mqtt://a:***@host/path@x" },
  };
  for (guint i = 0; i < G_N_ELEMENTS (red); i++)
    {
      g_autofree char *r = ft_live_url_redact (red[i].url);
      ck_assert_str_eq (r, red[i].shown);
    }
  const char *leaky[] = { "http://u:TopSecret1@x", "mqtt://u:TopSecret1@host:99999",
                          "mqtt://u:TopSecret1@", "mqtt://u:TopSecret1@[::1" };
  for (guint i = 0; i < G_N_ELEMENTS (leaky); i++)
    {
      g_clear_error (&error);
      ck_assert (!ft_live_parse_url (leaky[i], &u, &error));
      ck_assert_msg (strstr (error->message, "TopSecret1") == NULL, "%s", error->message);
      ck_assert_msg (strstr (error->message, "u:***@") != NULL, "%s", error->message);
    }
  const char *bad[] = { "http://x", "mqtt://", "mqtt://host:0", "mqtt://host:99999",
                        "mqtt://host:12ab", "", "mqtt://[::1" };
  for (guint i = 0; i < G_N_ELEMENTS (bad); i++)
    {
      g_clear_error (&error);
      ck_assert_msg (!ft_live_parse_url (bad[i], &u, &error), "accepted %s", bad[i]);
      ck_assert (g_error_matches (error, FT_LIVE_ERROR, FT_LIVE_ERROR_URL));
      ck_assert_ptr_null (u.host);
    }
}
END_TEST

START_TEST (test_bad_config)
{
  FtCoreConfig cc;
  ft_core_config_init (&cc);
  g_autoptr(FtCore) core = ft_core_new (&cc, NULL, NULL);
  FtLiveConfig cfg;
  ft_live_config_init (&cfg);
  g_autoptr(GError) error = NULL;
  cfg.prefix = g_strdup ("ft/#");
  ck_assert_ptr_null (ft_live_new (core, &cfg, &error));
  ck_assert (strstr (error->message, "prefix") != NULL);
  g_clear_error (&error);
  g_free (cfg.prefix);
  cfg.prefix = g_strdup ("ft");
  cfg.url = g_strdup ("mqtts://127.0.0.1:1");
  cfg.ca_file = g_strdup ("/nonexistent/ca.pem");
  ck_assert_ptr_null (ft_live_new (core, &cfg, &error));
  ck_assert (g_error_matches (error, FT_LIVE_ERROR, FT_LIVE_ERROR_TLS));
  ck_assert (strstr (error->message, "/nonexistent/ca.pem") != NULL);
  g_clear_error (&error);
  cfg.protocol = 4;
  ck_assert_ptr_null (ft_live_new (core, &cfg, &error));
  ft_live_config_clear (&cfg);
}
END_TEST

/* ------------------------------------------------------------ telemetry */

START_TEST (test_register_and_apply)
{
  Fx fx = fx_new (FT_LIVE_UNKNOWN_REGISTER);
  g_autofree char *p = tel (T0, 52.52, 13.40, 80.0, "available");
  ck_assert (ingest (&fx, "telemetry", DEV, p, T0 + 5));
  guint v;
  ck_assert (ft_fleet_lookup_device (fx.core->fleet, DEV, &v));
  const FtVehicle *veh = ft_fleet_get_vehicle (fx.core->fleet, v);
  ck_assert_double_eq_tol (veh->pos.lat, 52.52, 1e-9);
  ck_assert_double_eq_tol (veh->pos.lon, 13.40, 1e-9);
  ck_assert_double_eq_tol (ft_fleet_soc (fx.core->fleet, v), 0.80, 1e-9);
  ck_assert_int_eq (veh->state, FT_STATE_AVAILABLE);
  ck_assert_int_eq (ft_live_vehicle_locked (fx.live, v), 1);
  ck_assert_int_eq (ft_live_get_stats (fx.live)->registered, 1);
  /* newer: moves, drains, goes on trip */
  g_autofree char *p2 = tel (T0 + 1000, 52.521, 13.401, 79.0, "on_trip");
  ck_assert (ingest (&fx, "telemetry", DEV, p2, T0 + 1005));
  veh = ft_fleet_get_vehicle (fx.core->fleet, v);
  ck_assert_int_eq (veh->state, FT_STATE_ON_TRIP);
  ck_assert_double_eq_tol (veh->pos.lat, 52.521, 1e-9);
  ck_assert (veh->odometer_m > 100);
  ck_assert_double_eq_tol (ft_fleet_soc (fx.core->fleet, v), 0.79, 1e-9);
  assert_valid (&fx);
  fx_free (&fx);
}
END_TEST

/* Fault codes carried by telemetry reach the event log (FT_EV_VEHICLE_FAULT,
 * with the codes and the ones before), so predictive maintenance sees live
 * faults and repairs exactly as it sees simulated ones. */
START_TEST (test_fault_codes_logged)
{
  Fx fx = fx_new (FT_LIVE_UNKNOWN_REGISTER);
  g_autofree char *p = tel (T0, 52.52, 13.40, 80.0, "available");
  ck_assert (ingest (&fx, "telemetry", DEV, p, T0 + 5));
  guint v;
  ck_assert (ft_fleet_lookup_device (fx.core->fleet, DEV, &v));
  guint64 before = ft_event_log_count (fx.core->log, FT_EV_VEHICLE_FAULT);
  ft_event_log_drain (fx.core->log);
  g_autofree char *f = g_strdup_printf ("{\"timestamp\":%" G_GINT64_FORMAT ",\"lat\":52.52,\"lon\":13.40,"
                                        "\"vehicle_state\":\"non_operational\",\"fault_codes\":[2,5]}", T0 + 1000);
  ck_assert (ingest (&fx, "telemetry", DEV, f, T0 + 1005));
  ck_assert_uint_eq (ft_fleet_get_vehicle (fx.core->fleet, v)->fault_codes, (1u << 2) | (1u << 5));
  ck_assert_uint_eq (ft_event_log_count (fx.core->log, FT_EV_VEHICLE_FAULT), before + 1);
  guint n;
  const FtEvent *ev = ft_event_log_pending (fx.core->log, &n);
  gboolean seen = FALSE;
  for (guint i = 0; i < n; i++)
    if (ev[i].kind == FT_EV_VEHICLE_FAULT)
      {
        ck_assert_int_eq (ev[i].vehicle, (gint32) v);
        ck_assert_int_eq (ev[i].amount, (1 << 2) | (1 << 5));
        ck_assert_int_eq (ev[i].b, 0);
        ck_assert_int_eq (ev[i].t, T0 + 1005);
        seen = TRUE;
      }
  ck_assert (seen);
  /* the same codes again: no new event; cleared: one more */
  g_autofree char *same = g_strdup_printf ("{\"timestamp\":%" G_GINT64_FORMAT ",\"fault_codes\":[2,5]}", T0 + 2000);
  ck_assert (ingest (&fx, "telemetry", DEV, same, T0 + 2005));
  ck_assert_uint_eq (ft_event_log_count (fx.core->log, FT_EV_VEHICLE_FAULT), before + 1);
  g_autofree char *clear = g_strdup_printf ("{\"timestamp\":%" G_GINT64_FORMAT ",\"fault_codes\":[]}", T0 + 3000);
  ck_assert (ingest (&fx, "telemetry", DEV, clear, T0 + 3005));
  ck_assert_uint_eq (ft_event_log_count (fx.core->log, FT_EV_VEHICLE_FAULT), before + 2);
  ck_assert_uint_eq (ft_fleet_get_vehicle (fx.core->fleet, v)->fault_codes, 0);
  assert_valid (&fx);
  fx_free (&fx);
}
END_TEST

/* Shadow mode on live state: trips the devices report (not booked by the
 * twin) are the demand; ft_live_tick runs the shadow, which fits, predicts
 * each hour and scores the predictions as the hours pass. */
START_TEST (test_shadow_on_live_state)
{
  Fx fx = fx_new (FT_LIVE_UNKNOWN_REGISTER);
  const char *ids[] = { "west", "east" };
  const double zlat[] = { 52.52, 52.52 }, zlon[] = { 13.38, 13.42 };
  g_autoptr(GError) error = NULL;
  g_autoptr(FtZoning) zoning = ft_zoning_new (2, ids, zlat, zlon, &error);
  FtShadowConfig cfg;
  ft_shadow_config_init (&cfg);
  cfg.forecast = TRUE;
  cfg.kind = FT_FORECAST_MEAN;
  cfg.first_fit_days = 2;
  cfg.holdout_hours = 6;
  FtTime t0 = T0 - T0 % FT_HOUR;
  FtShadow *sh = ft_shadow_new (&cfg, zoning, fx.core->log, NULL, t0, &error);
  ck_assert_msg (sh != NULL, "%s", error ? error->message : "");
  ft_live_set_shadow (fx.live, sh);
  /* two devices, one per zone; the west one rides twice an hour, the east
   * one once, every hour for three days */
  const char *devs[] = { "3f2a8c1e-6b7d-4e2f-9a1b-2c3d4e5f6a70", "3f2a8c1e-6b7d-4e2f-9a1b-2c3d4e5f6a71" };
  for (guint h = 0; h < 72; h++)
    {
      FtTime base = t0 + (FtTime) h * FT_HOUR;
      for (guint d = 0; d < 2; d++)
        for (guint k = 0; k < (d == 0 ? 2u : 1u); k++)
          {
            FtTime ts = base + (FtTime) (k * 20 + 1) * FT_MINUTE + d * 1000;
            g_autofree char *on = tel (ts, zlat[d], zlon[d], 90.0, "on_trip");
            g_autofree char *off = tel (ts + 10 * FT_MINUTE, zlat[d], zlon[d] + 0.0001, 89.0, "available");
            ck_assert (ingest (&fx, "telemetry", devs[d], on, ts));
            ck_assert (ingest (&fx, "telemetry", devs[d], off, ts + 10 * FT_MINUTE));
          }
      ft_live_tick (fx.live, base + FT_HOUR);
    }
  FtShadowScores sc;
  ft_shadow_scores (sh, &sc);
  ck_assert_str_eq (sc.model, "forecast-mean");
  ck_assert_uint_gt (sc.predictions, 0);
  ck_assert_uint_gt (sc.scored, 20);
  /* the demand is exactly regular: the forecast is exact */
  ck_assert_msg (sc.rmse < 0.05, "RMSE %g", sc.rmse);
  ft_live_set_shadow (fx.live, NULL);
  ft_shadow_free (sh);
  assert_valid (&fx);
  fx_free (&fx);
}
END_TEST

START_TEST (test_order_and_duplicates)
{
  Fx fx = fx_new (FT_LIVE_UNKNOWN_REGISTER);
  g_autofree char *a = tel (T0 + 2000, 52.53, 13.41, 70.0, "available");
  g_autofree char *old = tel (T0 + 1000, 52.00, 13.00, 90.0, "removed");
  ck_assert (ingest (&fx, "telemetry", DEV, a, T0 + 3000));
  ck_assert (ingest (&fx, "telemetry", DEV, old, T0 + 3001));
  ck_assert (ingest (&fx, "telemetry", DEV, a, T0 + 3002));
  guint v;
  ck_assert (ft_fleet_lookup_device (fx.core->fleet, DEV, &v));
  const FtVehicle *veh = ft_fleet_get_vehicle (fx.core->fleet, v);
  ck_assert_double_eq_tol (veh->pos.lat, 52.53, 1e-9);       /* not backwards */
  ck_assert_int_eq (veh->state, FT_STATE_AVAILABLE);
  ck_assert_double_eq_tol (ft_fleet_soc (fx.core->fleet, v), 0.70, 1e-9);
  const FtLiveStats *s = ft_live_get_stats (fx.live);
  ck_assert_uint_eq (s->stale, 1);
  ck_assert_uint_eq (s->duplicates, 1);
  ck_assert_uint_eq (s->telemetry, 1);
  ck_assert_int_eq (ft_live_vehicle_last_ts (fx.live, v), T0 + 2000);
  assert_valid (&fx);
  fx_free (&fx);
}
END_TEST

START_TEST (test_unknown_refused)
{
  Fx fx = fx_new (FT_LIVE_UNKNOWN_REFUSE);
  g_autofree char *p = tel (T0, 52.52, 13.40, 80.0, "available");
  GError *error = NULL;
  g_autofree char *topic = g_strdup (PFX "/vehicles/" DEV "/telemetry");
  ck_assert (!ft_live_ingest (fx.live, topic, p, strlen (p), T0, &error));
  ck_assert (g_error_matches (error, FT_LIVE_ERROR, FT_LIVE_ERROR_UNKNOWN_VEHICLE));
  g_clear_error (&error);
  ck_assert_uint_eq (ft_fleet_n_vehicles (fx.core->fleet), 0);
  ck_assert_uint_eq (ft_live_get_stats (fx.live)->unknown_refused, 1);
  guint n;
  const FtLiveMalformed *m = ft_live_get_malformed (fx.live, &n);
  ck_assert_uint_eq (n, 1);
  ck_assert_str_eq (m[0].topic, topic);
  /* a known vehicle (by name) is accepted under the same policy */
  guint v = ft_fleet_add_vehicle (fx.core->fleet, FT_KIND_BIKE, (FtLatLon) { 52.5, 13.4 }, NULL, T0);
  const FtVehicle *veh = ft_fleet_get_vehicle (fx.core->fleet, v);
  ck_assert (ingest (&fx, "telemetry", veh->name, p, T0 + 1));
  g_autofree char *p2 = tel (T0 + 1, 52.6, 13.5, 50, "available");
  ck_assert (ingest (&fx, "telemetry", veh->device_id, p2, T0 + 2));
  ck_assert_double_eq_tol (ft_fleet_get_vehicle (fx.core->fleet, v)->pos.lat, 52.6, 1e-9);
  /* a non-UUID unknown id is never registered */
  Fx fy = fx_new (FT_LIVE_UNKNOWN_REGISTER);
  ck_assert (!ingest (&fy, "telemetry", "scooter-17", p, T0));
  ck_assert_uint_eq (ft_fleet_n_vehicles (fy.core->fleet), 0);
  fx_free (&fy);
  assert_valid (&fx);
  fx_free (&fx);
}
END_TEST

/* Refusal is the default for unknown vehicles and staff; provisioning is
 * opt-in, limited per minute, and only field-staff accounts speak as staff. */
START_TEST (test_provisioning)
{
  FtCoreConfig cc;
  ft_core_config_init (&cc);
  g_autoptr(FtCore) core = ft_core_new (&cc, NULL, NULL);
  FtLiveConfig cfg;
  ft_live_config_init (&cfg);             /* the defaults, as a client gets them */
  cfg.prefix = g_strdup (PFX);
  g_autoptr(FtLive) live = ft_live_new (core, &cfg, NULL);
  guint accounts0 = ft_accounts_n (core->accounts);
  for (guint i = 0; i < 200; i++)
    {
      char dev[37], topic[128], staff[128], payload[160];
      ft_uuid_from_words (0x1234 + i, 0x5678 * (i + 1), dev);
      g_snprintf (topic, sizeof topic, PFX "/vehicles/%s/telemetry", dev);
      g_snprintf (staff, sizeof staff, PFX "/staff/invented-%u/position", i);
      g_snprintf (payload, sizeof payload, "{\"timestamp\":%" G_GINT64_FORMAT ",\"lat\":52.5,\"lon\":13.4}",
                  T0 + i);
      g_autoptr(GError) e1 = NULL, e2 = NULL;
      ck_assert (!ft_live_ingest (live, topic, payload, strlen (payload), T0 + i, &e1));
      ck_assert (g_error_matches (e1, FT_LIVE_ERROR, FT_LIVE_ERROR_UNKNOWN_VEHICLE));
      ck_assert (!ft_live_ingest (live, staff, payload, strlen (payload), T0 + i, &e2));
      ck_assert (g_error_matches (e2, FT_LIVE_ERROR, FT_LIVE_ERROR_UNKNOWN_STAFF));
    }
  ck_assert_uint_eq (ft_fleet_n_vehicles (core->fleet), 0);
  ck_assert_uint_eq (ft_accounts_n (core->accounts), accounts0);
  ck_assert_uint_eq (ft_live_n_staff (live), 0);
  ck_assert_uint_eq (ft_live_get_stats (live)->unknown_refused, 400);
  /* a rider's account id is not a staff identity */
  gint rider = ft_accounts_create (core->accounts, FT_ROLE_RIDER, "Rita", NULL, T0, NULL);
  gint field = ft_accounts_create (core->accounts, FT_ROLE_FIELD, "Fred", NULL, T0, NULL);
  ck_assert_int_ge (rider, 0);
  g_autofree char *rtopic = g_strdup_printf (PFX "/staff/%s/position",
                                             ft_accounts_get (core->accounts, rider)->id);
  g_autofree char *ftopic = g_strdup_printf (PFX "/staff/%s/position",
                                             ft_accounts_get (core->accounts, field)->id);
  const char *pos = "{\"timestamp\":1700000001000,\"lat\":52.5,\"lon\":13.4}";
  ck_assert (!ft_live_ingest (live, rtopic, pos, strlen (pos), T0 + 1000, NULL));
  ck_assert (ft_live_ingest (live, ftopic, pos, strlen (pos), T0 + 1000, NULL));
  ck_assert_uint_eq (ft_live_n_staff (live), 1);
  ft_live_free (g_steal_pointer (&live));

  /* opted in: at most provision_per_minute a minute, vehicles and staff together */
  cfg.unknown = FT_LIVE_UNKNOWN_REGISTER;
  cfg.provision_per_minute = 10;
  live = ft_live_new (core, &cfg, NULL);
  ft_live_config_clear (&cfg);
  guint ok = 0;
  for (guint i = 0; i < 100; i++)
    {
      char dev[37], topic[128], payload[160];
      ft_uuid_from_words (0x9999 + i, 0x4242 * (i + 1), dev);
      if (i % 2)
        g_snprintf (topic, sizeof topic, PFX "/vehicles/%s/telemetry", dev);
      else
        g_snprintf (topic, sizeof topic, PFX "/staff/crew-%u/position", i);
      g_snprintf (payload, sizeof payload, "{\"timestamp\":%" G_GINT64_FORMAT ",\"lat\":52.5,\"lon\":13.4}",
                  T0 + 2000 + i);
      ok += ft_live_ingest (live, topic, payload, strlen (payload), T0 + 2000 + i, NULL);
    }
  ck_assert_uint_eq (ok, 10);
  const FtLiveStats *st = ft_live_get_stats (live);
  ck_assert_uint_eq (st->registered + st->staff_provisioned, 10);
  ck_assert_uint_eq (st->provision_limited, 90);
  /* a minute later the bucket is full again: 10 more, no more */
  ok = 0;
  for (guint i = 0; i < 30; i++)
    {
      char dev[37], topic[128], payload[160];
      ft_uuid_from_words (0x7777 + i, 0x3131 * (i + 1), dev);
      g_snprintf (topic, sizeof topic, PFX "/vehicles/%s/telemetry", dev);
      FtTime t = T0 + 2000 + FT_MINUTE + 100 + i;
      g_snprintf (payload, sizeof payload, "{\"timestamp\":%" G_GINT64_FORMAT ",\"lat\":52.5,\"lon\":13.4}", t);
      ok += ft_live_ingest (live, topic, payload, strlen (payload), t, NULL);
    }
  ck_assert_uint_eq (ok, 10);
  g_autoptr(GError) error = NULL;
  ck_assert_msg (ft_core_check (core, &error), "%s", error ? error->message : "");
  ck_assert_msg (ft_live_check (live, &error), "%s", error ? error->message : "");
}
END_TEST

START_TEST (test_malformed_counted)
{
  Fx fx = fx_new (FT_LIVE_UNKNOWN_REGISTER);
  g_autofree char *good = tel (T0, 52.52, 13.40, 80.0, "available");
  ck_assert (ingest (&fx, "telemetry", DEV, good, T0));
  const char *bad[] = {
    "{", "[]", "null", "{\"timestamp\":\"soon\",\"lat\":1,\"lon\":1}",
    "{\"timestamp\":1700000001000,\"lat\":91,\"lon\":1}",
    "{\"timestamp\":1700000001000,\"lat\":1}",
    "{\"timestamp\":1700000001000,\"lat\":1,\"lon\":1,\"battery_pct\":101}",
    "{\"timestamp\":1700000001000,\"lat\":1,\"lon\":1,\"vehicle_state\":\"flying\"}",
    "{\"timestamp\":1e400,\"lat\":1,\"lon\":1}",
    "{\"timestamp\":99999999999999,\"lat\":1,\"lon\":1}",   /* far future */
    "{\"timestamp\":1700000001000,\"lat\":1,\"lon\":1,\"device_id\":\"other\"}",
  };
  for (guint i = 0; i < G_N_ELEMENTS (bad); i++)
    ck_assert_msg (!ingest (&fx, "telemetry", DEV, bad[i], T0 + 10), "accepted %s", bad[i]);
  ck_assert_uint_eq (ft_live_get_stats (fx.live)->malformed, G_N_ELEMENTS (bad));
  guint v;
  ck_assert (ft_fleet_lookup_device (fx.core->fleet, DEV, &v));
  ck_assert_double_eq_tol (ft_fleet_get_vehicle (fx.core->fleet, v)->pos.lat, 52.52, 1e-9);
  ck_assert (!ft_live_ingest (fx.live, "other/vehicles/x/telemetry", "{}", 2, T0, NULL));
  ck_assert (!ft_live_ingest (fx.live, PFX "/vehicles/" DEV "/wheels", "{}", 2, T0, NULL));
  guint n;
  const FtLiveMalformed *m = ft_live_get_malformed (fx.live, &n);
  ck_assert_uint_eq (n, G_N_ELEMENTS (bad) + 2);
  ck_assert_str_eq (m[n - 1].topic, PFX "/vehicles/" DEV "/wheels");
  ck_assert (strlen (m[0].reason) > 0);
  assert_valid (&fx);
  fx_free (&fx);
}
END_TEST

START_TEST (test_events_and_status)
{
  Fx fx = fx_new (FT_LIVE_UNKNOWN_REGISTER);
  g_autofree char *p = tel (T0, 52.52, 13.40, 80.0, "available");
  ck_assert (ingest (&fx, "telemetry", DEV, p, T0));
  guint v;
  ck_assert (ft_fleet_lookup_device (fx.core->fleet, DEV, &v));
  guint64 state_events = ft_event_log_count (fx.core->log, FT_EV_VEHICLE_STATE);
  ck_assert (ingest (&fx, "events", DEV,
                     "{\"timestamp\":1700000001000,\"event_types\":[\"trip_start\"],"
                     "\"vehicle_state\":\"on_trip\"}", T0 + 1100));
  ck_assert_int_eq (ft_fleet_get_vehicle (fx.core->fleet, v)->state, FT_STATE_ON_TRIP);
  /* same event again: duplicate */
  ck_assert (ingest (&fx, "events", DEV,
                     "{\"timestamp\":1700000001000,\"event_types\":[\"trip_start\"],"
                     "\"vehicle_state\":\"on_trip\"}", T0 + 1200));
  ck_assert_uint_eq (ft_live_get_stats (fx.live)->duplicates, 1);
  ck_assert (ingest (&fx, "events", DEV,
                     "{\"timestamp\":1700000002000,\"event_types\":[\"trip_end\"],"
                     "\"vehicle_state\":\"available\",\"lat\":52.53,\"lon\":13.41}", T0 + 2100));
  ck_assert_int_eq (ft_fleet_get_vehicle (fx.core->fleet, v)->state, FT_STATE_AVAILABLE);
  ck_assert_uint_eq (ft_event_log_count (fx.core->log, FT_EV_VEHICLE_STATE), state_events + 2);
  ck_assert (!ingest (&fx, "events", DEV,
                      "{\"timestamp\":1700000003000,\"event_types\":[\"teleported\"]}", T0 + 3100));
  /* offline status → unknown, telemetry → back */
  ck_assert (ingest (&fx, "status", DEV, "offline", T0 + 4000));
  ck_assert_int_eq (ft_fleet_get_vehicle (fx.core->fleet, v)->state, FT_STATE_UNKNOWN);
  g_autofree char *p2 = tel (T0 + 5000, 52.53, 13.41, 78.0, "available");
  ck_assert (ingest (&fx, "telemetry", DEV, p2, T0 + 5000));
  ck_assert_int_eq (ft_fleet_get_vehicle (fx.core->fleet, v)->state, FT_STATE_AVAILABLE);
  ck_assert (!ingest (&fx, "status", DEV, "sleeping", T0 + 5100));
  assert_valid (&fx);
  fx_free (&fx);
}
END_TEST

START_TEST (test_silence_and_downsampling)
{
  Fx fx = fx_new (FT_LIVE_UNKNOWN_REGISTER);
  /* one vehicle chatty at 1 Hz for 2 min, one silent after the first */
  const char *dev2 = "0b7c7d36-1111-4222-8333-944455556666";
  g_autofree char *first = tel (T0, 52.50, 13.30, 60.0, "available");
  ck_assert (ingest (&fx, "telemetry", dev2, first, T0));
  guint64 tel0 = ft_event_log_count (fx.core->log, FT_EV_TELEMETRY);
  for (int s = 0; s <= 120; s++)
    {
      FtTime now = T0 + s * FT_SECOND;
      g_autofree char *p = tel (now, 52.52 + s * 1e-5, 13.40, 80.0 - s * 0.01, "available");
      ck_assert (ingest (&fx, "telemetry", DEV, p, now));
      ft_live_process (fx.live, now, 0);
    }
  guint v1, v2;
  ck_assert (ft_fleet_lookup_device (fx.core->fleet, DEV, &v1));
  ck_assert (ft_fleet_lookup_device (fx.core->fleet, dev2, &v2));
  ck_assert_int_eq (ft_fleet_get_vehicle (fx.core->fleet, v1)->state, FT_STATE_AVAILABLE);
  ck_assert_int_eq (ft_fleet_get_vehicle (fx.core->fleet, v2)->state, FT_STATE_UNKNOWN);
  ck_assert_uint_eq (ft_live_get_stats (fx.live)->comms_lost, 1);
  /* 121 samples over 120 s at one per 30 s: 5 stored for v1 */
  guint64 logged = ft_event_log_count (fx.core->log, FT_EV_TELEMETRY) - tel0;
  ck_assert_msg (logged >= 4 && logged <= 6, "logged %" G_GUINT64_FORMAT, logged);
  /* v2 speaks again: restored */
  g_autofree char *back = tel (T0 + 121 * FT_SECOND, 52.50, 13.30, 59.0, "available");
  ck_assert (ingest (&fx, "telemetry", dev2, back, T0 + 121 * FT_SECOND));
  ck_assert_int_eq (ft_fleet_get_vehicle (fx.core->fleet, v2)->state, FT_STATE_AVAILABLE);
  assert_valid (&fx);
  fx_free (&fx);
}
END_TEST

/* A clean stop keeps the last reported state: after ft_live_flush the
 * store holds the newest position / battery of every vehicle and not the
 * last downsampled one (1 Hz reports, one stored per 30 s). */
START_TEST (test_flush_on_stop)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *dir = g_dir_make_tmp ("ft-live-flush-XXXXXX", &error);
  ck_assert_msg (dir != NULL, "%s", error ? error->message : "");
  g_autofree char *db = g_build_filename (dir, "live.db", NULL);
  Fx fx = fx_new (FT_LIVE_UNKNOWN_REGISTER);
  ck_assert_msg (ft_core_attach_store (fx.core, db, NULL, &error), "%s", error ? error->message : "");
  ft_live_tick (fx.live, T0);
  for (int s = 0; s <= 14; s++)
    {
      FtTime now = T0 + s * FT_SECOND;
      g_autofree char *p = tel (now, 52.50 + s * 1e-4, 13.40, 90.0 - s, "available");
      ck_assert (ingest (&fx, "telemetry", DEV, p, now));
      g_autofree char *sp = g_strdup_printf ("{\"timestamp\":%" G_GINT64_FORMAT ",\"lat\":%.6f,\"lon\":13.3}",
                                             now, 52.40 + s * 1e-4);
      ck_assert (staff_msg (&fx, "van-1", "position", sp, now));
      ft_live_process (fx.live, now, 0);
      ck_assert (ft_core_maybe_commit (fx.core, now, &error));
    }
  FtTime end = T0 + 15 * FT_SECOND;
  guint flushed = ft_live_flush (fx.live, end);
  ck_assert_uint_ge (flushed, 1);
  ck_assert_uint_eq (ft_live_flush (fx.live, end), 0);     /* nothing left */
  ck_assert_msg (ft_core_detach_store (fx.core, &error), "%s", error ? error->message : "");
  fx_free (&fx);

  FtCoreConfig cc;
  ft_core_config_init (&cc);
  FtCore *again = ft_core_new (&cc, NULL, NULL);
  ck_assert_msg (ft_core_attach_store (again, db, NULL, &error), "%s", error ? error->message : "");
  guint v;
  ck_assert (ft_fleet_lookup_device (again->fleet, DEV, &v));
  const FtVehicle *veh = ft_fleet_get_vehicle (again->fleet, v);
  ck_assert_msg (fabs (veh->pos.lat - (52.50 + 14 * 1e-4)) < 1e-7,
                 "stored lat %.6f is not the last reported 52.5014", veh->pos.lat);
  ck_assert_double_eq_tol (ft_fleet_soc (again->fleet, v) * 100.0, 76.0, 0.01);
  ft_core_free (again);
  ck_assert (ft_store_remove_files (db, NULL));
  g_rmdir (dir);
}
END_TEST

/* Every outgoing payload is JSON whatever its strings hold: a client id
 * (hence command ids) with quotes, backslashes and control characters. */
START_TEST (test_outgoing_json)
{
  static const char *const ids[] = { "tw\"in", "back\\slash\\", "ctl\x01\x1f\n\t", "q\"\\\"\b\r" };
  FtCoreConfig cc;
  ft_core_config_init (&cc);
  for (guint k = 0; k < G_N_ELEMENTS (ids); k++)
    {
      g_autoptr(FtCore) core = ft_core_new (&cc, NULL, NULL);
      ft_fleet_add_vehicle (core->fleet, FT_KIND_SCOOTER, (FtLatLon) { 52.5, 13.4 }, DEV, T0);
      FtLiveConfig cfg;
      ft_live_config_init (&cfg);
      cfg.prefix = g_strdup (PFX);
      cfg.client_id = g_strdup (ids[k]);
      g_autoptr(GError) error = NULL;
      g_autoptr(FtLive) live = ft_live_new (core, &cfg, &error);
      ft_live_config_clear (&cfg);
      ck_assert_msg (live != NULL, "%s", error ? error->message : "");
      const char *cid = ft_live_send_command (live, 0, FT_CMD_UNLOCK, T0, 0, &error);
      ck_assert_ptr_nonnull (cid);
      ck_assert_msg (strstr (cid, ids[k]) != NULL, "command id %s lost the client id", cid);
      const FtLiveCommand *c = ft_live_get_command (live, cid);
      gsize len = 0;
      g_autofree char *text = ft_live_command_payload (c, T0, &len);
      ck_assert_uint_eq (len, strlen (text));
      g_autoptr(JsonParser) p = json_parser_new ();
      ck_assert_msg (json_parser_load_from_data (p, text, (gssize) len, &error),
                     "not JSON: %s (%s)", text, error ? error->message : "");
      JsonObject *o = json_node_get_object (json_parser_get_root (p));
      ck_assert_str_eq (json_object_get_string_member (o, "command_id"), cid);
      ck_assert_str_eq (json_object_get_string_member (o, "command"), "unlock");
      ck_assert_int_eq (json_object_get_int_member (o, "attempt"), 1);
      /* the same for a task assignment (staff id, device id, null target) */
      FtLiveAssignment a = { 0 };
      g_snprintf (a.id, sizeof a.id, "task-%s-1", ids[k]);
      g_strlcpy (a.staff_id, ids[k], sizeof a.staff_id);
      g_strlcpy (a.device_id, ids[k], sizeof a.device_id);
      a.task = 7;
      a.kind = FT_TASK_BATTERY_SWAP;
      a.target = (FtLatLon) { NAN, NAN };
      a.expires = T0 + 1000;
      g_autofree char *at = ft_live_assignment_payload (&a, T0, &len);
      ck_assert_msg (json_parser_load_from_data (p, at, (gssize) len, &error),
                     "not JSON: %s (%s)", at, error ? error->message : "");
      o = json_node_get_object (json_parser_get_root (p));
      ck_assert_str_eq (json_object_get_string_member (o, "command_id"), a.id);
      ck_assert_str_eq (json_object_get_string_member (o, "device_id"), ids[k]);
      ck_assert_str_eq (json_object_get_string_member (o, "task_id"), "task-7");
      ck_assert (json_object_get_null_member (o, "lat"));
    }
  /* a long multi-byte client id is cut at a character boundary */
  g_autoptr(FtCore) core = ft_core_new (&cc, NULL, NULL);
  ft_fleet_add_vehicle (core->fleet, FT_KIND_SCOOTER, (FtLatLon) { 52.5, 13.4 }, DEV, T0);
  FtLiveConfig cfg;
  ft_live_config_init (&cfg);
  cfg.prefix = g_strdup (PFX);
  cfg.client_id = g_strdup ("\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9");
  g_autoptr(FtLive) live = ft_live_new (core, &cfg, NULL);
  ft_live_config_clear (&cfg);
  const char *cid = ft_live_send_command (live, 0, FT_CMD_LOCK, T0, 0, NULL);
  ck_assert_msg (g_utf8_validate (cid, -1, NULL), "command id is not UTF-8");
}
END_TEST


/* Geofences on a ride (issue 21): a slow zone sends the vehicle its cap, a
 * zone that may not be ridden through sends 0 (no motor), leaving lifts it;
 * a vehicle not on a ride gets nothing. */
static char *
square_json (const char *type, FtLatLon c, const char *extra)
{
  FtLatLon a = ft_latlon_offset (c, -150, -150), b = ft_latlon_offset (c, 150, 150);
  return g_strdup_printf ("{\"type\":\"Feature\",\"properties\":{\"zone_type\":\"%s\"%s},\"geometry\":"
                          "{\"type\":\"Polygon\",\"coordinates\":[[[%.6f,%.6f],[%.6f,%.6f],[%.6f,%.6f],"
                          "[%.6f,%.6f],[%.6f,%.6f]]]}}", type, extra, a.lon, a.lat, b.lon, a.lat,
                          b.lon, b.lat, a.lon, b.lat, a.lon, a.lat);
}

static const FtLiveCommand *
last_command (Fx *fx, guint *n_out)
{
  guint n = 0;
  const FtLiveCommand *all = ft_live_get_commands (fx->live, &n);
  *n_out = n;
  return n ? &all[n - 1] : NULL;
}

START_TEST (test_zone_speed_limit)
{
  FtLatLon slow = { 52.521, 13.401 }, park = { 52.530, 13.401 };
  g_autofree char *f1 = square_json ("slow_ride", slow, ",\"maximum_speed_kph\":8");
  g_autofree char *f2 = square_json ("no_ride", park, "");
  g_autofree char *doc = g_strdup_printf ("{\"type\":\"FeatureCollection\",\"features\":[%s,%s]}", f1, f2);
  g_autoptr(GError) e = NULL;
  FtGeofences *g = ft_geofences_parse_policy (doc, -1, "policy.geojson", &e);
  ck_assert_msg (g != NULL, "%s", e ? e->message : "");
  FtCoreConfig cc;
  ft_core_config_init (&cc);
  Fx fx;
  fx.core = ft_core_new (&cc, g, NULL);
  fx.live = make_live (fx.core, FT_LIVE_UNKNOWN_REGISTER);
  fx.ops = ft_ops_new (fx.core->fleet, fx.core->accounts, fx.core->log);
  ft_live_set_ops (fx.live, fx.ops);
  guint n = 0;

  g_autofree char *p0 = tel (T0, slow.lat, slow.lon, 80, "available");
  ck_assert (ingest (&fx, "telemetry", DEV, p0, T0 + 5));
  ck_assert (last_command (&fx, &n) == NULL && n == 0);   /* not on a ride: nothing */
  g_autofree char *p1 = tel (T0 + 1000, slow.lat, slow.lon, 80, "on_trip");
  ck_assert (ingest (&fx, "telemetry", DEV, p1, T0 + 1005));
  const FtLiveCommand *c = last_command (&fx, &n);
  ck_assert (n == 1 && c->kind == FT_CMD_SPEED_LIMIT);
  ck_assert_double_eq (c->max_kph, 8);
  gsize len = 0;
  g_autofree char *text = ft_live_command_payload (c, T0, &len);
  g_autoptr(JsonParser) jp = json_parser_new ();
  ck_assert (json_parser_load_from_data (jp, text, (gssize) len, NULL));
  JsonObject *o = json_node_get_object (json_parser_get_root (jp));
  ck_assert_str_eq (json_object_get_string_member (o, "command"), "speed_limit");
  ck_assert_double_eq (json_object_get_double_member (o, "max_kph"), 8);
  /* the same zone again: no new command */
  g_autofree char *p2 = tel (T0 + 2000, slow.lat + 0.0002, slow.lon, 80, "on_trip");
  ck_assert (ingest (&fx, "telemetry", DEV, p2, T0 + 2005));
  last_command (&fx, &n);
  ck_assert_uint_eq (n, 1);
  /* into the no-ride zone: no motor */
  g_autofree char *p3 = tel (T0 + 3000, park.lat, park.lon, 79, "on_trip");
  ck_assert (ingest (&fx, "telemetry", DEV, p3, T0 + 3005));
  c = last_command (&fx, &n);
  ck_assert (n == 2 && c->kind == FT_CMD_SPEED_LIMIT);
  ck_assert_double_eq (c->max_kph, 0);
  /* out of every zone: lifted (max_kph null) */
  g_autofree char *p4 = tel (T0 + 4000, 52.510, 13.380, 79, "on_trip");
  ck_assert (ingest (&fx, "telemetry", DEV, p4, T0 + 4005));
  c = last_command (&fx, &n);
  ck_assert (n == 3 && c->max_kph < 0);
  g_autofree char *t4 = ft_live_command_payload (c, T0, &len);
  ck_assert (json_parser_load_from_data (jp, t4, (gssize) len, NULL));
  ck_assert (json_object_get_null_member (json_node_get_object (json_parser_get_root (jp)), "max_kph"));
  assert_valid (&fx);
  fx_free (&fx);
}
END_TEST

START_TEST (test_staff)
{
  Fx fx = fx_new (FT_LIVE_UNKNOWN_REGISTER);
  const char *pos = "{\"timestamp\":1700000000000,\"lat\":52.5,\"lon\":13.4}";
  ck_assert (ft_live_ingest (fx.live, PFX "/staff/van-3/position", pos, strlen (pos), T0, NULL));
  const char *task = "{\"timestamp\":1700000000500,\"task_id\":\"42\",\"status\":\"started\"}";
  ck_assert (ft_live_ingest (fx.live, PFX "/staff/van-3/task", task, strlen (task), T0, NULL));
  guint i;
  ck_assert (ft_live_lookup_staff (fx.live, "van-3", &i));
  const FtLiveStaff *s = ft_live_get_staff (fx.live, i);
  ck_assert_double_eq_tol (s->pos.lat, 52.5, 1e-9);
  ck_assert_str_eq (s->task_id, "42");
  ck_assert_str_eq (s->task_status, "started");
  ck_assert_int_ge (s->account, 0);
  ck_assert_uint_eq (ft_event_log_count (fx.core->log, FT_EV_STAFF_MOVED), 1);
  const char *bad = "{\"timestamp\":1700000000600,\"task_id\":42,\"status\":\"started\"}";
  ck_assert (!ft_live_ingest (fx.live, PFX "/staff/van-3/task", bad, strlen (bad), T0, NULL));
  assert_valid (&fx);
  fx_free (&fx);
}
END_TEST

/* ------------------------------------------------------------- commands */

START_TEST (test_commands_offline)
{
  Fx fx = fx_new (FT_LIVE_UNKNOWN_REGISTER);
  g_autofree char *p = tel (T0, 52.52, 13.40, 80.0, "available");
  ck_assert (ingest (&fx, "telemetry", DEV, p, T0));
  g_autoptr(GError) error = NULL;
  ck_assert_ptr_null (ft_live_send_command (fx.live, 99, FT_CMD_UNLOCK, T0, 0, &error));
  ck_assert (g_error_matches (error, FT_LIVE_ERROR, FT_LIVE_ERROR_UNKNOWN_VEHICLE));
  const char *id = ft_live_send_command (fx.live, 0, FT_CMD_LOCATE, T0, 10 * FT_SECOND, NULL);
  ck_assert_ptr_nonnull (id);
  g_autofree char *cid = g_strdup (id);
  ck_assert_int_eq (ft_live_get_command (fx.live, cid)->state, FT_CMD_QUEUED);
  ck_assert_uint_eq (ft_live_n_open_commands (fx.live), 1);
  /* an ack (as if delivered) closes it */
  g_autofree char *ack = g_strdup_printf ("{\"command_id\":\"%s\",\"result\":\"ok\",\"timestamp\":%"
                                          G_GINT64_FORMAT "}", cid, T0 + 500);
  ck_assert (ingest (&fx, "commands/ack", DEV, ack, T0 + 500));
  ck_assert_int_eq (ft_live_get_command (fx.live, cid)->state, FT_CMD_ACKED);
  ck_assert (ingest (&fx, "commands/ack", DEV, ack, T0 + 600));     /* duplicate ack */
  ck_assert_int_eq (ft_live_get_command (fx.live, cid)->state, FT_CMD_ACKED);
  /* ack from the wrong vehicle is refused */
  const char *id2 = ft_live_send_command (fx.live, 0, FT_CMD_ALARM, T0, 10 * FT_SECOND, NULL);
  g_autofree char *cid2 = g_strdup (id2);
  g_autofree char *ack2 = g_strdup_printf ("{\"command_id\":\"%s\",\"result\":\"ok\"}", cid2);
  ck_assert (!ingest (&fx, "commands/ack", "0b7c7d36-1111-4222-8333-944455556666", ack2, T0 + 700));
  /* never acked: expires */
  ft_live_process (fx.live, T0 + 11 * FT_SECOND, 0);
  const FtLiveCommand *c2 = ft_live_get_command (fx.live, cid2);
  ck_assert_int_eq (c2->state, FT_CMD_EXPIRED);
  ck_assert_uint_eq (c2->attempts, 0);
  ck_assert_uint_eq (ft_live_n_open_commands (fx.live), 0);
  assert_valid (&fx);
  ft_live_forget_commands (fx.live, T0 + 60 * FT_SECOND);
  guint n;
  ft_live_get_commands (fx.live, &n);
  ck_assert_uint_eq (n, 0);
  assert_valid (&fx);
  fx_free (&fx);
}
END_TEST

/* ----------------------------------------------------------- staff tasks */

/* The outbox holds what is in flight: commands and task assignments are
 * dropped once acked or expired (beyond a bounded history), so a long
 * session does not grow it. */
START_TEST (test_outbox_bounded)
{
  Fx fx = fx_new (FT_LIVE_UNKNOWN_REGISTER);
  g_autofree char *p = tel (T0, 52.52, 13.40, 20.0, "available");
  ck_assert (ingest (&fx, "telemetry", DEV, p, T0));
  const char *pos = "{\"timestamp\":1700000000000,\"lat\":52.5,\"lon\":13.4}";
  ck_assert (staff_msg (&fx, "van-9", "position", pos, T0));
  g_autoptr(GError) error = NULL;
  gint disp = ft_accounts_create (fx.core->accounts, FT_ROLE_DISPATCHER, "d", NULL, T0, &error);
  const guint N = 3000;
  guint max_len = 0;
  for (guint i = 0; i < N; i++)
    {
      FtTime now = T0 + i * 10;
      /* a command acked, a command left to expire, a task assigned and acked */
      g_autofree char *cid = g_strdup (ft_live_send_command (fx.live, 0, FT_CMD_LOCATE, now, 0, NULL));
      ft_live_send_command (fx.live, 0, FT_CMD_ALARM, now, 1000, NULL);
      g_autofree char *ack = g_strdup_printf ("{\"command_id\":\"%s\",\"result\":\"ok\"}", cid);
      ck_assert (ingest (&fx, "commands/ack", DEV, ack, now + 1));
      gint64 t = ft_ops_create (fx.ops, FT_TASK_DEPLOY, -1, (FtLatLon) { 52.5, 13.4 }, -1, 1, disp,
                                now, &error);
      ck_assert_msg (t >= 0, "%s", error ? error->message : "");
      g_autofree char *aid = g_strdup (ft_live_assign_task (fx.live, t, 0, disp, now, 0, &error));
      ck_assert_msg (aid != NULL, "%s", error ? error->message : "");
      g_autofree char *tack = g_strdup_printf ("{\"command_id\":\"%s\",\"result\":\"ok\"}", aid);
      ck_assert (staff_msg (&fx, "van-9", "tasks/ack", tack, now + 2));
      ft_live_tick (fx.live, now + 5);
      max_len = MAX (max_len, ft_live_outbox_length (fx.live));
    }
  ft_live_tick (fx.live, T0 + N * 10 + 2000);
  const FtLiveStats *st = ft_live_get_stats (fx.live);
  ck_assert_uint_eq (st->commands_acked, N);
  ck_assert_uint_eq (st->commands_expired, N);
  ck_assert_uint_eq (st->tasks_acked, N);
  ck_assert_uint_eq (ft_live_n_open_commands (fx.live), 0);
  ck_assert_uint_eq (ft_live_n_open_assignments (fx.live), 0);
  guint nc, na;
  ft_live_get_commands (fx.live, &nc);
  ft_live_get_assignments (fx.live, &na);
  printf ("outbox: %u commands and %u assignments closed; at most %u entries held, %u commands "
          "and %u assignments listed at the end\n", 2 * N, N, max_len, nc, na);
  ck_assert_uint_le (max_len, 2 * FT_LIVE_OUTBOX_HISTORY + 200);
  ck_assert_uint_le (nc, FT_LIVE_OUTBOX_HISTORY);
  ck_assert_uint_le (na, FT_LIVE_OUTBOX_HISTORY);
  ck_assert_uint_le (ft_live_outbox_length (fx.live), 2 * FT_LIVE_OUTBOX_HISTORY);
  assert_valid (&fx);
  fx_free (&fx);
}
END_TEST

START_TEST (test_staff_tasks)
{
  Fx fx = fx_new (FT_LIVE_UNKNOWN_REGISTER);
  g_autofree char *p = tel (T0, 52.52, 13.40, 20.0, "available");
  ck_assert (ingest (&fx, "telemetry", DEV, p, T0));
  const char *pos = "{\"timestamp\":1700000000000,\"lat\":52.5,\"lon\":13.4}";
  ck_assert (staff_msg (&fx, "van-3", "position", pos, T0));
  ck_assert (staff_msg (&fx, "van-4", "position", pos, T0));
  g_autoptr(GError) error = NULL;
  gint disp = ft_accounts_create (fx.core->accounts, FT_ROLE_DISPATCHER, "d", NULL, T0, &error);
  ck_assert_int_ge (disp, 0);
  gint64 t = ft_ops_create (fx.ops, FT_TASK_BATTERY_SWAP, 0, (FtLatLon) { 0, 0 }, -1, 7, disp, T0, &error);
  ck_assert_int_ge (t, 0);

  /* refused assignments leave the task open */
  ft_live_set_ops (fx.live, NULL);
  ck_assert_ptr_null (ft_live_assign_task (fx.live, t, 0, disp, T0, 0, &error));
  ck_assert (g_error_matches (error, FT_LIVE_ERROR, FT_LIVE_ERROR_NO_TASK_QUEUE));
  g_clear_error (&error);
  ft_live_set_ops (fx.live, fx.ops);
  ck_assert_ptr_null (ft_live_assign_task (fx.live, t, 7, disp, T0, 0, &error));
  ck_assert (g_error_matches (error, FT_LIVE_ERROR, FT_LIVE_ERROR_UNKNOWN_STAFF));
  g_clear_error (&error);
  ck_assert_ptr_null (ft_live_assign_task (fx.live, 99, 0, disp, T0, 0, &error));
  ck_assert (g_error_matches (error, FT_OPS_ERROR, FT_OPS_ERROR_NO_SUCH_TASK));
  g_clear_error (&error);
  ck_assert_int_eq (ft_ops_get (fx.ops, t)->state, FT_TASK_OPEN);

  guint van3;
  ck_assert (ft_live_lookup_staff (fx.live, "van-3", &van3));
  const char *id = ft_live_assign_task (fx.live, t, van3, disp, T0, 20 * FT_SECOND, &error);
  ck_assert_msg (id != NULL, "%s", error ? error->message : "");
  g_autofree char *cid = g_strdup (id);
  const FtLiveAssignment *a = ft_live_get_assignment (fx.live, cid);
  ck_assert_int_eq (a->state, FT_CMD_QUEUED);   /* not connected */
  ck_assert_int_eq (a->task, t);
  ck_assert_str_eq (a->device_id, DEV);
  ck_assert_double_eq_tol (a->target.lat, 52.52, 1e-6);
  ck_assert_int_eq (ft_ops_get (fx.ops, t)->state, FT_TASK_ASSIGNED);
  ck_assert_uint_eq (ft_live_n_open_assignments (fx.live), 1);
  ck_assert_ptr_eq (ft_live_find_assignment (fx.live, t), a);

  /* malformed / unknown task messages: refused, counted, logged, nothing moves */
  g_autofree char *tid = g_strdup_printf ("task-%" G_GINT64_FORMAT, t);
  g_autofree char *ack_other = g_strdup_printf ("{\"command_id\":\"%s\",\"result\":\"ok\"}", cid);
  g_autofree char *ack_bad = g_strdup_printf ("{\"command_id\":\"%s\",\"result\":\"maybe\"}", cid);
  g_autofree char *u_other = task_update (T0 + 100, tid, "in_progress");
  g_autofree char *u_unknown = task_update (T0 + 100, "task-999", "done");
  g_autofree char *u_badid = task_update (T0 + 100, "task-1x", "done");
  g_autofree char *u_badst = task_update (T0 + 100, tid, "flying");
  g_autofree char *u_ghost = task_update (T0 + 100, tid, "done");
  g_autofree char *u_future = task_update (T0 + 3600 * FT_SECOND, tid, "done");
  struct { const char *staff, *what, *payload; } bad[] = {
    { "van-4", "tasks/ack", ack_other },
    { "van-3", "tasks/ack", ack_bad },
    { "van-3", "tasks/ack", "{\"command_id\":\"task-nope-1\",\"result\":\"ok\"}" },
    { "van-3", "tasks/ack", "{\"result\":\"ok\"}" },
    { "van-3", "tasks/ack", "{\"command_id\":5,\"result\":\"ok\"}" },
    { "van-4", "task", u_other },
    { "van-3", "task", u_unknown },
    { "van-3", "task", u_badid },
    { "van-3", "task", u_badst },
    { "ghost", "task", u_ghost },
    { "van-3", "task", u_future },
    { "van-3", "task", "{\"timestamp\":1700000000100,\"task_id\":\"task-0\"}" },
    { "van-3", "tasks", "{\"timestamp\":1700000000100}" },   /* twin → staff only */
  };
  const FtLiveStats *st = ft_live_get_stats (fx.live);
  guint64 refused0 = st->task_refused, malformed0 = st->malformed;
  guint nstaff = ft_live_n_staff (fx.live);
  for (guint i = 0; i < G_N_ELEMENTS (bad); i++)
    ck_assert_msg (!staff_msg (&fx, bad[i].staff, bad[i].what, bad[i].payload, T0 + 100),
                   "accepted bad message %u", i);
  ck_assert_uint_eq (st->malformed - malformed0, G_N_ELEMENTS (bad));
  ck_assert_uint_ge (st->task_refused - refused0, G_N_ELEMENTS (bad) - 2);
  ck_assert_uint_eq (ft_live_n_staff (fx.live), nstaff);   /* "ghost" not registered */
  ck_assert_int_eq (ft_ops_get (fx.ops, t)->state, FT_TASK_ASSIGNED);
  ck_assert_int_eq (ft_live_get_assignment (fx.live, cid)->state, FT_CMD_QUEUED);
  guint nm;
  const FtLiveMalformed *m = ft_live_get_malformed (fx.live, &nm);
  ck_assert (strstr (m[nm - 1].topic, "staff/van-3/tasks") != NULL);
  assert_valid (&fx);

  /* the ack closes the assignment; progress moves the task */
  g_autofree char *ack = g_strdup_printf ("{\"command_id\":\"%s\",\"result\":\"ok\",\"timestamp\":%"
                                          G_GINT64_FORMAT "}", cid, T0 + 200);
  ck_assert (staff_msg (&fx, "van-3", "tasks/ack", ack, T0 + 200));
  a = ft_live_get_assignment (fx.live, cid);
  ck_assert_int_eq (a->state, FT_CMD_ACKED);
  ck_assert_uint_eq (ft_live_n_open_assignments (fx.live), 0);
  ck_assert (staff_msg (&fx, "van-3", "tasks/ack", ack, T0 + 250));   /* duplicate: fine */
  g_autofree char *u1 = task_update (T0 + 300, tid, "accepted");
  g_autofree char *u2 = task_update (T0 + 1000, tid, "in_progress");
  g_autofree char *u2old = task_update (T0 + 900, tid, "in_progress");
  g_autofree char *u3 = task_update (T0 + 5000, tid, "done");
  g_autofree char *u4 = task_update (T0 + 6000, tid, "failed");
  ck_assert (staff_msg (&fx, "van-3", "task", u1, T0 + 300));
  ck_assert_int_eq (ft_ops_get (fx.ops, t)->state, FT_TASK_ASSIGNED);
  ck_assert_str_eq (a->progress, "accepted");
  ck_assert (staff_msg (&fx, "van-3", "task", u2, T0 + 1000));
  ck_assert_int_eq (ft_ops_get (fx.ops, t)->state, FT_TASK_IN_PROGRESS);
  ck_assert_int_eq (ft_ops_get (fx.ops, t)->started_at, T0 + 1000);
  guint64 stale0 = st->stale;
  ck_assert (staff_msg (&fx, "van-3", "task", u2old, T0 + 1100));
  ck_assert_uint_eq (st->stale, stale0 + 1);
  guint done0 = ft_event_log_count (fx.core->log, FT_EV_TASK_DONE);
  ck_assert (staff_msg (&fx, "van-3", "task", u3, T0 + 5000));
  ck_assert_int_eq (ft_ops_get (fx.ops, t)->state, FT_TASK_DONE);
  ck_assert_uint_eq (ft_event_log_count (fx.core->log, FT_EV_TASK_DONE), done0 + 1);
  ck_assert_str_eq (a->progress, "done");
  ck_assert (staff_msg (&fx, "van-3", "task", u3, T0 + 5100));       /* duplicate */
  ck_assert (!staff_msg (&fx, "van-3", "task", u4, T0 + 6000));      /* failed after done */
  ck_assert_int_eq (ft_ops_get (fx.ops, t)->state, FT_TASK_DONE);
  ck_assert_uint_eq (ft_event_log_count (fx.core->log, FT_EV_TASK_DONE), done0 + 1);
  ck_assert_uint_eq (st->task_updates, 3);
  guint i3;
  ck_assert (ft_live_lookup_staff (fx.live, "van-3", &i3));
  ck_assert_str_eq (ft_live_get_staff (fx.live, i3)->task_status, "done");
  assert_valid (&fx);

  /* never acked: expires, and the task goes back to open */
  gint64 t2 = ft_ops_create (fx.ops, FT_TASK_BATTERY_SWAP, 0, (FtLatLon) { 0, 0 }, -1, 7, disp, T0, &error);
  ck_assert_int_ge (t2, 0);
  g_autofree char *cid2 = g_strdup (ft_live_assign_task (fx.live, t2, van3, disp, T0 + 6000, 10 * FT_SECOND, NULL));
  ft_live_process (fx.live, T0 + 17 * FT_SECOND, 0);
  ck_assert_int_eq (ft_live_get_assignment (fx.live, cid2)->state, FT_CMD_EXPIRED);
  ck_assert_int_eq (ft_ops_get (fx.ops, t2)->state, FT_TASK_OPEN);
  ck_assert_uint_eq (st->tasks_expired, 1);
  /* refused by the staff: failed with the reason, task open again */
  g_autofree char *cid3 = g_strdup (ft_live_assign_task (fx.live, t2, van3, disp, T0 + 18 * FT_SECOND, 0, NULL));
  g_autofree char *nack = g_strdup_printf ("{\"command_id\":\"%s\",\"result\":\"failed\",\"reason\":\"van full\"}", cid3);
  ck_assert (staff_msg (&fx, "van-3", "tasks/ack", nack, T0 + 19 * FT_SECOND));
  ck_assert_int_eq (ft_live_get_assignment (fx.live, cid3)->state, FT_CMD_FAILED);
  ck_assert_str_eq (ft_live_get_assignment (fx.live, cid3)->detail, "van full");
  ck_assert_int_eq (ft_ops_get (fx.ops, t2)->state, FT_TASK_OPEN);
  /* reassignment supersedes an open message */
  guint van4;
  ck_assert (ft_live_lookup_staff (fx.live, "van-4", &van4));
  g_autofree char *cid4 = g_strdup (ft_live_assign_task (fx.live, t2, van3, disp, T0 + 20 * FT_SECOND, 0, NULL));
  g_autofree char *cid5 = g_strdup (ft_live_assign_task (fx.live, t2, van4, disp, T0 + 21 * FT_SECOND, 0, NULL));
  ck_assert_int_eq (ft_live_get_assignment (fx.live, cid4)->state, FT_CMD_FAILED);
  ck_assert_int_eq (ft_live_get_assignment (fx.live, cid5)->state, FT_CMD_QUEUED);
  ck_assert_ptr_eq (ft_live_find_assignment (fx.live, t2), ft_live_get_assignment (fx.live, cid5));
  g_autofree char *tid2 = g_strdup_printf ("task-%" G_GINT64_FORMAT, t2);
  g_autofree char *u5 = task_update (T0 + 22 * FT_SECOND, tid2, "in_progress");
  ck_assert (!staff_msg (&fx, "van-3", "task", u5, T0 + 22 * FT_SECOND));   /* not van-3's any more */
  ck_assert (staff_msg (&fx, "van-4", "task", u5, T0 + 22 * FT_SECOND));
  ck_assert_int_eq (ft_ops_get (fx.ops, t2)->state, FT_TASK_IN_PROGRESS);
  ck_assert_int_eq (ft_live_get_assignment (fx.live, cid5)->state, FT_CMD_ACKED);
  ck_assert_uint_eq (ft_live_n_open_assignments (fx.live), 0);
  assert_valid (&fx);
  fx_free (&fx);
}
END_TEST

/* ------------------------------------------------- operations on live state */

#define DEV2 "3f2a8c1e-6b7d-4e2f-9a1b-2c3d4e5f6a7c"
#define DEV3 "3f2a8c1e-6b7d-4e2f-9a1b-2c3d4e5f6a7d"

static char *
progress (FtTime ts, const char *task_id, const char *status)
{
  return g_strdup_printf ("{\"version\":1,\"timestamp\":%" G_GINT64_FORMAT ",\"task_id\":\"%s\","
                          "\"status\":\"%s\"}", ts, task_id, status);
}

static void
ops_world (Fx *fx)
{
  FtLiveOpsConfig oc;
  ft_live_ops_config_init (&oc);
  oc.propose = TRUE;
  oc.every = 10 * FT_SECOND;
  g_autoptr(GError) error = NULL;
  ck_assert_msg (ft_live_set_ops_config (fx->live, &oc, &error), "%s", error ? error->message : "");
  g_autofree char *p1 = tel (T0, 52.5200, 13.4000, 20.0, "available");    /* low: swap */
  g_autofree char *p2 = g_strdup_printf ("{\"timestamp\":%" G_GINT64_FORMAT ",\"lat\":52.53,\"lon\":13.41,"
                                         "\"battery_pct\":80,\"fault_codes\":[3]}", T0);   /* collect */
  g_autofree char *p3 = tel (T0, 52.5100, 13.3900, 90.0, "available");    /* fine */
  ck_assert (ingest (fx, "telemetry", DEV, p1, T0));
  ck_assert (ingest (fx, "telemetry", DEV2, p2, T0));
  ck_assert (ingest (fx, "telemetry", DEV3, p3, T0));
  ck_assert (staff_msg (fx, "van-3", "position", "{\"timestamp\":1700000000000,\"lat\":52.52,\"lon\":13.40}", T0));
  ck_assert (staff_msg (fx, "van-4", "position", "{\"timestamp\":1700000000000,\"lat\":52.70,\"lon\":13.70}", T0));
}

/* Proposals from live state wait for a dispatcher; only a dispatcher or
 * admin approves or switches auto-approve; approved tasks reach the
 * nearest on-shift staff member as an ordered stop list; progress
 * re-plans; a started stop stays first; bad progress changes nothing. */
START_TEST (test_ops_proposals)
{
  Fx fx = fx_new (FT_LIVE_UNKNOWN_REGISTER);
  ops_world (&fx);
  g_autoptr(GError) error = NULL;
  FtAccounts *acc = fx.core->accounts;
  gint disp = ft_accounts_create (acc, FT_ROLE_DISPATCHER, "d", NULL, T0, &error);
  gint admin = ft_accounts_create (acc, FT_ROLE_ADMIN, "a", NULL, T0, &error);
  gint rider = ft_accounts_create (acc, FT_ROLE_RIDER, "r", NULL, T0, &error);
  gint planner = ft_accounts_create (acc, FT_ROLE_PLANNER, "p", NULL, T0, &error);
  ck_assert_int_ge (MIN (MIN (disp, admin), MIN (rider, planner)), 0);
  guint van3, van4;
  ck_assert (ft_live_lookup_staff (fx.live, "van-3", &van3));
  ck_assert (ft_live_lookup_staff (fx.live, "van-4", &van4));
  gint field = ft_live_get_staff (fx.live, van3)->account;

  ft_live_tick (fx.live, T0);
  const FtLiveStats *st = ft_live_get_stats (fx.live);
  ck_assert_uint_eq (st->proposed, 2);
  ck_assert_uint_eq (ft_event_log_count (fx.core->log, FT_EV_TASK_PROPOSED), 2);
  gint64 swap = ft_ops_open_for (fx.ops, 0, FT_TASK_BATTERY_SWAP);
  gint64 coll = ft_ops_open_for (fx.ops, 1, FT_TASK_COLLECT_REPAIR);
  ck_assert_int_ge (swap, 0);
  ck_assert_int_ge (coll, 0);
  ck_assert_int_eq (ft_ops_open_for (fx.ops, 2, FT_TASK_BATTERY_SWAP), -1);
  ck_assert_int_eq (ft_ops_get (fx.ops, swap)->approval, FT_TASK_PROPOSED);
  const FtTaskValue *v = ft_ops_get_value (fx.ops, swap);
  ck_assert_ptr_nonnull (v);
  ck_assert_msg (strstr (v->reason, "trips") != NULL, "reason '%s'", v->reason);
  /* nothing approved: nobody is sent anything */
  ck_assert_ptr_null (ft_live_get_stop_list (fx.live, van3));
  ck_assert_int_eq (ft_ops_get (fx.ops, swap)->state, FT_TASK_OPEN);
  /* a second scan proposes nothing twice */
  ck_assert_uint_eq (ft_live_propose (fx.live, T0 + FT_SECOND), 0);

  /* only a dispatcher or admin approves or switches auto-approve */
  gint32 others[] = { rider, field, planner, -1 };
  for (guint i = 0; i < G_N_ELEMENTS (others); i++)
    {
      ck_assert (!ft_live_approve (fx.live, swap, others[i], T0, &error));
      ck_assert_msg (g_error_matches (error, FT_OPS_ERROR, FT_OPS_ERROR_PERMISSION), "%s", error->message);
      g_clear_error (&error);
      ck_assert (!ft_live_set_auto_approve (fx.live, TRUE, others[i], T0, &error));
      ck_assert (g_error_matches (error, FT_OPS_ERROR, FT_OPS_ERROR_PERMISSION));
      g_clear_error (&error);
    }
  ck_assert (!ft_live_get_auto_approve (fx.live, NULL));
  ck_assert_int_eq (ft_ops_get (fx.ops, swap)->approval, FT_TASK_PROPOSED);
  ck_assert_uint_eq (ft_event_log_count (fx.core->log, FT_EV_TASK_APPROVED), 0);
  /* a proposal cannot be assigned past the approval */
  ck_assert (!ft_ops_assign (fx.ops, swap, (guint) field, disp, T0, &error));
  ck_assert (g_error_matches (error, FT_OPS_ERROR, FT_OPS_ERROR_WRONG_STATE));
  g_clear_error (&error);

  ck_assert_msg (ft_live_approve (fx.live, swap, disp, T0 + 100, &error), "%s", error ? error->message : "");
  ck_assert_int_eq (ft_ops_get (fx.ops, swap)->approved_by, disp);
  ck_assert (!ft_live_approve (fx.live, swap, disp, T0 + 100, &error));   /* twice */
  g_clear_error (&error);
  ft_live_tick (fx.live, T0 + 200 * FT_MS);
  const FtLiveStopList *l = ft_live_get_stop_list (fx.live, van3);
  ck_assert_ptr_nonnull (l);
  ck_assert_uint_eq (l->n_stops, 1);
  ck_assert_int_eq (l->stops[0].task, swap);
  ck_assert_str_eq (l->stops[0].device_id, DEV);
  ck_assert_int_eq (l->state, FT_CMD_QUEUED);          /* not connected */
  ck_assert_ptr_null (ft_live_get_stop_list (fx.live, van4));   /* the far van gets nothing */
  g_autofree char *first = g_strdup (l->id);

  /* auto-approve by an admin approves the waiting proposal; a new list */
  ck_assert_msg (ft_live_set_auto_approve (fx.live, TRUE, admin, T0 + 300, &error), "%s",
                 error ? error->message : "");
  gint32 by = -2;
  ck_assert (ft_live_get_auto_approve (fx.live, &by));
  ck_assert_int_eq (by, admin);
  ck_assert_int_eq (ft_ops_get (fx.ops, coll)->approval, FT_TASK_APPROVED);
  ft_live_tick (fx.live, T0 + 400 * FT_MS);
  l = ft_live_get_stop_list (fx.live, van3);
  ck_assert_uint_eq (l->n_stops, 2);
  ck_assert_str_ne (l->id, first);
  g_autofree char *second = g_strdup (l->id);
  /* stops in the route planner's order: the nearer one first */
  ck_assert_int_eq (l->stops[0].task, swap);
  ck_assert (l->stops[0].eta < l->stops[1].eta);
  ck_assert_int_eq (ft_live_get_assignment (fx.live, first) == NULL, TRUE);   /* a list, not an assignment */
  gsize plen;
  g_autofree char *payload = ft_live_stops_payload (l, T0, &plen);
  g_autoptr(JsonParser) jp = json_parser_new ();
  ck_assert (json_parser_load_from_data (jp, payload, (gssize) plen, NULL));
  JsonObject *root = json_node_get_object (json_parser_get_root (jp));
  ck_assert_int_eq (json_object_get_int_member (root, "version"), 1);
  ck_assert_str_eq (json_object_get_string_member (root, "staff_id"), "van-3");
  ck_assert_uint_eq (json_array_get_length (json_object_get_array_member (root, "stops")), 2);

  /* the second stop is started: it moves first and stays */
  gint64 later = l->stops[1].task, sooner = l->stops[0].task;
  g_autofree char *lid = g_strdup_printf ("task-%" G_GINT64_FORMAT, later);
  g_autofree char *sid = g_strdup_printf ("task-%" G_GINT64_FORMAT, sooner);
  g_autofree char *pg1 = progress (T0 + 1000, lid, "started");
  ck_assert (staff_msg (&fx, "van-3", "stops/v1/progress", pg1, T0 + 1000));
  ck_assert_int_eq (ft_ops_get (fx.ops, later)->state, FT_TASK_IN_PROGRESS);
  ft_live_tick (fx.live, T0 + 1200);
  l = ft_live_get_stop_list (fx.live, van3);
  ck_assert_int_eq (l->stops[0].task, later);
  ck_assert (l->stops[0].started);
  ck_assert_int_eq (l->stops[1].task, sooner);
  /* a started stop is never taken away */
  ck_assert (!ft_live_reassign (fx.live, later, van4, disp, T0 + 1300, &error));
  ck_assert (g_error_matches (error, FT_OPS_ERROR, FT_OPS_ERROR_WRONG_STATE));
  g_clear_error (&error);
  assert_valid (&fx);

  /* bad progress: refused with the field named, nothing changes */
  g_autofree char *b_unknown = progress (T0 + 2000, "task-99", "done");
  g_autofree char *b_other = progress (T0 + 2000, sid, "done");
  g_autofree char *b_status = progress (T0 + 2000, sid, "finished");
  g_autofree char *b_id = progress (T0 + 2000, "job-1", "done");
  struct { const char *staff, *payload, *field; } bad[] = {
    { "van-3", b_unknown, "task_id" },
    { "ghost", b_other, "staff_id" },
    { "van-4", b_other, "task_id" },                 /* not on van-4's list */
    { "van-3", b_status, "status" },
    { "van-3", b_id, "task_id" },
    { "van-3", "{\"version\":1,\"timestamp\":1700000002000,\"task_id\":", "JSON" },
    { "van-3", "{\"version\":2,\"timestamp\":1700000002000,\"task_id\":\"task-0\",\"status\":\"done\"}", "version" },
    { "van-3", "{\"timestamp\":1700000002000,\"task_id\":\"task-0\",\"status\":\"done\"}", "version" },
    { "van-3", "{\"version\":1,\"task_id\":\"task-0\",\"status\":\"done\"}", "timestamp" },
    { "van-3", "{\"version\":1,\"timestamp\":1700000002000,\"task_id\":7,\"status\":\"done\"}", "task_id" },
  };
  guint64 ev0 = ft_event_log_last_seq (fx.core->log), refused0 = st->task_refused;
  guint nstaff = ft_live_n_staff (fx.live);
  for (guint i = 0; i < G_N_ELEMENTS (bad); i++)
    {
      ck_assert_msg (!staff_msg (&fx, bad[i].staff, "stops/v1/progress", bad[i].payload, T0 + 2000),
                     "accepted bad progress %u", i);
      guint nm;
      const FtLiveMalformed *m = ft_live_get_malformed (fx.live, &nm);
      ck_assert_msg (strstr (m[nm - 1].reason, bad[i].field) != NULL, "reason of %u '%s' does not name %s",
                     i, m[nm - 1].reason, bad[i].field);
    }
  ck_assert_uint_ge (st->task_refused - refused0, G_N_ELEMENTS (bad) - 1);
  ck_assert_uint_eq (ft_event_log_last_seq (fx.core->log), ev0);
  ck_assert_uint_eq (ft_live_n_staff (fx.live), nstaff);
  ck_assert_int_eq (ft_ops_get (fx.ops, sooner)->state, FT_TASK_ASSIGNED);
  ck_assert_int_eq (ft_ops_get (fx.ops, later)->state, FT_TASK_IN_PROGRESS);
  ft_live_tick (fx.live, T0 + 2200);
  ck_assert_str_eq (ft_live_get_stop_list (fx.live, van3)->id, l->id);   /* no new list */

  /* skipped: back to open, and to someone else (not van-3 again) */
  g_autofree char *pg2 = progress (T0 + 3000, sid, "skipped");
  ck_assert (staff_msg (&fx, "van-3", "stops/v1/progress", pg2, T0 + 3000));
  ft_live_tick (fx.live, T0 + 3200);
  ck_assert_int_eq (ft_ops_get (fx.ops, sooner)->state, FT_TASK_ASSIGNED);
  ck_assert_int_eq (ft_ops_get (fx.ops, sooner)->staff, ft_live_get_staff (fx.live, van4)->account);
  l = ft_live_get_stop_list (fx.live, van3);
  ck_assert_uint_eq (l->n_stops, 1);
  ck_assert_int_eq (l->stops[0].task, later);
  ck_assert_uint_eq (ft_live_get_stop_list (fx.live, van4)->n_stops, 1);
  /* done */
  g_autofree char *pg3 = progress (T0 + 4000, lid, "done");
  ck_assert (staff_msg (&fx, "van-3", "stops/v1/progress", pg3, T0 + 4000));
  ck_assert_int_eq (ft_ops_get (fx.ops, later)->state, FT_TASK_DONE);
  ft_live_tick (fx.live, T0 + 4200);
  ck_assert_uint_eq (ft_live_get_stop_list (fx.live, van3)->n_stops, 0);
  ck_assert_uint_eq (st->stop_updates, 3);
  ck_assert_ptr_null (ft_live_get_assignment (fx.live, second));
  assert_valid (&fx);
  fx_free (&fx);
}
END_TEST

/* No swap at full charge: a swap proposed at 20% is cancelled once the
 * vehicle reports 96%, before anyone is sent. */
START_TEST (test_ops_full_battery)
{
  Fx fx = fx_new (FT_LIVE_UNKNOWN_REGISTER);
  ops_world (&fx);
  ft_live_tick (fx.live, T0);
  gint64 swap = ft_ops_open_for (fx.ops, 0, FT_TASK_BATTERY_SWAP);
  ck_assert_int_ge (swap, 0);
  g_autofree char *p = tel (T0 + 5 * FT_SECOND, 52.52, 13.40, 96.0, "available");
  ck_assert (ingest (&fx, "telemetry", DEV, p, T0 + 5 * FT_SECOND));
  ft_live_tick (fx.live, T0 + 11 * FT_SECOND);
  ck_assert_int_eq (ft_ops_get (fx.ops, swap)->state, FT_TASK_CANCELLED);
  ck_assert_uint_eq (ft_live_get_stats (fx.live)->swaps_cancelled_full, 1);
  ck_assert_int_eq (ft_ops_open_for (fx.ops, 0, FT_TASK_BATTERY_SWAP), -1);
  /* and no new proposal while it stays charged */
  ft_live_tick (fx.live, T0 + 22 * FT_SECOND);
  ck_assert_int_eq (ft_ops_open_for (fx.ops, 0, FT_TASK_BATTERY_SWAP), -1);
  assert_valid (&fx);
  fx_free (&fx);
}
END_TEST

/* The maintenance model's risk (here the caller's function) proposes an
 * inspection once for a vehicle over the threshold, with the model's own
 * figure in the reason and times in the city's clock (UTC+1). */
static gboolean
fake_risk (guint v, double *p, double *horizon_h, gpointer data)
{
  const double *r = data;
  if (v >= 3)
    return FALSE;
  *p = r[v];
  *horizon_h = 24;
  return TRUE;
}

START_TEST (test_ops_inspect_from_risk)
{
  Fx fx = fx_new (FT_LIVE_UNKNOWN_REGISTER);
  ops_world (&fx);
  static const double risk[3] = { 0.10, 0.90, 0.31 };
  FtLiveOpsConfig oc = *ft_live_get_ops_config (fx.live);
  oc.risk = fake_risk;
  oc.risk_data = (gpointer) risk;
  oc.utc_offset_min = 60;
  g_autoptr(GError) error = NULL;
  ck_assert_msg (ft_live_set_ops_config (fx.live, &oc, &error), "%s", error ? error->message : "");
  ft_live_tick (fx.live, T0);
  /* vehicle 2 (0.31 >= 0.3); not 0 (0.10), not 1 (a fault: collected instead) */
  gint64 insp = ft_ops_open_for (fx.ops, 2, FT_TASK_INSPECT);
  ck_assert_int_ge (insp, 0);
  ck_assert_int_eq (ft_ops_open_for (fx.ops, 0, FT_TASK_INSPECT), -1);
  ck_assert_int_eq (ft_ops_open_for (fx.ops, 1, FT_TASK_INSPECT), -1);
  ck_assert_int_eq (ft_ops_get (fx.ops, insp)->approval, FT_TASK_PROPOSED);
  const FtTaskValue *v = ft_ops_get_value (fx.ops, insp);
  ck_assert_ptr_nonnull (v);
  ck_assert_msg (g_str_has_prefix (v->reason, "P(fault 24 h) 0.31: avoids ~31% fault risk"), "'%s'", v->reason);
  /* T0 + 4 h is 02:13 UTC, 03:13 in the city */
  ck_assert_msg (strstr (v->reason, "before 03:13 UTC+1") != NULL, "'%s'", v->reason);
  const FtTaskValue *sv = ft_ops_get_value (fx.ops, ft_ops_open_for (fx.ops, 0, FT_TASK_BATTERY_SWAP));
  ck_assert_msg (strstr (sv->reason, "before 03:13 UTC+1") != NULL, "'%s'", sv->reason);
  /* once: not on the next scans, not after a dispatcher declined it */
  guint64 proposed = ft_live_get_stats (fx.live)->proposed;
  ft_live_tick (fx.live, T0 + 11 * FT_SECOND);
  gint disp = ft_accounts_create (fx.core->accounts, FT_ROLE_DISPATCHER, "d", NULL, T0, &error);
  ck_assert_msg (ft_live_cancel (fx.live, insp, disp, T0 + 12 * FT_SECOND, &error), "%s",
                 error ? error->message : "");
  ft_live_tick (fx.live, T0 + 22 * FT_SECOND);
  ck_assert_uint_eq (ft_live_get_stats (fx.live)->proposed, proposed);
  ck_assert_int_eq (ft_ops_open_for (fx.ops, 2, FT_TASK_INSPECT), -1);
  /* UTC without a city: said so */
  oc.utc_offset_min = 0;
  ck_assert (ft_live_set_ops_config (fx.live, &oc, &error));
  ft_live_propose (fx.live, T0 + 33 * FT_SECOND);
  sv = ft_ops_get_value (fx.ops, ft_ops_open_for (fx.ops, 0, FT_TASK_BATTERY_SWAP));
  ck_assert_msg (strstr (sv->reason, ":13 UTC,") != NULL, "'%s'", sv->reason);
  /* a bad offset is refused by name, nothing changes */
  oc.utc_offset_min = 15 * 60;
  ck_assert (!ft_live_set_ops_config (fx.live, &oc, &error));
  ck_assert_msg (strstr (error->message, "utc_offset_min") != NULL, "%s", error->message);
  ck_assert_int_eq (ft_live_get_ops_config (fx.live)->utc_offset_min, 0);
  assert_valid (&fx);
  fx_free (&fx);
}
END_TEST

/* Surplus rebalancing on zones: zone 0 has 4 available vehicles and
 * expects 1 request, its neighbour zone 1 expects 3 and has none, zone 2
 * expects 5 but is 14 km away (no neighbour): three moves 0 → 1, proposed
 * once; a twin without zones proposes none. */
static gint
three_zones (FtLatLon at, gpointer data)
{
  return at.lon < 13.40 ? 0 : at.lon < 13.50 ? 1 : 2;
}

static double
zone_rates (guint z, FtTime t, gpointer data)
{
  static const double r[3] = { 1, 3, 5 };
  return z < 3 ? r[z] : NAN;
}

static void
surplus_world (Fx *fx)
{
  for (guint i = 0; i < 4; i++)
    {
      g_autofree char *dev = g_strdup_printf ("3f2a8c1e-6b7d-4e2f-9a1b-2c3d4e5f6b%02u", i);
      g_autofree char *p = tel (T0, 52.52 + 0.001 * i, 13.39, 90.0 - i, "available");
      ck_assert (ingest (fx, "telemetry", dev, p, T0));
    }
}

START_TEST (test_ops_surplus_rebalance)
{
  static const FtLatLon centre[3] = { { 52.52, 13.39 }, { 52.52, 13.41 }, { 52.52, 13.60 } };
  Fx fx = fx_new (FT_LIVE_UNKNOWN_REGISTER);
  surplus_world (&fx);
  FtLiveOpsConfig oc;
  ft_live_ops_config_init (&oc);
  oc.propose = TRUE;
  oc.n_zones = 3;
  oc.locate = three_zones;
  oc.centre = centre;
  oc.demand = zone_rates;
  g_autoptr(GError) error = NULL;
  ck_assert_msg (ft_live_set_ops_config (fx.live, &oc, &error), "%s", error ? error->message : "");
  ck_assert_uint_eq (ft_live_propose (fx.live, T0), 3);
  guint n = 0;
  for (guint i = 0; i < ft_ops_n (fx.ops); i++)
    {
      const FtTask *t = ft_ops_get (fx.ops, i);
      ck_assert_int_eq (t->kind, FT_TASK_REBALANCE);
      ck_assert_int_eq (t->target_zone, 1);
      ck_assert_double_eq_tol (t->target.lon, 13.41, 1e-9);
      ck_assert_int_eq (three_zones (ft_fleet_get_vehicle (fx.core->fleet, (guint) t->vehicle)->pos, NULL), 0);
      ck_assert_msg (strstr (ft_ops_get_value (fx.ops, i)->reason, "trips") != NULL, "%s",
                     ft_ops_get_value (fx.ops, i)->reason);
      n++;
    }
  ck_assert_uint_eq (n, 3);
  /* the best-charged go; the one left is the emptiest */
  ck_assert_int_eq (ft_ops_open_for (fx.ops, 3, FT_TASK_REBALANCE), -1);
  /* the moves under way count: nothing more */
  ck_assert_uint_eq (ft_live_propose (fx.live, T0 + 20 * FT_SECOND), 0);
  /* approved, they reach a van whose stops name the drop point */
  ck_assert (staff_msg (&fx, "van-9", "position", "{\"timestamp\":1700000000000,\"lat\":52.52,\"lon\":13.39}", T0));
  gint disp = ft_accounts_create (fx.core->accounts, FT_ROLE_DISPATCHER, "d", NULL, T0, &error);
  ck_assert (ft_live_set_auto_approve (fx.live, TRUE, disp, T0 + 21 * FT_SECOND, &error));
  ft_live_tick (fx.live, T0 + 21 * FT_SECOND);
  guint van9;
  ck_assert (ft_live_lookup_staff (fx.live, "van-9", &van9));
  const FtLiveStopList *l = ft_live_get_stop_list (fx.live, van9);
  ck_assert_ptr_nonnull (l);
  ck_assert_uint_eq (l->n_stops, 3);
  ck_assert_double_eq_tol (l->stops[0].drop.lon, 13.41, 1e-9);
  gsize len;
  g_autofree char *payload = ft_live_stops_payload (l, T0, &len);
  ck_assert_msg (strstr (payload, "\"drop_lon\":13.41") != NULL, "%s", payload);
  assert_valid (&fx);
  fx_free (&fx);

  /* no zones: no surplus moves */
  fx = fx_new (FT_LIVE_UNKNOWN_REGISTER);
  surplus_world (&fx);
  ft_live_ops_config_init (&oc);
  oc.propose = TRUE;
  ck_assert (ft_live_set_ops_config (fx.live, &oc, &error));
  ck_assert_uint_eq (ft_live_propose (fx.live, T0), 0);
  /* zones without their centres are refused */
  oc.n_zones = 3;
  oc.locate = three_zones;
  ck_assert (!ft_live_set_ops_config (fx.live, &oc, &error));
  ck_assert_msg (strstr (error->message, "centres") != NULL, "%s", error->message);
  fx_free (&fx);
}
END_TEST

/* Bad input around stop lists: an ack for a stale list version, a van
 * record with a bad packs or shift_end, broken JSON: refused with the
 * field named, nothing changes. A van's own packs bound its swaps. */
START_TEST (test_ops_bad_stop_input)
{
  Fx fx = fx_new (FT_LIVE_UNKNOWN_REGISTER);
  ops_world (&fx);
  g_autoptr(GError) error = NULL;
  gint disp = ft_accounts_create (fx.core->accounts, FT_ROLE_DISPATCHER, "d", NULL, T0, &error);
  /* neither van carries a charged pack: the swap waits, the collect goes */
  ck_assert (staff_msg (&fx, "van-3", "position",
                        "{\"timestamp\":1700000000500,\"lat\":52.52,\"lon\":13.40,\"packs\":0,"
                        "\"shift_end\":1700028800000}", T0));
  ck_assert (staff_msg (&fx, "van-4", "position",
                        "{\"timestamp\":1700000000500,\"lat\":52.70,\"lon\":13.70,\"packs\":0}", T0));
  guint van3, van4;
  ck_assert (ft_live_lookup_staff (fx.live, "van-3", &van3));
  ck_assert (ft_live_lookup_staff (fx.live, "van-4", &van4));
  ck_assert_int_eq (ft_live_get_staff (fx.live, van3)->packs, 0);
  ck_assert_int_eq (ft_live_get_staff (fx.live, van3)->shift_end, 1700028800000);
  ft_live_tick (fx.live, T0 + FT_SECOND);
  ck_assert (ft_live_set_auto_approve (fx.live, TRUE, disp, T0 + FT_SECOND, &error));
  ft_live_tick (fx.live, T0 + 2 * FT_SECOND);
  gint64 swap = ft_ops_open_for (fx.ops, 0, FT_TASK_BATTERY_SWAP);
  gint64 coll = ft_ops_open_for (fx.ops, 1, FT_TASK_COLLECT_REPAIR);
  const FtLiveStopList *l3 = ft_live_get_stop_list (fx.live, van3);
  ck_assert_ptr_nonnull (l3);
  ck_assert_uint_eq (l3->n_stops, 1);
  ck_assert_int_eq (l3->stops[0].task, coll);
  ck_assert_int_eq (ft_ops_get (fx.ops, swap)->state, FT_TASK_OPEN);
  ck_assert_int_eq (ft_ops_get (fx.ops, swap)->approval, FT_TASK_APPROVED);
  ck_assert_ptr_null (ft_live_get_stop_list (fx.live, van4));
  g_autofree char *old_id = g_strdup (l3->id);
  /* a new list for van-3: started */
  g_autofree char *cid = g_strdup_printf ("task-%" G_GINT64_FORMAT, coll);
  g_autofree char *pg = progress (T0 + 3000, cid, "started");
  ck_assert (staff_msg (&fx, "van-3", "stops/v1/progress", pg, T0 + 3000));
  ft_live_tick (fx.live, T0 + 4 * FT_SECOND);
  l3 = ft_live_get_stop_list (fx.live, van3);
  ck_assert_str_ne (l3->id, old_id);
  ck_assert (l3->stops[0].started);
  g_autofree char *new_id = g_strdup (l3->id);
  FtLiveCommandState st0 = l3->state;

  g_autofree char *stale = g_strdup_printf ("{\"command_id\":\"%s\",\"result\":\"failed\",\"timestamp\":1700000005000}",
                                            old_id);
  g_autofree char *other = g_strdup_printf ("{\"command_id\":\"%s\",\"result\":\"ok\",\"timestamp\":1700000005000}",
                                            new_id);
  struct { const char *staff, *what, *payload, *field; } bad[] = {
    { "van-3", "stops/v1/ack", stale, "command_id" },
    { "van-4", "stops/v1/ack", other, "command_id" },           /* not van-4's list */
    { "van-3", "stops/v1/ack", "{\"command_id\":", "JSON" },
    { "van-3", "stops/v1/ack", "{\"command_id\":7,\"result\":\"ok\"}", "command_id" },
    { "van-3", "position", "{\"timestamp\":1700000006000,\"lat\":52.5,\"lon\":13.4,\"packs\":-1}", "packs" },
    { "van-3", "position", "{\"timestamp\":1700000006000,\"lat\":52.5,\"lon\":13.4,\"packs\":\"six\"}", "packs" },
    { "van-3", "position", "{\"timestamp\":1700000006000,\"lat\":52.5,\"lon\":13.4,\"shift_end\":1800000000000}",
      "shift_end" },
  };
  guint64 ev0 = ft_event_log_last_seq (fx.core->log);
  for (guint i = 0; i < G_N_ELEMENTS (bad); i++)
    {
      ck_assert_msg (!staff_msg (&fx, bad[i].staff, bad[i].what, bad[i].payload, T0 + 6000),
                     "accepted bad input %u", i);
      guint nm;
      const FtLiveMalformed *m = ft_live_get_malformed (fx.live, &nm);
      ck_assert_msg (strstr (m[nm - 1].reason, bad[i].field) != NULL, "reason of %u '%s' does not name %s",
                     i, m[nm - 1].reason, bad[i].field);
    }
  ck_assert_uint_eq (ft_event_log_last_seq (fx.core->log), ev0);
  l3 = ft_live_get_stop_list (fx.live, van3);
  ck_assert_str_eq (l3->id, new_id);
  ck_assert_int_eq (l3->state, st0);
  ck_assert_int_eq (ft_ops_get (fx.ops, coll)->state, FT_TASK_IN_PROGRESS);
  ck_assert_int_eq (ft_live_get_staff (fx.live, van3)->packs, 0);
  ck_assert_int_eq (ft_live_get_staff (fx.live, van3)->shift_end, 1700028800000);
  ck_assert_double_eq_tol (ft_live_get_staff (fx.live, van3)->pos.lat, 52.52, 1e-9);
  /* van-4 comes near with packs but its shift is over: the swap still
   * waits; a new shift end and it goes to van-4 */
  ck_assert (staff_msg (&fx, "van-4", "position",
                        "{\"timestamp\":1700000007000,\"lat\":52.53,\"lon\":13.42,\"packs\":6,"
                        "\"shift_end\":1700000007000}", T0 + 7000));
  ft_live_replan (fx.live, T0 + 8000);
  ck_assert_int_eq (ft_ops_get (fx.ops, swap)->state, FT_TASK_OPEN);
  ck_assert (staff_msg (&fx, "van-4", "position",
                        "{\"timestamp\":1700000009000,\"lat\":52.53,\"lon\":13.42,\"shift_end\":1700030000000}",
                        T0 + 9000));
  ck_assert_int_eq (ft_live_get_staff (fx.live, van4)->packs, 6);
  ft_live_replan (fx.live, T0 + 10000);
  ck_assert_int_eq (ft_ops_get (fx.ops, swap)->state, FT_TASK_ASSIGNED);
  ck_assert_int_eq (ft_ops_get (fx.ops, swap)->staff, ft_live_get_staff (fx.live, van4)->account);
  ck_assert_int_eq (ft_live_get_stop_list (fx.live, van4)->stops[0].task, swap);
  /* then it says it has none left: the swap (not started) goes back */
  ck_assert (staff_msg (&fx, "van-4", "position",
                        "{\"timestamp\":1700000011000,\"lat\":52.53,\"lon\":13.42,\"packs\":0}", T0 + 11000));
  ft_live_replan (fx.live, T0 + 12000);
  ck_assert_int_eq (ft_ops_get (fx.ops, swap)->state, FT_TASK_OPEN);
  ck_assert_uint_eq (ft_live_get_stop_list (fx.live, van4)->n_stops, 0);
  assert_valid (&fx);
  fx_free (&fx);
}
END_TEST

/* Proposals and approvals are stored: after a restart the proposal still
 * waits and the approved task is still approved, by the same account. */
START_TEST (test_ops_restart)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *dir = g_dir_make_tmp ("ft-live-ops-XXXXXX", &error);
  ck_assert_msg (dir != NULL, "%s", error ? error->message : "");
  g_autofree char *db = g_build_filename (dir, "live.db", NULL);
  Fx fx = fx_new (FT_LIVE_UNKNOWN_REGISTER);
  ft_live_set_ops (fx.live, fx.core->ops);
  ck_assert_msg (ft_core_attach_store (fx.core, db, NULL, &error), "%s", error ? error->message : "");
  gint disp = ft_accounts_create (fx.core->accounts, FT_ROLE_DISPATCHER, "d", NULL, T0, &error);
  ops_world (&fx);
  ft_live_tick (fx.live, T0);
  gint64 swap = ft_ops_open_for (fx.core->ops, 0, FT_TASK_BATTERY_SWAP);
  gint64 coll = ft_ops_open_for (fx.core->ops, 1, FT_TASK_COLLECT_REPAIR);
  ck_assert (ft_live_approve (fx.live, swap, disp, T0 + 50, &error));
  ck_assert_msg (ft_core_commit (fx.core, &error), "%s", error ? error->message : "");
  ck_assert_msg (ft_core_detach_store (fx.core, &error), "%s", error ? error->message : "");
  fx_free (&fx);

  FtCoreConfig cc;
  ft_core_config_init (&cc);
  FtCore *again = ft_core_new (&cc, NULL, NULL);
  ck_assert_msg (ft_core_attach_store (again, db, NULL, &error), "%s", error ? error->message : "");
  const FtTask *a = ft_ops_get (again->ops, swap), *b = ft_ops_get (again->ops, coll);
  ck_assert_ptr_nonnull (a);
  ck_assert_ptr_nonnull (b);
  ck_assert_int_eq (a->approval, FT_TASK_APPROVED);
  ck_assert_int_eq (a->approved_by, disp);
  ck_assert_int_eq (a->approved_at, T0 + 50);
  ck_assert_int_eq (b->approval, FT_TASK_PROPOSED);
  ck_assert_int_eq (b->state, FT_TASK_OPEN);
  ck_assert_msg (ft_ops_check (again->ops, &error), "%s", error ? error->message : "");
  ft_core_free (again);
  ck_assert (ft_store_remove_files (db, NULL));
  g_rmdir (dir);
}
END_TEST

/* ----------------------------------------------------------------- fuzz */

static char *
random_payload (GRand *r, FtTime ts, gsize *len_out)
{
  static const char *const keys[] = {
    "timestamp", "lat", "lon", "battery_pct", "range_m", "speed", "lock_state", "locked",
    "odometer_m", "fault_codes", "vehicle_state", "event_types", "device_id", "status",
    "command_id", "result", "task_id", "vehicle_type", "sent_us", "event_id",
    "task_id", "status", "reason", "command_id",
  };
  static const char *const values[] = {
    "0", "-1", "1e308", "1e400", "-1e400", "NaN", "Infinity", "null", "true", "\"\"",
    "\"on_trip\"", "\"available\"", "\"locked\"", "[]", "{}", "[\"trip_start\"]",
    "[\"trip_end\",\"battery_low\"]", "[1,2,99]", "[-1]", "9223372036854775807",
    "92233720368547758070", "-9223372036854775808", "\"\\u0000\"", "\"\\ud800\"", "52.52",
    "13.4", "200", "-91", "45.5", "0.0000001", "[[[[[[[[]]]]]]]]", "\"ok\"", "\"online\"",
    "{\"a\":{\"b\":{\"c\":1}}}", "1.5", "31", "32", "4294967296",
    "\"task-0\"", "\"task-1\"", "\"task-2\"", "\"task-\"", "\"task--1\"", "\"task-99999999999999999999\"",
    "\"accepted\"", "\"in_progress\"", "\"done\"", "\"failed\"", "\"started\"",
    "\"task-fleet-twin-fuzz-1\"", "\"task-fleet-twin-fuzz-2\"",
  };
  int mode = g_rand_int_range (r, 0, 12);
  GString *s = g_string_new (NULL);
  switch (mode)
    {
    case 0: /* binary */
      {
        gsize n = g_rand_int_range (r, 0, 300);
        for (gsize i = 0; i < n; i++)
          g_string_append_c (s, (char) g_rand_int_range (r, 0, 256));
        break;
      }
    case 1: /* huge string */
      g_string_append (s, "{\"timestamp\":1700000000000,\"vehicle_state\":\"");
      for (int i = 0, n = g_rand_int_range (r, 1000, 70000); i < n; i++)
        g_string_append_c (s, 'a' + i % 26);
      g_string_append (s, "\"}");
      break;
    case 2: /* deep nesting */
      for (int i = 0, n = g_rand_int_range (r, 10, 20000); i < n; i++)
        g_string_append_c (s, '[');
      break;
    case 3: /* truncated valid telemetry */
      {
        g_autofree char *p = g_strdup_printf ("{\"timestamp\":%" G_GINT64_FORMAT ",\"lat\":52.5,"
                                              "\"lon\":13.4,\"battery_pct\":55,\"vehicle_state\":"
                                              "\"available\"}", ts);
        g_string_append_len (s, p, g_rand_int_range (r, 0, (gint32) strlen (p)));
        break;
      }
    case 4: /* well-formed telemetry, random order and states */
    case 5:
      {
        static const char *const st[] = { "available", "on_trip", "reserved", "non_operational",
                                           "removed", "elsewhere", "unknown" };
        char lat[32], lon[32];
        g_ascii_dtostr (lat, sizeof lat, g_rand_double_range (r, -90, 90));
        g_ascii_dtostr (lon, sizeof lon, g_rand_double_range (r, -180, 180));
        g_string_append_printf (s, "{\"timestamp\":%" G_GINT64_FORMAT ",\"lat\":%s,\"lon\":%s,"
                                "\"battery_pct\":%d,\"vehicle_state\":\"%s\",\"odometer_m\":%d,"
                                "\"fault_codes\":[%d]}",
                                ts + g_rand_int_range (r, -20000, 2000), lat, lon,
                                g_rand_int_range (r, 0, 101), st[g_rand_int_range (r, 0, G_N_ELEMENTS (st))],
                                g_rand_int_range (r, 0, 1000000), g_rand_int_range (r, 0, 32));
        break;
      }
    case 6: /* well-formed events */
      {
        static const char *const ev[] = { "trip_start", "trip_end", "battery_low", "maintenance",
                                          "comms_lost", "comms_restored", "located", "reservation_start",
                                          "decommissioned", "maintenance_end", "battery_charged" };
        g_string_append_printf (s, "{\"timestamp\":%" G_GINT64_FORMAT ",\"event_types\":[\"%s\"]%s}",
                                ts + g_rand_int_range (r, -20000, 2000), ev[g_rand_int_range (r, 0, G_N_ELEMENTS (ev))],
                                g_rand_boolean (r) ? ",\"vehicle_state\":\"available\"" : "");
        break;
      }
    case 7: /* well-formed task progress, random task, status and order */
      {
        static const char *const st[] = { "accepted", "in_progress", "started", "done", "failed", "assigned",
                                          "skipped" };
        g_string_append_printf (s, "{%s\"timestamp\":%" G_GINT64_FORMAT ",\"task_id\":\"task-%d\",\"status\":\"%s\"}",
                                g_rand_boolean (r) ? "\"version\":1," : "",
                                ts + g_rand_int_range (r, -20000, 2000), g_rand_int_range (r, 0, 6),
                                st[g_rand_int_range (r, 0, G_N_ELEMENTS (st))]);
        break;
      }
    default: /* random objects from hostile keys and values */
      {
        g_string_append_c (s, '{');
        int n = g_rand_int_range (r, 0, 8);
        if (g_rand_boolean (r))
          g_string_append_printf (s, "\"timestamp\":%" G_GINT64_FORMAT "%s", ts + g_rand_int_range (r, -5000, 5000),
                                  n ? "," : "");
        for (int i = 0; i < n; i++)
          g_string_append_printf (s, "%s\"%s\":%s", i ? "," : "", keys[g_rand_int_range (r, 0, G_N_ELEMENTS (keys))],
                                  values[g_rand_int_range (r, 0, G_N_ELEMENTS (values))]);
        g_string_append_c (s, '}');
        if (g_rand_int_range (r, 0, 8) == 0)
          g_string_truncate (s, g_rand_int_range (r, 0, (gint32) s->len + 1));
      }
    }
  *len_out = s->len;
  return g_string_free (s, FALSE);
}

START_TEST (test_fuzz)
{
  Fx fx = fx_new (FT_LIVE_UNKNOWN_REGISTER);
  g_autoptr(GRand) r = g_rand_new_with_seed (20261124);
  /* a few real vehicles for the hostile payloads to aim at */
  const char *devs[] = { DEV, "0b7c7d36-1111-4222-8333-944455556666", "FT-0001", "nope",
                         "a/b", "", "+", "#", "ÿÿ", "0123456789012345678901234567890123456789" };
  for (guint i = 0; i < 2; i++)
    {
      g_autofree char *p = tel (T0, 52.5, 13.4, 50, "available");
      ck_assert (ingest (&fx, "telemetry", devs[i], p, T0));
    }
  /* and tasks assigned to staff s0, s1 for hostile task updates to aim at */
  gint disp = ft_accounts_create (fx.core->accounts, FT_ROLE_DISPATCHER, "d", NULL, T0, NULL);
  for (guint i = 0; i < 3; i++)
    {
      g_autofree char *who = g_strdup_printf ("s%u", i % 2);
      ck_assert (staff_msg (&fx, who, "position", "{\"timestamp\":1700000000000,\"lat\":1,\"lon\":2}", T0));
      gint64 t = ft_ops_create (fx.ops, (FtTaskKind) i, i % 2, (FtLatLon) { 0, 0 }, -1, 1, disp, T0, NULL);
      guint si;
      ck_assert (t >= 0 && ft_live_lookup_staff (fx.live, who, &si));
      ck_assert (ft_live_assign_task (fx.live, t, si, disp, T0, 60 * FT_SECOND, NULL) != NULL);
    }
  /* and operations on live state: proposals auto-approved onto stop lists */
  FtLiveOpsConfig oc;
  ft_live_ops_config_init (&oc);
  oc.propose = TRUE;
  oc.every = 500;
  oc.low_battery = 0.6;
  ck_assert (ft_live_set_ops_config (fx.live, &oc, NULL));
  ck_assert (ft_live_set_auto_approve (fx.live, TRUE, disp, T0, NULL));
  const char *kinds[] = { "telemetry", "events", "status", "commands/ack", "telemetry" };
  const guint N = 12000;
  guint accepted = 0;
  for (guint k = 0; k < N; k++)
    {
      FtTime now = T0 + k * 10;
      gsize len;
      g_autofree char *payload = random_payload (r, now, &len);
      g_autofree char *topic = NULL;
      int t = g_rand_int_range (r, 0, 12);
      if (t < 9)
        topic = g_strdup_printf (PFX "/vehicles/%s/%s", devs[g_rand_int_range (r, 0, G_N_ELEMENTS (devs))],
                                 kinds[g_rand_int_range (r, 0, G_N_ELEMENTS (kinds))]);
      else if (t < 11)
        {
          static const char *const sk[] = { "position", "task", "task", "tasks/ack", "tasks",
                                            "stops/v1/progress", "stops/v1/ack", "stops/v1" };
          topic = g_strdup_printf (PFX "/staff/s%d/%s", g_rand_int_range (r, 0, 5),
                                   sk[g_rand_int_range (r, 0, G_N_ELEMENTS (sk))]);
        }
      else
        topic = g_strdup_printf ("%s/x/%d", g_rand_boolean (r) ? PFX : "zz", k);
      accepted += ft_live_ingest (fx.live, topic, payload, len, now, NULL);
      if (k % 100 == 99)
        {
          ft_live_process (fx.live, now, 0);
          assert_valid (&fx);
          /* positions and SOC stay sane */
          for (guint v = 0; v < ft_fleet_n_vehicles (fx.core->fleet); v++)
            {
              const FtVehicle *veh = ft_fleet_get_vehicle (fx.core->fleet, v);
              ck_assert (ft_latlon_valid (veh->pos));
              double soc = ft_fleet_soc (fx.core->fleet, v);
              ck_assert (soc >= 0 && soc <= 1);
              ck_assert (veh->state < FT_N_STATES);
            }
        }
    }
  const FtLiveStats *s = ft_live_get_stats (fx.live);
  ck_assert_uint_ge (s->malformed + s->unknown_refused, N / 3);
  ck_assert_uint_ge (accepted, 250);   /* the well-formed ones that land on a real vehicle */
  guint n;
  ft_live_get_malformed (fx.live, &n);
  ck_assert_uint_le (n, 256);
  printf ("fuzz: %u payloads, %u accepted, %" G_GUINT64_FORMAT " malformed, %" G_GUINT64_FORMAT
          " unknown, %u vehicles; tasks: %" G_GUINT64_FORMAT " updates applied, %" G_GUINT64_FORMAT
          " refused\n", N, accepted, s->malformed, s->unknown_refused,
          ft_fleet_n_vehicles (fx.core->fleet), s->task_updates, s->task_refused);
  ck_assert_uint_gt (s->task_refused, 0);
  ck_assert_uint_gt (s->task_updates, 0);
  fx_free (&fx);
}
END_TEST

static Suite *
live_suite (void)
{
  Suite *s = suite_create ("live");
  struct { const char *name; const TTest *fn; } cases[] = {
    { "url", test_url },
    { "bad-config", test_bad_config },
    { "register-and-apply", test_register_and_apply },
    { "shadow-on-live-state", test_shadow_on_live_state },
    { "fault-codes-logged", test_fault_codes_logged },
    { "order-and-duplicates", test_order_and_duplicates },
    { "unknown-refused", test_unknown_refused },
    { "provisioning", test_provisioning },
    { "malformed-counted", test_malformed_counted },
    { "events-and-status", test_events_and_status },
    { "silence-and-downsampling", test_silence_and_downsampling },
    { "flush-on-stop", test_flush_on_stop },
    { "outgoing-json", test_outgoing_json },
    { "zone-speed-limit", test_zone_speed_limit },
    { "staff", test_staff },
    { "commands-offline", test_commands_offline },
    { "staff-tasks", test_staff_tasks },
    { "outbox-bounded", test_outbox_bounded },
    { "ops-proposals", test_ops_proposals },
    { "ops-full-battery", test_ops_full_battery },
    { "ops-restart", test_ops_restart },
    { "ops-inspect-from-risk", test_ops_inspect_from_risk },
    { "ops-surplus-rebalance", test_ops_surplus_rebalance },
    { "ops-bad-stop-input", test_ops_bad_stop_input },
    { "fuzz", test_fuzz },
  };
  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      TCase *tc = tcase_create (cases[i].name);
      tcase_set_timeout (tc, 300);
      tcase_add_test (tc, cases[i].fn);
      suite_add_tcase (s, tc);
    }
  return s;
}

int
main (void)
{
  SRunner *sr = srunner_create (live_suite ());
  srunner_run_all (sr, CK_NORMAL);
  int failed = srunner_ntests_failed (sr);
  srunner_free (sr);
  return failed ? 1 : 0;
}
