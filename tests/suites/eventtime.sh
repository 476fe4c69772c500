#!/bin/sh
# eventtime.sh - out-of-order input through htsd (docs/semantics.md, "Event
# time"): with --max-delay, htsd gives the rows of the time-ordered capture,
# the rows `htsc run` gives by default (which sorts), whatever the engine
# (interpreter, JIT) and the number of workers; late packets are counted per
# query exactly as `htsc run --max-delay` counts them, and reported on stderr
# even with --quiet. Captures are made by tests/tools/disorder.py from
# tests/data (the oracle suite checks htsc run's own rows against tshark):
#   concat   netflix, then ftp_brute_force moved to start in netflix's middle
#            (the file goes back in time 45 s once);
#   jitter   netflix, each packet up to 300 ms of time out of place, and its
#            11 oldest packets at the end of the file (late);
#   two ports  synscan_1000_ports on one port, masscan_tcp_0_1000 moved into
#            its time on another: each port in order, the two interleaved by
#            bursts; the watermark is the smaller of the two ports'.
# Also: a full buffer (--reorder-memory) lets packets out early and says so;
# --max-delay is refused in report mode.
set -u
BUILD=${BUILD:-build}
BIN=${BIN:-bin}
HTSD=$BIN/htsd
HTSC=$BIN/htsc
D=tests/data
for t in "$HTSD" "$HTSC" "$BUILD/tools/splitpcap"; do
    [ -x "$t" ] || { echo "eventtime: $t is not built" >&2; exit 1; }
