/*
 * jit.h - the runtime's per-packet work compiled to native code with LLVM.
 *
 * jit_compile() reads a checked program (struct ir_program) and, for every
 * query it covers, emits LLVM IR through the LLVM C API for the query's
 * per-packet part, all queries fused into ONE function per burst:
 *
 *   uint32_t fn(struct jit_ctx *ctx, const struct jit_pkt *pkts, uint32_t n)
 *
 * For each packet it decodes only the fields the queries read (Ethernet,
 * VLAN stack, MPLS, IPv4/IPv6 with extension headers, TCP/UDP/ICMP, with
 * core/decode.c's rules, every access bounds-checked against the captured
 * length), runs the streaming region (filters with three-valued logic,
 * maps, sample) and then either updates the state table of each stateful
 * node fed by packets (groupby, distinct, histogram) or writes a per-packet
 * row (export and other per-packet queries). The module is optimised with
 * the new pass manager and compiled by ORC LLJIT for the host CPU: no C
 * compiler is involved at run time.
 *
 * The function returns how many packets it consumed. It stops early, leaving
 * the rest to a later call, when a packet reaches the end of an open window
 * (ctx->next_close), when a state table reached its limit (ctx->full) or when
 * the row buffer could not hold another packet's rows. The C side
 * (struct jit_run) then does what needs judgement: it converts the tables of
 * the windows that end into the executor's partial rows (exec_partial_ncols
 * layout) and merges them with exec_merge() into an executor that runs the
 * rest of the query (filters after a groupby, joins...), hands per-packet
 * rows to the row callback, and feeds the queries the JIT does not cover to
 * the interpreter. Results equal the reference executor's, row for row.
 *
 * Fields the generated decoder does not know (DNS, payload, tunnels) are
 * read from the interpreter's decoder, which compiled code calls at most
 * once per packet and only for packets that get as far as needing one; it
 * goes on from the L4 header compiled code found (hts_decode_l4; for DNS
 * fields only, from a UDP header compiled code found DNS's:
 * hts_decode_udp_dns), and only as far as the groups of fields the
 * compiled function reads (HTS_W_*).
 *
 * A fold's emitted rows that reach a groupby or distinct through filters
 * and maps only update that second table in compiled code too. A query
 * whose windows are tumbling and whose one table is followed by filters and
 * maps only has its windows finished by compiled code and jit.c, the
 * executor only handing the rows out in its order (exec_window_external).
 *
 * Queries the JIT does not cover (jit_covers() says why): folds feeding
 * another fold, strings as columns or as keys (except dns.qname),
 * streaming rows fed to a join, per-packet rows of more than 64 columns,
 * hopping windows of more than 8 hops. See docs/jit.md.
 */
#ifndef HTS_JIT_H
#define HTS_JIT_H

#include "exec.h"
#include "ir.h"
#include "packet.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

/* One packet as the compiled function reads it: 32 bytes, built by the
 * worker from an mbuf (or by a test from a capture). */
struct jit_pkt {
    const uint8_t *data;
    uint32_t caplen;  /* bytes at data */
    uint32_t wirelen; /* length on the wire */
    uint64_t ts;      /* meta.ts: ns since the epoch */
    uint16_t port;    /* meta.port */
    uint16_t pad[3];
};

/*
 * A state table: open addressing over a generation-stamped index, so that
 * clearing it at window close is one increment. index[i] holds
 * gen << 32 | entry number, or a stale generation when empty; entries are
 * dense, `stride` 64-bit words each: hash, key words, aggregate words.
 * A histogram's table is its nedges + 1 counters (n counts the packets).
 */
struct jit_table {
    uint64_t *index; /* mask + 1 slots */
    uint64_t *ent;   /* limit entries */
    uint32_t n;      /* entries in use */
    uint32_t limit;  /* entries allocated; reaching it sets ctx->full */
    uint32_t mask;
    uint32_t gen;
    /* string keys (dns.qname): their bytes; a key word is offset << 32 |
     * length. Less than JIT_STR_RESERVE bytes left per string key sets
     * ctx->full too. */
    uint8_t *bytes;
    uint32_t nbytes, capbytes;
};
#define JIT_STR_RESERVE 256 /* the longest string key: a dotted DNS name */

