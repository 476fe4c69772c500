/*
 * main.c - htsmerge: the merge stage of network-wide queries.
 *
 *   htsmerge --query FILE.htq... --brokers HOST:PORT --sites A,B,C
 *            [--topic-prefix P] [--group G] [--instance ID]
 *            [--site-timeout DUR] [--commit-interval MS] [--idle-exit DUR]
 *
 * Each site's htsd (--site NAME) sends the state of its closed windows of
 * every network-wide query, and its watermarks, to topic P network-state
 * (exec/netstate.h). htsmerge consumes that topic in a Kafka consumer group:
 * instances of one group share its partitions, and a partition that loses
 * its instance moves to another. Per partition it keeps an executor that
 * merges the sites' state (exec_merge: counts and sums add, min and max
 * compare, distinct keys unite), closes a window once every site's
 * watermark in that partition has passed its end (a site silent for
 * --site-timeout is left out, counted and reported), runs the rest of the
 * query (thresholds, later operators) and produces the rows to topic P QUERY,
 * as one htsd seeing every site's packets would.
 *
 * Exactly once, across restarts of any instance (Kafka transactions,
 * consume-transform-produce): the rows of the windows closed since the
 * last commit and the consumer offsets are committed in one transaction. The
 * offset committed for a partition is that of the first message of a window
 * still open, so that a restart replays exactly the state of the windows not
 * yet out; the offset's metadata carries what else a restart needs: the
 * windows already out (c=), the end of what was read (r=; replayed messages
 * of windows already out are skipped) and each site's watermark (w=). A
 * transaction that fails is aborted and every partition is read again from
 * its committed offset. docs/network-wide.md describes the deployment.
 */
#include "exec.h"
#include "kafka.h"
#include "hll.h"
#include "load.h"
#include "netstate.h"
#include "rowfmt.h"
#include "units.h"

#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <librdkafka/rdkafka.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define MAX_SITES 64

struct site {
    char name[NS_MAX_SITE + 1];
    uint64_t late, dups, timeouts; /* over every partition */
};

struct open_win { /* a window still open in a partition, and its first message */
    int64_t end, first;
};

struct part {
    bool active;
    struct exec *x;
    int64_t wm[MAX_SITES];
    uint64_t epoch[MAX_SITES], seq[MAX_SITES];
    uint64_t heard_ns[MAX_SITES]; /* when the site was last heard of */
    bool silent[MAX_SITES];
    int64_t closed;       /* every window ending at or before it is out */
    int64_t replay_until; /* offsets below it were read before a restart */
    int64_t next;         /* the offset after the last message read */
    struct open_win *open;
    int nopen, capopen;
    bool dirty;           /* read or closed something since the last commit */
};

static struct {
    const char *brokers, *prefix, *group, *instance;
    const char *queries[64];
    int nqueries;
    const char *sets[64];
    int nsets;
    const char *kprops[64];
    int nkprops;
    int64_t site_timeout_ns, idle_exit_ns;
    int commit_ms, txn_timeout_ms, state_partitions;
    unsigned long long max_keys;
    bool quiet;
} opt;

static struct site sites[MAX_SITES];
static int nsites;
static struct ir_program *prog;
static struct rowfmt *fmt;
static rd_kafka_t *cons, *prod;
static struct part *parts;
static int nparts;
static bool txn_open;
static volatile sig_atomic_t stop;
static struct rowbuf line, key;
static char in_topic[256];
static struct {
    uint64_t messages, state_rows, watermarks, rows, replayed, rejected, unknown_site;
    uint64_t commits, aborts, rebalances, produce_errors;
    uint64_t *rows_per_query;
} st;

static uint64_t now_ns(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (uint64_t)t.tv_sec * 1000000000ull + (uint64_t)t.tv_nsec;
}

static void on_signal(int sig)
{
    (void)sig;
    stop = 1;
}

__attribute__((noreturn)) static void die(const char *fmt_, ...)
    __attribute__((format(printf, 1, 2)));
static void die(const char *fmt_, ...)
{
    va_list ap;
    va_start(ap, fmt_);
    fputs("htsmerge: ", stderr);
    vfprintf(stderr, fmt_, ap);
    fputc('\n', stderr);
    va_end(ap);
    exit(1);
}

/* ---- transactions ---- */

