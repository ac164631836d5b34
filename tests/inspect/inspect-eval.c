/* inspect-eval.c — evaluation of damage checks on what damage-gen wrote:
 * checks every pair once, tunes the two score thresholds on the tuning
 * split (review_at: the best recall with at most --max-false-alarm of
 * undamaged photos flagged, in the middle of its range; damaged_at: the
 * highest score keeping 85 % of that recall) and reports,
 * on each split, recall per damage kind (flagged: review or damaged;
 * damaged alone), precision per predicted kind, the false-alarm rate on
 * undamaged photos, and the hash distances behind the reuse check.
 *
 *   inspect-eval DIR [--max-false-alarm 0.05] [--defaults]
 */
#include "ft-config.h"
#include "ft-file.h"
#include "ft-inspect.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
  FtDamageKind    truth;
  gboolean        tune;
  FtInspectResult r;
  guint           reuse_dist;   /* hash distance to its own re-encoded copy */
  guint           ref_dist;     /* hash distance to the reference */
  guint           reuse_fine, ref_fine; /* the same with the 256-bit hash */
} Pair;

typedef struct {
  guint n_kind[FT_N_DAMAGE_KINDS];
  guint flagged[FT_N_DAMAGE_KINDS];     /* review or damaged */
  guint damaged[FT_N_DAMAGE_KINDS];     /* decision damaged */
  guint pred[FT_N_DAMAGE_KINDS];        /* flagged and predicted kind k */
  guint pred_ok[FT_N_DAMAGE_KINDS];     /* … and truly kind k */
  guint not_aligned, gate;
} Tally;

static void
tally (const Pair *pairs, guint n, gboolean tune, const FtInspectParams *p, Tally *t)
{
  memset (t, 0, sizeof *t);
  for (guint i = 0; i < n; i++)
    {
      if (pairs[i].tune != tune)
        continue;
      FtInspectDecision d = ft_inspect_decide (p, &pairs[i].r);
      FtDamageKind k = pairs[i].truth;
      t->n_kind[k]++;
      if (!pairs[i].r.quality_ok)
        t->gate++;
      else if (!pairs[i].r.aligned)
        t->not_aligned++;
      if (d != FT_INSPECT_OK)
        {
          t->flagged[k]++;
          FtDamageKind pk = pairs[i].r.kind;
          t->pred[pk]++;
          if (pk == k)
            t->pred_ok[pk]++;
        }
      if (d == FT_INSPECT_DAMAGED)
        t->damaged[k]++;
    }
}

static double
ratio (guint a, guint b)
{
  return b ? (double) a / b : NAN;
}

static void
report (const char *title, const Pair *pairs, guint n, gboolean tune, const FtInspectParams *p)
{
  Tally t;
  tally (pairs, n, tune, p, &t);
  guint nd = 0, fd = 0, dd = 0, nflag = 0;
  for (int k = 1; k < FT_N_DAMAGE_KINDS; k++)
    {
      nd += t.n_kind[k];
      fd += t.flagged[k];
      dd += t.damaged[k];
    }
  for (int k = 0; k < FT_N_DAMAGE_KINDS; k++)
    nflag += t.flagged[k];
  printf ("\n%s split (%u pairs; review_at %.2f, damaged_at %.2f)\n", title,
          nd + t.n_kind[0], p->review_at, p->damaged_at);
  printf ("%-13s %5s %9s %9s %10s\n", "kind", "pairs", "recall", "recall", "precision");
  printf ("%-13s %5s %9s %9s %10s\n", "", "", "flagged", "damaged", "of kind");
  for (int k = 1; k < FT_N_DAMAGE_KINDS; k++)
    printf ("%-13s %5u %8.1f%% %8.1f%% %9.1f%%\n", ft_damage_kind_name ((FtDamageKind) k), t.n_kind[k],
            100 * ratio (t.flagged[k], t.n_kind[k]), 100 * ratio (t.damaged[k], t.n_kind[k]),
            100 * ratio (t.pred_ok[k], t.pred[k]));
  printf ("%-13s %5u %8.1f%% %8.1f%% %9.1f%%\n", "any damage", nd, 100 * ratio (fd, nd),
          100 * ratio (dd, nd), 100 * ratio (fd, nflag));
  printf ("undamaged     %5u  false alarms: %.1f%% flagged (%u), %.1f%% called damaged (%u)\n",
          t.n_kind[0], 100 * ratio (t.flagged[0], t.n_kind[0]), t.flagged[0],
          100 * ratio (t.damaged[0], t.n_kind[0]), t.damaged[0]);
  printf ("not aligned %u, failed the quality gate %u\n", t.not_aligned, t.gate);
}

/* Share of the tuning pairs (undamaged ones: fa; damaged ones: recall)
 * whose score is at or above t (a pair that failed the gate or the
 * alignment is flagged at any threshold). */
