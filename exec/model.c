/*
 * model.c - the data-plane model (see model.h and docs/partitioning.md).
 *
 * Per packet, per query, one pass over the nodes in id order (topological)
 * runs what the generated P4 pipeline runs: streaming filters, samples and
 * maps (exec_eval), then the stateful stages on their registers. A struct reg
 * is one stateful operator's register arrays for the current window: `nslots`
 * slots indexed by CRC-32 of the key bytes, each keeping the key that claimed
 * it first. When a later key finds its slot taken, the tuple overflows to the
 * host at the operator's input. When event time passes the window's end, the
 * "control plane" reads the registers (rows of groupbys and histograms, after
 * the threshold filter, as ROW records; spilled groupby keys' slots and a
 * refined groupby's fine slots as PARTIAL records) and clears the arrays.
 *
 * Reports go through one rep_writer: the records one packet causes share a
 * frame (one clone per packet), the window-close dumps are batched into
 * frames of their own, a watermark record follows them.
 *
 * The same code counts, for the planner, what passes each node when every
 * query runs as deep in the data plane as it can with unbounded registers
 * (dpm_train): slot index 0 there means "grow as needed".
 */
#include "model.h"

#include "exec.h"
#include "fields.h"

#include <assert.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

static void *xcalloc(size_t n, size_t size)
{
    void *p = calloc(n ? n : 1, size ? size : 1);
    if (!p) {
        fprintf(stderr, "htsc: out of memory\n");
        exit(2);
    }
    return p;
}

uint32_t dpm_crc32(const uint8_t *p, size_t n)
{
    uint32_t crc = 0xffffffffu;
    for (size_t i = 0; i < n; i++) {
        crc ^= p[i];
        for (int b = 0; b < 8; b++)
            crc = (crc >> 1) ^ (0xedb88320u & (0u - (crc & 1)));
    }
    return ~crc;
}

/* bytes of one key column, as a report carries it */
static unsigned key_col_bytes(const struct ir_col *c)
{
    switch (c->type) {
    case TY_BOOL: return 1;
    case TY_IPV4: return 4;
    case TY_IPV6: return 16;
    case TY_MAC: return 6;
    default:
        return c->field >= 0 && hts_fields[c->field].type == TY_INT
                   ? (hts_fields[c->field].width + 7u) / 8u : 8u;
    }
}

size_t dpm_key_bytes(const struct ir_node *n, const hts_value *key,
                     uint8_t *buf)
{
    size_t len = 0;
    for (int i = 0; i < n->nkeys; i++) {
        const hts_value *v = &key[i];
        if (!v->present)
            return 0;
        unsigned b = key_col_bytes(&n->cols[i]);
        switch (v->type) {
        case TY_IPV6: memcpy(buf + len, v->u.ip6, 16); break;
        case TY_MAC: memcpy(buf + len, v->u.mac, 6); break;
        case TY_IPV4:
            for (unsigned j = 0; j < 4; j++)
                buf[len + j] = (uint8_t)(v->u.ip4 >> (8 * (3 - j)));
            break;
        default:
            for (unsigned j = 0; j < b; j++)
                buf[len + j] = (uint8_t)((uint64_t)v->u.i >> (8 * (b - 1 - j)));
            break;
        }
        len += b;
    }
    if (!len)
        buf[len++] = 0; /* a keyless operator: one zero byte, as the P4's 8w0 */
    return len;
}

/* ---- registers ---- */

enum { SLOT_FREE, SLOT_USED, SLOT_SPILLED };
enum { FIND_HIT, FIND_CLAIMED, FIND_TAKEN };

struct reg {
    const struct ir_node *n;
    uint32_t nslots; /* 0: unbounded (training) */
    uint32_t cap;
    size_t kmax;     /* bytes of key room per slot */
    uint8_t *state;
    uint8_t *kb;
    uint16_t *klen;
    hts_value *kv, *vals;
    int64_t *aux;
    uint32_t *dirty, ndirty;
    int64_t *hist;
    double win_in; /* training: tuples this window */
};

static void reg_alloc(struct reg *r, uint32_t cap)
{
    const struct ir_node *n = r->n;
    int nk = n->nkeys ? n->nkeys : 1, na = n->naggs ? n->naggs : 1;
    r->cap = cap;
    r->state = xcalloc(cap, 1);
    r->kb = xcalloc(cap, r->kmax);
    r->klen = xcalloc(cap, sizeof *r->klen);
    r->kv = xcalloc((size_t)cap * (size_t)nk, sizeof *r->kv);
    r->vals = xcalloc((size_t)cap * (size_t)na, sizeof *r->vals);
    r->aux = xcalloc((size_t)cap * (size_t)na, sizeof *r->aux);
    r->dirty = xcalloc(cap, sizeof *r->dirty);
}

static void reg_release(struct reg *r)
{
    free(r->state);
    free(r->kb);
    free(r->klen);
    free(r->kv);
    free(r->vals);
    free(r->aux);
    free(r->dirty);
    free(r->hist);
}

static void reg_init(struct reg *r, const struct ir_node *n, uint32_t nslots)
{
    memset(r, 0, sizeof *r);
    r->n = n;
    r->nslots = nslots;
    r->kmax = 16 * (size_t)(n->nkeys ? n->nkeys : 1);
    if (n->kind == IR_HISTOGRAM) {
        r->hist = xcalloc((size_t)n->nedges + 1, sizeof *r->hist);
        return;
    }
    reg_alloc(r, nslots ? nslots : 1024);
}

static void slot_fill(struct reg *r, uint32_t i, const uint8_t *kb, size_t kl,
                      const hts_value *key)
{
    const struct ir_node *n = r->n;
    r->state[i] = SLOT_USED;
    memcpy(r->kb + (size_t)i * r->kmax, kb, kl);
    r->klen[i] = (uint16_t)kl;
    if (n->nkeys)
        memcpy(r->kv + (size_t)i * (size_t)n->nkeys, key, (size_t)n->nkeys * sizeof *key);
    for (int a = 0; a < n->naggs; a++) {
        hts_value *v = &r->vals[(size_t)i * (size_t)n->naggs + (size_t)a];
        *v = hts_int(0);
        v->type = (uint8_t)n->cols[n->nkeys + a].type;
        r->aux[(size_t)i * (size_t)n->naggs + (size_t)a] = 0;
    }
    r->dirty[r->ndirty++] = i;
}