static void txn_begin(void)
{
    if (txn_open)
        return;
    rd_kafka_error_t *e = rd_kafka_begin_transaction(prod);
    if (e)
        die("cannot begin a transaction: %s", rd_kafka_error_string(e));
    txn_open = true;
}

/* ---- rows out ---- */

static void on_row(void *ctx, const struct ir_query *q, int64_t ws, int64_t we,
                   const hts_value *cols, int ncols)
{
    (void)ctx;
    char topic[512];
    line.n = key.n = 0;
    if (rowfmt_json(fmt, &line, q, ws, we, cols, ncols) < 0 ||
        rowfmt_key(fmt, &key, q, cols, ncols) < 0)
        die("out of memory");
    snprintf(topic, sizeof topic, "%s%s", opt.prefix, q->name);
    txn_begin();
    for (;;) {
        rd_kafka_resp_err_t err = rd_kafka_producev(
            prod, RD_KAFKA_V_TOPIC(topic), RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
            RD_KAFKA_V_KEY(key.p, key.n), RD_KAFKA_V_VALUE(line.p, line.n),
            RD_KAFKA_V_TIMESTAMP(we / 1000000), RD_KAFKA_V_END);
        if (err == RD_KAFKA_RESP_ERR__QUEUE_FULL) {
            rd_kafka_poll(prod, 10);
            continue;
        }
        if (err) {
            /* the transaction cannot commit with a row missing: it aborts */
            st.produce_errors++;
            fprintf(stderr, "htsmerge: produce to %s: %s\n", topic, rd_kafka_err2str(err));
        }
        break;
    }
    st.rows++;
    st.rows_per_query[q->index]++;
}

/* ---- partitions ---- */

static int site_index(const char *name, size_t len)
{
    for (int i = 0; i < nsites; i++)
        if (strlen(sites[i].name) == len && memcmp(sites[i].name, name, len) == 0)
            return i;
    return -1;
}

static void part_reset(struct part *p)
{
    exec_free(p->x);
    free(p->open);
    memset(p, 0, sizeof *p);
}

/* Sets up partition p from its committed offset's metadata (NULL: none):
 * "htsm1 c=CLOSED r=READ w=SITE:WM,SITE:WM". */
static void part_restore(struct part *p, const char *md, size_t mdlen)
{
    part_reset(p);
    p->active = true;
    p->closed = INT64_MIN;
    p->replay_until = -1;
    uint64_t now = now_ns();
    for (int i = 0; i < nsites; i++) {
        p->wm[i] = INT64_MIN;
        p->heard_ns[i] = now;
    }
    char buf[4096];
    if (md && mdlen < sizeof buf && mdlen > 6 && memcmp(md, "htsm1 ", 6) == 0) {
        memcpy(buf, md, mdlen);
        buf[mdlen] = 0;
        char *save = NULL;
        for (char *tok = strtok_r(buf + 6, " ", &save); tok; tok = strtok_r(NULL, " ", &save)) {
            if (!strncmp(tok, "c=", 2))
                p->closed = strtoll(tok + 2, NULL, 10);
            else if (!strncmp(tok, "r=", 2))
                p->replay_until = strtoll(tok + 2, NULL, 10);
            else if (!strncmp(tok, "w=", 2)) {
                char *s2 = NULL;
                for (char *w = strtok_r(tok + 2, ",", &s2); w; w = strtok_r(NULL, ",", &s2)) {
                    char *colon = strrchr(w, ':');
                    if (!colon)
                        continue;
                    int si = site_index(w, (size_t)(colon - w));
                    if (si >= 0)
                        p->wm[si] = strtoll(colon + 1, NULL, 10);
                }
            }
        }
    }
    p->x = exec_new(prog, on_row, p);
    if (!p->x)
        die("out of memory");
    exec_time_by_watermark(p->x, true);
    exec_set_max_keys(p->x, (size_t)opt.max_keys);
    if (p->closed != INT64_MIN)
        exec_advance(p->x, p->closed);
}

static int64_t part_offset(const struct part *p)
{
    int64_t off = p->next;
    for (int i = 0; i < p->nopen; i++)
        if (p->open[i].first < off)
            off = p->open[i].first;
    return off;
}

