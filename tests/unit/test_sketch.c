/*
 * test_sketch.c - approx_count and approx_sum (the Count-Min sketch,
 * exec/cms.h) against exact count and sum on the same packets.
 *
 * A synthetic window of 240,000 UDP packets from 30,000 sources (a few
 * heavy, most light, so that the sketch's 2,048 cells per row collide) runs
 * through one executor holding both forms of a heavy-hitter query. The
 * sketch must report every key the exact query reports (none missed), each
 * estimate at or above the exact value and within e/w of the window's
 * total for all but a small share, and few keys that are not heavy. Then
 * the packets are split over three partial executors, as htsd's workers:
 * keys planted so that each worker sees a third of their bytes (heavy in
 * total, light everywhere) are found when the workers know they are three
 * parts (exec_set_sketch_parts), and missed when told they are the whole
 * traffic (the test's negative control); the merged sketch's estimates
 * equal the single executor's exactly (counters add). Finally sema's
 * refusals: no threshold after it, a per-key aggregate beside it.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "cms.h"
#include "exec.h"
#include "parse.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define NSRC 30000
#define NPKT 240000
#define NPLANT 4
#define THRESHOLD 300000 /* bytes; divisible by 3 */

/* the rows of one run: per query (0 exact, 1 approx) and source */
struct rowset {
    uint32_t *src;
    int64_t *bytes, *pkts;
    int n, cap;
};

struct run {
    struct rowset q[2];
};

static void on_row(void *ctx, const struct ir_query *q, int64_t ws, int64_t we,
                   const hts_value *cols, int ncols)
{
    (void)ws;
    (void)we;
    struct run *r = ctx;
    assert_int_equal(ncols, 3);
    struct rowset *s = &r->q[q->index];
    if (s->n == s->cap) {
        s->cap = s->cap ? 2 * s->cap : 1024;
        s->src = realloc(s->src, (size_t)s->cap * sizeof *s->src);
        s->bytes = realloc(s->bytes, (size_t)s->cap * sizeof *s->bytes);
        s->pkts = realloc(s->pkts, (size_t)s->cap * sizeof *s->pkts);
        assert_non_null(s->src);
        assert_non_null(s->bytes);
        assert_non_null(s->pkts);
    }
    s->src[s->n] = cols[0].u.ip4;
    s->bytes[s->n] = cols[1].u.i;
    s->pkts[s->n] = cols[2].u.i;
    s->n++;
}

static int find(const struct rowset *s, uint32_t src)
{
    for (int i = 0; i < s->n; i++)
        if (s->src[i] == src)
            return i;
    return -1;
}

static void run_free(struct run *r)
{
    for (int k = 0; k < 2; k++) {
        free(r->q[k].src);
        free(r->q[k].bytes);
        free(r->q[k].pkts);
    }
    memset(r, 0, sizeof *r);
}

static const char *const SRC =
    "query hh_exact(threshold = 300000) window 1s {\n"
    "  packets | groupby ipv4.src aggregate bytes = sum(ipv4.len), pkts = count()\n"
    "  | filter bytes >= threshold }\n"
    "query hh_approx(threshold = 300000) window 1s {\n"
    "  packets | groupby ipv4.src aggregate bytes = approx_sum(ipv4.len), pkts = approx_count()\n"
    "  | filter bytes >= threshold }\n";

struct prog {
    struct arena arena;
    struct diag d;
    struct src_file *src;
    struct ir_program *p;
};

static void compile(struct prog *g, const char *text)
{
    memset(g, 0, sizeof *g);
    diag_init(&g->d);
    g->src = src_from_string("x.htq", text, strlen(text));
    struct ast_file *f = NULL;
    if (ast_parse(&g->arena, &g->d, g->src, &f) == 0)
        g->p = sema_build(&g->arena, &g->d, &f, 1, NULL, 0);
}

static void prog_free(struct prog *g)
{
    diag_free(&g->d);
    src_free(g->src);
    arena_free(&g->arena);
}

/* The packets: source i (10.x.y.z) and the IPv4 length of packet k. Sources
 * 0..19 send heavy traffic, the rest a Zipf-like tail; the planted sources
 * (NSRC..NSRC+NPLANT-1) send THRESHOLD bytes in 1,000-byte packets, one in
 * three to each worker (the caller splits by packet number). */
struct gen {
    uint64_t state;
};

static uint32_t rnd(struct gen *g)
{
    g->state = g->state * 6364136223846793005ULL + 1442695040888963407ULL;
    return (uint32_t)(g->state >> 33);
}

static uint32_t src_addr(int i)
{
    return 0x0a000000u + (uint32_t)i * 7919u; /* spread over 10/8 */
}

