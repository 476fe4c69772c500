#!/bin/sh
# partition.sh - the data-plane/host split gives the executor's rows.
#
# tests/partition/diff.py: for every library query, capture and target model,
# rows(htsc run) == rows(htsc host on htsc emulate(capture)), row for row,
# also with 4-slot registers (collisions, overflow and spill paths) and with
# every query in one plan, and refined (--force-refine); four queries on
# tofino whose plan sends frames for the mirror header. Then refinement
# chosen by the planner where it pays (refine.sh), the plan loader's refusals (format, JSON,
# fingerprint) and the report decoder's (fingerprint).
set -eu
HTSC=${HTSC:-bin/htsc}
[ -x "$HTSC" ] || { echo "partition: $HTSC not built" >&2; exit 1; }
python3 tests/partition/diff.py
# four queries together on tofino fill the mirror header: the planner sends
# one as frames (plan_node.frame); their rows stay exact
four="heavy_hitter latency_ewma slowloris ssh_brute"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
# shellcheck disable=SC2046 # the four files: words
"$HTSC" compile $(for q in $four; do echo queries/$q.htq; done) --target tofino --plan-only \
    -o "$tmp"
grep -q '"frame": true' "$tmp"/*.plan.json ||
    { echo "partition: no frame in the tofino plan of $four" >&2; exit 1; }
# shellcheck disable=SC2086 # the four names: words
python3 tests/partition/diff.py $four
sh tests/partition/refine.sh
sh tests/partition/refusals.sh