/* The window ending at `end` has state at offset off. */
static void part_open(struct part *p, int64_t end, int64_t off)
{
    for (int i = 0; i < p->nopen; i++)
        if (p->open[i].end == end)
            return; /* its first message came before */
    if (p->nopen == p->capopen) {
        p->capopen = p->capopen ? 2 * p->capopen : 16;
        p->open = realloc(p->open, (size_t)p->capopen * sizeof *p->open);
        if (!p->open)
            die("out of memory");
    }
    p->open[p->nopen++] = (struct open_win){end, off};
}

/* Closes what every site (but the silent ones) has passed. */
static void part_close(struct part *p)
{
    int64_t m = INT64_MAX;
    int heard = 0;
    for (int i = 0; i < nsites; i++)
        if (!p->silent[i]) {
            heard++;
            if (p->wm[i] < m)
                m = p->wm[i];
        }
    if (!heard || m <= p->closed)
        return;
    exec_advance(p->x, m);
    p->closed = m;
    int k = 0;
    for (int i = 0; i < p->nopen; i++)
        if (p->open[i].end > m)
            p->open[k++] = p->open[i];
    p->nopen = k;
    p->dirty = true;
}

static bool types_ok(const struct ir_node *n, const hts_value *row, int ncols)
{
    if (!ir_kind_stateful(n->kind)) { /* rows of a stream kept for a join */
        for (int c = 0; c < ncols; c++)
            if (row[c].present && row[c].type != n->cols[c].type)
                return false;
        return true;
    }
    if (n->kind != IR_GROUPBY && n->kind != IR_DISTINCT)
        return true; /* a histogram's bucket and count: checked by exec_merge */
    for (int c = 0; c < ncols; c++) {
        int want = c < n->nkeys + (n->kind == IR_GROUPBY ? n->naggs : 0)
                       ? (int)n->cols[c].type
                       : TY_INT;
        if (c >= n->nkeys && c < n->nkeys + n->naggs &&
            n->aggs[c - n->nkeys]->agg == AGG_APPROX_DISTINCT) {
            if (row[c].type != TY_STR || row[c].u.s.n != HLL_M)
                return false; /* a sketch: its registers */
            continue;
        }
        if (row[c].type != want && row[c].present)
            return false;
    }
    return true;
}

static void warn_reject(const char *why)
{
    st.rejected++;
    if (st.rejected <= 10)
        fprintf(stderr, "htsmerge: refused a message of %s: %s%s\n", in_topic, why,
                st.rejected == 10 ? " (no more of these are named)" : "");
}

static void handle(const rd_kafka_message_t *km)
{
    if (km->partition < 0 || km->partition >= nparts || !parts[km->partition].active)
        return;
    struct part *p = &parts[km->partition];
    int64_t off = km->offset;
    p->next = off + 1;
    p->dirty = true;
    st.messages++;
    struct ns_msg m;
    char why[256];
    if (ns_decode(km->payload, km->len, &m, why, sizeof why) < 0) {
        warn_reject(why);
        return;
    }
    int si = site_index(m.site, m.site_len);
    if (si < 0) {
        if (st.unknown_site++ < 10)
            fprintf(stderr, "htsmerge: a message from site '%.*s', which is not one of "
                    "--sites: ignored\n", (int)m.site_len, m.site);
        return;
    }
    struct site *s = &sites[si];
    /* one run of a site numbers its messages per partition: a batch the
     * producer wrote twice comes with a number already seen */
    if (m.epoch != p->epoch[si]) {
        if (m.epoch < p->epoch[si]) {
            s->dups++;
            return;
        }
        p->epoch[si] = m.epoch;
        p->seq[si] = 0;
    }
    if (m.seq <= p->seq[si]) {
        s->dups++;
        return;
    }
    p->seq[si] = m.seq;
    p->heard_ns[si] = now_ns();
    if (p->silent[si]) {
        p->silent[si] = false;
        fprintf(stderr, "htsmerge: partition %d: site %s is back\n", km->partition, s->name);
    }
    if (m.kind == NS_WATERMARK) {
        st.watermarks++;
        if (m.watermark > p->wm[si])
            p->wm[si] = m.watermark;
        part_close(p);
        return;
    }
    const struct ir_query *q = NULL;
    for (int i = 0; i < prog->nqueries; i++)
        if (strlen(prog->queries[i]->name) == m.query_len &&
            !memcmp(prog->queries[i]->name, m.query, m.query_len))
            q = prog->queries[i];
    if (!q || !q->network_wide) {
        snprintf(why, sizeof why, "state of query '%.*s', which is not a network-wide "
                 "query of this program", (int)m.query_len, m.query);
        warn_reject(why);
        return;
    }
    const struct ir_node *n = m.node < q->nnodes ? q->nodes[m.node] : NULL;
    /* a stateful operator's partial rows, or the rows a site kept of a
     * stream that feeds a join */
    bool fits = n && (ir_kind_stateful(n->kind) ? m.ncols == exec_partial_ncols(n)
                                                : !n->packet && m.ncols == n->ncols);
    if (!fits) {
        snprintf(why, sizeof why, "state of %s node %d with %d columns does not fit the "
                 "query (the sites run another version of it?)", q->name, m.node, m.ncols);
        warn_reject(why);
        return;
    }
    int64_t end = m.window_start + q->window_ns;
    if (end <= p->closed) {
        if (off < p->replay_until) {
            st.replayed++; /* merged before a restart, and out */
        } else {
            s->late++;
            fprintf(stderr, "htsmerge: partition %d: state of %s from site %s for the "
                    "window ending %" PRId64 ", closed already (site timed out?): late, "
                    "not counted\n", km->partition, q->name, s->name, end);
        }
        return;
    }
    part_open(p, end, off);
    hts_value row[NS_MAX_COLS];
    const uint8_t *pos = m.vals;
    for (uint32_t r = 0; r < m.nrows; r++) {
        ns_next_row(&m, &pos, row);
        if (!types_ok(n, row, m.ncols)) {
            warn_reject("a state row whose column types do not fit the query");
            continue;
        }
        exec_merge(p->x, q->index, m.node, m.window_start, row);
        st.state_rows++;
    }
}

