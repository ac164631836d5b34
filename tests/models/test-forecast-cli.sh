#!/usr/bin/env bash
# fleet-twin-cli forecast backtest on the shared Citi Bike file with a short
# window (10 days to train, 2 to test, 40 boosting rounds, so it stays well
# under a minute under ASan): the table has the three models with finite
# figures, the CSV has one row per model, zone and test hour, the chart is a
# PNG; bad arguments and a window longer than the data are refused.
#   test-forecast-cli.sh FLEET_TWIN_CLI SHARED_DATA_DIR
set -u
cli=$1
data=$2/trips/JC-202001-citibike-tripdata.csv
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fails=0
pass=0
check () {   # check NAME CONDITION...
  local name=$1; shift
  if "$@"; then pass=$((pass + 1)); else echo "FAIL: $name"; fails=$((fails + 1)); fi
}

"$cli" forecast backtest "$data" --train-days 10 --test-days 2 --rounds 40 --threads 1 \
  --csv "$tmp/p.csv" --png "$tmp/z.png" > "$tmp/out" 2> "$tmp/err"
rc=$?
cat "$tmp/out"
check "exit status 0 (got $rc: $(head -3 "$tmp/err"))" test $rc -eq 0
for m in mean glm xgboost; do
  check "table row for $m" grep -Eq "^$m +[0-9]+\.[0-9]+ +[0-9]+\.[0-9]+ +[0-9]+\.[0-9]+ +[0-9]+ +[0-9]+\.[0-9]+" "$tmp/out"
done
zones=$(sed -n 's/.* trips in \([0-9]*\) zones.*/\1/p' "$tmp/out")
check "zone count printed" test -n "$zones"
check "CSV header" test "$(head -1 "$tmp/p.csv")" = "model,zone,hour,origin,lead,predicted,actual"
rows=$(($(wc -l < "$tmp/p.csv") - 1))
want=$((3 * ${zones:-0} * 48))
check "CSV rows $rows = 3 models x $zones zones x 48 hours ($want)" test "$rows" -eq "$want"
check "CSV models" test "$(cut -d, -f1 "$tmp/p.csv" | tail -n +2 | sort -u | tr '\n' ' ')" = "glm mean xgboost "
check "CSV values are numbers" awk -F, 'NR > 1 && ($6 !~ /^[0-9.e+-]+$/ || $7 !~ /^[0-9.]+$/) { exit 1 }' "$tmp/p.csv"
check "PNG written" test "$(head -c 8 "$tmp/z.png" | od -An -tx1 | tr -d ' \n')" = "89504e470d0a1a0a"

# A second run may replace its own CSV but not a foreign file or the PNG without --force.
echo "not ours" > "$tmp/foreign.csv"
"$cli" forecast backtest "$data" --train-days 8 --test-days 1 --models mean --csv "$tmp/foreign.csv" > /dev/null 2> "$tmp/err"
check "foreign CSV refused (exit 1)" test $? -eq 1
check "foreign CSV unchanged" test "$(cat "$tmp/foreign.csv")" = "not ours"
"$cli" forecast backtest "$data" --train-days 8 --test-days 1 --models mean --csv "$tmp/p.csv" > /dev/null 2>&1
check "own CSV replaced" test "$(($(wc -l < "$tmp/p.csv") - 1))" -eq $((${zones:-0} * 24))

# Bad arguments: usage errors (2) that name the option; impossible windows (1).
for args in "--horizon 0" "--horizon 25" "--train-days 0" "--hex nan" "--origin-every 0" "--models mean,foo" "--plot-zone hex-1" "--holidays 2020-1-5"; do
  # shellcheck disable=SC2086
  "$cli" forecast backtest "$data" $args > /dev/null 2> "$tmp/err"
  rc=$?
  check "'$args' is a usage error (got $rc)" test $rc -eq 2
  opt=${args%% *}
  check "'$args' message names $opt: $(cat "$tmp/err")" grep -q -- "${opt#--}" "$tmp/err"
done
"$cli" forecast backtest "$data" --train-days 30 --test-days 7 > /dev/null 2> "$tmp/err"
check "window longer than the data refused (exit 1)" test $? -eq 1
check "window message: $(cat "$tmp/err")" grep -q "longer than the data" "$tmp/err"
"$cli" forecast backtest "$tmp/missing.csv" > /dev/null 2> "$tmp/err"
check "missing source refused" test $? -eq 1

echo "$pass passed, $fails failed"
test $fails -eq 0
