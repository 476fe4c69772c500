/*
 * test_report.c - the report wire format: encoder and decoder round trip,
 * byte positions from docs/wire-format.md, and every refusal reason.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "report.h"

#define FP 0x0102030405060708ULL

static const struct rep_col pkt_cols[] = {
    {"ipv4.dst", TY_IPV4, 32, FLD_IPV4_DST},
    {"tcp.flags", TY_INT, 8, FLD_TCP_FLAGS},
    {"vlan.id", TY_INT, 12, FLD_VLAN_ID},
};
static const struct rep_col row_cols[] = {
    {"host", TY_IPV4, 32, FLD_IPV4_DST},
    {"n", TY_INT, 64, -1},
    {"ok", TY_BOOL, 1, -1},
};

static struct rep_layout layouts[] = {
    {.query = 0, .node = 1, .kind = REP_TUPLE, .packet = true, .ncols = 3, .cols = pkt_cols},
    {.query = 0, .node = 3, .kind = REP_ROW, .ncols = 3, .cols = row_cols},
    {.query = 1, .node = 0, .kind = REP_PACKET},
};

static struct rep_schema schema;
static uint8_t buf[REP_MAX_FRAME];

static int setup(void **state)
{
    (void)state;
    return rep_schema_init(&schema, FP, layouts, 3);
}

static int teardown(void **state)
{
    (void)state;
    rep_schema_free(&schema);
    return 0;
}

static size_t frame_with_all(void)
{
    struct rep_writer w;
    rep_writer_init(&w, &schema, buf, 1514);
    struct hts_pkt pkt;
    memset(&pkt, 0, sizeof pkt);
    pkt.f[FLD_IPV4_DST].u = 0x0a000001;
    hts_pkt_set(&pkt, FLD_IPV4_DST);
    pkt.f[FLD_TCP_FLAGS].u = 0x12;
    hts_pkt_set(&pkt, FLD_TCP_FLAGS); /* vlan.id absent */
    assert_int_equal(rep_add_watermark(&w, 5), 0);
    assert_int_equal(rep_add(&w, &layouts[0], 1000, &pkt, NULL), 0);
    hts_value row[3] = {hts_int(0), hts_int(-2), hts_bool(true)};
    row[0].type = TY_IPV4;
    row[0].u.ip4 = 0xc0a80001;
    assert_int_equal(rep_add(&w, &layouts[1], 3000000000ull, NULL, row), 0);
    static const uint8_t fr[] = {1, 2, 3, 4, 5};
    const struct rep_layout *t[] = {&layouts[2]};
    assert_int_equal(rep_add_packet(&w, t, 1, 77, fr, 5, 60, 3, 1), 0);
    return rep_frame_end(&w);
}

static void test_layout_lengths(void **state)
{
    (void)state;
    /* 16 header + 1 presence + 4 + 1 + 2 */
    assert_int_equal(layouts[0].rec_len, 24);
    /* 16 + 1 + 4 + 8 + 1 */
    assert_int_equal(layouts[1].rec_len, 30);
    assert_ptr_equal(rep_layout_find(&schema, 0, 3, REP_ROW), &layouts[1]);
    assert_null(rep_layout_find(&schema, 0, 3, REP_TUPLE));
    assert_null(rep_layout_find(&schema, 2, 0, REP_TUPLE));
}

static void test_bytes(void **state)
{
    (void)state;
    size_t n = frame_with_all();
    /* Ethernet type, magic, version, count, fingerprint */
    assert_int_equal(buf[12], 0x88);
    assert_int_equal(buf[13], 0xb5);
    assert_memory_equal(buf + 14, "HTSR", 4);
    assert_int_equal(buf[18], 1);
    assert_int_equal(buf[20] << 8 | buf[21], 4);
    assert_int_equal(buf[22], 0x01);
    assert_int_equal(buf[29], 0x08);
    /* watermark at 34: length 16, query 0xffff, kind 3, ts 5 */
    assert_int_equal(buf[35], 16);
    assert_int_equal(buf[36], 0xff);
    assert_int_equal(buf[40], 3);
    assert_int_equal(buf[49], 5);
    /* tuple at 50: presence 0b110 (vlan.id absent), dst, flags */
    assert_int_equal(buf[50 + 16], 0xc0);
    assert_int_equal(buf[50 + 17], 0x0a);
    assert_int_equal(buf[50 + 20], 0x01);
    assert_int_equal(buf[50 + 21], 0x12);
    assert_int_equal(buf[50 + 22] | buf[50 + 23], 0);
    assert_true(n >= 34 + 16 + 24 + 30 + 28 + 5);
}

