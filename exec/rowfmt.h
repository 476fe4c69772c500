/*
 * rowfmt.h - a result row as JSON, the one format htsc run and htsd share.
 *
 *   {"query":"q","window_start":N,"window_end":N,"col":value,...}
 *
 * (architecture.md, contract 7). Also the row's group key, the Kafka message
 * key: the values of the key columns of the last grouping operator (groupby,
 * distinct, fold, join) above the query's output, joined by '|'.
 *
 * Rows are written often (every windowed row, --export-json per packet), so
 * the writer is prepared once per program (rowfmt_new): each query's JSON
 * text up to the first value and before each column's value, and its key
 * columns, are computed then; a row is those fragments and its values
 * (core/value.c's hts_value_put), one buffer check per row, no printf and no
 * allocation once the buffer has grown.
 */
#ifndef HTS_ROWFMT_H
#define HTS_ROWFMT_H

#include "ir.h"

#include <stddef.h>
#include <stdio.h>

struct rowbuf {
    char *p;
    size_t n, cap;
};

struct rowfmt;

/* The writer for every query of p (not owned; it must outlive the
 * writer). NULL on allocation failure. */
struct rowfmt *rowfmt_new(const struct ir_program *p);
void rowfmt_free(struct rowfmt *rf);

/* Appends the row's JSON (no newline) to b. 0, or -ENOMEM. */
int rowfmt_json(const struct rowfmt *rf, struct rowbuf *b, const struct ir_query *q,
                int64_t ws, int64_t we, const hts_value *cols, int ncols);

/* Appends the row's group key to b (nothing for per-packet queries). */
int rowfmt_key(const struct rowfmt *rf, struct rowbuf *b, const struct ir_query *q,
               const hts_value *cols, int ncols);

void rowbuf_free(struct rowbuf *b);

/* Room for `more` bytes (and a NUL) after b->n. 0, or -ENOMEM. */
int rowbuf_reserve(struct rowbuf *b, size_t more);

/* Writes a JSON Schema (draft 2020-12) of query q's rows, as rowfmt_json
 * writes them, to out: for consumers that declare tables over the query's
 * topic (ksqlDB, Flink SQL, schema registries). 0, or -EIO. */
int rowfmt_schema(const struct ir_query *q, const char *topic_prefix, FILE *out);

#endif
