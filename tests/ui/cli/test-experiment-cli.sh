#!/usr/bin/env bash
# test-experiment-cli.sh — `fleet-twin-cli experiment` end to end on a tiny
# Demo City base: the same rows whatever --jobs (1 or 2) and through GNU
# parallel's job list; report and its PDF; a sweep's Pareto view; bad
# input refused naming the key or file (unknown variant key, zero
# replications, a variant breaking a scenario rule, a results file from
# another experiment at merge).
#
#   test-experiment-cli.sh CLI
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
  local want_msg=$1 what=$2; shift 2
  local err rc
  err=$(timeout 120 "$@" 2>&1 >/dev/null); rc=$?
  if [ "$rc" -ne 0 ] && grep -qF -- "$want_msg" <<<"$err"; then
    ok "$what"
  else
    fail "$what (exit $rc; said: $err)"
  fi
}
rows() { sqlite3 "$1" 'SELECT * FROM runs ORDER BY 1, 2; SELECT * FROM results ORDER BY 1, 2, 3;'; }

cat > base.scenario <<'SC'
[scenario]
name=tiny
city=demo
days=0.05
seed=11
[fleet]
scooters=100
bikes=0
mopeds=0
[demand]
requests_per_day=1500
routing=straight
[staff]
field_staff=2
SC
cat > ab.experiment <<'EX'
[experiment]
name=tiny A/B
base=base.scenario
replications=3
pre_days=0.02
metrics=trips_requested, trips_served, service_level, revenue_minor
[variant A]
[variant B]
pricing.unlock_minor=300
EX

# --jobs does not change a row
"$cli" experiment run ab.experiment --jobs 1 --out j1.db -q || fail "run --jobs 1"
"$cli" experiment run ab.experiment --jobs 2 --out j2.db -q || fail "run --jobs 2"
if [ -s j1.db ] && [ "$(rows j1.db | md5sum)" = "$(rows j2.db | md5sum)" ] && [ "$(rows j1.db | grep -c '|trips_served|')" = 6 ]; then
  ok "the same rows with --jobs 1 and --jobs 2 (6 runs x 4 metrics)"
else
  fail "rows differ between --jobs 1 and --jobs 2"
fi
if [ "$(sqlite3 j1.db "SELECT count(DISTINCT scenario) FROM runs WHERE replication = 0")" = 2 ] \
   && sqlite3 j1.db "SELECT scenario FROM runs WHERE variant = 'B' LIMIT 1" | grep -q '^unlock_minor=300'; then
  ok "each run's full scenario is stored"
else
  fail "run scenarios not stored"
fi

# GNU parallel from the job list, then merge: the same rows again
"$cli" experiment jobs ab.experiment --out par >/dev/null || fail "jobs"
if command -v parallel >/dev/null; then
  parallel -j 2 < par/jobs.txt && par/merge.sh >/dev/null
  if [ "$(rows par/results.db | md5sum)" = "$(rows j1.db | md5sum)" ]; then
    ok "GNU parallel's cells merge into the same rows"
  else
    fail "GNU parallel's merged rows differ"
  fi
else
  echo "skip - GNU parallel is not installed"
fi

# report: text, PDF
out=$("$cli" experiment report j1.db --pdf r.pdf)
if grep -q "B vs A" <<<"$out" && grep -q "trips_served" <<<"$out" && head -c 5 r.pdf | grep -q '%PDF-'; then
  ok "report prints the comparison and writes the PDF"
else
  fail "report: $out"
fi
if grep -E '^  trips_requested' <<<"$out" | grep -qE ' 0 +0\.00% +\[0, 0\]'; then
  ok "common random numbers: the same requests in both arms"
else
  fail "trips_requested differs between arms: $(grep trips_requested <<<"$out")"
fi

# bad input
sed 's/^replications=3/replications=0/' ab.experiment > zero.experiment
refused "replications: '0'" "zero replications refused" "$cli" experiment run zero.experiment --out z.db
sed 's/^pricing.unlock_minor=300/pricing.unlok_minor=300/' ab.experiment > typo.experiment
refused "[variant B] pricing.unlok_minor: unknown scenario key" "unknown variant key refused" \
  "$cli" experiment run typo.experiment --out t.db
printf '[variant C]\nfleet.initial_soc_min=0.9\nfleet.initial_soc_max=0.4\n' | cat ab.experiment - > rule.experiment
refused "[variant C] breaks a scenario rule" "a variant breaking a scenario rule refused" \
  "$cli" experiment run rule.experiment --out ru.db
[ ! -e z.db ] && [ ! -e t.db ] && [ ! -e ru.db ] && ok "refused experiments wrote nothing" || fail "a refused experiment wrote a file"
sed 's/^replications=3/replications=2/' ab.experiment > other.experiment
"$cli" experiment cell other.experiment --cell 0 --out other-cell.db || fail "cell"
refused "other-cell.db is from another experiment" "merge refuses another experiment's file, naming it" \
  "$cli" experiment merge m.db j1.db other-cell.db
