/*
 * test_decode.c - the packet decoder on frames built by hand.
 *
 * Each test assembles a frame byte by byte (a tiny builder below fixes up
 * the IP and UDP lengths), decodes it and checks exact field values and
 * exactly which fields are present, and which error was counted. The
 * truncation tests decode every prefix of a full frame and check, for each
 * field, that it is present exactly when its header is whole: that is the
 * decoder's central safety promise (run under ASan by `make check-asan`).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "packet.h"

/* ---- frame builder ------------------------------------------------------ */

struct fb {
    uint8_t b[1600];
    size_t n;
};

static void u8(struct fb *f, unsigned v)
{
    assert_true(f->n < sizeof f->b);
    f->b[f->n++] = (uint8_t)v;
}

static void u16(struct fb *f, unsigned v)
{
    u8(f, v >> 8);
    u8(f, v & 0xff);
}

static void u32(struct fb *f, uint32_t v)
{
    u16(f, v >> 16);
    u16(f, v & 0xffff);
}

static void bytes(struct fb *f, const void *p, size_t n)
{
    assert_true(f->n + n <= sizeof f->b);
    memcpy(f->b + f->n, p, n);
    f->n += n;
}

static void set16(struct fb *f, size_t off, unsigned v)
{
    f->b[off] = (uint8_t)(v >> 8);
    f->b[off + 1] = (uint8_t)v;
}

static const uint8_t MAC_A[6] = {0x02, 0x00, 0x00, 0x00, 0x00, 0x0a};
static const uint8_t MAC_B[6] = {0x02, 0x00, 0x00, 0x00, 0x00, 0x0b};
static const uint8_t MAC_C[6] = {0x0c, 0x0d, 0x0e, 0x0f, 0x10, 0x11};
static const uint8_t MAC_D[6] = {0xaa, 0xbb, 0xcc, 0xdd, 0xee, 0xff};

#define IP4(a, b, c, d) ((uint32_t)(a) << 24 | (b) << 16 | (c) << 8 | (d))

static void eth(struct fb *f, const uint8_t *dst, const uint8_t *src,
                unsigned type)
{
    bytes(f, dst, 6);
    bytes(f, src, 6);
    u16(f, type);
}

/* An IPv4 header with optlen bytes of options (NOPs); returns its offset.
 * ip_done() writes the total length once the payload is in. */
static size_t ipv4(struct fb *f, unsigned proto, uint32_t src, uint32_t dst,
                   unsigned optlen, unsigned flags_frag)
{
    size_t off = f->n;
    u8(f, 0x40 | (5 + optlen / 4));
    u8(f, 0xb8); /* DSCP EF */
    u16(f, 0);   /* total length: ip_done */
    u16(f, 0x1234);
    u16(f, flags_frag);
    u8(f, 64);
    u8(f, proto);
    u16(f, 0); /* checksum: not checked */
    u32(f, src);
    u32(f, dst);
    for (unsigned i = 0; i < optlen; i++)
        u8(f, 1);
    return off;
}

static void ip_done(struct fb *f, size_t off)
{
    set16(f, off + 2, (unsigned)(f->n - off));
}

static const uint8_t V6_A[16] = {0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0,
                                 0,    0,    0,    0,    0, 0, 0, 1};
static const uint8_t V6_B[16] = {0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0,
                                 0,    0,    0,    0,    0, 0, 0, 2};

/* IPv6 fixed header; ip6_done() writes the payload length. */
static size_t ipv6(struct fb *f, unsigned next)
{
    size_t off = f->n;
    u32(f, 0x6a012345); /* tc 0xa0, flow 0x12345 */
    u16(f, 0);
    u8(f, next);
    u8(f, 33);
    bytes(f, V6_A, 16);
    bytes(f, V6_B, 16);
    return off;
}

static void ip6_done(struct fb *f, size_t off)
{
    set16(f, off + 4, (unsigned)(f->n - off - 40));
}

/* TCP header with optlen bytes of options (NOPs). */
static void tcp(struct fb *f, unsigned sport, unsigned dport, unsigned flags,
                unsigned optlen)
{
    u16(f, sport);
    u16(f, dport);
    u32(f, 0xdeadbeef);
    u32(f, 0x01020304);
    u8(f, (5 + optlen / 4) << 4);
    u8(f, flags);
    u16(f, 29200);
    u16(f, 0);
    u16(f, 0);
    for (unsigned i = 0; i < optlen; i++)
        u8(f, 1);
}

/* UDP header; udp_done() writes the length. */
static size_t udp(struct fb *f, unsigned sport, unsigned dport)
{
    size_t off = f->n;
    u16(f, sport);
    u16(f, dport);
    u16(f, 0);
    u16(f, 0);
    return off;
}

static void udp_done(struct fb *f, size_t off)
{
    set16(f, off + 4, (unsigned)(f->n - off));
}

/* a DNS name in wire form from "www.example.com" (no compression) */
static void dname(struct fb *f, const char *s)
{
    while (*s) {
        const char *dot = strchr(s, '.');
        size_t n = dot ? (size_t)(dot - s) : strlen(s);
        u8(f, (unsigned)n);
        bytes(f, s, n);
        s += n + (dot != NULL);
    }
    u8(f, 0);
}

/* ---- decode and check helpers ------------------------------------------- */

static struct hts_pkt pkt;
static struct hts_decode_stats st;

static int decode_lt(const struct fb *f, size_t caplen, int linktype)
{
    memset(&st, 0, sizeof st);
    return hts_decode(&pkt, f->b, (uint32_t)caplen, (uint32_t)f->n,
                      1234567890123456789ULL, 7, linktype, &st);
}

static void decode(const struct fb *f)
{
    assert_int_equal(decode_lt(f, f->n, HTS_DLT_EN10MB), 0);
}

static uint64_t U(enum hts_field fl)
{
    if (!hts_pkt_has(&pkt, fl))
        fail_msg("field %s is absent", hts_fields[fl].name);
    return pkt.f[fl].u;
}

static void assert_absent(enum hts_field fl)
{
    if (hts_pkt_has(&pkt, fl))
        fail_msg("field %s is present (%llu)", hts_fields[fl].name,
                 (unsigned long long)pkt.f[fl].u);
}

static void assert_bytes(enum hts_field fl, const void *p, size_t n)
{
    if (!hts_pkt_has(&pkt, fl))
        fail_msg("field %s is absent", hts_fields[fl].name);
    assert_memory_equal(pkt.f[fl].b, p, n);
}

