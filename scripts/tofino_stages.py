#!/usr/bin/env python3
"""tofino_stages.py - each library query's TNA program through the open-source
Tofino back end (p4c-barefoot), against the planner's stage estimate.

    scripts/tofino_stages.py [--only Q,Q] [--jobs N] [--markdown] [--check FILE] [--planner] [--keep DIR]
                             [--combined] [--group NAME=Q,Q] [--refined] [--p4c-timeout S]

For every query of queries/ (alone), `htsc compile --target tofino` writes
the TNA program; p4c-barefoot (PATH, else $HTS_P4TOOLS/bin) compiles it
through PHV allocation and table placement, and the stages used per gress
are read from pipe/NAME.bfa (the highest `stage N ingress:` / `egress:`, plus
one). The planner's estimate is the highest stage `htsc explain --target
tofino` places an operator in, plus one. Prints a table: compiled or the
compiler's first error, stages per gress, the planner's figure, and whether
the program fits Tofino-1's 12 stages per gress (docs/targets.md, "Tofino's
compiler"). Exit 0 whatever it finds, unless --check FILE: then 1 when a
program does not compile, or needs more than 12 stages in a gress and FILE
does not list it, or more than FILE records for it (lines "QUERY INGRESS
EGRESS": the programs known to be over 12, issue 21's work; a regression
guard for the rest), or with --planner when an estimate is below the
compiler's ingress stages or more than one above. The suite `tofino` of
make check runs it so.
--combined adds the program of all the queries together (row ALL),
--group NAME=Q,Q,... the program of those queries together (row NAME),
--refined each query's program under --force-refine --force-dp where the
planner refines a groupby (row QUERY+refined); --check holds them to 12
stages per gress too, or to a refusal at plan time that names what does
not fit.
"""
import argparse
import glob
import os
import re
import shutil
import subprocess
import sys
import tempfile
from concurrent.futures import ThreadPoolExecutor

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def tool():
    t = shutil.which("p4c-barefoot")
    if t:
        return t
    p = os.path.join(os.environ.get("HTS_P4TOOLS", ""), "bin", "p4c-barefoot")
    return p if os.environ.get("HTS_P4TOOLS") and os.path.exists(p) else None


def planner_stages(htsc, qfile):
    """The planner's ingress estimate: the "stages N" of `htsc explain`'s
    resources line (the TNA stage model: operators, record flags, report)."""
    r = subprocess.run([htsc, "explain"] + ([qfile] if isinstance(qfile, str) else qfile)
                       + ["--target", "tofino"], capture_output=True, text=True)
    m = re.search(r"^\s+stages (\d+),", r.stdout, re.M)
    return int(m.group(1)) if m else None


def one(args, qfile, tmp):
    q = os.path.basename(qfile)[:-4]
    d = os.path.join(tmp, q)
    r = subprocess.run([args.htsc, "compile", qfile, "--target", "tofino", "-o", d],
                       capture_output=True, text=True)
    plan = planner_stages(args.htsc, qfile)
    if r.returncode != 0:
        return q, "refused by htsc: " + r.stderr.strip().splitlines()[0][:100], None, None, plan
    r = subprocess.run([args.p4c, "--target", "tofino", "--arch", "tna", "-o",
                        os.path.join(d, "out"), os.path.join(d, q + ".p4")],
                       capture_output=True, text=True, timeout=600)
    if r.returncode != 0:
        err = next((l for l in (r.stderr + r.stdout).splitlines() if "error" in l), "failed")
        err = re.sub(r"^.*?error: ", "", err).strip()
        return q, "error: " + err[:110], None, None, plan
    st = {"ingress": 0, "egress": 0}
    for bfa in glob.glob(os.path.join(d, "out", "pipe", "*.bfa")):
        for m in re.finditer(r"^\s*stage (\d+) (ingress|egress):", open(bfa).read(), re.M):
            st[m.group(2)] = max(st[m.group(2)], int(m.group(1)) + 1)
    return q, "compiled", st["ingress"], st["egress"], plan


