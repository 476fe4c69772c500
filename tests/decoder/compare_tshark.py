#!/usr/bin/env python3
"""Compare the packet decoder with tshark, field by field, on every capture.

    compare_tshark.py PATH/TO/dumpfields DATA_DIR

For each capture in DATA_DIR (*.pcap, *.pcapng) this runs our decoder through
tests/tools/dumpfields and an independent one, tshark, and compares every
field both can name, packet by packet. It exits non-zero on any mismatch that
is not explained by an entry of KNOWN_DIFFERENCES below, and fails loudly when
tshark or the tool is missing: a comparison that did not run is not a pass.

How tshark's output is mapped onto our fields.

tshark prints every occurrence of a field ("ip.src" twice for GRE), and
frame.protocols names the layers in order ("eth:ethertype:ip:gre:ip:tcp").
The script splits that layer chain into regions the way our decoder does:
region 0 holds the plain (outer) headers; the packet inside VXLAN or GRE is
region 1 (the inner.* fields); the packet quoted inside an ICMP/ICMPv6 error,
or carried by IP-in-IP other than 6in4 (which we do not decode), goes to a
region nobody compares. The value of a plain field is then the occurrence of
its tshark field that belongs to the first layer of that protocol in region 0,
found by counting that protocol's layers before it. A field whose layer is
not in the region is expected absent.

tshark options: defragmentation and TCP reassembly are off, so that tshark
dissects each frame on its own as our decoder does.
"""

import os
import shutil
import subprocess
import sys

AGG = "\x1f"  # occurrence separator: never in names we compare

TSHARK_OPTS = [
    "-o", "ip.defragment:FALSE",
    "-o", "ipv6.defragment:FALSE",
    "-o", "tcp.desegment_tcp_streams:FALSE",
    # tshark's checksum checks do not change what it dissects, but keep them
    # off so a bad checksum can never hide fields
    "-o", "ip.check_checksum:FALSE",
    "-o", "tcp.check_checksum:FALSE",
    "-o", "udp.check_checksum:FALSE",
]

TSHARK_FIELDS = [
    "frame.number", "frame.protocols", "frame.time_epoch", "frame.len",
    "frame.cap_len",
    "eth.src", "eth.dst", "eth.type", "sll.etype",
    "vlan.id", "vlan.priority", "vlan.etype", "mpls.label",
    "ip.hdr_len", "ip.dsfield", "ip.len", "ip.id", "ip.flags",
    "ip.frag_offset", "ip.ttl", "ip.proto", "ip.src", "ip.dst",
    "ipv6.tclass", "ipv6.flow", "ipv6.plen", "ipv6.nxt", "ipv6.hlim",
    "ipv6.src", "ipv6.dst",
    "tcp.srcport", "tcp.dstport", "tcp.seq_raw", "tcp.ack_raw", "tcp.hdr_len",
    "tcp.flags", "tcp.window_size_value", "tcp.len", "tcp.payload",
    "udp.srcport", "udp.dstport", "udp.length", "udp.payload",
    "icmp.type", "icmp.code", "icmpv6.type", "icmpv6.code",
    "dns.id", "dns.flags.response", "dns.flags.opcode", "dns.flags.rcode",
    "dns.count.queries", "dns.count.answers", "dns.count.auth_rr",
    "dns.count.add_rr", "dns.qry.name", "dns.qry.type", "dns.resp.type",
    "dns.resp.ttl", "dns.a",
    "vxlan.vni", "gre.proto",
]

# frame.protocols entries that are not layers of their own
NOT_LAYERS = {"ethertype"}
TUNNELS = {"gre", "vxlan"}
QUOTING = {"icmp", "icmpv6"}
IGNORED_REGION = 99
L4_NUMBERS = {"icmp": 1, "tcp": 6, "udp": 17, "gre": 47, "icmpv6": 58}

# ---------------------------------------------------------------------------
# Known, explained differences. Each entry is keyed by capture and our field
# name and lists the exact frames it covers, so that a new difference in the
# same capture still fails. Keep each one narrow and say why.
KNOWN_DIFFERENCES = {
}


def die(msg):
    print("compare_tshark: FAIL: " + msg, file=sys.stderr)
    sys.exit(2)


