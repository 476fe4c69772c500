/*
 * plan.h - the partition plan: which part of each query runs in the data
 * plane, and what the data plane reports to the host.
 *
 * The planner (planner.c) makes a plan for a program and a target; `htsc
 * compile` writes it as DIR/NAME.plan.json (docs/plan-format.md); the
 * data-plane model, `htsc host` and htsd load it back with plan_load(), which
 * rebuilds the queries' IR with the same front end (lexer, parser, sema) from
 * the source text the plan carries, so both sides agree on node ids and
 * column types by construction, and checks that they do.
 *
 * The data-plane part of a query is a set of IR nodes closed under inputs
 * (the source is always in it: a data plane at least mirrors packets). Where
 * an edge leaves that set, the data plane reports (docs/partitioning.md):
 *
 *   exit at a streaming node N     TUPLE records at N, one per packet that
 *                                  reaches N; the host resumes at N
 *                                  (exec_feed).
 *   exit at a stateful DP node N   ROW records of N (or of the threshold
 *   (or a DP filter after it)      filter after it) for a window: a distinct
 *                                  reports first sights at once, a groupby
 *                                  or histogram its rows when the window
 *                                  closes (exec_feed_rows).
 *   overflow of a DP distinct or   the key's register slot is taken by
 *   groupby                        another key: the tuple leaves at the
 *                                  node's input, as a TUPLE (streaming
 *                                  input) or a ROW (input after a distinct).
 *   spill of a DP groupby fed by   a key whose distinct tuple overflowed is
 *   a DP distinct                  the host's: at close, the distinct rows
 *                                  of that key leave as ROWs at the
 *                                  groupby's input.
 *
 * Ownership: a struct plan owns everything it points to (one arena), except
 * the program given to plan_new(), which must outlive it. plan_free()
 * releases it all.
 */
#ifndef HTS_PLAN_H
#define HTS_PLAN_H

#include "ir.h"
#include "report.h"

#include <stdint.h>
#include <stdio.h>

#define PLAN_FORMAT 1 /* the plan file format this code writes and reads */

struct plan;

/* How a data-plane node's output leaves the data plane. */
enum plan_exit {
    PLAN_EXIT_NONE,      /* host node, or consumed only inside the data plane */
    PLAN_EXIT_TUPLE,     /* TUPLE records per packet (streaming node) */
    PLAN_EXIT_PACKET,    /* PACKET records: the whole frame (the host part
                          * reads host-only fields, or target none) */
    PLAN_EXIT_ROW_NOW,   /* ROW records per packet (distinct first sights and
                          * the filters and maps after a DP distinct) */
    PLAN_EXIT_ROW_CLOSE, /* ROW records when the window closes (groupby,
                          * histogram, the threshold filter after them) */
    PLAN_EXIT_PARTIAL,   /* PARTIAL records when the window closes: a refined
                          * groupby's slots, merged into the host's groupby */
};

struct plan_node {
    bool dp;          /* runs in the data plane */
    uint32_t slots;   /* DP DISTINCT/GROUPBY: hashed register slots */
    int16_t stage;    /* first pipeline stage (-1: none, host node) */
    int16_t nstages;  /* pipeline stages it occupies */
    bool frame;       /* a packet-level exit sends the frame (a PACKET record)
                       * instead of the fields the host reads: one flag in
                       * TNA's mirror header instead of the values (the
                       * planner's choice where the mirror header is full) */
    /* derived by plan_finish() from dp[] and the IR */
    uint8_t exit;        /* enum plan_exit */
    bool spill;          /* DP GROUPBY fed by a DP DISTINCT: keeps spill bits */
    int16_t overflow_at; /* DP DISTINCT/GROUPBY: where overflow leaves (its
                          * input node), else -1 */
    uint8_t overflow_kind; /* REP_TUPLE or REP_ROW */
    uint8_t zone;          /* enum plan_zone */
    /* refinement (a DP GROUPBY of a query with a refine hint): its tuples
     * first update a coarse groupby keyed by the refined address masked to
     * /refine; a tuple whose coarse slot does not yet pass the threshold
     * after the groupby leaves at the groupby's input (the gate), the rest
     * reach the fine slots, which are reported whole as PARTIAL records and
     * merged on the host, where the threshold runs (docs/partitioning.md,
     * "Refinement"). 0: not refined. */
    uint8_t refine;        /* prefix length of the coarse level */
    uint32_t coarse_slots; /* register slots of the coarse level */
    int8_t refine_col;     /* derived: the key column refined */
    int16_t gate;          /* derived: the threshold filter node it tests */
};

