/* codec-compare.cc — the photo checks' own JPEG/PNG codec
 * (src/inspect/ft-inspect-cv-codec.cc) against OpenCV's imgcodecs, which
 * it replaces: the pixels of cv::imdecode (IMREAD_COLOR) and the bytes of
 * cv::imencode must be the same, on the shared photos, on the files given,
 * on images made here of every kind IMREAD_COLOR handles (grey, CMYK and
 * YCCK, progressive, restart markers, no Huffman tables, odd sizes; PNG
 * grey, grey + alpha, palette with and without transparency, 1 to 16 bits,
 * interlaced), with EXIF orientations 1..8 in JPEG and PNG, with malformed
 * EXIF blocks, and on truncated files. Only this program links imgcodecs.
 *   codec-compare [--quick] PHOTO_DIR_OR_FILE...
 * Exit status 1 on the first kind that differs (all differences listed).
 */
#include "ft-inspect-cv-private.h"

#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include <cstdint>
#include <cstdio>
#include <cstring>
#include <dirent.h>
#include <string>
#include <sys/stat.h>
#include <vector>

#include <jpeglib.h>
#include <png.h>

typedef std::vector<unsigned char> Bytes;

static int n_checked, n_failed, n_undefined;

static bool
all_black (const cv::Mat &m)
{
  return !m.empty () && cv::countNonZero (m.reshape (1)) == 0;
}

static bool
same (const cv::Mat &a, const cv::Mat &b)
{
  if (a.empty () || b.empty ())
    return a.empty () == b.empty ();
  if (a.size () != b.size () || a.type () != b.type ())
    return false;
  for (int y = 0; y < a.rows; y++)
    if (std::memcmp (a.ptr (y), b.ptr (y), (size_t) a.cols * a.elemSize ()) != 0)
      return false;
  return true;
}

static void
check_decode (const std::string &what, const Bytes &data, bool expect_image = true, bool cut = false)
{
  n_checked++;
  cv::Mat ref;
  try
    {
      ref = cv::imdecode (data, cv::IMREAD_COLOR);
    }
  catch (const cv::Exception &)
    {
      ref.release ();
    }
  std::string err;
  cv::Mat ours = ft_cv_codec_decode (data.data (), data.size (), err);
  if (!same (ref, ours) && cut && all_black (ours) && ref.size () == ours.size ())
    {
      /* cut before the first row: OpenCV hands back its row buffer's
       * uninitialised bytes, we hand back black */
      n_undefined++;
    }
  else if (!same (ref, ours))
    {
      n_failed++;
      std::printf ("DIFFERS  decode %s: OpenCV %dx%d%s, ours %dx%d%s (%s)\n", what.c_str (), ref.cols,
                   ref.rows, ref.empty () ? " empty" : "", ours.cols, ours.rows,
                   ours.empty () ? " empty" : "", err.c_str ());
    }
  else if (expect_image && ours.empty ())
    {
      n_failed++;
      std::printf ("EMPTY    decode %s: neither reads it (%s)\n", what.c_str (), err.c_str ());
    }
}

/* every prefix cut of the file decodes the same (an image or nothing) */
static void
check_cuts (const std::string &what, const Bytes &data, bool quick)
{
  size_t step = quick ? data.size () / 7 + 1 : data.size () / 61 + 1;
  for (size_t cut = 0; cut < data.size (); cut += step)
    check_decode (what + " cut at " + std::to_string (cut), Bytes (data.begin (), data.begin () + (long) cut), false,
                  true);
}

static void
check_encode (const std::string &what, const cv::Mat &m)
{
  for (int q : { 1, 30, 70, 75, 85, 90, 92, 95, 100 })
    {
      n_checked++;
      Bytes ref, ours;
      std::string err;
      cv::imencode (".jpg", m, ref, { cv::IMWRITE_JPEG_QUALITY, q });
      if (!ft_cv_codec_encode_jpeg (m, q, ours, err) || ours != ref)
        {
          n_failed++;
          std::printf ("DIFFERS  JPEG q%d of %s: OpenCV %zu bytes, ours %zu (%s)\n", q, what.c_str (),
                       ref.size (), ours.size (), err.c_str ());
        }
    }
  n_checked++;
  Bytes ref, ours;
  std::string err;
  cv::imencode (".png", m, ref);
  if (!ft_cv_codec_encode_png (m, ours, err) || ours != ref)
    {
      n_failed++;
      std::printf ("DIFFERS  PNG of %s: OpenCV %zu bytes, ours %zu (%s)\n", what.c_str (), ref.size (),
                   ours.size (), err.c_str ());
    }
}

