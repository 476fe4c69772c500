#!/bin/sh
# run.sh - runs every test suite; called by `make check` (and check-asan with
# BUILD/BIN pointing at the sanitizer build). Any failure fails the run; a
# missing tool (tshark, clang, dot) is a failure too, never a skip. The one
# exception is the public P4 tools (p4c, BMv2), which are not Debian
# packages: a suite that needs them exits 77 when they are absent, and is
# listed loudly as NOT RUN with the reason (in CI, .ci/run sets
# HTS_P4TOOLS_REQUIRED=1 and their absence fails the suite).
set -u
cd "$(dirname "$0")/.."
BUILD=${BUILD:-build}
BIN=${BIN:-bin}
export BUILD BIN
export HTSC="$BIN/htsc"
failed=""
notrun=""
pass=0

run() { # run NAME COMMAND...
    name=$1; shift
    printf '%-44s ' "$name"
    log=$(mktemp)
    "$@" >"$log" 2>&1
    rc=$?
    if [ $rc -eq 0 ]; then
        echo ok; pass=$((pass + 1))
    elif [ $rc -eq 77 ]; then
        echo "NOT RUN"; sed 's/^/    /' "$log" | tail -5; notrun="$notrun $name"
    else
        echo FAIL; sed 's/^/    /' "$log" | tail -40; failed="$failed $name"
    fi
    rm -f "$log"
}

for t in "$BUILD"/tests/test_*; do
    [ -x "$t" ] || continue
    run "unit $(basename "$t")" "$t"
done
for s in tests/suites/*.sh; do
    [ -f "$s" ] || continue
    run "suite $(basename "$s" .sh)" sh "$s"
done

echo
if [ -n "$notrun" ]; then
    echo "NOT RUN:$notrun"
    echo "    (the public P4 tools were not found: put p4test, p4c-bm2-ss and"
    echo "    simple_switch on PATH or set HTS_P4TOOLS; docs/targets.md)"
fi
if [ -n "$failed" ]; then
    echo "FAILED:$failed"
    exit 1
fi
if [ -n "$notrun" ]; then
    echo "$pass test suites passed, $(echo $notrun | wc -w) NOT RUN"
else
    echo "all $pass test suites passed"
fi
