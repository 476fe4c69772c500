/*
 * test_decode_want.c - the decoder asked for some fields only (`want`)
 * against the full decoder.
 *
 * The JIT's compiled code asks core/decode.c for the groups of fields
 * below L4 its queries read (HTS_W_*: dns.an.ttl but not the type set),
 * and the decoder stops once those are decided. The promise (packet.h):
 * every field of a wanted group, and every field decoded whatever is
 * wanted, is present with its value exactly when the full decoder has it;
 * a field of another group is absent or as the full decoder has it; an
 * error is counted only if the full decoder counts the same one. Checked
 * for every packet of every capture in tests/data, and for random
 * mutations of their DNS messages (bytes, counts, compression pointers,
 * cut captures), through both entry points: hts_decode_want (the whole
 * frame) and hts_decode_l4 (from an L4 header, as compiled code calls it;
 * the L4 header found by a small walker here, for plain Ethernet, SLL and
 * raw IP frames).
 */
#include <dirent.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "packet.h"
#include "pcapin.h"

#define DATA_DIR "tests/data"
#define MUTANTS 16 /* per DNS packet */

static uint64_t rng = 0x9e3779b97f4a7c15ull;

static uint32_t rnd(uint32_t n) /* xorshift64*: uniform enough, repeatable */
{
    rng ^= rng >> 12;
    rng ^= rng << 25;
    rng ^= rng >> 27;
    return (uint32_t)((rng * 0x2545f4914f6cdd1dull) >> 32) % n;
}

static uint16_t rd16(const uint8_t *b)
{
    return (uint16_t)(b[0] << 8 | b[1]);
}

/* What is compared and where it failed, for the message. */
struct where {
    const char *file;
    size_t pkt;
    const char *how;
    uint32_t want;
};

static void check_field(const struct where *w, enum hts_field f,
                        const struct hts_pkt *full, const struct hts_pkt *part)
{
    bool pa = hts_pkt_has(full, f), pb = hts_pkt_has(part, f);
    uint32_t g = hts_want_of(f);
    bool must = !g || (g & w->want);
    if (must ? pa != pb : (pb && !pa))
        fail_msg("%s packet %zu (%s, want %#x): %s %s in the full decode, %s "
                 "here", w->file, w->pkt, w->how, (unsigned)w->want,
                 hts_fields[f].name, pa ? "present" : "absent",
                 pb ? "present" : "absent");
    if (!pa || !pb)
        return;
    hts_value a = hts_pkt_value(full, f), b = hts_pkt_value(part, f);
    if (!hts_value_eq(&a, &b))
        fail_msg("%s packet %zu (%s, want %#x): %s differs", w->file, w->pkt,
                 w->how, (unsigned)w->want, hts_fields[f].name);
}

/* check_field for every field present in either (absent in both: equal) */
static void check_all(const struct where *w, const struct hts_pkt *full,
                      const struct hts_pkt *part)
{
    for (int k = 0; k < HTS_PRESENT_WORDS; k++)
        for (uint64_t b = full->present[k] | part->present[k]; b; b &= b - 1)
            check_field(w, (enum hts_field)(k * 64 + __builtin_ctzll(b)), full, part);
}

/* The IP protocol, L4 offset and IP end decode.c's decode_l4 gets for a
 * frame's own IP header, for the frames this walker knows (Ethernet with
 * VLAN tags, SLL, SLL2, raw IP; IPv4, IPv6 without extension headers, no
 * fragments); false for anything else. */
