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

Spelling and presentation differences are mapped, each in the function that
reads the field: hex and True/False to decimal; tshark's "<Root>" to our
"."; tshark keeps the case of names, we lower-case them; non-ASCII name
bytes as tshark's format_text() shows them; the EtherType after VLAN tags
(vlan.etype) or the SLL protocol as our eth.type; tshark's rcode only in
responses; DNS UPDATE's renamed counts; the UDP length bounding udp.payload;
DNS fields expected only with port 53 (tshark also follows conversations
and heuristics onto other ports, we do not). What is left over must match,
or be listed in KNOWN_DIFFERENCES with a reason.
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
    "dns.count.add_rr", "dns.count.zones", "dns.count.prerequisites",
    "dns.count.updates", "dns.qry.name", "dns.qry.type", "dns.resp.type",
    "dns.resp.ttl", "dns.a",
    "vxlan.vni", "gre.proto",
]

# frame.protocols entries that are not layers of their own
NOT_LAYERS = {"ethertype"}
TUNNELS = {"gre", "vxlan"}
QUOTING = {"icmp", "icmpv6"}
IGNORED_REGION = 99
L4_NUMBERS = {"icmp": 1, "tcp": 6, "udp": 17, "gre": 47, "icmpv6": 58}
SKIP = object()  # an expectation getter's "not comparable in this frame"

# ---------------------------------------------------------------------------
# Known, explained differences. Each entry names one capture, the fields and
# the exact frames where our decoder and tshark disagree on purpose, and why.
# Every (capture, field, frame) listed must really differ, or the run fails
# as stale: an entry can neither hide a new difference nor outlive a fix.
KNOWN_DIFFERENCES = [
    # A DNS answer record whose RDATA is cut: we keep the record's type and
    # TTL, which were read whole (DNS is read field by field, decode.c);
    # tshark adds none of a record's fields unless the whole record is there.
    dict(capture="badpackets.pcap", fields=("dns.an.type", "dns.an.ttl"),
         frames=(3, 29, 48, 66),
         why="first answer's RDATA truncated: tshark drops the whole record"),
    dict(capture="fuzz-2006-06-26-2594.pcap",
         fields=("dns.an.type", "dns.an.ttl"), frames=(409,),
         why="first answer's RDATA truncated: tshark drops the whole record"),
    # Same rule for a question: its name was read whole, its type/class cut.
    dict(capture="badpackets.pcap", fields=("dns.qname",), frames=(28, 74),
         why="question type/class truncated: tshark drops the whole question"),
    dict(capture="fuzz-2006-06-26-2594.pcap", fields=("dns.qname",),
         frames=(600,),
         why="question type/class truncated: tshark drops the whole question"),
    # A DNS payload of 2 bytes: tshark does not start the DNS dissector;
    # we report the id, which is whole.
    dict(capture="badpackets.pcap", fields=("dns.id",), frames=(58,),
         why="2-byte DNS payload: tshark shows no DNS at all"),
    # The second question's name is longer than 255 bytes (the attack this
    # capture records). We count BAD_DNS and stop; tshark marks the name
    # "<Name too long>" and goes on to dissect the answers.
    dict(capture="malformed_dns.pcap",
         fields=("dns.an.types", "dns.an.type", "dns.an.ttl", "dns.an.a"),
         frames=(2, 3, 5, 6),
         why="name over 255 bytes is BAD_DNS for us; tshark reads on"),
    # Label types 0x40/0x80 (RFC 2671's extended labels, withdrawn by RFC
    # 6891): BAD_DNS for us; tshark prints "<unknown extended label>" and
    # reads on.
    dict(capture="fuzz-2006-06-26-2594.pcap", fields=("dns.qname",),
         frames=(25, 111, 246, 288, 382, 384, 391, 450, 517, 536, 569, 579,
                 605, 671),
         why="extended label type: BAD_DNS for us, tshark reads on"),
    dict(capture="fuzz-2006-06-26-2594.pcap", fields=("dns.qtype",),
         frames=(25, 111, 246, 288, 382, 384, 391, 450, 517, 536, 569, 579,
                 605, 671),
         why="extended label type: BAD_DNS for us, tshark reads on"),
    # A TCP data offset below 5, or a header longer than the IP packet holds:
    # BAD_TCP and no TCP fields for us; tshark still shows the fixed fields.
    dict(capture="ip_fragmented_garbage.pcap",
         fields=("tcp.sport", "tcp.dport", "tcp.seq", "tcp.hdr_len",
                 "payload.len"),
         frames=(1, 314, 627, 940),
         why="malformed TCP data offset: absent for us, tshark shows fields"),
    dict(capture="ip_fragmented_garbage.pcap",
         fields=("tcp.ack", "tcp.flags", "tcp.window"), frames=(314, 627),
         why="malformed TCP data offset: absent for us, tshark shows fields"),
    dict(capture="fuzz-2006-06-26-2594.pcap",
         fields=("tcp.sport", "tcp.dport", "payload.len"), frames=(86,),
         why="TCP header longer than the IP packet: absent for us, tshark "
             "shows the ports"),
    # IHL below 5: BAD_IPV4 and no IPv4 fields; tshark shows the header
    # length field (and nothing after it).
    dict(capture="fuzz-2006-06-26-2594.pcap", fields=("ipv4.ihl",),
         frames=(303,),
         why="IPv4 IHL < 5: absent for us, tshark shows it"),
    # EtherType 0x0000: a length (802.3) to us, so no eth.type; tshark
    # shows it as an unknown Ethernet II type.
    dict(capture="fuzz-2006-06-26-2594.pcap", fields=("eth.type",),
         frames=(607, 608),
         why="type field 0 is an 802.3 length for us"),
    # EtherType IPv4 carrying a version-6 header: BAD_IPV4 for us; tshark
    # hands the bytes to its IPv6 dissector.
    dict(capture="fuzz-2006-06-26-2594.pcap",
         fields=("ipv6.tc", "ipv6.flow", "ipv6.plen", "ipv6.next",
                 "ipv6.hlim", "ipv6.src", "ipv6.dst", "ipv6.frag"),
         frames=(669,),
         why="IPv6 header behind EtherType 0x0800: BAD_IPV4 for us"),
]


