/* ft-gbfs.c — GBFS 2.3 / 3.0 feeds into a starting fleet, pricing and
 * geofences; the twin's state out as a GBFS 3.0 feed. See ft-gbfs.h.
 */
#include "ft-config.h"
#include "ft-gbfs.h"

#include <errno.h>
#include <string.h>
#include <glib/gstdio.h>
#include <unistd.h>
#include <json-glib/json-glib.h>
#include "ft-json.h"
#include "ft-file.h"

G_DEFINE_QUARK (ft-gbfs-error-quark, ft_gbfs_error)

void
ft_gbfs_feed_free (FtGbfsFeed *feed)
{
  if (feed == NULL)
    return;
  for (guint i = 0; i < feed->n_vehicles; i++)
    {
      g_free (feed->vehicles[i].vehicle_id);
      g_free (feed->vehicles[i].vehicle_type_id);
      g_free (feed->vehicles[i].pricing_plan_id);
    }
  g_free (feed->vehicles);
  g_free (feed->version);
  g_free (feed->system_id);
  g_free (feed->system_name);
  g_free (feed->vehicles_file);
  g_free (feed->pricing_json);
  g_free (feed->pricing_where);
  g_free (feed->geofences_json);
  g_free (feed->geofences_where);
  if (feed->pricing)
    ft_pricing_free (feed->pricing);
  if (feed->geofences)
    ft_geofences_free (feed->geofences);
  g_free (feed);
}

/* ---- typed member access with path-naming errors ----------------------- */

static gboolean
fail (GError **error, const char *file, const char *path, const char *what)
{
  g_set_error (error, FT_GBFS_ERROR, FT_GBFS_ERROR_PARSE, "%s: %s: %s", file, path, what);
  return FALSE;
}

static gboolean
is_number (JsonNode *n)
{
  if (n == NULL || !JSON_NODE_HOLDS_VALUE (n))
    return FALSE;
  GType t = json_node_get_value_type (n);
  /* json-glib reads 1e400 as infinity: not a number a feed can mean */
  return (t == G_TYPE_INT64 || t == G_TYPE_DOUBLE) && isfinite (json_node_get_double (n));
}

static gboolean
is_string (JsonNode *n)
{
  return n != NULL && JSON_NODE_HOLDS_VALUE (n) && json_node_get_value_type (n) == G_TYPE_STRING;
}

static gboolean
is_bool (JsonNode *n)
{
  return n != NULL && JSON_NODE_HOLDS_VALUE (n) && json_node_get_value_type (n) == G_TYPE_BOOLEAN;
}

static JsonNode *
load_doc (const char *path, GError **error)
{
  g_autoptr(GError) e = NULL;
  g_autoptr(JsonNode) root = ft_json_load_file (path, &e);
  if (root == NULL)
    {
      g_set_error (error, FT_GBFS_ERROR,
                   e->code == FT_JSON_ERROR_IO ? FT_GBFS_ERROR_IO : FT_GBFS_ERROR_PARSE, "%s", e->message);
      return NULL;
    }
  if (!JSON_NODE_HOLDS_OBJECT (root))
    {
      fail (error, path, "$", "expected a JSON object");
      return NULL;
    }
  return g_steal_pointer (&root);
}

static JsonObject *
doc_data (JsonNode *root, const char *path, GError **error)
{
  JsonNode *d = json_object_get_member (json_node_get_object (root), "data");
  if (d == NULL || !JSON_NODE_HOLDS_OBJECT (d))
    {
      fail (error, path, "data", "missing or not an object");
      return NULL;
    }
  return json_node_get_object (d);
}

/* last_updated: integer seconds (2.x) or RFC 3339 (3.x). */
static gboolean
parse_timestamp (JsonNode *n, gint64 *out)
{
  if (n == NULL)
    return FALSE;
  if (JSON_NODE_HOLDS_VALUE (n) && json_node_get_value_type (n) == G_TYPE_INT64)
    {
      *out = json_node_get_int (n);
      return *out >= 0;
    }
  if (is_string (n))
    {
      g_autoptr(GDateTime) dt = g_date_time_new_from_iso8601 (json_node_get_string (n), NULL);
      if (dt == NULL)
        return FALSE;
      *out = g_date_time_to_unix (dt);
      return TRUE;
    }
  return FALSE;
}

/* A localized string (3.0: [{text, language}]) or plain string (2.x). */
static char *
localized_text (JsonNode *n)
{
  if (is_string (n))
    return g_strdup (json_node_get_string (n));
  if (n && JSON_NODE_HOLDS_ARRAY (n) && json_array_get_length (json_node_get_array (n)) > 0)
    {
      JsonNode *e = json_array_get_element (json_node_get_array (n), 0);
      if (JSON_NODE_HOLDS_OBJECT (e))
        {
          JsonNode *t = json_object_get_member (json_node_get_object (e), "text");
          if (is_string (t))
            return g_strdup (json_node_get_string (t));
        }
    }
  return NULL;
}

typedef struct {
  FtVehicleKind kind;
  double        max_range_m;
} TypeInfo;

static FtVehicleKind
kind_from_form_factor (const char *ff)
{
  if (ff == NULL)
    return FT_KIND_SCOOTER;
  if (g_str_has_prefix (ff, "bicycle") || g_str_equal (ff, "cargo_bicycle"))
    return FT_KIND_BIKE;
  if (g_str_equal (ff, "moped"))
    return FT_KIND_MOPED;
  return FT_KIND_SCOOTER;
}

