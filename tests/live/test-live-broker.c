/* test-live-broker.c — integration tests of live mode over a real mosquitto
 * started by the test on a loopback port: the emulator publishes a fleet
 * and the twin's state matches it; a command from the twin reaches the
 * emulator and is acknowledged; killing and restarting the broker mid-run
 * reconnects, resubscribes and continues; TLS with passwords works and a
 * wrong password is refused with a clear error.
 */
#include "ft-config.h"
#include "ft-live.h"
#include "live-broker.h"

#ifdef FT_HAVE_SIM
#include "ft-sim-world.h"
#endif

#include <check.h>
#include <json-glib/json-glib.h>
#include <mosquitto.h>
#include <glib/gstdio.h>
#include <math.h>
#include <signal.h>
#include <string.h>
#include <stdio.h>

#define PFX "ft/it"

static FtTime
wall (void)
{
  return g_get_real_time () / 1000;
}

static FtLiveEmuVehicle *
make_fleet (guint n, guint seed)
{
  g_autoptr(GRand) r = g_rand_new_with_seed (seed);
  FtLiveEmuVehicle *v = g_new0 (FtLiveEmuVehicle, n);
  static const char *const states[] = { "available", "available", "on_trip", "non_operational" };
  static const char *const kinds[] = { "scooter", "bike", "moped" };
  for (guint i = 0; i < n; i++)
    {
      ft_uuid_from_words (g_rand_int (r) * 0x100000001ull + i, ((guint64) seed << 32) | i,
                          v[i].device_id);
      g_strlcpy (v[i].kind, kinds[i % 3], sizeof v[i].kind);
      v[i].pos = (FtLatLon) { 52.45 + g_rand_double (r) * 0.1, 13.30 + g_rand_double (r) * 0.2 };
      v[i].battery_pct = g_rand_double_range (r, 10, 100);
      g_strlcpy (v[i].state, states[i % 4], sizeof v[i].state);
      v[i].locked = strcmp (v[i].state, "on_trip") != 0;
      v[i].odometer_m = g_rand_double_range (r, 0, 1e5);
    }
  return v;
}

static void
move_fleet (FtLiveEmuVehicle *v, guint n, double dlat)
{
  for (guint i = 0; i < n; i++)
    {
      v[i].pos.lat += dlat;
      v[i].battery_pct = MAX (0.0, v[i].battery_pct - 0.5);
      v[i].odometer_m += 50;
    }
}

static FtLiveConfig
config_for (LiveBroker *b, const char *client)
{
  FtLiveConfig cfg;
  ft_live_config_init (&cfg);
  cfg.url = live_broker_url (b);
  cfg.prefix = g_strdup (PFX);
  cfg.client_id = g_strdup (client);
  cfg.reconnect_min_s = 1;
  cfg.reconnect_max_s = 2;
  cfg.qos = 1;
  cfg.command_retry = 500;
  /* these tests' fleets and crews provision themselves: opted in */
  cfg.unknown = FT_LIVE_UNKNOWN_REGISTER;
  cfg.provision_per_minute = 100000;
  return cfg;
}

/* Process until pred holds or timeout. */
typedef gboolean (*Pred) (FtLive *live, gpointer data);

static gboolean
pump_until (FtLive *live, FtLiveEmu *emu, FtLiveEmuVehicle *recs, guint n, Pred pred,
            gpointer data, guint timeout_ms)
{
  gint64 deadline = g_get_monotonic_time () + (gint64) timeout_ms * 1000;
  while (g_get_monotonic_time () < deadline)
    {
      ft_live_wait (live, 20);
      ft_live_process (live, wall (), 0);
      if (emu)
        {
          guint nc = 0;
          g_autofree FtLiveEmuCommand *c = ft_live_emu_poll (emu, &nc);
          for (guint i = 0; i < nc; i++)
            ft_live_emu_obey (emu, recs, n, &c[i], wall ());
        }
      if (pred (live, data))
        return TRUE;
    }
  return pred (live, data);
}

static gboolean
received_at_least (FtLive *live, gpointer data)
{
  return ft_live_get_stats (live)->telemetry >= GPOINTER_TO_UINT (data);
}

static gboolean
is_connected (FtLive *live, gpointer data)
{
  return ft_live_get_conn_state (live) == FT_LIVE_CONNECTED;
}

static gboolean
is_not_connected (FtLive *live, gpointer data)
{
  return ft_live_get_conn_state (live) != FT_LIVE_CONNECTED;
}

static void
assert_matches (FtCore *core, FtLive *live, const FtLiveEmuVehicle *recs, guint n)
{
  g_autoptr(GError) error = NULL;
  ck_assert_msg (ft_core_check (core, &error), "core: %s", error ? error->message : "");
  ck_assert_msg (ft_live_check (live, &error), "live: %s", error ? error->message : "");
  ck_assert_uint_eq (ft_fleet_n_vehicles (core->fleet), n);
  for (guint i = 0; i < n; i++)
    {
      guint v;
      ck_assert_msg (ft_fleet_lookup_device (core->fleet, recs[i].device_id, &v),
                     "vehicle %s missing", recs[i].device_id);
      const FtVehicle *veh = ft_fleet_get_vehicle (core->fleet, v);
      /* positions within 1 m, battery within 0.1 %, same state and lock */
      ck_assert_msg (ft_distance_m (veh->pos, recs[i].pos) < 1.0, "vehicle %u off by %.2f m", i,
                     ft_distance_m (veh->pos, recs[i].pos));
      ck_assert_double_eq_tol (ft_fleet_soc (core->fleet, v) * 100.0, recs[i].battery_pct, 0.1);
      ck_assert_str_eq (ft_vehicle_state_name (veh->state), recs[i].state);
      ck_assert_int_eq (ft_live_vehicle_locked (live, v), recs[i].locked ? 1 : 0);
    }
}

typedef struct {
  LiveBroker *broker;
  FtCore     *core;
  FtLive     *live;
  FtLiveEmu  *emu;
} Rig;

static void
rig_open (Rig *rig, const char *name)
{
  g_autoptr(GError) error = NULL;
  rig->broker = live_broker_start (&error);
  ck_assert_msg (rig->broker != NULL, "broker: %s", error ? error->message : "");
  FtCoreConfig cc;
  ft_core_config_init (&cc);
  rig->core = ft_core_new (&cc, NULL, NULL);
  g_autofree char *twin_id = g_strdup_printf ("twin-%s", name);
  g_autofree char *emu_id = g_strdup_printf ("emu-%s", name);
  FtLiveConfig cfg = config_for (rig->broker, twin_id);
  rig->live = ft_live_new (rig->core, &cfg, &error);
  ck_assert_msg (rig->live != NULL, "%s", error ? error->message : "");
  ck_assert_msg (ft_live_connect_sync (rig->live, 5000, &error), "twin: %s", error ? error->message : "");
  ft_live_config_clear (&cfg);
  cfg = config_for (rig->broker, emu_id);
  rig->emu = ft_live_emu_new (&cfg, &error);
  ck_assert_msg (rig->emu != NULL, "%s", error ? error->message : "");
  ck_assert_msg (ft_live_emu_connect (rig->emu, 5000, &error), "emu: %s", error ? error->message : "");
  ft_live_config_clear (&cfg);
  /* let the twin's SUBACK land before the first publish */
  g_usleep (200000);
}

static void
rig_close (Rig *rig)
{
  ft_live_emu_free (rig->emu);
  ft_live_stop (rig->live);
  ft_live_free (rig->live);
  ft_core_free (rig->core);
  live_broker_free (rig->broker);
}

/* ------------------------------------------------------------------ tests */

START_TEST (test_fleet_matches)
{
  Rig rig;
  rig_open (&rig, "match");
  const guint N = 300;
  g_autofree FtLiveEmuVehicle *recs = make_fleet (N, 7);
  FtLiveEmuStaff staff[2] = { { .id = "van-1", .pos = { 52.5, 13.4 }, .task_id = "t-9",
                                .task_status = "assigned" },
                              { .id = "van-2", .pos = { 52.51, 13.41 } } };
  ft_live_emu_announce (rig.emu, recs, N, wall ());
  for (int round = 0; round < 3; round++)
    {
      ck_assert_uint_eq (ft_live_emu_publish (rig.emu, recs, N, wall (), g_get_real_time ()), N);
      ft_live_emu_publish_staff (rig.emu, staff, 2, wall ());
      ck_assert (pump_until (rig.live, NULL, NULL, 0, received_at_least,
                             GUINT_TO_POINTER (N * (round + 1)), 10000));
      assert_matches (rig.core, rig.live, recs, N);
      move_fleet (recs, N, 1e-4);
      g_usleep (5000);   /* next timestamps strictly newer */
    }
  /* an MDS event changes a state */
  g_strlcpy (recs[0].state, "on_trip", sizeof recs[0].state);
  recs[0].locked = FALSE;
  ft_live_emu_publish_event (rig.emu, &recs[0], "trip_start", wall ());
  g_usleep (2000);
  ft_live_emu_publish_one (rig.emu, &recs[0], wall (), g_get_real_time (), 1);
  ck_assert (pump_until (rig.live, NULL, NULL, 0, received_at_least, GUINT_TO_POINTER (3 * N + 1), 5000));
  guint v;
  ck_assert (ft_fleet_lookup_device (rig.core->fleet, recs[0].device_id, &v));
  ck_assert_int_eq (ft_fleet_get_vehicle (rig.core->fleet, v)->state, FT_STATE_ON_TRIP);
  ck_assert_uint_ge (ft_live_get_stats (rig.live)->events, 1);
  guint si;
  ck_assert (ft_live_lookup_staff (rig.live, "van-1", &si));
  ck_assert_str_eq (ft_live_get_staff (rig.live, si)->task_id, "t-9");
  ck_assert_double_eq_tol (ft_live_get_staff (rig.live, si)->pos.lat, 52.5, 1e-7);
  ck_assert_uint_eq (ft_live_get_stats (rig.live)->malformed, 0);
  rig_close (&rig);
}
END_TEST

static gboolean
command_closed (FtLive *live, gpointer data)
{
  const FtLiveCommand *c = ft_live_get_command (live, data);
  return c && c->state != FT_CMD_QUEUED && c->state != FT_CMD_SENT;
}

START_TEST (test_command_ack)
{
  Rig rig;
  rig_open (&rig, "cmd");
  const guint N = 20;
  g_autofree FtLiveEmuVehicle *recs = make_fleet (N, 11);
  ft_live_emu_publish (rig.emu, recs, N, wall (), -1);
  ck_assert (pump_until (rig.live, NULL, NULL, 0, received_at_least, GUINT_TO_POINTER (N), 5000));
  guint v;
  ck_assert (ft_fleet_lookup_device (rig.core->fleet, recs[0].device_id, &v));
  ck_assert (recs[0].locked);
  g_autoptr(GError) error = NULL;
  g_autofree char *id = g_strdup (ft_live_send_command (rig.live, v, FT_CMD_UNLOCK, wall (), 0, &error));
  ck_assert_ptr_nonnull (id);
  ck_assert_int_eq (ft_live_get_command (rig.live, id)->state, FT_CMD_SENT);
  ck_assert (pump_until (rig.live, rig.emu, recs, N, command_closed, id, 5000));
  const FtLiveCommand *c = ft_live_get_command (rig.live, id);
  ck_assert_int_eq (c->state, FT_CMD_ACKED);
  ck_assert_uint_eq (c->attempts, 1);
  ck_assert (!recs[0].locked);                       /* the emulator obeyed */
  /* next telemetry carries the new lock state to the twin */
  g_usleep (2000);
  ft_live_emu_publish (rig.emu, recs, N, wall (), -1);
  ck_assert (pump_until (rig.live, NULL, NULL, 0, received_at_least, GUINT_TO_POINTER (2 * N), 5000));
  ck_assert_int_eq (ft_live_vehicle_locked (rig.live, v), 0);
  /* locate produces a "located" event and an ack */
  g_autofree char *id2 = g_strdup (ft_live_send_command (rig.live, v, FT_CMD_LOCATE, wall (), 0, NULL));
  ck_assert (pump_until (rig.live, rig.emu, recs, N, command_closed, id2, 5000));
  ck_assert_int_eq (ft_live_get_command (rig.live, id2)->state, FT_CMD_ACKED);
  /* a command nobody obeys is retried and then expires */
  g_autofree char *id3 = g_strdup (ft_live_send_command (rig.live, v, FT_CMD_ALARM, wall (), 1500, NULL));
  ck_assert (pump_until (rig.live, NULL, NULL, 0, command_closed, id3, 5000));
  ck_assert_int_eq (ft_live_get_command (rig.live, id3)->state, FT_CMD_EXPIRED);
  ck_assert_uint_ge (ft_live_get_command (rig.live, id3)->attempts, 2);
  ck_assert_uint_ge (ft_live_get_stats (rig.live)->command_retries, 1);
  g_autoptr(GError) e2 = NULL;
  ck_assert (ft_core_check (rig.core, &e2));
  rig_close (&rig);
}
END_TEST

