/* ft-geofence-import.c — policy geometry in: GeoJSON FeatureCollections
 * with a zone type per feature, MDS Geography records (one geography, an
 * array of them, or {"geographies": [...]}) and GBFS geofencing_zones,
 * all turned into GBFS-shaped zones. Also the rules met along a path (speed
 * caps, ride-through), which booking enforces.
 *
 * Zone types and the GBFS rules they become (first matching zone applies,
 * so they are added in this order whatever the file's order):
 *   no_ride      start, end and ride-through not allowed
 *   no_parking   end not allowed
 *   slow_ride    everything allowed, maximum_speed_kph from the feature
 *   parking      end allowed: with any parking zone present, ending is
 *                allowed only in them (mandatory parking at stops)
 *   operating_area  all allowed; outside every operating area rides may
 *                not start or end (global rule)
 * A file is checked whole before anything is built: a ring that does not
 * close, a position out of WGS84 range, an unknown zone type or a slow zone
 * without a speed is refused naming the file, the feature and the field.
 */
#include "ft-geofence.h"

#include <json-glib/json-glib.h>
#include <string.h>
#include "ft-json.h"
#include "ft-file.h"

#define FAIL(...) g_set_error (error, FT_GEOFENCE_ERROR, FT_GEOFENCE_ERROR_PARSE, __VA_ARGS__)

typedef enum { T_NO_RIDE, T_NO_PARKING, T_SLOW, T_PARKING, T_OPERATING, N_T } ZoneType;

static const char *const type_names[N_T] = {
  "no_ride", "no_parking", "slow_ride", "parking", "operating_area",
};

typedef struct {
  ZoneType        type;
  char           *id, *name;
  FtMultiPolygon *area;
  double          speed_kph;
} Pending;

static void
pending_clear (gpointer p)
{
  Pending *z = p;
  g_free (z->id);
  g_free (z->name);
  ft_multipolygon_free (z->area);
}

/* MDS geography_type values (1.2 and 2.0) and the zone type they carry;
 * -1: informative only (districts, boundaries), skipped. */
static int
type_from_name (const char *s)
{
  static const struct { const char *name; int type; } map[] = {
    { "no_ride", T_NO_RIDE }, { "no_riding", T_NO_RIDE }, { "restricted", T_NO_RIDE },
    { "no_parking", T_NO_PARKING }, { "slow_ride", T_SLOW }, { "slow", T_SLOW },
    { "parking", T_PARKING }, { "stops", T_PARKING }, { "preferred_parking", T_PARKING },
    { "operating_area", T_OPERATING }, { "service_area", T_OPERATING },
    { "municipal_boundary", -1 }, { "council_district", -1 }, { "political_district", -1 },
    { "census_block", -1 }, { "census_block_group", -1 }, { "spot", -1 }, { "street_segment", -1 },
    { "decision_area", -1 }, { "equity_zone", -1 }, { "other", -1 },
  };
  for (guint i = 0; i < G_N_ELEMENTS (map); i++)
    if (g_ascii_strcasecmp (s, map[i].name) == 0)
      return map[i].type;
  return -2;
}

/* Every ring of a Polygon / MultiPolygon closes (first position = last). */
static gboolean
check_rings_close (JsonNode *geometry, const char *what, GError **error)
{
  if (geometry == NULL || !JSON_NODE_HOLDS_OBJECT (geometry))
    return TRUE;   /* the geometry parser names what is wrong */
  JsonObject *o = json_node_get_object (geometry);
  const char *type = ft_json_get_string (o, "type");
  JsonNode *c = json_object_get_member (o, "coordinates");
  if (type == NULL || c == NULL || !JSON_NODE_HOLDS_ARRAY (c))
    return TRUE;
  gboolean multi = strcmp (type, "MultiPolygon") == 0;
  if (!multi && strcmp (type, "Polygon") != 0)
    return TRUE;
  JsonArray *polys = json_node_get_array (c);
  guint np = multi ? json_array_get_length (polys) : 1;
  for (guint p = 0; p < np; p++)
    {
      JsonNode *pn = multi ? json_array_get_element (polys, p) : c;
      if (!JSON_NODE_HOLDS_ARRAY (pn))
        return TRUE;
      JsonArray *rings = json_node_get_array (pn);
      for (guint r = 0; r < json_array_get_length (rings); r++)
        {
          JsonNode *rn = json_array_get_element (rings, r);
          if (!JSON_NODE_HOLDS_ARRAY (rn))
            return TRUE;
          JsonArray *pts = json_node_get_array (rn);
          guint n = json_array_get_length (pts);
          if (n < 2)
            continue;
          JsonNode *a = json_array_get_element (pts, 0), *b = json_array_get_element (pts, n - 1);
          if (!JSON_NODE_HOLDS_ARRAY (a) || !JSON_NODE_HOLDS_ARRAY (b)
              || json_array_get_length (json_node_get_array (a)) < 2
              || json_array_get_length (json_node_get_array (b)) < 2)
            return TRUE;
          JsonArray *aa = json_node_get_array (a), *ba = json_node_get_array (b);
          double ax = json_array_get_double_element (aa, 0), ay = json_array_get_double_element (aa, 1);
          double bx = json_array_get_double_element (ba, 0), by = json_array_get_double_element (ba, 1);
          if (ax != bx || ay != by)
            {
              g_autofree char *poly = multi ? g_strdup_printf ("polygon %u ", p) : g_strdup ("");
              FAIL ("%s: geometry: %sring %u does not close: it starts at [%g, %g] and ends at "
                    "[%g, %g] (a GeoJSON ring repeats its first position last)",
                    what, poly, r, ax, ay, bx, by);
              return FALSE;
            }
        }
    }
  return TRUE;
}