static double
default_range_m (FtVehicleKind kind)
{
  const FtVehicleType *t = ft_vehicle_type_default (kind);
  return t->pack_capacity_wh / t->wh_per_km * 1000.0;
}

static gboolean
load_vehicle_types (const char *path, GHashTable *types, GError **error)
{
  g_autoptr(JsonNode) root = load_doc (path, error);
  if (!root)
    return FALSE;
  JsonObject *data = doc_data (root, path, error);
  if (!data)
    return FALSE;
  JsonNode *vt = json_object_get_member (data, "vehicle_types");
  if (vt == NULL || !JSON_NODE_HOLDS_ARRAY (vt))
    return fail (error, path, "data.vehicle_types", "missing or not an array");
  JsonArray *arr = json_node_get_array (vt);
  for (guint i = 0; i < json_array_get_length (arr); i++)
    {
      char p[64];
      JsonNode *e = json_array_get_element (arr, i);
      g_snprintf (p, sizeof p, "data.vehicle_types[%u]", i);
      if (!JSON_NODE_HOLDS_OBJECT (e))
        return fail (error, path, p, "expected an object");
      JsonObject *o = json_node_get_object (e);
      JsonNode *id = json_object_get_member (o, "vehicle_type_id");
      JsonNode *ff = json_object_get_member (o, "form_factor");
      JsonNode *mr = json_object_get_member (o, "max_range_meters");
      if (!is_string (id))
        return fail (error, path, p, "vehicle_type_id: expected a string");
      if (ff && !is_string (ff))
        return fail (error, path, p, "form_factor: expected a string");
      if (mr && (!is_number (mr) || json_node_get_double (mr) < 0))
        return fail (error, path, p, "max_range_meters: expected a finite non-negative number");
      TypeInfo *ti = g_new (TypeInfo, 1);
      ti->kind = kind_from_form_factor (ff ? json_node_get_string (ff) : NULL);
      ti->max_range_m = mr ? json_node_get_double (mr) : default_range_m (ti->kind);
      g_hash_table_insert (types, g_strdup (json_node_get_string (id)), ti);
    }
  return TRUE;
}

static char *
find_vehicles_file (const char *dir)
{
  const char *plain[] = { "vehicle_status.json", "free_bike_status.json" };
  for (guint i = 0; i < G_N_ELEMENTS (plain); i++)
    {
      g_autofree char *p = g_build_filename (dir, plain[i], NULL);
      if (g_file_test (p, G_FILE_TEST_IS_REGULAR))
        return g_steal_pointer (&p);
    }
  /* Time series of snapshots (vehicle_status_<time>.json): take the latest. */
  g_autoptr(GDir) d = g_dir_open (dir, 0, NULL);
  if (d == NULL)
    return NULL;
  char *best = NULL;
  const char *name;
  while ((name = g_dir_read_name (d)))
    if ((g_str_has_prefix (name, "free_bike_status_") || g_str_has_prefix (name, "vehicle_status_"))
        && g_str_has_suffix (name, ".json") && (best == NULL || strcmp (name, best) > 0))
      {
        g_free (best);
        best = g_strdup (name);
      }
  if (best == NULL)
    return NULL;
  char *p = g_build_filename (dir, best, NULL);
  g_free (best);
  return p;
}

static gboolean
read_optional (const char *dir, const char *name, char **text_out, char **where_out, GError **error)
{
  g_autofree char *p = g_build_filename (dir, name, NULL);
  if (!g_file_test (p, G_FILE_TEST_IS_REGULAR))
    return TRUE;
  g_autoptr(GError) e = NULL;
  if (!ft_file_read (p, FT_JSON_MAX_SIZE, text_out, NULL, &e))
    {
      g_set_error (error, FT_GBFS_ERROR, FT_GBFS_ERROR_IO, "%s", e->message);
      return FALSE;
    }
  *where_out = g_steal_pointer (&p);
  return TRUE;
}

