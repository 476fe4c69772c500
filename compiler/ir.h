/*
 * ir.h - the typed dataflow IR: one DAG of operators per query.
 *
 * sema.c builds it from the AST; the executor runs it, the planner cuts it,
 * the P4 generator and the JIT lower its parts. Each node has its output
 * schema and the source location of the operator it came from.
 *
 * A node's input rows are either packets (the source and the per-packet
 * operators before the first map, groupby, ...) or tuples with named, typed
 * columns. Expressions are the AST's, annotated by sema: a name is a catalogue
 * field (REF_FIELD) on packet input, a column index (REF_COL) on tuple input,
 * or a fold state variable (REF_STATE); parameters and constants are already
 * literals.
 *
 *   packets ─► filter ─► groupby(ipv4.dst; n=count()) ─► filter(n >= 40) ─► out
 *   syns ─┐
 *   acks ─┴► join(host) ─► map ─► filter ─► out
 */
#ifndef HTS_IR_H
#define HTS_IR_H

#include "ast.h"

#include <stdio.h>

/* IR node kinds: the pipeline operators (HTS_OPKINDS, same order) plus the
 * packet source and joins. */
enum ir_kind {
#define X(id, text) IR_##id,
    HTS_OPKINDS(X)
#undef X
        IR_SOURCE,
    IR_JOIN,
    IR__COUNT
};
extern const char *const ir_kind_text[IR__COUNT];

/* stateful kinds keep per-window state and need a window */
static inline int ir_kind_stateful(enum ir_kind k)
{
    return k == IR_DISTINCT || k == IR_GROUPBY || k == IR_FOLD ||
           k == IR_HISTOGRAM || k == IR_JOIN;
}

/* Keys of a groupby, distinct, fold or join: a bound the executor and the
 * runtime size their scratch with. */
#define IR_MAX_KEYS 16
#define IR_MAX_AGGS 32 /* aggregates of a groupby, state variables of a fold */

struct ir_col {
    const char *name;
    enum hts_type type;
    int field; /* catalogue id when the column is a field copied as is, else -1 */
};

struct ir_node {
    enum ir_kind kind;
    int id; /* index in the query's node array: topological order */
    struct loc loc;
    struct ir_node *in[2];
    int nin;
    /* output: packets, or tuples with columns */
    bool packet;
    struct ir_col *cols;
    int ncols;
    /* FILTER predicate, HISTOGRAM value */
    struct ast_expr *expr;
    /* MAP/EXPORT: one expression per output column. DISTINCT/GROUPBY/FOLD:
     * the first nkeys are the keys. */
    struct ast_expr **exprs;
    int nexprs, nkeys;
    /* GROUPBY: aggregate calls (expr->agg, expr->args[0]); FOLD: the state
     * variables' initial values */
    struct ast_expr **aggs;
    int naggs;
    /* FOLD: the update statements, and whether they emit */
    struct ast_stmt **body;
    int nbody;
    struct ast_stmt **close; /* run once per key when the window closes */
    int nclose;
    bool emits;
    /* SAMPLE: keep 1 in n */
    int64_t sample_n;
    /* HISTOGRAM: ascending bucket edges */
    int64_t *edges;
    int nedges;
    /* JOIN: key columns in each input; each output column's side and index */
    int *lkeys, *rkeys, njk;
    uint8_t *jside;
    int *jcol;
    bool left_join;
    /* GROUPBY of approx_count/approx_sum (a Count-Min sketch, exec/cms.h):
     * the aggregate its threshold filter tests, and the least value that
     * passes it; a key is kept once its estimate reaches that */
    bool sketch;
    int sketch_agg;
    int64_t sketch_min;
    /* the sub-query (let NAME = ...) this node ends, for display */
    const char *label;
};

struct ir_param {
    const char *name;
    hts_value value;
    struct loc loc;
    bool set; /* overridden from the command line */
};

struct ir_query {
    const char *name;
    struct loc loc;
    int index; /* position in the program */
    int64_t window_ns; /* 0: no window */
    int64_t hop_ns;    /* == window_ns for tumbling */
    struct ir_param *params;
    int nparams;
    struct ir_node **nodes;
    int nnodes;
    struct ir_node *root;
    bool stateful;
    bool per_packet; /* no stateful operator: rows are produced per packet */
    /* refinement hint: an address key and its prefix lengths */
    const char *refine_key;
    int *levels;
    int nlevels;
    /* 'network-wide': each site hands its windows' mergeable state to
     * Kafka; htsmerge merges the sites and produces the rows
     * (docs/network-wide.md) */
    bool network_wide;
};

struct ir_program {
    struct ir_query **queries;
    int nqueries;
    /* the target plan_split_filters() rewrote it for (plan.h); NULL: the
     * program as written */
    const char *split_for;
};

/* A --set override: applies to every query with that parameter, or only to
 * query Q when written Q.NAME=VALUE. */
struct ir_override {
    const char *query; /* NULL: any */
    const char *name;
    hts_value value;
    bool used;
};

/* Checks the parsed files and builds their IR in `arena`. Reports every
 * problem it finds on d; returns NULL if there was any error. */
struct ir_program *sema_build(struct arena *arena, struct diag *d,
                              struct ast_file **files, int nfiles,
                              struct ir_override *ovr, int novr);

/* Text dump (golden-tested) and Graphviz DOT. */
void ir_dump(const struct ir_program *p, FILE *out);
void ir_dump_dot(const struct ir_program *p, FILE *out);

/* Writes e as query-language text. */
void ir_expr_print(const struct ast_expr *e, const struct ir_node *in,
                   FILE *out);

/* Named constants usable in expressions (TCP flags, protocols, DNS types).
 * CONSTANT ORDER: none; looked up by name. */
#define HTS_CONSTANTS(X)                                                       \
    X("FIN", 0x01) X("SYN", 0x02) X("RST", 0x04) X("PSH", 0x08)                 \
    X("ACK", 0x10) X("URG", 0x20) X("ECE", 0x40) X("CWR", 0x80)                 \
    X("ICMP", 1) X("TCP", 6) X("UDP", 17) X("GRE", 47) X("ICMPV6", 58)          \
    X("DNS_A", 1) X("DNS_NS", 2) X("DNS_CNAME", 5) X("DNS_SOA", 6)              \
    X("DNS_PTR", 12) X("DNS_MX", 15) X("DNS_TXT", 16) X("DNS_AAAA", 28)         \
    X("DNS_RRSIG", 46) X("DNS_ANY", 255)

/* Scalar functions. FUNCTION ORDER: sema and the executor follow this list. */
#define HTS_FUNCS(X)                                                           \
    X(MIN2, "min", 2)                                                          \
    X(MAX2, "max", 2)                                                          \
    X(ABS, "abs", 1)                                                           \
    X(HASH, "hash", 1)                                                         \
    X(COALESCE, "coalesce", 2) /* a if present, else b */                      \
    X(PRESENT, "present", 1)   /* true if the value is present */

enum hts_fn {
#define X(id, name, nargs) FN_##id,
    HTS_FUNCS(X)
#undef X
        FN__COUNT
};

#endif
