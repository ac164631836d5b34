/* ft-data.h — where the programs find the data they ship: scenarios,
 * Demo City's map tiles, experiments. Installed, that is
 * <prefix>/<datadir>/fleet-twin, found from the running executable (so a
 * DESTDIR, relocated or Flatpak install finds its own files) and then the
 * prefix configured at build time; run uninstalled from the build tree,
 * the source tree and the build tree's data/. $FT_DATA_DIR comes first. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

#define FT_DATA_ERROR (ft_data_error_quark ())
GQuark ft_data_error_quark (void);

typedef enum {
  FT_DATA_ERROR_NOT_FOUND,
} FtDataError;

/* The folders searched, in order, for a program at exe (an absolute path;
 * NULL when unknown) with $FT_DATA_DIR equal to env (NULL or "" if unset):
 * env; <exe's prefix>/<datadir>/fleet-twin when exe sits in <prefix>/<bindir>
 * and that folder exists; the source tree and <build>/data when exe is
 * inside the build tree; the configured <prefix>/<datadir>/fleet-twin.
 * An installed program never searches the source tree. */
GStrv  ft_data_dirs_for   (const char *exe, const char *env);
/* The same for the running program (/proc/self/exe, $FT_DATA_DIR). */
GStrv  ft_data_dirs       (void);
/* The first regular file rel (e.g. "demo-city.mbtiles",
 * "scenarios/demo-city-phase1.scenario") in ft_data_dirs (), or NULL. */
char  *ft_data_find       (const char *rel);
/* A file a person names: name itself when it is an existing regular file
 * or holds a '/' (its reader then reports a missing one); else
 * <dir>/<subdir>/<name><ext> for each folder and each ext of exts (NULL-ended,
 * "" for none) in turn. what ("scenario") names the kind in the error,
 * which names the folders it looked in. */
char  *ft_data_find_named (const char *subdir, const char *name, const char *const *exts,
                           const char *what, GError **error);

G_END_DECLS
