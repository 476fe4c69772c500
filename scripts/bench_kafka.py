#!/usr/bin/env python3
"""bench_kafka.py - htsd into a real Kafka broker: records acknowledged per second.

    scripts/bench_kafka.py --brokers HOST:PORT --pcap CAP --query Q.htq [options]

Runs htsd RUNS times on CAP (a DPDK net_pcap port, one worker lcore) with
--brokers, --metrics and a short --idle-exit, polls its Prometheus endpoint
every 20 ms and reports, per run:

  rows      rows htsd produced (from its summary on stderr), checked to be all
            delivered (0 failed, 0 undelivered)
  acked/s   rows / (exit - first packet): every row acknowledged by the broker
            (htsd exits only after its final flush, which waits for every
            delivery report), from the first packet seen on the metrics
            endpoint; start-up (EAL, metadata) is not counted
  in/s      packets / (last packet - first packet): the rate at which the
            worker took packets in while the export was running
  ring_full times the worker found its ring to the main lcore full

With --verify, the topic is read back with kcat after the first run and the
HTX1 records counted from the batch headers (an independent count of what the
broker holds). Prints one JSON object per configuration on stdout: median and
min..max of each figure over the runs. A benchmark, not a test.
"""
import argparse
import json
import os
import re
import socket
import statistics
import struct
import subprocess
import sys
import threading
import time
import urllib.request


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    p = s.getsockname()[1]
    s.close()
    return p


def scrape(port):
    try:
        # a generous timeout: htsd's metrics server writes with write(2), and a client
        # that hangs up before the answer kills it with SIGPIPE
        body = urllib.request.urlopen("http://127.0.0.1:%d/metrics" % port, timeout=30).read()
    except Exception:
        return None
    d = {}
    for line in body.decode().splitlines():
        if not line or line.startswith("#"):
            continue
        k, v = line.rsplit(" ", 1)
        d[re.sub(r"\{.*\}", "", k)] = d.get(re.sub(r"\{.*\}", "", k), 0) + float(v)
    return d


def count_htx(brokers, topic):
    """Records in every HTX1 batch of the topic (kcat, '%R%s' framing)."""
    out = subprocess.run(["kcat", "-b", brokers, "-C", "-t", topic, "-o", "beginning", "-e",
                          "-q", "-f", "%R%s"], capture_output=True, timeout=300).stdout
    off = recs = msgs = 0
    while off + 4 <= len(out):
        (n,) = struct.unpack(">I", out[off:off + 4])
        b = out[off + 4:off + 4 + n]
        off += 4 + n
        if b[:4] == b"HTX1":
            recs += struct.unpack(">I", b[6:10])[0]
        else:
            recs += 1  # one JSON row per message
        msgs += 1
    return recs, msgs


def worker_ticks(pid):
    """CPU ticks (user + system) of htsd's first worker lcore thread, or None."""
    try:
        for tid in os.listdir("/proc/%d/task" % pid):
            if open("/proc/%d/task/%s/comm" % (pid, tid)).read().startswith("rte-worker"):
                f = open("/proc/%d/task/%s/stat" % (pid, tid)).read().rsplit(")", 1)[1].split()
                return int(f[11]) + int(f[12])
    except (OSError, ValueError, IndexError):
        pass
    return None