static void assert_str(enum hts_field fl, const char *s)
{
    if (!hts_pkt_has(&pkt, fl))
        fail_msg("field %s is absent", hts_fields[fl].name);
    assert_int_equal(pkt.f[fl].s.n, strlen(s));
    assert_memory_equal(pkt.f[fl].s.p, s, strlen(s));
}

/* the only error counted is `e` (DEC__COUNT: none) */
static void assert_error(int e)
{
    assert_int_equal(st.packets, 1);
    for (int i = 0; i < DEC__COUNT; i++)
        if (st.errors[i] != (i == e))
            fail_msg("error %s counted %llu times, expected %d",
                     hts_decode_err_names[i],
                     (unsigned long long)st.errors[i], i == e);
}

static int count_present(void)
{
    int n = 0;
    for (int i = 0; i < FLD__COUNT; i++)
        n += hts_pkt_has(&pkt, (enum hts_field)i);
    return n;
}

/* ---- frames used by several tests --------------------------------------- */

/* Ethernet / IPv4 / TCP SYN with 12 bytes of options and 10 payload bytes */
static void build_tcp(struct fb *f)
{
    memset(f, 0, sizeof *f);
    eth(f, MAC_B, MAC_A, 0x0800);
    size_t ip = ipv4(f, 6, IP4(10, 0, 0, 1), IP4(192, 168, 1, 2), 0, 0x4000);
    tcp(f, 40000, 80, 0x02, 12);
    bytes(f, "0123456789", 10);
    ip_done(f, ip);
}

/* Ethernet / IPv4 / UDP 53 / DNS response: www.Example.COM CNAME
 * web.example.com (compressed), web.example.com A 93.184.216.34, and A
 * 1.2.3.4 (dns.an.a is the first A record) */
enum { DNS_AT = 42 };
static void build_dns(struct fb *f)
{
    memset(f, 0, sizeof *f);
    eth(f, MAC_B, MAC_A, 0x0800);
    size_t ip = ipv4(f, 17, IP4(8, 8, 8, 8), IP4(10, 0, 0, 1), 0, 0);
    size_t u = udp(f, 53, 33333);
    assert_int_equal(f->n, DNS_AT);
    u16(f, 0xbeef);       /* id */
    u16(f, 0x8180);       /* response, opcode 0, RD RA, rcode 0 */
    u16(f, 1);            /* qd */
    u16(f, 3);            /* an */
    u16(f, 0);            /* ns */
    u16(f, 0);            /* ar */
    dname(f, "www.Example.COM"); /* at DNS offset 12, 17 bytes */
    u16(f, 1);                   /* qtype A */
    u16(f, 1);                   /* class IN */
    /* answer 1: www.example.com CNAME web.<ptr example.com> */
    u16(f, 0xc00c);
    u16(f, 5);
    u16(f, 1);
    u32(f, 3600);
    u16(f, 6);
    u8(f, 3);
    bytes(f, "web", 3);
    u16(f, 0xc010); /* "example.com" inside the question */
    /* answer 2: <ptr to web.example.com> A 93.184.216.34 */
    u16(f, 0xc000 | (12 + 17 + 4 + 12));
    u16(f, 1);
    u16(f, 1);
    u32(f, 300);
    u16(f, 4);
    u32(f, IP4(93, 184, 216, 34));
    /* answer 3: the same name, A 1.2.3.4 */
    u16(f, 0xc000 | (12 + 17 + 4 + 12));
    u16(f, 1);
    u16(f, 1);
    u32(f, 300);
    u16(f, 4);
    u32(f, IP4(1, 2, 3, 4));
    udp_done(f, u);
    ip_done(f, ip);
}

/* ---- tests -------------------------------------------------------------- */

static void test_tcp_syn(void **state)
{
    (void)state;
    struct fb f;
    build_tcp(&f);
    decode(&f);
    assert_error(DEC__COUNT);
    assert_int_equal(U(FLD_META_TS), 1234567890123456789ULL);
    assert_int_equal(U(FLD_META_WIRE_LEN), 76);
    assert_int_equal(U(FLD_META_CAP_LEN), 76);
    assert_int_equal(U(FLD_META_PORT), 7);
    assert_bytes(FLD_ETH_SRC, MAC_A, 6);
    assert_bytes(FLD_ETH_DST, MAC_B, 6);
    assert_int_equal(U(FLD_ETH_TYPE), 0x0800);
    assert_int_equal(U(FLD_IPV4_IHL), 5);
    assert_int_equal(U(FLD_IPV4_TOS), 0xb8);
    assert_int_equal(U(FLD_IPV4_LEN), 62);
    assert_int_equal(U(FLD_IPV4_ID), 0x1234);
    assert_int_equal(U(FLD_IPV4_FLAGS), 2);
    assert_int_equal(U(FLD_IPV4_FRAG_OFF), 0);
    assert_int_equal(U(FLD_IPV4_TTL), 64);
    assert_int_equal(U(FLD_IPV4_PROTO), 6);
    assert_int_equal(U(FLD_IPV4_SRC), IP4(10, 0, 0, 1));
    assert_int_equal(U(FLD_IPV4_DST), IP4(192, 168, 1, 2));
    assert_int_equal(U(FLD_IP_PROTO), 6);
    assert_int_equal(U(FLD_TCP_SPORT), 40000);
    assert_int_equal(U(FLD_TCP_DPORT), 80);
    assert_int_equal(U(FLD_TCP_SEQ), 0xdeadbeef);
    assert_int_equal(U(FLD_TCP_ACK), 0x01020304);
    assert_int_equal(U(FLD_TCP_HDR_LEN), 32);
    assert_int_equal(U(FLD_TCP_FLAGS), 0x02);
    assert_int_equal(U(FLD_TCP_WINDOW), 29200);
    assert_int_equal(U(FLD_TCP_PAYLOAD_LEN), 10);
    assert_str(FLD_PAYLOAD, "0123456789");
    assert_int_equal(U(FLD_PAYLOAD_LEN), 10);
    /* nothing else: 4 meta + 3 eth + 10 ipv4 + ip.proto + 8 tcp + 2 */
    assert_int_equal(count_present(), 28);
    assert_absent(FLD_VLAN_ID);
    assert_absent(FLD_UDP_SPORT);
    assert_absent(FLD_DNS_ID);
}

