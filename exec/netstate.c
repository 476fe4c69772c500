/*
 * netstate.c - network-wide queries: routing a query's state to Kafka
 * partitions, and the HTSN state messages between sites and htsmerge
 * (netstate.h draws the format).
 */
#include "netstate.h"

#include <string.h>

/* ---- routing ---- */

static bool stateful_in(const struct ir_node *n, const bool *st)
{
    for (int i = 0; i < n->nin; i++)
        if (st[n->in[i]->id])
            return true;
    return false;
}

void ns_route(const struct ir_query *q, struct ns_route *r)
{
    memset(r, 0, sizeof *r);
    r->node = -1;
    /* upstream[k]: node k has a stateful node at or above it */
    bool upstream[512];
    int carry[512][IR_MAX_KEYS + 2 * IR_MAX_AGGS + 2]; /* per node and column:
                                                          * the frontier key it
                                                          * is, or -1 */
    if (q->nnodes > 512)
        return;
    int frontier = -1, nfrontier = 0;
    for (int k = 0; k < q->nnodes; k++) {
        const struct ir_node *n = q->nodes[k];
        bool up = stateful_in(n, upstream);
        upstream[k] = up || ir_kind_stateful(n->kind);
        if (ir_kind_stateful(n->kind) && !up) {
            frontier = k;
            nfrontier++;
        }
    }
    if (nfrontier != 1)
        return; /* several branches: one partition */
    r->node = frontier;
    const struct ir_node *f = q->nodes[frontier];
    if (f->kind != IR_GROUPBY && f->kind != IR_DISTINCT)
        return;
    if (f->sketch)
        return; /* a Count-Min sketch's counters serve every key: one partition */
    bool keep[IR_MAX_KEYS];
    for (int i = 0; i < f->nkeys && i < IR_MAX_KEYS; i++)
        keep[i] = true;
    const int maxc = IR_MAX_KEYS + 2 * IR_MAX_AGGS + 2;
    for (int k = frontier; k < q->nnodes; k++) {
        const struct ir_node *n = q->nodes[k];
        int *c = carry[k];
        for (int j = 0; j < maxc; j++)
            c[j] = -1;
        if (k == frontier) {
            for (int j = 0; j < f->nkeys && j < maxc; j++)
                c[j] = j;
            continue;
        }
        if (!upstream[k] || n->nin == 0)
            continue; /* another branch (a join's other side: refused below) */
        if (n->nin != 1 || n->ncols > maxc || n->kind == IR_JOIN || n->kind == IR_FOLD ||
            n->kind == IR_HISTOGRAM)
            return; /* nothing is kept for sure: one partition */
        const int *in = carry[n->in[0]->id];
        switch (n->kind) {
        case IR_FILTER:
        case IR_SAMPLE:
            memcpy(c, in, (size_t)maxc * sizeof *c);
            break;
        case IR_MAP:
        case IR_EXPORT:
        case IR_GROUPBY:
        case IR_DISTINCT: {
            int nk = n->kind == IR_MAP || n->kind == IR_EXPORT ? n->nexprs : n->nkeys;
            for (int j = 0; j < nk && j < maxc; j++) {
                const struct ast_expr *e = n->exprs[j];
                if (e->kind == E_NAME && e->ref_kind == REF_COL && e->ref >= 0 && e->ref < maxc)
                    c[j] = in[e->ref];
            }
            if (n->kind == IR_GROUPBY || n->kind == IR_DISTINCT) {
                /* a frontier key that is not one of this node's keys may
                 * differ between the rows that meet here */
                for (int i = 0; i < f->nkeys; i++) {
                    bool found = false;
                    for (int j = 0; j < n->nkeys && j < maxc; j++)
                        found |= c[j] == i;
                    keep[i] &= found;
                }
            }
            break;
        }
        default:
            return;
        }
    }
    for (int i = 0; i < f->nkeys && i < IR_MAX_KEYS; i++)
        if (keep[i])
            r->cols[r->ncols++] = i;
}

int32_t ns_partition(const struct ir_query *q, const struct ns_route *r,
                     const hts_value *row, int32_t nparts)
{
    uint64_t h = 0x9e3779b97f4a7c15ULL;
    if (r->ncols == 0) {
        for (const char *s = q->name; *s; s++)
            h = (h ^ (uint8_t)*s) * 0x100000001b3ULL;
    } else {
        for (int i = 0; i < r->ncols; i++)
            h = hts_value_hash(&row[r->cols[i]], h);
    }
    h ^= h >> 33; /* FNV's low bits are weak: fold the high ones in */
    return nparts > 0 ? (int32_t)(h % (uint64_t)nparts) : 0;
}

/* ---- encoding ---- */

static void put8(struct rowbuf *b, uint8_t v)
{
    b->p[b->n++] = (char)v;
}

static void put16(struct rowbuf *b, uint16_t v)
{
    put8(b, (uint8_t)(v >> 8));
    put8(b, (uint8_t)v);
}

static void put32(struct rowbuf *b, uint32_t v)
{
    put16(b, (uint16_t)(v >> 16));
    put16(b, (uint16_t)v);
}

