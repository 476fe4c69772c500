#!/bin/sh
# htsgen.sh - the traffic generator's injected attacks are found exactly as its
# ground truth says.
#
# Generates a 15 s synthetic trace (about 150k packets: Zipf flows, DNS,
# handshakes and teardowns) with a SYN flood, a port scan and an SSH brute
# force injected, then runs the library queries syn_flood, port_scan and
# ssh_brute through `htsc run` and compares every row (window, host, value)
# with the rows in htsgen's ground truth (its own accounting of the packets it
# wrote, independent of htsc). Also: the thresholds used are above everything
# the background reached, the attackers and victims are the ones reported,
# the same seed gives the same bytes, and `htsgen replay` writes N shifted
# copies with valid checksums (tshark checks them).
set -u
BUILD=${BUILD:-build}
BIN=${BIN:-bin}
HTSC=$BIN/htsc
for t in python3 tshark; do
    command -v $t >/dev/null || { echo "htsgen suite: $t is missing" >&2; exit 1; }
done
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
GEN=$BUILD/bench/htsgen
if [ ! -x "$GEN" ]; then # `make bench` builds it; a plain `make check` may not have
    GEN=$tmp/htsgen
    ${CC:-cc} -std=gnu11 -D_GNU_SOURCE -O2 -Wall -Wextra -Werror -o "$GEN" bench/htsgen.c -lpcap -lm ||
        { echo "FAIL cannot build bench/htsgen.c"; exit 1; }
fi
fail=0

SYN=100 SCAN=300 SSH=40
# attacks on window boundaries (windows are 3 s; the trace starts on one)
ARGS="--rate 10000 --duration 15 --snaplen 128 --syn-flood 2000,3,6 --scan 400,6,6 --ssh-brute 60,3,9"
# shellcheck disable=SC2086
"$GEN" synth -o "$tmp/t.pcap" --truth "$tmp/truth.json" --seed 42 $ARGS \
    --thresholds $SYN,$SCAN,$SSH 2>"$tmp/gen.err" ||
    { echo "FAIL htsgen synth"; cat "$tmp/gen.err"; exit 1; }
echo "ok   $(cat "$tmp/gen.err")"

"$HTSC" run queries/syn_flood.htq --pcap "$tmp/t.pcap" --set threshold=$SYN >"$tmp/syn_flood" &&
"$HTSC" run queries/port_scan.htq --pcap "$tmp/t.pcap" --set threshold=$SCAN >"$tmp/port_scan" &&
"$HTSC" run queries/ssh_brute.htq --pcap "$tmp/t.pcap" --set threshold=$SSH >"$tmp/ssh_brute" ||
    { echo "FAIL htsc run"; exit 1; }

python3 - "$tmp" <<'PY' || fail=1
import json, sys
d = sys.argv[1]
truth = json.load(open(d + "/truth.json"))
exp, att = truth["expected"], truth["attacks"]
W = truth["window_ns"]
cols = {"syn_flood": ("host", "half_open"), "port_scan": ("ipv4.src", "ports"),
        "ssh_brute": ("ipv4.dst", None)}
bad = 0
for q, (k, v) in cols.items():
    got = [json.loads(l) for l in open(d + "/" + q)]
    got = [(r["window_start"], r[k], r[v] if v else None) for r in got]
    want = [(r["window_start"], r[k], r[v] if v else None) for r in exp[q]["rows"]]
    if got != want:
        print("FAIL %s: htsc run gives %d rows, the ground truth %d" % (q, len(got), len(want)))
        for g, w in zip(got + [None] * len(want), want + [None] * len(got)):
            if g != w:
                print("    got %s, want %s" % (g, w))
                break
        bad = 1
        continue
    roles = sorted({r["role"] for r in exp[q]["rows"]})
    print("ok   %s: all %d rows equal the ground truth (roles: %s)" % (q, len(got), ", ".join(roles)))
    if "background" in roles:
        print("FAIL %s: a background host is reported" % q); bad = 1
    if exp[q]["background_max"] >= exp[q]["threshold"]:
        print("FAIL %s: the background reaches %d >= threshold %d" %
              (q, exp[q]["background_max"], exp[q]["threshold"])); bad = 1

