/* ft-inspect-cv.cc — the C shim over OpenCV 4.6 for photo checks (see
 * ft-inspect-cv.h). Each entry point catches every exception and turns it
 * into a message; nothing else in the project sees C++. JPEG and PNG are
 * read and written by ft-inspect-cv-codec.cc, not by OpenCV's imgcodecs
 * (which the programs do not link: see src/DESIGN.md).
 */
#include "ft-inspect-cv.h"
#include "ft-inspect-cv-private.h"

#include <opencv2/calib3d.hpp>
#include <opencv2/core.hpp>
#include <opencv2/features2d.hpp>
#include <opencv2/imgproc.hpp>
#include <opencv2/photo.hpp>
#if __has_include(<opencv2/quality.hpp>)
#include <opencv2/quality.hpp>
#define FT_HAVE_CV_QUALITY 1
#endif

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <string>
#include <vector>

struct FtCvImage {
  cv::Mat m;
};

struct FtCvBrisque {
#ifdef FT_HAVE_CV_QUALITY
  cv::Ptr<cv::quality::QualityBRISQUE> q;
#endif
  int unused;
};

static void
set_err (char *err, size_t errlen, const char *what, const char *msg)
{
  if (err != NULL && errlen > 0)
    std::snprintf (err, errlen, "%s: %s", what, msg);
}

#define GUARD_BEGIN try {
#define GUARD_END(where, fail)                                         \
  } catch (const cv::Exception &e) {                                  \
    set_err (err, errlen, where, e.msg.c_str ());                      \
    return fail;                                                      \
  } catch (const std::exception &e) {                                 \
    set_err (err, errlen, where, e.what ());                           \
    return fail;                                                      \
  } catch (...) {                                                     \
    set_err (err, errlen, where, "unknown error");                     \
    return fail;                                                      \
  }

static cv::Mat
shrink (const cv::Mat &m, int side)
{
  int longest = std::max (m.cols, m.rows);
  if (side <= 0 || longest <= side)
    return m;
  double f = (double) side / longest;
  cv::Mat out;
  cv::resize (m, out, cv::Size (std::max (1, (int) std::lround (m.cols * f)),
                                std::max (1, (int) std::lround (m.rows * f))),
              0, 0, cv::INTER_AREA);
  return out;
}

static cv::Mat
grey (const cv::Mat &m)
{
  cv::Mat g;
  if (m.channels () == 1)
    g = m;
  else
    cv::cvtColor (m, g, cv::COLOR_BGR2GRAY);
  return g;
}

extern "C" FtCvImage *
ft_cv_decode (const void *data, size_t len, int max_side, char *err, size_t errlen)
{
  GUARD_BEGIN
  if (data == NULL || len == 0 || len > (size_t) INT32_MAX)
    {
      set_err (err, errlen, "decoding", "no image data");
      return NULL;
    }
  std::string why;
  cv::Mat m = ft_cv_codec_decode ((const unsigned char *) data, len, why);
  if (m.empty () || m.cols <= 0 || m.rows <= 0)
    {
      set_err (err, errlen, "decoding",
               ("the data is not a readable JPEG or PNG image (" + why + ")").c_str ());
      return NULL;
    }
  FtCvImage *img = new FtCvImage;
  img->m = shrink (m, max_side);
  if (!img->m.isContinuous ())
    img->m = img->m.clone ();
  return img;
  GUARD_END ("decoding", NULL)
}

extern "C" void
ft_cv_free (FtCvImage *img)
{
  delete img;
}

extern "C" int
ft_cv_width (const FtCvImage *img)
{
  return img->m.cols;
}

extern "C" int
ft_cv_height (const FtCvImage *img)
{
  return img->m.rows;
}

extern "C" FtCvImage *
ft_cv_copy (const FtCvImage *img)
{
  try
    {
      FtCvImage *c = new FtCvImage;
      c->m = img->m.clone ();
      return c;
    }
  catch (...)
    {
      return NULL;
    }
}

extern "C" FtCvImage *
ft_cv_new_filled (int width, int height, int b, int g, int r)
{
  try
    {
      FtCvImage *c = new FtCvImage;
      c->m = cv::Mat (height, width, CV_8UC3, cv::Scalar (b, g, r));
      return c;
    }
  catch (...)
    {
      return NULL;
    }
}

