/*
 * test_jit.c - the JIT's decoder and engine on hand-made frames.
 *
 * Each frame exercises one of core/decode.c's rules that captures rarely
 * show: stacked VLAN tags, an MPLS label stack, IPv6 extension headers and
 * fragments, 6in4, truncated and malformed headers, 802.3 frames, frames
 * shorter than their wire length. A query exporting every field the JIT
 * decodes runs over them in the executor and in the JIT engine, which must
 * produce the same rows; a few values are also checked by hand so that the
 * test cannot pass by both sides being empty. Then the engine interface:
 * coverage reasons, window hand-over with tiny tables, and a program with
 * nothing to compile.
 */
#include "driver.h"
#include "exec.h"
#include "jit.h"
#include "jit_engine.h"
#include "parse.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

static const char fields_query[] =
    "query all {\n"
    "  packets\n"
    "  | export eth.src, eth.dst, eth.type, vlan.id, vlan.pcp, vlan.inner_id, vlan.depth,\n"
    "           mpls.label, mpls.depth, ipv4.ihl, ipv4.len, ipv4.flags, ipv4.frag_off,\n"
    "           ipv4.proto, ipv4.src, ipv4.dst, ipv6.tc, ipv6.flow, ipv6.plen, ipv6.next,\n"
    "           ipv6.src, ipv6.dst, ipv6.frag, ip.proto, tcp.sport, tcp.dport, tcp.hdr_len,\n"
    "           tcp.flags, tcp.payload_len, udp.sport, udp.len, icmp.type, icmpv6.type,\n"
    "           icmpv6.code, meta.wire_len, meta.cap_len\n"
    "}\n";

/* ---- frames ---- */

struct frame {
    uint8_t b[256];
    uint32_t n, wire;
};

static void put(struct frame *f, const void *p, size_t n)
{
    memcpy(f->b + f->n, p, n);
    f->n += (uint32_t)n;
}

static void put16(struct frame *f, unsigned v)
{
    uint8_t b[2] = {(uint8_t)(v >> 8), (uint8_t)v};
    put(f, b, 2);
}

static void eth(struct frame *f, unsigned type)
{
    static const uint8_t macs[12] = {2, 0, 0, 0, 0, 1, 2, 0, 0, 0, 0, 2};
    put(f, macs, 12);
    put16(f, type);
}

static void ipv4(struct frame *f, unsigned proto, unsigned tot, unsigned frag)
{
    uint8_t h[20] = {0x45, 0, (uint8_t)(tot >> 8), (uint8_t)tot, 0, 1,
                     (uint8_t)(frag >> 8), (uint8_t)frag, 64, (uint8_t)proto, 0, 0,
                     10, 0, 0, 1, 192, 168, 1, 2};
    put(f, h, 20);
}

static void ipv6(struct frame *f, unsigned next, unsigned plen)
{
    uint8_t h[40] = {0x6a, 0xbc, 0xde, 0xf1, (uint8_t)(plen >> 8), (uint8_t)plen,
                     (uint8_t)next, 64};
    h[8] = 0x20;
    h[9] = 0x01;
    h[23] = 1;
    h[24] = 0xfe;
    h[25] = 0x80;
    h[39] = 2;
    put(f, h, 40);
}

static void tcp(struct frame *f, unsigned flags, unsigned off_words)
{
    uint8_t h[20] = {0x30, 0x39, 0, 80, 0, 0, 0, 1, 0, 0, 0, 2,
                     (uint8_t)(off_words << 4), (uint8_t)flags, 0xff, 0xff};
    put(f, h, 20);
}

static void udp(struct frame *f, unsigned len)
{
    uint8_t h[8] = {0x04, 0xd2, 0, 53, (uint8_t)(len >> 8), (uint8_t)len, 0, 0};
    put(f, h, 8);
}

#define NFRAMES 12
static struct frame frames[NFRAMES];

