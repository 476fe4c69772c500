#!/bin/sh
# golden.sh - compares htsc's output with expected files.
#
#   tests/golden/ir/X.htq    -> `htsc explain` must print tests/golden/ir/X.out
#   tests/golden/diag/X.htq  -> `htsc check` must print tests/golden/diag/X.err
#                               (stderr, then "exit N")
# UPDATE=1 rewrites the expected files; review the diff before committing.
set -u
HTSC=${HTSC:-bin/htsc}
[ -x "$HTSC" ] || { echo "golden: $HTSC not built" >&2; exit 1; }
fail=0
n=0
tmp=$(mktemp)
trap 'rm -f "$tmp"' EXIT

compare() { # compare EXPECTED
    n=$((n + 1))
    if [ "${UPDATE:-0}" = 1 ]; then
        cp "$tmp" "$1"
    elif ! diff -u "$1" "$tmp"; then
        echo "golden: $1 differs" >&2
        fail=1
    fi
}

for q in tests/golden/ir/*.htq; do
    "$HTSC" explain "$q" >"$tmp" 2>&1
    echo "exit $?" >>"$tmp"
    compare "${q%.htq}.out"
    "$HTSC" explain --dot "$q" >"$tmp" 2>&1 && dot -Tsvg "$tmp" >/dev/null || {
        echo "golden: $q: DOT output does not render" >&2; fail=1; }
done
for q in tests/golden/diag/*.htq; do
    "$HTSC" check "$q" >"$tmp" 2>&1
    echo "exit $?" >>"$tmp"
    compare "${q%.htq}.err"
done
[ $n -gt 0 ] || { echo "golden: no golden files found" >&2; exit 1; }
echo "golden: $n files compared"
exit $fail
