#!/usr/bin/env python3
"""Check library queries against an independent oracle: tshark + Python.

    oracle.py --htsc bin/htsc --data tests/data [--only NAME] [--jobs N]

For every case below (a query of queries/, a capture, --set values) this
computes the rows the query must print from tshark's dissection of the
capture, with a short Python function per query that says what the query
means (window, filter, group, threshold, join), and compares them row for
row, column for column, with what `htsc run` prints. Nothing here reads our
decoder or executor: the packet fields come from tshark, the query meaning
from docs/semantics.md and docs/query-library.md.

--only QUERY keeps the cases of one query, --only QUERY:CAPTURE one capture's.
The cases are a list (CASES: the captures and --set values of
docs/query-library.md, more captures, thresholds that matter) and a sweep
(SWEEP: every query on every capture where it finds something with
permissive parameters). A case may name a known difference: a decoder choice
where tshark and we disagree on purpose; it then passes only if htsc differs
from the oracle by exactly the rows it lists.
Exit status: 0 when every case passes, 1 on any failure, 2 when the oracle
cannot run at all (no tshark, no htsc, a capture missing). A missing tshark
is a failure, never a skip: a comparison that did not run is not a pass.
Every case must expect at least one row: a case that expects nothing proves
nothing, so an empty expectation fails the case.

How tshark's output becomes our fields (the decoder's rules, core/decode.c):

- tshark runs once per capture (cached for the run) with IP defragmentation
  and TCP reassembly off, so each frame is dissected alone, as ours are, and
  with absolute sequence numbers (tcp.seq_raw / tcp.ack_raw are read anyway).
- Every field is taken with all its occurrences (-E occurrence=a), and the
  first occurrence is the outer header's. Which headers count as "plain"
  (outer) is decided from frame.protocols: the plain headers end at a tunnel
  (gre, vxlan: what follows fills inner.*), at ICMP/ICMPv6 (what follows is a
  quoted packet) and at a second IP header, except IPv6 directly inside IPv4
  (6in4), whose TCP/UDP header fills the plain tcp.*/udp.*. A tcp.* value
  whose tcp layer is not plain (GRE, VXLAN, quoted in ICMP) is absent.
- ipv4.* is present when the first IP header is IPv4; IPv6 packets have no
  ipv4.* (so `groupby ipv4.dst` skips them).
- A non-first IPv4 fragment has no L4 layer in tshark with defragmentation
  off, so its tcp.*/udp.* are absent, as ours.
- A TCP header is present only as a whole (data offset >= 5 words, inside
  the IP packet), as decode.c says; tshark shows a broken header's fixed
  fields anyway, so those are dropped here (tcp_header_whole).
- tcp.flags: tshark's field is 12 bits (with the reserved/NS bits); ours is
  the low 8 bits, so the value is masked with 0xff.
- DNS (plain L4 header, port 53): dns.qname is the first question's name,
  ASCII letters lower-cased, "<Root>" -> "."; dns.ancount is
  dns.count.answers; dns.an.types is the set of the first ancount values of
  dns.resp.type (answers come first in the packet, authority and additional
  records after them), present only when tshark dissected all ancount answer
  records; dns.an.ttl is the first dns.resp.ttl when ancount >= 1;
  dns.an.a is the first dns.a when an answer record has type A (dns.a also
  lists A records of the additional section, which come later). tshark
  prints names as UTF-8 text and loses bytes that are not (U+FFFD): such a
  name is read again from udp.payload and checked against tshark's text.
- meta.ts is frame.time_epoch converted to integer ns with Decimal (never a
  float: 1.2e18 ns does not fit a double's 53 bits); meta.wire_len is
  frame.len.
"""

import argparse
import ipaddress
import json
import os
import re
import shutil
import subprocess
import tempfile
import sys
import time
import zlib
from collections import Counter, defaultdict
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal

# ---------------------------------------------------------------------------
# tshark -> packets

TSHARK_OPTS = [
    "-n",
    "-o", "ip.defragment:FALSE",
    "-o", "ipv6.defragment:FALSE",
    "-o", "tcp.desegment_tcp_streams:FALSE",
    "-o", "tcp.relative_sequence_numbers:FALSE",
    "-o", "tcp.analyze_sequence_numbers:FALSE",
]

FIELDS = [
    "frame.time_epoch", "frame.len", "frame.protocols",
    "ip.src", "ip.dst", "ip.proto", "ip.len", "ip.ttl",
    "ip.hdr_len", "tcp.hdr_len",
    "tcp.srcport", "tcp.dstport", "tcp.flags", "tcp.seq_raw", "tcp.ack_raw",
    "udp.srcport", "udp.dstport",
    "dns.count.answers", "dns.qry.name", "dns.resp.type", "dns.resp.ttl",
    "dns.a", "udp.payload",
]

AGG = "\x1f"  # occurrence separator (-E aggregator)

SYN, ACK, FIN = 0x02, 0x10, 0x01
DNS_A, DNS_RRSIG = 1, 46
SEC = 1_000_000_000


class Pkt:
    """One frame's fields as a query sees them; None = absent."""

    __slots__ = ("ts", "wire_len", "ipv4_src", "ipv4_dst", "ipv4_proto",
                 "ipv4_len", "ipv4_ttl", "tcp_sport", "tcp_dport",
                 "tcp_flags", "tcp_seq", "tcp_ack", "udp_sport", "udp_dport",
                 "dns_qname", "dns_ancount", "dns_an_types", "dns_an_ttl",
                 "dns_an_a")

    def __init__(self):
        for s in self.__slots__:
            setattr(self, s, None)


def ts_ns(text):
    """'1262893114.341715000' -> 1262893114341715000, exactly."""
    return int(Decimal(text) * SEC)


def plain_layers(protocols):
    """The layers of frame.protocols that fill the plain (outer) fields."""
    out = []
    ip_seen = None
    for name in protocols.split(":"):
        if name in ("ip", "ipv6"):
            if ip_seen is not None and not (ip_seen == ["ip"] and name == "ipv6"):
                break  # IP in IP other than 6in4: not decoded as plain
            ip_seen = (ip_seen or []) + [name]
        out.append(name)
        if name in ("gre", "vxlan", "icmp", "icmpv6"):
            break  # a tunnel's or an ICMP error's contents are not plain
    return out


def wire_name(msg, off):
    """The DNS name at msg[off:], as bytes with dots (labels, pointers)."""
    labels, jumps = [], 0
    while True:
        n = msg[off]
        if n == 0:
            return b".".join(labels)
        if n & 0xC0 == 0xC0:
            off, jumps = (n & 0x3F) << 8 | msg[off + 1], jumps + 1
            if jumps > 127:
                raise ValueError("pointer loop")
            continue
        labels.append(msg[off + 1:off + 1 + n])
        off += 1 + n


