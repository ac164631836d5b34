/* ft-region-data.c — data residency: a region folder's policy (region.ini:
 * name, jurisdiction, retention), its stores (data/NAME.db, tagged with the
 * region in their meta), the retention job, and the cross-region report
 * that reads each store's aggregates only (an SQLite authorizer refuses
 * every other table).
 */
#include "ft-region-data-private.h"

#include <errno.h>
#include <glib/gstdio.h>
#include <math.h>
#include <string.h>

#include "ft-event.h"
#include "ft-store.h"

G_DEFINE_QUARK (ft-region-data-error-quark, ft_region_data_error)

#define POLICY_FILE "region.ini"
#define DATA_DIR    "data"
#define MAX_DAYS    36500

/* Defaults an operator overrides in region.ini; not legal advice. */
static const struct {
  const char *name;
  int         telemetry_days, coarsen_days;
} jurisdictions[] = {
  { "GDPR",    30,  90 },
  { "UK-GDPR", 30,  90 },
  { "DPDP",    90, 180 },
  { "CCPA",    90, 365 },
  { "LGPD",    30, 180 },
};

const char *const *
ft_region_jurisdictions (void)
{
  static const char *names[G_N_ELEMENTS (jurisdictions) + 1];
  guint i;

  for (i = 0; i < G_N_ELEMENTS (jurisdictions); i++)
    names[i] = jurisdictions[i].name;
  names[i] = NULL;
  return names;
}

static gint
jurisdiction_index (const char *name)
{
  guint i;

  for (i = 0; name && i < G_N_ELEMENTS (jurisdictions); i++)
    if (g_ascii_strcasecmp (name, jurisdictions[i].name) == 0)
      return (gint) i;
  return -1;
}

static gboolean
unknown_jurisdiction (const char *where, const char *name, GError **error)
{
  g_autofree char *known = g_strjoinv (", ", (char **) ft_region_jurisdictions ());

  g_set_error (error, FT_REGION_DATA_ERROR, FT_REGION_DATA_ERROR_INPUT,
               "%s: unknown jurisdiction \"%s\" (known: %s)", where, name ? name : "", known);
  return FALSE;
}

gboolean
ft_region_data_sql_fail (sqlite3 *db, GError **error, const char *what)
{
  g_set_error (error, FT_REGION_DATA_ERROR, FT_REGION_DATA_ERROR_STORE, "%s: %s (SQLite: %s)",
               sqlite3_db_filename (db, "main"), what, sqlite3_errmsg (db));
  return FALSE;
}

gboolean
ft_region_data_exec (sqlite3 *db, const char *sql, GError **error)
{
  if (sqlite3_exec (db, sql, NULL, NULL, NULL) != SQLITE_OK)
    return ft_region_data_sql_fail (db, error, sql);
  return TRUE;
}

/* ---- coarsening -------------------------------------------------------------- */

#define M_PER_DEG_LAT 111320.0

FtLatLon
ft_region_coarsen (FtLatLon p, double cell_m)
{
  double dlat = cell_m / M_PER_DEG_LAT, dlon, c;
  FtLatLon q;

  q.lat = round (p.lat / dlat) * dlat;
  c = MAX (cos (q.lat * G_PI / 180.0), 0.01);
  dlon = cell_m / (M_PER_DEG_LAT * c);
  q.lon = round (p.lon / dlon) * dlon;
  return q;
}

static void
sql_coarsen (sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
  FtLatLon p = { sqlite3_value_double (argv[0]), sqlite3_value_double (argv[1]) };
  double cell = sqlite3_value_double (argv[2]);
  FtLatLon q;

  (void) argc;
  if (!(cell > 0))
    {
      sqlite3_result_error (ctx, "ft_coarsen: the cell must be positive", -1);
      return;
    }
  q = ft_region_coarsen (p, cell);
  sqlite3_result_double (ctx, sqlite3_value_int (argv[3]) ? q.lon : q.lat);
}

