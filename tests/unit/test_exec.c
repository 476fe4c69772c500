/*
 * test_exec.c - the reference executor (exec/exec.c) on hand-built packets.
 *
 * Frames are built byte by byte (Ethernet + IPv4 + TCP or UDP, and IPv6 + UDP)
 * with chosen addresses, ports, flags, lengths and timestamps, decoded with
 * hts_decode and fed to exec_packet; every row the callback receives is kept
 * as text ("query ws..we: col, col", absent shown as '-') and compared
 * exactly. Covered: tumbling windows aligned to multiples of their length
 * since the epoch (a packet at a window's end opens the next one), hopping
 * windows (each packet in W/H windows), when windows close (a packet at or
 * after the end, or exec_finish), late packets, the sorted row order,
 * groupby count/sum/min/max/avg (integer division) and absent inputs,
 * absent keys skipped and counted, distinct, three-valued filter logic,
 * inner and left joins (of groupbys and of per-packet tuples), fold with
 * state and emit, histogram buckets, per-packet export rows, 1-in-N sampling
 * by exec_sample_hash, prefix masks, `in` with sets, prefixes and ranges,
 * division by zero, two's-complement wrap, string tests, fold close blocks,
 * coalesce/present, exec_eval, the statistics, and two partial workers
 * merged into a main executor giving the single executor's rows.
 *
 * Regression tests of bugs these tests found (since fixed) come last.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "exec.h"
#include "parse.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <errno.h>
#include <string.h>

/* ---- frames ---- */

struct pk {
    const char *src, *dst; /* dotted quads; default 10.0.0.1 -> 10.0.0.2 */
    uint16_t sport, dport;
    bool udp;
    uint8_t flags;      /* TCP flags */
    uint16_t payload;   /* payload bytes (filled from `data`, then 'x') */
    const char *data;
    int64_t ts;         /* ns since the epoch */
};

static uint32_t ip4(const char *s)
{
    struct in_addr a;
    assert_int_equal(inet_pton(AF_INET, s, &a), 1);
    return ntohl(a.s_addr);
}

static void put16(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 8);
    p[1] = (uint8_t)v;
}

static void put32(uint8_t *p, uint32_t v)
{
    put16(p, v >> 16);
    put16(p + 2, v & 0xffff);
}

/* Ethernet + IPv4 + TCP/UDP + payload into buf; returns the frame length. */
static uint32_t build_frame(uint8_t *buf, size_t cap, const struct pk *p)
{
    uint32_t l4 = p->udp ? 8 : 20;
    uint32_t len = 14 + 20 + l4 + p->payload;
    assert_true(len <= cap);
    memset(buf, 0, len);
    const uint8_t dmac[6] = {0x02, 0, 0, 0, 0, 0x02}, smac[6] = {0x02, 0, 0, 0, 0, 0x01};
    memcpy(buf, dmac, 6);
    memcpy(buf + 6, smac, 6);
    put16(buf + 12, 0x0800);
    uint8_t *ip = buf + 14;
    ip[0] = 0x45;
    put16(ip + 2, 20 + l4 + p->payload);
    put16(ip + 4, 0x1234);
    ip[8] = 64;
    ip[9] = p->udp ? 17 : 6;
    put32(ip + 12, ip4(p->src ? p->src : "10.0.0.1"));
    put32(ip + 16, ip4(p->dst ? p->dst : "10.0.0.2"));
    uint32_t sum = 0;
    for (int i = 0; i < 20; i += 2)
        sum += (uint32_t)(ip[i] << 8 | ip[i + 1]);
    while (sum >> 16)
        sum = (sum & 0xffff) + (sum >> 16);
    put16(ip + 10, ~sum & 0xffff);
    uint8_t *t = ip + 20;
    put16(t, p->sport);
    put16(t + 2, p->dport);
    if (p->udp) {
        put16(t + 4, 8 + p->payload);
    } else {
        put32(t + 4, 1000);
        t[12] = 5 << 4;
        t[13] = p->flags;
        put16(t + 14, 65535);
    }
    uint8_t *pl = t + l4;
    size_t dn = p->data ? strlen(p->data) : 0;
    for (uint32_t i = 0; i < p->payload; i++)
        pl[i] = i < dn ? (uint8_t)p->data[i] : 'x';
    return len;
}

/* Ethernet + IPv6 + UDP, no payload */
static uint32_t build_frame6(uint8_t *buf, const char *src, const char *dst)
{
    memset(buf, 0, 62);
    buf[0] = 0x02;
    buf[6] = 0x02;
    put16(buf + 12, 0x86dd);
    uint8_t *ip = buf + 14;
    ip[0] = 0x60;
    put16(ip + 4, 8);
    ip[6] = 17;
    ip[7] = 64;
    assert_int_equal(inet_pton(AF_INET6, src, ip + 8), 1);
    assert_int_equal(inet_pton(AF_INET6, dst, ip + 24), 1);
    put16(ip + 40, 1111);
    put16(ip + 42, 2222);
    put16(ip + 44, 8);
    return 62;
}

/* ---- running queries ---- */

#define MAXROWS 512

struct run {
    struct arena arena;
    struct diag d;
    struct src_file *src;
    struct ir_program *p;
    struct exec *x;
    char *rows[MAXROWS];
    int64_t ws[MAXROWS], we[MAXROWS];
    int n;
};

static void on_row(void *ctx, const struct ir_query *q, int64_t ws, int64_t we,
                   const hts_value *cols, int ncols)
{
    struct run *r = ctx;
    assert_true(r->n < MAXROWS);
    assert_int_equal(ncols, q->root->ncols);
    char buf[1024];
    size_t len = (size_t)snprintf(buf, sizeof buf, "%s %lld..%lld:", q->name,
                                  (long long)ws, (long long)we);
    for (int i = 0; i < ncols; i++) {
        char v[256];
        if (!cols[i].present)
            snprintf(v, sizeof v, "-");
        else
            hts_value_text(&cols[i], v, sizeof v);
        /* a column's value has the column's type */
        assert_int_equal(cols[i].type, q->root->cols[i].type);
        len += (size_t)snprintf(buf + len, sizeof buf - len, "%s %s",
                                i ? "," : "", v);
        assert_true(len < sizeof buf);
    }
    r->ws[r->n] = ws;
    r->we[r->n] = we;
    r->rows[r->n++] = strdup(buf);
}

static void start(struct run *r, const char *text)
{
    memset(r, 0, sizeof *r);
    diag_init(&r->d);
    r->src = src_from_string("x.htq", text, strlen(text));
    struct ast_file *f = NULL;
    if (ast_parse(&r->arena, &r->d, r->src, &f) == 0)
        r->p = sema_build(&r->arena, &r->d, &f, 1, NULL, 0);
    if (r->d.errors)
        fail_msg("error %d:%d: %s", r->d.msgs[0].loc.line, r->d.msgs[0].loc.col,
                 r->d.msgs[0].text);
    assert_non_null(r->p);
    r->x = exec_new(r->p, on_row, r);
    assert_non_null(r->x);
}

