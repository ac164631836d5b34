#!/usr/bin/env python3
# perf-spatial-share.py — the share of a bench-sim profile spent in the spatial
# part of the per-request path (grid searches and upkeep, geofence and zone
# lookups, polygon tests, the ops pick), by the first group a sample's stack
# matches. Usage:
#   perf record -F 150 --call-graph dwarf,16384 -o p.data build-rel/tests/sim/bench-sim straight 50000
#   perf script -i p.data -F ip,sym | tests/sim/perf-spatial-share.py
import sys, re, collections
# perf script output: sample header line, then stack frames (indented), blank line between samples
groups = [
 ('ops_best_open', re.compile(r'ft_ops_best_open|open_best_visit|best_indexed|best_open_bucketed')),
 ('booking_find', re.compile(r'^ft_booking_find$|find_visit')),
 ('rider_scan', re.compile(r'^find_vehicle$|scan_visit|any_visit|ft_grid_index_nearest|nearest_|rentable|low_visit')),
 ('geofence', re.compile(r'ft_geofences_|rules_from|raster_')),
 ('zone_at', re.compile(r'ft_city_zone_at')),
 ('pricing_poly', re.compile(r'ft_pricing_zone_multiplier')),
 ('grid_maint', re.compile(r'ft_grid_index_(insert|move|remove|has)|cell_add|cell_remove')),
 ('grid_visit_other', re.compile(r'ft_grid_index_visit|ft_grid_index_foreach')),
 ('polygon', re.compile(r'ft_multipolygon_contains')),
]
tot=0; cnt=collections.Counter(); anyc=0
stack=[]
def flush():
    global tot, anyc
    if not stack: return
    tot+=1
    hit=False
    # innermost first; attribute to the outermost-matching group? use first group matched anywhere in priority order
    names=[s for s in stack]
    for g,rx in groups:
        if any(rx.search(n) for n in names):
            cnt[g]+=1; hit=True; break
    if hit: anyc+=1
for line in sys.stdin:
    line=line.rstrip('\n')
    if not line.strip():
        flush(); stack=[]; continue
    if line.startswith('\t') or line.startswith(' '):
        parts=line.split()
        if len(parts)>=2:
            stack.append(parts[1].split('+')[0])
    else:
        stack=[]
flush()
print('samples',tot)
if tot == 0:
    sys.exit('perf-spatial-share: no samples with call chains on stdin (perf script -F ip,sym of a --call-graph record)')
for g,_ in groups: print('%-22s %5.1f%%'%(g,100*cnt[g]/tot))
print('%-22s %5.1f%%'%('SPATIAL total',100*anyc/tot))
