#!/usr/bin/env python3
"""Export GBFS 3.0 with fleet-twin-cli and validate every file against the
official JSON Schemas with python3-jsonschema (a real validator).

usage: validate-gbfs.py FLEET_TWIN_CLI SHARED_DATA_DIR
"""
import json, os, subprocess, sys, tempfile

cli, shared = sys.argv[1], sys.argv[2]
try:
    import jsonschema
except ImportError:
    print("python3-jsonschema is not installed", file=sys.stderr)
    sys.exit(1)

schemas = os.path.join(shared, "schemas", "gbfs", "v3.0")
failures = 0
checked = 0

def validate_dir(d, label):
    global failures, checked
    names = sorted(f for f in os.listdir(d) if f.endswith(".json"))
    expected = {"gbfs.json", "manifest.json", "system_information.json", "vehicle_types.json",
                "vehicle_status.json", "system_pricing_plans.json", "geofencing_zones.json"}
    missing = expected - set(names)
    if missing:
        print(f"{label}: missing {sorted(missing)}")
        failures += 1
    for name in names:
        with open(os.path.join(schemas, name)) as f:
            schema = json.load(f)
        with open(os.path.join(d, name)) as f:
            doc = json.load(f)
        v = jsonschema.validators.validator_for(schema)(schema)
        errs = sorted(v.iter_errors(doc), key=lambda e: list(e.path))
        checked += 1
        if errs:
            failures += 1
            print(f"{label}/{name}: {len(errs)} schema errors")
            for e in errs[:5]:
                print("   ", "/".join(map(str, e.path)), e.message[:200])
        else:
            print(f"{label}/{name}: valid")

with tempfile.TemporaryDirectory() as tmp:
    jobs = [
        ("tier-2.3-to-3.0", ["gbfs", "export", "--from",
                             os.path.join(shared, "gbfs", "tier_wolfsburg_2023-08-11")]),
        ("v3-fixtures", ["gbfs", "export", "--from",
                         os.path.join(shared, "gbfs", "mobilitydata_testfixtures_v3.0")]),
    ]
    # A simulated run, when the scenario runner is built in.
    help_text = subprocess.run([cli, "--help"], capture_output=True, text=True).stdout
    src = os.environ.get("FT_SOURCE_DIR", os.path.join(os.path.dirname(__file__), "..", ".."))
    scen = os.path.join(src, "scenarios", "demo-city-phase1.scenario")
    if "\n  run " in help_text and os.path.exists(scen):
        jobs.append(("demo-city-run", ["gbfs", "export", scen, "--at", "09:00", "--seed", "3"]))
    # Dynamic zone prices (issue 14): the multipliers are published as plan
    # variants, and each vehicle names the one that applies where it stands.
    levers = os.path.join(src, "scenarios", "demo-city-levers.scenario")
    if "\n  run " in help_text and os.path.exists(levers):
        jobs.append(("demo-city-levers", ["gbfs", "export", levers, "--at", "09:00", "--seed", "3"]))
    for label, args in jobs:
        out = os.path.join(tmp, label)
        r = subprocess.run([cli] + args + ["--out", out], capture_output=True, text=True)
        if r.returncode != 0:
            print(f"{label}: export failed ({r.returncode}): {r.stderr.strip()}")
            failures += 1
            continue
        validate_dir(out, label)
        if label == "demo-city-levers":
            with open(os.path.join(out, "system_pricing_plans.json")) as f:
                plans = {p["plan_id"]: p for p in json.load(f)["data"]["plans"]}
            with open(os.path.join(out, "vehicle_status.json")) as f:
                used = {v.get("pricing_plan_id") for v in json.load(f)["data"]["vehicles"]}
            surge = [p for p in plans.values() if p.get("surge_pricing")]
            checked += 1
            if not surge or not (used - {None}) <= set(plans) or not any(u in plans and plans[u].get("surge_pricing") for u in used):
                failures += 1
                print(f"{label}: no surge plan variant named by a vehicle ({len(surge)} surge plans)")
            else:
                print(f"{label}: {len(surge)} surge plan variants, every vehicle's plan is published")

print(f"gbfs-validate: {checked - failures} passed, {failures} failed")
sys.exit(1 if failures or checked == 0 else 0)