static void feed_bytes(struct run *r, const uint8_t *frame, uint32_t len, int64_t ts)
{
    struct hts_pkt pkt;
    assert_int_equal(hts_decode(&pkt, frame, len, len, (uint64_t)ts, 1,
                                HTS_DLT_EN10MB, NULL), 0);
    exec_packet(r->x, &pkt);
}

static void feed(struct run *r, struct pk p)
{
    uint8_t buf[2048];
    uint32_t len = build_frame(buf, sizeof buf, &p);
    feed_bytes(r, buf, len, p.ts);
}

static void stop(struct run *r)
{
    exec_free(r->x);
    for (int i = 0; i < r->n; i++)
        free(r->rows[i]);
    diag_free(&r->d);
    src_free(r->src);
    arena_free(&r->arena);
}

/* The rows so far are exactly want[0..n), in order. */
static void expect_rows(const struct run *r, const char *const *want, int n)
{
    for (int i = 0; i < r->n || i < n; i++) {
        const char *got = i < r->n ? r->rows[i] : "(none)";
        const char *w = i < n ? want[i] : "(none)";
        if (strcmp(got, w) != 0) {
            for (int k = 0; k < r->n; k++)
                print_message("  row %d: %s\n", k, r->rows[k]);
            fail_msg("row %d is '%s', want '%s'", i, got, w);
        }
    }
}

#define EXPECT_ROWS(r, ...)                                                    \
    do {                                                                       \
        const char *const want_[] = {__VA_ARGS__};                             \
        expect_rows((r), want_, (int)(sizeof want_ / sizeof want_[0]));        \
    } while (0)

#define US 1000LL
#define SEC 1000000000LL

/* ---- the helpers themselves ---- */

static void test_sample_hash_vectors(void **state)
{
    /* CRC-32 (zlib's crc32) of the timestamp's 8 bytes, big-endian */
    assert_int_equal(exec_sample_hash(0), 0x6522df69u);
    assert_int_equal(exec_sample_hash(0x0102030405060708ULL), 0x3fca88c5u);
    assert_int_equal(exec_sample_hash(1700000000123456789ULL), 0x52a52312u);
}

static void test_frame_builder(void **state)
{
    uint8_t buf[256];
    struct pk p = {.src = "192.168.1.7", .dst = "10.9.8.7", .sport = 1234,
                   .dport = 80, .flags = 0x12, .payload = 5, .data = "hello"};
    uint32_t len = build_frame(buf, sizeof buf, &p);
    assert_int_equal(len, 14 + 20 + 20 + 5);
    struct hts_pkt pkt;
    struct hts_decode_stats st = {0};
    assert_int_equal(hts_decode(&pkt, buf, len, len, 77, 1, HTS_DLT_EN10MB, &st), 0);
    for (int i = 0; i < DEC__COUNT; i++)
        assert_true(st.errors[i] == 0);
    hts_value v = hts_pkt_value(&pkt, FLD_IPV4_SRC);
    assert_int_equal(v.u.ip4, 0xc0a80107u);
    assert_true(hts_pkt_value(&pkt, FLD_TCP_DPORT).u.i == 80);
    assert_true(hts_pkt_value(&pkt, FLD_TCP_SPORT).u.i == 1234);
    assert_true(hts_pkt_value(&pkt, FLD_TCP_FLAGS).u.i == 0x12);
    assert_true(hts_pkt_value(&pkt, FLD_IPV4_LEN).u.i == 45);
    assert_true(hts_pkt_value(&pkt, FLD_META_TS).u.i == 77);
    assert_int_equal(hts_pkt_value(&pkt, FLD_UDP_DPORT).present, 0);
    v = hts_pkt_value(&pkt, FLD_PAYLOAD);
    assert_int_equal(v.u.s.n, 5);
    assert_memory_equal(v.u.s.p, "hello", 5);

    p.udp = true;
    len = build_frame(buf, sizeof buf, &p);
    assert_int_equal(hts_decode(&pkt, buf, len, len, 0, 1, HTS_DLT_EN10MB, &st), 0);
    assert_true(hts_pkt_value(&pkt, FLD_UDP_DPORT).u.i == 80);
    assert_int_equal(hts_pkt_value(&pkt, FLD_TCP_DPORT).present, 0);
    assert_true(hts_pkt_value(&pkt, FLD_IPV4_LEN).u.i == 33);
}

/* ---- windows ---- */

static void test_tumbling_window(void **state)
{
    struct run r;
    start(&r, "query c window 10us { packets | groupby ipv4.dst aggregate n = count() }");
    feed(&r, (struct pk){.dport = 1, .ts = 12 * US});
    feed(&r, (struct pk){.dport = 1, .ts = 15 * US});
    feed(&r, (struct pk){.dport = 1, .ts = 20 * US - 1});
    assert_int_equal(r.n, 0);
    /* exactly at the window's end: closes [10, 20) and opens [20, 30) */
    feed(&r, (struct pk){.dport = 1, .ts = 20 * US});
    EXPECT_ROWS(&r, "c 10000..20000: 10.0.0.2, 3");
    feed(&r, (struct pk){.dport = 1, .ts = 35 * US});
    EXPECT_ROWS(&r, "c 10000..20000: 10.0.0.2, 3", "c 20000..30000: 10.0.0.2, 1");
    exec_finish(r.x);
    EXPECT_ROWS(&r, "c 10000..20000: 10.0.0.2, 3", "c 20000..30000: 10.0.0.2, 1",
                "c 30000..40000: 10.0.0.2, 1");
    const struct exec_stats *st = exec_stats(r.x);
    assert_int_equal(st->packets, 5);
    assert_int_equal(st->rows, 3);
    assert_int_equal(st->windows, 3);
    assert_int_equal(st->late, 0);
    /* nothing is left to close */
    exec_finish(r.x);
    assert_int_equal(r.n, 3);
    stop(&r);
}

/* A live change (exec_add_version): from window 20us on the query runs with
 * threshold 2 instead of 3; records of earlier windows stay with the first
 * version, even when they come after the change (a row of an open window). */
