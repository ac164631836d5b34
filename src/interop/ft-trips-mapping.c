/* ft-trips-mapping.c — column mappings for trip CSVs: the built-in layouts
 * (Citi Bike classic and newer, Louisville dockless, Chicago e-scooter
 * pilot), mapping key files, and time-zone conversion. See ft-trips.h.
 */
#include "ft-config.h"
#include "ft-trips.h"

#include <string.h>
#include "ft-file.h"

static const char *const col_keys[FT_TRIPS_N_COLS] = {
  "start_time", "end_time", "start_date", "end_date", "start_lat", "start_lon",
  "end_lat", "end_lon", "duration", "distance",
};

const char *
ft_trips_column_key (FtTripsColumn c)
{
  g_return_val_if_fail (c < FT_TRIPS_N_COLS, "?");
  return col_keys[c];
}

typedef struct {
  const char       *name;
  const char       *signature;
  const char       *col[FT_TRIPS_N_COLS];
  double            duration_unit_s, distance_unit_m;
  FtTripsTimeFormat time_format;
  const char       *time_zone;
  int               round_minutes;
  gboolean          end_optional;
  FtTripsLayout     layout;
} Builtin;

/* Layouts as their publishers document them. */
static const Builtin builtins[] = {
  /* Citi Bike / Lyft system data until January 2021 */
  { "citibike-v1", "tripduration",
    { "starttime", "stoptime", NULL, NULL, "start station latitude", "start station longitude",
      "end station latitude", "end station longitude", "tripduration", NULL },
    1.0, 1.0, FT_TRIPS_TIME_ISO, NULL, 0, FALSE, FT_TRIPS_LAYOUT_CITIBIKE_V1 },
  /* Citi Bike / Divvy / Capital Bikeshare since 2021 */
  { "citibike-v3", "ride_id",
    { "started_at", "ended_at", NULL, NULL, "start_lat", "start_lng", "end_lat", "end_lng",
      NULL, NULL },
    1.0, 1.0, FT_TRIPS_TIME_ISO, NULL, 0, TRUE, FT_TRIPS_LAYOUT_CITIBIKE_V3 },
  /* Louisville Metro "Dockless Vehicles" open data: local times rounded to
   * 15 minutes in separate date and time columns, duration in minutes,
   * distance in miles, positions rounded to 3 decimals. */
  { "louisville-dockless", "TripID",
    { "StartTime", "EndTime", "StartDate", "EndDate", "StartLatitude", "StartLongitude",
      "EndLatitude", "EndLongitude", "TripDuration", "TripDistance" },
    60.0, 1609.344, FT_TRIPS_TIME_ISO, NULL, 15, FALSE, FT_TRIPS_LAYOUT_MAPPED },
  /* City of Chicago "E-Scooter Trips - 2019 Pilot": local times rounded to
   * the hour as MM/DD/YYYY hh:mm:ss AM, distance in metres, duration in
   * seconds, community-area centroids for positions. */
  { "chicago-scooter", "Trip ID",
    { "Start Time", "End Time", NULL, NULL, "Start Centroid Latitude", "Start Centroid Longitude",
      "End Centroid Latitude", "End Centroid Longitude", "Trip Duration", "Trip Distance" },
    1.0, 1.0, FT_TRIPS_TIME_MDY, NULL, 60, TRUE, FT_TRIPS_LAYOUT_MAPPED },
};

const char * const *
ft_trips_mapping_builtin_names (void)
{
  static const char *names[G_N_ELEMENTS (builtins) + 1];
  for (guint i = 0; i < G_N_ELEMENTS (builtins); i++)
    names[i] = builtins[i].name;
  names[G_N_ELEMENTS (builtins)] = NULL;
  return names;
}

static FtTripsMapping *
from_builtin (const Builtin *b)
{
  FtTripsMapping *m = g_new0 (FtTripsMapping, 1);
  m->name = g_strdup (b->name);
  for (int k = 0; k < FT_TRIPS_N_COLS; k++)
    m->col[k] = g_strdup (b->col[k]);
  m->duration_unit_s = b->duration_unit_s;
  m->distance_unit_m = b->distance_unit_m;
  m->time_format = b->time_format;
  m->time_zone = g_strdup (b->time_zone);
  m->round_minutes = b->round_minutes;
  m->end_optional = b->end_optional;
  m->signature = g_strdup (b->signature);
  m->layout = b->layout;
  return m;
}

void
ft_trips_mapping_free (FtTripsMapping *m)
{
  if (m == NULL)
    return;
  g_free (m->name);
  for (int k = 0; k < FT_TRIPS_N_COLS; k++)
    g_free (m->col[k]);
  g_free (m->time_zone);
  g_free (m->signature);
  g_free (m);
}

