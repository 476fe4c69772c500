#!/usr/bin/env python3
"""bench.py - every benchmark of `make bench`, printed as one table.

Called by scripts/bench.sh after the build. Generates its captures with
build/bench/htsgen into build/bench/data, then measures:

  gen      htsgen's own speed
  exec     the reference executor (interpreter), packets/s per library query,
           capture in memory (build/bench/bench_exec)
  jit      build/bench/bench_jit if it exists (JIT vs interpreter vs C)
  export   per-record cost of the export path outside DPDK and Kafka
           (build/bench/bench_export)
  htsd     htsd on a DPDK net_pcap port, one worker lcore: without rows, into
           librdkafka's mock cluster, into a real Kafka broker (several
           producer settings), per-row JSON, and windowed result rows
           (scripts/bench_kafka.py)
  reduce   data-plane reduction: records to the host / packets in, per query
           and target (htsc compile + emulate + host)
  compile  htsc check / explain / compile over the whole library
  memory   bytes of state per key and peak resident memory for a million keys
           in one window (htsc run and htsd, /usr/bin/time -v)

Each figure is the median of several runs, with min..max. Ratios are taken
between figures of the same command or the same run. BENCH_QUICK=1 runs
fewer and smaller. Results are also written to build/bench/results.json.
"""
import glob
import json
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "scripts"))
import bench_kafka  # noqa: E402

os.chdir(ROOT)
BUILD = os.environ.get("BUILD", "build")
BIN = os.environ.get("BIN", "bin")
HTSC = os.path.join(BIN, "htsc")
HTSD = os.path.join(BIN, "htsd")
B = os.path.join(BUILD, "bench")
DATA = os.path.join(B, "data")
QUICK = os.environ.get("BENCH_QUICK") == "1"
HIGH_TOUCH_PER_CORE = 10.4e6 / 5  # ESnet High Touch: 10.4 Mpps on 5 cores
TARGET_PER_CORE = 3e6
# glibc's malloc without trimming or per-batch mmap: what recycling htsd's batch
# buffers would give, measured without changing htsd (docs/benchmarks.md)
NOTRIM = ("GLIBC_TUNABLES=glibc.malloc.trim_threshold=4294967295:"
          "glibc.malloc.mmap_threshold=33554432:glibc.malloc.top_pad=268435456")

rows = []  # (section, figure, median, spread, runs, unit, note)
results = {}


def log(msg):
    sys.stderr.write("bench: %s\n" % msg)
    sys.stderr.flush()


def fmt(v):
    if v is None:
        return "-"
    if isinstance(v, str):
        return v
    if isinstance(v, int) and abs(v) < 10000:
        return str(v)
    a = abs(v)
    if a >= 1e6:
        return "%.2fM" % (v / 1e6)
    if a >= 1e4:
        return "%.0fk" % (v / 1e3)
    if a >= 100:
        return "%.0f" % v
    if a >= 1:
        return "%.2f" % v
    return "%.4f" % v


def add(section, figure, median, lo=None, hi=None, runs=None, unit="", note=""):
    spread = "%s..%s" % (fmt(lo), fmt(hi)) if lo is not None and hi is not None else "-"
    rows.append((section, figure, fmt(median), spread, str(runs) if runs else "-", unit, note))
    results.setdefault(section, []).append(
        {"figure": figure, "median": median, "min": lo, "max": hi, "runs": runs, "unit": unit,
         "note": note})


def na(section, figure, why):
    rows.append((section, figure, "n/a", "-", "-", "", why))
    results.setdefault(section, []).append({"figure": figure, "median": None, "note": why})


def cpu_hz():
    """The CPU's clock (Hz) from /proc/cpuinfo, for cycles per packet; None if unknown."""
    try:
        for line in open("/proc/cpuinfo"):
            if line.startswith("cpu MHz"):
                return float(line.split(":")[1]) * 1e6
    except OSError:
        pass
    return None


def run(cmd, **kw):
    return subprocess.run(cmd, capture_output=True, text=True, **kw)


def timed(cmd, n):
    """Wall seconds of n runs of cmd (output discarded); None if it fails."""
    ts = []
    for _ in range(n):
        t0 = time.perf_counter()
        p = subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        ts.append(time.perf_counter() - t0)
        if p.returncode != 0:
            return None, p.stderr.decode(errors="replace").strip().splitlines()[-1:] or ["failed"]
    return ts, None


def med(v):
    return statistics.median(v), min(v), max(v)


# ---------------------------------------------------------------- captures

GEN = os.path.join(B, "htsgen")


def gen(name, *args):
    path = os.path.join(DATA, name)
    t0 = time.perf_counter()
    p = run([GEN, "synth", "-o", path] + list(args))
    if p.returncode != 0:
        raise RuntimeError("htsgen: " + p.stderr)
    return path, time.perf_counter() - t0, p.stderr.strip()


