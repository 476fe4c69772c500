#!/bin/sh
# oracle.sh - library queries against an independent oracle: tshark's fields
# plus a short Python meaning per query (tests/oracle/oracle.py), row for row
# against `htsc run`. A missing tshark or python3 is a failure, never a skip.
set -u
HTSC=${HTSC:-bin/htsc}
[ -x "$HTSC" ] || { echo "oracle: $HTSC not built" >&2; exit 1; }
command -v python3 >/dev/null 2>&1 || { echo "oracle: python3 not found" >&2; exit 1; }
command -v tshark >/dev/null 2>&1 || { echo "oracle: tshark not found" >&2; exit 1; }
exec python3 tests/oracle/oracle.py --htsc "$HTSC" --data tests/data