static Bytes
read_file (const std::string &path)
{
  Bytes b;
  FILE *f = std::fopen (path.c_str (), "rb");
  if (f == NULL)
    return b;
  unsigned char buf[65536];
  size_t n;
  while ((n = std::fread (buf, 1, sizeof buf, f)) > 0)
    b.insert (b.end (), buf, buf + n);
  std::fclose (f);
  return b;
}

/* ------------------------------------------------ images made here */

static Bytes
jpeg_raw (const cv::Mat &m, J_COLOR_SPACE in, J_COLOR_SPACE file, bool progressive, int restart,
          bool smooth_444)
{
  struct jpeg_compress_struct c;
  struct jpeg_error_mgr e;
  c.err = jpeg_std_error (&e);
  jpeg_create_compress (&c);
  unsigned char *buf = NULL;
  unsigned long len = 0;
  jpeg_mem_dest (&c, &buf, &len);
  c.image_width = (JDIMENSION) m.cols;
  c.image_height = (JDIMENSION) m.rows;
  c.input_components = m.channels ();
  c.in_color_space = in;
  jpeg_set_defaults (&c);
  jpeg_set_colorspace (&c, file);
  jpeg_set_quality (&c, 88, TRUE);
  if (progressive)
    jpeg_simple_progression (&c);
  c.restart_in_rows = restart;
  if (smooth_444)
    for (int i = 0; i < c.num_components; i++)
      c.comp_info[i].h_samp_factor = c.comp_info[i].v_samp_factor = 1;
  jpeg_start_compress (&c, TRUE);
  for (int y = 0; y < m.rows; y++)
    {
      JSAMPROW r = (JSAMPROW) m.ptr (y);
      jpeg_write_scanlines (&c, &r, 1);
    }
  jpeg_finish_compress (&c);
  jpeg_destroy_compress (&c);
  Bytes b (buf, buf + len);
  free (buf);
  return b;
}

static void
png_put (png_structp png, png_bytep d, png_size_t n)
{
  Bytes *b = (Bytes *) png_get_io_ptr (png);
  b->insert (b->end (), d, d + n);
}

static void
png_nop (png_structp)
{
}

/* rows of already packed samples; palette/trans/exif optional */
static Bytes
png_raw (int w, int h, int depth, int type, const std::vector<Bytes> &rows, bool interlace,
         const std::vector<png_color> *palette, const Bytes *trans, const png_color_16 *trans_colour,
         const Bytes *exif)
{
  Bytes out;
  png_structp png = png_create_write_struct (PNG_LIBPNG_VER_STRING, NULL, NULL, NULL);
  png_infop info = png_create_info_struct (png);
  png_set_write_fn (png, &out, png_put, png_nop);
  png_set_IHDR (png, info, (png_uint_32) w, (png_uint_32) h, depth, type,
                interlace ? PNG_INTERLACE_ADAM7 : PNG_INTERLACE_NONE, PNG_COMPRESSION_TYPE_DEFAULT,
                PNG_FILTER_TYPE_DEFAULT);
  if (palette)
    png_set_PLTE (png, info, palette->data (), (int) palette->size ());
  if (trans)
    png_set_tRNS (png, info, (png_bytep) trans->data (), (int) trans->size (), NULL);
  if (trans_colour)
    png_set_tRNS (png, info, NULL, 0, (png_color_16p) trans_colour);
  if (exif)
    png_set_eXIf_1 (png, info, (png_uint_32) exif->size (), (png_bytep) exif->data ());
  png_write_info (png, info);
  std::vector<png_bytep> rp;
  for (const Bytes &r : rows)
    rp.push_back ((png_bytep) r.data ());
  png_write_image (png, rp.data ());
  png_write_end (png, info);
  png_destroy_write_struct (&png, &info);
  return out;
}