/* Sites silent for --site-timeout stop holding windows back. */
static void check_silent(void)
{
    uint64_t now = now_ns();
    for (int pi = 0; pi < nparts; pi++) {
        struct part *p = &parts[pi];
        if (!p->active)
            continue;
        bool changed = false;
        for (int i = 0; i < nsites; i++) {
            if (p->silent[i] || p->wm[i] == NS_DONE ||
                now - p->heard_ns[i] < (uint64_t)opt.site_timeout_ns)
                continue;
            p->silent[i] = true;
            sites[i].timeouts++;
            changed = true;
            fprintf(stderr, "htsmerge: partition %d: site %s silent for %.1f s (its "
                    "watermark %s): windows close without it\n", pi, sites[i].name,
                    (double)(now - p->heard_ns[i]) / 1e9,
                    p->wm[i] == INT64_MIN ? "never heard" : "behind the others");
        }
        if (changed)
            part_close(p);
    }
}

/* ---- commits ---- */

static void rewind_all(void);

/* One transaction: the rows produced since the last, and every active
 * partition's offset with its metadata. */
static void commit(void)
{
    bool any = txn_open;
    for (int i = 0; i < nparts; i++)
        any |= parts[i].active && parts[i].dirty;
    if (!any)
        return;
    txn_begin();
    rd_kafka_topic_partition_list_t *l = rd_kafka_topic_partition_list_new(nparts);
    for (int i = 0; i < nparts; i++) {
        struct part *p = &parts[i];
        if (!p->active || p->next == 0)
            continue;
        rd_kafka_topic_partition_t *t = rd_kafka_topic_partition_list_add(l, in_topic, i);
        t->offset = part_offset(p);
        char md[4096];
        int n = snprintf(md, sizeof md, "htsm1 c=%" PRId64 " r=%" PRId64 " w=", p->closed,
                         p->next);
        for (int s = 0; s < nsites && n < (int)sizeof md - 100; s++)
            n += snprintf(md + n, sizeof md - (size_t)n, "%s%s:%" PRId64, s ? "," : "",
                          sites[s].name, p->wm[s]);
        t->metadata = strdup(md);
        t->metadata_size = strlen(md);
    }
    rd_kafka_consumer_group_metadata_t *cgmd = rd_kafka_consumer_group_metadata(cons);
    rd_kafka_error_t *e = l->cnt ? rd_kafka_send_offsets_to_transaction(prod, l, cgmd, -1)
                                 : NULL;
    rd_kafka_consumer_group_metadata_destroy(cgmd);
    rd_kafka_topic_partition_list_destroy(l);
    if (!e)
        e = rd_kafka_commit_transaction(prod, -1);
    if (!e) {
        txn_open = false;
        st.commits++;
        for (int i = 0; i < nparts; i++)
            parts[i].dirty = false;
        return;
    }
    if (rd_kafka_error_is_fatal(e))
        die("transaction: %s (fatal)", rd_kafka_error_string(e));
    fprintf(stderr, "htsmerge: transaction failed (%s): aborted; reading every partition "
            "again from its last commit\n", rd_kafka_error_string(e));
    rd_kafka_error_destroy(e);
    e = rd_kafka_abort_transaction(prod, -1);
    if (e)
        die("cannot abort the transaction: %s", rd_kafka_error_string(e));
    txn_open = false;
    st.aborts++;
    rewind_all();
}

