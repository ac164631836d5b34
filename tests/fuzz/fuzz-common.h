/* fuzz-common.h — helpers shared by the libFuzzer harnesses: GLib set-up
 * that turns criticals and warnings into aborts (a failed precondition is a
 * finding), a multi-file container for parsers that read a folder, and a
 * scratch folder per process.
 *
 * Container: an input that starts with "==> NAME <==\n" is a list of files
 * (the format `head` prints for several files); each header starts a file
 * that runs up to the newline before the next header. Any other input is
 * one file with the harness's default name.
 */
#pragma once

#include <glib.h>
#include <glib/gstdio.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

#define FUZZ_PART_HEADER "==> "
#define FUZZ_PART_TRAILER " <==\n"

typedef GArray FuzzParts;   /* of FuzzPart */

typedef struct {
  char       *name;   /* as written in the header, not validated */
  const char *data;   /* points into the input */
  gsize       len;
} FuzzPart;

/* A fatal GLib message ends in G_BREAKPOINT (SIGTRAP), which libFuzzer
 * does not treat as a crash: turn it into abort(), which it does (and so
 * writes the reproducer). */
static void
fuzz_on_trap (int sig)
{
  abort ();
}

static inline void
fuzz_init_glib (void)
{
  static gboolean done;
  if (done)
    return;
  done = TRUE;
  signal (SIGTRAP, fuzz_on_trap);
  g_log_set_always_fatal (G_LOG_LEVEL_ERROR | G_LOG_LEVEL_CRITICAL | G_LOG_LEVEL_WARNING);
  g_log_set_fatal_mask (NULL, G_LOG_LEVEL_ERROR | G_LOG_LEVEL_CRITICAL | G_LOG_LEVEL_WARNING);
}

/* FUZZ_VERBOSE=1 in the environment: say what became of each input (to
 * check that seeds reach past the first checks). */
static inline void
fuzz_verbose (const char *what, const GError *error)
{
  if (g_getenv ("FUZZ_VERBOSE") == NULL)
    return;
  if (error != NULL)
    g_printerr ("  %s: refused: %s\n", what, error->message);
  else
    g_printerr ("  %s: accepted\n", what);
}

static inline const char *
fuzz_find_header (const char *p, const char *end)
{
  /* next "\n==> " strictly after p */
  for (const char *q = p; q < end; q++)
    {
      q = memchr (q, '\n', (gsize) (end - q));
      if (q == NULL)
        return NULL;
      if ((gsize) (end - q - 1) >= strlen (FUZZ_PART_HEADER) &&
          memcmp (q + 1, FUZZ_PART_HEADER, strlen (FUZZ_PART_HEADER)) == 0)
        return q;
    }
  return NULL;
}

/* Splits data into parts (an array of FuzzPart; free with fuzz_parts_free).
 * An input without a leading header is one part named default_name. */
static inline FuzzParts *
fuzz_split_parts (const uint8_t *data, size_t size, const char *default_name)
{
  GArray *parts = g_array_new (FALSE, FALSE, sizeof (FuzzPart));
  const char *p = (const char *) data, *end = p + size;
  const gsize hl = strlen (FUZZ_PART_HEADER), tl = strlen (FUZZ_PART_TRAILER);
  if (size < hl || memcmp (p, FUZZ_PART_HEADER, hl) != 0)
    {
      FuzzPart one = { g_strdup (default_name), p, size };
      g_array_append_val (parts, one);
      return parts;
    }
  while (p < end)
    {
      /* p is at a header */
      const char *name = p + hl;
      const char *nl = memchr (name, '\n', (gsize) (end - name));
      if (nl == NULL)
        {
          FuzzPart part = { g_strndup (name, (gsize) (end - name)), end, 0 };
          g_array_append_val (parts, part);
          break;
        }
      const char *name_end = nl;
      if ((gsize) (nl - name) >= tl - 1 && memcmp (nl - (tl - 1), FUZZ_PART_TRAILER, tl - 1) == 0)
        name_end = nl - (tl - 1);
      const char *body = nl + 1;
      const char *next = fuzz_find_header (nl, end);   /* may be nl itself: empty body */
      const char *body_end = next ? MAX (next, body) : end;
      FuzzPart part = { g_strndup (name, (gsize) (name_end - name)), body, (gsize) (body_end - body) };
      g_array_append_val (parts, part);
      p = next ? next + 1 : end;
    }
  return parts;
}

static inline void
fuzz_parts_free (FuzzParts *parts)
{
  for (guint i = 0; i < parts->len; i++)
    g_free (g_array_index (parts, FuzzPart, i).name);
  g_array_free (parts, TRUE);
}
G_DEFINE_AUTOPTR_CLEANUP_FUNC (FuzzParts, fuzz_parts_free)

/* The last part with this name, or NULL. */
static inline const FuzzPart *
fuzz_parts_get (FuzzParts *parts, const char *name)
{
  for (guint i = parts->len; i > 0; i--)
    {
      const FuzzPart *p = &g_array_index (parts, FuzzPart, i - 1);
      if (strcmp (p->name, name) == 0)
        return p;
    }
  return NULL;
}

/* ---- scratch folder ---------------------------------------------------- */

static char *fuzz_scratch_dir;

static inline void
fuzz_remove_contents (const char *dir)
{
  GDir *d = g_dir_open (dir, 0, NULL);
  if (d == NULL)
    return;
  const char *name;
  while ((name = g_dir_read_name (d)) != NULL)
    {
      char *p = g_build_filename (dir, name, NULL);
      if (g_file_test (p, G_FILE_TEST_IS_DIR) && !g_file_test (p, G_FILE_TEST_IS_SYMLINK))
        {
          fuzz_remove_contents (p);
          g_rmdir (p);
        }
      else
        g_unlink (p);
      g_free (p);
    }
  g_dir_close (d);
}

static inline void
fuzz_scratch_clear (void)
{
  if (fuzz_scratch_dir != NULL)
    fuzz_remove_contents (fuzz_scratch_dir);
}

static inline void
fuzz_scratch_remove (void)
{
  fuzz_scratch_clear ();
  if (fuzz_scratch_dir != NULL)
    g_rmdir (fuzz_scratch_dir);
  g_clear_pointer (&fuzz_scratch_dir, g_free);
}

/* An empty folder of this process (made on first use, emptied on every
 * call, removed at exit). Inputs are written there for file readers. */
static inline const char *
fuzz_scratch (void)
{
  if (fuzz_scratch_dir == NULL)
    {
      GError *e = NULL;
      fuzz_scratch_dir = g_dir_make_tmp ("ft-fuzz-XXXXXX", &e);
      if (fuzz_scratch_dir == NULL)
        g_error ("cannot make a scratch folder: %s", e->message);
      atexit (fuzz_scratch_remove);
    }
  fuzz_scratch_clear ();
  return fuzz_scratch_dir;
}

static inline void
fuzz_write (const char *dir, const char *name, const char *data, gsize len)
{
  char *p = g_build_filename (dir, name, NULL);
  GError *e = NULL;
  if (!g_file_set_contents (p, data, (gssize) len, &e))
    g_error ("cannot write %s: %s", p, e->message);
  g_free (p);
}
