/* ft-city-io.c — reading and writing city packs (see ft-city.h for the
 * folder layout). Loading builds a fresh FtCity and hands it over only when
 * every file parsed and the result passed ft_city_check(): errors name the
 * file and the line (roads.tsv), feature (GeoJSON) or field (JSON), and the
 * caller gets nothing half-loaded. Saving writes a temporary folder beside
 * the target and renames it into place. Numbers are written with
 * locale-independent formatting.
 */
#include "ft-city-private.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <glib/gstdio.h>
#include <json-glib/json-glib.h>
#include "ft-json.h"
#include "ft-file.h"

#define FT_CITY_FORMAT_VERSION 1

static gboolean
perr (GError **error, const char *fmt, ...) G_GNUC_PRINTF (2, 3);

static gboolean
perr (GError **error, const char *fmt, ...)
{
  va_list ap;
  va_start (ap, fmt);
  g_autofree char *msg = g_strdup_vprintf (fmt, ap);
  va_end (ap);
  g_set_error_literal (error, FT_CITY_ERROR, FT_CITY_ERROR_PARSE, msg);
  return FALSE;
}

/* ---- JSON helpers ----------------------------------------------------- */

static JsonNode *
load_json (const char *path, const char *fname, GError **error)
{
  g_autoptr(GError) local = NULL;
  if (!g_file_test (path, G_FILE_TEST_EXISTS))
    {
      g_set_error (error, FT_CITY_ERROR, FT_CITY_ERROR_IO, "%s: file is missing (%s)", fname, path);
      return NULL;
    }
  g_autoptr(JsonNode) root = ft_json_load_file (path, &local);
  if (root == NULL)
    {
      if (local->code == FT_JSON_ERROR_IO)
        g_set_error (error, FT_CITY_ERROR, FT_CITY_ERROR_IO, "%s: %s", fname, local->message);
      else
        perr (error, "%s: %s", fname, local->message);
      return NULL;
    }
  if (!JSON_NODE_HOLDS_OBJECT (root))
    {
      perr (error, "%s: the top level is not a JSON object", fname);
      return NULL;
    }
  return g_steal_pointer (&root);
}

static gboolean
get_str (JsonObject *o, const char *key, const char **out, const char *where, GError **error)
{
  JsonNode *n = json_object_get_member (o, key);
  *out = NULL;   /* set on every path (GCC -O3 otherwise sees callers read it unset) */
  if (n == NULL || !JSON_NODE_HOLDS_VALUE (n) || json_node_get_value_type (n) != G_TYPE_STRING)
    return perr (error, "%s: field \"%s\" is missing or not a string", where, key);
  *out = json_node_get_string (n);
  return TRUE;
}

static gboolean
get_num (JsonObject *o, const char *key, double *out, const char *where, GError **error)
{
  JsonNode *n = json_object_get_member (o, key);
  if (n == NULL || !JSON_NODE_HOLDS_VALUE (n) ||
      (json_node_get_value_type (n) != G_TYPE_DOUBLE && json_node_get_value_type (n) != G_TYPE_INT64))
    return perr (error, "%s: field \"%s\" is missing or not a number", where, key);
  *out = json_node_get_double (n);
  if (!isfinite (*out))
    return perr (error, "%s: field \"%s\" is not finite", where, key);
  return TRUE;
}

static gboolean
node_num (JsonNode *n, double *out)
{
  if (n == NULL || !JSON_NODE_HOLDS_VALUE (n) ||
      (json_node_get_value_type (n) != G_TYPE_DOUBLE && json_node_get_value_type (n) != G_TYPE_INT64))
    return FALSE;
  *out = json_node_get_double (n);
  return isfinite (*out);
}

static gboolean
get_latlon (JsonObject *o, const char *key, FtLatLon *out, const char *where, GError **error)
{
  JsonNode *n = json_object_get_member (o, key);
  if (n == NULL || !JSON_NODE_HOLDS_OBJECT (n))
    return perr (error, "%s: field \"%s\" is missing or not an object {lat, lon}", where, key);
  g_autofree char *w = g_strdup_printf ("%s: field \"%s\"", where, key);
  JsonObject *po = json_node_get_object (n);
  if (!get_num (po, "lat", &out->lat, w, error) || !get_num (po, "lon", &out->lon, w, error))
    return FALSE;
  if (out->lat < -90 || out->lat > 90 || out->lon < -180 || out->lon > 180)
    return perr (error, "%s: position %g,%g is outside WGS84 range", w, out->lat, out->lon);
  return TRUE;
}

static JsonNode *
latlon_node (FtLatLon p)
{
  JsonObject *o = json_object_new ();
  json_object_set_double_member (o, "lat", p.lat);
  json_object_set_double_member (o, "lon", p.lon);
  JsonNode *n = json_node_new (JSON_NODE_OBJECT);
  json_node_take_object (n, o);
  return n;
}

/* ---- city.json -------------------------------------------------------- */

