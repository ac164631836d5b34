/* ft-kpi-chart.h — a small line chart of one KPI over simulated time, drawn
 * with cairo from the session's history (FtKpiSample array). Optionally a
 * second series in another colour (e.g. trips served and lost).
 */
#pragma once

#include <gtk/gtk.h>

G_BEGIN_DECLS

#define FT_TYPE_KPI_CHART (ft_kpi_chart_get_type ())
G_DECLARE_FINAL_TYPE (FtKpiChart, ft_kpi_chart, FT, KPI_CHART, GtkWidget)

GtkWidget *ft_kpi_chart_new        (void);
/* field offsets into FtKpiSample (G_STRUCT_OFFSET), -1 for none */
void       ft_kpi_chart_set_series (FtKpiChart *self, const char *title, int field, int field2,
                                    const char *unit, double scale);
void       ft_kpi_chart_set_history (FtKpiChart *self, GArray *history);

G_END_DECLS
