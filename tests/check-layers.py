#!/usr/bin/env python3
"""check-layers.py BUILD_DIR — the layers as the compiler sees them.

Reads BUILD_DIR/compile_commands.json and, for every file under src/, the
include paths it is compiled with: src/ may see neither sim/ nor ui/ nor
GTK, and src/core and the modules below it may not see src/city (city
packs are for the simulated world and the front ends, not the core).
Prints each violation and exits 1 if there is any.
"""
import json
import os
import shlex
import sys

BELOW_CITY = {"common", "geo", "fleet", "accounts", "pricing", "payments",
              "booking", "ops", "store", "core"}


def include_dirs(entry):
    args = entry.get("arguments") or shlex.split(entry["command"])
    out, take = [], False
    for a in args:
        if take:
            out.append(a)
            take = False
        elif a == "-I":
            take = True
        elif a.startswith("-I"):
            out.append(a[2:])
    return [os.path.normpath(os.path.join(entry["directory"], d)) for d in out]


def main():
    build = os.path.abspath(sys.argv[1])
    with open(os.path.join(build, "compile_commands.json")) as f:
        db = json.load(f)
    source = None
    problems, checked = [], 0
    for e in db:
        path = os.path.normpath(os.path.join(e["directory"], e["file"]))
        parts = path.split(os.sep)
        if "src" not in parts:
            continue
        i = len(parts) - 1 - parts[::-1].index("src")
        if i + 2 >= len(parts) or parts[i + 1] == "src":
            continue
        source = os.sep.join(parts[:i])
        if path.startswith(build + os.sep):
            continue                       # generated files
        module = parts[i + 1]
        checked += 1
        rel = os.path.relpath(path, source)
        for d in include_dirs(e):
            if d.startswith(build + os.sep) or d == build:
                r = os.path.relpath(d, build)
            elif source and (d.startswith(source + os.sep) or d == source):
                r = os.path.relpath(d, source)
            else:
                r = None
            if r is not None:
                top = r.split(os.sep)[0]
                if top in ("sim", "ui", "tests"):
                    problems.append(f"{rel}: compiled with -I {d} ({top}/ is above src/)")
                if module in BELOW_CITY and r.split(os.sep)[:2] == ["src", "city"]:
                    problems.append(f"{rel}: src/{module} compiled with -I {d} (src/city is above it)")
            elif "gtk-4.0" in d or "libshumate" in d:
                problems.append(f"{rel}: compiled with -I {d} (src/ knows no GTK)")
    if checked == 0:
        print("check-layers: no src/ files in compile_commands.json", file=sys.stderr)
        return 1
    for p in sorted(set(problems)):
        print(p)
    print(f"check-layers: {checked} src/ files, {len(set(problems))} violations")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