def windows(a):  # the windows wholly inside an attack
    s, e = a["start_ns"], a["end_ns"]
    return [w for w in range(-(-s // W) * W, e, W) if w + W <= e]

def rows_of(q, host):
    col = cols[q][0]
    return {r["window_start"] for r in exp[q]["rows"] if r[col] == host}

checks = [
    ("syn flood victim", "syn_flood", att["syn_flood"]["victim"], att["syn_flood"]),
    ("scanner", "port_scan", att["port_scan"]["scanner"], att["port_scan"]),
    ("ssh brute-force server", "ssh_brute", att["ssh_brute"]["server"], att["ssh_brute"]),
]
for what, q, host, a in checks:
    ws = windows(a)
    missing = [w for w in ws if w not in rows_of(q, host)]
    if not ws or missing:
        print("FAIL %s %s: not reported in windows %s" % (what, host, missing or "(none)")); bad = 1
    else:
        print("ok   %s %s reported in all %d windows of the attack" % (what, host, len(ws)))
f = att["syn_flood"]
if f["syns"] != f["synacks"] or abs(f["syns"] - f["rate_pps"] * (f["end_ns"] - f["start_ns"]) / 1e9) > 0.1 * f["syns"]:
    print("FAIL syn flood: %d SYNs at %g pps" % (f["syns"], f["rate_pps"])); bad = 1
sys.exit(bad)
PY

# the same seed, the same capture; another seed, another
# shellcheck disable=SC2086
"$GEN" synth -o "$tmp/t2.pcap" --seed 42 $ARGS 2>/dev/null
# shellcheck disable=SC2086
"$GEN" synth -o "$tmp/t3.pcap" --seed 43 $ARGS 2>/dev/null
if cmp -s "$tmp/t.pcap" "$tmp/t2.pcap" && ! cmp -s "$tmp/t.pcap" "$tmp/t3.pcap"; then
    echo "ok   deterministic: same seed, same bytes; another seed, other bytes"
else
    echo "FAIL the capture does not depend on the seed alone"; fail=1
fi

# replay: 3 copies, shifted addresses and times, checksums still valid
src=tests/data/ftp_brute_force.pcap
"$GEN" replay $src 3 -o "$tmp/r.pcap" --gap 2 2>/dev/null || { echo "FAIL htsgen replay"; exit 1; }
n1=$(tshark -r $src 2>/dev/null | wc -l)
n3=$(tshark -r "$tmp/r.pcap" 2>/dev/null | wc -l)
s1=$(tshark -r $src -T fields -e ip.src 2>/dev/null | sort -u | wc -l)
s3=$(tshark -r "$tmp/r.pcap" -T fields -e ip.src 2>/dev/null | sort -u | wc -l)
badsum=$(tshark -r "$tmp/r.pcap" -o ip.check_checksum:TRUE -o tcp.check_checksum:TRUE \
    -Y "ip.checksum.status == 0 || tcp.checksum.status == 0" 2>/dev/null | wc -l)
orig_bad=$(tshark -r $src -o ip.check_checksum:TRUE -o tcp.check_checksum:TRUE \
    -Y "ip.checksum.status == 0 || tcp.checksum.status == 0" 2>/dev/null | wc -l)
if [ "$n3" -eq $((3 * n1)) ] && [ "$s3" -eq $((3 * s1)) ] && [ "$badsum" -eq $((3 * orig_bad)) ]; then
    echo "ok   replay: $n3 packets = 3 x $n1, $s3 sources = 3 x $s1, checksums as valid as the original's"
else
    echo "FAIL replay: $n3 packets (3 x $n1?), $s3 sources (3 x $s1?), $badsum bad checksums ($orig_bad in the original)"
    fail=1
fi
# replay's copies follow one another in time: copy k+1 starts after copy k ends
if ! tshark -r "$tmp/r.pcap" -T fields -e frame.time_epoch 2>/dev/null | python3 -c "
import sys
t = [float(l) for l in sys.stdin]
n = len(t) // 3
c = [t[i * n:(i + 1) * n] for i in range(3)]
sys.exit(0 if all(max(c[i]) < min(c[i + 1]) for i in range(2)) else 1)"; then
    echo "FAIL replay: the copies overlap in time"; fail=1
fi
exit $fail
