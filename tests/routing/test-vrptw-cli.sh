#!/usr/bin/env bash
# fleet-twin-cli vrptw solve on the shared C101 instance: SINTEF routes on
# standard output and in --out (written through FtOutput: a file the command
# did not write is refused without --force), a fixed seed and iteration count
# give the same routes twice, a malformed file is refused with its line and
# field, an infeasible instance names the customer, bad options exit 2.
#   test-vrptw-cli.sh FLEET_TWIN_CLI SHARED_DATA_DIR
set -u
cli=$1
inst=$2/vrptw/solomon/instances/C101.txt
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fails=0
pass=0
check () {   # check NAME CONDITION...
  local name=$1; shift
  if "$@"; then pass=$((pass + 1)); else echo "FAIL: $name"; fails=$((fails + 1)); fi
}

"$cli" vrptw solve "$inst" --time-limit-ms 300 > "$tmp/out" 2> "$tmp/err"
rc=$?
check "exit 0 (got $rc: $(head -3 "$tmp/err"))" test $rc -eq 0
check "SINTEF routes on stdout" grep -Eq '^Route 1 : [0-9]+( [0-9]+)*$' "$tmp/out"
check "summary with routes and distance" grep -Eq '^C101: [0-9]+ routes, distance [0-9]+\.[0-9]{2} ' "$tmp/out"
# every customer 1..100 exactly once
ids=$(grep '^Route' "$tmp/out" | cut -d: -f2 | tr ' ' '\n' | grep -v '^$' | sort -n | tr '\n' ' ')
check "each customer once" test "$ids" = "$(seq 1 100 | tr '\n' ' ')"

"$cli" vrptw solve "$inst" --time-limit-ms 0 --iterations 200 --seed 3 --out "$tmp/a.sol" > /dev/null
check "--out written" grep -q '^Solution$' "$tmp/a.sol"
check "--out header" grep -q '^Authors       : Fleet Twin' "$tmp/a.sol"
"$cli" vrptw solve "$inst" --time-limit-ms 0 --iterations 200 --seed 3 --out "$tmp/a.sol" > /dev/null
rc=$?
check "own output replaced (rc $rc)" test $rc -eq 0
"$cli" vrptw solve "$inst" --time-limit-ms 0 --iterations 200 --seed 3 --out "$tmp/b.sol" > /dev/null
check "same seed and iterations, same routes" \
  test "$(sed -n '/^Solution/,$p' "$tmp/a.sol")" = "$(sed -n '/^Solution/,$p' "$tmp/b.sol")"

echo "precious" > "$tmp/foreign.txt"
"$cli" vrptw solve "$inst" --time-limit-ms 100 --out "$tmp/foreign.txt" > /dev/null 2> "$tmp/err"
rc=$?
check "foreign --out refused (rc $rc)" test $rc -eq 1
check "foreign file untouched" test "$(cat "$tmp/foreign.txt")" = "precious"
"$cli" vrptw solve "$inst" --time-limit-ms 100 --out "$tmp/foreign.txt" --force > /dev/null
check "--force replaces it" grep -q '^Route 1 :' "$tmp/foreign.txt"

sed '12s/.*/    2      45         70         30        825        8x0         90/' "$inst" > "$tmp/bad.txt"
"$cli" vrptw solve "$tmp/bad.txt" > /dev/null 2> "$tmp/err"
rc=$?
check "malformed refused (rc $rc)" test $rc -eq 1
check "line and field named ($(cat "$tmp/err"))" grep -q "bad.txt:12: field DUE DATE: '8x0' is not a number" "$tmp/err"

sed '14s/^\( *4 *[0-9]* *[0-9]* *\)10 /\1500 /' "$inst" > "$tmp/heavy.txt"
"$cli" vrptw solve "$tmp/heavy.txt" --time-limit-ms 100 > /dev/null 2> "$tmp/err"
rc=$?
check "infeasible refused (rc $rc)" test $rc -eq 1
check "infeasible customer named ($(cat "$tmp/err"))" grep -q "customer 4 cannot be served even alone" "$tmp/err"

"$cli" vrptw solve "$inst" --time-limit-ms -5 > /dev/null 2>&1
check "negative limit is a usage error" test $? -eq 2
"$cli" vrptw solve > /dev/null 2>&1
check "missing FILE is a usage error" test $? -eq 2
"$cli" vrptw frobnicate > /dev/null 2>&1
check "unknown subcommand is a usage error" test $? -eq 2

echo "vrptw-cli: $pass passed, $fails failed"
test $fails -eq 0
