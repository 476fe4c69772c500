/*
 * test_reorder.c - the time-order buffer (core/reorder.c), the sorted
 * capture reader (core/pcapsort.c) and command-line units (core/units.c).
 *
 * The buffer: random times in, time order out, ties in arrival order, bytes
 * intact, the byte count and the limit. The reader: a capture written here
 * out of order comes back in time order (ties in file order) in memory and
 * through runs on disk with a small limit, and an ordered one streams.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "pcapsort.h"
#include "reorder.h"
#include "units.h"

static void test_order_and_ties(void **state)
{
    (void)state;
    struct hts_reorder *r = hts_reorder_new(0);
    assert_non_null(r);
    enum { N = 5000 };
    uint64_t x = 88172645463325252ull;
    for (uint32_t i = 0; i < N; i++) {
        x ^= x << 13, x ^= x >> 7, x ^= x << 17;
        uint64_t ts = x % 100; /* many ties */
        uint8_t buf[8];
        memcpy(buf, &i, 4);
        memcpy(buf + 4, &ts, 4);
        assert_int_equal(hts_reorder_push(r, buf, 8, 60, ts, (uint16_t)(i & 3)), 0);
    }
    assert_int_equal(hts_reorder_count(r), N);
    assert_true(hts_reorder_bytes(r) >= N * 8);
    uint64_t last_ts = 0;
    uint32_t last_i = 0;
    for (int k = 0; k < N; k++) {
        const struct hts_rpkt *top = hts_reorder_peek(r);
        struct hts_rpkt *p = hts_reorder_pop(r);
        assert_ptr_equal(top, p);
        uint32_t i;
        memcpy(&i, p->data, 4);
        assert_int_equal(p->caplen, 8);
        assert_int_equal(p->wirelen, 60);
        assert_int_equal(p->port, i & 3);
        assert_true(p->ts >= last_ts);
        if (k && p->ts == last_ts)
            assert_true(i > last_i); /* arrival order among equal times */
        last_ts = p->ts;
        last_i = i;
        hts_reorder_done(r, p);
    }
    assert_null(hts_reorder_pop(r));
    assert_int_equal(hts_reorder_bytes(r), 0);
    hts_reorder_free(r);
}

static void test_limit(void **state)
{
    (void)state;
    struct hts_reorder *r = hts_reorder_new(1000);
    uint8_t buf[100] = {0};
    int n = 0;
    while (!hts_reorder_over(r)) {
        assert_int_equal(hts_reorder_push(r, buf, sizeof buf, 100, (uint64_t)(100 - n), 0), 0);
        n++;
    }
    assert_true(n >= 2 && n <= 10);
    struct hts_rpkt *p = hts_reorder_pop(r); /* the oldest: the last pushed */
    assert_int_equal(p->ts, (uint64_t)(100 - (n - 1)));
    hts_reorder_done(r, p);
    assert_false(hts_reorder_over(r));
    hts_reorder_free(r);
}

static void test_watermark(void **state)
{
    (void)state;
    uint64_t latest[3] = {5000, 9000, 0}, rx[3] = {100, 190, 0};
    bool idle;
    /* both seen ports active (port 2 never had a packet): the smaller */
    assert_int_equal(hts_watermark(latest, rx, 3, 200, 150, 1000, &idle), 4000);
    assert_false(idle);
    /* port 0 silent longer than the idle time: port 1 alone */
    assert_int_equal(hts_watermark(latest, rx, 3, 200, 50, 1000, &idle), 8000);
    assert_false(idle);
    /* every port silent: the latest of all, nothing held back */
    assert_int_equal(hts_watermark(latest, rx, 3, 1000, 50, 1000, &idle), 9000);
    assert_true(idle);
    /* nothing seen yet */
    uint64_t none[3] = {0};
    assert_int_equal(hts_watermark(none, none, 3, 10, 50, 1000, &idle), -1);
    assert_true(idle);
}

/* A nanosecond pcap of records with the given times; each frame's first
 * four bytes hold its index in the file. */
