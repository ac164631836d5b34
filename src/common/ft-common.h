/* ft-common.h — types every Fleet Twin module shares.
 *
 * Time is a parameter: no module reads the wall clock; callers pass `now`
 * as FtTime (int64 milliseconds; simulation passes virtual time, live mode
 * wall time). Money is int64 minor units with an ISO 4217 currency code.
 * Positions are WGS84 degrees.
 */
#pragma once

#include <glib.h>
#include <math.h>

G_BEGIN_DECLS

typedef gint64 FtTime;                 /* milliseconds */
#define FT_MS     ((FtTime) 1)
#define FT_SECOND ((FtTime) 1000)
#define FT_MINUTE ((FtTime) 60 * 1000)
#define FT_HOUR   ((FtTime) 3600 * 1000)
#define FT_DAY    ((FtTime) 86400 * 1000)

typedef struct {
  double lat;
  double lon;
} FtLatLon;

/* Money: minor units (cents) plus a currency code such as "EUR". */
typedef struct {
  gint64 minor;
  char   currency[4];
} FtMoney;

/* Great-circle (haversine) distance in metres. */
double   ft_distance_m          (FtLatLon a, FtLatLon b);
/* The same distance, bit for bit, from many points b to one a, its
 * cos_a = ft_distance_cos_lat (a.lat) worked out once. */
double   ft_distance_cos_lat    (double lat);
double   ft_distance_from_m     (FtLatLon a, double cos_a, FtLatLon b);
/* Fast equirectangular approximation, good to <0.5% below 50 km. */
double   ft_distance_fast_m     (FtLatLon a, FtLatLon b);
gboolean ft_latlon_valid        (FtLatLon p);
/* Offset a point by metres east/north (local tangent plane). */
FtLatLon ft_latlon_offset       (FtLatLon p, double east_m, double north_m);

/* Format "12.34 EUR" (or "-0.50 EUR"); caller frees. */
char    *ft_money_format        (gint64 minor, const char *currency);
/* Format a time of the simulated week as "Mon 08:14:05"; caller frees. */
char    *ft_time_format         (FtTime t);

/* RFC 4122 version 4 UUID built from two 64-bit random words (the caller
 * draws them from a named random stream, so ids are reproducible).
 * out must hold 37 bytes. */
void     ft_uuid_from_words     (guint64 hi, guint64 lo, char out[37]);
gboolean ft_uuid_valid          (const char *s);

/* Deterministic 64-bit mix (splitmix64) for deriving seeds and ids.
 * Inline: payments mixes a handful per request (keys, argument hashes). */
static inline guint64
ft_mix64 (guint64 x)
{
  x += G_GUINT64_CONSTANT (0x9e3779b97f4a7c15);
  x = (x ^ (x >> 30)) * G_GUINT64_CONSTANT (0xbf58476d1ce4e5b9);
  x = (x ^ (x >> 27)) * G_GUINT64_CONSTANT (0x94d049bb133111eb);
  return x ^ (x >> 31);
}
guint64  ft_hash_string64       (const char *s);

/* Arrays that grow all run (the ledger's transactions, the bookings, the
 * payments' key table): asks the kernel to back the 2 MiB-aligned interior
 * of the block at p (from malloc) with transparent huge pages, so filling
 * it takes a page fault per 2 MiB instead of per 4 KiB and random reads
 * miss the TLB less. A hint only: it changes no contents, and nothing
 * happens where the system does not support it or the block is small.
 * Returns the block's usable size, for ft_mem_hint_huge. */
gsize ft_mem_advise_huge (gpointer p);

/* Cheap to call after every append: advises again only when the array
 * (its first `used` bytes in use) has outgrown the block last advised,
 * whose size *advised keeps (0 at first). */
static inline void
ft_mem_hint_huge (gpointer p, gsize used, gsize *advised)
{
  if (G_UNLIKELY (used > *advised))
    *advised = ft_mem_advise_huge (p);
}

/* A plain array a run fills (*data holding len elements of elt bytes, room
 * for *cap): makes room for n in all, in a new block advised to huge pages
 * before the elements are copied in (*advised as for ft_mem_hint_huge);
 * nothing when there is room. New room is not cleared. */
void ft_mem_room (gpointer *data, guint len, guint *cap, guint n, gsize elt, gsize *advised);

/* Room for `more` elements after len, doubling (at least 256). */
static inline void
ft_mem_room_more (gpointer *data, guint len, guint *cap, guint more, gsize elt, gsize *advised)
{
  if (G_UNLIKELY (more > *cap - len))
    {
      guint64 want = MAX ((guint64) *cap * 2, 256);
      while (want < (guint64) len + more)
        want *= 2;
      g_assert (want <= G_MAXUINT);
      ft_mem_room (data, len, cap, (guint) want, elt, advised);
    }
}

/* Replaces *a by an array with room for n elements (its elements copied,
 * the rest cleared if clear), hinted to huge pages before anything is
 * written to it; *advised as for ft_mem_hint_huge. Nothing when *a already
 * holds n or more. */
void ft_mem_expect_array (GArray **a, gboolean clear, guint n, gsize *advised);

/* [group] key of kf as a string, as g_key_file_get_string reads it, but
 * with the raw value's escapes checked first: GLib 2.74 sets its GError
 * twice on a value with two bad escapes (a warning that aborts a test run
 * with fatal warnings; found by tests/fuzz). NULL with error untouched when
 * the key is absent; NULL with error set (G_KEY_FILE_ERROR, a message that
 * names the bad escape but not the key, for the caller to place) when the
 * value is not a valid string. */
char *ft_key_file_get_string (GKeyFile *kf, const char *group, const char *key, GError **error);

G_END_DECLS