FtGbfsFeed *
ft_gbfs_load (const char *path, GError **error)
{
  g_return_val_if_fail (path != NULL, NULL);
  g_autofree char *dir = NULL;
  g_autofree char *vfile = NULL;
  if (g_file_test (path, G_FILE_TEST_IS_DIR))
    {
      dir = g_strdup (path);
      vfile = find_vehicles_file (dir);
      if (vfile == NULL)
        {
          g_set_error (error, FT_GBFS_ERROR, FT_GBFS_ERROR_MISSING,
                       "%s: no vehicle_status.json or free_bike_status.json", path);
          return NULL;
        }
    }
  else if (g_file_test (path, G_FILE_TEST_IS_REGULAR))
    {
      dir = g_path_get_dirname (path);
      vfile = g_strdup (path);
    }
  else
    {
      g_set_error (error, FT_GBFS_ERROR, FT_GBFS_ERROR_IO, "%s: no such file or folder", path);
      return NULL;
    }

  g_autoptr(FtGbfsFeed) feed = g_new0 (FtGbfsFeed, 1);
  feed->vehicles_file = g_strdup (vfile);

  g_autoptr(GHashTable) types = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  g_autofree char *vtypes = g_build_filename (dir, "vehicle_types.json", NULL);
  if (g_file_test (vtypes, G_FILE_TEST_IS_REGULAR) && !load_vehicle_types (vtypes, types, error))
    return NULL;

  /* system_information (optional) */
  g_autofree char *sysinfo = g_build_filename (dir, "system_information.json", NULL);
  if (g_file_test (sysinfo, G_FILE_TEST_IS_REGULAR))
    {
      g_autoptr(JsonNode) root = load_doc (sysinfo, error);
      if (!root)
        return NULL;
      JsonObject *data = doc_data (root, sysinfo, error);
      if (!data)
        return NULL;
      JsonNode *sid = json_object_get_member (data, "system_id");
      if (!is_string (sid))
        {
          fail (error, sysinfo, "data.system_id", "expected a string");
          return NULL;
        }
      feed->system_id = g_strdup (json_node_get_string (sid));
      feed->system_name = localized_text (json_object_get_member (data, "name"));
    }

  /* vehicles */
  g_autoptr(JsonNode) root = load_doc (vfile, error);
  if (!root)
    return NULL;
  JsonObject *top = json_node_get_object (root);
  JsonNode *ver = json_object_get_member (top, "version");
  if (!is_string (ver))
    {
      fail (error, vfile, "version", "missing or not a string");
      return NULL;
    }
  const char *vs = json_node_get_string (ver);
  if (!g_str_has_prefix (vs, "2.") && !g_str_has_prefix (vs, "3."))
    {
      g_set_error (error, FT_GBFS_ERROR, FT_GBFS_ERROR_VERSION,
                   "%s: version: GBFS %s is not supported (2.x or 3.x)", vfile, vs);
      return NULL;
    }
  feed->version = g_strdup (vs);
  gboolean v2 = g_str_has_prefix (vs, "2.");
  {
    /* the file's name says its version too: free_bike_status is 2.x,
     * vehicle_status 3.x */
    g_autofree char *base = g_path_get_basename (vfile);
    if ((v2 && g_str_has_prefix (base, "vehicle_status"))
        || (!v2 && g_str_has_prefix (base, "free_bike_status")))
      {
        g_set_error (error, FT_GBFS_ERROR, FT_GBFS_ERROR_VERSION,
                     "%s: version: says GBFS %s, but a %s file is GBFS %s", vfile, vs,
                     v2 ? "vehicle_status" : "free_bike_status", v2 ? "3.x" : "2.x");
        return NULL;
      }
  }
  if (!parse_timestamp (json_object_get_member (top, "last_updated"), &feed->last_updated))
    {
      fail (error, vfile, "last_updated", v2 ? "expected POSIX seconds" : "expected an RFC 3339 time");
      return NULL;
    }
  JsonObject *data = doc_data (root, vfile, error);
  if (!data)
    return NULL;
  const char *list_name = json_object_has_member (data, "bikes") ? "bikes" : "vehicles";
  JsonNode *ln = json_object_get_member (data, list_name);
  if (ln == NULL || !JSON_NODE_HOLDS_ARRAY (ln))
    {
      fail (error, vfile, v2 ? "data.bikes" : "data.vehicles", "missing or not an array");
      return NULL;
    }
  JsonArray *arr = json_node_get_array (ln);
  guint n = json_array_get_length (arr);
  feed->vehicles = g_new0 (FtGbfsVehicle, MAX (n, 1));
  g_autoptr(GHashTable) seen = g_hash_table_new (g_str_hash, g_str_equal);
  for (guint i = 0; i < n; i++)
    {
      char p[64];
      g_snprintf (p, sizeof p, "data.%s[%u]", list_name, i);
      JsonNode *e = json_array_get_element (arr, i);
      if (!JSON_NODE_HOLDS_OBJECT (e))
        {
          fail (error, vfile, p, "expected an object");
          return NULL;
        }
      JsonObject *o = json_node_get_object (e);
      JsonNode *id = json_object_get_member (o, v2 && json_object_has_member (o, "bike_id")
                                                 ? "bike_id" : "vehicle_id");
      JsonNode *lat = json_object_get_member (o, "lat");
      JsonNode *lon = json_object_get_member (o, "lon");
      JsonNode *res = json_object_get_member (o, "is_reserved");
      JsonNode *dis = json_object_get_member (o, "is_disabled");
      JsonNode *vt = json_object_get_member (o, "vehicle_type_id");
      JsonNode *rg = json_object_get_member (o, "current_range_meters");
      JsonNode *pp = json_object_get_member (o, "pricing_plan_id");
      g_autofree char *msg = NULL;
      if (!is_string (id) || *json_node_get_string (id) == '\0')
        msg = g_strdup (v2 ? "bike_id: expected a non-empty string" : "vehicle_id: expected a non-empty string");
      else if (!is_number (lat) || !is_number (lon))
        msg = g_strdup ("lat/lon: expected numbers (vehicles at stations are not supported)");
      else if (fabs (json_node_get_double (lat)) > 90 || fabs (json_node_get_double (lon)) > 180)
        msg = g_strdup_printf ("lat/lon: %g, %g is not a position", json_node_get_double (lat),
                               json_node_get_double (lon));
      else if (!is_bool (res) || !is_bool (dis))
        msg = g_strdup ("is_reserved/is_disabled: expected booleans");
      else if (vt && !is_string (vt))
        msg = g_strdup ("vehicle_type_id: expected a string");
      else if (pp && !is_string (pp))
        msg = g_strdup ("pricing_plan_id: expected a string");
      else if (rg && (!is_number (rg) || json_node_get_double (rg) < 0))
        msg = g_strdup ("current_range_meters: expected a finite non-negative number");
      else if (g_hash_table_contains (seen, json_node_get_string (id)))
        msg = g_strdup_printf ("duplicate vehicle id %s", json_node_get_string (id));
      if (msg)
        {
          g_autofree char *full = g_strdup_printf ("%s", msg);
          fail (error, vfile, p, full);
          return NULL;
        }
      FtGbfsVehicle *v = &feed->vehicles[feed->n_vehicles++];
      v->vehicle_id = g_strdup (json_node_get_string (id));
      g_hash_table_add (seen, v->vehicle_id);
      v->vehicle_type_id = vt ? g_strdup (json_node_get_string (vt)) : NULL;
      v->pricing_plan_id = pp ? g_strdup (json_node_get_string (pp)) : NULL;
      v->outside_m = -1;
      TypeInfo *ti = v->vehicle_type_id ? g_hash_table_lookup (types, v->vehicle_type_id) : NULL;
      v->kind = ti ? ti->kind : FT_KIND_SCOOTER;
      v->max_range_m = ti ? ti->max_range_m : default_range_m (v->kind);
      v->pos = (FtLatLon) { json_node_get_double (lat), json_node_get_double (lon) };
      v->range_m = rg ? json_node_get_double (rg) : -1;
      v->is_reserved = json_node_get_boolean (res);
      v->is_disabled = json_node_get_boolean (dis);
      parse_timestamp (json_object_get_member (o, "last_reported"), &v->last_reported);
      feed->n_reserved += v->is_reserved;
      feed->n_disabled += v->is_disabled;
    }

  /* station_information: count */
  g_autofree char *stations = g_build_filename (dir, "station_information.json", NULL);
  if (g_file_test (stations, G_FILE_TEST_IS_REGULAR))
    {
      g_autoptr(JsonNode) sroot = load_doc (stations, error);
      if (!sroot)
        return NULL;
      JsonObject *sd = doc_data (sroot, stations, error);
      if (!sd)
        return NULL;
      JsonNode *st = json_object_get_member (sd, "stations");
      if (st == NULL || !JSON_NODE_HOLDS_ARRAY (st))
        {
          fail (error, stations, "data.stations", "missing or not an array");
          return NULL;
        }
      feed->n_stations = json_array_get_length (json_node_get_array (st));
    }

  /* pricing and geofences: parsed now so errors surface at load */
  if (!read_optional (dir, "system_pricing_plans.json", &feed->pricing_json, &feed->pricing_where, error))
    return NULL;
  if (feed->pricing_json)
    {
      feed->pricing = ft_pricing_new ();
      if (!ft_pricing_parse_gbfs (feed->pricing, feed->pricing_json, -1, feed->pricing_where, error))
        return NULL;
    }
  if (!read_optional (dir, "geofencing_zones.json", &feed->geofences_json, &feed->geofences_where, error))
    return NULL;
  if (feed->geofences_json)
    {
      feed->geofences = ft_geofences_parse_gbfs (feed->geofences_json, -1, feed->geofences_where, error);
      if (feed->geofences == NULL)
        return NULL;
    }
  return g_steal_pointer (&feed);
}

