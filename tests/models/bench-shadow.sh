#!/usr/bin/env bash
# bench-shadow.sh — what shadow mode costs the simulator: the same scenario
# (scenarios/demo-city-shadow.scenario) run with [models] forecast=true and
# =false, alternately, REPS times each, with and without a result database
# (with one, every prediction and actual is stored); prints the median CPU
# time (user + system: less disturbed by other load than wall time) of each
# and the ratio on/off. Budget: at most 1.05. Use a release build on a quiet
# machine; MODEL is the forecast_model (glm, mean or xgb); WHAT is what runs
# in the "on" runs: forecast (the default, as before predictive maintenance
# joined the loop), maint, or both ("off" runs neither):
#
#   tests/models/bench-shadow.sh BUILD_DIR [DAYS (14)] [REPS (3)] [MODEL (glm)] [WHAT (forecast)]
set -eu
here=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
B=$(cd "${1:?usage: bench-shadow.sh BUILD_DIR [DAYS] [REPS]}" && pwd)
days=${2:-14}
reps=${3:-3}
model=${4:-glm}
what=${5:-forecast}
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

run () {   # run MODE DB? -> prints CPU seconds (user + system)
  local out=()
  if [ "$2" = db ]; then rm -f "$tmp/r.db"; out=(--out "$tmp/r.db"); fi
  /usr/bin/time -f "%U %S" -o "$tmp/time" "$cli" run "$tmp/$1.scenario" --days "$days" --quiet --json \
    "${out[@]}" > "$tmp/$1.json"
  awk '{print $1 + $2}' "$tmp/time"
}
median () { sort -g | awk '{v[NR]=$1} END {print (NR % 2) ? v[(NR+1)/2] : (v[NR/2] + v[NR/2+1]) / 2}'; }

echo "== shadow-mode overhead ($what, $model): $days simulated days, $reps runs each, CPU s; $(nproc) cores; load: $(cut -d' ' -f1-3 /proc/loadavg)"
for store in nodb db; do
  : > "$tmp/on.t"; : > "$tmp/off.t"
  for i in $(seq "$reps"); do
    run off "$store" >> "$tmp/off.t"
    run on "$store" >> "$tmp/on.t"
  done
  off=$(median < "$tmp/off.t"); on=$(median < "$tmp/on.t")
  printf "%-6s off %7.2f s  on %7.2f s  ratio %.3f  (runs off: %s; on: %s)\n" "$store" "$off" "$on" \
    "$(echo "$on / $off" | bc -l)" "$(tr '\n' ' ' < "$tmp/off.t")" "$(tr '\n' ' ' < "$tmp/on.t")"
done
grep -E '"shadow_(forecast|baseline)_rmse"|"shadow_scored"|"shadow_maint_(brier|auc)_short"' "$tmp/on.json" \
  | tr -d ' ,' | tr '\n' ' '; echo
