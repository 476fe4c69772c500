/*
 * netstate.h - network-wide queries: the state messages a site sends to the
 * merge stage, and which partition each goes to.
 *
 * A query declared `network-wide` (docs/network-wide.md) is not answered by
 * any one htsd: each site's htsd hands the merged state of each closed
 * window (the executor's partial rows: a groupby's keys, running values and
 * counts of inputs; a distinct's keys; a histogram's buckets) to Kafka, and
 * htsmerge merges the sites' state per key and window and produces the rows.
 *
 * Messages (all integers big-endian), one Kafka message each:
 *
 *   "HTSN" | version u8 | kind u8 | site: len u8, bytes | epoch u64 | seq u64
 *   kind 1, state:     query: len u8, bytes | node u16 | window_start i64 |
 *                      ncols u16 | nrows u32 | nrows x ncols values
 *   kind 2, watermark: time i64 (NS_DONE: the site has finished)
 *   value:             type u8 | present u8 | if present, by type:
 *                      int, bool: i64; ipv4: u32; ipv6: 16 bytes; mac: 6;
 *                      string: len u32, bytes; prefixes: length u8, address
 *
 * A site's messages in one partition carry increasing sequence numbers
 * (seq), counted per partition from 1 in each run of the site (epoch: the
 * run's start time), so that the merge drops a batch the producer wrote
 * twice after a retry. A watermark T says: the site has sent its state of
 * every window ending at or before T into this partition; it goes to every
 * partition, after that state.
 *
 * Partitioning: every site must send the state of one key to the same
 * partition, and the rows that meet at any later stateful operator of the
 * query (port_scan's distinct (src, port), then its count per src) must meet
 * in one partition too. ns_route() finds the key columns of the query's
 * first stateful operator that every later one keeps as a key (port_scan:
 * src) and hashes those; a query where none are kept (a join, a histogram,
 * a second groupby on other keys) sends all its state to one partition
 * (exact, but merged by one instance).
 *
 * The decoder is written for hostile input: it checks the whole message
 * (every length and type) before it hands out a value, and never reads
 * outside it.
 */
#ifndef HTS_NETSTATE_H
#define HTS_NETSTATE_H

#include "exec.h"
#include "ir.h"
#include "rowfmt.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define NS_MAGIC "HTSN"
#define NS_VERSION 1
#define NS_STATE 1
#define NS_WATERMARK 2
#define NS_DONE INT64_MAX    /* watermark of a site that has finished */
#define NS_MAX_SITE 64       /* bytes of a site's name */
#define NS_MAX_COLS 256
#define NS_TOPIC "network-state" /* after the topic prefix */

/* How a query's state is routed. */
struct ns_route {
    int node;               /* the frontier node whose state is sent; -1: many */
    int cols[IR_MAX_KEYS];  /* its key columns the partition is hashed on */
    int ncols;              /* 0: the whole query goes to one partition */
};

/* Fills r for query q (checked, network-wide). */
void ns_route(const struct ir_query *q, struct ns_route *r);
/* The partition (0..nparts-1) of a partial row of q's state. */
int32_t ns_partition(const struct ir_query *q, const struct ns_route *r,
                     const hts_value *row, int32_t nparts);

/* Encoders: append one message to b. -1 when a value cannot be encoded (a
 * type that no state holds) or a name is too long. */
int ns_encode_state(struct rowbuf *b, const char *site, uint64_t epoch, uint64_t seq,
                    const char *query, int node, int64_t window_start, int ncols,
                    const hts_value *rows, int nrows);
/* Appends one row to a state message that ns_encode_state began with nrows
 * 0, and sets its row count (nrows_at: b->n right after ns_encode_state). */
int ns_append_row(struct rowbuf *b, size_t nrows_at, uint32_t nrows,
                  const hts_value *row, int ncols);
int ns_encode_watermark(struct rowbuf *b, const char *site, uint64_t epoch,
                        uint64_t seq, int64_t watermark);

/* A decoded message: pointers into the caller's buffer. */
struct ns_msg {
    int kind;
    const char *site; /* not NUL-terminated: site_len bytes */
    size_t site_len;
    uint64_t epoch, seq;
    const char *query;
    size_t query_len;
    int node;
    int64_t window_start;
    int ncols;
    uint32_t nrows;
    int64_t watermark;
    const uint8_t *vals; /* the values, checked */
    const uint8_t *end;
};

/* Checks and decodes the header of msg; 0, or -1 with why. */
int ns_decode(const void *msg, size_t len, struct ns_msg *m, char *why, size_t whylen);
/* The next row's ncols values from *pos (start at m->vals); strings point
 * into the message. Only after ns_decode accepted it. */
void ns_next_row(const struct ns_msg *m, const uint8_t **pos, hts_value *row);

#endif