/*
 * Where a data-plane node sits in the shapes the model and p4gen implement
 * (docs/partitioning.md). Per branch of a query, in order:
 *   STREAM  source, filter, sample, map, export on each packet
 *   DIST    a distinct (register set), then filters and maps on its first
 *           sights
 *   AGG     a groupby (after STREAM or DIST) or a histogram (after STREAM)
 *   THRESH  one filter after a groupby, of the form agg >= c (or >), applied
 *           to the rows when the window closes
 */
enum plan_zone { PLAN_HOST, PLAN_STREAM, PLAN_DIST, PLAN_AGG, PLAN_THRESH };

/*
 * The zone node n of q would have in the data plane given the zones of the
 * nodes before it (zone[id], by node id); -1 and *why (static text) when it
 * cannot run there. The check is the target-independent one; targets add
 * their own limits (planner/targets.h).
 */
int plan_zone_for(const struct ir_query *q, const struct ir_node *n,
                  const uint8_t *zone, const char **why);

/*
 * Checks the target-independent rules of a cut of query qi (dp[] per node):
 * the source in the data plane, every data-plane node in a zone (closed
 * under inputs), no node feeding both data-plane and host operators, the
 * input of a data-plane distinct or groupby feeding nothing else. Fills
 * zone[] (per node). 0, or -EINVAL with the reason in err.
 */
int plan_cut_check(const struct plan *p, int qi, const bool *dp, uint8_t *zone,
                   char *err, size_t errlen);

/*
 * What query qi's per-packet records add to a TNA mirror header (p4gen/
 * tna.c's mirror_h) under cut dp (zones from plan_cut_check), in bytes as
 * p4c-barefoot counts a mirror header: every field rounded up to whole
 * bytes. Per record sent per packet: its flag (one byte), then, unless it
 * carries the frame, its presence and values; 8 bytes (the window start)
 * when a row leaves per packet. Values that are packet fields (a
 * packet-level tuple's, a row column copying one) tna.c shares between
 * records: field_bytes[f] gets their bytes (the caller counts each field
 * once for the whole program); every other value counts in the return
 * value, as if not shared (an upper bound). field_bytes has FLD__COUNT entries, zeroed here. frame: the
 * packet-level exits send the frame (plan_node.frame). *frames: how many
 * of the records carry the frame (PACKET records).
 */
int plan_mirror_bytes(const struct plan *p, int qi, const bool *dp, const uint8_t *zone,
                      bool frame, uint8_t *field_bytes, int *frames);

/*
 * Whether data-plane groupby n of q can be refined at prefix length `level`
 * (0: at any of the hint's levels): q has a refine hint, `level` is one of
 * its levels and shorter than the address, one key column of n is the
 * hinted field, and n's only consumer is a threshold filter (count, max or
 * sum of a field >= constant), which then runs on the host. Sets *col (the
 * key column) and *gate (the filter's node id); else false and *why.
 */
bool plan_refinable(const struct ir_query *q, const struct ir_node *n, int level,
                    int *col, int *gate, const char **why);

/* Whether e can be evaluated by a data plane (fields it reads are DP
 * fields, operators it uses are ones P4 has); *why says what is not. */
bool plan_expr_dp(const struct ast_expr *e, const char **why);

/* Whether e reads meta.wire_len or meta.cap_len (a target without
 * frame_len cannot). */
bool plan_expr_reads_frame_len(const struct ast_expr *e);

/*
 * The program a plan for target t is made of (split.c): prog, except that
 * each filter on packets whose condition mixes conditions t's data plane can
 * test with ones only the host can is split into two filters, the first
 * with the data-plane conjuncts (and, for a disjunction whose every branch
 * implies a data-plane condition, that condition), the second with the
 * rest, so the planner can cut between them and only packets passing the
 * first reach the host:
 *
 *   filter udp.sport == 53 and dns.ancount >= 1
 *     ->  filter udp.sport == 53 | filter dns.ancount >= 1
 *
 * Exact under three-valued logic: a filter keeps a tuple when its condition
 * is true, and `a and b` is true exactly when both are. prog is left as it
 * is; queries with nothing to split are shared, the rest copied into a (the
 * copies' nodes are renumbered). The result has split_for = t->name:
 * plan_new() refuses a program not split for its target, and plan_load()
 * splits the program it rebuilds, so the compiler and the loader agree on
 * node ids. Deterministic: depends only on prog and t.
 */
struct p4g_target;
const struct ir_program *plan_split_filters(struct arena *a, const struct ir_program *prog,
                                            const struct p4g_target *t);

struct plan_query {
    const struct ir_query *q;
    struct plan_node *nodes; /* [q->nnodes] */
    const char *file;        /* the file it came from (for people) */
    const char *source;      /* its text, "query NAME ... { ... }" */
    int **consumers;         /* per node: the nodes reading it, -1 ended */
    /* the planner's estimate over the training capture (or defaults) */
    double est_in;    /* packets in */
    double est_out;   /* records to the host */
};

