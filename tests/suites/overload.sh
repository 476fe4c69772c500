#!/bin/sh
# overload.sh - more keys than the tables hold, and a million keys in one
# window: counted, reported, bounded, no crash.
#
#   1. 200,000 distinct sources in 0.8 s against --max-keys 1000: exactly
#      199,000 tuples refused, said in the summary and the exit status.
#   2. 1,000,000 distinct sources in one 3 s window, no limit: every key
#      counted (superspreader with threshold 1 gives one row per source), by
#      htsc run and by htsd with two workers; peak memory printed.
#   3. packets faster than the worker: htsd captures the loopback interface
#      live (net_pcap iface=lo; needs root, like any capture) with a worker
#      slowed on purpose (--test-slow-worker: 2 ms per burst), and 50,000
#      UDP packets arrive in a fraction of a second. The port must drop, and
#      every packet the worker did not see must be counted as missed: in the
#      metrics while it runs, in the summary, and in a non-zero exit status
#      (htsd is stopped by SIGTERM once its worker has drained the backlog).
#      (On lo the kernel counts a drop for the outgoing and the incoming copy
#      of a packet, so missed is about twice the lost packets: the check is
#      that no loss goes uncounted, missed >= sent - seen.)
set -u
BUILD=${BUILD:-build}
BIN=${BIN:-bin}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
EAL="--no-huge --no-pci -m 1024 --no-shconf --log-level=error"
fail=0

python3 tests/tools/manykeys.py "$tmp/200k.pcap" 200000
timeout 120 "$BIN/htsd" --query queries/superspreader.htq --max-keys 1000 --idle-exit 300 \
    -- $EAL --file-prefix "htso$$" --lcores 0@0,1@1 --vdev "net_pcap0,rx_pcap=$tmp/200k.pcap" \
    >"$tmp/out1" 2>"$tmp/err1"
rc=$?
if [ $rc -eq 1 ] && grep -q "199000 tuples refused by full tables" "$tmp/err1"; then
    echo "ok   full tables: $(grep overload "$tmp/err1")"
else
    echo "FAIL full tables: exit $rc"; cat "$tmp/err1"; fail=1
fi

python3 tests/tools/manykeys.py "$tmp/1m.pcap" 1000000
/usr/bin/time -f "%M" -o "$tmp/rss1" "$BIN/htsc" run queries/superspreader.htq --pcap "$tmp/1m.pcap" \
    --set threshold=1 >"$tmp/want" 2>"$tmp/err2"
rows=$(wc -l <"$tmp/want")
"$BUILD/tools/splitpcap" "$tmp/1m.pcap" "$tmp/part" 2
/usr/bin/time -f "%M" -o "$tmp/rss2" timeout 300 "$BIN/htsd" --query queries/superspreader.htq \
    --set threshold=1 --idle-exit 500 -- $EAL --file-prefix "htsp$$" --lcores 0@0,1@1,2@1 \
    --vdev "net_pcap0,rx_pcap=$tmp/part0.pcap,rx_pcap=$tmp/part1.pcap" >"$tmp/got" 2>"$tmp/err3"
rc=$?
if [ "$rows" -eq 1000000 ] && [ $rc -eq 0 ] && sort "$tmp/want" | cmp -s - "$(sort "$tmp/got" >"$tmp/gs"; echo "$tmp/gs")"; then
    echo "ok   1,000,000 keys in one window: htsc run and htsd (2 workers) agree on all rows;" \
         "peak RSS htsc $(cat "$tmp/rss1") KiB, htsd $(cat "$tmp/rss2") KiB"
else
    echo "FAIL million keys: htsc $rows rows, htsd exit $rc, $(wc -l <"$tmp/got") rows"; tail -3 "$tmp/err3"; fail=1
fi
# 3. packets faster than a worker
N=50000
PORT=40999
cat >"$tmp/udp.htq" <<EOF
query udp_count window 10s {
  packets | filter udp.dport == $PORT | groupby udp.dport aggregate n = count()
}
EOF
cat >"$tmp/blast.py" <<'EOF'
import socket, sys
n, port = int(sys.argv[1]), int(sys.argv[2])
r = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
r.bind(("127.0.0.1", port))  # bound: no ICMP port-unreachable replies on lo
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
for i in range(n):
    s.sendto(b"x" * 64, ("127.0.0.1", port))
EOF
MPORT=$((20000 + $$ % 20000))
timeout 120 "$BIN/htsd" --query "$tmp/udp.htq" --test-slow-worker 2000 \
    --metrics "127.0.0.1:$MPORT" -- $EAL --file-prefix "htsq$$" --lcores 0@0,1@1 \
    --vdev net_pcap0,iface=lo >"$tmp/out3" 2>"$tmp/err4" &
pid=$!
# scrape NAME: a metric's value, empty when htsd does not answer
scrape() {
    python3 -c "
import sys, urllib.request
for l in urllib.request.urlopen('http://127.0.0.1:$MPORT/metrics', timeout=5).read().decode().splitlines():
    if l.startswith(sys.argv[1] + ' '): print(l.split()[1])" "$1" 2>/dev/null
}
# blast as soon as htsd serves its metrics (its port is capturing by then);
# lo carries other traffic too (a broker's heartbeats), so htsd is stopped
# with SIGTERM once the worker has drained what the kernel kept, not by
# --idle-exit
i=0
while [ -z "$(scrape htsd_packets_total)" ] && [ $i -lt 300 ]; do sleep 0.1; i=$((i + 1)); done
python3 "$tmp/blast.py" $N $PORT
prev=-1
i=0
while [ $i -lt 100 ]; do
    sleep 0.3
    cur=$(scrape htsd_packets_total)
    # drained: fewer new packets than the scrapes' own traffic could explain
    [ -n "$cur" ] && [ "$prev" -ge 0 ] && [ $((cur - prev)) -lt 200 ] && break
    prev=$cur
    i=$((i + 1))
done
mmissed=$(scrape htsd_packets_missed_total)
kill -TERM $pid
wait $pid
rc=$?
seen=$(python3 -c "import json,sys; print(sum(json.loads(l)['n'] for l in open(sys.argv[1])))" "$tmp/out3" 2>/dev/null)
missed=$(sed -n 's/^htsd: overload: \([0-9]*\) packets missed.*/\1/p' "$tmp/err4")
if [ $rc -eq 1 ] && [ -n "$seen" ] && [ -n "$missed" ] && [ -n "$mmissed" ] && [ "$seen" -gt 0 ] &&
   [ "$seen" -lt $N ] && [ "$mmissed" -gt 0 ] && [ "$missed" -ge "$mmissed" ] &&
   [ "$missed" -ge $((N - seen)) ]; then
    echo "ok   packets faster than the worker: $N sent, $seen seen, $missed counted missed" \
         "(metrics said $mmissed while running), exit 1"
else
    echo "FAIL port drops: exit $rc, sent $N, seen '${seen:-}', missed '${missed:-}'," \
         "metrics '${mmissed:-}'"; grep -v '^%' "$tmp/err4" | tail -5; fail=1
fi
exit $fail
