/* ft-analytics-private.h — what the analytics files share: SQL helpers
 * and the error shorthand. ft-analytics.c builds the aggregates,
 * ft-analytics-export.c reads them (tables, KPIs).
 */
#pragma once

#include "ft-analytics.h"

G_BEGIN_DECLS

/* Sets error from the connection's last SQLite message; returns FALSE. */
gboolean ft_analytics_sql_fail (sqlite3 *db, GError **error, const char *doing);
gboolean ft_analytics_exec     (sqlite3 *db, const char *sql, GError **error, const char *doing);
/* Whether table `name` exists in db's main schema. */
gboolean ft_analytics_has_table (sqlite3 *db, const char *name);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (sqlite3_stmt, sqlite3_finalize)

G_END_DECLS
