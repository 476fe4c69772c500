/*
 * netsite.h - a site's side of network-wide queries: htsd hands the state
 * of their closed windows to Kafka (netsite.c, netstate.h for the format).
 */
#ifndef HTS_NETSITE_H
#define HTS_NETSITE_H

#include "ir.h"
#include "sink.h"
#include "value.h"

#include <stdbool.h>
#include <stdint.h>

struct ns_route;

struct ns_site_stats {
    int32_t partitions;
    uint64_t messages;    /* state and watermark messages produced */
    uint64_t rows;        /* state rows in them */
    uint64_t watermarks;  /* watermarks sent (each to every partition) */
    uint64_t bytes;
    uint64_t failed;      /* messages the sink refused (counted failed there too) */
    uint64_t unencodable; /* rows with a value no state message can carry */
};

struct ns_site;

/* Asks the cluster how many partitions topic PREFIX network-state has,
 * creating it with create_parts when it does not exist. NULL with err. */
struct ns_site *ns_site_new(const struct ir_program *prog, struct rt_sink *sink,
                            const char *site, int create_parts, char *err, size_t errlen);
/* The partial callback's work: one state row of a closed window. */
void ns_site_row(struct ns_site *s, int query, int node, int64_t ws,
                 const hts_value *row, int ncols);
/* Produces the state messages being filled. */
void ns_site_flush(struct ns_site *s);
/* Every window ending at or before wm has been handed over: flushes, then
 * tells every partition (at once after state, else at most every 100 ms
 * unless force; NS_DONE at the end). */
void ns_site_watermark(struct ns_site *s, int64_t wm, bool force);
const struct ns_route *ns_site_route(const struct ns_site *s, int query);
void ns_site_stats(const struct ns_site *s, struct ns_site_stats *out);
void ns_site_free(struct ns_site *s);

#endif