FtPricing *
ft_gbfs_dup_pricing (const FtGbfsFeed *feed)
{
  if (feed->pricing_json == NULL)
    return NULL;
  FtPricing *p = ft_pricing_new ();
  if (!ft_pricing_parse_gbfs (p, feed->pricing_json, -1, feed->pricing_where, NULL))
    g_clear_pointer (&p, ft_pricing_free);
  return p;
}

FtGeofences *
ft_gbfs_dup_geofences (const FtGbfsFeed *feed)
{
  if (feed->geofences_json == NULL)
    return NULL;
  return ft_geofences_parse_gbfs (feed->geofences_json, -1, feed->geofences_where, NULL);
}

guint
ft_gbfs_leave_out_far (FtGbfsFeed *feed, const FtMultiPolygon *area, double max_m, GString *report)
{
  g_return_val_if_fail (feed != NULL && area != NULL, 0);
  guint n = 0;
  for (guint i = 0; i < feed->n_vehicles; i++)
    {
      FtGbfsVehicle *v = &feed->vehicles[i];
      v->outside_m = ft_multipolygon_distance_m (area, v->pos);
      v->left_out = v->outside_m > max_m;
      if (!v->left_out)
        continue;
      n++;
      if (report)
        g_string_append_printf (report, "%s: vehicle %s at %.5f, %.5f is %.1f km outside the "
                                "operating area: left out\n", feed->vehicles_file, v->vehicle_id,
                                v->pos.lat, v->pos.lon, v->outside_m / 1000.0);
    }
  feed->n_left_out = n;
  return n;
}

