#!/bin/sh
# kafka_faults.sh - the broker goes away in the middle of a run and comes back.
#
# htsd replays a 46-second capture at 3x its pace (about 15 s), producing rows
# of 250 ms windows all along. After 4 s the broker is stopped (its data and
# address kept: scripts/kafka-broker.sh pause), after 9 s started again
# (resume). Every row produced before, during and after must arrive: the
# rows read back equal htsc run's, none missing, none invented, and htsd
# exits 0. Then the broker is stopped for good before htsd finishes: htsd must
# exit non-zero and name every row that did not arrive.
#
# Both cases run twice: with the default idempotent producer (a batch in
# flight at the outage may be written twice when librdkafka has to start a
# new producer session: counted and shown) and with --exactly-once (Kafka
# transactions), where a read_committed consumer (kcat's default, set
# explicitly here) must read every row exactly once.
set -u
BUILD=${BUILD:-build}
BIN=${BIN:-bin}
for t in java mvn kcat python3; do
    command -v $t >/dev/null || { echo "kafka_faults: $t is missing" >&2; exit 1; }
done
tmp=$(mktemp -d)
export KAFKA_STATE_DIR="$tmp/kafka"
cleanup() { scripts/kafka-broker.sh stop >/dev/null 2>&1; rm -rf "$tmp"; }
trap cleanup EXIT
scripts/kafka-broker.sh start >/dev/null || { echo "kafka_faults: no broker" >&2; exit 1; }
eval "$(scripts/kafka-broker.sh env)"
Q=tests/queries/flows_250ms.htq
CAP=tests/data/two_way_all_flags.pcap
EAL="--no-huge --no-pci -m 256 --no-shconf --log-level=error --lcores 0@0,1@1"
fail=0

"$BIN/htsc" run --max-delay 0 $Q --pcap $CAP | sort >"$tmp/want"
want=$(wc -l <"$tmp/want")

# htsd_run CASE FLUSH_MS DOWN_AFTER UP_AFTER|never [HTSD OPTIONS]: htsd in the
# background, the broker paused after DOWN_AFTER s and resumed UP_AFTER s
# later (or after htsd ended); sets rc, writes $tmp/got.CASE (rows read back,
# sorted) and $tmp/err.CASE.
htsd_run() {
    c=$1 flush=$2 down=$3 up=$4
    shift 4
    timeout 120 "$BIN/htsd" --query $Q --brokers "$KAFKA_BROKERS" --topic-prefix "$c." "$@" \
        --replay-speed 3 --idle-exit 500 --flush-timeout "$flush" -X message.timeout.ms=60000 \
        -- $EAL --file-prefix "hts$c$$" --vdev "net_pcap0,rx_pcap=$CAP" >"$tmp/out.$c" 2>"$tmp/err.$c" &
    pid=$!
    sleep "$down"
    scripts/kafka-broker.sh pause >/dev/null
    if [ "$up" != never ]; then
        sleep "$up"
        scripts/kafka-broker.sh resume >/dev/null 2>&1 || { echo "FAIL: the broker did not come back"; fail=1; }
    fi
    wait $pid
    rc=$?
    [ "$up" = never ] && scripts/kafka-broker.sh resume >/dev/null 2>&1
    kcat -b "$KAFKA_BROKERS" -C -t "$c.flows_250ms" -X isolation.level=read_committed \
        -o beginning -e -q -f '%s\n' 2>/dev/null | sort >"$tmp/got.$c"
}

# outage CASE LABEL EXACT [HTSD OPTIONS]: down 5 s mid-run. EXACT=1: no
# duplicates allowed; 0: duplicates counted (idempotent producer).
outage() {
    c=$1 label=$2 exact=$3
    shift 3
    htsd_run "$c" 60000 4 5 "$@"
    got=$(wc -l <"$tmp/got.$c")
    dups=$(uniq -d "$tmp/got.$c" | wc -l)
    if [ "$exact" = 1 ]; then uniqd=cat; else uniqd=uniq; fi
    txn=$(sed -n 's/^htsd: kafka: \(.*transactions committed.*\)/; \1/p' "$tmp/err.$c")
    if [ $rc -eq 0 ] && [ "$want" -gt 0 ] && $uniqd "$tmp/got.$c" | cmp -s "$tmp/want" -; then
        echo "ok   $label, broker down 5 s mid-run: all $want rows arrived ($dups written twice$txn)"
    else
        echo "FAIL $label, broker down mid-run: htsd exit $rc, $got rows read back ($dups duplicated), $want expected"
        diff "$tmp/want" "$tmp/got.$c" | head -5; grep -v '^%' "$tmp/err.$c" | tail -5; fail=1
    fi
}

# gone CASE LABEL EXACT [HTSD OPTIONS]: the broker goes away for good after
# 6 s: a non-zero exit naming every row that did not arrive. EXACT=1
# (transactions): what a read_committed consumer reads plus what htsd names
# is every row, each once. EXACT=0 (idempotent producer): every row arrived
# or was named, none invented; a row may be both (written by the broker
# just before it died, its acknowledgement lost: htsd cannot know, so it
# names it, "in doubt"), and counted as such.
gone() {
    c=$1 label=$2 exact=$3
    shift 3
    htsd_run "$c" 3000 6 never "$@"
    named=$(grep -c '^htsd: undelivered' "$tmp/err.$c")
    grep '^htsd: undelivered' "$tmp/err.$c" |
        sed "s/^htsd: undelivered ([^)]*): $c.flows_250ms key=[^ ]* //" | sort >"$tmp/named.$c"
    sort -m "$tmp/got.$c" "$tmp/named.$c" >"$tmp/all.$c"
    doubt=$(sort -u "$tmp/got.$c" | comm -12 - "$tmp/named.$c" | wc -l)
    if [ "$exact" = 1 ]; then uniqd=cat; else uniqd="sort -u"; fi
    if [ $rc -ne 0 ] && [ "$named" -gt 0 ] && $uniqd "$tmp/all.$c" | cmp -s "$tmp/want" -; then
        echo "ok   $label, broker gone for good: exit $rc; $(wc -l <"$tmp/got.$c") rows arrived, the other $((named - doubt)) named as undelivered ($doubt in doubt: arrived and named)"
    else
        echo "FAIL $label, broker gone: exit $rc, $(wc -l <"$tmp/got.$c") arrived, $named named, $want expected"
        grep -v '^%' "$tmp/err.$c" | grep -v undelivered | tail -5; fail=1
    fi
}

outage f1 idempotent 0
gone f2 idempotent 0
outage f3 --exactly-once 1 --exactly-once
gone f4 --exactly-once 1 --exactly-once
exit $fail
