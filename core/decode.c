/*
 * decode.c - the one packet decoder: frame bytes to catalogue field values.
 *
 * Every consumer of packets (the reference executor, the data-plane model, the
 * runtime's packet mode, the test tools) calls hts_decode() and reads fields
 * from struct hts_pkt, so that "what is tcp.dport of this frame" has exactly
 * one answer in the tree. It runs once per packet on the runtime's hot path:
 * it allocates nothing, resets only the presence bitmap, and walks the frame
 * once, one static function per layer, outermost first. A caller that reads
 * only some of the fields below L4 (the JIT's compiled code: dns.an.ttl but
 * not the type set) says which (`want`, packet.h): the same code then stops
 * once those are decided, rather than a second decoder with its own rules.
 *
 * Safety rule: every read is preceded by a length check against the captured
 * bytes (cap_len) and, inside IP, against the lengths the IP headers declare.
 * A header that does not fit is absent as a whole (none of its fields are
 * set), the reason is counted once in the stats, and decoding stops: later
 * headers cannot be trusted to start where a broken one says they do. DNS,
 * a variable-length message rather than a header, is the exception: each
 * of its fields read whole before the problem stays present. The frame's
 * own IP packet never extends past the frame's wire length, whatever its
 * total length claims (that is how tcp.payload_len stays honest).
 *
 * Choices that a reader of query results needs to know (also in fields.def):
 *  - Outer/inner: the first Ethernet/IP/L4 headers fill the plain fields; the
 *    packet inside VXLAN (UDP dport 4789) or GRE (IP protocol 47) fills only
 *    inner.*. Problems inside a tunnel count as TRUNC_TUNNEL (or FRAGMENT).
 *  - 6in4 (IPv4 protocol 41): the carried IPv6 header fills ipv6.* and its L4
 *    header fills tcp.*, udp.*, icmpv6.*. ip.proto is then the protocol of
 *    that L4 header (6, 17, 58...), not 41: ip.proto always names the header
 *    that filled the plain L4 fields. (ipv4.proto stays 41.) If the IPv6
 *    header inside is broken, ip.proto stays 41.
 *  - ip.proto is present for non-first fragments too (it is an IP header
 *    fact); their L4 fields are absent and they count as FRAGMENT.
 *  - payload is what follows the innermost decoded TCP or UDP header (as
 *    fields.def says): for HTTP inside VXLAN it is the HTTP bytes. It holds
 *    captured bytes only and stops at the end the IP (and UDP) lengths give,
 *    so Ethernet padding is never payload.
 *  - A TCP header counts as present only when all hdr_len bytes (options
 *    included) are captured; UDP needs 8 bytes, ICMP and ICMPv6 4 (type,
 *    code, checksum).
 *  - DNS is decoded from the plain L4 header only (UDP or TCP with port 53 on
 *    either side; over TCP the 2-byte length prefix is skipped and a segment
 *    with no payload is not DNS). The root name is "." (tshark prints
 *    "<Root>"). Names are lower-cased (ASCII letters only) and kept as bytes
 *    otherwise. dns.an.types is present only when the whole answer section
 *    was read (an incomplete set would make "not has" lie); it is a set: each
 *    type once, in first-seen order.
 *  - eth.type is the EtherType after all VLAN tags; for Linux cooked captures
 *    (SLL, SLL2) it is the protocol field, which is an EtherType. An 802.3
 *    frame (length instead of type) has no eth.type.
 */
#include "packet.h"

#include <errno.h>
#include <string.h>

const char *const hts_decode_err_names[DEC__COUNT] = {
    /* designated so that order cannot drift; test_decode.c checks that each
     * name is the lower-cased id */
    [DEC_LINKTYPE] = "linktype",
    [DEC_TRUNC_L2] = "trunc_l2",
    [DEC_TRUNC_VLAN] = "trunc_vlan",
    [DEC_TRUNC_MPLS] = "trunc_mpls",
    [DEC_TRUNC_IPV4] = "trunc_ipv4",
    [DEC_BAD_IPV4] = "bad_ipv4",
    [DEC_TRUNC_IPV6] = "trunc_ipv6",
    [DEC_BAD_IPV6] = "bad_ipv6",
    [DEC_BAD_IPV6_EXT] = "bad_ipv6_ext",
    [DEC_TRUNC_TCP] = "trunc_tcp",
    [DEC_BAD_TCP] = "bad_tcp",
    [DEC_TRUNC_UDP] = "trunc_udp",
    [DEC_TRUNC_ICMP] = "trunc_icmp",
    [DEC_TRUNC_DNS] = "trunc_dns",
    [DEC_BAD_DNS] = "bad_dns",
    [DEC_TRUNC_TUNNEL] = "trunc_tunnel",
    [DEC_FRAGMENT] = "fragment",
};

const char *const hts_decode_err_text[DEC__COUNT] = {
#define X(id, text) [DEC_##id] = text,
    HTS_DECODE_ERRORS(X)
#undef X
};

/* EtherTypes and IP protocols the decoder follows */
enum {
    ET_IPV4 = 0x0800,
    ET_IPV6 = 0x86dd,
    ET_VLAN = 0x8100,
    ET_QINQ = 0x88a8,
    ET_QINQ_OLD = 0x9100,
    ET_MPLS_UC = 0x8847,
    ET_MPLS_MC = 0x8848,
    ET_TEB = 0x6558, /* GRE: transparent Ethernet bridging */
    IPP_HOPOPT = 0,
    IPP_ICMP = 1,
    IPP_TCP = 6,
    IPP_UDP = 17,
    IPP_IPV6 = 41,
    IPP_ROUTING = 43,
    IPP_FRAGMENT = 44,
    IPP_GRE = 47,
    IPP_AH = 51,
    IPP_ICMPV6 = 58,
    IPP_DSTOPTS = 60,
};

/* DNS limits: RFC 1035 caps a name at 255 bytes on the wire; a name needs at
 * most 127 labels, so more pointer jumps than that can only be a loop. */
