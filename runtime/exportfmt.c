/*
 * exportfmt.c - HTX1 batches (see exportfmt.h and docs/export-format.md).
 */
#include "exportfmt.h"

#include <errno.h>
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

static int need(struct rowbuf *b, size_t more)
{
    if (b->n + more <= b->cap)
        return 0;
    size_t cap = b->cap ? b->cap : 4096;
    while (cap < b->n + more)
        cap *= 2;
    char *p = realloc(b->p, cap);
    if (!p)
        return -ENOMEM;
    b->p = p;
    b->cap = cap;
    return 0;
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
    if (need(b, 16 + qlen) < 0)
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
        if (need(b, 2 + n) < 0)
            return -ENOMEM;
        b->p[b->n++] = (char)type_code(col->type);
        b->p[b->n++] = (char)n;
        memcpy(b->p + b->n, col->name, n);
        b->n += n;
    }
    size_t bitmap = ((size_t)ncols + 7) / 8;
    for (int r = 0; r < nrows; r++) {
        const hts_value *row = &vals[(size_t)r * (size_t)ncols];
        if (need(b, 8 + bitmap) < 0)
            return -ENOMEM;
        be(b, (uint64_t)ts[r], 8);
        size_t bm = b->n;
        memset(b->p + bm, 0, bitmap);
        b->n += bitmap;
        for (int c = 0; c < ncols; c++) {
            const hts_value *v = &row[c];
            if (!v->present)
                continue;
            b->p[bm + (size_t)c / 8] |= (char)(0x80 >> (c % 8));
            if (need(b, 24 + (v->type == TY_STR ? v->u.s.n : 0)) < 0)
                return -ENOMEM;
            switch ((enum hts_type)v->type) {
            case TY_INT: be(b, (uint64_t)v->u.i, 8); break;
            case TY_BOOL: be(b, (uint64_t)v->u.i, 1); break;
            case TY_IPV4: be(b, v->u.ip4, 4); break;
            case TY_IPV6: memcpy(b->p + b->n, v->u.ip6, 16); b->n += 16; break;
            case TY_MAC: memcpy(b->p + b->n, v->u.mac, 6); b->n += 6; break;
            case TY_STR: {
                uint32_t n = v->u.s.n > 65535 ? 65535 : v->u.s.n;
                be(b, n, 2);
                memcpy(b->p + b->n, v->u.s.p, n);
                b->n += n;
                break;
            }
            default: break;
            }
        }
    }
    return 0;
}
