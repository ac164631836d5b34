/* ft-inspect.h — damage checks on a rider's end-of-trip photo against the
 * vehicle's reference photo: a quality gate (sharpness, exposure, BRISQUE),
 * alignment (ORB features, RANSAC homography), an SSIM difference map with
 * candidate damage regions, a score and a decision (ok, review, damaged),
 * and a 64-bit perceptual hash to catch a photo reused from an earlier trip.
 *
 * Use: load both images (ft_inspect_image_load or _decode; bad, corrupt or
 * huge input is a GError, never a crash), make one FtInspector (it holds
 * the thresholds and the BRISQUE model; reuse it) and call ft_inspect_check.
 * A check never fails on a photo of something else: alignment fails and the
 * decision is review with the reason. The review queue, out-of-service and
 * the repair task are in ft-inspect-queue.h.
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

#define FT_INSPECT_ERROR (ft_inspect_error_quark ())
GQuark ft_inspect_error_quark (void);
typedef enum {
  FT_INSPECT_ERROR_READ,        /* the file cannot be read */
  FT_INSPECT_ERROR_FORMAT,      /* not a JPEG or PNG, or corrupt */
  FT_INSPECT_ERROR_TOO_LARGE,   /* the file or its pixel count is over the limit */
  FT_INSPECT_ERROR_INTERNAL,    /* OpenCV failed */
} FtInspectError;

/* Limits on input (checked from the file header before decoding). */
#define FT_INSPECT_MAX_FILE_BYTES (48u * 1024u * 1024u)
#define FT_INSPECT_MAX_SIDE       16384
#define FT_INSPECT_MAX_PIXELS     (50u * 1000u * 1000u)
/* Images are shrunk to this long side when loaded. */
#define FT_INSPECT_WORK_SIDE      1024

typedef enum {
  FT_INSPECT_OK = 0,
  FT_INSPECT_REVIEW,
  FT_INSPECT_DAMAGED,
} FtInspectDecision;

typedef enum {
  FT_DAMAGE_NONE = 0,
  FT_DAMAGE_SCRATCH,
  FT_DAMAGE_BROKEN,
  FT_DAMAGE_MISSING,
  FT_DAMAGE_KNOCKED_OVER,
  FT_N_DAMAGE_KINDS
} FtDamageKind;

typedef struct _FtInspectImage FtInspectImage;

FtInspectImage *ft_inspect_image_load   (const char *path, GError **error);
/* data is a whole JPEG or PNG file; `what` names it in errors. */
FtInspectImage *ft_inspect_image_decode (const guint8 *data, gsize len, const char *what,
                                         GError **error);
void            ft_inspect_image_free   (FtInspectImage *img);
int             ft_inspect_image_width  (const FtInspectImage *img);
int             ft_inspect_image_height (const FtInspectImage *img);
/* The perceptual hash (DCT, 64 bits) and the distance of two hashes. */
guint64         ft_inspect_image_phash  (const FtInspectImage *img);
guint           ft_inspect_hash_distance (guint64 a, guint64 b);
/* A finer 256-bit hash (4 words) and its distance: a photo sent again
 * stays within a few bits, a new photo of the same view does not. */
void            ft_inspect_image_phash_fine (const FtInspectImage *img, guint64 out[4]);
guint           ft_inspect_hash_fine_distance (const guint64 a[4], const guint64 b[4]);
/* Reads width and height from a JPEG or PNG header without decoding. */
gboolean        ft_inspect_sniff_size   (const guint8 *data, gsize len, int *width, int *height,
                                         GError **error);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (FtInspectImage, ft_inspect_image_free)

typedef struct {
  int    min_side;          /* long side in pixels; below: too small to judge */
  double min_sharpness;     /* variance of the Laplacian at 512 px; below: blurred */
  double min_brightness, max_brightness; /* mean grey level */
  double max_clipped;       /* share of pixels black or white */
  double max_brisque;       /* 0..100; ignored when the model is absent */
  int    n_features;        /* ORB features per image */
  int    min_inliers;       /* RANSAC inliers for a usable alignment */
  double min_inlier_ratio;  /* inliers / matches */
  double min_overlap;       /* share of the reference the aligned photo covers */
  int    diff_side;         /* the difference map's long side in pixels */
  double diff_blur;         /* Gaussian sigma on both images first (noise, focus) */
  double ssim_threshold;    /* a pixel differs when 1 - SSIM exceeds this */
  double min_region;        /* smallest region, share of the compared area */
  double review_at;         /* score at or above: review */
  double damaged_at;        /* score at or above: damaged */
} FtInspectParams;
/* The tuned defaults (tests/inspect/inspect-eval tunes them on one split of
 * photos and reports on the other). */
