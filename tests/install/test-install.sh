#!/usr/bin/env bash
# test-install.sh — the install-prefix lookup as an installed program meets
# it: `meson install` into a DESTDIR, then the installed fleet-twin-cli runs
# an installed scenario by name from a folder outside the source tree (and
# finds the installed copy, not the source tree's), and a scenario naming a
# relative city pack resolves it against the scenario's own folder.
#
#   test-install.sh MESON BUILD_ROOT PREFIX BINDIR DATADIR
set -euo pipefail
meson=$1 build=$2 prefix=$3 bindir=$4 datadir=$5

tmp=$(mktemp -d "${TMPDIR:-/tmp}/ft-install-XXXXXX")
trap 'rm -rf "$tmp"' EXIT
fail() { echo "test-install: FAIL: $*" >&2; exit 1; }

"$meson" install -C "$build" --destdir "$tmp/dest" --no-rebuild --quiet >"$tmp/install.log" 2>&1 \
  || { cat "$tmp/install.log" >&2; fail "meson install into a DESTDIR"; }
root=$tmp/dest$prefix
cli=$root/$bindir/fleet-twin-cli
data=$root/$datadir/fleet-twin
[ -x "$cli" ] || fail "no installed $cli"
for f in scenarios/demo-city-phase1.scenario demo-city.mbtiles experiments/null-demo.experiment \
         assist/train.tsv assist/heldout.tsv; do
  [ -f "$data/$f" ] || fail "no installed $data/$f"
done

# Mark the installed copy, so that finding the source tree's shows.
sed -i 's/^name=.*/name=Installed copy of Phase 1/' "$data/scenarios/demo-city-phase1.scenario"

mkdir "$tmp/elsewhere"
cd "$tmp/elsewhere"
# Only what a user's shell has: no test variables pointing at the tree.
run() { env -u FT_SOURCE_DIR -u FT_DATA_DIR -u FT_SHARED_DATA_DIR -u FT_DEMO_TILES "$@"; }

run "$cli" run demo-city-phase1 --days 0.02 --seed 7 --quiet --json >"$tmp/run.json" 2>"$tmp/run.err" \
  || { cat "$tmp/run.err" >&2; fail "installed fleet-twin-cli run demo-city-phase1"; }
grep -q '"Installed copy of Phase 1"' "$tmp/run.json" \
  || { head -c 600 "$tmp/run.json" >&2; fail "the run did not use the installed scenario"; }

# An unknown name: a clear error naming the installed folder, exit 1.
set +e
run "$cli" run no-such-scenario --quiet >"$tmp/out" 2>"$tmp/err"
rc=$?
set -e
[ $rc -eq 1 ] || fail "unknown scenario exited $rc"
grep -q "scenario 'no-such-scenario' not found.*$data/scenarios" "$tmp/err" \
  || { cat "$tmp/err" >&2; fail "unknown scenario: no message naming $data/scenarios"; }
if grep -q "${FT_SOURCE_DIR:-/nonexistent-source}" "$tmp/err"; then
  cat "$tmp/err" >&2; fail "an installed program named the source tree"
fi

# A scenario naming a relative city pack: resolved against its own folder.
mkdir "$tmp/mine"
run "$cli" city generate --out "$tmp/mine/town" >"$tmp/gen.log" 2>&1 \
  || { cat "$tmp/gen.log" >&2; fail "city generate"; }
printf '[scenario]\nname=Relative pack\ncity=town\ndays=0.02\n[fleet]\nscooters=50\nbikes=0\nmopeds=0\n' \
  >"$tmp/mine/relative.scenario"
run "$cli" run "$tmp/mine/relative.scenario" --quiet --json >"$tmp/rel.json" 2>"$tmp/rel.err" \
  || { cat "$tmp/rel.err" >&2; fail "a scenario with a relative city pack, run from another folder"; }
grep -q '"Relative pack"' "$tmp/rel.json" || fail "relative scenario: no KPIs"
echo "test-install: installed CLI ran installed and relative scenarios from $tmp/elsewhere"