FtTripsMapping *
ft_trips_mapping_copy (const FtTripsMapping *m)
{
  g_return_val_if_fail (m != NULL, NULL);
  FtTripsMapping *c = g_memdup2 (m, sizeof *m);
  c->name = g_strdup (m->name);
  for (int k = 0; k < FT_TRIPS_N_COLS; k++)
    c->col[k] = g_strdup (m->col[k]);
  c->time_zone = g_strdup (m->time_zone);
  c->signature = g_strdup (m->signature);
  return c;
}

/* All built-in mappings (owned by the caller, NULL-terminated). */
FtTripsMapping **ft_trips_mapping_builtins (void);
FtTripsMapping **
ft_trips_mapping_builtins (void)
{
  FtTripsMapping **all = g_new0 (FtTripsMapping *, G_N_ELEMENTS (builtins) + 1);
  for (guint i = 0; i < G_N_ELEMENTS (builtins); i++)
    all[i] = from_builtin (&builtins[i]);
  return all;
}

static gboolean
unit_value (const char *s, const char *const *names, const double *vals, guint n, double *out)
{
  for (guint i = 0; i < n; i++)
    if (g_ascii_strcasecmp (s, names[i]) == 0)
      {
        *out = vals[i];
        return TRUE;
      }
  return FALSE;
}

#define MAP_FAIL(...) g_set_error (error, FT_TRIPS_ERROR, FT_TRIPS_ERROR_FORMAT, __VA_ARGS__)

FtTripsMapping *
ft_trips_mapping_parse (const char *text, gsize len, const char *where, GError **error)
{
  g_return_val_if_fail (text != NULL, NULL);
  where = where ? where : "<mapping>";
  g_autoptr(GKeyFile) kf = g_key_file_new ();
  g_autoptr(GError) e = NULL;
  if (!g_key_file_load_from_data (kf, text, len, G_KEY_FILE_NONE, &e))
    {
      MAP_FAIL ("%s: not a mapping key file: %s", where, e->message);
      return NULL;
    }
  if (!g_key_file_has_group (kf, "mapping"))
    {
      MAP_FAIL ("%s: no [mapping] group", where);
      return NULL;
    }
  g_auto(GStrv) keys = g_key_file_get_keys (kf, "mapping", NULL, NULL);
  g_autoptr(FtTripsMapping) m = g_new0 (FtTripsMapping, 1);
  m->duration_unit_s = 1.0;
  m->distance_unit_m = 1.0;
  m->layout = FT_TRIPS_LAYOUT_MAPPED;
  for (guint i = 0; keys && keys[i]; i++)
    {
      const char *k = keys[i];
      g_autoptr(GError) bad = NULL;
      g_autofree char *v = ft_key_file_get_string (kf, "mapping", k, &bad);
      if (bad != NULL)
        {
          MAP_FAIL ("%s: [mapping] %s: %s", where, k, bad->message);
          return NULL;
        }
      if (v)
        g_strstrip (v);
      int col = -1;
      for (int c = 0; c < FT_TRIPS_N_COLS; c++)
        if (strcmp (k, col_keys[c]) == 0)
          col = c;
      if (col >= 0)
        {
          if (v == NULL || *v == '\0')
            {
              MAP_FAIL ("%s: [mapping] %s: empty column name", where, k);
              return NULL;
            }
          m->col[col] = g_steal_pointer (&v);
        }
      else if (strcmp (k, "name") == 0)
        m->name = g_steal_pointer (&v);
      else if (strcmp (k, "duration_unit") == 0)
        {
          static const char *const n[] = { "s", "min", "h" };
          static const double u[] = { 1, 60, 3600 };
          if (!unit_value (v, n, u, 3, &m->duration_unit_s))
            {
              MAP_FAIL ("%s: [mapping] duration_unit: '%s' is not s, min or h", where, v);
              return NULL;
            }
        }
      else if (strcmp (k, "distance_unit") == 0)
        {
          static const char *const n[] = { "m", "km", "mi", "ft" };
          static const double u[] = { 1, 1000, 1609.344, 0.3048 };
          if (!unit_value (v, n, u, 4, &m->distance_unit_m))
            {
              MAP_FAIL ("%s: [mapping] distance_unit: '%s' is not m, km, mi or ft", where, v);
              return NULL;
            }
        }
      else if (strcmp (k, "time_format") == 0)
        {
          if (g_strcmp0 (v, "iso") == 0)
            m->time_format = FT_TRIPS_TIME_ISO;
          else if (g_strcmp0 (v, "mdy") == 0)
            m->time_format = FT_TRIPS_TIME_MDY;
          else if (g_strcmp0 (v, "epoch-s") == 0)
            m->time_format = FT_TRIPS_TIME_EPOCH_S;
          else if (g_strcmp0 (v, "epoch-ms") == 0)
            m->time_format = FT_TRIPS_TIME_EPOCH_MS;
          else
            {
              MAP_FAIL ("%s: [mapping] time_format: '%s' is not iso, mdy, epoch-s or epoch-ms",
                        where, v);
              return NULL;
            }
        }
      else if (strcmp (k, "time_zone") == 0)
        {
          g_autoptr(GTimeZone) tz = v ? g_time_zone_new_identifier (v) : NULL;
          if (tz == NULL)
            {
              MAP_FAIL ("%s: [mapping] time_zone: '%s' is not a known IANA time zone", where,
                        v ? v : "");
              return NULL;
            }
          m->time_zone = g_steal_pointer (&v);
        }
      else if (strcmp (k, "round_minutes") == 0)
        {
          gint64 r = 0;
          if (!g_ascii_string_to_signed (v, 10, 0, 24 * 60, &r, NULL))
            {
              MAP_FAIL ("%s: [mapping] round_minutes: '%s' is not a whole number of minutes "
                        "from 0 to 1440", where, v);
              return NULL;
            }
          m->round_minutes = (int) r;
        }
      else if (strcmp (k, "end_optional") == 0)
        {
          g_autoptr(GError) be = NULL;
          m->end_optional = g_key_file_get_boolean (kf, "mapping", k, &be);
          if (be)
            {
              MAP_FAIL ("%s: [mapping] end_optional: '%s' is not true or false", where, v);
              return NULL;
            }
        }
      else
        {
          MAP_FAIL ("%s: [mapping] %s: unknown key", where, k);
          return NULL;
        }
    }
  static const FtTripsColumn required[] = {
    FT_TRIPS_COL_START_TIME, FT_TRIPS_COL_START_LAT, FT_TRIPS_COL_START_LON,
    FT_TRIPS_COL_END_LAT, FT_TRIPS_COL_END_LON,
  };
  for (guint i = 0; i < G_N_ELEMENTS (required); i++)
    if (m->col[required[i]] == NULL)
      {
        MAP_FAIL ("%s: [mapping] %s: missing (the column holding it is required)", where,
                  col_keys[required[i]]);
        return NULL;
      }
  if (m->col[FT_TRIPS_COL_END_TIME] == NULL && m->col[FT_TRIPS_COL_DURATION] == NULL)
    {
      MAP_FAIL ("%s: [mapping] end_time: missing, and no duration column either", where);
      return NULL;
    }
  if ((m->col[FT_TRIPS_COL_START_DATE] == NULL) != (m->col[FT_TRIPS_COL_END_DATE] == NULL)
      && m->col[FT_TRIPS_COL_END_TIME] != NULL)
    {
      MAP_FAIL ("%s: [mapping] start_date and end_date: give both or neither", where);
      return NULL;
    }
  if (m->name == NULL)
    m->name = g_path_get_basename (where);
  return g_steal_pointer (&m);
}