[ ! -e m.db ] && ok "the refused merge wrote nothing" || fail "the refused merge wrote m.db"
refused "is not a cell of" "a cell outside the experiment refused" "$cli" experiment cell ab.experiment --cell 6 --out c.db

# an incomplete results file: reported on the pairs it has, and said so
"$cli" experiment cell ab.experiment --cell 0,1,2,3 --out part.db || fail "cell 0,1,2,3"
out=$("$cli" experiment report part.db 2>&1)
if grep -q "B, trips_served: 2 of 3 replications have both runs" <<<"$out"; then
  ok "an incomplete file's report says how many pairs it has"
else
  fail "incomplete report: $out"
fi

# a sweep and its Pareto view
cat > sw.experiment <<'EX'
[experiment]
name=tiny sweep
base=base.scenario
replications=1
metrics=service_level
[sweep]
fleet.scooters=60, 120
staff.field_staff=1, 3
EX
out=$("$cli" experiment sweep sw.experiment --jobs 2 --out sw.db --pdf sw.pdf -q)
if grep -q "Pareto view" <<<"$out" && [ "$(grep -c '^  p00' <<<"$out")" = 4 ] && grep -q '\*$' <<<"$out" \
   && head -c 5 sw.pdf | grep -q '%PDF-'; then
  ok "sweep prints 4 points with the Pareto front and plots it"
else
  fail "sweep: $out"
fi

# field designs (rider, zone, switchback): the same rows, field rows too,
# whatever --jobs; the report's bias table; a key that cannot be split
frows() { rows "$1"; sqlite3 "$1" 'SELECT * FROM field ORDER BY 1, 2, 3, 4;'; }
cat > fd.experiment <<'EX'
[experiment]
name=tiny field designs
base=base.scenario
design=rider, zone, switchback
replications=2
metrics=trips_served, revenue_minor
[field]
slice_min=20
washout_min=5
[variant off]
[variant on]
dynamic_pricing.policy=utilisation
dynamic_pricing.utilisation_high=0.3
dynamic_pricing.utilisation_low=0.1
EX
"$cli" experiment run fd.experiment --jobs 1 --out f1.db -q || fail "field run --jobs 1"
"$cli" experiment run fd.experiment --jobs 2 --out f2.db -q || fail "field run --jobs 2"
if [ -s f1.db ] && [ "$(frows f1.db | md5sum)" = "$(frows f2.db | md5sum)" ] \
   && [ "$(sqlite3 f1.db 'SELECT count(*) FROM field')" = 12 ] && [ "$(sqlite3 f1.db 'SELECT count(*) FROM runs')" = 10 ]; then
  ok "field designs: the same rows with --jobs 1 and --jobs 2 (10 runs, 12 field rows)"
else
  fail "field designs: rows differ between --jobs 1 and --jobs 2, or missing"
fi
out=$("$cli" experiment report f1.db)
if grep -q "Field designs against the whole-fleet truth" <<<"$out" && [ "$(grep -cE '^  (rider|zone|switchback) ' <<<"$out")" = 6 ]; then
  ok "report prints each field design's bias against the crn truth"
else
  fail "field report: $out"
fi
# the PDF: the comparison page of "on", then a field-design page per metric
"$cli" experiment report f1.db --pdf f1.pdf > /dev/null || fail "field report --pdf"
ftext=$(pdftotext f1.pdf - 2>/dev/null)
if [ "$(pdfinfo f1.pdf 2>/dev/null | awk '/^Pages:/ { print $2 }')" = 3 ] \
   && [ "$(grep -c "each design's estimate against the whole-fleet truth" <<<"$ftext")" = 2 ] \
   && grep -q "trips_served: each design" <<<"$ftext" && grep -q "revenue_minor: each design" <<<"$ftext"; then
  ok "the PDF report has a field-design page per metric"
else
  fail "field PDF: $(pdfinfo f1.pdf 2>&1 | grep Pages) / $ftext"
fi
sed 's/^dynamic_pricing.utilisation_high=0.3$/fleet.scooters=150/' fd.experiment > fdbad.experiment
refused "fleet.scooters: cannot be split per unit in a rider design" "a key that cannot be split per unit is refused, naming it" \
  "$cli" experiment run fdbad.experiment --out bad.db -q
sed 's/^slice_min=20$/slice_min=0/' fd.experiment > fdslice.experiment
refused "[field] slice_min: '0'" "a slice of 0 minutes is refused" "$cli" experiment run fdslice.experiment --out bad.db -q

echo "# $passed passed, $failed failed"
[ "$failed" -eq 0 ]
