/*
 * test_pcapin.c - capture input: pcap, pcapng, timestamps, errors, traces.
 *
 * Uses two bundled captures (run from the repository root, as tests/run.sh
 * does) and small files written here: a nanosecond pcap, whose timestamps
 * must come through unscaled, and a pcap cut in the middle of a record,
 * which must be a read error rather than a silent end.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "pcapin.h"

#define HANDSHAKE "tests/data/tcp_handshake.pcap"
#define PCAPNG "tests/data/ipv6_fragments.pcapng"

static void test_pcap_micro(void **state)
{
    (void)state;
    char err[256] = "";
    struct hts_pcap *pc = hts_pcap_open(HANDSHAKE, err, sizeof err);
    assert_non_null(pc);
    assert_int_equal(hts_pcap_linktype(pc), 1);
    const uint8_t *d;
    uint32_t cl, wl;
    uint64_t ts;
    /* tshark: frame 1 at 1262893114.341715000, 66 bytes */
    assert_int_equal(hts_pcap_next(pc, &d, &cl, &wl, &ts), 1);
    assert_int_equal(ts, 1262893114341715000ULL);
    assert_int_equal(cl, 66);
    assert_int_equal(wl, 66);
    assert_int_equal(d[12], 0x08); /* EtherType IPv4 */
    assert_int_equal(d[13], 0x00);
    assert_int_equal(hts_pcap_next(pc, &d, &cl, &wl, &ts), 1);
    assert_int_equal(ts, 1262893114474342000ULL);
    assert_int_equal(hts_pcap_next(pc, &d, &cl, &wl, &ts), 1);
    assert_int_equal(hts_pcap_next(pc, &d, &cl, &wl, &ts), 0);
    assert_int_equal(hts_pcap_next(pc, &d, &cl, &wl, &ts), 0);
    assert_string_equal(hts_pcap_error(pc), "");
    hts_pcap_close(pc);
    hts_pcap_close(NULL);
}

static void test_pcapng(void **state)
{
    (void)state;
    char err[256];
    struct hts_pcap *pc = hts_pcap_open(PCAPNG, err, sizeof err);
    assert_non_null(pc);
    assert_int_equal(hts_pcap_linktype(pc), 1);
    const uint8_t *d;
    uint32_t cl, wl;
    uint64_t ts, prev = 0;
    int n = 0, r;
    while ((r = hts_pcap_next(pc, &d, &cl, &wl, &ts)) == 1) {
        assert_true(ts >= prev);
        assert_true(cl > 0 && cl <= wl);
        prev = ts;
        n++;
    }
    assert_int_equal(r, 0);
    assert_int_equal(n, 22);
    hts_pcap_close(pc);
}

static void test_open_errors(void **state)
{
    (void)state;
    char err[256] = "";
    assert_null(hts_pcap_open("tests/data/no-such-file.pcap", err, sizeof err));
    assert_non_null(strstr(err, "no-such-file.pcap"));
    assert_non_null(strstr(err, "No such file"));
    err[0] = 0;
    assert_null(hts_pcap_open("tests/data/MANIFEST.md", err, sizeof err));
    assert_non_null(strstr(err, "not a capture file"));
    struct hts_trace t;
    assert_true(hts_trace_load("tests/data/no-such-file.pcap", &t, err,
                               sizeof err) < 0);
    assert_int_equal(t.n, 0);
    assert_null(t.bytes);
}

/* writes a classic pcap: magic, link type 1, then the records given */
static void write_pcap(const char *path, uint32_t magic, const uint8_t *recs,
                       size_t n)
{
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    uint32_t hdr[6] = {magic, 0x00040002, 0, 0, 65535, 1};
    assert_int_equal(fwrite(hdr, sizeof hdr, 1, f), 1);
    if (n)
        assert_int_equal(fwrite(recs, n, 1, f), 1);
    fclose(f);
}

/* one record header (host order, as the magic says) and len bytes */
static size_t rec(uint8_t *out, uint32_t sec, uint32_t frac, uint32_t len)
{
    uint32_t h[4] = {sec, frac, len, len + 100};
    memcpy(out, h, sizeof h);
    memset(out + sizeof h, 0xab, len);
    return sizeof h + len;
}

