/* ft-store-schema.c — the store's schema: numbered migrations recorded in
 * PRAGMA user_version (append only), and ft_store_migrate, which brings a
 * file to a version one migration per transaction, refuses files that are
 * not Fleet Twin stores, and checks stored values against what replaces
 * them before a migration drops them.
 */
#include "ft-store-private.h"

#include <errno.h>
#include <glib/gstdio.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "ft-config.h"

/* ---------------------------------------------------------------- schema */

/* Migration N brings a file from user_version N-1 to N. Append only: never
 * edit a migration that has shipped. */
static const char *const migrations[FT_STORE_SCHEMA_LATEST] = {
  /* 1: state tables and the event log */
  "CREATE TABLE events ("
  "  seq INTEGER PRIMARY KEY, t INTEGER NOT NULL, kind INTEGER NOT NULL,"
  "  vehicle INTEGER NOT NULL, account INTEGER NOT NULL, ref INTEGER NOT NULL,"
  "  a INTEGER NOT NULL, b INTEGER NOT NULL, amount INTEGER NOT NULL,"
  "  lat REAL NOT NULL, lon REAL NOT NULL);"
  /* Entities split in a cold part (identity, written when created) and a
   * hot part (what changes with every trip) kept in short rows, so a commit
   * that touches thousands of scattered vehicles or riders dirties as few
   * pages as possible. */
  "CREATE TABLE vehicles ("
  "  idx INTEGER PRIMARY KEY, device_id TEXT NOT NULL, name TEXT NOT NULL,"
  "  kind INTEGER NOT NULL);"
  "CREATE TABLE vehicle_state ("
  "  idx INTEGER PRIMARY KEY, state INTEGER NOT NULL, last_event INTEGER NOT NULL,"
  "  state_since INTEGER NOT NULL, lat REAL NOT NULL, lon REAL NOT NULL,"
  "  pack INTEGER NOT NULL, booking INTEGER NOT NULL, odometer_m REAL NOT NULL,"
  "  wear REAL NOT NULL, fault_codes INTEGER NOT NULL, last_seen INTEGER NOT NULL,"
  "  resume_state INTEGER NOT NULL);"
  "CREATE TABLE packs ("
  "  idx INTEGER PRIMARY KEY, id TEXT NOT NULL, capacity_wh REAL NOT NULL,"
  "  soc REAL NOT NULL, health REAL NOT NULL, cycles INTEGER NOT NULL,"
  "  throughput_wh REAL NOT NULL, place INTEGER NOT NULL, holder INTEGER NOT NULL);"
  "CREATE TABLE accounts ("
  "  idx INTEGER PRIMARY KEY, id TEXT NOT NULL, roles INTEGER NOT NULL,"
  "  display_name TEXT, email TEXT, pseudonym TEXT NOT NULL, erased INTEGER NOT NULL,"
  "  created INTEGER NOT NULL);"
  "CREATE TABLE account_trips (idx INTEGER PRIMARY KEY, trips INTEGER NOT NULL);"
  "CREATE TABLE ledger_accounts ("
  "  idx INTEGER PRIMARY KEY, code TEXT NOT NULL, type INTEGER NOT NULL,"
  "  owner INTEGER NOT NULL);"
  "CREATE TABLE ledger_balances (idx INTEGER PRIMARY KEY, balance INTEGER NOT NULL);"
  "CREATE TABLE ledger_tx ("
  "  id INTEGER PRIMARY KEY, kind INTEGER NOT NULL, t INTEGER NOT NULL,"
  "  user_account INTEGER NOT NULL, first_posting INTEGER NOT NULL,"
  "  n_postings INTEGER NOT NULL, amount INTEGER NOT NULL, ref INTEGER NOT NULL,"
  "  idem_hash INTEGER NOT NULL, args_hash INTEGER NOT NULL);"
  "CREATE TABLE postings ("
  "  idx INTEGER PRIMARY KEY, tx INTEGER NOT NULL, ledger_account INTEGER NOT NULL,"
  "  amount INTEGER NOT NULL);"
  "CREATE TABLE bookings ("
  "  id INTEGER PRIMARY KEY, rider INTEGER NOT NULL, vehicle INTEGER NOT NULL,"
  "  state INTEGER NOT NULL, reserved_at INTEGER NOT NULL, hold_until INTEGER NOT NULL,"
  "  unlocked_at INTEGER NOT NULL, ended_at INTEGER NOT NULL, paused_ms INTEGER NOT NULL,"
  "  paused_since INTEGER NOT NULL, start_lat REAL NOT NULL, start_lon REAL NOT NULL,"
  "  end_lat REAL NOT NULL, end_lon REAL NOT NULL, distance_m REAL NOT NULL,"
  "  price_minor INTEGER NOT NULL, hold_tx INTEGER NOT NULL, capture_tx INTEGER NOT NULL,"
  "  trip_id TEXT NOT NULL);",
  /* 2: run metadata and KPIs */
  "CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID;",
  /* 3: a transaction's first INLINE_POSTINGS postings live in its own row
   * (accK = ledger account, amtK = amount, NULL when absent); postings
   * past those stay in the postings table under their global index. One
   * row per transaction instead of 1 + n_postings. The view
   * ledger_postings shows every posting as the postings table did. */
  "ALTER TABLE ledger_tx ADD COLUMN acc0 INTEGER;"
  "ALTER TABLE ledger_tx ADD COLUMN amt0 INTEGER;"
  "ALTER TABLE ledger_tx ADD COLUMN acc1 INTEGER;"
  "ALTER TABLE ledger_tx ADD COLUMN amt1 INTEGER;"
  "ALTER TABLE ledger_tx ADD COLUMN acc2 INTEGER;"
  "ALTER TABLE ledger_tx ADD COLUMN amt2 INTEGER;"
  "ALTER TABLE ledger_tx ADD COLUMN acc3 INTEGER;"
  "ALTER TABLE ledger_tx ADD COLUMN amt3 INTEGER;"
  "UPDATE ledger_tx SET"
  "  acc0 = (SELECT ledger_account FROM postings p WHERE p.idx = ledger_tx.first_posting AND p.tx = ledger_tx.id),"
  "  amt0 = (SELECT amount FROM postings p WHERE p.idx = ledger_tx.first_posting AND p.tx = ledger_tx.id),"
  "  acc1 = (SELECT ledger_account FROM postings p WHERE p.idx = ledger_tx.first_posting + 1 AND p.tx = ledger_tx.id),"
  "  amt1 = (SELECT amount FROM postings p WHERE p.idx = ledger_tx.first_posting + 1 AND p.tx = ledger_tx.id),"
  "  acc2 = (SELECT ledger_account FROM postings p WHERE p.idx = ledger_tx.first_posting + 2 AND p.tx = ledger_tx.id),"
  "  amt2 = (SELECT amount FROM postings p WHERE p.idx = ledger_tx.first_posting + 2 AND p.tx = ledger_tx.id),"
  "  acc3 = (SELECT ledger_account FROM postings p WHERE p.idx = ledger_tx.first_posting + 3 AND p.tx = ledger_tx.id),"
  "  amt3 = (SELECT amount FROM postings p WHERE p.idx = ledger_tx.first_posting + 3 AND p.tx = ledger_tx.id);"
  "DELETE FROM postings WHERE idx - (SELECT first_posting FROM ledger_tx l WHERE l.id = postings.tx) < 4;"
  "CREATE VIEW ledger_postings (idx, tx, ledger_account, amount) AS"
  "  SELECT first_posting, id, acc0, amt0 FROM ledger_tx WHERE n_postings > 0"
  "  UNION ALL SELECT first_posting + 1, id, acc1, amt1 FROM ledger_tx WHERE n_postings > 1"
  "  UNION ALL SELECT first_posting + 2, id, acc2, amt2 FROM ledger_tx WHERE n_postings > 2"
  "  UNION ALL SELECT first_posting + 3, id, acc3, amt3 FROM ledger_tx WHERE n_postings > 3"
  "  UNION ALL SELECT idx, tx, ledger_account, amount FROM postings;",
  /* 4: balances and trip counts are no longer stored: they follow from the
   * postings and from the ended bookings (state 3), and load recomputes
   * them. Each was one more scattered row rewritten for every trip (a
   * rider's wallet, a rider's trip count), and a stored copy could only
   * ever disagree with what it copies. The views keep the old tables'
   * names and columns for readers. migrate() first checks that the
   * stored values agree with what replaces them and refuses the
   * migration if not, so nothing is lost silently. */
  "DROP TABLE ledger_balances;"
  "DROP TABLE account_trips;"
  "CREATE VIEW ledger_balances (idx, balance) AS"
  "  SELECT ledger_account, sum(amount) FROM ledger_postings GROUP BY ledger_account;"
  "CREATE VIEW account_trips (idx, trips) AS"
  "  SELECT rider, count(*) FROM bookings WHERE state = 3 GROUP BY rider;",
  /* 5: the fleet-operations task queue (src/ops), one row per task */
  "CREATE TABLE tasks ("
  "  id INTEGER PRIMARY KEY, kind INTEGER NOT NULL, state INTEGER NOT NULL,"
  "  priority INTEGER NOT NULL, vehicle INTEGER NOT NULL, staff INTEGER NOT NULL,"
  "  created_by INTEGER NOT NULL, target_zone INTEGER NOT NULL,"
  "  target_lat REAL NOT NULL, target_lon REAL NOT NULL, created INTEGER NOT NULL,"
  "  assigned_at INTEGER NOT NULL, started_at INTEGER NOT NULL,"
  "  finished_at INTEGER NOT NULL);",
  /* 6: analytics aggregates (src/analytics), built from the event log
   * incrementally: an_meta holds the high-water mark (the last event seq
   * folded in), written in the same transaction as the aggregates; the
   * an_*_open tables carry what spans batches (a vehicle's state and zone
   * since the last event folded in, a staff member's open shift). Every
   * measure is an integer sum, so folding the log in any number of batches
   * gives the same rows as one pass. */
  "CREATE TABLE an_meta (key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID;"
  "CREATE TABLE an_zone (zone INTEGER PRIMARY KEY, name TEXT NOT NULL);"
  "CREATE TABLE an_zone_hour ("
  "  zone INTEGER NOT NULL, hour INTEGER NOT NULL, requests INTEGER NOT NULL,"
  "  served INTEGER NOT NULL, lost_no_vehicle INTEGER NOT NULL,"
  "  lost_low_battery INTEGER NOT NULL, lost_price INTEGER NOT NULL,"
  "  lost_refused INTEGER NOT NULL, trips_ended INTEGER NOT NULL,"
  "  revenue_minor INTEGER NOT NULL, present_ms INTEGER NOT NULL,"
  "  on_trip_ms INTEGER NOT NULL, available_ms INTEGER NOT NULL,"
  "  battery_low_ms INTEGER NOT NULL, soc_sum INTEGER NOT NULL, soc_n INTEGER NOT NULL,"
  "  PRIMARY KEY (zone, hour)) WITHOUT ROWID;"
  "CREATE TABLE an_vehicle_day ("
  "  vehicle INTEGER NOT NULL, day INTEGER NOT NULL, trips INTEGER NOT NULL,"
  "  metres INTEGER NOT NULL, trip_s INTEGER NOT NULL, revenue_minor INTEGER NOT NULL,"
  "  on_trip_ms INTEGER NOT NULL, downtime_ms INTEGER NOT NULL, fault_ms INTEGER NOT NULL,"
  "  swaps INTEGER NOT NULL, faults INTEGER NOT NULL,"
  "  PRIMARY KEY (vehicle, day)) WITHOUT ROWID;"
  "CREATE TABLE an_trip_bins ("
  "  metric TEXT NOT NULL, bin INTEGER NOT NULL, n INTEGER NOT NULL,"
  "  PRIMARY KEY (metric, bin)) WITHOUT ROWID;"
  "CREATE TABLE an_rider ("
  "  rider INTEGER PRIMARY KEY, first_t INTEGER NOT NULL, first_week INTEGER NOT NULL,"
  "  trips INTEGER NOT NULL);"
  "CREATE TABLE an_rider_week ("
  "  rider INTEGER NOT NULL, week INTEGER NOT NULL, trips INTEGER NOT NULL,"
  "  PRIMARY KEY (rider, week)) WITHOUT ROWID;"
  "CREATE TABLE an_staff_shift ("
  "  staff INTEGER NOT NULL, shift_start INTEGER NOT NULL, last_t INTEGER NOT NULL,"
  "  tasks INTEGER NOT NULL, swaps INTEGER NOT NULL, rebalances INTEGER NOT NULL,"
  "  repairs INTEGER NOT NULL, deploys INTEGER NOT NULL, metres INTEGER NOT NULL,"
  "  PRIMARY KEY (staff, shift_start)) WITHOUT ROWID;"
  "CREATE TABLE an_vehicle_open ("
  "  vehicle INTEGER PRIMARY KEY, state INTEGER NOT NULL, zone INTEGER NOT NULL,"
  "  since INTEGER NOT NULL, lat REAL NOT NULL, lon REAL NOT NULL,"
  "  flags INTEGER NOT NULL, trip_t0 INTEGER NOT NULL, trip_zone INTEGER NOT NULL,"
  "  trip_m INTEGER NOT NULL);"
  "CREATE TABLE an_staff_open ("
  "  staff INTEGER PRIMARY KEY, shift_start INTEGER NOT NULL, last_t INTEGER NOT NULL,"
  "  lat REAL NOT NULL, lon REAL NOT NULL);",
  /* 7: the model registry, shadow predictions and retraining decisions
   * (src/models, issue 12). A version's blob carries its SHA-256, checked
   * on every read; status is candidate, shadow, active (the champion of
   * its kind and city) or retired. */
  "CREATE TABLE model_versions ("
  "  id INTEGER PRIMARY KEY, kind TEXT NOT NULL, city TEXT NOT NULL,"
  "  trained_city TEXT NOT NULL, status TEXT NOT NULL CHECK (status IN"
  "  ('candidate', 'shadow', 'active', 'retired')), created INTEGER NOT NULL,"
  "  train_start INTEGER NOT NULL, train_end INTEGER NOT NULL, features TEXT NOT NULL,"
  "  params TEXT NOT NULL, metrics TEXT NOT NULL, blob BLOB NOT NULL,"
  "  sha256 TEXT NOT NULL);"
  "CREATE UNIQUE INDEX model_champion ON model_versions (kind, city) WHERE status = 'active';"
  "CREATE TABLE predictions ("
  "  id INTEGER PRIMARY KEY, version INTEGER NOT NULL REFERENCES model_versions (id),"
  "  target TEXT NOT NULL, horizon INTEGER NOT NULL, issued_at INTEGER NOT NULL,"
  "  target_t INTEGER NOT NULL, predicted REAL NOT NULL, baseline REAL, actual REAL);"
  "CREATE INDEX predictions_open ON predictions (target, target_t) WHERE actual IS NULL;"
  "CREATE INDEX predictions_version ON predictions (version);"
  "CREATE TABLE model_decisions ("
  "  id INTEGER PRIMARY KEY, t INTEGER NOT NULL, kind TEXT NOT NULL, city TEXT NOT NULL,"
  "  champion INTEGER NOT NULL, candidate INTEGER NOT NULL, champion_score REAL,"
  "  candidate_score REAL, promoted INTEGER NOT NULL, reason TEXT NOT NULL);",
  /* 8: the multipliers of the price a booking was shown (charged at its
   * end); 0 in bookings written before */
  "ALTER TABLE bookings ADD COLUMN shown_zone_mult REAL NOT NULL DEFAULT 0;"
  "ALTER TABLE bookings ADD COLUMN shown_dyn_mult REAL NOT NULL DEFAULT 0;",
  /* 9: the assistant's staff hand-off queue and the riders' pending
   * confirmations (src/assist, issue 17) */
  "CREATE TABLE assist_handoffs ("
  "  id INTEGER PRIMARY KEY, t INTEGER NOT NULL, rider INTEGER NOT NULL,"
  "  intent TEXT NOT NULL, reason TEXT NOT NULL, message TEXT NOT NULL,"
  "  booking INTEGER NOT NULL, vehicle INTEGER NOT NULL, amount INTEGER NOT NULL,"
  "  closed_at INTEGER NOT NULL, closed_by INTEGER NOT NULL);"
  "CREATE INDEX assist_handoffs_open ON assist_handoffs (id) WHERE closed_at < 0;"
  "CREATE TABLE assist_pending ("
  "  rider INTEGER PRIMARY KEY, action INTEGER NOT NULL, booking INTEGER NOT NULL,"
  "  vehicle INTEGER NOT NULL, amount INTEGER NOT NULL, expires INTEGER NOT NULL,"
  "  message TEXT NOT NULL);",
  /* 10: damage checks (src/inspect): every checked photo with its
   * perceptual hash (a reused photo is found by it), and the staff review
   * queue of photos that need a person (state 0 open, 1 confirmed,
   * 2 dismissed; task: the repair task a confirmation opened) */
  "CREATE TABLE inspect_photos ("
  "  id INTEGER PRIMARY KEY, vehicle INTEGER NOT NULL, t INTEGER NOT NULL,"
  "  path TEXT NOT NULL, phash INTEGER NOT NULL, decision INTEGER NOT NULL,"
  "  score REAL NOT NULL);"
  "CREATE INDEX inspect_photos_vehicle ON inspect_photos (vehicle, t);"
  "CREATE TABLE inspect_reviews ("
  "  id INTEGER PRIMARY KEY, photo INTEGER NOT NULL REFERENCES inspect_photos (id),"
  "  vehicle INTEGER NOT NULL, t INTEGER NOT NULL, decision INTEGER NOT NULL,"
  "  score REAL NOT NULL, reason TEXT NOT NULL, regions TEXT NOT NULL,"
  "  state INTEGER NOT NULL DEFAULT 0, decided_by INTEGER NOT NULL DEFAULT -1,"
  "  decided_at INTEGER NOT NULL DEFAULT -1, task INTEGER NOT NULL DEFAULT -1);"
  "CREATE INDEX inspect_reviews_open ON inspect_reviews (t) WHERE state = 0;",
  /* 11: a finer (256-bit) hash of each checked photo, which tells a photo
   * sent again from a new one of the same view; empty in rows written
   * before, which then never count as reused */
  "ALTER TABLE inspect_photos ADD COLUMN phash_fine BLOB NOT NULL DEFAULT x'';",
  /* 12: riders' data rights and retention (src/region, issue 21): one row
   * per export or erasure carried out (actor and subject are account
   * indices; detail is a short JSON of what was done), and one row per
   * retention run with what it removed and coarsened */
  "CREATE TABLE rights_audit ("
  "  id INTEGER PRIMARY KEY, t INTEGER NOT NULL,"
  "  action TEXT NOT NULL CHECK (action IN ('export', 'erase')),"
  "  subject INTEGER NOT NULL, actor INTEGER NOT NULL, actor_roles INTEGER NOT NULL,"
  "  detail TEXT NOT NULL);"
  "CREATE TABLE retention_log ("
  "  id INTEGER PRIMARY KEY, t INTEGER NOT NULL, jurisdiction TEXT NOT NULL,"
  "  telemetry_before INTEGER NOT NULL, coarsen_before INTEGER NOT NULL,"
  "  coarsen_m REAL NOT NULL, telemetry_removed INTEGER NOT NULL,"
  "  events_coarsened INTEGER NOT NULL, bookings_coarsened INTEGER NOT NULL);",
  /* 13: live mode's proposals (src/ops): a task the twin proposed waits
   * for a dispatcher's approval (0 none needed, 1 proposed, 2 approved;
   * approved_by -1 for auto-approve) */
  "ALTER TABLE tasks ADD COLUMN approval INTEGER NOT NULL DEFAULT 0;"
  "ALTER TABLE tasks ADD COLUMN approved_by INTEGER NOT NULL DEFAULT -1;"
  "ALTER TABLE tasks ADD COLUMN approved_at INTEGER NOT NULL DEFAULT -1;",
  /* 14: shadow mode fills a prediction's actual by (target, issued_at,
   * horizon) (predictive maintenance, the next 15 minutes): an index on
   * exactly that, open predictions only, instead of a scan of the target's
   * open predictions through predictions_open (a 14-day Demo City run with
   * a result database: the maintenance shadow's store writes 1.1 s of CPU) */
  "CREATE INDEX predictions_open_issued ON predictions (target, issued_at, horizon) WHERE actual IS NULL;",
  /* 15: actuals are rows of their own, appended, instead of UPDATEs of the
   * prediction rows that took them out of two partial indexes (a 14-day
   * Demo City run with a result database: 1.5 s of CPU in store writes,
   * more than the shadow models' own). The predictions keep their table,
   * renamed prediction_rows, with the actuals filled in before (kept, and
   * first in the view); an hour's actual per (target, target_t) for every
   * prediction of an hour or more ahead, an outcome per (target, issued_at,
   * horizon) for the 15-minute and maintenance ones, each keyed time first
   * so the rows of a tick land together; the view `predictions` has the
   * columns and the answers of the table it replaces, for every reader. */
  "ALTER TABLE predictions RENAME TO prediction_rows;"
  "DROP INDEX predictions_open;"
  "DROP INDEX predictions_open_issued;"
  "CREATE TABLE prediction_actuals ("
  "  target_t INTEGER NOT NULL, target TEXT NOT NULL, actual REAL NOT NULL,"
  "  PRIMARY KEY (target_t, target)) WITHOUT ROWID;"
  "CREATE TABLE prediction_outcomes ("
  "  issued_at INTEGER NOT NULL, horizon INTEGER NOT NULL, target TEXT NOT NULL,"
  "  actual REAL NOT NULL, PRIMARY KEY (issued_at, horizon, target)) WITHOUT ROWID;"
  "CREATE VIEW predictions (id, version, target, horizon, issued_at, target_t, predicted,"
  "  baseline, actual) AS"
  "  SELECT p.id, p.version, p.target, p.horizon, p.issued_at, p.target_t, p.predicted,"
  "         p.baseline, coalesce (p.actual, o.actual, a.actual)"
  "  FROM prediction_rows p"
  "  LEFT JOIN prediction_outcomes o"
  "    ON o.issued_at = p.issued_at AND o.horizon = p.horizon AND o.target = p.target"
  "  LEFT JOIN prediction_actuals a"
  "    ON p.horizon > 0 AND a.target_t = p.target_t AND a.target = p.target;",
};

