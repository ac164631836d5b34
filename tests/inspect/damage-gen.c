/* damage-gen.c — test data for damage checks: from the real photos in the
 * shared data (read, never copied into the tree) it writes reference photos
 * and riders' photos with synthetic damage of known kind and box
 * (scratches, broken or missing parts, knocked over) or none, each seen
 * from a slightly shifted viewpoint in other light with noise, plus
 * labels.tsv. Photos 12-19 are the tuning split, 20-27 the report split.
 *
 *   damage-gen --out DIR [--photos DIR] [--per-kind N] [--seed S] [--force]
 *
 * labels.tsv: pair, reference, photo, kind, x, y, w, h, split (box in
 * reference pixels; 0 0 0 0 for none).
 */
#include "ft-config.h"
#include "ft-file.h"
#include "ft-inspect.h"
#include "ft-test.h"

#include <stdio.h>
#include <string.h>

static gboolean
write_bytes (const char *dir, const char *name, GBytes *b, GError **error)
{
  g_autofree char *path = g_build_filename (dir, name, NULL);
  gsize len;
  const char *data = g_bytes_get_data (b, &len);
  return g_file_set_contents (path, data, (gssize) len, error);
}

static gboolean
generate (const char *dir, const char *photos, int per_kind, gint64 seed, guint *n_out, GError **error)
{
  g_autoptr(GString) labels = g_string_new ("pair\treference\tphoto\tkind\tx\ty\tw\th\tsplit\n");
  guint n_pairs = 0;
  for (int num = 12; num <= 27; num++)
    {
      g_autofree char *src = g_strdup_printf ("%s/escooter_%d.jpg", photos, num);
      g_autoptr(FtInspectImage) scene = ft_inspect_image_load (src, error);
      if (scene == NULL)
        return FALSE;
      /* the reference as the operator keeps it: the photo at work size */
      g_autofree char *ref_name = g_strdup_printf ("ref-%d.jpg", num);
      g_autoptr(GBytes) ref_jpg = ft_inspect_image_encode (scene, 92, error);
      if (ref_jpg == NULL || !write_bytes (dir, ref_name, ref_jpg, error))
        return FALSE;
      const char *split = num <= 19 ? "tune" : "report";
      for (int kind = 0; kind < FT_N_DAMAGE_KINDS; kind++)
        for (int k = 0; k < per_kind; k++)
          {
            guint64 s = (guint64) seed * 1000003u + (guint64) num * 1009u + (guint64) kind * 101u + (guint64) k;
            int box[4] = { 0, 0, 0, 0 };
            g_autoptr(FtInspectImage) damaged = ft_inspect_synth_damage (scene, (FtDamageKind) kind, s, box, error);
            if (damaged == NULL)
              return FALSE;
            g_autoptr(FtInspectImage) rider = ft_inspect_synth_variation (damaged, s ^ 0x5bd1e995u, 0.025, error);
            if (rider == NULL)
              return FALSE;
            g_autofree char *name = g_strdup_printf ("pair-%04u.jpg", n_pairs);
            g_autoptr(GBytes) jpg = ft_inspect_image_encode (rider, 95, error);
            if (jpg == NULL || !write_bytes (dir, name, jpg, error))
              return FALSE;
            g_string_append_printf (labels, "%u\t%s\t%s\t%s\t%d\t%d\t%d\t%d\t%s\n", n_pairs, ref_name,
                                    name, ft_damage_kind_name ((FtDamageKind) kind),
                                    box[0], box[1], box[2], box[3], split);
            n_pairs++;
          }
      fprintf (stderr, "damage-gen: escooter_%d: %d pairs\n", num, FT_N_DAMAGE_KINDS * per_kind);
    }
  g_autofree char *lp = g_build_filename (dir, "labels.tsv", NULL);
  if (!g_file_set_contents (lp, labels->str, (gssize) labels->len, error))
    return FALSE;
  *n_out = n_pairs;
  return TRUE;
}

int
main (int argc, char **argv)
{
  g_autofree char *out = NULL, *photos = NULL;
  gint per_kind = 3;
  gint64 seed = 1;
  gboolean force = FALSE;
  GOptionEntry entries[] = {
    { "out", 'o', 0, G_OPTION_ARG_FILENAME, &out, "Folder to write (replaced when complete)", "DIR" },
    { "photos", 0, 0, G_OPTION_ARG_FILENAME, &photos, "The real photos (default: the shared data's photos/)", "DIR" },
    { "per-kind", 0, 0, G_OPTION_ARG_INT, &per_kind, "Pairs per photo and kind, undamaged included (default 3)", "N" },
    { "seed", 0, 0, G_OPTION_ARG_INT64, &seed, "Seed (default 1)", "S" },
    { "force", 0, 0, G_OPTION_ARG_NONE, &force, "Replace a folder this program did not write", NULL },
    { NULL }
  };
  g_autoptr(GOptionContext) ctx = g_option_context_new ("— synthetic damage on real photos, with labels");
  g_option_context_add_main_entries (ctx, entries, NULL);
  g_autoptr(GError) error = NULL;
  if (!g_option_context_parse (ctx, &argc, &argv, &error) || out == NULL || per_kind < 1 || per_kind > 50)
    {
      fprintf (stderr, "damage-gen: %s\n", error ? error->message : "usage: damage-gen --out DIR [--per-kind 1..50]");
      return 2;
    }
  if (photos == NULL)
    photos = ft_test_shared_path ("photos");

  g_autoptr(FtOutput) o = ft_output_begin (out, FT_OUTPUT_DIR, ft_output_dir_is_marked, force, &error);
  if (o == NULL)
    {
      fprintf (stderr, "damage-gen: %s\n", error->message);
      return 1;
    }
  guint n_pairs = 0;
  if (!generate (ft_output_get_path (o), photos, per_kind, seed, &n_pairs, &error))
    {
      fprintf (stderr, "damage-gen: %s\n", error->message);
      return 1;
    }
  if (!ft_output_commit (g_steal_pointer (&o), &error))
    {
      fprintf (stderr, "damage-gen: %s\n", error->message);
      return 1;
    }
  printf ("damage-gen: %u pairs from 16 photos in %s\n", n_pairs, out);
  return 0;
}
