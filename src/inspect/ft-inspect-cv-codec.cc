/* ft-inspect-cv-codec.cc — JPEG and PNG for the photo checks, read and
 * written with libjpeg-turbo and libpng straight into a cv::Mat, so that the
 * programs need not link OpenCV's imgcodecs (and through it GDAL, GDCM,
 * OpenEXR and a hundred more libraries that cost every start 0.4 G
 * instructions in the dynamic loader). The pixels and bytes are those of
 * OpenCV 4.6's cv::imdecode (IMREAD_COLOR) and cv::imencode: the same
 * library calls in the same order, the EXIF orientation applied the same way
 * (tests/inspect/codec-compare checks it against OpenCV itself).
 *
 * libjpeg and libpng report errors by longjmp: every setjmp sits in a
 * function whose locals are plain data, and the cv::Mat is allocated between
 * the header and the pixel pass, outside them.
 */
#include "ft-inspect-cv-private.h"

#include <csetjmp>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <algorithm>

#include <jpeglib.h>
#include <png.h>
#include <zlib.h>

/* OpenCV's limits on a decoded image (CV_IO_MAX_IMAGE_WIDTH, _PIXELS) */
enum { MAX_SIDE = 1 << 20 };
static const uint64_t MAX_PIXELS = (uint64_t) 1 << 30;

/* ------------------------------------------------------------------ EXIF */

/* The orientation (1..8) in a TIFF-structured EXIF block, 0 when it has
 * none. Read as OpenCV 4.6's ExifReader reads it: the first IFD only, its
 * entries in order, "II" little-endian and anything else big-endian, and
 * the entries OpenCV decodes checked for their bounds in the same way, so
 * that a malformed entry before the orientation hides it and one after it
 * does not; the first orientation entry wins. */
struct ExifView
{
  const unsigned char *d;
  size_t n;
  bool intel;
};

static bool
exif_u16 (const ExifView *e, uint64_t off, uint32_t *v)
{
  if (off + 1 >= e->n)
    return false;
  *v = e->intel ? (uint32_t) (e->d[off] | (e->d[off + 1] << 8))
                : (uint32_t) ((e->d[off] << 8) | e->d[off + 1]);
  return true;
}

static bool
exif_u32 (const ExifView *e, uint64_t off, uint32_t *v)
{
  if (off + 3 >= e->n)
    return false;
  const unsigned char *p = e->d + off;
  *v = e->intel ? ((uint32_t) p[0] | ((uint32_t) p[1] << 8) | ((uint32_t) p[2] << 16) | ((uint32_t) p[3] << 24))
                : (((uint32_t) p[0] << 24) | ((uint32_t) p[1] << 16) | ((uint32_t) p[2] << 8) | (uint32_t) p[3]);
  return true;
}

/* false where OpenCV's reader of this entry would stop the whole parse */
static bool
exif_entry_readable (const ExifView *e, uint32_t tag, uint64_t off)
{
  uint32_t v, w;
  int rationals = 0;
  switch (tag)
    {
    case 0x010E: case 0x010F: case 0x0110: case 0x0131: case 0x0132: case 0x8298:
      {
        /* strings: a count, and the data in the entry (4 bytes or less,
         * read from byte 8 of the block as OpenCV does) or at an offset */
        if (!exif_u32 (e, off + 4, &v))
          return false;
        uint64_t at = 8;
        if (v > 4)
          {
            if (!exif_u32 (e, off + 8, &w))
              return false;
            at = w;
          }
        return at <= e->n && at + v <= e->n;
      }
    case 0x0112: case 0x0128: case 0x0213:
      return exif_u16 (e, off + 8, &v);
    case 0x011A: case 0x011B:
      rationals = 1;
      break;
    case 0x013E:
      rationals = 2;
      break;
    case 0x0211:
      rationals = 3;
      break;
    case 0x013F: case 0x0214:
      rationals = 6;
      break;
    default:
      return true;
    }
  if (!exif_u32 (e, off + 8, &w))
    return false;
  for (int i = 0; i < rationals; i++)
    if (!exif_u32 (e, (uint64_t) w + 8 * i, &v) || !exif_u32 (e, (uint64_t) w + 8 * i + 4, &v))
      return false;
  return true;
}

