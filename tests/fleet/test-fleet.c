/* test-fleet.c — Check tests for src/fleet: vehicle types, the MDS 2.0
 * transition table (checked against the MDS event.yaml in shared data),
 * refused transitions and their messages, domain events, packs (add, move,
 * swap, charge, cycles), range, the spatial index, restore, the invariant
 * checker, and a randomised run that checks invariants after every step.
 */
#include <check.h>
#include <string.h>

#include "ft-config.h"
#include "ft-test.h"
#include "ft-fleet.h"

#define T0 ((FtTime) 1000000)

static const FtLatLon origin = { 52.5200, 13.4050 };

static void
assert_check (FtFleet *f)
{
  g_autoptr(GError) error = NULL;
  ck_assert_msg (ft_fleet_check (f, &error), "check: %s", error ? error->message : "");
}

START_TEST (test_types)
{
  guint k;

  for (k = 0; k < FT_N_KINDS; k++)
    {
      const FtVehicleType *t = ft_vehicle_type_default (k);
      FtVehicleKind back;

      ck_assert_int_eq (t->kind, k);
      ck_assert (t->max_speed_kph > t->cruise_speed_kph && t->cruise_speed_kph > 5);
      ck_assert (t->wh_per_km > 0 && t->pack_capacity_wh > 100);
      ck_assert (t->low_soc > 0 && t->low_soc < 0.5);
      ck_assert (ft_vehicle_kind_from_id (ft_vehicle_kind_id (k), &back));
      ck_assert_int_eq (back, k);
      ck_assert (ft_vehicle_kind_from_id (t->form_factor, &back));
      ck_assert_int_eq (back, k);
    }
  ck_assert_str_eq (ft_vehicle_kind_id (FT_KIND_SCOOTER), "e-scooter");
  ck_assert (!ft_vehicle_kind_from_id ("hovercraft", NULL));
  ck_assert (!ft_vehicle_kind_from_id (NULL, NULL));
  /* A moped goes faster and uses more energy per km than a bike. */
  ck_assert (ft_vehicle_type_default (FT_KIND_MOPED)->max_speed_kph > ft_vehicle_type_default (FT_KIND_BIKE)->max_speed_kph);
  ck_assert (ft_vehicle_type_default (FT_KIND_MOPED)->wh_per_km > ft_vehicle_type_default (FT_KIND_BIKE)->wh_per_km);
}
END_TEST

START_TEST (test_names)
{
  guint i;
  FtVehicleState s;
  FtVehicleEventType e;

  for (i = 0; i < FT_N_STATES; i++)
    {
      ck_assert (ft_vehicle_state_from_name (ft_vehicle_state_name (i), &s));
      ck_assert_int_eq (s, i);
    }
  for (i = 0; i < FT_N_VEVS; i++)
    {
      ck_assert (ft_vehicle_event_from_name (ft_vehicle_event_name (i), &e));
      ck_assert_int_eq (e, i);
    }
  ck_assert_str_eq (ft_vehicle_state_name (FT_STATE_NON_OPERATIONAL), "non_operational");
  ck_assert_str_eq (ft_vehicle_event_name (FT_VEV_TRIP_ENTER_JURISDICTION), "trip_enter_jurisdiction");
  ck_assert (ft_vehicle_state_from_name ("non_contactable", &s));
  ck_assert_int_eq (s, FT_STATE_UNKNOWN);
  ck_assert (!ft_vehicle_state_from_name ("parked", &s));
  ck_assert (!ft_vehicle_event_from_name ("trip_teleport", &e));
  ck_assert_str_eq (ft_vehicle_state_name (99), "invalid");
}
END_TEST

/* Parse MDS event.yaml: which event types may accompany which state. */
static GHashTable *
load_mds_pairs (void)
{
  g_autofree char *path = NULL;
  g_autofree char *text = NULL;
  g_auto(GStrv) lines = NULL;
  GHashTable *pairs = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  const char *state = NULL;
  guint i;

  path = g_build_filename (ft_test_shared_dir (), "schemas", "mds", "2.0-openapi", "models", "modes",
                           "micromobility", "event.yaml", NULL);
  ck_assert_msg (g_file_get_contents (path, &text, NULL, NULL), "cannot read %s", path);
  lines = g_strsplit (text, "\n", -1);
  for (i = 0; lines[i]; i++)
    {
      char *l = g_strstrip (lines[i]);

      if (g_str_has_prefix (l, "const: "))
        {
          state = l + 7;
          if (g_str_equal (state, "non_contactable") || g_str_equal (state, "missing"))
            state = "unknown";
        }
      else if (g_str_has_prefix (l, "if:"))
        break;
      else if (state && g_str_has_prefix (l, "- "))
        g_hash_table_add (pairs, g_strdup_printf ("%s/%s", state, l + 2));
    }
  ck_assert_uint_gt (g_hash_table_size (pairs), 40);
  return pairs;
}

START_TEST (test_table_matches_mds)
{
  g_autoptr(GHashTable) pairs = load_mds_pairs ();
  guint from, ev, checked = 0;

  for (ev = 0; ev < FT_N_VEVS; ev++)
    {
      gboolean in_mds = FALSE;
      guint s;

      for (s = 0; s < FT_N_STATES; s++)
        {
          g_autofree char *key = g_strdup_printf ("%s/%s", ft_vehicle_state_name (s), ft_vehicle_event_name (ev));
          in_mds |= g_hash_table_contains (pairs, key);
        }
      if (!in_mds)
        continue;          /* trip_pause, trip_resume, maintenance_end: not MDS micromobility */
      for (from = 0; from < FT_N_STATES; from++)
        {
          FtVehicleState to;
          g_autofree char *key = NULL;

          if (!ft_vehicle_transition (from, ev, &to))
            continue;
          key = g_strdup_printf ("%s/%s", ft_vehicle_state_name (to), ft_vehicle_event_name (ev));
          ck_assert_msg (g_hash_table_contains (pairs, key),
                         "%s from %s leads to %s, which MDS does not list",
                         ft_vehicle_event_name (ev), ft_vehicle_state_name (from), ft_vehicle_state_name (to));
          checked++;
        }
    }
  ck_assert_uint_gt (checked, 60);
}
END_TEST