static void test_round_trip(void **state)
{
    (void)state;
    size_t n = frame_with_all();
    struct rep_reader r;
    struct rep_stats st = {0};
    assert_int_equal(rep_frame_open(&r, &schema, buf, n, &st), 0);
    struct rep_record rec;
    assert_int_equal(rep_next(&r, &rec), 1);
    assert_int_equal(rec.kind, REP_WATERMARK);
    assert_int_equal(rep_next(&r, &rec), 1);
    struct hts_pkt pkt;
    rep_record_pkt(&rec, &pkt);
    assert_true(hts_pkt_has(&pkt, FLD_IPV4_DST));
    assert_false(hts_pkt_has(&pkt, FLD_VLAN_ID));
    assert_int_equal(pkt.f[FLD_TCP_FLAGS].u, 0x12);
    assert_int_equal(pkt.f[FLD_META_TS].u, 1000);
    assert_int_equal(rep_next(&r, &rec), 1);
    hts_value v[3];
    rep_record_values(&rec, v);
    assert_int_equal(v[0].u.ip4, 0xc0a80001);
    assert_int_equal(v[1].u.i, -2);
    assert_int_equal(v[2].u.i, 1);
    assert_int_equal(rec.ts, 3000000000ull);
    assert_int_equal(rep_next(&r, &rec), 1);
    assert_int_equal(rec.kind, REP_PACKET);
    assert_int_equal(rec.cap_len, 5);
    assert_int_equal(rec.wire_len, 60);
    assert_int_equal(rec.ntargets, 1);
    assert_int_equal(rep_next(&r, &rec), 0);
    assert_int_equal(st.good, 1);
    assert_int_equal(st.records, 4);
}

/* A partial record (a refined groupby's slot: keys, running values,
 * present counts) next to a row layout of the same node: both found by
 * kind, round-tripped, and a partial record of a node whose plan has no
 * partial layout refused. */
static void test_partial(void **state)
{
    (void)state;
    static const struct rep_col part_cols[] = {
        {"host", TY_IPV4, 32, FLD_IPV4_DST},
        {"n", TY_INT, 64, -1},
        {"n.seen", TY_INT, 64, -1},
    };
    struct rep_layout ls[] = {
        {.query = 0, .node = 3, .kind = REP_ROW, .ncols = 3, .cols = row_cols},
        {.query = 0, .node = 3, .kind = REP_PARTIAL, .ncols = 3, .cols = part_cols},
    };
    struct rep_schema s;
    assert_int_equal(rep_schema_init(&s, FP, ls, 2), 0);
    assert_ptr_equal(rep_layout_find(&s, 0, 3, REP_PARTIAL), &ls[1]);
    assert_ptr_equal(rep_layout_find(&s, 0, 3, REP_ROW), &ls[0]);
    assert_string_equal(rep_kind_name(REP_PARTIAL), "partial");
    struct rep_writer w;
    rep_writer_init(&w, &s, buf, 1514);
    hts_value row[3] = {hts_int(0), hts_int(41), hts_int(0)};
    row[0].type = TY_IPV4;
    row[0].u.ip4 = 0x0a000005;
    assert_int_equal(rep_add(&w, &ls[1], 3000000000ull, NULL, row), 0);
    size_t n = rep_frame_end(&w);
    struct rep_reader r;
    struct rep_stats st = {0};
    assert_int_equal(rep_frame_open(&r, &s, buf, n, &st), 0);
    struct rep_record rec;
    assert_int_equal(rep_next(&r, &rec), 1);
    assert_int_equal(rec.kind, REP_PARTIAL);
    hts_value v[3];
    rep_record_values(&rec, v);
    assert_int_equal(v[0].u.ip4, 0x0a000005);
    assert_int_equal(v[1].u.i, 41);
    assert_int_equal(v[2].u.i, 0);
    /* the shared schema has a row layout at node 3 but no partial one */
    assert_int_equal(rep_frame_open(&r, &schema, buf, n, &st), -(1 + REP_ERR_LAYOUT));
    assert_int_equal(st.errors[REP_ERR_LAYOUT], 1);
    rep_schema_free(&s);
}

/* A param record (a live change): its text round-trips; a bad text, an
 * unknown query or a node that is not 0xFFFF refuses the frame. */
