/* ft-test.h — helpers the test folders share: where the source tree and the
 * shared data are (FT_SOURCE_DIR / FT_SHARED_DATA_DIR from the test
 * environment, else the paths configured at build time), removing a
 * temporary tree, and the ordering and median the benchmarks report.
 * Plain GLib: benchmarks link it without Check.
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

const char *ft_test_source_dir  (void);
const char *ft_test_shared_dir  (void);
/* rel may hold several components ("gbfs/x/system_information.json"). */
char       *ft_test_source_path (const char *rel);
char       *ft_test_shared_path (const char *rel);

/* Removes path: a file, or a directory and everything under it (symbolic
 * links are removed, never followed). */
void        ft_test_rm_rf       (const char *path);

/* qsort comparator for doubles, and the median of v[0..n) (sorts v). */
int         ft_test_cmp_double  (const void *a, const void *b);
double      ft_test_median      (double *v, guint n);

G_END_DECLS