static bool slot_is(const struct reg *r, uint32_t i, const uint8_t *kb, size_t kl)
{
    return r->klen[i] == kl && memcmp(r->kb + (size_t)i * r->kmax, kb, kl) == 0;
}

static void reg_grow(struct reg *r)
{
    struct reg old = *r;
    reg_alloc(r, old.cap * 2);
    r->ndirty = 0;
    for (uint32_t d = 0; d < old.ndirty; d++) {
        uint32_t i = old.dirty[d];
        uint32_t j = dpm_crc32(old.kb + (size_t)i * old.kmax, old.klen[i]) & (r->cap - 1);
        while (r->state[j])
            j = (j + 1) & (r->cap - 1);
        int nk = r->n->nkeys, na = r->n->naggs;
        r->state[j] = old.state[i];
        memcpy(r->kb + (size_t)j * r->kmax, old.kb + (size_t)i * old.kmax, old.klen[i]);
        r->klen[j] = old.klen[i];
        if (nk)
            memcpy(r->kv + (size_t)j * (size_t)nk, old.kv + (size_t)i * (size_t)nk,
                   (size_t)nk * sizeof *r->kv);
        if (na) {
            memcpy(r->vals + (size_t)j * (size_t)na, old.vals + (size_t)i * (size_t)na,
                   (size_t)na * sizeof *r->vals);
            memcpy(r->aux + (size_t)j * (size_t)na, old.aux + (size_t)i * (size_t)na,
                   (size_t)na * sizeof *r->aux);
        }
        r->dirty[r->ndirty++] = j;
    }
    old.hist = NULL;
    reg_release(&old);
}

/* The slot of key kb: *how says whether it held it, claimed it or is taken
 * by another key. claim=false only looks (FIND_CLAIMED then means free). */
static uint32_t reg_find(struct reg *r, const uint8_t *kb, size_t kl,
                         const hts_value *key, bool claim, int *how)
{
    uint32_t h = dpm_crc32(kb, kl);
    if (r->nslots) {
        uint32_t i = h % r->nslots;
        if (r->state[i] == SLOT_FREE) {
            if (claim)
                slot_fill(r, i, kb, kl, key);
            *how = FIND_CLAIMED;
        } else {
            *how = slot_is(r, i, kb, kl) ? FIND_HIT : FIND_TAKEN;
        }
        return i;
    }
    if (claim && (r->ndirty + 1) * 2 > r->cap)
        reg_grow(r);
    uint32_t i = h & (r->cap - 1);
    for (; r->state[i]; i = (i + 1) & (r->cap - 1))
        if (slot_is(r, i, kb, kl)) {
            *how = FIND_HIT;
            return i;
        }
    if (claim)
        slot_fill(r, i, kb, kl, key);
    *how = FIND_CLAIMED;
    return i;
}

static void reg_reset(struct reg *r)
{
    if (r->hist) {
        memset(r->hist, 0, ((size_t)r->n->nedges + 1) * sizeof *r->hist);
        return;
    }
    for (uint32_t d = 0; d < r->ndirty; d++)
        r->state[r->dirty[d]] = SLOT_FREE;
    r->ndirty = 0;
}

/* ---- queries ---- */

static void agg_update(const struct ir_node *n, hts_value *vals, int64_t *aux,
                       const struct hts_pkt *pkt, const hts_value *row);
static void slot_row(const struct reg *r, uint32_t i, hts_value *row);
static bool truth(const struct ast_expr *e, const struct hts_pkt *pkt,
                  const hts_value *row);
struct dpm;
static hts_value *scratch_row(struct dpm *m, int n);

struct mq {
    const struct ir_query *q;
    const struct plan_query *pq; /* NULL when training */
    int nn;
    uint8_t *zone;
    struct reg **reg;   /* per node: data-plane stateful operator */
    int *thresh;        /* per groupby: its data-plane threshold filter, or -1 */
    int *spill_from;    /* per spilled groupby: the distinct it spills through */
    struct reg **coarse; /* per refined groupby: the coarse level's slots */
    struct rtrain **rt; /* training: per refinable groupby, per level */
    bool *active, *probe;
    hts_value **rows;
    int64_t W;
    int64_t win;        /* start of the window the registers hold, -1 */
    struct dpm_node_train *tr;
};

/* Training a refinable groupby at one level: both levels unbounded. */
struct rtrain {
    int level, col, gate;
    struct reg coarse, fine;
    double gated, post;
};

struct dpm {
    const struct plan *p;
    int nq;
    struct mq *qs;
    dpm_frame_fn fn;
    void *ctx;
    struct rep_writer w;
    uint8_t *buf;
    int64_t wm;          /* event time: the latest packet time seen */
    int64_t *hops;       /* distinct hop lengths of windowed queries */
    int nhops;
    uint64_t frame_ts;
    struct arena scratch;
    struct dpm_stats st;
    struct dpm_train *train;
    const struct rep_layout *pt[REP_MAX_TARGETS]; /* this packet's PACKET exits */
    int npt;
};