static void put64(struct rowbuf *b, uint64_t v)
{
    put32(b, (uint32_t)(v >> 32));
    put32(b, (uint32_t)v);
}

static void putn(struct rowbuf *b, const void *p, size_t n)
{
    if (n)
        memcpy(b->p + b->n, p, n);
    b->n += n;
}

static int head(struct rowbuf *b, int kind, const char *site, uint64_t epoch, uint64_t seq)
{
    size_t sl = strlen(site);
    if (sl > NS_MAX_SITE || rowbuf_reserve(b, 4 + 2 + 1 + sl + 16) < 0)
        return -1;
    putn(b, NS_MAGIC, 4);
    put8(b, NS_VERSION);
    put8(b, (uint8_t)kind);
    put8(b, (uint8_t)sl);
    putn(b, site, sl);
    put64(b, epoch);
    put64(b, seq);
    return 0;
}

static int put_value(struct rowbuf *b, const hts_value *v)
{
    size_t need = 2 + 17 + (v->type == TY_STR && v->present ? v->u.s.n + 4 : 0);
    if (rowbuf_reserve(b, need) < 0)
        return -1;
    put8(b, v->type);
    put8(b, v->present ? 1 : 0);
    if (!v->present)
        return 0;
    switch ((enum hts_type)v->type) {
    case TY_BOOL:
    case TY_INT:
    case TY_TYPESET:
        put64(b, (uint64_t)v->u.i);
        return 0;
    case TY_IPV4:
        put32(b, v->u.ip4);
        return 0;
    case TY_PREFIX4:
        put8(b, v->plen);
        put32(b, v->u.ip4);
        return 0;
    case TY_IPV6:
        putn(b, v->u.ip6, 16);
        return 0;
    case TY_PREFIX6:
        put8(b, v->plen);
        putn(b, v->u.ip6, 16);
        return 0;
    case TY_MAC:
        putn(b, v->u.mac, 6);
        return 0;
    case TY_STR:
        put32(b, v->u.s.n);
        putn(b, v->u.s.p, v->u.s.n);
        return 0;
    default:
        return -1;
    }
}

int ns_encode_state(struct rowbuf *b, const char *site, uint64_t epoch, uint64_t seq,
                    const char *query, int node, int64_t window_start, int ncols,
                    const hts_value *rows, int nrows)
{
    size_t start = b->n, ql = strlen(query);
    if (ql > 255 || ncols < 0 || ncols > NS_MAX_COLS || nrows < 0 || node < 0 ||
        node > 0xffff || head(b, NS_STATE, site, epoch, seq) < 0 ||
        rowbuf_reserve(b, 1 + ql + 2 + 8 + 2 + 4) < 0)
        goto fail;
    put8(b, (uint8_t)ql);
    putn(b, query, ql);
    put16(b, (uint16_t)node);
    put64(b, (uint64_t)window_start);
    put16(b, (uint16_t)ncols);
    put32(b, (uint32_t)nrows);
    for (size_t i = 0; i < (size_t)nrows * (size_t)ncols; i++)
        if (put_value(b, &rows[i]) < 0)
            goto fail;
    return 0;
fail:
    b->n = start;
    return -1;
}

int ns_append_row(struct rowbuf *b, size_t nrows_at, uint32_t nrows,
                  const hts_value *row, int ncols)
{
    size_t start = b->n;
    for (int c = 0; c < ncols; c++)
        if (put_value(b, &row[c]) < 0) {
            b->n = start;
            return -1;
        }
    for (int i = 0; i < 4; i++)
        b->p[nrows_at - 4 + (size_t)i] = (char)(nrows >> (24 - 8 * i));
    return 0;
}

int ns_encode_watermark(struct rowbuf *b, const char *site, uint64_t epoch,
                        uint64_t seq, int64_t watermark)
{
    size_t start = b->n;
    if (head(b, NS_WATERMARK, site, epoch, seq) < 0 || rowbuf_reserve(b, 8) < 0) {
        b->n = start;
        return -1;
    }
    put64(b, (uint64_t)watermark);
    return 0;
}

/* ---- decoding ---- */

struct rd {
    const uint8_t *p, *end;
    bool bad;
};

static bool need(struct rd *r, size_t n)
{
    if (r->bad || (size_t)(r->end - r->p) < n) {
        r->bad = true;
        return false;
    }
    return true;
}

static uint64_t get(struct rd *r, int bytes)
{
    if (!need(r, (size_t)bytes))
        return 0;
    uint64_t v = 0;
    for (int i = 0; i < bytes; i++)
        v = v << 8 | r->p[i];
    r->p += bytes;
    return v;
}

static const uint8_t *skip(struct rd *r, size_t n)
{
    if (!need(r, n))
        return NULL;
    const uint8_t *p = r->p;
    r->p += n;
    return p;
}