void ft_inspect_params_init (FtInspectParams *p);

#define FT_INSPECT_MAX_REGIONS 8

typedef struct {
  int          x, y, w, h;  /* in reference pixels (after loading) */
  double       area;        /* share of the compared area */
  double       mass;        /* its part of the score */
  FtDamageKind kind;        /* a guess from its shape and edges */
} FtInspectRegion;

typedef struct {
  FtInspectDecision decision;
  double       score;       /* per mille of the compared area, weighted by 1 - SSIM */
  char         reason[160]; /* why review or damaged, "" when ok */
  FtDamageKind kind;        /* the largest region's kind, or NONE */
  /* quality gate (the photo) */
  double       sharpness, brightness, clipped;
  double       brisque;     /* -1 without the model */
  gboolean     quality_ok;
  /* alignment */
  int          matches, inliers;
  double       overlap;
  double       homography[9];
  gboolean     aligned;
  /* difference */
  guint        n_regions;
  FtInspectRegion regions[FT_INSPECT_MAX_REGIONS];
  guint64      phash;       /* of the photo */
  guint64      phash_fine[4];
} FtInspectResult;

typedef struct _FtInspector FtInspector;
/* params NULL: the defaults. Loads BRISQUE from opencv-data when present
 * (ft_inspector_has_brisque tells). */
FtInspector *ft_inspector_new         (const FtInspectParams *params);
void         ft_inspector_free        (FtInspector *insp);
const FtInspectParams *ft_inspector_get_params (const FtInspector *insp);
void         ft_inspector_set_params  (FtInspector *insp, const FtInspectParams *params);
gboolean     ft_inspector_has_brisque (const FtInspector *insp);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (FtInspector, ft_inspector_free)

/* Checks photo against ref. FALSE only when OpenCV itself fails. */
gboolean ft_inspect_check (FtInspector *insp, const FtInspectImage *ref,
                           const FtInspectImage *photo, FtInspectResult *out, GError **error);
/* Re-decides a result's score with other thresholds (evaluation). */
FtInspectDecision ft_inspect_decide (const FtInspectParams *p, const FtInspectResult *r);

const char *ft_inspect_decision_name (FtInspectDecision d);   /* "ok", "review", "damaged" */
const char *ft_damage_kind_name      (FtDamageKind k);        /* "none", "scratch", … */
gboolean    ft_damage_kind_from_name (const char *s, FtDamageKind *out);
/* The result as a JSON object (regions, gate, alignment, hash in hex). */
char       *ft_inspect_result_to_json (const FtInspectResult *r);

/* How many threads OpenCV may use (1: the caller's only; benchmarks). */
void ft_inspect_set_threads (int n);

/* Test data: synthetic damage of a kind painted on a copy of scene, with
 * its box; a rider's photo of a scene (viewpoint shift, light, noise, JPEG).
 * Deterministic per seed. JPEG (quality 1..100) or PNG (0) bytes of an image. */
FtInspectImage *ft_inspect_synth_damage    (const FtInspectImage *scene, FtDamageKind kind,
                                            guint64 seed, int box[4], GError **error);
FtInspectImage *ft_inspect_synth_variation (const FtInspectImage *scene, guint64 seed,
                                            double shift, GError **error);
GBytes         *ft_inspect_image_encode    (const FtInspectImage *img, int quality, GError **error);
/* A blurred copy (sigma in pixels) or one with gain * v + offset. */
FtInspectImage *ft_inspect_image_blur      (const FtInspectImage *img, double sigma);
FtInspectImage *ft_inspect_image_gain      (const FtInspectImage *img, double gain, double offset);
FtInspectImage *ft_inspect_image_new_filled (int width, int height, guint8 b, guint8 g, guint8 r);

G_END_DECLS