static gboolean
load_city_json (FtCity *c, const char *dir, GError **error)
{
  g_autofree char *path = g_build_filename (dir, "city.json", NULL);
  g_autoptr(JsonNode) root = load_json (path, "city.json", error);
  if (root == NULL)
    return FALSE;
  JsonObject *o = json_node_get_object (root);
  const char *w = "city.json";
  double ver, off;
  const char *id, *name, *cur;
  if (!get_num (o, "format_version", &ver, w, error))
    return FALSE;
  if (ver != FT_CITY_FORMAT_VERSION)
    return perr (error, "city.json: format_version %g is not supported (this build reads %d)",
                 ver, FT_CITY_FORMAT_VERSION);
  if (!get_str (o, "id", &id, w, error) || !get_str (o, "name", &name, w, error) ||
      !get_str (o, "currency", &cur, w, error) || !get_num (o, "utc_offset_min", &off, w, error) ||
      !get_latlon (o, "center", &c->center, w, error))
    return FALSE;
  if (strlen (cur) != 3)
    return perr (error, "city.json: field \"currency\": \"%s\" is not a 3-letter code", cur);
  if (fabs (off) > 14 * 60)
    return perr (error, "city.json: field \"utc_offset_min\": %g is out of range", off);
  c->id = g_strdup (id);
  c->name = g_strdup (name);
  memcpy (c->currency, cur, 4);
  c->utc_offset_min = (int) off;
  JsonNode *bn = json_object_get_member (o, "bbox");
  if (bn == NULL || !JSON_NODE_HOLDS_OBJECT (bn))
    return perr (error, "city.json: field \"bbox\" is missing or not an object");
  JsonObject *bo = json_node_get_object (bn);
  if (!get_num (bo, "min_lat", &c->bbox.min_lat, "city.json: bbox", error) ||
      !get_num (bo, "min_lon", &c->bbox.min_lon, "city.json: bbox", error) ||
      !get_num (bo, "max_lat", &c->bbox.max_lat, "city.json: bbox", error) ||
      !get_num (bo, "max_lon", &c->bbox.max_lon, "city.json: bbox", error))
    return FALSE;
  if (!(c->bbox.min_lat <= c->bbox.max_lat && c->bbox.min_lon <= c->bbox.max_lon))
    return perr (error, "city.json: bbox is empty or inverted");
  JsonNode *oa = json_object_get_member (o, "operating_area");
  if (oa != NULL && !JSON_NODE_HOLDS_NULL (oa))
    {
      g_autoptr(GError) local = NULL;
      c->operating_area = ft_multipolygon_from_geojson (oa, &local);
      if (c->operating_area == NULL)
        return perr (error, "city.json: field \"operating_area\": %s", local->message);
    }
  JsonNode *dn = json_object_get_member (o, "depots");
  if (dn == NULL || !JSON_NODE_HOLDS_ARRAY (dn))
    return perr (error, "city.json: field \"depots\" is missing or not an array");
  JsonArray *da = json_node_get_array (dn);
  c->n_depots = json_array_get_length (da);
  c->depots = g_new0 (FtDepot, MAX (c->n_depots, 1));
  for (guint i = 0; i < c->n_depots; i++)
    {
      JsonNode *e = json_array_get_element (da, i);
      g_autofree char *dw = g_strdup_printf ("city.json: depots[%u]", i);
      if (!JSON_NODE_HOLDS_OBJECT (e))
        return perr (error, "%s is not an object", dw);
      JsonObject *eo = json_node_get_object (e);
      const char *did, *dname;
      double ch, st;
      if (!get_str (eo, "id", &did, dw, error) || !get_str (eo, "name", &dname, dw, error) ||
          !get_latlon (eo, "pos", &c->depots[i].pos, dw, error) ||
          !get_num (eo, "chargers", &ch, dw, error) || !get_num (eo, "pack_stock", &st, dw, error))
        return FALSE;
      if (ch < 0 || st < 0 || ch > 1e6 || st > 1e6 || ch != floor (ch) || st != floor (st))
        return perr (error, "%s (%s): chargers and pack_stock must be whole numbers >= 0", dw, did);
      c->depots[i].id = g_strdup (did);
      c->depots[i].name = g_strdup (dname);
      c->depots[i].chargers = (guint) ch;
      c->depots[i].pack_stock = (guint) st;
    }
  return TRUE;
}