def captures():
    os.makedirs(DATA, exist_ok=True)
    big_n = 1000000 if QUICK else 3000000
    caps = {}
    # the realistic mix: Zipf flows, DNS, attacks; 200k packets/s of trace time
    ts = []
    for i in range(1 if QUICK else 3):
        caps["big"], t, msg = gen("mix_big.pcap", "--packets", str(big_n), "--rate", "200000",
                                  "--snaplen", "128", "--seed", "1")
        ts.append(t)
    m = med([big_n / t for t in ts])
    add("gen", "htsgen synth, realistic mix (%s packets, snaplen 128)" % fmt(big_n), *m,
        runs=len(ts), unit="pkt/s", note=msg.replace("htsgen: ", "").split(";")[0])
    caps["mix"], _, _ = gen("mix_1m.pcap", "--packets", str(300000 if QUICK else 1000000),
                            "--rate", "200000", "--snaplen", "128", "--seed", "2")
    caps["red"], _, _ = gen("mix_300k.pcap", "--packets", "300000", "--rate", "100000",
                            "--snaplen", "128", "--seed", "3")
    caps["mem"], _, _ = gen("mix_6k.pcap", "--packets", "6000", "--rate", "200000",
                            "--snaplen", "128", "--seed", "4", "--no-attacks")
    # a million sources in one 3 s window (DNS only, every client once), and a thousand
    nk = 1000000
    caps["keys1m"], _, _ = gen("src_1m.pcap", "--mix", "dns=1", "--clients", str(nk),
                               "--client-seq", "--packets", str(2 * nk), "--rate", "1000000",
                               "--no-attacks", "--snaplen", "128", "--seed", "5")
    caps["keys1k"], _, _ = gen("src_1k.pcap", "--mix", "dns=1", "--clients", "1000",
                               "--client-seq", "--packets", str(2 * nk), "--rate", "1000000",
                               "--no-attacks", "--snaplen", "128", "--seed", "5")
    caps["big_n"] = big_n
    return caps


# ---------------------------------------------------------------- latency

def bench_latency(caps, have_kafka):
    """From a window's end in event time to its last row acknowledged by the
    broker (htsd's own measure, printed at exit): captures of DNS clients
    replayed at their own pace (--replay-speed 1), so that event time runs
    with the clock; one row per source and window."""
    if not os.path.exists(HTSD):
        na("latency", "htsd", "bin/htsd not built")
        return
    cases = []
    for keys, win, pk, rate in ((10, "100ms", 300000, 100000),
                                (10000, "100ms", 300000, 100000),
                                (1000000, "1s", 2000000, 1000000)):
        name = "lat_%d.pcap" % keys
        path, _, _ = gen(name, "--mix", "dns=1", "--clients", str(keys), "--client-seq",
                         "--packets", str(pk), "--rate", str(rate), "--no-attacks",
                         "--snaplen", "128", "--seed", "6")
        cases.append((keys, win, path, pk / rate))
    targets = [("mock", "mock")]
    br = None
    if have_kafka:
        try:
            br = Broker()
            targets.append(("broker", br.start()))
        except Exception as e:  # noqa: BLE001
            na("latency", "real broker", repr(e)[:100])
            br = None
    runs = 1 if QUICK else 2
    eal = ["--no-huge", "--no-pci", "-m", "1024", "--no-shconf", "--log-level=error", "-l", "0,1"]
    try:
        for label, brokers in targets:
            for keys, win, path, secs in cases:
                p50, p99, mx, n = [], [], [], 0
                for r in range(runs):
                    p = run([HTSD, "--query", "bench/queries/window_keys.htq", "--set",
                             "win=" + win, "--brokers", brokers, "--topic-prefix",
                             "lat%d_%d." % (r, keys), "--replay-speed", "1", "--idle-exit",
                             "500", "--", "--file-prefix", "lat", "--vdev",
                             "net_pcap0,rx_pcap=" + path] + eal)
                    m = re.search(r"window latency .*?: (\d+) windows, p50 ([0-9.]+) ms, p99 "
                                  r"([0-9.]+) ms, max ([0-9.]+) ms", p.stderr)
                    if p.returncode != 0 or not m:
                        na("latency", "%s, %s keys" % (label, fmt(keys)),
                           "htsd failed: " + p.stderr.strip()[-100:])
                        break
                    n += int(m.group(1))
                    p50.append(float(m.group(2)))
                    p99.append(float(m.group(3)))
                    mx.append(float(m.group(4)))
                else:
                    add("latency", "%s: %s keys per window (%s windows, %.0f s replayed at "
                        "its pace): p50" % (label, fmt(keys), win, secs),
                        statistics.median(p50), min(p50), max(p50), runs, "ms",
                        "window end -> last row acked; %d windows in all" % n)
                    add("latency", "%s: %s keys per window: p99" % (label, fmt(keys)),
                        statistics.median(p99), min(p99), max(p99), runs, "ms",
                        "max %.1f ms" % max(mx))
    finally:
        if br:
            br.stop()


