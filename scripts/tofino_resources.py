#!/usr/bin/env python3
"""tofino_resources.py - the planner's resource model against the Tofino
compiler's allocation, per library query: stateful ALUs, register memory,
hash distribution units, PHV.

    scripts/tofino_resources.py [--only Q,Q] [--jobs N] [--markdown] [--from DIR] [--check]

For every query of queries/ (alone) it compiles the TNA program as
scripts/tofino_stages.py does (or reads the output that script kept with
--keep DIR: --from DIR), then reads what p4c-barefoot allocated from
pipe/NAME.bfa:

  SALUs      `stateful` sections of the ingress stages (one per
             RegisterAction'd register, the program's report sequence
             counter included);
  registers  each stateful register's size times its cell width (the p4
             size and `format` of the section);
  hash       hash distribution units: the distinct units named in each
             ingress stage's `hash_dist` blocks (an index computed for a
             SALU's address or put on the action bus), in all and the most
             in one stage;
  PHV        bits of the program's own metadata (`meta.*` in `phv ingress`),
             and the ingress PHV containers used, in bits (B 8, H 16, W 32).

The planner's figures are the totals of `htsc explain --target tofino`'s
resource table (per-stage SALUs, hash, register Kbit; the PHV line). The
planner does not count the program's fixed parts (the report sequence
counter, the window and mirror metadata): the columns show what it models
beside what the compiler allocated. docs/targets.md records the table
("Resources, planner against compiler"). Exit 0 unless a program fails to
compile, or, with --check (suite `tofino`), the SALUs or register memory
the planner models differ from the compiler's.
"""
import argparse
import glob
import os
import re
import subprocess
import sys
import tempfile
from concurrent.futures import ThreadPoolExecutor

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import tofino_stages  # noqa: E402  (its compile step, options, and where p4c-barefoot is)

CONTAINER_BITS = {"B": 8, "H": 16, "W": 32}
# SALUs every program has beside its operators' (p4gen/tna.c's report_seq,
# the records' sequence number), which the planner's table does not list.
REPORT_SALUS = 1


def planner(htsc, qfile):
    """Totals of the planner's resource table for one query on tofino."""
    r = subprocess.run([htsc, "explain", qfile, "--target", "tofino"],
                       capture_output=True, text=True)
    out = {"salus": 0, "hash": 0, "hash_max": 0, "reg_kbit": 0, "phv": None}
    for m in re.finditer(r"^\s+stage\s+\d+: tables\s+\d+\s+SALUs (\d+)\s+hash (\d+)\s+"
                         r"registers\s+(\d+) Kbit", r.stdout, re.M):
        out["salus"] += int(m.group(1))
        out["hash"] += int(m.group(2))
        out["hash_max"] = max(out["hash_max"], int(m.group(2)))
        out["reg_kbit"] += int(m.group(3))
    m = re.search(r"PHV (\d+) bits", r.stdout)
    if m:
        out["phv"] = int(m.group(1))
    return out


def container_bits(spec):
    """The (container, bit) pairs one `phv` line occupies: B3, H0(0..9),
    B2(7)."""
    bits = set()
    for m in re.finditer(r"\b([BHW]\d+)(?:\((\d+)(?:\.\.(\d+))?\))?", spec):
        c = m.group(1)
        lo = int(m.group(2)) if m.group(2) else 0
        hi = int(m.group(3)) if m.group(3) else (lo if m.group(2) else CONTAINER_BITS[c[0]] - 1)
        bits.update((c, b) for b in range(lo, hi + 1))
    return bits


def compiler(bfa_path):
    """What p4c-barefoot allocated in ingress, from the .bfa."""
    text = open(bfa_path).read().splitlines()
    out = {"salus": 0, "reg_bits": 0, "hash": 0, "meta_bits": 0, "containers": 0}
    section, gress, conts, in_stateful, in_hash, size = None, None, set(), False, False, 0
    units = set()
    meta = set()
    for line in text:
        m = re.match(r"^(phv|stage \d+) (ingress|egress):", line)
        if m:
            section, gress = m.group(1), m.group(2)
            continue
        if re.match(r"^\S", line):
            section = None
            continue
        if gress != "ingress" or section is None:
            continue
        if section == "phv":
            m = re.match(r"^\s+(\S+): \{(.*)\}", line)
            if m:
                name, spec = m.group(1), m.group(2)
                for c in re.findall(r"\b([BHW]\d+)\b", spec):
                    conts.add(c)
                if name.startswith("meta."):
                    meta |= container_bits(spec)
            continue
        if re.match(r"^  \S", line):
            in_stateful = re.match(r"^  stateful ", line) is not None
            if in_stateful:
                out["salus"] += 1
            in_hash = False
            continue
        if in_stateful:
            m = re.match(r"^    p4: \{ name: \S+, size: (\d+) \}", line)
            if m:
                size = int(m.group(1))
            m = re.match(r"^    format: \{(.*)\}", line)
            if m:
                out["reg_bits"] += size * sum(int(w) for w in re.findall(r":\s*(\d+)", m.group(1)))
            continue
        if re.match(r"^    hash_dist:", line):
            in_hash = True
            continue
        if in_hash:
            m = re.match(r"^      (\d+): \{", line)
            if m:
                units.add((section, m.group(1)))
            else:
                in_hash = False
    out["meta_bits"] = len(meta)
    out["hash"] = len(units)
    per = {}
    for st, _ in units:
        per[st] = per.get(st, 0) + 1
    out["hash_max"] = max(per.values(), default=0)
    out["containers"] = sum(CONTAINER_BITS[c[0]] for c in conts)
    return out


