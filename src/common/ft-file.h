/* ft-file.h — files in and out, safely.
 *
 * In: a bounded read of a regular file, so a device (/dev/zero), a FIFO or a
 * runaway file is refused with a message instead of being read until the
 * process is killed.
 *
 * Out: every output the project writes (a run database, a GBFS feed, a city
 * pack, an MBTiles file, a trace) is written beside its target under a
 * temporary name and moved into place only when complete, so a killed writer
 * never leaves a half-written output and never destroys the previous one. An
 * existing target that is not the project's own output is refused unless the
 * caller forces it. Temporaries carry the writer's process id; those of dead
 * writers are swept the next time the same target is written. Trees are
 * removed without following symbolic links.
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

#define FT_FILE_ERROR (ft_file_error_quark ())
GQuark ft_file_error_quark (void);

typedef enum {
  FT_FILE_ERROR_IO,          /* open, read, write, rename failed */
  FT_FILE_ERROR_NOT_REGULAR, /* a device, FIFO, folder … where a file was wanted */
  FT_FILE_ERROR_TOO_LARGE,   /* larger than the reader's limit */
  FT_FILE_ERROR_NOT_OURS,    /* an output target that is not the project's own */
} FtFileError;

/* Default bound for text inputs people edit (scenarios, parameter files). */
#define FT_FILE_MAX_TEXT  ((gsize) 16 * 1024 * 1024)

/* Reads a regular file of at most max_bytes into a NUL-terminated buffer.
 * Refuses anything else (FT_FILE_ERROR_NOT_REGULAR / _TOO_LARGE), naming
 * the path. len may be NULL. */
gboolean ft_file_read (const char *path, gsize max_bytes, char **contents, gsize *len, GError **error);

/* Removes a file, a symbolic link (the link, never its target) or a folder
 * tree. Symbolic links inside the tree are removed as links. Missing is
 * not an error. */
gboolean ft_file_remove_tree (const char *path, GError **error);

/* ---- outputs ------------------------------------------------------------ */

typedef enum {
  FT_OUTPUT_FILE,     /* one file */
  FT_OUTPUT_SQLITE,   /* one SQLite file; its -wal and -shm go with it */
  FT_OUTPUT_DIR,      /* a folder written whole */
} FtOutputKind;

/* Says whether an existing, non-empty target is the project's own output
 * of this kind (and so may be replaced). */
typedef gboolean (*FtOutputOwnFunc) (const char *path);

typedef struct _FtOutput FtOutput;

/* Starts writing `target`. Refuses (FT_FILE_ERROR_NOT_OURS) when the target
 * exists, is not empty and is_own says it is not the project's (is_own NULL:
 * nothing existing is ours), unless force. Refuses a symbolic link as target
 * and a target of the other kind (a folder where a file goes). Sweeps
 * temporaries that dead writers left beside the same target. For FT_OUTPUT_DIR
 * the temporary folder is created (and its parents, as mkdir -p; a file's
 * folder must exist), with a marker file that makes it the
 * project's own (see ft_output_dir_is_marked). */
FtOutput   *ft_output_begin     (const char *target, FtOutputKind kind, FtOutputOwnFunc is_own,
                                 gboolean force, GError **error);
/* Where to write: the temporary file or folder beside the target. */
const char *ft_output_get_path  (FtOutput *out);
const char *ft_output_get_target (FtOutput *out);
/* Moves the finished output into place (replacing the old one only now) and
 * frees `out`. On failure the old target is left as it was. */
gboolean    ft_output_commit    (FtOutput *out, GError **error);
/* Removes what was written and frees `out`. NULL is ignored. */
void        ft_output_abort     (FtOutput *out);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (FtOutput, ft_output_abort)

/* Removes temporaries (".NAME.ft-tmp-PID-…") beside `target` whose writing
 * process is gone. Returns how many were removed. */
guint       ft_output_sweep     (const char *target);

/* The own-output tests the project's writers use. */
gboolean    ft_output_dir_is_marked (const char *dir);      /* has the marker file */
gboolean    ft_output_is_ft_sqlite  (const char *path);     /* a Fleet Twin store (application_id) */
/* TRUE when path is an SQLite file; app_id gets its header's application id. */
gboolean    ft_output_sqlite_app_id (const char *path, guint32 *app_id);

#define FT_OUTPUT_MARKER     ".fleet-twin-output"
#define FT_OUTPUT_STORE_APP_ID 1179932489u   /* 'FTWI' */

G_END_DECLS