static int
exif_orientation (const unsigned char *d, size_t n)
{
  if (d == NULL || n == 0)
    return 0;
  ExifView e = { d, n, !(n > 1 && d[0] != d[1]) && d[0] == 'I' };
  uint32_t mark, ifd, count;
  if (!exif_u16 (&e, 2, &mark) || mark != 0x2A || !exif_u32 (&e, 4, &ifd) || !exif_u16 (&e, ifd, &count))
    return 0;
  uint64_t off = (uint64_t) ifd + 2;
  int orientation = 0;
  bool found = false;
  for (uint32_t i = 0; i < count; i++, off += 12)
    {
      uint32_t tag, v;
      if (!exif_u16 (&e, off, &tag) || !exif_entry_readable (&e, tag, off))
        break;
      if (tag == 0x0112 && !found && exif_u16 (&e, off + 8, &v))
        {
          orientation = (int) v;
          found = true;
        }
    }
  return orientation;
}

/* OpenCV's ExifTransform: turn the stored pixels upright */
static void
apply_orientation (cv::Mat &m, int orientation)
{
  switch (orientation)
    {
    case 2: cv::flip (m, m, 1); break;
    case 3: cv::flip (m, m, -1); break;
    case 4: cv::flip (m, m, 0); break;
    case 5: cv::transpose (m, m); break;
    case 6: cv::transpose (m, m); cv::flip (m, m, 1); break;
    case 7: cv::transpose (m, m); cv::flip (m, m, -1); break;
    case 8: cv::transpose (m, m); cv::flip (m, m, 0); break;
    default: break;
    }
}

static bool
size_ok (uint64_t w, uint64_t h, std::string &err)
{
  if (w == 0 || h == 0 || w > MAX_SIDE || h > MAX_SIDE || w * h > MAX_PIXELS)
    {
      char msg[96];
      std::snprintf (msg, sizeof msg, "an image of %llux%llu pixels cannot be read",
                     (unsigned long long) w, (unsigned long long) h);
      err = msg;
      return false;
    }
  return true;
}

/* ------------------------------------------------------------ JPEG read */

struct JpegErr
{
  struct jpeg_error_mgr pub;
  jmp_buf jb;
  char msg[JMSG_LENGTH_MAX];
};

struct JpegIn
{
  struct jpeg_decompress_struct cinfo;
  JpegErr err;
  struct jpeg_source_mgr src;
  bool created;
  bool rows_done;
};

static void
jpeg_fail (j_common_ptr cinfo)
{
  JpegErr *e = (JpegErr *) cinfo->err;
  e->pub.format_message (cinfo, e->msg);
  longjmp (e->jb, 1);
}

static void
jpeg_quiet (j_common_ptr, int)
{
  /* warnings (corrupt data that libjpeg works around) are not reported */
}

static void
src_stub (j_decompress_ptr)
{
}

static boolean
src_fill (j_decompress_ptr)
{
  /* the whole file is in the buffer: running out suspends the decoder,
   * as OpenCV's memory source does */
  return FALSE;
}

static void
src_skip (j_decompress_ptr cinfo, long n)
{
  struct jpeg_source_mgr *s = cinfo->src;
  if (n <= 0)
    return;
  if ((size_t) n > s->bytes_in_buffer)
    {
      s->next_input_byte += s->bytes_in_buffer;
      s->bytes_in_buffer = 0;
    }
  else
    {
      s->next_input_byte += n;
      s->bytes_in_buffer -= (size_t) n;
    }
}

/* The header pass: size and the EXIF orientation (first APP1 segment). */
static bool
jpeg_head (JpegIn *s, const unsigned char *data, size_t len, int *w, int *h, int *orientation)
{
  s->cinfo.err = jpeg_std_error (&s->err.pub);
  s->err.pub.error_exit = jpeg_fail;
  s->err.pub.emit_message = jpeg_quiet;
  if (setjmp (s->err.jb) != 0)
    return false;
  jpeg_create_decompress (&s->cinfo);
  s->created = true;
  s->src.init_source = src_stub;
  s->src.fill_input_buffer = src_fill;
  s->src.skip_input_data = src_skip;
  s->src.resync_to_restart = jpeg_resync_to_restart;
  s->src.term_source = src_stub;
  s->src.next_input_byte = data;
  s->src.bytes_in_buffer = len;
  s->cinfo.src = &s->src;
  jpeg_save_markers (&s->cinfo, JPEG_APP0 + 1, 0xffff);
  jpeg_read_header (&s->cinfo, TRUE);
  s->cinfo.scale_num = 1;
  s->cinfo.scale_denom = 1;
  jpeg_calc_output_dimensions (&s->cinfo);
  *w = (int) s->cinfo.output_width;
  *h = (int) s->cinfo.output_height;
  *orientation = 0;
  for (jpeg_saved_marker_ptr m = s->cinfo.marker_list; m != NULL; m = m->next)
    if (m->marker == JPEG_APP0 + 1)
      {
        if (m->data_length > 6)
          *orientation = exif_orientation (m->data + 6, m->data_length - 6);
        break;
      }
  return true;
}