def one_run(a, run, prefix, pcap=None):
    mport = free_port()
    cmd = [a.htsd]
    for q in a.query:
        cmd += ["--query", q]
    for s in a.set:
        cmd += ["--set", s]
    for x in a.X:
        cmd += ["-X", x]
    if a.export_json:
        cmd += ["--export-json"]
    if a.engine:
        cmd += ["--engine", a.engine]
    if a.exactly_once:
        cmd += ["--exactly-once=bench-%d-%d" % (os.getpid(), run)]
    if a.brokers != "none":
        cmd += ["--brokers", a.brokers, "--topic-prefix", prefix]
    cmd += ["--idle-exit", str(a.idle_exit), "--metrics", "127.0.0.1:%d" % mport, "--",
            "--no-huge", "--no-pci", "-m", "1024", "--no-shconf", "--log-level=error",
            "--file-prefix", "hb%d_%d" % (os.getpid(), run), "--lcores", a.lcores,
            "--vdev", "net_pcap0,rx_pcap=%s%s" % (pcap or a.pcap,
                                                  ",infinite_rx=1" if a.infinite and not pcap else "")]
    cap = os.path.realpath(pcap or a.pcap)
    size = os.path.getsize(cap)
    infinite = a.infinite and not pcap
    t_start = time.monotonic()
    env = dict(os.environ)
    for kv in a.env:
        k, v = kv.split("=", 1)
        env[k] = v
    p = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env)
    # The metrics endpoint is scraped from a thread: the main lcore answers it only
    # between drains, so a busy main lcore delays answers by seconds.
    samples = []
    done = threading.Event()

    def scraper():
        while not done.is_set():
            d = scrape(mport)
            if d:
                samples.append((time.monotonic(), d.get("htsd_packets_total", 0),
                                d.get("htsd_rows_total", 0),
                                d.get("htsd_sink_delivered_total", 0),
                                d.get("htsd_worker_ring_full_total", 0)))
            time.sleep(0.02)

    th = threading.Thread(target=scraper, daemon=True)
    th.start()
    # Progress of a capture read from file, seen from outside: the file position of
    # htsd's descriptor on it (/proc/PID/fdinfo). Reading starts when the position
    # first moves past where opening the file left it; the input ends at EOF.
    fd_path = None
    pos0 = t_read = t_eof = None
    stop_sent = False
    while p.poll() is None:
        now = time.monotonic()
        if not infinite:
            if fd_path is None:
                try:
                    for fd in os.listdir("/proc/%d/fd" % p.pid):
                        if os.path.realpath("/proc/%d/fd/%s" % (p.pid, fd)) == cap:
                            fd_path = "/proc/%d/fdinfo/%s" % (p.pid, fd)
                except OSError:
                    pass
            if fd_path:
                try:
                    pos = int(re.search(r"pos:\s*(\d+)", open(fd_path).read()).group(1))
                except (OSError, AttributeError):
                    pos = None
                if pos is not None:
                    if pos0 is None:
                        pos0 = pos
                    elif pos > pos0 and t_read is None:
                        t_read = now
                    if pos >= size and t_eof is None:
                        t_eof = now
        else:
            # mbufs replayed from memory: the worker starts when its thread starts
            # using CPU (it sleeps until launched, then polls without pause); the
            # metrics endpoint can lag by seconds when the main lcore is saturated
            if t_read is None:
                ticks = worker_ticks(p.pid)
                if ticks is not None:
                    if pos0 is None:
                        pos0 = ticks
                    elif ticks > pos0:
                        t_read = now
            if t_read is not None and now - t_read > a.seconds and not stop_sent:
                p.send_signal(2)
                stop_sent = True
                t_eof = now
        if now - t_start > a.timeout:
            p.kill()
            break
        time.sleep(0.005)
    t_exit = time.monotonic()
    done.set()
    th.join(timeout=60)
    err = p.stderr.read().decode(errors="replace")
    m = re.search(r"htsd: (\d+) packets, (\d+) rows in (\d+) messages; \w+: (\d+) delivered, "
                  r"(\d+) failed, (\d+) undelivered", err)
    if not m or t_read is None or t_eof is None:
        sys.stderr.write("bench_kafka: htsd failed (rc %s, read %s, eof %s):\n%s\n" % (
            p.returncode, t_read, t_eof, err[-2000:]))
        return None
    pkts, rows, msgs, dlv, failed, undl = map(int, m.groups())
    ok = failed == 0 and undl == 0 and dlv == msgs and p.returncode == 0
    # windowed rows come when the window closes: at the end of the input, once the
    # worker has been idle for --idle-exit ms (the last window closes at exec_finish)
    t_close = t_eof + (0 if infinite else a.idle_exit / 1000.0)
    r = {
        "packets": pkts, "rows": rows, "messages": msgs, "delivered": dlv, "ok": ok,
        "acked_per_s": rows / (t_exit - t_read) if ok else 0.0,
        "in_per_s": pkts / max(t_eof - t_read, 1e-3),
        "wall_s": t_exit - t_start, "startup_s": t_read - t_start,
        "drain_s": t_exit - t_eof,
        "rows_per_s": rows / max(t_exit - t_close, 1e-3) if ok and rows else 0.0,
    }
    r["ring_full"] = int(samples[-1][4]) if samples else 0
    # acked while streaming: the slope of delivered messages between 10% and 90%
    # of the final count, where the metrics endpoint saw them
    d = [(t, dl) for t, _, _, dl, _ in samples if 0.1 * dlv <= dl <= 0.9 * dlv]
    r["acked_steady_per_s"] = None
    if ok and len(d) >= 3 and d[-1][0] - d[0][0] >= 0.2 and msgs:
        r["acked_steady_per_s"] = (d[-1][1] - d[0][1]) * (rows / msgs) / (d[-1][0] - d[0][0])
    return r


