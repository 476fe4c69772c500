/*
 * rowfmt.h - a result row as JSON, the one format htsc run and htsd share.
 *
 *   {"query":"q","window_start":N,"window_end":N,"col":value,...}
 *
 * (architecture.md, contract 7). Also the row's group key, the Kafka message
 * key: the values of the key columns of the last grouping operator (groupby,
 * distinct, fold, join) above the query's output, joined by '|'.
 */
#ifndef HTS_ROWFMT_H
#define HTS_ROWFMT_H

#include "ir.h"

#include <stddef.h>

struct rowbuf {
    char *p;
    size_t n, cap;
};

/* Appends the row's JSON (no newline) to b. 0, or -ENOMEM. */
int rowfmt_json(struct rowbuf *b, const struct ir_query *q, int64_t ws,
                int64_t we, const hts_value *cols, int ncols);

/* Appends the row's group key to b (nothing for per-packet queries). */
int rowfmt_key(struct rowbuf *b, const struct ir_query *q,
               const hts_value *cols, int ncols);

void rowbuf_free(struct rowbuf *b);

#endif