/* a TIFF-structured EXIF block; entries (tag, type, count, value) */
struct Entry
{
  uint16_t tag, type;
  uint32_t count, value;
};

static Bytes
exif_block (bool intel, const std::vector<Entry> &entries, uint16_t mark = 0x2A, size_t cut = 0)
{
  Bytes b;
  auto u16 = [&] (uint32_t v) {
    if (intel) { b.push_back (v & 255); b.push_back ((v >> 8) & 255); }
    else { b.push_back ((v >> 8) & 255); b.push_back (v & 255); }
  };
  auto u32 = [&] (uint32_t v) {
    if (intel) for (int i = 0; i < 4; i++) b.push_back ((v >> (8 * i)) & 255);
    else for (int i = 3; i >= 0; i--) b.push_back ((v >> (8 * i)) & 255);
  };
  b.push_back (intel ? 'I' : 'M');
  b.push_back (intel ? 'I' : 'M');
  u16 (mark);
  u32 (8);
  u16 ((uint32_t) entries.size ());
  for (const Entry &e : entries)
    {
      u16 (e.tag);
      u16 (e.type);
      u32 (e.count);
      if (e.type == 3 && e.count == 1)
        {
          u16 (e.value);
          u16 (0);
        }
      else
        u32 (e.value);
    }
  u32 (0);
  for (int i = 0; i < 64; i++)
    b.push_back ((unsigned char) i);
  if (cut > 0 && cut < b.size ())
    b.resize (cut);
  return b;
}

/* a JPEG with an APP1 segment (prefix + block) right after SOI */
static Bytes
with_app1 (const Bytes &jpeg, const Bytes &payload, const char *prefix = "Exif\0\0", size_t plen = 6)
{
  size_t len = 2 + plen + payload.size ();
  Bytes out;
  out.reserve (jpeg.size () + len + 2);
  out.push_back (jpeg[0]);
  out.push_back (jpeg[1]);
  for (unsigned char c : { (unsigned char) 0xFF, (unsigned char) 0xE1, (unsigned char) (len >> 8),
                           (unsigned char) (len & 255) })
    out.push_back (c);
  for (size_t i = 0; i < plen; i++)
    out.push_back ((unsigned char) prefix[i]);
  out.insert (out.end (), payload.begin (), payload.end ());
  out.insert (out.end (), jpeg.begin () + 2, jpeg.end ());
  return out;
}

/* a JPEG with its DHT segments taken out (as Motion JPEG frames are) */
static Bytes
without_dht (const Bytes &j)
{
  Bytes out (j.begin (), j.begin () + 2);
  size_t i = 2;
  while (i + 4 <= j.size () && j[i] == 0xFF)
    {
      unsigned m = j[i + 1];
      size_t seg = ((size_t) j[i + 2] << 8) | j[i + 3];
      if (m == 0xDA)
        break;
      if (m != 0xC4)
        out.insert (out.end (), j.begin () + (long) i, j.begin () + (long) (i + 2 + seg));
      i += 2 + seg;
    }
  out.insert (out.end (), j.begin () + (long) i, j.end ());
  return out;
}

