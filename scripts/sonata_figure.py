#!/usr/bin/env python3
"""sonata_figure.py - the figure Sonata is known for: records reaching the
host per packet in, per query and target.

For each target (none, v1model, tofino), the eleven Sonata queries of the
library are compiled together into one plan (they share the target's
resources, as in Sonata), trained on the capture itself (`--train`), run
through the data-plane model (`htsc emulate --stats`), and the records each
query sends to the host (tuples, rows and mirrored packets; watermarks are
not counted) are divided by the packets in. "all 11" sums the queries;
"all 11, as sent" counts what reaches the host: a packet that several
queries want whole is mirrored once, one packet record for all of them. Datasets: every capture in
tests/data (summed) and a larger generated trace (scripts/gen_trace.py).
Prints a Markdown table (docs/partitioning.md records one).

Usage: sonata_figure.py [--trace FILE] [--no-captures]
"""
import argparse
import glob
import os
import re
import subprocess
import sys
import tempfile
from concurrent.futures import ThreadPoolExecutor

HTSC = os.environ.get("HTSC", "bin/htsc")
SONATA = ["new_tcp_conns", "ssh_brute", "superspreader", "port_scan", "ddos", "syn_flood",
          "completed_flow", "slowloris", "dns_tunneling", "zorro", "dns_reflection"]
TARGETS = ["none", "v1model", "tofino"]


def run(tmp, target, capture):
    d = tempfile.mkdtemp(dir=tmp)
    files = ["queries/%s.htq" % q for q in SONATA if os.path.exists("queries/%s.htq" % q)]
    r = subprocess.run([HTSC, "compile"] + files + ["--target", target, "-o", d, "--plan-only",
                        "--train", capture], capture_output=True, text=True)
    if r.returncode:
        sys.exit("compile %s %s: %s" % (target, capture, r.stderr))
    plan = os.path.join(d, os.path.basename(files[0])[:-4] + ".plan.json")
    r = subprocess.run([HTSC, "emulate", plan, "--pcap", capture, "-o", os.path.join(d, "r.pcap"),
                        "--stats"], capture_output=True, text=True)
    if r.returncode:
        sys.exit("emulate %s %s: %s" % (target, capture, r.stderr))
    pk = int(re.search(r"(\d+) packets in", r.stderr).group(1))
    per = {m.group(1): int(m.group(2))
           for m in re.finditer(r"query (\w+): (\d+) records", r.stderr)}
    # as sent: a mirrored packet that several queries read is one record
    per["<sent>"] = int(re.search(r"(\d+) records to the host in all", r.stderr).group(1))
    opt = open(plan).read()
    proven = '"optimality": "optimal:' in opt
    for f in os.listdir(d):
        os.unlink(os.path.join(d, f))
    os.rmdir(d)
    return target, capture, pk, per, proven


def table(title, results):
    pk = {t: sum(r[2] for r in results if r[0] == t) for t in TARGETS}
    print("\n%s (%d packets)\n" % (title, pk[TARGETS[0]]))
    print("| query | " + " | ".join(TARGETS) + " |")
    print("|---|" + "---:|" * len(TARGETS))
    tot = {t: 0 for t in TARGETS}
    for q in SONATA:
        cells = []
        for t in TARGETS:
            n = sum(r[3].get(q, 0) for r in results if r[0] == t)
            tot[t] += n
            cells.append("%.5f" % (n / pk[t]) if pk[t] else "-")
        print("| %s | %s |" % (q, " | ".join(cells)))
    print("| all %d | %s |" % (len(SONATA), " | ".join("%.5f" % (tot[t] / pk[t]) for t in TARGETS)))
    sent = {t: sum(r[3]["<sent>"] for r in results if r[0] == t) for t in TARGETS}
    print("| all %d, as sent | %s |" % (len(SONATA), " | ".join(
        "%.5f" % (sent[t] / pk[t]) for t in TARGETS)))
    unproven = [r for r in results if not r[4]]
    print("\nplans proven optimal: %d of %d" % (len(results) - len(unproven), len(results)))
    for r in unproven:
        print("not proven: %s on %s" % (r[0], r[1]))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--trace")
    ap.add_argument("--no-captures", action="store_true")
    a = ap.parse_args()
    tmp = tempfile.mkdtemp(prefix="htsc-figure-")
    jobs = os.cpu_count() or 2
    if not a.no_captures:
        caps = sorted(glob.glob("tests/data/*.pcap") + glob.glob("tests/data/*.pcapng"))
        with ThreadPoolExecutor(jobs) as ex:
            res = list(ex.map(lambda tc: run(tmp, *tc), [(t, c) for t in TARGETS for c in caps]))
        table("Records to the host per packet, the %d captures of tests/data" % len(caps), res)
    if a.trace:
        with ThreadPoolExecutor(jobs) as ex:
            res = list(ex.map(lambda t: run(tmp, t, a.trace), TARGETS))
        table("Records to the host per packet, generated trace %s" % os.path.basename(a.trace), res)
    os.rmdir(tmp)


if __name__ == "__main__":
    main()
