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
    case FT_TRIPS_LAYOUT_MAPPED:      return "mapped";
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
  g_free (set->layout_name);
  g_free (set->time_zone);
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
  double   dur_s;     /* reported duration, -1 unknown */
  double   dist_m;    /* reported distance, -1 unknown */
} RawTrip;

typedef struct {
  FtTime round_ms;    /* the publisher's rounding, 0 exact */
} FinishInfo;

static FtTripSet *finish_set (GArray *raw, guint n_rows, FtTripsLayout layout,
                              const FinishInfo *info, const char *where, GError **error);

FtTripsMapping **ft_trips_mapping_builtins (void);

static void
mappings_free (FtTripsMapping **all)
{
  for (guint i = 0; all && all[i]; i++)
    ft_trips_mapping_free (all[i]);
  g_free (all);
}

static int
header_index (GPtrArray *fields, const char *name)
{
  for (guint i = 0; i < fields->len; i++)
    {
      const char *h = g_ptr_array_index (fields, i);
      while (g_ascii_isspace (*h))
        h++;
      gsize n = strlen (h);
      while (n > 0 && g_ascii_isspace (h[n - 1]))
        n--;
      if (n == strlen (name) && g_ascii_strncasecmp (h, name, n) == 0)
        return (int) i;
    }
  return -1;
}

static gboolean
mapping_fits (const FtTripsMapping *m, GPtrArray *header, const char **missing)
{
  for (int k = 0; k < FT_TRIPS_N_COLS; k++)
    if (m->col[k] && header_index (header, m->col[k]) < 0)
      {
        if (missing)
          *missing = m->col[k];
        return FALSE;
      }
  return TRUE;
}

/* Picks the built-in mapping that fits the header; says so when none or
 * several do. */
static FtTripsMapping *
detect_mapping (GPtrArray *header, const char *where, GError **error)
{
  FtTripsMapping **all = ft_trips_mapping_builtins ();
  g_autoptr(GPtrArray) fits = g_ptr_array_new ();
  FtTripsMapping *signed_by = NULL;
  const char *sig_missing = NULL;
  for (guint i = 0; all[i]; i++)
    {
      const char *missing = NULL;
      if (mapping_fits (all[i], header, &missing))
        g_ptr_array_add (fits, all[i]);
      else if (all[i]->signature && header_index (header, all[i]->signature) >= 0)
        {
          signed_by = all[i];
          sig_missing = missing;
        }
    }
  FtTripsMapping *chosen = NULL;
  if (fits->len == 1)
    chosen = ft_trips_mapping_copy (g_ptr_array_index (fits, 0));
  else if (fits->len > 1)
    {
      GString *names = g_string_new (NULL);
      for (guint i = 0; i < fits->len; i++)
        g_string_append_printf (names, "%s%s", i ? " and " : "",
                                ((FtTripsMapping *) g_ptr_array_index (fits, i))->name);
      g_set_error (error, FT_TRIPS_ERROR, FT_TRIPS_ERROR_FORMAT,
                   "%s:1: cannot tell the trip layout: the header fits %s; choose one with "
                   "--mapping NAME (or a mapping file)", where, names->str);
      g_string_free (names, TRUE);
    }
  else if (signed_by != NULL)
    g_set_error (error, FT_TRIPS_ERROR, FT_TRIPS_ERROR_FORMAT,
                 "%s:1: missing column '%s' for the %s layout; if the file has another layout, "
                 "give a mapping file with --mapping FILE", where, sig_missing, signed_by->name);
  else
    {
      g_autofree char *names = g_strjoinv (", ", (char **) ft_trips_mapping_builtin_names ());
      GString *cols = g_string_new (NULL);
      for (guint i = 0; i < header->len && i < 8; i++)
        g_string_append_printf (cols, "%s'%s'", i ? ", " : "", (char *) g_ptr_array_index (header, i));
      if (header->len > 8)
        g_string_append (cols, ", …");
      g_set_error (error, FT_TRIPS_ERROR, FT_TRIPS_ERROR_FORMAT,
                   "%s:1: unknown trip layout (columns %s): it fits none of the built-in "
                   "mappings (%s); give a mapping file with --mapping FILE", where, cols->str, names);
      g_string_free (cols, TRUE);
    }
  mappings_free (all);
  return chosen;
}