static bool find_l4(const uint8_t *d, uint32_t cap, uint32_t wire, int lt,
                    int *proto, uint64_t *off, uint64_t *end)
{
    uint64_t o, lim = wire > cap ? wire : cap;
    uint16_t type;
    switch (lt) {
    case HTS_DLT_EN10MB:
        if (cap < 14)
            return false;
        type = rd16(d + 12);
        o = 14;
        while (type == 0x8100 || type == 0x88a8 || type == 0x9100) {
            if (o + 4 > cap)
                return false;
            type = rd16(d + o + 2);
            o += 4;
        }
        break;
    case HTS_DLT_LINUX_SLL:
        if (cap < 16)
            return false;
        type = rd16(d + 14);
        o = 16;
        break;
    case HTS_DLT_LINUX_SLL2:
        if (cap < 20)
            return false;
        type = rd16(d);
        o = 20;
        break;
    case HTS_DLT_RAW:
        if (cap < 1)
            return false;
        type = d[0] >> 4 == 6 ? 0x86dd : 0x0800;
        o = 0;
        break;
    default:
        return false;
    }
    if (type == 0x0800) {
        if (o + 20 > cap || d[o] >> 4 != 4)
            return false;
        uint32_t hl = (d[o] & 15) * 4u, tot = rd16(d + o + 2);
        if (hl < 20 || tot < hl || o + hl > cap || (rd16(d + o + 6) & 0x1fff))
            return false;
        *proto = d[o + 9];
        *off = o + hl;
        *end = o + tot < lim ? o + tot : lim;
        return *proto != 41; /* 6in4: hts_decode_l4 does not unwrap it */
    }
    if (type == 0x86dd) {
        if (o + 40 > cap || d[o] >> 4 != 6)
            return false;
        uint32_t plen = rd16(d + o + 4);
        *proto = d[o + 6];
        if (*proto != 6 && *proto != 17 && *proto != 58)
            return false; /* extension headers: not walked here */
        *off = o + 40;
        *end = o + 40 + plen < lim ? o + 40 + plen : lim;
        return true;
    }
    return false;
}

/* The masks a frame is checked with: for a frame with DNS or a tunnel as
 * captured, every combination of the groups; for a mutant, none, all, each
 * group alone, all groups but each one, two at random; else a few. */
static int masks(const struct hts_pkt *full, bool mutant, uint32_t *m)
{
    bool deep = false;
    for (int f = 0; f < FLD__COUNT; f++)
        deep |= hts_want_of((enum hts_field)f) && hts_pkt_has(full, (enum hts_field)f);
    int n = 0;
    if (deep && !mutant) {
        for (uint32_t w = 0; w <= HTS_W_ALL; w++)
            m[n++] = w;
        return n;
    }
    m[n++] = 0;
    m[n++] = HTS_W_ALL;
    for (uint32_t g = 1; deep && g <= HTS_W_ALL; g <<= 1) {
        m[n++] = g;
        m[n++] = HTS_W_ALL & ~g;
    }
    for (int k = 0; k < 2; k++)
        m[n++] = rnd(HTS_W_ALL + 1);
    return n;
}

static struct hts_pkt full, part, full4, part4, udns;

/* hts_decode_udp_dns (the JIT's entry for DNS only, from the UDP header)
 * against hts_decode_l4's full decode in full4: its DNS groups of want
 * as there, nothing else present. */
static void check_udp_dns(struct where *w, const uint8_t *d, uint32_t cap,
                          uint64_t off, uint64_t end, uint32_t want)
{
    const char *how = w->how;
    w->want = want & HTS_W_DNS;
    w->how = "hts_decode_udp_dns";
    hts_decode_udp_dns(&udns, d, cap, off, end, want);
    for (int k = 0; k < HTS_PRESENT_WORDS; k++)
        for (uint64_t b = full4.present[k] | udns.present[k]; b; b &= b - 1) {
            enum hts_field f = (enum hts_field)(k * 64 + __builtin_ctzll(b));
            if (hts_want_of(f) & HTS_W_DNS)
                check_field(w, f, &full4, &udns);
            else if (hts_pkt_has(&udns, f))
                fail_msg("%s packet %zu (%s, want %#x): %s present", w->file,
                         w->pkt, w->how, (unsigned)want, hts_fields[f].name);
        }
    w->how = how;
    w->want = want;
}

