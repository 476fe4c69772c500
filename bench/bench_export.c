/*
 * bench_export.c - where the time of per-packet export goes, per record,
 * outside DPDK and Kafka.
 *
 *   bench_export CAPTURE [QUERY.htq]      (default queries/export_headers.htq)
 *
 * Loads the capture into memory and runs the query (a per-packet one) with
 * the reference executor, keeping every row. Then times, per record, each
 * step a record takes through htsd on its way to Kafka:
 *
 *   exec      decode + execute (the interpreter) until the row callback
 *   copy      the worker's copy of the row into its hand-over batch
 *             (msg_add_row: the row's hts_values, 24 bytes each)
 *   htx       the main lcore's HTX1 encoding, 256 records per batch
 *             (exec/htx.c)
 *   json      what --export-json (and every windowed row) costs instead:
 *             rowfmt_json + rowfmt_key per row
 *
 * Each step is timed 5 times; the median and the spread (min..max) are
 * printed in ns per record, with the bytes per record of each encoding.
 * Nothing here talks to Kafka: the broker's and librdkafka's share is in
 * scripts/bench_kafka.py. A benchmark, not a test.
 */
#include "driver.h"
#include "exec.h"
#include "pcapin.h"
#include "rowfmt.h"

#include "htx.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#define RUNS 5
#define BATCH 256

struct rows {
    hts_value *v;
    int64_t *ts;
    size_t n, cap;
    int ncols;
    const struct ir_query *q;
};