static void test_version(void **state)
{
    (void)state;
    const char *text = "query c(t = 3) window 10us { packets | groupby ipv4.dst "
                       "aggregate n = count() | filter n >= t }";
    struct run r, r2;
    start(&r, text);
    struct ir_override ov = {.query = "c", .name = "t", .value = hts_int(2)};
    memset(&r2, 0, sizeof r2);
    diag_init(&r2.d);
    r2.src = src_from_string("x.htq", text, strlen(text));
    struct ast_file *f = NULL;
    assert_int_equal(ast_parse(&r2.arena, &r2.d, r2.src, &f), 0);
    r2.p = sema_build(&r2.arena, &r2.d, &f, 1, &ov, 1);
    assert_non_null(r2.p);
    char err[200];
    /* a start that is not a window's, or another program shape: refused */
    assert_int_equal(exec_add_version(r.x, r2.p, 0, 25 * US, err, sizeof err), -EINVAL);
    assert_int_equal(exec_add_version(r.x, r2.p, 1, 20 * US, err, sizeof err), -EINVAL);
    assert_int_equal(exec_add_version(r.x, r2.p, 0, 20 * US, err, sizeof err), 0);
    assert_int_equal(exec_add_version(r.x, r2.p, 0, 20 * US, err, sizeof err), -EINVAL);
    uint8_t buf[2048];
    int64_t times[] = {1, 2, 11, 12, 21, 22, 31, 32, 33};
    for (size_t i = 0; i < sizeof times / sizeof times[0]; i++) {
        uint32_t len = build_frame(buf, sizeof buf, &(struct pk){.dport = 1});
        struct hts_pkt pkt;
        assert_int_equal(hts_decode(&pkt, buf, len, len, (uint64_t)(times[i] * US), 1,
                                    HTS_DLT_EN10MB, NULL), 0);
        exec_feed(r.x, 0, 0, &pkt, NULL, times[i] * US);
    }
    exec_finish(r.x);
    /* 2 a window until 30us: no row with 3, a row with 2 from 20us on */
    EXPECT_ROWS(&r, "c 20000..30000: 10.0.0.2, 2", "c 30000..40000: 10.0.0.2, 3");
    assert_int_equal(exec_stats(r.x)->rows, 2);
    assert_int_equal(exec_stats(r.x)->packets, 9);
    stop(&r);
    arena_free(&r2.arena);
    diag_free(&r2.d);
    src_free(r2.src);
}

static void test_window_alignment_epoch(void **state)
{
    /* windows start at multiples of their length since the epoch, whatever
     * the first packet's time */
    const int64_t ts = 1700000000123456789LL;
    const char *srcs[] = {
        "query c window 1s { packets | distinct ipv4.dst }",
        "query c window 7s { packets | distinct ipv4.dst }",
        "query c window 1m { packets | distinct ipv4.dst }",
        "query c window 333ms { packets | distinct ipv4.dst }",
    };
    const int64_t lens[] = {SEC, 7 * SEC, 60 * SEC, 333000000LL};
    for (int i = 0; i < 4; i++) {
        struct run r;
        start(&r, srcs[i]);
        feed(&r, (struct pk){.ts = ts});
        exec_finish(r.x);
        assert_int_equal(r.n, 1);
        assert_true(r.ws[0] == ts - ts % lens[i]);
        assert_true(r.we[0] == r.ws[0] + lens[i]);
        stop(&r);
    }
}

static void test_hopping_window(void **state)
{
    struct run r;
    start(&r, "query h window 4us every 1us { packets | groupby ipv4.dst aggregate n = count() }");
    feed(&r, (struct pk){.ts = 10500});
    assert_int_equal(r.n, 0);
    feed(&r, (struct pk){.ts = 12000});
    /* the packet at 12us closed the windows ending at 11us and 12us */
    EXPECT_ROWS(&r, "h 7000..11000: 10.0.0.2, 1", "h 8000..12000: 10.0.0.2, 1");
    exec_finish(r.x);
    EXPECT_ROWS(&r, "h 7000..11000: 10.0.0.2, 1", "h 8000..12000: 10.0.0.2, 1",
                "h 9000..13000: 10.0.0.2, 2", "h 10000..14000: 10.0.0.2, 2",
                "h 11000..15000: 10.0.0.2, 1", "h 12000..16000: 10.0.0.2, 1");
    assert_int_equal(exec_stats(r.x)->windows, 6);
    stop(&r);

    /* one packet lands in W/H windows */
    start(&r, "query h window 6us every 2us { packets | distinct ipv4.src }");
    feed(&r, (struct pk){.ts = 101 * US});
    exec_finish(r.x);
    EXPECT_ROWS(&r, "h 96000..102000: 10.0.0.1", "h 98000..104000: 10.0.0.1",
                "h 100000..106000: 10.0.0.1");
    stop(&r);
}

static void test_late_packets(void **state)
{
    struct run r;
    start(&r, "query c window 10us { packets | groupby ipv4.dst aggregate n = count() }");
    feed(&r, (struct pk){.ts = 25 * US});
    feed(&r, (struct pk){.ts = 5 * US});  /* [0, 10) ended before 25us: late */
    feed(&r, (struct pk){.ts = 21 * US}); /* out of order but its window is open */
    exec_finish(r.x);
    EXPECT_ROWS(&r, "c 20000..30000: 10.0.0.2, 2");
    const struct exec_stats *st = exec_stats(r.x);
    assert_int_equal(st->late, 1);
    assert_int_equal(st->packets, 3);
    assert_int_equal(st->windows, 1);
    stop(&r);

    /* hopping: a packet late for some of its windows counts once and still
     * reaches the open ones */
    start(&r, "query h window 4us every 1us { packets | distinct ipv4.dst }");
    feed(&r, (struct pk){.ts = 10 * US});
    int before = r.n;
    assert_int_equal(before, 0);
    feed(&r, (struct pk){.dst = "10.0.0.99", .ts = 7500});
    assert_int_equal(exec_stats(r.x)->late, 1);
    exec_finish(r.x);
    EXPECT_ROWS(&r, "h 7000..11000: 10.0.0.2",
                "h 7000..11000: 10.0.0.99", "h 8000..12000: 10.0.0.2",
                "h 9000..13000: 10.0.0.2", "h 10000..14000: 10.0.0.2");
    stop(&r);
}