def layer_regions(protocols):
    """[(layer, region)] for a frame.protocols chain (see the module doc)."""
    out = []
    region = 0
    prev_ip = None  # last IP layer name seen in this region
    for name in protocols.split(":"):
        if name in NOT_LAYERS or not name:
            continue
        if region == IGNORED_REGION:
            out.append((name, region))
            continue
        if name in ("ip", "ipv6"):
            if prev_ip is not None and not (prev_ip == "ip" and name == "ipv6"
                                            and region == 0):
                # IP in IP that we do not decode (only 6in4 in the outer
                # IPv4 header is followed)
                region = IGNORED_REGION
                out.append((name, region))
                continue
            prev_ip = name
        out.append((name, region))
        if name in TUNNELS:
            region = 1 if region == 0 else IGNORED_REGION
            prev_ip = None
        elif name in QUOTING:
            region = IGNORED_REGION
    return out


class Frame:
    """One tshark line: field -> list of occurrences, plus layer regions."""

    def __init__(self, cols):
        self.v = {}
        for name, text in zip(TSHARK_FIELDS, cols):
            self.v[name] = text.split(AGG) if text != "" else []
        self.layers = layer_regions(self.one("frame.protocols") or "")
        self.port53 = any(self.occ(f, 0) == "53" for f in (
            "tcp.srcport", "tcp.dstport", "udp.srcport", "udp.dstport"))

    def one(self, field):
        occ = self.v.get(field, [])
        return occ[0] if occ else None

    def count(self, layer, region):
        return sum(1 for n, r in self.layers if n == layer and r == region)

    def index(self, layer, region):
        """Occurrence index of the first `layer` in `region`, or None."""
        i = 0
        for n, r in self.layers:
            if n == layer:
                if r == region:
                    return i
                i += 1
        return None

    def occ(self, field, region=0, nth=0):
        """The occurrence of field that belongs to the nth layer of its
        protocol in region (None if that layer or value is missing)."""
        layer = field.split(".")[0]
        i = self.index(layer, region)
        if i is None:
            return None
        occ = self.v.get(field, [])
        return occ[i + nth] if i + nth < len(occ) else None

    def has(self, layer, region=0):
        return self.index(layer, region) is not None


def num(s):
    """tshark integer text (decimal, 0x hex, True/False) to int text."""
    if s is None:
        return None
    if s in ("True", "False"):
        return "1" if s == "True" else "0"
    return str(int(s, 0))


def plain(field, conv=num):
    return lambda fr: conv(fr.occ(field, 0)) if conv else fr.occ(field, 0)


def inner(field, conv=num):
    return lambda fr: conv(fr.occ(field, 1)) if conv else fr.occ(field, 1)


def ident(s):
    return s


def ts_ns(fr):
    t = fr.one("frame.time_epoch")
    if t is None:
        return None
    sec, _, frac = t.partition(".")
    return str(int(sec) * 1000000000 + int((frac + "000000000")[:9]))


def eth_type(fr):
    """Our eth.type: the EtherType after the outer VLAN tags (tshark's last
    vlan.etype of region 0), or the SLL protocol field."""
    nv = fr.count("vlan", 0)
    if nv:
        return num(fr.occ("vlan.etype", 0, nv - 1))
    if fr.has("eth", 0):
        return num(fr.occ("eth.type", 0))
    if fr.has("sll", 0):
        return num(fr.occ("sll.etype", 0))
    return None


def vlan_inner(fr):
    return num(fr.occ("vlan.id", 0, 1)) if fr.count("vlan", 0) >= 2 else None


def vlan_depth(fr):
    n = fr.count("vlan", 0)
    return str(n) if n else None


def mpls_depth(fr):
    if not fr.has("mpls", 0):
        return None
    return str(len(fr.v["mpls.label"]))


