#!/usr/bin/env python3
"""bmv2_diff.py - the generated v1model P4 on BMv2, closed by htscp, against
the reference.

A deployment in miniature, on veth pairs (loopback only, nothing leaves the
machine). For each case (library queries and a capture):

  1. `htsc compile --target v1model` (small registers, so that hash
     collisions exercise overflow and spill), then `p4c-bm2-ss
     -DHTS_TIME_SHIM`: the test build takes each frame's time from an 8-byte
     shim in front of it (tests/tools/tsshim.c), as a tap's hardware
     timestamps would give it, so that the switch computes with the
     capture's times;
  2. `simple_switch` on three veths: port 0 (the tap), port 64 (reports),
     port 255 (the CPU port); `htscp` loads NAME.entries over Thrift and
     closes windows while the harness sends the capture into port 0, at a
     steady pace with a pause at each window boundary (a capture's windows
     last seconds; BMv2 replays them in tens of milliseconds), and records
     what leaves port 64;
  3. `htsd --plan` in report mode reads those frames from a DPDK net_pcap
     port: its rows must equal `htsc run`'s on the original capture exactly;
  4. the frames must be one numbered stream (sequence 0, 1, 2... with the
     control plane's frames among the clones), and their records must equal
     `htsc emulate`'s (the data-plane model) as a multiset, watermarks
     aside: the switch's control plane sends the watermark when it reads the
     time, the model at the packet that crosses a boundary;
  5. htscp must report no overrun, no unreadable slot and no send error; the
     switch must have seen every frame.

Live cases (LIVE): `htscp set QUERY.NAME=VALUE` mid-capture, after a given
number of window boundaries; htscp answers with the first window n that takes
it. The rows must equal `htsc run`'s with the old value before window n and
the new one from n on, and differ from the rows with no change (else the
case proves nothing); the records must equal the model's of the old plan
before n and of the changed plan from n on; the stream must hold exactly the
one param record that says so.

Usage: bmv2_diff.py (BIN, BUILD from the environment; tools from
scripts/p4tools.sh's variables). One line per case, then the totals; exit 1
on any difference. Needs root (veth pairs, raw sockets).
"""
import collections
import json
import os
import re
import shutil
import socket
import struct
import subprocess
import sys
import tempfile
import threading
import time

BIN = os.environ.get("BIN", "bin")
BUILD = os.environ.get("BUILD", "build")
HTSC = os.path.join(BIN, "htsc")
HTSD = os.path.join(BIN, "htsd")
HTSCP = os.path.join(BIN, "htscp")
TSSHIM = os.path.join(BUILD, "tools", "tsshim")
SWITCH = os.environ["P4T_simple_switch"]
CLI = os.environ["P4T_simple_switch_CLI"]
P4C = os.environ["P4T_p4c_bm2_ss"]
EAL = ["--no-huge", "--no-pci", "-m", "256", "--no-shconf", "--log-level=error",
       "--lcores", "0@0,1@1"]
D = "tests/data"
REGISTERS = "1024"      # slots per stateful operator: small, so keys collide
PPS = 500               # frames per second into the switch (BMv2 runs the 22
                        # library queries at about 700 on a 2-core machine)
CATCH_UP = 400          # every so many frames, wait until the switch has seen
                        # all but 100: a frame the switch's socket drops is lost
PAUSE = 0.25            # seconds at each window boundary: htscp closes the window
ETH_P_ALL = 3
# check-asan: generated Thrift code leaks a little at start-up (lsan.supp says what)
# (glib has no frame pointers: the slow unwinder finds the frames to match)
CP_ENV = dict(os.environ, LSAN_OPTIONS="suppressions=" +
              os.path.abspath("tests/bmv2/lsan.supp"),
              ASAN_OPTIONS=(os.environ.get("ASAN_OPTIONS", "") +
                            ":fast_unwind_on_malloc=0").lstrip(":"))
REP_WATERMARK = 3
REP_PARAM = 6
SEQ = 14 + 16


