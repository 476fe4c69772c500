#!/usr/bin/env python3
"""gen_trace.py - a synthetic capture for the Sonata figure (docs/partitioning.md).

Writes a nanosecond pcap (Ethernet, IPv4, TCP/UDP) of DURATION seconds with
background traffic between many hosts and the attacks Sonata's queries look
for, so every Sonata query has something to find and a realistic mass of
traffic not to report:

  background   HOSTS clients in 10.1.0.0/16 opening TCP connections to
               SERVERS servers in 10.2.0.0/24 (ports 80, 443, 22): handshake,
               a few data segments each way, FIN/ACK close; DNS lookups
               (udp 53) to a resolver, answered with an A record the client
               then contacts on port 80
  syn flood    many spoofed sources (172.16.0.0/12) send pure SYNs to
               10.2.0.7:80, which answers some SYN-ACKs
  port scan    10.1.255.1 probes ports 1..1024 of 10.2.0.9
  superspread  10.1.255.2 contacts 500 distinct hosts on port 445
  ssh brute    60 sources send same-sized packets to 10.2.0.22:22
  ddos         300 sources send UDP to 10.2.0.30:53
  dns rrsig    DNSSEC responses with RRSIG records to 10.1.0.5 from 50 sources

Deterministic (seeded). Usage: gen_trace.py OUT.pcap [--seconds N] [--hosts N]
"""
import argparse
import random
import struct


