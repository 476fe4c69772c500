/*
 * report.c - encoder and decoder of report frames (see report.h and
 * docs/wire-format.md).
 *
 * Both directions walk the same struct rep_layout, column by column, with the
 * same per-type rules (put_value / check_value / get_value), so they cannot
 * drift apart. The decoder validates a frame completely in rep_frame_open()
 * before rep_next() hands out records; after that, reading values cannot
 * fail.
 */
#include "report.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

const char *const rep_err_names[REP_ERR__COUNT] = {
#define X(id, name, text) [REP_ERR_##id] = name,
    REP_ERRORS(X)
#undef X
};

const char *const rep_err_text[REP_ERR__COUNT] = {
#define X(id, name, text) [REP_ERR_##id] = text,
    REP_ERRORS(X)
#undef X
};

static const struct {
    int code;
    const char *name;
} kinds[] = {
#define X(id, code, name) {code, name},
    REP_KINDS(X)
#undef X
};

const char *rep_kind_name(int kind)
{
    for (size_t i = 0; i < sizeof kinds / sizeof kinds[0]; i++)
        if (kinds[i].code == kind)
            return kinds[i].name;
    return NULL;
}

int rep_kind_lookup(const char *name)
{
    for (size_t i = 0; i < sizeof kinds / sizeof kinds[0]; i++)
        if (strcmp(kinds[i].name, name) == 0)
            return kinds[i].code;
    return -1;
}

/* ---- big-endian helpers ---- */

static void put_be(uint8_t *p, uint64_t v, unsigned n)
{
    for (unsigned i = 0; i < n; i++)
        p[i] = (uint8_t)(v >> (8 * (n - 1 - i)));
}

static uint64_t get_be(const uint8_t *p, unsigned n)
{
    uint64_t v = 0;
    for (unsigned i = 0; i < n; i++)
        v = v << 8 | p[i];
    return v;
}

/* ---- schema ---- */

static bool col_ok(const struct rep_col *c, bool packet)
{
    if (packet && (c->field < 0 || c->field >= FLD__COUNT))
        return false;
    if (c->field >= FLD__COUNT)
        return false;
    switch (c->type) {
    case TY_INT: return c->bits >= 1 && c->bits <= 64;
    case TY_BOOL: return c->bits == 1;
    case TY_IPV4: return c->bits == 32;
    case TY_IPV6: return c->bits == 128;
    case TY_MAC: return c->bits == 48;
    default: return false;
    }
}

/* TUPLE, ROW, PACKET, PARTIAL -> 0, 1, 2, 3 in the index */
#define KIND_SLOTS 4
static int kind_slot(int kind)
{
    return kind == REP_TUPLE ? 0 : kind == REP_ROW ? 1 : kind == REP_PACKET ? 2
         : kind == REP_PARTIAL ? 3 : -1;
}