/* The pixel pass into rows of 3 bytes a pixel (row4: w x 4 bytes). Colour
 * JPEGs come out of libjpeg as BGR; CMYK ones (Adobe's, inverted) are
 * turned into BGR with OpenCV's integer formula. A file cut short is read as
 * OpenCV reads it: every row is asked for, a row libjpeg cannot give repeats
 * the last one it gave (OpenCV's row buffer keeps it; black if none) and the
 * image is kept. */
static bool
jpeg_pixels (JpegIn *s, unsigned char *dst, size_t step, int w, int h, unsigned char *row4)
{
  if (setjmp (s->err.jb) != 0)
    return s->rows_done;
  bool cmyk = s->cinfo.num_components == 4;
  s->cinfo.out_color_space = cmyk ? JCS_CMYK : JCS_EXT_BGR;
  s->cinfo.out_color_components = cmyk ? 4 : 3;
  jpeg_start_decompress (&s->cinfo);
  for (int y = 0; y < h; y++)
    {
      unsigned char *out = dst + (size_t) y * step;
      JSAMPROW row = cmyk ? row4 : out;
      if (jpeg_read_scanlines (&s->cinfo, &row, 1) != 1)
        {
          if (y > 0)
            std::memcpy (out, out - step, (size_t) w * 3);
          else
            std::memset (out, 0, (size_t) w * 3);
          continue;
        }
      if (cmyk)
        for (int x = 0; x < w; x++)
          {
            const unsigned char *p = row4 + 4 * x;
            int k = p[3];
            out[3 * x + 2] = (unsigned char) (k - (((255 - p[0]) * k) >> 8));
            out[3 * x + 1] = (unsigned char) (k - (((255 - p[1]) * k) >> 8));
            out[3 * x + 0] = (unsigned char) (k - (((255 - p[2]) * k) >> 8));
          }
    }
  /* the image stands even if finishing fails (data missing at the end) */
  s->rows_done = true;
  jpeg_finish_decompress (&s->cinfo);
  return true;
}

static cv::Mat
decode_jpeg (const unsigned char *data, size_t len, std::string &err)
{
  JpegIn *s = (JpegIn *) std::calloc (1, sizeof *s);
  if (s == NULL)
    {
      err = "out of memory";
      return cv::Mat ();
    }
  cv::Mat m;
  int w = 0, h = 0, orientation = 0;
  if (!jpeg_head (s, data, len, &w, &h, &orientation))
    err = s->err.msg[0] ? s->err.msg : "the JPEG header cannot be read";
  else if (size_ok ((uint64_t) w, (uint64_t) h, err))
    {
      m.create (h, w, CV_8UC3);
      std::vector<unsigned char> row4 ((size_t) w * 4);
      if (!jpeg_pixels (s, m.ptr (), m.step, w, h, row4.data ()))
        {
          err = s->err.msg[0] ? s->err.msg : "the JPEG data cannot be read";
          m.release ();
        }
    }
  if (s->created)
    jpeg_destroy_decompress (&s->cinfo);
  std::free (s);
  if (!m.empty ())
    apply_orientation (m, orientation);
  return m;
}

/* ------------------------------------------------------------- PNG read */

enum { PNG_MSG = 200 };

struct PngIn
{
  png_structp png;
  png_infop info, end;
  const unsigned char *data;
  size_t len, pos;
  char msg[PNG_MSG];
};

/* the error pointer is the caller's message buffer of PNG_MSG bytes */
static void
png_fail (png_structp png, png_const_charp msg)
{
  std::snprintf ((char *) png_get_error_ptr (png), PNG_MSG, "%s", msg);
  png_longjmp (png, 1);
}

static void
png_quiet (png_structp, png_const_charp)
{
}

static void
png_read_mem (png_structp png, png_bytep out, png_size_t n)
{
  PngIn *s = (PngIn *) png_get_io_ptr (png);
  if (n > s->len - s->pos)
    png_error (png, "the PNG data ends early");
  std::memcpy (out, s->data + s->pos, n);
  s->pos += n;
}

static bool
png_head (PngIn *s, png_uint_32 *w, png_uint_32 *h, int *depth, int *type)
{
  if (setjmp (png_jmpbuf (s->png)) != 0)
    return false;
  png_set_read_fn (s->png, s, png_read_mem);
  png_read_info (s->png, s->info);
  png_get_IHDR (s->png, s->info, w, h, depth, type, NULL, NULL, NULL);
  return true;
}

