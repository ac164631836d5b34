/* ft-wall-scene.c — the wallboard's scene: alerts ring, revenue of the
 * current day, lost-demand spike detection, KPI history, extents and
 * district centres, and the time syntax of `render --from/--to`.
 */
#include "ft-wall-scene.h"
#include "ft-wall-error.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

G_DEFINE_QUARK (ft-wall-error-quark, ft_wall_error)

FtWallScene *
ft_wall_scene_new (void)
{
  FtWallScene *s = g_new0 (FtWallScene, 1);
  s->vehicles = g_array_new (FALSE, FALSE, sizeof (FtWallVehicle));
  s->vans = g_array_new (FALSE, FALSE, sizeof (FtWallVan));
  s->history = g_array_new (FALSE, FALSE, sizeof (FtWallSample));
  s->service_level = -1;
  s->battery_available = -1;
  s->open_tasks = -1;
  s->rev_day = -1;
  s->lost_bucket = -1;
  g_strlcpy (s->currency, "EUR", sizeof s->currency);
  return s;
}

void
ft_wall_scene_free (FtWallScene *s)
{
  if (s == NULL)
    return;
  g_array_unref (s->vehicles);
  g_array_unref (s->vans);
  g_array_unref (s->history);
  g_free (s->source_label);
  g_free (s->status);
  g_free (s);
}

void
ft_wall_project (FtLatLon p, float *mx, float *my)
{
  double lat = CLAMP (p.lat, -85.05112878, 85.05112878);
  double s = sin (lat * G_PI / 180.0);
  *mx = (float) ((p.lon + 180.0) / 360.0);
  *my = (float) (0.5 - log ((1 + s) / (1 - s)) / (4 * G_PI));
}

FtLatLon
ft_wall_unproject (double mx, double my)
{
  FtLatLon p;
  p.lon = mx * 360.0 - 180.0;
  double n = G_PI - 2.0 * G_PI * my;
  p.lat = 180.0 / G_PI * atan (0.5 * (exp (n) - exp (-n)));
  return p;
}

void
ft_wall_scene_alert (FtWallScene *s, FtWallAlertKind kind, FtTime t, const char *fmt, ...)
{
  g_return_if_fail (s != NULL && fmt != NULL);
  guint slot = (s->alert_head + s->n_alerts) % FT_WALL_MAX_ALERTS;
  if (s->n_alerts == FT_WALL_MAX_ALERTS)
    {
      slot = s->alert_head;
      s->alert_head = (s->alert_head + 1) % FT_WALL_MAX_ALERTS;
    }
  else
    s->n_alerts++;
  FtWallAlert *a = &s->alerts[slot];
  a->t = t;
  a->kind = kind;
  va_list ap;
  va_start (ap, fmt);
  g_vsnprintf (a->text, sizeof a->text, fmt, ap);
  va_end (ap);
  s->alert_serial++;
}

const FtWallAlert *
ft_wall_scene_get_alert (const FtWallScene *s, guint i)
{
  g_return_val_if_fail (s != NULL, NULL);
  if (i >= s->n_alerts)
    return NULL;
  return &s->alerts[(s->alert_head + s->n_alerts - 1 - i) % FT_WALL_MAX_ALERTS];
}

void
ft_wall_scene_set_status (FtWallScene *s, const char *status)
{
  g_return_if_fail (s != NULL);
  if (g_strcmp0 (s->status, status) == 0)
    return;
  g_free (s->status);
  s->status = g_strdup (status);
}

void
ft_wall_scene_set_revenue_total (FtWallScene *s, FtTime t, gint64 total_minor)
{
  g_return_if_fail (s != NULL);
  gint64 day = t / FT_DAY;
  if (s->rev_day < 0)
    /* first call: a source that starts on Monday 00:00 earned nothing
     * before; one that starts later cannot say what today's share is, so
     * counting starts now */
    s->rev_day_base = day == 0 ? 0 : total_minor;
  else if (day != s->rev_day)
    /* sources call exactly at midnight when a jump crosses it */
    s->rev_day_base = t % FT_DAY == 0 ? total_minor : s->rev_total;
  s->rev_day = day;
  s->rev_total = total_minor;
  s->revenue_today_minor = total_minor - s->rev_day_base;
}

static void
close_lost_bucket (FtWallScene *s)
{
  guint n = s->lost_in_bucket;
  if (s->n_lost_hist > 0)
    {
      double usual = 0;
      for (guint i = 0; i < s->n_lost_hist; i++)
        usual += s->lost_hist[i];
      usual /= s->n_lost_hist;
      double limit = MAX (5.0, 2.0 * usual);
      if (n > limit)
        {
          char a[16], b[16];
          ft_wall_format_time (s->lost_bucket * FT_WALL_LOST_BUCKET, a, sizeof a);
          ft_wall_format_time ((s->lost_bucket + 1) * FT_WALL_LOST_BUCKET, b, sizeof b);
          ft_wall_scene_alert (s, FT_WALL_ALERT_LOST_DEMAND, (s->lost_bucket + 1) * FT_WALL_LOST_BUCKET,
                               "Lost-demand spike: %u requests lost %s–%s (usual %.1f per 15 min)",
                               n, a, strchr (b, ' ') ? strchr (b, ' ') + 1 : b, usual);
        }
    }
  memmove (s->lost_hist + 1, s->lost_hist, sizeof s->lost_hist[0] * (FT_WALL_LOST_WINDOW - 1));
  s->lost_hist[0] = n;
  s->n_lost_hist = MIN (s->n_lost_hist + 1, FT_WALL_LOST_WINDOW);
  s->lost_in_bucket = 0;
}