static void test_values(void **state)
{
    (void)state;
    struct fb f;
    build_tcp(&f);
    decode(&f);
    hts_value v = hts_pkt_value(&pkt, FLD_IPV4_SRC);
    assert_int_equal(v.type, TY_IPV4);
    assert_true(v.present);
    assert_int_equal(v.u.ip4, IP4(10, 0, 0, 1));
    v = hts_pkt_value(&pkt, FLD_TCP_DPORT);
    assert_int_equal(v.type, TY_INT);
    assert_int_equal(v.u.i, 80);
    v = hts_pkt_value(&pkt, FLD_ETH_SRC);
    assert_int_equal(v.type, TY_MAC);
    assert_memory_equal(v.u.mac, MAC_A, 6);
    v = hts_pkt_value(&pkt, FLD_PAYLOAD);
    assert_int_equal(v.type, TY_STR);
    assert_int_equal(v.u.s.n, 10);
    assert_ptr_equal(v.u.s.p, f.b + 66);
    v = hts_pkt_value(&pkt, FLD_UDP_DPORT);
    assert_int_equal(v.type, TY_INT);
    assert_false(v.present);
    v = hts_pkt_value(&pkt, FLD_IPV6_SRC);
    assert_int_equal(v.type, TY_IPV6);
    assert_false(v.present);

    build_dns(&f);
    decode(&f);
    v = hts_pkt_value(&pkt, FLD_DNS_AN_TYPES);
    assert_int_equal(v.type, TY_TYPESET);
    assert_true(v.present);
    assert_int_equal(v.u.s.n, 2);
    const uint16_t *codes = (const uint16_t *)(const void *)v.u.s.p;
    assert_int_equal(codes[0], 5);
    assert_int_equal(codes[1], 1);
    v = hts_pkt_value(&pkt, FLD_DNS_AN_A);
    assert_int_equal(v.type, TY_IPV4);
    assert_int_equal(v.u.ip4, IP4(93, 184, 216, 34));
}

static void test_vlan_stack(void **state)
{
    (void)state;
    struct fb f = {0};
    eth(&f, MAC_B, MAC_A, 0x88a8);
    u16(&f, 5 << 13 | 100); /* 802.1ad S-tag: pcp 5, id 100 */
    u16(&f, 0x8100);
    u16(&f, 3 << 13 | 200); /* C-tag id 200, pcp 3 (not part of the id) */
    u16(&f, 0x0800);
    size_t ip = ipv4(&f, 17, IP4(1, 2, 3, 4), IP4(5, 6, 7, 8), 0, 0);
    size_t u = udp(&f, 1000, 2000);
    bytes(&f, "xy", 2);
    udp_done(&f, u);
    ip_done(&f, ip);
    decode(&f);
    assert_error(DEC__COUNT);
    assert_int_equal(U(FLD_VLAN_ID), 100);
    assert_int_equal(U(FLD_VLAN_PCP), 5);
    assert_int_equal(U(FLD_VLAN_INNER_ID), 200);
    assert_int_equal(U(FLD_VLAN_DEPTH), 2);
    assert_int_equal(U(FLD_ETH_TYPE), 0x0800);
    assert_int_equal(U(FLD_IPV4_SRC), IP4(1, 2, 3, 4));
    assert_int_equal(U(FLD_UDP_SPORT), 1000);
    assert_int_equal(U(FLD_UDP_DPORT), 2000);
    assert_int_equal(U(FLD_UDP_LEN), 10);
    assert_str(FLD_PAYLOAD, "xy");
    /* a UDP length shorter than the IP payload ends the payload */
    set16(&f, u + 4, 9);
    decode(&f);
    assert_int_equal(U(FLD_UDP_LEN), 9);
    assert_str(FLD_PAYLOAD, "x");

    /* three tags, the old 0x9100 TPID outermost */
    struct fb g = {0};
    eth(&g, MAC_B, MAC_A, 0x9100);
    u16(&g, 30);
    u16(&g, 0x88a8);
    u16(&g, 20);
    u16(&g, 0x8100);
    u16(&g, 10);
    u16(&g, 0x86dd);
    size_t ip6 = ipv6(&g, 59);
    ip6_done(&g, ip6);
    decode(&g);
    assert_error(DEC__COUNT);
    assert_int_equal(U(FLD_VLAN_ID), 30);
    assert_int_equal(U(FLD_VLAN_PCP), 0);
    assert_int_equal(U(FLD_VLAN_INNER_ID), 20);
    assert_int_equal(U(FLD_VLAN_DEPTH), 3);
    assert_int_equal(U(FLD_ETH_TYPE), 0x86dd);
    assert_int_equal(U(FLD_IP_PROTO), 59);

    /* a tag cut in half: the outer tag stays, the stack is incomplete */
    decode_lt(&g, 14 + 4 + 2, HTS_DLT_EN10MB);
    assert_error(DEC_TRUNC_VLAN);
    assert_int_equal(U(FLD_VLAN_ID), 30);
    assert_absent(FLD_VLAN_DEPTH);
    assert_absent(FLD_ETH_TYPE);
}

static void test_mpls(void **state)
{
    (void)state;
    struct fb f = {0};
    eth(&f, MAC_B, MAC_A, 0x8847);
    u32(&f, 16u << 12 | 0 << 8 | 64);     /* label 16 */
    u32(&f, 1048575u << 12 | 1 << 8 | 64); /* label 2^20-1, bottom */
    size_t ip = ipv4(&f, 6, IP4(10, 1, 1, 1), IP4(10, 2, 2, 2), 0, 0);
    tcp(&f, 23, 1024, 0x18, 0);
    bytes(&f, "login", 5);
    ip_done(&f, ip);
    decode(&f);
    assert_error(DEC__COUNT);
    assert_int_equal(U(FLD_ETH_TYPE), 0x8847);
    assert_int_equal(U(FLD_MPLS_LABEL), 16);
    assert_int_equal(U(FLD_MPLS_DEPTH), 2);
    assert_int_equal(U(FLD_IPV4_DST), IP4(10, 2, 2, 2));
    assert_int_equal(U(FLD_TCP_SPORT), 23);
    assert_int_equal(U(FLD_TCP_FLAGS), 0x18);
    assert_int_equal(U(FLD_TCP_PAYLOAD_LEN), 5);
    assert_str(FLD_PAYLOAD, "login");

    /* IPv6 after the stack, guessed from the first nibble */
    struct fb g = {0};
    eth(&g, MAC_B, MAC_A, 0x8848);
    u32(&g, 99u << 12 | 1 << 8 | 1);
    size_t ip6 = ipv6(&g, 17);
    size_t u = udp(&g, 5000, 6000);
    udp_done(&g, u);
    ip6_done(&g, ip6);
    decode(&g);
    assert_error(DEC__COUNT);
    assert_int_equal(U(FLD_MPLS_LABEL), 99);
    assert_int_equal(U(FLD_MPLS_DEPTH), 1);
    assert_bytes(FLD_IPV6_SRC, V6_A, 16);
    assert_int_equal(U(FLD_UDP_DPORT), 6000);

    /* stack cut before its bottom label */
    decode_lt(&f, 14 + 6, HTS_DLT_EN10MB);
    assert_error(DEC_TRUNC_MPLS);
    assert_int_equal(U(FLD_MPLS_LABEL), 16);
    assert_absent(FLD_MPLS_DEPTH);
}

