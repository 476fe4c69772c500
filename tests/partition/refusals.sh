#!/bin/sh
# refusals.sh - plan files and report frames that must be refused, clearly.
set -u
HTSC=${HTSC:-bin/htsc}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail=0
expect() { # expect NAME PATTERN COMMAND...: must fail and say PATTERN
    name=$1 pat=$2; shift 2
    if out=$("$@" 2>&1); then
        echo "refusals: $name: accepted" >&2; fail=1
    elif ! printf '%s' "$out" | grep -q -- "$pat"; then
        echo "refusals: $name: message lacks '$pat': $out" >&2; fail=1
    fi
}
"$HTSC" compile queries/new_tcp_conns.htq --target tofino -o "$tmp/a" --set threshold=1 --plan-only || exit 1
"$HTSC" compile queries/new_tcp_conns.htq --target tofino -o "$tmp/b" --set threshold=2 --plan-only || exit 1
plan=$tmp/a/new_tcp_conns.plan.json
"$HTSC" emulate "$plan" --pcap tests/data/syn_flood_spoofed.pcap -o "$tmp/r.pcap" || exit 1
"$HTSC" host "$plan" --reports "$tmp/r.pcap" >/dev/null || { echo "refusals: own reports refused" >&2; exit 1; }
# a newer format
sed 's/"format": 1,/"format": 2,/' "$plan" >"$tmp/newer.json"
expect newer "format 2 is newer" "$HTSC" host "$tmp/newer.json" --reports "$tmp/r.pcap"
# corrupted JSON
head -c 300 "$plan" >"$tmp/cut.json"
expect corrupt "JSON" "$HTSC" host "$tmp/cut.json" --reports "$tmp/r.pcap"
# content changed, fingerprint not
sed 's/"slots": 32768/"slots": 16384/' "$plan" >"$tmp/edited.json"
cmp -s "$plan" "$tmp/edited.json" && sed 's/"max_frame": 1514/"max_frame": 1500/' "$plan" >"$tmp/edited.json"
expect edited "does not match the content" "$HTSC" host "$tmp/edited.json" --reports "$tmp/r.pcap"
# reports of another plan: every frame refused for its fingerprint
expect fingerprint "another plan" "$HTSC" host "$tmp/b/new_tcp_conns.plan.json" --reports "$tmp/r.pcap"
# a capture that is not reports: counted as other traffic, no rows, exit 0
"$HTSC" host "$plan" --reports tests/data/syn_flood_spoofed.pcap --stats 2>"$tmp/st" >/dev/null ||
    { echo "refusals: non-report frames made host fail" >&2; fail=1; }
grep -q "not a report frame" "$tmp/st" || { echo "refusals: non-report frames not counted" >&2; fail=1; }
# explain --target: the cut, the stage table, a proven optimum; --dot renders
# (six queries: all 22 together do not fit Tofino's mirror header, refused by
# name: p4.sh checks that)
six="completed_flow new_tcp_conns packet_size_histogram syn_flood tcp_out_of_order tcp_retransmissions"
# shellcheck disable=SC2046 # the six files: words
"$HTSC" explain --target tofino $(for q in $six; do echo queries/$q.htq; done) >"$tmp/explain" 2>&1 ||
    { echo "refusals: explain failed" >&2; fail=1; }
grep -q "^plan: optimal: integer program" "$tmp/explain" || { echo "refusals: explain: no proven optimum" >&2; fail=1; }
grep -q "stage 11:" "$tmp/explain" || { echo "refusals: explain: no per-stage resources" >&2; fail=1; }
# the mirror header as the planner fills it (Tofino: 48 bytes, 4 frames),
# within the limits; none for v1model
m=$(sed -n 's/^  mirror header \([0-9]*\) of 48 bytes (17 fixed), \([0-9]*\) of 4 records.*/\1 \2/p' "$tmp/explain")
[ -n "$m" ] && [ "${m% *}" -ge 17 ] && [ "${m% *}" -le 48 ] && [ "${m#* }" -le 4 ] ||
    { echo "refusals: explain: no mirror header line within 48 bytes and 4 frames: '$m'" >&2; fail=1; }
"$HTSC" explain --target v1model queries/syn_flood.htq | grep -q "mirror header" &&
    { echo "refusals: explain: a mirror header line for v1model" >&2; fail=1; }
"$HTSC" explain --target tofino --dot queries/syn_flood.htq | dot -Tsvg >/dev/null ||
    { echo "refusals: explain --dot does not render" >&2; fail=1; }
# a filter mixing data-plane and host-only tests (planner/split.c): split for
# a target with a parser, the data-plane half reporting whole packets; kept
# whole for target none and in the IR as written
"$HTSC" explain --target v1model queries/dns_reflection.htq >"$tmp/split" 2>&1
grep -Eq '^  %1 +filter +dp +stream +stage 0 +\(udp.sport == 53\)  -> packet records$' "$tmp/split" &&
    grep -Eq '^  %2 +filter +host +\(dns.an.types has DNS_RRSIG\)$' "$tmp/split" ||
    { echo "refusals: explain: dns_reflection's filter is not split for v1model" >&2; fail=1; }
"$HTSC" explain --target none queries/dns_reflection.htq >"$tmp/split" 2>&1
grep -Eq '^  %1 +filter +host +\(\(udp.sport == 53\) and \(dns.an.types has DNS_RRSIG\)\)$' "$tmp/split" ||
    { echo "refusals: explain: dns_reflection's filter is split for none" >&2; fail=1; }
"$HTSC" explain queries/dns_reflection.htq | grep -q '^  %1 = filter(%0) ((udp.sport == 53) and' ||
    { echo "refusals: explain: the IR as written is split" >&2; fail=1; }
[ $fail = 0 ] && echo "refusals: plan and report refusals ok, explain ok"
exit $fail