void
ft_wall_scene_note_lost (FtWallScene *s, FtTime t, guint n)
{
  g_return_if_fail (s != NULL);
  gint64 b = t / FT_WALL_LOST_BUCKET;
  if (s->lost_bucket < 0)
    s->lost_bucket = b;
  while (s->lost_bucket < b)
    {
      close_lost_bucket (s);
      s->lost_bucket++;
    }
  s->lost_in_bucket += n;
  s->lost_total += n;
}

void
ft_wall_scene_sample (FtWallScene *s)
{
  g_return_if_fail (s != NULL);
  if (s->history->len > 0)
    {
      const FtWallSample *last = &g_array_index (s->history, FtWallSample, s->history->len - 1);
      if (s->t - last->t < FT_WALL_SAMPLE_EVERY)
        return;
    }
  FtWallSample x = { 0 };
  x.t = s->t;
  x.service_level = (float) s->service_level;
  x.battery_available = (float) s->battery_available;
  x.open_tasks = (gint32) s->open_tasks;
  /* requests lost over the last hour of closed buckets */
  guint sum = 0, nb = MIN (s->n_lost_hist, 4u);
  for (guint i = 0; i < nb; i++)
    sum += s->lost_hist[i];
  x.lost_per_hour = nb ? (float) sum * 4.0f / nb : 0;
  x.revenue_today_minor = s->revenue_today_minor;
  g_array_append_val (s->history, x);
}

gboolean
ft_wall_scene_extent (const FtWallScene *s, double *mx0, double *my0, double *mx1, double *my1)
{
  g_return_val_if_fail (s != NULL, FALSE);
  double x0 = G_MAXDOUBLE, y0 = G_MAXDOUBLE, x1 = -G_MAXDOUBLE, y1 = -G_MAXDOUBLE;
  for (guint i = 0; i < s->vehicles->len; i++)
    {
      const FtWallVehicle *v = &g_array_index (s->vehicles, FtWallVehicle, i);
      x0 = MIN (x0, v->mx); x1 = MAX (x1, v->mx);
      y0 = MIN (y0, v->my); y1 = MAX (y1, v->my);
    }
  for (guint i = 0; i < s->vans->len; i++)
    {
      const FtWallVan *v = &g_array_index (s->vans, FtWallVan, i);
      x0 = MIN (x0, v->mx); x1 = MAX (x1, v->mx);
      y0 = MIN (y0, v->my); y1 = MAX (y1, v->my);
    }
  if (x0 > x1)
    return FALSE;
  *mx0 = x0; *my0 = y0; *mx1 = x1; *my1 = y1;
  return TRUE;
}

guint
ft_wall_scene_districts (const FtWallScene *s, double *mx, double *my, guint max)
{
  double x0, y0, x1, y1;
  if (!ft_wall_scene_extent (s, &x0, &y0, &x1, &y1) || max == 0)
    return 0;
  enum { G = 4 };
  guint count[G * G] = { 0 };
  double w = MAX (x1 - x0, 1e-12), h = MAX (y1 - y0, 1e-12);
  for (guint i = 0; i < s->vehicles->len; i++)
    {
      const FtWallVehicle *v = &g_array_index (s->vehicles, FtWallVehicle, i);
      int cx = CLAMP ((int) ((v->mx - x0) / w * G), 0, G - 1);
      int cy = CLAMP ((int) ((v->my - y0) / h * G), 0, G - 1);
      count[cy * G + cx]++;
    }
  guint n = 0;
  gboolean used[G * G] = { FALSE };
  while (n < max)
    {
      int best = -1;
      for (int c = 0; c < G * G; c++)
        if (!used[c] && count[c] > 0 && (best < 0 || count[c] > count[best]))
          best = c;
      if (best < 0)
        break;
      used[best] = TRUE;
      mx[n] = x0 + (best % G + 0.5) * w / G;
      my[n] = y0 + (best / G + 0.5) * h / G;
      n++;
    }
  return n;
}

gboolean
ft_wall_parse_time (const char *text, FtTime *out, GError **error)
{
  g_return_val_if_fail (text != NULL && out != NULL, FALSE);
  const char *p = text;
  while (*p == ' ')
    p++;
  char *end = NULL;
  gint64 day = 0;
  if (g_ascii_isdigit (*p))
    {
      guint64 v = g_ascii_strtoull (p, &end, 10);
      if (end != p && *end == 's' && end[1] == '\0' && v <= 366ull * 86400)
        {
          *out = (FtTime) v * 1000;
          return TRUE;
        }
      if (end != p && *end == 'd' && v <= 366)
        {
          day = (gint64) v;
          p = end + 1;
          while (*p == ' ')
            p++;
        }
    }
  unsigned hh = 0, mm = 0, ss = 0;
  int used = 0;
  int n = sscanf (p, "%2u:%2u%n:%2u%n", &hh, &mm, &used, &ss, &used);
  if (n < 2 || p[used] != '\0' || hh > 23 || mm > 59 || ss > 59 || !g_ascii_isdigit (*p))
    {
      g_set_error (error, FT_WALL_ERROR, FT_WALL_ERROR_INVALID,
                   "time “%s” not understood: use HH:MM, HH:MM:SS, “Nd HH:MM” (day N from Monday 0d) or seconds “3600s”",
                   text);
      return FALSE;
    }
  *out = day * FT_DAY + (FtTime) hh * FT_HOUR + (FtTime) mm * FT_MINUTE + (FtTime) ss * 1000;
  return TRUE;
}

void
ft_wall_format_time (FtTime t, char *buf, gsize len)
{
  static const char *days[] = { "Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun" };
  if (t < 0)
    t = 0;
  gint64 d = t / FT_DAY, r = (t % FT_DAY) / 1000;
  g_snprintf (buf, len, "%s %02d:%02d:%02d", days[d % 7], (int) (r / 3600), (int) (r / 60 % 60), (int) (r % 60));
}
