#!/usr/bin/env python3
"""check-flatpak.py — what can be checked of the Flatpak manifest offline
(no runtimes here): it parses, runs on the GNOME runtime, builds the
libraries the runtime lacks as modules before fleet-twin, pins every remote
source to a tag or commit, and flatpak-builder reads it (--show-manifest)
when installed. Usage: check-flatpak.py MANIFEST"""
import json
import shutil
import os
import subprocess
import sys
import tempfile

path = sys.argv[1]
errors = []
with open(path, encoding="utf-8") as f:
    m = json.load(f)
if m.get("id") != "org.mobilitycorp.FleetTwin":
    errors.append("id is not org.mobilitycorp.FleetTwin")
if m.get("runtime") != "org.gnome.Platform" or m.get("sdk") != "org.gnome.Sdk":
    errors.append("runtime/sdk are not org.gnome.Platform/org.gnome.Sdk")
if m.get("command") != "fleet-twin":
    errors.append("command is not fleet-twin")
names = [mod["name"] for mod in m.get("modules", [])]
for need in ("gsl", "glpk", "mosquitto", "xgboost", "protozero", "libosmium", "liblinear", "opencv", "libshumate"):
    if need not in names:
        errors.append(f"no module {need}")
if not names or names[-1] != "fleet-twin":
    errors.append("fleet-twin is not the last module")
for mod in m.get("modules", []):
    for src in mod.get("sources", []):
        kind = src.get("type")
        if kind == "git" and not (src.get("tag") or src.get("commit")):
            errors.append(f"{mod['name']}: git source without tag or commit")
        if kind in ("archive", "file") and not src.get("sha256"):
            errors.append(f"{mod['name']}: {kind} source without sha256")
if shutil.which("flatpak-builder"):
    # flatpak-builder leaves a .flatpak-builder/ state folder in its working folder
    with tempfile.TemporaryDirectory() as scratch:
        r = subprocess.run(["flatpak-builder", "--show-manifest", os.path.abspath(path)],
                           capture_output=True, text=True, cwd=scratch)
    if r.returncode != 0:
        errors.append("flatpak-builder --show-manifest: " + r.stderr.strip())
for e in errors:
    print(f"{path}: {e}", file=sys.stderr)
print(f"check-flatpak: {len(names)} modules, {'ok' if not errors else f'{len(errors)} problems'}")
sys.exit(1 if errors else 0)
