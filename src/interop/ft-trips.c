/* ft-trips.c — reading public trip data (Citi Bike CSV layouts, MDS 2.0
 * trips JSON) into a cleaned FtTripSet. See ft-trips.h for what is refused
 * and what is dropped.
 */
#include "ft-config.h"
#include "ft-trips.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <json-glib/json-glib.h>
#include "ft-json.h"
#include "ft-file.h"

#define FT_TRIPS_MAX_FILE ((gsize) 2 * 1024 * 1024 * 1024)   /* read whole: 2 GiB at most */

G_DEFINE_QUARK (ft-trips-error-quark, ft_trips_error)

#define MIN_DURATION_S   60.0
#define MAX_DURATION_S   (3.0 * 3600.0)
#define MAX_SPEED_KPH    35.0
#define MAX_FROM_MEDIAN  25000.0

static const char *drop_names[FT_N_TRIP_DROPS] = {
  "too_short", "too_long", "too_fast", "round_trip", "missing_end", "far_away", "time_order",
};

const char *
ft_trip_drop_name (FtTripDrop d)
{
  g_return_val_if_fail (d < FT_N_TRIP_DROPS, "?");
  return drop_names[d];
}

const char *
ft_trips_layout_name (FtTripsLayout l)
{
  switch (l)
    {
    case FT_TRIPS_LAYOUT_CITIBIKE_V1: return "citibike-v1";
    case FT_TRIPS_LAYOUT_CITIBIKE_V3: return "citibike-v3";
    case FT_TRIPS_LAYOUT_MDS_JSON:    return "mds-2.0-trips";
    default:                          return "?";
    }
}

void
ft_trip_set_free (FtTripSet *set)
{
  if (set == NULL)
    return;
  g_free (set->trips);
  g_free (set->source);
  g_free (set);
}

guint
ft_trip_set_n_dropped (const FtTripSet *set)
{
  guint n = 0;
  for (int i = 0; i < FT_N_TRIP_DROPS; i++)
    n += set->dropped[i];
  return n;
}

/* Days from 1970-01-01 to y-m-d (proleptic Gregorian), Howard Hinnant's algorithm. */
static gint64
days_from_civil (gint64 y, unsigned m, unsigned d)
{
  y -= m <= 2;
  const gint64 era = (y >= 0 ? y : y - 399) / 400;
  const unsigned yoe = (unsigned) (y - era * 400);
  const unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + (gint64) doe - 719468;
}

gboolean
ft_trips_parse_time (const char *s, FtTime *out)
{
  int y, mo, d, h, mi;
  double sec;
  int n = 0;

  if (s == NULL)
    return FALSE;
  if (sscanf (s, "%4d-%2d-%2d%*1[ T]%2d:%2d:%lf%n", &y, &mo, &d, &h, &mi, &sec, &n) != 6)
    return FALSE;
  const char *rest = s + n;
  if (*rest == 'Z')
    rest++;
  else if (*rest == '+' || *rest == '-')
    rest += strspn (rest + 1, "0123456789:") + 1;  /* naive: keep the local wall time */
  if (*rest != '\0')
    return FALSE;
  /* !(sec >= 0 && sec < 61) also refuses "nan", which %lf reads */
  if (y < 1970 || y > 2200 || mo < 1 || mo > 12 || d < 1 || d > 31 || h < 0 || h > 23
      || mi < 0 || mi > 59 || !(sec >= 0 && sec < 61))
    return FALSE;
  gint64 days = days_from_civil (y, (unsigned) mo, (unsigned) d);
  *out = ((days * 24 + h) * 60 + mi) * 60000 + (gint64) llround (sec * 1000.0);
  return TRUE;
}

FtTime
ft_trip_set_week_start (const FtTripSet *set)
{
  if (set->n_trips == 0)
    return 0;
  FtTime first = G_MAXINT64;
  for (guint i = 0; i < set->n_trips; i++)
    first = MIN (first, set->trips[i].start);
  gint64 day = first / FT_DAY;
  /* 1970-01-01 was a Thursday: weekday (Mon = 0) = (day + 3) % 7 */
  gint64 wd = ((day % 7) + 7 + 3) % 7;
  return (day - wd) * FT_DAY;
}

/* ---- CSV ---------------------------------------------------------------- */

/* Splits one CSV record starting at *pos (RFC 4180 quoting). Fields are
 * written into `fields` (cleared first) as newly allocated strings. Returns
 * FALSE at end of input. Sets *unterminated when a quoted field runs off the
 * end of the text (a truncated file). */