extern "C" int
ft_cv_encode (const FtCvImage *img, int quality, void **out, size_t *len, char *err, size_t errlen)
{
  GUARD_BEGIN
  std::vector<uchar> buf;
  std::string why;
  bool ok;
  if (quality > 0)
    ok = ft_cv_codec_encode_jpeg (img->m, std::min (quality, 100), buf, why);
  else
    ok = ft_cv_codec_encode_png (img->m, buf, why);
  if (!ok || buf.empty ())
    {
      set_err (err, errlen, "encoding", why.empty () ? "the image cannot be encoded" : why.c_str ());
      return -1;
    }
  void *p = std::malloc (buf.size ());
  if (p == NULL)
    {
      set_err (err, errlen, "encoding", "out of memory");
      return -1;
    }
  std::memcpy (p, buf.data (), buf.size ());
  *out = p;
  *len = buf.size ();
  return 0;
  GUARD_END ("encoding", -1)
}

extern "C" int
ft_cv_quality (const FtCvImage *img, int work_side, FtCvQuality *q, char *err, size_t errlen)
{
  GUARD_BEGIN
  cv::Mat g = grey (shrink (img->m, work_side));
  cv::Mat lap;
  cv::Laplacian (g, lap, CV_64F, 1);
  cv::Scalar mean, sd;
  cv::meanStdDev (lap, mean, sd);
  q->sharpness = sd[0] * sd[0];
  q->brightness = cv::mean (g)[0];
  double n = (double) g.total ();
  q->dark_fraction = cv::countNonZero (g <= 8) / n;
  q->bright_fraction = cv::countNonZero (g >= 247) / n;
  return 0;
  GUARD_END ("measuring quality", -1)
}

extern "C" FtCvBrisque *
ft_cv_brisque_new (const char *model_file, const char *range_file, char *err, size_t errlen)
{
#ifdef FT_HAVE_CV_QUALITY
  GUARD_BEGIN
  FtCvBrisque *b = new FtCvBrisque;
  b->q = cv::quality::QualityBRISQUE::create (model_file, range_file);
  if (b->q.empty ())
    {
      delete b;
      set_err (err, errlen, "loading BRISQUE", "no model");
      return NULL;
    }
  return b;
  GUARD_END ("loading BRISQUE", NULL)
#else
  (void) model_file;
  (void) range_file;
  set_err (err, errlen, "BRISQUE", "this OpenCV has no quality module");
  return NULL;
#endif
}

extern "C" void
ft_cv_brisque_free (FtCvBrisque *b)
{
  delete b;
}

extern "C" double
ft_cv_brisque (FtCvBrisque *b, const FtCvImage *img, int work_side, char *err, size_t errlen)
{
#ifdef FT_HAVE_CV_QUALITY
  GUARD_BEGIN
  cv::Mat g = grey (shrink (img->m, work_side));
  cv::Scalar s = b->q->compute (g);
  return s[0];
  GUARD_END ("BRISQUE", -1.0)
#else
  (void) b;
  (void) img;
  (void) work_side;
  set_err (err, errlen, "BRISQUE", "this OpenCV has no quality module");
  return -1.0;
#endif
}

extern "C" uint64_t
ft_cv_phash (const FtCvImage *img)
{
  try
    {
      cv::Mat g = grey (img->m), small, f, d;
      cv::resize (g, small, cv::Size (32, 32), 0, 0, cv::INTER_AREA);
      small.convertTo (f, CV_32F);
      cv::dct (f, d);
      float v[64];
      for (int y = 0; y < 8; y++)
        for (int x = 0; x < 8; x++)
          v[y * 8 + x] = d.at<float> (y, x);
      float sorted[63];
      std::copy (v + 1, v + 64, sorted);
      std::nth_element (sorted, sorted + 31, sorted + 63);
      float median = sorted[31];
      uint64_t h = 0;
      for (int i = 0; i < 64; i++)
        if (v[i] > median)
          h |= (uint64_t) 1 << i;
      return h;
    }
  catch (...)
    {
      return 0;
    }
}