START_TEST (test_broker_restart)
{
  Rig rig;
  rig_open (&rig, "restart");
  const guint N = 100;
  g_autofree FtLiveEmuVehicle *recs = make_fleet (N, 13);
  ft_live_emu_publish (rig.emu, recs, N, wall (), -1);
  ck_assert (pump_until (rig.live, NULL, NULL, 0, received_at_least, GUINT_TO_POINTER (N), 5000));
  assert_matches (rig.core, rig.live, recs, N);

  live_broker_kill (rig.broker);
  ck_assert (pump_until (rig.live, NULL, NULL, 0, is_not_connected, NULL, 5000));
  ck_assert_int_eq (ft_live_get_conn_state (rig.live), FT_LIVE_RECONNECTING);
  /* the twin keeps working while the broker is away */
  move_fleet (recs, N, 2e-4);
  g_autoptr(GError) error = NULL;
  ck_assert_msg (live_broker_restart (rig.broker, &error), "%s", error ? error->message : "");
  ck_assert (pump_until (rig.live, NULL, NULL, 0, is_connected, NULL, 15000));
  ck_assert_msg (ft_live_emu_connect (rig.emu, 15000, &error), "%s", error ? error->message : "");
  g_usleep (300000);  /* resubscription */
  ft_live_emu_publish (rig.emu, recs, N, wall (), -1);
  ck_assert (pump_until (rig.live, NULL, NULL, 0, received_at_least, GUINT_TO_POINTER (2 * N), 10000));
  assert_matches (rig.core, rig.live, recs, N);
  const FtLiveStats *s = ft_live_get_stats (rig.live);
  ck_assert_uint_ge (s->connects, 2);
  ck_assert_uint_ge (s->disconnects, 1);
  ck_assert_uint_eq (s->malformed, 0);
  rig_close (&rig);
}
END_TEST

START_TEST (test_tls_password)
{
  if (!live_have_tools ())
    {
      printf ("skipping TLS test: openssl or mosquitto_passwd missing\n");
      return;
    }
  g_autoptr(GError) error = NULL;
  LiveBroker *b = live_broker_start_tls ("fleet", "s3cret-pass", &error);
  ck_assert_msg (b != NULL, "TLS broker: %s", error ? error->message : "");
  FtCoreConfig cc;
  ft_core_config_init (&cc);
  g_autoptr(FtCore) core = ft_core_new (&cc, NULL, NULL);

  FtLiveConfig cfg = config_for (b, "twin-tls");
  cfg.ca_file = live_broker_path (b, "ca.crt");
  cfg.username = g_strdup ("fleet");
  cfg.password = g_strdup ("s3cret-pass");
  cfg.protocol = 5;
  FtLive *live = ft_live_new (core, &cfg, &error);
  ck_assert_msg (live != NULL, "%s", error ? error->message : "");
  ck_assert_msg (ft_live_connect_sync (live, 10000, &error), "TLS connect: %s", error ? error->message : "");

  FtLiveConfig ecfg = config_for (b, "emu-tls");
  ecfg.ca_file = live_broker_path (b, "ca.crt");
  ecfg.username = g_strdup ("fleet");
  ecfg.password = g_strdup ("s3cret-pass");
  FtLiveEmu *emu = ft_live_emu_new (&ecfg, &error);
  ck_assert_msg (emu && ft_live_emu_connect (emu, 10000, &error), "emu TLS: %s", error ? error->message : "");
  g_usleep (200000);
  g_autofree FtLiveEmuVehicle *recs = make_fleet (10, 17);
  ft_live_emu_publish (emu, recs, 10, wall (), -1);
  ck_assert (pump_until (live, NULL, NULL, 0, received_at_least, GUINT_TO_POINTER (10), 5000));
  assert_matches (core, live, recs, 10);
  ft_live_emu_free (emu);
  ft_live_stop (live);
  ft_live_free (live);

  /* wrong password: refused, clearly, and no endless retrying */
  g_free (cfg.password);
  cfg.password = g_strdup ("wrong");
  g_free (cfg.client_id);
  cfg.client_id = g_strdup ("twin-tls-bad");
  for (int proto = 3; proto <= 5; proto += 2)
    {
      cfg.protocol = proto;
      live = ft_live_new (core, &cfg, &error);
      ck_assert (live != NULL);
      ck_assert (!ft_live_connect_sync (live, 10000, &error));
      ck_assert_msg (g_error_matches (error, FT_LIVE_ERROR, FT_LIVE_ERROR_REFUSED), "%s", error->message);
      ck_assert_msg (strstr (error->message, "username and password") != NULL, "%s", error->message);
      ck_assert_msg (strstr (error->message, "127.0.0.1") != NULL, "%s", error->message);
      printf ("wrong password (MQTT %s): %s\n", proto == 5 ? "5" : "3.1.1", error->message);
      g_clear_error (&error);
      ck_assert_int_eq (ft_live_get_conn_state (live), FT_LIVE_REFUSED);
      ft_live_free (live);
    }
  /* wrong CA: the TLS handshake fails; reported as not connected */
  g_free (cfg.password);
  cfg.password = g_strdup ("s3cret-pass");
  g_free (cfg.ca_file);
  cfg.ca_file = g_strdup ("/etc/ssl/certs/ca-certificates.crt");
  if (g_file_test (cfg.ca_file, G_FILE_TEST_EXISTS))
    {
      /* a verification failure is final: a clear error at once, no retrying */
      live = ft_live_new (core, &cfg, &error);
      ck_assert (live != NULL);
      gint64 t0 = g_get_monotonic_time ();
      ck_assert (!ft_live_connect_sync (live, 10000, &error));
      ck_assert_msg (g_error_matches (error, FT_LIVE_ERROR, FT_LIVE_ERROR_TLS), "%s", error->message);
      ck_assert_msg (g_get_monotonic_time () - t0 < 5 * G_USEC_PER_SEC, "waited for the timeout");
      ck_assert_msg (strstr (error->message, "127.0.0.1") && strstr (error->message, "verif"),
                     "%s", error->message);
      printf ("wrong CA: %s\n", error->message);
      g_clear_error (&error);
      ck_assert_int_eq (ft_live_get_conn_state (live), FT_LIVE_REFUSED);
      g_usleep (1500000);
      ck_assert_int_eq (ft_live_get_conn_state (live), FT_LIVE_REFUSED);   /* stays final */
      ft_live_free (live);
    }
  ft_live_config_clear (&cfg);
  ft_live_config_clear (&ecfg);
  live_broker_free (b);
}
END_TEST

START_TEST (test_unreachable)
{
  /* nothing listens on this port: connect_sync times out with a clear error */
  FtCoreConfig cc;
  ft_core_config_init (&cc);
  g_autoptr(FtCore) core = ft_core_new (&cc, NULL, NULL);
  FtLiveConfig cfg;
  ft_live_config_init (&cfg);
  cfg.url = g_strdup ("mqtt://127.0.0.1:9");
  cfg.prefix = g_strdup (PFX);
  g_autoptr(GError) error = NULL;
  FtLive *live = ft_live_new (core, &cfg, &error);
  ck_assert (live != NULL);
  ck_assert (!ft_live_connect_sync (live, 1500, &error));
  ck_assert (g_error_matches (error, FT_LIVE_ERROR, FT_LIVE_ERROR_CONNECT));
  ck_assert (strstr (error->message, "127.0.0.1:9") != NULL);
  ft_live_free (live);
  ft_live_config_clear (&cfg);
}
END_TEST


/* ------------------------------------------------- persistent sessions */

/* QoS 1 telemetry published while the twin is down reaches it when it comes
 * back under the same client id (a persistent session); with a clean
 * session it is lost (the control). MQTT 3.1.1 and 5. */
START_TEST (test_persistent_session)
{
  g_autoptr(GError) error = NULL;
  for (int proto = 3; proto <= 5; proto += 2)
    for (int clean = 0; clean <= 1; clean++)
      {
        LiveBroker *b = live_broker_start (&error);
        ck_assert_msg (b != NULL, "%s", error ? error->message : "");
        FtCoreConfig cc;
        ft_core_config_init (&cc);
        g_autoptr(FtCore) core = ft_core_new (&cc, NULL, NULL);
        FtLiveConfig cfg = config_for (b, "twin-persist");
        cfg.protocol = proto;
        cfg.clean_session = clean;
        FtLive *live = ft_live_new (core, &cfg, &error);
        ck_assert_msg (live && ft_live_connect_sync (live, 5000, &error), "%s", error ? error->message : "");
        g_usleep (200000);                       /* SUBACK */
        ft_live_stop (live);
        ft_live_free (live);

        const guint N = 40;
        g_autofree FtLiveEmuVehicle *recs = make_fleet (N, 23);
        FtLiveConfig ecfg = config_for (b, "emu-persist");
        FtLiveEmu *emu = ft_live_emu_new (&ecfg, &error);
        ck_assert_msg (emu && ft_live_emu_connect (emu, 5000, &error), "%s", error ? error->message : "");
        ck_assert_uint_eq (ft_live_emu_publish (emu, recs, N, wall (), -1), N);   /* QoS 1 */
        g_usleep (500000);                       /* the PUBACKs */
        ft_live_emu_free (emu);
        ft_live_config_clear (&ecfg);

        live = ft_live_new (core, &cfg, &error);
        ck_assert_msg (live && ft_live_connect_sync (live, 5000, &error), "%s", error ? error->message : "");
        gboolean got = pump_until (live, NULL, NULL, 0, received_at_least, GUINT_TO_POINTER (N),
                                   clean ? 1500 : 5000);
        printf ("MQTT %d, %s session: %" G_GUINT64_FORMAT " of %u messages sent while away arrived\n",
                proto, clean ? "clean" : "persistent", ft_live_get_stats (live)->telemetry, N);
        if (clean)
          ck_assert_uint_eq (ft_live_get_stats (live)->telemetry, 0);
        else
          {
            ck_assert_msg (got, "only %" G_GUINT64_FORMAT " of %u arrived",
                           ft_live_get_stats (live)->telemetry, N);
            assert_matches (core, live, recs, N);
          }
        ft_live_stop (live);
        ft_live_free (live);
        ft_live_config_clear (&cfg);
        live_broker_free (b);
      }
}
END_TEST

/* ------------------------------------------------------ packet size */

static gboolean
raw_publish (LiveBroker *b, const char *topic, const void *payload, gsize len, int protocol)
{
  struct mosquitto *m = mosquitto_new (NULL, true, NULL);
  mosquitto_int_option (m, MOSQ_OPT_PROTOCOL_VERSION, protocol == 5 ? MQTT_PROTOCOL_V5 : MQTT_PROTOCOL_V311);
  gboolean ok = mosquitto_connect (m, "127.0.0.1", b->port, 10) == MOSQ_ERR_SUCCESS;
  int mid = 0;
  ok = ok && mosquitto_publish (m, &mid, topic, (int) len, payload, 1, false) == MOSQ_ERR_SUCCESS;
  for (int i = 0; ok && i < 50; i++)
    mosquitto_loop (m, 20, 1);
  mosquitto_disconnect (m);
  mosquitto_loop (m, 20, 1);
  mosquitto_destroy (m);
  return ok;
}

/* MQTT 5: the twin advertises its maximum packet size, so the broker does
 * not deliver a 200 KiB message at all (nothing received, nothing to
 * refuse), and the twin keeps working. */
START_TEST (test_max_packet_size)
{
  g_autoptr(GError) error = NULL;
  LiveBroker *b = live_broker_start (&error);
  ck_assert_msg (b != NULL, "%s", error ? error->message : "");
  FtCoreConfig cc;
  ft_core_config_init (&cc);
  g_autoptr(FtCore) core = ft_core_new (&cc, NULL, NULL);
  FtLiveConfig cfg = config_for (b, "twin-maxpkt");
  cfg.protocol = 5;
  FtLive *live = ft_live_new (core, &cfg, &error);
  ck_assert_msg (live && ft_live_connect_sync (live, 5000, &error), "%s", error ? error->message : "");
  g_usleep (200000);
  g_autofree FtLiveEmuVehicle *recs = make_fleet (1, 29);
  gsize big = 200 * 1024;
  g_autofree char *payload = g_malloc (big);
  memset (payload, ' ', big);
  g_autofree char *head = g_strdup_printf ("{\"timestamp\":%" G_GINT64_FORMAT ",\"lat\":52.5,\"lon\":13.4}", wall ());
  memcpy (payload, head, strlen (head));
  g_autofree char *topic = g_strdup_printf (PFX "/vehicles/%s/telemetry", recs[0].device_id);
  for (int i = 0; i < 3; i++)
    ck_assert (raw_publish (b, topic, payload, big, 5));
  FtLiveConfig ecfg = config_for (b, "emu-maxpkt");
  FtLiveEmu *emu = ft_live_emu_new (&ecfg, &error);
  ck_assert_msg (emu && ft_live_emu_connect (emu, 5000, &error), "%s", error ? error->message : "");
  g_usleep (2000);
  ft_live_emu_publish (emu, recs, 1, wall (), -1);
  ck_assert (pump_until (live, NULL, NULL, 0, received_at_least, GUINT_TO_POINTER (1), 5000));
  pump_until (live, NULL, NULL, 0, is_not_connected, NULL, 500);
  const FtLiveStats *st = ft_live_get_stats (live);
  printf ("3 x 200 KiB + 1 telemetry published: twin received %" G_GUINT64_FORMAT ", refused %"
          G_GUINT64_FORMAT ", state %s\n", st->received, st->malformed,
          ft_live_conn_state_name (ft_live_get_conn_state (live)));
  ck_assert_uint_eq (st->received, 1);
  ck_assert_uint_eq (st->malformed, 0);
  ck_assert_int_eq (ft_live_get_conn_state (live), FT_LIVE_CONNECTED);
  assert_matches (core, live, recs, 1);
  ft_live_emu_free (emu);
  ft_live_config_clear (&ecfg);
  ft_live_stop (live);
  ft_live_free (live);
  ft_live_config_clear (&cfg);
  live_broker_free (b);
}
END_TEST

