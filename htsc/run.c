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
        if (rowfmt_json(&rc->line, q, ws, we, cols, ncols) < 0) {
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
    pc = hts_pcap_open(o->pcap, err, sizeof err);
    if (!pc) {
        fprintf(stderr, "htsc: %s\n", err);
        rc = 1;
        goto out;
    }
    ctx.tables = calloc((size_t)p->nqueries + 1, sizeof *ctx.tables);
    x = exec_new(p, on_row, &ctx);
    if (!x || !ctx.tables) {
        fprintf(stderr, "htsc: out of memory\n");
        rc = 2;
        goto out;
    }
    struct hts_decode_stats ds = {0};
    struct hts_pkt pkt;
    const uint8_t *data;
    uint32_t caplen, wirelen;
    uint64_t ts;
    int linktype = hts_pcap_linktype(pc);
    bool progress = o->progress == 1 || (o->progress == -1 && isatty(2));
    double t0 = now_s(), last = t0;
    bool shown = false;
    int r;
    while ((r = hts_pcap_next(pc, &data, &caplen, &wirelen, &ts)) == 1) {
        if (hts_decode(&pkt, data, caplen, wirelen, ts, 0, linktype, &ds) < 0) {
            fprintf(stderr, "htsc: %s: link type %d is not supported\n",
                    o->pcap, linktype);
            rc = 1;
            goto out;
        }
        exec_packet(x, &pkt);
        if (progress && (ds.packets & 1023) == 0) {
            double t = now_s();
            if (t - t0 > 1.0 && t - last > 0.25) {
                fprintf(stderr, "\rhtsc: %llu packets, %llu rows",
                        (unsigned long long)ds.packets,
                        (unsigned long long)exec_stats(x)->rows);
                last = t;
                shown = true;
            }
        }
    }
    if (shown)
        fputs("\r\033[K", stderr);
    if (r < 0) {
        fprintf(stderr, "htsc: %s: %s\n", o->pcap, hts_pcap_error(pc));
        rc = 1;
    }
    exec_finish(x);
    if (ctx.table)
        print_tables(&ctx, p);
    if (o->stats) {
        const struct exec_stats *st = exec_stats(x);
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
out:
    exec_free(x);
    rowbuf_free(&ctx.line);
    free(ctx.tables);
    if (pc)
        hts_pcap_close(pc);
    for (int i = 0; i < o->nfiles; i++)
        src_free(srcs[i]);
    arena_free(&arena);
    return rc;
}
