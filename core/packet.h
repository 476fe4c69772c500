/*
 * packet.h - one decoded packet: the values of every catalogue field it has.
 *
 * The decoder (decode.c) is shared by the reference executor, the data plane
 * model and the runtime. It reads a frame once, checks every length before it
 * reads, and fills the fields it finds; a header that is truncated or malformed
 * leaves its fields (and everything after it) absent and counts the reason in
 * struct hts_decode_stats. It never reads outside [data, data + cap_len).
 *
 * Storage is a flat array indexed by field id plus a presence bitmap, so that
 * "is tcp.dport here and what is it" is two loads. Byte strings (payload,
 * dns.qname) point into the frame or into the packet's own name buffer: they
 * live as long as the frame and the struct.
 */
#ifndef HTS_PACKET_H
#define HTS_PACKET_H

#include "fields.h"

#include <stdbool.h>
#include <stdint.h>

#define HTS_PRESENT_WORDS ((FLD__COUNT + 63) / 64)
#define HTS_MAX_AN_TYPES 32
#define HTS_QNAME_MAX 256 /* dotted name, NUL-terminated, at most 253 chars */

/* Link types (pcap DLT numbers) the decoder understands. */
#define HTS_DLT_EN10MB 1
#define HTS_DLT_RAW 101       /* raw IPv4/IPv6 */
#define HTS_DLT_LINUX_SLL 113 /* Linux cooked capture v1 */
#define HTS_DLT_LINUX_SLL2 276

union hts_fv {
    uint64_t u;       /* UINT fields, IPV4 (host order in the low 32 bits) */
    uint8_t b[16];    /* IPV6 (network order), MAC (first 6 bytes) */
    hts_str s;        /* STR */
};

struct hts_pkt {
    uint64_t present[HTS_PRESENT_WORDS];
    union hts_fv f[FLD__COUNT];
    uint16_t an_types[HTS_MAX_AN_TYPES]; /* dns.an.types */
    uint8_t n_an_types;
    char qname[HTS_QNAME_MAX];
    const uint8_t *data;
    uint32_t cap_len;
};

/* DECODE ERROR ORDER: hts_decode_err_names[] follows this list. */
#define HTS_DECODE_ERRORS(X)                                                   \
    X(LINKTYPE, "unsupported link type")                                       \
    X(TRUNC_L2, "truncated link-layer header")                                 \
    X(TRUNC_VLAN, "truncated VLAN tag")                                        \
    X(TRUNC_MPLS, "truncated MPLS label stack")                                \
    X(TRUNC_IPV4, "truncated IPv4 header")                                     \
    X(BAD_IPV4, "malformed IPv4 header (version, IHL or total length)")        \
    X(TRUNC_IPV6, "truncated IPv6 header")                                     \
    X(BAD_IPV6, "malformed IPv6 header (version)")                             \
    X(BAD_IPV6_EXT, "malformed or truncated IPv6 extension header")            \
    X(TRUNC_TCP, "truncated TCP header")                                       \
    X(BAD_TCP, "malformed TCP header (data offset)")                           \
    X(TRUNC_UDP, "truncated UDP header")                                       \
    X(TRUNC_ICMP, "truncated ICMP/ICMPv6 header")                              \
    X(TRUNC_DNS, "truncated DNS message")                                      \
    X(BAD_DNS, "malformed DNS message (name, pointer loop, record)")           \
    X(TRUNC_TUNNEL, "truncated VXLAN/GRE header or inner packet")              \
    X(FRAGMENT, "non-first IP fragment (no L4 fields)")

enum hts_decode_err {
#define X(id, text) DEC_##id,
    HTS_DECODE_ERRORS(X)
#undef X
        DEC__COUNT
};

extern const char *const hts_decode_err_names[DEC__COUNT]; /* "trunc_ipv4"... */
extern const char *const hts_decode_err_text[DEC__COUNT];

struct hts_decode_stats {
    uint64_t packets;
    uint64_t errors[DEC__COUNT];
};

static inline bool hts_pkt_has(const struct hts_pkt *p, enum hts_field f)
{
    return (p->present[f >> 6] >> (f & 63)) & 1;
}

static inline void hts_pkt_set(struct hts_pkt *p, enum hts_field f)
{
    p->present[f >> 6] |= (uint64_t)1 << (f & 63);
}

