#!/bin/sh
# merge.sh - several partial executors merged give one executor's rows.
#
# htsd splits packets among workers, each with its own window state, and the
# main lcore merges that state when a window closes (exec_merge). For every
# library query that can be split (a fold cannot: it depends on arrival
# order, and merge_check says so), on captures where it finds something,
# with 2, 3 and 5 simulated workers, rows must be identical.
set -u
BUILD=${BUILD:-build}
MC=$BUILD/tools/merge_check
[ -x "$MC" ] || { echo "merge: $MC not built" >&2; exit 1; }
D=tests/data
fail=0
n=0
c() { # c QUERY CAPTURE [NAME=VALUE...]
    q=$1 cap=$2
    shift 2
    case $q in */*) file=$q ;; *) file=queries/$q.htq ;; esac
    for w in 2 3 5; do
        n=$((n + 1))
        out=$("$MC" "$file" "$D/$cap" $w "$@" 2>&1)
        case "$out" in
        *" 0 rows equal"*) echo "FAIL $q on $cap: no rows, proves nothing"; fail=1 ;;
        *"rows equal"*) ;;
        *) echo "FAIL $q on $cap with $w workers: $out"; fail=1 ;;
        esac
    done
    echo "ok   $q on $cap: $(echo "$out" | sed 's/.*workers: //')"
}
c new_tcp_conns synscan_1000_ports.pcap
c ssh_brute ssh_sshguess.pcap threshold=1
c superspreader http_espn.pcap threshold=10
c port_scan portscan_small.pcap threshold=10
c ddos http_espn.pcap threshold=10
c syn_flood nmap_80_all.pcap threshold=1
c completed_flow ftp_brute_force.pcap
c slowloris synscan_1000_ports.pcap min_conns=2 max_bytes_per_conn=100
c dns_tunneling http_espn.pcap threshold=0
c dns_reflection dnssec_rrsig.pcap threshold=1
c heavy_hitter http_espn.pcap threshold=100KB
c dns_ttl_tracking 1kxun.pcap threshold=2
c malicious_domain dnssec_rrsig.pcap
c tcp_handshake_rtt http_espn.pcap
c microbursts http_espn.pcap rate_bps=100000000
c packet_size_histogram http_espn.pcap
c export_headers tcp_handshake.pcap
# approx_distinct's sketches merge register by register: exactly the same
# estimates (and the network-wide queries' other state)
c tests/netwide/sites.htq synscan_1000_ports.pcap
# folds must be refused, not merged wrongly
n=$((n + 1))
if "$MC" queries/tcp_out_of_order.htq $D/tcp_retransmissions.pcap 2 2>&1 | grep -q "cannot be split"; then
    echo "ok   tcp_out_of_order: a fold is refused for several workers"
else
    echo "FAIL tcp_out_of_order: a fold was not refused"; fail=1
fi
echo "merge: $n runs"
exit $fail
