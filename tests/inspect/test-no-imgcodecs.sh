#!/bin/sh
# test-no-imgcodecs.sh PROGRAM... — the programs do not load OpenCV's
# imgcodecs, nor GDAL, GDCM or OpenEXR that come with it: they cost every
# start about 0.4 G instructions in the dynamic loader, and the photo checks
# read JPEG and PNG with libjpeg-turbo and libpng (src/inspect). Fails on
# the first library of that family ldd lists.
set -eu
for prog in "$@"; do
  [ -x "$prog" ] || { echo "FAIL: $prog is not a program" >&2; exit 1; }
  libs=$(ldd "$prog")
  echo "$libs" | grep -q 'libc\.so' || { echo "FAIL: ldd lists nothing for $prog" >&2; exit 1; }
  bad=$(echo "$libs" | grep -E 'libopencv_imgcodecs|libgdal|libgdcm|libOpenEXR' || true)
  if [ -n "$bad" ]; then
    echo "FAIL: $prog loads $(echo "$bad" | awk '{print $1}' | tr '\n' ' ')" >&2
    exit 1
  fi
  echo "$prog: $(echo "$libs" | wc -l) libraries, no imgcodecs"
done