/* Mutual TLS: with the client certificate the twin connects and ingests;
 * without it the broker refuses the handshake and the twin says so,
 * finally (no retrying). */
START_TEST (test_mutual_tls)
{
  if (!live_have_tools ())
    {
      printf ("skipping mutual TLS test: openssl missing\n");
      return;
    }
  g_autoptr(GError) error = NULL;
  LiveBroker *b = live_broker_start_mtls (&error);
  ck_assert_msg (b != NULL, "mTLS broker: %s", error ? error->message : "");
  FtCoreConfig cc;
  ft_core_config_init (&cc);
  g_autoptr(FtCore) core = ft_core_new (&cc, NULL, NULL);
  for (int proto = 3; proto <= 5; proto += 2)
    {
      FtLiveConfig cfg = config_for (b, "twin-mtls");
      cfg.protocol = proto;
      cfg.ca_file = live_broker_path (b, "ca.crt");
      cfg.cert_file = live_broker_path (b, "client.crt");
      cfg.key_file = live_broker_path (b, "client.key");
      FtLive *live = ft_live_new (core, &cfg, &error);
      ck_assert_msg (live && ft_live_connect_sync (live, 10000, &error), "mTLS: %s", error ? error->message : "");
      FtLiveConfig ecfg = config_for (b, "emu-mtls");
      ecfg.ca_file = g_strdup (cfg.ca_file);
      ecfg.cert_file = g_strdup (cfg.cert_file);
      ecfg.key_file = g_strdup (cfg.key_file);
      FtLiveEmu *emu = ft_live_emu_new (&ecfg, &error);
      ck_assert_msg (emu && ft_live_emu_connect (emu, 10000, &error), "emu mTLS: %s", error ? error->message : "");
      g_usleep (200000);
      g_autofree FtLiveEmuVehicle *recs = make_fleet (5, 31);
      guint64 before = ft_live_get_stats (live)->telemetry;
      g_usleep (2000);
      ft_live_emu_publish (emu, recs, 5, wall (), -1);
      ck_assert (pump_until (live, NULL, NULL, 0, received_at_least, GUINT_TO_POINTER (before + 5), 5000));
      ft_live_emu_free (emu);
      ft_live_config_clear (&ecfg);
      ft_live_stop (live);
      ft_live_free (live);

      /* no client certificate: refused, finally */
      g_clear_pointer (&cfg.cert_file, g_free);
      g_clear_pointer (&cfg.key_file, g_free);
      live = ft_live_new (core, &cfg, &error);
      ck_assert (live != NULL);
      gint64 t0 = g_get_monotonic_time ();
      ck_assert (!ft_live_connect_sync (live, 10000, &error));
      ck_assert_msg (g_error_matches (error, FT_LIVE_ERROR, FT_LIVE_ERROR_TLS), "%s", error->message);
      ck_assert_msg (g_get_monotonic_time () - t0 < 5 * G_USEC_PER_SEC, "waited for the timeout");
      printf ("MQTT %d, no client certificate: %s\n", proto, error->message);
      g_clear_error (&error);
      ck_assert_int_eq (ft_live_get_conn_state (live), FT_LIVE_REFUSED);
      ft_live_free (live);
      ft_live_config_clear (&cfg);
    }
  live_broker_free (b);
}
END_TEST

#ifdef FT_HAVE_SIM
/* Run `fleet-twin-cli live ARGS…` to its end; stdout and stderr together
 * in *out, stdin closed (no terminal: no password prompt). */
static int
run_cli (char **out, const char *const *args)
{
  g_autofree char *cli = g_build_filename (FT_BUILD_DIR, "ui", "cli", "fleet-twin-cli", NULL);
  g_autoptr(GPtrArray) argv = g_ptr_array_new ();
  g_ptr_array_add (argv, cli);
  for (guint i = 0; args[i]; i++)
    g_ptr_array_add (argv, (gpointer) args[i]);
  g_ptr_array_add (argv, NULL);
  g_autoptr(GError) error = NULL;
  g_autoptr(GSubprocessLauncher) l =
    g_subprocess_launcher_new (G_SUBPROCESS_FLAGS_STDIN_PIPE | G_SUBPROCESS_FLAGS_STDOUT_PIPE |
                               G_SUBPROCESS_FLAGS_STDERR_MERGE);
  g_subprocess_launcher_unsetenv (l, "FT_MQTT_PASSWORD");
  g_autoptr(GSubprocess) p = g_subprocess_launcher_spawnv (l, (const char *const *) argv->pdata, &error);
  ck_assert_msg (p != NULL, "%s", error ? error->message : "");
  ck_assert (g_subprocess_communicate_utf8 (p, NULL, NULL, out, NULL, &error));
  return g_subprocess_get_if_exited (p) ? g_subprocess_get_exit_status (p) : 128;
}

/* `fleet-twin-cli live --pricing … --incentives --planner ID`: a rider is
 * refused and nothing is kept; a planner runs the policy on the zones of
 * the city, publishes them, and the store keeps the lever state. */
START_TEST (test_cli_live_pricing)
{
  g_autoptr(GError) error = NULL;
  LiveBroker *b = live_broker_start (&error);
  ck_assert_msg (b != NULL, "%s", error ? error->message : "");
  g_autofree char *url = live_broker_url (b);
  g_autofree char *db = live_broker_path (b, "pricing.db");
  FtCoreConfig cc;
  ft_core_config_init (&cc);
  FtCore *core = ft_core_new (&cc, NULL, NULL);
  ck_assert_msg (ft_core_attach_store (core, db, NULL, &error), "%s", error ? error->message : "");
  gint rider = ft_accounts_create (core->accounts, FT_ROLE_RIDER, "Rider", NULL, 0, &error);
  gint planner = ft_accounts_create (core->accounts, FT_ROLE_PLANNER, "Planner", NULL, 0, &error);
  ck_assert (rider >= 0 && planner >= 0);
  g_autofree char *rider_id = g_strdup (ft_accounts_get (core->accounts, (guint) rider)->id);
  g_autofree char *planner_id = g_strdup (ft_accounts_get (core->accounts, (guint) planner)->id);
  ck_assert (ft_core_commit (core, &error));
  ft_core_free (core);

  g_autofree char *out = NULL;
  const char *refused[] = { "live", "--broker", url, "--prefix", PFX, "--db", db, "--duration", "1",
                            "--pricing", "baseline", "--planner", rider_id, NULL };
  int st = run_cli (&out, refused);
  ck_assert_msg (st != 0 && strstr (out, "may not") != NULL, "a rider ran prices (%d): %s", st, out);
  g_autofree char *none = ft_store_read_meta (db, FT_LIVE_LEVERS_META, &error);
  ck_assert_msg (none == NULL && error == NULL, "kept after a refusal: %s", none);

  g_clear_pointer (&out, g_free);
  const char *args[] = { "live", "--broker", url, "--prefix", PFX, "--db", db, "--duration", "3",
                         "--pricing", "optimiser", "--objective", "margin", "--incentives", "--planner",
                         planner_id, "--price-interval", "0.02", NULL };
  st = run_cli (&out, args);
  ck_assert_msg (st == 0, "live --pricing failed (%d): %s", st, out);
  ck_assert_msg (strstr (out, "pricing optimise for margin, incentives on") != NULL, "%s", out);
  g_autofree char *kept = ft_store_read_meta (db, FT_LIVE_LEVERS_META, &error);
  ck_assert_msg (kept != NULL, "no lever state kept: %s", error ? error->message : "");
  g_autoptr(FtLeverState) st_kept = ft_lever_state_from_json (kept, -1, "kept", &error);
  ck_assert_msg (st_kept != NULL, "%s", error ? error->message : "");
  ck_assert_uint_gt (st_kept->n_zones, 1);
  ck_assert (st_kept->has_offers);
  ck_assert_int_gt (st_kept->next_price, 0);
  /* the price topic holds the city's zones */
  g_autofree char *port = g_strdup_printf ("%d", b->port);
  g_autoptr(GSubprocess) p = g_subprocess_new (G_SUBPROCESS_FLAGS_STDOUT_PIPE, &error, "mosquitto_sub", "-h",
                                               "127.0.0.1", "-p", port, "-t", PFX "/prices/v1", "-C", "1",
                                               "-W", "5", NULL);
  g_autofree char *msg = NULL;
  ck_assert (p && g_subprocess_communicate_utf8 (p, NULL, NULL, &msg, NULL, &error));
  g_autoptr(JsonParser) jp = json_parser_new ();
  ck_assert_msg (json_parser_load_from_data (jp, msg, -1, NULL), "not JSON: %s", msg);
  JsonObject *o = json_node_get_object (json_parser_get_root (jp));
  ck_assert_uint_eq (json_array_get_length (json_object_get_array_member (o, "zones")), st_kept->n_zones);
  live_broker_free (b);
}
END_TEST

/* Credentials on the command line: -P is refused (pointing at the
 * alternatives), the password comes from a file, a password in the URL is
 * never shown; a TLS verification failure and a wrong password end
 * `fleet-twin-cli live` at once with a clear error and a non-zero status.
 * No output line ever holds the password. */
START_TEST (test_cli_credentials)
{
  g_autofree char *cli = g_build_filename (FT_BUILD_DIR, "ui", "cli", "fleet-twin-cli", NULL);
  ck_assert_msg (g_file_test (cli, G_FILE_TEST_IS_EXECUTABLE), "%s not built", cli);
  if (!live_have_tools ())
    {
      printf ("skipping CLI credentials test: openssl or mosquitto_passwd missing\n");
      return;
    }
  const char *secret = "Wh1sper-9f3b";
  g_autoptr(GError) error = NULL;
  LiveBroker *b = live_broker_start_tls ("fleet", secret, &error);
  ck_assert_msg (b != NULL, "%s", error ? error->message : "");
  g_autofree char *url = live_broker_url (b);
  g_autofree char *ca = live_broker_path (b, "ca.crt");
  g_autofree char *db = live_broker_path (b, "cred.db");
  g_autofree char *pwfile = live_broker_path (b, "pw.txt");
  g_autofree char *badfile = live_broker_path (b, "bad.txt");
  g_autofree char *pw_nl = g_strconcat (secret, "\n", NULL);
  ck_assert (g_file_set_contents (pwfile, pw_nl, -1, NULL));
  ck_assert (g_file_set_contents (badfile, "not-the-password\n", -1, NULL));
  g_autofree char *url_pw = g_strdup_printf ("mqtts://fleet:%s@127.0.0.1:%d", secret, b->port);
  g_autofree char *out = NULL;

  /* -P: refused before anything happens */
  const char *a1[] = { "live", "--broker", url, "--ca", ca, "--db", db, "-u", "fleet", "-P", secret, NULL };
  ck_assert_int_eq (run_cli (&out, a1), 2);
  ck_assert_msg (strstr (out, "--password-file") && strstr (out, "FT_MQTT_PASSWORD"), "%s", out);
  ck_assert_msg (!strstr (out, secret), "password shown: %s", out);
  ck_assert (!g_file_test (db, G_FILE_TEST_EXISTS));
  g_clear_pointer (&out, g_free);

  /* --password-file: connects */
  const char *a2[] = { "live", "--broker", url, "--ca", ca, "--db", db, "-u", "fleet",
                       "--password-file", pwfile, "--duration", "1.5", NULL };
  ck_assert_msg (run_cli (&out, a2) == 0, "%s", out);
  ck_assert_msg (strstr (out, "[connected]"), "%s", out);
  ck_assert_msg (!strstr (out, secret), "password shown: %s", out);
  g_clear_pointer (&out, g_free);

  /* the password in the URL: works, but is never printed */
  const char *a3[] = { "live", "--broker", url_pw, "--ca", ca, "--db", db, "--duration", "1.5", NULL };
  ck_assert_msg (run_cli (&out, a3) == 0, "%s", out);
  ck_assert_msg (strstr (out, "fleet:***@127.0.0.1"), "%s", out);
  ck_assert_msg (!strstr (out, secret), "password shown: %s", out);
  g_clear_pointer (&out, g_free);

  /* wrong password: refused, non-zero, quickly */
  gint64 t0 = g_get_monotonic_time ();
  const char *a4[] = { "live", "--broker", url, "--ca", ca, "--db", db, "-u", "fleet",
                       "--password-file", badfile, "--duration", "30", NULL };
  ck_assert_int_eq (run_cli (&out, a4), 1);
  ck_assert_msg (strstr (out, "username and password"), "%s", out);
  ck_assert_msg (!strstr (out, "not-the-password"), "password shown: %s", out);
  g_clear_pointer (&out, g_free);

  /* a CA that does not verify the broker: final, non-zero, quickly */
  const char *a5[] = { "live", "--broker", url_pw, "--ca", "/etc/ssl/certs/ca-certificates.crt",
                       "--db", db, "--duration", "30", NULL };
  if (g_file_test ("/etc/ssl/certs/ca-certificates.crt", G_FILE_TEST_EXISTS))
    {
      ck_assert_int_eq (run_cli (&out, a5), 1);
      ck_assert_msg (strstr (out, "certificate verify failed"), "%s", out);
      ck_assert_msg (!strstr (out, secret), "password shown: %s", out);
      printf ("CLI with a wrong CA said: %s", out);
      g_clear_pointer (&out, g_free);
    }
  ck_assert_msg (g_get_monotonic_time () - t0 < 20 * G_USEC_PER_SEC, "the failures were not final");

  /* nothing listening: never connected is an error too */
  const char *a6[] = { "live", "--broker", "mqtt://127.0.0.1:9", "--db", db, "--duration", "1", NULL };
  ck_assert_int_eq (run_cli (&out, a6), 1);
  ck_assert_msg (strstr (out, "never connected"), "%s", out);
  g_clear_pointer (&out, g_free);
  ck_assert (ft_store_remove_files (db, NULL));
  live_broker_free (b);
}
END_TEST