static void test_rows_sorted(void **state)
{
    struct run r;
    start(&r, "query a window 10us { packets | groupby tcp.dport aggregate n = count() }\n"
              "query b window 10us { packets | distinct ipv4.src }");
    const uint16_t ports[] = {300, 20, 1000, 20, 5};
    const char *srcs[] = {"10.0.0.10", "10.0.0.2", "9.255.255.255", "10.0.0.2", "200.0.0.1"};
    for (int i = 0; i < 5; i++)
        feed(&r, (struct pk){.src = srcs[i], .dport = ports[i], .ts = 1 * US + i});
    exec_finish(r.x);
    /* rows by key order (numeric, not text), then query order for one window */
    EXPECT_ROWS(&r, "a 0..10000: 5, 1", "a 0..10000: 20, 2", "a 0..10000: 300, 1",
                "a 0..10000: 1000, 1", "b 0..10000: 9.255.255.255",
                "b 0..10000: 10.0.0.2", "b 0..10000: 10.0.0.10",
                "b 0..10000: 200.0.0.1");
    stop(&r);

    /* an earlier-ending window of any query comes first */
    start(&r, "query long window 20us { packets | distinct ipv4.src }\n"
              "query short window 5us { packets | distinct ipv4.src }");
    feed(&r, (struct pk){.ts = 1 * US});
    exec_finish(r.x);
    EXPECT_ROWS(&r, "short 0..5000: 10.0.0.1", "long 0..20000: 10.0.0.1");
    stop(&r);
}

/* ---- groupby, distinct, absent values ---- */

static void test_groupby_aggregates(void **state)
{
    struct run r;
    start(&r, "query g window 10us { packets | groupby ipv4.src aggregate n = count(), "
              "s = sum(tcp.dport), lo = min(tcp.dport), hi = max(tcp.dport), "
              "a = avg(tcp.dport), m = min(ipv4.dst), x = max(ipv4.dst), "
              "neg = avg(0 - tcp.dport) }");
    feed(&r, (struct pk){.src = "10.0.0.1", .dst = "10.0.0.30", .dport = 2, .ts = 1});
    feed(&r, (struct pk){.src = "10.0.0.1", .dst = "10.0.0.4", .dport = 1, .ts = 2});
    feed(&r, (struct pk){.src = "10.0.0.1", .dst = "10.0.0.200", .dport = 2, .ts = 3});
    /* UDP: no tcp.dport, so only count() and the ipv4 aggregates see it */
    feed(&r, (struct pk){.src = "10.0.0.9", .udp = true, .dport = 7, .ts = 4});
    feed(&r, (struct pk){.src = "10.0.0.9", .udp = true, .dport = 7, .ts = 5});
    exec_finish(r.x);
    EXPECT_ROWS(&r, "g 0..10000: 10.0.0.1, 3, 5, 1, 2, 1, 10.0.0.4, 10.0.0.200, -1",
                "g 0..10000: 10.0.0.9, 2, -, -, -, -, 10.0.0.2, 10.0.0.2, -");
    stop(&r);
}

static void test_absent_keys(void **state)
{
    struct run r;
    start(&r, "query g window 10us { packets | groupby tcp.dport aggregate n = count() }\n"
              "query d window 10us { packets | distinct udp.dport, ipv4.src }");
    feed(&r, (struct pk){.udp = true, .dport = 7, .ts = 1});
    feed(&r, (struct pk){.udp = true, .dport = 7, .ts = 2});
    feed(&r, (struct pk){.dport = 80, .ts = 3});
    exec_finish(r.x);
    EXPECT_ROWS(&r, "g 0..10000: 80, 1", "d 0..10000: 7, 10.0.0.1");
    /* two UDP packets lack tcp.dport, one TCP packet lacks udp.dport */
    assert_int_equal(exec_stats(r.x)->absent_keys, 3);
    stop(&r);
}

static void test_distinct(void **state)
{
    struct run r;
    start(&r, "query d window 10us { packets | distinct ipv4.src, tcp.dport }");
    const char *srcs[] = {"10.0.0.3", "10.0.0.1", "10.0.0.3", "10.0.0.1", "10.0.0.3"};
    const uint16_t ports[] = {80, 443, 80, 22, 22};
    for (int i = 0; i < 5; i++)
        feed(&r, (struct pk){.src = srcs[i], .dport = ports[i], .ts = i});
    exec_finish(r.x);
    EXPECT_ROWS(&r, "d 0..10000: 10.0.0.1, 22", "d 0..10000: 10.0.0.1, 443",
                "d 0..10000: 10.0.0.3, 22", "d 0..10000: 10.0.0.3, 80");
    stop(&r);
}

static void test_batch_operators(void **state)
{
    /* operators after a stateful one run over the window's rows */
    struct run r;
    start(&r, "query f window 10us { packets | groupby ipv4.src, ipv4.dst aggregate n = count()\n"
              "  | groupby ipv4.src aggregate fanout = count(), total = sum(n)\n"
              "  | filter fanout >= 2 | map ipv4.src, avg = total / fanout\n"
              "  | distinct avg }");
    feed(&r, (struct pk){.src = "1.1.1.1", .dst = "2.2.2.1", .ts = 1});
    feed(&r, (struct pk){.src = "1.1.1.1", .dst = "2.2.2.2", .ts = 2});
    feed(&r, (struct pk){.src = "1.1.1.1", .dst = "2.2.2.2", .ts = 3});
    feed(&r, (struct pk){.src = "1.1.1.1", .dst = "2.2.2.2", .ts = 4});
    feed(&r, (struct pk){.src = "3.3.3.3", .dst = "2.2.2.1", .ts = 5});
    feed(&r, (struct pk){.src = "4.4.4.4", .dst = "2.2.2.1", .ts = 6});
    feed(&r, (struct pk){.src = "4.4.4.4", .dst = "2.2.2.3", .ts = 7});
    exec_finish(r.x);
    /* 1.1.1.1: fanout 2, total 4 -> 2; 4.4.4.4: fanout 2, total 2 -> 1 */
    EXPECT_ROWS(&r, "f 0..10000: 1", "f 0..10000: 2");
    stop(&r);
}

/* ---- filters ---- */

static void test_filter_three_valued(void **state)
{
    struct run r;
    start(&r, "query a { packets | filter not (tcp.dport == 22) | export p = ipv4.len }\n"
              "query b { packets | filter tcp.dport == 22 or udp.dport == 9999 | export p = ipv4.len }\n"
              "query c { packets | filter not (tcp.dport == 22 and udp.dport == 1) | export p = ipv4.len }\n"
              "query d { packets | filter tcp.dport != 22 | export p = ipv4.len }");
    /* lengths tell the packets apart: 40 tcp/22, 41 tcp/80, 30 udp/9999 */
    feed(&r, (struct pk){.dport = 22, .payload = 0, .ts = 1});
    feed(&r, (struct pk){.dport = 80, .payload = 1, .ts = 2});
    feed(&r, (struct pk){.udp = true, .dport = 9999, .payload = 2, .ts = 3});
    exec_finish(r.x);
    EXPECT_ROWS(&r,
                /* ts 1: tcp/22 */
                "b 1..1: 40",
                /* ts 2: tcp/80 */
                "a 2..2: 41", "c 2..2: 41", "d 2..2: 41",
                /* ts 3: udp: tcp.dport is absent, so == and != are unknown,
                 * `not unknown` is unknown, `unknown or true` is true and
                 * `unknown and false` is false */
                "b 3..3: 30", "c 3..3: 30");
    stop(&r);
}

