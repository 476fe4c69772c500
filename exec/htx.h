/*
 * htx.h - the compact batch format of per-packet export (HTX1): the
 * encoder htsd runs and the decoder of `htsc decode`.
 *
 * High Touch sends per-packet records in batches, many per Kafka message;
 * so does htsd for per-packet queries (export) unless --export-json is
 * given. Byte by byte in docs/export-format.md. Self-describing: a batch
 * carries its column names and types, so a consumer needs no plan.
 */
#ifndef HTS_HTX_H
#define HTS_HTX_H

#include "ir.h"
#include "rowfmt.h"

/* Encodes nrows rows (ncols values each, row-major) of query q, with their
 * packet times ts[], into b (appended). 0 or -ENOMEM. */
int htx_encode(struct rowbuf *b, const struct ir_query *q, const int64_t *ts,
               const hts_value *vals, int nrows, int ncols);

/* A batch's header as the decoder read it: names point into the batch. */
struct htx_header {
    const char *query;
    size_t query_len;
    int ncols;
    const char **names;
    size_t *name_lens;
    uint8_t *types; /* type codes of docs/export-format.md */
};

/* Called per record: its packet time and ncols values (strings point into
 * the batch). A negative errno stops the decoding with that value. */
typedef int (*htx_record_fn)(void *ctx, const struct htx_header *h, int64_t ts,
                             const hts_value *vals);

/* Decodes the batch at the start of buf[0..len): the number of bytes it
 * took; -ENODATA when buf ends inside it (read more, or it was cut short);
 * -EINVAL (not HTX1, an unknown type code) or -ENOMEM, with the message in
 * err; or what fn returned. fn NULL: only measures and checks. Batches
 * concatenated (kcat -f '%s') are read by calling it again after the bytes
 * used. */
long htx_decode(const uint8_t *buf, size_t len, htx_record_fn fn, void *ctx, char *err,
                size_t errlen);

#endif
