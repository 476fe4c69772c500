/*
 * run.c - `htsc run`: queries over a capture file, rows on stdout.
 *
 * JSON Lines by default, one object per row with "query", "window_start",
 * "window_end" (ns since the epoch) and then the columns by name, in the
 * executor's deterministic order. --format table buffers the rows and prints
 * one aligned table per query for people. On a terminal a progress line on
 * stderr appears once a capture takes more than a second.
 */
#include "driver.h"
#include "exec.h"
#include "pcapin.h"
#include "pcapsort.h"
#include "reorder.h"
#include "rowfmt.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

struct table_out { /* rows kept for --format table */
    char ***cells; /* per row: ncols + 2 strings */
    int n, cap;
};

struct run_ctx {
    FILE *out;
    bool table;
    const char *only;
    struct table_out *tables; /* per query */
    struct rowbuf line;
    struct rowfmt *fmt;
};

static char *xstrdup(const char *s)
{
    char *d = strdup(s);
    if (!d) {
        fprintf(stderr, "htsc: out of memory\n");
        exit(2);
    }
    return d;
}

static void on_row(void *ctx, const struct ir_query *q, int64_t ws, int64_t we,
                   const hts_value *cols, int ncols)
{
    struct run_ctx *rc = ctx;
    char buf[4096];
    if (rc->only && strcmp(rc->only, q->name) != 0)
        return;
    if (!rc->table) {
        rc->line.n = 0;
        if (rowfmt_json(rc->fmt, &rc->line, q, ws, we, cols, ncols) < 0) {
            fprintf(stderr, "htsc: out of memory\n");
            exit(2);
        }
        rc->line.p[rc->line.n++] = '\n';
        fwrite(rc->line.p, 1, rc->line.n, rc->out);
        return;
    }
    struct table_out *t = &rc->tables[q->index];
    if (t->n == t->cap) {
        t->cap = t->cap ? t->cap * 2 : 64;
        t->cells = realloc(t->cells, (size_t)t->cap * sizeof *t->cells);
        if (!t->cells) {
            fprintf(stderr, "htsc: out of memory\n");
            exit(2);
        }
    }
    char **row = malloc((size_t)(ncols + 2) * sizeof *row);
    if (!row) {
        fprintf(stderr, "htsc: out of memory\n");
        exit(2);
    }
    snprintf(buf, sizeof buf, "%lld", (long long)ws);
    row[0] = xstrdup(buf);
    snprintf(buf, sizeof buf, "%lld", (long long)we);
    row[1] = xstrdup(buf);
    for (int i = 0; i < ncols; i++) {
        hts_value_text(&cols[i], buf, sizeof buf);
        row[i + 2] = xstrdup(buf);
    }
    t->cells[t->n++] = row;
}