/* The pixel pass, with OpenCV's transformations for an 8-bit BGR target,
 * then the orientation from an eXIf chunk before or after the image. */
static bool
png_pixels (PngIn *s, int depth, int type, png_bytepp rows, int *orientation)
{
  if (setjmp (png_jmpbuf (s->png)) != 0)
    return false;
  if (depth == 16)
    png_set_strip_16 (s->png);
  else
    png_set_swap (s->png);
  png_set_strip_alpha (s->png);
  if (type == PNG_COLOR_TYPE_PALETTE)
    png_set_palette_to_rgb (s->png);
  if ((type & PNG_COLOR_MASK_COLOR) == 0 && depth < 8)
    png_set_expand_gray_1_2_4_to_8 (s->png);
  if (type & PNG_COLOR_MASK_COLOR)
    png_set_bgr (s->png);
  else
    png_set_gray_to_rgb (s->png);
  png_set_interlace_handling (s->png);
  png_read_update_info (s->png, s->info);
  png_read_image (s->png, rows);
  png_read_end (s->png, s->end);
  png_uint_32 n = 0;
  png_bytep exif = NULL;
  if (png_get_valid (s->png, s->info, PNG_INFO_eXIf))
    png_get_eXIf_1 (s->png, s->info, &n, &exif);
  else if (png_get_valid (s->png, s->end, PNG_INFO_eXIf))
    png_get_eXIf_1 (s->png, s->end, &n, &exif);
  *orientation = exif != NULL && n > 0 ? exif_orientation (exif, n) : 0;
  return true;
}

static cv::Mat
decode_png (const unsigned char *data, size_t len, std::string &err)
{
  PngIn s;
  std::memset (&s, 0, sizeof s);
  s.data = data;
  s.len = len;
  s.png = png_create_read_struct (PNG_LIBPNG_VER_STRING, s.msg, png_fail, png_quiet);
  if (s.png != NULL)
    {
      s.info = png_create_info_struct (s.png);
      s.end = png_create_info_struct (s.png);
    }
  cv::Mat m;
  png_uint_32 w = 0, h = 0;
  int depth = 0, type = 0, orientation = 0;
  if (s.png == NULL || s.info == NULL || s.end == NULL)
    err = "out of memory";
  else if (!png_head (&s, &w, &h, &depth, &type))
    err = s.msg[0] ? s.msg : "the PNG header cannot be read";
  else if (size_ok (w, h, err))
    {
      m.create ((int) h, (int) w, CV_8UC3);
      std::vector<png_bytep> rows (h);
      for (png_uint_32 y = 0; y < h; y++)
        rows[y] = m.ptr ((int) y);
      if (!png_pixels (&s, depth, type, rows.data (), &orientation))
        {
          err = s.msg[0] ? s.msg : "the PNG data cannot be read";
          m.release ();
        }
    }
  if (s.png != NULL)
    png_destroy_read_struct (&s.png, s.info ? &s.info : NULL, s.end ? &s.end : NULL);
  if (!m.empty ())
    apply_orientation (m, orientation);
  return m;
}