extern "C" void
ft_cv_phash_fine (const FtCvImage *img, uint64_t out[4])
{
  out[0] = out[1] = out[2] = out[3] = 0;
  try
    {
      cv::Mat g = grey (img->m), small, f, d;
      cv::resize (g, small, cv::Size (64, 64), 0, 0, cv::INTER_AREA);
      small.convertTo (f, CV_32F);
      cv::dct (f, d);
      float v[256], sorted[255];
      for (int y = 0; y < 16; y++)
        for (int x = 0; x < 16; x++)
          v[y * 16 + x] = d.at<float> (y, x);
      std::copy (v + 1, v + 256, sorted);
      std::nth_element (sorted, sorted + 127, sorted + 255);
      float median = sorted[127];
      for (int i = 0; i < 256; i++)
        if (v[i] > median)
          out[i / 64] |= (uint64_t) 1 << (i % 64);
    }
  catch (...)
    {
    }
}

extern "C" int
ft_cv_align (const FtCvImage *ref, const FtCvImage *photo, int n_features, int *matches,
             int *inliers, double h[9], char *err, size_t errlen)
{
  GUARD_BEGIN
  for (int i = 0; i < 9; i++)
    h[i] = (i % 4 == 0) ? 1.0 : 0.0;
  *matches = *inliers = 0;
  cv::Ptr<cv::ORB> orb = cv::ORB::create (n_features);
  std::vector<cv::KeyPoint> kr, kp;
  cv::Mat dr, dp;
  orb->detectAndCompute (grey (ref->m), cv::noArray (), kr, dr);
  orb->detectAndCompute (grey (photo->m), cv::noArray (), kp, dp);
  if (dr.empty () || dp.empty () || kr.size () < 8 || kp.size () < 8)
    return 0;
  cv::BFMatcher bf (cv::NORM_HAMMING);
  std::vector<std::vector<cv::DMatch>> knn;
  bf.knnMatch (dp, dr, knn, 2);
  std::vector<cv::Point2f> src, dst;
  for (const auto &m : knn)
    if (m.size () == 2 && m[0].distance < 0.8f * m[1].distance)
      {
        src.push_back (kp[m[0].queryIdx].pt);
        dst.push_back (kr[m[0].trainIdx].pt);
      }
  *matches = (int) src.size ();
  if (src.size () < 4)
    return 0;
  std::vector<uchar> mask;
  cv::Mat H = cv::findHomography (src, dst, cv::RANSAC, 4.0, mask, 2000, 0.995);
  if (H.empty ())
    return 0;
  *inliers = cv::countNonZero (mask);
  for (int i = 0; i < 9; i++)
    h[i] = H.at<double> (i / 3, i % 3);
  return 0;
  GUARD_END ("aligning", -1)
}

static double
lap_var (const cv::Mat &f, const cv::Mat &mask)
{
  cv::Mat lap;
  cv::Laplacian (f, lap, CV_32F, 1);
  cv::Scalar m, sd;
  cv::meanStdDev (lap, m, sd, mask);
  return sd[0] * sd[0];
}

static cv::Mat
ssim_map (const cv::Mat &a, const cv::Mat &b)
{
  /* K1 = 0.01 as usual; K2 = 0.05 rather than 0.03, so that noise in
   * flat, dark areas does not read as a change of structure */
  const double C1 = 6.5025, C2 = 162.5625;
  cv::Mat I1, I2;
  a.convertTo (I1, CV_32F);
  b.convertTo (I2, CV_32F);
  cv::Mat mu1, mu2, s11, s22, s12;
  cv::GaussianBlur (I1, mu1, cv::Size (11, 11), 1.5);
  cv::GaussianBlur (I2, mu2, cv::Size (11, 11), 1.5);
  cv::Mat mu1s = mu1.mul (mu1), mu2s = mu2.mul (mu2), mu12 = mu1.mul (mu2);
  cv::GaussianBlur (I1.mul (I1), s11, cv::Size (11, 11), 1.5);
  cv::GaussianBlur (I2.mul (I2), s22, cv::Size (11, 11), 1.5);
  cv::GaussianBlur (I1.mul (I2), s12, cv::Size (11, 11), 1.5);
  s11 -= mu1s;
  s22 -= mu2s;
  s12 -= mu12;
  cv::Mat num = (2 * mu12 + C1).mul (2 * s12 + C2);
  cv::Mat den = (mu1s + mu2s + C1).mul (s11 + s22 + C2);
  cv::Mat s;
  cv::divide (num, den, s);
  return s;
}

