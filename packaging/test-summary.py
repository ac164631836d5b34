#!/usr/bin/env python3
"""Print a one-line summary of a meson test log: 'tests: N passed, N failed'."""
import json, sys

passed = failed = skipped = 0
checks = 0
with open(sys.argv[1]) as f:
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
