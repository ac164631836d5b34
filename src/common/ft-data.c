/* ft-data.c — the data folders of an installed or uninstalled program and
 * the lookup of shipped files in them (scenarios by name, Demo City's
 * tiles). Installed programs find <prefix>/<datadir>/fleet-twin beside
 * their own bin/ folder first, so a DESTDIR or relocated install uses its
 * own files, never the source tree it was built from. */
#include "ft-config.h"
#include "ft-data.h"

#include <stdlib.h>
#include <string.h>

G_DEFINE_QUARK (ft-data-error-quark, ft_data_error)

static void
add_unique (GPtrArray *dirs, char *dir)
{
  for (guint i = 0; i < dirs->len; i++)
    if (g_strcmp0 (g_ptr_array_index (dirs, i), dir) == 0)
      {
        g_free (dir);
        return;
      }
  g_ptr_array_add (dirs, dir);
}

/* Is path inside folder (both absolute)? */
static gboolean
is_inside (const char *path, const char *folder)
{
  gsize n = strlen (folder);
  while (n > 1 && folder[n - 1] == '/')
    n--;
  return n > 0 && strncmp (path, folder, n) == 0 && path[n] == '/';
}

/* The build tree as the kernel names it (symbolic links resolved, as in
 * /proc/self/exe). */
static char *
real_build_dir (void)
{
  char *r = realpath (FT_BUILD_DIR, NULL);
  if (r == NULL)
    return g_strdup (FT_BUILD_DIR);
  char *dup = g_strdup (r);
  free (r);
  return dup;
}

GStrv
ft_data_dirs_for (const char *exe, const char *env)
{
  GPtrArray *dirs = g_ptr_array_new ();
  if (env && env[0])
    add_unique (dirs, g_strdup (env));
  gboolean relocated = FALSE, uninstalled = FALSE;
  if (exe && g_path_is_absolute (exe))
    {
      g_autofree char *exe_dir = g_path_get_dirname (exe);
      /* <prefix>/<bindir>/program -> <prefix>/<datadir>/fleet-twin */
      if (!g_path_is_absolute (FT_BINDIR) && !g_path_is_absolute (FT_DATADIR_REL))
        {
          g_autofree char *suffix = g_strconcat ("/", FT_BINDIR, NULL);
          if (g_str_has_suffix (exe_dir, suffix))
            {
              g_autofree char *prefix = g_strndup (exe_dir, strlen (exe_dir) - strlen (suffix));
              char *cand = g_build_filename (prefix[0] ? prefix : "/", FT_DATADIR_REL, "fleet-twin", NULL);
              if (g_file_test (cand, G_FILE_TEST_IS_DIR))
                {
                  add_unique (dirs, cand);
                  cand = NULL;
                  relocated = TRUE;
                }
              g_free (cand);
            }
        }
      if (!relocated)
        {
          g_autofree char *build = real_build_dir ();
          uninstalled = is_inside (exe, build) || is_inside (exe, FT_BUILD_DIR);
        }
    }
  if (uninstalled)
    {
      add_unique (dirs, g_strdup (FT_SOURCE_DIR));
      add_unique (dirs, g_build_filename (FT_BUILD_DIR, "data", NULL));
    }
  else
    add_unique (dirs, g_strdup (FT_DATADIR));
  g_ptr_array_add (dirs, NULL);
  return (GStrv) g_ptr_array_free (dirs, FALSE);
}

GStrv
ft_data_dirs (void)
{
  g_autofree char *exe = g_file_read_link ("/proc/self/exe", NULL);
  return ft_data_dirs_for (exe, g_getenv ("FT_DATA_DIR"));
}

char *
ft_data_find (const char *rel)
{
  g_return_val_if_fail (rel != NULL, NULL);
  g_auto (GStrv) dirs = ft_data_dirs ();
  for (guint i = 0; dirs[i]; i++)
    {
      char *p = g_build_filename (dirs[i], rel, NULL);
      if (g_file_test (p, G_FILE_TEST_IS_REGULAR))
        return p;
      g_free (p);
    }
  return NULL;
}

char *
ft_data_find_named (const char *subdir, const char *name, const char *const *exts,
                    const char *what, GError **error)
{
  g_return_val_if_fail (subdir != NULL && name != NULL && what != NULL, NULL);
  static const char *const no_ext[] = { "", NULL };
  if (exts == NULL)
    exts = no_ext;
  if (strchr (name, '/') || g_file_test (name, G_FILE_TEST_IS_REGULAR))
    return g_strdup (name);
  g_auto (GStrv) dirs = ft_data_dirs ();
  g_autoptr (GString) where = g_string_new (NULL);
  if (name[0] != '\0' && strcmp (name, ".") != 0 && strcmp (name, "..") != 0)
    for (guint i = 0; dirs[i]; i++)
      {
        for (guint e = 0; exts[e]; e++)
          {
            g_autofree char *base = g_strconcat (name, exts[e], NULL);
            char *p = g_build_filename (dirs[i], subdir, base, NULL);
            if (g_file_test (p, G_FILE_TEST_IS_REGULAR))
              return p;
            g_free (p);
          }
      }
  /* Name the folders that exist (all of them when none does). */
  for (int pass = 0; pass < 2 && where->len == 0; pass++)
    for (guint i = 0; dirs[i]; i++)
      {
        g_autofree char *d = g_build_filename (dirs[i], subdir, NULL);
        if (pass == 0 && !g_file_test (d, G_FILE_TEST_IS_DIR))
          continue;
        g_string_append_printf (where, "%s%s", where->len ? ", " : "", d);
      }
  g_set_error (error, FT_DATA_ERROR, FT_DATA_ERROR_NOT_FOUND,
               "%s '%s' not found: no such file here, and none of that name in %s",
               what, name, where->str);
  return NULL;
}
