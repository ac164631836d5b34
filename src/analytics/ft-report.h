/* ft-report.h — the run report: a multi-page PDF (title page with the run
 * and its KPIs, charts, tables) drawn with cairo from the aggregates, and
 * the same charts as PNG files and the tables as CSV files in a folder.
 * The caller chooses the paths (the CLI writes through FtOutput).
 */
#pragma once

#include "ft-analytics.h"

G_BEGIN_DECLS

#define FT_REPORT_N_PAGES 9

typedef struct {
  const char *title;        /* the run: scenario name, or "Live database" */
  const char *source;       /* the database's path, shown on the title page */
  const char *kind;         /* "simulated run" / "live database" */
} FtReportInfo;

/* Writes the PDF at pdf_path and, when dir is not NULL, PNG charts and CSV
 * tables into the existing folder dir. The aggregates must be built.
 * n_pages (nullable) gets the PDF's page count. */
gboolean ft_report_write (sqlite3 *db, const FtReportInfo *info, const char *pdf_path,
                          const char *dir, guint *n_pages, GError **error);

/* The report as `fleet-twin-cli report` and the app's "Export Report…"
 * write it: pdf_path must end in .pdf; the PNG charts and CSV tables go in
 * the folder of the same name without .pdf. Both are written through
 * FtOutput (beside the target, moved into place when complete); a target
 * that is not an earlier report is refused unless force. */
gboolean ft_report_export (sqlite3 *db, const FtReportInfo *info, const char *pdf_path, gboolean force,
                           guint *n_pages, GError **error);

G_END_DECLS
