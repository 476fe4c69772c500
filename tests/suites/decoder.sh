#!/bin/sh
# decoder.sh - the packet decoder against tshark on every capture in
# tests/data: every catalogue field, packet by packet (known, narrow
# differences are listed in the script with their reasons).
set -u
BUILD=${BUILD:-build}
exec python3 tests/decoder/compare_tshark.py "$BUILD/tools/dumpfields" tests/data
