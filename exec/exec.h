/*
 * exec.h - the reference executor: runs any checked query over packets.
 *
 * This defines what a query means (architecture.md, contract 2): every other
 * path - the data-plane model plus the runtime, the JIT, several workers - is
 * tested for giving the same rows as this code on the same packets. It is
 * written to be obviously right rather than fast; docs/semantics.md states
 * the rules it implements (absent values, windows, row order).
 *
 * Use: exec_new() with a row callback, exec_packet() for each decoded packet
 * in capture order, exec_finish() at end of input (closes open windows), then
 * exec_free(). Rows reach the callback in a deterministic order.
 */
#ifndef HTS_EXEC_H
#define HTS_EXEC_H

#include "ir.h"
#include "packet.h"

/* One result row: the values of the query's root columns. The values (and
 * any string bytes) are only valid during the callback. */
typedef void (*exec_row_fn)(void *ctx, const struct ir_query *q,
                            int64_t window_start, int64_t window_end,
                            const hts_value *cols, int ncols);

struct exec_stats {
    uint64_t packets;
    uint64_t rows;
    uint64_t late;        /* packets older than an already closed window */
    uint64_t absent_keys; /* tuples skipped: a group/distinct key was absent */
    uint64_t windows;     /* window instances closed */
    uint64_t table_full;  /* tuples refused: their window's table was full;
                           * that window's rows are incomplete */
};

struct exec;

/* A new executor for every query of p (not owned). NULL on allocation failure. */
struct exec *exec_new(const struct ir_program *p, exec_row_fn fn, void *ctx);

/* Runs one decoded packet (meta.ts must be present) through every query. */
void exec_packet(struct exec *x, const struct hts_pkt *pkt);

/* End of input: closes every open window, in order, emitting their rows. */
void exec_finish(struct exec *x);

/*
 * A live change of a query's parameters (htscp's `set`, the param record):
 * from event time `from` on, query `query` runs the operators of p, a
 * program with the same queries and operators and other constants (plan
 * files loaded with the change, plan_load_set). x keeps the records of
 * earlier windows; a version gets those of its windows (a tuple by its time,
 * a row or partial state by its window's start); every version sees every
 * advance, oldest first, and rows leave through x's callback, counted in
 * x's stats. The query's window must be tumbling and `from` one of its
 * window starts. p must outlive x. 0, or -EINVAL / -ENOMEM with the reason
 * in err.
 */
int exec_add_version(struct exec *x, const struct ir_program *p, int query, int64_t from,
                     char *err, size_t errlen);

const struct exec_stats *exec_stats(const struct exec *x);
/* Packets (or handed-over rows) that came after their window of query
 * `query` had closed: the per-query part of exec_stats' late. */
uint64_t exec_late(const struct exec *x, int query);
/* Whether a packet of time ts is late for query q once event time has
 * reached watermark: a window of it has closed (route()'s rule), for the
 * callers that must pick late packets out (htsd --late-topic). */
bool exec_late_for(const struct ir_query *q, int64_t ts, int64_t watermark);

/* Bounds every keyed table (per stateful operator and window) to max_keys
 * keys; 0 (the default) leaves them unbounded. A tuple with a new key that
 * does not fit is refused and counted (exec_stats table_full). */
void exec_set_max_keys(struct exec *x, size_t max_keys);
void exec_free(struct exec *x);

/*
 * Feeding what a data plane reported (the host part of a partitioned query):
 *
 * exec_feed: one tuple that left the data plane at streaming node `node` of
 * query `query` (the nodes up to it ran there). For a packet-level node the
 * values are in *pkt (only the fields the host part reads need be present);
 * for a tuple node they are `row` (that node's columns). ts is the packet's
 * time. Evaluation continues after `node` exactly as for a captured packet.
 *
 * exec_feed_rows: one output row of stateful node `node` (or of a filter
 * after one) for the window starting at window_start, computed by the data
 * plane from its registers. The window's rows of that node are the union of
 * the host's own and these; the planner guarantees the two never hold the
 * same key. Rows for a window that already closed are counted late.
 */
void exec_feed(struct exec *x, int query, int node, const struct hts_pkt *pkt,
               const hts_value *row, int64_t ts);
void exec_feed_rows(struct exec *x, int query, int node, int64_t window_start,
                    const hts_value *row);