static void setup_query(struct dpm *m, struct mq *mq, const struct ir_query *q,
                        const struct plan_query *pq, const uint8_t *zone,
                        const uint32_t *slots)
{
    int nn = q->nnodes;
    mq->q = q;
    mq->pq = pq;
    mq->nn = nn;
    mq->zone = xcalloc((size_t)nn, 1);
    memcpy(mq->zone, zone, (size_t)nn);
    mq->reg = xcalloc((size_t)nn, sizeof *mq->reg);
    mq->thresh = xcalloc((size_t)nn, sizeof *mq->thresh);
    mq->spill_from = xcalloc((size_t)nn, sizeof *mq->spill_from);
    mq->coarse = xcalloc((size_t)nn, sizeof *mq->coarse);
    mq->rt = xcalloc((size_t)nn, sizeof *mq->rt);
    mq->active = xcalloc((size_t)nn, sizeof *mq->active);
    mq->probe = xcalloc((size_t)nn, sizeof *mq->probe);
    mq->rows = xcalloc((size_t)nn, sizeof *mq->rows);
    mq->W = q->per_packet ? 0 : q->window_ns;
    mq->win = -1;
    for (int k = 0; k < nn; k++) {
        const struct ir_node *n = q->nodes[k];
        mq->thresh[k] = -1;
        mq->spill_from[k] = -1;
        if (zone[k] == PLAN_HOST)
            continue;
        if (n->kind == IR_DISTINCT || n->kind == IR_GROUPBY || n->kind == IR_HISTOGRAM) {
            mq->reg[k] = xcalloc(1, sizeof **mq->reg);
            reg_init(mq->reg[k], n, n->kind == IR_HISTOGRAM ? 0 : slots[k]);
        }
        if (zone[k] == PLAN_THRESH)
            mq->thresh[n->in[0]->id] = k;
        if (pq && pq->nodes[k].refine) {
            mq->coarse[k] = xcalloc(1, sizeof **mq->coarse);
            reg_init(mq->coarse[k], n, pq->nodes[k].coarse_slots);
            continue; /* partial rows merge on the host: no spill */
        }
        if (n->kind == IR_GROUPBY && zone[n->in[0]->id] == PLAN_DIST) {
            const struct ir_node *d = n->in[0];
            while (d->kind != IR_DISTINCT)
                d = d->in[0];
            mq->spill_from[k] = d->id;
        }
    }
    (void)m;
}

/* Training: a refinement record per level of the hint for every groupby
 * that could be refined (plan_refinable), in the deepest cut. */
static void setup_refine_train(struct mq *mq)
{
    const struct ir_query *q = mq->q;
    for (int k = 0; k < mq->nn; k++) {
        const struct ir_node *n = q->nodes[k];
        int col, gate;
        const char *why;
        if (mq->zone[k] != PLAN_AGG || !plan_refinable(q, n, 0, &col, &gate, &why))
            continue;
        struct dpm_node_train *t = &mq->tr[k];
        t->ref = xcalloc((size_t)q->nlevels, sizeof *t->ref);
        mq->rt[k] = xcalloc((size_t)q->nlevels, sizeof **mq->rt);
        for (int l = 0; l < q->nlevels; l++) {
            if (!plan_refinable(q, n, q->levels[l], &col, &gate, &why))
                continue;
            struct rtrain *r = &mq->rt[k][t->nref];
            t->ref[t->nref++].level = r->level = q->levels[l];
            r->col = col;
            r->gate = gate;
            reg_init(&r->coarse, n, 0);
            reg_init(&r->fine, n, 0);
        }
    }
}

/* The key with column col masked to its first `len` bits (an address). */
static void mask_key(const struct ir_node *n, const hts_value *key, int col, int len,
                     hts_value *out, uint8_t *kb, size_t *kl)
{
    memcpy(out, key, (size_t)n->nkeys * sizeof *out);
    hts_value *v = &out[col];
    if (v->type == TY_IPV4) {
        v->u.ip4 &= len ? ~(uint32_t)0 << (32 - len) : 0;
    } else {
        for (int b = 0; b < 16; b++) {
            int keep = len - 8 * b;
            v->u.ip6[b] &= keep >= 8 ? 0xff : keep <= 0 ? 0 : (uint8_t)(0xff << (8 - keep));
        }
    }
    *kl = dpm_key_bytes(n, out, kb);
}

/*
 * The refinement gate of groupby n (docs/partitioning.md, "Refinement"):
 * updates the coarse slot of the tuple's masked key and says whether the
 * tuple goes on to the fine slots: its coarse aggregates pass the threshold
 * (gate, a monotone filter: once passed, passed for the window), or its
 * coarse slot is taken by another prefix (no gate: the fine slots decide, as
 * without refinement).
 */
static bool gate_open(struct dpm *m, struct reg *c, const struct ir_node *n,
                      const struct ir_node *gate, int col, int len,
                      const hts_value *key, const struct hts_pkt *pkt, const hts_value *row)
{
    hts_value ck[IR_MAX_KEYS];
    uint8_t kb[16 * IR_MAX_KEYS];
    size_t kl;
    int how;
    mask_key(n, key, col, len, ck, kb, &kl);
    uint32_t i = reg_find(c, kb, kl, ck, true, &how);
    if (how == FIND_TAKEN)
        return true;
    agg_update(n, c->vals + (size_t)i * (size_t)n->naggs, c->aux + (size_t)i * (size_t)n->naggs,
               pkt, row);
    hts_value *crow = scratch_row(m, n->ncols);
    slot_row(c, i, crow);
    return truth(gate->expr, NULL, crow);
}

static void add_hop(struct dpm *m, int64_t h)
{
    for (int i = 0; i < m->nhops; i++)
        if (m->hops[i] == h)
            return;
    m->hops[m->nhops++] = h;
}

static struct dpm *dpm_alloc(const struct ir_program *prog)
{
    struct dpm *m = xcalloc(1, sizeof *m);
    m->nq = prog->nqueries;
    m->qs = xcalloc((size_t)m->nq, sizeof *m->qs);
    m->hops = xcalloc((size_t)m->nq, sizeof *m->hops);
    for (int i = 0; i < prog->nqueries; i++) {
        const struct ir_query *q = prog->queries[i];
        if (!q->per_packet && q->hop_ns > 0)
            add_hop(m, q->hop_ns);
    }
    m->st.query_records = xcalloc((size_t)m->nq, sizeof *m->st.query_records);
    return m;
}

