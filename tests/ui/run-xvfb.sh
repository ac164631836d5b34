#!/bin/sh
# run-xvfb.sh — run a UI test binary on a private Xvfb display (xvfb-run -a).
exec xvfb-run -a -s "-screen 0 1400x900x24" "$@"
