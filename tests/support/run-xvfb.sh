#!/bin/sh
# run-xvfb.sh — run a UI test binary on a private Xvfb display.
#
# Xvfb picks a free display itself (-displayfd) and reports it once it
# accepts connections, so UI tests that meson runs side by side never race
# for one display (`xvfb-run -a` could: two runs took :99 and the first to
# finish took the other's server down). -noreset keeps the server as it is
# between the test processes Check forks one after another.
set -u

dir=$(mktemp -d "${TMPDIR:-/tmp}/ft-xvfb-XXXXXX") || exit 1
Xvfb -displayfd 3 -screen 0 2600x1500x24 -nolisten tcp -noreset \
     3>"$dir/display" 2>"$dir/log" &
xvfb=$!

cleanup () {
  kill "$xvfb" 2>/dev/null
  wait "$xvfb" 2>/dev/null
  rm -rf "$dir"
}

tries=0
while ! grep -q '^[0-9][0-9]*$' "$dir/display" 2>/dev/null; do
  if ! kill -0 "$xvfb" 2>/dev/null; then
    echo "run-xvfb: Xvfb exited before giving a display:" >&2
    cat "$dir/log" >&2
    cleanup
    exit 1
  fi
  tries=$((tries + 1))
  if [ "$tries" -gt 300 ]; then
    echo "run-xvfb: Xvfb gave no display within 30 s" >&2
    cleanup
    exit 1
  fi
  sleep 0.1
done

DISPLAY=":$(cat "$dir/display")"
export DISPLAY
"$@"
status=$?
cleanup
exit "$status"
