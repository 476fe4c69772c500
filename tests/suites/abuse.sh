#!/bin/sh
# abuse.sh - idle, flooding and malformed clients of htsd's metrics port do
# not slow the packet path: scrapes stay fast, the control loop's passes
# short, the export's time unchanged, every row delivered
# (tests/abuse/metrics_abuse.py says how and prints the figures).
set -u
cd "$(dirname "$0")/../.."
BIN=${BIN:-bin}
[ -x "$BIN/htsd" ] && [ -x "$BIN/htsc" ] || { echo "abuse: build first (make)" >&2; exit 1; }
export BIN
exec python3 tests/abuse/metrics_abuse.py
