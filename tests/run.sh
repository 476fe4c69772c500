#!/bin/sh
# run.sh - runs every test suite; called by `make check` (and check-asan with
# BUILD/BIN pointing at the sanitizer build). Any failure fails the run; a
# missing tool (tshark, clang, dot) is a failure too, never a skip.
set -u
cd "$(dirname "$0")/.."
BUILD=${BUILD:-build}
BIN=${BIN:-bin}
export BUILD BIN
export HTSC="$BIN/htsc"
failed=""
pass=0

run() { # run NAME COMMAND...
    name=$1; shift
    printf '%-44s ' "$name"
    log=$(mktemp)
    if "$@" >"$log" 2>&1; then
        echo ok; pass=$((pass + 1))
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
if [ -n "$failed" ]; then
    echo "FAILED:$failed"
    exit 1
fi
echo "all $pass test suites passed"