struct dpm *dpm_new(const struct plan *p, dpm_frame_fn fn, void *ctx)
{
    struct dpm *m = dpm_alloc(p->prog);
    m->p = p;
    m->fn = fn;
    m->ctx = ctx;
    m->buf = xcalloc(REP_MAX_FRAME, 1);
    rep_writer_init(&m->w, &p->reports, m->buf, p->max_frame);
    for (int i = 0; i < p->nqueries; i++) {
        const struct plan_query *pq = &p->queries[i];
        int nn = pq->q->nnodes;
        uint8_t *zone = xcalloc((size_t)nn, 1);
        uint32_t *slots = xcalloc((size_t)nn, sizeof *slots);
        for (int k = 0; k < nn; k++) {
            zone[k] = pq->nodes[k].zone;
            slots[k] = pq->nodes[k].slots;
        }
        setup_query(m, &m->qs[i], pq->q, pq, zone, slots);
        free(zone);
        free(slots);
    }
    return m;
}

const struct dpm_stats *dpm_stats(const struct dpm *m)
{
    return &m->st;
}

void dpm_free(struct dpm *m)
{
    if (!m)
        return;
    for (int i = 0; i < m->nq; i++) {
        struct mq *mq = &m->qs[i];
        for (int k = 0; k < mq->nn; k++)
            if (mq->reg[k]) {
                reg_release(mq->reg[k]);
                free(mq->reg[k]);
            }
        free(mq->zone);
        free(mq->reg);
        free(mq->thresh);
        free(mq->spill_from);
        for (int k = 0; k < mq->nn; k++) {
            if (mq->coarse[k]) {
                reg_release(mq->coarse[k]);
                free(mq->coarse[k]);
            }
            for (int l = 0; mq->rt[k] && l < mq->q->nlevels; l++)
                if (mq->rt[k][l].level) {
                    reg_release(&mq->rt[k][l].coarse);
                    reg_release(&mq->rt[k][l].fine);
                }
            free(mq->rt[k]);
        }
        free(mq->coarse);
        free(mq->rt);
        free(mq->active);
        free(mq->probe);
        free(mq->rows);
    }
    free(m->qs);
    free(m->hops);
    free(m->buf);
    free(m->st.query_records);
    arena_free(&m->scratch);
    free(m);
}

/* ---- reports ---- */

struct frame_in {
    const uint8_t *data;
    uint32_t cap_len, wire_len;
    uint16_t port;
    int linktype;
};

static void flush(struct dpm *m)
{
    size_t len = rep_frame_end(&m->w);
    if (len) {
        m->st.frames++;
        if (m->fn)
            m->fn(m->ctx, m->buf, len, m->frame_ts);
    }
}

static void check_add(int rc)
{
    if (rc < 0) {
        /* layouts come from the same IR as the values: a bug, not input */
        fprintf(stderr, "htsc: internal error: report record rejected (%d)\n", rc);
        abort();
    }
}

/* Records by kind count what goes on the wire; per query, what each query
 * causes: a packet record shared by several queries (one mirrored copy,
 * send_packet) is one record on the wire and one for each of its queries. */
static void count(struct dpm *m, int query, int kind)
{
    if (kind != REP_PACKET)
        m->st.records[kind]++;
    if (kind != REP_WATERMARK)
        m->st.query_records[query]++;
}

/* A TUPLE or ROW record of (query, node). */
static void emit(struct dpm *m, int query, int node, int kind, uint64_t ts,
                 const struct hts_pkt *pkt, const hts_value *row)
{
    if (!m->p)
        return;
    const struct rep_layout *l = plan_layout(m->p, query, node, kind);
    assert(l);
    int rc = rep_add(&m->w, l, ts, pkt, row);
    if (rc == -ENOSPC) {
        flush(m);
        rc = rep_add(&m->w, l, ts, pkt, row);
    }
    check_add(rc);
    count(m, query, kind);
}

/* A PACKET exit: remembered, and sent once for all its queries when the
 * packet is done (send_packet). */
static void emit_packet(struct dpm *m, int query, int node)
{
    if (!m->p)
        return;
    const struct rep_layout *l = plan_layout(m->p, query, node, REP_PACKET);
    assert(l && m->npt < REP_MAX_TARGETS);
    m->pt[m->npt++] = l;
    count(m, query, REP_PACKET);
}

static void send_packet(struct dpm *m, uint64_t ts, const struct frame_in *f)
{
    if (!m->npt)
        return;
    uint32_t cap = f->cap_len;
    size_t room = REP_MAX_FRAME - REP_ETH_LEN - REP_HDR_LEN - REP_REC_HDR_LEN -
                  REP_PKT_HDR_LEN - 4 * (size_t)(m->npt - 1);
    if (cap > room) {
        cap = (uint32_t)room;
        m->st.truncated++;
    }
    m->st.records[REP_PACKET]++; /* one copy, whatever its targets */
    int rc = rep_add_packet(&m->w, m->pt, m->npt, ts, f->data, cap, f->wire_len, f->port,
                            (uint16_t)f->linktype);
    if (rc == -ENOSPC) {
        flush(m);
        rc = rep_add_packet(&m->w, m->pt, m->npt, ts, f->data, cap, f->wire_len, f->port,
                            (uint16_t)f->linktype);
    }
    check_add(rc);
    m->npt = 0;
}

/* ---- evaluation ---- */

static bool truth(const struct ast_expr *e, const struct hts_pkt *pkt,
                  const hts_value *row)
{
    hts_value v = exec_eval(e, pkt, row);
    return v.present && v.u.i;
}

/* The executor's aggregate update (exec.c agg_update, sharing exec_agg_step), on a slot. */
static void agg_update(const struct ir_node *n, hts_value *vals, int64_t *aux,
                       const struct hts_pkt *pkt, const hts_value *row)
{
    for (int i = 0; i < n->naggs; i++) {
        const struct ast_expr *call = n->aggs[i];
        hts_value *v = &vals[i];
        if (call->agg == AGG_COUNT) {
            v->u.i++;
            continue;
        }
        hts_value x = exec_eval(call->args[0], pkt, row);
        if (!x.present)
            continue;
        exec_agg_step(call->agg, v, aux[i]++, &x);
    }
}