static gboolean
save_city_json (const FtCity *c, const char *dir, GError **error)
{
  g_autoptr(JsonBuilder) b = json_builder_new ();
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "format_version");
  json_builder_add_int_value (b, FT_CITY_FORMAT_VERSION);
  json_builder_set_member_name (b, "id");
  json_builder_add_string_value (b, c->id);
  json_builder_set_member_name (b, "name");
  json_builder_add_string_value (b, c->name);
  json_builder_set_member_name (b, "currency");
  json_builder_add_string_value (b, c->currency);
  json_builder_set_member_name (b, "utc_offset_min");
  json_builder_add_int_value (b, c->utc_offset_min);
  json_builder_set_member_name (b, "center");
  json_builder_add_value (b, latlon_node (c->center));
  json_builder_set_member_name (b, "bbox");
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "min_lat"); ft_json_builder_add_number (b, c->bbox.min_lat);
  json_builder_set_member_name (b, "min_lon"); ft_json_builder_add_number (b, c->bbox.min_lon);
  json_builder_set_member_name (b, "max_lat"); ft_json_builder_add_number (b, c->bbox.max_lat);
  json_builder_set_member_name (b, "max_lon"); ft_json_builder_add_number (b, c->bbox.max_lon);
  json_builder_end_object (b);
  json_builder_set_member_name (b, "operating_area");
  if (c->operating_area)
    json_builder_add_value (b, ft_multipolygon_to_geojson (c->operating_area));
  else
    json_builder_add_null_value (b);
  json_builder_set_member_name (b, "depots");
  json_builder_begin_array (b);
  for (guint i = 0; i < c->n_depots; i++)
    {
      const FtDepot *d = &c->depots[i];
      json_builder_begin_object (b);
      json_builder_set_member_name (b, "id"); json_builder_add_string_value (b, d->id);
      json_builder_set_member_name (b, "name"); json_builder_add_string_value (b, d->name ? d->name : d->id);
      json_builder_set_member_name (b, "pos"); json_builder_add_value (b, latlon_node (d->pos));
      json_builder_set_member_name (b, "chargers"); json_builder_add_int_value (b, d->chargers);
      json_builder_set_member_name (b, "pack_stock"); json_builder_add_int_value (b, d->pack_stock);
      json_builder_end_object (b);
    }
  json_builder_end_array (b);
  json_builder_end_object (b);
  g_autoptr(JsonGenerator) gen = json_generator_new ();
  g_autoptr(JsonNode) root = json_builder_get_root (b);
  json_generator_set_root (gen, root);
  json_generator_set_pretty (gen, TRUE);
  g_autofree char *path = g_build_filename (dir, "city.json", NULL);
  return json_generator_to_file (gen, path, error);
}

/* ---- zones.geojson / landuse.geojson ----------------------------------- */

static gboolean
load_zones (FtCity *c, const char *dir, GError **error)
{
  g_autofree char *path = g_build_filename (dir, "zones.geojson", NULL);
  g_autoptr(JsonNode) root = load_json (path, "zones.geojson", error);
  if (root == NULL)
    return FALSE;
  JsonObject *o = json_node_get_object (root);
  JsonNode *fn = json_object_get_member (o, "features");
  if (fn == NULL || !JSON_NODE_HOLDS_ARRAY (fn))
    return perr (error, "zones.geojson: not a FeatureCollection (no \"features\" array)");
  JsonArray *fa = json_node_get_array (fn);
  if (json_array_get_length (fa) > FT_CITY_MAX_ZONES)
    return perr (error, "zones.geojson: %u zones; a city pack holds at most %u",
                 json_array_get_length (fa), FT_CITY_MAX_ZONES);
  c->n_zones = json_array_get_length (fa);
  c->zones = g_new0 (FtZone, MAX (c->n_zones, 1));
  for (guint i = 0; i < c->n_zones; i++)
    {
      JsonNode *f = json_array_get_element (fa, i);
      g_autofree char *fw = g_strdup_printf ("zones.geojson: feature %u", i);
      if (!JSON_NODE_HOLDS_OBJECT (f))
        return perr (error, "%s is not an object", fw);
      JsonObject *fo = json_node_get_object (f);
      JsonNode *pn = json_object_get_member (fo, "properties");
      if (pn == NULL || !JSON_NODE_HOLDS_OBJECT (pn))
        return perr (error, "%s has no \"properties\" object", fw);
      JsonObject *po = json_node_get_object (pn);
      const char *id, *name, *kind;
      double pm;
      if (!get_str (po, "id", &id, fw, error))
        return FALSE;
      g_autofree char *fw2 = g_strdup_printf ("%s (id \"%s\")", fw, id);
      if (!get_str (po, "name", &name, fw2, error) || !get_str (po, "kind", &kind, fw2, error) ||
          !get_num (po, "pricing_multiplier", &pm, fw2, error))
        return FALSE;
      FtZone *z = &c->zones[i];
      if (!ft_zone_kind_from_name (kind, &z->kind))
        return perr (error, "%s: field \"kind\": \"%s\" is not a zone kind", fw2, kind);
      if (!(pm > 0 && pm < 100))
        return perr (error, "%s: field \"pricing_multiplier\": %g must be above 0", fw2, pm);
      JsonNode *gn = json_object_get_member (fo, "geometry");
      if (gn == NULL || !JSON_NODE_HOLDS_OBJECT (gn))
        return perr (error, "%s: field \"geometry\" is missing", fw2);
      g_autoptr(GError) local = NULL;
      z->area = ft_multipolygon_from_geojson (gn, &local);
      if (z->area == NULL)
        return perr (error, "%s: geometry: %s", fw2, local->message);
      if (z->area->n_polys == 0)
        return perr (error, "%s: geometry is empty", fw2);
      z->id = g_strdup (id);
      z->name = g_strdup (name);
      z->pricing_multiplier = pm;
      z->centroid = ft_multipolygon_centroid (z->area);
      z->area_km2 = ft_multipolygon_area_m2 (z->area) / 1e6;
    }
  return TRUE;
}