gboolean
ft_region_data_register_functions (sqlite3 *db, GError **error)
{
  if (sqlite3_create_function (db, "ft_coarsen", 4, SQLITE_UTF8 | SQLITE_DETERMINISTIC, NULL,
                               sql_coarsen, NULL, NULL) != SQLITE_OK)
    return ft_region_data_sql_fail (db, error, "registering ft_coarsen");
  return TRUE;
}

/* ---- policy ------------------------------------------------------------------ */

void
ft_region_policy_clear (FtRegionPolicy *p)
{
  g_clear_pointer (&p->name, g_free);
  g_clear_pointer (&p->jurisdiction, g_free);
}

static gboolean
policy_int (GKeyFile *kf, const char *file, const char *key, int *out, GError **error)
{
  g_autofree char *v = g_key_file_get_value (kf, "retention", key, NULL);
  gint64 n;

  if (v == NULL)
    return TRUE;
  g_strstrip (v);
  if (!g_ascii_string_to_signed (v, 10, G_MININT32, G_MAXINT32, &n, NULL))
    {
      g_set_error (error, FT_REGION_DATA_ERROR, FT_REGION_DATA_ERROR_INPUT,
                   "%s: [retention] %s = \"%s\" is not a whole number of days", file, key, v);
      return FALSE;
    }
  if (n < 0 || n > MAX_DAYS)
    {
      g_set_error (error, FT_REGION_DATA_ERROR, FT_REGION_DATA_ERROR_INPUT,
                   "%s: [retention] %s = %" G_GINT64_FORMAT " is %s; give 0 .. %d days", file, key,
                   n, n < 0 ? "negative" : "too large", MAX_DAYS);
      return FALSE;
    }
  *out = (int) n;
  return TRUE;
}

