#!/bin/sh
# demo.sh - what `make demo` shows: a library query run over a bundled capture.
#
# port_scan (Sonata) over a real SYN scan of ~1000 ports: the scanner appears
# with the number of distinct ports it probed in each 3-second window. Then
# the query's IR, so you can see what htsc made of it.
set -eu
cd "$(dirname "$0")/.."
Q=queries/port_scan.htq
CAP=tests/data/synscan_1000_ports.pcap
echo "\$ bin/htsc run $Q --pcap $CAP --format table"
bin/htsc run "$Q" --pcap "$CAP" --format table
echo
echo "\$ bin/htsc run $Q --pcap $CAP      # JSON Lines, as a consumer reads them"
bin/htsc run "$Q" --pcap "$CAP" | head -3
echo
echo "\$ bin/htsc explain $Q"
bin/htsc explain "$Q"