char *
ft_gbfs_fleet_to_json (const FtGbfsFeed *feed)
{
  g_return_val_if_fail (feed != NULL, NULL);
  gboolean v2 = feed->version && g_str_has_prefix (feed->version, "2.");
  g_autoptr(JsonBuilder) b = json_builder_new ();
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "last_updated");
  if (v2)
    json_builder_add_int_value (b, feed->last_updated);
  else
    {
      g_autoptr(GDateTime) dt = g_date_time_new_from_unix_utc (feed->last_updated);
      g_autofree char *iso = dt ? g_date_time_format (dt, "%Y-%m-%dT%H:%M:%SZ") : g_strdup ("1970-01-01T00:00:00Z");
      json_builder_add_string_value (b, iso);
    }
  json_builder_set_member_name (b, "ttl");
  json_builder_add_int_value (b, 0);
  json_builder_set_member_name (b, "version");
  json_builder_add_string_value (b, feed->version ? feed->version : "3.0");
  json_builder_set_member_name (b, "data");
  json_builder_begin_object (b);
  json_builder_set_member_name (b, v2 ? "bikes" : "vehicles");
  json_builder_begin_array (b);
  for (guint i = 0; i < feed->n_vehicles; i++)
    {
      const FtGbfsVehicle *v = &feed->vehicles[i];
      if (v->left_out)
        continue;
      json_builder_begin_object (b);
      json_builder_set_member_name (b, v2 ? "bike_id" : "vehicle_id");
      json_builder_add_string_value (b, v->vehicle_id);
      json_builder_set_member_name (b, "lat");
      ft_json_builder_add_number (b, v->pos.lat);
      json_builder_set_member_name (b, "lon");
      ft_json_builder_add_number (b, v->pos.lon);
      json_builder_set_member_name (b, "is_reserved");
      json_builder_add_boolean_value (b, v->is_reserved);
      json_builder_set_member_name (b, "is_disabled");
      json_builder_add_boolean_value (b, v->is_disabled);
      if (v->vehicle_type_id)
        {
          json_builder_set_member_name (b, "vehicle_type_id");
          json_builder_add_string_value (b, v->vehicle_type_id);
        }
      if (v->pricing_plan_id)
        {
          json_builder_set_member_name (b, "pricing_plan_id");
          json_builder_add_string_value (b, v->pricing_plan_id);
        }
      if (v->range_m >= 0)
        {
          json_builder_set_member_name (b, "current_range_meters");
          ft_json_builder_add_number (b, v->range_m);
        }
      if (v->last_reported > 0)
        {
          json_builder_set_member_name (b, "last_reported");
          if (v2)
            json_builder_add_int_value (b, v->last_reported);
          else
            {
              g_autoptr(GDateTime) dt = g_date_time_new_from_unix_utc (v->last_reported);
              g_autofree char *iso = g_date_time_format (dt, "%Y-%m-%dT%H:%M:%SZ");
              json_builder_add_string_value (b, iso);
            }
        }
      json_builder_end_object (b);
    }
  json_builder_end_array (b);
  json_builder_end_object (b);
  json_builder_end_object (b);
  g_autoptr(JsonNode) root = json_builder_get_root (b);
  g_autoptr(JsonGenerator) gen = json_generator_new ();
  json_generator_set_pretty (gen, TRUE);
  json_generator_set_root (gen, root);
  return json_generator_to_data (gen, NULL);
}

void
ft_gbfs_device_id (const char *vehicle_id, char out[37])
{
  if (ft_uuid_valid (vehicle_id) && strlen (vehicle_id) == 36)
    {
      memcpy (out, vehicle_id, 37);
      return;
    }
  guint64 h = ft_hash_string64 (vehicle_id);
  ft_uuid_from_words (h, ft_mix64 (h ^ 0x9e3779b97f4a7c15ULL), out);
}

gint
ft_gbfs_seed_core (const FtGbfsFeed *feed, FtCore *core, FtTime now, GError **error)
{
  g_return_val_if_fail (feed != NULL && core != NULL, -1);
  /* Check everything first so the fleet is unchanged on error. */
  g_autoptr(GHashTable) ids = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  for (guint i = 0; i < feed->n_vehicles; i++)
    {
      char dev[37];
      guint existing;
      if (feed->vehicles[i].left_out)
        continue;
      ft_gbfs_device_id (feed->vehicles[i].vehicle_id, dev);
      if (ft_fleet_lookup_device (core->fleet, dev, &existing)
          || !g_hash_table_add (ids, g_strdup (dev)))
        {
          g_set_error (error, FT_GBFS_ERROR, FT_GBFS_ERROR_PARSE,
                       "%s: vehicle %s is already in the fleet", feed->vehicles_file,
                       feed->vehicles[i].vehicle_id);
          return -1;
        }
    }

  for (guint i = 0; i < feed->n_vehicles; i++)
    {
      const FtGbfsVehicle *gv = &feed->vehicles[i];
      char dev[37];
      if (gv->left_out)
        continue;
      ft_gbfs_device_id (gv->vehicle_id, dev);
      guint v = ft_fleet_add_vehicle (core->fleet, gv->kind, gv->pos, dev, now);
      const FtVehicleType *t = ft_vehicle_type_default (gv->kind);
      double soc = gv->range_m < 0 || gv->max_range_m <= 0 ? 1.0
                 : CLAMP (gv->range_m / gv->max_range_m, 0.0, 1.0);
      g_autoptr(GError) e = NULL;
      if (ft_fleet_add_pack (core->fleet, t->pack_capacity_wh, soc, FT_PACK_IN_VEHICLE, (gint32) v,
                             now, &e) == G_MAXUINT)
        g_warning ("gbfs: pack for %s: %s", gv->vehicle_id, e ? e->message : "?");
      if (gv->is_disabled)
        {
          const FtVehicleEventType tries[] = { FT_VEV_MAINTENANCE, FT_VEV_BATTERY_LOW,
                                               FT_VEV_SYSTEM_SUSPEND, FT_VEV_OFF_HOURS };
          for (guint k = 0; k < G_N_ELEMENTS (tries); k++)
            {
              FtVehicleState to;
              if (ft_vehicle_transition (FT_STATE_AVAILABLE, tries[k], &to)
                  && to == FT_STATE_NON_OPERATIONAL)
                {
                  ft_fleet_apply_event (core->fleet, v, tries[k], now, NULL);
                  break;
                }
            }
        }
    }
  return (gint) feed->n_vehicles;
}

