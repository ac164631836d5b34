/* ft-inspect-cv-private.h — what the two C++ files of the OpenCV shim share:
 * the JPEG and PNG codec (ft-inspect-cv-codec.cc, libjpeg-turbo and libpng
 * straight into a cv::Mat) used by the shim (ft-inspect-cv.cc). C++ only;
 * nothing outside src/inspect includes it.
 */
#pragma once

#ifndef __cplusplus
#error "ft-inspect-cv-private.h is C++"
#endif

#include <opencv2/core.hpp>

#include <cstddef>
#include <string>
#include <vector>

/* Decodes a JPEG or PNG held in memory to 8-bit BGR, the pixels OpenCV 4.6's
 * cv::imdecode (buf, cv::IMREAD_COLOR) gives: the same libjpeg and libpng
 * calls in the same order (JPEG: islow DCT and fancy upsampling, CMYK
 * converted as OpenCV does; PNG: 16 bits cut to their high byte, alpha
 * dropped, grey and palettes expanded) and the EXIF orientation applied.
 * An empty Mat, with a message in err, when the data cannot be read. */
cv::Mat ft_cv_codec_decode      (const unsigned char *data, size_t len, std::string &err);

/* JPEG at quality 1..100 (baseline, 4:2:0, no optimised tables) or PNG
 * (zlib level 1, the Sub filter, the RLE strategy) of an 8-bit image of 1, 3
 * or 4 channels (BGR order, alpha dropped for JPEG), byte for byte what
 * OpenCV 4.6's cv::imencode writes. false, with a message in err, on
 * failure. */
bool    ft_cv_codec_encode_jpeg (const cv::Mat &img, int quality, std::vector<unsigned char> &out,
                                 std::string &err);
bool    ft_cv_codec_encode_png  (const cv::Mat &img, std::vector<unsigned char> &out,
                                 std::string &err);