static void test_ipv4_options(void **state)
{
    (void)state;
    struct fb f = {0};
    eth(&f, MAC_B, MAC_A, 0x0800);
    size_t ip = ipv4(&f, 6, IP4(1, 1, 1, 1), IP4(2, 2, 2, 2), 8, 0);
    tcp(&f, 1234, 443, 0x10, 0);
    bytes(&f, "abc", 3);
    ip_done(&f, ip);
    /* Ethernet padding to 60 bytes: not payload */
    size_t real = f.n;
    while (f.n < 60 + 8)
        u8(&f, 0xee);
    decode(&f);
    assert_error(DEC__COUNT);
    assert_int_equal(U(FLD_IPV4_IHL), 7);
    assert_int_equal(U(FLD_IPV4_LEN), real - 14);
    assert_int_equal(U(FLD_TCP_SPORT), 1234);
    assert_int_equal(U(FLD_TCP_DPORT), 443);
    assert_int_equal(U(FLD_TCP_HDR_LEN), 20);
    assert_int_equal(U(FLD_TCP_PAYLOAD_LEN), 3);
    assert_str(FLD_PAYLOAD, "abc");

    /* a total length beyond the frame: the packet ends with the frame
     * (the wire length), not where the header claims */
    set16(&f, 16, 1500);
    decode(&f);
    assert_error(DEC__COUNT);
    assert_int_equal(U(FLD_IPV4_LEN), 1500);
    assert_int_equal(U(FLD_TCP_PAYLOAD_LEN), f.n - 14 - 28 - 20);
    assert_int_equal(U(FLD_PAYLOAD_LEN), f.n - 14 - 28 - 20);

    /* IHL below 5 is malformed */
    f.b[14] = 0x44;
    decode(&f);
    assert_error(DEC_BAD_IPV4);
    assert_absent(FLD_IPV4_SRC);
    /* total length below the header length too */
    f.b[14] = 0x47;
    set16(&f, 16, 20);
    decode(&f);
    assert_error(DEC_BAD_IPV4);
    assert_absent(FLD_IPV4_SRC);
    /* version 6 behind EtherType IPv4 */
    f.b[14] = 0x65;
    decode(&f);
    assert_error(DEC_BAD_IPV4);
}

static void test_fragments(void **state)
{
    (void)state;
    /* non-first fragment (offset 185 * 8): IP fields, no L4, counted */
    struct fb f = {0};
    eth(&f, MAC_B, MAC_A, 0x0800);
    size_t ip = ipv4(&f, 17, IP4(1, 1, 1, 1), IP4(2, 2, 2, 2), 0, 185);
    udp(&f, 53, 53); /* looks like UDP, but is the middle of a datagram */
    bytes(&f, "continuation", 12);
    ip_done(&f, ip);
    decode(&f);
    assert_error(DEC_FRAGMENT);
    assert_int_equal(U(FLD_IPV4_FRAG_OFF), 185);
    assert_int_equal(U(FLD_IPV4_FLAGS), 0);
    assert_int_equal(U(FLD_IP_PROTO), 17);
    assert_int_equal(U(FLD_IPV4_SRC), IP4(1, 1, 1, 1));
    assert_absent(FLD_UDP_SPORT);
    assert_absent(FLD_DNS_ID);
    assert_absent(FLD_PAYLOAD);

    /* the first fragment (MF set, offset 0) has its L4 header */
    set16(&f, 14 + 6, 0x2000);
    decode(&f);
    assert_error(DEC_TRUNC_DNS); /* the DNS message is not whole */
    assert_int_equal(U(FLD_IPV4_FLAGS), 1);
    assert_int_equal(U(FLD_UDP_SPORT), 53);
    assert_int_equal(U(FLD_PAYLOAD_LEN), 12);
}

static void test_ipv6_ext(void **state)
{
    (void)state;
    struct fb f = {0};
    eth(&f, MAC_B, MAC_A, 0x86dd);
    size_t ip = ipv6(&f, 0);
    /* hop-by-hop: next 44, length 0 (8 bytes), PadN */
    u8(&f, 44);
    u8(&f, 0);
    u8(&f, 1);
    u8(&f, 4);
    u32(&f, 0);
    /* fragment: next 17, offset 0, M set */
    u8(&f, 17);
    u8(&f, 0);
    u16(&f, 0 << 3 | 1);
    u32(&f, 0xcafe);
    size_t u = udp(&f, 1111, 2222);
    bytes(&f, "hello", 5);
    udp_done(&f, u);
    ip6_done(&f, ip);
    decode(&f);
    assert_error(DEC__COUNT);
    assert_int_equal(U(FLD_IPV6_TC), 0xa0);
    assert_int_equal(U(FLD_IPV6_FLOW), 0x12345);
    assert_int_equal(U(FLD_IPV6_PLEN), 8 + 8 + 8 + 5);
    assert_int_equal(U(FLD_IPV6_NEXT), 0);
    assert_int_equal(U(FLD_IPV6_HLIM), 33);
    assert_bytes(FLD_IPV6_SRC, V6_A, 16);
    assert_bytes(FLD_IPV6_DST, V6_B, 16);
    assert_int_equal(U(FLD_IPV6_FRAG), 1);
    assert_int_equal(U(FLD_IP_PROTO), 17);
    assert_int_equal(U(FLD_UDP_SPORT), 1111);
    assert_int_equal(U(FLD_UDP_DPORT), 2222);
    assert_str(FLD_PAYLOAD, "hello");
    assert_absent(FLD_IPV4_SRC);

    /* a later fragment: no L4, ip.proto from the fragment header */
    set16(&f, 54 + 8 + 2, 100 << 3);
    decode(&f);
    assert_error(DEC_FRAGMENT);
    assert_int_equal(U(FLD_IPV6_FRAG), 1);
    assert_int_equal(U(FLD_IP_PROTO), 17);
    assert_absent(FLD_UDP_SPORT);

    /* a hop-by-hop length running past the packet */
    set16(&f, 54 + 8 + 2, 0);
    f.b[54 + 1] = 200;
    decode(&f);
    assert_error(DEC_BAD_IPV6_EXT);
    assert_bytes(FLD_IPV6_SRC, V6_A, 16);
    assert_absent(FLD_IP_PROTO);
    assert_absent(FLD_IPV6_FRAG);
    assert_absent(FLD_UDP_SPORT);

    /* no extension headers: ipv6.frag is 0 */
    struct fb g = {0};
    eth(&g, MAC_B, MAC_A, 0x86dd);
    size_t ip6 = ipv6(&g, 58);
    u8(&g, 128);
    u8(&g, 0);
    u16(&g, 0);
    ip6_done(&g, ip6);
    decode(&g);
    assert_error(DEC__COUNT);
    assert_int_equal(U(FLD_IPV6_FRAG), 0);
    assert_int_equal(U(FLD_ICMPV6_TYPE), 128);
    assert_int_equal(U(FLD_ICMPV6_CODE), 0);
    assert_absent(FLD_ICMP_TYPE);
}