/* A groupby slot as partial state (exec_partial_ncols' shape: keys, each
 * aggregate's running value, its count of present inputs), for the host's
 * exec_merge. */
static void slot_partial(const struct reg *r, uint32_t i, hts_value *row)
{
    const struct ir_node *n = r->n;
    memcpy(row, r->kv + (size_t)i * (size_t)n->nkeys, (size_t)n->nkeys * sizeof *row);
    for (int a = 0; a < n->naggs; a++) {
        size_t at = (size_t)i * (size_t)n->naggs + (size_t)a;
        row[n->nkeys + a] = r->vals[at];
        row[n->nkeys + n->naggs + a] = hts_int(r->aux[at]);
    }
}

/* A groupby slot as a row (exec.c acc_finish). */
static void slot_row(const struct reg *r, uint32_t i, hts_value *row)
{
    const struct ir_node *n = r->n;
    memcpy(row, r->kv + (size_t)i * (size_t)n->nkeys, (size_t)n->nkeys * sizeof *row);
    for (int k = 0; k < n->naggs; k++) {
        hts_value v = r->vals[(size_t)i * (size_t)n->naggs + (size_t)k];
        int64_t seen = r->aux[(size_t)i * (size_t)n->naggs + (size_t)k];
        if (n->aggs[k]->agg != AGG_COUNT) {
            if (seen == 0)
                v = hts_absent((enum hts_type)v.type);
            else if (n->aggs[k]->agg == AGG_AVG)
                v = hts_int(v.u.i / seen);
        }
        row[n->nkeys + k] = v;
    }
}

static bool eval_key(const struct ir_node *n, const struct hts_pkt *pkt,
                     const hts_value *row, hts_value *key, uint8_t *kb, size_t *kl)
{
    for (int i = 0; i < n->nkeys; i++) {
        key[i] = exec_eval(n->exprs[i], pkt, row);
        if (!key[i].present)
            return false;
    }
    *kl = dpm_key_bytes(n, key, kb);
    return true;
}

/* A tuple that leaves at node i of query qi (overflow, or an exit). */
static void leave(struct dpm *m, struct mq *mq, int qi, int i, int kind,
                  int64_t ts, int64_t ws, const struct hts_pkt *pkt,
                  const struct frame_in *f)
{
    const struct ir_node *n = mq->q->nodes[i];
    (void)f;
    if (kind == REP_PACKET)
        emit_packet(m, qi, i);
    else if (kind == REP_ROW)
        emit(m, qi, i, REP_ROW, (uint64_t)ws, NULL, mq->rows[i]);
    else
        emit(m, qi, i, REP_TUPLE, (uint64_t)ts, n->packet ? pkt : NULL, mq->rows[i]);
}

static hts_value *scratch_row(struct dpm *m, int n)
{
    return arena_alloc(&m->scratch, (size_t)(n ? n : 1) * sizeof(hts_value));
}