/* A clean stop of `fleet-twin-cli live` leaves the last reported position
 * in --db, not the last one downsampling stored (1 of every 30 s). */
/* Stop lists end to end with `fleet-twin-cli emulate`: the twin proposes
 * from the emulated fleet's telemetry, auto-approves as a dispatcher and
 * sends stop lists; the emulator puts the stops into its simulated world,
 * whose staff drive there and work them, and reports started / done on
 * stops/v1/progress until tasks are done in the twin. */
START_TEST (test_stop_lists_emulated)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *cli = g_build_filename (FT_BUILD_DIR, "ui", "cli", "fleet-twin-cli", NULL);
  LiveBroker *b = live_broker_start (&error);
  ck_assert_msg (b != NULL, "%s", error ? error->message : "");
  g_autofree char *url = live_broker_url (b);
  FtCoreConfig cc;
  ft_core_config_init (&cc);
  FtCore *core = ft_core_new (&cc, NULL, NULL);
  FtLiveConfig cfg = config_for (b, "twin-stops-emu");
  g_free (cfg.prefix);
  cfg.prefix = g_strdup ("ft/stopemu");
  FtLive *live = ft_live_new (core, &cfg, &error);
  ft_live_config_clear (&cfg);
  ck_assert_msg (live != NULL, "%s", error ? error->message : "");
  ft_live_set_ops (live, core->ops);
  FtLiveOpsConfig oc;
  ft_live_ops_config_init (&oc);
  oc.propose = TRUE;
  oc.every = 2 * FT_SECOND;
  oc.low_battery = 0.3;
  ck_assert (ft_live_set_ops_config (live, &oc, &error));
  gint disp = ft_accounts_create (core->accounts, FT_ROLE_DISPATCHER, "d", NULL, wall (), &error);
  ck_assert (ft_live_set_auto_approve (live, TRUE, disp, wall (), &error));
  ck_assert_msg (ft_live_connect_sync (live, 5000, &error), "%s", error ? error->message : "");
  g_autoptr(GSubprocess) emu = g_subprocess_new (G_SUBPROCESS_FLAGS_STDOUT_SILENCE, &error, cli, "emulate",
                                                 "demo-city-phase1", "--broker", url, "--prefix", "ft/stopemu",
                                                 "--rate", "1", "--speed", "120", "--start-hour", "10",
                                                 "--duration", "60", NULL);
  ck_assert_msg (emu != NULL, "%s", error ? error->message : "");
  gint64 t0 = g_get_monotonic_time (), deadline = t0 + 60 * G_USEC_PER_SEC;
  while (g_get_monotonic_time () < deadline && ft_ops_count_state (core->ops, FT_TASK_DONE) < 3)
    {
      ft_live_wait (live, 50);
      ft_live_process (live, wall (), 0);
    }
  const FtLiveStats *st = ft_live_get_stats (live);
  printf ("stop lists with emulate: %.1f s, %u vehicles, %u staff, %" G_GUINT64_FORMAT " proposed, %"
          G_GUINT64_FORMAT " lists sent (%" G_GUINT64_FORMAT " acked), %" G_GUINT64_FORMAT " stop updates, %u done, "
          "%u in progress, %" G_GUINT64_FORMAT " refused\n", (g_get_monotonic_time () - t0) / 1e6,
          ft_fleet_n_vehicles (core->fleet), ft_live_n_staff (live), st->proposed, st->lists_sent, st->lists_acked,
          st->stop_updates, ft_ops_count_state (core->ops, FT_TASK_DONE),
          ft_ops_count_state (core->ops, FT_TASK_IN_PROGRESS), st->task_refused);
  ck_assert_uint_ge (ft_ops_count_state (core->ops, FT_TASK_DONE), 3);
  ck_assert_uint_ge (st->lists_acked, 1);
  ck_assert_msg (ft_live_check (live, &error), "%s", error ? error->message : "");
  ck_assert_msg (ft_ops_check (core->ops, &error), "%s", error ? error->message : "");
  g_subprocess_send_signal (emu, SIGTERM);
  ck_assert (g_subprocess_wait (emu, NULL, NULL));
  ft_live_stop (live);
  ft_live_free (live);
  ft_core_free (core);
  live_broker_free (b);
}
END_TEST

/* `fleet-twin-cli live --propose --auto-approve --as ACCOUNT`: only a
 * dispatcher or admin may switch auto-approve on; a rider or a planner is
 * refused with the reason and a non-zero status, a dispatcher runs. */
START_TEST (test_cli_auto_approve_role)
{
  g_autoptr(GError) error = NULL;
  LiveBroker *b = live_broker_start (&error);
  ck_assert_msg (b != NULL, "%s", error ? error->message : "");
  g_autofree char *url = live_broker_url (b);
  g_autofree char *dir = g_dir_make_tmp ("ft-cli-approve-XXXXXX", &error);
  ck_assert_msg (dir != NULL, "%s", error ? error->message : "");
  g_autofree char *db = g_build_filename (dir, "live.db", NULL);
  FtCoreConfig cc;
  ft_core_config_init (&cc);
  FtCore *core = ft_core_new (&cc, NULL, NULL);
  ck_assert_msg (ft_core_attach_store (core, db, NULL, &error), "%s", error ? error->message : "");
  gint rider = ft_accounts_create (core->accounts, FT_ROLE_RIDER, "r", "r@example.org", 0, &error);
  gint planner = ft_accounts_create (core->accounts, FT_ROLE_PLANNER, "p", NULL, 0, &error);
  gint disp = ft_accounts_create (core->accounts, FT_ROLE_DISPATCHER, "d", NULL, 0, &error);
  ck_assert_int_ge (MIN (rider, MIN (planner, disp)), 0);
  g_autofree char *rider_id = g_strdup (ft_accounts_get (core->accounts, (guint) rider)->id);
  g_autofree char *planner_id = g_strdup (ft_accounts_get (core->accounts, (guint) planner)->id);
  g_autofree char *disp_id = g_strdup (ft_accounts_get (core->accounts, (guint) disp)->id);
  ck_assert_msg (ft_core_commit (core, &error), "%s", error ? error->message : "");
  ck_assert_msg (ft_core_detach_store (core, &error), "%s", error ? error->message : "");
  ft_core_free (core);
  const char *who[] = { rider_id, "r@example.org", planner_id };
  for (guint i = 0; i < G_N_ELEMENTS (who); i++)
    {
      const char *args[] = { "live", "--broker", url, "--prefix", "ft/appr", "--db", db, "--duration", "1",
                             "--propose", "--auto-approve", "--as", who[i], NULL };
      g_autofree char *out = NULL;
      int rc = run_cli (&out, args);
      ck_assert_msg (rc != 0 && strstr (out, "may not switch auto-approve on"), "as %s: rc %d: %s", who[i], rc, out);
    }
  const char *bad[] = { "live", "--broker", url, "--db", db, "--duration", "1", "--auto-approve", NULL };
  g_autofree char *bout = NULL;
  ck_assert_int_eq (run_cli (&bout, bad), 2);
  ck_assert_msg (strstr (bout, "--as ACCOUNT"), "%s", bout);
  const char *ok[] = { "live", "--broker", url, "--prefix", "ft/appr", "--db", db, "--duration", "1",
                       "--propose", "--auto-approve", "--as", disp_id, NULL };
  g_autofree char *out = NULL;
  int rc = run_cli (&out, ok);
  ck_assert_msg (rc == 0 && strstr (out, "proposing tasks from live state, auto-approved"), "rc %d: %s", rc, out);
  ck_assert (ft_store_remove_files (db, NULL));
  g_rmdir (dir);
  live_broker_free (b);
}
END_TEST

START_TEST (test_cli_flush_on_stop)
{
  g_autofree char *cli = g_build_filename (FT_BUILD_DIR, "ui", "cli", "fleet-twin-cli", NULL);
  ck_assert_msg (g_file_test (cli, G_FILE_TEST_IS_EXECUTABLE), "%s not built", cli);
  g_autoptr(GError) error = NULL;
  LiveBroker *b = live_broker_start (&error);
  ck_assert_msg (b != NULL, "%s", error ? error->message : "");
  g_autofree char *url = live_broker_url (b);
  g_autofree char *db = live_broker_path (b, "flush.db");
  g_autoptr(GSubprocess) live = g_subprocess_new (G_SUBPROCESS_FLAGS_STDOUT_PIPE, &error, cli, "live",
                                                  "--broker", url, "--prefix", PFX, "--db", db,
                                                  "--duration", "4", "--provision-unknown", NULL);
  ck_assert_msg (live != NULL, "%s", error ? error->message : "");
  /* publish once the twin has connected (and subscribed): a loaded machine
   * can take seconds to start it, and reports before that are lost */
  {
    g_autoptr(GDataInputStream) lines = g_data_input_stream_new (g_subprocess_get_stdout_pipe (live));
    g_filter_input_stream_set_close_base_stream (G_FILTER_INPUT_STREAM (lines), FALSE);
    g_autofree char *line = NULL;
    while ((line = g_data_input_stream_read_line_utf8 (lines, NULL, NULL, NULL)) != NULL &&
           !g_str_has_prefix (line, "[connected]"))
      g_clear_pointer (&line, g_free);
    ck_assert_msg (line != NULL, "fleet-twin-cli live ended before connecting");
    g_usleep (300000);   /* its SUBACK */
  }
  FtLiveConfig ecfg = config_for (b, "emu-flush");
  FtLiveEmu *emu = ft_live_emu_new (&ecfg, &error);
  ck_assert_msg (emu && ft_live_emu_connect (emu, 5000, &error), "%s", error ? error->message : "");
  const guint N = 5;
  g_autofree FtLiveEmuVehicle *recs = make_fleet (N, 37);
  for (int k = 0; k < 6; k++)      /* 6 reports 250 ms apart, each 11 m further north */
    {
      ft_live_emu_publish (emu, recs, N, wall (), -1);
      g_usleep (250000);
      if (k < 5)
        move_fleet (recs, N, 1e-4);
    }
  ft_live_emu_free (emu);
  ft_live_config_clear (&ecfg);
  g_autofree char *lout = NULL;
  ck_assert (g_subprocess_communicate_utf8 (live, NULL, NULL, &lout, NULL, &error));
  ck_assert_msg (g_subprocess_get_successful (live), "live failed: %s", lout);
  FtCoreConfig cc;
  ft_core_config_init (&cc);
  g_autoptr(FtCore) core = ft_core_new (&cc, NULL, NULL);
  ck_assert_msg (ft_core_attach_store (core, db, NULL, &error), "%s", error ? error->message : "");
  ck_assert_uint_eq (ft_fleet_n_vehicles (core->fleet), N);
  for (guint i = 0; i < N; i++)
    {
      guint v;
      ck_assert (ft_fleet_lookup_device (core->fleet, recs[i].device_id, &v));
      double off = ft_distance_m (ft_fleet_get_vehicle (core->fleet, v)->pos, recs[i].pos);
      ck_assert_msg (off < 1.0, "vehicle %u stored %.1f m behind its last report", i, off);
      ck_assert_double_eq_tol (ft_fleet_soc (core->fleet, v) * 100.0, recs[i].battery_pct, 0.1);
    }
  ft_core_free (g_steal_pointer (&core));
  live_broker_free (b);
}
END_TEST
#endif

#ifdef FT_HAVE_SIM
/* The emulator's fleet comes from the simulator: a scenario is run and
 * published step by step; after each step the twin's fleet must match the
 * simulated one (positions, batteries, states). */
