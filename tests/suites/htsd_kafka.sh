#!/bin/sh
# htsd_kafka.sh - end to end against a real Apache Kafka broker.
#
# Starts a single-node KRaft broker (scripts/kafka-broker.sh, jars from
# Maven Central, cached), runs htsd on captures through DPDK net_pcap ports
# with --brokers, reads every topic back with kcat (a separate consumer) and
# compares with the reference executor (htsc run):
#   - windowed queries: every row, its key (the group key) and its timestamp
#     (the window end, ms);
#   - per-packet export of a whole capture in HTX1 batches: record count and
#     every field, decoded by an independent script;
#   - a broker that is not there: htsd says so, does not hang, exits non-zero.
# The broker is stopped on exit, failure included. Missing java, mvn or kcat
# fail the suite.
set -u
BUILD=${BUILD:-build}
BIN=${BIN:-bin}
HTSD=$BIN/htsd
HTSC=$BIN/htsc
for t in java mvn kcat python3; do
    command -v $t >/dev/null || { echo "kafka suite: $t is missing" >&2; exit 1; }
done
tmp=$(mktemp -d)
export KAFKA_STATE_DIR="$tmp/kafka"
cleanup() { scripts/kafka-broker.sh stop >/dev/null 2>&1; rm -rf "$tmp"; }
trap cleanup EXIT
scripts/kafka-broker.sh start || { echo "kafka suite: the broker did not start" >&2; exit 1; }
eval "$(scripts/kafka-broker.sh env)"
B=$KAFKA_BROKERS
EAL="--no-huge --no-pci -m 256 --no-shconf --log-level=error"
fail=0
n=0

run_htsd() { # run_htsd PREFIX CAPTURE WORKERS HTSD-ARGS...
    prefix=$1 cap=$2 workers=$3
    shift 3
    n=$((n + 1))
    if [ "$workers" = 1 ]; then
        vdev="net_pcap0,rx_pcap=$cap"; lcores="0@0,1@1"
    else
        "$BUILD/tools/splitpcap" "$cap" "$tmp/part$n." 2 || return 1
        vdev="net_pcap0,rx_pcap=$tmp/part$n.0.pcap,rx_pcap=$tmp/part$n.1.pcap"; lcores="0@0,1@1,2@1"
    fi
    # shellcheck disable=SC2086
    timeout 120 "$HTSD" "$@" --brokers "$B" --topic-prefix "$prefix" --idle-exit 400 \
        -- $EAL --file-prefix "htsk$$_$n" --lcores "$lcores" --vdev "$vdev" \
        >"$tmp/out" 2>"$tmp/err"
}

consume() { # consume TOPIC FORMAT
    kcat -b "$B" -C -t "$1" -o beginning -e -q -f "$2" 2>"$tmp/kcat.err"
}

# windowed: QUERY CAPTURE WORKERS [--set ...]
rows_case() {
    q=$1 cap=$2 w=$3
    shift 3
    name=$(basename "$q" .htq)
    prefix="e2e$n."
    "$HTSC" run --max-delay 0 "$q" --pcap "$cap" "$@" >"$tmp/want"
    if ! run_htsd "$prefix" "$cap" "$w" --query "$q" "$@"; then
        echo "FAIL $name: htsd failed"; tail -5 "$tmp/err"; fail=1; return
    fi
    consume "$prefix$name" '%s\n' >"$tmp/got"
    consume "$prefix$name" '%k %T\n' >"$tmp/keys"
    want=$(wc -l <"$tmp/want")
    if [ "$want" -eq 0 ]; then echo "FAIL $name: expects no rows: proves nothing"; fail=1; return; fi
    if ! cmp -s "$tmp/want" "$tmp/got"; then
        echo "FAIL $name on $(basename "$cap"), $w worker(s): rows from Kafka differ"
        diff "$tmp/want" "$tmp/got" | head -5; fail=1; return
    fi
    # every message: timestamp = window_end in ms, key = the row's group key
    if ! python3 - "$tmp/got" "$tmp/keys" <<'PY'
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
keys = [l.rstrip("\n").rsplit(" ", 1) for l in open(sys.argv[2])]
assert len(rows) == len(keys), (len(rows), len(keys))
for r, (k, t) in zip(rows, keys):
    assert int(t) == r["window_end"] // 1000000, (t, r)
    assert k != "", r
PY
    then echo "FAIL $name: keys or timestamps wrong"; fail=1; return; fi
    echo "ok   $name on $(basename "$cap"), $w worker(s): $want rows via Kafka equal htsc run"
}