extern "C" int
ft_cv_diff (const FtCvImage *ref, const FtCvImage *photo, const double h[9],
            const FtCvDiffParams *p, FtCvRegion *regions, int *n_regions, double *overlap,
            double *total_mass, char *err, size_t errlen)
{
  GUARD_BEGIN
  *n_regions = 0;
  *overlap = 0;
  *total_mass = 0;
  cv::Mat H (3, 3, CV_64F);
  for (int i = 0; i < 9; i++)
    H.at<double> (i / 3, i % 3) = h[i];
  /* work at work_side: scale the homography into the small frames */
  double fr = 1.0, fp = 1.0;
  int lr = std::max (ref->m.cols, ref->m.rows), lp = std::max (photo->m.cols, photo->m.rows);
  if (p->work_side > 0 && lr > p->work_side)
    fr = (double) p->work_side / lr;
  if (p->work_side > 0 && lp > p->work_side)
    fp = (double) p->work_side / lp;
  cv::Mat Sr = cv::Mat::eye (3, 3, CV_64F), Sp_inv = cv::Mat::eye (3, 3, CV_64F);
  Sr.at<double> (0, 0) = Sr.at<double> (1, 1) = fr;
  Sp_inv.at<double> (0, 0) = Sp_inv.at<double> (1, 1) = 1.0 / fp;
  cv::Mat Hs = Sr * H * Sp_inv;
  cv::Mat gr = grey (shrink (ref->m, p->work_side));
  cv::Mat gp = grey (shrink (photo->m, p->work_side));
  cv::Mat warped, valid;
  cv::warpPerspective (gp, warped, Hs, gr.size (), cv::INTER_LINEAR, cv::BORDER_CONSTANT, 0);
  cv::Mat ones (gp.size (), CV_8U, cv::Scalar (255));
  cv::warpPerspective (ones, valid, Hs, gr.size (), cv::INTER_NEAREST, cv::BORDER_CONSTANT, 0);
  cv::erode (valid, valid, cv::getStructuringElement (cv::MORPH_RECT, cv::Size (13, 13)));
  double n_valid = cv::countNonZero (valid);
  *overlap = n_valid / (double) gr.total ();
  if (n_valid < 64)
    return 0;
  /* light: map the photo's grey levels onto the reference's by matching
   * their histograms over the overlap (gain, gamma and white balance) */
  cv::Mat a, b;
  {
    double hr[256] = { 0 }, hp[256] = { 0 };
    for (int y = 0; y < gr.rows; y++)
      {
        const uchar *r = gr.ptr<uchar> (y), *q = warped.ptr<uchar> (y), *v = valid.ptr<uchar> (y);
        for (int x = 0; x < gr.cols; x++)
          if (v[x])
            {
              hr[r[x]]++;
              hp[q[x]]++;
            }
      }
    for (int i = 1; i < 256; i++)
      {
        hr[i] += hr[i - 1];
        hp[i] += hp[i - 1];
      }
    cv::Mat lut (1, 256, CV_8U);
    int j = 0;
    for (int i = 0; i < 256; i++)
      {
        while (j < 255 && hr[j] < hp[i])
          j++;
        lut.at<uchar> (i) = (uchar) j;
      }
    cv::Mat mapped;
    cv::LUT (warped, lut, mapped);
    gr.convertTo (a, CV_32F);
    mapped.convertTo (b, CV_32F);
  }
  /* focus: a photo softer than the reference (or sharper) differs in
   * every texture; blur the sharper one until their detail matches */
  {
    double la = lap_var (a, valid), lb = lap_var (b, valid);
    cv::Mat &sharp = la > lb ? a : b;
    double target = std::min (la, lb), best = 0, best_gap = std::abs (std::log ((std::max (la, lb) + 1) / (target + 1)));
    if (best_gap > 0.15)
      {
        for (double sg : { 0.4, 0.6, 0.8, 1.0, 1.3, 1.7, 2.2 })
          {
            cv::Mat t;
            cv::GaussianBlur (sharp, t, cv::Size (0, 0), sg);
            double gap = std::abs (std::log ((lap_var (t, valid) + 1) / (target + 1)));
            if (gap < best_gap)
              {
                best_gap = gap;
                best = sg;
              }
          }
        if (best > 0)
          cv::GaussianBlur (sharp, sharp, cv::Size (0, 0), best);
      }
  }
  if (p->blur > 0)
    {
      cv::GaussianBlur (a, a, cv::Size (0, 0), p->blur);
      cv::GaussianBlur (b, b, cv::Size (0, 0), p->blur);
    }
  cv::Mat d = 1.0 - ssim_map (a, b);
  d.setTo (0, valid == 0);
  cv::Mat mask = d > p->threshold;
  cv::morphologyEx (mask, mask, cv::MORPH_OPEN, cv::getStructuringElement (cv::MORPH_RECT, cv::Size (3, 3)));
  cv::morphologyEx (mask, mask, cv::MORPH_CLOSE, cv::getStructuringElement (cv::MORPH_ELLIPSE, cv::Size (9, 9)));
  mask &= valid;
  cv::Mat labels, stats, centroids;
  int n = cv::connectedComponentsWithStats (mask, labels, stats, centroids, 8, CV_32S);
  cv::Mat ga, gb, ea, eb, mag_a, mag_b;
  cv::Sobel (a, ga, CV_32F, 1, 0);
  cv::Sobel (a, ea, CV_32F, 0, 1);
  cv::magnitude (ga, ea, mag_a);
  cv::Sobel (b, gb, CV_32F, 1, 0);
  cv::Sobel (b, eb, CV_32F, 0, 1);
  cv::magnitude (gb, eb, mag_b);
  std::vector<FtCvRegion> found;
  double inv = 1.0 / fr;
  for (int i = 1; i < n; i++)
    {
      int area = stats.at<int> (i, cv::CC_STAT_AREA);
      if (area < p->min_area * n_valid)
        continue;
      cv::Rect r (stats.at<int> (i, cv::CC_STAT_LEFT), stats.at<int> (i, cv::CC_STAT_TOP),
                  stats.at<int> (i, cv::CC_STAT_WIDTH), stats.at<int> (i, cv::CC_STAT_HEIGHT));
      cv::Mat in = labels (r) == i;
      FtCvRegion reg;
      reg.x = (int) std::floor (r.x * inv);
      reg.y = (int) std::floor (r.y * inv);
      reg.w = std::min ((int) std::ceil (r.width * inv), ref->m.cols - reg.x);
      reg.h = std::min ((int) std::ceil (r.height * inv), ref->m.rows - reg.y);
      reg.area = area / n_valid;
      cv::Mat dr = cv::Mat::zeros (r.size (), CV_32F);
      d (r).copyTo (dr, in);
      reg.mass = cv::sum (dr)[0] / n_valid;
      reg.fill = (double) area / ((double) r.width * r.height);
      reg.edges_ref = cv::mean (mag_a (r), in)[0];
      reg.edges_photo = cv::mean (mag_b (r), in)[0];
      found.push_back (reg);
      *total_mass += reg.mass;
    }
  std::sort (found.begin (), found.end (),
             [] (const FtCvRegion &x, const FtCvRegion &y) { return x.mass > y.mass; });
  int k = std::min ((int) found.size (), p->max_regions);
  for (int i = 0; i < k; i++)
    regions[i] = found[i];
  *n_regions = k;
  return 0;
  GUARD_END ("comparing", -1)
}