static void test_dns_response(void **state)
{
    (void)state;
    struct fb f;
    build_dns(&f);
    decode(&f);
    assert_error(DEC__COUNT);
    assert_int_equal(U(FLD_UDP_SPORT), 53);
    assert_int_equal(U(FLD_DNS_ID), 0xbeef);
    assert_int_equal(U(FLD_DNS_QR), 1);
    assert_int_equal(U(FLD_DNS_OPCODE), 0);
    assert_int_equal(U(FLD_DNS_RCODE), 0);
    assert_int_equal(U(FLD_DNS_QDCOUNT), 1);
    assert_int_equal(U(FLD_DNS_ANCOUNT), 3);
    assert_int_equal(U(FLD_DNS_NSCOUNT), 0);
    assert_int_equal(U(FLD_DNS_ARCOUNT), 0);
    assert_str(FLD_DNS_QNAME, "www.example.com");
    assert_ptr_equal(pkt.f[FLD_DNS_QNAME].s.p, (const uint8_t *)pkt.qname);
    assert_int_equal(U(FLD_DNS_QTYPE), 1);
    assert_true(hts_pkt_has(&pkt, FLD_DNS_AN_TYPES));
    assert_int_equal(pkt.n_an_types, 2);
    assert_int_equal(pkt.an_types[0], 5);
    assert_int_equal(pkt.an_types[1], 1);
    assert_int_equal(U(FLD_DNS_AN_TYPE), 5);
    assert_int_equal(U(FLD_DNS_AN_TTL), 3600);
    assert_int_equal(U(FLD_DNS_AN_A), IP4(93, 184, 216, 34));

    /* the same message over TCP, after its 2-byte length */
    struct fb t = {0};
    eth(&t, MAC_B, MAC_A, 0x0800);
    size_t ip = ipv4(&t, 6, IP4(8, 8, 8, 8), IP4(10, 0, 0, 1), 0, 0);
    tcp(&t, 53, 40000, 0x18, 0);
    size_t mlen = f.n - DNS_AT;
    u16(&t, (unsigned)mlen);
    bytes(&t, f.b + DNS_AT, mlen);
    ip_done(&t, ip);
    decode(&t);
    assert_error(DEC__COUNT);
    assert_int_equal(U(FLD_DNS_ID), 0xbeef);
    assert_str(FLD_DNS_QNAME, "www.example.com");
    assert_int_equal(U(FLD_DNS_AN_A), IP4(93, 184, 216, 34));
    assert_int_equal(U(FLD_TCP_PAYLOAD_LEN), mlen + 2);

    /* the root name and an empty answer section */
    struct fb r = {0};
    eth(&r, MAC_B, MAC_A, 0x0800);
    ip = ipv4(&r, 17, IP4(10, 0, 0, 1), IP4(8, 8, 8, 8), 0, 0);
    size_t u = udp(&r, 40000, 53);
    u16(&r, 7);
    u16(&r, 0x0100);
    u16(&r, 1);
    u16(&r, 0);
    u16(&r, 0);
    u16(&r, 0);
    u8(&r, 0);
    u16(&r, 2); /* NS */
    u16(&r, 1);
    udp_done(&r, u);
    ip_done(&r, ip);
    decode(&r);
    assert_error(DEC__COUNT);
    assert_int_equal(U(FLD_DNS_QR), 0);
    assert_str(FLD_DNS_QNAME, ".");
    assert_int_equal(U(FLD_DNS_QTYPE), 2);
    assert_true(hts_pkt_has(&pkt, FLD_DNS_AN_TYPES));
    assert_int_equal(pkt.n_an_types, 0);
    assert_absent(FLD_DNS_AN_TYPE);
}

static void test_dns_pointer_loop(void **state)
{
    (void)state;
    /* question name = pointer to itself */
    struct fb f = {0};
    eth(&f, MAC_B, MAC_A, 0x0800);
    size_t ip = ipv4(&f, 17, IP4(10, 0, 0, 1), IP4(8, 8, 8, 8), 0, 0);
    size_t u = udp(&f, 40000, 53);
    u16(&f, 0x4242);
    u16(&f, 0x0100);
    u16(&f, 1);
    u16(&f, 0);
    u16(&f, 0);
    u16(&f, 0);
    u16(&f, 0xc00c);
    u16(&f, 1);
    u16(&f, 1);
    udp_done(&f, u);
    ip_done(&f, ip);
    decode(&f);
    assert_error(DEC_BAD_DNS);
    assert_int_equal(U(FLD_DNS_ID), 0x4242); /* the header was whole */
    assert_int_equal(U(FLD_DNS_QDCOUNT), 1);
    assert_absent(FLD_DNS_QNAME);
    assert_absent(FLD_DNS_QTYPE);
    assert_absent(FLD_DNS_AN_TYPES);

    /* a label, then a pointer back to it: grows forever unless bounded */
    f.b[DNS_AT + 12] = 1;
    f.b[DNS_AT + 13] = 'a';
    f.b[DNS_AT + 14] = 0xc0;
    f.b[DNS_AT + 15] = 12;
    decode(&f);
    assert_error(DEC_BAD_DNS);
    assert_absent(FLD_DNS_QNAME);

    /* an extended label type (0x40) */
    f.b[DNS_AT + 12] = 0x41;
    decode(&f);
    assert_error(DEC_BAD_DNS);

    /* a pointer past the end of the message: cut off */
    f.b[DNS_AT + 12] = 0xc0;
    f.b[DNS_AT + 13] = 0xff;
    decode(&f);
    assert_error(DEC_TRUNC_DNS);
    assert_absent(FLD_DNS_QNAME);
}