/* "hh:mm[:ss[.fff]][ AM|PM]" at s; *n = characters read. */
static gboolean
parse_clock (const char *s, int *h, int *mi, double *sec, int *n)
{
  int k = 0;
  *sec = 0;
  if (sscanf (s, "%2d:%2d%n", h, mi, &k) != 2)
    return FALSE;
  if (s[k] == ':')
    {
      int k2 = 0;
      if (sscanf (s + k + 1, "%lf%n", sec, &k2) != 1 || !g_ascii_isdigit (s[k + 1]))
        return FALSE;
      k += 1 + k2;
    }
  if (s[k] == ' ' && (g_ascii_strncasecmp (s + k + 1, "AM", 2) == 0
                      || g_ascii_strncasecmp (s + k + 1, "PM", 2) == 0))
    {
      gboolean pm = g_ascii_toupper (s[k + 1]) == 'P';
      if (*h < 1 || *h > 12)
        return FALSE;
      *h = (*h % 12) + (pm ? 12 : 0);
      k += 3;
    }
  *n = k;
  return TRUE;
}

static gboolean
parse_time_fmt (const char *s, FtTripsTimeFormat fmt, FtTime *out)
{
  if (s == NULL || *s == '\0')
    return FALSE;
  if (fmt == FT_TRIPS_TIME_EPOCH_S || fmt == FT_TRIPS_TIME_EPOCH_MS)
    {
      double v;
      if (!parse_double (s, &v) || v < 0 || v > 7.3e12)
        return FALSE;
      *out = (FtTime) llround (fmt == FT_TRIPS_TIME_EPOCH_S ? v * 1000.0 : v);
      return *out <= (FtTime) 7258118400000;   /* 2200-01-01 */
    }
  int y, mo, d, h, mi, n = 0, k = 0;
  double sec;
  if (fmt == FT_TRIPS_TIME_MDY)
    {
      if (sscanf (s, "%2d/%2d/%4d%n", &mo, &d, &y, &n) != 3 || s[n] != ' ')
        return FALSE;
      if (!parse_clock (s + n + 1, &h, &mi, &sec, &k) || s[n + 1 + k] != '\0')
        return FALSE;
    }
  else
    {
      if (ft_trips_parse_time (s, out))
        return TRUE;
      /* also "YYYY-MM-DD hh:mm" (no seconds) */
      if (sscanf (s, "%4d-%2d-%2d%n", &y, &mo, &d, &n) != 3 || (s[n] != ' ' && s[n] != 'T'))
        return FALSE;
      if (!parse_clock (s + n + 1, &h, &mi, &sec, &k) || s[n + 1 + k] != '\0')
        return FALSE;
    }
  if (y < 1970 || y > 2200 || mo < 1 || mo > 12 || d < 1 || d > 31 || h < 0 || h > 23
      || mi < 0 || mi > 59 || !(sec >= 0 && sec < 61))
    return FALSE;
  gint64 days = days_from_civil (y, (unsigned) mo, (unsigned) d);
  *out = ((days * 24 + h) * 60 + mi) * 60000 + (gint64) llround (sec * 1000.0);
  return TRUE;
}

static const char *
time_format_name (FtTripsTimeFormat f)
{
  switch (f)
    {
    case FT_TRIPS_TIME_MDY:      return "MM/DD/YYYY hh:mm[:ss][ AM|PM]";
    case FT_TRIPS_TIME_EPOCH_S:  return "seconds since the epoch";
    case FT_TRIPS_TIME_EPOCH_MS: return "milliseconds since the epoch";
    default:                     return "date-time";
    }
}

/* Zone conversion from the file's times to the city's: NULL when none is
 * needed. */