int rep_schema_init(struct rep_schema *s, uint64_t fingerprint,
                    struct rep_layout *layouts, int n)
{
    memset(s, 0, sizeof *s);
    s->fingerprint = fingerprint;
    s->layouts = layouts;
    s->nlayouts = n;
    int nq = 0;
    for (int i = 0; i < n; i++) {
        struct rep_layout *l = &layouts[i];
        if (l->query < 0 || l->query >= REP_NONE || l->node < 0 ||
            l->node >= REP_NONE ||
            kind_slot(l->kind) < 0 ||
            l->ncols < 0 || l->ncols > REP_MAX_COLS || (l->packet && l->kind != REP_TUPLE) ||
            (l->kind == REP_PACKET && l->ncols))
            return -EINVAL;
        if (l->kind == REP_PACKET) {
            l->presence_bytes = 0;
            l->rec_len = 0;
            if (l->query + 1 > nq)
                nq = l->query + 1;
            continue;
        }
        unsigned len = REP_REC_HDR_LEN + ((unsigned)l->ncols + 7) / 8;
        for (int c = 0; c < l->ncols; c++) {
            if (!col_ok(&l->cols[c], l->packet))
                return -EINVAL;
            len += rep_col_bytes(&l->cols[c]);
        }
        if (len + REP_ETH_LEN + REP_HDR_LEN > REP_MAX_FRAME)
            return -EINVAL;
        l->presence_bytes = (uint16_t)((l->ncols + 7) / 8);
        l->rec_len = (uint16_t)len;
        if (l->query + 1 > nq)
            nq = l->query + 1;
    }
    s->nqueries = nq;
    s->qbase = calloc((size_t)nq + 1, sizeof *s->qbase);
    if (!s->qbase)
        return -ENOMEM;
    /* per query: room for (max node + 1) * KIND_SLOTS kinds */
    for (int i = 0; i < n; i++) {
        int need = (layouts[i].node + 1) * KIND_SLOTS;
        if (need > s->qbase[layouts[i].query + 1])
            s->qbase[layouts[i].query + 1] = need;
    }
    for (int q = 0; q < nq; q++)
        s->qbase[q + 1] += s->qbase[q];
    s->idx = malloc(((size_t)s->qbase[nq] + 1) * sizeof *s->idx);
    if (!s->idx) {
        rep_schema_free(s);
        return -ENOMEM;
    }
    for (int i = 0; i < s->qbase[nq]; i++)
        s->idx[i] = -1;
    for (int i = 0; i < n; i++) {
        const struct rep_layout *l = &layouts[i];
        int k = s->qbase[l->query] + l->node * KIND_SLOTS + kind_slot(l->kind);
        if (s->idx[k] >= 0) {
            rep_schema_free(s);
            return -EINVAL;
        }
        s->idx[k] = i;
    }
    return 0;
}

void rep_schema_free(struct rep_schema *s)
{
    free(s->qbase);
    free(s->idx);
    s->qbase = NULL;
    s->idx = NULL;
}

const struct rep_layout *rep_layout_find(const struct rep_schema *s, int query,
                                         int node, int kind)
{
    if (query < 0 || query >= s->nqueries || node < 0 || kind_slot(kind) < 0 ||
        !s->idx)
        return NULL;
    int k = s->qbase[query] + node * KIND_SLOTS + kind_slot(kind);
    if (k >= s->qbase[query + 1])
        return NULL;
    return s->idx[k] >= 0 ? &s->layouts[s->idx[k]] : NULL;
}

/* ---- values ---- */

/* Writes v into p for column c; false if it does not fit the width. */
static bool put_value(uint8_t *p, const struct rep_col *c, const hts_value *v)
{
    unsigned n = rep_col_bytes(c);
    switch (c->type) {
    case TY_INT: {
        uint64_t x = (uint64_t)v->u.i;
        if (c->bits < 64 && (v->u.i < 0 || x >> c->bits))
            return false;
        put_be(p, x, n);
        return true;
    }
    case TY_BOOL:
        p[0] = v->u.i ? 1 : 0;
        return true;
    case TY_IPV4:
        put_be(p, v->u.ip4, 4);
        return true;
    case TY_IPV6:
        memcpy(p, v->u.ip6, 16);
        return true;
    case TY_MAC:
        memcpy(p, v->u.mac, 6);
        return true;
    default:
        return false;
    }
}

static bool check_value(const uint8_t *p, const struct rep_col *c, bool present)
{
    unsigned n = rep_col_bytes(c);
    if (!present) {
        for (unsigned i = 0; i < n; i++)
            if (p[i])
                return false;
        return true;
    }
    unsigned spare = n * 8 - c->bits;
    if (spare && (p[0] >> (8 - spare)))
        return false;
    return true;
}

static hts_value get_value(const uint8_t *p, const struct rep_col *c,
                           bool present)
{
    if (!present)
        return hts_absent(c->type);
    hts_value v = {.type = (uint8_t)c->type, .present = 1};
    switch (c->type) {
    case TY_INT:
    case TY_BOOL:
        v.u.i = (int64_t)get_be(p, rep_col_bytes(c));
        break;
    case TY_IPV4:
        v.u.ip4 = (uint32_t)get_be(p, 4);
        break;
    case TY_IPV6:
        memcpy(v.u.ip6, p, 16);
        break;
    case TY_MAC:
        memcpy(v.u.mac, p, 6);
        break;
    default:
        break;
    }
    return v;
}