def known_index():
    """(capture, field, frame) -> the reason it may differ."""
    idx = {}
    for k in KNOWN_DIFFERENCES:
        for f in k["fields"]:
            if f not in EXPECT:
                die("known difference names unknown field %s" % f)
            for n in k["frames"]:
                idx[(k["capture"], f, n)] = k["why"]
    return idx


KNOWN = {}


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


def dns_count(normal, update):
    """The header counts: tshark names them after the UPDATE sections
    (RFC 2136) when the opcode is 5."""
    def get(fr):
        if fr.occ("dns.flags.opcode", 0) == "5":
            return num(fr.occ(update, 0))
        return num(fr.occ(normal, 0))
    return get


def rcode(fr):
    # tshark shows the reply code only in responses; we always have it
    if fr.occ("dns.flags.response", 0) == "0":
        return SKIP
    return num(fr.occ("dns.flags.rcode", 0))


def an_records(fr, whole=True):
    """The types of the answer records tshark dissected (dns.resp.type lists
    every section, answers first). whole: None unless all ancount of them
    are there."""
    an = fr.occ("dns.count.answers", 0)
    if an is None or fr.index("dns", 0) != 0:
        return None  # no answer count, or ours is not tshark's first message
    an = int(an)
    types = [int(t, 0) for t in fr.v.get("dns.resp.type", [])[:an]]
    if whole and len(types) < an:
        return None
    return types


def an_types(fr):
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
        if not an_records(fr, whole=False):
            return None
        return num(fr.occ(field, 0))
    return get


def an_a(fr):
    t = an_records(fr, whole=False)
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
    hexed = fr.occ(l4 + ".payload", region) or ""
    if l4 == "udp":
        # tshark's udp.payload field runs to the end of the IP payload even
        # when the UDP length ends the datagram sooner (its "UDP payload (N
        # bytes)" line uses the UDP length); our payload stops at the UDP
        # length, as the datagram's own dissector in tshark does
        ulen = fr.occ("udp.length", region)
        if ulen is not None and int(ulen) >= 8:
            hexed = hexed[:2 * (int(ulen) - 8)]
    return hexed