static void run_query(struct dpm *m, int qi, const struct hts_pkt *pkt,
                      const struct frame_in *f, int64_t ts)
{
    struct mq *mq = &m->qs[qi];
    const struct ir_query *q = mq->q;
    int64_t ws = 0;
    bool late = false;
    if (mq->W) {
        ws = ts >= 0 ? ts - ts % mq->W : 0;
        late = ws + mq->W <= m->wm;
    }
    if (late && (q->hop_ns == 0 || q->hop_ns == q->window_ns)) {
        /* A tumbling window keeps its state in the data plane's bank for
         * the window (docs/targets.md): a late packet skips the query
         * there, as the P4 does, and the host never sees it. */
        m->st.late++;
        return;
    }
    memset(mq->active, 0, (size_t)mq->nn * sizeof *mq->active);
    memset(mq->probe, 0, (size_t)mq->nn * sizeof *mq->probe);
    mq->active[0] = true;
    mq->rows[0] = NULL;
    if (mq->tr)
        mq->tr[0].out++;
    hts_value key[IR_MAX_KEYS];
    uint8_t kb[16 * IR_MAX_KEYS];
    size_t kl;
    for (int k = 1; k < mq->nn; k++) {
        if (mq->zone[k] == PLAN_HOST || mq->zone[k] == PLAN_THRESH)
            continue;
        const struct ir_node *n = q->nodes[k];
        int in = n->in[0]->id;
        if (!mq->active[in])
            continue;
        const hts_value *row = mq->rows[in];
        bool pr = mq->probe[in];
        struct reg *r = mq->reg[k];
        int how;
        switch (n->kind) {
        case IR_FILTER:
            mq->active[k] = truth(n->expr, pkt, row);
            mq->rows[k] = (hts_value *)row;
            mq->probe[k] = pr;
            break;
        case IR_SAMPLE:
            mq->active[k] = exec_sample_hash(pkt->f[FLD_META_TS].u) %
                                (uint64_t)n->sample_n == 0;
            break;
        case IR_MAP:
        case IR_EXPORT: {
            hts_value *out = scratch_row(m, n->ncols);
            for (int c = 0; c < n->ncols; c++)
                out[c] = exec_eval(n->exprs[c], pkt, row);
            mq->rows[k] = out;
            mq->active[k] = true;
            mq->probe[k] = pr;
            break;
        }
        case IR_DISTINCT: {
            if (late) {
                m->st.late++;
                break;
            }
            if (!eval_key(n, pkt, row, key, kb, &kl))
                break;
            if (mq->win < 0)
                mq->win = ws;
            if (mq->tr)
                mq->tr[k].in++, r->win_in++;
            uint32_t i = reg_find(r, kb, kl, key, true, &how);
            if (how == FIND_HIT)
                break;
            hts_value *out = scratch_row(m, n->ncols);
            memcpy(out, r->kv + (size_t)i * (size_t)n->nkeys, (size_t)n->nkeys * sizeof *out);
            if (how == FIND_TAKEN) {
                memcpy(out, key, (size_t)n->nkeys * sizeof *out);
                m->st.overflows++;
                leave(m, mq, qi, in, mq->pq->nodes[k].overflow_kind, ts, ws, pkt, f);
                mq->probe[k] = true; /* spill the groupby key it would reach */
            }
            mq->rows[k] = out;
            mq->active[k] = true;
            break;
        }
        case IR_GROUPBY: {
            if (late) {
                if (!pr)
                    m->st.late++;
                break;
            }
            if (!eval_key(n, pkt, row, key, kb, &kl))
                break;
            if (mq->win < 0)
                mq->win = ws;
            if (pr) {
                if (mq->coarse[k]) /* refined: merged on the host, no spill */
                    break;
                uint32_t i = reg_find(r, kb, kl, key, true, &how);
                if (how != FIND_TAKEN)
                    r->state[i] = SLOT_SPILLED;
                break;
            }
            if (mq->tr) {
                mq->tr[k].in++, r->win_in++;
                for (int l = 0; mq->rt[k] && l < mq->tr[k].nref; l++) {
                    struct rtrain *t = &mq->rt[k][l];
                    if (!gate_open(m, &t->coarse, n, q->nodes[t->gate], t->col, t->level,
                                   key, pkt, row)) {
                        t->gated++;
                    } else {
                        t->post++;
                        reg_find(&t->fine, kb, kl, key, true, &how);
                    }
                }
            }
            const struct plan_node *pn = mq->pq ? &mq->pq->nodes[k] : NULL;
            if (pn && pn->refine &&
                !gate_open(m, mq->coarse[k], n, q->nodes[pn->gate], pn->refine_col,
                           pn->refine, key, pkt, row)) {
                m->st.gated++;
                leave(m, mq, qi, in, pn->overflow_kind, ts, ws, pkt, f);
                break;
            }
            uint32_t i = reg_find(r, kb, kl, key, true, &how);
            if (how == FIND_TAKEN) {
                m->st.overflows++;
                leave(m, mq, qi, in, mq->pq->nodes[k].overflow_kind, ts, ws, pkt, f);
                break;
            }
            agg_update(n, r->vals + (size_t)i * (size_t)n->naggs,
                       r->aux + (size_t)i * (size_t)n->naggs, pkt, row);
            break;
        }
        case IR_HISTOGRAM: {
            if (late) {
                m->st.late++;
                break;
            }
            hts_value v = exec_eval(n->expr, pkt, row);
            if (!v.present)
                break;
            if (mq->win < 0)
                mq->win = ws;
            if (mq->tr)
                mq->tr[k].in++, r->win_in++;
            int b = 0;
            while (b < n->nedges && v.u.i >= n->edges[b])
                b++;
            r->hist[b]++;
            break;
        }
        default:
            break;
        }
        if (mq->tr && mq->active[k] && !mq->probe[k] && n->kind != IR_GROUPBY &&
            n->kind != IR_HISTOGRAM)
            mq->tr[k].out++;
    }
    if (!mq->pq)
        return;
    for (int k = 0; k < mq->nn; k++) {
        int e = mq->pq->nodes[k].exit;
        if (!mq->active[k] || mq->probe[k] || e == PLAN_EXIT_NONE || e == PLAN_EXIT_ROW_CLOSE)
            continue;
        int kind = e == PLAN_EXIT_TUPLE ? REP_TUPLE : e == PLAN_EXIT_PACKET ? REP_PACKET
                                                                           : REP_ROW;
        leave(m, mq, qi, k, kind, ts, ws, pkt, f);
    }
}

/* The control plane at window close: reads the registers of query qi. */
static void close_query(struct dpm *m, int qi)
{
    struct mq *mq = &m->qs[qi];
    const struct ir_query *q = mq->q;
    if (mq->win < 0)
        return;
    int64_t ws = mq->win;
    for (int k = 0; k < mq->nn; k++) {
        struct reg *r = mq->reg[k];
        if (!r)
            continue;
        const struct ir_node *n = q->nodes[k];
        if (n->kind == IR_GROUPBY && mq->coarse[k]) {
            /* refined: every fine slot, as partial state, unthresholded
             * (the host may hold tuples of the same key: the gate's) */
            hts_value *row = scratch_row(m, exec_partial_ncols(n));
            for (uint32_t d = 0; d < r->ndirty; d++) {
                slot_partial(r, r->dirty[d], row);
                emit(m, qi, k, REP_PARTIAL, (uint64_t)ws, NULL, row);
            }
        } else if (n->kind == IR_GROUPBY) {
            hts_value *row = scratch_row(m, n->ncols);
            int t = mq->thresh[k];
            for (uint32_t d = 0; d < r->ndirty; d++) {
                uint32_t i = r->dirty[d];
                if (r->state[i] == SLOT_SPILLED)
                    continue;
                slot_row(r, i, row);
                if (t >= 0) {
                    if (!truth(q->nodes[t]->expr, NULL, row))
                        continue;
                    if (mq->tr)
                        mq->tr[t].out++;
                    emit(m, qi, t, REP_ROW, (uint64_t)ws, NULL, row);
                } else {
                    emit(m, qi, k, REP_ROW, (uint64_t)ws, NULL, row);
                }
            }
            if (mq->tr)
                mq->tr[k].out += r->ndirty;
            if (mq->spill_from[k] >= 0) {
                /* the keys the host owns: each spilled slot counted exactly
                 * the distinct rows the data plane held for its key, so one
                 * partial record of it stands for all of them (the host
                 * merges it with the rows that overflowed to it) */
                hts_value *prow = scratch_row(m, exec_partial_ncols(n));
                for (uint32_t d = 0; d < r->ndirty; d++) {
                    uint32_t i = r->dirty[d];
                    if (r->state[i] != SLOT_SPILLED)
                        continue;
                    slot_partial(r, i, prow);
                    m->st.spills++;
                    emit(m, qi, k, REP_PARTIAL, (uint64_t)ws, NULL, prow);
                }
            }
        } else if (n->kind == IR_HISTOGRAM) {
            for (int b = 0; b <= n->nedges; b++) {
                if (!r->hist[b])
                    continue;
                hts_value row[3];
                row[0] = hts_int(b ? n->edges[b - 1] : 0);
                row[1] = b < n->nedges ? hts_int(n->edges[b]) : hts_absent(TY_INT);
                row[2] = hts_int(r->hist[b]);
                if (mq->tr)
                    mq->tr[k].out++;
                emit(m, qi, k, REP_ROW, (uint64_t)ws, NULL, row);
            }
        }
    }
    for (int k = 0; k < mq->nn; k++) {
        struct reg *r = mq->reg[k];
        if (!r)
            continue;
        if (mq->tr) {
            struct dpm_node_train *t = &mq->tr[k];
            if (t->nwin == t->capwin) {
                t->capwin = t->capwin ? t->capwin * 2 : 16;
                t->win = realloc(t->win, (size_t)t->capwin * sizeof *t->win);
                if (!t->win) {
                    fprintf(stderr, "htsc: out of memory\n");
                    exit(2);
                }
            }
            double keys = r->hist ? 0 : (double)r->ndirty;
            if (r->hist)
                for (int b = 0; b <= r->n->nedges; b++)
                    keys += r->hist[b] != 0;
            t->win[t->nwin++] = (struct dpm_window){r->win_in, keys};
            r->win_in = 0;
            for (int l = 0; mq->rt[k] && l < t->nref; l++) {
                struct dpm_refine *dr = &t->ref[l];
                struct rtrain *rt = &mq->rt[k][l];
                if (dr->nwin == dr->capwin) {
                    dr->capwin = dr->capwin ? dr->capwin * 2 : 16;
                    dr->win = realloc(dr->win, (size_t)dr->capwin * sizeof *dr->win);
                    if (!dr->win) {
                        fprintf(stderr, "htsc: out of memory\n");
                        exit(2);
                    }
                }
                dr->win[dr->nwin++] = (struct dpm_refine_window){rt->gated, rt->post,
                                                                 (double)rt->fine.ndirty};
                rt->gated = rt->post = 0;
                reg_reset(&rt->coarse);
                reg_reset(&rt->fine);
            }
        }
        reg_reset(r);
        if (mq->coarse[k])
            reg_reset(mq->coarse[k]);
    }
    mq->win = -1;
}

