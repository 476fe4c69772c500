/*
 * jit_check.c - JIT rows == interpreter rows == executor rows.
 *
 *   jit_check [--set [Q.]NAME=VALUE]... [--burst N] [--table-limit N]
 *             [--opt N] [--expect-jit] [--quiet] CAPTURE... QUERY.htq...
 *
 * Loads the queries (as htsd does; arguments ending in .htq) and, for each
 * capture (the other arguments; the program is compiled once per link
 * type), runs the packets three ways: the reference executor directly (hts_decode + exec_packet),
 * the interpreter engine and the JIT engine (jit_engine.h), both fed bursts of N
 * packets (default 32) as a worker would. Rows are compared as text (query,
 * window bounds, JSON values), per query in emission order: the three must
 * be identical. Small --burst and --table-limit values exercise the JIT's
 * early returns and its table flushes. Prints each query's engine (jit or
 * the reason it falls back), row count and the compile time.
 *
 * Exit 0 when everything is equal (and, with --expect-jit, every query is
 * compiled), 1 on a difference, 2 on usage or load errors.
 */
#include "driver.h"
#include "exec.h"
#include "jit.h"
#include "jit_engine.h"
#include "pcapin.h"

#include <stdlib.h>
#include <string.h>

struct rows { /* per query: rows as text, in order */
    char **v;
    int n, cap;
};

struct sink {
    struct rows *q; /* per query */
};

static void add_row(void *ctx, const struct ir_query *q, int64_t ws, int64_t we,
                    const hts_value *cols, int ncols)
{
    struct rows *r = &((struct sink *)ctx)->q[q->index];
    char buf[8192];
    int len = snprintf(buf, sizeof buf, "%s %lld %lld", q->name, (long long)ws, (long long)we);
    for (int i = 0; i < ncols && len < (int)sizeof buf - 1; i++) {
        buf[len++] = ' ';
        len += hts_value_json(&cols[i], buf + len, sizeof buf - (size_t)len);
        if (len > (int)sizeof buf - 1)
            len = (int)sizeof buf - 1;
    }
    buf[len] = 0;
    if (r->n == r->cap) {
        r->cap = r->cap ? r->cap * 2 : 256;
        r->v = realloc(r->v, (size_t)r->cap * sizeof *r->v);
        if (!r->v)
            exit(2);
    }
    r->v[r->n] = strdup(buf);
    if (!r->v[r->n])
        exit(2);
    r->n++;
}

static void free_sink(struct sink *s, int nq)
{
    for (int q = 0; q < nq; q++) {
        for (int i = 0; i < s->q[q].n; i++)
            free(s->q[q].v[i]);
        free(s->q[q].v);
    }
    free(s->q);
}

/* 0 if equal, else prints the first difference. */
static int compare(const char *what, const struct rows *a, const struct rows *b)
{
    int n = a->n < b->n ? a->n : b->n;
    for (int i = 0; i < n; i++)
        if (strcmp(a->v[i], b->v[i]) != 0) {
            fprintf(stderr, "jit_check: %s: row %d differs:\n  executor: %s\n  %-8s: %s\n",
                    what, i, a->v[i], what, b->v[i]);
            return 1;
        }
    if (a->n != b->n) {
        fprintf(stderr, "jit_check: %s: %d rows, executor %d; first extra: %s\n", what, b->n,
                a->n, a->n > b->n ? a->v[n] : b->v[n]);
        return 1;
    }
    return 0;
}

static void run_engine(struct eng *e, const struct jit_pkt *pk, size_t n, uint32_t burst)
{
    for (size_t i = 0; i < n; i += burst)
        eng_burst(e, pk + i, (uint32_t)(n - i < burst ? n - i : burst));
    eng_finish(e);
}

/* The JIT compiled for a link type, once per run. */
static struct {
    int linktype;
    struct jit_prog *jp;
} jits[16];
static int njits;

static struct jit_prog *jit_for(const struct ir_program *p, struct jit_opts jo, int linktype)
{
    for (int i = 0; i < njits; i++)
        if (jits[i].linktype == linktype)
            return jits[i].jp;
    char err[512];
    jo.linktype = linktype;
    struct jit_prog *jp = jit_compile(p, &jo, err, sizeof err);
    if (!jp || njits == 16) {
        fprintf(stderr, "jit_check: %s\n", jp ? "too many link types" : err);
        exit(2);
    }
    jits[njits].linktype = linktype;
    jits[njits++].jp = jp;
    return jp;
}

