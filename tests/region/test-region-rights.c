/* test-region-rights.c — data residency, retention and riders' rights
 * (src/region/ft-region-data.h) on two small regions built from the real
 * modules: no rider of one region in any file of the other, retention
 * counts and idempotence, export of one rider and nobody else, erasure
 * (name and e-mail gone from every byte of the files, the ledger still
 * balanced, trip counts kept, the audit row), roles refused, bad input
 * refused with nothing changed, and the report reading aggregates only.
 */
#include <check.h>
#include <glib/gstdio.h>
#include <json-glib/json-glib.h>
#include <sqlite3.h>
#include <string.h>

#include "ft-analytics.h"
#include "ft-region-data.h"
#include "ft-test.h"
#include "store-world.h"

#define T0 ((FtTime) 1700000000000)   /* 2023-11-14, Unix ms */

typedef struct {
  const char *region, *jurisdiction;
  const char *names[2], *emails[2];
} RegionSpec;

static const RegionSpec SPEC_A = { "paris", "GDPR",
  { "Amelie Dupont", "Bastien Morel" }, { "amelie.dupont@paris.example", "bastien@paris.example" } };
static const RegionSpec SPEC_B = { "pune", "DPDP",
  { "Priya Sharma", "Rohan Kulkarni" }, { "priya.sharma@pune.example", "rohan@pune.example" } };

typedef struct {
  char  *dir, *db;
  char   rider_id[2][37];
  guint  rider[2], dispatcher, planner, admin;
} Region;

static char *tmp_root;

static void
setup (void)
{
  tmp_root = g_dir_make_tmp ("ft-rights-XXXXXX", NULL);
  ck_assert_ptr_nonnull (tmp_root);
}

static void
teardown (void)
{
  ft_test_rm_rf (tmp_root);
  g_clear_pointer (&tmp_root, g_free);
}

static void
region_clear (Region *r)
{
  g_free (r->dir);
  g_free (r->db);
}

static void
exec_sql (const char *db_path, const char *sql)
{
  sqlite3 *db = NULL;
  char *msg = NULL;

  ck_assert_int_eq (sqlite3_open (db_path, &db), SQLITE_OK);
  if (sqlite3_exec (db, sql, NULL, NULL, &msg) != SQLITE_OK)
    ck_abort_msg ("%s: %s", sql, msg);
  sqlite3_close (db);
}

