#!/usr/bin/env python3
"""Captures out of time order, made from tests/data, for the event-time tests.

    disorder.py concat A.pcap B.pcap -o OUT.pcap
        A's packets, then B's moved in time so that B starts in the middle
        of A: two captures whose times overlap, one after the other in the
        file (as a file concatenated from two taps is).
    disorder.py shift A.pcap B.pcap -o OUT.pcap
        B alone, moved as concat moves it: to give two ports of one runtime
        the two halves of concat's capture.
    disorder.py jitter IN.pcap -o OUT.pcap --max-ms D --seed S [--late K]
        IN's packets in time order, each then moved later in the file by
        less than D ms of time (sorted by time + uniform[0, D)): no packet
        comes after one more than D ms younger than itself. With --late K,
        the K oldest packets go to the end of the file: late for every
        window they belong to, when the capture outlasts that window plus D.

Classic pcap only (either byte order, micro- or nanosecond stamps); the
output keeps the input's header. Only the standard library: the tests run
on a bare Debian with python3.
"""
import argparse
import random
import struct
import sys


def read_pcap(path):
    with open(path, "rb") as f:
        data = f.read()
    magic = data[:4]
    order = {b"\xd4\xc3\xb2\xa1": "<", b"\xa1\xb2\xc3\xd4": ">",
             b"\x4d\x3c\xb2\xa1": "<", b"\xa1\xb2\x3c\x4d": ">"}.get(magic)
    if order is None:
        sys.exit("disorder: %s: not a classic pcap file" % path)
    nano = magic in (b"\x4d\x3c\xb2\xa1", b"\xa1\xb2\x3c\x4d")
    head = data[:24]
    pkts, off = [], 24
    while off + 16 <= len(data):
        sec, frac, incl, orig = struct.unpack(order + "IIII", data[off:off + 16])
        ts = sec * 10**9 + (frac if nano else frac * 1000)
        pkts.append([ts, orig, data[off + 16:off + 16 + incl]])
        off += 16 + incl
    return head, order, nano, pkts


def write_pcap(path, head, order, nano, pkts):
    with open(path, "wb") as f:
        f.write(head)
        for ts, orig, frame in pkts:
            sec, ns = divmod(ts, 10**9)
            frac = ns if nano else ns // 1000
            f.write(struct.pack(order + "IIII", sec, frac, len(frame), orig))
            f.write(frame)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("how", choices=["concat", "shift", "jitter"])
    ap.add_argument("inputs", nargs="+")
    ap.add_argument("-o", required=True)
    ap.add_argument("--max-ms", type=float, default=0)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--late", type=int, default=0)
    a = ap.parse_args()
    head, order, nano, pkts = read_pcap(a.inputs[0])
    if a.how in ("concat", "shift"):
        if len(a.inputs) != 2:
            sys.exit("disorder: %s takes two captures" % a.how)
        _, _, _, other = read_pcap(a.inputs[1])
        lo = min(p[0] for p in pkts)
        hi = max(p[0] for p in pkts)
        shift = (lo + hi) // 2 - min(p[0] for p in other)
        if not nano:  # keep whole microseconds
            shift -= shift % 1000
        out = [[p[0] + shift, p[1], p[2]] for p in other]
        if a.how == "concat":
            out = pkts + out
    else:
        rng = random.Random(a.seed)
        pkts.sort(key=lambda p: p[0])
        d = int(a.max_ms * 10**6)
        keyed = [(p[0] + (rng.randrange(d) if d else 0), i, p)
                 for i, p in enumerate(pkts)]
        keyed.sort(key=lambda k: (k[0], k[1]))
        late = {id(p) for p in pkts[:a.late]}
        out = [k[2] for k in keyed if id(k[2]) not in late] + pkts[:a.late]
    write_pcap(a.o, head, order, nano, out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
