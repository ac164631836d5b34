#!/usr/bin/env bash
# test-accounts-cli.sh — `fleet-twin-cli accounts list|create` as an
# operator meets them on a store the scripted demo writes: the first admin
# only on a store without one, staff created only by an admin (the planner
# `live --planner` acts as), names shown only when asked, bad roles, names
# and files refused naming what, and the store still checks.
#
#   test-accounts-cli.sh CLI
set -u
cli=$1
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cd "$work"
passed=0
failed=0
ok()   { passed=$((passed + 1)); echo "ok - $*"; }
fail() { failed=$((failed + 1)); echo "FAIL - $*"; }
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

timeout 300 "$cli" demo --db s.db >/dev/null 2>&1 || { echo "FAIL - the demo did not write s.db"; exit 1; }
n0=$("$cli" accounts list s.db | tail -n +2 | wc -l)
[ "$n0" -gt 0 ] && ok "list shows the demo's $n0 accounts" || fail "list shows nothing"
if "$cli" accounts list s.db | head -1 | grep -q "name"; then fail "names listed without --names"; else ok "no names without --names"; fi

refused 1 "needs --as ADMIN" "a planner without --as is refused" \
  "$cli" accounts create s.db --role planner --name "Ana"
refused 1 "needs --as ADMIN" "an admin with other roles is not a bootstrap" \
  "$cli" accounts create s.db --role admin,planner --name "Root"
out=$("$cli" accounts create s.db --role admin --name "Root" 2>&1); rc=$?
[ $rc -eq 0 ] && ok "the first admin without --as" || fail "first admin (exit $rc: $out)"
admin="#$(cut -f1 <<<"$out")"
refused 1 "needs --as ADMIN" "a second admin without --as is refused" \
  "$cli" accounts create s.db --role admin --name "Root 2"
rider="#$("$cli" accounts list s.db | awk -F'\t' '$3=="rider"{print $1; exit}')"
refused 1 "only an admin may create accounts" "a rider may not create staff" \
  "$cli" accounts create s.db --role planner --name "Ana" --as "$rider"
refused 1 "no such account" "an unknown --as is named" \
  "$cli" accounts create s.db --role planner --name "Ana" --as "#999999"
refused 2 "unknown role 'boss'" "an unknown role is named" \
  "$cli" accounts create s.db --role boss --name "Ana" --as "$admin"
refused 1 "display name is empty" "an empty name is refused" \
  "$cli" accounts create s.db --role planner --name "  " --as "$admin"
out=$("$cli" accounts create s.db --role planner --name "Ana Planner" --as "$admin" 2>&1); rc=$?
[ $rc -eq 0 ] && ok "an admin creates a planner" || fail "planner (exit $rc: $out)"
id=$(cut -f2 <<<"$out")
"$cli" accounts list s.db --staff --names | grep -q "$id	planner	active	Ana Planner" \
  && ok "the planner is listed with its name under --names" || fail "planner not listed"
n1=$("$cli" accounts list s.db | tail -n +2 | wc -l)
[ "$n1" -eq $((n0 + 2)) ] && ok "two accounts more, none from the refusals" || fail "$n0 -> $n1 accounts"
"$cli" check s.db >/dev/null 2>&1 && ok "the store still checks" || fail "check fails"
echo "not a database" > notdb
refused 1 "is not a Fleet Twin database" "a file that is not a store is named" \
  "$cli" accounts list notdb
refused 1 "no such database" "a missing store is named" "$cli" accounts list missing.db
refused 2 "unknown command 'remove'" "an unknown subcommand is named" "$cli" accounts remove s.db

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
