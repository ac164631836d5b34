#!/usr/bin/env python3
"""The rider levers' four variants on the same seeds and demand: dynamic
pricing off/on x relocation incentives off/on, several replications each
with common random numbers (every variant of replication r uses the same
master seed and replication number, so arrivals, places, faults ... come
from the same named streams; the riders' price response and incentive
acceptance draw on streams of their own). Prints the KPI table: mean (and
standard deviation) per variant, then each variant's paired difference from
the all-off baseline with its standard deviation and a 95% t interval.

usage: levers-kpi-table.py FLEET_TWIN_CLI [SCENARIO] [--reps N] [--days D]
                           [--seed S] [--policy optimise|utilisation]

Run it with a release build, e.g.
  meson setup build-release --buildtype=release && ninja -C build-release ui/cli/fleet-twin-cli
  tests/sim/levers-kpi-table.py build-release/ui/cli/fleet-twin-cli --reps 5 --days 2
"""
import argparse, json, math, os, re, statistics, subprocess, sys, tempfile

here = os.path.dirname(os.path.abspath(__file__))
ap = argparse.ArgumentParser()
ap.add_argument("cli")
ap.add_argument("scenario", nargs="?",
                default=os.path.join(here, "..", "..", "scenarios", "demo-city-levers.scenario"))
ap.add_argument("--reps", type=int, default=5)
ap.add_argument("--days", type=float, default=2)
ap.add_argument("--seed", type=int, default=None)
ap.add_argument("--policy", default=None, help="override [dynamic_pricing] policy for the 'on' variants")
a = ap.parse_args()

base = open(a.scenario).read()
m = re.search(r"^policy\s*=\s*(\S+)", base, re.M)
policy_on = a.policy or (m.group(1) if m and m.group(1) != "off" else "optimise")


def variant_text(pricing, incentives):
    t = re.sub(r"^policy\s*=.*$", "policy=" + (policy_on if pricing else "off"), base, flags=re.M)
    t = re.sub(r"^enabled\s*=.*$", "enabled=" + ("true" if incentives else "false"), t, flags=re.M)
    if "[dynamic_pricing]" not in t:
        t += "\n[dynamic_pricing]\npolicy=%s\n" % (policy_on if pricing else "off")
    if "[incentives]" not in t:
        t += "\n[incentives]\nenabled=%s\n" % ("true" if incentives else "false")
    return t


variants = [("pricing off, incentives off", False, False), ("pricing on,  incentives off", True, False),
            ("pricing off, incentives on ", False, True), ("pricing on,  incentives on ", True, True)]
# (label, KPI key or function, format, scale)
cols = [
    ("revenue EUR", lambda k: k["revenue_minor"] / 100.0, "%.0f"),
    ("net of incent. EUR", lambda k: (k["revenue_minor"] - k.get("incentive_cost_minor", 0)) / 100.0, "%.0f"),
    ("served", lambda k: k["trips_served"], "%.0f"),
    ("lost", lambda k: k["trips_lost"], "%.0f"),
    ("lost no_vehicle", lambda k: k["lost_no_vehicle"], "%.0f"),
    ("lost low_battery", lambda k: k["lost_low_battery"], "%.0f"),
    ("lost price", lambda k: k["lost_price"], "%.0f"),
    ("lost refused", lambda k: k["lost_refused"], "%.0f"),
    ("incentive EUR", lambda k: k.get("incentive_cost_minor", 0) / 100.0, "%.0f"),
    ("incentive moves", lambda k: k.get("incentive_moves", 0), "%.0f"),
    ("rebalances", lambda k: k["rebalances"], "%.0f"),
    ("staff km", lambda k: k["staff_km"], "%.1f"),
    ("battery-unavail h", lambda k: k["battery_unavailable_hours"], "%.1f"),
    ("mean multiplier", lambda k: k.get("mean_price_multiplier", 1.0), "%.3f"),
]

# t quantiles (two-sided 95%) for small samples
T95 = {1: 12.706, 2: 4.303, 3: 3.182, 4: 2.776, 5: 2.571, 6: 2.447, 7: 2.365, 8: 2.306, 9: 2.262,
       10: 2.228, 15: 2.131, 20: 2.086, 30: 2.042}


def t95(df):
    if df in T95:
        return T95[df]
    return T95[max(k for k in T95 if k <= df)] if df < 30 else 1.96


results = {}   # (variant index, rep) -> kpis
with tempfile.TemporaryDirectory() as tmp:
    for vi, (label, pr, inc) in enumerate(variants):
        path = os.path.join(tmp, "v%d.scenario" % vi)
        with open(path, "w") as f:
            f.write(variant_text(pr, inc))
        for r in range(a.reps):
            args = [a.cli, "run", path, "--days", str(a.days), "--replication", str(r), "-q", "-j"]
            if a.seed is not None:
                args += ["--seed", str(a.seed)]
            p = subprocess.run(args, capture_output=True, text=True)
            if p.returncode != 0:
                print("run failed (%s, rep %d): %s" % (label, r, p.stderr.strip()), file=sys.stderr)
                sys.exit(1)
            k = json.loads(p.stdout[p.stdout.index("{"):])
            if not k.get("ledger_balanced", False):
                print("ledger not balanced (%s, rep %d)" % (label, r), file=sys.stderr)
                sys.exit(1)
            results[(vi, r)] = k
            print("  ran %s rep %d" % (label.strip(), r), file=sys.stderr)

print("Rider levers: %s, %g days, %d replications per variant (common random numbers), "
      "pricing policy '%s'" % (os.path.basename(a.scenario), a.days, a.reps, policy_on))
print()
print("Means (standard deviation over replications)")
w = 28
print("%-*s" % (w, "KPI") + "".join("%30s" % v[0].strip() for v in variants))
for name, fn, fmt in cols:
    row = "%-*s" % (w, name)
    for vi in range(len(variants)):
        xs = [fn(results[(vi, r)]) for r in range(a.reps)]
        sd = statistics.stdev(xs) if len(xs) > 1 else 0.0
        row += "%30s" % ((fmt % statistics.mean(xs)) + " (" + (fmt % sd) + ")")
    print(row)
print()
print("Paired differences from 'pricing off, incentives off': mean +- sd [95% interval]")
print("%-*s" % (w, "KPI") + "".join("%36s" % v[0].strip() for v in variants[1:]))
for name, fn, fmt in cols:
    row = "%-*s" % (w, name)
    for vi in range(1, len(variants)):
        ds = [fn(results[(vi, r)]) - fn(results[(0, r)]) for r in range(a.reps)]
        mean = statistics.mean(ds)
        sd = statistics.stdev(ds) if len(ds) > 1 else 0.0
        h = t95(len(ds) - 1) * sd / math.sqrt(len(ds)) if len(ds) > 1 else 0.0
        cell = ("%+" + fmt[1:]) % mean + " +- " + (fmt % sd) + " [" + (("%+" + fmt[1:]) % (mean - h)) + \
            "," + (("%+" + fmt[1:]) % (mean + h)) + "]"
        row += "%36s" % cell
    print(row)
