/*
 * host.h - the host half of a partitioned query: report frames in, the
 * executor's operators fed (htsc host, htsd in report mode).
 */
#ifndef HTS_HOST_H
#define HTS_HOST_H

#include "exec.h"
#include "plan.h"
#include "report.h"

#include <stddef.h>
#include <stdint.h>

/*
 * The host part of a plan, one report frame at a time (htsc host, htsd in
 * report mode): decodes the frame's records and feeds them to x, an
 * executor of p->prog, in the order the executor runs queries. Returns 0,
 * -EINVAL for a refused frame (counted in *rs by reason), -ENOMEM.
 */
struct host_feeder {
    struct feed *items;
    size_t cap;
    struct hts_pkt pkt;
    hts_value vals[REP_MAX_COLS];
    /* Live changes. A param record (docs/wire-format.md) says that from a
     * window on a query's parameter has another value: the feeder loads the
     * plan at plan_path again with every change so far (plan_load_set) and
     * gives x a version of that query from that window (exec_add_version).
     * Without plan_path a param record is refused, counted and said. `who`
     * prefixes the line each change prints on stderr. */
    const char *plan_path;
    const char *who;
    uint64_t params, params_refused;
    /* private */
    struct plan_changes changes;
};
int host_feed_frame(struct host_feeder *f, const struct plan *p, struct exec *x,
                    const uint8_t *data, uint32_t caplen, struct rep_stats *rs,
                    struct hts_decode_stats *ds);
void host_feeder_free(struct host_feeder *f);

#endif