gboolean
ft_region_policy_load (const char *dir, FtRegionPolicy *out, GError **error)
{
  static const char *const groups[] = { "region", "retention", NULL };
  static const char *const keys[][4] = {
    { "name", "jurisdiction", NULL },
    { "telemetry_days", "coarsen_days", "coarsen_m", NULL },
  };
  g_autofree char *file = NULL, *text = NULL, *name = NULL, *jur = NULL, *cell = NULL;
  g_autoptr(GKeyFile) kf = g_key_file_new ();
  g_autoptr(GError) e = NULL;
  g_auto(GStrv) found = NULL;
  gsize len = 0, i;
  gint j;
  FtRegionPolicy p = { 0 };

  g_return_val_if_fail (dir != NULL && out != NULL, FALSE);
  file = g_build_filename (dir, POLICY_FILE, NULL);
  if (!g_file_test (dir, G_FILE_TEST_IS_DIR) || !g_file_test (file, G_FILE_TEST_EXISTS))
    {
      g_set_error (error, FT_REGION_DATA_ERROR, FT_REGION_DATA_ERROR_INPUT,
                   "%s is not a region folder (it has no %s; make one with "
                   "`fleet-twin-cli region init %s --jurisdiction NAME`)", dir, POLICY_FILE, dir);
      return FALSE;
    }
  if (!ft_file_read (file, 64 * 1024, &text, &len, &e) ||
      !g_key_file_load_from_data (kf, text, len, G_KEY_FILE_NONE, &e))
    {
      g_set_error (error, FT_REGION_DATA_ERROR, FT_REGION_DATA_ERROR_INPUT, "%s: %s", file,
                   e->message);
      return FALSE;
    }
  found = g_key_file_get_groups (kf, NULL);
  for (i = 0; found[i]; i++)
    {
      gint g = g_strv_contains (groups, found[i]) ? (g_str_equal (found[i], "region") ? 0 : 1) : -1;
      g_auto(GStrv) ks = NULL;
      gsize k;

      if (g < 0)
        {
          g_set_error (error, FT_REGION_DATA_ERROR, FT_REGION_DATA_ERROR_INPUT,
                       "%s: unknown group [%s] (known: [region], [retention])", file, found[i]);
          return FALSE;
        }
      ks = g_key_file_get_keys (kf, found[i], NULL, NULL);
      for (k = 0; ks && ks[k]; k++)
        if (!g_strv_contains (keys[g], ks[k]))
          {
            g_autofree char *known = g_strjoinv (", ", (char **) keys[g]);
            g_set_error (error, FT_REGION_DATA_ERROR, FT_REGION_DATA_ERROR_INPUT,
                         "%s: unknown key %s in [%s] (known: %s)", file, ks[k], found[i], known);
            return FALSE;
          }
    }
  {
    g_autoptr(GError) bad = NULL;
    const char *bad_key = "name";
    name = ft_key_file_get_string (kf, "region", "name", &bad);
    if (bad == NULL)
      {
        bad_key = "jurisdiction";
        jur = ft_key_file_get_string (kf, "region", "jurisdiction", &bad);
      }
    if (bad != NULL)
      {
        g_set_error (error, FT_REGION_DATA_ERROR, FT_REGION_DATA_ERROR_INPUT,
                     "%s: [region] %s: %s", file, bad_key, bad->message);
        return FALSE;
      }
  }
  if (name == NULL || *g_strstrip (name) == '\0')
    {
      g_set_error (error, FT_REGION_DATA_ERROR, FT_REGION_DATA_ERROR_INPUT,
                   "%s: [region] name is missing", file);
      return FALSE;
    }
  if (jur)
    g_strstrip (jur);
  j = jurisdiction_index (jur);
  if (j < 0)
    return unknown_jurisdiction (file, jur, error);
  p.telemetry_days = jurisdictions[j].telemetry_days;
  p.coarsen_days = jurisdictions[j].coarsen_days;
  p.coarsen_m = FT_REGION_DEFAULT_CELL_M;
  if (!policy_int (kf, file, "telemetry_days", &p.telemetry_days, error) ||
      !policy_int (kf, file, "coarsen_days", &p.coarsen_days, error))
    return FALSE;
  cell = g_key_file_get_value (kf, "retention", "coarsen_m", NULL);
  if (cell)
    {
      char *end = NULL;
      double v = g_ascii_strtod (g_strstrip (cell), &end);
      if (end == cell || *end != '\0' || !(v >= FT_REGION_MIN_CELL_M && v <= FT_REGION_MAX_CELL_M))
        {
          g_set_error (error, FT_REGION_DATA_ERROR, FT_REGION_DATA_ERROR_INPUT,
                       "%s: [retention] coarsen_m = \"%s\" is not a grid of %g .. %g metres",
                       file, cell, FT_REGION_MIN_CELL_M, FT_REGION_MAX_CELL_M);
          return FALSE;
        }
      p.coarsen_m = v;
    }
  p.name = g_steal_pointer (&name);
  p.jurisdiction = g_strdup (jurisdictions[j].name);
  *out = p;
  return TRUE;
}

static gboolean
policy_is_own (const char *path)
{
  (void) path;
  return FALSE;
}