/* The value of catalogue field f in pkt as the column's value type. */
static hts_value pkt_value(const struct hts_pkt *pkt, const struct rep_col *c)
{
    if (!pkt || !hts_pkt_has(pkt, (enum hts_field)c->field))
        return hts_absent(c->type);
    hts_value v = {.type = (uint8_t)c->type, .present = 1};
    const union hts_fv *f = &pkt->f[c->field];
    switch (c->type) {
    case TY_INT:
    case TY_BOOL:
        v.u.i = (int64_t)f->u;
        break;
    case TY_IPV4:
        v.u.ip4 = (uint32_t)f->u;
        break;
    case TY_IPV6:
        memcpy(v.u.ip6, f->b, 16);
        break;
    case TY_MAC:
        memcpy(v.u.mac, f->b, 6);
        break;
    default:
        break;
    }
    return v;
}

/* ---- encoder ---- */

static const uint8_t model_dst[6] = {0x02, 0x48, 0x54, 0x53, 0x00, 0x01};
static const uint8_t model_src[6] = {0x02, 0x48, 0x54, 0x53, 0x00, 0x00};

void rep_writer_init(struct rep_writer *w, const struct rep_schema *s,
                     uint8_t *buf, size_t max_frame)
{
    memset(w, 0, sizeof *w);
    w->s = s;
    w->buf = buf;
    w->max_frame = max_frame > REP_MAX_FRAME ? REP_MAX_FRAME : max_frame;
    memcpy(w->dst, model_dst, 6);
    memcpy(w->src, model_src, 6);
}

static int reserve(struct rep_writer *w, size_t rec_len)
{
    size_t max = w->max_frame;
    if (REP_ETH_LEN + REP_HDR_LEN + rec_len > max) {
        /* only a packet record gets here: alone, in a frame as big as needed */
        if (REP_ETH_LEN + REP_HDR_LEN + rec_len > REP_MAX_FRAME)
            return -EMSGSIZE;
        if (w->len)
            return -ENOSPC;
        max = REP_MAX_FRAME;
    }
    if (w->len == 0) {
        uint8_t *b = w->buf;
        memcpy(b, w->dst, 6);
        memcpy(b + 6, w->src, 6);
        put_be(b + 12, REP_ETHERTYPE, 2);
        put_be(b + 14, REP_MAGIC, 4);
        b[18] = REP_VERSION;
        b[19] = 0;
        put_be(b + 20, 0, 2);
        put_be(b + 22, w->s->fingerprint, 8);
        put_be(b + 30, w->seq, 4);
        w->len = REP_ETH_LEN + REP_HDR_LEN;
    }
    if (w->len + rec_len > max)
        return -ENOSPC;
    return 0;
}

static void put_rec_hdr(uint8_t *p, size_t len, int query, int node, int kind,
                        uint64_t ts)
{
    put_be(p, len, 2);
    put_be(p + 2, (uint64_t)query, 2);
    put_be(p + 4, (uint64_t)node, 2);
    p[6] = (uint8_t)kind;
    p[7] = 0;
    put_be(p + 8, ts, 8);
}

int rep_add(struct rep_writer *w, const struct rep_layout *l, uint64_t ts,
            const struct hts_pkt *pkt, const hts_value *vals)
{
    int rc = reserve(w, l->rec_len);
    if (rc < 0)
        return rc;
    uint8_t *p = w->buf + w->len;
    memset(p, 0, l->rec_len);
    put_rec_hdr(p, l->rec_len, l->query, l->node, l->kind, ts);
    uint8_t *pres = p + REP_REC_HDR_LEN;
    uint8_t *v = pres + l->presence_bytes;
    for (int c = 0; c < l->ncols; c++) {
        const struct rep_col *col = &l->cols[c];
        hts_value x = l->packet ? pkt_value(pkt, col) : vals[c];
        if (x.present) {
            if (!put_value(v, col, &x))
                return -ERANGE;
            pres[c / 8] |= (uint8_t)(0x80 >> (c % 8));
        }
        v += rep_col_bytes(col);
    }
    w->len += l->rec_len;
    w->count++;
    return 0;
}

