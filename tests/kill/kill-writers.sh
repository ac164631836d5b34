#!/usr/bin/env bash
# kill-writers.sh — every writer of fleet-twin-cli SIGKILLed at random
# moments. After each kill: the target is either exactly what it was (the
# previous complete output) or a complete new one that passes its checks
# (SQLite integrity_check, the store's invariants, a loadable pack or feed);
# the next run of the same writer completes and leaves no temporary file.
# The live writer is killed while a real mosquitto on loopback feeds it; its
# database must pass the same checks and never lose committed events. The
# analytics writer (analytics build, many small batches, into a run database)
# is killed mid-build; the database must pass `check`, and the next build
# must complete it to exactly the aggregates of an uninterrupted build.
#
#   tests/kill/kill-writers.sh [-n TRIALS] [-w WRITER,…] CLI SOURCE_DIR SHARED_DATA_DIR
#
# Writers: run gbfs import-osm import-trips bake-tiles city-generate live analytics.
# Prints one line of figures per writer and exits non-zero on any failure.
# The test suite runs it with -n 2; run it with -n 100 (the default) for the
# figures in the hardening note.
set -u
trials=100
only=""
while getopts "n:w:" o; do
  case $o in
    n) trials=$OPTARG ;;
    w) only=$OPTARG ;;
    *) echo "usage: $0 [-n TRIALS] [-w WRITER,…] CLI SOURCE_DIR SHARED_DATA_DIR" >&2; exit 2 ;;
  esac
done
shift $((OPTIND - 1))
cli=$(realpath "$1")
src=$(realpath "$2")
data=$(realpath "$3")
scenario=$src/scenarios/demo-city-phase1.scenario
work=$(mktemp -d)
broker_pid=""
cleanup() { [ -n "$broker_pid" ] && kill "$broker_pid" 2>/dev/null; rm -rf "$work"; }
trap cleanup EXIT
cd "$work"
RANDOM=$$
failures=0

# A digest of a file or a folder's files (names and contents).
digest() {
  if [ -d "$1" ]; then (cd "$1" && find . -type f | LC_ALL=C sort | xargs -r md5sum | md5sum)
  elif [ -e "$1" ]; then md5sum < "$1"
  else echo absent; fi
}
temporaries() { ls -A | grep -c 'ft-tmp' || true; }
ms_now() { date +%s%3N; }

# verify_<writer> TARGET: 0 when TARGET is a complete, valid output.
verify_run()           { "$cli" check "$1" >/dev/null 2>&1 && "$cli" compare "$1" >/dev/null 2>&1; }
verify_gbfs()          { "$cli" gbfs info "$1" >/dev/null 2>&1; }
verify_pack()          { "$cli" city info "$1" >/dev/null 2>&1; }
verify_import-osm()    { verify_pack "$1"; }
verify_city-generate() { verify_pack "$1"; }
verify_import-trips()  { verify_pack "$1"; }
verify_bake-tiles() {
  [ "$(sqlite3 "$1" 'PRAGMA integrity_check' 2>/dev/null)" = ok ] &&
    [ "$(sqlite3 "$1" 'SELECT count(*) > 0 FROM tiles' 2>/dev/null)" = 1 ]
}

pbf=$data/osm/monaco.osm.pbf
trips=$data/trips/JC-202001-citibike-tripdata.csv
# cmd_<writer> SEED: the writer's command line, writing to its target.
cmd_run()           { echo "$cli" run "$scenario" --days 0.3 --seed "$1" -q --out out.db; }
cmd_gbfs()          { echo "$cli" gbfs export "$scenario" --at "1:0$(( $1 % 10 )):00" --out feed; }
cmd_import-osm()    { echo "$cli" import-osm "$pbf" --name Monaco --zmax 13 --out pack; }
cmd_city-generate() { echo "$cli" city generate --out pack; }
cmd_import-trips()  { echo "$cli" import-trips "$trips" --city base --requests-per-day 1200 --trace pack.trace --out pack; }
cmd_bake-tiles()    { echo "$cli" city bake-tiles --demo --zmax $(( 13 + $1 % 3 )) --out tiles.mbtiles; }
target_of() {
  case $1 in
    run) echo out.db ;; gbfs) echo feed ;; bake-tiles) echo tiles.mbtiles ;; *) echo pack ;;
  esac
}

