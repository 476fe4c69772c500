/*
 * host.c - the host half of a partitioned query, one report frame at a
 * time: decodes the frame's records (docs/wire-format.md) and feeds them to
 * the executor in the order it runs queries. `htsc host` and htsd's report
 * mode both go through host_feed_frame().
 */
#include "host.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct feed { /* one record (or packet-record target) of a frame */
    struct rep_record rec;
    int query, node;
    size_t seq;
};

static int by_query(const void *a, const void *b)
{
    const struct feed *x = a, *y = b;
    if (x->query != y->query)
        return x->query < y->query ? -1 : 1;
    return (x->seq > y->seq) - (x->seq < y->seq); /* stable */
}

/* A param record: query's NAME=VALUE from the window starting at `from`. */
static int param(struct host_feeder *f, const struct plan *p, struct exec *x, int query,
                 int64_t from, const uint8_t *text, uint32_t len)
{
    const char *who = f->who ? f->who : "host";
    const char *qn = p->queries[query].q->name;
    char set[REP_MAX_PARAM + 300], err[400] = "";
    snprintf(set, sizeof set, "%s.%.*s", qn, (int)len, (const char *)text);
    struct plan *np = NULL;
    if (!f->plan_path) {
        snprintf(err, sizeof err, "this host was not given the plan file to load it with");
    } else {
        np = plan_changes_add(&f->changes, f->plan_path, set, err, sizeof err);
        if (np && np->fingerprint != p->fingerprint)
            snprintf(err, sizeof err, "%s is not the plan of these reports", f->plan_path);
        else if (np)
            exec_add_version(x, np->prog, query, from, err, sizeof err);
        if (np && err[0]) { /* refused: later changes must not build on it */
            plan_changes_pop(&f->changes);
            np = NULL;
        }
    }
    if (!np) {
        f->params_refused++;
        fprintf(stderr, "%s: change %s from %" PRId64 " refused: %s\n", who, set, from, err);
        return 0;
    }
    f->params++;
    fprintf(stderr, "%s: %s from the window at %" PRId64 " on\n", who, set, from);
    return 0;
}

int host_feed_frame(struct host_feeder *f, const struct plan *p, struct exec *x,
                    const uint8_t *data, uint32_t caplen, struct rep_stats *rs,
                    struct hts_decode_stats *ds)
{
    struct rep_reader rd;
    exec_time_by_watermark(x, true); /* the data plane's watermark records: exec.h */
    if (rep_frame_open(&rd, &p->reports, data, caplen, rs) < 0)
        return -EINVAL;
    /* The records of one frame come from one packet (or one window close):
     * feed them in query order, as the executor runs queries. */
    size_t n = 0;
    struct rep_record rec;
    while (rep_next(&rd, &rec) == 1) {
        int nt = rec.kind == REP_PACKET ? rec.ntargets : 1;
        for (int t = 0; t < nt; t++) {
            if (n == f->cap) {
                size_t cap = f->cap ? f->cap * 2 : 256;
                struct feed *items = realloc(f->items, cap * sizeof *items);
                if (!items)
                    return -ENOMEM;
                f->items = items;
                f->cap = cap;
            }
            f->items[n].rec = rec;
            f->items[n].seq = n;
            if (rec.kind == REP_PACKET)
                rep_record_target(&rec, t, &f->items[n].query, &f->items[n].node);
            else
                f->items[n].query = rec.query, f->items[n].node = rec.node;
            n++;
        }
    }
    qsort(f->items, n, sizeof *f->items, by_query);
    const uint8_t *decoded = NULL;
    for (size_t i = 0; i < n; i++) {
        const struct rep_record *rc_ = &f->items[i].rec;
        switch (rc_->kind) {
        case REP_WATERMARK:
            exec_advance(x, (int64_t)rc_->ts);
            break;
        case REP_PARAM:
            if (param(f, p, x, rc_->query, (int64_t)rc_->ts, rc_->data, rc_->cap_len) < 0)
                return -ENOMEM;
            break;
        case REP_ROW:
            rep_record_values(rc_, f->vals);
            exec_feed_rows(x, rc_->query, rc_->node, (int64_t)rc_->ts, f->vals);
            break;
        case REP_PARTIAL: /* a refined groupby's slots: merge them */
            rep_record_values(rc_, f->vals);
            exec_merge(x, rc_->query, rc_->node, (int64_t)rc_->ts, f->vals);
            break;
        case REP_PACKET:
            if (decoded != rc_->data) { /* decode a mirrored frame once */
                hts_decode(&f->pkt, rc_->data, rc_->cap_len, rc_->wire_len, rc_->ts,
                           rc_->port, rc_->linktype, ds);
                decoded = rc_->data;
            }
            exec_feed(x, f->items[i].query, f->items[i].node, &f->pkt, NULL,
                      (int64_t)rc_->ts);
            break;
        case REP_TUPLE:
            decoded = NULL;
            rep_record_pkt(rc_, &f->pkt); /* meta.ts at least */
            if (rc_->layout->packet) {
                exec_feed(x, rc_->query, rc_->node, &f->pkt, NULL, (int64_t)rc_->ts);
            } else {
                rep_record_values(rc_, f->vals);
                exec_feed(x, rc_->query, rc_->node, &f->pkt, f->vals, (int64_t)rc_->ts);
            }
            break;
        }
    }
    return 0;
}

void host_feeder_free(struct host_feeder *f)
{
    plan_changes_free(&f->changes);
    free(f->items);
    memset(f, 0, sizeof *f);
}