def parser():
    ap = argparse.ArgumentParser()
    ap.add_argument("--htsd", default="bin/htsd")
    ap.add_argument("--brokers", required=True)
    ap.add_argument("--pcap", required=True)
    ap.add_argument("--query", action="append", required=True)
    ap.add_argument("--set", action="append", default=[])
    ap.add_argument("-X", action="append", default=[])
    ap.add_argument("--export-json", action="store_true")
    ap.add_argument("--exactly-once", action="store_true", help="htsd --exactly-once (transactions)")
    ap.add_argument("--engine", help="htsd --engine (interp, jit); default: htsd's")
    ap.add_argument("--env", action="append", default=[], help="NAME=VALUE for htsd's environment")
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--lcores", default="0@0,1@1")
    ap.add_argument("--idle-exit", type=int, default=50)
    ap.add_argument("--infinite", action="store_true", help="net_pcap infinite_rx, stop by SIGINT")
    ap.add_argument("--seconds", type=float, default=5.0)
    ap.add_argument("--timeout", type=float, default=300.0)
    ap.add_argument("--prefix", default="bench.")
    ap.add_argument("--label", default="")
    ap.add_argument("--verify", action="store_true")
    ap.add_argument("--warmup", default="tests/data/ftp_brute_force.pcap",
                    help="capture of the uncounted first run that creates the topic")
    return ap


def measure(argv, log=sys.stderr):
    """Runs the configuration given as command-line arguments; returns the summary dict."""
    a = parser().parse_args(argv)
    runs = []
    # one topic per configuration, created by a warm-up run that is not counted (a
    # deployment's topics exist before htsd starts: auto-creation is not htsd's cost)
    prefix = "%s%d.%d." % (a.prefix, os.getpid(), int(time.time() * 1000) % 10**9)
    warm = None
    if a.brokers not in ("none", "mock"):
        warm = one_run(a, -1, prefix, pcap=a.warmup)
        if warm is None:
            return {"label": a.label, "error": "htsd failed (warm-up)"}
    for i in range(a.runs):
        r = one_run(a, i, prefix)
        if r is None:
            return {"label": a.label, "error": "htsd failed"}
        runs.append(r)
        log.write("bench_kafka: %s run %d: %s\n" % (a.label, i, json.dumps(r)))

    def stat(k):
        v = [r[k] for r in runs]
        return {"median": statistics.median(v), "min": min(v), "max": max(v)}

    out = {"label": a.label, "runs": len(runs), "ok": all(r["ok"] for r in runs),
           "packets": runs[0]["packets"], "rows": runs[0]["rows"],
           "messages": runs[0]["messages"],
           "acked_per_s": stat("acked_per_s"), "in_per_s": stat("in_per_s"),
           "startup_s": stat("startup_s"), "drain_s": stat("drain_s"),
           "rows_per_s": stat("rows_per_s"), "ring_full": max(r["ring_full"] for r in runs)}
    steady = [r["acked_steady_per_s"] for r in runs if r["acked_steady_per_s"]]
    if steady:
        out["acked_steady_per_s"] = {"median": statistics.median(steady), "min": min(steady),
                                     "max": max(steady), "runs": len(steady)}
    if a.verify and warm is not None:
        # every record of every run (and the warm-up) is in the topics
        got = sum(count_htx(a.brokers, prefix + os.path.basename(q)[:-4])[0] for q in a.query)
        out["consumed_records"] = got
        out["produced_records"] = warm["rows"] + sum(r["rows"] for r in runs)
    return out


def main():
    out = measure(sys.argv[1:])
    print(json.dumps(out))
    return 0 if "error" not in out else 1


if __name__ == "__main__":
    sys.exit(main())