/* One frame, every mask, both entry points. */
static void check_frame(struct where *w, const uint8_t *d, uint32_t cap,
                        uint32_t wire, int lt, bool mutant)
{
    struct hts_decode_stats st_full = {0}, st_part;
    hts_decode(&full, d, cap, wire, 7, 1, lt, &st_full);
    int proto = -1;
    uint64_t off = 0, end = 0;
    bool l4 = find_l4(d, cap, wire, lt, &proto, &off, &end);
    if (l4) {
        hts_decode_l4(&full4, d, cap, wire, proto, off, end, HTS_W_ALL);
        /* the walker found what hts_decode found: everything below L4
         * agrees (what hts_decode_l4 never sets is absent there) */
        w->want = HTS_W_ALL;
        for (int f = 0; f < FLD__COUNT; f++)
            if (hts_pkt_has(&full4, (enum hts_field)f))
                check_field(w, (enum hts_field)f, &full, &full4);
    }
    uint32_t m[HTS_W_ALL + 1];
    int n = masks(&full, mutant, m);
    for (int i = 0; i < n; i++) {
        w->want = m[i];
        memset(&st_part, 0, sizeof st_part);
        hts_decode_want(&part, d, cap, wire, 7, 1, lt, &st_part, m[i]);
        check_all(w, &full, &part);
        assert_int_equal(st_part.packets, 1);
        for (int e = 0; e < DEC__COUNT; e++)
            if (st_part.errors[e] && !st_full.errors[e])
                fail_msg("%s packet %zu (%s, want %#x): %s counted, not by the "
                         "full decode", w->file, w->pkt, w->how, (unsigned)m[i],
                         hts_decode_err_names[e]);
        if (m[i] == HTS_W_ALL)
            assert_memory_equal(&st_part, &st_full, sizeof st_full);
        if (l4) {
            hts_decode_l4(&part4, d, cap, wire, proto, off, end, m[i]);
            check_all(w, &full4, &part4);
        }
        if (l4 && proto == 17)
            check_udp_dns(w, d, cap, off, end, m[i]);
    }
}

/* Where the DNS message of a decoded frame starts (0: none). */
static uint32_t dns_start(const struct hts_pkt *p, const uint8_t *d)
{
    if (!hts_pkt_has(p, FLD_DNS_ID) || !hts_pkt_has(p, FLD_PAYLOAD))
        return 0;
    uint32_t o = (uint32_t)(p->f[FLD_PAYLOAD].s.p - d);
    return hts_pkt_has(p, FLD_TCP_SPORT) ? o + 2 : o;
}

/* A few random changes to the DNS message at [s, cap) of buf: bytes, the
 * section counts, compression pointers and label lengths, a cut. */
static uint32_t mutate(uint8_t *buf, uint32_t s, uint32_t cap)
{
    static const uint8_t odd[] = {0, 1, 0x3f, 0x40, 0x80, 0xc0, 0xc0, 0xff};
    uint32_t len = cap - s;
    for (uint32_t k = 1 + rnd(4); k && len; k--) {
        switch (rnd(5)) {
        case 0:
            buf[s + rnd(len)] = (uint8_t)rnd(256);
            break;
        case 1:
            buf[s + rnd(len)] = odd[rnd(sizeof odd)];
            break;
        case 2: /* a pointer to a random place */
            if (len >= 14) {
                uint32_t at = 12 + rnd(len - 13);
                buf[s + at] = (uint8_t)(0xc0 | rnd(4));
                buf[s + at + 1] = (uint8_t)rnd(256);
            }
            break;
        case 3: /* qdcount, ancount */
            if (len >= 8)
                buf[s + 4 + 2 * rnd(2) + 1] = (uint8_t)rnd(40);
            break;
        default: /* cut the capture inside the message */
            cap = s + rnd(len + 1);
            len = cap - s;
            break;
        }
    }
    return cap;
}

static size_t frames, dns_frames, mutants;