/* ---- export ------------------------------------------------------------- */

static char *
rfc3339 (gint64 epoch_s)
{
  g_autoptr(GDateTime) dt = g_date_time_new_from_unix_utc (epoch_s);
  return g_date_time_format (dt, "%Y-%m-%dT%H:%M:%SZ");
}

static void
add_localized (JsonBuilder *b, const char *member, const char *text, const char *lang)
{
  json_builder_set_member_name (b, member);
  json_builder_begin_array (b);
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "text");
  json_builder_add_string_value (b, text);
  json_builder_set_member_name (b, "language");
  json_builder_add_string_value (b, lang);
  json_builder_end_object (b);
  json_builder_end_array (b);
}

/* Wraps data (consumed) in the GBFS envelope and adds the text to docs. */
static void
add_doc (GHashTable *docs, const char *name, const FtGbfsExportInfo *info, JsonNode *data)
{
  g_autoptr(JsonBuilder) b = json_builder_new ();
  g_autofree char *lu = rfc3339 (info->epoch_s);
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "last_updated");
  json_builder_add_string_value (b, lu);
  json_builder_set_member_name (b, "ttl");
  json_builder_add_int_value (b, info->ttl_s > 0 ? info->ttl_s : 60);
  json_builder_set_member_name (b, "version");
  json_builder_add_string_value (b, "3.0");
  json_builder_set_member_name (b, "data");
  json_builder_add_value (b, data);
  json_builder_end_object (b);
  g_autoptr(JsonNode) root = json_builder_get_root (b);
  g_autoptr(JsonGenerator) gen = json_generator_new ();
  json_generator_set_pretty (gen, TRUE);
  json_generator_set_root (gen, root);
  g_hash_table_replace (docs, g_strdup (name), json_generator_to_data (gen, NULL));
}

static const char *
form_factor (FtVehicleKind k)
{
  const FtVehicleType *t = ft_vehicle_type_default (k);
  return t->form_factor;
}

char *
ft_gbfs_public_vehicle_id (const guint8 *key, gsize key_len, const char *device_id, gint64 trip_epoch)
{
  g_return_val_if_fail (key != NULL && key_len > 0 && device_id != NULL, NULL);
  g_autofree char *msg = g_strdup_printf ("%s\n%" G_GINT64_FORMAT, device_id, trip_epoch);
  g_autofree char *hex = g_compute_hmac_for_string (G_CHECKSUM_SHA256, key, key_len, msg, -1);
  /* A version-4-shaped UUID from the first 128 bits of the HMAC. */
  return g_strdup_printf ("%.8s-%.4s-4%.3s-%c%.3s-%.12s", hex, hex + 8, hex + 13,
                          "89ab"[g_ascii_xdigit_value (hex[16]) & 3], hex + 17, hex + 20);
}

FtGbfsVehicleView *
ft_gbfs_core_views (FtCore *core, guint *n_out)
{
  g_return_val_if_fail (core != NULL && n_out != NULL, NULL);
  guint nv = ft_fleet_n_vehicles (core->fleet);
  FtGbfsVehicleView *v = g_new0 (FtGbfsVehicleView, MAX (nv, 1));
  for (guint i = 0; i < nv; i++)
    {
      const FtVehicle *veh = ft_fleet_get_vehicle (core->fleet, i);
      v[i].device_id = veh->device_id;
      v[i].trip_epoch = -1;
      v[i].kind = veh->kind;
      v[i].pos = veh->pos;
      v[i].state = veh->state;
      v[i].range_m = ft_fleet_range_m (core->fleet, i);
      v[i].soc = ft_fleet_soc (core->fleet, i);
    }
  /* The trip epoch is the vehicle's latest ended trip (bookings are
   * numbered in the order they were made). */
  guint nb = ft_booking_n (core->booking);
  for (guint id = 0; id < nb; id++)
    {
      const FtBookingRec *r = ft_booking_get (core->booking, id);
      if (r != NULL && r->state == FT_BK_ENDED && r->vehicle < nv)
        v[r->vehicle].trip_epoch = MAX (v[r->vehicle].trip_epoch, r->id);
    }
  *n_out = nv;
  return v;
}