/* The payload length of a present value of type t; -1: not a state type. */
static int fixed_len(int t)
{
    switch (t) {
    case TY_BOOL:
    case TY_INT:
    case TY_TYPESET: return 8;
    case TY_IPV4: return 4;
    case TY_PREFIX4: return 5;
    case TY_IPV6: return 16;
    case TY_PREFIX6: return 17;
    case TY_MAC: return 6;
    case TY_STR: return 0; /* length-prefixed */
    default: return -1;
    }
}

/* names are printable ASCII without spaces: what --site and a query's
 * name can be */
static bool name_ok(const char *p, size_t n)
{
    for (size_t i = 0; p && i < n; i++)
        if (p[i] < 0x21 || p[i] > 0x7e)
            return false;
    return true;
}

int ns_decode(const void *msg, size_t len, struct ns_msg *m, char *why, size_t whylen)
{
    struct rd r = {.p = msg, .end = (const uint8_t *)msg + len};
    memset(m, 0, sizeof *m);
    const uint8_t *magic = skip(&r, 4);
    if (!magic || memcmp(magic, NS_MAGIC, 4) != 0) {
        snprintf(why, whylen, "not a state message (no HTSN magic)");
        return -1;
    }
    int version = (int)get(&r, 1);
    if (!r.bad && version != NS_VERSION) {
        snprintf(why, whylen, "state message of version %d (this build reads %d)",
                 version, NS_VERSION);
        return -1;
    }
    m->kind = (int)get(&r, 1);
    m->site_len = (size_t)get(&r, 1);
    m->site = (const char *)skip(&r, m->site_len);
    m->epoch = get(&r, 8);
    m->seq = get(&r, 8);
    if (!r.bad && (m->site_len == 0 || m->site_len > NS_MAX_SITE ||
                   !name_ok(m->site, m->site_len))) {
        snprintf(why, whylen, "a site name of %zu bytes, or not printable", m->site_len);
        return -1;
    }
    if (m->kind == NS_WATERMARK) {
        m->watermark = (int64_t)get(&r, 8);
    } else if (m->kind == NS_STATE) {
        m->query_len = (size_t)get(&r, 1);
        m->query = (const char *)skip(&r, m->query_len);
        if (!r.bad && (m->query_len == 0 || !name_ok(m->query, m->query_len))) {
            snprintf(why, whylen, "a query name that is not printable");
            return -1;
        }
        m->node = (int)get(&r, 2);
        m->window_start = (int64_t)get(&r, 8);
        m->ncols = (int)get(&r, 2);
        m->nrows = (uint32_t)get(&r, 4);
        m->vals = r.p;
        if (!r.bad && (m->ncols > NS_MAX_COLS || (m->ncols == 0 && m->nrows))) {
            snprintf(why, whylen, "a state row of %d columns", m->ncols);
            return -1;
        }
        for (uint64_t i = 0; !r.bad && i < (uint64_t)m->nrows * (uint64_t)m->ncols; i++) {
            int t = (int)get(&r, 1);
            int present = (int)get(&r, 1);
            int fl = fixed_len(t);
            if (!r.bad && (fl < 0 || present > 1)) {
                snprintf(why, whylen, "a value of unknown type %d", t);
                return -1;
            }
            if (!present)
                continue;
            skip(&r, fl > 0 ? (size_t)fl : (size_t)get(&r, 4));
        }
    } else if (!r.bad) {
        snprintf(why, whylen, "a state message of unknown kind %d", m->kind);
        return -1;
    }
    if (r.bad) {
        snprintf(why, whylen, "a truncated state message (%zu bytes)", len);
        return -1;
    }
    if (r.p != r.end) {
        snprintf(why, whylen, "%zu bytes after the end of a state message",
                 (size_t)(r.end - r.p));
        return -1;
    }
    m->end = r.end;
    return 0;
}

void ns_next_row(const struct ns_msg *m, const uint8_t **pos, hts_value *row)
{
    struct rd r = {.p = *pos, .end = m->end};
    for (int c = 0; c < m->ncols; c++) {
        hts_value *v = &row[c];
        memset(v, 0, sizeof *v);
        v->type = (uint8_t)get(&r, 1);
        v->present = (uint8_t)get(&r, 1);
        if (!v->present)
            continue;
        switch ((enum hts_type)v->type) {
        case TY_BOOL:
        case TY_INT:
        case TY_TYPESET:
            v->u.i = (int64_t)get(&r, 8);
            break;
        case TY_PREFIX4:
            v->plen = (uint8_t)get(&r, 1);
            /* fall through */
        case TY_IPV4:
            v->u.ip4 = (uint32_t)get(&r, 4);
            break;
        case TY_PREFIX6:
            v->plen = (uint8_t)get(&r, 1);
            /* fall through */
        case TY_IPV6:
            memcpy(v->u.ip6, skip(&r, 16), 16);
            break;
        case TY_MAC:
            memcpy(v->u.mac, skip(&r, 6), 6);
            break;
        case TY_STR:
            v->u.s.n = (uint32_t)get(&r, 4);
            v->u.s.p = skip(&r, v->u.s.n);
            break;
        default:
            break;
        }
    }
    *pos = r.p;
}
