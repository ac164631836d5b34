/* ft-common.c — small shared helpers: distances on WGS84 points, local
 * offsets, money and simulated-time formatting, reproducible RFC 4122 v4
 * UUIDs from two random words, and a splitmix64 mixer / string hash.
 * Pure functions only: no state, no wall clock.
 */
#include "ft-common.h"

#include <string.h>
#if defined (__GLIBC__) && defined (__linux__)
#include <malloc.h>
#include <sys/mman.h>
#endif

#define FT_EARTH_RADIUS_M 6371008.8
#define FT_DEG2RAD (G_PI / 180.0)

/* The haversine distance, cos_a being cos (a.lat * FT_DEG2RAD): one body
 * for both entry points, so both give the same bits. */
static inline double
distance_with_cos (FtLatLon a, double cos_a, FtLatLon b)
{
  double la1 = a.lat * FT_DEG2RAD, la2 = b.lat * FT_DEG2RAD;
  double dla = la2 - la1;
  double dlo = (b.lon - a.lon) * FT_DEG2RAD;
  double s1 = sin (dla / 2.0), s2 = sin (dlo / 2.0);
  double h = s1 * s1 + cos_a * cos (la2) * s2 * s2;

  if (h > 1.0)
    h = 1.0;
  return 2.0 * FT_EARTH_RADIUS_M * asin (sqrt (h));
}

double
ft_distance_m (FtLatLon a, FtLatLon b)
{
  return distance_with_cos (a, cos (a.lat * FT_DEG2RAD), b);
}

double
ft_distance_cos_lat (double lat)
{
  return cos (lat * FT_DEG2RAD);
}

double
ft_distance_from_m (FtLatLon a, double cos_a, FtLatLon b)
{
  return distance_with_cos (a, cos_a, b);
}

double
ft_distance_fast_m (FtLatLon a, FtLatLon b)
{
  double mlat = (a.lat + b.lat) * 0.5 * FT_DEG2RAD;
  double dx = (b.lon - a.lon) * FT_DEG2RAD * cos (mlat);
  double dy = (b.lat - a.lat) * FT_DEG2RAD;

  return FT_EARTH_RADIUS_M * sqrt (dx * dx + dy * dy);
}

gboolean
ft_latlon_valid (FtLatLon p)
{
  return isfinite (p.lat) && isfinite (p.lon) &&
         p.lat >= -90.0 && p.lat <= 90.0 &&
         p.lon >= -180.0 && p.lon <= 180.0;
}

FtLatLon
ft_latlon_offset (FtLatLon p, double east_m, double north_m)
{
  FtLatLon r;
  double c = cos (p.lat * FT_DEG2RAD);

  if (c < 1e-9)
    c = 1e-9;
  r.lat = p.lat + (north_m / FT_EARTH_RADIUS_M) / FT_DEG2RAD;
  r.lon = p.lon + (east_m / (FT_EARTH_RADIUS_M * c)) / FT_DEG2RAD;
  if (r.lat > 90.0)
    r.lat = 90.0;
  if (r.lat < -90.0)
    r.lat = -90.0;
  while (r.lon > 180.0)
    r.lon -= 360.0;
  while (r.lon < -180.0)
    r.lon += 360.0;
  return r;
}

char *
ft_money_format (gint64 minor, const char *currency)
{
  /* Careful with G_MININT64: work in unsigned magnitude. */
  guint64 mag = minor < 0 ? (guint64) 0 - (guint64) minor : (guint64) minor;

  return g_strdup_printf ("%s%" G_GUINT64_FORMAT ".%02u %s",
                          minor < 0 ? "-" : "",
                          mag / 100, (guint) (mag % 100),
                          currency ? currency : "");
}

char *
ft_time_format (FtTime t)
{
  static const char *const days[7] = { "Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun" };
  gint64 s = t / 1000;
  gint64 day, sod;

  if (t < 0 && t % 1000 != 0)
    s -= 1;                               /* floor */
  day = s / 86400;
  sod = s % 86400;
  if (sod < 0)
    {
      sod += 86400;
      day -= 1;
    }
  day %= 7;
  if (day < 0)
    day += 7;
  return g_strdup_printf ("%s %02d:%02d:%02d", days[day],
                          (int) (sod / 3600), (int) (sod / 60 % 60), (int) (sod % 60));
}

/* The 16 lower-case hex digits of x, most significant first: each
 * 32-bit half spread to a nibble a byte, then turned into ASCII a word at
 * a time (a digit of 10 or more gets 'a' - '0' - 10 more). */
static inline void
hex16 (guint64 x, char out[16])
{
  for (int half = 0; half < 2; half++)
    {
      guint64 v = half == 0 ? x >> 32 : x & G_GUINT64_CONSTANT (0xffffffff);
      v = ((v & G_GUINT64_CONSTANT (0xffff0000)) << 16) | (v & G_GUINT64_CONSTANT (0xffff));
      v = ((v & G_GUINT64_CONSTANT (0x0000ff000000ff00)) << 8) | (v & G_GUINT64_CONSTANT (0x000000ff000000ff));
      v = ((v & G_GUINT64_CONSTANT (0x00f000f000f000f0)) << 4) | (v & G_GUINT64_CONSTANT (0x000f000f000f000f));
      guint64 ten = ((v + G_GUINT64_CONSTANT (0x0606060606060606)) >> 4) & G_GUINT64_CONSTANT (0x0101010101010101);
      v += G_GUINT64_CONSTANT (0x3030303030303030) + ten * ('a' - '0' - 10);
      v = GUINT64_TO_BE (v);
      memcpy (out + 8 * half, &v, 8);
    }
}