GHashTable *
ft_gbfs_build (const FtGbfsExportInfo *info, const FtGbfsVehicleView *vehicles, guint n_vehicles,
               FtPricing *pricing, FtGeofences *geofences, GError **error)
{
  g_return_val_if_fail (info != NULL && (vehicles != NULL || n_vehicles == 0), NULL);
  const char *lang = info->language ? info->language : "en";
  const char *base = info->base_url ? info->base_url : "https://example.invalid/gbfs";
  g_autofree char *lu = NULL;
  guint8 random_key[32];
  const guint8 *key = info->id_key;
  gsize key_len = info->id_key_len;

  if (info->epoch_s < 0 || info->epoch_s > G_GINT64_CONSTANT (253402300799)
      || (lu = rfc3339 (info->epoch_s)) == NULL)
    {
      g_set_error (error, FT_GBFS_ERROR, FT_GBFS_ERROR_IO,
                   "the moment %" G_GINT64_FORMAT " s is outside the years 1970-9999 GBFS can state",
                   info->epoch_s);
      return NULL;
    }
  if (key == NULL || key_len == 0)
    {
      /* No key given: a fresh random one, so these ids link to nothing. */
      for (guint i = 0; i < sizeof random_key; i += 4)
        {
          guint32 r = g_random_int ();
          memcpy (random_key + i, &r, 4);
        }
      key = random_key;
      key_len = sizeof random_key;
    }

  GHashTable *docs = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  const char *feeds[] = { "system_information", "vehicle_types", "vehicle_status",
                          "system_pricing_plans", "geofencing_zones" };
  guint n_feeds = pricing == NULL ? 3 : geofences == NULL ? 4 : 5;

  /* gbfs.json: auto-discovery */
  {
    g_autoptr(JsonBuilder) b = json_builder_new ();
    json_builder_begin_object (b);
    json_builder_set_member_name (b, "feeds");
    json_builder_begin_array (b);
    for (guint i = 0; i < n_feeds; i++)
      {
        const char *name = feeds[i];
        g_autofree char *url = g_strdup_printf ("%s/%s.json", base, name);
        json_builder_begin_object (b);
        json_builder_set_member_name (b, "name");
        json_builder_add_string_value (b, name);
        json_builder_set_member_name (b, "url");
        json_builder_add_string_value (b, url);
        json_builder_end_object (b);
      }
    json_builder_end_array (b);
    json_builder_end_object (b);
    add_doc (docs, "gbfs", info, json_builder_get_root (b));
  }
  /* manifest.json */
  {
    g_autoptr(JsonBuilder) b = json_builder_new ();
    g_autofree char *url = g_strdup_printf ("%s/gbfs.json", base);
    json_builder_begin_object (b);
    json_builder_set_member_name (b, "datasets");
    json_builder_begin_array (b);
    json_builder_begin_object (b);
    json_builder_set_member_name (b, "system_id");
    json_builder_add_string_value (b, info->system_id);
    json_builder_set_member_name (b, "versions");
    json_builder_begin_array (b);
    json_builder_begin_object (b);
    json_builder_set_member_name (b, "version");
    json_builder_add_string_value (b, "3.0");
    json_builder_set_member_name (b, "url");
    json_builder_add_string_value (b, url);
    json_builder_end_object (b);
    json_builder_end_array (b);
    json_builder_end_object (b);
    json_builder_end_array (b);
    json_builder_end_object (b);
    add_doc (docs, "manifest", info, json_builder_get_root (b));
  }
  /* system_information.json */
  {
    g_autoptr(JsonBuilder) b = json_builder_new ();
    json_builder_begin_object (b);
    json_builder_set_member_name (b, "system_id");
    json_builder_add_string_value (b, info->system_id);
    json_builder_set_member_name (b, "languages");
    json_builder_begin_array (b);
    json_builder_add_string_value (b, lang);
    json_builder_end_array (b);
    add_localized (b, "name", info->name, lang);
    json_builder_set_member_name (b, "opening_hours");
    json_builder_add_string_value (b, "24/7");
    json_builder_set_member_name (b, "feed_contact_email");
    json_builder_add_string_value (b, info->email ? info->email : "gbfs@example.invalid");
    json_builder_set_member_name (b, "timezone");
    json_builder_add_string_value (b, info->timezone ? info->timezone : "Etc/UTC");
    json_builder_end_object (b);
    add_doc (docs, "system_information", info, json_builder_get_root (b));
  }
  /* vehicle_types.json */
  {
    g_autoptr(JsonBuilder) b = json_builder_new ();
    json_builder_begin_object (b);
    json_builder_set_member_name (b, "vehicle_types");
    json_builder_begin_array (b);
    for (int k = 0; k < FT_N_KINDS; k++)
      {
        const FtVehicleType *t = ft_vehicle_type_default ((FtVehicleKind) k);
        const FtPricingPlan *plan = pricing ? ft_pricing_plan_for (pricing, (guint) k) : NULL;
        json_builder_begin_object (b);
        json_builder_set_member_name (b, "vehicle_type_id");
        json_builder_add_string_value (b, t->id);
        json_builder_set_member_name (b, "form_factor");
        json_builder_add_string_value (b, form_factor ((FtVehicleKind) k));
        json_builder_set_member_name (b, "propulsion_type");
        json_builder_add_string_value (b, k == FT_KIND_BIKE ? "electric_assist" : "electric");
        json_builder_set_member_name (b, "max_range_meters");
        ft_json_builder_add_number (b, round (default_range_m ((FtVehicleKind) k)));
        add_localized (b, "name", t->id, lang);
        if (plan)
          {
            json_builder_set_member_name (b, "default_pricing_plan_id");
            json_builder_add_string_value (b, plan->plan_id);
          }
        json_builder_end_object (b);
      }
    json_builder_end_array (b);
    json_builder_end_object (b);
    add_doc (docs, "vehicle_types", info, json_builder_get_root (b));
  }
  /* vehicle_status.json: vehicles a rider could see (not on trip, not
   * removed). vehicle_id is not the device id: GBFS requires an id that
   * changes after every trip, so it is a keyed hash of the device id and
   * the vehicle's latest trip. Each names the plan variant that applies
   * where it stands (a zone's price multiplier, see ft_pricing_variant_id). */
  g_autoptr(GArray) mults = g_array_new (FALSE, FALSE, sizeof (double));
  {
    g_autoptr(JsonBuilder) b = json_builder_new ();
    json_builder_begin_object (b);
    json_builder_set_member_name (b, "vehicles");
    json_builder_begin_array (b);
    for (guint i = 0; i < n_vehicles; i++)
      {
        const FtGbfsVehicleView *v = &vehicles[i];
        if (v->state != FT_STATE_AVAILABLE && v->state != FT_STATE_RESERVED
            && v->state != FT_STATE_NON_OPERATIONAL)
          continue;
        const FtPricingPlan *plan = pricing ? ft_pricing_plan_for (pricing, v->kind) : NULL;
        g_autofree char *vid = ft_gbfs_public_vehicle_id (key, key_len, v->device_id, v->trip_epoch);
        json_builder_begin_object (b);
        json_builder_set_member_name (b, "vehicle_id");
        json_builder_add_string_value (b, vid);
        json_builder_set_member_name (b, "lat");
        ft_json_builder_add_number (b, round (v->pos.lat * 1e6) / 1e6);
        json_builder_set_member_name (b, "lon");
        ft_json_builder_add_number (b, round (v->pos.lon * 1e6) / 1e6);
        json_builder_set_member_name (b, "is_reserved");
        json_builder_add_boolean_value (b, v->state == FT_STATE_RESERVED);
        json_builder_set_member_name (b, "is_disabled");
        json_builder_add_boolean_value (b, v->state == FT_STATE_NON_OPERATIONAL);
        json_builder_set_member_name (b, "vehicle_type_id");
        json_builder_add_string_value (b, ft_vehicle_kind_id (v->kind));
        json_builder_set_member_name (b, "last_reported");
        json_builder_add_string_value (b, lu);
        json_builder_set_member_name (b, "current_range_meters");
        ft_json_builder_add_number (b, round (MAX (v->range_m, 0)));
        json_builder_set_member_name (b, "current_fuel_percent");
        ft_json_builder_add_number (b, round (CLAMP (v->soc, 0, 1) * 100) / 100);
        if (plan)
          {
            /* the plan variant for the price multiplier where it stands */
            double m = ft_pricing_zone_multiplier (pricing, v->pos)
                       * ft_pricing_dynamic_multiplier (pricing, v->pos, 0, v->kind);
            g_array_append_val (mults, m);
            g_autofree char *pid = ft_pricing_variant_id (plan->plan_id, m);
            json_builder_set_member_name (b, "pricing_plan_id");
            json_builder_add_string_value (b, pid);
          }
        json_builder_end_object (b);
      }
    json_builder_end_array (b);
    json_builder_end_object (b);
    add_doc (docs, "vehicle_status", info, json_builder_get_root (b));
  }
  if (pricing)
    add_doc (docs, "system_pricing_plans", info,
             ft_pricing_to_gbfs_data_multiplied (pricing, (const double *) mults->data, mults->len));
  if (pricing && geofences)
    add_doc (docs, "geofencing_zones", info, ft_geofences_to_gbfs_data (geofences));
  return docs;
}