static gboolean
zones_for (const char *from_id, const char *to_id, const char *where,
           GTimeZone **from, GTimeZone **to, GError **error)
{
  *from = *to = NULL;
  if (from_id == NULL || to_id == NULL || g_strcmp0 (from_id, to_id) == 0)
    return TRUE;
  *from = g_time_zone_new_identifier (from_id);
  *to = g_time_zone_new_identifier (to_id);
  if (*from == NULL || *to == NULL)
    {
      g_set_error (error, FT_TRIPS_ERROR, FT_TRIPS_ERROR_FORMAT,
                   "%s: time zone '%s' is not a known IANA time zone", where,
                   *from == NULL ? from_id : to_id);
      g_clear_pointer (from, g_time_zone_unref);
      g_clear_pointer (to, g_time_zone_unref);
      return FALSE;
    }
  return TRUE;
}

static FtTime
convert_time (GTimeZone *from, GTimeZone *to, FtTime t)
{
  if (from == NULL)
    return t;
  return ft_trips_utc_to_local (to, ft_trips_local_to_utc (from, t));
}

#define ROW_FAIL(...) do { g_set_error (error, FT_TRIPS_ERROR, FT_TRIPS_ERROR_PARSE, __VA_ARGS__); \
                           goto fail; } while (0)