def run(cmd, **kw):
    return subprocess.run(cmd, capture_output=True, text=True, **kw)


def pcap_records(path):
    """(ts_ns, bytes) of each record of a classic pcap."""
    data = open(path, "rb").read()
    magic = struct.unpack("<I", data[:4])[0]
    end = "<" if magic in (0xA1B2C3D4, 0xA1B23C4D) else ">"
    nano = magic in (0xA1B23C4D, 0x4D3CB2A1)
    off, out = 24, []
    while off + 16 <= len(data):
        s, frac, cl, _ = struct.unpack(end + "IIII", data[off:off + 16])
        out.append((s * 10**9 + (frac if nano else frac * 1000), data[off + 16:off + 16 + cl]))
        off += 16 + cl
    return out


def write_pcap(path, frames):
    with open(path, "wb") as f:
        f.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 1))
        for t, b in frames:
            f.write(struct.pack("<IIII", int(t), int((t % 1) * 1e6), len(b), len(b)) + b)


def records(frame):
    """The records of a report frame, as bytes, and the frame's sequence."""
    count = struct.unpack(">H", frame[20:22])[0]
    seq = struct.unpack(">I", frame[SEQ:SEQ + 4])[0]
    off, out = 14 + 20, []
    for _ in range(count):
        length = struct.unpack(">H", frame[off:off + 2])[0]
        out.append(frame[off:off + length])
        off += length
    return seq, out


def kind(rec):
    return rec[6]


def sh(*cmd):
    r = run(list(cmd))
    if r.returncode:
        raise RuntimeError(f"{' '.join(cmd)}: {r.stderr.strip()}")


class Veths:
    """Three veth pairs: NAME-side for the switch, peer for the harness."""

    def __init__(self, n):
        self.pairs = {p: (f"hts{n}{p}s", f"hts{n}{p}h") for p in ("t", "r", "c")}
        for a, b in self.pairs.values():
            run(["ip", "link", "del", a])
            sh("ip", "link", "add", a, "type", "veth", "peer", "name", b)
            for i in (a, b):  # no IPv6: the kernel would send solicitations
                sh("sysctl", "-qw", f"net.ipv6.conf.{i}.disable_ipv6=1")
                sh("ip", "link", "set", i, "mtu", "9216")
                sh("ip", "link", "set", i, "up")

    def close(self):
        for a, _ in self.pairs.values():
            run(["ip", "link", "del", a])


class Capture(threading.Thread):
    def __init__(self, iface):
        super().__init__(daemon=True)
        self.s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(ETH_P_ALL))
        self.s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 32 << 20)
        self.s.bind((iface, 0))
        self.s.settimeout(0.1)
        self.frames, self.last, self.done = [], time.time(), False

    def run(self):
        while not self.done:
            try:
                b = self.s.recv(65536)
            except socket.timeout:
                continue
            self.frames.append((time.time(), b))
            self.last = time.time()

    def stop(self):
        self.done = True
        self.join()
        self.s.close()


def cli(port, text):
    return run([CLI, "--thrift-port", str(port)], input=text, timeout=60)


def reg_read(port, name):
    r = cli(port, f"register_read {name} 0\n")
    m = re.search(name + r"\[0\]\s*=\s*(\d+)", r.stdout)
    return int(m.group(1)) if m else -1


def windows(plan_path):
    """Window lengths (ns) of the plan's windowed queries."""
    plan = json.load(open(plan_path))["plan"]
    out = set()
    for q in plan["queries"]:
        w = q.get("window_ns") or 0
        if w:
            out.add(w)
    return sorted(out)


def refuse(ctl, bad):
    """Each (set, words) must be refused by `htscp set`: "error: ...", exit 1."""
    for arg, why in bad:
        r = run([HTSCP, "set", "--control", ctl, arg], timeout=60)
        if r.returncode != 1 or not r.stdout.startswith("error:") or why not in r.stdout:
            raise RuntimeError(f"htscp set {arg}: expected a refusal ({why}), got "
                               f"{r.returncode}: {r.stdout}")