static JsonNode *
feature_node (JsonNode *geometry, JsonObject *props)
{
  JsonObject *f = json_object_new ();
  json_object_set_string_member (f, "type", "Feature");
  json_object_set_object_member (f, "properties", props);
  json_object_set_member (f, "geometry", geometry);
  JsonNode *n = json_node_new (JSON_NODE_OBJECT);
  json_node_take_object (n, f);
  return n;
}

static gboolean
write_collection (JsonArray *features, const char *dir, const char *fname, GError **error)
{
  JsonObject *fc = json_object_new ();
  json_object_set_string_member (fc, "type", "FeatureCollection");
  json_object_set_array_member (fc, "features", features);
  g_autoptr(JsonNode) root = json_node_new (JSON_NODE_OBJECT);
  json_node_take_object (root, fc);
  g_autoptr(JsonGenerator) gen = json_generator_new ();
  json_generator_set_root (gen, root);
  g_autofree char *path = g_build_filename (dir, fname, NULL);
  return json_generator_to_file (gen, path, error);
}

static gboolean
save_zones (const FtCity *c, const char *dir, GError **error)
{
  JsonArray *fa = json_array_new ();
  for (guint i = 0; i < c->n_zones; i++)
    {
      const FtZone *z = &c->zones[i];
      JsonObject *p = json_object_new ();
      json_object_set_string_member (p, "id", z->id);
      json_object_set_string_member (p, "name", z->name ? z->name : z->id);
      json_object_set_string_member (p, "kind", ft_zone_kind_name (z->kind));
      json_object_set_double_member (p, "pricing_multiplier", z->pricing_multiplier);
      json_array_add_element (fa, feature_node (ft_multipolygon_to_geojson (z->area), p));
    }
  return write_collection (fa, dir, "zones.geojson", error);
}

static gboolean
load_landuse (FtCity *c, const char *dir, GError **error)
{
  g_autofree char *path = g_build_filename (dir, "landuse.geojson", NULL);
  if (!g_file_test (path, G_FILE_TEST_EXISTS))
    return TRUE;   /* optional */
  g_autoptr(JsonNode) root = load_json (path, "landuse.geojson", error);
  if (root == NULL)
    return FALSE;
  JsonNode *fn = json_object_get_member (json_node_get_object (root), "features");
  if (fn == NULL || !JSON_NODE_HOLDS_ARRAY (fn))
    return perr (error, "landuse.geojson: not a FeatureCollection (no \"features\" array)");
  JsonArray *fa = json_node_get_array (fn);
  for (guint i = 0; i < json_array_get_length (fa); i++)
    {
      JsonNode *f = json_array_get_element (fa, i);
      g_autofree char *fw = g_strdup_printf ("landuse.geojson: feature %u", i);
      if (!JSON_NODE_HOLDS_OBJECT (f))
        return perr (error, "%s is not an object", fw);
      JsonObject *fo = json_node_get_object (f);
      JsonNode *pn = json_object_get_member (fo, "properties");
      if (pn == NULL || !JSON_NODE_HOLDS_OBJECT (pn))
        return perr (error, "%s has no \"properties\" object", fw);
      const char *kind;
      if (!get_str (json_node_get_object (pn), "kind", &kind, fw, error))
        return FALSE;
      FtMultiPolygon **dst;
      if (strcmp (kind, "water") == 0)
        dst = &c->water;
      else if (strcmp (kind, "park") == 0)
        dst = &c->parks;
      else
        return perr (error, "%s: field \"kind\": \"%s\" is neither \"water\" nor \"park\"", fw, kind);
      JsonNode *gn = json_object_get_member (fo, "geometry");
      if (gn == NULL || !JSON_NODE_HOLDS_OBJECT (gn))
        return perr (error, "%s: field \"geometry\" is missing", fw);
      g_autoptr(GError) local = NULL;
      g_autoptr(FtMultiPolygon) mp = ft_multipolygon_from_geojson (gn, &local);
      if (mp == NULL)
        return perr (error, "%s: geometry: %s", fw, local->message);
      if (*dst == NULL)
        *dst = ft_multipolygon_new ();
      for (guint p = 0; p < mp->n_polys; p++)
        {
          const FtPolygon *poly = &mp->polys[p];
          if (poly->n_rings == 0)
            continue;
          guint k = ft_multipolygon_add_ring (*dst, poly->rings[0].pts, poly->rings[0].n);
          for (guint r = 1; r < poly->n_rings; r++)
            ft_multipolygon_add_hole (*dst, k, poly->rings[r].pts, poly->rings[r].n);
        }
    }
  return TRUE;
}

static gboolean
save_landuse (const FtCity *c, const char *dir, GError **error)
{
  if (c->water == NULL && c->parks == NULL)
    return TRUE;
  JsonArray *fa = json_array_new ();
  const FtMultiPolygon *mps[2] = { c->water, c->parks };
  const char *kinds[2] = { "water", "park" };
  for (guint k = 0; k < 2; k++)
    if (mps[k] != NULL && mps[k]->n_polys > 0)
      {
        JsonObject *p = json_object_new ();
        json_object_set_string_member (p, "kind", kinds[k]);
        json_array_add_element (fa, feature_node (ft_multipolygon_to_geojson (mps[k]), p));
      }
  return write_collection (fa, dir, "landuse.geojson", error);
}