START_TEST (test_sim_fleet_matches)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *path = g_build_filename (g_getenv ("FT_SOURCE_DIR") ? g_getenv ("FT_SOURCE_DIR") : ".",
                                            "scenarios", "demo-city-phase1.scenario", NULL);
  g_autoptr(FtSimScenario) sc = g_file_test (path, G_FILE_TEST_EXISTS)
                                ? ft_sim_scenario_load (path, &error) : ft_sim_scenario_new_default ();
  ck_assert_msg (sc != NULL, "%s", error ? error->message : "");
  FtSimWorldOptions opt = { 0 };
  g_autoptr(FtSimWorld) w = ft_sim_world_new (sc, NULL, &opt, &error);
  ck_assert_msg (w != NULL, "%s", error ? error->message : "");
  ck_assert (ft_sim_world_run_until (w, 7 * FT_HOUR, &error));
  FtCore *simcore = ft_sim_world_get_core (w);
  guint n = ft_fleet_n_vehicles (simcore->fleet);
  ck_assert_uint_gt (n, 0);
  g_autofree FtLiveEmuVehicle *recs = g_new0 (FtLiveEmuVehicle, n);

  Rig rig;
  rig_open (&rig, "sim");
  FtTime sim_t = 7 * FT_HOUR;
  guint64 expect = 0;
  for (int step = 0; step < 4; step++)
    {
      sim_t += 30 * FT_SECOND;
      ck_assert (ft_sim_world_run_until (w, sim_t, &error));
      g_autoptr(FtSimSnapshot) snap = ft_sim_world_snapshot (w);
      ck_assert_uint_eq (snap->n_vehicles, n);
      for (guint i = 0; i < n; i++)
        {
          const FtVehicle *v = ft_fleet_get_vehicle (simcore->fleet, i);
          g_strlcpy (recs[i].device_id, v->device_id, sizeof recs[i].device_id);
          g_strlcpy (recs[i].kind, ft_vehicle_kind_id (v->kind), sizeof recs[i].kind);
          recs[i].pos = snap->vehicles[i].pos;
          recs[i].battery_pct = snap->vehicles[i].soc * 100.0;
          g_strlcpy (recs[i].state, ft_vehicle_state_name (snap->vehicles[i].state), sizeof recs[i].state);
          recs[i].locked = snap->vehicles[i].state != FT_STATE_ON_TRIP;
          recs[i].odometer_m = v->odometer_m;
        }
      ck_assert_uint_eq (ft_live_emu_publish (rig.emu, recs, n, wall (), 0), n);
      expect += n;
      ck_assert (pump_until (rig.live, NULL, NULL, 0, received_at_least, GUINT_TO_POINTER (expect), 15000));
      /* the emulator rounds battery to 0.1 % */
      for (guint i = 0; i < n; i++)
        recs[i].battery_pct = CLAMP (round (recs[i].battery_pct * 10) / 10, 0.0, 100.0);
      assert_matches (rig.core, rig.live, recs, n);
      g_usleep (2000);
    }
  printf ("sim fleet: %u vehicles matched over 4 steps (%u on trip at the end)\n", n,
          ft_fleet_count_state (rig.core->fleet, FT_STATE_ON_TRIP));
  rig_close (&rig);
}
END_TEST
#endif

#ifdef FT_HAVE_SIM
/* The two entry points end to end: `fleet-twin-cli emulate` publishes a
 * scenario, `fleet-twin-cli live` attaches, ingests and persists; the
 * database then holds the emulated fleet and passes the invariants. */
START_TEST (test_cli_emulate_live)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *cli = g_build_filename (FT_BUILD_DIR, "ui", "cli", "fleet-twin-cli", NULL);
  if (!g_file_test (cli, G_FILE_TEST_IS_EXECUTABLE))
    {
      printf ("skipping CLI test: %s not built\n", cli);
      return;
    }
  LiveBroker *b = live_broker_start (&error);
  ck_assert_msg (b != NULL, "%s", error ? error->message : "");
  g_autofree char *url = live_broker_url (b);
  g_autofree char *db = live_broker_path (b, "live.db");
  g_autoptr(GSubprocess) live = g_subprocess_new (G_SUBPROCESS_FLAGS_STDOUT_PIPE, &error, cli, "live",
                                                  "--broker", url, "--prefix", "ft/cli", "--db", db,
                                                  "--duration", "9", "--status-every", "3",
                                                  "--provision-unknown", "--provision-rate", "100000", NULL);
  ck_assert_msg (live != NULL, "%s", error ? error->message : "");
  g_usleep (1000000);
  g_autoptr(GSubprocess) emu = g_subprocess_new (G_SUBPROCESS_FLAGS_STDOUT_PIPE, &error, cli, "emulate",
                                                 "demo-city-phase1", "--broker", url, "--prefix", "ft/cli",
                                                 "--rate", "2", "--speed", "60", "--duration", "5", NULL);
  ck_assert_msg (emu != NULL, "%s", error ? error->message : "");
  g_autofree char *eout = NULL, *lout = NULL;
  ck_assert (g_subprocess_communicate_utf8 (emu, NULL, NULL, &eout, NULL, &error));
  ck_assert (g_subprocess_communicate_utf8 (live, NULL, NULL, &lout, NULL, &error));
  printf ("emulate said: %s\nlive said (last line): %s\n", eout,
          strrchr (g_strchomp (lout), '\n') ? strrchr (lout, '\n') + 1 : lout);
  ck_assert_msg (g_subprocess_get_successful (emu), "emulate failed: %s", eout);
  ck_assert_msg (g_subprocess_get_successful (live), "live failed: %s", lout);
  ck_assert (strstr (lout, "[connected]") != NULL);
  FtCoreConfig cc;
  ft_core_config_init (&cc);
  g_autoptr(FtCore) core = ft_core_new (&cc, NULL, NULL);
  ck_assert_msg (ft_core_attach_store (core, db, NULL, &error), "%s", error ? error->message : "");
  ck_assert_uint_ge (ft_fleet_n_vehicles (core->fleet), 100);
  ck_assert_msg (ft_core_check (core, &error), "%s", error ? error->message : "");
  live_broker_free (b);
}
END_TEST
#endif

#ifdef FT_HAVE_SIM
static guint
free_port (void)
{
  g_autoptr(GSocket) sock = g_socket_new (G_SOCKET_FAMILY_IPV4, G_SOCKET_TYPE_STREAM, G_SOCKET_PROTOCOL_TCP, NULL);
  g_autoptr(GInetAddress) lo = g_inet_address_new_loopback (G_SOCKET_FAMILY_IPV4);
  g_autoptr(GSocketAddress) a = g_inet_socket_address_new (lo, 0);
  ck_assert (g_socket_bind (sock, a, FALSE, NULL));
  g_autoptr(GSocketAddress) got = g_socket_get_local_address (sock, NULL);
  return g_inet_socket_address_get_port (G_INET_SOCKET_ADDRESS (got));
}

/* GET path from 127.0.0.1:port over HTTP/1.0; the whole response, NULL
 * when nothing answers. */
static char *
http_get (guint port, const char *path)
{
  g_autoptr(GSocketClient) c = g_socket_client_new ();
  g_socket_client_set_timeout (c, 5);
  g_autoptr(GSocketConnection) conn = g_socket_client_connect_to_host (c, "127.0.0.1", (guint16) port, NULL, NULL);
  if (conn == NULL)
    return NULL;
  g_autofree char *req = g_strdup_printf ("GET %s HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n", path);
  GOutputStream *out = g_io_stream_get_output_stream (G_IO_STREAM (conn));
  if (!g_output_stream_write_all (out, req, strlen (req), NULL, NULL, NULL))
    return NULL;
  GInputStream *in = g_io_stream_get_input_stream (G_IO_STREAM (conn));
  GString *o = g_string_new (NULL);
  char buf[4096];
  gssize n;
  while ((n = g_input_stream_read (in, buf, sizeof buf, NULL, NULL)) > 0)
    g_string_append_len (o, buf, n);
  return g_string_free (o, FALSE);
}

/* The value of the first exposition line starting with `series ` (-1: none). */
static double
metric (const char *text, const char *series)
{
  g_autofree char *key = g_strdup_printf ("\n%s ", series);
  const char *p = strstr (text, key);
  return p ? g_ascii_strtod (p + strlen (key), NULL) : -1;
}

/* `live --metrics`: Prometheus series of the ingest path beside the live
 * database, scraped while an emulated fleet reports; a listen address
 * that is not loopback is refused before anything is served. */
START_TEST (test_cli_live_metrics)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *cli = g_build_filename (FT_BUILD_DIR, "ui", "cli", "fleet-twin-cli", NULL);
  LiveBroker *b = live_broker_start (&error);
  ck_assert_msg (b != NULL, "%s", error ? error->message : "");
  g_autofree char *url = live_broker_url (b);
  g_autofree char *db = live_broker_path (b, "live.db");
  {
    g_autofree char *out = NULL;
    const char *args[] = { "live", "--broker", url, "--prefix", "ft/m", "--db", db, "--duration", "1",
                           "--metrics", "0.0.0.0:0", NULL };
    int st = run_cli (&out, args);
    ck_assert_msg (st != 0 && strstr (out, "not a loopback address"), "exit %d: %s", st, out);
  }
  guint port = free_port ();
  g_autofree char *listen = g_strdup_printf ("127.0.0.1:%u", port);
  g_autoptr(GSubprocess) live = g_subprocess_new (G_SUBPROCESS_FLAGS_STDOUT_PIPE, &error, cli, "live",
                                                  "--broker", url, "--prefix", "ft/m", "--db", db,
                                                  "--duration", "120", "--metrics", listen,
                                                  "--provision-unknown", "--provision-rate", "100000", NULL);
  ck_assert_msg (live != NULL, "%s", error ? error->message : "");
  g_autofree char *first = NULL;
  for (int i = 0; i < 300 && first == NULL; i++)
    if ((first = http_get (port, "/metrics")) == NULL)
      g_usleep (100000);
  ck_assert_msg (first != NULL, "live --metrics never answered on %s", listen);
  ck_assert_msg (strstr (first, "200 OK") && strstr (first, "fleet_twin_live_queue_depth"), "%s", first);
  g_autoptr(GSubprocess) emu = g_subprocess_new (G_SUBPROCESS_FLAGS_STDOUT_PIPE, &error, cli, "emulate",
                                                 "demo-city-phase1", "--broker", url, "--prefix", "ft/m",
                                                 "--rate", "2", "--speed", "60", "--duration", "3", NULL);
  ck_assert_msg (emu != NULL, "%s", error ? error->message : "");
  ck_assert (g_subprocess_wait_check (emu, NULL, &error));
  /* ingest catches up within a few seconds */
  g_autofree char *text = NULL;
  double applied = -1, commits = -1;
  for (int i = 0; i < 100; i++)
    {
      g_free (text);
      text = http_get (port, "/metrics");
      ck_assert (text != NULL);
      applied = metric (text, "fleet_twin_live_messages_total{outcome=\"applied\"}");
      commits = metric (text, "fleet_twin_live_commit_seconds_count");
      if (applied >= 100 && commits >= 1)
        break;
      g_usleep (100000);
    }
  ck_assert_msg (applied >= 100, "applied %g\n%s", applied, text);
  ck_assert_msg (commits >= 1, "commits %g\n%s", commits, text);
  ck_assert_msg (metric (text, "fleet_twin_live_connected") == 1, "%s", text);
  ck_assert_msg (metric (text, "fleet_twin_live_queue_depth") >= 0, "%s", text);
  ck_assert_msg (metric (text, "fleet_twin_live_messages_total{outcome=\"malformed\"}") == 0, "%s", text);
  /* the store-derived series are there too: vehicles provisioned from live data */
  ck_assert_msg (strstr (text, "fleet_twin_vehicles{") != NULL, "%s", text);
  g_autofree char *health = http_get (port, "/health");
  ck_assert_msg (health && strstr (health, "\"source\":\"live\""), "%s", health ? health : "(none)");
  g_subprocess_send_signal (live, SIGTERM);
  g_autofree char *lout = NULL;
  ck_assert (g_subprocess_communicate_utf8 (live, NULL, NULL, &lout, NULL, &error));
  ck_assert_msg (g_subprocess_get_successful (live), "live failed: %s", lout);
  ck_assert_msg (strstr (lout, "metrics on http://127.0.0.1:"), "%s", lout);
  live_broker_free (b);
}
END_TEST
#endif

#ifdef FT_HAVE_SIM
static void
count_task_done (const FtEvent *ev, gpointer user_data)
{
  if (ev->kind == FT_EV_TASK_DONE)
    (*(guint *) user_data)++;
}

/* Staff task assignment end to end: the twin assigns a battery swap to a
 * staff member of `fleet-twin-cli emulate`; the emulator acks it, injects it
 * into the simulated world, the simulated staff drive there and swap the
 * pack, the emulator reports accepted / in_progress / done; the twin's task
 * is done (FT_EV_TASK_DONE) and the vehicle's battery is up in the twin. */