static void abort_open(void)
{
    if (!txn_open)
        return;
    rd_kafka_error_t *e = rd_kafka_abort_transaction(prod, -1);
    if (e)
        die("cannot abort the transaction: %s", rd_kafka_error_string(e));
    txn_open = false;
    st.aborts++;
}

/* Sets up the partitions of list l from their committed offsets, and sets
 * where to read from in l. */
static void restore(rd_kafka_topic_partition_list_t *l)
{
    rd_kafka_resp_err_t err = rd_kafka_committed(cons, l, 30000);
    if (err)
        die("cannot read the committed offsets of %s: %s", in_topic, rd_kafka_err2str(err));
    for (int i = 0; i < l->cnt; i++) {
        rd_kafka_topic_partition_t *t = &l->elems[i];
        if (t->partition >= nparts) {
            int n = t->partition + 1;
            parts = realloc(parts, (size_t)n * sizeof *parts);
            if (!parts)
                die("out of memory");
            memset(parts + nparts, 0, (size_t)(n - nparts) * sizeof *parts);
            nparts = n;
        }
        struct part *p = &parts[t->partition];
        part_restore(p, t->offset >= 0 ? t->metadata : NULL,
                     t->offset >= 0 ? t->metadata_size : 0);
        if (t->offset < 0)
            t->offset = RD_KAFKA_OFFSET_BEGINNING;
        p->next = t->offset >= 0 ? t->offset : 0;
    }
}

static void drop_all(void)
{
    for (int i = 0; i < nparts; i++)
        part_reset(&parts[i]);
}

static void rewind_all(void)
{
    rd_kafka_topic_partition_list_t *l = NULL;
    if (rd_kafka_assignment(cons, &l) || !l)
        die("cannot read the assignment");
    drop_all();
    restore(l);
    rd_kafka_resp_err_t err = rd_kafka_assign(cons, l);
    rd_kafka_topic_partition_list_destroy(l);
    if (err)
        die("cannot assign: %s", rd_kafka_err2str(err));
}

static void on_rebalance(rd_kafka_t *rk, rd_kafka_resp_err_t err,
                         rd_kafka_topic_partition_list_t *l, void *opaque)
{
    (void)opaque;
    st.rebalances++;
    if (err == RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS) {
        restore(l);
        if (!opt.quiet) {
            fprintf(stderr, "htsmerge: %s: assigned %d partitions:", opt.instance, l->cnt);
            for (int i = 0; i < l->cnt; i++)
                fprintf(stderr, " %d", l->elems[i].partition);
            fputc('\n', stderr);
        }
        rd_kafka_assign(rk, l);
    } else {
        /* what was merged since the last commit is read again by whoever
         * gets the partition: commit what is done, drop the rest */
        commit();
        abort_open();
        drop_all();
        rd_kafka_assign(rk, NULL);
    }
}

/* ---- set-up ---- */

