#!/usr/bin/env bash
# Run every benchmark program once, in sequence (run them on a quiet machine:
# they share 2 cores with anything else running), printing their figures.
#
#   tests/run-benchmarks.sh [BUILD_DIR]        (default: build)
#
# BUILD_DIR must be configured with -Dgui=true for the render benchmark.
set -u
here=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
B=$(cd "${1:-$here/build}" && pwd)
export FT_SHARED_DATA_DIR=${FT_SHARED_DATA_DIR:-$here/../shared/data}
pack=$(mktemp -d)
trap 'rm -rf "$pack"' EXIT

echo "== uptime"; uptime
echo "== bench-store";   "$B/tests/store/bench-store" --reps 5 | tail -12
echo "== bench-engine";  "$B/tests/sim/bench-engine" | tail -8
echo "== bench-sim";     "$B/tests/sim/bench-sim" | tail -6
echo "== bench-sim --summary (issue 16's 50k target)"; "$B/tests/sim/bench-sim" straight --summary 50000 | tail -3
echo "== bench-sim reps"; "$B/tests/sim/bench-sim" reps --reps 10 --days 7 --vehicles 1000 --jobs 2 --runs 3 | tail -2
echo "== bench-routing demo";   "$B/tests/city/bench-routing" demo | tail -8
"$B/ui/cli/fleet-twin-cli" import-osm "$FT_SHARED_DATA_DIR/osm/monaco.osm.pbf" --name Monaco \
  --out "$pack/monaco" > /dev/null
echo "== bench-routing monaco"; "$B/tests/city/bench-routing" "$pack/monaco" | tail -8
echo "== bench-import monaco";  "$B/tests/city/bench-import" "$FT_SHARED_DATA_DIR/osm/monaco.osm.pbf" | tail -4
echo "== bench-live";    "$B/tests/live/bench-live" | tail -14
echo "== demand-fit-report";    "$B/tests/interop/demand-fit-report" | tail -4
if [ -x "$B/tests/ui/app/bench-render" ]; then
  echo "== bench-render"
  xvfb-run -a -s "-screen 0 1400x900x24" "$B/tests/ui/app/bench-render" --seconds 5 2>/dev/null | tail -16
fi
echo "== uptime"; uptime