/* Before migration 4 drops the stored balances and trip counts: each must
 * equal what will replace it (the sum of the account's postings, the
 * rider's ended bookings), or the file is refused as it stands. */
static gboolean
derived_values_agree (FtStore *s, GError **error)
{
  static const struct { const char *entity, *value, *derived, *sql; } checks[] = {
    { "ledger account", "balance", "its postings sum to",
      "SELECT b.idx, b.balance, coalesce(p.total, 0) FROM ledger_balances b"
      " LEFT JOIN (SELECT ledger_account AS acc, sum(amount) AS total FROM ledger_postings"
      "            GROUP BY ledger_account) p ON p.acc = b.idx"
      " WHERE b.balance != coalesce(p.total, 0)"
      " UNION ALL SELECT p.ledger_account, 0, p.amount FROM ledger_postings p"
      " WHERE p.ledger_account NOT IN (SELECT idx FROM ledger_balances) LIMIT 1" },
    { "account", "trip count", "its ended bookings number",
      "SELECT t.idx, t.trips, coalesce(c.n, 0) FROM account_trips t"
      " LEFT JOIN (SELECT rider, count(*) AS n FROM bookings WHERE state = 3 GROUP BY rider) c"
      " ON c.rider = t.idx WHERE t.trips != coalesce(c.n, 0)"
      " UNION ALL SELECT rider, 0, count(*) FROM bookings WHERE state = 3"
      " AND rider NOT IN (SELECT idx FROM account_trips) GROUP BY rider LIMIT 1" },
  };
  guint i;

  for (i = 0; i < G_N_ELEMENTS (checks); i++)
    {
      sqlite3_stmt *st = NULL;
      int rc;

      if (sqlite3_prepare_v2 (s->db, checks[i].sql, -1, &st, NULL) != SQLITE_OK)
        return ft_store_sql_fail (s, error, "checking the file before schema version 4");
      rc = sqlite3_step (st);
      if (rc == SQLITE_ROW)
        {
          g_set_error (error, FT_STORE_ERROR, FT_STORE_ERROR_CORRUPT,
                       "%s: %s %" G_GINT64_FORMAT " has a stored %s of %" G_GINT64_FORMAT
                       " but %s %" G_GINT64_FORMAT "; schema version 4 derives these "
                       "instead of storing them, so the file is left at its version "
                       "(repair it or start a new one)", s->path, checks[i].entity,
                       (gint64) sqlite3_column_int64 (st, 0), checks[i].value,
                       (gint64) sqlite3_column_int64 (st, 1), checks[i].derived,
                       (gint64) sqlite3_column_int64 (st, 2));
          sqlite3_finalize (st);
          return FALSE;
        }
      sqlite3_finalize (st);
      if (rc != SQLITE_DONE)
        return ft_store_sql_fail (s, error, "checking the file before schema version 4");
    }
  return TRUE;
}

