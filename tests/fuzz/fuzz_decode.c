/*
 * fuzz_decode.c - libFuzzer target for the packet decoder.
 *
 * Input: the first byte picks the link type (from the ones the decoder
 * knows, plus one it does not), the rest is the frame. The frame is copied
 * into a heap block of exactly its length so that AddressSanitizer catches
 * a read one byte past cap_len. Every field is then read back through
 * hts_pkt_value() and string fields are touched byte by byte, so a field
 * pointing outside the frame (or the qname buffer) is caught too. Then the
 * decoder asked for some groups of fields only (hts_decode_want, as the
 * JIT's compiled code asks): each group alone and all but each one must
 * give the full decode's presence and values for the groups asked for,
 * and no field the full decode lacks or has otherwise; the same for
 * hts_decode_udp_dns (the JIT's DNS-only entry) on UDP in IPv4, raw or
 * straight after an Ethernet header.
 *
 *   clang -g -O1 -fsanitize=fuzzer,address,undefined -Icore \
 *       tests/fuzz/fuzz_decode.c core/decode.c core/fields.c core/value.c
 */
#include "packet.h"

#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* part (decoded for want) against full, as packet.h promises */
static void check_want(const struct hts_pkt *full, const struct hts_pkt *part,
                       uint32_t want)
{
    for (int f = 0; f < FLD__COUNT; f++) {
        uint32_t g = hts_want_of((enum hts_field)f);
        bool a = hts_pkt_has(full, (enum hts_field)f);
        bool b = hts_pkt_has(part, (enum hts_field)f);
        if ((!g || (g & want)) ? a != b : (b && !a))
            abort();
        if (a && b) {
            hts_value x = hts_pkt_value(full, (enum hts_field)f);
            hts_value y = hts_pkt_value(part, (enum hts_field)f);
            if (!hts_value_eq(&x, &y))
                abort();
        }
    }
}

static const int linktypes[] = {
    HTS_DLT_EN10MB, HTS_DLT_RAW, 12, 228, 229, HTS_DLT_LINUX_SLL,
    HTS_DLT_LINUX_SLL2, 147 /* not supported */,
};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static struct hts_pkt pkt;
    struct hts_decode_stats st = {0};
    if (size < 1)
        return 0;
    int lt = linktypes[data[0] % (sizeof linktypes / sizeof linktypes[0])];
    size_t n = size - 1;
    uint8_t *frame = malloc(n ? n : 1);
    if (!frame)
        return 0;
    memcpy(frame, data + 1, n);
    /* the wire length: usually the captured one, sometimes longer (a snap
     * length) or shorter (nonsense the decoder must tolerate) */
    uint32_t wire = (uint32_t)n;
    if (n >= 2 && data[0] & 0x80)
        wire = (uint32_t)n + frame[0] * 16u;
    else if (n >= 2 && data[0] & 0x40)
        wire = frame[1];

    hts_decode(&pkt, frame, (uint32_t)n, wire, 1, 0, lt, &st);

    uint64_t sink = 0, errors = 0;
    for (int f = 0; f < FLD__COUNT; f++) {
        hts_value v = hts_pkt_value(&pkt, (enum hts_field)f);
        if (!v.present)
            continue;
        switch (v.type) {
        case TY_STR:
            for (uint32_t i = 0; i < v.u.s.n; i++)
                sink += v.u.s.p[i];
            break;
        case TY_TYPESET:
            for (uint32_t i = 0; i < v.u.s.n; i++)
                sink += ((const uint16_t *)(const void *)v.u.s.p)[i];
            break;
        default:
            sink += hts_value_hash(&v, 0);
            break;
        }
    }
    for (int e = 0; e < DEC__COUNT; e++)
        errors += st.errors[e];
    /* the decoder's promises: one packet, at most one error */
    if (st.packets != 1 || errors > 1)
        abort();
    if (!hts_pkt_has(&pkt, FLD_META_CAP_LEN) ||
        pkt.f[FLD_META_CAP_LEN].u != n)
        abort();
    /* payload lies inside the captured frame */
    if (hts_pkt_has(&pkt, FLD_PAYLOAD)) {
        const hts_str *s = &pkt.f[FLD_PAYLOAD].s;
        if (s->p < frame || s->p + s->n > frame + n)
            abort();
        if (pkt.f[FLD_PAYLOAD_LEN].u != s->n)
            abort();
    }
    if (hts_pkt_has(&pkt, FLD_DNS_QNAME) &&
        (pkt.f[FLD_DNS_QNAME].s.n == 0 ||
         pkt.f[FLD_DNS_QNAME].s.n >= HTS_QNAME_MAX))
        abort();
    static struct hts_pkt part;
    for (uint32_t g = 1; g <= HTS_W_ALL; g <<= 1)
        for (int k = 0; k < 2; k++) {
            uint32_t want = k ? HTS_W_ALL & ~g : g;
            hts_decode_want(&part, frame, (uint32_t)n, wire, 1, 0, lt, NULL, want);
            check_want(&pkt, &part, want);
        }
    /* the JIT's DNS-only entry from the UDP header (hts_decode_udp_dns):
     * for IPv4 (raw or after Ethernet) whose own UDP header the full
     * decode read, the DNS groups asked for as the full decode has them,
     * nothing else */
    size_t o = lt == HTS_DLT_EN10MB && n >= 14 && frame[12] == 8 && frame[13] == 0 ? 14
               : lt == HTS_DLT_RAW || lt == 12 || lt == 228 ? 0 : n;
    if (n >= o + 20 && frame[o] >> 4 == 4 && frame[o + 9] == 17 &&
        hts_pkt_has(&pkt, FLD_UDP_SPORT)) {
        uint64_t lim = wire > n ? wire : n, tot = o + ((uint64_t)frame[o + 2] << 8 | frame[o + 3]);
        uint64_t off = o + (frame[o] & 15) * 4u, end = tot < lim ? tot : lim;
        for (uint32_t g = 1; g <= HTS_W_DNS; g <<= 1)
            for (int k = 0; k < 2; k++) {
                uint32_t want = k ? HTS_W_DNS & ~g : g;
                hts_decode_udp_dns(&part, frame, n, off, end, want);
                for (int f = 0; f < FLD__COUNT; f++) {
                    uint32_t gf = hts_want_of((enum hts_field)f);
                    bool a = hts_pkt_has(&pkt, (enum hts_field)f);
                    bool b = hts_pkt_has(&part, (enum hts_field)f);
                    if (!(gf & HTS_W_DNS) ? b : (gf & want) ? a != b : (b && !a))
                        abort();
                    if (a && b) {
                        hts_value x = hts_pkt_value(&pkt, (enum hts_field)f);
                        hts_value y = hts_pkt_value(&part, (enum hts_field)f);
                        if (!hts_value_eq(&x, &y))
                            abort();
                    }
                }
            }
    }
    free(frame);
    /* keep the reads from being optimised away */
    volatile uint64_t keep = sink;
    (void)keep;
    return 0;
}
