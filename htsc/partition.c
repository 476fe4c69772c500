/*
 * partition.c - the htsc subcommands of the data-plane/host split:
 *
 *   explain --target T   the planner's cut, resources per stage, estimates
 *   compile              DIR/NAME.p4, DIR/NAME.entries, DIR/NAME.plan.json,
 *                        DIR/QUERY.schema.json per query (its rows' JSON Schema)
 *   emulate              the data-plane model over a capture: report frames
 *   host                 the host part over report frames: rows, printed
 *                        exactly as `htsc run` prints them (exec/rowfmt.c)
 *
 * The host command is the reference for htsd's decoder loop: decode a frame,
 * then per record exec_feed (tuple, packet), exec_feed_rows (row) or
 * exec_advance (watermark).
 */
#include "driver.h"
#include "host.h"
#include "exec.h"
#include "model.h"
#include "p4gen.h"
#include "pcapin.h"
#include "plan.h"
#include "planner.h"
#include "report.h"
#include "rowfmt.h"
#include "targets.h"

#include <errno.h>
#include <pcap/pcap.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

static const struct p4g_target *target_or_complain(const char *name)
{
    const struct p4g_target *t = p4g_target_find(name ? name : "");
    if (t)
        return t;
    fprintf(stderr, "htsc: %s%s%s: targets are", name ? "unknown target '" : "no --target",
            name ? name : "", name ? "'" : "");
    for (int i = 0; p4g_targets[i]; i++)
        fprintf(stderr, " %s", p4g_targets[i]->name);
    fputc('\n', stderr);
    return NULL;
}

/* Loads the queries and plans them for o->target. */
static struct plan *make_plan(const struct htsc_opts *o, struct arena *arena,
                              struct src_file **srcs,
                              const struct p4g_target **tp)
{
    const struct p4g_target *t = target_or_complain(o->target);
    if (!t)
        return NULL;
    *tp = t;
    struct ir_program *written = htsc_load(o, arena, srcs, stderr);
    if (!written)
        return NULL;
    /* filters mixing data-plane and host-only conditions split in two, so
     * training counts what the data-plane half passes and the planner may
     * cut between them (plan_split_filters) */
    const struct ir_program *prog = plan_split_filters(arena, written, t);
    struct dpm_train train;
    bool trained = false;
    char err[512];
    if (o->train) {
        if (dpm_train(prog, t->stateful, o->train, &train, err, sizeof err) < 0) {
            fprintf(stderr, "htsc: --train: %s\n", err);
            return NULL;
        }
        trained = true;
    }
    struct planner_opts po = {.target = t, .train = trained ? &train : NULL,
                              .registers = o->registers, .force_dp = o->force_dp != 0,
                              .force_refine = o->force_refine != 0};
    struct plan *p = planner_run(prog, &po, err, sizeof err);
    if (trained)
        dpm_train_free(&train);
    if (!p) /* a refusal naming a query is gcc-shaped (FILE:LINE:COL: error: ...) */
        fprintf(stderr, strstr(err, ": error: ") ? "%s\n" : "htsc: %s\n", err);
    return p;
}

static void free_srcs(struct src_file **srcs, int n)
{
    for (int i = 0; i < n; i++)
        src_free(srcs[i]);
}

int htsc_cmd_explain_target(const struct htsc_opts *o)
{
    struct arena arena = {0};
    struct src_file *srcs[HTSC_MAX_FILES] = {0};
    const struct p4g_target *t = NULL;
    struct plan *p = make_plan(o, &arena, srcs, &t);
    int rc = p ? 0 : 1;
    if (p) {
        if (o->dot)
            planner_dot(p, stdout);
        else
            planner_explain(p, t, stdout);
    }
    plan_free(p);
    free_srcs(srcs, o->nfiles);
    arena_free(&arena);
    return rc;
}