static gboolean
csv_next_record (const char *text, gsize len, gsize *pos, GPtrArray *fields,
                 gboolean *unterminated)
{
  g_ptr_array_set_size (fields, 0);
  *unterminated = FALSE;
  gsize i = *pos;
  if (i >= len)
    return FALSE;

  GString *cur = g_string_new (NULL);
  gboolean in_quotes = FALSE;
  for (;;)
    {
      if (i >= len)
        {
          if (in_quotes)
            *unterminated = TRUE;
          g_ptr_array_add (fields, g_string_free (cur, FALSE));
          break;
        }
      char c = text[i];
      if (in_quotes)
        {
          if (c == '"')
            {
              if (i + 1 < len && text[i + 1] == '"')
                {
                  g_string_append_c (cur, '"');
                  i += 2;
                  continue;
                }
              in_quotes = FALSE;
              i++;
              continue;
            }
          g_string_append_c (cur, c);
          i++;
          continue;
        }
      if (c == '"' && cur->len == 0)
        {
          in_quotes = TRUE;
          i++;
          continue;
        }
      if (c == ',')
        {
          g_ptr_array_add (fields, g_string_free (cur, FALSE));
          cur = g_string_new (NULL);
          i++;
          continue;
        }
      if (c == '\r' || c == '\n')
        {
          g_ptr_array_add (fields, g_string_free (cur, FALSE));
          if (c == '\r' && i + 1 < len && text[i + 1] == '\n')
            i++;
          i++;
          break;
        }
      g_string_append_c (cur, c);
      i++;
    }
  *pos = i;
  return TRUE;
}

static gboolean
parse_double (const char *s, double *out)
{
  if (s == NULL || *s == '\0')
    return FALSE;
  char *end = NULL;
  errno = 0;
  double v = g_ascii_strtod (s, &end);
  if (errno != 0 || end == s || *end != '\0' || !isfinite (v))
    return FALSE;
  *out = v;
  return TRUE;
}

typedef struct {
  FtTime   start, end;
  FtLatLon from, to;
  gboolean has_end;
} RawTrip;

/* Column roles we need, by layout. */
enum { C_START, C_END, C_SLAT, C_SLON, C_ELAT, C_ELON, C_DURATION, N_COLS };

static const char *v1_names[N_COLS] = {
  "starttime", "stoptime", "start station latitude", "start station longitude",
  "end station latitude", "end station longitude", "tripduration",
};
static const char *v3_names[N_COLS] = {
  "started_at", "ended_at", "start_lat", "start_lng", "end_lat", "end_lng", NULL,
};

static FtTripSet *finish_set (GArray *raw, guint n_rows, FtTripsLayout layout,
                              const char *where, GError **error);