START_TEST (test_table_rules)
{
  FtVehicleState to;
  guint s;

  for (s = 0; s < FT_N_STATES; s++)
    {
      gboolean ok = ft_vehicle_transition (s, FT_VEV_TRIP_START, &to);
      ck_assert_int_eq (ok, s == FT_STATE_AVAILABLE || s == FT_STATE_RESERVED);
      ck_assert (ft_vehicle_transition (s, FT_VEV_COMMS_LOST, &to));
      ck_assert_int_eq (to, FT_STATE_UNKNOWN);
      ck_assert_int_eq (ft_vehicle_transition (s, FT_VEV_RESERVATION_START, NULL), s == FT_STATE_AVAILABLE);
      ck_assert_int_eq (ft_vehicle_transition (s, FT_VEV_TRIP_PAUSE, NULL), s == FT_STATE_ON_TRIP);
      ck_assert (ft_vehicle_transition (s, FT_VEV_UNSPECIFIED, &to));
      ck_assert_int_eq (to, s);
    }
  ck_assert (ft_vehicle_transition (FT_STATE_AVAILABLE, FT_VEV_BATTERY_LOW, &to));
  ck_assert_int_eq (to, FT_STATE_NON_OPERATIONAL);
  ck_assert (!ft_vehicle_transition (FT_STATE_ON_TRIP, FT_VEV_BATTERY_LOW, &to));
  ck_assert (ft_vehicle_transition (FT_STATE_NON_OPERATIONAL, FT_VEV_BATTERY_CHARGED, &to));
  ck_assert_int_eq (to, FT_STATE_AVAILABLE);
  ck_assert (ft_vehicle_transition (FT_STATE_NON_OPERATIONAL, FT_VEV_MAINTENANCE_END, &to));
  ck_assert_int_eq (to, FT_STATE_AVAILABLE);
  ck_assert (!ft_vehicle_transition (FT_STATE_ON_TRIP, FT_VEV_BATTERY_CHARGED, &to));
  ck_assert (ft_vehicle_transition (FT_STATE_ON_TRIP, FT_VEV_TRIP_RESUME, &to));
  ck_assert_int_eq (to, FT_STATE_ON_TRIP);
  ck_assert (ft_vehicle_transition (FT_STATE_ON_TRIP, FT_VEV_TRIP_LEAVE_JURISDICTION, &to));
  ck_assert_int_eq (to, FT_STATE_ELSEWHERE);
  ck_assert (ft_vehicle_transition (FT_STATE_ELSEWHERE, FT_VEV_TRIP_ENTER_JURISDICTION, &to));
  ck_assert_int_eq (to, FT_STATE_ON_TRIP);
  ck_assert (!ft_vehicle_transition (FT_STATE_RESERVED, FT_VEV_REBALANCE_PICK_UP, &to));
  ck_assert (ft_vehicle_transition (FT_STATE_REMOVED, FT_VEV_PROVIDER_DROP_OFF, &to));
  ck_assert_int_eq (to, FT_STATE_AVAILABLE);
  ck_assert (!ft_vehicle_transition (FT_STATE_AVAILABLE, FT_VEV_PROVIDER_DROP_OFF, &to));
  ck_assert (!ft_vehicle_transition (FT_N_STATES, FT_VEV_LOCATED, &to));
  ck_assert (!ft_vehicle_transition (FT_STATE_AVAILABLE, FT_N_VEVS, &to));
}
END_TEST

typedef struct {
  FtEventLog *log;
  FtFleet *f;
} Fx;

static void
fx_init (Fx *fx, guint n)
{
  guint i;

  fx->log = ft_event_log_new ();
  fx->f = ft_fleet_new (7, fx->log);
  for (i = 0; i < n; i++)
    ft_fleet_add_vehicle (fx->f, (FtVehicleKind) (i % FT_N_KINDS),
                          ft_latlon_offset (origin, 100.0 * i, 0), NULL, T0);
}

static void
fx_clear (Fx *fx)
{
  ft_fleet_free (fx->f);
  ft_event_log_free (fx->log);
}

START_TEST (test_apply_event)
{
  Fx fx;
  g_autoptr(GError) error = NULL;
  const FtVehicle *v;
  const FtEvent *evs;
  guint n;

  fx_init (&fx, 3);
  ck_assert_uint_eq (ft_event_log_count (fx.log, FT_EV_VEHICLE_ADDED), 3);
  ck_assert_uint_eq (ft_fleet_count_state (fx.f, FT_STATE_AVAILABLE), 3);
  ft_event_log_drain (fx.log);
  v = ft_fleet_get_vehicle (fx.f, 1);
  ck_assert_str_eq (v->name, "FT-0001");
  ck_assert (ft_uuid_valid (v->device_id));

  ck_assert (ft_fleet_apply_event (fx.f, 1, FT_VEV_RESERVATION_START, T0 + 10, &error));
  ck_assert (ft_fleet_apply_event (fx.f, 1, FT_VEV_TRIP_START, T0 + 20, &error));
  ck_assert (ft_fleet_apply_event (fx.f, 1, FT_VEV_TRIP_PAUSE, T0 + 30, &error));
  v = ft_fleet_get_vehicle (fx.f, 1);
  ck_assert_int_eq (v->state, FT_STATE_ON_TRIP);
  ck_assert_int_eq (v->state_since, T0 + 20);       /* pause does not change the state */
  ck_assert_int_eq (v->last_event, FT_VEV_TRIP_PAUSE);
  ck_assert_uint_eq (ft_fleet_count_state (fx.f, FT_STATE_ON_TRIP), 1);

  /* Refused: the message names the vehicle, state and event; nothing changes. */
  ck_assert (!ft_fleet_apply_event (fx.f, 1, FT_VEV_BATTERY_CHARGED, T0 + 40, &error));
  ck_assert (g_error_matches (error, FT_FLEET_ERROR, FT_FLEET_ERROR_ILLEGAL_TRANSITION));
  ck_assert_msg (strstr (error->message, "FT-0001 is on_trip; battery_charged is not allowed from on_trip"),
                 "%s", error->message);
  ck_assert (strstr (error->message, "non_operational") != NULL);   /* says where it is allowed */
  g_clear_error (&error);
  ck_assert_int_eq (v->state, FT_STATE_ON_TRIP);
  ck_assert_int_eq (v->last_event, FT_VEV_TRIP_PAUSE);
  ck_assert_uint_eq (ft_event_log_n_pending (fx.log), 3);
  ck_assert (!ft_fleet_apply_event (fx.f, 0, FT_VEV_TRIP_END, T0, &error));
  ck_assert (strstr (error->message, "FT-0000 is available; trip_end") != NULL);
  g_clear_error (&error);
  ck_assert (!ft_fleet_apply_event (fx.f, 9, FT_VEV_TRIP_END, T0, &error));
  ck_assert (g_error_matches (error, FT_FLEET_ERROR, FT_FLEET_ERROR_NO_SUCH_VEHICLE));
  g_clear_error (&error);

  ck_assert (ft_fleet_apply_event (fx.f, 1, FT_VEV_TRIP_RESUME, T0 + 50, NULL));
  ck_assert (ft_fleet_apply_event (fx.f, 1, FT_VEV_TRIP_END, T0 + 60, NULL));
  ck_assert (ft_fleet_apply_event (fx.f, 1, FT_VEV_BATTERY_LOW, T0 + 70, NULL));
  ck_assert_int_eq (v->state, FT_STATE_NON_OPERATIONAL);
  ck_assert (!ft_fleet_apply_event (fx.f, 1, FT_VEV_RESERVATION_START, T0 + 75, NULL));
  ck_assert (ft_fleet_apply_event (fx.f, 1, FT_VEV_BATTERY_CHARGED, T0 + 80, NULL));
  ck_assert_int_eq (v->state, FT_STATE_AVAILABLE);

  evs = ft_event_log_pending (fx.log, &n);
  ck_assert_uint_eq (n, 7);
  ck_assert_int_eq (evs[0].kind, FT_EV_VEHICLE_STATE);
  ck_assert_int_eq (evs[0].vehicle, 1);
  ck_assert_int_eq (evs[0].a, FT_VEV_RESERVATION_START);
  ck_assert_int_eq (evs[0].b, FT_STATE_RESERVED);
  ck_assert_int_eq (evs[6].b, FT_STATE_AVAILABLE);
  ck_assert_int_eq (evs[6].t, T0 + 80);
  assert_check (fx.f);
  fx_clear (&fx);
}
END_TEST

