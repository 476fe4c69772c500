/*
 * merge_check.c - several partial executors merged == one executor.
 *
 *   merge_check QUERY.htq CAPTURE WORKERS [NAME=VALUE...]
 *
 * Splits the capture's packets among WORKERS partial executors by a hash of
 * the IP addresses and ports (as RSS would), merges their window state into
 * a main executor (exec_merge) under htsd's rule - the main closes a window
 * only when every worker has handed it over - and compares the rows, as
 * JSON text, with a single executor's. Exit 0 when equal, 1 with the first
 * difference otherwise, 2 on usage errors or an unmergeable program.
 */
#include "driver.h"
#include "exec.h"
#include "pcapin.h"

#include <stdlib.h>
#include <string.h>

struct rows {
    char **v;
    int n, cap;
};

static void add_row(void *ctx, const struct ir_query *q, int64_t ws, int64_t we,
                    const hts_value *cols, int ncols)
{
    struct rows *r = ctx;
    char buf[8192];
    int len = snprintf(buf, sizeof buf, "%s %lld %lld", q->name, (long long)ws,
                       (long long)we);
    for (int i = 0; i < ncols && len < (int)sizeof buf - 1; i++) {
        buf[len++] = ' ';
        len += hts_value_json(&cols[i], buf + len, sizeof buf - (size_t)len);
        if (len > (int)sizeof buf - 1)
            len = (int)sizeof buf - 1;
    }
    if (r->n == r->cap) {
        r->cap = r->cap ? r->cap * 2 : 256;
        r->v = realloc(r->v, (size_t)r->cap * sizeof *r->v);
        if (!r->v)
            exit(2);
    }
    r->v[r->n++] = strdup(buf);
}

struct merge_ctx {
    struct exec *main;
    struct rows *rows; /* per-packet rows of the workers */
};

static void on_partial(void *ctx, int query, int node, int64_t ws,
                       const hts_value *row, int ncols)
{
    (void)ncols;
    exec_merge(((struct merge_ctx *)ctx)->main, query, node, ws, row);
}

static unsigned worker_of(const struct hts_pkt *p, int n)
{
    uint64_t h = 0;
    static const enum hts_field flds[] = {FLD_IPV4_SRC, FLD_IPV4_DST,
                                          FLD_TCP_SPORT, FLD_TCP_DPORT,
                                          FLD_UDP_SPORT, FLD_UDP_DPORT};
    for (size_t i = 0; i < sizeof flds / sizeof flds[0]; i++)
        if (hts_pkt_has(p, flds[i]))
            h = (h ^ p->f[flds[i]].u) * 0x100000001b3ULL;
    return (unsigned)(h % (uint64_t)n);
}

int main(int argc, char **argv)
{
    if (argc < 4) {
        fprintf(stderr, "usage: merge_check QUERY.htq CAPTURE WORKERS [NAME=VALUE...]\n");
        return 2;
    }
    int nw = atoi(argv[3]);
    struct htsc_opts o = {.nfiles = 1, .format = "json"};
    o.files[0] = argv[1];
    for (int i = 4; i < argc && o.nsets < HTSC_MAX_SETS; i++)
        o.sets[o.nsets++] = argv[i];
    struct arena arena = {0};
    struct src_file *srcs[1] = {0};
    struct ir_program *p = htsc_load(&o, &arena, srcs, stderr);
    struct hts_trace t;
    char err[256];
    if (!p || nw < 1 || nw > 64)
        return 2;
    if (hts_trace_load(argv[2], &t, err, sizeof err) < 0) {
        fprintf(stderr, "merge_check: %s\n", err);
        return 2;
    }
    struct rows one = {0}, many = {0};
    struct exec *single = exec_new(p, add_row, &one);
    struct exec *mainx = exec_new(p, add_row, &many);
    struct merge_ctx mc = {mainx, &many};
    struct exec *w[64];
    for (int i = 0; i < nw; i++) {
        w[i] = exec_new(p, add_row, &many);
        exec_set_partial(w[i], on_partial, &mc);
        exec_set_sketch_parts(w[i], nw);
    }
    if (!exec_mergeable(mainx, err, sizeof err)) {
        fprintf(stderr, "merge_check: %s\n", err);
        exec_free(single);
        exec_free(mainx);
        for (int k = 0; k < nw; k++)
            exec_free(w[k]);
        hts_trace_free(&t);
        src_free(srcs[0]);
        arena_free(&arena);
        return 2;
    }
    struct hts_pkt pkt;
    for (size_t i = 0; i < t.n; i++) {
        hts_decode(&pkt, hts_trace_frame(&t, i), t.cap_len[i], t.wire_len[i],
                   t.ts_ns[i], 0, t.linktype, NULL);
        exec_packet(single, &pkt);
        int64_t ts = (int64_t)t.ts_ns[i];
        exec_packet(w[worker_of(&pkt, nw)], &pkt);
        for (int k = 0; k < nw; k++) /* idle workers follow event time */
            exec_advance(w[k], ts);
        exec_advance(mainx, ts);
    }
    exec_finish(single);
    for (int k = 0; k < nw; k++)
        exec_finish(w[k]);
    exec_finish(mainx);
    int rc = 0;
    if (one.n != many.n) {
        fprintf(stderr, "merge_check: %d rows from one executor, %d merged\n",
                one.n, many.n);
        rc = 1;
    }
    for (int i = 0; rc == 0 && i < one.n; i++)
        if (strcmp(one.v[i], many.v[i]) != 0) {
            fprintf(stderr, "merge_check: row %d differs:\n  one:    %s\n  merged: %s\n",
                    i, one.v[i], many.v[i]);
            rc = 1;
        }
    if (rc == 0)
        printf("merge_check: %s on %s with %d workers: %d rows equal\n",
               argv[1], argv[2], nw, one.n);
    exec_free(single);
    exec_free(mainx);
    for (int k = 0; k < nw; k++)
        exec_free(w[k]);
    for (int i = 0; i < one.n; i++)
        free(one.v[i]);
    for (int i = 0; i < many.n; i++)
        free(many.v[i]);
    free(one.v);
    free(many.v);
    hts_trace_free(&t);
    src_free(srcs[0]);
    arena_free(&arena);
    return rc;
}