/*
 * Several workers (htsd): each worker runs its own executor in partial mode:
 * when one of its windows closes it hands the state of that window's
 * stateful operators to `fn` instead of emitting rows. The main executor
 * merges them with exec_merge() (same query, node and window) and, once
 * event time passes the window's end (exec_advance()), emits the rows, which
 * equal a single executor's on all the packets. exec_mergeable() says whether
 * the program allows it: a fold depends on arrival order and does not.
 * A partial row has exec_partial_ncols(node) columns.
 *
 * exec_merge also takes a data plane's share of a groupby (a refined
 * groupby's PARTIAL records, docs/partitioning.md): merged into the host's
 * own state for that window, a groupby on packets at once, one after a
 * stateful node when the window closes and the groupby is computed.
 */
typedef void (*exec_partial_fn)(void *ctx, int query, int node,
                                int64_t window_start, const hts_value *row,
                                int ncols);
void exec_set_partial(struct exec *x, exec_partial_fn fn, void *ctx);
/* In how many parts the traffic of a query with approx_count/approx_sum is
 * split before it is merged (workers x sites; 1 when unset): each part
 * keeps the keys whose estimate reaches threshold / parts, so that no key
 * heavy in all the traffic is missed (exec/cms.h). */
void exec_set_sketch_parts(struct exec *x, int parts);
/* Which queries a partial executor hands over (all, after
 * exec_set_partial): one that does not closes its windows and emits rows as
 * a whole executor would (htsd's main lcore at a site: it merges its
 * workers, emits its own queries' rows and hands a network-wide query's
 * merged state on). */
void exec_set_partial_query(struct exec *x, int query, bool hand_over);
bool exec_mergeable(const struct exec *x, char *why, size_t len);
/* Whether exec_set_partial() made x a worker that hands its state over. */
bool exec_is_partial(const struct exec *x);
int exec_partial_ncols(const struct ir_node *n);
void exec_merge(struct exec *x, int query, int node, int64_t window_start,
                const hts_value *row);
/* A fold's state for one key (row: keys, then state variables, the
 * node's columns) in the window starting at window_start, as compiled code
 * kept it: the window's close block then runs on it when the window closes,
 * as if this executor had run the fold (rows already emitted go in with
 * exec_feed_rows). A key past the table's limit is refused and counted. */
void exec_fold_state(struct exec *x, int query, int node, int64_t window_start,
                     const hts_value *row);
/* The rows of query `query`'s window starting at window_start come from
 * emit instead of the query's operators: when this executor closes that
 * window (in its order: end time, then query), it calls emit, which hands
 * the window's rows to the row callback itself and returns how many. For
 * compiled code that finished the window on its own (the JIT's direct
 * close); the executor must hold nothing else of that window. */
typedef uint64_t (*exec_window_fn)(void *ctx, const struct ir_query *q,
                                   int64_t window_start, int64_t window_end);
bool exec_window_external(struct exec *x, int query, int64_t window_start,
                          exec_window_fn emit, void *ctx); /* false: late */
/* Event time reaches ts without a packet: closes what ends at or before it. */
void exec_advance(struct exec *x, int64_t ts);

/*
 * Event time moves only with exec_advance(), not with each exec_feed()'s
 * time: the host half of a partitioned query (host.c), where the data plane
 * says how far time has gone in watermark records. A switch's control plane
 * sends a window's rows before the watermark that closes it, while tuples of
 * the next window may already have arrived: their times must not close it.
 */
void exec_time_by_watermark(struct exec *x, bool on);
/* The event time reached: every window ending at or before it is closed. */
int64_t exec_watermark(const struct exec *x);
/* Keys held in the open windows' tables (a gauge for metrics). */
uint64_t exec_state_keys(const struct exec *x);

/* Evaluates a checked expression of a filter, map, key or aggregate
 * argument (not fold statements) on a packet or a row: the one evaluator,
 * for the data-plane model and the runtime's interpreter to share. */
hts_value exec_eval(const struct ast_expr *e, const struct hts_pkt *pkt,
                    const hts_value *row);

/* One present input x into a running sum, avg (sum), min or max v, given
 * how many present inputs came before it: the one aggregate step, shared
 * by the executor and the data-plane model. (count() counts rows instead.) */
void exec_agg_step(enum ast_agg agg, hts_value *v, int64_t seen,
                   const hts_value *x);
/* An aggregate's running value before any input, of column type t: 0,
 * or for approx_distinct the sketch's registers as a string of HLL_M
 * bytes in ar (the partial row carries them; exec_merge takes the larger
 * of each register). */
struct arena;
hts_value exec_agg_init(enum ast_agg agg, enum hts_type t, struct arena *ar);

/* The 1-in-N sampling hash: CRC-32 (P4's crc32) of meta.ts as 8 big-endian
 * bytes. A packet is kept when hash % N == 0: it depends on the packet only,
 * so workers, hosts and a data plane decide alike. */
uint32_t exec_sample_hash(uint64_t ts_ns);

#endif
