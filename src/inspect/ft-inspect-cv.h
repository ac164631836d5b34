/* ft-inspect-cv.h — a plain C API over OpenCV 4.6 (ft-inspect-cv.cc), the
 * inspect module's only C++: decoding, image statistics, ORB + RANSAC
 * alignment, the SSIM difference map and its regions, a DCT perceptual hash,
 * BRISQUE (opencv_contrib quality) and the synthetic damage of the test-data
 * generator. Every exception is caught at this boundary and comes back as a
 * message; the decisions are made in C (ft-inspect.c).
 */
#pragma once

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct FtCvImage FtCvImage;   /* 8-bit BGR */
typedef struct FtCvBrisque FtCvBrisque;

/* Decodes a JPEG or PNG held in memory to BGR, then shrinks it (area
 * average) so its long side is at most max_side (0: keep). NULL with a
 * message in err on failure. */
FtCvImage *ft_cv_decode      (const void *data, size_t len, int max_side, char *err, size_t errlen);
void       ft_cv_free        (FtCvImage *img);
int        ft_cv_width       (const FtCvImage *img);
int        ft_cv_height      (const FtCvImage *img);
FtCvImage *ft_cv_copy        (const FtCvImage *img);
/* A uniform image (tests). */
FtCvImage *ft_cv_new_filled  (int width, int height, int b, int g, int r);
/* JPEG (quality 1..100) or, with quality 0, PNG into a malloc'd buffer. */
int        ft_cv_encode      (const FtCvImage *img, int quality, void **buf, size_t *len,
                              char *err, size_t errlen);

typedef struct {
  double sharpness;      /* variance of the Laplacian of the grey image at work_side */
  double brightness;     /* mean grey level 0..255 */
  double dark_fraction;  /* share of pixels at or below 8 */
  double bright_fraction;/* share of pixels at or above 247 */
} FtCvQuality;
int        ft_cv_quality     (const FtCvImage *img, int work_side, FtCvQuality *q,
                              char *err, size_t errlen);

/* BRISQUE with the model and range files of Debian's opencv-data; NULL (with
 * a message) when this OpenCV has no quality module or the files are absent. */
FtCvBrisque *ft_cv_brisque_new  (const char *model_file, const char *range_file,
                                 char *err, size_t errlen);
void         ft_cv_brisque_free (FtCvBrisque *b);
/* Score 0 (best) .. 100 (worst) of img shrunk to work_side; -1 on error. */
double       ft_cv_brisque      (FtCvBrisque *b, const FtCvImage *img, int work_side,
                                 char *err, size_t errlen);

/* 64-bit DCT hash: grey 32x32, the 8x8 lowest frequencies against their median. */
uint64_t   ft_cv_phash       (const FtCvImage *img);

/* 256-bit DCT hash: grey 64x64, the 16x16 lowest frequencies against their
 * median, into out[4]; tells a re-sent photo from a new one of the same view. */
void       ft_cv_phash_fine  (const FtCvImage *img, uint64_t out[4]);

/* ORB features (n_features) on both images, ratio-tested Hamming matches and
 * a RANSAC homography photo -> reference in h (row-major 3x3). Returns 0 and
 * fills matches/inliers (h is the identity when fewer than 4 matches). */
int        ft_cv_align       (const FtCvImage *ref, const FtCvImage *photo, int n_features,
                              int *matches, int *inliers, double h[9], char *err, size_t errlen);

typedef struct {
  int    x, y, w, h;        /* in reference pixels */
  double area;              /* share of the compared area, 0..1 */
  double mass;              /* sum of (1 - SSIM) over the region / compared pixels */
  double fill;              /* region pixels / bounding box pixels */
  double edges_ref, edges_photo; /* mean gradient magnitude inside the region */
} FtCvRegion;

typedef struct {
  int    work_side;         /* compare at this long side (e.g. 512) */
  double blur;              /* Gaussian sigma on both sides before SSIM (px at work_side) */
  double threshold;         /* a pixel differs when 1 - SSIM exceeds this */
  double min_area;          /* smallest region kept, share of the compared area */
  int    max_regions;
} FtCvDiffParams;

/* Warps photo into the reference frame with h, normalises its grey levels
 * to the reference's over the overlap, computes the SSIM map (Gaussian
 * window 11, sigma 1.5) and returns the connected regions where it differs,
 * largest mass first (at most max_regions written, *n_regions the number
 * written), the overlap share and the total mass of the kept regions. */
int        ft_cv_diff        (const FtCvImage *ref, const FtCvImage *photo, const double h[9],
                              const FtCvDiffParams *p, FtCvRegion *regions, int *n_regions,
                              double *overlap, double *total_mass, char *err, size_t errlen);

/* Synthetic damage for test data (kind 0 none, 1 scratch, 2 broken part,
 * 3 missing part, 4 knocked over) painted into a copy of scene, its box
 * (x, y, w, h in scene pixels) in box. Deterministic for a seed. */
FtCvImage *ft_cv_synth_damage    (const FtCvImage *scene, int kind, uint64_t seed, int box[4],
                                  char *err, size_t errlen);
/* A rider's photo of the scene: a small viewpoint shift (corners moved by up
 * to shift * side), gain and gamma, Gaussian noise, sometimes a slight blur,
 * then a JPEG round trip at a quality between 70 and 92. */
FtCvImage *ft_cv_synth_variation (const FtCvImage *scene, uint64_t seed, double shift,
                                  char *err, size_t errlen);
/* OpenCV's worker threads (1: all work on the calling thread). */
void       ft_cv_set_threads     (int n);
/* Blur (Gaussian sigma) or exposure (gain) changes for quality-gate tests. */
FtCvImage *ft_cv_blur            (const FtCvImage *img, double sigma);
FtCvImage *ft_cv_gain            (const FtCvImage *img, double gain, double offset);

#ifdef __cplusplus
}
#endif