FtTripsMapping *
ft_trips_mapping_load (const char *name_or_path, GError **error)
{
  g_return_val_if_fail (name_or_path != NULL, NULL);
  for (guint i = 0; i < G_N_ELEMENTS (builtins); i++)
    if (strcmp (builtins[i].name, name_or_path) == 0)
      return from_builtin (&builtins[i]);
  g_autofree char *text = NULL;
  gsize len = 0;
  g_autoptr(GError) e = NULL;
  if (!ft_file_read (name_or_path, 1024 * 1024, &text, &len, &e))
    {
      g_autofree char *names = g_strjoinv (", ", (char **) ft_trips_mapping_builtin_names ());
      g_set_error (error, FT_TRIPS_ERROR, FT_TRIPS_ERROR_IO,
                   "mapping %s: not a built-in mapping (%s) and not a readable file: %s",
                   name_or_path, names, e->message);
      return NULL;
    }
  return ft_trips_mapping_parse (text, len, name_or_path, error);
}

/* ---- time zones ---------------------------------------------------------- */

FtTime
ft_trips_utc_to_local (GTimeZone *tz, FtTime utc_ms)
{
  gint64 s = utc_ms >= 0 ? utc_ms / 1000 : -((-utc_ms + 999) / 1000);
  int iv = g_time_zone_find_interval (tz, G_TIME_TYPE_UNIVERSAL, s);
  gint32 off = iv >= 0 ? g_time_zone_get_offset (tz, iv) : 0;
  return utc_ms + (FtTime) off * 1000;
}

FtTime
ft_trips_local_to_utc (GTimeZone *tz, FtTime local_ms)
{
  gint64 s = local_ms >= 0 ? local_ms / 1000 : -((-local_ms + 999) / 1000);
  gint64 adj = s;
  /* a wall time in a DST gap moves forward; an ambiguous one takes the first */
  int iv = g_time_zone_adjust_time (tz, G_TIME_TYPE_DAYLIGHT, &adj);
  gint32 off = iv >= 0 ? g_time_zone_get_offset (tz, iv) : 0;
  return (local_ms + (adj - s) * 1000) - (FtTime) off * 1000;
}