void dpm_packet(struct dpm *m, const struct hts_pkt *pkt, const uint8_t *data,
                uint32_t cap_len, uint32_t wire_len, uint16_t port,
                int linktype)
{
    int64_t ts = (int64_t)pkt->f[FLD_META_TS].u;
    int64_t old = m->wm;
    if (ts > m->wm)
        m->wm = ts;
    m->st.packets++;
    m->frame_ts = (uint64_t)ts;
    for (int i = 0; i < m->nq; i++) {
        struct mq *mq = &m->qs[i];
        if (mq->win >= 0 && mq->win + mq->W <= m->wm)
            close_query(m, i);
    }
    bool crossed = false;
    for (int i = 0; i < m->nhops; i++)
        crossed |= m->wm / m->hops[i] != old / m->hops[i];
    if (crossed && m->p) {
        int rc = rep_add_watermark(&m->w, (uint64_t)m->wm);
        if (rc == -ENOSPC) {
            flush(m);
            rc = rep_add_watermark(&m->w, (uint64_t)m->wm);
        }
        check_add(rc);
        count(m, 0, REP_WATERMARK);
    }
    flush(m);
    struct frame_in f = {data, cap_len, wire_len, port, linktype};
    for (int i = 0; i < m->nq; i++)
        run_query(m, i, pkt, &f, ts);
    send_packet(m, (uint64_t)ts, &f); /* last: the frame's bytes end it */
    flush(m);
    arena_reset(&m->scratch);
}

void dpm_finish(struct dpm *m)
{
    for (int i = 0; i < m->nq; i++)
        close_query(m, i);
    flush(m);
    arena_reset(&m->scratch);
}

/* ---- a switch's control plane ---- */

int dpm_key_words(const struct ir_node *n)
{
    unsigned b = 0;
    for (int i = 0; i < n->nkeys; i++)
        b += key_col_bytes(&n->cols[i]);
    return (int)((b ? b : 1) + 3) / 4;
}

bool dpm_key_from_words(const struct ir_node *n, const uint32_t *words, hts_value *key)
{
    size_t nb = 0;
    for (int i = 0; i < n->nkeys; i++)
        nb += key_col_bytes(&n->cols[i]);
    uint8_t b[16 * IR_MAX_KEYS];
    for (size_t j = 0; j < nb; j++) { /* byte j from the most significant end */
        size_t bit = 8 * (nb - 1 - j);
        b[j] = (uint8_t)(words[bit / 32] >> (bit % 32));
    }
    size_t at = 0;
    for (int i = 0; i < n->nkeys; i++) {
        const struct ir_col *c = &n->cols[i];
        unsigned w = key_col_bytes(c);
        hts_value v = {.type = (uint8_t)c->type, .present = 1};
        switch (c->type) {
        case TY_IPV6: memcpy(v.u.ip6, b + at, 16); break;
        case TY_MAC: memcpy(v.u.mac, b + at, 6); break;
        case TY_IPV4:
            v.u.ip4 = (uint32_t)b[at] << 24 | (uint32_t)b[at + 1] << 16 |
                      (uint32_t)b[at + 2] << 8 | b[at + 3];
            break;
        case TY_INT:
        case TY_BOOL: {
            uint64_t x = 0;
            for (unsigned j = 0; j < w; j++)
                x = x << 8 | b[at + j];
            v.u.i = (int64_t)x;
            break;
        }
        default:
            return false;
        }
        key[i] = v;
        at += w;
    }
    return true;
}

