/*
 * jit_int.h - what the JIT's three parts share: the plan.
 *
 *   jit_plan.c  which queries the JIT covers, their sinks, table and row
 *               layouts (no LLVM)
 *   jit_gen.c   the plan as LLVM IR: one function per burst
 *   jit.c       LLVM set-up, optimisation, ORC LLJIT; the run-time side
 *               (windows, tables to partial rows, per-packet rows, fallback)
 *
 * A sink is where a packet's journey through a query's streaming region ends
 * in compiled code: a stateful node fed by packets (its table) or a
 * per-packet query's root (a row in ctx->out). Everything below is fixed at
 * compile time, so the generated code and the C side agree on every offset.
 */
#ifndef HTS_JIT_INT_H
#define HTS_JIT_INT_H

#include "jit.h"

#include <llvm-c/Core.h>

#include <string.h>

#define JIT_MAX_SLOTS 8   /* hopping windows: W / H at most this */
#define JIT_MAX_COLS 64   /* per-packet rows: one presence bit per column */
#define JIT_ROW_HDR 3     /* row words: query, ts, presence bits, values */
#define JIT_MAX_REST 16   /* direct close: filters and maps after the table */

enum jit_sink_kind { SINK_ROWS, SINK_GROUPBY, SINK_DISTINCT, SINK_HIST, SINK_FOLD };

struct jit_sink {
    enum jit_sink_kind kind;
    const struct ir_query *q;
    const struct ir_node *node; /* the stateful node, or the query's root */
    /* streaming nodes from the source's successor to the sink's input (for
     * SINK_ROWS: to the root, included) */
    const struct ir_node **path;
    int npath;
    int nslots; /* tables: windows a packet falls into (W / H) */
    int table0; /* index of slot 0's table in ctx->tables */
    int late;   /* index in ctx->late */
    /* table entry layout, in 64-bit words: hash, keys, aggregates (a fold:
     * its state variables, then one word of their presence bits) */
    int keyoff[IR_MAX_KEYS], keyw[IR_MAX_KEYS];
    int nstr; /* string keys */
    int aggoff[IR_MAX_AGGS];
    int presoff;
    int stride;
    /* fold: emit statements, words of an emitted row (row words: sink + 1
     * << 32 | query, window start, presence bits, keys, state) */
    int nemit, emit_words;
    /* a fold whose emitted rows feed a groupby or distinct through
     * filters and maps only: that sink's index + 1 (its rows then never
     * reach ctx->out: the compiled code updates the second table directly);
     * 0: the rows go to the executor. On the second sink: chained = the
     * fold's sink index + 1; its path starts after the fold. */
    int chain, chained;
    /* a groupby or distinct no fold reads downstream of: at window close
     * its finished rows may go to the executor as the node's rows
     * (exec_feed_rows) rather than merged into a table there, the order of
     * its rows then being the only difference, which sorting the root's
     * rows hides (jit.c: hand_over) */
    bool feed_rows;
    /* entries one packet may add to one table beyond the first (a chained
     * table fed by several emits): the table counts as full that much
     * earlier, so that no key is refused short of the limit */
    int reserve;
    /* per-packet rows: words of each column after the header */
    int coloff[JIT_MAX_COLS], colw[JIT_MAX_COLS];
    int row_words;
};

struct jit_qplan {
    bool covered;
    char why[192]; /* covered: what was compiled; else: why not */
    int first_sink, nsinks;
    /* The window closes without the executor (jit.c: close_direct): a
     * tumbling window, one table (a groupby or distinct, fed by packets or
     * by a fold's emits; or an emitting fold, whose rows jit.c keeps until
     * the window closes), and only filters and maps after it (rest, in
     * order, the last one the root). Sink index + 1, or 0. */
    int direct;
    const struct ir_node *rest[JIT_MAX_REST];
    int nrest;
    /* and the finished rows and the nodes after the table are compiled too
     * (every value a plain one): JIT_REST_FN "<query index>",
     * int fn(const uint64_t *entry, uint64_t *row) -> 1 when the row is
     * kept: row[0] presence bits, then the root's columns at rest_off[]
     * (for a fold, entry is an emitted row in ctx->out) */
    bool rest_jit;
    int rest_words;
    int rest_off[JIT_MAX_COLS];
};

struct jit_plan {
    const struct ir_program *p;
    struct jit_qplan *qs;
    struct jit_sink *sinks;
    int nsinks, ntables, nlate;
    bool need[FLD__COUNT]; /* fields the compiled code decodes */
    bool slow; /* some field comes from the interpreter's decoder */
    uint32_t want; /* and the groups (HTS_W_*) those fields are in: that
                    * decoder stops once it has them */
    int pkt_words;         /* row words one packet may produce, at most */
    int ncovered;
    bool fallback; /* some query runs in the interpreter */
};

/* jit_plan.c: 0, or -ENOMEM. */
bool jit_field_native(int f);
int jit_plan_build(struct jit_plan *pl, const struct ir_program *p);
void jit_plan_free(struct jit_plan *pl);
/* Words a value of type t takes in a table entry or a row. */
int jit_type_words(enum hts_type t);
/* hts_value of type t from its words (see jit_gen.c for the encoding). */
hts_value jit_words_value(enum hts_type t, const uint64_t *w);

/* The same into *v, for the run-time's hot loops (rows of every per-packet
 * query go through it): two stores for the value, nothing called. The
 * union's unused bytes end up zero, as with hts_int() and hts_pkt_value(). */
static inline void jit_set_value(hts_value *v, enum hts_type t, const uint64_t *w)
{
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
    uint64_t u[2] = {w[0], 0};
    if (t == TY_IPV4)
        u[0] = (uint32_t)w[0];
    else if (t == TY_MAC)
        u[0] = __builtin_bswap64(w[0] << 16);
    else if (t == TY_IPV6) {
        u[0] = __builtin_bswap64(w[0]);
        u[1] = __builtin_bswap64(w[1]);
    }
    v->type = (uint8_t)t;
    v->present = 1;
    v->plen = 0;
    memcpy(&v->u, u, sizeof u);
#else
    *v = jit_words_value(t, w);
#endif
}

#define JIT_REST_FN "hts_jit_rest_"
typedef int (*jit_rest_fn)(const uint64_t *entry, uint64_t *row);

/* jit_gen.c: adds the burst function JIT_FN_NAME to m. 0, or -EINVAL with
 * a message (a bug: the plan promised what the generator cannot do). */
#define JIT_FN_NAME "hts_jit_burst"
int jit_gen(const struct jit_plan *pl, int linktype, LLVMContextRef c,
            LLVMModuleRef m, char *err, size_t errlen);

#endif
