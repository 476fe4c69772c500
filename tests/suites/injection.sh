#!/bin/sh
# injection.sh - names and strings from queries cannot inject text into the
# generated P4 or change what the JIT reads and writes.
#
# tests/injection/names.htq names queries, sub-queries, parameters and
# columns after P4 keywords and the generator's own identifiers (control,
# apply, ingress, egress, hdr, meta, main, table, action, register, extern);
# strings.htq puts comment terminators, quotes, backslashes, newlines, NUL
# and high bytes in string tests. For each: the P4 for v1model and for tofino
# (TNA) passes the structural checker and neither it nor its entries contain
# any of the raw strings; the data-plane
# model plus host part give htsc run's rows; the JIT gives the executor's.
set -u
BUILD=${BUILD:-build}
BIN=${BIN:-bin}
HTSC=$BIN/htsc
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail=0
D=tests/data
for q in tests/injection/names.htq tests/injection/strings.htq; do
    name=$(basename "$q" .htq)
    out="$tmp/$name"
    mkdir -p "$out"
    if ! "$HTSC" compile "$q" --target v1model -o "$out" >"$tmp/log" 2>&1 ||
       ! "$HTSC" compile "$q" --target tofino -o "$out/tofino" >"$tmp/log" 2>&1; then
        echo "FAIL $name: compile"; cat "$tmp/log"; fail=1; continue
    fi
    for p4 in "$out"/*.p4 "$out"/tofino/*.p4; do
        if ! python3 tests/p4/p4check.py "$p4" >"$tmp/log" 2>&1; then
            echo "FAIL $name: generated P4 fails the checker ($p4)"; cat "$tmp/log"; fail=1
        fi
    done
    if grep -q -F -e '*/ }' -e 'drop();"' -e '\x00' "$out"/*.p4 "$out"/*.entries \
            "$out"/tofino/*.p4 "$out"/tofino/*.entries; then
        echo "FAIL $name: a query string appears as text in the generated P4"; fail=1
    fi
    total=0
    for cap in $D/http_espn.pcap $D/ftp_brute_force.pcap $D/dns_exfiltration.pcap; do
        "$HTSC" run --max-delay 0 "$q" --pcap "$cap" >"$tmp/want"
        total=$((total + $(wc -l <"$tmp/want")))
        "$HTSC" emulate "$out"/*.plan.json --pcap "$cap" -o "$tmp/r.pcap" >/dev/null 2>&1 &&
            "$HTSC" host "$out"/*.plan.json --reports "$tmp/r.pcap" >"$tmp/got" 2>/dev/null
        if ! cmp -s "$tmp/want" "$tmp/got"; then
            echo "FAIL $name on $(basename $cap): model + host differ from htsc run"; fail=1
        fi
    done
    [ "$total" -gt 0 ] || { echo "FAIL $name: no rows on any capture: proves nothing"; fail=1; }
    if ! "$BUILD/tools/jit_check" --quiet $D/http_espn.pcap $D/ftp_brute_force.pcap $D/dns_exfiltration.pcap "$q" >"$tmp/log" 2>&1; then
        echo "FAIL $name: JIT differs from the executor"; tail -5 "$tmp/log"; fail=1
    fi
    [ $fail -eq 0 ] && echo "ok   $name: P4 (v1model, tofino) checked, no raw strings in it; model+host and JIT equal the executor ($total rows)"
done
exit $fail
