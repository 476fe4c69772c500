#!/bin/sh
# htsd_report.sh - htsd in report mode: the data plane's report frames (made
# by the data-plane model, htsc emulate) arrive on a DPDK port and htsd's
# rows equal the reference executor's on the original packets (also for a
# refined plan: gated tuples and partial records merged by htsd); and a plan
# for target none runs in raw mode on the packets themselves.
set -u
BIN=${BIN:-bin}
HTSC=$BIN/htsc
HTSD=$BIN/htsd
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
EAL="--no-huge --no-pci -m 256 --no-shconf --log-level=error --lcores 0@0,1@1"
fail=0
n=0
D=tests/data

# case TARGET CAPTURE QUERIES... -- SETS...   (EXTRA: more htsc compile flags)
case_() {
    target=$1 cap=$2
    shift 2
    qs=""
    while [ "$1" != "--" ]; do qs="$qs $1"; shift; done
    shift
    sets=""
    for s in "$@"; do sets="$sets --set $s"; done
    n=$((n + 1))
    out="$tmp/p$n"
    mkdir -p "$out"
    only=""
    # shellcheck disable=SC2086
    "$HTSC" compile $qs --target "$target" -o "$out" $only $sets ${EXTRA:-} >"$tmp/log" 2>&1 || {
        echo "FAIL compile$qs for $target"; cat "$tmp/log"; fail=1; return; }
    plan=$(ls "$out"/*.plan.json)
    case "${EXTRA:-}" in *--force-refine*)
        grep -q '"refine"' "$plan" || { echo "FAIL $plan: nothing refined"; fail=1; return; } ;;
    esac
    # shellcheck disable=SC2086
    "$HTSC" run --max-delay 0 $qs --pcap "$cap" $sets >"$tmp/want"
    if [ "$target" = none ]; then
        input=$cap
    else
        "$HTSC" emulate "$plan" --pcap "$cap" -o "$tmp/reports.pcap" >/dev/null 2>&1 || {
            echo "FAIL emulate $plan"; fail=1; return; }
        input=$tmp/reports.pcap
    fi
    timeout 120 "$HTSD" --plan "$plan" --idle-exit 400 -- $EAL --file-prefix "htsr$$_$n" \
        --vdev "net_pcap0,rx_pcap=$input" >"$tmp/got" 2>"$tmp/err"
    rc=$?
    rows=$(wc -l <"$tmp/want")
    if [ $rc -eq 0 ] && [ "$rows" -gt 0 ] && cmp -s "$tmp/want" "$tmp/got"; then
        echo "ok   $target:$qs on $(basename "$cap"): $rows rows equal ($(grep -o '^htsd: [0-9]* packets' "$tmp/err" | sed 's/htsd: //;s/packets/frames in/') htsd)"
    else
        echo "FAIL $target:$qs on $(basename "$cap"): exit $rc, $rows expected, $(wc -l <"$tmp/got") got"
        diff "$tmp/want" "$tmp/got" | head -4; tail -3 "$tmp/err"; fail=1
    fi
}

case_ v1model $D/ftp_brute_force.pcap queries/port_scan.htq queries/new_tcp_conns.htq queries/syn_flood.htq -- threshold=1
case_ v1model $D/synscan_1000_ports.pcap queries/port_scan.htq --
case_ tofino $D/http_espn.pcap queries/tcp_handshake_rtt.htq queries/heavy_hitter.htq -- threshold=100KB
case_ v1model $D/ssh_sshguess.pcap queries/ssh_brute.htq -- threshold=1
case_ smartnic $D/dnssec_rrsig.pcap queries/dns_reflection.htq -- threshold=1
case_ v1model $D/http_espn.pcap queries/dns_tunneling.htq queries/dns_ttl_tracking.htq -- threshold=1
EXTRA="--force-refine --force-dp"
case_ tofino $D/ftp_brute_force.pcap queries/port_scan.htq queries/new_tcp_conns.htq -- threshold=3
EXTRA=
case_ none $D/netflix.pcap queries/packet_size_histogram.htq queries/superspreader.htq -- threshold=3
echo "htsd_report: $n cases"
exit $fail
