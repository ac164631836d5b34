/* ft-file.c — bounded reads of regular files, symlink-safe tree removal, and
 * outputs written beside their target and moved into place when complete
 * (see ft-file.h for the rules).
 */
#include "ft-file.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <glib/gstdio.h>

G_DEFINE_QUARK (ft-file-error-quark, ft_file_error)

#define TMP_TAG ".ft-tmp-"

gboolean
ft_file_read (const char *path, gsize max_bytes, char **contents, gsize *len, GError **error)
{
  g_return_val_if_fail (path != NULL && contents != NULL, FALSE);
  *contents = NULL;
  if (len)
    *len = 0;
  int fd = open (path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
  if (fd < 0)
    {
      int e = errno;
      g_set_error (error, FT_FILE_ERROR, FT_FILE_ERROR_IO, "%s: %s", path, g_strerror (e));
      return FALSE;
    }
  struct stat st;
  if (fstat (fd, &st) != 0 || !S_ISREG (st.st_mode))
    {
      close (fd);
      g_set_error (error, FT_FILE_ERROR, FT_FILE_ERROR_NOT_REGULAR,
                   "%s is not a regular file (a device, pipe or folder cannot be read as one)", path);
      return FALSE;
    }
  if ((guint64) st.st_size > max_bytes)
    {
      close (fd);
      g_set_error (error, FT_FILE_ERROR, FT_FILE_ERROR_TOO_LARGE,
                   "%s is too large: %" G_GUINT64_FORMAT " bytes, the limit is %" G_GSIZE_FORMAT,
                   path, (guint64) st.st_size, max_bytes);
      return FALSE;
    }
  /* The file may grow while we read: never read past the limit. */
  gsize cap = (gsize) st.st_size + 1, n = 0;
  char *buf = g_malloc (cap + 1);
  for (;;)
    {
      if (n == cap)
        {
          if (cap > max_bytes)
            {
              g_free (buf);
              close (fd);
              g_set_error (error, FT_FILE_ERROR, FT_FILE_ERROR_TOO_LARGE,
                           "%s grew past the limit of %" G_GSIZE_FORMAT " bytes while being read", path, max_bytes);
              return FALSE;
            }
          cap = MIN (cap * 2, max_bytes + 1);
          buf = g_realloc (buf, cap + 1);
        }
      ssize_t r = read (fd, buf + n, cap - n);
      if (r < 0 && errno == EINTR)
        continue;
      if (r < 0)
        {
          int e = errno;
          g_free (buf);
          close (fd);
          g_set_error (error, FT_FILE_ERROR, FT_FILE_ERROR_IO, "%s: %s", path, g_strerror (e));
          return FALSE;
        }
      if (r == 0)
        break;
      n += (gsize) r;
    }
  close (fd);
  if (n > max_bytes)
    {
      g_free (buf);
      g_set_error (error, FT_FILE_ERROR, FT_FILE_ERROR_TOO_LARGE,
                   "%s grew past the limit of %" G_GSIZE_FORMAT " bytes while being read", path, max_bytes);
      return FALSE;
    }
  buf[n] = '\0';
  *contents = buf;
  if (len)
    *len = n;
  return TRUE;
}

gboolean
ft_file_remove_tree (const char *path, GError **error)
{
  struct stat st;
  if (lstat (path, &st) != 0)
    {
      if (errno == ENOENT)
        return TRUE;
      g_set_error (error, FT_FILE_ERROR, FT_FILE_ERROR_IO, "%s: %s", path, g_strerror (errno));
      return FALSE;
    }
  if (S_ISDIR (st.st_mode))
    {
      GDir *d = g_dir_open (path, 0, NULL);
      if (d)
        {
          const char *n;
          gboolean ok = TRUE;
          while (ok && (n = g_dir_read_name (d)) != NULL)
            {
              g_autofree char *child = g_build_filename (path, n, NULL);
              ok = ft_file_remove_tree (child, error);
            }
          g_dir_close (d);
          if (!ok)
            return FALSE;
        }
      if (g_rmdir (path) != 0)
        {
          g_set_error (error, FT_FILE_ERROR, FT_FILE_ERROR_IO, "cannot remove %s: %s", path, g_strerror (errno));
          return FALSE;
        }
      return TRUE;
    }
  if (g_unlink (path) != 0 && errno != ENOENT)
    {
      g_set_error (error, FT_FILE_ERROR, FT_FILE_ERROR_IO, "cannot remove %s: %s", path, g_strerror (errno));
      return FALSE;
    }
  return TRUE;
}

/* ---- outputs ------------------------------------------------------------ */

struct _FtOutput {
  FtOutputKind kind;
  char        *target;
  char        *tmp;
};

static const char *const sqlite_sidecars[] = { "-wal", "-shm", "-journal" };

static char *
strip_slashes (const char *path)
{
  char *p = g_strdup (path);
  gsize n = strlen (p);
  while (n > 1 && G_IS_DIR_SEPARATOR (p[n - 1]))
    p[--n] = '\0';
  return p;
}

/* ".NAME.ft-tmp-" — the prefix of every temporary for target NAME. */
static char *
tmp_prefix (const char *base)
{
  return g_strconcat (".", base, TMP_TAG, NULL);
}

/* Seconds since the epoch when process pid started, from /proc; 0 unknown,
 * -1 when it has exited (a zombie not yet reaped). */
static gint64
process_start_s (pid_t pid)
{
  g_autofree char *statp = g_strdup_printf ("/proc/%ld/stat", (long) pid);
  g_autofree char *text = NULL;
  if (!g_file_get_contents (statp, &text, NULL, NULL))
    return 0;
  /* Field 3 is the state; field 22 (starttime, clock ticks after boot)
   * comes after the command name in parentheses, which may hold spaces. */
  const char *p = strrchr (text, ')');
  if (p == NULL)
    return 0;
  if (p[1] == ' ' && (p[2] == 'Z' || p[2] == 'X'))
    return -1;
  unsigned long long ticks = 0;
  int field = 2;
  for (p++; *p && field < 22; p++)
    if (*p == ' ')
      {
        field++;
        if (field == 22)
          ticks = g_ascii_strtoull (p + 1, NULL, 10);
      }
  g_autofree char *boot = NULL;
  if (ticks == 0 || !g_file_get_contents ("/proc/stat", &boot, NULL, NULL))
    return 0;
  const char *b = strstr (boot, "\nbtime ");
  long hz = sysconf (_SC_CLK_TCK);
  if (b == NULL || hz <= 0)
    return 0;
  return (gint64) g_ascii_strtoll (b + 7, NULL, 10) + (gint64) (ticks / (unsigned long long) hz);
}

/* Is the process that made temporary `path` still writing it? A live
 * process with that id that started after the temporary was last changed
 * is another process that was given the same id. */
static gboolean
writer_alive (pid_t pid, const char *path)
{
  if (kill (pid, 0) != 0 && errno != EPERM)
    return FALSE;
  struct stat st;
  gint64 started = process_start_s (pid);
  if (started < 0)
    return FALSE;
  if (started > 0 && lstat (path, &st) == 0 && started > (gint64) st.st_mtime + 1)
    return FALSE;
  return TRUE;
}

guint
ft_output_sweep (const char *target_in)
{
  g_return_val_if_fail (target_in != NULL, 0);
  g_autofree char *target = strip_slashes (target_in);
  g_autofree char *parent = g_path_get_dirname (target);
  g_autofree char *base = g_path_get_basename (target);
  g_autofree char *prefix = tmp_prefix (base);
  gsize pl = strlen (prefix);
  g_autoptr(GDir) d = g_dir_open (parent, 0, NULL);
  if (d == NULL)
    return 0;
  g_autoptr(GPtrArray) dead = g_ptr_array_new_with_free_func (g_free);
  const char *n;
  while ((n = g_dir_read_name (d)) != NULL)
    {
      if (strncmp (n, prefix, pl) != 0)
        continue;
      char *end = NULL;
      errno = 0;
      long pid = strtol (n + pl, &end, 10);
      if (errno != 0 || end == n + pl || *end != '-' || pid <= 0)
        continue;
      if (pid == (long) getpid ())
        continue;                       /* one of ours, still being written */
      g_autofree char *path = g_build_filename (parent, n, NULL);
      if (writer_alive ((pid_t) pid, path))
        continue;
      g_ptr_array_add (dead, g_steal_pointer (&path));
    }
  guint removed = 0;
  for (guint i = 0; i < dead->len; i++)
    if (ft_file_remove_tree (dead->pdata[i], NULL))
      removed++;
  return removed;
}

static gboolean
dir_is_empty (const char *path)
{
  GDir *d = g_dir_open (path, 0, NULL);
  if (d == NULL)
    return FALSE;
  gboolean empty = g_dir_read_name (d) == NULL;
  g_dir_close (d);
  return empty;
}

FtOutput *
ft_output_begin (const char *target_in, FtOutputKind kind, FtOutputOwnFunc is_own, gboolean force,
                 GError **error)
{
  g_return_val_if_fail (target_in != NULL, NULL);
  g_autofree char *target = strip_slashes (target_in);
  g_autofree char *base = g_path_get_basename (target);
  if (*target == '\0' || strcmp (base, "/") == 0 || strcmp (base, ".") == 0 || strcmp (base, "..") == 0)
    {
      g_set_error (error, FT_FILE_ERROR, FT_FILE_ERROR_IO,
                   "\"%s\" cannot be an output: name a file or folder such as out/result", target_in);
      return NULL;
    }
  struct stat st;
  if (lstat (target, &st) == 0)
    {
      gboolean want_dir = kind == FT_OUTPUT_DIR;
      if (S_ISLNK (st.st_mode))
        {
          g_set_error (error, FT_FILE_ERROR, FT_FILE_ERROR_NOT_OURS,
                       "%s is a symbolic link: refusing to write through it (name the real path)", target);
          return NULL;
        }
      if (want_dir ? !S_ISDIR (st.st_mode) : !S_ISREG (st.st_mode))
        {
          g_set_error (error, FT_FILE_ERROR, FT_FILE_ERROR_NOT_OURS,
                       "%s exists and is not a %s: refusing to replace it", target, want_dir ? "folder" : "file");
          return NULL;
        }
      gboolean empty = want_dir ? dir_is_empty (target) : st.st_size == 0;
      if (!empty && !force && (is_own == NULL || !is_own (target)))
        {
          g_set_error (error, FT_FILE_ERROR, FT_FILE_ERROR_NOT_OURS,
                       "%s exists and is not Fleet Twin's own output: refusing to replace it "
                       "(move it away, or give --force to replace it)", target);
          return NULL;
        }
    }
  else if (errno != ENOENT)
    {
      g_set_error (error, FT_FILE_ERROR, FT_FILE_ERROR_IO, "%s: %s", target, g_strerror (errno));
      return NULL;
    }

  g_autofree char *parent = g_path_get_dirname (target);
  if (kind != FT_OUTPUT_DIR && !g_file_test (parent, G_FILE_TEST_IS_DIR))
    {
      g_set_error (error, FT_FILE_ERROR, FT_FILE_ERROR_IO, "cannot write %s: the folder %s does not exist",
                   target, parent);
      return NULL;
    }
  if (g_mkdir_with_parents (parent, 0755) != 0)   /* a folder output: like mkdir -p */
    {
      g_set_error (error, FT_FILE_ERROR, FT_FILE_ERROR_IO, "cannot create %s: %s", parent, g_strerror (errno));
      return NULL;
    }
  ft_output_sweep (target);

  g_autofree char *prefix = tmp_prefix (base);
  g_autofree char *tmpl = g_strdup_printf ("%s/%s%ld-XXXXXX", parent, prefix, (long) getpid ());
  if (kind == FT_OUTPUT_DIR)
    {
      if (g_mkdtemp_full (tmpl, 0755) == NULL)
        {
          g_set_error (error, FT_FILE_ERROR, FT_FILE_ERROR_IO, "cannot create a folder beside %s: %s",
                       target, g_strerror (errno));
          return NULL;
        }
      g_autofree char *marker = g_build_filename (tmpl, FT_OUTPUT_MARKER, NULL);
      if (!g_file_set_contents (marker, "Written by Fleet Twin; replaced whole when written again.\n", -1, error))
        {
          ft_file_remove_tree (tmpl, NULL);
          return NULL;
        }
    }
  else
    {
      int fd = g_mkstemp_full (tmpl, O_RDWR | O_CLOEXEC, 0644);
      if (fd < 0)
        {
          g_set_error (error, FT_FILE_ERROR, FT_FILE_ERROR_IO, "cannot create a file beside %s: %s",
                       target, g_strerror (errno));
          return NULL;
        }
      close (fd);
      /* SQLite opens an empty file as a new database. */
    }
  FtOutput *out = g_new0 (FtOutput, 1);
  out->kind = kind;
  out->target = g_steal_pointer (&target);
  out->tmp = g_steal_pointer (&tmpl);
  return out;
}

const char *
ft_output_get_path (FtOutput *out)
{
  g_return_val_if_fail (out != NULL, NULL);
  return out->tmp;
}

const char *
ft_output_get_target (FtOutput *out)
{
  g_return_val_if_fail (out != NULL, NULL);
  return out->target;
}

static void
output_free (FtOutput *out)
{
  g_free (out->target);
  g_free (out->tmp);
  g_free (out);
}

static void
remove_sidecars (const char *path)
{
  for (guint i = 0; i < G_N_ELEMENTS (sqlite_sidecars); i++)
    {
      g_autofree char *p = g_strconcat (path, sqlite_sidecars[i], NULL);
      g_unlink (p);
    }
}

void
ft_output_abort (FtOutput *out)
{
  if (out == NULL)
    return;
  ft_file_remove_tree (out->tmp, NULL);
  if (out->kind == FT_OUTPUT_SQLITE)
    remove_sidecars (out->tmp);
  output_free (out);
}

gboolean
ft_output_commit (FtOutput *out, GError **error)
{
  g_return_val_if_fail (out != NULL, FALSE);
  if (out->kind == FT_OUTPUT_SQLITE)
    {
      /* A closed store has folded its write-ahead log back; a log left
       * beside the temporary would mean the file is not complete. */
      g_autofree char *wal = g_strconcat (out->tmp, "-wal", NULL);
      struct stat st;
      if (lstat (wal, &st) == 0 && st.st_size > 0)
        {
          g_set_error (error, FT_FILE_ERROR, FT_FILE_ERROR_IO,
                       "%s is not complete (its write-ahead log is still open): not moving it to %s",
                       out->tmp, out->target);
          ft_output_abort (out);
          return FALSE;
        }
      remove_sidecars (out->tmp);
      /* The old file's log must not be applied to the new file. */
      remove_sidecars (out->target);
    }
  if (out->kind != FT_OUTPUT_DIR)
    {
      if (g_rename (out->tmp, out->target) != 0)
        {
          g_set_error (error, FT_FILE_ERROR, FT_FILE_ERROR_IO, "cannot move %s to %s: %s", out->tmp,
                       out->target, g_strerror (errno));
          ft_output_abort (out);
          return FALSE;
        }
      output_free (out);
      return TRUE;
    }

  /* A folder cannot replace a non-empty folder in one rename: move the old
   * one aside under a temporary name of ours (swept if we die here), move
   * the new one in, then remove the old one. */
  g_autofree char *old = NULL;
  struct stat st;
  if (lstat (out->target, &st) == 0)
    {
      g_autofree char *parent = g_path_get_dirname (out->target);
      g_autofree char *base = g_path_get_basename (out->target);
      g_autofree char *prefix = tmp_prefix (base);
      old = g_strdup_printf ("%s/%s%ld-old-%u", parent, prefix, (long) getpid (), g_random_int ());
      if (g_rename (out->target, old) != 0)
        {
          g_set_error (error, FT_FILE_ERROR, FT_FILE_ERROR_IO, "cannot move the old %s aside: %s",
                       out->target, g_strerror (errno));
          ft_output_abort (out);
          return FALSE;
        }
    }
  if (g_rename (out->tmp, out->target) != 0)
    {
      int e = errno;
      if (old)
        g_rename (old, out->target);
      g_set_error (error, FT_FILE_ERROR, FT_FILE_ERROR_IO, "cannot move %s to %s: %s", out->tmp,
                   out->target, g_strerror (e));
      ft_output_abort (out);
      return FALSE;
    }
  if (old)
    ft_file_remove_tree (old, NULL);
  output_free (out);
  return TRUE;
}

gboolean
ft_output_dir_is_marked (const char *dir)
{
  g_autofree char *marker = g_build_filename (dir, FT_OUTPUT_MARKER, NULL);
  struct stat st;
  return lstat (marker, &st) == 0 && S_ISREG (st.st_mode);
}

gboolean
ft_output_sqlite_app_id (const char *path, guint32 *app_id)
{
  *app_id = 0;
  int fd = open (path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
  if (fd < 0)
    return FALSE;
  guint8 h[100];
  struct stat st;
  gboolean ok = fstat (fd, &st) == 0 && S_ISREG (st.st_mode) && read (fd, h, sizeof h) == (ssize_t) sizeof h;
  close (fd);
  if (!ok || memcmp (h, "SQLite format 3", 16) != 0)
    return FALSE;
  /* The application id is the big-endian word at offset 68 of the header. */
  *app_id = ((guint32) h[68] << 24) | ((guint32) h[69] << 16) | ((guint32) h[70] << 8) | h[71];
  return TRUE;
}

gboolean
ft_output_is_ft_sqlite (const char *path)
{
  guint32 id;
  return ft_output_sqlite_app_id (path, &id) && id == FT_OUTPUT_STORE_APP_ID;
}