/* One GeoJSON Feature with a zone type (properties.zone_type, or the
 * geography's type handed in as fallback). */
static gboolean
parse_feature (GArray *out, JsonNode *fn, const char *what, const char *fallback_type,
               const char *fallback_name, GError **error)
{
  if (!JSON_NODE_HOLDS_OBJECT (fn))
    {
      FAIL ("%s: not a GeoJSON Feature object", what);
      return FALSE;
    }
  JsonObject *fo = json_node_get_object (fn);
  JsonNode *pn = json_object_get_member (fo, "properties");
  JsonObject *props = pn && JSON_NODE_HOLDS_OBJECT (pn) ? json_node_get_object (pn) : NULL;
  const char *tname = props ? ft_json_get_string (props, "zone_type") : NULL;
  if (tname == NULL)
    tname = fallback_type;
  if (tname == NULL)
    {
      FAIL ("%s: properties.zone_type: missing (one of no_ride, no_parking, slow_ride, parking, "
            "operating_area)", what);
      return FALSE;
    }
  int t = type_from_name (tname);
  if (t == -2)
    {
      FAIL ("%s: properties.zone_type: '%s' is not one of no_ride, no_parking, slow_ride, "
            "parking, operating_area", what, tname);
      return FALSE;
    }
  JsonNode *geom = json_object_get_member (fo, "geometry");
  if (!check_rings_close (geom, what, error))
    return FALSE;
  g_autoptr(GError) ge = NULL;
  g_autoptr(FtMultiPolygon) area = ft_multipolygon_from_geojson (geom, &ge);
  if (area == NULL)
    {
      FAIL ("%s: %s", what, ge->message);
      return FALSE;
    }
  if (t < 0)
    return TRUE;   /* informative geography */
  Pending z = { .type = (ZoneType) t };
  if (t == T_SLOW)
    {
      JsonNode *sn = props ? json_object_get_member (props, "maximum_speed_kph") : NULL;
      if (sn == NULL || !JSON_NODE_HOLDS_VALUE (sn)
          || (json_node_get_value_type (sn) != G_TYPE_DOUBLE && json_node_get_value_type (sn) != G_TYPE_INT64)
          || !(json_node_get_double (sn) > 0 && json_node_get_double (sn) <= 100))
        {
          FAIL ("%s: properties.maximum_speed_kph: a slow_ride zone needs a speed from 1 to 100 km/h",
                what);
          return FALSE;
        }
      z.speed_kph = json_node_get_double (sn);
    }
  const char *name = props ? ft_json_get_string (props, "name") : NULL;
  JsonNode *idn = json_object_get_member (fo, "id");
  if (idn && JSON_NODE_HOLDS_VALUE (idn) && json_node_get_value_type (idn) == G_TYPE_STRING)
    z.id = g_strdup (json_node_get_string (idn));
  else
    z.id = g_strdup_printf ("%s-%u", type_names[t], out->len);
  z.name = g_strdup (name ? name : fallback_name ? fallback_name : type_names[t]);
  z.area = g_steal_pointer (&area);
  g_array_append_val (out, z);
  return TRUE;
}

static gboolean
parse_collection (GArray *out, JsonNode *fc, const char *what, const char *fallback_type,
                  const char *fallback_name, GError **error)
{
  if (fc == NULL || !JSON_NODE_HOLDS_OBJECT (fc)
      || g_strcmp0 (ft_json_get_string (json_node_get_object (fc), "type"), "FeatureCollection") != 0)
    {
      FAIL ("%s: expected a GeoJSON FeatureCollection", what);
      return FALSE;
    }
  JsonNode *fn = json_object_get_member (json_node_get_object (fc), "features");
  if (fn == NULL || !JSON_NODE_HOLDS_ARRAY (fn))
    {
      FAIL ("%s: features: missing or not an array", what);
      return FALSE;
    }
  JsonArray *fa = json_node_get_array (fn);
  for (guint i = 0; i < json_array_get_length (fa); i++)
    {
      g_autofree char *w = g_strdup_printf ("%s: features[%u]", what, i);
      if (!parse_feature (out, json_array_get_element (fa, i), w, fallback_type, fallback_name, error))
        return FALSE;
    }
  return TRUE;
}

