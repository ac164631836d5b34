/* ft-test.c — helpers the test folders share (see ft-test.h): paths to
 * the source tree and the shared data, recursive removal of temporary
 * trees, and the benchmarks' median.
 */
#include "ft-config.h"
#include "ft-test.h"

#include <glib/gstdio.h>
#include <stdlib.h>

const char *
ft_test_source_dir (void)
{
  const char *d = g_getenv ("FT_SOURCE_DIR");
  return d != NULL && *d != '\0' ? d : FT_SOURCE_DIR;
}

const char *
ft_test_shared_dir (void)
{
  const char *d = g_getenv ("FT_SHARED_DATA_DIR");
  return d != NULL && *d != '\0' ? d : FT_SHARED_DATA_DIR;
}

char *
ft_test_source_path (const char *rel)
{
  return g_build_filename (ft_test_source_dir (), rel, NULL);
}

char *
ft_test_shared_path (const char *rel)
{
  return g_build_filename (ft_test_shared_dir (), rel, NULL);
}

void
ft_test_rm_rf (const char *path)
{
  if (g_file_test (path, G_FILE_TEST_IS_DIR) && !g_file_test (path, G_FILE_TEST_IS_SYMLINK))
    {
      g_autoptr(GDir) d = g_dir_open (path, 0, NULL);
      const char *n;

      while (d != NULL && (n = g_dir_read_name (d)) != NULL)
        {
          g_autofree char *p = g_build_filename (path, n, NULL);
          ft_test_rm_rf (p);
        }
      g_rmdir (path);
    }
  else
    g_unlink (path);
}

int
ft_test_cmp_double (const void *a, const void *b)
{
  double x = *(const double *) a, y = *(const double *) b;
  return (x > y) - (x < y);
}

double
ft_test_median (double *v, guint n)
{
  if (n == 0)
    return 0;
  qsort (v, n, sizeof (double), ft_test_cmp_double);
  return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}