static void test_in_sets_prefixes_ranges(void **state)
{
    struct run r;
    start(&r, "query q { packets | map a = tcp.dport in {22, 80}, "
              "b = ipv4.dst in 10.0.0.0/8, c = ipv4.dst in {192.168.0.0/16, 1.2.3.4}, "
              "d = tcp.dport in 1000..2000, e = tcp.dport not in {80}, "
              "f = ipv4.dst in 0.0.0.0/0 }");
    feed(&r, (struct pk){.dst = "10.9.9.9", .dport = 80, .ts = 1});
    feed(&r, (struct pk){.dst = "192.168.5.5", .dport = 1000, .ts = 2});
    feed(&r, (struct pk){.dst = "1.2.3.4", .dport = 2000, .ts = 3});
    feed(&r, (struct pk){.dst = "11.0.0.0", .dport = 2001, .ts = 4});
    feed(&r, (struct pk){.dst = "1.2.3.5", .udp = true, .dport = 80, .ts = 5});
    exec_finish(r.x);
    EXPECT_ROWS(&r, "q 1..1: true, true, false, false, false, true",
                "q 2..2: false, false, true, true, true, true",
                "q 3..3: false, false, true, true, true, true",
                "q 4..4: false, false, false, false, true, true",
                "q 5..5: -, false, false, -, -, true");
    stop(&r);
}

static void test_in_set_of_constant_expressions(void **state)
{
    /* sema accepts any constant expression as a set element: {79 + 1},
     * {-1}, {P + 1} for a parameter P */
    struct run r;
    start(&r, "query q(p = 21) { packets | map a = tcp.dport in {79 + 1}, "
              "b = tcp.dport in {p + 1}, c = 0 - tcp.dport in {-80}, "
              "d = tcp.flags in {SYN|ACK} }");
    feed(&r, (struct pk){.dport = 80, .flags = 0x12, .ts = 1});
    feed(&r, (struct pk){.dport = 22, .flags = 0x10, .ts = 2});
    exec_finish(r.x);
    EXPECT_ROWS(&r, "q 1..1: true, false, true, true", "q 2..2: false, true, false, false");
    stop(&r);
}

static void test_prefix_mask(void **state)
{
    struct run r;
    start(&r, "query m { packets | map a = ipv4.dst / 16, b = ipv4.dst / 0, "
              "c = ipv4.dst / 32, d = ipv4.dst / 31, e = ipv4.dst / 16 == 10.1.0.0 }\n"
              "query v { packets | map a = ipv6.src / 48, b = ipv6.src / 0, "
              "c = ipv6.src / 127, d = ipv6.src in 2001:db8::/32, "
              "e = ipv6.src / 12 }");
    feed(&r, (struct pk){.dst = "10.1.2.3", .ts = 1});
    uint8_t f6[64];
    uint32_t len = build_frame6(f6, "2001:db8:aaaa:bbbb::ffff", "::1");
    feed_bytes(&r, f6, len, 2);
    exec_finish(r.x);
    /* each query makes a row for each packet: the other family's are absent */
    EXPECT_ROWS(&r, "m 1..1: 10.1.0.0, 0.0.0.0, 10.1.2.3, 10.1.2.2, true",
                "v 1..1: -, -, -, -, -", "m 2..2: -, -, -, -, -",
                "v 2..2: 2001:db8:aaaa::, ::, 2001:db8:aaaa:bbbb::fffe, true, 2000::");
    stop(&r);
}

static void test_division_by_zero(void **state)
{
    struct run r;
    start(&r, "query q { packets | map a = tcp.dport / (tcp.sport - tcp.sport), "
              "b = tcp.dport % 0, c = tcp.dport / 7, d = (0 - tcp.dport) / 7, "
              "e = (0 - tcp.dport) % 7, "
              "f = (-9223372036854775807 - tcp.sport) / (0 - tcp.sport), "
              "g = (-9223372036854775807 - tcp.sport) % (0 - tcp.sport) }");
    feed(&r, (struct pk){.sport = 1, .dport = 100, .ts = 1});
    exec_finish(r.x);
    /* INT64_MIN / -1 has no value either */
    EXPECT_ROWS(&r, "q 1..1: -, -, 14, -14, -2, -, -");
    stop(&r);
}

static void test_integer_wrap(void **state)
{
    struct run r;
    start(&r, "query q { packets | map a = 9223372036854775807 + tcp.dport, "
              "b = -9223372036854775807 - tcp.dport - tcp.dport, "
              "c = 4611686018427387904 * tcp.dport, "
              "d = -(0 - 9223372036854775807 - tcp.dport + 1), "
              "e = abs(-9223372036854775807 - tcp.dport + 1) }\n"
              "query s window 10us { packets | groupby ipv4.src aggregate "
              "t = sum(tcp.dport * 4611686018427387904) }");
    feed(&r, (struct pk){.dport = 2, .ts = 1});
    feed(&r, (struct pk){.dport = 2, .ts = 2});
    exec_finish(r.x);
    EXPECT_ROWS(&r,
                "q 1..1: -9223372036854775807, 9223372036854775805, "
                "-9223372036854775808, -9223372036854775808, -9223372036854775808",
                "q 2..2: -9223372036854775807, 9223372036854775805, "
                "-9223372036854775808, -9223372036854775808, -9223372036854775808",
                "s 0..10000: 10.0.0.1, 0");
    stop(&r);
}

static void test_strings_and_functions(void **state)
{
    struct run r;
    start(&r, "query q { packets | map a = payload startswith \"GET \", "
              "b = payload contains \"index\", c = payload endswith \"1.1\", "
              "d = payload contains \"\", e = payload contains \"nope\", "
              "f = min(tcp.dport, tcp.sport), g = max(tcp.dport, tcp.sport), "
              "h = abs(tcp.sport - tcp.dport), i = payload.len, p = payload }");
    const char *req = "GET /index.html HTTP/1.1";
    feed(&r, (struct pk){.sport = 5, .dport = 80, .payload = (uint16_t)strlen(req),
                         .data = req, .ts = 1});
    feed(&r, (struct pk){.udp = true, .sport = 5, .dport = 80, .payload = 3,
                         .data = "GE", .ts = 2});
    exec_finish(r.x);
    EXPECT_ROWS(&r, "q 1..1: true, true, true, true, false, 5, 80, 75, 24, "
                    "\"GET /index.html HTTP/1.1\"",
                "q 2..2: false, false, false, true, false, -, -, -, 3, \"GEx\"");
    stop(&r);
}