static void
made_here (const cv::Mat &photo, bool quick)
{
  /* an odd-sized crop of the photo, to reach partial MCUs and rows */
  cv::Mat small;
  cv::resize (photo, small, cv::Size (157, 109), 0, 0, cv::INTER_AREA);
  cv::Mat grey, bgra, rgb, cmyk (small.size (), CV_8UC4);
  cv::cvtColor (small, grey, cv::COLOR_BGR2GRAY);
  cv::cvtColor (small, bgra, cv::COLOR_BGR2BGRA);
  cv::cvtColor (small, rgb, cv::COLOR_BGR2RGB);
  for (int y = 0; y < small.rows; y++)
    for (int x = 0; x < small.cols; x++)
      {
        cv::Vec3b p = small.at<cv::Vec3b> (y, x);
        int k = 255 - std::max ({ p[0], p[1], p[2] });
        /* Adobe's inverted CMYK */
        cmyk.at<cv::Vec4b> (y, x) = cv::Vec4b ((uchar) (255 - (255 - p[2] - k)), (uchar) (255 - (255 - p[1] - k)),
                                               (uchar) (255 - (255 - p[0] - k)), (uchar) (255 - k));
      }
  Bytes base;
  cv::imencode (".jpg", small, base, { cv::IMWRITE_JPEG_QUALITY, 90 });

  Bytes b;
  cv::imencode (".jpg", grey, b);
  check_decode ("JPEG grey", b);
  check_decode ("JPEG CMYK", jpeg_raw (cmyk, JCS_CMYK, JCS_CMYK, false, 0, false));
  check_decode ("JPEG YCCK", jpeg_raw (cmyk, JCS_CMYK, JCS_YCCK, false, 0, false));
  check_decode ("JPEG RGB (no YCbCr)", jpeg_raw (rgb, JCS_RGB, JCS_RGB, false, 0, false));
  check_decode ("JPEG progressive", jpeg_raw (rgb, JCS_RGB, JCS_YCbCr, true, 0, false));
  check_decode ("JPEG restart markers", jpeg_raw (rgb, JCS_RGB, JCS_YCbCr, false, 1, false));
  check_decode ("JPEG 4:4:4", jpeg_raw (rgb, JCS_RGB, JCS_YCbCr, false, 0, true));
  check_decode ("JPEG without DHT", without_dht (base));
  cv::imencode (".jpg", photo, b, { cv::IMWRITE_JPEG_PROGRESSIVE, 1, cv::IMWRITE_JPEG_OPTIMIZE, 1 });
  check_decode ("JPEG photo progressive optimised", b);
  check_cuts ("JPEG progressive", b, quick);
  check_cuts ("JPEG CMYK", jpeg_raw (cmyk, JCS_CMYK, JCS_CMYK, false, 0, false), quick);

  /* EXIF orientation, both byte orders, then malformed blocks */
  for (int o = 0; o <= 9; o++)
    for (bool intel : { true, false })
      check_decode ("JPEG EXIF orientation " + std::to_string (o) + (intel ? " II" : " MM"),
                    with_app1 (base, exif_block (intel, { { 0x010F, 2, 4, 0x41424300 }, { 0x0112, 3, 1, (uint32_t) o } })));
  const Entry rot6 = { 0x0112, 3, 1, 6 };
  struct { const char *what; Bytes block; } bad[] = {
    { "bad mark", exif_block (true, { rot6 }, 0x2B) },
    { "cut in the entry", exif_block (true, { rot6 }, 0x2A, 20) },
    { "cut before the value", exif_block (true, { rot6 }, 0x2A, 19) },
    { "string out of range before", exif_block (true, { { 0x010F, 2, 40, 5000 }, rot6 }) },
    { "string out of range after", exif_block (true, { rot6, { 0x010F, 2, 40, 5000 } }) },
    { "short string at 8", exif_block (true, { { 0x0110, 2, 4, 0 }, rot6 }) },
    { "rational out of range before", exif_block (true, { { 0x011A, 5, 1, 5000 }, rot6 }) },
    { "6 rationals running out", exif_block (false, { { 0x0214, 5, 6, 40 }, rot6 }) },
    { "3 rationals in range", exif_block (false, { { 0x0211, 5, 3, 30 }, rot6 }) },
    { "unknown tags around", exif_block (true, { { 0x9999, 4, 1, 7 }, rot6, { 0x8769, 4, 1, 99999 } }) },
    { "two orientations", exif_block (true, { { 0x0112, 3, 1, 3 }, rot6 }) },
    { "too many entries", exif_block (true, { rot6, { 0x0131, 2, 3, 0 } }, 0x2A, 0) },
    { "mixed byte order", Bytes { 'I', 'M', 0, 0x2A, 0, 0, 0, 8, 0, 1, 1, 0x12, 0, 3, 0, 0, 0, 1, 0, 6, 0, 0 } },
    { "no byte order", Bytes { 'X', 'X', 0, 0x2A, 0, 0, 0, 8, 0, 1, 1, 0x12, 0, 3, 0, 0, 0, 1, 0, 6, 0, 0 } },
    { "IFD past the end", exif_block (true, { rot6 }, 0x2A, 9) },
  };
  for (auto &c : bad)
    check_decode (std::string ("JPEG EXIF ") + c.what, with_app1 (base, c.block));
  {
    /* an entry count larger than the entries: runs into the padding */
    Bytes blk = exif_block (true, { rot6 });
    blk[8] = 200;
    check_decode ("JPEG EXIF count past the end", with_app1 (base, blk));
  }
  check_decode ("JPEG XMP before EXIF",
                with_app1 (with_app1 (base, exif_block (true, { rot6 })), Bytes (40, 'x'),
                           "http://ns.adobe.com/xap/1.0/", 29));
  check_decode ("JPEG APP1 of 6 bytes", with_app1 (base, Bytes (), "Exif\0\0", 6));

  /* PNG: what cv::imencode writes, then kinds it never writes */
  std::vector<cv::Mat> pngs = { small, grey, bgra };
  for (cv::Mat m : std::vector<cv::Mat> (pngs))
    {
      cv::Mat m16;
      m.convertTo (m16, CV_16U, 257.0, 3);
      pngs.push_back (m16);
    }
  for (const cv::Mat &m : pngs)
    {
      cv::imencode (".png", m, b);
      check_decode ("PNG " + std::to_string (m.channels ()) + "ch " + (m.depth () == CV_16U ? "16" : "8") + "-bit", b);
    }
  check_cuts ("PNG", b, quick);
  int w = 37, h = 29;
  std::vector<png_color> pal;
  Bytes trans;
  for (int i = 0; i < 256; i++)
    {
      pal.push_back ({ (png_byte) i, (png_byte) (255 - i), (png_byte) (i * 7) });
      trans.push_back ((png_byte) (i * 3));
    }
  for (int depth : { 1, 2, 4, 8, 16 })
    for (int type : { PNG_COLOR_TYPE_GRAY, PNG_COLOR_TYPE_PALETTE, PNG_COLOR_TYPE_GRAY_ALPHA, PNG_COLOR_TYPE_RGB,
                      PNG_COLOR_TYPE_RGB_ALPHA })
      {
        if ((type == PNG_COLOR_TYPE_PALETTE && depth > 8) ||
            (type != PNG_COLOR_TYPE_GRAY && type != PNG_COLOR_TYPE_PALETTE && depth < 8))
          continue;
        int channels = type == PNG_COLOR_TYPE_GRAY_ALPHA ? 2 : type == PNG_COLOR_TYPE_RGB ? 3
                     : type == PNG_COLOR_TYPE_RGB_ALPHA ? 4 : 1;
        size_t row_bytes = ((size_t) w * channels * depth + 7) / 8;
        std::vector<Bytes> rows;
        for (int y = 0; y < h; y++)
          {
            Bytes r (row_bytes);
            for (size_t i = 0; i < row_bytes; i++)
              r[i] = (unsigned char) (y * 31 + i * 17 + (i * i) % 13);
            if (type == PNG_COLOR_TYPE_PALETTE && depth == 8)
              for (size_t i = 0; i < row_bytes; i++)
                r[i] %= 200;
            rows.push_back (r);
          }
        std::vector<png_color> p8 (pal.begin (), pal.begin () + (type == PNG_COLOR_TYPE_PALETTE ? std::min (200, 1 << depth) : 0));
        for (bool interlace : { false, true })
          for (int with_trans = 0; with_trans < 2; with_trans++)
            {
              if (with_trans && (type & PNG_COLOR_MASK_ALPHA))
                continue;
              Bytes tr (trans.begin (), trans.begin () + (long) std::min<size_t> (p8.size (), 100));
              png_color_16 key = { 0, 3, 5, 7, (png_uint_16) (depth < 16 ? 1 : 300) };
              std::string what = "PNG type " + std::to_string (type) + " depth " + std::to_string (depth) +
                                 (interlace ? " interlaced" : "") + (with_trans ? " tRNS" : "");
              check_decode (what, png_raw (w, h, depth, type, rows, interlace,
                                           type == PNG_COLOR_TYPE_PALETTE ? &p8 : NULL,
                                           with_trans && type == PNG_COLOR_TYPE_PALETTE ? &tr : NULL,
                                           with_trans && type != PNG_COLOR_TYPE_PALETTE ? &key : NULL, NULL));
            }
      }
  std::vector<Bytes> rows;
  for (int y = 0; y < small.rows; y++)
    {
      Bytes r ((size_t) small.cols * 3);
      std::memcpy (r.data (), rgb.ptr (y), r.size ());
      rows.push_back (r);
    }
  for (int o : { 1, 3, 6, 8 })
    {
      Bytes ex = exif_block (o % 2 == 0, { { 0x0112, 3, 1, (uint32_t) o } });
      check_decode ("PNG eXIf orientation " + std::to_string (o),
                    png_raw (small.cols, small.rows, 8, PNG_COLOR_TYPE_RGB, rows, false, NULL, NULL, NULL, &ex));
    }

  /* encoding */
  check_encode ("the photo", photo);
  check_encode ("an odd-sized crop", small);
  check_encode ("a grey crop", grey);
  check_encode ("a BGRA crop", bgra);
}