def one(args, qfile, tmp):
    q = os.path.basename(qfile)[:-4]
    d = os.path.join(args.from_dir or tmp, q)
    if not args.from_dir and tofino_stages.one(args, qfile, tmp)[1] != "compiled":
        return q, None, None
    bfa = glob.glob(os.path.join(d, "out", "pipe", "*.bfa"))
    if not bfa:
        return q, None, None
    return q, planner(args.htsc, qfile), compiler(bfa[0])


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    tofino_stages.common_args(ap)
    ap.add_argument("--from", dest="from_dir",
                    help="read the compiler's output kept by tofino_stages.py --keep DIR")
    ap.add_argument("--check", action="store_true",
                    help="fail when the SALUs or register memory the planner models differ from "
                    "the compiler's (the report counter aside)")
    ap.add_argument("--p4c", help="the p4c-barefoot to run (default: PATH, then $HTS_P4TOOLS/bin)")
    args = ap.parse_args()
    args.p4c = args.p4c or tofino_stages.tool()
    if not args.p4c and not args.from_dir:
        print("tofino_resources: p4c-barefoot not found (PATH, or HTS_P4TOOLS=../shared/p4tools)")
        return 1
    qs = tofino_stages.library(args.only)
    with tempfile.TemporaryDirectory() as tmp, ThreadPoolExecutor(args.jobs) as ex:
        res = list(ex.map(lambda q: one(args, q, tmp), qs))
    head = ("query", "SALUs plan/p4c", "register Kbit plan/p4c", "hash plan/p4c (stage max)",
            "PHV bits plan/p4c meta", "PHV containers p4c")
    if args.markdown:
        print("| " + " | ".join(head) + " |")
        print("|" + "---|" * len(head))
    else:
        print("%-22s %-15s %-23s %-26s %-23s %s" % head)
    failed = 0
    tot = [0, 0, 0, 0]
    for q, p, c in res:
        if c is None:
            failed += 1
            row = (q, "did not compile", "", "", "", "")
        else:
            tot[0] += p["salus"]
            tot[1] += c["salus"]
            row = (q, "%d / %d" % (p["salus"], c["salus"]),
                   "%d / %d" % (p["reg_kbit"], c["reg_bits"] // 1024),
                   "%d / %d (%d / %d)" % (p["hash"], c["hash"], p["hash_max"], c["hash_max"]),
                   "%s / %d" % (p["phv"] if p["phv"] is not None else "-", c["meta_bits"]),
                   "%d" % c["containers"])
        if args.markdown:
            print("| " + " | ".join(row) + " |")
        else:
            print("%-22s %-15s %-23s %-26s %-23s %s" % row)
    print("%stofino_resources: %d programs, %d did not compile; SALUs %d planned, %d allocated"
          % ("\n" if args.markdown else "", len(res), failed, tot[0], tot[1]))
    bad = []
    for q, p, c in res if args.check else []:
        if c is None:
            bad.append("%s did not compile" % q)
            continue
        if p["salus"] + REPORT_SALUS != c["salus"]:
            bad.append("%s: the planner models %d SALUs (+%d for the report counter), the "
                       "compiler allocated %d" % (q, p["salus"], REPORT_SALUS, c["salus"]))
        if p["reg_kbit"] != c["reg_bits"] // 1024:
            bad.append("%s: the planner models %d Kbit of registers, the compiler allocated %d"
                       % (q, p["reg_kbit"], c["reg_bits"] // 1024))
    for b in bad:
        print("FAIL tofino_resources: " + b)
    if args.check:
        print("tofino_resources: SALUs and register memory of %d programs against the "
              "compiler's: %s" % (len(res), "FAIL" if bad else "ok"))
    return 1 if failed or bad else 0


if __name__ == "__main__":
    sys.exit(main())