int dpm_cp_slot(struct dpm *m, int qi, int node, uint32_t idx, unsigned state,
                const uint32_t *words, const int64_t *aggs, const int64_t *seen)
{
    if (qi < 0 || qi >= m->nq || node < 0 || node >= m->qs[qi].nn)
        return -EINVAL;
    struct reg *r = m->qs[qi].reg[node];
    if (!r || r->hist || idx >= r->nslots)
        return -EINVAL;
    const struct ir_node *n = r->n;
    hts_value key[IR_MAX_KEYS];
    uint8_t kb[16 * IR_MAX_KEYS];
    if (!dpm_key_from_words(n, words, key))
        return -EINVAL;
    size_t kl = dpm_key_bytes(n, key, kb);
    if (dpm_crc32(kb, kl) % r->nslots != idx || r->state[idx] != SLOT_FREE)
        return -EINVAL; /* not where this key hashes: not a slot of ours */
    slot_fill(r, idx, kb, kl, key);
    r->state[idx] = (state & 3) == 2 ? SLOT_SPILLED : SLOT_USED;
    for (int a = 0; a < n->naggs; a++) {
        hts_value *v = &r->vals[(size_t)idx * (size_t)n->naggs + (size_t)a];
        if (v->type == TY_IPV4)
            v->u.ip4 = (uint32_t)aggs[a];
        else
            v->u.i = aggs[a];
        r->aux[(size_t)idx * (size_t)n->naggs + (size_t)a] =
            n->aggs[a]->agg == AGG_COUNT ? 0 : seen[a];
    }
    if (m->qs[qi].win < 0)
        m->qs[qi].win = 0;
    return 0;
}

int dpm_cp_bucket(struct dpm *m, int qi, int node, int b, int64_t count)
{
    if (qi < 0 || qi >= m->nq || node < 0 || node >= m->qs[qi].nn)
        return -EINVAL;
    struct reg *r = m->qs[qi].reg[node];
    if (!r || !r->hist || b < 0 || b > r->n->nedges)
        return -EINVAL;
    r->hist[b] = count;
    if (m->qs[qi].win < 0)
        m->qs[qi].win = 0;
    return 0;
}

void dpm_cp_close(struct dpm *m, int qi, int64_t ws)
{
    if (m->qs[qi].win < 0)
        return;
    m->qs[qi].win = ws;
    close_query(m, qi);
    flush(m);
    arena_reset(&m->scratch);
}

void dpm_cp_set_query(struct dpm *m, int qi, const struct plan_query *pq)
{
    struct mq *mq = &m->qs[qi];
    for (int k = 0; k < mq->nn; k++) {
        if (mq->reg[k])
            mq->reg[k]->n = pq->q->nodes[k];
        if (mq->coarse[k])
            mq->coarse[k]->n = pq->q->nodes[k];
    }
    mq->q = pq->q;
    mq->pq = pq;
}

int dpm_cp_param(struct dpm *m, int qi, int64_t from, const char *text)
{
    flush(m); /* a frame of its own */
    int rc = rep_add_param(&m->w, qi, (uint64_t)from, text, strlen(text));
    if (rc < 0)
        return rc;
    m->st.records[REP_PARAM]++;
    flush(m);
    return 0;
}

void dpm_cp_watermark(struct dpm *m, int64_t wm)
{
    check_add(rep_add_watermark(&m->w, (uint64_t)wm));
    count(m, 0, REP_WATERMARK);
    flush(m);
}

/* ---- training ---- */

int dpm_train(const struct ir_program *prog, bool stateful, const char *path,
              struct dpm_train *out, char *err, size_t errlen)
{
    memset(out, 0, sizeof *out);
    struct hts_pcap *pc = hts_pcap_open(path, err, errlen);
    if (!pc)
        return -EINVAL;
    struct dpm *m = dpm_alloc(prog);
    out->nqueries = prog->nqueries;
    out->nnodes = xcalloc((size_t)prog->nqueries, sizeof *out->nnodes);
    out->q = xcalloc((size_t)prog->nqueries, sizeof *out->q);
    out->dp = xcalloc((size_t)prog->nqueries, sizeof *out->dp);
    for (int i = 0; i < prog->nqueries; i++) {
        const struct ir_query *q = prog->queries[i];
        int nn = q->nnodes;
        uint8_t *zone = xcalloc((size_t)nn, 1);
        uint32_t *slots = xcalloc((size_t)nn, sizeof *slots);
        out->nnodes[i] = nn;
        out->q[i] = xcalloc((size_t)nn, sizeof **out->q);
        out->dp[i] = xcalloc((size_t)nn, sizeof **out->dp);
        for (int k = 0; k < nn; k++) {
            const char *why;
            const struct ir_node *n = q->nodes[k];
            int z = plan_zone_for(q, n, zone, &why);
            if (z < 0 || (!stateful && z != PLAN_STREAM))
                z = PLAN_HOST;
            zone[k] = (uint8_t)z;
            out->dp[i][k] = z != PLAN_HOST;
        }
        setup_query(m, &m->qs[i], q, NULL, zone, slots);
        m->qs[i].tr = out->q[i];
        setup_refine_train(&m->qs[i]);
        free(zone);
        free(slots);
    }
    const uint8_t *data;
    uint32_t caplen, wirelen;
    uint64_t ts;
    int lt = hts_pcap_linktype(pc), r;
    struct hts_pkt pkt;
    int rc = 0;
    while ((r = hts_pcap_next(pc, &data, &caplen, &wirelen, &ts)) == 1) {
        if (hts_decode(&pkt, data, caplen, wirelen, ts, 0, lt, NULL) < 0) {
            snprintf(err, errlen, "%s: link type %d is not supported", path, lt);
            rc = -EINVAL;
            break;
        }
        dpm_packet(m, &pkt, data, caplen, wirelen, 0, lt);
    }
    if (r < 0 && rc == 0) {
        snprintf(err, errlen, "%s: %s", path, hts_pcap_error(pc));
        rc = -EIO;
    }
    dpm_finish(m);
    out->packets = (double)m->st.packets;
    for (int i = 0; i < prog->nqueries; i++)
        m->qs[i].tr = NULL;
    dpm_free(m);
    hts_pcap_close(pc);
    if (rc < 0)
        dpm_train_free(out);
    return rc;
}