gboolean
ft_region_policy_init (const char *dir, const char *name, const char *jurisdiction,
                       GError **error)
{
  g_autofree char *file = NULL, *data = NULL, *text = NULL;
  g_autoptr(GError) e = NULL;
  g_autoptr(FtOutput) out = NULL;
  gint j;

  g_return_val_if_fail (dir != NULL, FALSE);
  j = jurisdiction_index (jurisdiction);
  if (j < 0)
    return unknown_jurisdiction ("--jurisdiction", jurisdiction, error);
  if (name == NULL || *name == '\0' || strpbrk (name, "\n\r[]=") != NULL || strlen (name) > 80)
    {
      g_set_error (error, FT_REGION_DATA_ERROR, FT_REGION_DATA_ERROR_INPUT,
                   "region name \"%s\" must be 1 .. 80 characters without line breaks, [, ] or =",
                   name ? name : "");
      return FALSE;
    }
  file = g_build_filename (dir, POLICY_FILE, NULL);
  if (g_file_test (file, G_FILE_TEST_EXISTS))
    {
      g_auto(FtRegionPolicy) old = { 0 };
      if (!ft_region_policy_load (dir, &old, error))
        return FALSE;
      if (g_strcmp0 (old.name, name) != 0 || g_strcmp0 (old.jurisdiction, jurisdictions[j].name) != 0)
        {
          g_set_error (error, FT_REGION_DATA_ERROR, FT_REGION_DATA_ERROR_RESIDENCY,
                       "%s already belongs to region \"%s\" (%s); a folder holds one region's data",
                       file, old.name, old.jurisdiction);
          return FALSE;
        }
      return TRUE;   /* the same region: keep its settings */
    }
  data = g_build_filename (dir, DATA_DIR, NULL);
  if (g_mkdir_with_parents (data, 0755) != 0)
    {
      int errsv = errno;
      g_set_error (error, FT_REGION_DATA_ERROR, FT_REGION_DATA_ERROR_INPUT,
                   "cannot create %s: %s", data, g_strerror (errsv));
      return FALSE;
    }
  text = g_strdup_printf ("# Fleet Twin region: where this region's data lives and how long.\n"
                          "[region]\nname=%s\njurisdiction=%s\n\n"
                          "# Raw telemetry is deleted after telemetry_days; trip positions older\n"
                          "# than coarsen_days are moved to a grid of coarsen_m metres.\n"
                          "[retention]\ntelemetry_days=%d\ncoarsen_days=%d\ncoarsen_m=%g\n",
                          name, jurisdictions[j].name, jurisdictions[j].telemetry_days,
                          jurisdictions[j].coarsen_days, FT_REGION_DEFAULT_CELL_M);
  out = ft_output_begin (file, FT_OUTPUT_FILE, policy_is_own, FALSE, &e);
  if (out == NULL || !g_file_set_contents (ft_output_get_path (out), text, -1, &e) ||
      !ft_output_commit (g_steal_pointer (&out), &e))
    {
      g_set_error (error, FT_REGION_DATA_ERROR, FT_REGION_DATA_ERROR_INPUT, "%s", e->message);
      return FALSE;
    }
  return TRUE;
}

static gint
cmp_paths (gconstpointer a, gconstpointer b)
{
  return strcmp (*(char *const *) a, *(char *const *) b);
}

GPtrArray *
ft_region_store_paths (const char *dir, GError **error)
{
  g_autofree char *data = g_build_filename (dir, DATA_DIR, NULL);
  g_autoptr(GPtrArray) paths = g_ptr_array_new_with_free_func (g_free);
  g_autoptr(GDir) d = NULL;
  const char *n;

  if (!g_file_test (data, G_FILE_TEST_IS_DIR))
    return g_steal_pointer (&paths);
  d = g_dir_open (data, 0, error);
  if (d == NULL)
    return NULL;
  while ((n = g_dir_read_name (d)) != NULL)
    if (g_str_has_suffix (n, ".db") && n[0] != '.')
      g_ptr_array_add (paths, g_build_filename (data, n, NULL));
  g_ptr_array_sort (paths, cmp_paths);
  return g_steal_pointer (&paths);
}

/* ---- retention --------------------------------------------------------------- */

void
ft_retention_results_free (GArray *results)
{
  guint i;

  if (results == NULL)
    return;
  for (i = 0; i < results->len; i++)
    g_free (g_array_index (results, FtRetentionResult, i).store);
  g_array_unref (results);
}

static gboolean
query_text (sqlite3 *db, const char *sql, const char *arg, char **out)
{
  sqlite3_stmt *st = NULL;
  gboolean ok = FALSE;

  *out = NULL;
  if (sqlite3_prepare_v2 (db, sql, -1, &st, NULL) != SQLITE_OK)
    return FALSE;
  if (arg)
    sqlite3_bind_text (st, 1, arg, -1, SQLITE_STATIC);
  switch (sqlite3_step (st))
    {
    case SQLITE_ROW:
      *out = g_strdup ((const char *) sqlite3_column_text (st, 0));
      ok = TRUE;
      break;
    case SQLITE_DONE:
      ok = TRUE;
      break;
    default:
      break;
    }
  sqlite3_finalize (st);
  return ok;
}