/* One MDS geography record: {geography_id, name, geography_type?, geography_json}. */
static gboolean
parse_geography (GArray *out, JsonNode *gn, const char *what, GError **error)
{
  if (!JSON_NODE_HOLDS_OBJECT (gn))
    {
      FAIL ("%s: not an MDS geography object", what);
      return FALSE;
    }
  JsonObject *go = json_node_get_object (gn);
  JsonNode *gj = json_object_get_member (go, "geography_json");
  if (gj == NULL)
    {
      FAIL ("%s: geography_json: missing", what);
      return FALSE;
    }
  g_autofree char *w = g_strdup_printf ("%s.geography_json", what);
  return parse_collection (out, gj, w, ft_json_get_string (go, "geography_type"),
                           ft_json_get_string (go, "name"), error);
}

FtGeofences *
ft_geofences_parse_policy (const char *json, gssize len, const char *where, GError **error)
{
  g_return_val_if_fail (json != NULL, NULL);
  where = where ? where : "policy";
  g_autoptr(GError) je = NULL;
  g_autoptr(JsonNode) root = ft_json_parse (json, len, where, 0, 0, &je);
  if (root == NULL)
    {
      FAIL ("%s", je->message);
      return NULL;
    }
  JsonObject *ro = JSON_NODE_HOLDS_OBJECT (root) ? json_node_get_object (root) : NULL;
  /* GBFS geofencing_zones: its own parser */
  if (ro && (json_object_has_member (ro, "geofencing_zones")
             || (json_object_has_member (ro, "data") && json_object_has_member (ro, "version"))))
    return ft_geofences_parse_gbfs (json, len, where, error);

  g_autoptr(GArray) zones = g_array_new (FALSE, TRUE, sizeof (Pending));
  g_array_set_clear_func (zones, pending_clear);
  if (ro && g_strcmp0 (ft_json_get_string (ro, "type"), "FeatureCollection") == 0)
    {
      if (!parse_collection (zones, root, where, NULL, NULL, error))
        return NULL;
    }
  else if (ro && json_object_has_member (ro, "geography_json"))
    {
      if (!parse_geography (zones, root, where, error))
        return NULL;
    }
  else
    {
      JsonNode *an = root;
      if (ro && json_object_has_member (ro, "geographies"))
        an = json_object_get_member (ro, "geographies");
      else if (ro && json_object_has_member (ro, "data"))
        {
          JsonNode *d = json_object_get_member (ro, "data");
          an = d && JSON_NODE_HOLDS_OBJECT (d)
            ? json_object_get_member (json_node_get_object (d), "geographies") : NULL;
        }
      if (an == NULL || !JSON_NODE_HOLDS_ARRAY (an))
        {
          FAIL ("%s: neither a GeoJSON FeatureCollection, an MDS geography (geography_json) "
                "nor a list of geographies", where);
          return NULL;
        }
      JsonArray *ga = json_node_get_array (an);
      for (guint i = 0; i < json_array_get_length (ga); i++)
        {
          g_autofree char *w = g_strdup_printf ("%s: geographies[%u]", where, i);
          if (!parse_geography (zones, json_array_get_element (ga, i), w, error))
            return NULL;
        }
    }

  gboolean any_parking = FALSE, any_operating = FALSE;
  for (guint i = 0; i < zones->len; i++)
    {
      const Pending *z = &g_array_index (zones, Pending, i);
      any_parking |= z->type == T_PARKING;
      any_operating |= z->type == T_OPERATING;
    }
  FtGeofences *g = ft_geofences_new ();
  for (int t = 0; t < N_T; t++)
    for (guint i = 0; i < zones->len; i++)
      {
        Pending *z = &g_array_index (zones, Pending, i);
        if ((int) z->type != t)
          continue;
        FtZoneRules r = ft_zone_rules_all_allowed ();
        switch (z->type)
          {
          case T_NO_RIDE:
            r.ride_start_allowed = r.ride_end_allowed = r.ride_through_allowed = FALSE;
            break;
          case T_NO_PARKING:
            r.ride_end_allowed = FALSE;
            break;
          case T_SLOW:
            r.maximum_speed_kph = z->speed_kph;
            break;
          case T_OPERATING:
            r.ride_end_allowed = !any_parking;
            break;
          default:
            break;
          }
        ft_geofences_add (g, z->id, z->name, g_steal_pointer (&z->area), &r);
      }
  FtZoneRules outside = ft_zone_rules_all_allowed ();
  if (any_operating)
    outside.ride_start_allowed = outside.ride_end_allowed = FALSE;
  if (any_parking)
    outside.ride_end_allowed = FALSE;
  ft_geofences_set_global_rules (g, &outside);
  return g;
}

FtGeofences *
ft_geofences_load_policy (const char *path, GError **error)
{
  g_autofree char *contents = NULL;
  gsize len = 0;

  g_return_val_if_fail (path != NULL, NULL);
  if (!ft_file_read (path, FT_JSON_MAX_SIZE, &contents, &len, error))
    return NULL;
  return ft_geofences_parse_policy (contents, (gssize) len, path, error);
}