START_TEST (test_task_swap_emulated)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *cli = g_build_filename (FT_BUILD_DIR, "ui", "cli", "fleet-twin-cli", NULL);
  ck_assert_msg (g_file_test (cli, G_FILE_TEST_IS_EXECUTABLE), "%s not built", cli);
  LiveBroker *b = live_broker_start (&error);
  ck_assert_msg (b != NULL, "%s", error ? error->message : "");
  g_autofree char *url = live_broker_url (b);
  FtCoreConfig cc;
  ft_core_config_init (&cc);
  FtCore *core = ft_core_new (&cc, NULL, NULL);
  FtOps *ops = core->ops;
  guint done_events = 0;
  /* persisted as `fleet-twin-cli live --db` does: the task must survive a restart */
  g_autofree char *dbdir = g_dir_make_tmp ("ft-task-db-XXXXXX", &error);
  ck_assert_msg (dbdir != NULL, "%s", error ? error->message : "");
  g_autofree char *db = g_build_filename (dbdir, "live.db", NULL);
  ck_assert_msg (ft_core_attach_store (core, db, NULL, &error), "%s", error ? error->message : "");
  guint lid = ft_event_log_add_listener (core->log, count_task_done, &done_events);
  FtLiveConfig cfg = config_for (b, "twin-task");
  g_free (cfg.prefix);
  cfg.prefix = g_strdup ("ft/task");
  FtLive *live = ft_live_new (core, &cfg, &error);
  ft_live_config_clear (&cfg);
  ck_assert_msg (live != NULL, "%s", error ? error->message : "");
  ft_live_set_ops (live, ops);
  ck_assert_msg (ft_live_connect_sync (live, 5000, &error), "%s", error ? error->message : "");
  g_autoptr(GSubprocess) emu = g_subprocess_new (G_SUBPROCESS_FLAGS_STDOUT_PIPE, &error, cli, "emulate",
                                                 "demo-city-phase1", "--broker", url, "--prefix", "ft/task",
                                                 "--rate", "2", "--speed", "240", "--start-hour", "10",
                                                 "--duration", "90", NULL);
  ck_assert_msg (emu != NULL, "%s", error ? error->message : "");
  /* wait for the fleet and the crew to show up */
  gint64 deadline = g_get_monotonic_time () + 30 * G_USEC_PER_SEC;
  while (g_get_monotonic_time () < deadline &&
         (ft_live_n_staff (live) == 0 || ft_fleet_n_vehicles (core->fleet) < 50))
    {
      ft_live_wait (live, 50);
      ft_live_process (live, wall (), 0);
    }
  ck_assert_uint_gt (ft_live_n_staff (live), 0);
  ck_assert_uint_ge (ft_fleet_n_vehicles (core->fleet), 50);
  /* the emptiest parked vehicle; the nearest staff member */
  gint v = -1;
  for (guint i = 0; i < ft_fleet_n_vehicles (core->fleet); i++)
    if (ft_fleet_get_vehicle (core->fleet, i)->state == FT_STATE_AVAILABLE &&
        (v < 0 || ft_fleet_soc (core->fleet, i) < ft_fleet_soc (core->fleet, (guint) v)))
      v = (gint) i;
  ck_assert_int_ge (v, 0);
  FtLatLon vpos = ft_fleet_get_vehicle (core->fleet, (guint) v)->pos;
  guint staff = 0;
  double best = G_MAXDOUBLE;
  for (guint i = 0; i < ft_live_n_staff (live); i++)
    {
      const FtLiveStaff *st = ft_live_get_staff (live, i);
      if (isfinite (st->pos.lat) && ft_distance_m (st->pos, vpos) < best)
        {
          best = ft_distance_m (st->pos, vpos);
          staff = i;
        }
    }
  double soc0 = ft_fleet_soc (core->fleet, (guint) v);
  FtTime now = wall ();
  gint disp = ft_accounts_create (core->accounts, FT_ROLE_DISPATCHER, "test dispatcher", NULL, now, &error);
  ck_assert_msg (disp >= 0, "%s", error ? error->message : "");
  gint64 task = ft_ops_create (ops, FT_TASK_BATTERY_SWAP, v, (FtLatLon) { 0, 0 }, -1, 9, disp, now, &error);
  ck_assert_msg (task >= 0, "%s", error ? error->message : "");
  const char *cid = ft_live_assign_task (live, task, staff, disp, now, 0, &error);
  ck_assert_msg (cid != NULL, "%s", error ? error->message : "");
  g_autofree char *cid_copy = g_strdup (cid);
  printf ("assigned task %" G_GINT64_FORMAT " (swap, vehicle %d at %.0f %%) to staff %s %.0f m away\n",
          task, v, soc0 * 100, ft_live_get_staff (live, staff)->id, best);
  deadline = g_get_monotonic_time () + 75 * G_USEC_PER_SEC;
  gint64 t_assign = g_get_monotonic_time (), t_ack = -1;
  while (g_get_monotonic_time () < deadline &&
         (ft_ops_get (ops, task)->state != FT_TASK_DONE ||
          ft_fleet_soc (core->fleet, (guint) v) <= soc0 + 0.2))
    {
      ft_live_wait (live, 50);
      ft_live_process (live, wall (), 0);
      if (t_ack < 0 && ft_live_get_assignment (live, cid_copy)->state == FT_CMD_ACKED)
        t_ack = g_get_monotonic_time ();
    }
  const FtLiveAssignment *a = ft_live_get_assignment (live, cid_copy);
  printf ("task %s: assignment %s after %.2f s, progress '%s', ops state %s after %.1f s; soc %.0f %% -> %.0f %%\n",
          cid_copy, ft_live_command_state_name (a->state), t_ack > 0 ? (t_ack - t_assign) / 1e6 : -1.0,
          a->progress, ft_task_state_name (ft_ops_get (ops, task)->state),
          (g_get_monotonic_time () - t_assign) / 1e6, soc0 * 100, ft_fleet_soc (core->fleet, (guint) v) * 100);
  ck_assert_int_eq (a->state, FT_CMD_ACKED);
  ck_assert_str_eq (a->progress, "done");
  ck_assert_int_eq (ft_ops_get (ops, task)->state, FT_TASK_DONE);
  ck_assert_uint_eq (done_events, 1);
  ck_assert_uint_ge (ft_live_get_stats (live)->task_updates, 3);
  ck_assert_uint_eq (ft_live_get_stats (live)->task_refused, 0);
  ck_assert_msg (ft_fleet_soc (core->fleet, (guint) v) > soc0 + 0.2, "battery not swapped in the twin");
  ck_assert_msg (ft_ops_check (ops, &error), "%s", error ? error->message : "");
  ck_assert_msg (ft_live_check (live, &error), "%s", error ? error->message : "");
  g_subprocess_send_signal (emu, SIGTERM);
  ck_assert (g_subprocess_wait (emu, NULL, NULL));
  ft_live_stop (live);
  ft_live_free (live);
  ft_event_log_remove_listener (core->log, lid);
  FtTask before = *ft_ops_get (ops, task);
  guint n_tasks = ft_ops_n (ops);
  ck_assert_msg (ft_core_detach_store (core, &error), "%s", error ? error->message : "");
  ft_core_free (core);

  /* a restart: a fresh core loads the file, the queue with it */
  FtCore *again = ft_core_new (&cc, NULL, NULL);
  ck_assert_msg (ft_core_attach_store (again, db, NULL, &error), "%s", error ? error->message : "");
  ck_assert_uint_eq (ft_ops_n (again->ops), n_tasks);
  const FtTask *after = ft_ops_get (again->ops, task);
  ck_assert_int_eq (after->state, FT_TASK_DONE);
  ck_assert_int_eq (after->vehicle, v);
  ck_assert_int_eq (after->staff, before.staff);
  ck_assert_int_eq (after->created_by, disp);
  ck_assert_int_eq (after->assigned_at, before.assigned_at);
  ck_assert_int_eq (after->finished_at, before.finished_at);
  ck_assert_msg (ft_core_check (again, &error), "%s", error ? error->message : "");
  printf ("after a restart from %s: task %" G_GINT64_FORMAT " is %s, %u tasks\n", db, task,
          ft_task_state_name (after->state), ft_ops_n (again->ops));
  ft_core_free (again);
  ck_assert (ft_store_remove_files (db, NULL));
  /* empty once the store's own files are gone: nothing else was left */
  ck_assert_msg (g_rmdir (dbdir) == 0, "%s left files behind", dbdir);
  live_broker_free (b);
}
END_TEST
#endif


/* Stop lists over a real broker: the twin proposes a swap and a collect
 * from the emulator's telemetry, a dispatcher's auto-approve sends them to
 * the one staff member as a stop list (v1); the emulator lets the first
 * copy go unanswered (the outbox resends it), acks the resend, reports the
 * first stop started (a new list keeps it first, started), skips the
 * second (the twin takes it off the list) and finishes the first. */
static gboolean
list_with (FtLive *live, gpointer data)
{
  guint want = GPOINTER_TO_UINT (data);
  const FtLiveStopList *l = ft_live_get_stop_list (live, 0);
  return l != NULL && l->n_stops == want;
}

/* The newest stop list the emulator receives (other than `not_id`). */
static FtLiveEmuStops
next_stops (FtLive *live, FtLiveEmu *emu, const char *not_id, guint timeout_ms)
{
  FtLiveEmuStops got = { 0 };
  gint64 deadline = g_get_monotonic_time () + (gint64) timeout_ms * 1000;
  while (g_get_monotonic_time () < deadline && got.command_id[0] == '\0')
    {
      ft_live_wait (live, 20);
      ft_live_process (live, wall (), 0);
      guint n = 0;
      g_autofree FtLiveEmuStops *s = ft_live_emu_poll_stops (emu, &n);
      for (guint i = 0; i < n; i++)
        if (not_id == NULL || strcmp (s[i].command_id, not_id) != 0)
          got = s[i];
    }
  return got;
}

START_TEST (test_stop_lists)
{
  Rig rig;
  rig_open (&rig, "stops");
  FtOps *ops = rig.core->ops;
  ft_live_set_ops (rig.live, ops);
  FtLiveOpsConfig oc;
  ft_live_ops_config_init (&oc);
  oc.propose = TRUE;
  oc.every = 200;
  g_autoptr(GError) error = NULL;
  ck_assert (ft_live_set_ops_config (rig.live, &oc, &error));
  FtLiveEmuVehicle recs[2] = { 0 };
  g_autofree FtLiveEmuVehicle *fleet = make_fleet (2, 5);
  memcpy (recs, fleet, sizeof recs);
  for (guint i = 0; i < 2; i++)
    {
      g_strlcpy (recs[i].state, "available", sizeof recs[i].state);
      recs[i].pos = (FtLatLon) { 52.52 + 0.01 * i, 13.40 };
    }
  recs[0].battery_pct = 12;
  recs[1].battery_pct = 70;
  recs[1].fault_codes = 1u << 4;
  FtLiveEmuStaff crew = { .id = "van-1", .pos = { 52.51, 13.40 } };
  ft_live_emu_publish (rig.emu, recs, 2, wall (), -1);
  ft_live_emu_publish_staff (rig.emu, &crew, 1, wall ());
  ck_assert (pump_until (rig.live, NULL, NULL, 0, received_at_least, GUINT_TO_POINTER (2), 5000));
  gint64 deadline = g_get_monotonic_time () + 5 * G_USEC_PER_SEC;
  while (g_get_monotonic_time () < deadline && ft_live_n_staff (rig.live) == 0)
    {
      ft_live_wait (rig.live, 20);
      ft_live_process (rig.live, wall (), 0);
    }
  ck_assert_uint_eq (ft_live_n_staff (rig.live), 1);
  deadline = g_get_monotonic_time () + 5 * G_USEC_PER_SEC;
  while (g_get_monotonic_time () < deadline && ft_live_get_stats (rig.live)->proposed < 2)
    {
      ft_live_wait (rig.live, 20);
      ft_live_process (rig.live, wall (), 0);
    }
  ck_assert_uint_eq (ft_live_get_stats (rig.live)->proposed, 2);
  gint disp = ft_accounts_create (rig.core->accounts, FT_ROLE_DISPATCHER, "d", NULL, wall (), &error);
  ck_assert_msg (ft_live_set_auto_approve (rig.live, TRUE, disp, wall (), &error), "%s",
                 error ? error->message : "");

  /* the first copy goes unanswered: resent with the same id */
  FtLiveEmuStops l1 = next_stops (rig.live, rig.emu, NULL, 5000);
  ck_assert_msg (l1.command_id[0] != '\0', "no stop list arrived");
  ck_assert_uint_eq (l1.n, 2);
  FtLiveEmuStops l1b = next_stops (rig.live, rig.emu, NULL, 5000);
  ck_assert_str_eq (l1b.command_id, l1.command_id);
  ck_assert_uint_ge (ft_live_get_stats (rig.live)->list_retries, 1);
  ck_assert (ft_live_emu_ack_stops (rig.emu, &l1b, "ok", NULL, wall ()));
  deadline = g_get_monotonic_time () + 5 * G_USEC_PER_SEC;
  while (g_get_monotonic_time () < deadline && ft_live_get_stop_list (rig.live, 0)->state != FT_CMD_ACKED)
    {
      ft_live_wait (rig.live, 20);
      ft_live_process (rig.live, wall (), 0);
    }
  ck_assert_int_eq (ft_live_get_stop_list (rig.live, 0)->state, FT_CMD_ACKED);

  /* started: a new list with that stop first and started */
  gint64 a = l1.task[1], bt = l1.task[0];
  ck_assert (ft_live_emu_stop_progress (rig.emu, "van-1", a, "started", NULL, wall ()));
  FtLiveEmuStops l2 = next_stops (rig.live, rig.emu, l1.command_id, 5000);
  ck_assert_str_ne (l2.command_id, l1.command_id);
  ck_assert_uint_eq (l2.n, 2);
  ck_assert_int_eq (l2.task[0], a);
  ck_assert (l2.started[0]);
  ck_assert (!l2.started[1]);
  ck_assert (ft_live_emu_ack_stops (rig.emu, &l2, "ok", NULL, wall ()));
  /* skipped: off the list (nobody else is on shift, so it waits, open) */
  g_usleep (2000);
  ck_assert (ft_live_emu_stop_progress (rig.emu, "van-1", bt, "skipped", "blocked by a market", wall ()));
  FtLiveEmuStops l3 = next_stops (rig.live, rig.emu, l2.command_id, 5000);
  ck_assert_uint_eq (l3.n, 1);
  ck_assert_int_eq (l3.task[0], a);
  ck_assert_int_eq (ft_ops_get (ops, bt)->state, FT_TASK_OPEN);
  ck_assert_int_eq (ft_ops_get (ops, bt)->approval, FT_TASK_APPROVED);
  g_usleep (2000);
  ck_assert (ft_live_emu_stop_progress (rig.emu, "van-1", a, "done", NULL, wall ()));
  /* done: off the list, and no new swap for it while its reports catch up */
  ck_assert (pump_until (rig.live, NULL, NULL, 0, list_with, GUINT_TO_POINTER (0), 5000));
  ck_assert_int_eq (ft_ops_get (ops, a)->state, FT_TASK_DONE);
  /* bad progress over the wire: refused, named, nothing changes */
  guint64 refused0 = ft_live_get_stats (rig.live)->task_refused;
  ck_assert (ft_live_emu_stop_progress (rig.emu, "van-1", 4242, "done", NULL, wall ()));
  deadline = g_get_monotonic_time () + 5 * G_USEC_PER_SEC;
  while (g_get_monotonic_time () < deadline && ft_live_get_stats (rig.live)->task_refused == refused0)
    {
      ft_live_wait (rig.live, 20);
      ft_live_process (rig.live, wall (), 0);
    }
  guint nm;
  const FtLiveMalformed *m = ft_live_get_malformed (rig.live, &nm);
  ck_assert_uint_gt (nm, 0);
  ck_assert_msg (strstr (m[nm - 1].reason, "task_id") != NULL, "%s", m[nm - 1].reason);
  const FtLiveStats *st = ft_live_get_stats (rig.live);
  printf ("stop lists: %" G_GUINT64_FORMAT " sent, %" G_GUINT64_FORMAT " resent, %" G_GUINT64_FORMAT
          " acked, %" G_GUINT64_FORMAT " stop updates, %" G_GUINT64_FORMAT " refused\n",
          st->lists_sent, st->list_retries, st->lists_acked, st->stop_updates, st->task_refused);
  ck_assert_uint_eq (st->stop_updates, 3);
  ck_assert_msg (ft_live_check (rig.live, &error), "%s", error ? error->message : "");
  ck_assert_msg (ft_ops_check (ops, &error), "%s", error ? error->message : "");
  rig_close (&rig);
}
END_TEST

