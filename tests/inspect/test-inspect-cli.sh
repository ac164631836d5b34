#!/bin/sh
# test-inspect-cli.sh CLI SHARED_DATA — `fleet-twin-cli inspect` on real
# files: one tab-separated line (decision, score, regions, reason), --json,
# a photo of something else (review with the reason), and bad input (a text
# file, a truncated JPEG, a missing file): a message naming the file, exit
# 1, never a crash.
set -eu
cli=$1
photos=$2/photos
tmp=$(mktemp -d "${TMPDIR:-/tmp}/ft-inspect-cli-XXXXXX")
trap 'rm -rf "$tmp"' EXIT
fail () { echo "FAIL: $*" >&2; exit 1; }

"$cli" inspect "$photos/escooter_18.jpg" "$photos/escooter_18.jpg" > "$tmp/same.tsv"
[ "$(awk -F'\t' '{print NF}' "$tmp/same.tsv")" = 4 ] || fail "not 4 columns: $(cat "$tmp/same.tsv")"
[ "$(cut -f1 "$tmp/same.tsv")" = ok ] || fail "same photo not ok: $(cat "$tmp/same.tsv")"

"$cli" inspect "$photos/escooter_18.jpg" "$photos/escooter_25.jpg" > "$tmp/other.tsv"
[ "$(cut -f1 "$tmp/other.tsv")" = review ] || fail "other photo not review: $(cat "$tmp/other.tsv")"
grep -q "alignment failed" "$tmp/other.tsv" || fail "no reason: $(cat "$tmp/other.tsv")"

"$cli" inspect --json "$photos/escooter_18.jpg" "$photos/escooter_25.jpg" > "$tmp/other.json"
python3 - "$tmp/other.json" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
assert d["decision"] == "review" and d["alignment"]["ok"] is False, d
assert len(d["phash"]) == 16 and "quality" in d, d
PY

echo "not an image" > "$tmp/text.jpg"
head -c 3000 "$photos/escooter_18.jpg" > "$tmp/cut.jpg"
for bad in "$tmp/text.jpg" "$tmp/missing.jpg"; do
  if "$cli" inspect "$photos/escooter_18.jpg" "$bad" > "$tmp/out" 2> "$tmp/err"; then
    fail "$bad accepted"
  fi
  st=$?
  grep -q "$bad" "$tmp/err" || fail "message does not name $bad: $(cat "$tmp/err")"
done
# a truncated JPEG decodes (grey below the cut) or is refused; never a crash
set +e
"$cli" inspect "$photos/escooter_18.jpg" "$tmp/cut.jpg" > "$tmp/out" 2> "$tmp/err"
st=$?
set -e
[ $st -le 1 ] || fail "truncated JPEG: exit $st"
echo "inspect CLI: ok"