static gint64
query_int (const char *db_path, const char *sql)
{
  sqlite3 *db = NULL;
  sqlite3_stmt *st = NULL;
  gint64 v;

  ck_assert_int_eq (sqlite3_open_v2 (db_path, &db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
  if (sqlite3_prepare_v2 (db, sql, -1, &st, NULL) != SQLITE_OK)
    ck_abort_msg ("%s: %s", sql, sqlite3_errmsg (db));
  ck_assert_int_eq (sqlite3_step (st), SQLITE_ROW);
  v = sqlite3_column_int64 (st, 0);
  sqlite3_finalize (st);
  sqlite3_close (db);
  return v;
}

/* A region folder with one store: two named riders with wallets and
 * trips, telemetry during the first rider's trip, hand-offs, end-of-trip
 * photos, a dispatcher, a planner and an admin. */
static void
make_region (Region *r, const RegionSpec *spec, guint64 seed)
{
  g_autoptr(World) w = world_new (seed);
  g_autoptr(GError) err = NULL;
  g_autoptr(FtStore) s = NULL;
  FtStoreTargets t;
  FtTime now = T0;
  guint i, k;

  memset (r, 0, sizeof *r);
  r->dir = g_build_filename (tmp_root, spec->region, NULL);
  ck_assert_msg (ft_region_policy_init (r->dir, spec->region, spec->jurisdiction, &err), "%s",
                 err ? err->message : "");
  r->db = g_build_filename (r->dir, "data", "live.db", NULL);
  s = ft_store_open (r->db, NULL, &err);
  ck_assert_msg (s != NULL, "%s", err ? err->message : "");
  t = world_targets (w);

  world_populate (w, 6, 0, 0, 0, now);
  r->admin = ft_accounts_n (w->accounts) - 1;
  for (i = 0; i < 2; i++)
    {
      g_autofree char *key = g_strdup_printf ("topup-%u", i);
      gint a = ft_accounts_create (w->accounts, FT_ROLE_RIDER, spec->names[i], spec->emails[i], now, &err);
      ck_assert_msg (a >= 0, "%s", err ? err->message : "");
      r->rider[i] = (guint) a;
      g_strlcpy (r->rider_id[i], ft_accounts_get (w->accounts, a)->id, sizeof r->rider_id[i]);
      ck_assert_msg (ft_payments_topup (w->payments, (guint) a, 5000, key, now, &err) >= 0, "%s",
                     err ? err->message : "");
    }
  r->dispatcher = (guint) ft_accounts_create (w->accounts, FT_ROLE_DISPATCHER, "Dee Dispatch", NULL, now, &err);
  r->planner = (guint) ft_accounts_create (w->accounts, FT_ROLE_PLANNER, "Pat Planner", NULL, now, &err);
  g_assert_no_error (err);

  /* Trips: rider 0 twice, rider 1 once; telemetry while rider 0 rides
   * vehicle 0, and telemetry of an idle vehicle. */
  for (k = 0; k < 3; k++)
    {
      guint who = r->rider[k == 1 ? 1 : 0];
      FtTime at = now + (FtTime) k * FT_HOUR;
      ck_assert_msg (world_lifecycle (w, who, k, at, &err) >= 0, "%s", err ? err->message : "");
    }
  for (k = 0; k < 5; k++)
    {
      FtEvent ev = ft_event_init (FT_EV_TELEMETRY, now + 40 * FT_SECOND + (FtTime) k * FT_MINUTE);
      FtLatLon p = ft_latlon_offset (world_point (0), 37.0 * k, 53.0 * k);
      ev.vehicle = 0;
      ev.lat = p.lat;
      ev.lon = p.lon;
      ft_event_log_append (w->log, &ev);
      ev = ft_event_init (FT_EV_TELEMETRY, now + 3 * FT_HOUR + (FtTime) k * FT_MINUTE);
      ev.vehicle = 5;
      ev.lat = world_point (5).lat;
      ev.lon = world_point (5).lon;
      ft_event_log_append (w->log, &ev);
    }
  {
    /* the log's last event is not telemetry (retention keeps the last one) */
    FtEvent ev = ft_event_init (FT_EV_VEHICLE_STATE, now + 5 * FT_HOUR);
    ev.vehicle = 5;
    ft_event_log_append (w->log, &ev);
  }
  ck_assert_msg (ft_store_commit (s, &t, &err), "%s", err ? err->message : "");
  ck_assert (ft_store_save_all (s, &t, &err));
  g_clear_pointer (&s, ft_store_close);

  /* The assistant's and the damage checks' rows, as their modules write them. */
  {
    g_autofree char *sql = g_strdup_printf (
      "INSERT INTO assist_handoffs (t, rider, intent, reason, message, booking, vehicle, amount,"
      " closed_at, closed_by) VALUES (%" G_GINT64_FORMAT ", %u, 'refund', 'asks a refund',"
      " 'This is %s, I was charged twice', 1, 0, 150, -1, -1),"
      " (%" G_GINT64_FORMAT ", %u, 'refund', 'asks a refund', 'This is %s, refund please', 2, 1, 90, -1, -1);"
      "INSERT INTO assist_pending (rider, action, booking, vehicle, amount, expires, message)"
      " VALUES (%u, 1, 1, 0, 0, %" G_GINT64_FORMAT ", 'erase my data');"
      "INSERT INTO inspect_photos (vehicle, t, path, phash, decision, score) VALUES"
      " (0, %" G_GINT64_FORMAT ", '/photos/%s-end.jpg', 1, 0, 0.1),"
      " (1, %" G_GINT64_FORMAT ", '/photos/%s-end.jpg', 2, 0, 0.1);",
      now + FT_DAY, r->rider[0], spec->names[0], now + FT_DAY, r->rider[1], spec->names[1],
      r->rider[0], now + FT_DAY,
      now + 6 * FT_MINUTE + 30 * FT_SECOND, spec->region,
      now + FT_HOUR + 6 * FT_MINUTE + 30 * FT_SECOND, "other");
    exec_sql (r->db, sql);
  }
}

static gboolean
bytes_contain (const char *buf, gsize len, const char *needle)
{
  gsize n = strlen (needle), i;

  for (i = 0; n > 0 && i + n <= len; i++)
    if (buf[i] == needle[0] && memcmp (buf + i, needle, n) == 0)
      return TRUE;
  return FALSE;
}

/* Every byte of every SQLite file under dir (stores, -wal, -shm). */
static gboolean
files_contain (const char *dir, const char *needle, char **where)
{
  g_autoptr(GDir) d = g_dir_open (dir, 0, NULL);
  const char *n;

  if (d == NULL)
    return FALSE;
  while ((n = g_dir_read_name (d)) != NULL)
    {
      g_autofree char *p = g_build_filename (dir, n, NULL);
      g_autofree char *buf = NULL;
      gsize len = 0;

      if (g_file_test (p, G_FILE_TEST_IS_DIR))
        {
          if (files_contain (p, needle, where))
            return TRUE;
          continue;
        }
      if (!g_file_get_contents (p, &buf, &len, NULL))
        continue;
      if (bytes_contain (buf, len, needle))
        {
          if (where)
            *where = g_strdup (p);
          return TRUE;
        }
    }
  return FALSE;
}

/* ---- residency ------------------------------------------------------------- */

START_TEST (test_residency_two_regions)
{
  Region a, b;
  guint i;

  make_region (&a, &SPEC_A, 11);
  make_region (&b, &SPEC_B, 22);
  for (i = 0; i < 2; i++)
    {
      g_autofree char *where = NULL;
      const char *needles[3] = { a.rider_id[i], SPEC_A.emails[i], SPEC_A.names[i] };
      guint k;

      /* The scan finds them where they are... */
      for (k = 0; k < 3; k++)
        ck_assert_msg (files_contain (a.dir, needles[k], NULL), "%s not in region A", needles[k]);
      /* ...and nowhere in region B. */
      for (k = 0; k < 3; k++)
        ck_assert_msg (!files_contain (b.dir, needles[k], &where), "%s of region A found in %s",
                       needles[k], where);
    }
  region_clear (&a);
  region_clear (&b);
}
END_TEST

START_TEST (test_residency_foreign_store_refused)
{
  Region a, b;
  g_autoptr(GError) err = NULL;
  g_autoptr(GArray) res = NULL;
  g_autofree char *moved = NULL;
  gint64 events;

  make_region (&a, &SPEC_A, 11);
  make_region (&b, &SPEC_B, 22);
  res = ft_region_retention (b.dir, T0, &err);
  g_assert_no_error (err);
  g_clear_pointer (&res, ft_retention_results_free);
  /* region B's store, tagged "pune", copied into region A's folder */
  moved = g_build_filename (a.dir, "data", "stray.db", NULL);
  {
    g_autofree char *buf = NULL;
    gsize len;
    ck_assert (g_file_get_contents (b.db, &buf, &len, NULL));
    ck_assert (g_file_set_contents (moved, buf, (gssize) len, NULL));
  }
  events = query_int (a.db, "SELECT count(*) FROM events");
  res = ft_region_retention (a.dir, T0 + 400 * FT_DAY, &err);
  ck_assert_ptr_null (res);
  ck_assert_int_eq (err->code, FT_REGION_DATA_ERROR_RESIDENCY);
  ck_assert_msg (strstr (err->message, "stray.db") && strstr (err->message, "pune"), "%s", err->message);
  /* nothing changed in region A's own store either */
  ck_assert_int_eq (query_int (a.db, "SELECT count(*) FROM events"), events);
  ck_assert_int_eq (query_int (a.db, "SELECT count(*) FROM retention_log"), 0);
  region_clear (&a);
  region_clear (&b);
}
END_TEST

/* ---- retention --------------------------------------------------------------- */

START_TEST (test_retention_counts_and_idempotent)
{
  Region a;
  g_autoptr(GError) err = NULL;
  GArray *res;
  FtRetentionResult *r0;
  gint64 tel_before, trips_before;

  make_region (&a, &SPEC_A, 11);
  G_STATIC_ASSERT (FT_EV_TELEMETRY == 7);
  tel_before = query_int (a.db, "SELECT count(*) FROM events WHERE kind = 7");
  ck_assert_int_eq (tel_before, 10);
  trips_before = query_int (a.db, "SELECT count(*) FROM bookings WHERE state = 3");
  /* GDPR defaults: telemetry 30 days, positions 90 days. At T0 + 31 days
   * the telemetry goes, positions stay exact. */
  res = ft_region_retention (a.dir, T0 + 31 * FT_DAY, &err);
  ck_assert_msg (res != NULL, "%s", err ? err->message : "");
  ck_assert_uint_eq (res->len, 1);
  r0 = &g_array_index (res, FtRetentionResult, 0);
  ck_assert_int_eq (r0->telemetry_removed, 10);
  ck_assert_int_eq (r0->bookings_coarsened, 0);
  ft_retention_results_free (res);
  ck_assert_int_eq (query_int (a.db, "SELECT count(*) FROM events WHERE kind = 7"), 0);
  /* At T0 + 91 days the trips' positions are coarsened. */
  res = ft_region_retention (a.dir, T0 + 91 * FT_DAY, &err);
  ck_assert_msg (res != NULL, "%s", err ? err->message : "");
  r0 = &g_array_index (res, FtRetentionResult, 0);
  ck_assert_int_eq (r0->telemetry_removed, 0);
  ck_assert_int_eq (r0->bookings_coarsened, 3);
  ck_assert_int_gt (r0->events_coarsened, 0);
  ft_retention_results_free (res);
  /* Again: nothing left to do. */
  res = ft_region_retention (a.dir, T0 + 91 * FT_DAY, &err);
  ck_assert_msg (res != NULL, "%s", err ? err->message : "");
  r0 = &g_array_index (res, FtRetentionResult, 0);
  ck_assert_int_eq (r0->telemetry_removed + r0->bookings_coarsened + r0->events_coarsened, 0);
  ft_retention_results_free (res);
  /* Logged, counts kept, positions on the grid, the store tagged. */
  ck_assert_int_eq (query_int (a.db, "SELECT count(*) FROM retention_log"), 3);
  ck_assert_int_eq (query_int (a.db, "SELECT sum(telemetry_removed) FROM retention_log"), 10);
  ck_assert_int_eq (query_int (a.db, "SELECT count(*) FROM bookings WHERE state = 3"), trips_before);
  ck_assert_int_eq (query_int (a.db, "SELECT count(*) FROM meta WHERE key = 'ft.region.jurisdiction'"
                               " AND value = 'GDPR'"), 1);
  {
    FtLatLon p = { 52.52345, 13.40567 };
    FtLatLon q = ft_region_coarsen (p, 500);
    FtLatLon q2 = ft_region_coarsen (q, 500);
    ck_assert (q.lat == q2.lat && q.lon == q2.lon);
    ck_assert (ft_distance_m (p, q) < 400 && ft_distance_m (p, q) > 1);
  }
  region_clear (&a);
}
END_TEST

START_TEST (test_retention_bad_config)
{
  Region a;
  g_autoptr(GError) err = NULL;
  g_autofree char *ini = NULL;
  GArray *res;
  gint64 events;

  make_region (&a, &SPEC_A, 11);
  events = query_int (a.db, "SELECT count(*) FROM events");
  ini = g_build_filename (a.dir, "region.ini", NULL);
  ck_assert (g_file_set_contents (ini, "[region]\nname=paris\njurisdiction=GDPR\n"
                                  "[retention]\ntelemetry_days=-3\n", -1, NULL));
  res = ft_region_retention (a.dir, T0 + 400 * FT_DAY, &err);
  ck_assert_ptr_null (res);
  ck_assert_int_eq (err->code, FT_REGION_DATA_ERROR_INPUT);
  ck_assert_msg (strstr (err->message, "region.ini") && strstr (err->message, "telemetry_days")
                 && strstr (err->message, "negative"), "%s", err->message);
  g_clear_error (&err);
  ck_assert (g_file_set_contents (ini, "[region]\nname=paris\njurisdiction=Narnia\n", -1, NULL));
  ck_assert_ptr_null (ft_region_retention (a.dir, T0, &err));
  ck_assert_msg (strstr (err->message, "Narnia") && strstr (err->message, "GDPR"), "%s", err->message);
  g_clear_error (&err);
  ck_assert (g_file_set_contents (ini, "[region]\nname=paris\njurisdiction=GDPR\n"
                                  "[retention]\ntelemetry_dayz=3\n", -1, NULL));
  ck_assert_ptr_null (ft_region_retention (a.dir, T0, &err));
  ck_assert_msg (strstr (err->message, "telemetry_dayz"), "%s", err->message);
  g_clear_error (&err);
  /* found by tests/fuzz: two bad escapes made GLib set its error twice */
  ck_assert (g_file_set_contents (ini, "[region]\nname=x\\*\\\\\\q\njurisdiction=GDPR\n", -1, NULL));
  ck_assert_ptr_null (ft_region_retention (a.dir, T0, &err));
  ck_assert_msg (strstr (err->message, "region.ini") && strstr (err->message, "[region] name")
                 && strstr (err->message, "bad escape \"\\*\""), "%s", err->message);
  g_clear_error (&err);
  /* a folder that is not a region */
  ck_assert_ptr_null (ft_region_retention (tmp_root, T0, &err));
  ck_assert_msg (strstr (err->message, "is not a region folder") && strstr (err->message, tmp_root),
                 "%s", err->message);
  ck_assert_int_eq (query_int (a.db, "SELECT count(*) FROM events"), events);
  region_clear (&a);
}
END_TEST

/* ---- export ------------------------------------------------------------------ */

static JsonObject *
parse_object (JsonParser *p, const char *json)
{
  ck_assert (json_parser_load_from_data (p, json, -1, NULL));
  return json_node_get_object (json_parser_get_root (p));
}

START_TEST (test_export_own_data_only)
{
  Region a;
  g_autoptr(GError) err = NULL;
  g_autofree char *json = NULL;
  g_autoptr(JsonParser) p = json_parser_new ();
  FtRightsRequest req = { 0 };
  JsonObject *o;
  JsonArray *trips;
  guint i;

  make_region (&a, &SPEC_A, 11);
  req.store = a.db;
  req.rider = SPEC_A.emails[0];
  req.actor = SPEC_A.emails[0];
  req.now = T0 + 2 * FT_DAY;
  json = ft_rights_export (&req, &err);
  ck_assert_msg (json != NULL, "%s", err ? err->message : "");
  o = parse_object (p, json);
  ck_assert_str_eq (json_object_get_string_member (
                      json_array_get_object_element (json_object_get_array_member (o, "account"), 0),
                      "email"), SPEC_A.emails[0]);
  trips = json_object_get_array_member (o, "trips");
  ck_assert_uint_eq (json_array_get_length (trips), 2);
  for (i = 0; i < json_array_get_length (trips); i++)
    ck_assert_int_eq (json_object_get_int_member (json_array_get_object_element (trips, i), "rider"),
                      a.rider[0]);
  ck_assert_uint_ge (json_array_get_length (json_object_get_array_member (o, "wallet")), 1);
  ck_assert_ptr_nonnull (strstr (json, "\"wallet:"));
  ck_assert_uint_ge (json_array_get_length (json_object_get_array_member (o, "ledger_transactions")), 3);
  ck_assert_uint_eq (json_array_get_length (json_object_get_array_member (o, "support_handoffs")), 1);
  ck_assert_uint_eq (json_array_get_length (json_object_get_array_member (o, "pending_confirmations")), 1);
  ck_assert_uint_eq (json_array_get_length (json_object_get_array_member (o, "photos")), 1);
  ck_assert_ptr_nonnull (strstr (json, "/photos/paris-end.jpg"));
  ck_assert_ptr_nonnull (strstr (json, "charged twice"));
  /* nobody else's */
  ck_assert_ptr_null (strstr (json, SPEC_A.emails[1]));
  ck_assert_ptr_null (strstr (json, SPEC_A.names[1]));
  ck_assert_ptr_null (strstr (json, a.rider_id[1]));
  ck_assert_ptr_null (strstr (json, "other-end.jpg"));
  ck_assert_ptr_null (strstr (json, "Admin"));
  /* audited */
  ck_assert_int_eq (query_int (a.db, "SELECT count(*) FROM rights_audit WHERE action = 'export'"), 1);
  region_clear (&a);
}
END_TEST

START_TEST (test_export_roles)
{
  Region a;
  g_autoptr(GError) err = NULL;
  g_autofree char *json = NULL, *disp = NULL, *plan = NULL, *adm = NULL;
  FtRightsRequest req = { 0 };

  make_region (&a, &SPEC_A, 11);
  disp = g_strdup_printf ("#%u", a.dispatcher);
  plan = g_strdup_printf ("#%u", a.planner);
  adm = g_strdup_printf ("#%u", a.admin);
  req.store = a.db;
  req.rider = a.rider_id[0];
  req.now = T0;
  /* support staff may */
  req.actor = disp;
  json = ft_rights_export (&req, &err);
  ck_assert_msg (json != NULL, "%s", err ? err->message : "");
  g_clear_pointer (&json, g_free);
  /* another rider and a planner may not */
  req.actor = SPEC_A.emails[1];
  ck_assert_ptr_null (ft_rights_export (&req, &err));
  ck_assert_int_eq (err->code, FT_REGION_DATA_ERROR_PERMISSION);
  g_clear_error (&err);
  req.actor = plan;
  ck_assert_ptr_null (ft_rights_export (&req, &err));
  ck_assert_int_eq (err->code, FT_REGION_DATA_ERROR_PERMISSION);
  ck_assert_msg (strstr (err->message, "may not export"), "%s", err->message);
  g_clear_error (&err);
  /* an unknown rider */
  req.actor = adm;
  req.rider = "nobody@paris.example";
  ck_assert_ptr_null (ft_rights_export (&req, &err));
  ck_assert_int_eq (err->code, FT_REGION_DATA_ERROR_NO_SUCH);
  ck_assert_msg (strstr (err->message, "nobody@paris.example") && strstr (err->message, a.db),
                 "%s", err->message);
  g_clear_error (&err);
  /* refusals leave no audit row */
  ck_assert_int_eq (query_int (a.db, "SELECT count(*) FROM rights_audit"), 1);
  region_clear (&a);
}
END_TEST

/* ---- erasure ----------------------------------------------------------------- */

static gint64
ledger_imbalance (const char *db)
{
  return query_int (db, "SELECT coalesce(sum(amount), 0) FROM ledger_postings")
         + query_int (db, "SELECT count(*) FROM (SELECT tx FROM ledger_postings GROUP BY tx"
                          " HAVING sum(amount) != 0)");
}

START_TEST (test_erase_by_admin)
{
  Region a;
  g_autoptr(GError) err = NULL;
  g_autofree char *adm = NULL, *where = NULL, *sql = NULL, *q_trips = NULL, *q_lat = NULL;
  FtRightsRequest req = { 0 };
  FtErasureResult res;
  gint64 trips_before, tx_before, lat_before;
  double lat_after;

  make_region (&a, &SPEC_A, 11);
  adm = g_strdup_printf ("#%u", a.admin);
  q_trips = g_strdup_printf ("SELECT trips FROM account_trips WHERE idx = %u", a.rider[0]);
  trips_before = query_int (a.db, q_trips);
  ck_assert_int_eq (trips_before, 2);
  tx_before = query_int (a.db, "SELECT count(*) FROM ledger_tx");
  q_lat = g_strdup_printf ("SELECT CAST(end_lat * 1e7 AS INTEGER) FROM bookings WHERE rider = %u"
                           " ORDER BY id LIMIT 1", a.rider[0]);
  lat_before = query_int (a.db, q_lat);
  ck_assert_int_eq (ledger_imbalance (a.db), 0);
  ck_assert (files_contain (a.dir, SPEC_A.names[0], NULL));

  req.store = a.db;
  req.rider = SPEC_A.emails[0];
  req.actor = adm;
  req.now = T0 + 5 * FT_DAY;
  ck_assert_msg (ft_rights_erase (&req, &res, &err), "%s", err ? err->message : "");
  ck_assert (g_str_has_prefix (res.pseudonym, "erased-"));
  ck_assert_uint_eq (res.trips, 2);
  ck_assert_int_eq (res.bookings_coarsened, 2);
  ck_assert_int_ge (res.events_coarsened, 5);
  ck_assert_int_eq (res.handoffs_cleared, 1);
  ck_assert_int_eq (res.pending_removed, 1);
  ck_assert_int_eq (res.photos_cleared, 1);

  /* gone from every byte of every file of the region */
  ck_assert_msg (!files_contain (a.dir, SPEC_A.names[0], &where), "name still in %s", where);
  ck_assert_msg (!files_contain (a.dir, SPEC_A.emails[0], &where), "e-mail still in %s", where);
  /* the other rider untouched */
  ck_assert (files_contain (a.dir, SPEC_A.emails[1], NULL));
  /* ledger balanced and whole, trips counted, positions coarsened */
  ck_assert_int_eq (ledger_imbalance (a.db), 0);
  ck_assert_int_eq (query_int (a.db, "SELECT count(*) FROM ledger_tx"), tx_before);
  ck_assert_int_eq (query_int (a.db, q_trips), trips_before);
  lat_after = (double) query_int (a.db, q_lat);
  ck_assert ((double) lat_before != lat_after);
  sql = g_strdup_printf ("SELECT erased FROM accounts WHERE idx = %u", a.rider[0]);
  ck_assert_int_eq (query_int (a.db, sql), 1);
  /* the audit row and the event */
  g_free (sql);
  sql = g_strdup_printf ("SELECT count(*) FROM rights_audit WHERE action = 'erase' AND subject = %u"
                         " AND actor = %u AND detail LIKE '%%%s%%'", a.rider[0], a.admin, res.pseudonym);
  ck_assert_int_eq (query_int (a.db, sql), 1);
  g_free (sql);
  sql = g_strdup_printf ("SELECT count(*) FROM events WHERE kind = %d AND account = %u",
                         FT_EV_ACCOUNT_ERASED, a.rider[0]);
  ck_assert_int_eq (query_int (a.db, sql), 1);
  /* the store still loads and checks */
  {
    g_autoptr(World) w = world_new (11);
    g_autoptr(FtStore) s = ft_store_open (a.db, NULL, &err);
    FtStoreTargets t = world_targets (w);
    ck_assert_msg (s != NULL, "%s", err ? err->message : "");
    ck_assert_msg (ft_store_load (s, &t, &err), "%s", err ? err->message : "");
    ck_assert_msg (world_check (w, &err), "%s", err ? err->message : "");
  }
  /* twice: refused, nothing personal left */
  req.rider = a.rider_id[0];
  ck_assert (!ft_rights_erase (&req, NULL, &err));
  ck_assert_msg (strstr (err->message, "already erased"), "%s", err->message);
  region_clear (&a);
}
END_TEST

START_TEST (test_erase_roles)
{
  Region a;
  g_autoptr(GError) err = NULL;
  g_autofree char *disp = NULL;
  FtRightsRequest req = { 0 };
  FtErasureResult res;

  make_region (&a, &SPEC_A, 11);
  disp = g_strdup_printf ("#%u", a.dispatcher);
  req.store = a.db;
  req.rider = SPEC_A.emails[0];
  req.now = T0;
  /* another rider, a dispatcher: refused, nothing changed */
  req.actor = SPEC_A.emails[1];
  ck_assert (!ft_rights_erase (&req, &res, &err));
  ck_assert_int_eq (err->code, FT_REGION_DATA_ERROR_PERMISSION);
  g_clear_error (&err);
  req.actor = disp;
  ck_assert (!ft_rights_erase (&req, &res, &err));
  ck_assert_int_eq (err->code, FT_REGION_DATA_ERROR_PERMISSION);
  ck_assert_msg (strstr (err->message, "may not erase") && strstr (err->message, "admin"),
                 "%s", err->message);
  g_clear_error (&err);
  ck_assert (files_contain (a.dir, SPEC_A.names[0], NULL));
  ck_assert_int_eq (query_int (a.db, "SELECT count(*) FROM rights_audit"), 0);
  /* a bad grid */
  req.actor = SPEC_A.emails[0];
  req.coarsen_m = 10;
  ck_assert (!ft_rights_erase (&req, &res, &err));
  ck_assert_int_eq (err->code, FT_REGION_DATA_ERROR_INPUT);
  g_clear_error (&err);
  /* the rider themself may */
  req.coarsen_m = 0;
  ck_assert_msg (ft_rights_erase (&req, &res, &err), "%s", err ? err->message : "");
  ck_assert_int_eq (query_int (a.db, "SELECT count(*) FROM rights_audit WHERE action = 'erase'"), 1);
  /* a file that is not a store */
  {
    g_autofree char *bogus = g_build_filename (a.dir, "region.ini", NULL);
    req.store = bogus;
    req.rider = SPEC_A.emails[1];
    ck_assert (!ft_rights_erase (&req, &res, &err));
    ck_assert_msg (strstr (err->message, "not a Fleet Twin store"), "%s", err->message);
  }
  region_clear (&a);
}
END_TEST

/* ---- report ------------------------------------------------------------------ */

START_TEST (test_report_aggregates_only)
{
  Region a, b;
  g_autoptr(GError) err = NULL;
  g_autofree char *text = NULL, *json = NULL;
  const char *dirs[3];
  FtAnalyticsZoning z = { 0 };
  guint i;

  make_region (&a, &SPEC_A, 11);
  make_region (&b, &SPEC_B, 22);
  dirs[0] = a.dir;
  dirs[1] = b.dir;
  dirs[2] = NULL;
  /* no aggregates yet: refused naming the store and the command */
  ck_assert_ptr_null (ft_region_report_aggregates (dirs, FALSE, &err));
  ck_assert_int_eq (err->code, FT_REGION_DATA_ERROR_NOT_BUILT);
  ck_assert_msg (strstr (err->message, "analytics build"), "%s", err->message);
  g_clear_error (&err);
  z.n_zones = 1;
  z.signature = "one zone";
  z.monday_ms = 4 * FT_DAY;
  for (i = 0; i < 2; i++)
    {
      sqlite3 *db = NULL;
      ck_assert_int_eq (sqlite3_open (i ? b.db : a.db, &db), SQLITE_OK);
      ck_assert_msg (ft_analytics_build (db, &z, NULL, NULL, &err), "%s", err ? err->message : "");
      sqlite3_close (db);
    }
  text = ft_region_report_aggregates (dirs, FALSE, &err);
  ck_assert_msg (text != NULL, "%s", err ? err->message : "");
  ck_assert_msg (strstr (text, "paris") && strstr (text, "pune") && strstr (text, "DPDP"), "%s", text);
  json = ft_region_report_aggregates (dirs, TRUE, &err);
  ck_assert_msg (json != NULL, "%s", err ? err->message : "");
  ck_assert_msg (strstr (json, "\"trips\": 3"), "%s", json);
  for (i = 0; i < 2; i++)
    {
      ck_assert_ptr_null (strstr (text, SPEC_A.names[i]));
      ck_assert_ptr_null (strstr (json, SPEC_A.emails[i]));
    }
  region_clear (&a);
  region_clear (&b);
}
END_TEST

static Suite *
rights_suite (void)
{
  Suite *s = suite_create ("region-rights");
  TCase *tc;

  tc = tcase_create ("residency");
  tcase_add_checked_fixture (tc, setup, teardown);
  tcase_add_test (tc, test_residency_two_regions);
  tcase_add_test (tc, test_residency_foreign_store_refused);
  suite_add_tcase (s, tc);
  tc = tcase_create ("retention");
  tcase_add_checked_fixture (tc, setup, teardown);
  tcase_add_test (tc, test_retention_counts_and_idempotent);
  tcase_add_test (tc, test_retention_bad_config);
  suite_add_tcase (s, tc);
  tc = tcase_create ("export");
  tcase_add_checked_fixture (tc, setup, teardown);
  tcase_add_test (tc, test_export_own_data_only);
  tcase_add_test (tc, test_export_roles);
  suite_add_tcase (s, tc);
  tc = tcase_create ("erase");
  tcase_add_checked_fixture (tc, setup, teardown);
  tcase_add_test (tc, test_erase_by_admin);
  tcase_add_test (tc, test_erase_roles);
  suite_add_tcase (s, tc);
  tc = tcase_create ("report");
  tcase_add_checked_fixture (tc, setup, teardown);
  tcase_add_test (tc, test_report_aggregates_only);
  suite_add_tcase (s, tc);
  return s;
}

int
main (void)
{
  SRunner *sr = srunner_create (rights_suite ());
  int failed;

  srunner_run_all (sr, CK_NORMAL);
  failed = srunner_ntests_failed (sr);
  srunner_free (sr);
  return failed ? 1 : 0;
}