static void
rates_at (const Pair *pairs, guint n, double t, double *fa, double *recall)
{
  guint nu = 0, fu = 0, nd = 0, fd = 0;
  for (guint i = 0; i < n; i++)
    {
      if (!pairs[i].tune)
        continue;
      gboolean flag = !pairs[i].r.aligned || !pairs[i].r.quality_ok || pairs[i].r.score >= t;
      if (pairs[i].truth == FT_DAMAGE_NONE)
        {
          nu++;
          fu += flag;
        }
      else
        {
          nd++;
          fd += flag;
        }
    }
  *fa = nu ? (double) fu / nu : 0;
  *recall = nd ? (double) fd / nd : 0;
}

/* The threshold with the highest recall on the tuning split among those
 * that flag at most max_fa of its undamaged pairs, taken in the middle
 * (geometric) of the range of thresholds with that recall, so that it does
 * not sit on the edge of the tuning data. min_recall_share > 0: instead,
 * the highest threshold whose recall is at least that share of the best. */
static double
tune_threshold (const Pair *pairs, guint n, double max_fa, double min_recall_share)
{
  double best_recall = -1, lo = 0.05, hi = 0.05;
  for (double t = 0.05; t <= 200; t *= 1.05)
    {
      double fa, rec;
      rates_at (pairs, n, t, &fa, &rec);
      if (fa > max_fa)
        continue;
      if (rec > best_recall + 1e-9)
        {
          best_recall = rec;
          lo = hi = t;
        }
      else if (rec > best_recall - 1e-9)
        hi = t;
    }
  if (min_recall_share <= 0)
    return sqrt (lo * hi);
  double last = lo;
  for (double t = lo; t <= 200; t *= 1.05)
    {
      double fa, rec;
      rates_at (pairs, n, t, &fa, &rec);
      if (rec < min_recall_share * best_recall)
        break;
      last = t;
    }
  return last;
}