FtTripSet *
ft_trips_parse_csv (const char *text, gsize len, const char *where, GError **error)
{
  g_return_val_if_fail (text != NULL, NULL);
  where = where ? where : "<trips>";

  g_autoptr(GPtrArray) fields = g_ptr_array_new_with_free_func (g_free);
  gsize pos = 0;
  gboolean unterminated = FALSE;

  /* Skip a UTF-8 byte order mark. */
  if (len >= 3 && (guchar) text[0] == 0xEF && (guchar) text[1] == 0xBB && (guchar) text[2] == 0xBF)
    pos = 3;

  if (!csv_next_record (text, len, &pos, fields, &unterminated) || fields->len < 2)
    {
      g_set_error (error, FT_TRIPS_ERROR, FT_TRIPS_ERROR_FORMAT,
                   "%s:1: no CSV header line", where);
      return NULL;
    }

  guint n_header = fields->len;
  FtTripsLayout layout;
  const char **names;
  int col[N_COLS];
  for (int k = 0; k < N_COLS; k++)
    col[k] = -1;

  gboolean is_v1 = FALSE, is_v3 = FALSE;
  for (guint i = 0; i < n_header; i++)
    {
      const char *h = g_ptr_array_index (fields, i);
      if (g_ascii_strcasecmp (h, "tripduration") == 0)
        is_v1 = TRUE;
      if (g_ascii_strcasecmp (h, "ride_id") == 0)
        is_v3 = TRUE;
    }
  if (is_v1)
    {
      layout = FT_TRIPS_LAYOUT_CITIBIKE_V1;
      names = v1_names;
    }
  else if (is_v3)
    {
      layout = FT_TRIPS_LAYOUT_CITIBIKE_V3;
      names = v3_names;
    }
  else
    {
      g_set_error (error, FT_TRIPS_ERROR, FT_TRIPS_ERROR_FORMAT,
                   "%s:1: unknown trip layout: expected a Citi Bike header with "
                   "'tripduration' or 'ride_id'", where);
      return NULL;
    }

  for (int k = 0; k < N_COLS; k++)
    {
      if (names[k] == NULL)
        continue;
      for (guint i = 0; i < n_header; i++)
        if (g_ascii_strcasecmp (g_ptr_array_index (fields, i), names[k]) == 0)
          col[k] = (int) i;
      if (col[k] < 0)
        {
          g_set_error (error, FT_TRIPS_ERROR, FT_TRIPS_ERROR_FORMAT,
                       "%s:1: missing column '%s' for the %s layout", where, names[k],
                       ft_trips_layout_name (layout));
          return NULL;
        }
    }

  g_autoptr(GArray) raw = g_array_new (FALSE, FALSE, sizeof (RawTrip));
  guint line = 1;
  guint n_rows = 0;
  while (csv_next_record (text, len, &pos, fields, &unterminated))
    {
      line++;
      if (fields->len == 1 && ((char *) g_ptr_array_index (fields, 0))[0] == '\0')
        continue;  /* blank line */
      if (unterminated)
        {
          g_set_error (error, FT_TRIPS_ERROR, FT_TRIPS_ERROR_PARSE,
                       "%s:%u: unterminated quoted field (truncated file?)", where, line);
          return NULL;
        }
      if (fields->len != n_header)
        {
          g_set_error (error, FT_TRIPS_ERROR, FT_TRIPS_ERROR_PARSE,
                       "%s:%u: expected %u fields as in the header, found %u%s", where, line,
                       n_header, fields->len, pos >= len ? " (truncated file?)" : "");
          return NULL;
        }
      n_rows++;

      RawTrip r = { 0 };
      const char *s;
      s = g_ptr_array_index (fields, col[C_START]);
      if (!ft_trips_parse_time (s, &r.start))
        {
          g_set_error (error, FT_TRIPS_ERROR, FT_TRIPS_ERROR_PARSE,
                       "%s:%u: field '%s': '%s' is not a date-time", where, line,
                       names[C_START], s);
          return NULL;
        }
      s = g_ptr_array_index (fields, col[C_END]);
      if (!ft_trips_parse_time (s, &r.end))
        {
          g_set_error (error, FT_TRIPS_ERROR, FT_TRIPS_ERROR_PARSE,
                       "%s:%u: field '%s': '%s' is not a date-time", where, line,
                       names[C_END], s);
          return NULL;
        }
      double v[4];
      r.has_end = TRUE;
      for (int k = 0; k < 4; k++)
        {
          s = g_ptr_array_index (fields, col[C_SLAT + k]);
          if (k >= 2 && *s == '\0' && layout == FT_TRIPS_LAYOUT_CITIBIKE_V3)
            {
              r.has_end = FALSE;
              v[k] = 0;
              continue;
            }
          if (!parse_double (s, &v[k]))
            {
              g_set_error (error, FT_TRIPS_ERROR, FT_TRIPS_ERROR_PARSE,
                           "%s:%u: field '%s': '%s' is not a number", where, line,
                           names[C_SLAT + k], s);
              return NULL;
            }
          double lim = (k % 2 == 0) ? 90.0 : 180.0;
          if (fabs (v[k]) > lim)
            {
              g_set_error (error, FT_TRIPS_ERROR, FT_TRIPS_ERROR_PARSE,
                           "%s:%u: field '%s': %s is out of range for a %s", where, line,
                           names[C_SLAT + k], s, (k % 2 == 0) ? "latitude" : "longitude");
              return NULL;
            }
        }
      if (col[C_DURATION] >= 0)
        {
          double dur;
          s = g_ptr_array_index (fields, col[C_DURATION]);
          if (!parse_double (s, &dur) || dur < 0)
            {
              g_set_error (error, FT_TRIPS_ERROR, FT_TRIPS_ERROR_PARSE,
                           "%s:%u: field 'tripduration': '%s' is not a duration in seconds",
                           where, line, s);
              return NULL;
            }
        }
      r.from = (FtLatLon) { v[0], v[1] };
      r.to = (FtLatLon) { v[2], v[3] };
      g_array_append_val (raw, r);
    }

  return finish_set (raw, n_rows, layout, where, error);
}

static int
cmp_double (const void *a, const void *b)
{
  double x = *(const double *) a, y = *(const double *) b;
  return (x > y) - (x < y);
}