def csum(b):
    if len(b) % 2:
        b += b"\0"
    s = sum(struct.unpack("!%dH" % (len(b) // 2), b))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return (~s) & 0xFFFF


def ip(a):
    return bytes(int(x) for x in a.split("."))


class Writer:
    def __init__(self, path):
        self.f = open(path, "wb")
        # nanosecond pcap, Ethernet
        self.f.write(struct.pack("<IHHiIII", 0xA1B23C4D, 2, 4, 0, 0, 65535, 1))
        self.pkts = []

    def add(self, ts, frame):
        self.pkts.append((ts, frame))

    def close(self):
        self.pkts.sort(key=lambda p: p[0])
        for ts, frame in self.pkts:
            self.f.write(struct.pack("<IIII", ts // 10**9, ts % 10**9, len(frame), len(frame)))
            self.f.write(frame)
        self.f.close()
        return len(self.pkts)


def eth(payload, ethertype=0x0800):
    return b"\x02\x00\x00\x00\x00\x02" + b"\x02\x00\x00\x00\x00\x01" + struct.pack("!H", ethertype) + payload


def ipv4(src, dst, proto, payload, ttl=64, ident=0):
    hdr = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(payload), ident & 0xFFFF, 0x4000, ttl,
                      proto, 0, ip(src), ip(dst))
    hdr = hdr[:10] + struct.pack("!H", csum(hdr)) + hdr[12:]
    return hdr + payload


def tcp(src, dst, sport, dport, flags, seq=0, ack=0, data=b""):
    hdr = struct.pack("!HHIIBBHHH", sport, dport, seq & 0xFFFFFFFF, ack & 0xFFFFFFFF, 5 << 4,
                      flags, 65535, 0, 0)
    return eth(ipv4(src, dst, 6, hdr + data))


def udp(src, dst, sport, dport, data):
    hdr = struct.pack("!HHHH", sport, dport, 8 + len(data), 0)
    return eth(ipv4(src, dst, 17, hdr + data))


def dns_name(name):
    out = b""
    for label in name.split("."):
        out += bytes([len(label)]) + label.encode()
    return out + b"\0"


def dns_query(qid, name):
    return struct.pack("!HHHHHH", qid, 0x0100, 1, 0, 0, 0) + dns_name(name) + struct.pack("!HH", 1, 1)


def dns_answer(qid, name, addr, rrsig=False):
    q = dns_name(name) + struct.pack("!HH", 1, 1)
    ans = b"\xc0\x0c" + struct.pack("!HHIH", 1, 1, 300, 4) + ip(addr)
    n = 1
    if rrsig:
        sig = bytes(40)
        ans += b"\xc0\x0c" + struct.pack("!HHIH", 46, 1, 300, len(sig)) + sig
        n = 2
    return struct.pack("!HHHHHH", qid, 0x8180, 1, n, 0, 0) + q + ans


SYN, FIN, ACK, PSH, RST = 0x02, 0x01, 0x10, 0x08, 0x04


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("out")
    ap.add_argument("--seconds", type=int, default=30)
    ap.add_argument("--hosts", type=int, default=2000)
    ap.add_argument("--servers", type=int, default=50)
    ap.add_argument("--conns", type=int, default=20000)
    a = ap.parse_args()
    rnd = random.Random(20240611)
    w = Writer(a.out)
    t0 = 1700000000 * 10**9
    span = a.seconds * 10**9

    def at(frac):
        return t0 + int(frac * span)

    clients = ["10.1.%d.%d" % (i // 250, 1 + i % 250) for i in range(a.hosts)]
    servers = ["10.2.0.%d" % (40 + i) for i in range(a.servers)]
    # background TCP connections
    for c in range(a.conns):
        cl, sv = rnd.choice(clients), rnd.choice(servers)
        port = rnd.choice([80, 80, 80, 443, 443, 22])
        sp = rnd.randrange(1024, 65535)
        t = rnd.random() * 0.97
        rtt = rnd.uniform(0.00005, 0.002)
        isn, jsn = rnd.randrange(1 << 32), rnd.randrange(1 << 32)
        w.add(at(t), tcp(cl, sv, sp, port, SYN, isn))
        w.add(at(t + rtt / a.seconds), tcp(sv, cl, port, sp, SYN | ACK, jsn, isn + 1))
        w.add(at(t + 2 * rtt / a.seconds), tcp(cl, sv, sp, port, ACK, isn + 1, jsn + 1))
        seq = isn + 1
        for k in range(rnd.randrange(1, 6)):
            d = bytes(rnd.randrange(50, 1400))
            tt = t + (3 + k) * rtt / a.seconds
            w.add(at(tt), tcp(cl, sv, sp, port, PSH | ACK, seq, jsn + 1, d))
            w.add(at(tt + rtt / a.seconds / 2), tcp(sv, cl, port, sp, ACK, jsn + 1, seq + len(d)))
            seq += len(d)
        tt = t + 10 * rtt / a.seconds
        w.add(at(tt), tcp(cl, sv, sp, port, FIN | ACK, seq, jsn + 1))
        w.add(at(tt + rtt / a.seconds), tcp(sv, cl, port, sp, FIN | ACK, jsn + 1, seq + 1))
    # DNS lookups answered, then contacted on port 80
    for q in range(a.conns // 4):
        cl = rnd.choice(clients)
        sv = rnd.choice(servers)
        qid = rnd.randrange(1 << 16)
        t = rnd.random() * 0.97
        name = "host%d.example.com" % rnd.randrange(500)
        w.add(at(t), udp(cl, "10.2.0.2", 30000 + q % 30000, 53, dns_query(qid, name)))
        w.add(at(t + 0.0002 / a.seconds), udp("10.2.0.2", cl, 53, 30000 + q % 30000,
                                               dns_answer(qid, name, sv)))
    # SYN flood: spoofed sources to 10.2.0.7:80, few answered
    for i in range(a.conns):
        src = "172.%d.%d.%d" % (16 + rnd.randrange(16), rnd.randrange(256), 1 + rnd.randrange(254))
        t = 0.3 + rnd.random() * 0.1
        sp = rnd.randrange(1024, 65535)
        w.add(at(t), tcp(src, "10.2.0.7", sp, 80, SYN, rnd.randrange(1 << 32)))
        if i % 10 == 0:
            w.add(at(t + 0.00001), tcp("10.2.0.7", src, 80, sp, SYN | ACK, 1, 1))
    # port scan
    for p in range(1, 1025):
        w.add(at(0.6 + p * 0.00002), tcp("10.1.255.1", "10.2.0.9", 40000, p, SYN, p))
        w.add(at(0.6 + p * 0.00002 + 0.000001), tcp("10.2.0.9", "10.1.255.1", p, 40000, RST | ACK, 0, p + 1))
    # superspreader
    for h in range(500):
        dst = "10.3.%d.%d" % (h // 250, 1 + h % 250)
        w.add(at(0.7 + h * 0.00003), tcp("10.1.255.2", dst, 41000 + h, 445, SYN, h))
    # ssh brute force: same-sized login packets from many sources
    for s in range(60):
        src = "10.4.0.%d" % (1 + s)
        for k in range(3):
            t = 0.15 + rnd.random() * 0.05
            w.add(at(t), tcp(src, "10.2.0.22", 50000 + s, 22, PSH | ACK, k * 100, 1, bytes(96)))
    # ddos on UDP 53
    for s in range(300):
        src = "192.168.%d.%d" % (s // 250, 1 + s % 250)
        for k in range(5):
            w.add(at(0.8 + rnd.random() * 0.05), udp(src, "10.2.0.30", 2000 + s, 53, bytes(64)))
    # DNSSEC RRSIG responses to one destination from many resolvers
    for s in range(50):
        src = "10.5.0.%d" % (1 + s)
        w.add(at(0.9 + s * 0.0001), udp(src, "10.1.0.5", 53, 33000, dns_answer(s, "sig.example.com",
                                                                                "10.2.0.40", True)))
    n = w.close()
    print("gen_trace: %s: %d packets over %d s" % (a.out, n, a.seconds))


if __name__ == "__main__":
    main()
