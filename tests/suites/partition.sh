#!/bin/sh
# partition.sh - the data-plane/host split gives the executor's rows.
#
# tests/partition/diff.py: for every library query, capture and target model,
# rows(htsc run) == rows(htsc host on htsc emulate(capture)), row for row,
# also with 4-slot registers (collisions, overflow and spill paths) and with
# every query in one plan, and refined (--force-refine). Then refinement
# chosen by the planner where it pays (refine.sh), the plan loader's refusals (format, JSON,
# fingerprint) and the report decoder's (fingerprint).
set -eu
HTSC=${HTSC:-bin/htsc}
[ -x "$HTSC" ] || { echo "partition: $HTSC not built" >&2; exit 1; }
python3 tests/partition/diff.py
sh tests/partition/refine.sh
sh tests/partition/refusals.sh