static void build_frames(void)
{
    struct frame *f = frames;
    memset(frames, 0, sizeof frames);
    /* 0: two VLAN tags (802.1ad then 802.1Q), IPv4, TCP SYN */
    eth(f, 0x88a8);
    put16(f, 0x2064); /* pcp 1, id 100 */
    put16(f, 0x8100);
    put16(f, 0x00c8); /* id 200 */
    put16(f, 0x0800);
    ipv4(f, 6, 40, 0);
    tcp(f, 0x02, 5);
    f++;
    /* 1: MPLS x2, IPv6, hop-by-hop, first fragment, UDP */
    eth(f, 0x8847);
    put(f, (uint8_t[]){0x00, 0x01, 0x40, 0x40}, 4); /* label 20 */
    put(f, (uint8_t[]){0x00, 0x02, 0x01, 0x40}, 4); /* label 32, bottom */
    ipv6(f, 0, 8 + 8 + 8);
    put(f, (uint8_t[]){44, 0, 0, 0, 0, 0, 0, 0}, 8);  /* hop-by-hop -> fragment */
    put(f, (uint8_t[]){17, 0, 0, 1, 0, 0, 0, 9}, 8);  /* offset 0, more fragments */
    udp(f, 8);
    f++;
    /* 2: 6in4: IPv4 protocol 41, IPv6, TCP ACK with 2 payload bytes */
    eth(f, 0x0800);
    ipv4(f, 41, 20 + 40 + 22, 0);
    ipv6(f, 6, 22);
    tcp(f, 0x10, 5);
    put16(f, 0xabcd);
    f++;
    /* 3: a non-first IPv4 fragment: ip.proto but no TCP */
    eth(f, 0x0800);
    ipv4(f, 6, 40, 0x0010);
    tcp(f, 0x02, 5);
    f++;
    /* 4: TCP cut short by the capture (wire length longer) */
    eth(f, 0x0800);
    ipv4(f, 6, 40, 0);
    tcp(f, 0x02, 5);
    f->n -= 8;
    f->wire = f->n + 8;
    f++;
    /* 5: TCP data offset past the segment: malformed */
    eth(f, 0x0800);
    ipv4(f, 6, 40, 0);
    tcp(f, 0x02, 15);
    f++;
    /* 6: IPv6, AH, ICMPv6 echo */
    eth(f, 0x86dd);
    ipv6(f, 51, 12 + 4);
    put(f, (uint8_t[]){58, 1, 0, 0, 0, 0, 0, 1, 0, 0, 0, 1}, 12); /* AH: (1 + 2) * 4 */
    put(f, (uint8_t[]){128, 0, 0, 0}, 4);
    f++;
    /* 7: 802.3 (a length, not a type): addresses only */
    eth(f, 0x0040);
    put(f, (uint8_t[]){0xaa, 0xaa, 3, 0, 0, 0}, 6);
    f++;
    /* 8: IPv4 total length beyond the frame: the wire length bounds it */
    eth(f, 0x0800);
    ipv4(f, 17, 1000, 0);
    udp(f, 980);
    f++;
    /* 9: IPv6 with a cut extension header: ipv6.* but no ip.proto */
    eth(f, 0x86dd);
    ipv6(f, 60, 16);
    put(f, (uint8_t[]){6, 3}, 2); /* claims 32 bytes */
    f++;
    /* 10: a truncated VLAN tag */
    eth(f, 0x8100);
    put16(f, 0x0005);
    f++;
    /* 11: ICMP in IPv4 with a bad IHL (4 words) */
    eth(f, 0x0800);
    ipv4(f, 1, 28, 0);
    f->b[14] = 0x44;
    put(f, (uint8_t[]){8, 0, 0, 0, 0, 0, 0, 0}, 8);
    for (int i = 0; i < NFRAMES; i++)
        if (!frames[i].wire)
            frames[i].wire = frames[i].n;
}

/* ---- running both ---- */

#define MAXROWS 4096
struct rows {
    char *v[MAXROWS];
    int n;
};