/* Open a store of the region and check its tag. */
static FtStore *
open_region_store (const FtRegionPolicy *p, const char *path, GError **error)
{
  g_autoptr(GError) e = NULL;
  g_autofree char *tag = NULL;
  FtStore *s;

  if (!ft_output_is_ft_sqlite (path))
    {
      g_set_error (error, FT_REGION_DATA_ERROR, FT_REGION_DATA_ERROR_INPUT,
                   "%s is not a Fleet Twin store; a region's data folder holds only its stores", path);
      return NULL;
    }
  s = ft_store_open (path, NULL, &e);
  if (s == NULL)
    {
      g_set_error (error, FT_REGION_DATA_ERROR, FT_REGION_DATA_ERROR_STORE, "%s", e->message);
      return NULL;
    }
  tag = ft_store_dup_meta (s, FT_REGION_META_NAME);
  if (tag && g_strcmp0 (tag, p->name) != 0)
    {
      g_set_error (error, FT_REGION_DATA_ERROR, FT_REGION_DATA_ERROR_RESIDENCY,
                   "%s is tagged for region \"%s\" but lies in the folder of region \"%s\"; "
                   "a region's stores hold only its own data, so nothing was changed",
                   path, tag, p->name);
      ft_store_close (s);
      return NULL;
    }
  return s;
}

static gboolean
bind_run (sqlite3 *db, const char *sql, const gint64 *ints, guint n_ints, double cell,
          gint64 *changes, GError **error)
{
  sqlite3_stmt *st = NULL;
  guint i;
  int rc;

  if (sqlite3_prepare_v2 (db, sql, -1, &st, NULL) != SQLITE_OK)
    return ft_region_data_sql_fail (db, error, "preparing the retention");
  for (i = 0; i < n_ints; i++)
    sqlite3_bind_int64 (st, (int) i + 1, ints[i]);
  if (cell > 0)
    sqlite3_bind_double (st, (int) n_ints + 1, cell);
  rc = sqlite3_step (st);
  sqlite3_finalize (st);
  if (rc != SQLITE_DONE)
    return ft_region_data_sql_fail (db, error, "applying the retention");
  if (changes)
    *changes = sqlite3_changes (db);
  return TRUE;
}

