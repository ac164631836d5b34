/* ft-assist-slots.c — slots from a rider's message: a vehicle code
 * ("FT-0042", "ft 42"), an amount ("€3.50", "3,50 eur", "7 euros"), a
 * distance ("5 km"), a clock time ("8:15", "8am", "yesterday", "this
 * morning"), a place (a geofence zone named in the text, or "lat, lon").
 */
#include "ft-assist-private.h"

#include <string.h>
#include <stdlib.h>

static gint64
parse_amount (const char *whole, const char *frac)
{
  gint64 w = g_ascii_strtoll (whole, NULL, 10);
  gint64 f = 0;
  if (frac && *frac)
    {
      f = g_ascii_strtoll (frac, NULL, 10);
      if (strlen (frac) == 1)
        f *= 10;
    }
  if (w > 1000000)
    return -1;
  return w * 100 + f;
}

void
ft_assist_slots_extract (FtAssist *a, const char *text, FtTime now, FtAssistSlots *s)
{
  g_autofree char *lower = g_utf8_strdown (text, -1);
  g_autoptr(GMatchInfo) m = NULL;

  memset (s, 0, sizeof *s);
  s->vehicle_index = -1;
  s->amount_minor = -1;
  s->km = -1;
  s->time = -1;
  s->place_zone = -1;

  if (g_regex_match (a->re_vehicle, lower, 0, &m))
    {
      g_autofree char *num = g_match_info_fetch (m, 1);
      gint64 n = g_ascii_strtoll (num, NULL, 10);
      guint v;
      if (n >= 0 && n <= 999999)
        {
          g_snprintf (s->vehicle, sizeof s->vehicle, "FT-%04d", (int) n);
          if (ft_fleet_lookup_name (a->core->fleet, s->vehicle, &v))
            s->vehicle_index = (gint32) v;
        }
    }
  g_clear_pointer (&m, g_match_info_free);
  if (g_regex_match (a->re_money, lower, 0, &m))
    {
      /* groups: 1 whole, 2 frac (sign before) | 3 whole, 4 frac (word after) */
      g_autofree char *w1 = g_match_info_fetch (m, 1);
      g_autofree char *f1 = g_match_info_fetch (m, 2);
      g_autofree char *w2 = g_match_info_fetch (m, 3);
      g_autofree char *f2 = g_match_info_fetch (m, 4);
      s->amount_minor = (w1 && *w1) ? parse_amount (w1, f1) : parse_amount (w2, f2);
    }
  g_clear_pointer (&m, g_match_info_free);
  if (g_regex_match (a->re_km, lower, 0, &m))
    {
      g_autofree char *k = g_match_info_fetch (m, 1);
      for (char *p = k; *p; p++)
        if (*p == ',')
          *p = '.';
      s->km = g_ascii_strtod (k, NULL);
      if (s->km > 1000)
        s->km = -1;
    }
  g_clear_pointer (&m, g_match_info_free);
  if (g_regex_match (a->re_clock, lower, 0, &m))
    {
      g_autofree char *h = g_match_info_fetch (m, 1);
      g_autofree char *mi = g_match_info_fetch (m, 2);
      g_autofree char *ap = g_match_info_fetch (m, 3);
      gint64 hh = g_ascii_strtoll (h, NULL, 10), mm = mi && *mi ? g_ascii_strtoll (mi, NULL, 10) : 0;
      if (ap && strcmp (ap, "pm") == 0 && hh < 12)
        hh += 12;
      if (ap && strcmp (ap, "am") == 0 && hh == 12)
        hh = 0;
      if (hh < 24 && mm < 60 && ((mi && *mi) || (ap && *ap)))
        {
          FtTime day = now - now % FT_DAY;
          FtTime t = day + hh * FT_HOUR + mm * FT_MINUTE;
          s->time = t <= now ? t : t - FT_DAY;
        }
    }
  g_clear_pointer (&m, g_match_info_free);
  if (s->time < 0)
    {
      FtTime day = now - now % FT_DAY;
      if (strstr (lower, "yesterday"))
        s->time = day - FT_DAY + 12 * FT_HOUR;
      else if (strstr (lower, "this morning"))
        s->time = MIN (now, day + 9 * FT_HOUR);
      else if (strstr (lower, "this afternoon"))
        s->time = MIN (now, day + 15 * FT_HOUR);
    }
  if (g_regex_match (a->re_latlon, lower, 0, &m))
    {
      g_autofree char *la = g_match_info_fetch (m, 1);
      g_autofree char *lo = g_match_info_fetch (m, 2);
      double lat = g_ascii_strtod (la, NULL), lon = g_ascii_strtod (lo, NULL);
      if (lat >= -90 && lat <= 90 && lon >= -180 && lon <= 180)
        {
          s->has_latlon = TRUE;
          s->latlon.lat = lat;
          s->latlon.lon = lon;
        }
    }
  if (a->core->geofences)
    {
      /* the longest zone name mentioned */
      gsize best = 0;
      for (guint z = 0; z < ft_geofences_n_zones (a->core->geofences); z++)
        {
          const FtGeofenceZone *gz = ft_geofences_get (a->core->geofences, z);
          if (!gz->name || strlen (gz->name) < 3)
            continue;
          g_autofree char *zn = g_utf8_strdown (gz->name, -1);
          if (strlen (zn) > best && strstr (lower, zn))
            {
              best = strlen (zn);
              s->place_zone = (gint) z;
            }
        }
    }
}
