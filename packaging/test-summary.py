#!/usr/bin/env python3
"""Print a one-line summary of meson test logs: 'tests: N passed, N failed'.

Several logs (the main suite and the fuzz suite) are added up; a log that
is missing counts as one failed test, since its suite did not run."""
import json, os, sys

passed = failed = skipped = 0
for log in sys.argv[1:]:
    if not os.path.exists(log):
        print(f"test-summary: {log} is missing", file=sys.stderr)
        failed += 1
        continue
    with open(log) as f:
        for line in f:
            line = line.strip()
            if not line:
                continue
            r = json.loads(line)
            res = r.get('result')
            if res in ('OK', 'EXPECTEDFAIL'):
                passed += 1
            elif res == 'SKIP':
                skipped += 1
            else:
                failed += 1
print(f"tests: {passed} passed, {failed} failed" + (f", {skipped} skipped" if skipped else ""))
