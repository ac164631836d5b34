#!/bin/sh
# seed-osm-pbf.sh — makes a seed corpus for fuzz-osm-pbf in DIR, at run time
# (no copy of the shared data is committed):
#   - the tiny generated PBF and its ~85 structured variants, written by
#     BUILD/tests/city/test-osm-malformed --write-seeds;
#   - from each real extract in ../shared/data/osm, its header block plus its
#     first data block (a small, valid file), and the whole file.
# usage: tests/fuzz/seed-osm-pbf.sh DIR [BUILD_DIR] [SHARED_DATA_DIR]
set -eu
here=$(cd "$(dirname "$0")/../.." && pwd)
dir=${1:?usage: seed-osm-pbf.sh DIR [BUILD_DIR] [SHARED_DATA_DIR]}
build=${2:-$here/build-test}
data=${3:-${FT_SHARED_DATA_DIR:-$here/../shared/data}}
mkdir -p "$dir"
"$build/tests/city/test-osm-malformed" --write-seeds "$dir"
for f in "$data"/osm/*.osm.pbf; do
  [ -f "$f" ] || continue
  b=$(basename "$f" .osm.pbf)
  cat "$f" > "$dir/$b-whole.osm.pbf"
  python3 - "$f" "$dir/$b-2blocks.osm.pbf" <<'PY'
import struct, sys
d = open(sys.argv[1], 'rb').read()
off = 0
for _ in range(2):   # header block + first data block
    hlen = struct.unpack('>I', d[off:off + 4])[0]
    h = d[off + 4:off + 4 + hlen]
    # BlobHeader field 3 (datasize) is the varint after key 0x18
    p = h.index(b'\x18', h.index(b'OSM') + 3) + 1
    v = s = 0
    while True:
        c = h[p]; p += 1; v |= (c & 0x7f) << s; s += 7
        if c < 0x80:
            break
    off += 4 + hlen + v
open(sys.argv[2], 'wb').write(d[:off])
PY
done
echo "$(ls "$dir" | wc -l) seeds in $dir"