FtTripSet *
ft_trips_parse_csv_with (const char *text, gsize len, const char *where,
                         const FtTripsOptions *opt, GError **error)
{
  g_return_val_if_fail (text != NULL, NULL);
  where = where ? where : "<trips>";

  g_autoptr(GPtrArray) fields = g_ptr_array_new_with_free_func (g_free);
  gsize pos = 0;
  gboolean unterminated = FALSE;
  GTimeZone *tz_from = NULL, *tz_to = NULL;

  /* Skip a UTF-8 byte order mark. */
  if (len >= 3 && (guchar) text[0] == 0xEF && (guchar) text[1] == 0xBB && (guchar) text[2] == 0xBF)
    pos = 3;

  if (!csv_next_record (text, len, &pos, fields, &unterminated) || fields->len < 2)
    {
      g_set_error (error, FT_TRIPS_ERROR, FT_TRIPS_ERROR_FORMAT,
                   "%s:1: no CSV header line", where);
      return NULL;
    }

  g_autoptr(FtTripsMapping) m = NULL;
  if (opt && opt->mapping)
    {
      m = ft_trips_mapping_copy (opt->mapping);
      const char *missing = NULL;
      if (!mapping_fits (m, fields, &missing))
        {
          g_set_error (error, FT_TRIPS_ERROR, FT_TRIPS_ERROR_FORMAT,
                       "%s:1: the mapping %s names column '%s', which the header does not have",
                       where, m->name, missing);
          return NULL;
        }
    }
  else if (!(m = detect_mapping (fields, where, error)))
    return NULL;

  guint n_header = fields->len;
  int col[FT_TRIPS_N_COLS];
  for (int k = 0; k < FT_TRIPS_N_COLS; k++)
    col[k] = m->col[k] ? header_index (fields, m->col[k]) : -1;
  if (!zones_for (m->time_zone, opt ? opt->time_zone : NULL, where, &tz_from, &tz_to, error))
    return NULL;

  g_autoptr(GArray) raw = g_array_new (FALSE, FALSE, sizeof (RawTrip));
  guint line = 1;
  guint n_rows = 0;
  while (csv_next_record (text, len, &pos, fields, &unterminated))
    {
      line++;
      if (fields->len == 1 && ((char *) g_ptr_array_index (fields, 0))[0] == '\0')
        continue;  /* blank line */
      if (unterminated)
        ROW_FAIL ("%s:%u: unterminated quoted field (truncated file?)", where, line);
      if (fields->len != n_header)
        ROW_FAIL ("%s:%u: expected %u fields as in the header, found %u%s", where, line,
                  n_header, fields->len, pos >= len ? " (truncated file?)" : "");
      n_rows++;

      RawTrip r = { .dur_s = -1, .dist_m = -1, .has_end = TRUE };
      const char *s;
      for (int e = 0; e < 2; e++)
        {
          int tc = e ? FT_TRIPS_COL_END_TIME : FT_TRIPS_COL_START_TIME;
          int dc = e ? FT_TRIPS_COL_END_DATE : FT_TRIPS_COL_START_DATE;
          if (col[tc] < 0)
            continue;
          g_autofree char *joined = NULL;
          s = g_ptr_array_index (fields, col[tc]);
          if (col[dc] >= 0)
            s = joined = g_strconcat (g_ptr_array_index (fields, col[dc]), " ", s, NULL);
          FtTime *t = e ? &r.end : &r.start;
          if (!parse_time_fmt (s, m->time_format, t))
            ROW_FAIL ("%s:%u: field '%s': '%s' is not a %s", where, line, m->col[tc], s,
                      time_format_name (m->time_format));
          *t = convert_time (tz_from, tz_to, *t);
        }
      double v[4];
      for (int k = 0; k < 4; k++)
        {
          s = g_ptr_array_index (fields, col[FT_TRIPS_COL_START_LAT + k]);
          if (k >= 2 && *s == '\0' && m->end_optional)
            {
              r.has_end = FALSE;
              v[k] = 0;
              continue;
            }
          if (!parse_double (s, &v[k]))
            ROW_FAIL ("%s:%u: field '%s': '%s' is not a number", where, line,
                      m->col[FT_TRIPS_COL_START_LAT + k], s);
          double lim = (k % 2 == 0) ? 90.0 : 180.0;
          if (fabs (v[k]) > lim)
            ROW_FAIL ("%s:%u: field '%s': %s is out of range for a %s", where, line,
                      m->col[FT_TRIPS_COL_START_LAT + k], s, (k % 2 == 0) ? "latitude" : "longitude");
        }
      if (col[FT_TRIPS_COL_DURATION] >= 0)
        {
          double dur;
          s = g_ptr_array_index (fields, col[FT_TRIPS_COL_DURATION]);
          if (!parse_double (s, &dur) || dur < 0)
            ROW_FAIL ("%s:%u: field '%s': '%s' is not a duration%s", where, line,
                      m->col[FT_TRIPS_COL_DURATION], s,
                      m->duration_unit_s == 1.0 ? " in seconds" : m->duration_unit_s == 60.0
                      ? " in minutes" : "");
          r.dur_s = dur * m->duration_unit_s;
        }
      if (col[FT_TRIPS_COL_DISTANCE] >= 0)
        {
          double dist;
          s = g_ptr_array_index (fields, col[FT_TRIPS_COL_DISTANCE]);
          if (!parse_double (s, &dist) || dist < 0)
            ROW_FAIL ("%s:%u: field '%s': '%s' is not a distance", where, line,
                      m->col[FT_TRIPS_COL_DISTANCE], s);
          r.dist_m = dist * m->distance_unit_m;
        }
      if (col[FT_TRIPS_COL_END_TIME] < 0)
        r.end = r.start + (FtTime) llround (r.dur_s * 1000.0);
      r.from = (FtLatLon) { v[0], v[1] };
      r.to = (FtLatLon) { v[2], v[3] };
      g_array_append_val (raw, r);
    }

  {
    FinishInfo info = { .round_ms = (FtTime) m->round_minutes * FT_MINUTE };
    FtTripSet *set = finish_set (raw, n_rows, m->layout, &info, where, error);
    if (set)
      {
        set->layout_name = g_strdup (m->name);
        set->time_zone = g_strdup (tz_to ? opt->time_zone : m->time_zone);
      }
    g_clear_pointer (&tz_from, g_time_zone_unref);
    g_clear_pointer (&tz_to, g_time_zone_unref);
    return set;
  }
fail:
  g_clear_pointer (&tz_from, g_time_zone_unref);
  g_clear_pointer (&tz_to, g_time_zone_unref);
  return NULL;
}

FtTripSet *
ft_trips_parse_csv (const char *text, gsize len, const char *where, GError **error)
{
  return ft_trips_parse_csv_with (text, len, where, NULL, error);
}
static int
cmp_double (const void *a, const void *b)
{
  double x = *(const double *) a, y = *(const double *) b;
  return (x > y) - (x < y);
}

/* Clean outliers and build the set. With rounded times (info->round_ms), a
 * trip may start and end in the same slot: its duration is the reported
 * one, or unknown (half a slot is assumed, and the duration checks are
 * skipped), never a reason to drop it. */