static void test_hash_function(void **state)
{
    struct run r;
    start(&r, "query q { packets | map h = hash(ipv4.src), i = hash(ipv4.dst / 8) }");
    feed(&r, (struct pk){.src = "10.1.2.3", .udp = true, .ts = 1});
    exec_finish(r.x);
    hts_value a = {.type = TY_IPV4, .present = 1};
    a.u.ip4 = 0x0a010203;
    hts_value b = {.type = TY_IPV4, .present = 1};
    b.u.ip4 = 0x0a000000;
    char want[128];
    snprintf(want, sizeof want, "q 1..1: %lld, %lld",
             (long long)(hts_value_hash(&a, 0) & INT64_MAX),
             (long long)(hts_value_hash(&b, 0) & INT64_MAX));
    EXPECT_ROWS(&r, want);
    stop(&r);
}

/* ---- joins ---- */

#define SYN_ACK_SUBQUERIES                                                     \
    "  let syns = packets | filter tcp.flags == SYN\n"                         \
    "      | groupby host = ipv4.dst aggregate n = count()\n"                  \
    "  let acks = packets | filter tcp.flags == ACK\n"                         \
    "      | groupby host = ipv4.dst aggregate n = count()\n"

static void feed_syns_acks(struct run *r)
{
    const struct { const char *dst; uint8_t flags; } p[] = {
        {"10.0.0.1", 0x02}, {"10.0.0.1", 0x10}, {"10.0.0.2", 0x02},
        {"10.0.0.1", 0x10}, {"10.0.0.3", 0x10}, {"10.0.0.1", 0x02},
        {"10.0.0.1", 0x10}, {"10.0.0.9", 0x12},
    };
    for (int i = 0; i < 8; i++)
        feed(r, (struct pk){.dst = p[i].dst, .flags = p[i].flags, .ts = i + 1});
}

static void test_join_inner(void **state)
{
    struct run r;
    start(&r, "query j window 10us {\n" SYN_ACK_SUBQUERIES
              "  syns join acks on host\n}");
    feed_syns_acks(&r);
    exec_finish(r.x);
    EXPECT_ROWS(&r, "j 0..10000: 10.0.0.1, 2, 3");
    stop(&r);
}

static void test_join_left(void **state)
{
    struct run r;
    start(&r, "query j window 10us {\n" SYN_ACK_SUBQUERIES
              "  syns left join acks on host | map host, s = syns.n, a = acks.n, "
              "d = syns.n - acks.n\n}");
    feed_syns_acks(&r);
    exec_finish(r.x);
    /* 10.0.0.2 has no ACKs: its right-hand columns are absent */
    EXPECT_ROWS(&r, "j 0..10000: 10.0.0.1, 2, 3, -1", "j 0..10000: 10.0.0.2, 1, -, -");
    stop(&r);
}

static void test_join_per_packet_tuples(void **state)
{
    /* one side is per-packet tuples, kept for the window and joined at close */
    struct run r;
    start(&r, "query j window 10us {\n"
              "  let pkts = packets | filter tcp.flags == SYN | map host = ipv4.dst, p = tcp.sport\n"
              "  let tot = packets | groupby host = ipv4.dst aggregate n = count()\n"
              "  pkts left join tot on host\n}");
    feed(&r, (struct pk){.dst = "10.0.0.1", .sport = 7, .flags = 0x02, .ts = 1});
    feed(&r, (struct pk){.dst = "10.0.0.1", .sport = 3, .flags = 0x10, .ts = 2});
    feed(&r, (struct pk){.dst = "10.0.0.1", .sport = 5, .flags = 0x02, .ts = 3});
    feed(&r, (struct pk){.dst = "10.0.0.2", .sport = 1, .flags = 0x02, .ts = 4});
    exec_finish(r.x);
    EXPECT_ROWS(&r, "j 0..10000: 10.0.0.1, 5, 3", "j 0..10000: 10.0.0.1, 7, 3",
                "j 0..10000: 10.0.0.2, 1, 1");
    stop(&r);
}

/* ---- fold and histogram ---- */

static void test_fold_emit(void **state)
{
    struct run r;
    start(&r, "query f window 10us { packets | fold by ipv4.src state n = 0, total = 0 {\n"
              "    n = n + 1\n"
              "    total = total + tcp.dport\n"
              "    if n >= 3 { emit n = 0 }\n"
              "  } }");
    for (int i = 1; i <= 7; i++)
        feed(&r, (struct pk){.src = "10.0.0.1", .dport = (uint16_t)i, .ts = i});
    feed(&r, (struct pk){.src = "10.0.0.5", .dport = 100, .ts = 8});
    feed(&r, (struct pk){.src = "10.0.0.5", .dport = 100, .ts = 9});
    exec_finish(r.x);
    /* emitted after the 3rd (1+2+3) and 6th (... +4+5+6) packet; 10.0.0.5
     * never reaches 3 and emits nothing */
    EXPECT_ROWS(&r, "f 0..10000: 10.0.0.1, 3, 6", "f 0..10000: 10.0.0.1, 3, 21");
    stop(&r);
}

static void test_fold_final_state(void **state)
{
    struct run r;
    start(&r, "query f window 10us { packets | fold by ipv4.src state n = 0, "
              "prev = -1, big = false {\n"
              "    prev = n\n"
              "    n = n + tcp.dport\n"
              "    if n > 10 { big = true } else { big = false }\n"
              "  } }");
    for (int i = 1; i <= 5; i++)
        feed(&r, (struct pk){.src = "10.0.0.1", .dport = (uint16_t)i, .ts = i});
    feed(&r, (struct pk){.src = "10.0.0.5", .dport = 4, .ts = 8});
    exec_finish(r.x);
    /* without emit: one row per key with the state at the window's end;
     * each assignment reads the values as they are at that point */
    EXPECT_ROWS(&r, "f 0..10000: 10.0.0.1, 15, 10, true",
                "f 0..10000: 10.0.0.5, 4, 0, false");
    stop(&r);
}

static void test_histogram(void **state)
{
    struct run r;
    start(&r, "query h window 10us { packets | histogram ipv4.len buckets 100, 200, 500, 1000 }\n"
              "query u window 10us { packets | histogram udp.len buckets 10 }");
    /* ipv4.len = 40 + payload for TCP */
    const uint16_t payloads[] = {0, 59, 60, 560, 960, 1460};
    for (int i = 0; i < 6; i++)
        feed(&r, (struct pk){.payload = payloads[i], .ts = i});
    exec_finish(r.x);
    /* [0,100): 40, 99; [100,200): 100; [200,500): none, no row;
     * [500,1000): 600; [1000, -): 1000, 1500. udp.len is absent everywhere */
    EXPECT_ROWS(&r, "h 0..10000: 0, 100, 2", "h 0..10000: 100, 200, 1",
                "h 0..10000: 500, 1000, 1", "h 0..10000: 1000, -, 2");
    assert_int_equal(exec_stats(r.x)->absent_keys, 6);
    stop(&r);
}