START_TEST (test_comms)
{
  Fx fx;
  const FtVehicle *v;

  fx_init (&fx, 2);
  v = ft_fleet_get_vehicle (fx.f, 0);
  ck_assert (ft_fleet_apply_event (fx.f, 0, FT_VEV_RESERVATION_START, T0, NULL));
  ck_assert (ft_fleet_apply_event (fx.f, 0, FT_VEV_COMMS_LOST, T0 + 1, NULL));
  ck_assert_int_eq (v->state, FT_STATE_UNKNOWN);
  ck_assert (ft_fleet_apply_event (fx.f, 0, FT_VEV_COMMS_LOST, T0 + 2, NULL));   /* again: stays */
  ck_assert (!ft_fleet_apply_event (fx.f, 0, FT_VEV_TRIP_START, T0 + 3, NULL));  /* rider command refused */
  ck_assert (ft_fleet_apply_event (fx.f, 0, FT_VEV_COMMS_RESTORED, T0 + 4, NULL));
  ck_assert_int_eq (v->state, FT_STATE_RESERVED);                                /* back where it was */
  ck_assert (ft_fleet_apply_event (fx.f, 0, FT_VEV_COMMS_RESTORED, T0 + 5, NULL));
  ck_assert_int_eq (v->state, FT_STATE_RESERVED);
  /* From unknown a reported fact re-establishes the state. */
  ck_assert (ft_fleet_apply_event (fx.f, 1, FT_VEV_COMMS_LOST, T0, NULL));
  ck_assert (ft_fleet_apply_event (fx.f, 1, FT_VEV_REBALANCE_PICK_UP, T0 + 1, NULL));
  ck_assert_int_eq (ft_fleet_get_vehicle (fx.f, 1)->state, FT_STATE_REMOVED);
  ck_assert (ft_fleet_apply_event (fx.f, 1, FT_VEV_COMMS_LOST, T0 + 2, NULL));
  ck_assert (ft_fleet_apply_event (fx.f, 1, FT_VEV_LOCATED, T0 + 3, NULL));
  ck_assert_int_eq (ft_fleet_get_vehicle (fx.f, 1)->state, FT_STATE_REMOVED);
  assert_check (fx.f);
  fx_clear (&fx);
}
END_TEST

START_TEST (test_ids)
{
  g_autoptr(FtFleet) a = ft_fleet_new (1, NULL);
  g_autoptr(FtFleet) b = ft_fleet_new (1, NULL);
  g_autoptr(FtFleet) c = ft_fleet_new (2, NULL);
  guint i, found;

  for (i = 0; i < 300; i++)
    {
      ft_fleet_add_vehicle (a, FT_KIND_BIKE, origin, NULL, T0);
      ft_fleet_add_vehicle (b, FT_KIND_BIKE, origin, NULL, T0);
      ft_fleet_add_vehicle (c, FT_KIND_BIKE, origin, NULL, T0);
      ck_assert_str_eq (ft_fleet_get_vehicle (a, i)->device_id, ft_fleet_get_vehicle (b, i)->device_id);
      ck_assert_str_ne (ft_fleet_get_vehicle (a, i)->device_id, ft_fleet_get_vehicle (c, i)->device_id);
    }
  for (i = 0; i < 300; i++)
    {
      ck_assert (ft_fleet_lookup_device (a, ft_fleet_get_vehicle (a, i)->device_id, &found));
      ck_assert_uint_eq (found, i);
      ck_assert (ft_fleet_lookup_name (a, ft_fleet_get_vehicle (a, i)->name, &found));
      ck_assert_uint_eq (found, i);
    }
  ck_assert (!ft_fleet_lookup_name (a, "FT-9999", &found));
  ck_assert (!ft_fleet_lookup_device (a, "00000000-0000-4000-8000-000000000000", &found));
  i = ft_fleet_add_vehicle (a, FT_KIND_MOPED, origin, "bird-7", T0);
  ck_assert (ft_fleet_lookup_device (a, "bird-7", &found));
  ck_assert_uint_eq (found, i);
  ck_assert_str_eq (ft_fleet_get_vehicle (a, 300)->name, "FT-0300");
  assert_check (a);
}
END_TEST