/* ---- geofencing_zones.json ------------------------------------------- */

static gboolean
load_geofences (FtCity *c, const char *dir, GError **error)
{
  g_autofree char *path = g_build_filename (dir, "geofencing_zones.json", NULL);
  if (!g_file_test (path, G_FILE_TEST_EXISTS))
    {
      g_set_error (error, FT_CITY_ERROR, FT_CITY_ERROR_IO,
                   "geofencing_zones.json: file is missing (%s)", path);
      return FALSE;
    }
  g_autoptr(GError) local = NULL;
  c->geofences = ft_geofences_load_gbfs (path, &local);
  if (c->geofences == NULL)
    return perr (error, "geofencing_zones.json: %s", local ? local->message : "cannot be read");
  return TRUE;
}

static gboolean
save_geofences (const FtCity *c, const char *dir, GError **error)
{
  g_autoptr(FtGeofences) empty = NULL;
  const FtGeofences *g = c->geofences;
  if (g == NULL)
    g = empty = ft_geofences_new ();
  JsonObject *o = json_object_new ();
  json_object_set_string_member (o, "last_updated", "1970-01-01T00:00:00+00:00");
  json_object_set_int_member (o, "ttl", 0);
  json_object_set_string_member (o, "version", "3.0");
  json_object_set_member (o, "data", ft_geofences_to_gbfs_data (g));
  g_autoptr(JsonNode) root = json_node_new (JSON_NODE_OBJECT);
  json_node_take_object (root, o);
  g_autoptr(JsonGenerator) gen = json_generator_new ();
  json_generator_set_root (gen, root);
  json_generator_set_pretty (gen, TRUE);
  g_autofree char *path = g_build_filename (dir, "geofencing_zones.json", NULL);
  return json_generator_to_file (gen, path, error);
}

/* ---- roads.tsv -------------------------------------------------------- */

static gboolean
parse_double (const char *s, double *out)
{
  char *end = NULL;
  errno = 0;
  *out = g_ascii_strtod (s, &end);
  return end != s && *end == '\0' && errno == 0 && isfinite (*out);
}

static gboolean
parse_uint (const char *s, guint64 *out)
{
  return g_ascii_string_to_unsigned (s, 10, 0, G_MAXUINT32 - 1, out, NULL);
}

static gboolean
load_roads (FtCity *c, const char *dir, GError **error)
{
  g_autofree char *path = g_build_filename (dir, "roads.tsv", NULL);
  g_autofree char *text = NULL;
  gsize len = 0;
  g_autoptr(GError) local = NULL;
  if (!ft_file_read (path, FT_JSON_MAX_SIZE, &text, &len, &local))
    {
      g_set_error (error, FT_CITY_ERROR, FT_CITY_ERROR_IO, "roads.tsv: %s", local->message);
      return FALSE;
    }
  if (memchr (text, '\0', len) != NULL)
    return perr (error, "roads.tsv: contains a NUL byte (binary file?)");
  g_autoptr(GArray) nodes = g_array_new (FALSE, FALSE, sizeof (FtLatLon));
  g_autoptr(GArray) streets = g_array_new (FALSE, FALSE, sizeof (FtStreet));
  char *next = text;
  guint lineno = 0;
  gboolean in_edges = FALSE;
  while (next != NULL && *next != '\0')
    {
      char *line = next;
      char *nl = strchr (line, '\n');
      if (nl)
        *nl = '\0';
      next = nl ? nl + 1 : NULL;
      lineno++;
      gsize ll = strlen (line);
      if (ll > 0 && line[ll - 1] == '\r')
        line[--ll] = '\0';
      if (ll == 0 || line[0] == '#')
        continue;
      g_auto(GStrv) f = g_strsplit (line, "\t", -1);
      guint nf = g_strv_length (f);
      if (strcmp (f[0], "N") == 0)
        {
          if (in_edges)
            return perr (error, "roads.tsv:%u: node line after the first edge line", lineno);
          FtLatLon p;
          if (nf != 3 || !parse_double (f[1], &p.lat) || !parse_double (f[2], &p.lon))
            return perr (error, "roads.tsv:%u: expected \"N<TAB>lat<TAB>lon\"", lineno);
          if (p.lat < -90 || p.lat > 90 || p.lon < -180 || p.lon > 180)
            return perr (error, "roads.tsv:%u: node %u at %g,%g is outside WGS84 range",
                         lineno, nodes->len, p.lat, p.lon);
          g_array_append_val (nodes, p);
        }
      else if (strcmp (f[0], "E") == 0)
        {
          in_edges = TRUE;
          guint64 a, b, ow;
          double len_m;
          FtRoadClass cls;
          if (nf != 6 || !parse_uint (f[1], &a) || !parse_uint (f[2], &b) ||
              !parse_double (f[3], &len_m) || !parse_uint (f[5], &ow))
            return perr (error, "roads.tsv:%u: expected \"E<TAB>from<TAB>to<TAB>length_m<TAB>class<TAB>oneway\"",
                         lineno);
          if (a >= nodes->len || b >= nodes->len)
            return perr (error, "roads.tsv:%u: edge refers to node %" G_GUINT64_FORMAT
                         " but only %u nodes are listed", lineno, MAX (a, b), nodes->len);
          if (len_m < 0 || len_m > 1e6)
            return perr (error, "roads.tsv:%u: length %g m is out of range", lineno, len_m);
          if (!ft_road_class_from_name (f[4], &cls))
            return perr (error, "roads.tsv:%u: \"%s\" is not a road class", lineno, f[4]);
          if (ow > 1)
            return perr (error, "roads.tsv:%u: oneway must be 0 or 1", lineno);
          FtStreet s = { (guint32) a, (guint32) b, (float) len_m, (guint8) cls, (guint8) ow };
          g_array_append_val (streets, s);
        }
      else
        return perr (error, "roads.tsv:%u: line starts with \"%s\", expected N or E", lineno, f[0]);
    }
  if (nodes->len == 0)
    return perr (error, "roads.tsv: no nodes");
  ft_road_graph_build (&c->graph, (FtLatLon *) nodes->data, nodes->len,
                       (FtStreet *) streets->data, streets->len);
  return TRUE;
}

