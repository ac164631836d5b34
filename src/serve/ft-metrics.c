/* ft-metrics.c — Prometheus counters, gauges and histograms, and their
 * text exposition. See ft-metrics.h.
 */
#include "ft-config.h"
#include "ft-metrics.h"

#include <math.h>
#include <string.h>

typedef enum { KIND_COUNTER, KIND_GAUGE, KIND_HISTOGRAM } Kind;

static const double buckets[] = { 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25,
                                  0.5, 1, 2.5, 5, 10 };
#define N_BUCKETS G_N_ELEMENTS (buckets)

typedef struct {
  double  value;                /* counter, gauge */
  guint64 counts[N_BUCKETS];    /* histogram: per bucket (not cumulative) */
  guint64 count;
  double  sum;
} Series;

typedef struct {
  Kind        kind;
  char       *help;
  GHashTable *series;           /* labels ("" none) -> Series */
} Family;

struct _FtMetrics {
  GMutex      lock;
  GHashTable *families;         /* name -> Family */
};

static void
family_free (Family *f)
{
  g_hash_table_unref (f->series);
  g_free (f->help);
  g_free (f);
}

FtMetrics *
ft_metrics_new (void)
{
  FtMetrics *m = g_new0 (FtMetrics, 1);
  g_mutex_init (&m->lock);
  m->families = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, (GDestroyNotify) family_free);
  return m;
}

void
ft_metrics_free (FtMetrics *m)
{
  if (m == NULL)
    return;
  g_hash_table_unref (m->families);
  g_mutex_clear (&m->lock);
  g_free (m);
}

/* Called locked. NULL when the name is already a family of another kind. */
static Series *
series (FtMetrics *m, const char *name, const char *help, Kind kind, const char *labels)
{
  Family *f = g_hash_table_lookup (m->families, name);
  if (f == NULL)
    {
      f = g_new0 (Family, 1);
      f->kind = kind;
      f->help = g_strdup (help);
      f->series = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
      g_hash_table_insert (m->families, g_strdup (name), f);
    }
  g_return_val_if_fail (f->kind == kind, NULL);
  Series *s = g_hash_table_lookup (f->series, labels ? labels : "");
  if (s == NULL)
    {
      s = g_new0 (Series, 1);
      g_hash_table_insert (f->series, g_strdup (labels ? labels : ""), s);
    }
  return s;
}

void
ft_metrics_counter_add (FtMetrics *m, const char *name, const char *help, const char *labels, double v)
{
  g_mutex_lock (&m->lock);
  Series *s = series (m, name, help, KIND_COUNTER, labels);
  if (s && v > 0)
    s->value += v;
  g_mutex_unlock (&m->lock);
}

void
ft_metrics_gauge_set (FtMetrics *m, const char *name, const char *help, const char *labels, double v)
{
  g_mutex_lock (&m->lock);
  Series *s = series (m, name, help, KIND_GAUGE, labels);
  if (s)
    s->value = v;
  g_mutex_unlock (&m->lock);
}

void
ft_metrics_observe (FtMetrics *m, const char *name, const char *help, const char *labels, double v)
{
  g_mutex_lock (&m->lock);
  Series *s = series (m, name, help, KIND_HISTOGRAM, labels);
  if (s && isfinite (v))
    {
      for (guint i = 0; i < N_BUCKETS; i++)
        if (v <= buckets[i])
          {
            s->counts[i]++;
            break;
          }
      s->count++;
      s->sum += v;
    }
  g_mutex_unlock (&m->lock);
}

char *
ft_metrics_escape (const char *value)
{
  GString *o = g_string_new (NULL);
  for (const char *p = value; *p; p++)
    {
      if (*p == '\\' || *p == '"')
        g_string_append_c (o, '\\');
      if (*p == '\n')
        g_string_append (o, "\\n");
      else
        g_string_append_c (o, *p);
    }
  return g_string_free (o, FALSE);
}

static void
append_number (GString *o, double v)
{
  char buf[G_ASCII_DTOSTR_BUF_SIZE];
  if (isnan (v))
    g_string_append (o, "NaN");
  else if (isinf (v))
    g_string_append (o, v > 0 ? "+Inf" : "-Inf");
  else if (v == floor (v) && fabs (v) < 1e15)
    g_string_append_printf (o, "%.0f", v);
  else
    g_string_append (o, g_ascii_formatd (buf, sizeof buf, "%.15g", v));
}

static void
sample (GString *o, const char *name, const char *suffix, const char *labels, const char *extra, double v)
{
  g_string_append (o, name);
  g_string_append (o, suffix);
  if ((labels && *labels) || extra)
    {
      g_string_append_c (o, '{');
      if (labels && *labels)
        g_string_append (o, labels);
      if (labels && *labels && extra)
        g_string_append_c (o, ',');
      if (extra)
        g_string_append (o, extra);
      g_string_append_c (o, '}');
    }
  g_string_append_c (o, ' ');
  append_number (o, v);
  g_string_append_c (o, '\n');
}

char *
ft_metrics_render (FtMetrics *m)
{
  static const char *const types[] = { "counter", "gauge", "histogram" };
  GString *o = g_string_new (NULL);
  g_mutex_lock (&m->lock);
  g_autoptr(GList) names = g_hash_table_get_keys (m->families);
  names = g_list_sort (names, (GCompareFunc) strcmp);
  for (GList *l = names; l; l = l->next)
    {
      const char *name = l->data;
      Family *f = g_hash_table_lookup (m->families, name);
      g_string_append_printf (o, "# HELP %s %s\n# TYPE %s %s\n", name, f->help, name, types[f->kind]);
      g_autoptr(GList) ls = g_hash_table_get_keys (f->series);
      ls = g_list_sort (ls, (GCompareFunc) strcmp);
      for (GList *k = ls; k; k = k->next)
        {
          const Series *s = g_hash_table_lookup (f->series, k->data);
          if (f->kind != KIND_HISTOGRAM)
            {
              sample (o, name, "", k->data, NULL, s->value);
              continue;
            }
          guint64 cum = 0;
          for (guint i = 0; i < N_BUCKETS; i++)
            {
              char le[64], num[G_ASCII_DTOSTR_BUF_SIZE];
              cum += s->counts[i];
              g_snprintf (le, sizeof le, "le=\"%s\"", g_ascii_formatd (num, sizeof num, "%g", buckets[i]));
              sample (o, name, "_bucket", k->data, le, (double) cum);
            }
          sample (o, name, "_bucket", k->data, "le=\"+Inf\"", (double) s->count);
          sample (o, name, "_sum", k->data, NULL, s->sum);
          sample (o, name, "_count", k->data, NULL, (double) s->count);
        }
    }
  g_mutex_unlock (&m->lock);
  return g_string_free (o, FALSE);
}
