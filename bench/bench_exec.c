/*
 * bench_exec.c - packets per second of the reference executor (the
 * interpreter baseline the JIT is measured against).
 *
 *   bench_exec CAPTURE REPEAT QUERY.htq [QUERY.htq...]
 *
 * Loads the capture into memory once, then for each query file replays it
 * REPEAT times (each replay shifted in time by the capture's span, so windows
 * keep closing as in a long capture), decoding and executing every packet.
 * Rows are counted, not printed. Prints one line per query: packets, seconds,
 * packets per second, rows. Each query is timed 5 times; the median and the
 * spread (min..max) are printed. This is a benchmark, not a test.
 */
#include "driver.h"
#include "exec.h"
#include "pcapin.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

static void count_row(void *ctx, const struct ir_query *q, int64_t ws,
                      int64_t we, const hts_value *cols, int ncols)
{
    (void)q; (void)ws; (void)we; (void)cols; (void)ncols;
    (*(uint64_t *)ctx)++;
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

int main(int argc, char **argv)
{
    if (argc < 4) {
        fprintf(stderr, "usage: bench_exec CAPTURE REPEAT QUERY.htq...\n");
        return 2;
    }
    struct hts_trace t;
    char err[256];
    if (hts_trace_load(argv[1], &t, err, sizeof err) < 0) {
        fprintf(stderr, "bench_exec: %s\n", err);
        return 1;
    }
    int repeat = atoi(argv[2]);
    uint64_t span = t.n ? t.ts_ns[t.n - 1] - t.ts_ns[0] + 1000000000ULL : 1;
    printf("%-28s %10s %8s %12s %10s\n", "query", "packets", "sec", "pkt/s", "rows");
    for (int a = 3; a < argc; a++) {
        struct htsc_opts o = {.nfiles = 1, .format = "json"};
        o.files[0] = argv[a];
        struct arena arena = {0};
        struct src_file *srcs[1] = {0};
        struct ir_program *p = htsc_load(&o, &arena, srcs, stderr);
        if (!p)
            return 1;
        double secs[5];
        uint64_t rows = 0, pkts = 0;
        for (int run = 0; run < 5; run++) {
            rows = 0;
            pkts = 0;
            struct exec *x = exec_new(p, count_row, &rows);
            struct hts_pkt pkt;
            double t0 = now_s();
            for (int r = 0; r < repeat; r++) {
                for (size_t i = 0; i < t.n; i++) {
                    hts_decode(&pkt, hts_trace_frame(&t, i), t.cap_len[i],
                               t.wire_len[i], t.ts_ns[i] + (uint64_t)r * span,
                               0, t.linktype, NULL);
                    exec_packet(x, &pkt);
                    pkts++;
                }
            }
            exec_finish(x);
            secs[run] = now_s() - t0;
            exec_free(x);
        }
        qsort(secs, 5, sizeof secs[0], cmp_d);
        printf("%-28s %10llu %8.3f %12.0f %10llu   (spread %.0f..%.0f pkt/s)\n",
               p->queries[0]->name, (unsigned long long)pkts, secs[2],
               pkts / secs[2], (unsigned long long)rows, pkts / secs[4],
               pkts / secs[0]);
        src_free(srcs[0]);
        arena_free(&arena);
    }
    hts_trace_free(&t);
    return 0;
}