def compile_rows(args, name, qfiles, flags, tmp):
    """One program of several queries or with extra htsc flags (--combined,
    --refined): a row like one()'s, named NAME; the planner's figure from
    `htsc explain` with the same flags."""
    d = os.path.join(tmp, name)
    r = subprocess.run([args.htsc, "compile"] + qfiles + ["--target", "tofino"] + flags
                       + ["-o", d], capture_output=True, text=True)
    e = subprocess.run([args.htsc, "explain"] + qfiles + ["--target", "tofino"] + flags,
                       capture_output=True, text=True)
    m = re.search(r"^\s+stages (\d+),", e.stdout, re.M)
    plan = int(m.group(1)) if m else None
    if r.returncode != 0:
        return name, "refused by htsc: " + r.stderr.strip().splitlines()[0][:100], None, None, plan
    prog = sorted(glob.glob(os.path.join(d, "*.p4")))[0]
    try:
        r = subprocess.run([args.p4c, "--target", "tofino", "--arch", "tna", "-o",
                            os.path.join(d, "out"), prog],
                           capture_output=True, text=True, timeout=args.p4c_timeout)
    except subprocess.TimeoutExpired:
        return name, "error: p4c-barefoot ran past %d s" % args.p4c_timeout, None, None, plan
    if r.returncode != 0:
        err = next((l for l in (r.stderr + r.stdout).splitlines() if "error" in l), "failed")
        err = re.sub(r"^.*?error: ", "", err).strip()
        return name, "error: " + err[:110], None, None, plan
    st = {"ingress": 0, "egress": 0}
    for bfa in glob.glob(os.path.join(d, "out", "pipe", "*.bfa")):
        for m in re.finditer(r"^\s*stage (\d+) (ingress|egress):", open(bfa).read(), re.M):
            st[m.group(2)] = max(st[m.group(2)], int(m.group(1)) + 1)
    return name, "compiled", st["ingress"], st["egress"], plan


def extra_programs(args, qs):
    """The programs besides each query alone: with --combined all of qs in
    one program (row ALL), with --refined each query the planner refines
    under --force-refine --force-dp (row QUERY+refined; a query whose plan
    refines nothing is left out: it is its plain program)."""
    progs = []
    if args.combined:
        progs.append(("ALL", qs, []))
    for g in args.group or []:
        name, _, members = g.partition("=")
        files = [os.path.join(ROOT, "queries", m + ".htq") for m in members.split(",") if m]
        progs.append((name.upper(), files, []))
    for q in qs if args.refined else []:
        flags = ["--force-refine", "--force-dp"]
        r = subprocess.run([args.htsc, "explain", q, "--target", "tofino"] + flags,
                           capture_output=True, text=True)
        if "refined:" in r.stdout:
            progs.append((os.path.basename(q)[:-4] + "+refined", [q], flags))
    return progs


def refused_by_planner(what):
    """A refusal at plan time naming what does not fit (gcc-shaped: FILE:LINE:COL:
    error: ...), which --check accepts for the --combined and --refined rows."""
    return what.startswith("refused by htsc: ") and ": error: " in what


def common_args(ap):
    """The options tofino_stages.py and tofino_resources.py share."""
    ap.add_argument("--htsc", default=os.path.join(ROOT, "bin", "htsc"))
    ap.add_argument("--only")
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--markdown", action="store_true")


