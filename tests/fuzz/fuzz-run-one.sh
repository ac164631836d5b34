#!/usr/bin/env bash
# fuzz-run-one.sh — run one libFuzzer harness for a bounded time on a fresh
# temporary corpus (the meson 'fuzz' suite; tests/fuzz/run-fuzz.sh too).
#
#   fuzz-run-one.sh NAME FUZZER REPLAY SECONDS ARTIFACT_DIR [CORPUS_DIR] -- SEED_ARGS...
#
# SEED_ARGS are fuzz-replay's (paths, --as=NAME, --bundle=DIR): REPLAY
# writes them into a seed folder, FUZZER runs with -max_total_time. With
# CORPUS_DIR the corpus is kept there (and grows); otherwise it is
# temporary. A crash (or leak, timeout, out-of-memory) exits 1 and prints
# the reproducer, copied into ARTIFACT_DIR. Prints the final statistics.
set -uo pipefail

name=$1 fuzzer=$2 replay=$3 seconds=$4 artifacts=$5
shift 5
corpus=""
if [ "${1:-}" != "--" ]; then corpus=$1; shift; fi
[ "${1:-}" = "--" ] && shift

work=$(mktemp -d "${TMPDIR:-/tmp}/ft-fuzz-$name.XXXXXX")
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/seeds" "$work/tmp" "$artifacts"
[ -n "$corpus" ] || corpus="$work/corpus"
mkdir -p "$corpus"

"$replay" --write-corpus="$work/seeds" --max-seed=131072 "$@" 2> "$work/seed.log"
rc=$?
if [ $rc -ne 0 ] && [ $rc -ne 77 ]; then
  cat "$work/seed.log" >&2
  echo "fuzz-$name: could not write the seed corpus" >&2
  exit 1
fi

# LSan suppressions as in the unit tests; inputs must not leak.
supp="$(cd "$(dirname "$0")/.." && pwd)/lsan.supp"
export LSAN_OPTIONS="suppressions=$supp:print_suppressions=0${LSAN_OPTIONS:+:$LSAN_OPTIONS}"
export ASAN_OPTIONS="detect_leaks=1:abort_on_error=0${ASAN_OPTIONS:+:$ASAN_OPTIONS}"
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1"
export G_DEBUG=fatal-criticals

started=$(date +%s)
# The CPU it had (user + system): on a loaded machine an hour of wall time
# is less than an hour of fuzzing, and the figures say so.
TIMEFORMAT='%U %S'
{ time TMPDIR="$work/tmp" "$fuzzer" -max_total_time="$seconds" -timeout=25 -rss_limit_mb=2560 \
  -print_final_stats=1 -artifact_prefix="$work/" "$corpus" "$work/seeds" > "$work/log" 2>&1 ; } 2> "$work/cpu"
rc=$?
cpu=$(awk '{ printf "%.0f", $1 + $2 }' "$work/cpu" 2>/dev/null)
# The time it really ran: libFuzzer stops at the first crash.
elapsed=$(( $(date +%s) - started ))

done_line=$(grep -E '^#[0-9]+[[:space:]]+DONE' "$work/log" | tail -1)
[ -n "$done_line" ] || done_line=$(grep -E '^#[0-9]+[[:space:]]' "$work/log" | tail -1)
cov=$(sed -nE 's/.* cov: ([0-9]+).*/\1/p' <<<"$done_line")
ft=$(sed -nE 's/.* ft: ([0-9]+).*/\1/p' <<<"$done_line")
execs=$(sed -nE 's/^stat::average_exec_per_sec: *([0-9]+).*/\1/p' "$work/log" | tail -1)
runs=$(sed -nE 's/^stat::number_of_executed_units: *([0-9]+).*/\1/p' "$work/log" | tail -1)
units=$(find "$corpus" -type f | wc -l)
crashes=0
for f in "$work"/crash-* "$work"/leak-* "$work"/timeout-* "$work"/oom-* "$work"/slow-unit-*; do
  [ -e "$f" ] || continue
  case "$(basename "$f")" in slow-unit-*) continue ;; esac
  crashes=$((crashes + 1))
  cp "$f" "$artifacts/"
  echo "fuzz-$name: reproducer $artifacts/$(basename "$f")"
  echo "  replay it:   $replay $artifacts/$(basename "$f")"
  echo "  minimise it: $fuzzer -minimize_crash=1 -max_total_time=60 $artifacts/$(basename "$f")"
done
printf 'fuzz-%s: %s s of %s (CPU %s s), %s runs, %s exec/s, cov %s, ft %s, corpus %s, crashes %s\n' \
  "$name" "$elapsed" "$seconds" "${cpu:-?}" "${runs:-?}" "${execs:-?}" "${cov:-?}" "${ft:-?}" "$units" "$crashes"
if [ $rc -ne 0 ] || [ $crashes -gt 0 ]; then
  echo "---- last lines of the libFuzzer log ----"
  grep -vE '^#[0-9]+[[:space:]]' "$work/log" | tail -60
  exit 1
fi
exit 0