def qname_bytes(shown, udp_payload):
    """dns.qname as bytes, lower case (ASCII letters only), root = ".".

    tshark prints names as UTF-8 text: a byte that is not valid UTF-8 becomes
    U+FFFD and a control byte an escape, so the bytes are lost (iodine's
    tunnel names are binary). Then the name is read again from the UDP
    payload tshark gives (the question starts at byte 12) and must render
    as tshark's text did, so the two can never silently disagree."""
    if shown == "<Root>":
        return b"."
    if "\ufffd" in shown or "\\" in shown or not shown.isprintable():
        if udp_payload is None:
            raise ValueError("name %r: no UDP payload to read it from" % shown)
        raw = wire_name(bytes.fromhex(udp_payload), 12)
        # tshark's text: its characters are the bytes' UTF-8, each run of
        # U+FFFD stands for one or more bytes that are not valid UTF-8
        pattern = b"[\\x80-\\xff]+".join(
            re.escape(part.encode("utf-8"))
            for part in re.split("\ufffd+", shown))
        if "\\" not in shown and not re.fullmatch(pattern, raw):
            raise ValueError("name %r read from the payload as %r" % (shown, raw))
    else:
        raw = shown.encode("utf-8")
    return raw.lower()  # bytes.lower() changes ASCII letters only


def tcp_header_whole(p, occ):
    """Our decoder's rule (decode.c): a TCP header is present only as a whole:
    a data offset of at least 5 words, all of it inside the IP packet. tshark
    shows the fixed fields of a broken header anyway (ports, seq and more),
    so a header that breaks the rule counts as absent here too. (Checked with
    tshark's own numbers: tcp.hdr_len, and ip.len - ip.hdr_len for IPv4.)"""
    if not occ["tcp.hdr_len"]:
        return False
    hdr = int(occ["tcp.hdr_len"][0])
    if hdr < 20:
        return False
    if p.ipv4_len is not None and occ["ip.hdr_len"]:
        return hdr <= p.ipv4_len - int(occ["ip.hdr_len"][0])
    return True


def to_packets(lines):
    pkts = []
    for line in lines:
        f = dict(zip(FIELDS, line.rstrip("\n").split("\t")))
        occ = {k: (v.split(AGG) if v != "" else []) for k, v in f.items()}

        def first(name, conv=int):
            v = occ[name]
            return conv(v[0]) if v else None

        p = Pkt()
        p.ts = ts_ns(f["frame.time_epoch"])
        p.wire_len = int(f["frame.len"])
        layers = plain_layers(f["frame.protocols"])
        ips = [x for x in layers if x in ("ip", "ipv6")]
        if ips and ips[0] == "ip" and occ["ip.src"]:
            p.ipv4_src = first("ip.src", ipaddress.IPv4Address)
            p.ipv4_dst = first("ip.dst", ipaddress.IPv4Address)
            p.ipv4_proto = first("ip.proto")
            p.ipv4_len = first("ip.len")
            p.ipv4_ttl = first("ip.ttl")
        if "tcp" in layers and occ["tcp.srcport"] and tcp_header_whole(p, occ):
            p.tcp_sport = first("tcp.srcport")
            p.tcp_dport = first("tcp.dstport")
            p.tcp_flags = first("tcp.flags", lambda x: int(x, 16) & 0xff)
            p.tcp_seq = first("tcp.seq_raw")
            p.tcp_ack = first("tcp.ack_raw")
        if "udp" in layers and occ["udp.srcport"]:
            p.udp_sport = first("udp.srcport")
            p.udp_dport = first("udp.dstport")
        if "dns" in layers and occ["dns.count.answers"]:
            name = first("dns.qry.name", str)
            if name is not None:
                p.dns_qname = qname_bytes(name, first("udp.payload", str))
            an = p.dns_ancount = first("dns.count.answers")
            types = [int(t) for t in occ["dns.resp.type"]]
            if len(types) >= an:
                p.dns_an_types = frozenset(types[:an])
            if an >= 1 and types:
                p.dns_an_ttl = first("dns.resp.ttl")
                if DNS_A in types[:an]:
                    p.dns_an_a = first("dns.a", ipaddress.IPv4Address)
        pkts.append(p)
    return pkts


_tshark_cache = {}


def tshark_packets(path):
    if path not in _tshark_cache:
        cmd = ["tshark", "-r", path] + TSHARK_OPTS + [
            "-T", "fields", "-E", "separator=/t", "-E", "occurrence=a",
            "-E", "aggregator=" + AGG, "-E", "header=n"]
        for fld in FIELDS:
            cmd += ["-e", fld]
        r = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                           text=True, errors="surrogateescape")
        if r.returncode != 0:
            die("tshark failed on %s: %s" % (path, r.stderr.strip()))
        _tshark_cache[path] = to_packets(r.stdout.splitlines())
    return _tshark_cache[path]


# ---------------------------------------------------------------------------
# Windows (docs/semantics.md, "Windows")