done
command -v python3 >/dev/null 2>&1 || { echo "eventtime: python3 not found" >&2; exit 1; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail=0
n=0
EAL="--no-huge --no-pci -m 256 --no-shconf --log-level=error"
DIS="python3 tests/tools/disorder.py"
$DIS concat $D/netflix.pcap $D/ftp_brute_force.pcap -o "$tmp/concat.pcap" &&
$DIS jitter $D/netflix.pcap --max-ms 300 --seed 3 --late 11 -o "$tmp/jitter.pcap" &&
$DIS concat $D/synscan_1000_ports.pcap $D/masscan_tcp_0_1000.pcap -o "$tmp/scans.pcap" &&
$DIS shift $D/synscan_1000_ports.pcap $D/masscan_tcp_0_1000.pcap -o "$tmp/masscan_moved.pcap" ||
    { echo "FAIL: disorder.py"; exit 1; }
Q="--query queries/new_tcp_conns.htq --query queries/port_scan.htq --query queries/heavy_hitter.htq
   --query queries/completed_flow.htq --query queries/tcp_handshake_rtt.htq --query queries/syn_flood.htq"
QF=$(echo "$Q" | sed 's/--query//g')
SETS="--set new_tcp_conns.threshold=5 --set port_scan.threshold=5 --set heavy_hitter.threshold=10KB"

# late QUERY STDERR-FILE: the late count a warning line gives for QUERY
late() {
    sed -n 's/.*(late, not counted in it)://p' "$2" | tr ' ' '\n' | awk -v q="$1" 'p { print; exit } $0 == q { p = 1 }'
}

# run NAME WANT-FILE WORKERS VDEV-ARGS HTSD-ARGS...: htsd's rows equal WANT
run() {
    name=$1 want=$2 workers=$3 vdevs=$4
    shift 4
    n=$((n + 1))
    lcores="0@0"
    i=1
    while [ $i -le "$workers" ]; do lcores="$lcores,$i@$((i % 2))"; i=$((i + 1)); done
    # shellcheck disable=SC2086
    timeout 120 "$HTSD" $Q $SETS "$@" --idle-exit 500 -- $EAL --file-prefix "hte$$_$n" \
        --lcores "$lcores" $vdevs >"$tmp/got" 2>"$tmp/err"
    rc=$?
    if [ $rc -ne 0 ]; then
        echo "FAIL $name: htsd exited $rc"; tail -5 "$tmp/err"; fail=1; return 1
    fi
    if ! sort "$want" | cmp -s - "$(sort "$tmp/got" >"$tmp/gs"; echo "$tmp/gs")"; then
        echo "FAIL $name: $(wc -l <"$tmp/got") rows, $(wc -l <"$want") expected"
        sort "$want" | diff - "$tmp/gs" | head -6; fail=1; return 1
    fi
    return 0
}

# 1. The concatenated capture: sorted rows, for each engine and 1 or 2 workers.
# shellcheck disable=SC2086
"$HTSC" run $QF $SETS --pcap "$tmp/concat.pcap" >"$tmp/sorted" 2>"$tmp/herr" ||
    { echo "FAIL: htsc run"; cat "$tmp/herr"; exit 1; }
"$BUILD/tools/splitpcap" "$tmp/concat.pcap" "$tmp/part" 2 || exit 1
rows=$(wc -l <"$tmp/sorted")
for eng in interp jit; do
    run "concat, $eng, 1 worker" "$tmp/sorted" 1 "--vdev net_pcap0,rx_pcap=$tmp/concat.pcap" \
        --engine $eng --max-delay 50s &&
        echo "ok   concat ($eng, 1 worker, --max-delay 50s): $rows rows equal the time-ordered capture's, 0 late"
    run "concat, $eng, 2 workers" "$tmp/sorted" 2 \
        "--vdev net_pcap0,rx_pcap=$tmp/part0.pcap,rx_pcap=$tmp/part1.pcap" --engine $eng --max-delay 50s &&
        echo "ok   concat ($eng, 2 workers, --max-delay 50s): $rows rows equal the time-ordered capture's"
done

# 2. Without --max-delay: arrival order, as htsc run --max-delay 0; the late
# packets counted per query alike, and said even with --quiet.
# shellcheck disable=SC2086
"$HTSC" run --max-delay 0 $QF $SETS --pcap "$tmp/concat.pcap" >"$tmp/stream" 2>"$tmp/herr"
for eng in interp jit; do
    if run "concat streaming, $eng" "$tmp/stream" 1 "--vdev net_pcap0,rx_pcap=$tmp/concat.pcap" \
        --engine $eng -q; then
        bad=0
        for q in new_tcp_conns port_scan heavy_hitter completed_flow tcp_handshake_rtt syn_flood; do
            a=$(late $q "$tmp/herr") b=$(late $q "$tmp/err")
            [ -n "$a" ] && [ "$a" = "$b" ] || { echo "FAIL concat streaming, $eng: $q late: htsc '$a', htsd '$b'"; bad=1; }
        done
        [ $bad = 0 ] && echo "ok   concat streaming ($eng, -q): $(wc -l <"$tmp/stream") rows, late per query as htsc's: $(sed -n 's/.*in it)://p' "$tmp/err")"
        fail=$((fail | bad))
    fi
done

# 3. Bounded disorder and 11 late packets: the rows and the late counts of
# htsc run --max-delay 300ms.
# shellcheck disable=SC2086
"$HTSC" run --max-delay 300ms $QF $SETS --pcap "$tmp/jitter.pcap" >"$tmp/jwant" 2>"$tmp/herr"
for eng in interp jit; do
    if run "jitter, $eng" "$tmp/jwant" 1 "--vdev net_pcap0,rx_pcap=$tmp/jitter.pcap" \
        --engine $eng --max-delay 300ms; then
        bad=0
        for q in new_tcp_conns port_scan heavy_hitter completed_flow tcp_handshake_rtt syn_flood; do
            b=$(late $q "$tmp/err")
            [ "$b" = 11 ] && [ "$(late $q "$tmp/herr")" = 11 ] || { echo "FAIL jitter, $eng: $q late '$b', want 11"; bad=1; }
        done
        [ $bad = 0 ] && echo "ok   jitter ($eng, --max-delay 300ms): $(wc -l <"$tmp/jwant") rows as htsc run's, the 11 late packets counted for each of the 6 queries"
        fail=$((fail | bad))
    fi
done

# 4. Two ports, each in order, interleaved by bursts: a watermark per port.
# shellcheck disable=SC2086
"$HTSC" run $QF $SETS --pcap "$tmp/scans.pcap" >"$tmp/swant" 2>"$tmp/herr"
run "two ports" "$tmp/swant" 1 \
    "--vdev net_pcap0,rx_pcap=$D/synscan_1000_ports.pcap --vdev net_pcap1,rx_pcap=$tmp/masscan_moved.pcap" \
    --max-delay 1ms --engine jit &&
    echo "ok   two ports (--max-delay 1ms): $(wc -l <"$tmp/swant") rows equal the merged capture's sorted rows"

# 5. A full buffer lets packets out before their time, and says how many.
n=$((n + 1))
timeout 120 "$HTSD" $Q $SETS --max-delay 50s --reorder-memory 64KiB --idle-exit 500 -q -- $EAL \
    --file-prefix "hte$$_$n" --lcores 0@0,1@1 --vdev "net_pcap0,rx_pcap=$tmp/concat.pcap" \
    >"$tmp/got" 2>"$tmp/err"
if [ $? -eq 0 ] && grep -q "buffer was full (--reorder-memory 65536): [1-9][0-9]* packets left it" "$tmp/err"; then
    echo "ok   full buffer: $(grep -o '[0-9]* packets left it' "$tmp/err") early, said on stderr"
else
    echo "FAIL full buffer: no warning"; cat "$tmp/err"; fail=1
fi

# 6. Report mode: the data plane's time rules; --max-delay is refused.
"$HTSC" compile queries/new_tcp_conns.htq --target v1model -o "$tmp/p4" >/dev/null 2>&1 || { echo "FAIL compile"; fail=1; }
if "$HTSD" --plan "$tmp/p4/new_tcp_conns.plan.json" --max-delay 1s -- $EAL >/dev/null 2>"$tmp/err"; then
    echo "FAIL report mode accepted --max-delay"; fail=1
elif grep -q "in report mode the data plane's windows close on its own time" "$tmp/err"; then
    echo "ok   report mode: --max-delay refused with a reason"
else
    echo "FAIL report mode: $(cat "$tmp/err")"; fail=1
fi

[ $fail = 0 ] && echo "eventtime: all cases passed" || echo "eventtime: FAILED"
exit $fail