# ---------------------------------------------------------------- network-wide

def bench_netwide(caps):
    """What a site of network-wide queries sends: the mixed capture split by
    flow into 3 sites, each an htsd --site into librdkafka's mock cluster
    (tests/netwide/sites.htq); state rows and messages per window per site,
    and the site's time against the same queries answered locally."""
    if not os.path.exists(HTSD):
        na("netwide", "htsd --site", "bin/htsd not built")
        return
    split = os.path.join(BUILD, "tools", "splitpcap")
    pref = os.path.join(DATA, "site")
    if run([split, caps["mix"], pref, "3"]).returncode != 0:
        na("netwide", "sites", "splitpcap failed")
        return
    local = os.path.join(DATA, "sites_local.htq")
    with open("tests/netwide/sites.htq") as f, open(local, "w") as g:
        g.write(f.read().replace(" network-wide", ""))
    eal = ["--no-huge", "--no-pci", "-m", "512", "--no-shconf", "--log-level=error", "-l", "0,1"]
    runs = 2 if QUICK else 3
    for i in range(3):
        cap = "%s%d.pcap" % (pref, i)
        st = subprocess.run(["capinfos", "-u", "-c", "-M", cap], capture_output=True, text=True)
        dur = re.search(r"Capture duration:\s+([0-9.]+)", st.stdout)
        pk = re.search(r"Number of packets:\s+(\d+)", st.stdout)
        windows = max(1, int(float(dur.group(1)) // 3) + 1) if dur else 1
        times = {"site": [], "local": []}
        out = None
        for _ in range(runs):
            for mode, q, extra in (("site", "tests/netwide/sites.htq",
                                    ["--site", "s%d" % i, "--site-count", "3"]),
                                   ("local", local, [])):
                t0 = time.perf_counter()
                p = run([HTSD, "--query", q, "--brokers", "mock", "--idle-exit", "300"] + extra +
                        ["--", "--file-prefix", "nwb%d" % i, "--vdev",
                         "net_pcap0,rx_pcap=" + cap] + eal)
                times[mode].append(time.perf_counter() - t0)
                if p.returncode != 0:
                    na("netwide", "site %d" % i, "htsd failed: " + p.stderr.strip()[-80:])
                    return
                if mode == "site":
                    out = p.stderr
        m = re.search(r"(\d+) state rows of network-wide queries in (\d+) messages "
                      r"\((\d+) watermarks\)", out or "")
        if not m:
            na("netwide", "site %d" % i, "no site summary")
            return
        rows_, msgs, wms = (int(x) for x in m.groups())
        npk = int(pk.group(1)) if pk else 0
        add("netwide", "site s%d of 3 (%s packets, %d windows of 3 s): state rows per window"
            % (i, fmt(npk), windows), rows_ / windows, unit="rows",
            note="%d rows in %d messages (%d watermark rounds to 12 partitions); %.4f state "
                 "rows per packet" % (rows_, msgs, wms, rows_ / npk if npk else 0))
        s, l_ = statistics.median(times["site"]), statistics.median(times["local"])
        add("netwide", "site s%d: htsd --site time / the same queries answered locally" % i,
            s / l_, runs=runs, unit="x",
            note="%.2f s against %.2f s, wall, process included" % (s, l_))


# ---------------------------------------------------------------- exec, jit

# the eleven queries of Sonata's figure (scripts/sonata_figure.py)
SONATA_QUERIES = ("new_tcp_conns", "ssh_brute", "superspreader", "port_scan", "ddos", "syn_flood",
                  "completed_flow", "slowloris", "dns_tunneling", "zorro", "dns_reflection")


def library():
    return sorted(glob.glob("queries/*.htq"))


def bench_exec(caps):
    exe = os.path.join(B, "bench_exec")
    if not os.path.exists(exe):
        na("exec", "bench_exec", "build/bench/bench_exec not built")
        return {}
    p = run([exe, caps["mix"], "1"] + library())
    out = {}
    for line in p.stdout.splitlines():
        m = re.match(r"(\S+)\s+(\d+)\s+([\d.]+)\s+(\d+)\s+(\d+)\s+\(spread (\d+)\.\.(\d+)", line)
        if m:
            q = m.group(1)
            out[q] = float(m.group(4))
            add("exec", "interpreter %s" % q, float(m.group(4)), float(m.group(6)),
                float(m.group(7)), 5, "pkt/s", "%s rows; %s packets in memory" % (
                    fmt(int(m.group(5))), fmt(int(m.group(2)))))
    if not out:
        na("exec", "bench_exec", (p.stderr or p.stdout).strip()[-100:])
    return out


def bench_jit(caps):
    exe = os.path.join(B, "bench_jit")
    if not os.path.exists(exe):
        na("jit", "JIT vs interpreter vs hand-written C", "build/bench/bench_jit not available yet")
        na("compile", "JIT compile time per query", "build/bench/bench_jit not available yet")
        return
    p = run([exe, caps["mix"], "1"] + library(), timeout=1800)
    lines = [l for l in p.stdout.splitlines() if l.strip()]
    if p.returncode != 0 or not lines:
        na("jit", "bench_jit", "failed: " + (p.stderr.strip().splitlines() or ["?"])[-1][:80])
        return
    num = r"([\d.]+|-)"
    pat = re.compile(r"(\S+)\s+" + r"\s+".join([num] * 7) + r"\s+(.*)$")
    cold, warm = [], []
    for l in lines:
        m = pat.match(l.strip())
        if not m or m.group(1) == "query":
            if not l.startswith("query"):  # anything else it says, verbatim
                rows.append(("jit", l.strip()[:110], "", "", "", "", ""))
            continue
        q, jit, interp, hand, ji, hj, cc_cold, cc_warm, eng = m.groups()
        rows.append(("jit", "%s: jit | interp | hand-written C, one core" % q,
                     "%s | %s | %s" % (jit, interp, hand), "-", "5", "Mpps",
                     "jit/interp %s, hand/jit %s; %s" % (ji, hj, eng)))
        try:
            cold.append(float(cc_cold))
            warm.append(float(cc_warm))
        except ValueError:
            pass
    if warm:
        add("compile", "JIT compile per query (LLVM), warm: median over %d queries" % len(warm),
            *med(warm), runs=len(warm), unit="ms", note="min..max over queries; bench_jit")
        add("compile", "JIT compile per query (LLVM), first in the process", *med(cold),
            runs=len(cold), unit="ms", note="min..max over queries; bench_jit")
    results["jit"] = lines


def bench_export(caps):
    exe = os.path.join(B, "bench_export")
    if not os.path.exists(exe):
        na("export", "bench_export", "not built")
        return {}
    p = run([exe, caps["mix"]])
    out = {}
    for line in p.stdout.splitlines():
        m = re.match(r"(\w+)\s+([\d.]+) ns/record\s+\(spread ([\d.]+)\.\.([\d.]+)\)(?:\s+([\d.]+) bytes)?",
                     line)
        if m:
            step = m.group(1)
            out[step] = float(m.group(2))
            what = {"exec": "decode + interpreter to the row (worker)",
                    "copy": "row copy into the hand-over batch (worker)",
                    "htx": "HTX1 encode, 256 records/batch (main lcore)",
                    "json": "JSON row + key, per record (main lcore)"}[step]
            add("export", "%s: %s" % (step, what), float(m.group(2)), float(m.group(3)),
                float(m.group(4)), 5, "ns/rec",
                "%s bytes/record" % m.group(5) if m.group(5) else "")
    if not out:
        na("export", "bench_export", (p.stderr or p.stdout).strip()[-100:])
    return out


# ---------------------------------------------------------------- htsd + Kafka

class Broker:
    def __init__(self):
        self.dir = tempfile.mkdtemp(prefix="hts-bench-kafka-", dir="/tmp")
        self.env = dict(os.environ, KAFKA_STATE_DIR=os.path.join(self.dir, "state"))
        self.addr = None

    def start(self):
        p = subprocess.run(["scripts/kafka-broker.sh", "start"], env=self.env,
                           capture_output=True, text=True)
        if p.returncode != 0:
            raise RuntimeError("the broker did not start: " + p.stderr.strip()[-200:])
        e = subprocess.run(["scripts/kafka-broker.sh", "env"], env=self.env, capture_output=True,
                           text=True).stdout
        self.addr = re.search(r"KAFKA_BROKERS=(\S+)", e).group(1)
        # pin the broker (every JVM thread) away from the worker lcore's CPU 1
        ncpu = os.cpu_count() or 1
        cpus = "0" if ncpu < 4 else "2-%d" % (ncpu - 1)
        pid = open(os.path.join(self.env["KAFKA_STATE_DIR"], "broker.pid")).read().strip()
        subprocess.run(["taskset", "-a", "-p", "-c", cpus, pid], capture_output=True)
        self.cpus = cpus
        return self.addr

    def stop(self):
        subprocess.run(["scripts/kafka-broker.sh", "stop"], env=self.env, capture_output=True)
        shutil.rmtree(self.dir, ignore_errors=True)


def kafka_cfg(label, brokers, pcap, queries, runs, extra=()):
    argv = ["--htsd", HTSD, "--brokers", brokers, "--pcap", pcap, "--runs", str(runs),
            "--label", label]
    for q in queries:
        argv += ["--query", q]
    argv += list(extra)
    log("htsd: %s" % label)
    with open(os.path.join(B, "bench_kafka.log"), "a") as lg:
        r = bench_kafka.measure(argv, log=lg)
    results.setdefault("htsd_raw", []).append(r)
    return r


def bench_htsd(caps, have_kafka):
    if not os.path.exists(HTSD):
        na("htsd", "htsd", "bin/htsd not built (DPDK or librdkafka missing)")
        return
    runs = 2 if QUICK else 3
    big, mem = caps["big"], caps["mem"]
    xq = ["queries/export_headers.htq"]
    nb = fmt(caps["big_n"])
    secs = "3" if QUICK else "5"

    def put(r, figure, key="acked_per_s", unit="rec/s", note="", ratio=True):
        if "error" in r:
            na("htsd", figure, "htsd failed")
            return None
        s = r[key]
        n = note
        if ratio and s["median"]:
            n = ("%.2fx High Touch/core, %.0f%% of 3M target; " % (
                s["median"] / HIGH_TOUCH_PER_CORE, 100 * s["median"] / TARGET_PER_CORE)) + n
        if key == "acked_per_s" and r.get("acked_steady_per_s"):
            n += "; streaming %s/s" % fmt(r["acked_steady_per_s"]["median"])
        if not r["ok"]:
            n = "NOT ALL DELIVERED; " + n
        add("htsd", figure, s["median"], s["min"], s["max"], r["runs"], unit, n.strip("; "))
        return s["median"]

    def note_of(r, extra=""):
        if "error" in r:
            return ""
        n = "in %s pkt/s" % fmt(r["in_per_s"]["median"])
        if r.get("ring_full"):
            n += "; main lcore behind: worker spun %s times on a full ring" % fmt(r["ring_full"])
        return (extra + "; " + n) if extra else n

    engines = ["interp", "jit"] if htsd_has_jit() else ["interp"]
    nomem = ["--infinite", "--seconds", secs]
    # the worker alone: every packet decoded and executed, no row
    r = kafka_cfg("no rows, file", "none", big, xq, runs, ["--set", "net=192.0.2.255/32"])
    put(r, "worker, no rows (export_headers, net matches nothing), %s pkts from file, interp" % nb,
        "in_per_s", "pkt/s", ratio=False, note="libpcap file reading in the worker's time")
    # the floor: testpmd's rxonly loop (build/bench/rxfloor; Debian ships no
    # dpdk-testpmd) on the same vdev and mbufs, in this run
    floor = None
    fl = os.path.join(B, "rxfloor")
    if os.path.exists(fl):
        fs = []
        for i in range(runs):
            p = run([fl, secs, "--", "--no-huge", "--no-pci", "-m", "1024", "--no-shconf",
                     "--log-level=error", "--file-prefix", "rf%d_%d" % (os.getpid(), i),
                     "--lcores", "0@0,1@1", "--vdev", "net_pcap0,rx_pcap=%s,infinite_rx=1" % mem])
            m = re.search(r"([0-9.]+) pkt/s", p.stdout)
            if m:
                fs.append(float(m.group(1)))
        if fs:
            floor = med(fs)
            add("htsd", "receive floor: rx burst + free (testpmd rxonly's loop), mbufs replayed",
                *floor, runs=len(fs), unit="pkt/s", note="%.1f ns per packet (build/bench/rxfloor)"
                % (1e9 / floor[0]))
    if floor is None:
        na("htsd", "receive floor (build/bench/rxfloor)", "not built or failed")
    hz = cpu_hz()
    for e in engines:
        for name, q, sets in (("no rows", "queries/export_headers.htq", ["--set", "net=192.0.2.255/32"]),
                              ("new_tcp_conns", "queries/new_tcp_conns.htq", []),
                              ("port_scan", "queries/port_scan.htq", [])):
            r = kafka_cfg("%s, memory, %s" % (name, e), "none", mem, [q], runs,
                          sets + ["--engine", e] + nomem)
            if "error" in r:
                put(r, "worker, %s, mbufs replayed, --engine %s" % (name, e))
                continue
            pps = r["in_per_s"]["median"]
            n = "6k-packet capture in mbufs, %ss; %.1f ns per packet" % (secs, 1e9 / pps)
            if hz:
                n += ", %.0f cycles" % (hz / pps)
            if floor:
                n += "; htsd/floor %.2f" % (pps / floor[0])
            put(r, "worker, %s, mbufs replayed (infinite_rx), --engine %s" % (name, e), "in_per_s",
                "pkt/s", ratio=False, note=n)
    # htsd + librdkafka, no JVM
    for e in engines:
        r = kafka_cfg("mock file %s" % e, "mock", big, xq, runs, ["--engine", e])
        put(r, "export_headers -> librdkafka mock cluster, %s pkts from file, %s" % (nb, e),
            note=note_of(r))
        r = kafka_cfg("mock memory %s" % e, "mock", mem, xq, runs, ["--engine", e] + nomem)
        put(r, "export_headers -> mock cluster, mbufs replayed (infinite_rx), %s" % e,
            note=note_of(r))
    r = kafka_cfg("mock memory %s notrim" % engines[-1], "mock", mem, xq, runs,
                  ["--engine", engines[-1], "--env", NOTRIM] + nomem)
    put(r, "the same, %s, glibc malloc never trims (GLIBC_TUNABLES, no code change)" % engines[-1],
        note=note_of(r))
    if not have_kafka:
        na("htsd", "export_headers -> Kafka broker", "java, mvn or kcat missing")
        return
    br = Broker()
    try:
        brokers = br.start()
    except Exception as e:  # noqa: BLE001
        na("htsd", "export_headers -> Kafka broker", str(e)[:100])
        br.stop()
        return
    try:
        best = engines[-1]
        # a fresh JVM spends its first seconds compiling the broker (C1/C2 threads took
        # 15% of CPU 0 in a profile): one uncounted run first, as a deployment's broker is warm
        kafka_cfg("broker warm-up (not counted)", brokers, mem, xq, 1,
                  ["--engine", best, "--infinite", "--seconds", "8"])
        for e in engines:
            r = kafka_cfg("kafka file %s" % e, brokers, big, xq, runs,
                          ["--engine", e] + (["--verify"] if e == engines[0] else []))
            n = note_of(r, "broker on CPU %s" % br.cpus)
            if "consumed_records" in r:
                n += "; kcat read back %d of %d records" % (r["consumed_records"],
                                                           r["produced_records"])
            put(r, "export_headers -> Kafka, HTX1, %s pkts from file, defaults, %s" % (nb, e),
                note=n)
            r = kafka_cfg("kafka memory %s" % e, brokers, mem, xq, runs, ["--engine", e] + nomem)
            put(r, "export_headers -> Kafka, HTX1, mbufs replayed (infinite_rx), defaults, %s" % e,
                note=note_of(r))
        # exactly once: the same export in Kafka transactions (htsd --exactly-once)
        r = kafka_cfg("kafka file %s exactly-once" % best, brokers, big, xq, runs,
                      ["--engine", best, "--exactly-once"])
        put(r, "export_headers -> Kafka, HTX1, %s pkts from file, --exactly-once "
            "(transactions, commit every 100 ms), %s" % (nb, best), note=note_of(r))
        r = kafka_cfg("kafka file %s notrim" % best, brokers, big, xq, runs,
                      ["--engine", best, "--env", NOTRIM])
        put(r, "export_headers -> Kafka, %s pkts from file, defaults, %s, glibc malloc never "
            "trims" % (nb, best), note=note_of(r, NOTRIM.split("=", 1)[1]))
        settings = [
            ("-X compression.codec=lz4 linger.ms=50 batch.size=8000000",
             ["-X", "compression.codec=lz4", "-X", "linger.ms=50", "-X", "batch.size=8000000"]),
            ("-X acks=1 enable.idempotence=false + the same",
             ["-X", "enable.idempotence=false", "-X", "acks=1", "-X", "compression.codec=lz4",
              "-X", "linger.ms=50", "-X", "batch.size=8000000"]),
        ]
        for what, x in settings:
            r = kafka_cfg("kafka %s" % what, brokers, big, xq, runs, x + ["--engine", best])
            put(r, "export_headers -> Kafka, %s pkts from file, %s, %s" % (nb, best, what),
                note=note_of(r))
        # per-row JSON, one Kafka message per packet: on the 300k capture
        r = kafka_cfg("kafka json", brokers, caps["red"], xq, runs, ["--export-json"])
        put(r, "export_headers -> Kafka, --export-json (1 JSON message per row), 300k pkts",
            ratio=False, note=note_of(r))
        # windowed: a million result rows when the window closes
        r = kafka_cfg("kafka windowed", brokers, caps["keys1m"], ["bench/queries/src_count.htq"],
                      runs)
        put(r, "windowed src_count: 1M JSON rows at window close -> Kafka", "rows_per_s",
            "rows/s", ratio=False, note="rows / (window close .. all acked)")
        r = kafka_cfg("mock windowed", "mock", caps["keys1m"], ["bench/queries/src_count.htq"],
                      runs)
        put(r, "windowed src_count: 1M JSON rows at window close -> mock cluster", "rows_per_s",
            "rows/s", ratio=False, note="rows / (window close .. all acked)")
    finally:
        br.stop()


def htsd_has_jit():
    p = run([HTSD, "--help"])
    return "--engine" in (p.stdout + p.stderr) and "jit" in (p.stdout + p.stderr)


# ---------------------------------------------------------------- reduction

def bench_reduce(caps):
    p = run([HTSC])
    if "compile" not in (p.stdout + p.stderr):
        na("reduce", "data-plane reduction", "htsc compile not available yet")
        return
    red = caps["red"]
    npk = 300000
    targets = ("v1model", "tofino", "smartnic")
    per = {t: [] for t in targets}
    for qf in library():
        q = os.path.basename(qf)[:-4]
        vals, notes = [], []
        for target in targets:
            d = tempfile.mkdtemp(prefix="hts-bench-plan-")
            try:
                c = run([HTSC, "compile", qf, "--target", target, "-o", d])
                plan = os.path.join(d, q + ".plan.json")
                if c.returncode != 0 or not os.path.exists(plan):
                    vals.append("n/a")
                    why = (c.stderr.strip().splitlines() or ["?"])[-1]
                    notes.append("%s: %s" % (target, why.split(": ", 2)[-1][:50]))
                    continue
                rep = os.path.join(d, "reports.pcap")
                e = run([HTSC, "emulate", plan, "--pcap", red, "-o", rep])
                h = run([HTSC, "host", plan, "--reports", rep, "--stats"]) if e.returncode == 0 else e
                m = re.search(r"(\d+) frames.* (\d+) records", h.stderr)
                if e.returncode != 0 or h.returncode != 0 or not m:
                    vals.append("fail")
                    notes.append("%s: %s" % (target, ((e.stderr or h.stderr).strip().splitlines()
                                                      or ["failed"])[-1][:40]))
                    continue
                rec = int(m.group(2))
                per[target].append(rec / npk)
                vals.append("%.4f" % (rec / npk))
            finally:
                shutil.rmtree(d, ignore_errors=True)
        rows.append(("reduce", "%s: records to host / packets in, v1model | tofino | smartnic" % q,
                     " | ".join(vals), "-", "1", "ratio", "; ".join(notes)))
        results.setdefault("reduce", []).append({"query": q, "targets": dict(zip(targets, vals)),
                                                 "packets": npk})
    for t in targets:
        if per[t]:
            add("reduce", "%s: median over the %d queries it compiles" % (t, len(per[t])),
                *med(per[t]), runs=len(per[t]), unit="ratio", note="min..max over queries")


# ---------------------------------------------------------------- compile

def bench_compile():
    n = 5 if QUICK else 9
    lib = library()
    cases = [("htsc check queries/*.htq (%d queries)" % len(lib), [HTSC, "check"] + lib),
             ("htsc explain queries/*.htq", [HTSC, "explain"] + lib)]
    p = run([HTSC])
    if "compile" in (p.stdout + p.stderr):
        d = tempfile.mkdtemp(prefix="hts-bench-compile-")
        # all 22 on one Tofino pipeline are refused at plan time (8 records
        # that carry the frame, past the 4 its egress lists: docs/targets.md);
        # Sonata's eleven share one, as in Sonata
        son = [q for q in lib if os.path.basename(q)[:-4] in SONATA_QUERIES]
        cases += [("htsc explain --target tofino (Sonata's %d queries)" % len(son),
                   [HTSC, "explain", "--target", "tofino"] + son),
                  ("htsc compile --target tofino (Sonata's %d queries)" % len(son),
                   [HTSC, "compile"] + son + ["--target", "tofino", "-o", d]),
                  ("htsc compile --target v1model queries/*.htq",
                   [HTSC, "compile"] + lib + ["--target", "v1model", "-o", d])]
    else:
        na("compile", "htsc explain/compile --target", "not available yet")
    for what, cmd in cases:
        ts, err = timed(cmd, n)
        if ts is None:
            na("compile", what, "failed: %s" % err[0].split(": ", 2)[-1][:80])
            continue
        m = med([t * 1000 for t in ts])
        nq = sum(1 for a in cmd if a.endswith(".htq"))
        add("compile", what, *m, runs=n, unit="ms", note="%.2f ms/query" % (m[0] / nq))
    if "compile" in (p.stdout + p.stderr):
        shutil.rmtree(d, ignore_errors=True)


# ---------------------------------------------------------------- memory

def maxrss_kb(cmd):
    p = subprocess.run(["/usr/bin/time", "-v"] + cmd, stdout=subprocess.DEVNULL,
                       stderr=subprocess.PIPE, text=True)
    m = re.search(r"Maximum resident set size \(kbytes\): (\d+)", p.stderr)
    return (int(m.group(1)) if m else None), p


def bench_memory(caps):
    if not os.path.exists("/usr/bin/time"):
        na("memory", "peak RSS", "/usr/bin/time missing")
        return
    n = 3
    k1m, k1k = 1000000 + 8, 1000 + 8  # clients + the resolvers that answer them
    cases = [("htsc run src_count (groupby src: count, sum)",
              lambda cap: [HTSC, "run", "bench/queries/src_count.htq", "--pcap", cap, "--set",
                           "threshold=1000000000"], k1m, k1k, "keys"),
             ("htsc run superspreader (distinct src,dst + groupby)",
              lambda cap: [HTSC, "run", "queries/superspreader.htq", "--pcap", cap, "--set",
                           "threshold=1000000000"], 2 * 1000000, 2 * 8 * 1000, "pairs")]
    if os.path.exists(HTSD):
        cases.append(("htsd src_count, 1 worker",
                      lambda cap: [HTSD, "--query", "bench/queries/src_count.htq", "--set",
                                   "threshold=1000000000", "--idle-exit", "50", "-q", "--",
                                   "--no-huge", "--no-pci", "-m", "512", "--no-shconf",
                                   "--log-level=error", "--file-prefix", "hbm%d" % os.getpid(),
                                   "--lcores", "0@0,1@1", "--vdev", "net_pcap0,rx_pcap=" + cap],
                      k1m, k1k, "keys"))
    for what, mk, kbig, ksmall, unit in cases:
        big, small = [], []
        for _ in range(n):
            rb, pb = maxrss_kb(mk(caps["keys1m"]))
            rs, ps = maxrss_kb(mk(caps["keys1k"]))
            if rb is None or rs is None or pb.returncode or ps.returncode:
                big = None
                break
            big.append(rb * 1024)
            small.append(rs * 1024)
        if not big:
            na("memory", what, "failed")
            continue
        per = [(b - s) / (kbig - ksmall) for b, s in zip(big, small)]
        add("memory", "%s: peak RSS, 1M sources/window" % what, *med(big), runs=n,
            unit="bytes", note="%s with 1k sources" % fmt(statistics.median(small)))
        add("memory", "%s: state per %s" % (what, unit[:-1]), *med(per), runs=n,
            unit="B/" + unit[:-1], note="(RSS 1M - RSS 1k sources) / %s %s" % (fmt(kbig - ksmall), unit))


# ---------------------------------------------------------------- main

def machine():
    lc = run(["lscpu"]).stdout
    get = lambda k: (re.search(r"^%s:\s*(.+)$" % re.escape(k), lc, re.M) or [None, "?"])[1]
    mem = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    return ("%s, %s CPU(s) (%s per core, %s socket), %s, %.0f GiB RAM, %s" % (
        get("Model name"), get("CPU(s)"), get("Thread(s) per core"), get("Socket(s)"),
        get("Hypervisor vendor") != "?" and "VM (%s)" % get("Hypervisor vendor") or "bare metal",
        mem, platform.release()))


def main():
    t0 = time.time()
    load0 = os.getloadavg()
    have_kafka = all(shutil.which(t) for t in ("java", "mvn", "kcat"))
    if os.path.exists(os.path.join(B, "bench_kafka.log")):
        os.remove(os.path.join(B, "bench_kafka.log"))
    log("generating captures in %s" % DATA)
    caps = captures()
    for name, fn in (("exec", lambda: bench_exec(caps)), ("jit", lambda: bench_jit(caps)),
                     ("export", lambda: bench_export(caps)),
                     ("htsd", lambda: bench_htsd(caps, have_kafka)),
                     ("reduce", lambda: bench_reduce(caps)), ("compile", bench_compile),
                     ("netwide", lambda: bench_netwide(caps)),
                     ("latency", lambda: bench_latency(caps, have_kafka)),
                     ("memory", lambda: bench_memory(caps))):
        if os.environ.get("BENCH_ONLY") and name not in os.environ["BENCH_ONLY"].split(","):
            continue
        log("section %s" % name)
        try:
            fn()
        except Exception as e:  # noqa: BLE001 - one section failing must not hide the rest
            na(name, "section failed", repr(e)[:100])
    load1 = os.getloadavg()
    head = ("hts benchmarks, %s; %s; load average %.2f at start, %.2f at end; %.0f s" % (
        time.strftime("%Y-%m-%d %H:%M"), machine(), load0[0], load1[0], time.time() - t0))
    w = [max(len(r[i]) for r in rows + [("section", "figure", "median", "spread (min..max)", "n",
                                         "unit", "")]) for i in range(6)]
    w[1] = min(w[1], 92)
    print(head)
    busy = max(load0[0], load1[0])
    if busy > 1.0:
        print("NOTE: load average %.2f: other processes shared these %d CPUs during the run; "
              "CPU-bound figures are lower (and spreads wider) than on an idle machine"
              % (busy, os.cpu_count() or 0))
    print("each figure: median of n runs, spread = min..max; ratios against ESnet High Touch "
          "(10.4 Mpps on 5 cores = 2.08 Mpps/core) and the 3M records/s/core target")
    hdr = ("section", "figure", "median", "spread (min..max)", "n", "unit", "note")
    line = "%-*s  %-*s  %*s  %-*s  %*s  %-*s  %s"
    print(line % (w[0], hdr[0], w[1], hdr[1], w[2], hdr[2], w[3], hdr[3], w[4], hdr[4], w[5],
                  hdr[5], hdr[6]))
    print("-" * (sum(w) + 12 + 20))
    for r in rows:
        print(line % (w[0], r[0], w[1], r[1][:w[1]], w[2], r[2], w[3], r[3], w[4], r[4], w[5],
                      r[5], r[6]))
    results["header"] = head
    with open(os.path.join(B, "results.json"), "w") as f:
        json.dump(results, f, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