/* ---- per-packet queries ---- */

static void test_export_per_packet(void **state)
{
    struct run r;
    start(&r, "query e { packets | filter tcp.dport == 80 | export src = ipv4.src, "
              "p = tcp.dport, l = ipv4.len, q = dns.qname }\n"
              "query f { packets | filter tcp.dport == 80 }");
    feed(&r, (struct pk){.src = "1.2.3.4", .dport = 80, .ts = 1234});
    feed(&r, (struct pk){.src = "1.2.3.5", .dport = 81, .ts = 1300});
    assert_int_equal(r.n, 2); /* rows come at once, not at the end */
    feed(&r, (struct pk){.src = "1.2.3.6", .dport = 80, .payload = 10, .ts = 5678});
    exec_finish(r.x);
    /* no window: window_start == window_end == the packet's time; a packet
     * root has no columns */
    EXPECT_ROWS(&r, "e 1234..1234: 1.2.3.4, 80, 40, -", "f 1234..1234:",
                "e 5678..5678: 1.2.3.6, 80, 50, -", "f 5678..5678:");
    const struct exec_stats *st = exec_stats(r.x);
    assert_int_equal(st->rows, 4);
    assert_int_equal(st->windows, 0);
    stop(&r);
}

static void test_per_packet_with_window(void **state)
{
    struct run r;
    start(&r, "query w window 10us { packets | map p = tcp.dport }\n"
              "query h window 4us every 2us { packets | map p = tcp.dport }");
    feed(&r, (struct pk){.dport = 1, .ts = 15 * US});
    EXPECT_ROWS(&r, "w 10000..20000: 1", "h 12000..16000: 1", "h 14000..18000: 1");
    stop(&r);
}

static void test_sample(void **state)
{
    /* kept: the packets whose exec_sample_hash(meta.ts) % N == 0, whatever
     * their bytes */
    struct run r;
    start(&r, "query s { packets | sample 1 in 4 | export p = tcp.sport }");
    char want[200][64];
    const char *wantp[200];
    int nwant = 0;
    for (int i = 0; i < 200; i++) {
        int64_t ts = 1000 + 37 * i;
        if (exec_sample_hash((uint64_t)ts) % 4 == 0) {
            snprintf(want[nwant], sizeof want[nwant], "s %lld..%lld: %d",
                     (long long)ts, (long long)ts, 1000 + i);
            wantp[nwant] = want[nwant];
            nwant++;
        }
        feed(&r, (struct pk){.sport = (uint16_t)(1000 + i), .dport = 80, .ts = ts});
    }
    exec_finish(r.x);
    /* a fair hash keeps roughly a quarter: the check is not vacuous */
    assert_in_range(nwant, 25, 75);
    expect_rows(&r, wantp, nwant);
    stop(&r);

    /* same time, different bytes: the same decision */
    start(&r, "query s { packets | sample 1 in 3 | map p = tcp.sport }");
    int64_t kept = -1, dropped = -1;
    for (int64_t ts = 1; kept < 0 || dropped < 0; ts++) {
        if (exec_sample_hash((uint64_t)ts) % 3 == 0)
            kept = kept < 0 ? ts : kept;
        else
            dropped = dropped < 0 ? ts : dropped;
    }
    for (int i = 0; i < 5; i++) {
        feed(&r, (struct pk){.sport = (uint16_t)i, .ts = dropped});
        feed(&r, (struct pk){.sport = (uint16_t)(100 + i), .ts = kept});
    }
    assert_int_equal(r.n, 5);
    stop(&r);

    /* 1 in 1 keeps everything */
    start(&r, "query s { packets | sample 1 in 1 | map p = tcp.sport }");
    for (int i = 0; i < 10; i++)
        feed(&r, (struct pk){.sport = (uint16_t)i, .ts = i});
    assert_int_equal(r.n, 10);
    stop(&r);
}

static void test_fold_close(void **state)
{
    struct run r;
    start(&r, "query f window 10us { packets | fold by ipv4.src state n = 0, big = false "
              "{ n = n + 1 } close { if n >= 2 { big = true } } }\n"
              "query g window 10us { packets | fold by ipv4.src state n = 0 "
              "{ n = n + 1 } close { if n >= 2 { emit } n = 100 emit } }");
    feed(&r, (struct pk){.src = "10.0.0.3", .ts = 1});
    feed(&r, (struct pk){.src = "10.0.0.1", .ts = 2});
    feed(&r, (struct pk){.src = "10.0.0.3", .ts = 3});
    exec_finish(r.x);
    /* close runs once per key at window close; emits there are the rows */
    EXPECT_ROWS(&r, "f 0..10000: 10.0.0.1, 1, false", "f 0..10000: 10.0.0.3, 2, true",
                "g 0..10000: 10.0.0.1, 100", "g 0..10000: 10.0.0.3, 2",
                "g 0..10000: 10.0.0.3, 100");
    stop(&r);
}

static void test_coalesce_present(void **state)
{
    struct run r;
    start(&r, "query q { packets | map p = coalesce(tcp.dport, udp.dport), "
              "t = present(tcp.dport), u = present(tcp.dport / 0), "
              "z = coalesce(tcp.sport / 0, 0 - 1) }");
    feed(&r, (struct pk){.sport = 3, .dport = 80, .ts = 1});
    feed(&r, (struct pk){.udp = true, .dport = 9999, .ts = 2});
    EXPECT_ROWS(&r, "q 1..1: 80, true, false, -1", "q 2..2: 9999, false, false, -1");
    stop(&r);
}

static void test_exec_eval(void **state)
{
    /* the shared evaluator gives what the executor computes */
    struct run r;
    start(&r, "query q(k = 5) { packets | filter tcp.dport in {22, 80} and ipv4.src in 10.0.0.0/8 "
              "| map a = tcp.dport + k, b = ipv4.dst / 8 | filter a > 26 }");
    const struct ir_query *q = r.p->queries[0];
    const struct ir_node *f1 = q->nodes[1], *m = q->nodes[2], *f2 = q->nodes[3];
    assert_int_equal(f1->kind, IR_FILTER);
    assert_int_equal(m->kind, IR_MAP);
    uint8_t buf[128];
    struct pk p = {.src = "10.1.1.1", .dst = "192.168.7.7", .dport = 22};
    uint32_t len = build_frame(buf, sizeof buf, &p);
    struct hts_pkt pkt;
    hts_decode(&pkt, buf, len, len, 0, 1, HTS_DLT_EN10MB, NULL);
    hts_value v = exec_eval(f1->expr, &pkt, NULL);
    assert_int_equal(v.type, TY_BOOL);
    assert_true(v.present && v.u.i == 1);
    hts_value row[2];
    row[0] = exec_eval(m->exprs[0], &pkt, NULL);
    row[1] = exec_eval(m->exprs[1], &pkt, NULL);
    assert_true(row[0].u.i == 27);
    assert_int_equal(row[1].type, TY_IPV4);
    assert_int_equal(row[1].u.ip4, 0xc0000000u);
    v = exec_eval(f2->expr, NULL, row);
    assert_true(v.present && v.u.i == 1);
    row[0] = hts_absent(TY_INT);
    v = exec_eval(f2->expr, NULL, row);
    assert_false(v.present);
    stop(&r);
}