static gboolean
save_roads (const FtCity *c, const char *dir, GError **error)
{
  const FtRoadGraph *g = &c->graph;
  g_autoptr(GString) s = g_string_sized_new (64 * (g->n_nodes + g->n_edges) + 64);
  char b1[G_ASCII_DTOSTR_BUF_SIZE], b2[G_ASCII_DTOSTR_BUF_SIZE];
  g_string_append (s, "# Fleet Twin road graph: N lat lon (node index = order), then\n"
                      "# E from to length_m class oneway (a two-way street is one line)\n");
  for (guint v = 0; v < g->n_nodes; v++)
    g_string_append_printf (s, "N\t%s\t%s\n",
                            g_ascii_formatd (b1, sizeof b1, "%.8f", g->nodes[v].lat),
                            g_ascii_formatd (b2, sizeof b2, "%.8f", g->nodes[v].lon));
  /* A two-way street appears as u->v and v->u; write it once, from the
   * smaller index, pairing copies so parallel streets survive. */
  for (guint u = 0; u < g->n_nodes; u++)
    {
      guint self_loops = 0;
      for (guint32 e = g->first_edge[u]; e < g->first_edge[u + 1]; e++)
        {
          const FtEdge *ed = &g->edges[e];
          gboolean oneway = (ed->flags & FT_EDGE_ONEWAY) != 0;
          if (!oneway && ed->to < u)
            continue;   /* written from the other end */
          if (!oneway && ed->to == u && (self_loops++ % 2) == 1)
            continue;   /* a two-way self loop appears twice at u */
        g_string_append_printf (s, "E\t%u\t%u\t%s\t%s\t%d\n", u, ed->to,
                                g_ascii_formatd (b1, sizeof b1, "%.3f", ed->length_m),
                                ft_road_class_name (ed->road_class), oneway ? 1 : 0);
        }
    }
  g_autofree char *path = g_build_filename (dir, "roads.tsv", NULL);
  return g_file_set_contents (path, s->str, (gssize) s->len, error);
}

/* ---- demand.json ------------------------------------------------------ */

static const char *const band_names[FT_DEMAND_N_BANDS] = { "morning", "midday", "evening", "night" };

