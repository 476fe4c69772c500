#!/bin/sh
# htsd.sh - htsd (raw packet mode, DPDK net_pcap ports) gives the same rows
# as the reference executor (htsc run), with one worker and with two.
#
# For two workers the capture is split by flow (tests/tools/splitpcap, as RSS
# would) into two net_pcap queues; the rows must still be identical, which
# proves the window merge. Also: SIGTERM mid-run exits cleanly with a summary,
# and the metrics endpoint answers in Prometheus text.
set -u
BUILD=${BUILD:-build}
BIN=${BIN:-bin}
HTSD=$BIN/htsd
HTSC=$BIN/htsc
for t in "$HTSD" "$HTSC" "$BUILD/tools/splitpcap"; do
    [ -x "$t" ] || { echo "htsd suite: $t is not built" >&2; exit 1; }
done
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail=0
n=0
EAL="--no-huge --no-pci -m 256 --no-shconf --log-level=error"

# case QUERY CAPTURE WORKERS [--set ...]
case_() {
    q=$1 cap=$2 workers=$3
    shift 3
    n=$((n + 1))
    name="$(basename "$q" .htq) on $(basename "$cap") with $workers worker(s)"
    "$HTSC" run --max-delay 0 "$q" --pcap "$cap" "$@" >"$tmp/want" 2>"$tmp/err" || {
        echo "FAIL $name: htsc run failed"; cat "$tmp/err"; fail=1; return; }
    if [ "$workers" = 1 ]; then
        vdev="net_pcap0,rx_pcap=$cap"
        lcores="0@0,1@1"
    else
        "$BUILD/tools/splitpcap" "$cap" "$tmp/part" "$workers" || { fail=1; return; }
        vdev="net_pcap0"
        lcores="0@0"
        i=0
        while [ $i -lt "$workers" ]; do
            vdev="$vdev,rx_pcap=$tmp/part$i.pcap"
            lcores="$lcores,$((i + 1))@$(( (i + 1) % 2 ))"
            i=$((i + 1))
        done
    fi
    # shellcheck disable=SC2086
    timeout 120 "$HTSD" --query "$q" "$@" --idle-exit 400 -- $EAL --file-prefix "hts$$_$n" \
        --lcores "$lcores" --vdev "$vdev" >"$tmp/got" 2>"$tmp/err"
    rc=$?
    if [ $rc -ne 0 ]; then
        echo "FAIL $name: htsd exited $rc"; tail -5 "$tmp/err"; fail=1; return
    fi
    rows=$(wc -l <"$tmp/want")
    if [ "$workers" = 1 ] || ! grep -q per-packet "$tmp/want.kind" 2>/dev/null; then
        if ! cmp -s "$tmp/want" "$tmp/got"; then
            # per-packet rows of several workers interleave: compare sorted
            if [ "$workers" != 1 ] && sort "$tmp/want" | cmp -s - "$(sort "$tmp/got" >"$tmp/gs"; echo "$tmp/gs")"; then
                :
            else
                echo "FAIL $name: rows differ ($rows expected)"
                diff "$tmp/want" "$tmp/got" | head -6
                fail=1
                return
            fi
        fi
    fi
    [ "$rows" -gt 0 ] || { echo "FAIL $name: the case finds nothing: it proves nothing"; fail=1; return; }
    echo "ok   $name: $rows rows equal"
}

D=tests/data
case_ queries/port_scan.htq $D/synscan_1000_ports.pcap 1
case_ queries/port_scan.htq $D/synscan_1000_ports.pcap 2
case_ queries/new_tcp_conns.htq $D/syn_flood_spoofed.pcap 2 --set threshold=1
case_ queries/ssh_brute.htq $D/ssh_sshguess.pcap 2 --set threshold=1
case_ queries/syn_flood.htq $D/ftp_brute_force.pcap 2 --set threshold=1
case_ queries/superspreader.htq $D/1kxun.pcap 2 --set threshold=3
case_ queries/ddos.htq $D/masscan_tcp_0_1000.pcap 1 --set threshold=1
case_ queries/heavy_hitter.htq $D/http_espn.pcap 2 --set threshold=100000
case_ queries/tcp_handshake_rtt.htq $D/http_espn.pcap 2
case_ queries/packet_size_histogram.htq $D/netflix.pcap 2
case_ queries/dns_reflection.htq $D/dnssec_rrsig.pcap 1 --set threshold=1
case_ queries/tcp_out_of_order.htq $D/tcp_retransmissions.pcap 1
case_ queries/export_headers.htq $D/bot.pcap 1
case_ queries/export_headers.htq $D/bot.pcap 2

# SIGTERM during a live run (an endless replay): metrics answer while it
# runs, then a signal makes it close its windows, report and exit 0
mport=$((20000 + $$ % 20000))
timeout 60 "$HTSD" --query queries/packet_size_histogram.htq --metrics 127.0.0.1:$mport -- $EAL \
    --file-prefix "hts$$_sig" --lcores 0@0,1@1 --vdev "net_pcap0,rx_pcap=$D/bot.pcap,infinite_rx=1" \
    >"$tmp/sig.out" 2>"$tmp/sig.err" &
pid=$!
sleep 3
python3 - $mport >"$tmp/metrics" 2>&1 <<'PY'
import sys, urllib.request
print(urllib.request.urlopen("http://127.0.0.1:%s/metrics" % sys.argv[1], timeout=5).read().decode())
PY
n=$((n + 1))
pk=$(awk '$1 == "htsd_packets_total" {print $2}' "$tmp/metrics")
if [ -n "$pk" ] && [ "$pk" -gt 0 ] && grep -q 'htsd_decode_errors_total{reason="trunc_ipv4"}' "$tmp/metrics" \
        && grep -q 'htsd_sink_delivered_total' "$tmp/metrics" && grep -q 'htsd_window_lag_seconds' "$tmp/metrics"; then
    echo "ok   metrics: Prometheus text, htsd_packets_total $pk"
else
    echo "FAIL metrics"; head -20 "$tmp/metrics"; fail=1
fi
kill -TERM $pid
wait $pid
rc=$?
n=$((n + 1))
if [ $rc -eq 0 ] && grep -q "htsd: .* packets" "$tmp/sig.err"; then
    echo "ok   SIGTERM: clean exit with a summary: $(grep 'packets' "$tmp/sig.err")"
else
    echo "FAIL SIGTERM: exit $rc"; cat "$tmp/sig.err"; fail=1
fi
echo "htsd suite: $n cases"
exit $fail
