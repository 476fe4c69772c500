#!/bin/sh
# demo.sh - what `make demo` shows, on a bundled real capture (a SYN scan of
# ~1000 ports), with no broker needed:
#   1. htsd, the DPDK runtime, reading the capture through a net_pcap port and
#      running port_scan: result rows as JSON Lines on stdout (the embedded
#      default; give --brokers HOST:PORT to produce them to Kafka instead);
#   2. the same query through the reference executor, as a table;
#   3. the query's dataflow IR.
set -eu
cd "$(dirname "$0")/.."
Q=queries/port_scan.htq
CAP=tests/data/synscan_1000_ports.pcap
EAL="--no-huge --no-pci -m 256 --no-shconf --file-prefix htsdemo --log-level=error -l 0,1"
echo "\$ bin/htsd --query $Q --idle-exit 300 -- $EAL --vdev net_pcap0,rx_pcap=$CAP"
# shellcheck disable=SC2086
bin/htsd --query "$Q" --idle-exit 300 -- $EAL --vdev "net_pcap0,rx_pcap=$CAP"
echo
echo "\$ bin/htsc run $Q --pcap $CAP --format table"
bin/htsc run "$Q" --pcap "$CAP" --format table
echo
echo "\$ bin/htsc explain $Q"
bin/htsc explain "$Q"