/* DIR/BASE.EXT where BASE is the first file's name without .htq */
static char *out_path(const char *dir, const char *file, const char *ext)
{
    const char *b = strrchr(file, '/');
    b = b ? b + 1 : file;
    size_t n = strlen(b);
    if (n > 4 && !strcmp(b + n - 4, ".htq"))
        n -= 4;
    size_t len = strlen(dir) + n + strlen(ext) + 3;
    char *s = malloc(len);
    if (s)
        snprintf(s, len, "%s/%.*s%s", dir, (int)n, b, ext);
    return s;
}

static int write_file(const char *path, const struct plan *p,
                      const struct p4g_target *t, int what)
{
    FILE *f = fopen(path, "w");
    if (!f) {
        fprintf(stderr, "htsc: %s: %s\n", path, strerror(errno));
        return -errno;
    }
    char err[512] = "";
    int rc = what == 0 ? plan_write(p, f)
             : what == 1 ? p4g_generate(p, t, f, err, sizeof err)
                         : p4g_entries(p, t, f, err, sizeof err);
    if (fclose(f) != 0 && rc == 0)
        rc = -EIO;
    if (rc < 0) {
        /* a generator's refusal is already gcc-shaped (FILE:LINE:COL: error:
           ...), naming the query; anything else is about the file */
        if (strstr(err, ": error: "))
            fprintf(stderr, "%s\n", err);
        else
            fprintf(stderr, "htsc: %s: %s\n", path, err[0] ? err : "write failed");
        remove(path);
    }
    return rc;
}

/* DIR/QUERY.schema.json for every query: the JSON Schema of its rows. */
static int write_schemas(const char *dir, const struct ir_program *prog)
{
    for (int i = 0; i < prog->nqueries; i++) {
        const struct ir_query *q = prog->queries[i];
        char path[4096];
        snprintf(path, sizeof path, "%s/%s.schema.json", dir, q->name);
        FILE *f = fopen(path, "w");
        if (!f) {
            fprintf(stderr, "htsc: %s: %s\n", path, strerror(errno));
            return -1;
        }
        int rc = rowfmt_schema(q, "hts.", f);
        if (fclose(f) != 0 || rc < 0) {
            fprintf(stderr, "htsc: %s: write failed\n", path);
            remove(path);
            return -1;
        }
    }
    return 0;
}

int htsc_cmd_compile(const struct htsc_opts *o)
{
    if (!o->out) {
        fprintf(stderr, "htsc: compile needs -o DIR\n");
        return 2;
    }
    struct arena arena = {0};
    struct src_file *srcs[HTSC_MAX_FILES] = {0};
    const struct p4g_target *t = NULL;
    struct plan *p = make_plan(o, &arena, srcs, &t);
    int rc = p ? 0 : 1;
    if (p && mkdir(o->out, 0777) < 0 && errno != EEXIST) {
        fprintf(stderr, "htsc: %s: %s\n", o->out, strerror(errno));
        rc = 1;
    }
    if (p && rc == 0) {
        char *pj = out_path(o->out, o->files[0], ".plan.json");
        char *p4 = out_path(o->out, o->files[0], ".p4");
        char *en = out_path(o->out, o->files[0], ".entries");
        if (!pj || !p4 || !en) {
            rc = 2;
        } else {
            /* the plan first: emulation needs only it; a target that cannot
             * place the plan in P4 says so after */
            if (write_file(pj, p, t, 0) < 0 || write_schemas(o->out, p->prog) < 0)
                rc = 1;
            else if (t->arch && !o->plan_only &&
                     (write_file(p4, p, t, 1) < 0 || write_file(en, p, t, 2) < 0))
                rc = 1;
        }
        free(pj);
        free(p4);
        free(en);
    }
    plan_free(p);
    free_srcs(srcs, o->nfiles);
    arena_free(&arena);
    return rc;
}

/* ---- emulate ---- */

struct emu_out {
    pcap_dumper_t *d;
};

