#!/usr/bin/env python3
"""maint-ceiling.py RUN.db [TEST_DAYS] — how much any fault-risk model can
find in a run's event log: rows as `maintenance backtest` makes them (every
6 h over the last TEST_DAYS, default 4, each vehicle not faulted then, 24 h
followed), labelled "fault within 24 h", and the ROC AUC of ranking them by
the km ridden in the last 24 h, the last 72 h, and — known only afterwards —
the next 24 h (the ceiling when faults are drawn per km ridden).
Reads the database read-only with Python's sqlite3; event kinds as numbered
in src/common/ft-event.h.
"""
import collections
import sqlite3
import sys

BOOKING_ENDED, VEHICLE_FAULT = 16, 27
H = 3600 * 1000
D = 24 * H


def auc(score, label):
    pairs = sorted(zip(score, label))
    pos = sum(label)
    neg = len(label) - pos
    rank_sum, i = 0.0, 0
    while i < len(pairs):
        j = i
        while j < len(pairs) and pairs[j][0] == pairs[i][0]:
            j += 1
        rank_sum += (i + 1 + j) / 2 * sum(1 for q in range(i, j) if pairs[q][1])
        i = j
    return (rank_sum - pos * (pos + 1) / 2) / (pos * neg)


def main():
    db = sqlite3.connect(f"file:{sys.argv[1]}?mode=ro", uri=True)
    test_days = int(sys.argv[2]) if len(sys.argv) > 2 else 4
    trips = collections.defaultdict(list)
    faults = collections.defaultdict(list)
    for t, kind, v, b, amount in db.execute(
            "SELECT t, kind, vehicle, b, amount FROM events WHERE kind IN (?, ?) ORDER BY seq",
            (BOOKING_ENDED, VEHICLE_FAULT)):
        (trips[v].append((t, b)) if kind == BOOKING_ENDED else faults[v].append((t, amount)))
    end = db.execute("SELECT max(t) FROM events").fetchone()[0]
    vehicles = db.execute("SELECT count(*) FROM vehicles").fetchone()[0]
    rows = []
    t0 = end - test_days * D
    T = t0
    while T + D <= end:
        for v in range(vehicles):
            down = False
            for t, a in faults[v]:
                if t < T:
                    down = a != 0
            if down:
                continue
            rows.append((v, T, any(a != 0 and T <= t <= T + D for t, a in faults[v])))
        T += 6 * H
    label = [r[2] for r in rows]
    print(f"{len(rows)} rows, {sum(label)} followed by a fault within 24 h")
    for name, lo, hi in (("km in the last 24 h", -D, 0), ("km in the last 72 h", -3 * D, 0),
                         ("km in the next 24 h (hindsight)", 0, D)):
        score = [sum(b for t, b in trips[v] if T + lo <= t < T + hi) for v, T, _ in rows]
        print(f"AUC of {name:32s} {auc(score, label):.3f}")


if __name__ == "__main__":
    main()
