#!/bin/sh
# kafka.sh - the Kafka sink end to end, against a real Apache Kafka broker.
#
# Starts a broker of its own with scripts/kafka-broker.sh (state in
# $BUILD/tests/kafka-broker, stopped on exit whatever happens), produces 10,000
# rows through runtime/kafka.c ($BUILD/tools/kafka_produce), reads them back with
# kcat and compares offset, key, timestamp and payload of every row with what the
# driver must have sent: the same rows, once each, in order. Then stops the broker
# and checks that the sink reports rows to a dead broker as undelivered, saying
# the broker is unreachable, within its delivery timeout.
# java, mvn and kcat are required: missing, the suite fails; it never skips.
set -eu
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
cd "$ROOT"
BUILD=${BUILD:-build}
N=${KAFKA_SUITE_ROWS:-10000}
BROKER=scripts/kafka-broker.sh
PRODUCE=$BUILD/tools/kafka_produce

fail() { echo "kafka suite: FAIL: $*" >&2; exit 1; }
for t in java mvn kcat python3 flock; do
    command -v "$t" >/dev/null 2>&1 || fail "$t not found (scripts/install-deps.sh installs it)"
done
[ -x "$PRODUCE" ] || fail "$PRODUCE not built (make)"

case $BUILD in /*) KAFKA_STATE_DIR=$BUILD/tests/kafka-broker ;; *) KAFKA_STATE_DIR=$ROOT/$BUILD/tests/kafka-broker ;; esac
export KAFKA_STATE_DIR
tmp=$(mktemp -d)
finish() {
    rc=$?
    if [ "$rc" -ne 0 ] && [ -s "$KAFKA_STATE_DIR/logs/broker.log" ]; then
        "$BROKER" log 30 || true
    fi
    "$BROKER" stop || true
    rm -rf "$tmp"
    exit "$rc"
}
trap finish EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

t0=$(date +%s)
"$BROKER" start
eval "$("$BROKER" env)"
[ -n "${KAFKA_BROKERS:-}" ] || fail "kafka-broker.sh env printed no address"

# a topic name of its own, so rows left by an earlier run on a reused broker do not count
prefix="hts-suite-$$-$(date +%s)."
topic=${prefix}rows

# ---- 1. N rows through the sink, all delivered ----------------------------
"$PRODUCE" -t 30000 "$KAFKA_BROKERS" "$prefix" rows "$N" >"$tmp/produce.out" ||
    fail "kafka_produce: $(cat "$tmp/produce.out")"
grep -q "^produced $N delivered $N failed 0 queued 0 rejected 0 undelivered 0\$" "$tmp/produce.out" ||
    fail "unexpected counters: $(cat "$tmp/produce.out")"

# ---- 2. the same rows back from the broker, exactly ------------------------
# the rows are delivered (acknowledged by the broker), so -e sees all of them
kcat -C -b "$KAFKA_BROKERS" -t "$topic" -o beginning -e -q -f '%p\t%o\t%k\t%T\t%s\n' \
    >"$tmp/got" 2>"$tmp/kcat.err" || fail "kcat: $(cat "$tmp/kcat.err")"
awk -v n="$N" 'BEGIN {
    pad = "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
    for (i = 0; i < n; i++)
        printf "0\t%d\tkey-%06d\t%.0f\t{\"query\":\"rows\",\"i\":%d,\"pad\":\"%s\"}\n",
               i, i, 1700000000000 + i, i, substr(pad, 1, i % 50)
}' >"$tmp/want"
got=$(wc -l <"$tmp/got")
[ "$got" -eq "$N" ] || { diff "$tmp/want" "$tmp/got" | head -5 >&2; fail "$got rows read back, $N produced"; }
if ! cmp -s "$tmp/want" "$tmp/got"; then
    diff "$tmp/want" "$tmp/got" | head -10 >&2
    fail "rows read back differ from the rows produced (partition, offset, key, timestamp, payload)"
fi
echo "kafka suite: $N rows produced, delivered and read back identical ($(($(date +%s) - t0)) s)"

# ---- 3. broker gone: rows reported undelivered, broker named unreachable -------
"$BROKER" stop
t1=$(date +%s)
if "$PRODUCE" -t 2000 "$KAFKA_BROKERS" "$prefix" rows 10 >"$tmp/down.out" 2>"$tmp/down.err"; then
    fail "kafka_produce succeeded with the broker stopped"
fi
grep -q "^produced 10 delivered 0 failed 10 queued 0 rejected 0 undelivered 10\$" "$tmp/down.out" ||
    fail "broker down: unexpected counters: $(cat "$tmp/down.out" "$tmp/down.err")"
grep -q "all brokers down" "$tmp/down.err" || fail "broker down not reported: $(cat "$tmp/down.err")"
grep -q "Connection refused" "$tmp/down.err" || fail "no connection error reported: $(cat "$tmp/down.err")"
[ $(($(date +%s) - t1)) -lt 15 ] || fail "the sink took over 15 s to give up on a dead broker"
echo "kafka suite: broker stopped: 10 rows reported undelivered, broker unreachable ($(($(date +%s) - t1)) s)"
echo "kafka suite: ok in $(($(date +%s) - t0)) s"
