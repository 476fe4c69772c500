#!/bin/sh
# netwide.sh - network-wide queries end to end, against a real Apache Kafka
# broker (scripts/kafka-broker.sh): three htsd sites, two htsmerge instances
# in one consumer group, and a site that never comes.
#
# tests/netwide/sites.htq holds six network-wide queries (SYNs per
# destination, distinct ports per source, bytes with min and max per source,
# approx_distinct's HyperLogLog sketch of ports per source, a join of three
# groupbys: handshake times, and approx_sum/approx_count's Count-Min sketch
# of bytes per source).
# ftp_brute_force.pcap, put in time order, is split by flow into three
# captures (splitpcap, as RSS would); each is one site's htsd (net_pcap,
# s2 with --exactly-once: its state in Kafka transactions;
# replayed at 3x its pace, so that the run lasts about 15 s). The merge
# expects four sites: s3 never sends anything, so every partition must time
# it out (--site-timeout) and say so. Once the first rows are out, the first merge
# instance is killed (SIGKILL, mid-transaction): the group gives its
# partitions to the second, which reads them again from their last commit.
#
# Checks, every one of which can fail:
#   - the rows read back by a read_committed consumer (kcat) equal htsc run
#     on the whole capture, each exactly once (no row lost or doubled by the
#     kill);
#   - approx_distinct's estimates within 3 standard errors of the exact
#     distinct count, where both report a source;
#   - approx_sum reports every source the exact sum does, never below it
#     (the sites keep sources heavy at a quarter of the threshold:
#     --site-count 4);
#   - the per-site answers differ from it (the merge is what makes it right);
#   - the survivor was given every partition and timed s3 out, reported;
#   - every site and the survivor exit 0.
# Missing java, mvn, kcat or reordercap fail the suite.
set -u
BUILD=${BUILD:-build}
BIN=${BIN:-bin}
for t in java mvn kcat python3 reordercap; do
    command -v $t >/dev/null || { echo "netwide suite: $t is missing" >&2; exit 1; }
done
tmp=$(mktemp -d)
export KAFKA_STATE_DIR="$tmp/kafka"
pids=""
cleanup() {
    for p in $pids; do kill -9 "$p" 2>/dev/null; done
    scripts/kafka-broker.sh stop >/dev/null 2>&1
    rm -rf "$tmp"
}
trap cleanup EXIT
scripts/kafka-broker.sh start || { echo "netwide suite: the broker did not start" >&2; exit 1; }
eval "$(scripts/kafka-broker.sh env)"
B=$KAFKA_BROKERS
EAL="--no-huge --no-pci -m 256 --no-shconf --log-level=error"
Q=tests/netwide/sites.htq
P=nw$$.
fail=0

reordercap tests/data/ftp_brute_force.pcap "$tmp/all.pcap" >/dev/null || exit 1
"$BUILD/tools/splitpcap" "$tmp/all.pcap" "$tmp/site" 3 || exit 1
"$BIN/htsc" run "$Q" --pcap "$tmp/all.pcap" | sort >"$tmp/want"
for i in 0 1 2; do "$BIN/htsc" run "$Q" --pcap "$tmp/site$i.pcap"; done | sort >"$tmp/persite"
nwant=$(wc -l <"$tmp/want")
[ "$nwant" -gt 0 ] || { echo "FAIL netwide: the reference has no rows: proves nothing"; exit 1; }
if [ "$(comm -12 "$tmp/want" "$tmp/persite" | wc -l)" -eq "$nwant" ]; then
    echo "FAIL netwide: the sites alone already give every row: the merge is not tested"
    exit 1
fi

merge() { # merge INSTANCE
    "$BIN/htsmerge" --query "$Q" --brokers "$B" --topic-prefix "$P" --sites s0,s1,s2,s3 \
        --site-timeout 2s --state-partitions 4 --instance "$1" --txn-timeout 8000 ${NW_DEBUG:-} >"$tmp/$1.out" 2>"$tmp/$1.err" &
    pids="$pids $!"
}

# the sites create the state topic (4 partitions); the merges wait for it
site_pids=""
for i in 0 1 2; do
    # site s2 produces its state in Kafka transactions (--exactly-once)
    x=""; [ $i = 2 ] && x="--exactly-once=nwsite$$"
    # shellcheck disable=SC2086
    timeout 120 "$BIN/htsd" --query "$Q" --brokers "$B" --topic-prefix "$P" --site "s$i" $x \
        --site-count 4 --state-partitions 4 --replay-speed 3 --idle-exit 1000 \
        -- $EAL --file-prefix "nw$$_$i" -l 0,1 --vdev "net_pcap0,rx_pcap=$tmp/site$i.pcap" \
        >"$tmp/site$i.out" 2>"$tmp/site$i.err" &
    site_pids="$site_pids $!"