static void test_param(void **state)
{
    (void)state;
    struct rep_writer w;
    rep_writer_init(&w, &schema, buf, 1514);
    assert_string_equal(rep_kind_name(REP_PARAM), "param");
    assert_int_equal(rep_add_param(&w, 0, 6000000000ull, "threshold=50", 12), 0);
    assert_int_equal(rep_add_param(&w, 0, 1, "=5", 2), -EINVAL);
    assert_int_equal(rep_add_param(&w, 0, 1, "x=\n5", 4), -EINVAL);
    assert_int_equal(rep_add_param(&w, 0, 1, "noequals", 8), -EINVAL);
    size_t n = rep_frame_end(&w);
    struct rep_reader r;
    struct rep_stats st = {0};
    assert_int_equal(rep_frame_open(&r, &schema, buf, n, &st), 0);
    struct rep_record rec;
    assert_int_equal(rep_next(&r, &rec), 1);
    assert_int_equal(rec.kind, REP_PARAM);
    assert_int_equal(rec.query, 0);
    assert_int_equal(rec.ts, 6000000000ull);
    assert_int_equal(rec.cap_len, 12);
    assert_memory_equal(rec.data, "threshold=50", 12);
    assert_int_equal(rep_next(&r, &rec), 0);
    /* hostile variants of the same frame */
    uint8_t bad[128];
    memcpy(bad, buf, n);
    bad[34 + 16 + 9] = 0x01; /* a control character in the text */
    assert_int_equal(rep_frame_open(&r, &schema, bad, n, &st), -(1 + REP_ERR_VALUE));
    memcpy(bad, buf, n);
    bad[34 + 3] = 99; /* a query the plan does not have */
    assert_int_equal(rep_frame_open(&r, &schema, bad, n, &st), -(1 + REP_ERR_LAYOUT));
    memcpy(bad, buf, n);
    bad[34 + 5] = 0; /* node 0xFF00 */
    assert_int_equal(rep_frame_open(&r, &schema, bad, n, &st), -(1 + REP_ERR_LAYOUT));
    memcpy(bad, buf, n);
    bad[34 + 1] = 16 + 40; /* runs past the frame's records */
    assert_true(rep_frame_open(&r, &schema, bad, n, &st) < 0);
}

static void test_value_range(void **state)
{
    (void)state;
    struct rep_writer w;
    rep_writer_init(&w, &schema, buf, 1514);
    struct hts_pkt pkt;
    memset(&pkt, 0, sizeof pkt);
    pkt.f[FLD_VLAN_ID].u = 5000; /* more than 12 bits */
    hts_pkt_set(&pkt, FLD_VLAN_ID);
    assert_int_equal(rep_add(&w, &layouts[0], 1, &pkt, NULL), -ERANGE);
}

static int expect(size_t n, enum rep_err e)
{
    struct rep_reader r;
    struct rep_stats st = {0};
    int rc = rep_frame_open(&r, &schema, buf, n, &st);
    return rc == -(1 + (int)e) && st.errors[e] == 1;
}

static void test_refusals(void **state)
{
    (void)state;
    size_t n = frame_with_all();
    assert_true(expect(20, REP_ERR_SHORT));
    buf[12] = 0x08;
    assert_true(expect(n, REP_ERR_ETHERTYPE));
    n = frame_with_all();
    buf[15] = 'X';
    assert_true(expect(n, REP_ERR_MAGIC));
    n = frame_with_all();
    buf[18] = 2;
    assert_true(expect(n, REP_ERR_VERSION));
    n = frame_with_all();
    buf[19] = 1;
    assert_true(expect(n, REP_ERR_FLAGS));
    n = frame_with_all();
    buf[29] ^= 1;
    assert_true(expect(n, REP_ERR_FINGERPRINT));
    n = frame_with_all();
    assert_true(expect(34 + 16 + 10, REP_ERR_TRUNCATED));
    n = frame_with_all();
    buf[50 + 3] = 9; /* node 9 has no layout */
    assert_true(expect(n, REP_ERR_LAYOUT));
    n = frame_with_all();
    buf[50 + 1] = 23; /* record length */
    assert_true(expect(n, REP_ERR_LENGTH));
    n = frame_with_all();
    buf[50 + 22] = 0x10; /* vlan.id bits above 12 */
    assert_true(expect(n, REP_ERR_VALUE));
    n = frame_with_all();
    buf[50 + 16] |= 0x01; /* presence padding */
    assert_true(expect(n, REP_ERR_VALUE));
    n = frame_with_all();
    buf[20] = 0;
    buf[21] = 3; /* three records: the packet record's bytes trail */
    assert_true(expect(n, REP_ERR_TRAILING));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_layout_lengths),
        cmocka_unit_test(test_bytes),
        cmocka_unit_test(test_round_trip),
        cmocka_unit_test(test_partial),
        cmocka_unit_test(test_param),
        cmocka_unit_test(test_value_range),
        cmocka_unit_test(test_refusals),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