/* What the compiled function reads and writes; the C side owns it. */
struct jit_ctx {
    int64_t wm;         /* event time: the latest packet time seen */
    int64_t next_close; /* earliest end of an open window (INT64_MAX: none) */
    uint64_t *out;      /* per-packet rows (see jit.c: row words) */
    uint32_t out_n;     /* words used */
    uint32_t out_cap;   /* words allocated */
    uint32_t full;      /* a table reached its limit */
    uint32_t pad;
    uint64_t *late;         /* per covered windowed query: late packets */
    struct jit_table *tables; /* per sink and window slot */
    /* The interpreter's decoder, for the fields compiled code does not decode
     * itself (DNS, payload, tunnels): called at most once per packet, and
     * only for packets that reach an expression reading such a field. */
    struct hts_pkt *scratch;
    /* proto, off, end: where the compiled decoder reached L4 (proto -1:
     * it did not); the C decoder goes on from there (hts_decode_l4), for
     * the groups of fields (HTS_W_*) the compiled function reads */
    void (*decode)(struct jit_ctx *ctx, const struct jit_pkt *p, int64_t proto,
                   uint64_t off, uint64_t end, uint64_t want);
    /* when only DNS groups are read: a UDP datagram at off whose ports
     * hts_udp_is_dns() accepts goes straight to the DNS decoder
     * (hts_decode_udp_dns; compiled code calls nothing for the others) */
    void (*decode_udp_dns)(struct hts_pkt *scratch, const uint8_t *data, uint64_t cap,
                           uint64_t off, uint64_t end, uint32_t want);
    /* string tests (exec.c: bytes_has; op 0 is equality); 'has' on
     * dns.an.types is a loop in compiled code */
    int (*bytes)(const uint8_t *a, uint64_t an, const uint8_t *b, uint64_t bn, int op);
    /* string keys: the content hash, and a copy into t->bytes (offset) */
    uint64_t (*str_hash)(const uint8_t *p, uint64_t n);
    uint64_t (*str_put)(struct jit_table *t, const uint8_t *p, uint64_t n);
    int linktype;
    int pad2;
    uint64_t refused; /* fold keys refused: their table reached max_keys */
};

typedef uint32_t (*jit_fn)(struct jit_ctx *ctx, const struct jit_pkt *pkts,
                           uint32_t n);

struct jit_opts {
    int linktype;         /* the decoder is specialised for it (HTS_DLT_*) */
    int opt_level;        /* 1..3; 0: the default (2); -1: no optimisation */
    uint32_t table_limit; /* entries per state table (default 65536) */
    uint64_t max_keys;    /* a fold's keys per window (its state cannot be
                           * handed over early): 0 unbounded, as exec's */
    FILE *dump;           /* if set: the optimised module, as LLVM IR text */
    FILE *dump_raw;       /* if set: the module before optimisation */
    FILE *dump_asm;       /* if set: the host assembly of the optimised module */
};

struct jit_times { /* milliseconds */
    double plan, build, opt, codegen, total;
};

struct jit_prog;

/*
 * Compiles the queries of p that the JIT covers into one function. Returns
 * NULL with a message in err when LLVM fails; a program with no covered
 * query still compiles (everything then runs in the interpreter). p must
 * outlive the result.
 */
struct jit_prog *jit_compile(const struct ir_program *p,
                             const struct jit_opts *o, char *err,
                             size_t errlen);
/* Whether query i runs in native code; if not, *why says what stops it. */
bool jit_covers(const struct jit_prog *jp, int query, const char **why);
int jit_ncovered(const struct jit_prog *jp);
const struct jit_times *jit_times(const struct jit_prog *jp);
/* One line per query: "jit" and what it compiled, or why it falls back. */
void jit_report(const struct jit_prog *jp, FILE *out, const char *prefix);
void jit_free(struct jit_prog *jp);

struct jit_stats {
    uint64_t packets;   /* through the compiled function */
    uint64_t calls;     /* of the compiled function */
    uint64_t flushes;   /* tables that filled up and were handed to exec_merge early */
    uint64_t late;      /* packets older than a closed window (covered queries) */
    uint64_t untimed;   /* packets too close to 2^63 ns to window: interpreter */
    uint64_t grown;     /* fold tables that filled and were enlarged */
    uint64_t refused;   /* fold tuples with a new key past max_keys: dropped */
    uint64_t rows;      /* per-packet rows produced by compiled code */
    uint64_t direct;    /* windows closed by the JIT's run-time itself */
};

/*
 * The run-time side, one per worker (not thread-safe; the compiled code is
 * shared). x is the worker's executor: covered queries merge their window
 * state into it, uncovered ones run in it packet by packet; fn/ctx receive
 * the per-packet rows of covered per-packet queries (use the same callback
 * x was made with). ds counts packets and, for the interpreter's share,
 * decode errors. NULL on allocation failure.
 */
struct jit_run;
struct jit_run *jit_run_new(const struct jit_prog *jp, struct exec *x,
                            exec_row_fn fn, void *ctx,
                            struct hts_decode_stats *ds);
/* Packets in capture order; any n. */
void jit_run_burst(struct jit_run *r, const struct jit_pkt *pkts, uint32_t n);
/* Event time reaches ts without a packet (an idle worker). */
void jit_run_advance(struct jit_run *r, int64_t ts);
/* Every window ending at or before this has been handed to the executor. */
int64_t jit_run_watermark(const struct jit_run *r);
/* Packets of query `query` that came after their window had closed, in
 * compiled code and in the executor together. */
uint64_t jit_run_late(const struct jit_run *r, int query);
/* End of input: hands every open window over, then exec_finish(). */
void jit_run_finish(struct jit_run *r);
const struct jit_stats *jit_run_stats(struct jit_run *r);
void jit_run_free(struct jit_run *r);
/* Benchmarks: run a hand-written function with the same layout instead. */
void jit_run_set_fn(struct jit_run *r, jit_fn fn);

#endif