gboolean
ft_gbfs_export (FtCore *core, const FtGbfsExportInfo *info, const char *out_dir, GError **error)
{
  g_return_val_if_fail (core != NULL && info != NULL && out_dir != NULL, FALSE);
  guint nv = 0;
  g_autofree FtGbfsVehicleView *views = ft_gbfs_core_views (core, &nv);
  g_autoptr(GError) berr = NULL;
  g_autoptr(GHashTable) docs = ft_gbfs_build (info, views, nv, core->pricing, core->geofences, &berr);
  if (docs == NULL)
    {
      g_set_error (error, FT_GBFS_ERROR, FT_GBFS_ERROR_IO, "%s: %s", out_dir, berr->message);
      return FALSE;
    }
  g_autoptr(GError) oerr = NULL;
  g_autoptr(FtOutput) output = ft_output_begin (out_dir, FT_OUTPUT_DIR, ft_output_dir_is_marked, info->force,
                                                &oerr);
  if (output == NULL)
    {
      g_set_error (error, FT_GBFS_ERROR, FT_GBFS_ERROR_IO, "%s", oerr->message);
      return FALSE;
    }
  GHashTableIter it;
  gpointer name, text;
  g_hash_table_iter_init (&it, docs);
  while (g_hash_table_iter_next (&it, &name, &text))
    {
      g_autofree char *path = g_strdup_printf ("%s/%s.json", ft_output_get_path (output), (char *) name);
      g_autoptr(GError) e = NULL;
      if (!g_file_set_contents (path, text, -1, &e))
        {
          g_set_error (error, FT_GBFS_ERROR, FT_GBFS_ERROR_IO, "%s: %s", path, e->message);
          return FALSE;   /* the output is removed when it goes out of scope */
        }
    }
  if (!ft_output_commit (g_steal_pointer (&output), &oerr))
    {
      g_set_error (error, FT_GBFS_ERROR, FT_GBFS_ERROR_IO, "%s", oerr->message);
      return FALSE;
    }
  return TRUE;
}
