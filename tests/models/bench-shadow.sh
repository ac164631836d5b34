#!/usr/bin/env bash
# bench-shadow.sh — what shadow mode costs the simulator: the same scenario
# (scenarios/demo-city-shadow.scenario, same seed) run with its shadow
# models on and off, REPS times each, interleaved in pairs whose order
# alternates (off on, on off, …) so a change in the machine's load falls on
# both, with and without a result database (with one, every prediction and
# actual is stored). Per run: the process's CPU time (user + system of every
# thread, the fits' worker threads included, from getrusage through
# /usr/bin/time: the honest total), the CPU time of the simulator's thread
# (`run --thread-cpu`: its CLOCK_THREAD_CPUTIME_ID, read once at the end)
# and the wall time; prints the medians, the ratios on/off of the medians
# (issue 12's budget, at most 1.05, applies to the simulator's thread and
# to the wall time: the fits run beside it on a worker, and without
# act_on_forecast the serving path on a consumer thread, see
# ft_shadow_start_async; FT_SHADOW_INLINE=1 in the environment keeps it
# on the simulator's thread) and the median of
# the per-pair ratios, and, from one more "on" run per pair with `run
# --shadow-cost` (not timed: its clock reads cost CPU of their own), the
# median CPU seconds of each part of the shadow models (training on the
# simulator's thread: copying the input, taking the result; on the
# workers, per fit; prediction, scoring, store writes; the event-log
# listeners are in the total only). Instructions per thread:
#   valgrind --tool=callgrind --separate-threads=yes fleet-twin-cli run …
# Use a release build; MODEL is the forecast_model (glm, mean or xgb); WHAT
# is what runs in the "on" runs: both (the default: forecast and
# maintenance, each at its default cadence), forecast or maint ("off" runs
# neither). STORES (environment) picks the store modes: "nodb db" (default).
#
#   tests/models/bench-shadow.sh BUILD_DIR [DAYS (14)] [REPS (5)] [MODEL (glm)] [WHAT (both)]
set -eu
here=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
B=$(cd "${1:?usage: bench-shadow.sh BUILD_DIR [DAYS] [REPS] [MODEL] [WHAT]}" && pwd)
days=${2:-14}
reps=${3:-5}
model=${4:-glm}
what=${5:-both}
stores=${STORES:-nodb db}
cli="$B/ui/cli/fleet-twin-cli"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
case "$what" in
  forecast) fc=true; mt=false ;;
  maint) fc=false; mt=true ;;
  both) fc=true; mt=true ;;
  *) echo "WHAT must be forecast, maint or both" >&2; exit 2 ;;
esac
sed -e "s/^forecast_model=.*/forecast_model=$model/" -e "s/^forecast=.*/forecast=$fc/" -e "s/^maint=.*/maint=$mt/" \
  "$here/scenarios/demo-city-shadow.scenario" > "$tmp/on.scenario"
sed -e 's/^forecast=.*/forecast=false/' -e 's/^maint=.*/maint=false/' \
  "$here/scenarios/demo-city-shadow.scenario" > "$tmp/off.scenario"
grep -q '^forecast=false' "$tmp/off.scenario" && grep -q '^maint=false' "$tmp/off.scenario"

run () {   # run MODE STORE -> appends "cpu wall thread-cpu" to $tmp/MODE.t
  local out=()
  if [ "$2" = db ]; then rm -f "$tmp/r.db"; out=(--out "$tmp/r.db"); fi
  /usr/bin/time -f "%U %S %e" -o "$tmp/time" "$cli" run "$tmp/$1.scenario" --days "$days" --quiet --json \
    --thread-cpu "${out[@]}" > "$tmp/$1.json" 2> "$tmp/$1.err"
  local th
  th=$(sed -n 's/^simulator thread CPU s: //p' "$tmp/$1.err")
  awk -v th="${th:-nan}" '{printf "%.3f %.3f %s\n", $1 + $2, $3, th}' "$tmp/time" >> "$tmp/$1.t"
}
cost () {   # cost STORE -> appends the "on" run's shadow cost to $tmp/on.cost
  local out=()
  if [ "$1" = db ]; then rm -f "$tmp/r.db"; out=(--out "$tmp/r.db"); fi
  "$cli" run "$tmp/on.scenario" --days "$days" --quiet --shadow-cost "${out[@]}" > /dev/null 2> "$tmp/cost.err"
  grep '^shadow cost' "$tmp/cost.err" >> "$tmp/on.cost" || true
  grep '^shadow consumer' "$tmp/cost.err" >> "$tmp/on.consumer" || true
}
median () { sort -g | awk '{v[NR]=$1} END {if (NR == 0) print "nan"; else print (NR % 2) ? v[(NR+1)/2] : (v[NR/2] + v[NR/2+1]) / 2}'; }
col () { awk -v c="$2" '{print $c}' "$1"; }