static void test_nanosecond_and_truncated(void **state)
{
    (void)state;
    char path[] = "/tmp/hts_pcapin_XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    close(fd);
    uint8_t buf[256];
    size_t n = rec(buf, 1700000000, 123456789, 20);
    n += rec(buf + n, 1700000001, 5, 30);
    write_pcap(path, 0xa1b23c4d, buf, n); /* nanosecond magic */

    char err[256];
    struct hts_pcap *pc = hts_pcap_open(path, err, sizeof err);
    assert_non_null(pc);
    const uint8_t *d;
    uint32_t cl, wl;
    uint64_t ts;
    assert_int_equal(hts_pcap_next(pc, &d, &cl, &wl, &ts), 1);
    assert_int_equal(ts, 1700000000123456789ULL);
    assert_int_equal(cl, 20);
    assert_int_equal(wl, 120);
    assert_int_equal(d[19], 0xab);
    assert_int_equal(hts_pcap_next(pc, &d, &cl, &wl, &ts), 1);
    assert_int_equal(ts, 1700000001000000005ULL);
    assert_int_equal(hts_pcap_next(pc, &d, &cl, &wl, &ts), 0);
    hts_pcap_close(pc);

    /* the trace loader sees the same */
    struct hts_trace t;
    assert_int_equal(hts_trace_load(path, &t, err, sizeof err), 0);
    assert_int_equal(t.n, 2);
    assert_int_equal(t.linktype, 1);
    assert_int_equal(t.nbytes, 50);
    assert_int_equal(t.cap_len[1], 30);
    assert_int_equal(t.wire_len[1], 130);
    assert_int_equal(t.ts_ns[0], 1700000000123456789ULL);
    assert_int_equal(hts_trace_frame(&t, 1)[29], 0xab);
    hts_trace_free(&t);
    assert_int_equal(t.n, 0);
    hts_trace_free(&t); /* twice is harmless */

    /* the second record cut short: an error with a message, not an end */
    write_pcap(path, 0xa1b23c4d, buf, n - 7);
    pc = hts_pcap_open(path, err, sizeof err);
    assert_non_null(pc);
    assert_int_equal(hts_pcap_next(pc, &d, &cl, &wl, &ts), 1);
    assert_true(hts_pcap_next(pc, &d, &cl, &wl, &ts) < 0);
    assert_true(strlen(hts_pcap_error(pc)) > 0);
    hts_pcap_close(pc);
    assert_true(hts_trace_load(path, &t, err, sizeof err) < 0);
    assert_non_null(strstr(err, path));
    assert_int_equal(t.n, 0);
    unlink(path);
}

static void test_trace_matches_stream(void **state)
{
    (void)state;
    char err[256];
    struct hts_trace t;
    assert_int_equal(hts_trace_load(PCAPNG, &t, err, sizeof err), 0);
    assert_int_equal(t.n, 22);
    struct hts_pcap *pc = hts_pcap_open(PCAPNG, err, sizeof err);
    assert_non_null(pc);
    const uint8_t *d;
    uint32_t cl, wl;
    uint64_t ts;
    size_t total = 0;
    for (size_t i = 0; i < t.n; i++) {
        assert_int_equal(hts_pcap_next(pc, &d, &cl, &wl, &ts), 1);
        assert_int_equal(t.cap_len[i], cl);
        assert_int_equal(t.wire_len[i], wl);
        assert_int_equal(t.ts_ns[i], ts);
        assert_memory_equal(hts_trace_frame(&t, i), d, cl);
        total += cl;
    }
    assert_int_equal(t.nbytes, total);
    hts_pcap_close(pc);
    hts_trace_free(&t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_pcap_micro),
        cmocka_unit_test(test_pcapng),
        cmocka_unit_test(test_open_errors),
        cmocka_unit_test(test_nanosecond_and_truncated),
        cmocka_unit_test(test_trace_matches_stream),
    };
    return cmocka_run_group_tests_name("pcapin", tests, NULL, NULL);
}
