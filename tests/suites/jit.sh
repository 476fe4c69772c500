#!/bin/sh
# jit.sh - the JIT gives the interpreter's and the executor's rows, row for row.
#
#  1. every capture in tests/data x the whole query library as one program
#     (low thresholds so that queries find something) and x jit_cases.htq
#     (every field and operator the JIT compiles), with htsd's bursts of 32
#     and again with bursts of 7 and 3 and tables of 4 and 1 entries, which
#     force the compiled code to stop early and to flush (or, for folds,
#     grow) full tables constantly;
#  1b. fields of the interpreter's decoder (DNS, payload, tunnels) one
#     group at a time, each query its own program, on every capture: the
#     compiled code asks the C decoder for its groups only (hts_decode_l4's
#     want), which stops once it has them;
#  2. each line of docs/query-library.md's table (the captures and --set
#     values that make each query find something), one query per program;
#     the queries the JIT covers must be compiled (--expect-jit) and every
#     one of them must find rows in some case;
#  3. htsd --engine jit over DPDK net_pcap ports, one and two workers,
#     against `htsc run`;
#  4. htsc compile --emit-llvm writes NAME.ll, which llvm-as (LLVM 14's, when
#     installed) reads.
# Compile times are printed (docs/jit.md has the figures); nothing is timed
# as a pass/fail criterion.
set -u
BUILD=${BUILD:-build}
BIN=${BIN:-bin}
CHECK=$BUILD/tools/jit_check
DUMP=$BUILD/tools/jit_dump
for t in "$CHECK" "$DUMP" "$BIN/htsc" "$BIN/htsc-llvm" "$BIN/htsd" "$BUILD/tools/splitpcap"; do
    [ -x "$t" ] || { echo "jit suite: $t is not built" >&2; exit 1; }
done
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail=0
n=0
D=tests/data
LOW="--set threshold=0 --set min_conns=1 --set max_bytes_per_conn=100000 --set rate_bps=1"

