#!/usr/bin/env bash
# bench-shadow-instr.sh — what shadow mode costs the simulator, counted in
# instructions (the stable measure on a shared machine; bench-shadow.sh
# gives the times): the Demo City shadow scenario with its models on and
# with forecast=false and maint=false, each once under callgrind with one
# profile per thread. Prints, for both runs, the inclusive instructions of
# ft_sim_world_run on the simulator's thread (thread 1: the run itself, not
# the program's start-up) and each thread's total, then the on/off ratio of
# the simulator's thread (issue 12's budget: at most 1.05). Needs valgrind
# and a release build.
#
#   tests/models/bench-shadow-instr.sh BUILD_DIR [DAYS (14)]
set -eu
here=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
B=$(cd "${1:?usage: bench-shadow-instr.sh BUILD_DIR [DAYS]}" && pwd)
days=${2:-14}
cli="$B/ui/cli/fleet-twin-cli"
for tool in valgrind callgrind_annotate; do
  command -v "$tool" > /dev/null || { echo "bench-shadow-instr.sh: $tool is not installed (apt install valgrind)" >&2; exit 2; }
done
[ -x "$cli" ] || { echo "bench-shadow-instr.sh: no $cli (build $B first)" >&2; exit 2; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cp "$here/scenarios/demo-city-shadow.scenario" "$tmp/on.scenario"
sed -e 's/^forecast=.*/forecast=false/' -e 's/^maint=.*/maint=false/' \
  "$here/scenarios/demo-city-shadow.scenario" > "$tmp/off.scenario"
grep -q '^forecast=false' "$tmp/off.scenario" && grep -q '^maint=false' "$tmp/off.scenario"

run_of () {   # run_of MODE -> prints the inclusive ft_sim_world_run of thread 1
  local f
  f=$(ls "$tmp/$1".*-01)
  callgrind_annotate --inclusive=yes "$f" 2> /dev/null \
    | awk '/ft_sim_world_run \[/ { gsub(",", "", $1); print $1; exit }'
}

echo "== shadow mode in instructions: $days simulated days, callgrind --separate-threads=yes"
for mode in off on; do
  valgrind --tool=callgrind --separate-threads=yes --callgrind-out-file="$tmp/$mode.%p" \
    "$cli" run "$tmp/$mode.scenario" --days "$days" --quiet --json > "$tmp/$mode.json" 2> "$tmp/$mode.err" \
    || { echo "bench-shadow-instr.sh: the $mode run failed:" >&2; tail -5 "$tmp/$mode.err" >&2; exit 1; }
  printf '%-4s simulator thread, ft_sim_world_run inclusive: %s\n' "$mode" "$(run_of "$mode")"
  for f in "$tmp/$mode".*-[0-9][0-9]; do
    printf '     thread %s total: %s\n' "${f##*-}" "$(sed -n 's/^summary: //p' "$f")"
  done
done
off=$(run_of off)
on=$(run_of on)
awk -v a="$on" -v b="$off" 'BEGIN { printf "ratio on/off, simulator thread: %.4f  (budget 1.05)\n", a / b }'