static void on_frame(void *ctx, const uint8_t *frame, size_t len, uint64_t ts)
{
    struct emu_out *e = ctx;
    struct pcap_pkthdr h;
    memset(&h, 0, sizeof h);
    h.ts.tv_sec = (time_t)(ts / 1000000000u);
    h.ts.tv_usec = (suseconds_t)(ts % 1000000000u); /* nanosecond file */
    h.caplen = h.len = (bpf_u_int32)len;
    pcap_dump((u_char *)e->d, &h, frame);
}

int htsc_cmd_emulate(const struct htsc_opts *o)
{
    if (o->nfiles != 1 || !o->pcap || !o->out) {
        fprintf(stderr, "htsc: emulate needs PLAN --pcap CAPTURE -o REPORTS.pcap\n");
        return 2;
    }
    char err[512];
    struct plan *p = plan_load(o->files[0], err, sizeof err);
    if (!p) {
        fprintf(stderr, "htsc: %s\n", err);
        return 1;
    }
    int rc = 0;
    struct hts_pcap *in = hts_pcap_open(o->pcap, err, sizeof err);
    pcap_t *dead = pcap_open_dead_with_tstamp_precision(DLT_EN10MB, 65535,
                                                        PCAP_TSTAMP_PRECISION_NANO);
    struct emu_out eo = {0};
    if (!in) {
        fprintf(stderr, "htsc: %s\n", err);
        rc = 1;
        goto out;
    }
    if (!dead || !(eo.d = pcap_dump_open(dead, o->out))) {
        fprintf(stderr, "htsc: %s: %s\n", o->out, dead ? pcap_geterr(dead) : "libpcap");
        rc = 1;
        goto out;
    }
    struct dpm *m = dpm_new(p, on_frame, &eo);
    const uint8_t *data;
    uint32_t caplen, wirelen;
    uint64_t ts;
    int lt = hts_pcap_linktype(in), r;
    struct hts_pkt pkt;
    struct hts_decode_stats ds = {0};
    while ((r = hts_pcap_next(in, &data, &caplen, &wirelen, &ts)) == 1) {
        if (hts_decode(&pkt, data, caplen, wirelen, ts, 0, lt, &ds) < 0) {
            fprintf(stderr, "htsc: %s: link type %d is not supported\n", o->pcap, lt);
            rc = 1;
            break;
        }
        dpm_packet(m, &pkt, data, caplen, wirelen, 0, lt);
    }
    if (r < 0) {
        fprintf(stderr, "htsc: %s: %s\n", o->pcap, hts_pcap_error(in));
        rc = 1;
    }
    dpm_finish(m);
    if (o->stats) {
        const struct dpm_stats *st = dpm_stats(m);
        fprintf(stderr, "htsc: emulate %s: %llu packets in, %llu frames out: %llu tuple, "
                "%llu row, %llu packet, %llu partial, %llu watermark records; %llu overflows, "
                "%llu spilled keys, %llu gated, %llu late, %llu truncated\n", p->target,
                (unsigned long long)st->packets, (unsigned long long)st->frames,
                (unsigned long long)st->records[REP_TUPLE],
                (unsigned long long)st->records[REP_ROW],
                (unsigned long long)st->records[REP_PACKET],
                (unsigned long long)st->records[REP_PARTIAL],
                (unsigned long long)st->records[REP_WATERMARK],
                (unsigned long long)st->overflows, (unsigned long long)st->spills,
                (unsigned long long)st->gated,
                (unsigned long long)st->late, (unsigned long long)st->truncated);
        uint64_t all = st->records[REP_TUPLE] + st->records[REP_ROW] +
                       st->records[REP_PACKET] + st->records[REP_PARTIAL];
        fprintf(stderr, "htsc: %llu records to the host in all (%.4f per packet; a mirrored "
                "packet that several queries read is one record)\n", (unsigned long long)all,
                st->packets ? (double)all / (double)st->packets : 0);
        for (int i = 0; i < p->nqueries; i++)
            fprintf(stderr, "htsc: query %s: %llu records to the host (%.4f per packet)\n",
                    p->queries[i].q->name, (unsigned long long)st->query_records[i],
                    st->packets ? (double)st->query_records[i] / (double)st->packets : 0);
    }
    dpm_free(m);
    if (pcap_dump_flush(eo.d) != 0) {
        fprintf(stderr, "htsc: %s: write failed\n", o->out);
        rc = 1;
    }
out:
    if (eo.d)
        pcap_dump_close(eo.d);
    if (dead)
        pcap_close(dead);
    if (in)
        hts_pcap_close(in);
    plan_free(p);
    return rc;
}