void
ft_uuid_from_words (guint64 hi, guint64 lo, char out[37])
{
  char h[16], l[16];

  g_return_if_fail (out != NULL);
  /* byte 6 (bits 15..8 of hi): version 4; byte 8 (bits 63..56 of lo):
   * variant 10xx */
  hi = (hi & ~G_GUINT64_CONSTANT (0xf000)) | G_GUINT64_CONSTANT (0x4000);
  lo = (lo & ~(G_GUINT64_CONSTANT (0xc0) << 56)) | (G_GUINT64_CONSTANT (0x80) << 56);
  /* 8-4-4-4-12 lower-case hex digits (on every booking's hot path, so
   * without printf, and a word at a time) */
  hex16 (hi, h);
  hex16 (lo, l);
  memcpy (out, h, 8);
  out[8] = '-';
  memcpy (out + 9, h + 8, 4);
  out[13] = '-';
  memcpy (out + 14, h + 12, 4);
  out[18] = '-';
  memcpy (out + 19, l, 4);
  out[23] = '-';
  memcpy (out + 24, l + 4, 12);
  out[36] = '\0';
}

gboolean
ft_uuid_valid (const char *s)
{
  int i;

  if (s == NULL || strlen (s) != 36)
    return FALSE;
  for (i = 0; i < 36; i++)
    {
      if (i == 8 || i == 13 || i == 18 || i == 23)
        {
          if (s[i] != '-')
            return FALSE;
        }
      else if (!g_ascii_isxdigit (s[i]))
        return FALSE;
    }
  return TRUE;
}

guint64
ft_hash_string64 (const char *s)
{
  /* FNV-1a then a splitmix finaliser for good avalanche. The bytes are
   * counted first (strlen reads them a vector at a time) and then taken
   * four to a loop step: the same steps in the same order, so the same
   * hash, without a test for the terminator per byte. */
  const guint64 prime = G_GUINT64_CONSTANT (0x100000001b3);
  guint64 h = G_GUINT64_CONSTANT (0xcbf29ce484222325);

  if (s == NULL)
    return ft_mix64 (0);
  const guint8 *u = (const guint8 *) s;
  gsize n = strlen (s), i = 0;
  for (; i + 4 <= n; i += 4)
    {
      h = (h ^ u[i]) * prime;
      h = (h ^ u[i + 1]) * prime;
      h = (h ^ u[i + 2]) * prime;
      h = (h ^ u[i + 3]) * prime;
    }
  for (; i < n; i++)
    h = (h ^ u[i]) * prime;
  return ft_mix64 (h);
}

gsize
ft_mem_advise_huge (gpointer p)
{
#if defined (__GLIBC__) && defined (__linux__) && defined (MADV_HUGEPAGE)
  const gsize huge = 2u << 20;
  if (p == NULL)
    return 0;
  gsize size = malloc_usable_size (p);
  guintptr lo = ((guintptr) p + huge - 1) & ~(guintptr) (huge - 1);
  guintptr hi = ((guintptr) p + size) & ~(guintptr) (huge - 1);
  if (hi > lo)
    (void) madvise ((gpointer) lo, hi - lo, MADV_HUGEPAGE);   /* a hint: errors are ignored */
  return size;
#else
  return G_MAXSIZE;   /* nothing to do, ever */
#endif
}

void
ft_mem_room (gpointer *data, guint len, guint *cap, guint n, gsize elt, gsize *advised)
{
  if (n <= *cap)
    return;
  gpointer b = g_malloc_n (n, elt);
  *advised = ft_mem_advise_huge (b);
  if (len > 0)
    memcpy (b, *data, (gsize) len * elt);
  g_free (*data);
  *data = b;
  *cap = n;
}

void
ft_mem_expect_array (GArray **a, gboolean clear, guint n, gsize *advised)
{
  guint elt = g_array_get_element_size (*a);
  if (n <= (*a)->len)
    return;
  GArray *b = g_array_sized_new (FALSE, clear, elt, n);
  *advised = ft_mem_advise_huge (b->data);
  g_array_append_vals (b, (*a)->data, (*a)->len);
  g_array_unref (*a);
  *a = b;
}

char *
ft_key_file_get_string (GKeyFile *kf, const char *group, const char *key, GError **error)
{
  g_return_val_if_fail (kf != NULL && group != NULL && key != NULL, NULL);
  g_autofree char *raw = g_key_file_get_value (kf, group, key, NULL);
  if (raw == NULL)
    return NULL;
  for (const char *p = raw; *p != '\0'; p++)
    {
      if (*p != '\\')
        continue;
      if (p[1] == '\0')
        {
          g_set_error (error, G_KEY_FILE_ERROR, G_KEY_FILE_ERROR_INVALID_VALUE,
                       "the value ends in a lone \\ (write \\\\ for a backslash)");
          return NULL;
        }
      if (strchr ("sntr\\", p[1]) == NULL)
        {
          char shown[8];
          if (g_ascii_isprint (p[1]))
            g_snprintf (shown, sizeof shown, "\\%c", p[1]);
          else
            g_snprintf (shown, sizeof shown, "\\x%02x", (guchar) p[1]);
          g_set_error (error, G_KEY_FILE_ERROR, G_KEY_FILE_ERROR_INVALID_VALUE,
                       "bad escape \"%s\" at byte %d of the value (known: \\s \\n \\t \\r \\\\)",
                       shown, (int) (p - raw));
          return NULL;
        }
      p++;
    }
  GError *e = NULL;
  char *v = g_key_file_get_string (kf, group, key, &e);
  if (v == NULL)
    g_propagate_error (error, e);
  return v;
}