static FtTripSet *
finish_set (GArray *raw, guint n_rows, FtTripsLayout layout, const FinishInfo *info,
            const char *where, GError **error)
{
  g_autoptr(FtTripSet) set = g_new0 (FtTripSet, 1);
  FtTime round_ms = info ? info->round_ms : 0;
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
      gboolean dur_known = TRUE, same_slot = FALSE;
      if (round_ms > 0)
        {
          if (r->end < r->start)
            {
              set->dropped[FT_TRIP_DROP_TIME_ORDER]++;
              continue;
            }
          if (r->dur_s >= 0)
            dur_s = r->dur_s;
          else if (r->end - r->start < round_ms)
            dur_known = FALSE;
          same_slot = r->end == r->start;
        }
      else if (dur_s <= 0)
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
      /* the reported distance (when given) tells a trip between rounded
       * positions from one that went nowhere */
      double ridden = r->dist_m >= 0 ? MAX (r->dist_m, dist) : dist;
      if (ridden < 1.0)
        {
          set->dropped[FT_TRIP_DROP_ROUND_TRIP]++;
          continue;
        }
      if (dur_known && dur_s < MIN_DURATION_S)
        {
          set->dropped[FT_TRIP_DROP_TOO_SHORT]++;
          continue;
        }
      if (dur_known && dur_s > MAX_DURATION_S)
        {
          set->dropped[FT_TRIP_DROP_TOO_LONG]++;
          continue;
        }
      if (dur_known && dist / dur_s * 3.6 > MAX_SPEED_KPH)
        {
          set->dropped[FT_TRIP_DROP_TOO_FAST]++;
          continue;
        }
      FtTime end = r->end;
      if (round_ms > 0)
        end = r->start + (dur_known ? (FtTime) llround (dur_s * 1000.0) : round_ms / 2);
      if (same_slot)
        set->n_same_slot++;
      set->trips[set->n_trips++] = (FtTrip) {
        .start = r->start, .end = end, .from = r->from, .to = r->to, .distance_m = dist,
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
  return ft_trips_parse_mds_with (text, len, where, NULL, error);
}

/* MDS times are UTC instants: with the city's zone they become its local
 * wall time, else they stay UTC (and the set says so). */
FtTripSet *
ft_trips_parse_mds_with (const char *text, gsize len, const char *where,
                         const FtTripsOptions *opt, GError **error)
{
  g_autoptr(GTimeZone) tz = NULL;
  if (opt && opt->time_zone && !(tz = g_time_zone_new_identifier (opt->time_zone)))
    {
      g_set_error (error, FT_TRIPS_ERROR, FT_TRIPS_ERROR_FORMAT,
                   "%s: time zone '%s' is not a known IANA time zone",
                   where ? where : "<trips.json>", opt->time_zone);
      return NULL;
    }
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
      RawTrip r = { .has_end = TRUE, .dur_s = -1, .dist_m = -1 };
      if (!mds_time (t, "start_time", &r.start, where, i, error)
          || !mds_time (t, "end_time", &r.end, where, i, error)
          || !mds_location (t, "start_location", &r.from, where, i, error)
          || !mds_location (t, "end_location", &r.to, where, i, error))
        return NULL;
      if (tz)
        {
          r.start = ft_trips_utc_to_local (tz, r.start);
          r.end = ft_trips_utc_to_local (tz, r.end);
        }
      g_array_append_val (raw, r);
    }
  FtTripSet *set = finish_set (raw, n, FT_TRIPS_LAYOUT_MDS_JSON, NULL, where, error);
  if (set)
    {
      set->layout_name = g_strdup (ft_trips_layout_name (FT_TRIPS_LAYOUT_MDS_JSON));
      set->time_zone = g_strdup (tz ? opt->time_zone : "UTC");
    }
  return set;
}

FtTripSet *
ft_trips_load (const char *path, GError **error)
{
  return ft_trips_load_with (path, NULL, error);
}

FtTripSet *
ft_trips_load_with (const char *path, const FtTripsOptions *opt, GError **error)
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
    return ft_trips_parse_mds_with (text, len, path, opt, error);
  return ft_trips_parse_csv_with (text, len, path, opt, error);
}