START_TEST (test_packs)
{
  Fx fx;
  g_autoptr(GError) error = NULL;
  guint p0, p1, p2;
  const FtPack *pk;

  fx_init (&fx, 3);
  ft_fleet_set_holders (fx.f, 2, 1);
  p0 = ft_fleet_add_pack (fx.f, 550, 0.2, FT_PACK_IN_VEHICLE, 0, T0, &error);
  ck_assert_uint_eq (p0, 0);
  ck_assert_int_eq (ft_fleet_get_vehicle (fx.f, 0)->pack, 0);
  p1 = ft_fleet_add_pack (fx.f, 550, 1.0, FT_PACK_IN_VAN, 1, T0, &error);
  p2 = ft_fleet_add_pack (fx.f, 550, 0.9, FT_PACK_AT_DEPOT, 0, T0, &error);
  ck_assert_uint_eq (p2, 2);
  ck_assert_str_eq (ft_fleet_get_pack (fx.f, p1)->id, "PK-000001");
  assert_check (fx.f);

  /* Refused adds: nothing changes. */
  ck_assert_uint_eq (ft_fleet_add_pack (fx.f, 550, 0.5, FT_PACK_IN_VEHICLE, 0, T0, &error), G_MAXUINT);
  ck_assert (g_error_matches (error, FT_FLEET_ERROR, FT_FLEET_ERROR_PACK_PLACE));
  ck_assert (strstr (error->message, "FT-0000 already holds pack PK-000000") != NULL);
  g_clear_error (&error);
  ck_assert_uint_eq (ft_fleet_add_pack (fx.f, 550, 1.5, FT_PACK_AT_DEPOT, 0, T0, &error), G_MAXUINT);
  ck_assert (g_error_matches (error, FT_FLEET_ERROR, FT_FLEET_ERROR_INVALID));
  g_clear_error (&error);
  ck_assert_uint_eq (ft_fleet_add_pack (fx.f, -3, 0.5, FT_PACK_AT_DEPOT, 0, T0, &error), G_MAXUINT);
  g_clear_error (&error);
  ck_assert_uint_eq (ft_fleet_add_pack (fx.f, 550, 0.5, FT_PACK_IN_VEHICLE, 17, T0, &error), G_MAXUINT);
  ck_assert (g_error_matches (error, FT_FLEET_ERROR, FT_FLEET_ERROR_NO_SUCH_VEHICLE));
  g_clear_error (&error);
  ck_assert_uint_eq (ft_fleet_add_pack (fx.f, 550, 0.5, FT_PACK_IN_VAN, -1, T0, &error), G_MAXUINT);
  g_clear_error (&error);
  ck_assert_uint_eq (ft_fleet_n_packs (fx.f), 3);

  /* A van beyond the count grows it. */
  ck_assert (ft_fleet_move_pack (fx.f, p2, FT_PACK_IN_VAN, 4, T0, &error));
  ck_assert_uint_eq (ft_fleet_n_vans (fx.f), 5);
  ck_assert (ft_fleet_move_pack (fx.f, p2, FT_PACK_AT_DEPOT, 0, T0, &error));

  /* Swap: vehicle 0's pack into van 1, fresh pack into vehicle 0. */
  ck_assert_msg (ft_fleet_swap_pack (fx.f, 0, p1, 1, T0 + 100, &error), "%s", error ? error->message : "");
  ck_assert_int_eq (ft_fleet_get_vehicle (fx.f, 0)->pack, (gint) p1);
  pk = ft_fleet_get_pack (fx.f, p0);
  ck_assert_int_eq (pk->place, FT_PACK_IN_VAN);
  ck_assert_int_eq (pk->holder, 1);
  assert_check (fx.f);
  {
    g_autoptr(GArray) in_van = g_array_new (FALSE, FALSE, sizeof (guint));
    ft_fleet_packs_at (fx.f, FT_PACK_IN_VAN, 1, in_van);
    ck_assert_uint_eq (in_van->len, 1);
    ck_assert_uint_eq (g_array_index (in_van, guint, 0), p0);
  }
  /* Swap refused: pack not in that van; vehicle in use. State untouched. */
  ck_assert (!ft_fleet_swap_pack (fx.f, 1, p2, 1, T0, &error));
  ck_assert (g_error_matches (error, FT_FLEET_ERROR, FT_FLEET_ERROR_PACK_PLACE));
  ck_assert_msg (strstr (error->message, "PK-000002 is in depot 0, not in van 1"), "%s", error->message);
  g_clear_error (&error);
  ck_assert (ft_fleet_apply_event (fx.f, 0, FT_VEV_TRIP_START, T0, NULL));
  ck_assert (!ft_fleet_swap_pack (fx.f, 0, p0, 1, T0, &error));
  ck_assert_msg (strstr (error->message, "FT-0000 is on_trip"), "%s", error->message);
  g_clear_error (&error);
  ck_assert (!ft_fleet_move_pack (fx.f, p1, FT_PACK_AT_DEPOT, 0, T0, &error));   /* out of a vehicle in use */
  ck_assert (strstr (error->message, "FT-0000 is on_trip") != NULL);
  g_clear_error (&error);
  ck_assert_int_eq (ft_fleet_get_vehicle (fx.f, 0)->pack, (gint) p1);
  ck_assert_int_eq (ft_fleet_get_pack (fx.f, p0)->holder, 1);
  /* Into a vehicle that already has one. */
  ck_assert (ft_fleet_apply_event (fx.f, 0, FT_VEV_TRIP_END, T0, NULL));
  ck_assert (!ft_fleet_move_pack (fx.f, p2, FT_PACK_IN_VEHICLE, 0, T0, &error));
  g_clear_error (&error);
  ck_assert (!ft_fleet_move_pack (fx.f, 99, FT_PACK_AT_DEPOT, 0, T0, &error));
  ck_assert (g_error_matches (error, FT_FLEET_ERROR, FT_FLEET_ERROR_NO_SUCH_PACK));
  g_clear_error (&error);
  /* Into an empty vehicle; then a swap into a vehicle with no pack. */
  ck_assert (ft_fleet_move_pack (fx.f, p2, FT_PACK_IN_VEHICLE, 1, T0, &error));
  ck_assert (ft_fleet_move_pack (fx.f, p2, FT_PACK_IN_VAN, 0, T0, &error));
  ck_assert_int_eq (ft_fleet_get_vehicle (fx.f, 1)->pack, -1);
  ck_assert (ft_fleet_swap_pack (fx.f, 1, p2, 0, T0, &error));
  ck_assert_int_eq (ft_fleet_get_vehicle (fx.f, 1)->pack, (gint) p2);
  assert_check (fx.f);
  ck_assert_uint_eq (ft_event_log_count (fx.log, FT_EV_PACK_ADDED), 3);
  ck_assert_uint_eq (ft_event_log_count (fx.log, FT_EV_PACK_MOVED), 7);
  fx_clear (&fx);
}
END_TEST