int rep_add_packet(struct rep_writer *w, const struct rep_layout *const *t,
                   int nt, uint64_t ts, const uint8_t *data, uint32_t cap_len,
                   uint32_t wire_len, uint16_t port, uint16_t linktype)
{
    if (nt < 1 || nt > REP_MAX_TARGETS)
        return -EINVAL;
    size_t rl = REP_REC_HDR_LEN + REP_PKT_HDR_LEN + 4 * (size_t)(nt - 1) + (size_t)cap_len;
    if (rl > 0xffff)
        return -EMSGSIZE;
    int rc = reserve(w, rl);
    if (rc < 0)
        return rc;
    uint8_t *p = w->buf + w->len;
    put_rec_hdr(p, rl, t[0]->query, t[0]->node, REP_PACKET, ts);
    put_be(p + 16, wire_len, 4);
    put_be(p + 20, port, 2);
    put_be(p + 22, linktype, 2);
    put_be(p + 24, (uint64_t)(nt - 1), 2);
    put_be(p + 26, 0, 2);
    for (int i = 1; i < nt; i++) {
        put_be(p + 28 + 4 * (i - 1), (uint64_t)t[i]->query, 2);
        put_be(p + 30 + 4 * (i - 1), (uint64_t)t[i]->node, 2);
    }
    if (cap_len)
        memcpy(p + 28 + 4 * (nt - 1), data, cap_len);
    w->len += rl;
    w->count++;
    return 0;
}

int rep_add_watermark(struct rep_writer *w, uint64_t ts)
{
    int rc = reserve(w, REP_REC_HDR_LEN);
    if (rc < 0)
        return rc;
    put_rec_hdr(w->buf + w->len, REP_REC_HDR_LEN, REP_NONE, REP_NONE,
                REP_WATERMARK, ts);
    w->len += REP_REC_HDR_LEN;
    w->count++;
    return 0;
}

/* A param record's text: NAME=VALUE, printable ASCII, a name first. */
static bool param_text_ok(const uint8_t *t, size_t len)
{
    if (len < 3 || len > REP_MAX_PARAM)
        return false;
    size_t eq = 0;
    for (size_t i = 0; i < len; i++) {
        if (t[i] < 0x20 || t[i] > 0x7e)
            return false;
        if (t[i] == '=' && !eq)
            eq = i;
    }
    return eq > 0 && eq + 1 < len;
}

int rep_add_param(struct rep_writer *w, int query, uint64_t ts, const char *text,
                  size_t len)
{
    if (query < 0 || query >= REP_NONE || !param_text_ok((const uint8_t *)text, len))
        return -EINVAL;
    size_t rl = REP_REC_HDR_LEN + len;
    int rc = reserve(w, rl);
    if (rc < 0)
        return rc;
    put_rec_hdr(w->buf + w->len, rl, query, REP_NONE, REP_PARAM, ts);
    memcpy(w->buf + w->len + REP_REC_HDR_LEN, text, len);
    w->len += rl;
    w->count++;
    return 0;
}

size_t rep_frame_end(struct rep_writer *w)
{
    if (!w->count) {
        w->len = 0;
        return 0;
    }
    put_be(w->buf + 20, w->count, 2);
    size_t len = w->len;
    if (len < REP_MIN_FRAME) {
        memset(w->buf + len, 0, REP_MIN_FRAME - len);
        len = REP_MIN_FRAME;
    }
    w->len = 0;
    w->count = 0;
    w->seq++;
    return len;
}

/* ---- decoder ---- */

static int refuse(struct rep_stats *st, enum rep_err e)
{
    if (st)
        st->errors[e]++;
    return -(1 + (int)e);
}

static int check_header(const uint8_t *f, size_t len)
{
    if (len < REP_ETH_LEN + REP_HDR_LEN)
        return REP_ERR_SHORT;
    if (get_be(f + 12, 2) != REP_ETHERTYPE)
        return REP_ERR_ETHERTYPE;
    if (get_be(f + 14, 4) != REP_MAGIC)
        return REP_ERR_MAGIC;
    if (f[18] != REP_VERSION)
        return REP_ERR_VERSION;
    if (f[19] != 0)
        return REP_ERR_FLAGS;
    return -1;
}

int rep_frame_fingerprint(const uint8_t *frame, size_t len, uint64_t *fp)
{
    int e = check_header(frame, len);
    if (e >= 0)
        return -(1 + e);
    *fp = get_be(frame + 22, 8);
    return 0;
}

