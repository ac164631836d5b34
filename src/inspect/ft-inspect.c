/* ft-inspect.c — damage checks (see ft-inspect.h): input limits read from
 * the file header before any decoding, the quality gate, the alignment and
 * difference steps through the OpenCV shim (ft-inspect-cv.cc), the region
 * kinds and the decision from the score.
 */
#include "ft-inspect.h"

#include <math.h>
#include <string.h>

#include "ft-config.h"
#include "ft-file.h"
#include "ft-inspect-cv.h"

G_DEFINE_QUARK (ft-inspect-error-quark, ft_inspect_error)

struct _FtInspectImage {
  FtCvImage *cv;
};

struct _FtInspector {
  FtInspectParams params;
  FtCvBrisque    *brisque;
};

static const char *decision_names[] = { "ok", "review", "damaged" };
static const char *kind_names[FT_N_DAMAGE_KINDS] = {
  "none", "scratch", "broken", "missing", "knocked_over"
};

const char *
ft_inspect_decision_name (FtInspectDecision d)
{
  return (guint) d <= FT_INSPECT_DAMAGED ? decision_names[d] : "unknown";
}

const char *
ft_damage_kind_name (FtDamageKind k)
{
  return (guint) k < FT_N_DAMAGE_KINDS ? kind_names[k] : "unknown";
}

gboolean
ft_damage_kind_from_name (const char *s, FtDamageKind *out)
{
  for (guint i = 0; s != NULL && i < FT_N_DAMAGE_KINDS; i++)
    if (strcmp (s, kind_names[i]) == 0)
      {
        if (out)
          *out = (FtDamageKind) i;
        return TRUE;
      }
  return FALSE;
}

/* ------------------------------------------------------------ images */

static guint
be16 (const guint8 *p)
{
  return ((guint) p[0] << 8) | p[1];
}

static guint32
be32 (const guint8 *p)
{
  return ((guint32) p[0] << 24) | ((guint32) p[1] << 16) | ((guint32) p[2] << 8) | p[3];
}