/* Runs one capture three ways; 0 when every query agrees. */
static int check_capture(const struct ir_program *p, struct jit_prog *jp, const char *capture,
                         uint32_t burst, bool expect, bool quiet)
{
    struct hts_trace t;
    char err[512];
    if (hts_trace_load(capture, &t, err, sizeof err) < 0) {
        fprintf(stderr, "jit_check: %s\n", err);
        exit(2);
    }
    struct jit_pkt *pk = calloc(t.n + 1, sizeof *pk);
    if (!pk)
        exit(2);
    for (size_t i = 0; i < t.n; i++) {
        pk[i].data = hts_trace_frame(&t, i);
        pk[i].caplen = t.cap_len[i];
        pk[i].wirelen = t.wire_len[i];
        pk[i].ts = t.ts_ns[i];
    }
    int nq = p->nqueries;
    struct sink want = {calloc((size_t)nq, sizeof(struct rows))},
                interp = {calloc((size_t)nq, sizeof(struct rows))},
                jit = {calloc((size_t)nq, sizeof(struct rows))};
    if (!want.q || !interp.q || !jit.q)
        exit(2);

    /* the reference executor */
    struct exec *x = exec_new(p, add_row, &want);
    struct hts_pkt pkt;
    for (size_t i = 0; i < t.n; i++) {
        hts_decode(&pkt, pk[i].data, pk[i].caplen, pk[i].wirelen, pk[i].ts, 0, t.linktype, NULL);
        exec_packet(x, &pkt);
    }
    exec_finish(x);
    exec_free(x);

    /* the two engines */
    struct hts_decode_stats ds = {0};
    x = exec_new(p, add_row, &interp);
    struct eng *e = eng_new_interp(x, t.linktype, &ds);
    run_engine(e, pk, t.n, burst);
    eng_free(e);
    exec_free(x);
    x = exec_new(p, add_row, &jit);
    e = eng_new_jit(jp, x, add_row, &jit, &ds);
    if (!x || !e)
        exit(2);
    run_engine(e, pk, t.n, burst);
    struct jit_stats st = *eng_jit_stats(e);
    eng_free(e);
    exec_free(x);

    int rc = 0;
    for (int q = 0; q < nq; q++) {
        const char *why;
        bool cov = jit_covers(jp, q, &why);
        int bad = compare("interp", &want.q[q], &interp.q[q]) |
                  compare("jit", &want.q[q], &jit.q[q]);
        if (expect && !cov) {
            fprintf(stderr, "jit_check: %s is not compiled: %s\n", p->queries[q]->name, why);
            bad = 1;
        }
        if (!quiet || bad)
            printf("%s %s on %s: %s, %d rows %s\n", bad ? "FAIL" : "ok  ", p->queries[q]->name,
                   capture, cov ? "jit" : "interpreter", want.q[q].n,
                   bad ? "DIFFER" : "equal");
        if (!cov && !quiet)
            printf("     falls back: %s\n", why);
        rc |= bad;
    }
    if (!quiet)
        printf("     compiled in %.1f ms; %llu packets in %llu calls, %llu table flushes, "
               "%llu grown, %llu late, %llu windows closed without the executor\n",
               jit_times(jp)->total, (unsigned long long)st.packets,
               (unsigned long long)st.calls, (unsigned long long)st.flushes,
               (unsigned long long)st.grown, (unsigned long long)st.late,
               (unsigned long long)st.direct);
    free_sink(&want, nq);
    free_sink(&interp, nq);
    free_sink(&jit, nq);
    free(pk);
    hts_trace_free(&t);
    return rc;
}

int main(int argc, char **argv)
{
    struct htsc_opts o = {.format = "json"};
    uint32_t burst = 32;
    struct jit_opts jo = {0};
    bool expect = false, quiet = false;
    const char *captures[256];
    int ncap = 0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        size_t len = strlen(a);
        if (!strcmp(a, "--set") && i + 1 < argc && o.nsets < HTSC_MAX_SETS)
            o.sets[o.nsets++] = argv[++i];
        else if (!strcmp(a, "--burst") && i + 1 < argc)
            burst = (uint32_t)atoi(argv[++i]);
        else if (!strcmp(a, "--table-limit") && i + 1 < argc)
            jo.table_limit = (uint32_t)atoi(argv[++i]);
        else if (!strcmp(a, "--opt") && i + 1 < argc)
            jo.opt_level = atoi(argv[++i]);
        else if (!strcmp(a, "--expect-jit"))
            expect = true;
        else if (!strcmp(a, "--quiet"))
            quiet = true;
        else if (a[0] == '-') {
            fprintf(stderr, "jit_check: unknown option %s\n", a);
            return 2;
        } else if (len > 4 && !strcmp(a + len - 4, ".htq") && o.nfiles < HTSC_MAX_FILES)
            o.files[o.nfiles++] = a;
        else if (ncap < 256)
            captures[ncap++] = a;
    }
    if (!ncap || !o.nfiles || burst < 1) {
        fprintf(stderr, "usage: jit_check [--set S]... [--burst N] [--table-limit N] [--opt N] "
                        "[--expect-jit] [--quiet] CAPTURE... QUERY.htq...\n");
        return 2;
    }
    struct arena arena = {0};
    struct src_file *srcs[HTSC_MAX_FILES] = {0};
    struct ir_program *p = htsc_load(&o, &arena, srcs, stderr);
    if (!p)
        return 2;
    int rc = 0;
    for (int c = 0; c < ncap; c++) {
        struct hts_trace t;
        char err[512];
        if (hts_trace_load(captures[c], &t, err, sizeof err) < 0) {
            fprintf(stderr, "jit_check: %s\n", err);
            return 2;
        }
        int lt = t.linktype;
        hts_trace_free(&t);
        rc |= check_capture(p, jit_for(p, jo, lt), captures[c], burst, expect, quiet);
    }
    for (int i = 0; i < njits; i++)
        jit_free(jits[i].jp);
    for (int i = 0; i < o.nfiles; i++)
        src_free(srcs[i]);
    arena_free(&arena);
    return rc;
}
