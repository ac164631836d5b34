#!/usr/bin/env bash
# fleet-twin-cli maintenance backtest on a short simulated run (Demo City,
# 3 days, trained on 2 and tested on the last one, 30 boosting rounds, so it
# stays well under a minute under ASan): the table has the baseline and both
# models with figures, the CSV one row per model; the database is not
# changed; a foreign CSV, bad arguments, a window longer than the run and a
# file that is not a run database are refused.
#   test-maint-cli.sh FLEET_TWIN_CLI SOURCE_DIR
set -u
cli=$1
src=$2
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fails=0
pass=0
check () {   # check NAME CONDITION...
  local name=$1; shift
  if "$@"; then pass=$((pass + 1)); else echo "FAIL: $name"; fails=$((fails + 1)); fi
}

"$cli" run "$src/scenarios/demo-city-phase1.scenario" --days 3 --out "$tmp/run.db" -q > /dev/null 2> "$tmp/err"
check "run written (exit $?: $(head -3 "$tmp/err"))" test -s "$tmp/run.db"
events_before=$(sqlite3 "file:$tmp/run.db?mode=ro" "SELECT count(*), max(seq) FROM events" 2>/dev/null || echo none)

"$cli" maintenance backtest "$tmp/run.db" --test-days 1 --rounds 30 --top-k 2% --csv "$tmp/s.csv" > "$tmp/out" 2> "$tmp/err"
rc=$?
cat "$tmp/out"
check "exit status 0 (got $rc: $(head -3 "$tmp/err"))" test $rc -eq 0
check "no warnings on stderr: $(head -3 "$tmp/err")" test ! -s "$tmp/err"
check "header names the fleet and faults" grep -Eq "1000 vehicles, [0-9]+ faults over 3\.00 days" "$tmp/out"
check "top-k of 2% is 20" grep -q "top-20 list per day" "$tmp/out"
for m in baseline weibull xgb; do
  check "table row for $m" grep -Eq "^$m +[0-9]\.[0-9]{3} +[0-9]\.[0-9]{3} +[0-9]\.[0-9]{3} +[0-9]\.[0-9]{4} +n/a +n/a +[0-9]\.[0-9]{3} +[0-9]+ +[0-9]+ " "$tmp/out"
done
check "CSV header" test "$(head -1 "$tmp/s.csv" | cut -d, -f1-5)" = "model,k,lists,precision_at_k,recall_at_k"
check "CSV rows: one per model" test "$(cut -d, -f1 "$tmp/s.csv" | tail -n +2 | tr '\n' ' ')" = "baseline weibull xgb "
check "CSV AUC in [0, 1]" awk -F, 'NR > 1 && !($6 >= 0 && $6 <= 1) { exit 1 }' "$tmp/s.csv"
if command -v sqlite3 > /dev/null; then
  check "database unchanged" test "$(sqlite3 "file:$tmp/run.db?mode=ro" "SELECT count(*), max(seq) FROM events")" = "$events_before"
fi

# --models and --top-k K
"$cli" maintenance backtest "$tmp/run.db" --test-days 1 --models weibull --top-k 5 > "$tmp/out" 2>&1
check "--models weibull: baseline and weibull only" test "$(grep -Ec '^(baseline|weibull|xgb) ' "$tmp/out")" -eq 2
check "--top-k 5" grep -q "top-5 list" "$tmp/out"

# A foreign CSV is refused and kept; our own is replaced.
echo "not ours" > "$tmp/foreign.csv"
"$cli" maintenance backtest "$tmp/run.db" --test-days 1 --models weibull --csv "$tmp/foreign.csv" > /dev/null 2> "$tmp/err"
check "foreign CSV refused (exit 1)" test $? -eq 1
check "foreign CSV unchanged" test "$(cat "$tmp/foreign.csv")" = "not ours"
"$cli" maintenance backtest "$tmp/run.db" --test-days 1 --models weibull --csv "$tmp/s.csv" > /dev/null 2>&1
check "own CSV replaced" test "$(($(wc -l < "$tmp/s.csv") - 1))" -eq 2

# Bad arguments: usage errors (2) that name the option; impossible windows (1).
for args in "--test-days 0" "--train-days -1" "--top-k 0" "--top-k 150%" "--top-k x" "--step 5" "--models weibull,foo" "--rounds 0"; do
  # shellcheck disable=SC2086
  "$cli" maintenance backtest "$tmp/run.db" $args > /dev/null 2> "$tmp/err"
  rc=$?
  check "'$args' is a usage error (got $rc)" test $rc -eq 2
  opt=${args%% *}
  check "'$args' message names $opt: $(cat "$tmp/err")" grep -q -- "$opt" "$tmp/err"
done
"$cli" maintenance backtest "$tmp/run.db" --train-days 3 --test-days 1 > /dev/null 2> "$tmp/err"
check "window longer than the run refused (exit 1)" test $? -eq 1
check "window message: $(cat "$tmp/err")" grep -q "need more than the 3.00 days" "$tmp/err"
echo "model,k" > "$tmp/not.db"
"$cli" maintenance backtest "$tmp/not.db" > /dev/null 2> "$tmp/err"
check "not a database refused (exit 1)" test $? -eq 1
check "not-a-database message: $(cat "$tmp/err")" grep -q "not a run or live database" "$tmp/err"
"$cli" maintenance backtest "$tmp/missing.db" > /dev/null 2> "$tmp/err"
check "missing database refused (exit 1)" test $? -eq 1

echo "$pass passed, $fails failed"
test $fails -eq 0
