/* ft-store-private.h — store internals for its own tests: open a file but
 * migrate it only up to a chosen schema version (to build "old" files and
 * test the migration path from them), and the latest version this build
 * knows.
 */
#pragma once

#include "ft-store.h"

G_BEGIN_DECLS

#define FT_STORE_SCHEMA_LATEST 5

/* Like ft_store_open but stops migrating at target_version (1..latest). */
FtStore *ft_store_open_at_version (const char *path, const FtStoreConfig *cfg,
                                   int target_version, GError **error);

G_END_DECLS
