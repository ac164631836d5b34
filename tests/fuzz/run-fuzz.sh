#!/usr/bin/env bash
# run-fuzz.sh — run every libFuzzer harness for a while and report, per
# parser: executions per second, coverage (cov / ft from libFuzzer's final
# line), corpus size and crashes.
#
#   tests/fuzz/run-fuzz.sh [-j N] [-b BUILD_DIR] [SECONDS] [NAME...]
#
# SECONDS defaults to 3600 per harness; -j N runs N harnesses at a time
# (default 1). BUILD_DIR (default build-fuzz) is configured with clang-14
# (clang++-14 for the C++ OSM reader)
# and -Dfuzzing=true if it does not exist. Corpora are kept and grow in
# BUILD_DIR/fuzz-corpus/NAME; crash inputs land in BUILD_DIR/fuzz-artifacts/
# NAME with the commands to replay and minimise them. Exit status 1 if any
# harness crashed.
set -uo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
jobs=1
build=build-fuzz
while getopts "j:b:" opt; do
  case $opt in
    j) jobs=$OPTARG ;;
    b) build=$OPTARG ;;
    *) echo "usage: $0 [-j N] [-b BUILD_DIR] [SECONDS] [NAME...]" >&2; exit 2 ;;
  esac
done
shift $((OPTIND - 1))
seconds=${1:-3600}
[ $# -gt 0 ] && shift
cd "$here"

if [ ! -f "$build/build.ninja" ]; then
  CC=${CC:-clang-14} CXX=${CXX:-clang++-14} meson setup "$build" -Dfuzzing=true -Db_sanitize=address,undefined \
    -Db_lundef=false --buildtype=debugoptimized || exit 1
fi
ninja -C "$build" -j2 || exit 1

list="$build/tests/fuzz/fuzzers.txt"
results=$(mktemp -d "${TMPDIR:-/tmp}/ft-run-fuzz.XXXXXX")
trap 'rm -rf "$results"' EXIT

run_one() {
  local name=$1; shift
  "$here/tests/fuzz/fuzz-run-one.sh" "$name" "$build/tests/fuzz/fuzz-$name" \
    "$build/tests/fuzz/fuzz-replay-$name" "$seconds" "$here/$build/fuzz-artifacts/$name" \
    "$here/$build/fuzz-corpus/$name" -- "$@" > "$results/$name.log" 2>&1
  echo $? > "$results/$name.rc"
  grep "^fuzz-$name:" "$results/$name.log" | tail -1
}

running=0
while IFS=$'\t' read -r -a fields; do
  [ ${#fields[@]} -gt 0 ] || continue
  name=${fields[0]}
  if [ $# -gt 0 ] && ! printf '%s\n' "$@" | grep -qx "$name"; then
    continue
  fi
  run_one "${fields[@]}" &
  running=$((running + 1))
  if [ $running -ge "$jobs" ]; then
    wait -n
    running=$((running - 1))
  fi
done < "$list"
wait

echo
printf '%-12s %10s %8s %8s %8s %8s\n' parser exec/s cov ft corpus crashes
failed=0
for rc in "$results"/*.rc; do
  name=$(basename "$rc" .rc)
  line=$(grep "^fuzz-$name:" "$results/$name.log" | tail -1)
  get() { sed -nE "s/.* $1 ([^,]+).*/\1/p" <<<"$line"; }
  printf '%-12s %10s %8s %8s %8s %8s\n' "$name" "$(sed -nE 's/.* ([0-9?]+) exec\/s.*/\1/p' <<<"$line")" \
    "$(get cov)" "$(get ft)" "$(get corpus)" "$(get crashes)"
  if [ "$(cat "$rc")" != 0 ]; then
    failed=1
    grep -E "reproducer|replay it|minimise it" "$results/$name.log"
  fi
done
exit $failed