static void usage(FILE *out)
{
    fputs("usage: htsmerge --query FILE.htq... --brokers HOST:PORT --sites A,B,... [options]\n"
          "  merges the state that htsd sites (--site NAME) send for network-wide\n"
          "  queries and produces their rows (docs/network-wide.md)\n"
          "  --set [Q.]NAME=VALUE   override a query parameter (as at the sites)\n"
          "  --topic-prefix P       read P" NS_TOPIC ", write P + query (default hts.)\n"
          "  --sites A,B,...        every site's name: a window closes when all of them\n"
          "                         have passed it (or timed out)\n"
          "  --site-timeout DUR     a site silent this long stops holding windows back,\n"
          "                         counted and reported (default 30s)\n"
          "  --group G              the consumer group of the merge instances (default\n"
          "                         htsmerge.P)\n"
          "  --instance ID          this instance's name, stable across its restarts: its\n"
          "                         transactional.id is G.ID (default the host name)\n"
          "  --commit-interval MS   time between transactions (default 200)\n"
          "  --txn-timeout MS       transaction.timeout.ms (default 10000): how long the\n"
          "                         rows of an instance that died block read_committed\n"
          "                         consumers\n"
          "  --state-partitions N   partitions of the state topic when htsmerge creates\n"
          "                         it before any site has (default 12, as htsd's)\n"
          "  --max-keys N           keys per stateful operator, window and partition\n"
          "                         (default 4000000)\n"
          "  --idle-exit DUR        exit once every site is done (or silent) in every\n"
          "                         partition this instance holds and nothing came for DUR\n"
          "  -X key=value           a librdkafka property for the consumer and producer\n"
          "  -q, --quiet            no summary on stderr\n",
          out);
}

static void parse_args(int argc, char **argv)
{
    static const struct option longs[] = {
        {"query", required_argument, 0, 'Q'},  {"set", required_argument, 0, 's'},
        {"brokers", required_argument, 0, 'b'}, {"topic-prefix", required_argument, 0, 't'},
        {"sites", required_argument, 0, 'S'},  {"site-timeout", required_argument, 0, 'T'},
        {"group", required_argument, 0, 'g'},  {"instance", required_argument, 0, 'I'},
        {"commit-interval", required_argument, 0, 'C'},
        {"txn-timeout", required_argument, 0, 'O'},
        {"state-partitions", required_argument, 0, 'N'},
        {"max-keys", required_argument, 0, 'K'}, {"idle-exit", required_argument, 0, 'i'},
        {"quiet", no_argument, 0, 'q'},        {"help", no_argument, 0, 'h'},
        {0, 0, 0, 0},
    };
    static char sitebuf[4096], host[256], group[512];
    opt.prefix = "hts.";
    opt.site_timeout_ns = 30 * 1000000000ll;
    opt.commit_ms = 200;
    opt.txn_timeout_ms = 10000;
    opt.state_partitions = 12;
    opt.max_keys = 4000000;
    int c;
    while ((c = getopt_long(argc, argv, "X:qh", longs, NULL)) != -1) {
        switch (c) {
        case 'Q':
            if (opt.nqueries == 64)
                die("too many --query");
            opt.queries[opt.nqueries++] = optarg;
            break;
        case 's':
            if (opt.nsets == 64)
                die("too many --set");
            opt.sets[opt.nsets++] = optarg;
            break;
        case 'b': opt.brokers = optarg; break;
        case 't': opt.prefix = optarg; break;
        case 'S': snprintf(sitebuf, sizeof sitebuf, "%s", optarg); break;
        case 'T':
            if (hts_parse_duration(optarg, &opt.site_timeout_ns) < 0 || opt.site_timeout_ns <= 0)
                die("--site-timeout: '%s' is not a duration (such as 30s)", optarg);
            break;
        case 'g': opt.group = optarg; break;
        case 'I': opt.instance = optarg; break;
        case 'C': opt.commit_ms = atoi(optarg); break;
        case 'O': opt.txn_timeout_ms = atoi(optarg); break;
        case 'N':
            opt.state_partitions = atoi(optarg);
            if (opt.state_partitions < 1 || opt.state_partitions > 10000)
                die("--state-partitions is 1 to 10000");
            break;
        case 'K': opt.max_keys = strtoull(optarg, NULL, 10); break;
        case 'i':
            if (hts_parse_duration(optarg, &opt.idle_exit_ns) < 0 || opt.idle_exit_ns <= 0)
                die("--idle-exit: '%s' is not a duration (such as 10s)", optarg);
            break;
        case 'X':
            if (opt.nkprops == 64 || !strchr(optarg, '='))
                die("-X needs key=value");
            opt.kprops[opt.nkprops++] = optarg;
            break;
        case 'q': opt.quiet = true; break;
        case 'h': usage(stdout); exit(0);
        default: usage(stderr); exit(2);
        }
    }
    if (optind < argc)
        die("unexpected argument '%s'", argv[optind]);
    if (!opt.nqueries || !opt.brokers || !sitebuf[0]) {
        usage(stderr);
        exit(2);
    }
    char *save = NULL;
    for (char *s = strtok_r(sitebuf, ",", &save); s; s = strtok_r(NULL, ",", &save)) {
        if (nsites == MAX_SITES)
            die("more than %d sites", MAX_SITES);
        if (!*s || strlen(s) > NS_MAX_SITE)
            die("--sites: a site name of 1 to %d bytes", NS_MAX_SITE);
        if (site_index(s, strlen(s)) >= 0)
            die("--sites names '%s' twice", s);
        snprintf(sites[nsites++].name, NS_MAX_SITE + 1, "%s", s);
    }
    if (!opt.group) {
        snprintf(group, sizeof group, "htsmerge.%s", opt.prefix);
        opt.group = group;
    }
    if (!opt.instance) {
        gethostname(host, sizeof host - 1);
        opt.instance = host;
    }
    if (opt.commit_ms <= 0)
        opt.commit_ms = 200;
}

