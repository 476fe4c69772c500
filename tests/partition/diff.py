#!/usr/bin/env python3
"""diff.py - the partition differential test.

For every library query (queries/*.htq; tests/golden/ir/*.htq when the
library is empty) and the test's own (tests/partition/queries/*.htq: filters
the planner splits, planner/split.c), every capture in tests/data/ and
every target model, the
rows of the reference executor (`htsc run`) must equal, row for row, the rows
of the host part (`htsc host`) fed with the report frames of the data-plane
model (`htsc emulate`) for the plan `htsc compile` made:

  variant  targets                       what it proves
  low      none v1model tofino smartnic  thresholds lowered so rows appear;
                                         the planner's own cut
  default  tofino                        the library's parameters as written
  tiny     v1model tofino                --registers 4 --force-dp: every
                                         operator that can run in the data
                                         plane does, with 4-slot registers,
                                         so keys collide and the overflow and
                                         spill paths carry most tuples
  all      none v1model tofino smartnic  every query in one plan (shared
                                         resources, interleaved reports and
                                         watermarks, row order across queries)
  refine   v1model, tofino (4 slots)     queries with a refine hint,
                                         --force-refine --force-dp, thresholds
                                         set to 3: the gate sends the first
                                         tuples of each prefix to the host,
                                         the fine slots' partial state merges
                                         there (and, with 4 slots, coarse
                                         collisions and fine overflow); the
                                         test fails if no tuple was gated or
                                         no partial record sent

Runs in parallel (HTSC_JOBS, default: CPU count). Exit 1 on any difference,
printing the first differing line of each.
"""
import glob
import os
import re
import shutil
import subprocess
import sys
import tempfile
from concurrent.futures import ThreadPoolExecutor

HTSC = os.environ.get("HTSC", "bin/htsc")
TARGETS = ["none", "v1model", "tofino", "smartnic"]


def sh(args):
    return subprocess.run(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE)


def params(query):
    """The query's parameters from `htsc explain` (first line)."""
    out = sh([HTSC, "explain", query]).stdout.decode()
    res = {}
    for line in out.splitlines():
        if not line.startswith("query "):
            continue
        m = re.search(r" params (.*?)( refine |$)", line)
        if m:
            for item in m.group(1).split(", "):
                if "=" in item:
                    k, v = item.split("=", 1)
                    res.setdefault(k.strip(), v.strip())
    return res


def lowered(query):
    """--set values that make rows appear on small captures."""
    sets = []
    for k, v in params(query).items():
        if not re.fullmatch(r"-?\d+", v):
            continue
        if "threshold" in k or k.startswith("min_"):
            sets.append("%s=1" % k)
        elif k.startswith("max_"):
            sets.append("%s=1000000000" % k)
    return sets


def mid(query):
    """--set values that make a refinement gate both hold and open."""
    return [re.sub(r"=1$", "=3", x) for x in lowered(query)]