done
pids="$pids $site_pids"
wait_for() { # wait_for FILE PATTERN SECONDS
    k=0
    while [ $k -lt $(($3 * 10)) ]; do
        grep -q "$2" "$1" 2>/dev/null && return 0
        sleep 0.1; k=$((k + 1))
    done
    return 1
}
read_rows() {
    for q in nw_conns nw_ports nw_bytes nw_approx nw_rtt nw_heavy; do
        kcat -b "$B" -C -t "$P$q" -o beginning -e -q -X isolation.level=read_committed \
            -f '%s\n' 2>/dev/null
    done | sort
}
merge m1; m1=$!
wait_for "$tmp/m1.err" "assigned" 30 || { echo "FAIL netwide: m1 got no partition"; exit 1; }
merge m2; m2=$!
wait_for "$tmp/m2.err" "assigned" 30 || { echo "FAIL netwide: m2 got no partition"; exit 1; }
# kill m1 once rows are out but the run is not over
k=0 before=0
while [ $k -lt 100 ]; do
    before=$(read_rows | wc -l)
    [ "$before" -gt 0 ] && break
    sleep 0.2; k=$((k + 1))
done
if ! kill -0 "$m1" 2>/dev/null; then
    echo "FAIL netwide: merge m1 exited before it was killed"; cat "$tmp/m1.err"; fail=1
fi
kill -9 "$m1"
echo "netwide: m1 killed with $before of $nwant rows committed"
if [ "$before" -eq 0 ] || [ "$before" -ge "$nwant" ]; then
    echo "FAIL netwide: m1 was not killed mid-run ($before of $nwant rows out)"; fail=1
fi
for p in $site_pids; do
    if ! wait "$p"; then echo "FAIL netwide: a site's htsd failed"; fail=1; fi
done
cat "$tmp"/site*.err | grep "site s" || true

# the killed instance's open transaction holds read_committed readers back
# until the broker aborts it (--txn-timeout)
n=0 got=0
while [ $n -lt 90 ]; do
    got=$(read_rows | wc -l)
    [ "$got" -ge "$nwant" ] && break
    sleep 1; n=$((n + 1))
done
# the group gives m1's partitions to m2 once m1's session has expired
wait_for "$tmp/m2.err" "assigned 4 partitions" 30
sleep 1
kill -TERM "$m2"
if ! wait "$m2"; then echo "FAIL netwide: merge m2 did not exit 0"; fail=1; fi
read_rows >"$tmp/got"
cat "$tmp/m1.err" "$tmp/m2.err"
if ! cmp -s "$tmp/want" "$tmp/got"; then
    echo "FAIL netwide: merged rows differ from htsc run on the whole capture"
    diff "$tmp/want" "$tmp/got" | head -10; fail=1
fi
dups=$(uniq -d "$tmp/got" | wc -l)
[ "$dups" -eq 0 ] || { echo "FAIL netwide: $dups rows written twice"; fail=1; }
grep -q "assigned 4 partitions" "$tmp/m2.err" ||
    { echo "FAIL netwide: m2 never held every partition after m1 died"; fail=1; }
grep -q "site s3 silent" "$tmp/m2.err" ||
    { echo "FAIL netwide: the silent site s3 was not timed out and reported"; fail=1; }
grep -q "site s3: timed out in [1-9]" "$tmp/m2.err" ||
    { echo "FAIL netwide: no summary of s3's time-outs"; fail=1; }
# the sketch against the exact count, where both report a source
if ! python3 - "$tmp/got" <<'PY'
import json, math, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
exact = {(r["window_start"], r["ipv4.src"]): r["ports"] for r in rows if r["query"] == "nw_ports"}
bound = 3 * 1.04 / math.sqrt(2048)
pairs = [(r["ports"], exact[(r["window_start"], r["ipv4.src"])]) for r in rows
         if r["query"] == "nw_approx" and (r["window_start"], r["ipv4.src"]) in exact]
assert pairs, "no source in both nw_approx and nw_ports: nothing compared"
worst = max(abs(a - e) / e for a, e in pairs)
print("netwide: approx_distinct against the exact count: %d sources, worst error %.2f%%"
      % (len(pairs), 100 * worst))
assert worst <= bound, (worst, bound)
exact = {(r["window_start"], r["ipv4.src"]): r for r in rows if r["query"] == "nw_bytes"}
heavy = {(r["window_start"], r["ipv4.src"]): r for r in rows if r["query"] == "nw_heavy"}
assert exact, "nw_bytes has no row: approx_sum not compared"
missed = [k for k in exact if k not in heavy]
assert not missed, ("approx_sum missed heavy sources", missed[:5])
below = [k for k in exact if heavy[k]["bytes"] < exact[k]["bytes"] or heavy[k]["n"] < exact[k]["n"]]
assert not below, ("an estimate below the exact value", below[:5])
over = max(heavy[k]["bytes"] - exact[k]["bytes"] for k in exact)
print("netwide: approx_sum against the exact sum: %d sources, all found, %d more reported, "
      "worst over-estimate %d bytes" % (len(exact), len(heavy) - len(exact), over))
PY
then echo "FAIL netwide: a sketch outside its bounds"; fail=1; fi
persite_only=$(comm -13 "$tmp/want" "$tmp/persite" | wc -l)
[ $fail -eq 0 ] && echo "ok netwide: 3 sites + 1 silent, 2 merges (one killed mid-run):" \
    "$(wc -l <"$tmp/got") rows equal htsc run on the whole capture, 0 doubled" \
    "(the sites alone: $(wc -l <"$tmp/persite") rows, $persite_only of them wrong)"
exit $fail