static void set(rd_kafka_conf_t *conf, const char *k, const char *v)
{
    char err[512];
    if (rd_kafka_conf_set(conf, k, v, err, sizeof err) != RD_KAFKA_CONF_OK)
        die("%s=%s: %s", k, v, err);
}

static void user_props(rd_kafka_conf_t *conf)
{
    for (int i = 0; i < opt.nkprops; i++) {
        char kv[1024];
        snprintf(kv, sizeof kv, "%s", opt.kprops[i]);
        char *eq = strchr(kv, '=');
        *eq = 0;
        set(conf, kv, eq + 1);
    }
}

/* The state topic, created when no site has yet (the same default
 * partitions as htsd --site), so that the subscription finds it at once. */
static void ensure_topic(rd_kafka_t *rk)
{
    char err[512];
    if (kafka_topic_ensure(rk, in_topic, opt.state_partitions, 15000, err, sizeof err) < 0)
        die("%s", err);
}

static void kafka_up(void)
{
    char err[512], num[32], txnid[1024];
    rd_kafka_conf_t *pc = rd_kafka_conf_new();
    set(pc, "bootstrap.servers", opt.brokers);
    snprintf(txnid, sizeof txnid, "%s.%s", opt.group, opt.instance);
    set(pc, "transactional.id", txnid);
    snprintf(num, sizeof num, "%d", opt.txn_timeout_ms);
    set(pc, "transaction.timeout.ms", num);
    set(pc, "linger.ms", "5");
    user_props(pc);
    prod = rd_kafka_new(RD_KAFKA_PRODUCER, pc, err, sizeof err);
    if (!prod)
        die("producer: %s", err);
    rd_kafka_error_t *e = rd_kafka_init_transactions(prod, 60000);
    if (e)
        die("cannot start transactions (transactional.id %s) at %s: %s", txnid, opt.brokers,
            rd_kafka_error_string(e));

    rd_kafka_conf_t *cc = rd_kafka_conf_new();
    set(cc, "bootstrap.servers", opt.brokers);
    set(cc, "group.id", opt.group);
    set(cc, "client.id", opt.instance);
    set(cc, "enable.auto.commit", "false");
    set(cc, "enable.auto.offset.store", "false");
    set(cc, "auto.offset.reset", "earliest");
    set(cc, "isolation.level", "read_committed");
    set(cc, "session.timeout.ms", "6000"); /* the broker's least by default */
    set(cc, "heartbeat.interval.ms", "1000");
    user_props(cc);
    rd_kafka_conf_set_rebalance_cb(cc, on_rebalance);
    cons = rd_kafka_new(RD_KAFKA_CONSUMER, cc, err, sizeof err);
    if (!cons)
        die("consumer: %s", err);
    rd_kafka_poll_set_consumer(cons);
    snprintf(in_topic, sizeof in_topic, "%s%s", opt.prefix, NS_TOPIC);
    ensure_topic(prod);
    rd_kafka_topic_partition_list_t *sub = rd_kafka_topic_partition_list_new(1);
    rd_kafka_topic_partition_list_add(sub, in_topic, RD_KAFKA_PARTITION_UA);
    rd_kafka_resp_err_t rerr = rd_kafka_subscribe(cons, sub);
    rd_kafka_topic_partition_list_destroy(sub);
    if (rerr)
        die("cannot subscribe to %s: %s", in_topic, rd_kafka_err2str(rerr));
}

