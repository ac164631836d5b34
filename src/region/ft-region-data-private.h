/* ft-region-data-private.h — what ft-region-data.c (residency, retention,
 * the cross-region report) and ft-region-rights.c (export, erasure) share:
 * the meta keys a region's stores are tagged with, the coarsening grid's
 * bounds, and small SQLite helpers.
 */
#pragma once

#include "ft-region-data.h"
#include "ft-file.h"

#include <sqlite3.h>

G_BEGIN_DECLS

#define FT_REGION_META_NAME         "ft.region.name"
#define FT_REGION_META_JURISDICTION "ft.region.jurisdiction"

#define FT_REGION_DEFAULT_CELL_M 500.0
#define FT_REGION_MIN_CELL_M     50.0
#define FT_REGION_MAX_CELL_M     5000.0

/* FALSE with FT_REGION_DATA_ERROR_STORE naming what was being done. */
gboolean ft_region_data_sql_fail (sqlite3 *db, GError **error, const char *what);
gboolean ft_region_data_exec     (sqlite3 *db, const char *sql, GError **error);
/* ft_coarsen (lat, lon, cell_m, 0 | 1): the coarsened latitude or longitude. */
gboolean ft_region_data_register_functions (sqlite3 *db, GError **error);

G_END_DECLS