static uint32_t make_frame(uint8_t *buf, uint32_t src, uint16_t iplen)
{
    uint32_t len = 14u + iplen;
    memset(buf, 0, len);
    buf[12] = 0x08;
    uint8_t *ip = buf + 14;
    ip[0] = 0x45;
    ip[2] = (uint8_t)(iplen >> 8);
    ip[3] = (uint8_t)iplen;
    ip[8] = 64;
    ip[9] = 17;
    ip[12] = (uint8_t)(src >> 24);
    ip[13] = (uint8_t)(src >> 16);
    ip[14] = (uint8_t)(src >> 8);
    ip[15] = (uint8_t)src;
    ip[16] = 10;
    ip[19] = 1;
    uint8_t *u = ip + 20;
    u[1] = 53;
    u[3] = 53;
    u[4] = (uint8_t)((iplen - 20) >> 8);
    u[5] = (uint8_t)(iplen - 20);
    return len;
}

/* Feeds the whole window: to `whole` if set, and packet k to part k % 3 of
 * parts[] if set. Returns the window's total bytes. */
static int64_t feed_all(struct exec *whole, struct exec **parts)
{
    static uint8_t buf[2048];
    struct gen g = {42};
    int64_t total = 0;
    int plant_k = 0;
    for (int k = 0; k < NPKT + NPLANT * (THRESHOLD / 1000); k++) {
        uint32_t src;
        uint16_t len;
        if (k % 61 == 0 && plant_k < NPLANT * (THRESHOLD / 1000)) {
            src = src_addr(NSRC + plant_k % NPLANT);
            len = 1000;
            plant_k++;
        } else {
            uint32_t r = rnd(&g);
            int i = r % 8 == 0 ? (int)(rnd(&g) % 20)                   /* heavy */
                                : 20 + (int)((uint64_t)rnd(&g) * rnd(&g) % (NSRC - 20));
            src = src_addr(i);
            len = (uint16_t)(60 + rnd(&g) % 1400);
        }
        uint32_t n = make_frame(buf, src, len);
        struct hts_pkt pkt;
        int64_t ts = 1000000 + (int64_t)k * 1000; /* all in window [0, 1s) */
        assert_int_equal(hts_decode(&pkt, buf, n, n, (uint64_t)ts, 1, HTS_DLT_EN10MB, NULL), 0);
        total += len;
        if (whole)
            exec_packet(whole, &pkt);
        if (parts) {
            /* the planted sources' packets in turn to each part; the rest
             * by source, as RSS would */
            int w = src >= src_addr(NSRC) && (src - src_addr(NSRC)) % 7919u == 0
                        ? (plant_k - 1) / NPLANT % 3
                        : (int)(src % 3);
            exec_packet(parts[w], &pkt);
        }
    }
    return total;
}

static void test_against_exact(void **state)
{
    (void)state;
    struct prog g;
    compile(&g, SRC);
    assert_non_null(g.p);
    struct run r = {0};
    struct exec *x = exec_new(g.p, on_row, &r);
    assert_non_null(x);
    int64_t total = feed_all(x, NULL);
    exec_finish(x);
    exec_free(x);
    const struct rowset *ex = &r.q[0], *ap = &r.q[1];
    assert_true(ex->n >= 20 + NPLANT); /* the heavy sources and the planted ones */
    double bound = M_E / CMS_W * (double)total;
    int within = 0, fp = 0;
    int64_t worst = 0;
    for (int i = 0; i < ex->n; i++) {
        int j = find(ap, ex->src[i]);
        if (j < 0)
            fail_msg("heavy source %08x (%lld bytes) missed by the sketch", ex->src[i],
                     (long long)ex->bytes[i]);
        assert_true(ap->bytes[j] >= ex->bytes[i]);
        assert_true(ap->pkts[j] >= ex->pkts[i]);
        int64_t err = ap->bytes[j] - ex->bytes[i];
        within += err <= bound;
        if (err > worst)
            worst = err;
    }
    for (int j = 0; j < ap->n; j++) {
        assert_true(ap->bytes[j] >= THRESHOLD); /* the filter ran on estimates */
        fp += find(ex, ap->src[j]) < 0;
    }
    print_message("count-min: %d heavy sources, all found; %d of them within "
                  "e/w x total (%.0f bytes), worst over-estimate %lld; %d reported "
                  "that are not heavy\n",
                  ex->n, within, bound, (long long)worst, fp);
    /* 1 - e^-4 = 98.2% expected within the bound */
    assert_true(within >= ex->n * 9 / 10);
    assert_true(fp <= ex->n / 10);
    run_free(&r);
    prog_free(&g);
}