static void check_capture(const char *path, const char *name)
{
    struct hts_trace t;
    char err[256];
    if (hts_trace_load(path, &t, err, sizeof err) < 0)
        fail_msg("%s: %s", path, err);
    static uint8_t buf[1 << 16];
    for (size_t i = 0; i < t.n; i++) {
        const uint8_t *d = hts_trace_frame(&t, i);
        struct where w = {name, i, "as captured", 0};
        check_frame(&w, d, t.cap_len[i], t.wire_len[i], t.linktype, false);
        frames++;
        uint32_t s = dns_start(&full, d), cap = t.cap_len[i];
        if (!s || s >= cap || cap > sizeof buf)
            continue;
        dns_frames++;
        for (int k = 0; k < MUTANTS; k++) {
            memcpy(buf, d, cap);
            uint32_t c = mutate(buf, s, cap);
            struct where wm = {name, i, "mutated", 0};
            check_frame(&wm, buf, c, t.wire_len[i], t.linktype, true);
            mutants++;
        }
    }
    hts_trace_free(&t);
}

static void test_captures(void **state)
{
    (void)state;
    DIR *dir = opendir(DATA_DIR);
    assert_non_null(dir);
    struct dirent *e;
    int files = 0;
    while ((e = readdir(dir))) {
        size_t n = strlen(e->d_name);
        if (!(n > 5 && !strcmp(e->d_name + n - 5, ".pcap")) &&
            !(n > 7 && !strcmp(e->d_name + n - 7, ".pcapng")))
            continue;
        char path[512];
        snprintf(path, sizeof path, "%s/%s", DATA_DIR, e->d_name);
        check_capture(path, e->d_name);
        files++;
    }
    closedir(dir);
    print_message("%d captures, %zu frames (%zu DNS, %zu DNS mutants)\n", files,
                  frames, dns_frames, mutants);
    assert_true(files >= 30);
    assert_true(dns_frames >= 1000);
}

/* The groups: every field the JIT's compiled code does not decode itself
 * (DNS, tunnels, the payload, which a tunnel changes) is in one, every
 * other field in none. */
static void test_groups(void **state)
{
    (void)state;
    assert_int_equal(hts_want_of(FLD_DNS_ID), HTS_W_DNS_HDR);
    assert_int_equal(hts_want_of(FLD_DNS_ARCOUNT), HTS_W_DNS_HDR);
    assert_int_equal(hts_want_of(FLD_DNS_QNAME), HTS_W_DNS_QNAME);
    assert_int_equal(hts_want_of(FLD_DNS_AN_TTL), HTS_W_DNS_AN1);
    assert_int_equal(hts_want_of(FLD_DNS_AN_TYPES), HTS_W_DNS_AN_TYPES);
    assert_int_equal(hts_want_of(FLD_INNER_UDP_DPORT), HTS_W_TUNNEL);
    assert_int_equal(hts_want_of(FLD_UDP_SPORT), 0);
    assert_int_equal(hts_want_of(FLD_PAYLOAD), HTS_W_TUNNEL);
    assert_int_equal(hts_want_of(FLD_PAYLOAD_LEN), HTS_W_TUNNEL);
    for (int f = 0; f < FLD__COUNT; f++) {
        const char *n = hts_fields[f].name;
        uint32_t g = hts_want_of((enum hts_field)f);
        if (!strncmp(n, "dns.", 4))
            assert_true(g && (g & HTS_W_DNS) == g);
        else if (!strncmp(n, "inner.", 6) || !strncmp(n, "vxlan.", 6) ||
                 !strncmp(n, "gre.", 4) || !strncmp(n, "payload", 7))
            assert_int_equal(g, HTS_W_TUNNEL);
        else
            assert_int_equal(g, 0);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_groups),
        cmocka_unit_test(test_captures),
    };
    return cmocka_run_group_tests_name("decode_want", tests, NULL, NULL);
}