/* ------------------------------------------------ synthetic test data */

static cv::Rect
random_box (cv::RNG &rng, const cv::Size &s, double fw0, double fw1, double fh0, double fh1)
{
  int w = std::max (4, (int) (s.width * rng.uniform (fw0, fw1)));
  int h = std::max (4, (int) (s.height * rng.uniform (fh0, fh1)));
  /* scooters sit in the middle and lower part of these photos */
  int cx = (int) (s.width * rng.uniform (0.3, 0.7));
  int cy = (int) (s.height * rng.uniform (0.4, 0.75));
  cv::Rect r (cx - w / 2, cy - h / 2, w, h);
  return r & cv::Rect (0, 0, s.width, s.height);
}

extern "C" FtCvImage *
ft_cv_synth_damage (const FtCvImage *scene, int kind, uint64_t seed, int box[4], char *err,
                    size_t errlen)
{
  GUARD_BEGIN
  cv::RNG rng (seed * 2654435761u + 17);
  cv::Mat m = scene->m.clone ();
  cv::Size s = m.size ();
  int side = std::max (s.width, s.height);
  cv::Rect r (0, 0, 0, 0);
  switch (kind)
    {
    case 0:
      break;
    case 1: /* scratches: a few thin random strokes, light or dark */
      {
        r = random_box (rng, s, 0.12, 0.25, 0.06, 0.15);
        int strokes = rng.uniform (2, 5);
        cv::Rect hull;
        for (int k = 0; k < strokes; k++)
          {
            std::vector<cv::Point> pts;
            cv::Point q (r.x + rng.uniform (0, std::max (1, r.width)), r.y + rng.uniform (0, std::max (1, r.height)));
            double ang = rng.uniform (0.0, CV_PI);
            for (int j = 0; j < 6; j++)
              {
                pts.push_back (q);
                ang += rng.uniform (-0.4, 0.4);
                double step = side * rng.uniform (0.01, 0.03);
                q += cv::Point ((int) (step * std::cos (ang)), (int) (step * std::sin (ang)));
              }
            bool light = rng.uniform (0, 2) == 0;
            int v = light ? rng.uniform (200, 255) : rng.uniform (0, 50);
            cv::polylines (m, pts, false, cv::Scalar (v, v, v), std::max (1, side / 400 + rng.uniform (0, 2)), cv::LINE_AA);
            cv::Rect br = cv::boundingRect (pts);
            hull = k == 0 ? br : (hull | br);
          }
        r = hull & cv::Rect (0, 0, s.width, s.height);
        break;
      }
    case 2: /* broken part: a piece displaced and darkened, with cracks */
      {
        r = random_box (rng, s, 0.08, 0.16, 0.08, 0.16);
        if (r.width < 8 || r.height < 8)
          break;
        cv::Mat piece = m (r).clone ();
        cv::Mat rot = cv::getRotationMatrix2D (cv::Point2f (r.width / 2.f, r.height / 2.f),
                                               rng.uniform (15.0, 40.0) * (rng.uniform (0, 2) ? 1 : -1), 1.0);
        rot.at<double> (0, 2) += r.width * rng.uniform (0.15, 0.3);
        rot.at<double> (1, 2) += r.height * rng.uniform (0.1, 0.3);
        cv::Mat moved;
        cv::warpAffine (piece, moved, rot, piece.size (), cv::INTER_LINEAR, cv::BORDER_REFLECT);
        moved.convertTo (moved, -1, 0.75, 0);
        moved.copyTo (m (r));
        for (int k = 0; k < 3; k++)
          {
            std::vector<cv::Point> pts;
            cv::Point q (r.x + rng.uniform (0, r.width), r.y);
            for (int j = 0; j < 5; j++)
              {
                pts.push_back (q);
                q += cv::Point (rng.uniform (-r.width / 5 - 1, r.width / 5 + 1), r.height / 4);
              }
            cv::polylines (m, pts, false, cv::Scalar (20, 20, 20), std::max (1, side / 500), cv::LINE_AA);
          }
        break;
      }
    case 3: /* missing part: the piece painted over from its surroundings */
      {
        r = random_box (rng, s, 0.07, 0.14, 0.07, 0.14);
        cv::Mat mask (s, CV_8U, cv::Scalar (0));
        cv::ellipse (mask, cv::RotatedRect (cv::Point2f (r.x + r.width / 2.f, r.y + r.height / 2.f),
                                            cv::Size2f ((float) r.width, (float) r.height),
                                            (float) rng.uniform (0.0, 180.0)),
                     cv::Scalar (255), cv::FILLED);
        cv::Mat out;
        cv::inpaint (m, mask, out, 5, cv::INPAINT_TELEA);
        m = out;
        r = cv::boundingRect (mask);
        break;
      }
    case 4: /* knocked over: the upright vehicle lying on its side */
      {
        r = random_box (rng, s, 0.2, 0.3, 0.3, 0.45);
        if (r.width < 8 || r.height < 8)
          break;
        cv::Mat piece = m (r).clone (), lying;
        cv::rotate (piece, lying, rng.uniform (0, 2) ? cv::ROTATE_90_CLOCKWISE : cv::ROTATE_90_COUNTERCLOCKWISE);
        cv::Mat mask (s, CV_8U, cv::Scalar (0));
        mask (r).setTo (255);
        cv::Mat out;
        cv::inpaint (m, mask, out, 3, cv::INPAINT_TELEA);
        m = out;
        cv::Rect dst (r.x + r.width / 2 - lying.cols / 2, r.y + r.height - lying.rows, lying.cols, lying.rows);
        cv::Rect clip = dst & cv::Rect (0, 0, s.width, s.height);
        if (clip.width > 0 && clip.height > 0)
          lying (cv::Rect (clip.x - dst.x, clip.y - dst.y, clip.width, clip.height)).copyTo (m (clip));
        r = (r | clip) & cv::Rect (0, 0, s.width, s.height);
        break;
      }
    default:
      set_err (err, errlen, "synthetic damage", "unknown kind");
      return NULL;
    }
  box[0] = r.x;
  box[1] = r.y;
  box[2] = r.width;
  box[3] = r.height;
  FtCvImage *img = new FtCvImage;
  img->m = m;
  return img;
  GUARD_END ("synthetic damage", NULL)
}