/* Planned stop lists over a real broker: two vans, five approved tasks
 * and one proposal left unapproved. The twin's route planner (VRPTW) makes
 * the lists: each van's stops in driving order (the nearest first, not
 * the most valuable first), no more swaps than a van's packs, the
 * unapproved proposal on no list. A started stop stays first; progress
 * re-plans and only the van whose list changed gets a new one. */
typedef struct {
  FtLiveEmuStops last[2];          /* newest per van: A, B */
  guint          n[2];
} VanLists;

static void
poll_vans (FtLive *live, FtLiveEmu *emu, VanLists *vl, guint ms)
{
  gint64 deadline = g_get_monotonic_time () + (gint64) ms * 1000;
  while (g_get_monotonic_time () < deadline)
    {
      ft_live_wait (live, 20);
      ft_live_process (live, wall (), 0);
      guint n = 0;
      g_autofree FtLiveEmuStops *s = ft_live_emu_poll_stops (emu, &n);
      for (guint i = 0; i < n; i++)
        {
          guint k = strcmp (s[i].staff_id, "van-a") == 0 ? 0 : 1;
          if (strcmp (vl->last[k].command_id, s[i].command_id) != 0)
            vl->n[k]++;
          vl->last[k] = s[i];
        }
    }
}

static double
vpm (FtOps *ops, gint64 task)
{
  const FtTaskValue *v = ft_ops_get_value (ops, task);
  return v ? v->value_per_minute : NAN;
}

START_TEST (test_stop_lists_planned)
{
  Rig rig;
  rig_open (&rig, "planned");
  FtOps *ops = rig.core->ops;
  ft_live_set_ops (rig.live, ops);
  FtLiveOpsConfig oc;
  ft_live_ops_config_init (&oc);
  oc.propose = TRUE;
  oc.every = 200;
  oc.van_packs = 2;
  g_autoptr(GError) error = NULL;
  ck_assert (ft_live_set_ops_config (rig.live, &oc, &error));
  /* south of van-a three swaps on a line north, the nearest the fullest (so
   * value and distance disagree); near van-b a swap and a collect; beside
   * van-a a swap that stays a proposal */
  static const struct { double lat, batt; gboolean fault; } spec[6] = {
    { 52.505, 24, FALSE }, { 52.510, 3, FALSE }, { 52.515, 5, FALSE },
    { 52.555, 8, FALSE }, { 52.565, 80, TRUE }, { 52.5005, 15, FALSE },
  };
  g_autofree FtLiveEmuVehicle *recs = make_fleet (6, 11);
  for (guint i = 0; i < 6; i++)
    {
      g_strlcpy (recs[i].state, "available", sizeof recs[i].state);
      g_strlcpy (recs[i].kind, "scooter", sizeof recs[i].kind);
      recs[i].locked = TRUE;
      recs[i].pos = (FtLatLon) { spec[i].lat, 13.40 };
      recs[i].battery_pct = spec[i].batt;
      recs[i].fault_codes = spec[i].fault ? 1u << 4 : 0;
    }
  FtLiveEmuStaff crew[2] = { { .id = "van-a", .pos = { 52.500, 13.40 } },
                             { .id = "van-b", .pos = { 52.560, 13.40 } } };
  ft_live_emu_publish (rig.emu, recs, 6, wall (), -1);
  ft_live_emu_publish_staff (rig.emu, crew, 2, wall ());
  gint64 deadline = g_get_monotonic_time () + 5 * G_USEC_PER_SEC;
  while (g_get_monotonic_time () < deadline &&
         (ft_live_n_staff (rig.live) < 2 || ft_live_get_stats (rig.live)->proposed < 6))
    {
      ft_live_wait (rig.live, 20);
      ft_live_process (rig.live, wall (), 0);
    }
  ck_assert_uint_eq (ft_live_n_staff (rig.live), 2);
  ck_assert_uint_eq (ft_live_get_stats (rig.live)->proposed, 6);
  gint64 task[6];
  for (guint i = 0; i < 6; i++)
    {
      guint v;
      ck_assert (ft_fleet_lookup_device (rig.core->fleet, recs[i].device_id, &v));
      task[i] = ft_ops_open_for (ops, v, spec[i].fault ? FT_TASK_COLLECT_REPAIR : FT_TASK_BATTERY_SWAP);
      ck_assert_int_ge (task[i], 0);
    }
  /* value and distance disagree: the emptier, further swap is worth more */
  ck_assert_msg (vpm (ops, task[1]) > vpm (ops, task[0]), "%s (%.3f/min) vs %s (%.3f/min)",
                 ft_ops_get_value (ops, task[1])->reason, vpm (ops, task[1]),
                 ft_ops_get_value (ops, task[0])->reason, vpm (ops, task[0]));
  gint disp = ft_accounts_create (rig.core->accounts, FT_ROLE_DISPATCHER, "d", NULL, wall (), &error);
  for (guint i = 0; i < 5; i++)
    ck_assert_msg (ft_live_approve (rig.live, task[i], disp, wall (), &error), "%s", error ? error->message : "");

  VanLists vl = { 0 };
  poll_vans (rig.live, rig.emu, &vl, 1500);
  ck_assert_msg (vl.n[0] >= 1 && vl.n[1] >= 1, "lists: van-a %u, van-b %u", vl.n[0], vl.n[1]);
  guint planned = 0;
  for (guint k = 0; k < 2; k++)
    {
      const FtLiveEmuStops *l = &vl.last[k];
      guint swaps = 0;
      printf ("%s:", l->staff_id);
      for (guint i = 0; i < l->n; i++)
        {
          printf (" task %" G_GINT64_FORMAT " (%s, %.3f)", l->task[i], ft_task_kind_name (l->kind[i]),
                  ft_fleet_get_vehicle (rig.core->fleet, (guint) ft_ops_get (ops, l->task[i])->vehicle)->pos.lat);
          swaps += l->kind[i] == FT_TASK_BATTERY_SWAP;
          ck_assert_int_ne (l->task[i], task[5]);          /* the proposal is on no list */
        }
      printf ("\n");
      ck_assert_uint_le (swaps, 2);                        /* the van's packs */
      planned += l->n;
    }
  ck_assert_uint_eq (planned, 5);
  ck_assert_int_eq (ft_ops_get (ops, task[5])->state, FT_TASK_OPEN);
  ck_assert_int_eq (ft_ops_get (ops, task[5])->approval, FT_TASK_PROPOSED);
  /* van-a drives north from 52.500: the nearer swap first, though the
   * further one is worth more per minute (value order would swap them) */
  const FtLiveEmuStops *a = &vl.last[0];
  ck_assert_uint_ge (a->n, 2);
  ck_assert_int_eq (a->task[0], task[0]);
  ck_assert_int_eq (a->task[1], task[1]);
  ck_assert (vpm (ops, a->task[0]) < vpm (ops, a->task[1]));
  ck_assert (ft_live_emu_ack_stops (rig.emu, &vl.last[0], "ok", NULL, wall ()));
  ck_assert (ft_live_emu_ack_stops (rig.emu, &vl.last[1], "ok", NULL, wall ()));

  /* van-a starts its second stop: it comes first, started; van-b's list stays */
  guint na = vl.n[0], nb = vl.n[1];
  char b_id[48];
  g_strlcpy (b_id, vl.last[1].command_id, sizeof b_id);
  gint64 second = a->task[1];
  ck_assert (ft_live_emu_stop_progress (rig.emu, "van-a", second, "started", NULL, wall ()));
  poll_vans (rig.live, rig.emu, &vl, 1500);
  ck_assert_uint_eq (vl.n[0], na + 1);
  ck_assert_uint_eq (vl.n[1], nb);
  ck_assert_str_eq (vl.last[1].command_id, b_id);
  ck_assert_int_eq (vl.last[0].task[0], second);
  ck_assert (vl.last[0].started[0]);
  for (guint i = 1; i < vl.last[0].n; i++)
    ck_assert (!vl.last[0].started[i]);
  ck_assert_int_eq (ft_ops_get (ops, second)->state, FT_TASK_IN_PROGRESS);
  /* re-plans keep it: it is still first after more progress elsewhere */
  ck_assert (ft_live_emu_ack_stops (rig.emu, &vl.last[0], "ok", NULL, wall ()));
  ck_assert (ft_live_emu_stop_progress (rig.emu, "van-b", vl.last[1].task[0], "done", NULL, wall ()));
  poll_vans (rig.live, rig.emu, &vl, 1500);
  ck_assert_int_eq (ft_ops_get (ops, second)->state, FT_TASK_IN_PROGRESS);
  guint ia;
  ck_assert (ft_live_lookup_staff (rig.live, "van-a", &ia));
  ck_assert_int_eq (ft_ops_get (ops, second)->staff, ft_live_get_staff (rig.live, ia)->account);
  const FtLiveStopList *la = ft_live_get_stop_list (rig.live, ia);
  ck_assert_int_eq (la->stops[0].task, second);
  ck_assert (la->stops[0].started);
  const FtLiveStats *st = ft_live_get_stats (rig.live);
  printf ("planned stop lists: %" G_GUINT64_FORMAT " sent, %" G_GUINT64_FORMAT " acked, %" G_GUINT64_FORMAT
          " stop updates, %" G_GUINT64_FORMAT " refused\n", st->lists_sent, st->lists_acked, st->stop_updates,
          st->task_refused);
  ck_assert_uint_eq (st->task_refused, 0);
  ck_assert_msg (ft_live_check (rig.live, &error), "%s", error ? error->message : "");
  ck_assert_msg (ft_ops_check (ops, &error), "%s", error ? error->message : "");
  rig_close (&rig);
}
END_TEST

/* The price topic (contract version 1): a planner's zone price change is
 * published retained on P/prices/v1 at the next tick, and only then. */
static gint
two_zones (FtLatLon at, gpointer data)
{
  return at.lon < 10.0 ? 0 : 1;
}

static char *
read_retained_prices (Rig *rig)
{
  g_autofree char *port = g_strdup_printf ("%d", rig->broker->port);
  g_autoptr(GError) error = NULL;
  g_autoptr(GSubprocess) p = g_subprocess_new (G_SUBPROCESS_FLAGS_STDOUT_PIPE, &error, "mosquitto_sub", "-h",
                                               "127.0.0.1", "-p", port, "-t", PFX "/prices/v1", "-C", "1",
                                               "-W", "5", NULL);
  ck_assert_msg (p != NULL, "%s", error ? error->message : "");
  char *out = NULL;
  ck_assert (g_subprocess_communicate_utf8 (p, NULL, NULL, &out, NULL, &error));
  return out;
}

START_TEST (test_price_topic)
{
  Rig rig;
  rig_open (&rig, "prices");
  g_autoptr(GError) e = NULL;
  gint planner = ft_accounts_create (rig.core->accounts, FT_ROLE_PLANNER, "Planner", NULL, 0, &e);
  ck_assert (planner >= 0);
  ck_assert (ft_core_enable_dynamic_zones (rig.core, (guint) planner, 2, NULL, two_zones, NULL, wall (), &e));
  double up[2] = { 1.0, 1.2 };
  ck_assert (ft_core_apply_zone_prices (rig.core, (guint) planner, up, wall (), NULL, &e));
  ft_live_tick (rig.live, wall ());
  ck_assert_uint_eq (ft_live_get_stats (rig.live)->prices_sent, 1);
  ft_live_tick (rig.live, wall ());          /* nothing changed: nothing sent */
  ck_assert_uint_eq (ft_live_get_stats (rig.live)->prices_sent, 1);
  g_autofree char *got = read_retained_prices (&rig);
  g_autoptr(JsonParser) jp = json_parser_new ();
  ck_assert_msg (json_parser_load_from_data (jp, got, -1, NULL), "not JSON: %s", got);
  JsonObject *o = json_node_get_object (json_parser_get_root (jp));
  ck_assert_int_eq (json_object_get_int_member (o, "version"), 1);
  ck_assert_str_eq (json_object_get_string_member (o, "currency"), "EUR");
  ck_assert (!json_object_get_boolean_member (o, "emergency"));
  JsonArray *zones = json_object_get_array_member (o, "zones");
  ck_assert_uint_eq (json_array_get_length (zones), 2);
  ck_assert_double_eq_tol (json_object_get_double_member (json_array_get_object_element (zones, 1),
                                                          "multiplier"), 1.2, 1e-9);
  ck_assert_uint_ge (json_array_get_length (json_object_get_array_member (o, "plans")), 1);
  /* an emergency is a change: published, and the retained message says so */
  ck_assert (ft_core_set_price_emergency (rig.core, (guint) planner, TRUE, wall (), &e));
  ft_live_tick (rig.live, wall ());
  ck_assert_uint_eq (ft_live_get_stats (rig.live)->prices_sent, 2);
  g_autofree char *got2 = read_retained_prices (&rig);
  ck_assert_msg (strstr (got2, "\"emergency\":true") != NULL, "%s", got2);
  ck_assert_msg (strstr (got2, "\"multiplier\":1.0") != NULL, "%s", got2);
  rig_close (&rig);
}
END_TEST