static void
add_path (const std::string &p, std::vector<std::string> &files)
{
  struct stat st;
  if (stat (p.c_str (), &st) != 0)
    return;
  if (!S_ISDIR (st.st_mode))
    {
      files.push_back (p);
      return;
    }
  DIR *d = opendir (p.c_str ());
  if (d == NULL)
    return;
  std::vector<std::string> names;
  while (struct dirent *e = readdir (d))
    {
      std::string n = e->d_name;
      if (n.size () > 4 && (n.compare (n.size () - 4, 4, ".jpg") == 0 || n.compare (n.size () - 4, 4, ".png") == 0 ||
                            n.compare (n.size () - 5, 5, ".jpeg") == 0))
        names.push_back (p + "/" + n);
    }
  closedir (d);
  std::sort (names.begin (), names.end ());
  files.insert (files.end (), names.begin (), names.end ());
}

int
main (int argc, char **argv)
{
  bool quick = false;
  std::vector<std::string> files;
  for (int i = 1; i < argc; i++)
    if (std::strcmp (argv[i], "--quick") == 0)
      quick = true;
    else
      add_path (argv[i], files);
  cv::setNumThreads (1);
  cv::Mat first;
  for (const std::string &f : files)
    {
      Bytes data = read_file (f);
      bool image = data.size () > 64 && f.find ("fuzz") == std::string::npos;
      check_decode (f, data, image);
      if (!quick || first.empty ())
        check_cuts (f, data, true);
      if (first.empty () && image)
        first = cv::imdecode (data, cv::IMREAD_COLOR);
      if (!quick && image)
        {
          std::string err;
          cv::Mat m = ft_cv_codec_decode (data.data (), data.size (), err);
          if (!m.empty ())
            {
              /* the synthetic rider's photo path: JPEG at 70..92 and back */
              cv::Mat half;
              cv::resize (m, half, cv::Size (), 0.5, 0.5, cv::INTER_AREA);
              for (int q : { 70, 81, 92 })
                {
                  Bytes r;
                  cv::imencode (".jpg", half, r, { cv::IMWRITE_JPEG_QUALITY, q });
                  check_decode (f + " re-encoded at " + std::to_string (q), r);
                }
              check_encode (f + " halved", half);
            }
        }
    }
  if (first.empty ())
    {
      std::printf ("codec-compare: no photo to build the test images from\n");
      return 1;
    }
  made_here (first, quick);
  std::printf ("codec-compare: %d comparisons with OpenCV %s, %d differ (%d files cut before their first row,"
               " where OpenCV gives uninitialised memory)\n", n_checked, CV_VERSION, n_failed, n_undefined);
  return n_failed == 0 ? 0 : 1;
}