static gboolean
load_demand (FtCity *c, const char *dir, GError **error)
{
  g_autofree char *path = g_build_filename (dir, "demand.json", NULL);
  g_autoptr(JsonNode) root = load_json (path, "demand.json", error);
  if (root == NULL)
    return FALSE;
  JsonObject *o = json_node_get_object (root);
  FtDemandProfile *d = &c->demand;
  if (!get_num (o, "weather_multiplier", &d->weather_multiplier, "demand.json", error) ||
      !get_num (o, "mean_trip_m", &d->mean_trip_m, "demand.json", error))
    return FALSE;
  if (d->weather_multiplier < 0)
    return perr (error, "demand.json: field \"weather_multiplier\" is negative");
  JsonNode *zn = json_object_get_member (o, "zones");
  if (zn == NULL || !JSON_NODE_HOLDS_ARRAY (zn))
    return perr (error, "demand.json: field \"zones\" is missing or not an array");
  JsonArray *za = json_node_get_array (zn);
  guint nz = json_array_get_length (za);
  if (nz != c->n_zones)
    return perr (error, "demand.json: field \"zones\" lists %u zones but zones.geojson has %u",
                 nz, c->n_zones);
  d->n_zones = nz;
  d->rate = g_new0 (double, MAX ((gsize) nz * 168, 1));
  d->dest = g_new0 (double, MAX ((gsize) FT_DEMAND_N_BANDS * nz * nz, 1));
  for (guint i = 0; i < nz; i++)
    {
      JsonNode *e = json_array_get_element (za, i);
      g_autofree char *w = g_strdup_printf ("demand.json: zones[%u]", i);
      if (!JSON_NODE_HOLDS_OBJECT (e))
        return perr (error, "%s is not an object", w);
      JsonObject *eo = json_node_get_object (e);
      const char *id;
      if (!get_str (eo, "id", &id, w, error))
        return FALSE;
      if (strcmp (id, c->zones[i].id) != 0)
        return perr (error, "%s: id \"%s\" does not match zone %u of zones.geojson (\"%s\")",
                     w, id, i, c->zones[i].id);
      JsonNode *rn = json_object_get_member (eo, "rate");
      if (rn == NULL || !JSON_NODE_HOLDS_ARRAY (rn) || json_array_get_length (json_node_get_array (rn)) != 168)
        return perr (error, "%s (id \"%s\"): field \"rate\" must be an array of 168 numbers", w, id);
      JsonArray *ra = json_node_get_array (rn);
      for (guint h = 0; h < 168; h++)
        if (!node_num (json_array_get_element (ra, h), &d->rate[i * 168 + h]) || d->rate[i * 168 + h] < 0)
          return perr (error, "%s (id \"%s\"): rate[%u] is not a number >= 0", w, id, h);
      JsonNode *dn = json_object_get_member (eo, "dest");
      if (dn == NULL || !JSON_NODE_HOLDS_OBJECT (dn))
        return perr (error, "%s (id \"%s\"): field \"dest\" is missing or not an object", w, id);
      JsonObject *dobj = json_node_get_object (dn);
      for (guint b = 0; b < FT_DEMAND_N_BANDS; b++)
        {
          JsonNode *bn = json_object_get_member (dobj, band_names[b]);
          if (bn == NULL || !JSON_NODE_HOLDS_ARRAY (bn) || json_array_get_length (json_node_get_array (bn)) != nz)
            return perr (error, "%s (id \"%s\"): dest.%s must be an array of %u numbers",
                         w, id, band_names[b], nz);
          JsonArray *ba = json_node_get_array (bn);
          for (guint t = 0; t < nz; t++)
            {
              double *slot = &d->dest[((gsize) b * nz + i) * nz + t];
              if (!node_num (json_array_get_element (ba, t), slot) || *slot < 0)
                return perr (error, "%s (id \"%s\"): dest.%s[%u] is not a number >= 0",
                             w, id, band_names[b], t);
            }
        }
    }
  return TRUE;
}

static gboolean
save_demand (const FtCity *c, const char *dir, GError **error)
{
  const FtDemandProfile *d = &c->demand;
  guint nz = d->n_zones;
  g_autoptr(GString) s = g_string_new ("{\n");
  char b[G_ASCII_DTOSTR_BUF_SIZE];
  g_string_append_printf (s, "  \"weather_multiplier\": %s,\n",
                          g_ascii_dtostr (b, sizeof b, d->weather_multiplier));
  g_string_append_printf (s, "  \"mean_trip_m\": %s,\n", g_ascii_formatd (b, sizeof b, "%.1f", d->mean_trip_m));
  g_string_append_printf (s, "  \"requests_per_day\": %s,\n",
                          g_ascii_formatd (b, sizeof b, "%.1f", ft_demand_profile_per_day (d)));
  g_string_append (s, "  \"hour_of_week\": \"rate[h]: requests per hour, h = 0 is Monday 00:00 local\",\n");
  g_string_append (s, "  \"zones\": [\n");
  for (guint i = 0; i < nz; i++)
    {
      g_autoptr(JsonNode) idn = json_node_init_string (json_node_alloc (), c->zones[i].id);
      g_autofree char *idq = json_to_string (idn, FALSE);
      g_string_append_printf (s, "    {\"id\": %s,\n     \"rate\": [", idq);
      for (guint h = 0; h < 168; h++)
        g_string_append_printf (s, "%s%s", h ? "," : "", g_ascii_formatd (b, sizeof b, "%.6g", d->rate[i * 168 + h]));
      g_string_append (s, "],\n     \"dest\": {");
      for (guint bd = 0; bd < FT_DEMAND_N_BANDS; bd++)
        {
          g_string_append_printf (s, "%s\"%s\": [", bd ? ", " : "", band_names[bd]);
          for (guint t = 0; t < nz; t++)
            g_string_append_printf (s, "%s%s", t ? "," : "",
                                    g_ascii_formatd (b, sizeof b, "%.6g", d->dest[((gsize) bd * nz + i) * nz + t]));
          g_string_append (s, "]");
        }
      g_string_append_printf (s, "}}%s\n", i + 1 < nz ? "," : "");
    }
  g_string_append (s, "  ]\n}\n");
  g_autofree char *path = g_build_filename (dir, "demand.json", NULL);
  return g_file_set_contents (path, s->str, (gssize) s->len, error);
}

/* ---- load / save ------------------------------------------------------ */