kill_trials() {
  local w=$1 target seed dur t0 t1 before after delay pid
  target=$(target_of "$w")
  rm -rf "$target"
  local killed=0 unchanged=0 replaced=0 lost=0 left=0 stale=0 swept_fail=0
  # One complete run first: the previous output, and how long a run takes.
  t0=$(ms_now)
  if ! $(cmd_$w 1) >/dev/null 2>&1 || ! verify_$w "$target"; then
    echo "$w: FAIL the first complete run did not produce a valid output"; failures=$((failures + 1)); return
  fi
  t1=$(ms_now)
  dur=$(( t1 - t0 ))
  for ((i = 1; i <= trials; i++)); do
    seed=$((i + 1))
    before=$(digest "$target")
    delay=$(( RANDOM % (dur + dur / 10 + 1) ))
    $(cmd_$w $seed) >/dev/null 2>&1 &
    pid=$!
    sleep "$(printf '%d.%03d' $((delay / 1000)) $((delay % 1000)))"
    if kill -9 "$pid" 2>/dev/null; then killed=$((killed + 1)); fi
    wait "$pid" 2>/dev/null
    after=$(digest "$target")
    if [ "$after" = "$before" ]; then unchanged=$((unchanged + 1))
    elif verify_$w "$target"; then replaced=$((replaced + 1))
    else lost=$((lost + 1)); echo "$w: trial $i: the target is neither the old output nor a valid new one"; fi
    [ "$(temporaries)" -gt 0 ] && left=$((left + 1))
    # The next run completes and sweeps what the killed one left.
    if ! $(cmd_$w $seed) >/dev/null 2>&1 || ! verify_$w "$target"; then
      swept_fail=$((swept_fail + 1)); echo "$w: trial $i: the run after the kill failed"
    fi
    if [ "$(temporaries)" -gt 0 ]; then stale=$((stale + 1)); echo "$w: trial $i: temporaries survived the next run: $(ls -A | grep ft-tmp | tr '\n' ' ')"; fi
  done
  local bad=$((lost + stale + swept_fail))
  failures=$((failures + bad))
  printf '%-14s trials %3d  run %5d ms  killed mid-write %3d  unchanged %3d  replaced %3d  lost %d  ' \
    "$w" "$trials" "$dur" "$killed" "$unchanged" "$replaced" "$lost"
  printf 'temporaries after kill %3d  after next run %d  next run failed %d  %s\n' \
    "$left" "$stale" "$swept_fail" "$([ $bad -eq 0 ] && echo ok || echo FAIL)"
  rm -rf "$target"
}

kill_live() {
  command -v mosquitto >/dev/null || { echo "live: skip (no mosquitto)"; return; }
  local port=$(( 20000 + RANDOM % 20000 ))
  printf 'listener %d 127.0.0.1\nallow_anonymous true\nmax_queued_messages 100000\n' "$port" > broker.conf
  mosquitto -c broker.conf >/dev/null 2>&1 &
  broker_pid=$!
  sleep 0.5
  local url=mqtt://127.0.0.1:$port
  "$cli" emulate "$scenario" --broker "$url" --prefix kt --rate 1 --speed 60 >/dev/null 2>&1 &
  local emu=$!
  local killed=0 lost=0 bad=0 committed=0 now pid delay
  rm -f live.db
  for ((i = 1; i <= trials; i++)); do
    "$cli" live --broker "$url" --prefix kt --db live.db --status-every 60 --provision-unknown --provision-rate 100000 >/dev/null 2>&1 &
    pid=$!
    delay=$(( 300 + RANDOM % 2500 ))
    sleep "$(printf '%d.%03d' $((delay / 1000)) $((delay % 1000)))"
    kill -9 "$pid" 2>/dev/null && killed=$((killed + 1))
    wait "$pid" 2>/dev/null
    [ -e live.db ] || continue
    if ! "$cli" check live.db >/dev/null 2>&1; then
      bad=$((bad + 1)); echo "live: trial $i: $("$cli" check live.db 2>&1 | tail -1)"
    fi
    now=$(sqlite3 live.db 'SELECT count(*) FROM events' 2>/dev/null || echo 0)
    if [ "$now" -lt "$committed" ]; then lost=$((lost + 1)); echo "live: trial $i: events went from $committed to $now"; fi
    committed=$now
  done
  kill "$emu" 2>/dev/null; wait "$emu" 2>/dev/null
  kill "$broker_pid" 2>/dev/null; wait "$broker_pid" 2>/dev/null; broker_pid=""
  failures=$((failures + bad + lost))
  printf '%-14s trials %3d  killed %3d  committed events at the end %d  checks failed %d  events lost %d  %s\n' \
    live "$trials" "$killed" "$committed" "$bad" "$lost" "$([ $((bad + lost)) -eq 0 ] && echo ok || echo FAIL)"
}

