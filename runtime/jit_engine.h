/*
 * jit_engine.h - the operator interface the interpreter and the JIT share.
 *
 * A worker hands bursts of packets (struct jit_pkt: data, lengths, time,
 * port) to an engine and never needs to know which one runs them, after
 * Redis's dictType: behaviour plugged in through a small struct of function
 * pointers.
 *
 *   interp  hts_decode() then exec_packet() per packet: the reference
 *           executor, the fallback where LLVM cannot be used and the oracle
 *           the JIT is tested against;
 *   jit     the queries jit_compile() covers run as one native function per
 *           burst, their window state merged into the same executor; the
 *           others run in that executor as with interp.
 *
 * Both write rows through the executor's row callback (and, for a partial
 * executor, hand window state over through its partial callback), so what
 * comes out is the same whichever engine runs. (The file carries the jit_
 * prefix because the Makefile builds runtime/jit*.c, the files that need
 * LLVM, apart from the DPDK ones; its functions are eng_.)
 */
#ifndef HTS_JIT_ENGINE_H
#define HTS_JIT_ENGINE_H

#include "exec.h"
#include "jit.h"
#include "packet.h"

struct eng_ops {
    const char *name;
    /* packets in capture order */
    void (*burst)(void *self, const struct jit_pkt *pkts, uint32_t n);
    /* event time reaches ts without a packet */
    void (*advance)(void *self, int64_t ts);
    /* every window ending at or before this has been closed (handed over) */
    int64_t (*watermark)(const void *self);
    /* end of input: close every window */
    void (*finish)(void *self);
    /* packets of query q that came after their window had closed */
    uint64_t (*late)(const void *self, int q);
    void (*free)(void *self);
};

struct eng {
    const struct eng_ops *ops;
    void *self;
};

/*
 * The interpreter over executor x (not owned), decoding frames of link type
 * linktype; decode counters go to ds (may be NULL). NULL on allocation
 * failure.
 */
struct eng *eng_new_interp(struct exec *x, int linktype, struct hts_decode_stats *ds);

/*
 * The JIT: jp (shared by every worker, not owned) over executor x (not
 * owned), whose row callback fn/ctx must be given again here (per-packet
 * rows of compiled queries do not pass through x). NULL on allocation
 * failure.
 */
struct eng *eng_new_jit(const struct jit_prog *jp, struct exec *x, exec_row_fn fn,
                        void *ctx, struct hts_decode_stats *ds);

/* The JIT's counters, or NULL for another engine. */
const struct jit_stats *eng_jit_stats(struct eng *e);

static inline void eng_burst(struct eng *e, const struct jit_pkt *pkts, uint32_t n)
{
    e->ops->burst(e->self, pkts, n);
}

static inline void eng_advance(struct eng *e, int64_t ts)
{
    e->ops->advance(e->self, ts);
}

static inline int64_t eng_watermark(const struct eng *e)
{
    return e->ops->watermark(e->self);
}

static inline uint64_t eng_late(const struct eng *e, int q)
{
    return e->ops->late(e->self, q);
}

static inline void eng_finish(struct eng *e)
{
    e->ops->finish(e->self);
}

void eng_free(struct eng *e);

#endif
