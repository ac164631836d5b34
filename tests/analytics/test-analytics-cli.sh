#!/usr/bin/env bash
# test-analytics-cli.sh — `analytics build/export` and `report` end to end:
# a short Demo City run is built (twice: the second folds nothing), every
# table exported as CSV and JSON, bad input refused with exit 2 and a
# message naming it, a foreign database refused and left byte-identical,
# the report's PDF has its 9 pages and pdftoppm renders each; then a live
# database fed by the emulator through a real mosquitto yields the same KPI
# keys as the simulated run, and builds made while it was written equal one
# build afterwards (skipped without mosquitto).
#
#   tests/analytics/test-analytics-cli.sh CLI
set -u
cli=$(realpath "$1")
src=${FT_SOURCE_DIR:-$(cd "$(dirname "$0")/../.." && pwd)}
scenario=$src/scenarios/demo-city-phase1.scenario
work=$(mktemp -d)
broker_pid=""
cleanup() { [ -n "$broker_pid" ] && kill "$broker_pid" 2>/dev/null; rm -rf "$work"; }
trap cleanup EXIT
[ -n "${KEEP_WORK:-}" ] && trap - EXIT && echo "work: $work"
cd "$work"
fails=0
ok()   { echo "ok   $1"; }
bad()  { echo "FAIL $1"; fails=$((fails + 1)); }
# expect CODE PATTERN DESCRIPTION -- command…: exit code and a stderr line
expect() {
  local code=$1 pat=$2 what=$3; shift 4
  "$@" >out.txt 2>err.txt
  local rc=$?
  if [ "$rc" -eq "$code" ] && grep -q -- "$pat" err.txt; then ok "$what"
  else bad "$what (exit $rc, stderr: $(head -c 300 err.txt))"; fi
}

"$cli" run "$scenario" --days 0.3 -q --out r.db >/dev/null || { echo "FAIL the run"; exit 1; }
"$cli" analytics build r.db > b1.txt && grep -q "folded [1-9][0-9]* events" b1.txt && ok "build" || bad "build: $(cat b1.txt)"
"$cli" analytics build r.db > b2.txt && grep -q "folded 0 events" b2.txt && ok "second build folds nothing" || bad "second build: $(cat b2.txt)"

for t in zone_hour vehicle_day trip_bins cohorts riders staff_shift kpis; do
  "$cli" analytics export r.db --table $t --format csv --out $t.csv && [ "$(wc -l < $t.csv)" -ge 2 ] \
    && ok "export $t csv" || bad "export $t csv"
  "$cli" analytics export r.db --table $t --format json > $t.json && python3 -m json.tool $t.json >/dev/null \
    && ok "export $t json" || bad "export $t json"
done
"$cli" analytics export r.db --table kpis --format csv --out kpis.csv && ok "export over an earlier export" || bad "re-export"

expect 2 "unknown table 'zones'" "unknown table" -- "$cli" analytics export r.db --table zones --format csv
expect 2 "unknown format 'xml'" "unknown format" -- "$cli" analytics export r.db --table kpis --format xml
expect 2 "outside the built data" "window out of range" -- "$cli" analytics export r.db --table zone_hour --format csv --from 400d --to 401d
expect 2 "'tomorrow' is not a time" "window not a time" -- "$cli" analytics export r.db --table zone_hour --format csv --from tomorrow
expect 2 "no time column" "window on a table without time" -- "$cli" analytics export r.db --table cohorts --format csv --from 1h
expect 2 "unknown subcommand" "unknown subcommand" -- "$cli" analytics rebuild r.db
"$cli" analytics export r.db --table zone_hour --format csv --from 6h --to 7h > w.csv
awk -F, 'NR > 1 && $3 != 6 { bad = 1 } END { exit bad }' w.csv && [ "$(wc -l < w.csv)" -gt 2 ] \
  && ok "window 6h..7h gives hour 6 only" || bad "window rows"

python3 -c "import sqlite3; c = sqlite3.connect('other.db'); c.execute('create table t(x)'); c.commit()"
sum=$(md5sum < other.db)
expect 1 "not a Fleet Twin database" "foreign database refused" -- "$cli" analytics build other.db
[ "$(md5sum < other.db)" = "$sum" ] && ok "foreign database unchanged" || bad "foreign database changed"
expect 1 "not a Fleet Twin database" "report of a foreign database refused" -- "$cli" report other.db --out o.pdf
[ ! -e o.pdf ] && [ ! -e o ] && ok "no report for a foreign database" || bad "report outputs left"
expect 1 "No such file" "missing database" -- "$cli" analytics build missing.db
expect 1 "not a regular file" "a device as database" -- "$cli" analytics build /dev/zero
echo "notes" > notes.csv
expect 1 "notes.csv" "export onto a foreign file refused" -- "$cli" analytics export r.db --table kpis --format csv --out notes.csv
[ "$(cat notes.csv)" = notes ] && ok "foreign file unchanged" || bad "foreign file changed"
expect 2 "must name a .pdf" "report --out without .pdf" -- "$cli" report r.db --out report