D=tests/data
rows_case queries/port_scan.htq $D/synscan_1000_ports.pcap 2
rows_case queries/new_tcp_conns.htq $D/syn_flood_spoofed.pcap 1 --set threshold=1
rows_case queries/syn_flood.htq $D/ftp_brute_force.pcap 2 --set threshold=1
rows_case queries/tcp_handshake_rtt.htq $D/http_espn.pcap 2
rows_case queries/dns_reflection.htq $D/dnssec_rrsig.pcap 1 --set threshold=1

# per-packet export of a whole capture, HTX1 batches
cap=$D/ftp_brute_force.pcap
"$HTSC" run --max-delay 0 queries/export_headers.htq --pcap $cap >"$tmp/want"
if run_htsd "x$n." $cap 2 --query queries/export_headers.htq; then
    consume "x$((n - 1)).export_headers" '%R%s' >"$tmp/batches"
    python3 readers/python/htx.py "$tmp/batches" >"$tmp/got"
    want=$(wc -l <"$tmp/want"); got=$(wc -l <"$tmp/got")
    if [ "$want" -gt 0 ] && sort "$tmp/want" | cmp -s - "$(sort "$tmp/got" >"$tmp/gs"; echo "$tmp/gs")"; then
        echo "ok   export_headers: all $got records of $(basename $cap) arrived, every field equal"
    else
        echo "FAIL export_headers: $got records from Kafka, $want expected"; fail=1
    fi
    # htsc decode, the reader users get: the same rows, byte for byte, from
    # kcat's bare values (piped) and from its length-framed output (a file)
    consume "x$((n - 1)).export_headers" '%s' | "$HTSC" decode >"$tmp/dec1" &&
        "$HTSC" decode "$tmp/batches" >"$tmp/dec2" &&
        sort "$tmp/dec1" | cmp -s - "$tmp/gs" && sort "$tmp/dec2" | cmp -s - "$tmp/gs" &&
        sort "$tmp/want" | cmp -s - "$tmp/gs" &&
        echo "ok   htsc decode: $(wc -l <"$tmp/dec1") rows from kcat -f '%s' and from '%R%s' equal htsc run's, byte for byte" ||
        { echo "FAIL htsc decode: $(wc -l <"$tmp/dec1") rows, $want expected"; fail=1; }
else
    echo "FAIL export_headers: htsd failed"; tail -5 "$tmp/err"; fail=1
fi

# --message-time produce: message timestamps are the time of producing
# (within this run), not the capture's 2010 event time; rows unchanged
before=$(date +%s%3N)
if run_htsd "mt$n." $D/synscan_1000_ports.pcap 1 --query queries/port_scan.htq --message-time produce; then
    after=$(date +%s%3N)
    consume "mt$((n - 1)).port_scan" '%T\n' >"$tmp/ts"
    "$HTSC" run queries/port_scan.htq --pcap $D/synscan_1000_ports.pcap >"$tmp/want"
    if [ -s "$tmp/ts" ] && [ "$(wc -l <"$tmp/ts")" = "$(wc -l <"$tmp/want")" ] &&
        awk -v lo="$before" -v hi="$after" '$1 < lo || $1 > hi { bad = 1 } END { exit bad }' "$tmp/ts"; then
        echo "ok   --message-time produce: $(wc -l <"$tmp/ts") messages stamped between $before and $after ms, not at the window ends"
    else
        echo "FAIL --message-time produce: timestamps $(head -3 "$tmp/ts" | tr '\n' ' ') not in [$before, $after]"; fail=1
    fi