/* A main executor merging two partial workers gives the single executor's
 * rows (exec_set_partial, exec_merge, exec_advance). */
static void on_partial(void *ctx, int query, int node, int64_t ws,
                       const hts_value *row, int ncols)
{
    struct exec *mainx = ctx;
    exec_merge(mainx, query, node, ws, row);
}

static void test_partial_merge(void **state)
{
    const char *src =
        "query g window 10us every 5us { packets | groupby ipv4.dst aggregate n = count(), "
        "s = sum(tcp.dport), lo = min(tcp.dport), hi = max(ipv4.src), a = avg(tcp.dport) }\n"
        "query d window 10us { packets | distinct ipv4.src | groupby x = 1 aggregate n = count() }\n"
        "query h window 10us { packets | histogram ipv4.len buckets 50, 100 }\n"
        "query j window 10us {\n"
        "  let s = packets | filter tcp.flags == SYN | map host = ipv4.dst, p = tcp.sport\n"
        "  let t = packets | groupby host = ipv4.dst aggregate n = count()\n"
        "  s left join t on host }";
    struct run one, many;
    start(&one, src);
    memset(&many, 0, sizeof many);
    many.x = exec_new(one.p, on_row, &many);
    assert_non_null(many.x);
    char why[256];
    assert_true(exec_mergeable(many.x, why, sizeof why));
    struct exec *w[2];
    for (int i = 0; i < 2; i++) {
        w[i] = exec_new(one.p, on_row, &many);
        exec_set_partial(w[i], on_partial, many.x);
    }
    uint8_t buf[2048];
    for (int i = 0; i < 60; i++) {
        char s[32], d[32];
        snprintf(s, sizeof s, "10.0.%d.%d", i % 3, i % 7);
        snprintf(d, sizeof d, "10.1.0.%d", i % 4);
        struct pk p = {.src = s, .dst = d, .sport = (uint16_t)(i * 7),
                       .dport = (uint16_t)(i % 5 ? 1000 + i : 0), .udp = i % 9 == 0,
                       .flags = i % 2 ? 0x02 : 0x10, .payload = (uint16_t)(i * 3),
                       .ts = 1000 + 700 * i};
        uint32_t len = build_frame(buf, sizeof buf, &p);
        struct hts_pkt pkt;
        hts_decode(&pkt, buf, len, len, (uint64_t)p.ts, 1, HTS_DLT_EN10MB, NULL);
        exec_packet(one.x, &pkt);
        exec_packet(w[i % 3 == 0], &pkt); /* an uneven split */
        for (int k = 0; k < 2; k++)
            exec_advance(w[k], p.ts);
        exec_advance(many.x, p.ts);
    }
    exec_finish(one.x);
    for (int k = 0; k < 2; k++)
        exec_finish(w[k]);
    exec_finish(many.x);
    assert_true(one.n > 20);
    expect_rows(&many, (const char *const *)one.rows, one.n);
    for (int k = 0; k < 2; k++)
        exec_free(w[k]);
    stop(&many);
    stop(&one);

    /* a fold depends on arrival order: not mergeable */
    start(&one, "query f window 1s { packets | fold by ipv4.src state n = 0 { n = n + 1 } }");
    assert_false(exec_mergeable(one.x, why, sizeof why));
    assert_non_null(strstr(why, "query 'f' folds per packet in arrival order (fold at 1:31)"));
    stop(&one);
}

/* ---- regressions: bugs found by these tests, now fixed ---- */

static void test_windowed_query_with_unused_stateful_subquery(void **state)
{
    /* An unused stateful sub-query makes the query "windowed", and at the
     * first window close batch() walks from the per-packet root to the
     * source and on to its NULL input (exec.c, batch): a crash. */
    struct run r;
    start(&r, "query q window 10us {\n  let a = packets | distinct ipv4.src\n"
              "  packets | map p = tcp.dport\n}");
    feed(&r, (struct pk){.dport = 1, .ts = 1 * US});
    feed(&r, (struct pk){.dport = 2, .ts = 25 * US});
    exec_finish(r.x);
    EXPECT_ROWS(&r, "q 0..10000: 1", "q 20000..30000: 2");
    stop(&r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sample_hash_vectors),
        cmocka_unit_test(test_frame_builder),
        cmocka_unit_test(test_tumbling_window),
        cmocka_unit_test(test_version),
        cmocka_unit_test(test_window_alignment_epoch),
        cmocka_unit_test(test_hopping_window),
        cmocka_unit_test(test_late_packets),
        cmocka_unit_test(test_rows_sorted),
        cmocka_unit_test(test_groupby_aggregates),
        cmocka_unit_test(test_absent_keys),
        cmocka_unit_test(test_distinct),
        cmocka_unit_test(test_batch_operators),
        cmocka_unit_test(test_filter_three_valued),
        cmocka_unit_test(test_in_sets_prefixes_ranges),
        cmocka_unit_test(test_in_set_of_constant_expressions),
        cmocka_unit_test(test_prefix_mask),
        cmocka_unit_test(test_division_by_zero),
        cmocka_unit_test(test_integer_wrap),
        cmocka_unit_test(test_strings_and_functions),
        cmocka_unit_test(test_hash_function),
        cmocka_unit_test(test_join_inner),
        cmocka_unit_test(test_join_left),
        cmocka_unit_test(test_join_per_packet_tuples),
        cmocka_unit_test(test_fold_emit),
        cmocka_unit_test(test_fold_final_state),
        cmocka_unit_test(test_histogram),
        cmocka_unit_test(test_export_per_packet),
        cmocka_unit_test(test_per_packet_with_window),
        cmocka_unit_test(test_sample),
        cmocka_unit_test(test_fold_close),
        cmocka_unit_test(test_coalesce_present),
        cmocka_unit_test(test_exec_eval),
        cmocka_unit_test(test_partial_merge),
        cmocka_unit_test(test_windowed_query_with_unused_stateful_subquery),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