def library(only):
    """The library's query files, or those --only names (Q,Q)."""
    qs = sorted(glob.glob(os.path.join(ROOT, "queries", "*.htq")))
    return [q for q in qs if os.path.basename(q)[:-4] in only.split(",")] if only else qs


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    common_args(ap)
    ap.add_argument("--check", help="fail on what FILE does not allow (see above)")
    ap.add_argument("--planner", action="store_true",
                    help="with --check, also fail when the planner's estimate is below the "
                    "compiler's ingress stages or more than 1 above (issue 21; the tofino suite "
                    "runs it so)")
    ap.add_argument("--keep", help="keep each program and the compiler's output under DIR/QUERY")
    ap.add_argument("--combined", action="store_true",
                    help="also the program of all the queries together (row ALL)")
    ap.add_argument("--group", action="append", metavar="NAME=Q,Q,...",
                    help="also the program of these library queries together (row NAME)")
    ap.add_argument("--refined", action="store_true",
                    help="also each query that --force-refine --force-dp refines (QUERY+refined)")
    ap.add_argument("--p4c-timeout", type=int, default=600,
                    help="seconds p4c-barefoot may take on a --combined/--refined program")
    ap.add_argument("--p4c", help="the p4c-barefoot to run (default: PATH, then $HTS_P4TOOLS/bin)")
    args = ap.parse_args()
    args.p4c = args.p4c or tool()
    if not args.p4c:
        print("tofino_stages: p4c-barefoot not found (PATH, or HTS_P4TOOLS=../shared/p4tools)")
        return 1
    qs = library(args.only)
    with tempfile.TemporaryDirectory() as tmp, ThreadPoolExecutor(args.jobs) as ex:
        if args.keep:
            os.makedirs(args.keep, exist_ok=True)
        res = list(ex.map(lambda q: one(args, q, args.keep or tmp), qs))
        res += list(ex.map(lambda x: compile_rows(args, x[0], x[1], x[2], args.keep or tmp),
                           extra_programs(args, qs)))
    ok = sum(1 for r in res if r[1] == "compiled")
    fit = sum(1 for r in res if r[1] == "compiled" and r[2] <= 12 and r[3] <= 12)
    if args.markdown:
        print("| query | p4c-barefoot | ingress stages | egress stages | planner | fits 12 |")
        print("|---|---|---|---|---|---|")
    for q, what, ig, eg, plan in res:
        fits = "yes" if ig is not None and ig <= 12 and eg <= 12 else "no"
        if args.markdown:
            print("| %s | %s | %s | %s | %s | %s |" % (q, what, ig if ig is not None else "-",
                                                      eg if eg is not None else "-",
                                                      plan if plan is not None else "-", fits))
        else:
            print("%-22s %-9s ingress %-3s egress %-3s planner %-3s %s" % (
                q, fits if ig is not None else "-", ig if ig is not None else "-",
                eg if eg is not None else "-", plan if plan is not None else "-",
                "" if what == "compiled" else what))
    print("%stofino_stages: %d of %d programs compile, %d within 12 stages per gress" % (
        "\n" if args.markdown else "", ok, len(res), fit))
    if not args.check:
        return 0
    known = {}
    extra = {"ALL"} | {g.partition("=")[0].upper() for g in args.group or []}
    for line in open(args.check):
        f = line.split("#")[0].split()
        if f:
            known[f[0]] = (int(f[1]), int(f[2]))
    bad = []
    for q, what, ig, eg, plan in res:
        if what != "compiled" and (q in extra or q.endswith("+refined")) and \
                refused_by_planner(what):
            continue
        if what != "compiled":
            bad.append("%s does not compile: %s" % (q, what))
        elif q in known and (ig > known[q][0] or eg > known[q][1]):
            bad.append("%s needs %d ingress / %d egress stages, more than the %d / %d of %s"
                       % (q, ig, eg, known[q][0], known[q][1], args.check))
        elif q not in known and (ig > 12 or eg > 12):
            bad.append("%s needs %d ingress / %d egress stages: over Tofino-1's 12" % (q, ig, eg))
    for q, what, ig, eg, plan in res:
        if args.planner and what == "compiled" and (plan is None or not ig <= plan <= ig + 1):
            bad.append("%s: planner estimates %s ingress stages, the compiler needs %d"
                       % (q, plan, ig))
    for b in bad:
        print("FAIL tofino: " + b)
    over = [q for q in known if any(r[0] == q and r[2] is not None and (r[2] > 12 or r[3] > 12)
                                    for r in res)]
    print("tofino: %d programs checked, %d known over 12 stages (%s): %s" % (
        len(res), len(over), ", ".join(over) or "none", "FAIL" if bad else "ok"))
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