static void write_pcap(const char *path, const uint64_t *ts, int n)
{
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    uint32_t head[6] = {0xa1b23c4d, 0x00040002, 0, 0, 65535, 1};
    fwrite(head, sizeof head, 1, f);
    for (int i = 0; i < n; i++) {
        uint8_t frame[60] = {0};
        memcpy(frame, &i, 4);
        uint32_t rec[4] = {(uint32_t)(ts[i] / 1000000000u), (uint32_t)(ts[i] % 1000000000u),
                           (uint32_t)(20 + i % 40), 60};
        fwrite(rec, sizeof rec, 1, f);
        fwrite(frame, rec[2], 1, f);
    }
    fclose(f);
}

static void check_sorted(const char *path, size_t mem, int n, int want_runs)
{
    char err[512];
    struct hts_sorted *s = hts_sorted_open(path, mem, err, sizeof err);
    assert_non_null(s);
    const uint8_t *d;
    uint32_t cl, wl;
    uint64_t ts, last = 0;
    int last_i = -1, k = 0, r;
    while ((r = hts_sorted_next(s, &d, &cl, &wl, &ts)) == 1) {
        int i;
        memcpy(&i, d, 4);
        assert_int_equal(cl, (uint32_t)(20 + i % 40));
        assert_int_equal(wl, 60);
        assert_true(ts >= last);
        if (k && ts == last)
            assert_true(i > last_i); /* file order among equal times */
        last = ts;
        last_i = i;
        k++;
    }
    assert_int_equal(r, 0);
    assert_int_equal(k, n);
    assert_int_equal(hts_sorted_stats(s)->packets, (uint64_t)n);
    if (want_runs >= 0)
        assert_int_equal(hts_sorted_stats(s)->runs, want_runs);
    else
        assert_true(hts_sorted_stats(s)->runs > 1);
    hts_sorted_close(s);
}

static void test_sorted_reader(void **state)
{
    (void)state;
    char path[] = "/tmp/hts-test-sort-XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    close(fd);
    enum { N = 3000 };
    static uint64_t ts[N];
    for (int i = 0; i < N; i++) /* two interleaved clocks, many ties */
        ts[i] = 1700000000000000000ull + (uint64_t)((i % 2 ? i : N - i) / 3) * 1000;
    write_pcap(path, ts, N);
    check_sorted(path, 0, N, 0);       /* in memory */
    check_sorted(path, 8192, N, -1);   /* through runs on disk */
    char err[512];
    struct hts_sorted *s = hts_sorted_open(path, 0, err, sizeof err);
    assert_true(hts_sorted_stats(s)->out_of_order > 0);
    hts_sorted_close(s);
    for (int i = 0; i < N; i++) /* in order: streamed, nothing out of order */
        ts[i] = 1700000000000000000ull + (uint64_t)i;
    write_pcap(path, ts, N);
    check_sorted(path, 8192, N, 0);
    s = hts_sorted_open(path, 0, err, sizeof err);
    assert_int_equal(hts_sorted_stats(s)->out_of_order, 0);
    hts_sorted_close(s);
    unlink(path);
    assert_null(hts_sorted_open("/nonexistent/x.pcap", 0, err, sizeof err));
    assert_non_null(strstr(err, "No such file"));
}

static void test_units(void **state)
{
    (void)state;
    int64_t ns;
    uint64_t b;
    assert_int_equal(hts_parse_duration("200ms", &ns), 0);
    assert_int_equal(ns, 200000000);
    assert_int_equal(hts_parse_duration("0", &ns), 0);
    assert_int_equal(ns, 0);
    assert_int_equal(hts_parse_duration("2h", &ns), 0);
    assert_int_equal(ns, 7200000000000ll);
    assert_int_equal(hts_parse_duration("-1s", &ns), -EINVAL);
    assert_int_equal(hts_parse_duration("1 s", &ns), -EINVAL);
    assert_int_equal(hts_parse_duration("5parsecs", &ns), -EINVAL);
    assert_int_equal(hts_parse_duration("99999999999999h", &ns), -EINVAL);
    assert_int_equal(hts_parse_size("64KiB", &b), 0);
    assert_int_equal(b, 65536);
    assert_int_equal(hts_parse_size("3MB", &b), 0);
    assert_int_equal(b, 3000000);
    assert_int_equal(hts_parse_size("", &b), -EINVAL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_order_and_ties),
        cmocka_unit_test(test_limit),
        cmocka_unit_test(test_watermark),
        cmocka_unit_test(test_sorted_reader),
        cmocka_unit_test(test_units),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
