#!/bin/sh
# p4.sh - the generated P4 and control-plane entries.
#
#   tests/golden/p4/X.htq -> `htsc compile --target T` must write exactly
#       tests/golden/p4/X.T.p4 and X.T.entries (T: v1model, smartnic, tofino;
#       a "# p4.sh flags: ..." line in X.htq adds compile flags, a
#       "# p4.sh targets: ..." line picks the targets: X_refined.htq are
#       library queries with --force-refine --force-dp)
#   every generated program (the golden ones, every library query alone and
#       all of them in one plan, per target, and refined with --force-refine
#       --force-dp on v1model and tofino) passes tests/p4/p4check.py, the
#       structural checker that stands in for p4c (not packaged for Debian):
#       layout, declared-before-use, widths, the architecture's externs, and
#       for TNA registers only behind RegisterActions, executed at most once
#       per packet path; the checker catches planted errors of each kind.
# UPDATE=1 rewrites the expected files; review the diff before committing.
set -u
HTSC=${HTSC:-bin/htsc}
[ -x "$HTSC" ] || { echo "p4: $HTSC not built" >&2; exit 1; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail=0
n=0
compare() { # compare EXPECTED ACTUAL
    n=$((n + 1))
    if [ "${UPDATE:-0}" = 1 ]; then
        cp "$2" "$1"
    elif ! diff -u "$1" "$2" >"$tmp/diff"; then
        head -40 "$tmp/diff"
        echo "p4: $1 differs" >&2
        fail=1
    fi
}
for q in tests/golden/p4/*.htq; do
    b=${q%.htq}
    name=$(basename "$b")
    flags=$(sed -n 's/^# p4\.sh flags: //p' "$q")
    targets=$(sed -n 's/^# p4\.sh targets: //p' "$q")
    for t in ${targets:-v1model smartnic tofino}; do
        # shellcheck disable=SC2086 # flags: words
        if ! "$HTSC" compile "$q" --target $t $flags -o "$tmp/$t" 2>"$tmp/err"; then
            echo "p4: $q --target $t: $(cat "$tmp/err")" >&2
            fail=1
            continue
        fi
        compare "$b.$t.p4" "$tmp/$t/$name.p4"
        compare "$b.$t.entries" "$tmp/$t/$name.entries"
    done
done
# the structural checker over everything we generate
for t in v1model smartnic tofino; do
    mkdir -p "$tmp/lib-$t"
    for q in queries/*.htq; do
        "$HTSC" compile "$q" --target $t -o "$tmp/lib-$t" 2>>"$tmp/lib.err" || {
            echo "p4: $q --target $t: $(tail -1 "$tmp/lib.err")" >&2; fail=1; }
    done
    if [ $t = tofino ]; then
        # all 22 together do not fit Tofino: the planner refuses the program,
        # naming the queries (docs/targets.md, "Combined and refined programs")
        if "$HTSC" compile queries/*.htq --target $t -o "$tmp/all-$t" 2>"$tmp/all.err" ||
                ! grep -q "^queries/.*: error: tofino cannot mirror the records of '" "$tmp/all.err"; then
            echo "p4: all queries --target tofino: not refused by name: $(cat "$tmp/all.err")" >&2
            fail=1
        fi
        continue
    fi
    "$HTSC" compile queries/*.htq --target $t -o "$tmp/all-$t" 2>>"$tmp/lib.err" || {
        echo "p4: all queries --target $t: $(tail -1 "$tmp/lib.err")" >&2; fail=1; }
done
# ... and refined: every groupby that can be refined is, on the targets with registers
for t in v1model tofino; do
    mkdir -p "$tmp/ref-$t"
    for q in queries/*.htq tests/partition/queries/refine_shapes.htq; do
        "$HTSC" compile "$q" --target $t --force-refine --force-dp -o "$tmp/ref-$t" \
            2>>"$tmp/lib.err" || {
            echo "p4: $q --target $t --force-refine: $(tail -1 "$tmp/lib.err")" >&2; fail=1; }
    done
done
grep -q "_coarse_state" "$tmp"/ref-v1model/*.p4 && grep -q "_coarse_claim" "$tmp"/ref-tofino/*.p4 || {
    echo "p4: --force-refine generated no coarse level" >&2; fail=1; }
if ! python3 tests/p4/p4check.py tests/golden/p4/*.p4 "$tmp"/lib-*/*.p4 "$tmp"/all-*/*.p4 \
        "$tmp"/ref-*/*.p4; then
    echo "p4: the structural checker found problems" >&2
    fail=1
fi
# a threshold of three conjuncts (`a and b and c` nests to the left) keeps all three
cat >"$tmp/and3.htq" <<'EOF'
query and3 window 3s {
  packets
  | groupby ipv4.dst aggregate n = count(), m = max(ipv4.ttl)
  | filter n >= 1 and m > 2 and n >= 3
}
EOF
"$HTSC" compile "$tmp/and3.htq" --target v1model -o "$tmp/and3" 2>/dev/null &&
    grep -q "^table_set_default q0_n2_threshold q0_n2_set_threshold 1 2 3$" "$tmp/and3/and3.entries" &&
    grep -q "(meta.q0_n1_c2_v == 1 && (int<64>)meta.q0_n1_c2 > (int<64>)meta.q0_n2_t1)" \
        "$tmp/and3/and3.p4" || {
    echo "p4: a three-conjunct threshold lost a conjunct" >&2; fail=1; }
# the checker must catch what it claims to
sed 's/bit<64> ts;/bit<32> ts;/; s/mark_to_drop(/drop_it(/' tests/golden/p4/new_tcp_conns.v1model.p4 >"$tmp/bad.p4"
out=$(python3 tests/p4/p4check.py "$tmp/bad.p4")
echo "$out" | grep -q "width mismatch" && echo "$out" | grep -q "not an extern" || {
    echo "p4: the checker missed planted errors: $out" >&2; fail=1; }
# ... a gate's constants that do not match its action
sed 's/default_action = q0_n3_set_gate(40);/default_action = q0_n3_set_gate(40, 1);/' \
    tests/golden/p4/new_tcp_conns_refined.v1model.p4 >"$tmp/bad_gate.p4"
out=$(python3 tests/p4/p4check.py "$tmp/bad_gate.p4")
echo "$out" | grep -q "default action q0_n3_set_gate given 2 arguments" || {
    echo "p4: the checker missed a planted default action error: $out" >&2; fail=1; }
# ... and TNA's rules: a second execute of one register on a path, a register
# read outside a RegisterAction, an index type that is not the register's, a
# match kind and a hash algorithm tna.p4 does not have
sed 's/^\( *\)q0_n2_agg0_inc.execute(meta.q0_n2_idx);/&\n\1q0_n2_agg0_inc.execute(meta.q0_n2_idx);/
     s/= q0_n2_key0_check.execute(meta.q0_n2_idx);/= q0_n2_key0.read(meta.q0_n2_idx);/
     s/RegisterAction<bit<32>, bit<15>, bit<32>>(q0_n2_agg0)/RegisterAction<bit<32>, bit<16>, bit<32>>(q0_n2_agg0)/
     s/ternary @name("tcp_flags")/optional @name("tcp_flags")/; s/HashAlgorithm_t.CRC32/HashAlgorithm_t.CRC99/' \
    tests/golden/p4/new_tcp_conns.tofino.p4 >"$tmp/bad_tna.p4"
out=$(python3 tests/p4/p4check.py "$tmp/bad_tna.p4")
for want in "may execute 2 times" "outside a RegisterAction" "index type bit<16>" \
            "match kind 'optional'" "hash algorithm 'CRC99'"; do
    echo "$out" | grep -q -F "$want" || {
        echo "p4: the checker missed a planted TNA error ($want): $out" >&2; fail=1; }
done
# exclusive branches are fine: the write/check pair of a key word is not flagged
grep -q "_check.execute" tests/golden/p4/new_tcp_conns.tofino.p4 &&
    grep -q "_write.execute" tests/golden/p4/new_tcp_conns.tofino.p4 || {
    echo "p4: new_tcp_conns.tofino.p4 no longer has a write/check pair" >&2; fail=1; }
# what TNA cannot do is refused by name, gcc-style, and no P4 is left behind
mkdir -p "$tmp/refuse"
if "$HTSC" compile tests/golden/p4/new_tcp_conns.htq --target tofino --registers 1000 \
        -o "$tmp/refuse" >"$tmp/refuse.log" 2>&1 ||
   ! grep -q "error: tofino cannot place query 'new_tcp_conns' node 2 (groupby): 1000 register slots" "$tmp/refuse.log" ||
   [ -e "$tmp/refuse/new_tcp_conns.p4" ]; then
    echo "p4: tofino did not refuse 1000 slots by name: $(cat "$tmp/refuse.log")" >&2; fail=1
fi
[ $n -gt 0 ] || { echo "p4: no golden files" >&2; exit 1; }
[ $fail = 0 ] && echo "p4: $n golden files compared, generated P4 passes the structural checker"
exit $fail