#define DNS_NAME_WIRE_MAX 255
#define DNS_MAX_JUMPS 127

/*
 * Offsets are 64-bit so that "offset + a 16-bit length from the packet" can
 * never wrap, whatever cap_len is. `end` arguments are the end an enclosing
 * header declares (possibly beyond the captured bytes); reads are checked
 * against min(end, cap).
 */
struct dec {
    struct hts_pkt *p;
    const uint8_t *d;
    uint64_t cap;
    uint64_t wire; /* the frame's length on the wire: no IP packet in it
                    * can be longer, whatever its header claims */
    struct hts_decode_stats *st;
    uint32_t want; /* HTS_W_*: the groups of fields below L4 to decode (the
                    * full decoder: all); decoding stops once those are
                    * decided, so later problems go uncounted */
    bool inner;  /* decoding the packet inside VXLAN/GRE: fill inner.* only */
    bool failed; /* an error was counted for this packet */
};

static inline uint16_t rd16(const uint8_t *b)
{
    return (uint16_t)(b[0] << 8 | b[1]);
}

static inline uint32_t rd32(const uint8_t *b)
{
    return (uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 | (uint32_t)b[2] << 8 |
           b[3];
}

static inline uint64_t min64(uint64_t a, uint64_t b)
{
    return a < b ? a : b;
}

static inline void put_u(struct hts_pkt *p, enum hts_field f, uint64_t v)
{
    p->f[f].u = v;
    hts_pkt_set(p, f);
}

static inline void put_b(struct hts_pkt *p, enum hts_field f, const uint8_t *b,
                         size_t n)
{
    memcpy(p->f[f].b, b, n);
    hts_pkt_set(p, f);
}

static inline void put_s(struct hts_pkt *p, enum hts_field f, const uint8_t *b,
                         uint64_t n)
{
    p->f[f].s.p = b;
    p->f[f].s.n = (uint32_t)n;
    hts_pkt_set(p, f);
}

/* Counts the reason decoding stopped. Once per packet: the first failure is
 * the cause, anything after it would be noise. Inside a tunnel every header
 * problem is reported as the tunnel's (the inner packet is one unit to the
 * user), except non-first fragments, which are not damage. */
static void fail(struct dec *dc, enum hts_decode_err why)
{
    if (dc->failed)
        return;
    dc->failed = true;
    if (dc->inner && why != DEC_FRAGMENT)
        why = DEC_TRUNC_TUNNEL;
    if (dc->st)
        dc->st->errors[why]++;
}

/* Bytes readable from off before both the declared end and the capture end. */
static inline uint64_t avail(const struct dec *dc, uint64_t off, uint64_t end)
{
    uint64_t lim = min64(end, dc->cap);
    return off < lim ? lim - off : 0;
}

static void decode_ethertype(struct dec *dc, uint16_t type, uint64_t off,
                             bool set_type);
static void decode_ipv4(struct dec *dc, uint64_t off, uint64_t lim);
static void decode_ipv6(struct dec *dc, uint64_t off, uint64_t lim);
static void decode_eth_inner(struct dec *dc, uint64_t off, uint64_t end);

/* ---- DNS ---------------------------------------------------------------- */

/* A DNS message: m[0..n) are the bytes we may read (captured and inside the
 * transport's length). Offsets inside names are relative to m. */
struct dnsmsg {
    const uint8_t *m;
    uint32_t n;
};

/*
 * Reads the name at *pos into out (dotted, lower-cased, NUL-terminated; its
 * length in *outlen). Returns 0 and moves *pos past the name's in-place part
 * (up to its terminator or first pointer), or the error to count.
 * Compression pointers are followed at most DNS_MAX_JUMPS times; a name
 * longer than 255 bytes on the wire is malformed, which also bounds the text
 * to 253 characters (out holds HTS_QNAME_MAX). out NULL: the same checks
 * without the text (a caller that needs what follows the name, not the
 * name, must still stop where a bad name stops the full decoder).
 */
static inline __attribute__((always_inline)) int
dns_name(const struct dnsmsg *dm, uint32_t *pos, char *out, uint32_t *outlen)
{
    uint32_t at = *pos, wire = 0, o = 0, jumps = 0;
    bool jumped = false;
    for (;;) {
        if (at >= dm->n)
            return DEC_TRUNC_DNS;
        uint8_t len = dm->m[at];
        if ((len & 0xc0) == 0xc0) {
            if (at + 2 > dm->n)
                return DEC_TRUNC_DNS;
            if (!jumped)
                *pos = at + 2;
            jumped = true;
            if (++jumps > DNS_MAX_JUMPS)
                return DEC_BAD_DNS;
            uint32_t to = (uint32_t)rd16(dm->m + at) & 0x3fff;
            /* a pointer past what we have: the rest of the message was cut */
            if (to >= dm->n)
                return DEC_TRUNC_DNS;
            at = to;
            continue;
        }
        if (len & 0xc0) /* 0x40, 0x80: extended label types, obsolete */
            return DEC_BAD_DNS;
        wire += 1u + len;
        if (wire > DNS_NAME_WIRE_MAX)
            return DEC_BAD_DNS;
        if (len == 0) {
            if (!jumped)
                *pos = at + 1;
            break;
        }
        if (at + 1 + len > dm->n)
            return DEC_TRUNC_DNS;
        at += 1u + len;
        if (!out)
            continue;
        if (o)
            out[o++] = '.';
        for (uint32_t i = 0; i < len; i++) {
            uint8_t c = dm->m[at - len + i];
            out[o++] = (char)(c >= 'A' && c <= 'Z' ? c + 32 : c);
        }
    }
    if (!out)
        return 0;
    if (o == 0)
        out[o++] = '.'; /* the root */
    out[o] = 0;
    *outlen = o;
    return 0;
}

/*
 * Moves *pos past a name we do not need the text of (answer owners, later
 * questions). Pointers are not followed: the name's bytes here end at its
 * first pointer, and following every owner name would let one packet cost a
 * few hundred steps per record. Returns 0 or the error to count.
 */
static inline __attribute__((always_inline)) int
dns_skip_name(const struct dnsmsg *dm, uint32_t *pos)
{
    uint32_t at = *pos, wire = 0;
    for (;;) {
        if (at >= dm->n)
            return DEC_TRUNC_DNS;
        uint8_t len = dm->m[at];
        if ((len & 0xc0) == 0xc0) {
            if (at + 2 > dm->n)
                return DEC_TRUNC_DNS;
            *pos = at + 2;
            return 0;
        }
        if (len & 0xc0)
            return DEC_BAD_DNS;
        wire += 1u + len;
        if (wire > DNS_NAME_WIRE_MAX)
            return DEC_BAD_DNS;
        if (len == 0) {
            *pos = at + 1;
            return 0;
        }
        at += 1u + len;
    }
}

/* Adds a type to a set of *n (dns.an.types) unless it is there; false if
 * the set is full. */
static inline bool an_types_add(uint16_t *set, unsigned *n, uint16_t type)
{
    for (unsigned i = 0; i < *n; i++)
        if (set[i] == type)
            return true;
    if (*n >= HTS_MAX_AN_TYPES)
        return false;
    set[(*n)++] = type;
    return true;
}

/* The DNS header (12 bytes, or the whole fields of a cut one); false if
 * it is cut, which ends the message. */
static inline __attribute__((always_inline)) bool
dns_header(struct dec *dc, const struct dnsmsg *dm)
{
    struct hts_pkt *p = dc->p;
    const uint8_t *h = dm->m;
    if (dm->n < 12) {
        /* a cut header still gives the fields that are whole (tshark does
         * the same): the id and flags tell a truncated response apart */
        if (dm->n >= 2)
            put_u(p, FLD_DNS_ID, rd16(h));
        if (dm->n >= 4) {
            put_u(p, FLD_DNS_QR, h[2] >> 7);
            put_u(p, FLD_DNS_OPCODE, (h[2] >> 3) & 0xf);
            put_u(p, FLD_DNS_RCODE, h[3] & 0xf);
        }
        if (dm->n >= 6)
            put_u(p, FLD_DNS_QDCOUNT, rd16(h + 4));
        if (dm->n >= 8)
            put_u(p, FLD_DNS_ANCOUNT, rd16(h + 6));
        if (dm->n >= 10)
            put_u(p, FLD_DNS_NSCOUNT, rd16(h + 8));
        fail(dc, DEC_TRUNC_DNS);
        return false;
    }
    if (!(dc->want & HTS_W_DNS_HDR)) /* not read: may stay absent */
        return true;
    /* every byte read before anything is stored: a store through p may
     * alias the message's bytes for the compiler, which would then read
     * them again and set the presence bits one at a time */
    uint16_t id = rd16(h), flags = rd16(h + 2), qd = rd16(h + 4), an = rd16(h + 6),
             ns = rd16(h + 8), ar = rd16(h + 10);
    put_u(p, FLD_DNS_ID, id);
    put_u(p, FLD_DNS_QR, flags >> 15);
    put_u(p, FLD_DNS_OPCODE, (flags >> 11) & 0xf);
    put_u(p, FLD_DNS_RCODE, flags & 0xf);
    put_u(p, FLD_DNS_QDCOUNT, qd);
    put_u(p, FLD_DNS_ANCOUNT, an);
    put_u(p, FLD_DNS_NSCOUNT, ns);
    put_u(p, FLD_DNS_ARCOUNT, ar);
    return true;
}

/*
 * A DNS message in [off, end). The header fills dns.id..dns.arcount; then
 * the first question (qname, qtype), the other questions are skipped, then
 * every answer record adds its type to dns.an.types and the first one gives
 * dns.an.type/ttl, the first A record dns.an.a. Unlike the fixed-size
 * headers below it, DNS is read field by field: every field read whole
 * before a problem stays present (a response cut by its IP fragment still
 * names its id and question). Authority and additional sections are not
 * read.
 *
 * dc->want (HTS_W_DNS_*) may ask for less: the walk then stops as soon as
 * every wanted field is decided (present or not), and skips the work of
 * the others (the question name's text, the type set). What it reads it
 * reads by the same steps, so a wanted field is present, with its value,
 * exactly when the full walk would have it; a field not wanted is absent
 * or as the full walk has it. may: the groups dc->want may hold (a
 * constant where the caller knows more: code without the others'
 * branches).
 */
static inline __attribute__((always_inline)) void
decode_dns_as(struct dec *dc, uint64_t off, uint64_t end, uint32_t may)
{
    const uint32_t w = dc->want & may;
    if (!(w & HTS_W_DNS))
        return;
    struct hts_pkt *p = dc->p;
    struct dnsmsg dm = {dc->d + off, (uint32_t)avail(dc, off, end)};
    if (!dns_header(dc, &dm))
        return;
    const bool answers = w & (HTS_W_DNS_AN1 | HTS_W_DNS_AN_A | HTS_W_DNS_AN_TYPES);
    if (!answers && !(w & (HTS_W_DNS_QNAME | HTS_W_DNS_QTYPE)))
        return;
    uint32_t qd = rd16(dm.m + 4), an = rd16(dm.m + 6);
    /* no answers: the first answer's fields and the first A record are
     * absent whatever the questions hold (the type set is not: it is
     * there, empty, unless a question is bad) */
    if (!an && !(w & (HTS_W_DNS_QNAME | HTS_W_DNS_QTYPE | HTS_W_DNS_AN_TYPES)))
        return;

    /* the type set's count is kept here (in a register, not through p,
     * whose bytes any store may alias) and stored into p at the end */
    const bool types = w & HTS_W_DNS_AN_TYPES;
    uint16_t *set = p->an_types;
    unsigned nset = 0;
    uint32_t pos = 12;
    int err;
    for (uint32_t i = 0; i < qd; i++) {
        uint32_t n = 0;
        bool text = i == 0 && (w & HTS_W_DNS_QNAME);
        err = i == 0 ? dns_name(&dm, &pos, text ? p->qname : NULL, &n)
                     : dns_skip_name(&dm, &pos);
        if (err)
            goto bad;
        if (text)
            put_s(p, FLD_DNS_QNAME, (const uint8_t *)p->qname, n);
        if (pos + 4 > dm.n) {
            err = DEC_TRUNC_DNS;
            goto bad;
        }
        if (i == 0)
            put_u(p, FLD_DNS_QTYPE, rd16(dm.m + pos));
        pos += 4; /* type, class */
        if (!answers)
            return;
    }
    if (!answers)
        return;

    bool complete = true, have_a = false;
    for (uint32_t i = 0; i < an; i++) {
        err = dns_skip_name(&dm, &pos);
        if (err)
            goto bad;
        if (pos + 10 > dm.n) {
            err = DEC_TRUNC_DNS;
            goto bad;
        }
        uint16_t type = rd16(dm.m + pos);
        uint32_t ttl = rd32(dm.m + pos + 4);
        uint16_t rdlen = rd16(dm.m + pos + 8);
        pos += 10;
        if (i == 0) {
            put_u(p, FLD_DNS_AN_TYPE, type);
            put_u(p, FLD_DNS_AN_TTL, ttl);
            if (!(w & (HTS_W_DNS_AN_A | HTS_W_DNS_AN_TYPES)))
                return;
        }
        if (pos + rdlen > dm.n) {
            err = DEC_TRUNC_DNS;
            goto bad;
        }
        if (type == 1 && rdlen == 4 && !have_a) {
            put_u(p, FLD_DNS_AN_A, rd32(dm.m + pos));
            have_a = true;
            if (!types)
                return;
        }
        if (types && !an_types_add(set, &nset, type))
            complete = false;
        pos += rdlen;
    }
    if (types) {
        p->n_an_types = (uint8_t)nset;
        if (complete)
            hts_pkt_set(p, FLD_DNS_AN_TYPES);
    }
    return;
bad:
    if (types)
        p->n_an_types = (uint8_t)nset;
    fail(dc, (enum hts_decode_err)err);
}

static void decode_dns(struct dec *dc, uint64_t off, uint64_t end)
{
    decode_dns_as(dc, off, end, HTS_W_DNS);
}

/* ---- L4 ----------------------------------------------------------------- */

/* TCP at off; end is where the IP lengths say the segment ends. */
static void decode_tcp(struct dec *dc, uint64_t off, uint64_t end)
{
    struct hts_pkt *p = dc->p;
    uint64_t have = avail(dc, off, end), declared = end - off;
    if (have < 20) {
        fail(dc, declared < 20 ? DEC_BAD_TCP : DEC_TRUNC_TCP);
        return;
    }
    const uint8_t *t = dc->d + off;
    uint32_t hl = (uint32_t)(t[12] >> 4) * 4;
    if (hl < 20 || hl > declared) {
        fail(dc, DEC_BAD_TCP);
        return;
    }
    if (hl > have) {
        fail(dc, DEC_TRUNC_TCP);
        return;
    }
    uint16_t sport = rd16(t), dport = rd16(t + 2);
    if (dc->inner) {
        put_u(p, FLD_INNER_TCP_SPORT, sport);
        put_u(p, FLD_INNER_TCP_DPORT, dport);
        put_u(p, FLD_INNER_TCP_FLAGS, t[13]);
    } else {
        put_u(p, FLD_TCP_SPORT, sport);
        put_u(p, FLD_TCP_DPORT, dport);
        put_u(p, FLD_TCP_SEQ, rd32(t + 4));
        put_u(p, FLD_TCP_ACK, rd32(t + 8));
        put_u(p, FLD_TCP_HDR_LEN, hl);
        put_u(p, FLD_TCP_FLAGS, t[13]);
        put_u(p, FLD_TCP_WINDOW, rd16(t + 14));
        put_u(p, FLD_TCP_PAYLOAD_LEN, declared - hl);
    }
    if (dc->want & HTS_W_TUNNEL) { /* a tunnel's inner payload replaces it */
        put_s(p, FLD_PAYLOAD, t + hl, have - hl);
        put_u(p, FLD_PAYLOAD_LEN, have - hl);
    }

    if (!dc->inner && (sport == HTS_PORT_DNS || dport == HTS_PORT_DNS) &&
        declared > hl && (dc->want & HTS_W_DNS)) {
        /* DNS over TCP: a 2-byte length, then the message */
        uint64_t m = off + hl;
        if (avail(dc, m, end) < 2) {
            fail(dc, DEC_TRUNC_DNS);
            return;
        }
        decode_dns(dc, m + 2, min64(end, m + 2 + rd16(dc->d + m)));
    }
}

/* VXLAN at off (after UDP): 8-byte header, then an Ethernet frame. */
static void decode_vxlan(struct dec *dc, uint64_t off, uint64_t end)
{
    if (avail(dc, off, end) < 8) {
        fail(dc, DEC_TRUNC_TUNNEL);
        return;
    }
    put_u(dc->p, FLD_VXLAN_VNI, rd32(dc->d + off + 4) >> 8);
    dc->inner = true;
    decode_eth_inner(dc, off + 8, end);
}

/* Where a UDP datagram at off ends, its IP layer ending at end: the UDP
 * length may end it earlier; a length below the header's own 8 bytes is
 * ignored as meaningless. */
static inline uint64_t udp_end(uint64_t off, uint16_t len, uint64_t end)
{
    return len >= 8 && off + len < end ? off + len : end;
}

static void decode_udp(struct dec *dc, uint64_t off, uint64_t end)
{
    struct hts_pkt *p = dc->p;
    if (avail(dc, off, end) < 8) {
        fail(dc, DEC_TRUNC_UDP);
        return;
    }
    const uint8_t *u = dc->d + off;
    uint16_t sport = rd16(u), dport = rd16(u + 2), len = rd16(u + 4);
    if (dc->inner) {
        put_u(p, FLD_INNER_UDP_SPORT, sport);
        put_u(p, FLD_INNER_UDP_DPORT, dport);
    } else {
        put_u(p, FLD_UDP_SPORT, sport);
        put_u(p, FLD_UDP_DPORT, dport);
        put_u(p, FLD_UDP_LEN, len);
    }
    end = udp_end(off, len, end);
    uint64_t n = avail(dc, off + 8, end);
    if (dc->want & HTS_W_TUNNEL) {
        put_s(p, FLD_PAYLOAD, u + 8, n);
        put_u(p, FLD_PAYLOAD_LEN, n);
    }

    if (dc->inner)
        return;
    if (dport == HTS_PORT_VXLAN) {
        if (dc->want & HTS_W_TUNNEL)
            decode_vxlan(dc, off + 8, end);
    } else if (hts_udp_is_dns(sport, dport)) {
        decode_dns(dc, off + 8, end);
    }
}

static void decode_icmp(struct dec *dc, uint64_t off, uint64_t end, bool v6)
{
    if (avail(dc, off, end) < 4) {
        fail(dc, DEC_TRUNC_ICMP);
        return;
    }
    const uint8_t *c = dc->d + off;
    put_u(dc->p, v6 ? FLD_ICMPV6_TYPE : FLD_ICMP_TYPE, c[0]);
    put_u(dc->p, v6 ? FLD_ICMPV6_CODE : FLD_ICMP_CODE, c[1]);
}

/*
 * GRE at off (RFC 2784/2890; version 1 is PPTP's enhanced GRE). The optional
 * checksum, key and sequence words follow the 4-byte base header in that
 * order; the routing bit (RFC 1701) is not supported and stops decoding.
 */
static void decode_gre(struct dec *dc, uint64_t off, uint64_t end)
{
    uint64_t have = avail(dc, off, end);
    if (have < 4) {
        fail(dc, DEC_TRUNC_TUNNEL);
        return;
    }
    const uint8_t *g = dc->d + off;
    uint16_t fl = rd16(g), proto = rd16(g + 2);
    put_u(dc->p, FLD_GRE_PROTO, proto);
    unsigned ver = fl & 7;
    if (ver > 1 || (fl & 0x4000))
        return;
    uint64_t hl = 4 + 4 * (!!(fl & 0x8000) + !!(fl & 0x2000) + !!(fl & 0x1000));
    if (ver == 1 && (fl & 0x0080)) /* enhanced GRE acknowledgment number */
        hl += 4;
    if (have < hl) {
        fail(dc, DEC_TRUNC_TUNNEL);
        return;
    }
    off += hl;
    dc->inner = true;
    switch (proto) {
    case ET_IPV4:
        decode_ipv4(dc, off, end);
        break;
    case ET_IPV6:
        decode_ipv6(dc, off, end);
        break;
    case ET_TEB:
        decode_eth_inner(dc, off, end);
        break;
    default:
        break;
    }
}

/* The header after IP (or after IPv6 extension headers) in [off, end). */
static void decode_l4(struct dec *dc, uint8_t proto, uint64_t off,
                      uint64_t end, bool from_ipv4)
{
    switch (proto) {
    case IPP_TCP:
        decode_tcp(dc, off, end);
        break;
    case IPP_UDP:
        decode_udp(dc, off, end);
        break;
    case IPP_ICMP:
        if (!dc->inner)
            decode_icmp(dc, off, end, false);
        break;
    case IPP_ICMPV6:
        if (!dc->inner)
            decode_icmp(dc, off, end, true);
        break;
    case IPP_GRE:
        if (!dc->inner && (dc->want & HTS_W_TUNNEL))
            decode_gre(dc, off, end);
        break;
    case IPP_IPV6:
        /* 6in4: only directly in the outer IPv4 header (fields.def) */
        if (!dc->inner && from_ipv4)
            decode_ipv6(dc, off, end);
        break;
    default:
        break;
    }
}

/* ---- IP ----------------------------------------------------------------- */

/* IPv4 at off; lim is the end an enclosing header declares (for the
 * frame's own IP header: the frame's wire length). The packet ends at the
 * smaller of its total length and lim, which is what tcp.payload_len and
 * the payload use: a total length longer than the frame is a lie. */
static void decode_ipv4(struct dec *dc, uint64_t off, uint64_t lim)
{
    struct hts_pkt *p = dc->p;
    uint64_t have = avail(dc, off, lim);
    if (have < 1) {
        fail(dc, DEC_TRUNC_IPV4);
        return;
    }
    const uint8_t *ip = dc->d + off;
    if (ip[0] >> 4 != 4) {
        fail(dc, DEC_BAD_IPV4);
        return;
    }
    if (have < 20) {
        fail(dc, DEC_TRUNC_IPV4);
        return;
    }
    uint32_t hl = (uint32_t)(ip[0] & 15) * 4;
    uint16_t tot = rd16(ip + 2);
    if (hl < 20 || tot < hl) {
        fail(dc, DEC_BAD_IPV4);
        return;
    }
    if (have < hl) {
        fail(dc, DEC_TRUNC_IPV4);
        return;
    }
    uint16_t fr = rd16(ip + 6);
    uint8_t proto = ip[9];
    uint32_t src = rd32(ip + 12), dst = rd32(ip + 16);
    if (dc->inner) {
        put_u(p, FLD_INNER_IPV4_SRC, src);
        put_u(p, FLD_INNER_IPV4_DST, dst);
        put_u(p, FLD_INNER_IPV4_PROTO, proto);
        put_u(p, FLD_INNER_IPV4_LEN, tot);
    } else {
        put_u(p, FLD_IPV4_IHL, ip[0] & 15);
        put_u(p, FLD_IPV4_TOS, ip[1]);
        put_u(p, FLD_IPV4_LEN, tot);
        put_u(p, FLD_IPV4_ID, rd16(ip + 4));
        put_u(p, FLD_IPV4_FLAGS, fr >> 13);
        put_u(p, FLD_IPV4_FRAG_OFF, fr & 0x1fff);
        put_u(p, FLD_IPV4_TTL, ip[8]);
        put_u(p, FLD_IPV4_PROTO, proto);
        put_u(p, FLD_IPV4_SRC, src);
        put_u(p, FLD_IPV4_DST, dst);
        put_u(p, FLD_IP_PROTO, proto);
    }
    if (fr & 0x1fff) {
        fail(dc, DEC_FRAGMENT);
        return;
    }
    decode_l4(dc, proto, off + hl, min64(off + tot, lim), true);
}

/*
 * IPv6 at off, then its extension headers up to the upper-layer header. Only
 * hop-by-hop, routing, fragment, destination options and AH are walked; ESP
 * (50), no-next-header (59) and anything else end the chain and become
 * ip.proto. A fragment header with a non-zero offset ends decoding (no L4).
 */
static void decode_ipv6(struct dec *dc, uint64_t off, uint64_t lim)
{
    struct hts_pkt *p = dc->p;
    uint64_t have = avail(dc, off, lim);
    if (have < 1) {
        fail(dc, DEC_TRUNC_IPV6);
        return;
    }
    const uint8_t *ip = dc->d + off;
    if (ip[0] >> 4 != 6) {
        fail(dc, DEC_BAD_IPV6);
        return;
    }
    if (have < 40) {
        fail(dc, DEC_TRUNC_IPV6);
        return;
    }
    uint32_t w = rd32(ip);
    uint16_t plen = rd16(ip + 4);
    uint8_t nh = ip[6];
    if (!dc->inner) {
        put_u(p, FLD_IPV6_TC, (w >> 20) & 0xff);
        put_u(p, FLD_IPV6_FLOW, w & 0xfffff);
        put_u(p, FLD_IPV6_PLEN, plen);
        put_u(p, FLD_IPV6_NEXT, nh);
        put_u(p, FLD_IPV6_HLIM, ip[7]);
        put_b(p, FLD_IPV6_SRC, ip + 8, 16);
        put_b(p, FLD_IPV6_DST, ip + 24, 16);
    }
    /* payload length 0 with a hop-by-hop header is a jumbogram (RFC 2675):
     * its length is in an option; take what the enclosing layer allows */
    uint64_t end = (plen == 0 && nh == IPP_HOPOPT) ? lim
                                                   : min64(off + 40 + plen, lim);
    uint64_t pos = off + 40;
    bool frag = false;
    for (;;) {
        uint64_t room = avail(dc, pos, end), hl;
        const uint8_t *x = dc->d + pos;
        switch (nh) {
        case IPP_HOPOPT:
        case IPP_ROUTING:
        case IPP_DSTOPTS:
            if (room < 2 || room < (hl = ((uint64_t)x[1] + 1) * 8))
                goto bad_ext;
            break;
        case IPP_AH:
            if (room < 2 || room < (hl = ((uint64_t)x[1] + 2) * 4))
                goto bad_ext;
            break;
        case IPP_FRAGMENT:
            if (room < (hl = 8))
                goto bad_ext;
            frag = true;
            if (rd16(x + 2) >> 3) {
                if (!dc->inner) {
                    put_u(p, FLD_IPV6_FRAG, 1);
                    put_u(p, FLD_IP_PROTO, x[0]);
                }
                fail(dc, DEC_FRAGMENT);
                return;
            }
            break;
        default:
            goto upper;
        }
        nh = x[0];
        pos += hl;
    }
upper:
    if (!dc->inner) {
        put_u(p, FLD_IPV6_FRAG, frag);
        put_u(p, FLD_IP_PROTO, nh);
    }
    decode_l4(dc, nh, pos, end, false);
    return;
bad_ext:
    if (frag && !dc->inner)
        put_u(p, FLD_IPV6_FRAG, 1);
    fail(dc, DEC_BAD_IPV6_EXT);
}

/* ---- link layer --------------------------------------------------------- */

/* An MPLS label stack at off; after the bottom label the payload carries no
 * type, so IPv4 or IPv6 is guessed from its first nibble (pseudowires and
 * anything else stop here). */
static void decode_mpls(struct dec *dc, uint64_t off)
{
    unsigned depth = 0;
    for (;;) {
        if (avail(dc, off, UINT64_MAX) < 4) {
            fail(dc, DEC_TRUNC_MPLS);
            return;
        }
        uint32_t e = rd32(dc->d + off);
        if (depth == 0)
            put_u(dc->p, FLD_MPLS_LABEL, e >> 12);
        depth++;
        off += 4;
        if (e & 0x100)
            break;
    }
    put_u(dc->p, FLD_MPLS_DEPTH, depth > 255 ? 255 : depth);
    if (avail(dc, off, UINT64_MAX) < 1)
        return;
    switch (dc->d[off] >> 4) {
    case 4:
        decode_ipv4(dc, off, dc->wire);
        break;
    case 6:
        decode_ipv6(dc, off, dc->wire);
        break;
    default:
        break;
    }
}

static inline bool is_vlan_tpid(uint16_t t)
{
    return t == ET_VLAN || t == ET_QINQ || t == ET_QINQ_OLD;
}

/*
 * What follows an EtherType at off: a VLAN tag stack (802.1Q, 802.1ad and
 * the pre-standard 0x9100, any depth: vlan.id is the outermost tag,
 * vlan.inner_id the second), then MPLS, IPv4 or IPv6. set_type: the link
 * header's type field is an EtherType worth reporting as eth.type.
 */
static void decode_ethertype(struct dec *dc, uint16_t type, uint64_t off,
                             bool set_type)
{
    struct hts_pkt *p = dc->p;
    unsigned depth = 0;
    while (is_vlan_tpid(type)) {
        if (avail(dc, off, UINT64_MAX) < 4) {
            fail(dc, DEC_TRUNC_VLAN);
            return;
        }
        uint16_t tci = rd16(dc->d + off);
        if (depth == 0) {
            put_u(p, FLD_VLAN_ID, tci & 0xfff);
            put_u(p, FLD_VLAN_PCP, tci >> 13);
        } else if (depth == 1) {
            put_u(p, FLD_VLAN_INNER_ID, tci & 0xfff);
        }
        depth++;
        type = rd16(dc->d + off + 2);
        off += 4;
    }
    if (depth)
        put_u(p, FLD_VLAN_DEPTH, depth > 255 ? 255 : depth);
    if (set_type)
        put_u(p, FLD_ETH_TYPE, type);
    switch (type) {
    case ET_IPV4:
        decode_ipv4(dc, off, dc->wire);
        break;
    case ET_IPV6:
        decode_ipv6(dc, off, dc->wire);
        break;
    case ET_MPLS_UC:
    case ET_MPLS_MC:
        decode_mpls(dc, off);
        break;
    default:
        break;
    }
}

static void decode_eth(struct dec *dc)
{
    if (dc->cap < 14) {
        fail(dc, DEC_TRUNC_L2);
        return;
    }
    put_b(dc->p, FLD_ETH_DST, dc->d, 6);
    put_b(dc->p, FLD_ETH_SRC, dc->d + 6, 6);
    uint16_t type = rd16(dc->d + 12);
    if (type < 0x0600) /* 802.3: a length, then LLC; nothing we decode */
        return;
    decode_ethertype(dc, type, 14, true);
}

/* The Ethernet frame inside VXLAN or GRE (TEB), ending at end: its VLAN tags
 * are skipped (the catalogue has no inner VLAN fields), then IPv4 or IPv6. */
static void decode_eth_inner(struct dec *dc, uint64_t off, uint64_t end)
{
    if (avail(dc, off, end) < 14) {
        fail(dc, DEC_TRUNC_TUNNEL);
        return;
    }
    const uint8_t *e = dc->d + off;
    put_b(dc->p, FLD_INNER_ETH_DST, e, 6);
    put_b(dc->p, FLD_INNER_ETH_SRC, e + 6, 6);
    uint16_t type = rd16(e + 12);
    off += 14;
    while (is_vlan_tpid(type)) {
        if (avail(dc, off, end) < 4) {
            fail(dc, DEC_TRUNC_TUNNEL);
            return;
        }
        type = rd16(dc->d + off + 2);
        off += 4;
    }
    if (type == ET_IPV4)
        decode_ipv4(dc, off, end);
    else if (type == ET_IPV6)
        decode_ipv6(dc, off, end);
}

/* Linux cooked capture v1: 16 bytes, protocol (an EtherType) last. */
static void decode_sll(struct dec *dc)
{
    if (dc->cap < 16) {
        fail(dc, DEC_TRUNC_L2);
        return;
    }
    decode_ethertype(dc, rd16(dc->d + 14), 16, true);
}

/* Linux cooked capture v2: 20 bytes, protocol first. */
static void decode_sll2(struct dec *dc)
{
    if (dc->cap < 20) {
        fail(dc, DEC_TRUNC_L2);
        return;
    }
    decode_ethertype(dc, rd16(dc->d), 20, true);
}

/* Raw IP: the version nibble says which. */
static void decode_raw(struct dec *dc)
{
    if (dc->cap < 1) {
        fail(dc, DEC_TRUNC_L2);
        return;
    }
    if (dc->d[0] >> 4 == 6)
        decode_ipv6(dc, 0, dc->wire);
    else
        decode_ipv4(dc, 0, dc->wire); /* counts BAD_IPV4 if not 4 either */
}

/* hts_decode and hts_decode_want (inlined into both: hts_decode is the
 * interpreter's per-packet call, and nine arguments would go through the
 * stack) */
static inline __attribute__((always_inline)) int
decode_frame(struct hts_pkt *p, const uint8_t *data, uint32_t cap_len,
             uint32_t wire_len, uint64_t ts_ns, uint16_t port, int linktype,
             struct hts_decode_stats *st, uint32_t want)
{
    /* only the bitmap says what is valid: values of absent fields are left
     * as they were, so there is no need to clear the (large) value array */
    memset(p->present, 0, sizeof p->present);
    p->n_an_types = 0;
    p->data = data;
    p->cap_len = cap_len;
    put_u(p, FLD_META_TS, ts_ns);
    put_u(p, FLD_META_WIRE_LEN, wire_len);
    put_u(p, FLD_META_CAP_LEN, cap_len);
    put_u(p, FLD_META_PORT, port);
    if (st)
        st->packets++;

    struct dec dc = {
        .p = p, .d = data, .cap = data ? cap_len : 0, .st = st, .want = want};
    /* a wire length below the captured one is nonsense; trust the bytes */
    dc.wire = wire_len > dc.cap ? wire_len : dc.cap;
    switch (linktype) {
    case HTS_DLT_EN10MB:
        decode_eth(&dc);
        break;
    case HTS_DLT_RAW:
    case 12: /* DLT_RAW as most platforms' libpcap reports LINKTYPE_RAW */
    case 14: /* DLT_RAW on OpenBSD */
        decode_raw(&dc);
        break;
    case 228: /* LINKTYPE_IPV4 */
        decode_ipv4(&dc, 0, dc.wire);
        break;
    case 229: /* LINKTYPE_IPV6 */
        decode_ipv6(&dc, 0, dc.wire);
        break;
    case HTS_DLT_LINUX_SLL:
        decode_sll(&dc);
        break;
    case HTS_DLT_LINUX_SLL2:
        decode_sll2(&dc);
        break;
    default:
        fail(&dc, DEC_LINKTYPE);
        return -EPROTONOSUPPORT;
    }
    return 0;
}

int hts_decode(struct hts_pkt *p, const uint8_t *data, uint32_t cap_len,
               uint32_t wire_len, uint64_t ts_ns, uint16_t port, int linktype,
               struct hts_decode_stats *st)
{
    return decode_frame(p, data, cap_len, wire_len, ts_ns, port, linktype, st,
                        HTS_W_ALL);
}

int hts_decode_want(struct hts_pkt *p, const uint8_t *data, uint32_t cap_len,
                    uint32_t wire_len, uint64_t ts_ns, uint16_t port,
                    int linktype, struct hts_decode_stats *st, uint32_t want)
{
    return decode_frame(p, data, cap_len, wire_len, ts_ns, port, linktype, st,
                        want);
}

void hts_decode_l4(struct hts_pkt *p, const uint8_t *data, uint32_t cap_len,
                   uint32_t wire_len, int proto, uint64_t off, uint64_t end,
                   uint32_t want)
{
    memset(p->present, 0, sizeof p->present);
    p->n_an_types = 0;
    p->data = data;
    p->cap_len = cap_len;
    struct dec dc = {.p = p, .d = data, .cap = data ? cap_len : 0, .want = want};
    dc.wire = wire_len > dc.cap ? wire_len : dc.cap;
    /* from the frame's own IP layer: 6in4 was already unwrapped */
    if (proto >= 0 && proto <= 255)
        decode_l4(&dc, (uint8_t)proto, off, end, false);
}

void hts_decode_udp_dns(struct hts_pkt *p, const uint8_t *data, uint64_t cap_len,
                        uint64_t off, uint64_t end, uint32_t want)
{
    memset(p->present, 0, sizeof p->present);
    p->n_an_types = 0;
    p->data = data;
    p->cap_len = (uint32_t)cap_len;
    /* decode_udp's steps for a datagram outside a tunnel, DNS only */
    struct dec dc = {.p = p, .d = data, .cap = data ? cap_len : 0,
                     .want = want & HTS_W_DNS};
    if (avail(&dc, off, end) < 8)
        return;
    const uint8_t *u = data + off;
    if (!hts_udp_is_dns(rd16(u), rd16(u + 2)))
        return;
    end = udp_end(off, rd16(u + 4), end);
    /* the question name's text, the type set, or neither: copies of the
     * walk without the branches of what is not read */
    if (want & HTS_W_DNS_QNAME)
        decode_dns_as(&dc, off + 8, end, HTS_W_DNS);
    else if (want & HTS_W_DNS_AN_TYPES)
        decode_dns_as(&dc, off + 8, end, HTS_W_DNS & ~HTS_W_DNS_QNAME);
    else
        decode_dns_as(&dc, off + 8, end, HTS_W_DNS & ~(HTS_W_DNS_QNAME | HTS_W_DNS_AN_TYPES));
}

uint32_t hts_want_of(enum hts_field f)
{
    switch (f) {
    case FLD_DNS_ID: case FLD_DNS_QR: case FLD_DNS_OPCODE: case FLD_DNS_RCODE:
    case FLD_DNS_QDCOUNT: case FLD_DNS_ANCOUNT: case FLD_DNS_NSCOUNT:
    case FLD_DNS_ARCOUNT:
        return HTS_W_DNS_HDR;
    case FLD_DNS_QNAME:
        return HTS_W_DNS_QNAME;
    case FLD_DNS_QTYPE:
        return HTS_W_DNS_QTYPE;
    case FLD_DNS_AN_TYPE: case FLD_DNS_AN_TTL:
        return HTS_W_DNS_AN1;
    case FLD_DNS_AN_A:
        return HTS_W_DNS_AN_A;
    case FLD_DNS_AN_TYPES:
        return HTS_W_DNS_AN_TYPES;
    case FLD_VXLAN_VNI: case FLD_GRE_PROTO:
    case FLD_INNER_ETH_SRC: case FLD_INNER_ETH_DST:
    case FLD_INNER_IPV4_SRC: case FLD_INNER_IPV4_DST:
    case FLD_INNER_IPV4_PROTO: case FLD_INNER_IPV4_LEN:
    case FLD_INNER_TCP_SPORT: case FLD_INNER_TCP_DPORT:
    case FLD_INNER_TCP_FLAGS: case FLD_INNER_UDP_SPORT:
    case FLD_INNER_UDP_DPORT:
    case FLD_PAYLOAD: case FLD_PAYLOAD_LEN: /* the innermost TCP's or UDP's */
        return HTS_W_TUNNEL;
    default: /* headers above L4, TCP, UDP, ICMP: always decoded */
        return 0;
    }
}

/*
 * TYPESET values (dns.an.types) have no member of their own in hts_value:
 * u.s.p points at the packet's an_types array (uint16_t codes, host order)
 * and u.s.n is the number of codes, not bytes. It lives as long as *p.
 */
hts_value hts_pkt_value(const struct hts_pkt *p, enum hts_field f)
{
    if ((unsigned)f >= FLD__COUNT)
        return hts_absent(TY_ERROR);
    enum hts_type t = hts_fields[f].type;
    if (!hts_pkt_has(p, f))
        return hts_absent(t);
    hts_value v = {.type = (uint8_t)t, .present = 1};
    switch (t) {
    case TY_INT:
        v.u.i = (int64_t)p->f[f].u;
        break;
    case TY_IPV4:
        v.u.ip4 = (uint32_t)p->f[f].u;
        break;
    case TY_IPV6:
        memcpy(v.u.ip6, p->f[f].b, 16);
        break;
    case TY_MAC:
        memcpy(v.u.mac, p->f[f].b, 6);
        break;
    case TY_STR:
        v.u.s = p->f[f].s;
        break;
    case TY_TYPESET:
        v.u.s.p = (const uint8_t *)p->an_types;
        v.u.s.n = p->n_an_types;
        break;
    default:
        return hts_absent(t);
    }
    return v;
}