/*
 * Every prefix of a frame: fields whose header ends at or before caplen
 * are present, all others absent, and exactly the expected error counted.
 * wire_len stays the full length, as with a capture's snap length.
 */
struct need {
    enum hts_field f;
    size_t end; /* present iff caplen >= end */
};

struct stop {
    size_t below; /* for caplen < below ... */
    int err;      /* ... this error (checked in table order) */
};

static void sweep(const struct fb *f, const struct need *need, size_t nneed,
                  const struct stop *stop, size_t nstop)
{
    for (size_t cap = 0; cap <= f->n; cap++) {
        /* the frame in a heap block of exactly cap bytes, so that ASan
         * sees any read past the captured length (plain malloc: cmocka's
         * test_malloc pads blocks with guard bytes) */
        uint8_t *exact = malloc(cap ? cap : 1);
        assert_non_null(exact);
        memcpy(exact, f->b, cap);
        memset(&st, 0, sizeof st);
        assert_int_equal(hts_decode(&pkt, exact, (uint32_t)cap,
                                    (uint32_t)f->n, 1, 0, HTS_DLT_EN10MB, &st),
                         0);
        for (size_t i = 0; i < nneed; i++) {
            bool want = cap >= need[i].end;
            if (hts_pkt_has(&pkt, need[i].f) != want)
                fail_msg("caplen %zu: %s should be %s", cap,
                         hts_fields[need[i].f].name,
                         want ? "present" : "absent");
        }
        int err = DEC__COUNT;
        for (size_t i = 0; i < nstop; i++)
            if (cap < stop[i].below) {
                err = stop[i].err;
                break;
            }
        assert_error(err);
        assert_int_equal(U(FLD_META_CAP_LEN), cap);
        assert_int_equal(U(FLD_META_WIRE_LEN), f->n);
        free(exact);
    }
}

static void test_truncation_tcp(void **state)
{
    (void)state;
    struct fb f;
    build_tcp(&f);
    const struct need need[] = {
        {FLD_ETH_SRC, 14},      {FLD_ETH_DST, 14},     {FLD_ETH_TYPE, 14},
        {FLD_IPV4_SRC, 34},     {FLD_IPV4_LEN, 34},    {FLD_IP_PROTO, 34},
        {FLD_TCP_SPORT, 66},    {FLD_TCP_FLAGS, 66},   {FLD_TCP_SEQ, 66},
        {FLD_TCP_HDR_LEN, 66},  {FLD_TCP_PAYLOAD_LEN, 66},
        {FLD_PAYLOAD, 66},      {FLD_PAYLOAD_LEN, 66}, {FLD_UDP_SPORT, 9999},
        {FLD_DNS_ID, 9999},     {FLD_VLAN_ID, 9999},
    };
    const struct stop stop[] = {
        {14, DEC_TRUNC_L2}, {34, DEC_TRUNC_IPV4}, {66, DEC_TRUNC_TCP}};
    sweep(&f, need, sizeof need / sizeof need[0], stop,
          sizeof stop / sizeof stop[0]);
    /* the payload is what was captured; payload_len what IP says */
    memset(&st, 0, sizeof st);
    hts_decode(&pkt, f.b, 70, (uint32_t)f.n, 1, 0, HTS_DLT_EN10MB, &st);
    assert_int_equal(U(FLD_PAYLOAD_LEN), 4);
    assert_int_equal(U(FLD_TCP_PAYLOAD_LEN), 10);
}

static void test_truncation_dns(void **state)
{
    (void)state;
    struct fb f;
    build_dns(&f);
    const size_t D = DNS_AT, Q = D + 12 + 17;
    const struct need need[] = {
        {FLD_IPV4_SRC, 34},        {FLD_UDP_SPORT, 42},
        {FLD_UDP_LEN, 42},         {FLD_PAYLOAD, 42},
        {FLD_DNS_ID, D + 2},       {FLD_DNS_QR, D + 4},
        {FLD_DNS_OPCODE, D + 4},   {FLD_DNS_RCODE, D + 4},
        {FLD_DNS_QDCOUNT, D + 6},  {FLD_DNS_ANCOUNT, D + 8},
        {FLD_DNS_NSCOUNT, D + 10}, {FLD_DNS_ARCOUNT, D + 12},
        {FLD_DNS_QNAME, Q},        {FLD_DNS_QTYPE, Q + 4},
        {FLD_DNS_AN_TYPE, Q + 4 + 12}, {FLD_DNS_AN_TTL, Q + 4 + 12},
        {FLD_DNS_AN_A, Q + 4 + 34}, {FLD_DNS_AN_TYPES, f.n},
    };
    const struct stop stop[] = {{14, DEC_TRUNC_L2},
                                {34, DEC_TRUNC_IPV4},
                                {42, DEC_TRUNC_UDP},
                                {f.n, DEC_TRUNC_DNS}};
    sweep(&f, need, sizeof need / sizeof need[0], stop,
          sizeof stop / sizeof stop[0]);
}