echo "== shadow-mode overhead ($what, $model): $days simulated days, $reps runs each, interleaved;" \
  "$(nproc) cores; load: $(cut -d' ' -f1-3 /proc/loadavg)"
for store in $stores; do
  : > "$tmp/on.t"; : > "$tmp/off.t"; : > "$tmp/on.cost"; : > "$tmp/off.cost"; : > "$tmp/on.consumer"
  for i in $(seq "$reps"); do
    if [ $((i % 2)) = 1 ]; then run off "$store"; run on "$store"; else run on "$store"; run off "$store"; fi
    cost "$store"
  done
  off=$(col "$tmp/off.t" 1 | median); on=$(col "$tmp/on.t" 1 | median)
  offw=$(col "$tmp/off.t" 2 | median); onw=$(col "$tmp/on.t" 2 | median)
  offt=$(col "$tmp/off.t" 3 | median); ont=$(col "$tmp/on.t" 3 | median)
  pairt=$(paste "$tmp/on.t" "$tmp/off.t" | awk '{print $3 / $6}' | median)
  pair=$(paste "$tmp/on.t" "$tmp/off.t" | awk '{print $1 / $3}' | median)
  printf "%-5s CPU  off %7.3f s  on %7.3f s  ratio %.3f  (median of pair ratios %.3f)  process, every thread\n" \
    "$store" "$off" "$on" "$(echo "$on / $off" | bc -l)" "$pair"
  printf "%-5s CPU  off %7.3f s  on %7.3f s  ratio %.3f  (median of pair ratios %.3f)  simulator thread\n" \
    "$store" "$offt" "$ont" "$(echo "$ont / $offt" | bc -l)" "$pairt"
  printf "%-5s wall off %7.3f s  on %7.3f s  ratio %.3f\n" "$store" "$offw" "$onw" "$(echo "$onw / $offw" | bc -l)"
  echo "      runs (CPU s) off: $(col "$tmp/off.t" 1 | tr '\n' ' ')  on: $(col "$tmp/on.t" 1 | tr '\n' ' ')"
  echo "      runs (simulator thread CPU s) off: $(col "$tmp/off.t" 3 | tr '\n' ' ')  on: $(col "$tmp/on.t" 3 | tr '\n' ' ')"
  for part in forecast maint; do
    grep -q "shadow cost $part " "$tmp/on.cost" || continue
    g () { grep "shadow cost $part " "$tmp/on.cost" | sed 's/.*CPU s://' | awk -v k="$1" '{for (i = 1; i < NF; i++) if ($i == k) print $(i+1)}' | median; }
    fits=$(grep "shadow cost $part " "$tmp/on.cost" | head -1 | awk '{for (i = 1; i < NF; i++) if ($i == "fits") print $(i+1)}')
    w=$(g worker)
    printf "      %-8s median CPU s: train %s (workers %s: %s fits, %s each; waited for at the joins %s s wall)  predict %s  score %s  store %s\n" \
      "$part" "$(g train)" "$w" "$fits" "$(awk -v w="$w" -v n="$fits" 'BEGIN {printf "%.3f", (n > 0 ? w / n : 0)}')" \
      "$(g wait)" "$(g predict)" "$(g score)" "$(g store)"
  done
  if [ -s "$tmp/on.consumer" ]; then
    # the serving path's consumer thread (ft_shadow_start_async)
    printf "      consumer thread median CPU s %s; the simulator's thread waited for it %s s wall\n" \
      "$(awk '{print $6}' "$tmp/on.consumer" | median)" "$(awk '{print $9}' "$tmp/on.consumer" | median)"
  fi
done
grep -E '"shadow_(forecast|baseline)_rmse"|"shadow_scored"|"shadow_maint_(brier|auc)_short"' "$tmp/on.json" \
  | tr -d ' ,' | tr '\n' ' '; echo
