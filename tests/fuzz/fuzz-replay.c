/* fuzz-replay.c — a main() for the libFuzzer harnesses in builds without
 * libFuzzer: feeds every file named on the command line (folders are read
 * recursively, in name order) to LLVMFuzzerTestOneInput once, so the
 * committed corpus and the shared data replay under the normal ASan build.
 *
 *   fuzz-replay [--write-corpus=DIR [--max-seed=N]] [--as=NAME] [--bundle=DIR] PATH...
 *
 * --as=NAME     wrap the following files as one part "==> NAME <==" of a
 *               multi-file input (fuzz-common.h); --as= alone stops that.
 * --bundle=DIR  one input holding every file of DIR, each a part named
 *               after the file.
 * --write-corpus=DIR  write the inputs into DIR (a seed corpus for
 *               libFuzzer) instead of running them.
 * --max-seed=N  with --write-corpus: cut line-oriented inputs (CSV, TSV,
 *               key files: not starting with '{' or '[') longer than N
 *               bytes after their last whole line within N, so a 5 MB
 *               trip file seeds the fuzzer without slowing every run.
 * Missing paths are reported and skipped (the shared data is optional);
 * exit status 77 (skip) if there was nothing to replay.
 */
#include "fuzz-common.h"

#include <stdio.h>
#include <stdlib.h>

typedef struct {
  const char *as;
  const char *write_dir;
  gsize       max_seed;    /* 0 = no limit */
  guint       n_inputs;
} Replay;

static void
run_input (Replay *r, const char *label, const char *data, gsize len)
{
  r->n_inputs++;
  if (r->write_dir != NULL)
    {
      if (r->max_seed > 0 && len > r->max_seed && data[0] != '{' && data[0] != '[')
        {
          const char *nl = g_strrstr_len (data, (gssize) r->max_seed, "\n");
          if (nl != NULL)
            len = (gsize) (nl - data) + 1;
        }
      g_autofree char *sum = g_compute_checksum_for_data (G_CHECKSUM_SHA1, (const guchar *) data, len);
      g_autofree char *p = g_build_filename (r->write_dir, sum, NULL);
      g_autoptr(GError) e = NULL;
      if (!g_file_set_contents (p, data, (gssize) len, &e))
        {
          fprintf (stderr, "fuzz-replay: %s\n", e->message);
          exit (1);
        }
      return;
    }
  fprintf (stderr, "replay %s (%" G_GSIZE_FORMAT " bytes)\n", label, len);
  /* an exact-size copy, so ASan sees any read past the end */
  guint8 *copy = g_malloc (MAX (len, 1));
  memcpy (copy, data, len);
  LLVMFuzzerTestOneInput (copy, len);
  g_free (copy);
}

static void
run_file (Replay *r, const char *path)
{
  g_autofree char *text = NULL;
  gsize len = 0;
  g_autoptr(GError) e = NULL;
  if (!g_file_get_contents (path, &text, &len, &e))
    {
      fprintf (stderr, "fuzz-replay: %s\n", e->message);
      exit (1);
    }
  if (r->as == NULL)
    {
      run_input (r, path, text, len);
      return;
    }
  g_autoptr(GString) s = g_string_new (FUZZ_PART_HEADER);
  g_string_append (s, r->as);
  g_string_append (s, FUZZ_PART_TRAILER);
  g_string_append_len (s, text, (gssize) len);
  run_input (r, path, s->str, s->len);
}

static gint
cmp_names (gconstpointer a, gconstpointer b)
{
  return strcmp (*(char *const *) a, *(char *const *) b);
}

static GPtrArray *
sorted_entries (const char *dir)
{
  g_autoptr(GError) e = NULL;
  g_autoptr(GDir) d = g_dir_open (dir, 0, &e);
  if (d == NULL)
    {
      fprintf (stderr, "fuzz-replay: %s\n", e->message);
      exit (1);
    }
  GPtrArray *names = g_ptr_array_new_with_free_func (g_free);
  const char *n;
  while ((n = g_dir_read_name (d)) != NULL)
    if (n[0] != '.')
      g_ptr_array_add (names, g_strdup (n));
  g_ptr_array_sort (names, cmp_names);
  return names;
}

static void
run_path (Replay *r, const char *path)
{
  if (g_file_test (path, G_FILE_TEST_IS_DIR))
    {
      g_autoptr(GPtrArray) names = sorted_entries (path);
      for (guint i = 0; i < names->len; i++)
        {
          g_autofree char *p = g_build_filename (path, g_ptr_array_index (names, i), NULL);
          run_path (r, p);
        }
    }
  else if (g_file_test (path, G_FILE_TEST_IS_REGULAR))
    run_file (r, path);
  else
    fprintf (stderr, "fuzz-replay: %s: missing, skipped\n", path);
}

static void
run_bundle (Replay *r, const char *dir)
{
  if (!g_file_test (dir, G_FILE_TEST_IS_DIR))
    {
      fprintf (stderr, "fuzz-replay: %s: missing, skipped\n", dir);
      return;
    }
  g_autoptr(GPtrArray) names = sorted_entries (dir);
  g_autoptr(GString) s = g_string_new (NULL);
  for (guint i = 0; i < names->len; i++)
    {
      g_autofree char *p = g_build_filename (dir, g_ptr_array_index (names, i), NULL);
      g_autofree char *text = NULL;
      gsize len = 0;
      if (!g_file_test (p, G_FILE_TEST_IS_REGULAR) || !g_file_get_contents (p, &text, &len, NULL))
        continue;
      if (s->len > 0)
        g_string_append_c (s, '\n');
      g_string_append_printf (s, FUZZ_PART_HEADER "%s" FUZZ_PART_TRAILER, (char *) g_ptr_array_index (names, i));
      g_string_append_len (s, text, (gssize) len);
    }
  run_input (r, dir, s->str, s->len);
}

int
main (int argc, char **argv)
{
  Replay r = { NULL, NULL, 0, 0 };
  for (int i = 1; i < argc; i++)
    {
      const char *a = argv[i];
      if (g_str_has_prefix (a, "--as="))
        r.as = a[5] ? a + 5 : NULL;
      else if (g_str_has_prefix (a, "--bundle="))
        run_bundle (&r, a + 9);
      else if (g_str_has_prefix (a, "--write-corpus="))
        r.write_dir = a + 15;
      else if (g_str_has_prefix (a, "--max-seed="))
        r.max_seed = g_ascii_strtoull (a + 11, NULL, 10);
      else if (g_str_has_prefix (a, "--"))
        {
          fprintf (stderr, "usage: %s [--write-corpus=DIR [--max-seed=N]] [--as=NAME] [--bundle=DIR] PATH...\n", argv[0]);
          return 2;
        }
      else
        run_path (&r, a);
    }
  if (r.n_inputs == 0)
    {
      fprintf (stderr, "fuzz-replay: nothing to replay\n");
      return 77;
    }
  fprintf (stderr, "fuzz-replay: %s %u inputs\n", r.write_dir ? "wrote" : "replayed", r.n_inputs);
  return 0;
}