static void add_row(void *ctx, const struct ir_query *q, int64_t ws, int64_t we,
                    const hts_value *cols, int ncols)
{
    struct rows *r = ctx;
    char b[4096];
    assert_true(r->n < MAXROWS);
    size_t len = (size_t)snprintf(b, sizeof b, "%s %lld %lld", q->name, (long long)ws, (long long)we);
    for (int i = 0; i < ncols && len < 4000; i++) {
        b[len++] = ' ';
        len += (size_t)hts_value_json(&cols[i], b + len, sizeof b - len);
    }
    r->v[r->n] = strdup(b);
    assert_non_null(r->v[r->n]);
    r->n++;
}

static void clear(struct rows *r)
{
    for (int i = 0; i < r->n; i++)
        free(r->v[i]);
    r->n = 0;
}

static struct ir_program *load(struct arena *ar, struct src_file **src, const char *text)
{
    struct diag d;
    diag_init(&d);
    *src = src_from_string("test.htq", text, strlen(text));
    struct ast_file *f = NULL;
    struct ir_program *p = NULL;
    if (ast_parse(ar, &d, *src, &f) == 0)
        p = sema_build(ar, &d, &f, 1, NULL, 0);
    diag_print(&d, stderr);
    diag_free(&d);
    return p;
}

/* Runs pk through the executor and through the JIT engine (bursts of
 * `burst`, tables of `limit` entries); both row lists must be equal. */
static void both(const char *text, const struct jit_pkt *pk, int n, uint32_t burst,
                 uint32_t limit, struct rows *want, struct rows *got, bool expect_jit)
{
    struct arena ar = {0};
    struct src_file *src;
    struct ir_program *p = load(&ar, &src, text);
    assert_non_null(p);
    char err[256];
    struct jit_opts o = {.linktype = HTS_DLT_EN10MB, .table_limit = limit};
    struct jit_prog *jp = jit_compile(p, &o, err, sizeof err);
    assert_non_null(jp);
    for (int q = 0; expect_jit && q < p->nqueries; q++) {
        const char *why;
        assert_true(jit_covers(jp, q, &why));
    }
    clear(want);
    clear(got);
    struct exec *x = exec_new(p, add_row, want);
    struct hts_pkt pkt;
    for (int i = 0; i < n; i++) {
        hts_decode(&pkt, pk[i].data, pk[i].caplen, pk[i].wirelen, pk[i].ts, pk[i].port,
                   HTS_DLT_EN10MB, NULL);
        exec_packet(x, &pkt);
    }
    exec_finish(x);
    exec_free(x);
    x = exec_new(p, add_row, got);
    struct eng *e = eng_new_jit(jp, x, add_row, got, NULL);
    assert_non_null(e);
    for (int i = 0; i < n; i += (int)burst)
        eng_burst(e, pk + i, (uint32_t)(n - i < (int)burst ? n - i : (int)burst));
    eng_finish(e);
    eng_free(e);
    exec_free(x);
    assert_int_equal(want->n, got->n);
    for (int i = 0; i < want->n; i++)
        assert_string_equal(want->v[i], got->v[i]);
    jit_free(jp);
    src_free(src);
    arena_free(&ar);
}