extern "C" FtCvImage *
ft_cv_synth_variation (const FtCvImage *scene, uint64_t seed, double shift, char *err, size_t errlen)
{
  GUARD_BEGIN
  cv::RNG rng (seed * 0x9E3779B97F4A7C15ull + 3);
  const cv::Mat &m = scene->m;
  float W = (float) m.cols, H = (float) m.rows;
  /* the photo sees a window inside the scene (a step closer or aside, a
   * slight turn): each corner of the window is moved inwards by up to
   * 2 x shift of the side, so every pixel of the photo is real content */
  cv::Point2f dst[4] = { { 0, 0 }, { W, 0 }, { W, H }, { 0, H } }, src[4];
  float bx = (float) rng.uniform (0.0, 2 * shift), by = (float) rng.uniform (0.0, 2 * shift);
  for (int i = 0; i < 4; i++)
    {
      float ix = (float) (rng.uniform (0.3, 1.0) * (i == 0 || i == 3 ? bx : 2 * shift - bx));
      float iy = (float) (rng.uniform (0.3, 1.0) * (i < 2 ? by : 2 * shift - by));
      src[i] = cv::Point2f (dst[i].x + (i == 0 || i == 3 ? 1 : -1) * ix * W,
                            dst[i].y + (i < 2 ? 1 : -1) * iy * H);
    }
  cv::Mat P = cv::getPerspectiveTransform (src, dst), out;
  cv::warpPerspective (m, out, P, m.size (), cv::INTER_LINEAR, cv::BORDER_REPLICATE);
  cv::Mat f;
  out.convertTo (f, CV_32F, 1.0 / 255);
  double gamma = rng.uniform (0.8, 1.25), gain = rng.uniform (0.8, 1.2);
  cv::pow (f, gamma, f);
  f *= gain;
  cv::Mat noise (f.size (), f.type ());
  cv::randn (noise, 0.0, rng.uniform (0.006, 0.02));
  f += noise;
  if (rng.uniform (0, 3) == 0)
    cv::GaussianBlur (f, f, cv::Size (0, 0), rng.uniform (0.5, 1.0));
  f.convertTo (out, CV_8U, 255.0);
  std::vector<uchar> buf;
  std::string why;
  if (!ft_cv_codec_encode_jpeg (out, rng.uniform (70, 93), buf, why))
    {
      set_err (err, errlen, "synthetic variation", why.c_str ());
      return NULL;
    }
  FtCvImage *img = new FtCvImage;
  img->m = ft_cv_codec_decode (buf.data (), buf.size (), why);
  return img;
  GUARD_END ("synthetic variation", NULL)
}

extern "C" FtCvImage *
ft_cv_blur (const FtCvImage *img, double sigma)
{
  try
    {
      FtCvImage *c = new FtCvImage;
      cv::GaussianBlur (img->m, c->m, cv::Size (0, 0), sigma);
      return c;
    }
  catch (...)
    {
      return NULL;
    }
}

extern "C" FtCvImage *
ft_cv_gain (const FtCvImage *img, double gain, double offset)
{
  try
    {
      FtCvImage *c = new FtCvImage;
      img->m.convertTo (c->m, -1, gain, offset);
      return c;
    }
  catch (...)
    {
      return NULL;
    }
}

extern "C" void
ft_cv_set_threads (int n)
{
  try
    {
      cv::setNumThreads (n);
    }
  catch (...)
    {
    }
}
