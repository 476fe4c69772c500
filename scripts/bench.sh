#!/bin/sh
# bench.sh - `make bench`: build, run every benchmark, print one table.
#
# Builds bin/htsc, bin/htsd and the benchmark programs of bench/ (into
# build/bench/), then scripts/bench.py generates its captures with htsgen and
# measures the interpreter (bench_exec), the JIT (bench_jit, when it exists),
# the export path per record (bench_export), htsd into librdkafka's mock
# cluster and into a real single-node Kafka broker (scripts/kafka-broker.sh),
# the data-plane reduction per query and target (htsc compile/emulate/host,
# when the planner is there), compile times and memory per key. Each figure
# is a median of several runs with its spread. Nothing here is a pass/fail
# test: a section that cannot run says why in its row.
#
# Environment: BENCH_QUICK=1 fewer and smaller runs; BENCH_ONLY=exec,htsd,...
# only those sections; BUILD, BIN as for make. Details: docs/benchmarks.md.
set -u
cd "$(dirname "$0")/.."
BUILD=${BUILD:-build}
BIN=${BIN:-bin}
export BUILD BIN
MAKE=${MAKE:-make}
# bin/htsd needs DPDK and librdkafka; the rest must build
if ! $MAKE --no-print-directory "$BIN/htsc" >&2; then
    [ -x "$BIN/htsc" ] || { echo "bench: htsc does not build" >&2; exit 1; }
    echo "bench: htsc does not build; measuring the existing $BIN/htsc" >&2
fi
$MAKE --no-print-directory "$BIN/htsd" >&2 || echo "bench: htsd does not build; its rows will say so" >&2
for src in bench/*.c; do
    b=$BUILD/bench/$(basename "$src" .c)
    $MAKE --no-print-directory "$b" >&2 || echo "bench: $b does not build" >&2
done
[ -x "$BUILD/bench/htsgen" ] || { echo "bench: $BUILD/bench/htsgen is needed" >&2; exit 1; }
exec python3 scripts/bench.py