/* Ethernet / IPv4 / UDP 4789 / VXLAN / Ethernet / IPv4 / TCP "GET /" */
static void test_vxlan(void **state)
{
    (void)state;
    struct fb f = {0};
    eth(&f, MAC_B, MAC_A, 0x0800);
    size_t ip = ipv4(&f, 17, IP4(172, 16, 0, 1), IP4(172, 16, 0, 2), 0, 0);
    size_t u = udp(&f, 51000, 4789);
    u32(&f, 0x08000000);
    u32(&f, 0x123456u << 8);
    eth(&f, MAC_D, MAC_C, 0x0800);
    size_t iip = ipv4(&f, 6, IP4(10, 9, 8, 7), IP4(10, 6, 5, 4), 0, 0);
    tcp(&f, 33000, 8080, 0x18, 0);
    bytes(&f, "GET /", 5);
    ip_done(&f, iip);
    udp_done(&f, u);
    ip_done(&f, ip);
    decode(&f);
    assert_error(DEC__COUNT);
    /* plain fields: the outer headers */
    assert_bytes(FLD_ETH_SRC, MAC_A, 6);
    assert_int_equal(U(FLD_IPV4_SRC), IP4(172, 16, 0, 1));
    assert_int_equal(U(FLD_IP_PROTO), 17);
    assert_int_equal(U(FLD_UDP_SPORT), 51000);
    assert_int_equal(U(FLD_UDP_DPORT), 4789);
    assert_absent(FLD_TCP_SPORT);
    assert_int_equal(U(FLD_VXLAN_VNI), 0x123456);
    /* inner fields */
    assert_bytes(FLD_INNER_ETH_SRC, MAC_C, 6);
    assert_bytes(FLD_INNER_ETH_DST, MAC_D, 6);
    assert_int_equal(U(FLD_INNER_IPV4_SRC), IP4(10, 9, 8, 7));
    assert_int_equal(U(FLD_INNER_IPV4_DST), IP4(10, 6, 5, 4));
    assert_int_equal(U(FLD_INNER_IPV4_PROTO), 6);
    assert_int_equal(U(FLD_INNER_IPV4_LEN), 20 + 20 + 5);
    assert_int_equal(U(FLD_INNER_TCP_SPORT), 33000);
    assert_int_equal(U(FLD_INNER_TCP_DPORT), 8080);
    assert_int_equal(U(FLD_INNER_TCP_FLAGS), 0x18);
    assert_absent(FLD_INNER_UDP_SPORT);
    /* payload: after the innermost TCP/UDP header */
    assert_str(FLD_PAYLOAD, "GET /");

    /* inner IPv4 cut: outer and VXLAN fields stay, counted as the tunnel */
    decode_lt(&f, 14 + 20 + 8 + 8 + 14 + 10, HTS_DLT_EN10MB);
    assert_error(DEC_TRUNC_TUNNEL);
    assert_int_equal(U(FLD_VXLAN_VNI), 0x123456);
    assert_bytes(FLD_INNER_ETH_SRC, MAC_C, 6);
    assert_absent(FLD_INNER_IPV4_SRC);
    assert_int_equal(U(FLD_UDP_DPORT), 4789);
}

static void test_gre(void **state)
{
    (void)state;
    /* GRE with key and sequence number, carrying IPv4 / UDP */
    struct fb f = {0};
    eth(&f, MAC_B, MAC_A, 0x0800);
    size_t ip = ipv4(&f, 47, IP4(203, 0, 113, 1), IP4(203, 0, 113, 2), 0, 0);
    u16(&f, 0x3000); /* K and S */
    u16(&f, 0x0800);
    u32(&f, 42);
    u32(&f, 7);
    size_t iip = ipv4(&f, 17, IP4(10, 0, 0, 5), IP4(10, 0, 0, 6), 0, 0);
    size_t u = udp(&f, 123, 123);
    bytes(&f, "ntp", 3);
    udp_done(&f, u);
    ip_done(&f, iip);
    ip_done(&f, ip);
    decode(&f);
    assert_error(DEC__COUNT);
    assert_int_equal(U(FLD_IPV4_PROTO), 47);
    assert_int_equal(U(FLD_IP_PROTO), 47);
    assert_int_equal(U(FLD_GRE_PROTO), 0x0800);
    assert_int_equal(U(FLD_INNER_IPV4_SRC), IP4(10, 0, 0, 5));
    assert_int_equal(U(FLD_INNER_IPV4_DST), IP4(10, 0, 0, 6));
    assert_int_equal(U(FLD_INNER_IPV4_PROTO), 17);
    assert_int_equal(U(FLD_INNER_UDP_SPORT), 123);
    assert_int_equal(U(FLD_INNER_UDP_DPORT), 123);
    assert_str(FLD_PAYLOAD, "ntp");
    assert_absent(FLD_UDP_SPORT);
    assert_absent(FLD_INNER_ETH_SRC);

    /* GRE with checksum, transparent Ethernet bridging */
    struct fb g = {0};
    eth(&g, MAC_B, MAC_A, 0x0800);
    ip = ipv4(&g, 47, IP4(203, 0, 113, 1), IP4(203, 0, 113, 2), 0, 0);
    u16(&g, 0x8000);
    u16(&g, 0x6558);
    u32(&g, 0);
    eth(&g, MAC_D, MAC_C, 0x0800);
    iip = ipv4(&g, 6, IP4(10, 0, 0, 7), IP4(10, 0, 0, 8), 0, 0);
    tcp(&g, 1, 2, 0x01, 0);
    ip_done(&g, iip);
    ip_done(&g, ip);
    decode(&g);
    assert_error(DEC__COUNT);
    assert_int_equal(U(FLD_GRE_PROTO), 0x6558);
    assert_bytes(FLD_INNER_ETH_SRC, MAC_C, 6);
    assert_int_equal(U(FLD_INNER_IPV4_SRC), IP4(10, 0, 0, 7));
    assert_int_equal(U(FLD_INNER_TCP_FLAGS), 0x01);
    assert_int_equal(U(FLD_PAYLOAD_LEN), 0);

    /* optional words cut: TRUNC_TUNNEL, gre.proto was read */
    decode_lt(&f, 14 + 20 + 6, HTS_DLT_EN10MB);
    assert_error(DEC_TRUNC_TUNNEL);
    assert_int_equal(U(FLD_GRE_PROTO), 0x0800);
    assert_absent(FLD_INNER_IPV4_SRC);
}

static void test_6in4(void **state)
{
    (void)state;
    struct fb f = {0};
    eth(&f, MAC_B, MAC_A, 0x0800);
    size_t ip = ipv4(&f, 41, IP4(192, 0, 2, 1), IP4(192, 0, 2, 2), 0, 0);
    size_t ip6 = ipv6(&f, 6);
    tcp(&f, 4444, 443, 0x12, 0);
    ip6_done(&f, ip6);
    ip_done(&f, ip);
    decode(&f);
    assert_error(DEC__COUNT);
    assert_int_equal(U(FLD_IPV4_PROTO), 41);
    assert_int_equal(U(FLD_IP_PROTO), 6); /* the L4 header's protocol */
    assert_bytes(FLD_IPV6_SRC, V6_A, 16);
    assert_int_equal(U(FLD_TCP_SPORT), 4444);
    assert_int_equal(U(FLD_TCP_FLAGS), 0x12);
    assert_int_equal(U(FLD_TCP_PAYLOAD_LEN), 0);
}