START_TEST (test_charge_range)
{
  Fx fx;
  guint p, i;
  const FtPack *pk;
  double r;

  fx_init (&fx, 1);            /* vehicle 0 is a scooter */
  ck_assert_double_eq (ft_fleet_range_m (fx.f, 0), 0);
  ck_assert_double_eq (ft_fleet_soc (fx.f, 0), 0);
  ck_assert_double_eq (ft_fleet_drain (fx.f, 0, 10), 0);
  p = ft_fleet_add_pack (fx.f, 550, 0.5, FT_PACK_IN_VEHICLE, 0, T0, NULL);
  r = ft_fleet_range_m (fx.f, 0);
  ck_assert_double_eq_tol (r, 0.5 * 550 / 12.0 * 1000, 1e-6);
  ck_assert_double_eq_tol (ft_fleet_drain (fx.f, 0, 55), 0.4, 1e-12);
  ck_assert_double_eq (ft_fleet_drain (fx.f, 0, 1e6), 0);          /* clamped */
  pk = ft_fleet_get_pack (fx.f, p);
  ck_assert_double_eq_tol (ft_fleet_charge_pack (fx.f, p, 275, T0), 0.5, 1e-12);
  ck_assert_uint_eq (pk->cycles, 0);
  ck_assert_double_eq_tol (ft_fleet_charge_pack (fx.f, p, 10000, T0), 1.0, 1e-12);   /* only 275 fit */
  ck_assert_uint_eq (pk->cycles, 1);
  ck_assert_double_lt (pk->health, 1.0);
  ck_assert_double_gt (pk->health, 0.999);
  ck_assert_double_eq_tol (pk->throughput_wh, 0, 1e-9);
  /* 1000 full cycles: health fades slowly to about 80 %, range follows. */
  for (i = 0; i < 1000; i++)
    {
      ft_fleet_drain (fx.f, 0, 1e6);
      ft_fleet_charge_pack (fx.f, p, 1e6, T0);
    }
  /* Cycles count nominal capacity put back; a faded pack takes less per
   * full charge, so 1000 full recharges make fewer than 1000 cycles. */
  ck_assert_uint_gt (pk->cycles, 850);
  ck_assert_uint_le (pk->cycles, 1001);
  ck_assert_double_eq_tol (pk->health, 1.0 - 0.0002 * pk->cycles, 1e-9);
  ck_assert_double_gt (pk->health, 0.78);
  ck_assert_double_lt (pk->health, 0.85);
  ck_assert_double_eq_tol (ft_fleet_range_m (fx.f, 0), pk->health * 550 / 12.0 * 1000, 1e-6);
  ck_assert (ft_fleet_range_m (fx.f, 0) < r * 2);
  ck_assert_double_eq (ft_fleet_charge_pack (fx.f, p, -5, T0), 1.0);
  ck_assert_uint_eq (ft_event_log_count (fx.log, FT_EV_PACK_CHARGED), 1002);
  assert_check (fx.f);
  fx_clear (&fx);
}
END_TEST

static gboolean
collect_near (guint id, FtLatLon pos, double d, gpointer user_data)
{
  g_array_append_val ((GArray *) user_data, id);
  return TRUE;
}

static gint
cmp_uint (gconstpointer a, gconstpointer b)
{
  guint x = *(const guint *) a, y = *(const guint *) b;
  return x < y ? -1 : x > y;
}

static gboolean
odd_only (guint id, gpointer user_data)
{
  (*(guint *) user_data)++;
  return id % 2 == 1;
}

/* ft_fleet_apply_event_and_move puts a vehicle it makes available into the
 * index at its new position directly: over random events and moves, two
 * fleets (one through it, one through apply_event then set_position) keep
 * the same states, positions and odometers, and both indexes hand out the
 * same vehicles in the same order and the same nearest vehicle. */
START_TEST (test_apply_and_move_matches)
{
  g_autoptr(FtFleet) f = ft_fleet_new (3, NULL);
  g_autoptr(FtFleet) plain = ft_fleet_new (3, NULL);
  g_autoptr(GRand) rng = g_rand_new_with_seed (12);
  FtBBox b;
  ft_bbox_init_empty (&b);
  ft_bbox_extend (&b, ft_latlon_offset (origin, -800, -800));
  ft_bbox_extend (&b, ft_latlon_offset (origin, 800, 800));
  ft_fleet_enable_index (f, b, 100);
  ft_fleet_enable_index (plain, b, 100);
  const guint NV = 300;
  for (guint i = 0; i < NV; i++)
    {
      FtLatLon p = ft_latlon_offset (origin, g_rand_double_range (rng, -800, 800), g_rand_double_range (rng, -800, 800));
      ft_fleet_add_vehicle (f, FT_KIND_SCOOTER, p, NULL, T0);
      ft_fleet_add_vehicle (plain, FT_KIND_SCOOTER, p, NULL, T0);
    }
  guint applied = 0, made_available = 0;
  for (guint step = 0; step < 6000; step++)
    {
      guint v = (guint) g_rand_int_range (rng, 0, (gint32) NV);
      FtVehicleEventType ev = (FtVehicleEventType) g_rand_int_range (rng, 0, FT_N_VEVS);
      FtLatLon p = ft_latlon_offset (origin, g_rand_double_range (rng, -800, 800), g_rand_double_range (rng, -800, 800));
      double odo = g_rand_double_range (rng, 0, 3000);
      FtTime now = T0 + step;
      gboolean was = ft_fleet_get_vehicle (f, v)->state == FT_STATE_AVAILABLE;
      gboolean ok = ft_fleet_apply_event_and_move (f, v, ev, now, p, odo, NULL);
      gboolean ok2 = ft_fleet_apply_event (plain, v, ev, now, NULL);
      if (ok2)
        ft_fleet_set_position (plain, v, p, odo, now, FALSE);
      ck_assert_int_eq (ok, ok2);
      applied += ok;
      made_available += ok && !was && ft_fleet_get_vehicle (f, v)->state == FT_STATE_AVAILABLE;
      const FtVehicle *x = ft_fleet_get_vehicle (f, v), *y = ft_fleet_get_vehicle (plain, v);
      ck_assert_int_eq (x->state, y->state);
      ck_assert (x->pos.lat == y->pos.lat && x->pos.lon == y->pos.lon && x->odometer_m == y->odometer_m);
      if (step % 20 == 0)
        {
          FtLatLon q = ft_latlon_offset (origin, g_rand_double_range (rng, -800, 800), g_rand_double_range (rng, -800, 800));
          g_autoptr(GArray) a = g_array_new (FALSE, FALSE, sizeof (guint));
          g_autoptr(GArray) c = g_array_new (FALSE, FALSE, sizeof (guint));
          ft_fleet_visit_near_available (f, q, 400, collect_near, a);
          ft_fleet_visit_near_available (plain, q, 400, collect_near, c);
          ft_fleet_visit_near (f, q, 300, collect_near, a);
          ft_fleet_visit_near (plain, q, 300, collect_near, c);
          ck_assert_uint_eq (a->len, c->len);
          ck_assert (memcmp (a->data, c->data, a->len * sizeof (guint)) == 0);   /* the same order */
          double da = 0, dc = 0;
          ck_assert_int_eq (ft_fleet_nearest_available (f, q, 500, NULL, NULL, &da),
                            ft_fleet_nearest_available (plain, q, 500, NULL, NULL, &dc));
          ck_assert (da == dc);
        }
      if (step % 500 == 0)
        {
          g_autoptr(GError) e = NULL;
          ck_assert_msg (ft_fleet_check (f, &e), "%s", e ? e->message : "");
        }
    }
  ck_assert_uint_gt (applied, 500);
  ck_assert_uint_gt (made_available, 100);
}
END_TEST

