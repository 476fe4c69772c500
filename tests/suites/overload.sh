#!/bin/sh
# overload.sh - more keys than the tables hold, and a million keys in one
# window: counted, reported, bounded, no crash.
#
#   1. 200,000 distinct sources in 0.8 s against --max-keys 1000: exactly
#      199,000 tuples refused, said in the summary and the exit status.
#   2. 1,000,000 distinct sources in one 3 s window, no limit: every key
#      counted (superspreader with threshold 1 gives one row per source), by
#      htsc run and by htsd with two workers; peak memory printed.
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
exit $fail