else
    echo "FAIL --message-time produce: htsd failed"; tail -5 "$tmp/err"; fail=1
fi

# --late-topic: the late packets themselves, one pcap record per message.
# (a) bounded disorder, --max-delay 300ms: exactly the 11 packets disorder.py
# moved to the end, byte for byte; (b) ftp_brute_force without a delay: as
# many as htsd's warning counts late.
python3 tests/tools/disorder.py jitter $D/netflix.pcap --max-ms 300 --seed 3 --late 11 -o "$tmp/jitter.pcap"
late_case() { # late_case NAME CAPTURE WANT-COUNT|warning REFERENCE|- HTSD-ARGS...
    name=$1 cap=$2 want=$3 ref=$4
    shift 4
    pre="lt$n."
    if ! run_htsd "$pre" "$cap" 1 --late-topic "$@"; then
        echo "FAIL late topic $name: htsd failed"; tail -5 "$tmp/err"; fail=1; return
    fi
    [ "$want" = warning ] && want=$(sed -n 's/.*(late, not counted in it): [a-z_]* \([0-9]*\).*/\1/p' "$tmp/err")
    consume "${pre}late-packets" '%s' >"$tmp/late.bin"
    if python3 - "$tmp/late.bin" "$want" "$ref" <<'PY'
import struct, sys
data = open(sys.argv[1], "rb").read()
got, off = [], 0
while off < len(data):
    sec, nsec, cap, wire = struct.unpack_from("<IIII", data, off)
    got.append((sec * 10**9 + nsec, data[off + 16:off + 16 + cap]))
    off += 16 + cap
assert off == len(data), "a record runs past the end"
assert len(got) == int(sys.argv[2]), (len(got), sys.argv[2])
if sys.argv[3] != "-":  # the K oldest packets of the reference, in time order
    raw = open(sys.argv[3], "rb").read()
    pk, o = [], 24
    while o + 16 <= len(raw):
        s, us, incl, orig = struct.unpack_from("<IIII", raw, o)
        pk.append((s * 10**9 + us * 1000, raw[o + 16:o + 16 + incl]))
        o += 16 + incl
    pk.sort(key=lambda p: p[0])
    assert sorted(got) == sorted(pk[:len(got)]), "not the packets moved"
PY
    then
        [ "$ref" = - ] && how="" || how=", byte for byte the packets moved"; echo "ok   --late-topic $name: $want late packets read back from ${pre}late-packets as pcap records$how"
    else
        echo "FAIL --late-topic $name"; fail=1
    fi
}
late_case "bounded disorder" "$tmp/jitter.pcap" 11 $D/netflix.pcap --query queries/new_tcp_conns.htq --max-delay 300ms
late_case "ftp_brute_force" $D/ftp_brute_force.pcap warning - --query queries/port_scan.htq

# a broker that is never reachable: clear message, no hang, non-zero exit
n=$((n + 1))
start=$(date +%s)
timeout 60 "$HTSD" --query queries/port_scan.htq --brokers 127.0.0.1:1 -X message.timeout.ms=3000 \
    --flush-timeout 5000 --idle-exit 300 -- $EAL --file-prefix "htsk$$_down" --lcores 0@0,1@1 \
    --vdev "net_pcap0,rx_pcap=$D/synscan_1000_ports.pcap" >"$tmp/out" 2>"$tmp/err"
rc=$?
took=$(( $(date +%s) - start ))
if [ $rc -ne 0 ] && [ $rc -ne 124 ] && grep -q "does not answer" "$tmp/err" && grep -q "failed" "$tmp/err"; then
    echo "ok   unreachable broker: exit $rc after ${took}s: $(grep '^htsd: .*packets' "$tmp/err")"
else
    echo "FAIL unreachable broker: exit $rc after ${took}s"; cat "$tmp/err" | grep -v '^%' | tail -5; fail=1
fi
exit $fail
