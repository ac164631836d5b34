#!/usr/bin/env bash
# bench-wallboard.sh — the wallboard's figures, as medians:
#   1. frames per second of fleet-twin-wallboard at 10,000, 50,000 and
#      100,000 vehicles with SDL's software renderer under Xvfb (1920x1080),
#      each vehicle in the per-layer batches, Demo City's tiles under them,
#      KPI tiles and ticker on top (--bench N); with the CPU a frame costs
#      the drawing thread, the whole process, and the X server (Xvfb's CPU
#      over the run divided by the frames drawn, warm-up and start included);
#   2. the frame-export rate of `fleet-twin-cli render` at 1280x720, to PNG
#      frames and to an MP4 through ffmpeg, replaying a Demo City run.
#
#   tests/render/bench-wallboard.sh [BUILD_DIR] [SECONDS]   (default: build, 8)
#
# Use a release build (no sanitizers) on a quiet machine: the wall-clock
# figures share the CPU with everything else running, the CPU times much
# less so. There is no GPU here: under Xvfb SDL's "opengl" renderer would be
# Mesa's llvmpipe, itself software.
set -u
here=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
B=$(cd "${1:-$here/build}" && pwd)
secs=${2:-8}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
export FT_DEMO_TILES=$B/data/demo-city.mbtiles

# bench N: one wallboard run on a private Xvfb, then the X server's CPU
bench () {
  "$here/tests/support/run-xvfb.sh" bash -c '
    xvfb=$(ps -o pid=,comm= --ppid "$PPID" | awk "\$2 == \"Xvfb\" { print \$1 }")
    ticks () { awk "{ print \$14 + \$15 }" "/proc/$xvfb/stat"; }
    t0=$(ticks)
    line=$("$@" 2>/dev/null | grep "^wallboard bench")
    t1=$(ticks)
    echo "$line"
    frames=$(echo "$line" | sed -n "s/.*(\([0-9]*\) frames.*/\1/p")
    awk -v t=$((t1 - t0)) -v hz="$(getconf CLK_TCK)" -v f="${frames:-0}" \
      "BEGIN { if (f > 0) printf \"  Xvfb CPU: %.0f ms over the run, %.2f ms a frame\n\", t * 1000 / hz, t * 1000 / hz / (f + 5) }"
  ' bench "$B/ui/wallboard/fleet-twin-wallboard" --software --window 1920x1080 --bench "$1" --bench-seconds "$secs"
}

echo "== uptime"; uptime
for n in 10000 50000 100000; do
  bench "$n"
done

"$B/ui/cli/fleet-twin-cli" run "$here/scenarios/demo-city-phase1.scenario" --days 1 -q \
  --out "$work/run.db" > /dev/null
# render KIND OUT: one export, then its CPU (ffmpeg's included: it is waited for)
render () {
  /usr/bin/time -o "$work/time" -f "%U %S" "$B/ui/cli/fleet-twin-cli" render "$work/run.db" --from 08:00 \
    --to 08:05 --fps 25 --speed 60 --size 1280x720 --out "$2" --force 2>/dev/null | sed "s/^/$1: /"
  awk '{ printf "  CPU: %.1f s user + %.1f s sys = %.1f ms a frame (126 frames)\n", $1, $2, ($1 + $2) * 1000 / 126 }' "$work/time"
}
for i in 1 2 3; do
  render png "$work/frames"
done
if command -v ffmpeg > /dev/null; then
  for i in 1 2 3; do
    render mp4 "$work/replay.mp4"
  done
fi
echo "== uptime"; uptime