def case(n, queries, capture, sets, live=None):
    label = (f"{len(queries)} queries" if len(queries) > 3 else
             "+".join(os.path.basename(q)[:-4] for q in queries)) + f" on {capture}"
    if live:
        label += f", live {live[0]} at window {live[1]}"
    work = tempfile.mkdtemp(prefix=f"bmv2_{n}_")
    procs, veth, cap = [], None, None
    try:
        src = os.path.join(D, capture)
        setargs = [a for s in sets for a in ("--set", s)]
        r = run([HTSC, "compile", *queries, "--target", "v1model", "--registers", REGISTERS,
                 *setargs, "-o", work])
        if r.returncode:
            return ("FAIL", label, f"htsc compile: {r.stderr.strip()}", {})
        stem = [f for f in os.listdir(work) if f.endswith(".plan.json")][0][:-len(".plan.json")]
        plan = os.path.join(work, stem + ".plan.json")
        prog = os.path.join(work, stem + ".bmv2.json")
        r = run([P4C, "-DHTS_TIME_SHIM", "-o", prog, os.path.join(work, stem + ".p4")])
        if r.returncode:
            return ("FAIL", label, f"p4c-bm2-ss: {r.stderr.strip()[-600:]}", {})
        shimmed = os.path.join(work, "shim.pcap")
        r = run([TSSHIM, src, shimmed])
        if r.returncode:
            return ("FAIL", label, f"tsshim: {r.stderr.strip()}", {})
        frames = pcap_records(shimmed)
        W = windows(plan) or [3 * 10**9]
        veth = Veths(n)
        t, rp, c = veth.pairs["t"], veth.pairs["r"], veth.pairs["c"]
        cap = Capture(rp[1])
        cap.start()
        tport = 9500 + n
        sw = subprocess.Popen([SWITCH, "-i", f"0@{t[0]}", "-i", f"64@{rp[0]}", "-i",
                               f"255@{c[0]}", "--thrift-port", str(tport), "--device-id",
                               str(tport), "--notifications-addr",
                               f"ipc://{work}/notifications.ipc", prog],
                              stdout=open(os.path.join(work, "switch.log"), "w"),
                              stderr=subprocess.STDOUT)
        procs.append(sw)
        deadline = time.time() + 30
        while reg_read(tport, "hts_packets") < 0:
            if time.time() > deadline or sw.poll() is not None:
                raise RuntimeError("the switch's Thrift server did not come up")
            time.sleep(0.3)
        cplog = open(os.path.join(work, "htscp.log"), "w")
        ctl = os.path.join(work, "htscp.sock")
        cp = subprocess.Popen([HTSCP, "--plan", plan, "--entries",
                               os.path.join(work, stem + ".entries"), "--switch",
                               f"127.0.0.1:{tport}", "--cpu-iface", c[1], "--control", ctl],
                              stdout=subprocess.PIPE, stderr=cplog, text=True, env=CP_ENV)
        procs.append(cp)
        deadline = time.time() + 30
        while "closing windows" not in open(os.path.join(work, "htscp.log")).read():
            if time.time() > deadline or cp.poll() is not None:
                raise RuntimeError("htscp did not start: " +
                                   open(os.path.join(work, "htscp.log")).read()[-400:])
            time.sleep(0.1)
        # the capture into the tap port: a steady pace, a pause at each window end
        out = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
        out.bind((t[1], 0))
        prev, t0, crossed, live_from = None, time.time(), 0, None
        for i, (_, b) in enumerate(frames):
            ts = struct.unpack(">Q", b[:8])[0]
            win = tuple(ts // w for w in W)
            if prev is not None and win != prev:
                time.sleep(PAUSE)
                crossed += 1
                if live and crossed == live[1]:  # the change, mid-capture
                    q, pname = live[0].split(".")[0], live[0].split(".")[1].split("=")[0]
                    refuse(ctl, [("nosuch.threshold=5", "no query"),
                                 (f"{q}.nosuch=5", "with a parameter 'nosuch'"),
                                 (f'{q}.{pname}="x"', "")])
                    r = run([HTSCP, "set", "--control", ctl, live[0]], timeout=60)
                    m = re.match(r"ok: .* from window (\d+) ", r.stdout)
                    if r.returncode or not m:
                        raise RuntimeError(f"htscp set: {r.stdout.strip()} {r.stderr.strip()}")
                    live_from = int(m.group(1))
                    refuse(ctl, [(live[0], "one change at a time")])
                t0 = time.time() - i / PPS
            prev = win
            ahead = t0 + i / PPS - time.time()
            if ahead > 0:
                time.sleep(ahead)
            out.send(b)
            if i and i % CATCH_UP == 0:
                deadline = time.time() + 60
                while reg_read(tport, "hts_packets") < i - 100:
                    if time.time() > deadline:
                        raise RuntimeError(f"the switch is stuck before frame {i}")
                    time.sleep(0.2)
                t0 = time.time() - i / PPS
        out.close()
        deadline = time.time() + 60
        while (seen := reg_read(tport, "hts_packets")) != len(frames):
            if time.time() > deadline:
                raise RuntimeError(f"the switch saw {seen} of {len(frames)} frames")
            time.sleep(0.5)
        cp.terminate()  # htscp closes the windows still held, then exits
        cpout, _ = cp.communicate(timeout=120)
        while time.time() - cap.last < 1.5:
            time.sleep(0.3)
        cap.stop()
        got, cap = cap.frames, None
        reports = os.path.join(work, "reports.pcap")
        write_pcap(reports, got)
        if live and live_from is None:
            raise RuntimeError(f"the capture has fewer than {live[1]} window boundaries")
        return finish(label, work, queries, src, sets, plan, reports, len(frames),
                      cp.returncode, cpout, live and (live[0], live_from))
    except Exception as ex:  # a harness failure is a test failure, named
        return ("FAIL", label, f"{type(ex).__name__}: {ex}", {})
    finally:
        if cap:
            cap.stop()
        for p in procs:
            if p.poll() is None:
                p.kill()
                p.wait()
        if veth:
            veth.close()
        if not os.environ.get("BMV2_KEEP"):
            shutil.rmtree(work, ignore_errors=True)


def by_query(text):
    """Each query's rows in order: the streams of different queries interleave
    by when their windows close, which the switch's control plane decides."""
    out = collections.defaultdict(list)
    for line in text.splitlines():
        m = re.match(r'\{"query":"([^"]*)"', line)
        out[m.group(1) if m else ""].append(line)
    return dict(out)


def live_rows(queries, src, setargs, change, plan):
    """htsc run's rows with the old value before window n, the new one from n
    on (n counted in the changed query's window length)."""
    s, n = change
    qname = s.split(".")[0]
    W = [q["window_ns"] for q in json.load(open(plan))["plan"]["queries"]
         if q["name"] == qname][0]
    old = run([HTSC, "run", "--max-delay", "0", *queries, "--pcap", src, *setargs]).stdout
    new = run([HTSC, "run", "--max-delay", "0", *queries, "--pcap", src, *setargs,
               "--set", s]).stdout
    keep = []
    for text, later in ((old, False), (new, True)):
        for line in text.splitlines(True):
            r = json.loads(line)
            if r["query"] != qname:
                if not later:
                    keep.append((0, line))
            elif (r["window_start"] >= n * W) == later:
                keep.append((r["window_start"], line))
    keep.sort(key=lambda x: x[0])  # stable: each query's rows keep their order
    return "".join(line for _, line in keep)


def finish(label, work, queries, src, sets, plan, reports, npackets, cprc, cpout,
           change=None):
    setargs = [a for s in sets for a in ("--set", s)]
    if change:
        want = live_rows(queries, src, setargs, change, plan)
        base = run([HTSC, "run", "--max-delay", "0", *queries, "--pcap", src,
                    *setargs]).stdout
    else:
        want = run([HTSC, "run", "--max-delay", "0", *queries, "--pcap", src,
                    *setargs]).stdout
    r = run(["timeout", "120", HTSD, "--plan", plan, "--idle-exit", "400", "--",
             *EAL, "--file-prefix", f"bmv2_{os.getpid()}_{os.path.basename(work)}",
             "--vdev", f"net_pcap0,rx_pcap={reports}"])
    got = r.stdout
    emu = os.path.join(work, "emulate.pcap")
    e = run([HTSC, "emulate", plan, "--pcap", src, "-o", emu])
    problems = []
    sw_recs, seqs, params = collections.Counter(), [], []
    for _, f in pcap_records(reports):
        seq, recs = records(f)
        seqs.append(seq)
        sw_recs.update(x for x in recs if kind(x) not in (REP_WATERMARK, REP_PARAM))
        params += [x for x in recs if kind(x) == REP_PARAM]
    if seqs != list(range(len(seqs))):
        problems.append("the report stream is not numbered 0, 1, 2...: frames lost or "
                        "out of order")
    model = collections.Counter()
    if e.returncode:
        problems.append(f"htsc emulate: {e.stderr.strip()}")
    else:
        for _, f in pcap_records(emu):
            model.update(x for x in records(f)[1] if kind(x) != REP_WATERMARK)
    if change:
        # the model's records: the plan's before window n, the changed plan's from n
        # on (a record's time: a tuple's packet, a row's window start)
        s_, n = change
        W = [q["window_ns"] for q in json.load(open(plan))["plan"]["queries"]
             if q["name"] == s_.split(".")[0]][0]
        newdir, emu2 = os.path.join(work, "changed"), os.path.join(work, "emulate2.pcap")
        r2 = run([HTSC, "compile", *queries, "--target", "v1model", "--registers", REGISTERS,
                  *setargs, "--set", s_, "-o", newdir])
        plan2 = [f for f in os.listdir(newdir) if f.endswith(".plan.json")] if not r2.returncode else []
        e2 = run([HTSC, "emulate", os.path.join(newdir, plan2[0]), "--pcap", src, "-o", emu2]) \
            if plan2 else r2
        if e2.returncode:
            problems.append(f"the changed plan: {e2.stderr.strip()}")
        later = collections.Counter()
        if not e2.returncode:
            for _, f in pcap_records(emu2):
                later.update(x for x in records(f)[1] if kind(x) != REP_WATERMARK)
        at = lambda x: struct.unpack(">Q", x[8:16])[0] >= n * W  # noqa: E731
        model = collections.Counter({x: k for x, k in model.items() if not at(x)})
        model.update({x: k for x, k in later.items() if at(x)})
        qs = json.load(open(plan))["plan"]["queries"]
        qid = [i for i, q in enumerate(qs) if q["name"] == s_.split(".")[0]][0]
        text = s_.split(".", 1)[1].encode()
        want_p = struct.pack(">HHHBBQ", 16 + len(text), qid, 0xFFFF, REP_PARAM, 0, n * W) + text
        if params != [want_p]:
            problems.append(f"expected one param record for window {n}, got {params}")
        if want == base:
            problems.append("the change does not change the rows: the case proves nothing")
    elif params:
        problems.append(f"{len(params)} param records, and no change was made")
    same = sum((sw_recs & model).values())
    fig = {"rows": want.count("\n"), "frames": len(seqs), "records": sum(sw_recs.values()),
           "records_equal": same, "packets": npackets}
    m = re.search(r"(\d+) windows closed.*?(\d+) late packets, (\d+) overruns, (\d+) "
                  r"passes waiting for a bank; (\d+) unreadable slots, (\d+) send errors",
                  cpout or "")
    if cprc or not m:
        log = open(os.path.join(work, "htscp.log")).read().strip().splitlines()
        problems.append(f"htscp exit {cprc}: {(cpout or '').strip()[-300:]}; its log: "
                        + " | ".join(log[-3:]))
    else:
        fig["windows"] = int(m.group(1))
        fig["late"] = int(m.group(2))
        fig["held"] = int(m.group(4))
    if r.returncode:
        problems.append(f"htsd exit {r.returncode}: {r.stderr.strip()[-300:]}")
    if by_query(got) != by_query(want):
        problems.append(f"rows differ: {want.count(chr(10))} from htsc run, "
                        f"{got.count(chr(10))} from htsd on the switch's reports")
    if not e.returncode and sw_recs != model:
        problems.append(f"report records: {sum(sw_recs.values())} from the switch, "
                        f"{sum(model.values())} from the model, {same} equal")
    if problems:
        return ("FAIL", label, "; ".join(problems), fig)
    return ("ok", label, f"{fig['rows']} rows equal, {fig['records']} records equal the "
            f"model's, {fig['frames']} frames in sequence, {fig.get('windows', 0)} windows "
            f"closed by htscp ({npackets} packets)", fig)


LIB = sorted(os.path.join("queries", f) for f in os.listdir("queries") if f.endswith(".htq"))
SETS = ["microbursts.win=3s"]
CAPTURES = ["synscan_1000_ports.pcap", "masscan_tcp_0_1000.pcap", "dns_exfiltration.pcap",
            "netflix.pcap", "ftp_brute_force.pcap"]


# Live changes through `htscp set`, after so many window boundaries: a
# threshold the data plane applies (htscp's window end: a default action),
# one the host applies (htsd: a version of the query from that window), and
# a filter constant of the data plane (a table's entries).
LIVE = [(["queries/new_tcp_conns.htq"], "ftp_brute_force.pcap", [],
         ("new_tcp_conns.threshold=50", 5)),
        (["queries/port_scan.htq"], "masscan_tcp_0_1000.pcap", [],
         ("port_scan.threshold=295", 1)),
        # a filter constant in the data plane: its table is cleared and filled again
        (["queries/ssh_brute.htq"], "ftp_brute_force.pcap", ["ssh_brute.threshold=1"],
         ("ssh_brute.port=21", 5))]


def main():
    only = os.environ.get("BMV2_ONLY")  # "QUERY.htq[+QUERY.htq],CAPTURE": one case, to debug
    if only:
        q, c = only.split(",")
        qs = [os.path.join("queries", x) for x in q.split("+")]
        live = os.environ.get("BMV2_LIVE")  # "QUERY.NAME=VALUE,BOUNDARY"
        live = (live.split(",")[0], int(live.split(",")[1])) if live else None
        print(case(0, qs, c, SETS if "queries/microbursts.htq" in qs else [], live))
        return 0
    cases = [(LIB, c, SETS, None) for c in CAPTURES] + LIVE
    if os.environ.get("BMV2_LIVE_ONLY"):  # the live cases alone, to debug
        cases = LIVE
    results = [case(i, *c) for i, c in enumerate(cases)]
    fail = 0
    tot = collections.Counter()
    for st, label, msg, fig in results:
        print(f"{st:6s} {label}: {msg}")
        fail |= st == "FAIL"
        if st == "ok":
            tot.update(fig)
    ok = sum(1 for r in results if r[0] == "ok")
    print(f"bmv2: {ok} of {len(results)} cases equal: {len(LIB)} library queries x "
          f"{len(CAPTURES)} captures and {len(LIVE)} live changes, "
          f"{tot['packets']} packets through simple_switch, "
          f"{tot['windows']} windows closed by htscp ({tot['held']} passes of packets waiting for "
          f"a bank, {tot['late']} late packets skipped), {tot['rows']} rows equal htsc run's, "
          f"{tot['records_equal']} of {tot['records']} report records equal the model's")
    return 1 if fail or ok == 0 else 0


if __name__ == "__main__":
    sys.exit(main())
