#!/bin/sh
# run.sh - builds the libFuzzer targets with clang and runs each for a bounded
# time: FUZZ_SECONDS (default 15, what `make check` uses), or for FUZZ_RUNS
# executions (`make fuzz`: 10 million each; FUZZ_TARGETS="decode report"
# picks targets). The executions, coverage and features of each run are
# printed (docs/reliability.md keeps the long runs' figures).
# Seeds: the query library and golden queries for the query fuzzer; packets of
# every capture in tests/data for the decoder fuzzer, runs of them for the
# JIT's differential fuzzer (fuzz_jit: the JIT's rows must equal the
# executor's). A crash fails the run and leaves the input in build/fuzz/
# (make it a regression test). fuzz_report: report frames against a fixed
# schema (decode, re-encode, compare); fuzz_netstate: network-wide state
# messages (the same); fuzz_plan: plan files, seeded with
# plans `htsc compile` writes for the query library.
set -eu
cd "$(dirname "$0")/../.."
SECS=${FUZZ_SECONDS:-15}
RUNS=${FUZZ_RUNS:-}
TARGETS=${FUZZ_TARGETS:-query decode jit report plan netstate}
OUT=${FUZZ_OUT:-build/fuzz}
command -v clang >/dev/null || { echo "fuzz: clang is missing (scripts/install-deps.sh installs it)" >&2; exit 1; }
mkdir -p "$OUT"
make --no-print-directory -s build/gen/parser.c build/gen/lexer.c >/dev/null
CF="-g -O1 -std=gnu11 -D_GNU_SOURCE -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all -Icore -Icompiler -Iplanner -Iexec -Ihtsc -Ibuild/gen -w"
# flex's and bison's tables without comparison tracing (edges still count):
# traced, the generated lexer's byte comparisons took most of fuzz_query's time
for g in lexer parser; do
    clang $CF -fsanitize=fuzzer-no-link -fno-sanitize-coverage=trace-cmp -c build/gen/$g.c -o "$OUT/$g.o"
done
clang $CF -o "$OUT/fuzz_query" tests/fuzz/fuzz_query.c core/arena.c compiler/ast.c compiler/parse.c \
    compiler/diag.c compiler/sema.c compiler/ir.c "$OUT/lexer.o" "$OUT/parser.o" core/fields.c core/value.c
if [ -f tests/fuzz/fuzz_decode.c ]; then
    clang $CF -o "$OUT/fuzz_decode" tests/fuzz/fuzz_decode.c core/decode.c core/fields.c core/value.c
fi
if [ -f tests/fuzz/fuzz_jit.c ]; then
    # the JIT against the executor: the compiler, executor, decoder and LLVM
    clang $CF -Iruntime -o "$OUT/fuzz_jit" tests/fuzz/fuzz_jit.c runtime/jit*.c exec/exec.c exec/hll.c exec/cms.c \
        core/arena.c compiler/ast.c compiler/parse.c compiler/diag.c compiler/sema.c compiler/ir.c build/gen/lexer.c \
        build/gen/parser.c core/decode.c core/fields.c core/value.c \
        $(llvm-config --ldflags --libs core orcjit native passes) -lm
fi
if [ -f tests/fuzz/fuzz_report.c ]; then
    clang $CF -o "$OUT/fuzz_report" tests/fuzz/fuzz_report.c core/report.c core/decode.c \
        core/fields.c core/value.c
fi
if [ -f tests/fuzz/fuzz_netstate.c ]; then
    clang $CF -o "$OUT/fuzz_netstate" tests/fuzz/fuzz_netstate.c exec/netstate.c exec/rowfmt.c \
        core/json.c core/arena.c compiler/ast.c compiler/parse.c compiler/diag.c compiler/sema.c compiler/ir.c \
        build/gen/lexer.c build/gen/parser.c core/fields.c core/value.c
fi
if [ -f tests/fuzz/fuzz_plan.c ]; then
    clang $CF -o "$OUT/fuzz_plan" tests/fuzz/fuzz_plan.c planner/plan.c planner/rules.c \
        planner/split.c planner/targets.c core/json.c core/report.c \
        core/arena.c compiler/ast.c compiler/parse.c compiler/diag.c compiler/sema.c compiler/ir.c \
        build/gen/lexer.c build/gen/parser.c core/fields.c core/value.c
fi

# seed corpora (copied so the fuzzer can add to them)
mkdir -p "$OUT/corpus-query" "$OUT/corpus-decode"
for f in queries/*.htq tests/golden/*/*.htq; do
    [ -f "$f" ] && cp "$f" "$OUT/corpus-query/$(echo "$f" | tr / _)"
done
if [ -x "$OUT/fuzz_decode" ] && [ -f tests/fuzz/seed_frames.py ]; then
    python3 tests/fuzz/seed_frames.py tests/data "$OUT/corpus-decode"
