#!/bin/sh
# run.sh - builds the libFuzzer targets with clang and runs each for a bounded
# time: FUZZ_SECONDS (default 15, what `make check` uses; `make fuzz` runs 300).
# Seeds: the query library and golden queries for the query fuzzer; packets of
# every capture in tests/data for the decoder fuzzer. A crash fails the run
# and leaves the input in build/fuzz/ (make it a regression test).
set -eu
cd "$(dirname "$0")/../.."
SECS=${FUZZ_SECONDS:-15}
OUT=build/fuzz
command -v clang >/dev/null || { echo "fuzz: clang is missing (scripts/install-deps.sh installs it)" >&2; exit 1; }
mkdir -p "$OUT"
make --no-print-directory -s build/gen/parser.c build/gen/lexer.c >/dev/null
CF="-g -O1 -std=gnu11 -D_GNU_SOURCE -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all -Icore -Icompiler -Iexec -Ibuild/gen -w"
clang $CF -o "$OUT/fuzz_query" tests/fuzz/fuzz_query.c compiler/ast.c compiler/diag.c \
    compiler/sema.c compiler/ir.c build/gen/lexer.c build/gen/parser.c core/fields.c core/value.c
if [ -f tests/fuzz/fuzz_decode.c ]; then
    clang $CF -o "$OUT/fuzz_decode" tests/fuzz/fuzz_decode.c core/decode.c core/fields.c core/value.c
fi

# seed corpora (copied so the fuzzer can add to them)
mkdir -p "$OUT/corpus-query" "$OUT/corpus-decode"
for f in queries/*.htq tests/golden/*/*.htq; do
    [ -f "$f" ] && cp "$f" "$OUT/corpus-query/$(echo "$f" | tr / _)"
done
if [ -x "$OUT/fuzz_decode" ] && [ -f tests/fuzz/seed_frames.py ]; then
    python3 tests/fuzz/seed_frames.py tests/data "$OUT/corpus-decode"
fi

status=0
for t in query decode; do
    [ -x "$OUT/fuzz_$t" ] || continue
    echo "fuzz: fuzz_$t for ${SECS}s"
    if ! (cd "$OUT" && ./fuzz_$t -max_total_time="$SECS" -timeout=10 -rss_limit_mb=2048 \
            -max_len=65536 -print_final_stats=1 corpus-$t >fuzz_$t.log 2>&1); then
        echo "fuzz: fuzz_$t found a problem:" >&2
        tail -40 "$OUT/fuzz_$t.log" >&2
        status=1
    else
        grep -E "stat::number_of_executed_units|stat::peak_rss_mb" "$OUT/fuzz_$t.log" | sed "s/^/fuzz: fuzz_$t /"
    fi
done
exit $status