static void on_partial(void *ctx, int query, int node, int64_t ws,
                       const hts_value *row, int ncols)
{
    (void)ncols;
    exec_merge(ctx, query, node, ws, row);
}

/* Three partial executors merged: returns whether every planted source was
 * reported, and checks the merged estimates against the single run's. */
static bool split_run(int parts_told, const struct run *single)
{
    struct prog g;
    compile(&g, SRC);
    assert_non_null(g.p);
    struct run r = {0};
    struct exec *mainx = exec_new(g.p, on_row, &r), *w[3];
    assert_non_null(mainx);
    for (int i = 0; i < 3; i++) {
        w[i] = exec_new(g.p, on_row, &r);
        assert_non_null(w[i]);
        exec_set_partial(w[i], on_partial, mainx);
        exec_set_sketch_parts(w[i], parts_told);
    }
    feed_all(NULL, w);
    for (int i = 0; i < 3; i++) {
        exec_finish(w[i]);
        exec_free(w[i]);
    }
    exec_advance(mainx, 2000000000);
    exec_finish(mainx);
    exec_free(mainx);
    /* the exact query merged from the parts equals the single run */
    assert_int_equal(r.q[0].n, single->q[0].n);
    bool all = true;
    for (int p = 0; p < NPLANT; p++)
        all &= find(&r.q[1], src_addr(NSRC + p)) >= 0;
    /* where both report a key, the merged sketch gives the same estimate */
    for (int j = 0; j < r.q[1].n; j++) {
        int i = find(&single->q[1], r.q[1].src[j]);
        if (i >= 0) {
            assert_int_equal(r.q[1].bytes[j], single->q[1].bytes[i]);
            assert_int_equal(r.q[1].pkts[j], single->q[1].pkts[i]);
        }
    }
    if (parts_told == 3) /* nothing missed */
        for (int i = 0; i < r.q[0].n; i++)
            assert_true(find(&r.q[1], r.q[0].src[i]) >= 0);
    run_free(&r);
    prog_free(&g);
    return all;
}

static void test_split_parts(void **state)
{
    (void)state;
    struct prog g;
    compile(&g, SRC);
    struct run single = {0};
    struct exec *x = exec_new(g.p, on_row, &single);
    feed_all(x, NULL);
    exec_finish(x);
    exec_free(x);
    for (int p = 0; p < NPLANT; p++)
        assert_true(find(&single.q[0], src_addr(NSRC + p)) >= 0);
    assert_true(split_run(3, &single));
    /* the negative control: parts that think they are everything keep only
     * keys heavy in their own third, and the planted ones are not */
    assert_false(split_run(1, &single));
    run_free(&single);
    prog_free(&g);
}

static void expect_error(const char *text, const char *want)
{
    struct prog g;
    compile(&g, text);
    assert_null(g.p);
    assert_true(g.d.errors > 0);
    if (!strstr(g.d.msgs[0].text, want))
        fail_msg("error '%s', want '%s'", g.d.msgs[0].text, want);
    prog_free(&g);
}

static void test_refusals(void **state)
{
    (void)state;
    expect_error("query q window 1s { packets | groupby ipv4.src aggregate b = approx_sum(ipv4.len) }",
                 "approx_sum reports heavy keys only: follow its groupby with a threshold "
                 "on it, as `| filter b >= N`");
    expect_error("query q window 1s { packets | groupby ipv4.src aggregate b = approx_sum(ipv4.len) "
                 "| filter b < 10 }",
                 "approx_sum reports heavy keys only");
    expect_error("query q window 1s { packets | groupby ipv4.src aggregate b = approx_sum(ipv4.len), "
                 "n = count() | filter b >= 10 }",
                 "a groupby with approx_sum keeps no state per key (a Count-Min sketch); "
                 "'count' would");
    expect_error("query q window 1s { packets | groupby ipv4.src aggregate n = approx_count(ipv4.len) "
                 "| filter n >= 10 }",
                 "approx_count takes no argument");
    /* accepted: a threshold with more tests beside it, written either way */
    struct prog g;
    compile(&g, "query q window 1s { packets | groupby ipv4.src aggregate n = approx_count() "
                "| filter 10 < n and ipv4.src != 10.0.0.1 }");
    assert_non_null(g.p);
    const struct ir_node *gb = g.p->queries[0]->nodes[1];
    assert_true(gb->sketch);
    assert_int_equal(gb->sketch_min, 11);
    prog_free(&g);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_against_exact),
        cmocka_unit_test(test_split_parts),
        cmocka_unit_test(test_refusals),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
