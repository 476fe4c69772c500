/*
 * htx.c - HTX1 batches, both ways (see htx.h and docs/export-format.md).
 */
#include "htx.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* HTX1 TYPE ORDER: docs/export-format.md lists these codes */
static uint8_t type_code(enum hts_type t)
{
    switch (t) {
    case TY_INT: return 1;
    case TY_BOOL: return 2;
    case TY_IPV4: return 3;
    case TY_IPV6: return 4;
    case TY_MAC: return 5;
    case TY_STR: return 6;
    default: return 0;
    }
}

static void be(struct rowbuf *b, uint64_t v, int bytes)
{
    for (int i = bytes - 1; i >= 0; i--)
        b->p[b->n++] = (char)(v >> (8 * i));
}

int htx_encode(struct rowbuf *b, const struct ir_query *q, const int64_t *ts,
               const hts_value *vals, int nrows, int ncols)
{
    size_t qlen = strlen(q->name);
    if (qlen > 255)
        qlen = 255;
    if (rowbuf_reserve(b, 16 + qlen) < 0)
        return -ENOMEM;
    memcpy(b->p + b->n, "HTX1", 4);
    b->n += 4;
    be(b, (uint64_t)ncols, 2);
    be(b, (uint64_t)nrows, 4);
    be(b, qlen, 1);
    memcpy(b->p + b->n, q->name, qlen);
    b->n += qlen;
    for (int c = 0; c < ncols; c++) {
        const struct ir_col *col = &q->root->cols[c];
        size_t n = strlen(col->name) > 255 ? 255 : strlen(col->name);
        if (rowbuf_reserve(b, 2 + n) < 0)
            return -ENOMEM;
        b->p[b->n++] = (char)type_code(col->type);
        b->p[b->n++] = (char)n;
        memcpy(b->p + b->n, col->name, n);
        b->n += n;
    }
    size_t bitmap = ((size_t)ncols + 7) / 8;
    for (int r = 0; r < nrows; r++) {
        const hts_value *row = &vals[(size_t)r * (size_t)ncols];
        /* one reservation per record: 16 bytes a value at most, plus strings */
        size_t most = 8 + bitmap + 16 * (size_t)ncols;
        for (int c = 0; c < ncols; c++)
            if (row[c].present && row[c].type == TY_STR)
                most += 2 + row[c].u.s.n;
        if (rowbuf_reserve(b, most) < 0)
            return -ENOMEM;
        uint8_t *d = (uint8_t *)b->p + b->n, *bm = d + 8;
        uint64_t t64 = __builtin_bswap64((uint64_t)ts[r]);
        memcpy(d, &t64, 8);
        memset(bm, 0, bitmap);
        d += 8 + bitmap;
        for (int c = 0; c < ncols; c++) {
            const hts_value *v = &row[c];
            if (!v->present)
                continue;
            bm[c / 8] |= (uint8_t)(0x80 >> (c % 8));
            switch ((enum hts_type)v->type) {
            case TY_INT: {
                uint64_t x = __builtin_bswap64((uint64_t)v->u.i);
                memcpy(d, &x, 8);
                d += 8;
                break;
            }
            case TY_BOOL: *d++ = (uint8_t)v->u.i; break;
            case TY_IPV4: {
                uint32_t x = __builtin_bswap32(v->u.ip4);
                memcpy(d, &x, 4);
                d += 4;
                break;
            }
            case TY_IPV6: memcpy(d, v->u.ip6, 16); d += 16; break;
            case TY_MAC: memcpy(d, v->u.mac, 6); d += 6; break;
            case TY_STR: {
                uint32_t n = v->u.s.n > 65535 ? 65535 : v->u.s.n;
                d[0] = (uint8_t)(n >> 8);
                d[1] = (uint8_t)n;
                if (n)
                    memcpy(d + 2, v->u.s.p, n);
                d += 2 + n;
                break;
            }
            default: break;
            }
        }
        b->n = (size_t)((char *)d - b->p);
    }
    return 0;
}

static uint64_t get_be(const uint8_t *p, int bytes)
{
    uint64_t v = 0;
    for (int i = 0; i < bytes; i++)
        v = v << 8 | p[i];
    return v;
}