static void test_sll(void **state)
{
    (void)state;
    struct fb f = {0};
    u16(&f, 0);      /* packet type: to us */
    u16(&f, 1);      /* ARPHRD_ETHER */
    u16(&f, 6);      /* address length */
    bytes(&f, MAC_A, 6);
    u16(&f, 0);      /* address padding */
    u16(&f, 0x0800); /* protocol */
    size_t ip = ipv4(&f, 6, IP4(10, 0, 0, 1), IP4(10, 0, 0, 2), 0, 0);
    tcp(&f, 5555, 22, 0x10, 0);
    ip_done(&f, ip);
    assert_int_equal(decode_lt(&f, f.n, HTS_DLT_LINUX_SLL), 0);
    assert_error(DEC__COUNT);
    assert_int_equal(U(FLD_ETH_TYPE), 0x0800);
    assert_absent(FLD_ETH_SRC);
    assert_int_equal(U(FLD_IPV4_DST), IP4(10, 0, 0, 2));
    assert_int_equal(U(FLD_TCP_DPORT), 22);
    /* a cut cooked header */
    decode_lt(&f, 15, HTS_DLT_LINUX_SLL);
    assert_error(DEC_TRUNC_L2);
    assert_absent(FLD_ETH_TYPE);

    /* SLL2: protocol first, 20 bytes */
    struct fb g = {0};
    u16(&g, 0x86dd);
    u16(&g, 0);
    u32(&g, 3);
    u16(&g, 1);
    u8(&g, 0);
    u8(&g, 6);
    bytes(&g, MAC_A, 6);
    u16(&g, 0);
    size_t ip6 = ipv6(&g, 17);
    size_t u = udp(&g, 9, 10);
    udp_done(&g, u);
    ip6_done(&g, ip6);
    assert_int_equal(decode_lt(&g, g.n, HTS_DLT_LINUX_SLL2), 0);
    assert_error(DEC__COUNT);
    assert_int_equal(U(FLD_ETH_TYPE), 0x86dd);
    assert_bytes(FLD_IPV6_DST, V6_B, 16);
    assert_int_equal(U(FLD_UDP_SPORT), 9);
}

static void test_raw_and_linktypes(void **state)
{
    (void)state;
    struct fb f = {0};
    size_t ip = ipv4(&f, 1, IP4(10, 0, 0, 1), IP4(10, 0, 0, 2), 0, 0);
    u8(&f, 8); /* echo request */
    u8(&f, 0);
    u16(&f, 0);
    u32(&f, 0);
    ip_done(&f, ip);
    for (int lt = 0; lt < 3; lt++) {
        static const int lts[] = {HTS_DLT_RAW, 12, 228};
        assert_int_equal(decode_lt(&f, f.n, lts[lt]), 0);
        assert_error(DEC__COUNT);
        assert_int_equal(U(FLD_ICMP_TYPE), 8);
        assert_int_equal(U(FLD_ICMP_CODE), 0);
        assert_int_equal(U(FLD_IP_PROTO), 1);
        assert_absent(FLD_ETH_TYPE);
    }
    /* a link type we do not know: an error, only meta fields */
    assert_true(decode_lt(&f, f.n, 9999) < 0);
    assert_error(DEC_LINKTYPE);
    assert_int_equal(count_present(), 4);
    assert_int_equal(U(FLD_META_PORT), 7);
    /* ICMP cut after two bytes */
    assert_int_equal(decode_lt(&f, 22, HTS_DLT_RAW), 0);
    assert_error(DEC_TRUNC_ICMP);
    assert_absent(FLD_ICMP_TYPE);
}

/* A packet decoded into a struct that held another must not keep any of
 * the old fields (only the bitmap is reset, so this is worth checking). */
static void test_reuse(void **state)
{
    (void)state;
    struct fb d, t;
    build_dns(&d);
    build_tcp(&t);
    decode(&d);
    assert_true(hts_pkt_has(&pkt, FLD_DNS_AN_TYPES));
    decode(&t);
    assert_absent(FLD_DNS_AN_TYPES);
    assert_absent(FLD_DNS_QNAME);
    assert_absent(FLD_UDP_SPORT);
    assert_int_equal(pkt.n_an_types, 0);
    /* stats may be NULL */
    assert_int_equal(
        hts_decode(&pkt, t.b, (uint32_t)t.n, (uint32_t)t.n, 0, 0, 1, NULL), 0);
    assert_int_equal(U(FLD_TCP_DPORT), 80);
}

static void test_error_names(void **state)
{
    (void)state;
    static const char *const ids[DEC__COUNT] = {
#define X(id, text) #id,
        HTS_DECODE_ERRORS(X)
#undef X
    };
    for (int i = 0; i < DEC__COUNT; i++) {
        const char *n = hts_decode_err_names[i];
        assert_non_null(n);
        assert_non_null(hts_decode_err_text[i]);
        assert_int_equal(strlen(n), strlen(ids[i]));
        for (size_t k = 0; ids[i][k]; k++) {
            char c = ids[i][k];
            assert_int_equal(n[k], c >= 'A' && c <= 'Z' ? c + 32 : c);
        }
    }
    assert_string_equal(hts_decode_err_names[DEC_TRUNC_IPV4], "trunc_ipv4");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_tcp_syn),
        cmocka_unit_test(test_values),
        cmocka_unit_test(test_vlan_stack),
        cmocka_unit_test(test_mpls),
        cmocka_unit_test(test_ipv4_options),
        cmocka_unit_test(test_fragments),
        cmocka_unit_test(test_ipv6_ext),
        cmocka_unit_test(test_dns_response),
        cmocka_unit_test(test_dns_pointer_loop),
        cmocka_unit_test(test_truncation_tcp),
        cmocka_unit_test(test_truncation_dns),
        cmocka_unit_test(test_vxlan),
        cmocka_unit_test(test_gre),
        cmocka_unit_test(test_6in4),
        cmocka_unit_test(test_sll),
        cmocka_unit_test(test_raw_and_linktypes),
        cmocka_unit_test(test_reuse),
        cmocka_unit_test(test_error_names),
    };
    return cmocka_run_group_tests_name("decode", tests, NULL, NULL);
}
