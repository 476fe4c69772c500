#!/bin/sh
# tofino.sh - the open-source Tofino back end (p4c-barefoot) compiles every
# library query's TNA program through PHV allocation and table placement,
# within Tofino-1's 12 stages per gress: scripts/tofino_stages.py --check;
# with --combined and --refined also the program of all of them together
# and the refined variants (--force-refine --force-dp), each within 12
# stages per gress or refused at plan time by name; --group six: six
# queries with keyed operators in one program (the planner's stagger of
# several queries' chains, TNA_CHAIN_LAG).
# The programs still over 12 are listed, with their stages, in
# tests/p4/tofino_over12.txt (issue 21): they may not grow, and no other may
# pass 12. --planner: the planner's stage estimate (htsc explain) is the
# compiler's ingress stages or one more, for every program (issue 21). Then
# scripts/tofino_resources.py --check reads the same compiler output: the
# planner's SALUs and register memory must be the compiler's (docs/targets.md
# "Resources, planner against compiler"). Tools: scripts/p4tools.sh (exit 77
# outside CI when missing).
set -u
cd "$(dirname "$0")/../.."
HTSC=${HTSC:-bin/htsc}
[ -x "$HTSC" ] || { echo "tofino: $HTSC not built" >&2; exit 1; }
. scripts/p4tools.sh
p4tools_find p4c-barefoot || exit $?
keep=$(mktemp -d)
trap 'rm -rf "$keep"' EXIT
rc=0
python3 scripts/tofino_stages.py --htsc "$HTSC" --p4c "$P4T_p4c_barefoot" --jobs 2 \
    --combined --refined --check tests/p4/tofino_over12.txt --planner --keep "$keep" \
    --group six=completed_flow,new_tcp_conns,packet_size_histogram,syn_flood,tcp_out_of_order,tcp_retransmissions \
    || rc=1
python3 scripts/tofino_resources.py --htsc "$HTSC" --from "$keep" --check || rc=1
exit $rc