/* Bring the file to target_version, one migration per transaction. */
gboolean
ft_store_migrate (FtStore *s, int target_version, GError **error)
{
  gint64 version = 0, app_id = 0, n_objects = 0;
  int v;

  /* The first read is where SQLite notices a file that is not a database. */
  if (!ft_store_query_int64 (s, "PRAGMA user_version", &version, NULL))
    {
      g_set_error (error, FT_STORE_ERROR, FT_STORE_ERROR_OPEN,
                   "%s is not a Fleet Twin database (SQLite says: %s); "
                   "give a new file name or the path of a store written by fleet-twin",
                   s->path, sqlite3_errmsg (s->db));
      return FALSE;
    }
  if (!ft_store_query_int64 (s, "PRAGMA application_id", &app_id, error) ||
      !ft_store_query_int64 (s, "SELECT count(*) FROM sqlite_schema", &n_objects, error))
    return FALSE;

  if (app_id != 0 && app_id != FT_STORE_APPLICATION_ID)
    {
      g_set_error (error, FT_STORE_ERROR, FT_STORE_ERROR_OPEN,
                   "%s is an SQLite database of another program (application_id 0x%08x), "
                   "not a Fleet Twin store; give a new file name",
                   s->path, (unsigned) app_id);
      return FALSE;
    }
  if (version == 0 && n_objects > 0)
    {
      g_set_error (error, FT_STORE_ERROR, FT_STORE_ERROR_OPEN,
                   "%s already holds %" G_GINT64_FORMAT " tables or indexes but no "
                   "Fleet Twin schema version; it is not a Fleet Twin store, give a new file name",
                   s->path, n_objects);
      return FALSE;
    }
  if (version > FT_STORE_SCHEMA_LATEST)
    {
      g_set_error (error, FT_STORE_ERROR, FT_STORE_ERROR_SCHEMA,
                   "%s has schema version %" G_GINT64_FORMAT " but this build of Fleet Twin "
                   "(%s) knows versions up to %d; open it with a newer fleet-twin",
                   s->path, version, FT_VERSION, FT_STORE_SCHEMA_LATEST);
      return FALSE;
    }
  if (version < 0)
    {
      g_set_error (error, FT_STORE_ERROR, FT_STORE_ERROR_SCHEMA,
                   "%s has a negative schema version %" G_GINT64_FORMAT "; the file is damaged",
                   s->path, version);
      return FALSE;
    }

  for (v = (int) version + 1; v <= target_version; v++)
    {
      /* PRAGMA takes no parameters; the numbers come from this file, not data. */
      g_autofree char *set_version = g_strdup_printf ("PRAGMA user_version = %d", v);

      if (!ft_store_exec_const (s, "BEGIN IMMEDIATE", error, "starting a migration"))
        return FALSE;
      if ((v == DERIVED_VERSION && !derived_values_agree (s, error)) ||
          !ft_store_exec_const (s, migrations[v - 1], error, "migrating the schema") ||
          (v == 1 && !ft_store_exec_const (s, "PRAGMA application_id = 1179932489", error,
                                  "marking the file")) ||
          !ft_store_exec_const (s, set_version, error, "recording the schema version") ||
          !ft_store_exec_const (s, "COMMIT", error, "committing a migration"))
        {
          g_prefix_error (error, "migration to schema version %d failed: ", v);
          ft_store_exec_const (s, "ROLLBACK", NULL, "");
          return FALSE;
        }
    }
  s->version = MAX ((int) version, target_version);
  return TRUE;
}
