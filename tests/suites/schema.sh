#!/bin/sh
# schema.sh - the JSON Schema htsc compile writes per query accepts every row
# htsc run prints and refuses rows made wrong (tests/schema/check_schema.py).
set -u
HTSC=${HTSC:-${BIN:-bin}/htsc}
[ -x "$HTSC" ] || { echo "schema: $HTSC not built" >&2; exit 1; }
command -v python3 >/dev/null 2>&1 || { echo "schema: python3 not found" >&2; exit 1; }
exec python3 tests/schema/check_schema.py --htsc "$HTSC" --data tests/data