static void print_tables(struct run_ctx *rc, const struct ir_program *p)
{
    for (int qi = 0; qi < p->nqueries; qi++) {
        const struct ir_query *q = p->queries[qi];
        struct table_out *t = &rc->tables[qi];
        if (rc->only && strcmp(rc->only, q->name) != 0)
            continue;
        int nc = q->root->ncols + 2;
        size_t *w = calloc((size_t)nc, sizeof *w);
        const char **head = calloc((size_t)nc, sizeof *head);
        if (!w || !head)
            exit(2);
        head[0] = "window_start";
        head[1] = "window_end";
        for (int c = 2; c < nc; c++)
            head[c] = q->root->cols[c - 2].name;
        for (int c = 0; c < nc; c++) {
            w[c] = strlen(head[c]);
            for (int r = 0; r < t->n; r++)
                if (strlen(t->cells[r][c]) > w[c])
                    w[c] = strlen(t->cells[r][c]);
        }
        fprintf(rc->out, "%s%s (%d row%s)\n", qi ? "\n" : "", q->name, t->n,
                t->n == 1 ? "" : "s");
        for (int c = 0; c < nc; c++) /* no padding after the last column */
            fprintf(rc->out, "%s%-*s", c ? "  " : "", c + 1 < nc ? (int)w[c] : 0, head[c]);
        fputc('\n', rc->out);
        for (int r = 0; r < t->n; r++) {
            for (int c = 0; c < nc; c++) {
                fprintf(rc->out, "%s%-*s", c ? "  " : "", c + 1 < nc ? (int)w[c] : 0,
                        t->cells[r][c]);
                free(t->cells[r][c]);
            }
            fputc('\n', rc->out);
            free(t->cells[r]);
        }
        free(t->cells);
        free(w);
        free(head);
    }
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

/* Late packets are never lost without a word: a warning on stderr, with
 * the count per query, whether or not --stats was given. */
static void report_late(const struct exec *x, const struct ir_program *p, const char *pcap,
                        uint64_t forced)
{
    if (forced)
        fprintf(stderr, "htsc: warning: %s: the --max-delay buffer was full (--sort-memory): "
                "%llu packets left it before their delay had passed\n", pcap,
                (unsigned long long)forced);
    if (!exec_stats(x)->late)
        return;
    fprintf(stderr, "htsc: warning: %s: packets came after their window had closed "
            "(late, not counted in it):", pcap);
    for (int i = 0; i < p->nqueries; i++)
        if (exec_late(x, i))
            fprintf(stderr, " %s %llu", p->queries[i]->name,
                    (unsigned long long)exec_late(x, i));
    fputc('\n', stderr);
}

struct feed { /* what each packet goes through */
    struct exec *x;
    struct hts_decode_stats *ds;
    struct hts_pkt pkt;
    int linktype;
    bool progress, shown;
    double t0, last;
};

/* Decodes and executes one packet; -1 for a link type we cannot decode. */
static int feed(struct feed *f, const uint8_t *data, uint32_t caplen, uint32_t wirelen,
                uint64_t ts)
{
    if (hts_decode(&f->pkt, data, caplen, wirelen, ts, 0, f->linktype, f->ds) < 0)
        return -1;
    exec_packet(f->x, &f->pkt);
    if (f->progress && (f->ds->packets & 1023) == 0) {
        double t = now_s();
        if (t - f->t0 > 1.0 && t - f->last > 0.25) {
            fprintf(stderr, "\rhtsc: %llu packets, %llu rows",
                    (unsigned long long)f->ds->packets,
                    (unsigned long long)exec_stats(f->x)->rows);
            f->last = t;
            f->shown = true;
        }
    }
    return 0;
}

int htsc_cmd_run(const struct htsc_opts *o)
{
    if (!o->pcap) {
        fprintf(stderr, "htsc: run needs --pcap CAPTURE\n");
        return 2;
    }
    struct arena arena = {0};
    struct src_file *srcs[HTSC_MAX_FILES] = {0};
    struct ir_program *p = htsc_load(o, &arena, srcs, stderr);
    int rc = 0;
    struct hts_pcap *pc = NULL;
    struct hts_sorted *sorted = NULL;
    struct hts_reorder *ro = NULL;
    uint64_t forced = 0;
    struct exec *x = NULL;
    struct run_ctx ctx = {.out = stdout, .table = !strcmp(o->format, "table"),
                          .only = o->only};
    if (!p) {
        rc = 1;
        goto out;
    }
    if (o->only) {
        bool found = false;
        for (int i = 0; i < p->nqueries; i++)
            found |= !strcmp(p->queries[i]->name, o->only);
        if (!found) {
            fprintf(stderr, "htsc: --query %s: no such query\n", o->only);
            rc = 1;
            goto out;
        }
    }
    char err[512];
    if (o->max_delay >= 0) {
        pc = hts_pcap_open(o->pcap, err, sizeof err);
        ro = hts_reorder_new(o->sort_mem ? o->sort_mem : (size_t)512 << 20);
    } else {
        sorted = hts_sorted_open(o->pcap, o->sort_mem, err, sizeof err);
    }
    if (!pc && !sorted) {
        fprintf(stderr, "htsc: %s\n", err);
        rc = 1;
        goto out;
    }
    ctx.tables = calloc((size_t)p->nqueries + 1, sizeof *ctx.tables);
    x = exec_new(p, on_row, &ctx);
    ctx.fmt = rowfmt_new(p);
    if (!x || !ctx.tables || !ctx.fmt || (pc && !ro)) {
        fprintf(stderr, "htsc: out of memory\n");
        rc = 2;
        goto out;
    }
    struct hts_decode_stats ds = {0};
    struct feed f = {.x = x, .ds = &ds,
                     .linktype = pc ? hts_pcap_linktype(pc) : hts_sorted_linktype(sorted),
                     .progress = o->progress == 1 || (o->progress == -1 && isatty(2)),
                     .t0 = now_s()};
    f.last = f.t0;
    const uint8_t *data;
    uint32_t caplen, wirelen;
    uint64_t ts, latest = 0;
    int r;
    for (;;) {
        r = pc ? hts_pcap_next(pc, &data, &caplen, &wirelen, &ts)
               : hts_sorted_next(sorted, &data, &caplen, &wirelen, &ts);
        if (r < 0)
            break;
        int64_t wm = INT64_MAX; /* at the end, everything leaves the buffer */
        if (r == 1 && !ro) {
            if (feed(&f, data, caplen, wirelen, ts) < 0)
                goto bad_link;
            continue;
        }
        if (r == 1) {
            if (hts_reorder_push(ro, data, caplen, wirelen, ts, 0) < 0) {
                fprintf(stderr, "htsc: out of memory\n");
                rc = 2;
                goto out;
            }
            if (ts > latest)
                latest = ts;
            wm = (int64_t)latest - o->max_delay;
        }
        /* out of the buffer: what the watermark passed, in time order, and
         * the oldest while the buffer is over its size (counted) */
        const struct hts_rpkt *top;
        while (ro && (top = hts_reorder_peek(ro)) &&
               ((int64_t)top->ts <= wm || hts_reorder_over(ro))) {
            forced += (int64_t)top->ts > wm;
            struct hts_rpkt *held = hts_reorder_pop(ro);
            int d = feed(&f, held->data, held->caplen, held->wirelen, held->ts);
            hts_reorder_done(ro, held);
            if (d < 0)
                goto bad_link;
        }
        if (r == 0)
            break;
        if (wm >= 0) /* windows close at the watermark */
            exec_advance(x, wm);
    }
    if (f.shown)
        fputs("\r\033[K", stderr);
    if (r < 0) {
        fprintf(stderr, "htsc: %s: %s\n", o->pcap,
                pc ? hts_pcap_error(pc) : hts_sorted_error(sorted));
        rc = 1;
    }
    exec_finish(x);
    if (ctx.table)
        print_tables(&ctx, p);
    report_late(x, p, o->pcap, forced);
    if (o->stats) {
        const struct exec_stats *st = exec_stats(x);
        if (sorted && hts_sorted_stats(sorted)->out_of_order) {
            const struct hts_sorted_stats *ss = hts_sorted_stats(sorted);
            fprintf(stderr, "htsc: capture out of time order: %llu of %llu packets older "
                    "than one before them (at most %.6f s); sorted %s\n",
                    (unsigned long long)ss->out_of_order, (unsigned long long)ss->packets,
                    (double)ss->max_back_ns / 1e9,
                    ss->runs ? "through temporary files" : "in memory");
            if (ss->runs)
                fprintf(stderr, "htsc: %d sorted runs merged\n", ss->runs);
        }
        fprintf(stderr, "htsc: %llu packets, %llu rows, %llu windows, %llu late, "
                "%llu tuples with an absent key\n",
                (unsigned long long)st->packets, (unsigned long long)st->rows,
                (unsigned long long)st->windows, (unsigned long long)st->late,
                (unsigned long long)st->absent_keys);
        for (int i = 0; i < DEC__COUNT; i++)
            if (ds.errors[i])
                fprintf(stderr, "htsc: decode: %llu %s\n",
                        (unsigned long long)ds.errors[i], hts_decode_err_text[i]);
    }
    if (fflush(stdout) != 0) {
        fprintf(stderr, "htsc: writing rows: %s\n", strerror(errno));
        rc = 1;
    }
    goto out;
bad_link:
    fprintf(stderr, "htsc: %s: link type %d is not supported\n", o->pcap, f.linktype);
    rc = 1;
out:
    exec_free(x);
    rowbuf_free(&ctx.line);
    rowfmt_free(ctx.fmt);
    free(ctx.tables);
    if (pc)
        hts_pcap_close(pc);
    hts_sorted_close(sorted);
    hts_reorder_free(ro);
    for (int i = 0; i < o->nfiles; i++)
        src_free(srcs[i]);
    arena_free(&arena);
    return rc;
}