cv::Mat
ft_cv_codec_decode (const unsigned char *data, size_t len, std::string &err)
{
  static const unsigned char png_sig[8] = { 0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n' };
  if (data != NULL && len >= 3 && data[0] == 0xFF && data[1] == 0xD8 && data[2] == 0xFF)
    return decode_jpeg (data, len, err);
  if (data != NULL && len >= 8 && std::memcmp (data, png_sig, 8) == 0)
    return decode_png (data, len, err);
  err = "neither a JPEG nor a PNG signature";
  return cv::Mat ();
}

/* ----------------------------------------------------------- JPEG write */

struct JpegOut
{
  struct jpeg_compress_struct cinfo;
  JpegErr err;
  bool created;
  unsigned char *buf;
  unsigned long len;
};

static bool
jpeg_write (JpegOut *s, const cv::Mat *img, int quality)
{
  s->cinfo.err = jpeg_std_error (&s->err.pub);
  s->err.pub.error_exit = jpeg_fail;
  s->err.pub.emit_message = jpeg_quiet;
  if (setjmp (s->err.jb) != 0)
    return false;
  jpeg_create_compress (&s->cinfo);
  s->created = true;
  jpeg_mem_dest (&s->cinfo, &s->buf, &s->len);
  int cn = img->channels ();
  s->cinfo.image_width = (JDIMENSION) img->cols;
  s->cinfo.image_height = (JDIMENSION) img->rows;
  s->cinfo.input_components = cn;
  s->cinfo.in_color_space = cn == 1 ? JCS_GRAYSCALE : cn == 3 ? JCS_EXT_BGR : JCS_EXT_BGRX;
  jpeg_set_defaults (&s->cinfo);
  s->cinfo.restart_interval = 0;
  jpeg_set_quality (&s->cinfo, quality, TRUE);
  jpeg_start_compress (&s->cinfo, TRUE);
  for (int y = 0; y < img->rows; y++)
    {
      JSAMPROW row = (JSAMPROW) img->ptr (y);
      jpeg_write_scanlines (&s->cinfo, &row, 1);
    }
  jpeg_finish_compress (&s->cinfo);
  return true;
}

static bool
encodable (const cv::Mat &img, std::string &err)
{
  int cn = img.channels ();
  if (img.empty () || img.depth () != CV_8U || (cn != 1 && cn != 3 && cn != 4))
    {
      err = "only 8-bit images of 1, 3 or 4 channels are written";
      return false;
    }
  return true;
}

bool
ft_cv_codec_encode_jpeg (const cv::Mat &img, int quality, std::vector<unsigned char> &out,
                         std::string &err)
{
  if (!encodable (img, err))
    return false;
  JpegOut *s = (JpegOut *) std::calloc (1, sizeof *s);
  if (s == NULL)
    {
      err = "out of memory";
      return false;
    }
  bool ok = jpeg_write (s, &img, std::min (std::max (quality, 0), 100));
  if (ok)
    out.assign (s->buf, s->buf + s->len);
  else
    err = s->err.msg[0] ? s->err.msg : "the JPEG cannot be written";
  if (s->created)
    jpeg_destroy_compress (&s->cinfo);
  std::free (s->buf);
  std::free (s);
  return ok;
}

/* ------------------------------------------------------------ PNG write */

struct PngOut
{
  png_structp png;
  png_infop info;
  unsigned char *buf;
  size_t len, cap;
  char msg[PNG_MSG];
};

static void
png_write_mem (png_structp png, png_bytep data, png_size_t n)
{
  PngOut *s = (PngOut *) png_get_io_ptr (png);
  if (n > s->cap - s->len)
    {
      size_t cap = std::max (s->cap * 2, s->len + n + 4096);
      unsigned char *b = (unsigned char *) std::realloc (s->buf, cap);
      if (b == NULL)
        png_error (png, "out of memory");
      s->buf = b;
      s->cap = cap;
    }
  std::memcpy (s->buf + s->len, data, n);
  s->len += n;
}

static void
png_flush_mem (png_structp)
{
}

static bool
png_write (PngOut *s, const cv::Mat *img, png_bytepp rows)
{
  if (setjmp (png_jmpbuf (s->png)) != 0)
    return false;
  int cn = img->channels ();
  png_set_write_fn (s->png, s, png_write_mem, png_flush_mem);
  /* OpenCV's defaults: tuned for speed */
  png_set_filter (s->png, PNG_FILTER_TYPE_BASE, PNG_FILTER_SUB);
  png_set_compression_level (s->png, Z_BEST_SPEED);
  png_set_compression_strategy (s->png, Z_RLE);
  png_set_IHDR (s->png, s->info, (png_uint_32) img->cols, (png_uint_32) img->rows, 8,
                cn == 1 ? PNG_COLOR_TYPE_GRAY : cn == 3 ? PNG_COLOR_TYPE_RGB : PNG_COLOR_TYPE_RGBA,
                PNG_INTERLACE_NONE, PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
  png_write_info (s->png, s->info);
  png_set_bgr (s->png);
  png_set_swap (s->png);
  png_write_image (s->png, rows);
  png_write_end (s->png, s->info);
  return true;
}

bool
ft_cv_codec_encode_png (const cv::Mat &img, std::vector<unsigned char> &out, std::string &err)
{
  if (!encodable (img, err))
    return false;
  PngOut s;
  std::memset (&s, 0, sizeof s);
  s.png = png_create_write_struct (PNG_LIBPNG_VER_STRING, s.msg, png_fail, png_quiet);
  if (s.png != NULL)
    s.info = png_create_info_struct (s.png);
  std::vector<png_bytep> rows ((size_t) img.rows);
  for (int y = 0; y < img.rows; y++)
    rows[(size_t) y] = (png_bytep) img.ptr (y);
  bool ok = s.png != NULL && s.info != NULL && png_write (&s, &img, rows.data ());
  if (ok)
    out.assign (s.buf, s.buf + s.len);
  else
    err = s.msg[0] ? s.msg : "the PNG cannot be written";
  if (s.png != NULL)
    png_destroy_write_struct (&s.png, s.info ? &s.info : NULL);
  std::free (s.buf);
  return ok;
}
