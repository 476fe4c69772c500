#!/bin/sh
# refine.sh - refinement is chosen where it pays, and stays exact there.
#
# On a capture where many light destinations (spread over /8s that never
# reach the threshold) compete with a few heavy ones for 1024 register
# slots (gen_refine.py), the planner must refine new_tcp_conns at /8 on its
# own (no --force-refine), the host's rows must equal the executor's, and
# the data-plane model must send fewer records than the same query planned
# without its refine hint. Prints both record counts.
set -u
HTSC=${HTSC:-bin/htsc}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cap=$tmp/refine.pcap
python3 tests/partition/gen_refine.py "$cap" || exit 1
sed 's| refine ipv4.dst by /8, /32||' queries/new_tcp_conns.htq > "$tmp/plain.htq"
grep -q refine "$tmp/plain.htq" && { echo "refine: could not drop the hint" >&2; exit 1; }
"$HTSC" run queries/new_tcp_conns.htq --pcap "$cap" > "$tmp/want.txt" || exit 1
[ -s "$tmp/want.txt" ] || { echo "refine: the executor found no rows: the capture is wrong" >&2; exit 1; }
records() { # records DIR QUERY.htq NAME: compile, emulate, host; prints records
    "$HTSC" compile "$2" --target tofino --registers 1024 --train "$cap" -o "$1" \
        --plan-only || exit 1
    "$HTSC" emulate "$1/$3.plan.json" --pcap "$cap" -o "$1/r.pcap" --stats \
        2>"$1/stats.txt" || exit 1
    "$HTSC" host "$1/$3.plan.json" --reports "$1/r.pcap" > "$1/rows.txt" || exit 1
    cmp -s "$tmp/want.txt" "$1/rows.txt" || {
        echo "refine: $3: host rows differ from the executor's" >&2
        diff "$tmp/want.txt" "$1/rows.txt" | head >&2
        exit 1
    }
    sed -n 's/.*frames out: \([0-9]*\) tuple, \([0-9]*\) row, \([0-9]*\) packet, \([0-9]*\) partial.*/\1 \2 \3 \4/p' \
        "$1/stats.txt" | awk '{ print $1 + $2 + $3 + $4 }'
}
refined=$(records "$tmp/r" queries/new_tcp_conns.htq new_tcp_conns) || exit 1
grep -q '"refine": 8' "$tmp/r/new_tcp_conns.plan.json" || {
    echo "refine: the planner did not refine new_tcp_conns at /8 on this capture" >&2
    exit 1
}
plain=$(records "$tmp/p" "$tmp/plain.htq" plain) || exit 1
gated=$(sed -n 's/.* \([0-9]*\) gated.*/\1/p' "$tmp/r/stats.txt")
echo "refine: new_tcp_conns, 1024 slots: refined at /8 $refined records ($gated gated), unrefined $plain records; rows equal the executor's"
[ "$refined" -lt "$plain" ] || { echo "refine: refinement did not pay" >&2; exit 1; }
