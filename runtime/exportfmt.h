/*
 * exportfmt.h - the compact batch format of per-packet export (HTX1).
 *
 * High Touch sends per-packet records in batches, many per Kafka message;
 * so does htsd for per-packet queries (export) unless --export-json is
 * given. Byte by byte in docs/export-format.md. Self-describing: a batch
 * carries its column names and types, so a consumer needs no plan.
 */
#ifndef HTS_EXPORTFMT_H
#define HTS_EXPORTFMT_H

#include "ir.h"
#include "rowfmt.h"

/* Encodes nrows rows (ncols values each, row-major) of query q, with their
 * packet times ts[], into b (appended). 0 or -ENOMEM. */
int htx_encode(struct rowbuf *b, const struct ir_query *q, const int64_t *ts,
               const hts_value *vals, int nrows, int ncols);

#endif