struct plan_resources { /* what the plan uses of the target */
    int stages;
    uint64_t register_bits;
    int salus, hash_units, tables, table_entries, phv_bits;
    int mirror_bytes, frames; /* targets with a mirror limit: the mirror
                               * header's bytes as p4c-barefoot counts them,
                               * and the records in it that carry the frame */
};

struct plan {
    int format;            /* PLAN_FORMAT */
    uint64_t fingerprint;  /* of the canonical content (plan_finish) */
    const char *target;    /* "none", "v1model", "tofino", "smartnic" */
    uint32_t max_frame;    /* largest report frame the target sends */
    const struct ir_program *prog;
    struct plan_query *queries; /* [prog->nqueries] */
    int nqueries;
    struct rep_schema reports;  /* layouts and fingerprint */
    struct plan_resources used;
    const char *optimality;     /* how the planner knows its cut is optimal */
    bool extract;               /* the target parses fields (not "none") */
    bool frame_len;             /* the target knows a frame's length */
    /* private */
    struct arena arena;
    struct arena *prog_arena; /* plan_load: the program's own arena */
    struct src_file **srcs;   /* plan_load: the sources it parsed */
    int nsrcs;
    struct rep_layout *layouts;
    int nlayouts;
};

/*
 * A plan for prog on `target` with every node on the host but the sources,
 * ready for the planner to set dp[] and slots. prog must be what
 * plan_split_filters() made for that target. Sources: each query's text is
 * cut out of the file it was parsed from (q->loc.file). NULL on failure, with
 * the reason in err.
 */
struct plan *plan_new(const struct ir_program *prog, const char *target,
                      uint32_t max_frame, char *err, size_t errlen);

/*
 * Derives exits, overflow paths and report layouts from the dp flags and the
 * IR, checks the cut is one the data-plane model can run (closed under
 * inputs; only the shapes docs/partitioning.md lists), and computes the
 * fingerprint. 0, or -EINVAL with the reason in err.
 */
int plan_finish(struct plan *p, char *err, size_t errlen);

/* Writes the plan as JSON (docs/plan-format.md). 0 or -errno. */
int plan_write(const struct plan *p, FILE *out);

/*
 * Loads DIR/NAME.plan.json: parses it strictly, refuses a newer format, a
 * corrupt file or a fingerprint that does not match the content, rebuilds
 * the program from the sources with their parameter values, checks that each
 * query's nodes are the ones the plan describes, and derives the layouts
 * again. NULL on failure with a one-line reason in err ("plan.json: ...").
 */
struct plan *plan_load(const char *path, char *err, size_t errlen);
/*
 * The same plan with other values of some parameters: sets[i] is
 * "QUERY.NAME=VALUE" (VALUE as `htsc --set` takes it). The operators, the
 * cut, the report layouts must come out the same (checked); the result keeps
 * the file's fingerprint, so that it decodes the reports of the data plane
 * the file was compiled for. What a live change loads (htscp `set`, the
 * param record, exec_add_version). NULL with the reason in err.
 */
struct plan *plan_load_set(const char *path, const char *const *sets, int nsets, char *err,
                           size_t errlen);
/* Live changes of one plan file: every change so far ("QUERY.NAME=VALUE")
 * and the plan loaded with it and all before it. Zero-initialised. */
struct plan_changes {
    char **sets;
    struct plan **plans;
    int n;
};
/* Loads path with every change so far and `set` (plan_load_set) and keeps
 * both; the plan lives until plan_changes_free. NULL with the reason in err
 * (nothing kept). */
struct plan *plan_changes_add(struct plan_changes *c, const char *path, const char *set,
                              char *err, size_t errlen);
/* Forgets the last change (one refused after it was loaded). */
void plan_changes_pop(struct plan_changes *c);
void plan_changes_free(struct plan_changes *c);
/* The same from memory (tests, fuzzers); `name` is used in messages. */
struct plan *plan_load_text(const char *text, size_t len, const char *name,
                            char *err, size_t errlen);

void plan_free(struct plan *p);

/* The layout of (query, node, kind), or NULL. */
static inline const struct rep_layout *plan_layout(const struct plan *p,
                                                   int query, int node,
                                                   int kind)
{
    return rep_layout_find(&p->reports, query, node, kind);
}

/* The id of the query named `name`, or -1. */
int plan_query_id(const struct plan *p, const char *name);

/* "exit" names for explain and the plan file: "none", "tuple"... */
const char *plan_exit_name(int exit);

#endif