/* Clean outliers and build the set. */
static FtTripSet *
finish_set (GArray *raw, guint n_rows, FtTripsLayout layout, const char *where, GError **error)
{
  g_autoptr(FtTripSet) set = g_new0 (FtTripSet, 1);
  set->layout = layout;
  set->source = g_path_get_basename (where);
  set->n_rows = n_rows;

  /* Median start point, robust against a few far-away rows. */
  FtLatLon median = { 0, 0 };
  if (raw->len > 0)
    {
      g_autofree double *lat = g_new (double, raw->len);
      g_autofree double *lon = g_new (double, raw->len);
      for (guint i = 0; i < raw->len; i++)
        {
          lat[i] = g_array_index (raw, RawTrip, i).from.lat;
          lon[i] = g_array_index (raw, RawTrip, i).from.lon;
        }
      qsort (lat, raw->len, sizeof (double), cmp_double);
      qsort (lon, raw->len, sizeof (double), cmp_double);
      median = (FtLatLon) { lat[raw->len / 2], lon[raw->len / 2] };
    }

  set->trips = g_new (FtTrip, MAX (raw->len, 1));
  for (guint i = 0; i < raw->len; i++)
    {
      const RawTrip *r = &g_array_index (raw, RawTrip, i);
      if (!r->has_end)
        {
          set->dropped[FT_TRIP_DROP_MISSING_END]++;
          continue;
        }
      double dur_s = (double) (r->end - r->start) / 1000.0;
      if (dur_s <= 0)
        {
          set->dropped[FT_TRIP_DROP_TIME_ORDER]++;
          continue;
        }
      if (ft_distance_m (r->from, median) > MAX_FROM_MEDIAN
          || ft_distance_m (r->to, median) > MAX_FROM_MEDIAN)
        {
          set->dropped[FT_TRIP_DROP_FAR_AWAY]++;
          continue;
        }
      double dist = ft_distance_m (r->from, r->to);
      if (dist < 1.0)
        {
          set->dropped[FT_TRIP_DROP_ROUND_TRIP]++;
          continue;
        }
      if (dur_s < MIN_DURATION_S)
        {
          set->dropped[FT_TRIP_DROP_TOO_SHORT]++;
          continue;
        }
      if (dur_s > MAX_DURATION_S)
        {
          set->dropped[FT_TRIP_DROP_TOO_LONG]++;
          continue;
        }
      if (dist / dur_s * 3.6 > MAX_SPEED_KPH)
        {
          set->dropped[FT_TRIP_DROP_TOO_FAST]++;
          continue;
        }
      set->trips[set->n_trips++] = (FtTrip) {
        .start = r->start, .end = r->end, .from = r->from, .to = r->to, .distance_m = dist,
      };
    }

  if (set->n_trips == 0)
    {
      g_set_error (error, FT_TRIPS_ERROR, FT_TRIPS_ERROR_EMPTY,
                   "%s: no usable trip among %u rows", where, n_rows);
      return NULL;
    }
  return g_steal_pointer (&set);
}

/* ---- MDS 2.0 trips JSON -------------------------------------------------- */

static gboolean
mds_location (JsonObject *trip, const char *member, FtLatLon *out, const char *where,
              guint idx, GError **error)
{
  JsonNode *n = json_object_get_member (trip, member);
  if (n == NULL || !JSON_NODE_HOLDS_OBJECT (n))
    {
      g_set_error (error, FT_TRIPS_ERROR, FT_TRIPS_ERROR_PARSE,
                   "%s: trips[%u].%s: missing or not an object", where, idx, member);
      return FALSE;
    }
  JsonObject *o = json_node_get_object (n);
  const char *keys[2][2] = { { "lat", "lng" }, { "lat", "lon" } };
  for (int k = 0; k < 2; k++)
    {
      JsonNode *la = json_object_get_member (o, keys[k][0]);
      JsonNode *lo = json_object_get_member (o, keys[k][1]);
      if (la && lo && JSON_NODE_HOLDS_VALUE (la) && JSON_NODE_HOLDS_VALUE (lo)
          && json_node_get_value_type (la) != G_TYPE_STRING
          && json_node_get_value_type (lo) != G_TYPE_STRING
          && json_node_get_value_type (la) != G_TYPE_BOOLEAN
          && json_node_get_value_type (lo) != G_TYPE_BOOLEAN)
        {
          out->lat = json_node_get_double (la);
          out->lon = json_node_get_double (lo);
          if (!isfinite (out->lat) || !isfinite (out->lon) || fabs (out->lat) > 90
              || fabs (out->lon) > 180)
            {
              g_set_error (error, FT_TRIPS_ERROR, FT_TRIPS_ERROR_PARSE,
                           "%s: trips[%u].%s: coordinates out of range", where, idx, member);
              return FALSE;
            }
          return TRUE;
        }
    }
  g_set_error (error, FT_TRIPS_ERROR, FT_TRIPS_ERROR_PARSE,
               "%s: trips[%u].%s: needs numeric lat and lng", where, idx, member);
  return FALSE;
}