def ipv4_ihl(fr):
    v = fr.occ("ip.hdr_len", 0)
    return None if v is None else str(int(v) // 4)


def ip_proto(fr):
    if fr.has("ipv6", 0):
        # tshark has no "final next header" field; name the upper layer
        for name, region in fr.layers:
            if region == 0 and name in L4_NUMBERS:
                return str(L4_NUMBERS[name])
        return SKIP
    return num(fr.occ("ip.proto", 0))


def ipv6_frag(fr):
    if not fr.has("ipv6", 0):
        return None
    return "1" if fr.has("ipv6.fraghdr", 0) else "0"


def tcp_flags(fr):
    v = fr.occ("tcp.flags", 0)
    return None if v is None else str(int(v, 0) & 0xff)


def qname(fr):
    v = fr.occ("dns.qry.name", 0)
    if v == "<Root>":
        return "."  # our spelling of the root name (decode.c)
    if v is None:
        return v
    # we lower-case ASCII letters (decode.c); tshark keeps the case
    return "".join(chr(ord(c) + 32) if "A" <= c <= "Z" else c for c in v)


def rcode(fr):
    # tshark shows the reply code only in responses; we always have it
    if fr.occ("dns.flags.response", 0) == "0":
        return SKIP
    return num(fr.occ("dns.flags.rcode", 0))


def an_records(fr):
    """The types of the answer records (the first ancount of dns.resp.type,
    which lists every section), or None if tshark did not read them all."""
    an = fr.occ("dns.count.answers", 0)
    if an is None:
        return None
    an = int(an)
    i = fr.index("dns", 0)
    if i != 0:
        return None  # several DNS messages in the frame: ours is the first
    types = fr.v.get("dns.resp.type", [])
    if len(types) < an:
        return None
    return [int(t, 0) for t in types[:an]]


def an_types(fr):
    if not fr.has("dns", 0) or fr.occ("dns.count.answers", 0) is None:
        return None
    t = an_records(fr)
    if t is None:
        return None
    seen = []
    for x in t:
        if x not in seen:
            seen.append(x)
    return ",".join(str(x) for x in seen)


def an_first(field):
    def get(fr):
        t = an_records(fr)
        if not t:
            return None
        return num(fr.occ(field, 0))
    return get


def an_a(fr):
    t = an_records(fr)
    if not t or 1 not in t:
        return None
    return fr.occ("dns.a", 0)


def payload_region(fr):
    """Our payload follows the innermost TCP/UDP header we decode."""
    for region in (1, 0):
        for l4 in ("tcp", "udp"):
            if fr.has(l4, region):
                return l4, region
    return None, None


def payload(fr):
    l4, region = payload_region(fr)
    if l4 is None:
        return None
    return fr.occ(l4 + ".payload", region) or ""


def payload_len(fr):
    l4, region = payload_region(fr)
    if l4 is None:
        return None
    return str(len(fr.occ(l4 + ".payload", region) or "") // 2)


SKIP = object()  # "not comparable for this frame"

# our field -> how to get the expected value from a tshark frame
EXPECT = {
    "meta.ts": ts_ns,
    "meta.wire_len": lambda fr: fr.one("frame.len"),
    "meta.cap_len": lambda fr: fr.one("frame.cap_len"),
    "eth.src": plain("eth.src", ident),
    "eth.dst": plain("eth.dst", ident),
    "eth.type": eth_type,
    "vlan.id": plain("vlan.id"),
    "vlan.pcp": plain("vlan.priority"),
    "vlan.inner_id": vlan_inner,
    "vlan.depth": vlan_depth,
    "mpls.label": plain("mpls.label"),
    "mpls.depth": mpls_depth,
    "ipv4.ihl": ipv4_ihl,
    "ipv4.tos": plain("ip.dsfield"),
    "ipv4.len": plain("ip.len"),
    "ipv4.id": plain("ip.id"),
    "ipv4.flags": plain("ip.flags"),
    "ipv4.frag_off": plain("ip.frag_offset"),
    "ipv4.ttl": plain("ip.ttl"),
    "ipv4.proto": plain("ip.proto"),
    "ipv4.src": plain("ip.src", ident),
    "ipv4.dst": plain("ip.dst", ident),
    "ipv6.tc": plain("ipv6.tclass"),
    "ipv6.flow": plain("ipv6.flow"),
    "ipv6.plen": plain("ipv6.plen"),
    "ipv6.next": plain("ipv6.nxt"),
    "ipv6.hlim": plain("ipv6.hlim"),
    "ipv6.src": plain("ipv6.src", ident),
    "ipv6.dst": plain("ipv6.dst", ident),
    "ipv6.frag": ipv6_frag,
    "ip.proto": ip_proto,
    "tcp.sport": plain("tcp.srcport"),
    "tcp.dport": plain("tcp.dstport"),
    "tcp.seq": plain("tcp.seq_raw"),
    "tcp.ack": plain("tcp.ack_raw"),
    "tcp.hdr_len": plain("tcp.hdr_len"),
    "tcp.flags": tcp_flags,
    "tcp.window": plain("tcp.window_size_value"),
    "tcp.payload_len": plain("tcp.len"),
    "udp.sport": plain("udp.srcport"),
    "udp.dport": plain("udp.dstport"),
    "udp.len": plain("udp.length"),
    "icmp.type": plain("icmp.type"),
    "icmp.code": plain("icmp.code"),
    "icmpv6.type": plain("icmpv6.type"),
    "icmpv6.code": plain("icmpv6.code"),
    "dns.id": plain("dns.id"),
    "dns.qr": plain("dns.flags.response"),
    "dns.opcode": plain("dns.flags.opcode"),
    "dns.rcode": rcode,
    "dns.qdcount": plain("dns.count.queries"),
    "dns.ancount": plain("dns.count.answers"),
    "dns.nscount": plain("dns.count.auth_rr"),
    "dns.arcount": plain("dns.count.add_rr"),
    "dns.qname": qname,
    "dns.qtype": plain("dns.qry.type"),
    "dns.an.types": an_types,
    "dns.an.type": an_first("dns.resp.type"),
    "dns.an.ttl": an_first("dns.resp.ttl"),
    "dns.an.a": an_a,
    "vxlan.vni": plain("vxlan.vni"),
    "gre.proto": plain("gre.proto"),
    "inner.eth.src": inner("eth.src", ident),
    "inner.eth.dst": inner("eth.dst", ident),
    "inner.ipv4.src": inner("ip.src", ident),
    "inner.ipv4.dst": inner("ip.dst", ident),
    "inner.ipv4.proto": inner("ip.proto"),
    "inner.ipv4.len": inner("ip.len"),
    "inner.tcp.sport": inner("tcp.srcport"),
    "inner.tcp.dport": inner("tcp.dstport"),
    "inner.tcp.flags": lambda fr: (None if fr.occ("tcp.flags", 1) is None
                                   else str(int(fr.occ("tcp.flags", 1), 0)
                                            & 0xff)),
    "inner.udp.sport": inner("udp.srcport"),
    "inner.udp.dport": inner("udp.dstport"),
    "payload": payload,
    "payload.len": payload_len,
}


def run(cmd):
    r = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    return r.returncode, r.stdout.decode("utf-8", "surrogateescape"), \
        r.stderr.decode("utf-8", "replace")


def tshark_frames(tshark, path):
    cmd = [tshark, "-n", "-r", path] + TSHARK_OPTS + [
        "-T", "fields", "-E", "separator=/t", "-E", "occurrence=a",
        "-E", "aggregator=" + AGG, "-E", "quote=n"]
    for f in TSHARK_FIELDS:
        cmd += ["-e", f]
    rc, out, err = run(cmd)
    if rc != 0:
        die("tshark failed on %s (rc %d): %s" % (path, rc, err.strip()))
    frames = []
    for line in out.split("\n"):
        if line == "":
            continue
        cols = line.split("\t")
        if len(cols) != len(TSHARK_FIELDS):
            die("%s: tshark line with %d columns, expected %d" %
                (path, len(cols), len(TSHARK_FIELDS)))
        frames.append(Frame(cols))
    return frames


def our_frames(tool, path):
    rc, out, err = run([tool, path])
    if rc != 0:
        die("%s failed on %s (rc %d): %s" % (tool, path, rc, err.strip()))
    lines = out.split("\n")
    if not lines or not lines[0].startswith("#frame\t"):
        die("%s: no header line from %s" % (path, tool))
    names = lines[0][1:].split("\t")
    rows = []
    for line in lines[1:]:
        if line == "":
            continue
        cols = line.split("\t")
        if len(cols) != len(names):
            die("%s: dumpfields line with %d columns, expected %d" %
                (path, len(cols), len(names)))
        rows.append(dict(zip(names, cols)))
    return names, rows, err


def unescape_ours(s):
    """dumpfields' \\xNN escapes back to text comparable with tshark."""
    if "\\x" not in s:
        return s
    out = bytearray()
    i = 0
    b = s.encode("utf-8", "surrogateescape")
    while i < len(b):
        if b[i:i + 2] == b"\\x" and i + 4 <= len(b):
            out.append(int(b[i + 2:i + 4], 16))
            i += 4
        else:
            out.append(b[i])
            i += 1
    return out.decode("utf-8", "surrogateescape")


def tshark_text(raw):
    """Our name bytes as tshark shows them: valid UTF-8 as is, each invalid
    sequence as U+FFFD."""
    return raw.encode("utf-8", "surrogateescape").decode("utf-8", "replace")


def compare_capture(tool, tshark, path, verbose):
    name = os.path.basename(path)
    frames = tshark_frames(tshark, path)
    names, rows, _ = our_frames(tool, path)
    missing = [f for f in EXPECT if f not in names]
    if missing:
        die("dumpfields lacks columns %s" % missing)
    mism = []
    used = set()
    fields_compared = 0
    if len(frames) != len(rows):
        mism.append((0, "frame count", str(len(rows)), str(len(frames))))
    for fr, row in zip(frames, rows):
        num_ = int(fr.one("frame.number"))
        if int(row["frame"]) != num_:
            die("%s: frame numbering differs (%s vs %d)" %
                (name, row["frame"], num_))
        for field, get in EXPECT.items():
            if field.startswith("dns.") and not fr.port53:
                # tshark also dissects DNS on other ports (conversations it
                # saw on port 53 before, heuristics); we decode DNS only on
                # port 53 (decode.c), so expect no DNS fields there
                exp = None
            else:
                exp = get(fr)
            if exp is SKIP:
                continue
            exp = "" if exp is None else exp
            got = row[field]
            if field == "dns.qname":
                got = tshark_text(unescape_ours(got))
            fields_compared += 1
            if got == exp:
                continue
            key = (name, field)
            known = KNOWN_DIFFERENCES.get(key)
            if known and num_ in known["frames"]:
                used.add(key)
                continue
            mism.append((num_, field, got, exp))
    return len(rows), fields_compared, mism, used


def main():
    if len(sys.argv) not in (3, 4):
        print("usage: compare_tshark.py DUMPFIELDS DATA_DIR [-v]",
              file=sys.stderr)
        sys.exit(2)
    tool, data = sys.argv[1], sys.argv[2]
    verbose = len(sys.argv) == 4
    tshark = shutil.which("tshark")
    if not tshark:
        die("tshark is not installed (apt-get install tshark): the decoder "
            "cannot be checked without it")
    if not (os.path.isfile(tool) and os.access(tool, os.X_OK)):
        die("dumpfields tool %s is missing or not executable (build it "
            "first)" % tool)
    if not os.path.isdir(data):
        die("data directory %s is missing" % data)
    caps = sorted(f for f in os.listdir(data)
                  if f.endswith(".pcap") or f.endswith(".pcapng"))
    if not caps:
        die("no captures in %s" % data)

    total_pk = total_f = total_m = 0
    used_all = set()
    print("%-40s %8s %9s %10s" % ("capture", "packets", "fields", "mismatches"))
    for c in caps:
        pk, nf, mism, used = compare_capture(tool, tshark,
                                             os.path.join(data, c), verbose)
        used_all |= used
        total_pk += pk
        total_f += nf
        total_m += len(mism)
        print("%-40s %8d %9d %10d" % (c, pk, nf, len(mism)))
        shown = mism if verbose else mism[:20]
        for frame, field, got, exp in shown:
            print("    frame %d %s: ours %r, tshark %r" %
                  (frame, field, got[:120], exp[:120]))
        if len(shown) < len(mism):
            print("    ... %d more (-v shows all)" % (len(mism) - len(shown)))
    stale = set(KNOWN_DIFFERENCES) - used_all
    for key in sorted(stale):
        print("stale known difference (no longer happens): %s %s" % key)
    print("%-40s %8d %9d %10d" % ("TOTAL", total_pk, total_f, total_m))
    if total_m or stale:
        print("compare_tshark: FAIL", file=sys.stderr)
        sys.exit(1)
    print("compare_tshark: OK (%d known differences applied)" % len(used_all))


if __name__ == "__main__":
    main()