/*
 * Decodes one frame into *p (which it resets first). ts_ns is the capture time
 * in ns since the epoch, port the ingress port. Returns 0, or a negative
 * errno-style value only for an unsupported link type; a malformed packet is
 * not a failure: its later fields are absent and st->errors[] says why (st may
 * be NULL). The frame must outlive *p's string fields.
 */
int hts_decode(struct hts_pkt *p, const uint8_t *data, uint32_t cap_len,
               uint32_t wire_len, uint64_t ts_ns, uint16_t port, int linktype,
               struct hts_decode_stats *st);

/*
 * The fields below L4 a caller reads, in groups (`want`, HTS_W_*): a
 * decoder given less than HTS_W_ALL skips the others' work and stops as
 * soon as its groups are decided. The header's fields are one group (12
 * bytes, read whatever else is wanted), dns.an.type and dns.an.ttl another
 * (both the first answer's); dns.an.types needs the whole answer section,
 * dns.an.a the answers up to the first A record. Tunnels are one group
 * with the payload, which is the innermost TCP's or UDP's. Headers above
 * L4, TCP, UDP and ICMP are always decoded.
 */
enum {
    HTS_W_DNS_HDR = 1 << 0,      /* dns.id .. dns.arcount */
    HTS_W_DNS_QNAME = 1 << 1,    /* the first question's name */
    HTS_W_DNS_QTYPE = 1 << 2,    /* the first question's type */
    HTS_W_DNS_AN1 = 1 << 3,      /* dns.an.type, dns.an.ttl */
    HTS_W_DNS_AN_A = 1 << 4,     /* dns.an.a */
    HTS_W_DNS_AN_TYPES = 1 << 5, /* dns.an.types */
    HTS_W_TUNNEL = 1 << 6,       /* vxlan.*, gre.*, inner.*, payload */
    HTS_W_DNS = (1 << 6) - 1,
    HTS_W_ALL = (1 << 7) - 1,
};

/* The group field f belongs to (0: decoded whatever is wanted). */
uint32_t hts_want_of(enum hts_field f);

/*
 * hts_decode for a caller that reads only the groups in want: every field
 * of those groups is present, with its value, exactly when hts_decode
 * would have it; any other field is absent or as hts_decode has it. Errors
 * are counted only up to where decoding stopped. hts_decode is want
 * HTS_W_ALL.
 */
int hts_decode_want(struct hts_pkt *p, const uint8_t *data, uint32_t cap_len,
                    uint32_t wire_len, uint64_t ts_ns, uint16_t port,
                    int linktype, struct hts_decode_stats *st, uint32_t want);

/*
 * What hts_decode would add below the IP layer (TCP, UDP and their payload,
 * DNS, VXLAN, GRE, tunnels' inner.*), for a frame whose link and IP layers
 * another decoder read (the JIT's compiled one): IP protocol proto starting
 * at off, the IP layer ending at end (as decode.c's decode_l4 gets them),
 * for the groups in want (as hts_decode_want). Resets *p first; proto < 0
 * (no L4 reached) leaves every field absent. No statistics are counted.
 */
void hts_decode_l4(struct hts_pkt *p, const uint8_t *data, uint32_t cap_len,
                   uint32_t wire_len, int proto, uint64_t off, uint64_t end,
                   uint32_t want);

/*
 * Which UDP datagrams carry DNS (decode.c's rule, outside tunnels): port 53
 * either way, except to the VXLAN port (a tunnel, whatever its source
 * port). The JIT's generated code tests the same (runtime/jit_gen.c).
 */
#define HTS_PORT_DNS 53
#define HTS_PORT_VXLAN 4789
static inline bool hts_udp_is_dns(uint16_t sport, uint16_t dport)
{
    return dport != HTS_PORT_VXLAN && (sport == HTS_PORT_DNS || dport == HTS_PORT_DNS);
}

/*
 * hts_decode_l4 for IP protocol 17 (UDP at off, the IP layer ending at
 * end) when want asks only for DNS groups: the same fields of those
 * groups (DNS only when hts_udp_is_dns of the datagram's ports; UDP's own
 * fields are not set). For callers that decoded the UDP header
 * themselves and found it DNS's: no re-dispatch from L4. cap_len as
 * hts_decode_l4's.
 */
void hts_decode_udp_dns(struct hts_pkt *p, const uint8_t *data, uint64_t cap_len,
                        uint64_t off, uint64_t end, uint32_t want);

/* The value of field f in packet p as a typed value (absent if missing). */
hts_value hts_pkt_value(const struct hts_pkt *p, enum hts_field f);

#endif
