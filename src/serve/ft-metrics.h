/* ft-metrics.h — a small Prometheus registry: counters, gauges and
 * histograms in families with labels, rendered in the text exposition
 * format (version 0.0.4). Thread-safe: the server thread counts requests
 * while a simulation thread sets gauges.
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

typedef struct _FtMetrics FtMetrics;

#define FT_METRICS_CONTENT_TYPE "text/plain; version=0.0.4; charset=utf-8"

FtMetrics *ft_metrics_new          (void);
void       ft_metrics_free         (FtMetrics *m);
/* labels: NULL or preformatted `a="x",b="y"` (values escaped with
 * ft_metrics_escape). A family's type is fixed by its first use. */
void       ft_metrics_counter_add  (FtMetrics *m, const char *name, const char *help,
                                    const char *labels, double v);
void       ft_metrics_gauge_set    (FtMetrics *m, const char *name, const char *help,
                                    const char *labels, double v);
/* Histogram with latency buckets from 0.5 ms to 10 s (seconds). */
void       ft_metrics_observe      (FtMetrics *m, const char *name, const char *help,
                                    const char *labels, double v);
char      *ft_metrics_render       (FtMetrics *m);
/* A label value escaped for the exposition format (\\, \", \n). */
char      *ft_metrics_escape       (const char *value);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (FtMetrics, ft_metrics_free)

G_END_DECLS