def payload_len(fr):
    p = payload(fr)
    return None if p is None else str(len(p) // 2)


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
    "dns.qdcount": dns_count("dns.count.queries", "dns.count.zones"),
    "dns.ancount": dns_count("dns.count.answers",
                              "dns.count.prerequisites"),
    "dns.nscount": dns_count("dns.count.auth_rr", "dns.count.updates"),
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


C_ESCAPES = {7: "\\a", 8: "\\b", 9: "\\t", 10: "\\n", 11: "\\v",
             12: "\\f", 13: "\\r"}


def tshark_text(raw):
    """Our name bytes as tshark 4.0's format_text() shows them: printable
    ASCII as is, control bytes as C escapes or \\ooo, well-formed UTF-8 as
    is, and each broken sequence (a lead byte and the continuation bytes it
    took before the break) as one U+FFFD."""
    b = raw.encode("utf-8", "surrogateescape")
    out = []
    i = 0
    while i < len(b):
        c = b[i]
        i += 1
        if 0x20 <= c < 0x7f:
            out.append(chr(c))
            continue
        if c < 0x80:
            out.append(C_ESCAPES.get(c, "\\%03o" % c))
            continue
        for mask, lead, n, lo in ((0xe0, 0xc0, 2, 0x80), (0xf0, 0xe0, 3, 0x800),
                                  (0xf8, 0xf0, 4, 0x10000),
                                  (0xfc, 0xf8, 5, 0x200000),
                                  (0xfe, 0xfc, 6, 0x4000000)):
            if c & mask == lead:
                break
        else:
            out.append("\ufffd")  # a continuation byte or 0xfe/0xff
            continue
        uc = c & (0xff >> (n + 1))
        need = n - 1
        while need and i < len(b) and b[i] & 0xc0 == 0x80:
            uc = uc << 6 | (b[i] & 0x3f)
            i += 1
            need -= 1
        if need or uc < lo or uc > 0x10ffff or 0xd800 <= uc <= 0xdfff:
            out.append("\ufffd")
        else:
            out.append(chr(uc))
    return "".join(out)


def compare_capture(tool, tshark, path):
    name = os.path.basename(path)
    frames = tshark_frames(tshark, path)
    names, rows, _ = our_frames(tool, path)
    missing = [f for f in EXPECT if f not in names]
    if missing:
        die("dumpfields lacks columns %s" % missing)
    mism = []
    used = set()
    fields_compared = 0
    nonempty = 0
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
            if exp != "" or got != "":
                nonempty += 1
            if got == exp:
                continue
            key = (name, field, num_)
            if key in KNOWN:
                used.add(key)
                continue
            mism.append((num_, field, got, exp))
    return len(rows), fields_compared, nonempty, mism, used


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

    global KNOWN
    KNOWN = known_index()
    total_pk = total_f = total_ne = total_m = 0
    used_all = set()
    # fields: comparisons made; with value: those where either side had a
    # value (the rest agree that the field is absent); known: differences
    # explained by KNOWN_DIFFERENCES
    line = "%-38s %8s %9s %10s %6s %10s"
    print(line % ("capture", "packets", "fields", "with value", "known",
                  "mismatches"))
    for c in caps:
        pk, nf, ne, mism, used = compare_capture(tool, tshark,
                                                 os.path.join(data, c))
        used_all |= used
        total_pk += pk
        total_f += nf
        total_ne += ne
        total_m += len(mism)
        print(line % (c, pk, nf, ne, len(used), len(mism)))
        shown = mism if verbose else mism[:20]
        for frame, field, got, exp in shown:
            print("    frame %d %s: ours %r, tshark %r" %
                  (frame, field, got[:120], exp[:120]))
        if len(shown) < len(mism):
            print("    ... %d more (-v shows all)" % (len(mism) - len(shown)))
    stale = set(k for k in KNOWN if k[0] in caps) - used_all
    for key in sorted(stale):
        print("stale known difference (no longer differs): %s %s frame %d"
              % key)
    print(line % ("TOTAL", total_pk, total_f, total_ne, len(used_all),
                  total_m))
    if total_m or stale:
        print("compare_tshark: FAIL", file=sys.stderr)
        sys.exit(1)
    print("compare_tshark: OK (%d known differences, %d captures)" %
          (len(used_all), len(caps)))


if __name__ == "__main__":
    main()