# 1. the library, and tests/suites/jit_cases.htq (every field and operator
#    the JIT compiles), on every capture
for mode in "--burst 32" "--burst 7 --table-limit 4" "--burst 3 --table-limit 1"; do
    for prog in "$LOW queries/*.htq" "tests/suites/jit_cases.htq"; do
        n=$((n + 1))
        # shellcheck disable=SC2086
        if ! "$CHECK" $mode $D/*.pcap $D/*.pcapng $prog >"$tmp/out" 2>&1; then
            echo "FAIL $prog ($mode):"
            grep -v '^ok' "$tmp/out" | head -12
            fail=1
        fi
        cat "$tmp/out" >>"$tmp/all"
    done
done
echo "ok   library and jit_cases.htq x $(ls $D/*.pcap $D/*.pcapng | wc -l) captures x 3 burst/table modes: $(grep -c '^ok' "$tmp/all") rows sets equal"

# 1b. one group of the C decoder's fields per program (HTS_W_*): the header,
#     the question's type or name, the first answer, the first A record,
#     the answer types, the payload, a tunnel; and the library's DNS queries
i=0
while IFS= read -r body; do
    i=$((i + 1))
    printf 'query want%d(threshold = 0) window 5ms {\n  packets\n  | %s\n}\n' "$i" "$body" >"$tmp/want$i.htq"
done <<'QUERIES'
groupby r = dns.rcode, q = dns.qr aggregate n = count(), c = max(dns.arcount)
filter dns.qdcount >= 1 | groupby t = dns.qtype aggregate n = count()
distinct dns.qname
groupby t = dns.an.type aggregate n = count(), m = max(dns.an.ttl)
filter udp.sport == 53 | groupby a = dns.an.a aggregate n = count()
filter dns.an.types has DNS_A | groupby ipv4.dst aggregate n = count()
filter not (dns.an.types has DNS_RRSIG) | groupby ipv4.src aggregate n = count()
filter dns.an.types has dns.qtype or dns.an.types has 99999 | groupby ipv4.src aggregate n = count()
filter tcp.dport == 80 and payload.len > 0 | groupby ipv4.src aggregate n = count(), s = sum(payload.len)
groupby v = coalesce(vxlan.vni, -1), g = coalesce(gre.proto, -1), a = inner.ipv4.src aggregate n = count()
QUERIES
for prog in "$tmp"/want*.htq queries/dns_*.htq queries/malicious_domain.htq; do
    n=$((n + 1))
    # shellcheck disable=SC2086
    if ! "$CHECK" --expect-jit --set threshold=0 $D/*.pcap $D/*.pcapng "$prog" >"$tmp/out" 2>&1; then
        echo "FAIL $prog:"
        grep -v '^ok' "$tmp/out" | head -12
        cat "$prog"
        fail=1
    fi
    cat "$tmp/out" >>"$tmp/want_all"
done
echo "ok   the C decoder's fields one group per program x $(ls $D/*.pcap $D/*.pcapng | wc -l) captures: $(grep -c '^ok' "$tmp/want_all") rows sets equal, $(grep -c '^ok.*: jit, [1-9]' "$tmp/want_all") with rows"

# 2. the documented cases
case_() { # case_ QUERY CAPTURE [--set ...]
    q=$1 cap=$2
    shift 2
    n=$((n + 1))
    expect=--expect-jit
    "$DUMP" "queries/$q.htq" 2>&1 >/dev/null | grep -q ": jit (" || expect=
    if "$CHECK" $expect "$@" "$D/$cap" "queries/$q.htq" >"$tmp/out" 2>&1; then
        cat "$tmp/out" >>"$tmp/all"
        echo "$(head -1 "$tmp/out")"
    else
        echo "FAIL $q on $cap $*"
        sed 's/^/    /' "$tmp/out" | head -12
        fail=1
    fi
}
case_ new_tcp_conns synscan_1000_ports.pcap
case_ new_tcp_conns syn_flood_spoofed.pcap --set threshold=1
case_ ssh_brute ssh_sshguess.pcap --set threshold=1
case_ superspreader http_espn.pcap --set threshold=10
case_ port_scan portscan_small.pcap --set threshold=10
case_ port_scan synscan_1000_ports.pcap
case_ ddos http_espn.pcap --set threshold=10
case_ syn_flood nmap_80_all.pcap --set threshold=1
case_ completed_flow ftp_brute_force.pcap
case_ slowloris synscan_1000_ports.pcap --set min_conns=2 --set max_bytes_per_conn=100
case_ dns_tunneling http_espn.pcap --set threshold=0
case_ zorro ssh_sshguess.pcap --set port=22 --set threshold=1 --set 'word="SSH-2.0"'
case_ dns_reflection dnssec_rrsig.pcap --set threshold=1
case_ heavy_hitter http_espn.pcap --set threshold=100KB
case_ dns_ttl_tracking 1kxun.pcap --set threshold=2
case_ malicious_domain 1kxun.pcap --set threshold=2
case_ malicious_domain dnssec_rrsig.pcap
case_ tcp_handshake_rtt tcp_handshake.pcap
case_ tcp_handshake_rtt latency1.pcap
case_ tcp_handshake_rtt http_espn.pcap
case_ tcp_retransmissions tcp_retransmissions.pcap
case_ tcp_out_of_order tcp_retransmissions.pcap
case_ flowlet_sizes latency1.pcap
case_ latency_ewma latency1.pcap
case_ microbursts http_espn.pcap --set rate_bps=100000000
case_ microbursts http_espn.pcap --set win=10ms --set rate_bps=10000000
case_ packet_size_histogram http_espn.pcap
case_ export_headers tcp_handshake.pcap
case_ export_headers http_espn.pcap --set n=100 --set net=172.16.0.0/12
case_ heavy_hitter mixed-vlan-mpls.pcap --set threshold=1
case_ export_headers 6in4tunnel.pcap
case_ export_headers ipv6_fragments.pcapng

# every compiled query found rows somewhere
for q in queries/*.htq; do
    name=$(basename "$q" .htq)
    "$DUMP" "$q" 2>&1 >/dev/null | grep -q ": jit (" || continue
    n=$((n + 1))
    if ! grep "^ok   $name on .*: jit, [1-9][0-9]* rows equal" "$tmp/all" >/dev/null; then
        echo "FAIL $name: compiled, but no case found any row: nothing was proved"
        fail=1
    fi
done
echo "ok   every compiled library query found rows in some case"

# compile time per query (reported, not judged)
for q in queries/*.htq; do
    "$DUMP" "$q" 2>&1 >/dev/null | awk -v q="$(basename "$q" .htq)" \
        '/queries compiled in/ { if ($2 == 1) printf "%s %s ms; ", q, $8 }'
done >"$tmp/times"
echo "     compile times: $(cat "$tmp/times")"

# 3. htsd --engine jit against htsc run
EAL="--no-huge --no-pci -m 256 --no-shconf --log-level=error"
htsd_case() { # htsd_case QUERY CAPTURE WORKERS [--set ...]
    q=$1 cap=$2 workers=$3
    shift 3
    n=$((n + 1))
    name="htsd --engine jit: $(basename "$q" .htq) on $(basename "$cap") with $workers worker(s)"
    "$BIN/htsc" run --max-delay 0 "$q" --pcap "$cap" "$@" >"$tmp/want" 2>/dev/null || { echo "FAIL $name: htsc"; fail=1; return; }
    if [ "$workers" = 1 ]; then
        vdev="net_pcap0,rx_pcap=$cap"
        lcores="0@0,1@1"
    else
        "$BUILD/tools/splitpcap" "$cap" "$tmp/part" "$workers" >/dev/null || { fail=1; return; }
        vdev="net_pcap0,rx_pcap=$tmp/part0.pcap,rx_pcap=$tmp/part1.pcap"
        lcores="0@0,1@1,2@0"
    fi
    # shellcheck disable=SC2086
    timeout 120 "$BIN/htsd" --engine jit --query "$q" "$@" --idle-exit 400 -- $EAL \
        --file-prefix "hjit$$_$n" --lcores "$lcores" --vdev "$vdev" >"$tmp/got" 2>"$tmp/err"
    rc=$?
    if [ $rc -ne 0 ] || ! grep -q "htsd: jit: query" "$tmp/err"; then
        echo "FAIL $name: exit $rc"; tail -5 "$tmp/err"; fail=1; return
    fi
    sort "$tmp/want" >"$tmp/ws"
    sort "$tmp/got" >"$tmp/gs"
    if [ "$workers" = 1 ] && ! cmp -s "$tmp/want" "$tmp/got" || ! cmp -s "$tmp/ws" "$tmp/gs"; then
        echo "FAIL $name: rows differ"; diff "$tmp/want" "$tmp/got" | head -6; fail=1; return
    fi
    [ -s "$tmp/want" ] || { echo "FAIL $name: no rows: proves nothing"; fail=1; return; }
    echo "ok   $name: $(wc -l <"$tmp/want") rows equal ($(grep -c ': jit (' "$tmp/err") compiled)"
}
htsd_case queries/port_scan.htq $D/synscan_1000_ports.pcap 1
htsd_case queries/port_scan.htq $D/synscan_1000_ports.pcap 2
htsd_case queries/heavy_hitter.htq $D/http_espn.pcap 2 --set threshold=100000
htsd_case queries/tcp_handshake_rtt.htq $D/http_espn.pcap 2
htsd_case queries/export_headers.htq $D/bot.pcap 1
htsd_case queries/tcp_out_of_order.htq $D/tcp_retransmissions.pcap 1
htsd_case queries/dns_reflection.htq $D/dnssec_rrsig.pcap 1 --set threshold=1
htsd_case queries/malicious_domain.htq $D/dnssec_rrsig.pcap 2
# windows closed by the JIT's run-time itself (one worker) and a fold's rows
# into a compiled groupby
htsd_case queries/microbursts.htq $D/http_espn.pcap 1 --set rate_bps=100000000
htsd_case queries/flowlet_sizes.htq $D/latency1.pcap 1

# 4. htsc compile --emit-llvm: DIR/NAME.ll is written and is valid IR
n=$((n + 1))
LLVM_AS=$(command -v llvm-as-14 || command -v llvm-as || true)
if ! "$BIN/htsc" compile queries/flowlet_sizes.htq queries/microbursts.htq --emit-llvm \
        -o "$tmp/ll" >"$tmp/out" 2>&1 || [ ! -s "$tmp/ll/flowlet_sizes.ll" ]; then
    echo "FAIL htsc compile --emit-llvm: no flowlet_sizes.ll"; head -5 "$tmp/out"; fail=1
elif ! grep -q "^define .*@hts_jit_burst" "$tmp/ll/flowlet_sizes.ll"; then
    echo "FAIL htsc compile --emit-llvm: no burst function in flowlet_sizes.ll"; fail=1
elif [ -n "$LLVM_AS" ] && ! "$LLVM_AS" "$tmp/ll/flowlet_sizes.ll" -o "$tmp/ll.bc" 2>"$tmp/out"; then
    echo "FAIL htsc compile --emit-llvm: $LLVM_AS rejects it:"; head -5 "$tmp/out"; fail=1
else
    echo "ok   htsc compile --emit-llvm: flowlet_sizes.ll, $(wc -l <"$tmp/ll/flowlet_sizes.ll") lines$([ -n "$LLVM_AS" ] && echo ", parsed by $(basename "$LLVM_AS")")"
fi
echo "jit suite: $n cases"
exit $fail