START_TEST (test_index)
{
  g_autoptr(FtFleet) f = ft_fleet_new (3, NULL);
  g_autoptr(FtFleet) plain = ft_fleet_new (3, NULL);
  g_autoptr(GRand) rng = g_rand_new_with_seed (9);
  FtBBox b;
  guint i, q;

  ft_bbox_init_empty (&b);
  ft_bbox_extend (&b, ft_latlon_offset (origin, -3000, -3000));
  ft_bbox_extend (&b, ft_latlon_offset (origin, 3000, 3000));
  for (i = 0; i < 500; i++)
    {
      FtLatLon p = ft_latlon_offset (origin, g_rand_double_range (rng, -3000, 3000), g_rand_double_range (rng, -3000, 3000));
      ft_fleet_add_vehicle (f, FT_KIND_SCOOTER, p, NULL, T0);
      ft_fleet_add_vehicle (plain, FT_KIND_SCOOTER, p, NULL, T0);
      if (i == 250)
        ft_fleet_enable_index (f, b, 200);    /* enabling late indexes existing vehicles */
    }
  for (i = 0; i < 500; i += 3)
    {
      FtLatLon p = ft_latlon_offset (origin, g_rand_double_range (rng, -3000, 3000), g_rand_double_range (rng, -3000, 3000));
      ft_fleet_set_position (f, i, p, 10, T0, FALSE);
      ft_fleet_set_position (plain, i, p, 10, T0, FALSE);
    }
  ck_assert_double_eq (ft_fleet_get_vehicle (f, 3)->odometer_m, 10);
  for (q = 0; q < 50; q++)
    {
      FtLatLon p = ft_latlon_offset (origin, g_rand_double_range (rng, -3000, 3000), g_rand_double_range (rng, -3000, 3000));
      g_autoptr(GArray) a = g_array_new (FALSE, FALSE, sizeof (guint));
      g_autoptr(GArray) c = g_array_new (FALSE, FALSE, sizeof (guint));

      ft_fleet_visit_near (f, p, 600, collect_near, a);
      ft_fleet_visit_near (plain, p, 600, collect_near, c);
      g_array_sort (a, cmp_uint);
      g_array_sort (c, cmp_uint);
      ck_assert_uint_eq (a->len, c->len);
      ck_assert (memcmp (a->data, c->data, a->len * sizeof (guint)) == 0);
    }
  /* the index of every vehicle is built by the first visit: moves and
   * additions after it must reach it too */
  for (i = 0; i < 500; i += 2)
    {
      FtLatLon p = ft_latlon_offset (origin, g_rand_double_range (rng, -3000, 3000), g_rand_double_range (rng, -3000, 3000));
      ft_fleet_set_position (f, i, p, 10, T0, FALSE);
      ft_fleet_set_position (plain, i, p, 10, T0, FALSE);
    }
  for (i = 0; i < 20; i++)
    {
      FtLatLon p = ft_latlon_offset (origin, g_rand_double_range (rng, -3000, 3000), g_rand_double_range (rng, -3000, 3000));
      ft_fleet_add_vehicle (f, FT_KIND_SCOOTER, p, NULL, T0);
      ft_fleet_add_vehicle (plain, FT_KIND_SCOOTER, p, NULL, T0);
    }
  for (q = 0; q < 50; q++)
    {
      FtLatLon p = ft_latlon_offset (origin, g_rand_double_range (rng, -3000, 3000), g_rand_double_range (rng, -3000, 3000));
      g_autoptr(GArray) a = g_array_new (FALSE, FALSE, sizeof (guint));
      g_autoptr(GArray) c = g_array_new (FALSE, FALSE, sizeof (guint));

      ft_fleet_visit_near (f, p, 600, collect_near, a);
      ft_fleet_visit_near (plain, p, 600, collect_near, c);
      g_array_sort (a, cmp_uint);
      g_array_sort (c, cmp_uint);
      ck_assert_uint_eq (a->len, c->len);
      ck_assert (memcmp (a->data, c->data, a->len * sizeof (guint)) == 0);
    }
  /* the nearest available vehicle: the index's ring search and the plain
   * scan agree, with and without a filter, ties to the lowest index */
  for (i = 0; i < 520; i += 5)
    {
      ck_assert (ft_fleet_apply_event (f, i, FT_VEV_MAINTENANCE, T0, NULL));
      ck_assert (ft_fleet_apply_event (plain, i, FT_VEV_MAINTENANCE, T0, NULL));
    }
  ft_fleet_set_position (f, 7, ft_fleet_get_vehicle (f, 8)->pos, 0, T0, FALSE);   /* a tie */
  ft_fleet_set_position (plain, 7, ft_fleet_get_vehicle (plain, 8)->pos, 0, T0, FALSE);
  for (q = 0; q < 200; q++)
    {
      FtLatLon p = q == 0 ? ft_fleet_get_vehicle (f, 8)->pos
                 : ft_latlon_offset (origin, g_rand_double_range (rng, -3000, 3000), g_rand_double_range (rng, -3000, 3000));
      double max_m = g_rand_double_range (rng, 0, 800), da = -1, dc = -1;
      guint na = 0, nc = 0;
      gint64 a = ft_fleet_nearest_available (f, p, max_m, q % 2 ? NULL : odd_only, &na, &da);
      gint64 c = ft_fleet_nearest_available (plain, p, max_m, q % 2 ? NULL : odd_only, &nc, &dc);
      ck_assert_int_eq (a, c);
      ck_assert (da == dc);
      if (q == 0)
        ck_assert_int_eq (a, 7);
    }
  assert_check (f);
}
END_TEST

/* The index of available vehicles follows every transition, move and
 * restore: it visits exactly the available vehicles a linear scan finds,
 * with or without the index enabled, and the checker agrees. */
