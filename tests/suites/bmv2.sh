#!/bin/sh
# bmv2.sh - the generated v1model P4 runs on BMv2's simple_switch with htscp
# closing its windows: htsd's rows from its report frames equal `htsc run`'s
# and their records equal the data-plane model's (tests/bmv2/bmv2_diff.py
# says how). Tools:
# scripts/p4tools.sh (PATH, then $HTS_P4TOOLS/bin); exit 77 when they are
# missing outside CI (tests/run.sh prints the suite as NOT RUN).
set -u
cd "$(dirname "$0")/../.."
BIN=${BIN:-bin}
BUILD=${BUILD:-build}
. scripts/p4tools.sh
p4tools_find simple_switch simple_switch_CLI p4c-bm2-ss || exit $?
[ -x "$BUILD/tools/tsshim" ] && [ -x "$BIN/htsd" ] && [ -x "$BIN/htscp" ] || { echo "bmv2: build first (make)" >&2; exit 1; }
if [ "$(id -u)" != 0 ]; then # veth pairs and raw sockets
    echo "bmv2: needs root (it wires simple_switch, htscp and the harness with veth pairs)" >&2
    [ "${HTS_P4TOOLS_REQUIRED:-}" = 1 ] && exit 1
    exit 77
fi
export BIN BUILD P4T_simple_switch P4T_simple_switch_CLI P4T_p4c_bm2_ss
exec python3 tests/bmv2/bmv2_diff.py
