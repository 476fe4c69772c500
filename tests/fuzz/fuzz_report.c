/*
 * fuzz_report.c - libFuzzer target: any bytes as a report frame.
 *
 * The decoder's promise (docs/wire-format.md): it validates a whole frame
 * before handing out a record, refuses what is malformed with a counted
 * reason, never reads outside the frame, never crashes. The schema is fixed
 * here and covers every kind and column type. When the first input byte is
 * odd the target writes a valid header into the frame first, so the fuzzer
 * spends its time in the records rather than on the magic. Accepted records
 * are decoded (values, packet fields, mirrored frames through hts_decode),
 * and re-encoded with the encoder: the bytes must come back the same.
 */
#include "report.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FP 0x1122334455667788ULL

static const struct rep_col pkt_cols[] = {
    {"ipv4.src", TY_IPV4, 32, FLD_IPV4_SRC}, {"tcp.flags", TY_INT, 8, FLD_TCP_FLAGS},
    {"vlan.id", TY_INT, 12, FLD_VLAN_ID},    {"ipv6.dst", TY_IPV6, 128, FLD_IPV6_DST},
    {"eth.src", TY_MAC, 48, FLD_ETH_SRC},
};
static const struct rep_col row_cols[] = {
    {"k", TY_INT, 16, FLD_TCP_DPORT}, {"n", TY_INT, 64, -1}, {"b", TY_BOOL, 1, -1},
    {"a", TY_IPV4, 32, -1},           {"x", TY_INT, 3, FLD_IPV4_FLAGS},
    {"y", TY_INT, 20, FLD_MPLS_LABEL}, {"z", TY_INT, 1, FLD_DNS_QR},
    {"m", TY_MAC, 48, -1},            {"w", TY_INT, 24, FLD_VXLAN_VNI},
};

static struct rep_schema schema;

static void setup(void)
{
    static struct rep_layout l[] = {
        {.query = 0, .node = 1, .kind = REP_TUPLE, .packet = true,
         .ncols = sizeof pkt_cols / sizeof pkt_cols[0], .cols = pkt_cols},
        {.query = 0, .node = 3, .kind = REP_ROW,
         .ncols = sizeof row_cols / sizeof row_cols[0], .cols = row_cols},
        {.query = 1, .node = 0, .kind = REP_PACKET},
        {.query = 1, .node = 2, .kind = REP_TUPLE, .ncols = 2, .cols = row_cols},
    };
    if (rep_schema_init(&schema, FP, l, sizeof l / sizeof l[0]) != 0)
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!schema.idx)
        setup();
    static uint8_t frame[REP_MAX_FRAME];
    if (size == 0 || size - 1 > sizeof frame)
        return 0;
    size_t len = size - 1;
    memcpy(frame, data + 1, len);
    if ((data[0] & 1) && len >= REP_ETH_LEN + REP_HDR_LEN) {
        static const uint8_t hdr[] = {0x88, 0xb5, 'H', 'T', 'S', 'R', REP_VERSION, 0};
        memcpy(frame + 12, hdr, sizeof hdr);
        for (int i = 0; i < 8; i++)
            frame[22 + i] = (uint8_t)(FP >> (56 - 8 * i));
    }
    struct rep_stats st = {0};
    struct rep_reader r;
    uint64_t fp;
    rep_frame_fingerprint(frame, len, &fp);
    if (rep_frame_open(&r, &schema, frame, len, &st) != 0)
        return 0;
    static uint8_t out[REP_MAX_FRAME];
    struct rep_writer w;
    rep_writer_init(&w, &schema, out, REP_MAX_FRAME);
    w.seq = r.seq;
    memcpy(w.dst, frame, 6);
    memcpy(w.src, frame + 6, 6);
    struct rep_record rec;
    hts_value vals[REP_MAX_COLS];
    struct hts_pkt pkt;
    bool normalized = false; /* a 0 length or wire length comes back explicit */
    while (rep_next(&r, &rec) == 1) {
        int rc = 0;
        switch (rec.kind) {
        case REP_WATERMARK:
            rc = rep_add_watermark(&w, rec.ts);
            break;
        case REP_PARAM: /* the decoder checked its text: the encoder takes it */
            rc = rep_add_param(&w, rec.query, rec.ts, (const char *)rec.data, rec.cap_len);
            break;
        case REP_PACKET: {
            hts_decode(&pkt, rec.data, rec.cap_len, rec.wire_len, rec.ts, rec.port,
                       rec.linktype, NULL);
            const struct rep_layout *t[REP_MAX_TARGETS];
            for (int i = 0; i < rec.ntargets; i++) {
                int q, n;
                rep_record_target(&rec, i, &q, &n);
                t[i] = rep_layout_find(&schema, q, n, REP_PACKET);
                if (!t[i])
                    abort(); /* the decoder checked every target */
            }
            const uint8_t *start = rec.data - 28 - 4 * (rec.ntargets - 1);
            normalized |= (start[0] | start[1]) == 0 || (start[16] | start[17] | start[18] | start[19]) == 0;
            rc = rep_add_packet(&w, t, rec.ntargets, rec.ts, rec.data, rec.cap_len,
                                rec.wire_len, rec.port, rec.linktype);
            break;
        }
        default:
            if (rec.layout->packet) {
                rep_record_pkt(&rec, &pkt);
                rc = rep_add(&w, rec.layout, rec.ts, &pkt, NULL);
            } else {
                rep_record_values(&rec, vals);
                rc = rep_add(&w, rec.layout, rec.ts, NULL, vals);
            }
            break;
        }
        if (rc != 0)
            abort(); /* what the decoder accepted, the encoder must take */
    }
    size_t n = rep_frame_end(&w);
    /* the accepted frame, minus its padding, must come back byte for byte */
    size_t body = (size_t)(r.end - frame);
    if (n && !normalized && (n < body || memcmp(out, frame, body) != 0))
        abort();
    return 0;
}