gboolean
ft_inspect_sniff_size (const guint8 *data, gsize len, int *width, int *height, GError **error)
{
  static const guint8 png_sig[8] = { 0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n' };
  g_return_val_if_fail (data != NULL || len == 0, FALSE);
  if (len >= 24 && memcmp (data, png_sig, 8) == 0)
    {
      if (memcmp (data + 12, "IHDR", 4) != 0)
        {
          g_set_error (error, FT_INSPECT_ERROR, FT_INSPECT_ERROR_FORMAT,
                       "a PNG file whose first chunk is not IHDR (corrupt)");
          return FALSE;
        }
      guint32 w = be32 (data + 16), h = be32 (data + 20);
      if (w == 0 || h == 0 || w > G_MAXINT32 || h > G_MAXINT32)
        {
          g_set_error (error, FT_INSPECT_ERROR, FT_INSPECT_ERROR_FORMAT,
                       "a PNG header with size %ux%u (corrupt)", w, h);
          return FALSE;
        }
      *width = (int) w;
      *height = (int) h;
      return TRUE;
    }
  if (len >= 4 && data[0] == 0xFF && data[1] == 0xD8)
    {
      gsize i = 2;
      while (i + 4 <= len)
        {
          if (data[i] != 0xFF)
            {
              g_set_error (error, FT_INSPECT_ERROR, FT_INSPECT_ERROR_FORMAT,
                           "a JPEG file with no marker at byte %" G_GSIZE_FORMAT " (corrupt)", i);
              return FALSE;
            }
          guint8 m = data[i + 1];
          if (m == 0xFF)
            {
              i++;
              continue;
            }
          if (m == 0xD8 || m == 0x01 || (m >= 0xD0 && m <= 0xD7))
            {
              i += 2;
              continue;
            }
          if (m == 0xD9 || m == 0xDA)
            break;
          guint seg = be16 (data + i + 2);
          if (seg < 2)
            break;
          gboolean sof = m >= 0xC0 && m <= 0xCF && m != 0xC4 && m != 0xC8 && m != 0xCC;
          if (sof)
            {
              if (i + 9 > len)
                break;
              int h = (int) be16 (data + i + 5), w = (int) be16 (data + i + 7);
              if (w == 0 || h == 0)
                {
                  g_set_error (error, FT_INSPECT_ERROR, FT_INSPECT_ERROR_FORMAT,
                               "a JPEG frame header with size %dx%d (corrupt)", w, h);
                  return FALSE;
                }
              *width = w;
              *height = h;
              return TRUE;
            }
          i += 2 + seg;
        }
      g_set_error (error, FT_INSPECT_ERROR, FT_INSPECT_ERROR_FORMAT,
                   "a JPEG file without a frame header (truncated or corrupt)");
      return FALSE;
    }
  g_set_error (error, FT_INSPECT_ERROR, FT_INSPECT_ERROR_FORMAT,
               "not a JPEG or PNG image (%" G_GSIZE_FORMAT " bytes)", len);
  return FALSE;
}

FtInspectImage *
ft_inspect_image_decode (const guint8 *data, gsize len, const char *what, GError **error)
{
  int w = 0, h = 0;
  if (what == NULL)
    what = "image";
  if (len > FT_INSPECT_MAX_FILE_BYTES)
    {
      g_set_error (error, FT_INSPECT_ERROR, FT_INSPECT_ERROR_TOO_LARGE,
                   "%s: %" G_GSIZE_FORMAT " bytes; photos of at most %u bytes are read",
                   what, len, FT_INSPECT_MAX_FILE_BYTES);
      return NULL;
    }
  if (!ft_inspect_sniff_size (data, len, &w, &h, error))
    {
      g_prefix_error (error, "%s: ", what);
      return NULL;
    }
  if (w > FT_INSPECT_MAX_SIDE || h > FT_INSPECT_MAX_SIDE ||
      (guint64) w * (guint64) h > FT_INSPECT_MAX_PIXELS)
    {
      g_set_error (error, FT_INSPECT_ERROR, FT_INSPECT_ERROR_TOO_LARGE,
                   "%s: %dx%d pixels is too large (at most %d per side and %u pixels)",
                   what, w, h, FT_INSPECT_MAX_SIDE, FT_INSPECT_MAX_PIXELS);
      return NULL;
    }
  if (w < 16 || h < 16)
    {
      g_set_error (error, FT_INSPECT_ERROR, FT_INSPECT_ERROR_FORMAT,
                   "%s: %dx%d pixels is too small for a photo check (at least 16x16)", what, w, h);
      return NULL;
    }
  char err[256] = "";
  FtCvImage *cv = ft_cv_decode (data, len, FT_INSPECT_WORK_SIDE, err, sizeof err);
  if (cv == NULL)
    {
      g_set_error (error, FT_INSPECT_ERROR, FT_INSPECT_ERROR_FORMAT, "%s: %s", what, err);
      return NULL;
    }
  FtInspectImage *img = g_new0 (FtInspectImage, 1);
  img->cv = cv;
  return img;
}

FtInspectImage *
ft_inspect_image_load (const char *path, GError **error)
{
  g_return_val_if_fail (path != NULL, NULL);
  g_autofree char *data = NULL;
  gsize len = 0;
  if (!ft_file_read (path, FT_INSPECT_MAX_FILE_BYTES, &data, &len, error))
    return NULL;
  return ft_inspect_image_decode ((const guint8 *) data, len, path, error);
}

static FtInspectImage *
wrap (FtCvImage *cv)
{
  if (cv == NULL)
    return NULL;
  FtInspectImage *img = g_new0 (FtInspectImage, 1);
  img->cv = cv;
  return img;
}

void
ft_inspect_image_free (FtInspectImage *img)
{
  if (img == NULL)
    return;
  ft_cv_free (img->cv);
  g_free (img);
}

int
ft_inspect_image_width (const FtInspectImage *img)
{
  return ft_cv_width (img->cv);
}

int
ft_inspect_image_height (const FtInspectImage *img)
{
  return ft_cv_height (img->cv);
}

guint64
ft_inspect_image_phash (const FtInspectImage *img)
{
  return ft_cv_phash (img->cv);
}

guint
ft_inspect_hash_distance (guint64 a, guint64 b)
{
  return (guint) __builtin_popcountll (a ^ b);
}

void
ft_inspect_image_phash_fine (const FtInspectImage *img, guint64 out[4])
{
  ft_cv_phash_fine (img->cv, out);
}

guint
ft_inspect_hash_fine_distance (const guint64 a[4], const guint64 b[4])
{
  guint d = 0;
  for (int i = 0; i < 4; i++)
    d += (guint) __builtin_popcountll (a[i] ^ b[i]);
  return d;
}

GBytes *
ft_inspect_image_encode (const FtInspectImage *img, int quality, GError **error)
{
  void *buf = NULL;
  size_t len = 0;
  char err[256] = "";
  if (ft_cv_encode (img->cv, quality, &buf, &len, err, sizeof err) != 0)
    {
      g_set_error (error, FT_INSPECT_ERROR, FT_INSPECT_ERROR_INTERNAL, "%s", err);
      return NULL;
    }
  GBytes *b = g_bytes_new (buf, len);
  free (buf);
  return b;
}

FtInspectImage *
ft_inspect_image_blur (const FtInspectImage *img, double sigma)
{
  return wrap (ft_cv_blur (img->cv, sigma));
}

FtInspectImage *
ft_inspect_image_gain (const FtInspectImage *img, double gain, double offset)
{
  return wrap (ft_cv_gain (img->cv, gain, offset));
}

FtInspectImage *
ft_inspect_image_new_filled (int width, int height, guint8 b, guint8 g, guint8 r)
{
  return wrap (ft_cv_new_filled (width, height, b, g, r));
}

FtInspectImage *
ft_inspect_synth_damage (const FtInspectImage *scene, FtDamageKind kind, guint64 seed,
                         int box[4], GError **error)
{
  char err[256] = "";
  FtCvImage *cv = ft_cv_synth_damage (scene->cv, (int) kind, seed, box, err, sizeof err);
  if (cv == NULL)
    g_set_error (error, FT_INSPECT_ERROR, FT_INSPECT_ERROR_INTERNAL, "%s", err);
  return wrap (cv);
}

FtInspectImage *
ft_inspect_synth_variation (const FtInspectImage *scene, guint64 seed, double shift,
                            GError **error)
{
  char err[256] = "";
  FtCvImage *cv = ft_cv_synth_variation (scene->cv, seed, shift, err, sizeof err);
  if (cv == NULL)
    g_set_error (error, FT_INSPECT_ERROR, FT_INSPECT_ERROR_INTERNAL, "%s", err);
  return wrap (cv);
}

void
ft_inspect_set_threads (int n)
{
  ft_cv_set_threads (n);
}

/* --------------------------------------------------------- inspector */

void
ft_inspect_params_init (FtInspectParams *p)
{
  *p = (FtInspectParams) {
    .min_side = 320,
    .min_sharpness = 25.0,
    .min_brightness = 35.0,
    .max_brightness = 225.0,
    .max_clipped = 0.4,
    .max_brisque = 75.0,
    .n_features = 1500,
    .min_inliers = 25,
    .min_inlier_ratio = 0.15,
    .min_overlap = 0.6,
    .diff_side = 512,
    .diff_blur = 1.0,
    .ssim_threshold = 0.45,
    .min_region = 0.0008,
    /* tuned by tests/inspect/inspect-eval on photos 12-19 (5 % false
     * alarms at most; 85 % of the recall at damaged) */
    .review_at = 0.178,
    .damaged_at = 2.039,
  };
}

FtInspector *
ft_inspector_new (const FtInspectParams *params)
{
  FtInspector *insp = g_new0 (FtInspector, 1);
  if (params)
    insp->params = *params;
  else
    ft_inspect_params_init (&insp->params);
#ifdef FT_BRISQUE_MODEL
  char err[256] = "";
  if (g_file_test (FT_BRISQUE_MODEL, G_FILE_TEST_IS_REGULAR) &&
      g_file_test (FT_BRISQUE_RANGE, G_FILE_TEST_IS_REGULAR))
    insp->brisque = ft_cv_brisque_new (FT_BRISQUE_MODEL, FT_BRISQUE_RANGE, err, sizeof err);
#endif
  return insp;
}

void
ft_inspector_free (FtInspector *insp)
{
  if (insp == NULL)
    return;
  ft_cv_brisque_free (insp->brisque);
  g_free (insp);
}

const FtInspectParams *
ft_inspector_get_params (const FtInspector *insp)
{
  return &insp->params;
}

void
ft_inspector_set_params (FtInspector *insp, const FtInspectParams *params)
{
  insp->params = *params;
}

gboolean
ft_inspector_has_brisque (const FtInspector *insp)
{
  return insp->brisque != NULL;
}

/* A region's kind from its size, shape and edges: a large change is a
 * vehicle knocked over, a thin sparse one a scratch, one that lost its edges
 * a missing part, the rest a broken part. */
static FtDamageKind
region_kind (const FtCvRegion *r)
{
  if (r->area >= 0.06)
    return FT_DAMAGE_KNOCKED_OVER;
  if (r->fill < 0.3)
    return FT_DAMAGE_SCRATCH;
  if (r->edges_photo < 0.75 * r->edges_ref)
    return FT_DAMAGE_MISSING;
  return FT_DAMAGE_BROKEN;
}

static gboolean
homography_sane (const double h[9])
{
  double det = h[0] * h[4] - h[1] * h[3];
  return isfinite (det) && det > 0.3 && det < 3.5 && fabs (h[6]) < 0.002 && fabs (h[7]) < 0.002;
}

FtInspectDecision
ft_inspect_decide (const FtInspectParams *p, const FtInspectResult *r)
{
  if (!r->quality_ok || !r->aligned)
    return FT_INSPECT_REVIEW;
  if (r->score >= p->damaged_at)
    return FT_INSPECT_DAMAGED;
  if (r->score >= p->review_at)
    return FT_INSPECT_REVIEW;
  return FT_INSPECT_OK;
}

gboolean
ft_inspect_check (FtInspector *insp, const FtInspectImage *ref, const FtInspectImage *photo,
                  FtInspectResult *out, GError **error)
{
  g_return_val_if_fail (insp != NULL && ref != NULL && photo != NULL && out != NULL, FALSE);
  const FtInspectParams *p = &insp->params;
  char err[256] = "";
  memset (out, 0, sizeof *out);
  out->brisque = -1;
  out->homography[0] = out->homography[4] = out->homography[8] = 1;
  out->phash = ft_cv_phash (photo->cv);
  ft_cv_phash_fine (photo->cv, out->phash_fine);

  /* quality gate */
  FtCvQuality q;
  if (ft_cv_quality (photo->cv, 512, &q, err, sizeof err) != 0)
    goto cv_failed;
  out->sharpness = q.sharpness;
  out->brightness = q.brightness;
  out->clipped = q.dark_fraction + q.bright_fraction;
  if (insp->brisque)
    out->brisque = ft_cv_brisque (insp->brisque, photo->cv, 512, err, sizeof err);
  out->quality_ok = TRUE;
  int side = MAX (ft_cv_width (photo->cv), ft_cv_height (photo->cv));
  if (side < p->min_side)
    g_snprintf (out->reason, sizeof out->reason, "photo resolution too low (%dx%d, need %d px on the long side)",
                ft_cv_width (photo->cv), ft_cv_height (photo->cv), p->min_side);
  else if (q.sharpness < p->min_sharpness)
    g_snprintf (out->reason, sizeof out->reason, "photo too blurred (sharpness %.1f, need %.1f)",
                q.sharpness, p->min_sharpness);
  else if (q.brightness < p->min_brightness ||
           (out->clipped > p->max_clipped && q.dark_fraction > q.bright_fraction))
    g_snprintf (out->reason, sizeof out->reason, "photo too dark (mean %.0f, %.0f %% black)",
                q.brightness, 100 * q.dark_fraction);
  else if (q.brightness > p->max_brightness || out->clipped > p->max_clipped)
    g_snprintf (out->reason, sizeof out->reason, "photo overexposed (mean %.0f, %.0f %% white)",
                q.brightness, 100 * q.bright_fraction);
  else if (out->brisque > p->max_brisque)
    g_snprintf (out->reason, sizeof out->reason, "photo of poor quality (BRISQUE %.1f, at most %.1f)",
                out->brisque, p->max_brisque);
  if (out->reason[0])
    {
      out->quality_ok = FALSE;
      out->decision = FT_INSPECT_REVIEW;
      return TRUE;
    }

  /* alignment */
  if (ft_cv_align (ref->cv, photo->cv, p->n_features, &out->matches, &out->inliers,
                   out->homography, err, sizeof err) != 0)
    goto cv_failed;
  if (out->inliers < p->min_inliers ||
      out->inliers < p->min_inlier_ratio * out->matches || !homography_sane (out->homography))
    {
      g_snprintf (out->reason, sizeof out->reason,
                  "alignment failed (%d of %d matches agree, need %d): not the vehicle "
                  "of the reference photo, or taken from too far off",
                  out->inliers, out->matches, p->min_inliers);
      out->decision = FT_INSPECT_REVIEW;
      return TRUE;
    }

  /* difference */
  FtCvDiffParams dp = { .work_side = p->diff_side, .blur = p->diff_blur, .threshold = p->ssim_threshold,
                        .min_area = p->min_region, .max_regions = FT_INSPECT_MAX_REGIONS };
  FtCvRegion regs[FT_INSPECT_MAX_REGIONS];
  int n = 0;
  double total = 0;
  if (ft_cv_diff (ref->cv, photo->cv, out->homography, &dp, regs, &n, &out->overlap, &total,
                  err, sizeof err) != 0)
    goto cv_failed;
  if (out->overlap < p->min_overlap)
    {
      g_snprintf (out->reason, sizeof out->reason,
                  "the photo covers %.0f %% of the reference view (need %.0f %%)",
                  100 * out->overlap, 100 * p->min_overlap);
      out->decision = FT_INSPECT_REVIEW;
      return TRUE;
    }
  out->aligned = TRUE;
  out->score = 1000.0 * total;
  out->n_regions = (guint) n;
  for (int i = 0; i < n; i++)
    out->regions[i] = (FtInspectRegion) {
      .x = regs[i].x, .y = regs[i].y, .w = regs[i].w, .h = regs[i].h,
      .area = regs[i].area, .mass = 1000.0 * regs[i].mass, .kind = region_kind (&regs[i]),
    };
  out->kind = n > 0 ? out->regions[0].kind : FT_DAMAGE_NONE;
  out->decision = ft_inspect_decide (p, out);
  if (out->decision != FT_INSPECT_OK)
    g_snprintf (out->reason, sizeof out->reason, "%u changed region%s, the largest looks like %s",
                out->n_regions, out->n_regions == 1 ? "" : "s", ft_damage_kind_name (out->kind));
  return TRUE;

cv_failed:
  g_set_error (error, FT_INSPECT_ERROR, FT_INSPECT_ERROR_INTERNAL, "%s", err);
  return FALSE;
}

static void
json_str (GString *s, const char *v)
{
  g_string_append_c (s, '"');
  for (const char *c = v; *c; c++)
    {
      if (*c == '"' || *c == '\\')
        g_string_append_printf (s, "\\%c", *c);
      else if ((guchar) *c < 0x20)
        g_string_append_printf (s, "\\u%04x", (guchar) *c);
      else
        g_string_append_c (s, *c);
    }
  g_string_append_c (s, '"');
}

static void
json_num (GString *s, double v)
{
  if (isfinite (v))
    g_string_append_printf (s, "%.6g", v);
  else
    g_string_append (s, "null");
}

char *
ft_inspect_result_to_json (const FtInspectResult *r)
{
  GString *s = g_string_new ("{\"decision\":");
  json_str (s, ft_inspect_decision_name (r->decision));
  g_string_append (s, ",\"score\":");
  json_num (s, r->score);
  g_string_append (s, ",\"reason\":");
  json_str (s, r->reason);
  g_string_append (s, ",\"kind\":");
  json_str (s, ft_damage_kind_name (r->kind));
  g_string_append (s, ",\"regions\":[");
  for (guint i = 0; i < r->n_regions; i++)
    {
      const FtInspectRegion *g = &r->regions[i];
      g_string_append_printf (s, "%s{\"x\":%d,\"y\":%d,\"w\":%d,\"h\":%d,\"area\":", i ? "," : "",
                              g->x, g->y, g->w, g->h);
      json_num (s, g->area);
      g_string_append (s, ",\"score\":");
      json_num (s, g->mass);
      g_string_append (s, ",\"kind\":");
      json_str (s, ft_damage_kind_name (g->kind));
      g_string_append_c (s, '}');
    }
  g_string_append (s, "],\"quality\":{\"ok\":");
  g_string_append (s, r->quality_ok ? "true" : "false");
  g_string_append (s, ",\"sharpness\":");
  json_num (s, r->sharpness);
  g_string_append (s, ",\"brightness\":");
  json_num (s, r->brightness);
  g_string_append (s, ",\"clipped\":");
  json_num (s, r->clipped);
  g_string_append (s, ",\"brisque\":");
  if (r->brisque >= 0)
    json_num (s, r->brisque);
  else
    g_string_append (s, "null");
  g_string_append (s, "},\"alignment\":{\"ok\":");
  g_string_append (s, r->aligned ? "true" : "false");
  g_string_append_printf (s, ",\"matches\":%d,\"inliers\":%d,\"overlap\":", r->matches, r->inliers);
  json_num (s, r->overlap);
  g_string_append (s, ",\"homography\":[");
  for (int i = 0; i < 9; i++)
    {
      if (i)
        g_string_append_c (s, ',');
      json_num (s, r->homography[i]);
    }
  g_string_append_printf (s, "]},\"phash\":\"%016" G_GINT64_MODIFIER "x\"}", r->phash);
  return g_string_free (s, FALSE);
}
