/*
 * jit_engine.c - the two engines behind struct eng_ops (see jit_engine.h).
 *
 * Each is a thin adapter: the interpreter is hts_decode() + exec_packet(),
 * the JIT is struct jit_run (jit.c). Keeping them this thin is the point:
 * everything an engine must get right (windows, merging, row order) lives
 * in one place per engine, and the tests compare the two through this very
 * interface.
 */
#include "jit_engine.h"

#include <stdlib.h>

/* ---- interp ---- */

struct interp {
    struct exec *x;
    int linktype;
    struct hts_decode_stats *ds;
    struct hts_pkt pkt;
};

static void interp_burst(void *self, const struct jit_pkt *pkts, uint32_t n)
{
    struct interp *e = self;
    for (uint32_t i = 0; i < n; i++) {
        const struct jit_pkt *p = &pkts[i];
        hts_decode(&e->pkt, p->data, p->caplen, p->wirelen, p->ts, p->port, e->linktype,
                   e->ds);
        exec_packet(e->x, &e->pkt);
    }
}

static void interp_advance(void *self, int64_t ts)
{
    exec_advance(((struct interp *)self)->x, ts);
}

static int64_t interp_watermark(const void *self)
{
    return exec_watermark(((const struct interp *)self)->x);
}

static uint64_t interp_late(const void *self, int q)
{
    return exec_late(((const struct interp *)self)->x, q);
}

static void interp_finish(void *self)
{
    exec_finish(((struct interp *)self)->x);
}

static void interp_free(void *self)
{
    free(self);
}

static const struct eng_ops interp_ops = {
    .name = "interp",
    .burst = interp_burst,
    .advance = interp_advance,
    .watermark = interp_watermark,
    .finish = interp_finish,
    .late = interp_late,
    .free = interp_free,
};

struct eng *eng_new_interp(struct exec *x, int linktype, struct hts_decode_stats *ds)
{
    struct eng *e = calloc(1, sizeof *e);
    struct interp *in = calloc(1, sizeof *in);
    if (!e || !in) {
        free(e);
        free(in);
        return NULL;
    }
    in->x = x;
    in->linktype = linktype;
    in->ds = ds;
    e->ops = &interp_ops;
    e->self = in;
    return e;
}

/* ---- jit ---- */

static void jit_burst(void *self, const struct jit_pkt *pkts, uint32_t n)
{
    jit_run_burst(self, pkts, n);
}

static void jit_advance(void *self, int64_t ts)
{
    jit_run_advance(self, ts);
}

static int64_t jit_watermark(const void *self)
{
    return jit_run_watermark(self);
}

static uint64_t jit_late(const void *self, int q)
{
    return jit_run_late(self, q);
}

static void jit_finish(void *self)
{
    jit_run_finish(self);
}

static void jit_release(void *self)
{
    jit_run_free(self);
}

static const struct eng_ops jit_ops = {
    .name = "jit",
    .burst = jit_burst,
    .advance = jit_advance,
    .watermark = jit_watermark,
    .finish = jit_finish,
    .late = jit_late,
    .free = jit_release,
};

struct eng *eng_new_jit(const struct jit_prog *jp, struct exec *x, exec_row_fn fn,
                        void *ctx, struct hts_decode_stats *ds)
{
    struct eng *e = calloc(1, sizeof *e);
    struct jit_run *r = jit_run_new(jp, x, fn, ctx, ds);
    if (!e || !r) {
        free(e);
        jit_run_free(r);
        return NULL;
    }
    e->ops = &jit_ops;
    e->self = r;
    return e;
}

const struct jit_stats *eng_jit_stats(struct eng *e)
{
    return e->ops == &jit_ops ? jit_run_stats(e->self) : NULL;
}

void eng_free(struct eng *e)
{
    if (!e)
        return;
    e->ops->free(e->self);
    free(e);
}
