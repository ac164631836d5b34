#!/usr/bin/env bash
# test-rights-cli.sh — `fleet-twin-cli region init|retention|report` and
# `rider export|erase` as a person meets them, on two regions whose stores
# the scripted demo writes: roles refused, an export written once and not
# over a file that is not ours, an erasure that leaves no byte of the
# rider's name or e-mail in the region's files and a store that still
# checks, retention counts and idempotence, the report from aggregates
# only, and bad input (a folder that is no region, negative days, an
# unknown law, an unknown rider) refused naming what and where.
#
#   test-rights-cli.sh CLI
set -u
cli=$1
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cd "$work"
passed=0
failed=0
ok()   { passed=$((passed + 1)); echo "ok - $*"; }
fail() { failed=$((failed + 1)); echo "FAIL - $*"; }
check() { local what=$1; shift; if "$@"; then ok "$what"; else fail "$what"; fi; }
refused() {
  local want_rc=$1 want_msg=$2 what=$3; shift 3
  local err rc
  err=$(timeout 120 "$@" 2>&1 >/dev/null); rc=$?
  if [ "$rc" -eq "$want_rc" ] && grep -q -- "$want_msg" <<<"$err"; then
    ok "$what"
  else
    fail "$what (exit $rc, wanted $want_rc; said: $err)"
  fi
}
has_bytes() { grep -rqaF -- "$2" "$1"; }

check "init paris (GDPR)" "$cli" region init paris --jurisdiction GDPR
check "init pune (DPDP)" "$cli" region init pune --jurisdiction DPDP
refused 1 "already belongs to region" "a folder holds one region" "$cli" region init paris --jurisdiction DPDP
refused 1 "unknown jurisdiction \"Narnia\"" "an unknown law" "$cli" region init narnia --jurisdiction Narnia
check "demo run in paris" "$cli" demo --db paris/data/live.db
check "demo run in pune" "$cli" demo --db pune/data/live.db
# The demo's riders are Ana (#0), Ben (#1) and Chloe (#2), in both regions.

refused 1 "may not export" "another rider may not export Ana" \
  "$cli" rider export paris --rider ana@example.org --as ben@example.org
refused 1 "no rider \"nobody@example.org\"" "an unknown rider" \
  "$cli" rider export paris --rider nobody@example.org --as ana@example.org
refused 1 "is not a region folder" "a folder that is no region" \
  "$cli" rider export "$work" --rider '#0' --as '#0'
check "Ana exports her data" "$cli" rider export paris --rider ana@example.org --as ana@example.org -o ana.json
check "... her e-mail in it" grep -q '"ana@example.org"' ana.json
check "... nobody else's" bash -c '! grep -q -e ben@example.org -e chloe@example.org ana.json'
echo "precious" > mine.json
refused 1 "not Fleet Twin's own" "an export does not replace a file that is not ours" \
  "$cli" rider export paris --rider '#0' --as '#0' -o mine.json
check "... and leaves it" grep -q precious mine.json

refused 1 "may not erase" "Ben may not erase Ana" \
  "$cli" rider erase paris --rider ana@example.org --as ben@example.org
check "Ana erases her data" "$cli" rider erase paris --rider ana@example.org --as ana@example.org
check "... no byte of her e-mail left in paris" bash -c "! grep -rqaF ana@example.org paris"
check "... nor her name" test "$(sqlite3 paris/data/live.db "select count(*) from accounts where display_name = 'Ana'")" = 0
check "... erased under a pseudonym" test "$(sqlite3 paris/data/live.db "select count(*) from accounts where erased = 1 and pseudonym like 'erased-%'")" = 1
check "... Ben still there" has_bytes paris ben@example.org
check "... pune untouched" has_bytes pune ana@example.org
check "... the store checks" "$cli" check paris/data/live.db
refused 1 "is erased and can no longer act" "an erased rider can no longer ask" "$cli" rider erase paris --rider "#0" --as "#0"

# Retention: the demo's clock runs from 0, so 200 days later everything is old.
out=$("$cli" region retention paris --now 17280000000)
echo "$out"
check "retention coarsens the trips" grep -q "coarsened [1-9][0-9]* events and [1-9][0-9]* bookings" <<<"$out"
out=$("$cli" region retention paris --now 17280000000)
check "a second run changes nothing" grep -q "removed 0 telemetry events; coarsened 0 events and 0 bookings" <<<"$out"
printf '[region]\nname=paris\njurisdiction=GDPR\n[retention]\ntelemetry_days=-1\n' > paris/region.ini
refused 1 "telemetry_days = -1 is negative" "negative days" "$cli" region retention paris --now 0
refused 1 "paris/region.ini" "... naming the file" "$cli" region retention paris --now 0
refused 1 "is not a region folder" "retention on a folder that is no region" "$cli" region retention "$work"

refused 1 "analytics build" "the report needs aggregates" "$cli" region report pune
check "aggregates of pune" "$cli" analytics build pune/data/live.db
out=$("$cli" region report pune --json)
echo "$out"
check "the report from aggregates" grep -q '"jurisdiction": "DPDP"' <<<"$out"
check "... holds no e-mail" bash -c "! grep -q @ <<<'$out'"

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