static gboolean
retain_one (const FtRegionPolicy *p, FtStore *s, FtTime now, FtRetentionResult *res,
            GError **error)
{
  sqlite3 *db = ft_store_get_db (s);
  FtTime tel = now - (FtTime) p->telemetry_days * FT_DAY;
  FtTime co = now - (FtTime) p->coarsen_days * FT_DAY;
  gint64 del_args[4] = { FT_EV_TELEMETRY, FT_EV_VEHICLE_MOVED, FT_EV_STAFF_MOVED, tel };
  gboolean ok;

  if (!ft_region_data_register_functions (db, error) ||
      !ft_region_data_exec (db, "PRAGMA secure_delete = ON", error) ||
      !ft_region_data_exec (db, "BEGIN IMMEDIATE", error))
    return FALSE;
  /* The last event stays, so the log's numbering goes on after it. */
  ok = bind_run (db, "DELETE FROM events WHERE kind IN (?1, ?2, ?3) AND t < ?4"
                 " AND seq < (SELECT max(seq) FROM events)", del_args, 4, 0,
                 &res->telemetry_removed, error) &&
       bind_run (db, "UPDATE events SET lat = ft_coarsen (lat, lon, ?2, 0), lon = ft_coarsen (lat, lon, ?2, 1)"
                 " WHERE t < ?1 AND (lat != ft_coarsen (lat, lon, ?2, 0) OR lon != ft_coarsen (lat, lon, ?2, 1))",
                 &co, 1, p->coarsen_m, &res->events_coarsened, error) &&
       bind_run (db, "UPDATE bookings SET"
                 " start_lat = ft_coarsen (start_lat, start_lon, ?2, 0),"
                 " start_lon = ft_coarsen (start_lat, start_lon, ?2, 1),"
                 " end_lat = ft_coarsen (end_lat, end_lon, ?2, 0),"
                 " end_lon = ft_coarsen (end_lat, end_lon, ?2, 1)"
                 " WHERE state >= 3 AND max(reserved_at, unlocked_at, ended_at) < ?1"
                 " AND (start_lat != ft_coarsen (start_lat, start_lon, ?2, 0)"
                 "  OR start_lon != ft_coarsen (start_lat, start_lon, ?2, 1)"
                 "  OR end_lat != ft_coarsen (end_lat, end_lon, ?2, 0)"
                 "  OR end_lon != ft_coarsen (end_lat, end_lon, ?2, 1))",
                 &co, 1, p->coarsen_m, &res->bookings_coarsened, error);
  if (ok)
    {
      sqlite3_stmt *st = NULL;

      ok = sqlite3_prepare_v2 (db, "INSERT OR IGNORE INTO meta (key, value) VALUES (?, ?), (?, ?)",
                               -1, &st, NULL) == SQLITE_OK;
      if (ok)
        {
          sqlite3_bind_text (st, 1, FT_REGION_META_NAME, -1, SQLITE_STATIC);
          sqlite3_bind_text (st, 2, p->name, -1, SQLITE_STATIC);
          sqlite3_bind_text (st, 3, FT_REGION_META_JURISDICTION, -1, SQLITE_STATIC);
          sqlite3_bind_text (st, 4, p->jurisdiction, -1, SQLITE_STATIC);
          ok = sqlite3_step (st) == SQLITE_DONE;
        }
      sqlite3_finalize (st);
      if (ok)
        ok = sqlite3_prepare_v2 (db, "INSERT INTO retention_log (t, jurisdiction, telemetry_before,"
                                 " coarsen_before, coarsen_m, telemetry_removed, events_coarsened,"
                                 " bookings_coarsened) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                                 -1, &st, NULL) == SQLITE_OK;
      if (ok)
        {
          sqlite3_bind_int64 (st, 1, now);
          sqlite3_bind_text (st, 2, p->jurisdiction, -1, SQLITE_STATIC);
          sqlite3_bind_int64 (st, 3, tel);
          sqlite3_bind_int64 (st, 4, co);
          sqlite3_bind_double (st, 5, p->coarsen_m);
          sqlite3_bind_int64 (st, 6, res->telemetry_removed);
          sqlite3_bind_int64 (st, 7, res->events_coarsened);
          sqlite3_bind_int64 (st, 8, res->bookings_coarsened);
          ok = sqlite3_step (st) == SQLITE_DONE;
        }
      sqlite3_finalize (st);
      if (!ok)
        ft_region_data_sql_fail (db, error, "logging the retention");
    }
  if (ok)
    ok = ft_region_data_exec (db, "COMMIT", error);
  if (!ok)
    {
      ft_region_data_exec (db, "ROLLBACK", NULL);
      return FALSE;
    }
  ft_region_data_exec (db, "PRAGMA wal_checkpoint(TRUNCATE)", NULL);
  return TRUE;
}

GArray *
ft_region_retention (const char *dir, FtTime now, GError **error)
{
  g_auto(FtRegionPolicy) p = { 0 };
  g_autoptr(GPtrArray) paths = NULL;
  g_autoptr(GPtrArray) stores = g_ptr_array_new_with_free_func ((GDestroyNotify) ft_store_close);
  GArray *results;
  guint i;

  g_return_val_if_fail (dir != NULL, NULL);
  if (!ft_region_policy_load (dir, &p, error) ||
      (paths = ft_region_store_paths (dir, error)) == NULL)
    return NULL;
  /* Every store is opened and its tag checked before any is changed. */
  for (i = 0; i < paths->len; i++)
    {
      FtStore *s = open_region_store (&p, paths->pdata[i], error);
      if (s == NULL)
        return NULL;
      g_ptr_array_add (stores, s);
    }
  results = g_array_new (FALSE, TRUE, sizeof (FtRetentionResult));
  for (i = 0; i < paths->len; i++)
    {
      FtRetentionResult res = { 0 };

      res.store = g_strdup (paths->pdata[i]);
      g_array_append_val (results, res);
      if (!retain_one (&p, stores->pdata[i], now,
                       &g_array_index (results, FtRetentionResult, i), error))
        {
          ft_retention_results_free (results);
          return NULL;
        }
    }
  return results;
}

/* ---- the cross-region report ----------------------------------------------------- */

/* Only aggregates and run metadata may be read. */
static int
aggregates_only (void *user_data, int action, const char *a, const char *b, const char *db_name,
                 const char *trigger)
{
  (void) user_data; (void) b; (void) db_name; (void) trigger;
  switch (action)
    {
    case SQLITE_SELECT:
    case SQLITE_FUNCTION:
      return SQLITE_OK;
    case SQLITE_READ:
      if (a && (g_str_has_prefix (a, "an_") || strcmp (a, "meta") == 0 ||
                strcmp (a, "sqlite_master") == 0 || strcmp (a, "sqlite_schema") == 0))
        return SQLITE_OK;
      return SQLITE_DENY;
    default:
      return SQLITE_DENY;
    }
}

typedef struct {
  char   *region, *jurisdiction, *store, *currency;
  gint64  requests, served, trips, revenue, riders, vehicles;
} ReportRow;

static void
report_row_clear (ReportRow *r)
{
  g_free (r->region);
  g_free (r->jurisdiction);
  g_free (r->store);
  g_free (r->currency);
}

static gboolean
query_ints (sqlite3 *db, const char *sql, gint64 *out, guint n)
{
  sqlite3_stmt *st = NULL;
  guint i;
  gboolean ok;

  if (sqlite3_prepare_v2 (db, sql, -1, &st, NULL) != SQLITE_OK)
    return FALSE;
  ok = sqlite3_step (st) == SQLITE_ROW;
  for (i = 0; ok && i < n; i++)
    out[i] = sqlite3_column_int64 (st, (int) i);
  sqlite3_finalize (st);
  return ok;
}

static gboolean
report_store (const FtRegionPolicy *p, const char *path, ReportRow *row, GError **error)
{
  sqlite3 *db = NULL;
  g_autofree char *tag = NULL, *hwm = NULL;
  gint64 v[4] = { 0 };
  gboolean ok;

  if (!ft_output_is_ft_sqlite (path) ||
      sqlite3_open_v2 (path, &db, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK)
    {
      sqlite3_close (db);
      g_set_error (error, FT_REGION_DATA_ERROR, FT_REGION_DATA_ERROR_INPUT,
                   "%s is not a Fleet Twin store; a region's data folder holds only its stores", path);
      return FALSE;
    }
  sqlite3_set_authorizer (db, aggregates_only, NULL);
  if (query_text (db, "SELECT value FROM meta WHERE key = ?", FT_REGION_META_NAME, &tag) &&
      tag && g_strcmp0 (tag, p->name) != 0)
    {
      sqlite3_close (db);
      g_set_error (error, FT_REGION_DATA_ERROR, FT_REGION_DATA_ERROR_RESIDENCY,
                   "%s is tagged for region \"%s\" but lies in the folder of region \"%s\"",
                   path, tag, p->name);
      return FALSE;
    }
  if (!query_text (db, "SELECT value FROM an_meta WHERE key = 'high_water_seq'", NULL, &hwm) ||
      hwm == NULL)
    {
      sqlite3_close (db);
      g_set_error (error, FT_REGION_DATA_ERROR, FT_REGION_DATA_ERROR_NOT_BUILT,
                   "%s holds no aggregates; run `fleet-twin-cli analytics build %s` in its "
                   "region first (the report reads aggregates only)", path, path);
      return FALSE;
    }
  query_text (db, "SELECT value FROM an_meta WHERE key = 'currency'", NULL, &row->currency);
  ok = query_ints (db, "SELECT coalesce(sum(requests), 0), coalesce(sum(served), 0),"
                   " coalesce(sum(trips_ended), 0), coalesce(sum(revenue_minor), 0) FROM an_zone_hour", v, 4);
  row->requests = v[0];
  row->served = v[1];
  row->trips = v[2];
  row->revenue = v[3];
  ok = ok && query_ints (db, "SELECT count(*) FROM an_rider", &row->riders, 1) &&
       query_ints (db, "SELECT count(DISTINCT vehicle) FROM an_vehicle_day", &row->vehicles, 1);
  if (!ok)
    {
      ft_region_data_sql_fail (db, error, "reading the aggregates");
      sqlite3_close (db);
      return FALSE;
    }
  sqlite3_close (db);
  row->region = g_strdup (p->name);
  row->jurisdiction = g_strdup (p->jurisdiction);
  row->store = g_path_get_basename (path);
  return TRUE;
}

char *
ft_region_report_aggregates (const char *const *dirs, gboolean json, GError **error)
{
  g_autoptr(GArray) rows = g_array_new (FALSE, TRUE, sizeof (ReportRow));
  GString *out = g_string_new (NULL);
  gint64 tot[6] = { 0 };
  guint d, i;

  g_array_set_clear_func (rows, (GDestroyNotify) report_row_clear);
  if (dirs == NULL || dirs[0] == NULL)
    {
      g_string_free (out, TRUE);
      g_set_error (error, FT_REGION_DATA_ERROR, FT_REGION_DATA_ERROR_INPUT,
                   "no region folders given");
      return NULL;
    }
  for (d = 0; dirs[d]; d++)
    {
      g_auto(FtRegionPolicy) p = { 0 };
      g_autoptr(GPtrArray) paths = NULL;

      if (!ft_region_policy_load (dirs[d], &p, error) ||
          (paths = ft_region_store_paths (dirs[d], error)) == NULL)
        {
          g_string_free (out, TRUE);
          return NULL;
        }
      for (i = 0; i < paths->len; i++)
        {
          ReportRow row = { 0 };
          if (!report_store (&p, paths->pdata[i], &row, error))
            {
              report_row_clear (&row);
              g_string_free (out, TRUE);
              return NULL;
            }
          g_array_append_val (rows, row);
        }
    }
  if (json)
    g_string_append (out, "{\"regions\": [");
  else
    g_string_append_printf (out, "%-16s %-8s %-20s %10s %7s %9s %8s %8s %14s\n", "region",
                            "law", "store", "requests", "served", "trips", "riders", "vehicles",
                            "revenue");
  for (i = 0; i < rows->len; i++)
    {
      ReportRow *r = &g_array_index (rows, ReportRow, i);
      const char *cur = r->currency ? r->currency : "";

      if (json)
        {
          g_autofree char *reg = g_strescape (r->region, NULL), *st = g_strescape (r->store, NULL);
          g_string_append_printf (out, "%s\n  {\"region\": \"%s\", \"jurisdiction\": \"%s\", "
                                  "\"store\": \"%s\", \"requests\": %" G_GINT64_FORMAT
                                  ", \"served\": %" G_GINT64_FORMAT ", \"trips\": %" G_GINT64_FORMAT
                                  ", \"riders\": %" G_GINT64_FORMAT ", \"vehicles\": %" G_GINT64_FORMAT
                                  ", \"revenue_minor\": %" G_GINT64_FORMAT ", \"currency\": \"%s\"}",
                                  i ? "," : "", reg, r->jurisdiction, st, r->requests, r->served,
                                  r->trips, r->riders, r->vehicles, r->revenue, cur);
        }
      else
        g_string_append_printf (out, "%-16s %-8s %-20s %10" G_GINT64_FORMAT " %6.1f%% %9" G_GINT64_FORMAT
                                " %8" G_GINT64_FORMAT " %8" G_GINT64_FORMAT " %11.2f %s\n",
                                r->region, r->jurisdiction, r->store, r->requests,
                                r->requests ? 100.0 * (double) r->served / (double) r->requests : 0.0,
                                r->trips, r->riders, r->vehicles, (double) r->revenue / 100.0, cur);
      tot[0] += r->requests;
      tot[1] += r->served;
      tot[2] += r->trips;
      tot[3] += r->riders;
      tot[4] += r->vehicles;
    }
  if (json)
    g_string_append (out, "\n]}\n");
  else
    g_string_append_printf (out, "%-16s %-8s %-20s %10" G_GINT64_FORMAT " %6.1f%% %9" G_GINT64_FORMAT
                            " %8" G_GINT64_FORMAT " %8" G_GINT64_FORMAT "\n", "all", "", "",
                            tot[0], tot[0] ? 100.0 * (double) tot[1] / (double) tot[0] : 0.0,
                            tot[2], tot[3], tot[4]);
  return g_string_free (out, FALSE);
}