fi
if [ -x "$OUT/fuzz_jit" ] && [ -f tests/fuzz/seed_jit.py ]; then
    mkdir -p "$OUT/corpus-jit"
    python3 tests/fuzz/seed_jit.py tests/data "$OUT/corpus-jit"
fi
if [ -x "$OUT/fuzz_report" ]; then
    mkdir -p "$OUT/corpus-report"
    # a few hand-made frames: the fixed schema's records, odd first byte
    python3 - "$OUT/corpus-report" <<'PY'
import struct, sys, os
d = sys.argv[1]
eth = b"\x02HTS\x00\x01\x02HTS\x00\x00\x88\xb5"
def frame(recs):
    hdr = b"HTSR" + bytes([1, 0]) + struct.pack(">H", len(recs)) + struct.pack(">Q", 0x1122334455667788) + struct.pack(">I", 7)
    return b"\x01" + eth + hdr + b"".join(recs)
wm = struct.pack(">HHHBBQ", 16, 0xffff, 0xffff, 3, 0, 123456789)
tup = struct.pack(">HHHBBQ", 16 + 1 + 4 + 1 + 2 + 16 + 6, 0, 1, 1, 0, 99) + bytes([0xf8]) + bytes(4) + b"\x02" + b"\x00\x05" + bytes(16) + bytes(6)
pk = struct.pack(">HHHBBQ", 16 + 12 + 20, 1, 0, 4, 0, 5) + struct.pack(">IHHHH", 20, 0, 101, 0, 0) + bytes([0x45]) + bytes(19)
par = struct.pack(">HHHBBQ", 16 + 12, 1, 0xffff, 6, 0, 3000000000) + b"threshold=50"
for i, recs in enumerate([[wm], [tup], [pk], [wm, tup, pk], [par, wm]]):
    open(os.path.join(d, "seed%d" % i), "wb").write(frame(recs))
PY
fi
if [ -x "$OUT/fuzz_plan" ]; then
    mkdir -p "$OUT/corpus-plan"
    for t in v1model tofino none; do
        for q in queries/new_tcp_conns.htq queries/port_scan.htq queries/syn_flood.htq; do
            [ -f "$q" ] || continue
            d=$(mktemp -d)
            if bin/htsc compile "$q" --target $t -o "$d" >/dev/null 2>&1 ||
               build/asan/bin/htsc compile "$q" --target $t -o "$d" >/dev/null 2>&1; then
                # an odd first byte: the target keeps the fingerprint in step
                { printf '\001'; cat "$d"/*.plan.json; } >"$OUT/corpus-plan/$t.$(basename "$q" .htq).json"
            fi
            rm -rf "$d"
        done
    done
fi

if [ -x "$OUT/fuzz_netstate" ]; then
    mkdir -p "$OUT/corpus-netstate"
    python3 - "$OUT/corpus-netstate" <<'PY'
import struct, sys, os
d = sys.argv[1]
head = lambda kind: b"HTSN" + bytes([1, kind, 2]) + b"s1" + struct.pack(">QQ", 7, 1)
wm = head(2) + struct.pack(">q", 3000000000)
vals = bytes([2, 1]) + struct.pack(">q", 5) + bytes([3, 1]) + bytes(4) + bytes([6, 1]) + struct.pack(">I", 3) + b"abc" + bytes([2, 0])
st = head(1) + bytes([1]) + b"q" + struct.pack(">HqHI", 3, 0, 4, 1) + vals
for i, m in enumerate([wm, st, b"\x01\x01" + vals]):
    open(os.path.join(d, "seed%d" % i), "wb").write(m)
PY
fi

status=0
for t in $TARGETS; do
    [ -x "$OUT/fuzz_$t" ] || continue
    if [ -n "$RUNS" ]; then
        limit="-runs=$RUNS"
        echo "fuzz: fuzz_$t for $RUNS executions"
    else
        limit="-max_total_time=$SECS"
        echo "fuzz: fuzz_$t for ${SECS}s"
    fi
    t0=$(date +%s)
    if ! (cd "$OUT" && ./fuzz_$t "$limit" -timeout=10 -rss_limit_mb=2048 \
            -max_len=65536 -print_final_stats=1 corpus-$t >fuzz_$t.log 2>&1); then
        echo "fuzz: fuzz_$t found a problem:" >&2
        tail -40 "$OUT/fuzz_$t.log" >&2
        status=1
    else
        grep -E "stat::number_of_executed_units|stat::average_exec_per_sec|stat::peak_rss_mb" \
            "$OUT/fuzz_$t.log" | sed "s/^/fuzz: fuzz_$t /"
        # coverage: the last status line (cov: edges, ft: features, corp: inputs)
        grep -E "^#[0-9]+" "$OUT/fuzz_$t.log" | tail -1 | sed "s/^/fuzz: fuzz_$t final: /"
        echo "fuzz: fuzz_$t took $(( $(date +%s) - t0 )) s"
    fi
done
exit $status