def main():
    queries = sorted(glob.glob("queries/*.htq")) or sorted(glob.glob("tests/golden/ir/*.htq"))
    queries += sorted(glob.glob("tests/partition/queries/*.htq"))
    captures = sorted(glob.glob("tests/data/*.pcap") + glob.glob("tests/data/*.pcapng"))
    if len(sys.argv) > 1:  # optional filters: substrings of query or capture names
        queries = [q for q in queries if any(a in q for a in sys.argv[1:])] or queries
    if not queries or not captures:
        print("partition: no queries or captures found", file=sys.stderr)
        return 1
    tmp = tempfile.mkdtemp(prefix="htsc-partition-")
    jobs = int(os.environ.get("HTSC_JOBS", os.cpu_count() or 2))
    plans = []  # (query, target, variant, sets, plan path)
    for q in queries:
        low = lowered(q)
        variants = [("low", t, low, []) for t in TARGETS]
        variants.append(("default", "tofino", [], []))
        variants += [("tiny", t, low, ["--registers", "4", "--force-dp"]) for t in ("v1model", "tofino")]
        if " refine " in open(q).read():
            force = ["--force-refine", "--force-dp"]
            variants.append(("refine", "v1model", mid(q), force))
            variants.append(("refine-tiny", "tofino", mid(q), force + ["--registers", "4"]))
        for name, t, sets, extra in variants:
            d = os.path.join(tmp, "%s.%s.%s" % (os.path.basename(q), t, name))
            args = [HTSC, "compile", q, "--target", t, "-o", d, "--plan-only"] + extra
            for s in sets:
                args += ["--set", s]
            plans.append((q, t, name, sets, d, args))
    if len(queries) > 1:
        low = sorted({s for q in queries for s in lowered(q)})
        for t in TARGETS:
            d = os.path.join(tmp, "ALL.%s" % t)
            args = [HTSC, "compile"] + queries + ["--target", t, "-o", d, "--plan-only"]
            for s in low:
                args += ["--set", s]
            plans.append((tuple(queries), t, "all", low, d, args))
    failures = []

    refused = []  # programs Tofino cannot mirror: refused at plan time, no plan to test

    def compile_one(pl):
        q, t, name, sets, d, args = pl
        r = sh(args)
        if r.returncode != 0:
            err = r.stderr.decode().strip()
            if t == "tofino" and ": error: tofino cannot mirror the records of " in err:
                return pl
            return "COMPILE %s %s %s: %s" % (name == "all" and "all" or q, t, name, err)
        return None

    with ThreadPoolExecutor(jobs) as ex:
        for err in ex.map(compile_one, plans):
            if isinstance(err, tuple):
                refused.append(err)
            elif err:
                failures.append(err)
    for pl in refused:
        plans.remove(pl)
        print("partition: %s %s %s refused by the planner (Tofino's mirror, "
              "docs/targets.md): not compared" % (pl[2] == "all" and "all" or pl[0], pl[1], pl[2]))
    if failures:
        print("\n".join(failures))
        return 1
    # reference rows, once per (query, lowered?, capture)
    ref = {}

    def qfiles(q):
        return list(q) if isinstance(q, tuple) else [q]

    def run_one(key):
        q, sets, c = key
        args = [HTSC, "run", "--max-delay", "0"] + qfiles(q) + ["--pcap", c]
        for s in sets:
            args += ["--set", s]
        return key, sh(args).stdout

    keys = {(q, tuple(sets), c) for (q, t, name, sets, d, args) in plans for c in captures}
    with ThreadPoolExecutor(jobs) as ex:
        for key, out in ex.map(run_one, sorted(keys, key=str)):
            ref[key] = out

    def diff_one(item):
        (q, t, name, sets, d, args), c = item
        plan = os.path.join(d, os.path.basename(qfiles(q)[0])[:-4] + ".plan.json")
        rep = os.path.join(d, os.path.basename(c) + ".reports.pcap")
        r = sh([HTSC, "emulate", plan, "--pcap", c, "-o", rep, "--stats"])
        if name.startswith("refine"):
            st = r.stderr.decode()
            for what in ("partial", "gated"):
                m = re.search(r"(\d+) %s" % what, st)
                refined[what] += int(m.group(1)) if m else 0
        if r.returncode != 0:
            return "EMULATE %s %s %s %s: %s" % (name, t, name, c, r.stderr.decode().strip())
        h = sh([HTSC, "host", plan, "--reports", rep])
        os.unlink(rep)
        if h.returncode != 0:
            return "HOST %s %s %s %s: %s" % (name, t, name, c, h.stderr.decode().strip())
        want = ref[(q, tuple(sets), c)]
        if h.stdout != want:
            a, b = want.decode().splitlines(), h.stdout.decode().splitlines()
            for i in range(max(len(a), len(b))):
                x = a[i] if i < len(a) else "<none>"
                y = b[i] if i < len(b) else "<none>"
                if x != y:
                    q = name == "all" and "all queries" or q
                    return ("DIFF %s %s %s %s: %d rows from run, %d from host; first "
                            "difference at row %d:\n  run:  %s\n  host: %s"
                            % (q, t, name, c, len(a), len(b), i + 1, x, y))
        return None

    refined = {"partial": 0, "gated": 0}
    items = [(pl, c) for pl in plans for c in captures]
    n = 0
    with ThreadPoolExecutor(jobs) as ex:
        for err in ex.map(diff_one, items):
            n += 1
            if err:
                failures.append(err)
    shutil.rmtree(tmp, ignore_errors=True)
    if failures:
        print("\n".join(failures[:40]))
        print("partition: %d of %d comparisons differ" % (len(failures), n))
        return 1
    print("partition: %d queries x %d captures: %d plans, %d comparisons, all equal"
          % (len(queries), len(captures), len(plans), n))
    if any(pl[2].startswith("refine") for pl in plans):
        print("partition: refinement: %d tuples gated to the host, %d partial records "
              "merged there" % (refined["gated"], refined["partial"]))
        if not refined["gated"] or not refined["partial"]:
            print("partition: the refinement variants never gated a tuple or never "
                  "sent a partial record: the test proves nothing about them")
            return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