/* Checks one record's presence padding and values. */
static bool check_record(const uint8_t *p, const struct rep_layout *l)
{
    const uint8_t *pres = p + REP_REC_HDR_LEN;
    const uint8_t *v = pres + l->presence_bytes;
    if (l->ncols % 8 && (pres[l->ncols / 8] & (0xff >> (l->ncols % 8))))
        return false;
    for (int c = 0; c < l->ncols; c++) {
        bool present = pres[c / 8] & (0x80 >> (c % 8));
        if (!check_value(v, &l->cols[c], present))
            return false;
        if (present && l->cols[c].type == TY_BOOL && v[0] > 1)
            return false;
        v += rep_col_bytes(&l->cols[c]);
    }
    return true;
}

int rep_frame_open(struct rep_reader *r, const struct rep_schema *s,
                   const uint8_t *frame, size_t len, struct rep_stats *st)
{
    memset(r, 0, sizeof *r);
    if (st)
        st->frames++;
    int e = check_header(frame, len);
    if (e >= 0)
        return refuse(st, (enum rep_err)e);
    if (get_be(frame + 22, 8) != s->fingerprint)
        return refuse(st, REP_ERR_FINGERPRINT);
    int count = (int)get_be(frame + 20, 2);
    const uint8_t *p = frame + REP_ETH_LEN + REP_HDR_LEN, *end = frame + len;
    for (int i = 0; i < count; i++) {
        if ((size_t)(end - p) < REP_REC_HDR_LEN)
            return refuse(st, REP_ERR_TRUNCATED);
        size_t rl = (size_t)get_be(p, 2);
        int query = (int)get_be(p + 2, 2), node = (int)get_be(p + 4, 2);
        int kind = p[6];
        if (kind == REP_WATERMARK) {
            if (query != REP_NONE || node != REP_NONE)
                return refuse(st, REP_ERR_LAYOUT);
            if (rl != REP_REC_HDR_LEN)
                return refuse(st, REP_ERR_LENGTH);
            if (p[7])
                return refuse(st, REP_ERR_VALUE);
            p += rl;
            continue;
        }
        if (kind == REP_PARAM) {
            if (query >= s->nqueries || node != REP_NONE)
                return refuse(st, REP_ERR_LAYOUT);
            if (rl < REP_REC_HDR_LEN || (size_t)(end - p) < rl)
                return refuse(st, rl < REP_REC_HDR_LEN ? REP_ERR_LENGTH : REP_ERR_TRUNCATED);
            if (p[7] || !param_text_ok(p + REP_REC_HDR_LEN, rl - REP_REC_HDR_LEN))
                return refuse(st, REP_ERR_VALUE);
            p += rl;
            continue;
        }
        const struct rep_layout *l = rep_layout_find(s, query, node, kind);
        if (!l)
            return refuse(st, REP_ERR_LAYOUT);
        if (kind == REP_PACKET) {
            if (rl == 0) /* to the end of the frame (a data plane that cannot
                          * know the frame's length) */
                rl = (size_t)(end - p);
            if (rl < REP_REC_HDR_LEN + REP_PKT_HDR_LEN)
                return refuse(st, REP_ERR_LENGTH);
            if ((size_t)(end - p) < rl)
                return refuse(st, REP_ERR_TRUNCATED);
            size_t extra = (size_t)get_be(p + 24, 2);
            size_t head = REP_REC_HDR_LEN + REP_PKT_HDR_LEN + 4 * extra;
            if (extra + 1 > REP_MAX_TARGETS || head > rl)
                return refuse(st, REP_ERR_LENGTH);
            uint64_t wl = get_be(p + 16, 4);
            if (p[7] || get_be(p + 26, 2) || (wl && wl < rl - head))
                return refuse(st, REP_ERR_VALUE); /* wire length < captured */
            for (size_t t = 0; t < extra; t++)
                if (!rep_layout_find(s, (int)get_be(p + 28 + 4 * t, 2),
                                     (int)get_be(p + 30 + 4 * t, 2), REP_PACKET))
                    return refuse(st, REP_ERR_LAYOUT);
            if (i != count - 1)
                return refuse(st, REP_ERR_LAYOUT); /* the frame bytes end it */
            p += rl;
            continue;
        }
        if (rl != l->rec_len)
            return refuse(st, REP_ERR_LENGTH);
        if ((size_t)(end - p) < rl)
            return refuse(st, REP_ERR_TRUNCATED);
        if (p[7] || !check_record(p, l))
            return refuse(st, REP_ERR_VALUE);
        p += rl;
    }
    for (const uint8_t *q = p; q < end; q++)
        if (*q)
            return refuse(st, REP_ERR_TRAILING);
    r->s = s;
    r->p = frame + REP_ETH_LEN + REP_HDR_LEN;
    r->end = p;
    r->left = count;
    r->seq = (uint32_t)get_be(frame + 30, 4);
    if (st) {
        st->good++;
        st->records += (uint64_t)count;
    }
    return 0;
}