static void keep_row(void *ctx, const struct ir_query *q, int64_t ws, int64_t we,
                     const hts_value *cols, int ncols)
{
    struct rows *r = ctx;
    (void)we;
    if (!r->v) { /* counting pass only */
        r->n++;
        r->q = q;
        r->ncols = ncols;
        return;
    }
    if (r->n < r->cap) {
        memcpy(&r->v[r->n * (size_t)ncols], cols, (size_t)ncols * sizeof *cols);
        r->ts[r->n] = ws;
    }
    r->n++;
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static int cmp_d(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static void report(const char *step, double *ns, double bytes)
{
    qsort(ns, RUNS, sizeof *ns, cmp_d);
    if (bytes > 0)
        printf("%-6s %9.1f ns/record  (spread %.1f..%.1f)  %6.1f bytes/record\n", step,
               ns[RUNS / 2], ns[0], ns[RUNS - 1], bytes);
    else
        printf("%-6s %9.1f ns/record  (spread %.1f..%.1f)\n", step, ns[RUNS / 2], ns[0],
               ns[RUNS - 1]);
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: bench_export CAPTURE [QUERY.htq]\n");
        return 2;
    }
    const char *qfile = argc > 2 ? argv[2] : "queries/export_headers.htq";
    struct hts_trace t;
    char err[256];
    if (hts_trace_load(argv[1], &t, err, sizeof err) < 0) {
        fprintf(stderr, "bench_export: %s\n", err);
        return 1;
    }
    struct htsc_opts o = {.nfiles = 1, .format = "json"};
    o.files[0] = qfile;
    struct arena arena = {0};
    struct src_file *srcs[1] = {0};
    struct ir_program *p = htsc_load(&o, &arena, srcs, stderr);
    if (!p)
        return 1;

    double ns[RUNS];
    struct rows rows = {0};
    struct hts_pkt pkt;
    /* exec: decode + execute, the row callback counts (as bench_exec) */
    for (int run = 0; run < RUNS; run++) {
        rows.n = 0;
        struct exec *x = exec_new(p, keep_row, &rows);
        double t0 = now_s();
        for (size_t i = 0; i < t.n; i++) {
            hts_decode(&pkt, hts_trace_frame(&t, i), t.cap_len[i], t.wire_len[i], t.ts_ns[i],
                       0, t.linktype, NULL);
            exec_packet(x, &pkt);
        }
        exec_finish(x);
        ns[run] = (now_s() - t0) * 1e9 / (double)(rows.n ? rows.n : 1);
        exec_free(x);
    }
    if (rows.n == 0 || !rows.q || !rows.q->per_packet) {
        fprintf(stderr, "bench_export: %s gives no per-packet rows on this capture\n", qfile);
        return 1;
    }
    size_t n = rows.n;
    int nc = rows.ncols;
    printf("%s on %s: %zu packets, %zu records of %d columns\n", rows.q->name, argv[1], t.n, n,
           nc);
    report("exec", ns, 0);

    /* keep the rows (strings point into the trace, which stays loaded) */
    rows.cap = n;
    rows.v = calloc(n * (size_t)nc, sizeof *rows.v);
    rows.ts = calloc(n, sizeof *rows.ts);
    if (!rows.v || !rows.ts)
        return 1;
    rows.n = 0;
    struct exec *x = exec_new(p, keep_row, &rows);
    for (size_t i = 0; i < t.n; i++) {
        hts_decode(&pkt, hts_trace_frame(&t, i), t.cap_len[i], t.wire_len[i], t.ts_ns[i], 0,
                   t.linktype, NULL);
        exec_packet(x, &pkt);
    }
    exec_finish(x);
    exec_free(x);

    /* copy: into a batch of BATCH rows, as the worker's msg_add_row */
    hts_value *batch = calloc((size_t)BATCH * (size_t)nc, sizeof *batch);
    int64_t *bws = calloc(BATCH, sizeof *bws);
    volatile uint64_t sink = 0;
    for (int run = 0; run < RUNS; run++) {
        double t0 = now_s();
        for (size_t r = 0; r < n; r++) {
            hts_value *dst = &batch[(r % BATCH) * (size_t)nc];
            const hts_value *src = &rows.v[r * (size_t)nc];
            for (int c = 0; c < nc; c++)
                dst[c] = src[c];
            bws[r % BATCH] = rows.ts[r];
            if (r % BATCH == BATCH - 1)
                sink += (uint64_t)dst[0].u.i;
        }
        ns[run] = (now_s() - t0) * 1e9 / (double)n;
    }
    report("copy", ns, (double)nc * sizeof(hts_value) + 16);

    /* htx: HTX1 batches of BATCH records */
    struct rowbuf b = {0};
    size_t bytes = 0;
    for (int run = 0; run < RUNS; run++) {
        bytes = 0;
        double t0 = now_s();
        for (size_t r = 0; r < n; r += BATCH) {
            int k = (int)(n - r < BATCH ? n - r : BATCH);
            b.n = 0;
            if (htx_encode(&b, rows.q, &rows.ts[r], &rows.v[r * (size_t)nc], k, nc) < 0)
                return 1;
            bytes += b.n;
        }
        ns[run] = (now_s() - t0) * 1e9 / (double)n;
    }
    report("htx", ns, (double)bytes / (double)n);

    /* json: one JSON object (and key) per record */
    struct rowbuf line = {0}, key = {0};
    struct rowfmt *fmt = rowfmt_new(p);
    if (!fmt)
        return 1;
    for (int run = 0; run < RUNS; run++) {
        bytes = 0;
        double t0 = now_s();
        for (size_t r = 0; r < n; r++) {
            line.n = key.n = 0;
            if (rowfmt_json(fmt, &line, rows.q, rows.ts[r], rows.ts[r], &rows.v[r * (size_t)nc], nc) < 0 ||
                rowfmt_key(fmt, &key, rows.q, &rows.v[r * (size_t)nc], nc) < 0)
                return 1;
            bytes += line.n;
        }
        ns[run] = (now_s() - t0) * 1e9 / (double)n;
    }
    report("json", ns, (double)bytes / (double)n);
    (void)sink;

    rowbuf_free(&b);
    rowbuf_free(&line);
    rowbuf_free(&key);
    rowfmt_free(fmt);
    free(batch);
    free(bws);
    free(rows.v);
    free(rows.ts);
    src_free(srcs[0]);
    arena_free(&arena);
    hts_trace_free(&t);
    return 0;
}