# Every aggregate row, and the high-water mark, of a database.
an_dump() {
  local t
  for t in an_meta an_zone an_zone_hour an_vehicle_day an_trip_bins an_rider an_rider_week \
           an_staff_shift an_vehicle_open an_staff_open; do
    echo "== $t"; sqlite3 "$1" "SELECT * FROM $t ORDER BY 1, 2" 2>&1
  done | md5sum
}
an_hwm() { sqlite3 an.db "SELECT value FROM an_meta WHERE key = 'high_water_seq'" 2>/dev/null || true; }

kill_analytics() {
  local batch=2000 dur t0 t1 ref total delay pid hwm
  "$cli" run "$scenario" --days 2 -q --out base.db >/dev/null 2>&1 || { echo "analytics: FAIL the run"; failures=$((failures + 1)); return; }
  cp base.db an.db
  t0=$(ms_now)
  "$cli" analytics build an.db --batch $batch -q || { echo "analytics: FAIL the first build"; failures=$((failures + 1)); return; }
  t1=$(ms_now)
  dur=$(( t1 - t0 ))
  ref=$(an_dump an.db)
  total=$(an_hwm)
  local killed=0 partial=0 none=0 whole=0 badcheck=0 lost=0 failed=0
  for ((i = 1; i <= trials; i++)); do
    cp base.db an.db; rm -f an.db-wal an.db-shm
    delay=$(( RANDOM % (dur + dur / 10 + 1) ))
    "$cli" analytics build an.db --batch $batch -q >/dev/null 2>&1 &
    pid=$!
    sleep "$(printf '%d.%03d' $((delay / 1000)) $((delay % 1000)))"
    kill -9 "$pid" 2>/dev/null && killed=$((killed + 1))
    wait "$pid" 2>/dev/null
    hwm=$(an_hwm)
    if [ -z "$hwm" ] || [ "$hwm" = 0 ]; then none=$((none + 1))
    elif [ "$hwm" = "$total" ]; then whole=$((whole + 1))
    else partial=$((partial + 1)); fi
    if ! "$cli" check an.db >/dev/null 2>&1; then
      badcheck=$((badcheck + 1)); echo "analytics: trial $i: $("$cli" check an.db 2>&1 | tail -1)"
    fi
    if ! "$cli" analytics build an.db --batch $batch -q >/dev/null 2>&1; then
      failed=$((failed + 1)); echo "analytics: trial $i: the build after the kill failed"
    elif [ "$(an_dump an.db)" != "$ref" ]; then
      lost=$((lost + 1)); echo "analytics: trial $i: after a kill at seq ${hwm:-none} the completed aggregates differ from an uninterrupted build"
    fi
  done
  local bad=$((badcheck + lost + failed))
  failures=$((failures + bad))
  printf '%-14s trials %3d  build %5d ms (%s events, %d per batch)  killed %3d  mid-build %3d  before the first batch %3d  after the last %3d  ' \
    analytics "$trials" "$dur" "$total" "$batch" "$killed" "$partial" "$none" "$whole"
  printf 'checks failed %d  differ after completing %d  next build failed %d  %s\n' \
    "$badcheck" "$lost" "$failed" "$([ $bad -eq 0 ] && echo ok || echo FAIL)"
  rm -f base.db an.db an.db-wal an.db-shm
}

for w in run gbfs bake-tiles city-generate import-osm import-trips live analytics; do
  if [ -n "$only" ] && ! grep -qw -- "$w" <<<"${only//,/ }"; then continue; fi
  case $w in
    import-osm) [ -f "$pbf" ] || { echo "$w: skip ($pbf missing)"; continue; } ;;
    import-trips) [ -f "$trips" ] || { echo "$w: skip ($trips missing)"; continue; } ;;
  esac
  [ "$w" = import-trips ] && { [ -d base ] || "$cli" city generate --out base >/dev/null; }
  if [ "$w" = live ]; then kill_live; elif [ "$w" = analytics ]; then kill_analytics; else kill_trials "$w"; fi
done
echo "kill-writers: $failures failures"
[ "$failures" -eq 0 ]