/* ---- host ---- */

struct host_ctx {
    struct rowbuf line;
    struct rowfmt *fmt;
};

static void on_row(void *ctx, const struct ir_query *q, int64_t ws, int64_t we,
                   const hts_value *cols, int ncols)
{
    struct host_ctx *h = ctx;
    h->line.n = 0;
    if (rowfmt_json(h->fmt, &h->line, q, ws, we, cols, ncols) < 0) {
        fprintf(stderr, "htsc: out of memory\n");
        exit(2);
    }
    fwrite(h->line.p, 1, h->line.n, stdout);
    fputc('\n', stdout);
}

int htsc_cmd_host(const struct htsc_opts *o)
{
    if (o->nfiles != 1 || !o->reports) {
        fprintf(stderr, "htsc: host needs PLAN --reports REPORTS.pcap\n");
        return 2;
    }
    char err[512];
    struct plan *p = plan_load(o->files[0], err, sizeof err);
    if (!p) {
        fprintf(stderr, "htsc: %s\n", err);
        return 1;
    }
    int rc = 0;
    struct host_ctx hc = {0};
    struct exec *x = NULL;
    /* a param record loads the plan again with the change (exec/host.h) */
    struct host_feeder feeder = {.plan_path = o->files[0], .who = "htsc host"};
    struct hts_pcap *in = hts_pcap_open(o->reports, err, sizeof err);
    if (!in) {
        fprintf(stderr, "htsc: %s\n", err);
        rc = 1;
        goto out;
    }
    x = exec_new(p->prog, on_row, &hc);
    hc.fmt = rowfmt_new(p->prog);
    if (!x || !hc.fmt) {
        fprintf(stderr, "htsc: out of memory\n");
        rc = 2;
        goto out;
    }
    struct rep_stats rs = {0};
    struct hts_decode_stats ds = {0};
    const uint8_t *data;
    uint32_t caplen, wirelen;
    uint64_t ts;
    int r;
    while ((r = hts_pcap_next(in, &data, &caplen, &wirelen, &ts)) == 1)
        if (host_feed_frame(&feeder, p, x, data, caplen, &rs, &ds) == -ENOMEM) {
            fprintf(stderr, "htsc: out of memory\n");
            exit(2);
        }
    if (r < 0) {
        fprintf(stderr, "htsc: %s: %s\n", o->reports, hts_pcap_error(in));
        rc = 1;
    }
    exec_finish(x);
    uint64_t refused = 0;
    for (int i = 0; i < REP_ERR__COUNT; i++)
        if (i != REP_ERR_ETHERTYPE)
            refused += rs.errors[i];
    if (o->stats || refused) {
        fprintf(stderr, "htsc: host: %llu frames, %llu accepted, %llu records\n",
                (unsigned long long)rs.frames, (unsigned long long)rs.good,
                (unsigned long long)rs.records);
        for (int i = 0; i < REP_ERR__COUNT; i++)
            if (rs.errors[i])
                fprintf(stderr, "htsc: host: %llu frames refused: %s\n",
                        (unsigned long long)rs.errors[i], rep_err_text[i]);
    }
    if (refused)
        rc = 1;
    if (fflush(stdout) != 0)
        rc = 1;
out:
    exec_free(x);
    host_feeder_free(&feeder); /* after x: its versions run the feeder's plans */
    rowbuf_free(&hc.line);
    rowfmt_free(hc.fmt);
    if (in)
        hts_pcap_close(in);
    plan_free(p);
    return rc;
}