START_TEST (test_available_index)
{
  g_autoptr(FtFleet) f = ft_fleet_new (4, NULL);
  g_autoptr(FtFleet) plain = ft_fleet_new (4, NULL);
  g_autoptr(GRand) rng = g_rand_new_with_seed (11);
  static const FtVehicleEventType evs[] = {
    FT_VEV_RESERVATION_START, FT_VEV_TRIP_START, FT_VEV_TRIP_END, FT_VEV_RESERVATION_CANCEL,
    FT_VEV_BATTERY_LOW, FT_VEV_BATTERY_CHARGED, FT_VEV_MAINTENANCE, FT_VEV_MAINTENANCE_END,
    FT_VEV_COMMS_LOST, FT_VEV_COMMS_RESTORED, FT_VEV_REBALANCE_PICK_UP, FT_VEV_PROVIDER_DROP_OFF,
  };
  g_autoptr(GError) error = NULL;
  FtBBox b;
  guint i, q, n_avail_seen = 0;

  ft_bbox_init_empty (&b);
  ft_bbox_extend (&b, ft_latlon_offset (origin, -3000, -3000));
  ft_bbox_extend (&b, ft_latlon_offset (origin, 3000, 3000));
  for (i = 0; i < 400; i++)
    {
      FtLatLon p = ft_latlon_offset (origin, g_rand_double_range (rng, -3000, 3000), g_rand_double_range (rng, -3000, 3000));
      ft_fleet_add_vehicle (f, FT_KIND_SCOOTER, p, NULL, T0);
      ft_fleet_add_vehicle (plain, FT_KIND_SCOOTER, p, NULL, T0);
      if (i == 150)
        ft_fleet_enable_index (f, b, 200);
    }
  for (i = 0; i < 4000; i++)
    {
      guint v = (guint) g_rand_int_range (rng, 0, 400);
      FtVehicleEventType ev = evs[g_rand_int_range (rng, 0, G_N_ELEMENTS (evs))];
      gboolean ok = ft_fleet_apply_event (f, v, ev, T0 + i, NULL);
      ck_assert (ok == ft_fleet_apply_event (plain, v, ev, T0 + i, NULL));
      if (i % 7 == 0)
        {
          FtLatLon p = ft_latlon_offset (origin, g_rand_double_range (rng, -3000, 3000), g_rand_double_range (rng, -3000, 3000));
          ft_fleet_set_position (f, v, p, 1, T0 + i, FALSE);
          ft_fleet_set_position (plain, v, p, 1, T0 + i, FALSE);
        }
      if (i % 97 == 0)
        {
          /* restore flips a vehicle's state without an event */
          FtVehicle copy = *ft_fleet_get_vehicle (f, v);
          copy.state = copy.state == FT_STATE_AVAILABLE ? FT_STATE_NON_OPERATIONAL : FT_STATE_AVAILABLE;
          ft_fleet_restore_vehicle (f, &copy);
          ft_fleet_restore_vehicle (plain, &copy);
        }
    }
  ck_assert_msg (ft_fleet_check (f, &error), "%s", error ? error->message : "");
  for (q = 0; q < 60; q++)
    {
      FtLatLon p = ft_latlon_offset (origin, g_rand_double_range (rng, -3000, 3000), g_rand_double_range (rng, -3000, 3000));
      g_autoptr(GArray) a = g_array_new (FALSE, FALSE, sizeof (guint));
      g_autoptr(GArray) c = g_array_new (FALSE, FALSE, sizeof (guint));
      g_autoptr(GArray) all = g_array_new (FALSE, FALSE, sizeof (guint));

      ft_fleet_visit_near_available (f, p, 800, collect_near, a);
      ft_fleet_visit_near_available (plain, p, 800, collect_near, c);
      ft_fleet_visit_near (plain, p, 800, collect_near, all);
      g_array_sort (a, cmp_uint);
      g_array_sort (c, cmp_uint);
      ck_assert_uint_eq (a->len, c->len);
      ck_assert (memcmp (a->data, c->data, a->len * sizeof (guint)) == 0);
      for (i = 0; i < a->len; i++)
        ck_assert_int_eq (ft_fleet_get_vehicle (f, g_array_index (a, guint, i))->state, FT_STATE_AVAILABLE);
      guint n_av = 0;
      for (i = 0; i < all->len; i++)
        n_av += ft_fleet_get_vehicle (plain, g_array_index (all, guint, i))->state == FT_STATE_AVAILABLE;
      ck_assert_uint_eq (n_av, a->len);
      n_avail_seen += a->len;
    }
  ck_assert_uint_gt (n_avail_seen, 0);
  ck_assert_uint_lt (ft_fleet_count_state (f, FT_STATE_AVAILABLE), 400);
}
END_TEST

START_TEST (test_restore_and_check)
{
  Fx fx;
  g_autoptr(GError) error = NULL;
  FtVehicle v;
  FtPack p;
  guint found;

  fx_init (&fx, 2);
  ft_fleet_set_holders (fx.f, 1, 1);
  ft_fleet_add_pack (fx.f, 500, 0.5, FT_PACK_IN_VEHICLE, 1, T0, NULL);
  ft_fleet_add_pack (fx.f, 500, 0.7, FT_PACK_AT_DEPOT, 0, T0, NULL);
  ft_event_log_drain (fx.log);

  /* Overwrite a vehicle: state counts and lookups follow, no events. */
  v = *ft_fleet_get_vehicle (fx.f, 0);
  v.state = FT_STATE_NON_OPERATIONAL;
  g_strlcpy (v.name, "FT-X", sizeof v.name);
  ft_fleet_restore_vehicle (fx.f, &v);
  ck_assert_uint_eq (ft_fleet_count_state (fx.f, FT_STATE_NON_OPERATIONAL), 1);
  ck_assert_uint_eq (ft_fleet_count_state (fx.f, FT_STATE_AVAILABLE), 1);
  ck_assert (ft_fleet_lookup_name (fx.f, "FT-X", &found));
  ck_assert (!ft_fleet_lookup_name (fx.f, "FT-0000", &found));
  ck_assert_uint_eq (ft_event_log_n_pending (fx.log), 0);
  assert_check (fx.f);

  /* Append a vehicle and a pack by restore (store reload order). */
  memset (&v, 0, sizeof v);
  v.index = 2;
  g_strlcpy (v.name, "FT-0002", sizeof v.name);
  g_strlcpy (v.device_id, "dev-2", sizeof v.device_id);
  v.kind = FT_KIND_MOPED;
  v.state = FT_STATE_REMOVED;
  v.pack = 2;
  v.booking = -1;
  ft_fleet_restore_vehicle (fx.f, &v);
  ck_assert (!ft_fleet_check (fx.f, &error));               /* pack 2 not restored yet */
  ck_assert_msg (strstr (error->message, "FT-0002 holds pack 2"), "%s", error->message);
  g_clear_error (&error);
  memset (&p, 0, sizeof p);
  p.index = 2;
  g_strlcpy (p.id, "PK-000002", sizeof p.id);
  p.capacity_wh = 1600;
  p.soc = 0.3;
  p.health = 0.9;
  p.place = FT_PACK_IN_VEHICLE;
  p.holder = 2;
  ft_fleet_restore_pack (fx.f, &p);
  assert_check (fx.f);
  ck_assert (ft_fleet_lookup_device (fx.f, "dev-2", &found));
  ck_assert_uint_eq (found, 2);
  ck_assert_double_eq_tol (ft_fleet_range_m (fx.f, 2), 0.3 * 0.9 * 1600 / 30.0 * 1000, 1e-6);

  /* Pack restored into a van beyond the count grows the vans. */
  p = *ft_fleet_get_pack (fx.f, 1);
  p.place = FT_PACK_IN_VAN;
  p.holder = 6;
  ft_fleet_restore_pack (fx.f, &p);
  ck_assert_uint_eq (ft_fleet_n_vans (fx.f), 7);
  assert_check (fx.f);

  /* Violations the checker must name. */
  p = *ft_fleet_get_pack (fx.f, 1);
  p.soc = 1.2;
  ft_fleet_restore_pack (fx.f, &p);
  ck_assert (!ft_fleet_check (fx.f, &error));
  ck_assert_msg (strstr (error->message, "PK-000001 has state of charge 1.2"), "%s", error->message);
  g_clear_error (&error);
  p.soc = 0.5;
  p.place = FT_PACK_IN_VEHICLE;
  p.holder = 1;                /* vehicle 1 holds pack 0, not this one */
  ft_fleet_restore_pack (fx.f, &p);
  ck_assert (!ft_fleet_check (fx.f, &error));
  ck_assert_msg (strstr (error->message, "PK-000001 says it is in FT-0001, but FT-0001 holds PK-000000"),
                 "%s", error->message);
  g_clear_error (&error);
  p.place = FT_PACK_AT_DEPOT;
  p.holder = 0;
  ft_fleet_restore_pack (fx.f, &p);
  v = *ft_fleet_get_vehicle (fx.f, 0);
  v.pack = 1;                  /* vehicle claims a pack that is at the depot */
  ft_fleet_restore_vehicle (fx.f, &v);
  ck_assert (!ft_fleet_check (fx.f, &error));
  ck_assert_msg (strstr (error->message, "FT-X holds pack PK-000001, but the pack says it is in depot 0"),
                 "%s", error->message);
  g_clear_error (&error);
  v.pack = -1;
  ft_fleet_restore_vehicle (fx.f, &v);
  assert_check (fx.f);
  fx_clear (&fx);
}
END_TEST

