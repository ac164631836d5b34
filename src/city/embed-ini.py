#!/usr/bin/env python3
# embed-ini.py — turns data/demo-city.ini into a C header holding the text as
# a string constant, so the program carries its built-in Demo City
# parameters from the same file that `city generate --params` reads.
import sys

src = open(sys.argv[1], encoding="utf-8").read()
out = ["/* generated from data/demo-city.ini by src/city/embed-ini.py: do not edit */",
       "static const char ft_demo_city_ini[] ="]
for line in src.splitlines(True):
    esc = line.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
    out.append('  "' + esc + '"')
out.append('  "";')
with open(sys.argv[2], "w", encoding="utf-8") as f:
    f.write("\n".join(out) + "\n")
