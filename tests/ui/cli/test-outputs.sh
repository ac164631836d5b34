#!/usr/bin/env bash
# test-outputs.sh — fleet-twin-cli's writers and argument checks, as a
# careless user or a kill would meet them (hardening findings 1, 2 and 6):
# outputs are never written over what is not the project's own, a killed
# writer destroys nothing and its temporaries are swept by the next run, and
# bad arguments or files are refused with a message instead of running
# forever or writing nonsense.
#
#   test-outputs.sh CLI SOURCE_DIR SHARED_DATA_DIR
set -u
cli=$1
src=$2
data=$3
scenario=$src/scenarios/demo-city-phase1.scenario
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cd "$work"
passed=0
failed=0

ok()   { passed=$((passed + 1)); echo "ok - $*"; }
fail() { failed=$((failed + 1)); echo "FAIL - $*"; }
check() { local what=$1; shift; if "$@"; then ok "$what"; else fail "$what"; fi; }
# Runs a command that must fail with status $1 and say $2 on stderr.
refused() {
  local want_rc=$1 want_msg=$2 what=$3; shift 3
  local err rc
  err=$(timeout 60 "$@" 2>&1 >/dev/null); rc=$?
  if [ "$rc" -eq "$want_rc" ] && grep -q -- "$want_msg" <<<"$err"; then
    ok "$what"
  else
    fail "$what (exit $rc, wanted $want_rc; said: $err)"
  fi
}
# Starts a command, SIGKILLs it after DELAY seconds, and waits until it is gone.
kill_after() {
  local delay=$1; shift
  "$@" >/dev/null 2>&1 &
  local pid=$!
  sleep "$delay"
  kill -9 "$pid" 2>/dev/null
  wait "$pid" 2>/dev/null
}
no_temporaries() { ! ls -A "${1:-.}" | grep -q 'ft-tmp'; }

# ---- run --out ---------------------------------------------------------------
echo "a user's notes" > notes.txt
refused 1 "not Fleet Twin's own output" "run --out refuses a text file" \
  "$cli" run "$scenario" --days 0.05 -q --out notes.txt
check "the text file is unchanged" grep -q "a user's notes" notes.txt

check "run --out writes a new result" "$cli" run "$scenario" --days 0.05 -q --out r.db
sum=$(md5sum < r.db)
# A longer rerun killed half-way must leave the earlier result as it was
# (long enough to be still running when killed: 5 days take under 2 s of
# an ASan build on a quiet machine now).
kill_after 2 "$cli" run "$scenario" --days 60 -q --out r.db
check "a killed rerun keeps the earlier result" test "$(md5sum < r.db)" = "$sum"
check "the killed run left its temporaries (they are swept next)" bash -c "ls -A | grep -q 'r.db.ft-tmp'"
check "a rerun replaces the result" "$cli" run "$scenario" --days 0.05 --seed 9 -q --out r.db
check "... and sweeps the killed run's temporaries" no_temporaries
check "... with a result compare can read" "$cli" compare r.db
"$cli" run "$scenario" --days 0.05 -q --out notes.txt --force >/dev/null
check "--force replaces a file that is not ours" "$cli" compare notes.txt

# ---- compare never writes into its inputs -------------------------------------
: > empty.db
refused 1 "not a Fleet Twin store" "compare refuses an empty file" "$cli" compare r.db empty.db
check "the empty file stays empty" test ! -s empty.db

# ---- bad arguments and files ----------------------------------------------------
refused 1 "not a regular file" "a device as scenario is refused at once" "$cli" run /dev/zero
refused 2 "days must be" "--days nan is refused" "$cli" run "$scenario" --days nan
refused 2 "days must be" "--days -1 is refused" "$cli" run "$scenario" --days -1
# live and emulate: NaN and negative durations used to run forever (no broker needed to refuse them)
refused 2 "duration must be" "live --duration nan is refused" \
  "$cli" live --broker mqtt://127.0.0.1:9 --prefix ft --db l.db --duration nan
refused 2 "duration must be" "live --duration -1 is refused" \
  "$cli" live --broker mqtt://127.0.0.1:9 --prefix ft --db l.db --duration -1
refused 2 "status-every" "live --status-every nan is refused" \
  "$cli" live --broker mqtt://127.0.0.1:9 --prefix ft --db l.db --status-every nan
refused 2 "duration >= 0" "emulate --duration nan is refused" \
  "$cli" emulate "$scenario" --broker mqtt://127.0.0.1:9 --prefix ft --duration nan
check "no database was made by refused live runs" test ! -e l.db

# ---- gbfs export --------------------------------------------------------------------
mkdir victim feed
echo precious > victim/keep.txt
ln -s "$work/victim" feed/link
echo theirs > feed/theirs.txt
refused 1 "not Fleet Twin's own output" "gbfs export refuses a folder that is not an export" \
  "$cli" gbfs export "$scenario" --at 8:00 --out feed
check "... and leaves it as it was" test -f feed/theirs.txt -a -L feed/link
check "gbfs export --force replaces it" "$cli" gbfs export "$scenario" --at 8:00 --out feed --force
check "... without following the link inside" grep -q precious victim/keep.txt
check "an export is replaced by the next export" "$cli" gbfs export "$scenario" --at 9:00 --out feed
refused 2 "is not \[D:\]HH:MM" "gbfs export --at 99999999:00 is refused" \
  "$cli" gbfs export "$scenario" --at 99999999:00 --out feed2
refused 2 "after the end" "gbfs export --at after the scenario's end is refused" \
  "$cli" gbfs export "$scenario" --at 3000:00 --out feed2
check "no feed was written for refused moments" test ! -e feed2
check "no temporaries after the exports" no_temporaries

# ---- tiles and OSM import: killed writers ---------------------------------------------
for delay in 0.3 0.6; do
  kill_after $delay "$cli" city bake-tiles --demo --zmax 16 --out demo.mbtiles
done
check "bake-tiles --demo writes tiles" "$cli" city bake-tiles --demo --zmin 12 --zmax 12 --out demo.mbtiles
check "... and sweeps what killed bakes left" no_temporaries
refused 1 "not Fleet Twin's own output" "bake-tiles refuses r.db (a store, not tiles)" \
  "$cli" city bake-tiles --demo --zmax 12 --out r.db
pbf=$data/osm/monaco.osm.pbf
if [ -f "$pbf" ]; then
  for delay in 0.2 0.6; do
    kill_after $delay "$cli" import-osm "$pbf" --name Monaco --out mon --no-tiles
  done
  # a kill may come after the import finished: then the pack is whole
  check "killed imports leave no pack or a whole one" bash -c "test ! -e mon || '$cli' city info mon >/dev/null"
  check "an import after killed ones" "$cli" import-osm "$pbf" --name Monaco --out mon --no-tiles
  check "... sweeps their temporaries" no_temporaries
  refused 1 "not a city pack\|not Fleet Twin's own output" "import-osm refuses a folder that is not a pack" \
    "$cli" import-osm "$pbf" --name Monaco --out victim --no-tiles
  check "... and leaves it" grep -q precious victim/keep.txt
else
  echo "skip - $pbf missing"
fi

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