/* Every partition held has every site done or silent. */
static bool all_done(void)
{
    int held = 0;
    for (int i = 0; i < nparts; i++) {
        struct part *p = &parts[i];
        if (!p->active)
            continue;
        held++;
        for (int s = 0; s < nsites; s++)
            if (p->wm[s] != NS_DONE && !p->silent[s])
                return false;
    }
    return held > 0;
}

int main(int argc, char **argv)
{
    parse_args(argc, argv);
    static struct arena arena;
    static struct src_file *srcs[HTS_MAX_FILES];
    prog = hts_load(opt.queries, opt.nqueries, opt.sets, opt.nsets, &arena, srcs, stderr);
    if (!prog)
        return 1;
    int nnw = 0;
    for (int i = 0; i < prog->nqueries; i++)
        nnw += prog->queries[i]->network_wide;
    if (!nnw)
        die("none of the queries is network-wide (declare one with 'network-wide' after "
            "its window)");
    fmt = rowfmt_new(prog);
    st.rows_per_query = calloc((size_t)prog->nqueries + 1, sizeof *st.rows_per_query);
    if (!fmt || !st.rows_per_query)
        die("out of memory");
    signal(SIGINT, on_signal);
    signal(SIGTERM, on_signal);
    kafka_up();
    if (!opt.quiet)
        fprintf(stderr, "htsmerge: %s: %d network-wide queries from %d sites, group %s, "
                "reading %s\n", opt.instance, nnw, nsites, opt.group, in_topic);

    uint64_t last_commit = now_ns(), last_msg = now_ns();
    while (!stop) {
        rd_kafka_message_t *km = rd_kafka_consumer_poll(cons, 50);
        if (km) {
            if (km->err == RD_KAFKA_RESP_ERR_NO_ERROR) {
                handle(km);
                last_msg = now_ns();
            } else if (km->err != RD_KAFKA_RESP_ERR__PARTITION_EOF) {
                fprintf(stderr, "htsmerge: %s\n", rd_kafka_message_errstr(km));
            }
            rd_kafka_message_destroy(km);
        }
        rd_kafka_poll(prod, 0);
        uint64_t now = now_ns();
        if (now - last_commit >= (uint64_t)opt.commit_ms * 1000000ull) {
            check_silent();
            commit();
            last_commit = now_ns();
        }
        if (opt.idle_exit_ns && now - last_msg >= (uint64_t)opt.idle_exit_ns && all_done())
            break;
    }
    commit();
    rd_kafka_consumer_close(cons);
    int rc = st.produce_errors ? 1 : 0;
    if (!opt.quiet) {
        fprintf(stderr, "htsmerge: %s: %llu messages (%llu state rows, %llu watermarks), "
                "%llu rows produced in %llu transactions (%llu aborted), %llu rebalances, "
                "%llu replayed, %llu refused\n", opt.instance,
                (unsigned long long)st.messages, (unsigned long long)st.state_rows,
                (unsigned long long)st.watermarks, (unsigned long long)st.rows,
                (unsigned long long)st.commits, (unsigned long long)st.aborts,
                (unsigned long long)st.rebalances, (unsigned long long)st.replayed,
                (unsigned long long)st.rejected);
        for (int i = 0; i < prog->nqueries; i++)
            if (prog->queries[i]->network_wide)
                fprintf(stderr, "htsmerge: %s: %llu rows\n", prog->queries[i]->name,
                        (unsigned long long)st.rows_per_query[i]);
    }
    for (int s = 0; s < nsites; s++)
        if (sites[s].late || sites[s].timeouts || sites[s].dups)
            fprintf(stderr, "htsmerge: site %s: timed out in %llu partitions, %llu state "
                    "messages late (not counted), %llu duplicates dropped\n", sites[s].name,
                    (unsigned long long)sites[s].timeouts, (unsigned long long)sites[s].late,
                    (unsigned long long)sites[s].dups);
    drop_all();
    free(parts);
    rd_kafka_destroy(cons);
    rd_kafka_flush(prod, 10000);
    rd_kafka_destroy(prod);
    rowfmt_free(fmt);
    rowbuf_free(&line);
    rowbuf_free(&key);
    free(st.rows_per_query);
    for (int i = 0; i < opt.nqueries; i++)
        src_free(srcs[i]);
    arena_free(&arena);
    return rc;
}