static void test_fields(void **state)
{
    (void)state;
    static struct rows want, got;
    struct jit_pkt pk[NFRAMES];
    build_frames();
    for (int i = 0; i < NFRAMES; i++)
        pk[i] = (struct jit_pkt){.data = frames[i].b, .caplen = frames[i].n,
                                 .wirelen = frames[i].wire, .ts = 1000 + (uint64_t)i};
    for (uint32_t burst = 1; burst <= 13; burst += 4)
        both(fields_query, pk, NFRAMES, burst, 0, &want, &got, true);
    assert_int_equal(got.n, NFRAMES);
    if (getenv("TEST_JIT_PRINT"))
        for (int i = 0; i < got.n; i++)
            printf("%d: %s\n", i, got.v[i]);
    /* by hand: the VLAN stack, MPLS, 6in4, the fragment, 802.3 */
    assert_non_null(strstr(got.v[0], " 100 1 200 2 "));                /* id pcp inner depth */
    assert_non_null(strstr(got.v[1], " 20 2 "));                       /* mpls label, depth */
    assert_non_null(strstr(got.v[1], " 1 17 null null null null null 1234 8 ")); /* frag, udp */
    assert_non_null(strstr(got.v[2], " 41 \"10.0.0.1\""));             /* ipv4.proto */
    assert_non_null(strstr(got.v[2], " 0 6 12345 80 20 16 2 null"));      /* via 6in4 */
    assert_non_null(strstr(got.v[3], " 6 \"10.0.0.1\""));
    assert_non_null(strstr(got.v[3], "null 6 null null"));             /* ip.proto, no tcp */
    assert_non_null(strstr(got.v[7], "\"02:00:00:00:00:02\" \"02:00:00:00:00:01\" null"));
    clear(&want);
    clear(&got);
}

static void test_windows(void **state)
{
    (void)state;
    static struct rows want, got;
    static const char q[] =
        "query g window 10us every 5us {\n"
        "  packets | groupby ipv4.src, p = tcp.dport aggregate n = count(), s = sum(ipv4.len),\n"
        "    lo = min(tcp.flags), hi = max(ipv4.dst), a = avg(tcp.payload_len)\n"
        "}\n"
        "query d window 7us { packets | distinct ipv4.dst, tcp.flags | groupby ipv4.dst aggregate n = count() }\n"
        "query h window 4us { packets | histogram ipv4.len buckets 30, 41, 1000 }\n"
        "query f window 6us {\n"
        "  packets | fold by ipv4.src state n = 0, first = 0 {\n"
        "    if n == 0 {\n"
        "      first = meta.ts\n"
        "    }\n"
        "    n = n + 1\n"
        "    emit\n"
        "  }\n"
        "}\n";
    struct jit_pkt pk[200];
    build_frames();
    for (int i = 0; i < 200; i++) {
        const struct frame *f = &frames[i % 6];
        /* time goes forward 0-2 us a packet, sometimes back (late) */
        uint64_t ts = 1000000 + (uint64_t)i * 1000 + (uint64_t)(i % 3) * 700;
        if (i % 17 == 0)
            ts -= 9000;
        pk[i] = (struct jit_pkt){.data = f->b, .caplen = f->n, .wirelen = f->wire, .ts = ts};
    }
    for (uint32_t limit = 1; limit <= 64; limit *= 4)
        both(q, pk, 200, 7, limit, &want, &got, true);
    assert_true(got.n > 20);
    clear(&want);
    clear(&got);
}

static void test_coverage(void **state)
{
    (void)state;
    struct arena ar = {0};
    struct src_file *src;
    struct ir_program *p = load(&ar, &src,
        "query a window 1s {\n"
        "  packets | fold by ipv4.src state n = 0 { n = n + 1 } close { n = 0 }\n"
        "}\n"
        "query b { packets | export dns.qname }\n"
        "query c { packets | filter dns.qname endswith \".com\" | export ipv4.src }\n");
    assert_non_null(p);
    char err[256];
    struct jit_prog *jp = jit_compile(p, NULL, err, sizeof err);
    assert_non_null(jp);
    const char *why;
    assert_true(jit_covers(jp, 0, &why)); /* the close block runs in the executor */
    assert_non_null(strstr(why, "fold"));
    assert_false(jit_covers(jp, 1, &why));
    assert_non_null(strstr(why, "string"));
    assert_true(jit_covers(jp, 2, &why));
    assert_non_null(strstr(why, "dns.qname"));
    assert_int_equal(jit_ncovered(jp), 2);
    jit_free(jp);
    src_free(src);
    arena_free(&ar);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_fields),
        cmocka_unit_test(test_windows),
        cmocka_unit_test(test_coverage),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