/* Random events, moves and swaps; invariants after every step, and refused
 * operations leave the vehicle exactly as it was. */
START_TEST (test_random)
{
  Fx fx;
  g_autoptr(GRand) rng = g_rand_new_with_seed (2026);
  const guint NV = 60, NVAN = 3, NDEP = 2;
  guint i, step, ok = 0, refused = 0;

  fx_init (&fx, NV);
  ft_event_log_set_retain (fx.log, FALSE);
  ft_fleet_set_holders (fx.f, NVAN, NDEP);
  for (i = 0; i < NV; i++)
    ck_assert_uint_ne (ft_fleet_add_pack (fx.f, 500, g_rand_double (rng), FT_PACK_IN_VEHICLE, (gint32) i, T0, NULL), G_MAXUINT);
  for (i = 0; i < 20; i++)
    ft_fleet_add_pack (fx.f, 500, 1.0, g_rand_boolean (rng) ? FT_PACK_IN_VAN : FT_PACK_AT_DEPOT,
                       (gint32) g_rand_int_range (rng, 0, 2), T0, NULL);
  for (step = 0; step < 50000; step++)
    {
      guint v = (guint) g_rand_int_range (rng, 0, (gint32) NV);
      FtVehicle before = *ft_fleet_get_vehicle (fx.f, v);
      GError *error = NULL;
      gboolean done = TRUE;
      FtTime now = T0 + step * 1000;

      switch (g_rand_int_range (rng, 0, 5))
        {
        case 0: case 1:
          done = ft_fleet_apply_event (fx.f, v, (FtVehicleEventType) g_rand_int_range (rng, 0, FT_N_VEVS), now, &error);
          break;
        case 2:
          done = ft_fleet_swap_pack (fx.f, v, (guint) g_rand_int_range (rng, 0, (gint32) ft_fleet_n_packs (fx.f)),
                                     (guint) g_rand_int_range (rng, 0, (gint32) NVAN), now, &error);
          break;
        case 3:
          done = ft_fleet_move_pack (fx.f, (guint) g_rand_int_range (rng, 0, (gint32) ft_fleet_n_packs (fx.f)),
                                     (FtPackPlace) g_rand_int_range (rng, 0, FT_N_PACK_PLACES),
                                     (gint32) g_rand_int_range (rng, 0, (gint32) NV), now, &error);
          break;
        default:
          ft_fleet_drain (fx.f, v, g_rand_double_range (rng, 0, 100));
          if (ft_fleet_get_vehicle (fx.f, v)->pack >= 0)
            ft_fleet_charge_pack (fx.f, (guint) ft_fleet_get_vehicle (fx.f, v)->pack, g_rand_double_range (rng, 0, 50), now);
          break;
        }
      if (done)
        ok++;
      else
        {
          const FtVehicle *after = ft_fleet_get_vehicle (fx.f, v);
          refused++;
          ck_assert_ptr_nonnull (error);
          ck_assert_int_eq (after->state, before.state);
          ck_assert_int_eq (after->pack, before.pack);
          ck_assert_int_eq (after->last_event, before.last_event);
          g_error_free (error);
        }
      assert_check (fx.f);
    }
  ck_assert_uint_gt (ok, 10000);
  ck_assert_uint_gt (refused, 5000);
  {
    guint sum = 0;
    for (i = 0; i < FT_N_STATES; i++)
      sum += ft_fleet_count_state (fx.f, i);
    ck_assert_uint_eq (sum, NV);
  }
  fx_clear (&fx);
}
END_TEST

static Suite *
fleet_suite (void)
{
  Suite *s = suite_create ("fleet");
  TCase *tc;

  tc = tcase_create ("types"); tcase_add_test (tc, test_types); tcase_add_test (tc, test_names); tcase_add_test (tc, test_ids); suite_add_tcase (s, tc);
  tc = tcase_create ("transitions");
  tcase_add_test (tc, test_table_matches_mds);
  tcase_add_test (tc, test_table_rules);
  tcase_add_test (tc, test_apply_event);
  tcase_add_test (tc, test_comms);
  suite_add_tcase (s, tc);
  tc = tcase_create ("packs"); tcase_add_test (tc, test_packs); tcase_add_test (tc, test_charge_range); suite_add_tcase (s, tc);
  tc = tcase_create ("index"); tcase_add_test (tc, test_index); suite_add_tcase (s, tc);
  tc = tcase_create ("available-index"); tcase_add_test (tc, test_available_index); suite_add_tcase (s, tc);
  tc = tcase_create ("apply-and-move"); tcase_add_test (tc, test_apply_and_move_matches); suite_add_tcase (s, tc);
  tc = tcase_create ("restore-check"); tcase_add_test (tc, test_restore_and_check); suite_add_tcase (s, tc);
  tc = tcase_create ("random"); tcase_set_timeout (tc, 300); tcase_add_test (tc, test_random); suite_add_tcase (s, tc);
  return s;
}

int
main (void)
{
  SRunner *sr = srunner_create (fleet_suite ());
  int failed;

  srunner_run_all (sr, CK_NORMAL);
  failed = srunner_ntests_failed (sr);
  srunner_free (sr);
  return failed == 0 ? 0 : 1;
}