def tumbling(pkts, width, delay=None):
    """({window start: [packets in it]}, late) for `window width`.

    Windows are [k*width, (k+1)*width). Without a delay (htsc run's default)
    the packets are taken in time order, ties in file order: a time-ordered
    copy of the capture, where nothing is late. With --max-delay `delay`
    they come in file order: a window closes once the latest time seen is
    `delay` past its end (the watermark), and a packet whose window has
    closed is late: counted, left out. A window's packets are then used in
    time order (they leave htsc's buffer so), ties in file order."""
    wins = defaultdict(list)
    if delay is None:
        for p in sorted(pkts, key=lambda p: p.ts):
            wins[p.ts // width * width].append(p)
        return wins, 0
    late, latest = 0, None
    for p in pkts:
        start = p.ts // width * width
        if latest is None or p.ts > latest:
            latest = p.ts
        if start + width <= latest - delay and p.ts < latest - delay:
            late += 1  # its window closed before it came
        else:
            wins[start].append(p)
    for start in wins:
        wins[start].sort(key=lambda p: p.ts)
    return wins, late


def count_by(rows, key):
    """Counter of key(row) over rows whose key parts are all present."""
    c = Counter()
    for r in rows:
        k = key(r)
        if all(x is not None for x in (k if isinstance(k, tuple) else (k,))):
            c[k] += 1
    return c


def present(*vals):
    return all(v is not None for v in vals)


# ---------------------------------------------------------------------------
# The queries, one function each: the packets of one window -> rows, each a
# list of (column, value). Order of rows does not matter here: the driver
# sorts them as the executor must. Parameters arrive as P.


def q_new_tcp_conns(win, P):
    syns = count_by((p for p in win if p.tcp_flags == SYN), lambda p: p.ipv4_dst)
    return [[("ipv4.dst", d), ("conns", n)]
            for d, n in syns.items() if n >= P["threshold"]]


def q_port_scan(win, P):
    pairs = {(p.ipv4_src, p.tcp_dport) for p in win
             if present(p.ipv4_src, p.tcp_dport)}
    ports = Counter(src for src, _ in pairs)
    return [[("ipv4.src", s), ("ports", n)]
            for s, n in ports.items() if n >= P["threshold"]]


def q_superspreader(win, P):
    pairs = {(p.ipv4_src, p.ipv4_dst) for p in win if present(p.ipv4_src)}
    dsts = Counter(src for src, _ in pairs)
    return [[("ipv4.src", s), ("dsts", n)]
            for s, n in dsts.items() if n >= P["threshold"]]


def q_ddos(win, P):
    pairs = {(p.ipv4_dst, p.ipv4_src) for p in win if present(p.ipv4_src)}
    srcs = Counter(dst for dst, _ in pairs)
    return [[("ipv4.dst", d), ("srcs", n)]
            for d, n in srcs.items() if n >= P["threshold"]]


def q_ssh_brute(win, P):
    triples = {(p.ipv4_dst, p.ipv4_src, p.ipv4_len) for p in win
               if p.tcp_dport == P["port"] and present(p.ipv4_src)}
    senders = Counter((dst, ln) for dst, _, ln in triples)
    servers = {dst for (dst, _), n in senders.items() if n >= P["threshold"]}
    return [[("ipv4.dst", d)] for d in servers]


def q_syn_flood(win, P):
    syns = count_by((p for p in win if p.tcp_flags == SYN), lambda p: p.ipv4_dst)
    synacks = count_by((p for p in win if p.tcp_flags == SYN | ACK),
                       lambda p: p.ipv4_src)
    acks = count_by((p for p in win if p.tcp_flags == ACK), lambda p: p.ipv4_dst)
    rows = []
    for host in syns.keys() & synacks.keys() & acks.keys():  # inner joins
        half_open = syns[host] + synacks[host] - acks[host]
        if half_open >= P["threshold"]:
            rows.append([("host", host), ("half_open", half_open)])
    return rows


def q_completed_flow(win, P):
    syns = count_by((p for p in win if p.tcp_flags == SYN), lambda p: p.ipv4_dst)
    fins = count_by((p for p in win if p.tcp_flags is not None and p.tcp_flags & FIN),
                    lambda p: p.ipv4_src)
    rows = []
    for host in syns.keys() & fins.keys():
        if syns[host] - fins[host] >= P["threshold"]:
            rows.append([("host", host), ("open", syns[host] - fins[host])])
    return rows


def q_slowloris(win, P):
    tcp = [p for p in win if p.ipv4_proto == 6]
    conns = Counter(dst for dst, _, _ in
                    {(p.ipv4_dst, p.ipv4_src, p.tcp_sport) for p in tcp
                     if present(p.ipv4_dst, p.tcp_sport)})
    nbytes = Counter()
    for p in tcp:
        nbytes[p.ipv4_dst] += p.ipv4_len
    rows = []
    for host, n in conns.items():
        if n >= P["min_conns"] and nbytes[host] // n <= P["max_bytes_per_conn"]:
            rows.append([("host", host), ("conns", n),
                         ("bytes_per_conn", nbytes[host] // n)])
    return rows


def q_dns_tunneling(win, P):
    answers = count_by((p for p in win if p.udp_sport == 53
                        and p.dns_ancount is not None and p.dns_ancount >= 1),
                       lambda p: p.dns_an_a)
    http = count_by((p for p in win if p.tcp_dport == 80), lambda p: p.ipv4_dst)
    rows = []
    for host in answers.keys() & http.keys():
        if answers[host] - http[host] >= P["threshold"]:
            rows.append([("host", host), ("unused", answers[host] - http[host])])
    return rows


def q_dns_reflection(win, P):
    pairs = {(p.ipv4_dst, p.ipv4_src) for p in win
             if p.udp_sport == 53 and p.dns_an_types is not None
             and DNS_RRSIG in p.dns_an_types and present(p.ipv4_src)}
    srcs = Counter(dst for dst, _ in pairs)
    return [[("ipv4.dst", d), ("srcs", n)]
            for d, n in srcs.items() if n >= P["threshold"]]


def q_heavy_hitter(win, P):
    nbytes, pkts = Counter(), Counter()
    for p in win:
        if present(p.ipv4_src):
            nbytes[p.ipv4_src, p.ipv4_dst] += p.ipv4_len
            pkts[p.ipv4_src, p.ipv4_dst] += 1
    return [[("ipv4.src", s), ("ipv4.dst", d), ("bytes", b), ("pkts", pkts[s, d])]
            for (s, d), b in nbytes.items() if b >= P["threshold"]]


def q_dns_ttl_tracking(win, P):
    pairs = {(p.dns_qname, p.dns_an_ttl) for p in win
             if p.udp_sport == 53 and p.dns_ancount is not None
             and p.dns_ancount >= 1 and present(p.dns_qname, p.dns_an_ttl)}
    ttls = Counter(name for name, _ in pairs)
    return [[("dns.qname", n), ("ttls", c)]
            for n, c in ttls.items() if c >= P["threshold"]]


def q_malicious_domain(win, P):
    pairs = {(p.dns_qname, p.dns_an_a) for p in win
             if p.udp_sport == 53 and present(p.dns_qname, p.dns_an_a)}
    addrs = Counter(name for name, _ in pairs)
    return [[("dns.qname", n), ("addrs", c)]
            for n, c in addrs.items() if c >= P["threshold"]]


def q_tcp_handshake_rtt(win, P):
    def first_seen(cond, key):
        t = {}
        for p in win:
            if cond(p.tcp_flags) and present(p.ipv4_src, p.tcp_sport):
                k = key(p)
                t[k] = min(t.get(k, p.ts), p.ts)
        return t

    fwd = lambda p: (p.ipv4_src, p.ipv4_dst, p.tcp_sport, p.tcp_dport)
    rev = lambda p: (p.ipv4_dst, p.ipv4_src, p.tcp_dport, p.tcp_sport)
    syn = first_seen(lambda f: f == SYN, fwd)
    synack = first_seen(lambda f: f == SYN | ACK, rev)
    ack = first_seen(lambda f: f is not None and f & ACK and not f & SYN, fwd)
    rows = []
    for k in syn.keys() & synack.keys() & ack.keys():
        client, server, cport, sport = k
        rows.append([("client", client), ("cport", cport), ("server", server),
                     ("sport", sport),
                     ("syn_to_synack", synack[k] - syn[k]),
                     ("synack_to_ack", ack[k] - synack[k])])
    return rows


def q_packet_size_histogram(win, P):
    edges = [0, 64, 128, 256, 512, 1024, 1500, None]
    counts = Counter()
    for p in win:
        if p.ipv4_len is None:
            continue
        i = max(i for i in range(len(edges) - 1) if p.ipv4_len >= edges[i])
        counts[i] += 1
    return [[("lo", edges[i]), ("hi", edges[i + 1]), ("count", n)]
            for i, n in counts.items()]


def q_microbursts(win, P):
    nbytes, pkts = Counter(), Counter()
    for p in win:
        if p.ipv4_dst is not None:
            nbytes[p.ipv4_dst] += p.wire_len
            pkts[p.ipv4_dst] += 1
    return [[("ipv4.dst", d), ("bytes", b), ("pkts", pkts[d])]
            for d, b in nbytes.items()
            if b * 8 * SEC // P["win"] >= P["rate_bps"]]


def q_export_headers(pkts, P):
    """Per packet, no window: window_start = window_end = meta.ts."""
    net = P["net"]
    out = []
    for p in pkts:
        if p.ipv4_src is None or not (p.ipv4_src in net or p.ipv4_dst in net):
            continue
        if zlib.crc32(p.ts.to_bytes(8, "big")) % P["n"] != 0:
            continue
        out.append((p.ts, p.ts, [
            ("meta.ts", p.ts), ("meta.wire_len", p.wire_len),
            ("ipv4.src", p.ipv4_src), ("ipv4.dst", p.ipv4_dst),
            ("ipv4.proto", p.ipv4_proto), ("ipv4.len", p.ipv4_len),
            ("ipv4.ttl", p.ipv4_ttl), ("tcp.sport", p.tcp_sport),
            ("tcp.dport", p.tcp_dport), ("tcp.flags", p.tcp_flags),
            ("tcp.seq", p.tcp_seq), ("tcp.ack", p.tcp_ack),
            ("udp.sport", p.udp_sport), ("udp.dport", p.udp_dport)]))
    return out


# name -> (function, window length or the parameter naming it or None for a
# per-packet query, default parameters)
QUERIES = {
    "new_tcp_conns": (q_new_tcp_conns, 3 * SEC, {"threshold": 40}),
    "port_scan": (q_port_scan, 3 * SEC, {"threshold": 40}),
    "superspreader": (q_superspreader, 3 * SEC, {"threshold": 40}),
    "ddos": (q_ddos, 3 * SEC, {"threshold": 45}),
    "ssh_brute": (q_ssh_brute, 3 * SEC, {"port": 22, "threshold": 40}),
    "syn_flood": (q_syn_flood, 3 * SEC, {"threshold": 3}),
    "completed_flow": (q_completed_flow, 3 * SEC, {"threshold": 1}),
    "slowloris": (q_slowloris, 3 * SEC,
                  {"min_conns": 10, "max_bytes_per_conn": 10}),
    "dns_tunneling": (q_dns_tunneling, 3 * SEC, {"threshold": 1}),
    "dns_reflection": (q_dns_reflection, 3 * SEC, {"threshold": 40}),
    "heavy_hitter": (q_heavy_hitter, 3 * SEC, {"threshold": 1_000_000}),
    "dns_ttl_tracking": (q_dns_ttl_tracking, 3 * SEC, {"threshold": 40}),
    "malicious_domain": (q_malicious_domain, 3 * SEC, {"threshold": 1}),
    "tcp_handshake_rtt": (q_tcp_handshake_rtt, "win", {"win": 3 * SEC}),
    "packet_size_histogram": (q_packet_size_histogram, 3 * SEC, {}),
    "microbursts": (q_microbursts, "win",
                    {"win": SEC // 1000, "rate_bps": 1_000_000_000}),
    "export_headers": (q_export_headers, None,
                       {"net": ipaddress.IPv4Network("0.0.0.0/0"), "n": 1}),
}

# ---------------------------------------------------------------------------
# The cases: (query, capture, {param: --set text}). The captures and --set
# values of docs/query-library.md, plus more captures per query where they
# find something.
CASES = [
    ("new_tcp_conns", "synscan_1000_ports.pcap", {}),
    ("new_tcp_conns", "syn_flood_spoofed.pcap", {"threshold": "1"}),
    ("new_tcp_conns", "http_espn.pcap", {"threshold": "1"}),
    ("new_tcp_conns", "tcp_ports.pcap", {"threshold": "1"}),
    ("port_scan", "portscan_small.pcap", {"threshold": "10"}),
    ("port_scan", "synscan_1000_ports.pcap", {}),
    ("port_scan", "nmap_80_all.pcap", {"threshold": "1"}),
    ("port_scan", "masscan_tcp_0_1000.pcap", {}),
    ("port_scan", "tcp_ports.pcap", {"threshold": "5"}),
    ("superspreader", "http_espn.pcap", {"threshold": "10"}),
    ("superspreader", "1kxun.pcap", {"threshold": "5"}),
    ("superspreader", "syn_flood_spoofed.pcap", {"threshold": "1"}),
    ("superspreader", "6in4tunnel.pcap", {"threshold": "1"}),  # outer IPv4
    ("superspreader", "tunnels_gre-sample.pcap", {"threshold": "1"}),
    ("superspreader", "bot.pcap", {"threshold": "1"}),  # inside VLAN 77
    ("ddos", "http_espn.pcap", {"threshold": "10"}),
    ("ddos", "syn_flood_spoofed.pcap", {"threshold": "1"}),
    ("ddos", "1kxun.pcap", {"threshold": "5"}),
    ("ssh_brute", "ssh_sshguess.pcap", {"threshold": "1"}),
    ("ssh_brute", "ssh.pcap", {"threshold": "1"}),
    ("ssh_brute", "ftp_brute_force.pcap", {"port": "21", "threshold": "1"}),
    ("syn_flood", "nmap_80_all.pcap", {"threshold": "1"}),
    ("syn_flood", "http_espn.pcap", {"threshold": "0"}),
    ("syn_flood", "ftp_brute_force.pcap", {"threshold": "1"}),
    ("syn_flood", "tcp_ports.pcap", {"threshold": "1"}),
    ("syn_flood", "1kxun.pcap", {"threshold": "-5"}),
    ("syn_flood", "two_way_all_flags.pcap", {"threshold": "1"}),
    ("completed_flow", "ftp_brute_force.pcap", {}),
    ("completed_flow", "netflix.pcap", {"threshold": "-10"}),
    ("slowloris", "synscan_1000_ports.pcap",
     {"min_conns": "2", "max_bytes_per_conn": "100"}),
    ("slowloris", "ftp_brute_force.pcap",
     {"min_conns": "5", "max_bytes_per_conn": "500"}),
    ("slowloris", "http_espn.pcap",
     {"min_conns": "2", "max_bytes_per_conn": "1000000"}),
    ("dns_tunneling", "http_espn.pcap", {"threshold": "0"}),
    ("dns_tunneling", "1kxun.pcap", {"threshold": "-1000"}),
    ("dns_tunneling", "netflix.pcap", {"threshold": "-1000"}),
    ("dns_reflection", "dnssec_rrsig.pcap", {"threshold": "1"}),
    ("heavy_hitter", "http_espn.pcap", {"threshold": "100KB"}),
    ("heavy_hitter", "netflix.pcap", {"threshold": "100KB"}),
    ("heavy_hitter", "ftp_brute_force.pcap", {"threshold": "10KB"}),
    ("heavy_hitter", "vxlan.pcap", {"threshold": "1"}),  # outer addresses
    ("dns_ttl_tracking", "1kxun.pcap", {"threshold": "2"}),
    ("dns_ttl_tracking", "dnssec_rrsig.pcap", {"threshold": "1"}),
    ("dns_ttl_tracking", "dns_isp_hijack.pcapng", {"threshold": "1"}),
    ("dns_ttl_tracking", "dns-tunnel-iodine.pcap", {"threshold": "1"}),
    ("dns_ttl_tracking", "dns_exfiltration.pcap", {"threshold": "1"}),
    ("dns_ttl_tracking", "netflix.pcap", {"threshold": "1"}),
    # Decoder differences by design (also in tests/decoder/compare_tshark.py,
    # KNOWN_DIFFERENCES): in frames 3, 29, 48 and 66 the first answer's RDATA
    # is cut; our decoder keeps the record's type and TTL, read whole, and
    # tshark drops the whole record. So htsc has four more names with a TTL.
    ("dns_ttl_tracking", "badpackets.pcap", {"threshold": "1"},
     dict(why="truncated RDATA: we keep the first answer's TTL",
          extra=[{"dns.qname": n} for n in
                 ("ac.in", "houzz.com", "judicialwatch.org", "bg")])),
    # frame 409: the first answer's RDATA is cut, as in badpackets.pcap
    ("dns_ttl_tracking", "fuzz-2006-06-26-2594.pcap", {"threshold": "1"},
     dict(why="truncated RDATA: we keep the first answer's TTL",
          extra=[{"dns.qname": "1.0.0.127.in-addr.aspa"}])),
    # The responses' second question name is over 255 bytes (the attack in
    # this capture): BAD_DNS for us, so no answer fields; tshark marks the
    # name "<Name too long>" and reads the answers on.
    ("dns_ttl_tracking", "malformed_dns.pcap", {"threshold": "1"},
     dict(why="name over 255 bytes: BAD_DNS, no answers",
          missing=[
              {"dns.qname": "www.xt.com", "window_start": 1591551759000000000},
              {"dns.qname": "www.xt.com", "window_start": 1591551765000000000}])),
    ("malicious_domain", "1kxun.pcap", {"threshold": "2"}),
    ("malicious_domain", "dnssec_rrsig.pcap", {}),
    ("malicious_domain", "dns_isp_hijack.pcapng", {}),
    ("malicious_domain", "netflix.pcap", {}),
    ("malicious_domain", "6in4tunnel.pcap", {}),  # DNS over the IPv6 inside
    ("malicious_domain", "badpackets.pcap", {}),
    ("malicious_domain", "malformed_dns.pcap", {},  # as dns_ttl_tracking's
     dict(why="name over 255 bytes: BAD_DNS, no answers",
          missing=[
              {"dns.qname": "www.xt.com", "window_start": 1591551759000000000},
              {"dns.qname": "www.xt.com", "window_start": 1591551765000000000}])),
    ("tcp_handshake_rtt", "tcp_handshake.pcap", {}),
    ("tcp_handshake_rtt", "latency1.pcap", {}),
    ("tcp_handshake_rtt", "http_espn.pcap", {}),
    ("tcp_handshake_rtt", "tcp_handshake-reorder.pcap", {}),
    ("tcp_handshake_rtt", "ftp_brute_force.pcap", {}),
    ("tcp_handshake_rtt", "1kxun.pcap", {"win": "10s"}),
    ("packet_size_histogram", "http_espn.pcap", {}),
    ("packet_size_histogram", "1kxun.pcap", {}),
    ("packet_size_histogram", "netflix.pcap", {}),
    ("packet_size_histogram", "6in4tunnel.pcap", {}),
    ("packet_size_histogram", "ip_fragments.pcap", {}),
    ("microbursts", "http_espn.pcap", {"rate_bps": "100000000"}),
    ("microbursts", "netflix.pcap", {"rate_bps": "20000000"}),
    ("microbursts", "1kxun.pcap", {"win": "10ms", "rate_bps": "10000000"}),
    ("export_headers", "tcp_handshake.pcap", {}),
    ("export_headers", "http_espn.pcap",
     {"n": "100", "net": "172.16.0.0/12"}),
    ("export_headers", "http_espn.pcap", {}),
    ("export_headers", "1kxun.pcap", {"n": "7"}),
    ("export_headers", "6in4tunnel.pcap", {}),      # tcp/udp of the IPv6 inside
    ("export_headers", "tunnels_gre-sample.pcap", {}),  # no plain tcp.*
    ("export_headers", "vxlan.pcap", {}),           # outer UDP only
    ("export_headers", "ip_fragments.pcap", {}),    # non-first: no L4
    ("export_headers", "mixed-vlan-mpls.pcap", {}),
    ("export_headers", "dns2tcp_tunnel.pcap", {}),  # Linux cooked capture
    ("export_headers", "masscan_udp_0_1000.pcap",
     {"net": "198.124.152.0/24", "n": "10"}),
    # Broken TCP headers (data offset < 5, or longer than the IP packet):
    # tshark still shows ports and seq, our decoder none of the header (by
    # design, decode.c); tcp_header_whole() applies that rule to tshark's
    # numbers, so the rows agree field by field.
    ("export_headers", "ip_fragmented_garbage.pcap", {}),
    ("export_headers", "fuzz-2006-06-26-2594.pcap", {}),
    # ftp_brute_force.pcap holds its 9865 packets twice (frame 9866 starts
    # again 44 s earlier). htsc run windows a time-ordered copy: each packet
    # counts twice, as tshark's timestamps say (15 rows at threshold 40).
    ("microbursts", "ftp_brute_force.pcap", {"rate_bps": "1000000"}),
    ("new_tcp_conns", "ftp_brute_force.pcap", {}),
    ("port_scan", "ftp_brute_force.pcap", {}),
    # the same through sorted runs on disk (30 of them), merged
    ("tcp_handshake_rtt", "ftp_brute_force.pcap", {"@sort_memory": "64KiB"}),
    # Streaming (--max-delay): the second copy is late except where its
    # window is still open; every late packet counted, per query.
    ("new_tcp_conns", "ftp_brute_force.pcap", {"@max_delay": "0"}),
    ("new_tcp_conns", "ftp_brute_force.pcap", {"@max_delay": "20s"}),
    ("microbursts", "ftp_brute_force.pcap",
     {"rate_bps": "1000000", "@max_delay": "5ms"}),
    # Two captures whose times overlap, one after the other in the file
    # (GENERATED): sorted by default; with a delay shorter than the overlap,
    # the second one's packets whose window closed are late.
    ("new_tcp_conns", "concat_synscan_masscan.pcap", {"threshold": "5"}),
    ("port_scan", "concat_synscan_masscan.pcap", {"threshold": "5"}),
    ("superspreader", "concat_synscan_masscan.pcap", {"threshold": "1"}),
    ("port_scan", "concat_synscan_masscan.pcap",
     {"threshold": "5", "@max_delay": "4s"}),
    ("new_tcp_conns", "concat_netflix_ftp.pcap", {"threshold": "5"}),
    ("completed_flow", "concat_netflix_ftp.pcap", {}),
    ("tcp_handshake_rtt", "concat_netflix_ftp.pcap", {}),
    ("heavy_hitter", "concat_netflix_ftp.pcap", {"threshold": "10KB"}),
    # Bounded disorder (each packet at most 200 ms of time out of place)
    # and 7 packets moved to the end of the file: with --max-delay 200ms
    # the rows of the time-ordered capture without those 7, which are late.
    ("new_tcp_conns", "jitter_synscan.pcap", {"@max_delay": "200ms"}),
    ("port_scan", "jitter_synscan.pcap", {"@max_delay": "200ms"}),
    ("superspreader", "jitter_synscan.pcap", {"threshold": "1", "@max_delay": "200ms"}),
    ("new_tcp_conns", "jitter_synscan.pcap", {}),
    ("syn_flood", "jitter_netflix.pcap", {"threshold": "-5", "@max_delay": "300ms"}),
    ("completed_flow", "jitter_netflix.pcap", {"@max_delay": "300ms"}),
    ("heavy_hitter", "jitter_netflix.pcap",
     {"threshold": "10KB", "@max_delay": "300ms"}),
]

# Captures made out of time order by tests/tools/disorder.py (in a
# temporary folder, at each run): name -> its arguments.
GENERATED = {
    "concat_synscan_masscan.pcap":
        ("concat", "synscan_1000_ports.pcap", "masscan_tcp_0_1000.pcap"),
    "concat_netflix_ftp.pcap":
        ("concat", "netflix.pcap", "ftp_brute_force.pcap"),
    "jitter_synscan.pcap":
        ("jitter", "synscan_1000_ports.pcap", "--max-ms", "200", "--seed", "7",
         "--late", "7"),
    "jitter_netflix.pcap":
        ("jitter", "netflix.pcap", "--max-ms", "300", "--seed", "3",
         "--late", "11"),
}

# The sweep: every query over every capture where, with permissive
# parameters (thresholds that let every group through), it finds something:
# each of these is a case as above and must find at least one row. It tests
# the decoding and grouping of everything in tests/data, where the cases
# above test the thresholds. EVERY_IPV4: all captures except the two with
# only IPv6 traffic (http_ipv6.pcap, ipv6_fragments.pcapng), where nothing
# keyed on ipv4.* can find anything.
EVERY_IPV4 = """
    1kxun.pcap 6in4tunnel.pcap arp_poison.pcap badpackets.pcap bot.pcap
    dns-tunnel-iodine.pcap dns2tcp_tunnel.pcap dns_exfiltration.pcap
    dns_isp_hijack.pcapng dnssec_rrsig.pcap ftp_brute_force.pcap
    fuzz-2006-06-26-2594.pcap http_espn.pcap ip_fragmented_garbage.pcap
    ip_fragments.pcap latency1.pcap malformed_dns.pcap masscan_tcp_0_1000.pcap
    masscan_udp_0_1000.pcap mixed-vlan-mpls.pcap netflix.pcap nmap_80_all.pcap
    portscan_small.pcap sites.pcapng ssh.pcap ssh_sshguess.pcap
    syn_flood_spoofed.pcap synscan_1000_ports.pcap tcp_handshake-reorder.pcap
    tcp_handshake.pcap tcp_ports.pcap tcp_retransmissions.pcap
    tunnels_gre-sample.pcap tunnels_vxlan-encapsulated-http.pcap
    two_way_all_flags.pcap vlan-qinqinq.pcap vxlan.pcap wikipedia.pcap"""
WITH_SYNS = """
    1kxun.pcap 6in4tunnel.pcap arp_poison.pcap dns2tcp_tunnel.pcap
    dns_isp_hijack.pcapng ftp_brute_force.pcap http_espn.pcap latency1.pcap
    mixed-vlan-mpls.pcap netflix.pcap nmap_80_all.pcap sites.pcapng ssh.pcap
    ssh_sshguess.pcap tcp_handshake-reorder.pcap tcp_handshake.pcap
    tcp_ports.pcap vlan-qinqinq.pcap wikipedia.pcap"""
SWEEP = {
    "export_headers": ({}, EVERY_IPV4),
    "heavy_hitter": ({"threshold": "1"}, EVERY_IPV4),
    "packet_size_histogram": ({}, EVERY_IPV4),
    "microbursts": ({"rate_bps": "1"}, EVERY_IPV4),
    "ddos": ({"threshold": "1"}, EVERY_IPV4),
    "superspreader": ({"threshold": "1"}, EVERY_IPV4),
    "new_tcp_conns": ({"threshold": "1"}, WITH_SYNS + """
        fuzz-2006-06-26-2594.pcap masscan_tcp_0_1000.pcap portscan_small.pcap
        syn_flood_spoofed.pcap synscan_1000_ports.pcap two_way_all_flags.pcap"""),
    "port_scan": ({"threshold": "1"}, WITH_SYNS + """
        bot.pcap fuzz-2006-06-26-2594.pcap masscan_tcp_0_1000.pcap
        portscan_small.pcap syn_flood_spoofed.pcap synscan_1000_ports.pcap
        tcp_retransmissions.pcap two_way_all_flags.pcap"""),
    "slowloris": ({"min_conns": "1", "max_bytes_per_conn": "100000000"},
                  WITH_SYNS.replace("6in4tunnel.pcap", "") + """
        bot.pcap fuzz-2006-06-26-2594.pcap masscan_tcp_0_1000.pcap
        portscan_small.pcap syn_flood_spoofed.pcap synscan_1000_ports.pcap
        tcp_retransmissions.pcap two_way_all_flags.pcap"""),
    "tcp_handshake_rtt": ({"win": "1h"}, WITH_SYNS),
    "syn_flood": ({"threshold": "-1000"}, WITH_SYNS + " two_way_all_flags.pcap"),
    "completed_flow": ({"threshold": "-1000"}, """
        6in4tunnel.pcap dns_isp_hijack.pcapng ftp_brute_force.pcap
        fuzz-2006-06-26-2594.pcap mixed-vlan-mpls.pcap netflix.pcap
        nmap_80_all.pcap sites.pcapng ssh_sshguess.pcap
        tcp_handshake-reorder.pcap two_way_all_flags.pcap vlan-qinqinq.pcap"""),
    "ssh_brute": ({"threshold": "1"}, """
        masscan_tcp_0_1000.pcap portscan_small.pcap ssh.pcap ssh_sshguess.pcap
        synscan_1000_ports.pcap"""),
    "dns_tunneling": ({"threshold": "-100000"}, """
        1kxun.pcap arp_poison.pcap dns_isp_hijack.pcapng http_espn.pcap
        netflix.pcap wikipedia.pcap"""),
    # badpackets, fuzz and malformed_dns: known differences, in CASES
    "dns_ttl_tracking": ({"threshold": "1"}, """
        1kxun.pcap 6in4tunnel.pcap arp_poison.pcap dns-tunnel-iodine.pcap
        dns_exfiltration.pcap dns_isp_hijack.pcapng dnssec_rrsig.pcap
        http_espn.pcap netflix.pcap wikipedia.pcap"""),
    "malicious_domain": ({}, """
        1kxun.pcap 6in4tunnel.pcap arp_poison.pcap badpackets.pcap
        dns_isp_hijack.pcapng dnssec_rrsig.pcap fuzz-2006-06-26-2594.pcap
        http_espn.pcap netflix.pcap wikipedia.pcap"""),
    "dns_reflection": ({"threshold": "1"}, "badpackets.pcap dnssec_rrsig.pcap"),
}


def all_cases():
    """CASES, then the sweep's cases that are not already among them."""
    seen = {(q, c, tuple(sorted(s.items()))) for q, c, s, *_ in CASES}
    out = [("case",) + tuple(c) for c in CASES]
    for q, (sets, caps) in SWEEP.items():
        for cap in caps.split():
            if (q, cap, tuple(sorted(sets.items()))) not in seen:
                out.append(("sweep", q, cap, sets))
    return out


def parse_value(text):
    """A --set value as the language reads it: int, size, duration, prefix."""
    units = {"KB": 10**3, "MB": 10**6, "GB": 10**9, "KiB": 2**10,
             "MiB": 2**20, "GiB": 2**30, "ns": 1, "us": 10**3, "ms": 10**6,
             "s": SEC, "m": 60 * SEC, "h": 3600 * SEC}
    if "/" in text:
        return ipaddress.IPv4Network(text)
    for u in sorted(units, key=len, reverse=True):
        if text.endswith(u) and text[:-len(u)].lstrip("-").isdigit():
            return int(text[:-len(u)]) * units[u]
    return int(text)


# ---------------------------------------------------------------------------
# Expected rows, as JSON values


def json_value(v):
    if isinstance(v, (ipaddress.IPv4Address, ipaddress.IPv6Address)):
        return str(v)
    if isinstance(v, bytes):  # JSON shows a byte outside ASCII as \u00XX
        return v.decode("latin-1")
    return v


def sort_key(row):
    """Rows of a window: by their columns, in order; absent first."""
    key = []
    for _, v in row:
        if v is None:
            key.append((0,))
        else:
            key.append((1, v))
    return key


def expected_rows(query, pkts, P, delay=None):
    """(rows, late packets) that `htsc run` must print and count."""
    fn, width, _ = QUERIES[query]
    late = 0
    if width is None:
        rows = fn(sorted(pkts, key=lambda p: p.ts), P)
    else:
        if isinstance(width, str):
            width = P[width]
        rows = []
        wins, late = tumbling(pkts, width, delay)
        for start in sorted(wins):  # tumbling: order of end = order of start
            for r in sorted(fn(wins[start], P), key=sort_key):
                rows.append((start, start + width, r))
    return [[("query", query), ("window_start", s), ("window_end", e)]
            + [(c, json_value(v)) for c, v in r] for s, e, r in rows], late


def htsc_rows(htsc, query, capture, sets, delay_text=None, extra=()):
    """(rows, late packets htsc counted for the query, error)"""
    cmd = [htsc, "run", os.path.join("queries", query + ".htq"),
           "--pcap", capture]
    for k, v in sets.items():
        cmd += ["--set", "%s=%s" % (k, v)]
    if delay_text is not None:
        cmd += ["--max-delay", delay_text]
    cmd += list(extra)
    r = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                       text=True)
    if r.returncode != 0:
        return None, 0, "htsc exited %d: %s" % (r.returncode, r.stderr.strip())
    rows = [json.loads(l, object_pairs_hook=list)
            for l in r.stdout.splitlines() if l.strip()]
    late = 0  # "htsc: warning: CAPTURE: packets came ... in it): Q N Q N"
    for line in r.stderr.splitlines():
        if "came after their window had closed" in line:
            words = line.split("):", 1)[1].split()
            late += sum(int(n) for q, n in zip(words[::2], words[1::2])
                        if q == query)
    return rows, late, None


def show(row):
    return json.dumps(dict(row)) if row is not None else "(no row)"


def matches(row, spec):
    d = dict(row)
    return all(d.get(k) == v for k, v in spec.items())


def known_difference(want, got, known):
    """None if want and got differ exactly as `known` says, else why not.

    known["extra"] / known["missing"]: one dict per row that htsc prints and
    the oracle does not / the oracle expects and htsc does not, each
    matching exactly one such row by the columns it names. The rows both
    have must come in the same order."""
    wk = [json.dumps(r) for r in want]
    gk = [json.dumps(r) for r in got]
    extra = [r for r, k in zip(got, gk) if k not in wk]
    missing = [r for r, k in zip(want, wk) if k not in gk]
    if [k for k in gk if k in wk] != [k for k in wk if k in gk]:
        return "the rows both have are in a different order"
    for name, rows in (("extra", extra), ("missing", missing)):
        specs = known.get(name, [])
        if len(specs) != len(rows) or not all(
                sum(matches(r, sp) for r in rows) == 1 for sp in specs):
            return "%s rows: %d, the known difference lists %d; first: %s" % (
                name, len(rows), len(specs), show(rows[0] if rows else None))
    return None


def capture_path(args, capture):
    """tests/data/NAME, or a capture disorder.py made (GENERATED)."""
    if capture in GENERATED:
        return os.path.join(args.gen, capture)
    return os.path.join(args.data, capture)


def run_case(args, case):
    """(passed, text, expected rows, rows htsc printed)"""
    query, capture, sets = case[:3]
    known = case[3] if len(case) > 3 else None
    sets = dict(sets)
    delay_text = sets.pop("@max_delay", None)
    extra = ["--sort-memory", sets.pop("@sort_memory")] \
        if "@sort_memory" in sets else []
    path = capture_path(args, capture)
    P = dict(QUERIES[query][2])
    P.update({k: parse_value(v) for k, v in sets.items()})
    delay = parse_value(delay_text) if delay_text is not None else None
    want, want_late = expected_rows(query, tshark_packets(path), P, delay)
    got, got_late, err = htsc_rows(args.htsc, query, path, sets, delay_text,
                                   extra)
    setdesc = " ".join("%s=%s" % kv for kv in sets.items()) or "-"
    if delay_text is not None:
        setdesc += " --max-delay %s" % delay_text
    setdesc += "".join(" " + a for a in extra)
    head = "%-22s %-28s %-34s rows %5d" % (query, capture, setdesc, len(want))
    if want_late or got_late:
        head += " late %d" % want_late
    if err:
        return False, head + "  FAIL: " + err, len(want), 0
    if not want:
        return False, head + "  FAIL: the oracle expects no row (a case " \
            "must find something)", 0, len(got)
    if got_late != want_late:
        return False, "%s  FAIL: htsc counted %d late packets, the oracle " \
            "%d" % (head, got_late, want_late), len(want), len(got)
    if known:
        why_not = known_difference(want, got, known)
        if why_not:
            return False, "%s  FAIL: not the known difference (%s): %s" % (
                head, known["why"], why_not), len(want), len(got)
        return True, "%s  PASS with the known difference: %s (htsc %d rows)" \
            % (head, known["why"], len(got)), len(want), len(got)
    for i in range(max(len(want), len(got))):
        w = want[i] if i < len(want) else None
        g = got[i] if i < len(got) else None
        if w != g:
            return False, "%s  FAIL: %d rows from htsc; first difference " \
                "at row %d\n    expected %s\n    got      %s" % (
                    head, len(got), i + 1, show(w), show(g)), len(want), len(got)
    return True, head + "  PASS", len(want), len(got)


def die(msg):
    print("oracle: FAIL: " + msg, file=sys.stderr)
    sys.exit(2)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--htsc", default="bin/htsc")
    ap.add_argument("--data", default="tests/data")
    ap.add_argument("--only", help="QUERY or QUERY:CAPTURE")
    ap.add_argument("--jobs", type=int, default=2)
    args = ap.parse_args()

    if shutil.which("tshark") is None:
        die("tshark not found: the oracle needs it (apt-get install tshark)")
    if not os.access(args.htsc, os.X_OK):
        die("%s is not an executable htsc" % args.htsc)

    cases = all_cases()
    if args.only:
        q, _, cap = args.only.partition(":")
        cases = [c for c in cases if c[1] == q and (not cap or c[2] == cap)]
        if not cases:
            die("no case matches --only %s" % args.only)
    for c in cases:
        if c[1] not in QUERIES:
            die("case names unknown query %s" % c[1])
        if c[2] not in GENERATED and not os.path.exists(os.path.join(args.data, c[2])):
            die("capture %s missing" % c[2])

    t0 = time.time()
    gen_dir = tempfile.TemporaryDirectory(prefix="hts-oracle-")
    args.gen = gen_dir.name
    tool = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..",
                        "tools", "disorder.py")
    for name in sorted({c[2] for c in cases if c[2] in GENERATED}):
        how, *rest = GENERATED[name]
        argv = [sys.executable, tool, how] + [
            os.path.join(args.data, a) if a.endswith(".pcap") else a
            for a in rest] + ["-o", os.path.join(args.gen, name)]
        r = subprocess.run(argv, stderr=subprocess.PIPE, text=True)
        if r.returncode != 0:
            die("making %s: %s" % (name, r.stderr.strip()))
    caps = sorted({capture_path(args, c[2]) for c in cases})

    def dissect(path):
        try:
            return tshark_packets(path)
        except (ValueError, IndexError) as e:
            die("%s: cannot read tshark's fields: %s" % (path, e))

    # tshark once per capture, then the cases; `jobs` at a time
    with ThreadPoolExecutor(max(1, args.jobs)) as ex:
        _tshark_cache.update(zip(caps, ex.map(dissect, caps)))
        outcomes = list(ex.map(lambda c: run_case(args, c[1:]), cases))

    failed = known = 0
    for (kind, *_), (ok, text, _, _) in zip(cases, outcomes):
        print("%-5s %s" % (kind, text))
        failed += not ok
        known += ok and "known difference" in text
    nkind = Counter(c[0] for c in cases)
    print("oracle: %d cases (%d listed, %d sweep) of %d queries on %d "
          "captures: %d passed (%d with a known difference), %d failed; "
          "%d rows expected, %d printed by htsc; %.1f s" % (
              len(cases), nkind["case"], nkind["sweep"],
              len({c[1] for c in cases}), len(caps), len(cases) - failed,
              known, failed, sum(o[2] for o in outcomes),
              sum(o[3] for o in outcomes), time.time() - t0))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
