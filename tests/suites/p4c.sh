#!/bin/sh
# p4c.sh - the public P4 compiler accepts every program htsc generates.
#
# Programs: each library query alone, all of them in one program, each
# refined (--force-refine --force-dp: every refinable groupby refined, every
# operator that fits in the data plane), the golden inputs of tests/golden/p4
# and the split-filter shapes of tests/partition/queries; for v1model and for
# tofino (TNA). The SmartNIC's xsa.p4 is not public: its programs stay checked
# by the structural checker of the p4 suite alone (docs/targets.md).
#
#   v1model: p4test (front and mid end) and p4c-bm2-ss (BMv2 JSON, what
#            simple_switch loads)
#   tofino:  p4test with the TNA includes (-D__TARGET_TOFINO__=1)
#
# A program htsc refuses (gcc-shaped, no P4 written) is counted, not
# compiled. Any p4c error fails the suite; warnings are counted and printed.
# Tools: scripts/p4tools.sh (PATH, then $HTS_P4TOOLS/bin); exit 77 when they
# are missing outside CI (tests/run.sh prints the suite as NOT RUN).
set -u
cd "$(dirname "$0")/../.."
HTSC=${HTSC:-bin/htsc}
[ -x "$HTSC" ] || { echo "p4c: $HTSC not built" >&2; exit 1; }
. scripts/p4tools.sh
p4tools_find p4test p4c-bm2-ss || exit $?
[ -n "$P4T_INCLUDE" ] && [ -f "$P4T_INCLUDE/tofino-arch/tna.p4" ] || {
    echo "p4c: the TNA includes (p4include/tofino-arch/tna.p4) are not under \$HTS_P4TOOLS" >&2
    [ "${HTS_P4TOOLS_REQUIRED:-0}" = 1 ] && exit 1
    exit 77
}
export P4T_p4test P4T_p4c_bm2_ss P4T_INCLUDE

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
refused=0

# gen NAME TARGET [FLAGS...] -- FILES...: one program in $work/TARGET/NAME/
gen() {
    name=$1 target=$2
    shift 2
    flags=""
    while [ "$1" != "--" ]; do flags="$flags $1"; shift; done
    shift
    out="$work/$target/$name"
    mkdir -p "$out"
    # shellcheck disable=SC2086
    if ! "$HTSC" compile "$@" --target "$target" $flags -o "$out" >"$out/htsc.log" 2>&1; then
        if grep -q "error:" "$out/htsc.log" && ! ls "$out"/*.p4 >/dev/null 2>&1; then
            refused=$((refused + 1))
            echo "refused by htsc: $target $name: $(grep -m1 error: "$out/htsc.log")"
            return 0
        fi
        echo "p4c: htsc compile failed for $target $name:" >&2
        cat "$out/htsc.log" >&2
        exit 1
    fi
}

for target in v1model tofino; do
    for q in queries/*.htq; do
        n=$(basename "$q" .htq)
        gen "$n" "$target" -- "$q"
        gen "${n}_refined" "$target" --force-refine --force-dp -- "$q"
    done
    gen all "$target" -- queries/*.htq
    gen all_refined "$target" --force-refine --force-dp -- queries/*.htq
    for q in tests/golden/p4/*.htq tests/partition/queries/*.htq; do
        gen "golden_$(basename "$q" .htq)" "$target" -- "$q"
    done
done

# one line per program and tool: TOOL TARGET FILE
for f in "$work"/v1model/*/*.p4; do
    echo "p4test v1model $f"
    echo "p4c-bm2-ss v1model $f"
done >"$work/jobs"
for f in "$work"/tofino/*/*.p4; do
    echo "p4test tofino $f"
done >>"$work/jobs"

# runs one job; prints "ok|FAIL TOOL TARGET FILE WARNINGS"
cat >"$work/job.sh" <<'EOF'
tool=$1 target=$2 f=$3
log=${f%.p4}.$tool.log
case "$tool/$target" in
p4test/v1model) "$P4T_p4test" "$f" >"$log" 2>&1 ;;
p4c-bm2-ss/v1model) "$P4T_p4c_bm2_ss" -o "${f%.p4}.bmv2.json" "$f" >"$log" 2>&1 ;;
p4test/tofino) "$P4T_p4test" -I "$P4T_INCLUDE/tofino-arch" -D__TARGET_TOFINO__=1 "$f" >"$log" 2>&1 ;;
esac
rc=$?
w=$(grep -c "warning" "$log")
if [ $rc -eq 0 ] && ! grep -q "error" "$log"; then
    echo "ok $tool $target $f $w"
else
    echo "FAIL $tool $target $f $w"
fi
EOF
xargs -P "$(nproc)" -L 1 sh "$work/job.sh" <"$work/jobs" >"$work/results"

fail=0
while read -r st tool target f w; do
    if [ "$st" != ok ]; then
        fail=1
        echo "p4c: $tool ($target) rejects $(basename "$(dirname "$f")")/$(basename "$f"):" >&2
        sed 's/^/    /' "${f%.p4}.$tool.log" | head -20 >&2
    fi
done <"$work/results"

# a v1model JSON that simple_switch would load has its pipelines
for j in "$work"/v1model/*/*.bmv2.json; do
    grep -q '"pipelines"' "$j" || { echo "p4c: $j has no pipelines" >&2; fail=1; }
done

echo "programs compiled, per target and tool (warnings in brackets):"
for tt in "p4test v1model" "p4c-bm2-ss v1model" "p4test tofino"; do
    set -- $tt
    ok=$(awk -v t="$1" -v g="$2" '$2 == t && $3 == g && $1 == "ok"' "$work/results" | wc -l)
    all=$(awk -v t="$1" -v g="$2" '$2 == t && $3 == g' "$work/results" | wc -l)
    warn=$(awk -v t="$1" -v g="$2" '$2 == t && $3 == g { s += $5 } END { print s + 0 }' "$work/results")
    echo "  $2 $1: $ok of $all accepted [$warn]"
done
echo "  refused by htsc (gcc-shaped, no P4): $refused"
[ "$(wc -l <"$work/results")" -gt 100 ] || { echo "p4c: too few programs compiled" >&2; fail=1; }
exit $fail