long htx_decode(const uint8_t *buf, size_t len, htx_record_fn fn, void *ctx, char *err,
                size_t errlen)
{
#define NEED(n, what)                                                          \
    do {                                                                       \
        if (len - off < (size_t)(n)) {                                         \
            snprintf(err, errlen, "HTX1 batch cut short in %s at byte %zu",    \
                     what, off);                                               \
            rc = -ENODATA;                                                     \
            goto out;                                                          \
        }                                                                      \
    } while (0)
    struct htx_header h = {0};
    hts_value *vals = NULL;
    long rc = 0;
    size_t off = 0;
    if (len >= 4 && memcmp(buf, "HTX1", 4) != 0) {
        snprintf(err, errlen, "not an HTX1 batch (its first bytes are not 'HTX1')");
        return -EINVAL;
    }
    NEED(11, "the header");
    if (memcmp(buf, "HTX1", 4) != 0) {
        snprintf(err, errlen, "not an HTX1 batch (its first bytes are not 'HTX1')");
        return -EINVAL;
    }
    h.ncols = (int)get_be(buf + 4, 2);
    uint64_t nrec = get_be(buf + 6, 4);
    h.query_len = buf[10];
    off = 11;
    NEED(h.query_len, "the query name");
    h.query = (const char *)buf + off;
    off += h.query_len;
    h.names = calloc((size_t)h.ncols + 1, sizeof *h.names);
    h.name_lens = calloc((size_t)h.ncols + 1, sizeof *h.name_lens);
    h.types = calloc((size_t)h.ncols + 1, 1);
    vals = calloc((size_t)h.ncols + 1, sizeof *vals);
    if (!h.names || !h.name_lens || !h.types || !vals) {
        rc = -ENOMEM;
        goto out;
    }
    for (int c = 0; c < h.ncols; c++) {
        NEED(2, "a column descriptor");
        h.types[c] = buf[off];
        h.name_lens[c] = buf[off + 1];
        off += 2;
        NEED(h.name_lens[c], "a column name");
        h.names[c] = (const char *)buf + off;
        off += h.name_lens[c];
        if (h.types[c] < 1 || h.types[c] > 6) {
            snprintf(err, errlen, "HTX1 column %d has the unknown type code %u", c, h.types[c]);
            rc = -EINVAL;
            goto out;
        }
    }
    size_t bitmap = ((size_t)h.ncols + 7) / 8;
    for (uint64_t r = 0; r < nrec; r++) {
        NEED(8 + bitmap, "a record");
        int64_t ts = (int64_t)get_be(buf + off, 8);
        const uint8_t *bm = buf + off + 8;
        off += 8 + bitmap;
        for (int c = 0; c < h.ncols; c++) {
            hts_value *v = &vals[c];
            static const enum hts_type types[7] = {TY_ERROR, TY_INT, TY_BOOL, TY_IPV4,
                                                   TY_IPV6, TY_MAC, TY_STR};
            memset(v, 0, sizeof *v);
            v->type = (uint8_t)types[h.types[c]];
            if (!(bm[c / 8] & (0x80 >> (c % 8))))
                continue;
            v->present = 1;
            switch (h.types[c]) {
            case 1: NEED(8, "a value"); v->u.i = (int64_t)get_be(buf + off, 8); off += 8; break;
            case 2: NEED(1, "a value"); v->u.i = buf[off] != 0; off += 1; break;
            case 3: NEED(4, "a value"); v->u.ip4 = (uint32_t)get_be(buf + off, 4); off += 4; break;
            case 4: NEED(16, "a value"); memcpy(v->u.ip6, buf + off, 16); off += 16; break;
            case 5: NEED(6, "a value"); memcpy(v->u.mac, buf + off, 6); off += 6; break;
            default: {
                NEED(2, "a string's length");
                uint32_t n = (uint32_t)get_be(buf + off, 2);
                off += 2;
                NEED(n, "a string");
                v->u.s.p = buf + off;
                v->u.s.n = n;
                off += n;
            }
            }
        }
        int k = fn ? fn(ctx, &h, ts, vals) : 0;
        if (k) {
            rc = k;
            goto out;
        }
    }
    rc = (long)off;
out:
    free(h.names);
    free(h.name_lens);
    free(h.types);
    free(vals);
    return rc;
#undef NEED
}