int rep_next(struct rep_reader *r, struct rep_record *rec)
{
    if (r->left <= 0)
        return 0;
    const uint8_t *p = r->p;
    size_t rl = (size_t)get_be(p, 2);
    if (rl == 0) /* a packet record running to the end of the frame */
        rl = (size_t)(r->end - p);
    memset(rec, 0, sizeof *rec);
    rec->query = (int)get_be(p + 2, 2);
    rec->node = (int)get_be(p + 4, 2);
    rec->kind = (enum rep_kind)p[6];
    rec->ts = get_be(p + 8, 8);
    if (rec->kind == REP_PACKET) {
        rec->layout = rep_layout_find(r->s, rec->query, rec->node, rec->kind);
        rec->wire_len = (uint32_t)get_be(p + 16, 4);
        rec->port = (uint16_t)get_be(p + 20, 2);
        rec->linktype = (uint16_t)get_be(p + 22, 2);
        rec->ntargets = 1 + (int)get_be(p + 24, 2);
        rec->targets = p + 28;
        size_t head = REP_REC_HDR_LEN + REP_PKT_HDR_LEN + 4 * (size_t)(rec->ntargets - 1);
        rec->data = p + head;
        rec->cap_len = (uint32_t)(rl - head);
        if (rec->wire_len == 0) /* not known to the data plane */
            rec->wire_len = rec->cap_len;
    } else if (rec->kind == REP_PARAM) {
        rec->data = p + REP_REC_HDR_LEN;
        rec->cap_len = (uint32_t)(rl - REP_REC_HDR_LEN);
    } else if (rec->kind != REP_WATERMARK) {
        rec->layout = rep_layout_find(r->s, rec->query, rec->node, rec->kind);
        rec->presence = p + REP_REC_HDR_LEN;
        rec->values = rec->presence + rec->layout->presence_bytes;
    }
    r->p = p + rl;
    r->left--;
    return 1;
}

void rep_record_values(const struct rep_record *rec, hts_value *vals)
{
    const struct rep_layout *l = rec->layout;
    const uint8_t *v = rec->values;
    for (int c = 0; c < l->ncols; c++) {
        bool present = rec->presence[c / 8] & (0x80 >> (c % 8));
        vals[c] = get_value(v, &l->cols[c], present);
        v += rep_col_bytes(&l->cols[c]);
    }
}

void rep_record_pkt(const struct rep_record *rec, struct hts_pkt *pkt)
{
    const struct rep_layout *l = rec->layout;
    const uint8_t *v = rec->values;
    memset(pkt->present, 0, sizeof pkt->present);
    pkt->n_an_types = 0;
    pkt->data = NULL;
    pkt->cap_len = 0;
    pkt->f[FLD_META_TS].u = rec->ts;
    hts_pkt_set(pkt, FLD_META_TS);
    for (int c = 0; c < l->ncols; c++) {
        const struct rep_col *col = &l->cols[c];
        unsigned n = rep_col_bytes(col);
        if (rec->presence[c / 8] & (0x80 >> (c % 8))) {
            union hts_fv *f = &pkt->f[col->field];
            if (col->type == TY_IPV6 || col->type == TY_MAC) {
                memset(f->b, 0, sizeof f->b);
                memcpy(f->b, v, n);
            } else {
                f->u = get_be(v, n);
            }
            hts_pkt_set(pkt, (enum hts_field)col->field);
        }
        v += n;
    }
}
