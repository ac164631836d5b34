#!/bin/sh
# valgrind-osm.sh — runs the OpenStreetMap import of every extract in the
# shared data under valgrind (memcheck): any invalid read or write, use of
# uninitialised memory or definite leak fails it (--error-exitcode=1). It
# needs a build without sanitizers; by default it makes one in
# build-valgrind (only what bench-import needs).
# usage: tests/city/valgrind-osm.sh [BUILD_DIR] [SHARED_DATA_DIR]
set -eu
here=$(cd "$(dirname "$0")/../.." && pwd)
build=${1:-$here/build-valgrind}
data=${2:-${FT_SHARED_DATA_DIR:-$here/../shared/data}}
command -v valgrind >/dev/null || { echo "valgrind-osm: valgrind is not installed" >&2; exit 2; }
if [ ! -f "$build/build.ninja" ]; then
  meson setup "$build" "$here" --buildtype=debugoptimized -Dgui=false >/dev/null
fi
ninja -C "$build" -j2 tests/city/bench-import >/dev/null
n=0
for f in "$data"/osm/*.osm.pbf; do
  [ -f "$f" ] || { echo "valgrind-osm: no extracts in $data/osm" >&2; exit 2; }
  echo "== $f"
  valgrind --quiet --error-exitcode=1 --leak-check=full --errors-for-leak-kinds=definite \
    --show-leak-kinds=definite "$build/tests/city/bench-import" "$f" --runs 1 --no-tiles
  n=$((n + 1))
done
echo "valgrind-osm: $n extracts imported with no memcheck error"