/* Live levers (issue 14): the simulator's policy runs on live state at its
 * interval as a planner, and what it set — multipliers, the emergency flag,
 * open offers — is kept in the store: after a restart the same values are
 * published on the price topic before any new interval runs. */
static gint
west_east (FtLatLon at, gpointer data)
{
  return at.lon < 13.40 ? 0 : 1;
}

static double
demand_east (guint zone, FtTime t, gpointer data)
{
  return zone == 1 ? 500.0 : 0.0;   /* requests an hour: far more than the vehicles there */
}

static void
levers_config (FtLiveLeversConfig *lc)
{
  ft_live_levers_config_init (lc);
  lc->policy.policy = FT_DYN_POLICY_UTILISATION;
  lc->guards.interval = FT_SECOND;
  lc->guards.emergency_cap = 1.2;
  lc->incentives = TRUE;
  lc->rules.recompute = FT_MINUTE;
  lc->n_zones = 2;
  lc->locate = west_east;
  lc->demand = demand_east;
}

static gboolean
east_at_least_1_2 (FtLive *live, gpointer data)
{
  FtCore *core = data;
  ft_live_tick (live, wall ());
  return ft_dyn_pricing_get (core->dyn, 1) >= 1.2 - 1e-9;
}

/* The zones and offers of a price payload, as one comparable string. */
static char *
prices_levers_part (const char *payload)
{
  g_autoptr(JsonParser) jp = json_parser_new ();
  ck_assert_msg (json_parser_load_from_data (jp, payload, -1, NULL), "not JSON: %s", payload);
  JsonObject *o = json_node_get_object (json_parser_get_root (jp));
  g_autoptr(JsonGenerator) gen = json_generator_new ();
  GString *out = g_string_new (NULL);
  const char *members[] = { "zones", "offers", "emergency" };
  for (guint i = 0; i < G_N_ELEMENTS (members); i++)
    {
      ck_assert_msg (json_object_has_member (o, members[i]), "no %s in %s", members[i], payload);
      json_generator_set_root (gen, json_object_get_member (o, members[i]));
      g_autofree char *t = json_generator_to_data (gen, NULL);
      g_string_append_printf (out, "%s=%s;", members[i], t);
    }
  return g_string_free (out, FALSE);
}

START_TEST (test_levers_restart)
{
  g_autoptr(GError) e = NULL;
  LiveBroker *b = live_broker_start (&e);
  ck_assert_msg (b != NULL, "broker: %s", e ? e->message : "");
  g_autofree char *dir = g_dir_make_tmp ("ft-levers-XXXXXX", &e);
  g_autofree char *db = g_build_filename (dir, "live.db", NULL);
  FtCoreConfig cc;
  ft_core_config_init (&cc);
  FtCore *core = ft_core_new (&cc, NULL, NULL);
  ck_assert_msg (ft_core_attach_store (core, db, NULL, &e), "%s", e ? e->message : "");
  gint rider = ft_accounts_create (core->accounts, FT_ROLE_RIDER, "Rider", NULL, 0, &e);
  gint planner = ft_accounts_create (core->accounts, FT_ROLE_PLANNER, "Planner", NULL, 0, &e);
  ck_assert (rider >= 0 && planner >= 0);
  ck_assert (ft_core_commit (core, &e));
  FtLiveConfig cfg = config_for (b, "twin-levers");
  FtLive *live = ft_live_new (core, &cfg, &e);
  ck_assert_msg (live != NULL, "%s", e ? e->message : "");
  FtLiveLeversConfig lc;
  levers_config (&lc);
  /* the role check: a rider may not run prices; nothing changes */
  ck_assert (!ft_live_set_levers (live, &lc, (guint) rider, wall (), &e));
  ck_assert_msg (g_error_matches (e, FT_ACCOUNTS_ERROR, FT_ACCOUNTS_ERROR_PERMISSION), "%s", e->message);
  g_clear_error (&e);
  ck_assert (core->dyn == NULL && core->incentives == NULL);
  ck_assert_msg (ft_live_connect_sync (live, 5000, &e), "twin: %s", e ? e->message : "");
  /* the emulated fleet: half west (zone 0), half east (zone 1) */
  FtLiveConfig ecfg = config_for (b, "emu-levers");
  FtLiveEmu *emu = ft_live_emu_new (&ecfg, &e);
  ck_assert (emu != NULL && ft_live_emu_connect (emu, 5000, &e));
  g_usleep (200000);
  guint n = 40;
  g_autofree FtLiveEmuVehicle *recs = make_fleet (n, 14);
  ft_live_emu_announce (emu, recs, n, wall ());
  ft_live_emu_publish (emu, recs, n, wall (), -1);
  ck_assert (pump_until (live, emu, recs, n, received_at_least, GUINT_TO_POINTER (n), 5000));
  ck_assert_msg (ft_live_set_levers (live, &lc, (guint) planner, wall (), &e), "%s", e ? e->message : "");
  /* prices go up in the east one step an interval; offers: start west, end east */
  ck_assert_msg (pump_until (live, emu, recs, n, east_at_least_1_2, core, 10000),
                 "east at %.2f after %" G_GUINT64_FORMAT " intervals", ft_dyn_pricing_get (core->dyn, 1),
                 ft_live_n_price_intervals (live));
  ck_assert_double_eq_tol (ft_dyn_pricing_get (core->dyn, 0), 1.0, 1e-9);
  ck_assert (ft_incentives_start_offered (core->incentives, 0));
  ck_assert (ft_incentives_end_offered (core->incentives, 1));
  ck_assert_uint_ge (ft_live_n_price_intervals (live), 2);
  ck_assert_uint_eq (ft_live_n_offer_rounds (live), 1);
  /* the city declares an emergency: no more than 1.2 anywhere, kept as well */
  ck_assert (ft_core_set_price_emergency (core, (guint) planner, TRUE, wall (), &e));
  ck_assert_double_eq_tol (ft_dyn_pricing_get (core->dyn, 1), 1.2, 1e-9);
  ft_live_tick (live, wall ());   /* keeps the state once more */
  g_autofree char *before = ft_live_prices_payload (core, wall (), NULL);
  g_autofree char *kept = prices_levers_part (before);
  double east = ft_dyn_pricing_get (core->dyn, 1);
  ft_live_emu_free (emu);
  ft_live_stop (live);
  ft_live_free (live);
  ck_assert (ft_core_commit (core, &e));
  ft_core_free (core);

  /* forget the retained message, then listen from before the restart */
  g_autofree char *port = g_strdup_printf ("%d", b->port);
  g_autoptr(GSubprocess) clear = g_subprocess_new (G_SUBPROCESS_FLAGS_NONE, &e, "mosquitto_pub", "-h", "127.0.0.1",
                                                   "-p", port, "-t", PFX "/prices/v1", "-r", "-n", NULL);
  ck_assert (clear != NULL && g_subprocess_wait_check (clear, NULL, &e));
  g_autoptr(GSubprocess) sub = g_subprocess_new (G_SUBPROCESS_FLAGS_STDOUT_PIPE, &e, "mosquitto_sub", "-h",
                                                 "127.0.0.1", "-p", port, "-t", PFX "/prices/v1", "-C", "1",
                                                 "-W", "10", NULL);
  ck_assert (sub != NULL);
  g_usleep (300000);

  core = ft_core_new (&cc, NULL, NULL);
  ck_assert_msg (ft_core_attach_store (core, db, NULL, &e), "%s", e ? e->message : "");
  live = ft_live_new (core, &cfg, &e);
  ck_assert (live != NULL);
  ck_assert_msg (ft_live_set_levers (live, &lc, (guint) planner, wall (), &e), "%s", e ? e->message : "");
  /* restored before any interval, not reached step by step again */
  ck_assert_uint_eq (ft_live_n_price_intervals (live), 0);
  ck_assert_double_eq_tol (ft_dyn_pricing_get (core->dyn, 1), east, 1e-9);
  ck_assert (ft_incentives_start_offered (core->incentives, 0));
  ck_assert (ft_dyn_pricing_emergency (core->dyn));
  /* not connected yet: the next interval is overdue (the kept one was due
   * within a second), but waits until the restored prices are out */
  g_usleep (1200000);
  ft_live_tick (live, wall ());
  ck_assert_uint_eq (ft_live_n_price_intervals (live), 0);
  ck_assert_msg (ft_live_connect_sync (live, 5000, &e), "twin: %s", e ? e->message : "");
  ft_live_tick (live, wall ());
  g_autofree char *first = NULL;
  ck_assert (g_subprocess_communicate_utf8 (sub, NULL, NULL, &first, NULL, &e));
  ck_assert_msg (first != NULL && *first, "nothing published after the restart");
  g_autofree char *again = prices_levers_part (first);
  ck_assert_str_eq (again, kept);
  ck_assert_msg (strstr (again, "emergency=true") != NULL, "%s", again);
  printf ("after a restart, first on the price topic: %s\n", again);
  ft_live_stop (live);
  ft_live_free (live);
  ck_assert (ft_core_commit (core, &e));
  ft_core_free (core);

  /* a kept state that is not one is refused, naming it; nothing changes */
  core = ft_core_new (&cc, NULL, NULL);
  ck_assert (ft_core_attach_store (core, db, NULL, &e));
  ck_assert (ft_store_put_meta (core->store, FT_LIVE_LEVERS_META, "{\"version\":1,\"zones\":[{\"multiplier\":-3}]}", &e));
  live = ft_live_new (core, &cfg, &e);
  ck_assert (!ft_live_set_levers (live, &lc, (guint) planner, wall (), &e));
  ck_assert_msg (strstr (e->message, FT_LIVE_LEVERS_META) != NULL && strstr (e->message, "multiplier") != NULL,
                 "%s", e->message);
  ck_assert (core->dyn == NULL && core->incentives == NULL);
  ft_live_free (live);
  ft_core_free (core);
  ft_live_config_clear (&cfg);
  ft_live_config_clear (&ecfg);
  ck_assert (ft_store_remove_files (db, NULL));
  g_rmdir (dir);
  live_broker_free (b);
}
END_TEST

static Suite *
broker_suite (void)
{
  Suite *s = suite_create ("live-broker");
  struct { const char *name; const TTest *fn; } cases[] = {
    { "fleet-matches", test_fleet_matches },
    { "command-ack", test_command_ack },
    { "broker-restart", test_broker_restart },
    { "tls-password", test_tls_password },
    { "unreachable", test_unreachable },
    { "persistent-session", test_persistent_session },
    { "max-packet-size", test_max_packet_size },
    { "mutual-tls", test_mutual_tls },
    { "price-topic", test_price_topic },
    { "stop-lists", test_stop_lists },
    { "stop-lists-planned", test_stop_lists_planned },
    { "levers-restart", test_levers_restart },
#ifdef FT_HAVE_SIM
    { "sim-fleet-matches", test_sim_fleet_matches },
    { "cli-emulate-live", test_cli_emulate_live },
    { "cli-live-metrics", test_cli_live_metrics },
    { "task-swap-emulated", test_task_swap_emulated },
    { "cli-credentials", test_cli_credentials },
    { "cli-flush-on-stop", test_cli_flush_on_stop },
    { "cli-auto-approve-role", test_cli_auto_approve_role },
    { "stop-lists-emulated", test_stop_lists_emulated },
    { "cli-live-pricing", test_cli_live_pricing },
#endif
  };
  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      TCase *tc = tcase_create (cases[i].name);
      tcase_set_timeout (tc, 120);
      tcase_add_test (tc, cases[i].fn);
      suite_add_tcase (s, tc);
    }
  return s;
}

int
main (void)
{
  /* 77 = skipped for meson: without mosquitto nothing here can run */
  if (!g_file_test ("/usr/sbin/mosquitto", G_FILE_TEST_IS_EXECUTABLE) &&
      g_find_program_in_path ("mosquitto") == NULL)
    {
      printf ("SKIP: mosquitto not installed\n");
      return 77;
    }
  SRunner *sr = srunner_create (broker_suite ());
  srunner_run_all (sr, CK_NORMAL);
  int failed = srunner_ntests_failed (sr);
  srunner_free (sr);
  if (failed)
    return 1;
  if (!live_have_tools ())
    {
      printf ("SKIP: the TLS case did not run (openssl or mosquitto_passwd missing)\n");
      return 77;
    }
  return 0;
}