FtCity *
ft_city_load (const char *dir, GError **error)
{
  g_return_val_if_fail (dir != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);
  if (!g_file_test (dir, G_FILE_TEST_IS_DIR))
    {
      g_set_error (error, FT_CITY_ERROR, FT_CITY_ERROR_IO,
                   "%s: not a folder (a city pack is a folder holding city.json, zones.geojson, …)", dir);
      return NULL;
    }
  g_autoptr(FtCity) c = g_new0 (FtCity, 1);
  g_autoptr(GError) local = NULL;
  if (!load_city_json (c, dir, &local) || !load_zones (c, dir, &local) ||
      !load_geofences (c, dir, &local) || !load_roads (c, dir, &local) ||
      !load_demand (c, dir, &local) || !load_landuse (c, dir, &local))
    {
      g_set_error (error, FT_CITY_ERROR, local->domain == FT_CITY_ERROR ? local->code : FT_CITY_ERROR_PARSE,
                   "city pack %s: %s", dir, local->message);
      return NULL;
    }
  if (!ft_city_check (c, &local))
    {
      g_set_error (error, FT_CITY_ERROR, FT_CITY_ERROR_INVALID, "city pack %s: %s", dir, local->message);
      return NULL;
    }
  c->dir = g_strdup (dir);
  g_autofree char *tiles = g_build_filename (dir, "tiles.mbtiles", NULL);
  if (g_file_test (tiles, G_FILE_TEST_IS_REGULAR))
    c->tiles_path = g_steal_pointer (&tiles);
  ft_city_build_index (c);
  return g_steal_pointer (&c);
}

static gboolean
copy_file (const char *src, const char *dst, GError **error)
{
  FILE *in = fopen (src, "rb");
  if (in == NULL)
    {
      g_set_error (error, FT_CITY_ERROR, FT_CITY_ERROR_IO, "cannot read %s: %s", src, g_strerror (errno));
      return FALSE;
    }
  FILE *out = fopen (dst, "wb");
  if (out == NULL)
    {
      int e = errno;
      fclose (in);
      g_set_error (error, FT_CITY_ERROR, FT_CITY_ERROR_IO, "cannot write %s: %s", dst, g_strerror (e));
      return FALSE;
    }
  char buf[1 << 16];
  size_t n;
  gboolean ok = TRUE;
  while ((n = fread (buf, 1, sizeof buf, in)) > 0)
    if (fwrite (buf, 1, n, out) != n)
      {
        ok = FALSE;
        break;
      }
  if (ferror (in))
    ok = FALSE;
  fclose (in);
  if (fclose (out) != 0)
    ok = FALSE;
  if (!ok)
    g_set_error (error, FT_CITY_ERROR, FT_CITY_ERROR_IO, "copying %s to %s failed", src, dst);
  return ok;
}

gboolean
ft_city_pack_is_own (const char *dir)
{
  g_autofree char *cj = g_build_filename (dir, "city.json", NULL);
  return ft_output_dir_is_marked (dir) || g_file_test (cj, G_FILE_TEST_IS_REGULAR);
}

gboolean
ft_city_write_pack (const FtCity *city, const char *dir, GError **error)
{
  g_return_val_if_fail (city != NULL && dir != NULL, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);
  g_autoptr(GError) local = NULL;
  if (!ft_city_check (city, &local))
    {
      g_set_error (error, FT_CITY_ERROR, FT_CITY_ERROR_INVALID, "not saving city: %s", local->message);
      return FALSE;
    }
  gboolean ok = save_city_json (city, dir, &local) && save_zones (city, dir, &local) &&
                save_geofences (city, dir, &local) && save_roads (city, dir, &local) &&
                save_demand (city, dir, &local) && save_landuse (city, dir, &local);
  if (ok && city->tiles_path != NULL && g_file_test (city->tiles_path, G_FILE_TEST_IS_REGULAR))
    {
      g_autofree char *dst = g_build_filename (dir, "tiles.mbtiles", NULL);
      /* Tiles baked straight into the pack need no copy. */
      g_autoptr(GFile) a = g_file_new_for_path (city->tiles_path);
      g_autoptr(GFile) b = g_file_new_for_path (dst);
      if (!g_file_equal (a, b))
        ok = copy_file (city->tiles_path, dst, &local);
    }
  if (!ok)
    {
      g_set_error (error, FT_CITY_ERROR, FT_CITY_ERROR_IO, "saving city pack %s: %s", dir, local->message);
      return FALSE;
    }
  return TRUE;
}

gboolean
ft_city_save (const FtCity *city, const char *dir, GError **error)
{
  g_return_val_if_fail (city != NULL && dir != NULL, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);
  g_autoptr(GError) local = NULL;
  if (!ft_city_check (city, &local))
    {
      g_set_error (error, FT_CITY_ERROR, FT_CITY_ERROR_INVALID, "not saving city: %s", local->message);
      return FALSE;
    }
  g_autoptr(FtOutput) out = ft_output_begin (dir, FT_OUTPUT_DIR, ft_city_pack_is_own, FALSE, &local);
  if (out == NULL)
    {
      if (g_error_matches (local, FT_FILE_ERROR, FT_FILE_ERROR_NOT_OURS))
        g_set_error (error, FT_CITY_ERROR, FT_CITY_ERROR_IO,
                     "%s exists and is not a city pack: refusing to replace it (%s)", dir, local->message);
      else
        g_set_error (error, FT_CITY_ERROR, FT_CITY_ERROR_IO, "%s", local->message);
      return FALSE;
    }
  if (!ft_city_write_pack (city, ft_output_get_path (out), error))
    return FALSE;
  if (!ft_output_commit (g_steal_pointer (&out), &local))
    {
      g_set_error (error, FT_CITY_ERROR, FT_CITY_ERROR_IO, "%s", local->message);
      return FALSE;
    }
  return TRUE;
}