int
main (int argc, char **argv)
{
  double max_fa = 0.05, ssim_t = -1, blur = -1, min_region = -1;
  gint side = -1;
  gboolean defaults = FALSE;
  GOptionEntry entries[] = {
    { "max-false-alarm", 0, 0, G_OPTION_ARG_DOUBLE, &max_fa, "Share of undamaged tuning photos that may be flagged (0.05)", "F" },
    { "ssim-threshold", 0, 0, G_OPTION_ARG_DOUBLE, &ssim_t, "Try another SSIM threshold", "T" },
    { "diff-blur", 0, 0, G_OPTION_ARG_DOUBLE, &blur, "Try another blur before SSIM", "SIGMA" },
    { "diff-side", 0, 0, G_OPTION_ARG_INT, &side, "Try another difference-map size", "PX" },
    { "min-region", 0, 0, G_OPTION_ARG_DOUBLE, &min_region, "Try another smallest region", "SHARE" },
    { "defaults", 0, 0, G_OPTION_ARG_NONE, &defaults, "Report with the built-in thresholds, no tuning", NULL },
    { NULL }
  };
  g_autoptr(GOptionContext) ctx = g_option_context_new ("DIR — precision and recall of damage checks");
  g_option_context_add_main_entries (ctx, entries, NULL);
  g_autoptr(GError) error = NULL;
  if (!g_option_context_parse (ctx, &argc, &argv, &error) || argc != 2 || max_fa < 0 || max_fa > 1)
    {
      fprintf (stderr, "inspect-eval: %s\n", error ? error->message : "usage: inspect-eval DIR");
      return 2;
    }
  const char *dir = argv[1];
  g_autofree char *lp = g_build_filename (dir, "labels.tsv", NULL);
  g_autofree char *text = NULL;
  gsize len;
  if (!ft_file_read (lp, FT_FILE_MAX_TEXT, &text, &len, &error))
    {
      fprintf (stderr, "inspect-eval: %s\n", error->message);
      return 1;
    }
  g_auto(GStrv) lines = g_strsplit (text, "\n", -1);
  GArray *pairs = g_array_new (FALSE, TRUE, sizeof (Pair));
  FtInspectParams base;
  ft_inspect_params_init (&base);
  if (ssim_t > 0)
    base.ssim_threshold = ssim_t;
  if (blur >= 0)
    base.diff_blur = blur;
  if (side > 0)
    base.diff_side = side;
  if (min_region >= 0)
    base.min_region = min_region;
  g_autoptr(FtInspector) insp = ft_inspector_new (&base);
  GHashTable *refs = g_hash_table_new_full (g_str_hash, g_str_equal, g_free,
                                            (GDestroyNotify) ft_inspect_image_free);
  printf ("inspect-eval: BRISQUE %s\n", ft_inspector_has_brisque (insp) ? "on" : "not available");
  for (guint li = 1; lines[li] != NULL; li++)
    {
      if (lines[li][0] == '\0')
        continue;
      g_auto(GStrv) f = g_strsplit (lines[li], "\t", -1);
      FtDamageKind kind;
      if (g_strv_length (f) != 9 || !ft_damage_kind_from_name (f[3], &kind))
        {
          fprintf (stderr, "inspect-eval: %s line %u: expected 9 fields (pair, reference, photo, kind, "
                   "x, y, w, h, split)\n", lp, li + 1);
          return 1;
        }
      FtInspectImage *ref = g_hash_table_lookup (refs, f[1]);
      if (ref == NULL)
        {
          g_autofree char *rp = g_build_filename (dir, f[1], NULL);
          ref = ft_inspect_image_load (rp, &error);
          if (ref == NULL)
            {
              fprintf (stderr, "inspect-eval: %s\n", error->message);
              return 1;
            }
          g_hash_table_insert (refs, g_strdup (f[1]), ref);
        }
      g_autofree char *pp = g_build_filename (dir, f[2], NULL);
      g_autoptr(FtInspectImage) photo = ft_inspect_image_load (pp, &error);
      if (photo == NULL)
        {
          fprintf (stderr, "inspect-eval: %s\n", error->message);
          return 1;
        }
      Pair p = { .truth = kind, .tune = strcmp (f[8], "tune") == 0 };
      if (!ft_inspect_check (insp, ref, photo, &p.r, &error))
        {
          fprintf (stderr, "inspect-eval: %s: %s\n", pp, error->message);
          return 1;
        }
      /* the same photo sent again (re-encoded at quality 70) */
      g_autoptr(GBytes) again = ft_inspect_image_encode (photo, 70, &error);
      gsize al;
      const guint8 *ad = g_bytes_get_data (again, &al);
      g_autoptr(FtInspectImage) copy = ft_inspect_image_decode (ad, al, "copy", &error);
      p.reuse_dist = ft_inspect_hash_distance (p.r.phash, ft_inspect_image_phash (copy));
      p.ref_dist = ft_inspect_hash_distance (p.r.phash, ft_inspect_image_phash (ref));
      guint64 fc[4], fr[4];
      ft_inspect_image_phash_fine (copy, fc);
      ft_inspect_image_phash_fine (ref, fr);
      p.reuse_fine = ft_inspect_hash_fine_distance (p.r.phash_fine, fc);
      p.ref_fine = ft_inspect_hash_fine_distance (p.r.phash_fine, fr);
      if (g_getenv ("FT_EVAL_DUMP"))
        {
          fprintf (stderr, "%s\t%s\t%s\tscore %.2f\tregions %u\tguess %s\t%s\t", f[2], f[8], f[3], p.r.score,
                   p.r.n_regions, ft_damage_kind_name (p.r.kind), p.r.reason);
          for (guint g = 0; g < p.r.n_regions; g++)
            fprintf (stderr, " %d,%d,%d,%d", p.r.regions[g].x, p.r.regions[g].y, p.r.regions[g].w, p.r.regions[g].h);
          fprintf (stderr, "\n");
        }
      g_array_append_val (pairs, p);
    }
  const Pair *pv = (const Pair *) (void *) pairs->data;
  guint n = pairs->len;

  FtInspectParams tuned = *ft_inspector_get_params (insp);
  if (!defaults)
    {
      tuned.review_at = tune_threshold (pv, n, max_fa, 0);
      /* damaged: the cases above review that staff would confirm anyway;
       * keep 85 % of the flagged recall there, the rest goes to review */
      tuned.damaged_at = MAX (tune_threshold (pv, n, max_fa, 0.85), tuned.review_at);
    }
  printf ("thresholds %s: review_at %.3f, damaged_at %.3f (built-in %.3f, %.3f)\n",
          defaults ? "built-in" : "tuned on the tuning split", tuned.review_at, tuned.damaged_at,
          ft_inspector_get_params (insp)->review_at, ft_inspector_get_params (insp)->damaged_at);
  report ("tuning (photos 12-19)", pv, n, TRUE, &tuned);
  report ("report (photos 20-27)", pv, n, FALSE, &tuned);

  /* the reuse check: a re-sent photo against new photos of the same view */
  guint max_reuse = 0, min_new = 64, under = 0;
  for (guint i = 0; i < n; i++)
    {
      max_reuse = MAX (max_reuse, pv[i].reuse_dist);
      min_new = MIN (min_new, pv[i].ref_dist);
      if (pv[i].ref_dist <= 4)
        under++;
    }
  printf ("\nperceptual hash: a re-sent photo differs by at most %u of 64 bits; a new photo of the "
          "same view by at least %u (%u of %u within the reuse distance 4)\n", max_reuse, min_new, under, n);
  guint max_rf = 0, min_nf = 256, under_f = 0, both = 0;
  for (guint i = 0; i < n; i++)
    {
      max_rf = MAX (max_rf, pv[i].reuse_fine);
      min_nf = MIN (min_nf, pv[i].ref_fine);
      if (pv[i].ref_fine <= 24)
        under_f++;
      if (pv[i].ref_fine <= 24 && pv[i].ref_dist <= 4)
        both++;
    }
  printf ("256-bit hash: a re-sent photo differs by at most %u of 256 bits; a new photo of the same view "
          "by at least %u (%u of %u within 24 bits; %u within both reuse distances)\n",
          max_rf, min_nf, under_f, n, both);
  g_hash_table_unref (refs);
  g_array_unref (pairs);
  return 0;
}