"$cli" report r.db --out rep.pdf >/dev/null && ok "report" || bad "report"
pages=$(pdfinfo rep.pdf 2>/dev/null | awk '/^Pages:/ { print $2 }')
[ "$pages" = 9 ] && ok "report has 9 pages" || bad "report pages: $pages"
pdftoppm -r 60 -png rep.pdf page && [ "$(ls page-*.png | wc -l)" = 9 ] && ok "pdftoppm renders 9 pages" || bad "pdftoppm"
[ "$(ls rep/*.png | wc -l)" -ge 10 ] && [ -f rep/zone_hour.csv ] && [ -f rep/.fleet-twin-output ] \
  && ok "charts and tables beside the PDF" || bad "report folder: $(ls -A rep)"
"$cli" report r.db --out rep.pdf >/dev/null && ok "report over an earlier report" || bad "report again"

# A live database from the emulator yields the same KPI keys.
keys() { python3 -c "import json, sys; print(' '.join(json.load(open(sys.argv[1])).keys()))" "$1"; }
if command -v mosquitto >/dev/null; then
  port=$(( 20000 + RANDOM % 20000 ))
  printf 'listener %d 127.0.0.1\nallow_anonymous true\nmax_queued_messages 100000\n' "$port" > broker.conf
  mosquitto -c broker.conf >/dev/null 2>&1 &
  broker_pid=$!
  sleep 0.5
  url=mqtt://127.0.0.1:$port
  "$cli" live --broker "$url" --prefix at --db live.db --duration 9 --status-every 60 \
    --provision-unknown --provision-rate 100000 >live.txt 2>&1 &
  live_pid=$!
  sleep 1
  "$cli" emulate "$scenario" --broker "$url" --prefix at --rate 1 --speed 120 --duration 6 >/dev/null 2>&1 &
  emu_pid=$!
  # builds while the twin writes: each folds what is committed so far
  during=0
  for i in 1 2 3; do
    sleep 2
    "$cli" analytics build live.db --scenario "$scenario" -q && during=$((during + 1))
  done
  wait "$emu_pid"
  wait "$live_pid"
  [ $during = 3 ] && ok "three builds while the live twin was writing" || bad "builds during live: $during of 3"
  kill "$broker_pid" 2>/dev/null; wait "$broker_pid" 2>/dev/null; broker_pid=""
  "$cli" analytics build live.db --scenario "$scenario" >/dev/null && ok "live build" || bad "live build: $(tail -2 live.txt)"
  cp live.db once.db
  "$cli" analytics build once.db --scenario "$scenario" --rebuild -q
  same=1
  for t in zone_hour vehicle_day trip_bins cohorts riders staff_shift kpis; do
    cmp -s <("$cli" analytics export live.db --table $t --format csv) \
           <("$cli" analytics export once.db --table $t --format csv) || { same=0; echo "differs: $t"; }
  done
  [ $same = 1 ] && ok "builds during the live run equal one build afterwards" || bad "builds during the live run differ"
  # the live kinds (telemetry, trips without bookings, staff moves): half, then the rest
  cp live.db half.db
  n=$(sqlite3 live.db 'SELECT max(seq) FROM events')
  "$cli" analytics build half.db --scenario "$scenario" --rebuild --upto $((n / 2 + 3)) --batch 500 -q &&
    "$cli" analytics build half.db --scenario "$scenario" --batch 700 -q || bad "live half build"
  same=1
  for t in zone_hour vehicle_day trip_bins cohorts riders staff_shift kpis; do
    cmp -s <("$cli" analytics export live.db --table $t --format csv) \
           <("$cli" analytics export half.db --table $t --format csv) || { same=0; echo "differs: $t"; }
  done
  [ "$n" -gt 1000 ] && [ $same = 1 ] && ok "live database: half + rest in small batches equals one build ($n events)" \
    || bad "live database incremental build differs"
  "$cli" analytics export live.db --table kpis --format json > live-kpis.json
  "$cli" analytics export r.db --table kpis --format json > sim-kpis.json
  [ -n "$(keys sim-kpis.json)" ] && [ "$(keys live-kpis.json)" = "$(keys sim-kpis.json)" ] \
    && ok "live and simulated KPI keys are the same ($(keys sim-kpis.json | wc -w) keys)" \
    || bad "KPI keys differ: live [$(keys live-kpis.json)] sim [$(keys sim-kpis.json)]"
  python3 - live-kpis.json <<'PY' && ok "live KPIs measured (vehicles, events, utilisation, SOC)" || bad "live KPIs: $(cat live-kpis.json | tr '\n' ' ')"
import json, sys
k = json.load(open(sys.argv[1]))
sys.exit(0 if k["vehicles"] > 0 and k["events"] > 0 and k["utilisation"] > 0 and k["mean_soc"] is not None else 1)
PY
  "$cli" report live.db --scenario "$scenario" --out live.pdf >/dev/null && [ "$(pdfinfo live.pdf | awk '/^Pages:/ { print $2 }')" = 9 ] \
    && ok "report of the live database" || bad "live report"
else
  echo "skip live: no mosquitto"
fi
echo "analytics-cli: $fails failures"
[ "$fails" -eq 0 ]