static gboolean
mds_time (JsonObject *trip, const char *member, FtTime *out, const char *where, guint idx,
          GError **error)
{
  JsonNode *n = json_object_get_member (trip, member);
  if (n && JSON_NODE_HOLDS_VALUE (n) && json_node_get_value_type (n) == G_TYPE_INT64)
    {
      *out = json_node_get_int (n);   /* MDS timestamps: ms since epoch */
      if (*out > 0)
        return TRUE;
    }
  g_set_error (error, FT_TRIPS_ERROR, FT_TRIPS_ERROR_PARSE,
               "%s: trips[%u].%s: needs an integer timestamp in ms", where, idx, member);
  return FALSE;
}

FtTripSet *
ft_trips_parse_mds (const char *text, gsize len, const char *where, GError **error)
{
  where = where ? where : "<trips.json>";
  g_autoptr(GError) jerr = NULL;
  g_autoptr(JsonNode) root = ft_json_parse (text, (gssize) len, where, 0, 0, &jerr);
  if (root == NULL)
    {
      g_set_error (error, FT_TRIPS_ERROR, FT_TRIPS_ERROR_PARSE, "%s", jerr->message);
      return NULL;
    }
  JsonArray *arr = NULL;
  if (root && JSON_NODE_HOLDS_OBJECT (root))
    {
      JsonObject *o = json_node_get_object (root);
      JsonNode *t = json_object_get_member (o, "trips");
      if (t == NULL && json_object_has_member (o, "data"))
        {
          JsonNode *d = json_object_get_member (o, "data");
          if (JSON_NODE_HOLDS_OBJECT (d))
            t = json_object_get_member (json_node_get_object (d), "trips");
        }
      if (t && JSON_NODE_HOLDS_ARRAY (t))
        arr = json_node_get_array (t);
    }
  else if (root && JSON_NODE_HOLDS_ARRAY (root))
    arr = json_node_get_array (root);
  if (arr == NULL)
    {
      g_set_error (error, FT_TRIPS_ERROR, FT_TRIPS_ERROR_FORMAT,
                   "%s: not an MDS trips document (no 'trips' array)", where);
      return NULL;
    }

  g_autoptr(GArray) raw = g_array_new (FALSE, FALSE, sizeof (RawTrip));
  guint n = json_array_get_length (arr);
  for (guint i = 0; i < n; i++)
    {
      JsonNode *tn = json_array_get_element (arr, i);
      if (!JSON_NODE_HOLDS_OBJECT (tn))
        {
          g_set_error (error, FT_TRIPS_ERROR, FT_TRIPS_ERROR_PARSE,
                       "%s: trips[%u]: not an object", where, i);
          return NULL;
        }
      JsonObject *t = json_node_get_object (tn);
      RawTrip r = { .has_end = TRUE };
      if (!mds_time (t, "start_time", &r.start, where, i, error)
          || !mds_time (t, "end_time", &r.end, where, i, error)
          || !mds_location (t, "start_location", &r.from, where, i, error)
          || !mds_location (t, "end_location", &r.to, where, i, error))
        return NULL;
      g_array_append_val (raw, r);
    }
  return finish_set (raw, n, FT_TRIPS_LAYOUT_MDS_JSON, where, error);
}

FtTripSet *
ft_trips_load (const char *path, GError **error)
{
  g_autofree char *text = NULL;
  gsize len = 0;
  g_autoptr(GError) ioerr = NULL;
  if (!ft_file_read (path, FT_TRIPS_MAX_FILE, &text, &len, &ioerr))
    {
      g_set_error (error, FT_TRIPS_ERROR, FT_TRIPS_ERROR_IO, "%s", ioerr->message);
      return NULL;
    }
  gsize i = 0;
  while (i < len && g_ascii_isspace (text[i]))
    i++;
  if (i < len && (text[i] == '{' || text[i] == '['))
    return ft_trips_parse_mds (text, len, path, error);
  return ft_trips_parse_csv (text, len, path, error);
}
